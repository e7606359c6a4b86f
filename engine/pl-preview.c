#define G_LOG_DOMAIN "pl-preview"

#include "config.h"

#include <cblas.h>
#include <float.h>
#include <glib/gi18n-lib.h>
#include <math.h>
#include <string.h>

#include "pl-error.h"
#include "pl-preview.h"
#include "pl-simd.h"
#include "pl-team.h"

/* Samples per block: the first layer's pre-activations and inputs of a block stay in L2. */
#ifndef BLOCK
#define BLOCK 256
#endif

typedef struct {
  guint  start;       /* first candidate of the group in the sorted arrays */
  guint  n_cand;
  gsize  n_scope;     /* weights (or neurons) in scope, those pruned already included */
  gsize  n_already;   /* pruned already in the model */
  guint  k;           /* candidates the current preview prunes: the first k of the group */
} Group;

typedef struct {
  guint32 param;      /* index into params of a first-layer weight: row · n_in + col */
  guint32 row, col;
  float   delta;      /* added to the weight: −w when pruned, +w when restored */
} Change;

typedef struct {
  float   key;        /* the score, negated with invert: the lowest keys go first */
  guint32 id;         /* param index (weights) or neuron index (neurons) */
  guint8  layer;
} Candidate;

struct _PlPreview {
  PlMlp     *model;          /* owned copy: base parameters and masks */
  gboolean   structured;
  gboolean   invert;
  guint      n_groups;
  Group      groups[PL_MLP_MAX_LAYERS];
  guint      n_cand;
  Candidate *cand;           /* owned, sorted within each group */

  guint8    *refcount;       /* owned, per param: reasons the preview prunes the entry */
  float     *masks;          /* owned, per param: base mask ⊙ preview */
  float     *neuron_masks;   /* owned: base neuron masks ⊙ the preview's pruned neurons */
  guint32   *alive_out;      /* owned, per neuron: kept outgoing weights (hidden layers) */
  gsize      layer_pruned[PL_MLP_MAX_LAYERS];
  gsize      layer_offset[PL_MLP_MAX_LAYERS];   /* of each layer's weights in params */
  gsize      neuron_offset[PL_MLP_MAX_LAYERS];  /* of each layer's neurons */
  float     *weff[PL_MLP_MAX_LAYERS];           /* layers ≥ 1: masked weights, in weff_block */
  float     *weff_block;     /* owned */

  guint      n;              /* evaluation samples */
  float     *xt;             /* owned, (n_in, n) */
  float     *z1t;            /* owned, (n1, n): first-layer pre-activations, bias excluded */
  guint32   *y;              /* owned */
  guint      n_blocks;
  double    *block_loss;     /* owned */
  guint     *block_correct;  /* owned */
  PlTeam    *team;           /* owned */
  float     *scratch;        /* owned: per member, 2 × (max width × BLOCK) */
  gsize      scratch_stride;

  GArray    *changes;        /* Change, first-layer weights changed since the last run */
  gsize      drift;          /* axpy updates since the first layer was last computed whole */
};

static int
compare_candidates (gconstpointer a,
                    gconstpointer b)
{
  const Candidate *x = a, *y = b;

  if (x->key < y->key)
    return -1;
  if (x->key > y->key)
    return 1;
  return (x->id > y->id) - (x->id < y->id);
}

/* An unsigned integer that orders like the float (−0 and +0 made equal before). */
static inline guint32
key_bits (float key)
{
  union { float f; guint32 u; } v = { key + 0.0f };

  return v.u & 0x80000000u ? ~v.u : v.u | 0x80000000u;
}

/* Sorts @c by key, stably (LSD radix, four passes of 8 bits): candidates made in position order
 * stay in position order among equal keys, as compare_candidates has it. */
