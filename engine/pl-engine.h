/* pl-engine.h — the engine thread: one worker that owns the data, the model and the trainer
 *
 * The UI (or the CLI) calls the pl_engine_*() commands from the thread whose main context was
 * the thread-default when the engine was made (normally the main thread). Commands are queued
 * and run in order on the worker; none blocks the caller. Results come back on that main
 * context as immutable PlSnapshot values:
 *
 *   ::snapshot (PlSnapshot *snapshot)    the newest state; snapshots published faster than the
 *                                        main loop takes them replace each other (at most one
 *                                        idle is pending), their `changed` flags merged; during
 *                                        training at most ~20 per second
 *   ::error (GError *error)              a command failed (bad file, bad spec, divergence, busy):
 *                                        the message says what and names the file; the engine
 *                                        keeps running and its state is as before the command
 *                                        (after divergence: the last good weights)
 *   ::done (guint command, guint id, gboolean ok)
 *                                        a command (PlEngineCommand) finished, after the
 *                                        snapshot that shows its result; @id is what the
 *                                        command function returned; @ok is FALSE exactly when
 *                                        ::error was emitted for it (a run stopped with
 *                                        pl_engine_stop() is ok); not emitted for previews
 *
 * Signals are only emitted on the main context, never on the worker. Errors and done events
 * are not coalesced; they follow the newest snapshot, in order.
 *
 * Previews coalesce: pl_engine_preview() overwrites one pending request, and the worker takes
 * the newest; while a preview is computed, only the newest waiting value is kept. A preview uses
 * a PlPreview built once per change of model, masks, strategy or data (when the worker is idle,
 * so that the first drag is fast), on the validation split (the test split when there is none).
 * The preview shown stays until clear-preview, apply-prune, set-strategy, undo, rewind, a new or
 * loaded model or new data; a shown preview is redone on the final weights after training.
 *
 * Previews while training: the worker answers them between two training steps (training waits
 * meanwhile, and gets at least a third of the time during a continuous drag), from a PlPreview of
 * recent weights: it is rebuilt when ≥ 2 s old, but not in the middle of a drag (requests less
 * than 0.3 s apart) unless ≥ 10 s old; a preview shown is refreshed that way between drags, too.
 * PlSnapshot.preview_steps_behind says how many steps old its weights are. Measured with
 * tests/bench-engine (784-300-100-10, 10,000 samples, 2 cores): request → snapshot median
 * ~10-25 ms idle and ~20-30 ms while training. Previews during a sweep are answered between two
 * of its points, and the sweep, too, keeps at least a third of the time during a drag.
 *
 * While training (or paused) or sweeping the worker takes: preview, clear-preview, set-strategy,
 * save-model, pause, resume, stop. Other commands that arrive then fail with PL_ENGINE_ERROR_BUSY.
 *
 * A reproduce command (pl_engine_reproduce) is long, too: commands sent while it runs wait
 * until it ends (pl_engine_stop() ends it early).
 *
 * Undo: apply-prune, prune-obs, fine-tune, rewind and train push the parameters and masks they change;
 * pl_engine_undo() restores the newest (up to 16 kept). A new or loaded model clears the stack.
 *
 * Convolutional networks (pl-conv.h): pl_engine_new_model() with a conv architecture ("lenet5",
 * "1x28x28-c6k5p2-…") or pl_engine_load_model() of a conv safetensors file makes one the model
 * (pl-engine-conv.c). The snapshot then has n_stages > 0 (its conv and pool layers with the
 * feature maps of the image pl_engine_set_feature_image() chose) and layers[] holds the conv
 * layers as the matrices of their filters before the dense ones. Training, fine-tuning, the
 * strategy and the live preview (weights by a conv weight score, global or per layer; whole
 * filters by neuron-l1 / neuron-l2 norms or apoz / activation / neuron-taylor), apply-prune,
 * undo, rewind, saving, sweeps and the oneshot and iterative procedures work on it; sessions,
 * prune-obs, measure-sparse and export-compact fail with G_IO_ERROR_NOT_SUPPORTED, as does a
 * strategy the network does not take (at its preview).
 *
 * Disposing the engine cancels what runs, stops the worker thread and joins it; drop the last
 * reference on the main thread.
 */
