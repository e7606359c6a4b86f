#define G_LOG_DOMAIN "test-dataset"

#include "config.h"

#include <math.h>
#include <string.h>
#include <unistd.h>

#include <fcntl.h>

#include <gio/gio.h>
#include <glib/gstdio.h>

#include "pl-dataset.h"
#include "pl-error.h"
#include "pl-rng.h"

static char *tmp_dir;  /* one per run, removed at the end */

/* ---- helpers ------------------------------------------------------------------------ */

/* Writes @data to @name in the temporary directory, in place (O_TRUNC) and without fsync: the
 * fuzz tests rewrite files thousands of times. (g_file_set_contents_full() in GLib 2.74 does
 * not truncate an existing file without G_FILE_SET_CONTENTS_CONSISTENT, which syncs.) */
static char *
write_file (const char *name,
            const void *data,
            gsize       len)
{
  char *path = g_build_filename (tmp_dir, name, NULL);
  int fd = g_open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  const char *p = data;

  g_assert_cmpint (fd, >=, 0);
  while (len > 0)
    {
      gssize n = write (fd, p, len);

      g_assert_cmpint (n, >, 0);
      p += n;
      len -= n;
    }
  g_assert_true (g_close (fd, NULL));
  return path;
}

static char *
write_text (const char *name,
            const char *text)
{
  return write_file (name, text, strlen (text));
}

static char *
write_bytes (const char *name,
             GBytes     *bytes)
{
  gsize len;
  const void *data = g_bytes_get_data (bytes, &len);

  return write_file (name, data, len);
}

static void
remove_tree (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR))
        remove_tree (child);
      else
        g_unlink (child);
    }
  g_rmdir (path);
}

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

static void
assert_message_names (const GError *error,
                      const char   *path)
{
  g_autofree char *base = g_path_get_basename (path);

  g_assert_nonnull (error);
  if (strstr (error->message, base) == NULL)
    g_error ("message “%s” does not name “%s”", error->message, base);
}

/* Reads an image set whose images or labels are given as bytes. */
static PlDataset *
read_idx_pair (GBytes  *images,
               GBytes  *labels,
               GError **error)
{
  g_autofree char *ipath = write_bytes ("images-idx3-ubyte", images);
  g_autofree char *lpath = write_bytes ("labels-idx1-ubyte", labels);

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

static PlData *
load (const char          *spec,
      const PlDataOptions *options)
{
  g_autoptr(GError) error = NULL;
  PlData *data = pl_data_load (spec, options, &error);

  g_assert_no_error (error);
  g_assert_nonnull (data);
  return data;
}

static void
assert_dataset_valid (const PlDataset *d)
{
  for (gsize i = 0; i < d->n; i++)
    g_assert_cmpuint (d->y[i], <, d->n_classes);
  for (gsize k = 0; k < (gsize) d->n * d->n_features; k++)
    g_assert_true (isfinite (d->x[k]));
}

/* ---- synthetic sets ----------------------------------------------------------------- */

static void
test_synthetic_deterministic (gconstpointer user_data)
{
  const char *name = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(PlDataset) a = pl_synthetic_make (name, 500, -1, 0, 42, &error);
  g_autoptr(PlDataset) b = pl_synthetic_make (name, 500, -1, 0, 42, &error);

  g_assert_no_error (error);
  g_assert_cmpmem (a->x, a->n * 2 * sizeof (float), b->x, b->n * 2 * sizeof (float));
  g_assert_cmpmem (a->y, a->n * sizeof (guint32), b->y, b->n * sizeof (guint32));
}

static void
test_synthetic_seeded (gconstpointer user_data)
{
  const char *name = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(PlDataset) a = pl_synthetic_make (name, 200, -1, 0, 1, &error);
  g_autoptr(PlDataset) b = pl_synthetic_make (name, 200, -1, 0, 2, &error);
  guint same = 0;

  g_assert_no_error (error);
  for (guint k = 0; k < 400; k++)
    same += a->x[k] == b->x[k];
  g_assert_cmpuint (same, <, 10);
}

static void
test_synthetic_shape (gconstpointer user_data)
{
  const char *name = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(PlDataset) d = pl_synthetic_make (name, 1001, -1, 0, 7, &error);
  guint counts[3] = { 0, };
  guint k_expected = (strcmp (name, "spiral") == 0 || strcmp (name, "blobs") == 0) ? 3 : 2;
  float lo = G_MAXFLOAT, hi = -G_MAXFLOAT;

  g_assert_no_error (error);
  g_assert_cmpuint (d->n, ==, 1001);
  g_assert_cmpuint (d->n_features, ==, 2);
  g_assert_cmpuint (d->n_classes, ==, k_expected);
  assert_dataset_valid (d);
  for (guint i = 0; i < d->n; i++)
    counts[d->y[i]]++;
  for (guint c = 0; c < k_expected; c++)
    {
      g_assert_cmpuint (counts[c], >=, 1001 / k_expected);
      g_assert_cmpuint (counts[c], <=, 1001 / k_expected + 1);
    }
  for (guint k = 0; k < 2 * d->n; k++)
    {
      lo = MIN (lo, d->x[k]);
      hi = MAX (hi, d->x[k]);
    }
  /* roughly within [-1.5, 1.5], noise tails allowed */
  g_assert_cmpfloat (lo, >, -2.5);
  g_assert_cmpfloat (hi, <, 2.5);
  g_assert_cmpfloat (hi - lo, >, 1.0);
}

/* Without noise each set is its clean shape: check the geometry that defines the labels. */
static void
test_synthetic_noiseless_geometry (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PlDataset) circles = pl_synthetic_make ("circles", 300, 0, 0, 3, &error);
  g_autoptr(PlDataset) xor = pl_synthetic_make ("xor", 300, 0, 0, 3, &error);
  g_autoptr(PlDataset) spiral = pl_synthetic_make ("spiral", 300, 0, 5, 3, &error);

  g_assert_no_error (error);
  for (guint i = 0; i < 300; i++)
    {
      float cx = circles->x[2 * i], cy = circles->x[2 * i + 1];
      float xx = xor->x[2 * i], xy = xor->x[2 * i + 1];

      g_assert_cmpfloat_with_epsilon (hypotf (cx, cy), circles->y[i] == 0 ? 1.0f : 0.5f, 1e-5);
      g_assert_cmpuint (xor->y[i], ==, xx * xy < 0 ? 1 : 0);
      g_assert_cmpfloat (hypotf (spiral->x[2 * i], spiral->x[2 * i + 1]), <=, 1.0f);
    }
  g_assert_cmpuint (spiral->n_classes, ==, 5);
}