static void
sort_candidates (Candidate *c,
                 gsize      n)
{
  g_autofree Candidate *tmp = g_new (Candidate, MAX (n, 1));
  Candidate *src = c, *dst = tmp;

  for (guint shift = 0; shift < 32; shift += 8)
    {
      gsize count[257] = { 0 };

      for (gsize i = 0; i < n; i++)
        count[((key_bits (src[i].key) >> shift) & 0xff) + 1]++;
      for (guint b = 0; b < 256; b++)
        count[b + 1] += count[b];
      for (gsize i = 0; i < n; i++)
        dst[count[(key_bits (src[i].key) >> shift) & 0xff]++] = src[i];

      {
        Candidate *t = src;
        src = dst;
        dst = t;
      }
    }
  /* four passes: the sorted data is back in @c */
  g_assert (src == c);
}

static int
compare_changes (gconstpointer a,
                 gconstpointer b)
{
  const Change *x = a, *y = b;

  return (x->param > y->param) - (x->param < y->param);
}

typedef struct {
  PlPreview   *self;
  const float *w;       /* (n1, n_in): the first layer's weights, masked */
} FirstLayerJob;

static void
first_layer_member (guint    index,
                    guint    n_threads,
                    gpointer data)
{
  FirstLayerJob *job = data;
  PlPreview *self = job->self;
  const PlLayer *l = &self->model->layers[0];
  guint r0 = (guint) ((guint64) l->n_out * index / n_threads);
  guint r1 = (guint) ((guint64) l->n_out * (index + 1) / n_threads);

  if (r1 > r0)
    cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans,
                 r1 - r0, self->n, l->n_in,
                 1.0f, job->w + (gsize) r0 * l->n_in, l->n_in, self->xt, self->n,
                 0.0f, self->z1t + (gsize) r0 * self->n, self->n);
}

/* Z1ᵀ (n1, n) = (W0 ⊙ mask) (n1, n_in) · Xᵀ (n_in, n), rows split over the team, each member
 * on single-threaded OpenBLAS (OpenBLAS's own pool would compete with the team). */
static void
compute_first_layer (PlPreview *self)
{
  const PlLayer *l = &self->model->layers[0];
  gsize nw = (gsize) l->n_out * l->n_in;
  g_autofree float *w = g_new (float, nw);
  FirstLayerJob job = { self, w };

  for (gsize k = 0; k < nw; k++)
    w[k] = l->w[k] * self->masks[k];

  pl_team_run (self->team, first_layer_member, &job);
  g_array_set_size (self->changes, 0);
  self->drift = 0;
}

/* Adds one reason to prune (d = +1) or removes one (d = −1) for weight @param of @layer. */
static void
toggle_weight (PlPreview *self,
               guint      layer,
               gsize      param,
               int        d,
               gboolean   update_forward)
{
  PlMlp *m = self->model;
  const PlLayer *l = &m->layers[layer];
  gsize local = param - self->layer_offset[layer];
  gboolean was_kept = self->masks[param] != 0.0f;
  gboolean kept;

  self->refcount[param] += d;
  kept = m->masks[param] != 0.0f && self->refcount[param] == 0;
  if (kept == was_kept)
    return;

  self->masks[param] = kept ? 1.0f : 0.0f;
  self->layer_pruned[layer] += kept ? -1 : 1;
  if (layer > 0)
    self->alive_out[self->neuron_offset[layer - 1] + local % l->n_in] += kept ? 1 : -1;

  if (!update_forward)
    return;
  if (layer == 0)
    {
      Change c = { (guint32) param, (guint32) (local / l->n_in), (guint32) (local % l->n_in),
                   kept ? l->w[local] : -l->w[local] };
      g_array_append_val (self->changes, c);
    }
  else
    self->weff[layer][local] = kept ? l->w[local] : 0.0f;
}

