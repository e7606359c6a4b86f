/* pl-chart-feature-maps.c — one image's activation maps, stage by stage */
#define G_LOG_DOMAIN "pl-chart"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <math.h>
#include <string.h>

#include "pl-chart-feature-maps.h"
#include "pl-chart-private.h"

#define DEFAULT_MAX_CHANNELS 32
#define MAX_STAGES           16
#define MAX_TILE             180.0

typedef struct {
  guint        c, h, w, shown;
  const float *maps;           /* what the row draws */
  const float *dead_mask;      /* dead now; may be NULL */
  const float *preview_mask;   /* dead in the preview; may be NULL */
  double       lo, hi;         /* the row's scale */
  double       y, tile, gap;
  char         name[64];
  char         shape[64];
  char         range[96];
} Row;

typedef struct {
  PlFrame       frame;
  PlFrameLayout layout;
  PlLegendItem  legend[4];
  char          note[256];
  guint         n_rows;
  Row           rows[MAX_STAGES + 1];
  double        x0;            /* left of the tiles */
  double        label_x;
} Maps;

const char *
pl_chart_feature_maps_empty_message (const PlFeatureMapsData *data)
{
  if (data == NULL || data->image == NULL || data->c == 0 || data->h == 0 || data->w == 0)
    return _("No image to show");
  if (data->n_stages > MAX_STAGES)
    return _("Too many layers to draw");
  if (data->n_stages > 0 && data->stages == NULL)
    return _("No image to show");
  for (guint i = 0; i < data->n_stages; i++)
    if (data->stages[i].maps == NULL || data->stages[i].c == 0 || data->stages[i].h == 0
        || data->stages[i].w == 0)
      return _("No feature maps to show");
  return NULL;
}

static const float *
stage_maps (const PlFeatureMapsData *data,
            const PlFeatureStage    *st)
{
  return data->show_preview && st->preview_maps != NULL ? st->preview_maps : st->maps;
}

static inline gboolean
channel_dead (const Row *r,
              guint      ch)
{
  return r->dead_mask != NULL && r->dead_mask[ch] == 0;
}

static inline gboolean
channel_preview_dead (const Row *r,
                      guint      ch)
{
  return !channel_dead (r, ch) && r->preview_mask != NULL && r->preview_mask[ch] == 0;
}

/* The row's scale: lowest to highest value over its shown, live channels (a dead channel is 0
 * and would otherwise stretch the scale of a tanh network). */
static void
row_range (Row *r)
{
  gboolean any = FALSE;
  gsize plane = (gsize) r->h * r->w;

  r->lo = 0;
  r->hi = 0;
  for (guint ch = 0; ch < r->shown; ch++)
    {
      if (channel_dead (r, ch))
        continue;
      for (gsize i = 0; i < plane; i++)
        {
          float v = r->maps[ch * plane + i];

          if (!isfinite (v))
            continue;
          r->lo = any ? MIN (r->lo, v) : v;
          r->hi = any ? MAX (r->hi, v) : v;
          any = TRUE;
        }
    }
}

