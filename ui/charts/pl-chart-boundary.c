/* pl-chart-boundary.c — decision regions of a 2-D classifier and its data points */
#define G_LOG_DOMAIN "pl-chart"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <math.h>
#include <string.h>

#include "pl-chart-boundary.h"
#include "pl-chart-private.h"

#define MAX_LEGEND_CLASSES 16

typedef struct {
  PlFrame       frame;
  PlFrameLayout layout;
  PlLegendItem  legend[MAX_LEGEND_CLASSES];
  char          labels[MAX_LEGEND_CLASSES][64];
  char          note[192];
} Boundary;

const char *
pl_chart_boundary_empty_message (const PlBoundaryData *data)
{
  if (data == NULL || data->n_classes == 0)
    return _("No classifier to show");
  if (!(data->x_max > data->x_min) || !(data->y_max > data->y_min)
      || !isfinite (data->x_max - data->x_min) || !isfinite (data->y_max - data->y_min))
    return _("Not enough points: the data spans no area");
  if ((data->grid_width == 0 || data->grid_height == 0 || data->grid_class == NULL)
      && (data->n_points == 0 || data->points == NULL))
    return _("No classifier to show");
  return NULL;
}

static gboolean
boundary_layout (PlCanvas             *c,
                 const PlBoundaryData *data,
                 Boundary             *b)
{
  const PlChartStyle *s = c->style;
  PlChartArea *a;
  double xr = data->x_max - data->x_min, yr = data->y_max - data->y_min, scale;
  guint n_legend = MIN (data->n_classes, MAX_LEGEND_CLASSES);

  memset (b, 0, sizeof *b);
  for (guint k = 0; k < n_legend; k++)
    {
      const char *name = data->class_names != NULL ? data->class_names[k] : NULL;

      /* Names that are only numbers read better as "class 3". */
      if (name != NULL && name[strspn (name, "0123456789")] != '\0')
        g_strlcpy (b->labels[k], name, sizeof b->labels[k]);
      else
        g_snprintf (b->labels[k], sizeof b->labels[k], _("class %u"), k);
      b->legend[k].label = b->labels[k];
      pl_chart_series_colour (s, k, &b->legend[k].colour);
      b->legend[k].kind = PL_LEGEND_SWATCH;
    }
  if (data->grid_confidence != NULL)
    g_snprintf (b->note, sizeof b->note,
                g_dngettext (GETTEXT_PACKAGE, "regions: predicted class, paler where the model is less sure · %u point",
                             "regions: predicted class, paler where the model is less sure · %u points", data->n_points),
                data->n_points);
  else
    g_snprintf (b->note, sizeof b->note,
                g_dngettext (GETTEXT_PACKAGE, "regions: predicted class · %u point",
                             "regions: predicted class · %u points", data->n_points),
                data->n_points);
  b->frame.title = data->title != NULL ? data->title : _("Decision boundary");
  b->frame.note = b->note;
  b->frame.legend = b->legend;
  b->frame.n_legend = n_legend;
  b->frame.x_label = "x₁";
  b->frame.y_label = "x₂";
  b->frame.x = (PlChartAxis) { data->x_min, data->x_max, FALSE, PL_CHART_NUMBER_PLAIN };
  b->frame.y = (PlChartAxis) { data->y_min, data->y_max, FALSE, PL_CHART_NUMBER_PLAIN };
  b->frame.no_grid = TRUE;
  if (!_pl_frame_layout (c, &b->frame, 0, 0, c->width, c->height, &b->layout))
    return FALSE;

  /* One scale for both axes, so shapes keep their proportions. */
  a = &b->layout.area;
  scale = MIN (a->width / xr, a->height / yr);
  a->y += (a->height - yr * scale) / 2;
  a->x += (a->width - xr * scale) / 2;
  b->layout.y_label_x += (a->width - xr * scale) / 2;
  a->width = xr * scale;
  a->height = yr * scale;
  return TRUE;
}

gboolean
pl_chart_boundary_layout (cairo_t              *cr,
                          double                width,
                          double                height,
                          const PlBoundaryData *data,
                          const PlChartStyle   *style,
                          PlChartArea          *area)
{
  PlCanvas c;
  Boundary b;
  gboolean ok;

  g_return_val_if_fail (cr != NULL && style != NULL && area != NULL, FALSE);

  memset (area, 0, sizeof *area);
  if (pl_chart_boundary_empty_message (data) != NULL)
    return FALSE;
  _pl_canvas_init (&c, cr, width, height, style);
  ok = boundary_layout (&c, data, &b);
  if (ok)
    *area = b.layout.area;
  _pl_canvas_clear (&c);
  return ok;
}

