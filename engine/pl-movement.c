#define G_LOG_DOMAIN "pl-movement"

#include "config.h"

#include "pl-movement.h"

#include <string.h>

PlMovement *
pl_movement_new (const PlMlp *model)
{
  PlMovement *self;

  g_return_val_if_fail (model != NULL, NULL);

  self = g_new0 (PlMovement, 1);
  self->n_params = model->n_params;
  self->score = g_new0 (double, model->n_params);
  self->prev = g_memdup2 (model->params, sizeof (float) * model->n_params);

  return self;
}

void
pl_movement_free (PlMovement *self)
{
  if (self == NULL)
    return;
  g_free (self->score);
  g_free (self->prev);
  g_free (self);
}

void
pl_movement_observe (PlMovement  *self,
                     const PlMlp *model,
                     const float *grad)
{
  gsize off = 0;

  g_return_if_fail (self != NULL && model != NULL && grad != NULL);
  g_return_if_fail (model->n_params == self->n_params);

  for (guint i = 0; i < model->n_layers; i++)
    {
      const PlLayer *l = &model->layers[i];
      gsize nw = (gsize) l->n_out * l->n_in;

      /* S −= W^(t) · ∂L/∂W^(t) (Sanh et al. 2020, eq. 8) */
      for (gsize k = off; k < off + nw; k++)
        self->score[k] -= (double) self->prev[k] * grad[k];
      off += nw + l->n_out;
    }
  memcpy (self->prev, model->params, sizeof (float) * model->n_params);
}

PlScores *
pl_movement_scores (const PlMovement *self,
                    const PlMlp      *model)
{
  g_autoptr(PlScores) scores = NULL;
  gsize off = 0;

  g_return_val_if_fail (self != NULL && model != NULL, NULL);
  g_return_val_if_fail (model->n_params == self->n_params, NULL);

  scores = pl_scores_compute (model, PL_SCORE_MAGNITUDE, NULL, NULL, NULL);
  for (guint i = 0; i < model->n_layers; i++)
    {
      const PlLayer *l = &model->layers[i];
      gsize nw = (gsize) l->n_out * l->n_in;

      for (gsize k = 0; k < nw; k++)
        scores->layer[i][k] = (float) self->score[off + k];
      off += nw + l->n_out;
    }

  return g_steal_pointer (&scores);
}
