/* pl-chart-private.h — the drawing kit the renderers share: text, frames, legends, CSV numbers
 *
 * Internal to ui/charts: the GUI calls the public pl_chart_draw_* functions, not these.
 */
#pragma once

#include <pango/pangocairo.h>

#include "pl-chart-style.h"

G_BEGIN_DECLS

typedef enum {
  PL_TEXT_TICK,    /* style->font_size, muted */
  PL_TEXT_LABEL,   /* style->label_size */
  PL_TEXT_TITLE,   /* style->title_size, bold */
  PL_TEXT_SMALL,   /* canvas->small_size: text in cells */
  PL_TEXT_N_ROLES
} PlTextRole;

/* One chart being drawn: the cairo context, its Pango context and one layout per text role,
 * made once per draw. */
typedef struct {
  cairo_t            *cr;            /* borrowed */
  const PlChartStyle *style;         /* borrowed */
  double              width, height;
  PangoContext       *pango;         /* owned */
  PangoLayout        *layouts[PL_TEXT_N_ROLES];  /* owned, made on first use */
  double              small_size;    /* size of PL_TEXT_SMALL; change before first use */
  double              line_heights[PL_TEXT_N_ROLES];  /* 0 until measured */
} PlCanvas;

void     _pl_canvas_init        (PlCanvas           *canvas,
                                 cairo_t            *cr,
                                 double              width,
                                 double              height,
                                 const PlChartStyle *style);
void     _pl_canvas_clear       (PlCanvas           *canvas);
void     _pl_canvas_background  (PlCanvas           *canvas);

/* The opening every renderer's draw shares. When @empty is not NULL, draws it as the chart's
 * message under @title and returns FALSE: the caller returns. Otherwise saves @cr, sets up
 * @canvas, paints the background and returns TRUE: the caller lays out and draws, and ends
 * with _pl_draw_end(), or with _pl_draw_too_small() when its layout does not fit. */
gboolean _pl_draw_begin         (PlCanvas           *canvas,
                                 cairo_t            *cr,
                                 double              width,
                                 double              height,
                                 const PlChartStyle *style,
                                 const char         *title,
                                 const char         *empty);
/* Frees @canvas's text and restores the context saved by _pl_draw_begin(). */
void     _pl_draw_end           (PlCanvas           *canvas);
/* _pl_draw_end(), then “Too small to draw” in place of the chart. */
void     _pl_draw_too_small     (PlCanvas           *canvas);

/* Size of @text in logical px; @max_width > 0 ellipsizes it at the end. */
void     _pl_text_size          (PlCanvas           *canvas,
                                 PlTextRole          role,
                                 const char         *text,
                                 double              max_width,
                                 double             *width,
                                 double             *height);
/* Draws @text so that the point (xalign, yalign) of its box (0 left/top … 1 right/bottom) is at
 * (x, y); @rotate draws it turned 90° counter-clockwise (for y-axis titles). */
void     _pl_text_draw          (PlCanvas           *canvas,
                                 PlTextRole          role,
                                 const char         *text,
                                 double              x,
                                 double              y,
                                 double              xalign,
                                 double              yalign,
                                 double              max_width,
                                 gboolean            rotate,
                                 const PlRgba       *colour);
/* A paragraph wrapped at @max_width and centred on x. */
void     _pl_text_size_wrapped  (PlCanvas           *canvas,
                                 PlTextRole          role,
                                 const char         *text,
                                 double              max_width,
                                 double             *height);
void     _pl_text_draw_wrapped  (PlCanvas           *canvas,
                                 PlTextRole          role,
                                 const char         *text,
                                 double              x,
                                 double              y,
                                 double              max_width,
                                 double              yalign,
                                 const PlRgba       *colour);
/* Height of one line of the role's font. */
double   _pl_text_line_height   (PlCanvas           *canvas,
                                 PlTextRole          role);

/* Rounds a coordinate so that a line of @width user units lands on whole device pixels. */
double   _pl_snap_x             (cairo_t            *cr,
                                 double              x,
                                 double              width);
double   _pl_snap_y             (cairo_t            *cr,
                                 double              y,
                                 double              width);

typedef enum {
  PL_LEGEND_LINE,       /* a line with a marker */
  PL_LEGEND_DASHED,     /* a dashed reference line */
  PL_LEGEND_BAND,       /* a translucent band behind a line */
  PL_LEGEND_SWATCH,     /* a filled square */
  PL_LEGEND_RING,       /* a hollow circle (a dead neuron) */
  PL_LEGEND_CROSS,      /* a square crossed out (a dead filter) */
  PL_LEGEND_OUTLINE,    /* a dashed square outline (what a preview would remove) */
} PlLegendKind;

typedef struct {
  const char   *label;  /* borrowed */
  PlRgba        colour;
  PlLegendKind  kind;
  guint         n_dash;   /* PL_LEGEND_LINE: its line's pattern (pl_chart_series_dash), 0 solid */
  double        dash[2];
} PlLegendItem;

