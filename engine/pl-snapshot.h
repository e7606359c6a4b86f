/* pl-snapshot.h — what the engine thread shows the UI: an immutable, reference-counted value
 *
 * A PlSnapshot is an atomic rc-box made on the engine thread and handed to the main context;
 * after it is published nobody writes to it, so any thread may read it while holding a
 * reference. Large arrays are GBytes shared between snapshots while they do not change (compare
 * the pointers, or g_bytes_equal, to skip redrawing). All arrays are in native byte order.
 *
 * To change a snapshot, copy it with pl_snapshot_copy() (which refs the shared parts) and edit
 * the copy.
 *
 * Which split is evaluated: `eval` and every preview use the validation split (thresholds are
 * chosen on validation data, DESIGN.md), or the test split when the data has no validation
 * samples (val_size 0); `eval_split` says which.
 */
#pragma once

#include <glib-object.h>

#include "pl-conv.h"
#include "pl-engine-types.h"
#include "pl-metrics.h"
#include "pl-mlp.h"
#include "pl-preview.h"
#include "pl-prune.h"
#include "pl-schedule.h"
#include "pl-score.h"
#include "pl-sweep.h"
#include "pl-train.h"

G_BEGIN_DECLS


/* What changed since the snapshot the main thread received before this one (flags of
 * snapshots replaced before delivery are merged in, so nothing is missed). */
typedef enum {
  PL_SNAPSHOT_CHANGED_STATE      = 1 << 0,   /* state, command, progress, can_undo */
  PL_SNAPSHOT_CHANGED_DATA       = 1 << 1,   /* the dataset: name, classes, points */
  PL_SNAPSHOT_CHANGED_MODEL      = 1 << 2,   /* architecture or activation: a new model */
  PL_SNAPSHOT_CHANGED_WEIGHTS    = 1 << 3,   /* layers[].weights, biases, metrics */
  PL_SNAPSHOT_CHANGED_MASKS      = 1 << 4,   /* layers[].masks, neuron_masks, metrics */
  PL_SNAPSHOT_CHANGED_SCORES     = 1 << 5,   /* layers[].scores, strategy, score range */
  PL_SNAPSHOT_CHANGED_PREVIEW    = 1 << 6,   /* preview, preview_metrics, layers[].preview_* */
  PL_SNAPSHOT_CHANGED_TRAINING   = 1 << 7,   /* training progress, history, grad norms */
  PL_SNAPSHOT_CHANGED_EVALUATION = 1 << 8,   /* eval (confusion matrix) */
  PL_SNAPSHOT_CHANGED_GRID       = 1 << 9,   /* decision grids (2-D data) */
  PL_SNAPSHOT_CHANGED_SWEEP      = 1 << 10,  /* sweep curves */
  PL_SNAPSHOT_CHANGED_FEATURES   = 1 << 11,  /* a conv net's stages[].maps, preview_maps and
                                              * the feature image (feature_*) */
} PlSnapshotChanged;



/* A layer with weights. Of a dense network every layer; of a convolutional network the conv
 * layers come first, each as a matrix of its filters (n_out = c_out rows of n_in = c_in·k·k,
 * a filter's (c_in, k, k) weights flattened in the order of PlConvNet), neuron_masks its
 * filter masks, then the dense head's layers. */
typedef struct {
  guint    n_in;
  guint    n_out;
  GBytes  *weights;               /* float (n_out, n_in) row-major; pruned entries are 0 */
  GBytes  *biases;                /* float (n_out) */
  GBytes  *masks;                 /* float (n_out, n_in): 1 kept, 0 pruned */
  GBytes  *neuron_masks;          /* float (n_out): 1 alive, 0 dead; all 1 on the output layer */
  GBytes  *scores;                /* float of the strategy's score: (n_out, n_in) per weight,
                                   * (n_out) per neuron; NULL when not computed yet and for the
                                   * output layer of a neuron score */
  GBytes  *preview_masks;         /* float (n_out, n_in): the masks the preview would give;
                                   * NULL without a preview */
  GBytes  *preview_neuron_masks;  /* float (n_out), as neuron_masks; NULL without a preview */
} PlLayerView;

/* One stage of a convolutional network's front end (a conv or a pool layer, in order) and its
 * feature maps for one evaluation image (PlSnapshot.feature_*): the activations after the
 * stage (a conv layer's after its activation function and filter mask), as pl_conv_forward
 * leaves them in pl_conv_work_activation(). */
typedef struct {
  PlConvLayerKind kind;
  guint    c_in, h_in, w_in;
  guint    c_out, h_out, w_out;
  guint    k;                     /* kernel (conv) or window and stride (pool) */
  guint    pad;                   /* conv: zero padding on every side */
  gint     layer;                 /* conv: its index in PlSnapshot.layers[]; pool: -1 */
  GBytes  *maps;                  /* float (c_out, h_out, w_out) of the feature image with the
                                   * model's masks; NULL without data */
  GBytes  *preview_maps;          /* the same with the preview masks; NULL without a preview */
} PlConvStageView;

