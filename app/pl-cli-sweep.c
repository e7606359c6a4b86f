/* pl-cli-sweep.c — prunelab-cli sweep: accuracy against sparsity, score by score and seed by seed */
#define G_LOG_DOMAIN "prunelab-cli"

#include "config.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "pl-cli-plot-private.h"
#include "pl-cli-private.h"
#include "pl-cli-prune-private.h"
#include "pl-error.h"
#include "pl-file.h"
#include "pl-metrics.h"
#include "pl-preview.h"
#include "pl-prune.h"
#include "pl-safetensors.h"
#include "pl-score.h"
#include "pl-sweep.h"

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

static void
print_point (const SweepPoint *p)
{
  g_printerr (_("%-14s seed %u  sparsity %6.2f%%  test accuracy %6.2f%%  loss %.4f\n"),
              p->score, p->seed, 100 * p->sparsity, 100 * p->accuracy, p->loss);
}

typedef struct {
  GArray *points;        /* SweepPoint */
  guint   first_point;   /* of this score and seed in points */
  char   *score;         /* borrowed */
  guint   seed;
} SweepRun;

/* A point of a sweep without fine-tuning (a preview); from the top, each point goes before the
 * ones already made. */
static gboolean
on_sweep_point (guint                  i,
                double                 target,
                const PlPreviewResult *r,
                gpointer               data)
{
  SweepRun *run = data;
  SweepPoint p = { run->score, run->seed, target };

  p.sparsity = r->sparsity;
  p.structural_sparsity = r->neurons > 0 ? (double) r->dead_neurons / r->neurons : 0.0;
  p.accuracy = r->accuracy;
  p.loss = r->loss;
  memcpy (p.layer_sparsity, r->layer_sparsity, sizeof p.layer_sparsity);
  g_array_insert_val (run->points, run->first_point, p);
  print_point (&p);
  return TRUE;
}

/* The points as CSV, one row each. (transfer full) */
static GString *
sweep_csv (const GArray *points,
           guint         n_layers)
{
  GString *s = g_string_new ("score,seed,target_sparsity,sparsity,structural_sparsity,test_accuracy,test_loss");

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
  return s;
}

int
_pl_cli_sweep (int    argc,
               char **argv)
{
  g_auto(PlCliDataArgs) data_args = PL_CLI_DATA_ARGS_INIT;
  g_auto(PlCliPruneArgs) a;
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

  _pl_cli_prune_args_init (&a);
  g_option_context_set_summary (context, _("Sparsity-versus-accuracy curves: prune a trained model to a range of sparsities\n"
                                           "with each score (and seed), evaluating each point on the test set."));
  _pl_cli_add_prune_options (context, &a, TRUE, options);
  _pl_cli_add_data_options (context, &data_args);
  if (!_pl_cli_parse (context, &argc, &argv))
    return PL_EXIT_USAGE;
  if ((status = _pl_cli_check_prune_args (&a, &scope)) != 0)
    return status;
  if (plot != NULL && !_pl_cli_plot_check (plot, &error))
    return _pl_cli_usage ("--plot: %s", error->message);
  if (!_pl_cli_check_output (csv, &error) || !_pl_cli_check_output (plot, &error))
    return _pl_cli_fail (error);

  names = g_strsplit (a.score_names, ",", -1);
  n_names = g_strv_length (names);
  kinds = g_new (PlScoreKind, MAX (n_names, 1));
  for (guint i = 0; i < n_names; i++)
    if ((status = _pl_cli_parse_score (&a, names[i], &kinds[i])) != 0)
      return status;
  /* The previews and the trainer split their work over a.threads threads of their own; a
   * multi-threaded OpenBLAS call before them would leave its pool spinning on the cores they
   * need, so OpenBLAS stays on one thread. */
  _pl_cli_set_threads (1);

  model = _pl_cli_load_model (a.model_path, a.session_path, &data_args, &error);
  if (model == NULL)
    return _pl_cli_fail (error);
  if (a.model_path == NULL)
    a.model_path = g_strdup (a.session_path);
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
        g_autoptr(PlScores) scores = _pl_cli_compute_scores (model, kinds[si], data, &a, seed, &error);
        g_autoptr(PlPreview) preview = NULL;
        PlPruneSpec spec;

        if (scores == NULL)
          return _pl_cli_fail (error);
        _pl_cli_prune_args_spec (&a, scope, FALSE, &spec);

        /* Without fine-tuning every point is a preview of the same scores: only the masks that
         * change from one point to the next are applied, from the sparsest point down. */
        if (a.fine_tune_epochs == 0)
          {
            SweepRun run = { points, points->len, names[si], seed };

            preview = pl_preview_new (model, scores, &spec, data->test, (guint) a.threads, &error);
            if (preview == NULL)
              return _pl_cli_fail (error);
            if (!pl_sweep_run (preview, max_sparsity, (guint) n_points, on_sweep_point, &run,
                               _pl_cli_cancellable (), &error))
              {
                if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
                  return _pl_cli_fail (error);
                g_clear_error (&error);
                interrupted = TRUE;
              }
            continue;
          }

        /* With fine-tuning every point is its own copy, pruned and fine-tuned */
        for (int pi = 0; pi < n_points; pi++)
          {
            double target = pl_sweep_target (max_sparsity, (guint) n_points, (guint) pi);
            SweepPoint p = { names[si], seed, target };
            g_autoptr(PlMlp) copy = NULL;
            g_autoptr(PlEvaluation) ev = NULL;
            PlMetrics metrics;

            if (g_cancellable_is_cancelled (_pl_cli_cancellable ()))
              {
                interrupted = TRUE;
                break;
              }

            copy = pl_mlp_copy (model);
            spec.values[0] = target;
            if (!pl_prune_apply (copy, scores, &spec, &error))
              return _pl_cli_fail (error);
            if (!_pl_cli_fine_tune (copy, data, &a, seed, &error))
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

            g_array_append_val (points, p);
            print_point (&p);
          }
      }

  loop_seconds = (g_get_monotonic_time () - t_loop) / 1e6;
  if (interrupted)
    g_printerr (_("prunelab-cli: sweep interrupted; reporting the %u points that finished\n"), points->len);

  if (a.json || plot != NULL || csv != NULL)
    {
      g_autoptr(GString) csv_text = csv != NULL ? sweep_csv (points, model->n_layers) : NULL;
      g_autoptr(JsonBuilder) b = json_builder_new ();

      json_builder_begin_object (b);
      _pl_cli_add_string (b, "command", "sweep");
      _pl_cli_add_string (b, "model", a.model_path);
      _pl_cli_add_string (b, "data", data->spec);
      _pl_cli_add_string (b, "scope", pl_scope_name (scope));
      if (a.nm != NULL)
        _pl_cli_add_string (b, "nm", a.nm);
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
      if (!_pl_cli_emit_result (b, a.json, plot, csv, csv_text, &error))
        return _pl_cli_fail (error);
    }

  return interrupted ? PL_EXIT_INTERRUPTED : PL_EXIT_OK;
}
