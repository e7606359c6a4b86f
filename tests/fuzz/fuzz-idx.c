#define G_LOG_DOMAIN "fuzz-idx"

#include "config.h"

#include <string.h>

#include "pl-dataset.h"
#include "pl-error.h"
#include "pl-fuzz.h"

/* The IDX reader, pl_idx_read_images (), given an images file and a labels file by path, as
 * load_idx () gives it the files of a dataset folder (raw or gzip, told apart by magic).
 *
 * Input: byte 0 flags, bytes 1–2 the labels file's length L (big-endian), L bytes of labels
 * file, the rest the images file. Flag bit 0 gzips the images file, bit 1 the labels file: the
 * harness compresses, so the fuzzer's edits reach the IDX header through the gzip path. A part
 * that is itself gzip (1f 8b) is written as it is, which explores cut and corrupt streams.
 *
 * Checked: a rejection is a PL_FORMAT_ERROR naming one of the files. When the harness knows the
 * decompressed bytes, an independent decoding of the format (below) says whether the pair is
 * valid: the reader must then succeed and return exactly those pixels / 255 and labels, and
 * must fail otherwise. */

#define FLAG_GZIP_IMAGES 0x01
#define FLAG_GZIP_LABELS 0x02

static guint32
be32 (const guint8 *p)
{
  return ((guint32) p[0] << 24) | ((guint32) p[1] << 16) | ((guint32) p[2] << 8) | p[3];
}

/* LeCun's IDX layout, decoded by hand: 0 0 0x08 ndim, ndim big-endian sizes, the bytes. The
 * reader's limits (16 Mi per dimension, 1 GiB in all) are far beyond a fuzzer's inputs. */
static gboolean
decode_idx (const guint8 *p,
            gsize         len,
            guint         ndim,
            guint32      *dims)
{
  guint64 total = 1;

  if (len < 4 + 4 * ndim || p[0] != 0 || p[1] != 0 || p[2] != 0x08 || p[3] != ndim)
    return FALSE;
  for (guint i = 0; i < ndim; i++)
    {
      dims[i] = be32 (p + 4 + 4 * i);
      if (dims[i] == 0 || dims[i] > (16u << 20))
        return FALSE;
      total *= dims[i];
      if (total > ((guint64) 1 << 30))
        return FALSE;
    }
  return len == 4 + 4 * ndim + total;
}

static gboolean
is_gzip (const guint8 *p,
         gsize         len)
{
  return len >= 2 && p[0] == 0x1f && p[1] == 0x8b;
}

static void
check_dataset (const PlDataset *d,
               guint            width,
               guint            height)
{
  PL_FUZZ_CHECK (d->n >= 1 && d->n_classes == 10, "%u samples, %u classes", d->n, d->n_classes);
  PL_FUZZ_CHECK ((gsize) width * height == d->n_features,
                 "%u × %u images but %u features", width, height, d->n_features);
  for (gsize i = 0; i < (gsize) d->n * d->n_features; i++)
    PL_FUZZ_CHECK (d->x[i] >= 0.0f && d->x[i] <= 1.0f, "pixel %zu is %g", i, d->x[i]);
  for (guint i = 0; i < d->n; i++)
    PL_FUZZ_CHECK (d->y[i] < d->n_classes, "label %u of sample %u", d->y[i], i);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(GBytes) gz_images = NULL;
  g_autoptr(GBytes) gz_labels = NULL;
  g_autofree char *images_path = NULL;
  g_autofree char *labels_path = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(PlDataset) d = NULL;
  const guint8 *images, *labels;
  gsize n_images, n_labels;
  guint32 image_dims[3], label_dims[1];
  gboolean known, valid = FALSE;
  guint width = 0, height = 0;
  guint8 flags;

  if (size < 3)
    return 0;
  flags = data[0];
  n_labels = MIN ((gsize) data[1] << 8 | data[2], size - 3);
  labels = data + 3;
  images = labels + n_labels;
  n_images = size - 3 - n_labels;

  /* The plain bytes are known unless the fuzzer wrote gzip itself. */
  known = ((flags & FLAG_GZIP_IMAGES) || !is_gzip (images, n_images))
          && ((flags & FLAG_GZIP_LABELS) || !is_gzip (labels, n_labels));

  if (flags & FLAG_GZIP_IMAGES)
    {
      gsize len;
      const void *gz;

      gz_images = pl_fuzz_gzip (images, n_images);
      gz = g_bytes_get_data (gz_images, &len);
      images_path = pl_fuzz_write ("train-images-idx3-ubyte", gz, len);
    }
  else
    images_path = pl_fuzz_write ("train-images-idx3-ubyte", images, n_images);
  if (flags & FLAG_GZIP_LABELS)
    {
      gsize len;
      const void *gz;

      gz_labels = pl_fuzz_gzip (labels, n_labels);
      gz = g_bytes_get_data (gz_labels, &len);
      labels_path = pl_fuzz_write ("train-labels-idx1-ubyte", gz, len);
    }
  else
    labels_path = pl_fuzz_write ("train-labels-idx1-ubyte", labels, n_labels);

  if (known && decode_idx (images, n_images, 3, image_dims)
      && decode_idx (labels, n_labels, 1, label_dims) && image_dims[0] == label_dims[0])
    {
      valid = TRUE;
      for (guint i = 0; i < label_dims[0]; i++)
        valid &= labels[8 + i] < 10;
    }

  d = pl_idx_read_images (images_path, labels_path, &width, &height, &error);
  if (d == NULL)
    {
      pl_fuzz_check_error (error, images_path, labels_path);
      PL_FUZZ_CHECK (error->domain == PL_FORMAT_ERROR, "not a format error: %s",
                     error->message);
      PL_FUZZ_CHECK (!valid, "a valid pair was rejected: %s", error->message);
      return 0;
    }

  PL_FUZZ_CHECK (error == NULL, "success with an error set");
  check_dataset (d, width, height);
  if (known)
    {
      PL_FUZZ_CHECK (valid, "an invalid pair was read (%u samples)", d->n);
      PL_FUZZ_CHECK (d->n == image_dims[0] && height == image_dims[1] && width == image_dims[2],
                     "read %u × %u × %u, the header says %u × %u × %u",
                     d->n, height, width, image_dims[0], image_dims[1], image_dims[2]);
      for (gsize i = 0; i < (gsize) d->n * d->n_features; i++)
        PL_FUZZ_CHECK (d->x[i] == images[16 + i] / 255.0f, "pixel %zu is %g, not %u/255",
                       i, d->x[i], images[16 + i]);
      for (guint i = 0; i < d->n; i++)
        PL_FUZZ_CHECK (d->y[i] == labels[8 + i], "label %u is %u, not %u",
                       i, d->y[i], labels[8 + i]);
    }

  return 0;
}

