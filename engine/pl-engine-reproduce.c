/* pl-engine-reproduce.c — the reproduce command: a paper's experiment (pl-reproduce.h) on the
 * engine thread, its stages in the snapshots, its result handed to the main thread
 */
#define G_LOG_DOMAIN "pl-engine"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "pl-engine-worker-private.h"

typedef struct {
  PlWorker *w;
  gboolean  told;   /* the first line was published */
} Run;

/* pl_reproduce_run's progress line becomes the draft's progress_text and its share the
 * progress: the first at once, then at most every PUBLISH_USEC (the last line of a burst waits
 * for the next one or the end). */
static void
on_progress (const char *line,
             double      fraction,
             gpointer    user_data)
{
  Run *run = user_data;
  PlWorker *w = run->w;

  _pl_worker_set_state (w, PL_ENGINE_STATE_BUSY, PL_ENGINE_COMMAND_REPRODUCE, fraction);
  g_free (w->draft->progress_text);
  w->draft->progress_text = g_strdup (line);
  w->changed |= PL_SNAPSHOT_CHANGED_STATE;
  if (!run->told || g_get_monotonic_time () - w->publish_time >= PUBLISH_USEC)
    _pl_worker_publish (w);
  run->told = TRUE;
}

/* The experiment trains its own networks from the data (borrowed, unchanged, or loaded here
 * from @cmd->text): the engine's model, strategy and curves stay as they are. Nothing else
 * runs meanwhile: commands wait in the queue, and stop cancels. */
void
_pl_worker_do_reproduce (PlWorker  *w,
                         PlCommand *cmd)
{
  g_autoptr(PlData) loaded = NULL;
  const PlData *data = w->data;
  PlReproduceOptions options = cmd->reproduce;
  Run run = { w, FALSE };
  PlEvent *ev;
  GError *error = NULL;
  int blas;

  if (cmd->text == NULL && data == NULL)
    {
      _pl_worker_fail (w, cmd, PL_ENGINE_ERROR, PL_ENGINE_ERROR_NO_DATA,
                       _("load a dataset before reproducing a paper"));
      return;
    }
  if (options.threads == 0)
    options.threads = w->threads;

  w->cancellable = cmd->cancellable;
  w->running = TRUE;
  _pl_worker_set_state (w, PL_ENGINE_STATE_BUSY, cmd->kind, -1.0);
  g_free (w->draft->progress_text);
  w->draft->progress_text = cmd->text != NULL ? g_strdup_printf (_("loading %s"), cmd->text) : NULL;
  _pl_worker_publish (w);

  ev = g_new0 (PlEvent, 1);
  ev->command = cmd->kind;
  ev->id = cmd->id;
  if (cmd->text != NULL)
    {
      PlDataOptions data_options = PL_DATA_OPTIONS_INIT;

      data = loaded = pl_data_load (cmd->text, &data_options, &error);
    }
  if (data != NULL)
    {
      blas = _pl_worker_blas_begin (w);
      ev->reproduction = pl_reproduce_run (cmd->paper, data, &options, on_progress, &run,
                                           cmd->cancellable, &error);
      _pl_worker_blas_end (blas);
    }
  if (error != NULL && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_clear_error (&error);   /* stopped: ok, without a result */

  w->running = FALSE;
  w->cancellable = NULL;
  g_clear_pointer (&w->draft->progress_text, g_free);
  if (w->held_preview != NULL)
    _pl_worker_handle (w, g_steal_pointer (&w->held_preview));
  _pl_worker_set_state (w, PL_ENGINE_STATE_IDLE, PL_ENGINE_COMMAND_NONE, -1.0);
  _pl_worker_publish (w);

  /* the result and done travel in one event, after the idle snapshot */
  ev->error = error;
  ev->ok = error == NULL;
  _pl_engine_post (w->engine, NULL, ev);
  _pl_engine_command_done (w->engine, cmd);
}
