#define G_LOG_DOMAIN "pl-conv-preview"

#include "config.h"

#include <cblas.h>
#include <float.h>
#include <glib/gi18n-lib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pl-conv-preview.h"
#include "pl-conv-kernels.h"
#include "pl-error.h"
#include "pl-simd.h"
#include "pl-team.h"

#define BLOCK  256   /* samples per pl_conv_forward of the front layers */
#define CHUNK  256   /* samples per pass of the head's upper layers */
#define DBLOCK 32    /* samples per block of last_layer_delta */

/* What a run recomputes, from the least to the most (see pl-conv-preview.h). */
enum {
  LEVEL_DELTA,   /* changed weights only */
  LEVEL_H1,      /* the head's first layer from the features */
  LEVEL_FRONT,   /* changed channels of the front conv layer, their change through the last
                  * conv layer, every feature, H1 */
  LEVEL_LAST,    /* the last conv layer from its cached input, the features, H1 */
  LEVEL_ALL      /* the front conv layers too */
};

/* The phases of a run, timed per member for the debug log (G_MESSAGES_DEBUG=pl-conv-preview). */
enum {
  PHASE_FRONT_FULL,  /* the front layers in full */
  PHASE_LAST_FULL,   /* layer L in full, with the features */
  PHASE_HEAD_DELTA,  /* the head's weight changes into h1 */
  PHASE_LAST_DELTA,  /* layer L's weight changes, their channels' features */
  PHASE_H1_CHANNEL,  /* the changed channels' features through the head's first layer */
  PHASE_FRONT_DELTA, /* with front channels changed: L's weight changes */
  PHASE_FRONT_F,     /* the front channels again, pooled */
  PHASE_FRONT_PRODUCT, /* their change through L */
  PHASE_FEATURES,    /* every feature again */
  PHASE_H1_FULL,     /* the head's first layer in full */
  PHASE_HEAD_REST,   /* the upper head layers, loss */
  N_PHASES
};

static const char *const phase_names[N_PHASES] = {
  "front", "last", "head-delta", "last-delta", "h1-channels", "front-last-delta", "front-f", "front-product", "features", "h1",
  "head-rest"
};

typedef struct {
  float  score;
  guint  layer;   /* parametrised layer: the conv layers, then the head's */
  gsize  index;   /* within the layer's weights */
} Candidate;

/* A change of the last conv layer's weight (o, c, ky, kx), or of the head's first layer's
 * weight (row o, column c). */
typedef struct {
  guint  o, c, ky, kx;
  float  delta;
} Change;

struct _PlConvPreview {
  PlConvNet       *net;           /* owned copy: its masks and masked weights are the preview's */
  PlConvNet       *front;         /* owned: the layers before the last conv one and a 1-output
                                   * head; NULL when the last conv layer is the first layer */
  float           *orig_params;   /* owned: net->params as given, masks applied */
  float           *orig_head;     /* owned: net->head->params as given, masks applied */
  float           *orig_masks;    /* owned: net->masks as given */
  float           *orig_head_masks;
  PlDataset       *eval;          /* owned copy */
  guint            n;
  PlTeam          *team;
  guint            threads;

  /* the last conv layer L and what follows it: pools to the features */
  guint            last;
  guint            p_last;        /* its parametrised-layer index */
  gsize            ckk, hw, in_size;
  guint            n_feat, hwf;   /* features, and per channel */
  guint            n1;            /* the head's first layer's outputs */
  guint            zblock;        /* samples per im2col block of the last layer */
  guint            max_width;     /* of the head */

  /* caches over the evaluation set */
  float           *a;             /* owned: layer L's input, (n, c_in, h, w); or eval->x */
  float           *z;             /* owned: layer L's output without bias, (c_out, n, hw) */
  float           *f;             /* owned: features, (n_feat, n) */
  float           *h1;            /* owned: head layer 0 without bias, (n1, n) */
  gboolean         valid;         /* the caches hold the masks of the last successful run */
  gsize            conv_drift, h1_drift;  /* deltas added since each was computed exactly */

  /* per team member */
  PlConvWork     **work;          /* owned: for front */
  float          **scratch;       /* owned */
  double          *loss;
  guint           *correct;
  gint64         (*phase_us)[N_PHASES];  /* owned: per member, the last run's time per phase */
  gint             cancelled;
  GCancellable    *cancellable;   /* borrowed during a run */

  /* the ranking */
  gsize            weights, conv_weights, pruned0, conv_pruned0;
  gsize            n_cand, m;     /* candidates; those pruned now */
  guint           *cand_layer;    /* owned: per candidate in order, its parametrised layer */
  gsize           *cand_at;       /* owned: its offset in net->params or net->head->params */
  guint32         *conv_prefix;   /* owned: (n_cand + 1): conv candidates among the first m */
  guint            n_conv_layers;
  gsize            conv_off[PL_CONV_MAX_LAYERS];  /* parametrised layer → offset of its w */