#pragma once

#include <gio/gio.h>

#include "pl-dataset.h"
#include "pl-latency.h"
#include "pl-mlp.h"
#include "pl-reproduce.h"
#include "pl-schedule.h"
#include "pl-score.h"
#include "pl-session.h"
#include "pl-snapshot.h"
#include "pl-train.h"

G_BEGIN_DECLS

#define PL_ENGINE_ERROR (pl_engine_error_quark ())

typedef enum {
  PL_ENGINE_ERROR_NO_DATA,     /* the command needs a dataset */
  PL_ENGINE_ERROR_NO_MODEL,    /* the command needs a model */
  PL_ENGINE_ERROR_NO_PREVIEW,  /* apply-prune without a preview value */
  PL_ENGINE_ERROR_BUSY,        /* not possible while training or sweeping */
  PL_ENGINE_ERROR_NOTHING_TO_UNDO,
  PL_ENGINE_ERROR_FAILED,
} PlEngineError;

GQuark pl_engine_error_quark (void);

#define PL_TYPE_ENGINE (pl_engine_get_type ())

G_DECLARE_FINAL_TYPE (PlEngine, pl_engine, PL, ENGINE, GObject)

/* Captures the thread-default main context (g_main_context_ref_thread_default) for delivery.
 * @threads: threads for previews, evaluation and scoring; 0 = one less than the number of
 * processors (at least 1, at most 4), so that the UI thread keeps a core. Training uses
 * PlTrainConfig.threads (1 leaves the other cores to the UI). (transfer full) */
PlEngine         *pl_engine_new              (guint                 threads);

/* The newest snapshot delivered on the main context (never NULL: an empty one at first).
 * (transfer none) */
PlSnapshot       *pl_engine_get_snapshot     (PlEngine             *self);

/* Every command returns an id (> 0), the one given to ::done. */

/* Loads a dataset by spec (pl-dataset.h); @options NULL for the defaults. When there is no
 * model yet, or the model does not fit the new data (inputs, classes), a default one is made
 * (IN-64-64-OUT for 2-D data, IN-300-100-OUT otherwise, ReLU, seed 1), so that something
 * shows at once; pl_engine_new_model() replaces it. */
guint             pl_engine_load_data        (PlEngine             *self,
                                              const char           *spec,
                                              const PlDataOptions  *options);
/* The same with data made by the caller (tests, benchmarks). (transfer full: @data) */
guint             pl_engine_set_data         (PlEngine             *self,
                                              PlData               *data);
/* A fresh model. @arch: "2-64-64-3", or NULL for the default for the data (needs data);
 * "IN" and "OUT" may stand for the data's sizes ("IN-300-100-OUT"); or a convolutional network
 * (pl_conv_arch_is_conv: "lenet5", "1x28x28-c6k5p2-m2-…"), which must fit the data's images.
 * Initialised from @seed; the initial weights are kept for pl_engine_rewind(). */
guint             pl_engine_new_model        (PlEngine             *self,
                                              const char           *arch,
                                              PlActivation          activation,
                                              guint64               seed);
/* safetensors (pl-safetensors.h); masks in the file are kept; its weights become the ones
 * pl_engine_rewind() goes back to. */
guint             pl_engine_load_model       (PlEngine             *self,
                                              const char           *path);
guint             pl_engine_save_model       (PlEngine             *self,
                                              const char           *path);

/* Opens a session (pl-session.h) loaded by the caller: its data from the spec, checked against
 * the session's hash, then its model and masks, initial weights (for rewind), training settings
 * and history, strategy (scores computed) and sweep curves. The slider and the lesson are the
 * caller's to restore. On failure (the data cannot be loaded or are not the session's, the
 * model does not fit them) the engine stays as it was; @display_name names the session in
 * the message. (transfer full: @session) */
guint             pl_engine_load_session     (PlEngine             *self,
                                              PlSession            *session,
                                              const char           *display_name);
