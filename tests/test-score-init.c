/* The scores of issue 16: LAMP and Wanda by hand on tiny layers, and SNIP, GraSP (with its
 * Hessian-gradient product), SynFlow, Wanda and LAMP against PyTorch
 * (tests/torch/make_init_score_fixture.py writes tests/data/init-score-torch.bin). */
#include "config.h"

#include <math.h>
#include <string.h>

#include "pl-dataset.h"
#include "pl-error.h"
#include "pl-nn.h"
#include "pl-score.h"

static PlScores *
compute (const PlMlp     *m,
         PlScoreKind      kind,
         const PlDataset *d)
{
  g_autoptr(GError) error = NULL;
  PlScoreOptions options = PL_SCORE_OPTIONS_INIT;
  PlScores *scores;

  options.n_batches = 1;
  options.batch_size = d != NULL ? d->n : 1;
  scores = pl_scores_compute (m, kind, d, &options, &error);
  g_assert_no_error (error);
  g_assert_nonnull (scores);
  g_assert_cmpint (scores->kind, ==, kind);

  return scores;
}

/* ---- by hand ----------------------------------------------------------------------------- */

/* One layer 2 → 2: w = [3, −1; 2, 0.5], squares 9, 1, 4, 0.25, total 14.25. Ascending:
 * 0.25 → 0.25/14.25, 1 → 1/14, 4 → 4/13, 9 → 9/9. */
static void
test_lamp_by_hand (void)
{
  static const guint sizes[] = { 2, 2 };
  static const float w[] = { 3.0f, -1.0f, 2.0f, 0.5f };
  static const double expected[] = { 1.0, 1.0 / 14.0, 4.0 / 13.0, 0.25 / 14.25 };
  g_autoptr(PlMlp) m = pl_mlp_new (sizes, 1, PL_ACTIVATION_RELU);
  g_autoptr(PlScores) s = NULL;

  memcpy (m->layers[0].w, w, sizeof w);
  s = compute (m, PL_SCORE_LAMP, NULL);
  for (guint k = 0; k < 4; k++)
    g_assert_cmpfloat_with_epsilon (s->layer[0][k], expected[k], 1e-7);
}

/* Equal magnitudes go in index order, and a pruned weight counts as 0: w = [1, 0(pruned), −1, 1],
 * squares ascending 0 (k1), 1 (k0), 1 (k2), 1 (k3): 0, 1/3, 1/2, 1. */
static void
test_lamp_ties_and_pruned (void)
{
  static const guint sizes[] = { 4, 1 };
  static const float w[] = { 1.0f, 5.0f, -1.0f, 1.0f };
  static const double expected[] = { 1.0 / 3.0, 0.0, 0.5, 1.0 };
  g_autoptr(PlMlp) m = pl_mlp_new (sizes, 1, PL_ACTIVATION_RELU);
  g_autoptr(PlScores) s = NULL;

  memcpy (m->layers[0].w, w, sizeof w);
  m->layers[0].w_mask[1] = 0.0f;
  pl_mlp_apply_masks (m);
  s = compute (m, PL_SCORE_LAMP, NULL);
  for (guint k = 0; k < 4; k++)
    g_assert_cmpfloat_with_epsilon (s->layer[0][k], expected[k], 1e-7);
}

/* W = [1, −2; 3, 0.5], samples (1, 2) and (3, −1): ‖X_0‖ = √10, ‖X_1‖ = √5. */
static void
test_wanda_by_hand (void)
{
  static const guint sizes[] = { 2, 2 };
  static const float w[] = { 1.0f, -2.0f, 3.0f, 0.5f };
  static const float x[] = { 1.0f, 2.0f, 3.0f, -1.0f };
  double expected[] = { sqrt (10), 2 * sqrt (5), 3 * sqrt (10), 0.5 * sqrt (5) };
  g_autoptr(PlMlp) m = pl_mlp_new (sizes, 1, PL_ACTIVATION_RELU);
  g_autoptr(PlDataset) d = pl_dataset_new (2, 2, 2);
  g_autoptr(PlScores) s = NULL;

  memcpy (m->layers[0].w, w, sizeof w);
  memcpy (d->x, x, sizeof x);
  d->y[0] = 0;
  d->y[1] = 1;
  s = compute (m, PL_SCORE_WANDA, d);
  for (guint k = 0; k < 4; k++)
    g_assert_cmpfloat_with_epsilon (s->layer[0][k], expected[k], 1e-6);
}

