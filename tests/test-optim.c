/* The optimiser steps of the trainer against steps computed here, in double, from the update
 * rules torch.optim documents (PyTorch 1.13): SGD with momentum, Nesterov, Adam; weight decay,
 * the L1 term, clipping by value then by norm, in that order; and what the L1 penalty does.
 *
 * The model is softmax regression (one layer, 4 inputs, 3 classes), whose gradient this file
 * writes out: for the batch's mean cross-entropy, ∂L/∂W = mean_s (p_s − e_{y_s}) x_sᵀ and
 * ∂L/∂b = mean_s (p_s − e_{y_s}). Everything goes through the public trainer API
 * (pl_trainer_new / pl_trainer_run, one step per run on a one-batch dataset), so the test
 * holds wherever the optimiser code lives. tests/torch/check_optim_rules.py runs the same
 * reference next to real torch.optim on the same cases (they agree to 5e-16 in float64). */
#include "config.h"

#include <math.h>
#include <string.h>

#include "pl-dataset.h"
#include "pl-optim.h"
#include "pl-rng.h"
#include "pl-train.h"

#define N_IN       4
#define N_OUT      3
#define N_SAMPLES  6
#define N_PARAMS   (N_OUT * N_IN + N_OUT)
#define MASKED     5      /* weight (1, 1) is pruned */
#define STEPS      6

/* ---- the reference ----------------------------------------------------------------------- */

typedef struct {
  PlOptimizer optimizer;
  double      lr, momentum, beta1, beta2, eps, weight_decay, l1, clip_value, clip_norm;
  double      article_l0;   /* the seed article's λ·1[w ≠ 0] */
  gboolean    nesterov;
} Rule;

typedef struct {
  double theta[N_PARAMS];   /* W (N_OUT, N_IN) row-major, then b: PruneLab's layout */
  double buf[N_PARAMS];     /* SGD: momentum_buffer; Adam: exp_avg */
  double sq[N_PARAMS];      /* Adam: exp_avg_sq */
  guint  t;
} Reference;

static gboolean
is_weight (guint k)
{
  return k < N_OUT * N_IN;
}

/* ∂(mean cross-entropy)/∂θ of softmax regression. */
static void
reference_gradient (const double    *theta,
                    const PlDataset *d,
                    double          *g)
{
  memset (g, 0, sizeof (double) * N_PARAMS);
  for (guint s = 0; s < d->n; s++)
    {
      const float *x = d->x + (gsize) s * N_IN;
      double z[N_OUT], zmax = -INFINITY, sum = 0.0;

      for (guint o = 0; o < N_OUT; o++)
        {
          z[o] = theta[N_OUT * N_IN + o];
          for (guint j = 0; j < N_IN; j++)
            z[o] += theta[o * N_IN + j] * x[j];
          zmax = MAX (zmax, z[o]);
        }
      for (guint o = 0; o < N_OUT; o++)
        sum += exp (z[o] - zmax);
      for (guint o = 0; o < N_OUT; o++)
        {
          double delta = (exp (z[o] - zmax) / sum - (o == d->y[s])) / d->n;

          for (guint j = 0; j < N_IN; j++)
            g[o * N_IN + j] += delta * x[j];
          g[N_OUT * N_IN + o] += delta;
        }
    }
}

/* One step, in the order the trainer documents (pl-train.h) and torch.optim performs it:
 *   g ← ∂CE/∂θ + l1·sign(w) + a·1[w ≠ 0]     the objective's gradient (weights only; a is
 *                                            the seed article's "L0" term, not L0)
 *   g ← g ⊙ mask                             a pruned weight has no gradient
 *   g ← clamp(g, −c, c)                      torch.nn.utils.clip_grad_value_
 *   g ← g · min(1, n_max / (‖g‖₂ + 1e-6))    torch.nn.utils.clip_grad_norm_
 *   g ← g + λ·w                              weight_decay in torch.optim (weights only here)
 *   SGD:  buf ← g at t = 1, else μ·buf + g;  g ← g + μ·buf (Nesterov) or buf;  w ← w − γ·g
 *   Adam: m ← β₁m + (1 − β₁)g;  v ← β₂v + (1 − β₂)g²;  w ← w − γ·m̂ / (√v̂ + ε),
 *         m̂ = m / (1 − β₁ᵗ), v̂ = v / (1 − β₂ᵗ)
 * The pruned weight stays 0 and keeps no state. Returns ‖g‖₂ before clipping, the norm the
 * trainer records. */
