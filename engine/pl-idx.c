#define G_LOG_DOMAIN "pl-idx"

#include "config.h"

#include "pl-dataset.h"

#include <string.h>

#include <gio/gio.h>
#include <glib/gi18n-lib.h>

#include "pl-error.h"

/* IDX (LeCun's MNIST format): a big-endian header, then the elements in row-major order.
 *
 *   bytes 0–1  zero
 *   byte  2    element type: 0x08 unsigned byte (the only one accepted here)
 *   byte  3    number of dimensions
 *   then one big-endian guint32 per dimension, then the elements.
 *
 * The files may be gzip-compressed (Fashion-MNIST ships them so); gzip is recognised by its
 * magic 1f 8b and inflated through GIO's GZlibDecompressor. Every size is checked before any
 * buffer is allocated; a gzip member that inflates past the promised size is an error too. */

#define IDX_TYPE_UBYTE    0x08
#define IDX_MAX_NDIM      4
#define IDX_MAX_DIM       (16u << 20)              /* 16 Mi entries per dimension */
#define IDX_IMAGES_MAX    ((gsize) 1 << 30)        /* 1 GiB of pixels */
#define IDX_LABELS_MAX    ((gsize) IDX_MAX_DIM)
#define IDX_N_CLASSES     10
#define IDX_FIRST_CHUNK   ((gsize) 8 << 20)        /* first buffer for streams of unknown size */

typedef struct {
  char         *display_name;  /* owned */
  GInputStream *stream;        /* owned: positioned at the first element */
  gboolean      gzip;
  guint         ndim;
  guint32       dims[IDX_MAX_NDIM];
  gsize         n_bytes;       /* elements, one byte each */
  gboolean      size_checked;  /* the file size was known and matches the header */
  gboolean      has_tail;      /* tail holds the file's last 4 bytes */
  guint32       tail;          /* for gzip: ISIZE, the inflated size mod 2^32 */
} IdxFile;

static void
idx_file_clear (IdxFile *f)
{
  g_clear_pointer (&f->display_name, g_free);
  g_clear_object (&f->stream);
}

static inline guint32
read_be32 (const guint8 *p)
{
  return ((guint32) p[0] << 24) | ((guint32) p[1] << 16) | ((guint32) p[2] << 8) | p[3];
}

/* Turns a read failure into a GError naming the file; gzip errors become PL_FORMAT_ERROR. */
static void
set_read_error (GError        **error,
                GError         *local,
                const IdxFile  *f)
{
  if (g_error_matches (local, G_IO_ERROR, G_IO_ERROR_PARTIAL_INPUT))
    g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_TRUNCATED,
                 _("“%s”: the gzip stream ends early: %s"), f->display_name, local->message);
  else if (f->gzip && g_error_matches (local, G_IO_ERROR, G_IO_ERROR_INVALID_DATA))
    g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_FAILED,
                 _("“%s”: corrupt gzip data: %s"), f->display_name, local->message);
  else
    g_set_error (error, local->domain, local->code,
                 _("Could not read “%s”: %s"), f->display_name, local->message);
  g_error_free (local);
}

/* Reads up to @count bytes, fewer only at the end of the stream. */
static gboolean
read_some (IdxFile  *f,
           void     *buf,
           gsize     count,
           gsize    *n_read,
           GError  **error)
{
  GError *local = NULL;

  if (!g_input_stream_read_all (f->stream, buf, count, n_read, NULL, &local))
    {
      set_read_error (error, local, f);
      return FALSE;
    }
  return TRUE;
}

static const char *
type_name (guint code)
{
  switch (code)
    {
    case 0x08: return "unsigned byte";
    case 0x09: return "signed byte";
    case 0x0B: return "int16";
    case 0x0C: return "int32";
    case 0x0D: return "float32";
    case 0x0E: return "float64";
    default:   return "unknown";
    }
}

/* Opens @path, detects gzip, reads and checks the header. On success @f->stream is positioned
 * at the first element and @f->n_bytes holds their count. Allocates nothing large. */
