/* test-csr.c — the CSR products against plain loops over the dense masked weights
 *
 * The reference computes in double with the dense matrix W ⊙ M. A product is right when each
 * entry is within 1e-5 of the sum of the absolute values of its terms (a relative error of
 * 1e-5 with respect to the size of what was summed, so that cancellations do not make an exact
 * result look wrong).
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "pl-csr-file.h"
#include "pl-csr.h"
#include "pl-metrics.h"
#include "pl-rng.h"

#define TOL 1e-5

typedef struct {
  guint  rows, cols;
  float *w;      /* (rows, cols) */
  float *mask;   /* (rows, cols) */
} Layer;

static float
uniform (PlRng *rng)
{
  return (float) (pl_rng_uniform (rng) * 2.0 - 1.0);
}

/* A random layer with @sparsity of its weights masked, and @empty_rows whole rows masked. */
static Layer
make_layer (PlRng  *rng,
            guint   rows,
            guint   cols,
            double  sparsity,
            guint   empty_rows)
{
  Layer l = { rows, cols, g_new (float, MAX ((gsize) rows * cols, 1)),
              g_new (float, MAX ((gsize) rows * cols, 1)) };

  for (gsize k = 0; k < (gsize) rows * cols; k++)
    {
      l.w[k] = uniform (rng);
      l.mask[k] = pl_rng_uniform (rng) < sparsity ? 0.0f : 1.0f;
      if (l.mask[k] == 0.0f)
        l.w[k] = 0.0f;
    }
  for (guint r = 0; r < empty_rows && r < rows; r++)
    {
      guint o = (guint) (r * 7919u % rows);

      for (guint j = 0; j < cols; j++)
        l.mask[(gsize) o * cols + j] = l.w[(gsize) o * cols + j] = 0.0f;
    }
  return l;
}

static void
layer_clear (Layer *l)
{
  g_free (l->w);
  g_free (l->mask);
}

static float *
random_batch (PlRng *rng,
              guint  n,
              guint  m)
{
  float *x = g_new (float, MAX ((gsize) n * m, 1));

  for (gsize k = 0; k < (gsize) n * m; k++)
    x[k] = uniform (rng);
  return x;
}

static void
assert_close (double got,
              double want,
              double scale)
{
  if (fabs (got - want) > TOL * scale + 1e-30)
    g_error ("got %.9g, want %.9g (terms summing to %.3g in size)", got, want, scale);
}

/* Forward out (n, rows) = in · (W ⊙ M)ᵀ, backward to the input (n, cols) = d · (W ⊙ M), and the
 * weight gradient of the kept entries, each against the reference; with and without a team. */
