/* The live preview: the same masks as pl_prune_select, the same loss and accuracy as a full
 * evaluation of the masked model, over whole drags, for every scope and structure. */
#include "config.h"

#include <math.h>
#include <string.h>

#include "pl-error.h"
#include "pl-eval.h"
#include "pl-preview.h"
#include "pl-prune.h"
#include "pl-rng.h"
#include "pl-score.h"
#include "pl-train.h"

typedef struct {
  PlDataset *train;
  PlDataset *eval;
  PlMlp     *model;
} Fixture;

/* A learnable problem: 30 features, 6 classes from a random linear teacher; a 30-40-20-6
 * network trained a few epochs, so that predictions are confident and ties rare. */
static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(PlTrainer) trainer = NULL;
  PlTrainConfig config;
  float teacher[6 * 30];
  PlRng rng;

  pl_rng_init (&rng, 5);
  for (guint k = 0; k < G_N_ELEMENTS (teacher); k++)
    teacher[k] = (float) pl_rng_normal (&rng);

  for (guint set = 0; set < 2; set++)
    {
      PlDataset *d = pl_dataset_new (set == 0 ? 2000 : 1500, 30, 6);

      for (guint s = 0; s < d->n; s++)
        {
          float best = -INFINITY;

          for (guint k = 0; k < 30; k++)
            d->x[s * 30 + k] = (float) pl_rng_normal (&rng);
          for (guint c = 0; c < 6; c++)
            {
              float v = 0.0f;

              for (guint k = 0; k < 30; k++)
                v += teacher[c * 30 + k] * d->x[s * 30 + k];
              if (v > best)
                {
                  best = v;
                  d->y[s] = c;
                }
            }
        }
      if (set == 0)
        f->train = d;
      else
        f->eval = d;
    }

  f->model = pl_mlp_new_from_arch ("30-40-20-6", GPOINTER_TO_INT (data), NULL);
  pl_mlp_init (f->model, 3);
  pl_train_config_init (&config);
  config.epochs = 4;
  config.batch_size = 32;
  config.lr = 0.05;
  trainer = pl_trainer_new (f->model, &config);
  g_assert_true (pl_trainer_run (trainer, f->train, NULL, NULL, NULL, NULL, NULL));
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  pl_dataset_free (f->train);
  pl_dataset_free (f->eval);
  pl_mlp_free (f->model);
}

/* Runs a drag and checks each position against pl_prune_select and pl_evaluate. The drag goes
 * up from no pruning, or with @from_top down from the most (as `prunelab-cli sweep` does, so
 * that the first run computes the first layer from its few kept weights). */
static void
check_drag_from (Fixture           *f,
                 PlScoreKind        kind,
                 const PlPruneSpec *base,
                 gboolean           by_threshold,
                 guint              threads,
                 gboolean           from_top)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PlScores) scores = NULL;
  g_autoptr(PlPreview) preview = NULL;
  g_autoptr(PlMlp) masked = pl_mlp_copy (f->model);
  g_autofree float *masks = g_new (float, f->model->n_params);
  g_autofree float *neuron_masks = g_new (float, f->model->n_neurons);
  PlScoreOptions options = PL_SCORE_OPTIONS_INIT;
  double lo = 0.0, hi = 0.99;
  const guint positions = 41;

  options.batch_size = 128;
  scores = pl_scores_compute (f->model, kind, f->train, &options, &error);
  g_assert_no_error (error);
  preview = pl_preview_new (f->model, scores, base, f->eval, threads, &error);
  g_assert_no_error (error);

  if (by_threshold)
    {
      /* thresholds across the range of the scores */
      lo = INFINITY;
      hi = -INFINITY;
      for (guint i = 0; i < scores->n_layers; i++)
        for (gsize k = 0; k < scores->n[i]; k++)
          {
            lo = MIN (lo, scores->layer[i][k]);
            hi = MAX (hi, scores->layer[i][k]);
          }
    }

  for (guint p = 0; p < positions; p++)
    {
      /* up, back down, and up again in bigger steps */
      double t = p < 20 ? p / 19.0 : p < 30 ? (29 - p) / 9.0 : (p - 30) / 10.0;
      double value = lo + (from_top ? 1.0 - t : t) * (hi - lo);
      g_autoptr(PlEvaluation) ev = NULL;
      PlPruneSpec spec = *base;
      PlPreviewResult r;

      g_assert_true (pl_preview_run (preview, value, by_threshold, &r, &error));
      g_assert_no_error (error);
      /* the first run computes the first layer; a small step after it only updates it (ERK
       * gives the widest layer most of a step, and a threshold on Wanda's skewed scores can
       * take a large one: a step is small when it changes under a quarter of the first
       * layer's weights) */
      if (p == 0)
        g_assert_true (r.full_recompute);
      if (p == 1 && r.changed * 4 <= (gsize) f->model->layers[0].n_out * f->model->layers[0].n_in)
        g_assert_false (r.full_recompute);

      /* the same masks as the selection */
      spec.by_threshold = by_threshold;
      spec.n_values = 1;
      spec.values[0] = value;
      g_assert_true (pl_prune_select (f->model, scores, &spec, masks, neuron_masks, &error));
      g_assert_no_error (error);
      pl_preview_get_masks (preview, masked->masks, masked->neuron_masks);
      g_assert_cmpmem (masked->masks, sizeof (float) * f->model->n_params,
                       masks, sizeof (float) * f->model->n_params);
      g_assert_cmpmem (masked->neuron_masks, sizeof (float) * f->model->n_neurons,
                       neuron_masks, sizeof (float) * f->model->n_neurons);

      /* the same loss and accuracy as a full evaluation */
      memcpy (masked->params, f->model->params, sizeof (float) * f->model->n_params);
      pl_mlp_apply_masks (masked);
      ev = pl_evaluate (masked, f->eval, &error);
      g_assert_no_error (error);
      g_assert_cmpfloat_with_epsilon (r.loss, ev->loss, 1e-4);
      g_assert_cmpuint (r.n_correct, ==, (guint) lround (ev->accuracy * ev->n));
      g_assert_cmpuint (r.pruned, ==, pl_mlp_n_pruned (masked));
    }
}

