#define G_LOG_DOMAIN "pl-conv-prune"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pl-conv-prune.h"
#include "pl-error.h"

/* Half to even, as Python's round(). */
static gsize
round_even (double x)
{
  double r = nearbyint (x);

  return (gsize) MAX (r, 0.0);
}

/* One parametrised layer's weights and mask, and their scores (NULL: |w|). */
typedef struct {
  float       *w;
  float       *mask;
  gsize        n;
  const float *score;
} Weights;

static inline float
score_of (const Weights *l,
          gsize          k)
{
  return l->score != NULL ? l->score[k] : fabsf (l->w[k]);
}

static guint
collect (PlConvNet *net,
         Weights   *out)
{
  guint n = 0;

  for (guint i = 0; i < net->n_layers; i++)
    {
      PlConvLayer *l = &net->layers[i];

      if (l->kind == PL_CONV_LAYER_CONV)
        out[n++] = (Weights) { l->w, l->w_mask, (gsize) l->c_out * l->c_in * l->k * l->k, NULL };
    }
  for (guint i = 0; i < net->head->n_layers; i++)
    {
      PlLayer *l = &net->head->layers[i];

      out[n++] = (Weights) { l->w, l->w_mask, (gsize) l->n_out * l->n_in, NULL };
    }
  return n;
}

typedef struct {
  float  score;
  guint  layer;
  gsize  index;
} Candidate;

static int
compare_candidates (const void *pa,
                    const void *pb)
{
  const Candidate *a = pa, *b = pb;

  if (a->score != b->score)
    return a->score < b->score ? -1 : 1;
  if (a->layer != b->layer)
    return a->layer < b->layer ? -1 : 1;
  return a->index < b->index ? -1 : a->index > b->index;
}

/* Prunes the lowest of the kept weights of layers [first, last) to the target. */
static void
prune_range (Weights  *layers,
             guint     first,
             guint     last,
             double    sparsity,
             gboolean  allow_empty)
{
  g_autofree Candidate *c = NULL;
  gsize total = 0, pruned = 0, n_cand = 0, target;

  for (guint i = first; i < last; i++)
    total += layers[i].n;
  c = g_new (Candidate, MAX (total, 1));
  for (guint i = first; i < last; i++)
    {
      gsize keep = G_MAXSIZE;

      /* the layer's highest-scoring kept weight, the last among equal scores, stays */
      if (!allow_empty)
        for (gsize k = 0; k < layers[i].n; k++)
          if (layers[i].mask[k] != 0.0f
              && (keep == G_MAXSIZE || score_of (&layers[i], k) >= score_of (&layers[i], keep)))
            keep = k;
      for (gsize k = 0; k < layers[i].n; k++)
        {
          if (layers[i].mask[k] == 0.0f)
            pruned++;
          else if (k != keep)
            c[n_cand++] = (Candidate) { score_of (&layers[i], k), i, k };
        }
    }

  target = round_even (sparsity * total);
  if (target <= pruned)
    return;
  qsort (c, n_cand, sizeof (Candidate), compare_candidates);
  for (gsize j = 0; j < MIN (target - pruned, n_cand); j++)
    {
      layers[c[j].layer].mask[c[j].index] = 0.0f;
      layers[c[j].layer].w[c[j].index] = 0.0f;
    }
}

/* The parametrised layers of @net into @layers, with @scores (NULL: |w|) attached. */
static guint
collect_scored (PlConvNet   *net,
                const float *scores,
                Weights     *layers)
{
  gsize at = 0;
  guint n = collect (net, layers);

  if (scores != NULL)
    for (guint i = 0; i < n; i++)
      {
        layers[i].score = scores + at;
        at += layers[i].n;
      }
  return n;
}

