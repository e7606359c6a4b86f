/* pl-chart-curves.c — sparsity-versus-accuracy curves and per-layer sensitivity */
#define G_LOG_DOMAIN "pl-chart"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pl-chart-curves.h"
#include "pl-chart-private.h"

#define MAX_CURVES 48

typedef struct {
  PlFrame       frame;
  PlFrameLayout layout;
  PlLegendItem  legend[MAX_CURVES + 1];
  char          note[160];
  char          reference[96];
} Curves;

/* ----- summarising seeds ----- */

typedef struct {
  double x, y;
} Sample;

static int
compare_samples (const void *a,
                 const void *b)
{
  const Sample *p = a, *q = b;

  return p->x < q->x ? -1 : p->x > q->x ? 1 : 0;
}

guint
pl_curve_summarise (const double *x,
                    const double *y,
                    guint         n,
                    PlSpread      spread,
                    double       *out_x,
                    double       *out_mean,
                    double       *out_lo,
                    double       *out_hi)
{
  g_autofree Sample *s = g_new (Sample, MAX (n, 1u));
  guint m = 0, k = 0;

  for (guint i = 0; i < n; i++)
    if (isfinite (x[i]) && isfinite (y[i]))
      s[m++] = (Sample) { x[i], y[i] };
  qsort (s, m, sizeof *s, compare_samples);

  for (guint i = 0; i < m; )
    {
      guint j = i;
      double sum = 0, lo = s[i].y, hi = s[i].y, mean, var = 0;

      while (j < m && s[j].x == s[i].x)
        {
          sum += s[j].y;
          lo = MIN (lo, s[j].y);
          hi = MAX (hi, s[j].y);
          j++;
        }
      mean = sum / (j - i);
      for (guint t = i; t < j; t++)
        var += (s[t].y - mean) * (s[t].y - mean);
      var = j - i > 1 ? var / (j - i - 1) : 0;

      out_x[k] = s[i].x;
      out_mean[k] = mean;
      if (out_lo != NULL && out_hi != NULL)
        {
          if (spread == PL_SPREAD_SD)
            {
              out_lo[k] = mean - sqrt (var);
              out_hi[k] = mean + sqrt (var);
            }
          else if (spread == PL_SPREAD_MIN_MAX)
            {
              out_lo[k] = lo;
              out_hi[k] = hi;
            }
          else
            out_lo[k] = out_hi[k] = mean;
        }
      k++;
      i = j;
    }
  return k;
}

/* ----- layout ----- */

/* The x value a point is drawn at: sparsity, or the fraction remaining on the log axis (NaN
 * where it cannot be shown). */
static double
plot_x (const PlCurveSet *data,
        double            sparsity)
{
  if (!data->log_remaining)
    return sparsity;
  return 1 - sparsity > 1e-12 ? 1 - sparsity : NAN;
}

const char *
pl_chart_curves_empty_message (const PlCurveSet *data)
{
  double first = NAN;

  if (data == NULL || data->n_curves == 0 || data->curves == NULL)
    return _("No curves to show");
  for (guint i = 0; i < data->n_curves; i++)
    {
      const PlCurve *cv = &data->curves[i];

      for (guint j = 0; j < cv->n && cv->x != NULL && cv->y != NULL; j++)
        {
          double x = plot_x (data, cv->x[j]);

          if (!isfinite (x) || !isfinite (cv->y[j]))
            continue;
          if (isnan (first))
            first = x;
          else if (x != first)
            return NULL;
        }
    }
  return _("Not enough points: a curve needs at least two sparsities");
}

