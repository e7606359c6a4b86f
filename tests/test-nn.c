/* Forward and backward passes against plain-loop references and finite differences, and the
 * trainer's masked, clipped, seeded updates. */
#include "config.h"

#include <math.h>
#include <string.h>

#include "pl-dataset.h"
#include "pl-error.h"
#include "pl-nn.h"
#include "pl-rng.h"
#include "pl-train.h"
#include "pl-test-util.h"

static const guint sizes[] = { 5, 7, 6, 4 };
#define N_SAMPLES 9

/* Prunes every stride-th weight (never a bias), starting at @offset within each layer. */
static void
prune_every (PlMlp *m,
             guint  stride,
             guint  offset)
{
  for (guint i = 0; i < m->n_layers; i++)
    {
      PlLayer *l = &m->layers[i];

      for (gsize k = offset; k < (gsize) l->n_out * l->n_in; k += stride)
        l->w_mask[k] = 0.0f;
    }
  pl_mlp_apply_masks (m);
}

/* A small model with some weights pruned and hidden neuron 2 of layer 0 cut off (its outgoing
 * weights masked), as structured pruning leaves it. */
static PlMlp *
small_model (PlActivation activation,
             gboolean     masked)
{
  PlMlp *m = pl_mlp_new (sizes, G_N_ELEMENTS (sizes) - 1, activation);
  PlRng rng;

  pl_mlp_init (m, 11);
  /* non-zero biases, so that their gradients are exercised */
  pl_rng_init (&rng, 12);
  for (guint i = 0; i < m->n_layers; i++)
    for (guint o = 0; o < m->layers[i].n_out; o++)
      m->layers[i].b[o] = (float) (0.2 * pl_rng_normal (&rng));

  if (masked)
    {
      PlLayer *l1 = &m->layers[1];

      for (guint o = 0; o < l1->n_out; o++)
        l1->w_mask[o * l1->n_in + 2] = 0.0f;
      prune_every (m, 5, 0);
      g_assert_cmpfloat (m->layers[0].neuron_mask[2], ==, 0.0f);
    }

  return m;
}

static void
test_forward_matches_reference (void)
{
  g_autoptr(PlDataset) d = pl_test_random_data (N_SAMPLES, sizes[0], 4, 1);

  for (PlActivation a = PL_ACTIVATION_RELU; a <= PL_ACTIVATION_SIGMOID; a++)
    {
      g_autoptr(PlMlp) m = small_model (a, TRUE);
      g_autoptr(PlNnWork) work = pl_nn_work_new (m, N_SAMPLES);
      double loss, loss_ref;

      pl_nn_forward (m, work, d->x, N_SAMPLES);
      loss = pl_nn_loss (m, work, d->y, N_SAMPLES, NULL);
      loss_ref = pl_nn_loss_ref (m, d->x, d->y, N_SAMPLES);
      g_assert_cmpfloat_with_epsilon (loss, loss_ref, 1e-5);
    }
}

static void
test_backward_matches_reference (void)
{
  g_autoptr(PlDataset) d = pl_test_random_data (N_SAMPLES, sizes[0], 4, 2);

  for (PlActivation a = PL_ACTIVATION_RELU; a <= PL_ACTIVATION_SIGMOID; a++)
    {
      g_autoptr(PlMlp) m = small_model (a, TRUE);
      g_autoptr(PlNnWork) work = pl_nn_work_new (m, N_SAMPLES);
      g_autofree float *g = g_new0 (float, m->n_params);
      g_autofree double *gref = g_new0 (double, m->n_params);

      pl_nn_forward (m, work, d->x, N_SAMPLES);
      pl_nn_backward (m, work, d->y, N_SAMPLES, 1.0f / N_SAMPLES, FALSE, g);
      pl_nn_backward_ref (m, d->x, d->y, N_SAMPLES, gref);
      for (gsize k = 0; k < m->n_params; k++)
        g_assert_cmpfloat_with_epsilon (g[k], gref[k], 1e-5 + 1e-4 * fabs (gref[k]));

      /* accumulating adds the same gradient again */
      pl_nn_backward (m, work, d->y, N_SAMPLES, 1.0f / N_SAMPLES, TRUE, g);
      for (gsize k = 0; k < m->n_params; k++)
        g_assert_cmpfloat_with_epsilon (g[k], 2 * gref[k], 2e-5 + 2e-4 * fabs (gref[k]));
    }
}

