/* pl-chart-heatmap.c — a layer's weights as a colour map */
#define G_LOG_DOMAIN "pl-chart"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <math.h>
#include <string.h>

#include "pl-chart-heatmap.h"
#include "pl-chart-private.h"

typedef struct {
  PlFrame        frame;
  PlFrameLayout  layout;
  PlLegendItem   legend[1];
  char           note[256];
  double         limit;
  guint          out_cols, out_rows;   /* the image's size: cells, or blocks of cells */
  double         bar_width;
} Heatmap;

const char *
pl_chart_heatmap_empty_message (const PlHeatmapData *data)
{
  if (data == NULL || data->n_rows == 0 || data->n_cols == 0 || data->values == NULL)
    return _("No weights to show");
  return NULL;
}

#define LIMIT_BINS   2048
#define LIMIT_SAMPLE 32768

/* 1 when mask entry @m keeps its weight (is not ±0), from its bits: a float comparison compiles
 * to a branch for the NaN case, and masks are as good as random to a branch predictor. */
static inline guint32
kept_bit (const float *m)
{
  guint32 bits;

  memcpy (&bits, m, sizeof bits);
  return (bits << 1) != 0;
}

/* The 99th percentile of |w| over the kept weights, from a fine histogram of an evenly strided
 * sample of at most LIMIT_SAMPLE weights: a few outliers should not wash the rest of the map out
 * to the centre colour. The loops are branch-free: masks are as good as random. */
static double
kept_limit (const PlHeatmapData *data,
            gsize               *n_pruned)
{
  gsize n = (gsize) data->n_rows * data->n_cols;
  gsize stride = MAX ((gsize) 1, n / LIMIT_SAMPLE);
  guint bins[LIMIT_BINS] = { 0 };
  float top = 0, scale;
  gsize pruned = 0, sampled = 0, want, seen = 0;
  guint32 top_bits = 0;

  /* The largest kept |w| as the largest of their bits: non-negative floats order as integers
   * do, and an integer maximum vectorises where a float one (NaN-aware) does not. */
  for (gsize i = 0; i < n; i++)
    {
      guint32 bits, kept = data->mask == NULL ? 1 : kept_bit (data->mask + i);

      memcpy (&bits, data->values + i, sizeof bits);
      bits &= 0x7fffffffu & -kept;
      top_bits = MAX (top_bits, bits);
      pruned += kept ^ 1;
    }
  memcpy (&top, &top_bits, sizeof top);
  *n_pruned = pruned;
  if (!(top > 0) || !isfinite (top) || n - pruned < 100)
    return top;

  scale = (LIMIT_BINS - 1) / top;
  for (gsize i = 0; i < n; i += stride)
    {
      guint kept = data->mask == NULL || data->mask[i] != 0;
      /* A pruned weight may lie above the kept ones (or be NaN): clamp, it adds nothing. */
      float at = MIN (fabsf (data->values[i]) * scale, (float) (LIMIT_BINS - 1));

      bins[(guint) at] += kept;
      sampled += kept;
    }
  want = (gsize) ceil (sampled * 0.99);
  for (guint b = 0; b < LIMIT_BINS && sampled > 0; b++)
    {
      seen += bins[b];
      if (seen >= want)
        return (b + 1) / scale;
    }
  return top;
}

/* How many image pixels the plot area covers: raster targets count device pixels, vector ones
 * (PDF, SVG) keep every cell, others (a GTK recording) count logical pixels. */
