/* pl-cli-sensitivity.c — prunelab-cli sensitivity: each layer pruned alone, accuracy at each level */
#define G_LOG_DOMAIN "prunelab-cli"

#include "config.h"

#include <glib/gi18n.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "pl-cli-plot-private.h"
#include "pl-cli-private.h"
#include "pl-cli-prune-private.h"
#include "pl-conv-file.h"
#include "pl-conv-sweep.h"
#include "pl-error.h"
#include "pl-eval.h"
#include "pl-conv-score.h"
#include "pl-file.h"
#include "pl-safetensors.h"
#include "pl-sensitivity.h"
#include "pl-sweep.h"

static void
on_sensitivity_progress (const PlSensitivity *s,
                         guint                layer,
                         guint                level,
                         gpointer             user_data)
{
  gsize at = (gsize) layer * s->n_levels + level;

  g_printerr (_("layers.%u  sparsity %6.2f%%  test accuracy %6.2f%%  loss %.4f\n"),
              layer, 100 * s->sparsity[at], 100 * s->accuracy[at], s->loss[at]);
}

/* The points as CSV, one row each. (transfer full) */
static GString *
sensitivity_csv (const PlSensitivity *s)
{
  GString *text = g_string_new ("layer,target_sparsity,sparsity,test_accuracy,test_loss\n");

  for (guint i = 0; i < s->n_layers; i++)
    for (guint j = 0; j < s->n_done[i]; j++)
      {
        gsize at = (gsize) i * s->n_levels + j;

        g_string_append_printf (text, "layers.%u,%.6g,%.6g,%.6g,%.6g\n", i, s->levels[j],
                                s->sparsity[at], s->accuracy[at], s->loss[at]);
      }
  return text;
}

/* The weight matrix shape of every parametrised layer of @net: a conv layer's (c_out, c_in·k·k),
 * a dense one's (n_out, n_in). */
static void
conv_layer_shapes (const PlConvNet *net,
                   guint           *n_in,
                   guint           *n_out)
{
  guint n = 0;

  for (guint i = 0; i < net->n_layers; i++)
    if (net->layers[i].kind == PL_CONV_LAYER_CONV)
      {
        n_in[n] = net->layers[i].c_in * net->layers[i].k * net->layers[i].k;
        n_out[n++] = net->layers[i].c_out;
      }
  for (guint i = 0; i < net->head->n_layers; i++)
    {
      n_in[n] = net->head->layers[i].n_in;
      n_out[n++] = net->head->layers[i].n_out;
    }
}

/* Sensitivity of a convolutional network's layers, conv and dense, by a weight score. Returns
 * 0, PL_EXIT_INTERRUPTED (@sens holds what finished) or the exit status of an error it
 * reported. */
