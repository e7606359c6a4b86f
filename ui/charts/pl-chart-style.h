/* pl-chart-style.h — themes, palettes, ticks, number formats and plot-area mapping of the charts
 *
 * Every chart is drawn by a function of plain data:
 *
 *   void pl_chart_draw_X (cairo_t *cr, double width, double height,
 *                         const PlXData *data, const PlChartStyle *style);
 *
 * in logical pixels (1/96 inch, as GTK's), cairo's y axis pointing down, from (0, 0) to
 * (width, height). Data is first normalised to 0..1 along each axis (pl_chart_axis_fraction),
 * then scaled into the plot area (PlChartArea), so the screen, PNG, SVG and PDF and the CLI all
 * run the same code. Text goes through Pango with absolute sizes in logical pixels.
 *
 * Only cairo, Pango and GLib: no GTK, no engine.
 */
#pragma once

#include <cairo.h>
#include <glib.h>

G_BEGIN_DECLS

#define PL_CHART_ERROR (pl_chart_error_quark ())

typedef enum {
  PL_CHART_ERROR_INVALID,   /* a bad name, size or option */
  PL_CHART_ERROR_FAILED,    /* cairo could not draw or encode */
} PlChartError;

GQuark pl_chart_error_quark (void);

typedef struct {
  double r, g, b, a;        /* 0..1, not premultiplied */
} PlRgba;

typedef enum {
  PL_CHART_THEME_LIGHT,
  PL_CHART_THEME_DARK,
  PL_CHART_THEME_PRESENTATION,  /* light, large fonts, thick lines, high contrast */
} PlChartTheme;

#define PL_CHART_N_SERIES 8

typedef struct {
  PlChartTheme  theme;
  const char   *font_family;     /* borrowed, static: a fontconfig family list */
  double        font_size;       /* tick labels, legends, notes (logical px) */
  double        label_size;      /* axis titles */
  double        title_size;      /* chart title, bold */
  double        line_width;      /* data lines */
  double        axis_width;      /* axes, grid is half of it */
  double        marker_radius;   /* data points */
  double        padding;         /* around the chart */
  PlRgba        background;      /* alpha 0: leave what is under the chart */
  PlRgba        foreground;      /* text and axes */
  PlRgba        muted;           /* tick labels, notes */
  PlRgba        grid;
  PlRgba        mask;            /* pruned weights; no colour of the maps comes near it */
  PlRgba        dead;            /* dead neurons, pruned edges */
  PlRgba        reference;       /* the dense reference line */
  PlRgba        series[PL_CHART_N_SERIES];  /* Okabe–Ito, ordered for the background */
  gboolean      dark_diverging;  /* diverging map through a dark centre (dark theme) */
} PlChartStyle;

void         pl_chart_style_init     (PlChartStyle       *style,
                                      PlChartTheme        theme);
/* "light", "dark" or "presentation". */
gboolean     pl_chart_theme_parse    (const char         *name,
                                      PlChartTheme       *theme,
                                      GError            **error);
const char  *pl_chart_theme_to_string (PlChartTheme       theme);

/* Colours. @t is −1..1 for the diverging map (0 the centre), 0..1 for the sequential one
 * (viridis-like: dark purple to yellow, perceptually ordered, colour-blind safe). Values out
 * of range are clamped; NaN gives the mask colour of the light theme. */
void         pl_chart_series_colour  (const PlChartStyle *style,
                                      guint               index,
                                      PlRgba             *colour);
/* The line pattern of series @index: solid for the first PL_CHART_N_SERIES series, dashed for
 * the next, dotted for the next, then again, so that series sharing a colour still differ.
 * Fills @dash and returns its length for cairo_set_dash(), 0 for a solid line. */
guint        pl_chart_series_dash    (const PlChartStyle *style,
                                      guint               index,
                                      double              dash[2]);
void         pl_chart_diverging      (const PlChartStyle *style,
                                      double              t,
                                      PlRgba             *colour);
void         pl_chart_sequential     (double              t,
                                      PlRgba             *colour);
/* 256-entry tables of opaque CAIRO_FORMAT_RGB24/ARGB32 pixels: entry i is t = i/255 (sequential)
 * or t = 2·i/255 − 1 (diverging). (transfer none, static) */
