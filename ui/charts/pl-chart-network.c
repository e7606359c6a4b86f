/* pl-chart-network.c — the network diagram, pruned weights and dead neurons dimmed */
#define G_LOG_DOMAIN "pl-chart"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pl-chart-network.h"
#include "pl-chart-private.h"

#define DEFAULT_MAX_NEURONS 24
#define MAX_COLUMNS (16 + 1)
#define MAX_STAGES  16
#define MAX_SQUARES 16   /* channels drawn per stack */

typedef struct {
  PlFrame       frame;
  PlFrameLayout layout;
  PlLegendItem  legend[5];
  guint         n_columns;
  double        stage_x[MAX_STAGES];    /* centres of the conv stages' stacks */
  double        spacing;                /* between columns */
  guint         shown[MAX_COLUMNS];     /* neurons drawn per column */
  double        column_x[MAX_COLUMNS];
  double        top, bottom;            /* the span of the neurons */
  double        label_y;                /* column titles */
  double        radius;
} Network;

typedef struct {
  double x0, y0, x1, y1;
  float  strength;   /* |w| / layer max */
  float  w;
} Edge;

const char *
pl_chart_network_empty_message (const PlNetworkData *data)
{
  if (data == NULL || data->n_layers == 0 || data->sizes == NULL || data->layers == NULL)
    return _("No network to show");
  if (data->n_layers + 1 > MAX_COLUMNS)
    return _("Too many layers to draw");
  for (guint l = 0; l <= data->n_layers; l++)
    if (data->sizes[l] == 0)
      return _("No network to show");
  for (guint l = 0; l < data->n_layers; l++)
    if (data->layers[l].w == NULL)
      return _("No network to show");
  if (data->n_stages > MAX_STAGES || (data->n_stages > 0 && data->stages == NULL))
    return _("Too many layers to draw");
  for (guint i = 0; i < data->n_stages; i++)
    if (data->stages[i].c == 0 || data->stages[i].h == 0 || data->stages[i].w == 0)
      return _("No network to show");
  return NULL;
}

static guint
max_neurons (const PlNetworkData *data)
{
  return data->max_neurons > 0 ? data->max_neurons : DEFAULT_MAX_NEURONS;
}

/* Which neuron the k-th drawn one of a column is: all of them, or an even sample. */
static guint
neuron_index (guint size,
              guint shown,
              guint k)
{
  if (shown >= size || shown < 2)
    return k;
  return (guint) llround ((double) k * (size - 1) / (shown - 1));
}

static double
neuron_y (const Network *n,
          guint          column,
          guint          k)
{
  guint shown = n->shown[column];

  if (shown == 1)
    return (n->top + n->bottom) / 2;
  return n->top + (n->bottom - n->top) * k / (shown - 1);
}

/* A neuron lives while its neuron mask says so; an input while one of its weights is kept. */
static gboolean
alive (const PlNetworkData *data,
       guint                column,
       guint                neuron)
{
  if (column == 0)
    {
      const PlNetworkLayer *l = &data->layers[0];

      if (l->mask == NULL)
        return TRUE;
      for (guint o = 0; o < data->sizes[1]; o++)
        if (l->mask[(gsize) o * data->sizes[0] + neuron] != 0)
          return TRUE;
      return FALSE;
    }
  {
    const PlNetworkLayer *l = &data->layers[column - 1];

    return l->neuron_mask == NULL || l->neuron_mask[neuron] != 0;
  }
}

