#define G_LOG_DOMAIN "pl-conv-preview"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pl-conv-preview.h"
#include "pl-error.h"
#include "pl-preview.h"
#include "pl-prune.h"
#include "pl-score.h"
#include "pl-team.h"

#define BLOCK 256   /* samples per pl_conv_forward of the conv pass */

typedef struct {
  float  score;
  guint  layer;   /* parametrised layer: the conv layers, then the head's */
  gsize  index;   /* within the layer's weights */
} Candidate;

struct _PlConvPreview {
  PlConvNet       *net;           /* owned copy; its conv masks follow the preview's */
  float           *orig_masks;    /* owned: the conv masks as given (n_params) */
  float           *orig_params;   /* owned: the conv parameters as given, masks applied */
  PlDataset       *eval;          /* owned copy */
  PlDataset       *features;      /* owned: the flattened conv features of eval, (n, head in) */
  PlScores        *head_scores;   /* owned */
  PlPreview       *head;          /* owned: the head's preview on features; NULL when stale */
  PlTeam          *team;
  PlConvWork     **work;          /* owned: one per thread */
  guint            threads;
  gboolean         allow_empty;

  gsize            weights, conv_weights, head_weights;
  gsize            pruned0, conv_pruned0, head_pruned0;
  gsize            n_cand;
  gsize           *conv_at;       /* owned: per conv candidate in order, its offset in params */
  guint32         *conv_prefix;   /* owned: (n_cand + 1): conv candidates among the first m */
  gsize            conv_applied;  /* conv candidates pruned in net now */
  gsize            conv_features; /* the conv_applied the features were computed for;
                                   * G_MAXSIZE when there are none */
};

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

/* Half to even, as Python's round() and pl_conv_prune_magnitude(). */
static gsize
round_even (double x)
{
  double r = nearbyint (x);

  return (gsize) MAX (r, 0.0);
}

void
pl_conv_preview_free (PlConvPreview *self)
{
  if (self == NULL)
    return;

  if (self->work != NULL)
    for (guint t = 0; t < self->threads; t++)
      pl_conv_work_free (self->work[t]);
  g_free (self->work);
  if (self->team != NULL)
    pl_team_free (self->team);
  pl_preview_free (self->head);
  pl_scores_free (self->head_scores);
  pl_dataset_free (self->features);
  pl_dataset_free (self->eval);
  pl_conv_net_free (self->net);
  g_free (self->orig_masks);
  g_free (self->orig_params);
  g_free (self->conv_at);
  g_free (self->conv_prefix);
  g_free (self);
}

/* One parametrised layer of the network as the ranking sees it. */
typedef struct {
  const float *w;
  const float *mask;
  gsize        n;
  gsize        offset;   /* conv: of w in net->params; head: in the head's weight order */
  gboolean     conv;
} Layer;