  /* the changes of the run in progress */
  GArray          *conv_changes;  /* Change, of layer L, sorted by o */
  GArray          *head_changes;  /* Change, of head layer 0 */
  guint           *changed_o;     /* owned: the channels of layer L with a change */
  gboolean         front_ok;      /* one conv layer F before L, only pools between them */
  guint            front_conv;    /* F */
  guint           *front_o;       /* owned: the channels of F with a change */
  guint            n_front_o;
  float           *front_w;       /* owned: F's filters front_o, packed, for the run */
  float           *front_b;       /* owned: their biases */
  float           *front_wl;      /* owned: (c_out of L, n_front_o·k·k): L's weights of input
                                   * channels front_o, packed, for the run */
  gboolean        *front_mark;    /* owned: (c_out of F) */
  guint            n_changed_o;
  gsize           *change_first;  /* owned: (c_out + 1), per channel its range in conv_changes */
  int              level;
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

static int
compare_changes (const void *pa,
                 const void *pb)
{
  const Change *a = pa, *b = pb;

  return (a->o > b->o) - (a->o < b->o);
}

/* Half to even, as Python's round() and pl_conv_prune_magnitude(). */
static gsize
round_even (double x)
{
  double r = nearbyint (x);

  return (gsize) MAX (r, 0.0);
}

static inline float
activate (float        z,
          PlActivation activation)
{
  switch (activation)
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

void
pl_conv_preview_free (PlConvPreview *self)
{
  if (self == NULL)
    return;

  for (guint t = 0; t < self->threads; t++)
    {
      if (self->work != NULL)
        pl_conv_work_free (self->work[t]);
      if (self->scratch != NULL)
        g_free (self->scratch[t]);
    }
  g_free (self->work);
  g_free (self->scratch);
  g_free (self->loss);
  g_free (self->correct);
  g_free (self->phase_us);
  if (self->team != NULL)
    pl_team_free (self->team);
  if (self->front != NULL && self->a != NULL)
    g_free (self->a);
  g_free (self->z);
  g_free (self->f);
  g_free (self->h1);
  pl_dataset_free (self->eval);
  pl_conv_net_free (self->front);
  pl_conv_net_free (self->net);
  g_free (self->orig_params);
  g_free (self->orig_head);
  g_free (self->orig_masks);
  g_free (self->orig_head_masks);
  g_free (self->cand_layer);
  g_free (self->cand_at);
  g_free (self->conv_prefix);
  g_free (self->changed_o);
  g_free (self->front_o);
  g_free (self->front_mark);
  g_free (self->front_w);
  g_free (self->front_b);
  g_free (self->front_wl);
  g_free (self->change_first);
  if (self->conv_changes != NULL)
    g_array_unref (self->conv_changes);
  if (self->head_changes != NULL)
    g_array_unref (self->head_changes);
  g_free (self);
}

/* A member's scratch: im2col and products of a block of the last layer; three planes for
 * act and the pools; the head's activations of a chunk (two buffers); the feature deltas of
 * its samples. With @base NULL, only the size. */
typedef struct {
  float *col, *zc, *plane0, *plane1, *plane2, *buf0, *buf1, *df, *da, *zf, *wide, *padded;
  gsize  size;
} Scratch;

static Scratch
scratch_layout (const PlConvPreview *self,
                float               *base)
{
  const PlConvLayer *ll = &self->net->layers[self->last];
  gsize plane = self->hw, at = 0;
  Scratch sc;

  for (guint i = 0; i < self->net->n_layers; i++)
    plane = MAX (plane, (gsize) self->net->layers[i].h_in * self->net->layers[i].w_in);
#define TAKE(field, floats) (sc.field = base != NULL ? base + at : NULL, at += (floats))
  TAKE (col, self->ckk * self->zblock * self->hw);
  TAKE (zc, (gsize) ll->c_out * self->zblock * self->hw);
  TAKE (plane0, plane);
  TAKE (plane1, plane);
  TAKE (plane2, plane);
  TAKE (buf0, (gsize) self->max_width * CHUNK);
  TAKE (buf1, (gsize) self->max_width * CHUNK);
  TAKE (df, (gsize) self->n_feat * (self->n / self->threads + 1));
  TAKE (da, (gsize) self->zblock * self->in_size);
  TAKE (zf, self->front_ok ? (gsize) self->zblock * ll->c_in * self->net->layers[self->front_conv].h_out
                             * self->net->layers[self->front_conv].w_out : 0);
  TAKE (wide, (gsize) ll->h_in * ll->w_in);
  TAKE (padded, self->front_ok ? (gsize) (self->net->layers[self->front_conv].h_in + 2 * self->net->layers[self->front_conv].pad)
                                 * (self->net->layers[self->front_conv].w_in + 2 * self->net->layers[self->front_conv].pad) : 0);
#undef TAKE
  sc.size = at;
  return sc;
}

/* One parametrised layer of the network as the ranking sees it. */
typedef struct {
  const float *w;
  const float *mask;
  gsize        n;
  gsize        offset;   /* of w in net->params (conv) or net->head->params */
  gboolean     conv;
} Layer;

/* The layers before @last and a one-output head, as a network of its own. */
static PlConvNet *
front_new (const PlConvNet *net,
           guint            last)
{
  g_autofree char *arch = pl_conv_net_arch (net);
  g_auto(GStrv) parts = g_strsplit (arch, "-", -1);
  g_autoptr(GString) spec = g_string_new (parts[0]);
  PlConvNet *front;

  for (guint i = 0; i < last; i++)
    g_string_append_printf (spec, "-%s", parts[i + 1]);
  g_string_append (spec, "-1");
  front = pl_conv_net_new_from_arch (spec->str, net->activation, NULL);
  g_assert (front != NULL && front->n_layers == last);
  return front;
}

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
  gsize at = 0, total = 0, scratch_floats;
  const PlConvLayer *ll;
  const PlMlp *head;

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
  head = self->net->head;
  self->orig_params = g_memdup2 (self->net->params, sizeof (float) * MAX (self->net->n_params, 1));
  self->orig_masks = g_memdup2 (self->net->masks, sizeof (float) * MAX (self->net->n_params, 1));
  self->orig_head = g_memdup2 (head->params, sizeof (float) * head->n_params);
  self->orig_head_masks = g_memdup2 (head->masks, sizeof (float) * head->n_params);
  self->eval = pl_dataset_new (eval->n, eval->n_features, eval->n_classes);
  memcpy (self->eval->x, eval->x, sizeof (float) * eval->n * eval->n_features);
  memcpy (self->eval->y, eval->y, sizeof (guint32) * eval->n);
  self->n = eval->n;
  self->threads = MIN (threads, PL_TEAM_MAX_THREADS);
  self->team = pl_team_new (self->threads);

  /* the last conv layer and the shapes after it */
  for (guint i = 0; i < self->net->n_layers; i++)
    if (self->net->layers[i].kind == PL_CONV_LAYER_CONV)
      self->last = i;
  ll = &self->net->layers[self->last];
  self->ckk = (gsize) ll->c_in * ll->k * ll->k;
  self->hw = (gsize) ll->h_out * ll->w_out;
  self->in_size = (gsize) ll->c_in * ll->h_in * ll->w_in;
  self->n_feat = head->sizes[0];
  self->hwf = self->n_feat / ll->c_out;
  self->n1 = head->sizes[1];
  self->zblock = (guint) MAX (1, PL_CONV_COL_FLOATS / (self->ckk * self->hw));
  for (guint i = 0; i <= head->n_layers; i++)
    self->max_width = MAX (self->max_width, head->sizes[i]);
  if (self->last > 0)
    {
      self->front = front_new (self->net, self->last);
      g_assert (self->front->n_params == (gsize) (ll->w - self->net->params));
      self->a = g_new (float, (gsize) self->n * self->in_size);
    }
  else
    self->a = self->eval->x;
  self->z = g_new (float, (gsize) ll->c_out * self->n * self->hw);
  self->f = g_new (float, (gsize) self->n_feat * self->n);
  self->h1 = g_new (float, (gsize) self->n1 * self->n);

  {
    guint n_conv = 0;

    for (guint i = 0; i < self->last; i++)
      if (self->net->layers[i].kind == PL_CONV_LAYER_CONV)
        {
          n_conv++;
          self->front_conv = i;
        }
    self->front_ok = n_conv == 1;
    if (self->front_ok)
      {
        const PlConvLayer *fl = &self->net->layers[self->front_conv];

        self->front_o = g_new (guint, fl->c_out);
        self->front_mark = g_new0 (gboolean, fl->c_out);
        self->front_w = g_new (float, (gsize) fl->c_out * fl->c_in * fl->k * fl->k);
        self->front_b = g_new (float, fl->c_out);
        self->front_wl = g_new (float, (gsize) ll->c_out * self->ckk);
      }
  }
  scratch_floats = scratch_layout (self, NULL).size;
  self->work = g_new0 (PlConvWork *, self->threads);
  self->scratch = g_new0 (float *, self->threads);
  for (guint t = 0; t < self->threads; t++)
    {
      if (self->front != NULL)
        self->work[t] = pl_conv_work_new (self->front, BLOCK);
      self->scratch[t] = g_new (float, scratch_floats);
    }
  self->loss = g_new0 (double, self->threads);
  self->correct = g_new0 (guint, self->threads);
  self->phase_us = g_malloc0 (sizeof (gint64[N_PHASES]) * self->threads);
  self->conv_changes = g_array_new (FALSE, FALSE, sizeof (Change));
  self->head_changes = g_array_new (FALSE, FALSE, sizeof (Change));
  self->changed_o = g_new (guint, ll->c_out);
  self->change_first = g_new (gsize, ll->c_out + 1);

  for (guint i = 0; i < self->net->n_layers; i++)
    {
      const PlConvLayer *l = &self->net->layers[i];

      if (l->kind != PL_CONV_LAYER_CONV)
        continue;
      if (i == self->last)
        self->p_last = n_layers;
      self->conv_off[n_layers] = (gsize) (l->w - self->net->params);
      layers[n_layers++] = (Layer) { l->w, l->w_mask, (gsize) l->c_out * l->c_in * l->k * l->k,
                                     (gsize) (l->w - self->net->params), TRUE };
    }
  self->n_conv_layers = n_layers;
  for (guint i = 0; i < head->n_layers; i++)
    {
      const PlLayer *l = &head->layers[i];

      layers[n_layers++] = (Layer) { l->w, l->w_mask, (gsize) l->n_out * l->n_in,
                                     (gsize) (l->w - head->params), FALSE };
    }
  for (guint i = 0; i < n_layers; i++)
    total += layers[i].n;

  /* Candidates: pl_conv_prune_magnitude's rule (pl-conv-prune.c, prune_range) on the network
   * as given; ranking them once is what makes every run a prefix. */
  cand = g_new (Candidate, MAX (total, 1));
  for (guint i = 0; i < n_layers; i++)
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
            cand[self->n_cand++] = (Candidate) { SCORE (k), i, k };
        }
#undef SCORE
      if (l->conv)
        self->conv_weights += l->n;
      at += l->n;
    }
  self->weights = total;

  qsort (cand, self->n_cand, sizeof (Candidate), compare_candidates);
  self->cand_layer = g_new (guint, MAX (self->n_cand, 1));
  self->cand_at = g_new (gsize, MAX (self->n_cand, 1));
  self->conv_prefix = g_new (guint32, self->n_cand + 1);
  self->conv_prefix[0] = 0;
  for (gsize j = 0, c = 0; j < self->n_cand; j++)
    {
      const Layer *l = &layers[cand[j].layer];

      self->cand_layer[j] = cand[j].layer;
      self->cand_at[j] = l->offset + cand[j].index;
      c += l->conv;
      self->conv_prefix[j + 1] = (guint32) c;
    }

  return g_steal_pointer (&self);
}