static void
test_synthetic_rejects (void)
{
  struct { const char *name; guint n; double noise; guint k; int code; } cases[] = {
    { "spirals", 100, -1, 0, PL_SPEC_ERROR_UNKNOWN_NAME },
    { "spiral",    0, -1, 0, PL_SPEC_ERROR_INVALID },
    { "spiral",    2, -1, 3, PL_SPEC_ERROR_INVALID },
    { "moons",   100, -1, 3, PL_SPEC_ERROR_INVALID },
    { "blobs",   100, -1, 1, PL_SPEC_ERROR_INVALID },
    { "blobs",   100, -1, 1000, PL_SPEC_ERROR_INVALID },
    { "xor",     100, NAN, 0, PL_SPEC_ERROR_INVALID },
    { "xor",     100, INFINITY, 0, PL_SPEC_ERROR_INVALID },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(PlDataset) d = pl_synthetic_make (cases[i].name, cases[i].n, cases[i].noise,
                                                  cases[i].k, 1, &error);

      g_assert_null (d);
      g_assert_error (error, PL_SPEC_ERROR, cases[i].code);
    }
}

/* ---- specs -------------------------------------------------------------------------- */

static void
test_spec_synthetic_defaults (void)
{
  g_autoptr(PlData) d = load ("spiral", NULL);

  g_assert_cmpstr (d->name, ==, "spiral");
  g_assert_cmpstr (d->spec, ==, "spiral");
  g_assert_cmpuint (d->n_features, ==, 2);
  g_assert_cmpuint (d->n_classes, ==, 3);
  g_assert_cmpuint (d->train->n, ==, 800);
  g_assert_cmpuint (d->val->n, ==, 200);
  g_assert_cmpuint (d->test->n, ==, 1000);
  g_assert_cmpuint (d->image_width, ==, 0);
  g_assert_cmpuint (g_strv_length (d->class_names), ==, 3);
  g_assert_null (d->feature_mean);
  g_assert_null (d->feature_std);
}

static void
test_spec_synthetic_options (void)
{
  g_autoptr(PlData) d = load ("blobs:n=300,noise=0.5,seed=7,classes=4", NULL);
  g_autoptr(PlData) again = load ("blobs:classes=4,seed=7,noise=0.5,n=300", NULL);
  g_autoptr(PlData) other = load ("blobs:n=300,noise=0.5,seed=8,classes=4", NULL);

  g_assert_cmpuint (d->n_classes, ==, 4);
  g_assert_cmpuint (d->train->n + d->val->n, ==, 300);
  g_assert_cmpuint (d->test->n, ==, 300);
  g_assert_cmpmem (d->train->x, d->train->n * 2 * sizeof (float),
                   again->train->x, again->train->n * 2 * sizeof (float));
  g_assert_cmpfloat (d->train->x[0], !=, other->train->x[0]);
  assert_dataset_valid (d->train);
  assert_dataset_valid (d->val);
  assert_dataset_valid (d->test);
}

/* The test set is another draw, not a copy of the training data. */
static void
test_spec_test_set_independent (void)
{
  g_autoptr(PlData) d = load ("moons:n=100", NULL);
  PlDataOptions options = PL_DATA_OPTIONS_INIT;
  g_autoptr(PlData) whole = NULL;
  guint same = 0;

  options.val_size = 0;
  whole = load ("moons:n=100", &options);
  for (guint k = 0; k < 200; k++)
    same += whole->train->x[k] == whole->test->x[k];
  g_assert_cmpuint (same, ==, 0);
}

static void
test_spec_rejects (void)
{
  struct { const char *spec; int code; } cases[] = {
    { "", PL_SPEC_ERROR_UNKNOWN_NAME },
    { "cifar10", PL_SPEC_ERROR_UNKNOWN_NAME },
    { "Spiral", PL_SPEC_ERROR_UNKNOWN_NAME },
    { "spiral:", PL_SPEC_ERROR_INVALID },
    { "spiral:n", PL_SPEC_ERROR_INVALID },
    { "spiral:n=", PL_SPEC_ERROR_INVALID },
    { "spiral:=5", PL_SPEC_ERROR_INVALID },
    { "spiral:n=0", PL_SPEC_ERROR_INVALID },
    { "spiral:n=-5", PL_SPEC_ERROR_INVALID },
    { "spiral:n=12x", PL_SPEC_ERROR_INVALID },
    { "spiral:n=99999999999999999999", PL_SPEC_ERROR_INVALID },
    { "spiral:noise=-0.1", PL_SPEC_ERROR_INVALID },
    { "spiral:noise=nan", PL_SPEC_ERROR_INVALID },
    { "spiral:noise=inf", PL_SPEC_ERROR_INVALID },
    { "spiral:noise=0.1.2", PL_SPEC_ERROR_INVALID },
    { "spiral:seed=abc", PL_SPEC_ERROR_INVALID },
    { "spiral:classes=1", PL_SPEC_ERROR_INVALID },
    { "spiral:n=10,n=20", PL_SPEC_ERROR_INVALID },
    { "spiral:size=10", PL_SPEC_ERROR_INVALID },
    { "spiral:n=10,", PL_SPEC_ERROR_INVALID },
    { "moons:classes=3", PL_SPEC_ERROR_INVALID },
    { "mnist", PL_SPEC_ERROR_INVALID },
    { "idx:", PL_SPEC_ERROR_INVALID },
    { "fashion-mnist:", PL_SPEC_ERROR_INVALID },
    { "csv", PL_SPEC_ERROR_INVALID },
    { "csv:", PL_SPEC_ERROR_INVALID },
    { "csv:,label=1", PL_SPEC_ERROR_INVALID },
    { "csv:x.csv,header=maybe", PL_SPEC_ERROR_INVALID },
    { "csv:x.csv,label", PL_SPEC_ERROR_INVALID },
    { "csv:x.csv,label=a,label=b", PL_SPEC_ERROR_INVALID },
    { "csv:x.csv,sep=;", PL_SPEC_ERROR_INVALID },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(PlData) d = pl_data_load (cases[i].spec, NULL, &error);

      g_assert_null (d);
      g_assert_error (error, PL_SPEC_ERROR, cases[i].code);
      g_assert_nonnull (strstr (error->message, cases[i].spec));
    }
}

