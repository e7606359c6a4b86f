/* test-file.c — pl_file_save() and pl_file_check(): what a save leaves on the disk
 *
 * The failures a user meets (read-only and missing folders, a folder in the way, a full disk,
 * a process killed mid-save) are in test-save-faults.c, for every saver; here are the cases
 * of the mechanism itself: a new file, a replaced one and its permissions, symbolic links,
 * devices written in place, empty and long-named files, and the check before a long run.
 */
#define G_LOG_DOMAIN "test-file"

#include "config.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pl-file.h"

static char *
make_dir (void)
{
  char *dir = g_dir_make_tmp ("test-file-XXXXXX", NULL);

  g_assert_nonnull (dir);
  return dir;
}

static guint
count_entries (const char *dir)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  guint n = 0;

  g_assert_nonnull (d);
  while (g_dir_read_name (d) != NULL)
    n++;
  return n;
}

static void
assert_contents (const char *path,
                 const char *expected)
{
  g_autofree char *contents = NULL;
  gsize length;

  g_assert_true (g_file_get_contents (path, &contents, &length, NULL));
  g_assert_cmpuint (length, ==, strlen (expected));
  g_assert_cmpmem (contents, length, expected, strlen (expected));
}

static void
test_creates_and_replaces (void)
{
  g_autofree char *dir = make_dir ();
  g_autofree char *path = g_build_filename (dir, "result.csv", NULL);
  g_autoptr(GError) error = NULL;
  mode_t mask = umask (022);
  struct stat st;

  umask (mask);
  g_assert_true (pl_file_save (path, "a,b\n1,2\n", 8, &error));
  g_assert_no_error (error);
  assert_contents (path, "a,b\n1,2\n");
  /* a new file: 0666 less the umask, as a plain create gives */
  g_assert_cmpint (g_stat (path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0666 & ~mask);

  g_assert_true (pl_file_save (path, "x\n", 2, &error));
  assert_contents (path, "x\n");
  g_assert_cmpuint (count_entries (dir), ==, 1);

  g_unlink (path);
  g_rmdir (dir);
}

static void
test_keeps_permissions (void)
{
  g_autofree char *dir = make_dir ();
  g_autofree char *path = g_build_filename (dir, "private.safetensors", NULL);
  struct stat st;

  g_assert_true (g_file_set_contents (path, "old", 3, NULL));
  g_assert_cmpint (g_chmod (path, 0600), ==, 0);
  g_assert_true (pl_file_save (path, "new", 3, NULL));
  assert_contents (path, "new");
  g_assert_cmpint (g_stat (path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);

  g_assert_cmpint (g_chmod (path, 0640), ==, 0);
  g_assert_true (pl_file_save (path, "newer", 5, NULL));
  g_assert_cmpint (g_stat (path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0640);

  g_unlink (path);
  g_rmdir (dir);
}

static void
test_follows_symlink (void)
{
  g_autofree char *dir = make_dir ();
  g_autofree char *real = g_build_filename (dir, "real.png", NULL);
  g_autofree char *link = g_build_filename (dir, "link.png", NULL);
  g_autofree char *points_to = NULL;

  g_assert_true (g_file_set_contents (real, "old", 3, NULL));
  g_assert_cmpint (symlink ("real.png", link), ==, 0);

  g_assert_true (pl_file_save (link, "new", 3, NULL));
  /* the link stays a link, and the file it points to has the new bytes */
  points_to = g_file_read_link (link, NULL);
  g_assert_cmpstr (points_to, ==, "real.png");
  assert_contents (real, "new");
  g_assert_cmpuint (count_entries (dir), ==, 2);

  g_unlink (link);
  g_unlink (real);
  g_rmdir (dir);
}

static void
test_writes_devices_in_place (void)
{
  g_autoptr(GError) error = NULL;
  struct stat st;

  if (g_stat ("/dev/null", &st) != 0 || !S_ISCHR (st.st_mode))
    {
      g_test_skip ("no /dev/null");
      return;
    }
  /* prunelab-cli sweep --csv /dev/stdout: written, not renamed over (which, as root, would
   * replace the device) */
  g_assert_true (pl_file_save ("/dev/null", "a,b\n", 4, &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_stat ("/dev/null", &st), ==, 0);
  g_assert_true (S_ISCHR (st.st_mode));
  g_assert_true (pl_file_check ("/dev/null", &error));
  g_assert_no_error (error);
}

static void
test_empty_and_long_names (void)
{
  g_autofree char *dir = make_dir ();
  g_autofree char *empty = g_build_filename (dir, "empty.csv", NULL);
  g_autofree char *base = g_strnfill (250, 'n');
  g_autofree char *long_name = g_build_filename (dir, base, NULL);
  g_autoptr(GError) error = NULL;

  g_assert_true (pl_file_save (empty, NULL, 0, &error));
  g_assert_no_error (error);
  assert_contents (empty, "");

  /* 250 bytes: ".NAME.XXXXXX" would pass the 255 a file system allows; the temporary name is
   * cut */
  g_assert_true (pl_file_save (long_name, "x", 1, &error));
  g_assert_no_error (error);
  assert_contents (long_name, "x");
  g_assert_cmpuint (count_entries (dir), ==, 2);

  g_unlink (empty);
  g_unlink (long_name);
  g_rmdir (dir);
}

static void
test_check (void)
{
  g_autofree char *dir = make_dir ();
  g_autofree char *path = g_build_filename (dir, "model.safetensors", NULL);
  g_autofree char *missing = g_build_filename (dir, "missing", "model.safetensors", NULL);
  g_autoptr(GError) error = NULL;

  /* a file that can be saved: nothing is left behind */
  g_assert_true (pl_file_check (path, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (count_entries (dir), ==, 0);

  /* an old file is not touched */
  g_assert_true (g_file_set_contents (path, "old", 3, NULL));
  g_assert_true (pl_file_check (path, &error));
  assert_contents (path, "old");
  g_assert_cmpuint (count_entries (dir), ==, 1);

  g_assert_false (pl_file_check (missing, &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
  g_assert_nonnull (strstr (error->message, missing));
  g_clear_error (&error);

  g_assert_false (pl_file_check (dir, &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_ISDIR);
  g_assert_nonnull (strstr (error->message, dir));
  g_clear_error (&error);

  g_unlink (path);
  g_rmdir (dir);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_summary ("pl_file_save() creates and replaces files whole, keeps their permissions, "
                  "follows symbolic links, writes devices in place; pl_file_check() fails as the "
                  "save would and leaves nothing behind");

  g_test_add_func ("/engine/file/save/creates-and-replaces", test_creates_and_replaces);
  g_test_add_func ("/engine/file/save/keeps-permissions", test_keeps_permissions);
  g_test_add_func ("/engine/file/save/replaces-what-a-link-points-to", test_follows_symlink);
  g_test_add_func ("/engine/file/save/writes-devices-in-place", test_writes_devices_in_place);
  g_test_add_func ("/engine/file/save/empty-files-and-long-names", test_empty_and_long_names);
  g_test_add_func ("/engine/file/check/fails-as-the-save-would", test_check);

  return g_test_run ();
}
