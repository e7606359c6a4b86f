/* pl-compact.h — a neuron-pruned network as a smaller dense one
 *
 * A hidden neuron whose neuron mask is 0 outputs exactly 0 (pl-mlp.h), so its row of layer i
 * and its column of layer i + 1 do no work. Compaction removes them: layer i of the result is
 * W_i restricted to the live rows r (the live neurons of layer i; every output of the last
 * layer) and the live columns c (the live neurons of layer i − 1; every input of the first
 * layer), with the biases of the live rows, the weights masked (W ⊙ M) and the masks of the
 * surviving entries kept. Its sizes are (sizes[0], live_1, …, live_{L−1}, sizes[L]), and for
 * every input it computes the outputs of the masked network (the same sums, without the terms
 * that were 0).
 *
 * A hidden layer with no live neuron keeps one: neuron 0 with every weight into and out of it
 * 0 and masked, so that it changes nothing (in PyTorch too, where masks are multiplied in).
 */
#pragma once

#include <glib.h>

#include "pl-mlp.h"

G_BEGIN_DECLS

/* The compacted copy of @model, whose neuron masks must be up to date (pl_mlp_apply_masks).
 * @kept, when not NULL, receives for each hidden layer i (1 … n_layers − 1) the indices in
 * @model of its surviving neurons, as an array of guint32 in kept[i − 1] (transfer full each;
 * the caller frees them with g_array_unref). (transfer full) */
PlMlp  *pl_compact         (const PlMlp *model,
                            GArray     **kept);

/* The sizes of the compacted network without building it: sizes[0 … n_layers]. */
void    pl_compact_sizes   (const PlMlp *model,
                            guint       *sizes);

G_END_DECLS
