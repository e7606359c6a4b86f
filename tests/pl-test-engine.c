/* pl-test-engine.c — see pl-test-engine.h */
#include "config.h"

#include "pl-test-engine.h"

#include <string.h>

static void
on_snapshot (PlEngine     *engine,
             PlSnapshot   *snapshot,
             PlTestEngine *r)
{
  g_assert_true (pl_engine_get_snapshot (engine) == snapshot);
  g_assert_cmpuint (snapshot->serial, >, r->last_serial);
  r->last_serial = snapshot->serial;
  r->n_snapshots++;
  r->changed |= snapshot->changed;
  r->states_seen |= 1u << snapshot->state;
  if (r->on_snapshot != NULL)
    r->on_snapshot (r, snapshot);
  g_clear_pointer (&r->last, pl_snapshot_unref);
  r->last = pl_snapshot_ref (snapshot);
}

static void
on_error (PlEngine     *engine,
          const GError *error,
          PlTestEngine *r)
{
  g_test_message ("engine error: %s", error->message);
  g_ptr_array_add (r->errors, g_error_copy (error));
}

static void
on_done (PlEngine     *engine,
         guint         command,
         guint         id,
         gboolean      ok,
         PlTestEngine *r)
{
  g_array_append_val (r->done, id);
  g_array_append_val (r->done_ok, ok);
}

void
pl_test_engine_init (PlTestEngine       *r,
                     guint               threads,
                     PlTestSnapshotFunc  snapshot_func,
                     gpointer            user_data)
{
  memset (r, 0, sizeof *r);
  r->engine = pl_engine_new (threads);
  r->errors = g_ptr_array_new_with_free_func ((GDestroyNotify) g_error_free);
  r->done = g_array_new (FALSE, FALSE, sizeof (guint));
  r->done_ok = g_array_new (FALSE, FALSE, sizeof (gboolean));
  r->on_snapshot = snapshot_func;
  r->user_data = user_data;
  g_signal_connect (r->engine, "snapshot", G_CALLBACK (on_snapshot), r);
  g_signal_connect (r->engine, "error", G_CALLBACK (on_error), r);
  g_signal_connect (r->engine, "done", G_CALLBACK (on_done), r);
}

void
pl_test_engine_clear (PlTestEngine *r)
{
  g_assert_finalize_object (g_steal_pointer (&r->engine));
  g_clear_pointer (&r->last, pl_snapshot_unref);
  g_ptr_array_unref (r->errors);
  g_array_unref (r->done);
  g_array_unref (r->done_ok);
  /* nothing may be left for a loop that is not running any more */
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

static gboolean
tick_cb (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

void
pl_test_engine_wait_until (PlTestEngine    *r,
                           PlTestCondition  cond,
                           gconstpointer    data,
                           guint            timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + timeout_ms * (gint64) 1000;
  guint tick = g_timeout_add (20, tick_cb, NULL);

  while (!cond (r, data))
    {
      if (g_get_monotonic_time () > deadline)
        g_error ("timed out waiting for the engine");
      g_main_context_iteration (NULL, TRUE);
    }
  g_source_remove (tick);
}

gint
pl_test_engine_done_index (PlTestEngine *r,
                           guint         id)
{
  for (guint i = 0; i < r->done->len; i++)
    if (g_array_index (r->done, guint, i) == id)
      return (gint) i;
  return -1;
}

static gboolean
is_done (PlTestEngine  *r,
         gconstpointer  data)
{
  return pl_test_engine_done_index (r, GPOINTER_TO_UINT (data)) >= 0;
}

gboolean
pl_test_engine_wait_done (PlTestEngine *r,
                          guint         id,
                          guint         timeout_ms)
{
  g_assert_cmpuint (id, >, 0);
  pl_test_engine_wait_until (r, is_done, GUINT_TO_POINTER (id), timeout_ms);
  return g_array_index (r->done_ok, gboolean, pl_test_engine_done_index (r, id));
}

void
pl_test_engine_wait_preview (PlTestEngine *r,
                             guint64       request,
                             guint         timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + timeout_ms * (gint64) 1000;
  guint tick = g_timeout_add (20, tick_cb, NULL);
  guint errors = r->errors->len;

  while (r->last == NULL || !r->last->has_preview || r->last->preview_request != request)
    {
      if (g_get_monotonic_time () > deadline)
        g_error ("timed out waiting for the preview");
      if (r->errors->len > errors)
        g_error ("the preview failed: %s", pl_test_engine_error (r, errors)->message);
      g_main_context_iteration (NULL, TRUE);
    }
  g_source_remove (tick);
}

const GError *
pl_test_engine_error (PlTestEngine *r,
                      guint         i)
{
  g_assert_cmpuint (i, <, r->errors->len);
  return g_ptr_array_index (r->errors, i);
}
