/* PlConvPreview: at every sparsity of a drag up and back and in a shuffled order, the masks
 * are byte-equal to pl_conv_prune_magnitude() (pl_conv_prune_scored() with scores) on a copy of
 * the network, and the correct count and loss those of pl_conv_evaluate() of that copy; the
 * keep-one-per-layer rule counted by hand at sparsity 1; the conv pass skipped while only head
 * masks change; cancellation and bad data. */
#include "config.h"

#include <math.h>
#include <string.h>

#include "pl-conv-preview.h"
#include "pl-conv-prune.h"
#include "pl-error.h"
#include "pl-eval.h"
#include "pl-rng.h"
#include "pl-test-util.h"

/* A random net whose outputs are far from ties: weights ×2, biases uniform in [−1, 1), so
 * that the arg-max does not hang on the last bits of a sum (the preview adds its products in
 * another order than pl_conv_evaluate). */
static PlConvNet *
make_net (const char *arch,
          guint64     seed)
{
  g_autoptr(GError) error = NULL;
  PlConvNet *net = pl_conv_net_new_from_arch (arch, PL_ACTIVATION_RELU, &error);
  PlRng rng;

  g_assert_no_error (error);
  pl_conv_net_init (net, seed);
  pl_rng_init (&rng, seed + 100);
  for (guint i = 0; i < net->n_layers; i++)
    {
      PlConvLayer *l = &net->layers[i];

      if (l->kind != PL_CONV_LAYER_CONV)
        continue;
      for (gsize k = 0; k < (gsize) l->c_out * l->c_in * l->k * l->k; k++)
        l->w[k] *= 2.0f;
      for (guint o = 0; o < l->c_out; o++)
        l->b[o] = (float) (2.0 * pl_rng_uniform (&rng) - 1.0);
    }
  for (guint i = 0; i < net->head->n_layers; i++)
    {
      PlLayer *l = &net->head->layers[i];

      for (gsize k = 0; k < (gsize) l->n_out * l->n_in; k++)
        l->w[k] *= 2.0f;
      for (guint o = 0; o < l->n_out; o++)
        l->b[o] = (float) (2.0 * pl_rng_uniform (&rng) - 1.0);
    }
  return net;
}

/* Data in [0, 1) as images are, with labels from the classes. */
static PlDataset *
make_data (const PlConvNet *net,
           guint            n,
           guint64          seed)
{
  PlDataset *d = pl_test_random_data (n, pl_conv_net_n_inputs (net), pl_conv_net_n_outputs (net), seed);

  for (gsize k = 0; k < (gsize) n * d->n_features; k++)
    d->x[k] = 0.5f * (d->x[k] + 1.0f);
  return d;
}

/* Preview at @s against the pruned copy; the result into @out (may be NULL). */
static void
check_run (PlConvPreview       *preview,
           const PlConvNet     *net,
           const float         *scores,
           gboolean             allow_empty,
           const PlDataset     *eval,
           double               s,
           PlConvPreviewResult *out)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PlConvNet) ref = pl_conv_net_copy (net);
  g_autoptr(PlEvaluation) ev = NULL;
  g_autofree float *conv_masks = g_new (float, net->n_params);
  g_autofree float *head_masks = g_new (float, net->head->n_params);
  PlConvPreviewResult r;
  guint ref_correct;

  g_assert_true (pl_conv_preview_run (preview, s, NULL, &r, &error));
  g_assert_no_error (error);
  pl_conv_preview_get_masks (preview, conv_masks, head_masks);

  if (scores != NULL)
    pl_conv_prune_scored (ref, scores, s, TRUE, allow_empty);
  else
    pl_conv_prune_magnitude (ref, s, TRUE, allow_empty);
  g_assert_cmpmem (conv_masks, sizeof (float) * net->n_params, ref->masks, sizeof (float) * ref->n_params);
  g_assert_cmpmem (head_masks, sizeof (float) * net->head->n_params,
                   ref->head->masks, sizeof (float) * ref->head->n_params);
  g_assert_cmpuint (r.pruned, ==, pl_conv_net_n_pruned (ref));
  g_assert_cmpuint (r.weights, ==, pl_conv_net_n_weights (ref));

  ev = pl_conv_evaluate (ref, eval, &error);
  g_assert_no_error (error);
  ref_correct = (guint) lround (ev->accuracy * ev->n);
  g_assert_cmpuint (r.n, ==, eval->n);
  g_assert_cmpuint (r.n_correct, ==, ref_correct);
  /* 1e-5, relative once the loss exceeds 1 (the conv-pass test's weights of ±10 give ~77) */
  g_assert_cmpfloat_with_epsilon (r.loss, ev->loss, 1e-5 * MAX (1.0, fabs (ev->loss)));
  if (out != NULL)
    *out = r;
}