/* ---- the passes over the evaluation set, each member on its share of the samples -------- */

/* One row of im2col patches of conv layer @ll: for kernel offset (@ky, @kx) the h_out × w_out
 * values plane[oy + ky − pad][ox + kx − pad] of one input @plane (h_in × w_in) into @row, 0
 * outside the plane: per output row a copy of its inside part. */
PL_TARGET_CLONES static void
patch_row (const PlConvLayer *ll,
           const float       *plane,
           gsize              ky,
           gsize              kx,
           float             *row)
{
  gsize pad = ll->pad, ox0 = kx < pad ? pad - kx : 0;
  gsize ox1 = MIN (ll->w_out, ll->w_in + pad > kx ? ll->w_in + pad - kx : 0);

  for (gsize oy = 0; oy < ll->h_out; oy++)
    {
      float *dst = row + oy * ll->w_out;
      gsize iy = oy + ky;

      if (iy < pad || iy - pad >= ll->h_in || ox0 >= ox1)
        {
          memset (dst, 0, sizeof (float) * ll->w_out);
          continue;
        }
      /* plain loops: a row is a few floats, shorter than a call of memcpy pays for */
      {
        const float *restrict src = plane + (iy - pad) * ll->w_in + kx - pad;
        float *restrict d = dst;

        for (gsize ox = 0; ox < ox0; ox++)
          d[ox] = 0.0f;
        for (gsize ox = ox0; ox < ox1; ox++)
          d[ox] = src[ox];
        for (gsize ox = ox1; ox < ll->w_out; ox++)
          d[ox] = 0.0f;
      }
    }
}

static inline void
member_range (const PlConvPreview *self,
              guint                index,
              guint                n_threads,
              guint               *first,
              guint               *last)
{
  *first = (guint) ((guint64) self->n * index / n_threads);
  *last = (guint) ((guint64) self->n * (index + 1) / n_threads);
}

/* @dst ← the maximum of each k×k window of plane @cur, the first on ties (pl-conv.c's
 * max_pool), for pool layer @pl. */
static inline void
pool (const PlConvLayer *pl,
      const float       *cur,
      float             *dst)
{
  if (pl->k == 2)
    {
      for (guint oy = 0; oy < pl->h_out; oy++)
        {
          const float *r0 = cur + (gsize) 2 * oy * pl->w_in, *r1 = r0 + pl->w_in;

          for (guint ox = 0; ox < pl->w_out; ox++)
            {
              float a = r0[2 * ox], b = r0[2 * ox + 1], c = r1[2 * ox], d = r1[2 * ox + 1];
              float m0 = b > a ? b : a, m1 = d > c ? d : c;

              dst[(gsize) oy * pl->w_out + ox] = m1 > m0 ? m1 : m0;
            }
        }
      return;
    }
  for (guint oy = 0; oy < pl->h_out; oy++)
    for (guint ox = 0; ox < pl->w_out; ox++)
      {
        gsize best = (gsize) oy * pl->k * pl->w_in + ox * pl->k;

        for (guint ky = 0; ky < pl->k; ky++)
          for (guint kx = 0; kx < pl->k; kx++)
            {
              gsize at = ((gsize) oy * pl->k + ky) * pl->w_in + ox * pl->k + kx;

              if (cur[at] > cur[best])
                best = at;
            }
        dst[(gsize) oy * pl->w_out + ox] = cur[best];
      }
}

