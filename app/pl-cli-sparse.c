/* pl-cli-sparse.c — prunelab-cli bench sparse: what pruning buys, measured
 *
 * Latency, FLOPs and bytes of the dense (masked), CSR and compacted forward passes
 * (engine/pl-latency.h) for a model as pruned, across magnitude sparsities with --sweep, and
 * the time of one masked fine-tuning epoch with dense and with sparse passes (--fine-tune).
 */
#define G_LOG_DOMAIN "prunelab-cli"

#include "config.h"

#include <glib/gi18n.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "pl-chart-export.h"
#include "pl-conv-file.h"
#include "pl-cli-plot-private.h"
#include "pl-cli-private.h"
#include "pl-error.h"
#include "pl-latency.h"
#include "pl-prune.h"
#include "pl-rng.h"
#include "pl-safetensors.h"
#include "pl-score.h"
#include "pl-train.h"

typedef struct {
  double     sparsity;     /* parameter sparsity reached */
  PlLatency  lat;
} Point;

/* Prunes @model globally by magnitude to @sparsity from all-ones masks (weights already 0
 * score lowest, so a pruned model keeps its zeros first). */
static gboolean
prune_magnitude (PlMlp   *model,
                 double   sparsity,
                 GError **error)
{
  g_autoptr(PlScores) scores = NULL;
  PlPruneSpec spec;

  for (gsize k = 0; k < model->n_params; k++)
    model->masks[k] = 1.0f;
  pl_mlp_apply_masks (model);
  if (sparsity <= 0.0)
    return TRUE;
  scores = pl_scores_compute (model, PL_SCORE_MAGNITUDE, NULL, NULL, error);
  if (scores == NULL)
    return FALSE;
  pl_prune_spec_init (&spec, PL_SCOPE_GLOBAL, FALSE, sparsity);
  return pl_prune_apply (model, scores, &spec, error);
}

#define MAX_INPUTS 1024   /* test samples of --data the forwards cycle through */

static gboolean
measure (PlMlp      *model,
         const PlDataset *inputs,
         const int  *batches,
         guint       n_batches,
         guint       threads,
         guint       rounds,
         GArray     *points,
         GError    **error)
{
  int max_batch = 1;
  g_autoptr(PlForwards) fw = NULL;
  PlMetrics metrics;

  for (guint b = 0; b < n_batches; b++)
    max_batch = MAX (max_batch, batches[b]);
  pl_metrics_compute (&metrics, model, NULL, NULL, NULL);
  fw = pl_forwards_new (model, (guint) max_batch, threads);
  if (inputs != NULL)
    pl_forwards_set_inputs (fw, inputs->x, MIN (inputs->n, MAX_INPUTS));
  for (guint b = 0; b < n_batches; b++)
    {
      Point p = { .sparsity = metrics.total.parameter_sparsity };

      if (!pl_latency_measure (fw, (guint) batches[b], rounds, &p.lat, _pl_cli_cancellable (), error))
        return FALSE;
      g_printerr (_("  sparsity %5.1f%%, batch %3u: dense %8.3f ms, CSR %8.3f ms (%.2fx), compacted %8.3f ms (%.2fx)\n"),
                  100 * p.sparsity, p.lat.batch, p.lat.ms[0], p.lat.ms[1], p.lat.ms[0] / p.lat.ms[1],
                  p.lat.ms[2], p.lat.ms[0] / p.lat.ms[2]);
      g_array_append_val (points, p);
    }
  return TRUE;
}

static void
add_point (JsonBuilder *b,
           const Point *p)
{
  json_builder_begin_object (b);
  _pl_cli_add_double (b, "sparsity", p->sparsity);
  _pl_cli_add_int (b, "batch", p->lat.batch);
  for (PlForwardKind k = 0; k < PL_N_FORWARDS; k++)
    {
      const char *name = pl_forward_kind_to_string (k);
      g_autofree char *ms = g_strdup_printf ("%s_ms", name);
      g_autofree char *flops = g_strdup_printf ("%s_flops", name);
      g_autofree char *bytes = g_strdup_printf ("%s_bytes", name);

      _pl_cli_add_double (b, ms, p->lat.ms[k]);
      _pl_cli_add_double (b, flops, p->lat.flops[k]);
      _pl_cli_add_double (b, bytes, p->lat.bytes[k]);
    }
  _pl_cli_add_double (b, "csr_speedup", p->lat.ms[0] / p->lat.ms[1]);
  _pl_cli_add_double (b, "compacted_speedup", p->lat.ms[0] / p->lat.ms[2]);
  _pl_cli_add_double (b, "worst_difference", p->lat.worst_difference);
  json_builder_end_object (b);
}