static void
test_spec_missing_directory (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *missing = g_build_filename (tmp_dir, "no-such-dir", NULL);
  g_autofree char *spec = g_strconcat ("fashion-mnist:", missing, NULL);
  g_autoptr(PlData) d = pl_data_load (spec, NULL, &error);

  g_assert_null (d);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  assert_message_names (error, missing);
  g_assert_nonnull (strstr (error->message, "apt-get install dataset-fashion-mnist"));
}

static void
test_spec_missing_file (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_build_filename (tmp_dir, "half-idx", NULL);
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
  assert_message_names (error, dir);
}

static void
test_spec_missing_csv (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PlData) d = pl_data_load ("csv:/nonexistent/data.csv", NULL, &error);

  g_assert_null (d);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  assert_message_names (error, "data.csv");
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
  g_autofree char *ipath = write_bytes ("raw-images", images);
  g_autofree char *lpath = write_bytes ("raw-labels", labels);
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
  g_autofree char *ipath = write_bytes ("gz-images.gz", images);
  g_autofree char *lpath = write_bytes ("gz-labels.gz", labels);
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
  g_autofree char *dir = g_build_filename (tmp_dir, "tiny-mnist", NULL);
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

  d = load (spec, NULL);
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
  g_autofree char *path = g_build_filename (tmp_dir, "absent-idx3-ubyte", NULL);
  g_autoptr(GBytes) bytes = pl_idx_read_file (path, 3, NULL, 1024, &error);

  g_assert_null (bytes);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  assert_message_names (error, path);
}

/* ---- CSV ---------------------------------------------------------------------------- */

static PlDataset *
read_csv_text (const char   *text,
               const char   *label,
               int           header,
               char       ***names,
               GError      **error)
{
  g_autofree char *path = write_text ("table.csv", text);

  return pl_csv_read (path, label, header, names, error);
}

static void
assert_csv_error (const char *text,
                  const char *label,
                  int         header,
                  int         code,
                  const char *needle)
{
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) names = NULL;
  g_autoptr(PlDataset) d = read_csv_text (text, label, header, &names, &error);

  g_assert_null (d);
  g_assert_null (names);
  g_assert_error (error, PL_FORMAT_ERROR, code);
  assert_message_names (error, "table.csv");
  if (needle != NULL && strstr (error->message, needle) == NULL)
    g_error ("message “%s” lacks “%s”", error->message, needle);
}

static void
test_csv_header_and_label_name (void)
{
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) names = NULL;
  g_autoptr(PlDataset) d = read_csv_text ("a,class,b\n1,0,2\n3,2,4.5\n-1e3,1,0\n", "class",
                                          -1, &names, &error);
  const float x[] = { 1, 2, 3, 4.5f, -1000, 0 };
  const guint32 y[] = { 0, 2, 1 };

  g_assert_no_error (error);
  g_assert_null (names);
  g_assert_cmpuint (d->n, ==, 3);
  g_assert_cmpuint (d->n_features, ==, 2);
  g_assert_cmpuint (d->n_classes, ==, 3);
  g_assert_cmpmem (d->x, sizeof x, x, sizeof x);
  g_assert_cmpmem (d->y, sizeof y, y, sizeof y);
}

static void
test_csv_label_index (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PlDataset) d = read_csv_text ("4,0.5,0.25\n7,1.5,2.25\n", "0", 0, NULL, &error);
  const float x[] = { 0.5f, 0.25f, 1.5f, 2.25f };
  const guint32 y[] = { 4, 7 };

  g_assert_no_error (error);
  g_assert_cmpuint (d->n_classes, ==, 8);  /* integer labels are ids: max + 1 */
  g_assert_cmpmem (d->x, sizeof x, x, sizeof x);
  g_assert_cmpmem (d->y, sizeof y, y, sizeof y);
}

static void
test_csv_default_last_column (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PlDataset) d = read_csv_text ("1,2,007\n\n3,4,0\r\n  \n5,6,7", NULL, -1, NULL,
                                          &error);
  const guint32 y[] = { 7, 0, 7 };

  g_assert_no_error (error);
  g_assert_cmpuint (d->n, ==, 3);
  g_assert_cmpuint (d->n_classes, ==, 8);
  g_assert_cmpmem (d->y, sizeof y, y, sizeof y);
}

static void
test_csv_string_labels (void)
{
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) names = NULL;
  g_autoptr(PlDataset) d = read_csv_text ("5.1,3.5,setosa\n7.0,3.2,versicolor\n"
                                          "4.9,3.0,setosa\n6.3,3.3,\"virginica\"\n"
                                          "1,2,3\n",
                                          NULL, -1, &names, &error);
  const guint32 y[] = { 0, 1, 0, 2, 3 };

  g_assert_no_error (error);
  g_assert_cmpuint (d->n, ==, 5);  /* no header detected: the label column is text throughout */
  g_assert_cmpuint (d->n_classes, ==, 4);
  g_assert_cmpmem (d->y, sizeof y, y, sizeof y);
  g_assert_cmpuint (g_strv_length (names), ==, 4);
  g_assert_cmpstr (names[0], ==, "setosa");
  g_assert_cmpstr (names[2], ==, "virginica");
  g_assert_cmpstr (names[3], ==, "3");
}

static void
test_csv_header_modes (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PlDataset) yes = read_csv_text ("1,2\n3,4\n", NULL, 1, NULL, &error);
  g_autoptr(PlDataset) no = read_csv_text ("1,2\n3,4\n", NULL, 0, NULL, &error);
  g_autoptr(PlDataset) detect = read_csv_text ("x,y\n3,4\n", NULL, -1, NULL, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (yes->n, ==, 1);
  g_assert_cmpuint (no->n, ==, 2);
  g_assert_cmpuint (detect->n, ==, 1);
  g_assert_cmpfloat (detect->x[0], ==, 3);
}

