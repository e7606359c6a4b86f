/* Paper reproductions: the iterative schedule's per-layer targets (counted mask by mask against
 * round(s·n) computed here), the paper table, "holds down to" on hand-made curves, and each
 * paper's quick run on a small built-in set (its rows and points have the paper's shape). */
#include "config.h"

#include <math.h>
#include <string.h>

#include "pl-error.h"
#include "pl-reproduce.h"
#include "pl-schedule.h"
#include "pl-test-util.h"

static PlData *
load_moons (void)
{
  PlDataOptions options = PL_DATA_OPTIONS_INIT;

  return pl_test_load ("moons:n=400,seed=5", &options);
}

/* Pruned weights of layer @i of @m, counted from the mask. */
static gsize
pruned_in_layer (const PlMlp *m,
                 guint        i)
{
  const PlLayer *l = &m->layers[i];
  gsize n = 0;

  for (gsize k = 0; k < (gsize) l->n_out * l->n_in; k++)
    n += l->w_mask[k] == 0.0f;
  return n;
}

typedef struct {
  GPtrArray *models;   /* the model at every point */
} Collect;

static void
collect_cb (const PlScheduleProgress *p,
            gpointer                  user_data)
{
  Collect *c = user_data;

  if (p->point != NULL)
    {
      g_assert_nonnull (p->model);
      g_ptr_array_add (c->models, pl_mlp_copy (p->model));
    }
}

/* Han et al. 2015's shares: after round k of K, layer i has exactly round(s_k,i · n_i) pruned
 * weights, s_k,i = 1 − (1 − s_i)^{k/K} (halves to even, pl-prune.h). */