static double
reference_step (Reference       *r,
                const Rule      *rule,
                const PlDataset *d)
{
  double g[N_PARAMS], norm_sq = 0.0, clipped_sq = 0.0;

  reference_gradient (r->theta, d, g);
  r->t++;
  for (guint k = 0; k < N_PARAMS; k++)
    {
      if (is_weight (k))
        g[k] += rule->l1 * ((r->theta[k] > 0) - (r->theta[k] < 0)) + rule->article_l0 * (r->theta[k] != 0);
      if (k == MASKED)
        g[k] = 0.0;
      norm_sq += g[k] * g[k];
      if (rule->clip_value > 0)
        g[k] = CLAMP (g[k], -rule->clip_value, rule->clip_value);
      clipped_sq += g[k] * g[k];
    }
  if (rule->clip_norm > 0)
    {
      double coef = MIN (1.0, rule->clip_norm / (sqrt (clipped_sq) + 1e-6));

      for (guint k = 0; k < N_PARAMS; k++)
        g[k] *= coef;
    }

  for (guint k = 0; k < N_PARAMS; k++)
    {
      if (k == MASKED)
        continue;
      if (is_weight (k))
        g[k] += rule->weight_decay * r->theta[k];
      if (rule->optimizer == PL_OPTIMIZER_SGD)
        {
          r->buf[k] = r->t == 1 ? g[k] : rule->momentum * r->buf[k] + g[k];
          r->theta[k] -= rule->lr * (rule->nesterov ? g[k] + rule->momentum * r->buf[k]
                                                    : r->buf[k]);
        }
      else
        {
          double m_hat, v_hat;

          r->buf[k] = rule->beta1 * r->buf[k] + (1 - rule->beta1) * g[k];
          r->sq[k] = rule->beta2 * r->sq[k] + (1 - rule->beta2) * g[k] * g[k];
          m_hat = r->buf[k] / (1 - pow (rule->beta1, r->t));
          v_hat = r->sq[k] / (1 - pow (rule->beta2, r->t));
          r->theta[k] -= rule->lr * m_hat / (sqrt (v_hat) + rule->eps);
        }
    }

  return sqrt (norm_sq);
}

/* ---- the trainer against it -------------------------------------------------------------- */

static PlDataset *
fixture_data (void)
{
  PlDataset *d = pl_dataset_new (N_SAMPLES, N_IN, N_OUT);
  PlRng rng;

  pl_rng_init (&rng, 5);
  for (gsize k = 0; k < N_SAMPLES * N_IN; k++)
    d->x[k] = (float) (2 * pl_rng_uniform (&rng) - 1);
  for (guint s = 0; s < N_SAMPLES; s++)
    d->y[s] = s % N_OUT;

  return d;
}

static PlMlp *
fixture_model (void)
{
  static const guint sizes[] = { N_IN, N_OUT };
  PlMlp *m = pl_mlp_new (sizes, 1, PL_ACTIVATION_RELU);
  PlRng rng;

  pl_rng_init (&rng, 6);
  for (guint k = 0; k < N_PARAMS; k++)
    m->params[k] = (float) (1.5 * pl_rng_normal (&rng));
  m->masks[MASKED] = 0.0f;
  pl_mlp_apply_masks (m);

  return m;
}

/* STEPS steps of @rule by the trainer (with @threads) and by the reference from the same
 * start: after each step every parameter within 1e-5 relative, and the recorded gradient norm
 * the reference's. */
