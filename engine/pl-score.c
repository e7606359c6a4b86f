#define G_LOG_DOMAIN "pl-score"

#include "config.h"

#include "pl-score.h"

#include <cblas.h>
#include <glib/gi18n-lib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pl-error.h"
#include "pl-learned.h"
#include "pl-nn.h"
#include "pl-rng.h"

/* ---- what each score is ------------------------------------------------------------------ */

static const PlScoreInfo score_info[PL_N_SCORES] = {
  [PL_SCORE_MAGNITUDE] = {
    "magnitude", N_("Magnitude |w|"), "|w|",
    N_("Han et al. 2015, “Learning both Weights and Connections for Efficient Neural Networks”; "
       "PyTorch’s L1Unstructured"),
    N_("Keeps the weights of largest absolute value. A small weight changes its layer’s output "
       "little, so removing it should cost little: the classic criterion of Han et al. (2015) "
       "and the rule of PyTorch’s L1Unstructured. It needs no data and is cheap, but it does not "
       "look at how sensitive the loss is to each weight, and weights of layers with differently "
       "scaled inputs are hard to compare in one global ranking."),
    FALSE, FALSE },
  [PL_SCORE_GRADIENT] = {
    "gradient", N_("Gradient mean_s |∂L_s/∂w|"), "mean_s |∂L_s/∂w|",
    N_("the “gradient pruning” seed article, per sample"),
    N_("Keeps the weights whose loss gradient is largest in magnitude: the mean over the scored "
       "samples of |∂L_s/∂w|, with L_s the cross-entropy of sample s alone, the criterion of the "
       "“gradient pruning” seed article. It measures how fast the loss changes as a weight "
       "moves, not what removing it does: pruning moves a weight by −w, and this score ignores "
       "the weight’s size, so a large weight with a small gradient can go first. The Taylor "
       "score and the Fisher (Optimal Brain Damage) saliency estimate the loss change of setting "
       "the weight to zero and are better founded; compare the curves."),
    FALSE, TRUE },
  [PL_SCORE_TAYLOR] = {
    "taylor", N_("First-order Taylor mean_s |w·∂L_s/∂w|"),
    "mean_s |w·∂L_s/∂w| = |w|·mean_s |∂L_s/∂w|",
    N_("Molchanov et al. 2017 (ICLR), “Pruning Convolutional Neural Networks for Resource "
       "Efficient Inference”, eq. 7, computed for each example and averaged as stated under "
       "eq. 8; applied to weights"),
    N_("First-order Taylor expansion of the loss change when a weight is set to zero: for one "
       "sample, ΔL_s ≈ −w·∂L_s/∂w, so the score is |w·∂L_s/∂w| computed for each scored sample "
       "and then averaged, as Molchanov et al. (2017) do per example (eq. 7 and the text under "
       "eq. 8). Taking the absolute value per sample matters: near a minimum the mean gradient "
       "goes to zero, so |w·mean_s ∂L_s/∂w| would rank by noise, while the per-sample "
       "form measures how much the loss of each sample depends on the weight. For a weight it "
       "equals |w| times the gradient score."),
    FALSE, TRUE },
  [PL_SCORE_FISHER] = {
    "fisher", N_("Fisher / OBD ½·w²·mean_s (∂L_s/∂w)²"), "½·w²·mean_s (∂L_s/∂w)²",
    N_("LeCun, Denker & Solla 1990, “Optimal Brain Damage”, eq. 3 and the saliency "
       "s_k = h_kk·u_k²/2 of §2.2, with the empirical Fisher diagonal mean_s (∂L_s/∂w)² for h_kk"),
    N_("Second-order saliency of Optimal Brain Damage (LeCun et al. 1990): at a minimum, setting "
       "w to zero raises the loss by about ½·h·w², with h the weight’s diagonal Hessian entry "
       "(their eq. 3 and saliency h_kk·u_k²/2). PruneLab uses the diagonal of the empirical "
       "Fisher information as h: the mean over the scored samples of the squared per-sample "
       "gradient (∂L_s/∂w)², not the square of a batch’s mean gradient, which vanishes at a "
       "minimum. It weighs the loss curvature by the size of the removal."),
    FALSE, TRUE },
  [PL_SCORE_RANDOM] = {
    "random", N_("Random"), "u ~ U[0, 1)", N_("the baseline of every pruning study"),
    N_("Uniform random scores drawn from the seed: the baseline. A criterion is only worth its "
       "cost where its accuracy curve stays above the random one at the same sparsity."),
    FALSE, FALSE },
  [PL_SCORE_LEARNED] = {
    "learned", N_("Learned (predicted loss change)"), "E[rank class of ΔL + g·w | features]",
    N_("PruneLab’s own, after the seed article on “automated pruning”: measured removals, "
       "pl-learned.h"),
    N_("A small network trained on this model to predict how much the loss rises when one "
       "weight is removed, from |w|, the mean per-sample |∂L/∂w|, |w·ḡ| with ḡ the mean "
       "gradient, the layer and the fan-in and fan-out of the weight’s neuron: the seed "
       "article’s “automated pruning”. Its training targets are measured, not estimated: the "
       "change of the mean loss on a batch of training data when each of a few thousand sampled "
       "weights alone is removed, with the batch’s first-order term −ḡ·w taken out (it averages "
       "out over the data but swamps a batch’s change for small weights), so it learns "
       "ΔL + ḡ·w, not the exact loss change. The changes are ranked into classes and the score "
       "is the predicted class. It learns the cost of removing one weight at a time, while "
       "pruning removes many together, so compare its curve with magnitude and Taylor."),
    FALSE, TRUE },
  [PL_SCORE_NEURON_L1] = {
    "neuron-l1", N_("Neuron L1 norm"), "Σ_k |W_jk|",
    N_("Li et al. 2017, “Pruning Filters for Efficient ConvNets”"),
    N_("Structured: scores hidden neuron j by the L1 norm of its incoming weights, row j of "
       "the layer’s weight matrix (pruned weights count as 0), as Li et al. (2017) do for "
       "filters. Pruning a neuron removes its row and the column of the next layer that reads "
       "it, so the network really gets smaller. A neuron with small incoming weights has a "
       "nearly constant output, but the norm ignores the outgoing weights and the data."),
    TRUE, FALSE },
  [PL_SCORE_NEURON_L2] = {
    "neuron-l2", N_("Neuron L2 norm"), "√(Σ_k W_jk²)",
    N_("Li et al. 2017, “Pruning Filters for Efficient ConvNets”, with the L2 norm"),
    N_("Structured: scores hidden neuron j by the L2 norm of its incoming weights (pruned "
       "weights count as 0). Like the L1 norm, but dominated by the largest incoming weights, "
       "so a neuron with a few strong inputs ranks higher than one with many weak ones. "
       "Pruning a neuron removes its row and the next layer’s column that reads it."),
    TRUE, FALSE },
  [PL_SCORE_ACTIVATION] = {
    "activation", N_("Mean activation"), "mean_s |a_sj|",
    N_("the activation-pruning seed article; Molchanov et al. 2017, Θ_MA"),
    N_("Structured: scores a hidden neuron by its mean absolute activation over the scored "
       "samples (for ReLU and sigmoid, whose outputs are never negative, simply the mean "
       "activation). A neuron whose output is almost always small passes little on. The "
       "activation-pruning seed article prunes neurons under a threshold; its “pruning rate” "
       "divides a count by a sum of magnitudes, which is not a rate, so PruneLab reports "
       "pruned / total. The score ignores the outgoing weights, which can amplify a small "
       "activation."),
    TRUE, TRUE },
  [PL_SCORE_APOZ] = {
    "apoz", N_("1 − APoZ (share of zero activations)"), "1 − mean_s [a_sj = 0]",
    N_("Hu et al. 2016, “Network Trimming: A Data-Driven Neuron Pruning Approach towards "
       "Efficient Deep Architectures”"),
    N_("Average Percentage of Zeros (Hu et al. 2016): the share of the scored samples on which "
       "the neuron’s output is exactly zero. A ReLU neuron that is zero most of the time rarely "
       "passes information on; the score is 1 − APoZ, so such neurons go first. It is meant for "
       "ReLU: tanh and sigmoid outputs are almost never exactly zero, so every neuron then "
       "scores about 1."),
    TRUE, TRUE },
  [PL_SCORE_ENTROPY] = {
    "entropy", N_("Activation entropy"), "−Σ_k p_jk·log₂ p_jk, bins over neuron j’s [min, max]",
    N_("Luo & Wu 2017, “An Entropy-based Pruning Method for CNN Compression”, eq. 1"),
    N_("Information-theoretic: the entropy, in bits, of the neuron’s activations over the "
       "scored samples, histogrammed into equal bins spanning that neuron’s own range from its "
       "smallest to its largest activation, as Luo & Wu (2017) bin each channel’s values. A "
       "neuron whose output hardly varies carries little information about the input (a "
       "constant output has entropy 0), so low entropy is pruned first; since each neuron has "
       "its own range, one neuron with large outputs does not squeeze the others into a few "
       "bins. The seed article on information-theoretic pruning removes high-entropy neurons "
       "first, which throws away the most informative ones; the invert switch shows what that "
       "does. The values depend on the bin count."),
    TRUE, TRUE },
  [PL_SCORE_HOYER] = {
    "hoyer", N_("1 − Hoyer sparsity of activations"),
    "1 − (√n − ‖a_j‖₁/‖a_j‖₂)/(√n − 1)",
    N_("Hoyer 2004, “Non-negative Matrix Factorization with Sparseness Constraints”"),
    N_("Hoyer’s (2004) normalised sparsity of the neuron’s activations over the n scored "
       "samples: 0 when it is equally active on every sample, 1 when it fires on one sample "
       "only. The score is 1 − Hoyer, so a rarely active neuron scores low and goes first; a "
       "neuron never active scores 0. This is the sound form of the seed article’s measures: "
       "its “sparsity score” Σx²/‖x‖² is identically 1, and its “stability” Σ|x|/‖x‖ is the "
       "L1/L2 ratio, which runs from 1 to √n; Hoyer rescales that ratio to [0, 1]."),
    TRUE, TRUE },
  [PL_SCORE_NEURON_TAYLOR] = {
    "neuron-taylor", N_("Taylor on activations mean_s |a·∂L_s/∂a|"),
    "Θ_j = mean_s |a_sj·∂L_s/∂a_sj|,  Θ̂_j = Θ_j / √(Σ_k Θ_k²) over j’s layer",
    N_("Molchanov et al. 2017 (ICLR), “Pruning Convolutional Neural Networks for Resource "
       "Efficient Inference”, eq. 7–8 (per example, then averaged) and the layer-wise "
       "ℓ2-normalisation of §2.3"),
    N_("First-order Taylor estimate of the loss change when the neuron’s output is set to zero "
       "(Molchanov et al. 2017, eq. 7): for each scored sample the activation times the loss "
       "gradient with respect to it, |a·∂L_s/∂a|, averaged over the samples (as under their "
       "eq. 8), then divided by the ℓ2 norm of its layer’s scores (their §2.3) so that one "
       "global ranking compares layers fairly. The absolute value comes before the average: "
       "|mean_s a·∂L_s/∂a| equals |Σ_o W_oj·∂L/∂W_oj| for the mean loss, which goes to zero as "
       "training converges, so near a minimum it would rank by noise. Unlike the "
       "activation-only scores it accounts, through the gradient, for how the rest of the "
       "network uses the neuron."),
    TRUE, TRUE },
  [PL_SCORE_LAMP] = {
    "lamp", N_("LAMP w²/Σ_{v≥u} w_v²"), "score(u) = w_u² / Σ_{v≥u} w_v², u by ascending |w| in the layer",
    N_("Lee, Park, Mo, Ahn & Shin 2021 (ICLR), “Layer-adaptive Sparsity for the Magnitude-based "
       "Pruning”, eq. 2"),
    N_("Layer-adaptive magnitude pruning (Lee et al. 2021): within each layer the weights are "
       "sorted by |w| from smallest to largest, and weight u scores its square divided by the "
       "sum of the squares of itself and every larger weight of its layer (eq. 2). The largest "
       "weight of each layer scores 1, so one global threshold never empties a layer, and the "
       "layer budgets follow from the weights themselves: meant for the global scope. Within a "
       "layer it orders like magnitude; across layers it compares a weight with what the rest of "
       "its layer keeps."),
    FALSE, FALSE, FALSE },
  [PL_SCORE_WANDA] = {
    "wanda", N_("Wanda |W_ij|·‖X_j‖₂"), "|W_ij|·‖X_j‖₂, X_j input j of the layer over the samples",
    N_("Sun, Liu, Bair & Kolter 2023, “A Simple and Effective Pruning Approach for Large "
       "Language Models”, eq. 1, compared per output (§3)"),
    N_("Pruning by weights and activations (Wanda, Sun et al. 2023): the weight’s magnitude "
       "times the L2 norm of the input it multiplies, over the scored samples (eq. 1). An input "
       "that is often large makes its weights matter more. The paper compares weights within "
       "each output row, so choose the per-row scope; it needs no gradient, only a forward pass "
       "over calibration data."),
    FALSE, TRUE, FALSE },
  [PL_SCORE_SNIP] = {
    "snip", N_("SNIP |g⊙w| at initialisation"), "|∂L/∂w ⊙ w| / Σ_k |∂L/∂w_k · w_k|",
    N_("Lee, Ajanthan & Torr 2019 (ICLR), “SNIP: Single-shot Network Pruning based on "
       "Connection Sensitivity”, eq. 6"),
    N_("Connection sensitivity (Lee et al. 2019): the gradient of the loss with respect to a "
       "multiplicative gate on each weight, |∂L/∂w·w|, on one batch of data, normalised by its "
       "sum over the network (eq. 6). It is meant for the untrained network: prune once before "
       "training, then train the sparse network (schedule --method at-init). Unlike the Taylor "
       "score it uses the batch’s mean gradient, as the paper does."),
    FALSE, TRUE, TRUE },
  [PL_SCORE_GRASP] = {
    "grasp", N_("GraSP θ⊙Hg at initialisation"), "θ⊙(Hg) / |Σ_k θ_k (Hg)_k|, H and g of CE(softmax(z/200))  (GraSP prunes the largest −θ⊙Hg)",
    N_("Wang, Zhang & Grosse 2020 (ICLR), “Picking Winning Tickets Before Training by "
       "Preserving Gradient Flow”, eq. 8, normalised as in the authors’ code"),
    N_("Gradient signal preservation (Wang et al. 2020): removing weights should keep the "
       "gradient norm, and so the training speed, of the untrained network. To first order "
       "removing δ = −θ changes ‖g‖² by −2θᵀHg, with g the gradient and H the Hessian of the "
       "loss on a batch; GraSP removes the weights of largest S = −θ⊙Hg (eq. 8). PruneLab keeps "
       "the highest score, so the score is θ⊙Hg, divided by the absolute value of its sum; Hg "
       "is a central difference of double-precision gradients. Scores can be negative. As in the "
       "authors’ code, the loss is the cross-entropy of the logits divided by a temperature of "
       "200, which keeps the untrained network’s softmax nearly uniform."),
    FALSE, TRUE, TRUE },
  [PL_SCORE_SYNFLOW] = {
    "synflow", N_("SynFlow |∂R/∂w ⊙ w| (data-free)"), "|∂R/∂w ⊙ w|,  R = 1ᵀ(∏_l |W_l|)1",
    N_("Tanaka, Kunin, Yamins & Ganguli 2020 (NeurIPS), “Pruning neural networks without any "
       "data by iteratively conserving synaptic flow”, eq. 2 and Algorithm 1"),
    N_("Iterative synaptic flow pruning (Tanaka et al. 2020): with every weight replaced by its "
       "absolute value and an input of all ones, R = 1ᵀ(∏|W_l|)1 is the total “synaptic flow” "
       "through the network, and a weight scores |∂R/∂w·w|, the flow through it. No data is "
       "used. A layer whose weights are pruned loses flow and its other weights gain score, "
       "which keeps any layer from being cut off (layer collapse) when the scores are "
       "recomputed over many rounds: schedule --method at-init runs 100 rounds with an "
       "exponentially shrinking density. One round alone is like magnitude pruning with layer "
       "balancing."),
    FALSE, FALSE, TRUE },
};

