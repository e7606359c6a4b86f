#define G_LOG_DOMAIN "pl-sensitivity"

#include "config.h"

#include "pl-sensitivity.h"

#include <math.h>
#include <string.h>

#include "pl-eval.h"
#include "pl-metrics.h"

PlSensitivity *
pl_sensitivity_new (guint         n_layers,
                    const double *levels,
                    guint         n_levels)
{
  PlSensitivity *self;
  gsize n;

  g_return_val_if_fail (n_layers >= 1 && n_layers <= PL_MLP_MAX_LAYERS, NULL);
  g_return_val_if_fail (levels != NULL || n_levels == 0, NULL);

  n = (gsize) n_layers * MAX (n_levels, 1);
  self = g_new0 (PlSensitivity, 1);
  self->n_layers = n_layers;
  self->n_levels = n_levels;
  self->levels = g_memdup2 (levels, sizeof (double) * MAX (n_levels, 1));
  self->sparsity = g_new (double, n);
  self->accuracy = g_new (double, n);
  self->loss = g_new (double, n);
  for (gsize k = 0; k < n; k++)
    self->sparsity[k] = self->accuracy[k] = self->loss[k] = NAN;
  self->dense_accuracy = self->dense_loss = NAN;

  return self;
}

void
pl_sensitivity_free (PlSensitivity *self)
{
  if (self == NULL)
    return;

  g_free (self->levels);
  g_free (self->sparsity);
  g_free (self->accuracy);
  g_free (self->loss);
  g_free (self);
}

gboolean
pl_sensitivity_run_with (PlSensitivity             *self,
                         PlSensitivityEvalFunc      eval,
                         gpointer                   eval_data,
                         PlSensitivityProgressFunc  progress,
                         gpointer                   user_data,
                         GCancellable              *cancellable,
                         GError                   **error)
{
  g_return_val_if_fail (self != NULL && eval != NULL, FALSE);

  for (guint i = 0; i < self->n_layers; i++)
    self->n_done[i] = 0;
  for (guint i = 0; i < self->n_layers; i++)
    {
      if (!self->pruned[i])
        continue;

      for (guint j = 0; j < self->n_levels; j++)
        {
          gsize at = (gsize) i * self->n_levels + j;

          if (g_cancellable_set_error_if_cancelled (cancellable, error))
            return FALSE;
          if (!eval (i, self->levels[j], &self->sparsity[at], &self->accuracy[at], &self->loss[at],
                     eval_data, error))
            return FALSE;
          self->n_done[i] = j + 1;
          if (progress != NULL)
            progress (self, i, j, user_data);
        }
    }
  return TRUE;
}

/* An MLP's layer pruned alone, for pl_sensitivity_run_with(). */
typedef struct {
  const PlMlp       *model;
  PlMlp             *copy;
  const PlScores    *scores;
  const PlPruneSpec *spec;
  const PlDataset   *eval;
} MlpEval;

static gboolean
mlp_eval (guint     layer,
          double    level,
          double   *sparsity,
          double   *accuracy,
          double   *loss,
          gpointer  data,
          GError  **error)
{
  MlpEval *m = data;
  g_autoptr(PlEvaluation) ev = NULL;
  PlPruneSpec layer_spec;
  PlMetrics metrics;
  guint n_layers = m->model->n_layers;

  /* this layer at the level, every other one at sparsity 0 (nothing more pruned) */
  pl_prune_spec_init (&layer_spec, PL_SCOPE_LAYER, FALSE, 0.0);
  layer_spec.invert = m->spec != NULL && m->spec->invert;
  layer_spec.allow_empty = m->spec != NULL && m->spec->allow_empty;
  layer_spec.n_values = n_layers;
  for (guint k = 0; k < n_layers; k++)
    layer_spec.values[k] = k == layer ? level : 0.0;

  pl_mlp_copy_from (m->copy, m->model);
  if (!pl_prune_apply (m->copy, m->scores, &layer_spec, error))
    return FALSE;
  ev = pl_evaluate (m->copy, m->eval, error);
  if (ev == NULL)
    return FALSE;

  pl_metrics_compute (&metrics, m->copy, m->model->params, NULL, NULL);
  *sparsity = m->scores->per_neuron
              ? (double) metrics.layers[layer].dead_neurons / metrics.layers[layer].n_out
              : metrics.layers[layer].parameter_sparsity;
  *accuracy = ev->accuracy;
  *loss = ev->loss;
  return TRUE;
}

gboolean
pl_sensitivity_run (PlSensitivity             *self,
                    const PlMlp               *model,
                    const PlScores            *scores,
                    const PlPruneSpec         *spec,
                    const PlDataset           *eval,
                    PlSensitivityProgressFunc  progress,
                    gpointer                   user_data,
                    GCancellable              *cancellable,
                    GError                   **error)
{
  g_autoptr(PlEvaluation) dense = NULL;
  g_autoptr(PlMlp) copy = NULL;
  MlpEval m;

  g_return_val_if_fail (self != NULL && model != NULL && scores != NULL && eval != NULL, FALSE);
  g_return_val_if_fail (self->n_layers == model->n_layers, FALSE);

  dense = pl_evaluate (model, eval, error);
  if (dense == NULL)
    return FALSE;
  self->dense_accuracy = dense->accuracy;
  self->dense_loss = dense->loss;
  copy = pl_mlp_copy (model);

  for (guint i = 0; i < self->n_layers; i++)
    self->pruned[i] = !(scores->per_neuron && i + 1 == self->n_layers);

  m = (MlpEval) { model, copy, scores, spec, eval };
  return pl_sensitivity_run_with (self, mlp_eval, &m, progress, user_data, cancellable, error);
}