static void
check_drag (Fixture           *f,
            PlScoreKind        kind,
            const PlPruneSpec *base,
            gboolean           by_threshold,
            guint              threads)
{
  check_drag_from (f, kind, base, by_threshold, threads, FALSE);
}

static void
test_global_sparsity (Fixture *f, gconstpointer data)
{
  PlPruneSpec spec;

  pl_prune_spec_init (&spec, PL_SCOPE_GLOBAL, FALSE, 0.0);
  check_drag (f, PL_SCORE_MAGNITUDE, &spec, FALSE, 1);
}

static void
test_global_threshold_two_threads (Fixture *f, gconstpointer data)
{
  PlPruneSpec spec;

  pl_prune_spec_init (&spec, PL_SCOPE_GLOBAL, TRUE, 0.0);
  check_drag (f, PL_SCORE_MAGNITUDE, &spec, TRUE, 2);
}

static void
test_layer_inverted_taylor (Fixture *f, gconstpointer data)
{
  PlPruneSpec spec;

  pl_prune_spec_init (&spec, PL_SCOPE_LAYER, FALSE, 0.0);
  spec.invert = TRUE;
  spec.exclude_output = TRUE;
  check_drag (f, PL_SCORE_TAYLOR, &spec, FALSE, 2);
}

static void
test_structured_neurons (Fixture *f, gconstpointer data)
{
  PlPruneSpec spec;

  pl_prune_spec_init (&spec, PL_SCOPE_GLOBAL, FALSE, 0.0);
  check_drag (f, PL_SCORE_NEURON_L1, &spec, FALSE, 2);
  pl_prune_spec_init (&spec, PL_SCOPE_LAYER, FALSE, 0.0);
  check_drag (f, PL_SCORE_APOZ, &spec, FALSE, 1);
}

static void
test_from_the_top (Fixture *f, gconstpointer data)
{
  PlPruneSpec spec;

  pl_prune_spec_init (&spec, PL_SCOPE_GLOBAL, FALSE, 0.0);
  check_drag_from (f, PL_SCORE_MAGNITUDE, &spec, FALSE, 1, TRUE);
  check_drag_from (f, PL_SCORE_GRADIENT, &spec, FALSE, 2, TRUE);
  check_drag_from (f, PL_SCORE_NEURON_L2, &spec, FALSE, 2, TRUE);
}

