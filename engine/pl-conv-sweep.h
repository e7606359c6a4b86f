/* pl-conv-sweep.h — a convolutional network in sweeps and sensitivity scans
 *
 * A PlConvPruner says how a conv net is pruned to a sparsity s — its weights by one weight score
 * (pl-conv-score.h), with one ranking over all layers or one per layer, or its filters by a
 * filter score (L1/L2 norm, FPGM) or a channel score (APoZ, mean activation, Taylor; computed on
 * the network as pruned so far, pl-conv-prune.h) — and on which data it is evaluated. The scores
 * of a weight pruner are those of the model as given, so every point prunes the same ranking
 * further, as a PlPreview does for an MLP. pl_conv_sweep_eval() and pl_conv_sensitivity_eval()
 * plug it into pl_sweep_run_with() and pl_sensitivity_run_with(): each point prunes a copy of
 * the model (a few conv forward passes, cheap next to the scores).
 *
 * Layers here are the parametrised ones: the conv layers in order, then the head's dense
 * layers (safetensors layers.0, layers.1, …, pl-conv-file.h).
 */
#pragma once

#include <glib.h>

#include "pl-conv-prune.h"
#include "pl-dataset.h"
#include "pl-preview.h"

G_BEGIN_DECLS

typedef enum {
  PL_CONV_PRUNE_WEIGHTS,    /* weights by @scores (NULL: |w|) */
  PL_CONV_PRUNE_FILTERS,    /* filters by @filter */
  PL_CONV_PRUNE_CHANNELS    /* filters by @channel on @calib */
} PlConvPruneMode;

typedef struct {
  const PlConvNet    *net;          /* the model as given (borrowed) */
  PlConvPruneMode     mode;
  const float        *scores;       /* weights: pl_conv_net_n_weights() scores, or NULL */
  gboolean            global;       /* weights: one ranking over every layer */
  gboolean            allow_empty;  /* weights: a layer may lose every weight */
  PlConvFilterScore   filter;
  PlConvChannelScore  channel;
  const PlDataset    *calib;        /* channels: the calibration samples … */
  guint               n_calib;      /* … the first this many of them */
  const PlDataset    *eval;         /* what each point is evaluated on */
} PlConvPruner;

/* Parametrised layers (conv then dense). */
guint      pl_conv_net_n_param_layers (const PlConvNet     *net);
/* Pruned / weights of every parametrised layer into @out (pl_conv_net_n_param_layers()). */
void       pl_conv_net_layer_sparsity (const PlConvNet     *net,
                                       double              *out);

/* A copy of the pruner's model pruned to @sparsity. NULL with the error (a channel score on
 * data that do not fit). (transfer full) */
PlConvNet *pl_conv_pruner_apply       (const PlConvPruner  *pruner,
                                       double               sparsity,
                                       GError             **error);

/* PlSweepEvalFunc (pl-sweep.h) of a PlConvPruner: @result gets the weights, pruned, sparsity,
 * layer_sparsity (at most PL_MLP_MAX_LAYERS layers), neurons and dead_neurons as the conv
 * layers' filters and the dead ones, n, n_correct, accuracy and loss. */
gboolean   pl_conv_sweep_eval         (double               target,
                                       PlPreviewResult     *result,
                                       gpointer             pruner,
                                       GError             **error);

/* The fields of @result pl_conv_sweep_eval() gives, of @net (pruned and perhaps fine-tuned) on
 * @eval. FALSE with the error when the data do not fit. */
gboolean   pl_conv_sweep_measure      (const PlConvNet     *net,
                                       const PlDataset     *eval,
                                       double               target,
                                       PlPreviewResult     *result,
                                       GError             **error);

/* The counts of pl_conv_sweep_measure() without the evaluation: @result gets value (@target),
 * weights, pruned, sparsity, layer_sparsity, neurons and dead_neurons; the rest is 0. */
void       pl_conv_sweep_count        (const PlConvNet     *net,
                                       double               target,
                                       PlPreviewResult     *result);
/* PlSensitivityEvalFunc (pl-sensitivity.h) of a weight or filter pruner: layer @layer alone
 * pruned to @level, by the weight scores (pl_conv_prune_scored_layer(); @sparsity the layer's
 * share of weights pruned) or, for a conv layer, by the filter score
 * (pl_conv_prune_filters_layer(); @sparsity the layer's share of dead filters). */
gboolean   pl_conv_sensitivity_eval   (guint                layer,
                                       double               level,
                                       double              *sparsity,
                                       double              *accuracy,
                                       double              *loss,
                                       gpointer             pruner,
                                       GError             **error);

G_END_DECLS
