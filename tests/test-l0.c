/* L0 regularisation with hard-concrete gates: the gate, its closed-form expected L0, gradients
 * against centred finite differences in double, training and freezing. */
#include "config.h"

#include <math.h>
#include <string.h>

#include "pl-eval.h"
#include "pl-l0.h"
#include "pl-rng.h"

#define BETA  (2.0 / 3.0)
#define GAMMA (-0.1)
#define ZETA  1.1

static void
test_prob_nonzero_matches_closed_form (void)
{
  const double log_alphas[] = { -6.0, -2.4, -1.0, 0.0, 0.7, 2.2, 5.0 };
  const guint n = 1000000;

  for (guint i = 0; i < G_N_ELEMENTS (log_alphas); i++)
    {
      double la = log_alphas[i];
      double closed = pl_hard_concrete_prob_nonzero (la, BETA, GAMMA, ZETA);
      guint nonzero = 0, one = 0;
      double mean = 0.0;

      /* P(z ≠ 0) as the share of a fine, even grid of u in (0, 1): exact up to 1/n */
      for (guint k = 0; k < n; k++)
        {
          double z = pl_hard_concrete_sample (la, (k + 0.5) / n, BETA, GAMMA, ZETA, NULL);

          g_assert_cmpfloat (z, >=, 0.0);
          g_assert_cmpfloat (z, <=, 1.0);
          nonzero += z != 0.0;
          one += z == 1.0;
          mean += z;
        }
      g_test_message ("log α %+.1f: P(z ≠ 0) %.6f (closed form %.6f), P(z = 1) %.4f, E[z] %.4f",
                      la, (double) nonzero / n, closed, (double) one / n, mean / n);
      g_assert_cmpfloat (fabs ((double) nonzero / n - closed), <=, 2.0 / n);
      /* σ(log α − β log(−γ/ζ)), written out */
      g_assert_cmpfloat_with_epsilon (closed, 1.0 / (1.0 + exp (-(la - BETA * log (0.1 / 1.1)))), 1e-15);
    }
}

static void
test_sample_gradient_and_test_gate (void)
{
  PlRng rng;

  pl_rng_init (&rng, 5);
  for (guint k = 0; k < 200; k++)
    {
      double la = 6.0 * pl_rng_uniform (&rng) - 3.0;
      double u = 0.001 + 0.998 * pl_rng_uniform (&rng);
      double h = 1e-6, dz, up, down;
      double z = pl_hard_concrete_sample (la, u, BETA, GAMMA, ZETA, &dz);

      up = pl_hard_concrete_sample (la + h, u, BETA, GAMMA, ZETA, NULL);
      down = pl_hard_concrete_sample (la - h, u, BETA, GAMMA, ZETA, NULL);
      if (z > 1e-4 && z < 1.0 - 1e-4)
        g_assert_cmpfloat (fabs (dz - (up - down) / (2 * h)), <=, 1e-6);
      else if (z == 0.0 || z == 1.0)
        g_assert_cmpfloat (dz, ==, 0.0);
    }

  /* the test-time gate: 0 at σ(log α) ≤ −γ/(ζ − γ) = 1/12, 1 at σ(log α) ≥ 11/12 */
  g_assert_cmpfloat (pl_hard_concrete_test (log (1.0 / 11.0) - 1e-9, GAMMA, ZETA), ==, 0.0);
  g_assert_cmpfloat (pl_hard_concrete_test (log (1.0 / 11.0) + 1e-3, GAMMA, ZETA), >, 0.0);
  g_assert_cmpfloat (pl_hard_concrete_test (log (11.0) + 1e-9, GAMMA, ZETA), ==, 1.0);
  g_assert_cmpfloat_with_epsilon (pl_hard_concrete_test (0.0, GAMMA, ZETA), 0.5, 1e-15);
}

static void
test_expected_l0_is_the_sum (void)
{
  g_autoptr(PlMlp) m = pl_mlp_new_from_arch ("3-4-2", PL_ACTIVATION_RELU, NULL);
  PlL0Config c;
  g_autoptr(PlL0) l0 = NULL;
  float *la;
  double sum = 0.0;

  pl_l0_config_init (&c);
  l0 = pl_l0_new (m, &c);
  g_assert_cmpuint (pl_l0_n_gates (l0), ==, 3 * 4 + 4 * 2);
  la = pl_l0_log_alpha (l0);
  /* init_drop 0.1: log α₀ = log 9 */
  g_assert_cmpfloat_with_epsilon (la[0], log (9.0), 1e-6);
  for (gsize j = 0; j < pl_l0_n_gates (l0); j++)
    {
      la[j] = (float) (j * 0.5 - 4.0);
      sum += pl_hard_concrete_prob_nonzero (la[j], BETA, GAMMA, ZETA);
    }
  g_assert_cmpfloat_with_epsilon (pl_l0_expected_l0 (l0), sum, 1e-12);

  {
    g_autoptr(PlL0) neurons = NULL;

    c.gates = PL_L0_PER_NEURON;
    neurons = pl_l0_new (m, &c);
    g_assert_cmpuint (pl_l0_n_gates (neurons), ==, 3 + 4);
  }
}