static void
check_at (PlConvPreview   *preview,
          const PlConvNet *net,
          const float     *scores,
          gboolean         allow_empty,
          const PlDataset *eval,
          double           s)
{
  check_run (preview, net, scores, allow_empty, eval, s, NULL);
}

/* Sparsities 0 … 1 up, back down, then shuffled. */
static void
drag (PlConvPreview   *preview,
      const PlConvNet *net,
      const float     *scores,
      gboolean         allow_empty,
      const PlDataset *eval,
      guint            steps,
      guint64          seed)
{
  g_autofree double *order = g_new (double, steps + 1);
  PlRng rng;

  for (guint i = 0; i <= steps; i++)
    check_at (preview, net, scores, allow_empty, eval, (double) i / steps);
  for (guint i = steps; i-- > 0;)
    check_at (preview, net, scores, allow_empty, eval, (double) i / steps);

  pl_rng_init (&rng, seed);
  for (guint i = 0; i <= steps; i++)
    order[i] = (double) i / steps;
  for (guint i = steps; i > 0; i--)
    {
      guint j = (guint) pl_rng_below (&rng, i + 1);
      double t = order[i];

      order[i] = order[j];
      order[j] = t;
    }
  for (guint i = 0; i <= steps; i++)
    check_at (preview, net, scores, allow_empty, eval, order[i]);
}

static void
test_magnitude (void)
{
  static const char *archs[] = { "1x8x8-c4k3p1-m2-c3k3-6-3", "2x7x7-c3k3-m2-5-4", "1x6x6-c2k3p1-c3k3-m2-3" };

  for (guint a = 0; a < G_N_ELEMENTS (archs); a++)
    for (int allow_empty = 0; allow_empty <= 1; allow_empty++)
      {
        g_autoptr(GError) error = NULL;
        g_autoptr(PlConvNet) net = make_net (archs[a], 10 + a);
        g_autoptr(PlDataset) eval = make_data (net, 37, 3 + a);
        g_autoptr(PlConvPreview) preview = NULL;

        preview = pl_conv_preview_new (net, NULL, allow_empty, eval, 1 + a % 2, &error);
        g_assert_no_error (error);
        drag (preview, net, NULL, allow_empty, eval, 50, a);
      }
}

/* Weights on a coarse grid (many equal magnitudes: the ties by layer then index), and a
 * network pruned already (those weights counted, never candidates). */
static void
test_ties_and_pruned (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PlConvNet) net = make_net ("1x8x8-c4k3p1-m2-c3k3-6-3", 5);
  g_autoptr(PlDataset) eval = make_data (net, 29, 8);
  g_autoptr(PlConvPreview) preview = NULL;
  PlRng rng;

  pl_rng_init (&rng, 99);
  for (gsize k = 0; k < net->n_params; k++)
    {
      net->params[k] = roundf (net->params[k] * 8.0f) / 8.0f;
      if (net->masks[k] != 0.0f && pl_rng_uniform (&rng) < 0.2)
        net->masks[k] = 0.0f;
    }
  for (gsize k = 0; k < net->head->n_params; k++)
    {
      net->head->params[k] = roundf (net->head->params[k] * 8.0f) / 8.0f;
      if (net->head->masks[k] != 0.0f && pl_rng_uniform (&rng) < 0.2)
        net->head->masks[k] = 0.0f;
    }
  pl_conv_net_apply_masks (net);

  preview = pl_conv_preview_new (net, NULL, FALSE, eval, 2, &error);
  g_assert_no_error (error);
  drag (preview, net, NULL, FALSE, eval, 40, 7);
}