/* The objective the trainer minimises: cross-entropy + weight_decay/2·Σw² + l1·Σ|w|. */
static double
objective (const PlMlp     *m,
           const PlDataset *d,
           double           wd,
           double           l1)
{
  return pl_nn_loss_ref (m, d->x, d->y, d->n) + pl_nn_penalty (m, wd, l1);
}

/* One SGD step with lr 1 and no momentum on the whole data is θ ← θ − ∇J: compare the step
 * with centred finite differences of J, entry by entry, for every activation, with masks,
 * weight decay and L1. Pruned entries must not move. */
static void
check_gradient (PlActivation activation,
                guint        threads)
{
  const double wd = 0.03, l1 = 0.002, h = 1e-4;
  g_autoptr(PlDataset) d = pl_test_random_data (N_SAMPLES, sizes[0], 4, 3);
  g_autoptr(PlMlp) m = small_model (activation, TRUE);
  g_autoptr(PlMlp) stepped = pl_mlp_copy (m);
  g_autoptr(PlMlp) probe = pl_mlp_copy (m);
  g_autoptr(PlTrainer) trainer = NULL;
  g_autoptr(GError) error = NULL;
  PlTrainConfig config;
  double worst = 0.0;
  guint checked = 0;

  pl_train_config_init (&config);
  config.epochs = 1;
  config.batch_size = N_SAMPLES;
  config.lr = 1.0;
  config.momentum = 0.0;
  config.weight_decay = wd;
  config.l1 = l1;
  config.threads = threads;
  trainer = pl_trainer_new (stepped, &config);
  g_assert_true (pl_trainer_run (trainer, d, NULL, NULL, NULL, NULL, &error));
  g_assert_no_error (error);

  for (gsize k = 0; k < m->n_params; k++)
    {
      double analytic = (double) m->params[k] - stepped->params[k];
      float orig = m->params[k];
      float plus, minus;
      double jp, jm, numeric, rel;

      if (m->masks[k] == 0.0f)
        {
          g_assert_cmpfloat (stepped->params[k], ==, 0.0f);
          continue;
        }

      probe->params[k] = plus = orig + (float) h;
      jp = objective (probe, d, wd, l1);
      probe->params[k] = minus = orig - (float) h;
      jm = objective (probe, d, wd, l1);
      probe->params[k] = orig;
      numeric = (jp - jm) / ((double) plus - minus);

      rel = fabs (analytic - numeric) / MAX (fabs (analytic) + fabs (numeric), 1e-3);
      worst = MAX (worst, rel);
      checked++;
      if (rel >= 1e-3)
        g_test_message ("param %" G_GSIZE_FORMAT ": analytic %.8g numeric %.8g", k, analytic, numeric);
      g_assert_cmpfloat (rel, <, 1e-3);
    }

  g_test_message ("%s, %u thread(s): %u entries, worst relative error %.2e",
                  pl_activation_to_string (activation), threads, checked, worst);
  g_assert_cmpuint (checked, >, m->n_params / 2);
}

static void
test_gradient_relu (void)
{
  check_gradient (PL_ACTIVATION_RELU, 1);
}

static void
test_gradient_tanh (void)
{
  check_gradient (PL_ACTIVATION_TANH, 1);
}

static void
test_gradient_sigmoid (void)
{
  check_gradient (PL_ACTIVATION_SIGMOID, 1);
}

static void
test_gradient_two_threads (void)
{
  check_gradient (PL_ACTIVATION_TANH, 2);
  check_gradient (PL_ACTIVATION_RELU, 2);
}

static PlTrainer *
train_small (PlMlp           *m,
             const PlDataset *d,
             PlOptimizer      optimizer,
             guint            threads,
             double           clip_norm)
{
  g_autoptr(GError) error = NULL;
  PlTrainConfig config;
  PlTrainer *trainer;

  pl_train_config_init (&config);
  config.epochs = 3;
  config.batch_size = 16;
  config.optimizer = optimizer;
  config.lr = optimizer == PL_OPTIMIZER_ADAM ? 0.01 : 0.1;
  config.weight_decay = 1e-3;
  config.l1 = 1e-4;
  config.clip_norm = clip_norm;
  config.threads = threads;
  trainer = pl_trainer_new (m, &config);
  g_assert_true (pl_trainer_run (trainer, d, NULL, NULL, NULL, NULL, &error));
  g_assert_no_error (error);

  return trainer;
}

