/* pl-chart.c — every chart kind behind one handle
 *
 * One row per kind holds the kind's renderer entry points; pl_chart_draw(), pl_chart_layout(),
 * pl_chart_empty_message() and pl_chart_to_csv() look the kind up here, so a new kind is a row
 * (and a PlChartKind), not a case in each of them.
 */
#define G_LOG_DOMAIN "pl-chart"

#include "config.h"

#include "pl-chart.h"

#include <string.h>

typedef void        (*DrawFunc)   (cairo_t *cr, double width, double height, gconstpointer data,
                                   const PlChartStyle *style);
typedef gboolean    (*LayoutFunc) (cairo_t *cr, double width, double height, gconstpointer data,
                                   const PlChartStyle *style, PlChartArea *area);
typedef const char *(*EmptyFunc)  (gconstpointer data);
typedef void        (*CsvFunc)    (gconstpointer data, GString *csv);

typedef struct {
  DrawFunc    draw;
  LayoutFunc  layout;         /* NULL: no single plot area (fields, network, filters, feature
                               * maps: tiles and neurons, with their own hit tests; training:
                               * two panels, pl_chart_training_layout()) */
  EmptyFunc   empty_message;
  CsvFunc     write_csv;
} ChartKind;

/* The renderers take their own data type where the table takes gconstpointer: the casts
 * change only the pointee type of one pointer argument, as GLib's callbacks do. */
#define KIND(draw, layout, empty, csv) \
  { (DrawFunc) (draw), (LayoutFunc) (layout), (EmptyFunc) (empty), (CsvFunc) (csv) }

static const ChartKind kinds[PL_CHART_N_KINDS] = {
  [PL_CHART_HEATMAP] = KIND (pl_chart_draw_heatmap, pl_chart_heatmap_layout,
                             pl_chart_heatmap_empty_message, pl_chart_heatmap_write_csv),
  [PL_CHART_FIELDS] = KIND (pl_chart_draw_fields, NULL,
                            pl_chart_fields_empty_message, pl_chart_fields_write_csv),
  [PL_CHART_HISTOGRAM] = KIND (pl_chart_draw_histogram, pl_chart_histogram_layout,
                               pl_chart_histogram_empty_message, pl_chart_histogram_write_csv),
  [PL_CHART_CURVES] = KIND (pl_chart_draw_curves, pl_chart_curves_layout,
                            pl_chart_curves_empty_message, pl_chart_curves_write_csv),
  [PL_CHART_SENSITIVITY] = KIND (pl_chart_draw_sensitivity, pl_chart_sensitivity_layout,
                                 pl_chart_curves_empty_message, pl_chart_curves_write_csv),
  [PL_CHART_TRAINING] = KIND (pl_chart_draw_training, NULL,
                              pl_chart_training_empty_message, pl_chart_training_write_csv),
  [PL_CHART_GRAD_NORM] = KIND (pl_chart_draw_grad_norm, pl_chart_grad_norm_layout,
                               pl_chart_grad_norm_empty_message, pl_chart_grad_norm_write_csv),
  [PL_CHART_CONFUSION] = KIND (pl_chart_draw_confusion, pl_chart_confusion_layout,
                               pl_chart_confusion_empty_message, pl_chart_confusion_write_csv),
  [PL_CHART_BOUNDARY] = KIND (pl_chart_draw_boundary, pl_chart_boundary_layout,
                              pl_chart_boundary_empty_message, pl_chart_boundary_write_csv),
  [PL_CHART_NETWORK] = KIND (pl_chart_draw_network, NULL,
                             pl_chart_network_empty_message, pl_chart_network_write_csv),
  [PL_CHART_BARS] = KIND (pl_chart_draw_bars, pl_chart_bars_layout,
                          pl_chart_bars_empty_message, pl_chart_bars_write_csv),
  [PL_CHART_FILTERS] = KIND (pl_chart_draw_filters, NULL,
                             pl_chart_filters_empty_message, pl_chart_filters_write_csv),
  [PL_CHART_FEATURE_MAPS] = KIND (pl_chart_draw_feature_maps, NULL,
                                  pl_chart_feature_maps_empty_message, pl_chart_feature_maps_write_csv),
};

static const ChartKind *
kind_of (const PlChart *chart)
{
  if ((guint) chart->kind >= PL_CHART_N_KINDS || kinds[chart->kind].draw == NULL)
    return NULL;
  return &kinds[chart->kind];
}

void
pl_chart_draw (cairo_t            *cr,
               double              width,
               double              height,
               const PlChart      *chart,
               const PlChartStyle *style)
{
  const ChartKind *kind;

  g_return_if_fail (cr != NULL && chart != NULL && style != NULL);
  kind = kind_of (chart);
  g_return_if_fail (kind != NULL);

  kind->draw (cr, width, height, chart->data, style);
}

gboolean
pl_chart_layout (cairo_t            *cr,
                 double              width,
                 double              height,
                 const PlChart      *chart,
                 const PlChartStyle *style,
                 PlChartArea        *area)
{
  const ChartKind *kind;

  g_return_val_if_fail (cr != NULL && chart != NULL && style != NULL && area != NULL, FALSE);
  kind = kind_of (chart);
  g_return_val_if_fail (kind != NULL, FALSE);

  if (kind->layout == NULL)
    {
      memset (area, 0, sizeof *area);
      return FALSE;
    }
  return kind->layout (cr, width, height, chart->data, style, area);
}

const char *
pl_chart_empty_message (const PlChart *chart)
{
  const ChartKind *kind;

  g_return_val_if_fail (chart != NULL, NULL);
  kind = kind_of (chart);
  g_return_val_if_fail (kind != NULL, NULL);

  return kind->empty_message (chart->data);
}

char *
pl_chart_to_csv (const PlChart *chart)
{
  const ChartKind *kind;
  GString *csv;

  g_return_val_if_fail (chart != NULL, NULL);
  kind = kind_of (chart);
  g_return_val_if_fail (kind != NULL, NULL);

  csv = g_string_new (NULL);
  kind->write_csv (chart->data, csv);
  return g_string_free (csv, FALSE);
}