void
pl_conv_prune_scored (PlConvNet   *net,
                      const float *scores,
                      double       sparsity,
                      gboolean     global,
                      gboolean     allow_empty)
{
  Weights layers[PL_CONV_MAX_LAYERS + PL_MLP_MAX_LAYERS];
  guint n;

  g_return_if_fail (net != NULL && sparsity >= 0.0 && sparsity <= 1.0);

  n = collect_scored (net, scores, layers);
  if (global)
    prune_range (layers, 0, n, sparsity, allow_empty);
  else
    for (guint i = 0; i < n; i++)
      prune_range (layers, i, i + 1, sparsity, allow_empty);
  pl_conv_net_apply_masks (net);
}

void
pl_conv_prune_magnitude (PlConvNet *net,
                         double     sparsity,
                         gboolean   global,
                         gboolean   allow_empty)
{
  pl_conv_prune_scored (net, NULL, sparsity, global, allow_empty);
}

void
pl_conv_prune_scored_layer (PlConvNet   *net,
                            const float *scores,
                            guint        layer,
                            double       sparsity,
                            gboolean     allow_empty)
{
  Weights layers[PL_CONV_MAX_LAYERS + PL_MLP_MAX_LAYERS];
  guint n;

  g_return_if_fail (net != NULL && sparsity >= 0.0 && sparsity <= 1.0);

  n = collect_scored (net, scores, layers);
  g_return_if_fail (layer < n);
  prune_range (layers, layer, layer + 1, sparsity, allow_empty);
  pl_conv_net_apply_masks (net);
}

void
pl_conv_filter_norms (const PlConvNet *net,
                      guint            layer,
                      gboolean         l2,
                      double          *out)
{
  const PlConvLayer *l;
  gsize per;

  g_return_if_fail (net != NULL && layer < net->n_layers && out != NULL);
  l = &net->layers[layer];
  g_return_if_fail (l->kind == PL_CONV_LAYER_CONV);

  per = (gsize) l->c_in * l->k * l->k;
  for (guint o = 0; o < l->c_out; o++)
    {
      double s = 0.0;

      for (gsize t = 0; t < per; t++)
        {
          double w = l->w[o * per + t];

          s += l2 ? w * w : fabs (w);
        }
      out[o] = l2 ? sqrt (s) : s;
    }
}

/* Masks filter @o of conv layer @i and every weight that reads its map. */
static void
remove_filter (PlConvNet *net,
               guint      i,
               guint      o)
{
  PlConvLayer *l = &net->layers[i];
  gsize per = (gsize) l->c_in * l->k * l->k;
  PlConvLayer *next = NULL;

  for (gsize t = 0; t < per; t++)
    l->w_mask[o * per + t] = 0.0f;
  for (guint j = i + 1; j < net->n_layers && next == NULL; j++)
    if (net->layers[j].kind == PL_CONV_LAYER_CONV)
      next = &net->layers[j];

  if (next != NULL)
    {
      gsize kk = (gsize) next->k * next->k;

      for (guint q = 0; q < next->c_out; q++)
        for (gsize t = 0; t < kk; t++)
          next->w_mask[((gsize) q * next->c_in + o) * kk + t] = 0.0f;
    }
  else
    {
      PlLayer *d = &net->head->layers[0];
      const PlConvLayer *last = &net->layers[net->n_layers - 1];
      gsize hw = (gsize) last->h_out * last->w_out;

      for (guint q = 0; q < d->n_out; q++)
        for (gsize t = 0; t < hw; t++)
          d->w_mask[(gsize) q * d->n_in + o * hw + t] = 0.0f;
    }
}

void
pl_conv_filter_fpgm (const PlConvNet *net,
                     guint            layer,
                     double          *out)
{
  const PlConvLayer *l;
  gsize per;

  g_return_if_fail (net != NULL && layer < net->n_layers && out != NULL);
  l = &net->layers[layer];
  g_return_if_fail (l->kind == PL_CONV_LAYER_CONV);

  per = (gsize) l->c_in * l->k * l->k;
  for (guint j = 0; j < l->c_out; j++)
    {
      double g = 0.0;

      if (l->filter_mask[j] != 0.0f)
        for (guint i = 0; i < l->c_out; i++)
          {
            double d2 = 0.0;

            if (i == j || l->filter_mask[i] == 0.0f)
              continue;
            for (gsize t = 0; t < per; t++)
              {
                double d = (double) l->w[j * per + t] - l->w[i * per + t];

                d2 += d * d;
              }
            g += sqrt (d2);
          }
      out[j] = g;
    }
}

