/* Unstructured weight scores of a convolutional network (pl-conv-score.h) against independent
 * references: per-sample gradients by centred finite differences of the nested-loop forward
 * pass in double, LAMP by its definition as a quadratic loop, and pruning by scores against the
 * positions the scores name. */
#include "config.h"

#include <math.h>
#include <string.h>

#include "pl-conv.h"
#include "pl-conv-prune.h"
#include "pl-conv-score.h"
#include "pl-error.h"
#include "pl-rng.h"
#include "pl-test-util.h"

#define N_SAMPLES 4
#define ARCH      "1x6x6-c2k3-m2-4-3"   /* conv, pool, a hidden dense layer, the output */

static PlConvNet *
make_net (guint64 seed)
{
  g_autoptr(GError) error = NULL;
  PlConvNet *net = pl_conv_net_new_from_arch (ARCH, PL_ACTIVATION_TANH, &error);

  g_assert_no_error (error);
  pl_conv_net_init (net, seed);
  return net;
}

/* Where weight t of the flat score layout lives. */
static float *
weight_at (PlConvNet *net,
           gsize      t)
{
  for (guint i = 0; i < net->n_layers; i++)
    {
      PlConvLayer *l = &net->layers[i];
      gsize n = (gsize) l->c_out * l->c_in * l->k * l->k;

      if (l->kind != PL_CONV_LAYER_CONV)
        continue;
      if (t < n)
        return l->w + t;
      t -= n;
    }
  for (guint i = 0; i < net->head->n_layers; i++)
    {
      PlLayer *l = &net->head->layers[i];
      gsize n = (gsize) l->n_out * l->n_in;

      if (t < n)
        return l->w + t;
      t -= n;
    }
  g_assert_not_reached ();
}

/* ∂L_s/∂w_t by the centred difference of the nested-loop forward pass (double), sample @s. */
static double
fd_gradient (PlConvNet       *net,
             const PlDataset *data,
             guint            s,
             gsize            t)
{
  const double eps = 1e-3;
  float *w = weight_at (net, t), saved = *w;
  double prob[16], up, down;

  *w = (float) (saved + eps);
  up = pl_conv_forward_ref (net, data->x + (gsize) s * data->n_features, data->y + s, 1, prob);
  *w = (float) (saved - eps);
  down = pl_conv_forward_ref (net, data->x + (gsize) s * data->n_features, data->y + s, 1, prob);
  *w = saved;
  /* the step actually taken in float */
  return (up - down) / ((double) (float) (saved + eps) - (double) (float) (saved - eps));
}

static void
assert_close (double got,
              double want,
              double rel,
              double abs_tol)
{
  if (!(fabs (got - want) <= rel * fabs (want) + abs_tol))
    g_error ("score %.9g, reference %.9g", got, want);
}

/* gradient, taylor, fisher and snip: the formulas of pl-score.h over per-sample gradients taken
 * by finite differences, every sample scored (one batch holding all of them). */
static void
test_gradient_scores_match_finite_differences (void)
{
  g_autoptr(PlConvNet) net = make_net (3);
  g_autoptr(PlDataset) data = pl_test_random_data (N_SAMPLES, pl_conv_net_n_inputs (net), 3, 5);
  gsize n = pl_conv_net_n_weights (net);
  g_autofree double *abs_sum = g_new0 (double, n);
  g_autofree double *sq_sum = g_new0 (double, n);
  g_autofree double *sum = g_new0 (double, n);
  g_autofree float *got = g_new (float, n);
  PlScoreOptions options = PL_SCORE_OPTIONS_INIT;
  const PlScoreKind kinds[] = { PL_SCORE_GRADIENT, PL_SCORE_TAYLOR, PL_SCORE_FISHER, PL_SCORE_SNIP };
  double snip_norm = 0.0;

  options.n_batches = 1;
  options.batch_size = N_SAMPLES;
  for (gsize t = 0; t < n; t++)
    {
      for (guint s = 0; s < N_SAMPLES; s++)
        {
          double g = fd_gradient (net, data, s, t);

          abs_sum[t] += fabs (g);
          sq_sum[t] += g * g;
          sum[t] += g;
        }
      snip_norm += fabs (sum[t] * *weight_at (net, t));
    }

  for (guint k = 0; k < G_N_ELEMENTS (kinds); k++)
    {
      g_autoptr(GError) error = NULL;

      g_assert_true (pl_conv_weight_scores (net, kinds[k], data, &options, got, &error));
      g_assert_no_error (error);
      for (gsize t = 0; t < n; t++)
        {
          double w = *weight_at (net, t);
          double want = kinds[k] == PL_SCORE_GRADIENT ? abs_sum[t] / N_SAMPLES
                        : kinds[k] == PL_SCORE_TAYLOR ? fabs (w) * abs_sum[t] / N_SAMPLES
                        : kinds[k] == PL_SCORE_FISHER ? 0.5 * w * w * sq_sum[t] / N_SAMPLES
                        : fabs (sum[t] * w) / snip_norm;

          assert_close (got[t], want, 2e-3, kinds[k] == PL_SCORE_SNIP ? 1e-6 : 1e-5);
        }
    }
}

