/* pl-chart-filters.c — conv layers' filters as grids of small heatmaps */
#define G_LOG_DOMAIN "pl-chart"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pl-chart-filters.h"
#include "pl-chart-private.h"

#define DEFAULT_MAX_CHANNELS 16
#define DEFAULT_MAX_FILTERS  64
#define MAX_LAYERS           8
#define MAX_CELL             24.0   /* px per weight: a 5×5 tile stays under 120 px */

typedef struct {
  guint  rows, cols;                /* filters and input channels shown */
  double limit;
  double x, y;                      /* top-left of the tile grid */
  double label_w;                   /* room left of the grid: "filter" and the row numbers */
  double heading_w;                 /* the widest of the texts above the grid */
  char   heading[160];
} Panel;

typedef struct {
  PlFrame       frame;
  PlFrameLayout layout;
  PlLegendItem  legend[6];
  char          note[320];
  guint         n_panels;
  Panel         panels[MAX_LAYERS];
  double        cell;               /* px per weight */
  double        heading_y;          /* top of the panel headings */
} Filters;

const char *
pl_chart_filters_empty_message (const PlFiltersData *data)
{
  if (data == NULL || data->n_layers == 0 || data->layers == NULL)
    return _("No convolutional layers to show");
  if (data->n_layers > MAX_LAYERS)
    return _("Too many layers to draw");
  for (guint l = 0; l < data->n_layers; l++)
    {
      const PlFiltersLayer *L = &data->layers[l];

      if (L->c_out == 0 || L->c_in == 0 || L->k == 0 || L->weights == NULL)
        return _("No convolutional layers to show");
    }
  return NULL;
}

static guint
max_channels (const PlFiltersData *data)
{
  return data->max_channels > 0 ? data->max_channels : DEFAULT_MAX_CHANNELS;
}

static guint
max_filters (const PlFiltersData *data)
{
  return data->max_filters > 0 ? data->max_filters : DEFAULT_MAX_FILTERS;
}

static inline gsize
filter_size (const PlFiltersLayer *L)
{
  return (gsize) L->c_in * L->k * L->k;
}

static inline gboolean
filter_dead (const PlFiltersLayer *L,
             guint                 f)
{
  return L->filter_mask != NULL && L->filter_mask[f] == 0;
}

/* Alive now, dead in the preview. */
static inline gboolean
filter_preview_dead (const PlFiltersLayer *L,
                     guint                 f)
{
  return !filter_dead (L, f) && L->preview_filter_mask != NULL && L->preview_filter_mask[f] == 0;
}

static int
compare_floats (gconstpointer a,
                gconstpointer b)
{
  float x = *(const float *) a, y = *(const float *) b;

  return x < y ? -1 : x > y;
}

/* The 99th percentile of the layer's kept |w| (over an evenly strided sample of at most
 * LIMIT_SAMPLE weights), as the heatmap scales: each layer's filters compare with each other,
 * layers of very different scales (LeNet-5's first conv has 25 inputs per filter, the second
 * 150) each use the whole map, and a few outliers do not wash the rest out to the centre
 * colour; larger weights get the end colours. */
#define LIMIT_SAMPLE 8192

static double
layer_limit (const PlFiltersLayer *L)
{
  gsize n = (gsize) L->c_out * filter_size (L), stride, k = 0;
  g_autofree float *kept = NULL;
  double limit;

  if (L->limit > 0)
    return L->limit;
  stride = MAX ((gsize) 1, n / LIMIT_SAMPLE);
  kept = g_new (float, MIN (n, (gsize) LIMIT_SAMPLE + 1));
  for (gsize i = 0; i < n && k < LIMIT_SAMPLE + 1; i += stride)
    if ((L->mask == NULL || L->mask[i] != 0) && isfinite (L->weights[i]))
      kept[k++] = fabsf (L->weights[i]);
  if (k == 0)
    return 1;
  qsort (kept, k, sizeof *kept, compare_floats);
  limit = kept[(gsize) ceil (0.99 * k) - 1];
  return limit > 0 ? limit : 1;
}

