/* test-idx.c — the IDX reader (MNIST’s format, raw or gzip): what it reads, what it rejects and
 * how it names the problem */
#define G_LOG_DOMAIN "test-idx"

#include "config.h"

#include <string.h>

#include <gio/gio.h>
#include <glib/gstdio.h>

#include "pl-dataset.h"
#include "pl-error.h"
#include "pl-rng.h"
#include "pl-test-util.h"

/* ---- helpers ------------------------------------------------------------------------ */

static void
put_be32 (GByteArray *a,
          guint32     v)
{
  guint8 b[4] = { v >> 24, v >> 16, v >> 8, v };

  g_byte_array_append (a, b, 4);
}

/* An IDX file: header with @type and @ndim dims, then @payload. */
static GBytes *
idx_bytes (guint8          type,
           guint           ndim,
           const guint32  *dims,
           const guint8   *payload,
           gsize           payload_len)
{
  GByteArray *a = g_byte_array_new ();
  guint8 head[4] = { 0, 0, type, ndim };

  g_byte_array_append (a, head, 4);
  for (guint i = 0; i < ndim; i++)
    put_be32 (a, dims[i]);
  if (payload_len > 0)
    g_byte_array_append (a, payload, payload_len);
  return g_byte_array_free_to_bytes (a);
}

/* n images of h × w pixels, pixel k = (k · 7 + 3) mod 256. */
static GBytes *
idx_images (guint n,
            guint h,
            guint w)
{
  guint32 dims[3] = { n, h, w };
  gsize len = (gsize) n * h * w;
  g_autofree guint8 *px = g_new (guint8, len);

  for (gsize k = 0; k < len; k++)
    px[k] = (k * 7 + 3) % 256;
  return idx_bytes (0x08, 3, dims, px, len);
}

/* n labels, label i = i mod 10. */
static GBytes *
idx_labels (guint n)
{
  guint32 dims[1] = { n };
  g_autofree guint8 *lab = g_new (guint8, n);

  for (guint i = 0; i < n; i++)
    lab[i] = i % 10;
  return idx_bytes (0x08, 1, dims, lab, n);
}

static GBytes *
gzip_bytes (GBytes *in)
{
  g_autoptr(GZlibCompressor) z = g_zlib_compressor_new (G_ZLIB_COMPRESSOR_FORMAT_GZIP, 6);
  g_autoptr(GOutputStream) mem = g_memory_output_stream_new_resizable ();
  g_autoptr(GOutputStream) out = g_converter_output_stream_new (mem, G_CONVERTER (z));
  g_autoptr(GError) error = NULL;
  gsize len, written;
  const void *data = g_bytes_get_data (in, &len);

  g_output_stream_write_all (out, data, len, &written, NULL, &error);
  g_assert_no_error (error);
  g_output_stream_close (out, NULL, &error);
  g_assert_no_error (error);
  return g_memory_output_stream_steal_as_bytes (G_MEMORY_OUTPUT_STREAM (mem));
}

/* The first @keep bytes of @bytes, then @extra. */
static GBytes *
edit_bytes (GBytes     *bytes,
            gsize       keep,
            const void *extra,
            gsize       extra_len)
{
  GByteArray *a = g_byte_array_new ();
  gsize len;
  const guint8 *data = g_bytes_get_data (bytes, &len);

  g_byte_array_append (a, data, MIN (keep, len));
  if (extra_len > 0)
    g_byte_array_append (a, extra, extra_len);
  return g_byte_array_free_to_bytes (a);
}

/* Reads an image set whose images or labels are given as bytes. */
static PlDataset *
read_idx_pair (GBytes  *images,
               GBytes  *labels,
               GError **error)
{
  g_autofree char *ipath = pl_test_write_bytes ("images-idx3-ubyte", images);
  g_autofree char *lpath = pl_test_write_bytes ("labels-idx1-ubyte", labels);

  return pl_idx_read (ipath, lpath, error);
}

