#define G_LOG_DOMAIN "pl-engine"

#include "config.h"

#include "pl-engine.h"

#include "pl-engine-private.h"

/* The engine thread.
 *
 * Two sides share a PlEngine. The main thread (the context captured at construction) enqueues
 * PlCommands and receives snapshots and events; the worker thread owns a PlWorker: the data, the
 * model, the trainer, the scores and the preview. Nothing else is shared:
 *
 *   in_lock   guards tail_preview (the one preview request the UI may still overwrite),
 *             the command ids, the cancellables of long commands, n_training; commands are
 *             pushed on `queue` while it is held, so their order is the order of the calls
 *   out_lock  guards out_snapshot (the newest snapshot not delivered yet), out_events and
 *             out_source (at most one idle source pending on the main context); out_cond
 *             wakes pl_engine_wait_for_preview() on each post
 *   queued, paused   atomics the worker polls between training steps
 *
 * Previews coalesce in the queue itself: a preview request is a PlCommand that stays writable
 * while it is the last item pushed (tail_preview). A new request overwrites it; once another
 * command is pushed behind it, the next request gets a new PlCommand. So a preview is always
 * computed with the strategy, model and masks of the commands sent before it, and while the
 * worker computes one preview only the newest value waits.
 *
 * Previews during training (pl-engine-run.c). The worker answers them from the trainer's
 * progress callback, between two steps: the weights do not move under the preview, the model
 * stays the worker's alone (no copy shared with another thread, no lock around the numerics),
 * and the preview can use the engine's threads while the trainer's are idle. The PlPreview is
 * rebuilt from the current weights when it is PREVIEW_REFRESH_USEC old (and ≥ 10× its build
 * time), but not in the middle of a drag unless PREVIEW_MAX_AGE_USEC old (rebuild_due()).
 * A preview during training evaluates a fixed subsample of TRAIN_PREVIEW_SAMPLES evaluation
 * samples first (the first run after a rebuild recomputes the first layer over those only), and
 * every sample once the pointer rests (no request for DRAG_GAP_USEC); the snapshot's
 * preview_subsample says which. The evaluation and the scores are not remade during a drag.
 * Training (or a sweep) keeps RUN_SHARE of the time during a continuous drag: after a preview
 * that took t, the next waits until the run went on for t·RUN_SHARE/(1−RUN_SHARE). Progress snapshots go out at
 * most every PUBLISH_USEC; a preview's snapshot at once, with the heavy parts (weights, metrics,
 * evaluation) refreshed at most every PUBLISH_USEC and the scores every SCORES_USEC.
 */

G_DEFINE_QUARK (pl-engine-error-quark, pl_engine_error)

/* ───────────────────────────── commands and events ───────────────────────────── */

void
_pl_command_free (gpointer data)
{
  PlCommand *cmd = data;

  g_clear_object (&cmd->cancellable);
  g_free (cmd->text);
  g_clear_pointer (&cmd->data, pl_data_free);
  g_clear_pointer (&cmd->session, pl_session_free);
  g_free (cmd->scores);
  g_clear_pointer (&cmd->model, pl_mlp_free);
  g_free (cmd->schedule);
  g_free (cmd);
}

PlCommand *
_pl_command_new (guint kind)
{
  PlCommand *cmd = g_new0 (PlCommand, 1);

  cmd->kind = kind;
  return cmd;
}

void
_pl_event_free (gpointer data)
{
  PlEvent *ev = data;

  g_clear_error (&ev->error);
  g_clear_pointer (&ev->report, pl_sparse_report_free);
  g_clear_pointer (&ev->reproduction, pl_reproduce_result_free);
  g_free (ev);
}

/* ───────────────────────────── the object ───────────────────────────── */

enum {
  PROP_0,
  PROP_THREADS,
  N_PROPS
};

