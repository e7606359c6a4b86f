/* pl-schedule-dst.c — the procedures that change masks while training with their own rules:
 * movement pruning, SET and RigL (pl-schedule.h says what each does) */
#define G_LOG_DOMAIN "pl-schedule"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <math.h>
#include <string.h>

#include "pl-dst.h"
#include "pl-error.h"
#include "pl-movement.h"
#include "pl-nn.h"
#include "pl-rng.h"
#include "pl-schedule-private.h"

/* ---- movement pruning -------------------------------------------------------------------- */

typedef struct {
  PlScheduleRun *run;
  PlMovement    *movement;   /* owned */
  PlTrainer     *trainer;    /* borrowed, set by _pl_schedule_train */
  double         s_initial, s_final;
  guint64        t0, n, delta_t;
  double         current;
  GError        *error;
} Movement;

static gboolean
movement_hook (PlMlp    *model,
               guint64   step,
               gpointer  user_data)
{
  Movement *mv = user_data;
  g_autoptr(PlScores) scores = NULL;
  double s;

  pl_movement_observe (mv->movement, model, pl_trainer_get_gradient (mv->trainer));

  if (step < mv->t0 || (step - mv->t0) % mv->delta_t != 0 || (step - mv->t0) / mv->delta_t > mv->n
      || mv->error != NULL)
    return FALSE;
  s = pl_cubic_sparsity (mv->s_initial, mv->s_final, mv->t0, mv->n, mv->delta_t, step);
  if (s <= mv->current)
    return FALSE;

  scores = pl_movement_scores (mv->movement, model);
  if (!_pl_schedule_prune_with (mv->run, model, scores, s, &mv->error))
    return FALSE;
  mv->current = s;

  return TRUE;
}

gboolean
_pl_schedule_run_movement (PlScheduleRun  *run,
                           PlMlp         **last,
                           GError        **error)
{
  const PlScheduleConfig *c = _pl_schedule_config (run);
  const PlMlp *model = _pl_schedule_model (run);
  const PlDataset *train = _pl_schedule_data (run)->train;
  guint64 steps_per_epoch = (train->n + c->train.batch_size - 1) / c->train.batch_size;
  guint64 total = steps_per_epoch * c->gradual_epochs;

  _pl_schedule_stage (run, _("dense model"));
  _pl_schedule_start_point (run, model);

  if (c->start_step >= total)
    {
      g_set_error (error, PL_SPEC_ERROR, PL_SPEC_ERROR_INVALID,
                   _("movement pruning starts at step %llu but the %u epochs have only %llu steps"),
                   (unsigned long long) c->start_step, c->gradual_epochs,
                   (unsigned long long) total);
      return FALSE;
    }

  for (guint k = 0; k < c->n_targets; k++)
    {
      g_autoptr(PlMlp) m = pl_mlp_copy (model);
      g_autofree char *stage = NULL;
      Movement mv = {
        .run = run, .s_initial = c->initial_sparsity, .s_final = c->targets[k],
        .t0 = c->start_step, .delta_t = c->delta_steps,
        .n = (guint64) floor (c->ramp * (double) (total - c->start_step) / c->delta_steps),
      };
      gboolean ok;

      mv.movement = pl_movement_new (m);
      mv.current = (double) pl_mlp_n_pruned (m) / pl_mlp_n_weights (m);
      stage = g_strdup_printf (_("sparsity %.4g: movement scores, masks updated every %llu steps"),
                               mv.s_final, (unsigned long long) mv.delta_t);
      _pl_schedule_stage (run, stage);
      ok = _pl_schedule_train (run, m, c->gradual_epochs, c->train.lr, movement_hook, &mv,
                               &mv.trainer, error);
      /* a schedule too long for the steps: the rest of the way with the final scores */
      if (ok && mv.error == NULL && mv.current < mv.s_final)
        {
          g_autoptr(PlScores) scores = pl_movement_scores (mv.movement, m);

          ok = _pl_schedule_prune_with (run, m, scores, mv.s_final, error);
        }
      g_clear_pointer (&mv.movement, pl_movement_free);
      if (mv.error != NULL)
        {
          g_clear_error (error);
          g_propagate_error (error, mv.error);
          return FALSE;
        }
      if (!ok)
        return FALSE;
      _pl_schedule_point (run, m, k + 1, c->targets[k], last);
    }

  return TRUE;
}

/* ---- SET and RigL ------------------------------------------------------------------------ */

typedef struct {
  PlDstGrowth       growth;
  double            alpha;
  guint64           delta_t, t_end;
  const PlDataset  *train;     /* borrowed */
  guint             batch;
  PlRng             rng;
  PlNnWork         *work;      /* owned (RigL) */
  float            *grad;      /* owned (RigL): (n_params) */
  float            *xb;        /* owned (RigL): (batch, n_features) */
  guint32          *yb;        /* owned (RigL): (batch) */
  guint             updates;
} Dst;

/* RigL's dense gradient ∂L/∂θ of the mean cross-entropy on a batch drawn at random (with
 * replacement), pruned weights included (pl_nn_backward computes them like the others). */
