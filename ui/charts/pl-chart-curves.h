/* pl-chart-curves.h — sparsity-versus-accuracy curves (and per-layer sensitivity)
 *
 * Several strategies on one chart: a mean line with markers at the measured sparsities, a band
 * of the spread over seeds, the dense accuracy as a dashed reference line. With log_remaining
 * the x axis is the fraction of weights remaining on a log scale, falling from 100 % on the
 * left, as in the lottery-ticket papers (a point at sparsity 1 cannot be shown there).
 */
#pragma once

#include <cairo.h>
#include <glib.h>

#include "pl-chart-style.h"

G_BEGIN_DECLS

typedef enum {
  PL_SPREAD_NONE,
  PL_SPREAD_MIN_MAX,    /* lo, hi: the smallest and largest value over seeds */
  PL_SPREAD_SD,         /* lo, hi: mean ∓ one (sample) standard deviation */
} PlSpread;

typedef struct {
  const char   *name;   /* borrowed: the strategy or layer */
  guint         n;
  const double *x;      /* borrowed, (n): sparsity 0..1, ascending */
  const double *y;      /* borrowed, (n): mean accuracy (or other value) */
  const double *lo;     /* borrowed, (n), may be NULL: the band */
  const double *hi;
} PlCurve;

typedef struct {
  const char     *title;            /* may be NULL: "Accuracy after pruning" */
  const char     *x_label;          /* may be NULL: "sparsity (share of weights pruned)" */
  const char     *y_label;          /* may be NULL: "test accuracy" */
  guint           n_curves;
  const PlCurve  *curves;           /* borrowed */
  double          reference;        /* dense accuracy; NaN: none */
  const char     *reference_label;  /* may be NULL: "dense" */
  PlSpread        spread;           /* what lo and hi mean, for the legend */
  guint           n_seeds;          /* for the legend; 0: not said */
  gboolean        log_remaining;
  PlChartNumber   y_format;         /* PERCENT (accuracy, kept within 0..1) or PLAIN */
} PlCurveSet;

/* Per-layer sensitivity: one curve per layer, each layer pruned alone. */
typedef PlCurveSet PlSensitivityData;

/* Groups (x, y) samples by equal x (seeds of one sparsity) into ascending x with the mean and
 * the spread; outputs hold n entries; returns the number of distinct x. Non-finite samples are
 * skipped. */
guint        pl_curve_summarise             (const double      *x,
                                             const double      *y,
                                             guint              n,
                                             PlSpread           spread,
                                             double            *out_x,
                                             double            *out_mean,
                                             double            *out_lo,
                                             double            *out_hi);

void         pl_chart_draw_curves           (cairo_t           *cr,
                                             double             width,
                                             double             height,
                                             const PlCurveSet  *data,
                                             const PlChartStyle *style);
void         pl_chart_draw_sensitivity      (cairo_t           *cr,
                                             double             width,
                                             double             height,
                                             const PlSensitivityData *data,
                                             const PlChartStyle *style);
/* x: sparsity (or, with log_remaining, the fraction remaining, 1 − sparsity), y: accuracy.
 * FALSE for the empty state. */
gboolean     pl_chart_curves_layout         (cairo_t           *cr,
                                             double             width,
                                             double             height,
                                             const PlCurveSet  *data,
                                             const PlChartStyle *style,
                                             PlChartArea       *area);
gboolean     pl_chart_sensitivity_layout    (cairo_t           *cr,
                                             double             width,
                                             double             height,
                                             const PlSensitivityData *data,
                                             const PlChartStyle *style,
                                             PlChartArea       *area);
/* NULL when drawable; fewer than two distinct sparsities is the empty state. */
const char  *pl_chart_curves_empty_message  (const PlCurveSet  *data);
/* series,sparsity,value,lo,hi — each plotted point, then the reference ("dense,,acc,,"). */
void         pl_chart_curves_write_csv      (const PlCurveSet  *data,
                                             GString           *csv);

G_END_DECLS