/* The scopes and the constraint of issue 16: rows (Wanda), ERK budgets, N:M. */
static void
test_rows_erk_nm (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PlScores) neurons = NULL;
  g_autoptr(PlScores) magnitude = NULL;
  g_autoptr(PlPreview) preview = NULL;
  PlPreviewResult r;
  PlPruneSpec spec;

  pl_prune_spec_init (&spec, PL_SCOPE_ROW, FALSE, 0.0);
  check_drag (f, PL_SCORE_WANDA, &spec, FALSE, 2);
  pl_prune_spec_init (&spec, PL_SCOPE_ROW, TRUE, 0.0);
  spec.exclude_output = TRUE;
  check_drag (f, PL_SCORE_WANDA, &spec, TRUE, 1);
  pl_prune_spec_init (&spec, PL_SCOPE_ERK, FALSE, 0.0);
  check_drag (f, PL_SCORE_MAGNITUDE, &spec, FALSE, 2);
  pl_prune_spec_init (&spec, PL_SCOPE_GLOBAL, FALSE, 0.0);
  spec.nm_n = 2;
  spec.nm_m = 4;
  check_drag (f, PL_SCORE_LAMP, &spec, FALSE, 1);
  pl_prune_spec_init (&spec, PL_SCOPE_ROW, FALSE, 0.0);
  spec.nm_n = 1;
  spec.nm_m = 3;
  spec.invert = TRUE;
  check_drag (f, PL_SCORE_MAGNITUDE, &spec, FALSE, 1);

  /* ERK takes no threshold; rows and N:M need weight scores */
  magnitude = pl_scores_compute (f->model, PL_SCORE_MAGNITUDE, NULL, NULL, NULL);
  pl_prune_spec_init (&spec, PL_SCOPE_ERK, FALSE, 0.0);
  preview = pl_preview_new (f->model, magnitude, &spec, f->eval, 1, &error);
  g_assert_no_error (error);
  g_assert_false (pl_preview_run (preview, 0.5, TRUE, &r, &error));
  g_assert_error (error, PL_SPEC_ERROR, PL_SPEC_ERROR_INVALID);
  g_clear_error (&error);
  neurons = pl_scores_compute (f->model, PL_SCORE_NEURON_L1, NULL, NULL, NULL);
  pl_prune_spec_init (&spec, PL_SCOPE_ROW, FALSE, 0.0);
  g_assert_null (pl_preview_new (f->model, neurons, &spec, f->eval, 1, &error));
  g_assert_error (error, PL_SPEC_ERROR, PL_SPEC_ERROR_INVALID);
  g_clear_error (&error);
  pl_prune_spec_init (&spec, PL_SCOPE_GLOBAL, FALSE, 0.0);
  spec.nm_n = 2;
  spec.nm_m = 4;
  g_assert_null (pl_preview_new (f->model, neurons, &spec, f->eval, 1, &error));
  g_assert_error (error, PL_SPEC_ERROR, PL_SPEC_ERROR_INVALID);
}

/* A network of one layer: the first layer is the output layer. */
static void
test_single_layer (Fixture *f, gconstpointer data)
{
  g_autoptr(PlTrainer) trainer = NULL;
  PlTrainConfig config;
  PlPruneSpec spec;

  pl_mlp_free (f->model);
  f->model = pl_mlp_new_from_arch ("30-6", PL_ACTIVATION_RELU, NULL);
  pl_mlp_init (f->model, 4);
  pl_train_config_init (&config);
  config.epochs = 2;
  trainer = pl_trainer_new (f->model, &config);
  g_assert_true (pl_trainer_run (trainer, f->train, NULL, NULL, NULL, NULL, NULL));

  pl_prune_spec_init (&spec, PL_SCOPE_GLOBAL, FALSE, 0.0);
  check_drag (f, PL_SCORE_MAGNITUDE, &spec, FALSE, 2);
  check_drag_from (f, PL_SCORE_MAGNITUDE, &spec, FALSE, 1, TRUE);
}

static void
test_on_a_pruned_model (Fixture *f, gconstpointer data)
{
  g_autoptr(PlScores) scores = pl_scores_compute (f->model, PL_SCORE_RANDOM, NULL, NULL, NULL);
  PlPruneSpec spec;

  /* masks compose: the preview starts from the model's own masks */
  pl_prune_spec_init (&spec, PL_SCOPE_GLOBAL, FALSE, 0.3);
  g_assert_true (pl_prune_apply (f->model, scores, &spec, NULL));
  pl_prune_spec_init (&spec, PL_SCOPE_GLOBAL, FALSE, 0.0);
  check_drag (f, PL_SCORE_MAGNITUDE, &spec, FALSE, 2);
}

