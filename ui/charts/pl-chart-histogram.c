/* pl-chart-histogram.c — a score histogram with threshold lines */
#define G_LOG_DOMAIN "pl-chart"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <math.h>
#include <string.h>

#include "pl-chart-histogram.h"
#include "pl-chart-private.h"

typedef struct {
  PlFrame       frame;
  PlFrameLayout layout;
  double        max_count;
} Histogram;

void
pl_histogram_bin (const float *values,
                  gsize        n,
                  guint        n_bins,
                  double       lo,
                  double       hi,
                  double      *counts)
{
  double scale;

  g_return_if_fail (counts != NULL || n_bins == 0);

  memset (counts, 0, sizeof (double) * n_bins);
  if (n_bins == 0 || !(hi > lo))
    return;
  scale = n_bins / (hi - lo);
  for (gsize i = 0; i < n; i++)
    {
      double v = values[i];
      double k;

      if (!isfinite (v) || v < lo || v > hi)
        continue;
      k = floor ((v - lo) * scale);
      counts[k >= n_bins ? n_bins - 1 : (guint) k]++;
    }
}

const char *
pl_chart_histogram_empty_message (const PlHistogramData *data)
{
  double total = 0;

  if (data == NULL || data->n_bins == 0 || data->counts == NULL)
    return _("No scores to show");
  for (guint i = 0; i < data->n_bins; i++)
    if (isfinite (data->counts[i]) && data->counts[i] > 0)
      total += data->counts[i];
  if (total == 0)
    return _("No scores to show");
  if (!(data->hi > data->lo) || !isfinite (data->hi - data->lo))
    return _("All scores are equal: nothing to draw a histogram of");
  return NULL;
}

static gboolean
histogram_layout (PlCanvas              *c,
                  const PlHistogramData *data,
                  Histogram             *h)
{
  double ylo, yhi;

  memset (h, 0, sizeof *h);
  for (guint i = 0; i < data->n_bins; i++)
    if (isfinite (data->counts[i]))
      h->max_count = MAX (h->max_count, data->counts[i]);

  h->frame.title = data->title != NULL ? data->title : _("Score histogram");
  h->frame.note = data->note;
  h->frame.x_label = data->x_label != NULL ? data->x_label : _("score");
  h->frame.y_label = data->log_count ? _("count (log scale)") : _("count");
  h->frame.x = (PlChartAxis) { data->lo, data->hi, FALSE, PL_CHART_NUMBER_PLAIN };
  if (data->log_count)
    {
      /* A bar of one stays visible above the bottom at 0.7. */
      ylo = 0.7;
      yhi = pow (10, ceil (log10 (MAX (h->max_count, 1) * 1.05)));
      h->frame.y = (PlChartAxis) { ylo, yhi, TRUE, PL_CHART_NUMBER_INTEGER };
    }
  else
    {
      ylo = 0;
      yhi = h->max_count * 1.05;
      pl_chart_nice_range (&ylo, &yhi, 6);
      h->frame.y = (PlChartAxis) { 0, yhi, FALSE, PL_CHART_NUMBER_INTEGER };
    }
  return _pl_frame_layout (c, &h->frame, 0, 0, c->width, c->height, &h->layout);
}

gboolean
pl_chart_histogram_layout (cairo_t               *cr,
                           double                 width,
                           double                 height,
                           const PlHistogramData *data,
                           const PlChartStyle    *style,
                           PlChartArea           *area)
{
  PlCanvas c;
  Histogram h;
  gboolean ok;

  g_return_val_if_fail (cr != NULL && style != NULL && area != NULL, FALSE);

  memset (area, 0, sizeof *area);
  if (pl_chart_histogram_empty_message (data) != NULL)
    return FALSE;
  _pl_canvas_init (&c, cr, width, height, style);
  ok = histogram_layout (&c, data, &h);
  if (ok)
    *area = h.layout.area;
  _pl_canvas_clear (&c);
  return ok;
}

