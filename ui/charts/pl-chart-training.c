/* pl-chart-training.c — loss and accuracy per epoch; gradient norm per step */
#define G_LOG_DOMAIN "pl-chart"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <math.h>
#include <string.h>

#include "pl-chart-private.h"
#include "pl-chart-training.h"

/* Markers at each epoch while they stay apart. */
#define MAX_MARKED_EPOCHS 40

static gboolean
any_finite (const double *v,
            guint         n)
{
  for (guint i = 0; v != NULL && i < n; i++)
    if (isfinite (v[i]))
      return TRUE;
  return FALSE;
}

static double
epoch_at (const PlTrainingData *data,
          guint                 i)
{
  return data->epoch != NULL ? data->epoch[i] : i + 1.0;
}

const char *
pl_chart_training_empty_message (const PlTrainingData *data)
{
  if (data == NULL || data->n == 0
      || (!any_finite (data->train_loss, data->n) && !any_finite (data->val_loss, data->n)
          && !any_finite (data->train_accuracy, data->n) && !any_finite (data->val_accuracy, data->n)))
    return _("No training history to show");
  if (data->n < 2)
    return _("Not enough points: train for at least two epochs to draw curves");
  return NULL;
}

typedef struct {
  PlFrame       header;
  PlFrameLayout header_layout;
  PlLegendItem  legend[2];
  PlFrame       panel[2];
  PlFrameLayout layout[2];
  guint         n_panels;
  gboolean      has_val;
} Training;

static void
range_of (const double *a,
          const double *b,
          guint         n,
          double       *lo,
          double       *hi)
{
  *lo = G_MAXDOUBLE;
  *hi = -G_MAXDOUBLE;
  for (guint i = 0; i < n; i++)
    {
      if (a != NULL && isfinite (a[i]))
        {
          *lo = MIN (*lo, a[i]);
          *hi = MAX (*hi, a[i]);
        }
      if (b != NULL && isfinite (b[i]))
        {
          *lo = MIN (*lo, b[i]);
          *hi = MAX (*hi, b[i]);
        }
    }
}

static gboolean
training_layout (PlCanvas             *c,
                 const PlTrainingData *data,
                 Training             *t)
{
  const PlChartStyle *s = c->style;
  gboolean has_loss = any_finite (data->train_loss, data->n) || any_finite (data->val_loss, data->n);
  gboolean has_acc = any_finite (data->train_accuracy, data->n) || any_finite (data->val_accuracy, data->n);
  double top, e0 = epoch_at (data, 0), e1 = epoch_at (data, data->n - 1);
  gboolean side_by_side = c->width >= c->height * 1.1;

  memset (t, 0, sizeof *t);
  t->has_val = any_finite (data->val_loss, data->n) || any_finite (data->val_accuracy, data->n);
  t->header.title = data->title != NULL ? data->title : _("Training");
  pl_chart_series_colour (s, 0, &t->legend[0].colour);
  t->legend[0].label = _("training");
  t->legend[0].kind = PL_LEGEND_LINE;
  pl_chart_series_colour (s, 1, &t->legend[1].colour);
  t->legend[1].label = _("validation");
  t->legend[1].kind = PL_LEGEND_LINE;
  t->header.legend = t->legend;
  t->header.n_legend = t->has_val ? 2 : 1;
  top = _pl_frame_header (c, &t->header, 0, 0, c->width, &t->header_layout) - s->padding * 0.5;

  if (has_loss)
    {
      PlFrame *f = &t->panel[t->n_panels++];
      double lo, hi;

      range_of (data->train_loss, data->val_loss, data->n, &lo, &hi);
      lo = MIN (lo, 0);
      pl_chart_nice_range (&lo, &hi, 6);
      f->x = (PlChartAxis) { e0, e1, FALSE, PL_CHART_NUMBER_INTEGER };
      f->y = (PlChartAxis) { lo, hi, FALSE, PL_CHART_NUMBER_PLAIN };
      f->x_label = _("epoch");
      f->y_label = _("loss (cross-entropy)");
    }
  if (has_acc)
    {
      PlFrame *f = &t->panel[t->n_panels++];
      double lo, hi;

      range_of (data->train_accuracy, data->val_accuracy, data->n, &lo, &hi);
      hi = MAX (hi, lo + 1e-3);
      pl_chart_nice_range (&lo, &hi, 6);
      f->x = (PlChartAxis) { e0, e1, FALSE, PL_CHART_NUMBER_INTEGER };
      f->y = (PlChartAxis) { MAX (lo, 0.0), MIN (hi, 1.0), FALSE, PL_CHART_NUMBER_PERCENT };
      f->x_label = _("epoch");
      f->y_label = _("accuracy");
    }

  for (guint p = 0; p < t->n_panels; p++)
    {
      double x, y, w, h;

      if (t->n_panels == 1)
        {
          x = 0;
          y = top;
          w = c->width;
          h = c->height - top;
        }
      else if (side_by_side)
        {
          x = p * c->width / 2;
          y = top;
          w = c->width / 2;
          h = c->height - top;
        }
      else
        {
          x = 0;
          y = top + p * (c->height - top) / 2;
          w = c->width;
          h = (c->height - top) / 2;
        }
      if (!_pl_frame_layout (c, &t->panel[p], x, y, w, h, &t->layout[p]))
        return FALSE;
    }
  return t->n_panels > 0;
}