enum {
  SIGNAL_SNAPSHOT,
  SIGNAL_ERROR,
  SIGNAL_DONE,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (PlEngine, pl_engine, G_TYPE_OBJECT)

/* Called with in_lock held. */
static void
queue_push_locked (PlEngine  *self,
                   PlCommand *cmd,
                   gboolean   front)
{
  g_atomic_int_inc (&self->queued);
  PL_TSAN_RELEASE (self->queue);
  if (front)
    g_async_queue_push_front (self->queue, cmd);
  else
    g_async_queue_push (self->queue, cmd);
}

PlCommand *
_pl_engine_queue_pop (PlEngine *self,
                      gint64    timeout_usec)   /* < 0: wait; 0: do not wait */
{
  PlCommand *cmd;

  if (timeout_usec < 0)
    cmd = g_async_queue_pop (self->queue);
  else if (timeout_usec == 0)
    cmd = g_async_queue_try_pop (self->queue);
  else
    cmd = g_async_queue_timeout_pop (self->queue, (guint64) timeout_usec);
  if (cmd != NULL)
    {
      PL_TSAN_ACQUIRE (self->queue);
      g_atomic_int_add (&self->queued, -1);
      cmd->popped_at = g_get_monotonic_time ();
    }
  return cmd;
}

static guint
enqueue (PlEngine  *self,
         PlCommand *cmd)
{
  guint id;

  _pl_engine_in_lock (self);
  id = cmd->id = ++self->next_id;
  if (cmd->cancellable != NULL)
    g_ptr_array_add (self->cancellables, g_object_ref (cmd->cancellable));
  if (cmd->kind == PL_ENGINE_COMMAND_TRAIN || cmd->kind == PL_ENGINE_COMMAND_FINE_TUNE)
    self->n_training++;
  self->tail_preview = NULL;
  queue_push_locked (self, cmd, FALSE);
  _pl_engine_in_unlock (self);

  return id;
}

void
_pl_engine_take_preview (PlEngine         *self,
                         PlCommand        *cmd,
                         PlPreviewRequest *out)
{
  _pl_engine_in_lock (self);
  if (self->tail_preview == cmd)
    self->tail_preview = NULL;
  *out = (PlPreviewRequest) { cmd->value, cmd->by_threshold, cmd->request, cmd->requested,
                              cmd->sent_at };
  _pl_engine_in_unlock (self);
}

void
_pl_engine_command_done (PlEngine        *self,
                         const PlCommand *cmd)
{
  gboolean training = cmd->kind == PL_ENGINE_COMMAND_TRAIN
                      || cmd->kind == PL_ENGINE_COMMAND_FINE_TUNE;

  if (cmd->cancellable == NULL && !training)
    return;
  _pl_engine_in_lock (self);
  if (cmd->cancellable != NULL)
    g_ptr_array_remove (self->cancellables, cmd->cancellable);
  if (training)
    {
      g_assert (self->n_training > 0);
      if (--self->n_training == 0)
        g_atomic_int_set (&self->paused, 0);
    }
  _pl_engine_in_unlock (self);
}

/* A wake-up has no place in the order of commands: the preview before it stays writable. */
static void
wake (PlEngine *self)
{
  _pl_engine_in_lock (self);
  queue_push_locked (self, _pl_command_new (PL_CMD_WAKE), FALSE);
  _pl_engine_in_unlock (self);
}

/* ───────────────────────────── delivery to the main context ───────────────────────────── */

/* Delivers what is pending: from the idle source, or at once from
 * pl_engine_wait_for_preview(), which then removes the source. */
static void
deliver (PlEngine *self)
{
  g_autoptr(PlSnapshot) snapshot = NULL;
  GQueue events = G_QUEUE_INIT;
  PlEvent *ev;

  _pl_engine_out_lock (self);
  snapshot = g_steal_pointer (&self->out_snapshot);
  events = self->out_events;
  g_queue_init (&self->out_events);
  if (self->out_source != NULL)
    g_source_destroy (self->out_source);
  g_clear_pointer (&self->out_source, g_source_unref);
  _pl_engine_out_unlock (self);

  /* a handler may drop the last reference */
  g_object_ref (self);
  if (snapshot != NULL)
    {
      g_clear_pointer (&self->snapshot, pl_snapshot_unref);
      self->snapshot = pl_snapshot_ref (snapshot);
      g_signal_emit (self, signals[SIGNAL_SNAPSHOT], 0, snapshot);
    }
  while ((ev = g_queue_pop_head (&events)) != NULL)
    {
      if (ev->report != NULL)
        {
          g_clear_pointer (&self->sparse_report, pl_sparse_report_free);
          self->sparse_report = g_steal_pointer (&ev->report);
        }
      if (ev->reproduction != NULL)
        {
          g_clear_pointer (&self->reproduction, pl_reproduce_result_free);
          self->reproduction = g_steal_pointer (&ev->reproduction);
        }
      if (ev->error != NULL)
        g_signal_emit (self, signals[SIGNAL_ERROR], 0, ev->error);
      if (ev->command != PL_ENGINE_COMMAND_NONE)
        g_signal_emit (self, signals[SIGNAL_DONE], 0, ev->command, ev->id, ev->ok);
      _pl_event_free (ev);
    }
  g_object_unref (self);
}

static gboolean
deliver_cb (gpointer data)
{
  deliver (data);
  return G_SOURCE_REMOVE;
}

gboolean
pl_engine_wait_for_preview (PlEngine *self,
                            guint64   request,
                            gint64    timeout_usec)
{
  gint64 deadline;
  gboolean answered;

  g_return_val_if_fail (PL_IS_ENGINE (self), FALSE);

  if (request == 0 || (self->snapshot != NULL && self->snapshot->preview_request >= request))
    return TRUE;
  deadline = g_get_monotonic_time () + MAX (timeout_usec, 0);
  _pl_engine_out_lock (self);
  while (!self->out_closed
         && (self->out_snapshot == NULL || self->out_snapshot->preview_request < request))
    {
      gboolean woken;

      PL_TSAN_RELEASE (&self->out_lock);
      woken = g_cond_wait_until (&self->out_cond, &self->out_lock, deadline);
      PL_TSAN_ACQUIRE (&self->out_lock);
      if (!woken)
        break;
    }
  answered = !self->out_closed && self->out_snapshot != NULL
             && self->out_snapshot->preview_request >= request;
  _pl_engine_out_unlock (self);

  if (answered)
    deliver (self);
  return answered;
}

/* Worker side: the newest snapshot replaces the one pending (its changes merged in), events
 * queue up, and one idle source on the main context delivers them. The source holds no
 * reference on the engine: dispose joins the worker and then destroys it. */
void
_pl_engine_post (PlEngine   *self,
                 PlSnapshot *snapshot,   /* transfer full, or NULL */
                 PlEvent    *ev)         /* transfer full, or NULL */
{
  _pl_engine_out_lock (self);
  if (self->out_closed)
    {
      _pl_engine_out_unlock (self);
      g_clear_pointer (&snapshot, pl_snapshot_unref);
      g_clear_pointer (&ev, _pl_event_free);
      return;
    }
  if (snapshot != NULL)
    {
      if (self->out_snapshot != NULL)
        {
          snapshot->changed |= self->out_snapshot->changed;
          pl_snapshot_unref (self->out_snapshot);
        }
      self->out_snapshot = snapshot;
    }
  if (ev != NULL)
    g_queue_push_tail (&self->out_events, ev);
  if (self->out_source == NULL)
    {
      self->out_source = g_idle_source_new ();
      g_source_set_priority (self->out_source, G_PRIORITY_DEFAULT);
      g_source_set_callback (self->out_source, deliver_cb, self, NULL);
      g_source_set_static_name (self->out_source, "[prunelab] engine snapshot");
      g_source_attach (self->out_source, self->context);
    }
  g_cond_signal (&self->out_cond);
  _pl_engine_out_unlock (self);
}

/* ───────────────────────────── GObject ───────────────────────────── */

static void
pl_engine_constructed (GObject *object)
{
  PlEngine *self = PL_ENGINE (object);

  G_OBJECT_CLASS (pl_engine_parent_class)->constructed (object);

  /* one core stays with the UI thread */
  if (self->threads == 0)
    self->threads = CLAMP (g_get_num_processors () - 1, 1, 4);
  self->worker = _pl_worker_new (self);
  self->thread = g_thread_new ("pl-engine", _pl_worker_main, self->worker);
}

static void
pl_engine_dispose (GObject *object)
{
  PlEngine *self = PL_ENGINE (object);

  if (self->thread != NULL)
    {
      _pl_engine_in_lock (self);
      for (guint i = 0; i < self->cancellables->len; i++)
        g_cancellable_cancel (g_ptr_array_index (self->cancellables, i));
      queue_push_locked (self, _pl_command_new (PL_CMD_QUIT), TRUE);
      _pl_engine_in_unlock (self);
      g_thread_join (g_steal_pointer (&self->thread));
      self->worker = NULL;   /* freed by the worker */
    }

  _pl_engine_out_lock (self);
  self->out_closed = TRUE;
  if (self->out_source != NULL)
    {
      g_source_destroy (self->out_source);
      g_clear_pointer (&self->out_source, g_source_unref);
    }
  g_clear_pointer (&self->out_snapshot, pl_snapshot_unref);
  g_queue_clear_full (&self->out_events, _pl_event_free);
  _pl_engine_out_unlock (self);

  G_OBJECT_CLASS (pl_engine_parent_class)->dispose (object);
}

static void
pl_engine_finalize (GObject *object)
{
  PlEngine *self = PL_ENGINE (object);

  g_clear_pointer (&self->snapshot, pl_snapshot_unref);
  g_clear_pointer (&self->sparse_report, pl_sparse_report_free);
  g_clear_pointer (&self->reproduction, pl_reproduce_result_free);
  g_async_queue_unref (self->queue);
  g_ptr_array_unref (self->cancellables);
  g_main_context_unref (self->context);
  g_mutex_clear (&self->in_lock);
  g_mutex_clear (&self->out_lock);
  g_cond_clear (&self->out_cond);

  G_OBJECT_CLASS (pl_engine_parent_class)->finalize (object);
}

static void
pl_engine_get_property (GObject    *object,
                        guint       prop_id,
                        GValue     *value,
                        GParamSpec *pspec)
{
  PlEngine *self = PL_ENGINE (object);

  switch (prop_id)
    {
    case PROP_THREADS:
      g_value_set_uint (value, self->threads);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
pl_engine_set_property (GObject      *object,
                        guint         prop_id,
                        const GValue *value,
                        GParamSpec   *pspec)
{
  PlEngine *self = PL_ENGINE (object);

  switch (prop_id)
    {
    case PROP_THREADS:
      self->threads = g_value_get_uint (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
pl_engine_class_init (PlEngineClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->constructed = pl_engine_constructed;
  object_class->dispose = pl_engine_dispose;
  object_class->finalize = pl_engine_finalize;
  object_class->get_property = pl_engine_get_property;
  object_class->set_property = pl_engine_set_property;

  /**
   * PlEngine:threads:
   *
   * Threads for previews, evaluation and scoring; 0 picks one less than the number of processors
   * (at least 1, at most 4), so that the UI thread keeps a core.
   */
  properties[PROP_THREADS] =
    g_param_spec_uint ("threads", NULL, NULL, 0, 64, 0,
                       G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * PlEngine::snapshot:
   * @snapshot: (transfer none): the newest state
   */
  signals[SIGNAL_SNAPSHOT] =
    g_signal_new ("snapshot", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, PL_TYPE_SNAPSHOT | G_SIGNAL_TYPE_STATIC_SCOPE);
  /**
   * PlEngine::error:
   * @error: what went wrong, naming the file or the option
   */
  signals[SIGNAL_ERROR] =
    g_signal_new ("error", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, G_TYPE_ERROR | G_SIGNAL_TYPE_STATIC_SCOPE);
  /**
   * PlEngine::done:
   * @command: the PlEngineCommand
   * @id: what the command function returned
   * @ok: FALSE when ::error was emitted for it
   */
  signals[SIGNAL_DONE] =
    g_signal_new ("done", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 3, G_TYPE_UINT, G_TYPE_UINT, G_TYPE_BOOLEAN);
}

static void
pl_engine_init (PlEngine *self)
{
  g_mutex_init (&self->in_lock);
  g_mutex_init (&self->out_lock);
  g_cond_init (&self->out_cond);
  g_queue_init (&self->out_events);
  self->queue = g_async_queue_new_full (_pl_command_free);
  self->cancellables = g_ptr_array_new_with_free_func (g_object_unref);
  self->context = g_main_context_ref_thread_default ();
  self->snapshot = pl_snapshot_new (0);
}

/* ───────────────────────────── public API ───────────────────────────── */

PlEngine *
pl_engine_new (guint threads)
{
  return g_object_new (PL_TYPE_ENGINE, "threads", threads, NULL);
}

PlSnapshot *
pl_engine_get_snapshot (PlEngine *self)
{
  g_return_val_if_fail (PL_IS_ENGINE (self), NULL);

  return self->snapshot;
}

guint
pl_engine_load_data (PlEngine            *self,
                     const char          *spec,
                     const PlDataOptions *options)
{
  static const PlDataOptions defaults = PL_DATA_OPTIONS_INIT;
  PlCommand *cmd;

  g_return_val_if_fail (PL_IS_ENGINE (self), 0);
  g_return_val_if_fail (spec != NULL, 0);

  cmd = _pl_command_new (PL_ENGINE_COMMAND_LOAD_DATA);
  cmd->text = g_strdup (spec);
  cmd->data_options = options != NULL ? *options : defaults;
  return enqueue (self, cmd);
}

guint
pl_engine_set_data (PlEngine *self,
                    PlData   *data)
{
  PlCommand *cmd;

  g_return_val_if_fail (PL_IS_ENGINE (self), 0);
  g_return_val_if_fail (data != NULL && data->train != NULL && data->test != NULL, 0);

  cmd = _pl_command_new (PL_ENGINE_COMMAND_SET_DATA);
  cmd->data = data;
  return enqueue (self, cmd);
}

guint
pl_engine_new_model (PlEngine     *self,
                     const char   *arch,
                     PlActivation  activation,
                     guint64       seed)
{
  PlCommand *cmd;

  g_return_val_if_fail (PL_IS_ENGINE (self), 0);

  cmd = _pl_command_new (PL_ENGINE_COMMAND_NEW_MODEL);
  cmd->text = g_strdup (arch);
  cmd->activation = activation;
  cmd->seed = seed;
  return enqueue (self, cmd);
}

guint
pl_engine_load_model (PlEngine   *self,
                      const char *path)
{
  PlCommand *cmd;

  g_return_val_if_fail (PL_IS_ENGINE (self), 0);
  g_return_val_if_fail (path != NULL, 0);

  cmd = _pl_command_new (PL_ENGINE_COMMAND_LOAD_MODEL);
  cmd->text = g_strdup (path);
  return enqueue (self, cmd);
}

guint
pl_engine_save_model (PlEngine   *self,
                      const char *path)
{
  PlCommand *cmd;

  g_return_val_if_fail (PL_IS_ENGINE (self), 0);
  g_return_val_if_fail (path != NULL, 0);

  cmd = _pl_command_new (PL_ENGINE_COMMAND_SAVE_MODEL);
  cmd->text = g_strdup (path);
  return enqueue (self, cmd);
}

guint
pl_engine_load_session (PlEngine   *self,
                        PlSession  *session,
                        const char *display_name)
{
  PlCommand *cmd;

  g_return_val_if_fail (PL_IS_ENGINE (self), 0);
  g_return_val_if_fail (session != NULL && session->model != NULL, 0);
  g_return_val_if_fail (display_name != NULL, 0);

  cmd = _pl_command_new (PL_ENGINE_COMMAND_LOAD_SESSION);
  cmd->text = g_strdup (display_name);
  cmd->session = session;
  return enqueue (self, cmd);
}

guint
pl_engine_save_session (PlEngine   *self,
                        const char *path,
                        PlSession  *session)
{
  PlCommand *cmd;

  g_return_val_if_fail (PL_IS_ENGINE (self), 0);
  g_return_val_if_fail (path != NULL && session != NULL && session->model == NULL, 0);

  cmd = _pl_command_new (PL_ENGINE_COMMAND_SAVE_SESSION);
  cmd->text = g_strdup (path);
  cmd->session = session;
  return enqueue (self, cmd);
}

guint
pl_engine_train (PlEngine            *self,
                 const PlTrainConfig *config)
{
  PlCommand *cmd;

  g_return_val_if_fail (PL_IS_ENGINE (self), 0);
  g_return_val_if_fail (config != NULL && config->batch_size > 0 && config->threads > 0, 0);

  cmd = _pl_command_new (PL_ENGINE_COMMAND_TRAIN);
  cmd->config = *config;
  cmd->cancellable = g_cancellable_new ();
  return enqueue (self, cmd);
}

guint
pl_engine_fine_tune (PlEngine *self,
                     guint     epochs,
                     double    lr)
{
  PlCommand *cmd;

  g_return_val_if_fail (PL_IS_ENGINE (self), 0);
  g_return_val_if_fail (lr > 0.0, 0);

  cmd = _pl_command_new (PL_ENGINE_COMMAND_FINE_TUNE);
  cmd->epochs = epochs;
  cmd->lr = lr;
  cmd->cancellable = g_cancellable_new ();
  return enqueue (self, cmd);
}

void
pl_engine_pause (PlEngine *self)
{
  g_return_if_fail (PL_IS_ENGINE (self));

  _pl_engine_in_lock (self);
  if (self->n_training > 0)
    g_atomic_int_set (&self->paused, 1);
  _pl_engine_in_unlock (self);
}

void
pl_engine_resume (PlEngine *self)
{
  g_return_if_fail (PL_IS_ENGINE (self));

  g_atomic_int_set (&self->paused, 0);
  wake (self);
}

void
pl_engine_stop (PlEngine *self)
{
  g_return_if_fail (PL_IS_ENGINE (self));

  _pl_engine_in_lock (self);
  for (guint i = 0; i < self->cancellables->len; i++)
    g_cancellable_cancel (g_ptr_array_index (self->cancellables, i));
  _pl_engine_in_unlock (self);
  wake (self);
}

guint
pl_engine_set_strategy (PlEngine         *self,
                        const PlStrategy *strategy)
{
  PlCommand *cmd;

  g_return_val_if_fail (PL_IS_ENGINE (self), 0);
  g_return_val_if_fail (strategy != NULL && (guint) strategy->score < PL_N_SCORES, 0);

  cmd = _pl_command_new (PL_ENGINE_COMMAND_SET_STRATEGY);
  cmd->strategy = *strategy;
  return enqueue (self, cmd);
}

guint64
pl_engine_preview (PlEngine *self,
                   double    value,
                   gboolean  by_threshold)
{
  PlCommand *cmd;
  guint64 request;

  g_return_val_if_fail (PL_IS_ENGINE (self), 0);

  _pl_engine_in_lock (self);
  request = ++self->preview_seq;
  cmd = self->tail_preview;
  if (cmd == NULL)
    {
      cmd = _pl_command_new (PL_ENGINE_COMMAND_PREVIEW);
    }
  cmd->value = value;
  cmd->by_threshold = by_threshold;
  cmd->request = request;
  cmd->requested = request;
  cmd->sent_at = g_get_monotonic_time ();
  if (self->tail_preview == NULL)
    {
      queue_push_locked (self, cmd, FALSE);
      self->tail_preview = cmd;
    }
  _pl_engine_in_unlock (self);

  return request;
}

guint
pl_engine_clear_preview (PlEngine *self)
{
  g_return_val_if_fail (PL_IS_ENGINE (self), 0);

  return enqueue (self, _pl_command_new (PL_ENGINE_COMMAND_CLEAR_PREVIEW));
}

guint
pl_engine_set_feature_image (PlEngine *self,
                             guint     index)
{
  PlCommand *cmd;

  g_return_val_if_fail (PL_IS_ENGINE (self), 0);

  cmd = _pl_command_new (PL_ENGINE_COMMAND_SET_FEATURE_IMAGE);
  cmd->image = index;
  return enqueue (self, cmd);
}

guint
pl_engine_apply_prune (PlEngine *self)
{
  g_return_val_if_fail (PL_IS_ENGINE (self), 0);

  /* The worker has taken every preview request sent before this, so its newest preview value is
   * the newest one asked for. */
  return enqueue (self, _pl_command_new (PL_ENGINE_COMMAND_APPLY_PRUNE));
}

guint
pl_engine_undo (PlEngine *self)
{
  g_return_val_if_fail (PL_IS_ENGINE (self), 0);

  return enqueue (self, _pl_command_new (PL_ENGINE_COMMAND_UNDO));
}

guint
pl_engine_rewind (PlEngine *self)
{
  g_return_val_if_fail (PL_IS_ENGINE (self), 0);

  return enqueue (self, _pl_command_new (PL_ENGINE_COMMAND_REWIND));
}

guint
pl_engine_run_schedule (PlEngine               *self,
                        PlMethod                method,
                        const PlScheduleConfig *config,
                        guint64                 seed,
                        gboolean                adopt)
{
  PlCommand *cmd;

  g_return_val_if_fail (PL_IS_ENGINE (self), 0);
  g_return_val_if_fail (method < PL_N_METHODS && config != NULL, 0);

  cmd = _pl_command_new (PL_ENGINE_COMMAND_SCHEDULE);
  cmd->method = method;
  cmd->schedule = g_memdup2 (config, sizeof *config);
  cmd->seed = seed;
  cmd->adopt = adopt;
  cmd->cancellable = g_cancellable_new ();
  return enqueue (self, cmd);
}

guint
pl_engine_prune_obs (PlEngine *self,
                     double    sparsity)
{
  PlCommand *cmd;

  g_return_val_if_fail (PL_IS_ENGINE (self), 0);
  g_return_val_if_fail (sparsity >= 0.0 && sparsity <= 1.0, 0);

  cmd = _pl_command_new (PL_ENGINE_COMMAND_PRUNE_OBS);
  cmd->value = sparsity;
  cmd->cancellable = g_cancellable_new ();
  return enqueue (self, cmd);
}

guint
pl_engine_reproduce (PlEngine                 *self,
                     PlPaper                   paper,
                     const PlReproduceOptions *options,
                     const char               *data_spec)
{
  PlCommand *cmd;

  g_return_val_if_fail (PL_IS_ENGINE (self), 0);
  g_return_val_if_fail (paper < PL_N_PAPERS && options != NULL, 0);

  cmd = _pl_command_new (PL_ENGINE_COMMAND_REPRODUCE);
  cmd->paper = paper;
  cmd->reproduce = *options;
  cmd->text = g_strdup (data_spec);
  cmd->cancellable = g_cancellable_new ();
  return enqueue (self, cmd);
}

const PlReproduceResult *
pl_engine_get_reproduction (PlEngine *self)
{
  g_return_val_if_fail (PL_IS_ENGINE (self), NULL);

  return self->reproduction;
}

guint
pl_engine_sweep (PlEngine          *self,
                 const PlScoreKind *scores,
                 guint              n_scores,
                 guint              points,
                 double             max,
                 guint              seeds)
{
  PlCommand *cmd;

  g_return_val_if_fail (PL_IS_ENGINE (self), 0);
  g_return_val_if_fail (scores != NULL || n_scores == 0, 0);

  cmd = _pl_command_new (PL_ENGINE_COMMAND_SWEEP);
  cmd->scores = g_memdup2 (scores, sizeof (PlScoreKind) * n_scores);
  cmd->n_scores = n_scores;
  cmd->points = points;
  cmd->max = max;
  cmd->seeds = seeds;
  cmd->cancellable = g_cancellable_new ();
  return enqueue (self, cmd);
}

guint
pl_engine_measure_sparse (PlEngine    *self,
                          const PlMlp *model)
{
  PlCommand *cmd;

  g_return_val_if_fail (PL_IS_ENGINE (self), 0);
  g_return_val_if_fail (model != NULL, 0);

  cmd = _pl_command_new (PL_ENGINE_COMMAND_MEASURE_SPARSE);
  cmd->model = pl_mlp_copy (model);
  return enqueue (self, cmd);
}

const PlSparseReport *
pl_engine_get_sparse_report (PlEngine *self)
{
  g_return_val_if_fail (PL_IS_ENGINE (self), NULL);

  return self->sparse_report;
}

guint
pl_engine_export_compact (PlEngine    *self,
                          const PlMlp *model,
                          const char  *path)
{
  PlCommand *cmd;

  g_return_val_if_fail (PL_IS_ENGINE (self), 0);
  g_return_val_if_fail (path != NULL, 0);

  cmd = _pl_command_new (PL_ENGINE_COMMAND_EXPORT_COMPACT);
  cmd->model = model != NULL ? pl_mlp_copy (model) : NULL;
  cmd->text = g_strdup (path);
  return enqueue (self, cmd);
}