const PlScoreInfo *
pl_score_info (PlScoreKind kind)
{
  g_return_val_if_fail (kind < PL_N_SCORES, NULL);

  return &score_info[kind];
}

gboolean
pl_score_parse (const char   *name,
                PlScoreKind  *kind,
                GError      **error)
{
  g_autoptr(GString) names = g_string_new (NULL);

  g_return_val_if_fail (kind != NULL, FALSE);

  for (guint k = 0; k < PL_N_SCORES; k++)
    if (g_strcmp0 (name, score_info[k].name) == 0)
      {
        *kind = k;
        return TRUE;
      }

  for (guint k = 0; k < PL_N_SCORES; k++)
    g_string_append_printf (names, k ? ", %s" : "%s", score_info[k].name);
  g_set_error (error, PL_SPEC_ERROR, PL_SPEC_ERROR_UNKNOWN_NAME,
               _("score “%s”: choose one of %s"), name ? name : "", names->str);
  return FALSE;
}

/* ---- scores that need no data ------------------------------------------------------------ */

void
pl_scores_free (PlScores *self)
{
  if (self == NULL)
    return;

  g_free (self->block);
  g_free (self);
}

static PlScores *
scores_new (const PlMlp *model,
            PlScoreKind  kind)
{
  PlScores *self = g_new0 (PlScores, 1);
  gsize total = 0;
  float *p;

  self->kind = kind;
  self->per_neuron = score_info[kind].per_neuron;
  self->n_layers = model->n_layers;
  for (guint i = 0; i < model->n_layers; i++)
    {
      const PlLayer *l = &model->layers[i];

      if (!self->per_neuron)
        self->n[i] = (gsize) l->n_out * l->n_in;
      else if (i + 1 < model->n_layers)
        self->n[i] = l->n_out;
      total += self->n[i];
    }

  self->block = g_new0 (float, MAX (total, 1));
  p = self->block;
  for (guint i = 0; i < model->n_layers; i++)
    {
      self->layer[i] = self->n[i] > 0 ? p : NULL;
      p += self->n[i];
    }

  return self;
}

