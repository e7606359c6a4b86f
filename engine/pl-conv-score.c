/* pl-conv-score.c — unstructured weight scores of a convolutional network (pl-conv-score.h) */
#define G_LOG_DOMAIN "pl-conv-score"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pl-conv-score.h"
#include "pl-error.h"
#include "pl-rng.h"

/* One parametrised layer: its weights, mask, and where they sit in a gradient of the
 * network's layout (conv: PlConvNet.params, head: its PlMlp.params). */
typedef struct {
  const float *w;
  const float *mask;
  gsize        n;
  gboolean     head;
  gsize        offset;   /* of w in params (conv) or head->params */
} Slot;

static guint
collect (const PlConvNet *net,
         Slot            *out)
{
  guint n = 0;

  for (guint i = 0; i < net->n_layers; i++)
    {
      const PlConvLayer *l = &net->layers[i];

      if (l->kind == PL_CONV_LAYER_CONV)
        out[n++] = (Slot) { l->w, l->w_mask, (gsize) l->c_out * l->c_in * l->k * l->k, FALSE,
                            (gsize) (l->w - net->params) };
    }
  for (guint i = 0; i < net->head->n_layers; i++)
    {
      const PlLayer *l = &net->head->layers[i];

      out[n++] = (Slot) { l->w, l->w_mask, (gsize) l->n_out * l->n_in, TRUE,
                          (gsize) (l->w - net->head->params) };
    }
  return n;
}

gboolean
pl_conv_weight_score_supported (PlScoreKind kind)
{
  switch (kind)
    {
    case PL_SCORE_MAGNITUDE:
    case PL_SCORE_RANDOM:
    case PL_SCORE_GRADIENT:
    case PL_SCORE_TAYLOR:
    case PL_SCORE_FISHER:
    case PL_SCORE_LAMP:
    case PL_SCORE_SNIP:
      return TRUE;
    default:
      return FALSE;
    }
}

typedef struct {
  double v;
  gsize  index;
} Sorted;

static int
compare_sorted (const void *pa,
                const void *pb)
{
  const Sorted *a = pa, *b = pb;

  if (a->v != b->v)
    return a->v < b->v ? -1 : 1;
  return a->index < b->index ? -1 : a->index > b->index;
}

/* LAMP (Lee et al. 2021, eq. 2) within one layer, as pl-score.c's: ascending w² (equal ones by
 * index), score(u) = w_u² / Σ_{v≥u} w_v². */
static void
score_lamp (const Slot *s,
            float      *out)
{
  g_autofree Sorted *sw = g_new (Sorted, MAX (s->n, 1));
  double tail = 0.0;

  for (gsize k = 0; k < s->n; k++)
    {
      double w = s->mask[k] != 0.0f ? s->w[k] : 0.0;

      sw[k] = (Sorted) { w * w, k };
    }
  qsort (sw, s->n, sizeof *sw, compare_sorted);
  for (gsize u = s->n; u-- > 0;)
    {
      tail += sw[u].v;
      out[sw[u].index] = tail > 0.0 ? (float) (sw[u].v / tail) : 0.0f;
    }
}

/* The gradient statistics over the scored samples into @sum_abs, @sum_sq (per sample: Σ_s |g_s|,
 * Σ_s g_s²) or, for SNIP, @sum (Σ_s g_s, the mean loss's gradient times N), in the flat layout;
 * returns N. */
static guint
gradient_sums (const PlConvNet      *net,
               const PlDataset      *data,
               const PlScoreOptions *o,
               const Slot           *slots,
               guint                 n_slots,
               double               *sum_abs,
               double               *sum_sq,
               double               *sum)
{
  g_autofree guint32 *order = g_new (guint32, MAX (data->n, 1));
  g_autofree float *grad = g_new (float, MAX (net->n_params, 1));
  g_autofree float *head_grad = g_new (float, MAX (net->head->n_params, 1));
  guint batch = MIN (o->batch_size, data->n), n;
  /* the per-sample scores take |·| or ² of each sample's gradient: one sample a pass; SNIP
   * wants the gradient of the samples' summed loss: a batch a pass */
  guint step = sum != NULL ? batch : 1;
  g_autoptr(PlConvWork) work = pl_conv_work_new (net, step);
  g_autofree float *x = g_new (float, (gsize) step * data->n_features);
  g_autofree guint32 *y = g_new (guint32, step);
  PlRng rng;

  for (guint s = 0; s < data->n; s++)
    order[s] = s;
  pl_rng_init (&rng, o->seed);
  pl_rng_shuffle (&rng, order, data->n);
  n = (guint) MIN ((guint64) o->n_batches * batch, data->n);

  for (guint t0 = 0; t0 < n; t0 += step)
    {
      guint m = MIN (step, n - t0);
      gsize at = 0;

      for (guint i = 0; i < m; i++)
        {
          memcpy (x + (gsize) i * data->n_features, data->x + (gsize) order[t0 + i] * data->n_features,
                  sizeof (float) * data->n_features);
          y[i] = data->y[order[t0 + i]];
        }
      pl_conv_forward (net, work, x, m);
      pl_conv_backward (net, work, y, m, 1.0f, grad, head_grad);
      for (guint i = 0; i < n_slots; i++)
        {
          const float *g = (slots[i].head ? head_grad : grad) + slots[i].offset;

          for (gsize k = 0; k < slots[i].n; k++, at++)
            {
              double v = g[k];

              if (sum != NULL)
                sum[at] += v;
              else
                {
                  sum_abs[at] += fabs (v);
                  sum_sq[at] += v * v;
                }
            }
        }
    }
  return n;
}