static gboolean
maps_layout (PlCanvas                *c,
             const PlFeatureMapsData *data,
             Maps                    *M)
{
  const PlChartStyle *s = c->style;
  guint max_ch = data->max_channels > 0 ? data->max_channels : DEFAULT_MAX_CHANNELS;
  double top, avail_w, avail_h, row_h, label_w = 0, line_label, line_tick, row_gap;
  gboolean any_dead = FALSE, any_preview = FALSE, cut = FALSE;
  guint n_legend = 0;

  memset (M, 0, sizeof *M);
  M->frame.title = data->title != NULL ? data->title : _("Feature maps");
  M->n_rows = data->n_stages + 1;
  for (guint r = 0; r < M->n_rows; r++)
    {
      Row *R = &M->rows[r];
      char lo[32], hi[32];

      if (r == 0)
        {
          *R = (Row) { data->c, data->h, data->w, MIN (data->c, max_ch), data->image, NULL, NULL };
          g_strlcpy (R->name, _("input"), sizeof R->name);
        }
      else
        {
          const PlFeatureStage *st = &data->stages[r - 1];
          guint n_conv = 0, n_pool = 0;

          for (guint i = 0; i < r; i++)
            {
              n_conv += data->stages[i].kind == PL_FEATURE_STAGE_CONV;
              n_pool += data->stages[i].kind == PL_FEATURE_STAGE_POOL;
            }
          *R = (Row) { st->c, st->h, st->w, MIN (st->c, max_ch), stage_maps (data, st), st->filter_mask,
                       data->show_preview ? st->preview_filter_mask : NULL };
          if (st->name != NULL)
            g_strlcpy (R->name, st->name, sizeof R->name);
          else if (st->kind == PL_FEATURE_STAGE_CONV)
            g_snprintf (R->name, sizeof R->name, _("conv %u"), n_conv);
          else
            /* TRANSLATORS: the default name of the i-th max-pool layer in charts */
            g_snprintf (R->name, sizeof R->name, _("pool %u"), n_pool);
        }
      cut |= R->shown < R->c;
      for (guint ch = 0; ch < R->shown; ch++)
        {
          any_dead |= channel_dead (R, ch);
          any_preview |= channel_preview_dead (R, ch);
        }
      /* "6@28×28": channels at height × width, as LeCun et al. 1998 label their figure 2 */
      g_snprintf (R->shape, sizeof R->shape, "%u@%u×%u", R->c, R->h, R->w);
      row_range (R);
      pl_chart_format_number (lo, sizeof lo, R->lo, 0, PL_CHART_NUMBER_PLAIN);
      pl_chart_format_number (hi, sizeof hi, R->hi, 0, PL_CHART_NUMBER_PLAIN);
      /* TRANSLATORS: the value range of one row of maps, "0 … 3.2" */
      g_snprintf (R->range, sizeof R->range, _("%s … %s"), lo, hi);
    }

  if (data->class_name != NULL)
    /* TRANSLATORS: the note of the feature-maps chart; %s is the image's class, "Ankle boot" */
    g_snprintf (M->note, sizeof M->note, _("an image of class “%s” · each row scaled from its lowest to its highest value"),
                data->class_name);
  else
    g_strlcpy (M->note, _("each row scaled from its lowest to its highest value"), sizeof M->note);
  if (data->show_preview)
    g_strlcat (M->note, _(" · with the preview mask"), sizeof M->note);
  if (cut)
    {
      char more[96];

      g_snprintf (more, sizeof more, _(" · the first %u channels of each row"), max_ch);
      g_strlcat (M->note, more, sizeof M->note);
    }
  M->frame.note = M->note;
  pl_chart_sequential (0, &M->legend[n_legend].colour);
  M->legend[n_legend].label = _("low");
  M->legend[n_legend++].kind = PL_LEGEND_SWATCH;
  pl_chart_sequential (1, &M->legend[n_legend].colour);
  M->legend[n_legend].label = _("high");
  M->legend[n_legend++].kind = PL_LEGEND_SWATCH;
  if (any_dead)
    M->legend[n_legend++] = (PlLegendItem) { _("dead channel"), s->foreground, PL_LEGEND_CROSS };
  if (any_preview)
    M->legend[n_legend++] = (PlLegendItem) { _("channel the preview removes"), s->series[2], PL_LEGEND_CROSS };
  M->frame.legend = M->legend;
  M->frame.n_legend = n_legend;

  top = _pl_frame_header (c, &M->frame, 0, 0, c->width, &M->layout);
  line_label = _pl_text_line_height (c, PL_TEXT_LABEL);
  line_tick = _pl_text_line_height (c, PL_TEXT_TICK);
  for (guint r = 0; r < M->n_rows; r++)
    {
      double w;

      _pl_text_size (c, PL_TEXT_LABEL, M->rows[r].name, 0, &w, NULL);
      label_w = MAX (label_w, w);
      _pl_text_size (c, PL_TEXT_TICK, M->rows[r].shape, 0, &w, NULL);
      label_w = MAX (label_w, w);
      _pl_text_size (c, PL_TEXT_TICK, M->rows[r].range, 0, &w, NULL);
      label_w = MAX (label_w, w);
    }
  M->label_x = s->padding;
  M->x0 = s->padding + label_w + s->font_size;
  avail_w = c->width - M->x0 - s->padding;
  row_gap = s->font_size * 0.6;
  avail_h = c->height - top - s->padding - row_gap * (M->n_rows - 1);
  if (avail_w < 10 || avail_h < 10 * M->n_rows)
    return FALSE;
  row_h = avail_h / M->n_rows;
  for (guint r = 0; r < M->n_rows; r++)
    {
      Row *R = &M->rows[r];
      double aspect = (double) R->w / R->h;

      /* tiles as large as the row allows; a tenth of a tile between them */
      R->tile = MIN (MIN (row_h, MAX_TILE), avail_w / (R->shown * 1.1 - 0.1) / aspect);
      R->gap = R->tile * aspect * 0.1;
      /* the labels need their three lines */
      R->y = top + r * (row_h + row_gap) + MAX (0, (row_h - MAX (R->tile, line_label + 2 * line_tick)) / 2);
      if (!(R->tile > 1))
        return FALSE;
    }
  return TRUE;
}

