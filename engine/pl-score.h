/* pl-score.h — importance scores of weights and hidden neurons (higher = keep)
 *
 * Per weight: magnitude |w|; gradient mean_s |∂L_s/∂w|; first-order Taylor mean_s |w·∂L_s/∂w|;
 * Fisher / Optimal Brain Damage ½·w²·mean_s (∂L_s/∂w)²; random; learned (a predictor of the loss
 * change of removing the weight, trained on measured removals, pl-learned.h). L_s is the
 * cross-entropy of one sample s: the gradient scores average per-sample quantities over the
 * scored samples, never a function of a batch's mean gradient. Per hidden neuron: L1 and L2 norm
 * of its incoming weights; mean activation; 1 − APoZ (average percentage of zeros); activation
 * entropy over the neuron's own range; 1 − Hoyer sparsity of its activations; Taylor on
 * activations mean_s |a·∂L_s/∂a|, ℓ2-normalised per layer. Layer budgets and later criteria:
 * LAMP w_u²/Σ_{v≥u} w_v² (Lee et al. 2021); Wanda |W_ij|·‖X_j‖₂ (Sun et al. 2023). At
 * initialisation: SNIP |g⊙w| (Lee et al. 2019), GraSP θ⊙Hg (Wang et al. 2020), SynFlow
 * |∂R/∂θ⊙θ| (Tanaka et al. 2020).
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
  PL_SCORE_LAMP,
  PL_SCORE_WANDA,
  PL_SCORE_SNIP,
  PL_SCORE_GRASP,
  PL_SCORE_SYNFLOW,
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
  gboolean    at_init;      /* meant for the untrained network (schedule --method at-init) */
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
 *   lamp: within each layer, the weights sorted ascending by w² (equal values by index) as
 *   u = 1…n, score(u) = w_u² / Σ_{v≥u} w_v² (0 when that sum is 0);
 *   wanda: |W_oj|·√(Σ_s x_sj²), x_s the layer's input for sample s (the data for layer 0, the
 *   previous layer's activations above);
 *   snip: |g⊙w| / Σ_k |g_k·w_k| over every weight, g = ∂L/∂w of the mean cross-entropy L over
 *   the scored samples (one batch with n_batches 1, as in the paper);
 *   grasp: θ⊙(Hg) / |Σ_k θ_k (Hg)_k|, g = ∂L/∂θ over the weights θ (biases held), H = ∂²L/∂θ²,
 *   L the mean cross-entropy of softmax(z/T) with T = PL_GRASP_TEMPERATURE (the authors'
 *   code), Hg by the central difference (∇L(θ + εg) − ∇L(θ − εg)) / 2ε of double-precision
 *   gradients (pl_scores_grasp_hg); GraSP removes the largest −θ⊙Hg, so the lowest go first;
 *   synflow: data-free, with a_0 = 1, a_i = |W_i| a_{i−1}, r_L = 1, r_{i−1} = |W_i|ᵀ r_i (in
 *   double, masked weights 0, biases and activations left out): score r_i[o]·a_{i−1}[j]·|W_oj|
 *   = |∂R/∂W ⊙ W| of R = 1ᵀ(∏|W_i|)1; the 100-round schedule is pl_schedule's at-init method;
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

/* The temperature of GraSP's loss in the authors' code (GraSP.py: GraSP(…, T=200)). */
#define PL_GRASP_TEMPERATURE 200.0

/* GraSP's Hessian-gradient product on the @n samples @x, @y, in the layout of model->params
 * (bias entries 0): L the mean cross-entropy of softmax(z/@temperature), g = ∂L/∂w over the
 * weights, masked (pruned weights are not moved), and hg ≈ (∇_w L(w + εg) − ∇_w L(w − εg)) / 2ε
 * with ε = 10⁻³·rms(w)/rms(g), the gradients in double through pl_nn_backward_ref. Also writes
 * g into @grad when not NULL. Returns ε (0 when g = 0, and then hg = 0). */
double    pl_scores_grasp_hg (const PlMlp   *model,
                              const float   *x,
                              const guint32 *y,
                              guint          n,
                              double         temperature,
                              double        *grad,
                              double        *hg);

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