static void
check_rule (const Rule *rule,
            guint       threads,
            const char *what)
{
  g_autoptr(PlDataset) d = fixture_data ();
  g_autoptr(PlMlp) m = fixture_model ();
  g_autoptr(PlTrainer) trainer = NULL;
  Reference r = { .t = 0 };
  PlTrainConfig c;
  double worst = 0.0;

  pl_train_config_init (&c);
  c.epochs = 1;
  c.batch_size = N_SAMPLES;   /* one step per run */
  c.optimizer = rule->optimizer;
  c.lr = rule->lr;
  c.momentum = rule->momentum;
  c.nesterov = rule->nesterov;
  c.beta1 = rule->beta1;
  c.beta2 = rule->beta2;
  c.eps = rule->eps;
  c.weight_decay = rule->weight_decay;
  c.l1 = rule->l1;
  c.article_l0 = rule->article_l0;
  c.clip_value = rule->clip_value;
  c.clip_norm = rule->clip_norm;
  c.threads = threads;
  trainer = pl_trainer_new (m, &c);

  for (guint k = 0; k < N_PARAMS; k++)
    r.theta[k] = m->params[k];

  for (guint step = 1; step <= STEPS; step++)
    {
      g_autoptr(GError) error = NULL;
      double norm = reference_step (&r, rule, d);
      const GArray *norms;

      g_assert_true (pl_trainer_run (trainer, d, NULL, NULL, NULL, NULL, &error));
      g_assert_no_error (error);
      for (guint k = 0; k < N_PARAMS; k++)
        {
          double diff = fabs (m->params[k] - r.theta[k]);

          worst = MAX (worst, diff / MAX (fabs (r.theta[k]), 1e-3));
          g_assert_cmpfloat (diff, <=, 1e-5 * fabs (r.theta[k]) + 1e-6);
        }
      g_assert_cmpfloat (m->params[MASKED], ==, 0.0f);
      norms = pl_trainer_get_grad_norms (trainer);
      g_assert_cmpuint (norms->len, ==, step);
      g_assert_cmpfloat_with_epsilon (g_array_index (norms, float, step - 1), norm,
                                      1e-5 * norm + 1e-7);
    }
  g_test_message ("%s, %u thread(s): %u steps, worst relative difference %.2e",
                  what, threads, STEPS, worst);
}

static const Rule sgd_momentum = {
  PL_OPTIMIZER_SGD, .lr = 0.3, .momentum = 0.9,
};

static void
test_sgd_momentum (void)
{
  check_rule (&sgd_momentum, 1, "SGD, momentum 0.9");
  check_rule (&sgd_momentum, 2, "SGD, momentum 0.9");
}

static void
test_sgd_nesterov (void)
{
  Rule rule = sgd_momentum;

  rule.nesterov = TRUE;
  rule.weight_decay = 0.05;
  check_rule (&rule, 1, "SGD, Nesterov momentum 0.9, weight decay 0.05");
}

static void
test_adam (void)
{
  Rule rule = { PL_OPTIMIZER_ADAM, .lr = 0.05, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8 };

  check_rule (&rule, 1, "Adam (0.9, 0.999)");
  rule.beta1 = 0.5;
  rule.beta2 = 0.9;
  rule.eps = 1e-3;
  rule.weight_decay = 0.1;
  check_rule (&rule, 2, "Adam (0.5, 0.9), eps 1e-3, weight decay 0.1");
}

/* Clipping by value, then by norm, with momentum, weight decay and the L1 term: the limits are
 * set so that both clip on every step (the test checks that they do), and weight decay and
 * momentum come after them, so they are not clipped. */
