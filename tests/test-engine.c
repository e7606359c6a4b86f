/* The engine thread: commands in, snapshots out on the main context, previews that coalesce,
 * pause/resume/stop, undo, errors that leave the engine running, and a clean dispose. Runs
 * under ThreadSanitizer too (tests/tsan.supp). */
#include "config.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "pl-engine.h"
#include "pl-error.h"
#include "pl-eval.h"
#include "pl-obs.h"
#include "pl-prune.h"
#include "pl-score.h"
#include "pl-test-engine.h"

#define SPEC       "spiral:n=4000,seed=3"
#define TIMEOUT_MS 120000

static void
recorder_init (PlTestEngine *r)
{
  pl_test_engine_init (r, 2, NULL, NULL);
}

/* Runs the main loop until @cond holds. */
static void
wait_until (PlTestEngine    *r,
            PlTestCondition  cond,
            gconstpointer    data)
{
  pl_test_engine_wait_until (r, cond, data, TIMEOUT_MS);
}

/* Waits for command @id and returns whether it succeeded. */
static gboolean
wait_done (PlTestEngine *r,
           guint         id)
{
  return pl_test_engine_wait_done (r, id, TIMEOUT_MS);
}

static gboolean
has_state (PlTestEngine  *r,
           gconstpointer  data)
{
  return r->last != NULL && r->last->state == (PlEngineState) GPOINTER_TO_UINT (data);
}

static gboolean
has_preview (PlTestEngine  *r,
             gconstpointer  data)
{
  const guint64 *request = data;

  return r->last != NULL && r->last->has_preview && r->last->preview_request == *request;
}

static PlData *
load_data (void)
{
  g_autoptr(GError) error = NULL;
  PlDataOptions options = PL_DATA_OPTIONS_INIT;
  PlData *data = pl_data_load (SPEC, &options, &error);

  g_assert_no_error (error);
  return data;
}

static void
train_config (PlTrainConfig *config,
              guint          epochs)
{
  pl_train_config_init (config);
  config->epochs = epochs;
  config->batch_size = 64;
  config->optimizer = PL_OPTIMIZER_ADAM;
  config->lr = 0.01;
}

/* Data, a model, and (when @epochs > 0) a few epochs of training. */
static void
set_up (PlTestEngine *r,
        guint         epochs)
{
  PlTrainConfig config;

  recorder_init (r);
  g_assert_true (wait_done (r, pl_engine_load_data (r->engine, SPEC, NULL)));
  g_assert_true (wait_done (r, pl_engine_new_model (r->engine, "IN-32-32-OUT", PL_ACTIVATION_RELU, 7)));
  if (epochs > 0)
    {
      train_config (&config, epochs);
      g_assert_true (wait_done (r, pl_engine_train (r->engine, &config)));
    }
}

static gboolean
bytes_equal (GBytes *a,
             GBytes *b)
{
  return a != NULL && b != NULL && g_bytes_equal (a, b);
}

/* Loads a built-in set, makes a model, trains: snapshots arrive in order and the last one holds
 * the history and the accuracy that a full evaluation gives. */
static void
test_train_snapshots (void)
{
  g_autoptr(PlData) data = load_data ();
  g_autoptr(PlMlp) model = NULL;
  g_autoptr(PlEvaluation) ev = NULL;
  const PlEpochRecord *history;
  PlTrainConfig config;
  PlTestEngine r;
  gsize n;
  guint before;

  recorder_init (&r);
  g_assert_cmpuint (pl_engine_get_snapshot (r.engine)->serial, ==, 0);
  g_assert_true (wait_done (&r, pl_engine_load_data (r.engine, SPEC, NULL)));
  g_assert_cmpstr (r.last->data_name, ==, "spiral");
  g_assert_cmpuint (r.last->n_features, ==, 2);
  g_assert_nonnull (r.last->points);
  g_assert_nonnull (r.last->arch);   /* a default model, at once */
  g_assert_cmpuint (r.last->grid_size, ==, 96);

  g_assert_true (wait_done (&r, pl_engine_new_model (r.engine, "IN-32-32-OUT", PL_ACTIVATION_RELU, 7)));
  g_assert_cmpstr (r.last->arch, ==, "2-32-32-3");
  before = r.n_snapshots;

  train_config (&config, 8);
  g_assert_true (wait_done (&r, pl_engine_train (r.engine, &config)));
  g_assert_cmpuint (r.n_snapshots, >, before);
  g_assert_true (r.states_seen & (1u << PL_ENGINE_STATE_TRAINING));
  g_assert_cmpint (r.last->state, ==, PL_ENGINE_STATE_IDLE);
  g_assert_true (r.changed & PL_SNAPSHOT_CHANGED_TRAINING);
  history = pl_snapshot_history (r.last, &n);
  g_assert_cmpuint (n, ==, 8);
  g_assert_cmpuint (history[7].epoch, ==, 8);
  g_assert_cmpuint (r.last->training.step, ==, r.last->training.steps_total);
  g_assert_true (r.last->can_undo);
  g_assert_cmpstr (r.last->eval_split, ==, "validation");

  /* the final accuracy is that of the final weights */
  model = pl_snapshot_build_model (r.last, FALSE);
  ev = pl_evaluate (model, data->val, NULL);
  g_assert_true (r.last->eval.valid);
  g_assert_cmpuint (r.last->eval.n, ==, data->val->n);
  g_assert_cmpfloat_with_epsilon (r.last->eval.accuracy, ev->accuracy, 1e-12);
  g_assert_cmpfloat_with_epsilon (r.last->eval.accuracy, history[7].val_accuracy, 1e-12);
  g_assert_cmpfloat (ev->accuracy, >, 0.6);
  g_assert_nonnull (r.last->grid);
  g_assert_cmpuint (g_bytes_get_size (r.last->grid), ==, sizeof (float) * 96 * 96 * 3);
  g_assert_cmpuint (r.errors->len, ==, 0);

  /* the grid of `prunelab-cli plot boundary`: the region around every split, the same cells */
  {
    const PlDataset *sets[] = { data->train, data->val, data->test };
    g_autoptr(PlDecisionGrid) grid = NULL;
    double x0, x1, y0, y1;
    const float *prob = pl_snapshot_floats (r.last->grid, NULL);

    pl_decision_region (sets, G_N_ELEMENTS (sets), &x0, &x1, &y0, &y1);
    g_assert_cmpfloat (r.last->grid_x0, ==, x0);
    g_assert_cmpfloat (r.last->grid_x1, ==, x1);
    g_assert_cmpfloat (r.last->grid_y0, ==, y0);
    g_assert_cmpfloat (r.last->grid_y1, ==, y1);
    grid = pl_decision_grid (model, 96, x0, x1, y0, y1);
    for (gsize k = 0; k < (gsize) 96 * 96 * 3; k++)
      g_assert_cmpfloat_with_epsilon (prob[k], grid->prob[k], 1e-5);
  }

  pl_test_engine_clear (&r);
}

/* 200 preview requests sent in a burst: far fewer are computed, and the last snapshot shows
 * exactly the last value — the masks of pl_prune_select and the accuracy of a full evaluation
 * of the masked model. */
