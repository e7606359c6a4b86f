#define G_LOG_DOMAIN "pl-conv-sweep"

#include "config.h"

#include "pl-conv-sweep.h"

#include <string.h>

#include "pl-eval.h"

guint
pl_conv_net_n_param_layers (const PlConvNet *net)
{
  guint n = net->head->n_layers;

  for (guint i = 0; i < net->n_layers; i++)
    n += net->layers[i].kind == PL_CONV_LAYER_CONV;
  return n;
}

static double
share_pruned (const float *mask,
              gsize        n)
{
  gsize pruned = 0;

  for (gsize k = 0; k < n; k++)
    pruned += mask[k] == 0.0f;
  return n > 0 ? (double) pruned / n : 0.0;
}

void
pl_conv_net_layer_sparsity (const PlConvNet *net,
                            double          *out)
{
  guint n = 0;

  for (guint i = 0; i < net->n_layers; i++)
    {
      const PlConvLayer *l = &net->layers[i];

      if (l->kind == PL_CONV_LAYER_CONV)
        out[n++] = share_pruned (l->w_mask, (gsize) l->c_out * l->c_in * l->k * l->k);
    }
  for (guint i = 0; i < net->head->n_layers; i++)
    {
      const PlLayer *l = &net->head->layers[i];

      out[n++] = share_pruned (l->w_mask, (gsize) l->n_out * l->n_in);
    }
}

PlConvNet *
pl_conv_pruner_apply (const PlConvPruner  *pruner,
                      double               sparsity,
                      GError             **error)
{
  g_autoptr(PlConvNet) copy = NULL;

  g_return_val_if_fail (pruner != NULL && pruner->net != NULL, NULL);
  g_return_val_if_fail (sparsity >= 0.0 && sparsity <= 1.0, NULL);

  copy = pl_conv_net_copy (pruner->net);
  switch (pruner->mode)
    {
    case PL_CONV_PRUNE_WEIGHTS:
      if (pruner->scores != NULL)
        pl_conv_prune_scored (copy, pruner->scores, sparsity, pruner->global, pruner->allow_empty);
      else
        pl_conv_prune_magnitude (copy, sparsity, pruner->global, pruner->allow_empty);
      break;
    case PL_CONV_PRUNE_FILTERS:
      pl_conv_prune_filters_by (copy, sparsity, pruner->filter);
      break;
    case PL_CONV_PRUNE_CHANNELS:
      if (pl_conv_prune_channels (copy, sparsity, pruner->channel, pruner->calib, pruner->n_calib,
                                  error) < 0)
        return NULL;
      break;
    }
  return g_steal_pointer (&copy);
}

gboolean
pl_conv_sweep_measure (const PlConvNet  *net,
                       const PlDataset  *eval,
                       double            target,
                       PlPreviewResult  *result,
                       GError          **error)
{
  g_autoptr(PlEvaluation) ev = NULL;

  ev = pl_conv_evaluate (net, eval, error);
  if (ev == NULL)
    return FALSE;

  pl_conv_sweep_count (net, target, result);
  result->n = ev->n;
  result->n_correct = (guint) (ev->accuracy * ev->n + 0.5);
  result->accuracy = ev->accuracy;
  result->loss = ev->loss;
  return TRUE;
}

void
pl_conv_sweep_count (const PlConvNet *net,
                     double           target,
                     PlPreviewResult *result)
{
  double layers[PL_CONV_MAX_LAYERS + PL_MLP_MAX_LAYERS];
  guint n_layers;

  memset (result, 0, sizeof *result);
  result->value = target;
  result->weights = pl_conv_net_n_weights (net);
  result->pruned = pl_conv_net_n_pruned (net);
  result->sparsity = result->weights > 0 ? (double) result->pruned / result->weights : 0.0;
  n_layers = pl_conv_net_n_param_layers (net);
  pl_conv_net_layer_sparsity (net, layers);
  for (guint i = 0; i < MIN (n_layers, PL_MLP_MAX_LAYERS); i++)
    result->layer_sparsity[i] = layers[i];
  result->neurons = (guint) net->n_filters;
  for (gsize f = 0; f < net->n_filters; f++)
    result->dead_neurons += net->filter_masks[f] == 0.0f;
}

gboolean
pl_conv_sweep_eval (double            target,
                    PlPreviewResult  *result,
                    gpointer          data,
                    GError          **error)
{
  const PlConvPruner *pruner = data;
  g_autoptr(PlConvNet) net = pl_conv_pruner_apply (pruner, target, error);

  return net != NULL && pl_conv_sweep_measure (net, pruner->eval, target, result, error);
}

/* The index in net->layers of parametrised layer @layer when it is a conv layer, else G_MAXUINT. */
static guint
conv_layer_index (const PlConvNet *net,
                  guint            layer)
{
  guint n = 0;

  for (guint i = 0; i < net->n_layers; i++)
    if (net->layers[i].kind == PL_CONV_LAYER_CONV && n++ == layer)
      return i;
  return G_MAXUINT;
}

gboolean
pl_conv_sensitivity_eval (guint     layer,
                          double    level,
                          double   *sparsity,
                          double   *accuracy,
                          double   *loss,
                          gpointer  data,
                          GError  **error)
{
  const PlConvPruner *pruner = data;
  g_autoptr(PlConvNet) net = NULL;
  g_autoptr(PlEvaluation) ev = NULL;
  double layers[PL_CONV_MAX_LAYERS + PL_MLP_MAX_LAYERS];
  guint conv = conv_layer_index (pruner->net, layer);

  g_return_val_if_fail (pruner->mode != PL_CONV_PRUNE_CHANNELS, FALSE);
  g_return_val_if_fail (layer < pl_conv_net_n_param_layers (pruner->net), FALSE);
  g_return_val_if_fail (pruner->mode == PL_CONV_PRUNE_WEIGHTS || conv != G_MAXUINT, FALSE);

  net = pl_conv_net_copy (pruner->net);
  if (pruner->mode == PL_CONV_PRUNE_WEIGHTS)
    pl_conv_prune_scored_layer (net, pruner->scores, layer, level, pruner->allow_empty);
  else
    pl_conv_prune_filters_layer (net, conv, level, pruner->filter);
  ev = pl_conv_evaluate (net, pruner->eval, error);
  if (ev == NULL)
    return FALSE;
  if (pruner->mode == PL_CONV_PRUNE_WEIGHTS)
    {
      pl_conv_net_layer_sparsity (net, layers);
      *sparsity = layers[layer];
    }
  else
    {
      const PlConvLayer *l = &net->layers[conv];
      guint dead = 0;

      for (guint o = 0; o < l->c_out; o++)
        dead += l->filter_mask[o] == 0.0f;
      *sparsity = (double) dead / l->c_out;
    }
  *accuracy = ev->accuracy;
  *loss = ev->loss;
  return TRUE;
}
