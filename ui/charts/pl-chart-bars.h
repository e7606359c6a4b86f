/* pl-chart-bars.h — grouped bars: per-layer sparsity measures, strategy comparisons */
#pragma once

#include <cairo.h>
#include <glib.h>

#include "pl-chart-style.h"

G_BEGIN_DECLS

typedef struct {
  const char          *title;          /* may be NULL: "Sparsity per layer" */
  const char          *y_label;        /* may be NULL: "sparsity" */
  const char          *note;           /* may be NULL */
  guint                n_groups;       /* e.g. layers */
  const char * const  *group_names;    /* borrowed, (n_groups) */
  guint                n_series;       /* e.g. parameter, structural, relative sparsity */
  const char * const  *series_names;   /* borrowed, (n_series) */
  const double        *values;         /* borrowed, (n_groups, n_series); NaN: no bar */
  PlChartNumber        format;         /* PERCENT: the axis runs 0 … 100 % */
} PlBarsData;

void         pl_chart_draw_bars           (cairo_t            *cr,
                                           double              width,
                                           double              height,
                                           const PlBarsData   *data,
                                           const PlChartStyle *style);
/* x: group (group g spans g..g+1), y: value. */
gboolean     pl_chart_bars_layout         (cairo_t            *cr,
                                           double              width,
                                           double              height,
                                           const PlBarsData   *data,
                                           const PlChartStyle *style,
                                           PlChartArea        *area);
const char  *pl_chart_bars_empty_message  (const PlBarsData   *data);
/* group,series,value */
void         pl_chart_bars_write_csv      (const PlBarsData   *data,
                                           GString            *csv);

G_END_DECLS
