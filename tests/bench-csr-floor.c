/* bench-csr-floor.c — how fast a batch-1 forward through CSR could be on this machine, layer by
 * layer, against what pl_csr_mv does and against dense cblas_sgemv (issue 15's batch-1 targets)
 *
 *   bench-csr-floor MODEL.safetensors [DATA]    (DATA: a dataset spec, e.g. fashion-mnist, whose
 *                                                test images are the inputs; else random inputs
 *                                                uniform in [0, 1), without zeros)
 *
 * For each layer of the model as pruned (its effective weights: kept, between live neurons), on
 * the layer's real inputs (the masked network's activations of the test images), one thread,
 * the best of 15 passes over 512 samples, in µs per sample:
 *   dense     cblas_sgemv on the masked weights
 *   rows      pl_csr_mv without the column copy: a dot product per row, gathers of the input
 *   columns   pl_csr_mv with the column copy: its cost model's choice, skipping zero inputs
 *   chosen    what the forward of `bench sparse` runs: dense when pl_csr_mv_pays says no
 * and two floors, loops that do less than any correct kernel of either form must:
 *   floor rows      prod[k] = val[k] · x[col[k]] over the kept weights: one indexed load per
 *                   kept weight, no sums, no row boundaries (vectorised with the machine's
 *                   gathers where it has them)
 *   floor columns   out[row] += v over the entries that input skipping leaves, premultiplied
 *                   by their input and listed flat beforehand (the list not timed), the same
 *                   sample's list repeated, so that caches and predictors have learnt it: no
 *                   scan of the input, no column loop
 * The last lines add up each form and the best floor per layer (dense where it is faster), and
 * give the speed-ups over dense that they mean: the floor's is the most that a kernel of these
 * forms could reach on this machine. Nothing is asserted (a benchmark, figures of a shared
 * machine); the OpenBLAS core is printed with them.
 */
#include "config.h"

#include <cblas.h>
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "pl-blas.h"
#include "pl-csr.h"
#include "pl-dataset.h"
#include "pl-mlp.h"
#include "pl-nn.h"
#include "pl-rng.h"
#include "pl-safetensors.h"
#include "pl-simd.h"

#define SAMPLES 512
#define PASSES  15
#define REPEAT  50    /* floor columns: each sample's list this many times in a row */

enum { DENSE, ROWS, COLUMNS, CHOSEN, FLOOR_ROWS, FLOOR_COLUMNS, N_FORMS };

static const char *form_names[N_FORMS] = {
  "dense", "rows", "columns", "chosen", "floor rows", "floor columns"
};

typedef struct {
  const PlLayer *layer;
  float         *w;        /* the masked weights (n_out, n_in) */
  PlCsr         *rows;     /* without the column copy */
  PlCsr         *cols;     /* with it */
  float         *prod;     /* (nnz) */
  guint16       *flat_row; /* (nnz): one sample's entries that input skipping leaves */
  float         *flat_val;
  guint          flat_n;
} Layer;

PL_TARGET_CLONES static void
floor_rows (float         *restrict prod,
            const PlCsr   *csr,
            const float   *restrict x)
{
  const int32_t *restrict col = csr->col;
  const float *restrict val = csr->val;

  for (guint32 k = 0; k < csr->nnz; k++)
    prod[k] = val[k] * x[col[k]];
}

static void
floor_columns (float          *restrict out,
               guint           n_out,
               const guint16  *restrict row,
               const float    *restrict val,
               guint           n)
{
  memset (out, 0, sizeof (float) * n_out);
  for (guint k = 0; k < n; k++)
    out[row[k]] += val[k];
}

/* the entries of the columns of x's nonzero inputs, times their input */
static void
flatten (Layer       *l,
         const float *x)
{
  const PlCsr *c = l->cols;

  l->flat_n = 0;
  for (guint j = 0; j < c->n_cols; j++)
    if (x[j] != 0.0f)
      for (int32_t k = c->col_ptr[j]; k < c->col_ptr[j + 1]; k++)
        {
          l->flat_row[l->flat_n] = c->col_row[k];
          l->flat_val[l->flat_n] = c->col_val[k] * x[j];
          l->flat_n++;
        }
}