static void
draw_regions (PlCanvas             *c,
              const PlBoundaryData *data,
              const PlChartArea    *a)
{
  const PlChartStyle *s = c->style;
  guint gw = data->grid_width, gh = data->grid_height, k = MAX (data->n_classes, 2u);
  cairo_surface_t *image;
  guint32 *pixels;
  int stride;
  PlRgba base = s->background.a > 0 ? s->background : (PlRgba) { 1, 1, 1, 1 };

  image = _pl_image_new ((int) gw, (int) gh, &pixels, &stride);
  if (image == NULL)
    return;
  base.a = 1;
  for (guint i = 0; i < gh; i++)
    for (guint j = 0; j < gw; j++)
      {
        gsize at = (gsize) i * gw + j;
        guint cls = data->grid_class[at];
        double strength = 0.42;
        PlRgba colour;

        pl_chart_series_colour (s, cls, &colour);
        if (data->grid_confidence != NULL && isfinite (data->grid_confidence[at]))
          {
            /* From chance (1/k) to certainty: the tint from faint to full. */
            double sure = (data->grid_confidence[at] - 1.0 / k) / (1 - 1.0 / k);

            strength = 0.12 + 0.38 * CLAMP (sure, 0.0, 1.0);
          }
        pl_rgba_mix (&base, &colour, strength, &colour);
        colour.a = 1;
        /* image row 0 is the top: grid row gh − 1 */
        pixels[(gsize) (gh - 1 - i) * stride + j] = pl_rgba_to_pixel (&colour);
      }
  cairo_surface_mark_dirty (image);

  cairo_save (c->cr);
  cairo_rectangle (c->cr, a->x, a->y, a->width, a->height);
  cairo_clip (c->cr);
  cairo_translate (c->cr, a->x, a->y);
  cairo_scale (c->cr, a->width / gw, a->height / gh);
  cairo_set_source_surface (c->cr, image, 0, 0);
  cairo_pattern_set_filter (cairo_get_source (c->cr), CAIRO_FILTER_GOOD);
  cairo_pattern_set_extend (cairo_get_source (c->cr), CAIRO_EXTEND_PAD);
  cairo_paint (c->cr);
  cairo_restore (c->cr);
  cairo_surface_destroy (image);
}

void
pl_chart_draw_boundary (cairo_t              *cr,
                        double                width,
                        double                height,
                        const PlBoundaryData *data,
                        const PlChartStyle   *style)
{
  const char *empty = pl_chart_boundary_empty_message (data);
  PlCanvas c;
  Boundary b;
  const PlChartArea *a;

  g_return_if_fail (cr != NULL && style != NULL);

  if (!_pl_draw_begin (&c, cr, width, height, style, data != NULL ? data->title : NULL, empty))
    return;
  if (!boundary_layout (&c, data, &b))
    {
      _pl_draw_too_small (&c);
      return;
    }
  a = &b.layout.area;

  if (data->grid_width > 0 && data->grid_height > 0 && data->grid_class != NULL)
    draw_regions (&c, data, a);

  cairo_save (cr);
  _pl_clip_to_area (cr, a);
  /* The points of one class in one path: a few thousand markers stay cheap. */
  if (data->points != NULL && data->n_points > 0)
    {
      g_autofree double *xy = g_new (double, 2 * (gsize) data->n_points);

      for (guint k = 0; k < MAX (data->n_classes, 1u); k++)
        {
          PlRgba colour;
          guint m = 0;

          for (guint i = 0; i < data->n_points; i++)
            {
              double x = data->points[2 * i], y = data->points[2 * i + 1];
              guint label = data->labels != NULL ? data->labels[i] : 0;

              if (isfinite (x) && isfinite (y) && (label == k || (k == 0 && label >= data->n_classes)))
                {
                  xy[2 * m] = pl_chart_area_x (a, x);
                  xy[2 * m++ + 1] = pl_chart_area_y (a, y);
                }
            }
          pl_chart_series_colour (style, k, &colour);
          _pl_markers (&c, xy, m, style->marker_radius * 0.85, &colour);
        }
    }
  cairo_restore (cr);

  _pl_frame_draw (&c, &b.frame, &b.layout);
  _pl_draw_end (&c);
}

void
pl_chart_boundary_write_csv (const PlBoundaryData *data,
                             GString              *csv)
{
  g_string_append (csv, "kind,x,y,class\n");
  if (data == NULL)
    return;
  if (data->grid_class != NULL && data->grid_width > 0 && data->grid_height > 0)
    {
      double dx = (data->x_max - data->x_min) / data->grid_width;
      double dy = (data->y_max - data->y_min) / data->grid_height;

      for (guint i = 0; i < data->grid_height; i++)
        for (guint j = 0; j < data->grid_width; j++)
          {
            g_string_append (csv, "region,");
            _pl_csv_double (csv, data->x_min + (j + 0.5) * dx);
            g_string_append_c (csv, ',');
            _pl_csv_double (csv, data->y_min + (i + 0.5) * dy);
            g_string_append_printf (csv, ",%u\n", data->grid_class[(gsize) i * data->grid_width + j]);
          }
    }
  for (guint i = 0; i < data->n_points && data->points != NULL; i++)
    {
      g_string_append (csv, "point,");
      _pl_csv_float (csv, data->points[2 * i]);
      g_string_append_c (csv, ',');
      _pl_csv_float (csv, data->points[2 * i + 1]);
      g_string_append_printf (csv, ",%u\n", data->labels != NULL ? data->labels[i] : 0);
    }
}
