/* Importance scores: hand-computed values on tiny networks, and the gradient-based scores
 * against their definitions computed independently with pl_nn_backward_ref. */
#include "config.h"

#include <math.h>
#include <string.h>

#include "pl-dataset.h"
#include "pl-error.h"
#include "pl-nn.h"
#include "pl-rng.h"
#include "pl-score.h"
#include "pl-test-util.h"

/* ---- helpers ----------------------------------------------------------------------------- */

/* A 5-7-6-4 network with random biases and every fifth weight pruned. */
static PlMlp *
random_model (PlActivation activation,
              guint64      seed)
{
  static const guint sizes[] = { 5, 7, 6, 4 };
  PlMlp *m = pl_mlp_new (sizes, G_N_ELEMENTS (sizes) - 1, activation);
  PlRng rng;

  pl_mlp_init (m, seed);
  pl_rng_init (&rng, seed + 1);
  for (guint i = 0; i < m->n_layers; i++)
    {
      PlLayer *l = &m->layers[i];

      for (guint o = 0; o < l->n_out; o++)
        l->b[o] = (float) (0.3 * pl_rng_normal (&rng));
      for (gsize k = 0; k < (gsize) l->n_out * l->n_in; k += 5)
        l->w_mask[k] = 0.0f;
    }
  pl_mlp_apply_masks (m);

  return m;
}

/* The batches of the documented rule: a permutation seeded by @seed cut into consecutive
 * batches of @batch_size, the first @n_batches of them. Returns the number of batches and
 * fills starts[] / sizes[]; @order receives the permutation. */
static guint
reference_batches (guint    n,
                   guint    n_batches,
                   guint    batch_size,
                   guint64  seed,
                   guint32 *order,
                   guint   *sizes)
{
  PlRng rng;
  guint b = 0;

  for (guint s = 0; s < n; s++)
    order[s] = s;
  pl_rng_init (&rng, seed);
  pl_rng_shuffle (&rng, order, n);
  for (guint start = 0; start < n && b < n_batches; start += batch_size)
    sizes[b++] = MIN (batch_size, n - start);

  return b;
}

static PlScores *
compute (const PlMlp     *m,
         PlScoreKind      kind,
         const PlDataset *d,
         guint            n_batches,
         guint            batch_size,
         guint64          seed,
         guint            bins)
{
  g_autoptr(GError) error = NULL;
  PlScoreOptions options = PL_SCORE_OPTIONS_INIT;
  PlScores *scores;

  options.n_batches = n_batches;
  options.batch_size = batch_size;
  options.seed = seed;
  options.entropy_bins = bins;
  scores = pl_scores_compute (m, kind, d, &options, &error);
  g_assert_no_error (error);
  g_assert_nonnull (scores);
  g_assert_cmpint (scores->kind, ==, kind);
  g_assert_cmpint (scores->per_neuron, ==, pl_score_info (kind)->per_neuron);
  g_assert_cmpuint (scores->n_layers, ==, m->n_layers);

  return scores;
}

/* ---- names and explanations -------------------------------------------------------------- */

static void
test_info_and_parse (void)
{
  for (guint k = 0; k < PL_N_SCORES; k++)
    {
      const PlScoreInfo *info = pl_score_info (k);
      g_autoptr(GError) error = NULL;
      PlScoreKind parsed = PL_N_SCORES;

      g_assert_nonnull (info->name);
      g_assert_nonnull (info->title);
      g_assert_nonnull (info->formula);
      g_assert_nonnull (info->explanation);
      g_assert_cmpuint (strlen (info->explanation), >, 150);
      g_assert_true (pl_score_parse (info->name, &parsed, &error));
      g_assert_no_error (error);
      g_assert_cmpint (parsed, ==, k);
      /* only magnitude, random, the weight norms, LAMP and SynFlow are free of data */
      g_assert_cmpint (info->needs_data, ==,
                       !(k == PL_SCORE_MAGNITUDE || k == PL_SCORE_RANDOM
                         || k == PL_SCORE_NEURON_L1 || k == PL_SCORE_NEURON_L2
                         || k == PL_SCORE_LAMP || k == PL_SCORE_SYNFLOW));
      g_assert_cmpint (info->per_neuron, ==,
                       k >= PL_SCORE_NEURON_L1 && k <= PL_SCORE_NEURON_TAYLOR);
      g_assert_cmpint (info->at_init, ==,
                       k == PL_SCORE_SNIP || k == PL_SCORE_GRASP || k == PL_SCORE_SYNFLOW);
      for (guint j = 0; j < k; j++)
        g_assert_cmpstr (pl_score_info (j)->name, !=, info->name);
    }

  {
    g_autoptr(GError) error = NULL;
    PlScoreKind kind;

    g_assert_false (pl_score_parse ("saliency", &kind, &error));
    g_assert_error (error, PL_SPEC_ERROR, PL_SPEC_ERROR_UNKNOWN_NAME);
    g_assert_nonnull (strstr (error->message, "neuron-taylor"));
  }
}

