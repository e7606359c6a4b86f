/* pl-chart-kit.c — text, frames, legends, colour bars and CSV numbers shared by the renderers */
#define G_LOG_DOMAIN "pl-chart"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <math.h>
#include <string.h>

#include "pl-chart-private.h"

/* ----- canvas and text ----- */

void
_pl_canvas_init (PlCanvas           *c,
                 cairo_t            *cr,
                 double              width,
                 double              height,
                 const PlChartStyle *style)
{
  cairo_font_options_t *options;

  memset (c, 0, sizeof *c);
  c->cr = cr;
  c->style = style;
  c->width = width;
  c->height = height;
  c->small_size = style->font_size;
  c->pango = pango_cairo_create_context (cr);

  /* Unhinted metrics: the same layout on screen, in PNG, SVG and PDF, at any DPI. */
  options = cairo_font_options_create ();
  cairo_font_options_set_hint_metrics (options, CAIRO_HINT_METRICS_OFF);
  cairo_font_options_set_hint_style (options, CAIRO_HINT_STYLE_SLIGHT);
  pango_cairo_context_set_font_options (c->pango, options);
  cairo_font_options_destroy (options);
  pango_context_set_round_glyph_positions (c->pango, FALSE);
}

void
_pl_canvas_clear (PlCanvas *c)
{
  for (guint i = 0; i < PL_TEXT_N_ROLES; i++)
    g_clear_object (&c->layouts[i]);
  g_clear_object (&c->pango);
}

void
_pl_canvas_background (PlCanvas *c)
{
  if (c->style->background.a <= 0)
    return;
  cairo_save (c->cr);
  pl_chart_set_source (c->cr, &c->style->background);
  cairo_rectangle (c->cr, 0, 0, c->width, c->height);
  cairo_fill (c->cr);
  cairo_restore (c->cr);
}

gboolean
_pl_draw_begin (PlCanvas           *c,
                cairo_t            *cr,
                double              width,
                double              height,
                const PlChartStyle *style,
                const char         *title,
                const char         *empty)
{
  if (empty != NULL)
    {
      pl_chart_draw_message (cr, width, height, title, empty, style);
      return FALSE;
    }
  cairo_save (cr);
  _pl_canvas_init (c, cr, width, height, style);
  _pl_canvas_background (c);
  return TRUE;
}

void
_pl_draw_end (PlCanvas *c)
{
  _pl_canvas_clear (c);
  cairo_restore (c->cr);
}

void
_pl_draw_too_small (PlCanvas *c)
{
  _pl_draw_end (c);
  pl_chart_draw_message (c->cr, c->width, c->height, NULL, _("Too small to draw"), c->style);
}

static double
role_size (PlCanvas   *c,
           PlTextRole  role)
{
  switch (role)
    {
    case PL_TEXT_LABEL:
      return c->style->label_size;
    case PL_TEXT_TITLE:
      return c->style->title_size;
    case PL_TEXT_SMALL:
      return c->small_size;
    case PL_TEXT_TICK:
    case PL_TEXT_N_ROLES:
    default:
      return c->style->font_size;
    }
}

static PangoLayout *
prepare_full (PlCanvas   *c,
              PlTextRole  role,
              const char *text,
              double      max_width,
              gboolean    wrap)
{
  PangoLayout *layout = c->layouts[role];

  if (layout == NULL)
    {
      PangoFontDescription *desc = pango_font_description_new ();

      pango_font_description_set_family (desc, c->style->font_family);
      pango_font_description_set_absolute_size (desc, role_size (c, role) * PANGO_SCALE);
      if (role == PL_TEXT_TITLE)
        pango_font_description_set_weight (desc, PANGO_WEIGHT_BOLD);
      layout = c->layouts[role] = pango_layout_new (c->pango);
      pango_layout_set_font_description (layout, desc);
      pango_font_description_free (desc);
    }

  if (max_width > 0)
    {
      pango_layout_set_width (layout, (int) (max_width * PANGO_SCALE));
      pango_layout_set_ellipsize (layout, wrap ? PANGO_ELLIPSIZE_NONE : PANGO_ELLIPSIZE_END);
      pango_layout_set_wrap (layout, PANGO_WRAP_WORD_CHAR);
      pango_layout_set_alignment (layout, wrap ? PANGO_ALIGN_CENTER : PANGO_ALIGN_LEFT);
    }
  else
    {
      pango_layout_set_width (layout, -1);
      pango_layout_set_ellipsize (layout, PANGO_ELLIPSIZE_NONE);
      pango_layout_set_alignment (layout, PANGO_ALIGN_LEFT);
    }
  pango_layout_set_text (layout, text, -1);
  return layout;
}