/* LAMP by its definition: score(u) = w_u² / Σ over the layer's v with (w_v², v) ≥ (w_u², u). */
static void
test_lamp_and_magnitude_by_definition (void)
{
  g_autoptr(PlConvNet) net = make_net (9);
  gsize n = pl_conv_net_n_weights (net), start = 0;
  g_autofree float *lamp = g_new (float, n);
  g_autofree float *mag = g_new (float, n);
  g_autoptr(GError) error = NULL;
  gsize sizes[8];
  guint n_layers = 0;

  net->layers[0].w_mask[2] = 0.0f;   /* a pruned weight scores 0 and counts as w = 0 */
  pl_conv_net_apply_masks (net);
  g_assert_true (pl_conv_weight_scores (net, PL_SCORE_LAMP, NULL, NULL, lamp, &error));
  g_assert_true (pl_conv_weight_scores (net, PL_SCORE_MAGNITUDE, NULL, NULL, mag, &error));
  g_assert_no_error (error);

  for (guint i = 0; i < net->n_layers; i++)
    if (net->layers[i].kind == PL_CONV_LAYER_CONV)
      sizes[n_layers++] = (gsize) net->layers[i].c_out * net->layers[i].c_in * net->layers[i].k * net->layers[i].k;
  for (guint i = 0; i < net->head->n_layers; i++)
    sizes[n_layers++] = (gsize) net->head->layers[i].n_out * net->head->layers[i].n_in;

  for (guint i = 0; i < n_layers; i++)
    {
      for (gsize u = start; u < start + sizes[i]; u++)
        {
          double wu = *weight_at (net, u), tail = 0.0;

          for (gsize v = start; v < start + sizes[i]; v++)
            {
              double wv = *weight_at (net, v);

              if (wv * wv > wu * wu || (wv * wv == wu * wu && v >= u))
                tail += wv * wv;
            }
          assert_close (lamp[u], tail > 0 ? wu * wu / tail : 0.0, 1e-5, 1e-7);
          g_assert_cmpfloat (mag[u], ==, fabsf ((float) wu));
        }
      start += sizes[i];
    }
  g_assert_cmpuint (start, ==, n);
  g_assert_cmpfloat (lamp[2], ==, 0.0f);
  g_assert_cmpfloat (mag[2], ==, 0.0f);
}

/* Random scores: in [0, 1), the same for one seed, others for another. */
static void
test_random_is_seeded (void)
{
  g_autoptr(PlConvNet) net = make_net (1);
  gsize n = pl_conv_net_n_weights (net);
  g_autofree float *a = g_new (float, n);
  g_autofree float *b = g_new (float, n);
  g_autofree float *c = g_new (float, n);
  PlScoreOptions options = PL_SCORE_OPTIONS_INIT;
  guint differ = 0;

  g_assert_true (pl_conv_weight_scores (net, PL_SCORE_RANDOM, NULL, &options, a, NULL));
  g_assert_true (pl_conv_weight_scores (net, PL_SCORE_RANDOM, NULL, &options, b, NULL));
  options.seed = 2;
  g_assert_true (pl_conv_weight_scores (net, PL_SCORE_RANDOM, NULL, &options, c, NULL));
  g_assert_cmpmem (a, n * sizeof (float), b, n * sizeof (float));
  for (gsize t = 0; t < n; t++)
    {
      g_assert_cmpfloat (a[t], >=, 0.0f);
      g_assert_cmpfloat (a[t], <, 1.0f);
      differ += a[t] != c[t];
    }
  g_assert_cmpuint (differ, >, n / 2);
}

