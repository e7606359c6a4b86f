#define G_LOG_DOMAIN "pl-learned"

#include "config.h"

#include "pl-learned.h"

#include <cblas.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pl-nn.h"
#include "pl-rng.h"
#include "pl-train.h"

#define PREDICT_CHUNK 4096

/* ---- measuring the loss change of removing one weight ------------------------------------ */

static inline float
activate (PlActivation a,
          float        z)
{
  switch (a)
    {
    case PL_ACTIVATION_RELU:
      return z > 0.0f ? z : 0.0f;
    case PL_ACTIVATION_TANH:
      return tanhf (z);
    case PL_ACTIVATION_SIGMOID:
      return 1.0f / (1.0f + expf (-z));
    default:
      g_assert_not_reached ();
    }
}

/* Cross-entropy of one row of logits, in double. */
static double
cross_entropy (const float *logits,
               guint        m,
               guint32      y)
{
  double zmax = -INFINITY, sum = 0.0;

  for (guint j = 0; j < m; j++)
    zmax = MAX (zmax, logits[j]);
  for (guint j = 0; j < m; j++)
    sum += exp (logits[j] - zmax);

  return -(logits[y] - zmax - log (sum));
}

typedef struct {
  const PlMlp *model;
  guint        n;
  float       *z[PL_MLP_MAX_LAYERS + 1];   /* z[i + 1]: layer i's pre-activations (n, n_out) */
  const float *a[PL_MLP_MAX_LAYERS + 1];   /* a[0] = x; a[i + 1]: layer i's output, hidden */
  double      *loss;                       /* (n) per-sample cross-entropy */
  float       *block;
  float       *buf[2];                     /* (n, max width) */
  guint32     *rows;                       /* (n) affected samples */
  float       *dz;                         /* (n) */
} Cache;

static void
cache_init (Cache         *c,
            const PlMlp   *model,
            const float   *x,
            const guint32 *y,
            guint          n)
{
  guint L = model->n_layers, wmax = 0;
  gsize total = 0;
  float *p;

  memset (c, 0, sizeof *c);
  c->model = model;
  c->n = n;
  for (guint i = 0; i <= L; i++)
    wmax = MAX (wmax, model->sizes[i]);
  for (guint i = 1; i <= L; i++)
    total += 2 * (gsize) n * model->sizes[i];
  total += 2 * (gsize) n * wmax + n;
  c->block = g_new (float, total);
  c->loss = g_new (double, n);
  c->rows = g_new (guint32, n);

  p = c->block;
  c->a[0] = x;
  for (guint i = 0; i < L; i++)
    {
      const PlLayer *l = &model->layers[i];
      float *z = c->z[i + 1] = p;
      float *a = p + (gsize) n * l->n_out;

      p += 2 * (gsize) n * l->n_out;
      /* z (n, n_out) = a (n, n_in) · Wᵀ + b */
      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, n, l->n_out, l->n_in,
                   1.0f, c->a[i], l->n_in, l->w, l->n_in, 0.0f, z, l->n_out);
      for (guint s = 0; s < n; s++)
        for (guint o = 0; o < l->n_out; o++)
          z[(gsize) s * l->n_out + o] += l->b[o];
      if (i + 1 < L)
        for (gsize k = 0; k < (gsize) n * l->n_out; k++)
          a[k] = activate (model->activation, z[k]) * l->neuron_mask[k % l->n_out];
      c->a[i + 1] = a;
    }
  c->buf[0] = p;
  c->buf[1] = p + (gsize) n * wmax;
  c->dz = c->buf[1] + (gsize) n * wmax;

  for (guint s = 0; s < n; s++)
    c->loss[s] = cross_entropy (c->z[L] + (gsize) s * model->sizes[L], model->sizes[L], y[s]);
}

static void
cache_clear (Cache *c)
{
  g_free (c->block);
  g_free (c->loss);
  g_free (c->rows);
}

/* The summed change of the per-sample losses when the pre-activations of layer q (0-based)
 * of the m samples rows[] become zq (m, n_out of layer q), gathered. Uses both buffers. */