static void
test_preview_burst (void)
{
  g_autoptr(PlData) data = load_data ();
  g_autoptr(PlMlp) masked = NULL, plain = NULL;
  g_autoptr(PlEvaluation) ev = NULL;
  g_autoptr(PlScores) scores = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree float *masks = NULL, *neuron_masks = NULL;
  PlPruneSpec spec;
  PlTestEngine r;
  guint64 request = 0, computed_before;
  double value = 0.0;

  set_up (&r, 6);
  computed_before = r.last->previews_computed;
  for (guint i = 0; i < 200; i++)
    {
      value = 0.9 * (i + 1) / 200.0;
      request = pl_engine_preview (r.engine, value, FALSE);
    }
  wait_until (&r, has_preview, &request);

  g_test_message ("200 requests, %" G_GUINT64_FORMAT " previews computed",
                  r.last->previews_computed - computed_before);
  g_assert_cmpuint (r.last->previews_requested, ==, request);
  g_assert_cmpuint (r.last->previews_computed - computed_before, <=, 20);
  g_assert_cmpfloat (r.last->preview.value, ==, value);
  g_assert_false (r.last->preview_by_threshold);
  g_assert_cmpuint (r.last->preview_steps_behind, ==, 0);
  g_assert_cmpfloat_with_epsilon (r.last->preview.sparsity, 0.9, 0.01);

  /* the same masks as a selection on the snapshot's model */
  plain = pl_snapshot_build_model (r.last, FALSE);
  scores = pl_scores_compute (plain, PL_SCORE_MAGNITUDE, NULL, NULL, &error);
  g_assert_no_error (error);
  masks = g_new (float, plain->n_params);
  neuron_masks = g_new (float, plain->n_neurons);
  pl_prune_spec_init (&spec, PL_SCOPE_GLOBAL, FALSE, value);
  g_assert_true (pl_prune_select (plain, scores, &spec, masks, neuron_masks, &error));
  for (guint i = 0; i < plain->n_layers; i++)
    {
      const PlLayer *l = &plain->layers[i];
      gsize n;
      const float *pm = pl_snapshot_floats (r.last->layers[i].preview_masks, &n);

      g_assert_cmpuint (n, ==, (gsize) l->n_out * l->n_in);
      g_assert_cmpmem (pm, n * sizeof (float), masks + (l->w_mask - plain->masks), n * sizeof (float));
    }

  /* and exactly the accuracy of the masked model */
  masked = pl_snapshot_build_model (r.last, TRUE);
  ev = pl_evaluate (masked, data->val, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (r.last->preview.n, ==, data->val->n);
  g_assert_cmpuint (r.last->preview.n_correct, ==, (guint) lround (ev->accuracy * ev->n));
  g_assert_cmpfloat_with_epsilon (r.last->preview.loss, ev->loss, 1e-4);
  g_assert_cmpfloat_with_epsilon (r.last->preview_metrics.total.parameter_sparsity,
                                  r.last->preview.sparsity, 1e-12);
  g_assert_nonnull (r.last->preview_grid);
  g_assert_cmpuint (r.errors->len, ==, 0);

  pl_test_engine_clear (&r);
}

/* pl_engine_wait_for_preview delivers the answer before it returns, without the main loop
 * running: the recorder has seen the snapshot answering the request, with the preview on it.
 * An id already answered (and 0) return at once. */
static void
test_wait_for_preview (void)
{
  PlTestEngine r;
  guint64 request = 0;

  set_up (&r, 4);
  for (guint i = 0; i < 3; i++)
    {
      request = pl_engine_preview (r.engine, 0.2 + 0.3 * i, FALSE);
      g_assert_true (pl_engine_wait_for_preview (r.engine, request, 30 * G_USEC_PER_SEC));
      g_assert_nonnull (r.last);
      g_assert_cmpuint (r.last->preview_request, >=, request);
      g_assert_true (r.last->has_preview);
      g_assert_cmpfloat (r.last->preview.value, ==, 0.2 + 0.3 * i);
      g_assert_true (pl_engine_get_snapshot (r.engine) == r.last);
    }
  /* no time to wait: only an answer already in can make these TRUE */
  g_assert_true (pl_engine_wait_for_preview (r.engine, request, 0));
  g_assert_true (pl_engine_wait_for_preview (r.engine, 0, 0));
  /* nothing is delivered twice: the main loop has no snapshot left for the recorder */
  {
    guint64 serial = r.last->serial;

    while (g_main_context_iteration (NULL, FALSE))
      ;
    g_assert_cmpuint (r.last->serial, ==, serial);
  }
  pl_test_engine_clear (&r);
}

/* Apply a preview, then undo: masks and weights are back bit for bit. */
static void
test_apply_undo (void)
{
  g_autoptr(PlSnapshot) before = NULL;
  PlTestEngine r;
  guint64 request;

  set_up (&r, 4);
  before = pl_snapshot_ref (r.last);
  g_assert_cmpfloat (before->metrics.total.parameter_sparsity, ==, 0.0);
  g_assert_false (wait_done (&r, pl_engine_apply_prune (r.engine)));   /* nothing previewed yet */
  g_assert_error (pl_test_engine_error (&r, 0), PL_ENGINE_ERROR, PL_ENGINE_ERROR_NO_PREVIEW);

  request = pl_engine_preview (r.engine, 0.6, FALSE);
  wait_until (&r, has_preview, &request);
  g_assert_true (wait_done (&r, pl_engine_apply_prune (r.engine)));
  g_assert_false (r.last->has_preview);
  g_assert_cmpfloat_with_epsilon (r.last->metrics.total.parameter_sparsity, 0.6, 0.01);
  g_assert_cmpuint (r.last->undo_depth, ==, before->undo_depth + 1);
  for (guint i = 0; i < r.last->n_layers; i++)
    g_assert_false (bytes_equal (r.last->layers[i].masks, before->layers[i].masks));

  g_assert_true (wait_done (&r, pl_engine_undo (r.engine)));
  g_assert_cmpuint (r.last->undo_depth, ==, before->undo_depth);
  g_assert_cmpfloat (r.last->metrics.total.parameter_sparsity, ==, 0.0);
  for (guint i = 0; i < r.last->n_layers; i++)
    {
      g_assert_true (bytes_equal (r.last->layers[i].masks, before->layers[i].masks));
      g_assert_true (bytes_equal (r.last->layers[i].neuron_masks, before->layers[i].neuron_masks));
      g_assert_true (bytes_equal (r.last->layers[i].weights, before->layers[i].weights));
      g_assert_true (bytes_equal (r.last->layers[i].biases, before->layers[i].biases));
    }
  g_assert_cmpfloat (r.last->eval.accuracy, ==, before->eval.accuracy);

  /* prune again, fine-tune (masked), rewind: masks stay, weights go back to the start */
  request = pl_engine_preview (r.engine, 0.5, FALSE);
  wait_until (&r, has_preview, &request);
  g_assert_true (wait_done (&r, pl_engine_apply_prune (r.engine)));
  g_assert_true (wait_done (&r, pl_engine_fine_tune (r.engine, 2, 0.005)));
  g_assert_cmpfloat_with_epsilon (r.last->metrics.total.parameter_sparsity, 0.5, 0.01);
  g_assert_true (r.last->training.fine_tune);
  g_assert_true (wait_done (&r, pl_engine_rewind (r.engine)));
  g_assert_cmpfloat_with_epsilon (r.last->metrics.total.parameter_sparsity, 0.5, 0.01);
  g_assert_cmpuint (r.errors->len, ==, 1);

  pl_test_engine_clear (&r);
}

static gboolean
step_beyond (PlTestEngine  *r,
             gconstpointer  data)
{
  return r->last != NULL && r->last->training.step > *(const guint64 *) data;
}

/* Pause holds the step count (and previews still answer), resume continues, stop ends the run
 * early with what finished kept. */
static void
test_pause_resume_stop (void)
{
  PlTrainConfig config;
  PlTestEngine r;
  guint id;
  guint64 step, request;
  gsize n;

  set_up (&r, 0);
  train_config (&config, 100000);
  id = pl_engine_train (r.engine, &config);
  wait_until (&r, has_state, GUINT_TO_POINTER (PL_ENGINE_STATE_TRAINING));

  pl_engine_pause (r.engine);
  wait_until (&r, has_state, GUINT_TO_POINTER (PL_ENGINE_STATE_PAUSED));
  step = r.last->training.step;
  request = pl_engine_preview (r.engine, 0.3, FALSE);
  wait_until (&r, has_preview, &request);
  g_assert_cmpint (r.last->state, ==, PL_ENGINE_STATE_PAUSED);
  g_assert_cmpuint (r.last->training.step, ==, step);
  g_usleep (100000);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_cmpuint (r.last->training.step, ==, step);

  pl_engine_resume (r.engine);
  wait_until (&r, step_beyond, &step);
  g_assert_cmpint (r.last->state, ==, PL_ENGINE_STATE_TRAINING);

  /* previews answer while training runs, too */
  request = pl_engine_preview (r.engine, 0.5, FALSE);
  wait_until (&r, has_preview, &request);
  g_assert_cmpfloat_with_epsilon (r.last->preview.sparsity, 0.5, 0.01);

  /* other commands are refused while training */
  g_assert_false (wait_done (&r, pl_engine_rewind (r.engine)));
  g_assert_error (pl_test_engine_error (&r, 0), PL_ENGINE_ERROR, PL_ENGINE_ERROR_BUSY);

  pl_engine_stop (r.engine);
  g_assert_true (wait_done (&r, id));
  g_assert_cmpint (r.last->state, ==, PL_ENGINE_STATE_IDLE);
  g_assert_true (r.states_seen & (1u << PL_ENGINE_STATE_PAUSED));
  pl_snapshot_history (r.last, &n);
  g_assert_cmpuint (n, <, 100000);
  g_assert_cmpuint (r.last->training.step, <, r.last->training.steps_total);
  /* the preview shown was redone on the final weights */
  g_assert_true (r.last->has_preview);
  g_assert_cmpuint (r.last->preview_steps_behind, ==, 0);
  g_assert_cmpuint (r.errors->len, ==, 1);

  pl_test_engine_clear (&r);
}

/* A bad file or spec: an ::error naming it, and the engine goes on answering. */
static void
test_errors (void)
{
  g_autofree char *dir = NULL, *bad = NULL, *missing = NULL;
  g_autoptr(GError) error = NULL;
  const GError *e;
  PlTestEngine r;
  guint64 request;

  set_up (&r, 0);
  dir = g_dir_make_tmp ("test-engine-XXXXXX", &error);
  g_assert_no_error (error);
  missing = g_build_filename (dir, "missing.safetensors", NULL);
  bad = g_build_filename (dir, "bad.safetensors", NULL);
  g_assert_true (g_file_set_contents (bad, "not a safetensors file", -1, &error));

  g_assert_false (wait_done (&r, pl_engine_load_model (r.engine, missing)));
  g_assert_cmpuint (r.errors->len, ==, 1);
  e = g_ptr_array_index (r.errors, 0);
  g_assert_nonnull (strstr (e->message, "missing.safetensors"));

  g_assert_false (wait_done (&r, pl_engine_load_model (r.engine, bad)));
  g_assert_cmpuint (r.errors->len, ==, 2);
  e = g_ptr_array_index (r.errors, 1);
  g_assert_true (e->domain == PL_FORMAT_ERROR);
  g_assert_nonnull (strstr (e->message, "bad.safetensors"));

  g_assert_false (wait_done (&r, pl_engine_load_data (r.engine, "no-such-set", NULL)));
  g_assert_error (pl_test_engine_error (&r, 2), PL_SPEC_ERROR, PL_SPEC_ERROR_UNKNOWN_NAME);
  g_assert_false (wait_done (&r, pl_engine_new_model (r.engine, "2-x-3", PL_ACTIVATION_RELU, 1)));
  g_assert_cmpuint (r.errors->len, ==, 4);

  /* still the model and data of before, and still answering */
  g_assert_cmpstr (r.last->arch, ==, "2-32-32-3");
  g_assert_cmpstr (r.last->data_name, ==, "spiral");
  request = pl_engine_preview (r.engine, 0.2, FALSE);
  wait_until (&r, has_preview, &request);

  /* and a model saved and loaded back round-trips */
  g_clear_pointer (&missing, g_free);
  missing = g_build_filename (dir, "model.safetensors", NULL);
  g_assert_true (wait_done (&r, pl_engine_save_model (r.engine, missing)));
  g_assert_true (wait_done (&r, pl_engine_load_model (r.engine, missing)));
  g_assert_cmpstr (r.last->model_path, ==, missing);
  g_assert_cmpuint (r.errors->len, ==, 4);

  g_unlink (bad);
  g_unlink (missing);
  g_rmdir (dir);
  pl_test_engine_clear (&r);
}

/* Sweeps two scores: the curves grow to the points asked for. */
static void
test_sweep (void)
{
  PlScoreKind kinds[] = { PL_SCORE_MAGNITUDE, PL_SCORE_RANDOM };
  const PlSweepPoint *p;
  PlTestEngine r;
  gsize n;

  set_up (&r, 4);
  g_assert_true (wait_done (&r, pl_engine_sweep (r.engine, kinds, 2, 6, 0.95, 1)));
  g_assert_cmpuint (r.last->n_curves, ==, 2);
  for (guint c = 0; c < 2; c++)
    {
      g_assert_cmpint (r.last->curves[c].score, ==, kinds[c]);
      p = pl_sweep_curve_points (&r.last->curves[c], &n);
      g_assert_cmpuint (n, ==, 6);
      g_assert_cmpfloat (p[0].target, ==, 0.0);
      g_assert_cmpfloat_with_epsilon (p[0].accuracy, r.last->eval.accuracy, 1e-12);
      g_assert_cmpfloat_with_epsilon (p[5].sparsity, 0.95, 0.01);
    }
  g_assert_cmpuint (r.errors->len, ==, 0);

  pl_test_engine_clear (&r);
}

/* A procedure through the engine: one-shot to 80 % gives its two points (the start and the
 * pruned, fine-tuned model) in the snapshot; with adopt the engine's model becomes the last
 * point's, with its sparsity and its validation accuracy, and undo brings the dense one back. */
static void
test_schedule (void)
{
  PlScheduleConfig config;
  const PlSchedulePoint *p;
  PlTestEngine r;
  gsize n;

  set_up (&r, 4);
  pl_schedule_config_init (&config);
  train_config (&config.train, 1);
  config.targets[0] = 0.8;
  config.n_targets = 1;
  g_assert_true (wait_done (&r, pl_engine_run_schedule (r.engine, PL_METHOD_ONESHOT, &config, 3, FALSE)));
  g_assert_nonnull (r.last->schedules[PL_METHOD_ONESHOT]);
  g_assert_null (r.last->schedules[PL_METHOD_ITERATIVE]);
  p = g_bytes_get_data (r.last->schedules[PL_METHOD_ONESHOT], &n);
  n /= sizeof (PlSchedulePoint);
  g_assert_cmpuint (n, ==, 2);
  g_assert_cmpuint (p[0].level, ==, 0);
  g_assert_cmpfloat (p[0].sparsity, ==, 0.0);
  g_assert_cmpfloat_with_epsilon (p[0].val_accuracy, r.last->eval.accuracy, 1e-9);
  g_assert_cmpfloat_with_epsilon (p[1].sparsity, 0.8, 0.005);
  /* not adopted: the engine's model is still dense */
  g_assert_cmpfloat (r.last->metrics.total.parameter_sparsity, ==, 0.0);

  g_assert_true (wait_done (&r, pl_engine_run_schedule (r.engine, PL_METHOD_ONESHOT, &config, 3, TRUE)));
  p = g_bytes_get_data (r.last->schedules[PL_METHOD_ONESHOT], &n);
  g_assert_cmpuint (n / sizeof (PlSchedulePoint), ==, 2);
  g_assert_cmpfloat_with_epsilon (r.last->metrics.total.parameter_sparsity, p[1].sparsity, 1e-9);
  g_assert_cmpfloat_with_epsilon (r.last->eval.accuracy, p[1].val_accuracy, 1e-6);
  g_assert_true (r.last->can_undo);
  g_assert_true (wait_done (&r, pl_engine_undo (r.engine)));
  g_assert_cmpfloat (r.last->metrics.total.parameter_sparsity, ==, 0.0);
  g_assert_cmpuint (r.errors->len, ==, 0);

  pl_test_engine_clear (&r);
}

/* prune-obs: the engine's result is what pl_obs_prune gives on the same model with the same
 * calibration data (the training split) and layer sparsities (global magnitude's allocation at
 * 70 %), weight for weight; Undo brings back every weight, bias and mask bit for bit; a Stop
 * before it runs leaves the model as it was. */
static void
test_prune_obs (void)
{
  g_autoptr(PlSnapshot) before = NULL;
  g_autoptr(PlMlp) reference = NULL;
  g_autoptr(PlMlp) result = NULL;
  g_autoptr(PlData) data = load_data ();
  g_autoptr(GError) error = NULL;
  double sparsity[PL_MLP_MAX_LAYERS];
  PlPruneSpec spec;
  PlTestEngine r;
  guint id;

  set_up (&r, 4);
  before = pl_snapshot_ref (r.last);
  reference = pl_snapshot_build_model (before, FALSE);
  pl_prune_spec_init (&spec, PL_SCOPE_GLOBAL, FALSE, 0.7);
  g_assert_true (pl_obs_layer_sparsities (reference, &spec, sparsity, &error));
  g_assert_no_error (error);
  g_assert_true (pl_obs_prune (reference, data->train, sparsity, NULL, &error));
  g_assert_no_error (error);

  g_assert_true (wait_done (&r, pl_engine_prune_obs (r.engine, 0.7)));
  g_assert_cmpuint (r.last->undo_depth, ==, before->undo_depth + 1);
  g_assert_cmpfloat_with_epsilon (r.last->metrics.total.parameter_sparsity, 0.7, 0.01);
  result = pl_snapshot_build_model (r.last, FALSE);
  g_assert_cmpuint (result->n_params, ==, reference->n_params);
  for (gsize k = 0; k < result->n_params; k++)
    {
      g_assert_cmpfloat (result->masks[k], ==, reference->masks[k]);
      g_assert_cmpfloat_with_epsilon (result->params[k], reference->params[k], 1e-6);
    }

  g_assert_true (wait_done (&r, pl_engine_undo (r.engine)));
  g_assert_cmpuint (r.last->undo_depth, ==, before->undo_depth);
  g_assert_cmpfloat (r.last->metrics.total.parameter_sparsity, ==, 0.0);
  for (guint i = 0; i < r.last->n_layers; i++)
    {
      g_assert_true (bytes_equal (r.last->layers[i].masks, before->layers[i].masks));
      g_assert_true (bytes_equal (r.last->layers[i].weights, before->layers[i].weights));
      g_assert_true (bytes_equal (r.last->layers[i].biases, before->layers[i].biases));
    }

  /* stopped while queued: cancelled at its first column block, ok, nothing changed */
  id = pl_engine_prune_obs (r.engine, 0.7);
  pl_engine_stop (r.engine);
  g_assert_true (wait_done (&r, id));
  g_assert_cmpfloat (r.last->metrics.total.parameter_sparsity, ==, 0.0);
  g_assert_cmpuint (r.last->undo_depth, ==, before->undo_depth);
  g_assert_cmpuint (r.errors->len, ==, 0);

  pl_test_engine_clear (&r);
}

/* Movement, SET and RigL through the engine (as the app's Procedure list runs them, with Δt
 * for about 10 mask updates): the last point of each is at the sparsity asked for. */
static void
test_schedule_dst (void)
{
  static const PlMethod methods[] = { PL_METHOD_MOVEMENT, PL_METHOD_SET, PL_METHOD_RIGL };
  PlScheduleConfig config;
  PlTestEngine r;

  set_up (&r, 4);
  pl_schedule_config_init (&config);
  train_config (&config.train, 1);
  config.targets[0] = 0.8;
  config.n_targets = 1;
  config.gradual_epochs = 2;
  config.dst_epochs = 2;
  config.dense_lr = 0.01;
  config.delta_steps = 7;   /* some 50 steps an epoch: ⌊0.7 · 100 / 10⌋ */
  for (guint i = 0; i < G_N_ELEMENTS (methods); i++)
    {
      const PlSchedulePoint *p;
      gsize n;

      g_assert_true (wait_done (&r, pl_engine_run_schedule (r.engine, methods[i], &config, 3, FALSE)));
      g_assert_nonnull (r.last->schedules[methods[i]]);
      p = g_bytes_get_data (r.last->schedules[methods[i]], &n);
      n /= sizeof (PlSchedulePoint);
      g_assert_cmpuint (n, ==, 2);
      g_assert_cmpfloat_with_epsilon (p[n - 1].sparsity, 0.8, 0.01);
      g_assert_true (isfinite (p[n - 1].val_accuracy));
    }
  g_assert_cmpuint (r.errors->len, ==, 0);

  pl_test_engine_clear (&r);
}

/* Three seeds: magnitude, which neither samples data nor draws, is swept once; random three
 * times, with the seeds 0, 1, 2, each curve that of a random score of its seed. Every point has
 * each layer's sparsity, whose weighted sum is the whole model's. */
static void
test_sweep_seeds (void)
{
  PlScoreKind kinds[] = { PL_SCORE_MAGNITUDE, PL_SCORE_RANDOM };
  g_autoptr(PlData) data = load_data ();
  PlTestEngine r;
  gsize n;

  set_up (&r, 4);
  g_assert_true (wait_done (&r, pl_engine_sweep (r.engine, kinds, 2, 5, 0.9, 3)));
  g_assert_cmpuint (r.last->n_curves, ==, 4);
  g_assert_cmpint (r.last->curves[0].score, ==, PL_SCORE_MAGNITUDE);
  for (guint c = 1; c < 4; c++)
    {
      g_autoptr(PlMlp) model = pl_snapshot_build_model (r.last, FALSE);
      g_autoptr(PlScores) scores = NULL;
      g_autoptr(PlMlp) pruned = NULL;
      g_autoptr(PlEvaluation) ev = NULL;
      PlScoreOptions options = PL_SCORE_OPTIONS_INIT;
      PlPruneSpec spec;
      const PlSweepPoint *p = pl_sweep_curve_points (&r.last->curves[c], &n);

      g_assert_cmpint (r.last->curves[c].score, ==, PL_SCORE_RANDOM);
      g_assert_cmpuint (r.last->curves[c].seed, ==, c - 1);
      g_assert_cmpuint (n, ==, 5);

      /* the point at 90 %: a random score of this seed, pruned and evaluated here */
      options.seed = c - 1;
      scores = pl_scores_compute (model, PL_SCORE_RANDOM, data->train, &options, NULL);
      pruned = pl_mlp_copy (model);
      pl_prune_spec_init (&spec, PL_SCOPE_GLOBAL, FALSE, p[4].target);
      g_assert_true (pl_prune_apply (pruned, scores, &spec, NULL));
      ev = pl_evaluate (pruned, data->val, NULL);
      g_assert_cmpfloat_with_epsilon (p[4].loss, ev->loss, 1e-4);
    }
  for (guint c = 0; c < 4; c++)
    {
      const PlSweepPoint *p = pl_sweep_curve_points (&r.last->curves[c], &n);

      for (gsize k = 0; k < n; k++)
        {
          double pruned = 0.0, total = 0.0;

          for (guint i = 0; i < r.last->n_layers; i++)
            {
              double nw = (double) r.last->layers[i].n_in * r.last->layers[i].n_out;

              pruned += p[k].layer_sparsity[i] * nw;
              total += nw;
            }
          g_assert_cmpfloat_with_epsilon (pruned / total, p[k].sparsity, 1e-12);
        }
    }
  /* one seed is still one curve per score, and more seeds than a sweep takes fail */
  g_assert_false (wait_done (&r, pl_engine_sweep (r.engine, kinds, 2, 5, 0.9, PL_SWEEP_MAX_SEEDS + 1)));
  g_assert_true (wait_done (&r, pl_engine_sweep (r.engine, kinds, 2, 5, 0.9, 1)));
  g_assert_cmpuint (r.last->n_curves, ==, 2);
  g_assert_cmpuint (r.errors->len, ==, 1);

  pl_test_engine_clear (&r);
}

/* The drag's preview makes way for a sweep's own: a preview asked for during the sweep and one
 * after it are answered, each with the accuracy of its masked model. */
static void
test_sweep_then_preview (void)
{
  PlScoreKind kinds[] = { PL_SCORE_MAGNITUDE, PL_SCORE_RANDOM };
  g_autoptr(PlData) data = load_data ();
  const double values[] = { 0.8, 0.3 };
  PlTestEngine r;
  guint64 request;
  guint sweep;

  set_up (&r, 2);
  request = pl_engine_preview (r.engine, 0.5, FALSE);
  wait_until (&r, has_preview, &request);

  sweep = pl_engine_sweep (r.engine, kinds, 2, 40, 0.99, 1);
  for (guint k = 0; k < G_N_ELEMENTS (values); k++)
    {
      g_autoptr(PlMlp) masked = NULL;
      g_autoptr(PlEvaluation) ev = NULL;
      g_autoptr(GError) error = NULL;

      /* the first while the sweep runs (or just after it), the second after it */
      request = pl_engine_preview (r.engine, values[k], FALSE);
      wait_until (&r, has_preview, &request);
      g_assert_cmpfloat_with_epsilon (r.last->preview.sparsity, values[k], 0.01);
      masked = pl_snapshot_build_model (r.last, TRUE);
      ev = pl_evaluate (masked, data->val, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (r.last->preview.n_correct, ==, (guint) lround (ev->accuracy * ev->n));
      if (k == 0)
        g_assert_true (wait_done (&r, sweep));
    }
  g_assert_cmpuint (r.last->n_curves, ==, 2);
  g_assert_cmpuint (r.errors->len, ==, 0);

  pl_test_engine_clear (&r);
}

/* Strategy changes rescore; a neuron score prunes whole neurons. */
static void
test_strategy (void)
{
  PlStrategy strategy;
  PlTestEngine r;
  guint64 request;

  set_up (&r, 4);
  g_assert_true (r.last->scores_valid);
  g_assert_cmpfloat (r.last->score_max, >, r.last->score_min);

  pl_strategy_init (&strategy);
  strategy.score = PL_SCORE_APOZ;
  g_assert_true (wait_done (&r, pl_engine_set_strategy (r.engine, &strategy)));
  g_assert_cmpint (r.last->strategy.score, ==, PL_SCORE_APOZ);
  g_assert_cmpuint (g_bytes_get_size (r.last->layers[0].scores), ==, 32 * sizeof (float));
  g_assert_null (r.last->layers[2].scores);

  request = pl_engine_preview (r.engine, 0.25, FALSE);
  wait_until (&r, has_preview, &request);
  g_assert_cmpuint (r.last->preview.dead_neurons, >, 0);

  /* by threshold: everything below the top score but one per layer */
  request = pl_engine_preview (r.engine, r.last->score_max, TRUE);
  wait_until (&r, has_preview, &request);
  g_assert_true (r.last->preview_by_threshold);
  g_assert_cmpuint (r.last->preview.dead_neurons, >=, 32);
  g_assert_cmpuint (r.errors->len, ==, 0);

  pl_test_engine_clear (&r);
}

/* Snapshots published while the main loop is away replace each other: one iteration delivers
 * one snapshot, the newest, carrying the changes of those it replaced; then the events. */
static void
test_snapshots_coalesce (void)
{
  PlTrainConfig config;
  PlTestEngine r;
  guint id;

  recorder_init (&r);
  pl_engine_load_data (r.engine, SPEC, NULL);
  pl_engine_new_model (r.engine, "IN-16-OUT", PL_ACTIVATION_TANH, 3);
  train_config (&config, 3);
  id = pl_engine_train (r.engine, &config);

  /* let the worker publish many snapshots, then take exactly one */
  while (!g_main_context_pending (NULL))
    g_usleep (G_USEC_PER_SEC / 100);
  g_usleep (G_USEC_PER_SEC / 2);
  g_main_context_iteration (NULL, FALSE);
  g_assert_cmpuint (r.n_snapshots, ==, 1);
  g_assert_true (r.last->changed & PL_SNAPSHOT_CHANGED_DATA);
  g_assert_true (r.last->changed & PL_SNAPSHOT_CHANGED_MODEL);
  g_assert_cmpuint (r.last->serial, >, 1);

  g_assert_true (wait_done (&r, id));
  g_assert_cmpuint (r.done->len, ==, 3);
  g_assert_cmpstr (r.last->arch, ==, "2-16-3");
  g_assert_cmpint (r.last->activation, ==, PL_ACTIVATION_TANH);

  pl_test_engine_clear (&r);
}

/* Divergence: an ::error that says so, the last good weights kept, and the engine goes on. */
static void
test_divergence (void)
{
  PlTrainConfig config;
  PlTestEngine r;
  guint64 request;

  set_up (&r, 0);
  train_config (&config, 5);
  config.optimizer = PL_OPTIMIZER_SGD;
  config.lr = 1e30;
  g_assert_false (wait_done (&r, pl_engine_train (r.engine, &config)));
  g_assert_error (pl_test_engine_error (&r, 0), PL_TRAIN_ERROR, PL_TRAIN_ERROR_DIVERGED);
  g_assert_cmpint (r.last->state, ==, PL_ENGINE_STATE_IDLE);
  for (guint i = 0; i < r.last->n_layers; i++)
    {
      gsize n;
      const float *w = pl_snapshot_floats (r.last->layers[i].weights, &n);

      for (gsize k = 0; k < n; k++)
        g_assert_true (isfinite (w[k]));
    }
  request = pl_engine_preview (r.engine, 0.5, FALSE);
  wait_until (&r, has_preview, &request);
  g_assert_true (wait_done (&r, pl_engine_undo (r.engine)));

  pl_test_engine_clear (&r);
}

/* Disposing while training stops the run and joins the worker; nothing leaks or fires late. */
static void
test_dispose_during_training (void)
{
  PlTrainConfig config;
  PlTestEngine r;

  set_up (&r, 0);
  train_config (&config, 100000);
  pl_engine_train (r.engine, &config);
  for (guint i = 0; i < 50; i++)
    pl_engine_preview (r.engine, i / 50.0, FALSE);
  wait_until (&r, has_state, GUINT_TO_POINTER (PL_ENGINE_STATE_TRAINING));
  pl_engine_pause (r.engine);
  pl_engine_train (r.engine, &config);   /* queued behind: refused or dropped */
  pl_test_engine_clear (&r);

  /* and an engine never used */
  g_assert_finalize_object (pl_engine_new (0));
}

/* Commands sent in one burst, none waited for: they run in the order sent, each ::done arrives
 * once and in that order, only the commands that cannot work fail, and the final state is what
 * the last commands say. (A command that arrives while training runs is refused as busy; the
 * burst ends with the training for that reason.) */
static void
test_command_burst (void)
{
  PlTrainConfig config;
  PlStrategy strategy;
  guint ids[12], n = 0;
  guint64 request;
  PlTestEngine r;

  recorder_init (&r);
  train_config (&config, 2);
  pl_strategy_init (&strategy);
  strategy.score = PL_SCORE_NEURON_L2;

  ids[n++] = pl_engine_load_data (r.engine, SPEC, NULL);
  ids[n++] = pl_engine_new_model (r.engine, "IN-16-16-OUT", PL_ACTIVATION_RELU, 5);
  ids[n++] = pl_engine_apply_prune (r.engine);               /* nothing previewed: fails */
  ids[n++] = pl_engine_set_strategy (r.engine, &strategy);
  request = pl_engine_preview (r.engine, 0.25, FALSE);
  ids[n++] = pl_engine_apply_prune (r.engine);
  ids[n++] = pl_engine_rewind (r.engine);
  ids[n++] = pl_engine_undo (r.engine);                      /* undoes the rewind */
  ids[n++] = pl_engine_undo (r.engine);                      /* undoes the pruning */
  ids[n++] = pl_engine_undo (r.engine);                      /* nothing left: fails */
  ids[n++] = pl_engine_new_model (r.engine, "IN-8-OUT", PL_ACTIVATION_TANH, 2);
  ids[n++] = pl_engine_clear_preview (r.engine);
  ids[n++] = pl_engine_train (r.engine, &config);
  g_assert_cmpuint (request, >, 0);

  g_assert_true (wait_done (&r, ids[n - 1]));
  g_assert_cmpuint (r.done->len, ==, n);
  for (guint i = 0; i < n; i++)
    {
      g_assert_cmpint (pl_test_engine_done_index (&r, ids[i]), ==, i);
      g_assert_cmpint (g_array_index (r.done_ok, gboolean, i), ==, i != 2 && i != 8);
    }
  g_assert_cmpuint (r.errors->len, ==, 2);
  g_assert_error (pl_test_engine_error (&r, 0), PL_ENGINE_ERROR, PL_ENGINE_ERROR_NO_PREVIEW);
  g_assert_error (pl_test_engine_error (&r, 1), PL_ENGINE_ERROR, PL_ENGINE_ERROR_NOTHING_TO_UNDO);
  g_assert_cmpstr (r.last->arch, ==, "2-8-3");
  g_assert_cmpint (r.last->state, ==, PL_ENGINE_STATE_IDLE);
  g_assert_false (r.last->has_preview);
  g_assert_cmpfloat (r.last->metrics.total.parameter_sparsity, ==, 0.0);
  g_assert_cmpuint (r.last->training.step, ==, r.last->training.steps_total);

  pl_test_engine_clear (&r);
}

/* Stop while training, again and again: every run ends ok with the steps it finished, the
 * engine is idle after each, and the next command runs normally. */
static void
test_cancel_during_training (void)
{
  PlTrainConfig config;
  PlTestEngine r;
  const guint64 step = 0;

  set_up (&r, 0);
  train_config (&config, 100000);
  for (guint round = 0; round < 5; round++)
    {
      guint id = pl_engine_train (r.engine, &config);

      wait_until (&r, has_state, GUINT_TO_POINTER (PL_ENGINE_STATE_TRAINING));
      wait_until (&r, step_beyond, &step);
      pl_engine_stop (r.engine);
      g_assert_true (wait_done (&r, id));
      g_assert_cmpint (r.last->state, ==, PL_ENGINE_STATE_IDLE);
      g_assert_cmpuint (r.last->training.step, <, r.last->training.steps_total);
    }
  /* stop with nothing running changes nothing; a stop right after the command also works */
  pl_engine_stop (r.engine);
  config.epochs = 1;
  g_assert_true (wait_done (&r, pl_engine_train (r.engine, &config)));
  g_assert_cmpuint (r.last->training.step, ==, r.last->training.steps_total);
  config.epochs = 100000;
  {
    guint id = pl_engine_train (r.engine, &config);

    pl_engine_stop (r.engine);
    g_assert_true (wait_done (&r, id));
  }
  g_assert_cmpuint (r.errors->len, ==, 0);

  pl_test_engine_clear (&r);
}

/* Previews sent faster than any drag while a sweep runs: the sweep's curves come out complete and
 * equal to those of a sweep left alone, and the newest preview is answered. */
static void
test_preview_storm_during_sweep (void)
{
  PlScoreKind kinds[] = { PL_SCORE_MAGNITUDE, PL_SCORE_RANDOM };
  g_autoptr(PlSnapshot) quiet = NULL;
  PlTestEngine r;
  guint64 request = 0;
  guint id;

  set_up (&r, 4);
  g_assert_true (wait_done (&r, pl_engine_sweep (r.engine, kinds, 2, 12, 0.98, 1)));
  quiet = pl_snapshot_ref (r.last);

  id = pl_engine_sweep (r.engine, kinds, 2, 12, 0.98, 1);
  /* a fast drag: a motion every 2 ms, five times the rate of a pointer */
  for (guint i = 0; pl_test_engine_done_index (&r, id) < 0; i++)
    {
      request = pl_engine_preview (r.engine, (i % 97) / 100.0, FALSE);
      while (g_main_context_iteration (NULL, FALSE))
        ;
      g_usleep (2000);
    }
  g_assert_true (wait_done (&r, id));
  request = pl_engine_preview (r.engine, 0.42, FALSE);
  wait_until (&r, has_preview, &request);
  g_assert_cmpfloat (r.last->preview.value, ==, 0.42);

  g_assert_cmpuint (r.last->n_curves, ==, 2);
  for (guint c = 0; c < 2; c++)
    {
      gsize n, n_quiet;
      const PlSweepPoint *p = pl_sweep_curve_points (&r.last->curves[c], &n);
      const PlSweepPoint *q = pl_sweep_curve_points (&quiet->curves[c], &n_quiet);

      g_assert_cmpuint (n, ==, 12);
      g_assert_cmpuint (n_quiet, ==, 12);
      for (guint k = 0; k < n; k++)
        {
          g_assert_cmpfloat (p[k].target, ==, q[k].target);
          g_assert_cmpfloat (p[k].accuracy, ==, q[k].accuracy);
          g_assert_cmpfloat (p[k].sparsity, ==, q[k].sparsity);
        }
    }
  g_assert_cmpuint (r.errors->len, ==, 0);

  pl_test_engine_clear (&r);
}

/* Undo while training is refused (the run goes on); after the run it restores the weights of
 * before the run, bit for bit. */
static void
test_undo_during_training (void)
{
  g_autoptr(PlSnapshot) before = NULL;
  PlTrainConfig config;
  PlTestEngine r;
  guint64 step = 2;
  guint id;

  set_up (&r, 1);
  before = pl_snapshot_ref (r.last);
  train_config (&config, 100000);
  id = pl_engine_train (r.engine, &config);
  wait_until (&r, step_beyond, &step);
  for (guint i = 0; i < 5; i++)
    {
      g_assert_false (wait_done (&r, pl_engine_undo (r.engine)));
      g_assert_error (pl_test_engine_error (&r, i), PL_ENGINE_ERROR, PL_ENGINE_ERROR_BUSY);
      g_assert_cmpint (r.last->state, ==, PL_ENGINE_STATE_TRAINING);
    }
  pl_engine_stop (r.engine);
  g_assert_true (wait_done (&r, id));
  g_assert_false (bytes_equal (r.last->layers[0].weights, before->layers[0].weights));

  g_assert_true (wait_done (&r, pl_engine_undo (r.engine)));
  for (guint i = 0; i < r.last->n_layers; i++)
    {
      g_assert_true (bytes_equal (r.last->layers[i].weights, before->layers[i].weights));
      g_assert_true (bytes_equal (r.last->layers[i].biases, before->layers[i].biases));
      g_assert_true (bytes_equal (r.last->layers[i].masks, before->layers[i].masks));
    }
  g_assert_cmpuint (r.errors->len, ==, 5);

  pl_test_engine_clear (&r);
}

typedef struct {
  PlTestEngine *r;
  guint         k;
  gboolean      stop;
} Drag;

/* One pointer position every 10 ms, until told to stop. */
static gboolean
drag_motion_cb (gpointer data)
{
  Drag *d = data;

  if (d->stop)
    return G_SOURCE_REMOVE;
  pl_engine_preview (d->r->engine, 0.05 + 0.9 * ((d->k++ * 7) % 100) / 100.0, FALSE);
  return G_SOURCE_CONTINUE;
}

static gboolean
shows_subsample (PlTestEngine  *r,
                 gconstpointer  data)
{
  return r->last != NULL && r->last->has_preview && r->last->preview_subsample
         && r->last->state == PL_ENGINE_STATE_TRAINING;
}

static gboolean
shows_every_sample (PlTestEngine  *r,
                    gconstpointer  data)
{
  return r->last != NULL && r->last->has_preview && !r->last->preview_subsample
         && r->last->preview.n == r->last->n_val && r->last->state == PL_ENGINE_STATE_TRAINING;
}

/* While training, a drag is evaluated on a fixed subsample of the 6,000 validation samples, and
 * the snapshot says so; when the pointer rests, the same value is evaluated on every sample,
 * still while training. Stopped, the preview is exact on the final weights. */
static void
test_drag_while_training_subsample (void)
{
  g_autoptr(PlMlp) masked = NULL;
  g_autoptr(PlEvaluation) ev = NULL;
  g_autoptr(PlData) data = NULL;
  PlDataOptions options = PL_DATA_OPTIONS_INIT;
  PlTrainConfig config;
  PlTestEngine r;
  Drag d = { &r, 0, FALSE };
  double value;
  guint train;

  recorder_init (&r);
  options.val_size = 6000;
  g_assert_true (wait_done (&r, pl_engine_load_data (r.engine, "moons:n=9000,seed=2", &options)));
  g_assert_true (wait_done (&r, pl_engine_new_model (r.engine, "IN-32-32-OUT", PL_ACTIVATION_RELU, 3)));
  g_assert_cmpuint (r.last->n_val, ==, 6000);
  train_config (&config, 100000);
  train = pl_engine_train (r.engine, &config);
  wait_until (&r, has_state, GUINT_TO_POINTER (PL_ENGINE_STATE_TRAINING));

  g_timeout_add (10, drag_motion_cb, &d);
  wait_until (&r, shows_subsample, NULL);
  g_assert_cmpuint (r.last->preview.n, <, 6000);
  g_assert_cmpuint (r.last->preview.n, >, 0);
  d.stop = TRUE;

  wait_until (&r, shows_every_sample, NULL);
  value = r.last->preview.value;
  pl_engine_stop (r.engine);
  g_assert_true (wait_done (&r, train));
  g_assert_false (r.last->preview_subsample);
  g_assert_cmpfloat (r.last->preview.value, ==, value);
  g_assert_cmpuint (r.last->preview_steps_behind, ==, 0);

  data = pl_data_load ("moons:n=9000,seed=2", &options, NULL);
  masked = pl_snapshot_build_model (r.last, TRUE);
  ev = pl_evaluate (masked, data->val, NULL);
  g_assert_cmpuint (r.last->preview.n, ==, 6000);
  g_assert_cmpfloat_with_epsilon (r.last->preview.loss, ev->loss, 1e-4);
  g_assert_cmpuint (r.errors->len, ==, 0);
  pl_test_engine_clear (&r);
}

static gboolean
shows_idle_preview (PlTestEngine  *r,
                    gconstpointer  data)
{
  gboolean subsample = GPOINTER_TO_INT (data);

  return r->last != NULL && r->last->has_preview && r->last->state == PL_ENGINE_STATE_IDLE
         && r->last->preview_subsample == subsample
         && (subsample || r->last->preview.n == r->last->n_val);
}

typedef struct {
  guint64  id;
  gboolean saw_subsample;   /* a snapshot answered @id with the subsample */
} Answer;

static gboolean
answered_watching_subsample (PlTestEngine  *r,
                             gconstpointer  data)
{
  Answer *a = (Answer *) data;

  if (r->last == NULL || !r->last->has_preview || r->last->preview_request < a->id)
    return FALSE;
  a->saw_subsample |= r->last->preview_subsample;
  return TRUE;
}

/* Without training too, a drag (requests 10 ms apart) is evaluated on the fixed subsample and
 * says so, and the value it rests on is evaluated on every sample DRAG_GAP_USEC later, with the
 * masks a full evaluation of the masked model agrees with. A single request is exact at once. */
static void
test_drag_idle_subsample (void)
{
  g_autoptr(PlMlp) masked = NULL;
  g_autoptr(PlEvaluation) ev = NULL;
  g_autoptr(PlData) data = NULL;
  PlDataOptions options = PL_DATA_OPTIONS_INIT;
  PlTestEngine r;
  Drag d = { &r, 0, FALSE };
  Answer single = { 0, FALSE };
  double value;

  recorder_init (&r);
  options.val_size = 6000;
  g_assert_true (wait_done (&r, pl_engine_load_data (r.engine, "moons:n=9000,seed=2", &options)));
  g_assert_true (wait_done (&r, pl_engine_new_model (r.engine, "IN-32-32-OUT", PL_ACTIVATION_RELU, 3)));

  g_timeout_add (10, drag_motion_cb, &d);
  wait_until (&r, shows_idle_preview, GINT_TO_POINTER (TRUE));
  g_assert_cmpuint (r.last->preview.n, <, 6000);
  g_assert_cmpuint (r.last->preview.n, >, 0);
  d.stop = TRUE;

  wait_until (&r, shows_idle_preview, GINT_TO_POINTER (FALSE));
  value = r.last->preview.value;
  data = pl_data_load ("moons:n=9000,seed=2", &options, NULL);
  masked = pl_snapshot_build_model (r.last, TRUE);
  ev = pl_evaluate (masked, data->val, NULL);
  g_assert_cmpuint (r.last->preview.n, ==, 6000);
  g_assert_cmpfloat_with_epsilon (r.last->preview.loss, ev->loss, 1e-4);

  /* long after the drag, one request: every sample, without the subsample first */
  g_usleep (G_USEC_PER_SEC / 2);
  single.id = pl_engine_preview (r.engine, value < 0.5 ? 0.7 : 0.3, FALSE);
  wait_until (&r, answered_watching_subsample, &single);
  g_assert_false (single.saw_subsample);
  g_assert_false (r.last->preview_subsample);
  g_assert_cmpuint (r.last->preview.n, ==, 6000);
  g_assert_cmpuint (r.errors->len, ==, 0);
  pl_test_engine_clear (&r);
}

/* ---- sessions ---- */

/* A session saved from one engine and loaded into another gives the same weights, masks,
 * history, strategy and curves, and rewind goes to the same initial weights. Another dataset
 * under the same spec (the hash differs) is refused and the engine stays as it was. */
static void
test_session_round_trip (void)
{
  PlScoreKind kinds[] = { PL_SCORE_MAGNITUDE, PL_SCORE_RANDOM };
  g_autofree char *dir = g_dir_make_tmp ("test-engine-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "a.prunelab", NULL);
  g_autoptr(PlSnapshot) saved = NULL;
  g_autoptr(PlSnapshot) rewound = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(PlSession) loaded = NULL;
  g_autoptr(PlSession) tampered = NULL;
  PlSession *ui_part;
  PlStrategy strategy;
  PlTestEngine a, b;
  guint64 request;

  set_up (&a, 3);
  pl_strategy_init (&strategy);
  strategy.score = PL_SCORE_TAYLOR;
  g_assert_true (wait_done (&a, pl_engine_set_strategy (a.engine, &strategy)));
  g_assert_true (wait_done (&a, pl_engine_sweep (a.engine, kinds, 2, 4, 0.9, 2)));
  request = pl_engine_preview (a.engine, 0.6, FALSE);
  wait_until (&a, has_preview, &request);
  g_assert_true (wait_done (&a, pl_engine_apply_prune (a.engine)));
  ui_part = pl_session_new ();
  ui_part->slider = 0.6;
  ui_part->lesson_id = g_strdup ("magnitude");
  g_assert_true (wait_done (&a, pl_engine_save_session (a.engine, path, ui_part)));
  saved = pl_snapshot_ref (a.last);
  g_assert_true (wait_done (&a, pl_engine_rewind (a.engine)));
  rewound = pl_snapshot_ref (a.last);

  loaded = pl_session_load (path, &error);
  g_assert_no_error (error);
  g_assert_cmpfloat (loaded->slider, ==, 0.6);
  g_assert_cmpstr (loaded->lesson_id, ==, "magnitude");
  g_assert_cmpstr (loaded->data_spec, ==, SPEC);
  g_assert_cmpuint (loaded->train.epochs, ==, 3);
  tampered = pl_session_load (path, &error);
  g_assert_no_error (error);

  recorder_init (&b);
  g_assert_true (wait_done (&b, pl_engine_load_data (b.engine, "moons:n=300", NULL)));
  g_free (tampered->data_sha256);
  tampered->data_sha256 = g_strnfill (64, '0');
  g_assert_false (wait_done (&b, pl_engine_load_session (b.engine, g_steal_pointer (&tampered),
                                                         "t.prunelab")));
  g_assert_error (pl_test_engine_error (&b, 0), PL_FORMAT_ERROR, PL_FORMAT_ERROR_MISMATCH);
  g_assert_nonnull (strstr (pl_test_engine_error (&b, 0)->message, "t.prunelab"));
  g_assert_cmpstr (b.last->data_spec, ==, "moons:n=300");

  g_assert_true (wait_done (&b, pl_engine_load_session (b.engine, g_steal_pointer (&loaded),
                                                        "a.prunelab")));
  g_assert_cmpstr (b.last->data_spec, ==, SPEC);
  g_assert_cmpstr (b.last->arch, ==, saved->arch);
  g_assert_cmpint (b.last->strategy.score, ==, PL_SCORE_TAYLOR);
  g_assert_true (b.last->scores_valid);
  for (guint i = 0; i < saved->n_layers; i++)
    {
      g_assert_true (bytes_equal (b.last->layers[i].weights, saved->layers[i].weights));
      g_assert_true (bytes_equal (b.last->layers[i].biases, saved->layers[i].biases));
      g_assert_true (bytes_equal (b.last->layers[i].masks, saved->layers[i].masks));
    }
  g_assert_true (bytes_equal (b.last->training.history, saved->training.history));
  g_assert_true (bytes_equal (b.last->training.grad_norms, saved->training.grad_norms));
  /* magnitude once, random with two seeds */
  g_assert_cmpuint (saved->n_curves, ==, 3);
  g_assert_cmpuint (b.last->n_curves, ==, saved->n_curves);
  for (guint c = 0; c < saved->n_curves; c++)
    {
      g_assert_cmpint (b.last->curves[c].score, ==, saved->curves[c].score);
      g_assert_cmpuint (b.last->curves[c].seed, ==, saved->curves[c].seed);
      g_assert_true (bytes_equal (b.last->curves[c].points, saved->curves[c].points));
    }
  g_assert_cmpfloat (b.last->metrics.total.parameter_sparsity, ==,
                     saved->metrics.total.parameter_sparsity);
  g_assert_cmpfloat (b.last->eval.accuracy, ==, saved->eval.accuracy);

  g_assert_true (wait_done (&b, pl_engine_rewind (b.engine)));
  for (guint i = 0; i < saved->n_layers; i++)
    g_assert_true (bytes_equal (b.last->layers[i].weights, rewound->layers[i].weights));

  pl_test_engine_clear (&a);
  pl_test_engine_clear (&b);
  g_unlink (path);
  g_rmdir (dir);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_summary ("The engine thread: commands, snapshots, coalescing previews, pause, undo, errors");

  g_test_add_func ("/engine/thread/train/snapshots-arrive-in-order", test_train_snapshots);
  g_test_add_func ("/engine/thread/preview/burst-coalesces-exactly", test_preview_burst);
  g_test_add_func ("/engine/thread/preview/drag-while-training-subsample-then-every-sample",
                   test_drag_while_training_subsample);
  g_test_add_func ("/engine/thread/preview/idle-drag-subsample-then-every-sample",
                   test_drag_idle_subsample);
  g_test_add_func ("/engine/thread/prune/apply-then-undo-restores", test_apply_undo);
  g_test_add_func ("/engine/thread/preview/wait-delivers-the-answer", test_wait_for_preview);
  g_test_add_func ("/engine/thread/train/pause-resume-stop", test_pause_resume_stop);
  g_test_add_func ("/engine/thread/errors/name-the-file-and-keep-running", test_errors);
  g_test_add_func ("/engine/thread/sweep/curves-grow", test_sweep);
  g_test_add_func ("/engine/thread/sweep/seeds-and-layer-sparsity", test_sweep_seeds);
  g_test_add_func ("/engine/thread/schedule/points-arrive-and-adopt-undoes", test_schedule);
  g_test_add_func ("/engine/thread/schedule/movement-set-rigl-reach-the-target", test_schedule_dst);
  g_test_add_func ("/engine/thread/prune-obs/equals-pl-obs-and-undoes", test_prune_obs);
  g_test_add_func ("/engine/thread/sweep/previews-answered-during-and-after", test_sweep_then_preview);
  g_test_add_func ("/engine/thread/strategy/rescores", test_strategy);
  g_test_add_func ("/engine/thread/snapshots/coalesce-while-the-loop-is-away", test_snapshots_coalesce);
  g_test_add_func ("/engine/thread/errors/divergence-keeps-running", test_divergence);
  g_test_add_func ("/engine/thread/dispose/during-training-joins", test_dispose_during_training);
  g_test_add_func ("/engine/thread/commands/burst-runs-in-order", test_command_burst);
  g_test_add_func ("/engine/thread/train/cancel-again-and-again", test_cancel_during_training);
  g_test_add_func ("/engine/thread/sweep/preview-storm-leaves-curves-intact",
                   test_preview_storm_during_sweep);
  g_test_add_func ("/engine/thread/session/saved-and-loaded-the-same", test_session_round_trip);
  g_test_add_func ("/engine/thread/undo/refused-while-training-then-restores",
                   test_undo_during_training);

  return g_test_run ();
}