static PangoLayout *
prepare (PlCanvas   *c,
         PlTextRole  role,
         const char *text,
         double      max_width)
{
  return prepare_full (c, role, text, max_width, FALSE);
}

void
_pl_text_size_wrapped (PlCanvas   *c,
                       PlTextRole  role,
                       const char *text,
                       double      max_width,
                       double     *height)
{
  PangoLayout *layout = prepare_full (c, role, text, max_width, TRUE);
  PangoRectangle logical;

  pango_layout_get_extents (layout, NULL, &logical);
  *height = (double) logical.height / PANGO_SCALE;
}

void
_pl_text_draw_wrapped (PlCanvas     *c,
                       PlTextRole    role,
                       const char   *text,
                       double        x,
                       double        y,
                       double        max_width,
                       double        yalign,
                       const PlRgba *colour)
{
  PangoLayout *layout = prepare_full (c, role, text, max_width, TRUE);
  PangoRectangle logical;

  pango_layout_get_extents (layout, NULL, &logical);
  cairo_save (c->cr);
  pl_chart_set_source (c->cr, colour);
  /* A centred paragraph of @max_width whose top centre (yalign 0) or middle is at (x, y). */
  cairo_move_to (c->cr, x - max_width / 2, y - yalign * logical.height / PANGO_SCALE);
  pango_cairo_show_layout (c->cr, layout);
  cairo_restore (c->cr);
}

void
_pl_text_size (PlCanvas   *c,
               PlTextRole  role,
               const char *text,
               double      max_width,
               double     *width,
               double     *height)
{
  PangoLayout *layout = prepare (c, role, text, max_width);
  PangoRectangle logical;

  pango_layout_get_extents (layout, NULL, &logical);
  if (width != NULL)
    *width = (double) logical.width / PANGO_SCALE;
  if (height != NULL)
    *height = (double) logical.height / PANGO_SCALE;
}

double
_pl_text_line_height (PlCanvas   *c,
                      PlTextRole  role)
{
  /* Stacked lines are spaced by this sample: a script drawn with a taller fallback font (CJK)
   * names a character of its own, or its lines overlap. */
  if (c->line_heights[role] <= 0)
    /* TRANSLATORS: measures a line of chart text: "Ag" and a tall character of your script */
    _pl_text_size (c, role, _("Ag"), 0, NULL, &c->line_heights[role]);
  return c->line_heights[role];
}

void
_pl_text_draw (PlCanvas     *c,
               PlTextRole    role,
               const char   *text,
               double        x,
               double        y,
               double        xalign,
               double        yalign,
               double        max_width,
               gboolean      rotate,
               const PlRgba *colour)
{
  PangoLayout *layout = prepare (c, role, text, max_width);
  PangoRectangle logical;
  double w, h;

  pango_layout_get_extents (layout, NULL, &logical);
  w = (double) logical.width / PANGO_SCALE;
  h = (double) logical.height / PANGO_SCALE;

  cairo_save (c->cr);
  pl_chart_set_source (c->cr, colour);
  if (rotate)
    {
      cairo_translate (c->cr, x, y);
      cairo_rotate (c->cr, -G_PI / 2);
      pango_cairo_update_context (c->cr, c->pango);
      pango_layout_context_changed (layout);
      cairo_move_to (c->cr, -xalign * w - (double) logical.x / PANGO_SCALE, -yalign * h);
      pango_cairo_show_layout (c->cr, layout);
      cairo_restore (c->cr);
      pango_cairo_update_context (c->cr, c->pango);
      pango_layout_context_changed (layout);
      return;
    }
  cairo_move_to (c->cr, x - xalign * w - (double) logical.x / PANGO_SCALE, y - yalign * h);
  pango_cairo_show_layout (c->cr, layout);
  cairo_restore (c->cr);
}

/* ----- pixel snapping ----- */

static double
snap (cairo_t *cr,
      double   v,
      double   width,
      gboolean horizontal)
{
  double x = horizontal ? v : 0, y = horizontal ? 0 : v;
  double dw = width, dh = 0;
  double d;
  long px;

  cairo_user_to_device_distance (cr, &dw, &dh);
  px = MAX (1, lround (hypot (dw, dh)));
  cairo_user_to_device (cr, &x, &y);
  d = horizontal ? x : y;
  d = px % 2 == 1 ? floor (d) + 0.5 : round (d);
  if (horizontal)
    x = d;
  else
    y = d;
  cairo_device_to_user (cr, &x, &y);
  return horizontal ? x : y;
}