/* ---- seeds ------------------------------------------------------------------------------- */

/* IDX has no writer in the engine (PruneLab only reads it), so the seeds are encoded here by
 * the layout above: n images of h × w pixels and their labels. */
static GBytes *
encode_idx (guint          ndim,
            const guint32 *dims,
            const guint8  *payload,
            gsize          len)
{
  GByteArray *a = g_byte_array_new ();
  guint8 head[4] = { 0, 0, 0x08, ndim };

  g_byte_array_append (a, head, 4);
  for (guint i = 0; i < ndim; i++)
    {
      guint8 b[4] = { dims[i] >> 24, dims[i] >> 16, dims[i] >> 8, dims[i] };

      g_byte_array_append (a, b, 4);
    }
  g_byte_array_append (a, payload, len);
  return g_byte_array_free_to_bytes (a);
}

static void
add_container (const char *name,
               guint8      flags,
               GBytes     *images,
               GBytes     *labels)
{
  gsize n_images, n_labels;
  const guint8 *im = g_bytes_get_data (images, &n_images);
  const guint8 *lab = g_bytes_get_data (labels, &n_labels);
  g_autofree guint8 *buf = g_malloc (3 + n_labels + n_images);

  g_assert (n_labels <= G_MAXUINT16);
  buf[0] = flags;
  buf[1] = n_labels >> 8;
  buf[2] = n_labels & 0xff;
  memcpy (buf + 3, lab, n_labels);
  memcpy (buf + 3 + n_labels, im, n_images);
  pl_fuzz_add_seed (name, buf, 3 + n_labels + n_images);
}

static GBytes *
make_images (guint n,
             guint h,
             guint w)
{
  guint32 dims[3] = { n, h, w };
  gsize len = (gsize) n * h * w;
  g_autofree guint8 *px = g_malloc (len);

  for (gsize k = 0; k < len; k++)
    px[k] = (guint8) (k * 37 + 11);  /* 0 and 255 among them */
  px[0] = 0;
  px[len - 1] = 255;
  return encode_idx (3, dims, px, len);
}

static GBytes *
make_labels (guint n)
{
  guint32 dims[1] = { n };
  g_autofree guint8 *lab = g_malloc (n);

  for (guint i = 0; i < n; i++)
    lab[i] = (guint8) ((i * 3 + 9) % 10);  /* 9 (the largest) first */
  return encode_idx (1, dims, lab, n);
}

void
pl_fuzz_make_seeds (void)
{
  static const guint shapes[][3] = { { 1, 1, 1 }, { 3, 2, 2 }, { 5, 3, 4 }, { 2, 28, 28 } };
  g_autoptr(GBytes) images5 = make_images (5, 3, 4);
  g_autoptr(GBytes) labels5 = make_labels (5);
  g_auto(GStrv) bad = pl_fuzz_data_files ("bad", "idx-");

  for (guint s = 0; s < G_N_ELEMENTS (shapes); s++)
    {
      g_autoptr(GBytes) images = make_images (shapes[s][0], shapes[s][1], shapes[s][2]);
      g_autoptr(GBytes) labels = make_labels (shapes[s][0]);

      for (guint8 flags = 0; flags < 4; flags++)
        {
          g_autofree char *name = g_strdup_printf ("valid-%ux%ux%u-flags%u", shapes[s][0],
                                                   shapes[s][1], shapes[s][2], flags);

          add_container (name, flags, images, labels);
        }
    }

  /* Files that are gzip already, as Fashion-MNIST ships them. */
  {
    gsize n_im, n_lab;
    const void *im = g_bytes_get_data (images5, &n_im);
    const void *lab = g_bytes_get_data (labels5, &n_lab);
    g_autoptr(GBytes) gz_images = pl_fuzz_gzip (im, n_im);
    g_autoptr(GBytes) gz_labels = pl_fuzz_gzip (lab, n_lab);

    add_container ("valid-gzip-files", 0, gz_images, gz_labels);
  }

  /* The known bad files, each as the images and as the labels of an intact partner. */
  for (guint i = 0; bad[i] != NULL; i++)
    {
      g_autoptr(GBytes) bytes = pl_fuzz_read (bad[i]);
      g_autofree char *base = g_path_get_basename (bad[i]);
      g_autofree char *as_images = g_strconcat ("bad-images-", base, NULL);
      g_autofree char *as_labels = g_strconcat ("bad-labels-", base, NULL);

      add_container (as_images, 0, bytes, labels5);
      add_container (as_labels, 0, images5, bytes);
    }
}
