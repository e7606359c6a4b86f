/* Pruning procedures: the cubic schedule, iterative rounds and rewinding, adaptive search,
 * gradual pruning, distillation's gradient, the trainer's step hook, sensitivity and the
 * summary over seeds. Small models on a built-in 2-D set, so the whole file runs in seconds. */
#include "config.h"

#include <math.h>
#include <string.h>

#include "pl-distill.h"
#include "pl-error.h"
#include "pl-eval.h"
#include "pl-nn.h"
#include "pl-rng.h"
#include "pl-schedule.h"
#include "pl-sensitivity.h"
#include "pl-train.h"
#include "pl-test-util.h"

/* ---- fixtures ---------------------------------------------------------------------------- */

static PlData *
load_spiral (void)
{
  g_autoptr(GError) error = NULL;
  PlDataOptions options = PL_DATA_OPTIONS_INIT;
  PlData *data = pl_data_load ("spiral:n=900,noise=0.1,seed=3", &options, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (data->val->n, >, 0);
  return data;
}

/* 2-32-32-3, trained to a useful accuracy with Adam. */
static PlMlp *
trained_model (const PlData *data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PlMlp) model = NULL;
  g_autoptr(PlTrainer) trainer = NULL;
  PlTrainConfig config;

  model = pl_mlp_new_from_arch ("2-32-32-3", PL_ACTIVATION_RELU, &error);
  g_assert_no_error (error);
  pl_mlp_init (model, 7);
  pl_train_config_init (&config);
  config.epochs = 40;
  config.batch_size = 32;
  config.optimizer = PL_OPTIMIZER_ADAM;
  config.lr = 0.01;
  trainer = pl_trainer_new (model, &config);
  g_assert_true (pl_trainer_run (trainer, data->train, data->val, NULL, NULL, NULL, &error));
  g_assert_no_error (error);

  return g_steal_pointer (&model);
}

/* A config for quick runs: SGD lr 0.05, batch 32. */
static void
quick_config (PlScheduleConfig *c)
{
  pl_schedule_config_init (c);
  c->train.lr = 0.05;
  c->train.batch_size = 32;
}

static gsize
expected_pruned (const PlMlp *model,
                 double       s)
{
  /* round half to even, as pl_prune_select */
  return (gsize) nearbyint (s * pl_mlp_n_weights (model));
}

/* ---- the cubic schedule ------------------------------------------------------------------ */

static void
test_cubic_known_values (void)
{
  /* s_t = s_f + (s_i − s_f)(1 − (t − t₀)/(nΔt))³ with s_i 0, s_f 0.9, t₀ 100, n 10, Δt 50 */
  g_assert_cmpfloat (pl_cubic_sparsity (0.0, 0.9, 100, 10, 50, 0), ==, 0.0);
  g_assert_cmpfloat (pl_cubic_sparsity (0.0, 0.9, 100, 10, 50, 99), ==, 0.0);
  g_assert_cmpfloat (pl_cubic_sparsity (0.0, 0.9, 100, 10, 50, 100), ==, 0.0);
  g_assert_cmpfloat (pl_cubic_sparsity (0.0, 0.9, 100, 10, 50, 149), ==, 0.0);
  g_assert_cmpfloat_with_epsilon (pl_cubic_sparsity (0.0, 0.9, 100, 10, 50, 150),
                                  0.9 - 0.9 * 0.729, 1e-12);      /* (1 − 1/10)³ */
  g_assert_cmpfloat_with_epsilon (pl_cubic_sparsity (0.0, 0.9, 100, 10, 50, 350),
                                  0.9 - 0.9 * 0.125, 1e-12);      /* (1 − 5/10)³ */
  g_assert_cmpfloat_with_epsilon (pl_cubic_sparsity (0.0, 0.9, 100, 10, 50, 399),
                                  0.9 - 0.9 * 0.125, 1e-12);      /* held until the next update */
  g_assert_cmpfloat_with_epsilon (pl_cubic_sparsity (0.0, 0.9, 100, 10, 50, 550),
                                  0.9 - 0.9 * 0.001, 1e-12);      /* (1 − 9/10)³ */
  g_assert_cmpfloat (pl_cubic_sparsity (0.0, 0.9, 100, 10, 50, 600), ==, 0.9);
  g_assert_cmpfloat (pl_cubic_sparsity (0.0, 0.9, 100, 10, 50, 100000), ==, 0.9);
  /* from s_i 0.5 */
  g_assert_cmpfloat_with_epsilon (pl_cubic_sparsity (0.5, 0.9, 100, 10, 50, 350),
                                  0.9 - 0.4 * 0.125, 1e-12);
  g_assert_cmpfloat (pl_cubic_sparsity (0.5, 0.9, 100, 10, 50, 20), ==, 0.5);
  /* n = 0: straight to s_f at t₀ */
  g_assert_cmpfloat (pl_cubic_sparsity (0.0, 0.8, 10, 0, 5, 10), ==, 0.8);
  g_assert_cmpfloat (pl_cubic_sparsity (0.0, 0.8, 10, 0, 5, 9), ==, 0.0);

  /* it rises fast, then slowly: the increments shrink */
  for (guint k = 1; k < 10; k++)
    {
      double a = pl_cubic_sparsity (0.0, 0.9, 0, 10, 1, k - 1);
      double b = pl_cubic_sparsity (0.0, 0.9, 0, 10, 1, k);
      double c = pl_cubic_sparsity (0.0, 0.9, 0, 10, 1, k + 1);

      g_assert_cmpfloat (b - a, >, c - b);
    }
}

/* ---- iterative rounds and rewinding ------------------------------------------------------ */

static void
test_iterative_sparsity_formula (void)
{
  double s_f = 0.97;
  guint K = 7;

  g_assert_cmpfloat (pl_iterative_sparsity (s_f, K, K), ==, s_f);
  g_assert_cmpfloat (pl_iterative_sparsity (s_f, K, 0), ==, 0.0);
  /* every round removes the same share of what remains */
  for (guint k = 1; k <= K; k++)
    {
      double before = 1.0 - pl_iterative_sparsity (s_f, K, k - 1);
      double after = 1.0 - pl_iterative_sparsity (s_f, K, k);

      g_assert_cmpfloat_with_epsilon (after / before, pow (1.0 - s_f, 1.0 / K), 1e-12);
    }
}

static void
test_iterative_reaches_final_sparsity_exactly (void)
{
  g_autoptr(PlData) data = load_spiral ();
  g_autoptr(PlMlp) model = trained_model (data);
  g_autoptr(GArray) points = g_array_new (FALSE, FALSE, sizeof (PlSchedulePoint));
  g_autoptr(PlMlp) last = NULL;
  g_autoptr(GError) error = NULL;
  PlScheduleConfig c;

  quick_config (&c);
  c.targets[0] = 0.9;
  c.n_targets = 1;
  c.rounds = 4;
  c.round_epochs = 1;
  g_assert_true (pl_schedule_run (model, data, PL_METHOD_ITERATIVE, &c, 0, points, &last,
                                  NULL, NULL, NULL, &error));
  g_assert_no_error (error);

  g_assert_cmpuint (points->len, ==, c.rounds + 1);
  for (guint k = 0; k <= c.rounds; k++)
    {
      const PlSchedulePoint *p = &g_array_index (points, PlSchedulePoint, k);
      double target = pl_iterative_sparsity (0.9, c.rounds, k);

      g_assert_cmpuint (p->level, ==, k);
      g_assert_cmpfloat (p->sparsity, ==,
                         (double) expected_pruned (model, target) / pl_mlp_n_weights (model));
      g_assert_cmpfloat (p->test_accuracy, >, 0.5);
    }
  g_assert_cmpuint (pl_mlp_n_pruned (last), ==, expected_pruned (model, 0.9));
  for (gsize k = 0; k < last->n_params; k++)
    if (last->masks[k] == 0.0f)
      g_assert_cmpfloat (last->params[k], ==, 0.0f);
}