gboolean
pl_chart_training_layout (cairo_t              *cr,
                          double                width,
                          double                height,
                          const PlTrainingData *data,
                          const PlChartStyle   *style,
                          PlChartArea           areas[2])
{
  PlCanvas c;
  Training t;
  gboolean ok;

  g_return_val_if_fail (cr != NULL && style != NULL && areas != NULL, FALSE);

  memset (areas, 0, 2 * sizeof *areas);
  if (pl_chart_training_empty_message (data) != NULL)
    return FALSE;
  _pl_canvas_init (&c, cr, width, height, style);
  ok = training_layout (&c, data, &t);
  if (ok)
    {
      gboolean has_loss = any_finite (data->train_loss, data->n) || any_finite (data->val_loss, data->n);
      guint p = 0;

      if (has_loss)
        areas[0] = t.layout[p++].area;
      if (p < t.n_panels)
        areas[1] = t.layout[p].area;
    }
  _pl_canvas_clear (&c);
  return ok;
}

static void
draw_series (PlCanvas             *c,
             const PlChartArea    *a,
             const PlTrainingData *data,
             const double         *v,
             const PlRgba         *colour)
{
  cairo_t *cr = c->cr;
  gboolean pen = FALSE;

  if (v == NULL)
    return;
  cairo_save (cr);
  cairo_set_line_join (cr, CAIRO_LINE_JOIN_ROUND);
  pl_chart_set_source (cr, colour);
  cairo_set_line_width (cr, c->style->line_width);
  for (guint i = 0; i < data->n; i++)
    {
      double x = pl_chart_area_x (a, epoch_at (data, i));

      if (!isfinite (v[i]))
        {
          pen = FALSE;
          continue;
        }
      if (pen)
        cairo_line_to (cr, x, pl_chart_area_y (a, v[i]));
      else
        cairo_move_to (cr, x, pl_chart_area_y (a, v[i]));
      pen = TRUE;
    }
  cairo_stroke (cr);
  if (data->n <= MAX_MARKED_EPOCHS)
    {
      double xy[2 * MAX_MARKED_EPOCHS];
      guint m = 0;

      for (guint i = 0; i < data->n; i++)
        if (isfinite (v[i]))
          {
            xy[2 * m] = pl_chart_area_x (a, epoch_at (data, i));
            xy[2 * m++ + 1] = pl_chart_area_y (a, v[i]);
          }
      _pl_markers (c, xy, m, c->style->marker_radius * 0.8, colour);
    }
  cairo_restore (cr);
}

