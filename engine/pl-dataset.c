#define G_LOG_DOMAIN "pl-dataset"

#include "config.h"

#include "pl-dataset.h"

#include <math.h>
#include <string.h>

#include <gio/gio.h>
#include <glib/gi18n-lib.h>

#include "pl-error.h"
#include "pl-rng.h"

/* Loading a dataset spec: the reader for its kind gives a training and a test set; the
 * validation set is carved from the training set by a seeded shuffle (for a CSV file without
 * test=FILE, the test set first); then the training set is trimmed and the features
 * standardised on training statistics. */

#define SYNTHETIC_DEFAULT_N     1000u
#define SHAPES_DEFAULT_N        6000u   /* of each of train and test: 4.7 M pixels */
#define SYNTHETIC_MAX_N         10000000u
#define SYNTHETIC_DEFAULT_SEED  1
#define SYNTHETIC_TEST_SEED     0x7e57     /* test seed = seed ^ this: a separate draw */
#define IMAGE_DEFAULT_VAL       5000u
#define STD_FLOOR               1e-6

static const char * const fashion_mnist_classes[] = {
  N_("T-shirt/top"),
  N_("Trouser"),
  N_("Pullover"),
  N_("Dress"),
  N_("Coat"),
  N_("Sandal"),
  N_("Shirt"),
  N_("Sneaker"),
  N_("Bag"),
  N_("Ankle boot"),
};

PlDataset *
pl_dataset_new (guint n,
                guint n_features,
                guint n_classes)
{
  PlDataset *self;
  gsize n_x;

  g_return_val_if_fail (g_size_checked_mul (&n_x, n, n_features), NULL);

  self = g_new0 (PlDataset, 1);
  self->n = n;
  self->n_features = n_features;
  self->n_classes = n_classes;
  if (n_x > 0)
    self->x = g_new0 (float, n_x);
  if (n > 0)
    self->y = g_new0 (guint32, n);

  return self;
}

void
pl_dataset_free (PlDataset *self)
{
  if (self == NULL)
    return;
  g_free (self->x);
  g_free (self->y);
  g_free (self);
}

void
pl_data_free (PlData *self)
{
  if (self == NULL)
    return;
  g_free (self->spec);
  g_free (self->name);
  g_strfreev (self->class_names);
  pl_dataset_free (self->train);
  pl_dataset_free (self->val);
  pl_dataset_free (self->test);
  g_free (self->feature_mean);
  g_free (self->feature_std);
  g_free (self);
}

/* "0", "1", … (transfer full) */
static char **
numbered_class_names (guint n_classes)
{
  char **names = g_new0 (char *, n_classes + 1);

  for (guint i = 0; i < n_classes; i++)
    names[i] = g_strdup_printf ("%u", i);
  return names;
}

/* Round(n / 5), halves up. */
static guint
fifth_of (guint n)
{
  return (guint) (((guint64) n + 2) / 5);
}

/* Moves @n_take samples of @src, chosen by a seeded shuffle, into a new dataset; both keep
 * the file order. The caller makes sure n_take < src->n. (transfer full) */
static PlDataset *
carve (PlDataset *src,
       guint      n_take,
       PlRng     *rng)
{
  gsize nf = src->n_features;
  PlDataset *taken = pl_dataset_new (n_take, src->n_features, src->n_classes);
  g_autofree guint32 *perm = NULL;
  g_autofree guint8 *chosen = NULL;
  gsize t = 0, k = 0;

  g_assert (n_take < src->n);
  if (n_take == 0)
    return taken;

  perm = g_new (guint32, src->n);
  chosen = g_new0 (guint8, src->n);
  for (guint i = 0; i < src->n; i++)
    perm[i] = i;
  pl_rng_shuffle (rng, perm, src->n);
  for (guint i = 0; i < n_take; i++)
    chosen[perm[i]] = 1;

  /* Chosen rows are copied out; the others slide down in place (k ≤ i, rows never overlap). */
  for (gsize i = 0; i < src->n; i++)
    {
      if (chosen[i])
        {
          memcpy (taken->x + t * nf, src->x + i * nf, nf * sizeof (float));
          taken->y[t++] = src->y[i];
        }
      else
        {
          if (k != i)
            memcpy (src->x + k * nf, src->x + i * nf, nf * sizeof (float));
          src->y[k++] = src->y[i];
        }
    }
  src->n = k;
  src->x = g_renew (float, src->x, k * nf);
  src->y = g_renew (guint32, src->y, k);

  return taken;
}

