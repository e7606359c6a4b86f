#define G_LOG_DOMAIN "pl-engine"

#include "config.h"

#include "pl-engine-worker-private.h"

#include <cblas.h>
#include <glib/gi18n-lib.h>
#include <math.h>
#include <string.h>

#include "pl-blas.h"
#include "pl-conv-train.h"
#include "pl-error.h"
#include "pl-eval.h"
#include "pl-metrics.h"
#include "pl-nn.h"
#include "pl-prune.h"
#include "pl-safetensors.h"
#include "pl-sweep.h"

/* Previews, and the long runs: training and sweeps, and the previews answered between their
 * steps (see pl-engine.c for how they share the time). */

void
_pl_worker_drop_previews (PlWorker *w)
{
  g_clear_pointer (&w->full.preview, pl_preview_free);
  g_clear_pointer (&w->sub.preview, pl_preview_free);
}

/* The worker's evaluation inputs, made on first use. (transfer none) */
static PlPreviewInputs *
ensure_inputs (PlWorker         *w,
               PlPreviewInputs **inputs,
               guint             max_samples)
{
  if (*inputs == NULL)
    *inputs = pl_preview_inputs_new (w->eval, max_samples, w->threads);
  return *inputs;
}

/* While training, the weights move at every step, so the preview is always a little behind;
 * rebuilding it (scores, sorting, the first layer over the evaluation set: ~100-300 ms for
 * 784-300-100-10 and 10,000 samples) is worth it once it is PREVIEW_REFRESH_USEC old (and at
 * least 10× its build time, so that rebuilding costs ≤ 10%), but not in the middle of a drag
 * (requests less than DRAG_GAP_USEC apart), unless it is PREVIEW_MAX_AGE_USEC old. @gap: time
 * since the request before. */
static gboolean
rebuild_due (PlWorker          *w,
             const LivePreview *lp,
             gint64             now,
             gint64             gap)
{
  gint64 age = now - lp->built_at;
  gint64 refresh = MAX (PREVIEW_REFRESH_USEC, 10 * lp->build_usec);

  if (age < refresh || lp->built_step == w->grad_norms->len)
    return FALSE;
  return gap > DRAG_GAP_USEC || age > MAX (PREVIEW_MAX_AGE_USEC, 2 * refresh);
}

/* The preview @lp for the current model, scores, strategy and data. @in_run: training is
 * running, and an existing preview is kept until rebuild_due(). */
gboolean
_pl_worker_ensure_preview (PlWorker     *w,
                           LivePreview  *lp,
                           gboolean      in_run,
                           GError      **error)
{
  PlPruneSpec spec;
  gint64 t0, now = g_get_monotonic_time ();

  if (lp->preview != NULL)
    {
      if (!lp->stale)
        return TRUE;
      if (in_run && !rebuild_due (w, lp, now, w->request_gap))
        return TRUE;
    }
  if (w->data == NULL)
    {
      g_set_error (error, PL_ENGINE_ERROR, PL_ENGINE_ERROR_NO_DATA, _("load a dataset first"));
      return FALSE;
    }
  if (w->model != NULL && !_pl_worker_model_fits (w->model, w->data))
    {
      g_set_error (error, PL_TRAIN_ERROR, PL_TRAIN_ERROR_MISMATCH,
                   _("the model does not fit the data “%s”"), w->data->name);
      return FALSE;
    }

  t0 = g_get_monotonic_time ();
  if (in_run)
    _pl_worker_touch (w, DIRTY_SCORES);   /* of the weights now, as the preview will be */
  if (!_pl_worker_ensure_scores (w, error))
    return FALSE;
  g_clear_pointer (&lp->preview, pl_preview_free);
  pl_strategy_to_prune_spec (&w->draft->strategy, &spec, FALSE, 0.0);
  lp->preview = pl_preview_new_shared (w->model, w->scores, &spec,
                                       ensure_inputs (w, lp->inputs, lp->max_samples),
                                       w->threads, error);
  if (lp->preview == NULL)
    return FALSE;
  lp->built_at = g_get_monotonic_time ();
  lp->build_usec = lp->built_at - t0;
  lp->built_step = w->grad_norms->len;
  lp->stale = FALSE;
  return TRUE;
}