void
pl_chart_draw_training (cairo_t              *cr,
                        double                width,
                        double                height,
                        const PlTrainingData *data,
                        const PlChartStyle   *style)
{
  const char *empty = pl_chart_training_empty_message (data);
  gboolean has_loss;
  PlCanvas c;
  Training t;

  g_return_if_fail (cr != NULL && style != NULL);

  if (!_pl_draw_begin (&c, cr, width, height, style, data != NULL ? data->title : NULL, empty))
    return;
  if (!training_layout (&c, data, &t))
    {
      _pl_draw_too_small (&c);
      return;
    }

  has_loss = any_finite (data->train_loss, data->n) || any_finite (data->val_loss, data->n);
  for (guint p = 0; p < t.n_panels; p++)
    {
      const PlChartArea *a = &t.layout[p].area;
      gboolean loss = p == 0 && has_loss;

      _pl_frame_draw_grid (&c, &t.panel[p], &t.layout[p]);
      cairo_save (cr);
      _pl_clip_to_area (cr, a);
      draw_series (&c, a, data, loss ? data->train_loss : data->train_accuracy, &t.legend[0].colour);
      draw_series (&c, a, data, loss ? data->val_loss : data->val_accuracy, &t.legend[1].colour);
      cairo_restore (cr);
      _pl_frame_draw (&c, &t.panel[p], &t.layout[p]);
    }
  _pl_frame_draw_header (&c, &t.header, &t.header_layout);
  _pl_draw_end (&c);
}

void
pl_chart_training_write_csv (const PlTrainingData *data,
                             GString              *csv)
{
  g_string_append (csv, "epoch,train_loss,val_loss,train_accuracy,val_accuracy\n");
  for (guint i = 0; data != NULL && i < data->n; i++)
    {
      const double *cols[] = { data->train_loss, data->val_loss, data->train_accuracy, data->val_accuracy };

      _pl_csv_double (csv, epoch_at (data, i));
      for (guint k = 0; k < G_N_ELEMENTS (cols); k++)
        {
          g_string_append_c (csv, ',');
          if (cols[k] != NULL)
            _pl_csv_double (csv, cols[k][i]);
        }
      g_string_append_c (csv, '\n');
    }
}

/* ----- gradient norm ----- */

typedef struct {
  PlFrame       frame;
  PlFrameLayout layout;
  PlLegendItem  legend[2];
  char          clip_label[96];
  char          note[160];
  double        per_step;   /* x units per step: 1, or 1/steps_per_epoch */
} GradNorm;

const char *
pl_chart_grad_norm_empty_message (const PlGradNormData *data)
{
  guint finite = 0;

  if (data == NULL || data->n == 0 || data->norms == NULL)
    return _("No gradient norms to show");
  for (guint i = 0; i < data->n && finite < 2; i++)
    if (isfinite (data->norms[i]) && (!data->log_y || data->norms[i] > 0))
      finite++;
  if (finite < 2)
    return _("Not enough points: the history needs at least two steps");
  return NULL;
}

static double
step_x (const GradNorm *g,
        guint           i)
{
  return (i + 1) * g->per_step;
}

