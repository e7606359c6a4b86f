/* pl-learned.h — a learned pruning criterion (the seed article's "automated pruning")
 *
 * A small predictor network learns, on one model and one dataset, how much the loss rises when
 * a single weight is removed, from features of the weight that any score can see:
 *   log|w|, log mean_s|∂L_s/∂w| (the gradient score), log|w·ḡ| (ḡ the gradient of the mean
 *   loss of the measurement batch), layer index / (layers − 1),
 *   log(1 + fan-in) and log(1 + fan-out) of the weight's output neuron (kept weights into it,
 *   and out of it into the next layer; 0 for the output layer),
 * each standardised over the kept weights. The training targets are measured, not estimated:
 * for a sample of kept weights (⌈n_samples / layers⌉ from every layer, all of a layer's kept
 * weights when it has fewer: 2,048 + 2,048 + 1,000 = 5,096 of the default 6,144 on
 * 784-300-100-10), the exact change of the
 * mean cross-entropy on a batch of training samples when that weight alone is set to 0 —
 * computed by updating only the affected column of pre-activations and the samples whose
 * activation it changes, so a measurement costs a fraction of a forward pass. The batch's
 * first-order term −g·w (g the batch's gradient) averages out over the data at a trained model
 * but dominates a batch's change for small weights, so it is taken out as a control variate:
 * the target is ΔL + g·w (without that the predictor learns mostly noise). The targets are
 * ranked into n_bins equal-count classes, a PlMlp (6-hidden-hidden-n_bins, ReLU) learns the
 * class with PlTrainer (Adam), and the score of a weight is the predicted expected class,
 * Σ_k p_k·(k + ½)/n_bins ∈ (0, 1): higher means removing it costs more, so keep it.
 *
 * It is one more score (PL_SCORE_LEARNED in pl-score.h). It learns what removing one weight
 * costs; pruning removes many at once, so it is no oracle: compare its curve with magnitude
 * and Taylor.
 */
#pragma once

#include <glib.h>

#include "pl-dataset.h"
#include "pl-mlp.h"
#include "pl-score.h"

G_BEGIN_DECLS

#define PL_LEARNED_N_FEATURES 6

typedef struct {
  guint    n_samples;      /* weights whose removal is measured, at most (default 6144) */
  guint    eval_samples;   /* training samples the loss change is measured on (default 4096) */
  guint    hidden;         /* width of the predictor's two hidden layers (default 32) */
  guint    n_bins;         /* classes of the measured change (default 16) */
  guint    epochs;         /* of the predictor's training (default 60) */
  guint64  seed;           /* the weights sampled, the samples, the predictor (default 0) */
} PlLearnedOptions;

#define PL_LEARNED_OPTIONS_INIT { 6144, 4096, 32, 16, 60, 0 }

/* The exact change of the mean cross-entropy on x (n, n_in), y when each weight in @weights
 * (flat indices into model->params, weights only) alone is set to 0, into @delta (n_weights).
 * (The reference is a full evaluation per weight; tests compare the two.) */
void      pl_learned_measure  (const PlMlp    *model,
                               const float    *x,
                               const guint32  *y,
                               guint           n,
                               const gsize    *weights,
                               guint           n_weights,
                               double         *delta);

/* The features of every weight into @features (n_weights of the model, PL_LEARNED_N_FEATURES)
 * in layer order; @grad_abs is the gradient score (mean_s |∂L_s/∂w|, the layout of PlScores)
 * and @mean_grad ḡ the gradient of a batch's mean loss (the layout of model->params).
 * Standardised over the kept weights. */
void      pl_learned_features (const PlMlp    *model,
                               const PlScores *grad_abs,
                               const float    *mean_grad,
                               float          *features);

/* Fills @scores (a PlScores of kind PL_SCORE_LEARNED, weight layout) for @model from @data:
 * the gradient features from @score_options' batches, the measurements on eval_samples samples
 * of a permutation of @data seeded by options->seed. */
gboolean  pl_learned_compute  (PlScores               *scores,
                               const PlMlp            *model,
                               const PlDataset        *data,
                               const PlScoreOptions   *score_options,
                               const PlLearnedOptions *options,
                               GError                **error);

G_END_DECLS