static void
score_magnitude (PlScores    *scores,
                 const PlMlp *model)
{
  for (guint i = 0; i < model->n_layers; i++)
    {
      const PlLayer *l = &model->layers[i];

      for (gsize k = 0; k < scores->n[i]; k++)
        scores->layer[i][k] = l->w_mask[k] != 0.0f ? fabsf (l->w[k]) : 0.0f;
    }
}

static void
score_random (PlScores    *scores,
              const PlMlp *model,
              guint64      seed)
{
  PlRng rng;

  pl_rng_init (&rng, seed);
  for (guint i = 0; i < model->n_layers; i++)
    for (gsize k = 0; k < scores->n[i]; k++)
      scores->layer[i][k] = (float) pl_rng_uniform (&rng);
}

/* L1 (p = 1) or L2 (p = 2) norm of each hidden neuron's incoming row; pruned weights are 0. */
static void
score_neuron_norm (PlScores    *scores,
                   const PlMlp *model,
                   int          p)
{
  for (guint i = 0; i + 1 < model->n_layers; i++)
    {
      const PlLayer *l = &model->layers[i];

      for (guint j = 0; j < l->n_out; j++)
        {
          const float *w = l->w + (gsize) j * l->n_in;
          const float *m = l->w_mask + (gsize) j * l->n_in;
          double acc = 0.0;

          for (guint k = 0; k < l->n_in; k++)
            if (m[k] != 0.0f)
              acc += p == 1 ? fabs (w[k]) : (double) w[k] * w[k];
          scores->layer[i][j] = (float) (p == 1 ? acc : sqrt (acc));
        }
    }
}

