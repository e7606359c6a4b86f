/* The accuracy check: global magnitude pruning at 90 % of a Fashion-MNIST model trained
 * 5 epochs (784-300-100-10, SGD lr 0.1 momentum 0.9, batch 128, seed 1, 1 thread) keeps
 * ≥ 78 % test accuracy without fine-tuning and ≥ 86 % after one epoch of masked fine-tuning.
 * Skipped when Fashion-MNIST is not installed. */
#include "config.h"

#include <string.h>

#include "pl-dataset.h"
#include "pl-eval.h"
#include "pl-metrics.h"
#include "pl-prune.h"
#include "pl-score.h"
#include "pl-train.h"
#include "pl-test-util.h"

/* The fine-tune's learning rate: the training recipe's own. */
#define FINE_TUNE_LR 0.1

static double
test_accuracy (const PlMlp     *model,
               const PlDataset *test)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PlEvaluation) ev = pl_evaluate (model, test, &error);

  g_assert_no_error (error);

  return ev->accuracy;
}

static void
test_magnitude_90_percent (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PlData) data = NULL;
  g_autoptr(PlMlp) model = NULL;
  g_autoptr(PlScores) scores = NULL;
  g_autoptr(PlTrainer) trainer = NULL;
  g_autoptr(PlTrainer) fine = NULL;
  g_autofree float *masks = NULL;
  PlDataOptions options = PL_DATA_OPTIONS_INIT;
  PlTrainConfig config;
  PlPruneSpec spec;
  PlMetrics metrics;
  double dense, pruned, tuned;
  gint64 t0 = g_get_monotonic_time ();

  if (pl_test_skip_without_fashion_mnist ())
    return;

  data = pl_data_load ("fashion-mnist", &options, &error);
  g_assert_no_error (error);
  model = pl_mlp_new_from_arch ("784-300-100-10", PL_ACTIVATION_RELU, &error);
  g_assert_no_error (error);

  pl_train_config_init (&config);
  config.epochs = 5;
  config.batch_size = 128;
  config.lr = 0.1;
  config.momentum = 0.9;
  config.seed = 1;
  config.threads = 1;
  pl_mlp_init (model, config.seed);
  trainer = pl_trainer_new (model, &config);
  g_assert_true (pl_trainer_run (trainer, data->train, data->val, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  dense = test_accuracy (model, data->test);

  scores = pl_scores_compute (model, PL_SCORE_MAGNITUDE, NULL, NULL, &error);
  g_assert_no_error (error);
  pl_prune_spec_init (&spec, PL_SCOPE_GLOBAL, FALSE, 0.9);
  g_assert_true (pl_prune_apply (model, scores, &spec, &error));
  g_assert_no_error (error);
  pl_metrics_compute (&metrics, model, NULL, NULL, NULL);
  g_assert_cmpuint (metrics.total.pruned, ==, 239580);  /* round(0.9 · 266200) */
  pruned = test_accuracy (model, data->test);
  masks = g_memdup2 (model->masks, sizeof (float) * model->n_params);

  /* one epoch of masked fine-tuning: a new trainer on the pruned model, same recipe */
  config.epochs = 1;
  config.lr = FINE_TUNE_LR;
  fine = pl_trainer_new (model, &config);
  g_assert_true (pl_trainer_run (fine, data->train, data->val, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  tuned = test_accuracy (model, data->test);

  g_assert_cmpmem (model->masks, sizeof (float) * model->n_params,
                   masks, sizeof (float) * model->n_params);
  for (gsize k = 0; k < model->n_params; k++)
    if (masks[k] == 0.0f)
      g_assert_cmpfloat (model->params[k], ==, 0.0f);

  g_test_message ("784-300-100-10, 5 epochs: test accuracy %.2f %%; global magnitude 90 %% "
                  "(layers %.1f / %.1f / %.1f %%): %.2f %%; after 1 epoch of fine-tuning at "
                  "lr %g: %.2f %%; %.1f s",
                  100 * dense, 100 * metrics.layers[0].parameter_sparsity,
                  100 * metrics.layers[1].parameter_sparsity,
                  100 * metrics.layers[2].parameter_sparsity, 100 * pruned, FINE_TUNE_LR,
                  100 * tuned, (g_get_monotonic_time () - t0) / 1e6);
  g_assert_cmpfloat (pruned, >=, 0.78);
  g_assert_cmpfloat (tuned, >=, 0.86);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_summary ("Global magnitude pruning keeps a trained Fashion-MNIST model accurate");

  g_test_add_func ("/engine/prune/fashion-mnist/magnitude-90-percent-keeps-accuracy",
                   test_magnitude_90_percent);

  return g_test_run ();
}