const guint32 *pl_chart_diverging_lut  (const PlChartStyle *style);
const guint32 *pl_chart_sequential_lut (void);
guint32      pl_rgba_to_pixel        (const PlRgba       *colour);
/* @colour mixed with @other: t = 0 gives @colour, 1 gives @other. */
void         pl_rgba_mix             (const PlRgba       *colour,
                                      const PlRgba       *other,
                                      double              t,
                                      PlRgba             *out);
void         pl_chart_set_source     (cairo_t            *cr,
                                      const PlRgba       *colour);

/* Ticks: "nice" values 1, 2 or 5 × 10^k apart. */
#define PL_CHART_MAX_TICKS 40

typedef struct {
  guint  n;
  double step;                     /* linear: the spacing; log: the smallest decade step */
  double values[PL_CHART_MAX_TICKS];
} PlChartTicks;

/* The nice step for about @target intervals over @span (> 0). */
double       pl_chart_nice_step      (double              span,
                                      guint               target);
/* Widens [lo, hi] outwards to multiples of the nice step; lo == hi is widened around the value. */
void         pl_chart_nice_range     (double             *lo,
                                      double             *hi,
                                      guint               target);
/* Tick values inside [min (lo, hi), max (lo, hi)], ascending. */
void         pl_chart_ticks_linear   (double              lo,
                                      double              hi,
                                      guint               target,
                                      PlChartTicks       *ticks);
/* Powers of ten inside the range (both > 0), with 2 and 5 between them when it spans fewer
 * than three decades. */
void         pl_chart_ticks_log      (double              lo,
                                      double              hi,
                                      guint               target,
                                      PlChartTicks       *ticks);

typedef enum {
  PL_CHART_NUMBER_PLAIN,    /* 0.25, 1.5k, 2×10⁻⁵ */
  PL_CHART_NUMBER_PERCENT,  /* 0.25 → 25 % */
  PL_CHART_NUMBER_INTEGER,  /* counts: 12 000 → 12k */
} PlChartNumber;

/* Formats @value for a label on an axis whose ticks are @step apart (which sets the decimals);
 * a true minus sign, SI suffixes from 10 000, powers of ten for tiny steps. @step 0: as many
 * digits as needed, at most 4 significant. Writes at most @size bytes with the final NUL. */
void         pl_chart_format_number  (char               *buf,
                                      gsize               size,
                                      double              value,
                                      double              step,
                                      PlChartNumber       format);

/* An axis: its shown range and scale. lo > hi is allowed (a reversed axis). */
typedef struct {
  double        lo, hi;
  gboolean      log;        /* log10 scale; lo and hi > 0 */
  PlChartNumber format;
} PlChartAxis;

/* Where @value lies on the axis: 0 at lo, 1 at hi (outside 0..1 when out of range). */
double       pl_chart_axis_fraction  (const PlChartAxis  *axis,
                                      double              value);
double       pl_chart_axis_value     (const PlChartAxis  *axis,
                                      double              fraction);

/* The plot rectangle of a chart and the axes mapped onto it: x grows to the right, y upwards
 * (lo at the bottom). Layout functions of the renderers return it, so the GUI can hit-test
 * (drag a threshold) and tests can compute where a value lands. */
typedef struct {
  double      x, y, width, height;  /* logical px, top-left corner and size */
  PlChartAxis x_axis, y_axis;
} PlChartArea;

double       pl_chart_area_x         (const PlChartArea  *area,
                                      double              value);
double       pl_chart_area_y         (const PlChartArea  *area,
                                      double              value);
double       pl_chart_area_value_x   (const PlChartArea  *area,
                                      double              px);
double       pl_chart_area_value_y   (const PlChartArea  *area,
                                      double              py);
gboolean     pl_chart_area_contains  (const PlChartArea  *area,
                                      double              px,
                                      double              py);

/* The empty state of every chart: the background, the title (may be NULL) and @message in the
 * middle. Renderers call it for data they cannot draw (empty, a single point). */
void         pl_chart_draw_message   (cairo_t            *cr,
                                      double              width,
                                      double              height,
                                      const char         *title,
                                      const char         *message,
                                      const PlChartStyle *style);

G_END_DECLS
