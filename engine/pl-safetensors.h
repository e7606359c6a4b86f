/* pl-safetensors.h — PlMlp to and from the safetensors format
 *
 * Layout (https://github.com/huggingface/safetensors): 8 bytes little-endian header length N,
 * N bytes of JSON, then the tensor bytes. Tensors written here:
 *   layers.{i}.weight       F32 [out, in]
 *   layers.{i}.bias         F32 [out]
 *   layers.{i}.weight_mask  F32 [out, in], 0/1 — only when some weight of the model is pruned,
 *                           as PyTorch's torch.nn.utils.prune buffers are
 * and __metadata__ {"format": "prunelab", "arch": "784-300-100-10", "activation": "relu"}.
 * Files without metadata (written by PyTorch) load when their names and shapes chain into an
 * MLP; the activation is then ReLU.
 */
#pragma once

#include <glib.h>

#include "pl-mlp.h"

G_BEGIN_DECLS

/* Saved with pl_file_save() (pl-file.h): atomic; a failure leaves the old file as it was. */
gboolean  pl_safetensors_save (const PlMlp  *model,
                               const char   *path,
                               GError      **error);
/* Validates header length, JSON, dtypes, shapes, offsets (in range, not overlapping, covering
 * the data exactly) and the metadata against the tensors before it allocates the model. */
PlMlp    *pl_safetensors_load (const char   *path,
                               GError      **error);
/* The same from memory; @display_name names the source in error messages. */
PlMlp    *pl_safetensors_load_bytes (GBytes      *bytes,
                                     const char  *display_name,
                                     GError     **error);

G_END_DECLS