/* Features of channel @o of sample @s from z: act(z + b), then the pools after layer L, into
 * @out (hwf). */
PL_TARGET_CLONES static void
channel_features (const PlConvPreview *self,
                  guint                o,
                  guint                s,
                  float               *plane0,
                  float               *plane1,
                  float               *out)
{
  const PlConvNet *net = self->net;
  const PlConvLayer *ll = &net->layers[self->last];
  const float *zs = self->z + ((gsize) o * self->n + s) * self->hw;
  float *cur = self->last + 1 < net->n_layers ? plane0 : out;

  if (net->activation == PL_ACTIVATION_RELU)
    for (gsize p = 0; p < self->hw; p++)
      {
        float v = zs[p] + ll->b[o];

        cur[p] = v > 0.0f ? v : 0.0f;
      }
  else
    for (gsize p = 0; p < self->hw; p++)
      cur[p] = activate (zs[p] + ll->b[o], net->activation);
  for (guint i = self->last + 1; i < net->n_layers; i++)
    {
      float *dst = i + 1 < net->n_layers ? (cur == plane0 ? plane1 : plane0) : out;

      pool (&net->layers[i], cur, dst);
      cur = dst;
    }
}

/* z of samples [first, last) from a by im2col + sgemm, then their features. */
PL_TARGET_CLONES static void
last_layer_full (PlConvPreview *self,
                 guint          first,
                 guint          last,
                 const Scratch *sc)
{
  const PlConvLayer *ll = &self->net->layers[self->last];
  const gsize k = ll->k, hw = self->hw;
  float *col = sc->col, *zc = sc->zc, *feat = sc->plane2;

  for (guint s0 = first; s0 < last; s0 += self->zblock)
    {
      guint m = MIN (self->zblock, last - s0);
      gsize mhw = (gsize) m * hw;

      if (g_cancellable_is_cancelled (self->cancellable))
        {
          g_atomic_int_set (&self->cancelled, 1);
          return;
        }

      /* col[(c·k + ky)·k + kx][s·hw + oy·w_out + ox] = a[s][c][oy + ky − pad][ox + kx − pad],
       * 0 outside: per output row a copy of its inside part */
      for (guint s = 0; s < m; s++)
        for (gsize c = 0; c < ll->c_in; c++)
          {
            const float *plane = self->a + (gsize) (s0 + s) * self->in_size + c * ll->h_in * ll->w_in;

            for (gsize ky = 0; ky < k; ky++)
              for (gsize kx = 0; kx < k; kx++)
                patch_row (ll, plane, ky, kx, col + ((c * k + ky) * k + kx) * mhw + s * hw);
          }
      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, ll->c_out, mhw, self->ckk,
                   1.0f, ll->w, self->ckk, col, mhw, 0.0f, zc, mhw);
      for (guint o = 0; o < ll->c_out; o++)
        for (guint s = 0; s < m; s++)
          {
            memcpy (self->z + ((gsize) o * self->n + s0 + s) * hw, zc + o * mhw + s * hw, sizeof (float) * hw);
            channel_features (self, o, s0 + s, sc->plane0, sc->plane1, feat);
            for (guint p = 0; p < self->hwf; p++)
              self->f[((gsize) o * self->hwf + p) * self->n + s0 + s] = feat[p];
          }
    }
}

/* The changes of the changed channels' weights added into z of samples [first, last) and,
 * with @features, those channels' features again and the change of changed channel j's
 * features into @df at j·hwf·cols (hwf, cols = last − first). Sample by sample, so that a
 * sample's input planes are read from memory once for all channels. Without padding a change
 * (c, ky, kx) is one contiguous axpy: the outputs are summed at the input's row stride,
 * wide[oy·w_in + ox] (ox < w_out kept, the rest thrown away), from the plane at ky·w_in + kx. */
PL_TARGET_CLONES static void
last_layer_delta (PlConvPreview *self,
                  guint          first,
                  guint          last,
                  gboolean       features,
                  const Scratch *sc)
{
  float *df = sc->df, *feat = sc->plane2, *restrict wide = sc->wide;
  const PlConvLayer *ll = &self->net->layers[self->last];
  const gsize hw = self->hw, w_out = ll->w_out, w_in = ll->w_in, pad = ll->pad;
  const gsize n_wide = (gsize) (ll->h_out - 1) * w_in + w_out;
  gsize cols = last - first;

  /* blocks of DBLOCK samples, channel by channel: the block's inputs stay in cache over the
   * channels, a channel's maps are read in one run, and features are written DBLOCK at a time */
  for (guint s0 = first; s0 < last; s0 += DBLOCK)
    for (guint jo = 0; jo < self->n_changed_o; jo++)
      for (guint s = s0; s < MIN (s0 + DBLOCK, last); s++)
      {
        guint o = self->changed_o[jo];
        const Change *ch = &g_array_index (self->conv_changes, Change, self->change_first[o]);
        gsize n_ch = self->change_first[o + 1] - self->change_first[o];
        float *zs = self->z + ((gsize) o * self->n + s) * hw;
        float *dfo = df + (gsize) jo * self->hwf * cols;

        if (pad == 0)
          {
            for (gsize i = 0; i < n_wide; i++)
              wide[i] = 0.0f;
            for (gsize j = 0; j < n_ch; j++)
              {
                const float *restrict src = self->a + (gsize) s * self->in_size
                                            + (gsize) ch[j].c * ll->h_in * w_in + ch[j].ky * w_in + ch[j].kx;
                float d = ch[j].delta;

                for (gsize i = 0; i < n_wide; i++)
                  wide[i] += d * src[i];
              }
            for (gsize oy = 0; oy < ll->h_out; oy++)
              for (gsize ox = 0; ox < w_out; ox++)
                zs[oy * w_out + ox] += wide[oy * w_in + ox];
          }
        else
          for (gsize j = 0; j < n_ch; j++)
            {
              const float *plane = self->a + (gsize) s * self->in_size + (gsize) ch[j].c * ll->h_in * w_in;
              float d = ch[j].delta;
              gsize ky = ch[j].ky, kx = ch[j].kx;
              /* the outputs whose input (oy + ky − pad, ox + kx − pad) lies inside the plane */
              gsize oy0 = ky < pad ? pad - ky : 0, ox0 = kx < pad ? pad - kx : 0;
              gsize oy1 = MIN (ll->h_out, ll->h_in + pad > ky ? ll->h_in + pad - ky : 0);
              gsize ox1 = MIN (w_out, w_in + pad > kx ? w_in + pad - kx : 0);

              for (gsize oy = oy0; oy < oy1; oy++)
                {
                  const float *restrict src = plane + (oy + ky - pad) * w_in;
                  float *restrict dst = zs + oy * w_out;

                  for (gsize ox = ox0; ox < ox1; ox++)
                    dst[ox] += d * src[ox + kx - pad];
                }
            }
        if (!features)
          continue;
        channel_features (self, o, s, sc->plane0, sc->plane1, feat);
        for (guint p = 0; p < self->hwf; p++)
          {
            float *fp = self->f + ((gsize) o * self->hwf + p) * self->n + s;

            dfo[(gsize) p * cols + s - first] = feat[p] - *fp;
            *fp = feat[p];
          }
      }
}