/* Frankle & Carbin retrain every round as long as the dense network trained after the rewind
 * point; without rewinding a round fine-tunes for 2 epochs; an explicit count is kept. */
static void
test_round_epochs_default_to_the_dense_run (void)
{
  PlScheduleConfig c;

  pl_schedule_config_init (&c);
  g_assert_cmpuint (c.round_epochs, ==, PL_ROUND_EPOCHS_DENSE);
  g_assert_cmpuint (pl_schedule_round_epochs (&c), ==, 2);
  c.dense_epochs = 5;
  c.rewind = PL_REWIND_INIT;
  g_assert_cmpuint (pl_schedule_round_epochs (&c), ==, 5);
  c.rewind = PL_REWIND_EPOCH;
  c.rewind_epoch = 1;
  g_assert_cmpuint (pl_schedule_round_epochs (&c), ==, 4);
  c.rewind_epoch = 5;
  g_assert_cmpuint (pl_schedule_round_epochs (&c), ==, 0);
  c.round_epochs = 3;
  g_assert_cmpuint (pl_schedule_round_epochs (&c), ==, 3);
}

static void
test_rewind_weights_restores_stored (void)
{
  g_autoptr(PlMlp) m = pl_mlp_new_from_arch ("5-7-3", PL_ACTIVATION_RELU, NULL);
  g_autofree float *stored = g_new (float, m->n_params);
  PlRng rng;

  pl_mlp_init (m, 1);
  pl_rng_init (&rng, 2);
  for (gsize k = 0; k < m->n_params; k++)
    stored[k] = (float) pl_rng_normal (&rng);
  /* prune every third weight */
  for (guint i = 0; i < m->n_layers; i++)
    for (gsize k = 0; k < (gsize) m->layers[i].n_out * m->layers[i].n_in; k += 3)
      m->layers[i].w_mask[k] = 0.0f;
  pl_mlp_apply_masks (m);

  pl_rewind_weights (m, stored);
  for (gsize k = 0; k < m->n_params; k++)
    g_assert_cmpfloat (m->params[k], ==, m->masks[k] != 0.0f ? stored[k] : 0.0f);
}

/* kept weights of @m equal @stored; pruned ones are 0 */
static void
assert_rewound_to (const PlMlp *m,
                   const float *stored)
{
  gsize kept = 0;

  for (gsize k = 0; k < m->n_params; k++)
    {
      if (m->masks[k] != 0.0f)
        {
          g_assert_cmpfloat (m->params[k], ==, stored[k]);
          kept++;
        }
      else
        g_assert_cmpfloat (m->params[k], ==, 0.0f);
    }
  g_assert_cmpuint (kept, >, 0);
}

static void
test_iterative_rewind_restores_stored_weights (void)
{
  g_autoptr(PlData) data = load_spiral ();
  g_autoptr(PlMlp) model = trained_model (data);
  g_autoptr(GError) error = NULL;
  PlScheduleConfig c;

  quick_config (&c);
  c.targets[0] = 0.7;
  c.n_targets = 1;
  c.rounds = 3;
  c.round_epochs = 0;   /* nothing trains after the last rewind: the result is the rewind */

  /* to the initial weights: a dense network trained from pl_mlp_init (seed) */
  {
    g_autoptr(GArray) points = g_array_new (FALSE, FALSE, sizeof (PlSchedulePoint));
    g_autoptr(PlMlp) last = NULL;
    g_autoptr(PlMlp) init = pl_mlp_new (model->sizes, model->n_layers, model->activation);

    pl_mlp_init (init, 5);
    c.rewind = PL_REWIND_INIT;
    c.dense_epochs = 2;
    g_assert_true (pl_schedule_run (model, data, PL_METHOD_ITERATIVE, &c, 5, points, &last,
                                    NULL, NULL, NULL, &error));
    g_assert_no_error (error);
    g_assert_cmpuint (pl_mlp_n_pruned (last), ==, expected_pruned (model, 0.7));
    assert_rewound_to (last, init->params);
  }

  /* to stored weights from a file (epoch-e weights saved by the user) */
  {
    g_autoptr(GArray) points = g_array_new (FALSE, FALSE, sizeof (PlSchedulePoint));
    g_autoptr(PlMlp) last = NULL;
    g_autoptr(PlMlp) early = pl_mlp_copy (model);
    PlRng rng;

    pl_rng_init (&rng, 11);
    for (gsize k = 0; k < early->n_params; k++)
      early->params[k] = (float) pl_rng_normal (&rng);
    c.rewind = PL_REWIND_EPOCH;
    c.rewind_params = early->params;
    g_assert_true (pl_schedule_run (model, data, PL_METHOD_ITERATIVE, &c, 0, points, &last,
                                    NULL, NULL, NULL, &error));
    g_assert_no_error (error);
    assert_rewound_to (last, early->params);
    c.rewind_params = NULL;
  }

  /* to epoch 1 of the dense training: the weights after one epoch of a two-epoch training
   * are those of a one-epoch training (constant learning rate, same seed) */
  {
    g_autoptr(GArray) pa = g_array_new (FALSE, FALSE, sizeof (PlSchedulePoint));
    g_autoptr(GArray) pb = g_array_new (FALSE, FALSE, sizeof (PlSchedulePoint));
    g_autoptr(PlMlp) a = NULL;
    g_autoptr(PlMlp) b = NULL;
    g_autoptr(PlMlp) init = pl_mlp_new (model->sizes, model->n_layers, model->activation);
    gsize both = 0, differ_from_init = 0;

    pl_mlp_init (init, 3);
    c.rewind = PL_REWIND_EPOCH;
    c.rewind_epoch = 1;
    c.dense_epochs = 1;
    g_assert_true (pl_schedule_run (model, data, PL_METHOD_ITERATIVE, &c, 3, pa, &a, NULL,
                                    NULL, NULL, &error));
    g_assert_no_error (error);
    c.dense_epochs = 2;
    g_assert_true (pl_schedule_run (model, data, PL_METHOD_ITERATIVE, &c, 3, pb, &b, NULL,
                                    NULL, NULL, &error));
    g_assert_no_error (error);

    for (gsize k = 0; k < a->n_params; k++)
      if (a->masks[k] != 0.0f && b->masks[k] != 0.0f)
        {
          g_assert_cmpfloat (a->params[k], ==, b->params[k]);
          differ_from_init += a->params[k] != init->params[k];
          both++;
        }
    g_assert_cmpuint (both, >, 0);
    g_assert_cmpuint (differ_from_init, >, both / 2);   /* epoch 1, not the initial weights */
    /* the level-0 points are the two dense networks: one and two epochs of training */
    g_assert_cmpfloat (g_array_index (pa, PlSchedulePoint, 0).test_loss, !=,
                       g_array_index (pb, PlSchedulePoint, 0).test_loss);
  }
}

