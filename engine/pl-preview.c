#define G_LOG_DOMAIN "pl-preview"

#include "config.h"

#include <cblas.h>
#include <float.h>
#include <glib/gi18n-lib.h>
#include <math.h>
#include <string.h>

#include "pl-blas.h"
#include "pl-error.h"
#include "pl-preview.h"
#include "pl-simd.h"
#include "pl-team.h"

/* Samples per block. The inputs and pre-activations are stored block by block ([block][row]
 * [BLOCK samples], the last block padded with zeros), so that a block's rows are contiguous and
 * stay in L2 while the block is worked on. */
#define BLOCK 256

/* A weight updated by an axpy over the samples costs about what three weights of an sgemm do
 * (measured with `prunelab-cli bench drag` and `sweep`): the first layer is brought up to date
 * by the cheapest of its changes, its kept weights as sparse rows, or a dense sgemm. */
#define SPARSE_COST 3

/* An upper layer runs as sparse rows below this share of kept weights, else as an sgemm. */
#define UPPER_SPARSE_DENSITY 0.3

typedef struct {
  guint  start;       /* first candidate of the group in the sorted arrays */
  guint  n_cand;
  gsize  n_scope;     /* weights (or neurons) in scope, those pruned already included */
  gsize  n_already;   /* pruned already in the model */
  guint  k;           /* candidates the current preview prunes: the first k of the group */
  guint  layer;       /* with the per-layer, row and ERK scopes: the group's layer */
} Group;

typedef struct {
  guint32 row, col;
  float   delta;      /* added to the weight: −w when pruned, +w when restored */
} Change;

/* A matrix as sparse rows: the entries of row r are entries[row_ptr[r] … row_ptr[r + 1]). */
typedef struct {
  guint32 col;
  float   value;
} Entry;

typedef struct {
  guint    n_rows;
  guint32 *row_ptr;   /* owned, n_rows + 1 */
  Entry   *entries;   /* owned, room for every weight of the layer */
} SparseRows;

typedef enum {
  FIRST_KEEP,         /* the first layer's pre-activations are up to date */
  FIRST_UPDATE,       /* add the changes (sparse rows) */
  FIRST_SPARSE,       /* recompute from the kept weights as sparse rows */
  FIRST_DENSE,        /* recompute with an sgemm of the masked weights */
} FirstMode;

typedef struct {
  float   key;        /* the score, negated with invert: the lowest keys go first */
  guint32 id;         /* param index (weights) or neuron index (neurons) */
  guint8  layer;
} Candidate;

struct _PlPreviewInputs {
  guint      n;              /* samples */
  guint      n_features;
  guint      n_classes;
  guint      n_blocks;
  float     *xb;             /* owned, (n_blocks, n_features, BLOCK), the last block padded
                              * with zeros */
  guint32   *y;              /* owned, (n) */
};

struct _PlPreview {
  PlMlp     *model;          /* owned copy: base parameters and masks */
  gboolean   structured;
  gboolean   invert;
  PlScope    scope;
  gboolean   exclude_output;
  guint      n_groups;
  Group     *groups;         /* owned: one (global), one per layer (layer, ERK), one per
                              * output row of every layer (row) */
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
  SparseRows sparse[PL_MLP_MAX_LAYERS];         /* per layer, for this run */
  gboolean   use_sparse[PL_MLP_MAX_LAYERS];     /* layers ≥ 1: this run takes sparse[i] */

  PlPreviewInputs *inputs;   /* owned reference: the evaluation samples, feature-major */
  guint      n;              /* evaluation samples: inputs->n */
  guint      n_blocks;
  const float *xb;           /* borrowed from inputs: (n_blocks, n_in, BLOCK) */
  float     *z1b;            /* owned, (n_blocks, n1, BLOCK): first-layer pre-activations,
                              * bias excluded */
  float     *w1;             /* owned, (n1, n_in): the masked first layer for FIRST_DENSE */
  const guint32 *y;          /* borrowed from inputs: (n) */
  double    *block_loss;     /* owned */
  guint     *block_correct;  /* owned */
  PlTeam    *team;           /* owned */
  float     *scratch;        /* owned: per member, 2 × (max width × BLOCK) */
  gsize      scratch_stride;

