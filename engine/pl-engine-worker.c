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
#include "pl-sweep.h"

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
#define PAUSE_POLL_USEC       (G_USEC_PER_SEC / 10)
/* Evaluation samples of a preview during a drag while training (a fixed, evenly spaced
 * subsample of the evaluation split); the whole split when the pointer rests. On 784-300-100-10
 * a preview's run is about proportional to the samples (tests/bench-engine.c). */
#define TRAIN_PREVIEW_SAMPLES 2048

/* ───────────────────────────── the worker's state ───────────────────────────── */

typedef enum {
  DIRTY_WEIGHTS  = 1 << 0,   /* weight and bias bytes */
  DIRTY_MASKS    = 1 << 1,   /* mask bytes */
  DIRTY_METRICS  = 1 << 2,
  DIRTY_EVAL     = 1 << 3,
  DIRTY_GRID     = 1 << 4,
  DIRTY_SCORES   = 1 << 5,   /* w->scores no longer of this model */
  DIRTY_PREVIEW  = 1 << 6,   /* marks both previews stale (not kept in w->dirty) */
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

/* A preview kept across requests, and how old it is. */
typedef struct {
  PlPreview        *preview;      /* owned, or NULL */
  PlPreviewInputs **inputs;       /* borrowed: the worker's inputs it is made on */
  guint             max_samples;  /* of those inputs: 0 for all */
  gboolean          stale;        /* of older weights, masks, scores or strategy */
  gint64            built_at;
  gint64            build_usec;   /* its build and first run */
  guint64           built_step;   /* grad_norms->len when it was built */
} LivePreview;

/* The worker's state. Every field is the worker thread's alone (PlEngine's shared state is in
 * pl-engine-private.h); "owned" is freed by worker_free, "borrowed" is not. What the UI sees is
 * the draft: the parts of the next snapshot, edited where they change, and published as a copy
 * (publish()). */
struct _PlWorker
{
  PlEngine          *engine;        /* borrowed: dispose joins the worker before it goes */
  guint              threads;       /* for previews, evaluation, scores and the grid */
  PlSnapshot        *draft;         /* owned: the next snapshot; its n_layers is the model's */
  guint64            serial;        /* of the last snapshot published */
  gint64             publish_time;  /* of the last publish */
  PlSnapshotChanged  changed;       /* since the last publish */
  guint              dirty;         /* Dirty: parts of the draft to remake before a publish */
  gint64             weights_time;  /* of the last refresh of those parts (for throttling) */
  gint64             metrics_time;
  gint64             eval_time;

  /* data and model */
  PlData            *data;          /* owned, or NULL before a dataset */
  const PlDataset   *eval;          /* borrowed from data: val, or test without val */
  PlMlp             *model;         /* owned, or NULL */
  PlMlp             *initial;       /* owned: the weights to rewind to */
  float             *dense_params;  /* owned, (model->n_params): the parameters before the last
                                     * apply-prune, or NULL */
  PlTrainConfig      config;        /* of the last training run */
  GArray            *history;       /* owned: PlEpochRecord of every epoch */
  GArray            *grad_norms;    /* owned: float, every step's global gradient norm */
  GPtrArray         *undo;          /* owned: UndoEntry, newest last, at most UNDO_MAX */

  /* scores (of draft->strategy) and previews */
  PlScores          *scores;        /* owned, or NULL until computed */
  gint64             scores_time;   /* when computed */
  PlPreviewInputs   *inputs;        /* owned, or NULL until a preview needs it: every sample
                                     * of eval, feature-major; shared by the drag and sweeps */
  PlPreviewInputs   *sub_inputs;    /* owned, or NULL: TRAIN_PREVIEW_SAMPLES of eval */
  LivePreview        full;          /* on inputs: idle, and while training when the pointer
                                     * rests */
  LivePreview        sub;           /* on sub_inputs: during a drag while training */
  LivePreview       *shown;         /* borrowed: full or sub, the one of the newest preview */
  double             preview_value;         /* of the newest request taken */
  gboolean           preview_by_threshold;  /* of the newest request taken */
  float             *preview_masks;         /* owned, (model->n_params): of the newest preview */
  float             *preview_neuron_masks;  /* owned, (model->n_neurons) */
  PlCommand         *held_preview;          /* owned, or NULL: popped during a run, answered
                                             * once the run had its share */
  gint64             run_until;             /* no preview before, while training or sweeping */
  gint64             last_request_time;     /* when the newest request was taken */
  gint64             request_gap;           /* since the request before it */
  gboolean           timing_open;           /* the publish of the newest preview is to come */

  /* the command running */
  GCancellable      *cancellable;   /* borrowed: the long command's */
  gboolean           running;       /* inside pl_trainer_run or a sweep */
  gboolean           training;      /* inside pl_trainer_run */
  gboolean           quit;
  guint              batch_size;    /* of the training run */
  gint64             run_started;   /* of the training run */
  GArray            *curve_points[PL_N_SCORES];  /* owned: PlSweepPoint of draft->curves[i],
                                                  * growing while sweeping */

  /* 2-D data */
  gboolean           has_grid;      /* a decision grid over draft->grid_x0 … grid_y1 */
};

/* The draft's scores of every layer dropped. */
static void
clear_score_bytes (PlWorker *w)
{
  for (guint i = 0; i < w->draft->n_layers; i++)
    g_clear_pointer (&w->draft->layers[i].scores, pl_bytes_unref);
}

static void
clear_curves (PlWorker *w)
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
static void
clear_preview (PlWorker *w)
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
}

