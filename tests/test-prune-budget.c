/* Layer budgets and selection constraints of issue 16, by hand: ERK layer sparsities
 * (Evci et al. 2020), the per-row scope of Wanda (Sun et al. 2023) and N:M masks. */
#include "config.h"

#include <math.h>
#include <string.h>

#include "pl-error.h"
#include "pl-prune.h"
#include "pl-schedule.h"
#include "pl-score.h"

static PlMlp *
model_with (const guint *sizes,
            guint        n_layers)
{
  PlMlp *m = pl_mlp_new (sizes, n_layers, PL_ACTIVATION_RELU);

  pl_mlp_init (m, 7);
  return m;
}

/* 10-20-5-2: n = 200, 100, 10 and p = (n_in + n_out)/(n_in·n_out) = 0.15, 0.25, 0.7. At s = 0.5
 * the layers keep 155: ε = 155/62 = 2.5 gives the output 1.75 > 1, so it goes dense; then
 * rhs = 100 + 50 − 10·0.5 = 145 over Σ p·n = 55, and the densities are 0.15·145/55 = 21.75/55
 * and 0.25·145/55 = 36.25/55 (79.09 + 65.91 + 10 = 155 kept). */
static void
test_erk_by_hand (void)
{
  static const guint sizes[] = { 10, 20, 5, 2 };
  g_autoptr(PlMlp) m = model_with (sizes, 3);
  double s[PL_MLP_MAX_LAYERS];

  pl_erk_sparsities (m, 0.5, FALSE, s);
  g_assert_cmpfloat_with_epsilon (s[0], 1.0 - 21.75 / 55.0, 1e-12);
  g_assert_cmpfloat_with_epsilon (s[1], 1.0 - 36.25 / 55.0, 1e-12);
  g_assert_cmpfloat (s[2], ==, 0.0);

  /* without the output: 150 kept of 300, ε = 150/55, nothing above 1 */
  pl_erk_sparsities (m, 0.5, TRUE, s);
  g_assert_cmpfloat_with_epsilon (s[0], 1.0 - 0.15 * 150.0 / 55.0, 1e-12);
  g_assert_cmpfloat_with_epsilon (s[1], 1.0 - 0.25 * 150.0 / 55.0, 1e-12);
  g_assert_cmpfloat (s[2], ==, 0.0);

  /* s = 0: everything dense */
  pl_erk_sparsities (m, 0.0, FALSE, s);
  for (guint i = 0; i < 3; i++)
    g_assert_cmpfloat (s[i], ==, 0.0);
}

static gsize
layer_pruned (const PlMlp *m,
              const float *masks,
              guint        i)
{
  const PlLayer *l = &m->layers[i];
  const float *mk = masks + (l->w_mask - m->masks);
  gsize n = 0;

  for (gsize k = 0; k < (gsize) l->n_out * l->n_in; k++)
    n += mk[k] == 0.0f;
  return n;
}

