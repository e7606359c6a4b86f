/* pl-lesson-panel.h — the lesson on the side of the window: the step's title, explanation,
 * formula and what to notice, step n of N, Previous and Next
 *
 * The panel only shows; its buttons activate the window's actions (win.lesson-previous,
 * win.lesson-next, win.lesson-close, win.teacher-mode), which run the step (pl-window-lesson.c).
 */
#pragma once

#include <gtk/gtk.h>

#include "pl-lesson.h"

G_BEGIN_DECLS

#define PL_TYPE_LESSON_PANEL (pl_lesson_panel_get_type ())

G_DECLARE_FINAL_TYPE (PlLessonPanel, pl_lesson_panel, PL, LESSON_PANEL, GtkBox)

GtkWidget  *pl_lesson_panel_new       (void);
/* Shows step @step of @lesson (borrowed: it must outlive the panel's showing it), in the
 * user's language. */
void        pl_lesson_panel_show_step (PlLessonPanel  *self,
                                       const PlLesson *lesson,
                                       guint           step);
/* The Next button (at the top, under "Step n of N", so that it stays on a 720-pixel screen),
 * where the keyboard goes after a step is entered. (transfer none) */
GtkWidget  *pl_lesson_panel_get_next_button (PlLessonPanel *self);

G_END_DECLS
