/* Movement pruning's score against a plain per-step loop; SET and RigL: the cosine schedule by
 * hand, drop and grow sets on a hand example, constant per-layer counts through a whole run, and
 * accuracy on built-in data. */
#include "config.h"

#include <math.h>
#include <string.h>

#include "pl-dst.h"
#include "pl-movement.h"
#include "pl-nn.h"
#include "pl-schedule.h"
#include "pl-test-util.h"
#include "pl-train.h"

/* ---- movement ---------------------------------------------------------------------------- */

typedef struct {
  PlMovement *movement;
  PlTrainer  *trainer;
} MovementRun;

static gboolean
observe_hook (PlMlp    *model,
              guint64   step,
              gpointer  user_data)
{
  MovementRun *r = user_data;

  pl_movement_observe (r->movement, model, pl_trainer_get_gradient (r->trainer));
  return FALSE;
}

/* Full-batch SGD without momentum, so that the steps do not depend on the sample order; the
 * reference recomputes every step's gradient with pl_nn_backward_ref (plain loops, double),
 * adds −w·g and steps w ← w − lr·g itself. */
static void
test_movement_score (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PlMlp) m = pl_mlp_new_from_arch ("5-7-3", PL_ACTIVATION_TANH, &error);
  g_autoptr(PlMlp) ref = NULL;
  g_autoptr(PlDataset) data = pl_test_random_data (40, 5, 3, 9);
  g_autoptr(PlTrainer) trainer = NULL;
  g_autoptr(PlMovement) movement = NULL;
  g_autofree double *grad = NULL, *score = NULL;
  PlTrainConfig config;
  MovementRun r;
  enum { STEPS = 6 };

  pl_mlp_init (m, 4);
  ref = pl_mlp_copy (m);
  pl_train_config_init (&config);
  config.epochs = STEPS;
  config.batch_size = data->n;
  config.momentum = 0.0;
  config.lr = 0.5;
  movement = pl_movement_new (m);
  trainer = pl_trainer_new (m, &config);
  r = (MovementRun) { movement, trainer };
  pl_trainer_set_step_hook (trainer, observe_hook, &r);
  g_assert_true (pl_trainer_run (trainer, data, NULL, NULL, NULL, NULL, &error));
  g_assert_no_error (error);

  grad = g_new (double, ref->n_params);
  score = g_new0 (double, ref->n_params);
  for (guint t = 0; t < STEPS; t++)
    {
      pl_nn_backward_ref (ref, data->x, data->y, data->n, grad);
      for (gsize k = 0; k < ref->n_params; k++)
        {
          score[k] -= (double) ref->params[k] * grad[k];
          ref->params[k] = (float) (ref->params[k] - config.lr * grad[k]);
        }
    }

  for (guint i = 0, off = 0; i < m->n_layers; i++)
    {
      const PlLayer *l = &m->layers[i];
      gsize nw = (gsize) l->n_out * l->n_in;

      for (gsize k = off; k < off + nw; k++)
        g_assert_cmpfloat_with_epsilon (movement->score[k], score[k], 1e-5 + 1e-4 * fabs (score[k]));
      for (gsize k = off + nw; k < off + nw + l->n_out; k++)
        g_assert_cmpfloat (movement->score[k], ==, 0.0);   /* biases are not scored */
      off += nw + l->n_out;
    }
  /* the trainer reached the reference's weights too */
  for (gsize k = 0; k < m->n_params; k++)
    g_assert_cmpfloat_with_epsilon (m->params[k], ref->params[k], 1e-4);

  /* and the scores come out in the layers' layout */
  {
    g_autoptr(PlScores) s = pl_movement_scores (movement, m);

    g_assert_cmpfloat_with_epsilon (s->layer[1][4], movement->score[(gsize) 7 * 5 + 7 + 4], 1e-6);
  }
}

