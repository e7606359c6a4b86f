/* pl-movement.h — movement pruning's score, accumulated while a network is fine-tuned
 *
 * Sanh, Wolf & Rush 2020, "Movement Pruning: Adaptive Sparsity by Fine-Tuning", eq. 7–8 (the
 * first-order, hard movement score): after T steps
 *   S_ij = −Σ_{t<T} W_ij^(t) · ∂L/∂W_ij^(t),
 * W^(t) the weight before step t and ∂L/∂W^(t) the gradient that step used. S is large for a
 * weight moving away from zero (w and −g of the same sign) and negative for one moving towards
 * it, whatever its size; pruning the lowest S keeps the weights that fine-tuning grows. The sum
 * runs in double.
 */
#pragma once

#include <glib.h>

#include "pl-mlp.h"
#include "pl-score.h"

G_BEGIN_DECLS

typedef struct {
  gsize   n_params;
  double *score;   /* owned: (n_params), the layout of model->params; bias entries stay 0 */
  float  *prev;    /* owned: (n_params), the weights before the next step */
} PlMovement;

/* Starts from S = 0 and the weights of @model now, the ones its first step will use. */
PlMovement *pl_movement_new      (const PlMlp  *model);
void        pl_movement_free     (PlMovement   *self);

/* After a step: S −= W_before ⊙ @grad on the weights (not the biases), then the weights before
 * the next step are @model's now. @grad (model->n_params) is the step's gradient
 * (pl_trainer_get_gradient in a step hook). */
void        pl_movement_observe  (PlMovement   *self,
                                  const PlMlp  *model,
                                  const float  *grad);

/* S as weight scores of @model (higher = keep), for pl_prune_apply; their kind says magnitude,
 * which pl_prune_select does not read. (transfer full) */
PlScores   *pl_movement_scores   (const PlMovement *self,
                                  const PlMlp      *model);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PlMovement, pl_movement_free)

G_END_DECLS
