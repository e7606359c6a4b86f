#define G_LOG_DOMAIN "pl-obs"

#include "config.h"

#include "pl-obs.h"

#include <glib/gi18n-lib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pl-blas.h"
#include "pl-error.h"
#include "pl-nn.h"
#include "pl-rng.h"

/* LAPACK, from OpenBLAS (which ships it). Fortran symbols: every argument by reference, and the
 * hidden length of each character argument at the end, as LAPACKE passes it. Row-major
 * symmetric matrices are their own transposes, so a row-major buffer passes as is; "L" in
 * Fortran's column-major order is the upper triangle of the row-major buffer. */
extern void dpotrf_ (const char *uplo, const int *n, double *a, const int *lda, int *info,
                     size_t uplo_len);
extern void dpotri_ (const char *uplo, const int *n, double *a, const int *lda, int *info,
                     size_t uplo_len);
extern void dposv_  (const char *uplo, const int *n, const int *nrhs, double *a, const int *lda,
                     double *b, const int *ldb, int *info, size_t uplo_len);

/* h (c, c), symmetric positive definite, becomes U (c, c), upper triangular, H⁻¹ = UᵀU (the
 * strict lower triangle 0): Cholesky of H, its inverse from the factor, Cholesky of that. */
static gboolean
inverse_cholesky_upper (double  *h,
                        guint    c,
                        GError **error)
{
  int n = (int) c, info = 0;

  dpotrf_ ("L", &n, h, &n, &info, 1);
  if (info == 0)
    dpotri_ ("L", &n, h, &n, &info, 1);
  if (info == 0)
    {
      /* dpotri filled the row-major upper triangle: mirror it */
      for (guint i = 0; i < c; i++)
        for (guint j = i + 1; j < c; j++)
          h[(gsize) j * c + i] = h[(gsize) i * c + j];
      dpotrf_ ("L", &n, h, &n, &info, 1);
    }
  if (info != 0)
    {
      g_set_error (error, PL_TRAIN_ERROR, PL_TRAIN_ERROR_FAILED,
                   _("OBS: the layer’s Hessian is not positive definite (LAPACK info %d); use damping > 0"),
                   info);
      return FALSE;
    }
  for (guint i = 0; i < c; i++)
    for (guint j = 0; j < i; j++)
      h[(gsize) i * c + j] = 0.0;

  return TRUE;
}

typedef struct {
  double sal;
  guint  at;
} Candidate;

static int
compare_candidates (const void *a,
                    const void *b)
{
  const Candidate *x = a, *y = b;

  if (x->sal != y->sal)
    return x->sal < y->sal ? -1 : 1;
  return x->at < y->at ? -1 : x->at > y->at;
}

/* Sets the kept weights of each row of w (r, c) to the optimum for the mask:
 * ŵ_M = ((H)_MM)⁻¹ (K w0ᵀ)_M, w0 the target rows, H the damped Hessian (c, c) and K (c, c)
 * its counterpart for the target, H itself or 2 X_tᵀ X + λI. */
static gboolean
refit_rows (double        *w,
            const double  *w0,
            const float   *mask,
            const double  *h,
            const double  *k_target,
            guint          r,
            guint          c,
            GError       **error)
{
  g_autofree double *hw = g_new (double, (gsize) r * c);
  g_autofree double *a = g_new (double, (gsize) c * c);
  g_autofree double *b = g_new (double, c);
  g_autofree guint *kept = g_new (guint, c);

  /* hw (r, c) = w0 (r, c) · K (c, c), row o holding the right-hand side (K w0_oᵀ)ᵀ */
  cblas_dgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, r, c, c, 1.0, w0, c, k_target, c, 0.0,
               hw, c);

  for (guint o = 0; o < r; o++)
    {
      const float *m = mask + (gsize) o * c;
      int k = 0, one = 1, info = 0;

      for (guint j = 0; j < c; j++)
        if (m[j] != 0.0f)
          kept[k++] = j;
      for (guint j = 0; j < c; j++)
        w[(gsize) o * c + j] = 0.0;
      if (k == 0)
        continue;

      for (int p = 0; p < k; p++)
        {
          for (int q = 0; q < k; q++)
            a[(gsize) p * k + q] = h[(gsize) kept[p] * c + kept[q]];
          b[p] = hw[(gsize) o * c + kept[p]];
        }
      dposv_ ("L", &k, &one, a, &k, b, &k, &info, 1);
      if (info != 0)
        {
          g_set_error (error, PL_TRAIN_ERROR, PL_TRAIN_ERROR_FAILED,
                       _("OBS: the normal equations of row %u are singular (LAPACK info %d); use damping > 0"),
                       o, info);
          return FALSE;
        }
      for (int p = 0; p < k; p++)
        w[(gsize) o * c + kept[p]] = b[p];
    }

  return TRUE;
}