static void
toggle_neuron (PlPreview *self,
               guint      layer,
               guint      j,
               int        d)
{
  PlMlp *m = self->model;
  const PlLayer *l = &m->layers[layer];
  const PlLayer *next = &m->layers[layer + 1];

  self->neuron_masks[self->neuron_offset[layer] + j] = d > 0 ? 0.0f : 1.0f;
  /* the activation is masked in the forward pass; the weights only for the masks shown */
  for (guint i = 0; i < l->n_in; i++)
    toggle_weight (self, layer, self->layer_offset[layer] + (gsize) j * l->n_in + i, d, FALSE);
  for (guint o = 0; o < next->n_out; o++)
    toggle_weight (self, layer + 1, self->layer_offset[layer + 1] + (gsize) o * next->n_in + j, d, FALSE);
}

static void
toggle_candidate (PlPreview       *self,
                  const Candidate *c,
                  int              d)
{
  if (self->structured)
    toggle_neuron (self, c->layer, c->id - self->neuron_offset[c->layer], d);
  else
    toggle_weight (self, c->layer, c->id, d, TRUE);
}

/* out (rows, nb) ← activation(in + b) ⊙ neuron_mask, row by row; in has row stride @stride
 * and may be out itself (stride nb) */
PL_TARGET_CLONES static void
bias_activate_rows (float        *out,
                    const float  *in,
                    gsize                  stride,
                    const float  *restrict b,
                    const float  *restrict nm,
                    guint                  rows,
                    guint                  nb,
                    PlActivation           activation)
{
  for (guint j = 0; j < rows; j++)
    {
      const float *zr = in + (gsize) j * stride;
      float *hr = out + (gsize) j * nb;
      float bj = b[j], mj = nm[j];

      switch (activation)
        {
        case PL_ACTIVATION_RELU:
          for (guint s = 0; s < nb; s++)
            {
              float v = zr[s] + bj;
              hr[s] = (v > 0.0f ? v : 0.0f) * mj;
            }
          break;
        case PL_ACTIVATION_TANH:
          for (guint s = 0; s < nb; s++)
            hr[s] = tanhf (zr[s] + bj) * mj;
          break;
        case PL_ACTIVATION_SIGMOID:
          for (guint s = 0; s < nb; s++)
            hr[s] = mj / (1.0f + expf (-(zr[s] + bj)));
          break;
        default:
          g_assert_not_reached ();
        }
    }
}

/* z1t[row][s0 + s] += delta · xt[col][s0 + s] for every change, s < nb. The changes are
 * sorted by row: four changes of a row are applied in one pass, so the row is loaded and stored
 * once for four input rows (the loop is bound by loads and stores, not arithmetic). */
PL_TARGET_CLONES static void
apply_changes (float        *z1t,
               const float  *xt,
               gsize         n,
               const Change *changes,
               guint         n_changes,
               guint         s0,
               guint         nb)
{
  guint c = 0;

  while (c < n_changes)
    {
      guint row = changes[c].row;
      float *restrict zr = z1t + row * n + s0;
      guint e = c;

      while (e < n_changes && changes[e].row == row)
        e++;

      for (; c + 4 <= e; c += 4)
        {
          const float *restrict x0 = xt + changes[c].col * n + s0;
          const float *restrict x1 = xt + changes[c + 1].col * n + s0;
          const float *restrict x2 = xt + changes[c + 2].col * n + s0;
          const float *restrict x3 = xt + changes[c + 3].col * n + s0;
          float d0 = changes[c].delta, d1 = changes[c + 1].delta;
          float d2 = changes[c + 2].delta, d3 = changes[c + 3].delta;

          for (guint s = 0; s < nb; s++)
            zr[s] += (d0 * x0[s] + d1 * x1[s]) + (d2 * x2[s] + d3 * x3[s]);
        }
      for (; c < e; c++)
        {
          const float *restrict xr = xt + changes[c].col * n + s0;
          float d = changes[c].delta;

          for (guint s = 0; s < nb; s++)
            zr[s] += d * xr[s];
        }
    }
}

/* Loss and correct count of the logits (m, nb) feature-major, column by column; the same
 * float arithmetic as pl_nn_forward + pl_nn_loss. */
