/* pl-sensitivity.h — per-layer sensitivity: accuracy as one layer alone is pruned
 *
 * For every layer i and every level s, layer i is pruned to sparsity s by the given scores
 * (the others kept as they are) and the model is evaluated: the curves show which layers
 * tolerate pruning (usually the large first layer) and which do not (usually the output
 * layer). Adaptive per-layer pruning reads its per-layer sparsities from them. With neuron
 * scores only hidden layers are pruned (whole neurons) and the sparsity is the share of the
 * layer's neurons that are dead.
 */
#pragma once

#include <gio/gio.h>

#include "pl-dataset.h"
#include "pl-mlp.h"
#include "pl-prune.h"
#include "pl-score.h"

G_BEGIN_DECLS

typedef struct {
  guint    n_layers;
  guint    n_levels;
  double  *levels;                       /* owned, (n_levels): the sparsities asked for */
  double  *sparsity;                     /* owned, (n_layers, n_levels): the layer's reached */
  double  *accuracy;                     /* owned, (n_layers, n_levels) */
  double  *loss;                         /* owned, (n_layers, n_levels) */
  gboolean pruned[PL_MLP_MAX_LAYERS];    /* the layer is pruned (FALSE: the output layer with
                                          * neuron scores) */
  guint    n_done[PL_MLP_MAX_LAYERS];    /* levels finished of each layer */
  double   dense_accuracy;               /* of the model as given */
  double   dense_loss;
} PlSensitivity;

typedef void (*PlSensitivityProgressFunc) (const PlSensitivity *sensitivity,
                                           guint                layer,
                                           guint                level,
                                           gpointer             user_data);

/* Prunes a copy of the model with layer @layer alone at sparsity @level (the others as they
 * are) and evaluates it: @sparsity the layer's reached, @accuracy and @loss on the evaluation
 * set. FALSE with the error. */
typedef gboolean (*PlSensitivityEvalFunc) (guint     layer,
                                           double    level,
                                           double   *sparsity,
                                           double   *accuracy,
                                           double   *loss,
                                           gpointer  eval_data,
                                           GError  **error);

/* @levels: n_levels sparsities in [0, 1]. (transfer full) */
PlSensitivity *pl_sensitivity_new  (guint                      n_layers,
                                    const double              *levels,
                                    guint                      n_levels);
void           pl_sensitivity_free (PlSensitivity             *self);

/* Fills @self on @eval: @spec gives invert and allow_empty (scope and values are not used).
 * On cancellation returns FALSE with G_IO_ERROR_CANCELLED; what finished stays (n_done). */
gboolean       pl_sensitivity_run  (PlSensitivity             *self,
                                    const PlMlp               *model,
                                    const PlScores            *scores,
                                    const PlPruneSpec         *spec,
                                    const PlDataset           *eval,
                                    PlSensitivityProgressFunc  progress,
                                    gpointer                   user_data,
                                    GCancellable              *cancellable,
                                    GError                   **error);

/* The loop of pl_sensitivity_run() over any model: every layer with @self->pruned set, every
 * level, through @eval; the caller sets pruned, dense_accuracy and dense_loss before. */
gboolean       pl_sensitivity_run_with (PlSensitivity             *self,
                                        PlSensitivityEvalFunc      eval,
                                        gpointer                   eval_data,
                                        PlSensitivityProgressFunc  progress,
                                        gpointer                   user_data,
                                        GCancellable              *cancellable,
                                        GError                   **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PlSensitivity, pl_sensitivity_free)

G_END_DECLS
