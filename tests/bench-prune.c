/* bench-prune.c — how long a selection takes: global, per-layer, per-row, ERK and global with
 * 2:4 magnitude pruning to 90% on 784-300-100-10 (266,200 weights), median of repeats. The
 * masks are checked first: exactly round(s·n) weights pruned in each group (s = 0.9, or the
 * layer's ERK sparsity), the ones of lowest score; with 2:4 at most two kept of every four
 * consecutive inputs, and round(0.9·n) pruned in all.
 *
 *   meson test -C build --benchmark bench-prune     (51 repeats, -m perf)
 *   build/tests/bench-prune                         (a short run, as in the normal suite)
 *
 * A report, not a gate (target: median < 50 ms): the machine is shared, and a busy neighbour
 * must not fail a run.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>

#include "pl-prune.h"
#include "pl-score.h"

#define TARGET_MS 50.0

static int
compare_doubles (const void *a,
                 const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return x < y ? -1 : x > y;
}

typedef struct {
  const char *name;
  PlScope     scope;
  guint       nm_n, nm_m;
} Case;

static PlMlp *model;
static PlScores *scores;

/* One group of @n consecutive weights (a row, a layer): exactly round(s·n) pruned, none
 * scoring above a kept one. */
static void
check_group (const float *masks,
             const float *score,
             gsize        n,
             double       s)
{
  float max_pruned = -INFINITY, min_kept = INFINITY;
  gsize pruned = 0;

  for (gsize k = 0; k < n; k++)
    if (masks[k] == 0.0f)
      {
        pruned++;
        max_pruned = MAX (max_pruned, score[k]);
      }
    else
      min_kept = MIN (min_kept, score[k]);
  g_assert_cmpuint (pruned, ==, (gsize) nearbyint (s * n));
  g_assert_cmpfloat (max_pruned, <=, min_kept);
}

static void
check_masks (const Case  *c,
             const float *masks)
{
  double erk[PL_MLP_MAX_LAYERS];
  gsize pruned_total = 0, weights_total = 0;
  float max_pruned = -INFINITY, min_kept = INFINITY;

  pl_erk_sparsities (model, 0.9, FALSE, erk);
  for (guint i = 0; i < model->n_layers; i++)
    {
      const PlLayer *l = &model->layers[i];
      const float *m = masks + (l->w - model->params);
      gsize n = (gsize) l->n_out * l->n_in;

      if (c->nm_m > 0)
        for (gsize k = 0; k < n; k += c->nm_m)
          {
            guint kept = 0;

            for (guint j = 0; j < c->nm_m && (k % l->n_in) + j < l->n_in; j++)
              kept += m[k + j] != 0.0f;
            g_assert_cmpuint (kept, <=, c->nm_n);
          }
      else if (c->scope == PL_SCOPE_LAYER || c->scope == PL_SCOPE_ERK)
        check_group (m, scores->layer[i], n, c->scope == PL_SCOPE_ERK ? erk[i] : 0.9);
      else if (c->scope == PL_SCOPE_ROW)
        for (guint o = 0; o < l->n_out; o++)
          check_group (m + (gsize) o * l->n_in, scores->layer[i] + (gsize) o * l->n_in, l->n_in, 0.9);
      for (gsize k = 0; k < n; k++)
        if (m[k] == 0.0f)
          {
            pruned_total++;
            max_pruned = MAX (max_pruned, scores->layer[i][k]);
          }
        else
          min_kept = MIN (min_kept, scores->layer[i][k]);
      weights_total += n;
    }
  if (c->scope == PL_SCOPE_GLOBAL)
    {
      g_assert_cmpuint (pruned_total, ==, (gsize) nearbyint (0.9 * weights_total));
      if (c->nm_m == 0)
        g_assert_cmpfloat (max_pruned, <=, min_kept);
    }
}

static void
bench (gconstpointer user_data)
{
  const Case *c = user_data;
  guint repeats = g_test_perf () ? 51 : 3;
  g_autofree double *ms = g_new (double, repeats);
  g_autofree float *masks = g_new (float, model->n_params);
  g_autofree float *neurons = g_new (float, model->n_neurons);
  PlPruneSpec spec;
  double median;

  pl_prune_spec_init (&spec, c->scope, FALSE, 0.9);
  spec.nm_n = c->nm_n;
  spec.nm_m = c->nm_m;
  for (guint r = 0; r < repeats; r++)
    {
      g_autoptr(GError) error = NULL;
      gint64 t0 = g_get_monotonic_time ();

      g_assert_true (pl_prune_select (model, scores, &spec, masks, neurons, &error));
      ms[r] = (g_get_monotonic_time () - t0) / 1e3;
      g_assert_no_error (error);
    }
  check_masks (c, masks);

  qsort (ms, repeats, sizeof *ms, compare_doubles);
  median = ms[repeats / 2];
  g_test_message ("784-300-100-10, %s magnitude to 90%%: median %.2f ms (min %.2f, max %.2f, "
                  "%u runs)%s", c->name, median, ms[0], ms[repeats - 1], repeats,
                  g_test_perf () ? (median < TARGET_MS ? "  under 50 ms" : "  OVER 50 ms") : "");
}

int
main (int    argc,
      char **argv)
{
  static const Case cases[] = {
    { "global", PL_SCOPE_GLOBAL },
    { "per-layer", PL_SCOPE_LAYER },
    { "per-row", PL_SCOPE_ROW },
    { "erk", PL_SCOPE_ERK },
    { "global-2-of-4", PL_SCOPE_GLOBAL, 2, 4 },
  };
  g_autoptr(GError) error = NULL;
  int status;

  g_test_init (&argc, &argv, NULL);
  model = pl_mlp_new_from_arch ("784-300-100-10", PL_ACTIVATION_RELU, &error);
  g_assert_no_error (error);
  pl_mlp_init (model, 1);
  scores = pl_scores_compute (model, PL_SCORE_MAGNITUDE, NULL, NULL, &error);
  g_assert_no_error (error);

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/engine/prune/bench/%s", cases[i].name);

      g_test_add_data_func (path, &cases[i], bench);
    }
  status = g_test_run ();
  pl_scores_free (scores);
  pl_mlp_free (model);
  return status;
}
