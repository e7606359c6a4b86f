/* pl-session.h — a session file (.prunelab): everything needed to reopen a piece of work
 *
 * A session file is a safetensors file (pl-safetensors.h). Its `__metadata__` holds
 *   "format":   "prunelab-session"
 *   "arch", "activation"              as in a model file, for tools that look
 *   "manifest": the manifest, JSON text:
 *
 *   { "version": 1,                         PL_SESSION_VERSION; a newer one is refused
 *     "software": "PruneLab 0.1.0", "created": "2026-12-02T16:00:00Z",
 *     "tensors_sha256": HEX,                SHA-256 of the data buffer (every tensor's bytes)
 *     "model":    { "arch", "activation", "seed" },
 *     "data":     { "spec", "val_size", "standardize", "split_seed", "max_train",
 *                   "sha256", "n_train", "n_val", "n_test" },
 *     "training": { "epochs", "batch_size", "optimizer", "lr", "momentum", "nesterov",
 *                   "beta1", "beta2", "eps", "weight_decay", "l1", "clip_value", "clip_norm",
 *                   "schedule", "step_epochs", "step_gamma", "seed" },
 *     "strategy": { "score", "scope", "invert", "exclude_output", "allow_empty",
 *                   "score_batches", "score_batch_size", "score_seed", "entropy_bins" },
 *     "slider":   { "by_threshold", "value" },
 *     "lesson":   null | { "id", "step" },
 *     "history":  { "epochs" },             rows of the tensor "history"
 *     "grad_norms": { "steps" },            length of the tensor "grad_norms"
 *     "sweep":    [ { "score", "seed", "points" }, … ] }   curve i is the tensor "sweep.i"
 *
 * Seeds are decimal strings (JSON numbers cannot hold every guint64 exactly).
 * The tensors:
 *   layers.N.weight, layers.N.bias, layers.N.weight_mask    F32: the model and its masks
 *   initial.layers.N.weight, initial.layers.N.bias          F32: the weights rewind returns to
 *   history      F64 [epochs, 7]: epoch, train_loss, train_accuracy, val_loss, val_accuracy,
 *                lr, seconds (PlEpochRecord; NaN where there was no validation data)
 *   grad_norms   F32 [steps]: the global gradient norm of every training step
 *   sweep.I      F64 [points, 5 + layers]: target, sparsity, structural_sparsity, accuracy,
 *                loss, then each layer's sparsity (PlSweepPoint)
 * Numbers are stored in binary, so a round trip gives them back bit for bit.
 *
 * Loading checks everything: the container (pl-safetensors.h), the format and version, the
 * checksum of the tensor data (an edited or damaged byte is found), every manifest member's
 * type and range (unknown members are refused), names of scores, optimisers and schedules,
 * that both models have the manifest's architecture, and that no tensor is left over. A
 * failure is a PL_FORMAT_ERROR (G_FILE_ERROR for a file that cannot be read) whose message
 * names the file and the problem ("“a.prunelab”: training.lr: -1 is out of range …").
 */
#pragma once

#include <glib.h>

#include "pl-dataset.h"
#include "pl-mlp.h"
#include "pl-snapshot.h"
#include "pl-train.h"

G_BEGIN_DECLS

#define PL_SESSION_FORMAT    "prunelab-session"
#define PL_SESSION_VERSION   1
#define PL_SESSION_EXTENSION ".prunelab"
#define PL_SESSION_MIME_TYPE "application/x-prunelab"

/* Limits of what a session may hold (far above what a user makes). */
#define PL_SESSION_MAX_EPOCHS  1000000
#define PL_SESSION_MAX_STEPS   100000000
#define PL_SESSION_MAX_CURVES  64
#define PL_SESSION_MAX_POINTS  10000

typedef struct {
  PlScoreKind  score;
  guint64      seed;            /* of the score (PlSweepCurve.seed) */
  GArray      *points;          /* owned: PlSweepPoint, in order of target; layer_sparsity
                                 * beyond the model's layers is 0 */
} PlSessionCurve;

typedef struct {
  /* Written by the saver, read back on loading */
  char          *software;      /* owned: "PruneLab 0.1.0" */
  char          *created;       /* owned: ISO 8601, UTC */

  /* The data, loaded again from the spec and checked against the hash */
  char          *data_spec;     /* owned */
  PlDataOptions  data_options;
  char          *data_sha256;   /* owned: pl_session_hash_data() of the data as saved */
  guint          n_train, n_val, n_test;

  /* The model */
  PlMlp         *model;         /* owned: weights, biases and masks */
  PlMlp         *initial;       /* owned: the weights rewind returns to (masks all 1) */
  guint64        model_seed;    /* 0 for a model loaded from a file */

  /* Training */
  PlTrainConfig  train;         /* the settings of the last run (threads not kept: 1) */
  GArray        *history;       /* owned: PlEpochRecord */
  GArray        *grad_norms;    /* owned: float */

  /* Pruning */
  PlStrategy     strategy;
  gboolean       slider_by_threshold;
  double         slider;        /* a target sparsity in [0, 1], or a score threshold */
  GArray        *curves;        /* owned: PlSessionCurve (cleared with the array) */

  /* Classroom */
  char          *lesson_id;     /* owned: NULL without a lesson */
  guint          lesson_step;   /* 0-based */
} PlSession;

/* An empty session: default training settings and strategy, slider at 0, no model, no
 * data, empty history and curves. (transfer full) */
PlSession   *pl_session_new          (void);
void         pl_session_free         (PlSession       *self);

/* Takes @model and @initial (or a copy of @model when NULL), whose masks are set to 1: the
 * model the session saves and its rewind weights. (transfer full: @model, @initial) */
void         pl_session_set_model    (PlSession       *self,
                                      PlMlp           *model,
                                      PlMlp           *initial);
/* Records @data's spec, options, sizes and hash. */
void         pl_session_set_data     (PlSession       *self,
                                      const PlData    *data,
                                      const PlDataOptions *options);
/* Adds a sweep curve (copies @points, PlSweepPoint). */
void         pl_session_add_curve    (PlSession       *self,
                                      PlScoreKind      score,
                                      guint64          seed,
                                      const PlSweepPoint *points,
                                      guint            n_points);

/* The session file's bytes; needs a model and data. FALSE when a parameter is not finite.
 * (transfer full) */
GBytes      *pl_session_to_bytes     (const PlSession *self,
                                      const char      *path,
                                      GError         **error);
/* Atomic (pl_file_save()). */
gboolean     pl_session_save         (const PlSession *self,
                                      const char      *path,
                                      GError         **error);
/* (transfer full) */
PlSession   *pl_session_load         (const char      *path,
                                      GError         **error);
PlSession   *pl_session_load_bytes   (GBytes          *bytes,
                                      const char      *display_name,
                                      GError         **error);

/* SHA-256 (lower-case hex) of the data as loaded, standardisation and splits applied: the
 * sizes, then each split's features (little-endian float32) and labels (little-endian
 * uint32), train, validation, test. (transfer full) */
char        *pl_session_hash_data    (const PlData    *data);
/* Fails (PL_FORMAT_ERROR_MISMATCH, naming @display_name) when @data is not the data the
 * session was saved with: another hash, or a shape the model does not take. */
gboolean     pl_session_check_data   (const PlSession *self,
                                      const PlData    *data,
                                      const char      *display_name,
                                      GError         **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PlSession, pl_session_free)

G_END_DECLS
