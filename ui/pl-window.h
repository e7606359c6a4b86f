/* pl-window.h — the main window: settings on the side, charts in the middle, the live drag */
#pragma once

#include <adwaita.h>

#include "pl-application.h"
#include "pl-engine.h"
#include "pl-lesson.h"
#include "pl-reproduce-dialog.h"

G_BEGIN_DECLS

#define PL_TYPE_WINDOW (pl_window_get_type ())

G_DECLARE_FINAL_TYPE (PlWindow, pl_window, PL, WINDOW, AdwApplicationWindow)

/* @app may be NULL (tests). */
PlWindow  *pl_window_new       (PlApplication *app);
/* (transfer none) */
PlEngine  *pl_window_get_engine (PlWindow     *self);
/* Runs automation steps (see prunelab --help): for screenshots, tests and benchmarks. */
void       pl_window_automate  (PlWindow      *self,
                                const char    *steps);
/* TRUE while no command the window sent is unfinished and the newest preview is answered. */
gboolean   pl_window_is_idle   (PlWindow      *self);
/* Sets the sparsity slider (0 … 99, in percent), as a user would. */
void       pl_window_set_sparsity (PlWindow   *self,
                                   double      percent);
/* The id of the newest preview the window asked the engine for (0: none). */
guint64    pl_window_get_last_preview (PlWindow *self);
/* What the read-outs show, for tests. (transfer none) */
const char *pl_window_get_accuracy_text (PlWindow *self);
const char *pl_window_get_readout_text  (PlWindow *self);
/* Opens the Reproduce a Paper dialog (win.reproduce), or brings the open one to the front.
 * (transfer none) */
PlReproduceDialog *pl_window_open_reproduce (PlWindow *self);
/* Exports the chart of the visible page to @path (format from the extension). */
gboolean   pl_window_export_visible (PlWindow    *self,
                                     const char  *path,
                                     GError     **error);
/* Runs a lesson step: its view and settings, then its actions, as a user would; done when
 * pl_window_is_idle(). */
void       pl_window_run_lesson_step (PlWindow           *self,
                                      const PlLessonStep *step);
/* Opens the installed lesson @id at @step (0-based): the steps up to it run in order, as
 * Next would run them. FALSE (and @error) when no lesson has that id or step. */
gboolean   pl_window_open_lesson     (PlWindow    *self,
                                      const char  *id,
                                      guint        step,
                                      GError     **error);
/* The open lesson (NULL: none) and the step shown. (transfer none) */
const PlLesson *pl_window_get_lesson (PlWindow    *self,
                                      guint       *step);
/* The installed lessons, as the Lessons menu lists them. (transfer none: PlLesson) */
GPtrArray *pl_window_get_lessons     (PlWindow    *self);
/* Teacher mode: controls the lesson's step does not use are hidden or locked. */
void       pl_window_set_teacher_mode (PlWindow   *self,
                                       gboolean    teacher_mode);
/* Opens a session file (.prunelab) as the Open Session dialog would: a file that does not
 * load shows its message and changes nothing. */
gboolean   pl_window_open_session_path (PlWindow   *self,
                                        const char *path);
/* Saves the session as Save Session As would (the engine saves; done when idle). */
gboolean   pl_window_save_session_path (PlWindow   *self,
                                        const char *path);
/* Writes the PDF report of the current state as Export Report would (the engine saves a
 * session first; done when idle, with a toast on success or failure). */
void       pl_window_export_report (PlWindow   *self,
                                    const char *path);
/* Opens a model file as the Open dialog would. */
void       pl_window_open_model_path (PlWindow   *self,
                                      const char *path);

G_END_DECLS
