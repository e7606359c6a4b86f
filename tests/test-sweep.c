/* Sparsity sweeps: the spacing of the targets against hand values, the order of a run
 * (sparsest first), each point against a full evaluation of the pruned model, and stopping. */
#include "config.h"

#include <math.h>
#include <string.h>

#include "pl-eval.h"
#include "pl-prune.h"
#include "pl-rng.h"
#include "pl-schedule.h"
#include "pl-score.h"
#include "pl-sweep.h"

/* 1 − (1 − max)^(i/(P−1)) worked by hand: with max = 0.75 and P = 3 the middle point keeps
 * √0.25 = 0.5 of the weights; with 0.875 and P = 4 each step keeps ∛0.125 = 0.5 of the last. */
static void
test_targets (void)
{
  static const struct { double max; guint n; double expect[5]; } cases[] = {
    { 0.75,  3, { 0.0, 0.5, 0.75 } },
    { 0.99,  3, { 0.0, 0.9, 0.99 } },
    { 0.875, 4, { 0.0, 0.5, 0.75, 0.875 } },
    { 0.6,   2, { 0.0, 0.6 } },
    { 1.0,   3, { 0.0, 1.0, 1.0 } },
    { 0.0,   3, { 0.0, 0.0, 0.0 } },
  };

  for (guint c = 0; c < G_N_ELEMENTS (cases); c++)
    for (guint i = 0; i < cases[c].n; i++)
      g_assert_cmpfloat_with_epsilon (pl_sweep_target (cases[c].max, cases[c].n, i),
                                      cases[c].expect[i], 1e-12);
  /* the ends are exact */
  g_assert_cmpfloat (pl_sweep_target (0.9, 7, 0), ==, 0.0);
  g_assert_cmpfloat (pl_sweep_target (0.9, 7, 6), ==, 0.9);
  /* the iterative schedule's rounds have the same spacing: round 1 of 2 towards 75 % */
  g_assert_cmpfloat_with_epsilon (pl_iterative_sparsity (0.75, 2, 1), 0.5, 1e-12);
  g_assert_cmpfloat_with_epsilon (pl_iterative_sparsity (0.875, 3, 2), 0.75, 1e-12);
}

typedef struct {
  PlMlp     *model;
  PlDataset *eval;
  PlScores  *scores;
  PlPreview *preview;
} Fixture;

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  PlRng rng;
  PlPruneSpec spec;

  pl_rng_init (&rng, 11);
  f->model = pl_mlp_new_from_arch ("12-16-8-4", PL_ACTIVATION_RELU, NULL);
  pl_mlp_init (f->model, 4);
  f->eval = pl_dataset_new (300, 12, 4);
  for (gsize k = 0; k < (gsize) 300 * 12; k++)
    f->eval->x[k] = (float) pl_rng_normal (&rng);
  for (guint s = 0; s < 300; s++)
    f->eval->y[s] = (guint32) pl_rng_below (&rng, 4);
  f->scores = pl_scores_compute (f->model, PL_SCORE_MAGNITUDE, NULL, NULL, NULL);
  pl_prune_spec_init (&spec, PL_SCOPE_GLOBAL, FALSE, 0.0);
  f->preview = pl_preview_new (f->model, f->scores, &spec, f->eval, 1, NULL);
  g_assert_nonnull (f->preview);
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  pl_preview_free (f->preview);
  pl_scores_free (f->scores);
  pl_dataset_free (f->eval);
  pl_mlp_free (f->model);
}

typedef struct {
  Fixture      *f;
  GArray       *order;         /* guint: the indices in the order they came */
  guint         stop_after;    /* return FALSE after this many points (0: never) */
  GCancellable *cancel_after;  /* cancelled after stop_after points, instead of returning FALSE */
  gboolean      check;         /* compare each point with a full evaluation */
} Record;

static gboolean
on_point (guint                  i,
          double                 target,
          const PlPreviewResult *r,
          gpointer               data)
{
  Record *rec = data;

  g_array_append_val (rec->order, i);
  g_assert_cmpfloat (target, ==, pl_sweep_target (0.95, 6, i));
  g_assert_cmpfloat (r->value, ==, target);
  if (rec->check)
    {
      g_autoptr(PlMlp) pruned = pl_mlp_copy (rec->f->model);
      g_autoptr(PlEvaluation) ev = NULL;
      PlPruneSpec spec;

      pl_prune_spec_init (&spec, PL_SCOPE_GLOBAL, FALSE, target);
      g_assert_true (pl_prune_apply (pruned, rec->f->scores, &spec, NULL));
      ev = pl_evaluate (pruned, rec->f->eval, NULL);
      g_assert_cmpuint (r->pruned, ==, pl_mlp_n_pruned (pruned));
      g_assert_cmpfloat_with_epsilon (r->loss, ev->loss, 1e-4);
      g_assert_cmpuint (r->n, ==, 300);
    }
  if (rec->stop_after > 0 && rec->order->len == rec->stop_after)
    {
      if (rec->cancel_after != NULL)
        g_cancellable_cancel (rec->cancel_after);
      else
        return FALSE;
    }
  return TRUE;
}

/* Every point once, from the sparsest (i = P − 1) down to 0, each what a pruned copy of the
 * model evaluates to. */
static void
test_run_order (Fixture *f, gconstpointer data)
{
  g_autoptr(GArray) order = g_array_new (FALSE, FALSE, sizeof (guint));
  g_autoptr(GError) error = NULL;
  Record rec = { f, order, 0, NULL, TRUE };

  g_assert_true (pl_sweep_run (f->preview, 0.95, 6, on_point, &rec, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (order->len, ==, 6);
  for (guint k = 0; k < 6; k++)
    g_assert_cmpuint (g_array_index (order, guint, k), ==, 5 - k);
}

/* Cancelled from the callback after two points: no third, and G_IO_ERROR_CANCELLED; a
 * callback returning FALSE stops the run without an error. */
static void
test_run_stops (Fixture *f, gconstpointer data)
{
  g_autoptr(GArray) order = g_array_new (FALSE, FALSE, sizeof (guint));
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  Record rec = { f, order, 2, cancellable, FALSE };

  g_assert_false (pl_sweep_run (f->preview, 0.95, 6, on_point, &rec, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpuint (order->len, ==, 2);
  g_clear_error (&error);

  /* cancelled before it starts: no point at all */
  g_array_set_size (order, 0);
  g_assert_false (pl_sweep_run (f->preview, 0.95, 6, on_point, &rec, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpuint (order->len, ==, 0);
  g_clear_error (&error);

  g_array_set_size (order, 0);
  rec.cancel_after = NULL;
  rec.stop_after = 3;
  g_assert_true (pl_sweep_run (f->preview, 0.95, 6, on_point, &rec, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (order->len, ==, 3);
  g_assert_cmpuint (g_array_index (order, guint, 2), ==, 3);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/engine/sweep/targets/match-hand-values", test_targets);
  g_test_add ("/engine/sweep/run/sparsest-first-each-point-a-full-evaluation", Fixture, NULL,
              fixture_set_up, test_run_order, fixture_tear_down);
  g_test_add ("/engine/sweep/run/cancel-or-callback-stops", Fixture, NULL,
              fixture_set_up, test_run_stops, fixture_tear_down);
  return g_test_run ();
}