/* ───────────────────────────── previews ───────────────────────────── */

/* Reads the newest value of a preview request, and ends its writable life. */
void
_pl_worker_take_request (PlWorker  *w,
                         PlCommand *cmd)
{
  PlPreviewRequest r;
  gint64 now = g_get_monotonic_time ();

  w->request_gap = now - w->last_request_time;
  w->last_request_time = now;
  _pl_engine_take_preview (w->engine, cmd, &r);
  w->preview_value = r.value;
  w->preview_by_threshold = r.by_threshold;
  w->draft->preview_request = r.request;
  w->draft->previews_requested = r.requested;
  memset (&w->draft->preview_timing, 0, sizeof w->draft->preview_timing);
  w->draft->preview_timing.sent = r.sent_at;
  w->draft->preview_timing.queued = MAX (0, cmd->popped_at - r.sent_at);
  w->draft->preview_timing.held = now - MAX (cmd->popped_at, r.sent_at);
  w->timing_open = TRUE;
}

/* Runs the preview at w->preview_value; on failure the preview is off. @in_run: training runs
 * and the preview may lag behind the weights (rebuild_due()); with @subsample it evaluates
 * the fixed subsample (during a drag), else every sample. */
gboolean
_pl_worker_run_preview (PlWorker  *w,
                        gboolean   in_run,
                        gboolean   subsample,
                        GError   **error)
{
  PlPreviewResult r;
  PlMlp *m = w->model;
  LivePreview *lp = subsample ? &w->sub : &w->full;
  gint64 t0 = g_get_monotonic_time (), t1, t2;

  if (m == NULL)
    {
      g_set_error (error, PL_ENGINE_ERROR, PL_ENGINE_ERROR_NO_MODEL, _("there is no model yet"));
      _pl_worker_clear_preview (w);
      return FALSE;
    }
  if (!_pl_worker_ensure_preview (w, lp, in_run, error))
    {
      _pl_worker_clear_preview (w);
      return FALSE;
    }
  t1 = g_get_monotonic_time ();
  if (!pl_preview_run (lp->preview, w->preview_value, w->preview_by_threshold, &r, error))
    {
      _pl_worker_clear_preview (w);
      return FALSE;
    }
  t2 = g_get_monotonic_time ();
  /* a new preview computes its first layer in its first run: part of building it */
  if (lp->built_at >= t0)
    lp->build_usec = g_get_monotonic_time () - t0;

  w->draft->previews_computed++;
  w->draft->has_preview = TRUE;
  w->draft->preview_by_threshold = w->preview_by_threshold;
  w->draft->preview = r;
  w->shown = lp;
  pl_preview_get_masks (lp->preview, w->preview_masks, w->preview_neuron_masks);
  for (guint i = 0; i < m->n_layers; i++)
    {
      const PlLayer *l = &m->layers[i];
      gsize off = l->w_mask - m->masks, noff = l->neuron_mask - m->neuron_masks;

      _pl_worker_set_bytes (&w->draft->layers[i].preview_masks, w->preview_masks + off,
                            sizeof (float) * l->n_out * l->n_in);
      _pl_worker_set_bytes (&w->draft->layers[i].preview_neuron_masks, w->preview_neuron_masks + noff,
                            sizeof (float) * l->n_out);
    }
  pl_metrics_compute (&w->draft->preview_metrics, m, NULL, w->preview_masks, w->preview_neuron_masks);
  _pl_worker_touch (w, DIRTY_PGRID);
  w->changed |= PL_SNAPSHOT_CHANGED_PREVIEW;
  w->draft->preview_timing.rebuild = t1 - t0;
  w->draft->preview_timing.run = t2 - t1;
  w->draft->preview_timing.masks = g_get_monotonic_time () - t2;
  return TRUE;
}