static void
score_logits (const float   *z,
              const float   *b,
              guint          m,
              guint          nb,
              const guint32 *y,
              double        *loss,
              guint         *correct)
{
  for (guint s = 0; s < nb; s++)
    {
      float p[256];
      float zmax = -INFINITY, sum = 0.0f;
      guint best = 0;

      for (guint j = 0; j < m; j++)
        {
          p[j] = z[(gsize) j * nb + s] + b[j];
          zmax = MAX (zmax, p[j]);
        }
      for (guint j = 0; j < m; j++)
        {
          p[j] = expf (p[j] - zmax);
          sum += p[j];
        }
      for (guint j = 0; j < m; j++)
        p[j] /= sum;
      for (guint j = 1; j < m; j++)
        if (p[j] > p[best])
          best = j;

      *correct += best == y[s];
      if (p[y[s]] >= FLT_MIN)
        *loss -= log (p[y[s]]);
      else if (p[y[s]] >= 0.0f)
        *loss -= log (FLT_MIN);
      else
        *loss = NAN;
    }
}

/* Brings block b's first-layer pre-activations up to date and runs the rest of the network. */
static void
forward_block (PlPreview *self,
               float     *scratch,
               guint      b)
{
  const PlMlp *m = self->model;
  guint L = m->n_layers;
  guint s0 = b * BLOCK;
  guint nb = MIN (BLOCK, self->n - s0);
  const Change *changes = (const Change *) self->changes->data;
  const PlLayer *l0 = &m->layers[0];
  float *h = scratch;
  float *z = scratch + self->scratch_stride / 2;
  double loss = 0.0;
  guint correct = 0;

  apply_changes (self->z1t, self->xt, self->n, changes, self->changes->len, s0, nb);

  if (L == 1)
    {
      /* the first layer is the output layer: copy its logits out of the strided rows */
      for (guint j = 0; j < l0->n_out; j++)
        memcpy (z + (gsize) j * nb, self->z1t + (gsize) j * self->n + s0, sizeof (float) * nb);
      score_logits (z, l0->b, l0->n_out, nb, self->y + s0, &loss, &correct);
    }
  else
    {
      bias_activate_rows (h, self->z1t + s0, self->n, l0->b, self->neuron_masks,
                          l0->n_out, nb, m->activation);

      for (guint i = 1; i < L; i++)
        {
          const PlLayer *l = &m->layers[i];
          float *t;

          /* Zᵀ (n_out, nb) = W_eff (n_out, n_in) · Hᵀ (n_in, nb) */
          cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans,
                       l->n_out, nb, l->n_in,
                       1.0f, self->weff[i], l->n_in, h, nb,
                       0.0f, z, nb);
          if (i + 1 == L)
            {
              score_logits (z, l->b, l->n_out, nb, self->y + s0, &loss, &correct);
              break;
            }

          bias_activate_rows (z, z, nb, l->b, self->neuron_masks + self->neuron_offset[i],
                              l->n_out, nb, m->activation);
          t = h;
          h = z;
          z = t;
        }
    }

  self->block_loss[b] = loss;
  self->block_correct[b] = correct;
}

static void
forward_member (guint    index,
                guint    n_threads,
                gpointer data)
{
  PlPreview *self = data;
  float *scratch = self->scratch + index * self->scratch_stride;

  for (guint b = index; b < self->n_blocks; b += n_threads)
    forward_block (self, scratch, b);
}

