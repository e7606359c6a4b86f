#define G_LOG_DOMAIN "pl-engine"

#include "config.h"

#include "pl-engine-worker-private.h"

#include <cblas.h>
#include <glib/gi18n-lib.h>
#include <math.h>
#include <string.h>

#include "pl-blas.h"
#include "pl-error.h"
#include "pl-eval.h"
#include "pl-metrics.h"
#include "pl-nn.h"
#include "pl-prune.h"
#include "pl-safetensors.h"
#include "pl-sweep.h"

/* The worker's draft snapshot: the parts derived from the model (weights and masks as GBytes,
 * metrics, evaluation, scores, decision grids), remade when dirty and at a bounded rate while a
 * long command runs, and published as a copy. */

/* The draft's scores of every layer dropped. */
void
_pl_worker_clear_score_bytes (PlWorker *w)
{
  for (guint i = 0; i < w->draft->n_layers; i++)
    g_clear_pointer (&w->draft->layers[i].scores, pl_bytes_unref);
}

void
_pl_worker_clear_curves (PlWorker *w)
{
  for (guint i = 0; i < w->draft->n_curves; i++)
    {
      g_clear_pointer (&w->curve_points[i], g_array_unref);
      g_clear_pointer (&w->draft->curves[i].points, pl_bytes_unref);
    }
  if (w->draft->n_curves > 0)
    w->changed |= PL_SNAPSHOT_CHANGED_SWEEP;
  w->draft->n_curves = 0;
}

/* No preview in the draft: its masks, grid and figures go (the request counters stay). */
void
_pl_worker_clear_schedules (PlWorker *w)
{
  for (guint i = 0; i < PL_N_METHODS; i++)
    g_clear_pointer (&w->draft->schedules[i], pl_bytes_unref);
  w->changed |= PL_SNAPSHOT_CHANGED_SWEEP;
}

void
_pl_worker_clear_preview (PlWorker *w)
{
  PlSnapshot *d = w->draft;

  if (d->has_preview)
    w->changed |= PL_SNAPSHOT_CHANGED_PREVIEW | PL_SNAPSHOT_CHANGED_GRID;
  d->has_preview = FALSE;
  d->preview_by_threshold = FALSE;
  d->preview_subsample = FALSE;
  d->preview_steps_behind = 0;
  memset (&d->preview, 0, sizeof d->preview);
  d->preview.threshold = NAN;
  memset (&d->preview_metrics, 0, sizeof d->preview_metrics);
  for (guint i = 0; i < d->n_layers; i++)
    {
      g_clear_pointer (&d->layers[i].preview_masks, pl_bytes_unref);
      g_clear_pointer (&d->layers[i].preview_neuron_masks, pl_bytes_unref);
    }
  g_clear_pointer (&d->preview_grid, pl_bytes_unref);
  /* a conv net's maps with the preview masks */
  for (guint i = 0; i < d->n_stages; i++)
    if (d->stages[i].preview_maps != NULL)
      {
        g_clear_pointer (&d->stages[i].preview_maps, pl_bytes_unref);
        w->changed |= PL_SNAPSHOT_CHANGED_FEATURES;
      }
}

/* ───────────────────────────── derived values ───────────────────────────── */

/* Our BLAS calls outside the trainer and the preview (evaluation, decision grid, scores) use the
 * engine's threads, not OpenBLAS's default of every core: the UI keeps its core. The trainer
 * and the preview set their own count and put back what they found; while training, the
 * trainer's count stays. */
int
_pl_worker_blas_begin (PlWorker *w)
{
  return w->training ? openblas_get_num_threads () : pl_blas_set_threads ((int) w->threads);
}

void
_pl_worker_blas_end (int before)
{
  pl_blas_set_threads (before);
}

void
_pl_worker_touch (PlWorker *w,
                  guint     dirty)
{
  if (dirty & DIRTY_PREVIEW)
    w->full.stale = w->sub.stale = w->conv_preview_stale = TRUE;
  w->dirty |= dirty & ~DIRTY_PREVIEW;
}