static void
check_layer (const Layer *l,
             PlRng       *rng,
             guint        n)
{
  g_autoptr(PlCsr) csr = pl_csr_new_from_dense (l->w, l->mask, NULL, NULL, l->rows, l->cols);
  g_autoptr(PlTeam) team = pl_team_new (2);
  g_autofree float *in = random_batch (rng, n, l->cols);
  g_autofree float *d = random_batch (rng, n, l->rows);
  g_autofree float *out = g_new (float, MAX ((gsize) n * l->rows, 1));
  g_autofree float *out2 = g_new (float, MAX ((gsize) n * l->rows, 1));
  g_autofree float *dx = g_new (float, MAX ((gsize) n * l->cols, 1));
  g_autofree float *dx2 = g_new (float, MAX ((gsize) n * l->cols, 1));
  g_autofree float *gw = g_new (float, MAX ((gsize) l->rows * l->cols, 1));
  g_autofree float *gw2 = g_new (float, MAX ((gsize) l->rows * l->cols, 1));
  g_autofree float *scratch = NULL;
  gsize kept = 0;

  g_assert_nonnull (csr);
  for (gsize k = 0; k < (gsize) l->rows * l->cols; k++)
    kept += l->mask[k] != 0.0f;
  g_assert_cmpuint (csr->nnz, ==, kept);
  g_assert_cmpuint (pl_csr_bytes (csr), ==, 8 * kept + 4 * (l->rows + 1));
  scratch = g_new (float, MAX (pl_csr_scratch_floats (csr, 2), 1));

  pl_csr_mm (out, csr, in, n, NULL, scratch);
  pl_csr_mm (out2, csr, in, n, team, scratch);
  pl_csr_mm_t (dx, csr, d, n, NULL, scratch);
  pl_csr_mm_t (dx2, csr, d, n, team, scratch);
  /* sentinels: the pruned entries of the gradient must stay as they are */
  for (gsize k = 0; k < (gsize) l->rows * l->cols; k++)
    gw[k] = gw2[k] = 42.0f;
  pl_csr_weight_grad (gw, csr, d, in, n, FALSE, NULL, scratch);
  pl_csr_weight_grad (gw2, csr, d, in, n, FALSE, team, scratch);

  for (guint s = 0; s < n; s++)
    for (guint o = 0; o < l->rows; o++)
      {
        double want = 0.0, scale = 0.0;

        for (guint j = 0; j < l->cols; j++)
          {
            double t = (double) l->w[(gsize) o * l->cols + j] * l->mask[(gsize) o * l->cols + j]
                       * in[(gsize) s * l->cols + j];
            want += t;
            scale += fabs (t);
          }
        assert_close (out[(gsize) s * l->rows + o], want, scale);
        g_assert_cmpfloat (out[(gsize) s * l->rows + o], ==, out2[(gsize) s * l->rows + o]);
      }

  for (guint s = 0; s < n; s++)
    for (guint j = 0; j < l->cols; j++)
      {
        double want = 0.0, scale = 0.0;

        for (guint o = 0; o < l->rows; o++)
          {
            double t = (double) d[(gsize) s * l->rows + o] * l->w[(gsize) o * l->cols + j]
                       * l->mask[(gsize) o * l->cols + j];
            want += t;
            scale += fabs (t);
          }
        assert_close (dx[(gsize) s * l->cols + j], want, scale);
        g_assert_cmpfloat (dx[(gsize) s * l->cols + j], ==, dx2[(gsize) s * l->cols + j]);
      }

  for (guint o = 0; o < l->rows; o++)
    for (guint j = 0; j < l->cols; j++)
      {
        gsize at = (gsize) o * l->cols + j;
        double want = 0.0, scale = 0.0;

        if (l->mask[at] == 0.0f)
          {
            g_assert_cmpfloat (gw[at], ==, 42.0f);
            g_assert_cmpfloat (gw2[at], ==, 42.0f);
            continue;
          }
        for (guint s = 0; s < n; s++)
          {
            double t = (double) d[(gsize) s * l->rows + o] * in[(gsize) s * l->cols + j];
            want += t;
            scale += fabs (t);
          }
        assert_close (gw[at], want, scale);
        g_assert_cmpfloat (gw[at], ==, gw2[at]);
      }

  /* the combined backward pass gives both products exactly */
  {
    g_autofree float *gw3 = g_new (float, MAX ((gsize) l->rows * l->cols, 1));
    g_autofree float *dx3 = g_new (float, MAX ((gsize) n * l->cols, 1));

    for (gsize k = 0; k < (gsize) l->rows * l->cols; k++)
      gw3[k] = 42.0f;
    pl_csr_backward (gw3, dx3, csr, d, in, n, FALSE, scratch);
    for (gsize k = 0; k < (gsize) l->rows * l->cols; k++)
      g_assert_cmpfloat (gw3[k], ==, gw[k]);
    for (gsize k = 0; k < (gsize) n * l->cols; k++)
      g_assert_cmpfloat (dx3[k], ==, dx[k]);
  }

  /* accumulating adds the same gradient once more */
  pl_csr_weight_grad (gw, csr, d, in, n, TRUE, NULL, scratch);
  for (gsize at = 0; at < (gsize) l->rows * l->cols; at++)
    if (l->mask[at] != 0.0f)
      g_assert_cmpfloat_with_epsilon (gw[at], 2.0f * gw2[at], 1e-5 * (1.0 + fabs (gw2[at])));

  /* batch 1: the vector product, by rows; then with the column copy (which the cost model
   * picks for inputs with zeros) on the input as it is, with about half of it 0, and all 0 */
  if (n >= 1)
    {
      g_autofree float *y = g_new (float, MAX (l->rows, 1));
      g_autofree float *x = g_memdup2 (in, sizeof (float) * MAX (l->cols, 1));
      g_autoptr(PlCsr) cols = pl_csr_new_from_dense (l->w, l->mask, NULL, NULL, l->rows, l->cols);

      g_assert_true (pl_csr_add_columns (cols));
      for (guint pass = 0; pass < 4; pass++)
        {
          if (pass == 2)
            for (guint j = 0; j < l->cols; j++)
              if (pl_rng_uniform (rng) < 0.5)
                x[j] = 0.0f;
          if (pass == 3)
            memset (x, 0, sizeof (float) * l->cols);
          pl_csr_mv (y, pass == 0 ? csr : cols, x);
          for (guint o = 0; o < l->rows; o++)
            {
              double want = 0.0, scale = 0.0;

              for (guint j = 0; j < l->cols; j++)
                {
                  double t = (double) l->w[(gsize) o * l->cols + j] * x[j];

                  want += t;
                  scale += fabs (t);
                }
              assert_close (y[o], want, scale);
            }
        }
    }
}

