#define G_LOG_DOMAIN "pl-fuzz"

#include "config.h"

#include "pl-fuzz.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib/gstdio.h>

#include "pl-error.h"

static char *fuzz_dir;    /* owned: made by pl_fuzz_dir (), removed at exit */
static char *seed_dir;    /* owned: where pl_fuzz_add_seed () writes */
static char *input_name;  /* owned: the file being replayed, for messages */

void
pl_fuzz_fail (const char *format,
              ...)
{
  va_list args;

  fputs ("pl-fuzz: ", stderr);
  va_start (args, format);
  vfprintf (stderr, format, args);
  va_end (args);
  if (input_name != NULL)
    fprintf (stderr, " (input %s)", input_name);
  fputc ('\n', stderr);
  fflush (stderr);
  abort ();
}

static void
remove_fuzz_dir (void)
{
  g_autoptr(GDir) dir = g_dir_open (fuzz_dir, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (fuzz_dir, name, NULL);

      g_unlink (path);
    }
  g_rmdir (fuzz_dir);
  g_clear_pointer (&fuzz_dir, g_free);
}

/* Warnings and criticals end the run with abort (), which libFuzzer catches and saves the
 * input for; GLib's own fatal path raises SIGTRAP, which kills the process with the input
 * unsaved. */
static GLogWriterOutput
fatal_writer (GLogLevelFlags   level,
              const GLogField *fields,
              gsize            n_fields,
              gpointer         user_data)
{
  GLogWriterOutput out = g_log_writer_default (level, fields, n_fields, user_data);

  if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING))
    abort ();
  return out;
}

const char *
pl_fuzz_dir (void)
{
  g_autoptr(GError) error = NULL;

  if (fuzz_dir != NULL)
    return fuzz_dir;

  g_log_set_writer_func (fatal_writer, NULL, NULL);
  fuzz_dir = g_dir_make_tmp ("pl-fuzz-XXXXXX", &error);
  if (fuzz_dir == NULL)
    pl_fuzz_fail ("no temporary folder: %s", error->message);
  atexit (remove_fuzz_dir);

  return fuzz_dir;
}

/* In place (O_TRUNC) and without fsync: a fuzzer rewrites its files millions of times. */
static void
write_or_fail (const char *path,
               const void *data,
               gsize       len)
{
  const char *p = data;
  int fd = g_open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

  if (fd < 0)
    pl_fuzz_fail ("cannot create %s: %s", path, g_strerror (errno));
  while (len > 0)
    {
      gssize n = write (fd, p, len);

      if (n <= 0)
        pl_fuzz_fail ("cannot write %s: %s", path, g_strerror (errno));
      p += n;
      len -= n;
    }
  if (!g_close (fd, NULL))
    pl_fuzz_fail ("cannot close %s", path);
}

char *
pl_fuzz_write (const char *name,
               const void *data,
               gsize       len)
{
  char *path = g_build_filename (pl_fuzz_dir (), name, NULL);

  write_or_fail (path, data, len);
  return path;
}

GBytes *
pl_fuzz_gzip (const void *data,
              gsize       len)
{
  g_autoptr(GZlibCompressor) z = g_zlib_compressor_new (G_ZLIB_COMPRESSOR_FORMAT_GZIP, 6);
  g_autoptr(GOutputStream) mem = g_memory_output_stream_new_resizable ();
  g_autoptr(GOutputStream) out = g_converter_output_stream_new (mem, G_CONVERTER (z));
  g_autoptr(GError) error = NULL;
  gsize written;

  if (!g_output_stream_write_all (out, data, len, &written, NULL, &error)
      || !g_output_stream_close (out, NULL, &error))
    pl_fuzz_fail ("gzip: %s", error->message);
  return g_memory_output_stream_steal_as_bytes (G_MEMORY_OUTPUT_STREAM (mem));
}

void
pl_fuzz_check_error (const GError *error,
                     const char   *path,
                     const char   *other_path)
{
  g_autofree char *base = g_path_get_basename (path);
  g_autofree char *other = other_path != NULL ? g_path_get_basename (other_path) : NULL;

  PL_FUZZ_CHECK (error != NULL, "the reader failed without setting a GError");
  PL_FUZZ_CHECK (g_utf8_validate (error->message, -1, NULL),
                 "the error message is not valid UTF-8");
  PL_FUZZ_CHECK (strstr (error->message, base) != NULL
                 || (other != NULL && strstr (error->message, other) != NULL),
                 "the error “%s” names neither “%s” nor “%s”",
                 error->message, base, other != NULL ? other : "");
}

gboolean
pl_fuzz_loaded (gconstpointer  result,
                const GError  *error,
                const char    *path)
{
  if (result == NULL)
    {
      pl_fuzz_check_error (error, path, NULL);
      PL_FUZZ_CHECK (error->domain == PL_FORMAT_ERROR, "not a format error: %s", error->message);
      return FALSE;
    }
  PL_FUZZ_CHECK (error == NULL, "success with an error set");
  return TRUE;
}

/* ---- seeds ------------------------------------------------------------------------------- */

void
pl_fuzz_set_seed_dir (const char *dir)
{
  g_free (seed_dir);
  seed_dir = g_strdup (dir);
}

void
pl_fuzz_set_input_name (const char *name)
{
  g_free (input_name);
  input_name = g_strdup (name);
}

void
pl_fuzz_add_seed (const char *name,
                  const void *data,
                  gsize       len)
{
  g_autofree char *path = NULL;

  g_assert (seed_dir != NULL);
  g_assert (strchr (name, G_DIR_SEPARATOR) == NULL);
  path = g_build_filename (seed_dir, name, NULL);
  write_or_fail (path, data, len);
}

static int
compare_strings (gconstpointer a,
                 gconstpointer b)
{
  return strcmp (*(const char * const *) a, *(const char * const *) b);
}

GStrv
pl_fuzz_data_files (const char *subdir,
                    const char *prefix)
{
  g_autofree char *path = g_build_filename (PL_FUZZ_DATA_DIR, subdir, NULL);
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  GPtrArray *files = g_ptr_array_new ();
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    if (g_str_has_prefix (name, prefix))
      g_ptr_array_add (files, g_build_filename (path, name, NULL));
  g_ptr_array_sort (files, compare_strings);
  g_ptr_array_add (files, NULL);

  return (GStrv) g_ptr_array_free (files, FALSE);
}

GBytes *
pl_fuzz_read (const char *path)
{
  g_autoptr(GError) error = NULL;
  char *contents = NULL;
  gsize len = 0;

  if (!g_file_get_contents (path, &contents, &len, &error))
    pl_fuzz_fail ("%s", error->message);
  return g_bytes_new_take (contents, len);
}