/* @dst[s] ← act(@src[s] + @b) (@act_on) or @src[s] + @b, s < @n; @dst may be @src. The
 * activation chosen outside the loop, so that ReLU's is vectorised. */
PL_TARGET_CLONES static void
bias_activate_row (float        *dst,
                   const float  *src,
                   float         b,
                   gsize         n,
                   gboolean      act_on,
                   PlActivation  activation)
{
  if (!act_on)
    for (gsize s = 0; s < n; s++)
      dst[s] = src[s] + b;
  else if (activation == PL_ACTIVATION_RELU)
    for (gsize s = 0; s < n; s++)
      {
        float v = src[s] + b;

        dst[s] = v > 0.0f ? v : 0.0f;
      }
  else
    for (gsize s = 0; s < n; s++)
      dst[s] = activate (src[s] + b, activation);
}

/* The head's upper layers on h1 of samples [first, last), the loss and correct count. */
static void
head_rest (PlConvPreview *self,
           guint          index,
           guint          first,
           guint          last,
           float         *buf0,
           float         *buf1)
{
  const PlMlp *head = self->net->head;
  const guint32 *y = self->eval->y;
  guint n_out = head->sizes[head->n_layers];
  double loss = 0.0;
  guint correct = 0;

  for (guint s0 = first; s0 < last; s0 += CHUNK)
    {
      guint m = MIN (CHUNK, last - s0);
      float *x = buf0, *out = buf1;

      /* x (width, m) feature-major */
      for (guint j = 0; j < self->n1; j++)
        {
          const float *src = self->h1 + (gsize) j * self->n + s0;
          float b = head->layers[0].b[j];

          bias_activate_row (x + (gsize) j * m, src, b, m, head->n_layers > 1, head->activation);
        }
      for (guint i = 1; i < head->n_layers; i++)
        {
          const PlLayer *l = &head->layers[i];
          float *t;

          cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, l->n_out, m, l->n_in,
                       1.0f, l->w, l->n_in, x, m, 0.0f, out, m);
          for (guint j = 0; j < l->n_out; j++)
            bias_activate_row (out + (gsize) j * m, out + (gsize) j * m, l->b[j], m, i + 1 < head->n_layers,
                               head->activation);
          t = x;
          x = out;
          out = t;
        }
      /* x holds the logits (n_out, m): the softmax cross-entropy with pl_nn_loss's clamp */
      for (guint s = 0; s < m; s++)
        {
          double mx = -INFINITY, sum = 0.0, py;
          guint best = 0;

          for (guint c = 0; c < n_out; c++)
            {
              double v = x[(gsize) c * m + s];

              if (v > mx)
                {
                  mx = v;
                  best = c;
                }
            }
          for (guint c = 0; c < n_out; c++)
            sum += exp (x[(gsize) c * m + s] - mx);
          py = exp (x[(gsize) y[s0 + s] * m + s] - mx) / sum;
          loss -= py >= FLT_MIN ? log (py) : log (FLT_MIN);
          correct += best == y[s0 + s];
        }
    }
  self->loss[index] = loss;
  self->correct[index] = correct;
}

typedef float V8 __attribute__ ((vector_size (32)));

/* z (h_out, w_out) ← Σ_{ky,kx} w[ky][kx] · x[oy + ky][ox + kx] of one filter over the bordered
 * plane @x (rows @wp apart), as pl_conv_kernels_forward() sums them (taps in the order ky, kx,
 * from 0, no FMA) but with 8 accumulators in flight: two rows × four blocks of 8 positions
 * (the last block of a row moved back to end at its end), where that kernel keeps two for a
 * lone filter and waits on the additions' latency. For w_out ≥ 8. */
PL_TARGET_CLONES static void
filter_forward (float       *restrict z,
                const float *restrict x,
                gsize                 wp,
                const float *restrict w,
                gsize                 k,
                gsize                 h_out,
                gsize                 w_out)
{
  const gsize n_blocks = (w_out + 7) / 8;

  for (gsize oy = 0; oy < h_out; oy += 2)
    {
      gsize oy1 = MIN (oy + 1, h_out - 1);

      for (gsize j0 = 0; j0 < n_blocks; j0 += 4)
        {
          gsize at[4];
          V8 acc0[4] = { { 0 } }, acc1[4] = { { 0 } };

          for (guint q = 0; q < 4; q++)
            at[q] = MIN (8 * MIN (j0 + q, n_blocks - 1), w_out - 8);
          for (gsize ky = 0; ky < k; ky++)
            for (gsize kx = 0; kx < k; kx++)
              {
                const float *r0 = x + (oy + ky) * wp + kx, *r1 = x + (oy1 + ky) * wp + kx;
                float wt = w[ky * k + kx];

                for (guint q = 0; q < 4; q++)
                  {
                    V8 a, b;

                    memcpy (&a, r0 + at[q], sizeof (V8));
                    memcpy (&b, r1 + at[q], sizeof (V8));
                    acc0[q] += wt * a;
                    acc1[q] += wt * b;
                  }
              }
          for (guint q = 0; q < 4; q++)
            {
              memcpy (z + oy * w_out + at[q], &acc0[q], sizeof (V8));
              memcpy (z + oy1 * w_out + at[q], &acc1[q], sizeof (V8));
            }
        }
    }
}

/* The front conv layer F's changed channels front_o over samples [first, last), block by
 * block: first the block's changes of L's weights on the old input (last_layer_delta), then
 * F's channels from the images again (pl_conv_kernels_forward on the packed filters when it
 * takes F, plain loops otherwise), activated and pooled to L's input a, and the change of a
 * through L's new weights of those input channels added into z: Δz (c_out, m·hw) =
 * W_L[:, front_o] (c_out, n_front_o·k·k) · im2col(Δa) (n_front_o·k·k, m·hw); then every
 * feature of the block, while its maps are in cache. W'a' = Wa + ΔW·a + W'·Δa. */
