/* pl-chart-heatmap.h — a layer's weights as a colour map, pruned weights in the mask colour
 *
 * Diverging colours centred on 0 (blue negative, red positive) scaled to ±limit, a colour bar,
 * axes "input neuron" and "output neuron". When the matrix has more cells than the raster has
 * pixels, blocks of weights share a pixel, which shows the kept weight of largest |w| (or their
 * mean); the note under the title says which and how many. A pixel is in the mask colour when
 * every weight of its block is pruned. Vector output (PDF, SVG) keeps one cell per weight.
 */
#pragma once

#include <cairo.h>
#include <glib.h>

#include "pl-chart-style.h"

G_BEGIN_DECLS

typedef enum {
  PL_HEATMAP_MAX_ABS,   /* the kept weight of largest |w| in the block, with its sign */
  PL_HEATMAP_MEAN,      /* the mean of the kept weights in the block */
} PlHeatmapAggregate;

typedef struct {
  const char         *title;      /* may be NULL: "Weights" */
  const char         *x_label;    /* may be NULL: "input neuron" */
  const char         *y_label;    /* may be NULL: "output neuron" */
  guint               n_rows;     /* output neurons */
  guint               n_cols;     /* input neurons */
  const float        *values;     /* borrowed, (n_rows, n_cols) row-major, as PlLayer.w */
  const float        *mask;       /* borrowed, (n_rows, n_cols), 0 = pruned; NULL: none pruned */
  double              limit;      /* colour scale ±limit; 0: the 99th percentile of the kept |w|
                                   * (larger ones get the end colours) */
  PlHeatmapAggregate  aggregate;
} PlHeatmapData;

void         pl_chart_draw_heatmap           (cairo_t             *cr,
                                              double               width,
                                              double               height,
                                              const PlHeatmapData *data,
                                              const PlChartStyle  *style);
/* The matrix's rectangle: x from 0 to n_cols (column j spans j..j+1), y from n_rows at the
 * bottom to 0 at the top (row i spans i..i+1 downwards). FALSE for the empty state. */
gboolean     pl_chart_heatmap_layout         (cairo_t             *cr,
                                              double               width,
                                              double               height,
                                              const PlHeatmapData *data,
                                              const PlChartStyle  *style,
                                              PlChartArea         *area);
/* The weight under a point, for hover read-outs. */
gboolean     pl_chart_heatmap_cell_at        (const PlChartArea   *area,
                                              double               px,
                                              double               py,
                                              guint               *row,
                                              guint               *col);
/* The raster the plot area shows, @out_cols × @out_rows pixels (1 ≤ out_cols ≤ n_cols,
 * 1 ≤ out_rows ≤ n_rows; fewer than the matrix: blocks, as above), colours scaled to ±@limit.
 * (transfer full) */
cairo_surface_t *pl_chart_heatmap_image      (const PlHeatmapData *data,
                                              guint                out_cols,
                                              guint                out_rows,
                                              double               limit,
                                              const PlChartStyle  *style);
/* NULL when there is something to draw, else the empty-state message. (transfer none) */
const char  *pl_chart_heatmap_empty_message  (const PlHeatmapData *data);
/* output,input,weight,pruned — one row per weight. */
void         pl_chart_heatmap_write_csv      (const PlHeatmapData *data,
                                              GString             *csv);

G_END_DECLS