static int
conv_sensitivity (const char        *model_path,
                  const char        *score_name,
                  gboolean           invert,
                  int                score_batches,
                  PlCliDataArgs     *data_args,
                  const double      *levels,
                  guint              n_levels,
                  PlData           **data,
                  PlSensitivity    **sens,
                  guint             *n_in,
                  guint             *n_out,
                  gboolean          *structured,
                  GError           **error)
{
  g_auto(PlCliPruneArgs) pa;
  g_autoptr(PlConvNet) net = NULL;
  g_autoptr(PlEvaluation) dense = NULL;
  g_autofree float *scores = NULL;
  PlCliConvScore score;
  PlConvPruner pruner;
  guint n_layers;
  int status;

  _pl_cli_prune_args_init (&pa);
  pa.invert = invert;
  pa.score_batches = score_batches;
  /* a weight score, or a filter score: the filters of each conv layer alone (as an MLP's
   * neuron scores prune the neurons of each hidden layer) */
  pa.structured = score_name != NULL && (strcmp (score_name, "neuron-l1") == 0
                                         || strcmp (score_name, "neuron-l2") == 0
                                         || strcmp (score_name, "fpgm") == 0);
  if (score_name != NULL && !pa.structured
      && (!pl_score_parse (score_name, &score.kind, NULL) || !pl_conv_weight_score_supported (score.kind)))
    return _pl_cli_usage (_("sensitivity prunes a convolutional network’s weights by --score magnitude, random, gradient, taylor, fisher, lamp or snip, or its filters by neuron-l1, neuron-l2 or fpgm"));
  if ((status = _pl_cli_conv_parse_score (&pa, score_name != NULL ? score_name : "magnitude",
                                          PL_SCOPE_LAYER, &score)) != 0)
    return status;
  net = pl_conv_net_load (model_path, error);
  if (net == NULL || (*data = _pl_cli_load_data (data_args, error)) == NULL)
    return _pl_cli_fail (*error);
  n_layers = pl_conv_net_n_param_layers (net);
  if (n_layers > PL_MLP_MAX_LAYERS)
    return _pl_cli_usage (_("sensitivity takes a convolutional network of at most %u conv and dense layers"),
                          (guint) PL_MLP_MAX_LAYERS);
  dense = pl_conv_evaluate (net, (*data)->test, error);
  if (dense == NULL
      || !_pl_cli_conv_pruner_init (&pruner, &scores, &pa, &score, PL_SCOPE_LAYER, net, *data, 0, error))
    {
      g_prefix_error (error, "“%s” on “%s”: ", model_path, (*data)->spec);
      return _pl_cli_fail (*error);
    }
  conv_layer_shapes (net, n_in, n_out);
  *structured = pa.structured;
  *sens = pl_sensitivity_new (n_layers, levels, n_levels);
  (*sens)->dense_accuracy = dense->accuracy;
  (*sens)->dense_loss = dense->loss;
  /* with a filter score, the conv layers (those that have filters) */
  for (guint i = 0; i < n_layers; i++)
    (*sens)->pruned[i] = !pa.structured || i < n_layers - net->head->n_layers;
  if (!pl_sensitivity_run_with (*sens, pl_conv_sensitivity_eval, &pruner, on_sensitivity_progress,
                                NULL, _pl_cli_cancellable (), error))
    return g_error_matches (*error, G_IO_ERROR, G_IO_ERROR_CANCELLED) ? PL_EXIT_INTERRUPTED
                                                                       : _pl_cli_fail (*error);
  return 0;
}