void
_pl_worker_do_preview (PlWorker  *w,
                       PlCommand *cmd,
                       gboolean   in_run)
{
  GError *error = NULL;
  gint64 t0 = g_get_monotonic_time ();

  _pl_worker_take_request (w, cmd);
  /* a drag (a request within DRAG_GAP_USEC of the one before, or any while training)
   * evaluates the fixed subsample; _pl_worker_refresh_shown_preview() every sample when the
   * pointer rests */
  if (!_pl_worker_run_preview (w, in_run,
                               w->eval != NULL && w->eval->n > TRAIN_PREVIEW_SAMPLES
                               && (in_run || w->request_gap <= DRAG_GAP_USEC),
                               &error))
    _pl_worker_post_error (w, error);
  _pl_worker_publish (w);
  /* a continuous drag must not starve a training or a sweep: the next preview waits until the
   * run has had RUN_SHARE of the time */
  if (w->running)
    {
      gint64 now = g_get_monotonic_time ();

      w->run_until = now + (gint64) ((now - t0) * RUN_SHARE / (1.0 - RUN_SHARE));
    }
}

/* When the pointer rests (no request for DRAG_GAP_USEC, nor one waiting) after a preview of
 * the drag's subsample, that preview is done again at once on every evaluation sample (and,
 * while training, the current weights); while training, one of every sample follows the
 * weights, rebuilt and run again when rebuild_due(). */
void
_pl_worker_refresh_shown_preview (PlWorker *w)
{
  gint64 now = g_get_monotonic_time ();
  GError *error = NULL;

  if (!w->draft->has_preview || w->shown == NULL
      || now - w->last_request_time <= DRAG_GAP_USEC)
    return;
  if (w->shown == &w->full
      && (!w->training || w->full.preview == NULL
          || !rebuild_due (w, &w->full, now, now - w->last_request_time)))
    return;

  if (w->training)
    g_clear_pointer (&w->full.preview, pl_preview_free);
  if (!_pl_worker_run_preview (w, w->training, FALSE, &error))
    _pl_worker_post_error (w, error);
  _pl_worker_publish (w);
}

/* How long the idle worker may wait for a command before the preview of a drag's subsample
 * is due on every sample: -1 for as long as it takes. */
gint64
_pl_worker_rest_timeout (PlWorker *w)
{
  if (w->training || !w->draft->has_preview || w->shown != &w->sub)
    return -1;
  return MAX (1, w->last_request_time + DRAG_GAP_USEC + 1 - g_get_monotonic_time ());
}

/* Between two steps of a long command: answers what waits, honours pause (training only), and
 * returns at once when nothing waits. */
void
_pl_worker_service (PlWorker *w)
{
  PlEngine *engine = w->engine;

  for (;;)
    {
      gboolean stopping = w->quit || g_cancellable_is_cancelled (w->cancellable);
      gboolean paused = w->training && !stopping && g_atomic_int_get (&engine->paused);
      PlCommand *cmd;

      /* what waits runs after the long command: stop-then-train must not be "busy" */
      if (stopping)
        return;
      if (paused != (w->draft->state == PL_ENGINE_STATE_PAUSED))
        {
          _pl_worker_set_state (w, paused ? PL_ENGINE_STATE_PAUSED : PL_ENGINE_STATE_TRAINING,
                                w->draft->command, w->draft->progress);
          _pl_worker_publish (w);
        }

      /* a preview held back so that training gets its share */
      if (w->held_preview != NULL)
        {
          if (!paused && g_get_monotonic_time () < w->run_until)
            return;
          cmd = g_steal_pointer (&w->held_preview);
          _pl_worker_handle (w, cmd);
          continue;
        }

      if (paused)
        cmd = _pl_engine_queue_pop (engine, PAUSE_POLL_USEC);
      else if (g_atomic_int_get (&engine->queued) > 0)
        cmd = _pl_engine_queue_pop (engine, 0);
      else
        {
          _pl_worker_refresh_shown_preview (w);
          return;
        }

      if (cmd == NULL)
        {
          _pl_worker_refresh_shown_preview (w);
          if (!paused)
            return;
          continue;
        }
      if (cmd->kind == PL_ENGINE_COMMAND_PREVIEW && !paused
          && g_get_monotonic_time () < w->run_until)
        {
          w->held_preview = cmd;
          return;
        }
      _pl_worker_handle (w, cmd);
    }
}