PL_TARGET_CLONES static void
front_delta (PlConvPreview *self,
             guint          first,
             guint          last,
             const Scratch *sc,
             gint64        *phase_us)
{
  const PlConvNet *net = self->net;
  const PlConvLayer *fl = &net->layers[self->front_conv];
  const PlConvLayer *ll = &net->layers[self->last];
  const guint nf = self->n_front_o;
  const gsize kk = (gsize) ll->k * ll->k, hw = self->hw, plane_a = (gsize) ll->h_in * ll->w_in;
  const gsize fk = fl->k, fpad = fl->pad, fplane_in = (gsize) fl->h_in * fl->w_in;
  const gsize fhw = (gsize) fl->h_out * fl->w_out, ftaps = (gsize) fl->c_in * fk * fk;
  gboolean direct = pl_conv_kernels_direct (fl);

  if (direct)
    memset (sc->padded, 0, sizeof (float) * (fl->h_in + 2 * fpad) * (fl->w_in + 2 * fpad));
  for (guint s0 = first; s0 < last; s0 += self->zblock)
    {
      guint m = MIN (self->zblock, last - s0);
      gsize mhw = (gsize) m * hw;
      const float *x0 = self->eval->x + (gsize) s0 * self->eval->n_features;

      gint64 t = g_get_monotonic_time ();

#define PHASE_END(phase) G_STMT_START {                  \
    gint64 now_ = g_get_monotonic_time ();                \
    phase_us[phase] += now_ - t;                          \
    t = now_;                                             \
  } G_STMT_END
      if (self->n_changed_o > 0)
        last_layer_delta (self, s0, s0 + m, FALSE, sc);
      PHASE_END (PHASE_FRONT_DELTA);

      /* F's channels without bias: zf (m, nf, fhw) */
      if (direct)
        {
          const gsize wp = fl->w_in + 2 * fpad;

          for (guint s = 0; s < m; s++)
            {
              const float *x = x0 + (gsize) s * self->eval->n_features;

              for (gsize iy = 0; iy < fl->h_in; iy++)
                memcpy (sc->padded + (iy + fpad) * wp + fpad, x + iy * fl->w_in, sizeof (float) * fl->w_in);
              for (guint j = 0; j < nf; j++)
                filter_forward (sc->zf + ((gsize) s * nf + j) * fhw, sc->padded, wp, self->front_w + j * ftaps,
                                fk, fl->h_out, fl->w_out);
            }
        }
      else
        for (guint s = 0; s < m; s++)
          for (guint j = 0; j < nf; j++)
            {
              const float *x = x0 + (gsize) s * self->eval->n_features;
              const float *wo = self->front_w + j * ftaps;
              float *zf = sc->zf + ((gsize) s * nf + j) * fhw;

              for (gsize p = 0; p < fhw; p++)
                zf[p] = 0.0f;
              for (gsize c = 0; c < fl->c_in; c++)
                for (gsize ky = 0; ky < fk; ky++)
                  for (gsize kx = 0; kx < fk; kx++)
                    {
                      const float *plane = x + c * fplane_in;
                      float w = wo[(c * fk + ky) * fk + kx];
                      gsize oy0 = ky < fpad ? fpad - ky : 0, ox0 = kx < fpad ? fpad - kx : 0;
                      gsize oy1 = MIN (fl->h_out, fl->h_in + fpad > ky ? fl->h_in + fpad - ky : 0);
                      gsize ox1 = MIN (fl->w_out, fl->w_in + fpad > kx ? fl->w_in + fpad - kx : 0);

                      if (w == 0.0f)
                        continue;
                      for (gsize oy = oy0; oy < oy1; oy++)
                        {
                          const float *restrict src = plane + (oy + ky - fpad) * fl->w_in;
                          float *restrict dst = zf + oy * fl->w_out;

                          for (gsize ox = ox0; ox < ox1; ox++)
                            dst[ox] += w * src[ox + kx - fpad];
                        }
                    }
            }

      /* activated and pooled: the new a, and Δa (m, nf, plane_a) */
      for (guint s = 0; s < m; s++)
        for (guint j = 0; j < nf; j++)
          {
            float *zf = sc->zf + ((gsize) s * nf + j) * fhw, *cur = zf;
            float *da = sc->da + ((gsize) s * nf + j) * plane_a;
            float *a = self->a + (gsize) (s0 + s) * self->in_size + (gsize) self->front_o[j] * plane_a;
            float b = self->front_b[j];

            if (net->activation == PL_ACTIVATION_RELU)
              for (gsize p = 0; p < fhw; p++)
                {
                  float v = zf[p] + b;

                  zf[p] = v > 0.0f ? v : 0.0f;
                }
            else
              for (gsize p = 0; p < fhw; p++)
                zf[p] = activate (zf[p] + b, net->activation);
            for (guint i = self->front_conv + 1; i < self->last; i++)
              {
                float *dst = cur == sc->plane0 ? sc->plane1 : sc->plane0;

                pool (&net->layers[i], cur, dst);
                cur = dst;
              }
            for (gsize p = 0; p < plane_a; p++)
              {
                da[p] = cur[p] - a[p];
                a[p] = cur[p];
              }
          }

      PHASE_END (PHASE_FRONT_F);

      /* col (nf·k·k, m·hw) of Δa, 0 outside: per output row a copy of its inside part */
      for (guint s = 0; s < m; s++)
        for (guint j = 0; j < nf; j++)
          for (gsize ky = 0; ky < ll->k; ky++)
            for (gsize kx = 0; kx < ll->k; kx++)
              patch_row (ll, sc->da + ((gsize) s * nf + j) * plane_a, ky, kx,
                         sc->col + ((j * ll->k + ky) * ll->k + kx) * mhw + s * hw);
      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, ll->c_out, mhw, nf * kk,
                   1.0f, self->front_wl, nf * kk, sc->col, mhw,
                   1.0f, self->z + (gsize) s0 * hw, (gsize) self->n * hw);
      PHASE_END (PHASE_FRONT_PRODUCT);

      for (guint o = 0; o < ll->c_out; o++)
        for (guint s = s0; s < s0 + m; s++)
          {
            channel_features (self, o, s, sc->plane0, sc->plane1, sc->plane2);
            for (guint p = 0; p < self->hwf; p++)
              self->f[((gsize) o * self->hwf + p) * self->n + s] = sc->plane2[p];
          }
      PHASE_END (PHASE_FEATURES);
#undef PHASE_END
    }
}

