/* pl-report.h — a session's report: a multi-page PDF drawn with cairo and the chart renderers
 *
 * What a report writer hands in with a figure: A4 pages, in the UI language (gettext),
 *   1…  the title, date, software version and source; the dataset with its SHA-256; the
 *       architecture; the training settings and history; the strategy (score, its formula and
 *       source, scope, slider position); the accuracy and sparsity reached
 *   then the per-layer metrics table (pl-metrics.h: parameter, structural and relative
 *       sparsity, Hoyer, FLOPs and sizes)
 *   then the figures, two per page, each drawn by the renderer the app and prunelab-cli plot
 *       use (pl-chart.h) and numbered with a caption: training curves, gradient norm,
 *       sparsity-vs-accuracy curves, the weights of every layer (or the first layer's
 *       receptive fields for image data), the score histogram with the slider's threshold,
 *       sparsity per layer, the network, the confusion matrix and, for 2-D data, the decision
 *       boundary — each when the session has what it needs
 *   and, when a paper reproduction is given (pl-reproduce.h: the one run in the app's session,
 *       or a `prunelab-cli reproduce --json` file read back), its paper-vs-measured table
 *       after the metrics and its accuracy-versus-sparsity chart after the other figures.
 * @data are the session's data (checked by the caller, pl_session_check_data()), or NULL:
 * the report then leaves out what needs them (evaluation, confusion matrix, boundary,
 * data-driven scores). Uses the engine for the evaluation and scores; draws nothing with GTK.
 */
#pragma once

#include <glib.h>

#include "pl-dataset.h"
#include "pl-reproduce.h"
#include "pl-session.h"

G_BEGIN_DECLS

#define PL_REPORT_MAX_FIGURES 32

typedef struct {
  guint  n_pages;
  guint  n_figures;
  char  *captions[PL_REPORT_MAX_FIGURES];   /* owned: "Figure 1. Training: …" */
} PlReportInfo;

void      pl_report_info_clear (PlReportInfo    *info);

/* The PDF's bytes; @reproduction may be NULL (no reproduction section); @source names the
 * session (a file name) on the title page; @info (may be NULL) receives the pages and
 * captions. (transfer full) */
GBytes   *pl_report_render     (const PlSession         *session,
                                const PlData            *data,
                                const PlReproduceResult *reproduction,
                                const char              *source,
                                PlReportInfo            *info,
                                GError                 **error);
/* The same saved with pl_file_save(): atomic, a failure names @path. */
gboolean  pl_report_save       (const PlSession         *session,
                                const PlData            *data,
                                const PlReproduceResult *reproduction,
                                const char              *source,
                                const char              *path,
                                PlReportInfo            *info,
                                GError                 **error);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (PlReportInfo, pl_report_info_clear)

G_END_DECLS