/* The sparsity from which CSR is faster than dense at every sweep point after, by linear
 * interpolation of the speed-up between the last point where it loses and the next; NaN when
 * it never wins, 0 when it always does. */
static double
break_even (const Point *pts,
            guint        n)
{
  guint first = n;

  for (guint i = n; i-- > 0;)
    {
      if (pts[i].lat.ms[1] >= pts[i].lat.ms[0])
        break;
      first = i;
    }
  if (first == n)
    return NAN;
  if (first == 0)
    return 0.0;
  {
    double r0 = pts[first - 1].lat.ms[0] / pts[first - 1].lat.ms[1];
    double r1 = pts[first].lat.ms[0] / pts[first].lat.ms[1];
    double s0 = pts[first - 1].sparsity, s1 = pts[first].sparsity;

    return r1 > r0 ? s0 + (1.0 - r0) / (r1 - r0) * (s1 - s0) : s1;
  }
}

/* Latency relative to the dense forward measured beside it at the same sparsity (a ratio
 * taken side by side, which load on the machine disturbs least), one curve per sparse form and
 * batch, and the FLOP line: effective FLOPs / dense FLOPs, the ratio if time followed work. */
static gboolean
plot_sweep (const char   *path,
            const Point  *pts,
            guint         n_levels,
            const int    *batches,
            guint         n_batches,
            GError      **error)
{
  guint n_curves = n_batches * (PL_N_FORWARDS - 1) + 1;
  g_autofree PlCurve *curves = g_new0 (PlCurve, n_curves);
  g_autofree double *xs = g_new (double, n_levels);
  g_autofree double *ys = g_new (double, (gsize) n_levels * n_curves);
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  static const char *form_names[] = { NULL, N_("CSR"), N_("compacted") };
  PlCurveSet set = { 0 };
  PlChart chart = { PL_CHART_CURVES, &set };
  PlChartStyle style;
  PlChartFormat format;

  if (!pl_chart_format_from_path (path, &format, error))
    return FALSE;
  for (guint l = 0; l < n_levels; l++)
    xs[l] = pts[(gsize) l * n_batches].sparsity;
  for (guint b = 0; b < n_batches; b++)
    for (PlForwardKind k = PL_FORWARD_CSR; k < PL_N_FORWARDS; k++)
      {
        guint c = b * (PL_N_FORWARDS - 1) + k - 1;
        double *y = ys + (gsize) c * n_levels;

        for (guint l = 0; l < n_levels; l++)
          {
            const PlLatency *lat = &pts[(gsize) l * n_batches + b].lat;

            y[l] = lat->ms[k] / lat->ms[PL_FORWARD_DENSE];
          }
        g_ptr_array_add (names, g_strdup_printf (_("%s, batch %d"), _(form_names[k]), batches[b]));
        curves[c] = (PlCurve) { g_ptr_array_index (names, c), n_levels, xs, y, NULL, NULL };
      }
  {
    double *y = ys + (gsize) (n_curves - 1) * n_levels;

    for (guint l = 0; l < n_levels; l++)
      y[l] = pts[(gsize) l * n_batches].lat.flops[PL_FORWARD_CSR] / pts[(gsize) l * n_batches].lat.flops[PL_FORWARD_DENSE];
    curves[n_curves - 1] = (PlCurve) { _("FLOPs (theory)"), n_levels, xs, y, NULL, NULL };
  }

  set.title = _("Forward latency against sparsity");
  set.x_label = _("share of weights remaining (global magnitude pruning)");
  set.y_label = _("latency / dense (masked) latency");
  set.n_curves = n_curves;
  set.curves = curves;
  set.reference = 1.0;
  set.reference_label = _("dense (masked)");
  set.log_remaining = TRUE;
  set.y_format = PL_CHART_NUMBER_PLAIN;
  pl_chart_style_init (&style, PL_CHART_THEME_LIGHT);
  return pl_chart_export (&chart, &style, path, format, 1200, 800, 96.0, error);
}

