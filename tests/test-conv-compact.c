/* pl_conv_compact: the smaller dense CNN computes the masked network's outputs, checked against
 * the nested-loop reference (pl_conv_forward_ref) of the masked network on random nets with
 * random filters removed by hand here; the shapes, the spec and the kept filters. */
#include "config.h"

#include <math.h>
#include <string.h>

#include "pl-conv-compact.h"
#include "pl-rng.h"
#include "pl-test-util.h"

/* The next conv layer after @i, or NULL when the head comes next. */
static PlConvLayer *
next_conv (PlConvNet *net,
           guint      i)
{
  for (guint j = i + 1; j < net->n_layers; j++)
    if (net->layers[j].kind == PL_CONV_LAYER_CONV)
      return &net->layers[j];
  return NULL;
}

/* Removes filter @o of conv layer @i by hand: its weights and every weight that reads its map
 * (the next conv layer's input channel o, or the head's columns o·h·w … (o + 1)·h·w − 1). */
static void
remove_filter (PlConvNet *net,
               guint      i,
               guint      o)
{
  PlConvLayer *l = &net->layers[i];
  PlConvLayer *next = next_conv (net, i);
  gsize per = (gsize) l->c_in * l->k * l->k;

  for (gsize t = 0; t < per; t++)
    l->w_mask[o * per + t] = 0.0f;
  if (next != NULL)
    {
      gsize kk = (gsize) next->k * next->k;

      for (guint r = 0; r < next->c_out; r++)
        for (gsize t = 0; t < kk; t++)
          next->w_mask[((gsize) r * next->c_in + o) * kk + t] = 0.0f;
    }
  else
    {
      const PlConvLayer *last = &net->layers[net->n_layers - 1];
      gsize hw = (gsize) last->h_out * last->w_out;
      PlLayer *d = &net->head->layers[0];

      for (guint r = 0; r < d->n_out; r++)
        for (gsize p = 0; p < hw; p++)
          d->w_mask[(gsize) r * d->n_in + o * hw + p] = 0.0f;
    }
}

/* log-probabilities of @net on @x: the compacted net by its fast path (im2col + sgemm), the
 * masked one by nested loops in double; logits up to the per-sample shift softmax ignores */
static void
log_probs_fast (const PlConvNet *net,
                const float     *x,
                guint            n,
                double          *out)
{
  g_autoptr(PlConvWork) work = pl_conv_work_new (net, n);
  const float *p = pl_conv_forward (net, work, x, n);

  for (gsize k = 0; k < (gsize) n * pl_conv_net_n_outputs (net); k++)
    out[k] = log (p[k]);
}

static void
log_probs_ref (const PlConvNet *net,
               const float     *x,
               const guint32   *y,
               guint            n,
               double          *out)
{
  pl_conv_forward_ref (net, x, y, n, out);
  for (gsize k = 0; k < (gsize) n * pl_conv_net_n_outputs (net); k++)
    out[k] = log (out[k]);
}

/* The compacted net's outputs equal the masked net's: fast path within 1e-5 relative of the
 * reference, and its own reference within 1e-9. */
static void
assert_same_outputs (const PlConvNet *net,
                     const PlConvNet *small,
                     guint64          seed)
{
  guint n = 6, k = pl_conv_net_n_outputs (net);
  g_autoptr(PlDataset) data = pl_test_random_data (n, pl_conv_net_n_inputs (net), k, seed);
  g_autofree double *want = g_new (double, n * k);
  g_autofree double *got = g_new (double, n * k);
  g_autofree double *got_ref = g_new (double, n * k);

  g_assert_cmpuint (pl_conv_net_n_inputs (small), ==, pl_conv_net_n_inputs (net));
  g_assert_cmpuint (pl_conv_net_n_outputs (small), ==, k);
  log_probs_ref (net, data->x, data->y, n, want);
  log_probs_fast (small, data->x, n, got);
  log_probs_ref (small, data->x, data->y, n, got_ref);
  for (guint t = 0; t < n * k; t++)
    {
      g_assert_cmpfloat (fabs (got[t] - want[t]), <=, 1e-5 * (1.0 + fabs (want[t])));
      g_assert_cmpfloat (fabs (got_ref[t] - want[t]), <=, 1e-9 * (1.0 + fabs (want[t])));
    }
}