/* 2-2-1 with |W| by hand: a_1 = |W_0|·1 = (3, 1), r_1 = |W_1|ᵀ = (2, 4); W_0[o][j] scores
 * r_1[o]·1·|w|, W_1[0][j] scores 1·a_1[j]·|w|. */
static void
test_synflow_by_hand (void)
{
  static const guint sizes[] = { 2, 2, 1 };
  static const float w0[] = { 1.0f, -2.0f, 0.5f, 0.5f };
  static const float w1[] = { -2.0f, 4.0f };
  static const double e0[] = { 2.0, 4.0, 2.0, 2.0 }, e1[] = { 6.0, 4.0 };
  g_autoptr(PlMlp) m = pl_mlp_new (sizes, 2, PL_ACTIVATION_RELU);
  g_autoptr(PlScores) s = NULL;

  memcpy (m->layers[0].w, w0, sizeof w0);
  memcpy (m->layers[1].w, w1, sizeof w1);
  m->layers[0].b[0] = 7.0f;  /* biases are not part of R */
  s = compute (m, PL_SCORE_SYNFLOW, NULL);
  for (guint k = 0; k < 4; k++)
    g_assert_cmpfloat_with_epsilon (s->layer[0][k], e0[k], 1e-6);
  for (guint k = 0; k < 2; k++)
    g_assert_cmpfloat_with_epsilon (s->layer[1][k], e1[k], 1e-6);
}

/* ---- against PyTorch --------------------------------------------------------------------- */

typedef struct {
  const guint8 *p, *end;
} Reader;

static void
read_bytes (Reader *r,
            void   *out,
            gsize   n)
{
  g_assert_cmpuint ((gsize) (r->end - r->p), >=, n);
  memcpy (out, r->p, n);
  r->p += n;
}

static guint32
read_u32 (Reader *r)
{
  guint32 v;

  read_bytes (r, &v, sizeof v);
  return GUINT32_FROM_LE (v);
}

typedef struct {
  PlMlp     *model;
  PlDataset *data;
  GHashTable *values;   /* name → GArray of double */
} Fixture;

static void
fixture_load (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", "init-score-torch.bin",
                                                 NULL);
  g_autofree char *contents = NULL;
  guint sizes[PL_MLP_MAX_LAYERS + 1];
  guint n_layers, n, n_classes, n_values;
  char magic[8];
  gsize length;
  Reader r;

  g_assert_true (g_file_get_contents (path, &contents, &length, &error));
  g_assert_no_error (error);
  r = (Reader) { (const guint8 *) contents, (const guint8 *) contents + length };

  /* written by tests/torch/make_init_score_fixture.py, FIXTURE_VERSION 1 */
  g_assert_cmpint (G_BYTE_ORDER, ==, G_LITTLE_ENDIAN);
  read_bytes (&r, magic, sizeof magic);
  g_assert_cmpmem (magic, 8, "PLINIT01", 8);
  g_assert_cmpuint (read_u32 (&r), ==, 1);
  n_layers = read_u32 (&r);
  g_assert_cmpuint (n_layers, >=, 2);
  g_assert_cmpuint (n_layers, <=, PL_MLP_MAX_LAYERS);
  for (guint i = 0; i <= n_layers; i++)
    sizes[i] = read_u32 (&r);
  n = read_u32 (&r);
  n_classes = read_u32 (&r);

  f->model = pl_mlp_new (sizes, n_layers, PL_ACTIVATION_RELU);
  f->data = pl_dataset_new (n, sizes[0], n_classes);
  read_bytes (&r, f->model->params, sizeof (float) * f->model->n_params);
  read_bytes (&r, f->model->masks, sizeof (float) * f->model->n_params);
  read_bytes (&r, f->data->x, sizeof (float) * n * sizes[0]);
  read_bytes (&r, f->data->y, sizeof (guint32) * n);
  pl_mlp_apply_masks (f->model);
  g_assert_cmpuint (pl_mlp_n_pruned (f->model), >, 0);

  f->values = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                     (GDestroyNotify) g_array_unref);
  n_values = read_u32 (&r);
  for (guint k = 0; k < n_values; k++)
    {
      char name[17] = { 0 };
      guint count;
      GArray *a;

      read_bytes (&r, name, 16);
      count = read_u32 (&r);
      g_assert_cmpuint (count, ==, pl_mlp_n_weights (f->model));
      a = g_array_sized_new (FALSE, FALSE, sizeof (double), count);
      g_array_set_size (a, count);
      read_bytes (&r, a->data, sizeof (double) * count);
      g_hash_table_insert (f->values, g_strdup (name), a);
    }
  g_assert_true (r.p == r.end);
}

