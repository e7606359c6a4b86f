/* pl-conv-compact.h — a filter-pruned convolutional network as a smaller dense one
 *
 * A filter whose filter mask is 0 outputs exactly 0 (pl-conv.h), so it and everything that
 * reads it do no work. Compaction removes them: conv layer i of the result keeps the live
 * filters r of layer i (filter mask 1) as its output channels and, as its input channels, the
 * live filters c of the conv layer before (every channel of the image for the first); the pools
 * between keep the channels. After the last conv layer the head's first dense layer keeps the
 * columns of the live channels, c·h·w + p for channel c and map position p (the flattening is
 * channel-major, as torch.nn.Flatten's), in their order. The head is then compacted as
 * pl_compact() does (pl-compact.h): dead dense neurons go with the next layer's columns.
 * Weights are masked (W ⊙ M), the masks of the surviving entries are kept, and for every input
 * the result computes the masked network's outputs (the same sums without the terms that were
 * 0). Its spec says so: LeNet-5 with 3 of conv1's 6 filters and 8 of conv2's 16 left is
 * 1x28x28-c3k5p2-m2-c8k5-m2-120-84-10.
 *
 * A conv layer with no live filter keeps one: filter 0, with its weights, its bias and every
 * weight that reads it 0 and masked, so that it changes nothing (its map is forced to 0).
 */
#pragma once

#include <glib.h>

#include "pl-conv.h"

G_BEGIN_DECLS

/* The compacted copy of @net, whose filter and neuron masks must be up to date
 * (pl_conv_net_apply_masks). @kept, when not NULL, receives for each conv layer, in order
 * (kept[0] the first conv layer, pools skipped), the indices in @net of its surviving filters
 * as an array of guint32 (transfer full each; the caller frees them with g_array_unref).
 * (transfer full) */
PlConvNet  *pl_conv_compact       (const PlConvNet  *net,
                                   GArray          **kept);

G_END_DECLS
