/* pl-chart-network.h — the network as neurons and weighted edges, pruned parts dimmed
 *
 * Edges are coloured by sign (the diverging map's ends) and drawn thicker and more opaque with
 * |w|; pruned edges are thin dashes in the dead colour, dead neurons hollow. Layers wider than
 * max_neurons show an evenly spaced sample of their neurons and say so under the column.
 *
 * A convolutional network adds its stages left of the dense columns: the input image, then each
 * conv or pool stage, as a stack of offset squares (one per channel, at most 16 drawn; the side
 * grows with the map's size), labelled "6@28×28" (channels@height×width, as LeCun et al. 1998
 * label theirs); dead filters are hollow dashed squares. The dense columns then start with the
 * flattened output of the last stage (sizes[0]).
 */
#pragma once

#include <cairo.h>
#include <glib.h>

#include "pl-chart-style.h"

G_BEGIN_DECLS

typedef struct {
  const float *w;            /* borrowed, (n_out, n_in) */
  const float *mask;         /* borrowed, (n_out, n_in), 0 = pruned; may be NULL */
  const float *neuron_mask;  /* borrowed, (n_out), 0 = dead; may be NULL */
} PlNetworkLayer;

typedef enum {
  PL_NETWORK_STAGE_INPUT,
  PL_NETWORK_STAGE_CONV,
  PL_NETWORK_STAGE_POOL,
} PlNetworkStageKind;

typedef struct {
  PlNetworkStageKind  kind;
  guint               c, h, w;       /* channels and map size out of the stage */
  const float        *filter_mask;   /* borrowed, (c), 0 = dead filter; may be NULL */
} PlNetworkStage;

typedef struct {
  const char           *title;        /* may be NULL: "Network" */
  guint                 n_layers;
  const guint          *sizes;        /* borrowed, n_layers + 1: inputs … outputs */
  const PlNetworkLayer *layers;       /* borrowed, n_layers */
  guint                 max_neurons;  /* per column; 0: 24 */
  guint                 n_stages;     /* 0: an MLP, no stacks */
  const PlNetworkStage *stages;       /* borrowed, n_stages: the input, conv and pool stages; the
                                       * last one's c·h·w is sizes[0] */
} PlNetworkData;

void         pl_chart_draw_network           (cairo_t             *cr,
                                              double               width,
                                              double               height,
                                              const PlNetworkData *data,
                                              const PlChartStyle  *style);
/* The centre of neuron @neuron of column @column (0 = inputs); FALSE when it is not shown. */
gboolean     pl_chart_network_neuron_position (cairo_t            *cr,
                                              double               width,
                                              double               height,
                                              const PlNetworkData *data,
                                              const PlChartStyle  *style,
                                              guint                column,
                                              guint                neuron,
                                              double              *x,
                                              double              *y);
const char  *pl_chart_network_empty_message  (const PlNetworkData *data);
/* kind,layer,from,to,value,pruned — "edge" rows for the drawn edges (layer i: from input
 * neuron to output neuron), "neuron" rows for the drawn neurons (value: 1 alive, 0 dead), then
 * for a conv net "channel" rows (layer: the stage, from: the channel, value: 1 alive). */
void         pl_chart_network_write_csv      (const PlNetworkData *data,
                                              GString             *csv);

G_END_DECLS