/* The axes, labels, title and legend around one plot area. */
typedef struct {
  const char          *title;          /* may be NULL */
  const char          *note;           /* a muted line under the title, may be NULL */
  const char          *x_label;        /* may be NULL */
  const char          *y_label;        /* may be NULL */
  PlChartAxis          x, y;           /* ranges, already chosen */
  const PlLegendItem  *legend;         /* borrowed, n_legend items */
  guint                n_legend;
  double               right_reserve;  /* room kept right of the plot (a colour bar) */
  /* Tick labels given by the chart (categories) instead of computed ticks: */
  guint                n_x_categories;
  const char * const  *x_categories;   /* label of the category centred on x = i + 0.5 */
  guint                n_y_categories;
  const char * const  *y_categories;   /* label centred on y = i + 0.5 */
  gboolean             no_grid;
} PlFrame;

typedef struct {
  PlChartArea  area;
  PlChartTicks x_ticks, y_ticks;
  double       x, y, width, height;    /* the frame's rectangle */
  double       title_y, note_y, legend_y;
  double       y_label_x;              /* centre of the rotated y-axis title */
  gboolean     x_categories_as_index;  /* the names did not fit: numbers instead */
} PlFrameLayout;

/* Lays out title, note and legend at the top of (x, y, width); returns the y below them. */
double   _pl_frame_header       (PlCanvas           *canvas,
                                 const PlFrame      *frame,
                                 double              x,
                                 double              y,
                                 double              width,
                                 PlFrameLayout      *layout);
void     _pl_frame_draw_header  (PlCanvas           *canvas,
                                 const PlFrame      *frame,
                                 const PlFrameLayout *layout);
/* Places the plot area inside (x, y, width, height); FALSE when it would be too small. */
gboolean _pl_frame_layout       (PlCanvas           *canvas,
                                 const PlFrame      *frame,
                                 double              x,
                                 double              y,
                                 double              width,
                                 double              height,
                                 PlFrameLayout      *layout);
/* Grid lines, under the data. */
void     _pl_frame_draw_grid    (PlCanvas           *canvas,
                                 const PlFrame      *frame,
                                 const PlFrameLayout *layout);
/* Axes, ticks, tick labels, axis titles, title, note and legend, over the data. */
void     _pl_frame_draw         (PlCanvas           *canvas,
                                 const PlFrame      *frame,
                                 const PlFrameLayout *layout);
void     _pl_clip_to_area       (cairo_t            *cr,
                                 const PlChartArea  *area);

/* A horizontal or vertical colour bar of a 256-entry LUT, with ticks from @lo to @hi. */
void     _pl_colour_bar         (PlCanvas           *canvas,
                                 const guint32      *lut,
                                 double              x,
                                 double              y,
                                 double              width,
                                 double              height,
                                 double              lo,
                                 double              hi,
                                 PlChartNumber       format,
                                 const char         *label);
/* The width a vertical colour bar with its tick labels needs. */
double   _pl_colour_bar_width   (PlCanvas           *canvas,
                                 double              lo,
                                 double              hi,
                                 PlChartNumber       format,
                                 const char         *label);

/* Markers at the points @xy (x, y pairs) in one go: discs of the background a little larger,
 * then discs of @colour (two fills; stroking rings costs twice as much). */
void     _pl_markers            (PlCanvas           *canvas,
                                 const double       *xy,
                                 guint               n,
                                 double              radius,
                                 const PlRgba       *colour);
/* CSV: numbers that read back to exactly the same double (or float), names quoted as RFC 4180
 * wants. */
void     _pl_csv_double         (GString            *csv,
                                 double              value);
void     _pl_csv_float          (GString            *csv,
                                 float               value);
void     _pl_csv_string         (GString            *csv,
                                 const char         *text);

/* The entry of a 256-entry diverging LUT (pl_chart_diverging_lut) for @v, with @scale =
 * 127.5 / limit: −limit … +limit onto 0 … 255, beyond them the end colours. MAX and MIN compile
 * to maxss and minss and send NaN to entry 0. The one place a weight becomes a map colour. */
static inline guint32
_pl_lut_colour (const guint32 *lut,
                float          v,
                float          scale)
{
  float t = v * scale + 127.5f;

  t = MAX (t, 0.0f);
  t = MIN (t, 255.0f);
  return lut[(int) t];
}

/* An image surface holding @width × @height ARGB32 pixels; NULL when cairo refuses. */
cairo_surface_t *_pl_image_new  (int                 width,
                                 int                 height,
                                 guint32           **pixels,
                                 int                *stride);
/* Paints @image into the rectangle with nearest-neighbour scaling (cells stay sharp). */
void     _pl_paint_image        (cairo_t            *cr,
                                 cairo_surface_t    *image,
                                 double              x,
                                 double              y,
                                 double              width,
                                 double              height);

G_END_DECLS