static void
pixel_budget (cairo_t *cr,
              double   width,
              double   height,
              double  *px_w,
              double  *px_h)
{
  cairo_surface_type_t type = cairo_surface_get_type (cairo_get_target (cr));
  double dw = width, dh = height;

  switch (type)
    {
    case CAIRO_SURFACE_TYPE_IMAGE:
      {
        double dx = width, dy = 0, ex = 0, ey = height;

        cairo_user_to_device_distance (cr, &dx, &dy);
        cairo_user_to_device_distance (cr, &ex, &ey);
        dw = hypot (dx, dy);
        dh = hypot (ex, ey);
      }
      break;
    case CAIRO_SURFACE_TYPE_PDF:
    case CAIRO_SURFACE_TYPE_SVG:
    case CAIRO_SURFACE_TYPE_PS:
      dw = dh = G_MAXDOUBLE;
      break;
    default:
      break;
    }
  *px_w = dw;
  *px_h = dh;
}

static void
heatmap_note (const PlHeatmapData *data,
              Heatmap             *h,
              double               share_pruned)
{
  g_autofree char *share = NULL;
  char pct[32];

  pl_chart_format_number (pct, sizeof pct, share_pruned, 0.001, PL_CHART_NUMBER_PERCENT);
  if (data->limit > 0)
    /* TRANSLATORS: "300 × 784 weights · 12.5% pruned" */
    share = g_strdup_printf (_("%u × %u weights · %s pruned"), data->n_rows, data->n_cols, pct);
  else
    /* TRANSLATORS: the colour scale ends at the 99th percentile of the weights' magnitudes */
    share = g_strdup_printf (_("%u × %u weights · %s pruned · colours end at the 99th percentile of |w|"),
                             data->n_rows, data->n_cols, pct);
  if (h->out_cols < data->n_cols || h->out_rows < data->n_rows)
    {
      guint bw = (data->n_cols + h->out_cols - 1) / h->out_cols;
      guint bh = (data->n_rows + h->out_rows - 1) / h->out_rows;

      if (data->aggregate == PL_HEATMAP_MEAN)
        /* TRANSLATORS: how a pixel summarises a block of up to "2 × 3" weights */
        g_snprintf (h->note, sizeof h->note, _("%s · a pixel shows the mean of up to %u × %u kept weights"),
                    share, bh, bw);
      else
        g_snprintf (h->note, sizeof h->note, _("%s · a pixel shows the largest |w| of up to %u × %u weights"),
                    share, bh, bw);
    }
  else
    g_strlcpy (h->note, share, sizeof h->note);
}

static gboolean
heatmap_layout (PlCanvas            *c,
                const PlHeatmapData *data,
                Heatmap             *h)
{
  const PlChartStyle *s = c->style;
  gsize n_pruned;
  double px_w, px_h;
  double n = (double) data->n_rows * data->n_cols;

  memset (h, 0, sizeof *h);
  h->limit = data->limit > 0 ? data->limit : kept_limit (data, &n_pruned);
  if (data->limit > 0)
    kept_limit (data, &n_pruned);
  if (!(h->limit > 0) || !isfinite (h->limit))
    h->limit = 1;

  h->frame.title = data->title != NULL ? data->title : _("Weights");
  h->frame.x_label = data->x_label != NULL ? data->x_label : _("input neuron");
  h->frame.y_label = data->y_label != NULL ? data->y_label : _("output neuron");
  h->frame.x = (PlChartAxis) { 0, data->n_cols, FALSE, PL_CHART_NUMBER_INTEGER };
  h->frame.y = (PlChartAxis) { data->n_rows, 0, FALSE, PL_CHART_NUMBER_INTEGER };
  h->frame.no_grid = TRUE;
  h->legend[0] = (PlLegendItem) { _("pruned"), s->mask, PL_LEGEND_SWATCH };
  h->frame.legend = h->legend;
  h->frame.n_legend = 1;
  h->frame.note = h->note;
  h->bar_width = s->font_size * 1.2;
  h->frame.right_reserve = _pl_colour_bar_width (c, -h->limit, h->limit, PL_CHART_NUMBER_PLAIN, NULL);
  h->out_cols = data->n_cols;
  h->out_rows = data->n_rows;
  heatmap_note (data, h, n > 0 ? n_pruned / n : 0);

  /* The note says how pixels summarise blocks, which depends on the area, which depends on the
   * note's height: lay out, say it, and lay out again if that changed the note. */
  for (guint pass = 0; pass < 2; pass++)
    {
      char previous[sizeof h->note];

      g_strlcpy (previous, h->note, sizeof previous);
      if (!_pl_frame_layout (c, &h->frame, 0, 0, c->width, c->height, &h->layout))
        return FALSE;
      pixel_budget (c->cr, h->layout.area.width, h->layout.area.height, &px_w, &px_h);
      h->out_cols = (guint) MIN ((double) data->n_cols, MAX (1.0, floor (px_w)));
      h->out_rows = (guint) MIN ((double) data->n_rows, MAX (1.0, floor (px_h)));
      heatmap_note (data, h, n > 0 ? n_pruned / n : 0);
      if (pass == 0 && strcmp (previous, h->note) == 0)
        break;
    }
  return TRUE;
}

