/* pl-preview.h — what a threshold or sparsity would do, fast enough to follow a pointer
 *
 * A preview holds a model's scores sorted, the evaluation inputs and the first layer's
 * pre-activations feature-major, in cache-sized blocks of samples. Each call applies only the
 * mask changes since the previous call: the changed first-layer weights are added to the
 * pre-activations as sparse rows (or the first layer is recomputed from its kept weights, or
 * with an sgemm, whichever costs least; the first call always computes it), then the small upper
 * layers run, as sparse rows when few of their weights are kept. Blocks are split over a team
 * of threads. The model itself is never changed. The mask a preview shows is exactly what
 * pl_prune_select gives for the same scores and spec, and its loss and accuracy are those of a
 * full evaluation of the masked model: the loss within 1e-4, the accuracy exactly except for
 * near-tie samples. The incremental updates add the same products in another order than a
 * full sgemm does, so the logits differ in the last bits (~1e-6 relative), and a sample whose
 * two largest logits are that close can go to the other class in one and not the other. On
 * Fashion-MNIST that did not happen once in 100 positions checked (`bench drag --positions
 * 1000 --data fashion-mnist`); the counts are not forced to agree.
 *
 * Going from the sparsest value down is the cheapest order for a sweep: the first call then
 * computes the first layer from its few kept weights.
 *
 * A preview is used from one thread at a time (the engine thread); it may be any thread.
 */
#pragma once

#include <glib.h>

#include "pl-dataset.h"
#include "pl-mlp.h"
#include "pl-prune.h"
#include "pl-score.h"

G_BEGIN_DECLS

typedef struct {
  double  value;                              /* the threshold or sparsity asked for */
  double  threshold;                          /* a score threshold that gives this mask: the
                                               * highest score pruned (lowest with invert),
                                               * NaN when nothing is pruned by the preview */
  gsize   weights;                            /* in the whole model */
  gsize   pruned;                             /* the model's and the preview's */
  double  sparsity;                           /* pruned / weights */
  guint   neurons;                            /* hidden neurons */
  guint   dead_neurons;
  double  layer_sparsity[PL_MLP_MAX_LAYERS];  /* pruned / weights of each layer */
  gsize   changed;                            /* candidates whose mask changed since the last call */
  gboolean full_recompute;                    /* the first layer was recomputed from scratch */
  guint   n;                                  /* evaluation samples */
  guint   n_correct;
  double  accuracy;
  double  loss;                               /* mean cross-entropy */
} PlPreviewResult;

typedef struct _PlPreview PlPreview;

/* The evaluation samples as a preview reads them: feature-major in blocks of samples, with
 * their labels. Making it transposes the inputs (~25 ms for 10,000 Fashion-MNIST images), so
 * it is made once per dataset and shared by every preview of it (pl_preview_new_shared);
 * immutable once made, so previews on several threads may share it. An atomic rc-box.
 *
 * @max_samples 0 takes every sample of @eval; else a fixed subsample of at most @max_samples,
 * evenly spaced (sample ⌊i·n/m⌋ for i < m): what a preview during training evaluates first.
 * @threads ≥ 1 transpose. (transfer full) */
typedef struct _PlPreviewInputs PlPreviewInputs;

PlPreviewInputs *pl_preview_inputs_new   (const PlDataset        *eval,
                                          guint                   max_samples,
                                          guint                   threads);
PlPreviewInputs *pl_preview_inputs_ref   (PlPreviewInputs        *inputs);
void             pl_preview_inputs_unref (PlPreviewInputs        *inputs);
/* The samples it holds. */
guint            pl_preview_inputs_get_n (const PlPreviewInputs  *inputs);

/* @model, @scores and @eval are copied from as needed and may be freed afterwards. @spec gives
 * the scope, invert, exclude_output and allow_empty; its values are not used. @threads ≥ 1.
 * (transfer full) */
PlPreview *pl_preview_new       (const PlMlp        *model,
                                 const PlScores     *scores,
                                 const PlPruneSpec  *spec,
                                 const PlDataset    *eval,
                                 guint               threads,
                                 GError            **error);
/* The same on inputs made before, which the preview keeps a reference to. (transfer full) */
PlPreview *pl_preview_new_shared (const PlMlp       *model,
                                  const PlScores    *scores,
                                  const PlPruneSpec *spec,
                                  PlPreviewInputs   *inputs,
                                  guint              threads,
                                  GError           **error);
void       pl_preview_free      (PlPreview          *self);

/* The model with the candidates below @value pruned: a score threshold when @by_threshold,
 * else a target sparsity in [0, 1] (one value for every layer with PL_SCOPE_LAYER). */
gboolean   pl_preview_run       (PlPreview          *self,
                                 double              value,
                                 gboolean            by_threshold,
                                 PlPreviewResult    *result,
                                 GError            **error);

/* The masks of the last run, in the layout of the model's (either may be NULL). */
void       pl_preview_get_masks (PlPreview          *self,
                                 float              *masks,
                                 float              *neuron_masks);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PlPreview, pl_preview_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PlPreviewInputs, pl_preview_inputs_unref)

G_END_DECLS
