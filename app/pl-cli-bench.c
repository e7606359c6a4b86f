/* pl-cli-bench.c — prunelab-cli bench train: training throughput against the sgemm bound;
 * bench drag: the live preview's milliseconds per drag position, MLPs and conv nets */
#define G_LOG_DOMAIN "prunelab-cli"

#include "config.h"

#include <cblas.h>
#include <glib/gi18n.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "pl-cli-private.h"
#include "pl-conv-file.h"
#include "pl-conv-preview.h"
#include "pl-conv-prune.h"
#include "pl-conv-train.h"
#include "pl-eval.h"
#include "pl-preview.h"
#include "pl-rng.h"
#include "pl-safetensors.h"
#include "pl-score.h"
#include "pl-train.h"

static int
compare_double (gconstpointer a,
                gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return (x > y) - (x < y);
}

static double
median (double *v,
        guint   n)
{
  qsort (v, n, sizeof (double), compare_double);
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* Floating-point operations of one training sample: forward, weight gradients and the input
 * gradients of every layer but the first (2 per multiply-add). */
static double
flops_per_sample (const PlMlp *model)
{
  double f = 0.0;

  for (guint i = 0; i < model->n_layers; i++)
    {
      double mac = (double) model->sizes[i] * model->sizes[i + 1];

      f += 2 * mac * (i > 0 ? 3 : 2);
    }

  return f;
}

/* The same for a conv net: each conv layer's forward, weight gradient and (but for the
 * first) input gradient are 2·c_out·(c_in·k²)·(h_out·w_out) each, then the head's; pools and
 * activations not counted. */
static double
conv_flops_per_sample (const PlConvNet *net)
{
  double f = flops_per_sample (net->head);
  gboolean first = TRUE;

  for (guint i = 0; i < net->n_layers; i++)
    {
      const PlConvLayer *l = &net->layers[i];

      if (l->kind != PL_CONV_LAYER_CONV)
        continue;
      f += 2.0 * l->c_out * l->c_in * l->k * l->k * l->h_out * l->w_out * (first ? 2 : 3);
      first = FALSE;
    }
  return f;
}

/* One product C (m, n) = A (m, k) · B (k, n), row-major, as the training step's calls are
 * shaped. */
static void
product (guint        m,
         guint        n,
         guint        k,
         const float *a,
         const float *b,
         float       *c)
{
  cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0f, a, k, b, n, 0.0f, c, n);
}

/* Samples per second that a conv training step's matrix products alone reach on one thread,
 * the products of im2col per conv layer over the whole batch — forward (c_out) × (c_in·k²) by
 * (c_in·k²) × (pixels), weight gradient (c_out) × (pixels) by (pixels) × (c_in·k²), input
 * gradient (c_in·k²) × (c_out) by (c_out) × (pixels) but for the first layer — then the head's
 * three products per layer as sgemm_bound() times them. The trainer multiplies blocks of
 * samples that fit the L2 cache, so its products are smaller: a bound, not a replay. */
static double
conv_sgemm_bound (const PlConvNet *net,
                  guint            batch,
                  guint            repeats,
                  guint            steps)
{
  g_autofree double *rates = g_new0 (double, repeats);
  g_autofree float *block = NULL;
  gsize most = 0;
  float *a, *b, *c;

  for (guint i = 0; i < net->n_layers; i++)
    {
      const PlConvLayer *l = &net->layers[i];
      gsize pixels = (gsize) l->h_out * l->w_out * batch;
      gsize patch = (gsize) l->c_in * l->k * l->k;

      if (l->kind == PL_CONV_LAYER_CONV)
        most = MAX (most, MAX (pixels * patch, MAX (pixels * l->c_out, patch * l->c_out)));
    }
  for (guint i = 0; i <= net->head->n_layers; i++)
    most = MAX (most, (gsize) batch * net->head->sizes[i] + (gsize) net->head->sizes[i] * net->head->sizes[MIN (i + 1, net->head->n_layers)]);
  block = g_new (float, 3 * most);
  for (gsize k = 0; k < 3 * most; k++)
    block[k] = 0.01f * (k % 97);
  a = block;
  b = a + most;
  c = b + most;

  openblas_set_num_threads (1);
  for (guint r = 0; r <= repeats; r++)
    {
      gint64 t0 = g_get_monotonic_time ();

      for (guint s = 0; s < steps; s++)
        {
          gboolean first = TRUE;

          for (guint i = 0; i < net->n_layers; i++)
            {
              const PlConvLayer *l = &net->layers[i];
              guint pixels = l->h_out * l->w_out * batch, patch = l->c_in * l->k * l->k;

              if (l->kind != PL_CONV_LAYER_CONV)
                continue;
              product (l->c_out, pixels, patch, a, b, c);
              product (l->c_out, patch, pixels, c, b, a);
              if (!first)
                product (patch, pixels, l->c_out, a, c, b);
              first = FALSE;
            }
          for (guint i = 0; i < net->head->n_layers; i++)
            {
              const PlLayer *l = &net->head->layers[i];

              product (batch, l->n_out, l->n_in, a, b, c);
              product (l->n_out, l->n_in, batch, c, a, b);
              if (i > 0)
                product (batch, l->n_in, l->n_out, c, b, a);
            }
        }
      /* the first round warms up */
      if (r > 0)
        rates[r - 1] = (double) steps * batch / ((g_get_monotonic_time () - t0) / 1e6);
    }

  return median (rates, repeats);
}

