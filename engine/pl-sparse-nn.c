#define G_LOG_DOMAIN "pl-sparse-nn"

#include "config.h"

#include <cblas.h>
#include <string.h>

#include "pl-sparse-nn.h"

gboolean
pl_sparse_layer_pays (const PlLayer *l,
                      gsize          kept)
{
  return PL_SPARSE_COST * (double) kept + l->n_in + l->n_out < (double) l->n_out * l->n_in;
}

PlSparseNet *
pl_sparse_net_new (const PlMlp *model,
                   guint        n_slots)
{
  g_autoptr(PlSparseNet) net = g_new0 (PlSparseNet, 1);

  g_return_val_if_fail (model != NULL && n_slots > 0, NULL);

  net->n_layers = model->n_layers;
  net->n_slots = n_slots;
  for (guint i = 0; i < model->n_layers; i++)
    {
      const PlLayer *l = &model->layers[i];
      gsize nw = (gsize) l->n_out * l->n_in, kept = 0;

      for (gsize k = 0; k < nw; k++)
        kept += l->w_mask[k] != 0.0f;
      if (!pl_sparse_layer_pays (l, kept))
        continue;
      /* every kept weight, also into or out of a dead neuron: its gradient is 0 there, as in
       * the dense pass, and it must be written as such */
      net->csr[i] = pl_csr_new_from_dense (l->w, l->w_mask, NULL, NULL, l->n_out, l->n_in);
      if (net->csr[i] == NULL)
        continue;
      net->n_sparse++;
      net->slot_floats = MAX (net->slot_floats, pl_csr_scratch_floats (net->csr[i], 1));
    }
  if (net->n_sparse == 0)
    return NULL;
  net->scratch = g_new (float, net->slot_floats * n_slots);

  return g_steal_pointer (&net);
}

void
pl_sparse_net_free (PlSparseNet *net)
{
  if (net == NULL)
    return;

  for (guint i = 0; i < net->n_layers; i++)
    pl_csr_free (net->csr[i]);
  g_free (net->scratch);
  g_free (net);
}

void
pl_sparse_net_refresh (PlSparseNet *net,
                       const PlMlp *model)
{
  for (guint i = 0; i < net->n_layers; i++)
    if (net->csr[i] != NULL)
      pl_csr_refresh_values (net->csr[i], model->layers[i].w);
}

const float *
pl_sparse_forward (const PlMlp *model,
                   PlSparseNet *net,
                   guint        slot,
                   PlNnWork    *work,
                   const float *x,
                   guint        n)
{
  float *scratch = net->scratch + net->slot_floats * slot;

  g_return_val_if_fail (n <= work->max_batch && slot < net->n_slots, NULL);

  work->act[0] = (float *) x;
  work->act[1] = work->first_out;
  for (guint i = 0; i < model->n_layers; i++)
    {
      const PlLayer *l = &model->layers[i];
      float *out = work->act[i + 1];

      /* out (n, n_out) = in (n, n_in) · Wᵀ */
      if (net->csr[i] != NULL)
        pl_csr_mm (out, net->csr[i], work->act[i], n, NULL, scratch);
      else
        cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans,
                     n, l->n_out, l->n_in,
                     1.0f, work->act[i], l->n_in, l->w, l->n_in,
                     0.0f, out, l->n_out);

      if (i + 1 < model->n_layers)
        pl_nn_bias_activate (out, l->n_out, l->b, l->neuron_mask, n, l->n_out, model->activation);
      else
        pl_nn_bias_softmax (out, l->b, n, l->n_out);
    }

  return work->act[model->n_layers];
}

void
pl_sparse_backward (const PlMlp   *model,
                    PlSparseNet   *net,
                    guint          slot,
                    PlNnWork      *work,
                    const guint32 *y,
                    guint          n,
                    float          scale,
                    gboolean       accumulate,
                    float         *grad)
{
  float *scratch = net->scratch + net->slot_floats * slot;
  guint L = model->n_layers;
  guint m = model->sizes[L];
  const float *p = work->act[L];
  float *d = work->delta[0];
  float *gp = grad + model->n_params;

  g_return_if_fail (work->act[0] != NULL && n <= work->max_batch && slot < net->n_slots);

  /* ∂L/∂z of the output layer for softmax + cross-entropy: (p − onehot(y)) · scale */
  for (guint s = 0; s < n; s++)
    {
      for (guint j = 0; j < m; j++)
        d[(gsize) s * m + j] = p[(gsize) s * m + j] * scale;
      d[(gsize) s * m + y[s]] -= scale;
    }

  for (guint i = L; i-- > 0;)
    {
      const PlLayer *l = &model->layers[i];
      const PlCsr *csr = net->csr[i];
      float *gw, *gb;

      gp -= (gsize) l->n_out * l->n_in + l->n_out;
      gw = gp;
      gb = gp + (gsize) l->n_out * l->n_in;

      /* gW (n_out, n_in) (+)= dᵀ (n_out, n) · a (n, n_in): at the kept positions only when
       * sparse; with the input's gradient in the same pass for a hidden layer */
      if (csr != NULL && i > 0)
        pl_csr_backward (gw, work->delta[(L - i) & 1], csr, d, work->act[i], n, accumulate, scratch);
      else if (csr != NULL)
        pl_csr_weight_grad (gw, csr, d, work->act[i], n, accumulate, NULL, scratch);
      else
        cblas_sgemm (CblasRowMajor, CblasTrans, CblasNoTrans,
                     l->n_out, l->n_in, n,
                     1.0f, d, l->n_out, work->act[i], l->n_in,
                     accumulate ? 1.0f : 0.0f, gw, l->n_in);
      if (!accumulate)
        memset (gb, 0, sizeof (float) * l->n_out);
      for (guint s = 0; s < n; s++)
        for (guint j = 0; j < l->n_out; j++)
          gb[j] += d[(gsize) s * l->n_out + j];

      if (i > 0)
        {
          float *dprev = work->delta[(L - i) & 1];

          /* dprev (n, n_in) = d (n, n_out) · W (n_out, n_in), done above when sparse */
          if (csr == NULL)
            cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans,
                         n, l->n_in, l->n_out,
                         1.0f, d, l->n_out, l->w, l->n_in,
                         0.0f, dprev, l->n_in);
          pl_nn_activation_backward (dprev, work->act[i], model->layers[i - 1].neuron_mask,
                                     n, l->n_in, model->activation);
          d = dprev;
        }
    }
}
