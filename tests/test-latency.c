/* test-latency.c — the three forward passes that bench sparse and the app time compute what
 * the engine's forward pass does (pl_nn_forward on the masked model, itself checked against
 * plain loops in test-nn), and their FLOPs and bytes follow pl-metrics' formulas. No timing is
 * asserted. */
#include "config.h"

#include <math.h>

#include "pl-latency.h"
#include "pl-metrics.h"
#include "pl-nn.h"
#include "pl-rng.h"

static PlMlp *
pruned_model (void)
{
  static const guint sizes[] = { 50, 40, 20, 6 };
  PlMlp *m = pl_mlp_new (sizes, 3, PL_ACTIVATION_RELU);
  PlRng rng;

  pl_mlp_init (m, 4);
  pl_rng_init (&rng, 5);
  for (guint i = 0; i < m->n_layers; i++)
    {
      PlLayer *l = &m->layers[i];

      for (guint o = 0; o < l->n_out; o++)
        l->b[o] = (float) (0.1 * pl_rng_normal (&rng));
      for (gsize k = 0; k < (gsize) l->n_out * l->n_in; k++)
        if (pl_rng_uniform (&rng) < 0.85)
          l->w_mask[k] = 0.0f;
    }
  /* neuron 3 of the first hidden layer loses every outgoing weight: it dies */
  for (guint o = 0; o < 20; o++)
    m->layers[1].w_mask[o * 40 + 3] = 0.0f;
  pl_mlp_apply_masks (m);
  g_assert_cmpfloat (m->layers[0].neuron_mask[3], ==, 0.0f);
  return m;
}

/* 600-200-10 at 95%: large and sparse enough for pl-csr.h's cost model to run the CSR form at
 * batch 1 (by rows or by columns) rather than fall back to sgemv as it does on the small model */
static PlMlp *
sparse_model (void)
{
  static const guint sizes[] = { 600, 200, 10 };
  PlMlp *m = pl_mlp_new (sizes, 2, PL_ACTIVATION_RELU);
  PlRng rng;

  pl_mlp_init (m, 6);
  pl_rng_init (&rng, 7);
  for (guint i = 0; i < m->n_layers; i++)
    for (gsize k = 0; k < (gsize) m->layers[i].n_out * m->layers[i].n_in; k++)
      if (pl_rng_uniform (&rng) < 0.95)
        m->layers[i].w_mask[k] = 0.0f;
  pl_mlp_apply_masks (m);
  return m;
}

static void
check_forms (const PlMlp *m)
{
  guint n_in = m->sizes[0], n_out = m->sizes[m->n_layers];

  /* inputs with no zeros, and with about half of them 0 (as the background pixels of an image,
   * which the CSR forward's column form skips at batch 1) */
  for (guint zeros = 0; zeros <= 1; zeros++)
  for (guint threads = 1; threads <= 2; threads++)
    for (guint n = 1; n <= 100; n += 33)
      {
        g_autoptr(PlForwards) fw = pl_forwards_new (m, 100, threads);
        g_autoptr(PlNnWork) work = pl_nn_work_new (m, n);
        g_autofree float *x = g_new (float, (gsize) n * n_in);
        const float *want;
        PlRng rng;

        pl_rng_init (&rng, n);
        for (gsize k = 0; k < (gsize) n * n_in; k++)
          x[k] = zeros && pl_rng_uniform (&rng) < 0.5 ? 0.0f : (float) pl_rng_uniform (&rng);
        want = pl_nn_forward (m, work, x, n);
        for (PlForwardKind kind = 0; kind < PL_N_FORWARDS; kind++)
          {
            const float *got = pl_forwards_run (fw, kind, x, n);

            for (gsize k = 0; k < (gsize) n * n_out; k++)
              g_assert_cmpfloat_with_epsilon (got[k], want[k], 1e-6);
          }
      }
}

static void
test_forms_agree (void)
{
  g_autoptr(PlMlp) small = pruned_model ();
  g_autoptr(PlMlp) large = sparse_model ();

  check_forms (small);
  check_forms (large);
}

static void
test_figures (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PlMlp) m = pruned_model ();
  g_autoptr(PlForwards) fw = pl_forwards_new (m, 8, 1);
  PlMetrics metrics;
  PlLatency lat;
  double h1 = 0, h2 = 0;

  for (guint j = 0; j < 40; j++)
    h1 += m->layers[0].neuron_mask[j];
  for (guint j = 0; j < 20; j++)
    h2 += m->layers[1].neuron_mask[j];
  g_assert_cmpfloat (h1, <, 40);
  g_assert_cmpfloat (h2, >, 0);
  pl_metrics_compute (&metrics, m, NULL, NULL, NULL);
  g_assert_true (pl_latency_measure (fw, 8, 3, &lat, NULL, &error));
  g_assert_no_error (error);
  /* timed on given inputs (fewer than a batch: repeated), checked against dense all the same */
  {
    float x[5 * 50];

    for (guint k = 0; k < 5 * 50; k++)
      x[k] = k % 3 == 0 ? 0.0f : (float) (k % 7) / 7.0f;
    pl_forwards_set_inputs (fw, x, 5);
    g_assert_true (pl_latency_measure (fw, 1, 3, &lat, NULL, &error));
    g_assert_no_error (error);
    g_assert_cmpfloat (lat.worst_difference, <=, 1e-5);
    g_assert_true (pl_latency_measure (fw, 8, 3, &lat, NULL, &error));
  }
  g_assert_no_error (error);
  g_assert_cmpuint (lat.batch, ==, 8);
  g_assert_cmpfloat (lat.flops[PL_FORWARD_DENSE], ==, 8 * 2.0 * (50 * 40 + 40 * 20 + 20 * 6));
  g_assert_cmpfloat (lat.flops[PL_FORWARD_CSR], ==, 8 * metrics.total.flops_effective);
  /* the compacted network is 50-h1-h2-6 */
  g_assert_cmpfloat (lat.flops[PL_FORWARD_COMPACT], ==, 8 * 2.0 * (50 * h1 + h1 * h2 + h2 * 6));
  g_assert_cmpfloat (lat.bytes[PL_FORWARD_DENSE], ==,
                     4.0 * (2 * (50 * 40 + 40 * 20 + 20 * 6) + 40 + 20 + 6));
  g_assert_cmpfloat (lat.bytes[PL_FORWARD_CSR], ==, metrics.total.bytes_csr);
  g_assert_cmpfloat (lat.bytes[PL_FORWARD_COMPACT], ==, 4.0 * (50 * h1 + h1 + h1 * h2 + h2 + h2 * 6 + 6));
  g_assert_cmpfloat (lat.worst_difference, <=, 1e-4);
  for (PlForwardKind kind = 0; kind < PL_N_FORWARDS; kind++)
    g_assert_true (lat.ms[kind] > 0.0 && isfinite (lat.ms[kind]));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/engine/latency/forms-compute-the-masked-forward", test_forms_agree);
  g_test_add_func ("/engine/latency/flops-and-bytes", test_figures);

  return g_test_run ();
}
