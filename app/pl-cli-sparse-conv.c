/* pl-cli-sparse-conv.c — prunelab-cli bench sparse on a convolutional network
 *
 * What filter pruning buys, measured: the forward pass of the network as pruned (every conv
 * layer and the head at full size, the masks applied: the way a pruned model runs when only its
 * masks are kept) against the compacted network (pl-conv-compact.h: dead filters and what reads
 * them removed), at each batch size. CSR kernels are for dense layers (pl-latency.h), so a conv
 * net has these two forms. Figures per forward of a batch of n samples:
 *   FLOPs  2 per multiply-add: n·2·(Σ_conv c_out·c_in·k²·h_out·w_out + Σ_dense n_out·n_in), of
 *          the network as pruned and of the compacted one (pools and activations not counted);
 *   bytes  as pruned 4·(2·weights + biases) (float32 weights, a float32 mask, biases, as the
 *          files keep them), compacted 4·(weights + biases) of the smaller network.
 * The compacted outputs are checked against the masked ones first (at most 1e-4 of the largest
 * output apart); then rounds of both forms are timed in turn, each sample repeated until it
 * lasts ≥ 2 ms, and the median per forward reported.
 */
#define G_LOG_DOMAIN "prunelab-cli"

#include "config.h"

#include <glib/gi18n.h>
#include <math.h>
#include <stdio.h>

#include "pl-blas.h"
#include "pl-cli-private.h"
#include "pl-conv-compact.h"
#include "pl-conv-file.h"
#include "pl-conv-prune.h"
#include "pl-rng.h"

#define MIN_SAMPLE_USEC 2000
#define MAX_INPUTS      1024   /* test samples of --data the forwards cycle through */

typedef struct {
  const PlConvNet *net;
  PlConvWork      *work;     /* owned */
  double           flops;    /* per sample */
  double           bytes;
} Form;

static double
forward_flops (const PlConvNet *net)
{
  double f = 0.0;

  for (guint i = 0; i < net->n_layers; i++)
    {
      const PlConvLayer *l = &net->layers[i];

      if (l->kind == PL_CONV_LAYER_CONV)
        f += 2.0 * l->c_out * l->c_in * l->k * l->k * l->h_out * l->w_out;
    }
  for (guint i = 0; i < net->head->n_layers; i++)
    f += 2.0 * net->head->layers[i].n_out * net->head->layers[i].n_in;
  return f;
}

static int
compare_double (gconstpointer a,
                gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return (x > y) - (x < y);
}

/* Milliseconds of one forward of @batch samples starting at sample @first of @x (n_x samples,
 * cycled), over as many forwards as last MIN_SAMPLE_USEC. */
static double
time_forward (Form        *form,
              const float *x,
              guint        n_x,
              guint        batch,
              guint       *first)
{
  guint n_in = pl_conv_net_n_inputs (form->net), runs = 0;
  gint64 t0 = g_get_monotonic_time (), t;

  do
    {
      guint start = *first + batch <= n_x ? *first : 0;

      pl_conv_forward (form->net, form->work, x + (gsize) start * n_in, batch);
      *first = start + batch;
      runs++;
    }
  while ((t = g_get_monotonic_time () - t0) < MIN_SAMPLE_USEC);
  return t / 1000.0 / runs;
}

static void
form_clear (Form *form)
{
  g_clear_pointer (&form->work, pl_conv_work_free);
}