static void
trim (PlDataset *data,
      guint      n)
{
  if (n == 0 || n >= data->n)
    return;
  data->n = n;
  data->x = g_renew (float, data->x, (gsize) n * data->n_features);
  data->y = g_renew (guint32, data->y, n);
}

static void
apply_standardization (PlDataset   *data,
                       const float *mean,
                       const float *inv_std)
{
  gsize nf = data->n_features;

  for (gsize i = 0; i < data->n; i++)
    {
      float *row = data->x + i * nf;

      for (gsize j = 0; j < nf; j++)
        row[j] = (row[j] - mean[j]) * inv_std[j];
    }
}

/* x' = (x − mean) / std with the mean and the population standard deviation of the training
 * split; a feature with std below STD_FLOOR (constant, e.g. a border pixel) keeps std 1. */
static void
standardize (PlData *data)
{
  const PlDataset *train = data->train;
  gsize nf = data->n_features;
  g_autofree double *sum = g_new0 (double, nf);
  g_autofree double *sq = g_new0 (double, nf);
  g_autofree float *inv_std = g_new (float, nf);

  data->feature_mean = g_new (float, nf);
  data->feature_std = g_new (float, nf);

  for (gsize i = 0; i < train->n; i++)
    for (gsize j = 0; j < nf; j++)
      sum[j] += train->x[i * nf + j];
  for (gsize j = 0; j < nf; j++)
    sum[j] /= MAX (train->n, 1);
  for (gsize i = 0; i < train->n; i++)
    for (gsize j = 0; j < nf; j++)
      {
        double d = train->x[i * nf + j] - sum[j];

        sq[j] += d * d;
      }
  for (gsize j = 0; j < nf; j++)
    {
      double sd = sqrt (sq[j] / MAX (train->n, 1));

      data->feature_mean[j] = (float) sum[j];
      data->feature_std[j] = sd < STD_FLOOR ? 1.0f : (float) sd;
      inv_std[j] = 1.0f / data->feature_std[j];
    }

  apply_standardization (data->train, data->feature_mean, inv_std);
  apply_standardization (data->val, data->feature_mean, inv_std);
  apply_standardization (data->test, data->feature_mean, inv_std);
}

/* ---- spec parsing ------------------------------------------------------------------- */

static void
set_spec_error (GError     **error,
                int          code,
                const char  *spec,
                const char  *format,
                ...) G_GNUC_PRINTF (4, 5);

static void
set_spec_error (GError     **error,
                int          code,
                const char  *spec,
                const char  *format,
                ...)
{
  g_autofree char *shown = g_utf8_make_valid (spec, -1);
  g_autofree char *problem = NULL;
  g_autofree char *shown_problem = NULL;
  va_list args;

  va_start (args, format);
  problem = g_strdup_vprintf (format, args);
  va_end (args);

  /* The problem quotes parts of the spec: bytes from a command line, not always UTF-8. */
  shown_problem = g_utf8_make_valid (problem, -1);
  g_set_error (error, PL_SPEC_ERROR, code, _("Invalid dataset spec “%s”: %s"), shown,
               shown_problem);
}

static const char *
find_idx_file (const char *dir,
               const char *base,
               char      **path)
{
  /* Debian's dataset-fashion-mnist installs the .gz files; some MNIST mirrors drop the gzip
   * or spell the names with a dot ("train-images.idx3-ubyte"). */
  g_autofree char *dotted = g_strdup (base);
  char *dash = strstr (dotted, "-idx");
  const char *candidates[4];

  if (dash != NULL)
    *dash = '.';
  candidates[0] = base;
  candidates[1] = "gz";
  candidates[2] = dotted;
  candidates[3] = "gz";

  for (guint i = 0; i < G_N_ELEMENTS (candidates); i += 2)
    {
      g_autofree char *raw = g_build_filename (dir, candidates[i], NULL);
      g_autofree char *gz = g_strconcat (raw, ".gz", NULL);

      if (g_file_test (raw, G_FILE_TEST_IS_REGULAR))
        {
          *path = g_steal_pointer (&raw);
          return *path;
        }
      if (g_file_test (gz, G_FILE_TEST_IS_REGULAR))
        {
          *path = g_steal_pointer (&gz);
          return *path;
        }
    }
  *path = NULL;
  return NULL;
}