static gboolean
grad_norm_layout (PlCanvas             *c,
                  const PlGradNormData *data,
                  GradNorm             *g)
{
  const PlChartStyle *s = c->style;
  double lo = G_MAXDOUBLE, hi = 0;
  guint clipped = 0, n_legend = 0;

  memset (g, 0, sizeof *g);
  g->per_step = data->steps_per_epoch > 0 ? 1.0 / data->steps_per_epoch : 1.0;
  for (guint i = 0; i < data->n; i++)
    {
      float v = data->norms[i];

      if (!isfinite (v) || (data->log_y && v <= 0))
        continue;
      lo = MIN (lo, v);
      hi = MAX (hi, v);
      if (data->clip_norm > 0 && v > data->clip_norm)
        clipped++;
    }

  g->frame.title = data->title != NULL ? data->title : _("Gradient norm");
  g->frame.x_label = data->steps_per_epoch > 0 ? _("epoch") : _("step");
  g->frame.y_label = data->log_y ? _("global gradient norm (log scale)") : _("global gradient norm");
  pl_chart_series_colour (s, 0, &g->legend[n_legend].colour);
  g->legend[n_legend].label = data->clip_norm > 0 ? _("norm before clipping") : _("norm");
  g->legend[n_legend++].kind = PL_LEGEND_LINE;

  if (data->clip_norm > 0)
    {
      char value[32], pct[32];

      pl_chart_format_number (value, sizeof value, data->clip_norm, 0, PL_CHART_NUMBER_PLAIN);
      g_snprintf (g->clip_label, sizeof g->clip_label, _("clipping level %s"), value);
      pl_chart_series_colour (s, 1, &g->legend[n_legend].colour);
      g->legend[n_legend].label = g->clip_label;
      g->legend[n_legend++].kind = PL_LEGEND_DASHED;
      pl_chart_format_number (pct, sizeof pct, (double) clipped / data->n, 0.001, PL_CHART_NUMBER_PERCENT);
      /* TRANSLATORS: "12.5% of 2000 steps were clipped" */
      g_snprintf (g->note, sizeof g->note, _("%s of %u steps were clipped"), pct, data->n);
      g->frame.note = g->note;
      hi = MAX (hi, data->clip_norm);
      lo = MIN (lo, data->clip_norm);
    }
  else if (data->clip_value > 0)
    {
      char value[32];

      pl_chart_format_number (value, sizeof value, data->clip_value, 0, PL_CHART_NUMBER_PLAIN);
      g_snprintf (g->note, sizeof g->note, _("each gradient entry clipped to ±%s (no norm level)"), value);
      g->frame.note = g->note;
    }
  g->frame.legend = g->legend;
  g->frame.n_legend = n_legend;

  g->frame.x = (PlChartAxis) { data->steps_per_epoch > 0 ? 0 : 1, step_x (g, data->n - 1), FALSE,
                               data->steps_per_epoch > 0 ? PL_CHART_NUMBER_PLAIN : PL_CHART_NUMBER_INTEGER };
  if (data->log_y)
    g->frame.y = (PlChartAxis) { pow (10, floor (log10 (lo))), pow (10, ceil (log10 (hi * 1.0001))), TRUE,
                                 PL_CHART_NUMBER_PLAIN };
  else
    {
      double ylo = 0, yhi = hi * 1.04;

      pl_chart_nice_range (&ylo, &yhi, 6);
      g->frame.y = (PlChartAxis) { 0, yhi, FALSE, PL_CHART_NUMBER_PLAIN };
    }
  return _pl_frame_layout (c, &g->frame, 0, 0, c->width, c->height, &g->layout);
}

gboolean
pl_chart_grad_norm_layout (cairo_t              *cr,
                           double                width,
                           double                height,
                           const PlGradNormData *data,
                           const PlChartStyle   *style,
                           PlChartArea          *area)
{
  PlCanvas c;
  GradNorm g;
  gboolean ok;

  g_return_val_if_fail (cr != NULL && style != NULL && area != NULL, FALSE);

  memset (area, 0, sizeof *area);
  if (pl_chart_grad_norm_empty_message (data) != NULL)
    return FALSE;
  _pl_canvas_init (&c, cr, width, height, style);
  ok = grad_norm_layout (&c, data, &g);
  if (ok)
    *area = g.layout.area;
  _pl_canvas_clear (&c);
  return ok;
}