static void
worker_free (PlWorker *w)
{
  clear_curves (w);
  g_clear_pointer (&w->draft, pl_snapshot_unref);
  g_clear_pointer (&w->held_preview, _pl_command_free);
  pl_data_free (w->data);
  pl_mlp_free (w->model);
  pl_mlp_free (w->initial);
  g_free (w->dense_params);
  g_array_unref (w->history);
  g_array_unref (w->grad_norms);
  g_ptr_array_unref (w->undo);
  pl_scores_free (w->scores);
  pl_preview_free (w->full.preview);
  pl_preview_free (w->sub.preview);
  pl_preview_inputs_unref (w->inputs);
  pl_preview_inputs_unref (w->sub_inputs);
  g_free (w->preview_masks);
  g_free (w->preview_neuron_masks);
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
  _pl_engine_command_done (w->engine, cmd);
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
  if (dirty & DIRTY_PREVIEW)
    w->full.stale = w->sub.stale = TRUE;
  w->dirty |= dirty & ~DIRTY_PREVIEW;
}

static void
drop_previews (PlWorker *w)
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

static gboolean
ensure_scores (PlWorker  *w,
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

  blas = blas_begin (w);
  scores = pl_scores_compute (m, w->draft->strategy.score, w->data != NULL ? w->data->train : NULL,
                              &w->draft->strategy.score_options, error);
  blas_end (blas);
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
  clear_score_bytes (w);
  for (guint i = 0; i < m->n_layers; i++)
    if (w->scores->n[i] > 0)
      w->draft->layers[i].scores = g_bytes_new (w->scores->layer[i], w->scores->n[i] * sizeof (float));
  w->changed |= PL_SNAPSHOT_CHANGED_SCORES;
  return TRUE;
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
static gboolean
ensure_preview (PlWorker     *w,
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

/* Class probabilities of @model on the grid, (GRID_SIZE², n_out): pl_decision_grid. (transfer
 * full) */
static GBytes *
compute_grid (PlWorker    *w,
              const PlMlp *model)
{
  int blas = blas_begin (w);
  PlDecisionGrid *grid = pl_decision_grid (model, GRID_SIZE, w->draft->grid_x0, w->draft->grid_x1,
                                           w->draft->grid_y0, w->draft->grid_y1);
  gsize size = sizeof (float) * GRID_SIZE * GRID_SIZE * grid->n_out;

  blas_end (blas);
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

static void
compute_eval (PlWorker *w)
{
  g_autoptr(PlEvaluation) ev = NULL;
  int blas;

  w->dirty &= ~DIRTY_EVAL;
  w->draft->eval.valid = FALSE;
  g_clear_pointer (&w->draft->eval.class_accuracy, pl_bytes_unref);
  g_clear_pointer (&w->draft->eval.confusion, pl_bytes_unref);
  w->changed |= PL_SNAPSHOT_CHANGED_EVALUATION;
  if (w->model == NULL || w->eval == NULL || w->eval->n == 0 || !model_fits (w->model, w->data))
    return;

  blas = blas_begin (w);
  ev = pl_evaluate (w->model, w->eval, NULL);
  blas_end (blas);
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

  if (!due (w, &w->weights_time, PUBLISH_USEC, now))
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
              b = bytes_update (w->draft->layers[i].weights, l->w, nw * sizeof (float));
              g_clear_pointer (&w->draft->layers[i].weights, pl_bytes_unref);
              w->draft->layers[i].weights = b;
              b = bytes_update (w->draft->layers[i].biases, l->b, l->n_out * sizeof (float));
              g_clear_pointer (&w->draft->layers[i].biases, pl_bytes_unref);
              w->draft->layers[i].biases = b;
            }
          if (w->dirty & DIRTY_MASKS)
            {
              b = bytes_update (w->draft->layers[i].masks, l->w_mask, nw * sizeof (float));
              g_clear_pointer (&w->draft->layers[i].masks, pl_bytes_unref);
              w->draft->layers[i].masks = b;
              b = bytes_update (w->draft->layers[i].neuron_masks, l->neuron_mask, l->n_out * sizeof (float));
              g_clear_pointer (&w->draft->layers[i].neuron_masks, pl_bytes_unref);
              w->draft->layers[i].neuron_masks = b;
            }
        }
      w->changed |= (w->dirty & DIRTY_WEIGHTS ? PL_SNAPSHOT_CHANGED_WEIGHTS : 0)
                    | (w->dirty & DIRTY_MASKS ? PL_SNAPSHOT_CHANGED_MASKS : 0);
      w->dirty &= ~(DIRTY_WEIGHTS | DIRTY_MASKS);
    }
  if ((w->dirty & DIRTY_METRICS) && due (w, &w->metrics_time, METRICS_USEC, now))
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
  if ((w->dirty & DIRTY_EVAL) && !dragging && due (w, &w->eval_time, EVAL_USEC, now))
    compute_eval (w);
  if ((w->dirty & DIRTY_SCORES) && !dragging && (!w->running || now - w->scores_time >= SCORES_USEC))
    {
      g_autoptr(GError) error = NULL;

      /* a strategy that cannot be scored (no data yet) just shows no scores */
      if (!ensure_scores (w, &error))
        {
          g_clear_pointer (&w->scores, pl_scores_free);
          clear_score_bytes (w);
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
  if (w->draft->state != state || w->draft->command != command || w->draft->progress != progress)
    w->changed |= PL_SNAPSHOT_CHANGED_STATE;
  w->draft->state = state;
  w->draft->command = command;
  w->draft->progress = progress;
}

/* Sends a copy of the draft, remade where dirty and with the figures of this moment: the
 * serial, what changed, undo, how far the preview is behind, the training speed. */
static void
publish (PlWorker *w)
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
  d->scores_valid = w->scores != NULL;
  if (d->has_preview)
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

/* ───────────────────────────── model and data ───────────────────────────── */

static void
reset_model_state (PlWorker *w)
{
  clear_preview (w);
  clear_curves (w);
  g_ptr_array_set_size (w->undo, 0);
  g_array_set_size (w->history, 0);
  g_array_set_size (w->grad_norms, 0);
  g_clear_pointer (&w->dense_params, g_free);
  g_clear_pointer (&w->scores, pl_scores_free);
  drop_previews (w);
  w->draft->training.epoch = w->draft->training.epochs = 0;
  w->draft->training.step = w->draft->training.steps_total = 0;
  w->draft->training.batch_loss = 0.0;
  w->run_started = 0;
  w->draft->training.samples_per_second = 0.0;
  w->draft->training.fine_tune = FALSE;
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

  /* a draft with the model's layers, none of the old one's views */
  {
    PlSnapshot *d = _pl_snapshot_copy_resized (w->draft, 0);

    pl_snapshot_unref (w->draft);
    w->draft = _pl_snapshot_copy_resized (d, model->n_layers);
    pl_snapshot_unref (d);
  }
  for (guint i = 0; i < model->n_layers; i++)
    {
      w->draft->layers[i].n_in = model->layers[i].n_in;
      w->draft->layers[i].n_out = model->layers[i].n_out;
    }
  g_free (w->draft->arch);
  w->draft->arch = pl_mlp_arch (model);
  w->draft->activation = model->activation;
  w->draft->model_seed = seed;
  g_free (w->draft->model_path);
  w->draft->model_path = g_strdup (path);
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
  PlSnapshot *d = w->draft;

  pl_data_free (w->data);
  w->data = data;
  w->eval = data->val != NULL && data->val->n > 0 ? data->val : data->test;

  g_free (d->data_name);
  d->data_name = g_strdup (data->name);
  g_free (d->data_spec);
  d->data_spec = g_strdup (data->spec);
  d->n_features = data->n_features;
  d->n_classes = data->n_classes;
  d->image_width = data->image_width;
  d->image_height = data->image_height;
  g_strfreev (d->class_names);
  d->class_names = g_strdupv (data->class_names);
  d->n_train = train->n;
  d->n_val = data->val != NULL ? data->val->n : 0;
  d->n_test = data->test != NULL ? data->test->n : 0;
  d->eval_split = w->eval == data->val ? "validation" : "test";

  g_clear_pointer (&d->points, pl_bytes_unref);
  g_clear_pointer (&d->point_labels, pl_bytes_unref);
  d->grid_x0 = d->grid_x1 = d->grid_y0 = d->grid_y1 = 0.0;
  w->has_grid = data->n_features == 2 && train->n > 0;
  if (w->has_grid)
    {
      const PlDataset *sets[] = { data->train, data->val, data->test };

      d->points = g_bytes_new (train->x, sizeof (float) * 2 * train->n);
      d->point_labels = g_bytes_new (train->y, sizeof (guint32) * train->n);
      pl_decision_region (sets, G_N_ELEMENTS (sets), &d->grid_x0, &d->grid_x1, &d->grid_y0,
                          &d->grid_y1);
    }

  clear_preview (w);
  clear_curves (w);
  drop_previews (w);
  g_clear_pointer (&w->inputs, pl_preview_inputs_unref);
  g_clear_pointer (&w->sub_inputs, pl_preview_inputs_unref);
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
static gboolean
run_preview (PlWorker  *w,
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
      clear_preview (w);
      return FALSE;
    }
  if (!ensure_preview (w, lp, in_run, error))
    {
      clear_preview (w);
      return FALSE;
    }
  t1 = g_get_monotonic_time ();
  if (!pl_preview_run (lp->preview, w->preview_value, w->preview_by_threshold, &r, error))
    {
      clear_preview (w);
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
      GBytes *b;

      b = bytes_update (w->draft->layers[i].preview_masks, w->preview_masks + off, sizeof (float) * l->n_out * l->n_in);
      g_clear_pointer (&w->draft->layers[i].preview_masks, pl_bytes_unref);
      w->draft->layers[i].preview_masks = b;
      b = bytes_update (w->draft->layers[i].preview_neuron_masks, w->preview_neuron_masks + noff, sizeof (float) * l->n_out);
      g_clear_pointer (&w->draft->layers[i].preview_neuron_masks, pl_bytes_unref);
      w->draft->layers[i].preview_neuron_masks = b;
    }
  pl_metrics_compute (&w->draft->preview_metrics, m, NULL, w->preview_masks, w->preview_neuron_masks);
  touch (w, DIRTY_PGRID);
  w->changed |= PL_SNAPSHOT_CHANGED_PREVIEW;
  w->draft->preview_timing.rebuild = t1 - t0;
  w->draft->preview_timing.run = t2 - t1;
  w->draft->preview_timing.masks = g_get_monotonic_time () - t2;
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
  /* while training, a drag evaluates the fixed subsample; refresh_shown_preview() the whole
   * split when the pointer rests */
  if (!run_preview (w, in_run, in_run && w->eval != NULL && w->eval->n > TRAIN_PREVIEW_SAMPLES,
                    &error))
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
      g_free (w->draft->model_path);
      w->draft->model_path = g_strdup (cmd->text);
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

  w->draft->strategy = cmd->strategy;
  clear_preview (w);
  drop_previews (w);
  touch (w, DIRTY_SCORES | DIRTY_PREVIEW);
  /* scores now, also while training: the histogram shows them */
  if (!ensure_scores (w, &ignored))
    {
      g_clear_pointer (&w->scores, pl_scores_free);
      clear_score_bytes (w);
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
  if (!w->draft->has_preview)
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
  pl_strategy_to_prune_spec (&w->draft->strategy, &spec, w->preview_by_threshold, w->preview_value);
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
            pl_engine_command_to_string (cmd->kind));
      break;
    }
  _pl_command_free (cmd);
}

/* While training shows a preview and no drag is going on (no request for DRAG_GAP_USEC, nor
 * one waiting): one of the drag's subsample is done again at once on every evaluation sample
 * and the current weights; one of every sample follows the weights, rebuilt and run again
 * when rebuild_due(). */
static void
refresh_shown_preview (PlWorker *w)
{
  gint64 now = g_get_monotonic_time ();
  GError *error = NULL;

  if (!w->training || !w->draft->has_preview || w->shown == NULL
      || now - w->last_request_time <= DRAG_GAP_USEC)
    return;
  if (w->shown == &w->full
      && (w->full.preview == NULL || !rebuild_due (w, &w->full, now, now - w->last_request_time)))
    return;

  g_clear_pointer (&w->full.preview, pl_preview_free);
  if (!run_preview (w, TRUE, FALSE, &error))
    post_error (w, error);
  publish (w);
}

/* Between two steps of a long command: answers what waits, honours pause (training only), and
 * returns at once when nothing waits. */
static void
service (PlWorker *w)
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
          set_state (w, paused ? PL_ENGINE_STATE_PAUSED : PL_ENGINE_STATE_TRAINING,
                     w->draft->command, w->draft->progress);
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
        cmd = _pl_engine_queue_pop (engine, PAUSE_POLL_USEC);
      else if (g_atomic_int_get (&engine->queued) > 0)
        cmd = _pl_engine_queue_pop (engine, 0);
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
      w->draft->training.batch_loss = p->batch_loss;
      touch (w, DIRTY_HISTORY | DIRTY_WEIGHTS | DIRTY_METRICS | DIRTY_GRID | DIRTY_SCORES
                | DIRTY_PREVIEW);
    }
  w->draft->training.epoch = p->epoch;
  w->draft->training.epochs = p->epochs;
  w->draft->training.step = p->step;
  w->draft->training.steps_total = p->steps_total;
  w->draft->progress = p->steps_total > 0 ? (double) p->step / p->steps_total : -1.0;
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
  w->draft->training.fine_tune = fine_tune;
  w->draft->training.epoch = 0;
  w->draft->training.epochs = config.epochs;
  w->draft->training.step = 0;
  w->draft->training.steps_total = 0;
  w->batch_size = config.batch_size;
  w->run_started = g_get_monotonic_time ();
  w->draft->training.samples_per_second = 0.0;
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
  want_preview = w->draft->has_preview;
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

      if (!run_preview (w, FALSE, FALSE, &perror))
        post_error (w, perror);
    }
  g_clear_pointer (&w->sub.preview, pl_preview_free);
  set_state (w, PL_ENGINE_STATE_IDLE, PL_ENGINE_COMMAND_NONE, -1.0);
  publish (w);
  finish (w, cmd, error);
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
  g_array_prepend_val (w->curve_points[sweep->curve], p);
  g_clear_pointer (&w->draft->curves[sweep->curve].points, pl_bytes_unref);
  touch (w, DIRTY_CURVES);
  sweep->done++;
  set_state (w, PL_ENGINE_STATE_SWEEPING, sweep->cmd->kind, (double) sweep->done / sweep->total);
  if (g_get_monotonic_time () - w->publish_time >= PUBLISH_USEC)
    publish (w);
  service (w);
  return !w->quit;
}

