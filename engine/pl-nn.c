#define G_LOG_DOMAIN "pl-nn"

#include "config.h"

#include <cblas.h>
#include <float.h>
#include <math.h>
#include <string.h>

#include "pl-nn.h"

static guint
max_width (const PlMlp *model)
{
  guint w = 0;

  for (guint i = 0; i <= model->n_layers; i++)
    w = MAX (w, model->sizes[i]);

  return w;
}

PlNnWork *
pl_nn_work_new (const PlMlp *model,
                guint        max_batch)
{
  PlNnWork *work;
  gsize total;
  float *p;
  guint wmax;

  g_return_val_if_fail (model != NULL, NULL);
  g_return_val_if_fail (max_batch > 0, NULL);

  wmax = max_width (model);
  total = (gsize) max_batch * model->sizes[0];
  for (guint i = 1; i <= model->n_layers; i++)
    total += (gsize) max_batch * model->sizes[i];
  total += 2 * (gsize) max_batch * wmax;

  work = g_new0 (PlNnWork, 1);
  work->max_batch = max_batch;
  work->n_layers = model->n_layers;
  work->block = g_new0 (float, total);

  p = work->block;
  work->input = p;
  p += (gsize) max_batch * model->sizes[0];
  for (guint i = 1; i <= model->n_layers; i++)
    {
      work->act[i] = p;
      if (i == 1)
        work->first_out = p;
      p += (gsize) max_batch * model->sizes[i];
    }
  work->delta[0] = p;
  work->delta[1] = p + (gsize) max_batch * wmax;

  return work;
}

void
pl_nn_work_free (PlNnWork *work)
{
  if (work == NULL)
    return;

  g_free (work->block);
  g_free (work);
}

/* out (n, m), rows @stride apart ← activation(out + b) ⊙ neuron_mask, in place */
void
pl_nn_bias_activate (float        *out,
               gsize         stride,
               const float  *b,
               const float  *neuron_mask,
               guint         n,
               guint         m,
               PlActivation  activation)
{
  for (guint s = 0; s < n; s++)
    {
      float *row = out + (gsize) s * stride;

      switch (activation)
        {
        case PL_ACTIVATION_RELU:
          for (guint j = 0; j < m; j++)
            {
              float z = row[j] + b[j];
              row[j] = (z > 0.0f ? z : 0.0f) * neuron_mask[j];
            }
          break;
        case PL_ACTIVATION_TANH:
          for (guint j = 0; j < m; j++)
            row[j] = tanhf (row[j] + b[j]) * neuron_mask[j];
          break;
        case PL_ACTIVATION_SIGMOID:
          for (guint j = 0; j < m; j++)
            row[j] = neuron_mask[j] / (1.0f + expf (-(row[j] + b[j])));
          break;
        default:
          g_assert_not_reached ();
        }
    }
}

/* out (n, m) ← softmax(out + b) row by row */
void
pl_nn_bias_softmax (float       *out,
              const float *b,
              guint        n,
              guint        m)
{
  for (guint s = 0; s < n; s++)
    {
      float *row = out + (gsize) s * m;
      float zmax = -INFINITY;
      float sum = 0.0f;

      for (guint j = 0; j < m; j++)
        {
          row[j] += b[j];
          zmax = MAX (zmax, row[j]);
        }
      for (guint j = 0; j < m; j++)
        {
          row[j] = expf (row[j] - zmax);
          sum += row[j];
        }
      for (guint j = 0; j < m; j++)
        row[j] /= sum;
    }
}