/* ---- data-free scores -------------------------------------------------------------------- */

/* 2-3-2: W0 = [[1, -2], [0.5, 3], [-4, 0.25]], W1 = [[1, 2, 3], [-1, 0, 0.5]] */
static PlMlp *
tiny_model (void)
{
  static const guint sizes[] = { 2, 3, 2 };
  static const float w0[] = { 1, -2, 0.5f, 3, -4, 0.25f };
  static const float w1[] = { 1, 2, 3, -1, 0, 0.5f };
  PlMlp *m = pl_mlp_new (sizes, 2, PL_ACTIVATION_RELU);

  memcpy (m->layers[0].w, w0, sizeof w0);
  memcpy (m->layers[1].w, w1, sizeof w1);

  return m;
}

static void
test_magnitude_hand_computed (void)
{
  g_autoptr(PlMlp) m = tiny_model ();
  g_autoptr(PlScores) s = NULL;
  static const float e0[] = { 1, 2, 0.5f, 3, 0, 0.25f };  /* weight (2, 0) pruned */
  static const float e1[] = { 1, 2, 3, 1, 0, 0.5f };

  m->layers[0].w_mask[4] = 0.0f;
  pl_mlp_apply_masks (m);
  s = compute (m, PL_SCORE_MAGNITUDE, NULL, 8, 256, 0, 16);
  g_assert_cmpuint (s->n[0], ==, 6);
  g_assert_cmpuint (s->n[1], ==, 6);
  for (guint k = 0; k < 6; k++)
    {
      g_assert_cmpfloat (s->layer[0][k], ==, e0[k]);
      g_assert_cmpfloat (s->layer[1][k], ==, e1[k]);
    }
}

static void
test_random_is_seeded (void)
{
  g_autoptr(PlMlp) m = tiny_model ();
  g_autoptr(PlScores) a = compute (m, PL_SCORE_RANDOM, NULL, 8, 256, 7, 16);
  g_autoptr(PlScores) b = compute (m, PL_SCORE_RANDOM, NULL, 8, 256, 7, 16);
  g_autoptr(PlScores) c = compute (m, PL_SCORE_RANDOM, NULL, 8, 256, 8, 16);
  guint differ = 0;

  for (guint i = 0; i < m->n_layers; i++)
    for (gsize k = 0; k < a->n[i]; k++)
      {
        g_assert_cmpfloat (a->layer[i][k], ==, b->layer[i][k]);
        g_assert_cmpfloat (a->layer[i][k], >=, 0.0f);
        g_assert_cmpfloat (a->layer[i][k], <, 1.0f);
        differ += a->layer[i][k] != c->layer[i][k];
      }
  g_assert_cmpuint (differ, >=, 10);
}

static void
test_neuron_norms_hand_computed (void)
{
  g_autoptr(PlMlp) m = tiny_model ();
  g_autoptr(PlScores) l1 = NULL;
  g_autoptr(PlScores) l2 = NULL;

  /* masked but not applied: the weight's value is still there and must count as 0 */
  m->layers[0].w_mask[3] = 0.0f;  /* the 3 of neuron 1 */
  l1 = compute (m, PL_SCORE_NEURON_L1, NULL, 8, 256, 0, 16);
  l2 = compute (m, PL_SCORE_NEURON_L2, NULL, 8, 256, 0, 16);

  g_assert_cmpuint (l1->n[0], ==, 3);
  g_assert_cmpuint (l1->n[1], ==, 0);  /* no scores for the output layer */
  g_assert_null (l1->layer[1]);
  g_assert_cmpfloat_with_epsilon (l1->layer[0][0], 3.0, 1e-6);
  g_assert_cmpfloat_with_epsilon (l1->layer[0][1], 0.5, 1e-6);
  g_assert_cmpfloat_with_epsilon (l1->layer[0][2], 4.25, 1e-6);
  g_assert_cmpfloat_with_epsilon (l2->layer[0][0], sqrt (5.0), 1e-6);
  g_assert_cmpfloat_with_epsilon (l2->layer[0][1], 0.5, 1e-6);
  g_assert_cmpfloat_with_epsilon (l2->layer[0][2], sqrt (16.0625), 1e-6);
}

/* ---- activation scores ------------------------------------------------------------------- */

/* 2-3-2 with W0 = [[1, 0], [0, 1], [0, 0]], b0 = [0, 0, 0.5] on the samples (1, 0), (2, 0),
 * (0, 3), (−1, −1): hidden activations n0 = (1, 2, 0, 0), n1 = (0, 0, 3, 0), n2 = 0.5. */