static void
assert_idx_error (GBytes *images,
                  GBytes *labels,
                  int     code)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PlDataset) data = read_idx_pair (images, labels, &error);

  g_assert_null (data);
  g_assert_error (error, PL_FORMAT_ERROR, code);
  g_assert_nonnull (strstr (error->message, "idx"));
}

static void
test_spec_missing_file (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_build_filename (pl_test_tmp_dir (), "half-idx", NULL);
  g_autofree char *path = g_build_filename (dir, "train-images-idx3-ubyte", NULL);
  g_autofree char *spec = g_strconcat ("idx:", dir, NULL);
  g_autoptr(GBytes) images = idx_images (4, 2, 2);
  g_autoptr(PlData) d = NULL;
  gsize len;
  const char *data = g_bytes_get_data (images, &len);

  g_mkdir (dir, 0700);
  g_file_set_contents (path, data, len, NULL);
  d = pl_data_load (spec, NULL, &error);
  g_assert_null (d);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "train-labels-idx1-ubyte"));
  pl_test_assert_message_names (error, dir);
}

/* ---- IDX ---------------------------------------------------------------------------- */

static void
check_tiny_images (const PlDataset *d,
                   guint            n,
                   guint            h,
                   guint            w)
{
  g_assert_cmpuint (d->n, ==, n);
  g_assert_cmpuint (d->n_features, ==, h * w);
  g_assert_cmpuint (d->n_classes, ==, 10);
  for (gsize k = 0; k < (gsize) n * h * w; k++)
    g_assert_cmpfloat (d->x[k], ==, ((k * 7 + 3) % 256) / 255.0f);
  for (guint i = 0; i < n; i++)
    g_assert_cmpuint (d->y[i], ==, i % 10);
}

static void
test_idx_reads_raw (void)
{
  g_autoptr(GBytes) images = idx_images (6, 4, 3);
  g_autoptr(GBytes) labels = idx_labels (6);
  g_autofree char *ipath = pl_test_write_bytes ("raw-images", images);
  g_autofree char *lpath = pl_test_write_bytes ("raw-labels", labels);
  g_autoptr(GError) error = NULL;
  g_autoptr(PlDataset) d = NULL;
  g_autoptr(GBytes) elements = NULL;
  guint32 dims[4] = { 9, 9, 9, 9 };
  guint width = 0, height = 0;

  d = pl_idx_read_images (ipath, lpath, &width, &height, &error);
  g_assert_no_error (error);
  check_tiny_images (d, 6, 4, 3);
  g_assert_cmpuint (width, ==, 3);
  g_assert_cmpuint (height, ==, 4);

  elements = pl_idx_read_file (ipath, 3, dims, 1 << 20, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_bytes_get_size (elements), ==, 72);
  g_assert_cmpuint (dims[0], ==, 6);
  g_assert_cmpuint (dims[1], ==, 4);
  g_assert_cmpuint (dims[2], ==, 3);
  g_assert_cmpuint (dims[3], ==, 0);

  /* the caller's byte limit counts the elements */
  g_clear_pointer (&elements, g_bytes_unref);
  elements = pl_idx_read_file (ipath, 3, dims, 71, &error);
  g_assert_null (elements);
  g_assert_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_TOO_LARGE);
}

static void
test_idx_reads_gzip (void)
{
  g_autoptr(GBytes) raw_images = idx_images (300, 28, 28);
  g_autoptr(GBytes) raw_labels = idx_labels (300);
  g_autoptr(GBytes) images = gzip_bytes (raw_images);
  g_autoptr(GBytes) labels = gzip_bytes (raw_labels);
  g_autofree char *ipath = pl_test_write_bytes ("gz-images.gz", images);
  g_autofree char *lpath = pl_test_write_bytes ("gz-labels.gz", labels);
  g_autoptr(GError) error = NULL;
  g_autoptr(PlDataset) d = NULL;

  g_assert_cmpuint (g_bytes_get_size (images), <, g_bytes_get_size (raw_images));
  d = pl_idx_read (ipath, lpath, &error);
  g_assert_no_error (error);
  check_tiny_images (d, 300, 28, 28);
}