static gboolean
network_layout (PlCanvas            *c,
                const PlNetworkData *data,
                Network             *n)
{
  const PlChartStyle *s = c->style;
  double top, left, right, spacing = G_MAXDOUBLE;
  guint widest = 1;

  memset (n, 0, sizeof *n);
  n->frame.title = data->title != NULL ? data->title : _("Network");
  n->frame.note = _("line width and opacity: |w| within each layer");
  pl_chart_diverging (s, 0.8, &n->legend[0].colour);
  n->legend[0].label = _("positive weight");
  pl_chart_diverging (s, -0.8, &n->legend[1].colour);
  n->legend[1].label = _("negative weight");
  n->legend[2].colour = s->dead;
  n->legend[2].label = _("pruned weight");
  n->legend[3] = (PlLegendItem) { _("dead neuron"), s->dead, PL_LEGEND_RING };
  for (guint i = 0; i < 3; i++)
    n->legend[i].kind = PL_LEGEND_DASHED;
  n->legend[0].kind = n->legend[1].kind = PL_LEGEND_LINE;
  n->frame.legend = n->legend;
  n->frame.n_legend = 4;
  if (data->n_stages > 0)
    n->legend[n->frame.n_legend++] = (PlLegendItem) { _("dead filter"), s->dead, PL_LEGEND_OUTLINE };

  top = _pl_frame_header (c, &n->frame, 0, 0, c->width, &n->layout);
  n->n_columns = data->n_layers + 1;
  n->label_y = top;
  top += _pl_text_line_height (c, PL_TEXT_LABEL) + _pl_text_line_height (c, PL_TEXT_TICK) + s->font_size * 0.6;
  left = s->padding + s->font_size * 4;
  right = c->width - s->padding - s->font_size * 4;
  n->bottom = c->height - s->padding;
  if (n->bottom - top < 20 || right - left < 20)
    return FALSE;

  /* the stacks of a conv net take the first places, the dense columns the rest */
  {
    guint places = data->n_stages + n->n_columns;

    n->spacing = (right - left) / MAX (places - 1, 1u);
    for (guint i = 0; i < data->n_stages; i++)
      n->stage_x[i] = left + (right - left) * i / (places - 1);
    for (guint col = 0; col < n->n_columns; col++)
      {
        guint at = data->n_stages + col;

        n->shown[col] = MIN (data->sizes[col], max_neurons (data));
        widest = MAX (widest, n->shown[col]);
        n->column_x[col] = places == 1 ? (left + right) / 2 : left + (right - left) * at / (places - 1);
      }
  }
  /* Neurons of the tallest column fill the height; a radius that keeps them apart. */
  if (widest > 1)
    spacing = (n->bottom - top) / (widest - 1);
  n->radius = CLAMP (spacing * 0.32, 1.5, s->font_size * 0.75);
  n->top = top + n->radius;
  n->bottom -= n->radius;
  return TRUE;
}

gboolean
pl_chart_network_neuron_position (cairo_t             *cr,
                                  double               width,
                                  double               height,
                                  const PlNetworkData *data,
                                  const PlChartStyle  *style,
                                  guint                column,
                                  guint                neuron,
                                  double              *x,
                                  double              *y)
{
  PlCanvas c;
  Network n;
  gboolean ok;

  g_return_val_if_fail (cr != NULL && style != NULL, FALSE);

  if (pl_chart_network_empty_message (data) != NULL || column > data->n_layers)
    return FALSE;
  _pl_canvas_init (&c, cr, width, height, style);
  ok = network_layout (&c, data, &n);
  _pl_canvas_clear (&c);
  if (!ok)
    return FALSE;
  for (guint k = 0; k < n.shown[column]; k++)
    if (neuron_index (data->sizes[column], n.shown[column], k) == neuron)
      {
        *x = n.column_x[column];
        *y = neuron_y (&n, column, k);
        return TRUE;
      }
  return FALSE;
}

static gboolean
stage_alive (const PlNetworkStage *st,
             guint                 ch)
{
  return st->filter_mask == NULL || st->filter_mask[ch] != 0;
}

/* Each conv stage as a stack of offset squares, front (channel 0) at the bottom left; a side
 * that grows with the map (the square root of its share of the largest, so a 5×5 map stays
 * visible beside a 28×28 one), and its title and "c@h×w" under the column titles' line. */