static gboolean
idx_open (IdxFile     *f,
          const char  *path,
          guint        expected_ndim,
          gsize        max_bytes,
          GError     **error)
{
  g_autoptr(GFile) file = NULL;
  g_autoptr(GFileInputStream) fstream = NULL;
  g_autoptr(GFileInfo) info = NULL;
  g_autoptr(GInputStream) buffered = NULL;
  GError *local = NULL;
  guint8 head[4 + 4 * IDX_MAX_NDIM];
  const guint8 *peek;
  gsize avail = 0;
  gsize n_read = 0;
  gsize total = 1;
  goffset file_size = -1;

  memset (f, 0, sizeof *f);
  f->display_name = g_filename_display_name (path);

  file = g_file_new_for_path (path);
  fstream = g_file_read (file, NULL, &local);
  if (fstream == NULL)
    {
      g_propagate_error (error, local);  /* GIO's message names the file */
      return FALSE;
    }

  info = g_file_input_stream_query_info (fstream, G_FILE_ATTRIBUTE_STANDARD_SIZE ","
                                         G_FILE_ATTRIBUTE_STANDARD_TYPE, NULL, NULL);
  if (info != NULL
      && g_file_info_get_file_type (info) == G_FILE_TYPE_REGULAR
      && g_file_info_has_attribute (info, G_FILE_ATTRIBUTE_STANDARD_SIZE))
    file_size = g_file_info_get_size (info);

  /* Keep the last 4 bytes: in a gzip file they record the inflated size, which tells whether
   * anything follows the gzip stream (GConverterInputStream stops at its end silently). Only
   * a copy of the same gzip member appended would pass, and the data read is then whole. */
  if (file_size >= 4 && g_seekable_can_seek (G_SEEKABLE (fstream)))
    {
      guint8 tail[4];
      gsize n_tail = 0;

      if (g_seekable_seek (G_SEEKABLE (fstream), file_size - 4, G_SEEK_SET, NULL, NULL)
          && g_input_stream_read_all (G_INPUT_STREAM (fstream), tail, 4, &n_tail, NULL, NULL)
          && n_tail == 4)
        {
          f->has_tail = TRUE;
          f->tail = (guint32) tail[0] | (guint32) tail[1] << 8 | (guint32) tail[2] << 16
                    | (guint32) tail[3] << 24;
        }
      if (!g_seekable_seek (G_SEEKABLE (fstream), 0, G_SEEK_SET, NULL, &local))
        {
          set_read_error (error, local, f);
          return FALSE;
        }
    }

  buffered = g_buffered_input_stream_new_sized (G_INPUT_STREAM (fstream), 256 * 1024);

  /* Sniff the first two bytes without consuming them. */
  while ((avail = g_buffered_input_stream_get_available (G_BUFFERED_INPUT_STREAM (buffered))) < 2)
    {
      gssize got = g_buffered_input_stream_fill (G_BUFFERED_INPUT_STREAM (buffered), 2 - avail,
                                                 NULL, &local);
      if (got < 0)
        {
          set_read_error (error, local, f);
          return FALSE;
        }
      if (got == 0)
        break;
    }
  peek = g_buffered_input_stream_peek_buffer (G_BUFFERED_INPUT_STREAM (buffered), &avail);

  if (avail >= 2 && peek[0] == 0x1f && peek[1] == 0x8b)
    {
      g_autoptr(GZlibDecompressor) z = g_zlib_decompressor_new (G_ZLIB_COMPRESSOR_FORMAT_GZIP);

      f->gzip = TRUE;
      f->stream = g_converter_input_stream_new (buffered, G_CONVERTER (z));
    }
  else
    {
      f->stream = g_steal_pointer (&buffered);
    }

  if (!read_some (f, head, 4, &n_read, error))
    return FALSE;
  if (n_read < 4)
    {
      if (n_read == 0 && !f->gzip)
        g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_TRUNCATED,
                     _("“%s” is empty"), f->display_name);
      else
        g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_TRUNCATED,
                     _("“%s”: the IDX header is cut short (%zu of 4 bytes)"),
                     f->display_name, n_read);
      return FALSE;
    }

  if (head[0] != 0 || head[1] != 0)
    {
      g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_BAD_MAGIC,
                   _("“%s” is not an IDX file (magic 0x%08x; expected 0x0000080N)"),
                   f->display_name, read_be32 (head));
      return FALSE;
    }
  if (head[2] != IDX_TYPE_UBYTE)
    {
      g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_BAD_DTYPE,
                   _("“%s”: IDX element type 0x%02x (%s) is not supported; only 0x08 "
                     "(unsigned byte) is"),
                   f->display_name, head[2], type_name (head[2]));
      return FALSE;
    }
  f->ndim = head[3];
  if (f->ndim == 0 || f->ndim > IDX_MAX_NDIM)
    {
      g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_BAD_SHAPE,
                   _("“%s”: IDX header declares %u dimensions (1 to %u are supported)"),
                   f->display_name, f->ndim, IDX_MAX_NDIM);
      return FALSE;
    }
  if (expected_ndim != 0 && f->ndim != expected_ndim)
    {
      g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_BAD_SHAPE,
                   _("“%s”: IDX magic 0x%08x declares %u dimensions, expected %u "
                     "(0x%08x)"),
                   f->display_name, read_be32 (head), f->ndim, expected_ndim,
                   0x0800u | expected_ndim);
      return FALSE;
    }

  if (!read_some (f, head + 4, 4 * f->ndim, &n_read, error))
    return FALSE;
  if (n_read < 4 * f->ndim)
    {
      g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_TRUNCATED,
                   _("“%s”: the IDX header is cut short (%zu of %u bytes)"),
                   f->display_name, 4 + n_read, 4 + 4 * f->ndim);
      return FALSE;
    }

  for (guint i = 0; i < f->ndim; i++)
    {
      guint32 d = read_be32 (head + 4 + 4 * i);

      if (d == 0)
        {
          g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_BAD_SHAPE,
                       _("“%s”: IDX dimension %u is zero"), f->display_name, i);
          return FALSE;
        }
      if (d > IDX_MAX_DIM)
        {
          g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_TOO_LARGE,
                       _("“%s”: IDX dimension %u is %u, more than the limit of %u"),
                       f->display_name, i, d, IDX_MAX_DIM);
          return FALSE;
        }
      f->dims[i] = d;
      if (!g_size_checked_mul (&total, total, d) || total > max_bytes)
        {
          g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_TOO_LARGE,
                       _("“%s”: the IDX dimensions promise more than %zu bytes"),
                       f->display_name, max_bytes);
          return FALSE;
        }
    }
  f->n_bytes = total;

  /* A plain file's size tells truncation and trailing bytes before anything is allocated. */
  if (!f->gzip && file_size >= 0)
    {
      guint64 want = 4 + 4 * (guint64) f->ndim + total;

      if ((guint64) file_size < want)
        {
          g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_TRUNCATED,
                       _("“%s” is truncated: the header promises %llu bytes, the file has %llu"),
                       f->display_name, (unsigned long long) want, (unsigned long long) file_size);
          return FALSE;
        }
      if ((guint64) file_size > want)
        {
          g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_BAD_SHAPE,
                       _("“%s” is longer than its header promises (%llu bytes, not %llu)"),
                       f->display_name, (unsigned long long) file_size, (unsigned long long) want);
          return FALSE;
        }
      f->size_checked = TRUE;
    }

  return TRUE;
}