/* Samples per second that the training step's matrix products alone reach on one thread:
 * the same sgemm calls, shapes and batch as pl_nn_forward and pl_nn_backward. */
static double
sgemm_bound (const PlMlp *model,
             guint        batch,
             guint        repeats,
             guint        steps)
{
  g_autofree float *block = NULL;
  g_autofree double *rates = g_new0 (double, repeats);
  guint wmax = 0;
  float *a, *b, *c;

  for (guint i = 0; i <= model->n_layers; i++)
    wmax = MAX (wmax, model->sizes[i]);
  block = g_new0 (float, 3 * (gsize) batch * wmax + (gsize) wmax * wmax);
  a = block;
  b = a + (gsize) batch * wmax;
  c = b + (gsize) batch * wmax;
  for (gsize k = 0; k < 3 * (gsize) batch * wmax; k++)
    block[k] = 0.01f * (k % 97);

  openblas_set_num_threads (1);
  for (guint r = 0; r <= repeats; r++)
    {
      gint64 t0 = g_get_monotonic_time ();

      for (guint s = 0; s < steps; s++)
        for (guint i = 0; i < model->n_layers; i++)
          {
            const PlLayer *l = &model->layers[i];

            cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, batch, l->n_out, l->n_in,
                         1.0f, a, l->n_in, l->w, l->n_in, 0.0f, b, l->n_out);
            cblas_sgemm (CblasRowMajor, CblasTrans, CblasNoTrans, l->n_out, l->n_in, batch,
                         1.0f, b, l->n_out, a, l->n_in, 1.0f, c, l->n_in);
            if (i > 0)
              cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, batch, l->n_in, l->n_out,
                           1.0f, b, l->n_out, l->w, l->n_in, 0.0f, a, l->n_in);
          }
      /* the first round warms up */
      if (r > 0)
        rates[r - 1] = (double) steps * batch / ((g_get_monotonic_time () - t0) / 1e6);
    }

  return median (rates, repeats);
}

/* GFLOP/s of one large square sgemm on one thread: what OpenBLAS reaches on this core when
 * packing and call overheads no longer count, a ceiling for any training step built on it. */
static double
sgemm_peak_gflops (void)
{
  const guint n = 1536;
  g_autofree float *a = g_new (float, 3 * (gsize) n * n);
  double rates[5];

  for (gsize k = 0; k < 3 * (gsize) n * n; k++)
    a[k] = 0.01f * (k % 89);
  openblas_set_num_threads (1);
  for (guint r = 0; r <= G_N_ELEMENTS (rates); r++)
    {
      gint64 t0 = g_get_monotonic_time ();

      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n,
                   1.0f, a, n, a + (gsize) n * n, n, 0.0f, a + 2 * (gsize) n * n, n);
      /* the first round warms up */
      if (r > 0)
        rates[r - 1] = 2.0 * n * n * n / ((g_get_monotonic_time () - t0) / 1e6) / 1e9;
    }

  return median (rates, G_N_ELEMENTS (rates));
}