void
_pl_worker_on_train_progress (const PlTrainProgress *p,
                              gpointer               user_data)
{
  PlWorker *w = user_data;

  if (p->epoch_done)
    {
      PlEpochRecord rec = *p->record;

      rec.epoch = w->history->len + 1;
      g_array_append_val (w->history, rec);
      _pl_worker_touch (w, DIRTY_HISTORY | DIRTY_EVAL);
    }
  else
    {
      float gn = (float) p->grad_norm;

      g_array_append_val (w->grad_norms, gn);
      w->draft->training.batch_loss = p->batch_loss;
      _pl_worker_touch (w, DIRTY_HISTORY | DIRTY_WEIGHTS | DIRTY_METRICS | DIRTY_GRID | DIRTY_SCORES
                           | DIRTY_PREVIEW | DIRTY_FEATURES);
    }
  w->draft->training.epoch = p->epoch;
  w->draft->training.epochs = p->epochs;
  w->draft->training.step = p->step;
  w->draft->training.steps_total = p->steps_total;
  w->draft->progress = p->steps_total > 0 ? (double) p->step / p->steps_total : -1.0;
  w->changed |= PL_SNAPSHOT_CHANGED_TRAINING | PL_SNAPSHOT_CHANGED_STATE;

  _pl_worker_service (w);

  if (g_get_monotonic_time () - w->publish_time >= PUBLISH_USEC)
    _pl_worker_publish (w);
}