static void
test_masked_training_keeps_zeros (void)
{
  g_autoptr(PlDataset) d = pl_test_random_data (200, sizes[0], 4, 4);

  /* with two threads the first layer is split by neurons, the rest by samples */
  for (guint run = 0; run < 4; run++)
    {
      PlOptimizer opt = run % 2 == 0 ? PL_OPTIMIZER_SGD : PL_OPTIMIZER_ADAM;
      guint threads = 1 + run / 2;
      g_autoptr(PlMlp) m = small_model (PL_ACTIVATION_RELU, TRUE);
      g_autoptr(PlMlp) before = pl_mlp_copy (m);
      g_autoptr(PlTrainer) trainer = NULL;
      guint moved = 0;

      /* Train once, prune more, train again: state built before the new mask must not leak
       * into the pruned entries. */
      trainer = train_small (m, d, opt, threads, 0.0);
      prune_every (m, 3, 1);
      g_assert_true (pl_trainer_run (trainer, d, NULL, NULL, NULL, NULL, NULL));

      for (gsize k = 0; k < m->n_params; k++)
        {
          if (m->masks[k] == 0.0f)
            {
              g_assert_cmpfloat (m->params[k], ==, 0.0f);
              g_assert_false (signbit (m->params[k]));
            }
          else
            moved += m->params[k] != before->params[k];
        }
      g_assert_cmpuint (moved, >, 0);
      g_assert_cmpfloat (m->layers[0].neuron_mask[2], ==, 0.0f);
    }
}

static void
test_same_seed_is_bit_identical (void)
{
  g_autoptr(PlDataset) d = pl_test_random_data (300, sizes[0], 4, 5);

  for (guint threads = 1; threads <= 2; threads++)
    {
      g_autoptr(PlMlp) a = small_model (PL_ACTIVATION_RELU, FALSE);
      g_autoptr(PlMlp) b = small_model (PL_ACTIVATION_RELU, FALSE);

      pl_trainer_free (train_small (a, d, PL_OPTIMIZER_SGD, threads, 1.0));
      pl_trainer_free (train_small (b, d, PL_OPTIMIZER_SGD, threads, 1.0));

      g_assert_cmpmem (a->params, a->n_params * sizeof (float), b->params, b->n_params * sizeof (float));
    }
}

static void
test_two_threads_match_one (void)
{
  g_autoptr(PlDataset) d = pl_test_random_data (300, sizes[0], 4, 6);
  g_autoptr(PlMlp) a = small_model (PL_ACTIVATION_TANH, TRUE);
  g_autoptr(PlMlp) b = small_model (PL_ACTIVATION_TANH, TRUE);

  pl_trainer_free (train_small (a, d, PL_OPTIMIZER_ADAM, 1, 0.0));
  pl_trainer_free (train_small (b, d, PL_OPTIMIZER_ADAM, 2, 0.0));

  /* the split batch sums in another order: equal up to rounding */
  for (gsize k = 0; k < a->n_params; k++)
    g_assert_cmpfloat_with_epsilon (a->params[k], b->params[k], 1e-4);
}

static void
test_clip_norm_bounds_the_step (void)
{
  g_autoptr(PlDataset) d = pl_test_random_data (64, sizes[0], 4, 7);
  g_autoptr(PlMlp) m = small_model (PL_ACTIVATION_RELU, FALSE);
  g_autoptr(PlMlp) before = NULL;
  g_autoptr(PlTrainer) trainer = NULL;
  PlTrainConfig config;
  const GArray *norms;
  double step_sq = 0.0;

  /* a large scale makes the gradient larger than the clip level */
  for (gsize k = 0; k < m->n_params; k++)
    m->params[k] *= 4.0f;
  before = pl_mlp_copy (m);

  pl_train_config_init (&config);
  config.epochs = 1;
  config.batch_size = 64;
  config.lr = 1.0;
  config.momentum = 0.0;
  config.clip_norm = 0.05;
  trainer = pl_trainer_new (m, &config);
  g_assert_true (pl_trainer_run (trainer, d, NULL, NULL, NULL, NULL, NULL));

  norms = pl_trainer_get_grad_norms (trainer);
  g_assert_cmpuint (norms->len, ==, 1);
  g_assert_cmpfloat (g_array_index (norms, float, 0), >, 0.05);
  for (gsize k = 0; k < m->n_params; k++)
    step_sq += ((double) m->params[k] - before->params[k]) * ((double) m->params[k] - before->params[k]);
  g_assert_cmpfloat_with_epsilon (sqrt (step_sq), 0.05, 1e-4);
}