/* Seconds of one masked fine-tuning epoch (SGD with momentum, batch 128) of @model on @data,
 * with the dense passes (dense_only) and with the sparse ones: medians of @rounds, alternating. */
static gboolean
time_fine_tune (const PlMlp     *model,
                const PlDataset *data,
                guint            threads,
                guint            rounds,
                double          *dense_s,
                double          *sparse_s,
                GError         **error)
{
  g_autofree double *t = g_new (double, 2 * (gsize) rounds);

  for (guint r = 0; r < rounds; r++)
    for (guint sparse = 0; sparse <= 1; sparse++)
      {
        g_autoptr(PlMlp) m = pl_mlp_copy (model);
        g_autoptr(PlTrainer) trainer = NULL;
        PlTrainConfig c;
        gint64 t0;

        pl_train_config_init (&c);
        c.epochs = 1;
        c.lr = 0.01;
        c.threads = threads;
        c.dense_only = !sparse;
        trainer = pl_trainer_new (m, &c);
        t0 = g_get_monotonic_time ();
        if (!pl_trainer_run (trainer, data, NULL, NULL, NULL, _pl_cli_cancellable (), error))
          return FALSE;
        t[sparse * rounds + r] = (g_get_monotonic_time () - t0) / 1e6;
      }
  for (guint sparse = 0; sparse <= 1; sparse++)
    {
      double *v = t + sparse * rounds;

      for (guint i = 1; i < rounds; i++)
        for (guint j = i; j > 0 && v[j - 1] > v[j]; j--)
          {
            double x = v[j];

            v[j] = v[j - 1];
            v[j - 1] = x;
          }
      *(sparse ? sparse_s : dense_s) = rounds % 2 ? v[rounds / 2] : 0.5 * (v[rounds / 2 - 1] + v[rounds / 2]);
    }
  return TRUE;
}