/* ---- batches of data --------------------------------------------------------------------- */

/* The scored samples: a seeded permutation of @data cut into consecutive batches of batch_size,
 * the first n_batches of them (the last may be shorter when the data run out). */
typedef struct {
  const PlMlp     *model;
  const PlDataset *data;
  guint32         *order;       /* owned, (data->n) */
  guint            n_batches;
  guint            batch_size;
  guint64          n_samples;   /* over all batches */
  PlNnWork        *work;        /* owned */
  guint32         *y;           /* owned, (batch_size) */
} Batches;

static void
batches_init (Batches              *b,
              const PlMlp          *model,
              const PlDataset      *data,
              const PlScoreOptions *options)
{
  PlRng rng;
  guint possible;

  b->model = model;
  b->data = data;
  b->batch_size = MIN (options->batch_size, data->n);
  possible = data->n / b->batch_size + (data->n % b->batch_size != 0);
  b->n_batches = MIN (options->n_batches, possible);
  b->n_samples = MIN ((guint64) b->n_batches * b->batch_size, data->n);

  b->order = g_new (guint32, data->n);
  for (guint s = 0; s < data->n; s++)
    b->order[s] = s;
  pl_rng_init (&rng, options->seed);
  pl_rng_shuffle (&rng, b->order, data->n);

  b->work = pl_nn_work_new (model, b->batch_size);
  b->y = g_new (guint32, b->batch_size);
}

static void
batches_clear (Batches *b)
{
  g_clear_pointer (&b->order, g_free);
  g_clear_pointer (&b->work, pl_nn_work_free);
  g_clear_pointer (&b->y, g_free);
}

/* Gathers batch @k into work->input and b->y and runs the network on it; returns its size. */
static guint
batches_forward (Batches *b,
                 guint    k)
{
  guint start = k * b->batch_size;
  guint n = MIN (b->batch_size, b->data->n - start);
  guint nf = b->data->n_features;

  for (guint s = 0; s < n; s++)
    {
      guint32 src = b->order[start + s];

      memcpy (b->work->input + (gsize) s * nf, b->data->x + (gsize) src * nf,
              sizeof (float) * nf);
      b->y[s] = b->data->y[src];
    }
  pl_nn_forward (b->model, b->work, b->work->input, n);

  return n;
}

/* ---- scores from per-sample gradients --------------------------------------------------- */

/* Sums over the scored samples, filled layer by layer by pl_nn_backward_per_sample. With
 * δ_s = ∂L_s/∂z and a_s the layer's input for sample s, the gradient of W_oj on sample s is
 * g_s = δ_so·a_sj, so
 *   Σ_s |g_s| = (|δ|ᵀ |a|)_oj     and     Σ_s g_s² = ((δ∘δ)ᵀ (a∘a))_oj,
 * one sgemm per layer and batch over the whole batch's rows. neuron-taylor adds, for each
 * hidden output a_j, Σ_s |a_sj · ∂L_s/∂a_sj|. */
typedef struct {
  const PlMlp *model;
  PlScoreKind  kind;
  double      *sum;            /* owned: weight kinds (weights of every layer, the layout of
                                * PlScores), neuron-taylor (hidden neurons, layer by layer) */
  gsize        offset[PL_MLP_MAX_LAYERS];  /* of each layer in @sum */
  float       *dt, *at;        /* owned, (batch, max width): |δ| or δ², |a| or a² */
  float       *product;        /* owned, (max n_out · n_in): one batch's sgemm */
} SampleSums;

static void
sample_sums_layer (guint        layer,
                   const float *delta,
                   const float *input,
                   const float *grad_input,
                   guint        n,
                   gpointer     user_data)
{
  SampleSums *ss = user_data;
  const PlLayer *l = &ss->model->layers[layer];
  gsize nd = (gsize) n * l->n_out, na = (gsize) n * l->n_in, nw = (gsize) l->n_out * l->n_in;
  double *sum = ss->sum + ss->offset[layer];

  if (ss->kind == PL_SCORE_NEURON_TAYLOR)
    {
      /* grad_input is ∂L_s/∂a of layer − 1's outputs, input those outputs */
      if (grad_input == NULL)
        return;
      sum = ss->sum + ss->offset[layer - 1];
      for (guint s = 0; s < n; s++)
        for (guint j = 0; j < l->n_in; j++)
          {
            gsize t = (gsize) s * l->n_in + j;

            sum[j] += fabs ((double) input[t] * grad_input[t]);
          }
      return;
    }

  if (ss->kind == PL_SCORE_FISHER)
    {
      for (gsize k = 0; k < nd; k++)
        ss->dt[k] = delta[k] * delta[k];
      for (gsize k = 0; k < na; k++)
        ss->at[k] = input[k] * input[k];
    }
  else
    {
      for (gsize k = 0; k < nd; k++)
        ss->dt[k] = fabsf (delta[k]);
      for (gsize k = 0; k < na; k++)
        ss->at[k] = fabsf (input[k]);
    }

  /* product (n_out, n_in) = dtᵀ (n_out, n) · at (n, n_in) */
  cblas_sgemm (CblasRowMajor, CblasTrans, CblasNoTrans,
               l->n_out, l->n_in, n,
               1.0f, ss->dt, l->n_out, ss->at, l->n_in,
               0.0f, ss->product, l->n_in);
  for (gsize k = 0; k < nw; k++)
    sum[k] += ss->product[k];
}

/* gradient: mean_s |g_s|;  taylor: mean_s |w·g_s| = |w|·mean_s |g_s|;
 * fisher: ½·w²·mean_s g_s²;  neuron-taylor: Θ_j = mean_s |a_sj · ∂L_s/∂a_sj|, then
 * Θ̂_j = Θ_j / √(Σ_k Θ_k²) over the neurons k of the same layer. The means are over samples,
 * so a short last batch weighs what it holds. */
