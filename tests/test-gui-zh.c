/* The app in Simplified Chinese, under Xvfb, as a user in a zh_CN.UTF-8 session meets it: the
 * program starts and quits cleanly, and the window's labels, read-outs and status are Chinese,
 * with no English message of the catalogue left on screen. meson test sets LANG=zh_CN.UTF-8
 * and LANGUAGE=zh_CN; tests/test-gui.c drives the same window in English. */
#include "config.h"

#include <adwaita.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <locale.h>
#include <string.h>

#include "pl-locale.h"
#include "pl-test-gui.h"
#include "pl-window.h"

/* Every GtkLabel under @widget, as set (with mnemonics: "训练(_T)") */
static void
collect_labels (GtkWidget *widget,
                GPtrArray *labels)
{
  if (GTK_IS_LABEL (widget))
    g_ptr_array_add (labels, (gpointer) gtk_label_get_label (GTK_LABEL (widget)));
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    collect_labels (child, labels);
}

static gboolean
has_label (GPtrArray  *labels,
           const char *text)
{
  for (guint i = 0; i < labels->len; i++)
    if (g_strcmp0 (labels->pdata[i], text) == 0)
      return TRUE;
  return FALSE;
}

static void
test_window_speaks_chinese (void)
{
  PlWindow *window = pl_window_new (NULL);
  g_autoptr(GPtrArray) labels = g_ptr_array_new ();
  guint english = 0;

  gtk_window_present (GTK_WINDOW (window));
  g_assert_true (pl_test_wait_for (pl_test_window_idle, window, 60));
  pl_window_automate (window, "epochs=5;train");
  g_assert_true (pl_test_wait_for (pl_test_window_idle, window, 120));
  pl_window_set_sparsity (window, 50.0);
  g_assert_true (pl_test_wait_for (pl_test_window_idle, window, 60));

  /* the read-outs the class watches */
  g_test_message ("“%s” / “%s”", pl_window_get_accuracy_text (window), pl_window_get_readout_text (window));
  g_assert_true (g_str_has_prefix (pl_window_get_accuracy_text (window), "验证准确率 "));
  g_assert_true (g_str_has_prefix (pl_window_get_readout_text (window), "稀疏度 50.0 %（"));
  g_assert_nonnull (strstr (pl_window_get_readout_text (window), "个隐藏神经元死亡"));

  /* the labels of the window built from pl-window.ui and in code */
  collect_labels (GTK_WIDGET (window), labels);
  g_assert_cmpuint (labels->len, >, 20);
  g_assert_true (has_label (labels, "训练(_T)"));
  g_assert_true (has_label (labels, "剪枝"));
  g_assert_true (has_label (labels, "稀疏度"));
  g_assert_true (has_label (labels, "数据与网络"));
  g_assert_true (has_label (labels, "回退(_R)"));
  /* a label that still shows an English message of the catalogue would translate to
   * something else now; none may */
  for (guint i = 0; i < labels->len; i++)
    {
      const char *text = labels->pdata[i];

      if (text != NULL && *text != '\0' && g_strcmp0 (_(text), text) != 0)
        {
          g_test_message ("left in English: “%s” (the catalogue has “%s”)", text, _(text));
          english++;
        }
    }
  g_assert_cmpuint (english, ==, 0);

  gtk_window_destroy (GTK_WINDOW (window));
}

/* The installed-style program, not only the window: it starts in zh_CN, reaches idle and quits */
static void
test_program_starts (void)
{
  const char *program = g_getenv ("PRUNELAB_GUI");
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("pl-zh-XXXXXX", NULL);
  g_autofree char *ready = g_build_filename (dir, "ready", NULL);
  g_autofree char *steps = g_strdup_printf ("idle;ready=%s;quit", ready);
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;

  if (program == NULL)
    {
      g_test_skip ("PRUNELAB_GUI is not set (meson test sets it)");
      return;
    }
  process = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE, &error,
                              program, "--automate", steps, NULL);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_communicate_utf8 (process, NULL, NULL, &out, &err, &error));
  g_assert_no_error (error);
  g_test_message ("stderr “%s”", err);
  g_assert_true (g_subprocess_get_if_exited (process));
  g_assert_cmpint (g_subprocess_get_exit_status (process), ==, 0);
  g_assert_true (g_file_test (ready, G_FILE_TEST_EXISTS));
  g_remove (ready);
  g_rmdir (dir);
}

int
main (int    argc,
      char **argv)
{
  const char *localedir;

  g_test_init (&argc, &argv, NULL);
  localedir = pl_locale_init ();
  if (!g_str_has_prefix (setlocale (LC_MESSAGES, NULL), "zh_CN"))
    {
      g_test_message ("the zh_CN.UTF-8 locale is not available (locale-gen zh_CN.UTF-8); LANG=%s",
                      g_getenv ("LANG"));
      return 77;
    }
  /* the build's catalogue is found: the test is about the window, not the lookup */
  if (g_strcmp0 (_("Pruning"), "剪枝") != 0)
    g_error ("no Chinese catalogue in %s (is po/zh_CN.po compiled?)", localedir);
  if (!gtk_init_check ())
    {
      g_test_message ("no display: run under xvfb-run");
      return 77;
    }
  adw_init ();
  g_test_add_func ("/gui/zh_CN/window-speaks-chinese", test_window_speaks_chinese);
  g_test_add_func ("/gui/zh_CN/program-starts", test_program_starts);
  return g_test_run ();
}