gboolean
_pl_worker_ensure_scores (PlWorker  *w,
                          GError   **error)
{
  const PlMlp *m = w->model;
  g_autoptr(PlScores) scores = NULL;
  const PlScoreInfo *info = pl_score_info (w->draft->strategy.score);
  double lo = INFINITY, hi = -INFINITY;
  int blas;

  if (w->scores != NULL && !(w->dirty & DIRTY_SCORES))
    return TRUE;
  if (m == NULL)
    {
      g_set_error (error, PL_ENGINE_ERROR, PL_ENGINE_ERROR_NO_MODEL, _("there is no model yet"));
      return FALSE;
    }
  if (info->needs_data && w->data == NULL)
    {
      g_set_error (error, PL_ENGINE_ERROR, PL_ENGINE_ERROR_NO_DATA,
                   _("the score “%s” needs data: load a dataset first"), info->name);
      return FALSE;
    }

  blas = _pl_worker_blas_begin (w);
  scores = pl_scores_compute (m, w->draft->strategy.score, w->data != NULL ? w->data->train : NULL,
                              &w->draft->strategy.score_options, error);
  _pl_worker_blas_end (blas);
  if (scores == NULL)
    return FALSE;

  /* the range of the candidates' scores: what a threshold slider spans */
  for (guint i = 0; i < m->n_layers; i++)
    {
      const PlLayer *l = &m->layers[i];

      if (!scores->per_neuron && w->draft->strategy.exclude_output && i + 1 == m->n_layers)
        continue;
      for (gsize u = 0; u < scores->n[i]; u++)
        {
          float s = scores->layer[i][u];
          gboolean alive = scores->per_neuron ? l->neuron_mask[u] != 0.0f : l->w_mask[u] != 0.0f;

          if (alive && isfinite (s))
            {
              lo = MIN (lo, s);
              hi = MAX (hi, s);
            }
        }
    }

  pl_scores_free (w->scores);
  w->scores = g_steal_pointer (&scores);
  w->scores_time = g_get_monotonic_time ();
  w->draft->score_min = isfinite (lo) ? lo : 0.0;
  w->draft->score_max = isfinite (hi) ? hi : 0.0;
  w->dirty &= ~DIRTY_SCORES;
  _pl_worker_clear_score_bytes (w);
  for (guint i = 0; i < m->n_layers; i++)
    if (w->scores->n[i] > 0)
      w->draft->layers[i].scores = g_bytes_new (w->scores->layer[i], w->scores->n[i] * sizeof (float));
  w->changed |= PL_SNAPSHOT_CHANGED_SCORES;
  return TRUE;
}

/* Keeps @old when @data holds the same bytes. (transfer full) */
static GBytes *
bytes_update (GBytes     *old,
              const void *data,
              gsize       size)
{
  if (old != NULL && g_bytes_get_size (old) == size
      && memcmp (g_bytes_get_data (old, NULL), data, size) == 0)
    return g_bytes_ref (old);
  return g_bytes_new (data, size);
}

void
_pl_worker_set_bytes (GBytes     **slot,
                      const void  *data,
                      gsize        size)
{
  GBytes *b = bytes_update (*slot, data, size);

  g_clear_pointer (slot, pl_bytes_unref);
  *slot = b;
}

/* Class probabilities of @model on the grid, (GRID_SIZE², n_out): pl_decision_grid. (transfer
 * full) */
static GBytes *
compute_grid (PlWorker    *w,
              const PlMlp *model)
{
  int blas = _pl_worker_blas_begin (w);
  PlDecisionGrid *grid = pl_decision_grid (model, GRID_SIZE, w->draft->grid_x0, w->draft->grid_x1,
                                           w->draft->grid_y0, w->draft->grid_y1);
  gsize size = sizeof (float) * GRID_SIZE * GRID_SIZE * grid->n_out;

  _pl_worker_blas_end (blas);
  return g_bytes_new_with_free_func (grid->prob, size, (GDestroyNotify) pl_decision_grid_free,
                                     grid);
}

static void
compute_preview_grid (PlWorker *w)
{
  g_autoptr(PlMlp) copy = NULL;

  g_clear_pointer (&w->draft->preview_grid, pl_bytes_unref);
  w->dirty &= ~DIRTY_PGRID;
  if (!w->draft->has_preview || !w->has_grid || w->model == NULL || w->model->sizes[0] != 2)
    return;

  copy = pl_mlp_copy (w->model);
  memcpy (copy->masks, w->preview_masks, sizeof (float) * copy->n_params);
  pl_mlp_apply_masks (copy);
  w->draft->preview_grid = compute_grid (w, copy);
  w->changed |= PL_SNAPSHOT_CHANGED_GRID;
}