int
_pl_cli_sensitivity (int    argc,
                     char **argv)
{
  g_auto(PlCliDataArgs) data_args = PL_CLI_DATA_ARGS_INIT;
  g_autofree char *model_path = NULL;
  g_autofree char *session_path = NULL;
  g_autofree char *score_name = NULL;
  g_autofree char *csv = NULL;
  g_autofree char *plot = NULL;
  int n_points = 12, threads = 1, score_batches = 8;
  double max_sparsity = 0.99;
  gboolean invert = FALSE, json = FALSE;
  const PlCliOption options[] = {
    { "model", 'm', PL_CLI_FILENAME, &model_path, N_("Trained model (safetensors)"), N_("FILE") },
    PL_CLI_SESSION_OPTION (&session_path),
    { "score", 0, PL_CLI_STRING, &score_name, N_("What to prune by (default magnitude); a neuron score prunes whole neurons of the hidden layers"), N_("NAME") },
    { "points", 0, PL_CLI_INT, &n_points, N_("Sparsity levels per layer from 0 to --max, denser near the top (default 12)"), N_("N"),
      PL_CLI_WHOLE (2, 1000) },
    { "max", 0, PL_CLI_DOUBLE, &max_sparsity, N_("Highest sparsity (default 0.99)"), N_("X"),
      PL_CLI_IN_OPEN (0, 1, PL_CLI_OPEN_MIN) },
    { "invert", 0, PL_CLI_FLAG, &invert, N_("Prune the highest scores first (a sanity check)") },
    { "score-batches", 0, PL_CLI_INT, &score_batches, N_("Batches of 256 training samples for data-driven scores (default 8)"), N_("N"),
      PL_CLI_WHOLE (1, PL_CLI_MAX_SCORE_BATCHES) },
    { "threads", 't', PL_CLI_INT, &threads, N_("Threads (default 1)"), N_("N"), PL_CLI_WHOLE (1, PL_CLI_MAX_THREADS) },
    { "csv", 0, PL_CLI_FILENAME, &csv, N_("Also write the points as CSV"), N_("FILE") },
    { "plot", 0, PL_CLI_FILENAME, &plot, N_("Draw the sensitivity curves into this file (.png, .svg or .pdf)"), N_("FILE") },
    { "json", 0, PL_CLI_FLAG, &json, N_("Print the result as one JSON object on stdout"), NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new (NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(PlData) data = NULL;
  g_autoptr(PlMlp) model = NULL;
  g_autoptr(PlScores) scores = NULL;
  g_autoptr(PlSensitivity) sens = NULL;
  g_autofree double *levels = NULL;
  PlScoreOptions score_options = PL_SCORE_OPTIONS_INIT;
  PlScoreKind kind = PL_SCORE_MAGNITUDE;
  PlPruneSpec spec;
  guint n_in[PL_MLP_MAX_LAYERS], n_out[PL_MLP_MAX_LAYERS];
  gboolean interrupted = FALSE, structured = FALSE, is_conv;
  const char *score_label;
  gint64 t0 = g_get_monotonic_time ();

  g_option_context_set_summary (context, _("Per-layer sensitivity: prune one layer at a time to a range of sparsities, the\n"
                                           "others left as they are, and report the test accuracy of each point."));
  _pl_cli_add_options (context, options, NULL);
  _pl_cli_add_data_options (context, &data_args);
  if (!_pl_cli_parse (context, &argc, &argv))
    return PL_EXIT_USAGE;

  if (model_path == NULL && session_path == NULL)
    return _pl_cli_usage (_("--model (a safetensors file) or --session (a .prunelab file) is required"));
  /* (fpgm, a conv net's filter score, is no entry of the score table) */
  is_conv = model_path != NULL && session_path == NULL && pl_conv_file_is_conv (model_path);
  if (score_name != NULL && !(is_conv && strcmp (score_name, "fpgm") == 0)
      && !pl_score_parse (score_name, &kind, &error))
    return _pl_cli_fail (error);
  score_label = pl_score_info (kind)->name;
  if (plot != NULL && !_pl_cli_plot_check (plot, &error))
    return _pl_cli_usage ("--plot: %s", error->message);
  if (!_pl_cli_check_output (csv, &error) || !_pl_cli_check_output (plot, &error))
    return _pl_cli_fail (error);
  _pl_cli_set_threads (threads);
  levels = g_new (double, n_points);
  for (int i = 0; i < n_points; i++)
    levels[i] = pl_sweep_target (max_sparsity, (guint) n_points, (guint) i);

  if (is_conv)
    {
      int status = conv_sensitivity (model_path, score_name, invert, score_batches, &data_args,
                                     levels, (guint) n_points, &data, &sens, n_in, n_out,
                                     &structured, &error);

      if (status == PL_EXIT_INTERRUPTED)
        g_clear_error (&error);
      else if (status != 0)
        return status;
      interrupted = status == PL_EXIT_INTERRUPTED;
      if (score_name != NULL && strcmp (score_name, "fpgm") == 0)
        score_label = "fpgm";
      goto report;
    }

  model = _pl_cli_load_model_and_data (&model_path, session_path, &data_args, &data, &error);
  if (model == NULL)
    return _pl_cli_fail (error);

  score_options.n_batches = (guint) score_batches;
  scores = pl_scores_compute (model, kind, data->train, &score_options, &error);
  if (scores == NULL)
    {
      g_prefix_error (&error, "“%s” on “%s”: ", model_path, data->spec);
      return _pl_cli_fail (error);
    }

  sens = pl_sensitivity_new (model->n_layers, levels, (guint) n_points);
  pl_prune_spec_init (&spec, PL_SCOPE_LAYER, FALSE, 0.0);
  spec.invert = invert;
  if (!pl_sensitivity_run (sens, model, scores, &spec, data->test, on_sensitivity_progress, NULL,
                           _pl_cli_cancellable (), &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return _pl_cli_fail (error);
      g_clear_error (&error);
      interrupted = TRUE;
    }
  structured = scores->per_neuron;
  for (guint i = 0; i < model->n_layers; i++)
    {
      n_in[i] = model->layers[i].n_in;
      n_out[i] = model->layers[i].n_out;
    }

report:
  if (interrupted)
    g_printerr (_("prunelab-cli: sensitivity interrupted; reporting the points that finished\n"));

  if (json || plot != NULL || csv != NULL)
    {
      g_autoptr(GString) csv_text = csv != NULL ? sensitivity_csv (sens) : NULL;
      g_autoptr(JsonBuilder) b = json_builder_new ();

      json_builder_begin_object (b);
      _pl_cli_add_string (b, "command", "sensitivity");
      _pl_cli_add_string (b, "model", model_path);
      _pl_cli_add_string (b, "data", data->spec);
      _pl_cli_add_string (b, "score", score_label);
      _pl_cli_add_bool (b, "structured", structured);
      _pl_cli_add_bool (b, "invert", invert);
      _pl_cli_add_double (b, "dense_test_accuracy", sens->dense_accuracy);
      _pl_cli_add_double (b, "dense_test_loss", sens->dense_loss);
      _pl_cli_add_bool (b, "interrupted", interrupted);
      json_builder_set_member_name (b, "layers");
      json_builder_begin_array (b);
      for (guint i = 0; i < sens->n_layers; i++)
        {
          g_autofree char *name = g_strdup_printf ("layers.%u", i);

          if (!sens->pruned[i])
            continue;
          json_builder_begin_object (b);
          _pl_cli_add_string (b, "name", name);
          _pl_cli_add_int (b, "n_in", n_in[i]);
          _pl_cli_add_int (b, "n_out", n_out[i]);
          json_builder_set_member_name (b, "points");
          json_builder_begin_array (b);
          for (guint j = 0; j < sens->n_done[i]; j++)
            {
              gsize at = (gsize) i * sens->n_levels + j;

              json_builder_begin_object (b);
              _pl_cli_add_double (b, "target_sparsity", sens->levels[j]);
              _pl_cli_add_double (b, "sparsity", sens->sparsity[at]);
              _pl_cli_add_double (b, "test_accuracy", sens->accuracy[at]);
              _pl_cli_add_double (b, "test_loss", sens->loss[at]);
              json_builder_end_object (b);
            }
          json_builder_end_array (b);
          json_builder_end_object (b);
        }
      json_builder_end_array (b);
      _pl_cli_add_double (b, "seconds", (g_get_monotonic_time () - t0) / 1e6);
      _pl_cli_add_int (b, "threads", threads);
      _pl_cli_add_string (b, "blas_core", _pl_cli_blas_core ());
      json_builder_end_object (b);
      if (!_pl_cli_emit_result (b, json, plot, csv, csv_text, &error))
        return _pl_cli_fail (error);
    }
  if (!json && plot == NULL)
    {
      printf (_("dense test accuracy %.2f%%\n"), 100 * sens->dense_accuracy);
      for (guint i = 0; i < sens->n_layers; i++)
        {
          if (!sens->pruned[i])
            continue;
          printf ("layers.%u:", i);
          for (guint j = 0; j < sens->n_done[i]; j++)
            printf ("  %.0f%%→%.1f%%", 100 * sens->sparsity[(gsize) i * sens->n_levels + j],
                    100 * sens->accuracy[(gsize) i * sens->n_levels + j]);
          printf ("\n");
        }
    }

  return interrupted ? PL_EXIT_INTERRUPTED : PL_EXIT_OK;
}
