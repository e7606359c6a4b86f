/* pl-cli-sweep.c — prunelab-cli sweep: accuracy against sparsity, score by score and seed by seed */
#define G_LOG_DOMAIN "prunelab-cli"

#include "config.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "pl-cli-grid-private.h"
#include "pl-cli-plot-private.h"
#include "pl-cli-private.h"
#include "pl-cli-prune-private.h"
#include "pl-conv-file.h"
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

/* A point as it goes into the result. (transfer full) */
static JsonNode *
point_json (const SweepPoint *p,
            guint             n_layers)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();

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
  for (guint i = 0; i < n_layers; i++)
    json_builder_add_double_value (b, p->layer_sparsity[i]);
  json_builder_end_array (b);
  json_builder_end_object (b);
  return _pl_cli_builder_node (b);
}

/* A point's measures from a preview's result (or a conv net's, pl_conv_sweep_measure()). */
static void
point_from_result (SweepPoint            *p,
                   const PlPreviewResult *r)
{
  p->sparsity = r->sparsity;
  p->structural_sparsity = r->neurons > 0 ? (double) r->dead_neurons / r->neurons : 0.0;
  p->accuracy = r->accuracy;
  p->loss = r->loss;
  memcpy (p->layer_sparsity, r->layer_sparsity, sizeof p->layer_sparsity);
}

typedef struct {
  GArray *points;        /* SweepPoint, in the order of the targets */
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

  point_from_result (&p, r);
  g_array_prepend_val (run->points, p);
  print_point (&p);
  return TRUE;
}

/* The points of one score and seed, without fine-tuning: @eval at every target (for an MLP a
 * preview of the same scores, where only the masks that change from one point to the next are
 * applied, from the sparsest point down; for a conv net a pruned copy each), into grid point
 * @first, saved into --results when the run finished. A cancellation sets @interrupted;
 * FALSE with any other error. */