double
_pl_snap_x (cairo_t *cr,
            double   x,
            double   width)
{
  return snap (cr, x, width, TRUE);
}

double
_pl_snap_y (cairo_t *cr,
            double   y,
            double   width)
{
  return snap (cr, y, width, FALSE);
}

/* ----- legend ----- */

#define MAX_LEGEND 64

static void
legend_symbol (PlCanvas           *c,
               const PlLegendItem *item,
               double              x,
               double              y,
               double              w,
               double              h)
{
  cairo_t *cr = c->cr;
  const PlChartStyle *s = c->style;
  double mid = y + h / 2;

  cairo_save (cr);
  switch (item->kind)
    {
    case PL_LEGEND_SWATCH:
      pl_chart_set_source (cr, &item->colour);
      cairo_rectangle (cr, x + w / 2 - h * 0.4, mid - h * 0.4, h * 0.8, h * 0.8);
      cairo_fill (cr);
      break;

    case PL_LEGEND_RING:
      cairo_new_sub_path (cr);
      cairo_arc (cr, x + w / 2, mid, h * 0.3, 0, 2 * G_PI);
      pl_chart_set_source (cr, &item->colour);
      cairo_set_line_width (cr, MAX (1.0, h * 0.1));
      cairo_stroke (cr);
      break;

    case PL_LEGEND_CROSS:
      pl_chart_set_source (cr, &item->colour);
      cairo_set_line_width (cr, MAX (1.0, h * 0.12));
      cairo_rectangle (cr, x + w / 2 - h * 0.4, mid - h * 0.4, h * 0.8, h * 0.8);
      cairo_move_to (cr, x + w / 2 - h * 0.4, mid - h * 0.4);
      cairo_line_to (cr, x + w / 2 + h * 0.4, mid + h * 0.4);
      cairo_move_to (cr, x + w / 2 + h * 0.4, mid - h * 0.4);
      cairo_line_to (cr, x + w / 2 - h * 0.4, mid + h * 0.4);
      cairo_stroke (cr);
      break;

    case PL_LEGEND_OUTLINE:
      {
        double dash[] = { MAX (1.0, h * 0.2), MAX (1.0, h * 0.12) };

        cairo_set_dash (cr, dash, 2, 0);
        pl_chart_set_source (cr, &item->colour);
        cairo_set_line_width (cr, MAX (1.5, h * 0.14));
        cairo_rectangle (cr, x + w / 2 - h * 0.38, mid - h * 0.38, h * 0.76, h * 0.76);
        cairo_stroke (cr);
      }
      break;

    case PL_LEGEND_DASHED:
      {
        double dash[] = { s->line_width * 3, s->line_width * 2 };

        cairo_set_dash (cr, dash, 2, 0);
        pl_chart_set_source (cr, &item->colour);
        cairo_set_line_width (cr, s->line_width * 0.75);
        cairo_move_to (cr, x, mid);
        cairo_line_to (cr, x + w, mid);
        cairo_stroke (cr);
      }
      break;

    case PL_LEGEND_BAND:
      {
        PlRgba band = item->colour;

        band.a = 0.22;
        pl_chart_set_source (cr, &band);
        cairo_rectangle (cr, x, mid - h * 0.32, w, h * 0.64);
        cairo_fill (cr);
      }
      G_GNUC_FALLTHROUGH;
    case PL_LEGEND_LINE:
    default:
      pl_chart_set_source (cr, &item->colour);
      cairo_set_line_width (cr, s->line_width);
      if (item->n_dash > 0)
        cairo_set_dash (cr, item->dash, item->n_dash, 0);
      cairo_move_to (cr, x, mid);
      cairo_line_to (cr, x + w, mid);
      cairo_stroke (cr);
      cairo_set_dash (cr, NULL, 0, 0);
      if (item->kind == PL_LEGEND_LINE)
        _pl_markers (c, (double[]) { x + w / 2, mid }, 1, s->marker_radius, &item->colour);
      break;
    }
  cairo_restore (cr);
}