static void
draw_stacks (PlCanvas            *c,
             const PlNetworkData *data,
             const Network       *n)
{
  const PlChartStyle *s = c->style;
  cairo_t *cr = c->cr;
  guint largest = 1, n_conv = 0, n_pool = 0;
  double mid = (n->top + n->bottom) / 2, room = MIN (n->spacing * 0.9, (n->bottom - n->top) * 0.8);
  PlRgba fill = s->foreground, bg = s->background.a > 0 ? s->background : (PlRgba) { 1, 1, 1, 1 };

  fill.a = 0.16;
  for (guint i = 0; i < data->n_stages; i++)
    largest = MAX (largest, MAX (data->stages[i].h, data->stages[i].w));
  for (guint i = 0; i < data->n_stages; i++)
    {
      const PlNetworkStage *st = &data->stages[i];
      guint squares = MIN (st->c, MAX_SQUARES);
      double side = room * 0.6 * sqrt ((double) MAX (st->h, st->w) / largest);
      double offset = squares > 1 ? MIN (side * 0.18, room * 0.4 / (squares - 1)) : 0;
      double extent = side + offset * (squares - 1);
      double x0 = n->stage_x[i] - extent / 2, y0 = mid + extent / 2 - side;
      char title[64], shape[64];

      /* back to front: the last drawn channel at the top right, behind */
      for (guint k = squares; k-- > 0;)
        {
          /* the squares drawn stand for channels evenly spread over all of them */
          guint ch = squares < st->c ? neuron_index (st->c, squares, k) : k;
          double x = x0 + k * offset, y = y0 - k * offset;

          cairo_rectangle (cr, x, y, side, side);
          pl_chart_set_source (cr, &bg);
          cairo_fill_preserve (cr);
          if (stage_alive (st, ch))
            {
              pl_chart_set_source (cr, &fill);
              cairo_fill_preserve (cr);
              pl_chart_set_source (cr, &s->foreground);
              cairo_set_line_width (cr, MAX (1.0, s->axis_width));
              cairo_stroke (cr);
            }
          else
            {
              double dash[] = { 3, 2 };

              cairo_save (cr);
              cairo_set_dash (cr, dash, 2, 0);
              pl_chart_set_source (cr, &s->dead);
              cairo_set_line_width (cr, MAX (1.0, s->axis_width * 1.2));
              cairo_stroke (cr);
              cairo_restore (cr);
            }
        }

      n_conv += st->kind == PL_NETWORK_STAGE_CONV;
      n_pool += st->kind == PL_NETWORK_STAGE_POOL;
      if (st->kind == PL_NETWORK_STAGE_INPUT)
        g_strlcpy (title, _("input"), sizeof title);
      else if (st->kind == PL_NETWORK_STAGE_CONV)
        g_snprintf (title, sizeof title, _("conv %u"), n_conv);
      else
        g_snprintf (title, sizeof title, _("pool %u"), n_pool);
      g_snprintf (shape, sizeof shape, "%u@%u×%u", st->c, st->h, st->w);
      _pl_text_draw (c, PL_TEXT_LABEL, title, n->stage_x[i], n->label_y, 0.5, 0, n->spacing, FALSE,
                     &s->foreground);
      _pl_text_draw (c, PL_TEXT_TICK, shape, n->stage_x[i], n->label_y + _pl_text_line_height (c, PL_TEXT_LABEL),
                     0.5, 0, n->spacing, FALSE, &s->muted);
    }
}

static int
compare_edges (const void *a,
               const void *b)
{
  const Edge *p = a, *q = b;

  return p->strength < q->strength ? -1 : p->strength > q->strength ? 1 : 0;
}

