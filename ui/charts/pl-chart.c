/* pl-chart.c — every chart kind behind one handle */
#define G_LOG_DOMAIN "pl-chart"

#include "config.h"

#include "pl-chart.h"

void
pl_chart_draw (cairo_t            *cr,
               double              width,
               double              height,
               const PlChart      *chart,
               const PlChartStyle *style)
{
  g_return_if_fail (cr != NULL && chart != NULL && style != NULL);

  switch (chart->kind)
    {
    case PL_CHART_HEATMAP:
      pl_chart_draw_heatmap (cr, width, height, chart->data, style);
      break;
    case PL_CHART_FIELDS:
      pl_chart_draw_fields (cr, width, height, chart->data, style);
      break;
    case PL_CHART_HISTOGRAM:
      pl_chart_draw_histogram (cr, width, height, chart->data, style);
      break;
    case PL_CHART_CURVES:
      pl_chart_draw_curves (cr, width, height, chart->data, style);
      break;
    case PL_CHART_SENSITIVITY:
      pl_chart_draw_sensitivity (cr, width, height, chart->data, style);
      break;
    case PL_CHART_TRAINING:
      pl_chart_draw_training (cr, width, height, chart->data, style);
      break;
    case PL_CHART_GRAD_NORM:
      pl_chart_draw_grad_norm (cr, width, height, chart->data, style);
      break;
    case PL_CHART_CONFUSION:
      pl_chart_draw_confusion (cr, width, height, chart->data, style);
      break;
    case PL_CHART_BOUNDARY:
      pl_chart_draw_boundary (cr, width, height, chart->data, style);
      break;
    case PL_CHART_NETWORK:
      pl_chart_draw_network (cr, width, height, chart->data, style);
      break;
    case PL_CHART_BARS:
      pl_chart_draw_bars (cr, width, height, chart->data, style);
      break;
    case PL_CHART_N_KINDS:
    default:
      g_return_if_reached ();
    }
}

const char *
pl_chart_empty_message (const PlChart *chart)
{
  g_return_val_if_fail (chart != NULL, NULL);

  switch (chart->kind)
    {
    case PL_CHART_HEATMAP:
      return pl_chart_heatmap_empty_message (chart->data);
    case PL_CHART_FIELDS:
      return pl_chart_fields_empty_message (chart->data);
    case PL_CHART_HISTOGRAM:
      return pl_chart_histogram_empty_message (chart->data);
    case PL_CHART_CURVES:
    case PL_CHART_SENSITIVITY:
      return pl_chart_curves_empty_message (chart->data);
    case PL_CHART_TRAINING:
      return pl_chart_training_empty_message (chart->data);
    case PL_CHART_GRAD_NORM:
      return pl_chart_grad_norm_empty_message (chart->data);
    case PL_CHART_CONFUSION:
      return pl_chart_confusion_empty_message (chart->data);
    case PL_CHART_BOUNDARY:
      return pl_chart_boundary_empty_message (chart->data);
    case PL_CHART_NETWORK:
      return pl_chart_network_empty_message (chart->data);
    case PL_CHART_BARS:
      return pl_chart_bars_empty_message (chart->data);
    case PL_CHART_N_KINDS:
    default:
      g_return_val_if_reached (NULL);
    }
}

char *
pl_chart_to_csv (const PlChart *chart)
{
  GString *csv;

  g_return_val_if_fail (chart != NULL, NULL);

  csv = g_string_new (NULL);
  switch (chart->kind)
    {
    case PL_CHART_HEATMAP:
      pl_chart_heatmap_write_csv (chart->data, csv);
      break;
    case PL_CHART_FIELDS:
      pl_chart_fields_write_csv (chart->data, csv);
      break;
    case PL_CHART_HISTOGRAM:
      pl_chart_histogram_write_csv (chart->data, csv);
      break;
    case PL_CHART_CURVES:
    case PL_CHART_SENSITIVITY:
      pl_chart_curves_write_csv (chart->data, csv);
      break;
    case PL_CHART_TRAINING:
      pl_chart_training_write_csv (chart->data, csv);
      break;
    case PL_CHART_GRAD_NORM:
      pl_chart_grad_norm_write_csv (chart->data, csv);
      break;
    case PL_CHART_CONFUSION:
      pl_chart_confusion_write_csv (chart->data, csv);
      break;
    case PL_CHART_BOUNDARY:
      pl_chart_boundary_write_csv (chart->data, csv);
      break;
    case PL_CHART_NETWORK:
      pl_chart_network_write_csv (chart->data, csv);
      break;
    case PL_CHART_BARS:
      pl_chart_bars_write_csv (chart->data, csv);
      break;
    case PL_CHART_N_KINDS:
    default:
      g_warn_if_reached ();
      break;
    }
  return g_string_free (csv, FALSE);
}