/* SparseGPT's mask selection and partial updates, then the refit, on w (r, c) with mask
 * (r, c) and the damped Hessian h (c, c); the first c_prunable columns are candidates, the
 * others (the bias as an input of constant 1) are always kept. */
static gboolean
obs_core (double             *w,
          float              *mask,
          guint               r,
          guint               c,
          guint               c_prunable,
          const double       *h,
          const double       *w_target,
          const double       *k_target,
          gsize               n_pruned,
          guint               bs,
          gboolean            refit,
          GCancellable       *cancellable,
          const PlObsOptions *o,
          double              start,
          double              share,
          GError            **error)
{
  gsize rc = (gsize) r * c;
  g_autofree double *u = g_memdup2 (h, sizeof (double) * c * c);
  g_autofree double *w0 = g_memdup2 (w, sizeof (double) * rc);
  g_autofree double *err = g_new (double, (gsize) r * bs);
  g_autofree Candidate *cand = g_new (Candidate, (gsize) r * bs);
  gsize done = 0;

  if (!inverse_cholesky_upper (u, c, error))
    return FALSE;

  for (guint i1 = 0; i1 < c; i1 += bs)
    {
      guint i2 = MIN (i1 + bs, c), nb = i2 - i1, p2 = MIN (i2, c_prunable);
      gsize target, take, n_cand = 0, already = 0;

      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return FALSE;
      if (o->progress != NULL && i1 > 0)
        o->progress (start + share * i1 / c, o->progress_data);

      /* the block's share of the layer's count: round(n_pruned · i2 / c) − pruned so far, at
       * least the weights pruned already */
      target = (gsize) ((n_pruned * (guint64) p2 + c_prunable / 2) / c_prunable);
      take = target > done ? target - done : 0;
      for (guint i = 0; i < r; i++)
        for (guint j = i1; j < p2; j++)
          {
            gsize at = (gsize) i * c + j;
            double d = u[(gsize) j * c + j];

            /* OBS saliency w² / [H⁻¹]_jj with the Cholesky diagonal: w_ij² / U_jj² */
            cand[n_cand].sal = mask[at] == 0.0f ? -INFINITY : w[at] * w[at] / (d * d);
            cand[n_cand].at = (guint) at;
            already += mask[at] == 0.0f;
            n_cand++;
          }
      take = MIN (MAX (take, already), n_cand);
      qsort (cand, n_cand, sizeof *cand, compare_candidates);
      for (gsize k = 0; k < take; k++)
        mask[cand[k].at] = 0.0f;
      done += take;

      /* column by column: e = w_ij / U_jj for the pruned weights, W[:, j:i2] −= e · U[j, j:i2] */
      for (guint j = i1; j < i2; j++)
        {
          const double *uj = u + (gsize) j * c;

          for (guint i = 0; i < r; i++)
            {
              double *wi = w + (gsize) i * c;
              double e = mask[(gsize) i * c + j] == 0.0f ? wi[j] / uj[j] : 0.0;

              err[(gsize) i * bs + (j - i1)] = e;
              if (e != 0.0)
                for (guint k = j; k < i2; k++)
                  wi[k] -= e * uj[k];
            }
        }

      /* the rest of the row: W[:, i2:] −= E (r, nb) · U[i1:i2, i2:] */
      if (i2 < c)
        cblas_dgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, r, c - i2, nb,
                     -1.0, err, bs, u + (gsize) i1 * c + i2, c, 1.0, w + i2, c);
    }

  return !refit || refit_rows (w, w_target != NULL ? w_target : w0, mask, h,
                               k_target != NULL ? k_target : h, r, c, error);
}