gboolean
pl_chart_heatmap_layout (cairo_t             *cr,
                         double               width,
                         double               height,
                         const PlHeatmapData *data,
                         const PlChartStyle  *style,
                         PlChartArea         *area)
{
  PlCanvas c;
  Heatmap h;
  gboolean ok = FALSE;

  g_return_val_if_fail (cr != NULL && style != NULL && area != NULL, FALSE);

  memset (area, 0, sizeof *area);
  if (pl_chart_heatmap_empty_message (data) != NULL)
    return FALSE;
  _pl_canvas_init (&c, cr, width, height, style);
  ok = heatmap_layout (&c, data, &h);
  if (ok)
    *area = h.layout.area;
  _pl_canvas_clear (&c);
  return ok;
}

gboolean
pl_chart_heatmap_cell_at (const PlChartArea *area,
                          double             px,
                          double             py,
                          guint             *row,
                          guint             *col)
{
  double x, y;

  if (!pl_chart_area_contains (area, px, py))
    return FALSE;
  x = pl_chart_area_value_x (area, px);
  y = pl_chart_area_value_y (area, py);
  if (x < 0 || y < 0)
    return FALSE;
  *col = MIN ((guint) x, (guint) MAX (area->x_axis.hi, 1) - 1);
  *row = MIN ((guint) y, (guint) MAX (area->y_axis.lo, 1) - 1);
  return TRUE;
}

/* One pixel per weight. */
static void
fill_cells (const PlHeatmapData *data,
            const guint32       *lut,
            guint32              mask_px,
            float                scale,
            guint32             *pixels,
            int                  stride)
{
  const guint n_rows = data->n_rows, n_cols = data->n_cols;

  for (guint r = 0; r < n_rows; r++)
    {
      const float *w = data->values + (gsize) r * n_cols;
      const float *m = data->mask != NULL ? data->mask + (gsize) r * n_cols : NULL;
      guint32 *out = pixels + (gsize) r * stride;

      if (m == NULL)
        for (guint j = 0; j < n_cols; j++)
          out[j] = _pl_lut_colour (lut, w[j], scale);
      else
        for (guint j = 0; j < n_cols; j++)
          {
            /* Masks are as good as random: a bit mask, not a branch. */
            guint32 keep = -(guint32) (m[j] != 0.0f);

            out[j] = (_pl_lut_colour (lut, w[j], scale) & keep) | (mask_px & ~keep);
          }
    }
}

/* One row of weights as block keys: the bits of |w| when kept, −1 when pruned. The bits of a
 * non-negative float order as integers do, so a block's largest key is its kept weight of
 * largest |w| (a NaN is above all: it shows), and −1 says the block is all pruned. Integer
 * selects compile to conditional moves, float ones here to branches, and masks are as good as
 * random to a branch predictor. Contiguous: it vectorises. */
static void
row_keys (const float *w,
          const float *m,
          guint        n,
          gint32      *key)
{
  for (guint j = 0; j < n; j++)
    {
      guint32 bits, kept = m == NULL ? 1 : kept_bit (m + j);
      guint32 keep = -kept;

      memcpy (&bits, w + j, sizeof bits);
      key[j] = (gint32) (((bits & 0x7fffffffu) & keep) | ~keep);
    }
}

