/* Sessions in the app, under Xvfb: save and reopen exactly, a corrupted file shows its message
 * and the app keeps working, `prunelab FILE.prunelab` opens the file. */
#include "config.h"

#include <adwaita.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "pl-engine.h"
#include "pl-lesson-panel.h"
#include "pl-session.h"
#include "pl-test-gui.h"
#include "pl-window.h"

static char *dir;

static gboolean
bytes_equal (GBytes *a,
             GBytes *b)
{
  return a != NULL && b != NULL && g_bytes_equal (a, b);
}

/* The message dialog on top of @window whose text holds @part, or NULL. */
static AdwMessageDialog *
find_message (PlWindow   *window,
              const char *part)
{
  GListModel *toplevels = gtk_window_get_toplevels ();

  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr(GObject) w = g_list_model_get_item (toplevels, i);

      if (ADW_IS_MESSAGE_DIALOG (w)
          && gtk_window_get_transient_for (GTK_WINDOW (w)) == GTK_WINDOW (window)
          && strstr (adw_message_dialog_get_body (ADW_MESSAGE_DIALOG (w)), part) != NULL)
        return ADW_MESSAGE_DIALOG (w);
    }
  return NULL;
}

/* A trained, pruned and swept model saved as a session opens in a second window with the same
 * network, data, masks, history, curves, slider and read-outs; it is in the recent list. */
static void
test_save_and_reopen (void)
{
  g_autofree char *path = g_build_filename (dir, "class.prunelab", NULL);
  g_autofree char *uri = g_filename_to_uri (path, NULL, NULL);
  PlWindow *a = pl_window_new (NULL);
  PlWindow *b = NULL;
  PlSnapshot *sa, *sb;

  gtk_window_present (GTK_WINDOW (a));
  g_assert_true (pl_test_wait_for (pl_test_window_idle, a, 60));
  pl_window_automate (a, "dataset=moons;epochs=8;train;idle;sparsity=60;idle;apply-prune;idle;"
                         "sweep;idle;sparsity=75;idle");
  g_assert_true (pl_test_wait_for (pl_test_window_idle, a, 300));
  g_assert_true (pl_window_save_session_path (a, path));
  g_assert_true (pl_test_wait_for (pl_test_window_idle, a, 60));
  g_assert_true (g_file_test (path, G_FILE_TEST_IS_REGULAR));
  g_assert_true (gtk_recent_manager_has_item (gtk_recent_manager_get_default (), uri));

  b = pl_window_new (NULL);
  gtk_window_present (GTK_WINDOW (b));
  g_assert_true (pl_test_wait_for (pl_test_window_idle, b, 60));
  g_assert_true (pl_window_open_session_path (b, path));
  g_assert_true (pl_test_wait_for (pl_test_window_idle, b, 120));

  sa = pl_engine_get_snapshot (pl_window_get_engine (a));
  sb = pl_engine_get_snapshot (pl_window_get_engine (b));
  g_assert_cmpstr (sb->data_spec, ==, sa->data_spec);
  g_assert_cmpstr (sb->arch, ==, sa->arch);
  g_assert_cmpuint (sb->n_layers, ==, sa->n_layers);
  for (guint i = 0; i < sa->n_layers; i++)
    {
      g_assert_true (bytes_equal (sb->layers[i].weights, sa->layers[i].weights));
      g_assert_true (bytes_equal (sb->layers[i].masks, sa->layers[i].masks));
      g_assert_true (bytes_equal (sb->layers[i].preview_masks, sa->layers[i].preview_masks));
    }
  g_assert_true (bytes_equal (sb->training.history, sa->training.history));
  g_assert_cmpuint (sb->n_curves, ==, sa->n_curves);
  g_assert_cmpuint (sa->n_curves, >, 0);
  for (guint c = 0; c < sa->n_curves; c++)
    g_assert_true (bytes_equal (sb->curves[c].points, sa->curves[c].points));
  g_assert_cmpint (sb->strategy.score, ==, sa->strategy.score);
  g_assert_true (sb->has_preview);
  g_assert_cmpfloat (sb->preview.value, ==, 0.75);
  g_assert_cmpstr (pl_window_get_readout_text (b), ==, pl_window_get_readout_text (a));
  g_assert_cmpstr (pl_window_get_accuracy_text (b), ==, pl_window_get_accuracy_text (a));
  g_test_message ("reopened: “%s” / “%s”", pl_window_get_accuracy_text (b),
                  pl_window_get_readout_text (b));

  /* Export Report from the reopened window: a PDF with the figures of the session */
  {
    g_autofree char *pdf = g_build_filename (dir, "report.pdf", NULL);
    g_autofree char *bytes = NULL;
    g_autofree char *pdfinfo = g_find_program_in_path ("pdfinfo");
    gsize len;

    pl_window_export_report (b, pdf);
    g_assert_true (pl_test_wait_for (pl_test_window_idle, b, 120));
    g_assert_true (g_file_get_contents (pdf, &bytes, &len, NULL));
    g_assert_cmpuint (len, >, 1000);
    g_assert_cmpmem (bytes, 5, "%PDF-", 5);
    if (pdfinfo != NULL)
      {
        const char *argv[] = { pdfinfo, pdf, NULL };
        g_autofree char *out = NULL;

        g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, 0, NULL, NULL, &out, NULL,
                                     NULL, NULL));
        /* title, metrics, and 11 figures two a page: training, gradient norm, curves, three
         * layers of weights, histogram, sparsity, network, confusion, boundary */
        g_assert_nonnull (strstr (out, "Pages:           8"));
      }
    else
      g_test_message ("pdfinfo (poppler-utils) is missing: pages not counted");
    g_unlink (pdf);
  }

  gtk_window_destroy (GTK_WINDOW (b));
  gtk_window_destroy (GTK_WINDOW (a));
  g_unlink (path);
}

