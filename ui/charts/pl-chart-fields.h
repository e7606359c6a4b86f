/* pl-chart-fields.h — first-layer receptive fields: each hidden neuron's input weights as an image
 *
 * One tile per hidden neuron (the first max_tiles), each scaled to its own largest |w| on the
 * diverging map; pruned pixels in the mask colour; dead neurons greyed and crossed out.
 */
#pragma once

#include <cairo.h>
#include <glib.h>

#include "pl-chart-style.h"

G_BEGIN_DECLS

typedef struct {
  const char  *title;         /* may be NULL: "Receptive fields" */
  guint        n_neurons;     /* rows of the first layer */
  guint        n_inputs;      /* image_width × image_height */
  guint        image_width;
  guint        image_height;
  const float *weights;       /* borrowed, (n_neurons, n_inputs) */
  const float *mask;          /* borrowed, (n_neurons, n_inputs), 0 = pruned; may be NULL */
  const float *neuron_mask;   /* borrowed, (n_neurons), 0 = dead; may be NULL */
  guint        max_tiles;     /* 0: 100 */
} PlFieldsData;

void         pl_chart_draw_fields           (cairo_t            *cr,
                                             double              width,
                                             double              height,
                                             const PlFieldsData *data,
                                             const PlChartStyle *style);
/* The rectangle of tile @index (0 ≤ index < shown tiles); FALSE when it is not shown. */
gboolean     pl_chart_fields_tile_rect      (cairo_t            *cr,
                                             double              width,
                                             double              height,
                                             const PlFieldsData *data,
                                             const PlChartStyle *style,
                                             guint               index,
                                             double             *x,
                                             double             *y,
                                             double             *tile_width,
                                             double             *tile_height);
const char  *pl_chart_fields_empty_message  (const PlFieldsData *data);
/* neuron,row,column,weight,pruned,dead — the shown tiles. */
void         pl_chart_fields_write_csv      (const PlFieldsData *data,
                                             GString            *csv);

G_END_DECLS