static void
test_random_nets (void)
{
  static const char * const archs[] = {
    "1x8x8-c5k3p1-m2-c6k3-7-4",
    "2x9x9-c4k3-c5k2p1-m2-9-6-3",
    "3x6x6-c7k3p1-m2-5",
    "1x10x10-c3k3-m2-c4k2-m2-c5k1-6-2",
  };
  static const PlActivation acts[] = { PL_ACTIVATION_RELU, PL_ACTIVATION_TANH, PL_ACTIVATION_SIGMOID };

  for (guint64 seed = 1; seed <= 24; seed++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(PlConvNet) net = NULL;
      g_autoptr(PlConvNet) small = NULL;
      GArray *kept[PL_CONV_MAX_LAYERS] = { NULL };
      PlRng rng;
      guint n_conv = 0;

      pl_rng_init (&rng, seed);
      net = pl_conv_net_new_from_arch (archs[seed % G_N_ELEMENTS (archs)], acts[seed % 3], &error);
      g_assert_no_error (error);
      pl_conv_net_init (net, seed);
      for (gsize t = 0; t < net->n_params; t++)   /* biases too, so that dead maps matter */
        net->params[t] += 0.1f * (float) pl_rng_normal (&rng) * (net->masks[t] != 0.0f);
      /* random filters removed (every one of a layer now and then), some weights pruned one
       * by one, and a dense neuron killed by its outgoing column */
      for (guint i = 0; i < net->n_layers; i++)
        if (net->layers[i].kind == PL_CONV_LAYER_CONV)
          for (guint o = 0; o < net->layers[i].c_out; o++)
            if (pl_rng_uniform (&rng) < (seed % 5 == 0 ? 0.9 : 0.4))
              remove_filter (net, i, o);
      for (guint i = 0; i < net->n_layers; i++)
        {
          PlConvLayer *l = &net->layers[i];

          if (l->kind == PL_CONV_LAYER_CONV)
            for (gsize t = 0; t < (gsize) l->c_out * l->c_in * l->k * l->k; t++)
              if (pl_rng_uniform (&rng) < 0.1)
                l->w_mask[t] = 0.0f;
        }
      for (guint i = 0; i < net->head->n_layers; i++)
        {
          PlLayer *l = &net->head->layers[i];

          for (gsize t = 0; t < (gsize) l->n_out * l->n_in; t++)
            if (pl_rng_uniform (&rng) < 0.1)
              l->w_mask[t] = 0.0f;
        }
      if (net->head->n_layers > 1)
        {
          PlLayer *l = &net->head->layers[1];
          guint j = (guint) pl_rng_below (&rng, l->n_in);

          for (guint r = 0; r < l->n_out; r++)
            l->w_mask[(gsize) r * l->n_in + j] = 0.0f;
        }
      pl_conv_net_apply_masks (net);

      small = pl_conv_compact (net, kept);
      assert_same_outputs (net, small, seed + 100);

      /* each conv layer keeps its live filters, in order (one, muted, when none is live) */
      for (guint i = 0; i < net->n_layers; i++)
        {
          const PlConvLayer *l = &net->layers[i];
          guint live = 0;

          if (l->kind != PL_CONV_LAYER_CONV)
            continue;
          for (guint o = 0; o < l->c_out; o++)
            if (l->filter_mask[o] != 0.0f)
              {
                g_assert_cmpuint (live, <, kept[n_conv]->len);
                g_assert_cmpuint (g_array_index (kept[n_conv], guint32, live), ==, o);
                live++;
              }
          g_assert_cmpuint (kept[n_conv]->len, ==, MAX (live, 1));
          g_assert_cmpuint (small->layers[i].c_out, ==, MAX (live, 1));
          g_array_unref (kept[n_conv]);
          n_conv++;
        }
      /* a compacted net compacts to itself */
      {
        g_autoptr(PlConvNet) again = pl_conv_compact (small, NULL);
        g_autofree char *a1 = pl_conv_net_arch (small);
        g_autofree char *a2 = pl_conv_net_arch (again);

        g_assert_cmpstr (a1, ==, a2);
      }
    }
}

