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
 * Every layer is kept incremental. The preview caches, over the evaluation set, the input of
 * the last conv layer L, L's outputs before bias and activation, the flattened features and
 * the head's first-layer products, and a run applies only the candidates between the last
 * prefix and the new one:
 *   - a changed head weight of the first dense layer: its row of products gains Δw times its
 *     feature (an axpy over the samples); the upper dense layers (LeNet-5: 120-84-10) run in
 *     full, as products over blocks of samples;
 *   - a changed weight (o, c, ky, kx) of L: L's map o gains Δw times input plane c shifted by
 *     (ky, kx), then map o is activated and pooled again and its change of features goes into
 *     the head's products (one product per channel, or one over all features once half of
 *     L's channels changed);
 *   - changed weights of filters o of the conv layer F before L (when it is the only one,
 *     with only pools between, as in LeNet-5): maps o of F are computed again from the input
 *     (all changed filters together, 8 accumulators in flight), pooled, and their change
 *     reaches every map of L through L's weights of input channels o (an im2col of the change
 *     and one product); then every feature and the head's first layer are computed again.
 *     This runs block by block over the samples, L's own weight changes first, so that a
 *     block's maps are read from memory once.
 * Other changes (a deeper front, every filter of F at once) and the first run run the front
 * layers (pl_conv_forward) and L (im2col + sgemm) in full. Rounding adds up over
 * many deltas, so after as many as four times L's weights in deltas L is computed exactly again,
 * and the head's first layer after half of its weights. The samples are split over a team of
 * threads. Costs on LeNet-5 with 10,000 samples: a full run is ~4 G multiply-adds (its conv
 * layers ~3.6 G); a delta of L costs 100 multiply-adds a sample per changed weight plus 3,000
 * per changed map; a front filter ~60 k a sample; the head's first layer 48 k a sample when
 * computed in full and the upper layers 11 k. With G_MESSAGES_DEBUG=pl-conv-preview each run
 * logs what it recomputed and each thread's milliseconds per phase. Memory: the caches take ~130 MB for LeNet-5 on
 * 10,000 samples (L's input 47 MB, its maps 64 MB, features 16 MB, products 5 MB).
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

/* The weight masks of the last run in the network's layouts: @conv_masks as
 * PlConvNet.masks (n_params, bias entries 1), @head_masks as the head's PlMlp.masks; either
 * may be NULL. Before any run, the network's own masks; after a cancelled one, the masks it
 * was asked for. */
void           pl_conv_preview_get_masks (PlConvPreview        *self,
                                          float                *conv_masks,
                                          float                *head_masks);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PlConvPreview, pl_conv_preview_free)

G_END_DECLS