static gboolean
curves_layout (PlCanvas         *c,
               const PlCurveSet *data,
               gboolean          sensitivity,
               Curves           *st)
{
  const PlChartStyle *s = c->style;
  double xmin = G_MAXDOUBLE, xmax = -G_MAXDOUBLE, ymin = G_MAXDOUBLE, ymax = -G_MAXDOUBLE;
  guint n_legend = 0;
  gboolean any_band = FALSE;

  memset (st, 0, sizeof *st);
  for (guint i = 0; i < data->n_curves; i++)
    {
      const PlCurve *cv = &data->curves[i];
      gboolean band = FALSE;

      for (guint j = 0; j < cv->n && cv->x != NULL && cv->y != NULL; j++)
        {
          double x = plot_x (data, cv->x[j]);

          if (!isfinite (x) || !isfinite (cv->y[j]))
            continue;
          xmin = MIN (xmin, x);
          xmax = MAX (xmax, x);
          ymin = MIN (ymin, cv->y[j]);
          ymax = MAX (ymax, cv->y[j]);
          if (cv->lo != NULL && cv->hi != NULL && isfinite (cv->lo[j]) && isfinite (cv->hi[j]))
            {
              ymin = MIN (ymin, cv->lo[j]);
              ymax = MAX (ymax, cv->hi[j]);
              band |= cv->lo[j] != cv->hi[j];
            }
        }
      any_band |= band;
      if (n_legend < MAX_CURVES)
        {
          st->legend[n_legend].label = cv->name != NULL ? cv->name : "?";
          pl_chart_series_colour (s, i, &st->legend[n_legend].colour);
          st->legend[n_legend].n_dash = pl_chart_series_dash (s, i, st->legend[n_legend].dash);
          st->legend[n_legend].kind = band && data->spread != PL_SPREAD_NONE ? PL_LEGEND_BAND : PL_LEGEND_LINE;
          n_legend++;
        }
    }
  if (isfinite (data->reference))
    {
      char value[32];

      ymin = MIN (ymin, data->reference);
      ymax = MAX (ymax, data->reference);
      pl_chart_format_number (value, sizeof value, data->reference, data->y_format == PL_CHART_NUMBER_PERCENT ? 0.001 : 0,
                              data->y_format);
      g_snprintf (st->reference, sizeof st->reference, "%s %s",
                  data->reference_label != NULL ? data->reference_label : _("dense"), value);
      st->legend[n_legend++] = (PlLegendItem) { st->reference, s->reference, PL_LEGEND_DASHED };
    }

  if (any_band && data->spread != PL_SPREAD_NONE)
    {
      if (data->spread == PL_SPREAD_SD)
        {
          if (data->n_seeds > 0)
            g_snprintf (st->note, sizeof st->note,
                        g_dngettext (GETTEXT_PACKAGE, "line: mean of %u seed · band: ±1 standard deviation",
                                     "line: mean of %u seeds · band: ±1 standard deviation", data->n_seeds),
                        data->n_seeds);
          else
            g_strlcpy (st->note, _("line: mean over seeds · band: ±1 standard deviation"), sizeof st->note);
        }
      else
        {
          if (data->n_seeds > 0)
            g_snprintf (st->note, sizeof st->note,
                        g_dngettext (GETTEXT_PACKAGE, "line: mean of %u seed · band: lowest to highest",
                                     "line: mean of %u seeds · band: lowest to highest", data->n_seeds),
                        data->n_seeds);
          else
            g_strlcpy (st->note, _("line: mean over seeds · band: lowest to highest"), sizeof st->note);
        }
      st->frame.note = st->note;
    }

  st->frame.title = data->title != NULL ? data->title
                    : sensitivity ? _("Sensitivity of each layer") : _("Accuracy after pruning");
  st->frame.y_label = data->y_label != NULL ? data->y_label : _("test accuracy");
  if (data->x_label != NULL)
    st->frame.x_label = data->x_label;
  else if (data->log_remaining)
    st->frame.x_label = _("weights remaining (log scale)");
  else
    st->frame.x_label = sensitivity ? _("sparsity of the layer (the others dense)")
                                    : _("sparsity (share of weights pruned)");
  st->frame.legend = st->legend;
  st->frame.n_legend = n_legend;

  if (data->log_remaining)
    {
      /* From 100 % on the left down to the decade below the smallest share remaining. */
      double lo = pow (10, floor (log10 (xmin) + 1e-9));

      st->frame.x = (PlChartAxis) { MAX (1.0, xmax), MIN (lo, xmin), TRUE, PL_CHART_NUMBER_PERCENT };
    }
  else
    {
      double lo = xmin, hi = xmax;

      pl_chart_nice_range (&lo, &hi, 8);
      if (xmin >= 0 && xmax <= 1)
        {
          lo = MAX (lo, 0.0);
          hi = MIN (hi, 1.0);
        }
      st->frame.x = (PlChartAxis) { lo, hi, FALSE, PL_CHART_NUMBER_PERCENT };
    }

  {
    double lo = ymin, hi = ymax, pad = (ymax - ymin) * 0.04;

    lo -= pad;
    hi += pad;
    pl_chart_nice_range (&lo, &hi, 6);
    if (data->y_format == PL_CHART_NUMBER_PERCENT && ymin >= 0 && ymax <= 1)
      {
        lo = MAX (lo, 0.0);
        hi = MIN (hi, 1.0);
      }
    st->frame.y = (PlChartAxis) { lo, hi, FALSE, data->y_format };
  }

  return _pl_frame_layout (c, &st->frame, 0, 0, c->width, c->height, &st->layout);
}