static void
test_idx_loads_directory (void)
{
  g_autofree char *dir = g_build_filename (pl_test_tmp_dir (), "tiny-mnist", NULL);
  g_autofree char *spec = g_strconcat ("idx:", dir, NULL);
  g_autoptr(PlData) d = NULL;
  g_autoptr(GBytes) train_labels = idx_labels (20);
  g_autoptr(GBytes) test_images = idx_images (6, 4, 3);
  struct { const char *name; GBytes *bytes; } files[4];

  /* a mix of plain and gzip files, as directories in the wild have */
  files[0].name = "train-images-idx3-ubyte";
  files[0].bytes = idx_images (20, 4, 3);
  files[1].name = "train-labels-idx1-ubyte.gz";
  files[1].bytes = gzip_bytes (train_labels);
  files[2].name = "t10k-images-idx3-ubyte.gz";
  files[2].bytes = gzip_bytes (test_images);
  files[3].name = "t10k-labels-idx1-ubyte";
  files[3].bytes = idx_labels (6);

  g_mkdir (dir, 0700);
  for (guint i = 0; i < 4; i++)
    {
      g_autofree char *path = g_build_filename (dir, files[i].name, NULL);
      gsize len;
      const char *data = g_bytes_get_data (files[i].bytes, &len);

      g_file_set_contents (path, data, len, NULL);
      g_bytes_unref (files[i].bytes);
    }

  d = pl_test_load (spec, NULL);
  g_assert_cmpstr (d->name, ==, "tiny-mnist");
  g_assert_cmpuint (d->image_width, ==, 3);
  g_assert_cmpuint (d->image_height, ==, 4);
  g_assert_cmpuint (d->n_features, ==, 12);
  g_assert_cmpuint (d->n_classes, ==, 10);
  g_assert_cmpuint (g_strv_length (d->class_names), ==, 10);
  g_assert_cmpuint (d->train->n, ==, 16);  /* 20 % of 20 is below 5000 */
  g_assert_cmpuint (d->val->n, ==, 4);
  check_tiny_images (d->test, 6, 4, 3);
}

static void
test_idx_rejects_truncated (void)
{
  g_autoptr(GBytes) images = idx_images (6, 4, 3);
  g_autoptr(GBytes) labels = idx_labels (6);
  gsize len = g_bytes_get_size (images);
  gsize cuts[] = { 0, 1, 3, 4, 7, 15, 16, len - 1 };

  for (guint i = 0; i < G_N_ELEMENTS (cuts); i++)
    {
      g_autoptr(GBytes) cut = edit_bytes (images, cuts[i], NULL, 0);
      g_autoptr(GBytes) gz = gzip_bytes (cut);

      assert_idx_error (cut, labels, PL_FORMAT_ERROR_TRUNCATED);
      assert_idx_error (gz, labels, PL_FORMAT_ERROR_TRUNCATED);
    }
}

static void
test_idx_rejects_trailing_bytes (void)
{
  g_autoptr(GBytes) images = idx_images (6, 4, 3);
  g_autoptr(GBytes) labels = idx_labels (6);
  g_autoptr(GBytes) longer = edit_bytes (images, G_MAXSIZE, "\0", 1);
  g_autoptr(GBytes) gz = gzip_bytes (longer);
  g_autoptr(GBytes) good_gz = gzip_bytes (images);
  g_autoptr(GBytes) after_gz = edit_bytes (good_gz, G_MAXSIZE, "garbage", 7);
  g_autoptr(GBytes) one = g_bytes_new ("x", 1);
  g_autoptr(GBytes) one_gz = gzip_bytes (one);
  g_autoptr(GBytes) second_member = edit_bytes (good_gz, G_MAXSIZE,
                                                g_bytes_get_data (one_gz, NULL),
                                                g_bytes_get_size (one_gz));

  assert_idx_error (longer, labels, PL_FORMAT_ERROR_BAD_SHAPE);
  assert_idx_error (gz, labels, PL_FORMAT_ERROR_BAD_SHAPE);
  /* GConverterInputStream stops at the end of the gzip stream; what follows is caught by the
   * size in the gzip trailer */
  assert_idx_error (after_gz, labels, PL_FORMAT_ERROR_BAD_SHAPE);
  assert_idx_error (second_member, labels, PL_FORMAT_ERROR_BAD_SHAPE);
}