static void
activation_fixture (PlMlp     **model,
                    PlDataset **data)
{
  static const guint sizes[] = { 2, 3, 2 };
  static const float w0[] = { 1, 0, 0, 1, 0, 0 };
  static const float b0[] = { 0, 0, 0.5f };
  static const float w1[] = { 1, -1, 0.5f, -1, 1, 0.25f };
  static const float x[] = { 1, 0, 2, 0, 0, 3, -1, -1 };
  static const guint32 y[] = { 0, 1, 1, 0 };
  PlMlp *m = pl_mlp_new (sizes, 2, PL_ACTIVATION_RELU);
  PlDataset *d = pl_dataset_new (4, 2, 2);

  memcpy (m->layers[0].w, w0, sizeof w0);
  memcpy (m->layers[0].b, b0, sizeof b0);
  memcpy (m->layers[1].w, w1, sizeof w1);
  memcpy (d->x, x, sizeof x);
  memcpy (d->y, y, sizeof y);
  *model = m;
  *data = d;
}

static void
check_neuron_scores (PlScoreKind   kind,
                     const double *expected,
                     guint         bins)
{
  g_autoptr(PlMlp) m = NULL;
  g_autoptr(PlDataset) d = NULL;

  activation_fixture (&m, &d);
  /* whatever the batching, as long as every sample is scored once */
  for (guint bs = 1; bs <= 4; bs++)
    {
      g_autoptr(PlScores) s = compute (m, kind, d, 8, bs, bs, bins);

      g_assert_cmpuint (s->n[0], ==, 3);
      g_assert_cmpuint (s->n[1], ==, 0);
      for (guint j = 0; j < 3; j++)
        g_assert_cmpfloat_with_epsilon (s->layer[0][j], expected[j], 1e-6);
    }
}

static void
test_mean_activation_hand_computed (void)
{
  static const double e[] = { 0.75, 0.75, 0.5 };

  check_neuron_scores (PL_SCORE_ACTIVATION, e, 16);
}

static void
test_apoz_hand_computed (void)
{
  static const double e[] = { 1 - 2 / 4.0, 1 - 3 / 4.0, 1 };

  check_neuron_scores (PL_SCORE_APOZ, e, 16);
}

static void
test_hoyer_score_hand_computed (void)
{
  /* n0: (2 − 3/√5)/(2 − 1); n1 one-hot: Hoyer 1; n2 constant: Hoyer 0 */
  double e[] = { 1 - (2 - 3 / sqrt (5.0)), 0, 1 };

  check_neuron_scores (PL_SCORE_HOYER, e, 16);
}

static void
test_entropy_hand_computed (void)
{
  /* 3 bins over each neuron's own range: n0 over [0, 2] falls in bins 1, 2, 0, 0; n1 over
   * [0, 3] in 0, 0, 2, 0; the constant n2 always in bin 0, entropy 0 */
  double e[] = { 1.5, -(0.75 * log2 (0.75) + 0.25 * log2 (0.25)), 0 };

  check_neuron_scores (PL_SCORE_ENTROPY, e, 3);
}

/* 2-3-2 with W0 = [[1, 0], [0, 1], [0, 0]], b0 = [0, 0, 0.5] on (0, 0), (0.1, 0), (0.2, 3),
 * (0.3, 0): n0 = (0, 0.1, 0.2, 0.3), n1 = (0, 0, 3, 0), n2 = 0.5. */
static void
entropy_fixture (PlMlp     **model,
                 PlDataset **data)
{
  static const float x[] = { 0, 0, 0.1f, 0, 0.2f, 3, 0.3f, 0 };

  activation_fixture (model, data);
  memcpy ((*data)->x, x, sizeof x);
}

/* Luo & Wu bin each channel's own values: with 4 bins n0 spreads over [0, 0.3] into bins
 * 0, 1, 2, 3 (2 bits), although n1's outputs reach 3 — over the layer's [0, 3] all of n0 would
 * fall in bin 0 (0 bits). n1 = (0, 0, 3, 0): −(¾·log₂ ¾ + ¼·log₂ ¼). */
static void
test_entropy_bins_each_neuron_over_its_range (void)
{
  g_autoptr(PlMlp) m = NULL;
  g_autoptr(PlDataset) d = NULL;
  double e1 = -(0.75 * log2 (0.75) + 0.25 * log2 (0.25));

  entropy_fixture (&m, &d);
  for (guint bs = 1; bs <= 4; bs++)
    {
      g_autoptr(PlScores) s = compute (m, PL_SCORE_ENTROPY, d, 8, bs, bs, 4);

      g_assert_cmpfloat_with_epsilon (s->layer[0][0], 2.0, 1e-6);
      g_assert_cmpfloat_with_epsilon (s->layer[0][1], e1, 1e-6);
      g_assert_cmpfloat (s->layer[0][2], ==, 0.0f);
    }
}