void
_pl_worker_compute_eval (PlWorker *w)
{
  g_autoptr(PlEvaluation) ev = NULL;
  int blas;

  w->dirty &= ~DIRTY_EVAL;
  w->draft->eval.valid = FALSE;
  g_clear_pointer (&w->draft->eval.class_accuracy, pl_bytes_unref);
  g_clear_pointer (&w->draft->eval.confusion, pl_bytes_unref);
  w->changed |= PL_SNAPSHOT_CHANGED_EVALUATION;
  if (w->eval == NULL || w->eval->n == 0)
    return;
  if (w->conv != NULL ? !_pl_worker_conv_fits (w->conv, w->data)
                      : w->model == NULL || !_pl_worker_model_fits (w->model, w->data))
    return;

  blas = _pl_worker_blas_begin (w);
  ev = w->conv != NULL ? pl_conv_evaluate (w->conv, w->eval, NULL) : pl_evaluate (w->model, w->eval, NULL);
  _pl_worker_blas_end (blas);
  if (ev == NULL)
    return;
  w->draft->eval.valid = TRUE;
  w->draft->eval.n = ev->n;
  w->draft->eval.n_classes = ev->n_classes;
  w->draft->eval.loss = ev->loss;
  w->draft->eval.accuracy = ev->accuracy;
  w->draft->eval.class_accuracy = g_bytes_new (ev->class_accuracy, sizeof (double) * ev->n_classes);
  w->draft->eval.confusion = g_bytes_new (ev->confusion, sizeof (guint32) * ev->n_classes * ev->n_classes);
}

/* While a long command runs, a part of the snapshot is remade at most every @period (the
 * snapshot shows the previous one meanwhile); otherwise whenever it is dirty. */
gboolean
_pl_worker_due (PlWorker *w,
                gint64   *last,
                gint64    period,
                gint64    now)
{
  if (w->running && now - *last < period)
    return FALSE;
  *last = now;
  return TRUE;
}

/* Remakes what is dirty before a publish. While training: weights, history and the decision
 * grid at most every PUBLISH_USEC, metrics every METRICS_USEC, the evaluation (the confusion
 * matrix; the validation accuracy of each epoch is in the history) every EVAL_USEC, scores
 * every SCORES_USEC — the last two not during a drag (requests less than DRAG_GAP_USEC apart):
 * a full evaluation takes as long as several previews, and would hold up the next. */