static gboolean
load_idx (PlData      *data,
          const char  *kind,
          const char  *dir,
          gboolean    *is_image,
          GError     **error)
{
  static const char * const files[4] = {
    "train-images-idx3-ubyte", "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte",
  };
  gboolean fashion = strcmp (kind, "fashion-mnist") == 0;
  const char *hint = fashion ? _(" (install it with “apt-get install dataset-fashion-mnist”)")
                             : "";
  g_autofree char *shown_dir = NULL;
  char *paths[4] = { NULL, };
  guint w[2] = { 0, }, h[2] = { 0, };
  gboolean ok = FALSE;

  if (dir == NULL && fashion)
    dir = PL_FASHION_MNIST_DIR;
  if (dir == NULL || *dir == '\0')
    {
      set_spec_error (error, PL_SPEC_ERROR_INVALID, data->spec,
                      _("%s needs a directory, as in %s:DIR"), kind, kind);
      return FALSE;
    }

  shown_dir = g_filename_display_name (dir);
  if (!g_file_test (dir, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                   _("Dataset directory “%s” does not exist%s"), shown_dir, hint);
      return FALSE;
    }

  for (guint i = 0; i < 4; i++)
    {
      if (find_idx_file (dir, files[i], &paths[i]) == NULL)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                       _("Dataset directory “%s” holds no %s or %s.gz%s"),
                       shown_dir, files[i], files[i], hint);
          goto out;
        }
    }

  data->train = pl_idx_read_images (paths[0], paths[1], &w[0], &h[0], error);
  if (data->train == NULL)
    goto out;
  data->test = pl_idx_read_images (paths[2], paths[3], &w[1], &h[1], error);
  if (data->test == NULL)
    goto out;
  if (w[0] != w[1] || h[0] != h[1])
    {
      g_autofree char *a = g_filename_display_name (paths[0]);
      g_autofree char *b = g_filename_display_name (paths[2]);

      g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_MISMATCH,
                   _("“%s” holds %u × %u images but “%s” holds %u × %u"),
                   a, w[0], h[0], b, w[1], h[1]);
      goto out;
    }

  data->image_width = w[0];
  data->image_height = h[0];
  data->n_features = data->train->n_features;
  data->n_classes = data->train->n_classes;
  if (fashion)
    {
      data->class_names = g_new0 (char *, G_N_ELEMENTS (fashion_mnist_classes) + 1);
      for (guint i = 0; i < G_N_ELEMENTS (fashion_mnist_classes); i++)
        data->class_names[i] = g_strdup (_(fashion_mnist_classes[i]));
    }
  else
    {
      data->class_names = numbered_class_names (data->n_classes);
    }
  if (strcmp (kind, "idx") == 0)
    {
      g_autofree char *base = g_path_get_basename (dir);

      data->name = g_filename_display_name (base);
    }
  else
    {
      data->name = g_strdup (kind);
    }
  *is_image = TRUE;
  ok = TRUE;

out:
  for (guint i = 0; i < 4; i++)
    g_free (paths[i]);
  return ok;
}

static gboolean
load_csv (PlData      *data,
          const char  *arg,
          gboolean    *hold_out_test,
          GError     **error)
{
  g_auto(GStrv) parts = NULL;
  const char *label = NULL;
  const char *test = NULL;
  int header = -1;
  gboolean header_set = FALSE;
  g_autofree char *base = NULL;

  if (arg == NULL || *arg == '\0')
    {
      set_spec_error (error, PL_SPEC_ERROR_INVALID, data->spec,
                      _("csv needs a file, as in csv:FILE"));
      return FALSE;
    }

  parts = g_strsplit (arg, ",", -1);
  if (*parts[0] == '\0')
    {
      set_spec_error (error, PL_SPEC_ERROR_INVALID, data->spec,
                      _("csv needs a file, as in csv:FILE"));
      return FALSE;
    }

  for (guint i = 1; parts[i] != NULL; i++)
    {
      char *eq = strchr (parts[i], '=');
      const char *value;

      if (eq == NULL || eq == parts[i] || eq[1] == '\0')
        {
          set_spec_error (error, PL_SPEC_ERROR_INVALID, data->spec,
                          _("“%s” is not KEY=VALUE"), parts[i]);
          return FALSE;
        }
      *eq = '\0';
      value = eq + 1;

      if (strcmp (parts[i], "label") == 0 && label == NULL)
        label = value;
      else if (strcmp (parts[i], "test") == 0 && test == NULL)
        test = value;
      else if (strcmp (parts[i], "header") == 0 && !header_set)
        {
          header_set = TRUE;
          if (strcmp (value, "yes") == 0)
            header = 1;
          else if (strcmp (value, "no") == 0)
            header = 0;
          else if (strcmp (value, "detect") == 0)
            header = -1;
          else
            {
              set_spec_error (error, PL_SPEC_ERROR_INVALID, data->spec,
                              _("header must be yes, no or detect, not “%s”"), value);
              return FALSE;
            }
        }
      else if (strcmp (parts[i], "label") == 0 || strcmp (parts[i], "test") == 0
               || strcmp (parts[i], "header") == 0)
        {
          set_spec_error (error, PL_SPEC_ERROR_INVALID, data->spec,
                          _("%s is given twice"), parts[i]);
          return FALSE;
        }
      else
        {
          set_spec_error (error, PL_SPEC_ERROR_INVALID, data->spec,
                          _("unknown option “%s” (csv takes label, header and test)"),
                          parts[i]);
          return FALSE;
        }
    }

  if (!pl_csv_read_pair (parts[0], test, label, header, &data->train,
                         test != NULL ? &data->test : NULL, &data->class_names, error))
    return FALSE;

  data->n_features = data->train->n_features;
  data->n_classes = data->train->n_classes;
  if (data->class_names == NULL)
    data->class_names = numbered_class_names (data->n_classes);
  base = g_path_get_basename (parts[0]);
  data->name = g_filename_display_name (base);
  *hold_out_test = test == NULL;

  return TRUE;
}

