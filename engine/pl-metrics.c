#define G_LOG_DOMAIN "pl-metrics"

#include "config.h"

#include "pl-metrics.h"

#include <math.h>
#include <string.h>

#include "pl-score.h"

#define F32 4.0  /* bytes of a float32 */
#define I32 4.0  /* bytes of an int32 index */

/* Sums that the ratios are made of, so that the total is computed like a layer. */
typedef struct {
  double weights, kept;
  double mass, mass_removed;
  double l1, l2sq;  /* of the kept weights; the pruned ones are 0 in the whole tensor */
  gsize  hidden;    /* neurons that can die: the outputs of hidden layers */
} Sums;

static void
finish (PlLayerMetrics *m,
        const Sums     *s)
{
  m->parameter_sparsity = m->weights > 0 ? (double) m->pruned / m->weights : 0.0;
  m->structural_sparsity = s->hidden > 0 ? (double) m->dead_neurons / s->hidden : 0.0;
  m->relative_sparsity = s->mass > 0 ? s->mass_removed / s->mass : 0.0;
  m->hoyer = pl_hoyer_from_sums (s->weights, s->l1, s->l2sq);
  m->hoyer_kept = pl_hoyer_from_sums (s->kept, s->l1, s->l2sq);
}

/* Layer @m (its sums @s) into the total; with @structural its dead neurons count there. */
static void
add_to_total (PlLayerMetrics       *total,
              Sums                 *all,
              const PlLayerMetrics *m,
              const Sums           *s,
              gboolean              structural)
{
  total->weights += m->weights;
  total->pruned += m->pruned;
  total->effective += m->effective;
  total->nonzero += m->nonzero;
  total->flops_dense += m->flops_dense;
  total->flops_effective += m->flops_effective;
  total->bytes_dense += m->bytes_dense;
  total->bytes_csr += m->bytes_csr;
  total->bytes_compact += m->bytes_compact;
  all->weights += s->weights;
  all->kept += s->kept;
  all->mass += s->mass;
  all->mass_removed += s->mass_removed;
  all->l1 += s->l1;
  all->l2sq += s->l2sq;
  if (structural)
    {
      total->dead_neurons += m->dead_neurons;
      all->hidden += s->hidden;
    }
}

/* One layer: @n_out rows of @n_in weights, @now as they are, @w before pruning, @row_live and
 * @col_live which rows and columns are live (NULL: all), @positions the times a weight is
 * applied per sample (1 for a dense layer); @hidden whether the rows can die. */
static void
layer_metrics (PlLayerMetrics *m,
                    Sums           *s,
                    const float    *w,
                    const float    *now,
                    const float    *mask,
                    guint           n_out,
                    guint           n_in,
                    const float    *row_live,
                    const float    *col_live,
                    double          positions,
                    gboolean        hidden)
{
  gsize nw = (gsize) n_out * n_in, kept;
  guint rows = 0, cols = 0;

  memset (m, 0, sizeof *m);
  memset (s, 0, sizeof *s);
  m->n_in = n_in;
  m->n_out = n_out;
  m->weights = nw;
  for (gsize k = 0; k < nw; k++)
    {
      double a = fabs (w[k]);

      s->mass += a;
      if (mask[k] == 0.0f)
        {
          m->pruned++;
          s->mass_removed += a;
        }
      else
        {
          double v = fabs (now[k]);

          s->l1 += v;
          s->l2sq += v * v;
          if ((row_live == NULL || row_live[k / n_in] != 0.0f)
              && (col_live == NULL || col_live[k % n_in] != 0.0f))
            m->effective++;
        }
    }
  kept = nw - m->pruned;
  s->weights = nw;
  s->kept = kept;
  for (guint o = 0; o < n_out; o++)
    rows += row_live == NULL || row_live[o] != 0.0f;
  for (guint j = 0; j < n_in; j++)
    cols += col_live == NULL || col_live[j] != 0.0f;
  if (hidden)
    {
      m->dead_neurons = n_out - rows;
      s->hidden = n_out;
    }
  m->nonzero = kept + n_out;
  m->flops_dense = 2.0 * nw * positions;
  m->flops_effective = 2.0 * m->effective * positions;
  m->bytes_dense = F32 * (nw + n_out);
  m->bytes_csr = (F32 + I32) * m->effective + I32 * (n_out + 1) + F32 * n_out;
  m->bytes_compact = F32 * ((double) rows * cols + rows);
  finish (m, s);
}