/* ---- adaptive ---------------------------------------------------------------------------- */

static gboolean
fake_accuracy (guint     level,
               double   *accuracy,
               gpointer  user_data,
               GError  **error)
{
  const double *table = user_data;

  g_assert_cmpuint (level, >, 0);
  *accuracy = table[level];
  return TRUE;
}

static void
test_adaptive_bisect_on_a_table (void)
{
  /* not monotone: the answer is still a level within the floor whose next one is not */
  const double table[] = { 0.90, 0.90, 0.89, 0.91, 0.88, 0.86, 0.885, 0.80, 0.70, 0.5, 0.3 };
  int found = pl_adaptive_bisect (G_N_ELEMENTS (table), 0.875, fake_accuracy, (gpointer) table, NULL);
  guint at;

  g_assert_cmpint (found, >=, 0);
  g_assert_cmpint (found + 1, <, (int) G_N_ELEMENTS (table));
  at = (guint) found;
  g_assert_cmpfloat (table[at], >=, 0.875);
  g_assert_cmpfloat (table[at + 1], <, 0.875);

  /* everything within: the last level */
  {
    const double all[] = { 0.9, 0.9, 0.9, 0.9 };
    g_assert_cmpint (pl_adaptive_bisect (4, 0.5, fake_accuracy, (gpointer) all, NULL), ==, 3);
  }
  /* nothing within: level 0, the dense model */
  {
    const double none[] = { 0.9, 0.1, 0.1, 0.1, 0.1 };
    g_assert_cmpint (pl_adaptive_bisect (5, 0.5, fake_accuracy, (gpointer) none, NULL), ==, 0);
  }
}

static void
check_adaptive (const PlData *data,
                const PlMlp  *model,
                guint         fine_tune_epochs)
{
  g_autoptr(GArray) points = g_array_new (FALSE, FALSE, sizeof (PlSchedulePoint));
  g_autoptr(PlMlp) last = NULL;
  g_autoptr(GError) error = NULL;
  const PlSchedulePoint *chosen = NULL, *next = NULL, *start;
  PlScheduleConfig c;
  double floor;

  quick_config (&c);
  c.budget = 0.02;
  c.step = 0.05;
  c.max_sparsity = 0.95;
  c.fine_tune_epochs = fine_tune_epochs;
  g_assert_true (pl_schedule_run (model, data, PL_METHOD_ADAPTIVE, &c, 0, points, &last, NULL,
                                  NULL, NULL, &error));
  g_assert_no_error (error);

  start = &g_array_index (points, PlSchedulePoint, 0);
  g_assert_cmpuint (start->level, ==, 0);
  floor = start->val_accuracy - c.budget;
  for (guint k = 0; k < points->len; k++)
    {
      const PlSchedulePoint *p = &g_array_index (points, PlSchedulePoint, k);

      if (p->chosen)
        {
          g_assert_null (chosen);
          chosen = p;
        }
      /* probes come in order of sparsity */
      if (k > 0)
        g_assert_cmpuint (p->level, >, g_array_index (points, PlSchedulePoint, k - 1).level);
    }
  g_assert_nonnull (chosen);
  for (guint k = 0; k < points->len; k++)
    if (g_array_index (points, PlSchedulePoint, k).level == chosen->level + 1)
      next = &g_array_index (points, PlSchedulePoint, k);

  g_test_message ("adaptive (%u fine-tuning epochs): dense val %.2f%%, chosen sparsity %.2f%% "
                  "val %.2f%% test %.2f%%, next val %.2f%%", fine_tune_epochs,
                  100 * start->val_accuracy, 100 * chosen->sparsity, 100 * chosen->val_accuracy,
                  100 * chosen->test_accuracy, next != NULL ? 100 * next->val_accuracy : NAN);
  g_assert_cmpfloat (chosen->val_accuracy, >=, floor);
  g_assert_cmpfloat (chosen->sparsity, >, 0.0);
  g_assert_nonnull (next);   /* 95 % of this small net is too much for a 2-point budget */
  g_assert_cmpfloat (next->val_accuracy, <, floor);
  g_assert_cmpfloat_with_epsilon (next->param - chosen->param, c.step, 1e-12);
  /* the model handed back is the chosen one */
  g_assert_cmpfloat ((double) pl_mlp_n_pruned (last) / pl_mlp_n_weights (last), ==,
                     chosen->sparsity);
}

static void
test_adaptive_within_budget_next_step_not (void)
{
  g_autoptr(PlData) data = load_spiral ();
  g_autoptr(PlMlp) model = trained_model (data);

  check_adaptive (data, model, 0);
  check_adaptive (data, model, 1);
}

static void
test_adaptive_per_layer (void)
{
  g_autoptr(PlData) data = load_spiral ();
  g_autoptr(PlMlp) model = trained_model (data);
  g_autoptr(GArray) points = g_array_new (FALSE, FALSE, sizeof (PlSchedulePoint));
  g_autoptr(GError) error = NULL;
  const PlSchedulePoint *chosen = NULL;
  PlScheduleConfig c;

  quick_config (&c);
  c.budget = 0.02;
  c.step = 0.05;
  c.fine_tune_epochs = 0;
  c.per_layer = TRUE;
  g_assert_true (pl_schedule_run (model, data, PL_METHOD_ADAPTIVE, &c, 0, points, NULL, NULL,
                                  NULL, NULL, &error));
  g_assert_no_error (error);
  for (guint k = 0; k < points->len; k++)
    if (g_array_index (points, PlSchedulePoint, k).chosen)
      chosen = &g_array_index (points, PlSchedulePoint, k);
  g_assert_nonnull (chosen);
  g_assert_cmpfloat (chosen->val_accuracy, >=,
                     g_array_index (points, PlSchedulePoint, 0).val_accuracy - c.budget);
  g_test_message ("per layer: sparsity %.2f%% (%.0f / %.0f / %.0f %%), val %.2f%%",
                  100 * chosen->sparsity, 100 * chosen->layer_sparsity[0],
                  100 * chosen->layer_sparsity[1], 100 * chosen->layer_sparsity[2],
                  100 * chosen->val_accuracy);
}

/* ---- gradual, one-shot, L1, L0, distillation --------------------------------------------- */