static gboolean
parse_uint (const char  *spec,
            const char  *key,
            const char  *value,
            guint64      min,
            guint64      max,
            guint64     *out,
            GError     **error)
{
  if (!g_ascii_string_to_unsigned (value, 10, min, max, out, NULL))
    {
      set_spec_error (error, PL_SPEC_ERROR_INVALID, spec,
                      _("%s=%s is not a whole number from %llu to %llu"),
                      key, value, (unsigned long long) min, (unsigned long long) max);
      return FALSE;
    }
  return TRUE;
}

static gboolean
load_synthetic (PlData      *data,
                const char  *name,
                const char  *arg,
                GError     **error)
{
  g_auto(GStrv) parts = NULL;
  guint side = pl_synthetic_image_side (name);
  guint64 n = side > 0 ? SHAPES_DEFAULT_N : SYNTHETIC_DEFAULT_N;
  guint64 seed = SYNTHETIC_DEFAULT_SEED;
  guint64 classes = 0;
  double noise = -1;
  guint seen = 0;

  if (arg != NULL && *arg == '\0')
    {
      set_spec_error (error, PL_SPEC_ERROR_INVALID, data->spec,
                      _("no options after “:”; %s takes n, noise, seed and classes"), name);
      return FALSE;
    }
  if (arg != NULL)
    parts = g_strsplit (arg, ",", -1);
  for (guint i = 0; parts != NULL && parts[i] != NULL; i++)
    {
      static const char * const keys[] = { "n", "noise", "seed", "classes" };
      char *eq = strchr (parts[i], '=');
      const char *value;
      guint k;

      if (eq == NULL || eq == parts[i] || eq[1] == '\0')
        {
          set_spec_error (error, PL_SPEC_ERROR_INVALID, data->spec,
                          _("“%s” is not KEY=VALUE"), parts[i]);
          return FALSE;
        }
      *eq = '\0';
      value = eq + 1;

      for (k = 0; k < G_N_ELEMENTS (keys); k++)
        if (strcmp (parts[i], keys[k]) == 0)
          break;
      if (k == G_N_ELEMENTS (keys))
        {
          set_spec_error (error, PL_SPEC_ERROR_INVALID, data->spec,
                          _("unknown option “%s” (%s takes n, noise, seed and classes)"),
                          parts[i], name);
          return FALSE;
        }
      if (seen & (1u << k))
        {
          set_spec_error (error, PL_SPEC_ERROR_INVALID, data->spec,
                          _("%s is given twice"), keys[k]);
          return FALSE;
        }
      seen |= 1u << k;

      if (k == 0 && !parse_uint (data->spec, "n", value, 1, SYNTHETIC_MAX_N, &n, error))
        return FALSE;
      if (k == 2 && !parse_uint (data->spec, "seed", value, 0, G_MAXUINT64, &seed, error))
        return FALSE;
      if (k == 3 && !parse_uint (data->spec, "classes", value, 2, side > 0 ? 8 : 100, &classes, error))
        return FALSE;
      if (k == 1)
        {
          char *end = NULL;

          noise = g_ascii_strtod (value, &end);
          if (end == value || *end != '\0' || !isfinite (noise) || noise < 0 || noise > 10)
            {
              set_spec_error (error, PL_SPEC_ERROR_INVALID, data->spec,
                              _("noise=%s is not a number from 0 to 10"), value);
              return FALSE;
            }
        }
    }

  data->train = pl_synthetic_make (name, n, noise, classes, seed, error);
  if (data->train == NULL)
    {
      g_autofree char *shown = g_utf8_make_valid (data->spec, -1);

      g_prefix_error (error, _("Invalid dataset spec “%s”: "), shown);
      return FALSE;
    }
  data->test = pl_synthetic_make (name, n, noise, classes, seed ^ SYNTHETIC_TEST_SEED, error);
  g_assert (data->test != NULL);  /* same arguments as the training set */

  data->name = g_strdup (name);
  data->n_features = data->train->n_features;
  data->n_classes = data->train->n_classes;
  data->image_width = side;
  data->image_height = side;
  if (side > 0)
    {
      data->class_names = g_new0 (char *, data->n_classes + 1);
      for (guint c = 0; c < data->n_classes; c++)
        data->class_names[c] = g_strdup (pl_synthetic_class_name (name, c));
    }
  else
    {
      data->class_names = numbered_class_names (data->n_classes);
    }

  return TRUE;
}

