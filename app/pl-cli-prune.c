/* pl-cli-prune.c — prunelab-cli prune and sweep */
#define G_LOG_DOMAIN "prunelab-cli"

#include "config.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "pl-cli-plot-private.h"
#include "pl-cli-private.h"
#include "pl-error.h"
#include "pl-file.h"
#include "pl-metrics.h"
#include "pl-preview.h"
#include "pl-prune.h"
#include "pl-safetensors.h"
#include "pl-score.h"
#include "pl-train.h"

/* Options shared by prune and sweep. */
typedef struct {
  char     *model_path;
  char     *score_names;
  char     *scope_name;
  gboolean  structured;
  gboolean  invert;
  gboolean  exclude_output;
  gboolean  allow_empty;
  int       fine_tune_epochs;
  double    lr;
  int       batch;
  int       threads;
  int       score_batches;
  gboolean  json;
} PruneArgs;

static void
prune_args_clear (PruneArgs *a)
{
  g_clear_pointer (&a->model_path, g_free);
  g_clear_pointer (&a->score_names, g_free);
  g_clear_pointer (&a->scope_name, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (PruneArgs, prune_args_clear)

/* “Score: magnitude, gradient, …” from the score table, made once; GOption borrows it for
 * --help. (transfer none) */
static const char *
score_help (void)
{
  static char *help;

  if (g_once_init_enter (&help))
    {
      g_autofree char *names = _pl_cli_score_names (FALSE);

      g_once_init_leave (&help, g_strdup_printf (_("Score: %s"), names));
    }
  return help;
}

/* The shared options, then @more (the command's own). */
static void
add_prune_options (GOptionContext    *context,
                   PruneArgs         *a,
                   gboolean           several_scores,
                   const PlCliOption *more)
{
  const PlCliOption options[] = {
    { "model", 'm', PL_CLI_FILENAME, &a->model_path, N_("Trained model (safetensors)"), N_("FILE") },
    { "score", 0, PL_CLI_STRING, &a->score_names,
      several_scores ? N_("Scores to compare, comma-separated (see “prunelab-cli prune --help-scores”)")
                     : score_help (),
      several_scores ? N_("NAME[,NAME…]") : N_("NAME") },
    { "scope", 0, PL_CLI_STRING, &a->scope_name, N_("global (one ranking across layers, default) or layer"), N_("SCOPE") },
    { "structured", 0, PL_CLI_FLAG, &a->structured, N_("Prune whole hidden neurons (needs a neuron score)") },
    { "invert", 0, PL_CLI_FLAG, &a->invert, N_("Prune the highest scores first (a sanity check)") },
    { "exclude-output", 0, PL_CLI_FLAG, &a->exclude_output, N_("Leave the output layer's weights alone") },
    { "allow-empty", 0, PL_CLI_FLAG, &a->allow_empty, N_("Allow a layer to lose every weight") },
    { "fine-tune-epochs", 0, PL_CLI_INT, &a->fine_tune_epochs, N_("Masked training after pruning (default 0)"), N_("N"),
      PL_CLI_WHOLE (0, PL_CLI_MAX_EPOCHS) },
    { "lr", 0, PL_CLI_DOUBLE, &a->lr, N_("Fine-tuning learning rate, SGD with momentum 0.9 (default 0.01)"), N_("X"),
      PL_CLI_ABOVE (0) },
    { "batch", 0, PL_CLI_INT, &a->batch, N_("Fine-tuning batch size (default 128)"), N_("N"),
      PL_CLI_WHOLE (1, PL_CLI_MAX_BATCH) },
    { "score-batches", 0, PL_CLI_INT, &a->score_batches, N_("Batches of 256 training samples for data-driven scores (default 8)"), N_("N"),
      PL_CLI_WHOLE (1, PL_CLI_MAX_SCORE_BATCHES) },
    { "threads", 't', PL_CLI_INT, &a->threads, N_("Threads (default 1)"), N_("N"), PL_CLI_WHOLE (1, PL_CLI_MAX_THREADS) },
    { "json", 0, PL_CLI_FLAG, &a->json, N_("Print the result as one JSON object on stdout"), NULL },
    { NULL }
  };

  _pl_cli_add_options (context, options, more, NULL);
}

/* Checks the shared options; returns 0 or an exit status. */
static int
check_prune_args (const PruneArgs *a,
                  PlScope         *scope)
{
  g_autoptr(GError) error = NULL;

  if (a->model_path == NULL)
    return _pl_cli_usage (_("--model is required"));
  if (a->score_names == NULL)
    return _pl_cli_usage (_("--score is required (for example --score magnitude)"));
  if (a->scope_name != NULL && !pl_scope_parse (a->scope_name, scope, &error))
    return _pl_cli_fail (error);

  return 0;
}

static int
parse_score (const PruneArgs *a,
             const char      *name,
             PlScoreKind     *kind)
{
  g_autoptr(GError) error = NULL;

  if (!pl_score_parse (name, kind, &error))
    return _pl_cli_fail (error);
  if (a->structured && !pl_score_info (*kind)->per_neuron)
    {
      g_autofree char *neuron_scores = _pl_cli_score_names (TRUE);

      return _pl_cli_usage (_("--structured needs a neuron score (%s); “%s” scores weights"),
                            neuron_scores, name);
    }
  return 0;
}

static void
add_layer_metrics (JsonBuilder          *b,
                   const char           *name,
                   const PlLayerMetrics *lm)
{
  json_builder_begin_object (b);
  _pl_cli_add_string (b, "name", name);
  _pl_cli_add_int (b, "n_in", lm->n_in);
  _pl_cli_add_int (b, "n_out", lm->n_out);
  _pl_cli_add_int (b, "weights", (gint64) lm->weights);
  _pl_cli_add_int (b, "pruned", (gint64) lm->pruned);
  _pl_cli_add_int (b, "nonzero", (gint64) lm->nonzero);
  _pl_cli_add_int (b, "dead_neurons", lm->dead_neurons);
  _pl_cli_add_double (b, "parameter_sparsity", lm->parameter_sparsity);
  _pl_cli_add_double (b, "structural_sparsity", lm->structural_sparsity);
  _pl_cli_add_double (b, "relative_sparsity", lm->relative_sparsity);
  _pl_cli_add_double (b, "hoyer", lm->hoyer);
  _pl_cli_add_double (b, "hoyer_kept", lm->hoyer_kept);
  _pl_cli_add_int (b, "effective_weights", (gint64) lm->effective);
  _pl_cli_add_double (b, "flops_dense", lm->flops_dense);
  _pl_cli_add_double (b, "flops_effective", lm->flops_effective);
  _pl_cli_add_double (b, "bytes_dense", lm->bytes_dense);
  _pl_cli_add_double (b, "bytes_csr", lm->bytes_csr);
  _pl_cli_add_double (b, "bytes_compact", lm->bytes_compact);
  json_builder_end_object (b);
}

/* "layers": […], "total": {…} */
void
_pl_cli_add_metrics (JsonBuilder     *b,
                     const PlMetrics *metrics)
{
  json_builder_set_member_name (b, "layers");
  json_builder_begin_array (b);
  for (guint i = 0; i < metrics->n_layers; i++)
    {
      g_autofree char *name = g_strdup_printf ("layers.%u", i);
      add_layer_metrics (b, name, &metrics->layers[i]);
    }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "total");
  add_layer_metrics (b, "total", &metrics->total);
}

static PlScores *
compute_scores (const PlMlp     *model,
                PlScoreKind      kind,
                const PlData    *data,
                const PruneArgs *a,
                guint64          seed,
                GError         **error)
{
  PlScoreOptions options = PL_SCORE_OPTIONS_INIT;

  options.n_batches = (guint) a->score_batches;
  options.seed = seed;
  return pl_scores_compute (model, kind, data->train, &options, error);
}

/* Masked fine-tuning of @model; returns FALSE with the error (cancellation included). */
static gboolean
fine_tune (PlMlp           *model,
           const PlData    *data,
           const PruneArgs *a,
           guint64          seed,
           GError         **error)
{
  g_autoptr(PlTrainer) trainer = NULL;
  PlTrainConfig config;

  pl_train_config_init (&config);
  config.epochs = (guint) a->fine_tune_epochs;
  config.batch_size = (guint) a->batch;
  config.lr = a->lr;
  config.seed = seed;
  config.threads = (guint) a->threads;
  trainer = pl_trainer_new (model, &config);

  return pl_trainer_run (trainer, data->train, data->val, NULL, NULL, _pl_cli_cancellable (), error);
}

static void
init_prune_args (PruneArgs *a)
{
  *a = (PruneArgs) { .lr = 0.01, .batch = 128, .threads = 1, .score_batches = 8 };
}

int
_pl_cli_prune (int    argc,
               char **argv)
{
  g_auto(PlCliDataArgs) data_args = PL_CLI_DATA_ARGS_INIT;
  g_auto(PruneArgs) a;
  PlCliNumbers sparsity = { 0 }, threshold = { 0 };
  g_autofree char *out = NULL;
  gboolean help_scores = FALSE;
  const PlCliOption options[] = {
    { "sparsity", 0, PL_CLI_DOUBLES, &sparsity, N_("Target sparsity; with --scope layer one value or one per layer"), N_("X[,X…]"),
      PL_CLI_LIST (0, 1, PL_MLP_MAX_LAYERS) },
    { "threshold", 0, PL_CLI_DOUBLES, &threshold, N_("Prune every candidate whose score is below T (above with --invert)"), N_("T[,T…]"),
      PL_CLI_LIST (-INFINITY, INFINITY, PL_MLP_MAX_LAYERS) },
    { "out", 'o', PL_CLI_FILENAME, &out, N_("Save the pruned model here (safetensors, with masks)"), N_("FILE") },
    { "help-scores", 0, PL_CLI_FLAG, &help_scores, N_("Explain every score and exit") },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new (NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(PlData) data = NULL;
  g_autoptr(PlMlp) model = NULL;
  g_autoptr(PlMlp) original = NULL;
  g_autoptr(PlScores) scores = NULL;
  g_autoptr(PlEvaluation) before = NULL;
  g_autoptr(PlEvaluation) pruned_ev = NULL;
  g_autoptr(PlEvaluation) after = NULL;
  PlPruneSpec spec;
  PlScope scope = PL_SCOPE_GLOBAL;
  PlScoreKind kind;
  PlMetrics metrics;
  int status;
  gint64 t0 = g_get_monotonic_time ();

  init_prune_args (&a);
  g_option_context_set_summary (context, _("Score a trained model's weights or neurons, prune by a threshold or to a target\n"
                                           "sparsity, optionally fine-tune, and report accuracy and every sparsity measure."));
  add_prune_options (context, &a, FALSE, options);
  _pl_cli_add_data_options (context, &data_args);
  if (!_pl_cli_parse (context, &argc, &argv))
    return PL_EXIT_USAGE;

  if (help_scores)
    {
      for (PlScoreKind k = 0; k < PL_N_SCORES; k++)
        {
          const PlScoreInfo *info = pl_score_info (k);

          printf ("%s — %s%s\n  %s %s\n  %s %s\n  %s\n\n", info->name, _(info->title),
                  info->per_neuron ? _(" (neurons)") : "", _("Formula:"), info->formula,
                  _("Source:"), _(info->source), _(info->explanation));
        }
      return PL_EXIT_OK;
    }

  if ((status = check_prune_args (&a, &scope)) != 0)
    return status;
  if ((sparsity.n == 0) == (threshold.n == 0))
    return _pl_cli_usage (_("give either --sparsity or --threshold"));
  if (!_pl_cli_check_output (out, &error))
    return _pl_cli_fail (error);
  if ((status = parse_score (&a, a.score_names, &kind)) != 0)
    return status;
  _pl_cli_set_threads (a.threads);

  model = pl_safetensors_load (a.model_path, &error);
  if (model == NULL)
    return _pl_cli_fail (error);
  original = pl_mlp_copy (model);

  pl_prune_spec_init (&spec, scope, threshold.n > 0, 0.0);
  spec.invert = a.invert;
  spec.exclude_output = a.exclude_output;
  spec.allow_empty = a.allow_empty;
  if (!pl_prune_spec_set_values (&spec, threshold.n > 0 ? threshold.values : sparsity.values,
                                 threshold.n > 0 ? threshold.n : sparsity.n, model->n_layers, &error))
    {
      g_prefix_error (&error, threshold.n > 0 ? "--threshold: " : "--sparsity: ");
      return _pl_cli_fail (error);
    }

  data = _pl_cli_load_data (&data_args, &error);
  if (data == NULL)
    return _pl_cli_fail (error);

  before = pl_evaluate (model, data->test, &error);
  if (before == NULL)
    {
      g_prefix_error (&error, "“%s” on “%s”: ", a.model_path, data->spec);
      return _pl_cli_fail (error);
    }

  scores = compute_scores (model, kind, data, &a, 0, &error);
  if (scores == NULL || !pl_prune_apply (model, scores, &spec, &error))
    return _pl_cli_fail (error);
  pruned_ev = pl_evaluate (model, data->test, NULL);
  pl_metrics_compute (&metrics, model, original->params, NULL, NULL);

  if (a.fine_tune_epochs > 0 && !fine_tune (model, data, &a, 1, &error))
    return _pl_cli_fail (error);
  after = pl_evaluate (model, data->test, NULL);

  if (out != NULL && !pl_safetensors_save (model, out, &error))
    return _pl_cli_fail (error);

  if (a.json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();

      json_builder_begin_object (b);
      _pl_cli_add_string (b, "command", "prune");
      _pl_cli_add_string (b, "model", a.model_path);
      _pl_cli_add_string (b, "data", data->spec);
      _pl_cli_add_string (b, "score", pl_score_info (kind)->name);
      _pl_cli_add_string (b, "scope", scope == PL_SCOPE_GLOBAL ? "global" : "layer");
      _pl_cli_add_bool (b, "structured", scores->per_neuron);
      _pl_cli_add_bool (b, "invert", a.invert);
      json_builder_set_member_name (b, threshold.n > 0 ? "threshold" : "target_sparsity");
      json_builder_begin_array (b);
      for (guint i = 0; i < spec.n_values; i++)
        json_builder_add_double_value (b, spec.values[i]);
      json_builder_end_array (b);
      _pl_cli_add_double (b, "test_accuracy_before", before->accuracy);
      _pl_cli_add_double (b, "test_loss_before", before->loss);
      _pl_cli_add_double (b, "test_accuracy_pruned", pruned_ev->accuracy);
      _pl_cli_add_double (b, "test_loss_pruned", pruned_ev->loss);
      _pl_cli_add_int (b, "fine_tune_epochs", a.fine_tune_epochs);
      _pl_cli_add_evaluation (b, "test", after);
      _pl_cli_add_double (b, "sparsity", metrics.total.parameter_sparsity);
      _pl_cli_add_double (b, "structural_sparsity", metrics.total.structural_sparsity);
      _pl_cli_add_metrics (b, &metrics);
      _pl_cli_add_double (b, "seconds", (g_get_monotonic_time () - t0) / 1e6);
      _pl_cli_add_string (b, "blas_core", _pl_cli_blas_core ());
      if (out != NULL)
        {
          _pl_cli_add_string (b, "out", out);
        }
      json_builder_end_object (b);
      _pl_cli_print_json (b);
    }
  else
    {
      printf (_("test accuracy %.2f%% before, %.2f%% pruned, %.2f%% after %d epoch(s) of fine-tuning\n"),
              100 * before->accuracy, 100 * pruned_ev->accuracy, 100 * after->accuracy,
              a.fine_tune_epochs);
      printf (_("sparsity %.2f%% (%lu of %lu weights), %u dead neurons\n"),
              100 * metrics.total.parameter_sparsity, (unsigned long) metrics.total.pruned,
              (unsigned long) metrics.total.weights,
              metrics.total.dead_neurons);
      if (out != NULL)
        printf (_("pruned model saved to %s\n"), out);
    }

  return PL_EXIT_OK;
}

/* ---- sweep ---- */

typedef struct {
  char   *score;      /* borrowed */
  guint   seed;
  double  target;
  double  sparsity;
  double  structural_sparsity;
  double  accuracy;
  double  loss;
  double  layer_sparsity[PL_MLP_MAX_LAYERS];
} SweepPoint;

static gboolean
write_sweep_csv (const char  *path,
                 const GArray *points,
                 guint        n_layers,
                 GError     **error)
{
  g_autoptr(GString) s = g_string_new ("score,seed,target_sparsity,sparsity,structural_sparsity,test_accuracy,test_loss");

  for (guint i = 0; i < n_layers; i++)
    g_string_append_printf (s, ",layers.%u.sparsity", i);
  g_string_append_c (s, '\n');
  for (guint k = 0; k < points->len; k++)
    {
      const SweepPoint *p = &g_array_index (points, SweepPoint, k);

      g_string_append_printf (s, "%s,%u,%.6g,%.6g,%.6g,%.6g,%.6g", p->score, p->seed, p->target,
                              p->sparsity, p->structural_sparsity, p->accuracy, p->loss);
      for (guint i = 0; i < n_layers; i++)
        g_string_append_printf (s, ",%.6g", p->layer_sparsity[i]);
      g_string_append_c (s, '\n');
    }

  /* atomic, and a failure names the file */
  return pl_file_save (path, s->str, s->len, error);
}

int
_pl_cli_sweep (int    argc,
               char **argv)
{
  g_auto(PlCliDataArgs) data_args = PL_CLI_DATA_ARGS_INIT;
  g_auto(PruneArgs) a;
  g_autofree char *csv = NULL;
  g_autofree char *plot = NULL;
  g_auto(GStrv) names = NULL;
  int n_points = 24, seeds = 1;
  double max_sparsity = 0.99;
  const PlCliOption options[] = {
    { "points", 0, PL_CLI_INT, &n_points, N_("Sparsity levels from 0 to --max, denser near the top (default 24)"), N_("N"),
      PL_CLI_WHOLE (2, 10000) },
    { "max", 0, PL_CLI_DOUBLE, &max_sparsity, N_("Highest sparsity (default 0.99)"), N_("X"),
      PL_CLI_IN_OPEN (0, 1, PL_CLI_OPEN_MIN) },
    { "seeds", 0, PL_CLI_INT, &seeds, N_("Repeats with seeds 0…K−1 (scores' batches, random score, fine-tuning)"), N_("K"),
      PL_CLI_WHOLE (1, 1000) },
    { "csv", 0, PL_CLI_FILENAME, &csv, N_("Also write the points as CSV"), N_("FILE") },
    { "plot", 0, PL_CLI_FILENAME, &plot, N_("Draw the curves into this file (.png, .svg or .pdf)"), N_("FILE") },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new (NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(PlData) data = NULL;
  g_autoptr(PlMlp) model = NULL;
  g_autoptr(PlEvaluation) dense = NULL;
  g_autoptr(GArray) points = g_array_new (FALSE, FALSE, sizeof (SweepPoint));
  g_autofree PlScoreKind *kinds = NULL;
  PlScope scope = PL_SCOPE_GLOBAL;
  gboolean interrupted = FALSE;
  guint n_names;
  int status;
  gint64 t0 = g_get_monotonic_time (), t_loop;
  double loop_seconds;

  init_prune_args (&a);
  g_option_context_set_summary (context, _("Sparsity-versus-accuracy curves: prune a trained model to a range of sparsities\n"
                                           "with each score (and seed), evaluating each point on the test set."));
  add_prune_options (context, &a, TRUE, options);
  _pl_cli_add_data_options (context, &data_args);
  if (!_pl_cli_parse (context, &argc, &argv))
    return PL_EXIT_USAGE;
  if ((status = check_prune_args (&a, &scope)) != 0)
    return status;
  if (plot != NULL && !_pl_cli_plot_check (plot, &error))
    return _pl_cli_usage ("--plot: %s", error->message);
  if (!_pl_cli_check_output (csv, &error) || !_pl_cli_check_output (plot, &error))
    return _pl_cli_fail (error);

  names = g_strsplit (a.score_names, ",", -1);
  n_names = g_strv_length (names);
  kinds = g_new (PlScoreKind, MAX (n_names, 1));
  for (guint i = 0; i < n_names; i++)
    if ((status = parse_score (&a, names[i], &kinds[i])) != 0)
      return status;
  /* The previews and the trainer split their work over a.threads threads of their own; a
   * multi-threaded OpenBLAS call before them would leave its pool spinning on the cores they
   * need, so OpenBLAS stays on one thread. */
  _pl_cli_set_threads (1);

  model = pl_safetensors_load (a.model_path, &error);
  if (model == NULL)
    return _pl_cli_fail (error);
  data = _pl_cli_load_data (&data_args, &error);
  if (data == NULL)
    return _pl_cli_fail (error);
  dense = pl_evaluate (model, data->test, &error);
  if (dense == NULL)
    {
      g_prefix_error (&error, "“%s” on “%s”: ", a.model_path, data->spec);
      return _pl_cli_fail (error);
    }

  t_loop = g_get_monotonic_time ();
  for (guint si = 0; si < n_names && !interrupted; si++)
    for (guint seed = 0; seed < (guint) seeds && !interrupted; seed++)
      {
        g_autoptr(PlScores) scores = compute_scores (model, kinds[si], data, &a, seed, &error);
        g_autoptr(PlPreview) preview = NULL;
        PlPruneSpec spec;

        if (scores == NULL)
          return _pl_cli_fail (error);
        pl_prune_spec_init (&spec, scope, FALSE, 0.0);
        spec.invert = a.invert;
        spec.exclude_output = a.exclude_output;
        spec.allow_empty = a.allow_empty;

        /* Without fine-tuning every point is a preview of the same scores: only the masks that
         * change from one point to the next are applied. */
        if (a.fine_tune_epochs == 0)
          {
            preview = pl_preview_new (model, scores, &spec, data->test, (guint) a.threads, &error);
            if (preview == NULL)
              return _pl_cli_fail (error);
          }

        guint first_point = points->len;

        for (int step = 0; step < n_points; step++)
          {
            /* Previews go from the sparsest point down: the first one computes the first layer
             * from its few kept weights, and each next one only adds the weights it restores.
             * The points are reported in increasing sparsity all the same. */
            int pi = preview != NULL ? n_points - 1 - step : step;
            /* 1 − (1 − max)^(i/(P−1)): even steps in log "fraction remaining" */
            double target = pi == 0 ? 0.0 : 1.0 - pow (1.0 - max_sparsity, (double) pi / (n_points - 1));
            SweepPoint p = { names[si], seed, target };

            if (g_cancellable_is_cancelled (_pl_cli_cancellable ()))
              {
                interrupted = TRUE;
                break;
              }

            if (preview != NULL)
              {
                PlPreviewResult r;

                if (!pl_preview_run (preview, target, FALSE, &r, &error))
                  return _pl_cli_fail (error);
                p.sparsity = r.sparsity;
                p.structural_sparsity = r.neurons > 0 ? (double) r.dead_neurons / r.neurons : 0.0;
                p.accuracy = r.accuracy;
                p.loss = r.loss;
                memcpy (p.layer_sparsity, r.layer_sparsity, sizeof p.layer_sparsity);
              }
            else
              {
                g_autoptr(PlMlp) copy = pl_mlp_copy (model);
                g_autoptr(PlEvaluation) ev = NULL;
                PlMetrics metrics;

                spec.values[0] = target;
                if (!pl_prune_apply (copy, scores, &spec, &error))
                  return _pl_cli_fail (error);
                if (!fine_tune (copy, data, &a, seed, &error))
                  {
                    if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
                      return _pl_cli_fail (error);
                    interrupted = TRUE;
                    break;
                  }
                ev = pl_evaluate (copy, data->test, NULL);
                pl_metrics_compute (&metrics, copy, model->params, NULL, NULL);
                p.sparsity = metrics.total.parameter_sparsity;
                p.structural_sparsity = metrics.total.structural_sparsity;
                p.accuracy = ev->accuracy;
                p.loss = ev->loss;
                for (guint i = 0; i < model->n_layers; i++)
                  p.layer_sparsity[i] = metrics.layers[i].parameter_sparsity;
              }

            /* (from the top, each point goes before the ones already made) */
            g_array_insert_val (points, preview != NULL ? first_point : points->len, p);
            g_printerr (_("%-14s seed %u  sparsity %6.2f%%  test accuracy %6.2f%%  loss %.4f\n"),
                        p.score, seed, 100 * p.sparsity, 100 * p.accuracy, p.loss);
          }
      }

  loop_seconds = (g_get_monotonic_time () - t_loop) / 1e6;
  if (interrupted)
    g_printerr (_("prunelab-cli: sweep interrupted; reporting the %u points that finished\n"), points->len);

  if (csv != NULL && !write_sweep_csv (csv, points, model->n_layers, &error))
    return _pl_cli_fail (error);

  if (a.json || plot != NULL)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();

      json_builder_begin_object (b);
      _pl_cli_add_string (b, "command", "sweep");
      _pl_cli_add_string (b, "model", a.model_path);
      _pl_cli_add_string (b, "data", data->spec);
      _pl_cli_add_string (b, "scope", scope == PL_SCOPE_GLOBAL ? "global" : "layer");
      _pl_cli_add_bool (b, "invert", a.invert);
      json_builder_set_member_name (b, "scores");
      json_builder_begin_array (b);
      for (guint i = 0; i < n_names; i++)
        json_builder_add_string_value (b, names[i]);
      json_builder_end_array (b);
      _pl_cli_add_int (b, "seeds", seeds);
      _pl_cli_add_int (b, "fine_tune_epochs", a.fine_tune_epochs);
      _pl_cli_add_double (b, "dense_test_accuracy", dense->accuracy);
      _pl_cli_add_double (b, "dense_test_loss", dense->loss);
      _pl_cli_add_bool (b, "interrupted", interrupted);
      json_builder_set_member_name (b, "points");
      json_builder_begin_array (b);
      for (guint k = 0; k < points->len; k++)
        {
          const SweepPoint *p = &g_array_index (points, SweepPoint, k);

          json_builder_begin_object (b);
          _pl_cli_add_string (b, "score", p->score);
          _pl_cli_add_int (b, "seed", p->seed);
          _pl_cli_add_double (b, "target_sparsity", p->target);
          _pl_cli_add_double (b, "sparsity", p->sparsity);
          _pl_cli_add_double (b, "structural_sparsity", p->structural_sparsity);
          _pl_cli_add_double (b, "test_accuracy", p->accuracy);
          _pl_cli_add_double (b, "test_loss", p->loss);
          json_builder_set_member_name (b, "layer_sparsity");
          json_builder_begin_array (b);
          for (guint i = 0; i < model->n_layers; i++)
            json_builder_add_double_value (b, p->layer_sparsity[i]);
          json_builder_end_array (b);
          json_builder_end_object (b);
        }
      json_builder_end_array (b);
      _pl_cli_add_double (b, "seconds", (g_get_monotonic_time () - t0) / 1e6);
      /* the sweep alone: scores, pruning, fine-tuning and evaluation, no data loading */
      _pl_cli_add_double (b, "sweep_seconds", loop_seconds);
      _pl_cli_add_int (b, "threads", a.threads);
      _pl_cli_add_string (b, "blas_core", _pl_cli_blas_core ());
      json_builder_end_object (b);
      if (plot != NULL && !_pl_cli_plot_result (b, plot, &error))
        return _pl_cli_fail (error);
      if (a.json)
        _pl_cli_print_json (b);
    }

  return interrupted ? PL_EXIT_INTERRUPTED : PL_EXIT_OK;
}
