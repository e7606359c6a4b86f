/* pl-sparse-nn.h — forward and backward passes of a masked PlMlp through CSR layers
 *
 * The passes of pl-nn.h with the products of the sparse layers done on their kept weights
 * only (pl-csr.h): forward out = in · Aᵀ, backward to the input d · A, and the weight gradient
 * at the kept positions, so that a layer at 95% sparsity costs about a twentieth of its dense
 * products (and three times that per weight, see PL_SPARSE_COST). Layers the cost model keeps
 * dense run exactly as in pl-nn.c. The results are those of pl_nn_forward and pl_nn_backward
 * up to rounding (the sums run in another order), and the gradient of a pruned weight of a
 * sparse layer is never written: the caller zeroes it once, and it stays 0.
 *
 * The CSR values are a copy of the weights: after an optimiser step, pl_sparse_net_refresh.
 */
#pragma once

#include <glib.h>

#include "pl-csr.h"
#include "pl-mlp.h"
#include "pl-nn.h"

G_BEGIN_DECLS

/* A kept weight in a CSR product costs about what PL_SPARSE_COST weights of an sgemm do
 * (measured with bench-sparse's layer timings on 784-300-100-10, batch 128, one thread): a
 * layer runs sparse when PL_SPARSE_COST · kept + n_in + n_out (the block transposes) is below
 * n_out · n_in. */
#define PL_SPARSE_COST 3.0

typedef struct {
  guint   n_layers;
  PlCsr  *csr[PL_MLP_MAX_LAYERS];   /* owned: the sparse layers' kept weights, NULL for dense */
  guint   n_sparse;
  guint   n_slots;
  gsize   slot_floats;
  float  *scratch;                  /* owned: (n_slots, slot_floats), one slot per thread */
} PlSparseNet;

/* TRUE when the cost model runs layer @l, with @kept of its weights kept, as CSR. */
gboolean      pl_sparse_layer_pays    (const PlLayer *l,
                                       gsize          kept);

/* The CSR forms of the layers of @model (masks applied) that pay; NULL when none does.
 * @n_slots threads may run passes at once, each with its own slot. (transfer full) */
PlSparseNet  *pl_sparse_net_new       (const PlMlp   *model,
                                       guint          n_slots);
void          pl_sparse_net_free      (PlSparseNet   *net);
/* The CSR values from the model's weights, after they changed. */
void          pl_sparse_net_refresh   (PlSparseNet   *net,
                                       const PlMlp   *model);

/* As pl_nn_forward. */
const float  *pl_sparse_forward       (const PlMlp   *model,
                                       PlSparseNet   *net,
                                       guint          slot,
                                       PlNnWork      *work,
                                       const float   *x,
                                       guint          n);
/* As pl_nn_backward after pl_sparse_forward; the gradients of a sparse layer's pruned weights
 * are not written. */
void          pl_sparse_backward      (const PlMlp   *model,
                                       PlSparseNet   *net,
                                       guint          slot,
                                       PlNnWork      *work,
                                       const guint32 *y,
                                       guint          n,
                                       float          scale,
                                       gboolean       accumulate,
                                       float         *grad);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PlSparseNet, pl_sparse_net_free)

G_END_DECLS