static gboolean
filters_layout (PlCanvas            *c,
                const PlFiltersData *data,
                Filters             *F)
{
  const PlChartStyle *s = c->style;
  double top, line_tick, line_label, avail_w, avail_h, fixed_w = 0, cells_w = 0, cells_h = 0;
  double gap, total_w, x;
  gboolean any_pruned = FALSE, any_dead = FALSE, any_preview = FALSE, any_cut = FALSE;
  guint n_legend = 0;

  memset (F, 0, sizeof *F);
  F->n_panels = data->n_layers;
  F->frame.title = data->title != NULL ? data->title : _("Filters");
  g_strlcpy (F->note, _("one row per filter, one column per input channel · colours scaled per layer to ±the 99th percentile of its kept |w|"),
             sizeof F->note);

  for (guint l = 0; l < data->n_layers; l++)
    {
      const PlFiltersLayer *L = &data->layers[l];
      Panel *P = &F->panels[l];
      g_autofree char *name = NULL;
      char limit[32];
      gsize n = (gsize) L->c_out * filter_size (L);

      P->rows = MIN (L->c_out, max_filters (data));
      P->cols = MIN (L->c_in, max_channels (data));
      P->limit = layer_limit (L);
      any_cut |= P->rows < L->c_out || P->cols < L->c_in;
      for (gsize i = 0; L->mask != NULL && i < n && !any_pruned; i++)
        any_pruned = L->mask[i] == 0;
      for (gsize i = 0; L->preview_mask != NULL && i < n && !any_preview; i++)
        any_preview = L->preview_mask[i] == 0 && (L->mask == NULL || L->mask[i] != 0);
      for (guint f = 0; f < L->c_out; f++)
        {
          any_dead |= filter_dead (L, f);
          any_preview |= filter_preview_dead (L, f);
        }

      /* TRANSLATORS: the default name of the i-th convolutional layer in charts */
      name = L->name != NULL ? g_strdup (L->name) : g_strdup_printf (_("conv %u"), l + 1);
      pl_chart_format_number (limit, sizeof limit, P->limit, 0, PL_CHART_NUMBER_PLAIN);
      /* TRANSLATORS: a panel heading: "conv 1 · 6 × 1 × 5×5 · ±0.42" (filters × input
       * channels × kernel, then the colour scale) */
      g_snprintf (P->heading, sizeof P->heading, _("%s · %u × %u × %u×%u · ±%s"), name, L->c_out,
                  L->c_in, L->k, L->k, limit);
    }
  if (any_cut)
    {
      char more[128];

      /* TRANSLATORS: a note under the filters chart's title */
      g_snprintf (more, sizeof more, _(" · the first %u filters and %u input channels of each layer"),
                  max_filters (data), max_channels (data));
      g_strlcat (F->note, more, sizeof F->note);
    }
  F->frame.note = F->note;

  pl_chart_diverging (s, -1, &F->legend[n_legend].colour);
  F->legend[n_legend].label = _("negative");
  F->legend[n_legend++].kind = PL_LEGEND_SWATCH;
  pl_chart_diverging (s, 1, &F->legend[n_legend].colour);
  F->legend[n_legend].label = _("positive");
  F->legend[n_legend++].kind = PL_LEGEND_SWATCH;
  if (any_pruned)
    F->legend[n_legend++] = (PlLegendItem) { _("pruned"), s->mask, PL_LEGEND_SWATCH };
  if (any_dead)
    F->legend[n_legend++] = (PlLegendItem) { _("removed filter"), s->foreground, PL_LEGEND_CROSS };
  if (any_preview)
    {
      PlRgba half;

      pl_rgba_mix (&s->mask, &s->background, 0.5, &half);
      half.a = 1;
      F->legend[n_legend++] = (PlLegendItem) { _("pruned by the preview"), half, PL_LEGEND_SWATCH };
      F->legend[n_legend++] = (PlLegendItem) { _("filter the preview removes"), s->series[2], PL_LEGEND_OUTLINE };
    }
  F->frame.legend = F->legend;
  F->frame.n_legend = n_legend;

  top = _pl_frame_header (c, &F->frame, 0, 0, c->width, &F->layout);
  line_tick = _pl_text_line_height (c, PL_TEXT_TICK);
  line_label = _pl_text_line_height (c, PL_TEXT_LABEL);
  F->heading_y = top;
  /* heading, "input channel", the column numbers, then the grid */
  top += line_label + 2 * line_tick + s->font_size * 0.4;
  gap = s->font_size * 2.5;
  for (guint l = 0; l < F->n_panels; l++)
    {
      Panel *P = &F->panels[l];
      guint k = data->layers[l].k;
      char widest[16];
      double w;

      g_snprintf (widest, sizeof widest, "%u", P->rows - 1);
      _pl_text_size (c, PL_TEXT_TICK, widest, 0, &w, NULL);
      P->label_w = line_label + w + s->font_size * 0.6;
      _pl_text_size (c, PL_TEXT_LABEL, P->heading, 0, &P->heading_w, NULL);
      _pl_text_size (c, PL_TEXT_TICK, _("input channel"), 0, &w, NULL);
      P->heading_w = MAX (P->heading_w, w);
      fixed_w += P->label_w;
      cells_w += P->cols * (k + 1.0) - 1;
      cells_h = MAX (cells_h, P->rows * (k + 1.0) - 1);
    }
  avail_w = c->width - 2 * s->padding - fixed_w - gap * (F->n_panels - 1);
  avail_h = c->height - top - s->padding;
  if (avail_w < 10 || avail_h < 10)
    return FALSE;
  F->cell = MIN (MAX_CELL, MIN (avail_w / cells_w, avail_h / cells_h));
  /* whole device pixels per weight where possible: tiles stay sharp and alike */
  if (F->cell >= 2)
    F->cell = floor (F->cell);
  if (!(F->cell > 0.5))
    return FALSE;

  /* A panel's headings can be wider than its grid: give each panel the larger of the two. */
  total_w = 0;
  for (guint l = 0; l < F->n_panels; l++)
    {
      Panel *P = &F->panels[l];
      double grid_w = (P->cols * (data->layers[l].k + 1.0) - 1) * F->cell;

      total_w += MAX (P->label_w + grid_w, P->heading_w) + (l + 1 < F->n_panels ? gap : 0);
    }
  x = s->padding + MAX (0, (c->width - 2 * s->padding - total_w) / 2);
  for (guint l = 0; l < F->n_panels; l++)
    {
      Panel *P = &F->panels[l];

      double grid_w = (P->cols * (data->layers[l].k + 1.0) - 1) * F->cell;
      double panel_w = MAX (P->label_w + grid_w, P->heading_w);

      /* the grid centred under its heading when the heading is the wider */
      P->x = x + P->label_w + (panel_w - P->label_w - grid_w) / 2;
      P->y = top;
      x += panel_w + gap;
    }
  return TRUE;
}