static void
test_csv_quotes_and_spaces (void)
{
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) names = NULL;
  g_autoptr(PlDataset) d = read_csv_text ("\"x 1\", \"y\"\"\" ,label\r\n"
                                          " 1 ,\t\"2\" , \"a, b\"\r\n"
                                          "3,4,\"say \"\"hi\"\"\"\r\n",
                                          "label", -1, &names, &error);
  const float x[] = { 1, 2, 3, 4 };

  g_assert_no_error (error);
  g_assert_cmpmem (d->x, sizeof x, x, sizeof x);
  g_assert_cmpstr (names[0], ==, "a, b");
  g_assert_cmpstr (names[1], ==, "say \"hi\"");
}

/* Every number reads as strtod would read it, rounded to float (integers take a fast path). */
static void
test_csv_numbers_exact (void)
{
  static const char * const texts[] = {
    "0", "-0", "7", "-7", "123456789", "-123456789", "16777217", "-16777219", "999999999",
    "1234567890", "+5", "0.1", "-2.5e-3", "1e-50", "3.4028234e38", "0x10", "00012",
  };
  GString *text = g_string_new (NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(PlDataset) d = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (texts); i++)
    g_string_append_printf (text, "%s,0\n", texts[i]);
  d = read_csv_text (text->str, NULL, 0, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (d->n, ==, G_N_ELEMENTS (texts));
  for (guint i = 0; i < G_N_ELEMENTS (texts); i++)
    {
      float expected = (float) g_ascii_strtod (texts[i], NULL);

      g_assert_cmpmem (&d->x[i], sizeof (float), &expected, sizeof (float));
    }
  g_string_free (text, TRUE);
}

static void
test_csv_rejects_ragged (void)
{
  assert_csv_error ("1,2,0\n3,4\n", NULL, -1, PL_FORMAT_ERROR_BAD_SHAPE, "line 2");
  assert_csv_error ("a,b,c\n1,2,0\n3,4,5,6\n", NULL, -1, PL_FORMAT_ERROR_BAD_SHAPE, "line 3");
}

static void
test_csv_rejects_bad_values (void)
{
  assert_csv_error ("x,y,l\n1,2,0\n3,nan,1\n", NULL, -1, PL_FORMAT_ERROR_BAD_VALUE,
                    "line 3, column 2 (“y”)");
  assert_csv_error ("1,2,0\n3,NaN,1\n", NULL, 0, PL_FORMAT_ERROR_BAD_VALUE, "line 2, column 2");
  assert_csv_error ("1,inf,0\n", NULL, 0, PL_FORMAT_ERROR_BAD_VALUE, "inf");
  assert_csv_error ("1,-Infinity,0\n", NULL, 0, PL_FORMAT_ERROR_BAD_VALUE, NULL);
  assert_csv_error ("1,1e999,0\n", NULL, 0, PL_FORMAT_ERROR_BAD_VALUE, "1e999");
  assert_csv_error ("1,1e39,0\n", NULL, 0, PL_FORMAT_ERROR_BAD_VALUE, NULL);  /* > FLT_MAX */
  assert_csv_error ("1,abc,0\n", NULL, 0, PL_FORMAT_ERROR_BAD_VALUE, "abc");
  assert_csv_error ("1,2x,0\n", NULL, 0, PL_FORMAT_ERROR_BAD_VALUE, NULL);
  assert_csv_error ("1,,0\n", NULL, 0, PL_FORMAT_ERROR_BAD_VALUE, NULL);
  assert_csv_error ("1,\"2,0\n", NULL, 0, PL_FORMAT_ERROR_BAD_VALUE, "quote");
  assert_csv_error ("1,\"2\"x,0\n", NULL, 0, PL_FORMAT_ERROR_BAD_VALUE, "quote");
  assert_csv_error ("1,2,\n", NULL, 0, PL_FORMAT_ERROR_BAD_LABEL, "empty");

  /* a NUL byte inside a number */
  {
    static const char nul[] = "1,2\0003,0\n";
    g_autofree char *path = write_file ("nul.csv", nul, sizeof nul - 1);
    g_autoptr(GError) error = NULL;
    g_autoptr(PlDataset) d = pl_csv_read (path, NULL, 0, NULL, &error);

    g_assert_null (d);
    g_assert_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_BAD_VALUE);
    g_assert_true (g_utf8_validate (error->message, -1, NULL));
  }
}

static void
test_csv_rejects_label_column (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PlDataset) d = NULL;

  assert_csv_error ("a,b\n1,2\n", "c", -1, PL_FORMAT_ERROR_BAD_HEADER, "“c”");
  assert_csv_error ("1,2\n3,4\n", "2", 0, PL_FORMAT_ERROR_BAD_SHAPE, NULL);
  assert_csv_error ("1,2\n3,4\n", "99999999999", 0, PL_FORMAT_ERROR_BAD_SHAPE, NULL);

  d = read_csv_text ("1,2\n", "name", 0, NULL, &error);
  g_assert_null (d);
  g_assert_error (error, PL_SPEC_ERROR, PL_SPEC_ERROR_INVALID);
}

static void
test_csv_rejects_empty (void)
{
  assert_csv_error ("", NULL, -1, PL_FORMAT_ERROR_BAD_SHAPE, "empty");
  assert_csv_error ("\n\r\n  \n", NULL, -1, PL_FORMAT_ERROR_BAD_SHAPE, "empty");
  assert_csv_error ("a,b\n", NULL, -1, PL_FORMAT_ERROR_BAD_SHAPE, "no data");
  assert_csv_error ("a,b\n", NULL, 1, PL_FORMAT_ERROR_BAD_SHAPE, "no data");
  assert_csv_error ("1\n2\n", NULL, -1, PL_FORMAT_ERROR_BAD_SHAPE, "column");
}

static void
test_csv_rejects_too_many_classes (void)
{
  GString *text = g_string_new (NULL);

  assert_csv_error ("1,2,1000\n", NULL, -1, PL_FORMAT_ERROR_BAD_LABEL, "1000");
  assert_csv_error ("1,2,99999999999999999999999\n", NULL, -1, PL_FORMAT_ERROR_BAD_LABEL, NULL);
  for (guint i = 0; i < 1001; i++)
    g_string_append_printf (text, "%u,c%u\n", i, i);
  assert_csv_error (text->str, NULL, -1, PL_FORMAT_ERROR_BAD_LABEL, "line 1001");
  g_string_free (text, TRUE);
}