static gboolean
sweep_one (PlSweepEvalFunc       eval,
           gpointer              eval_data,
           char                 *score,
           guint                 seed,
           double                max,
           guint                 n_points,
           const PlCliGridArgs  *g,
           PlGrid               *grid,
           guint                 first,
           guint                 n_layers,
           gint64                t_start,
           JsonArray           **results,
           gboolean             *complete,
           double               *point_seconds,
           gboolean             *interrupted,
           GError              **error)
{
  g_autoptr(GArray) run_points = g_array_new (FALSE, FALSE, sizeof (SweepPoint));
  SweepRun run = { run_points, score, seed };
  GError *local = NULL;

  if (!pl_sweep_run_with (eval, eval_data, max, n_points, on_sweep_point, &run,
                          _pl_cli_cancellable (), &local))
    {
      if (!g_error_matches (local, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_propagate_error (error, local);
          return FALSE;
        }
      g_clear_error (&local);
      *interrupted = TRUE;
    }
  results[first] = json_array_new ();
  for (guint k = 0; k < run_points->len; k++)
    json_array_add_element (results[first],
                            point_json (&g_array_index (run_points, SweepPoint, k), n_layers));
  complete[first] = !*interrupted;
  point_seconds[first] = (g_get_monotonic_time () - t_start) / 1e6;
  return !complete[first] || g->results_dir == NULL
         || pl_results_save_point (g->results_dir, grid, first, results[first], point_seconds[first], error);
}

/* The grid, in its order: scores × seeds × levels. Without fine-tuning a grid point is every
 * level of one score and seed (the preview goes from one level to the next); with it, one
 * level. */
static GPtrArray *
sweep_labels (char       **names,
              guint        n_names,
              guint        seeds,
              guint        n_levels,
              double       max,
              gboolean     per_level)
{
  GPtrArray *labels = g_ptr_array_new_with_free_func (g_free);
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  for (guint si = 0; si < n_names; si++)
    for (guint seed = 0; seed < seeds; seed++)
      if (per_level)
        for (guint l = 0; l < n_levels; l++)
          g_ptr_array_add (labels, g_strdup_printf ("%s seed %u level %u target %s", names[si], seed, l,
                                                    g_ascii_formatd (buf, sizeof buf, "%.17g",
                                                                     pl_sweep_target (max, n_levels, l))));
      else
        g_ptr_array_add (labels, g_strdup_printf ("%s seed %u levels %u max %s", names[si], seed,
                                                  n_levels, g_ascii_formatd (buf, sizeof buf, "%.17g", max)));
  g_ptr_array_add (labels, NULL);
  return labels;
}

int
_pl_cli_sweep (int    argc,
               char **argv)
{
  static const char *const skip[] = { PL_CLI_GRID_SKIP, "model", "session", "score", "seeds",
                                      "points", "max", NULL };
  g_auto(PlCliDataArgs) data_args = PL_CLI_DATA_ARGS_INIT;
  g_auto(PlCliPruneArgs) a;
  g_auto(PlCliGridArgs) g = PL_CLI_GRID_ARGS_INIT;
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
    PL_CLI_GRID_OPTIONS (&g),
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new (NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(PlData) data = NULL;
  g_autoptr(PlMlp) model = NULL;
  g_autoptr(PlConvNet) conv = NULL;
  g_autofree PlCliConvScore *conv_scores = NULL;
  g_autoptr(PlEvaluation) dense = NULL;
  g_autoptr(GPtrArray) labels = NULL;
  g_autoptr(PlGrid) grid = NULL;
  g_autoptr(JsonObject) head = NULL;
  g_autoptr(JsonObject) tail = NULL;
  g_autofree PlScoreKind *kinds = NULL;
  g_autoptr(GPtrArray) results_owner = NULL;
  JsonArray **results = NULL;                /* per grid point, in results_owner, or NULL */
  g_autofree gboolean *complete = NULL;
  g_autofree double *point_seconds = NULL;
  g_autofree char *settings = NULL;
  PlScope scope = PL_SCOPE_GLOBAL;
  gboolean interrupted = FALSE, per_level;
  guint n_names, n_grid, n_found = 0, n_mine = 0, n_layers;
  gboolean is_conv;
  int status;
  gint64 t0 = g_get_monotonic_time (), t_loop;
  double loop_seconds;

  _pl_cli_prune_args_init (&a);
  g_option_context_set_summary (context, _("Sparsity-versus-accuracy curves: prune a trained model to a range of sparsities\n"
                                           "with each score (and seed), evaluating each point on the test set."));
  g_option_context_set_description (context, _("The grid, in the order --shard, --print-grid and the points follow: scores × seeds × levels.\n"
                                               "Without --fine-tune-epochs a grid point is every level of one score and seed; with it, one level."));
  _pl_cli_add_prune_options (context, &a, TRUE, options);
  _pl_cli_add_data_options (context, &data_args);
  if (!_pl_cli_parse (context, &argc, &argv))
    return PL_EXIT_USAGE;
  if ((status = _pl_cli_check_prune_args (&a, &scope)) != 0
      || (status = _pl_cli_grid_check (&g)) != 0)
    return status;
  if (plot != NULL && !_pl_cli_plot_check (plot, &error))
    return _pl_cli_usage ("--plot: %s", error->message);
  if (!_pl_cli_check_output (csv, &error) || !_pl_cli_check_output (plot, &error))
    return _pl_cli_fail (error);

  names = g_strsplit (a.score_names, ",", -1);
  n_names = g_strv_length (names);
  kinds = g_new (PlScoreKind, MAX (n_names, 1));
  /* a convolutional network is pruned by a PlConvPruner (pl-conv-sweep.h), point by point */
  is_conv = _pl_cli_prune_args_conv (&a);
  conv_scores = g_new0 (PlCliConvScore, MAX (n_names, 1));
  for (guint i = 0; i < n_names; i++)
    if ((status = is_conv ? _pl_cli_conv_parse_score (&a, names[i], scope, &conv_scores[i])
                          : _pl_cli_parse_score (&a, names[i], &kinds[i])) != 0)
      return status;
  per_level = a.fine_tune_epochs > 0;
  labels = sweep_labels (names, n_names, (guint) seeds, (guint) n_points, max_sparsity, per_level);
  n_grid = labels->len - 1;
  if (g.print_grid)
    {
      _pl_cli_grid_print (&g, (const char * const *) labels->pdata, n_grid);
      return PL_EXIT_OK;
    }
  results_owner = _pl_cli_grid_points_new (n_grid);
  results = (JsonArray **) results_owner->pdata;
  complete = g_new0 (gboolean, n_grid);
  point_seconds = g_new0 (double, n_grid);
  settings = _pl_cli_settings_text (skip);
  /* The previews and the trainer split their work over a.threads threads of their own; a
   * multi-threaded OpenBLAS call before them would leave its pool spinning on the cores they
   * need, so OpenBLAS stays on one thread. */
  _pl_cli_set_threads (1);

  if (is_conv)
    {
      conv = pl_conv_net_load (a.model_path, &error);
      if (conv == NULL || (data = _pl_cli_load_data (&data_args, &error)) == NULL)
        return _pl_cli_fail (error);
      if (pl_conv_net_n_param_layers (conv) > PL_MLP_MAX_LAYERS)
        return _pl_cli_usage (_("sweep takes a convolutional network of at most %u conv and dense layers"),
                              (guint) PL_MLP_MAX_LAYERS);
      dense = pl_conv_evaluate (conv, data->test, &error);
      if (dense == NULL)
        {
          g_prefix_error (&error, "“%s” on “%s”: ", a.model_path, data->spec);
          return _pl_cli_fail (error);
        }
      n_layers = pl_conv_net_n_param_layers (conv);
    }
  else
    {
      model = _pl_cli_load_model_and_data (&a.model_path, a.session_path, &data_args, &data, &error);
      if (model == NULL)
        return _pl_cli_fail (error);
      dense = _pl_cli_evaluate (model, data->test, a.model_path, data, &error);
      if (dense == NULL)
        return _pl_cli_fail (error);
      n_layers = model->n_layers;
    }

  {
    g_autoptr(JsonBuilder) b = json_builder_new ();
    g_autoptr(JsonNode) node = NULL;

    json_builder_begin_object (b);
    _pl_cli_add_string (b, "command", "sweep");
    _pl_cli_add_string (b, "model", a.model_path);
    _pl_cli_add_string (b, "data", data->spec);
    _pl_cli_add_string (b, "scope", pl_scope_name (is_conv && a.structured ? PL_SCOPE_LAYER : scope));
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
    json_builder_end_object (b);
    node = json_builder_get_root (b);
    head = json_object_ref (json_node_get_object (node));
  }
  tail = json_object_new ();
  json_object_set_int_member (tail, "threads", a.threads);
  json_object_set_string_member (tail, "blas_core", _pl_cli_blas_core ());

  if (_pl_cli_grid_wanted (&g))
    {
      grid = _pl_cli_grid_make ("sweep", a.model_path, data, settings,
                                (const char * const *) labels->pdata, n_grid, head, tail, &error);
      if (grid == NULL || (g.results_dir != NULL && !pl_results_save_grid (g.results_dir, grid, &error)))
        return _pl_cli_fail (error);
    }

  t_loop = g_get_monotonic_time ();
  for (guint si = 0; si < n_names && !interrupted; si++)
    for (guint seed = 0; seed < (guint) seeds && !interrupted; seed++)
      {
        guint first = (si * (guint) seeds + seed) * (per_level ? (guint) n_points : 1);
        guint n_cells = per_level ? (guint) n_points : 1;
        g_autoptr(PlScores) scores = NULL;
        g_autoptr(PlPreview) preview = NULL;
        g_autofree float *conv_weight_scores = NULL;
        PlConvPruner pruner;
        gboolean needed = FALSE;
        gint64 t_scores = g_get_monotonic_time ();
        double scores_seconds;
        PlPruneSpec spec;

        /* the grid points of this score and seed that this run does, and those done before */
        for (guint c = first; c < first + n_cells; c++)
          {
            double s;

            if (!_pl_cli_grid_mine (&g, c))
              continue;
            n_mine++;
            if (g.results_dir != NULL)
              {
                if (!pl_results_load_point (g.results_dir, grid, c, &results[c], &s, &error))
                  return _pl_cli_fail (error);
                if (results[c] != NULL)
                  {
                    complete[c] = TRUE;
                    point_seconds[c] = s;
                    n_found++;
                    continue;
                  }
              }
            needed = TRUE;
          }
        if (!needed)
          continue;

        if (is_conv)
          {
            if (!_pl_cli_conv_pruner_init (&pruner, &conv_weight_scores, &a, &conv_scores[si], scope,
                                           conv, data, seed, &error)
                || (!per_level
                    && !sweep_one (pl_conv_sweep_eval, &pruner, names[si], seed, max_sparsity,
                                   (guint) n_points, &g, grid, first, n_layers, t_scores, results,
                                   complete, point_seconds, &interrupted, &error)))
              return _pl_cli_fail (error);
            if (!per_level)
              continue;
          }
        else
          {
            scores = _pl_cli_compute_scores (model, kinds[si], data, &a, seed, &error);
            if (scores == NULL)
              return _pl_cli_fail (error);
            _pl_cli_prune_args_spec (&a, scope, FALSE, &spec);
          }
        scores_seconds = (g_get_monotonic_time () - t_scores) / 1e6;

        /* without fine-tuning, a preview of the scores (sweep_one) */
        if (!per_level)
          {
            preview = pl_preview_new (model, scores, &spec, data->test, (guint) a.threads, &error);
            if (preview == NULL
                || !sweep_one (pl_sweep_preview_eval, preview, names[si], seed, max_sparsity,
                               (guint) n_points, &g, grid, first, n_layers, t_scores, results,
                               complete, point_seconds, &interrupted, &error))
              return _pl_cli_fail (error);
            continue;
          }

        /* With fine-tuning every point is its own copy, pruned and fine-tuned */
        for (guint c = first; c < first + n_cells; c++)
          {
            guint pi = c - first;
            double target = pl_sweep_target (max_sparsity, (guint) n_points, pi);
            SweepPoint p = { names[si], seed, target };
            g_autoptr(PlMlp) copy = NULL;
            g_autoptr(PlConvNet) conv_copy = NULL;
            g_autoptr(PlEvaluation) ev = NULL;
            PlMetrics metrics;
            gint64 t_point = g_get_monotonic_time ();

            if (!_pl_cli_grid_mine (&g, c) || results[c] != NULL)
              continue;
            if (g_cancellable_is_cancelled (_pl_cli_cancellable ()))
              {
                interrupted = TRUE;
                break;
              }

            if (is_conv)
              conv_copy = pl_conv_pruner_apply (&pruner, target, &error);
            else
              {
                copy = pl_mlp_copy (model);
                spec.values[0] = target;
              }
            if (is_conv ? conv_copy == NULL : !pl_prune_apply (copy, scores, &spec, &error))
              return _pl_cli_fail (error);
            if (is_conv ? !_pl_cli_conv_fine_tune (conv_copy, data, &a, seed, &error)
                        : !_pl_cli_fine_tune (copy, data, &a, seed, &error))
              {
                if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
                  return _pl_cli_fail (error);
                g_clear_error (&error);
                interrupted = TRUE;
                break;
              }
            if (is_conv)
              {
                PlPreviewResult r;

                if (!pl_conv_sweep_measure (conv_copy, data->test, target, &r, &error))
                  return _pl_cli_fail (error);
                point_from_result (&p, &r);
              }
            else
              {
                ev = pl_evaluate (copy, data->test, NULL);
                pl_metrics_compute (&metrics, copy, model->params, NULL, NULL);
                p.sparsity = metrics.total.parameter_sparsity;
                p.structural_sparsity = metrics.total.structural_sparsity;
                p.accuracy = ev->accuracy;
                p.loss = ev->loss;
                for (guint i = 0; i < model->n_layers; i++)
                  p.layer_sparsity[i] = metrics.layers[i].parameter_sparsity;
              }

            results[c] = json_array_new ();
            json_array_add_element (results[c], point_json (&p, n_layers));
            complete[c] = TRUE;
            /* the scores' time goes to the first point made from them */
            point_seconds[c] = (g_get_monotonic_time () - t_point) / 1e6 + scores_seconds;
            scores_seconds = 0.0;
            if (g.results_dir != NULL
                && !pl_results_save_point (g.results_dir, grid, c, results[c], point_seconds[c], &error))
              return _pl_cli_fail (error);
            /* (after the save: a point shown is a point kept) */
            print_point (&p);
          }
      }

  loop_seconds = (g_get_monotonic_time () - t_loop) / 1e6;
  if (g.results_dir != NULL)
    g_printerr (_("prunelab-cli: %u of %u grid points were in “%s” already\n"), n_found, n_mine,
                g.results_dir);
  if (interrupted)
    g_printerr (_("prunelab-cli: sweep interrupted; reporting the points that finished\n"));

  if (a.json || plot != NULL || csv != NULL)
    {
      g_autoptr(GString) csv_text = NULL;
      g_autoptr(JsonBuilder) b = NULL;
      g_autoptr(JsonObject) shard = NULL;

      /* a shard's result holds its finished grid points alone, so that a merge never takes
       * the first levels of a preview for all of them */
      if (g.shard != NULL)
        {
          g_autofree guint *done = g_new (guint, n_grid);
          g_autofree guint *counts = g_new (guint, n_grid);
          g_autofree double *secs = g_new (double, n_grid);
          guint n_done = 0;

          for (guint c = 0; c < n_grid; c++)
            if (results[c] != NULL && !complete[c])
              g_clear_pointer (&results[c], json_array_unref);
            else if (results[c] != NULL)
              {
                done[n_done] = c;
                counts[n_done] = json_array_get_length (results[c]);
                secs[n_done++] = point_seconds[c];
              }
          shard = pl_shard_to_json (grid, g.index, g.count, done, counts, secs, n_done);
        }
      csv_text = csv != NULL ? _pl_cli_grid_csv ("sweep", results, n_grid) : NULL;
      b = _pl_cli_grid_result ("sweep", head, tail, interrupted, results, n_grid,
                               (g_get_monotonic_time () - t0) / 1e6, loop_seconds, shard);
      if (!_pl_cli_emit_result (b, a.json, plot, csv, csv_text, &error))
        return _pl_cli_fail (error);
    }

  return interrupted ? PL_EXIT_INTERRUPTED : PL_EXIT_OK;
}