static void
test_threads_give_identical_results (Fixture *f, gconstpointer data)
{
  g_autoptr(PlScores) scores = pl_scores_compute (f->model, PL_SCORE_MAGNITUDE, NULL, NULL, NULL);
  g_autoptr(PlPreview) one = NULL;
  g_autoptr(PlPreview) two = NULL;
  PlPruneSpec spec;

  pl_prune_spec_init (&spec, PL_SCOPE_GLOBAL, FALSE, 0.0);
  one = pl_preview_new (f->model, scores, &spec, f->eval, 1, NULL);
  two = pl_preview_new (f->model, scores, &spec, f->eval, 2, NULL);
  for (double s = 0.0; s < 0.99; s += 0.07)
    {
      PlPreviewResult a, b;

      g_assert_true (pl_preview_run (one, s, FALSE, &a, NULL));
      g_assert_true (pl_preview_run (two, s, FALSE, &b, NULL));
      g_assert_cmpfloat (a.loss, ==, b.loss);
      g_assert_cmpuint (a.n_correct, ==, b.n_correct);
    }
}

/* Where s·n ends in .5 the count rounds half to even, as torch.nn.utils.prune does. */
static void
test_half_counts_round_to_even (Fixture *f, gconstpointer data)
{
  g_autoptr(PlScores) scores = pl_scores_compute (f->model, PL_SCORE_MAGNITUDE, NULL, NULL, NULL);
  g_autoptr(PlPreview) preview = NULL;
  gsize n = pl_mlp_n_weights (f->model);
  PlPruneSpec spec;

  pl_prune_spec_init (&spec, PL_SCOPE_GLOBAL, FALSE, 0.0);
  spec.allow_empty = TRUE;
  preview = pl_preview_new (f->model, scores, &spec, f->eval, 1, NULL);
  for (gsize k = 1000; k < 1004; k++)
    {
      PlPreviewResult r;

      g_assert_true (pl_preview_run (preview, (k + 0.5) / n, FALSE, &r, NULL));
      g_assert_cmpuint (r.pruned, ==, k % 2 == 0 ? k : k + 1);
    }
}

