#define G_LOG_DOMAIN "pl-engine"

#include "config.h"

#include "pl-engine-private.h"

#include <cblas.h>
#include <glib/gi18n-lib.h>
#include <math.h>
#include <string.h>

#include "pl-blas.h"
#include "pl-error.h"
#include "pl-eval.h"
#include "pl-metrics.h"
#include "pl-nn.h"
#include "pl-preview.h"
#include "pl-prune.h"
#include "pl-safetensors.h"

/* The worker thread of PlEngine: it owns the data, the model, the trainer, the scores and the
 * preview, runs the commands in order, and publishes snapshots (see pl-engine.c for the
 * hand-over and for how previews run during training). */

#define PUBLISH_USEC          (G_USEC_PER_SEC / 20)
#define METRICS_USEC          (G_USEC_PER_SEC / 4)
#define EVAL_USEC             (2 * G_USEC_PER_SEC)
#define SCORES_USEC           G_USEC_PER_SEC
#define PREVIEW_REFRESH_USEC  (2 * G_USEC_PER_SEC)
#define PREVIEW_MAX_AGE_USEC  (10 * G_USEC_PER_SEC)
#define DRAG_GAP_USEC         (G_USEC_PER_SEC * 3 / 10)
#define RUN_SHARE             0.33   /* of the time a long run gets during a drag */
#define UNDO_MAX              16
#define GRID_SIZE             96
#define GRID_CHUNK            1024
#define PAUSE_POLL_USEC       (G_USEC_PER_SEC / 10)

/* ───────────────────────────── the worker's state ───────────────────────────── */

typedef enum {
  DIRTY_WEIGHTS  = 1 << 0,   /* weight and bias bytes */
  DIRTY_MASKS    = 1 << 1,   /* mask bytes */
  DIRTY_METRICS  = 1 << 2,
  DIRTY_EVAL     = 1 << 3,
  DIRTY_GRID     = 1 << 4,
  DIRTY_SCORES   = 1 << 5,   /* w->scores no longer of this model */
  DIRTY_PREVIEW  = 1 << 6,   /* w->preview no longer of this model */
  DIRTY_PGRID    = 1 << 7,
  DIRTY_HISTORY  = 1 << 8,
  DIRTY_CURVES   = 1 << 9,
  DIRTY_MODEL    = DIRTY_WEIGHTS | DIRTY_MASKS | DIRTY_METRICS | DIRTY_EVAL | DIRTY_GRID
                   | DIRTY_SCORES | DIRTY_PREVIEW | DIRTY_PGRID,
} Dirty;

typedef struct {
  float *params;
  float *masks;
  float *neuron_masks;
} UndoEntry;

static void
undo_entry_free (gpointer data)
{
  UndoEntry *e = data;

  g_free (e->params);
  g_free (e->masks);
  g_free (e->neuron_masks);
  g_free (e);
}

typedef struct {
  PlScoreKind  score;
  GArray      *points;   /* PlSweepPoint */
  GBytes      *bytes;    /* of points, NULL when stale */
} Curve;

struct _PlWorker
{
  PlEngine          *engine;        /* borrowed: dispose joins the worker before it goes */
  guint              threads;

  PlData            *data;
  const PlDataset   *eval;          /* borrowed from data: val, or test without val */
  PlMlp             *model;
  PlMlp             *initial;       /* the weights to rewind to */
  guint64            model_seed;
  char              *model_path;
  float             *dense_params;  /* the parameters before the last apply-prune, or NULL */
  PlTrainConfig      config;        /* of the last training run */
  GArray            *history;       /* PlEpochRecord */
  GArray            *grad_norms;    /* float */
  GPtrArray         *undo;          /* UndoEntry, newest last */

  PlStrategy         strategy;
  PlScores          *scores;
  gint64             scores_time;
  double             score_min, score_max;
  PlPreview         *preview;
  gint64             preview_built_at;
  gint64             preview_build_usec;
  guint64            preview_built_step;

  gboolean           preview_on;
  gboolean           preview_by_threshold;
  double             preview_value;
  guint64            preview_request;
  PlPreviewResult    preview_result;
  PlMetrics          preview_metrics;
  float             *preview_masks;         /* model->n_params */
  float             *preview_neuron_masks;  /* model->n_neurons */
  guint64            previews_requested;
  guint64            previews_computed;
  PlCommand         *held_preview;          /* popped during training, answered later */
  gint64             run_until;             /* no preview before, while training or sweeping */
  gint64             last_request_time;     /* when the newest request was taken */
  gint64             request_gap;           /* since the request before it */

  PlEngineState      state;
  PlEngineCommand    command;
  double             progress;
  GCancellable      *cancellable;   /* borrowed: the long command's */
  gboolean           running;       /* inside pl_trainer_run or a sweep */
  gboolean           training;      /* inside pl_trainer_run */
  gboolean           quit;

  gboolean           fine_tune;
  guint              epoch, epochs;
  guint64            step, steps_total;
  guint              batch_size;
  double             batch_loss;
  gint64             run_started;
  double             samples_per_second;

  guint              n_curves;
  Curve              curves[PL_N_SCORES];
  GBytes            *schedules[PL_N_METHODS];  /* PlSchedulePoint of each procedure's last run */

  /* 2-D data */
  float             *grid_x;        /* (GRID_SIZE², 2) */
  double             grid_x0, grid_x1, grid_y0, grid_y1;

  /* the parts of the next snapshot, remade when dirty */
  guint              dirty;
  PlSnapshotChanged  changed;
  gint64             weights_time;  /* of the last refresh of these parts (for throttling) */
  gint64             metrics_time;
  gint64             eval_time;
  GBytes            *weights[PL_MLP_MAX_LAYERS], *biases[PL_MLP_MAX_LAYERS];
  GBytes            *masks[PL_MLP_MAX_LAYERS], *neuron_masks[PL_MLP_MAX_LAYERS];
  GBytes            *score_bytes[PL_MLP_MAX_LAYERS];
  GBytes            *pmasks[PL_MLP_MAX_LAYERS], *pneuron_masks[PL_MLP_MAX_LAYERS];
  GBytes            *points, *point_labels, *grid, *pgrid;
  GBytes            *history_bytes, *grad_norm_bytes;
  PlMetrics          metrics;
  gboolean           eval_valid;
  guint              eval_n, eval_classes;
  double             eval_loss, eval_accuracy;
  GBytes            *class_accuracy, *confusion;
  guint64            serial;
  gint64             publish_time;
};

static void
clear_layer_bytes (GBytes **v)
{
  for (guint i = 0; i < PL_MLP_MAX_LAYERS; i++)
    g_clear_pointer (&v[i], pl_bytes_unref);
}

static void
clear_curves (PlWorker *w)
{
  for (guint i = 0; i < w->n_curves; i++)
    {
      g_clear_pointer (&w->curves[i].points, g_array_unref);
      g_clear_pointer (&w->curves[i].bytes, pl_bytes_unref);
    }
  if (w->n_curves > 0)
    w->changed |= PL_SNAPSHOT_CHANGED_SWEEP;
  w->n_curves = 0;
}

static void
clear_schedules (PlWorker *w)
{
  for (guint i = 0; i < PL_N_METHODS; i++)
    g_clear_pointer (&w->schedules[i], pl_bytes_unref);
  w->changed |= PL_SNAPSHOT_CHANGED_SWEEP;
}

static void
clear_preview (PlWorker *w)
{
  if (w->preview_on)
    w->changed |= PL_SNAPSHOT_CHANGED_PREVIEW | PL_SNAPSHOT_CHANGED_GRID;
  w->preview_on = FALSE;
  clear_layer_bytes (w->pmasks);
  clear_layer_bytes (w->pneuron_masks);
  g_clear_pointer (&w->pgrid, pl_bytes_unref);
}