/* A neuron's entropy does not depend on its scale or on the other neurons of its layer: scaling
 * n0's incoming weights by 7 (ReLU is positively homogeneous, b0 = 0) or n1's by 1000 changes
 * nothing. */
static void
test_entropy_ignores_scale_and_outliers (void)
{
  g_autoptr(PlMlp) m = NULL;
  g_autoptr(PlDataset) d = NULL;
  g_autoptr(PlScores) before = NULL;
  g_autoptr(PlScores) after = NULL;

  entropy_fixture (&m, &d);
  before = compute (m, PL_SCORE_ENTROPY, d, 8, 4, 0, 4);
  m->layers[0].w[0] *= 7.0f;
  m->layers[0].w[3] *= 1000.0f;
  after = compute (m, PL_SCORE_ENTROPY, d, 8, 4, 0, 4);
  for (guint j = 0; j < 3; j++)
    g_assert_cmpfloat_with_epsilon (after->layer[0][j], before->layer[0][j], 1e-6);
}

static void
test_entropy_of_constant_layer_is_zero (void)
{
  g_autoptr(PlMlp) m = NULL;
  g_autoptr(PlDataset) d = NULL;
  g_autoptr(PlScores) s = NULL;

  activation_fixture (&m, &d);
  memset (m->layers[0].w, 0, sizeof (float) * 6);  /* every neuron constant: range 0 */
  s = compute (m, PL_SCORE_ENTROPY, d, 8, 4, 0, 16);
  for (guint j = 0; j < 3; j++)
    g_assert_cmpfloat (s->layer[0][j], ==, 0.0f);
}

static void
test_hoyer_of_never_active_neuron_is_zero (void)
{
  g_autoptr(PlMlp) m = NULL;
  g_autoptr(PlDataset) d = NULL;
  g_autoptr(PlScores) s = NULL;

  activation_fixture (&m, &d);
  m->layers[0].b[2] = -1.0f;  /* n2 = relu(−1) = 0 on every sample */
  s = compute (m, PL_SCORE_HOYER, d, 8, 4, 0, 16);
  g_assert_cmpfloat (s->layer[0][2], ==, 0.0f);
  g_assert_cmpfloat (s->layer[0][0], >, 0.0f);
}

static void
test_pl_hoyer (void)
{
  float onehot[] = { 0, 0, 5, 0, 0, 0 };
  float constant[] = { -2, -2, -2, -2 };
  float zero[] = { 0, 0, 0 };
  float x[] = { 1, 9, -2, 9, 0, 9 };  /* stride 2: 1, −2, 0 */

  g_assert_cmpfloat_with_epsilon (pl_hoyer (onehot, 6, 1), 1.0, 1e-12);
  g_assert_cmpfloat_with_epsilon (pl_hoyer (constant, 4, 1), 0.0, 1e-12);
  g_assert_cmpfloat (pl_hoyer (zero, 3, 1), ==, 0.0);
  g_assert_cmpfloat (pl_hoyer (onehot + 2, 1, 1), ==, 0.0);
  g_assert_cmpfloat_with_epsilon (pl_hoyer (x, 3, 2),
                                  (sqrt (3.0) - 3 / sqrt (5.0)) / (sqrt (3.0) - 1), 1e-9);
  g_assert_cmpfloat_with_epsilon (pl_hoyer_from_sums (3, 3, 5),
                                  (sqrt (3.0) - 3 / sqrt (5.0)) / (sqrt (3.0) - 1), 1e-12);
}

/* ---- per-sample scores against their definitions ---------------------------------------- */

/* The scored samples of the documented rule, in order: the first min(n, n_batches·batch_size)
 * of the seeded permutation. Returns their number. */
static guint
scored_samples (guint    n,
                guint    n_batches,
                guint    batch_size,
                guint64  seed,
                guint32 *order)
{
  g_autofree guint *sizes = g_new (guint, n);
  guint nb = reference_batches (n, n_batches, batch_size, seed, order, sizes), total = 0;

  for (guint b = 0; b < nb; b++)
    total += sizes[b];

  return total;
}

static gboolean
close_relative (double actual,
                double expected,
                double rel,
                double abs)
{
  return fabs (actual - expected) <= abs + rel * fabs (expected);
}

/* gradient, taylor and fisher against per-sample gradients computed one sample at a time by
 * the double-precision reference backward on a batch of 1 (∂L_s/∂θ of that sample alone), then
 * the formulas as written: mean_s |g_s|, mean_s |w·g_s|, ½·w²·mean_s g_s². Within 1e-5
 * relative. */