static void
do_sweep (PlWorker  *w,
          PlCommand *cmd)
{
  GError *error = NULL;
  PlStrategy strategy = w->draft->strategy;
  Sweep sweep = { w, cmd, 0, 0, cmd->n_scores * cmd->points };

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
  /* The drag's preview makes way for the sweep's own (both share the evaluation inputs; each
   * holds the first layer's pre-activations, 6 MB on Fashion-MNIST's 5,000 validation images
   * with 784-300-100-10). A drag during the sweep builds it again, idle work after it. */
  drop_previews (w);
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
      guint curve = w->draft->n_curves;
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
      pl_strategy_to_prune_spec (&strategy, &spec, FALSE, 0.0);
      preview = pl_preview_new_shared (w->model, scores, &spec, ensure_inputs (w, &w->inputs, 0),
                                       w->threads, &error);
      if (preview == NULL)
        break;

      w->draft->curves[curve].score = cmd->scores[si];
      w->curve_points[curve] = g_array_new (FALSE, FALSE, sizeof (PlSweepPoint));
      w->draft->n_curves++;
      sweep.curve = curve;
      service (w);
      if (w->quit)
        break;
      /* from the sparsest point down (pl-sweep.h); the points are kept in increasing sparsity */
      if (!pl_sweep_run (preview, cmd->max, cmd->points, on_sweep_point, &sweep, cmd->cancellable,
                         &error)
          && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_clear_error (&error);   /* stopped: the points done are kept */
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
  if (!w->full.stale)
    return FALSE;

  if (w->draft->has_preview)
    {
      if (!run_preview (w, FALSE, FALSE, &error))
        post_error (w, error);
      publish (w);
    }
  else if (!ensure_preview (w, &w->full, FALSE, &error))
    {
      /* shown when the user asks for a preview; do not try again until something changes */
      g_clear_error (&error);
      w->full.stale = FALSE;
    }
  else if (w->changed != 0)
    publish (w);
  return TRUE;
}

gpointer
_pl_worker_main (gpointer data)
{
  PlWorker *w = data;
  PlEngine *engine = w->engine;

  while (!w->quit)
    {
      PlCommand *cmd;

      if (g_atomic_int_get (&engine->queued) == 0 && idle_work (w))
        continue;
      cmd = _pl_engine_queue_pop (engine, -1);
      handle (w, cmd);
    }

  worker_free (w);
  return NULL;
}

PlWorker *
_pl_worker_new (PlEngine *engine)
{
  PlWorker *w = g_new0 (PlWorker, 1);

  w->engine = engine;
  w->threads = engine->threads;
  w->draft = pl_snapshot_new (0);
  w->history = g_array_new (FALSE, FALSE, sizeof (PlEpochRecord));
  w->grad_norms = g_array_new (FALSE, FALSE, sizeof (float));
  w->undo = g_ptr_array_new_with_free_func (undo_entry_free);
  w->full.inputs = &w->inputs;
  w->sub.inputs = &w->sub_inputs;
  w->sub.max_samples = TRAIN_PREVIEW_SAMPLES;
  pl_train_config_init (&w->config);
  return w;
}