static void
refresh (PlWorker *w)
{
  PlMlp *m = w->model;
  gint64 now = g_get_monotonic_time ();
  gboolean dragging = w->running && w->last_request_time > 0
                      && now - w->last_request_time < DRAG_GAP_USEC;

  if (w->dirty & DIRTY_PGRID)
    compute_preview_grid (w);

  if (!_pl_worker_due (w, &w->weights_time, PUBLISH_USEC, now))
    return;

  if (w->dirty & DIRTY_HISTORY)
    {
      g_clear_pointer (&w->draft->training.history, pl_bytes_unref);
      g_clear_pointer (&w->draft->training.grad_norms, pl_bytes_unref);
      w->draft->training.history = g_bytes_new (w->history->data, w->history->len * sizeof (PlEpochRecord));
      w->draft->training.grad_norms = g_bytes_new (w->grad_norms->data, w->grad_norms->len * sizeof (float));
      w->dirty &= ~DIRTY_HISTORY;
      w->changed |= PL_SNAPSHOT_CHANGED_TRAINING;
    }
  if (w->dirty & DIRTY_CURVES)
    {
      for (guint i = 0; i < w->draft->n_curves; i++)
        if (w->draft->curves[i].points == NULL)
          w->draft->curves[i].points = g_bytes_new (w->curve_points[i]->data,
                                                    w->curve_points[i]->len * sizeof (PlSweepPoint));
      w->dirty &= ~DIRTY_CURVES;
      w->changed |= PL_SNAPSHOT_CHANGED_SWEEP;
    }

  if (w->conv != NULL)
    {
      _pl_worker_conv_refresh (w, now, dragging);
      return;
    }
  w->dirty &= ~DIRTY_FEATURES;   /* a dense network has no feature maps */
  if (m == NULL)
    {
      w->dirty &= ~DIRTY_MODEL;
      return;
    }

  if (w->dirty & (DIRTY_WEIGHTS | DIRTY_MASKS))
    {
      for (guint i = 0; i < m->n_layers; i++)
        {
          const PlLayer *l = &m->layers[i];
          PlLayerView *v = &w->draft->layers[i];
          gsize nw = (gsize) l->n_out * l->n_in;

          if (w->dirty & DIRTY_WEIGHTS)
            {
              _pl_worker_set_bytes (&v->weights, l->w, nw * sizeof (float));
              _pl_worker_set_bytes (&v->biases, l->b, l->n_out * sizeof (float));
            }
          if (w->dirty & DIRTY_MASKS)
            {
              _pl_worker_set_bytes (&v->masks, l->w_mask, nw * sizeof (float));
              _pl_worker_set_bytes (&v->neuron_masks, l->neuron_mask, l->n_out * sizeof (float));
            }
        }
      w->changed |= (w->dirty & DIRTY_WEIGHTS ? PL_SNAPSHOT_CHANGED_WEIGHTS : 0)
                    | (w->dirty & DIRTY_MASKS ? PL_SNAPSHOT_CHANGED_MASKS : 0);
      w->dirty &= ~(DIRTY_WEIGHTS | DIRTY_MASKS);
    }
  if ((w->dirty & DIRTY_METRICS) && _pl_worker_due (w, &w->metrics_time, METRICS_USEC, now))
    {
      pl_metrics_compute (&w->draft->metrics, m, w->dense_params, NULL, NULL);
      w->dirty &= ~DIRTY_METRICS;
    }
  if (w->dirty & DIRTY_GRID)
    {
      g_clear_pointer (&w->draft->grid, pl_bytes_unref);
      if (w->has_grid && m->sizes[0] == 2)
        w->draft->grid = compute_grid (w, m);
      w->draft->grid_size = w->draft->grid != NULL ? GRID_SIZE : 0;
      w->dirty &= ~DIRTY_GRID;
      w->changed |= PL_SNAPSHOT_CHANGED_GRID;
    }
  if ((w->dirty & DIRTY_EVAL) && !dragging && _pl_worker_due (w, &w->eval_time, EVAL_USEC, now))
    _pl_worker_compute_eval (w);
  if ((w->dirty & DIRTY_SCORES) && !dragging && (!w->running || now - w->scores_time >= SCORES_USEC))
    {
      g_autoptr(GError) error = NULL;

      /* a strategy that cannot be scored (no data yet) just shows no scores */
      if (!_pl_worker_ensure_scores (w, &error))
        {
          g_clear_pointer (&w->scores, pl_scores_free);
          _pl_worker_clear_score_bytes (w);
          w->dirty &= ~DIRTY_SCORES;
          w->changed |= PL_SNAPSHOT_CHANGED_SCORES;
        }
    }
}

void
_pl_worker_set_state (PlWorker        *w,
                      PlEngineState    state,
                      PlEngineCommand  command,
                      double           progress)
{
  if (w->draft->state != state || w->draft->command != command || w->draft->progress != progress)
    w->changed |= PL_SNAPSHOT_CHANGED_STATE;
  w->draft->state = state;
  w->draft->command = command;
  w->draft->progress = progress;
}

/* Sends a copy of the draft, remade where dirty and with the figures of this moment: the
 * serial, what changed, undo, how far the preview is behind, the training speed. */
void
_pl_worker_publish (PlWorker *w)
{
  PlSnapshot *d = w->draft;
  gint64 t0 = g_get_monotonic_time ();

  refresh (w);
  if (w->timing_open)
    {
      d->preview_timing.refresh = g_get_monotonic_time () - t0;
      d->preview_timing.published = g_get_monotonic_time ();
      w->timing_open = FALSE;
    }

  d->serial = ++w->serial;
  d->changed = w->changed;
  d->can_undo = w->undo->len > 0;
  d->undo_depth = w->undo->len;
  d->scores_valid = w->scores != NULL || w->conv_scores != NULL;
  if (d->has_preview && w->shown != NULL)
    {
      d->preview_steps_behind = w->grad_norms->len > w->shown->built_step
                                ? w->grad_norms->len - w->shown->built_step : 0;
      d->preview_subsample = w->shown == &w->sub;
    }
  if (w->training && d->training.step > 0)
    {
      double seconds = (g_get_monotonic_time () - w->run_started) / 1e6;

      d->training.samples_per_second = seconds > 0 ? d->training.step * w->batch_size / seconds : 0.0;
    }

  w->changed = 0;
  w->publish_time = g_get_monotonic_time ();
  _pl_engine_post (w->engine, pl_snapshot_copy (d), NULL);
}