static void
check_weight_gradient_scores (PlActivation activation,
                              guint        n,
                              guint        n_batches,
                              guint        batch_size)
{
  const guint64 seed = 42;
  g_autoptr(PlMlp) m = random_model (activation, 3);
  g_autoptr(PlDataset) d = pl_test_random_data (n, 5, 4, 4);
  g_autoptr(PlScores) grad = compute (m, PL_SCORE_GRADIENT, d, n_batches, batch_size, seed, 16);
  g_autoptr(PlScores) taylor = compute (m, PL_SCORE_TAYLOR, d, n_batches, batch_size, seed, 16);
  g_autoptr(PlScores) fisher = compute (m, PL_SCORE_FISHER, d, n_batches, batch_size, seed, 16);
  g_autofree guint32 *order = g_new (guint32, n);
  g_autofree double *g = g_new (double, m->n_params);
  g_autofree double *sum_abs = g_new0 (double, m->n_params);
  g_autofree double *sum_taylor = g_new0 (double, m->n_params);
  g_autofree double *sum_sq = g_new0 (double, m->n_params);
  guint total = scored_samples (n, n_batches, batch_size, seed, order);
  double worst = 0.0;

  for (guint t = 0; t < total; t++)
    {
      guint32 src = order[t];

      pl_nn_backward_ref (m, d->x + (gsize) src * 5, &d->y[src], 1, g);  /* ∂L_s/∂θ */
      for (gsize p = 0; p < m->n_params; p++)
        {
          sum_abs[p] += fabs (g[p]);
          sum_taylor[p] += fabs (m->params[p] * g[p]);
          sum_sq[p] += g[p] * g[p];
        }
    }

  for (guint i = 0; i < m->n_layers; i++)
    {
      const PlLayer *l = &m->layers[i];
      gsize off = l->w - m->params;

      g_assert_cmpuint (grad->n[i], ==, (gsize) l->n_out * l->n_in);
      for (gsize k = 0; k < grad->n[i]; k++)
        {
          double w = l->w[k];
          double e_grad = sum_abs[off + k] / total;
          double e_taylor = sum_taylor[off + k] / total;
          double e_fisher = 0.5 * w * w * sum_sq[off + k] / total;

          worst = MAX (worst, fabs (grad->layer[i][k] - e_grad) / MAX (e_grad, 1e-30));
          g_assert_true (close_relative (grad->layer[i][k], e_grad, 1e-5, 1e-12));
          g_assert_true (close_relative (taylor->layer[i][k], e_taylor, 1e-5, 1e-12));
          g_assert_true (close_relative (fisher->layer[i][k], e_fisher, 1e-5, 1e-14));
          if (l->w_mask[k] == 0.0f)
            {
              /* pruned weights: their gradient is still given, Taylor and Fisher are 0 */
              g_assert_cmpfloat (taylor->layer[i][k], ==, 0.0f);
              g_assert_cmpfloat (fisher->layer[i][k], ==, 0.0f);
            }
        }
    }
  g_test_message ("%s, %u samples in batches of at most %u: worst relative gradient difference "
                  "%.2e", pl_activation_to_string (activation), total, batch_size, worst);
}

static void
test_gradient_scores_match_definitions (void)
{
  for (PlActivation a = PL_ACTIVATION_RELU; a <= PL_ACTIVATION_SIGMOID; a++)
    {
      check_weight_gradient_scores (a, 40, 3, 8);    /* 24 of the 40 samples */
      check_weight_gradient_scores (a, 20, 8, 8);    /* data run out: 8, 8, 4 */
      check_weight_gradient_scores (a, 10, 1, 256);  /* one batch of everything */
    }
}

/* The batching does not matter: a short last batch weighs its samples like the others. */
static void
test_gradient_scores_weigh_samples_not_batches (void)
{
  g_autoptr(PlMlp) m = random_model (PL_ACTIVATION_TANH, 3);
  g_autoptr(PlDataset) d = pl_test_random_data (21, 5, 4, 8);

  for (PlScoreKind k = PL_SCORE_GRADIENT; k <= PL_SCORE_FISHER; k++)
    {
      g_autoptr(PlScores) one = compute (m, k, d, 1, 21, 0, 16);     /* one batch of 21 */
      g_autoptr(PlScores) many = compute (m, k, d, 8, 4, 0, 16);     /* 5 × 4 + 1 */

      for (guint i = 0; i < m->n_layers; i++)
        for (gsize j = 0; j < one->n[i]; j++)
          g_assert_true (close_relative (many->layer[i][j], one->layer[i][j], 1e-5, 1e-12));
    }
}