  FirstMode  first_mode;     /* of this run */
  gboolean   z1_valid;       /* z1b was computed (it is not before the first run) */
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
      Change c = { (guint32) (local / l->n_in), (guint32) (local % l->n_in),
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

/* The changes as sparse rows, in the order they were made within each row (counting sort). */
static void
changes_to_rows (const GArray *changes,
                 SparseRows   *sr)
{
  const Change *c = (const Change *) changes->data;

  memset (sr->row_ptr, 0, sizeof (guint32) * (sr->n_rows + 1));
  for (guint k = 0; k < changes->len; k++)
    sr->row_ptr[c[k].row + 1]++;
  for (guint r = 0; r < sr->n_rows; r++)
    sr->row_ptr[r + 1] += sr->row_ptr[r];
  for (guint k = 0; k < changes->len; k++)
    {
      guint32 *at = &sr->row_ptr[c[k].row];

      sr->entries[(*at)++] = (Entry) { c[k].col, c[k].delta };
    }
  /* each row_ptr[r] now holds the end of row r: shift back */
  memmove (sr->row_ptr + 1, sr->row_ptr, sizeof (guint32) * sr->n_rows);
  sr->row_ptr[0] = 0;
}

/* The nonzero weights (n_rows, n_cols) as sparse rows, leaving out the columns whose
 * @col_mask is 0 (@col_mask may be NULL). */
static void
weights_to_rows (const float *w,
                 guint        n_cols,
                 const float *col_mask,
                 SparseRows  *sr)
{
  guint32 k = 0;

  for (guint r = 0; r < sr->n_rows; r++)
    {
      const float *wr = w + (gsize) r * n_cols;

      sr->row_ptr[r] = k;
      for (guint c = 0; c < n_cols; c++)
        if (wr[c] != 0.0f && (col_mask == NULL || col_mask[c] != 0.0f))
          sr->entries[k++] = (Entry) { c, wr[c] };
    }
  sr->row_ptr[sr->n_rows] = k;
}

/* z (n_rows, BLOCK) ← S · x, or z + S · x with @accumulate, for S as sparse rows and x
 * (n_cols, BLOCK). Four entries of a row go in one pass, so that the row of z is loaded and
 * stored once for four rows of x (the loop is bound by loads, not arithmetic). */
PL_TARGET_CLONES static void
sparse_rows_times_block (float            *z,
                         const float      *x,
                         const SparseRows *s,
                         gboolean          accumulate)
{
  for (guint r = 0; r < s->n_rows; r++)
    {
      float *restrict zr = z + (gsize) r * BLOCK;
      const Entry *e = s->entries;
      guint c = s->row_ptr[r], end = s->row_ptr[r + 1];

      if (!accumulate)
        memset (zr, 0, sizeof (float) * BLOCK);

      for (; c + 4 <= end; c += 4)
        {
          const float *restrict x0 = x + (gsize) e[c].col * BLOCK;
          const float *restrict x1 = x + (gsize) e[c + 1].col * BLOCK;
          const float *restrict x2 = x + (gsize) e[c + 2].col * BLOCK;
          const float *restrict x3 = x + (gsize) e[c + 3].col * BLOCK;
          float d0 = e[c].value, d1 = e[c + 1].value, d2 = e[c + 2].value, d3 = e[c + 3].value;

          for (guint i = 0; i < BLOCK; i++)
            zr[i] += (d0 * x0[i] + d1 * x1[i]) + (d2 * x2[i] + d3 * x3[i]);
        }
      for (; c < end; c++)
        {
          const float *restrict xr = x + (gsize) e[c].col * BLOCK;
          float d = e[c].value;

          for (guint i = 0; i < BLOCK; i++)
            zr[i] += d * xr[i];
        }
    }
}

/* out (rows, BLOCK) ← activation(in + b) ⊙ neuron_mask, row by row; in may be out */
PL_TARGET_CLONES static void
bias_activate_rows (float        *out,
                    const float  *in,
                    const float  *restrict b,
                    const float  *restrict nm,
                    guint                  rows,
                    PlActivation           activation)
{
  for (guint j = 0; j < rows; j++)
    {
      const float *zr = in + (gsize) j * BLOCK;
      float *hr = out + (gsize) j * BLOCK;
      float bj = b[j], mj = nm[j];

      switch (activation)
        {
        case PL_ACTIVATION_RELU:
          for (guint s = 0; s < BLOCK; s++)
            {
              float v = zr[s] + bj;
              hr[s] = (v > 0.0f ? v : 0.0f) * mj;
            }
          break;
        case PL_ACTIVATION_TANH:
          for (guint s = 0; s < BLOCK; s++)
            hr[s] = tanhf (zr[s] + bj) * mj;
          break;
        case PL_ACTIVATION_SIGMOID:
          for (guint s = 0; s < BLOCK; s++)
            hr[s] = mj / (1.0f + expf (-(zr[s] + bj)));
          break;
        default:
          g_assert_not_reached ();
        }
    }
}

/* Loss and correct count of the first @nb samples of the logits (m, BLOCK), column by column;
 * the same float arithmetic as pl_nn_forward + pl_nn_loss. */
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
          p[j] = z[(gsize) j * BLOCK + s] + b[j];
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
  const PlLayer *l0 = &m->layers[0];
  const float *xb = self->xb + (gsize) b * l0->n_in * BLOCK;
  float *z1 = self->z1b + (gsize) b * l0->n_out * BLOCK;
  float *h = scratch;
  float *z = scratch + self->scratch_stride / 2;
  double loss = 0.0;
  guint correct = 0;

  switch (self->first_mode)
    {
    case FIRST_KEEP:
      break;
    case FIRST_UPDATE:
      sparse_rows_times_block (z1, xb, &self->sparse[0], TRUE);
      break;
    case FIRST_SPARSE:
      sparse_rows_times_block (z1, xb, &self->sparse[0], FALSE);
      break;
    case FIRST_DENSE:
      /* Z1 (n1, BLOCK) = W1 (n1, n_in) · X (n_in, BLOCK) */
      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans,
                   l0->n_out, BLOCK, l0->n_in,
                   1.0f, self->w1, l0->n_in, xb, BLOCK,
                   0.0f, z1, BLOCK);
      break;
    default:
      g_assert_not_reached ();
    }

