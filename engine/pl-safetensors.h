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

/* ---- the container, for files that hold more than one model (pl-session.h) ----
 *
 * A parsed file whose header, tensor entries, offsets and coverage of the data were checked
 * by the rules of the format, and whose metadata values are strings; what the tensors mean
 * is for the caller to check. Errors name the file (@display_name) and the tensor. */
typedef struct _PlSafetensors PlSafetensors;

/* The largest rank the accessors and the writer take: 4, for [out, in, kh, kw]. */
#define PL_SAFETENSORS_MAX_RANK 4

/* (transfer full) */
PlSafetensors *pl_safetensors_parse        (GBytes               *bytes,
                                            const char           *display_name,
                                            GError              **error);
/* Reads @path as pl_safetensors_load() does (a regular file, at most 8 GiB). */
PlSafetensors *pl_safetensors_open         (const char           *path,
                                            GError              **error);
void           pl_safetensors_free         (PlSafetensors        *self);
/* The metadata value of @key, or NULL. (transfer none) */
const char    *pl_safetensors_get_metadata (const PlSafetensors  *self,
                                            const char           *key);
guint          pl_safetensors_n_tensors    (const PlSafetensors  *self);
/* (transfer none) */
const char    *pl_safetensors_tensor_name  (const PlSafetensors  *self,
                                            guint                 i);
/* The dimensions (@rank ≤ PL_SAFETENSORS_MAX_RANK of them) of tensor @name, which must exist, hold a float dtype
 * and have exactly @rank dimensions. */
gboolean       pl_safetensors_get_shape    (const PlSafetensors  *self,
                                            const char           *name,
                                            guint                 rank,
                                            gsize                *dims,
                                            GError              **error);
/* Its elements, converted exactly to double, into @out; the shape must be @dims. NaN and
 * infinities are passed through: the caller decides. */
gboolean       pl_safetensors_get_f64      (const PlSafetensors  *self,
                                            const char           *name,
                                            guint                 rank,
                                            const gsize          *dims,
                                            double               *out,
                                            GError              **error);
/* The model of the tensors @prefix "layers.N.weight", "…bias" and "…weight_mask" (optional),
 * checked as pl_safetensors_load() checks them; other tensors are ignored. (transfer full) */
PlMlp         *pl_safetensors_get_mlp      (const PlSafetensors  *self,
                                            const char           *prefix,
                                            PlActivation          activation,
                                            GError              **error);
/* The data buffer (every tensor's bytes), for a checksum. (transfer none) */
const guint8  *pl_safetensors_get_data     (const PlSafetensors  *self,
                                            gsize                *size);

/* Building a file in memory: metadata and tensors in the order added (names must differ),
 * little-endian, the header padded to 8 bytes. */
typedef struct _PlSafetensorsWriter PlSafetensorsWriter;

PlSafetensorsWriter *pl_safetensors_writer_new          (void);
void                 pl_safetensors_writer_free         (PlSafetensorsWriter *self);
void                 pl_safetensors_writer_add_metadata (PlSafetensorsWriter *self,
                                                         const char          *key,
                                                         const char          *value);
/* With @as_mask, non-zero values are written as 1. */
void                 pl_safetensors_writer_add_f32      (PlSafetensorsWriter *self,
                                                         const char          *name,
                                                         guint                rank,
                                                         const gsize         *dims,
                                                         const float         *values,
                                                         gboolean             as_mask);
void                 pl_safetensors_writer_add_f64      (PlSafetensorsWriter *self,
                                                         const char          *name,
                                                         guint                rank,
                                                         const gsize         *dims,
                                                         const double        *values);
/* @prefix "layers.N.weight", "…bias", and with @with_masks "…weight_mask", layer by layer. */
void                 pl_safetensors_writer_add_mlp      (PlSafetensorsWriter *self,
                                                         const char          *prefix,
                                                         const PlMlp         *model,
                                                         gboolean             with_masks);
/* The data buffer so far, for a checksum to put in the metadata. (transfer none) */
const guint8        *pl_safetensors_writer_get_data     (PlSafetensorsWriter *self,
                                                         gsize               *size);
/* The file. (transfer full) */
GBytes              *pl_safetensors_writer_finish       (PlSafetensorsWriter *self);

/* FALSE, with “Could not save “@path”: layer N holds nan…”, when a parameter of @model is not
 * finite: the loader would refuse the file. */
gboolean             pl_safetensors_check_finite        (const PlMlp         *model,
                                                         const char          *path,
                                                         GError             **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PlSafetensors, pl_safetensors_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PlSafetensorsWriter, pl_safetensors_writer_free)

G_END_DECLS