static void
run_member (guint    index,
            guint    n_threads,
            gpointer data)
{
  PlConvPreview *self = data;
  const PlMlp *head = self->net->head;
  Scratch sc = scratch_layout (self, self->scratch[index]);
  gint64 *phase_us = self->phase_us[index], t = g_get_monotonic_time ();
  guint first, last, cols;

#define PHASE_END(phase) G_STMT_START {                  \
    gint64 now_ = g_get_monotonic_time ();                \
    phase_us[phase] += now_ - t;                          \
    t = now_;                                             \
  } G_STMT_END

  for (guint i = 0; i < N_PHASES; i++)
    phase_us[i] = 0;
  member_range (self, index, n_threads, &first, &last);
  cols = last - first;
  if (cols == 0)
    {
      self->loss[index] = 0.0;
      self->correct[index] = 0;
      return;
    }

  if (self->level >= LEVEL_ALL && self->front != NULL)
    for (guint s = first; s < last; s += BLOCK)
      {
        guint m = MIN (BLOCK, last - s);

        if (g_cancellable_is_cancelled (self->cancellable))
          {
            g_atomic_int_set (&self->cancelled, 1);
            return;
          }
        pl_conv_forward (self->front, self->work[index], self->eval->x + (gsize) s * self->eval->n_features, m);
        memcpy (self->a + (gsize) s * self->in_size,
                pl_conv_work_activation (self->work[index], self->front->n_layers - 1),
                sizeof (float) * m * self->in_size);
      }
  PHASE_END (PHASE_FRONT_FULL);
  if (g_atomic_int_get (&self->cancelled))
    return;
  if (self->level >= LEVEL_LAST)
    last_layer_full (self, first, last, &sc);
  PHASE_END (PHASE_LAST_FULL);
  if (g_atomic_int_get (&self->cancelled))
    return;

  /* first the head's weight changes on the old features, then the features' changes
   * through the new weights: W'f' = Wf + ΔW·f + W'·Δf (or W'f' in one product) */
  if (self->level == LEVEL_DELTA)
    for (guint j = 0; j < self->head_changes->len; j++)
      {
        const Change *c = &g_array_index (self->head_changes, Change, j);

        cblas_saxpy (cols, c->delta, self->f + (gsize) c->c * self->n + first, 1,
                     self->h1 + (gsize) c->o * self->n + first, 1);
      }
  PHASE_END (PHASE_HEAD_DELTA);
  if (self->level < LEVEL_LAST && self->level != LEVEL_FRONT && self->n_changed_o > 0)
    {
      last_layer_delta (self, first, last, TRUE, &sc);
      PHASE_END (PHASE_LAST_DELTA);
      if (self->level == LEVEL_DELTA)
        for (guint j = 0; j < self->n_changed_o; j++)
          cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, self->n1, cols, self->hwf,
                       1.0f, head->layers[0].w + (gsize) self->changed_o[j] * self->hwf, self->n_feat,
                       sc.df + (gsize) j * self->hwf * cols, cols, 1.0f, self->h1 + first, self->n);
      PHASE_END (PHASE_H1_CHANNEL);
    }
  if (self->level == LEVEL_FRONT)
    front_delta (self, first, last, &sc, phase_us);
  t = g_get_monotonic_time ();
  if (self->level >= LEVEL_H1)
    /* h1 (n1, cols) = W1 (n1, n_feat) · f (n_feat, cols) */
    cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, self->n1, cols, self->n_feat,
                 1.0f, head->layers[0].w, self->n_feat, self->f + first, self->n,
                 0.0f, self->h1 + first, self->n);
  PHASE_END (PHASE_H1_FULL);

  head_rest (self, index, first, last, sc.buf0, sc.buf1);
  PHASE_END (PHASE_HEAD_REST);
#undef PHASE_END
}

/* The debug log's line for a run: its level, the changes, and each member's time per phase. */
static void
log_run (PlConvPreview *self,
         gint64         total_us)
{
  static const char *const level_names[] = { "delta", "h1", "front", "last", "all" };
  g_autoptr(GString) line = NULL;

  if (g_log_writer_default_would_drop (G_LOG_LEVEL_DEBUG, G_LOG_DOMAIN))
    return;
  line = g_string_new (NULL);
  g_string_append_printf (line, "run: level %s, %u conv + %u head changes, %u channels of L, %u of F; %.2f ms;",
                          level_names[self->level], self->conv_changes->len, self->head_changes->len,
                          self->n_changed_o, self->n_front_o, total_us / 1e3);
  for (guint t = 0; t < self->threads; t++)
    {
      g_string_append_printf (line, " [%u]", t);
      for (guint i = 0; i < N_PHASES; i++)
        if (self->phase_us[t][i] > 0)
          g_string_append_printf (line, " %s %.2f", phase_names[i], self->phase_us[t][i] / 1e3);
    }
  g_debug ("%s", line->str);
}

/* Moves the pruned prefix to @m: masks and masked weights of self->net, and the changes
 * the caches need, with the level of recomputation they call for. */
