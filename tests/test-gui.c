/* The app as a user drives it, under Xvfb: start, train, drag, export, a bad file. */
#include "config.h"

#include <adwaita.h>
#include <glib/gstdio.h>
#include <string.h>

#include "pl-window.h"

static gboolean
timed_out (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

/* Iterates the main loop until @cond holds (TRUE) or @seconds pass (FALSE). */
static gboolean
wait_for (gboolean (*cond) (gpointer),
          gpointer  data,
          guint     seconds)
{
  gboolean expired = FALSE;
  guint id = g_timeout_add_seconds (seconds, timed_out, &expired);

  while (!cond (data) && !expired)
    g_main_context_iteration (NULL, TRUE);
  if (!expired)
    g_source_remove (id);
  return !expired;
}

static gboolean
window_idle (gpointer data)
{
  return pl_window_is_idle (data);
}

static double
shown_accuracy (PlWindow *window)
{
  const char *text = pl_window_get_accuracy_text (window);
  const char *digits = text;

  /* "Validation accuracy 97.3 %" */
  while (*digits != '\0' && !g_ascii_isdigit (*digits))
    digits++;
  return *digits != '\0' ? g_ascii_strtod (digits, NULL) : -1.0;
}

typedef struct {
  guint errors;
  char *message;
} Errors;

static void
on_error (PlEngine *engine,
          GError   *error,
          Errors   *errors)
{
  errors->errors++;
  g_free (errors->message);
  errors->message = g_strdup (error->message);
}

static void
test_train_drag_export (void)
{
  PlWindow *window = pl_window_new (NULL);
  g_autofree char *dir = g_dir_make_tmp ("pl-gui-XXXXXX", NULL);
  g_autofree char *png = g_build_filename (dir, "weights.png", NULL);
  g_autofree char *csv = g_build_filename (dir, "weights.csv", NULL);
  g_autofree char *bad = g_build_filename (dir, "bad.safetensors", NULL);
  g_autofree char *bytes = NULL;
  g_autoptr(GError) error = NULL;
  Errors errors = { 0 };
  double trained, pruned;
  gsize length;

  g_signal_connect (pl_window_get_engine (window), "error", G_CALLBACK (on_error), &errors);
  gtk_window_present (GTK_WINDOW (window));

  /* it starts on a built-in set with a fresh network */
  g_assert_true (wait_for (window_idle, window, 60));
  g_assert_cmpuint (errors.errors, ==, 0);

  /* train through the window's action, for 30 epochs */
  pl_window_automate (window, "epochs=30;train");
  g_assert_true (wait_for (window_idle, window, 120));
  trained = shown_accuracy (window);
  g_test_message ("after training: “%s”", pl_window_get_accuracy_text (window));
  g_assert_cmpfloat (trained, >=, 90.0);

  /* a threshold change updates the accuracy and sparsity shown */
  pl_window_set_sparsity (window, 95.0);
  g_assert_true (wait_for (window_idle, window, 60));
  pruned = shown_accuracy (window);
  g_test_message ("at 95%%: “%s” / “%s”", pl_window_get_accuracy_text (window), pl_window_get_readout_text (window));
  g_assert_nonnull (strstr (pl_window_get_readout_text (window), "Sparsity 95.0"));
  g_assert_cmpfloat (pruned, !=, trained);

  /* export writes a valid file */
  g_assert_true (pl_window_export_visible (window, png, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (png, &bytes, &length, NULL));
  g_assert_cmpuint (length, >, 8);
  g_assert_cmpmem (bytes, 8, "\x89PNG\r\n\x1a\n", 8);
  g_assert_true (pl_window_export_visible (window, csv, &error));
  g_assert_no_error (error);

  /* a malformed model file: an error that names it, and the app keeps running */
  g_assert_true (g_file_set_contents (bad, "not a model", -1, NULL));
  pl_window_open_model_path (window, bad);
  g_assert_true (wait_for (window_idle, window, 60));
  g_assert_cmpuint (errors.errors, >=, 1);
  g_assert_nonnull (strstr (errors.message, "bad.safetensors"));
  pl_window_set_sparsity (window, 50.0);
  g_assert_true (wait_for (window_idle, window, 60));
  g_assert_nonnull (strstr (pl_window_get_readout_text (window), "Sparsity 50.0"));

  gtk_window_destroy (GTK_WINDOW (window));
  g_remove (png);
  g_remove (csv);
  g_remove (bad);
  g_rmdir (dir);
  g_free (errors.message);
}

/* The program started as a newcomer starts it: build/app/prunelab, no schema installed and no
 * GSETTINGS_SCHEMA_DIR. In its build tree it finds build/data's compiled schema and says
 * nothing; copied out of it, it runs on the built-in copy with one warning. Either way it
 * opens its window, runs the steps and exits 0. */
static void
run_uninstalled (const char *program,
                 char      **err_out)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *empty = g_dir_make_tmp ("pl-xdg-XXXXXX", NULL);
  g_autofree char *ready = g_build_filename (empty, "ready", NULL);
  g_autofree char *steps = g_strdup_printf ("idle;ready=%s;quit", ready);
  g_autofree char *out = NULL;

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_subprocess_launcher_unsetenv (launcher, "GSETTINGS_SCHEMA_DIR");
  /* the system's schemas (libadwaita reads the desktop's), without the build's */
  g_subprocess_launcher_setenv (launcher, "XDG_DATA_DIRS", "/usr/share", TRUE);
  g_subprocess_launcher_setenv (launcher, "XDG_CONFIG_HOME", empty, TRUE);
  g_subprocess_launcher_setenv (launcher, "G_DEBUG", "gc-friendly", TRUE);
  process = g_subprocess_launcher_spawn (launcher, &error, program, "--automate", steps, NULL);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_communicate_utf8 (process, NULL, NULL, &out, err_out, &error));
  g_assert_no_error (error);
  g_test_message ("%s: stderr “%s”", program, *err_out);
  if (g_subprocess_get_if_signaled (process))
    g_error ("%s died of signal %d", program, g_subprocess_get_term_sig (process));
  g_assert_true (g_subprocess_get_if_exited (process));
  g_assert_cmpint (g_subprocess_get_exit_status (process), ==, 0);
  g_assert_true (g_file_test (ready, G_FILE_TEST_EXISTS));
  g_remove (ready);
  g_rmdir (empty);
}