/* Hidden activations of one sample in double: a[i] for hidden layer i. */
static void
hidden_forward (const PlMlp *m,
                const float *x,
                double       a[][16])
{
  double in[16];

  for (guint k = 0; k < m->sizes[0]; k++)
    in[k] = x[k];
  for (guint i = 0; i + 1 < m->n_layers; i++)
    {
      const PlLayer *l = &m->layers[i];

      for (guint o = 0; o < l->n_out; o++)
        {
          double z = l->b[o];

          for (guint k = 0; k < l->n_in; k++)
            z += (double) l->w[(gsize) o * l->n_in + k] * in[k];
          switch (m->activation)
            {
            case PL_ACTIVATION_RELU:
              a[i][o] = z > 0 ? z : 0;
              break;
            case PL_ACTIVATION_TANH:
              a[i][o] = tanh (z);
              break;
            default:
              a[i][o] = 1 / (1 + exp (-z));
            }
          a[i][o] *= l->neuron_mask[o];
        }
      memcpy (in, a[i], sizeof (double) * l->n_out);
    }
}

/* Molchanov et al. 2017: Θ_j = mean_s |a_sj · ∂L_s/∂a_sj| (eq. 7, per example, then averaged),
 * Θ̂_j = Θ_j / √(Σ_k Θ_k²) per layer (§2.3). ∂L_s/∂a_j = Σ_o ∂L_s/∂b_o · W_oj of the next layer:
 * the bias gradients of pl_nn_backward_ref on the single sample s. */
static void
check_neuron_taylor (PlActivation activation)
{
  const guint n = 30, n_batches = 2, batch_size = 12;
  const guint64 seed = 9;
  g_autoptr(PlMlp) m = random_model (activation, 5);
  g_autoptr(PlDataset) d = pl_test_random_data (n, 5, 4, 6);
  g_autoptr(PlScores) s = NULL;
  g_autofree guint32 *order = g_new (guint32, n);
  g_autofree double *g = g_new (double, m->n_params);
  double acc[PL_MLP_MAX_LAYERS][16] = { { 0 } };
  double a[PL_MLP_MAX_LAYERS][16];
  guint total;

  /* a pruned neuron scores 0 */
  for (guint o = 0; o < m->layers[1].n_out; o++)
    m->layers[1].w_mask[(gsize) o * m->layers[1].n_in + 3] = 0.0f;
  pl_mlp_apply_masks (m);
  g_assert_cmpfloat (m->layers[0].neuron_mask[3], ==, 0.0f);

  s = compute (m, PL_SCORE_NEURON_TAYLOR, d, n_batches, batch_size, seed, 16);
  total = scored_samples (n, n_batches, batch_size, seed, order);

  for (guint t = 0; t < total; t++)
    {
      const float *x = d->x + (gsize) order[t] * 5;

      hidden_forward (m, x, a);
      pl_nn_backward_ref (m, x, &d->y[order[t]], 1, g);
      for (guint i = 0; i + 1 < m->n_layers; i++)
        {
          const PlLayer *next = &m->layers[i + 1];
          const double *gb = g + (next->b - m->params);

          for (guint j = 0; j < next->n_in; j++)
            {
              double da = 0.0;

              for (guint o = 0; o < next->n_out; o++)
                da += gb[o] * next->w[(gsize) o * next->n_in + j];
              acc[i][j] += fabs (a[i][j] * da);
            }
        }
    }

  for (guint i = 0; i + 1 < m->n_layers; i++)
    {
      double norm_sq = 0.0;

      g_assert_cmpuint (s->n[i], ==, m->layers[i].n_out);
      for (guint j = 0; j < m->layers[i].n_out; j++)
        norm_sq += (acc[i][j] / total) * (acc[i][j] / total);
      for (guint j = 0; j < m->layers[i].n_out; j++)
        {
          double e = acc[i][j] / total / sqrt (norm_sq);

          g_assert_true (close_relative (s->layer[i][j], e, 1e-5, 1e-9));
        }
    }
  g_assert_cmpuint (s->n[m->n_layers - 1], ==, 0);
  g_assert_cmpfloat (s->layer[0][3], ==, 0.0f);
}

static void
test_neuron_taylor_matches_definition (void)
{
  for (PlActivation a = PL_ACTIVATION_RELU; a <= PL_ACTIVATION_SIGMOID; a++)
    check_neuron_taylor (a);
}

/* Each layer's neuron-Taylor scores have unit ℓ2 norm, so that a global ranking compares
 * layers whose raw values differ in scale. */
static void
test_neuron_taylor_is_normalised_per_layer (void)
{
  g_autoptr(PlMlp) m = random_model (PL_ACTIVATION_RELU, 11);
  g_autoptr(PlDataset) d = pl_test_random_data (50, 5, 4, 12);
  g_autoptr(PlScores) s = NULL;

  /* scale the second hidden layer's outgoing weights up: its raw Θ grow tenfold */
  for (gsize k = 0; k < (gsize) m->layers[2].n_out * m->layers[2].n_in; k++)
    m->layers[2].w[k] *= 10.0f;
  s = compute (m, PL_SCORE_NEURON_TAYLOR, d, 8, 16, 1, 16);
  for (guint i = 0; i + 1 < m->n_layers; i++)
    {
      double norm_sq = 0.0;

      for (guint j = 0; j < m->layers[i].n_out; j++)
        norm_sq += (double) s->layer[i][j] * s->layer[i][j];
      g_assert_cmpfloat_with_epsilon (norm_sq, 1.0, 1e-5);
    }
}

