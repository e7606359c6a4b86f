/* pl-chart-fields.c — first-layer receptive fields as image tiles */
#define G_LOG_DOMAIN "pl-chart"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <math.h>
#include <string.h>

#include "pl-chart-fields.h"
#include "pl-chart-private.h"

#define DEFAULT_MAX_TILES 100

typedef struct {
  PlFrame       frame;
  PlFrameLayout layout;
  PlLegendItem  legend[4];
  char          note[256];
  guint         n_shown, cols, rows;
  double        x0, y0;          /* top-left of the tile grid */
  double        cell;            /* size of one image pixel */
} Fields;

const char *
pl_chart_fields_empty_message (const PlFieldsData *data)
{
  if (data == NULL || data->n_neurons == 0 || data->weights == NULL)
    return _("No neurons to show");
  if (data->image_width == 0 || data->image_height == 0
      || (guint64) data->image_width * data->image_height != data->n_inputs)
    return _("Receptive fields need image inputs (width × height = inputs)");
  return NULL;
}

static guint
n_shown (const PlFieldsData *data)
{
  return MIN (data->n_neurons, data->max_tiles > 0 ? data->max_tiles : DEFAULT_MAX_TILES);
}

static gboolean
fields_layout (PlCanvas           *c,
               const PlFieldsData *data,
               Fields             *f)
{
  const PlChartStyle *s = c->style;
  guint iw = data->image_width, ih = data->image_height;
  double top, w, h, best = 0;

  memset (f, 0, sizeof *f);
  f->n_shown = n_shown (data);
  f->frame.title = data->title != NULL ? data->title : _("Receptive fields");
  if (f->n_shown < data->n_neurons)
    /* TRANSLATORS: "the first 100 of 300 neurons" */
    g_snprintf (f->note, sizeof f->note, _("the first %u of %u neurons · each tile scaled to its own largest |w|"),
                f->n_shown, data->n_neurons);
  else
    g_snprintf (f->note, sizeof f->note, _("%u neurons · each tile scaled to its own largest |w|"),
                data->n_neurons);
  f->frame.note = f->note;
  pl_chart_diverging (s, -1, &f->legend[0].colour);
  f->legend[0].label = _("negative");
  f->legend[0].kind = PL_LEGEND_SWATCH;
  pl_chart_diverging (s, 1, &f->legend[1].colour);
  f->legend[1].label = _("positive");
  f->legend[1].kind = PL_LEGEND_SWATCH;
  f->legend[2] = (PlLegendItem) { _("pruned"), s->mask, PL_LEGEND_SWATCH };
  f->frame.legend = f->legend;
  f->frame.n_legend = 2;
  for (gsize i = 0; data->mask != NULL && i < (gsize) f->n_shown * data->n_inputs; i++)
    if (data->mask[i] == 0)
      {
        f->frame.n_legend = 3;
        break;
      }
  for (guint t = 0; t < f->n_shown && data->neuron_mask != NULL; t++)
    if (data->neuron_mask[t] == 0)
      {
        g_strlcat (f->note, _(" · crossed out: dead neuron"), sizeof f->note);
        break;
      }

  top = _pl_frame_header (c, &f->frame, 0, 0, c->width, &f->layout);
  w = c->width - 2 * s->padding;
  h = c->height - top - s->padding;
  if (w < 10 || h < 10)
    return FALSE;

  /* The column count that makes the tiles largest; one image pixel of gap between tiles. */
  for (guint cols = 1; cols <= f->n_shown; cols++)
    {
      guint rows = (f->n_shown + cols - 1) / cols;
      double cell = MIN (w / (cols * (iw + 1.0) - 1), h / (rows * (ih + 1.0) - 1));

      if (cell > best)
        {
          best = cell;
          f->cols = cols;
          f->rows = rows;
        }
    }
  f->cell = best;
  f->x0 = s->padding + (w - (f->cols * (iw + 1.0) - 1) * best) / 2;
  f->y0 = top + (h - (f->rows * (ih + 1.0) - 1) * best) / 2;
  return best > 0;
}

gboolean
pl_chart_fields_tile_rect (cairo_t            *cr,
                           double              width,
                           double              height,
                           const PlFieldsData *data,
                           const PlChartStyle *style,
                           guint               index,
                           double             *x,
                           double             *y,
                           double             *tile_width,
                           double             *tile_height)
{
  PlCanvas c;
  Fields f;
  gboolean ok;

  g_return_val_if_fail (cr != NULL && style != NULL, FALSE);

  if (pl_chart_fields_empty_message (data) != NULL || index >= n_shown (data))
    return FALSE;
  _pl_canvas_init (&c, cr, width, height, style);
  ok = fields_layout (&c, data, &f);
  _pl_canvas_clear (&c);
  if (!ok)
    return FALSE;
  *x = f.x0 + (index % f.cols) * (data->image_width + 1.0) * f.cell;
  *y = f.y0 + (index / f.cols) * (data->image_height + 1.0) * f.cell;
  *tile_width = data->image_width * f.cell;
  *tile_height = data->image_height * f.cell;
  return TRUE;
}