static double
loss_change_from (Cache         *c,
                  guint          q,
                  float         *zq,
                  guint          m,
                  const guint32 *y)
{
  const PlMlp *model = c->model;
  guint L = model->n_layers;
  float *z = zq;
  double change = 0.0;

  for (guint i = q; i + 1 < L; i++)
    {
      const PlLayer *l = &model->layers[i];
      const PlLayer *next = &model->layers[i + 1];
      float *a = z == c->buf[0] ? c->buf[1] : c->buf[0];
      float *zn = z;

      for (guint s = 0; s < m; s++)
        for (guint o = 0; o < l->n_out; o++)
          a[(gsize) s * l->n_out + o] = activate (model->activation, z[(gsize) s * l->n_out + o])
                                        * l->neuron_mask[o];
      /* the next pre-activations overwrite z, which is no longer needed */
      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, m, next->n_out, next->n_in,
                   1.0f, a, next->n_in, next->w, next->n_in, 0.0f, zn, next->n_out);
      for (guint s = 0; s < m; s++)
        for (guint o = 0; o < next->n_out; o++)
          zn[(gsize) s * next->n_out + o] += next->b[o];
      z = zn;
    }

  for (guint s = 0; s < m; s++)
    change += cross_entropy (z + (gsize) s * model->sizes[L], model->sizes[L], y[c->rows[s]])
              - c->loss[c->rows[s]];

  return change;
}

/* Removing weight (o, k) of layer l. */
static double
measure_one (Cache         *c,
             const guint32 *y,
             guint          l,
             guint          o,
             guint          k)
{
  const PlMlp *model = c->model;
  const PlLayer *layer = &model->layers[l];
  guint L = model->n_layers, n = c->n, m = 0;
  float w = layer->w[(gsize) o * layer->n_in + k];
  const float *in = c->a[l];
  float *z0 = c->buf[0];

  if (w == 0.0f)
    return 0.0;

  if (l + 1 == L)
    {
      /* the output layer: only logit o of the samples with a nonzero input k changes */
      guint nout = layer->n_out;

      for (guint s = 0; s < n; s++)
        if (in[(gsize) s * layer->n_in + k] != 0.0f)
          {
            memcpy (z0 + (gsize) m * nout, c->z[l + 1] + (gsize) s * nout, sizeof (float) * nout);
            z0[(gsize) m * nout + o] -= w * in[(gsize) s * layer->n_in + k];
            c->rows[m++] = s;
          }
      return loss_change_from (c, l, z0, m, y) / n;
    }
  else
    {
      /* neuron o of layer l changes on the samples whose activation moves; the next layer's
       * pre-activations move by Δa·W_{l+1}[:, o], and everything above is recomputed */
      const PlLayer *next = &model->layers[l + 1];
      guint nn = next->n_out;

      for (guint s = 0; s < n; s++)
        {
          float x = in[(gsize) s * layer->n_in + k];
          float zo, a_new, da;

          if (x == 0.0f)
            continue;
          zo = c->z[l + 1][(gsize) s * layer->n_out + o];
          a_new = activate (model->activation, zo - w * x) * layer->neuron_mask[o];
          da = a_new - c->a[l + 1][(gsize) s * layer->n_out + o];
          if (da == 0.0f)
            continue;
          memcpy (z0 + (gsize) m * nn, c->z[l + 2] + (gsize) s * nn, sizeof (float) * nn);
          for (guint j = 0; j < nn; j++)
            z0[(gsize) m * nn + j] += da * next->w[(gsize) j * next->n_in + o];
          c->rows[m++] = s;
        }
      return loss_change_from (c, l + 1, z0, m, y) / n;
    }
}

/* Layer, row and column of flat parameter index @k (a weight). */
static void
locate (const PlMlp *model,
        gsize        k,
        guint       *layer,
        guint       *o,
        guint       *col)
{
  gsize off = 0;

  for (guint i = 0; i < model->n_layers; i++)
    {
      const PlLayer *l = &model->layers[i];
      gsize nw = (gsize) l->n_out * l->n_in;

      if (k < off + nw)
        {
          *layer = i;
          *o = (guint) ((k - off) / l->n_in);
          *col = (guint) ((k - off) % l->n_in);
          return;
        }
      g_return_if_fail (k >= off + nw + l->n_out);   /* a bias is not a weight */
      off += nw + l->n_out;
    }
  g_return_if_reached ();
}