static void
fixture_clear (Fixture *f)
{
  g_clear_pointer (&f->model, pl_mlp_free);
  g_clear_pointer (&f->data, pl_dataset_free);
  g_clear_pointer (&f->values, g_hash_table_unref);
}

static const double *
expected_values (Fixture    *f,
                 const char *name)
{
  GArray *a = g_hash_table_lookup (f->values, name);

  g_assert_nonnull (a);
  return (const double *) a->data;
}

/* Every weight's score within @rel of the largest |expected|. */
static void
check_scores (Fixture     *f,
              PlScoreKind  kind,
              const char  *name,
              double       rel)
{
  g_autoptr(PlScores) s = compute (f->model, kind, f->data);
  const double *e = expected_values (f, name);
  gsize n = pl_mlp_n_weights (f->model), at = 0;
  double scale = 0.0, worst = 0.0;

  for (gsize k = 0; k < n; k++)
    scale = MAX (scale, fabs (e[k]));
  g_assert_cmpfloat (scale, >, 0.0);
  for (guint i = 0; i < f->model->n_layers; i++)
    for (gsize k = 0; k < s->n[i]; k++, at++)
      worst = MAX (worst, fabs (s->layer[i][k] - e[at]) / scale);
  g_test_message ("%s: worst difference %.2e of the largest score", name, worst);
  g_assert_cmpfloat (worst, <, rel);
}

static void
test_torch_scores (void)
{
  Fixture f = { 0 };

  fixture_load (&f);
  check_scores (&f, PL_SCORE_SNIP, "snip", 1e-5);
  check_scores (&f, PL_SCORE_GRASP, "grasp", 1e-4);
  check_scores (&f, PL_SCORE_SYNFLOW, "synflow", 1e-6);
  check_scores (&f, PL_SCORE_WANDA, "wanda", 1e-6);
  check_scores (&f, PL_SCORE_LAMP, "lamp", 1e-6);
  fixture_clear (&f);
}

/* The central difference of gradients against autograd's exact Hessian-gradient product, at
 * T = 1 and at GraSP's T = 200. */
static void
check_hg (Fixture    *fp,
          double      temperature,
          const char *name)
{
  Fixture f = *fp;
  g_autofree double *hg = NULL;
  const double *e;
  double scale = 0.0, worst = 0.0, eps;
  gsize at = 0, off = 0;

  hg = g_new (double, f.model->n_params);
  eps = pl_scores_grasp_hg (f.model, f.data->x, f.data->y, f.data->n, temperature, NULL, hg);
  g_assert_cmpfloat (eps, >, 0.0);
  e = expected_values (&f, name);
  for (gsize k = 0; k < pl_mlp_n_weights (f.model); k++)
    scale = MAX (scale, fabs (e[k]));
  for (guint i = 0; i < f.model->n_layers; i++)
    {
      const PlLayer *l = &f.model->layers[i];
      gsize nw = (gsize) l->n_out * l->n_in;

      for (gsize k = 0; k < nw; k++, at++)
        worst = MAX (worst, fabs (hg[off + k] - e[at]) / scale);
      for (guint o = 0; o < l->n_out; o++)
        g_assert_cmpfloat (hg[off + nw + o], ==, 0.0);
      off += nw + l->n_out;
    }
  g_test_message ("Hg at T = %g: eps = %.3g, worst difference %.2e of the largest entry",
                  temperature, eps, worst);
  g_assert_cmpfloat (worst, <, 1e-4);
}

static void
test_grasp_hg_matches_exact (void)
{
  Fixture f = { 0 };

  fixture_load (&f);
  check_hg (&f, 1.0, "grasp-hg");
  check_hg (&f, PL_GRASP_TEMPERATURE, "grasp-hg-t200");
  fixture_clear (&f);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/engine/score/lamp/by-hand", test_lamp_by_hand);
  g_test_add_func ("/engine/score/lamp/ties-by-index-pruned-as-zero", test_lamp_ties_and_pruned);
  g_test_add_func ("/engine/score/wanda/by-hand", test_wanda_by_hand);
  g_test_add_func ("/engine/score/synflow/by-hand", test_synflow_by_hand);
  g_test_add_func ("/engine/score/init/match-pytorch", test_torch_scores);
  g_test_add_func ("/engine/score/grasp/hg-central-difference-matches-autograd",
                   test_grasp_hg_matches_exact);

  return g_test_run ();
}