int
_pl_cli_bench_sparse_conv (const char          *model_path,
                           double               sparsity,
                           const int           *batches,
                           guint                n_batches,
                           guint                threads,
                           guint                rounds,
                           const PlCliDataArgs *data_args,
                           const char          *out,
                           gboolean             json)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PlConvNet) net = pl_conv_net_load (model_path, &error);
  g_autoptr(PlConvNet) small = NULL;
  g_autoptr(PlData) data = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autofree float *random_x = NULL;
  g_autofree char *arch = NULL;
  g_autofree char *small_arch = NULL;
  g_autofree double *ms = NULL;
  Form forms[2] = { { 0, } };
  const float *x;
  guint n_x, n_in, max_batch = 1;
  double pruned_share;

  if (net == NULL)
    return _pl_cli_fail (error);
  if (sparsity >= 0.0)
    pl_conv_prune_magnitude (net, sparsity, TRUE, FALSE);
  pl_conv_net_apply_masks (net);
  if (out != NULL && !pl_conv_net_save (net, out, &error))
    return _pl_cli_fail (error);
  small = pl_conv_compact (net, NULL);
  arch = pl_conv_net_arch (net);
  small_arch = pl_conv_net_arch (small);
  n_in = pl_conv_net_n_inputs (net);
  for (guint i = 0; i < n_batches; i++)
    max_batch = MAX (max_batch, (guint) batches[i]);

  if (data_args->spec != NULL)
    {
      data = _pl_cli_load_data (data_args, &error);
      if (data == NULL)
        return _pl_cli_fail (error);
      if (data->n_features != n_in || data->test->n == 0)
        return _pl_cli_usage (_("--data must have test samples with as many features as the model has inputs"));
      x = data->test->x;
      n_x = MIN (data->test->n, MAX_INPUTS);
    }
  else
    {
      PlRng rng;

      n_x = MAX (max_batch, 64);
      random_x = g_new (float, (gsize) n_x * n_in);
      pl_rng_init (&rng, 7);
      for (gsize k = 0; k < (gsize) n_x * n_in; k++)
        random_x[k] = (float) pl_rng_uniform (&rng);
      x = random_x;
    }
  if (n_x < max_batch)
    return _pl_cli_usage (_("--data has %u test samples, fewer than the largest batch %u"), n_x, max_batch);

  forms[0] = (Form) { net, pl_conv_work_new (net, max_batch), forward_flops (net),
                      4.0 * (2.0 * pl_conv_net_n_weights (net) + (pl_conv_net_n_params (net) - pl_conv_net_n_weights (net))) };
  forms[1] = (Form) { small, pl_conv_work_new (small, max_batch), forward_flops (small),
                      4.0 * pl_conv_net_n_params (small) };
  pruned_share = (double) pl_conv_net_n_pruned (net) / pl_conv_net_n_weights (net);
  openblas_set_num_threads ((int) threads);

  g_printerr (_("bench sparse: %s (compacted %s), %u thread(s), OpenBLAS core %s, medians of %u rounds, inputs: %s\n"),
              arch, small_arch, threads, _pl_cli_blas_core (), rounds,
              data != NULL ? data_args->spec : _("random, uniform in [0, 1)"));

  json_builder_begin_object (b);
  _pl_cli_add_string (b, "command", "bench sparse");
  _pl_cli_add_string (b, "arch", arch);
  _pl_cli_add_string (b, "compacted_arch", small_arch);
  _pl_cli_add_string (b, "blas_core", _pl_cli_blas_core ());
  _pl_cli_add_string (b, "inputs", data != NULL ? data_args->spec : "random");
  _pl_cli_add_int (b, "threads", threads);
  _pl_cli_add_int (b, "rounds", rounds);
  json_builder_set_member_name (b, "model");
  json_builder_begin_array (b);

  ms = g_new (double, 2 * (gsize) rounds);
  for (guint bi = 0; bi < n_batches; bi++)
    {
      guint batch = (guint) batches[bi], n_out = pl_conv_net_n_outputs (net), first[2] = { 0, 0 };
      double worst = 0.0, largest = 0.0, med[2];

      /* the compacted network computes the masked one's outputs */
      {
        g_autofree float *dense = g_memdup2 (pl_conv_forward (net, forms[0].work, x, batch),
                                             sizeof (float) * batch * n_out);
        const float *compact = pl_conv_forward (small, forms[1].work, x, batch);

        for (gsize k = 0; k < (gsize) batch * n_out; k++)
          {
            worst = MAX (worst, fabs ((double) dense[k] - compact[k]));
            largest = MAX (largest, fabs ((double) dense[k]));
          }
        if (worst > 1e-4 * MAX (largest, 1e-30))
          {
            form_clear (&forms[0]);
            form_clear (&forms[1]);
            g_set_error (&error, G_IO_ERROR, G_IO_ERROR_FAILED,
                         _("the compacted network’s outputs differ from the masked network’s by %g"), worst);
            return _pl_cli_fail (error);
          }
      }
      /* a round warms up first; the forms then take turns */
      for (guint r = 0; r <= rounds; r++)
        for (guint f = 0; f < 2; f++)
          {
            double t = time_forward (&forms[f], x, n_x, batch, &first[f]);

            if (r > 0)
              ms[f * rounds + r - 1] = t;
          }
      for (guint f = 0; f < 2; f++)
        {
          qsort (ms + f * rounds, rounds, sizeof (double), compare_double);
          med[f] = rounds % 2 ? ms[f * rounds + rounds / 2]
                              : 0.5 * (ms[f * rounds + rounds / 2 - 1] + ms[f * rounds + rounds / 2]);
        }
      g_printerr (_("  sparsity %5.1f%%, batch %3u: as pruned %8.3f ms, compacted %8.3f ms (%.2fx)\n"),
                  100 * pruned_share, batch, med[0], med[1], med[0] / med[1]);

      json_builder_begin_object (b);
      _pl_cli_add_double (b, "sparsity", pruned_share);
      _pl_cli_add_int (b, "batch", batch);
      _pl_cli_add_double (b, "dense_ms", med[0]);
      _pl_cli_add_double (b, "dense_flops", batch * forms[0].flops);
      _pl_cli_add_double (b, "dense_bytes", forms[0].bytes);
      _pl_cli_add_double (b, "compacted_ms", med[1]);
      _pl_cli_add_double (b, "compacted_flops", batch * forms[1].flops);
      _pl_cli_add_double (b, "compacted_bytes", forms[1].bytes);
      _pl_cli_add_double (b, "compacted_speedup", med[0] / med[1]);
      _pl_cli_add_double (b, "worst_difference", worst / MAX (largest, 1e-30));
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  form_clear (&forms[0]);
  form_clear (&forms[1]);
  if (json)
    _pl_cli_print_json (b);
  return PL_EXIT_OK;
}
