/* pl-metrics.h — sparsity and cost of a (pruned) model, per layer and in total
 *
 * Parameter sparsity: pruned weights / weights (biases are never pruned and not counted).
 * Structural sparsity: dead output neurons / output neurons (0 for the output layer); in the
 * total, dead neurons / hidden neurons.
 * Relative sparsity: share of the |w| mass that the masks remove, measured on @weights as they
 * were before masking (pass the unpruned parameters when known; pruned entries that are 0
 * there count as 0). Hoyer sparsity (pl_hoyer) of the kept weights of the layer.
 * FLOPs per sample (2 per multiply-add; biases and activations not counted): dense, and
 * effective (kept weights only). Bytes: dense float32 weights and biases; CSR (float32 values,
 * int32 column indices, int32 row pointers, biases); compacted dense (dead neurons' rows and
 * columns removed).
 */
#pragma once

#include <glib.h>

#include "pl-mlp.h"

G_BEGIN_DECLS

typedef struct {
  guint   n_in, n_out;
  gsize   weights;
  gsize   pruned;
  gsize   nonzero;             /* kept weights + biases */
  guint   dead_neurons;
  double  parameter_sparsity;
  double  structural_sparsity;
  double  relative_sparsity;
  double  hoyer;
  double  flops_dense;
  double  flops_effective;
  double  bytes_dense;
  double  bytes_csr;
  double  bytes_compact;
} PlLayerMetrics;

typedef struct {
  guint          n_layers;
  PlLayerMetrics layers[PL_MLP_MAX_LAYERS];
  PlLayerMetrics total;        /* the same measures over the whole model */
} PlMetrics;

/* @weights: parameters before masking (the layout of model->params), or NULL to use the
 * model's own; @masks, @neuron_masks: NULL for the model's own. */
void pl_metrics_compute (PlMetrics   *metrics,
                         const PlMlp *model,
                         const float *weights,
                         const float *masks,
                         const float *neuron_masks);

G_END_DECLS