void
_pl_worker_do_train (PlWorker  *w,
                     PlCommand *cmd)
{
  g_autoptr(PlTrainer) trainer = NULL;
  g_autoptr(PlConvTrainer) conv_trainer = NULL;
  GError *error = NULL;
  PlTrainConfig config;
  gboolean fine_tune = cmd->kind == PL_ENGINE_COMMAND_FINE_TUNE;
  gboolean want_preview, ok;

  if (w->data == NULL)
    {
      _pl_worker_fail (w, cmd, PL_ENGINE_ERROR, PL_ENGINE_ERROR_NO_DATA, _("load a dataset before training"));
      return;
    }
  if (w->model == NULL && w->conv == NULL)
    {
      _pl_worker_fail (w, cmd, PL_ENGINE_ERROR, PL_ENGINE_ERROR_NO_MODEL, _("make a model before training"));
      return;
    }

  if (fine_tune)
    {
      config = w->config;
      config.epochs = cmd->epochs;
      config.lr = cmd->lr;
    }
  else
    {
      config = cmd->config;
      w->config = config;
    }

  _pl_worker_push_undo (w);
  if (w->conv != NULL)
    conv_trainer = pl_conv_trainer_new (w->conv, &config);
  else
    trainer = pl_trainer_new (w->model, &config);
  w->cancellable = cmd->cancellable;
  w->running = w->training = TRUE;
  w->draft->training.fine_tune = fine_tune;
  w->draft->training.epoch = 0;
  w->draft->training.epochs = config.epochs;
  w->draft->training.step = 0;
  w->draft->training.steps_total = 0;
  w->batch_size = config.batch_size;
  w->run_started = g_get_monotonic_time ();
  w->draft->training.samples_per_second = 0.0;
  w->run_until = 0;
  _pl_worker_set_state (w, PL_ENGINE_STATE_TRAINING, cmd->kind, 0.0);
  w->changed |= PL_SNAPSHOT_CHANGED_TRAINING;
  _pl_worker_publish (w);

  if (conv_trainer != NULL)
    ok = pl_conv_trainer_run (conv_trainer, w->data->train, w->data->val,
                              _pl_worker_on_train_progress, w, cmd->cancellable, &error);
  else
    ok = pl_trainer_run (trainer, w->data->train, w->data->val, _pl_worker_on_train_progress, w,
                         cmd->cancellable, &error);
  if (!ok && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_clear_error (&error);   /* stopped: what finished is kept */

  w->running = w->training = FALSE;
  w->cancellable = NULL;
  /* the last weights (or, after divergence, the restored ones) */
  _pl_worker_touch (w, DIRTY_MODEL | DIRTY_HISTORY);
  want_preview = w->draft->has_preview;
  if (w->held_preview != NULL)
    {
      PlCommand *held = g_steal_pointer (&w->held_preview);

      _pl_worker_take_request (w, held);
      _pl_command_free (held);
      want_preview = TRUE;
    }
  /* a preview that was shown is redone on the final weights, exactly */
  if (want_preview)
    {
      GError *perror = NULL;

      if (!(w->conv != NULL ? _pl_worker_conv_run_preview (w, FALSE, &perror)
                            : _pl_worker_run_preview (w, FALSE, FALSE, &perror)))
        _pl_worker_post_error (w, perror);
    }
  g_clear_pointer (&w->sub.preview, pl_preview_free);
  _pl_worker_set_state (w, PL_ENGINE_STATE_IDLE, PL_ENGINE_COMMAND_NONE, -1.0);
  _pl_worker_publish (w);
  _pl_worker_finish (w, cmd, error);
}

/* How many seeds score @si of a sweep is run with: those asked for when it depends on them (it
 * samples batches of data, or draws at random), else 1 — every seed gives the same curve. */
static guint
seeds_of (const PlCommand *cmd,
          guint            si)
{
  PlScoreKind kind = cmd->scores[si];

  return pl_score_info (kind)->needs_data || kind == PL_SCORE_RANDOM ? cmd->seeds : 1;
}

typedef struct {
  PlWorker        *w;
  const PlCommand *cmd;
  guint            curve;     /* index in draft->curves */
  guint            done, total;
} Sweep;

/* One point of a sweep's curve: kept, shown at most every PUBLISH_USEC, and what waits is
 * answered before the next. */
static gboolean
on_sweep_point (guint                  i,
                double                 target,
                const PlPreviewResult *r,
                gpointer               data)
{
  Sweep *sweep = data;
  PlWorker *w = sweep->w;
  PlSweepPoint p;

  p.target = target;
  p.sparsity = r->sparsity;
  p.structural_sparsity = r->neurons > 0 ? (double) r->dead_neurons / r->neurons : 0.0;
  p.accuracy = r->accuracy;
  p.loss = r->loss;
  memcpy (p.layer_sparsity, r->layer_sparsity, sizeof p.layer_sparsity);
  g_array_prepend_val (w->curve_points[sweep->curve], p);
  g_clear_pointer (&w->draft->curves[sweep->curve].points, pl_bytes_unref);
  _pl_worker_touch (w, DIRTY_CURVES);
  sweep->done++;
  _pl_worker_set_state (w, PL_ENGINE_STATE_SWEEPING, sweep->cmd->kind, (double) sweep->done / sweep->total);
  if (g_get_monotonic_time () - w->publish_time >= PUBLISH_USEC)
    _pl_worker_publish (w);
  _pl_worker_service (w);
  return !w->quit;
}

void
_pl_worker_do_sweep (PlWorker  *w,
                     PlCommand *cmd)
{
  GError *error = NULL;
  PlStrategy strategy = w->draft->strategy;
  Sweep sweep = { w, cmd, 0, 0, 0 };

  if (w->data == NULL)
    {
      _pl_worker_fail (w, cmd, PL_ENGINE_ERROR, PL_ENGINE_ERROR_NO_DATA, _("load a dataset before a sweep"));
      return;
    }
  if (w->model == NULL && w->conv == NULL)
    {
      _pl_worker_fail (w, cmd, PL_ENGINE_ERROR, PL_ENGINE_ERROR_NO_MODEL, _("make a model before a sweep"));
      return;
    }
  if (cmd->n_scores == 0 || cmd->n_scores > PL_N_SCORES || cmd->points < 2
      || !(cmd->max > 0.0 && cmd->max <= 1.0) || cmd->seeds == 0 || cmd->seeds > PL_SWEEP_MAX_SEEDS)
    {
      _pl_worker_fail (w, cmd, PL_SPEC_ERROR, PL_SPEC_ERROR_INVALID,
                       _("a sweep needs 1 to %u scores, at least 2 points, a maximum sparsity in (0, 1] and 1 to %u seeds"),
                       (guint) PL_N_SCORES, (guint) PL_SWEEP_MAX_SEEDS);
      return;
    }
  for (guint si = 0; si < cmd->n_scores; si++)
    sweep.total += seeds_of (cmd, si) * cmd->points;

  _pl_worker_clear_curves (w);
  /* The drag's preview makes way for the sweep's own (both share the evaluation inputs; each
   * holds the first layer's pre-activations, 6 MB on Fashion-MNIST's 5,000 validation images
   * with 784-300-100-10). A drag during the sweep builds it again, idle work after it. */
  _pl_worker_drop_previews (w);
  _pl_worker_touch (w, DIRTY_PREVIEW);
  w->cancellable = cmd->cancellable;
  w->running = TRUE;
  w->run_until = 0;
  _pl_worker_set_state (w, PL_ENGINE_STATE_SWEEPING, cmd->kind, 0.0);
  _pl_worker_publish (w);

  for (guint k = 0; k < cmd->n_scores * cmd->seeds && error == NULL && !w->quit; k++)
    {
      guint si = k / cmd->seeds, seed = k % cmd->seeds;
      g_autoptr(PlScores) scores = NULL;
      g_autoptr(PlPreview) preview = NULL;
      guint curve = w->draft->n_curves;
      PlScoreOptions options = strategy.score_options;
      g_autofree float *conv_scores = NULL;
      PlConvPruner pruner;
      PlSweepEvalFunc eval;
      gpointer eval_data;
      PlPruneSpec spec;
      gboolean ok;
      int blas;

      if (seed >= seeds_of (cmd, si))
        continue;
      if (g_cancellable_is_cancelled (cmd->cancellable))
        break;
      options.seed += seed;
      if (w->conv != NULL)
        {
          /* a conv net: each point prunes a copy (pl-conv-sweep.h) */
          strategy.score = cmd->scores[si];
          strategy.score_options = options;
          if (!_pl_worker_conv_pruner (w, &strategy, &pruner, &conv_scores, &error))
            break;
          eval = pl_conv_sweep_eval;
          eval_data = &pruner;
        }
      else
        {
          blas = _pl_worker_blas_begin (w);
          scores = pl_scores_compute (w->model, cmd->scores[si], w->data->train, &options, &error);
          _pl_worker_blas_end (blas);
          if (scores == NULL)
            break;
          pl_strategy_to_prune_spec (&strategy, &spec, FALSE, 0.0);
          preview = pl_preview_new_shared (w->model, scores, &spec, ensure_inputs (w, &w->inputs, 0),
                                           w->threads, &error);
          if (preview == NULL)
            break;
          eval = pl_sweep_preview_eval;
          eval_data = preview;
        }

      w->draft->curves[curve].score = cmd->scores[si];
      w->draft->curves[curve].seed = options.seed;
      w->curve_points[curve] = g_array_new (FALSE, FALSE, sizeof (PlSweepPoint));
      w->draft->n_curves++;
      sweep.curve = curve;
      _pl_worker_service (w);
      if (w->quit)
        break;
      /* from the sparsest point down (pl-sweep.h); the points are kept in increasing sparsity */
      blas = w->conv != NULL ? _pl_worker_blas_begin (w) : -1;
      ok = pl_sweep_run_with (eval, eval_data, cmd->max, cmd->points, on_sweep_point, &sweep,
                              cmd->cancellable, &error);
      if (blas >= 0)
        _pl_worker_blas_end (blas);
      if (!ok && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_clear_error (&error);   /* stopped: the points done are kept */
    }

  w->running = FALSE;
  w->cancellable = NULL;
  if (w->held_preview != NULL)
    _pl_worker_handle (w, g_steal_pointer (&w->held_preview));
  _pl_worker_touch (w, DIRTY_CURVES);
  _pl_worker_set_state (w, PL_ENGINE_STATE_IDLE, PL_ENGINE_COMMAND_NONE, -1.0);
  _pl_worker_publish (w);
  _pl_worker_finish (w, cmd, error);
}