/* The analytic gradient of pl_l0_objective against centred differences of the double
 * reference, for θ and log α. */
static void
check_gradients (PlL0Gates    gates,
                 PlActivation activation)
{
  g_autoptr(PlMlp) m = pl_mlp_new_from_arch ("5-6-4-3", activation, NULL);
  g_autoptr(PlL0) l0 = NULL;
  const guint n = 4;
  float x[4 * 5];
  guint32 y[4] = { 2, 0, 1, 2 };
  PlL0Config c;
  PlRng rng;
  gsize np = m->n_params, ng;
  g_autofree float *uf = NULL;
  g_autofree double *u = NULL;
  g_autofree double *theta = NULL;
  g_autofree double *la = NULL;
  g_autofree float *g_theta = g_new (float, np);
  g_autofree float *g_la = NULL;
  double obj, ref, worst = 0.0;

  pl_mlp_init (m, 3);
  pl_rng_init (&rng, 17);
  /* one pruned weight: its gate gets no gradient from the data */
  m->layers[1].w_mask[5] = 0.0f;
  pl_mlp_apply_masks (m);
  for (guint k = 0; k < G_N_ELEMENTS (x); k++)
    x[k] = (float) pl_rng_normal (&rng);

  pl_l0_config_init (&c);
  c.gates = gates;
  c.lambda = 0.7;
  l0 = pl_l0_new (m, &c);
  ng = pl_l0_n_gates (l0);
  uf = g_new (float, ng);
  u = g_new (double, ng);
  la = g_new (double, ng);
  g_la = g_new (float, ng);
  theta = g_new (double, np);

  /* log α and u such that every gate is strictly inside (0, 1), away from the clamp's kinks */
  for (gsize j = 0; j < ng; j++)
    {
      double z;

      do
        {
          pl_l0_log_alpha (l0)[j] = (float) (3.0 * pl_rng_uniform (&rng) - 1.0);
          uf[j] = (float) (0.05 + 0.9 * pl_rng_uniform (&rng));
          z = pl_hard_concrete_sample (pl_l0_log_alpha (l0)[j], uf[j], BETA, GAMMA, ZETA, NULL);
        }
      while (z < 0.02 || z > 0.98);
      u[j] = uf[j];
      la[j] = pl_l0_log_alpha (l0)[j];
    }
  for (gsize k = 0; k < np; k++)
    theta[k] = m->params[k];

  obj = pl_l0_objective (l0, m, uf, x, y, n, g_theta, g_la);
  ref = pl_l0_objective_ref (l0, m, theta, la, u, x, y, n);
  g_assert_cmpfloat_with_epsilon (obj, ref, 1e-5);

  for (gsize k = 0; k < np; k++)
    {
      double h = 1e-5, keep = theta[k], fd;

      if (m->masks[k] == 0.0f)
        continue;
      theta[k] = keep + h;
      fd = pl_l0_objective_ref (l0, m, theta, la, u, x, y, n);
      theta[k] = keep - h;
      fd = (fd - pl_l0_objective_ref (l0, m, theta, la, u, x, y, n)) / (2 * h);
      theta[k] = keep;
      worst = MAX (worst, fabs (g_theta[k] - fd) / MAX (1.0, fabs (fd)));
      g_assert_cmpfloat (fabs (g_theta[k] - fd), <=, 1e-4 * MAX (1.0, fabs (fd)));
    }
  for (gsize j = 0; j < ng; j++)
    {
      double h = 1e-5, keep = la[j], fd;

      la[j] = keep + h;
      fd = pl_l0_objective_ref (l0, m, theta, la, u, x, y, n);
      la[j] = keep - h;
      fd = (fd - pl_l0_objective_ref (l0, m, theta, la, u, x, y, n)) / (2 * h);
      la[j] = keep;
      worst = MAX (worst, fabs (g_la[j] - fd) / MAX (1.0, fabs (fd)));
      g_assert_cmpfloat (fabs (g_la[j] - fd), <=, 1e-4 * MAX (1.0, fabs (fd)));
    }
  g_test_message ("%s gates, %s: %zu θ and %zu log α checked, worst error %.2g",
                  gates == PL_L0_PER_WEIGHT ? "weight" : "neuron",
                  pl_activation_to_string (activation), np, ng, worst);
}

static void
test_gradients_match_finite_differences (void)
{
  check_gradients (PL_L0_PER_WEIGHT, PL_ACTIVATION_TANH);
  check_gradients (PL_L0_PER_NEURON, PL_ACTIVATION_TANH);
  check_gradients (PL_L0_PER_WEIGHT, PL_ACTIVATION_SIGMOID);
  check_gradients (PL_L0_PER_NEURON, PL_ACTIVATION_RELU);
}

