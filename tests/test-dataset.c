/* test-dataset.c — datasets as a user names them: the built-in synthetic sets, dataset specs,
 * train/validation/test splits, standardisation and Fashion-MNIST (the readers of the files
 * are in test-idx.c and test-csv.c) */
#define G_LOG_DOMAIN "test-dataset"

#include "config.h"

#include <math.h>
#include <string.h>

#include <gio/gio.h>
#include <glib/gstdio.h>

#include "pl-dataset.h"
#include "pl-error.h"
#include "pl-rng.h"
#include "pl-test-util.h"

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
  pl_test_assert_dataset_valid (d);
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

/* The image set: 28×28 pixels in [0, 1], balanced classes, deterministic, seeded. */
static void
test_shapes_images (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PlDataset) a = pl_synthetic_make ("shapes", 803, -1, 0, 42, &error);
  g_autoptr(PlDataset) b = pl_synthetic_make ("shapes", 803, -1, 0, 42, &error);
  g_autoptr(PlDataset) c = pl_synthetic_make ("shapes", 803, -1, 0, 43, &error);
  gsize n = (gsize) a->n * a->n_features, same = 0;
  guint counts[8] = { 0, };

  g_assert_no_error (error);
  g_assert_cmpuint (pl_synthetic_image_side ("shapes"), ==, 28);
  g_assert_cmpuint (pl_synthetic_image_side ("spiral"), ==, 0);
  g_assert_cmpuint (a->n_features, ==, 28 * 28);
  g_assert_cmpuint (a->n_classes, ==, 8);
  pl_test_assert_dataset_valid (a);
  g_assert_cmpmem (a->x, n * sizeof (float), b->x, n * sizeof (float));
  for (gsize k = 0; k < n; k++)
    {
      g_assert_cmpfloat (a->x[k], >=, 0.0f);
      g_assert_cmpfloat (a->x[k], <=, 1.0f);
      same += a->x[k] == c->x[k];
    }
  /* only pixels clipped to 0 in both draws agree */
  g_assert_cmpuint (same, <, n / 2);
  for (guint i = 0; i < a->n; i++)
    counts[a->y[i]]++;
  for (guint k = 0; k < 8; k++)
    g_assert_cmpuint (counts[k], >=, 100);
}

/* Moments of a noiseless image's ink: the centroid, and the variances along x and y and
 * along the diagonals, in pixels². */
typedef struct {
  double ink, cx, cy, vx, vy, vd, va;
} Moments;

static Moments
ink_moments (const float *image)
{
  Moments m = { 0, };

  for (guint y = 0; y < 28; y++)
    for (guint x = 0; x < 28; x++)
      {
        m.ink += image[y * 28 + x];
        m.cx += image[y * 28 + x] * x;
        m.cy += image[y * 28 + x] * y;
      }
  m.cx /= m.ink;
  m.cy /= m.ink;
  for (guint y = 0; y < 28; y++)
    for (guint x = 0; x < 28; x++)
      {
        double dx = x - m.cx, dy = y - m.cy, v = image[y * 28 + x] / m.ink;

        m.vx += v * dx * dx;
        m.vy += v * dy * dy;
        m.vd += v * (dx + dy) * (dx + dy) / 2;   /* along x = y (image y downwards) */
        m.va += v * (dx - dy) * (dx - dy) / 2;   /* along x = −y: the "/" diagonal */
      }
  return m;
}

/* Without noise each class is its shape, read from the ink's moments (an independent check of
 * the geometry, not of the drawing code): a horizontal bar spreads along x, a vertical one along
 * y, the diagonal along "/", the plus and the cross evenly, the ring with a hollow centre, the
 * disc with a filled one; every shape lies within the image, centred within the jitter. */