static void
test_clip_value_bounds_each_entry (void)
{
  g_autoptr(PlDataset) d = pl_test_random_data (64, sizes[0], 4, 8);
  g_autoptr(PlMlp) m = small_model (PL_ACTIVATION_RELU, FALSE);
  g_autoptr(PlMlp) before = NULL;
  g_autoptr(PlTrainer) trainer = NULL;
  PlTrainConfig config;
  guint at_limit = 0;

  for (gsize k = 0; k < m->n_params; k++)
    m->params[k] *= 4.0f;
  before = pl_mlp_copy (m);

  pl_train_config_init (&config);
  config.epochs = 1;
  config.batch_size = 64;
  config.lr = 1.0;
  config.momentum = 0.0;
  config.clip_value = 0.01;
  trainer = pl_trainer_new (m, &config);
  g_assert_true (pl_trainer_run (trainer, d, NULL, NULL, NULL, NULL, NULL));

  for (gsize k = 0; k < m->n_params; k++)
    {
      double step = fabs ((double) m->params[k] - before->params[k]);

      g_assert_cmpfloat (step, <=, 0.01 + 1e-6);
      at_limit += step > 0.0099;
    }
  g_assert_cmpuint (at_limit, >, 0);
}

static void
test_divergence_restores_last_good (void)
{
  g_autoptr(PlDataset) d = pl_test_random_data (256, sizes[0], 4, 9);
  g_autoptr(PlMlp) m = small_model (PL_ACTIVATION_RELU, FALSE);
  g_autoptr(PlTrainer) trainer = NULL;
  g_autoptr(GError) error = NULL;
  PlTrainConfig config;

  /* unscaled features of size 1e18: the first step blows the weights up, the second
   * overflows float */
  for (gsize k = 0; k < (gsize) d->n * d->n_features; k++)
    d->x[k] *= 1e18f;

  pl_train_config_init (&config);
  config.epochs = 5;
  config.batch_size = 32;
  config.lr = 1.0;
  trainer = pl_trainer_new (m, &config);
  g_assert_false (pl_trainer_run (trainer, d, NULL, NULL, NULL, NULL, &error));
  g_assert_error (error, PL_TRAIN_ERROR, PL_TRAIN_ERROR_DIVERGED);
  g_assert_nonnull (strstr (error->message, "restored"));

  /* the restored weights are the last ones whose loss was finite */
  g_assert_cmpuint (pl_trainer_get_grad_norms (trainer)->len, >, 0);
  g_assert_true (isfinite (pl_nn_loss_ref (m, d->x, d->y, d->n)));
  for (gsize k = 0; k < m->n_params; k++)
    g_assert_true (isfinite (m->params[k]));
}

static void
cancel_at_step_3 (const PlTrainProgress *p,
                  gpointer               user_data)
{
  if (p->step == 3)
    g_cancellable_cancel (user_data);
}

