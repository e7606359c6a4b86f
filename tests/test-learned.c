/* The learned criterion: its measurements of single-weight removals against full evaluations,
 * its score's contract, and (with Fashion-MNIST installed) that it beats random scoring. */
#include "config.h"

#include <math.h>
#include <string.h>

#include "pl-eval.h"
#include "pl-learned.h"
#include "pl-nn.h"
#include "pl-prune.h"
#include "pl-rng.h"
#include "pl-score.h"
#include "pl-train.h"
#include "pl-test-util.h"

static void
check_measure (PlActivation activation)
{
  g_autoptr(PlMlp) m = pl_mlp_new_from_arch ("6-8-7-4", activation, NULL);
  const guint n = 50;
  g_autofree float *x = g_new (float, n * 6);
  g_autofree guint32 *y = g_new (guint32, n);
  g_autofree gsize *idx = NULL;
  g_autofree double *delta = NULL;
  gsize n_idx = 0, off = 0;
  double base;
  PlRng rng;

  pl_mlp_init (m, 2);
  pl_rng_init (&rng, 8);
  for (guint k = 0; k < n * 6; k++)
    x[k] = pl_rng_uniform (&rng) < 0.3 ? 0.0f : (float) pl_rng_normal (&rng);  /* some zeros */
  for (guint s = 0; s < n; s++)
    y[s] = (guint32) pl_rng_below (&rng, 4);
  /* one pruned weight and one dead neuron, as in a pruned model */
  m->layers[0].w_mask[3] = 0.0f;
  for (guint k = 0; k < m->layers[1].n_out; k++)
    m->layers[1].w_mask[(gsize) k * m->layers[1].n_in + 2] = 0.0f;
  pl_mlp_apply_masks (m);

  /* every weight of every layer */
  idx = g_new (gsize, m->n_params);
  for (guint i = 0; i < m->n_layers; i++)
    {
      gsize nw = (gsize) m->layers[i].n_out * m->layers[i].n_in;

      for (gsize k = 0; k < nw; k++)
        idx[n_idx++] = off + k;
      off += nw + m->layers[i].n_out;
    }
  delta = g_new (double, n_idx);
  pl_learned_measure (m, x, y, n, idx, (guint) n_idx, delta);

  base = pl_nn_loss_ref (m, x, y, n);
  for (gsize j = 0; j < n_idx; j++)
    {
      float keep = m->params[idx[j]];
      double full;

      m->params[idx[j]] = 0.0f;
      full = pl_nn_loss_ref (m, x, y, n) - base;
      m->params[idx[j]] = keep;
      g_assert_cmpfloat (fabs (delta[j] - full), <=, 2e-6 * MAX (1.0, fabs (full)));
      if (keep == 0.0f)
        g_assert_cmpfloat (delta[j], ==, 0.0);
    }
}

static void
test_measure_matches_full_evaluation (void)
{
  check_measure (PL_ACTIVATION_RELU);
  check_measure (PL_ACTIVATION_TANH);
  check_measure (PL_ACTIVATION_SIGMOID);
}

static void
test_score_contract (void)
{
  g_autoptr(GError) error = NULL;
  PlDataOptions options = PL_DATA_OPTIONS_INIT;
  g_autoptr(PlData) data = pl_data_load ("blobs:n=400,classes=3,seed=1", &options, &error);
  g_autoptr(PlMlp) m = pl_mlp_new_from_arch ("2-16-16-3", PL_ACTIVATION_RELU, NULL);
  g_autoptr(PlScores) a = NULL;
  g_autoptr(PlScores) b = NULL;
  PlScoreOptions so = PL_SCORE_OPTIONS_INIT;
  const PlScoreInfo *info = pl_score_info (PL_SCORE_LEARNED);

  g_assert_no_error (error);
  g_assert_true (info->needs_data);
  g_assert_false (info->per_neuron);
  g_assert_cmpstr (info->name, ==, "learned");
  pl_mlp_init (m, 3);
  so.seed = 4;
  a = pl_scores_compute (m, PL_SCORE_LEARNED, data->train, &so, &error);
  g_assert_no_error (error);
  b = pl_scores_compute (m, PL_SCORE_LEARNED, data->train, &so, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < m->n_layers; i++)
    {
      g_assert_cmpuint (a->n[i], ==, (gsize) m->layers[i].n_out * m->layers[i].n_in);
      g_assert_cmpmem (a->layer[i], sizeof (float) * a->n[i], b->layer[i], sizeof (float) * b->n[i]);
      for (gsize k = 0; k < a->n[i]; k++)
        {
          g_assert_cmpfloat (a->layer[i][k], >, 0.0f);
          g_assert_cmpfloat (a->layer[i][k], <, 1.0f);
        }
    }
}