static void
test_gradual_reaches_target (void)
{
  g_autoptr(PlData) data = load_spiral ();
  g_autoptr(PlMlp) model = trained_model (data);
  g_autoptr(GArray) points = g_array_new (FALSE, FALSE, sizeof (PlSchedulePoint));
  g_autoptr(PlMlp) last = NULL;
  g_autoptr(GError) error = NULL;
  PlScheduleConfig c;

  quick_config (&c);
  c.targets[0] = 0.6;
  c.targets[1] = 0.85;
  c.n_targets = 2;
  c.gradual_epochs = 4;
  c.delta_steps = 5;
  c.start_step = 10;
  g_assert_true (pl_schedule_run (model, data, PL_METHOD_GRADUAL, &c, 0, points, &last, NULL,
                                  NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (points->len, ==, 3);
  for (guint k = 1; k < 3; k++)
    {
      const PlSchedulePoint *p = &g_array_index (points, PlSchedulePoint, k);

      g_assert_cmpfloat (p->sparsity, ==, (double) expected_pruned (model, c.targets[k - 1])
                                          / pl_mlp_n_weights (model));
      g_assert_cmpfloat (p->test_accuracy, >, 0.6);
    }
  for (gsize k = 0; k < last->n_params; k++)
    if (last->masks[k] == 0.0f)
      g_assert_cmpfloat (last->params[k], ==, 0.0f);
}

/* The model's sparsity after every training step of a gradual run. */
typedef struct {
  GArray *pruned;   /* gsize, one per step */
  guint64 last_step;
} StepLog;

static void
log_every_step (const PlScheduleProgress *p,
                gpointer                  user_data)
{
  StepLog *log = user_data;
  gsize pruned;

  if (p->train == NULL || p->train->epoch_done)
    return;
  g_assert_nonnull (p->model);
  g_assert_cmpuint (p->train->step, ==, log->last_step + 1);
  log->last_step = p->train->step;
  pruned = pl_mlp_n_pruned (p->model);
  g_array_append_val (log->pruned, pruned);
}

/* Zhu & Gupta (2017), eq. 1: s_t = s_f + (s_i − s_f)(1 − (t − t₀)/(nΔt))³ for
 * t ∈ {t₀, t₀ + Δt, …, t₀ + nΔt}, held between updates, s_i before t₀ and s_f after. Written
 * here from the paper, not with pl_cubic_sparsity. */
static double
zhu_gupta (double  s_i,
           double  s_f,
           guint64 t0,
           guint64 n,
           guint64 dt,
           guint64 t)
{
  guint64 k;

  if (t < t0)
    return s_i;
  k = MIN ((t - t0) / dt, n);   /* updates so far after the one at t₀ */
  if (n == 0)
    return s_f;

  return s_f + (s_i - s_f) * pow (1.0 - (double) k / n, 3);
}

/* The sparsity after every step — so at every mask update, not only the last — is the
 * schedule's, as an exact count of pruned weights. */
static void
test_gradual_follows_cubic_schedule_at_every_update (void)
{
  g_autoptr(PlData) data = load_spiral ();
  g_autoptr(PlMlp) model = trained_model (data);
  g_autoptr(GArray) points = g_array_new (FALSE, FALSE, sizeof (PlSchedulePoint));
  g_autoptr(GError) error = NULL;
  StepLog log = { g_array_new (FALSE, FALSE, sizeof (gsize)), 0 };
  PlScheduleConfig c;
  guint64 steps, n;
  gsize weights = pl_mlp_n_weights (model), previous = 0;
  guint updates = 0;

  quick_config (&c);
  c.targets[0] = 0.8;
  c.n_targets = 1;
  c.gradual_epochs = 3;
  c.initial_sparsity = 0.1;
  c.delta_steps = 4;
  c.start_step = 6;
  c.ramp = 0.6;
  g_assert_true (pl_schedule_run (model, data, PL_METHOD_GRADUAL, &c, 0, points, NULL,
                                  log_every_step, &log, NULL, &error));
  g_assert_no_error (error);

  steps = (data->train->n + c.train.batch_size - 1) / c.train.batch_size * c.gradual_epochs;
  n = (guint64) floor (c.ramp * (double) (steps - c.start_step) / c.delta_steps);
  g_assert_cmpuint (log.pruned->len, ==, steps);
  g_assert_cmpuint (n, >=, 5);
  for (guint64 t = 1; t <= steps; t++)
    {
      double s = zhu_gupta (0.0, c.targets[0], c.start_step, n, c.delta_steps, t);
      gsize pruned = g_array_index (log.pruned, gsize, t - 1);

      /* before t₀ the dense model trains (its s_i is not imposed until the first update) */
      if (t >= c.start_step)
        s = zhu_gupta (c.initial_sparsity, c.targets[0], c.start_step, n, c.delta_steps, t);
      g_assert_cmpuint (pruned, ==, (gsize) nearbyint (s * weights));
      updates += pruned != previous;
      previous = pruned;
    }
  g_test_message ("%" G_GUINT64_FORMAT " steps, %u mask updates (n = %" G_GUINT64_FORMAT "), "
                  "last sparsity %.4f", steps, updates, n, (double) previous / weights);
  g_assert_cmpuint (updates, ==, n + 1);
  g_array_unref (log.pruned);
}

static void
test_methods_give_their_points (void)
{
  g_autoptr(PlData) data = load_spiral ();
  g_autoptr(PlMlp) model = trained_model (data);
  g_autoptr(GError) error = NULL;
  PlScheduleConfig c;
  const PlMethod methods[] = { PL_METHOD_ONESHOT, PL_METHOD_L1, PL_METHOD_DISTILL, PL_METHOD_L0 };

  quick_config (&c);
  c.targets[0] = 0.5;
  c.targets[1] = 0.8;
  c.n_targets = 2;
  c.l1 = 1e-3;
  c.l0_lambdas[0] = 1.0;
  c.l0_lambdas[1] = 4.0;
  c.n_l0_lambdas = 2;
  c.l0.epochs = 10;
  c.l0.lr = 0.01;

  for (guint i = 0; i < G_N_ELEMENTS (methods); i++)
    {
      g_autoptr(GArray) points = g_array_new (FALSE, FALSE, sizeof (PlSchedulePoint));
      g_autoptr(PlMlp) last = NULL;

      g_assert_true (pl_schedule_run (model, data, methods[i], &c, 1, points, &last, NULL,
                                      NULL, NULL, &error));
      g_assert_no_error (error);
      g_assert_cmpuint (points->len, ==, 3);
      for (guint k = 0; k < points->len; k++)
        {
          const PlSchedulePoint *p = &g_array_index (points, PlSchedulePoint, k);

          g_test_message ("%s level %u: sparsity %.3f, test accuracy %.3f",
                          pl_method_info (methods[i])->name, p->level, p->sparsity,
                          p->test_accuracy);
          g_assert_cmpint (p->method, ==, methods[i]);
          g_assert_cmpuint (p->seed, ==, 1);
          g_assert_cmpuint (p->level, ==, k);
          g_assert_true (isfinite (p->val_accuracy) && isfinite (p->test_loss));
          if (k == 0)
            g_assert_cmpfloat (p->sparsity, ==, 0.0);
          else if (methods[i] != PL_METHOD_L0)
            g_assert_cmpfloat (p->sparsity, ==, (double) expected_pruned (model, c.targets[k - 1])
                                                / pl_mlp_n_weights (model));
          if (k > 0)
            g_assert_cmpfloat (p->test_accuracy, >, 0.5);
        }
      if (methods[i] == PL_METHOD_L0)   /* a larger λ closes more gates */
        g_assert_cmpfloat (g_array_index (points, PlSchedulePoint, 2).sparsity, >,
                           g_array_index (points, PlSchedulePoint, 1).sparsity);
      for (gsize k = 0; k < last->n_params; k++)
        if (last->masks[k] == 0.0f)
          g_assert_cmpfloat (last->params[k], ==, 0.0f);
    }
}

static void
test_same_seed_same_points (void)
{
  g_autoptr(PlData) data = load_spiral ();
  g_autoptr(PlMlp) model = trained_model (data);
  g_autoptr(GArray) a = g_array_new (FALSE, FALSE, sizeof (PlSchedulePoint));
  g_autoptr(GArray) b = g_array_new (FALSE, FALSE, sizeof (PlSchedulePoint));
  PlScheduleConfig c;

  quick_config (&c);
  c.score = PL_SCORE_TAYLOR;
  c.n_targets = 2;
  g_assert_true (pl_schedule_run (model, data, PL_METHOD_ONESHOT, &c, 4, a, NULL, NULL, NULL, NULL, NULL));
  g_assert_true (pl_schedule_run (model, data, PL_METHOD_ONESHOT, &c, 4, b, NULL, NULL, NULL, NULL, NULL));
  g_assert_cmpuint (a->len, ==, b->len);
  for (guint k = 0; k < a->len; k++)
    {
      g_assert_cmpfloat (g_array_index (a, PlSchedulePoint, k).test_loss, ==,
                         g_array_index (b, PlSchedulePoint, k).test_loss);
      g_assert_cmpfloat (g_array_index (a, PlSchedulePoint, k).sparsity, ==,
                         g_array_index (b, PlSchedulePoint, k).sparsity);
    }
}

static void
cancel_after_first_point (const PlScheduleProgress *p,
                          gpointer                  user_data)
{
  if (p->point != NULL && p->point->level == 1)
    g_cancellable_cancel (user_data);
}

static void
test_cancel_keeps_finished_points (void)
{
  g_autoptr(PlData) data = load_spiral ();
  g_autoptr(PlMlp) model = trained_model (data);
  g_autoptr(GArray) points = g_array_new (FALSE, FALSE, sizeof (PlSchedulePoint));
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  PlScheduleConfig c;

  quick_config (&c);
  g_assert_false (pl_schedule_run (model, data, PL_METHOD_ONESHOT, &c, 0, points, NULL,
                                   cancel_after_first_point, cancellable, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpuint (points->len, ==, 2);   /* the dense start and the first target */
}

static void
test_bad_config_is_a_spec_error (void)
{
  g_autoptr(PlData) data = load_spiral ();
  g_autoptr(PlMlp) model = trained_model (data);
  g_autoptr(GArray) points = g_array_new (FALSE, FALSE, sizeof (PlSchedulePoint));
  PlScheduleConfig c;

  {
    g_autoptr(GError) error = NULL;

    quick_config (&c);
    c.fine_tune_epochs = 0;
    g_assert_false (pl_schedule_run (model, data, PL_METHOD_DISTILL, &c, 0, points, NULL, NULL,
                                     NULL, NULL, &error));
    g_assert_error (error, PL_SPEC_ERROR, PL_SPEC_ERROR_INVALID);
  }
  {
    g_autoptr(GError) error = NULL;

    quick_config (&c);
    c.rewind = PL_REWIND_EPOCH;
    c.rewind_epoch = 9;
    c.dense_epochs = 2;
    g_assert_false (pl_schedule_run (model, data, PL_METHOD_ITERATIVE, &c, 0, points, NULL,
                                     NULL, NULL, NULL, &error));
    g_assert_error (error, PL_SPEC_ERROR, PL_SPEC_ERROR_INVALID);
  }
  {
    g_autoptr(GError) error = NULL;
    PlMethod m;

    g_assert_false (pl_method_parse ("lottery", &m, &error));
    g_assert_error (error, PL_SPEC_ERROR, PL_SPEC_ERROR_UNKNOWN_NAME);
    g_assert_nonnull (strstr (error->message, "distill"));
  }
  g_assert_cmpuint (points->len, ==, 0);

  for (PlMethod m = 0; m < PL_N_METHODS; m++)
    {
      PlMethod parsed;

      g_assert_true (pl_method_parse (pl_method_info (m)->name, &parsed, NULL));
      g_assert_cmpint (parsed, ==, m);
      g_assert_cmpuint (strlen (pl_method_info (m)->explanation), >, 150);
    }
  g_assert_nonnull (strstr (pl_method_info (PL_METHOD_L0)->explanation, "not L0 regularisation"));
}

/* ---- pruning at initialisation ----------------------------------------------------------- */

/* Prunes the untrained weights, not the trained model's: with given initial weights, SNIP's
 * mask is the one pl_prune_select makes from those weights; SynFlow in 3 rounds prunes to
 * 1 − 0.1^{1/3}, 1 − 0.1^{2/3} and 0.9 of the weights, rescoring the pruned network each time;
 * and every point trains the sparse network (its kept weights moved, its pruned ones 0). */
static void
test_at_init_prunes_the_untrained_weights (void)
{
  g_autoptr(PlData) data = load_spiral ();
  g_autoptr(PlMlp) model = trained_model (data);
  g_autoptr(PlMlp) init = pl_mlp_copy (model);
  g_autoptr(GError) error = NULL;
  static const double round_targets[] = { 0.535841116638722, 0.7845565309968117, 0.9 };
  PlScheduleConfig c;

  pl_mlp_init (init, 99);
  quick_config (&c);
  c.targets[0] = 0.9;
  c.n_targets = 1;
  c.dense_epochs = 3;
  c.dense_lr = 0.05;
  c.init_rounds = 3;
  c.score_options.n_batches = 1;
  c.rewind_params = init->params;

  for (guint pass = 0; pass < 2; pass++)
    {
      g_autoptr(GArray) points = g_array_new (FALSE, FALSE, sizeof (PlSchedulePoint));
      g_autoptr(PlMlp) last = NULL;
      g_autoptr(PlMlp) expected = pl_mlp_copy (init);
      guint rounds = pass == 0 ? 1 : 3;

      c.score = pass == 0 ? PL_SCORE_SNIP : PL_SCORE_SYNFLOW;
      g_assert_true (pl_schedule_run (model, data, PL_METHOD_AT_INIT, &c, 2, points, &last,
                                      NULL, NULL, NULL, &error));
      g_assert_no_error (error);
      g_assert_cmpuint (points->len, ==, 2);
      g_assert_cmpfloat (g_array_index (points, PlSchedulePoint, 0).sparsity, ==, 0.0);
      g_assert_cmpfloat (g_array_index (points, PlSchedulePoint, 1).param, ==, 0.9);
      g_assert_cmpfloat (g_array_index (points, PlSchedulePoint, 1).sparsity, ==,
                         (double) expected_pruned (model, 0.9) / pl_mlp_n_weights (model));
      g_assert_cmpfloat (g_array_index (points, PlSchedulePoint, 1).test_accuracy, >, 0.4);

      for (guint r = 0; r < rounds; r++)
        {
          PlScoreOptions options = c.score_options;
          g_autoptr(PlScores) scores = NULL;
          PlPruneSpec spec;

          options.seed = 2;
          scores = pl_scores_compute (expected, c.score, data->train, &options, &error);
          g_assert_no_error (error);
          pl_prune_spec_init (&spec, PL_SCOPE_GLOBAL, FALSE, pass == 0 ? 0.9 : round_targets[r]);
          g_assert_true (pl_prune_apply (expected, scores, &spec, &error));
        }
      g_assert_cmpmem (last->masks, sizeof (float) * last->n_params,
                       expected->masks, sizeof (float) * last->n_params);
      {
        gsize moved = 0;

        for (gsize k = 0; k < last->n_params; k++)
          if (last->masks[k] == 0.0f)
            g_assert_cmpfloat (last->params[k], ==, 0.0f);
          else
            moved += last->params[k] != init->params[k];
        g_assert_cmpuint (moved, >, 0);
      }
    }

  /* no training epoch is a spec error */
  c.dense_epochs = 0;
  {
    g_autoptr(GArray) points = g_array_new (FALSE, FALSE, sizeof (PlSchedulePoint));

    g_assert_false (pl_schedule_run (model, data, PL_METHOD_AT_INIT, &c, 2, points, NULL,
                                     NULL, NULL, NULL, &error));
    g_assert_error (error, PL_SPEC_ERROR, PL_SPEC_ERROR_INVALID);
  }
}

/* ---- distillation's gradient ------------------------------------------------------------- */

/* Hinton et al. 2015 on a hand-made pair: student logits z = (1, 2, 0.5) (a one-layer model
 * whose output is its bias), label 0, teacher's soft targets q_t = (0.2, 0.5, 0.3) at T = 2,
 * α = 0.3. The loss is (1 − α)·CE(y, softmax z) + α·T²·KL(q_t ‖ softmax(z/T)), written out
 * here; PyTorch (cross_entropy and kl_div, batchmean) gives 1.0576796121513534. */
static void
test_distill_loss_matches_formula_on_a_hand_made_pair (void)
{
  static const guint sizes[] = { 1, 3 };
  static const double z[] = { 1.0, 2.0, 0.5 };
  static const float teacher[] = { 0.2f, 0.5f, 0.3f };
  static const float x[] = { 0.0f };
  static const guint32 y[] = { 0 };
  const double T = 2.0, alpha = 0.3;
  g_autoptr(PlMlp) m = pl_mlp_new (sizes, 1, PL_ACTIVATION_RELU);
  g_autoptr(PlNnWork) work = pl_nn_work_new (m, 1);
  double sum = 0.0, sum_t = 0.0, ce, kl = 0.0, expected;

  for (guint j = 0; j < 3; j++)
    {
      m->layers[0].b[j] = (float) z[j];
      sum += exp (z[j]);
      sum_t += exp (z[j] / T);
    }
  ce = -(z[0] - log (sum));
  for (guint j = 0; j < 3; j++)
    kl += teacher[j] * (log (teacher[j]) - (z[j] / T - log (sum_t)));
  expected = (1 - alpha) * ce + alpha * T * T * kl;
  g_assert_cmpfloat_with_epsilon (expected, 1.0576796121513534, 1e-7);  /* float teacher */

  pl_nn_forward (m, work, x, 1);
  g_assert_cmpfloat_with_epsilon (pl_nn_distill_loss (m, work, y, teacher, 1, T, alpha),
                                  expected, 1e-6);
  g_assert_cmpfloat_with_epsilon (pl_nn_distill_loss_ref (m, x, y, teacher, 1, T, alpha),
                                  expected, 1e-9);
  /* α = 0 is the cross-entropy alone, α = 1 the soft term alone */
  g_assert_cmpfloat_with_epsilon (pl_nn_distill_loss (m, work, y, teacher, 1, T, 0.0), ce, 1e-6);
  g_assert_cmpfloat_with_epsilon (pl_nn_distill_loss (m, work, y, teacher, 1, T, 1.0),
                                  T * T * kl, 1e-6);
}

static void
test_distill_gradient_matches_finite_differences (void)
{
  g_autoptr(PlMlp) m = pl_mlp_new_from_arch ("4-6-5-3", PL_ACTIVATION_TANH, NULL);
  g_autoptr(PlNnWork) work = NULL;
  const guint n = 5, nc = 3;
  float x[5 * 4];
  guint32 y[5] = { 0, 2, 1, 1, 0 };
  float teacher[5 * 3];
  g_autofree float *grad = g_new (float, m->n_params);
  g_autofree float *plain = g_new (float, m->n_params);
  double T = 3.0, alpha = 0.6;
  PlRng rng;

  pl_mlp_init (m, 4);
  pl_rng_init (&rng, 9);
  for (guint k = 0; k < G_N_ELEMENTS (x); k++)
    x[k] = (float) pl_rng_normal (&rng);
  for (guint s = 0; s < n; s++)
    {
      float p[3], sum = 0.0f;

      for (guint j = 0; j < nc; j++)
        sum += p[j] = (float) (0.1 + pl_rng_uniform (&rng));
      for (guint j = 0; j < nc; j++)
        p[j] /= sum;
      pl_nn_soften (teacher + s * nc, p, nc, T);
    }

  work = pl_nn_work_new (m, n);
  pl_nn_forward (m, work, x, n);
  g_assert_cmpfloat_with_epsilon (pl_nn_distill_loss (m, work, y, teacher, n, T, alpha),
                                  pl_nn_distill_loss_ref (m, x, y, teacher, n, T, alpha), 1e-5);
  pl_nn_backward_distill (m, work, y, teacher, n, T, alpha, 1.0f / n, FALSE, grad);

  for (gsize k = 0; k < m->n_params; k++)
    {
      float keep = m->params[k];
      double h = 1e-3, up, down, fd;

      m->params[k] = keep + (float) h;
      up = pl_nn_distill_loss_ref (m, x, y, teacher, n, T, alpha);
      m->params[k] = keep - (float) h;
      down = pl_nn_distill_loss_ref (m, x, y, teacher, n, T, alpha);
      m->params[k] = keep;
      fd = (up - down) / (((double) (keep + (float) h)) - ((double) (keep - (float) h)));
      g_assert_cmpfloat (fabs (grad[k] - fd), <=, 2e-4 * MAX (1.0, fabs (fd)));
    }

  /* α = 0 is the plain cross-entropy gradient, bit for bit */
  pl_nn_forward (m, work, x, n);
  pl_nn_backward_distill (m, work, y, teacher, n, T, 0.0, 1.0f / n, FALSE, grad);
  pl_nn_backward (m, work, y, n, 1.0f / n, FALSE, plain);
  g_assert_cmpmem (grad, sizeof (float) * m->n_params, plain, sizeof (float) * m->n_params);
}

static void
test_distill_soft_targets_sum_to_one (void)
{
  g_autoptr(PlData) data = load_spiral ();
  g_autoptr(PlMlp) model = trained_model (data);
  g_autoptr(GError) error = NULL;
  g_autofree float *q1 = pl_distill_soft_targets (model, data->test, 1.0, &error);
  g_autofree float *q4 = pl_distill_soft_targets (model, data->test, 4.0, &error);
  g_autoptr(PlEvaluation) ev = pl_evaluate (model, data->test, NULL);
  double max1 = 0.0, max4 = 0.0;
  guint m = model->sizes[model->n_layers];

  g_assert_no_error (error);
  for (guint s = 0; s < data->test->n; s++)
    {
      double sum = 0.0;

      for (guint j = 0; j < m; j++)
        sum += q4[(gsize) s * m + j];
      g_assert_cmpfloat_with_epsilon (sum, 1.0, 1e-5);
      for (guint j = 0; j < m; j++)
        {
          max1 = MAX (max1, q1[(gsize) s * m + j]);
          max4 = MAX (max4, q4[(gsize) s * m + j]);
        }
    }
  /* a higher temperature softens */
  g_assert_cmpfloat (max4, <, max1);
}

/* ---- the trainer's step hook and distillation switch ------------------------------------- */

typedef struct {
  guint64 calls;
  guint64 last_step;
  gsize   pruned_at_5;
} HookLog;

static gboolean
prune_at_step_5 (PlMlp    *model,
                 guint64   step,
                 gpointer  user_data)
{
  HookLog *log = user_data;

  g_assert_cmpuint (step, ==, log->last_step + 1);
  log->last_step = step;
  log->calls++;
  if (step != 5)
    return FALSE;
  /* prune the first half of the first layer */
  for (gsize k = 0; k < (gsize) model->layers[0].n_out * model->layers[0].n_in / 2; k++)
    model->layers[0].w_mask[k] = 0.0f;
  log->pruned_at_5 = pl_mlp_n_pruned (model);
  return TRUE;
}

static void
test_step_hook_prunes_during_training (void)
{
  g_autoptr(PlData) data = load_spiral ();
  g_autoptr(PlMlp) model = pl_mlp_new_from_arch ("2-16-3", PL_ACTIVATION_RELU, NULL);
  g_autoptr(PlTrainer) trainer = NULL;
  g_autoptr(GError) error = NULL;
  HookLog log = { 0 };
  PlTrainConfig config;
  guint64 steps;

  pl_mlp_init (model, 1);
  pl_train_config_init (&config);
  config.epochs = 2;
  config.batch_size = 64;
  trainer = pl_trainer_new (model, &config);
  pl_trainer_set_step_hook (trainer, prune_at_step_5, &log);
  g_assert_true (pl_trainer_run (trainer, data->train, NULL, NULL, NULL, NULL, &error));
  g_assert_no_error (error);

  steps = 2 * ((data->train->n + 63) / 64);
  g_assert_cmpuint (log.calls, ==, steps);
  g_assert_cmpuint (log.pruned_at_5, ==, 16);
  g_assert_cmpuint (pl_mlp_n_pruned (model), ==, 16);
  for (gsize k = 0; k < 16; k++)
    g_assert_cmpfloat (model->layers[0].w[k], ==, 0.0f);
}

static void
test_distillation_with_alpha_0_is_plain_training (void)
{
  g_autoptr(PlData) data = load_spiral ();
  g_autoptr(PlMlp) a = pl_mlp_new_from_arch ("2-16-3", PL_ACTIVATION_RELU, NULL);
  g_autoptr(PlMlp) b = NULL;
  g_autoptr(PlMlp) teacher = NULL;
  g_autoptr(PlTrainer) ta = NULL;
  g_autoptr(PlTrainer) tb = NULL;
  g_autofree float *soft = NULL;
  PlTrainConfig config;

  pl_mlp_init (a, 2);
  b = pl_mlp_copy (a);
  teacher = pl_mlp_copy (a);
  soft = pl_distill_soft_targets (teacher, data->train, 2.0, NULL);
  pl_train_config_init (&config);
  config.epochs = 2;
  config.threads = 2;
  ta = pl_trainer_new (a, &config);
  tb = pl_trainer_new (b, &config);
  pl_trainer_set_distillation (tb, soft, data->train->n, 2.0, 0.0);
  g_assert_true (pl_trainer_run (ta, data->train, NULL, NULL, NULL, NULL, NULL));
  g_assert_true (pl_trainer_run (tb, data->train, NULL, NULL, NULL, NULL, NULL));
  g_assert_cmpmem (a->params, sizeof (float) * a->n_params, b->params, sizeof (float) * b->n_params);

  /* a teacher for another training set is refused */
  {
    g_autoptr(GError) error = NULL;

    pl_trainer_set_distillation (tb, soft, data->train->n - 1, 2.0, 0.5);
    g_assert_false (pl_trainer_run (tb, data->train, NULL, NULL, NULL, NULL, &error));
    g_assert_error (error, PL_TRAIN_ERROR, PL_TRAIN_ERROR_MISMATCH);
  }
}

/* ---- sensitivity and the summary --------------------------------------------------------- */

static void
test_sensitivity_prunes_one_layer_at_a_time (void)
{
  g_autoptr(PlData) data = load_spiral ();
  g_autoptr(PlMlp) model = trained_model (data);
  g_autoptr(PlScores) scores = pl_scores_compute (model, PL_SCORE_MAGNITUDE, NULL, NULL, NULL);
  g_autoptr(PlSensitivity) s = NULL;
  g_autoptr(PlEvaluation) dense = pl_evaluate (model, data->test, NULL);
  g_autoptr(GError) error = NULL;
  const double levels[] = { 0.0, 0.5, 0.9, 1.0 };
  PlPruneSpec spec;

  pl_prune_spec_init (&spec, PL_SCOPE_LAYER, FALSE, 0.0);
  s = pl_sensitivity_new (model->n_layers, levels, G_N_ELEMENTS (levels));
  g_assert_true (pl_sensitivity_run (s, model, scores, &spec, data->test, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpfloat (s->dense_accuracy, ==, dense->accuracy);

  for (guint i = 0; i < model->n_layers; i++)
    {
      gsize n = (gsize) model->layers[i].n_out * model->layers[i].n_in;

      g_assert_true (s->pruned[i]);
      g_assert_cmpuint (s->n_done[i], ==, G_N_ELEMENTS (levels));
      g_assert_cmpfloat (s->accuracy[(gsize) i * 4], ==, dense->accuracy);
      g_assert_cmpfloat (s->sparsity[(gsize) i * 4 + 1], ==, (double) nearbyint (0.5 * n) / n);
      /* a layer is never emptied: its best weight stays */
      g_assert_cmpfloat (s->sparsity[(gsize) i * 4 + 3], ==, (double) (n - 1) / n);
      g_test_message ("layer %u: %.1f%% at 90%% sparsity", i, 100 * s->accuracy[(gsize) i * 4 + 2]);
    }
  /* the model itself is not touched */
  g_assert_cmpuint (pl_mlp_n_pruned (model), ==, 0);
}

static void
test_summary_mean_and_spread (void)
{
  PlSchedulePoint p[5] = { 0 };
  g_autoptr(GArray) s = NULL;
  const PlScheduleSummary *a, *b;

  for (guint k = 0; k < 3; k++)
    p[k] = (PlSchedulePoint) { .method = PL_METHOD_ONESHOT, .seed = k, .level = 1, .param = 0.9,
                               .sparsity = 0.9, .test_accuracy = 0.80 + 0.02 * k,
                               .test_loss = 0.5, .val_accuracy = 0.8 };
  p[3] = (PlSchedulePoint) { .method = PL_METHOD_ONESHOT, .seed = 0, .level = 0,
                             .test_accuracy = 0.9, .test_loss = 0.3 };
  p[4] = (PlSchedulePoint) { .method = PL_METHOD_L1, .seed = 0, .level = 1, .sparsity = 0.5,
                             .test_accuracy = 0.7, .test_loss = 0.6 };
  s = pl_schedule_summarise (p, G_N_ELEMENTS (p));
  g_assert_cmpuint (s->len, ==, 3);
  a = &g_array_index (s, PlScheduleSummary, 0);
  b = &g_array_index (s, PlScheduleSummary, 1);
  g_assert_cmpuint (a->level, ==, 0);
  g_assert_cmpuint (a->n, ==, 1);
  g_assert_cmpfloat (a->test_accuracy_sd, ==, 0.0);
  g_assert_cmpuint (b->level, ==, 1);
  g_assert_cmpuint (b->n, ==, 3);
  g_assert_cmpfloat_with_epsilon (b->test_accuracy, 0.82, 1e-12);
  g_assert_cmpfloat_with_epsilon (b->test_accuracy_sd, 0.02, 1e-12);
  g_assert_cmpfloat_with_epsilon (b->test_accuracy_min, 0.80, 1e-12);
  g_assert_cmpfloat_with_epsilon (b->test_accuracy_max, 0.84, 1e-12);
  g_assert_cmpint (g_array_index (s, PlScheduleSummary, 2).method, ==, PL_METHOD_L1);
}

/* ---- the quality targets on Fashion-MNIST (only with -m slow: about a minute) ----- */

static void
test_fashion_mnist_targets (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PlData) data = NULL;
  g_autoptr(PlMlp) model = NULL;
  g_autoptr(PlTrainer) trainer = NULL;
  g_autoptr(PlEvaluation) dense = NULL;
  g_autoptr(GArray) oneshot = g_array_new (FALSE, FALSE, sizeof (PlSchedulePoint));
  g_autoptr(GArray) ticket = g_array_new (FALSE, FALSE, sizeof (PlSchedulePoint));
  PlDataOptions options = PL_DATA_OPTIONS_INIT;
  PlTrainConfig config;
  PlScheduleConfig c;
  const PlSchedulePoint *last;
  gint64 t0 = g_get_monotonic_time ();

  if (!g_test_slow ())
    {
      g_test_skip ("about a minute of training: run with -m slow");
      return;
    }
  if (pl_test_skip_without_fashion_mnist ())
    return;

  /* the model: 784-300-100-10, 5 epochs of SGD lr 0.1 momentum 0.9, batch 128 */
  data = pl_data_load ("fashion-mnist", &options, &error);
  g_assert_no_error (error);
  model = pl_mlp_new_from_arch ("784-300-100-10", PL_ACTIVATION_RELU, &error);
  g_assert_no_error (error);
  pl_train_config_init (&config);
  config.epochs = 5;
  config.lr = 0.1;
  pl_mlp_init (model, 1);
  trainer = pl_trainer_new (model, &config);
  g_assert_true (pl_trainer_run (trainer, data->train, data->val, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  dense = pl_evaluate (model, data->test, NULL);

  /* global magnitude, one epoch of fine-tuning: ≥ 86 % at 90 %, ≥ 85.5 % at 95 % */
  pl_schedule_config_init (&c);
  c.targets[0] = 0.9;
  c.targets[1] = 0.95;
  c.n_targets = 2;
  g_assert_true (pl_schedule_run (model, data, PL_METHOD_ONESHOT, &c, 0, oneshot, NULL, NULL,
                                  NULL, NULL, &error));
  g_assert_no_error (error);

  /* lottery ticket: rewind to epoch 1, 7 rounds of 3 epochs to 97 %, within a point */
  pl_schedule_config_init (&c);
  c.targets[0] = 0.97;
  c.n_targets = 1;
  c.rounds = 7;
  c.round_epochs = 3;
  c.rewind = PL_REWIND_EPOCH;
  c.rewind_epoch = 1;
  g_assert_true (pl_schedule_run (model, data, PL_METHOD_ITERATIVE, &c, 0, ticket, NULL, NULL,
                                  NULL, NULL, &error));
  g_assert_no_error (error);
  last = &g_array_index (ticket, PlSchedulePoint, ticket->len - 1);

  g_test_message ("dense %.2f %%; one-shot 90 %% %.2f %%, 95 %% %.2f %%; lottery ticket %.2f %% "
                  "sparsity %.2f %% (its dense network %.2f %%); %.0f s", 100 * dense->accuracy,
                  100 * g_array_index (oneshot, PlSchedulePoint, 1).test_accuracy,
                  100 * g_array_index (oneshot, PlSchedulePoint, 2).test_accuracy,
                  100 * last->sparsity, 100 * last->test_accuracy,
                  100 * g_array_index (ticket, PlSchedulePoint, 0).test_accuracy,
                  (g_get_monotonic_time () - t0) / 1e6);
  g_assert_cmpfloat (g_array_index (oneshot, PlSchedulePoint, 1).test_accuracy, >=, 0.86);
  g_assert_cmpfloat (g_array_index (oneshot, PlSchedulePoint, 2).test_accuracy, >=, 0.855);
  g_assert_cmpfloat (last->sparsity, >=, 0.97);
  g_assert_cmpfloat (last->test_accuracy, >=, dense->accuracy - 0.01);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_summary ("Pruning procedures: schedules, rounds, rewinding, adaptive search, "
                  "distillation, sensitivity and the summary over seeds");

  g_test_add_func ("/engine/schedule/cubic/known-values", test_cubic_known_values);
  g_test_add_func ("/engine/schedule/iterative/same-share-each-round", test_iterative_sparsity_formula);
  g_test_add_func ("/engine/schedule/iterative/reaches-final-sparsity-exactly",
                   test_iterative_reaches_final_sparsity_exactly);
  g_test_add_func ("/engine/schedule/iterative/rounds-train-as-long-as-the-dense-run",
                   test_round_epochs_default_to_the_dense_run);
  g_test_add_func ("/engine/schedule/rewind/restores-stored-weights", test_rewind_weights_restores_stored);
  g_test_add_func ("/engine/schedule/iterative/rewind-restores-initial-file-and-epoch-weights",
                   test_iterative_rewind_restores_stored_weights);
  g_test_add_func ("/engine/schedule/adaptive/bisection-on-a-table", test_adaptive_bisect_on_a_table);
  g_test_add_func ("/engine/schedule/adaptive/within-budget-next-step-not",
                   test_adaptive_within_budget_next_step_not);
  g_test_add_func ("/engine/schedule/adaptive/per-layer-within-budget", test_adaptive_per_layer);
  g_test_add_func ("/engine/schedule/gradual/reaches-target-exactly", test_gradual_reaches_target);
  g_test_add_func ("/engine/schedule/gradual/follows-cubic-schedule-at-every-update",
                   test_gradual_follows_cubic_schedule_at_every_update);
  g_test_add_func ("/engine/schedule/methods/give-their-points", test_methods_give_their_points);
  g_test_add_func ("/engine/schedule/same-seed-same-points", test_same_seed_same_points);
  g_test_add_func ("/engine/schedule/at-init/prunes-the-untrained-weights",
                   test_at_init_prunes_the_untrained_weights);
  g_test_add_func ("/engine/schedule/cancel-keeps-finished-points", test_cancel_keeps_finished_points);
  g_test_add_func ("/engine/schedule/bad-config-is-a-spec-error", test_bad_config_is_a_spec_error);
  g_test_add_func ("/engine/nn/distill/loss-matches-formula-on-a-hand-made-pair",
                   test_distill_loss_matches_formula_on_a_hand_made_pair);
  g_test_add_func ("/engine/nn/distill/gradient-matches-finite-differences",
                   test_distill_gradient_matches_finite_differences);
  g_test_add_func ("/engine/distill/soft-targets-sum-to-one-and-soften",
                   test_distill_soft_targets_sum_to_one);
  g_test_add_func ("/engine/train/step-hook/prunes-during-training",
                   test_step_hook_prunes_during_training);
  g_test_add_func ("/engine/train/distillation/alpha-0-is-plain-training",
                   test_distillation_with_alpha_0_is_plain_training);
  g_test_add_func ("/engine/sensitivity/prunes-one-layer-at-a-time",
                   test_sensitivity_prunes_one_layer_at_a_time);
  g_test_add_func ("/engine/schedule/summary/mean-and-spread", test_summary_mean_and_spread);
  g_test_add_func ("/engine/schedule/fashion-mnist/magnitude-and-lottery-ticket-targets",
                   test_fashion_mnist_targets);

  return g_test_run ();
}
