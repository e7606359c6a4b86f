/* pl-engine-worker-private.h — the worker thread's state, shared by its three files
 *
 *   pl-engine-worker.c   the worker's life and its commands (data, model, prune, undo, …)
 *   pl-engine-publish.c  the draft snapshot: what is derived from the model, and publishing
 *   pl-engine-run.c      previews, and the long runs (training, sweeps) with previews during them
 *
 * Everything here belongs to the worker thread alone; what it shares with the main thread is in
 * pl-engine-private.h and guarded there.
 */
#pragma once

#include "pl-conv-preview.h"
#include "pl-conv-sweep.h"
#include "pl-engine-private.h"
#include "pl-preview.h"

G_BEGIN_DECLS

#define PUBLISH_USEC          (G_USEC_PER_SEC / 20)
#define METRICS_USEC          (G_USEC_PER_SEC / 4)
#define EVAL_USEC             (2 * G_USEC_PER_SEC)
#define SCORES_USEC           G_USEC_PER_SEC
#define PREVIEW_REFRESH_USEC  (2 * G_USEC_PER_SEC)
#define PREVIEW_MAX_AGE_USEC  (10 * G_USEC_PER_SEC)
#define DRAG_GAP_USEC         (G_USEC_PER_SEC * 3 / 10)
#define RUN_SHARE             0.5    /* of the time a long run gets during a drag, at least */
#define UNDO_MAX              16
#define GRID_SIZE             96
#define PAUSE_POLL_USEC       (G_USEC_PER_SEC / 10)
/* Evaluation samples of a preview during a drag while training (a fixed, evenly spaced
 * subsample of the evaluation split); the whole split when the pointer rests. On 784-300-100-10
 * a preview's run is about proportional to the samples (tests/bench-engine.c). 1024 samples give
 * the accuracy with a standard error of √(p(1−p)/1024) ≤ 1.6 points (1.1 at p = 0.85), less than
 * the step-to-step change of a network in training, and a run short enough to reach the next
 * frame more often than 2048 did (bench-gui while training on the 2-core EPYC: median 16.6 ms
 * against 28.4 in one run, 32 against 35 in a loaded one). */
#define TRAIN_PREVIEW_SAMPLES 1024

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
  DIRTY_FEATURES = 1 << 10,  /* a conv net's feature maps (of its own masks) */
  DIRTY_MODEL    = DIRTY_WEIGHTS | DIRTY_MASKS | DIRTY_METRICS | DIRTY_EVAL | DIRTY_GRID
                   | DIRTY_SCORES | DIRTY_PREVIEW | DIRTY_PGRID | DIRTY_FEATURES,
} Dirty;

/* What pl_engine_undo() goes back to: a dense model's parameters and masks, or a copy of the
 * conv net. */
typedef struct {
  float     *params;
  float     *masks;
  float     *neuron_masks;
  PlConvNet *conv;
} UndoEntry;

void _pl_undo_entry_free (gpointer data);

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
  PlDataOptions      data_options;  /* as @data was loaded with (for a session) */
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
  GArray            *curve_points[PL_SWEEP_MAX_CURVES];  /* owned: PlSweepPoint of
                                                          * draft->curves[i], growing while
                                                          * sweeping */

  /* 2-D data */
  gboolean           has_grid;      /* a decision grid over draft->grid_x0 … grid_y1 */

  /* a convolutional network (pl-engine-conv.c): while it is the model, @model and @initial
   * are NULL and the conv fields hold it */
  PlConvNet         *conv;          /* owned, or NULL for a dense network (or none) */
  PlConvNet         *conv_initial;  /* owned: the weights to rewind to */
  PlConvNet         *conv_dense;    /* owned, or NULL: before the last apply-prune (metrics) */
  float             *conv_scores;   /* owned, or NULL: the strategy's weight scores
                                     * (pl_conv_net_n_weights), or per filter for a structured
                                     * strategy (the conv layers' filters in order) */
  gboolean           conv_structured; /* the strategy prunes filters */
  gint64             conv_scores_usec; /* how long the last scoring took */
  PlConvPreview     *conv_preview;  /* owned, or NULL: the live preview (global weight scores) */
  gboolean           conv_preview_stale;
  PlConvNet         *conv_shown;    /* owned, or NULL: the network the newest preview shows */
  gint64             conv_preview_built;  /* when conv_preview was made … */
  guint64            conv_preview_step;   /* … and grad_norms->len then */
};

/* pl-engine-publish.c */
void      _pl_worker_touch             (PlWorker         *w,
                                        guint             dirty);
int       _pl_worker_blas_begin        (PlWorker         *w);
void      _pl_worker_blas_end          (int               before);
gboolean  _pl_worker_ensure_scores     (PlWorker         *w,
                                        GError          **error);
void      _pl_worker_clear_score_bytes (PlWorker         *w);
void      _pl_worker_clear_curves      (PlWorker         *w);
void      _pl_worker_clear_schedules   (PlWorker         *w);
void      _pl_worker_clear_preview     (PlWorker         *w);
/* *@slot becomes @data's bytes (the same GBytes when they did not change). */
void      _pl_worker_set_bytes         (GBytes          **slot,
                                        const void       *data,
                                        gsize             size);
/* The draft's evaluation of the model (dense or conv) on w->eval. */
void      _pl_worker_compute_eval      (PlWorker         *w);
void      _pl_worker_set_state         (PlWorker         *w,
                                        PlEngineState     state,
                                        PlEngineCommand   command,
                                        double            progress);