/* A tile's rectangle: width from the map's aspect, height R->tile. */
static void
tile_rect (const Maps *M,
           const Row  *R,
           guint       ch,
           double     *x,
           double     *y,
           double     *w,
           double     *h)
{
  double tw = R->tile * R->w / R->h;

  *x = M->x0 + ch * (tw + R->gap);
  *y = R->y;
  *w = tw;
  *h = R->tile;
}

gboolean
pl_chart_feature_maps_tile_rect (cairo_t                 *cr,
                                 double                   width,
                                 double                   height,
                                 const PlFeatureMapsData *data,
                                 const PlChartStyle      *style,
                                 guint                    row,
                                 guint                    channel,
                                 double                  *x,
                                 double                  *y,
                                 double                  *tile_width,
                                 double                  *tile_height)
{
  PlCanvas c;
  Maps M;
  gboolean ok;

  g_return_val_if_fail (cr != NULL && style != NULL, FALSE);

  if (pl_chart_feature_maps_empty_message (data) != NULL || row > data->n_stages)
    return FALSE;
  _pl_canvas_init (&c, cr, width, height, style);
  ok = maps_layout (&c, data, &M);
  _pl_canvas_clear (&c);
  if (!ok || channel >= M.rows[row].shown)
    return FALSE;
  tile_rect (&M, &M.rows[row], channel, x, y, tile_width, tile_height);
  return TRUE;
}

gboolean
pl_chart_feature_maps_hit (cairo_t                 *cr,
                           double                   width,
                           double                   height,
                           const PlFeatureMapsData *data,
                           const PlChartStyle      *style,
                           double                   px,
                           double                   py,
                           guint                   *row,
                           guint                   *channel,
                           guint                   *y,
                           guint                   *x)
{
  PlCanvas c;
  Maps M;
  gboolean ok;

  g_return_val_if_fail (cr != NULL && style != NULL, FALSE);

  if (pl_chart_feature_maps_empty_message (data) != NULL)
    return FALSE;
  _pl_canvas_init (&c, cr, width, height, style);
  ok = maps_layout (&c, data, &M);
  _pl_canvas_clear (&c);
  if (!ok)
    return FALSE;
  for (guint r = 0; r < M.n_rows; r++)
    for (guint ch = 0; ch < M.rows[r].shown; ch++)
      {
        const Row *R = &M.rows[r];
        double tx, ty, tw, th;

        tile_rect (&M, R, ch, &tx, &ty, &tw, &th);
        if (px < tx || py < ty || px >= tx + tw || py >= ty + th)
          continue;
        *row = r;
        *channel = ch;
        *x = MIN ((guint) ((px - tx) / tw * R->w), R->w - 1);
        *y = MIN ((guint) ((py - ty) / th * R->h), R->h - 1);
        return TRUE;
      }
  return FALSE;
}

/* One row's maps side by side in one image, one pixel per map pixel and a gap column of
 * transparent pixels between maps, so the image scales as the tiles do. */
