/* pl-conv-prune.h — pruning a PlConvNet: weights by magnitude, whole filters by their norm
 *
 * Masks only gain zeros; pl_conv_net_apply_masks() follows, so a filter that no kept weight
 * reads is dead (its map forced to 0). Biases are never masked.
 */
#pragma once

#include <glib.h>

#include "pl-conv.h"
#include "pl-dataset.h"

G_BEGIN_DECLS

/* Unstructured magnitude pruning, score |w|, over every weight of the conv layers and the
 * head: with @global one ranking over all of them, else one per parametrised layer. The rule
 * of pl-prune.h: the lowest-scoring kept weights go until round(s·n) of the n weights in scope
 * are pruned (halves to even, those pruned already counted), ties by position (layer, then
 * index) lowest first, and each layer keeps its highest-scoring weight (the last among equal
 * scores) unless @allow_empty. On an unpruned network this is torch.nn.utils.prune's
 * global_unstructured (L1Unstructured) / l1_unstructured with amount s. */
void   pl_conv_prune_magnitude (PlConvNet *net,
                                double     sparsity,
                                gboolean   global,
                                gboolean   allow_empty);

/* The same rule with any weight scores (pl_conv_weight_scores(): pl_conv_net_n_weights()
 * values, the conv layers' weights then the head's) in place of |w|; NULL: |w|, as
 * pl_conv_prune_magnitude(). */
void   pl_conv_prune_scored    (PlConvNet   *net,
                                const float *scores,
                                double       sparsity,
                                gboolean     global,
                                gboolean     allow_empty);
/* Parametrised layer @layer alone (0 … the conv layers, then the head's dense layers) pruned by
 * the same rule to sparsity @sparsity of its weights, by @scores (as above; NULL: |w|); the
 * other layers keep their masks. For per-layer sensitivity. */
void   pl_conv_prune_scored_layer (PlConvNet   *net,
                                   const float *scores,
                                   guint        layer,
                                   double       sparsity,
                                   gboolean     allow_empty);

/* Filter pruning (Li, Kadav, Durdanovic, Samet & Graf 2017, "Pruning Filters for Efficient
 * ConvNets", §3.1): in every conv layer, the round(s·c_out) live filters (halves to even,
 * dead ones counted) with the smallest norm of their weights F_j (c_in, k, k) — L1
 * s_j = Σ|F_j|, or with @l2 the L2 norm √ΣF_j² — are removed, ties by index lowest first; at
 * least one filter stays. Removing filter j masks its weights and the next layer's input
 * channel j (the next conv layer's weights [:, j, :, :], or, after the last conv layer, the
 * head's columns of map j), the dependency Li et al. describe in §3.2. Returns the filters
 * removed. */
guint  pl_conv_prune_filters   (PlConvNet *net,
                                double     sparsity,
                                gboolean   l2);

/* Filter norms of conv layer @layer into @out (c_out), by the formula above (in double). */
void   pl_conv_filter_norms    (const PlConvNet *net,
                                guint            layer,
                                gboolean         l2,
                                double          *out);

typedef enum {
  PL_CONV_FILTER_L1,     /* Σ|F_j| (Li et al. 2017) */
  PL_CONV_FILTER_L2,     /* √ΣF_j² */
  PL_CONV_FILTER_FPGM    /* Σ_i ‖F_j − F_i‖₂ (He et al. 2019) */
} PlConvFilterScore;

/* FPGM, filter pruning via geometric median (He, Liu, Wang, Hu & Yang 2019, CVPR, §3.4,
 * Eq. 6): the geometric median of a layer's filters is approximated by the filter that
 * minimises the summed distance to the others, so filter j scores
 *   g(j) = Σ_i ‖F_j − F_i‖₂
 * over the layer's live filters i (dead ones score 0), and the filters with the smallest g —
 * those closest to the median, whose information the others carry — are removed first. Into
 * @out (c_out), in double. */
void   pl_conv_filter_fpgm     (const PlConvNet *net,
                                guint            layer,
                                double          *out);

/* pl_conv_prune_filters() with the score chosen: per layer, the scores are computed once on
 * the filters as they are and the round(s·c_out) lowest live ones removed (ties by index),
 * their next-layer input channels with them. Returns the filters removed. */
guint  pl_conv_prune_filters_by (PlConvNet         *net,
                                 double             sparsity,
                                 PlConvFilterScore  score);

/* The same on conv layer @layer alone (an index of net->layers), the other layers as they are,
 * its next layer's input channels with its filters. For per-layer sensitivity. */
guint  pl_conv_prune_filters_layer (PlConvNet         *net,
                                    guint              layer,
                                    double             sparsity,
                                    PlConvFilterScore  score);

/* Channel scores from the activations a_s (c_out, h, w) of conv layer @layer (after its
 * activation function, before any pool) on the first min(@n_samples, calib->n) samples of
 * @calib, M = h·w, into @out (c_out); higher keeps. @score is one of:
 *   PL_CONV_CHANNEL_APOZ:        1 − APoZ_c, APoZ_c = mean_s (1/M)·#{p : a_s,c,p = 0} (Hu, Peng,
 *                                Tai & Tang 2016, "Network Trimming", Eq. 1);
 *   PL_CONV_CHANNEL_ACTIVATION:  mean_s (1/M)·Σ_p a_s,c,p (Molchanov, Tyree, Karras, Aila &
 *                                Kautz 2017, ICLR, §2.2 "Mean activation");
 *   PL_CONV_CHANNEL_TAYLOR:      Θ_c = mean_s |(1/M)·Σ_p a_s,c,p·∂L_s/∂a_s,c,p| (Molchanov et al.
 *                                2017, Eq. 8, per sample then averaged), then divided by the
 *                                layer's ‖Θ‖₂ (Eq. 9), L_s the cross-entropy of sample s.
 * Taylor needs ReLU: with it, scaling filter c's weights and bias by (1 + ε) scales a_c by
 * (1 + ε), so Σ_p a_p·∂L/∂a_p = Σ_t w_ct·∂L/∂w_ct + b_c·∂L/∂b_c (Euler), which the per-sample
 * backward pass gives. FALSE with the error for other activations or mismatched data. */
typedef enum {
  PL_CONV_CHANNEL_APOZ,
  PL_CONV_CHANNEL_ACTIVATION,
  PL_CONV_CHANNEL_TAYLOR
} PlConvChannelScore;

gboolean pl_conv_channel_scores      (const PlConvNet    *net,
                                      guint               layer,
                                      PlConvChannelScore  score,
                                      const PlDataset    *calib,
                                      guint               n_samples,
                                      double             *out,
                                      GError            **error);

/* Filter pruning by a channel score: per conv layer, from the first to the last, the scores on
 * the network as pruned so far, then the round(s·c_out) lowest live filters removed (ties by
 * index) with the next layer's input channels. Returns the filters removed, or −1 with the
 * error. */
gint     pl_conv_prune_channels      (PlConvNet          *net,
                                      double              sparsity,
                                      PlConvChannelScore  score,
                                      const PlDataset    *calib,
                                      guint               n_samples,
                                      GError            **error);

G_END_DECLS