gboolean
pl_obs_prune_layer (float              *w_out,
                    float              *b_out,
                    float              *mask_out,
                    guint               r,
                    guint               c_in,
                    const float        *x,
                    const float        *x_target,
                    guint               n,
                    gsize               n_pruned,
                    const PlObsOptions *options,
                    GError            **error)
{
  static const PlObsOptions defaults = PL_OBS_OPTIONS_INIT;
  const PlObsOptions *o = options != NULL ? options : &defaults;
  guint c = c_in + (b_out != NULL);
  gsize rc = (gsize) r * c;
  g_autofree double *h = NULL;
  g_autofree double *xd = NULL;
  g_autofree double *xt = NULL;
  g_autofree double *k_target = NULL;
  g_autofree double *w_target = NULL;
  g_autofree double *w = NULL;
  g_autofree float *mask = NULL;
  double mean_diag = 0.0;

  g_return_val_if_fail (w_out != NULL && mask_out != NULL && x != NULL, FALSE);
  g_return_val_if_fail (r > 0 && c_in > 0 && n > 0 && n_pruned <= (gsize) r * c_in, FALSE);
  g_return_val_if_fail (o->block_size > 0 && o->damp >= 0.0, FALSE);

  /* H (c, c) = 2 Xᵀ X over the calibration inputs x (n, c_in), in double; with the bias, X
   * has a last column of ones */
  xd = g_new (double, (gsize) n * c);
  for (guint s = 0; s < n; s++)
    {
      for (guint j = 0; j < c_in; j++)
        xd[(gsize) s * c + j] = x[(gsize) s * c_in + j];
      if (c > c_in)
        xd[(gsize) s * c + c_in] = 1.0;
    }
  h = g_new (double, (gsize) c * c);
  cblas_dsyrk (CblasRowMajor, CblasUpper, CblasTrans, c, n, 2.0, xd, c, 0.0, h, c);
  if (x_target != NULL && o->refit)
    {
      /* K (c, c) = 2 X_tᵀ X: the right-hand side of ‖W X_t − Ŵ X‖² */
      xt = g_new (double, (gsize) n * c);
      for (guint s = 0; s < n; s++)
        {
          for (guint j = 0; j < c_in; j++)
            xt[(gsize) s * c + j] = x_target[(gsize) s * c_in + j];
          if (c > c_in)
            xt[(gsize) s * c + c_in] = 1.0;
        }
      k_target = g_new (double, (gsize) c * c);
      cblas_dgemm (CblasRowMajor, CblasTrans, CblasNoTrans, c, c, n, 2.0, xt, c, xd, c, 0.0,
                   k_target, c);
      g_clear_pointer (&xt, g_free);
    }
  g_clear_pointer (&xd, g_free);
  for (guint i = 0; i < c; i++)
    for (guint j = i + 1; j < c; j++)
      h[(gsize) j * c + i] = h[(gsize) i * c + j];

  w = g_new (double, rc);
  mask = g_new (float, rc);
  for (guint i = 0; i < r; i++)
    {
      for (guint j = 0; j < c_in; j++)
        {
          gsize at = (gsize) i * c_in + j;

          mask[(gsize) i * c + j] = mask_out[at] != 0.0f ? 1.0f : 0.0f;
          w[(gsize) i * c + j] = mask_out[at] != 0.0f ? w_out[at] : 0.0;
        }
      if (c > c_in)
        {
          mask[(gsize) i * c + c_in] = 1.0f;
          w[(gsize) i * c + c_in] = b_out[i];
        }
    }

  /* the target keeps every weight: an input dead after the layers before were pruned may
   * have carried signal in the dense network */
  if (k_target != NULL)
    w_target = g_memdup2 (w, sizeof (double) * rc);

  /* inputs always 0: H_jj = 1, their weights 0 (they change nothing); then the damping
   * λ = damp · mean(diag H) */
  for (guint j = 0; j < c; j++)
    {
      if (h[(gsize) j * c + j] == 0.0)
        {
          h[(gsize) j * c + j] = 1.0;
          for (guint i = 0; i < r; i++)
            w[(gsize) i * c + j] = 0.0;
        }
      mean_diag += h[(gsize) j * c + j] / c;
    }
  for (guint j = 0; j < c; j++)
    {
      h[(gsize) j * c + j] += o->damp * mean_diag;
      if (k_target != NULL)
        k_target[(gsize) j * c + j] += o->damp * mean_diag;
    }

  /* in steps: each prunes to its share of the count and refits towards the same target */
  if (w_target == NULL)
    w_target = g_memdup2 (w, sizeof (double) * rc);
  for (guint k = 1; k <= MAX (o->steps, 1); k++)
    {
      double share = 1.0 / MAX (o->steps, 1);

      if (!obs_core (w, mask, r, c, c_in, h, w_target, k_target,
                     (gsize) nearbyint ((double) n_pruned * k / MAX (o->steps, 1)),
                     MIN (o->block_size, c), o->refit, o->cancellable, o, (k - 1) * share, share, error))
        return FALSE;
      if (o->progress != NULL)
        o->progress (k * share, o->progress_data);
    }

  for (guint i = 0; i < r; i++)
    {
      for (guint j = 0; j < c_in; j++)
        {
          gsize at = (gsize) i * c_in + j;

          mask_out[at] = mask[(gsize) i * c + j];
          w_out[at] = mask_out[at] != 0.0f ? (float) w[(gsize) i * c + j] : 0.0f;
        }
      if (c > c_in)
        b_out[i] = (float) w[(gsize) i * c + c_in];
    }

  return TRUE;
}