static void
test_cancel_stops_cleanly (void)
{
  g_autoptr(PlDataset) d = pl_test_random_data (256, sizes[0], 4, 10);
  g_autoptr(PlMlp) m = small_model (PL_ACTIVATION_RELU, FALSE);
  g_autoptr(PlTrainer) trainer = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  PlTrainConfig config;

  pl_train_config_init (&config);
  config.epochs = 5;
  config.batch_size = 32;
  config.threads = 2;
  trainer = pl_trainer_new (m, &config);
  g_assert_false (pl_trainer_run (trainer, d, NULL, cancel_at_step_3, cancellable, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpuint (pl_trainer_get_grad_norms (trainer)->len, ==, 3);
  g_assert_cmpuint (pl_trainer_get_history (trainer)->len, ==, 0);
}

static void
test_mismatched_data_rejected (void)
{
  g_autoptr(PlDataset) d = pl_test_random_data (10, 3, 4, 11);
  g_autoptr(PlMlp) m = small_model (PL_ACTIVATION_RELU, FALSE);
  g_autoptr(PlTrainer) trainer = NULL;
  g_autoptr(GError) error = NULL;
  PlTrainConfig config;

  pl_train_config_init (&config);
  trainer = pl_trainer_new (m, &config);
  g_assert_false (pl_trainer_run (trainer, d, NULL, NULL, NULL, NULL, &error));
  g_assert_error (error, PL_TRAIN_ERROR, PL_TRAIN_ERROR_MISMATCH);
}

static void
test_lr_schedules (void)
{
  g_autoptr(PlDataset) d = pl_test_random_data (40, sizes[0], 4, 12);
  PlLrSchedule schedules[] = { PL_LR_CONSTANT, PL_LR_STEP, PL_LR_COSINE };
  /* 4 epochs of 2 steps; lr at each epoch's last step */
  double expect[3][4] = {
    { 0.1, 0.1, 0.1, 0.1 },
    { 0.1, 0.1, 0.05, 0.05 },
    { 0.1 * 0.5 * (1 + cos (G_PI * 1 / 8)), 0.1 * 0.5 * (1 + cos (G_PI * 3 / 8)),
      0.1 * 0.5 * (1 + cos (G_PI * 5 / 8)), 0.1 * 0.5 * (1 + cos (G_PI * 7 / 8)) },
  };

  for (guint s = 0; s < 3; s++)
    {
      g_autoptr(PlMlp) m = small_model (PL_ACTIVATION_RELU, FALSE);
      g_autoptr(PlTrainer) trainer = NULL;
      PlTrainConfig config;
      const GArray *h;

      pl_train_config_init (&config);
      config.epochs = 4;
      config.batch_size = 20;
      config.schedule = schedules[s];
      config.step_epochs = 2;
      config.step_gamma = 0.5;
      trainer = pl_trainer_new (m, &config);
      g_assert_true (pl_trainer_run (trainer, d, NULL, NULL, NULL, NULL, NULL));
      h = pl_trainer_get_history (trainer);
      g_assert_cmpuint (h->len, ==, 4);
      for (guint e = 0; e < 4; e++)
        g_assert_cmpfloat_with_epsilon (g_array_index (h, PlEpochRecord, e).lr, expect[s][e], 1e-6);
    }
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/engine/nn/forward/matches-reference", test_forward_matches_reference);
  g_test_add_func ("/engine/nn/backward/matches-reference", test_backward_matches_reference);
  g_test_add_func ("/engine/nn/gradient/relu/matches-finite-differences", test_gradient_relu);
  g_test_add_func ("/engine/nn/gradient/tanh/matches-finite-differences", test_gradient_tanh);
  g_test_add_func ("/engine/nn/gradient/sigmoid/matches-finite-differences", test_gradient_sigmoid);
  g_test_add_func ("/engine/nn/gradient/two-threads/matches-finite-differences", test_gradient_two_threads);
  g_test_add_func ("/engine/train/masked/pruned-weights-stay-zero", test_masked_training_keeps_zeros);
  g_test_add_func ("/engine/train/same-seed-is-bit-identical", test_same_seed_is_bit_identical);
  g_test_add_func ("/engine/train/two-threads-match-one", test_two_threads_match_one);
  g_test_add_func ("/engine/train/clip-norm/bounds-the-step", test_clip_norm_bounds_the_step);
  g_test_add_func ("/engine/train/clip-value/bounds-each-entry", test_clip_value_bounds_each_entry);
  g_test_add_func ("/engine/train/divergence/restores-last-good", test_divergence_restores_last_good);
  g_test_add_func ("/engine/train/cancel/stops-cleanly", test_cancel_stops_cleanly);
  g_test_add_func ("/engine/train/rejects-mismatched-data", test_mismatched_data_rejected);
  g_test_add_func ("/engine/train/lr-schedules", test_lr_schedules);
  return g_test_run ();
}
