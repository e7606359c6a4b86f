/* pl-reproduce-view.h — a paper reproduction (pl-reproduce.h) as people read it: the table's
 * cells, the settings in a line, the points as CSV and the accuracy-versus-sparsity chart
 *
 * One code path for `prunelab-cli reproduce` (its table, --csv and --plot), the app's
 * Reproduce a Paper dialog (its table, chart and Export) and the PDF report (pl-report.h).
 */
#pragma once

#include <glib.h>

#include "pl-chart-curves.h"
#include "pl-chart-export.h"
#include "pl-chart.h"
#include "pl-reproduce.h"

G_BEGIN_DECLS

/* "1.64%", "267000", "12×", or "—" for a value that is not finite. (transfer full) */
char      *pl_reproduce_format_value    (double                    value,
                                         const char               *unit);

/* The cells of a row of the paper-vs-measured table: the paper's value, the measured mean,
 * "min … max" over the seeds, the source ("Table 1", or "" when the paper gives none).
 * (transfer full: each cell) */
typedef struct {
  char *paper;
  char *mean;
  char *span;
  char *source;
} PlReproduceCells;

void       pl_reproduce_cells_init      (PlReproduceCells         *cells,
                                         const PlReproduceRow     *row);
void       pl_reproduce_cells_clear     (PlReproduceCells         *cells);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (PlReproduceCells, pl_reproduce_cells_clear)

/* The settings as run, in one translated line: "1 seed; dense training 3 epochs at lr 0.1
 * (sgd, batch 128); 3 rounds of 1 retraining epoch at lr 0.01". (transfer full) */
char      *pl_reproduce_settings_text   (const PlReproduceResult  *result);

/* The points as CSV: curve, seed, level, target_sparsity, sparsity, test_accuracy,
 * compression, speedup, early_stop, connected, layers.I.sparsity. (transfer full) */
GString   *pl_reproduce_points_csv      (const PlReproduceResult  *result);
/* The same saved with pl_file_save() (atomic, a failure names @path). */
gboolean   pl_reproduce_save_csv        (const PlReproduceResult  *result,
                                         const char               *path,
                                         GError                  **error);

/* The paper-vs-measured table as CSV, one row per number: key, label, unit, paper, mean,
 * min, max, seeds (how many measured it), source; the numbers in full precision, empty when
 * not finite (a number the paper does not give). (transfer full) */
GString   *pl_reproduce_table_csv       (const PlReproduceResult  *result);
/* The same saved with pl_file_save() (atomic, a failure names @path). */
gboolean   pl_reproduce_save_table_csv  (const PlReproduceResult  *result,
                                         const char               *path,
                                         GError                  **error);

/* The chart: test accuracy against the sparsity reached, one curve per curve name of the
 * points ("dense", "ticket", "reinit", "magnitude-global", …), the mean over the seeds at each
 * level and the min … max band (pl_curve_summarise). Draw view->chart with pl_chart_draw(). */
typedef struct _PlReproduceChart PlReproduceChart;

struct _PlReproduceChart
{
  PlCurveSet  curves;     /* first: a PlReproduceChart * is a PlCurveSet * (for a view that
                           * frees the data it draws with pl_reproduce_chart_free) */
  PlChart     chart;      /* kind CURVES, data: &curves */
  /*< private >*/
  GPtrArray  *storage;
};

PlReproduceChart *pl_reproduce_chart_new  (const PlReproduceResult  *result);
void              pl_reproduce_chart_free (PlReproduceChart         *chart);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PlReproduceChart, pl_reproduce_chart_free)

/* The chart into @path (.png, .svg or .pdf from the name) at 1200 × 800 pixels, 96 DPI, light
 * theme, as prunelab-cli's --plot draws every chart. */
#define PL_REPRODUCE_CHART_WIDTH  1200
#define PL_REPRODUCE_CHART_HEIGHT 800
gboolean          pl_reproduce_chart_export (const PlReproduceResult  *result,
                                             const char               *path,
                                             GError                  **error);

/* A `prunelab-cli reproduce --json` file read back, for the report (prunelab-cli report
 * --reproduce): its paper, quick, seeds, arch, numbers and points; the settings are the
 * paper's for that run (quick or full) with the file's seeds and, for blalock2020, its score.
 * Numbers the file gives as null (not finite) are NaN; the points' per-layer sparsities are
 * not read (NaN). A file that is not such a result fails with PL_FORMAT_ERROR naming it and
 * the place. (transfer full) */
PlReproduceResult *pl_reproduce_result_load_json (const char  *path,
                                                  GError     **error);

G_END_DECLS
