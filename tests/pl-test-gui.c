/* pl-test-gui.c — what the GUI tests share (pl-test-gui.h) */
#include "config.h"

#include "pl-test-gui.h"

static gboolean
timed_out (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

gboolean
pl_test_wait_for (gboolean (*cond) (gpointer),
                  gpointer  data,
                  guint     seconds)
{
  gboolean expired = FALSE;
  guint id = g_timeout_add_seconds (seconds, timed_out, &expired);

  while (!cond (data) && !expired)
    g_main_context_iteration (NULL, TRUE);
  if (!expired)
    g_source_remove (id);
  return !expired;
}

gboolean
pl_test_window_idle (gpointer window)
{
  return pl_window_is_idle (window);
}

void
pl_test_run_for (guint ms)
{
  gboolean expired = FALSE;

  g_timeout_add (ms, timed_out, &expired);
  while (!expired)
    g_main_context_iteration (NULL, TRUE);
}

GtkWidget *
pl_test_find_widget (GtkWidget  *root,
                     GType       type,
                     const char *action)
{
  if (G_TYPE_CHECK_INSTANCE_TYPE (root, type)
      && (action == NULL || (GTK_IS_ACTIONABLE (root)
                             && g_strcmp0 (gtk_actionable_get_action_name (GTK_ACTIONABLE (root)), action) == 0)))
    return root;
  for (GtkWidget *c = gtk_widget_get_first_child (root); c != NULL; c = gtk_widget_get_next_sibling (c))
    {
      GtkWidget *found = pl_test_find_widget (c, type, action);

      if (found != NULL)
        return found;
    }
  return NULL;
}