static void
test_lenet5_half_and_one (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PlConvNet) net = pl_conv_net_new_from_arch ("lenet5", PL_ACTIVATION_RELU, &error);
  g_autoptr(PlConvNet) small = NULL;
  g_autoptr(PlConvNet) one = NULL;
  g_autofree char *arch = NULL;
  g_autofree char *arch1 = NULL;

  g_assert_no_error (error);
  pl_conv_net_init (net, 7);
  /* conv1: filters 0, 2, 4 removed; conv2: the odd ones */
  for (guint o = 0; o < 6; o += 2)
    remove_filter (net, 0, o);
  for (guint o = 1; o < 16; o += 2)
    remove_filter (net, 2, o);
  pl_conv_net_apply_masks (net);
  small = pl_conv_compact (net, NULL);
  arch = pl_conv_net_arch (small);
  g_assert_cmpstr (arch, ==, "1x28x28-c3k5p2-m2-c8k5-m2-120-84-10");
  /* whole filters only: nothing is left masked, so PyTorch needs no weight_mask */
  g_assert_cmpuint (pl_conv_net_n_pruned (small), ==, 0);
  /* 3·25 + 3, 8·3·25 + 8, (8·25)·120 + 120, then the unchanged dense layers */
  g_assert_cmpuint (pl_conv_net_n_params (small), ==, 78 + 608 + 24120 + 10164 + 850);
  /* conv2's kept filter r = 2q + 0 reads conv1's kept channel c = 2p + 1 */
  for (guint r = 0; r < 8; r++)
    for (guint q = 0; q < 3; q++)
      for (guint t = 0; t < 25; t++)
        g_assert_cmpfloat (small->layers[2].w[(r * 3 + q) * 25 + t], ==,
                           net->layers[2].w[((2 * r) * 6 + 2 * q + 1) * 25 + t]);
  /* the head's columns: channel-major, kept map r of 5×5 = original map 2r */
  for (guint o = 0; o < 120; o++)
    for (guint r = 0; r < 8; r++)
      for (guint p = 0; p < 25; p++)
        g_assert_cmpfloat (small->head->layers[0].w[o * 200 + r * 25 + p], ==,
                           net->head->layers[0].w[o * 400 + 2 * r * 25 + p]);
  assert_same_outputs (net, small, 3);

  /* all but one of conv1's filters */
  remove_filter (net, 0, 1);
  remove_filter (net, 0, 5);
  pl_conv_net_apply_masks (net);
  one = pl_conv_compact (net, NULL);
  arch1 = pl_conv_net_arch (one);
  g_assert_cmpstr (arch1, ==, "1x28x28-c1k5p2-m2-c8k5-m2-120-84-10");
  assert_same_outputs (net, one, 4);
}

static void
test_nothing_removed (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PlConvNet) net = pl_conv_net_new_from_arch ("1x8x8-c4k3p1-m2-c3k3-6-3", PL_ACTIVATION_RELU, &error);
  g_autoptr(PlConvNet) small = NULL;
  g_autofree char *a1 = NULL;
  g_autofree char *a2 = NULL;

  g_assert_no_error (error);
  pl_conv_net_init (net, 2);
  small = pl_conv_compact (net, NULL);
  a1 = pl_conv_net_arch (net);
  a2 = pl_conv_net_arch (small);
  g_assert_cmpstr (a1, ==, a2);
  g_assert_cmpmem (small->params, sizeof (float) * small->n_params, net->params, sizeof (float) * net->n_params);
  g_assert_cmpmem (small->head->params, sizeof (float) * small->head->n_params,
                   net->head->params, sizeof (float) * net->head->n_params);
  assert_same_outputs (net, small, 5);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/conv-compact/random-nets", test_random_nets);
  g_test_add_func ("/conv-compact/lenet5-half-and-one", test_lenet5_half_and_one);
  g_test_add_func ("/conv-compact/nothing-removed", test_nothing_removed);
  return pl_test_run ();
}
