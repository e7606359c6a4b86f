/* pl-conv-preview.h — the live preview of unstructured pruning on a convolutional network
 *
 * What pl_conv_prune_magnitude() (or pl_conv_prune_scored()) with global scope would do at a
 * target sparsity, and the loss and accuracy of that network on an evaluation set, fast enough
 * to follow a slider. The candidates (every kept conv and head weight but each layer's
 * kept-back one, see pl-conv-prune.h) are sorted once by (score, layer, index); a sparsity s
 * then prunes a prefix of that order: the first round(s·n) − (pruned already) of them, n the
 * conv and head weights. So the masks are exactly those of pl_conv_prune_magnitude() on a
 * copy of the network.
 *
 * The conv weights are few (LeNet-5: 2,550 of 61,706) and score high, so between neighbouring
 * slider positions the prefix mostly changes head weights only. The preview keeps the
 * flattened conv features of the evaluation set for the conv masks of the last call and runs
 * a PlPreview (pl-preview.h) of the dense head on them, which applies the head's mask changes
 * incrementally. Only when the prefix changes a conv mask are the conv layers run again over
 * the whole evaluation set (a pl_conv_forward per block of samples, split over the threads:
 * LeNet-5 is ~0.36 M multiply-adds a sample in its conv layers, ~3.6 G for 10,000 samples),
 * the features transposed for the head's preview and its first layer computed anew; that call
 * costs about as much as one full evaluation, the others a fraction of a millisecond to a few
 * milliseconds. Dead filters and dead neurons (nothing reads them) do not change the output,
 * so the features are those of the conv layers' masks alone.
 *
 * The loss is that of pl_conv_evaluate() on the pruned copy within ~1e-6 and the accuracy the
 * same but for samples whose two largest logits tie within rounding (see pl-preview.h: the head
 * preview adds the products in another order). A preview is used from one thread at a time.
 */
#pragma once

#include <gio/gio.h>

#include "pl-conv.h"
#include "pl-dataset.h"

G_BEGIN_DECLS

typedef struct {
  double   value;            /* the target sparsity asked for */
  gsize    weights;          /* conv and head weights */
  gsize    pruned;           /* of them, in the previewed network */
  double   sparsity;         /* pruned / weights */
  gsize    conv_weights;
  gsize    conv_pruned;
  gboolean conv_recomputed;  /* this call ran the conv layers over the evaluation set */
  guint    n;                /* evaluation samples */
  guint    n_correct;
  double   accuracy;
  double   loss;             /* mean cross-entropy */
} PlConvPreviewResult;

typedef struct _PlConvPreview PlConvPreview;

/* @net, @scores and @eval are copied from as needed and may be freed afterwards. @scores holds
 * pl_conv_net_n_weights (net) weight scores in the order of pl-conv-score.h (higher keeps),
 * or is NULL for the magnitude |w|. @allow_empty as in pl_conv_prune_magnitude(). @threads ≥ 1.
 * FALSE with PL_TRAIN_ERROR_MISMATCH when @eval does not fit the network or is empty.
 * (transfer full) */
PlConvPreview *pl_conv_preview_new       (const PlConvNet      *net,
                                          const float          *scores,
                                          gboolean              allow_empty,
                                          const PlDataset      *eval,
                                          guint                 threads,
                                          GError              **error);
void           pl_conv_preview_free      (PlConvPreview        *self);

/* The network pruned to target sparsity @sparsity in [0, 1], global scope. Cancelling
 * @cancellable (may be NULL) stops the conv pass between blocks of 256 samples: FALSE with
 * G_IO_ERROR_CANCELLED, and the next call starts that pass again. */
gboolean       pl_conv_preview_run       (PlConvPreview        *self,
                                          double                sparsity,
                                          GCancellable         *cancellable,
                                          PlConvPreviewResult  *result,
                                          GError              **error);

/* The weight masks of the last successful run in the network's layouts: @conv_masks as
 * PlConvNet.masks (n_params, bias entries 1), @head_masks as the head's PlMlp.masks; either
 * may be NULL. Before any run, the network's own masks. */
void           pl_conv_preview_get_masks (PlConvPreview        *self,
                                          float                *conv_masks,
                                          float                *head_masks);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PlConvPreview, pl_conv_preview_free)

G_END_DECLS