static void
tile_origin (const Filters *F,
             const Panel   *P,
             guint          k,
             guint          filter,
             guint          channel,
             double        *x,
             double        *y)
{
  *x = P->x + channel * (k + 1.0) * F->cell;
  *y = P->y + filter * (k + 1.0) * F->cell;
}

gboolean
pl_chart_filters_tile_rect (cairo_t             *cr,
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
                            double              *tile_height)
{
  PlCanvas c;
  Filters F;
  gboolean ok;

  g_return_val_if_fail (cr != NULL && style != NULL, FALSE);

  if (pl_chart_filters_empty_message (data) != NULL || layer >= data->n_layers)
    return FALSE;
  _pl_canvas_init (&c, cr, width, height, style);
  ok = filters_layout (&c, data, &F);
  _pl_canvas_clear (&c);
  if (!ok || filter >= F.panels[layer].rows || channel >= F.panels[layer].cols)
    return FALSE;
  tile_origin (&F, &F.panels[layer], data->layers[layer].k, filter, channel, x, y);
  *tile_width = *tile_height = data->layers[layer].k * F.cell;
  return TRUE;
}

gboolean
pl_chart_filters_hit (cairo_t             *cr,
                      double               width,
                      double               height,
                      const PlFiltersData *data,
                      const PlChartStyle  *style,
                      double               px,
                      double               py,
                      PlFiltersHit        *hit)
{
  PlCanvas c;
  Filters F;
  gboolean ok;

  g_return_val_if_fail (cr != NULL && style != NULL && hit != NULL, FALSE);

  if (pl_chart_filters_empty_message (data) != NULL)
    return FALSE;
  _pl_canvas_init (&c, cr, width, height, style);
  ok = filters_layout (&c, data, &F);
  _pl_canvas_clear (&c);
  if (!ok)
    return FALSE;
  for (guint l = 0; l < F.n_panels; l++)
    {
      const Panel *P = &F.panels[l];
      guint k = data->layers[l].k;
      double u = (px - P->x) / F.cell, v = (py - P->y) / F.cell;
      guint cu, cv;

      if (u < 0 || v < 0 || u >= P->cols * (k + 1.0) - 1 || v >= P->rows * (k + 1.0) - 1)
        continue;
      cu = (guint) u;
      cv = (guint) v;
      if (cu % (k + 1) == k || cv % (k + 1) == k)
        return FALSE;   /* the gap between tiles */
      *hit = (PlFiltersHit) { l, cv / (k + 1), cu / (k + 1), cv % (k + 1), cu % (k + 1) };
      return TRUE;
    }
  return FALSE;
}