gboolean
pl_conv_weight_scores (const PlConvNet       *net,
                       PlScoreKind            kind,
                       const PlDataset       *data,
                       const PlScoreOptions  *options,
                       float                 *out,
                       GError               **error)
{
  static const PlScoreOptions defaults = PL_SCORE_OPTIONS_INIT;
  const PlScoreOptions *o = options != NULL ? options : &defaults;
  Slot slots[PL_CONV_MAX_LAYERS + PL_MLP_MAX_LAYERS];
  guint n_slots;
  gsize total = 0, at = 0;

  g_return_val_if_fail (net != NULL && out != NULL, FALSE);

  if (!pl_conv_weight_score_supported (kind))
    {
      g_set_error (error, PL_SPEC_ERROR, PL_SPEC_ERROR_INVALID,
                   _("the score “%s” is not defined on the weights of a convolutional network; "
                     "use magnitude, random, gradient, taylor, fisher, lamp or snip"),
                   pl_score_info (kind)->name);
      return FALSE;
    }
  if (pl_score_info (kind)->needs_data)
    {
      if (data == NULL || data->n == 0 || o->n_batches == 0 || o->batch_size == 0)
        {
          g_set_error (error, PL_SPEC_ERROR, PL_SPEC_ERROR_INVALID,
                       _("the score “%s” needs data, and batches > 0 of size > 0"),
                       pl_score_info (kind)->name);
          return FALSE;
        }
      if (data->n_features != pl_conv_net_n_inputs (net) || data->n_classes > pl_conv_net_n_outputs (net))
        {
          g_set_error (error, PL_TRAIN_ERROR, PL_TRAIN_ERROR_MISMATCH,
                       _("the data have %u features and %u classes, the network takes %u inputs and has %u outputs"),
                       data->n_features, data->n_classes, pl_conv_net_n_inputs (net),
                       pl_conv_net_n_outputs (net));
          return FALSE;
        }
    }

  n_slots = collect (net, slots);
  for (guint i = 0; i < n_slots; i++)
    total += slots[i].n;

  switch (kind)
    {
    case PL_SCORE_MAGNITUDE:
      for (guint i = 0; i < n_slots; i++)
        for (gsize k = 0; k < slots[i].n; k++)
          out[at++] = slots[i].mask[k] != 0.0f ? fabsf (slots[i].w[k]) : 0.0f;
      break;

    case PL_SCORE_RANDOM:
      {
        PlRng rng;

        pl_rng_init (&rng, o->seed);
        for (gsize k = 0; k < total; k++)
          out[k] = (float) pl_rng_uniform (&rng);
      }
      break;

    case PL_SCORE_LAMP:
      for (guint i = 0; i < n_slots; i++)
        {
          score_lamp (&slots[i], out + at);
          at += slots[i].n;
        }
      break;

    case PL_SCORE_SNIP:
      {
        g_autofree double *sum = g_new0 (double, MAX (total, 1));
        double norm = 0.0;

        gradient_sums (net, data, o, slots, n_slots, NULL, NULL, sum);
        /* |g⊙w| over Σ_k |g_k·w_k|: the batch mean's 1/N cancels */
        for (guint i = 0; i < n_slots; i++)
          for (gsize k = 0; k < slots[i].n; k++, at++)
            {
              sum[at] = fabs (sum[at] * slots[i].w[k]);
              norm += sum[at];
            }
        for (gsize k = 0; k < total; k++)
          out[k] = norm > 0.0 ? (float) (sum[k] / norm) : 0.0f;
      }
      break;

    case PL_SCORE_GRADIENT:
    case PL_SCORE_TAYLOR:
    case PL_SCORE_FISHER:
      {
        g_autofree double *sum_abs = g_new0 (double, MAX (total, 1));
        g_autofree double *sum_sq = g_new0 (double, MAX (total, 1));
        guint n = gradient_sums (net, data, o, slots, n_slots, sum_abs, sum_sq, NULL);

        for (guint i = 0; i < n_slots; i++)
          for (gsize k = 0; k < slots[i].n; k++, at++)
            {
              double w = slots[i].w[k];

              out[at] = (float) (kind == PL_SCORE_GRADIENT ? sum_abs[at] / n
                                 : kind == PL_SCORE_TAYLOR ? fabs (w) * sum_abs[at] / n
                                 : 0.5 * w * w * sum_sq[at] / n);
            }
      }
      break;

    default:
      g_assert_not_reached ();
    }
  return TRUE;
}