static void
test_per_layer_targets_exact (void)
{
  const double s[] = { 0.92, 0.91, 0.74 };
  const guint rounds = 4;
  g_autoptr(GError) error = NULL;
  g_autoptr(PlData) data = load_moons ();
  g_autoptr(PlMlp) model = pl_mlp_new_from_arch ("2-40-30-5", PL_ACTIVATION_RELU, &error);
  g_autoptr(PlMlp) last = NULL;
  g_autoptr(GArray) points = g_array_new (FALSE, FALSE, sizeof (PlSchedulePoint));
  Collect c = { g_ptr_array_new_with_free_func ((GDestroyNotify) pl_mlp_free) };
  PlScheduleConfig config;

  g_assert_no_error (error);
  pl_mlp_init (model, 3);
  pl_schedule_config_init (&config);
  config.rounds = rounds;
  config.round_epochs = 1;
  config.train.batch_size = 32;
  config.train.lr = 0.01;
  config.n_layer_targets = 3;
  memcpy (config.layer_targets, s, sizeof s);
  config.targets[0] = 0.5;
  config.n_targets = 1;

  g_assert_true (pl_schedule_run (model, data, PL_METHOD_ITERATIVE, &config, 0, points, &last,
                                  collect_cb, &c, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (points->len, ==, rounds + 1);
  g_assert_cmpuint (c.models->len, ==, rounds + 1);
  for (guint k = 0; k <= rounds; k++)
    {
      const PlMlp *m = g_ptr_array_index (c.models, k);
      const PlSchedulePoint *pt = &g_array_index (points, PlSchedulePoint, k);

      for (guint i = 0; i < 3; i++)
        {
          double n = (double) m->layers[i].n_out * m->layers[i].n_in;
          double share = k == rounds ? s[i] : 1.0 - pow (1.0 - s[i], (double) k / rounds);

          g_assert_cmpuint (pruned_in_layer (m, i), ==, (gsize) nearbyint (share * n));
          g_assert_cmpfloat_with_epsilon (pt->layer_sparsity[i], nearbyint (share * n) / n, 1e-12);
        }
    }
  /* the last point's model is the one returned */
  for (guint i = 0; i < 3; i++)
    g_assert_cmpuint (pruned_in_layer (last, i), ==,
                      (gsize) nearbyint (s[i] * last->layers[i].n_out * last->layers[i].n_in));
  g_ptr_array_unref (c.models);
}

static void
test_per_layer_targets_count_checked (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PlData) data = load_moons ();
  g_autoptr(PlMlp) model = pl_mlp_new_from_arch ("2-8-2", PL_ACTIVATION_RELU, &error);
  g_autoptr(GArray) points = g_array_new (FALSE, FALSE, sizeof (PlSchedulePoint));
  PlScheduleConfig config;

  pl_mlp_init (model, 1);
  pl_schedule_config_init (&config);
  config.n_layer_targets = 3;
  g_assert_false (pl_schedule_run (model, data, PL_METHOD_ITERATIVE, &config, 0, points, NULL,
                                   NULL, NULL, NULL, &error));
  g_assert_error (error, PL_SPEC_ERROR, PL_SPEC_ERROR_INVALID);
}

/* Hand-made curves: level 0 is the dense network and is not checked. */
static void
test_holds_to (void)
{
  const double sparsity[] = { 0.0, 0.2, 0.36, 0.488, 0.5904 };
  const double acc_a[] = { 0.90, 0.91, 0.895, 0.85, 0.88 };  /* falls after level 2 */
  const double acc_b[] = { 0.90, 0.80, 0.90, 0.90, 0.90 };   /* a dip at level 1, then holds */
  const double acc_c[] = { 0.90, 0.90, 0.90, 0.90, 0.89 };   /* holds to the end, = floor */
  const double acc_d[] = { 0.99, 0.80, 0.80, 0.80, 0.80 };   /* never */

  g_assert_cmpfloat_with_epsilon (pl_reproduce_holds_to (acc_a, sparsity, 5, 0.89), 0.64, 1e-12);
  g_assert_cmpfloat_with_epsilon (pl_reproduce_holds_to (acc_b, sparsity, 5, 0.89), 0.4096, 1e-12);
  g_assert_cmpfloat_with_epsilon (pl_reproduce_holds_to (acc_c, sparsity, 5, 0.89), 0.4096, 1e-12);
  g_assert_cmpfloat_with_epsilon (pl_reproduce_holds_to (acc_d, sparsity, 5, 0.89), 1.0, 1e-12);
}

static void
test_paper_table (void)
{
  g_autoptr(GError) error = NULL;
  PlPaper p;

  for (PlPaper k = 0; k < PL_N_PAPERS; k++)
    {
      const PlPaperInfo *info = pl_paper_info (k);

      g_assert_true (pl_paper_parse (info->name, &p, NULL));
      g_assert_cmpint (p, ==, k);
      g_assert_cmpuint (info->n_numbers, >, 0);
      g_assert_cmpuint (info->quick.seeds, >=, 1);
      g_assert_cmpuint (info->full.seeds, >=, info->quick.seeds);
      g_assert_cmpuint (info->full.dense_epochs, >=, info->quick.dense_epochs);
      for (guint i = 0; i < info->n_numbers; i++)
        g_assert_true (isnan (info->numbers[i].value) == (info->numbers[i].source == NULL));
    }
  /* Han et al. 2015, Table 1 and 2 */
  g_assert_cmpfloat (pl_paper_info (PL_PAPER_HAN2015)->numbers[0].value, ==, 1.64);
  g_assert_cmpfloat (pl_paper_info (PL_PAPER_HAN2015)->numbers[1].value, ==, 1.59);
  g_assert_false (pl_paper_parse ("han2016", &p, &error));
  g_assert_error (error, PL_SPEC_ERROR, PL_SPEC_ERROR_UNKNOWN_NAME);
}

static const PlReproduceRow *
row (const PlReproduceResult *r,
     const char              *key)
{
  for (guint k = 0; k < r->rows->len; k++)
    if (strcmp (g_array_index (r->rows, PlReproduceRow, k).key, key) == 0)
      return &g_array_index (r->rows, PlReproduceRow, k);
  g_assert_not_reached ();
}

/* han2015 quick on moons: the kept shares are exactly the paper's (up to rounding of one
 * weight), and the parameters add up. */
static void
test_han2015_quick (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PlData) data = load_moons ();
  g_autoptr(PlReproduceResult) r = NULL;
  PlReproduceOptions o;

  pl_reproduce_options_init (&o);
  o.quick = TRUE;
  o.seeds = 2;
  r = pl_reproduce_run (PL_PAPER_HAN2015, data, &o, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (r->arch, ==, "2-300-100-2");
  /* fc1 2·300, fc2 300·100, fc3 100·2 weights: round(0.08·600) = 48, 2700, 52 kept */
  g_assert_cmpfloat_with_epsilon (row (r, "kept_fc1")->mean, 100.0 * 48 / 600, 1e-9);
  g_assert_cmpfloat_with_epsilon (row (r, "kept_fc2")->mean, 100.0 * 2700 / 30000, 1e-9);
  g_assert_cmpfloat_with_epsilon (row (r, "kept_fc3")->mean, 100.0 * 52 / 200, 1e-9);
  g_assert_cmpfloat_with_epsilon (row (r, "params_before")->mean, 600 + 300 + 30000 + 100 + 200 + 2, 1e-9);
  g_assert_cmpfloat_with_epsilon (row (r, "params_after")->mean, 48 + 2700 + 52 + 402, 1e-6);
  g_assert_cmpfloat_with_epsilon (row (r, "compression")->mean, 31202.0 / 3202.0, 1e-9);
  g_assert_cmpuint (row (r, "error_after")->n, ==, 2);
  g_assert_cmpfloat (row (r, "error_after")->min, <=, row (r, "error_after")->max);
  g_assert_cmpfloat (row (r, "error_before")->paper, ==, 1.64);
  /* 2 seeds × (dense + 3 rounds) */
  g_assert_cmpuint (r->points->len, ==, 2 * 4);
}

static void
record_fraction (const char *line,
                 double      fraction,
                 gpointer    user_data)
{
  g_array_append_val ((GArray *) user_data, fraction);
}

/* Every paper, quick, 2 seeds: the share reported rises from 0 and reaches 1 exactly at the
 * last report, not before (the points each seed makes are counted right), and is 0.5 at the
 * first report of the second seed. */
static void
test_progress_fraction (void)
{
  g_autoptr(PlData) data = load_moons ();

  for (PlPaper paper = 0; paper < PL_N_PAPERS; paper++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(PlReproduceResult) r = NULL;
      g_autoptr(GArray) seen = g_array_new (FALSE, FALSE, sizeof (double));
      PlReproduceOptions o;
      gboolean half = FALSE;

      pl_reproduce_options_init (&o);
      o.quick = TRUE;
      o.seeds = 2;
      r = pl_reproduce_run (paper, data, &o, record_fraction, seen, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (seen->len, >, 2);
      g_assert_cmpfloat (g_array_index (seen, double, 0), ==, 0.0);
      for (guint i = 1; i < seen->len; i++)
        {
          double f = g_array_index (seen, double, i), before = g_array_index (seen, double, i - 1);

          g_assert_cmpfloat (f, >=, before);
          if (i + 1 < seen->len)
            g_assert_cmpfloat (f, <, 1.0);
          half |= before < 0.5 && f == 0.5;
        }
      g_assert_cmpfloat (g_array_index (seen, double, seen->len - 1), ==, 1.0);
      g_assert_true (half);
    }
}

/* Hand-made masks on 2-2-2-2: kept everywhere; one layer emptied; kept weights in every layer
 * that line up on no path (layer 0 feeds only hidden unit 0, layer 1 reads only unit 1). */
static void
test_connected (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PlMlp) m = pl_mlp_new_from_arch ("2-2-2-2", PL_ACTIVATION_RELU, &error);
  PlLayer *l0, *l1, *l2;

  g_assert_no_error (error);
  l0 = &m->layers[0];
  l1 = &m->layers[1];
  l2 = &m->layers[2];
  g_assert_true (pl_reproduce_connected (m));

  /* layer 2 (the output layer) has no kept weight */
  for (guint k = 0; k < 4; k++)
    l2->w_mask[k] = 0.0f;
  g_assert_false (pl_reproduce_connected (m));
  for (guint k = 0; k < 4; k++)
    l2->w_mask[k] = 1.0f;

  /* W_oj is w_mask[o·n_in + j]: layer 0 keeps only (0, 1), into hidden unit 0; layer 1 keeps
   * only (1, 1), out of hidden unit 1; the output layer keeps everything */
  for (guint k = 0; k < 4; k++)
    l0->w_mask[k] = l1->w_mask[k] = 0.0f;
  l0->w_mask[0 * 2 + 1] = 1.0f;
  l1->w_mask[1 * 2 + 1] = 1.0f;
  g_assert_false (pl_reproduce_connected (m));
  /* … and with (1, 0) in layer 1, unit 0 of layer 1 feeds unit 1 of layer 2: a path */
  l1->w_mask[1 * 2 + 0] = 1.0f;
  g_assert_true (pl_reproduce_connected (m));
  /* one output reached is enough */
  l2->w_mask[0] = l2->w_mask[1] = l2->w_mask[2] = 0.0f;
  l2->w_mask[3] = 1.0f;
  g_assert_true (pl_reproduce_connected (m));
  l2->w_mask[3] = 0.0f;
  l2->w_mask[2] = 1.0f;   /* output 1 reads unit 0 of layer 2, which nothing reaches */
  g_assert_false (pl_reproduce_connected (m));
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_summary ("Paper reproductions: per-layer iterative targets, the paper table, curves");

  g_test_add_func ("/engine/schedule/iterative/per-layer-targets-give-exact-sparsities",
                   test_per_layer_targets_exact);
  g_test_add_func ("/engine/schedule/iterative/per-layer-targets-need-one-per-layer",
                   test_per_layer_targets_count_checked);
  g_test_add_func ("/engine/reproduce/holds-to-on-hand-made-curves", test_holds_to);
  g_test_add_func ("/engine/reproduce/paper-table", test_paper_table);
  g_test_add_func ("/engine/reproduce/connected-on-hand-made-masks", test_connected);
  g_test_add_func ("/engine/reproduce/han2015/quick-keeps-the-paper-shares", test_han2015_quick);
  g_test_add_func ("/engine/reproduce/progress-rises-to-one", test_progress_fraction);

  return pl_test_run ();
}