static void
test_rejects_bad_values (Fixture *f, gconstpointer data)
{
  g_autoptr(PlScores) scores = pl_scores_compute (f->model, PL_SCORE_MAGNITUDE, NULL, NULL, NULL);
  g_autoptr(PlPreview) preview = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(PlDataset) wrong = pl_dataset_new (10, 7, 6);
  PlPreviewResult r;
  PlPruneSpec spec;

  pl_prune_spec_init (&spec, PL_SCOPE_GLOBAL, FALSE, 0.0);
  g_assert_null (pl_preview_new (f->model, scores, &spec, wrong, 1, &error));
  g_assert_error (error, PL_TRAIN_ERROR, PL_TRAIN_ERROR_MISMATCH);
  g_clear_error (&error);

  preview = pl_preview_new (f->model, scores, &spec, f->eval, 1, &error);
  g_assert_no_error (error);
  g_assert_false (pl_preview_run (preview, 1.5, FALSE, &r, &error));
  g_assert_error (error, PL_SPEC_ERROR, PL_SPEC_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (pl_preview_run (preview, NAN, TRUE, &r, &error));
  g_assert_error (error, PL_SPEC_ERROR, PL_SPEC_ERROR_INVALID);
}

/* Inputs made once and shared by two previews (of two scores) give what a preview with its own
 * copy gives; a subsample of 400 of the 1,500 samples, evenly spaced (sample ⌊i·1500/400⌋),
 * gives what a full evaluation of the masked model on exactly those samples gives. */
static void
test_shared_and_subsampled_inputs (Fixture *f, gconstpointer data)
{
  g_autoptr(PlScores) magnitude = pl_scores_compute (f->model, PL_SCORE_MAGNITUDE, NULL, NULL, NULL);
  g_autoptr(PlScores) random = pl_scores_compute (f->model, PL_SCORE_RANDOM, NULL, NULL, NULL);
  g_autoptr(PlPreviewInputs) all = pl_preview_inputs_new (f->eval, 0, 2);
  g_autoptr(PlPreviewInputs) sub = pl_preview_inputs_new (f->eval, 400, 2);
  g_autoptr(PlPreviewInputs) capped = pl_preview_inputs_new (f->eval, 5000, 1);
  g_autoptr(PlPreview) own = NULL, shared_a = NULL, shared_b = NULL, on_sub = NULL;
  g_autoptr(PlPreview) own_b = NULL;
  g_autoptr(PlDataset) picked = pl_dataset_new (400, 30, 6);
  g_autoptr(PlMlp) masked = pl_mlp_copy (f->model);
  PlPruneSpec spec;

  g_assert_cmpuint (pl_preview_inputs_get_n (all), ==, 1500);
  g_assert_cmpuint (pl_preview_inputs_get_n (sub), ==, 400);
  g_assert_cmpuint (pl_preview_inputs_get_n (capped), ==, 1500);
  for (guint i = 0; i < 400; i++)
    {
      guint src = i * 1500 / 400;

      memcpy (picked->x + (gsize) i * 30, f->eval->x + (gsize) src * 30, sizeof (float) * 30);
      picked->y[i] = f->eval->y[src];
    }

  pl_prune_spec_init (&spec, PL_SCOPE_GLOBAL, FALSE, 0.0);
  own = pl_preview_new (f->model, magnitude, &spec, f->eval, 1, NULL);
  own_b = pl_preview_new (f->model, random, &spec, f->eval, 1, NULL);
  shared_a = pl_preview_new_shared (f->model, magnitude, &spec, all, 1, NULL);
  shared_b = pl_preview_new_shared (f->model, random, &spec, all, 2, NULL);
  on_sub = pl_preview_new_shared (f->model, magnitude, &spec, sub, 1, NULL);
  for (double s = 0.0; s < 0.99; s += 0.09)
    {
      g_autoptr(PlEvaluation) ev = NULL;
      PlPreviewResult a, b, c, d, e;

      g_assert_true (pl_preview_run (own, s, FALSE, &a, NULL));
      g_assert_true (pl_preview_run (shared_a, s, FALSE, &b, NULL));
      g_assert_true (pl_preview_run (own_b, s, FALSE, &c, NULL));
      g_assert_true (pl_preview_run (shared_b, s, FALSE, &d, NULL));
      g_assert_true (pl_preview_run (on_sub, s, FALSE, &e, NULL));
      g_assert_cmpfloat (a.loss, ==, b.loss);
      g_assert_cmpuint (a.n_correct, ==, b.n_correct);
      g_assert_cmpfloat (c.loss, ==, d.loss);
      g_assert_cmpuint (c.n_correct, ==, d.n_correct);

      g_assert_cmpuint (e.n, ==, 400);
      g_assert_cmpuint (e.pruned, ==, a.pruned);
      pl_preview_get_masks (on_sub, masked->masks, masked->neuron_masks);
      memcpy (masked->params, f->model->params, sizeof (float) * f->model->n_params);
      pl_mlp_apply_masks (masked);
      ev = pl_evaluate (masked, picked, NULL);
      g_assert_cmpuint (e.n_correct, ==, (guint) lround (ev->accuracy * ev->n));
      g_assert_cmpfloat_with_epsilon (e.loss, ev->loss, 1e-4);
    }
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, fn, act) \
  g_test_add ("/engine/preview/" path, Fixture, GINT_TO_POINTER (act), fixture_set_up, fn, fixture_tear_down)

  ADD ("global-sparsity/equals-select-and-full-evaluation", test_global_sparsity, PL_ACTIVATION_RELU);
  ADD ("global-threshold/two-threads/equals-select-and-full-evaluation", test_global_threshold_two_threads, PL_ACTIVATION_RELU);
  ADD ("tanh/global-sparsity/equals-select-and-full-evaluation", test_global_sparsity, PL_ACTIVATION_TANH);
  ADD ("layer-inverted-taylor/equals-select-and-full-evaluation", test_layer_inverted_taylor, PL_ACTIVATION_RELU);
  ADD ("structured/equals-select-and-full-evaluation", test_structured_neurons, PL_ACTIVATION_RELU);
  ADD ("from-the-top/equals-select-and-full-evaluation", test_from_the_top, PL_ACTIVATION_RELU);
  ADD ("rows-erk-nm/equal-select-and-full-evaluation", test_rows_erk_nm, PL_ACTIVATION_RELU);
  ADD ("single-layer/equals-select-and-full-evaluation", test_single_layer, PL_ACTIVATION_RELU);
  ADD ("pruned-model/masks-compose", test_on_a_pruned_model, PL_ACTIVATION_SIGMOID);
  ADD ("threads-give-identical-results", test_threads_give_identical_results, PL_ACTIVATION_RELU);
  ADD ("rejects-bad-values", test_rejects_bad_values, PL_ACTIVATION_RELU);
  ADD ("half-counts-round-to-even", test_half_counts_round_to_even, PL_ACTIVATION_RELU);
  ADD ("inputs/shared-and-subsampled-equal-full-evaluation", test_shared_and_subsampled_inputs, PL_ACTIVATION_RELU);
  return g_test_run ();
}