static gboolean
layout_public (cairo_t            *cr,
               double              width,
               double              height,
               const PlCurveSet   *data,
               const PlChartStyle *style,
               gboolean            sensitivity,
               PlChartArea        *area)
{
  PlCanvas c;
  Curves st;
  gboolean ok;

  g_return_val_if_fail (cr != NULL && style != NULL && area != NULL, FALSE);

  memset (area, 0, sizeof *area);
  if (pl_chart_curves_empty_message (data) != NULL)
    return FALSE;
  _pl_canvas_init (&c, cr, width, height, style);
  ok = curves_layout (&c, data, sensitivity, &st);
  if (ok)
    *area = st.layout.area;
  _pl_canvas_clear (&c);
  return ok;
}

gboolean
pl_chart_curves_layout (cairo_t            *cr,
                        double              width,
                        double              height,
                        const PlCurveSet   *data,
                        const PlChartStyle *style,
                        PlChartArea        *area)
{
  return layout_public (cr, width, height, data, style, FALSE, area);
}

gboolean
pl_chart_sensitivity_layout (cairo_t                 *cr,
                             double                   width,
                             double                   height,
                             const PlSensitivityData *data,
                             const PlChartStyle      *style,
                             PlChartArea             *area)
{
  return layout_public (cr, width, height, data, style, TRUE, area);
}

/* ----- drawing ----- */

static void
draw_curves (cairo_t            *cr,
             double              width,
             double              height,
             const PlCurveSet   *data,
             const PlChartStyle *style,
             gboolean            sensitivity)
{
  const char *empty = pl_chart_curves_empty_message (data);
  PlCanvas c;
  Curves st;
  const PlChartArea *a;

  g_return_if_fail (cr != NULL && style != NULL);

  if (!_pl_draw_begin (&c, cr, width, height, style, data != NULL ? data->title : NULL, empty))
    return;
  if (!curves_layout (&c, data, sensitivity, &st))
    {
      _pl_draw_too_small (&c);
      return;
    }
  a = &st.layout.area;
  _pl_frame_draw_grid (&c, &st.frame, &st.layout);

  cairo_save (cr);
  _pl_clip_to_area (cr, a);
  cairo_set_line_join (cr, CAIRO_LINE_JOIN_ROUND);
  cairo_set_line_cap (cr, CAIRO_LINE_CAP_ROUND);

  /* bands first, so no line is hidden under another curve's band */
  if (data->spread != PL_SPREAD_NONE)
    for (guint i = 0; i < data->n_curves; i++)
      {
        const PlCurve *cv = &data->curves[i];
        PlRgba colour;
        gboolean started = FALSE;

        if (cv->lo == NULL || cv->hi == NULL || cv->x == NULL)
          continue;
        for (guint j = 0; j < cv->n; j++)
          {
            double x = plot_x (data, cv->x[j]);

            if (!isfinite (x) || !isfinite (cv->hi[j]))
              continue;
            if (!started)
              cairo_move_to (cr, pl_chart_area_x (a, x), pl_chart_area_y (a, cv->hi[j]));
            else
              cairo_line_to (cr, pl_chart_area_x (a, x), pl_chart_area_y (a, cv->hi[j]));
            started = TRUE;
          }
        for (guint j = cv->n; j-- > 0; )
          {
            double x = plot_x (data, cv->x[j]);

            if (!isfinite (x) || !isfinite (cv->lo[j]))
              continue;
            cairo_line_to (cr, pl_chart_area_x (a, x), pl_chart_area_y (a, cv->lo[j]));
          }
        cairo_close_path (cr);
        pl_chart_series_colour (style, i, &colour);
        colour.a = 0.2;
        pl_chart_set_source (cr, &colour);
        cairo_fill (cr);
      }

  /* the dense reference */
  if (isfinite (data->reference))
    {
      double dash[] = { style->line_width * 3, style->line_width * 2 };
      double y = _pl_snap_y (cr, pl_chart_area_y (a, data->reference), style->line_width * 0.75);

      cairo_save (cr);
      cairo_set_dash (cr, dash, 2, 0);
      cairo_set_line_cap (cr, CAIRO_LINE_CAP_BUTT);
      pl_chart_set_source (cr, &style->reference);
      cairo_set_line_width (cr, style->line_width * 0.75);
      cairo_move_to (cr, a->x, y);
      cairo_line_to (cr, a->x + a->width, y);
      cairo_stroke (cr);
      cairo_restore (cr);
    }

  /* lines, then markers on top */
  for (guint i = 0; i < data->n_curves; i++)
    {
      const PlCurve *cv = &data->curves[i];
      PlRgba colour;
      gboolean pen_down = FALSE;
      double dash[2];
      guint n_dash;

      if (cv->x == NULL || cv->y == NULL)
        continue;
      pl_chart_series_colour (style, i, &colour);
      pl_chart_set_source (cr, &colour);
      cairo_set_line_width (cr, style->line_width);
      n_dash = pl_chart_series_dash (style, i, dash);
      cairo_set_dash (cr, dash, n_dash, 0);
      for (guint j = 0; j < cv->n; j++)
        {
          double x = plot_x (data, cv->x[j]);

          if (!isfinite (x) || !isfinite (cv->y[j]))
            {
              pen_down = FALSE;  /* a gap where a value is missing */
              continue;
            }
          if (pen_down)
            cairo_line_to (cr, pl_chart_area_x (a, x), pl_chart_area_y (a, cv->y[j]));
          else
            cairo_move_to (cr, pl_chart_area_x (a, x), pl_chart_area_y (a, cv->y[j]));
          pen_down = TRUE;
        }
      cairo_stroke (cr);
    }
  cairo_set_dash (cr, NULL, 0, 0);
  for (guint i = 0; i < data->n_curves; i++)
    {
      const PlCurve *cv = &data->curves[i];
      g_autofree double *xy = NULL;
      guint m = 0;
      PlRgba colour;

      if (cv->x == NULL || cv->y == NULL)
        continue;
      xy = g_new (double, 2 * (gsize) MAX (cv->n, 1));
      for (guint j = 0; j < cv->n; j++)
        {
          double x = plot_x (data, cv->x[j]);

          if (isfinite (x) && isfinite (cv->y[j]))
            {
              xy[2 * m] = pl_chart_area_x (a, x);
              xy[2 * m++ + 1] = pl_chart_area_y (a, cv->y[j]);
            }
        }
      pl_chart_series_colour (style, i, &colour);
      _pl_markers (&c, xy, m, style->marker_radius, &colour);
    }
  cairo_restore (cr);

  _pl_frame_draw (&c, &st.frame, &st.layout);
  _pl_draw_end (&c);
}

