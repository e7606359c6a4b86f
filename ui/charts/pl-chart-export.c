/* pl-chart-export.c — charts into PNG (with their DPI), SVG and PDF; CSV */
#define G_LOG_DOMAIN "pl-chart"

#include "config.h"

#include <cairo-pdf.h>
#include <cairo-svg.h>
#include <glib/gi18n-lib.h>
#include <math.h>
#include <string.h>

#include "pl-chart-export.h"
#include "pl-file.h"

/* The logical unit of the renderers: CSS / GTK pixels. */
#define LOGICAL_DPI 96.0

static const guint8 png_signature[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };

/* ----- CRC-32 (ISO 3309 / ITU-T V.42, as the PNG specification gives it) ----- */

static guint32 crc_table[256];

static void
make_crc_table (void)
{
  for (guint32 n = 0; n < 256; n++)
    {
      guint32 c = n;

      for (int k = 0; k < 8; k++)
        c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      crc_table[n] = c;
    }
}

guint32
pl_crc32 (guint32       crc,
          const guint8 *data,
          gsize         size)
{
  static gsize table_ready = 0;
  guint32 c = crc ^ 0xFFFFFFFFu;

  if (g_once_init_enter (&table_ready))
    {
      make_crc_table ();
      g_once_init_leave (&table_ready, 1);
    }
  for (gsize i = 0; i < size; i++)
    c = crc_table[(c ^ data[i]) & 0xff] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

static guint32
read_be32 (const guint8 *p)
{
  return (guint32) p[0] << 24 | (guint32) p[1] << 16 | (guint32) p[2] << 8 | p[3];
}

static void
write_be32 (guint8  *p,
            guint32  v)
{
  p[0] = v >> 24;
  p[1] = v >> 16;
  p[2] = v >> 8;
  p[3] = v;
}

/* ----- PNG chunks ----- */

gboolean
pl_png_get_info (const guint8 *data,
                 gsize         size,
                 guint        *width,
                 guint        *height,
                 double       *dpi)
{
  gsize at = sizeof png_signature;
  gboolean have_ihdr = FALSE;

  if (width != NULL)
    *width = 0;
  if (height != NULL)
    *height = 0;
  if (dpi != NULL)
    *dpi = 0;
  if (data == NULL || size < at || memcmp (data, png_signature, at) != 0)
    return FALSE;

  while (at + 12 <= size)
    {
      guint32 len = read_be32 (data + at);
      const guint8 *type = data + at + 4;
      const guint8 *body = data + at + 8;

      if (len > size - at - 12)
        return FALSE;
      /* Check every chunk's CRC: the pHYs written here must agree with libpng's IHDR. */
      if (pl_crc32 (0, type, 4 + (gsize) len) != read_be32 (body + len))
        return FALSE;
      if (memcmp (type, "IHDR", 4) == 0 && len == 13)
        {
          have_ihdr = TRUE;
          if (width != NULL)
            *width = read_be32 (body);
          if (height != NULL)
            *height = read_be32 (body + 4);
        }
      else if (memcmp (type, "pHYs", 4) == 0 && len == 9 && body[8] == 1 && dpi != NULL)
        *dpi = read_be32 (body) * 0.0254;   /* pixels per metre → per inch */
      else if (memcmp (type, "IEND", 4) == 0)
        break;
      at += 12 + (gsize) len;
    }
  return have_ihdr;
}

GBytes *
pl_png_set_dpi (GBytes  *png,
                double   dpi,
                GError **error)
{
  gsize size;
  const guint8 *data = g_bytes_get_data (png, &size);
  g_autoptr(GByteArray) out = NULL;
  gsize at = sizeof png_signature;
  guint8 phys[4 + 4 + 9 + 4];
  guint32 ppm;

  g_return_val_if_fail (png != NULL, NULL);

  if (size < at + 25 || memcmp (data, png_signature, at) != 0 || memcmp (data + at + 4, "IHDR", 4) != 0)
    {
      g_set_error (error, PL_CHART_ERROR, PL_CHART_ERROR_FAILED, _("the PNG encoder wrote no IHDR chunk"));
      return NULL;
    }
  if (!(dpi >= PL_CHART_MIN_DPI && dpi <= PL_CHART_MAX_DPI))
    {
      g_set_error (error, PL_CHART_ERROR, PL_CHART_ERROR_INVALID,
                   _("%g DPI is out of range (%g to %g)"), dpi, PL_CHART_MIN_DPI, PL_CHART_MAX_DPI);
      return NULL;
    }

  /* pHYs: pixels per unit in x and y, unit 1 = the metre (PNG 1.2, section 4.2.4.2). */
  ppm = (guint32) lround (dpi / 0.0254);
  write_be32 (phys, 9);
  memcpy (phys + 4, "pHYs", 4);
  write_be32 (phys + 8, ppm);
  write_be32 (phys + 12, ppm);
  phys[16] = 1;
  write_be32 (phys + 17, pl_crc32 (0, phys + 4, 4 + 9));

  out = g_byte_array_sized_new (size + sizeof phys);
  g_byte_array_append (out, data, at);
  while (at + 12 <= size)
    {
      guint32 len = read_be32 (data + at);
      gsize chunk;

      if (len > size - at - 12)
        break;
      chunk = 12 + (gsize) len;
      /* Keep every chunk but an old pHYs; ours goes right after IHDR (it must precede IDAT). */
      if (memcmp (data + at + 4, "pHYs", 4) != 0)
        g_byte_array_append (out, data + at, chunk);
      if (memcmp (data + at + 4, "IHDR", 4) == 0)
        g_byte_array_append (out, phys, sizeof phys);
      at += chunk;
    }
  return g_byte_array_free_to_bytes (g_steal_pointer (&out));
}

/* ----- rendering ----- */

gboolean
pl_chart_format_from_path (const char     *path,
                           PlChartFormat  *format,
                           GError        **error)
{
  const char *dot;
  g_autofree char *ext = NULL;

  g_return_val_if_fail (path != NULL && format != NULL, FALSE);

  dot = strrchr (path, '.');
  if (dot != NULL && strchr (dot, G_DIR_SEPARATOR) == NULL)
    ext = g_ascii_strdown (dot + 1, -1);
  if (ext != NULL && strcmp (ext, "png") == 0)
    *format = PL_CHART_FORMAT_PNG;
  else if (ext != NULL && strcmp (ext, "svg") == 0)
    *format = PL_CHART_FORMAT_SVG;
  else if (ext != NULL && strcmp (ext, "pdf") == 0)
    *format = PL_CHART_FORMAT_PDF;
  else
    {
      g_set_error (error, PL_CHART_ERROR, PL_CHART_ERROR_INVALID,
                   _("“%s”: the file name must end in .png, .svg or .pdf"), path);
      return FALSE;
    }
  return TRUE;
}

const char *
pl_chart_format_to_string (PlChartFormat format)
{
  switch (format)
    {
    case PL_CHART_FORMAT_SVG:
      return "svg";
    case PL_CHART_FORMAT_PDF:
      return "pdf";
    case PL_CHART_FORMAT_PNG:
    default:
      return "png";
    }
}

static cairo_status_t
append_cb (void                *closure,
           const unsigned char *data,
           unsigned int         length)
{
  g_byte_array_append (closure, data, length);
  return CAIRO_STATUS_SUCCESS;
}

static gboolean
check_status (cairo_status_t   status,
              GError         **error)
{
  if (status == CAIRO_STATUS_SUCCESS)
    return TRUE;
  g_set_error (error, PL_CHART_ERROR, PL_CHART_ERROR_FAILED, _("cairo could not draw the chart: %s"),
               cairo_status_to_string (status));
  return FALSE;
}

/* Draws the chart on @surface scaled from logical pixels by @scale. */
static gboolean
draw_on (cairo_surface_t    *surface,
         const PlChart      *chart,
         const PlChartStyle *style,
         double              scale,
         double              logical_w,
         double              logical_h,
         GError            **error)
{
  cairo_t *cr = cairo_create (surface);
  cairo_status_t status;

  cairo_scale (cr, scale, scale);
  pl_chart_draw (cr, logical_w, logical_h, chart, style);
  status = cairo_status (cr);
  cairo_destroy (cr);
  if (status == CAIRO_STATUS_SUCCESS)
    status = cairo_surface_status (surface);
  return check_status (status, error);
}

GBytes *
pl_chart_render (const PlChart      *chart,
                 const PlChartStyle *style,
                 PlChartFormat       format,
                 guint               width,
                 guint               height,
                 double              dpi,
                 GError            **error)
{
  g_autoptr(GByteArray) bytes = g_byte_array_new ();
  cairo_surface_t *surface;
  double logical_w, logical_h;
  cairo_status_t status;

  g_return_val_if_fail (chart != NULL && style != NULL, NULL);

  if (width < 1 || height < 1 || width > PL_CHART_MAX_PIXELS || height > PL_CHART_MAX_PIXELS)
    {
      g_set_error (error, PL_CHART_ERROR, PL_CHART_ERROR_INVALID,
                   _("%u × %u pixels is out of range (1 to %u on each side)"), width, height, PL_CHART_MAX_PIXELS);
      return NULL;
    }
  if (!(dpi >= PL_CHART_MIN_DPI && dpi <= PL_CHART_MAX_DPI))
    {
      g_set_error (error, PL_CHART_ERROR, PL_CHART_ERROR_INVALID,
                   _("%g DPI is out of range (%g to %g)"), dpi, PL_CHART_MIN_DPI, PL_CHART_MAX_DPI);
      return NULL;
    }
  logical_w = width * LOGICAL_DPI / dpi;
  logical_h = height * LOGICAL_DPI / dpi;

  switch (format)
    {
    case PL_CHART_FORMAT_SVG:
      surface = cairo_svg_surface_create_for_stream (append_cb, bytes, width * 72.0 / dpi, height * 72.0 / dpi);
      cairo_svg_surface_set_document_unit (surface, CAIRO_SVG_UNIT_PT);
      if (!draw_on (surface, chart, style, 72.0 / LOGICAL_DPI, logical_w, logical_h, error))
        {
          cairo_surface_destroy (surface);
          return NULL;
        }
      cairo_surface_finish (surface);
      status = cairo_surface_status (surface);
      cairo_surface_destroy (surface);
      if (!check_status (status, error))
        return NULL;
      return g_byte_array_free_to_bytes (g_steal_pointer (&bytes));

    case PL_CHART_FORMAT_PDF:
      surface = cairo_pdf_surface_create_for_stream (append_cb, bytes, width * 72.0 / dpi, height * 72.0 / dpi);
      cairo_pdf_surface_set_metadata (surface, CAIRO_PDF_METADATA_CREATOR, "PruneLab " PACKAGE_VERSION);
      if (!draw_on (surface, chart, style, 72.0 / LOGICAL_DPI, logical_w, logical_h, error))
        {
          cairo_surface_destroy (surface);
          return NULL;
        }
      cairo_surface_finish (surface);
      status = cairo_surface_status (surface);
      cairo_surface_destroy (surface);
      if (!check_status (status, error))
        return NULL;
      return g_byte_array_free_to_bytes (g_steal_pointer (&bytes));

    case PL_CHART_FORMAT_PNG:
    default:
      {
        g_autoptr(GBytes) png = NULL;

        surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, (int) width, (int) height);
        if (!check_status (cairo_surface_status (surface), error)
            || !draw_on (surface, chart, style, dpi / LOGICAL_DPI, logical_w, logical_h, error))
          {
            cairo_surface_destroy (surface);
            return NULL;
          }
        status = cairo_surface_write_to_png_stream (surface, append_cb, bytes);
        cairo_surface_destroy (surface);
        if (!check_status (status, error))
          return NULL;
        png = g_byte_array_free_to_bytes (g_steal_pointer (&bytes));
        /* cairo writes no resolution; pHYs carries the DPI. */
        return pl_png_set_dpi (png, dpi, error);
      }
    }
}

gboolean
pl_chart_export (const PlChart      *chart,
                 const PlChartStyle *style,
                 const char         *path,
                 PlChartFormat       format,
                 guint               width,
                 guint               height,
                 double              dpi,
                 GError            **error)
{
  g_autoptr(GBytes) bytes = NULL;

  g_return_val_if_fail (chart != NULL && style != NULL && path != NULL, FALSE);

  bytes = pl_chart_render (chart, style, format, width, height, dpi, error);
  if (bytes == NULL)
    {
      g_prefix_error (error, "“%s”: ", path);
      return FALSE;
    }
  return pl_file_save (path, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), error);
}

gboolean
pl_chart_export_csv (const PlChart  *chart,
                     const char     *path,
                     GError        **error)
{
  g_autofree char *csv = NULL;

  g_return_val_if_fail (chart != NULL && path != NULL, FALSE);

  csv = pl_chart_to_csv (chart);
  return pl_file_save (path, csv, strlen (csv), error);
}
