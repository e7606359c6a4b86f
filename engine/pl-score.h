/* pl-score.h — importance scores of weights and hidden neurons (higher = keep)
 *
 * Per weight: magnitude |w|; gradient mean_s |∂L_s/∂w|; first-order Taylor mean_s |w·∂L_s/∂w|;
 * Fisher / Optimal Brain Damage ½·w²·mean_s (∂L_s/∂w)²; random; learned (a predictor of the loss
 * change of removing the weight, trained on measured removals, pl-learned.h). L_s is the
 * cross-entropy of one sample s: the gradient scores average per-sample quantities over the
 * scored samples, never a function of a batch's mean gradient. Per hidden neuron: L1 and L2 norm
 * of its incoming weights; mean activation; 1 − APoZ (average percentage of zeros); activation
 * entropy over the neuron's own range; 1 − Hoyer sparsity of its activations; Taylor on
 * activations mean_s |a·∂L_s/∂a|, ℓ2-normalised per layer.
 * See pl_score_info() for the exact formulas, their sources and where the seed articles are
 * corrected; `prunelab-cli prune --help-scores` prints them.
 */
#pragma once

#include <glib.h>

#include "pl-dataset.h"
#include "pl-mlp.h"

G_BEGIN_DECLS

typedef enum {
  PL_SCORE_MAGNITUDE,
  PL_SCORE_GRADIENT,
  PL_SCORE_TAYLOR,
  PL_SCORE_FISHER,
  PL_SCORE_RANDOM,
  PL_SCORE_LEARNED,
  PL_SCORE_NEURON_L1,
  PL_SCORE_NEURON_L2,
  PL_SCORE_ACTIVATION,
  PL_SCORE_APOZ,
  PL_SCORE_ENTROPY,
  PL_SCORE_HOYER,
  PL_SCORE_NEURON_TAYLOR,
  PL_N_SCORES
} PlScoreKind;

typedef struct {
  const char *name;         /* for the CLI and files: "magnitude", "apoz", … */
  const char *title;        /* translated in the UI with _(): "Magnitude |w|" */
  const char *formula;      /* the exact formula, plain text, e.g. "½·w²·mean_s (∂L_s/∂w)²" */
  const char *source;       /* paper and equation (translate with _()) */
  const char *explanation;  /* one paragraph for --help and the GUI (translate with _()) */
  gboolean    per_neuron;   /* scores hidden neurons (structured) rather than weights */
  gboolean    needs_data;   /* computed from batches of data */
} PlScoreInfo;

const PlScoreInfo *pl_score_info  (PlScoreKind   kind);
gboolean           pl_score_parse (const char   *name,
                                   PlScoreKind  *kind,
                                   GError      **error);

typedef struct {
  guint    n_batches;     /* batches for data-driven scores (default 8) */
  guint    batch_size;    /* (default 256) */
  guint64  seed;          /* batch order and the random score (default 0) */
  guint    entropy_bins;  /* equal bins over each neuron's activation range (default 16) */
} PlScoreOptions;

#define PL_SCORE_OPTIONS_INIT { 8, 256, 0, 16 }

/* Scores of one kind for every layer. For weight scores layer i holds (n_out, n_in) values in
 * the weights' layout; for neuron scores (n_out) values for each hidden layer and none for the
 * output layer (n[last] == 0). Scores of weights or neurons already pruned are still given. */
typedef struct {
  PlScoreKind  kind;
  gboolean     per_neuron;
  guint        n_layers;
  gsize        n[PL_MLP_MAX_LAYERS];       /* values per layer */
  float       *layer[PL_MLP_MAX_LAYERS];   /* borrowed from block */
  float       *block;                      /* owned */
} PlScores;

/* Computes the scores; @data may be NULL for data-free kinds (magnitude, random, L1, L2), and
 * @options NULL for the defaults. The scored samples are a permutation of @data seeded by
 * options->seed, cut into consecutive batches of batch_size, the first n_batches of them
 * (fewer when the data run out); N is their number. L_s is the cross-entropy of sample s alone
 * and g_s = ∂L_s/∂w its gradient; activations a are hidden-layer outputs after the activation
 * function. Every mean is over the N samples, so a short last batch weighs what it holds:
 *   gradient: mean_s |g_s|   taylor: mean_s |w·g_s| = |w|·mean_s |g_s|
 *   fisher: ½·w²·mean_s g_s² (the empirical Fisher diagonal)
 *   activation: mean_s |a| (the mean activation for ReLU and sigmoid); apoz: 1 − share of a = 0;
 *   entropy: in bits over entropy_bins equal bins spanning each neuron's own [min, max] of a on
 *   the scored samples (0 for a constant neuron);
 *   hoyer: 1 − pl_hoyer of the neuron's activations over the samples, 0 for a neuron that is
 *   never active;
 *   neuron-taylor: Θ_j = mean_s |a_sj·∂L_s/∂a_sj|, then Θ_j / √(Σ_k Θ_k²) over the neurons k of
 *   j's layer (0 for a layer whose Θ are all 0);
 *   learned: pl_learned_compute with PL_LEARNED_OPTIONS_INIT and options->seed (its gradient
 *   feature, the gradient score, from the scored batches).
 * Per-sample gradients come from pl_nn_backward_per_sample: one extra sgemm per layer and batch
 * with |δ| and |a| (or δ² and a²), where δ_s = ∂L_s/∂z. Equal scores are pruned in index order
 * (pl_prune_select sorts stably).
 * Fails (PL_SPEC_ERROR) without data for a data-driven kind or with zero batches, batch size
 * or fewer than 2 bins, and (PL_TRAIN_ERROR_MISMATCH) when data and model shapes differ.
 * (transfer full) */
PlScores *pl_scores_compute (const PlMlp           *model,
                             PlScoreKind            kind,
                             const PlDataset       *data,
                             const PlScoreOptions  *options,
                             GError               **error);
void      pl_scores_free    (PlScores *self);

/* Hoyer's sparsity of x: (√n − ‖x‖₁/‖x‖₂)/(√n − 1); 1 for a one-hot vector, 0 for a constant
 * one, 0 for n ≤ 1 or x = 0 (Hoyer 2004). */
double    pl_hoyer          (const float *x,
                             gsize        n,
                             gsize        stride);
/* The same from n, Σ|x| and Σx² (computed in double by the caller). */
double    pl_hoyer_from_sums (double n,
                              double l1,
                              double l2_squared);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PlScores, pl_scores_free)

G_END_DECLS