void
pl_learned_measure (const PlMlp    *model,
                    const float    *x,
                    const guint32  *y,
                    guint           n,
                    const gsize    *weights,
                    guint           n_weights,
                    double         *delta)
{
  Cache c;

  g_return_if_fail (model != NULL && x != NULL && y != NULL && n > 0);

  cache_init (&c, model, x, y, n);
  for (guint j = 0; j < n_weights; j++)
    {
      guint l = 0, o = 0, k = 0;

      locate (model, weights[j], &l, &o, &k);
      delta[j] = measure_one (&c, y, l, o, k);
    }
  cache_clear (&c);
}

/* ---- features ---------------------------------------------------------------------------- */

void
pl_learned_features (const PlMlp    *model,
                     const PlScores *grad_abs,
                     const float    *mean_grad,
                     float          *features)
{
  const guint F = PL_LEARNED_N_FEATURES;
  double sum[PL_LEARNED_N_FEATURES] = { 0 }, sq[PL_LEARNED_N_FEATURES] = { 0 };
  double eps[3] = { 0 }, mean[PL_LEARNED_N_FEATURES], sd[PL_LEARNED_N_FEATURES];
  gsize kept = 0, row = 0;
  guint L = model->n_layers;

  g_return_if_fail (!grad_abs->per_neuron && mean_grad != NULL);

  /* log(x + ε) with ε a thousandth of the mean over the kept weights: no −∞, and values far
   * below the typical one stay ordered */
  for (guint i = 0; i < L; i++)
    {
      const PlLayer *l = &model->layers[i];
      const float *g = mean_grad + (l->w - model->params);
      gsize nw = (gsize) l->n_out * l->n_in;

      for (gsize k = 0; k < nw; k++)
        if (l->w_mask[k] != 0.0f)
          {
            eps[0] += fabsf (l->w[k]);
            eps[1] += grad_abs->layer[i][k];
            eps[2] += fabsf (l->w[k] * g[k]);
            kept++;
          }
    }
  for (guint f = 0; f < 3; f++)
    eps[f] = kept > 0 && eps[f] > 0.0 ? 1e-3 * eps[f] / kept : 1e-12;

  for (guint i = 0; i < L; i++)
    {
      const PlLayer *l = &model->layers[i];
      const PlLayer *next = i + 1 < L ? &model->layers[i + 1] : NULL;
      const float *g = mean_grad + (l->w - model->params);
      g_autofree guint *fan_in = g_new0 (guint, l->n_out);
      g_autofree guint *fan_out = g_new0 (guint, l->n_out);

      for (guint o = 0; o < l->n_out; o++)
        for (guint k = 0; k < l->n_in; k++)
          fan_in[o] += l->w_mask[(gsize) o * l->n_in + k] != 0.0f;
      if (next != NULL)
        for (guint j = 0; j < next->n_out; j++)
          for (guint o = 0; o < next->n_in; o++)
            fan_out[o] += next->w_mask[(gsize) j * next->n_in + o] != 0.0f;

      for (guint o = 0; o < l->n_out; o++)
        for (guint k = 0; k < l->n_in; k++, row++)
          {
            gsize at = (gsize) o * l->n_in + k;
            float *f = features + row * F;

            f[0] = (float) log (fabsf (l->w[at]) + eps[0]);
            f[1] = (float) log (grad_abs->layer[i][at] + eps[1]);
            f[2] = (float) log (fabsf (l->w[at] * g[at]) + eps[2]);
            f[3] = L > 1 ? (float) i / (L - 1) : 0.0f;
            f[4] = (float) log1p (fan_in[o]);
            f[5] = (float) log1p (fan_out[o]);
            if (l->w_mask[at] != 0.0f)
              for (guint j = 0; j < F; j++)
                {
                  sum[j] += f[j];
                  sq[j] += (double) f[j] * f[j];
                }
          }
    }

  for (guint j = 0; j < F; j++)
    {
      mean[j] = kept > 0 ? sum[j] / kept : 0.0;
      sd[j] = kept > 1 ? sqrt (MAX (sq[j] / kept - mean[j] * mean[j], 0.0)) : 0.0;
      if (!(sd[j] > 1e-6))
        sd[j] = 1.0;
    }
  for (gsize r = 0; r < row; r++)
    for (guint j = 0; j < F; j++)
      features[r * F + j] = (float) ((features[r * F + j] - mean[j]) / sd[j]);
}

