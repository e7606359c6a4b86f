/* pl-chart-histogram.h — a histogram of scores with threshold lines and the share pruned at each
 *
 * Any score array works: the caller bins it (pl_histogram_bin) and says what share of the
 * candidates each threshold prunes (scores below it are pruned).
 */
#pragma once

#include <cairo.h>
#include <glib.h>

#include "pl-chart-style.h"

G_BEGIN_DECLS

typedef struct {
  const char   *title;          /* may be NULL: "Score histogram" */
  const char   *x_label;        /* may be NULL: "score" */
  const char   *note;           /* a line under the title, may be NULL */
  guint         n_bins;
  double        lo, hi;         /* bin i spans lo + i·(hi − lo)/n_bins … the next */
  const double *counts;         /* borrowed, (n_bins) */
  gboolean      log_count;      /* log count axis (empty bins left out) */
  guint         n_thresholds;
  const double *thresholds;     /* borrowed, (n_thresholds) */
  const double *shares;         /* borrowed, (n_thresholds): share pruned at each, 0..1; may be NULL */
} PlHistogramData;

/* Counts @values (non-finite ones skipped) into @n_bins bins between lo and hi; values at hi go
 * into the last bin, values outside are left out. @counts holds n_bins. */
void         pl_histogram_bin                  (const float           *values,
                                                gsize                  n,
                                                guint                  n_bins,
                                                double                 lo,
                                                double                 hi,
                                                double                *counts);

void         pl_chart_draw_histogram           (cairo_t               *cr,
                                                double                 width,
                                                double                 height,
                                                const PlHistogramData *data,
                                                const PlChartStyle    *style);
/* x: the score, y: the count. A threshold dragged to pixel px is
 * pl_chart_area_value_x (area, px). FALSE for the empty state. */
gboolean     pl_chart_histogram_layout         (cairo_t               *cr,
                                                double                 width,
                                                double                 height,
                                                const PlHistogramData *data,
                                                const PlChartStyle    *style,
                                                PlChartArea           *area);
const char  *pl_chart_histogram_empty_message  (const PlHistogramData *data);
/* series,lo,hi,value — "count" rows per bin, then "threshold" rows (lo = hi = the threshold,
 * value = the share pruned). */
void         pl_chart_histogram_write_csv      (const PlHistogramData *data,
                                                GString               *csv);

G_END_DECLS