static void
test_idx_rejects_wrong_magic (void)
{
  g_autoptr(GBytes) labels = idx_labels (6);
  guint8 garbage[32] = "PK\x03\x04 not an idx file at all";
  g_autoptr(GBytes) zip = g_bytes_new (garbage, sizeof garbage);
  g_autoptr(GBytes) images = idx_images (6, 4, 3);
  g_autofree guint8 *le = g_memdup2 (g_bytes_get_data (images, NULL), g_bytes_get_size (images));
  g_autoptr(GBytes) little = NULL;

  assert_idx_error (zip, labels, PL_FORMAT_ERROR_BAD_MAGIC);
  /* the magic written little-endian */
  le[0] = 0x03;
  le[1] = 0x08;
  le[2] = 0x00;
  le[3] = 0x00;
  little = g_bytes_new (le, g_bytes_get_size (images));
  assert_idx_error (little, labels, PL_FORMAT_ERROR_BAD_MAGIC);
  /* labels where images belong: the dimensions differ from the magic expected */
  assert_idx_error (labels, labels, PL_FORMAT_ERROR_BAD_SHAPE);
}

static void
test_idx_rejects_wrong_type (void)
{
  guint32 dims[3] = { 2, 2, 2 };
  float px[8] = { 0, };
  g_autoptr(GBytes) floats = idx_bytes (0x0D, 3, dims, (guint8 *) px, sizeof px);
  g_autoptr(GBytes) labels = idx_labels (2);

  assert_idx_error (floats, labels, PL_FORMAT_ERROR_BAD_DTYPE);
}

static void
test_idx_rejects_bad_dimensions (void)
{
  g_autoptr(GBytes) labels = idx_labels (2);
  guint32 huge[3] = { 0xFFFFFFFF, 28, 28 };
  guint32 product[3] = { 4096, 4096, 4096 };    /* each within limits, 64 GiB in all */
  guint32 wrapping[3] = { 1u << 24, 1u << 24, 1u << 24 };
  guint32 zero[3] = { 2, 0, 28 };
  guint8 five[4 + 20] = { 0, 0, 8, 5 };
  guint8 none[4] = { 0, 0, 8, 0 };
  g_autoptr(GBytes) a = idx_bytes (8, 3, huge, NULL, 0);
  g_autoptr(GBytes) b = idx_bytes (8, 3, product, NULL, 0);
  g_autoptr(GBytes) c = idx_bytes (8, 3, wrapping, NULL, 0);
  g_autoptr(GBytes) z = idx_bytes (8, 3, zero, NULL, 0);
  g_autoptr(GBytes) n5 = g_bytes_new (five, sizeof five);
  g_autoptr(GBytes) n0 = g_bytes_new (none, sizeof none);
  g_autoptr(GBytes) gz = gzip_bytes (a);

  assert_idx_error (a, labels, PL_FORMAT_ERROR_TOO_LARGE);
  assert_idx_error (b, labels, PL_FORMAT_ERROR_TOO_LARGE);
  assert_idx_error (c, labels, PL_FORMAT_ERROR_TOO_LARGE);
  assert_idx_error (gz, labels, PL_FORMAT_ERROR_TOO_LARGE);
  assert_idx_error (z, labels, PL_FORMAT_ERROR_BAD_SHAPE);
  assert_idx_error (n5, labels, PL_FORMAT_ERROR_BAD_SHAPE);
  assert_idx_error (n0, labels, PL_FORMAT_ERROR_BAD_SHAPE);
}