void
pl_chart_draw_grad_norm (cairo_t              *cr,
                         double                width,
                         double                height,
                         const PlGradNormData *data,
                         const PlChartStyle   *style)
{
  const char *empty = pl_chart_grad_norm_empty_message (data);
  PlCanvas c;
  GradNorm g;
  const PlChartArea *a;
  PlRgba colour;
  guint columns;

  g_return_if_fail (cr != NULL && style != NULL);

  if (!_pl_draw_begin (&c, cr, width, height, style, data != NULL ? data->title : NULL, empty))
    return;
  if (!grad_norm_layout (&c, data, &g))
    {
      _pl_draw_too_small (&c);
      return;
    }
  a = &g.layout.area;
  _pl_frame_draw_grid (&c, &g.frame, &g.layout);

  cairo_save (cr);
  _pl_clip_to_area (cr, a);
  cairo_set_line_join (cr, CAIRO_LINE_JOIN_ROUND);
  pl_chart_series_colour (style, 0, &colour);
  columns = (guint) MAX (1, floor (a->width));

  if (data->n <= columns * 2)
    {
      gboolean pen = FALSE;

      pl_chart_set_source (cr, &colour);
      cairo_set_line_width (cr, style->line_width * 0.75);
      for (guint i = 0; i < data->n; i++)
        {
          float v = data->norms[i];

          if (!isfinite (v) || (data->log_y && v <= 0))
            {
              pen = FALSE;
              continue;
            }
          if (pen)
            cairo_line_to (cr, pl_chart_area_x (a, step_x (&g, i)), pl_chart_area_y (a, v));
          else
            cairo_move_to (cr, pl_chart_area_x (a, step_x (&g, i)), pl_chart_area_y (a, v));
          pen = TRUE;
        }
      cairo_stroke (cr);
    }
  else
    {
      /* More steps than pixels: per pixel column, the band from the lowest to the highest norm
       * and a line through the mean, so spikes stay visible. */
      g_autofree double *lo = g_new (double, columns);
      g_autofree double *hi = g_new (double, columns);
      g_autofree double *sum = g_new0 (double, columns);
      g_autofree guint *count = g_new0 (guint, columns);
      PlRgba band = colour;
      gboolean pen = FALSE;

      for (guint k = 0; k < columns; k++)
        {
          lo[k] = G_MAXDOUBLE;
          hi[k] = -G_MAXDOUBLE;
        }
      for (guint i = 0; i < data->n; i++)
        {
          float v = data->norms[i];
          guint k = (guint) ((guint64) i * columns / data->n);

          if (!isfinite (v) || (data->log_y && v <= 0))
            continue;
          lo[k] = MIN (lo[k], v);
          hi[k] = MAX (hi[k], v);
          sum[k] += v;
          count[k]++;
        }
      band.a = 0.35;
      pl_chart_set_source (cr, &band);
      for (guint k = 0; k < columns; k++)
        if (count[k] > 0)
          {
            double x = a->x + a->width * k / columns;
            double y0 = pl_chart_area_y (a, hi[k]), y1 = pl_chart_area_y (a, lo[k]);

            cairo_rectangle (cr, x, y0, a->width / columns + 0.3, MAX (y1 - y0, 0.75));
          }
      cairo_fill (cr);

      pl_chart_set_source (cr, &colour);
      cairo_set_line_width (cr, style->line_width * 0.75);
      for (guint k = 0; k < columns; k++)
        {
          double x = a->x + a->width * (k + 0.5) / columns;

          if (count[k] == 0)
            {
              pen = FALSE;
              continue;
            }
          if (pen)
            cairo_line_to (cr, x, pl_chart_area_y (a, sum[k] / count[k]));
          else
            cairo_move_to (cr, x, pl_chart_area_y (a, sum[k] / count[k]));
          pen = TRUE;
        }
      cairo_stroke (cr);
    }

  if (data->clip_norm > 0)
    {
      double dash[] = { style->line_width * 3, style->line_width * 2 };
      double y = _pl_snap_y (cr, pl_chart_area_y (a, data->clip_norm), style->line_width);

      pl_chart_set_source (cr, &g.legend[1].colour);
      cairo_set_dash (cr, dash, 2, 0);
      cairo_set_line_width (cr, style->line_width);
      cairo_move_to (cr, a->x, y);
      cairo_line_to (cr, a->x + a->width, y);
      cairo_stroke (cr);
    }
  cairo_restore (cr);

  _pl_frame_draw (&c, &g.frame, &g.layout);
  _pl_draw_end (&c);
}

void
pl_chart_grad_norm_write_csv (const PlGradNormData *data,
                              GString              *csv)
{
  g_string_append (csv, "step,grad_norm,clip_norm\n");
  for (guint i = 0; data != NULL && data->norms != NULL && i < data->n; i++)
    {
      g_string_append_printf (csv, "%u,", i + 1);
      _pl_csv_float (csv, data->norms[i]);
      g_string_append_c (csv, ',');
      if (data->clip_norm > 0)
        _pl_csv_double (csv, data->clip_norm);
      g_string_append_c (csv, '\n');
    }
}