void
pl_chart_draw_curves (cairo_t            *cr,
                      double              width,
                      double              height,
                      const PlCurveSet   *data,
                      const PlChartStyle *style)
{
  draw_curves (cr, width, height, data, style, FALSE);
}

void
pl_chart_draw_sensitivity (cairo_t                 *cr,
                           double                   width,
                           double                   height,
                           const PlSensitivityData *data,
                           const PlChartStyle      *style)
{
  draw_curves (cr, width, height, data, style, TRUE);
}

void
pl_chart_curves_write_csv (const PlCurveSet *data,
                           GString          *csv)
{
  g_string_append (csv, "series,sparsity,value,lo,hi\n");
  if (data == NULL)
    return;
  for (guint i = 0; i < data->n_curves && data->curves != NULL; i++)
    {
      const PlCurve *cv = &data->curves[i];

      for (guint j = 0; j < cv->n && cv->x != NULL && cv->y != NULL; j++)
        {
          _pl_csv_string (csv, cv->name);
          g_string_append_c (csv, ',');
          _pl_csv_double (csv, cv->x[j]);
          g_string_append_c (csv, ',');
          _pl_csv_double (csv, cv->y[j]);
          g_string_append_c (csv, ',');
          if (cv->lo != NULL)
            _pl_csv_double (csv, cv->lo[j]);
          g_string_append_c (csv, ',');
          if (cv->hi != NULL)
            _pl_csv_double (csv, cv->hi[j]);
          g_string_append_c (csv, '\n');
        }
    }
  if (isfinite (data->reference))
    {
      _pl_csv_string (csv, data->reference_label != NULL ? data->reference_label : "dense");
      g_string_append (csv, ",,");
      _pl_csv_double (csv, data->reference);
      g_string_append (csv, ",,\n");
    }
}