/* The column copy follows pl_csr_refresh_values: new weights at the kept positions give the
 * new products, through both forms. */
static void
test_columns_refresh (void)
{
  PlRng rng;
  Layer l;
  g_autoptr(PlCsr) csr = NULL;
  float x[40], y[30];

  pl_rng_init (&rng, 19);
  l = make_layer (&rng, 30, 40, 0.8, 3);
  csr = pl_csr_new_from_dense (l.w, l.mask, NULL, NULL, 30, 40);
  g_assert_true (pl_csr_add_columns (csr));
  g_assert_true (pl_csr_add_columns (csr));   /* once only */
  for (gsize k = 0; k < 30 * 40; k++)
    l.w[k] = l.mask[k] != 0.0f ? uniform (&rng) : 0.0f;
  pl_csr_refresh_values (csr, l.w);
  for (guint j = 0; j < 40; j++)
    x[j] = j % 2 ? uniform (&rng) : 0.0f;
  pl_csr_mv (y, csr, x);
  for (guint o = 0; o < 30; o++)
    {
      double want = 0.0, scale = 0.0;

      for (guint j = 0; j < 40; j++)
        {
          want += (double) l.w[o * 40 + j] * x[j];
          scale += fabs ((double) l.w[o * 40 + j] * x[j]);
        }
      assert_close (y[o], want, scale);
    }
  layer_clear (&l);
}

static const double sparsities[] = { 0.0, 0.1, 0.5, 0.8, 0.9, 0.95, 0.99, 1.0 };
/* 1–3 take the sample-by-sample path, 4 on the blocks (one partial), 64 one full block,
 * 65 and 200 a partial last block */
static const guint batches[] = { 1, 3, 4, 64, 65, 200 };

static void
test_random_masks (void)
{
  PlRng rng;

  pl_rng_init (&rng, 15);
  for (guint i = 0; i < G_N_ELEMENTS (sparsities); i++)
    for (guint b = 0; b < G_N_ELEMENTS (batches); b++)
      {
        Layer l = make_layer (&rng, 37, 53, sparsities[i], 0);

        check_layer (&l, &rng, batches[b]);
        layer_clear (&l);
      }
}

static void
test_empty_rows (void)
{
  PlRng rng;

  pl_rng_init (&rng, 16);
  for (guint b = 0; b < G_N_ELEMENTS (batches); b++)
    {
      Layer l = make_layer (&rng, 30, 20, 0.5, 12);
      g_autoptr(PlCsr) csr = pl_csr_new_from_dense (l.w, l.mask, NULL, NULL, 30, 20);
      guint empty = 0;

      for (guint o = 0; o < 30; o++)
        empty += csr->row_ptr[o] == csr->row_ptr[o + 1];
      g_assert_cmpuint (empty, >=, 12);
      check_layer (&l, &rng, batches[b]);
      layer_clear (&l);
    }
}

