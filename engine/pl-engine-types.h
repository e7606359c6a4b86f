/* pl-engine-types.h — what the engine thread is doing, and which command: the enums that a
 * snapshot, the `done` signal and the UI share (pl-engine.h, pl-snapshot.h)
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  PL_ENGINE_STATE_IDLE,
  PL_ENGINE_STATE_BUSY,       /* a short command runs: loading data or a model, scoring, … */
  PL_ENGINE_STATE_TRAINING,   /* training or fine-tuning (training.fine_tune) */
  PL_ENGINE_STATE_PAUSED,     /* training or fine-tuning, paused: previews still answer */
  PL_ENGINE_STATE_SWEEPING,
} PlEngineState;

/* The command a snapshot, a progress value or the `done` signal refers to. */
typedef enum {
  PL_ENGINE_COMMAND_NONE,
  PL_ENGINE_COMMAND_LOAD_DATA,
  PL_ENGINE_COMMAND_SET_DATA,
  PL_ENGINE_COMMAND_NEW_MODEL,
  PL_ENGINE_COMMAND_LOAD_MODEL,
  PL_ENGINE_COMMAND_SAVE_MODEL,
  PL_ENGINE_COMMAND_TRAIN,
  PL_ENGINE_COMMAND_FINE_TUNE,
  PL_ENGINE_COMMAND_SET_STRATEGY,
  PL_ENGINE_COMMAND_PREVIEW,
  PL_ENGINE_COMMAND_CLEAR_PREVIEW,
  PL_ENGINE_COMMAND_APPLY_PRUNE,
  PL_ENGINE_COMMAND_UNDO,
  PL_ENGINE_COMMAND_REWIND,
  PL_ENGINE_COMMAND_SWEEP,
  PL_ENGINE_COMMAND_MEASURE_SPARSE,
  PL_ENGINE_COMMAND_EXPORT_COMPACT,
  PL_ENGINE_COMMAND_LOAD_SESSION,
  PL_ENGINE_COMMAND_SAVE_SESSION,
  PL_ENGINE_COMMAND_SCHEDULE,
  PL_ENGINE_COMMAND_PRUNE_OBS,
  PL_ENGINE_COMMAND_REPRODUCE,
  PL_ENGINE_COMMAND_SET_FEATURE_IMAGE,
} PlEngineCommand;

const char  *pl_engine_state_to_string    (PlEngineState      state);
const char  *pl_engine_command_to_string  (PlEngineCommand    command);
const char  *pl_engine_command_title      (PlEngineCommand    command);

G_END_DECLS
