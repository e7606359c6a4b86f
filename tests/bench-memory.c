/* bench-memory.c — peak memory of a training run and of the GUI's sweep on Fashion-MNIST
 *
 *   cli  prunelab-cli train --data fashion-mnist --epochs 1 (784-300-100-10, batch 128, one
 *        thread; 55,000 training, 5,000 validation and 10,000 test images)
 *   gui  prunelab itself (under Xvfb), driven as a user would by its --automate steps:
 *        Fashion-MNIST chosen (a fresh 784-300-100-10), one epoch of training, then the Sweep
 *        button (magnitude, Taylor and random, 24 points up to 99 %) until it is done; the
 *        curves are exported as CSV and checked (3 curves of 24 points), then the app quits
 * Each is a child process, and its peak is its resident set at the highest (ru_maxrss from
 * wait4(), the kernel's VmHWM). Both must stay under 400 MB: the figures are printed as JSON
 * on stdout, and the benchmark fails (exit status 1) above the limit. Skipped (77) without
 * Fashion-MNIST; the GUI's part is skipped (null) without a display.
 *
 * Where the memory goes (heaptrack, the GUI at its peak, during training): Fashion-MNIST's
 * pixels as float32, 70,000 × 784 × 4 B = 219 MB; GTK, libadwaita and fonts with the window
 * shown, some 97 MB; the drag's preview (the 5,000 validation images feature-major and their
 * first-layer sums) 22 MB; an evaluation's buffers 11 MB.
 */
#include "config.h"

#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>

#define LIMIT_MB 400.0

/* Runs @argv to its end; its peak resident set in MB, −77 when it was skipped, −1 when it
 * failed. */
static double
peak_of (const char * const *argv)
{
  g_autoptr(GError) error = NULL;
  struct rusage usage;
  int status;
  GPid pid;

  if (!g_spawn_async (NULL, (char **) argv, NULL,
                      G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, &pid, &error))
    {
      g_printerr ("bench-memory: %s\n", error->message);
      return -1;
    }
  if (wait4 (pid, &status, 0, &usage) != pid)
    return -1;
  g_spawn_close_pid (pid);
  if (WIFEXITED (status) && WEXITSTATUS (status) == 77)
    return -77;
  if (!WIFEXITED (status) || WEXITSTATUS (status) != 0)
    {
      g_printerr ("bench-memory: %s failed (wait status %d)\n", argv[0], status);
      return -1;
    }
  /* ru_maxrss is in KiB */
  return usage.ru_maxrss / 1024.0;
}

/* The exported curves: "series,sparsity,value,lo,hi"; the sweep's three scores have 24 points
 * each (the unpruned network is one more series, of one point). */
static gboolean
check_curves (const char *path)
{
  g_autofree char *text = NULL;
  g_auto(GStrv) lines = NULL;
  g_autoptr(GHashTable) series = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  GHashTableIter iter;
  gpointer count;
  guint full = 0;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    {
      g_printerr ("bench-memory: the GUI exported no curves (%s)\n", path);
      return FALSE;
    }
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 1; lines[i] != NULL; i++)
    {
      const char *comma = strchr (lines[i], ',');
      char *name;

      if (comma == NULL)
        continue;
      name = g_strndup (lines[i], comma - lines[i]);
      count = g_hash_table_lookup (series, name);
      g_hash_table_replace (series, name, GUINT_TO_POINTER (GPOINTER_TO_UINT (count) + 1));
    }
  g_hash_table_iter_init (&iter, series);
  while (g_hash_table_iter_next (&iter, NULL, &count))
    full += GPOINTER_TO_UINT (count) == 24;
  if (full != 3)
    {
      g_printerr ("bench-memory: the GUI's sweep has %u curves of 24 points, not 3\n", full);
      return FALSE;
    }
  return TRUE;
}

int
main (int    argc,
      char **argv)
{
  const char *cli = g_getenv ("PRUNELAB_CLI");
  const char *gui = g_getenv ("PRUNELAB_GUI");
  g_autofree char *dir = g_dir_make_tmp ("bench-memory-XXXXXX", NULL);
  g_autofree char *csv = g_build_filename (dir, "curves.csv", NULL);
  g_autofree char *steps = g_strdup_printf ("idle;dataset=fashion-mnist;idle;epochs=1;train;idle;"
                                            "view=curves;sweep;idle;export=%s;quit", csv);
  const char *cli_argv[] = { cli, "train", "--data", "fashion-mnist", "--epochs", "1", NULL };
  const char *gui_argv[] = { gui, "--automate", steps, NULL };
  g_autofree char *gui_text = NULL;
  g_autofree char *gui_json = NULL;
  double cli_mb, gui_mb = -77;
  gboolean over;

  if (cli == NULL || gui == NULL
      || !g_file_test (PL_FASHION_MNIST_DIR "/train-images-idx3-ubyte.gz", G_FILE_TEST_EXISTS))
    {
      g_printerr ("bench-memory: needs PRUNELAB_CLI, PRUNELAB_GUI and Fashion-MNIST in %s\n",
                  PL_FASHION_MNIST_DIR);
      return 77;
    }

  cli_mb = peak_of (cli_argv);
  if (g_getenv ("DISPLAY") != NULL)
    {
      gui_mb = peak_of (gui_argv);
      if (gui_mb >= 0 && !check_curves (csv))
        gui_mb = -1;
    }
  g_remove (csv);
  g_rmdir (dir);
  if (cli_mb == -1 || gui_mb == -1)
    return 1;

  gui_text = gui_mb < 0 ? g_strdup ("skipped (no display)") : g_strdup_printf ("%.1f MB", gui_mb);
  gui_json = gui_mb < 0 ? g_strdup ("null") : g_strdup_printf ("%.1f", gui_mb);
  g_printerr ("bench-memory: peak resident set: prunelab-cli train %.1f MB; the GUI with a sweep "
              "%s (limit %.0f MB)\n", cli_mb, gui_text, LIMIT_MB);
  printf ("{\n  \"cli_train_peak_rss_mb\": %.1f,\n  \"gui_sweep_peak_rss_mb\": %s,\n  \"limit_mb\": %.0f\n}\n",
          cli_mb, gui_json, LIMIT_MB);

  over = cli_mb > LIMIT_MB || gui_mb > LIMIT_MB;
  if (over)
    g_printerr ("bench-memory: over the limit of %.0f MB\n", LIMIT_MB);
  return over ? 1 : 0;
}