static void
run (Layer       *l,
     int          form,
     float       *out,
     const float *x)
{
  const PlLayer *pl = l->layer;

  switch (form)
    {
    case DENSE:
      cblas_sgemv (CblasRowMajor, CblasNoTrans, pl->n_out, pl->n_in, 1.0f, l->w, pl->n_in,
                   x, 1, 0.0f, out, 1);
      break;
    case ROWS:
      pl_csr_mv (out, l->rows, x);
      break;
    case COLUMNS:
      pl_csr_mv (out, l->cols, x);
      break;
    case CHOSEN:
      if (pl_csr_mv_pays (l->cols, x))
        pl_csr_mv (out, l->cols, x);
      else
        run (l, DENSE, out, x);
      break;
    case FLOOR_ROWS:
      floor_rows (l->prod, l->rows, x);
      break;
    default:
      g_assert_not_reached ();
    }
}

/* µs per sample, the best of PASSES passes over the samples */
static double
time_form (Layer       *l,
           int          form,
           float       *out,
           const float *xs)
{
  guint n_in = l->layer->n_in;
  double best = G_MAXDOUBLE;

  for (int p = 0; p < PASSES; p++)
    {
      gint64 t0;
      double us;

      if (form == FLOOR_COLUMNS)
        {
          gint64 spent = 0;

          for (guint s = 0; s < SAMPLES; s += 8)
            {
              flatten (l, xs + (gsize) s * n_in);
              t0 = g_get_monotonic_time ();
              for (int r = 0; r < REPEAT; r++)
                floor_columns (out, l->layer->n_out, l->flat_row, l->flat_val, l->flat_n);
              spent += g_get_monotonic_time () - t0;
            }
          us = (double) spent / ((SAMPLES / 8) * REPEAT);
        }
      else
        {
          t0 = g_get_monotonic_time ();
          for (guint s = 0; s < SAMPLES; s++)
            run (l, form, out, xs + (gsize) s * n_in);
          us = (double) (g_get_monotonic_time () - t0) / SAMPLES;
        }
      best = MIN (best, us);
    }
  return best;
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PlMlp) model = NULL;
  PlData *data = NULL;
  float *act[PL_MLP_MAX_LAYERS + 1];
  Layer layers[PL_MLP_MAX_LAYERS];
  double total[N_FORMS] = { 0 }, best_floor = 0.0;
  g_autofree float *out = NULL;
  guint wmax = 0;

  if (argc < 2 || argc > 3)
    {
      fprintf (stderr, "usage: %s MODEL.safetensors [DATA]\n", argv[0]);
      return 2;
    }
  model = pl_safetensors_load (argv[1], &error);
  if (model == NULL)
    {
      fprintf (stderr, "%s\n", error->message);
      return 1;
    }
  if (argc == 3)
    {
      data = pl_data_load (argv[2], NULL, &error);
      if (data == NULL)
        {
          fprintf (stderr, "%s\n", error->message);
          return 1;
        }
      if (data->test->n_features != model->sizes[0] || data->test->n < SAMPLES)
        {
          fprintf (stderr, "%s: %u test samples of %u features, the model takes %u\n",
                   argv[2], data->test->n, data->test->n_features, model->sizes[0]);
          return 1;
        }
    }
  pl_blas_set_threads (1);

  act[0] = g_new (float, (gsize) SAMPLES * model->sizes[0]);
  if (data != NULL)
    memcpy (act[0], data->test->x, sizeof (float) * SAMPLES * model->sizes[0]);
  else
    {
      PlRng rng;

      pl_rng_init (&rng, 15);
      for (gsize k = 0; k < (gsize) SAMPLES * model->sizes[0]; k++)
        act[0][k] = pl_rng_uniform (&rng);
    }
  for (guint i = 0; i <= model->n_layers; i++)
    wmax = MAX (wmax, model->sizes[i]);
  out = g_new (float, wmax);

  for (guint i = 0; i < model->n_layers; i++)
    {
      const PlLayer *pl = &model->layers[i];
      const float *row_live = i + 1 < model->n_layers ? pl->neuron_mask : NULL;
      const float *col_live = i > 0 ? model->layers[i - 1].neuron_mask : NULL;
      Layer *l = &layers[i];

      l->layer = pl;
      l->w = g_new (float, (gsize) pl->n_out * pl->n_in);
      for (gsize k = 0; k < (gsize) pl->n_out * pl->n_in; k++)
        l->w[k] = pl->w[k] * pl->w_mask[k];
      l->rows = pl_csr_new_from_dense (pl->w, pl->w_mask, row_live, col_live, pl->n_out, pl->n_in);
      l->cols = pl_csr_new_from_dense (pl->w, pl->w_mask, row_live, col_live, pl->n_out, pl->n_in);
      g_assert (l->rows != NULL && l->cols != NULL);
      pl_csr_add_columns (l->cols);
      l->prod = g_new (float, MAX (l->rows->nnz, 1));
      l->flat_row = g_new (guint16, MAX (l->rows->nnz, 1));
      l->flat_val = g_new (float, MAX (l->rows->nnz, 1));

      /* the next layer's inputs: the masked network's activations */
      act[i + 1] = g_new (float, (gsize) SAMPLES * pl->n_out);
      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, SAMPLES, pl->n_out, pl->n_in, 1.0f,
                   act[i], pl->n_in, l->w, pl->n_in, 0.0f, act[i + 1], pl->n_out);
      if (i + 1 < model->n_layers)
        pl_nn_bias_activate (act[i + 1], pl->n_out, pl->b, pl->neuron_mask, SAMPLES, pl->n_out,
                             model->activation);
    }

  printf ("bench-csr-floor: %s, 1 thread, OpenBLAS core %s, best of %d passes over %d samples "
          "(%s), µs per sample\n",
          argv[1], openblas_get_corename (), PASSES, SAMPLES,
          data != NULL ? argv[2] : "random inputs");
  for (guint i = 0; i < model->n_layers; i++)
    {
      Layer *l = &layers[i];
      guint zeros = 0;
      gsize entries = 0;
      double t[N_FORMS];

      for (gsize k = 0; k < (gsize) SAMPLES * l->layer->n_in; k++)
        zeros += act[i][k] == 0.0f;
      for (guint s = 0; s < SAMPLES; s++)
        {
          flatten (l, act[i] + (gsize) s * l->layer->n_in);
          entries += l->flat_n;
        }
      printf ("layer %u: %u → %u, %u kept (%.1f%%), inputs 0: %.0f%%, entries left by input "
              "skipping: %.0f\n",
              i, l->layer->n_in, l->layer->n_out, l->rows->nnz,
              100.0 * l->rows->nnz / ((double) l->layer->n_in * l->layer->n_out),
              100.0 * zeros / ((double) SAMPLES * l->layer->n_in), (double) entries / SAMPLES);
      for (int f = 0; f < N_FORMS; f++)
        {
          t[f] = time_form (l, f, out, act[i]);
          total[f] += t[f];
          printf ("  %-14s %8.3f\n", form_names[f], t[f]);
        }
      best_floor += MIN (t[DENSE], MIN (t[FLOOR_ROWS], t[FLOOR_COLUMNS]));
    }
  printf ("whole forward (no bias or activation):");
  for (int f = 0; f < N_FORMS; f++)
    printf (" %s %.3f", form_names[f], total[f]);
  printf ("\nspeed-up over dense: rows %.2fx, columns %.2fx, chosen %.2fx; the best floor per "
          "layer %.3f µs: at most %.2fx\n",
          total[DENSE] / total[ROWS], total[DENSE] / total[COLUMNS],
          total[DENSE] / total[CHOSEN], best_floor, total[DENSE] / best_floor);

  for (guint i = 0; i < model->n_layers; i++)
    {
      g_free (layers[i].w);
      pl_csr_free (layers[i].rows);
      pl_csr_free (layers[i].cols);
      g_free (layers[i].prod);
      g_free (layers[i].flat_row);
      g_free (layers[i].flat_val);
    }
  for (guint i = 0; i <= model->n_layers; i++)
    g_free (act[i]);
  g_clear_pointer (&data, pl_data_free);
  return 0;
}
