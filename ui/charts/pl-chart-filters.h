/* pl-chart-filters.h — conv layers' filters as small heatmaps, pruned and dead ones marked
 *
 * One panel per conv layer, side by side (LeNet-5: 6 filters of 1×5×5, then 16 of 6×5×5), each
 * a grid of k×k tiles: one row per filter (output channel), one column per input channel.
 * Colours are the heatmap's diverging map (blue negative, red positive) scaled per layer to
 * ±limit (by default the 99th percentile of the layer's kept |w|, larger ones in the end
 * colours, so a layer's filters compare with each other). Pruned weights are in the mask colour; a dead filter (filter mask 0) is washed out
 * and crossed out. With a preview mask, weights and filters the preview would remove (and that
 * are still kept) show apart from those already removed: weights in a half-tone mask colour,
 * filters framed by a dashed line. Layers with more input channels than max_channels show the
 * first ones and say so in the note; likewise more filters than max_filters.
 */
#pragma once

#include <cairo.h>
#include <glib.h>

#include "pl-chart-style.h"

G_BEGIN_DECLS

typedef struct {
  const char  *name;                 /* may be NULL: "conv 1", "conv 2", … */
  guint        c_out, c_in, k;
  const float *weights;              /* borrowed, (c_out, c_in, k, k), as PlConvLayer.w */
  const float *mask;                 /* borrowed, same shape, 0 = pruned; may be NULL */
  const float *filter_mask;          /* borrowed, (c_out), 0 = dead filter; may be NULL */
  const float *preview_mask;         /* borrowed, same shape as mask: what a preview keeps; may be NULL */
  const float *preview_filter_mask;  /* borrowed, (c_out); may be NULL */
  double       limit;                /* colour scale ±limit; 0: the 99th percentile of the
                                      * layer's kept |w| */
} PlFiltersLayer;

typedef struct {
  const char           *title;         /* may be NULL: "Filters" */
  guint                 n_layers;
  const PlFiltersLayer *layers;        /* borrowed, n_layers */
  guint                 max_channels;  /* input channels shown per layer; 0: 16 */
  guint                 max_filters;   /* filters shown per layer; 0: 64 */
} PlFiltersData;

/* What lies under a point: weight (ky, kx) of input channel @channel of filter @filter in
 * layer @layer. */
typedef struct {
  guint layer, filter, channel, ky, kx;
} PlFiltersHit;

void         pl_chart_draw_filters          (cairo_t             *cr,
                                             double               width,
                                             double               height,
                                             const PlFiltersData *data,
                                             const PlChartStyle  *style);
/* The tile of (@layer, @filter, @channel) as drawn at @width × @height; FALSE when it is not
 * shown (beyond max_channels or max_filters) or the chart is empty or too small. */
gboolean     pl_chart_filters_tile_rect     (cairo_t             *cr,
                                             double               width,
                                             double               height,
                                             const PlFiltersData *data,
                                             const PlChartStyle  *style,
                                             guint                layer,
                                             guint                filter,
                                             guint                channel,
                                             double              *x,
                                             double              *y,
                                             double              *tile_width,
                                             double              *tile_height);
/* The weight under (@px, @py), for hover read-outs; FALSE between tiles and outside them. */
gboolean     pl_chart_filters_hit           (cairo_t             *cr,
                                             double               width,
                                             double               height,
                                             const PlFiltersData *data,
                                             const PlChartStyle  *style,
                                             double               px,
                                             double               py,
                                             PlFiltersHit        *hit);
/* NULL when there is something to draw, else the empty-state message. (transfer none) */
const char  *pl_chart_filters_empty_message (const PlFiltersData *data);
/* layer,filter,channel,ky,kx,weight,pruned,filter_pruned — every weight of every layer (not
 * only the shown ones). */
void         pl_chart_filters_write_csv     (const PlFiltersData *data,
                                             GString             *csv);

G_END_DECLS