static void
test_csv_long_lines (void)
{
  g_autoptr(GError) error = NULL;
  GString *wide = g_string_new (NULL);
  GString *junk = g_string_new ("1,");
  g_autoptr(PlDataset) d = NULL;

  for (guint r = 0; r < 3; r++)
    {
      for (guint c = 0; c < 5000; c++)
        g_string_append_printf (wide, "%u.5,", c);
      g_string_append_printf (wide, "%u\n", r);
    }
  d = read_csv_text (wide->str, NULL, -1, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (d->n_features, ==, 5000);
  g_assert_cmpfloat (d->x[2 * 5000 + 4999], ==, 4999.5f);

  /* a 2 MB field: rejected, and the message shows only its start */
  for (guint i = 0; i < 200000; i++)
    g_string_append (junk, "0123456789");
  g_string_append (junk, "x,0\n");
  {
    g_autoptr(GError) e = NULL;
    g_autoptr(PlDataset) bad = read_csv_text (junk->str, NULL, 0, NULL, &e);

    g_assert_null (bad);
    g_assert_error (e, PL_FORMAT_ERROR, PL_FORMAT_ERROR_BAD_VALUE);
    g_assert_cmpuint (strlen (e->message), <, 300);
  }
  g_string_free (wide, TRUE);
  g_string_free (junk, TRUE);
}

/* A file past the limit is refused from its size, before anything is read. */
static void
test_csv_rejects_huge_file (void)
{
  g_autofree char *path = g_build_filename (tmp_dir, "huge.csv", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(PlDataset) d = NULL;
  int fd = g_open (path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (ftruncate (fd, ((goffset) 1 << 30) + 1), ==, 0);  /* sparse */
  g_close (fd, NULL);

  d = pl_csv_read (path, NULL, -1, NULL, &error);
  g_assert_null (d);
  g_assert_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_TOO_LARGE);
  assert_message_names (error, path);
  g_unlink (path);
}

static void
test_csv_pair_shares_labels (void)
{
  g_autofree char *train_path = write_text ("pair-train.csv", "x,y\n1,cat\n2,dog\n3,cat\n");
  g_autofree char *test_path = write_text ("pair-test.csv", "x,y\n4,bird\n5,dog\n6,cat\n");
  g_autofree char *bad_path = write_text ("pair-bad.csv", "x,z,y\n4,1,dog\n");
  g_autoptr(GError) error = NULL;
  g_autoptr(PlDataset) train = NULL;
  g_autoptr(PlDataset) test = NULL;
  g_auto(GStrv) names = NULL;
  const guint32 y_train[] = { 0, 1, 0 };
  const guint32 y_test[] = { 2, 1, 0 };
  g_autofree char *spec = g_strdup_printf ("csv:%s,label=y,header=yes,test=%s",
                                           train_path, test_path);
  g_autofree char *bad_spec = g_strdup_printf ("csv:%s,test=%s", train_path, bad_path);
  g_autoptr(PlData) d = NULL;
  g_autoptr(PlData) bad = NULL;

  g_assert_true (pl_csv_read_pair (train_path, test_path, NULL, -1, &train, &test, &names,
                                   &error));
  g_assert_no_error (error);
  g_assert_cmpmem (train->y, sizeof y_train, y_train, sizeof y_train);
  g_assert_cmpmem (test->y, sizeof y_test, y_test, sizeof y_test);
  g_assert_cmpuint (train->n_classes, ==, 3);
  g_assert_cmpuint (test->n_classes, ==, 3);
  g_assert_cmpstr (names[2], ==, "bird");

  d = load (spec, NULL);
  g_assert_cmpstr (d->name, ==, "pair-train.csv");
  g_assert_cmpuint (d->test->n, ==, 3);
  g_assert_cmpuint (d->train->n + d->val->n, ==, 3);
  g_assert_cmpstr (d->class_names[1], ==, "dog");

  bad = pl_data_load (bad_spec, NULL, &error);
  g_assert_null (bad);
  g_assert_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_MISMATCH);
}

static void
test_csv_holds_out_test (void)
{
  GString *text = g_string_new ("f1,f2,label\n");
  g_autofree char *path = NULL;
  g_autofree char *spec = NULL;
  g_autoptr(PlData) d = NULL;
  g_autoptr(PlData) again = NULL;
  PlDataOptions options = PL_DATA_OPTIONS_INIT;

  for (guint i = 0; i < 103; i++)
    g_string_append_printf (text, "%u,%u,%u\n", i, 2 * i, i % 3);
  path = write_text ("hold-out.csv", text->str);
  spec = g_strdup_printf ("csv:%s", path);
  options.split_seed = 5;
  d = load (spec, &options);
  again = load (spec, &options);

  g_assert_cmpuint (d->test->n, ==, 21);   /* round (103 / 5) */
  g_assert_cmpuint (d->val->n, ==, 16);    /* round (82 / 5) */
  g_assert_cmpuint (d->train->n, ==, 66);
  g_assert_cmpmem (d->test->x, 21 * 2 * sizeof (float), again->test->x, 21 * 2 * sizeof (float));
  g_assert_cmpuint (g_strv_length (d->class_names), ==, 3);
  g_assert_cmpstr (d->class_names[2], ==, "2");

  /* every row lands in exactly one split: feature 1 is the row number */
  {
    g_autofree guint8 *seen = g_new0 (guint8, 103);
    PlDataset *splits[3] = { d->train, d->val, d->test };

    for (guint s = 0; s < 3; s++)
      for (guint i = 0; i < splits[s]->n; i++)
        seen[(guint) splits[s]->x[2 * i]]++;
    for (guint i = 0; i < 103; i++)
      g_assert_cmpuint (seen[i], ==, 1);
  }
  g_string_free (text, TRUE);
}

/* ---- splits and standardisation ----------------------------------------------------- */

static void
test_split_sizes (void)
{
  PlDataOptions options = PL_DATA_OPTIONS_INIT;
  g_autoptr(PlData) d = NULL;
  g_autoptr(PlData) none = NULL;
  g_autoptr(PlData) trimmed = NULL;

  options.val_size = 123;
  d = load ("xor", &options);
  g_assert_cmpuint (d->val->n, ==, 123);
  g_assert_cmpuint (d->train->n, ==, 877);
  g_assert_cmpuint (d->val->n_features, ==, 2);
  g_assert_cmpuint (d->val->n_classes, ==, 2);

  options.val_size = 0;
  none = load ("xor", &options);
  g_assert_cmpuint (none->val->n, ==, 0);
  g_assert_cmpuint (none->val->n_features, ==, 2);
  g_assert_cmpuint (none->train->n, ==, 1000);

  options.val_size = -1;
  options.max_train = 50;
  trimmed = load ("xor", &options);
  g_assert_cmpuint (trimmed->train->n, ==, 50);
  g_assert_cmpuint (trimmed->val->n, ==, 200);
  g_assert_cmpuint (trimmed->test->n, ==, 1000);
}

static void
test_split_deterministic (void)
{
  PlDataOptions options = PL_DATA_OPTIONS_INIT;
  g_autoptr(PlData) a = NULL;
  g_autoptr(PlData) b = NULL;
  g_autoptr(PlData) c = NULL;
  g_autoptr(PlData) whole = NULL;
  double sum_parts = 0, sum_whole = 0;

  options.split_seed = 11;
  a = load ("circles", &options);
  b = load ("circles", &options);
  options.split_seed = 12;
  c = load ("circles", &options);
  g_assert_cmpmem (a->val->x, a->val->n * 2 * sizeof (float),
                   b->val->x, b->val->n * 2 * sizeof (float));
  g_assert_cmpmem (a->train->y, a->train->n * sizeof (guint32),
                   b->train->y, b->train->n * sizeof (guint32));
  g_assert_cmpuint (memcmp (a->val->x, c->val->x, a->val->n * 2 * sizeof (float)), !=, 0);

  /* the split keeps every sample */
  options.val_size = 0;
  whole = load ("circles", &options);
  for (guint k = 0; k < 2000; k++)
    sum_whole += whole->train->x[k];
  for (guint k = 0; k < 2 * a->train->n; k++)
    sum_parts += a->train->x[k];
  for (guint k = 0; k < 2 * a->val->n; k++)
    sum_parts += a->val->x[k];
  g_assert_cmpfloat_with_epsilon (sum_parts, sum_whole, 1e-6);
}

static void
test_split_rejects_too_large (void)
{
  PlDataOptions options = PL_DATA_OPTIONS_INIT;
  int sizes[] = { 1000, 5000, G_MAXINT, -2 };

  for (guint i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(PlData) d = NULL;

      options.val_size = sizes[i];
      d = pl_data_load ("moons", &options, &error);
      g_assert_null (d);
      g_assert_error (error, PL_SPEC_ERROR, PL_SPEC_ERROR_INVALID);
    }
}

static void
test_standardize (void)
{
  PlDataOptions options = PL_DATA_OPTIONS_INIT;
  g_autoptr(PlData) raw = load ("blobs:n=2000", &options);
  g_autoptr(PlData) d = NULL;

  options.standardize = TRUE;
  d = load ("blobs:n=2000", &options);
  g_assert_nonnull (d->feature_mean);
  g_assert_nonnull (d->feature_std);
  for (guint j = 0; j < 2; j++)
    {
      double sum = 0, sq = 0;

      for (guint i = 0; i < d->train->n; i++)
        sum += d->train->x[2 * i + j];
      for (guint i = 0; i < d->train->n; i++)
        sq += pow (d->train->x[2 * i + j] - sum / d->train->n, 2);
      g_assert_cmpfloat_with_epsilon (sum / d->train->n, 0.0, 1e-5);
      g_assert_cmpfloat_with_epsilon (sqrt (sq / d->train->n), 1.0, 1e-4);

      /* test and validation use the training statistics */
      for (guint i = 0; i < 10; i++)
        {
          g_assert_cmpfloat_with_epsilon (d->test->x[2 * i + j],
                                          (raw->test->x[2 * i + j] - d->feature_mean[j])
                                          / d->feature_std[j], 1e-5);
          g_assert_cmpfloat_with_epsilon (d->val->x[2 * i + j],
                                          (raw->val->x[2 * i + j] - d->feature_mean[j])
                                          / d->feature_std[j], 1e-5);
        }
    }
}

static void
test_standardize_constant_feature (void)
{
  g_autofree char *path = write_text ("constant.csv", "7,1,0\n7,2,1\n7,3,0\n7,4,1\n7,5,1\n");
  g_autofree char *spec = g_strdup_printf ("csv:%s", path);
  PlDataOptions options = PL_DATA_OPTIONS_INIT;
  g_autoptr(PlData) d = NULL;

  options.standardize = TRUE;
  d = load (spec, &options);
  g_assert_cmpfloat (d->feature_std[0], ==, 1.0f);
  g_assert_cmpfloat (d->feature_mean[0], ==, 7.0f);
  for (guint i = 0; i < d->train->n; i++)
    g_assert_cmpfloat (d->train->x[2 * i], ==, 0.0f);
  assert_dataset_valid (d->test);
}

/* ---- Fashion-MNIST ------------------------------------------------------------------ */

static void
test_fashion_mnist (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PlData) d = NULL;
  float lo = G_MAXFLOAT, hi = -G_MAXFLOAT;
  gint64 start;
  guint counts[10] = { 0, };

  if (!g_file_test (PL_FASHION_MNIST_DIR, G_FILE_TEST_IS_DIR))
    {
      g_test_skip ("Fashion-MNIST is not installed in " PL_FASHION_MNIST_DIR
                   "; install it with “apt-get install dataset-fashion-mnist”");
      return;
    }

  start = g_get_monotonic_time ();
  d = pl_data_load ("fashion-mnist", NULL, &error);
  g_assert_no_error (error);
  g_test_message ("loaded Fashion-MNIST in %.3f s",
                  (g_get_monotonic_time () - start) / 1e6);

  g_assert_cmpstr (d->name, ==, "fashion-mnist");
  g_assert_cmpuint (d->train->n, ==, 55000);
  g_assert_cmpuint (d->val->n, ==, 5000);
  g_assert_cmpuint (d->test->n, ==, 10000);
  g_assert_cmpuint (d->n_features, ==, 784);
  g_assert_cmpuint (d->n_classes, ==, 10);
  g_assert_cmpuint (d->image_width, ==, 28);
  g_assert_cmpuint (d->image_height, ==, 28);
  g_assert_cmpuint (g_strv_length (d->class_names), ==, 10);
  g_assert_cmpstr (d->class_names[9], ==, "Ankle boot");
  for (gsize k = 0; k < (gsize) d->test->n * 784; k++)
    {
      lo = MIN (lo, d->test->x[k]);
      hi = MAX (hi, d->test->x[k]);
    }
  g_assert_cmpfloat (lo, ==, 0.0f);
  g_assert_cmpfloat (hi, ==, 1.0f);
  for (guint i = 0; i < d->test->n; i++)
    counts[d->test->y[i]]++;
  for (guint c = 0; c < 10; c++)
    g_assert_cmpuint (counts[c], ==, 1000);
}