PlConvPreview *
pl_conv_preview_new (const PlConvNet  *net,
                     const float      *scores,
                     gboolean          allow_empty,
                     const PlDataset  *eval,
                     guint             threads,
                     GError          **error)
{
  g_autoptr(PlConvPreview) self = NULL;
  g_autofree Candidate *cand = NULL;
  Layer layers[PL_CONV_MAX_LAYERS + PL_MLP_MAX_LAYERS];
  guint n_layers = 0;
  gsize at = 0, total = 0, n_conv_cand = 0;

  g_return_val_if_fail (net != NULL && eval != NULL && threads >= 1, NULL);

  if (eval->n == 0 || eval->n_features != pl_conv_net_n_inputs (net)
      || eval->n_classes > pl_conv_net_n_outputs (net))
    {
      g_set_error (error, PL_TRAIN_ERROR, PL_TRAIN_ERROR_MISMATCH,
                   _("the network takes %u inputs and has %u classes; the evaluation data has %u samples of %u features and %u classes"),
                   pl_conv_net_n_inputs (net), pl_conv_net_n_outputs (net), eval->n,
                   eval->n_features, eval->n_classes);
      return NULL;
    }

  self = g_new0 (PlConvPreview, 1);
  self->net = pl_conv_net_copy (net);
  pl_conv_net_apply_masks (self->net);
  self->orig_masks = g_memdup2 (self->net->masks, sizeof (float) * MAX (self->net->n_params, 1));
  self->orig_params = g_memdup2 (self->net->params, sizeof (float) * MAX (self->net->n_params, 1));
  self->eval = pl_dataset_new (eval->n, eval->n_features, eval->n_classes);
  memcpy (self->eval->x, eval->x, sizeof (float) * eval->n * eval->n_features);
  memcpy (self->eval->y, eval->y, sizeof (guint32) * eval->n);
  self->features = pl_dataset_new (eval->n, self->net->head->sizes[0], eval->n_classes);
  memcpy (self->features->y, eval->y, sizeof (guint32) * eval->n);
  self->threads = MIN (threads, PL_TEAM_MAX_THREADS);
  self->team = pl_team_new (self->threads);
  self->work = g_new0 (PlConvWork *, self->threads);
  for (guint t = 0; t < self->threads; t++)
    self->work[t] = pl_conv_work_new (self->net, BLOCK);
  self->allow_empty = allow_empty;
  self->conv_features = G_MAXSIZE;

  /* the head's scores: its magnitudes, or its part of @scores */
  self->head_scores = pl_scores_compute (self->net->head, PL_SCORE_MAGNITUDE, NULL, NULL, error);
  if (self->head_scores == NULL)
    return NULL;

  for (guint i = 0; i < self->net->n_layers; i++)
    {
      const PlConvLayer *l = &self->net->layers[i];

      if (l->kind != PL_CONV_LAYER_CONV)
        continue;
      layers[n_layers++] = (Layer) { l->w, l->w_mask, (gsize) l->c_out * l->c_in * l->k * l->k,
                                     (gsize) (l->w - self->net->params), TRUE };
    }
  for (guint i = 0; i < self->net->head->n_layers; i++)
    {
      const PlLayer *l = &self->net->head->layers[i];

      layers[n_layers++] = (Layer) { l->w, l->w_mask, (gsize) l->n_out * l->n_in, 0, FALSE };
    }
  for (guint i = 0; i < n_layers; i++)
    total += layers[i].n;

  /* Candidates: pl_conv_prune_magnitude's rule (pl-conv-prune.c, prune_range) on the network
   * as given; ranking them once is what makes every run a prefix. */
  cand = g_new (Candidate, MAX (total, 1));
  for (guint i = 0, head_i = 0; i < n_layers; i++)
    {
      const Layer *l = &layers[i];
      const float *s = scores != NULL ? scores + at : NULL;
      gsize keep = G_MAXSIZE;

#define SCORE(k) (s != NULL ? s[k] : fabsf (l->w[k]))
      if (!allow_empty)
        for (gsize k = 0; k < l->n; k++)
          if (l->mask[k] != 0.0f && (keep == G_MAXSIZE || SCORE (k) >= SCORE (keep)))
            keep = k;
      for (gsize k = 0; k < l->n; k++)
        {
          if (l->mask[k] == 0.0f)
            {
              self->pruned0++;
              if (l->conv)
                self->conv_pruned0++;
            }
          else if (k != keep)
            {
              cand[self->n_cand++] = (Candidate) { SCORE (k), i, k };
              n_conv_cand += l->conv;
            }
        }
      if (!l->conv)
        {
          /* the head's preview ranks the same values: its part of the order is ours */
          if (s != NULL)
            memcpy (self->head_scores->layer[head_i], s, sizeof (float) * l->n);
          head_i++;
        }
#undef SCORE
      if (l->conv)
        self->conv_weights += l->n;
      at += l->n;
    }
  self->weights = total;
  self->head_weights = total - self->conv_weights;
  self->head_pruned0 = self->pruned0 - self->conv_pruned0;

  qsort (cand, self->n_cand, sizeof (Candidate), compare_candidates);
  self->conv_at = g_new (gsize, MAX (n_conv_cand, 1));
  self->conv_prefix = g_new (guint32, self->n_cand + 1);
  self->conv_prefix[0] = 0;
  for (gsize j = 0, c = 0; j < self->n_cand; j++)
    {
      const Layer *l = &layers[cand[j].layer];

      if (l->conv)
        self->conv_at[c++] = l->offset + cand[j].index;
      self->conv_prefix[j + 1] = (guint32) c;
    }

  return g_steal_pointer (&self);
}

/* Sets the conv masks (and weights) of self->net to the first @k conv candidates pruned. The
 * filter masks stay those of the network as given: a filter that dies on the way is read by
 * no kept weight, so its map does not matter. */
static void
set_conv_masks (PlConvPreview *self,
                gsize          k)
{
  PlConvNet *net = self->net;

  for (gsize j = k; j < self->conv_applied; j++)
    {
      gsize p = self->conv_at[j];

      net->masks[p] = self->orig_masks[p];
      net->params[p] = self->orig_params[p];
    }
  for (gsize j = self->conv_applied; j < k; j++)
    {
      gsize p = self->conv_at[j];

      net->masks[p] = 0.0f;
      net->params[p] = 0.0f;
    }
  self->conv_applied = k;
}