static void
score_per_sample (PlScores    *scores,
                  const PlMlp *model,
                  Batches     *b,
                  PlScoreKind  kind)
{
  SampleSums ss = { .model = model, .kind = kind };
  guint wmax = 0;
  gsize total = 0, pmax = 0;

  for (guint i = 0; i < model->n_layers; i++)
    {
      const PlLayer *l = &model->layers[i];

      ss.offset[i] = total;
      total += kind == PL_SCORE_NEURON_TAYLOR ? l->n_out : (gsize) l->n_out * l->n_in;
      wmax = MAX (wmax, MAX (l->n_in, l->n_out));
      pmax = MAX (pmax, (gsize) l->n_out * l->n_in);
    }
  ss.sum = g_new0 (double, total);
  if (kind != PL_SCORE_NEURON_TAYLOR)
    {
      ss.dt = g_new (float, (gsize) b->batch_size * wmax);
      ss.at = g_new (float, (gsize) b->batch_size * wmax);
      ss.product = g_new (float, pmax);
    }

  for (guint k = 0; k < b->n_batches; k++)
    {
      guint n = batches_forward (b, k);

      pl_nn_backward_per_sample (model, b->work, b->y, n, sample_sums_layer, &ss);
    }

  for (guint i = 0; i < model->n_layers; i++)
    {
      const PlLayer *l = &model->layers[i];
      const double *sum = ss.sum + ss.offset[i];

      if (kind == PL_SCORE_NEURON_TAYLOR)
        {
          double norm_sq = 0.0;

          if (i + 1 == model->n_layers)
            continue;
          for (guint j = 0; j < l->n_out; j++)
            norm_sq += (sum[j] / b->n_samples) * (sum[j] / b->n_samples);
          for (guint j = 0; j < l->n_out; j++)
            scores->layer[i][j] = norm_sq > 0.0 ? (float) (sum[j] / b->n_samples / sqrt (norm_sq))
                                                : 0.0f;
          continue;
        }

      for (gsize k = 0; k < scores->n[i]; k++)
        {
          double mean = sum[k] / b->n_samples;
          double w = l->w[k];

          if (kind == PL_SCORE_GRADIENT)
            scores->layer[i][k] = (float) mean;
          else if (kind == PL_SCORE_TAYLOR)
            scores->layer[i][k] = (float) (fabs (w) * mean);
          else
            scores->layer[i][k] = (float) (0.5 * w * w * mean);
        }
    }

  g_free (ss.sum);
  g_free (ss.dt);
  g_free (ss.at);
  g_free (ss.product);
}

/* ---- neuron scores from activations ------------------------------------------------------ */

static gsize
hidden_neurons (const PlMlp *model)
{
  gsize n = 0;

  for (guint i = 0; i + 1 < model->n_layers; i++)
    n += model->layers[i].n_out;

  return n;
}

/* Hoyer 2004: (√n − ‖x‖₁/‖x‖₂)/(√n − 1), clamped to [0, 1] against rounding. */
double
pl_hoyer_from_sums (double n,
                    double l1,
                    double l2_squared)
{
  double rn, h;

  if (n <= 1 || !(l2_squared > 0))
    return 0.0;
  rn = sqrt (n);
  h = (rn - l1 / sqrt (l2_squared)) / (rn - 1);

  return CLAMP (h, 0.0, 1.0);
}

double
pl_hoyer (const float *x,
          gsize        n,
          gsize        stride)
{
  double l1 = 0.0, l2sq = 0.0;

  g_return_val_if_fail (x != NULL || n == 0, 0.0);
  g_return_val_if_fail (stride >= 1, 0.0);

  for (gsize k = 0; k < n; k++)
    {
      double v = x[k * stride];

      l1 += fabs (v);
      l2sq += v * v;
    }

  return pl_hoyer_from_sums (n, l1, l2sq);
}

/* Mean |a|, 1 − APoZ and 1 − Hoyer: one pass of sums per neuron. */
static void
score_activation_stats (PlScores    *scores,
                        const PlMlp *model,
                        Batches     *b,
                        PlScoreKind  kind)
{
  gsize nh = hidden_neurons (model);
  g_autofree double *sum_abs = g_new0 (double, nh);
  g_autofree double *sum_sq = g_new0 (double, nh);
  g_autofree guint64 *zeros = g_new0 (guint64, nh);
  double n_total = (double) b->n_samples;

  for (guint k = 0; k < b->n_batches; k++)
    {
      guint n = batches_forward (b, k);
      gsize off = 0;

      for (guint i = 0; i + 1 < model->n_layers; i++)
        {
          guint m = model->layers[i].n_out;
          const float *a = b->work->act[i + 1];

          for (guint s = 0; s < n; s++)
            for (guint j = 0; j < m; j++)
              {
                double v = a[(gsize) s * m + j];

                sum_abs[off + j] += fabs (v);
                sum_sq[off + j] += v * v;
                zeros[off + j] += v == 0.0;
              }
          off += m;
        }
    }

  for (guint i = 0, off = 0; i + 1 < model->n_layers; off += model->layers[i].n_out, i++)
    for (guint j = 0; j < model->layers[i].n_out; j++)
      {
        gsize u = off + j;
        double v;

        if (kind == PL_SCORE_ACTIVATION)
          v = sum_abs[u] / n_total;
        else if (kind == PL_SCORE_APOZ)
          v = 1.0 - zeros[u] / n_total;
        else  /* a neuron never active is the sparsest of all, not the densest */
          v = sum_sq[u] > 0 ? 1.0 - pl_hoyer_from_sums (n_total, sum_abs[u], sum_sq[u]) : 0.0;
        scores->layer[i][j] = (float) v;
      }
}

/* Entropy of each neuron's activations over @bins equal bins spanning that neuron's own range
 * [min_s a_sj, max_s a_sj] on the scored samples (Luo & Wu 2017, eq. 1: each channel's values
 * divided into bins): one pass for the ranges, one for the histograms. A value's bin is
 * ⌊(a − min)/(max − min)·bins⌋ in double, the maximum in the last bin; a neuron whose range is
 * empty (a constant output, a pruned neuron) has everything in one bin, entropy 0. Every
 * sample lands in the same bin whatever the batching, so the score is deterministic. */