static void
test_clipping_order_with_momentum_and_decay (void)
{
  g_autoptr(PlDataset) d = fixture_data ();
  Rule rule = {
    PL_OPTIMIZER_SGD, .lr = 0.2, .momentum = 0.9, .weight_decay = 0.1, .l1 = 0.02,
    .clip_value = 0.08, .clip_norm = 0.15,
  };
  Rule adam = {
    PL_OPTIMIZER_ADAM, .lr = 0.05, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8,
    .weight_decay = 0.1, .clip_value = 0.08, .clip_norm = 0.15,
  };
  Reference r = { .t = 0 };
  g_autoptr(PlMlp) m = fixture_model ();

  /* both limits bind at the start: some entry above the value limit, and the clamped
   * gradient's norm above the norm limit */
  {
    double g[N_PARAMS], max_abs = 0.0, clamped_sq = 0.0;

    for (guint k = 0; k < N_PARAMS; k++)
      r.theta[k] = m->params[k];
    reference_gradient (r.theta, d, g);
    for (guint k = 0; k < N_PARAMS; k++)
      if (k != MASKED)
        {
          max_abs = MAX (max_abs, fabs (g[k]));
          clamped_sq += pow (CLAMP (g[k], -rule.clip_value, rule.clip_value), 2);
        }
    g_assert_cmpfloat (max_abs, >, rule.clip_value);
    g_assert_cmpfloat (sqrt (clamped_sq), >, rule.clip_norm);
  }

  check_rule (&rule, 1, "SGD, momentum 0.9, weight decay 0.1, L1 0.02, clip value 0.08, norm 0.15");
  check_rule (&rule, 2, "SGD, momentum 0.9, weight decay 0.1, L1 0.02, clip value 0.08, norm 0.15");
  check_rule (&adam, 1, "Adam, weight decay 0.1, clip value 0.08, norm 0.15");
}

/* ---- what the L1 penalty does ------------------------------------------------------------ */

static guint
near_zero (const PlMlp *m,
           double       limit)
{
  guint n = 0;

  for (guint i = 0; i < m->n_layers; i++)
    {
      const PlLayer *l = &m->layers[i];

      for (gsize k = 0; k < (gsize) l->n_out * l->n_in; k++)
        n += fabsf (l->w[k]) < limit;
    }

  return n;
}

/* The same network trained from the same start on the same sample order, with and without
 * l1·Σ|w|: the penalty's constant pull towards 0 leaves many more weights near 0. */
static void
test_l1_drives_more_weights_near_zero (void)
{
  g_autoptr(GError) error = NULL;
  PlDataOptions options = PL_DATA_OPTIONS_INIT;
  g_autoptr(PlData) data = pl_data_load ("moons:n=800,seed=4", &options, &error);
  guint counts[2];

  g_assert_no_error (error);
  for (guint with = 0; with < 2; with++)
    {
      g_autoptr(PlMlp) m = pl_mlp_new_from_arch ("2-32-32-2", PL_ACTIVATION_RELU, NULL);
      g_autoptr(PlTrainer) trainer = NULL;
      PlTrainConfig c;

      pl_mlp_init (m, 3);
      pl_train_config_init (&c);
      c.epochs = 30;
      c.batch_size = 32;
      c.lr = 0.05;
      c.l1 = with ? 1e-3 : 0.0;
      trainer = pl_trainer_new (m, &c);
      g_assert_true (pl_trainer_run (trainer, data->train, NULL, NULL, NULL, NULL, &error));
      g_assert_no_error (error);
      counts[with] = near_zero (m, 0.01);
    }
  g_test_message ("weights with |w| < 0.01 of %zu: %u without L1, %u with l1 = 1e-3",
                  (gsize) (2 * 32 + 32 * 32 + 32 * 2), counts[0], counts[1]);
  g_assert_cmpuint (counts[1], >, 3 * counts[0]);
  g_assert_cmpuint (counts[1], >, 100);
}

/* The seed article's "L0" update θ ← θ − α(g + λ·1[θ ≠ 0]), as torch.optim's SGD would take it
 * with that term in the gradient: matches the rule step for step (the pruned weight stays 0).
 * Then what it does on a real network: every weight is pushed the same way by αλ per step, so
 * the weights' mean falls, and no weight becomes 0 (its "gradient of ‖θ‖₀" is a constant). */