typedef struct {
  PlConvPreview *self;
  GCancellable  *cancellable;
  gint           cancelled;
} ConvPass;

static void
conv_pass_member (guint    index,
                  guint    n_threads,
                  gpointer data)
{
  ConvPass *pass = data;
  PlConvPreview *self = pass->self;
  guint n = self->eval->n;
  guint first = (guint) ((guint64) n * index / n_threads);
  guint last = (guint) ((guint64) n * (index + 1) / n_threads);
  guint n_in = self->eval->n_features, n_feat = self->features->n_features;

  for (guint s = first; s < last; s += BLOCK)
    {
      guint m = MIN (BLOCK, last - s);

      if (g_cancellable_is_cancelled (pass->cancellable))
        {
          g_atomic_int_set (&pass->cancelled, 1);
          return;
        }
      pl_conv_forward (self->net, self->work[index], self->eval->x + (gsize) s * n_in, m);
      memcpy (self->features->x + (gsize) s * n_feat,
              pl_conv_work_activation (self->work[index], self->net->n_layers - 1),
              sizeof (float) * m * n_feat);
    }
}

/* The conv features for the conv masks in self->net, and a new head preview on them. */
static gboolean
recompute_conv (PlConvPreview  *self,
                GCancellable   *cancellable,
                GError        **error)
{
  PlConvNet *net = self->net;
  ConvPass pass = { self, cancellable, 0 };
  g_autoptr(PlPreviewInputs) inputs = NULL;
  PlPruneSpec spec;

  g_clear_pointer (&self->head, pl_preview_free);
  self->conv_features = G_MAXSIZE;
  pl_team_run (self->team, conv_pass_member, &pass);
  if (g_atomic_int_get (&pass.cancelled))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CANCELLED, _("The preview was cancelled"));
      return FALSE;
    }

  inputs = pl_preview_inputs_new (self->features, 0, self->threads);
  pl_prune_spec_init (&spec, PL_SCOPE_GLOBAL, FALSE, 0.0);
  spec.allow_empty = self->allow_empty;
  self->head = pl_preview_new_shared (net->head, self->head_scores, &spec, inputs, self->threads, error);
  if (self->head == NULL)
    return FALSE;
  self->conv_features = self->conv_applied;
  return TRUE;
}

gboolean
pl_conv_preview_run (PlConvPreview        *self,
                     double                sparsity,
                     GCancellable         *cancellable,
                     PlConvPreviewResult  *result,
                     GError              **error)
{
  PlPreviewResult hr;
  gsize target, m, k, head_m;

  g_return_val_if_fail (self != NULL && result != NULL, FALSE);
  g_return_val_if_fail (sparsity >= 0.0 && sparsity <= 1.0, FALSE);

  /* pl_conv_prune_magnitude: the first round(s·n) − pruned candidates of the order */
  target = round_even (sparsity * (double) self->weights);
  m = target <= self->pruned0 ? 0 : MIN (target - self->pruned0, self->n_cand);
  k = self->conv_prefix[m];
  head_m = m - k;

  if (k != self->conv_features)
    {
      set_conv_masks (self, k);
      if (!recompute_conv (self, cancellable, error))
        return FALSE;
      result->conv_recomputed = TRUE;
    }
  else
    result->conv_recomputed = FALSE;

  /* the head alone at the sparsity that prunes exactly its part of the prefix: its order is
   * ours restricted to it, so pl_prune_select picks the same weights; (a/b)·b rounds back to
   * the integer a */
  if (!pl_preview_run (self->head,
                       (double) (self->head_pruned0 + head_m) / (double) self->head_weights,
                       FALSE, &hr, error))
    return FALSE;

  result->value = sparsity;
  result->weights = self->weights;
  result->pruned = self->pruned0 + m;
  result->sparsity = (double) result->pruned / (double) self->weights;
  result->conv_weights = self->conv_weights;
  result->conv_pruned = self->conv_pruned0 + k;
  result->n = hr.n;
  result->n_correct = hr.n_correct;
  result->accuracy = hr.accuracy;
  result->loss = hr.loss;
  return TRUE;
}

void
pl_conv_preview_get_masks (PlConvPreview *self,
                           float         *conv_masks,
                           float         *head_masks)
{
  g_return_if_fail (self != NULL);

  if (conv_masks != NULL)
    memcpy (conv_masks, self->net->masks, sizeof (float) * self->net->n_params);
  if (head_masks != NULL)
    {
      if (self->head != NULL)
        pl_preview_get_masks (self->head, head_masks, NULL);
      else
        memcpy (head_masks, self->net->head->masks, sizeof (float) * self->net->head->n_params);
    }
}
