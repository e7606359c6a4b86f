/* pl-conv-train.h — minibatch training of a PlConvNet
 *
 * The same objective and update rules as pl-train.h (softmax cross-entropy + l1 · Σ|w|,
 * clipping by value then by global norm, L2 weight decay, SGD with momentum or Adam, the
 * learning-rate schedules), over the conv parameters and the head's, through the optimiser
 * kernels of pl-optim.h. Pruned weights (mask 0) stay exactly 0 and keep no optimiser state.
 *
 * With threads > 1 each batch is split between the threads, each running single-threaded
 * OpenBLAS on its samples, and the partial gradients are summed in a fixed order: runs are
 * bit-identical for the same network, data, config and thread count.
 */
#pragma once

#include <gio/gio.h>

#include "pl-conv.h"
#include "pl-dataset.h"
#include "pl-train.h"

G_BEGIN_DECLS

typedef struct _PlConvTrainer PlConvTrainer;

/* @net is borrowed and must outlive the trainer, which keeps the optimiser state (a second run
 * continues training). Distillation, the step hook, article_l0 and dense_only do not apply. */
PlConvTrainer *pl_conv_trainer_new              (PlConvNet           *net,
                                                 const PlTrainConfig *config);
void           pl_conv_trainer_free             (PlConvTrainer       *self);

/* As pl_trainer_run(): config->epochs epochs on @train, validation on @val (NULL or empty: none)
 * after each; G_IO_ERROR_CANCELLED when @cancellable fires, PL_TRAIN_ERROR_DIVERGED on a NaN/Inf
 * loss (the weights of the epoch's start restored), PL_TRAIN_ERROR_MISMATCH when the data does
 * not fit the network. */
gboolean       pl_conv_trainer_run              (PlConvTrainer       *self,
                                                 const PlDataset     *train,
                                                 const PlDataset     *val,
                                                 PlTrainProgressFunc  progress,
                                                 gpointer             user_data,
                                                 GCancellable        *cancellable,
                                                 GError             **error);

/* PlEpochRecord of every epoch, and the gradient norm (float) of every step. (transfer none) */
const GArray  *pl_conv_trainer_get_history      (PlConvTrainer       *self);
const GArray  *pl_conv_trainer_get_grad_norms   (PlConvTrainer       *self);
guint64        pl_conv_trainer_get_samples_seen (PlConvTrainer       *self);
double         pl_conv_trainer_get_train_seconds (PlConvTrainer      *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PlConvTrainer, pl_conv_trainer_free)

G_END_DECLS