static void
test_article_l0 (void)
{
  g_autoptr(GError) error = NULL;
  PlDataOptions options = PL_DATA_OPTIONS_INIT;
  g_autoptr(PlData) data = pl_data_load ("moons:n=800,seed=4", &options, &error);
  Rule rule = { PL_OPTIMIZER_SGD, .lr = 0.2, .article_l0 = 0.05 };
  double mean[2] = { 0, 0 };
  guint zeros = 0;

  check_rule (&rule, 1, "SGD with the article's L0 term 0.05");

  g_assert_no_error (error);
  for (guint with = 0; with < 2; with++)
    {
      g_autoptr(PlMlp) m = pl_mlp_new_from_arch ("2-32-32-2", PL_ACTIVATION_RELU, NULL);
      g_autoptr(PlTrainer) trainer = NULL;
      PlTrainConfig c;
      gsize n = 0;

      pl_mlp_init (m, 3);
      pl_train_config_init (&c);
      c.epochs = 10;
      c.batch_size = 32;
      c.lr = 0.05;
      c.momentum = 0.0;
      c.article_l0 = with ? 1e-2 : 0.0;
      trainer = pl_trainer_new (m, &c);
      g_assert_true (pl_trainer_run (trainer, data->train, NULL, NULL, NULL, NULL, &error));
      g_assert_no_error (error);
      for (guint l = 0; l < m->n_layers; l++)
        for (guint k = 0; k < m->layers[l].n_in * m->layers[l].n_out; k++)
          {
            mean[with] += m->layers[l].w[k];
            zeros += with && m->layers[l].w[k] == 0.0f;
            n++;
          }
      mean[with] /= n;
    }
  g_test_message ("mean weight %.4f without, %.4f with the article's term; %u weights exactly 0",
                  mean[0], mean[1], zeros);
  /* 10 epochs of 20 steps at α = 0.05, λ = 0.01: a pull of up to 0.1 on every weight */
  g_assert_cmpfloat (mean[1], <, mean[0] - 0.02);
  g_assert_cmpuint (zeros, ==, 0);
}

/* ---- the kernels against their plain loops ---------------------------------------------- */

#define KN 1031   /* not a multiple of the 16 lanes or of any vector width: the tails run */

typedef struct {
  float w[KN], s1[KN], s2[KN], g[KN], mask[KN];
} KernelState;

static void
kernel_state_init (KernelState *k,
                   guint64      seed)
{
  PlRng rng;

  pl_rng_init (&rng, seed);
  for (guint i = 0; i < KN; i++)
    {
      k->w[i] = (float) pl_rng_normal (&rng);
      k->g[i] = (float) pl_rng_normal (&rng) * 0.3f;
      k->mask[i] = pl_rng_below (&rng, 5) == 0 ? 0.0f : 1.0f;
      k->s1[i] = k->mask[i] * (float) pl_rng_normal (&rng) * 0.1f;
      k->s2[i] = k->mask[i] * (float) pl_rng_uniform (&rng) * 0.01f;
    }
  k->w[3] = 0.0f;   /* sign(0) = 0 in the L1 term */
}

static void
assert_close (const float *a,
              const float *b,
              gsize        n)
{
  for (gsize i = 0; i < n; i++)
    g_assert_cmpfloat_with_epsilon (a[i], b[i], 1e-6 * MAX (1.0, fabs (b[i])));
}

/* The fast objective gradient, SGD (plain, Nesterov) and Adam steps give what their plain
 * loops give, with and without a mask, several steps in a row; masked entries keep their
 * value and a zero state. */
