/* pl-prune.h — choosing what to prune from scores: by threshold or target sparsity, globally or
 * per layer, weights or neurons
 *
 * Candidates are the weights (or hidden neurons) in scope that are not pruned yet: masks only
 * ever gain zeros. Biases are never pruned. Unless allow_empty, each layer keeps its
 * highest-scoring candidate (weight, or hidden neuron) out of the candidate set, so that no
 * layer is emptied: the one that would go last (with invert the lowest-scoring; among equal
 * scores the last position). With exclude_output the last layer has no candidates.
 *
 * Target sparsity s over a set of n weights (or neurons) in scope: prune the lowest-scoring
 * candidates until exactly round(s·n) of the n are pruned, counting those pruned already
 * (nothing more when that many are pruned already); ties are broken by position (layer, then
 * index), lowest first. round() is to nearest with halves to even, as Python's round() in
 * torch. On an unpruned model this is torch.nn.utils.prune's global_unstructured /
 * l1_unstructured with amount s. Threshold t: prune every candidate whose score is < t
 * (float score against the double t, compared in double).
 * With invert the order is reversed: a target sparsity prunes the highest scores first, and a
 * threshold t prunes the candidates whose score is > t (ties still by position, lowest first).
 * A NaN score counts as the highest, also with invert: it goes last and never falls under a
 * threshold.
 * Structured pruning of neuron j of layer i masks row j of layer i and column j of layer i+1
 * (and sets neuron mask j of layer i to 0). Only hidden neurons are candidates, so
 * exclude_output changes nothing there, and a per-layer list's value for the output layer is
 * not used. Neuron masks in the result follow pl_mlp_apply_masks: a hidden neuron dies when
 * none of its outgoing weights is kept.
 * Row scope: each output row of a layer in scope is a group of its n_in weights, with that
 * layer's value; a layer's kept-back candidate (see above) stays in its row. ERK scope: one
 * target sparsity s, turned into a sparsity per layer in scope by pl_erk_sparsities, each
 * selected within its layer as with the per-layer scope; it takes no threshold.
 *
 * N:M (nm_n ≥ 1, nm_m > nm_n; 0 for none; weight scores only): before the selection above,
 * in every row of every layer in scope, each run of M consecutive inputs [g·M, g·M + M) (the
 * last one shorter when M does not divide n_in) keeps at most N of its unpruned weights, the N
 * highest-scoring (with invert the lowest; ties keep the later position, as the sort prunes
 * the lower position first); the others are pruned. The selection then runs on what is left
 * and counts them as pruned already: a target sparsity up to 1 − N/M gives the N:M mask
 * itself (Mishra et al. 2021, “Accelerating Sparse Deep Neural Networks”, 2:4 on NVIDIA
 * Ampere; Zhou et al. 2021 for N:M in general).
 *
 * Candidates are sorted by an O(n) radix sort: a global selection over the 266k weights of
 * 784-300-100-10 takes about 10 ms.
 */
#pragma once

#include <glib.h>

#include "pl-mlp.h"
#include "pl-score.h"

G_BEGIN_DECLS

typedef enum {
  PL_SCOPE_GLOBAL,   /* one threshold or sparsity across layers */
  PL_SCOPE_LAYER,    /* one value per layer (a single value applies to every layer) */
  PL_SCOPE_ROW,      /* every output row of a layer on its own, with its layer's value
                      * (Wanda's comparison group, Sun et al. 2023 §3) */
  PL_SCOPE_ERK,      /* one target sparsity, allocated to the layers by Erdős–Rényi-kernel
                      * densities (pl_erk_sparsities), then selected within each layer */
} PlScope;

typedef struct {
  PlScope   scope;
  gboolean  by_threshold;    /* values are thresholds on the score, else target sparsities */
  double    values[PL_MLP_MAX_LAYERS];
  guint     n_values;        /* 1, or n_layers with PL_SCOPE_LAYER */
  gboolean  invert;
  gboolean  exclude_output;
  gboolean  allow_empty;
  guint     nm_n, nm_m;      /* keep N of every M consecutive inputs of a row; 0, 0: off */
} PlPruneSpec;

/* Sets up @spec with one value; global, not inverted. */
void      pl_prune_spec_init   (PlPruneSpec   *spec,
                                PlScope        scope,
                                gboolean       by_threshold,
                                double         value);
/* The pruning strategy: which score, and how values select (PlPruneSpec without the values).
 * Structured (neuron) pruning follows the score: pl_score_info (score)->per_neuron. */
