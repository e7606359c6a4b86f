/* pl-csr-file.h — a pruned PlMlp saved in CSR form, as safetensors
 *
 * Each layer i stores its effective weights (kept, between live neurons: pl-csr.h with the
 * neuron masks) as the three arrays of torch.sparse_csr_tensor, and its bias:
 *   layers.{i}.weight.crow_indices  I32 [n_out + 1]   row pointers
 *   layers.{i}.weight.col_indices   I32 [nnz]         column of each kept weight, by row
 *   layers.{i}.weight.values        F32 [nnz]
 *   layers.{i}.bias                 F32 [n_out]
 * and __metadata__ {"format": "prunelab-csr", "arch": "784-300-100-10", "activation": "relu",
 * "layers.{i}.weight.shape": "300,784"}. In PyTorch:
 *   torch.sparse_csr_tensor(crow, col, values, size=(n_out, n_in)).to_dense()
 * is the masked weight of nn.Linear i. The file holds 8 (length) + the header + 4·(n_out + 1)
 * + 8·nnz + 4·n_out bytes per layer: pl-metrics' CSR bytes plus the header.
 * PruneLab reads models from its dense files (pl-safetensors.h); this form is for export.
 */
#pragma once

#include <glib.h>

#include "pl-mlp.h"

G_BEGIN_DECLS

/* Saved with pl_file_save() (atomic). @model's neuron masks must be up to date. */
gboolean  pl_csr_save_model (const PlMlp  *model,
                             const char   *path,
                             GError      **error);

G_END_DECLS