static void
worker_free (PlWorker *w)
{
  clear_preview (w);
  clear_curves (w);
  clear_schedules (w);
  g_clear_pointer (&w->held_preview, _pl_command_free);
  pl_data_free (w->data);
  pl_mlp_free (w->model);
  pl_mlp_free (w->initial);
  g_free (w->model_path);
  g_free (w->dense_params);
  g_array_unref (w->history);
  g_array_unref (w->grad_norms);
  g_ptr_array_unref (w->undo);
  pl_scores_free (w->scores);
  pl_preview_free (w->preview);
  g_free (w->preview_masks);
  g_free (w->preview_neuron_masks);
  g_free (w->grid_x);
  clear_layer_bytes (w->weights);
  clear_layer_bytes (w->biases);
  clear_layer_bytes (w->masks);
  clear_layer_bytes (w->neuron_masks);
  clear_layer_bytes (w->score_bytes);
  g_clear_pointer (&w->points, pl_bytes_unref);
  g_clear_pointer (&w->point_labels, pl_bytes_unref);
  g_clear_pointer (&w->grid, pl_bytes_unref);
  g_clear_pointer (&w->history_bytes, pl_bytes_unref);
  g_clear_pointer (&w->grad_norm_bytes, pl_bytes_unref);
  g_clear_pointer (&w->class_accuracy, pl_bytes_unref);
  g_clear_pointer (&w->confusion, pl_bytes_unref);
  g_free (w);
}

static gboolean
model_fits (const PlMlp  *model,
            const PlData *data)
{
  return model->sizes[0] == data->n_features && model->sizes[model->n_layers] >= data->n_classes;
}

/* FALSE with an error naming @path (the model's file, or NULL for a new model) when @model
 * does not fit the loaded data. */
static gboolean
check_fits (PlWorker     *w,
            const PlMlp  *model,
            const char   *path,
            GError      **error)
{
  g_autofree char *arch = NULL;

  if (w->data == NULL || model_fits (model, w->data))
    return TRUE;

  arch = pl_mlp_arch (model);
  if (path != NULL)
    g_set_error (error, PL_TRAIN_ERROR, PL_TRAIN_ERROR_MISMATCH,
                 _("“%s”: the model %s does not fit “%s”, which has %u features and %u classes"),
                 path, arch, w->data->name, w->data->n_features, w->data->n_classes);
  else
    g_set_error (error, PL_TRAIN_ERROR, PL_TRAIN_ERROR_MISMATCH,
                 _("architecture “%s” does not fit “%s”: it has %u features and %u classes"),
                 arch, w->data->name, w->data->n_features, w->data->n_classes);
  return FALSE;
}

/* ───────────────────────────── events ───────────────────────────── */

static void
post_error (PlWorker *w,
            GError   *error)   /* transfer full */
{
  PlEvent *ev = g_new0 (PlEvent, 1);

  ev->error = error;
  _pl_engine_post (w->engine, NULL, ev);
}

/* Ends a command: its error (if any) and its done event, after the snapshot showing it. */
static void
finish (PlWorker        *w,
        const PlCommand *cmd,
        GError          *error)   /* transfer full, or NULL */
{
  PlEvent *ev = g_new0 (PlEvent, 1);

  ev->command = cmd->kind;
  ev->id = cmd->id;
  ev->ok = error == NULL;
  ev->error = error;
  _pl_engine_post (w->engine, NULL, ev);

  if (cmd->cancellable != NULL || cmd->kind == PL_ENGINE_COMMAND_TRAIN
      || cmd->kind == PL_ENGINE_COMMAND_FINE_TUNE)
    {
      PlEngine *self = w->engine;

      _pl_engine_in_lock (self);
      if (cmd->cancellable != NULL)
        g_ptr_array_remove (self->cancellables, cmd->cancellable);
      if (cmd->kind == PL_ENGINE_COMMAND_TRAIN || cmd->kind == PL_ENGINE_COMMAND_FINE_TUNE)
        {
          g_assert (self->n_training > 0);
          if (--self->n_training == 0)
            g_atomic_int_set (&self->paused, 0);
        }
      _pl_engine_in_unlock (self);
    }
}

static void
fail (PlWorker        *w,
      const PlCommand *cmd,
      GQuark           domain,
      gint             code,
      const char      *format,
      ...) G_GNUC_PRINTF (5, 6);

static void
fail (PlWorker        *w,
      const PlCommand *cmd,
      GQuark           domain,
      gint             code,
      const char      *format,
      ...)
{
  va_list args;
  GError *error;

  va_start (args, format);
  error = g_error_new_valist (domain, code, format, args);
  va_end (args);
  finish (w, cmd, error);
}

/* ───────────────────────────── derived values ───────────────────────────── */

/* Our BLAS calls outside the trainer and the preview (evaluation, decision grid, scores) use the
 * engine's threads, not OpenBLAS's default of every core: the UI keeps its core. The trainer
 * and the preview set their own count and put back what they found; while training, the
 * trainer's count stays. */
static int
blas_begin (PlWorker *w)
{
  return w->training ? openblas_get_num_threads () : pl_blas_set_threads ((int) w->threads);
}

static void
blas_end (int before)
{
  pl_blas_set_threads (before);
}

static void
touch (PlWorker *w,
       guint     dirty)
{
  w->dirty |= dirty;
}

