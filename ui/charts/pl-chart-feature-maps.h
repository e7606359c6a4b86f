/* pl-chart-feature-maps.h — one image through a conv net: every channel's map, stage by stage
 *
 * The input image first, then one row per conv or pool stage in order, each channel's map a
 * small image on the sequential map (dark purple low, yellow high; perceptually ordered). All
 * maps of one row share one scale, from the row's lowest to its highest value (written at the
 * row's label), so the channels of a stage compare with each other; the input has its own.
 * A dead channel (filter mask 0: its map is forced to 0) is drawn in the dead colour and crossed
 * out. With show_preview the maps of the preview mask are drawn instead of the current ones, and
 * the channels the preview removes are crossed out in the preview colour.
 */
#pragma once

#include <cairo.h>
#include <glib.h>

#include "pl-chart-style.h"

G_BEGIN_DECLS

typedef enum {
  PL_FEATURE_STAGE_CONV,
  PL_FEATURE_STAGE_POOL,
} PlFeatureStageKind;

typedef struct {
  PlFeatureStageKind  kind;
  const char         *name;                 /* may be NULL: "conv 1", "pool 1", … */
  guint               c, h, w;              /* c_out, h_out, w_out */
  const float        *maps;                 /* borrowed, (c, h, w) */
  const float        *filter_mask;          /* borrowed, (c), 0 = dead channel; may be NULL */
  const float        *preview_maps;         /* borrowed, (c, h, w) under the preview; may be NULL */
  const float        *preview_filter_mask;  /* borrowed, (c); may be NULL */
} PlFeatureStage;

typedef struct {
  const char           *title;         /* may be NULL: "Feature maps" */
  const char           *class_name;    /* the image's class; may be NULL */
  guint                 c, h, w;       /* the input image */
  const float          *image;         /* borrowed, (c, h, w) */
  guint                 n_stages;
  const PlFeatureStage *stages;        /* borrowed, n_stages, in the order of the network */
  gboolean              show_preview;  /* draw the preview maps (where given) instead */
  guint                 max_channels;  /* maps per row; 0: 32 */
} PlFeatureMapsData;

void         pl_chart_draw_feature_maps          (cairo_t                 *cr,
                                                  double                   width,
                                                  double                   height,
                                                  const PlFeatureMapsData *data,
                                                  const PlChartStyle      *style);
/* The tile of channel @channel of row @row (0 = the input, i + 1 = stage i) as drawn at
 * @width × @height; FALSE when it is not shown or the chart is empty or too small. */
gboolean     pl_chart_feature_maps_tile_rect     (cairo_t                 *cr,
                                                  double                   width,
                                                  double                   height,
                                                  const PlFeatureMapsData *data,
                                                  const PlChartStyle      *style,
                                                  guint                    row,
                                                  guint                    channel,
                                                  double                  *x,
                                                  double                  *y,
                                                  double                  *tile_width,
                                                  double                  *tile_height);
/* The map pixel under (@px, @py): row (0 = input), channel, y and x in the map. */
gboolean     pl_chart_feature_maps_hit           (cairo_t                 *cr,
                                                  double                   width,
                                                  double                   height,
                                                  const PlFeatureMapsData *data,
                                                  const PlChartStyle      *style,
                                                  double                   px,
                                                  double                   py,
                                                  guint                   *row,
                                                  guint                   *channel,
                                                  guint                   *y,
                                                  guint                   *x);
const char  *pl_chart_feature_maps_empty_message (const PlFeatureMapsData *data);
/* stage,channel,y,x,value — stage 0 is the input image, stage i + 1 the i-th stage; the values
 * drawn (the preview's with show_preview), every channel. */
void         pl_chart_feature_maps_write_csv     (const PlFeatureMapsData *data,
                                                  GString                 *csv);

G_END_DECLS
