/* pl-chart-view.h — a widget that draws one chart with the shared cairo renderers
 *
 * The chart's data is plain (ui/charts), owned by the caller through a GDestroyNotify: the view
 * draws it on every snapshot through gtk_snapshot_append_cairo and exports it to PNG, SVG, PDF
 * or CSV with the same code the CLI uses.
 */
#pragma once

#include <gtk/gtk.h>

#include "pl-chart.h"

G_BEGIN_DECLS

#define PL_TYPE_CHART_VIEW (pl_chart_view_get_type ())

G_DECLARE_FINAL_TYPE (PlChartView, pl_chart_view, PL, CHART_VIEW, GtkWidget)

GtkWidget     *pl_chart_view_new        (void);
/* Draws @data (a struct of @kind's type) from now on; @free_data releases it (and whatever
 * its pointers borrow from) when it is replaced. */
void           pl_chart_view_set_chart  (PlChartView        *self,
                                         PlChartKind         kind,
                                         gpointer            data,
                                         GDestroyNotify      free_data);
/* (transfer none) NULL before the first chart. */
const PlChart *pl_chart_view_get_chart  (PlChartView        *self);
void           pl_chart_view_set_style  (PlChartView        *self,
                                         const PlChartStyle *style);
/* The plot area of the chart as drawn at the widget's size, for pointer mapping. FALSE when
 * the chart kind has no such area or draws its empty state. */
gboolean       pl_chart_view_get_area   (PlChartView        *self,
                                         PlChartArea        *area);
/* Writes the chart to @path: the format from the extension (.png at twice the widget's size
 * and 192 DPI, .svg, .pdf at the widget's size, .csv the plotted numbers). Atomic. */
gboolean       pl_chart_view_export     (PlChartView        *self,
                                         const char         *path,
                                         GError            **error);

G_END_DECLS
