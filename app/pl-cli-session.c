/* pl-cli-session.c — prunelab-cli session, and --session FILE where a command takes --model */
#define G_LOG_DOMAIN "prunelab-cli"

#include "config.h"

#include <glib/gi18n.h>
#include <stdio.h>
#include <string.h>

#include "pl-cli-private.h"
#include "pl-conv-file.h"
#include "pl-error.h"
#include "pl-eval.h"
#include "pl-prune.h"
#include "pl-report.h"
#include "pl-reproduce-view.h"
#include "pl-safetensors.h"
#include "pl-score.h"
#include "pl-session.h"

/* ---- --model FILE or --session FILE ---- */

const char *_pl_cli_session_help =
  N_("Session file (.prunelab) instead of --model: its model, and its data unless --data is given");

PlMlp *
_pl_cli_load_model (const char     *model_path,
                    const char     *session_path,
                    PlCliDataArgs  *data_args,
                    GError        **error)
{
  g_autoptr(PlSession) session = NULL;
  PlMlp *model;

  if (model_path != NULL && session_path != NULL)
    {
      g_set_error (error, PL_SPEC_ERROR, PL_SPEC_ERROR_INVALID,
                   _("give --model or --session, not both"));
      return NULL;
    }
  if (model_path == NULL && session_path == NULL)
    {
      g_set_error (error, PL_SPEC_ERROR, PL_SPEC_ERROR_INVALID,
                   _("--model (a safetensors file) or --session (a .prunelab file) is required"));
      return NULL;
    }
  if (model_path != NULL && pl_conv_file_is_conv (model_path))
    {
      g_autofree char *display_name = g_filename_display_name (model_path);

      g_set_error (error, PL_SPEC_ERROR, PL_SPEC_ERROR_INVALID,
                   _("“%s” is a convolutional network; this command does not take one yet (train, eval, prune, sweep, schedule, sensitivity and plot do)"),
                   display_name);
      return NULL;
    }
  if (model_path != NULL)
    return pl_safetensors_load (model_path, error);

  session = pl_session_load (session_path, error);
  if (session == NULL)
    return NULL;
  model = g_steal_pointer (&session->model);

  /* The session's data, as they were loaded when it was saved, unless --data names others. */
  if (data_args->spec == NULL)
    {
      data_args->spec = g_strdup (session->data_spec);
      data_args->val_size = session->data_options.val_size;
      data_args->standardize = session->data_options.standardize;
      data_args->max_train = (int) MIN (session->data_options.max_train, G_MAXINT);
      data_args->split_seed = (gint64) MIN (session->data_options.split_seed, G_MAXINT64);
      g_clear_pointer (&data_args->session, pl_session_free);
      g_free (data_args->session_path);
      data_args->session_path = g_strdup (session_path);
      data_args->session = g_steal_pointer (&session);
    }

  return model;
}

PlMlp *
_pl_cli_load_model_and_data (char          **model_path,
                             const char     *session_path,
                             PlCliDataArgs  *data_args,
                             PlData        **data,
                             GError        **error)
{
  g_autoptr(PlMlp) model = _pl_cli_load_model (*model_path, session_path, data_args, error);

  if (model == NULL)
    return NULL;
  if (*model_path == NULL)
    *model_path = g_strdup (session_path);
  *data = _pl_cli_load_data (data_args, error);
  if (*data == NULL)
    return NULL;
  return g_steal_pointer (&model);
}

PlEvaluation *
_pl_cli_evaluate (const PlMlp     *model,
                  const PlDataset *split,
                  const char      *model_path,
                  const PlData    *data,
                  GError         **error)
{
  PlEvaluation *ev = pl_evaluate (model, split, error);

  if (ev == NULL)
    g_prefix_error (error, "“%s” on “%s”: ", model_path, data->spec);
  return ev;
}

/* ---- prunelab-cli session ---- */

