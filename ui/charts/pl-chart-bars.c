/* pl-chart-bars.c — grouped bars: per-layer sparsity measures and comparisons */
#define G_LOG_DOMAIN "pl-chart"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <math.h>
#include <string.h>

#include "pl-chart-bars.h"
#include "pl-chart-private.h"

#define MAX_SERIES 16

typedef struct {
  PlFrame       frame;
  PlFrameLayout layout;
  PlLegendItem  legend[MAX_SERIES];
} Bars;

const char *
pl_chart_bars_empty_message (const PlBarsData *data)
{
  if (data == NULL || data->n_groups == 0 || data->n_series == 0 || data->values == NULL)
    return _("No values to show");
  for (gsize i = 0; i < (gsize) data->n_groups * data->n_series; i++)
    if (isfinite (data->values[i]))
      return NULL;
  return _("No values to show");
}

static gboolean
bars_layout (PlCanvas         *c,
             const PlBarsData *data,
             Bars             *b)
{
  double lo = 0, hi = 0;

  memset (b, 0, sizeof *b);
  for (gsize i = 0; i < (gsize) data->n_groups * data->n_series; i++)
    if (isfinite (data->values[i]))
      {
        lo = MIN (lo, data->values[i]);
        hi = MAX (hi, data->values[i]);
      }
  if (data->format == PL_CHART_NUMBER_PERCENT && lo >= 0 && hi <= 1)
    {
      lo = 0;
      hi = 1;
    }
  else
    pl_chart_nice_range (&lo, &hi, 6);

  for (guint s = 0; s < MIN (data->n_series, MAX_SERIES); s++)
    {
      b->legend[s].label = data->series_names != NULL && data->series_names[s] != NULL
                           ? data->series_names[s] : "?";
      pl_chart_series_colour (c->style, s, &b->legend[s].colour);
      b->legend[s].kind = PL_LEGEND_SWATCH;
    }
  b->frame.title = data->title != NULL ? data->title : _("Sparsity per layer");
  b->frame.note = data->note;
  b->frame.y_label = data->y_label != NULL ? data->y_label : _("sparsity");
  b->frame.legend = b->legend;
  b->frame.n_legend = MIN (data->n_series, MAX_SERIES);
  b->frame.x = (PlChartAxis) { 0, data->n_groups, FALSE, PL_CHART_NUMBER_INTEGER };
  b->frame.y = (PlChartAxis) { lo, hi, FALSE, data->format };
  b->frame.n_x_categories = data->n_groups;
  b->frame.x_categories = data->group_names;
  return data->group_names != NULL
         && _pl_frame_layout (c, &b->frame, 0, 0, c->width, c->height, &b->layout);
}

gboolean
pl_chart_bars_layout (cairo_t            *cr,
                      double              width,
                      double              height,
                      const PlBarsData   *data,
                      const PlChartStyle *style,
                      PlChartArea        *area)
{
  PlCanvas c;
  Bars b;
  gboolean ok;

  g_return_val_if_fail (cr != NULL && style != NULL && area != NULL, FALSE);

  memset (area, 0, sizeof *area);
  if (pl_chart_bars_empty_message (data) != NULL)
    return FALSE;
  _pl_canvas_init (&c, cr, width, height, style);
  ok = bars_layout (&c, data, &b);
  if (ok)
    *area = b.layout.area;
  _pl_canvas_clear (&c);
  return ok;
}

void
pl_chart_draw_bars (cairo_t            *cr,
                    double              width,
                    double              height,
                    const PlBarsData   *data,
                    const PlChartStyle *style)
{
  const char *empty = pl_chart_bars_empty_message (data);
  PlCanvas c;
  Bars b;
  const PlChartArea *a;
  double group_w, bar_w, base;

  g_return_if_fail (cr != NULL && style != NULL);

  if (empty == NULL && data->group_names == NULL)
    empty = _("No values to show");
  if (!_pl_draw_begin (&c, cr, width, height, style, data != NULL ? data->title : NULL, empty))
    return;
  if (!bars_layout (&c, data, &b))
    {
      _pl_draw_too_small (&c);
      return;
    }
  a = &b.layout.area;
  _pl_frame_draw_grid (&c, &b.frame, &b.layout);

  group_w = a->width / data->n_groups;
  bar_w = group_w * 0.8 / data->n_series;
  base = pl_chart_area_y (a, MAX (b.frame.y.lo, 0.0));
  c.small_size = MIN (style->font_size * 0.9, bar_w * 0.45);
  for (guint g = 0; g < data->n_groups; g++)
    for (guint s = 0; s < data->n_series; s++)
      {
        double v = data->values[(gsize) g * data->n_series + s];
        double x = a->x + g * group_w + group_w * 0.1 + s * bar_w, y;
        PlRgba colour;

        if (!isfinite (v))
          continue;
        y = pl_chart_area_y (a, v);
        pl_chart_series_colour (style, s, &colour);
        pl_chart_set_source (cr, &colour);
        cairo_rectangle (cr, x + bar_w * 0.06, MIN (y, base), bar_w * 0.88, fabs (base - y));
        cairo_fill (cr);

        /* the value on top of its bar, when the bar is wide enough to carry it */
        if (c.small_size >= 7)
          {
            char buf[32];
            double tw;

            pl_chart_format_number (buf, sizeof buf, v, data->format == PL_CHART_NUMBER_PERCENT ? 0.01 : 0,
                                    data->format);
            _pl_text_size (&c, PL_TEXT_SMALL, buf, 0, &tw, NULL);
            if (tw <= bar_w * 1.1)
              _pl_text_draw (&c, PL_TEXT_SMALL, buf, x + bar_w / 2, MIN (y, base) - 2, 0.5, 1, 0, FALSE,
                             &style->muted);
          }
      }

  _pl_frame_draw (&c, &b.frame, &b.layout);
  _pl_draw_end (&c);
}

void
pl_chart_bars_write_csv (const PlBarsData *data,
                         GString          *csv)
{
  g_string_append (csv, "group,series,value\n");
  if (data == NULL || data->values == NULL)
    return;
  for (guint g = 0; g < data->n_groups; g++)
    for (guint s = 0; s < data->n_series; s++)
      {
        _pl_csv_string (csv, data->group_names != NULL ? data->group_names[g] : NULL);
        g_string_append_c (csv, ',');
        _pl_csv_string (csv, data->series_names != NULL ? data->series_names[s] : NULL);
        g_string_append_c (csv, ',');
        _pl_csv_double (csv, data->values[(gsize) g * data->n_series + s]);
        g_string_append_c (csv, '\n');
      }
}