static double
accuracy_at_90 (const PlMlp     *model,
                PlScoreKind      kind,
                const PlDataset *train,
                const PlDataset *test)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PlMlp) copy = pl_mlp_copy (model);
  g_autoptr(PlScores) scores = NULL;
  g_autoptr(PlEvaluation) ev = NULL;
  PlScoreOptions options = PL_SCORE_OPTIONS_INIT;
  PlPruneSpec spec;

  scores = pl_scores_compute (copy, kind, train, &options, &error);
  g_assert_no_error (error);
  pl_prune_spec_init (&spec, PL_SCOPE_GLOBAL, FALSE, 0.9);
  g_assert_true (pl_prune_apply (copy, scores, &spec, &error));
  ev = pl_evaluate (copy, test, &error);
  g_assert_no_error (error);

  return ev->accuracy;
}

static void
test_fashion_mnist_beats_random_at_90_percent (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PlData) data = NULL;
  g_autoptr(PlMlp) model = NULL;
  g_autoptr(PlTrainer) trainer = NULL;
  PlDataOptions options = PL_DATA_OPTIONS_INIT;
  PlTrainConfig config;
  double learned, random, magnitude, taylor;
  gint64 t0 = g_get_monotonic_time (), t1;

  if (pl_test_skip_without_fashion_mnist ())
    return;

  data = pl_data_load ("fashion-mnist", &options, &error);
  g_assert_no_error (error);
  model = pl_mlp_new_from_arch ("784-300-100-10", PL_ACTIVATION_RELU, &error);
  g_assert_no_error (error);
  pl_train_config_init (&config);
  config.epochs = 2;
  config.lr = 0.1;
  config.momentum = 0.9;
  pl_mlp_init (model, 1);
  trainer = pl_trainer_new (model, &config);
  g_assert_true (pl_trainer_run (trainer, data->train, NULL, NULL, NULL, NULL, &error));
  g_assert_no_error (error);

  t1 = g_get_monotonic_time ();
  learned = accuracy_at_90 (model, PL_SCORE_LEARNED, data->train, data->test);
  t1 = g_get_monotonic_time () - t1;
  random = accuracy_at_90 (model, PL_SCORE_RANDOM, data->train, data->test);
  magnitude = accuracy_at_90 (model, PL_SCORE_MAGNITUDE, data->train, data->test);
  taylor = accuracy_at_90 (model, PL_SCORE_TAYLOR, data->train, data->test);
  g_test_message ("784-300-100-10, 2 epochs, global 90 %% without fine-tuning: learned %.2f %% "
                  "(scored in %.1f s), random %.2f %%, magnitude %.2f %%, taylor %.2f %%; %.1f s",
                  100 * learned, t1 / 1e6, 100 * random, 100 * magnitude, 100 * taylor,
                  (g_get_monotonic_time () - t0) / 1e6);
  g_assert_cmpfloat (learned, >=, random + 0.2);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_summary ("The learned criterion: exact removal measurements and a score that beats random");

  g_test_add_func ("/engine/learned/measure/matches-full-evaluation",
                   test_measure_matches_full_evaluation);
  g_test_add_func ("/engine/learned/score/seeded-in-range", test_score_contract);
  g_test_add_func ("/engine/learned/fashion-mnist/beats-random-at-90-percent",
                   test_fashion_mnist_beats_random_at_90_percent);

  return g_test_run ();
}