static void
test_shapes_noiseless_geometry (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PlDataset) d = pl_synthetic_make ("shapes", 400, 0, 8, 5, &error);

  g_assert_no_error (error);
  for (guint i = 0; i < d->n; i++)
    {
      const float *image = d->x + (gsize) i * 784;
      Moments m = ink_moments (image);
      float centre = image[(guint) round (m.cy) * 28 + (guint) round (m.cx)];

      g_assert_cmpfloat (fabs (m.cx - 13.5), <=, 4.5);
      g_assert_cmpfloat (fabs (m.cy - 13.5), <=, 4.5);
      for (guint k = 0; k < 28; k++)   /* nothing drawn on the border */
        {
          g_assert_cmpfloat (image[k], ==, 0.0f);
          g_assert_cmpfloat (image[27 * 28 + k], ==, 0.0f);
        }
      switch (d->y[i])
        {
        case 0: g_assert_cmpfloat (m.vx, >, 4 * m.vy); break;
        case 1: g_assert_cmpfloat (m.vy, >, 4 * m.vx); break;
        case 2: g_assert_cmpfloat (m.va, >, 4 * m.vd); break;
        case 3:
        case 6:
        case 4: g_assert_cmpfloat (m.vx / m.vy, <, 1.3);
                g_assert_cmpfloat (m.vy / m.vx, <, 1.3); break;
        default: break;
        }
      if (d->y[i] == 4)
        g_assert_cmpfloat (centre, <, 0.05f);
      if (d->y[i] == 7 || d->y[i] == 3 || d->y[i] == 6)
        g_assert_cmpfloat (centre, >, 0.5f);
    }
}

static void
test_shapes_spec (void)
{
  g_autoptr(PlData) d = pl_test_load ("shapes:n=500,classes=4", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(PlData) bad = pl_data_load ("shapes:classes=9", NULL, &error);

  g_assert_cmpstr (d->name, ==, "shapes");
  g_assert_cmpuint (d->n_features, ==, 784);
  g_assert_cmpuint (d->image_width, ==, 28);
  g_assert_cmpuint (d->image_height, ==, 28);
  g_assert_cmpuint (d->n_classes, ==, 4);
  g_assert_cmpstr (d->class_names[0], ==, "horizontal bar");
  g_assert_cmpstr (d->class_names[3], ==, "plus");
  g_assert_null (d->class_names[4]);
  g_assert_cmpuint (d->train->n + d->val->n, ==, 500);
  g_assert_cmpuint (d->test->n, ==, 500);
  g_assert_null (bad);
  g_assert_error (error, PL_SPEC_ERROR, PL_SPEC_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "classes=9"));
}

/* ---- specs -------------------------------------------------------------------------- */

static void
test_spec_synthetic_defaults (void)
{
  g_autoptr(PlData) d = pl_test_load ("spiral", NULL);

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
  g_autoptr(PlData) d = pl_test_load ("blobs:n=300,noise=0.5,seed=7,classes=4", NULL);
  g_autoptr(PlData) again = pl_test_load ("blobs:classes=4,seed=7,noise=0.5,n=300", NULL);
  g_autoptr(PlData) other = pl_test_load ("blobs:n=300,noise=0.5,seed=8,classes=4", NULL);

  g_assert_cmpuint (d->n_classes, ==, 4);
  g_assert_cmpuint (d->train->n + d->val->n, ==, 300);
  g_assert_cmpuint (d->test->n, ==, 300);
  g_assert_cmpmem (d->train->x, d->train->n * 2 * sizeof (float),
                   again->train->x, again->train->n * 2 * sizeof (float));
  g_assert_cmpfloat (d->train->x[0], !=, other->train->x[0]);
  pl_test_assert_dataset_valid (d->train);
  pl_test_assert_dataset_valid (d->val);
  pl_test_assert_dataset_valid (d->test);
}