static int
bench_train (int    argc,
             char **argv)
{
  g_autofree char *arch = NULL;
  PlCliNumbers threads = { 2, { 1, 2 } };
  int batch = 128, steps = 100, repeats = 9;
  gboolean json = FALSE;
  const PlCliOption options[] = {
    { "arch", 'a', PL_CLI_STRING, &arch, N_("Layer sizes (default 784-300-100-10), or a convolutional network such as lenet5"), N_("SIZES") },
    { "batch", 'b', PL_CLI_INT, &batch, N_("Minibatch size (default 128)"), N_("N"), PL_CLI_WHOLE (1, PL_CLI_MAX_BATCH) },
    { "steps", 0, PL_CLI_INT, &steps, N_("Training steps per timed repeat (default 100)"), N_("N"), PL_CLI_WHOLE (1, 100000) },
    { "repeats", 'r', PL_CLI_INT, &repeats, N_("Timed repeats of each thread count; the median is reported (default 9)"), N_("N"),
      PL_CLI_WHOLE (1, 1000) },
    { "threads", 't', PL_CLI_INTS, &threads, N_("Thread counts to measure (default 1,2)"), N_("LIST"),
      PL_CLI_WHOLES (1, PL_CLI_MAX_THREADS, 16) },
    { "json", 0, PL_CLI_FLAG, &json, N_("Print the result as one JSON object on stdout"), NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new (NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(PlMlp) model = NULL;
  g_autoptr(PlMlp) initial = NULL;
  g_autoptr(PlConvNet) conv = NULL;
  g_autoptr(PlDataset) data = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autofree char *arch_text = NULL;
  PlRng rng;
  g_autofree guint *counts = NULL;
  g_autofree double *rates = NULL;
  guint n_counts, n_in, n_out;
  double flops, bound, peak;

  g_option_context_set_summary (context,
    _("Measure training throughput (samples/s, GFLOP/s) of SGD with momentum on random\n"
      "Fashion-MNIST-shaped data, and its share of what the step's sgemm calls alone reach\n"
      "on one core; --arch takes dense sizes or a convolutional network (lenet5). Medians of\n"
      "the repeats; progress on stderr."));
  _pl_cli_add_options (context, options, NULL);
  if (!_pl_cli_parse (context, &argc, &argv))
    return PL_EXIT_USAGE;
  /* one repeat's worth of samples, Fashion-MNIST-shaped: 10⁶ are 3.1 GB */
  if ((gint64) steps * batch > 1000000)
    return _pl_cli_usage (_("--steps × --batch must be at most 1000000 samples, not %lld"),
                          (long long) steps * batch);

  if (arch != NULL && pl_conv_arch_is_conv (arch))
    {
      conv = pl_conv_net_new_from_arch (arch, PL_ACTIVATION_RELU, &error);
      if (conv == NULL)
        return _pl_cli_fail (error);
      pl_conv_net_init (conv, 1);
      arch_text = pl_conv_net_arch (conv);
      n_in = pl_conv_net_n_inputs (conv);
      n_out = pl_conv_net_n_outputs (conv);
    }
  else
    {
      model = pl_mlp_new_from_arch (arch != NULL ? arch : "784-300-100-10", PL_ACTIVATION_RELU, &error);
      if (model == NULL)
        return _pl_cli_fail (error);
      pl_mlp_init (model, 1);
      initial = pl_mlp_copy (model);
      arch_text = pl_mlp_arch (model);
      n_in = model->sizes[0];
      n_out = model->sizes[model->n_layers];
    }

  /* Fashion-MNIST-shaped: pixels in [0, 1], 10 classes, one repeat's worth of samples */
  data = pl_dataset_new ((guint) steps * batch, n_in, n_out);
  pl_rng_init (&rng, 7);
  for (gsize k = 0; k < (gsize) data->n * data->n_features; k++)
    data->x[k] = (float) pl_rng_uniform (&rng);
  for (guint s = 0; s < data->n; s++)
    data->y[s] = (guint32) pl_rng_below (&rng, data->n_classes);

  flops = conv != NULL ? conv_flops_per_sample (conv) : flops_per_sample (model);
  bound = conv != NULL ? conv_sgemm_bound (conv, batch, repeats, steps) : sgemm_bound (model, batch, repeats, steps);
  peak = sgemm_peak_gflops ();
  g_printerr (_("bench train: %s, batch %d, OpenBLAS core %s; sgemm alone, 1 thread: %.0f samples/s (%.1f GFLOP/s; a 1536³ sgemm reaches %.1f)\n"),
              arch_text, batch, _pl_cli_blas_core (), bound, bound * flops / 1e9, peak);

  json_builder_begin_object (b);
  _pl_cli_add_string (b, "command", "bench train");
  _pl_cli_add_string (b, "arch", arch_text);
  _pl_cli_add_int (b, "batch", batch);
  _pl_cli_add_string (b, "blas_core", _pl_cli_blas_core ());
  _pl_cli_add_double (b, "flops_per_sample", flops);
  _pl_cli_add_double (b, "sgemm_samples_per_second", bound);
  _pl_cli_add_double (b, "sgemm_gflops", bound * flops / 1e9);
  _pl_cli_add_double (b, "sgemm_peak_gflops", peak);
  json_builder_set_member_name (b, "runs");
  json_builder_begin_array (b);

  n_counts = threads.n;
  counts = g_new0 (guint, n_counts);
  rates = g_new0 (double, (gsize) n_counts * repeats);
  for (guint i = 0; i < n_counts; i++)
    counts[i] = (guint) threads.values[i];

  /* The thread counts take turns, a repeat each, so that a change in the machine's load
   * (these machines are shared) falls on all of them alike; the speed-up over one thread is
   * the median of the ratios within each turn. */
  for (int r = 0; r <= repeats; r++)
    for (guint i = 0; i < n_counts; i++)
      {
        PlTrainConfig config;
        double rate;

        if (g_cancellable_is_cancelled (_pl_cli_cancellable ()))
          return PL_EXIT_INTERRUPTED;
        pl_train_config_init (&config);
        config.epochs = 1;
        config.batch_size = (guint) batch;
        config.lr = 0.01;
        config.threads = counts[i];
        if (conv != NULL)
          {
            g_autoptr(PlConvNet) fresh = pl_conv_net_copy (conv);  /* every repeat from the start */
            g_autoptr(PlConvTrainer) trainer = pl_conv_trainer_new (fresh, &config);

            if (!pl_conv_trainer_run (trainer, data, NULL, NULL, NULL, _pl_cli_cancellable (), &error))
              return _pl_cli_fail (error);
            rate = pl_conv_trainer_get_samples_seen (trainer) / pl_conv_trainer_get_train_seconds (trainer);
          }
        else
          {
            g_autoptr(PlTrainer) trainer = NULL;

            pl_mlp_copy_from (model, initial);
            trainer = pl_trainer_new (model, &config);
            if (!pl_trainer_run (trainer, data, NULL, NULL, NULL, _pl_cli_cancellable (), &error))
              return _pl_cli_fail (error);
            rate = pl_trainer_get_samples_seen (trainer) / pl_trainer_get_train_seconds (trainer);
          }
        /* the first turn warms up */
        if (r > 0)
          rates[i * repeats + r - 1] = rate;
      }

  for (guint i = 0; i < n_counts; i++)
    {
      g_autofree double *sorted = g_memdup2 (rates + i * repeats, sizeof (double) * repeats);
      g_autofree double *ratios = g_new (double, repeats);
      double rate = median (sorted, repeats);
      double speedup = NAN;
      guint one = 0;

      while (one < n_counts && counts[one] != 1)
        one++;
      if (one < n_counts)
        {
          for (int r = 0; r < repeats; r++)
            ratios[r] = rates[i * repeats + r] / rates[one * repeats + r];
          speedup = median (ratios, repeats);
        }

      g_printerr (_("  %2u thread(s): %.0f samples/s, %.1f GFLOP/s, %.0f%% of the per-core sgemm bound, %.2f× one thread\n"),
                  counts[i], rate, rate * flops / 1e9, 100 * rate / (bound * counts[i]), speedup);

      json_builder_begin_object (b);
      _pl_cli_add_int (b, "threads", counts[i]);
      _pl_cli_add_double (b, "samples_per_second", rate);
      _pl_cli_add_double (b, "gflops", rate * flops / 1e9);
      _pl_cli_add_double (b, "share_of_sgemm_bound", rate / (bound * counts[i]));
      _pl_cli_add_double (b, "speedup_over_one_thread", speedup);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);

  if (json)
    _pl_cli_print_json (b);

  return PL_EXIT_OK;
}

static double
percentile (double *v,
            guint   n,
            double  q)
{
  qsort (v, n, sizeof (double), compare_double);
  return v[MIN (n - 1, (guint) ceil (q * n) - 1)];
}

/* The sparsity of drag position @i of @positions: 0 → 99% over the first half, back after. */
static double
drag_position (int i,
               int positions)
{
  int half = positions / 2;

  return i < half ? 0.99 * i / MAX (half - 1, 1) : 0.99 * (positions - 1 - i) / MAX (positions - half - 1, 1);
}

/* bench drag on a conv net: a PlConvPreview (global magnitude) along the drag, every 10th
 * position of the first pass checked against pl_conv_prune_magnitude + pl_conv_evaluate of a
 * pruned copy, the second pass timed. The net is loaded, or trained on --data, or (without
 * data) freshly initialised on random Fashion-MNIST-shaped data. */
static int
bench_drag_conv (const char    *arch,
                 const char    *model_path,
                 PlCliDataArgs *data_args,
                 int            threads,
                 int            positions,
                 int            n_eval,
                 int            train_epochs,
                 gboolean       json)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PlConvNet) net = NULL;
  g_autoptr(PlData) data = NULL;
  g_autoptr(PlDataset) random_eval = NULL;
  g_autoptr(PlConvPreview) preview = NULL;
  g_autofree double *ms = g_new0 (double, positions);
  g_autofree double *ms_head = g_new0 (double, positions);
  g_autofree double *ms_conv = g_new0 (double, positions);
  g_autofree char *arch_text = NULL;
  const PlDataset *eval;
  double worst_loss = 0.0, setup_ms, train_seconds = 0.0, dense_accuracy;
  guint checked = 0, mismatched = 0, n_head = 0, n_conv = 0;
  gint64 t0;

  if (model_path != NULL)
    net = pl_conv_net_load (model_path, &error);
  else
    {
      net = pl_conv_net_new_from_arch (arch, PL_ACTIVATION_RELU, &error);
      if (net != NULL)
        pl_conv_net_init (net, 1);
    }
  if (net == NULL)
    return _pl_cli_fail (error);
  arch_text = pl_conv_net_arch (net);

  if (data_args->spec != NULL)
    {
      data = _pl_cli_load_data (data_args, &error);
      if (data == NULL)
        return _pl_cli_fail (error);
      eval = data->test;
      if (model_path == NULL && train_epochs > 0)
        {
          g_autoptr(PlConvTrainer) trainer = NULL;
          PlTrainConfig config;

          /* issue 17's recipe: SGD 0.05, momentum 0.9, batch 128 */
          pl_train_config_init (&config);
          config.epochs = (guint) train_epochs;
          config.batch_size = 128;
          config.lr = 0.05;
          config.momentum = 0.9;
          config.threads = (guint) threads;
          g_printerr (_("bench drag: training %s for %d epoch(s) on %s…\n"), arch_text, train_epochs, data->name);
          trainer = pl_conv_trainer_new (net, &config);
          if (!pl_conv_trainer_run (trainer, data->train, NULL, NULL, NULL, _pl_cli_cancellable (), &error))
            return _pl_cli_fail (error);
          train_seconds = pl_conv_trainer_get_train_seconds (trainer);
        }
    }
  else
    {
      PlRng rng;

      /* Fashion-MNIST-shaped: pixels in [0, 1], labels from the classes */
      random_eval = pl_dataset_new ((guint) n_eval, pl_conv_net_n_inputs (net), pl_conv_net_n_outputs (net));
      pl_rng_init (&rng, 11);
      for (gsize k = 0; k < (gsize) random_eval->n * random_eval->n_features; k++)
        random_eval->x[k] = (float) pl_rng_uniform (&rng);
      for (guint s = 0; s < random_eval->n; s++)
        random_eval->y[s] = (guint32) pl_rng_below (&rng, random_eval->n_classes);
      eval = random_eval;
    }

  t0 = g_get_monotonic_time ();
  preview = pl_conv_preview_new (net, NULL, FALSE, eval, (guint) threads, &error);
  if (preview == NULL)
    return _pl_cli_fail (error);
  {
    PlConvPreviewResult r;

    if (!pl_conv_preview_run (preview, 0.0, _pl_cli_cancellable (), &r, &error))
      return _pl_cli_fail (error);
    dense_accuracy = r.accuracy;
  }
  setup_ms = (g_get_monotonic_time () - t0) / 1e3;

  for (int rep = 0; rep < 2; rep++)
    for (int i = 0; i < positions; i++)
      {
        double s = drag_position (i, positions);
        PlConvPreviewResult r;
        gint64 a = g_get_monotonic_time ();

        if (!pl_conv_preview_run (preview, s, _pl_cli_cancellable (), &r, &error))
          return _pl_cli_fail (error);
        ms[i] = (g_get_monotonic_time () - a) / 1e3;
        if (rep == 1)
          {
            if (r.conv_recomputed)
              ms_conv[n_conv++] = ms[i];
            else
              ms_head[n_head++] = ms[i];
          }

        if (rep == 0 && i % 10 == 0)
          {
            g_autoptr(PlConvNet) check = pl_conv_net_copy (net);
            g_autoptr(PlEvaluation) ev = NULL;

            pl_conv_prune_magnitude (check, s, TRUE, FALSE);
            ev = pl_conv_evaluate (check, eval, NULL);
            worst_loss = MAX (worst_loss, fabs (ev->loss - r.loss));
            mismatched += (guint) lround (ev->accuracy * ev->n) != r.n_correct;
            checked++;
          }
      }
  /* (the timed pass is the second: the first warmed up and checked) */

  {
    g_autofree double *sorted = g_memdup2 (ms, sizeof (double) * positions);
    double med = median (sorted, (guint) positions);
    double p95 = percentile (sorted, (guint) positions, 0.95);
    double med_head = n_head > 0 ? median (ms_head, n_head) : NAN;
    double med_conv = n_conv > 0 ? median (ms_conv, n_conv) : NAN;
    g_autoptr(JsonBuilder) b = json_builder_new ();

    g_printerr (_("bench drag: %s, %u samples, %d positions, %d thread(s), OpenBLAS core %s: median %.2f ms, "
                  "95th percentile %.2f ms per position (set-up %.0f ms); %u positions ran the conv layers in full "
                  "(median %.2f ms), %u were incremental (median %.2f ms); checked %u positions against "
                  "full evaluations: loss within %.1e, %u accuracy mismatches\n"),
                arch_text, eval->n, positions, threads, _pl_cli_blas_core (), med, p95, setup_ms,
                n_conv, med_conv, n_head, med_head, checked, worst_loss, mismatched);
    if (worst_loss > 1e-4)
      {
        g_printerr (_("prunelab-cli: the preview disagrees with a full evaluation (loss off by %.2e)\n"), worst_loss);
        return PL_EXIT_FAILED;
      }

    json_builder_begin_object (b);
    _pl_cli_add_string (b, "command", "bench drag");
    _pl_cli_add_string (b, "arch", arch_text);
    _pl_cli_add_int (b, "samples", eval->n);
    _pl_cli_add_int (b, "positions", positions);
    _pl_cli_add_int (b, "threads", threads);
    _pl_cli_add_string (b, "blas_core", _pl_cli_blas_core ());
    _pl_cli_add_double (b, "dense_accuracy", dense_accuracy);
    _pl_cli_add_double (b, "train_seconds", train_seconds);
    _pl_cli_add_double (b, "median_ms", med);
    _pl_cli_add_double (b, "p95_ms", p95);
    _pl_cli_add_double (b, "setup_ms", setup_ms);
    _pl_cli_add_int (b, "full_positions", n_conv);
    _pl_cli_add_double (b, "full_median_ms", med_conv);
    _pl_cli_add_int (b, "incremental_positions", n_head);
    _pl_cli_add_double (b, "incremental_median_ms", med_head);
    _pl_cli_add_double (b, "worst_loss_difference", worst_loss);
    _pl_cli_add_int (b, "accuracy_mismatches", mismatched);
    json_builder_end_object (b);
    if (json)
      _pl_cli_print_json (b);
  }

  return PL_EXIT_OK;
}

/* The live-drag path: 100 positions across 0–99% global magnitude sparsity and back, each a
 * pl_preview_run on the evaluation set, checked against full evaluations first. */
static int
bench_drag (int    argc,
            char **argv)
{
  g_auto(PlCliDataArgs) data_args = PL_CLI_DATA_ARGS_INIT;
  g_autofree char *model_path = NULL;
  g_autofree char *arch = NULL;
  int threads = 2, positions = 100, n_eval = 10000, train_epochs = 1;
  gboolean json = FALSE;
  const PlCliOption options[] = {
    { "model", 'm', PL_CLI_FILENAME, &model_path, N_("Model, an MLP or a conv net (default: a fresh network of --arch)"), N_("FILE") },
    { "arch", 'a', PL_CLI_STRING, &arch, N_("Architecture of a fresh network (default 784-300-100-10); a conv net such as lenet5 is trained on --data first"), N_("SIZES") },
    { "train-epochs", 0, PL_CLI_INT, &train_epochs, N_("Epochs of SGD 0.05, momentum 0.9, batch 128 for a fresh conv net with --data (default 1)"), N_("N"),
      PL_CLI_WHOLE (0, 1000) },
    { "threads", 't', PL_CLI_INT, &threads, N_("Threads (default 2)"), N_("N"), PL_CLI_WHOLE (1, PL_CLI_MAX_THREADS) },
    { "positions", 0, PL_CLI_INT, &positions, N_("Drag positions, half up and half back (default 100)"), N_("N"),
      PL_CLI_WHOLE (2, 100000) },
    { "samples", 0, PL_CLI_INT, &n_eval, N_("Evaluation samples without --data (default 10000)"), N_("N"),
      PL_CLI_WHOLE (1, 100000) },
    { "json", 0, PL_CLI_FLAG, &json, N_("Print the result as one JSON object on stdout"), NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new (NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(PlMlp) model = NULL;
  g_autoptr(PlMlp) check = NULL;
  g_autoptr(PlData) data = NULL;
  g_autoptr(PlDataset) random_eval = NULL;
  g_autoptr(PlScores) scores = NULL;
  g_autoptr(PlPreview) preview = NULL;
  g_autofree double *ms = NULL;
  const PlDataset *eval;
  PlPruneSpec spec;
  double worst_loss = 0.0, setup_ms;
  guint checked = 0, mismatched = 0;
  gint64 t0;

  g_option_context_set_summary (context,
    /* xgettext:no-c-format */
    _("Measure the live threshold drag: previews of global magnitude pruning at positions\n"
      "across 0–99% sparsity and back on an evaluation set; median and 95th percentile.\n"
      "With a conv net (--arch lenet5, or a conv --model) the conv layers run again only\n"
      "when their masks change, the dense head incrementally."));
  _pl_cli_add_options (context, options, NULL);
  _pl_cli_add_data_options (context, &data_args);
  if (!_pl_cli_parse (context, &argc, &argv))
    return PL_EXIT_USAGE;
  _pl_cli_set_threads (1);

  if (model_path != NULL ? pl_conv_file_is_conv (model_path) : arch != NULL && pl_conv_arch_is_conv (arch))
    return bench_drag_conv (arch, model_path, &data_args, threads, positions, n_eval, train_epochs, json);

  if (model_path != NULL)
    model = pl_safetensors_load (model_path, &error);
  else
    {
      model = pl_mlp_new_from_arch (arch != NULL ? arch : "784-300-100-10", PL_ACTIVATION_RELU, &error);
      if (model != NULL)
        pl_mlp_init (model, 1);
    }
  if (model == NULL)
    return _pl_cli_fail (error);

  if (data_args.spec != NULL)
    {
      data = _pl_cli_load_data (&data_args, &error);
      if (data == NULL)
        return _pl_cli_fail (error);
      eval = data->test;
    }
  else
    {
      PlRng rng;

      /* Fashion-MNIST-shaped: pixels in [0, 1], labels from the classes */
      random_eval = pl_dataset_new ((guint) n_eval, model->sizes[0], model->sizes[model->n_layers]);
      pl_rng_init (&rng, 11);
      for (gsize k = 0; k < (gsize) random_eval->n * random_eval->n_features; k++)
        random_eval->x[k] = (float) pl_rng_uniform (&rng);
      for (guint s = 0; s < random_eval->n; s++)
        random_eval->y[s] = (guint32) pl_rng_below (&rng, random_eval->n_classes);
      eval = random_eval;
    }

  scores = pl_scores_compute (model, PL_SCORE_MAGNITUDE, NULL, NULL, &error);
  if (scores == NULL)
    return _pl_cli_fail (error);
  pl_prune_spec_init (&spec, PL_SCOPE_GLOBAL, FALSE, 0.0);

  /* the set-up: the preview and its first run, which computes the first layer */
  t0 = g_get_monotonic_time ();
  preview = pl_preview_new (model, scores, &spec, eval, (guint) threads, &error);
  if (preview == NULL)
    return _pl_cli_fail (error);
  {
    PlPreviewResult r;

    if (!pl_preview_run (preview, 0.0, FALSE, &r, &error))
      return _pl_cli_fail (error);
  }
  setup_ms = (g_get_monotonic_time () - t0) / 1e3;

  /* First the check: every 10th position of the drag against a full evaluation. */
  check = pl_mlp_copy (model);
  ms = g_new0 (double, positions);
  for (int rep = 0; rep < 2; rep++)
    for (int i = 0; i < positions; i++)
      {
        double s = drag_position (i, positions);
        PlPreviewResult r;
        gint64 a = g_get_monotonic_time ();

        if (!pl_preview_run (preview, s, FALSE, &r, &error))
          return _pl_cli_fail (error);
        ms[i] = (g_get_monotonic_time () - a) / 1e3;

        if (rep == 0 && i % 10 == 0)
          {
            g_autoptr(PlEvaluation) ev = NULL;

            pl_mlp_copy_from (check, model);
            pl_preview_get_masks (preview, check->masks, check->neuron_masks);
            pl_mlp_apply_masks (check);
            ev = pl_evaluate (check, eval, NULL);
            worst_loss = MAX (worst_loss, fabs (ev->loss - r.loss));
            mismatched += ev->accuracy != r.accuracy;
            checked++;
          }
      }
  /* (the timed pass is the second: the first warmed up and checked) */

  {
    g_autofree double *sorted = g_memdup2 (ms, sizeof (double) * positions);
    double med = median (sorted, (guint) positions);
    double p95 = percentile (sorted, (guint) positions, 0.95);
    g_autoptr(JsonBuilder) b = json_builder_new ();

    g_printerr (_("bench drag: %u samples, %d positions, %d thread(s), OpenBLAS core %s: median %.2f ms, "
                  "95th percentile %.2f ms per position (set-up %.0f ms); checked %u positions against "
                  "full evaluations: loss within %.1e, %u accuracy mismatches\n"),
                eval->n, positions, threads, _pl_cli_blas_core (), med, p95, setup_ms, checked,
                worst_loss, mismatched);
    if (worst_loss > 1e-4)
      {
        g_printerr (_("prunelab-cli: the preview disagrees with a full evaluation (loss off by %.2e)\n"), worst_loss);
        return PL_EXIT_FAILED;
      }

    json_builder_begin_object (b);
    _pl_cli_add_string (b, "command", "bench drag");
    _pl_cli_add_int (b, "samples", eval->n);
    _pl_cli_add_int (b, "positions", positions);
    _pl_cli_add_int (b, "threads", threads);
    _pl_cli_add_string (b, "blas_core", _pl_cli_blas_core ());
    _pl_cli_add_double (b, "median_ms", med);
    _pl_cli_add_double (b, "p95_ms", p95);
    _pl_cli_add_double (b, "setup_ms", setup_ms);
    _pl_cli_add_double (b, "worst_loss_difference", worst_loss);
    _pl_cli_add_int (b, "accuracy_mismatches", mismatched);
    json_builder_end_object (b);
    if (json)
      _pl_cli_print_json (b);
  }

  return PL_EXIT_OK;
}

int
_pl_cli_bench (int    argc,
               char **argv)
{
  static const PlCliCommand benches[] = {
    { "train", bench_train, N_("Training throughput (samples/s, GFLOP/s) for one and more threads") },
    { "drag", bench_drag, N_("The live threshold drag: milliseconds per preview position") },
    { "sparse", _pl_cli_bench_sparse, N_("Dense, CSR and compacted forward latency, FLOPs and bytes; sparse fine-tuning") },
    { NULL }
  };
  g_autofree char *usage = g_strdup_printf (_("Usage: %s COMMAND [OPTIONS…]"), argv[0]);
  int status;

  if (argc >= 2 && (strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "--help-all") == 0
                    || strcmp (argv[1], "-h") == 0))
    return _pl_cli_usage_commands (stdout, usage, benches);
  status = _pl_cli_run_command (argc, argv, benches);
  if (status >= 0)
    return status;
  g_printerr (_("prunelab-cli: bench: name the benchmark, as in “prunelab-cli bench drag --json”\n"));
  return _pl_cli_usage_commands (stderr, usage, benches);
}