/* The current evaluation of the model (its own masks, no preview) on eval_split. While training
 * it is remade every ~2 s (each epoch's validation figures are in training.history); exact
 * when idle. */
typedef struct {
  gboolean  valid;                /* FALSE until computed (no data or no model) */
  guint     n;                    /* samples */
  guint     n_classes;            /* the model's outputs */
  double    loss;
  double    accuracy;
  GBytes   *class_accuracy;       /* double (n_classes); NaN for a class with no sample */
  GBytes   *confusion;            /* guint32 (n_classes, n_classes): [true][predicted] */
} PlSnapshotEval;

typedef struct {
  gboolean  fine_tune;            /* the run is a fine-tune (or the last run was) */
  guint     epoch;                /* 1-based within the run; 0 before the first step */
  guint     epochs;               /* of the run */
  guint64   step;                 /* steps done in the run */
  guint64   steps_total;
  double    batch_loss;
  double    samples_per_second;   /* of the run so far */
  GBytes   *history;              /* PlEpochRecord of every epoch of this model, over all runs
                                   * (train and fine-tune), epoch numbers counting on */
  GBytes   *grad_norms;           /* float: global gradient norm of every step, all runs */
} PlSnapshotTraining;

typedef struct {
  double  target;                 /* the target sparsity asked for */
  double  sparsity;               /* reached: pruned / weights */
  double  structural_sparsity;    /* dead hidden neurons / hidden neurons */
  double  accuracy;               /* on eval_split */
  double  loss;
  double  layer_sparsity[PL_MLP_MAX_LAYERS];  /* pruned / weights of each layer */
} PlSweepPoint;

typedef struct {
  PlScoreKind  score;
  guint64      seed;              /* of the score (its batches, its random draw) */
  GBytes      *points;            /* PlSweepPoint, in order of target; grows while sweeping */
} PlSweepCurve;

/* A sweep's curves: one per score and seed. */
#define PL_SWEEP_MAX_CURVES (PL_N_SCORES * PL_SWEEP_MAX_SEEDS)

/* Where the time of the newest preview went, in µs of g_get_monotonic_time(), for the
 * benchmarks (tests/bench-engine.c prints the breakdown). sent + queued + held + rebuild + run
 * + masks + refresh ≈ published; the delivery to the main loop follows. */
typedef struct {
  gint64  sent;        /* when pl_engine_preview() stored the request's newest value */
  gint64  queued;      /* sent → popped by the worker: the end of a training step, or other
                        * commands before it */
  gint64  held;        /* popped → run: held back so that a training keeps its share */
  gint64  rebuild;     /* a new PlPreview: scores, sorting (0 when the last one was kept) */
  gint64  run;         /* pl_preview_run: the first layer brought up to date, the upper layers */
  gint64  masks;       /* the preview's masks into the snapshot, its metrics */
  gint64  refresh;     /* the rest of the snapshot remade before the publish */
  gint64  published;   /* when the snapshot was handed to the main context */
} PlPreviewTiming;

