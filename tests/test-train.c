/* Accuracy a user relies on: the built-in spiral and Fashion-MNIST train to known levels. */
#include "config.h"

#include <string.h>

#include "pl-dataset.h"
#include "pl-eval.h"
#include "pl-train.h"
#include "pl-test-util.h"

static double
train_and_test (const char  *spec,
                const char  *arch,
                PlTrainConfig *config)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PlData) data = NULL;
  g_autoptr(PlMlp) model = NULL;
  g_autoptr(PlTrainer) trainer = NULL;
  g_autoptr(PlEvaluation) ev = NULL;
  PlDataOptions options = PL_DATA_OPTIONS_INIT;
  gint64 t0 = g_get_monotonic_time ();

  data = pl_data_load (spec, &options, &error);
  g_assert_no_error (error);
  model = pl_mlp_new_from_arch (arch, PL_ACTIVATION_RELU, &error);
  g_assert_no_error (error);
  pl_mlp_init (model, config->seed);

  trainer = pl_trainer_new (model, config);
  g_assert_true (pl_trainer_run (trainer, data->train, data->val, NULL, NULL, NULL, &error));
  g_assert_no_error (error);

  ev = pl_evaluate (model, data->test, &error);
  g_assert_no_error (error);
  g_test_message ("%s, %s: test accuracy %.2f%%, loss %.4f, %.1f s",
                  spec, arch, 100 * ev->accuracy, ev->loss, (g_get_monotonic_time () - t0) / 1e6);

  return ev->accuracy;
}

static void
test_spiral_reaches_97 (void)
{
  PlTrainConfig config;

  pl_train_config_init (&config);
  config.epochs = 60;
  config.batch_size = 32;
  config.optimizer = PL_OPTIMIZER_ADAM;
  config.lr = 0.01;
  g_assert_cmpfloat (train_and_test ("spiral", "2-64-64-3", &config), >=, 0.97);
}

/* One run's final test accuracy moves by about ±0.7 points with the seed and with the
 * rounding of the OpenBLAS kernel in use (seeds 0–5: 85.3–87.0% with OPENBLAS_CORETYPE=Haswell,
 * 85.7–86.7% on Cooperlake), so the recipe is judged on the mean of three seeds, as a user
 * comparing with the literature would, and no single run may fall below 84.5%. */
static void
test_fashion_mnist_reaches_85_5 (void)
{
  PlTrainConfig config;
  double sum = 0.0;

  if (pl_test_skip_without_fashion_mnist ())
    return;

  /* the recipe: SGD lr 0.1 momentum 0.9, batch 128, 5 epochs */
  pl_train_config_init (&config);
  config.epochs = 5;
  config.batch_size = 128;
  config.lr = 0.1;
  config.momentum = 0.9;
  for (guint64 seed = 1; seed <= 3; seed++)
    {
      double accuracy;

      config.seed = seed;
      accuracy = train_and_test ("fashion-mnist", "784-300-100-10", &config);
      g_assert_cmpfloat (accuracy, >=, 0.845);
      sum += accuracy;
    }
  g_test_message ("mean test accuracy over seeds 1-3: %.2f%%", 100 * sum / 3);
  g_assert_cmpfloat (sum / 3, >=, 0.855);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/engine/train/spiral/reaches-97-percent", test_spiral_reaches_97);
  g_test_add_func ("/engine/train/fashion-mnist/mean-of-three-seeds-reaches-85.5-percent", test_fashion_mnist_reaches_85_5);
  return g_test_run ();
}