PlPreview *
pl_preview_new (const PlMlp        *model,
                const PlScores     *scores,
                const PlPruneSpec  *spec,
                const PlDataset    *eval,
                guint               threads,
                GError            **error)
{
  g_autoptr(PlPreview) self = NULL;
  PlMlp *m;
  guint L, wmax = 0;
  gsize n_params_w = 0, off = 0, noff = 0, weff_total = 0;
  int blas_threads;

  g_return_val_if_fail (model != NULL && scores != NULL && spec != NULL && eval != NULL, NULL);

  L = model->n_layers;
  if (eval->n == 0 || eval->n_features != model->sizes[0] || eval->n_classes > model->sizes[L])
    {
      g_set_error (error, PL_TRAIN_ERROR, PL_TRAIN_ERROR_MISMATCH,
                   _("the model takes %u inputs and has %u classes; the evaluation data has %u samples, %u features and %u classes"),
                   model->sizes[0], model->sizes[L], eval->n, eval->n_features, eval->n_classes);
      return NULL;
    }
  if (scores->n_layers != L || model->sizes[L] > 256)
    {
      g_set_error (error, PL_TRAIN_ERROR, PL_TRAIN_ERROR_MISMATCH,
                   _("the scores are for %u layers, the model has %u"), scores->n_layers, L);
      return NULL;
    }

  self = g_new0 (PlPreview, 1);
  self->model = m = pl_mlp_copy (model);
  pl_mlp_apply_masks (m);
  self->structured = scores->per_neuron;
  self->invert = spec->invert;
  self->changes = g_array_new (FALSE, FALSE, sizeof (Change));

  for (guint i = 0; i < L; i++)
    {
      const PlLayer *l = &m->layers[i];

      self->layer_offset[i] = off;
      self->neuron_offset[i] = noff;
      off += (gsize) l->n_out * l->n_in + l->n_out;
      noff += l->n_out;
      n_params_w += (gsize) l->n_out * l->n_in;
      if (i > 0)
        weff_total += (gsize) l->n_out * l->n_in;
      wmax = MAX (wmax, l->n_out);
    }

  self->masks = g_memdup2 (m->masks, sizeof (float) * m->n_params);
  self->neuron_masks = g_memdup2 (m->neuron_masks, sizeof (float) * m->n_neurons);
  self->refcount = g_new0 (guint8, m->n_params);
  self->alive_out = g_new0 (guint32, m->n_neurons);
  self->weff_block = g_new (float, MAX (weff_total, 1));
  weff_total = 0;
  for (guint i = 0; i < L; i++)
    {
      const PlLayer *l = &m->layers[i];
      gsize nw = (gsize) l->n_out * l->n_in;

      for (gsize k = 0; k < nw; k++)
        {
          self->layer_pruned[i] += l->w_mask[k] == 0.0f;
          if (i > 0)
            self->alive_out[self->neuron_offset[i - 1] + k % l->n_in] += l->w_mask[k] != 0.0f;
        }
      if (i > 0)
        {
          self->weff[i] = self->weff_block + weff_total;
          memcpy (self->weff[i], l->w, sizeof (float) * nw);
          weff_total += nw;
        }
    }

  /* candidates, grouped by scope and sorted by key */
  self->cand = g_new (Candidate, self->structured ? m->n_neurons : n_params_w);
  self->n_groups = spec->scope == PL_SCOPE_GLOBAL ? 1 : L;
  for (guint i = 0; i < L; i++)
    {
      const PlLayer *l = &m->layers[i];
      Group *g = &self->groups[spec->scope == PL_SCOPE_GLOBAL ? 0 : i];
      guint first = self->n_cand;
      guint best = G_MAXUINT;
      gsize n_units;

      if (spec->scope == PL_SCOPE_LAYER)
        g->start = self->n_cand;
      if (self->structured ? i + 1 == L : (spec->exclude_output && i + 1 == L))
        continue;

      n_units = self->structured ? l->n_out : (gsize) l->n_out * l->n_in;
      if (scores->n[i] != n_units)
        {
          g_set_error (error, PL_TRAIN_ERROR, PL_TRAIN_ERROR_MISMATCH,
                       _("the scores of layer %u have %" G_GSIZE_FORMAT " values, the layer needs %" G_GSIZE_FORMAT),
                       i, scores->n[i], n_units);
          return NULL;
        }

      g->n_scope += n_units;
      for (gsize u = 0; u < n_units; u++)
        {
          gboolean alive = self->structured ? l->neuron_mask[u] != 0.0f : l->w_mask[u] != 0.0f;
          float s = scores->layer[i][u];
          Candidate *c;

          if (!alive)
            {
              g->n_already++;
              continue;
            }
          c = &self->cand[self->n_cand++];
          c->key = isnan (s) ? INFINITY : (spec->invert ? -s : s);
          c->id = (guint32) (self->structured ? self->neuron_offset[i] + u : self->layer_offset[i] + u);
          c->layer = (guint8) i;
          /* the last one in pruning order is kept back, so that the layer is never emptied */
          if (best == G_MAXUINT || compare_candidates (c, &self->cand[best]) > 0)
            best = self->n_cand - 1;
        }
      if (!spec->allow_empty && best != G_MAXUINT)
        {
          /* removed in place, so that the candidates stay in position order for the sort */
          memmove (&self->cand[best], &self->cand[best + 1],
                   sizeof (Candidate) * (self->n_cand - best - 1));
          self->n_cand--;
        }
      g->n_cand += self->n_cand - first;
    }
  for (guint gi = 0; gi < self->n_groups; gi++)
    sort_candidates (self->cand + self->groups[gi].start, self->groups[gi].n_cand);

  /* evaluation data, feature-major */
  self->n = eval->n;
  self->xt = g_new (float, (gsize) eval->n * eval->n_features);
  /* transposed in 32 × 32 tiles, so that reads and writes both stay in cache */
  for (guint s0 = 0; s0 < eval->n; s0 += 32)
    for (guint k0 = 0; k0 < eval->n_features; k0 += 32)
      for (guint s = s0; s < MIN (s0 + 32, eval->n); s++)
        for (guint k = k0; k < MIN (k0 + 32, eval->n_features); k++)
          self->xt[(gsize) k * eval->n + s] = eval->x[(gsize) s * eval->n_features + k];
  self->y = g_memdup2 (eval->y, sizeof (guint32) * eval->n);
  self->z1t = g_new (float, (gsize) m->sizes[1] * eval->n);
  self->n_blocks = (eval->n + BLOCK - 1) / BLOCK;
  self->block_loss = g_new0 (double, self->n_blocks);
  self->block_correct = g_new0 (guint, self->n_blocks);

  self->team = pl_team_new (threads);
  self->scratch_stride = 2 * (gsize) wmax * BLOCK;
  self->scratch = g_new (float, self->scratch_stride * pl_team_size (self->team));

  blas_threads = openblas_get_num_threads ();
  openblas_set_num_threads (1);
  compute_first_layer (self);
  openblas_set_num_threads (blas_threads);

  return g_steal_pointer (&self);
}