static void
score_entropy (PlScores    *scores,
               const PlMlp *model,
               Batches     *b,
               guint        bins)
{
  gsize nh = hidden_neurons (model);
  g_autofree guint64 *hist = g_new0 (guint64, nh * bins);
  g_autofree float *lo = g_new (float, nh);
  g_autofree float *hi = g_new (float, nh);

  for (gsize u = 0; u < nh; u++)
    {
      lo[u] = INFINITY;
      hi[u] = -INFINITY;
    }

  for (guint k = 0; k < b->n_batches; k++)
    {
      guint n = batches_forward (b, k);
      gsize off = 0;

      for (guint i = 0; i + 1 < model->n_layers; i++)
        {
          guint m = model->layers[i].n_out;
          const float *a = b->work->act[i + 1];

          for (guint s = 0; s < n; s++)
            for (guint j = 0; j < m; j++)
              {
                float v = a[(gsize) s * m + j];

                lo[off + j] = MIN (lo[off + j], v);
                hi[off + j] = MAX (hi[off + j], v);
              }
          off += m;
        }
    }

  for (guint k = 0; k < b->n_batches; k++)
    {
      guint n = batches_forward (b, k);
      gsize off = 0;

      for (guint i = 0; i + 1 < model->n_layers; i++)
        {
          guint m = model->layers[i].n_out;
          const float *a = b->work->act[i + 1];

          for (guint s = 0; s < n; s++)
            for (guint j = 0; j < m; j++)
              {
                gsize u = off + j;
                double range = (double) hi[u] - lo[u];
                guint bin = 0;

                if (range > 0)
                  {
                    double t = ((double) a[(gsize) s * m + j] - lo[u]) / range * bins;

                    bin = t >= bins ? bins - 1 : (guint) MAX (t, 0.0);
                  }
                hist[u * bins + bin]++;
              }
          off += m;
        }
    }

  for (guint i = 0, off = 0; i + 1 < model->n_layers; off += model->layers[i].n_out, i++)
    for (guint j = 0; j < model->layers[i].n_out; j++)
      {
        const guint64 *h = hist + (gsize) (off + j) * bins;
        double e = 0.0;

        for (guint k = 0; k < bins; k++)
          if (h[k] > 0)
            {
              double p = (double) h[k] / b->n_samples;

              e -= p * log2 (p);
            }
        scores->layer[i][j] = (float) MAX (e, 0.0);
      }
}

/* ---- layer-adaptive and calibration scores ----------------------------------------------- */

typedef struct {
  double   v;        /* w² */
  guint32  index;
} SortedWeight;

static int
compare_sorted_weights (gconstpointer a,
                        gconstpointer b)
{
  const SortedWeight *x = a, *y = b;

  if (x->v != y->v)
    return x->v < y->v ? -1 : 1;
  return x->index < y->index ? -1 : x->index > y->index;
}

/* LAMP (Lee et al. 2021, eq. 2): within each layer, weights u = 1…n in ascending order of w²
 * (equal values by index, as a stable sort), score(u) = w_u² / Σ_{v≥u} w_v²; the authors'
 * code divides each sorted square by the layer's total minus the sum before it, the same. */
static void
score_lamp (PlScores    *scores,
            const PlMlp *model)
{
  for (guint i = 0; i < model->n_layers; i++)
    {
      const PlLayer *l = &model->layers[i];
      gsize n = scores->n[i];
      g_autofree SortedWeight *sw = g_new (SortedWeight, n);
      double tail = 0.0;

      for (gsize k = 0; k < n; k++)
        {
          double w = l->w_mask[k] != 0.0f ? l->w[k] : 0.0;

          sw[k].v = w * w;
          sw[k].index = (guint32) k;
        }
      qsort (sw, n, sizeof *sw, compare_sorted_weights);
      /* from the largest down, so that tail is Σ_{v≥u} w_v² */
      for (gsize u = n; u-- > 0;)
        {
          tail += sw[u].v;
          scores->layer[i][sw[u].index] = tail > 0.0 ? (float) (sw[u].v / tail) : 0.0f;
        }
    }
}

/* Wanda (Sun et al. 2023, eq. 1): |W_oj|·‖X_j‖₂ with ‖X_j‖₂ = √(Σ_s x_sj²) over the scored
 * samples, x_s the input of the layer (act[i] of the forward pass). */
static void
score_wanda (PlScores    *scores,
             const PlMlp *model,
             Batches     *b)
{
  gsize total = 0, offset[PL_MLP_MAX_LAYERS];
  g_autofree double *sq = NULL;

  for (guint i = 0; i < model->n_layers; i++)
    {
      offset[i] = total;
      total += model->layers[i].n_in;
    }
  sq = g_new0 (double, total);

  for (guint k = 0; k < b->n_batches; k++)
    {
      guint n = batches_forward (b, k);

      for (guint i = 0; i < model->n_layers; i++)
        {
          guint m = model->layers[i].n_in;
          const float *x = b->work->act[i];

          for (guint s = 0; s < n; s++)
            for (guint j = 0; j < m; j++)
              {
                double v = x[(gsize) s * m + j];

                sq[offset[i] + j] += v * v;
              }
        }
    }

  for (guint i = 0; i < model->n_layers; i++)
    {
      const PlLayer *l = &model->layers[i];

      for (guint o = 0; o < l->n_out; o++)
        for (guint j = 0; j < l->n_in; j++)
          {
            gsize k = (gsize) o * l->n_in + j;

            scores->layer[i][k] = l->w_mask[k] != 0.0f
                                  ? (float) (fabs (l->w[k]) * sqrt (sq[offset[i] + j])) : 0.0f;
          }
    }
}

/* ---- pruning at initialisation ----------------------------------------------------------- */

/* The scored samples gathered into x (n_samples, n_features) and y. */
static void
batches_gather (Batches  *b,
                float   **x,
                guint32 **y)
{
  guint nf = b->data->n_features;

  *x = g_new (float, (gsize) b->n_samples * nf);
  *y = g_new (guint32, b->n_samples);
  for (guint64 s = 0; s < b->n_samples; s++)
    {
      guint32 src = b->order[s];

      memcpy (*x + (gsize) s * nf, b->data->x + (gsize) src * nf, sizeof (float) * nf);
      (*y)[s] = b->data->y[src];
    }
}

/* SNIP (Lee et al. 2019, eq. 6): s_k = |g_k·w_k| / Σ_j |g_j·w_j|, g = ∂L/∂w of the mean
 * cross-entropy over the scored samples (the batches summed with scale 1/N). */