/* One pixel per block of weights: the kept weight of largest |w| (or the mean of the kept
 * ones); the mask colour when the whole block is pruned. Column blocks are the ranges
 * [⌊b·n_cols/out_cols⌋, ⌊(b+1)·n_cols/out_cols⌋), row blocks likewise. Each block is reduced
 * in registers over its columns, with a fixed trip count of the widest block and the columns
 * past its end masked off (blocks of varying widths would cost a mispredicted branch each),
 * then merged across its rows. */
static void
fill_blocks (const PlHeatmapData *data,
             guint                out_cols,
             guint                out_rows,
             const guint32       *lut,
             guint32              mask_px,
             float                scale,
             guint32             *pixels,
             int                  stride)
{
  const guint n_cols = data->n_cols;
  g_autofree guint *col_start = g_new (guint, out_cols + 1);
  g_autofree gint32 *key = g_new (gint32, n_cols);
  g_autofree float *acc = g_new (float, out_cols);    /* the chosen weight, or the sum */
  g_autofree gint32 *best = g_new (gint32, out_cols); /* its key */
  g_autofree guint *count = g_new (guint, out_cols);  /* kept weights in the block */
  gboolean mean = data->aggregate == PL_HEATMAP_MEAN;
  guint max_width = 0;

  for (guint b = 0; b <= out_cols; b++)
    col_start[b] = (guint) ((guint64) b * n_cols / out_cols);
  for (guint b = 0; b < out_cols; b++)
    max_width = MAX (max_width, col_start[b + 1] - col_start[b]);

  for (guint o = 0; o < out_rows; o++)
    {
      guint r0 = (guint) ((guint64) o * data->n_rows / out_rows);
      guint r1 = (guint) ((guint64) (o + 1) * data->n_rows / out_rows);
      guint32 *out = pixels + (gsize) o * stride;

      memset (acc, 0, sizeof (float) * out_cols);
      memset (count, 0, sizeof (guint) * out_cols);
      for (guint b = 0; b < out_cols; b++)
        best[b] = -1;
      for (guint r = r0; r < r1; r++)
        {
          const float *w = data->values + (gsize) r * n_cols;
          const float *m = data->mask != NULL ? data->mask + (gsize) r * n_cols : NULL;

          row_keys (w, m, n_cols, key);
          if (mean)
            for (guint b = 0; b < out_cols; b++)
              {
                guint j0 = col_start[b], width = col_start[b + 1] - j0, kept = 0;
                float sum = 0.0f;

                for (guint t = 0; t < max_width; t++)
                  {
                    guint j = MIN (j0 + t, n_cols - 1);
                    guint k = (t < width) & (key[j] >= 0);

                    sum += w[j] * (float) k;
                    kept += k;
                  }
                acc[b] += sum;
                count[b] += kept;
              }
          else
            for (guint b = 0; b < out_cols; b++)
              {
                guint j0 = col_start[b], width = col_start[b + 1] - j0, arg = j0;
                gint32 top = -1, in_row = best[b];

                /* the first of equal keys wins, as a scan in reading order takes it */
                for (guint t = 0; t < max_width; t++)
                  {
                    guint j = MIN (j0 + t, n_cols - 1);
                    gint32 k = t < width ? key[j] : -1;

                    arg = k > top ? j : arg;
                    top = MAX (k, top);
                  }
                /* a select by bits: a conditional store compiles to a branch, and whether a
                 * block holds a kept weight is as good as random */
                {
                  guint32 take = -(guint32) (top > in_row), wb, ab;

                  memcpy (&wb, w + arg, sizeof wb);
                  memcpy (&ab, acc + b, sizeof ab);
                  ab = (wb & take) | (ab & ~take);
                  memcpy (acc + b, &ab, sizeof ab);
                }
                best[b] = MAX (top, in_row);
                count[b] += top >= 0;
              }
        }
      /* the colour computed for every block and the mask colour selected by bits: whether a
       * block is all pruned is as good as random */
      for (guint b = 0; b < out_cols; b++)
        {
          guint32 colour = _pl_lut_colour (lut, mean ? acc[b] / MAX (count[b], 1u) : acc[b], scale);
          guint32 keep = -(guint32) (count[b] != 0);

          out[b] = (colour & keep) | (mask_px & ~keep);
        }
    }
}

