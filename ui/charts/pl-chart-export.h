/* pl-chart-export.h — charts into PNG, SVG and PDF files and their data into CSV
 *
 * Size rule: a chart exported at W × H pixels and D dots per inch is W/D × H/D inches. It is
 * laid out on a canvas of W·96/D × H·96/D logical pixels (the GUI's unit, 1/96 inch), so
 * text keeps its physical size: at 96 DPI the PNG is what the screen shows, at 300 DPI the same
 * pixels make a smaller, sharper figure for print. The PNG holds W × H pixels and a pHYs chunk
 * with D; SVG and PDF pages are W·72/D × H·72/D points, the same physical size and layout.
 *
 * Files are saved with pl_file_save() (pl-file.h): atomically, and a failure leaves the old file
 * as it was and names the file.
 */
#pragma once

#include <glib.h>

#include "pl-chart.h"

G_BEGIN_DECLS

typedef enum {
  PL_CHART_FORMAT_PNG,
  PL_CHART_FORMAT_SVG,
  PL_CHART_FORMAT_PDF,
} PlChartFormat;

#define PL_CHART_MAX_PIXELS 16384
#define PL_CHART_MIN_DPI    24.0
#define PL_CHART_MAX_DPI    2400.0

/* From the file name's extension (.png, .svg, .pdf; any case). */
gboolean     pl_chart_format_from_path  (const char         *path,
                                         PlChartFormat      *format,
                                         GError            **error);
const char  *pl_chart_format_to_string  (PlChartFormat       format);

/* The file's bytes, in memory (for a clipboard or a test). (transfer full) */
GBytes      *pl_chart_render            (const PlChart      *chart,
                                         const PlChartStyle *style,
                                         PlChartFormat       format,
                                         guint               width,
                                         guint               height,
                                         double              dpi,
                                         GError            **error);
gboolean     pl_chart_export            (const PlChart      *chart,
                                         const PlChartStyle *style,
                                         const char         *path,
                                         PlChartFormat       format,
                                         guint               width,
                                         guint               height,
                                         double              dpi,
                                         GError            **error);
gboolean     pl_chart_export_csv        (const PlChart      *chart,
                                         const char         *path,
                                         GError            **error);

/* PNG chunks: the size from IHDR and the resolution from pHYs (0 when there is none, or its
 * unit is not the metre). FALSE for data that is not a PNG. */
gboolean     pl_png_get_info            (const guint8       *data,
                                         gsize               size,
                                         guint              *width,
                                         guint              *height,
                                         double             *dpi);
/* A copy of @png with a pHYs chunk for @dpi right after IHDR (an existing one is replaced).
 * (transfer full) */
GBytes      *pl_png_set_dpi             (GBytes             *png,
                                         double              dpi,
                                         GError            **error);
/* CRC-32 as PNG, zlib and gzip use it (ISO 3309, polynomial 0xEDB88320), continued from @crc
 * (0 to start). */
guint32      pl_crc32                   (guint32             crc,
                                         const guint8       *data,
                                         gsize               size);

G_END_DECLS