void
pl_metrics_compute (PlMetrics   *metrics,
                    const PlMlp *model,
                    const float *weights,
                    const float *masks,
                    const float *neuron_masks)
{
  PlLayerMetrics *total;
  Sums all = { 0 };
  guint L;

  g_return_if_fail (metrics != NULL && model != NULL);

  if (weights == NULL)
    weights = model->params;
  if (masks == NULL)
    masks = model->masks;
  if (neuron_masks == NULL)
    neuron_masks = model->neuron_masks;

  L = model->n_layers;
  memset (metrics, 0, sizeof *metrics);
  metrics->n_layers = L;
  total = &metrics->total;
  total->n_in = model->sizes[0];
  total->n_out = model->sizes[L];

  for (guint i = 0, neuron_off = 0; i < L; i++)
    {
      const PlLayer *l = &model->layers[i];
      PlLayerMetrics *m = &metrics->layers[i];
      gsize off = l->w - model->params;
      Sums s;

      /* live outputs: hidden neurons with a neuron mask; every class of the output layer; live
       * inputs: the previous layer's neurons, every feature of the first layer */
      layer_metrics (m, &s, weights + off, model->params + off, masks + off, l->n_out, l->n_in,
                     i + 1 < L ? neuron_masks + neuron_off : NULL,
                     i > 0 ? neuron_masks + neuron_off - l->n_in : NULL, 1.0, i + 1 < L);
      neuron_off += l->n_out;
      add_to_total (total, &all, m, &s, TRUE);
    }

  finish (total, &all);
}

void
pl_metrics_compute_conv (PlMetrics       *metrics,
                         const PlConvNet *net,
                         const PlConvNet *before)
{
  const PlMlp *head;
  const float *prev_live = NULL;   /* the previous conv layer's filter masks */
  guint L = 0, last_c = 0, last_hw = 1;
  PlLayerMetrics *total;
  Sums all = { 0 };

  g_return_if_fail (metrics != NULL && net != NULL);
  if (before == NULL)
    before = net;
  head = net->head;
  memset (metrics, 0, sizeof *metrics);
  total = &metrics->total;
  total->n_in = pl_conv_net_n_inputs (net);
  total->n_out = pl_conv_net_n_outputs (net);

  for (guint i = 0; i < net->n_layers + head->n_layers && L < PL_MLP_MAX_LAYERS; i++)
    {
      PlLayerMetrics *m = &metrics->layers[L];
      g_autofree float *cols = NULL;
      g_autofree float *ones = NULL;
      Sums s;

      if (i < net->n_layers)
        {
          const PlConvLayer *l = &net->layers[i];
          guint k2 = l->k * l->k, n_in = l->c_in * k2;

          if (l->kind != PL_CONV_LAYER_CONV)
            {
              last_hw = l->h_out * l->w_out;
              continue;
            }
          cols = g_new (float, n_in);
          for (guint j = 0; j < n_in; j++)
            cols[j] = prev_live != NULL ? prev_live[j / k2] : 1.0f;
          layer_metrics (m, &s, before->layers[i].w, l->w, l->w_mask, l->c_out, n_in,
                              l->filter_mask, cols, (double) l->h_out * l->w_out, TRUE);
          prev_live = l->filter_mask;
          last_c = l->c_out;
          last_hw = l->h_out * l->w_out;
        }
      else
        {
          guint h = i - net->n_layers;
          const PlLayer *l = &head->layers[h];
          gboolean hidden = h + 1 < head->n_layers;
          gsize noff = l->neuron_mask - head->neuron_masks;

          cols = g_new (float, l->n_in);
          for (guint j = 0; j < l->n_in; j++)
            cols[j] = h > 0 ? head->neuron_masks[noff - l->n_in + j]
                      : prev_live != NULL && last_c * last_hw == l->n_in ? prev_live[j / last_hw]
                      : 1.0f;
          if (!hidden)
            {
              ones = g_new (float, l->n_out);
              for (guint o = 0; o < l->n_out; o++)
                ones[o] = 1.0f;
            }
          layer_metrics (m, &s, before->head->layers[h].w, l->w, l->w_mask, l->n_out, l->n_in,
                              hidden ? l->neuron_mask : ones, cols, 1.0, hidden);
        }
      L++;
      /* the structural figure of a CNN: its filters (the head's layers keep their own) */
      add_to_total (total, &all, m, &s, i < net->n_layers);
    }
  metrics->n_layers = L;
  finish (total, &all);
}