typedef struct {
  PlScoreKind     score;
  PlScope         scope;
  gboolean        invert;
  gboolean        exclude_output;
  gboolean        allow_empty;
  PlScoreOptions  score_options;   /* batches, batch size and seed of data-driven scores */
  guint           nm_n, nm_m;      /* the N:M constraint of PlPruneSpec; 0, 0: off */
} PlStrategy;

/* Defaults: magnitude, global, not inverted, output layer included, no layer emptied,
 * PL_SCORE_OPTIONS_INIT. */
void pl_strategy_init           (PlStrategy        *strategy);
/* The PlPruneSpec of @strategy (its scope, invert, exclude_output, allow_empty, N:M) with one
 * value: a score threshold when @by_threshold, else a target sparsity. */
void pl_strategy_to_prune_spec  (const PlStrategy  *strategy,
                                 PlPruneSpec       *spec,
                                 gboolean           by_threshold,
                                 double             value);

/* Parses "0.5" or "0.5,0.9,0.5" (one value, or @n_layers) into spec->values and n_values;
 * call it after pl_prune_spec_init, which sets by_threshold: sparsities must be in [0, 1]. */
gboolean  pl_prune_spec_parse_values (PlPruneSpec *spec,
                                      const char  *text,
                                      guint        n_layers,
                                      GError     **error);
/* The same from @n numbers (1 or @n_layers). */
gboolean  pl_prune_spec_set_values   (PlPruneSpec  *spec,
                                      const double *values,
                                      guint         n,
                                      guint         n_layers,
                                      GError      **error);
gboolean  pl_scope_parse       (const char   *text,
                                PlScope      *scope,
                                GError      **error);
/* "global", "layer", "row", "erk": what pl_scope_parse reads. */
const char *pl_scope_name      (PlScope       scope);
/* A one-line description to show (translate with _()): "global: one ranking across layers". */
const char *pl_scope_title     (PlScope       scope);
/* The formula and source of the scopes and of N:M, for --help-scores (translate each with
 * _()): NULL-terminated triples of name, formula, explanation with its source. */
const char * const *pl_selection_help (void);
/* Parses "2:4" into N and M: 1 ≤ N < M ≤ 256. */
gboolean  pl_nm_parse          (const char   *text,
                                guint        *n,
                                guint        *m,
                                GError      **error);

/* Erdős–Rényi-kernel layer sparsities for a target sparsity @sparsity over the weights of the
 * layers in scope (every layer, or all but the output with @exclude_output; the output's
 * entry is then 0). Layer l's density is ε·(n_in + n_out)/(n_in·n_out) (Evci et al. 2020,
 * “Rigging the Lottery”, §3, after Mocanu et al. 2018's Erdős–Rényi), with ε chosen so that the
 * layers keep (1 − s)·Σ n_l weights in total. A layer whose density would exceed 1 is kept
 * dense and the others share what is left, repeated until no density exceeds 1: the loop of
 * the authors' code (google-research/rigl, rigl/sparse_utils.py, get_sparsities with
 * 'erdos_renyi'). Writes @n_layers values into @layer_sparsity. */
void      pl_erk_sparsities    (const PlMlp   *model,
                                double         sparsity,
                                gboolean       exclude_output,
                                double        *layer_sparsity);

/* Whether @spec's scope and N:M constraint fit scores per neuron (@per_neuron) or per weight:
 * row, ERK and N:M need weight scores, ERK one target sparsity. Sets PL_SPEC_ERROR. */
gboolean  pl_prune_spec_check_kind (const PlPruneSpec  *spec,
                                    gboolean            per_neuron,
                                    GError            **error);

/* Writes into @masks (model->n_params, the layout of model->masks) and @neuron_masks
 * (model->n_neurons) the model's masks with the selection added. Structured when the scores
 * are per neuron. Fails (PL_SPEC_ERROR) on values out of range or a value count that does not
 * fit the model. */
gboolean  pl_prune_select      (const PlMlp       *model,
                                const PlScores    *scores,
                                const PlPruneSpec *spec,
                                float             *masks,
                                float             *neuron_masks,
                                GError           **error);
/* pl_prune_select into the model's own masks, then pl_mlp_apply_masks. */
gboolean  pl_prune_apply       (PlMlp             *model,
                                const PlScores    *scores,
                                const PlPruneSpec *spec,
                                GError           **error);

G_END_DECLS