/* A truncated session and one that is not a session at all: each shows its message naming the
 * file, nothing changes, and the window goes on working. */
static void
test_corrupt_session (void)
{
  g_autofree char *good = g_build_filename (dir, "good.prunelab", NULL);
  g_autofree char *cut = g_build_filename (dir, "cut.prunelab", NULL);
  g_autofree char *junk = g_build_filename (dir, "junk.prunelab", NULL);
  g_autofree char *contents = NULL;
  g_autofree char *arch_before = NULL;
  PlWindow *window = pl_window_new (NULL);
  AdwMessageDialog *dialog;
  gsize len;

  gtk_window_present (GTK_WINDOW (window));
  g_assert_true (pl_test_wait_for (pl_test_window_idle, window, 60));
  g_assert_true (pl_window_save_session_path (window, good));
  g_assert_true (pl_test_wait_for (pl_test_window_idle, window, 60));
  g_assert_true (g_file_get_contents (good, &contents, &len, NULL));
  g_assert_true (g_file_set_contents (cut, contents, len - 100, NULL));
  g_assert_true (g_file_set_contents (junk, "PK\003\004 not a session", -1, NULL));
  arch_before = g_strdup (pl_engine_get_snapshot (pl_window_get_engine (window))->arch);

  g_assert_false (pl_window_open_session_path (window, cut));
  dialog = find_message (window, "cut.prunelab");
  g_assert_nonnull (dialog);
  g_test_message ("shown: %s", adw_message_dialog_get_body (dialog));
  gtk_window_destroy (GTK_WINDOW (dialog));

  g_assert_false (pl_window_open_session_path (window, junk));
  dialog = find_message (window, "junk.prunelab");
  g_assert_nonnull (dialog);
  gtk_window_destroy (GTK_WINDOW (dialog));

  /* still the same model, and the slider still previews */
  g_assert_true (pl_test_wait_for (pl_test_window_idle, window, 60));
  g_assert_cmpstr (pl_engine_get_snapshot (pl_window_get_engine (window))->arch, ==, arch_before);
  pl_window_set_sparsity (window, 50.0);
  g_assert_true (pl_test_wait_for (pl_test_window_idle, window, 60));
  g_assert_nonnull (strstr (pl_window_get_readout_text (window), "Sparsity 50.0"));

  gtk_window_destroy (GTK_WINDOW (window));
  g_unlink (good);
  g_unlink (cut);
  g_unlink (junk);
}