static gboolean
ensure_scores (PlWorker  *w,
               GError   **error)
{
  const PlMlp *m = w->model;
  g_autoptr(PlScores) scores = NULL;
  const PlScoreInfo *info = pl_score_info (w->strategy.score);
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

  blas = blas_begin (w);
  scores = pl_scores_compute (m, w->strategy.score, w->data != NULL ? w->data->train : NULL,
                              &w->strategy.score_options, error);
  blas_end (blas);
  if (scores == NULL)
    return FALSE;

  /* the range of the candidates' scores: what a threshold slider spans */
  for (guint i = 0; i < m->n_layers; i++)
    {
      const PlLayer *l = &m->layers[i];

      if (!scores->per_neuron && w->strategy.exclude_output && i + 1 == m->n_layers)
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
  w->score_min = isfinite (lo) ? lo : 0.0;
  w->score_max = isfinite (hi) ? hi : 0.0;
  w->dirty &= ~DIRTY_SCORES;
  clear_layer_bytes (w->score_bytes);
  for (guint i = 0; i < m->n_layers; i++)
    if (w->scores->n[i] > 0)
      w->score_bytes[i] = g_bytes_new (w->scores->layer[i], w->scores->n[i] * sizeof (float));
  w->changed |= PL_SNAPSHOT_CHANGED_SCORES;
  return TRUE;
}

static void
prune_spec_from_strategy (const PlStrategy *s,
                          PlPruneSpec      *spec,
                          gboolean          by_threshold,
                          double            value)
{
  pl_prune_spec_init (spec, s->scope, by_threshold, value);
  spec->invert = s->invert;
  spec->exclude_output = s->exclude_output;
  spec->allow_empty = s->allow_empty;
}

/* While training, the weights move at every step, so the preview is always a little behind;
 * rebuilding it (scores, sorting, the first layer over the evaluation set: ~100-300 ms for
 * 784-300-100-10 and 10,000 samples) is worth it once it is PREVIEW_REFRESH_USEC old (and at
 * least 10× its build time, so that rebuilding costs ≤ 10%), but not in the middle of a drag
 * (requests less than DRAG_GAP_USEC apart), unless it is PREVIEW_MAX_AGE_USEC old. @gap: time
 * since the request before. */
static gboolean
rebuild_due (PlWorker *w,
             gint64    now,
             gint64    gap)
{
  gint64 age = now - w->preview_built_at;
  gint64 refresh = MAX (PREVIEW_REFRESH_USEC, 10 * w->preview_build_usec);

  if (age < refresh || w->preview_built_step == w->grad_norms->len)
    return FALSE;
  return gap > DRAG_GAP_USEC || age > MAX (PREVIEW_MAX_AGE_USEC, 2 * refresh);
}

/* The preview for the current model, scores, strategy and data. @in_run: training is running,
 * and an existing preview is kept until rebuild_due(). */
static gboolean
ensure_preview (PlWorker  *w,
                gboolean   in_run,
                GError   **error)
{
  PlPruneSpec spec;
  gint64 t0, now = g_get_monotonic_time ();

  if (w->preview != NULL)
    {
      if (!(w->dirty & DIRTY_PREVIEW))
        return TRUE;
      if (in_run && !rebuild_due (w, now, w->request_gap))
        return TRUE;
    }
  if (w->data == NULL)
    {
      g_set_error (error, PL_ENGINE_ERROR, PL_ENGINE_ERROR_NO_DATA, _("load a dataset first"));
      return FALSE;
    }
  if (w->model != NULL && !model_fits (w->model, w->data))
    {
      g_set_error (error, PL_TRAIN_ERROR, PL_TRAIN_ERROR_MISMATCH,
                   _("the model does not fit the data “%s”"), w->data->name);
      return FALSE;
    }

  t0 = g_get_monotonic_time ();
  if (in_run)
    touch (w, DIRTY_SCORES);   /* of the weights now, as the preview will be */
  if (!ensure_scores (w, error))
    return FALSE;
  g_clear_pointer (&w->preview, pl_preview_free);
  prune_spec_from_strategy (&w->strategy, &spec, FALSE, 0.0);
  w->preview = pl_preview_new (w->model, w->scores, &spec, w->eval, w->threads, error);
  if (w->preview == NULL)
    return FALSE;
  w->preview_built_at = g_get_monotonic_time ();
  w->preview_build_usec = w->preview_built_at - t0;
  w->preview_built_step = w->grad_norms->len;
  w->dirty &= ~DIRTY_PREVIEW;
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

/* Class probabilities of @model on the grid, (GRID_SIZE², n_out). (transfer full) */
static GBytes *
compute_grid (PlWorker    *w,
              const PlMlp *model)
{
  g_autoptr(PlNnWork) work = pl_nn_work_new (model, GRID_CHUNK);
  guint n = GRID_SIZE * GRID_SIZE, k = model->sizes[model->n_layers];
  float *out = g_new (float, (gsize) n * k);
  int blas = blas_begin (w);

  for (guint start = 0; start < n; start += GRID_CHUNK)
    {
      guint c = MIN (GRID_CHUNK, n - start);
      const float *p = pl_nn_forward (model, work, w->grid_x + (gsize) start * 2, c);

      memcpy (out + (gsize) start * k, p, sizeof (float) * c * k);
    }
  blas_end (blas);
  return g_bytes_new_take (out, sizeof (float) * n * k);
}

static void
compute_preview_grid (PlWorker *w)
{
  g_autoptr(PlMlp) copy = NULL;

  g_clear_pointer (&w->pgrid, pl_bytes_unref);
  w->dirty &= ~DIRTY_PGRID;
  if (!w->preview_on || w->grid_x == NULL || w->model == NULL || w->model->sizes[0] != 2)
    return;

  copy = pl_mlp_copy (w->model);
  memcpy (copy->masks, w->preview_masks, sizeof (float) * copy->n_params);
  pl_mlp_apply_masks (copy);
  w->pgrid = compute_grid (w, copy);
  w->changed |= PL_SNAPSHOT_CHANGED_GRID;
}

static void
compute_eval (PlWorker *w)
{
  g_autoptr(PlEvaluation) ev = NULL;
  int blas;

  w->dirty &= ~DIRTY_EVAL;
  w->eval_valid = FALSE;
  g_clear_pointer (&w->class_accuracy, pl_bytes_unref);
  g_clear_pointer (&w->confusion, pl_bytes_unref);
  w->changed |= PL_SNAPSHOT_CHANGED_EVALUATION;
  if (w->model == NULL || w->eval == NULL || w->eval->n == 0 || !model_fits (w->model, w->data))
    return;

  blas = blas_begin (w);
  ev = pl_evaluate (w->model, w->eval, NULL);
  blas_end (blas);
  if (ev == NULL)
    return;
  w->eval_valid = TRUE;
  w->eval_n = ev->n;
  w->eval_classes = ev->n_classes;
  w->eval_loss = ev->loss;
  w->eval_accuracy = ev->accuracy;
  w->class_accuracy = g_bytes_new (ev->class_accuracy, sizeof (double) * ev->n_classes);
  w->confusion = g_bytes_new (ev->confusion, sizeof (guint32) * ev->n_classes * ev->n_classes);
}

/* While a long command runs, a part of the snapshot is remade at most every @period (the
 * snapshot shows the previous one meanwhile); otherwise whenever it is dirty. */
static gboolean
due (PlWorker *w,
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
 * every SCORES_USEC. */
static void
refresh (PlWorker *w)
{
  PlMlp *m = w->model;
  gint64 now = g_get_monotonic_time ();

  if (w->dirty & DIRTY_PGRID)
    compute_preview_grid (w);

  if (!due (w, &w->weights_time, PUBLISH_USEC, now))
    return;

  if (w->dirty & DIRTY_HISTORY)
    {
      g_clear_pointer (&w->history_bytes, pl_bytes_unref);
      g_clear_pointer (&w->grad_norm_bytes, pl_bytes_unref);
      w->history_bytes = g_bytes_new (w->history->data, w->history->len * sizeof (PlEpochRecord));
      w->grad_norm_bytes = g_bytes_new (w->grad_norms->data, w->grad_norms->len * sizeof (float));
      w->dirty &= ~DIRTY_HISTORY;
      w->changed |= PL_SNAPSHOT_CHANGED_TRAINING;
    }
  if (w->dirty & DIRTY_CURVES)
    {
      for (guint i = 0; i < w->n_curves; i++)
        if (w->curves[i].bytes == NULL)
          w->curves[i].bytes = g_bytes_new (w->curves[i].points->data,
                                            w->curves[i].points->len * sizeof (PlSweepPoint));
      w->dirty &= ~DIRTY_CURVES;
      w->changed |= PL_SNAPSHOT_CHANGED_SWEEP;
    }

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
          gsize nw = (gsize) l->n_out * l->n_in;
          GBytes *b;

          if (w->dirty & DIRTY_WEIGHTS)
            {
              b = bytes_update (w->weights[i], l->w, nw * sizeof (float));
              g_clear_pointer (&w->weights[i], pl_bytes_unref);
              w->weights[i] = b;
              b = bytes_update (w->biases[i], l->b, l->n_out * sizeof (float));
              g_clear_pointer (&w->biases[i], pl_bytes_unref);
              w->biases[i] = b;
            }
          if (w->dirty & DIRTY_MASKS)
            {
              b = bytes_update (w->masks[i], l->w_mask, nw * sizeof (float));
              g_clear_pointer (&w->masks[i], pl_bytes_unref);
              w->masks[i] = b;
              b = bytes_update (w->neuron_masks[i], l->neuron_mask, l->n_out * sizeof (float));
              g_clear_pointer (&w->neuron_masks[i], pl_bytes_unref);
              w->neuron_masks[i] = b;
            }
        }
      w->changed |= (w->dirty & DIRTY_WEIGHTS ? PL_SNAPSHOT_CHANGED_WEIGHTS : 0)
                    | (w->dirty & DIRTY_MASKS ? PL_SNAPSHOT_CHANGED_MASKS : 0);
      w->dirty &= ~(DIRTY_WEIGHTS | DIRTY_MASKS);
    }
  if ((w->dirty & DIRTY_METRICS) && due (w, &w->metrics_time, METRICS_USEC, now))
    {
      pl_metrics_compute (&w->metrics, m, w->dense_params, NULL, NULL);
      w->dirty &= ~DIRTY_METRICS;
    }
  if (w->dirty & DIRTY_GRID)
    {
      g_clear_pointer (&w->grid, pl_bytes_unref);
      if (w->grid_x != NULL && m->sizes[0] == 2)
        w->grid = compute_grid (w, m);
      w->dirty &= ~DIRTY_GRID;
      w->changed |= PL_SNAPSHOT_CHANGED_GRID;
    }
  if ((w->dirty & DIRTY_EVAL) && due (w, &w->eval_time, EVAL_USEC, now))
    compute_eval (w);
  if ((w->dirty & DIRTY_SCORES) && (!w->running || now - w->scores_time >= SCORES_USEC))
    {
      g_autoptr(GError) error = NULL;

      /* a strategy that cannot be scored (no data yet) just shows no scores */
      if (!ensure_scores (w, &error))
        {
          g_clear_pointer (&w->scores, pl_scores_free);
          clear_layer_bytes (w->score_bytes);
          w->dirty &= ~DIRTY_SCORES;
          w->changed |= PL_SNAPSHOT_CHANGED_SCORES;
        }
    }
}

static void
set_state (PlWorker        *w,
           PlEngineState    state,
           PlEngineCommand  command,
           double           progress)
{
  if (w->state != state || w->command != command || w->progress != progress)
    w->changed |= PL_SNAPSHOT_CHANGED_STATE;
  w->state = state;
  w->command = command;
  w->progress = progress;
}

static GBytes *
ref0 (GBytes *b)
{
  return b != NULL ? g_bytes_ref (b) : NULL;
}

static void
publish (PlWorker *w)
{
  PlMlp *m = w->model;
  PlSnapshot *s;

  refresh (w);

  s = pl_snapshot_new (m != NULL ? m->n_layers : 0);
  s->serial = ++w->serial;
  s->changed = w->changed;
  s->state = w->state;
  s->command = w->command;
  s->progress = w->progress;
  s->can_undo = w->undo->len > 0;
  s->undo_depth = w->undo->len;

  if (w->data != NULL)
    {
      const PlData *d = w->data;

      s->data_name = g_strdup (d->name);
      s->data_spec = g_strdup (d->spec);
      s->n_features = d->n_features;
      s->n_classes = d->n_classes;
      s->image_width = d->image_width;
      s->image_height = d->image_height;
      s->class_names = g_strdupv (d->class_names);
      s->n_train = d->train->n;
      s->n_val = d->val != NULL ? d->val->n : 0;
      s->n_test = d->test != NULL ? d->test->n : 0;
      s->eval_split = w->eval == d->val ? "validation" : "test";
      s->points = ref0 (w->points);
      s->point_labels = ref0 (w->point_labels);
      if (w->grid != NULL)
        {
          s->grid_size = GRID_SIZE;
          s->grid_x0 = w->grid_x0;
          s->grid_x1 = w->grid_x1;
          s->grid_y0 = w->grid_y0;
          s->grid_y1 = w->grid_y1;
          s->grid = ref0 (w->grid);
          s->preview_grid = ref0 (w->pgrid);
        }
    }

  if (m != NULL)
    {
      s->arch = pl_mlp_arch (m);
      s->activation = m->activation;
      s->model_seed = w->model_seed;
      s->model_path = g_strdup (w->model_path);
      s->metrics = w->metrics;
      for (guint i = 0; i < m->n_layers; i++)
        {
          PlLayerView *v = &s->layers[i];

          v->n_in = m->layers[i].n_in;
          v->n_out = m->layers[i].n_out;
          v->weights = ref0 (w->weights[i]);
          v->biases = ref0 (w->biases[i]);
          v->masks = ref0 (w->masks[i]);
          v->neuron_masks = ref0 (w->neuron_masks[i]);
          v->scores = ref0 (w->score_bytes[i]);
          if (w->preview_on)
            {
              v->preview_masks = ref0 (w->pmasks[i]);
              v->preview_neuron_masks = ref0 (w->pneuron_masks[i]);
            }
        }
    }

  s->eval.valid = w->eval_valid;
  s->eval.n = w->eval_n;
  s->eval.n_classes = w->eval_classes;
  s->eval.loss = w->eval_loss;
  s->eval.accuracy = w->eval_accuracy;
  s->eval.class_accuracy = ref0 (w->class_accuracy);
  s->eval.confusion = ref0 (w->confusion);

  s->strategy = w->strategy;
  s->scores_valid = w->scores != NULL;
  s->score_min = w->score_min;
  s->score_max = w->score_max;

  s->has_preview = w->preview_on;
  s->previews_requested = w->previews_requested;
  s->previews_computed = w->previews_computed;
  s->preview_request = w->preview_request;
  if (w->preview_on)
    {
      s->preview_by_threshold = w->preview_by_threshold;
      s->preview = w->preview_result;
      s->preview_metrics = w->preview_metrics;
      s->preview_steps_behind = w->grad_norms->len > w->preview_built_step
                                ? w->grad_norms->len - w->preview_built_step : 0;
    }

  s->training.fine_tune = w->fine_tune;
  s->training.epoch = w->epoch;
  s->training.epochs = w->epochs;
  s->training.step = w->step;
  s->training.steps_total = w->steps_total;
  s->training.batch_loss = w->batch_loss;
  if (w->training && w->step > 0)
    {
      double seconds = (g_get_monotonic_time () - w->run_started) / 1e6;

      w->samples_per_second = seconds > 0 ? w->step * w->batch_size / seconds : 0.0;
    }
  s->training.samples_per_second = w->samples_per_second;
  s->training.history = ref0 (w->history_bytes);
  s->training.grad_norms = ref0 (w->grad_norm_bytes);

  s->n_curves = w->n_curves;
  for (guint i = 0; i < w->n_curves; i++)
    {
      s->curves[i].score = w->curves[i].score;
      s->curves[i].points = ref0 (w->curves[i].bytes);
    }
  for (guint i = 0; i < PL_N_METHODS; i++)
    s->schedules[i] = ref0 (w->schedules[i]);

  w->changed = 0;
  w->publish_time = g_get_monotonic_time ();
  _pl_engine_post (w->engine, s, NULL);
}

/* ───────────────────────────── model and data ───────────────────────────── */

static void
reset_model_state (PlWorker *w)
{
  clear_preview (w);
  clear_curves (w);
  clear_schedules (w);
  g_ptr_array_set_size (w->undo, 0);
  g_array_set_size (w->history, 0);
  g_array_set_size (w->grad_norms, 0);
  g_clear_pointer (&w->dense_params, g_free);
  g_clear_pointer (&w->scores, pl_scores_free);
  g_clear_pointer (&w->preview, pl_preview_free);
  clear_layer_bytes (w->weights);
  clear_layer_bytes (w->biases);
  clear_layer_bytes (w->masks);
  clear_layer_bytes (w->neuron_masks);
  clear_layer_bytes (w->score_bytes);
  w->epoch = w->epochs = 0;
  w->step = w->steps_total = 0;
  w->batch_loss = 0.0;
  w->run_started = 0;
  w->samples_per_second = 0.0;
  w->fine_tune = FALSE;
  touch (w, DIRTY_MODEL | DIRTY_HISTORY);
  w->changed |= PL_SNAPSHOT_CHANGED_MODEL | PL_SNAPSHOT_CHANGED_TRAINING;
}

/* Takes @model; @initial is a copy of its starting weights. */
static void
set_model (PlWorker   *w,
           PlMlp      *model,
           guint64     seed,
           const char *path)
{
  pl_mlp_free (w->model);
  pl_mlp_free (w->initial);
  w->model = model;
  w->initial = pl_mlp_copy (model);
  w->model_seed = seed;
  g_free (w->model_path);
  w->model_path = g_strdup (path);
  g_free (w->preview_masks);
  g_free (w->preview_neuron_masks);
  w->preview_masks = g_new (float, model->n_params);
  w->preview_neuron_masks = g_new (float, model->n_neurons);
  reset_model_state (w);
}

/* "IN-300-100-OUT" with the data's sizes. */
static PlMlp *
model_from_arch (PlWorker      *w,
                 const char    *arch,
                 PlActivation   activation,
                 GError       **error)
{
  g_auto(GStrv) parts = NULL;
  g_autofree char *resolved = NULL;

  if (arch == NULL || *arch == '\0')
    {
      if (w->data == NULL)
        {
          g_set_error (error, PL_ENGINE_ERROR, PL_ENGINE_ERROR_NO_DATA,
                       _("a default architecture needs a dataset: load one or give the layers"));
          return NULL;
        }
      arch = w->data->n_features == 2 ? "IN-64-64-OUT" : "IN-300-100-OUT";
    }

  parts = g_strsplit (arch, "-", -1);
  for (guint i = 0; parts[i] != NULL; i++)
    {
      gboolean in = g_ascii_strcasecmp (parts[i], "IN") == 0;
      gboolean out = g_ascii_strcasecmp (parts[i], "OUT") == 0;

      if (!in && !out)
        continue;
      if (w->data == NULL)
        {
          g_set_error (error, PL_SPEC_ERROR, PL_SPEC_ERROR_INVALID,
                       _("architecture “%s”: IN and OUT need a dataset"), arch);
          return NULL;
        }
      g_free (parts[i]);
      parts[i] = g_strdup_printf ("%u", in ? w->data->n_features : w->data->n_classes);
    }
  resolved = g_strjoinv ("-", parts);
  return pl_mlp_new_from_arch (resolved, activation, error);
}

static void
set_data (PlWorker *w,
          PlData   *data)   /* transfer full */
{
  const PlDataset *train = data->train;

  pl_data_free (w->data);
  w->data = data;
  w->eval = data->val != NULL && data->val->n > 0 ? data->val : data->test;

  g_clear_pointer (&w->points, pl_bytes_unref);
  g_clear_pointer (&w->point_labels, pl_bytes_unref);
  g_clear_pointer (&w->grid_x, g_free);
  if (data->n_features == 2 && train->n > 0)
    {
      double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY, pad;

      w->points = g_bytes_new (train->x, sizeof (float) * 2 * train->n);
      w->point_labels = g_bytes_new (train->y, sizeof (guint32) * train->n);
      for (guint s = 0; s < train->n; s++)
        {
          x0 = MIN (x0, train->x[2 * s]);
          x1 = MAX (x1, train->x[2 * s]);
          y0 = MIN (y0, train->x[2 * s + 1]);
          y1 = MAX (y1, train->x[2 * s + 1]);
        }
      pad = 0.05 * MAX (x1 - x0, y1 - y0) + 1e-3;
      w->grid_x0 = x0 - pad;
      w->grid_x1 = x1 + pad;
      w->grid_y0 = y0 - pad;
      w->grid_y1 = y1 + pad;
      w->grid_x = g_new (float, 2 * GRID_SIZE * GRID_SIZE);
      for (guint r = 0; r < GRID_SIZE; r++)
        for (guint c = 0; c < GRID_SIZE; c++)
          {
            /* cell centres */
            w->grid_x[2 * (r * GRID_SIZE + c)] =
              (float) (w->grid_x0 + (c + 0.5) * (w->grid_x1 - w->grid_x0) / GRID_SIZE);
            w->grid_x[2 * (r * GRID_SIZE + c) + 1] =
              (float) (w->grid_y0 + (r + 0.5) * (w->grid_y1 - w->grid_y0) / GRID_SIZE);
          }
    }

  clear_preview (w);
  clear_curves (w);
  touch (w, DIRTY_EVAL | DIRTY_GRID | DIRTY_SCORES | DIRTY_PREVIEW);
  w->changed |= PL_SNAPSHOT_CHANGED_DATA | PL_SNAPSHOT_CHANGED_GRID;

  if (w->model == NULL || !model_fits (w->model, data))
    {
      g_autoptr(GError) error = NULL;
      PlMlp *model = model_from_arch (w, NULL, PL_ACTIVATION_RELU, &error);

      g_assert (model != NULL);
      pl_mlp_init (model, 1);
      set_model (w, model, 1, NULL);
    }
}

static void
push_undo (PlWorker *w)
{
  UndoEntry *e = g_new0 (UndoEntry, 1);

  e->params = g_memdup2 (w->model->params, sizeof (float) * w->model->n_params);
  e->masks = g_memdup2 (w->model->masks, sizeof (float) * w->model->n_params);
  e->neuron_masks = g_memdup2 (w->model->neuron_masks, sizeof (float) * w->model->n_neurons);
  if (w->undo->len == UNDO_MAX)
    g_ptr_array_remove_index (w->undo, 0);
  g_ptr_array_add (w->undo, e);
  w->changed |= PL_SNAPSHOT_CHANGED_STATE;
}

/* ───────────────────────────── previews ───────────────────────────── */

/* Reads the newest value of a preview request, and ends its writable life. */
static void
take_request (PlWorker  *w,
              PlCommand *cmd)
{
  PlEngine *self = w->engine;
  gint64 now = g_get_monotonic_time ();

  w->request_gap = now - w->last_request_time;
  w->last_request_time = now;
  _pl_engine_in_lock (self);
  if (self->tail_preview == cmd)
    self->tail_preview = NULL;
  w->preview_value = cmd->value;
  w->preview_by_threshold = cmd->by_threshold;
  w->preview_request = cmd->request;
  w->previews_requested = cmd->requested;
  _pl_engine_in_unlock (self);
}

/* Runs the preview at w->preview_value; on failure the preview is off. */
static gboolean
run_preview (PlWorker  *w,
             gboolean   in_run,
             GError   **error)
{
  PlPreviewResult r;
  PlMlp *m = w->model;
  gint64 t0 = g_get_monotonic_time ();

  if (m == NULL)
    {
      g_set_error (error, PL_ENGINE_ERROR, PL_ENGINE_ERROR_NO_MODEL, _("there is no model yet"));
      clear_preview (w);
      return FALSE;
    }
  if (!ensure_preview (w, in_run, error)
      || !pl_preview_run (w->preview, w->preview_value, w->preview_by_threshold, &r, error))
    {
      clear_preview (w);
      return FALSE;
    }
  /* a new preview computes its first layer in its first run: part of building it */
  if (w->preview_built_at >= t0)
    w->preview_build_usec = g_get_monotonic_time () - t0;

  w->previews_computed++;
  w->preview_on = TRUE;
  w->preview_result = r;
  pl_preview_get_masks (w->preview, w->preview_masks, w->preview_neuron_masks);
  for (guint i = 0; i < m->n_layers; i++)
    {
      const PlLayer *l = &m->layers[i];
      gsize off = l->w_mask - m->masks, noff = l->neuron_mask - m->neuron_masks;
      GBytes *b;

      b = bytes_update (w->pmasks[i], w->preview_masks + off, sizeof (float) * l->n_out * l->n_in);
      g_clear_pointer (&w->pmasks[i], pl_bytes_unref);
      w->pmasks[i] = b;
      b = bytes_update (w->pneuron_masks[i], w->preview_neuron_masks + noff, sizeof (float) * l->n_out);
      g_clear_pointer (&w->pneuron_masks[i], pl_bytes_unref);
      w->pneuron_masks[i] = b;
    }
  pl_metrics_compute (&w->preview_metrics, m, NULL, w->preview_masks, w->preview_neuron_masks);
  touch (w, DIRTY_PGRID);
  w->changed |= PL_SNAPSHOT_CHANGED_PREVIEW;
  return TRUE;
}

static void
do_preview (PlWorker  *w,
            PlCommand *cmd,
            gboolean   in_run)
{
  GError *error = NULL;
  gint64 t0 = g_get_monotonic_time ();

  take_request (w, cmd);
  if (!run_preview (w, in_run, &error))
    post_error (w, error);
  publish (w);
  /* a continuous drag must not starve a training or a sweep: the next preview waits until the
   * run has had RUN_SHARE of the time */
  if (w->running)
    {
      gint64 now = g_get_monotonic_time ();

      w->run_until = now + (gint64) ((now - t0) * RUN_SHARE / (1.0 - RUN_SHARE));
    }
}

/* ───────────────────────────── commands ───────────────────────────── */

static void
do_load_data (PlWorker  *w,
              PlCommand *cmd)
{
  GError *error = NULL;
  PlData *data;

  set_state (w, PL_ENGINE_STATE_BUSY, cmd->kind, -1.0);
  publish (w);
  if (cmd->kind == PL_ENGINE_COMMAND_SET_DATA)
    data = g_steal_pointer (&cmd->data);
  else
    data = pl_data_load (cmd->text, &cmd->data_options, &error);
  if (data != NULL)
    set_data (w, data);
  set_state (w, PL_ENGINE_STATE_IDLE, PL_ENGINE_COMMAND_NONE, -1.0);
  publish (w);
  finish (w, cmd, error);
}

static void
do_new_model (PlWorker  *w,
              PlCommand *cmd)
{
  GError *error = NULL;
  PlMlp *model = model_from_arch (w, cmd->text, cmd->activation, &error);

  if (model != NULL && !check_fits (w, model, NULL, &error))
    g_clear_pointer (&model, pl_mlp_free);
  if (model != NULL)
    {
      pl_mlp_init (model, cmd->seed);
      set_model (w, model, cmd->seed, NULL);
      publish (w);
    }
  finish (w, cmd, error);
}

static void
do_load_model (PlWorker  *w,
               PlCommand *cmd)
{
  GError *error = NULL;
  PlMlp *model;

  set_state (w, PL_ENGINE_STATE_BUSY, cmd->kind, -1.0);
  publish (w);
  model = pl_safetensors_load (cmd->text, &error);
  if (model != NULL && !check_fits (w, model, cmd->text, &error))
    g_clear_pointer (&model, pl_mlp_free);
  if (model != NULL)
    set_model (w, model, 0, cmd->text);
  set_state (w, PL_ENGINE_STATE_IDLE, PL_ENGINE_COMMAND_NONE, -1.0);
  publish (w);
  finish (w, cmd, error);
}

static void
do_save_model (PlWorker  *w,
               PlCommand *cmd)
{
  GError *error = NULL;

  if (w->model == NULL)
    {
      fail (w, cmd, PL_ENGINE_ERROR, PL_ENGINE_ERROR_NO_MODEL, _("there is no model to save"));
      return;
    }
  if (pl_safetensors_save (w->model, cmd->text, &error))
    {
      g_free (w->model_path);
      w->model_path = g_strdup (cmd->text);
      w->changed |= PL_SNAPSHOT_CHANGED_STATE;
      publish (w);
    }
  finish (w, cmd, error);
}

static void
do_set_strategy (PlWorker  *w,
                 PlCommand *cmd)
{
  g_autoptr(GError) ignored = NULL;

  w->strategy = cmd->strategy;
  clear_preview (w);
  g_clear_pointer (&w->preview, pl_preview_free);
  touch (w, DIRTY_SCORES | DIRTY_PREVIEW);
  /* scores now, also while training: the histogram shows them */
  if (!ensure_scores (w, &ignored))
    {
      g_clear_pointer (&w->scores, pl_scores_free);
      clear_layer_bytes (w->score_bytes);
      w->dirty &= ~DIRTY_SCORES;
    }
  w->changed |= PL_SNAPSHOT_CHANGED_SCORES;
  publish (w);
  finish (w, cmd, NULL);
}

static void
do_clear_preview (PlWorker  *w,
                  PlCommand *cmd)
{
  clear_preview (w);
  publish (w);
  finish (w, cmd, NULL);
}

static void
do_apply_prune (PlWorker  *w,
                PlCommand *cmd)
{
  GError *error = NULL;
  PlPruneSpec spec;
  UndoEntry *top;

  if (w->model == NULL)
    {
      fail (w, cmd, PL_ENGINE_ERROR, PL_ENGINE_ERROR_NO_MODEL, _("there is no model to prune"));
      return;
    }
  /* the newest preview asked for: the worker took every request sent before this command */
  if (!w->preview_on)
    {
      fail (w, cmd, PL_ENGINE_ERROR, PL_ENGINE_ERROR_NO_PREVIEW,
            _("nothing to prune with: preview a threshold or sparsity first"));
      return;
    }
  if (!ensure_scores (w, &error))
    {
      finish (w, cmd, error);
      return;
    }

  push_undo (w);
  prune_spec_from_strategy (&w->strategy, &spec, w->preview_by_threshold, w->preview_value);
  if (!pl_prune_apply (w->model, w->scores, &spec, &error))
    {
      top = g_ptr_array_steal_index (w->undo, w->undo->len - 1);
      memcpy (w->model->params, top->params, sizeof (float) * w->model->n_params);
      memcpy (w->model->masks, top->masks, sizeof (float) * w->model->n_params);
      memcpy (w->model->neuron_masks, top->neuron_masks, sizeof (float) * w->model->n_neurons);
      undo_entry_free (top);
      finish (w, cmd, error);
      return;
    }
  top = g_ptr_array_index (w->undo, w->undo->len - 1);
  g_free (w->dense_params);
  w->dense_params = g_memdup2 (top->params, sizeof (float) * w->model->n_params);

  clear_preview (w);
  touch (w, DIRTY_MODEL);
  publish (w);
  finish (w, cmd, NULL);
}

static void
do_undo (PlWorker  *w,
         PlCommand *cmd)
{
  UndoEntry *e;

  if (w->model == NULL || w->undo->len == 0)
    {
      fail (w, cmd, PL_ENGINE_ERROR, PL_ENGINE_ERROR_NOTHING_TO_UNDO, _("there is nothing to undo"));
      return;
    }
  e = g_ptr_array_steal_index (w->undo, w->undo->len - 1);
  memcpy (w->model->params, e->params, sizeof (float) * w->model->n_params);
  memcpy (w->model->masks, e->masks, sizeof (float) * w->model->n_params);
  memcpy (w->model->neuron_masks, e->neuron_masks, sizeof (float) * w->model->n_neurons);
  undo_entry_free (e);
  if (pl_mlp_n_pruned (w->model) == 0)
    g_clear_pointer (&w->dense_params, g_free);

  clear_preview (w);
  touch (w, DIRTY_MODEL);
  w->changed |= PL_SNAPSHOT_CHANGED_STATE;
  publish (w);
  finish (w, cmd, NULL);
}

static void
do_rewind (PlWorker  *w,
           PlCommand *cmd)
{
  if (w->model == NULL)
    {
      fail (w, cmd, PL_ENGINE_ERROR, PL_ENGINE_ERROR_NO_MODEL, _("there is no model to rewind"));
      return;
    }
  push_undo (w);
  memcpy (w->model->params, w->initial->params, sizeof (float) * w->model->n_params);
  pl_mlp_apply_masks (w->model);
  clear_preview (w);
  touch (w, DIRTY_MODEL);
  publish (w);
  finish (w, cmd, NULL);
}

/* ───────────────────────────── work during long commands ───────────────────────────── */

static void handle (PlWorker *w, PlCommand *cmd);

/* What may run while training or sweeping: previews, strategy, clear-preview, save. Anything
 * else fails as busy. */
static void
handle_in_run (PlWorker  *w,
               PlCommand *cmd)
{
  switch (cmd->kind)
    {
    case PL_CMD_WAKE:
      break;
    case PL_CMD_QUIT:
      w->quit = TRUE;
      break;
    case PL_ENGINE_COMMAND_PREVIEW:
      do_preview (w, cmd, w->training);
      break;
    case PL_ENGINE_COMMAND_SET_STRATEGY:
      do_set_strategy (w, cmd);
      break;
    case PL_ENGINE_COMMAND_CLEAR_PREVIEW:
      do_clear_preview (w, cmd);
      break;
    case PL_ENGINE_COMMAND_SAVE_MODEL:
      do_save_model (w, cmd);
      break;
    default:
      fail (w, cmd, PL_ENGINE_ERROR, PL_ENGINE_ERROR_BUSY,
            w->training ? _("“%s” is not possible while training: stop the training first")
                        : _("“%s” is not possible during a sweep: stop the sweep first"),
            pl_engine_command_title (cmd->kind));
      break;
    }
  _pl_command_free (cmd);
}

/* While training shows a preview, it follows the weights: rebuilt and run again at the same
 * value when rebuild_due() and no drag is going on (nor a request waiting). */
static void
refresh_shown_preview (PlWorker *w)
{
  gint64 now = g_get_monotonic_time ();
  GError *error = NULL;

  if (!w->training || !w->preview_on || w->preview == NULL
      || !rebuild_due (w, now, now - w->last_request_time))
    return;

  g_clear_pointer (&w->preview, pl_preview_free);
  if (!run_preview (w, TRUE, &error))
    post_error (w, error);
  publish (w);
}

/* Between two steps of a long command: answers what waits, honours pause (training only), and
 * returns at once when nothing waits. */
static void
service (PlWorker *w)
{
  PlEngine *self = w->engine;

  for (;;)
    {
      gboolean stopping = w->quit || g_cancellable_is_cancelled (w->cancellable);
      gboolean paused = w->training && !stopping && g_atomic_int_get (&self->paused);
      PlCommand *cmd;

      /* what waits runs after the long command: stop-then-train must not be "busy" */
      if (stopping)
        return;
      if (paused != (w->state == PL_ENGINE_STATE_PAUSED))
        {
          set_state (w, paused ? PL_ENGINE_STATE_PAUSED : PL_ENGINE_STATE_TRAINING,
                     w->command, w->progress);
          publish (w);
        }

      /* a preview held back so that training gets its share */
      if (w->held_preview != NULL)
        {
          if (!paused && g_get_monotonic_time () < w->run_until)
            return;
          cmd = g_steal_pointer (&w->held_preview);
          handle_in_run (w, cmd);
          continue;
        }

      if (paused)
        cmd = _pl_engine_queue_pop (self, PAUSE_POLL_USEC);
      else if (g_atomic_int_get (&self->queued) > 0)
        cmd = _pl_engine_queue_pop (self, 0);
      else
        {
          refresh_shown_preview (w);
          return;
        }

      if (cmd == NULL)
        {
          refresh_shown_preview (w);
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
      handle_in_run (w, cmd);
    }
}

static void
on_train_progress (const PlTrainProgress *p,
                   gpointer               user_data)
{
  PlWorker *w = user_data;

  if (p->epoch_done)
    {
      PlEpochRecord rec = *p->record;

      rec.epoch = w->history->len + 1;
      g_array_append_val (w->history, rec);
      touch (w, DIRTY_HISTORY | DIRTY_EVAL);
    }
  else
    {
      float gn = (float) p->grad_norm;

      g_array_append_val (w->grad_norms, gn);
      w->batch_loss = p->batch_loss;
      touch (w, DIRTY_HISTORY | DIRTY_WEIGHTS | DIRTY_METRICS | DIRTY_GRID | DIRTY_SCORES
                | DIRTY_PREVIEW);
    }
  w->epoch = p->epoch;
  w->epochs = p->epochs;
  w->step = p->step;
  w->steps_total = p->steps_total;
  w->progress = p->steps_total > 0 ? (double) p->step / p->steps_total : -1.0;
  w->changed |= PL_SNAPSHOT_CHANGED_TRAINING | PL_SNAPSHOT_CHANGED_STATE;

  service (w);

  if (g_get_monotonic_time () - w->publish_time >= PUBLISH_USEC)
    publish (w);
}

static void
do_train (PlWorker  *w,
          PlCommand *cmd)
{
  g_autoptr(PlTrainer) trainer = NULL;
  GError *error = NULL;
  PlTrainConfig config;
  gboolean fine_tune = cmd->kind == PL_ENGINE_COMMAND_FINE_TUNE;
  gboolean want_preview;

  if (w->data == NULL)
    {
      fail (w, cmd, PL_ENGINE_ERROR, PL_ENGINE_ERROR_NO_DATA, _("load a dataset before training"));
      return;
    }
  if (w->model == NULL)
    {
      fail (w, cmd, PL_ENGINE_ERROR, PL_ENGINE_ERROR_NO_MODEL, _("make a model before training"));
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

  push_undo (w);
  trainer = pl_trainer_new (w->model, &config);
  w->cancellable = cmd->cancellable;
  w->running = w->training = TRUE;
  w->fine_tune = fine_tune;
  w->epoch = 0;
  w->epochs = config.epochs;
  w->step = 0;
  w->steps_total = 0;
  w->batch_size = config.batch_size;
  w->run_started = g_get_monotonic_time ();
  w->samples_per_second = 0.0;
  w->run_until = 0;
  set_state (w, PL_ENGINE_STATE_TRAINING, cmd->kind, 0.0);
  w->changed |= PL_SNAPSHOT_CHANGED_TRAINING;
  publish (w);

  if (!pl_trainer_run (trainer, w->data->train, w->data->val, on_train_progress, w,
                       cmd->cancellable, &error)
      && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_clear_error (&error);   /* stopped: what finished is kept */

  w->running = w->training = FALSE;
  w->cancellable = NULL;
  /* the last weights (or, after divergence, the restored ones) */
  touch (w, DIRTY_MODEL | DIRTY_HISTORY);
  want_preview = w->preview_on;
  if (w->held_preview != NULL)
    {
      PlCommand *held = g_steal_pointer (&w->held_preview);

      take_request (w, held);
      _pl_command_free (held);
      want_preview = TRUE;
    }
  /* a preview that was shown is redone on the final weights, exactly */
  if (want_preview)
    {
      GError *perror = NULL;

      if (!run_preview (w, FALSE, &perror))
        post_error (w, perror);
    }
  set_state (w, PL_ENGINE_STATE_IDLE, PL_ENGINE_COMMAND_NONE, -1.0);
  publish (w);
  finish (w, cmd, error);
}

static void
do_sweep (PlWorker  *w,
          PlCommand *cmd)
{
  GError *error = NULL;
  PlStrategy strategy = w->strategy;
  guint total = cmd->n_scores * cmd->points, done = 0;

  if (w->data == NULL)
    {
      fail (w, cmd, PL_ENGINE_ERROR, PL_ENGINE_ERROR_NO_DATA, _("load a dataset before a sweep"));
      return;
    }
  if (w->model == NULL)
    {
      fail (w, cmd, PL_ENGINE_ERROR, PL_ENGINE_ERROR_NO_MODEL, _("make a model before a sweep"));
      return;
    }
  if (cmd->n_scores == 0 || cmd->n_scores > PL_N_SCORES || cmd->points < 2
      || !(cmd->max > 0.0 && cmd->max <= 1.0))
    {
      fail (w, cmd, PL_SPEC_ERROR, PL_SPEC_ERROR_INVALID,
            _("a sweep needs 1 to %u scores, at least 2 points and a maximum sparsity in (0, 1]"),
            (guint) PL_N_SCORES);
      return;
    }

  clear_curves (w);
  /* The drag's preview makes way for the sweep's own: each holds the evaluation set feature-
   * major (22 MB on Fashion-MNIST's 5,000 validation images with 784-300-100-10), and two would
   * be the GUI's peak of memory. A drag during the sweep builds it again, idle work after it. */
  g_clear_pointer (&w->preview, pl_preview_free);
  touch (w, DIRTY_PREVIEW);
  w->cancellable = cmd->cancellable;
  w->running = TRUE;
  w->run_until = 0;
  set_state (w, PL_ENGINE_STATE_SWEEPING, cmd->kind, 0.0);
  publish (w);

  for (guint si = 0; si < cmd->n_scores && error == NULL && !w->quit; si++)
    {
      g_autoptr(PlScores) scores = NULL;
      g_autoptr(PlPreview) preview = NULL;
      Curve *curve = &w->curves[w->n_curves];
      PlPruneSpec spec;
      int blas;

      if (g_cancellable_is_cancelled (cmd->cancellable))
        break;
      blas = blas_begin (w);
      scores = pl_scores_compute (w->model, cmd->scores[si], w->data->train,
                                  &strategy.score_options, &error);
      blas_end (blas);
      if (scores == NULL)
        break;
      prune_spec_from_strategy (&strategy, &spec, FALSE, 0.0);
      preview = pl_preview_new (w->model, scores, &spec, w->eval, w->threads, &error);
      if (preview == NULL)
        break;

      curve->score = cmd->scores[si];
      curve->points = g_array_new (FALSE, FALSE, sizeof (PlSweepPoint));
      w->n_curves++;
      /* from the sparsest point down, as prunelab-cli sweep: the first run computes the first
       * layer from its few kept weights, each next one adds the weights it restores; the points
       * are kept in increasing sparsity */
      for (guint step = 0; step < cmd->points; step++)
        {
          guint pi = cmd->points - 1 - step;
          /* 1 − (1 − max)^(i/(P−1)): even steps in log "fraction remaining" */
          double target = pi == 0 ? 0.0 : 1.0 - pow (1.0 - cmd->max, (double) pi / (cmd->points - 1));
          PlPreviewResult r;
          PlSweepPoint p;

          service (w);
          if (w->quit || g_cancellable_is_cancelled (cmd->cancellable))
            break;
          if (!pl_preview_run (preview, target, FALSE, &r, &error))
            break;
          p.target = target;
          p.sparsity = r.sparsity;
          p.structural_sparsity = r.neurons > 0 ? (double) r.dead_neurons / r.neurons : 0.0;
          p.accuracy = r.accuracy;
          p.loss = r.loss;
          g_array_prepend_val (curve->points, p);
          g_clear_pointer (&curve->bytes, pl_bytes_unref);
          touch (w, DIRTY_CURVES);
          done++;
          set_state (w, PL_ENGINE_STATE_SWEEPING, cmd->kind, (double) done / total);
          if (g_get_monotonic_time () - w->publish_time >= PUBLISH_USEC)
            publish (w);
        }
    }

  w->running = FALSE;
  w->cancellable = NULL;
  if (w->held_preview != NULL)
    handle (w, g_steal_pointer (&w->held_preview));
  touch (w, DIRTY_CURVES);
  set_state (w, PL_ENGINE_STATE_IDLE, PL_ENGINE_COMMAND_NONE, -1.0);
  publish (w);
  finish (w, cmd, error);
}

/* ───────────────────────────── procedures ───────────────────────────── */

typedef struct {
  PlWorker *w;
  PlMethod  method;
  GArray   *points;   /* PlSchedulePoint: the ones pl_schedule_run appended so far */
} ScheduleRun;

static void
on_schedule_progress (const PlScheduleProgress *p,
                      gpointer                  user_data)
{
  ScheduleRun *run = user_data;
  PlWorker *w = run->w;

  /* pl_schedule_run appended the point to run->points before telling */
  if (p->point != NULL)
    {
      g_clear_pointer (&w->schedules[run->method], pl_bytes_unref);
      w->schedules[run->method] = g_bytes_new (run->points->data,
                                               run->points->len * sizeof (PlSchedulePoint));
      w->changed |= PL_SNAPSHOT_CHANGED_SWEEP;
    }
  if (p->train != NULL)
    w->progress = p->train->steps_total > 0 ? (double) p->train->step / p->train->steps_total : -1.0;
  w->changed |= PL_SNAPSHOT_CHANGED_STATE;
  if (g_get_monotonic_time () - w->publish_time >= PUBLISH_USEC)
    publish (w);
}

/* The procedure reads the model and the data (borrowed, unchanged) on this thread; nothing
 * else runs meanwhile: commands wait in the queue, and stop cancels. */
static void
do_schedule (PlWorker  *w,
             PlCommand *cmd)
{
  g_autoptr(GArray) points = g_array_new (FALSE, FALSE, sizeof (PlSchedulePoint));
  PlMlp *last = NULL;
  GError *error = NULL;
  PlScheduleConfig config = *cmd->schedule;
  ScheduleRun run = { w, cmd->method, points };
  gboolean ok;
  int blas;

  if (w->data == NULL)
    {
      fail (w, cmd, PL_ENGINE_ERROR, PL_ENGINE_ERROR_NO_DATA, _("load a dataset before a procedure"));
      return;
    }
  if (w->model == NULL)
    {
      fail (w, cmd, PL_ENGINE_ERROR, PL_ENGINE_ERROR_NO_MODEL, _("make a model before a procedure"));
      return;
    }
  /* the lottery ticket of this model: back to its own initial weights */
  if (config.rewind == PL_REWIND_INIT && config.rewind_params == NULL)
    config.rewind_params = w->initial->params;

  g_clear_pointer (&w->schedules[cmd->method], pl_bytes_unref);
  w->cancellable = cmd->cancellable;
  w->running = TRUE;
  set_state (w, PL_ENGINE_STATE_BUSY, cmd->kind, 0.0);
  publish (w);

  blas = blas_begin (w);
  ok = pl_schedule_run (w->model, w->data, cmd->method, &config, cmd->seed, points,
                        cmd->adopt ? &last : NULL, on_schedule_progress, &run,
                        cmd->cancellable, &error);
  blas_end (blas);
  if (!ok && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_clear_error (&error);   /* stopped: the points that finished are kept */
  /* all the points, also those a procedure adds without telling (adaptive's probes) */
  g_clear_pointer (&w->schedules[cmd->method], pl_bytes_unref);
  if (points->len > 0)
    w->schedules[cmd->method] = g_bytes_new (points->data, points->len * sizeof (PlSchedulePoint));
  w->changed |= PL_SNAPSHOT_CHANGED_SWEEP;

  if (ok && last != NULL && last->n_params == w->model->n_params
      && last->n_neurons == w->model->n_neurons)
    {
      push_undo (w);
      memcpy (w->model->params, last->params, sizeof (float) * last->n_params);
      memcpy (w->model->masks, last->masks, sizeof (float) * last->n_params);
      memcpy (w->model->neuron_masks, last->neuron_masks, sizeof (float) * last->n_neurons);
      pl_mlp_apply_masks (w->model);
      clear_preview (w);
      touch (w, DIRTY_MODEL);
    }
  pl_mlp_free (last);

  w->running = FALSE;
  w->cancellable = NULL;
  if (w->held_preview != NULL)
    handle (w, g_steal_pointer (&w->held_preview));
  set_state (w, PL_ENGINE_STATE_IDLE, PL_ENGINE_COMMAND_NONE, -1.0);
  publish (w);
  finish (w, cmd, error);
}

/* ───────────────────────────── the worker loop ───────────────────────────── */

static void
handle (PlWorker  *w,
        PlCommand *cmd)
{
  switch (cmd->kind)
    {
    case PL_CMD_WAKE:
      break;
    case PL_CMD_QUIT:
      w->quit = TRUE;
      break;
    case PL_ENGINE_COMMAND_LOAD_DATA:
    case PL_ENGINE_COMMAND_SET_DATA:
      do_load_data (w, cmd);
      break;
    case PL_ENGINE_COMMAND_NEW_MODEL:
      do_new_model (w, cmd);
      break;
    case PL_ENGINE_COMMAND_LOAD_MODEL:
      do_load_model (w, cmd);
      break;
    case PL_ENGINE_COMMAND_SAVE_MODEL:
      do_save_model (w, cmd);
      break;
    case PL_ENGINE_COMMAND_TRAIN:
    case PL_ENGINE_COMMAND_FINE_TUNE:
      do_train (w, cmd);
      break;
    case PL_ENGINE_COMMAND_SET_STRATEGY:
      do_set_strategy (w, cmd);
      break;
    case PL_ENGINE_COMMAND_PREVIEW:
      do_preview (w, cmd, FALSE);
      break;
    case PL_ENGINE_COMMAND_CLEAR_PREVIEW:
      do_clear_preview (w, cmd);
      break;
    case PL_ENGINE_COMMAND_APPLY_PRUNE:
      do_apply_prune (w, cmd);
      break;
    case PL_ENGINE_COMMAND_UNDO:
      do_undo (w, cmd);
      break;
    case PL_ENGINE_COMMAND_REWIND:
      do_rewind (w, cmd);
      break;
    case PL_ENGINE_COMMAND_SWEEP:
      do_sweep (w, cmd);
      break;
    case PL_ENGINE_COMMAND_SCHEDULE:
      do_schedule (w, cmd);
      break;
    default:
      g_assert_not_reached ();
    }
  _pl_command_free (cmd);
}

/* Work for when the queue is empty: a preview ready for the first drag, and a preview shown
 * on a model that changed done again. Returns FALSE when there is nothing to do. */
static gboolean
idle_work (PlWorker *w)
{
  GError *error = NULL;

  if (w->model == NULL || w->data == NULL || !model_fits (w->model, w->data))
    return FALSE;
  if (!(w->dirty & DIRTY_PREVIEW))
    return FALSE;

  if (w->preview_on)
    {
      if (!run_preview (w, FALSE, &error))
        post_error (w, error);
      publish (w);
    }
  else if (!ensure_preview (w, FALSE, &error))
    {
      /* shown when the user asks for a preview; do not try again until something changes */
      g_clear_error (&error);
      w->dirty &= ~DIRTY_PREVIEW;
    }
  else if (w->changed != 0)
    publish (w);
  return TRUE;
}

gpointer
_pl_worker_main (gpointer data)
{
  PlWorker *w = data;
  PlEngine *self = w->engine;

  while (!w->quit)
    {
      PlCommand *cmd;

      if (g_atomic_int_get (&self->queued) == 0 && idle_work (w))
        continue;
      cmd = _pl_engine_queue_pop (self, -1);
      handle (w, cmd);
    }

  worker_free (w);
  return NULL;
}

PlWorker *
_pl_worker_new (PlEngine *self)
{
  PlWorker *w = g_new0 (PlWorker, 1);

  w->engine = self;
  w->threads = self->threads;
  w->history = g_array_new (FALSE, FALSE, sizeof (PlEpochRecord));
  w->grad_norms = g_array_new (FALSE, FALSE, sizeof (float));
  w->undo = g_ptr_array_new_with_free_func (undo_entry_free);
  pl_strategy_init (&w->strategy);
  pl_train_config_init (&w->config);
  w->state = PL_ENGINE_STATE_IDLE;
  w->progress = -1.0;
  return w;
}