void
pl_chart_draw_fields (cairo_t            *cr,
                      double              width,
                      double              height,
                      const PlFieldsData *data,
                      const PlChartStyle *style)
{
  const char *empty = pl_chart_fields_empty_message (data);
  PlCanvas c;
  Fields f;
  cairo_surface_t *image;
  guint32 *pixels;
  int stride;
  guint iw, ih;

  g_return_if_fail (cr != NULL && style != NULL);

  if (!_pl_draw_begin (&c, cr, width, height, style, data != NULL ? data->title : NULL, empty))
    return;
  if (!fields_layout (&c, data, &f))
    {
      _pl_draw_too_small (&c);
      return;
    }
  iw = data->image_width;
  ih = data->image_height;

  image = _pl_image_new ((int) (f.cols * (iw + 1) - 1), (int) (f.rows * (ih + 1) - 1), &pixels, &stride);
  if (image != NULL)
    {
      const guint32 *lut = pl_chart_diverging_lut (style);
      guint32 mask_px = pl_rgba_to_pixel (&style->mask);
      guint32 dead_lut[256];

      /* Dead neurons: the same map, washed out towards the dead colour. */
      for (guint i = 0; i < 256; i++)
        {
          PlRgba col;

          pl_chart_diverging (style, 2.0 * i / 255 - 1, &col);
          pl_rgba_mix (&col, &style->dead, 0.8, &col);
          dead_lut[i] = pl_rgba_to_pixel (&col);
        }

      memset (pixels, 0, (gsize) stride * 4 * (f.rows * (ih + 1) - 1));
      for (guint t = 0; t < f.n_shown; t++)
        {
          const float *w = data->weights + (gsize) t * data->n_inputs;
          const float *m = data->mask != NULL ? data->mask + (gsize) t * data->n_inputs : NULL;
          gboolean dead = data->neuron_mask != NULL && data->neuron_mask[t] == 0;
          const guint32 *tlut = dead ? dead_lut : lut;
          guint32 *origin = pixels + (gsize) (t / f.cols) * (ih + 1) * stride + (t % f.cols) * (iw + 1);
          float top = 0, scale;

          for (guint i = 0; i < data->n_inputs; i++)
            if ((m == NULL || m[i] != 0) && fabsf (w[i]) > top)
              top = fabsf (w[i]);
          scale = top > 0 ? 127.5f / top : 0;

          for (guint y = 0; y < ih; y++)
            for (guint x = 0; x < iw; x++)
              {
                gsize i = (gsize) y * iw + x;
                float v = w[i] * scale + 127.5f;

                origin[(gsize) y * stride + x] =
                  m != NULL && m[i] == 0 ? mask_px : tlut[(int) CLAMP (v, 0, 255)];
              }
        }
      cairo_surface_mark_dirty (image);
      _pl_paint_image (cr, image, f.x0, f.y0, (f.cols * (iw + 1.0) - 1) * f.cell,
                       (f.rows * (ih + 1.0) - 1) * f.cell);
      cairo_surface_destroy (image);
    }

  /* Cross out dead neurons. */
  if (data->neuron_mask != NULL)
    {
      cairo_save (cr);
      pl_chart_set_source (cr, &style->muted);
      cairo_set_line_width (cr, MAX (1, style->line_width * 0.6));
      for (guint t = 0; t < f.n_shown; t++)
        if (data->neuron_mask[t] == 0)
          {
            double x = f.x0 + (t % f.cols) * (iw + 1.0) * f.cell;
            double y = f.y0 + (t / f.cols) * (ih + 1.0) * f.cell;

            cairo_move_to (cr, x, y);
            cairo_line_to (cr, x + iw * f.cell, y + ih * f.cell);
            cairo_move_to (cr, x + iw * f.cell, y);
            cairo_line_to (cr, x, y + ih * f.cell);
          }
      cairo_stroke (cr);
      cairo_restore (cr);
    }

  _pl_frame_draw_header (&c, &f.frame, &f.layout);
  _pl_draw_end (&c);
}

void
pl_chart_fields_write_csv (const PlFieldsData *data,
                           GString            *csv)
{
  g_string_append (csv, "neuron,row,column,weight,pruned,dead\n");
  if (pl_chart_fields_empty_message (data) != NULL)
    return;
  for (guint t = 0; t < n_shown (data); t++)
    {
      gboolean dead = data->neuron_mask != NULL && data->neuron_mask[t] == 0;

      for (guint i = 0; i < data->n_inputs; i++)
        {
          gsize k = (gsize) t * data->n_inputs + i;

          g_string_append_printf (csv, "%u,%u,%u,", t, i / data->image_width, i % data->image_width);
          _pl_csv_float (csv, data->weights[k]);
          g_string_append_printf (csv, ",%d,%d\n", data->mask != NULL && data->mask[k] == 0, dead);
        }
    }
}