/* ---- robustness --------------------------------------------------------------------- */

/* Flips, overwrites, truncates or extends a copy of @bytes. */
static GBytes *
mutate (GBytes *bytes,
        PlRng  *rng)
{
  gsize len;
  const guint8 *data = g_bytes_get_data (bytes, &len);
  GByteArray *a = g_byte_array_sized_new (len + 64);
  guint n_edits = 1 + pl_rng_below (rng, 4);
  static const char csv_chars[] = ",\n\r\" .-+e0123456789naifNI\t\0\xff";

  g_byte_array_append (a, data, len);
  for (guint e = 0; e < n_edits; e++)
    {
      guint kind = pl_rng_below (rng, 6);
      gsize at = a->len > 0 ? pl_rng_below (rng, a->len) : 0;

      if (kind == 0 && a->len > 0)
        a->data[at] ^= 1u << pl_rng_below (rng, 8);
      else if (kind == 1 && a->len > 0)
        a->data[at] = pl_rng_next (rng);
      else if (kind == 2 && a->len > 0)
        a->data[at] = csv_chars[pl_rng_below (rng, sizeof csv_chars - 1)];
      else if (kind == 3)
        g_byte_array_set_size (a, at);
      else if (kind == 4)
        {
          guint8 extra[16];
          guint n = 1 + pl_rng_below (rng, sizeof extra);

          for (guint i = 0; i < n; i++)
            extra[i] = pl_rng_below (rng, 2) ? pl_rng_next (rng) : 0;
          g_byte_array_append (a, extra, n);
        }
      else if (a->len > 0)
        g_byte_array_remove_index (a, at);
    }
  return g_byte_array_free_to_bytes (a);
}

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
    write_bytes ("fuzz-images", images), write_bytes ("fuzz-labels", labels),
    write_bytes ("fuzz-images.gz", gz_images), write_bytes ("fuzz-labels.gz", gz_labels),
  };
  guint n_ok = 0, n_error = 0;
  PlRng rng;

  pl_rng_init (&rng, 2024);
  for (guint iter = 0; iter < 2000; iter++)
    {
      guint target = iter % 4;                 /* images, labels, gz images, gz labels */
      guint partner = target ^ 1;
      g_autoptr(GBytes) m = mutate (sources[target], &rng);
      g_autofree char *mutant = write_bytes ("fuzz-mutant", m);
      g_autoptr(GError) error = NULL;
      g_autoptr(PlDataset) d = NULL;

      if (target % 2 == 0)
        d = pl_idx_read (mutant, intact[partner], &error);
      else
        d = pl_idx_read (intact[partner], mutant, &error);
      if (d != NULL)
        {
          g_assert_no_error (error);
          assert_dataset_valid (d);
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

static void
test_fuzz_csv (void)
{
  static const char csv[] = "sepal,petal,\"kind\"\n5.1,1.4,setosa\n7.0,4.7,versicolor\n"
                            "6.3,6.0,virginica\n4.9,1.4,setosa\n-1e-3,+2.5,versicolor\n";
  g_autoptr(GBytes) text = g_bytes_new_static (csv, sizeof csv - 1);
  guint n_ok = 0, n_error = 0;
  PlRng rng;

  pl_rng_init (&rng, 77);
  for (guint iter = 0; iter < 3000; iter++)
    {
      g_autoptr(GBytes) m = mutate (text, &rng);
      g_autoptr(GError) error = NULL;
      g_auto(GStrv) names = NULL;
      g_autoptr(PlDataset) d = NULL;
      const char *labels[] = { NULL, "kind", "0", "7" };
      int header = (int) pl_rng_below (&rng, 3) - 1;
      gsize len;
      const char *data = g_bytes_get_data (m, &len);
      g_autofree char *path = write_file ("fuzz.csv", data, len);

      d = pl_csv_read (path, labels[iter % 4], header, &names, &error);
      if (d != NULL)
        {
          g_assert_no_error (error);
          assert_dataset_valid (d);
          if (names != NULL)
            g_assert_cmpuint (g_strv_length (names), ==, d->n_classes);
          n_ok++;
        }
      else
        {
          g_assert_nonnull (error);
          g_assert_null (names);
          g_assert_true (g_utf8_validate (error->message, -1, NULL));
          n_error++;
        }
    }
  g_test_message ("CSV mutations: %u read, %u rejected", n_ok, n_error);
  g_assert_cmpuint (n_error, >, 0);
  g_assert_cmpuint (n_ok, >, 0);
}

/* tests/data/bad/idx-WHAT--CODE.idx[.gz] and csv-WHAT--CODE.csv: CODE names the expected
 * PL_FORMAT_ERROR code (the convention of test-safetensors). */
static int
code_from_name (const char *name)
{
  static const struct { const char *tag; int code; } codes[] = {
    { "--truncated.", PL_FORMAT_ERROR_TRUNCATED },
    { "--bad-magic.", PL_FORMAT_ERROR_BAD_MAGIC },
    { "--bad-header.", PL_FORMAT_ERROR_BAD_HEADER },
    { "--bad-dtype.", PL_FORMAT_ERROR_BAD_DTYPE },
    { "--bad-shape.", PL_FORMAT_ERROR_BAD_SHAPE },
    { "--too-large.", PL_FORMAT_ERROR_TOO_LARGE },
    { "--bad-label.", PL_FORMAT_ERROR_BAD_LABEL },
    { "--bad-value.", PL_FORMAT_ERROR_BAD_VALUE },
    { "--mismatch.", PL_FORMAT_ERROR_MISMATCH },
    { "--failed.", PL_FORMAT_ERROR_FAILED },
  };

  for (guint i = 0; i < G_N_ELEMENTS (codes); i++)
    if (strstr (name, codes[i].tag) != NULL)
      return codes[i].code;

  g_error ("%s: name the expected code, as idx-WHAT--bad-shape.idx", name);
}

static void
test_bad_file (gconstpointer user_data)
{
  const char *path = user_data;
  g_autofree char *name = g_path_get_basename (path);
  g_autoptr(GError) error = NULL;

  if (g_str_has_suffix (name, ".csv"))
    {
      g_autoptr(PlDataset) d = pl_csv_read (path, NULL, -1, NULL, &error);

      g_assert_null (d);
    }
  else
    {
      guint32 dims[4];
      g_autoptr(GBytes) bytes = pl_idx_read_file (path, 0, dims, 1 << 20, &error);

      g_assert_null (bytes);
    }
  g_assert_nonnull (error);
  g_test_message ("%s", error->message);
  g_assert_error (error, PL_FORMAT_ERROR, code_from_name (name));
  assert_message_names (error, path);
}

static int
compare_names (gconstpointer a,
               gconstpointer b)
{
  return strcmp (*(const char * const *) a, *(const char * const *) b);
}

static void
add_bad_file_tests (void)
{
  g_autofree char *dir = g_test_build_filename (G_TEST_DIST, "data", "bad", NULL);
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    if ((g_str_has_prefix (name, "csv-") && g_str_has_suffix (name, ".csv"))
        || (g_str_has_prefix (name, "idx-")
            && (g_str_has_suffix (name, ".idx") || g_str_has_suffix (name, ".idx.gz"))))
      g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, compare_names);
  g_assert_cmpuint (names->len, >, 0);

  for (guint i = 0; i < names->len; i++)
    {
      const char *file = g_ptr_array_index (names, i);
      g_autofree char *test_path = g_strdup_printf ("/data/%.3s/bad/%s", file, file);

      g_test_add_data_func_full (test_path, g_build_filename (dir, file, NULL),
                                 test_bad_file, g_free);
    }
}

int
main (int   argc,
      char *argv[])
{
  const char * const *names = pl_synthetic_names ();
  g_autoptr(GError) error = NULL;
  int ret;

  g_test_init (&argc, &argv, NULL);
  g_test_summary ("Datasets: built-in sets, spec parsing, IDX and CSV readers, splits");

  tmp_dir = g_dir_make_tmp ("pl-test-dataset-XXXXXX", &error);
  g_assert_no_error (error);

  for (guint i = 0; names[i] != NULL; i++)
    {
      g_autofree char *a = g_strdup_printf ("/data/synthetic/%s/is-deterministic", names[i]);
      g_autofree char *b = g_strdup_printf ("/data/synthetic/%s/depends-on-seed", names[i]);
      g_autofree char *c = g_strdup_printf ("/data/synthetic/%s/has-balanced-classes",
                                            names[i]);

      g_test_add_data_func (a, names[i], test_synthetic_deterministic);
      g_test_add_data_func (b, names[i], test_synthetic_seeded);
      g_test_add_data_func (c, names[i], test_synthetic_shape);
    }
  g_test_add_func ("/data/synthetic/noiseless-shapes-match-labels",
                   test_synthetic_noiseless_geometry);
  g_test_add_func ("/data/synthetic/rejects-bad-arguments", test_synthetic_rejects);

  g_test_add_func ("/data/spec/synthetic-has-defaults", test_spec_synthetic_defaults);
  g_test_add_func ("/data/spec/synthetic-takes-options", test_spec_synthetic_options);
  g_test_add_func ("/data/spec/test-set-is-separate-draw", test_spec_test_set_independent);
  g_test_add_func ("/data/spec/rejects-malformed", test_spec_rejects);
  g_test_add_func ("/data/spec/missing-directory-suggests-package", test_spec_missing_directory);
  g_test_add_func ("/data/spec/missing-idx-file-is-named", test_spec_missing_file);
  g_test_add_func ("/data/spec/missing-csv-is-named", test_spec_missing_csv);

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

  g_test_add_func ("/data/csv/reads-header-and-label-by-name", test_csv_header_and_label_name);
  g_test_add_func ("/data/csv/reads-label-by-index", test_csv_label_index);
  g_test_add_func ("/data/csv/defaults-to-last-column", test_csv_default_last_column);
  g_test_add_func ("/data/csv/maps-string-labels", test_csv_string_labels);
  g_test_add_func ("/data/csv/honours-header-modes", test_csv_header_modes);
  g_test_add_func ("/data/csv/reads-quotes-and-spaces", test_csv_quotes_and_spaces);
  g_test_add_func ("/data/csv/reads-long-lines", test_csv_long_lines);
  g_test_add_func ("/data/csv/parses-numbers-exactly", test_csv_numbers_exact);
  g_test_add_func ("/data/csv/test-file-shares-labels", test_csv_pair_shares_labels);
  g_test_add_func ("/data/csv/holds-out-test-set", test_csv_holds_out_test);
  g_test_add_func ("/data/csv/rejects-ragged-rows", test_csv_rejects_ragged);
  g_test_add_func ("/data/csv/rejects-bad-values", test_csv_rejects_bad_values);
  g_test_add_func ("/data/csv/rejects-bad-label-column", test_csv_rejects_label_column);
  g_test_add_func ("/data/csv/rejects-empty", test_csv_rejects_empty);
  g_test_add_func ("/data/csv/rejects-too-many-classes", test_csv_rejects_too_many_classes);
  g_test_add_func ("/data/csv/rejects-huge-file", test_csv_rejects_huge_file);

  g_test_add_func ("/data/split/has-requested-sizes", test_split_sizes);
  g_test_add_func ("/data/split/is-deterministic", test_split_deterministic);
  g_test_add_func ("/data/split/rejects-too-large-validation", test_split_rejects_too_large);
  g_test_add_func ("/data/standardize/centres-training-split", test_standardize);
  g_test_add_func ("/data/standardize/keeps-constant-feature", test_standardize_constant_feature);

  g_test_add_func ("/data/fashion-mnist/loads-official-splits", test_fashion_mnist);

  g_test_add_func ("/data/fuzz/idx-survives-mutations", test_fuzz_idx);
  g_test_add_func ("/data/fuzz/csv-survives-mutations", test_fuzz_csv);

  add_bad_file_tests ();

  ret = g_test_run ();
  remove_tree (tmp_dir);
  g_free (tmp_dir);

  return ret;
}