/* A session a teacher made at a lesson step reopens at that step, shown and not run (the
 * session holds what the steps before made), and keeps it through the app: opened, saved
 * again. A lesson this installation lacks is said, and kept for the next save. */
static void
test_lesson_kept (void)
{
  g_autofree char *first = g_build_filename (dir, "lesson.prunelab", NULL);
  g_autofree char *again = g_build_filename (dir, "again.prunelab", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(PlSession) s = NULL;
  g_autoptr(PlSession) back = NULL;
  PlWindow *window = pl_window_new (NULL);
  const PlLesson *lesson;
  GtkWidget *panel, *stack;
  guint step;
  gsize epochs;

  gtk_window_present (GTK_WINDOW (window));
  g_assert_true (pl_test_wait_for (pl_test_window_idle, window, 60));
  g_assert_true (pl_window_save_session_path (window, first));
  g_assert_true (pl_test_wait_for (pl_test_window_idle, window, 60));
  s = pl_session_load (first, &error);
  g_assert_no_error (error);
  s->lesson_id = g_strdup ("magnitude");
  s->lesson_step = 3;
  g_assert_true (pl_session_save (s, first, &error));

  g_assert_true (pl_window_open_session_path (window, first));
  g_assert_true (pl_test_wait_for (pl_test_window_idle, window, 60));
  /* the panel shows the saved step, as the steps before it would have left it, and has not
   * run it: the session's network is what the student sees */
  lesson = pl_window_get_lesson (window, &step);
  g_assert_nonnull (lesson);
  g_assert_cmpstr (lesson->id, ==, "magnitude");
  g_assert_cmpuint (step, ==, 3);
  panel = pl_test_find_widget (GTK_WIDGET (window), PL_TYPE_LESSON_PANEL, NULL);
  g_assert_nonnull (panel);
  g_assert_true (gtk_widget_get_visible (panel));
  stack = pl_test_find_widget (GTK_WIDGET (window), ADW_TYPE_VIEW_STACK, NULL);
  g_assert_cmpstr (adw_view_stack_get_visible_child_name (ADW_VIEW_STACK (stack)), ==, "threshold");
  pl_snapshot_history (pl_engine_get_snapshot (pl_window_get_engine (window)), &epochs);
  g_assert_cmpuint (epochs, ==, s->history->len);
  g_assert_true (pl_window_save_session_path (window, again));
  g_assert_true (pl_test_wait_for (pl_test_window_idle, window, 60));
  back = pl_session_load (again, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (back->lesson_id, ==, "magnitude");
  g_assert_cmpuint (back->lesson_step, ==, 3);

  /* a lesson not installed here: no panel, and the next save keeps it */
  g_free (s->lesson_id);
  s->lesson_id = g_strdup ("not-installed");
  s->lesson_step = 2;
  g_assert_true (pl_session_save (s, first, &error));
  g_assert_true (pl_window_open_session_path (window, first));
  g_assert_true (pl_test_wait_for (pl_test_window_idle, window, 60));
  g_assert_null (pl_window_get_lesson (window, NULL));
  g_assert_false (gtk_widget_get_visible (panel));
  g_assert_true (pl_window_save_session_path (window, again));
  g_assert_true (pl_test_wait_for (pl_test_window_idle, window, 60));
  g_clear_pointer (&back, pl_session_free);
  back = pl_session_load (again, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (back->lesson_id, ==, "not-installed");
  g_assert_cmpuint (back->lesson_step, ==, 2);

  gtk_window_destroy (GTK_WINDOW (window));
  g_unlink (first);
  g_unlink (again);
}

/* `prunelab FILE.prunelab`: the program opens the session given on its command line (here it
 * exports the weights it shows, whose pruned entries are the session's masks, and quits). */
static void
test_program_opens_file (void)
{
  const char *program = g_getenv ("PRUNELAB_GUI");
  g_autofree char *path = g_build_filename (dir, "cli.prunelab", NULL);
  g_autofree char *csv = g_build_filename (dir, "weights.csv", NULL);
  g_autofree char *steps = g_strdup_printf ("idle;export=%s;quit", csv);
  g_autofree char *contents = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(PlSession) session = NULL;
  g_auto(GStrv) lines = NULL;
  PlWindow *window;
  int status;
  const char *argv[] = { program, "--automate", steps, path, NULL };
  const PlLayer *l;

  if (program == NULL)
    {
      g_test_skip ("PRUNELAB_GUI is not set (meson test sets it)");
      return;
    }

  /* a session with a pruned model, from a window */
  window = pl_window_new (NULL);
  gtk_window_present (GTK_WINDOW (window));
  g_assert_true (pl_test_wait_for (pl_test_window_idle, window, 60));
  pl_window_automate (window, "dataset=xor;epochs=3;train;idle;sparsity=40;idle;apply-prune;idle");
  g_assert_true (pl_test_wait_for (pl_test_window_idle, window, 120));
  g_assert_true (pl_window_save_session_path (window, path));
  g_assert_true (pl_test_wait_for (pl_test_window_idle, window, 60));
  gtk_window_destroy (GTK_WINDOW (window));
  session = pl_session_load (path, &error);
  g_assert_no_error (error);

  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL,
                               NULL, NULL, &status, &error));
  g_assert_no_error (error);
  g_assert_true (g_spawn_check_wait_status (status, &error));
  g_assert_true (g_file_get_contents (csv, &contents, NULL, NULL));

  /* output,input,weight,pruned of the first layer */
  lines = g_strsplit (contents, "\n", -1);
  l = &session->model->layers[0];
  g_assert_cmpstr (lines[0], ==, "output,input,weight,pruned");
  g_assert_cmpuint (g_strv_length (lines), >=, (guint) (l->n_out * l->n_in + 1));
  for (guint k = 0; k < l->n_out * l->n_in; k++)
    {
      g_auto(GStrv) f = g_strsplit (lines[k + 1], ",", -1);
      guint o = k / l->n_in, i = k % l->n_in;

      g_assert_cmpuint (g_strv_length (f), ==, 4);
      g_assert_cmpuint (g_ascii_strtoull (f[0], NULL, 10), ==, o);
      g_assert_cmpuint (g_ascii_strtoull (f[1], NULL, 10), ==, i);
      g_assert_cmpfloat_with_epsilon (g_ascii_strtod (f[2], NULL), l->w[k], 1e-6);
      g_assert_cmpint (atoi (f[3]), ==, l->w_mask[k] == 0.0f);
    }
  g_unlink (csv);
  g_unlink (path);
}

int
main (int    argc,
      char **argv)
{
  int status;

  dir = g_dir_make_tmp ("pl-gui-session-XXXXXX", NULL);
  /* GtkRecentManager writes into XDG_DATA_HOME: a private one */
  g_setenv ("XDG_DATA_HOME", dir, TRUE);
  g_test_init (&argc, &argv, NULL);
  if (!gtk_init_check ())
    {
      g_test_message ("no display: run under xvfb-run");
      return 77;
    }
  adw_init ();
  g_test_add_func ("/gui/session/saved-and-reopened-exactly", test_save_and_reopen);
  g_test_add_func ("/gui/session/corrupt-file-shows-message-app-keeps-working", test_corrupt_session);
  g_test_add_func ("/gui/session/lesson-step-kept", test_lesson_kept);
  g_test_add_func ("/gui/session/program-opens-file-given", test_program_opens_file);
  status = g_test_run ();

  {
    g_autofree char *recent = g_build_filename (dir, "recently-used.xbel", NULL);

    g_unlink (recent);
    g_rmdir (dir);
  }
  g_free (dir);
  return status;
}