guint
pl_conv_prune_filters (PlConvNet *net,
                       double     sparsity,
                       gboolean   l2)
{
  return pl_conv_prune_filters_by (net, sparsity, l2 ? PL_CONV_FILTER_L2 : PL_CONV_FILTER_L1);
}

gboolean
pl_conv_channel_scores (const PlConvNet    *net,
                        guint               layer,
                        PlConvChannelScore  score,
                        const PlDataset    *calib,
                        guint               n_samples,
                        double             *out,
                        GError            **error)
{
  const PlConvLayer *l;
  g_autoptr(PlConvWork) work = NULL;
  g_autofree float *grad = NULL;
  g_autofree float *head_grad = NULL;
  guint n;
  gsize hw, w_off, b_off, per;

  g_return_val_if_fail (net != NULL && layer < net->n_layers && calib != NULL && out != NULL, FALSE);
  l = &net->layers[layer];
  g_return_val_if_fail (l->kind == PL_CONV_LAYER_CONV, FALSE);

  if (calib->n_features != (gsize) net->c * net->h * net->w || calib->n_classes > net->head->sizes[net->head->n_layers])
    {
      g_set_error (error, PL_TRAIN_ERROR, PL_TRAIN_ERROR_MISMATCH,
                   _("the calibration data’s %u features and %u classes do not fit the network"),
                   calib->n_features, calib->n_classes);
      return FALSE;
    }
  if (score == PL_CONV_CHANNEL_TAYLOR && net->activation != PL_ACTIVATION_RELU)
    {
      g_set_error_literal (error, PL_TRAIN_ERROR, PL_TRAIN_ERROR_MISMATCH,
                           _("the Taylor channel score needs ReLU activations"));
      return FALSE;
    }
  n = MIN (n_samples, calib->n);
  if (n == 0)
    {
      g_set_error_literal (error, PL_TRAIN_ERROR, PL_TRAIN_ERROR_MISMATCH,
                           _("no calibration samples"));
      return FALSE;
    }

  hw = (gsize) l->h_out * l->w_out;
  per = (gsize) l->c_in * l->k * l->k;
  w_off = (gsize) (l->w - net->params);
  b_off = (gsize) (l->b - net->params);
  memset (out, 0, sizeof (double) * l->c_out);
  /* one sample a pass: Taylor takes |·| per sample, and the others are cheap anyway */
  work = pl_conv_work_new (net, 1);
  if (score == PL_CONV_CHANNEL_TAYLOR)
    {
      grad = g_new (float, MAX (net->n_params, 1));
      head_grad = g_new (float, MAX (net->head->n_params, 1));
    }
  for (guint s = 0; s < n; s++)
    {
      const float *x = calib->x + (gsize) s * calib->n_features;

      pl_conv_forward (net, work, x, 1);
      if (score == PL_CONV_CHANNEL_TAYLOR)
        {
          pl_conv_backward (net, work, calib->y + s, 1, 1.0f, grad, head_grad);
          for (guint c = 0; c < l->c_out; c++)
            {
              double t = (double) l->b[c] * grad[b_off + c];

              for (gsize k = 0; k < per; k++)
                t += (double) l->w[c * per + k] * grad[w_off + c * per + k];
              out[c] += fabs (t / hw);
            }
        }
      else
        {
          const float *a = pl_conv_work_activation (work, layer);

          for (guint c = 0; c < l->c_out; c++)
            {
              double v = 0.0;

              for (gsize p = 0; p < hw; p++)
                v += score == PL_CONV_CHANNEL_APOZ ? (a[c * hw + p] == 0.0f) : a[c * hw + p];
              out[c] += v / hw;
            }
        }
    }
  for (guint c = 0; c < l->c_out; c++)
    {
      out[c] /= n;
      if (score == PL_CONV_CHANNEL_APOZ)
        out[c] = 1.0 - out[c];
    }
  if (score == PL_CONV_CHANNEL_TAYLOR)
    {
      double norm = 0.0;

      for (guint c = 0; c < l->c_out; c++)
        norm += out[c] * out[c];
      norm = sqrt (norm);
      if (norm > 0.0)
        for (guint c = 0; c < l->c_out; c++)
          out[c] /= norm;
    }
  return TRUE;
}