/* Saves the engine's state as a session: @session (from pl_session_new(), without a model)
 * brings what the UI holds (slider, lesson), the engine fills in the rest. Needs data and a
 * model; atomic. (transfer full: @session) */
guint             pl_engine_save_session     (PlEngine             *self,
                                              const char           *path,
                                              PlSession            *session);

/* Trains with @config (copied) on the training split, validating after each epoch. Runs
 * until config->epochs are done, pl_engine_stop() or divergence. */
guint             pl_engine_train            (PlEngine             *self,
                                              const PlTrainConfig  *config);
/* Masked fine-tuning: the last training config (or the defaults) with @epochs and @lr. */
guint             pl_engine_fine_tune        (PlEngine             *self,
                                              guint                 epochs,
                                              double                lr);
/* Pause and resume training or fine-tuning (immediate, not queued behind other commands). */
void              pl_engine_pause            (PlEngine             *self);
void              pl_engine_resume           (PlEngine             *self);
/* Cancels the long commands running or queued (train, fine-tune, sweep); what finished is
 * kept (training: the weights of the last finished step). Immediate. */
void              pl_engine_stop             (PlEngine             *self);

/* Sets the strategy (copied) and recomputes the scores; the preview shown is dropped (send a new
 * value). Also while training. */
guint             pl_engine_set_strategy     (PlEngine             *self,
                                              const PlStrategy     *strategy);
/* Asks for a preview of @value: a score threshold when @by_threshold, else a target sparsity
 * in [0, 1]. Coalesces with the pending request. Returns the request id that
 * PlSnapshot.preview_request carries when the answer arrives. */
guint64           pl_engine_preview          (PlEngine             *self,
                                              double                value,
                                              gboolean              by_threshold);
/* Main thread: blocks at most @timeout_usec until the worker has posted the answer to preview
 * @request (an id of pl_engine_preview(); 0 or one already delivered returns at once), and
 * then delivers what is pending (the "snapshot" signal, events) before returning, so that the
 * frame drawn next shows the answer instead of the frame after. FALSE on a timeout: the answer
 * comes as usual. A slider's handler calls it with a few milliseconds. */
gboolean          pl_engine_wait_for_preview (PlEngine             *self,
                                              guint64               request,
                                              gint64                timeout_usec);
/* A convolutional network's feature maps (PlSnapshot.stages[].maps, preview_maps) are of
 * evaluation image @index (of eval_split, taken modulo its size); 0 at first. Also while
 * training. For a dense network it only sets PlSnapshot.feature_index. */
guint             pl_engine_set_feature_image (PlEngine           *self,
                                               guint               index);
/* Drops the preview (the snapshots show the model's own masks only). */
guint             pl_engine_clear_preview    (PlEngine             *self);
/* Prunes the model with the newest value given to pl_engine_preview() (the masks that preview
 * shows), pushing the old parameters and masks on the undo stack; fails with
 * PL_ENGINE_ERROR_NO_PREVIEW when no preview is shown. The preview is cleared. */
guint             pl_engine_apply_prune      (PlEngine             *self);
guint             pl_engine_undo             (PlEngine             *self);
/* Back to the initial weights (of the model's creation or loading), keeping the masks. */
guint             pl_engine_rewind           (PlEngine             *self);

/* Runs the pruning procedure @method (pl-schedule.h) from the model as it is, on the loaded
 * data with @config (copied) and @seed: each finished point (PlSchedulePoint, validation and
 * test accuracy) appears in PlSnapshot.schedules[@method] as it comes, replacing that
 * procedure's last run. Iterative runs that rewind to the initial weights rewind to the
 * model's own (of its creation or loading). With @adopt the model of the last point replaces
 * the engine's (pushed on the undo stack), so that the heatmap and the metrics show what the
 * procedure made. Progress and pl_engine_stop() as for training; state BUSY. */
guint             pl_engine_run_schedule     (PlEngine                *self,
                                              PlMethod                 method,
                                              const PlScheduleConfig  *config,
                                              guint64                  seed,
                                              gboolean                 adopt);