/* The model's share of the work in pl_obs_prune(), from each layer's (PlObsOptions.progress). */
typedef struct {
  const PlObsOptions *options;   /* the caller's */
  double              done;      /* work of the layers finished */
  double              layer;     /* work of the layer running */
  double              total;
} Progress;

static double
layer_work (const PlLayer      *l,
            const PlObsOptions *o)
{
  double c = l->n_in + (o->bias ? 1 : 0), r = l->n_out;

  return MAX (o->steps, 1) * (c * c * c + r * c * c);
}

static void
layer_progress (double   fraction,
                gpointer data)
{
  Progress *p = data;

  if (p->total > 0)
    p->options->progress (MIN (1.0, (p->done + fraction * p->layer) / p->total), p->options->progress_data);
}

gboolean
pl_obs_prune (PlMlp              *model,
              const PlDataset    *data,
              const double       *sparsity,
              const PlObsOptions *options,
              GError            **error)
{
  static const PlObsOptions defaults = PL_OBS_OPTIONS_INIT;
  const PlObsOptions *o = options != NULL ? options : &defaults;
  g_autofree guint32 *order = NULL;
  g_autofree float *x = NULL;
  g_autoptr(PlNnWork) work = NULL;
  g_autoptr(PlNnWork) dense_work = NULL;
  g_autoptr(PlMlp) dense = NULL;
  PlObsOptions layer_options;
  Progress progress = { 0 };
  PlRng rng;
  guint n, n_features;

  g_return_val_if_fail (model != NULL && data != NULL && sparsity != NULL, FALSE);

  for (guint i = 0; i < model->n_layers; i++)
    if (!(sparsity[i] >= 0.0 && sparsity[i] <= 1.0))
      {
        g_set_error (error, PL_SPEC_ERROR, PL_SPEC_ERROR_INVALID,
                     _("OBS: the sparsity of layer %u must be in [0, 1]"), i);
        return FALSE;
      }
  if (o->calibration == 0 || o->block_size == 0 || o->steps == 0 || !(o->damp >= 0.0))
    {
      g_set_error (error, PL_SPEC_ERROR, PL_SPEC_ERROR_INVALID,
                   _("OBS: needs calibration samples, a block size and steps > 0 and damping ≥ 0"));
      return FALSE;
    }
  if (data->n_features != model->sizes[0] || data->n == 0)
    {
      g_set_error (error, PL_TRAIN_ERROR, PL_TRAIN_ERROR_MISMATCH,
                   _("OBS: the model takes %u inputs; the calibration data have %u features and %u samples"),
                   model->sizes[0], data->n_features, data->n);
      return FALSE;
    }

  /* the calibration samples: the first n of a seeded permutation */
  n = MIN (o->calibration, data->n);
  n_features = data->n_features;
  order = g_new (guint32, data->n);
  for (guint i = 0; i < data->n; i++)
    order[i] = i;
  pl_rng_init (&rng, o->seed);
  pl_rng_shuffle (&rng, order, data->n);
  x = g_new (float, (gsize) n * n_features);
  for (guint s = 0; s < n; s++)
    memcpy (x + (gsize) s * n_features, data->x + (gsize) order[s] * n_features,
            sizeof (float) * n_features);

  work = pl_nn_work_new (model, n);
  if (o->match_dense)
    {
      dense = pl_mlp_copy (model);
      dense_work = pl_nn_work_new (dense, n);
      pl_nn_forward (dense, dense_work, x, n);
    }
  layer_options = *o;
  if (o->progress != NULL)
    {
      layer_options.progress = layer_progress;
      layer_options.progress_data = &progress;
      progress = (Progress) { o, 0.0, 0.0, 0.0 };
      for (guint i = 0; i < model->n_layers; i++)
        progress.total += layer_work (&model->layers[i], o);
    }
  for (guint i = 0; i < model->n_layers; i++)
    {
      PlLayer *l = &model->layers[i];
      gsize nw = (gsize) l->n_out * l->n_in;
      const float *in = x, *target = NULL;

      progress.layer = layer_work (l, o);

      /* layer i's inputs through the layers before it, as pruned and updated, and with
       * match_dense those of the dense network */
      if (i > 0)
        {
          pl_nn_forward (model, work, x, n);
          in = work->act[i];
          target = dense != NULL ? dense_work->act[i] : NULL;
        }
      if (!pl_obs_prune_layer (l->w, o->bias ? l->b : NULL, l->w_mask, l->n_out, l->n_in, in, target, n,
                               (gsize) nearbyint (sparsity[i] * (double) nw), &layer_options, error))
        {
          g_prefix_error (error, _("layer %u: "), i);
          return FALSE;
        }
      progress.done += progress.layer;
    }
  pl_mlp_apply_masks (model);

  return TRUE;
}

