/* LeNet-5's training step (forward, loss, backward: pl_conv_forward + pl_conv_backward) at
 * batch 128 on one thread, and its forward at batch 256, with the time per layer phase: median
 * of repeats. The step is first checked against the nested-loop reference on a few samples.
 * Then LeNet-5 with half of each conv layer's filters removed by L1 norm: the forward at batch
 * 256 of the masked network (the full-size products) against its compacted copy
 * (pl-conv-compact.h), checked equal first, timed in interleaved rounds, medians and their ratio.
 * A report, not a gate: the machine is shared. With -m perf the repeats grow to 21.
 *   meson test -C build --benchmark bench-conv --verbose
 * PyTorch's side: tests/torch/conv_interop.py bench --threads 1. */
#include "config.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>

#include "pl-blas.h"
#include "pl-conv-compact.h"
#include "pl-conv-prune.h"
#include "pl-conv.h"
#include "pl-test-util.h"

static int
compare_doubles (const void *a,
                 const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return x < y ? -1 : x > y;
}

static void
test_lenet5_step (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PlConvNet) net = pl_conv_net_new_from_arch ("lenet5", PL_ACTIVATION_RELU, &error);
  g_autoptr(PlDataset) data = NULL;
  g_autoptr(PlConvWork) work = NULL;
  g_autoptr(PlConvWork) fwork = NULL;
  g_autofree float *grad = NULL;
  g_autofree float *head_grad = NULL;
  g_autofree double *ref = NULL;
  guint repeats = g_test_perf () ? 21 : 3;
  double step_ms[21], fwd_ms[21];
  const float *p;
  int before;

  g_assert_no_error (error);
  before = pl_blas_set_threads (1);
  pl_conv_net_init (net, 1);
  data = pl_test_random_data (256, 784, 10, 3);
  for (gsize k = 0; k < (gsize) 256 * 784; k++)
    data->x[k] = 0.5f * (data->x[k] + 1.0f);   /* pixels in [0, 1) */
  work = pl_conv_work_new (net, 128);
  fwork = pl_conv_work_new (net, 256);
  grad = g_new (float, net->n_params);
  head_grad = g_new (float, net->head->n_params);

  /* the variant timed computes what the reference does */
  ref = g_new (double, 4 * 10);
  p = pl_conv_forward (net, work, data->x, 4);
  pl_conv_forward_ref (net, data->x, data->y, 4, ref);
  for (guint k = 0; k < 40; k++)
    g_assert_cmpfloat_with_epsilon (p[k], ref[k], 1e-5);

  for (guint r = 0; r < repeats; r++)
    {
      gint64 t0 = g_get_monotonic_time ();

      pl_conv_forward (net, work, data->x, 128);
      pl_conv_backward (net, work, data->y, 128, 1.0f / 128, grad, head_grad);
      step_ms[r] = (g_get_monotonic_time () - t0) / 1e3;
      t0 = g_get_monotonic_time ();
      pl_conv_forward (net, fwork, data->x, 256);
      fwd_ms[r] = (g_get_monotonic_time () - t0) / 1e3;
    }
  qsort (step_ms, repeats, sizeof (double), compare_doubles);
  qsort (fwd_ms, repeats, sizeof (double), compare_doubles);
  g_test_message ("LeNet-5, 1 thread, OpenBLAS core %s: training step at batch 128 median %.2f ms "
                  "(%.0f samples/s; min %.2f, max %.2f); forward at batch 256 median %.2f ms (%u runs)",
                  openblas_get_corename (), step_ms[repeats / 2], 128e3 / step_ms[repeats / 2],
                  step_ms[0], step_ms[repeats - 1], fwd_ms[repeats / 2], repeats);
  pl_blas_set_threads (before);
}

static void
test_lenet5_compact (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PlConvNet) net = pl_conv_net_new_from_arch ("lenet5", PL_ACTIVATION_RELU, &error);
  g_autoptr(PlConvNet) small = NULL;
  g_autoptr(PlDataset) data = NULL;
  g_autoptr(PlConvWork) work = NULL;
  g_autoptr(PlConvWork) swork = NULL;
  g_autofree char *arch = NULL;
  guint repeats = g_test_perf () ? 21 : 3, removed;
  double dense_ms[21], compact_ms[21];
  const float *p, *q;
  int before;

  g_assert_no_error (error);
  before = pl_blas_set_threads (1);
  pl_conv_net_init (net, 1);
  removed = pl_conv_prune_filters_by (net, 0.5, PL_CONV_FILTER_L1);
  g_assert_cmpuint (removed, ==, 3 + 8);
  small = pl_conv_compact (net, NULL);
  arch = pl_conv_net_arch (small);
  g_assert_cmpstr (arch, ==, "1x28x28-c3k5p2-m2-c8k5-m2-120-84-10");
  data = pl_test_random_data (256, 784, 10, 5);
  for (gsize k = 0; k < (gsize) 256 * 784; k++)
    data->x[k] = 0.5f * (data->x[k] + 1.0f);
  work = pl_conv_work_new (net, 256);
  swork = pl_conv_work_new (small, 256);

  /* the variant timed computes what the masked network does */
  p = pl_conv_forward (net, work, data->x, 256);
  q = pl_conv_forward (small, swork, data->x, 256);
  for (guint k = 0; k < 256 * 10; k++)
    g_assert_cmpfloat_with_epsilon (p[k], q[k], 1e-5);

  for (guint r = 0; r < repeats; r++)
    {
      gint64 t0 = g_get_monotonic_time ();

      pl_conv_forward (net, work, data->x, 256);
      dense_ms[r] = (g_get_monotonic_time () - t0) / 1e3;
      t0 = g_get_monotonic_time ();
      pl_conv_forward (small, swork, data->x, 256);
      compact_ms[r] = (g_get_monotonic_time () - t0) / 1e3;
    }
  qsort (dense_ms, repeats, sizeof (double), compare_doubles);
  qsort (compact_ms, repeats, sizeof (double), compare_doubles);
  g_test_message ("LeNet-5, half of each conv layer's filters removed by L1 norm, 1 thread, OpenBLAS "
                  "core %s: forward at batch 256, masked median %.2f ms (min %.2f), compacted %s "
                  "median %.2f ms (min %.2f): %.2fx (%u runs)",
                  openblas_get_corename (), dense_ms[repeats / 2], dense_ms[0], arch,
                  compact_ms[repeats / 2], compact_ms[0],
                  dense_ms[repeats / 2] / compact_ms[repeats / 2], repeats);
  pl_blas_set_threads (before);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/bench/conv/lenet5-step", test_lenet5_step);
  g_test_add_func ("/bench/conv/lenet5-compact", test_lenet5_compact);
  return pl_test_run ();
}