static void
score_snip (PlScores    *scores,
            const PlMlp *model,
            Batches     *b)
{
  g_autofree float *grad = g_new0 (float, model->n_params);
  gsize off = 0;
  double sum = 0.0;

  for (guint k = 0; k < b->n_batches; k++)
    {
      guint n = batches_forward (b, k);

      pl_nn_backward (model, b->work, b->y, n, 1.0f / (float) b->n_samples, TRUE, grad);
    }

  for (guint i = 0; i < model->n_layers; i++)
    {
      const PlLayer *l = &model->layers[i];

      for (gsize k = 0; k < scores->n[i]; k++)
        {
          double v = l->w_mask[k] != 0.0f ? fabs ((double) grad[off + k] * l->w[k]) : 0.0;

          scores->layer[i][k] = (float) v;
          sum += v;
        }
      off += scores->n[i] + l->n_out;
    }
  if (sum > 0.0)
    for (guint i = 0; i < model->n_layers; i++)
      for (gsize k = 0; k < scores->n[i]; k++)
        scores->layer[i][k] = (float) (scores->layer[i][k] / sum);
}

/* Is params index p a weight (not a bias)? */
static gboolean
is_weight (const PlMlp *model,
           gsize        p,
           guint       *layer)
{
  gsize off = 0;

  for (guint i = 0; i < model->n_layers; i++)
    {
      const PlLayer *l = &model->layers[i];
      gsize nw = (gsize) l->n_out * l->n_in;

      if (p < off + nw)
        {
          *layer = i;
          return TRUE;
        }
      if (p < off + nw + l->n_out)
        return FALSE;
      off += nw + l->n_out;
    }
  return FALSE;
}

/* ∇_θ L(softmax(z/T)) into @grad (the layout of params, double): the gradient of @scaled, a
 * copy of the model holding @params with the last layer's weights and biases divided by T
 * (z/T = (W/T)a + b/T), times 1/T on that layer by the chain rule. */
static void
tempered_gradient (PlMlp         *scaled,
                   const double  *params,
                   double         temperature,
                   const float   *x,
                   const guint32 *y,
                   guint          n,
                   double        *grad)
{
  const PlLayer *last = &scaled->layers[scaled->n_layers - 1];
  gsize first = last->w - scaled->params;

  for (gsize p = 0; p < scaled->n_params; p++)
    scaled->params[p] = (float) (p >= first ? params[p] / temperature : params[p]);
  pl_nn_backward_ref (scaled, x, y, n, grad);
  for (gsize p = first; p < scaled->n_params; p++)
    grad[p] /= temperature;
}

double
pl_scores_grasp_hg (const PlMlp   *model,
                    const float   *x,
                    const guint32 *y,
                    guint          n,
                    double         temperature,
                    double        *grad,
                    double        *hg)
{
  g_autoptr(PlMlp) scaled = NULL;
  g_autofree double *theta = NULL;
  g_autofree double *moved = NULL;
  g_autofree double *g = NULL;
  g_autofree double *g_plus = NULL;
  g_autofree double *g_minus = NULL;
  g_autofree gboolean *weight = NULL;
  double w2 = 0.0, g2 = 0.0, eps;
  gsize np;
  guint layer;

  g_return_val_if_fail (model != NULL && x != NULL && y != NULL && n > 0 && hg != NULL, 0.0);
  g_return_val_if_fail (temperature > 0.0, 0.0);

  np = model->n_params;
  scaled = pl_mlp_copy (model);
  theta = g_new (double, np);
  moved = g_new (double, np);
  g = g_new (double, np);
  weight = g_new (gboolean, np);
  for (gsize p = 0; p < np; p++)
    theta[p] = model->params[p];
  tempered_gradient (scaled, theta, temperature, x, y, n, g);
  for (gsize p = 0; p < np; p++)
    {
      weight[p] = is_weight (model, p, &layer) && model->masks[p] != 0.0f;
      if (!weight[p])
        g[p] = 0.0;
      else
        {
          w2 += theta[p] * theta[p];
          g2 += g[p] * g[p];
        }
    }
  if (grad != NULL)
    memcpy (grad, g, sizeof (double) * np);
  memset (hg, 0, sizeof (double) * np);
  if (!(g2 > 0.0))
    return 0.0;

  /* a step of about 10⁻³ of a typical weight: small against the curvature's changes, large
   * against the float rounding of w ± εg in the copy */
  eps = 1e-3 * sqrt (w2 / g2);
  if (!(w2 > 0.0))
    eps = 1e-3 / sqrt (g2);
  g_plus = g_new (double, np);
  g_minus = g_new (double, np);
  for (int side = 0; side < 2; side++)
    {
      double sign = side == 0 ? 1.0 : -1.0;

      for (gsize p = 0; p < np; p++)
        moved[p] = weight[p] ? theta[p] + sign * eps * g[p] : theta[p];
      tempered_gradient (scaled, moved, temperature, x, y, n, side == 0 ? g_plus : g_minus);
    }
  /* w ± εg is rounded to float: an error of ~6·10⁻⁸·|w| against steps of ~10⁻³·rms(w) */
  for (gsize p = 0; p < np; p++)
    hg[p] = weight[p] ? (g_plus[p] - g_minus[p]) / (2.0 * eps) : 0.0;

  return eps;
}

/* GraSP (Wang et al. 2020, eq. 8): S = −θ⊙Hg is removed from the largest; PruneLab's score
 * θ⊙Hg / |Σ_k θ_k (Hg)_k| keeps the highest, the normalisation of the authors' code, whose
 * loss is the cross-entropy of the logits divided by T = 200 (GraSP.py, GraSP(…, T=200)). */
static void
score_grasp (PlScores    *scores,
             const PlMlp *model,
             Batches     *b)
{
  g_autofree float *x = NULL;
  g_autofree guint32 *y = NULL;
  g_autofree double *hg = g_new (double, model->n_params);
  double sum = 0.0;
  gsize off = 0;

  batches_gather (b, &x, &y);
  pl_scores_grasp_hg (model, x, y, (guint) b->n_samples, PL_GRASP_TEMPERATURE, NULL, hg);
  for (guint i = 0; i < model->n_layers; i++)
    {
      const PlLayer *l = &model->layers[i];

      for (gsize k = 0; k < scores->n[i]; k++)
        sum += (double) l->w[k] * hg[off + k];
      off += scores->n[i] + l->n_out;
    }
  off = 0;
  for (guint i = 0; i < model->n_layers; i++)
    {
      const PlLayer *l = &model->layers[i];

      for (gsize k = 0; k < scores->n[i]; k++)
        {
          double v = (double) l->w[k] * hg[off + k];

          scores->layer[i][k] = (float) (fabs (sum) > 0.0 ? v / fabs (sum) : v);
        }
      off += scores->n[i] + l->n_out;
    }
}