int
_pl_cli_session (int    argc,
                 char **argv)
{
  g_auto(PlCliDataArgs) data_args = PL_CLI_DATA_ARGS_INIT;
  g_autofree char *model_path = NULL;
  g_autofree char *out = NULL;
  g_autofree char *score_name = NULL;
  g_autofree char *scope_name = NULL;
  g_autofree char *lesson = NULL;
  double sparsity = 0.0;
  gboolean prune = FALSE;
  gboolean invert = FALSE;
  gboolean json = FALSE;
  int lesson_step = 0;
  int score_batches = 8;
  const PlCliOption options[] = {
    { "model", 'm', PL_CLI_FILENAME, &model_path, N_("Trained model (safetensors)"), N_("FILE") },
    { "score", 0, PL_CLI_STRING, &score_name, N_("The strategy's score (default magnitude; see “prunelab-cli prune --help-scores”)"), N_("NAME") },
    { "scope", 0, PL_CLI_STRING, &scope_name, N_("global (one ranking across layers, default), layer, row (each output row on its own, as Wanda) or erk (ERK layer budgets for one sparsity)"), N_("SCOPE") },
    { "invert", 0, PL_CLI_FLAG, &invert, N_("Prune the highest scores first (a sanity check)") },
    { "score-batches", 0, PL_CLI_INT, &score_batches, N_("Batches of 256 training samples for data-driven scores (default 8)"), N_("N"),
      PL_CLI_WHOLE (1, PL_CLI_MAX_SCORE_BATCHES) },
    { "sparsity", 0, PL_CLI_DOUBLE, &sparsity, N_("Where the sparsity slider stands when the session opens (default 0)"), N_("X"),
      PL_CLI_IN (0, 1) },
    { "prune", 0, PL_CLI_FLAG, &prune, N_("Also prune the model to --sparsity, so the session opens with those masks") },
    { "lesson", 0, PL_CLI_STRING, &lesson, N_("Open at this lesson (its id, e.g. magnitude)"), N_("ID") },
    { "step", 0, PL_CLI_INT, &lesson_step, N_("…at this step, counted from 1 (default 1)"), N_("N"),
      PL_CLI_WHOLE (1, 1000) },
    { "out", 'o', PL_CLI_FILENAME, &out, N_("The session file to write (.prunelab)"), N_("FILE") },
    { "json", 0, PL_CLI_FLAG, &json, N_("Print the result as one JSON object on stdout"), NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new (NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(PlData) data = NULL;
  g_autoptr(PlEvaluation) ev = NULL;
  g_autoptr(PlSession) session = NULL;
  PlMlp *model;
  PlDataOptions data_options = PL_DATA_OPTIONS_INIT;

  g_option_context_set_summary (context, _("Make a session file (.prunelab) from a trained model and a dataset, with a\n"
                                           "strategy and a slider position, for the app to open (prunelab FILE.prunelab)."));
  _pl_cli_add_options (context, options, NULL);
  _pl_cli_add_data_options (context, &data_args);
  if (!_pl_cli_parse (context, &argc, &argv))
    return PL_EXIT_USAGE;
  if (model_path == NULL)
    return _pl_cli_usage (_("--model is required"));
  if (out == NULL)
    return _pl_cli_usage (_("--out is required (the .prunelab file to write)"));
  if (data_args.spec == NULL)
    return _pl_cli_usage (_("--data is required (for example --data spiral or --data fashion-mnist)"));
  if (lesson_step > 1 && lesson == NULL)
    return _pl_cli_usage (_("--step needs --lesson"));
  if (!_pl_cli_check_output (out, &error))
    return _pl_cli_fail (error);

  session = pl_session_new ();
  if (score_name != NULL && !pl_score_parse (score_name, &session->strategy.score, &error))
    return _pl_cli_fail (error);
  if (scope_name != NULL && !pl_scope_parse (scope_name, &session->strategy.scope, &error))
    return _pl_cli_fail (error);
  if (lesson != NULL)
    {
      gboolean ok = *lesson != '\0' && strlen (lesson) <= 64;

      for (const char *p = lesson; ok && *p; p++)
        ok = g_ascii_islower (*p) || g_ascii_isdigit (*p) || *p == '-';
      if (!ok)
        return _pl_cli_usage (_("--lesson must be a lesson id (1 to 64 of a-z, 0-9 and -), not “%s”"), lesson);
      session->lesson_id = g_strdup (lesson);
      session->lesson_step = (guint) lesson_step - 1;
    }
  session->strategy.invert = invert;
  session->strategy.score_options.n_batches = (guint) score_batches;
  session->slider = sparsity;
  _pl_cli_set_threads (1);

  model = pl_safetensors_load (model_path, &error);
  if (model == NULL)
    return _pl_cli_fail (error);
  /* The file's weights are the ones rewind goes back to, as when the app loads a model. */
  pl_session_set_model (session, model, NULL);

  data = _pl_cli_load_data (&data_args, &error);
  if (data == NULL)
    return _pl_cli_fail (error);
  data_options.val_size = data_args.val_size;
  data_options.standardize = data_args.standardize;
  data_options.max_train = (guint) data_args.max_train;
  data_options.split_seed = (guint64) data_args.split_seed;
  pl_session_set_data (session, data, &data_options);

  /* The model must take the data: the app would refuse the session otherwise. */
  if (!pl_session_check_data (session, data, model_path, &error))
    return _pl_cli_fail (error);

  if (prune)
    {
      g_autoptr(PlScores) scores = NULL;
      PlPruneSpec spec;

      scores = pl_scores_compute (model, session->strategy.score, data->train,
                                  &session->strategy.score_options, &error);
      pl_prune_spec_init (&spec, session->strategy.scope, FALSE, sparsity);
      spec.invert = session->strategy.invert;
      if (scores == NULL || !pl_prune_apply (model, scores, &spec, &error))
        return _pl_cli_fail (error);
    }

  ev = pl_evaluate (model, data->val != NULL && data->val->n > 0 ? data->val : data->test, &error);
  if (ev == NULL)
    return _pl_cli_fail (error);

  if (!pl_session_save (session, out, &error))
    return _pl_cli_fail (error);

  if (json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();

      json_builder_begin_object (b);
      _pl_cli_add_string (b, "command", "session");
      _pl_cli_add_string (b, "model", model_path);
      _pl_cli_add_string (b, "data", data->spec);
      _pl_cli_add_string (b, "data_sha256", session->data_sha256);
      _pl_cli_add_string (b, "score", pl_score_info (session->strategy.score)->name);
      _pl_cli_add_double (b, "slider", session->slider);
      _pl_cli_add_bool (b, "pruned", prune);
      _pl_cli_add_double (b, "sparsity", (double) pl_mlp_n_pruned (model) / pl_mlp_n_weights (model));
      _pl_cli_add_double (b, "accuracy", ev->accuracy);
      _pl_cli_add_string (b, "out", out);
      json_builder_end_object (b);
      _pl_cli_print_json (b);
    }
  else
    printf (_("session saved to %s (%s on %s, accuracy %.2f%%, sparsity %.2f%%)\n"), out,
            pl_score_info (session->strategy.score)->name, data->spec, 100 * ev->accuracy,
            100.0 * pl_mlp_n_pruned (model) / pl_mlp_n_weights (model));

  return PL_EXIT_OK;
}

/* ---- prunelab-cli report ---- */

int
_pl_cli_report (int    argc,
                char **argv)
{
  g_auto(PlCliDataArgs) data_args = PL_CLI_DATA_ARGS_INIT;
  g_auto(PlReportInfo) info = { 0 };
  g_autofree char *session_path = NULL;
  g_autofree char *model_path = NULL;
  g_autofree char *score_name = NULL;
  g_autofree char *out = NULL;
  g_autofree char *source = NULL;
  g_autofree char *reproduce_path = NULL;
  g_autoptr(PlReproduceResult) reproduction = NULL;
  double sparsity = 0.0;
  gboolean json = FALSE;
  const PlCliOption options[] = {
    PL_CLI_SESSION_OPTION (&session_path),
    { "model", 'm', PL_CLI_FILENAME, &model_path, N_("A model (safetensors) instead of a session; needs --data"), N_("FILE") },
    { "score", 0, PL_CLI_STRING, &score_name, N_("With --model: the strategy's score (default magnitude)"), N_("NAME") },
    { "sparsity", 0, PL_CLI_DOUBLE, &sparsity, N_("With --model: the slider's sparsity, where the histogram's threshold stands (default 0)"), N_("X"),
      PL_CLI_IN (0, 1) },
    { "reproduce", 0, PL_CLI_FILENAME, &reproduce_path, N_("Add the paper-vs-measured table and chart of a reproduction (the output of prunelab-cli reproduce --json)"), N_("FILE") },
    { "out", 'o', PL_CLI_FILENAME, &out, N_("The PDF file to write"), N_("FILE") },
    { "json", 0, PL_CLI_FLAG, &json, N_("Print the result as one JSON object on stdout"), NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new (NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(PlData) data = NULL;
  g_autoptr(PlSession) session = NULL;

  g_option_context_set_summary (context, _("Write a multi-page PDF report of a session: dataset with its hash, architecture,\n"
                                           "training settings and history, strategy, metrics per layer and every chart."));
  _pl_cli_add_options (context, options, NULL);
  _pl_cli_add_data_options (context, &data_args);
  if (!_pl_cli_parse (context, &argc, &argv))
    return PL_EXIT_USAGE;
  if (out == NULL)
    return _pl_cli_usage (_("--out is required (the PDF file to write)"));
  if ((session_path == NULL) == (model_path == NULL))
    return _pl_cli_usage (_("give --session FILE, or --model FILE with --data SPEC"));
  if (model_path != NULL && data_args.spec == NULL)
    return _pl_cli_usage (_("--model needs --data (for example --data spiral)"));
  if (session_path != NULL && (score_name != NULL || sparsity != 0.0))
    return _pl_cli_usage (_("--score and --sparsity go with --model; a session has its own"));
  if (!_pl_cli_check_output (out, &error))
    return _pl_cli_fail (error);
  _pl_cli_set_threads (1);
  if (reproduce_path != NULL && (reproduction = pl_reproduce_result_load_json (reproduce_path, &error)) == NULL)
    return _pl_cli_fail (error);

  if (session_path != NULL)
    {
      session = pl_session_load (session_path, &error);
      if (session == NULL)
        return _pl_cli_fail (error);
      if (data_args.spec == NULL)
        {
          /* the session's data, checked against its hash */
          data = pl_data_load (session->data_spec, &session->data_options, &error);
          if (data == NULL || !pl_session_check_data (session, data, session_path, &error))
            return _pl_cli_fail (error);
        }
      else if ((data = _pl_cli_load_data (&data_args, &error)) == NULL)
        return _pl_cli_fail (error);
      source = g_filename_display_basename (session_path);
    }
  else
    {
      PlMlp *model = pl_safetensors_load (model_path, &error);
      PlDataOptions data_options = PL_DATA_OPTIONS_INIT;

      if (model == NULL)
        return _pl_cli_fail (error);
      session = pl_session_new ();
      pl_session_set_model (session, model, NULL);
      data = _pl_cli_load_data (&data_args, &error);
      if (data == NULL)
        return _pl_cli_fail (error);
      data_options.val_size = data_args.val_size;
      data_options.standardize = data_args.standardize;
      data_options.max_train = (guint) data_args.max_train;
      data_options.split_seed = (guint64) data_args.split_seed;
      pl_session_set_data (session, data, &data_options);
      if (!pl_session_check_data (session, data, model_path, &error))
        return _pl_cli_fail (error);
      if (score_name != NULL && !pl_score_parse (score_name, &session->strategy.score, &error))
        return _pl_cli_fail (error);
      session->slider = sparsity;
      session->created = g_strdup ("—");
      source = g_filename_display_basename (model_path);
    }

  if (!pl_report_save (session, data, reproduction, source, out, &info, &error))
    return _pl_cli_fail (error);

  if (json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();

      json_builder_begin_object (b);
      _pl_cli_add_string (b, "command", "report");
      _pl_cli_add_string (b, "out", out);
      _pl_cli_add_int (b, "pages", info.n_pages);
      json_builder_set_member_name (b, "figures");
      json_builder_begin_array (b);
      for (guint i = 0; i < info.n_figures; i++)
        json_builder_add_string_value (b, info.captions[i]);
      json_builder_end_array (b);
      json_builder_end_object (b);
      _pl_cli_print_json (b);
    }
  else
    printf (_("report saved to %s (%u pages, %u figures)\n"), out, info.n_pages, info.n_figures);

  return PL_EXIT_OK;
}
