/* pl-engine-private.h — what PlEngine (pl-engine.c) and its worker (pl-engine-worker.c) share
 *
 * See pl-engine.c for who owns what and which lock guards it.
 */
#pragma once

#include "pl-dataset.h"
#include "pl-engine.h"
#include "pl-session.h"
#include "pl-tsan-private.h"

G_BEGIN_DECLS

typedef enum {
  PL_CMD_WAKE = 100,   /* nothing: wakes the worker (resume, stop) */
  PL_CMD_QUIT,         /* dispose: leave the worker loop */
} PlInternalCommand;

typedef struct {
  guint          kind;          /* PlEngineCommand or PlInternalCommand */
  guint          id;
  GCancellable  *cancellable;   /* owned: long commands */
  char          *text;          /* owned: spec, path or arch */
  PlDataOptions  data_options;
  PlData        *data;          /* owned */
  PlActivation   activation;
  guint64        seed;
  PlTrainConfig  config;
  PlStrategy     strategy;
  /* preview: writable by the main thread (under in_lock) while it is engine->tail_preview */
  double         value;
  gboolean       by_threshold;
  guint64        request;
  guint64        requested;     /* pl_engine_preview() calls up to this one */
  gint64         sent_at;       /* when the newest value was stored */
  gint64         popped_at;     /* worker: when it took the command off the queue */
  /* fine-tune, sweep */
  guint          epochs;
  double         lr;
  PlScoreKind   *scores;        /* owned */
  guint          n_scores;
  guint          points;
  double         max;
  guint          seeds;
  /* measure-sparse, export-compact (pl-engine-sparse.c) */
  PlMlp         *model;         /* owned: the model with the masks to measure or export */
  /* load-session, save-session */
  PlSession     *session;       /* owned */
  /* schedule */
  PlMethod          method;
  PlScheduleConfig *schedule;   /* owned */
  gboolean          adopt;
  /* set-feature-image: the evaluation image */
  guint               image;
  /* reproduce (pl-engine-reproduce.c); text: the data spec, or NULL for the loaded data */
  PlPaper             paper;
  PlReproduceOptions  reproduce;
} PlCommand;

typedef struct {
  guint            command;
  guint            id;
  gboolean         ok;
  GError          *error;    /* owned, or NULL */
  PlSparseReport  *report;   /* owned: the result of measure-sparse, or NULL */
  PlReproduceResult *reproduction; /* owned: the result of reproduce, or NULL */
} PlEvent;

typedef struct _PlWorker PlWorker;

struct _PlEngine
{
  GObject        parent_instance;

  guint          threads;
  GMainContext  *context;       /* owned: where snapshots are delivered */
  GThread       *thread;
  GAsyncQueue   *queue;         /* Command */
  gint           queued;        /* atomic: items pushed and not yet popped (≥ the real count) */
  gint           paused;        /* atomic */

  GMutex         in_lock;
  PlCommand     *tail_preview;  /* in_lock: the last command pushed, when it is a preview */
  guint          next_id;       /* in_lock */
  guint64        preview_seq;   /* in_lock: pl_engine_preview() calls */
  GPtrArray     *cancellables;  /* in_lock: of long commands queued or running */
  guint          n_training;    /* in_lock: train and fine-tune commands queued or running */

  GMutex         out_lock;
  PlSnapshot    *out_snapshot;  /* out_lock: newest not delivered */
  GQueue         out_events;    /* out_lock: Event */
  GSource       *out_source;    /* out_lock: the idle pending, or NULL */
  GCond          out_cond;      /* with out_lock: signalled on every post */
  gboolean       out_closed;    /* out_lock: disposed */

  PlSnapshot    *snapshot;      /* main thread: the newest delivered */
  PlSparseReport *sparse_report; /* main thread: the newest measure-sparse result, or NULL */
  PlReproduceResult *reproduction; /* main thread: the newest reproduce result, or NULL */
  PlWorker      *worker;        /* handed to the worker thread; freed by it */
};

PlCommand *_pl_command_new       (guint       kind);
void       _pl_command_free      (gpointer    command);
void       _pl_event_free        (gpointer    event);

/* A preview request's values, read by the worker. */
typedef struct {
  double    value;
  gboolean  by_threshold;
  guint64   request;
  guint64   requested;
  gint64    sent_at;
} PlPreviewRequest;

/* Worker side: reads the newest values of preview @cmd and ends its writable life. */
void       _pl_engine_take_preview  (PlEngine         *self,
                                     PlCommand        *cmd,
                                     PlPreviewRequest *out);
/* Worker side: @cmd is finished: its cancellable and, for training, its count go. */
void       _pl_engine_command_done  (PlEngine         *self,
                                     const PlCommand  *cmd);

/* Worker side: takes the next command (timeout_usec < 0: waits; 0: does not wait). */
PlCommand *_pl_engine_queue_pop  (PlEngine   *self,
                                  gint64      timeout_usec);
/* Worker side: hands a snapshot and/or an event to the main context. (transfer full: both) */
void       _pl_engine_post       (PlEngine   *self,
                                  PlSnapshot *snapshot,
                                  PlEvent    *event);

/* pl-snapshot.c: pl_snapshot_copy() with @n_layers layers; those past the source's are empty,
 * those past @n_layers dropped. (transfer full) */
PlSnapshot *_pl_snapshot_copy_resized (const PlSnapshot *self,
                                       guint             n_layers);

/* pl-engine-sparse.c: runs measure-sparse or export-compact on the worker and returns the
 * event that reports it; latency is timed on @data's test samples when given and they fit the
 * model. (transfer full) */
PlEvent   *_pl_engine_sparse_run (PlEngine     *self,
                                  PlCommand    *cmd,
                                  const PlData *data);

/* pl-engine-worker.c */
PlWorker  *_pl_worker_new        (PlEngine   *engine);
gpointer   _pl_worker_main       (gpointer    worker);

static inline void
_pl_engine_in_lock (PlEngine *self)
{
  g_mutex_lock (&self->in_lock);
  PL_TSAN_ACQUIRE (&self->in_lock);
}

static inline void
_pl_engine_in_unlock (PlEngine *self)
{
  PL_TSAN_RELEASE (&self->in_lock);
  g_mutex_unlock (&self->in_lock);
}

static inline void
_pl_engine_out_lock (PlEngine *self)
{
  g_mutex_lock (&self->out_lock);
  PL_TSAN_ACQUIRE (&self->out_lock);
}

static inline void
_pl_engine_out_unlock (PlEngine *self)
{
  PL_TSAN_RELEASE (&self->out_lock);
  g_mutex_unlock (&self->out_lock);
}

G_END_DECLS