/* Scores that rise with the position prune, globally and with empty layers allowed, exactly
 * the first round(s·n) weights of the layout; per layer, the first round(s·n_l) of each. */
static void
test_prune_scored_takes_the_lowest (void)
{
  g_autoptr(PlConvNet) global = make_net (4);
  g_autoptr(PlConvNet) layer = make_net (4);
  gsize n = pl_conv_net_n_weights (global), start = 0;
  g_autofree float *rising = g_new (float, n);
  gsize first = (gsize) nearbyint (0.3 * n);

  for (gsize t = 0; t < n; t++)
    rising[t] = (float) t;
  pl_conv_prune_scored (global, rising, 0.3, TRUE, TRUE);
  for (gsize t = 0; t < n; t++)
    g_assert_cmpfloat (*weight_at (global, t) == 0.0f, ==, t < first);
  g_assert_cmpuint (pl_conv_net_n_pruned (global), ==, first);

  pl_conv_prune_scored (layer, rising, 0.5, FALSE, FALSE);
  for (guint i = 0; i < layer->n_layers; i++)
    {
      PlConvLayer *l = &layer->layers[i];
      gsize nl = (gsize) l->c_out * l->c_in * l->k * l->k;

      if (l->kind != PL_CONV_LAYER_CONV)
        continue;
      for (gsize k = 0; k < nl; k++)
        g_assert_cmpfloat (l->w_mask[k] == 0.0f, ==, k < (gsize) nearbyint (0.5 * nl));
      start += nl;
    }
  for (guint i = 0; i < layer->head->n_layers; i++)
    {
      PlLayer *l = &layer->head->layers[i];
      gsize nl = (gsize) l->n_out * l->n_in;

      for (gsize k = 0; k < nl; k++)
        g_assert_cmpfloat (l->w_mask[k] == 0.0f, ==, k < (gsize) nearbyint (0.5 * nl));
    }
}

static void
test_rejects (void)
{
  g_autoptr(PlConvNet) net = make_net (1);
  g_autoptr(PlDataset) wrong = pl_test_random_data (3, 10, 3, 5);
  g_autofree float *out = g_new (float, pl_conv_net_n_weights (net));
  g_autoptr(GError) error = NULL;

  g_assert_false (pl_conv_weight_scores (net, PL_SCORE_WANDA, NULL, NULL, out, &error));
  g_assert_error (error, PL_SPEC_ERROR, PL_SPEC_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "wanda"));
  g_clear_error (&error);
  g_assert_false (pl_conv_weight_scores (net, PL_SCORE_TAYLOR, NULL, NULL, out, &error));
  g_assert_error (error, PL_SPEC_ERROR, PL_SPEC_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (pl_conv_weight_scores (net, PL_SCORE_SNIP, wrong, NULL, out, &error));
  g_assert_error (error, PL_TRAIN_ERROR, PL_TRAIN_ERROR_MISMATCH);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/engine/conv/score/gradient-kinds-match-finite-differences",
                   test_gradient_scores_match_finite_differences);
  g_test_add_func ("/engine/conv/score/lamp-and-magnitude-by-definition", test_lamp_and_magnitude_by_definition);
  g_test_add_func ("/engine/conv/score/random-is-seeded", test_random_is_seeded);
  g_test_add_func ("/engine/conv/score/prune-takes-the-lowest", test_prune_scored_takes_the_lowest);
  g_test_add_func ("/engine/conv/score/rejects", test_rejects);

  return pl_test_run ();
}