/* SynFlow (Tanaka et al. 2020, eq. 2): in the network with every weight |W| (masked weights 0,
 * no biases, no activation: all-ones inputs keep ReLU linear), a_0 = 1, a_i = |W_i| a_{i−1},
 * r_L = 1, r_{i−1} = |W_i|ᵀ r_i; ∂R/∂|W_i[o][j]| = r_i[o]·a_{i−1}[j], score that times |W|. */
static void
score_synflow (PlScores    *scores,
               const PlMlp *model)
{
  double *a[PL_MLP_MAX_LAYERS + 1], *r[PL_MLP_MAX_LAYERS + 1];
  guint L = model->n_layers;

  for (guint i = 0; i <= L; i++)
    {
      a[i] = g_new0 (double, model->sizes[i]);
      r[i] = g_new0 (double, model->sizes[i]);
    }
  for (guint j = 0; j < model->sizes[0]; j++)
    a[0][j] = 1.0;
  for (guint o = 0; o < model->sizes[L]; o++)
    r[L][o] = 1.0;

  for (guint i = 0; i < L; i++)
    {
      const PlLayer *l = &model->layers[i];

      for (guint o = 0; o < l->n_out; o++)
        {
          const float *w = l->w + (gsize) o * l->n_in, *m = l->w_mask + (gsize) o * l->n_in;
          double acc = 0.0;

          for (guint j = 0; j < l->n_in; j++)
            if (m[j] != 0.0f)
              acc += fabs (w[j]) * a[i][j];
          a[i + 1][o] = acc;
        }
    }
  for (guint i = L; i-- > 0;)
    {
      const PlLayer *l = &model->layers[i];

      for (guint o = 0; o < l->n_out; o++)
        {
          const float *w = l->w + (gsize) o * l->n_in, *m = l->w_mask + (gsize) o * l->n_in;

          for (guint j = 0; j < l->n_in; j++)
            if (m[j] != 0.0f)
              r[i][j] += fabs (w[j]) * r[i + 1][o];
        }
      for (guint o = 0; o < l->n_out; o++)
        for (guint j = 0; j < l->n_in; j++)
          {
            gsize k = (gsize) o * l->n_in + j;

            scores->layer[i][k] = l->w_mask[k] != 0.0f
                                  ? (float) (r[i + 1][o] * a[i][j] * fabs (l->w[k])) : 0.0f;
          }
    }

  for (guint i = 0; i <= L; i++)
    {
      g_free (a[i]);
      g_free (r[i]);
    }
}

/* ---- entry point ------------------------------------------------------------------------- */

PlScores *
pl_scores_compute (const PlMlp           *model,
                   PlScoreKind            kind,
                   const PlDataset       *data,
                   const PlScoreOptions  *options,
                   GError               **error)
{
  static const PlScoreOptions defaults = PL_SCORE_OPTIONS_INIT;
  const PlScoreInfo *info;
  g_autoptr(PlScores) scores = NULL;
  Batches batches = { 0 };

  g_return_val_if_fail (model != NULL, NULL);
  g_return_val_if_fail (kind < PL_N_SCORES, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (options == NULL)
    options = &defaults;
  info = &score_info[kind];

  if (info->needs_data)
    {
      if (data == NULL || data->n == 0)
        {
          g_set_error (error, PL_SPEC_ERROR, PL_SPEC_ERROR_INVALID,
                       _("score “%s” is computed from data; give a dataset with samples"),
                       info->name);
          return NULL;
        }
      if (data->n_features != model->sizes[0] || data->n_classes > model->sizes[model->n_layers])
        {
          g_set_error (error, PL_TRAIN_ERROR, PL_TRAIN_ERROR_MISMATCH,
                       _("score “%s”: the model takes %u inputs and has %u classes; "
                         "the data has %u features and %u classes"),
                       info->name, model->sizes[0], model->sizes[model->n_layers],
                       data->n_features, data->n_classes);
          return NULL;
        }
      if (options->n_batches == 0 || options->batch_size == 0)
        {
          g_set_error (error, PL_SPEC_ERROR, PL_SPEC_ERROR_INVALID,
                       _("score “%s”: the number of batches and the batch size must be at "
                         "least 1"), info->name);
          return NULL;
        }
      if (kind == PL_SCORE_ENTROPY && options->entropy_bins < 2)
        {
          g_set_error (error, PL_SPEC_ERROR, PL_SPEC_ERROR_INVALID,
                       _("score “entropy”: give at least 2 bins, not %u"),
                       options->entropy_bins);
          return NULL;
        }
    }

  scores = scores_new (model, kind);
  if (info->needs_data)
    batches_init (&batches, model, data, options);

  switch (kind)
    {
    case PL_SCORE_MAGNITUDE:
      score_magnitude (scores, model);
      break;
    case PL_SCORE_GRADIENT:
    case PL_SCORE_TAYLOR:
    case PL_SCORE_FISHER:
    case PL_SCORE_NEURON_TAYLOR:
      score_per_sample (scores, model, &batches, kind);
      break;
    case PL_SCORE_RANDOM:
      score_random (scores, model, options->seed);
      break;
    case PL_SCORE_LEARNED:
      {
        PlLearnedOptions learned = PL_LEARNED_OPTIONS_INIT;

        learned.seed = options->seed;
        if (!pl_learned_compute (scores, model, data, options, &learned, error))
          {
            batches_clear (&batches);
            return NULL;
          }
      }
      break;
    case PL_SCORE_NEURON_L1:
      score_neuron_norm (scores, model, 1);
      break;
    case PL_SCORE_NEURON_L2:
      score_neuron_norm (scores, model, 2);
      break;
    case PL_SCORE_ACTIVATION:
    case PL_SCORE_APOZ:
    case PL_SCORE_HOYER:
      score_activation_stats (scores, model, &batches, kind);
      break;
    case PL_SCORE_ENTROPY:
      score_entropy (scores, model, &batches, options->entropy_bins);
      break;
    case PL_SCORE_LAMP:
      score_lamp (scores, model);
      break;
    case PL_SCORE_WANDA:
      score_wanda (scores, model, &batches);
      break;
    case PL_SCORE_SNIP:
      score_snip (scores, model, &batches);
      break;
    case PL_SCORE_GRASP:
      score_grasp (scores, model, &batches);
      break;
    case PL_SCORE_SYNFLOW:
      score_synflow (scores, model);
      break;
    case PL_N_SCORES:
    default:
      g_assert_not_reached ();
    }

  batches_clear (&batches);

  return g_steal_pointer (&scores);
}
