#define G_LOG_DOMAIN "pl-fuzz-replay"

#include "config.h"

#include <string.h>

#include <glib/gstdio.h>

#include "pl-fuzz.h"

/* The main of a harness in every build. Without arguments it is a g_test program: each file of
 * tests/fuzz/regressions/NAME/ and of the generated seed corpus is one test case, run in a
 * subprocess so that a crash fails that case alone. With --write-seeds DIR STAMP it writes the
 * seed corpus into DIR (the build does this before the tests). PL_FUZZ_NAME,
 * PL_FUZZ_REGRESSIONS_DIR and PL_FUZZ_SEEDS_DIR come from tests/fuzz/meson.build. */

/* The paths of the replayed files. Owned here, not by the test cases: a subprocess runs one of
 * them (-p), and GLib frees the data only of the cases it runs. */
static GPtrArray *paths;

static void
test_replay (gconstpointer user_data)
{
  const char *path = user_data;

  if (g_test_subprocess ())
    {
      g_autoptr(GBytes) bytes = pl_fuzz_read (path);
      g_autofree guint8 *copy = NULL;
      gsize len;
      const guint8 *data = g_bytes_get_data (bytes, &len);

      /* An exact-size copy, as libFuzzer passes it, so that AddressSanitizer sees a read past
       * the input's end. */
      copy = g_malloc (MAX (len, 1));
      if (len > 0)
        memcpy (copy, data, len);
      pl_fuzz_set_input_name (path);
      LLVMFuzzerTestOneInput (copy, len);
      return;
    }

  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();
}

static int
compare_strings (gconstpointer a,
                 gconstpointer b)
{
  return strcmp (*(const char * const *) a, *(const char * const *) b);
}

/* One test case per file of @dir (which may be missing or empty); returns their number. */
static guint
add_replays (const char *label,
             const char *dir)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    if (name[0] != '.')
      g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, compare_strings);

  for (guint i = 0; i < names->len; i++)
    {
      const char *file = g_ptr_array_index (names, i);
      g_autofree char *test_path = g_strdup_printf ("/fuzz/%s/%s/%s", PL_FUZZ_NAME, label, file);

      char *path = g_build_filename (dir, file, NULL);

      g_ptr_array_add (paths, path);
      g_test_add_data_func (test_path, path, test_replay);
    }

  return names->len;
}

static guint n_seeds;

static void
test_has_seeds (void)
{
  /* A replay of nothing would pass whatever the reader did. */
  g_assert_cmpuint (n_seeds, >, 0);
}

static int
write_seeds (const char *dir,
             const char *stamp)
{
  g_autoptr(GDir) d = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *count = NULL;
  const char *name;
  guint n = 0;

  if (g_mkdir_with_parents (dir, 0755) != 0)
    pl_fuzz_fail ("cannot create %s", dir);
  d = g_dir_open (dir, 0, NULL);
  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);

      g_unlink (path);
    }

  pl_fuzz_set_seed_dir (dir);
  pl_fuzz_make_seeds ();

  g_clear_pointer (&d, g_dir_close);
  d = g_dir_open (dir, 0, NULL);
  while (d != NULL && g_dir_read_name (d) != NULL)
    n++;
  count = g_strdup_printf ("%u seeds for %s in %s\n", n, PL_FUZZ_NAME, dir);
  if (!g_file_set_contents (stamp, count, -1, &error))
    pl_fuzz_fail ("%s", error->message);

  return 0;
}

int
main (int   argc,
      char *argv[])
{
  int ret;

  if (argc == 4 && strcmp (argv[1], "--write-seeds") == 0)
    return write_seeds (argv[2], argv[3]);

  g_test_init (&argc, &argv, NULL);
  g_test_summary ("Replays the fuzz regression files and the seed corpus of the " PL_FUZZ_NAME
                  " harness");
  /* Every failing file is reported, not only the first. */
  g_test_set_nonfatal_assertions ();

  paths = g_ptr_array_new_with_free_func (g_free);
  add_replays ("regressions", PL_FUZZ_REGRESSIONS_DIR);
  n_seeds = add_replays ("seeds", PL_FUZZ_SEEDS_DIR);
  g_test_add_func ("/fuzz/" PL_FUZZ_NAME "/has-seeds", test_has_seeds);

  ret = g_test_run ();
  g_ptr_array_unref (paths);
  return ret;
}