typedef struct {
  guint64            serial;         /* grows with each snapshot the engine publishes */
  PlSnapshotChanged  changed;

  /* What the engine does */
  PlEngineState      state;
  PlEngineCommand    command;        /* the command running (NONE when idle) */
  double             progress;       /* 0..1 of the command running; < 0 when unknown */
  char              *progress_text;  /* owned: the stage of the command running, translated
                                      * (reproduce: "seed 0: training the dense network"),
                                      * or NULL */
  gboolean           can_undo;
  guint              undo_depth;

  /* The dataset (data_name NULL before one is loaded) */
  char              *data_name;      /* owned */
  char              *data_spec;      /* owned */
  guint              n_features;
  guint              n_classes;
  guint              image_width;    /* 0 when the features are not an image */
  guint              image_height;
  char             **class_names;    /* owned, NULL-terminated; NULL without data */
  guint              n_train, n_val, n_test;
  const char        *eval_split;     /* "validation" or "test" (static string) */
  /* 2-D data only (n_features == 2), else NULL: the training points and the decision grid
   * of class probabilities over [grid_x0, grid_x1] × [grid_y0, grid_y1] (cell centres),
   * in the model's (standardised) feature space. */
  GBytes            *points;         /* float (n_points, 2) */
  GBytes            *point_labels;   /* guint32 (n_points) */
  guint              grid_size;      /* grid is grid_size × grid_size (96), 0 without */
  double             grid_x0, grid_x1, grid_y0, grid_y1;
  GBytes            *grid;           /* float (grid_size [y], grid_size [x], n_out): class
                                      * probabilities of the model with its masks (n_out: the
                                      * output layer's size, ≥ n_classes); row 0 is y0 */
  GBytes            *preview_grid;   /* the same with the preview masks; NULL without preview */

  /* The model (arch NULL before one exists) */
  char              *arch;           /* owned: "784-300-100-10" */
  PlActivation       activation;
  guint64            model_seed;     /* initialisation seed; 0 for a loaded model */
  char              *model_path;     /* owned: loaded from / saved to, else NULL */
  PlMetrics          metrics;        /* of the model with its own masks (while training,
                                      * remade ~4 times a second) */
  PlSnapshotEval     eval;

  /* The strategy and its scores (layers[].scores) */
  PlStrategy         strategy;
  gboolean           scores_valid;
  double             score_min;      /* over the candidate weights/neurons (not pruned, in
                                      * scope): the range of a threshold slider */
  double             score_max;

  /* The newest answered preview */
  gboolean           has_preview;
  gboolean           preview_by_threshold;
  guint64            preview_request;   /* the id pl_engine_preview() returned for the
                                         * newest request the worker took, also when its
                                         * preview was dropped since (apply-prune, undo, …):
                                         * requests up to it need no more waiting */
  PlPreviewResult    preview;           /* preview.value is the value asked for */
  PlMetrics          preview_metrics;   /* of the model with the preview masks */
  gboolean           preview_subsample; /* preview.n is a fixed subsample of eval_split
                                         * (TRAIN_PREVIEW_SAMPLES, evenly spaced): during a
                                         * drag while training; every sample when FALSE */
  guint64            preview_steps_behind; /* training steps between the weights the preview
                                            * was computed on and layers[].weights: 0 when
                                            * idle, small while training */
  guint64            previews_requested; /* pl_engine_preview() calls so far */
  guint64            previews_computed;  /* previews actually run (requests coalesce) */
  PlPreviewTiming    preview_timing;     /* of the newest preview computed */

  PlSnapshotTraining training;

  guint              n_curves;
  PlSweepCurve       curves[PL_SWEEP_MAX_CURVES];  /* by score, then seed */
  /* the last pl_engine_run_schedule() of each procedure (PlMethod): PlSchedulePoint (level 0 the
   * start), NULL for one not run on this model */
  GBytes            *schedules[PL_N_METHODS];

  /* A convolutional network's front end (n_stages 0 for a dense network, and then the
   * feature fields are empty): its stages in order, and the evaluation image their maps are
   * of (chosen with pl_engine_set_feature_image()). */
  guint              n_stages;
  PlConvStageView    stages[PL_CONV_MAX_LAYERS];
  guint              feature_index;  /* of the image, in eval_split */
  guint              feature_label;  /* its class */
  GBytes            *feature_input;  /* float (c, h, w) of the image as the network reads it
                                      * (standardised); NULL without data */

  guint              n_layers;       /* 0 without a model */
  PlLayerView        layers[];
} PlSnapshot;

#define PL_TYPE_SNAPSHOT (pl_snapshot_get_type ())

GType        pl_snapshot_get_type         (void) G_GNUC_CONST;

/* An empty snapshot (serial 0, idle, no data, no model) with room for @n_layers layers.
 * (transfer full) */
PlSnapshot  *pl_snapshot_new              (guint              n_layers);
PlSnapshot  *pl_snapshot_ref              (PlSnapshot        *self);
void         pl_snapshot_unref            (PlSnapshot        *self);
/* A copy that shares (refs) every GBytes and duplicates the strings. (transfer full) */
PlSnapshot  *pl_snapshot_copy             (const PlSnapshot  *self);

/* A model built from the snapshot's weights, biases and masks — with the preview masks
 * applied instead when @with_preview and the snapshot has a preview. NULL without a model and
 * for a convolutional network (n_stages > 0). (transfer full) */
PlMlp       *pl_snapshot_build_model      (const PlSnapshot  *self,
                                           gboolean           with_preview);

/* The typed arrays of a GBytes field (NULL-safe); @n receives the element count. */
const float   *pl_snapshot_floats         (GBytes            *bytes,
                                           gsize             *n);
const guint32 *pl_snapshot_uint32s        (GBytes            *bytes,
                                           gsize             *n);
const double  *pl_snapshot_doubles        (GBytes            *bytes,
                                           gsize             *n);
/* History as an array of PlEpochRecord and sweep points as PlSweepPoint. */
const PlEpochRecord *pl_snapshot_history  (const PlSnapshot  *self,
                                           gsize             *n);
const PlSweepPoint  *pl_sweep_curve_points (const PlSweepCurve *curve,
                                            gsize              *n);


G_DEFINE_AUTOPTR_CLEANUP_FUNC (PlSnapshot, pl_snapshot_unref)

G_END_DECLS