/* Reads the elements of an opened file: exactly n_bytes, then requires the end of the data.
 * The buffer grows with the data actually read, so a small file with a lying header cannot
 * make us allocate its promise. (transfer full) */
static GBytes *
idx_read_payload (IdxFile  *f,
                  GError  **error)
{
  g_autofree guint8 *buf = NULL;
  gsize cap = f->size_checked ? f->n_bytes : MIN (f->n_bytes, IDX_FIRST_CHUNK);
  gsize got = 0;
  guint8 extra[64];
  gsize n_extra = 0;

  buf = g_malloc (cap);
  while (got < f->n_bytes)
    {
      gsize n_read = 0;
      gsize want;

      if (got == cap)
        {
          cap = (cap > f->n_bytes / 2) ? f->n_bytes : cap * 2;
          buf = g_realloc (buf, cap);
        }
      want = cap - got;
      if (!read_some (f, buf + got, want, &n_read, error))
        return NULL;
      got += n_read;
      if (n_read < want)  /* a short read_all means the end of the stream */
        break;
    }

  if (got < f->n_bytes)
    {
      g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_TRUNCATED,
                   _("“%s” is truncated: the header promises %zu elements, the file holds "
                     "%zu"),
                   f->display_name, f->n_bytes, got);
      return NULL;
    }

  if (!read_some (f, extra, sizeof extra, &n_extra, error))
    return NULL;
  if (n_extra > 0)
    {
      g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_BAD_SHAPE,
                   _("“%s” holds more than the %zu elements its header promises"),
                   f->display_name, f->n_bytes);
      return NULL;
    }
  if (f->gzip && f->has_tail && f->tail != (guint32) (4 + 4 * f->ndim + f->n_bytes))
    {
      g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_BAD_SHAPE,
                   _("“%s” has data after the end of its gzip stream"), f->display_name);
      return NULL;
    }

  return g_bytes_new_take (g_steal_pointer (&buf), f->n_bytes);
}