static void
test_scored (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PlConvNet) net = make_net ("1x8x8-c4k3p1-m2-c3k3-6-3", 21);
  g_autoptr(PlDataset) eval = make_data (net, 31, 4);
  g_autoptr(PlConvPreview) preview = NULL;
  g_autofree float *scores = g_new (float, pl_conv_net_n_weights (net));
  PlRng rng;

  pl_rng_init (&rng, 5);
  for (gsize k = 0; k < pl_conv_net_n_weights (net); k++)
    scores[k] = (float) pl_rng_uniform (&rng);
  preview = pl_conv_preview_new (net, scores, FALSE, eval, 2, &error);
  g_assert_no_error (error);
  drag (preview, net, scores, FALSE, eval, 40, 3);
}

/* At sparsity 1 each parametrised layer keeps exactly its largest-magnitude weight (the last of
 * equal ones), counted here from the masks. */
static void
test_keep_one (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PlConvNet) net = make_net ("1x8x8-c4k3p1-m2-c3k3-6-3", 2);
  g_autoptr(PlDataset) eval = make_data (net, 16, 1);
  g_autoptr(PlConvPreview) preview = pl_conv_preview_new (net, NULL, FALSE, eval, 1, &error);
  g_autofree float *conv_masks = g_new (float, net->n_params);
  g_autofree float *head_masks = g_new (float, net->head->n_params);
  PlConvPreviewResult r;
  guint n_layers = 0;

  g_assert_no_error (error);
  g_assert_true (pl_conv_preview_run (preview, 1.0, NULL, &r, &error));
  pl_conv_preview_get_masks (preview, conv_masks, head_masks);

  for (guint i = 0; i < net->n_layers; i++)
    {
      const PlConvLayer *l = &net->layers[i];
      gsize off = (gsize) (l->w - net->params), n = (gsize) l->c_out * l->c_in * l->k * l->k;
      gsize kept = 0, best = 0;

      if (l->kind != PL_CONV_LAYER_CONV)
        continue;
      for (gsize k = 0; k < n; k++)
        {
          kept += conv_masks[off + k] != 0.0f;
          if (fabsf (l->w[k]) >= fabsf (l->w[best]))
            best = k;
        }
      g_assert_cmpuint (kept, ==, 1);
      g_assert_cmpfloat (conv_masks[off + best], ==, 1.0f);
      for (gsize k = 0; k < (gsize) l->c_out; k++)
        g_assert_cmpfloat (conv_masks[(gsize) (l->b - net->params) + k], ==, 1.0f);
      n_layers++;
    }
  for (guint i = 0; i < net->head->n_layers; i++)
    {
      const PlLayer *l = &net->head->layers[i];
      gsize off = (gsize) (l->w - net->head->params), n = (gsize) l->n_out * l->n_in;
      gsize kept = 0, best = 0;

      for (gsize k = 0; k < n; k++)
        {
          kept += head_masks[off + k] != 0.0f;
          if (fabsf (l->w[k]) >= fabsf (l->w[best]))
            best = k;
        }
      g_assert_cmpuint (kept, ==, 1);
      g_assert_cmpfloat (head_masks[off + best], ==, 1.0f);
      n_layers++;
    }
  g_assert_cmpuint (r.pruned, ==, r.weights - n_layers);
}

/* A drag in small steps over networks whose second conv layer reads a first one through a
 * pool: the steps that prune weights of at most half the first layer's filters and do not
 * run the conv layers again are the incremental front path (those filters computed again,
 * their change through the second layer); it must be taken, and every step agree with the
 * pruned copy.
 * The archs: a first layer for the direct filter code (w_out ≥ 8, odd sizes: 9 × 9, pooled
 * to 4 × 4) or for the plain loops (w_out 6), and a second layer with and without padding. */