/* Lays the items out in centred rows between x0 and x1 from y down; returns the height. */
static double
legend_flow (PlCanvas      *c,
             const PlFrame *f,
             double         x0,
             double         x1,
             double         y,
             gboolean       draw)
{
  const PlChartStyle *s = c->style;
  double sym_w = s->font_size * 2.2, sym_gap = s->font_size * 0.45, item_gap = s->font_size * 1.5;
  double row_h = _pl_text_line_height (c, PL_TEXT_TICK) * 1.2;
  double widths[MAX_LEGEND];
  guint n = MIN (f->n_legend, MAX_LEGEND);
  guint start = 0;
  double height = 0;

  for (guint i = 0; i < n; i++)
    {
      double tw;

      _pl_text_size (c, PL_TEXT_TICK, f->legend[i].label, (x1 - x0) - sym_w - sym_gap, &tw, NULL);
      widths[i] = sym_w + sym_gap + tw;
    }

  while (start < n)
    {
      guint end = start + 1;
      double row_w = widths[start];
      double cx;

      while (end < n && row_w + item_gap + widths[end] <= x1 - x0)
        row_w += item_gap + widths[end++];

      if (draw)
        {
          cx = x0 + MAX (0, (x1 - x0 - row_w) / 2);
          for (guint i = start; i < end; i++)
            {
              legend_symbol (c, &f->legend[i], cx, y + height, sym_w, row_h);
              _pl_text_draw (c, PL_TEXT_TICK, f->legend[i].label, cx + sym_w + sym_gap,
                             y + height + row_h / 2, 0, 0.5, (x1 - x0) - sym_w - sym_gap, FALSE,
                             &s->foreground);
              cx += widths[i] + item_gap;
            }
        }
      height += row_h;
      start = end;
    }
  return height;
}

/* ----- frames ----- */

static void
format_tick (const PlChartAxis  *axis,
             const PlChartTicks *ticks,
             double              v,
             char               *buf,
             gsize               size)
{
  /* Log axes label each decade with its own digits. */
  pl_chart_format_number (buf, size, v, axis->log ? 0 : ticks->step, axis->format);
}

static void
make_ticks (const PlChartAxis *axis,
            guint              target,
            PlChartTicks      *ticks)
{
  if (axis->log)
    pl_chart_ticks_log (axis->lo, axis->hi, target, ticks);
  else
    pl_chart_ticks_linear (axis->lo, axis->hi, target, ticks);

  /* Counts and indices: whole numbers only. */
  if (axis->format == PL_CHART_NUMBER_INTEGER && !axis->log && ticks->step < 1)
    {
      double a = ceil (MIN (axis->lo, axis->hi) - 1e-9), b = MAX (axis->lo, axis->hi);

      ticks->n = 0;
      ticks->step = 1;
      for (double v = a; v <= b + 1e-9 && ticks->n < PL_CHART_MAX_TICKS; v++)
        ticks->values[ticks->n++] = v;
    }
}

static double
widest_tick (PlCanvas           *c,
             const PlChartAxis  *axis,
             const PlChartTicks *ticks)
{
  double widest = 0;

  for (guint i = 0; i < ticks->n; i++)
    {
      char buf[64];
      double w;

      format_tick (axis, ticks, ticks->values[i], buf, sizeof buf);
      _pl_text_size (c, PL_TEXT_TICK, buf, 0, &w, NULL);
      widest = MAX (widest, w);
    }
  return widest;
}

double
_pl_frame_header (PlCanvas      *c,
                  const PlFrame *f,
                  double         x,
                  double         y,
                  double         width,
                  PlFrameLayout *L)
{
  const PlChartStyle *s = c->style;
  double gap = s->font_size * 0.5;
  double top = y + s->padding;

  L->x = x;
  L->y = y;
  L->width = width;
  if (f->title != NULL)
    {
      L->title_y = top;
      top += _pl_text_line_height (c, PL_TEXT_TITLE) + gap * 0.4;
    }
  if (f->note != NULL)
    {
      double h;

      L->note_y = top;
      _pl_text_size_wrapped (c, PL_TEXT_TICK, f->note, width - 2 * s->padding, &h);
      top += h + gap * 0.4;
    }
  if (f->n_legend > 0)
    {
      L->legend_y = top + gap * 0.2;
      top += legend_flow (c, f, x + s->padding, x + width - s->padding, top, FALSE) + gap * 0.6;
    }
  return top;
}

void
_pl_frame_draw_header (PlCanvas            *c,
                       const PlFrame       *f,
                       const PlFrameLayout *L)
{
  const PlChartStyle *s = c->style;

  if (f->title != NULL)
    _pl_text_draw (c, PL_TEXT_TITLE, f->title, L->x + L->width / 2, L->title_y, 0.5, 0,
                   L->width - 2 * s->padding, FALSE, &s->foreground);
  if (f->note != NULL)
    _pl_text_draw_wrapped (c, PL_TEXT_TICK, f->note, L->x + L->width / 2, L->note_y,
                           L->width - 2 * s->padding, 0, &s->muted);
  if (f->n_legend > 0)
    legend_flow (c, f, L->x + s->padding, L->x + L->width - s->padding, L->legend_y, TRUE);
}