static void
test_empty_layers (void)
{
  PlRng rng;

  pl_rng_init (&rng, 17);
  for (guint b = 0; b < G_N_ELEMENTS (batches); b++)
    {
      /* every weight pruned: all outputs 0, gradients untouched */
      Layer l = make_layer (&rng, 10, 300, 1.0, 0);
      /* no rows at all */
      Layer none = make_layer (&rng, 0, 7, 0.0, 0);

      check_layer (&l, &rng, batches[b]);
      check_layer (&none, &rng, batches[b]);
      layer_clear (&l);
      layer_clear (&none);
    }
}

/* Rows and columns marked dead are left out, as pl-metrics counts effective weights. */
static void
test_live_rows_and_columns (void)
{
  PlRng rng;
  Layer l;
  float row_live[6] = { 1, 0, 1, 1, 0, 1 };
  float col_live[5] = { 0, 1, 1, 0, 1 };
  g_autoptr(PlCsr) csr = NULL;
  guint expect = 0;

  pl_rng_init (&rng, 18);
  l = make_layer (&rng, 6, 5, 0.3, 0);
  for (guint o = 0; o < 6; o++)
    for (guint j = 0; j < 5; j++)
      expect += row_live[o] != 0.0f && col_live[j] != 0.0f && l.mask[o * 5 + j] != 0.0f;
  csr = pl_csr_new_from_dense (l.w, l.mask, row_live, col_live, 6, 5);
  g_assert_cmpuint (csr->nnz, ==, expect);
  for (guint o = 0; o < 6; o++)
    for (int32_t k = csr->row_ptr[o]; k < csr->row_ptr[o + 1]; k++)
      {
        g_assert_cmpfloat (row_live[o], !=, 0.0f);
        g_assert_cmpfloat (col_live[csr->col[k]], !=, 0.0f);
        g_assert_cmpfloat (csr->val[k], ==, l.w[o * 5 + csr->col[k]]);
        if (k > csr->row_ptr[o])
          g_assert_cmpint (csr->col[k], >, csr->col[k - 1]);
      }

  /* new values at the same positions */
  for (guint k = 0; k < 30; k++)
    l.w[k] = (float) k;
  pl_csr_refresh_values (csr, l.w);
  for (guint o = 0; o < 6; o++)
    for (int32_t k = csr->row_ptr[o]; k < csr->row_ptr[o + 1]; k++)
      g_assert_cmpfloat (csr->val[k], ==, (float) (o * 5 + csr->col[k]));
  layer_clear (&l);
}

/* The CSR file, read back by hand from its layout (8-byte length, JSON, little-endian arrays):
 * the arrays rebuild W ⊙ M of the effective weights exactly, and the file is pl-metrics' CSR
 * bytes plus its header. */
