#define G_LOG_DOMAIN "pl-chart-view"

#include "config.h"

#include <glib/gi18n.h>

#include "pl-chart-export.h"
#include "pl-chart-view.h"

struct _PlChartView {
  GtkWidget       parent_instance;

  PlChart         chart;
  gboolean        has_chart;
  gpointer        data;        /* owned through free_data */
  GDestroyNotify  free_data;
  PlChartStyle    style;
};

G_DEFINE_FINAL_TYPE (PlChartView, pl_chart_view, GTK_TYPE_WIDGET)

static void
pl_chart_view_snapshot (GtkWidget   *widget,
                        GtkSnapshot *snapshot)
{
  PlChartView *self = PL_CHART_VIEW (widget);
  double width = gtk_widget_get_width (widget);
  double height = gtk_widget_get_height (widget);
  cairo_t *cr;

  if (width < 1 || height < 1)
    return;

  cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, width, height));
  if (self->has_chart)
    pl_chart_draw (cr, width, height, &self->chart, &self->style);
  else
    pl_chart_draw_message (cr, width, height, NULL,
                           _("Nothing to show yet: train the network, or run a sweep"), &self->style);
  cairo_destroy (cr);
}

static void
clear_data (PlChartView *self)
{
  if (self->free_data != NULL && self->data != NULL)
    self->free_data (self->data);
  self->data = NULL;
  self->free_data = NULL;
  self->has_chart = FALSE;
}

static void
pl_chart_view_dispose (GObject *object)
{
  clear_data (PL_CHART_VIEW (object));
  G_OBJECT_CLASS (pl_chart_view_parent_class)->dispose (object);
}

static void
pl_chart_view_class_init (PlChartViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = pl_chart_view_dispose;
  widget_class->snapshot = pl_chart_view_snapshot;
  gtk_widget_class_set_css_name (widget_class, "chartview");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
pl_chart_view_init (PlChartView *self)
{
  pl_chart_style_init (&self->style, PL_CHART_THEME_LIGHT);
  gtk_widget_set_hexpand (GTK_WIDGET (self), TRUE);
  gtk_widget_set_vexpand (GTK_WIDGET (self), TRUE);
  gtk_widget_set_size_request (GTK_WIDGET (self), 240, 180);
}

GtkWidget *
pl_chart_view_new (void)
{
  return g_object_new (PL_TYPE_CHART_VIEW, NULL);
}

void
pl_chart_view_set_chart (PlChartView    *self,
                         PlChartKind     kind,
                         gpointer        data,
                         GDestroyNotify  free_data)
{
  g_return_if_fail (PL_IS_CHART_VIEW (self));

  clear_data (self);
  self->data = data;
  self->free_data = free_data;
  self->chart.kind = kind;
  self->chart.data = data;
  self->has_chart = data != NULL;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

const PlChart *
pl_chart_view_get_chart (PlChartView *self)
{
  g_return_val_if_fail (PL_IS_CHART_VIEW (self), NULL);

  return self->has_chart ? &self->chart : NULL;
}

void
pl_chart_view_set_style (PlChartView        *self,
                         const PlChartStyle *style)
{
  g_return_if_fail (PL_IS_CHART_VIEW (self));

  self->style = *style;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

gboolean
pl_chart_view_get_area (PlChartView *self,
                        PlChartArea *area)
{
  double width = gtk_widget_get_width (GTK_WIDGET (self));
  double height = gtk_widget_get_height (GTK_WIDGET (self));
  cairo_surface_t *surface;
  cairo_t *cr;
  gboolean ok = FALSE;

  g_return_val_if_fail (PL_IS_CHART_VIEW (self), FALSE);

  if (!self->has_chart || width < 1 || height < 1)
    return FALSE;

  /* the layout measures text: a tiny surface gives it a cairo context */
  surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 1, 1);
  cr = cairo_create (surface);
  ok = pl_chart_layout (cr, width, height, &self->chart, &self->style, area);
  cairo_destroy (cr);
  cairo_surface_destroy (surface);

  return ok;
}

gboolean
pl_chart_view_export (PlChartView  *self,
                      const char   *path,
                      GError      **error)
{
  int width = MAX (gtk_widget_get_width (GTK_WIDGET (self)), 640);
  int height = MAX (gtk_widget_get_height (GTK_WIDGET (self)), 400);
  PlChartFormat format;

  g_return_val_if_fail (PL_IS_CHART_VIEW (self), FALSE);

  if (!self->has_chart)
    {
      g_set_error (error, PL_CHART_ERROR, PL_CHART_ERROR_INVALID, _("There is no chart to export yet"));
      return FALSE;
    }
  if (g_str_has_suffix (path, ".csv"))
    return pl_chart_export_csv (&self->chart, path, error);
  if (!pl_chart_format_from_path (path, &format, error))
    return FALSE;

  /* PNG at twice the on-screen size and 192 DPI, so it prints at the size it was seen */
  if (format == PL_CHART_FORMAT_PNG)
    return pl_chart_export (&self->chart, &self->style, path, format, 2 * width, 2 * height, 192, error);
  return pl_chart_export (&self->chart, &self->style, path, format, width, height, 96, error);
}