/* ---- against PyTorch ---------------------------------------------------------------------- */

/* A little-endian reader of tests/data/score-torch.bin (tests/torch/make_score_fixture.py). */
typedef struct {
  const guint8 *p, *end;
} Reader;

static void
read_bytes (Reader *r,
            void   *out,
            gsize   n)
{
  g_assert_cmpuint ((gsize) (r->end - r->p), >=, n);
  memcpy (out, r->p, n);
  r->p += n;
}

static guint32
read_u32 (Reader *r)
{
  guint32 v;

  read_bytes (r, &v, sizeof v);
  return GUINT32_FROM_LE (v);
}

static void
test_per_sample_scores_match_pytorch (void)
{
  static const struct { const char *name; PlScoreKind kind; } kinds[] = {
    { "gradient", PL_SCORE_GRADIENT }, { "taylor", PL_SCORE_TAYLOR },
    { "fisher", PL_SCORE_FISHER }, { "neuron-taylor", PL_SCORE_NEURON_TAYLOR },
    { "entropy", PL_SCORE_ENTROPY },
  };
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", "score-torch.bin", NULL);
  g_autofree char *contents = NULL;
  g_autoptr(PlMlp) m = NULL;
  g_autoptr(PlDataset) d = NULL;
  guint sizes[PL_MLP_MAX_LAYERS + 1];
  guint activation, n_layers, n, n_classes, bins, n_scores, checked = 0;
  char magic[8];
  gsize length;
  Reader r;

  g_assert_true (g_file_get_contents (path, &contents, &length, &error));
  g_assert_no_error (error);
  r = (Reader) { (const guint8 *) contents, (const guint8 *) contents + length };

  /* written by tests/torch/make_score_fixture.py, FIXTURE_VERSION 1; little-endian floats */
  g_assert_cmpint (G_BYTE_ORDER, ==, G_LITTLE_ENDIAN);
  read_bytes (&r, magic, sizeof magic);
  g_assert_cmpmem (magic, 8, "PLSCORE1", 8);
  g_assert_cmpuint (read_u32 (&r), ==, 1);
  activation = read_u32 (&r);
  n_layers = read_u32 (&r);
  g_assert_cmpuint (activation, <=, PL_ACTIVATION_SIGMOID);
  g_assert_cmpuint (n_layers, >=, 2);
  g_assert_cmpuint (n_layers, <=, PL_MLP_MAX_LAYERS);
  for (guint i = 0; i <= n_layers; i++)
    sizes[i] = read_u32 (&r);
  n = read_u32 (&r);
  n_classes = read_u32 (&r);
  bins = read_u32 (&r);

  m = pl_mlp_new (sizes, n_layers, activation);
  d = pl_dataset_new (n, sizes[0], n_classes);
  read_bytes (&r, m->params, sizeof (float) * m->n_params);
  read_bytes (&r, m->masks, sizeof (float) * m->n_params);
  read_bytes (&r, d->x, sizeof (float) * n * sizes[0]);
  read_bytes (&r, d->y, sizeof (guint32) * n);
  pl_mlp_apply_masks (m);
  g_assert_cmpuint (pl_mlp_n_pruned (m), >, 0);

  n_scores = read_u32 (&r);
  for (guint k = 0; k < n_scores; k++)
    {
      char name[17] = { 0 };
      guint count, kind = PL_N_SCORES;
      g_autofree double *expected = NULL;
      g_autoptr(PlScores) s = NULL;
      double worst = 0.0;
      gsize at = 0;

      read_bytes (&r, name, 16);
      count = read_u32 (&r);
      expected = g_new (double, MAX (count, 1));
      read_bytes (&r, expected, sizeof (double) * count);
      for (guint j = 0; j < G_N_ELEMENTS (kinds); j++)
        if (strcmp (name, kinds[j].name) == 0)
          kind = kinds[j].kind;
      g_assert_cmpuint (kind, <, PL_N_SCORES);

      /* every sample scored once, in batches of 8 with a short last one */
      s = compute (m, kind, d, 100, 8, 3, bins);
      for (guint i = 0; i < m->n_layers; i++)
        for (gsize j = 0; j < s->n[i]; j++, at++)
          {
            g_assert_cmpuint (at, <, count);
            worst = MAX (worst, fabs (s->layer[i][j] - expected[at]) / MAX (fabs (expected[at]), 1e-12));
            g_assert_true (close_relative (s->layer[i][j], expected[at], 1e-5, 1e-12));
          }
      g_assert_cmpuint (at, ==, count);
      g_test_message ("%s: %u values, worst relative difference to PyTorch %.2e", name, count, worst);
      checked++;
    }
  g_assert_cmpuint (checked, ==, G_N_ELEMENTS (kinds));
  g_assert_true (r.p == r.end);
}