static void
test_file (void)
{
  g_autoptr(GError) error = NULL;
  static const guint sizes[] = { 12, 9, 4 };
  g_autoptr(PlMlp) m = pl_mlp_new (sizes, 2, PL_ACTIVATION_TANH);
  g_autofree char *dir = g_dir_make_tmp ("test-csr-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "m.csr.safetensors", NULL);
  g_autofree char *data = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonObject *header, *meta;
  PlMetrics metrics;
  guint64 header_len;
  gsize size;
  PlRng rng;

  pl_mlp_init (m, 3);
  pl_rng_init (&rng, 4);
  for (gsize k = 0; k < 9 * 12; k++)
    if (pl_rng_uniform (&rng) < 0.6)
      m->layers[0].w_mask[k] = 0.0f;
  for (guint o = 0; o < 4; o++)
    m->layers[1].w_mask[o * 9 + 2] = 0.0f;   /* hidden neuron 2 dies */
  pl_mlp_apply_masks (m);
  pl_metrics_compute (&metrics, m, NULL, NULL, NULL);

  g_assert_true (pl_csr_save_model (m, path, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (path, &data, &size, &error));
  memcpy (&header_len, data, 8);
  header_len = GUINT64_FROM_LE (header_len);
  g_assert_cmpuint (header_len % 8, ==, 0);
  g_assert_cmpfloat ((double) size, ==, 8 + header_len + metrics.total.bytes_csr);
  g_assert_true (json_parser_load_from_data (parser, data + 8, (gssize) header_len, &error));
  header = json_node_get_object (json_parser_get_root (parser));
  meta = json_object_get_object_member (header, "__metadata__");
  g_assert_cmpstr (json_object_get_string_member (meta, "format"), ==, "prunelab-csr");
  g_assert_cmpstr (json_object_get_string_member (meta, "arch"), ==, "12-9-4");
  g_assert_cmpstr (json_object_get_string_member (meta, "layers.0.weight.shape"), ==, "9,12");

  for (guint i = 0; i < 2; i++)
    {
      const PlLayer *l = &m->layers[i];
      const char *names[] = { "crow_indices", "col_indices", "values" };
      const char *at[3];
      g_autofree char *bias_name = g_strdup_printf ("layers.%u.bias", i);
      JsonArray *off;
      int32_t crow[10];

      for (guint t = 0; t < 3; t++)
        {
          g_autofree char *name = g_strdup_printf ("layers.%u.weight.%s", i, names[t]);

          off = json_object_get_array_member (json_object_get_object_member (header, name), "data_offsets");
          at[t] = data + 8 + header_len + json_array_get_int_element (off, 0);
        }
      memcpy (crow, at[0], 4 * (l->n_out + 1));
      g_assert_cmpint (GINT32_FROM_LE (crow[0]), ==, 0);
      for (guint o = 0; o < l->n_out; o++)
        {
          g_autofree float *row = g_new0 (float, l->n_in);

          for (int32_t k = GINT32_FROM_LE (crow[o]); k < GINT32_FROM_LE (crow[o + 1]); k++)
            {
              int32_t c;
              guint32 u;
              float v;

              memcpy (&c, at[1] + 4 * k, 4);
              memcpy (&u, at[2] + 4 * k, 4);
              u = GUINT32_FROM_LE (u);
              memcpy (&v, &u, 4);
              row[GINT32_FROM_LE (c)] = v;
            }
          for (guint j = 0; j < l->n_in; j++)
            {
              gboolean live = (i + 1 == 2 || l->neuron_mask[o] != 0.0f)
                              && (i == 0 || m->layers[i - 1].neuron_mask[j] != 0.0f);

              g_assert_cmpfloat (row[j], ==, live ? l->w[o * l->n_in + j] * l->w_mask[o * l->n_in + j] : 0.0f);
            }
        }
      off = json_object_get_array_member (json_object_get_object_member (header, bias_name), "data_offsets");
      for (guint o = 0; o < l->n_out; o++)
        {
          guint32 u;
          float v;

          memcpy (&u, data + 8 + header_len + json_array_get_int_element (off, 0) + 4 * o, 4);
          u = GUINT32_FROM_LE (u);
          memcpy (&v, &u, 4);
          g_assert_cmpfloat (v, ==, l->b[o]);
        }
    }
  g_unlink (path);
  g_rmdir (dir);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/engine/csr/products/equal-dense-masked", test_random_masks);
  g_test_add_func ("/engine/csr/products/empty-rows", test_empty_rows);
  g_test_add_func ("/engine/csr/products/empty-layers", test_empty_layers);
  g_test_add_func ("/engine/csr/columns/follow-refreshed-values", test_columns_refresh);
  g_test_add_func ("/engine/csr/build/skips-dead-rows-and-columns", test_live_rows_and_columns);
  g_test_add_func ("/engine/csr/file/arrays-rebuild-the-masked-weights", test_file);

  return g_test_run ();
}