/* Removes the round(s·c_out) lowest-scoring live filters of conv layer @i. */
static guint
prune_layer (PlConvNet    *net,
             guint         i,
             double        sparsity,
             const double *score)
{
  PlConvLayer *l = &net->layers[i];
  guint dead = 0, target, removed = 0;

  for (guint o = 0; o < l->c_out; o++)
    dead += l->filter_mask[o] == 0.0f;
  target = (guint) MIN (round_even (sparsity * l->c_out), l->c_out - 1);
  while (dead < target)
    {
      guint best = G_MAXUINT;

      for (guint o = 0; o < l->c_out; o++)
        if (l->filter_mask[o] != 0.0f && (best == G_MAXUINT || score[o] < score[best]))
          best = o;
      remove_filter (net, i, best);
      l->filter_mask[best] = 0.0f;
      dead++;
      removed++;
    }
  return removed;
}

gint
pl_conv_prune_channels (PlConvNet          *net,
                        double              sparsity,
                        PlConvChannelScore  score,
                        const PlDataset    *calib,
                        guint               n_samples,
                        GError            **error)
{
  gint removed = 0;

  g_return_val_if_fail (net != NULL && sparsity >= 0.0 && sparsity <= 1.0 && calib != NULL, -1);

  pl_conv_net_apply_masks (net);
  for (guint i = 0; i < net->n_layers; i++)
    {
      g_autofree double *sc = NULL;

      if (net->layers[i].kind != PL_CONV_LAYER_CONV)
        continue;
      sc = g_new (double, net->layers[i].c_out);
      if (!pl_conv_channel_scores (net, i, score, calib, n_samples, sc, error))
        return -1;
      removed += (gint) prune_layer (net, i, sparsity, sc);
      pl_conv_net_apply_masks (net);
    }
  return removed;
}

/* Removes the round(s·c_out) live filters of conv layer @i lowest by @score, computed on the
 * network as it is. */
static guint
prune_layer_by (PlConvNet         *net,
                guint              i,
                double             sparsity,
                PlConvFilterScore  score)
{
  g_autofree double *norm = g_new (double, net->layers[i].c_out);

  if (score == PL_CONV_FILTER_FPGM)
    pl_conv_filter_fpgm (net, i, norm);
  else
    pl_conv_filter_norms (net, i, score == PL_CONV_FILTER_L2, norm);
  return prune_layer (net, i, sparsity, norm);
}

guint
pl_conv_prune_filters_by (PlConvNet         *net,
                          double             sparsity,
                          PlConvFilterScore  score)
{
  guint removed = 0;

  g_return_val_if_fail (net != NULL && sparsity >= 0.0 && sparsity <= 1.0, 0);

  pl_conv_net_apply_masks (net);
  for (guint i = 0; i < net->n_layers; i++)
    if (net->layers[i].kind == PL_CONV_LAYER_CONV)
      removed += prune_layer_by (net, i, sparsity, score);
  pl_conv_net_apply_masks (net);

  return removed;
}

guint
pl_conv_prune_filters_layer (PlConvNet         *net,
                             guint              layer,
                             double             sparsity,
                             PlConvFilterScore  score)
{
  guint removed;

  g_return_val_if_fail (net != NULL && sparsity >= 0.0 && sparsity <= 1.0, 0);
  g_return_val_if_fail (layer < net->n_layers && net->layers[layer].kind == PL_CONV_LAYER_CONV, 0);

  pl_conv_net_apply_masks (net);
  removed = prune_layer_by (net, layer, sparsity, score);
  pl_conv_net_apply_masks (net);
  return removed;
}