void      _pl_worker_publish           (PlWorker         *w);

/* pl-engine-run.c */
void      _pl_worker_drop_previews     (PlWorker         *w);
gboolean  _pl_worker_ensure_preview    (PlWorker         *w,
                                        LivePreview      *lp,
                                        gboolean          in_run,
                                        GError          **error);
gboolean  _pl_worker_run_preview       (PlWorker         *w,
                                        gboolean          in_run,
                                        gboolean          subsample,
                                        GError          **error);
void      _pl_worker_do_preview        (PlWorker         *w,
                                        PlCommand        *cmd,
                                        gboolean          in_run);
void      _pl_worker_refresh_shown_preview (PlWorker *w);
gint64    _pl_worker_rest_timeout      (PlWorker         *w);
void      _pl_worker_do_train          (PlWorker         *w,
                                        PlCommand        *cmd);
void      _pl_worker_do_sweep          (PlWorker         *w,
                                        PlCommand        *cmd);

/* pl-engine-run.c: for pl-engine-conv.c */
void      _pl_worker_take_request      (PlWorker         *w,
                                        PlCommand        *cmd);
void      _pl_worker_service           (PlWorker         *w);
void      _pl_worker_on_train_progress (const PlTrainProgress *p,
                                        gpointer          user_data);

/* pl-engine-publish.c: for pl-engine-conv.c */
gboolean  _pl_worker_due               (PlWorker         *w,
                                        gint64           *last,
                                        gint64            period,
                                        gint64            now);

/* pl-engine-conv.c: a convolutional network as the worker's model */
/* Runs @cmd when a conv net is the model and the command has its own conv version here, and
 * returns TRUE; the caller frees @cmd. */
gboolean  _pl_worker_conv_handle       (PlWorker         *w,
                                        PlCommand        *cmd);
/* Takes @net as the model (the dense one goes), its weights the ones to rewind to. */
void      _pl_worker_set_conv          (PlWorker         *w,
                                        PlConvNet        *net,
                                        guint64           seed,
                                        const char       *path);
/* FALSE with an error naming @path (the network's file, or NULL for a new one) when @net does
 * not fit the loaded data. */
gboolean  _pl_worker_check_conv_fits   (PlWorker         *w,
                                        const PlConvNet  *net,
                                        const char       *path,
                                        GError          **error);
/* The preview at w->preview_value (pl-engine-run.c's _pl_worker_run_preview for a conv net);
 * on failure the preview is off. */
gboolean  _pl_worker_conv_run_preview  (PlWorker         *w,
                                        gboolean          in_run,
                                        GError          **error);
/* Drops the conv net and everything of it (a dense model or none follows). */
void      _pl_worker_conv_clear        (PlWorker         *w);
/* The conv net takes @data's inputs and classes. */
gboolean  _pl_worker_conv_fits         (const PlConvNet  *net,
                                        const PlData     *data);
/* refresh() for a conv net: the draft's layers, metrics, evaluation, scores, feature maps. */
void      _pl_worker_conv_refresh      (PlWorker         *w,
                                        gint64            now,
                                        gboolean          dragging);
/* The pruner (pl-conv-sweep.h) of @strategy for w->conv, evaluated on w->eval, with its weight
 * scores computed into @scores (owned by the caller) when it prunes weights. */
gboolean  _pl_worker_conv_pruner       (PlWorker         *w,
                                        const PlStrategy *strategy,
                                        PlConvPruner     *pruner,
                                        float           **scores,
                                        GError          **error);
/* The model becomes @net (a procedure's last network, same architecture), the old one on the
 * undo stack. (transfer full: @net) */
void      _pl_worker_conv_adopt        (PlWorker         *w,
                                        PlConvNet        *net);
/* Idle work: the preview built ahead of the first drag. FALSE when there is nothing to do. */
gboolean  _pl_worker_conv_idle         (PlWorker         *w);
/* The data changed: the preview, scores and feature image are of the old data. */
void      _pl_worker_conv_data_changed (PlWorker         *w);

/* pl-engine-reproduce.c */
void      _pl_worker_do_reproduce      (PlWorker         *w,
                                        PlCommand        *cmd);

/* pl-engine-obs.c */
void      _pl_worker_do_prune_obs      (PlWorker         *w,
                                        PlCommand        *cmd);

/* pl-engine-worker.c */
gboolean  _pl_worker_model_fits        (const PlMlp      *model,
                                        const PlData     *data);
void      _pl_worker_post_error        (PlWorker         *w,
                                        GError           *error);
void      _pl_worker_finish            (PlWorker         *w,
                                        const PlCommand  *cmd,
                                        GError           *error);
void      _pl_worker_fail              (PlWorker         *w,
                                        const PlCommand  *cmd,
                                        GQuark            domain,
                                        gint              code,
                                        const char       *format,
                                        ...) G_GNUC_PRINTF (5, 6);
void      _pl_worker_push_undo         (PlWorker         *w);
/* A new model: its undo, history, scores, previews, curves and procedures go. */
void      _pl_worker_reset_model_state (PlWorker         *w);
/* Runs @cmd and frees it; during a long command only previews, strategy, clear-preview and
 * save, anything else fails as busy. */
void      _pl_worker_handle            (PlWorker         *w,
                                        PlCommand        *cmd);

G_END_DECLS
