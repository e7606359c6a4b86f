/* pl-conv-file.h — PlConvNet to and from safetensors
 *
 * The parametrised layers are numbered in order, the conv layers first, then the head's dense
 * layers (LeNet-5: layers.0 and layers.1 are convolutions, layers.2 … layers.4 dense):
 *   layers.{i}.weight       F32 [out, in, kh, kw] (conv, as torch.nn.Conv2d) or [out, in] (dense)
 *   layers.{i}.bias         F32 [out]
 *   layers.{i}.weight_mask  F32, the weight's shape, 0/1 — only when some weight is pruned
 * and __metadata__ {"format": "prunelab", "arch": "1x28x28-c6k5p2-…", "activation": "relu"}:
 * the architecture comes from the metadata, which such a file must have.
 */
#pragma once

#include <glib.h>

#include "pl-conv.h"

G_BEGIN_DECLS

/* Atomic (pl_file_save); refuses a network holding a NaN or an infinity. */
gboolean   pl_conv_net_save         (const PlConvNet  *net,
                                     const char       *path,
                                     GError          **error);
/* Validates the container (pl_safetensors_open), the metadata, and every tensor's name, shape,
 * values (finite; masks 0 or 1) before it returns the network, masks applied. Errors name the
 * file. (transfer full) */
PlConvNet *pl_conv_net_load         (const char       *path,
                                     GError          **error);
/* TRUE when @path is a safetensors file whose metadata names a convolutional architecture, so
 * that a caller picks pl_conv_net_load() over pl_safetensors_load(); FALSE also for a file that
 * cannot be read (the other loader then says why). */
gboolean   pl_conv_file_is_conv     (const char       *path);

G_END_DECLS
