/* pl-reproduce-dialog.h — Reproduce a Paper: a paper's experiment (pl-reproduce.h) run on the
 * engine thread, with its stages, then the paper-vs-measured table and the chart, exported
 * as prunelab-cli reproduce --plot and --csv write them
 */
#pragma once

#include <adwaita.h>

#include "pl-engine.h"

G_BEGIN_DECLS

#define PL_TYPE_REPRODUCE_DIALOG (pl_reproduce_dialog_get_type ())

G_DECLARE_FINAL_TYPE (PlReproduceDialog, pl_reproduce_dialog, PL, REPRODUCE_DIALOG, AdwWindow)

/* A dialog over @parent running on @engine (borrowed for the dialog's life: the window owns
 * it); it shows the engine's newest reproduction, if any, until Run. (transfer floating:
 * a toplevel, destroyed when closed) */
PlReproduceDialog *pl_reproduce_dialog_new        (GtkWindow          *parent,
                                                   PlEngine           *engine);
/* Chooses the paper, quick or full and the seeds as a user would (tests, screenshots). */
void               pl_reproduce_dialog_set_choice (PlReproduceDialog  *self,
                                                   PlPaper             paper,
                                                   gboolean            quick,
                                                   guint               seeds);
/* TRUE while the dialog's run is queued or running. */
gboolean           pl_reproduce_dialog_is_running (PlReproduceDialog  *self);
/* The table's text, row by row, cells separated by tabs (the header first), for tests; NULL
 * before a result is shown. (transfer full) */
char              *pl_reproduce_dialog_get_table_text (PlReproduceDialog *self);
/* What the status line says (an error, "Stopped"). (transfer none) */
const char        *pl_reproduce_dialog_get_status (PlReproduceDialog  *self);
/* Export: the chart to .png, .svg or .pdf, or the points to .csv, from the extension — the
 * file chooser's answer goes here. */
gboolean           pl_reproduce_dialog_export     (PlReproduceDialog  *self,
                                                   const char         *path,
                                                   GError            **error);
/* Export the paper-vs-measured table as CSV (pl_reproduce_table_csv()), as reproduce
 * --table-csv writes it. */
gboolean           pl_reproduce_dialog_export_table (PlReproduceDialog *self,
                                                     const char        *path,
                                                     GError           **error);

G_END_DECLS