static void
test_idx_rejects_count_mismatch (void)
{
  g_autoptr(GBytes) images = idx_images (6, 4, 3);
  g_autoptr(GBytes) labels = idx_labels (5);

  assert_idx_error (images, labels, PL_FORMAT_ERROR_MISMATCH);
}

static void
test_idx_rejects_label_out_of_range (void)
{
  g_autoptr(GBytes) images = idx_images (3, 2, 2);
  guint32 dims[1] = { 3 };
  guint8 lab[3] = { 1, 10, 2 };
  g_autoptr(GBytes) labels = idx_bytes (8, 1, dims, lab, 3);
  g_autoptr(GBytes) gz = gzip_bytes (labels);

  assert_idx_error (images, labels, PL_FORMAT_ERROR_BAD_LABEL);
  assert_idx_error (images, gz, PL_FORMAT_ERROR_BAD_LABEL);
}

static void
test_idx_rejects_corrupt_gzip (void)
{
  g_autoptr(GBytes) images = idx_images (6, 4, 3);
  g_autoptr(GBytes) labels = idx_labels (6);
  g_autoptr(GBytes) gz = gzip_bytes (images);
  gsize len = g_bytes_get_size (gz);
  g_autofree guint8 *bad_crc = g_memdup2 (g_bytes_get_data (gz, NULL), len);
  g_autofree guint8 *bad_block = g_memdup2 (g_bytes_get_data (gz, NULL), len);
  g_autoptr(GBytes) a = NULL;
  g_autoptr(GBytes) b = NULL;
  guint8 only_magic[2] = { 0x1f, 0x8b };
  g_autoptr(GBytes) c = g_bytes_new (only_magic, 2);

  bad_crc[len - 8] ^= 0xff;  /* the CRC-32 of the trailer */
  bad_block[10] = 0xff;      /* first deflate block: reserved block type 3 */
  a = g_bytes_new (bad_crc, len);
  b = g_bytes_new (bad_block, len);
  assert_idx_error (a, labels, PL_FORMAT_ERROR_FAILED);
  assert_idx_error (b, labels, PL_FORMAT_ERROR_FAILED);
  assert_idx_error (c, labels, PL_FORMAT_ERROR_TRUNCATED);
}

static void
test_idx_rejects_truncated_gzip (void)
{
  g_autoptr(GBytes) images = idx_images (60, 28, 28);
  g_autoptr(GBytes) labels = idx_labels (60);
  g_autoptr(GBytes) gz = gzip_bytes (images);
  gsize len = g_bytes_get_size (gz);
  gsize cuts[] = { 3, 10, 20, len / 2, len - 8, len - 1 };

  for (guint i = 0; i < G_N_ELEMENTS (cuts); i++)
    {
      g_autoptr(GBytes) cut = edit_bytes (gz, cuts[i], NULL, 0);

      assert_idx_error (cut, labels, PL_FORMAT_ERROR_TRUNCATED);
    }
}

static void
test_idx_rejects_missing_file (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_build_filename (pl_test_tmp_dir (), "absent-idx3-ubyte", NULL);
  g_autoptr(GBytes) bytes = pl_idx_read_file (path, 3, NULL, 1024, &error);

  g_assert_null (bytes);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  pl_test_assert_message_names (error, path);
}

/* ---- robustness --------------------------------------------------------------------- */