/* The test set is another draw, not a copy of the training data. */
static void
test_spec_test_set_independent (void)
{
  PlDataOptions options = PL_DATA_OPTIONS_INIT;
  g_autoptr(PlData) whole = NULL;
  guint same = 0;

  options.val_size = 0;
  whole = pl_test_load ("moons:n=100", &options);
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
  g_autofree char *missing = g_build_filename (pl_test_tmp_dir (), "no-such-dir", NULL);
  g_autofree char *spec = g_strconcat ("fashion-mnist:", missing, NULL);
  g_autoptr(PlData) d = pl_data_load (spec, NULL, &error);

  g_assert_null (d);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  pl_test_assert_message_names (error, missing);
  g_assert_nonnull (strstr (error->message, "apt-get install dataset-fashion-mnist"));
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
  d = pl_test_load ("xor", &options);
  g_assert_cmpuint (d->val->n, ==, 123);
  g_assert_cmpuint (d->train->n, ==, 877);
  g_assert_cmpuint (d->val->n_features, ==, 2);
  g_assert_cmpuint (d->val->n_classes, ==, 2);

  options.val_size = 0;
  none = pl_test_load ("xor", &options);
  g_assert_cmpuint (none->val->n, ==, 0);
  g_assert_cmpuint (none->val->n_features, ==, 2);
  g_assert_cmpuint (none->train->n, ==, 1000);

  options.val_size = -1;
  options.max_train = 50;
  trimmed = pl_test_load ("xor", &options);
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
  a = pl_test_load ("circles", &options);
  b = pl_test_load ("circles", &options);
  options.split_seed = 12;
  c = pl_test_load ("circles", &options);
  g_assert_cmpmem (a->val->x, a->val->n * 2 * sizeof (float),
                   b->val->x, b->val->n * 2 * sizeof (float));
  g_assert_cmpmem (a->train->y, a->train->n * sizeof (guint32),
                   b->train->y, b->train->n * sizeof (guint32));
  g_assert_cmpuint (memcmp (a->val->x, c->val->x, a->val->n * 2 * sizeof (float)), !=, 0);

  /* the split keeps every sample */
  options.val_size = 0;
  whole = pl_test_load ("circles", &options);
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
  g_autoptr(PlData) raw = pl_test_load ("blobs:n=2000", &options);
  g_autoptr(PlData) d = NULL;

  options.standardize = TRUE;
  d = pl_test_load ("blobs:n=2000", &options);
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
  g_autofree char *path = pl_test_write_text ("constant.csv", "7,1,0\n7,2,1\n7,3,0\n7,4,1\n7,5,1\n");
  g_autofree char *spec = g_strdup_printf ("csv:%s", path);
  PlDataOptions options = PL_DATA_OPTIONS_INIT;
  g_autoptr(PlData) d = NULL;

  options.standardize = TRUE;
  d = pl_test_load (spec, &options);
  g_assert_cmpfloat (d->feature_std[0], ==, 1.0f);
  g_assert_cmpfloat (d->feature_mean[0], ==, 7.0f);
  for (guint i = 0; i < d->train->n; i++)
    g_assert_cmpfloat (d->train->x[2 * i], ==, 0.0f);
  pl_test_assert_dataset_valid (d->test);
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

  if (pl_test_skip_without_fashion_mnist ())
    return;

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

int
main (int   argc,
      char *argv[])
{
  const char * const *names = pl_synthetic_names ();

  g_test_init (&argc, &argv, NULL);
  g_test_summary ("Datasets: built-in sets, spec parsing, splits, standardisation, Fashion-MNIST");

  for (guint i = 0; names[i] != NULL; i++)
    {
      if (pl_synthetic_image_side (names[i]) > 0)
        continue;  /* the image set has its own tests below */
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
  g_test_add_func ("/data/synthetic/shapes/are-seeded-images", test_shapes_images);
  g_test_add_func ("/data/synthetic/shapes/noiseless-shapes-match-labels",
                   test_shapes_noiseless_geometry);
  g_test_add_func ("/data/synthetic/shapes/spec-has-size-and-names", test_shapes_spec);
  g_test_add_func ("/data/spec/synthetic-has-defaults", test_spec_synthetic_defaults);
  g_test_add_func ("/data/spec/synthetic-takes-options", test_spec_synthetic_options);
  g_test_add_func ("/data/spec/test-set-is-separate-draw", test_spec_test_set_independent);
  g_test_add_func ("/data/spec/rejects-malformed", test_spec_rejects);
  g_test_add_func ("/data/spec/missing-directory-suggests-package", test_spec_missing_directory);
  g_test_add_func ("/data/split/has-requested-sizes", test_split_sizes);
  g_test_add_func ("/data/split/is-deterministic", test_split_deterministic);
  g_test_add_func ("/data/split/rejects-too-large-validation", test_split_rejects_too_large);
  g_test_add_func ("/data/standardize/centres-training-split", test_standardize);
  g_test_add_func ("/data/standardize/keeps-constant-feature", test_standardize_constant_feature);
  g_test_add_func ("/data/fashion-mnist/loads-official-splits", test_fashion_mnist);

  return pl_test_run ();
}