  if (L == 1)
    score_logits (z1, l0->b, l0->n_out, nb, self->y + s0, &loss, &correct);
  else
    {
      bias_activate_rows (h, z1, l0->b, self->neuron_masks, l0->n_out, m->activation);

      for (guint i = 1; i < L; i++)
        {
          const PlLayer *l = &m->layers[i];
          float *t;

          /* Z (n_out, BLOCK) = W_eff (n_out, n_in) · H (n_in, BLOCK) */
          if (self->use_sparse[i])
            sparse_rows_times_block (z, h, &self->sparse[i], FALSE);
          else
            cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans,
                         l->n_out, BLOCK, l->n_in,
                         1.0f, self->weff[i], l->n_in, h, BLOCK,
                         0.0f, z, BLOCK);
          if (i + 1 == L)
            {
              score_logits (z, l->b, l->n_out, nb, self->y + s0, &loss, &correct);
              break;
            }

          bias_activate_rows (z, z, l->b, self->neuron_masks + self->neuron_offset[i],
                              l->n_out, m->activation);
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

typedef struct {
  PlPreviewInputs *inputs;
  const PlDataset *eval;
  const guint     *index;   /* (inputs->n) samples of eval taken, or NULL for all */
} TransposeJob;

/* The member's blocks of the evaluation inputs, transposed into xb: the samples of a block
 * are read in rows of 16 features and written to 16 rows of the block at once, so that reads
 * and writes both go in address order; the last block is padded with zeros. */
static void
transpose_member (guint    index,
                  guint    n_threads,
                  gpointer data)
{
  TransposeJob *job = data;
  PlPreviewInputs *in = job->inputs;
  guint n_in = in->n_features;

  for (guint b = index; b < in->n_blocks; b += n_threads)
    {
      float *out = in->xb + (gsize) b * n_in * BLOCK;
      guint s0 = b * BLOCK;
      guint nb = MIN (BLOCK, in->n - s0);

      for (guint k0 = 0; k0 < n_in; k0 += 16)
        {
          guint k1 = MIN (k0 + 16, n_in);

          for (guint s = 0; s < nb; s++)
            {
              guint src = job->index != NULL ? job->index[s0 + s] : s0 + s;
              const float *row = job->eval->x + (gsize) src * n_in;

              for (guint k = k0; k < k1; k++)
                out[(gsize) k * BLOCK + s] = row[k];
            }
          for (guint k = k0; k < k1; k++)
            memset (out + (gsize) k * BLOCK + nb, 0, sizeof (float) * (BLOCK - nb));
        }
    }
}

PlPreviewInputs *
pl_preview_inputs_new (const PlDataset *eval,
                       guint            max_samples,
                       guint            threads)
{
  PlPreviewInputs *in;
  g_autofree guint *index = NULL;
  g_autoptr(PlTeam) team = NULL;
  TransposeJob job;

  g_return_val_if_fail (eval != NULL && eval->n > 0 && threads >= 1, NULL);

  in = g_atomic_rc_box_new0 (PlPreviewInputs);
  in->n = max_samples > 0 ? MIN (max_samples, eval->n) : eval->n;
  in->n_features = eval->n_features;
  in->n_classes = eval->n_classes;
  in->n_blocks = (in->n + BLOCK - 1) / BLOCK;
  in->xb = g_new (float, (gsize) in->n_blocks * in->n_features * BLOCK);
  in->y = g_new (guint32, in->n);
  if (in->n < eval->n)
    {
      /* evenly spaced: sample ⌊i·n/m⌋ for i < m, so every part of the set is represented */
      index = g_new (guint, in->n);
      for (guint i = 0; i < in->n; i++)
        index[i] = (guint) ((guint64) i * eval->n / in->n);
    }
  for (guint i = 0; i < in->n; i++)
    in->y[i] = eval->y[index != NULL ? index[i] : i];

  job = (TransposeJob) { in, eval, index };
  team = pl_team_new (threads);
  pl_team_run (team, transpose_member, &job);
  return in;
}

static void
inputs_clear (gpointer data)
{
  PlPreviewInputs *in = data;

  g_free (in->xb);
  g_free (in->y);
}

PlPreviewInputs *
pl_preview_inputs_ref (PlPreviewInputs *inputs)
{
  g_return_val_if_fail (inputs != NULL, NULL);

  return g_atomic_rc_box_acquire (inputs);
}

void
pl_preview_inputs_unref (PlPreviewInputs *inputs)
{
  if (inputs != NULL)
    g_atomic_rc_box_release_full (inputs, inputs_clear);
}

guint
pl_preview_inputs_get_n (const PlPreviewInputs *inputs)
{
  g_return_val_if_fail (inputs != NULL, 0);

  return inputs->n;
}

/* The model's size against the evaluation data's. */
static gboolean
check_eval (const PlMlp  *model,
            guint         n,
            guint         n_features,
            guint         n_classes,
            GError      **error)
{
  guint L = model->n_layers;

  if (n == 0 || n_features != model->sizes[0] || n_classes > model->sizes[L])
    {
      g_set_error (error, PL_TRAIN_ERROR, PL_TRAIN_ERROR_MISMATCH,
                   _("the model takes %u inputs and has %u classes; the evaluation data has %u samples, %u features and %u classes"),
                   model->sizes[0], model->sizes[L], n, n_features, n_classes);
      return FALSE;
    }
  return TRUE;
}

PlPreview *
pl_preview_new (const PlMlp        *model,
                const PlScores     *scores,
                const PlPruneSpec  *spec,
                const PlDataset    *eval,
                guint               threads,
                GError            **error)
{
  PlPreviewInputs *inputs;
  PlPreview *self;

  g_return_val_if_fail (model != NULL && scores != NULL && spec != NULL && eval != NULL, NULL);
  g_return_val_if_fail (threads >= 1, NULL);

  if (!check_eval (model, eval->n, eval->n_features, eval->n_classes, error))
    return NULL;
  inputs = pl_preview_inputs_new (eval, 0, threads);
  self = pl_preview_new_shared (model, scores, spec, inputs, threads, error);
  pl_preview_inputs_unref (inputs);
  return self;
}

PlPreview *
pl_preview_new_shared (const PlMlp        *model,
                       const PlScores     *scores,
                       const PlPruneSpec  *spec,
                       PlPreviewInputs    *inputs,
                       guint               threads,
                       GError            **error)
{
  g_autoptr(PlPreview) self = NULL;
  PlMlp *m;
  guint L, wmax = 0;
  gsize n_params_w = 0, off = 0, noff = 0, weff_total = 0;

  g_return_val_if_fail (model != NULL && scores != NULL && spec != NULL && inputs != NULL, NULL);
  g_return_val_if_fail (threads >= 1, NULL);

  L = model->n_layers;
  if (!check_eval (model, inputs->n, inputs->n_features, inputs->n_classes, error))
    return NULL;
  if (scores->n_layers != L || model->sizes[L] > 256)
    {
      g_set_error (error, PL_TRAIN_ERROR, PL_TRAIN_ERROR_MISMATCH,
                   _("the scores are for %u layers, the model has %u"), scores->n_layers, L);
      return NULL;
    }

  if (!pl_prune_spec_check_kind (spec, scores->per_neuron, error))
    return NULL;

  self = g_new0 (PlPreview, 1);
  self->model = m = pl_mlp_copy (model);
  self->changes = g_array_new (FALSE, FALSE, sizeof (Change));
  if (spec->nm_m > 0)
    {
      /* the N:M step is the same for every value: it becomes part of the base masks, pruned
       * already, as pl_prune_select counts it */
      PlPruneSpec nm = *spec;

      nm.scope = PL_SCOPE_GLOBAL;
      nm.by_threshold = FALSE;
      nm.values[0] = 0.0;
      nm.n_values = 1;
      if (!pl_prune_select (m, scores, &nm, m->masks, m->neuron_masks, error))
        return NULL;
    }
  pl_mlp_apply_masks (m);
  self->structured = scores->per_neuron;
  self->invert = spec->invert;
  self->scope = spec->scope;
  self->exclude_output = spec->exclude_output;

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
  if (spec->scope == PL_SCOPE_GLOBAL)
    self->n_groups = 1;
  else if (spec->scope == PL_SCOPE_ROW)
    for (guint i = 0; i < L; i++)
      self->n_groups += m->layers[i].n_out;
  else
    self->n_groups = L;
  self->groups = g_new0 (Group, self->n_groups);
  for (guint i = 0, row0 = 0; i < L; row0 += m->layers[i].n_out, i++)
    {
      const PlLayer *l = &m->layers[i];
      gsize n_units, best = G_MAXSIZE, group_size;
      Candidate best_c = { 0 };

      if (spec->scope == PL_SCOPE_LAYER || spec->scope == PL_SCOPE_ERK)
        {
          self->groups[i].start = self->n_cand;
          self->groups[i].layer = i;
        }
      if (self->structured ? i + 1 == L : (spec->exclude_output && i + 1 == L))
        {
          if (spec->scope == PL_SCOPE_ROW)
            for (guint o = 0; o < l->n_out; o++)
              self->groups[row0 + o] = (Group) { .start = self->n_cand, .layer = i };
          continue;
        }

      n_units = self->structured ? l->n_out : (gsize) l->n_out * l->n_in;
      if (scores->n[i] != n_units)
        {
          g_set_error (error, PL_TRAIN_ERROR, PL_TRAIN_ERROR_MISMATCH,
                       _("the scores of layer %u have %lu values, the layer needs %lu"),
                       i, (unsigned long) scores->n[i], (unsigned long) n_units);
          return NULL;
        }

      /* the last one in pruning order is kept back, so that the layer is never emptied */
      for (gsize u = 0; u < n_units && !spec->allow_empty; u++)
        {
          gboolean alive = self->structured ? l->neuron_mask[u] != 0.0f : l->w_mask[u] != 0.0f;
          float sc = scores->layer[i][u];
          Candidate c;

          if (!alive)
            continue;
          c.key = isnan (sc) ? INFINITY : (spec->invert ? -sc : sc);
          c.id = (guint32) (self->structured ? self->neuron_offset[i] + u : self->layer_offset[i] + u);
          if (best == G_MAXSIZE || compare_candidates (&c, &best_c) > 0)
            {
              best = u;
              best_c = c;
            }
        }

      group_size = spec->scope == PL_SCOPE_ROW ? l->n_in : n_units;
      for (gsize u = 0; u < n_units; u++)
        {
          gboolean alive = self->structured ? l->neuron_mask[u] != 0.0f : l->w_mask[u] != 0.0f;
          float sc = scores->layer[i][u];
          Group *g;
          Candidate *c;

          if (spec->scope == PL_SCOPE_GLOBAL)
            g = &self->groups[0];
          else if (spec->scope == PL_SCOPE_ROW)
            {
              g = &self->groups[row0 + u / group_size];
              if (u % group_size == 0)
                *g = (Group) { .start = self->n_cand, .layer = i };
            }
          else
            g = &self->groups[i];
          g->n_scope++;
          if (!alive)
            {
              g->n_already++;
              continue;
            }
          if (u == best)
            continue;
          c = &self->cand[self->n_cand++];
          c->key = isnan (sc) ? INFINITY : (spec->invert ? -sc : sc);
          c->id = (guint32) (self->structured ? self->neuron_offset[i] + u : self->layer_offset[i] + u);
          c->layer = (guint8) i;
          g->n_cand++;
        }
    }
  for (guint gi = 0; gi < self->n_groups; gi++)
    sort_candidates (self->cand + self->groups[gi].start, self->groups[gi].n_cand);

  /* the evaluation data feature-major, block by block, shared: (n_blocks, n_in, BLOCK) */
  self->inputs = pl_preview_inputs_ref (inputs);
  self->n = inputs->n;
  self->n_blocks = inputs->n_blocks;
  self->xb = inputs->xb;
  self->y = inputs->y;
  self->team = pl_team_new (threads);
  self->z1b = g_new (float, (gsize) self->n_blocks * m->sizes[1] * BLOCK);
  self->w1 = g_new (float, (gsize) m->sizes[1] * m->sizes[0]);
  for (guint i = 0; i < L; i++)
    {
      SparseRows *sr = &self->sparse[i];

      sr->n_rows = m->layers[i].n_out;
      sr->row_ptr = g_new0 (guint32, sr->n_rows + 1);
      sr->entries = g_new (Entry, (gsize) m->layers[i].n_out * m->layers[i].n_in);
    }
  self->block_loss = g_new0 (double, self->n_blocks);
  self->block_correct = g_new0 (guint, self->n_blocks);

  self->scratch_stride = 2 * (gsize) wmax * BLOCK;
  self->scratch = g_new (float, self->scratch_stride * pl_team_size (self->team));
  /* the first layer is computed by the first run, from whatever it keeps */

  return g_steal_pointer (&self);
}

void
pl_preview_free (PlPreview *self)
{
  if (self == NULL)
    return;

  pl_mlp_free (self->model);
  g_free (self->cand);
  g_free (self->groups);
  g_free (self->refcount);
  g_free (self->masks);
  g_free (self->neuron_masks);
  g_free (self->alive_out);
  g_free (self->weff_block);
  pl_preview_inputs_unref (self->inputs);
  g_free (self->z1b);
  g_free (self->w1);
  for (guint i = 0; i < PL_MLP_MAX_LAYERS; i++)
    {
      g_free (self->sparse[i].row_ptr);
      g_free (self->sparse[i].entries);
    }
  g_free (self->block_loss);
  g_free (self->block_correct);
  g_clear_pointer (&self->team, pl_team_free);
  g_free (self->scratch);
  g_array_unref (self->changes);
  g_free (self);
}

/* How this run brings the first layer's pre-activations up to date: the cheapest of adding the
 * changes, the kept weights as sparse rows and an sgemm; whole when it has never been computed,
 * or when so many changes were added since that rounding could add up. */
static void
choose_first_mode (PlPreview *self)
{
  const PlLayer *l = &self->model->layers[0];
  gsize n_weights = (gsize) l->n_out * l->n_in;
  gsize n_changes = self->changes->len;
  gboolean whole = !self->z1_valid || self->drift + n_changes > 4 * n_weights;
  /* in neuron mode the weights stay as the model has them; the neuron masks do the pruning */
  const float *mask = self->structured ? l->w_mask : self->masks + self->layer_offset[0];
  gsize kept = n_weights - self->layer_pruned[0];

  if (!whole && n_changes == 0)
    {
      self->first_mode = FIRST_KEEP;
      return;
    }

  /* (neuron mode adds no changes: only its first run gets here) */
  if (self->structured)
    for (gsize k = kept = 0; k < n_weights; k++)
      kept += mask[k] != 0.0f;

  if (!whole && n_changes * SPARSE_COST <= MIN (kept * SPARSE_COST, n_weights))
    {
      self->first_mode = FIRST_UPDATE;
      changes_to_rows (self->changes, &self->sparse[0]);
      self->drift += n_changes;
    }
  else
    {
      for (gsize k = 0; k < n_weights; k++)
        self->w1[k] = l->w[k] * mask[k];
      self->first_mode = kept * SPARSE_COST < n_weights ? FIRST_SPARSE : FIRST_DENSE;
      if (self->first_mode == FIRST_SPARSE)
        weights_to_rows (self->w1, l->n_in, NULL, &self->sparse[0]);
      self->z1_valid = TRUE;
      self->drift = 0;
    }
  g_array_set_size (self->changes, 0);
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
  double erk[PL_MLP_MAX_LAYERS];
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

  if (by_threshold && self->scope == PL_SCOPE_ERK)
    {
      g_set_error (error, PL_SPEC_ERROR, PL_SPEC_ERROR_INVALID,
                   _("the ERK scope allocates a target sparsity to the layers; it takes no "
                     "threshold: drag the sparsity instead"));
      return FALSE;
    }

  memset (result, 0, sizeof *result);
  result->value = value;
  result->threshold = NAN;
  if (self->scope == PL_SCOPE_ERK)
    pl_erk_sparsities (m, value, self->exclude_output, erk);

  for (guint gi = 0; gi < self->n_groups; gi++)
    {
      Group *g = &self->groups[gi];
      guint k;

      if (by_threshold)
        k = count_below (self, g, self->invert ? -value : value);
      else
        {
          /* to nearest, halves to even, as Python's round() in torch.nn.utils.prune */
          double v = self->scope == PL_SCOPE_ERK ? erk[g->layer] : value;
          double target = nearbyint (v * (double) g->n_scope);

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

  blas_threads = pl_blas_set_threads (1);

  choose_first_mode (self);
  result->full_recompute = self->first_mode == FIRST_SPARSE || self->first_mode == FIRST_DENSE;
  for (guint i = 1; i < m->n_layers; i++)
    {
      const PlLayer *l = &m->layers[i];
      gsize n_weights = (gsize) l->n_out * l->n_in;

      /* the sparse rows are built only when they are taken */
      self->use_sparse[i] = n_weights - self->layer_pruned[i] < UPPER_SPARSE_DENSITY * n_weights;
      if (self->use_sparse[i])
        weights_to_rows (self->weff[i], l->n_in, self->neuron_masks + self->neuron_offset[i - 1],
                         &self->sparse[i]);
    }

  pl_team_run (self->team, forward_member, self);
  g_array_set_size (self->changes, 0);
  pl_blas_set_threads (blas_threads);

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