void
pl_preview_free (PlPreview *self)
{
  if (self == NULL)
    return;

  pl_mlp_free (self->model);
  g_free (self->cand);
  g_free (self->refcount);
  g_free (self->masks);
  g_free (self->neuron_masks);
  g_free (self->alive_out);
  g_free (self->weff_block);
  g_free (self->xt);
  g_free (self->z1t);
  g_free (self->y);
  g_free (self->block_loss);
  g_free (self->block_correct);
  g_clear_pointer (&self->team, pl_team_free);
  g_free (self->scratch);
  g_array_unref (self->changes);
  g_free (self);
}

/* First candidate of the group whose key is ≥ key (the count of keys below it), compared in
 * double as pl_prune_select does. NaN scores have the key +∞ and are never below. */
static guint
count_below (const PlPreview *self,
             const Group     *g,
             double           key)
{
  guint lo = 0, hi = g->n_cand;

  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;

      if ((double) self->cand[g->start + mid].key < key)
        lo = mid + 1;
      else
        hi = mid;
    }
  return lo;
}

gboolean
pl_preview_run (PlPreview        *self,
                double            value,
                gboolean          by_threshold,
                PlPreviewResult  *result,
                GError          **error)
{
  PlMlp *m;
  gsize changed = 0;
  double loss = 0.0;
  guint correct = 0;
  int blas_threads;

  g_return_val_if_fail (self != NULL && result != NULL, FALSE);

  m = self->model;
  if (!by_threshold && !(value >= 0.0 && value <= 1.0))
    {
      g_set_error (error, PL_SPEC_ERROR, PL_SPEC_ERROR_INVALID,
                   _("sparsity %g is not between 0 and 1"), value);
      return FALSE;
    }
  if (by_threshold && isnan (value))
    {
      g_set_error (error, PL_SPEC_ERROR, PL_SPEC_ERROR_INVALID, _("the threshold is not a number"));
      return FALSE;
    }

  memset (result, 0, sizeof *result);
  result->value = value;
  result->threshold = NAN;

  for (guint gi = 0; gi < self->n_groups; gi++)
    {
      Group *g = &self->groups[gi];
      guint k;

      if (by_threshold)
        k = count_below (self, g, self->invert ? -value : value);
      else
        {
          /* to nearest, halves to even, as Python's round() in torch.nn.utils.prune */
          double target = nearbyint (value * (double) g->n_scope);

          k = target <= (double) g->n_already ? 0 : (guint) MIN (target - g->n_already, g->n_cand);
        }

      for (guint c = g->k; c < k; c++)
        toggle_candidate (self, &self->cand[g->start + c], +1);
      for (guint c = k; c < g->k; c++)
        toggle_candidate (self, &self->cand[g->start + c], -1);
      changed += k > g->k ? k - g->k : g->k - k;
      g->k = k;

      if (gi == 0 && k > 0)
        {
          float key = self->cand[g->start + k - 1].key;
          result->threshold = self->invert ? -key : key;
        }
    }

  blas_threads = openblas_get_num_threads ();
  openblas_set_num_threads (1);

  /* Many first-layer changes (an axpy per weight costs about what a 20% share of the sgemm
   * does), or so many since the last whole computation that rounding could add up: compute
   * it whole. */
  if (self->changes->len > (gsize) m->sizes[0] * m->sizes[1] / 5
      || self->drift + self->changes->len > 4 * (gsize) m->sizes[0] * m->sizes[1])
    {
      compute_first_layer (self);
      result->full_recompute = TRUE;
    }
  else
    {
      g_array_sort (self->changes, compare_changes);
      self->drift += self->changes->len;
    }

  pl_team_run (self->team, forward_member, self);
  g_array_set_size (self->changes, 0);
  openblas_set_num_threads (blas_threads);

  for (guint b = 0; b < self->n_blocks; b++)
    {
      loss += self->block_loss[b];
      correct += self->block_correct[b];
    }

  result->n = self->n;
  result->n_correct = correct;
  result->accuracy = (double) correct / self->n;
  result->loss = loss / self->n;
  result->changed = changed;
  for (guint i = 0; i < m->n_layers; i++)
    {
      gsize nw = (gsize) m->layers[i].n_out * m->layers[i].n_in;

      result->weights += nw;
      result->pruned += self->layer_pruned[i];
      result->layer_sparsity[i] = (double) self->layer_pruned[i] / nw;
      if (i + 1 < m->n_layers)
        for (guint j = 0; j < m->layers[i].n_out; j++)
          {
            gsize u = self->neuron_offset[i] + j;

            result->neurons++;
            result->dead_neurons += self->neuron_masks[u] == 0.0f || self->alive_out[u] == 0;
          }
    }
  result->sparsity = (double) result->pruned / result->weights;

  return TRUE;
}

void
pl_preview_get_masks (PlPreview *self,
                      float     *masks,
                      float     *neuron_masks)
{
  const PlMlp *m = self->model;

  if (masks != NULL)
    memcpy (masks, self->masks, sizeof (float) * m->n_params);
  if (neuron_masks != NULL)
    for (guint i = 0; i < m->n_layers; i++)
      for (guint j = 0; j < m->layers[i].n_out; j++)
        {
          gsize u = self->neuron_offset[i] + j;

          neuron_masks[u] = i + 1 == m->n_layers
                            || (self->neuron_masks[u] != 0.0f && self->alive_out[u] > 0) ? 1.0f : 0.0f;
        }
}