static void
test_front_channels (void)
{
  static const char *archs[] = { "1x9x9-c4k3p1-m2-c4k3p1-m2-5-3", "1x8x8-c4k3p1-m2-c3k3-6-3",
                                 "1x6x6-c4k3p1-m2-c3k2p1-4-3", "2x10x10-c3k3-m2-c4k3-5-3" };

  for (guint a = 0; a < G_N_ELEMENTS (archs); a++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(PlConvNet) net = make_net (archs[a], 40 + a);
      g_autoptr(PlDataset) eval = make_data (net, 23, 6 + a);
      g_autoptr(PlConvPreview) preview = NULL;
      g_autofree float *before = g_new (float, net->n_params);
      g_autofree float *after = g_new (float, net->n_params);
      const PlConvLayer *fl = &net->layers[0];
      gsize fsize = (gsize) fl->c_in * fl->k * fl->k, f_off = (gsize) (fl->w - net->params);
      guint front_steps = 0, steps = 400;

      preview = pl_conv_preview_new (net, NULL, FALSE, eval, 1 + a % 2, &error);
      g_assert_no_error (error);
      pl_conv_preview_get_masks (preview, before, NULL);
      for (guint i = 0; i <= steps; i++)
        {
          PlConvPreviewResult r;
          guint changed = 0;
          double s = 0.98 * i / steps;

          check_run (preview, net, NULL, FALSE, eval, s, &r);
          pl_conv_preview_get_masks (preview, after, NULL);
          for (guint o = 0; o < fl->c_out; o++)
            changed += memcmp (before + f_off + o * fsize, after + f_off + o * fsize, sizeof (float) * fsize) != 0;
          if (changed > 0 && changed * 2 <= fl->c_out && !r.conv_recomputed)
            front_steps++;
          memcpy (before, after, sizeof (float) * net->n_params);
        }
      g_assert_cmpuint (front_steps, >, 0);
    }
}

/* With the conv weights far larger than the head's, the low sparsities prune head weights only
 * and the conv layers are not run again; the first conv weight pruned runs them. */
static void
test_conv_pass_skipped (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PlConvNet) net = make_net ("1x8x8-c4k3p1-m2-c3k3-6-3", 4);
  g_autoptr(PlDataset) eval = make_data (net, 20, 2);
  g_autoptr(PlConvPreview) preview = NULL;
  PlConvPreviewResult r;
  gsize head_share;
  double s_head;

  for (gsize k = 0; k < net->n_params; k++)
    net->params[k] += copysignf (10.0f, net->params[k]);
  preview = pl_conv_preview_new (net, NULL, FALSE, eval, 1, &error);
  g_assert_no_error (error);
  g_assert_true (pl_conv_preview_run (preview, 0.0, NULL, &r, &error));
  g_assert_true (r.conv_recomputed);
  head_share = r.weights - r.conv_weights;
  s_head = 0.9 * (double) (head_share - net->head->n_layers) / r.weights;
  for (guint i = 1; i <= 10; i++)
    {
      g_assert_true (pl_conv_preview_run (preview, s_head * i / 10, NULL, &r, &error));
      g_assert_false (r.conv_recomputed);
      g_assert_cmpuint (r.conv_pruned, ==, 0);
      check_at (preview, net, NULL, FALSE, eval, s_head * i / 10);
    }
  g_assert_true (pl_conv_preview_run (preview, 1.0, NULL, &r, &error));
  g_assert_true (r.conv_recomputed);
  g_assert_cmpuint (r.conv_pruned, ==, r.conv_weights - 2);
}

static void
test_cancel_and_bad_data (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PlConvNet) net = make_net ("1x8x8-c4k3p1-m2-c3k3-6-3", 6);
  g_autoptr(PlDataset) eval = make_data (net, 20, 2);
  g_autoptr(PlDataset) wrong = pl_test_random_data (5, 10, 3, 1);
  g_autoptr(PlConvPreview) preview = pl_conv_preview_new (net, NULL, FALSE, eval, 2, &error);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  PlConvPreview *bad;
  PlConvPreviewResult r;

  g_assert_no_error (error);
  g_cancellable_cancel (cancellable);
  g_assert_false (pl_conv_preview_run (preview, 0.5, cancellable, &r, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);
  check_at (preview, net, NULL, FALSE, eval, 0.5);
  check_at (preview, net, NULL, FALSE, eval, 0.7);

  bad = pl_conv_preview_new (net, NULL, FALSE, wrong, 1, &error);
  g_assert_null (bad);
  g_assert_error (error, PL_TRAIN_ERROR, PL_TRAIN_ERROR_MISMATCH);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/conv-preview/magnitude", test_magnitude);
  g_test_add_func ("/conv-preview/ties-and-pruned", test_ties_and_pruned);
  g_test_add_func ("/conv-preview/scored", test_scored);
  g_test_add_func ("/conv-preview/keep-one", test_keep_one);
  g_test_add_func ("/conv-preview/conv-pass-skipped", test_conv_pass_skipped);
  g_test_add_func ("/conv-preview/front-channels", test_front_channels);
  g_test_add_func ("/conv-preview/cancel-and-bad-data", test_cancel_and_bad_data);
  return pl_test_run ();
}