static guint
count_lines_with (const char *text,
                  const char *needle)
{
  guint n = 0;

  for (const char *p = strstr (text, needle); p != NULL; p = strstr (p + 1, needle))
    n++;
  return n;
}

static gboolean
schema_installed_in (const char *dir)
{
  g_autoptr(GSettingsSchemaSource) source = NULL;
  g_autoptr(GSettingsSchema) schema = NULL;

  source = g_settings_schema_source_new_from_directory (dir, NULL, FALSE, NULL);
  if (source != NULL)
    schema = g_settings_schema_source_lookup (source, "io.github.prunelab.PruneLab", FALSE);
  return schema != NULL;
}

static void
test_runs_uninstalled (void)
{
  const char *program = g_getenv ("PRUNELAB_GUI");
  g_autofree char *dir = g_dir_make_tmp ("pl-copy-XXXXXX", NULL);
  g_autofree char *copy = g_build_filename (dir, "prunelab", NULL);
  g_autofree char *contents = NULL;
  g_autofree char *err = NULL;
  gsize length;

  if (program == NULL)
    {
      g_test_skip ("PRUNELAB_GUI is not set (meson test sets it)");
      return;
    }

  run_uninstalled (program, &err);
  g_assert_cmpuint (count_lines_with (err, "not installed"), ==, 0);
  g_clear_pointer (&err, g_free);

  if (schema_installed_in ("/usr/share/glib-2.0/schemas"))
    {
      g_test_skip ("PruneLab's schema is installed in /usr/share: the copied program finds it");
      return;
    }

  g_assert_true (g_file_get_contents (program, &contents, &length, NULL));
  g_assert_true (g_file_set_contents (copy, contents, length, NULL));
  g_assert_cmpint (g_chmod (copy, 0755), ==, 0);
  run_uninstalled (copy, &err);
  g_assert_cmpuint (count_lines_with (err, "not installed"), ==, 1);

  g_remove (copy);
  g_rmdir (dir);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  if (!gtk_init_check ())
    {
      g_test_message ("no display: run under xvfb-run");
      return 77;
    }
  adw_init ();
  g_test_add_func ("/gui/window/trains-previews-exports-and-survives-a-bad-file", test_train_drag_export);
  g_test_add_func ("/gui/app/runs-uninstalled-without-a-schema", test_runs_uninstalled);
  return g_test_run ();
}