void
pl_chart_draw_network (cairo_t             *cr,
                       double               width,
                       double               height,
                       const PlNetworkData *data,
                       const PlChartStyle  *style)
{
  const char *empty = pl_chart_network_empty_message (data);
  PlCanvas c;
  Network n;
  PlRgba pos, neg;
  double title_width;

  g_return_if_fail (cr != NULL && style != NULL);

  if (!_pl_draw_begin (&c, cr, width, height, style, data != NULL ? data->title : NULL, empty))
    return;
  if (!network_layout (&c, data, &n))
    {
      _pl_draw_too_small (&c);
      return;
    }
  pl_chart_diverging (style, 0.8, &pos);
  pl_chart_diverging (style, -0.8, &neg);
  cairo_set_line_cap (cr, CAIRO_LINE_CAP_ROUND);

  for (guint l = 0; l < data->n_layers; l++)
    {
      const PlNetworkLayer *layer = &data->layers[l];
      guint n_in = data->sizes[l], si = n.shown[l], so = n.shown[l + 1];
      g_autofree Edge *kept = g_new (Edge, (gsize) si * so);
      guint n_kept = 0;
      float top = 0;
      PlRgba dim = style->dead;

      /* pruned edges: thin and faint, under everything */
      dim.a = 0.55;
      pl_chart_set_source (cr, &dim);
      cairo_set_line_width (cr, MAX (0.5, style->line_width * 0.25));
      for (guint ko = 0; ko < so; ko++)
        for (guint ki = 0; ki < si; ki++)
          {
            guint o = neuron_index (data->sizes[l + 1], so, ko), i = neuron_index (n_in, si, ki);
            gsize at = (gsize) o * n_in + i;
            Edge e = { n.column_x[l], neuron_y (&n, l, ki), n.column_x[l + 1], neuron_y (&n, l + 1, ko),
                       fabsf (layer->w[at]), layer->w[at] };

            if (layer->mask != NULL && layer->mask[at] == 0)
              {
                cairo_move_to (cr, e.x0, e.y0);
                cairo_line_to (cr, e.x1, e.y1);
                continue;
              }
            top = MAX (top, e.strength);
            kept[n_kept++] = e;
          }
      cairo_stroke (cr);

      /* kept edges: weaker first, so the strong ones lie on top */
      for (guint k = 0; k < n_kept; k++)
        kept[k].strength = top > 0 ? kept[k].strength / top : 0;
      qsort (kept, n_kept, sizeof *kept, compare_edges);
      for (guint k = 0; k < n_kept; k++)
        {
          PlRgba colour = kept[k].w >= 0 ? pos : neg;

          colour.a = 0.12 + 0.8 * kept[k].strength;
          pl_chart_set_source (cr, &colour);
          cairo_set_line_width (cr, style->line_width * (0.2 + 1.3 * kept[k].strength));
          cairo_move_to (cr, kept[k].x0, kept[k].y0);
          cairo_line_to (cr, kept[k].x1, kept[k].y1);
          cairo_stroke (cr);
        }
    }

  draw_stacks (&c, data, &n);
  title_width = data->n_stages > 0 ? n.spacing : c.width / n.n_columns;

  /* neurons and column titles */
  for (guint col = 0; col < n.n_columns; col++)
    {
      char title[64], count[96];
      PlRgba fill = style->foreground;

      fill.a = 0.85;
      for (guint k = 0; k < n.shown[col]; k++)
        {
          guint neuron = neuron_index (data->sizes[col], n.shown[col], k);
          double x = n.column_x[col], y = neuron_y (&n, col, k);

          cairo_new_sub_path (cr);
          cairo_arc (cr, x, y, n.radius, 0, 2 * G_PI);
          if (alive (data, col, neuron))
            {
              pl_chart_set_source (cr, &fill);
              cairo_fill (cr);
            }
          else
            {
              PlRgba bg = style->background.a > 0 ? style->background : (PlRgba) { 1, 1, 1, 1 };

              pl_chart_set_source (cr, &bg);
              cairo_fill_preserve (cr);
              pl_chart_set_source (cr, &style->dead);
              cairo_set_line_width (cr, MAX (1.0, n.radius * 0.35));
              cairo_stroke (cr);
            }
        }

      if (col == 0 && data->n_stages > 0)
        /* TRANSLATORS: the conv stages' output as one vector, the dense layers' input */
        g_strlcpy (title, _("flatten"), sizeof title);
      else if (col == 0)
        g_strlcpy (title, _("input"), sizeof title);
      else if (col == data->n_layers)
        g_strlcpy (title, _("output"), sizeof title);
      else
        g_snprintf (title, sizeof title, _("hidden %u"), col);
      if (n.shown[col] < data->sizes[col])
        /* TRANSLATORS: "24 of 300" neurons drawn, under a layer of the network diagram */
        g_snprintf (count, sizeof count, _("%u of %u"), n.shown[col], data->sizes[col]);
      else
        g_snprintf (count, sizeof count, "%u", data->sizes[col]);
      _pl_text_draw (&c, PL_TEXT_LABEL, title, n.column_x[col], n.label_y, 0.5, 0,
                     title_width, FALSE, &style->foreground);
      _pl_text_draw (&c, PL_TEXT_TICK, count, n.column_x[col],
                     n.label_y + _pl_text_line_height (&c, PL_TEXT_LABEL), 0.5, 0,
                     title_width, FALSE, &style->muted);
    }

  _pl_frame_draw_header (&c, &n.frame, &n.layout);
  _pl_draw_end (&c);
}

void
pl_chart_network_write_csv (const PlNetworkData *data,
                            GString             *csv)
{
  g_string_append (csv, "kind,layer,from,to,value,pruned\n");
  if (pl_chart_network_empty_message (data) != NULL)
    return;
  for (guint l = 0; l < data->n_layers; l++)
    {
      const PlNetworkLayer *layer = &data->layers[l];
      guint n_in = data->sizes[l];
      guint si = MIN (n_in, max_neurons (data)), so = MIN (data->sizes[l + 1], max_neurons (data));

      for (guint ko = 0; ko < so; ko++)
        for (guint ki = 0; ki < si; ki++)
          {
            guint o = neuron_index (data->sizes[l + 1], so, ko), i = neuron_index (n_in, si, ki);
            gsize at = (gsize) o * n_in + i;

            g_string_append_printf (csv, "edge,%u,%u,%u,", l, i, o);
            _pl_csv_float (csv, layer->w[at]);
            g_string_append_printf (csv, ",%d\n", layer->mask != NULL && layer->mask[at] == 0);
          }
    }
  for (guint col = 0; col <= data->n_layers; col++)
    {
      guint shown = MIN (data->sizes[col], max_neurons (data));

      for (guint k = 0; k < shown; k++)
        {
          guint neuron = neuron_index (data->sizes[col], shown, k);
          gboolean live = alive (data, col, neuron);

          g_string_append_printf (csv, "neuron,%u,%u,,%d,%d\n", col, neuron, live, !live);
        }
    }
  for (guint i = 0; i < data->n_stages; i++)
    for (guint ch = 0; ch < data->stages[i].c; ch++)
      {
        gboolean live = stage_alive (&data->stages[i], ch);

        g_string_append_printf (csv, "channel,%u,%u,,%d,%d\n", i, ch, live, !live);
      }
}