void
pl_chart_draw_histogram (cairo_t               *cr,
                         double                 width,
                         double                 height,
                         const PlHistogramData *data,
                         const PlChartStyle    *style)
{
  const char *empty = pl_chart_histogram_empty_message (data);
  PlCanvas c;
  Histogram h;
  const PlChartArea *a;
  double bin_w, base;
  PlRgba bar;

  g_return_if_fail (cr != NULL && style != NULL);

  if (!_pl_draw_begin (&c, cr, width, height, style, data != NULL ? data->title : NULL, empty))
    return;
  if (!histogram_layout (&c, data, &h))
    {
      _pl_draw_too_small (&c);
      return;
    }
  a = &h.layout.area;
  _pl_frame_draw_grid (&c, &h.frame, &h.layout);

  /* bars */
  cairo_save (cr);
  _pl_clip_to_area (cr, a);
  bin_w = (data->hi - data->lo) / data->n_bins;
  base = a->y + a->height;
  pl_chart_series_colour (style, 0, &bar);
  pl_chart_set_source (cr, &bar);
  for (guint i = 0; i < data->n_bins; i++)
    {
      double count = data->counts[i];
      double x0, x1, top;

      if (!(count > 0) || !isfinite (count))
        continue;
      x0 = pl_chart_area_x (a, data->lo + i * bin_w);
      x1 = pl_chart_area_x (a, data->lo + (i + 1) * bin_w);
      top = pl_chart_area_y (a, count);
      /* A hair of a gap between bars when they are wide enough to show it. */
      if (x1 - x0 > 4)
        x1 -= MIN (1.0, (x1 - x0) * 0.08);
      cairo_rectangle (cr, x0, top, MAX (x1 - x0, 0.5), base - top);
    }
  cairo_fill (cr);

  /* The pruned side of each threshold, veiled in the mask colour. */
  for (guint k = 0; k < data->n_thresholds && data->thresholds != NULL; k++)
    {
      PlRgba veil = style->mask;
      double tx = pl_chart_area_x (a, data->thresholds[k]);

      if (!isfinite (tx))
        continue;
      veil.a = 0.30;
      pl_chart_set_source (cr, &veil);
      cairo_rectangle (cr, a->x, a->y, CLAMP (tx - a->x, 0, a->width), a->height);
      cairo_fill (cr);
    }
  cairo_restore (cr);

  _pl_frame_draw (&c, &h.frame, &h.layout);

  /* threshold lines, then their labels over every line */
  for (guint k = 0; k < data->n_thresholds && data->thresholds != NULL; k++)
    {
      double tx = pl_chart_area_x (a, data->thresholds[k]);
      PlRgba colour;

      if (!isfinite (tx) || tx < a->x - 0.5 || tx > a->x + a->width + 0.5)
        continue;
      pl_chart_series_colour (style, k + 1, &colour);
      cairo_save (cr);
      pl_chart_set_source (cr, &colour);
      cairo_set_line_width (cr, style->line_width);
      tx = _pl_snap_x (cr, tx, style->line_width);
      cairo_move_to (cr, tx, a->y);
      cairo_line_to (cr, tx, a->y + a->height);
      cairo_stroke (cr);
      cairo_restore (cr);
    }
  for (guint k = 0; k < data->n_thresholds && data->thresholds != NULL; k++)
    {
      double t = data->thresholds[k];
      double tx = pl_chart_area_x (a, t);
      double line_h = _pl_text_line_height (&c, PL_TEXT_TICK);
      double label_y = a->y + style->font_size * 0.3 + k * line_h * 1.15;
      char value[64], text[160];
      double tw;
      gboolean right;
      double lx;
      PlRgba colour, plate = style->background;

      if (!isfinite (tx) || tx < a->x - 0.5 || tx > a->x + a->width + 0.5)
        continue;
      pl_chart_series_colour (style, k + 1, &colour);
      pl_chart_format_number (value, sizeof value, t, 0, PL_CHART_NUMBER_PLAIN);
      if (data->shares != NULL && isfinite (data->shares[k]))
        {
          char pct[32];

          pl_chart_format_number (pct, sizeof pct, data->shares[k], 0.001, PL_CHART_NUMBER_PERCENT);
          /* TRANSLATORS: a threshold on the histogram and the share of weights it prunes */
          g_snprintf (text, sizeof text, _("%s: %s pruned"), value, pct);
        }
      else
        g_strlcpy (text, value, sizeof text);

      /* Right of the line when it fits, else left of it, on a background plate. */
      _pl_text_size (&c, PL_TEXT_TICK, text, 0, &tw, NULL);
      right = tx + style->font_size * 0.4 + tw <= a->x + a->width;
      lx = right ? tx + style->font_size * 0.4 : tx - style->font_size * 0.4;
      if (plate.a > 0)
        {
          plate.a = 0.85;
          cairo_save (cr);
          pl_chart_set_source (cr, &plate);
          cairo_rectangle (cr, right ? lx - 2 : lx - tw - 2, label_y - 1, tw + 4, line_h + 2);
          cairo_fill (cr);
          cairo_restore (cr);
        }
      _pl_text_draw (&c, PL_TEXT_TICK, text, lx, label_y, right ? 0 : 1, 0, 0, FALSE, &colour);
    }

  _pl_draw_end (&c);
}

void
pl_chart_histogram_write_csv (const PlHistogramData *data,
                              GString               *csv)
{
  double bin_w;

  g_string_append (csv, "series,lo,hi,value\n");
  if (data == NULL || data->n_bins == 0 || data->counts == NULL)
    return;
  bin_w = (data->hi - data->lo) / data->n_bins;
  for (guint i = 0; i < data->n_bins; i++)
    {
      g_string_append (csv, "count,");
      _pl_csv_double (csv, data->lo + i * bin_w);
      g_string_append_c (csv, ',');
      _pl_csv_double (csv, i + 1 == data->n_bins ? data->hi : data->lo + (i + 1) * bin_w);
      g_string_append_c (csv, ',');
      _pl_csv_double (csv, data->counts[i]);
      g_string_append_c (csv, '\n');
    }
  for (guint k = 0; k < data->n_thresholds && data->thresholds != NULL; k++)
    {
      g_string_append (csv, "threshold,");
      _pl_csv_double (csv, data->thresholds[k]);
      g_string_append_c (csv, ',');
      _pl_csv_double (csv, data->thresholds[k]);
      g_string_append_c (csv, ',');
      if (data->shares != NULL)
        _pl_csv_double (csv, data->shares[k]);
      g_string_append_c (csv, '\n');
    }
}