gboolean
_pl_frame_layout (PlCanvas      *c,
                  const PlFrame *f,
                  double         x,
                  double         y,
                  double         width,
                  double         height,
                  PlFrameLayout *L)
{
  const PlChartStyle *s = c->style;
  double pad = s->padding, gap = s->font_size * 0.5;
  double tick_h = _pl_text_line_height (c, PL_TEXT_TICK);
  double label_h = _pl_text_line_height (c, PL_TEXT_LABEL);
  double tick_len = round (s->font_size * 0.35);
  double top = y + pad, bottom = y + height - pad, left = x + pad, right = x + width - pad;
  double widest = 0, plot_w, plot_h;

  memset (L, 0, sizeof *L);
  L->height = height;

  top = _pl_frame_header (c, f, x, y, width, L);
  top += tick_h / 2 + gap * 0.5;  /* the top tick label sticks out by half its height */
  if (f->x_label != NULL)
    bottom -= label_h + gap * 0.5;
  bottom -= tick_h + tick_len + gap * 0.5;
  right -= f->right_reserve;

  plot_h = bottom - top;
  if (plot_h < 2 * tick_h || right - left < 6 * s->font_size)
    return FALSE;

  /* y ticks: about one per 3.5 lines of text */
  if (f->n_y_categories > 0)
    {
      for (guint i = 0; i < f->n_y_categories; i++)
        {
          double w;

          _pl_text_size (c, PL_TEXT_TICK, f->y_categories[i], width * 0.3, &w, NULL);
          widest = MAX (widest, w);
        }
    }
  else
    {
      make_ticks (&f->y, (guint) CLAMP (plot_h / (tick_h * 3.5), 2, 8), &L->y_ticks);
      widest = widest_tick (c, &f->y, &L->y_ticks);
    }
  L->y_label_x = left + label_h / 2;
  left += (f->y_label != NULL ? label_h + gap * 0.6 : 0) + widest + tick_len + gap * 0.5;

  /* Room for half of the last x tick label beyond the right edge. */
  if (f->n_x_categories == 0 && f->right_reserve <= 0)
    {
      char buf[64];
      double w;

      pl_chart_format_number (buf, sizeof buf, f->x.hi, 0, f->x.format);
      _pl_text_size (c, PL_TEXT_TICK, buf, 0, &w, NULL);
      right -= MAX (0, w / 2 - pad * 0.5);
    }
  plot_w = right - left;
  if (plot_w < 6 * s->font_size)
    return FALSE;

  if (f->n_x_categories > 0)
    {
      double cell = plot_w / f->n_x_categories, w_max = 0;

      for (guint i = 0; i < f->n_x_categories; i++)
        {
          double w;

          _pl_text_size (c, PL_TEXT_TICK, f->x_categories[i], 0, &w, NULL);
          w_max = MAX (w_max, w);
        }
      L->x_categories_as_index = w_max > cell - s->font_size;
    }
  else
    {
      /* As many x ticks as fit with a gap of 1.5 em between their labels. */
      for (guint target = (guint) CLAMP (plot_w / (s->font_size * 7), 2, 12); ; target--)
        {
          make_ticks (&f->x, target, &L->x_ticks);
          if (target <= 2
              || L->x_ticks.n * (widest_tick (c, &f->x, &L->x_ticks) + s->font_size * 1.5) <= plot_w)
            break;
        }
    }

  L->area.x = left;
  L->area.y = top;
  L->area.width = plot_w;
  L->area.height = plot_h;
  L->area.x_axis = f->x;
  L->area.y_axis = f->y;
  return TRUE;
}

void
_pl_clip_to_area (cairo_t           *cr,
                  const PlChartArea *area)
{
  cairo_rectangle (cr, area->x, area->y, area->width, area->height);
  cairo_clip (cr);
}

void
_pl_frame_draw_grid (PlCanvas            *c,
                     const PlFrame       *f,
                     const PlFrameLayout *L)
{
  cairo_t *cr = c->cr;
  const PlChartArea *a = &L->area;
  double lw = c->style->axis_width;

  if (f->no_grid)
    return;

  cairo_save (cr);
  pl_chart_set_source (cr, &c->style->grid);
  cairo_set_line_width (cr, lw);
  for (guint i = 0; i < L->y_ticks.n && f->n_y_categories == 0; i++)
    {
      double py = _pl_snap_y (cr, pl_chart_area_y (a, L->y_ticks.values[i]), lw);

      cairo_move_to (cr, a->x, py);
      cairo_line_to (cr, a->x + a->width, py);
    }
  for (guint i = 0; i < L->x_ticks.n && f->n_x_categories == 0; i++)
    {
      double px = _pl_snap_x (cr, pl_chart_area_x (a, L->x_ticks.values[i]), lw);

      cairo_move_to (cr, px, a->y);
      cairo_line_to (cr, px, a->y + a->height);
    }
  cairo_stroke (cr);
  cairo_restore (cr);
}