static void
test_kernels_match_ref (void)
{
  for (guint variant = 0; variant < 8; variant++)
    {
      gboolean masked = variant & 1;
      gboolean adam = (variant & 2) != 0;
      gboolean nesterov = (variant & 4) != 0;
      KernelState fast, ref;
      PlOptimStep k = { .lr = 0.05f, .mu = 0.9f, .nesterov = nesterov, .b1 = 0.9f, .b2 = 0.999f,
                        .eps = 1e-8f, .coef = 0.7f, .cv = 0.4f };

      if (adam && nesterov)
        continue;
      kernel_state_init (&fast, 7 + variant);
      ref = fast;
      for (guint t = 1; t <= 4; t++)
        {
          double nf = 0.0, nfc = 0.0, nr = 0.0, nrc = 0.0;
          const float *mask = masked ? fast.mask : NULL;

          k.step = pl_optim_adam_step_size (k.lr, k.b1, t);
          k.sqrt_bc2 = pl_optim_adam_sqrt_bc2 (k.b2, t);
          g_assert_cmpfloat_with_epsilon (k.step, k.lr / (1.0 - pow (k.b1, t)), 1e-6 * k.step);
          g_assert_cmpfloat_with_epsilon (k.sqrt_bc2, sqrt (1.0 - pow (k.b2, t)), 1e-6 * k.sqrt_bc2);

          pl_optim_objective_grad (fast.g, fast.w, mask, KN, 1e-3f, 2e-3f, k.cv, &nf, &nfc);
          pl_optim_objective_grad_ref (ref.g, ref.w, mask, KN, 1e-3f, 2e-3f, k.cv, &nr, &nrc);
          assert_close (fast.g, ref.g, KN);
          g_assert_cmpfloat_with_epsilon (nf, nr, 1e-5 * nr);
          g_assert_cmpfloat_with_epsilon (nfc, nrc, 1e-5 * nrc);
          g_assert_cmpfloat (nfc, <, nf);   /* cv = 0.4 clips some */

          if (adam)
            {
              pl_optim_adam_step (fast.w, fast.s1, fast.s2, fast.g, mask, KN, 1e-2f, &k);
              pl_optim_adam_step_ref (ref.w, ref.s1, ref.s2, ref.g, mask, KN, 1e-2f, &k);
            }
          else
            {
              pl_optim_sgd_step (fast.w, fast.s1, fast.g, mask, KN, 1e-2f, &k);
              pl_optim_sgd_step_ref (ref.w, ref.s1, ref.g, mask, KN, 1e-2f, &k);
            }
          assert_close (fast.w, ref.w, KN);
          assert_close (fast.s1, ref.s1, KN);
          if (adam)
            assert_close (fast.s2, ref.s2, KN);
          for (guint i = 0; i < KN; i++)
            fast.g[i] = ref.g[i] = 0.6f * sinf (i * 0.37f + t);
        }
      if (masked)
        {
          KernelState start;

          kernel_state_init (&start, 7 + variant);
          for (guint i = 0; i < KN; i++)
            if (start.mask[i] == 0.0f)
              {
                g_assert_cmpfloat (fast.w[i], ==, start.w[i]);
                g_assert_cmpfloat (fast.s1[i], ==, 0.0f);
              }
        }
    }
}

/* g += h */
static void
test_add (void)
{
  float g[37], h[37];

  for (guint i = 0; i < 37; i++)
    {
      g[i] = i * 0.5f;
      h[i] = 1.0f - i;
    }
  pl_optim_add (g, h, 37);
  for (guint i = 0; i < 37; i++)
    g_assert_cmpfloat (g[i], ==, i * 0.5f + (1.0f - i));
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_summary ("Optimiser steps against torch.optim's documented rules, computed in double: "
                  "momentum, Nesterov, Adam, weight decay, L1, clipping by value then norm");

  g_test_add_func ("/engine/optim/sgd/momentum-matches-torch-rule", test_sgd_momentum);
  g_test_add_func ("/engine/optim/sgd/nesterov-matches-torch-rule", test_sgd_nesterov);
  g_test_add_func ("/engine/optim/adam/matches-torch-rule", test_adam);
  g_test_add_func ("/engine/optim/clip-value-then-norm/before-momentum-and-decay",
                   test_clipping_order_with_momentum_and_decay);
  g_test_add_func ("/engine/optim/l1/drives-more-weights-near-zero",
                   test_l1_drives_more_weights_near_zero);
  g_test_add_func ("/engine/optim/article-l0/shifts-every-weight-and-zeroes-none", test_article_l0);
  g_test_add_func ("/engine/optim/kernels/match-plain-loops", test_kernels_match_ref);
  g_test_add_func ("/engine/optim/kernels/add", test_add);

  return g_test_run ();
}