static gboolean
is_synthetic_name (const char *name)
{
  return g_strv_contains (pl_synthetic_names (), name);
}

PlData *
pl_data_load (const char           *spec,
              const PlDataOptions  *options,
              GError              **error)
{
  static const PlDataOptions defaults = PL_DATA_OPTIONS_INIT;
  g_autoptr(PlData) data = NULL;
  g_autofree char *kind = NULL;
  const char *colon;
  const char *arg = NULL;
  gboolean is_image = FALSE;
  gboolean hold_out_test = FALSE;
  gboolean ok;
  guint n_val;
  PlRng rng;

  g_return_val_if_fail (spec != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (options == NULL)
    options = &defaults;

  data = g_new0 (PlData, 1);
  data->spec = g_strdup (spec);

  if (options->val_size < -1)
    {
      g_set_error (error, PL_SPEC_ERROR, PL_SPEC_ERROR_INVALID,
                   _("Validation size %d is negative"), options->val_size);
      return NULL;
    }

  colon = strchr (spec, ':');
  kind = colon != NULL ? g_strndup (spec, colon - spec) : g_strdup (spec);
  arg = colon != NULL ? colon + 1 : NULL;

  if (strcmp (kind, "fashion-mnist") == 0 || strcmp (kind, "mnist") == 0
      || strcmp (kind, "idx") == 0)
    ok = load_idx (data, kind, arg, &is_image, error);
  else if (strcmp (kind, "csv") == 0)
    ok = load_csv (data, arg, &hold_out_test, error);
  else if (is_synthetic_name (kind))
    ok = load_synthetic (data, kind, arg, error);
  else
    {
      g_autofree char *known = g_strjoinv (", ", (char **) pl_synthetic_names ());

      set_spec_error (error, PL_SPEC_ERROR_UNKNOWN_NAME, spec,
                      _("unknown dataset; known: fashion-mnist, mnist, idx, csv, %s"), known);
      ok = FALSE;
    }
  if (!ok)
    return NULL;

  pl_rng_init (&rng, options->split_seed);

  if (hold_out_test)
    {
      guint n_test = MAX (fifth_of (data->train->n), 1);

      if (n_test >= data->train->n)
        {
          g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_BAD_SHAPE,
                       _("“%s” has %u rows; holding out a test set needs at least 2"),
                       data->name, data->train->n);
          return NULL;
        }
      data->test = carve (data->train, n_test, &rng);
    }

  if (options->val_size < 0)
    {
      n_val = fifth_of (data->train->n);
      if (is_image)
        n_val = MIN (n_val, IMAGE_DEFAULT_VAL);
    }
  else if ((guint) options->val_size >= data->train->n)
    {
      g_set_error (error, PL_SPEC_ERROR, PL_SPEC_ERROR_INVALID,
                   _("A validation set of %d samples leaves no training data: “%s” has %u "
                     "training samples"),
                   options->val_size, data->name, data->train->n);
      return NULL;
    }
  else
    {
      n_val = options->val_size;
    }
  data->val = carve (data->train, n_val, &rng);

  trim (data->train, options->max_train);

  data->train->n_classes = data->n_classes;
  data->val->n_classes = data->n_classes;
  data->test->n_classes = data->n_classes;

  if (options->standardize)
    standardize (data);

  return g_steal_pointer (&data);
}