int
_pl_cli_bench_sparse (int    argc,
                      char **argv)
{
  g_autofree char *model_path = NULL;
  g_autofree char *plot = NULL;
  g_autofree char *out = NULL;
  PlCliNumbers batch_list = { 2, { 1, 256 } };
  double sparsity = -1.0;
  int threads = 1, rounds = 15, points = 12, samples = 60000, ft_rounds = 3;
  gboolean json = FALSE, sweep = FALSE, fine_tune = FALSE;
  const PlCliOption options[] = {
    { "model", 'm', PL_CLI_FILENAME, &model_path,
      N_("Model to measure, as pruned (safetensors; default: a He-initialised 784-300-100-10)"), N_("FILE") },
    { "sparsity", 0, PL_CLI_DOUBLE, &sparsity,
      N_("Prune to this sparsity first (global magnitude, from the model's weights)"), N_("X"), PL_CLI_IN (0, 1) },
    { "batch", 'b', PL_CLI_INTS, &batch_list, N_("Batch sizes (default 1,256)"), N_("LIST"),
      PL_CLI_WHOLES (1, PL_CLI_MAX_BATCH, 16) },
    { "threads", 't', PL_CLI_INT, &threads, N_("Threads of OpenBLAS and of the CSR products (default 1)"), N_("N"),
      PL_CLI_WHOLE (1, PL_CLI_MAX_THREADS) },
    { "rounds", 'r', PL_CLI_INT, &rounds, N_("Timed rounds of each form; the median is reported (default 15)"), N_("N"),
      PL_CLI_WHOLE (1, 1000) },
    { "sweep", 0, PL_CLI_FLAG, &sweep,
      N_("Measure at --points sparsities from 0 to 99% (global magnitude) and report where CSR breaks even"), NULL },
    { "points", 0, PL_CLI_INT, &points, N_("Sparsities of --sweep, evenly spaced in log “fraction remaining” (default 12)"), N_("N"),
      PL_CLI_WHOLE (2, 100) },
    { "plot", 0, PL_CLI_FILENAME, &plot, N_("With --sweep: draw latency against sparsity (.png, .svg, .pdf)"), N_("FILE") },
    { "fine-tune", 0, PL_CLI_FLAG, &fine_tune,
      N_("Also time one masked fine-tuning epoch, dense passes against sparse ones"), NULL },
    { "samples", 0, PL_CLI_INT, &samples, N_("Training samples of --fine-tune (random, Fashion-MNIST-shaped; default 60000)"), N_("N"),
      PL_CLI_WHOLE (1, 1000000) },
    { "out", 'o', PL_CLI_FILENAME, &out, N_("Save the model as measured (safetensors, with masks)"), N_("FILE") },
    { "json", 0, PL_CLI_FLAG, &json, N_("Print the result as one JSON object on stdout"), NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new (NULL);
  g_auto(PlCliDataArgs) data_args = PL_CLI_DATA_ARGS_INIT;
  g_autoptr(PlData) input_data = NULL;
  const PlDataset *inputs = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(PlMlp) model = NULL;
  g_autoptr(PlMlp) weights = NULL;
  g_autoptr(GArray) pts = g_array_new (FALSE, FALSE, sizeof (Point));
  g_autoptr(GArray) sweep_pts = g_array_new (FALSE, FALSE, sizeof (Point));
  g_autoptr(JsonBuilder) b = json_builder_new ();
  int batches[16];
  guint n_batches;
  double ft_dense = NAN, ft_sparse = NAN;
  g_autofree char *arch = NULL;

  g_option_context_set_summary (context,
    _("Measure what pruning buys: the median latency of the forward pass as dense sgemv/sgemm on the\n"
      "masked weights, as CSR and as the compacted network, with the FLOPs and bytes of each; with\n"
      "--sweep across sparsities, with --fine-tune the time of a masked training epoch."));
  _pl_cli_add_options (context, options, NULL);
  _pl_cli_add_data_options (context, &data_args);
  if (!_pl_cli_parse (context, &argc, &argv))
    return PL_EXIT_USAGE;
  if (plot != NULL && !sweep)
    return _pl_cli_usage (_("--plot draws the sweep: add --sweep"));
  if (plot != NULL && !_pl_cli_plot_check (plot, &error))
    return _pl_cli_fail (error);
  if (!_pl_cli_check_output (out, &error))
    return _pl_cli_fail (error);
  n_batches = batch_list.n;
  for (guint i = 0; i < n_batches; i++)
    batches[i] = (int) batch_list.values[i];

  if (model_path != NULL && pl_conv_file_is_conv (model_path))
    {
      if (sweep || fine_tune)
        return _pl_cli_usage (_("--sweep and --fine-tune time the CSR forms of dense layers; a convolutional network is timed as pruned and compacted"));
      return _pl_cli_bench_sparse_conv (model_path, sparsity, batches, n_batches, (guint) threads,
                                        (guint) rounds, &data_args, out, json);
    }

  if (model_path != NULL)
    model = pl_safetensors_load (model_path, &error);
  else if ((model = pl_mlp_new_from_arch ("784-300-100-10", PL_ACTIVATION_RELU, &error)) != NULL)
    pl_mlp_init (model, 1);
  if (model == NULL)
    return _pl_cli_fail (error);
  pl_mlp_apply_masks (model);
  weights = pl_mlp_copy (model);
  if (sparsity >= 0.0 && !prune_magnitude (model, sparsity, &error))
    return _pl_cli_fail (error);
  if (out != NULL && !pl_safetensors_save (model, out, &error))
    return _pl_cli_fail (error);
  arch = pl_mlp_arch (model);
  if (data_args.spec != NULL)
    {
      input_data = _pl_cli_load_data (&data_args, &error);
      if (input_data == NULL)
        return _pl_cli_fail (error);
      if (input_data->n_features != model->sizes[0] || input_data->test->n == 0)
        return _pl_cli_usage (_("--data must have test samples with as many features as the model has inputs"));
      inputs = input_data->test;
    }

  g_printerr (_("bench sparse: %s, %d thread(s), OpenBLAS core %s, medians of %d rounds, inputs: %s\n"),
              arch, threads, _pl_cli_blas_core (), rounds,
              inputs != NULL ? data_args.spec : _("random, uniform in [0, 1)"));
  if (!measure (model, inputs, batches, n_batches, (guint) threads, (guint) rounds, pts, &error))
    return _pl_cli_fail (error);

  if (sweep)
    for (int i = 0; i < points; i++)
      {
        g_autoptr(PlMlp) m = pl_mlp_copy (weights);
        /* 1 − (1 − 0.99)^(i/(P−1)): the levels of prunelab-cli sweep, even steps in log
         * "fraction remaining" */
        double s = i == 0 ? 0.0 : 1.0 - pow (0.01, (double) i / (points - 1));

        if (!prune_magnitude (m, s, &error)
            || !measure (m, inputs, batches, n_batches, (guint) threads, (guint) rounds, sweep_pts, &error))
          return _pl_cli_fail (error);
      }

  if (fine_tune)
    {
      g_autoptr(PlDataset) data = pl_dataset_new ((guint) samples, model->sizes[0], model->sizes[model->n_layers]);
      PlRng rng;

      pl_rng_init (&rng, 7);
      for (gsize k = 0; k < (gsize) data->n * data->n_features; k++)
        data->x[k] = (float) pl_rng_uniform (&rng);
      for (guint s = 0; s < data->n; s++)
        data->y[s] = (guint32) pl_rng_below (&rng, data->n_classes);
      if (!time_fine_tune (model, data, (guint) threads, (guint) ft_rounds, &ft_dense, &ft_sparse, &error))
        return _pl_cli_fail (error);
      g_printerr (_("  fine-tuning one epoch of %d samples, batch 128: dense masked %.3f s, sparse %.3f s (%.2fx)\n"),
                  samples, ft_dense, ft_sparse, ft_dense / ft_sparse);
    }

  json_builder_begin_object (b);
  _pl_cli_add_string (b, "command", "bench sparse");
  _pl_cli_add_string (b, "arch", arch);
  _pl_cli_add_string (b, "blas_core", _pl_cli_blas_core ());
  _pl_cli_add_string (b, "inputs", inputs != NULL ? data_args.spec : "random");
  _pl_cli_add_int (b, "threads", threads);
  _pl_cli_add_int (b, "rounds", rounds);
  json_builder_set_member_name (b, "model");
  json_builder_begin_array (b);
  for (guint i = 0; i < pts->len; i++)
    add_point (b, &g_array_index (pts, Point, i));
  json_builder_end_array (b);
  if (sweep)
    {
      json_builder_set_member_name (b, "sweep");
      json_builder_begin_array (b);
      for (guint i = 0; i < sweep_pts->len; i++)
        add_point (b, &g_array_index (sweep_pts, Point, i));
      json_builder_end_array (b);
      json_builder_set_member_name (b, "break_even");
      json_builder_begin_array (b);
      for (guint bi = 0; bi < n_batches; bi++)
        {
          g_autofree Point *col = g_new (Point, points);
          double s;

          for (int l = 0; l < points; l++)
            col[l] = g_array_index (sweep_pts, Point, (gsize) l * n_batches + bi);
          s = break_even (col, (guint) points);
          g_printerr (_("  batch %d: CSR beats dense from %.1f%% sparsity on\n"), batches[bi], 100 * s);
          json_builder_begin_object (b);
          _pl_cli_add_int (b, "batch", batches[bi]);
          _pl_cli_add_double (b, "sparsity", s);
          json_builder_end_object (b);
        }
      json_builder_end_array (b);
      if (plot != NULL
          && !plot_sweep (plot, (const Point *) sweep_pts->data, (guint) points, batches, n_batches, &error))
        return _pl_cli_fail (error);
    }
  if (fine_tune)
    {
      json_builder_set_member_name (b, "fine_tune");
      json_builder_begin_object (b);
      _pl_cli_add_int (b, "samples", samples);
      _pl_cli_add_int (b, "batch", 128);
      _pl_cli_add_double (b, "dense_seconds", ft_dense);
      _pl_cli_add_double (b, "sparse_seconds", ft_sparse);
      _pl_cli_add_double (b, "speedup", ft_dense / ft_sparse);
      json_builder_end_object (b);
    }
  json_builder_end_object (b);
  if (json)
    _pl_cli_print_json (b);

  return PL_EXIT_OK;
}