/* The ERK scope prunes round(s_l·n_l) of each layer by magnitude: 121 (120.9) and 34 (34.09). */
static void
test_erk_scope_prunes_layer_budgets (void)
{
  static const guint sizes[] = { 10, 20, 5, 2 };
  g_autoptr(PlMlp) m = model_with (sizes, 3);
  g_autoptr(PlScores) scores = pl_scores_compute (m, PL_SCORE_MAGNITUDE, NULL, NULL, NULL);
  g_autoptr(GError) error = NULL;
  g_autofree float *masks = g_new (float, m->n_params);
  g_autofree float *neurons = g_new (float, m->n_neurons);
  PlPruneSpec spec;

  pl_prune_spec_init (&spec, PL_SCOPE_ERK, FALSE, 0.5);
  g_assert_true (pl_prune_select (m, scores, &spec, masks, neurons, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (layer_pruned (m, masks, 0), ==, 121);
  g_assert_cmpuint (layer_pruned (m, masks, 1), ==, 34);
  g_assert_cmpuint (layer_pruned (m, masks, 2), ==, 0);
  /* within layer 0 the smallest |w| went */
  {
    const PlLayer *l = &m->layers[0];
    float kept_min = INFINITY, pruned_max = 0.0f;

    for (gsize k = 0; k < 200; k++)
      if (masks[k] == 0.0f)
        pruned_max = MAX (pruned_max, fabsf (l->w[k]));
      else
        kept_min = MIN (kept_min, fabsf (l->w[k]));
    g_assert_cmpfloat (pruned_max, <=, kept_min);
  }

  /* ERK takes one target sparsity only */
  pl_prune_spec_init (&spec, PL_SCOPE_ERK, TRUE, 0.1);
  g_assert_false (pl_prune_select (m, scores, &spec, masks, neurons, &error));
  g_assert_error (error, PL_SPEC_ERROR, PL_SPEC_ERROR_INVALID);
}

/* One layer 4 → 2, rows [1, −3, 2, 0.5] and [4, 3, 2, 1], half of each row: row 0 loses 0.5
 * and 1 (k3, k0), row 1 loses 1 and 2 (k7, k6). Globally 0.5, 1, 1 and then the first 2 (k2). */
static void
test_row_scope_by_hand (void)
{
  static const guint sizes[] = { 4, 2 };
  static const float w[] = { 1.0f, -3.0f, 2.0f, 0.5f, 4.0f, 3.0f, 2.0f, 1.0f };
  static const float row_mask[] = { 0, 1, 1, 0, 1, 1, 0, 0 };
  static const float global_mask[] = { 0, 1, 0, 0, 1, 1, 1, 0 };
  g_autoptr(PlMlp) m = pl_mlp_new (sizes, 1, PL_ACTIVATION_RELU);
  g_autoptr(PlScores) scores = NULL;
  g_autoptr(GError) error = NULL;
  float masks[10], neurons[2];
  PlPruneSpec spec;

  memcpy (m->layers[0].w, w, sizeof w);
  scores = pl_scores_compute (m, PL_SCORE_MAGNITUDE, NULL, NULL, NULL);
  pl_prune_spec_init (&spec, PL_SCOPE_ROW, FALSE, 0.5);
  g_assert_true (pl_prune_select (m, scores, &spec, masks, neurons, &error));
  g_assert_no_error (error);
  g_assert_cmpmem (masks, sizeof row_mask, row_mask, sizeof row_mask);
  g_assert_cmpfloat (masks[8], ==, 1.0f);  /* biases */

  pl_prune_spec_init (&spec, PL_SCOPE_GLOBAL, FALSE, 0.5);
  g_assert_true (pl_prune_select (m, scores, &spec, masks, neurons, &error));
  g_assert_cmpmem (masks, sizeof global_mask, global_mask, sizeof global_mask);

  /* a threshold per row: below 2.5 */
  pl_prune_spec_init (&spec, PL_SCOPE_ROW, TRUE, 2.5);
  g_assert_true (pl_prune_select (m, scores, &spec, masks, neurons, &error));
  {
    static const float expected[] = { 0, 1, 0, 0, 1, 1, 0, 0 };

    g_assert_cmpmem (masks, sizeof expected, expected, sizeof expected);
  }

  /* sparsity 1 keeps the layer's largest (4, in row 1) and empties row 0 */
  pl_prune_spec_init (&spec, PL_SCOPE_ROW, FALSE, 1.0);
  g_assert_true (pl_prune_select (m, scores, &spec, masks, neurons, &error));
  {
    static const float expected[] = { 0, 0, 0, 0, 1, 0, 0, 0 };

    g_assert_cmpmem (masks, sizeof expected, expected, sizeof expected);
  }
}

/* One row of 10 inputs, 2:4: [1, −5, 3, 2 | 0.1, 0.2, 0.3, 0.4 | 7, −1] keeps −5, 3 | 0.3, 0.4 |
 * both of the short last run. A sparsity of 0.5 on top prunes one more (0.3). */
static void
test_nm_by_hand (void)
{
  static const guint sizes[] = { 10, 1 };
  static const float w[] = { 1, -5, 3, 2, 0.1f, 0.2f, 0.3f, 0.4f, 7, -1 };
  static const float nm_mask[] = { 0, 1, 1, 0, 0, 0, 1, 1, 1, 1 };
  static const float more_mask[] = { 0, 1, 1, 0, 0, 0, 0, 1, 1, 1 };
  static const float inverted[] = { 1, 0, 0, 1, 1, 1, 0, 0, 1, 1 };
  g_autoptr(PlMlp) m = pl_mlp_new (sizes, 1, PL_ACTIVATION_RELU);
  g_autoptr(PlScores) scores = NULL;
  g_autoptr(GError) error = NULL;
  float masks[11], neurons[1];
  PlPruneSpec spec;

  memcpy (m->layers[0].w, w, sizeof w);
  scores = pl_scores_compute (m, PL_SCORE_MAGNITUDE, NULL, NULL, NULL);

  pl_prune_spec_init (&spec, PL_SCOPE_GLOBAL, FALSE, 0.0);
  spec.nm_n = 2;
  spec.nm_m = 4;
  g_assert_true (pl_prune_select (m, scores, &spec, masks, neurons, &error));
  g_assert_no_error (error);
  g_assert_cmpmem (masks, sizeof nm_mask, nm_mask, sizeof nm_mask);

  spec.values[0] = 0.5;
  g_assert_true (pl_prune_select (m, scores, &spec, masks, neurons, &error));
  g_assert_cmpmem (masks, sizeof more_mask, more_mask, sizeof more_mask);

  /* a sparsity below 1 − N/M changes nothing */
  spec.values[0] = 0.3;
  g_assert_true (pl_prune_select (m, scores, &spec, masks, neurons, &error));
  g_assert_cmpmem (masks, sizeof nm_mask, nm_mask, sizeof nm_mask);

  /* invert keeps the two smallest of each run */
  spec.values[0] = 0.0;
  spec.invert = TRUE;
  g_assert_true (pl_prune_select (m, scores, &spec, masks, neurons, &error));
  g_assert_cmpmem (masks, sizeof inverted, inverted, sizeof inverted);
}

/* Ties go by position (the lower one is pruned), and a weight pruned already counts as one of
 * the M: [1, 1, 1, 1] → k0, k1 pruned; [pruned, 1, 2, 3] → k1 pruned as well. 1:3 on a row of
 * 4 is runs of 3 and 1. */
static void
test_nm_ties_and_pruned (void)
{
  static const guint sizes[] = { 4, 2 };
  static const float w[] = { 1, 1, 1, 1, 9, 1, 2, 3 };
  static const float expected[] = { 0, 0, 1, 1, 0, 0, 1, 1 };
  static const float one_of_three[] = { 0, 0, 1, 1, 0, 0, 1, 1 };
  g_autoptr(PlMlp) m = pl_mlp_new (sizes, 1, PL_ACTIVATION_RELU);
  g_autoptr(PlScores) scores = NULL;
  g_autoptr(GError) error = NULL;
  float masks[10], neurons[2];
  PlPruneSpec spec;

  memcpy (m->layers[0].w, w, sizeof w);
  m->layers[0].w_mask[4] = 0.0f;
  pl_mlp_apply_masks (m);
  scores = pl_scores_compute (m, PL_SCORE_MAGNITUDE, NULL, NULL, NULL);
  pl_prune_spec_init (&spec, PL_SCOPE_LAYER, FALSE, 0.0);
  spec.nm_n = 2;
  spec.nm_m = 4;
  g_assert_true (pl_prune_select (m, scores, &spec, masks, neurons, &error));
  g_assert_no_error (error);
  g_assert_cmpmem (masks, sizeof expected, expected, sizeof expected);

  /* 1:3: runs [0..3) keep their largest (the last of the equal 1s, k2; 2 at k6), the run
   * of one keeps its weight */
  spec.nm_n = 1;
  spec.nm_m = 3;
  g_assert_true (pl_prune_select (m, scores, &spec, masks, neurons, &error));
  g_assert_cmpmem (masks, sizeof one_of_three, one_of_three, sizeof one_of_three);
}

static void
test_nm_parse_and_refusals (void)
{
  static const guint sizes[] = { 4, 3, 2 };
  g_autoptr(PlMlp) m = model_with (sizes, 2);
  g_autoptr(PlScores) neuron = pl_scores_compute (m, PL_SCORE_NEURON_L1, NULL, NULL, NULL);
  g_autoptr(GError) error = NULL;
  float masks[64], neurons[8];
  PlPruneSpec spec;
  guint n = 0, mm = 0;

  g_assert_true (pl_nm_parse ("2:4", &n, &mm, &error));
  g_assert_cmpuint (n, ==, 2);
  g_assert_cmpuint (mm, ==, 4);
  for (guint k = 0; k < 6; k++)
    {
      static const char *bad[] = { "4:2", "2:2", "0:4", "2", "2:x", "1:300" };

      g_assert_false (pl_nm_parse (bad[k], &n, &mm, &error));
      g_assert_error (error, PL_SPEC_ERROR, PL_SPEC_ERROR_INVALID);
      g_clear_error (&error);
    }

  g_assert_cmpuint (m->n_params, <=, G_N_ELEMENTS (masks));
  pl_prune_spec_init (&spec, PL_SCOPE_GLOBAL, FALSE, 0.5);
  spec.nm_n = 2;
  spec.nm_m = 4;
  g_assert_false (pl_prune_select (m, neuron, &spec, masks, neurons, &error));
  g_assert_error (error, PL_SPEC_ERROR, PL_SPEC_ERROR_INVALID);
  g_clear_error (&error);

  pl_prune_spec_init (&spec, PL_SCOPE_ROW, FALSE, 0.5);
  g_assert_false (pl_prune_select (m, neuron, &spec, masks, neurons, &error));
  g_assert_error (error, PL_SPEC_ERROR, PL_SPEC_ERROR_INVALID);
  g_clear_error (&error);

  {
    PlScope scope;

    g_assert_true (pl_scope_parse ("row", &scope, &error));
    g_assert_cmpint (scope, ==, PL_SCOPE_ROW);
    g_assert_true (pl_scope_parse ("erk", &scope, &error));
    g_assert_cmpint (scope, ==, PL_SCOPE_ERK);
    g_assert_cmpstr (pl_scope_name (PL_SCOPE_ERK), ==, "erk");
  }
}

/* SET with the ERK scope starts from ERK densities and keeps them: 2-64-64-2 at 90 % keeps
 * 435.2 weights, ε = 435.2/260 over p = 66/128, 128/4096, 66/128, so the layers' sparsities
 * are 1 − ε·p = 0.1369 (18 of 128 pruned), 0.9477 (3882 of 4096) and 0.1369 (18). */
static void
test_set_starts_from_erk (void)
{
  g_autoptr(GError) error = NULL;
  PlDataOptions options = PL_DATA_OPTIONS_INIT;
  g_autoptr(PlData) data = pl_data_load ("moons:n=400,seed=3", &options, &error);
  g_autoptr(PlMlp) m = pl_mlp_new_from_arch ("2-64-64-2", PL_ACTIVATION_RELU, &error);
  g_autoptr(GArray) points = g_array_new (FALSE, FALSE, sizeof (PlSchedulePoint));
  const PlSchedulePoint *p;
  PlScheduleConfig c;

  g_assert_no_error (error);
  pl_mlp_init (m, 1);
  pl_schedule_config_init (&c);
  c.spec.scope = PL_SCOPE_ERK;
  c.targets[0] = 0.9;
  c.n_targets = 1;
  c.dst_epochs = 2;
  c.delta_steps = 5;
  g_assert_true (pl_schedule_run (m, data, PL_METHOD_SET, &c, 0, points, NULL, NULL, NULL,
                                  NULL, &error));
  g_assert_no_error (error);
  p = &g_array_index (points, PlSchedulePoint, 1);
  g_assert_cmpfloat_with_epsilon (p->layer_sparsity[0], 18.0 / 128, 1e-12);
  g_assert_cmpfloat_with_epsilon (p->layer_sparsity[1], 3882.0 / 4096, 1e-12);
  g_assert_cmpfloat_with_epsilon (p->layer_sparsity[2], 18.0 / 128, 1e-12);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/engine/prune/erk/sparsities-by-hand", test_erk_by_hand);
  g_test_add_func ("/engine/prune/erk/scope-prunes-each-layer-budget",
                   test_erk_scope_prunes_layer_budgets);
  g_test_add_func ("/engine/prune/row/each-row-on-its-own", test_row_scope_by_hand);
  g_test_add_func ("/engine/prune/nm/two-of-four-by-hand", test_nm_by_hand);
  g_test_add_func ("/engine/prune/nm/ties-by-position-pruned-count", test_nm_ties_and_pruned);
  g_test_add_func ("/engine/prune/nm/parse-and-refusals", test_nm_parse_and_refusals);
  g_test_add_func ("/engine/prune/erk/set-starts-from-erk-densities", test_set_starts_from_erk);

  return g_test_run ();
}