/* Layers @first… on work->act[first], which the caller has set. */
static const float *
forward_from (const PlMlp *model,
              PlNnWork    *work,
              guint        first,
              guint        n)
{
  for (guint i = first; i < model->n_layers; i++)
    {
      const PlLayer *l = &model->layers[i];
      float *out = work->act[i + 1];

      /* out (n, n_out) = in (n, n_in) · Wᵀ */
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

const float *
pl_nn_forward (const PlMlp *model,
               PlNnWork    *work,
               const float *x,
               guint        n)
{
  g_return_val_if_fail (n <= work->max_batch, NULL);

  work->act[0] = (float *) x;
  work->act[1] = work->first_out;
  return forward_from (model, work, 0, n);
}

void
pl_nn_forward_first_columns (const PlMlp *model,
                             const float *x,
                             guint        n,
                             guint        c0,
                             guint        c1,
                             float       *h)
{
  const PlLayer *l = &model->layers[0];

  g_return_if_fail (model->n_layers >= 2 && c0 <= c1 && c1 <= l->n_out);
  if (c0 == c1 || n == 0)
    return;

  /* h[:, c0:c1] (n, c1 − c0) = x (n, n_in) · W[c0:c1]ᵀ */
  cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans,
               n, c1 - c0, l->n_in,
               1.0f, x, l->n_in, l->w + (gsize) c0 * l->n_in, l->n_in,
               0.0f, h + c0, l->n_out);
  pl_nn_bias_activate (h + c0, l->n_out, l->b + c0, l->neuron_mask + c0, n, c1 - c0, model->activation);
}

const float *
pl_nn_forward_upper (const PlMlp *model,
                     PlNnWork    *work,
                     const float *h,
                     guint        n)
{
  g_return_val_if_fail (model->n_layers >= 2 && n <= work->max_batch, NULL);

  work->act[0] = NULL;
  work->act[1] = (float *) h;
  return forward_from (model, work, 1, n);
}

double
pl_nn_loss (const PlMlp    *model,
            const PlNnWork *work,
            const guint32  *y,
            guint           n,
            guint          *n_correct)
{
  guint m = model->sizes[model->n_layers];
  const float *p = work->act[model->n_layers];
  double loss = 0.0;
  guint correct = 0;

  for (guint s = 0; s < n; s++)
    {
      const float *row = p + (gsize) s * m;
      guint best = 0;

      for (guint j = 1; j < m; j++)
        if (row[j] > row[best])
          best = j;
      correct += best == y[s];
      /* p can underflow to 0 for a confident wrong answer; FLT_MIN keeps the loss finite
       * (−log FLT_MIN ≈ 87.3), as log_softmax would up to that bound. A NaN (from overflowing
       * logits) must come through, so that training notices the divergence. */
      if (row[y[s]] >= FLT_MIN)
        loss -= log (row[y[s]]);
      else if (row[y[s]] >= 0.0f)
        loss -= log (FLT_MIN);
      else
        loss = NAN;
    }

  if (n_correct != NULL)
    *n_correct = correct;

  return n > 0 ? loss / n : 0.0;
}

/* d (n, m) ⊙= act'(a) ⊙ neuron_mask, with the derivative written from the output a */
void
pl_nn_activation_backward (float        *d,
                     const float  *a,
                     const float  *neuron_mask,
                     guint         n,
                     guint         m,
                     PlActivation  activation)
{
  gsize total = (gsize) n * m;

  switch (activation)
    {
    case PL_ACTIVATION_RELU:
      /* a = 0 for z ≤ 0 and for pruned neurons: both get no gradient */
      for (gsize k = 0; k < total; k++)
        d[k] = a[k] > 0.0f ? d[k] : 0.0f;
      return;
    case PL_ACTIVATION_TANH:
      for (gsize k = 0; k < total; k++)
        d[k] *= 1.0f - a[k] * a[k];
      break;
    case PL_ACTIVATION_SIGMOID:
      for (gsize k = 0; k < total; k++)
        d[k] *= a[k] * (1.0f - a[k]);
      break;
    default:
      g_assert_not_reached ();
    }

  for (guint s = 0; s < n; s++)
    for (guint j = 0; j < m; j++)
      d[(gsize) s * m + j] *= neuron_mask[j];
}

/* Backpropagates the output-layer delta d (n, n_out) = ∂L/∂z, already scaled, through every
 * layer into grad. */
static void
backward_from_output_delta (const PlMlp *model,
                            PlNnWork    *work,
                            float       *d,
                            guint        n,
                            gboolean     accumulate,
                            float       *grad)
{
  float beta = accumulate ? 1.0f : 0.0f;
  guint L = model->n_layers;
  float *gp = grad + model->n_params;

  for (guint i = L; i-- > 0;)
    {
      const PlLayer *l = &model->layers[i];
      float *gw, *gb;

      gp -= (gsize) l->n_out * l->n_in + l->n_out;
      gw = gp;
      gb = gp + (gsize) l->n_out * l->n_in;

      /* gW (n_out, n_in) = β·gW + dᵀ (n_out, n) · a (n, n_in), the first layer's left to the
       * caller when it asked for its delta */
      if (i == 0 && work->first_delta != NULL)
        {
          if (d != work->first_delta)
            memcpy (work->first_delta, d, sizeof (float) * n * l->n_out);
        }
      else
        cblas_sgemm (CblasRowMajor, CblasTrans, CblasNoTrans,
                     l->n_out, l->n_in, n,
                     1.0f, d, l->n_out, work->act[i], l->n_in,
                     beta, gw, l->n_in);
      if (!accumulate)
        memset (gb, 0, sizeof (float) * l->n_out);
      for (guint s = 0; s < n; s++)
        for (guint j = 0; j < l->n_out; j++)
          gb[j] += d[(gsize) s * l->n_out + j];

      if (i > 0)
        {
          float *dprev = i == 1 && work->first_delta != NULL ? work->first_delta
                                                              : work->delta[(L - i) & 1];

          /* dprev (n, n_in) = d (n, n_out) · W (n_out, n_in) */
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

void
pl_nn_backward (const PlMlp   *model,
                PlNnWork      *work,
                const guint32 *y,
                guint          n,
                float          scale,
                gboolean       accumulate,
                float         *grad)
{
  guint m = model->sizes[model->n_layers];
  const float *p = work->act[model->n_layers];
  float *d = work->delta[0];

  /* ∂L/∂z of the output layer for softmax + cross-entropy: (p − onehot(y)) · scale */
  for (guint s = 0; s < n; s++)
    {
      for (guint j = 0; j < m; j++)
        d[(gsize) s * m + j] = p[(gsize) s * m + j] * scale;
      d[(gsize) s * m + y[s]] -= scale;
    }

  backward_from_output_delta (model, work, d, n, accumulate, grad);
}

void
pl_nn_backward_per_sample (const PlMlp   *model,
                           PlNnWork      *work,
                           const guint32 *y,
                           guint          n,
                           PlNnLayerFunc  func,
                           gpointer       user_data)
{
  guint L = model->n_layers;
  guint m = model->sizes[L];
  const float *p = work->act[L];
  float *d = work->delta[0];
  float *ga = work->delta[1];

  g_return_if_fail (work->act[0] != NULL && n <= work->max_batch && func != NULL);

  /* ∂L_s/∂z of the output layer for softmax + cross-entropy: p − onehot(y) */
  for (guint s = 0; s < n; s++)
    {
      for (guint j = 0; j < m; j++)
        d[(gsize) s * m + j] = p[(gsize) s * m + j];
      d[(gsize) s * m + y[s]] -= 1.0f;
    }

  for (guint i = L; i-- > 0;)
    {
      const PlLayer *l = &model->layers[i];
      float *t;

      if (i == 0)
        {
          func (0, d, work->act[0], NULL, n, user_data);
          break;
        }

      /* ga (n, n_in) = d (n, n_out) · W (n_out, n_in) */
      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans,
                   n, l->n_in, l->n_out,
                   1.0f, d, l->n_out, l->w, l->n_in,
                   0.0f, ga, l->n_in);
      func (i, d, work->act[i], ga, n, user_data);
      pl_nn_activation_backward (ga, work->act[i], model->layers[i - 1].neuron_mask,
                           n, l->n_in, model->activation);
      t = d;
      d = ga;
      ga = t;
    }
}

void
pl_nn_soften (float       *q,
              const float *p,
              guint        m,
              double       temperature)
{
  float inv_t = (float) (1.0 / temperature);
  float lmax = -INFINITY, sum = 0.0f;

  /* softmax(z/T) = p^{1/T} / Σ p^{1/T}, in logs: log p = z − logsumexp(z) */
  for (guint j = 0; j < m; j++)
    {
      q[j] = logf (MAX (p[j], FLT_MIN)) * inv_t;
      lmax = MAX (lmax, q[j]);
    }
  for (guint j = 0; j < m; j++)
    {
      q[j] = expf (q[j] - lmax);
      sum += q[j];
    }
  for (guint j = 0; j < m; j++)
    q[j] /= sum;
}

void
pl_nn_backward_distill (const PlMlp   *model,
                        PlNnWork      *work,
                        const guint32 *y,
                        const float   *teacher,
                        guint          n,
                        double         temperature,
                        double         alpha,
                        float          scale,
                        gboolean       accumulate,
                        float         *grad)
{
  guint m = model->sizes[model->n_layers];
  const float *p = work->act[model->n_layers];
  float *d = work->delta[0];
  float hard = (float) (1.0 - alpha) * scale;
  float soft = (float) (alpha * temperature) * scale;
  float *q = work->delta[1];   /* free until the layers' backward */

  /* ∂L/∂z = (1 − α)(p − onehot(y)) + α·T·(q_s − q_t), times scale */
  for (guint s = 0; s < n; s++)
    {
      const float *ps = p + (gsize) s * m;
      const float *qt = teacher + (gsize) s * m;
      float *ds = d + (gsize) s * m;

      pl_nn_soften (q, ps, m, temperature);
      for (guint j = 0; j < m; j++)
        ds[j] = hard * ps[j] + soft * (q[j] - qt[j]);
      ds[y[s]] -= hard;
    }

  backward_from_output_delta (model, work, d, n, accumulate, grad);
}

double
pl_nn_distill_loss (const PlMlp    *model,
                    const PlNnWork *work,
                    const guint32  *y,
                    const float    *teacher,
                    guint           n,
                    double          temperature,
                    double          alpha)
{
  guint m = model->sizes[model->n_layers];
  const float *p = work->act[model->n_layers];
  double ce = pl_nn_loss (model, work, y, n, NULL);
  double kl = 0.0;
  g_autofree float *q = g_new (float, m);

  for (guint s = 0; s < n; s++)
    {
      const float *qt = teacher + (gsize) s * m;

      pl_nn_soften (q, p + (gsize) s * m, m, temperature);
      for (guint j = 0; j < m; j++)
        if (qt[j] > 0.0f)
          kl += qt[j] * (log (qt[j]) - log (MAX (q[j], FLT_MIN)));
    }

  return (1.0 - alpha) * ce + (n > 0 ? alpha * temperature * temperature * kl / n : 0.0);
}

double
pl_nn_penalty (const PlMlp *model,
               double       weight_decay,
               double       l1)
{
  double sq = 0.0, abs_sum = 0.0;

  for (guint i = 0; i < model->n_layers; i++)
    {
      const PlLayer *l = &model->layers[i];
      gsize nw = (gsize) l->n_out * l->n_in;

      for (gsize k = 0; k < nw; k++)
        {
          sq += (double) l->w[k] * l->w[k];
          abs_sum += fabs (l->w[k]);
        }
    }

  return 0.5 * weight_decay * sq + l1 * abs_sum;
}

/* ---- plain-loop references, in double ---- */

static double
act_ref (PlActivation a,
         double       z)
{
  switch (a)
    {
    case PL_ACTIVATION_RELU:
      return z > 0 ? z : 0;
    case PL_ACTIVATION_TANH:
      return tanh (z);
    case PL_ACTIVATION_SIGMOID:
      return 1.0 / (1.0 + exp (-z));
    default:
      g_assert_not_reached ();
    }
}

static double
act_grad_ref (PlActivation a,
              double       z)
{
  switch (a)
    {
    case PL_ACTIVATION_RELU:
      return z > 0 ? 1 : 0;
    case PL_ACTIVATION_TANH:
      return 1 - tanh (z) * tanh (z);
    case PL_ACTIVATION_SIGMOID:
      return act_ref (a, z) * (1 - act_ref (a, z));
    default:
      g_assert_not_reached ();
    }
}

/* One sample through the network in double; z[i] and a[i] hold each layer's pre-activation
 * and output (a[0] = x). Returns the cross-entropy. */
static double
forward_one_ref (const PlMlp  *model,
                 const float  *x,
                 guint32       y,
                 double      **z,
                 double      **a)
{
  guint L = model->n_layers;
  double zmax = -INFINITY, sum = 0.0;
  guint m = model->sizes[L];

  for (guint k = 0; k < model->sizes[0]; k++)
    a[0][k] = x[k];

  for (guint i = 0; i < L; i++)
    {
      const PlLayer *l = &model->layers[i];

      for (guint o = 0; o < l->n_out; o++)
        {
          double acc = l->b[o];

          for (guint k = 0; k < l->n_in; k++)
            acc += (double) l->w[(gsize) o * l->n_in + k] * a[i][k];
          z[i + 1][o] = acc;
          if (i + 1 < L)
            a[i + 1][o] = act_ref (model->activation, acc) * l->neuron_mask[o];
        }
    }

  for (guint j = 0; j < m; j++)
    zmax = MAX (zmax, z[L][j]);
  for (guint j = 0; j < m; j++)
    sum += exp (z[L][j] - zmax);
  for (guint j = 0; j < m; j++)
    a[L][j] = exp (z[L][j] - zmax) / sum;

  return -(z[L][y] - zmax - log (sum));
}

static void
alloc_ref (const PlMlp *model,
           double     **z,
           double     **a)
{
  for (guint i = 0; i <= model->n_layers; i++)
    {
      z[i] = g_new0 (double, model->sizes[i]);
      a[i] = g_new0 (double, model->sizes[i]);
    }
}

static void
free_ref (const PlMlp *model,
          double     **z,
          double     **a)
{
  for (guint i = 0; i <= model->n_layers; i++)
    {
      g_free (z[i]);
      g_free (a[i]);
    }
}

double
pl_nn_loss_ref (const PlMlp   *model,
                const float   *x,
                const guint32 *y,
                guint          n)
{
  double *z[PL_MLP_MAX_LAYERS + 1], *a[PL_MLP_MAX_LAYERS + 1];
  double loss = 0.0;

  alloc_ref (model, z, a);
  for (guint s = 0; s < n; s++)
    loss += forward_one_ref (model, x + (gsize) s * model->sizes[0], y[s], z, a);
  free_ref (model, z, a);

  return loss / n;
}

void
pl_nn_backward_ref (const PlMlp   *model,
                    const float   *x,
                    const guint32 *y,
                    guint          n,
                    double        *grad)
{
  double *z[PL_MLP_MAX_LAYERS + 1], *a[PL_MLP_MAX_LAYERS + 1];
  guint L = model->n_layers;
  guint wmax = max_width (model);
  g_autofree double *d = g_new0 (double, wmax);
  g_autofree double *dprev = g_new0 (double, wmax);
  g_autofree gsize *offset = g_new0 (gsize, L);

  for (guint i = 1; i < L; i++)
    offset[i] = offset[i - 1] + (gsize) model->sizes[i] * model->sizes[i - 1] + model->sizes[i];

  alloc_ref (model, z, a);
  memset (grad, 0, sizeof (double) * model->n_params);

  for (guint s = 0; s < n; s++)
    {
      forward_one_ref (model, x + (gsize) s * model->sizes[0], y[s], z, a);

      for (guint j = 0; j < model->sizes[L]; j++)
        d[j] = (a[L][j] - (j == y[s])) / n;

      for (guint i = L; i-- > 0;)
        {
          const PlLayer *l = &model->layers[i];
          double *gw = grad + offset[i];
          double *gb = gw + (gsize) l->n_out * l->n_in;

          for (guint o = 0; o < l->n_out; o++)
            {
              for (guint k = 0; k < l->n_in; k++)
                gw[(gsize) o * l->n_in + k] += d[o] * a[i][k];
              gb[o] += d[o];
            }

          if (i == 0)
            break;
          for (guint k = 0; k < l->n_in; k++)
            {
              double acc = 0.0;

              for (guint o = 0; o < l->n_out; o++)
                acc += d[o] * l->w[(gsize) o * l->n_in + k];
              dprev[k] = acc * act_grad_ref (model->activation, z[i][k])
                         * model->layers[i - 1].neuron_mask[k];
            }
          memcpy (d, dprev, sizeof (double) * l->n_in);
        }
    }

  free_ref (model, z, a);
}

double
pl_nn_distill_loss_ref (const PlMlp   *model,
                        const float   *x,
                        const guint32 *y,
                        const float   *teacher,
                        guint          n,
                        double         temperature,
                        double         alpha)
{
  double *z[PL_MLP_MAX_LAYERS + 1], *a[PL_MLP_MAX_LAYERS + 1];
  guint L = model->n_layers, m = model->sizes[L];
  double loss = 0.0;

  alloc_ref (model, z, a);
  for (guint s = 0; s < n; s++)
    {
      double ce = forward_one_ref (model, x + (gsize) s * model->sizes[0], y[s], z, a);
      double zmax = -INFINITY, sum = 0.0, kl = 0.0;

      for (guint j = 0; j < m; j++)
        zmax = MAX (zmax, z[L][j] / temperature);
      for (guint j = 0; j < m; j++)
        sum += exp (z[L][j] / temperature - zmax);
      for (guint j = 0; j < m; j++)
        {
          double qt = teacher[(gsize) s * m + j];
          double log_qs = z[L][j] / temperature - zmax - log (sum);

          if (qt > 0.0)
            kl += qt * (log (qt) - log_qs);
        }
      loss += (1.0 - alpha) * ce + alpha * temperature * temperature * kl;
    }
  free_ref (model, z, a);

  return loss / n;
}