static void
dense_gradient (Dst         *d,
                const PlMlp *model)
{
  guint nf = d->train->n_features;

  for (guint s = 0; s < d->batch; s++)
    {
      guint i = (guint) pl_rng_below (&d->rng, d->train->n);

      memcpy (d->xb + (gsize) s * nf, d->train->x + (gsize) i * nf, sizeof (float) * nf);
      d->yb[s] = d->train->y[i];
    }
  pl_nn_forward (model, d->work, d->xb, d->batch);
  pl_nn_backward (model, d->work, d->yb, d->batch, 1.0f / d->batch, FALSE, d->grad);
}

static gboolean
dst_hook (PlMlp    *model,
          guint64   step,
          gpointer  user_data)
{
  Dst *d = user_data;
  double f;
  gsize off = 0;

  if (step % d->delta_t != 0 || step >= d->t_end)
    return FALSE;
  f = pl_dst_drop_fraction (d->alpha, step, d->t_end);
  if (d->growth == PL_DST_RIGL)
    dense_gradient (d, model);

  for (guint i = 0; i < model->n_layers; i++)
    {
      PlLayer *l = &model->layers[i];
      gsize nw = (gsize) l->n_out * l->n_in;

      pl_dst_update_layer (l->w, l->w_mask, nw, f, d->growth,
                           d->grad != NULL ? d->grad + off : NULL, &d->rng);
      off += nw + l->n_out;
    }
  d->updates++;

  return TRUE;
}

/* The initial sparsity of each layer for a target s: s in every layer (uniform), or with the
 * ERK scope the Erdős–Rényi-kernel sparsities Evci et al. (2020) start RigL from
 * (pl_erk_sparsities, the output layer dense with exclude_output). */
static void
layer_sparsities (const PlMlp       *m,
                  const PlPruneSpec *spec,
                  double             s,
                  double            *out)
{
  if (spec->scope == PL_SCOPE_ERK)
    {
      pl_erk_sparsities (m, s, spec->exclude_output, out);
      return;
    }
  for (guint i = 0; i < m->n_layers; i++)
    out[i] = s;
}

/* A random mask with round(s_i·n) of each layer's n weights pruned (at least one kept). */
static void
random_masks (PlMlp        *m,
              const double *s,
              PlRng        *rng)
{
  for (guint i = 0; i < m->n_layers; i++)
    {
      PlLayer *l = &m->layers[i];
      gsize nw = (gsize) l->n_out * l->n_in;
      gsize k = MIN ((gsize) nearbyint (s[i] * (double) nw), nw - 1);
      g_autofree guint32 *idx = g_new (guint32, nw);

      for (gsize j = 0; j < nw; j++)
        idx[j] = (guint32) j;
      pl_rng_shuffle (rng, idx, nw);
      for (gsize j = 0; j < k; j++)
        l->w_mask[idx[j]] = 0.0f;
    }
  pl_mlp_apply_masks (m);
}

gboolean
_pl_schedule_run_dst (PlScheduleRun  *run,
                      PlMlp         **last,
                      GError        **error)
{
  const PlScheduleConfig *c = _pl_schedule_config (run);
  const PlMlp *model = _pl_schedule_model (run);
  const PlDataset *train = _pl_schedule_data (run)->train;
  gboolean rigl = _pl_schedule_method (run) == PL_METHOD_RIGL;
  guint64 steps_per_epoch = (train->n + c->train.batch_size - 1) / c->train.batch_size;
  guint64 total = steps_per_epoch * c->dst_epochs;

  _pl_schedule_stage (run, _("dense model"));
  _pl_schedule_start_point (run, model);

  for (guint k = 0; k < c->n_targets; k++)
    {
      g_autoptr(PlMlp) m = pl_mlp_new (model->sizes, model->n_layers, model->activation);
      g_autofree char *stage = NULL;
      Dst d = {
        .growth = rigl ? PL_DST_RIGL : PL_DST_SET, .alpha = c->drop_fraction,
        .delta_t = c->delta_steps, .t_end = (guint64) floor (c->ramp * (double) total),
        .train = train, .batch = MIN (c->train.batch_size, train->n),
      };
      double s[PL_MLP_MAX_LAYERS];
      gboolean ok;

      pl_rng_init (&d.rng, _pl_schedule_seed (run) * 1000003u + 7919u * (k + 1));
      pl_mlp_init (m, _pl_schedule_seed (run));
      layer_sparsities (m, &c->spec, c->targets[k], s);
      random_masks (m, s, &d.rng);
      if (rigl)
        {
          d.work = pl_nn_work_new (m, d.batch);
          d.grad = g_new (float, m->n_params);
          d.xb = g_new (float, (gsize) d.batch * train->n_features);
          d.yb = g_new (guint32, d.batch);
        }

      stage = g_strdup_printf (_("sparsity %.4g: sparse training from scratch, masks updated every %llu steps until step %llu"),
                               c->targets[k], (unsigned long long) d.delta_t,
                               (unsigned long long) d.t_end);
      _pl_schedule_stage (run, stage);
      ok = _pl_schedule_train (run, m, c->dst_epochs, c->dense_lr, dst_hook, &d, NULL, error);
      g_clear_pointer (&d.work, pl_nn_work_free);
      g_clear_pointer (&d.grad, g_free);
      g_clear_pointer (&d.xb, g_free);
      g_clear_pointer (&d.yb, g_free);
      if (!ok)
        return FALSE;
      _pl_schedule_point (run, m, k + 1, c->targets[k], last);
    }

  return TRUE;
}