static void
draw_row (PlCanvas   *c,
          const Maps *M,
          const Row  *R)
{
  cairo_t *cr = c->cr;
  const PlChartStyle *s = c->style;
  const guint32 *lut = pl_chart_sequential_lut ();
  gsize plane = (gsize) R->h * R->w;
  double scale = R->hi > R->lo ? 255.0 / (R->hi - R->lo) : 0;

  for (guint ch = 0; ch < R->shown; ch++)
    {
      double x, y, w, h;
      cairo_surface_t *image;
      guint32 *pixels;
      int stride;

      tile_rect (M, R, ch, &x, &y, &w, &h);
      if (channel_dead (R, ch))
        {
          PlRgba dim = s->dead;

          dim.a = 0.35;
          pl_chart_set_source (cr, &dim);
          cairo_rectangle (cr, x, y, w, h);
          cairo_fill (cr);
        }
      else if ((image = _pl_image_new ((int) R->w, (int) R->h, &pixels, &stride)) != NULL)
        {
          for (guint py = 0; py < R->h; py++)
            for (guint px = 0; px < R->w; px++)
              {
                double v = (R->maps[ch * plane + (gsize) py * R->w + px] - R->lo) * scale;

                /* NaN lands on the lowest colour */
                pixels[(gsize) py * stride + px] = lut[v > 0 ? (int) MIN (v, 255.0) : 0];
              }
          cairo_surface_mark_dirty (image);
          _pl_paint_image (cr, image, x, y, w, h);
          cairo_surface_destroy (image);
        }
      if (channel_dead (R, ch) || channel_preview_dead (R, ch))
        {
          cairo_save (cr);
          pl_chart_set_source (cr, channel_dead (R, ch) ? &s->foreground : &s->series[2]);
          cairo_set_line_width (cr, MAX (1.5, MIN (s->line_width, w * 0.06)));
          cairo_move_to (cr, x, y);
          cairo_line_to (cr, x + w, y + h);
          cairo_move_to (cr, x + w, y);
          cairo_line_to (cr, x, y + h);
          cairo_stroke (cr);
          cairo_restore (cr);
        }
    }
}

void
pl_chart_draw_feature_maps (cairo_t                 *cr,
                            double                   width,
                            double                   height,
                            const PlFeatureMapsData *data,
                            const PlChartStyle      *style)
{
  const char *empty = pl_chart_feature_maps_empty_message (data);
  PlCanvas c;
  Maps M;
  double line_label, line_tick;

  g_return_if_fail (cr != NULL && style != NULL);

  if (!_pl_draw_begin (&c, cr, width, height, style, data != NULL ? data->title : NULL, empty))
    return;
  if (!maps_layout (&c, data, &M))
    {
      _pl_draw_too_small (&c);
      return;
    }
  line_label = _pl_text_line_height (&c, PL_TEXT_LABEL);
  line_tick = _pl_text_line_height (&c, PL_TEXT_TICK);
  for (guint r = 0; r < M.n_rows; r++)
    {
      const Row *R = &M.rows[r];
      double mid = R->y + R->tile / 2 - (line_label + 2 * line_tick) / 2;

      mid = MAX (mid, R->y);
      draw_row (&c, &M, R);
      _pl_text_draw (&c, PL_TEXT_LABEL, R->name, M.label_x, mid, 0, 0, 0, FALSE, &style->foreground);
      _pl_text_draw (&c, PL_TEXT_TICK, R->shape, M.label_x, mid + line_label, 0, 0, 0, FALSE, &style->muted);
      _pl_text_draw (&c, PL_TEXT_TICK, R->range, M.label_x, mid + line_label + line_tick, 0, 0, 0, FALSE,
                     &style->muted);
    }
  _pl_frame_draw_header (&c, &M.frame, &M.layout);
  _pl_draw_end (&c);
}

static void
write_maps (GString     *csv,
            guint        stage,
            guint        c,
            guint        h,
            guint        w,
            const float *maps)
{
  for (guint ch = 0; ch < c; ch++)
    for (guint y = 0; y < h; y++)
      for (guint x = 0; x < w; x++)
        {
          g_string_append_printf (csv, "%u,%u,%u,%u,", stage, ch, y, x);
          _pl_csv_float (csv, maps[((gsize) ch * h + y) * w + x]);
          g_string_append_c (csv, '\n');
        }
}

void
pl_chart_feature_maps_write_csv (const PlFeatureMapsData *data,
                                 GString                 *csv)
{
  g_string_append (csv, "stage,channel,y,x,value\n");
  if (pl_chart_feature_maps_empty_message (data) != NULL)
    return;
  write_maps (csv, 0, data->c, data->h, data->w, data->image);
  for (guint i = 0; i < data->n_stages; i++)
    {
      const PlFeatureStage *st = &data->stages[i];

      write_maps (csv, i + 1, st->c, st->h, st->w, stage_maps (data, st));
    }
}
