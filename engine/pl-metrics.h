/* pl-metrics.h — sparsity and cost of a (pruned) model, per layer and in total
 *
 * For layer i with weights W (n_out, n_in), mask M, live outputs r_o (neuron mask ≠ 0; every
 * output of the last layer is live) and live inputs c_j (the previous layer's neuron mask ≠ 0;
 * every input of the first layer is live):
 *   parameter sparsity   pruned / weights, pruned = #{M_oj = 0} (biases are never pruned and
 *                        not counted);
 *   structural sparsity  dead output neurons / output neurons (0 for the output layer); in the
 *                        total, dead neurons / hidden neurons;
 *   relative sparsity    share of the |w| mass that the masks remove, Σ_{M=0} |W| / Σ |W|,
 *                        measured on @weights as they were before masking (pass the unpruned
 *                        parameters when known; pruned entries that are 0 there count as 0);
 *   hoyer                Hoyer's (2004) sparsity (pl_hoyer) of the whole weight tensor with the
 *                        pruned entries as zeros, W ⊙ M over all n_out·n_in entries: it rises as
 *                        magnitude pruning removes the small weights; the total is over every
 *                        weight of the model;
 *   hoyer_kept           the same over the kept weights only (M ≠ 0), which can fall as pruning
 *                        proceeds: the spread of the survivors, not the tensor's sparsity.
 * Cost counts only the weights that still do work: effective = #{M_oj ≠ 0, r_o, c_j} — a kept
 * weight into a dead neuron, or out of one, multiplies a value nobody reads (or a zero).
 *   FLOPs per sample     2 per multiply-add (biases and activations not counted): dense 2·n_out·n_in,
 *                        effective 2·effective;
 *   bytes                dense float32 weights and biases 4·(n_out·n_in + n_out); CSR
 *                        (4 + 4)·effective (float32 values, int32 column indices)
 *                        + 4·(n_out + 1) (int32 row pointers) + 4·n_out (biases); compacted
 *                        dense 4·(rows·cols + rows) with rows = #live outputs, cols = #live inputs.
 */
#pragma once

#include <glib.h>

#include "pl-conv.h"
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
  double  hoyer;               /* of the whole tensor, pruned entries 0 */
  double  hoyer_kept;          /* of the kept weights only */
  gsize   effective;           /* kept weights between live neurons */
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
 * model's own: the relative sparsity's mass is measured on them; the Hoyer figures are of the
 * model's weights as they are now (after fine-tuning, say) under @masks. @masks,
 * @neuron_masks: NULL for the model's own. */
void pl_metrics_compute (PlMetrics   *metrics,
                         const PlMlp *model,
                         const float *weights,
                         const float *masks,
                         const float *neuron_masks);

/* The same measures of a convolutional network, one PlLayerMetrics per parametrised layer (its
 * conv layers, then the head's dense layers). A conv layer counts as the matrix of its filters,
 * n_out = c_out rows of n_in = c_in·k·k weights: its neurons are its filters (live: filter mask
 * ≠ 0), its live inputs the (c, ·, ·) columns of the previous conv layer's live filters (every
 * input channel of the first). A weight of a conv layer is applied at each of the h_out·w_out
 * output positions, so
 *   FLOPs per sample     dense 2·c_out·c_in·k²·h_out·w_out, effective 2·effective·h_out·w_out;
 * the bytes are the formulas above on the filter matrix (compacted: live filters × live input
 * channels·k²). The head's first layer reads the flattened maps of the last conv layer: its
 * columns of a dead filter are not live inputs. Dead neurons in the total are the dead filters
 * plus the head's dead hidden neurons, of every filter and hidden neuron (structural sparsity).
 * @before: the network as it was before pruning (same architecture), for the relative
 * sparsity's mass, or NULL for @net's own weights. Pools hold no weights and are not layers
 * here; biases are not counted as weights (as above). */
void pl_metrics_compute_conv (PlMetrics       *metrics,
                              const PlConvNet *net,
                              const PlConvNet *before);

G_END_DECLS