void
_pl_frame_draw (PlCanvas            *c,
                const PlFrame       *f,
                const PlFrameLayout *L)
{
  cairo_t *cr = c->cr;
  const PlChartStyle *s = c->style;
  const PlChartArea *a = &L->area;
  double lw = s->axis_width;
  double tick_len = round (s->font_size * 0.35), gap = s->font_size * 0.5;
  double tick_h = _pl_text_line_height (c, PL_TEXT_TICK);
  double x0 = _pl_snap_x (cr, a->x, lw), y1 = _pl_snap_y (cr, a->y + a->height, lw);
  char buf[64];

  cairo_save (cr);
  pl_chart_set_source (cr, &s->muted);
  cairo_set_line_width (cr, lw);
  cairo_move_to (cr, x0, a->y);
  cairo_line_to (cr, x0, y1);
  cairo_line_to (cr, a->x + a->width, y1);

  /* ticks */
  if (f->n_y_categories == 0)
    for (guint i = 0; i < L->y_ticks.n; i++)
      {
        double py = _pl_snap_y (cr, pl_chart_area_y (a, L->y_ticks.values[i]), lw);

        cairo_move_to (cr, x0 - tick_len, py);
        cairo_line_to (cr, x0, py);
      }
  if (f->n_x_categories == 0)
    for (guint i = 0; i < L->x_ticks.n; i++)
      {
        double px = _pl_snap_x (cr, pl_chart_area_x (a, L->x_ticks.values[i]), lw);

        cairo_move_to (cr, px, y1);
        cairo_line_to (cr, px, y1 + tick_len);
      }
  cairo_stroke (cr);
  cairo_restore (cr);

  /* tick labels */
  if (f->n_y_categories > 0)
    for (guint i = 0; i < f->n_y_categories; i++)
      _pl_text_draw (c, PL_TEXT_TICK, f->y_categories[i], a->x - tick_len - gap * 0.5,
                     pl_chart_area_y (a, i + 0.5), 1, 0.5, L->width * 0.3, FALSE, &s->muted);
  else
    for (guint i = 0; i < L->y_ticks.n; i++)
      {
        format_tick (&f->y, &L->y_ticks, L->y_ticks.values[i], buf, sizeof buf);
        _pl_text_draw (c, PL_TEXT_TICK, buf, a->x - tick_len - gap * 0.5,
                       pl_chart_area_y (a, L->y_ticks.values[i]), 1, 0.5, 0, FALSE, &s->muted);
      }
  if (f->n_x_categories > 0)
    for (guint i = 0; i < f->n_x_categories; i++)
      {
        const char *label = f->x_categories[i];

        if (L->x_categories_as_index)
          {
            g_snprintf (buf, sizeof buf, "%u", i);
            label = buf;
          }
        _pl_text_draw (c, PL_TEXT_TICK, label, pl_chart_area_x (a, i + 0.5),
                       a->y + a->height + tick_len + gap * 0.3, 0.5, 0, 0, FALSE, &s->muted);
      }
  else
    for (guint i = 0; i < L->x_ticks.n; i++)
      {
        format_tick (&f->x, &L->x_ticks, L->x_ticks.values[i], buf, sizeof buf);
        _pl_text_draw (c, PL_TEXT_TICK, buf, pl_chart_area_x (a, L->x_ticks.values[i]),
                       a->y + a->height + tick_len + gap * 0.3, 0.5, 0, 0, FALSE, &s->muted);
      }

  /* axis titles */
  if (f->x_label != NULL)
    _pl_text_draw (c, PL_TEXT_LABEL, f->x_label, a->x + a->width / 2,
                   a->y + a->height + tick_len + gap * 0.3 + tick_h + gap * 0.5, 0.5, 0,
                   a->width, FALSE, &s->foreground);
  if (f->y_label != NULL)
    _pl_text_draw (c, PL_TEXT_LABEL, f->y_label, L->y_label_x,
                   a->y + a->height / 2, 0.5, 0.5, a->height, TRUE, &s->foreground);

  _pl_frame_draw_header (c, f, L);
}

/* ----- colour bars and markers ----- */