cairo_surface_t *
pl_chart_heatmap_image (const PlHeatmapData *data,
                        guint                out_cols,
                        guint                out_rows,
                        double               limit,
                        const PlChartStyle  *style)
{
  cairo_surface_t *image;
  guint32 *pixels;
  int stride;
  const guint32 *lut;

  g_return_val_if_fail (data != NULL && data->values != NULL && style != NULL, NULL);
  g_return_val_if_fail (out_cols >= 1 && out_cols <= data->n_cols, NULL);
  g_return_val_if_fail (out_rows >= 1 && out_rows <= data->n_rows, NULL);
  g_return_val_if_fail (limit > 0, NULL);

  image = _pl_image_new ((int) out_cols, (int) out_rows, &pixels, &stride);
  if (image == NULL)
    return NULL;
  lut = pl_chart_diverging_lut (style);
  if (out_cols == data->n_cols && out_rows == data->n_rows)
    fill_cells (data, lut, pl_rgba_to_pixel (&style->mask), (float) (127.5 / limit), pixels, stride);
  else
    fill_blocks (data, out_cols, out_rows, lut, pl_rgba_to_pixel (&style->mask), (float) (127.5 / limit),
                 pixels, stride);
  cairo_surface_mark_dirty (image);
  return image;
}

void
pl_chart_draw_heatmap (cairo_t             *cr,
                       double               width,
                       double               height,
                       const PlHeatmapData *data,
                       const PlChartStyle  *style)
{
  const char *empty = pl_chart_heatmap_empty_message (data);
  PlCanvas c;
  Heatmap h;
  cairo_surface_t *image;
  const PlChartArea *a;

  g_return_if_fail (cr != NULL && style != NULL);

  if (!_pl_draw_begin (&c, cr, width, height, style, data != NULL ? data->title : NULL, empty))
    return;
  if (!heatmap_layout (&c, data, &h))
    {
      _pl_draw_too_small (&c);
      return;
    }
  a = &h.layout.area;

  image = pl_chart_heatmap_image (data, h.out_cols, h.out_rows, h.limit, style);
  if (image != NULL)
    {
      _pl_paint_image (cr, image, a->x, a->y, a->width, a->height);
      cairo_surface_destroy (image);
    }

  _pl_frame_draw (&c, &h.frame, &h.layout);
  _pl_colour_bar (&c, pl_chart_diverging_lut (style),
                  a->x + a->width + style->font_size * 1.2, a->y + style->font_size * 1.6,
                  h.bar_width, MAX (a->height - style->font_size * 1.6, 10), -h.limit, h.limit,
                  PL_CHART_NUMBER_PLAIN, _("weight"));
  _pl_draw_end (&c);
}

void
pl_chart_heatmap_write_csv (const PlHeatmapData *data,
                            GString             *csv)
{
  g_string_append (csv, "output,input,weight,pruned\n");
  if (pl_chart_heatmap_empty_message (data) != NULL)
    return;
  for (guint r = 0; r < data->n_rows; r++)
    for (guint j = 0; j < data->n_cols; j++)
      {
        gsize i = (gsize) r * data->n_cols + j;

        g_string_append_printf (csv, "%u,%u,", r, j);
        _pl_csv_float (csv, data->values[i]);
        g_string_append (csv, data->mask != NULL && data->mask[i] == 0 ? ",1\n" : ",0\n");
      }
}