static void
test_data_scores_are_seeded (void)
{
  g_autoptr(PlMlp) m = random_model (PL_ACTIVATION_RELU, 3);
  g_autoptr(PlDataset) d = pl_test_random_data (100, 5, 4, 4);

  for (PlScoreKind k = 0; k < PL_N_SCORES; k++)
    {
      g_autoptr(PlScores) a = compute (m, k, d, 3, 10, 5, 8);
      g_autoptr(PlScores) b = compute (m, k, d, 3, 10, 5, 8);

      for (guint i = 0; i < m->n_layers; i++)
        {
          g_assert_cmpuint (a->n[i], ==, b->n[i]);
          if (a->n[i] > 0)
            g_assert_cmpmem (a->layer[i], a->n[i] * sizeof (float),
                             b->layer[i], b->n[i] * sizeof (float));
        }
    }
}

static void
test_missing_data_is_an_error (void)
{
  g_autoptr(PlMlp) m = random_model (PL_ACTIVATION_RELU, 3);
  g_autoptr(PlDataset) empty = pl_dataset_new (0, 5, 4);
  g_autoptr(PlDataset) wrong = pl_test_random_data (10, 3, 4, 1);

  for (PlScoreKind k = 0; k < PL_N_SCORES; k++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(PlScores) s = pl_scores_compute (m, k, NULL, NULL, &error);

      if (!pl_score_info (k)->needs_data)
        {
          g_assert_no_error (error);
          g_assert_nonnull (s);
          continue;
        }
      g_assert_null (s);
      g_assert_error (error, PL_SPEC_ERROR, PL_SPEC_ERROR_INVALID);
      g_clear_error (&error);

      g_assert_null (pl_scores_compute (m, k, empty, NULL, &error));
      g_assert_error (error, PL_SPEC_ERROR, PL_SPEC_ERROR_INVALID);
      g_clear_error (&error);

      g_assert_null (pl_scores_compute (m, k, wrong, NULL, &error));
      g_assert_error (error, PL_TRAIN_ERROR, PL_TRAIN_ERROR_MISMATCH);
    }
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_summary ("Importance scores of weights and neurons: hand-computed values, "
                  "definitions checked against the reference backward pass");

  g_test_add_func ("/engine/score/info/names-parse-and-explain", test_info_and_parse);
  g_test_add_func ("/engine/score/magnitude/hand-computed", test_magnitude_hand_computed);
  g_test_add_func ("/engine/score/random/is-seeded", test_random_is_seeded);
  g_test_add_func ("/engine/score/neuron-norms/hand-computed", test_neuron_norms_hand_computed);
  g_test_add_func ("/engine/score/activation/hand-computed", test_mean_activation_hand_computed);
  g_test_add_func ("/engine/score/apoz/hand-computed", test_apoz_hand_computed);
  g_test_add_func ("/engine/score/hoyer/hand-computed", test_hoyer_score_hand_computed);
  g_test_add_func ("/engine/score/hoyer/never-active-scores-zero",
                   test_hoyer_of_never_active_neuron_is_zero);
  g_test_add_func ("/engine/score/hoyer/one-hot-is-one-constant-is-zero", test_pl_hoyer);
  g_test_add_func ("/engine/score/entropy/hand-computed", test_entropy_hand_computed);
  g_test_add_func ("/engine/score/entropy/bins-each-neuron-over-its-range",
                   test_entropy_bins_each_neuron_over_its_range);
  g_test_add_func ("/engine/score/entropy/ignores-scale-and-outliers",
                   test_entropy_ignores_scale_and_outliers);
  g_test_add_func ("/engine/score/entropy/constant-activation-is-zero",
                   test_entropy_of_constant_layer_is_zero);
  g_test_add_func ("/engine/score/gradient-taylor-fisher/match-per-sample-definitions",
                   test_gradient_scores_match_definitions);
  g_test_add_func ("/engine/score/gradient-taylor-fisher/weigh-samples-not-batches",
                   test_gradient_scores_weigh_samples_not_batches);
  g_test_add_func ("/engine/score/neuron-taylor/matches-per-sample-definition",
                   test_neuron_taylor_matches_definition);
  g_test_add_func ("/engine/score/neuron-taylor/unit-norm-per-layer",
                   test_neuron_taylor_is_normalised_per_layer);
  g_test_add_func ("/engine/score/per-sample-scores/match-pytorch",
                   test_per_sample_scores_match_pytorch);
  g_test_add_func ("/engine/score/data-scores-are-seeded", test_data_scores_are_seeded);
  g_test_add_func ("/engine/score/missing-data-is-an-error", test_missing_data_is_an_error);

  return g_test_run ();
}