static void
test_training_closes_gates_and_freezes_them (void)
{
  g_autoptr(GError) error = NULL;
  PlDataOptions options = PL_DATA_OPTIONS_INIT;
  g_autoptr(PlData) data = pl_data_load ("moons:n=600,seed=2", &options, &error);
  g_autoptr(PlMlp) m = pl_mlp_new_from_arch ("2-32-32-2", PL_ACTIVATION_RELU, NULL);
  g_autoptr(PlL0) l0 = NULL;
  g_autoptr(PlEvaluation) ev = NULL;
  PlL0Config c;
  double before, after;
  gsize closed, zero_gates = 0;

  g_assert_no_error (error);
  pl_mlp_init (m, 1);
  pl_l0_config_init (&c);
  c.lambda = 2.0;
  c.epochs = 20;
  c.batch_size = 32;
  c.lr = 0.01;
  l0 = pl_l0_new (m, &c);
  before = pl_l0_expected_l0 (l0);
  g_assert_true (pl_l0_train (l0, m, data->train, data->val, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  after = pl_l0_expected_l0 (l0);

  for (gsize j = 0; j < pl_l0_n_gates (l0); j++)
    zero_gates += pl_hard_concrete_test (pl_l0_log_alpha (l0)[j], GAMMA, ZETA) == 0.0;
  closed = pl_l0_freeze (l0, m);
  ev = pl_evaluate (m, data->test, NULL);
  g_test_message ("expected L0 %.1f → %.1f of %zu gates; %zu closed; test accuracy %.2f%%",
                  before, after, pl_l0_n_gates (l0), closed, 100 * ev->accuracy);

  g_assert_cmpfloat (after, <, 0.7 * before);
  g_assert_cmpuint (closed, ==, zero_gates);
  g_assert_cmpuint (closed, >, 0);
  /* per-weight gates: every closed gate is a pruned weight, and pruned weights are 0 */
  g_assert_cmpuint (pl_mlp_n_pruned (m), ==, closed);
  for (gsize k = 0; k < m->n_params; k++)
    if (m->masks[k] == 0.0f)
      g_assert_cmpfloat (m->params[k], ==, 0.0f);
  g_assert_cmpfloat (ev->accuracy, >=, 0.8);
}

/* λ is the price of an open gate: from the same start, the same data and the same gate noise,
 * a larger λ leaves fewer gates open in expectation (E[‖z‖₀], eq. 12) and closes more of them
 * when frozen. */
static void
test_expected_gate_count_falls_as_lambda_rises (void)
{
  static const double lambdas[] = { 0.0, 0.5, 2.0, 8.0 };
  g_autoptr(GError) error = NULL;
  PlDataOptions options = PL_DATA_OPTIONS_INIT;
  g_autoptr(PlData) data = pl_data_load ("moons:n=600,seed=2", &options, &error);
  double last_expected = INFINITY;
  gsize last_closed = 0;

  g_assert_no_error (error);
  for (guint i = 0; i < G_N_ELEMENTS (lambdas); i++)
    {
      g_autoptr(PlMlp) m = pl_mlp_new_from_arch ("2-32-32-2", PL_ACTIVATION_RELU, NULL);
      g_autoptr(PlL0) l0 = NULL;
      PlL0Config c;
      double expected;
      gsize closed;

      pl_mlp_init (m, 1);
      pl_l0_config_init (&c);
      c.lambda = lambdas[i];
      c.epochs = 8;
      c.batch_size = 32;
      c.lr = 0.01;
      l0 = pl_l0_new (m, &c);
      g_assert_true (pl_l0_train (l0, m, data->train, NULL, NULL, NULL, NULL, &error));
      g_assert_no_error (error);
      expected = pl_l0_expected_l0 (l0);
      closed = pl_l0_freeze (l0, m);
      g_test_message ("lambda %.1f: expected L0 %.1f of %zu gates, %zu closed when frozen",
                      lambdas[i], expected, pl_l0_n_gates (l0), closed);
      g_assert_cmpfloat (expected, <, last_expected);
      g_assert_cmpuint (closed, >=, last_closed);
      last_expected = expected;
      last_closed = closed;
    }
  g_assert_cmpuint (last_closed, >, 0);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_summary ("Hard-concrete gates (Louizos, Welling & Kingma 2018): closed-form expected L0, "
                  "gradients against finite differences, training and freezing");

  g_test_add_func ("/engine/l0/hard-concrete/prob-nonzero-matches-closed-form",
                   test_prob_nonzero_matches_closed_form);
  g_test_add_func ("/engine/l0/hard-concrete/gate-gradient-and-test-gate",
                   test_sample_gradient_and_test_gate);
  g_test_add_func ("/engine/l0/expected-l0/is-the-sum-of-gate-probabilities",
                   test_expected_l0_is_the_sum);
  g_test_add_func ("/engine/l0/objective/gradients-match-finite-differences",
                   test_gradients_match_finite_differences);
  g_test_add_func ("/engine/l0/train/expected-gate-count-falls-as-lambda-rises",
                   test_expected_gate_count_falls_as_lambda_rises);
  g_test_add_func ("/engine/l0/train/closes-gates-and-freezes-them",
                   test_training_closes_gates_and_freezes_them);

  return g_test_run ();
}
