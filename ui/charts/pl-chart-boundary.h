/* pl-chart-boundary.h — the decision regions of a 2-D classifier with the data points on top */
#pragma once

#include <cairo.h>
#include <glib.h>

#include "pl-chart-style.h"

G_BEGIN_DECLS

typedef struct {
  const char          *title;            /* may be NULL: "Decision boundary" */
  guint                n_classes;
  /* The predicted class on a grid: cell (i, j) is centred on
   * x = x_min + (j + ½)(x_max − x_min)/grid_width, y = y_min + (i + ½)(y_max − y_min)/grid_height,
   * row 0 at the bottom. */
  guint                grid_width;
  guint                grid_height;
  const guint32       *grid_class;       /* borrowed, (grid_height, grid_width) */
  const float         *grid_confidence;  /* borrowed, same shape, the top probability; may be NULL */
  double               x_min, x_max, y_min, y_max;
  guint                n_points;
  const float         *points;           /* borrowed, (n_points, 2) */
  const guint32       *labels;           /* borrowed, (n_points) */
  const char * const  *class_names;      /* borrowed, (n_classes) or NULL */
} PlBoundaryData;

void         pl_chart_draw_boundary           (cairo_t              *cr,
                                               double                width,
                                               double                height,
                                               const PlBoundaryData *data,
                                               const PlChartStyle   *style);
/* x and y in data coordinates. */
gboolean     pl_chart_boundary_layout         (cairo_t              *cr,
                                               double                width,
                                               double                height,
                                               const PlBoundaryData *data,
                                               const PlChartStyle   *style,
                                               PlChartArea          *area);
const char  *pl_chart_boundary_empty_message  (const PlBoundaryData *data);
/* kind,x,y,class — "region" rows for the grid cells, then "point" rows. */
void         pl_chart_boundary_write_csv      (const PlBoundaryData *data,
                                               GString              *csv);

G_END_DECLS