/* ---- the predictor ----------------------------------------------------------------------- */

typedef struct {
  double  delta;
  guint   index;
} Ranked;

static int
compare_ranked (const void *a,
                const void *b)
{
  const Ranked *ra = a, *rb = b;

  if (ra->delta != rb->delta)
    return ra->delta < rb->delta ? -1 : 1;
  return (ra->index > rb->index) - (ra->index < rb->index);
}

gboolean
pl_learned_compute (PlScores               *scores,
                    const PlMlp            *model,
                    const PlDataset        *data,
                    const PlScoreOptions   *score_options,
                    const PlLearnedOptions *options,
                    GError                **error)
{
  const guint F = PL_LEARNED_N_FEATURES;
  g_autoptr(PlScores) grad_abs = NULL;
  g_autofree float *mean_grad = NULL;
  g_autofree float *features = NULL;
  g_autofree guint32 *perm = NULL;
  g_autofree float *ex = NULL;
  g_autofree guint32 *ey = NULL;
  g_autofree gsize *sampled = NULL;
  g_autofree gsize *sampled_row = NULL;
  g_autofree double *delta = NULL;
  g_autofree Ranked *ranked = NULL;
  g_autoptr(PlDataset) set = NULL;
  g_autoptr(PlMlp) predictor = NULL;
  g_autoptr(PlTrainer) trainer = NULL;
  g_autoptr(PlNnWork) work = NULL;
  PlTrainConfig tc;
  PlRng rng;
  gsize n_weights = pl_mlp_n_weights (model), off = 0, row0 = 0;
  guint n_eval, per_layer, n_sampled = 0, n_bins;
  guint sizes[4];

  g_return_val_if_fail (scores != NULL && model != NULL && data != NULL && options != NULL, FALSE);

  /* the measurement batch: the first eval_samples of a seeded permutation */
  pl_rng_init (&rng, options->seed ^ G_GUINT64_CONSTANT (0x6c6561726e6564));
  perm = g_new (guint32, data->n);
  for (guint s = 0; s < data->n; s++)
    perm[s] = s;
  pl_rng_shuffle (&rng, perm, data->n);
  n_eval = MIN (MAX (options->eval_samples, 1), data->n);
  ex = g_new (float, (gsize) n_eval * data->n_features);
  ey = g_new (guint32, n_eval);
  for (guint s = 0; s < n_eval; s++)
    {
      memcpy (ex + (gsize) s * data->n_features, data->x + (gsize) perm[s] * data->n_features,
              sizeof (float) * data->n_features);
      ey[s] = data->y[perm[s]];
    }

  /* ḡ, the gradient of the batch's mean loss: a feature (|w·ḡ|) and the control variate */
  mean_grad = g_new0 (float, model->n_params);
  {
    g_autoptr(PlNnWork) w = pl_nn_work_new (model, MIN (1024, n_eval));

    for (guint s = 0; s < n_eval; s += 1024)
      {
        guint n = MIN (1024, n_eval - s);

        pl_nn_forward (model, w, ex + (gsize) s * data->n_features, n);
        pl_nn_backward (model, w, ey + s, n, 1.0f / n_eval, TRUE, mean_grad);
      }
  }

  grad_abs = pl_scores_compute (model, PL_SCORE_GRADIENT, data, score_options, error);
  if (grad_abs == NULL)
    return FALSE;
  features = g_new (float, n_weights * F);
  pl_learned_features (model, grad_abs, mean_grad, features);

  /* the same number of kept weights from every layer, without replacement */
  per_layer = (options->n_samples + model->n_layers - 1) / model->n_layers;
  sampled = g_new (gsize, (gsize) per_layer * model->n_layers);
  sampled_row = g_new (gsize, (gsize) per_layer * model->n_layers);
  for (guint i = 0; i < model->n_layers; i++)
    {
      const PlLayer *l = &model->layers[i];
      gsize nw = (gsize) l->n_out * l->n_in, kept = 0;
      g_autofree guint32 *idx = g_new (guint32, MAX (nw, 1));

      for (gsize k = 0; k < nw; k++)
        if (l->w_mask[k] != 0.0f)
          idx[kept++] = (guint32) k;
      for (gsize j = 0; j < MIN (kept, per_layer); j++)
        {
          gsize r = j + pl_rng_below (&rng, kept - j);
          guint32 t = idx[j];

          idx[j] = idx[r];
          idx[r] = t;
          sampled[n_sampled] = off + idx[j];
          sampled_row[n_sampled] = row0 + idx[j];
          n_sampled++;
        }
      off += nw + l->n_out;
      row0 += nw;
    }

  if (n_sampled < 2)
    {
      /* nothing to learn from: fall back on |w| */
      for (guint i = 0; i < model->n_layers; i++)
        for (gsize k = 0; k < scores->n[i]; k++)
          scores->layer[i][k] = fabsf (model->layers[i].w[k]);
      return TRUE;
    }

  delta = g_new (double, n_sampled);
  pl_learned_measure (model, ex, ey, n_eval, sampled, n_sampled, delta);

  /* The control variate: removing w changes the batch's loss by −ḡ·w + ½·h·w² + …, with ḡ
   * the batch's gradient. Over the whole data ḡ averages to about 0 at a trained model, but on
   * a batch of a few thousand samples its noise dominates the change of small weights; adding
   * ḡ·w back keeps the part that does not average out. */
  for (guint j = 0; j < n_sampled; j++)
    delta[j] += (double) mean_grad[sampled[j]] * model->params[sampled[j]];

  /* classes: equal-count bins of the measured change */
  n_bins = CLAMP (options->n_bins, 2, n_sampled);
  ranked = g_new (Ranked, n_sampled);
  for (guint j = 0; j < n_sampled; j++)
    ranked[j] = (Ranked) { delta[j], j };
  qsort (ranked, n_sampled, sizeof (Ranked), compare_ranked);
  set = pl_dataset_new (n_sampled, F, n_bins);
  for (guint r = 0; r < n_sampled; r++)
    {
      guint j = ranked[r].index;

      memcpy (set->x + (gsize) j * F, features + sampled_row[j] * F, sizeof (float) * F);
      set->y[j] = (guint32) ((guint64) r * n_bins / n_sampled);
    }

  sizes[0] = F;
  sizes[1] = sizes[2] = MAX (options->hidden, 1);
  sizes[3] = n_bins;
  predictor = pl_mlp_new (sizes, 3, PL_ACTIVATION_RELU);
  pl_mlp_init (predictor, options->seed + 1);
  pl_train_config_init (&tc);
  tc.epochs = MAX (options->epochs, 1);
  tc.batch_size = MIN (128, n_sampled);
  tc.optimizer = PL_OPTIMIZER_ADAM;
  tc.lr = 3e-3;
  tc.seed = options->seed + 2;
  trainer = pl_trainer_new (predictor, &tc);
  if (!pl_trainer_run (trainer, set, NULL, NULL, NULL, NULL, error))
    return FALSE;

  /* the score: the expected class, in (0, 1) */
  work = pl_nn_work_new (predictor, PREDICT_CHUNK);
  row0 = 0;
  for (guint i = 0; i < model->n_layers; row0 += scores->n[i], i++)
    for (gsize start = 0; start < scores->n[i]; start += PREDICT_CHUNK)
      {
        guint n = (guint) MIN (PREDICT_CHUNK, scores->n[i] - start);
        const float *p = pl_nn_forward (predictor, work, features + (row0 + start) * F, n);

        for (guint s = 0; s < n; s++)
          {
            double e = 0.0;

            for (guint k = 0; k < n_bins; k++)
              e += p[(gsize) s * n_bins + k] * (k + 0.5);
            scores->layer[i][start + s] = (float) (e / n_bins);
          }
      }

  return TRUE;
}
