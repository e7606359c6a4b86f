/* pl-chart.h — every chart kind behind one handle, for export and the CLI
 *
 * A PlChart names a kind and borrows the kind's plain data struct, so one code path draws any
 * chart on screen, into PNG, SVG or PDF (pl-chart-export.h) and writes its CSV.
 */
#pragma once

#include <cairo.h>
#include <glib.h>

#include "pl-chart-bars.h"
#include "pl-chart-boundary.h"
#include "pl-chart-confusion.h"
#include "pl-chart-curves.h"
#include "pl-chart-feature-maps.h"
#include "pl-chart-fields.h"
#include "pl-chart-filters.h"
#include "pl-chart-heatmap.h"
#include "pl-chart-histogram.h"
#include "pl-chart-network.h"
#include "pl-chart-style.h"
#include "pl-chart-training.h"

G_BEGIN_DECLS

typedef enum {
  PL_CHART_HEATMAP,       /* PlHeatmapData */
  PL_CHART_FIELDS,        /* PlFieldsData */
  PL_CHART_HISTOGRAM,     /* PlHistogramData */
  PL_CHART_CURVES,        /* PlCurveSet */
  PL_CHART_SENSITIVITY,   /* PlSensitivityData */
  PL_CHART_TRAINING,      /* PlTrainingData */
  PL_CHART_GRAD_NORM,     /* PlGradNormData */
  PL_CHART_CONFUSION,     /* PlConfusionData */
  PL_CHART_BOUNDARY,      /* PlBoundaryData */
  PL_CHART_NETWORK,       /* PlNetworkData */
  PL_CHART_BARS,          /* PlBarsData */
  PL_CHART_FILTERS,       /* PlFiltersData */
  PL_CHART_FEATURE_MAPS,  /* PlFeatureMapsData */
  PL_CHART_N_KINDS
} PlChartKind;

typedef struct {
  PlChartKind   kind;
  gconstpointer data;     /* borrowed: the struct of the kind */
} PlChart;

void         pl_chart_draw           (cairo_t            *cr,
                                      double              width,
                                      double              height,
                                      const PlChart      *chart,
                                      const PlChartStyle *style);
/* The plot area of the chart drawn at @width × @height (for hit tests: a pointer position to a
 * value, a cell, a bin), as the kind's own layout function gives it; FALSE, with @area zeroed,
 * when the chart is empty, too small, or of a kind without one plot area (fields, network,
 * training, filters, feature maps). */
gboolean     pl_chart_layout         (cairo_t            *cr,
                                      double              width,
                                      double              height,
                                      const PlChart      *chart,
                                      const PlChartStyle *style,
                                      PlChartArea        *area);
/* NULL when the chart has something to draw, else its empty-state message. (transfer none) */
const char  *pl_chart_empty_message  (const PlChart      *chart);
/* The plotted numbers as CSV with a header row ('.' decimals, numbers that read back exactly).
 * (transfer full) */
char        *pl_chart_to_csv         (const PlChart      *chart);

G_END_DECLS
