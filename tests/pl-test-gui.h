/* pl-test-gui.h — what the GUI tests share: running the main loop until a condition holds or
 * for a while, and finding a widget of the window */
#pragma once

#include <gtk/gtk.h>

#include "pl-window.h"

G_BEGIN_DECLS

/* Iterates the main loop until @cond holds (TRUE) or @seconds pass (FALSE). */
gboolean   pl_test_wait_for     (gboolean  (*cond) (gpointer data),
                                 gpointer    data,
                                 guint       seconds);
/* A condition for pl_test_wait_for(): pl_window_is_idle() of @window. */
gboolean   pl_test_window_idle  (gpointer    window);
/* Iterates the main loop for about @ms milliseconds: frames are drawn, idles run. */
void       pl_test_run_for      (guint       ms);
/* The first widget under @root (itself included) of @type whose action-name is @action (NULL:
 * any), depth first, or NULL. (transfer none) */
GtkWidget *pl_test_find_widget  (GtkWidget  *root,
                                 GType       type,
                                 const char *action);

G_END_DECLS