GBytes *
pl_idx_read_file (const char  *path,
                  guint        expected_ndim,
                  guint32     *dims,
                  gsize        max_bytes,
                  GError     **error)
{
  IdxFile f;
  GBytes *bytes;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (expected_ndim <= IDX_MAX_NDIM, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!idx_open (&f, path, expected_ndim, max_bytes, error))
    {
      idx_file_clear (&f);
      return NULL;
    }
  bytes = idx_read_payload (&f, error);
  if (bytes != NULL && dims != NULL)
    {
      for (guint i = 0; i < IDX_MAX_NDIM; i++)
        dims[i] = i < f.ndim ? f.dims[i] : 0;
    }
  idx_file_clear (&f);

  return bytes;
}

PlDataset *
pl_idx_read_images (const char  *images_path,
                    const char  *labels_path,
                    guint       *width,
                    guint       *height,
                    GError     **error)
{
  IdxFile images, labels;
  g_autoptr(GBytes) image_bytes = NULL;
  g_autoptr(GBytes) label_bytes = NULL;
  g_autoptr(PlDataset) data = NULL;
  const guint8 *px;
  const guint8 *lab;
  gsize n_px;
  gboolean ok = FALSE;

  g_return_val_if_fail (images_path != NULL, NULL);
  g_return_val_if_fail (labels_path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  memset (&images, 0, sizeof images);
  memset (&labels, 0, sizeof labels);

  /* Both headers first: a mismatch is reported before either file's data is read. */
  if (!idx_open (&images, images_path, 3, IDX_IMAGES_MAX, error)
      || !idx_open (&labels, labels_path, 1, IDX_LABELS_MAX, error))
    goto out;

  if (images.dims[0] != labels.dims[0])
    {
      g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_MISMATCH,
                   _("“%s” holds %u images but “%s” holds %u labels"),
                   images.display_name, images.dims[0], labels.display_name,
                   labels.dims[0]);
      goto out;
    }

  label_bytes = idx_read_payload (&labels, error);
  if (label_bytes == NULL)
    goto out;
  lab = g_bytes_get_data (label_bytes, NULL);
  for (gsize i = 0; i < labels.n_bytes; i++)
    {
      if (lab[i] >= IDX_N_CLASSES)
        {
          g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_BAD_LABEL,
                       _("“%s”: label %u of sample %zu is outside 0–%u"),
                       labels.display_name, lab[i], i, IDX_N_CLASSES - 1);
          goto out;
        }
    }

  image_bytes = idx_read_payload (&images, error);
  if (image_bytes == NULL)
    goto out;
  px = g_bytes_get_data (image_bytes, &n_px);

  /* dims ≤ 16 Mi each and their product ≤ 1 GiB, so the feature count fits a guint. */
  data = pl_dataset_new (images.dims[0], images.dims[1] * images.dims[2], IDX_N_CLASSES);
  for (gsize i = 0; i < n_px; i++)
    data->x[i] = px[i] / 255.0f;
  for (gsize i = 0; i < labels.n_bytes; i++)
    data->y[i] = lab[i];

  if (width != NULL)
    *width = images.dims[2];
  if (height != NULL)
    *height = images.dims[1];
  ok = TRUE;

out:
  idx_file_clear (&images);
  idx_file_clear (&labels);

  return ok ? g_steal_pointer (&data) : NULL;
}

PlDataset *
pl_idx_read (const char  *images_path,
             const char  *labels_path,
             GError     **error)
{
  return pl_idx_read_images (images_path, labels_path, NULL, NULL, error);
}