gboolean
pl_obs_layer_sparsities (const PlMlp       *model,
                         const PlPruneSpec *spec,
                         double            *sparsity,
                         GError           **error)
{
  g_autoptr(PlScores) scores = NULL;
  g_autofree float *masks = NULL;
  g_autofree float *neuron_masks = NULL;
  gsize off = 0;

  g_return_val_if_fail (model != NULL && spec != NULL && sparsity != NULL, FALSE);

  if (spec->by_threshold || spec->invert)
    {
      g_set_error (error, PL_SPEC_ERROR, PL_SPEC_ERROR_INVALID,
                   _("OBS prunes to target sparsities, not by a threshold or inverted"));
      return FALSE;
    }
  if (spec->scope == PL_SCOPE_LAYER)
    {
      if (spec->n_values != 1 && spec->n_values != model->n_layers)
        {
          g_set_error (error, PL_SPEC_ERROR, PL_SPEC_ERROR_INVALID,
                       _("give one sparsity or one per layer (%u)"), model->n_layers);
          return FALSE;
        }
      for (guint i = 0; i < model->n_layers; i++)
        sparsity[i] = spec->values[spec->n_values == 1 ? 0 : i];
      if (spec->exclude_output)
        sparsity[model->n_layers - 1] = 0.0;
      return TRUE;
    }

  /* global: the per-layer shares global magnitude pruning would give */
  scores = pl_scores_compute (model, PL_SCORE_MAGNITUDE, NULL, NULL, error);
  if (scores == NULL)
    return FALSE;
  masks = g_new (float, model->n_params);
  neuron_masks = g_new (float, model->n_neurons);
  if (!pl_prune_select (model, scores, spec, masks, neuron_masks, error))
    return FALSE;
  for (guint i = 0; i < model->n_layers; i++)
    {
      const PlLayer *l = &model->layers[i];
      gsize nw = (gsize) l->n_out * l->n_in, z = 0;

      for (gsize k = 0; k < nw; k++)
        z += masks[off + k] == 0.0f;
      sparsity[i] = (double) z / nw;
      off += nw + l->n_out;
    }

  return TRUE;
}

double
pl_obs_layer_error (const float *w,
                    const float *w_hat,
                    guint        n_out,
                    guint        n_in,
                    const float *x,
                    guint        n)
{
  double sum = 0.0;

  for (guint s = 0; s < n; s++)
    for (guint o = 0; o < n_out; o++)
      {
        double d = 0.0;

        for (guint j = 0; j < n_in; j++)
          d += ((double) w[(gsize) o * n_in + j] - w_hat[(gsize) o * n_in + j])
               * x[(gsize) s * n_in + j];
        sum += d * d;
      }

  return sum;
}