/* The panel of one layer as an image, one pixel per weight and one of gap between tiles. */
static cairo_surface_t *
panel_image (const PlFiltersLayer *L,
             const Panel          *P,
             const PlChartStyle   *style)
{
  const guint32 *lut = pl_chart_diverging_lut (style);
  guint k = L->k, iw = P->cols * (k + 1) - 1, ih = P->rows * (k + 1) - 1;
  guint32 dead_lut[256], mask_px = pl_rgba_to_pixel (&style->mask), half_px;
  float scale = (float) (127.5 / P->limit);
  cairo_surface_t *image;
  guint32 *pixels;
  int stride;
  PlRgba half;

  image = _pl_image_new ((int) iw, (int) ih, &pixels, &stride);
  if (image == NULL)
    return NULL;
  pl_rgba_mix (&style->mask, &style->background, 0.5, &half);
  half.a = 1;
  half_px = pl_rgba_to_pixel (&half);
  /* Dead filters: the same map, washed out towards the dead colour, as the receptive fields. */
  for (guint i = 0; i < 256; i++)
    {
      PlRgba col;

      pl_chart_diverging (style, 2.0 * i / 255 - 1, &col);
      pl_rgba_mix (&col, &style->dead, 0.75, &col);
      dead_lut[i] = pl_rgba_to_pixel (&col);
    }
  memset (pixels, 0, (gsize) stride * 4 * ih);
  for (guint f = 0; f < P->rows; f++)
    {
      const guint32 *flut = filter_dead (L, f) ? dead_lut : lut;

      for (guint ch = 0; ch < P->cols; ch++)
        {
          gsize base = ((gsize) f * L->c_in + ch) * k * k;
          guint32 *origin = pixels + (gsize) f * (k + 1) * stride + ch * (k + 1);

          for (guint y = 0; y < k; y++)
            for (guint x = 0; x < k; x++)
              {
                gsize i = base + (gsize) y * k + x;
                guint32 px = _pl_lut_colour (flut, L->weights[i], scale);

                if (L->mask != NULL && L->mask[i] == 0)
                  px = mask_px;
                else if (L->preview_mask != NULL && L->preview_mask[i] == 0)
                  px = half_px;
                origin[(gsize) y * stride + x] = px;
              }
        }
    }
  cairo_surface_mark_dirty (image);
  return image;
}