double
_pl_colour_bar_width (PlCanvas      *c,
                      double         lo,
                      double         hi,
                      PlChartNumber  format,
                      const char    *label)
{
  const PlChartStyle *s = c->style;
  PlChartAxis axis = { lo, hi, FALSE, format };
  PlChartTicks ticks;
  double w = 0;

  pl_chart_ticks_linear (lo, hi, 5, &ticks);
  w = widest_tick (c, &axis, &ticks);
  if (label != NULL)
    {
      double lw;

      _pl_text_size (c, PL_TEXT_TICK, label, 0, &lw, NULL);
      w = MAX (w + s->font_size, lw - s->font_size);
    }
  return s->font_size * 1.2 + s->font_size * 0.8 + w + s->padding;
}

void
_pl_colour_bar (PlCanvas      *c,
                const guint32 *lut,
                double         x,
                double         y,
                double         width,
                double         height,
                double         lo,
                double         hi,
                PlChartNumber  format,
                const char    *label)
{
  cairo_t *cr = c->cr;
  const PlChartStyle *s = c->style;
  PlChartAxis axis = { lo, hi, FALSE, format };
  PlChartArea area = { x, y, width, height, axis, axis };
  PlChartTicks ticks;
  cairo_surface_t *image;
  guint32 *pixels;
  int stride;

  if (label != NULL)
    {
      _pl_text_draw (c, PL_TEXT_TICK, label, x, y - s->font_size * 0.4, 0, 1, 0, FALSE,
                     &s->foreground);
    }

  image = _pl_image_new (1, 256, &pixels, &stride);
  if (image != NULL)
    {
      for (int i = 0; i < 256; i++)
        pixels[(gsize) (255 - i) * stride] = lut[i];
      cairo_surface_mark_dirty (image);
      cairo_save (cr);
      cairo_rectangle (cr, x, y, width, height);
      cairo_clip (cr);
      cairo_translate (cr, x, y);
      cairo_scale (cr, width, height / 256.0);
      cairo_set_source_surface (cr, image, 0, 0);
      cairo_pattern_set_filter (cairo_get_source (cr), CAIRO_FILTER_BILINEAR);
      cairo_pattern_set_extend (cairo_get_source (cr), CAIRO_EXTEND_PAD);
      cairo_paint (cr);
      cairo_restore (cr);
      cairo_surface_destroy (image);
    }

  pl_chart_ticks_linear (lo, hi, 5, &ticks);
  cairo_save (cr);
  pl_chart_set_source (cr, &s->muted);
  cairo_set_line_width (cr, s->axis_width);
  cairo_rectangle (cr, x, y, width, height);
  cairo_stroke (cr);
  for (guint i = 0; i < ticks.n; i++)
    {
      double py = _pl_snap_y (cr, pl_chart_area_y (&area, ticks.values[i]), s->axis_width);
      char buf[64];

      cairo_move_to (cr, x + width, py);
      cairo_line_to (cr, x + width + s->font_size * 0.35, py);
      cairo_stroke (cr);
      pl_chart_format_number (buf, sizeof buf, ticks.values[i], ticks.step, format);
      _pl_text_draw (c, PL_TEXT_TICK, buf, x + width + s->font_size * 0.6, py, 0, 0.5, 0, FALSE,
                     &s->muted);
    }
  cairo_restore (cr);
}

static void
disc_path (cairo_t      *cr,
           const double *xy,
           guint         n,
           double        radius)
{
  for (guint i = 0; i < n; i++)
    {
      cairo_new_sub_path (cr);
      cairo_arc (cr, xy[2 * i], xy[2 * i + 1], radius, 0, 2 * G_PI);
    }
}

void
_pl_markers (PlCanvas     *c,
             const double *xy,
             guint         n,
             double        radius,
             const PlRgba *colour)
{
  cairo_t *cr = c->cr;

  if (n == 0)
    return;
  cairo_save (cr);
  cairo_new_path (cr);
  if (c->style->background.a > 0)
    {
      disc_path (cr, xy, n, radius + MAX (0.6, radius * 0.18));
      pl_chart_set_source (cr, &c->style->background);
      cairo_fill (cr);
    }
  disc_path (cr, xy, n, radius);
  pl_chart_set_source (cr, colour);
  cairo_fill (cr);
  cairo_restore (cr);
}

/* ----- images ----- */

