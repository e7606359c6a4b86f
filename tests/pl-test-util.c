#define G_LOG_DOMAIN "pl-test-util"

#include "config.h"

#include "pl-test-util.h"

#include <math.h>
#include <string.h>
#include <unistd.h>

#include <fcntl.h>

#include <glib/gstdio.h>

#include "pl-error.h"

static char *tmp_dir;  /* owned: made by pl_test_tmp_dir(), removed by pl_test_run() */

PlDataset *
pl_test_random_data (guint   n,
                     guint   n_features,
                     guint   n_classes,
                     guint64 seed)
{
  PlDataset *d = pl_dataset_new (n, n_features, n_classes);
  PlRng rng;

  pl_rng_init (&rng, seed);
  for (gsize k = 0; k < (gsize) n * n_features; k++)
    d->x[k] = (float) (2 * pl_rng_uniform (&rng) - 1);
  for (guint s = 0; s < n; s++)
    d->y[s] = (guint32) pl_rng_below (&rng, n_classes);

  return d;
}

PlData *
pl_test_load (const char          *spec,
              const PlDataOptions *options)
{
  g_autoptr(GError) error = NULL;
  PlData *data = pl_data_load (spec, options, &error);

  g_assert_no_error (error);
  g_assert_nonnull (data);
  return data;
}

void
pl_test_assert_dataset_valid (const PlDataset *d)
{
  for (gsize i = 0; i < d->n; i++)
    g_assert_cmpuint (d->y[i], <, d->n_classes);
  for (gsize k = 0; k < (gsize) d->n * d->n_features; k++)
    g_assert_true (isfinite (d->x[k]));
}

gboolean
pl_test_skip_without_fashion_mnist (void)
{
  if (g_file_test (PL_FASHION_MNIST_DIR "/train-images-idx3-ubyte.gz", G_FILE_TEST_EXISTS))
    return FALSE;

  g_test_skip ("Fashion-MNIST is not installed in " PL_FASHION_MNIST_DIR
               ": apt-get install dataset-fashion-mnist (CI installs it)");
  return TRUE;
}

/* ---- files -------------------------------------------------------------------------------- */

const char *
pl_test_tmp_dir (void)
{
  if (tmp_dir == NULL)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *base = g_path_get_basename (g_get_prgname ());
      g_autofree char *tmpl = g_strconcat ("pl-", base, "-XXXXXX", NULL);

      tmp_dir = g_dir_make_tmp (tmpl, &error);
      g_assert_no_error (error);
    }
  return tmp_dir;
}

/* (g_file_set_contents_full() in GLib 2.74 does not truncate an existing file without
 * G_FILE_SET_CONTENTS_CONSISTENT, which syncs.) */
char *
pl_test_write_file (const char *name,
                    const void *data,
                    gsize       len)
{
  char *path = g_build_filename (pl_test_tmp_dir (), name, NULL);
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

char *
pl_test_write_text (const char *name,
                    const char *text)
{
  return pl_test_write_file (name, text, strlen (text));
}

char *
pl_test_write_bytes (const char *name,
                     GBytes     *bytes)
{
  gsize len;
  const void *data = g_bytes_get_data (bytes, &len);

  return pl_test_write_file (name, data, len);
}

int
pl_test_run (void)
{
  int ret = g_test_run ();

  if (tmp_dir != NULL)
    pl_test_remove_tree (tmp_dir);
  g_clear_pointer (&tmp_dir, g_free);
  return ret;
}

void
pl_test_remove_tree (const char *path)
{
  g_autoptr(GDir) dir = NULL;
  const char *name;

  g_chmod (path, 0755);
  dir = g_dir_open (path, 0, NULL);
  if (dir == NULL)
    {
      g_unlink (path);
      return;
    }
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      pl_test_remove_tree (child);
    }
  g_rmdir (path);
}

void
pl_test_assert_message_names (const GError *error,
                              const char   *path)
{
  g_autofree char *base = g_path_get_basename (path);

  g_assert_nonnull (error);
  if (strstr (error->message, base) == NULL)
    g_error ("message “%s” does not name “%s”", error->message, base);
}

/* ---- tests/data/bad ----------------------------------------------------------------------- */

int
pl_test_format_code_from_name (const char *name)
{
  static const struct { const char *tag; int code; } codes[] = {
    { "--truncated.", PL_FORMAT_ERROR_TRUNCATED },
    { "--bad-magic.", PL_FORMAT_ERROR_BAD_MAGIC },
    { "--bad-header.", PL_FORMAT_ERROR_BAD_HEADER },
    { "--bad-dtype.", PL_FORMAT_ERROR_BAD_DTYPE },
    { "--bad-shape.", PL_FORMAT_ERROR_BAD_SHAPE },
    { "--bad-offset.", PL_FORMAT_ERROR_BAD_OFFSET },
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

static int
compare_names (gconstpointer a,
               gconstpointer b)
{
  return strcmp (*(const char * const *) a, *(const char * const *) b);
}

typedef struct {
  char           *path;   /* owned */
  PlTestReadFunc  read;
} BadFile;

static void
bad_file_free (gpointer data)
{
  BadFile *bad = data;

  g_free (bad->path);
  g_free (bad);
}

static void
test_bad_file (gconstpointer user_data)
{
  const BadFile *bad = user_data;
  g_autofree char *name = g_path_get_basename (bad->path);
  g_autofree char *display_name = g_filename_display_name (bad->path);
  g_autoptr(GError) error = NULL;

  g_assert_false (bad->read (bad->path, &error));
  g_assert_nonnull (error);
  g_test_message ("%s", error->message);
  g_assert_error (error, PL_FORMAT_ERROR, pl_test_format_code_from_name (name));
  if (strstr (error->message, display_name) == NULL)
    g_error ("message “%s” does not name “%s”", error->message, display_name);
}

void
pl_test_add_bad_file_tests (const char         *prefix,
                            const char * const *suffixes,
                            const char         *test_prefix,
                            PlTestReadFunc      read)
{
  g_autofree char *dir = g_test_build_filename (G_TEST_DIST, "data", "bad", NULL);
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      if (!g_str_has_prefix (name, prefix))
        continue;
      for (guint i = 0; suffixes[i] != NULL; i++)
        if (g_str_has_suffix (name, suffixes[i]))
          {
            g_ptr_array_add (names, g_strdup (name));
            break;
          }
    }
  g_ptr_array_sort (names, compare_names);
  if (names->len == 0)
    g_error ("no %s* file in %s", prefix, dir);

  for (guint i = 0; i < names->len; i++)
    {
      const char *file = g_ptr_array_index (names, i);
      g_autofree char *test_path = g_strconcat (test_prefix, file, NULL);

      BadFile *bad = g_new0 (BadFile, 1);

      bad->path = g_build_filename (dir, file, NULL);
      bad->read = read;
      g_test_add_data_func_full (test_path, bad, test_bad_file, bad_file_free);
    }
}

/* ---- fuzzing ------------------------------------------------------------------------------ */

GBytes *
pl_test_mutate (GBytes *bytes,
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