static void
move_prefix (PlConvPreview *self,
             gsize          m)
{
  PlConvNet *net = self->net;
  PlMlp *head = net->head;
  const PlConvLayer *ll = &net->layers[self->last];
  gsize lo = MIN (m, self->m), hi = MAX (m, self->m);
  gboolean pruning = m > self->m;
  int level = self->valid ? LEVEL_DELTA : LEVEL_ALL;

  g_array_set_size (self->conv_changes, 0);
  g_array_set_size (self->head_changes, 0);
  for (guint j = 0; j < self->n_front_o; j++)
    self->front_mark[self->front_o[j]] = FALSE;
  self->n_front_o = 0;
  for (gsize j = lo; j < hi; j++)
    {
      guint layer = self->cand_layer[j];
      gsize p = self->cand_at[j];

      if (layer < self->n_conv_layers)
        {
          float w = self->orig_params[p];

          net->masks[p] = pruning ? 0.0f : self->orig_masks[p];
          net->params[p] = pruning ? 0.0f : w;
          if (layer != self->p_last && !self->front_ok)
            level = LEVEL_ALL;
          else if (layer != self->p_last)
            {
              guint o = (guint) ((p - self->conv_off[layer]) / ((gsize) net->layers[self->front_conv].c_in
                                                                 * net->layers[self->front_conv].k
                                                                 * net->layers[self->front_conv].k));

              if (!self->front_mark[o])
                {
                  self->front_mark[o] = TRUE;
                  self->front_o[self->n_front_o++] = o;
                }
            }
          else
            {
              gsize q = p - self->conv_off[layer];
              Change c = { (guint) (q / self->ckk), (guint) (q % self->ckk / (ll->k * ll->k)),
                           (guint) (q % (ll->k * ll->k) / ll->k), (guint) (q % ll->k),
                           pruning ? -w : w };

              g_array_append_val (self->conv_changes, c);
            }
        }
      else
        {
          guint hl = layer - self->n_conv_layers;
          float w = self->orig_head[p];

          head->masks[p] = pruning ? 0.0f : self->orig_head_masks[p];
          head->params[p] = pruning ? 0.0f : w;
          if (hl == 0)
            {
              gsize q = p - (gsize) (head->layers[0].w - head->params);
              Change c = { (guint) (q / self->n_feat), (guint) (q % self->n_feat), 0, 0,
                           pruning ? -w : w };

              g_array_append_val (self->head_changes, c);
            }
        }
    }
  self->m = m;

  /* Deltas cost a pass over the samples each (a plane per conv weight, a row per head
   * weight); past a share of a full product, the product is cheaper. Rounding also adds up
   * over many deltas, so after as many as half a layer's weights the layer is computed
   * exactly again. */
  if (level == LEVEL_DELTA && self->n_front_o > 0)
    {
      /* a front channel's change reaches every weight of the last layer that reads it: per
       * sample, F's filter (h_out·w_out·c_in·k² multiply-adds, LeNet-5 20 k) and the product
       * through L (c_out·k²·hw, 40 k) for each changed filter, against F and L in full
       * (118 k + 240 k): cheaper for all but every filter */
      level = self->n_front_o >= net->layers[self->front_conv].c_out ? LEVEL_ALL : LEVEL_FRONT;
      self->conv_drift += self->conv_changes->len + (gsize) self->n_front_o * ll->c_out * ll->k * ll->k;
      if (self->conv_drift > 4 * ll->c_out * self->ckk)
        level = LEVEL_ALL;
    }
  if (level == LEVEL_DELTA)
    {
      self->conv_drift += self->conv_changes->len;
      self->h1_drift += self->head_changes->len;
      if (self->conv_changes->len * 8 > ll->c_out * self->ckk || self->conv_drift > 4 * ll->c_out * self->ckk)
        level = LEVEL_LAST;
      else if (self->head_changes->len * 16 > (gsize) self->n1 * self->n_feat
               || self->h1_drift * 2 > (gsize) self->n1 * self->n_feat)
        level = MAX (level, LEVEL_H1);
    }
  if (level >= LEVEL_LAST)
    {
      self->conv_drift = 0;
      for (guint j = 0; j < self->n_front_o; j++)
        self->front_mark[self->front_o[j]] = FALSE;
      self->n_front_o = 0;
    }
  if (level >= LEVEL_H1)
    self->h1_drift = 0;

  /* the changed channels of layer L, each with its range of conv_changes */
  self->n_changed_o = 0;
  if (level < LEVEL_LAST && self->conv_changes->len > 0)
    {
      qsort (self->conv_changes->data, self->conv_changes->len, sizeof (Change), compare_changes);
      for (guint o = 0; o <= ll->c_out; o++)
        self->change_first[o] = 0;
      for (guint j = 0; j < self->conv_changes->len; j++)
        {
          guint o = g_array_index (self->conv_changes, Change, j).o;

          if (self->n_changed_o == 0 || self->changed_o[self->n_changed_o - 1] != o)
            {
              self->changed_o[self->n_changed_o++] = o;
              self->change_first[o] = j;
            }
          self->change_first[o + 1] = j + 1;
        }
      /* a product per changed channel (k = hwf) is slower than one over all features once
       * half the channels changed */
      if (level == LEVEL_DELTA && self->n_changed_o * 2 > ll->c_out)
        level = LEVEL_H1;
    }
  self->level = level;
}

gboolean
pl_conv_preview_run (PlConvPreview        *self,
                     double                sparsity,
                     GCancellable         *cancellable,
                     PlConvPreviewResult  *result,
                     GError              **error)
{
  gsize target, m;
  gint64 t0;
  double loss = 0.0;
  guint correct = 0;

  g_return_val_if_fail (self != NULL && result != NULL, FALSE);
  g_return_val_if_fail (sparsity >= 0.0 && sparsity <= 1.0, FALSE);

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return FALSE;

  /* pl_conv_prune_magnitude: the first round(s·n) − pruned candidates of the order */
  target = round_even (sparsity * (double) self->weights);
  m = target <= self->pruned0 ? 0 : MIN (target - self->pruned0, self->n_cand);
  move_prefix (self, m);

  /* the front's weights follow self->net's: copied when the front runs */
  if (self->level >= LEVEL_ALL && self->front != NULL)
    {
      gsize n_front = self->front->n_params;

      memcpy (self->front->params, self->net->params, sizeof (float) * n_front);
      memcpy (self->front->masks, self->net->masks, sizeof (float) * n_front);
      pl_conv_net_apply_masks (self->front);
    }

  /* the changed front channels' weights, packed for front_delta */
  if (self->level == LEVEL_FRONT)
    {
      const PlConvLayer *fl = &self->net->layers[self->front_conv];
      const PlConvLayer *ll = &self->net->layers[self->last];
      gsize ftaps = (gsize) fl->c_in * fl->k * fl->k, kk = (gsize) ll->k * ll->k;
      gsize row = self->n_front_o * kk;

      for (guint j = 0; j < self->n_front_o; j++)
        {
          guint o = self->front_o[j];

          memcpy (self->front_w + j * ftaps, fl->w + o * ftaps, sizeof (float) * ftaps);
          self->front_b[j] = fl->b[o];
          for (guint oo = 0; oo < ll->c_out; oo++)
            memcpy (self->front_wl + oo * row + j * kk, ll->w + oo * self->ckk + o * kk, sizeof (float) * kk);
        }
    }

  g_atomic_int_set (&self->cancelled, 0);
  self->cancellable = cancellable;
  self->valid = FALSE;
  t0 = g_get_monotonic_time ();
  pl_team_run (self->team, run_member, self);
  self->cancellable = NULL;
  if (g_atomic_int_get (&self->cancelled))
    {
      /* the caches are half-way: the next run recomputes them all */
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CANCELLED, _("The preview was cancelled"));
      return FALSE;
    }
  self->valid = TRUE;
  log_run (self, g_get_monotonic_time () - t0);

  for (guint t = 0; t < self->threads; t++)
    {
      loss += self->loss[t];
      correct += self->correct[t];
    }

  result->value = sparsity;
  result->weights = self->weights;
  result->pruned = self->pruned0 + m;
  result->sparsity = (double) result->pruned / (double) self->weights;
  result->conv_weights = self->conv_weights;
  result->conv_pruned = self->conv_pruned0 + self->conv_prefix[m];
  result->conv_recomputed = self->level >= LEVEL_LAST;
  result->n = self->n;
  result->n_correct = correct;
  result->accuracy = (double) correct / self->n;
  result->loss = loss / self->n;
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
    memcpy (head_masks, self->net->head->masks, sizeof (float) * self->net->head->n_params);
}