cairo_surface_t *
_pl_image_new (int       width,
               int       height,
               guint32 **pixels,
               int      *stride)
{
  cairo_surface_t *image;

  if (width <= 0 || height <= 0 || width > 32767 || height > 32767)
    return NULL;
  image = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, width, height);
  if (cairo_surface_status (image) != CAIRO_STATUS_SUCCESS)
    {
      cairo_surface_destroy (image);
      return NULL;
    }
  cairo_surface_flush (image);
  *pixels = (guint32 *) (gpointer) cairo_image_surface_get_data (image);
  *stride = cairo_image_surface_get_stride (image) / 4;
  return image;
}

/* @image with every pixel repeated k × k times. */
static cairo_surface_t *
upscale (cairo_surface_t *image,
         int              k)
{
  int iw = cairo_image_surface_get_width (image), ih = cairo_image_surface_get_height (image);
  int in_stride = cairo_image_surface_get_stride (image) / 4, stride;
  const guint32 *in;
  guint32 *out;
  cairo_surface_t *big = _pl_image_new (iw * k, ih * k, &out, &stride);

  if (big == NULL)
    return NULL;
  cairo_surface_flush (image);
  in = (const guint32 *) (gconstpointer) cairo_image_surface_get_data (image);
  for (int y = 0; y < ih * k; y++)
    for (int x = 0; x < iw * k; x++)
      out[(gsize) y * stride + x] = in[(gsize) (y / k) * in_stride + x / k];
  cairo_surface_mark_dirty (big);
  return big;
}

void
_pl_paint_image (cairo_t         *cr,
                 cairo_surface_t *image,
                 double           x,
                 double           y,
                 double           width,
                 double           height)
{
  int iw = cairo_image_surface_get_width (image);
  int ih = cairo_image_surface_get_height (image);

  /* SVG viewers smooth embedded images whatever the filter (cairo 1.16 writes none), which
   * blurs cells into each other: give them a few pixels per cell to smooth. */
  if (cairo_surface_get_type (cairo_get_target (cr)) == CAIRO_SURFACE_TYPE_SVG)
    {
      double dw = width, dh = height;
      int k;

      cairo_user_to_device_distance (cr, &dw, &dh);
      k = (int) CLAMP (ceil (4 * MAX (fabs (dw) / iw, fabs (dh) / ih)), 1, 8);
      while (k > 1 && (gint64) iw * ih * k * k > 16 * 1024 * 1024)
        k--;
      if (k > 1)
        {
          cairo_surface_t *big = upscale (image, k);

          if (big != NULL)
            {
              cairo_save (cr);
              cairo_translate (cr, x, y);
              cairo_scale (cr, width / (iw * k), height / (ih * k));
              cairo_set_source_surface (cr, big, 0, 0);
              cairo_rectangle (cr, 0, 0, iw * k, ih * k);
              cairo_fill (cr);
              cairo_restore (cr);
              cairo_surface_destroy (big);
              return;
            }
        }
    }

  cairo_save (cr);
  cairo_translate (cr, x, y);
  cairo_scale (cr, width / iw, height / ih);
  cairo_set_source_surface (cr, image, 0, 0);
  cairo_pattern_set_filter (cairo_get_source (cr), CAIRO_FILTER_NEAREST);
  cairo_rectangle (cr, 0, 0, iw, ih);
  cairo_fill (cr);
  cairo_restore (cr);
}

/* ----- CSV ----- */

void
_pl_csv_double (GString *csv,
                double   value)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  if (!isfinite (value))
    return;  /* an empty field */
  /* The shortest %g that reads back to the same double. */
  for (int digits = 1; digits <= 17; digits++)
    {
      char format[8];

      g_snprintf (format, sizeof format, "%%.%dg", digits);
      g_ascii_formatd (buf, sizeof buf, format, value);
      if (g_ascii_strtod (buf, NULL) == value)
        break;
    }
  g_string_append (csv, buf);
}

void
_pl_csv_float (GString *csv,
               float    value)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  if (!isfinite (value))
    return;
  for (int digits = 6; digits <= 9; digits++)
    {
      char format[8];

      g_snprintf (format, sizeof format, "%%.%dg", digits);
      g_ascii_formatd (buf, sizeof buf, format, value);
      if ((float) g_ascii_strtod (buf, NULL) == value)
        break;
    }
  g_string_append (csv, buf);
}

void
_pl_csv_string (GString    *csv,
                const char *text)
{
  if (text == NULL)
    return;
  if (strpbrk (text, ",\"\r\n") == NULL)
    {
      g_string_append (csv, text);
      return;
    }
  g_string_append_c (csv, '"');
  for (const char *p = text; *p; p++)
    {
      if (*p == '"')
        g_string_append_c (csv, '"');
      g_string_append_c (csv, *p);
    }
  g_string_append_c (csv, '"');
}