static void
test_fuzz_idx (void)
{
  g_autoptr(GBytes) images = idx_images (5, 3, 4);
  g_autoptr(GBytes) labels = idx_labels (5);
  g_autoptr(GBytes) gz_images = gzip_bytes (images);
  g_autoptr(GBytes) gz_labels = gzip_bytes (labels);
  /* the intact files, written once; each round mutates one of them into "fuzz-mutant" */
  GBytes *sources[4] = { images, labels, gz_images, gz_labels };
  char *intact[4] = {
    pl_test_write_bytes ("fuzz-images", images), pl_test_write_bytes ("fuzz-labels", labels),
    pl_test_write_bytes ("fuzz-images.gz", gz_images), pl_test_write_bytes ("fuzz-labels.gz", gz_labels),
  };
  guint n_ok = 0, n_error = 0;
  PlRng rng;

  pl_rng_init (&rng, 2024);
  for (guint iter = 0; iter < 2000; iter++)
    {
      guint target = iter % 4;                 /* images, labels, gz images, gz labels */
      guint partner = target ^ 1;
      g_autoptr(GBytes) m = pl_test_mutate (sources[target], &rng);
      g_autofree char *mutant = pl_test_write_bytes ("fuzz-mutant", m);
      g_autoptr(GError) error = NULL;
      g_autoptr(PlDataset) d = NULL;

      if (target % 2 == 0)
        d = pl_idx_read (mutant, intact[partner], &error);
      else
        d = pl_idx_read (intact[partner], mutant, &error);
      if (d != NULL)
        {
          g_assert_no_error (error);
          pl_test_assert_dataset_valid (d);
          n_ok++;
        }
      else
        {
          g_assert_nonnull (error);
          g_assert_true (g_utf8_validate (error->message, -1, NULL));
          n_error++;
        }
    }
  g_test_message ("IDX mutations: %u read, %u rejected", n_ok, n_error);
  g_assert_cmpuint (n_error, >, 0);
  g_assert_cmpuint (n_ok, >, 0);
  for (guint i = 0; i < 4; i++)
    g_free (intact[i]);
}


/* tests/data/bad/idx-WHAT--CODE.idx[.gz]: CODE names the expected PL_FORMAT_ERROR code. */
static gboolean
read_idx_file (const char  *path,
               GError     **error)
{
  guint32 dims[4];
  g_autoptr(GBytes) bytes = pl_idx_read_file (path, 0, dims, 1 << 20, error);

  return bytes != NULL;
}

int
main (int   argc,
      char *argv[])
{
  static const char * const suffixes[] = { ".idx", ".idx.gz", NULL };

  g_test_init (&argc, &argv, NULL);
  g_test_summary ("The IDX reader: raw and gzip files, directories, and every way a file is bad");

  g_test_add_func ("/data/spec/missing-idx-file-is-named", test_spec_missing_file);
  g_test_add_func ("/data/idx/reads-raw", test_idx_reads_raw);
  g_test_add_func ("/data/idx/reads-gzip", test_idx_reads_gzip);
  g_test_add_func ("/data/idx/loads-directory", test_idx_loads_directory);
  g_test_add_func ("/data/idx/rejects-truncated", test_idx_rejects_truncated);
  g_test_add_func ("/data/idx/rejects-trailing-bytes", test_idx_rejects_trailing_bytes);
  g_test_add_func ("/data/idx/rejects-wrong-magic", test_idx_rejects_wrong_magic);
  g_test_add_func ("/data/idx/rejects-wrong-type", test_idx_rejects_wrong_type);
  g_test_add_func ("/data/idx/rejects-bad-dimensions", test_idx_rejects_bad_dimensions);
  g_test_add_func ("/data/idx/rejects-count-mismatch", test_idx_rejects_count_mismatch);
  g_test_add_func ("/data/idx/rejects-label-out-of-range", test_idx_rejects_label_out_of_range);
  g_test_add_func ("/data/idx/rejects-corrupt-gzip", test_idx_rejects_corrupt_gzip);
  g_test_add_func ("/data/idx/rejects-truncated-gzip", test_idx_rejects_truncated_gzip);
  g_test_add_func ("/data/idx/rejects-missing-file", test_idx_rejects_missing_file);
  g_test_add_func ("/data/fuzz/idx-survives-mutations", test_fuzz_idx);
  pl_test_add_bad_file_tests ("idx-", suffixes, "/data/idx/bad/", read_idx_file);

  return pl_test_run ();
}
