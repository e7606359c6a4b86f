/* pl-test-engine.h — a PlEngine driven from a test's main loop: what it sent back, in order
 *
 * The engine tests make an engine, send commands and run the main loop until a command's done
 * event (or a preview's answer) arrives; the recorder keeps the newest snapshot, every error and
 * every done event. Every snapshot delivered is checked to be the engine's current one, with a
 * serial above the last (replaced snapshots never arrive late).
 */
#pragma once

#include "pl-engine.h"

G_BEGIN_DECLS

typedef struct _PlTestEngine PlTestEngine;

/* Called for every snapshot before it becomes @r->last (for a test's own checks). */
typedef void (*PlTestSnapshotFunc) (PlTestEngine *r,
                                    PlSnapshot   *snapshot);

struct _PlTestEngine {
  PlEngine           *engine;
  PlSnapshot         *last;       /* owned: the newest snapshot delivered */
  GPtrArray          *errors;     /* GError, in order */
  GArray             *done;       /* guint: the ids of the commands done, in order */
  GArray             *done_ok;    /* gboolean, for each of them */
  guint               n_snapshots;
  guint64             last_serial;
  guint               changed;     /* every PL_SNAPSHOT_CHANGED_ flag seen */
  guint               states_seen; /* 1 << state of every snapshot */
  PlTestSnapshotFunc  on_snapshot;
  gpointer            user_data;
};

/* A new engine of @threads threads (pl_engine_new) with the recorder on its signals. */
void      pl_test_engine_init         (PlTestEngine *r,
                                       guint         threads,
                                       PlTestSnapshotFunc on_snapshot,
                                       gpointer      user_data);
/* Disposes of the engine (it must finalize) and of what was recorded, and runs what the main
 * context still holds. */
void      pl_test_engine_clear        (PlTestEngine *r);
typedef gboolean (*PlTestCondition) (PlTestEngine  *r,
                                     gconstpointer  data);

/* Runs the main loop until @cond holds, failing the test after @timeout_ms. */
void      pl_test_engine_wait_until   (PlTestEngine    *r,
                                       PlTestCondition  cond,
                                       gconstpointer    data,
                                       guint            timeout_ms);
/* The position of command @id among the done events, or -1 while it is not done. */
gint      pl_test_engine_done_index   (PlTestEngine *r,
                                       guint         id);
/* Runs the main loop until command @id is done (failing the test after @timeout_ms) and
 * returns whether it succeeded. */
gboolean  pl_test_engine_wait_done    (PlTestEngine *r,
                                       guint         id,
                                       guint         timeout_ms);
/* Runs the main loop until the newest snapshot shows the answer to preview @request; fails
 * the test on a timeout or when an error arrives meanwhile. */
void      pl_test_engine_wait_preview (PlTestEngine *r,
                                       guint64       request,
                                       guint         timeout_ms);
/* The @i-th error. (transfer none) */
const GError *pl_test_engine_error    (PlTestEngine *r,
                                       guint         i);

G_END_DECLS