/* A movement run prunes to the target and does better than chance on easy data. */
static void
test_movement_schedule (void)
{
  g_autoptr(PlData) data = pl_test_load ("moons:n=600,seed=2", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(PlMlp) m = pl_mlp_new_from_arch ("2-32-32-2", PL_ACTIVATION_RELU, &error);
  g_autoptr(PlMlp) last = NULL;
  g_autoptr(GArray) points = g_array_new (FALSE, FALSE, sizeof (PlSchedulePoint));
  g_autoptr(PlTrainer) trainer = NULL;
  PlScheduleConfig c;
  PlTrainConfig tc;
  const PlSchedulePoint *p;

  pl_mlp_init (m, 1);
  pl_train_config_init (&tc);
  tc.epochs = 30;
  trainer = pl_trainer_new (m, &tc);
  g_assert_true (pl_trainer_run (trainer, data->train, NULL, NULL, NULL, NULL, &error));

  pl_schedule_config_init (&c);
  c.targets[0] = 0.8;
  c.n_targets = 1;
  c.gradual_epochs = 20;
  c.delta_steps = 5;
  c.train.lr = 0.1;
  g_assert_true (pl_schedule_run (m, data, PL_METHOD_MOVEMENT, &c, 0, points, &last, NULL, NULL,
                                  NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (points->len, ==, 2);
  p = &g_array_index (points, PlSchedulePoint, 1);
  g_assert_cmpfloat_with_epsilon (p->sparsity, 0.8, 0.002);
  g_test_message ("movement at 80%%: test accuracy %.4f", p->test_accuracy);
  g_assert_cmpfloat (p->test_accuracy, >, 0.8);
}

/* ---- SET and RigL ------------------------------------------------------------------------ */

static void
test_cosine (void)
{
  /* α/2 · (1 + cos(π t / T)) with α = 0.3, T = 300 */
  g_assert_cmpfloat_with_epsilon (pl_dst_drop_fraction (0.3, 0, 300), 0.3, 1e-12);
  g_assert_cmpfloat_with_epsilon (pl_dst_drop_fraction (0.3, 100, 300), 0.225, 1e-12);   /* cos π/3 = ½ */
  g_assert_cmpfloat_with_epsilon (pl_dst_drop_fraction (0.3, 150, 300), 0.15, 1e-12);    /* cos π/2 = 0 */
  g_assert_cmpfloat_with_epsilon (pl_dst_drop_fraction (0.3, 200, 300), 0.075, 1e-12);   /* cos 2π/3 = −½ */
  g_assert_cmpfloat (pl_dst_drop_fraction (0.3, 300, 300), ==, 0.0);
  g_assert_cmpfloat (pl_dst_drop_fraction (0.3, 301, 300), ==, 0.0);
}

/* Active 0, 1, 3, 5, 7 with |w| 0.5, 0.1, 0.9, 0.3, 0.05; a fraction of 0.5 gives
 * k = ⌊2.5⌋ = 2: drop 7 and 1. Inactive after the drop: 1, 2, 4, 6, 7 with |g| 0.2, 0.7, 0.4,
 * 0.1, 0.8: RigL grows 7 and 2, at 0. */
static void
test_rigl_hand (void)
{
  float w[8] = { 0.5f, -0.1f, 0.0f, 0.9f, 0.0f, -0.3f, 0.0f, 0.05f };
  float mask[8] = { 1, 1, 0, 1, 0, 1, 0, 1 };
  const float grad[8] = { 9.0f, 0.2f, -0.7f, 9.0f, 0.4f, 9.0f, 0.1f, -0.8f };
  const float mask_after[8] = { 1, 0, 1, 1, 0, 1, 0, 1 };
  const float w_after[8] = { 0.5f, 0.0f, 0.0f, 0.9f, 0.0f, -0.3f, 0.0f, 0.0f };

  g_assert_cmpuint (pl_dst_update_layer (w, mask, 8, 0.5, PL_DST_RIGL, grad, NULL), ==, 2);
  g_assert_cmpmem (mask, sizeof mask, mask_after, sizeof mask_after);
  g_assert_cmpmem (w, sizeof w, w_after, sizeof w_after);

  /* a fraction too small for one weight changes nothing */
  g_assert_cmpuint (pl_dst_update_layer (w, mask, 8, 0.19, PL_DST_RIGL, grad, NULL), ==, 0);
  g_assert_cmpmem (mask, sizeof mask, mask_after, sizeof mask_after);
}

/* SET drops the same weights and grows k among the inactive ones after the drop, each with
 * the same chance: over many draws every candidate comes up about k/5 of the time. */
static void
test_set_hand (void)
{
  guint grown[8] = { 0 };
  PlRng rng;
  enum { DRAWS = 20000 };

  pl_rng_init (&rng, 5);
  for (guint d = 0; d < DRAWS; d++)
    {
      float w[8] = { 0.5f, -0.1f, 0.0f, 0.9f, 0.0f, -0.3f, 0.0f, 0.05f };
      float mask[8] = { 1, 1, 0, 1, 0, 1, 0, 1 };

      g_assert_cmpuint (pl_dst_update_layer (w, mask, 8, 0.5, PL_DST_SET, NULL, &rng), ==, 2);
      g_assert_cmpfloat (mask[0], ==, 1.0f);
      g_assert_cmpfloat (mask[3], ==, 1.0f);
      g_assert_cmpfloat (mask[5], ==, 1.0f);
      g_assert_cmpfloat (w[0], ==, 0.5f);
      for (guint j = 0; j < 8; j++)
        {
          if (mask[j] != 0.0f && j != 0 && j != 3 && j != 5)
            {
              grown[j]++;
              g_assert_cmpfloat (w[j], ==, 0.0f);
            }
          if (mask[j] == 0.0f)
            g_assert_cmpfloat (w[j], ==, 0.0f);
        }
    }
  for (guint j = 0; j < 8; j++)
    if (j == 1 || j == 2 || j == 4 || j == 6 || j == 7)
      g_assert_cmpfloat_with_epsilon (grown[j] / (double) DRAWS, 2.0 / 5.0, 0.02);
    else
      g_assert_cmpuint (grown[j], ==, 0);
}

typedef struct {
  gsize    active[PL_MLP_MAX_LAYERS];
  gboolean seen;
  guint    steps;
  guint    changed;   /* steps at which a mask moved */
  float   *last_masks;
} CountCheck;

static void
count_progress (const PlScheduleProgress *p,
                gpointer                  user_data)
{
  CountCheck *cc = user_data;

  if (p->train == NULL || p->model == NULL || p->train->epoch_done)
    return;
  for (guint i = 0; i < p->model->n_layers; i++)
    {
      const PlLayer *l = &p->model->layers[i];
      gsize n = 0;

      for (gsize k = 0; k < (gsize) l->n_out * l->n_in; k++)
        n += l->w_mask[k] != 0.0f;
      if (cc->seen)
        g_assert_cmpuint (n, ==, cc->active[i]);
      cc->active[i] = n;
    }
  if (cc->last_masks != NULL
      && memcmp (cc->last_masks, p->model->masks, sizeof (float) * p->model->n_params) != 0)
    cc->changed++;
  g_free (cc->last_masks);
  cc->last_masks = g_memdup2 (p->model->masks, sizeof (float) * p->model->n_params);
  cc->seen = TRUE;
  cc->steps++;
}

static void
check_dst_run (PlMethod method)
{
  g_autoptr(PlData) data = pl_test_load ("moons:n=1000,seed=3", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(PlMlp) m = pl_mlp_new_from_arch ("2-64-64-2", PL_ACTIVATION_RELU, &error);
  g_autoptr(PlMlp) last = NULL;
  g_autoptr(GArray) points = g_array_new (FALSE, FALSE, sizeof (PlSchedulePoint));
  CountCheck cc = { 0 };
  PlScheduleConfig c;
  const PlSchedulePoint *p;

  pl_mlp_init (m, 1);
  pl_schedule_config_init (&c);
  c.targets[0] = 0.9;
  c.n_targets = 1;
  c.dst_epochs = 30;
  c.delta_steps = 10;
  g_assert_true (pl_schedule_run (m, data, method, &c, 0, points, &last, count_progress, &cc,
                                  NULL, &error));
  g_assert_no_error (error);
  g_clear_pointer (&cc.last_masks, g_free);
  p = &g_array_index (points, PlSchedulePoint, 1);
  g_test_message ("%s at 90%%: test accuracy %.4f, %u mask changes in %u steps",
                  pl_method_info (method)->name, p->test_accuracy, cc.changed, cc.steps);
  /* 64·64 weights at 90%: round(409.6) = 410 kept, in every step */
  g_assert_cmpuint (cc.active[1], ==, 410);
  g_assert_cmpuint (cc.changed, >=, 5);
  g_assert_cmpfloat_with_epsilon (p->sparsity, 0.9, 0.001);
  g_assert_cmpfloat (p->test_accuracy, >, 0.9);
}

static void
test_set_run (void)
{
  check_dst_run (PL_METHOD_SET);
}

static void
test_rigl_run (void)
{
  check_dst_run (PL_METHOD_RIGL);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/engine/movement/score-is-per-step-sum", test_movement_score);
  g_test_add_func ("/engine/movement/schedule-reaches-target", test_movement_schedule);
  g_test_add_func ("/engine/dst/cosine-drop-fraction", test_cosine);
  g_test_add_func ("/engine/dst/rigl/drops-and-grows-by-hand", test_rigl_hand);
  g_test_add_func ("/engine/dst/set/grows-uniformly-among-inactive", test_set_hand);
  g_test_add_func ("/engine/dst/set/keeps-counts-and-learns", test_set_run);
  g_test_add_func ("/engine/dst/rigl/keeps-counts-and-learns", test_rigl_run);

  return pl_test_run ();
}
