/* pl-conv-score.h — unstructured weight scores of a convolutional network (higher = keep)
 *
 * The per-weight kinds of pl-score.h that are defined for any weight tensor, with the same
 * formulas there, over every conv weight (c_out, c_in, k, k) and every weight of the dense head
 * (n_out, n_in); biases are never scored. The scores lie in one array in the order of the
 * parametrised layers (the conv layers', then the head's), pl_conv_net_n_weights() values:
 *   magnitude: |w|                     random: u ~ U[0, 1) drawn in that order from the seed
 *   gradient:  mean_s |g_s|            taylor: mean_s |w·g_s| = |w|·mean_s |g_s|
 *   fisher:    ½·w²·mean_s g_s²        lamp:   w_u² / Σ_{v≥u} w_v² within each layer
 *   snip:      |g⊙w| / Σ_k |g_k·w_k|, g the gradient of the mean cross-entropy of the samples
 * g_s = ∂L_s/∂w of the cross-entropy of sample s alone (a backward pass per sample), the
 * samples the first n_batches·batch_size of a permutation of the data seeded by options->seed
 * (pl_scores_compute()'s rule). Pruned weights score 0 for magnitude and lamp.
 */
#pragma once

#include <glib.h>

#include "pl-conv.h"
#include "pl-dataset.h"
#include "pl-score.h"

G_BEGIN_DECLS

/* TRUE for the kinds above. */
gboolean pl_conv_weight_score_supported (PlScoreKind            kind);
/* The scores of @kind into @out (pl_conv_net_n_weights (net) values); @data may be NULL for
 * magnitude, random and lamp. FALSE with a PL_SPEC_ERROR for another kind or a data-driven
 * kind without data, PL_TRAIN_ERROR_MISMATCH when the data do not fit the network. */
gboolean pl_conv_weight_scores          (const PlConvNet       *net,
                                         PlScoreKind            kind,
                                         const PlDataset       *data,
                                         const PlScoreOptions  *options,
                                         float                 *out,
                                         GError               **error);

G_END_DECLS