void
pl_chart_draw_filters (cairo_t             *cr,
                       double               width,
                       double               height,
                       const PlFiltersData *data,
                       const PlChartStyle  *style)
{
  const char *empty = pl_chart_filters_empty_message (data);
  PlCanvas c;
  Filters F;
  double line_label, line_tick;

  g_return_if_fail (cr != NULL && style != NULL);

  if (!_pl_draw_begin (&c, cr, width, height, style, data != NULL ? data->title : NULL, empty))
    return;
  if (!filters_layout (&c, data, &F))
    {
      _pl_draw_too_small (&c);
      return;
    }
  line_label = _pl_text_line_height (&c, PL_TEXT_LABEL);
  line_tick = _pl_text_line_height (&c, PL_TEXT_TICK);

  for (guint l = 0; l < F.n_panels; l++)
    {
      const PlFiltersLayer *L = &data->layers[l];
      const Panel *P = &F.panels[l];
      guint k = L->k;
      double tile = k * F.cell, step = (k + 1.0) * F.cell;
      double grid_w = (P->cols * (k + 1.0) - 1) * F.cell, grid_h = (P->rows * (k + 1.0) - 1) * F.cell;
      double centre = P->x + grid_w / 2;
      cairo_surface_t *image = panel_image (L, P, style);
      guint label_every, col_every;

      if (image != NULL)
        {
          _pl_paint_image (cr, image, P->x, P->y, grid_w, grid_h);
          cairo_surface_destroy (image);
        }

      /* dead filters: each tile crossed out */
      cairo_save (cr);
      pl_chart_set_source (cr, &style->foreground);
      cairo_set_line_width (cr, MAX (1.5, MIN (F.cell * 0.6, style->line_width)));
      for (guint f = 0; f < P->rows; f++)
        if (filter_dead (L, f))
          for (guint ch = 0; ch < P->cols; ch++)
            {
              double x, y;

              tile_origin (&F, P, k, f, ch, &x, &y);
              cairo_move_to (cr, x, y);
              cairo_line_to (cr, x + tile, y + tile);
              cairo_move_to (cr, x + tile, y);
              cairo_line_to (cr, x, y + tile);
            }
      cairo_stroke (cr);

      /* filters the preview removes: the row framed by a dashed line */
      {
        double dash[] = { MAX (2.0, F.cell), MAX (1.5, F.cell * 0.6) };
        double lw = MAX (1.5, F.cell * 0.35);

        cairo_set_dash (cr, dash, 2, 0);
        cairo_set_line_width (cr, lw);
        pl_chart_set_source (cr, &style->series[2]);
        for (guint f = 0; f < P->rows; f++)
          if (filter_preview_dead (L, f))
            cairo_rectangle (cr, P->x - lw, P->y + f * step - lw, grid_w + 2 * lw, tile + 2 * lw);
        cairo_stroke (cr);
      }
      cairo_restore (cr);

      /* heading, axis titles, row and column numbers (every n-th when they would crowd) */
      _pl_text_draw (&c, PL_TEXT_LABEL, P->heading, centre, F.heading_y, 0.5, 0,
                     c.width - 2 * style->padding, FALSE, &style->foreground);
      _pl_text_draw (&c, PL_TEXT_TICK, _("input channel"), centre, F.heading_y + line_label, 0.5, 0,
                     c.width - 2 * style->padding, FALSE, &style->muted);
      label_every = MAX (1u, (guint) ceil (line_tick * 1.2 / step));
      {
        char widest[16];
        double num_w;

        g_snprintf (widest, sizeof widest, "%u", P->cols - 1);
        _pl_text_size (&c, PL_TEXT_TICK, widest, 0, &num_w, NULL);
        col_every = MAX (1u, (guint) ceil ((num_w + style->font_size * 0.5) / step));
      }
      for (guint ch = 0; ch < P->cols; ch += col_every)
        {
          char num[16];

          g_snprintf (num, sizeof num, "%u", ch);
          _pl_text_draw (&c, PL_TEXT_TICK, num, P->x + ch * step + tile / 2, P->y - style->font_size * 0.2, 0.5, 1,
                         0, FALSE, &style->muted);
        }
      for (guint f = 0; f < P->rows; f += label_every)
        {
          char num[16];

          g_snprintf (num, sizeof num, "%u", f);
          _pl_text_draw (&c, PL_TEXT_TICK, num, P->x - style->font_size * 0.3, P->y + f * step + tile / 2,
                         1, 0.5, 0, FALSE, filter_dead (L, f) ? &style->dead : &style->muted);
        }
      _pl_text_draw (&c, PL_TEXT_TICK, _("filter"), P->x - P->label_w, P->y + grid_h / 2, 0.5, 0,
                     grid_h, TRUE, &style->muted);
    }

  _pl_frame_draw_header (&c, &F.frame, &F.layout);
  _pl_draw_end (&c);
}

void
pl_chart_filters_write_csv (const PlFiltersData *data,
                            GString             *csv)
{
  g_string_append (csv, "layer,filter,channel,ky,kx,weight,pruned,filter_pruned\n");
  if (pl_chart_filters_empty_message (data) != NULL)
    return;
  for (guint l = 0; l < data->n_layers; l++)
    {
      const PlFiltersLayer *L = &data->layers[l];

      for (guint f = 0; f < L->c_out; f++)
        for (guint ch = 0; ch < L->c_in; ch++)
          for (guint y = 0; y < L->k; y++)
            for (guint x = 0; x < L->k; x++)
              {
                gsize i = (((gsize) f * L->c_in + ch) * L->k + y) * L->k + x;

                g_string_append_printf (csv, "%u,%u,%u,%u,%u,", l, f, ch, y, x);
                _pl_csv_float (csv, L->weights[i]);
                g_string_append_printf (csv, ",%d,%d\n", L->mask != NULL && L->mask[i] == 0,
                                        filter_dead (L, f));
              }
    }
}