/* Prunes the model to @sparsity with Optimal Brain Surgeon and layer-wise reconstruction
 * (pl-obs.h, defaults: 2048 calibration samples of the training split, damping 0.01, 5 steps):
 * the layers' sparsities from the strategy's scope as pl_obs_layer_sparsities gives them (its
 * score, invert and N:M do not apply), then the kept weights and biases refitted. The old
 * parameters and masks go on the undo stack; the preview is cleared. pl_engine_stop() cancels
 * between two column blocks and leaves the model as it was (ok). State BUSY. */
guint             pl_engine_prune_obs        (PlEngine             *self,
                                              double                sparsity);

/* Runs a paper's experiment (pl_reproduce_run, pl-reproduce.h) with @options (copied; its
 * threads: 0 for the engine's) on the data of @data_spec (loaded with the default options, as
 * prunelab-cli reproduce does), or on the engine's data when @data_spec is NULL. The model,
 * the strategy and the curves are not touched: the experiment trains its own networks. While
 * it runs the snapshots say BUSY, command REPRODUCE, progress unknown (< 0) and
 * progress_text the stage (pl_reproduce_run's progress lines); pl_engine_stop() cancels it
 * (ok, no result). When ::done reports it ok, pl_engine_get_reproduction() holds the result;
 * on failure (no data, no validation split, a spec that does not load) ::error says why. */
guint             pl_engine_reproduce        (PlEngine                 *self,
                                              PlPaper                   paper,
                                              const PlReproduceOptions *options,
                                              const char               *data_spec);
/* The newest reproduce result delivered, or NULL. (transfer none) */
const PlReproduceResult *pl_engine_get_reproduction (PlEngine         *self);

/* Sparsity-vs-accuracy curves on the evaluation split, one per score and seed, with the
 * strategy's scope, invert, exclude_output and allow_empty: @points target sparsities from 0 to
 * @max, evenly spaced in log "fraction remaining" (pl-sweep.h, as prunelab-cli sweep). A score
 * that uses data or randomness is computed with @seeds seeds (1 … PL_SWEEP_MAX_SEEDS): the
 * strategy's score seed and those after it; any other gives the same curve for every seed and
 * is swept once. The curves grow in the snapshots as points finish; progress and
 * pl_engine_stop() as for training. */
guint             pl_engine_sweep            (PlEngine             *self,
                                              const PlScoreKind    *scores,
                                              guint                 n_scores,
                                              guint                 points,
                                              double                max,
                                              guint                 seeds);

/* What pruning buys for a model and its masks, measured on the engine thread (pl-latency.h):
 * the dense (masked), CSR and compacted forward passes at batch 1 and 256, with their bytes. */
typedef struct {
  PlLatency  batch1;
  PlLatency  batch256;
  char      *compact_arch;   /* owned: the compacted network's sizes, "784-150-100-10" */
} PlSparseReport;

void              pl_sparse_report_free      (PlSparseReport       *report);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PlSparseReport, pl_sparse_report_free)

/* Measures @model (copied; usually pl_snapshot_build_model (snapshot, TRUE): the model with the
 * preview's masks) on the worker; when ::done reports it ok, pl_engine_get_sparse_report()
 * holds the result. Not while training or sweeping (busy). */
guint             pl_engine_measure_sparse   (PlEngine             *self,
                                              const PlMlp          *model);
/* The newest result of measure-sparse delivered, or NULL. (transfer none) */
const PlSparseReport *pl_engine_get_sparse_report (PlEngine        *self);
/* Saves @model (copied) compacted (pl-compact.h) to @path as safetensors, atomically, on the
 * worker: a smaller nn.Linear stack without the dead neurons. @model NULL: the engine's own
 * model, with the preview's masks when a preview is shown — the way to export a convolutional
 * network (pl-conv-compact.h: without its dead filters, an nn.Conv2d + nn.Linear stack). */
guint             pl_engine_export_compact   (PlEngine             *self,
                                              const PlMlp          *model,
                                              const char           *path);

G_END_DECLS
