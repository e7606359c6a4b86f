/* The app as a user drives it, under Xvfb: start, train, drag, export, a bad file. */
#include "config.h"

#include <adwaita.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "pl-chart-view.h"
#include "pl-lesson-panel.h"
#include "pl-safetensors.h"
#include "pl-test-gui.h"
#include "pl-window.h"

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
  g_assert_true (pl_test_wait_for (pl_test_window_idle, window, 60));
  g_assert_cmpuint (errors.errors, ==, 0);

  /* train through the window's action, for 30 epochs */
  pl_window_automate (window, "epochs=30;train");
  g_assert_true (pl_test_wait_for (pl_test_window_idle, window, 120));
  trained = shown_accuracy (window);
  g_test_message ("after training: “%s”", pl_window_get_accuracy_text (window));
  g_assert_cmpfloat (trained, >=, 90.0);

  /* a threshold change updates the accuracy and sparsity shown */
  pl_window_set_sparsity (window, 95.0);
  g_assert_true (pl_test_wait_for (pl_test_window_idle, window, 60));
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
  g_assert_true (pl_test_wait_for (pl_test_window_idle, window, 60));
  g_assert_cmpuint (errors.errors, >=, 1);
  g_assert_nonnull (strstr (errors.message, "bad.safetensors"));
  pl_window_set_sparsity (window, 50.0);
  g_assert_true (pl_test_wait_for (pl_test_window_idle, window, 60));
  g_assert_nonnull (strstr (pl_window_get_readout_text (window), "Sparsity 50.0"));

  gtk_window_destroy (GTK_WINDOW (window));
  g_remove (png);
  g_remove (csv);
  g_remove (bad);
  g_rmdir (dir);
  g_free (errors.message);
}

/* The scopes and N:M of issue 16 through the strategy panel, and pruning at initialisation from
 * the Procedure list: on 2-64-64-3, 2:4 prunes half of every row with at least four inputs,
 * 2048 + 96 of the 4416 weights (the first layer's rows hold two), so a 10 % target prunes
 * nothing more; ERK reaches 80 %; at-init leaves its curve. */
static void
test_scopes_nm_and_at_init (void)
{
  PlWindow *window = pl_window_new (NULL);
  PlEngine *engine = pl_window_get_engine (window);
  Errors errors = { 0 };
  PlSnapshot *s;

  g_signal_connect (engine, "error", G_CALLBACK (on_error), &errors);
  gtk_window_present (GTK_WINDOW (window));
  g_assert_true (pl_test_wait_for (pl_test_window_idle, window, 60));
  pl_window_automate (window, "epochs=10;train");
  g_assert_true (pl_test_wait_for (pl_test_window_idle, window, 120));

  pl_window_automate (window, "score=wanda;scope=row;nm=2:4");
  pl_window_set_sparsity (window, 10.0);
  g_assert_true (pl_test_wait_for (pl_test_window_idle, window, 60));
  s = pl_engine_get_snapshot (engine);
  g_assert_true (s->has_preview);
  g_assert_cmpuint (s->preview.weights, ==, 4416);
  g_assert_cmpuint (s->preview.pruned, ==, 2048 + 96);

  pl_window_automate (window, "nm=off;scope=erk;score=magnitude");
  pl_window_set_sparsity (window, 80.0);
  g_assert_true (pl_test_wait_for (pl_test_window_idle, window, 60));
  s = pl_engine_get_snapshot (engine);
  g_assert_true (s->has_preview);
  g_assert_cmpfloat_with_epsilon (s->preview.sparsity, 0.8, 1e-3);
  g_assert_cmpuint (errors.errors, ==, 0);

  pl_window_automate (window, "scope=global;score=synflow;procedure=at-init;epochs=3");
  g_assert_true (pl_test_wait_for (pl_test_window_idle, window, 60));
  gtk_widget_activate_action (GTK_WIDGET (window), "win.run-procedure", NULL);
  g_assert_true (pl_test_wait_for (pl_test_window_idle, window, 300));
  s = pl_engine_get_snapshot (engine);
  g_assert_nonnull (s->schedules[PL_METHOD_AT_INIT]);
  g_assert_cmpuint (errors.errors, ==, 0);

  g_object_ref (window);
  gtk_window_destroy (GTK_WINDOW (window));
  g_assert_finalize_object (window);
  g_free (errors.message);
}

/* The GtkDropDown whose list has @n_items rows (the Procedure list), depth first. */
static GtkDropDown *
find_dropdown_with (GtkWidget *root,
                    guint      n_items)
{
  if (GTK_IS_DROP_DOWN (root) && gtk_drop_down_get_model (GTK_DROP_DOWN (root)) != NULL
      && g_list_model_get_n_items (gtk_drop_down_get_model (GTK_DROP_DOWN (root))) == n_items)
    return GTK_DROP_DOWN (root);
  for (GtkWidget *c = gtk_widget_get_first_child (root); c != NULL; c = gtk_widget_get_next_sibling (c))
    {
      GtkDropDown *found = find_dropdown_with (c, n_items);

      if (found != NULL)
        return found;
    }
  return NULL;
}

/* Issue 16 as a user clicks it: "Prune with Reconstruction (OBS)" prunes to the slider's
 * sparsity and Undo puts every weight back; Movement, SET and RigL chosen in the Procedure list
 * and run with Run Procedure each reach the slider's sparsity. */
static void
test_prune_obs_and_dst (void)
{
  static const struct { const char *title; PlMethod method; } procedures[] = {
    { "Movement, while fine-tuning", PL_METHOD_MOVEMENT },
    { "SET, sparse from scratch", PL_METHOD_SET },
    { "RigL, sparse from scratch", PL_METHOD_RIGL },
  };
  PlWindow *window = pl_window_new (NULL);
  GtkWidget *root = GTK_WIDGET (window);
  PlEngine *engine = pl_window_get_engine (window);
  g_autoptr(PlSnapshot) before = NULL;
  Errors errors = { 0 };
  GtkWidget *obs, *undo, *run;
  GtkDropDown *procedure;
  PlSnapshot *s;

  g_signal_connect (engine, "error", G_CALLBACK (on_error), &errors);
  gtk_window_present (GTK_WINDOW (window));
  g_assert_true (pl_test_wait_for (pl_test_window_idle, window, 60));
  pl_window_automate (window, "epochs=5;train");
  g_assert_true (pl_test_wait_for (pl_test_window_idle, window, 120));
  before = pl_snapshot_ref (pl_engine_get_snapshot (engine));

  obs = pl_test_find_widget (root, GTK_TYPE_BUTTON, "win.prune-obs");
  undo = pl_test_find_widget (root, GTK_TYPE_BUTTON, "win.undo");
  run = pl_test_find_widget (root, GTK_TYPE_BUTTON, "win.run-procedure");
  g_assert_nonnull (obs);
  g_assert_nonnull (undo);
  g_assert_nonnull (run);
  g_assert_cmpstr (gtk_button_get_label (GTK_BUTTON (obs)), ==, "Prune with Re_construction (OBS)");
  pl_window_set_sparsity (window, 80.0);
  g_assert_true (pl_test_wait_for (pl_test_window_idle, window, 60));
  g_assert_true (gtk_widget_is_sensitive (obs));
  g_signal_emit_by_name (obs, "clicked");
  g_assert_true (pl_test_wait_for (pl_test_window_idle, window, 120));
  s = pl_engine_get_snapshot (engine);
  g_assert_cmpuint (errors.errors, ==, 0);
  g_assert_cmpfloat_with_epsilon (s->metrics.total.parameter_sparsity, 0.8, 0.01);
  g_assert_true (s->can_undo);
  g_assert_true (gtk_widget_is_sensitive (undo));
  g_signal_emit_by_name (undo, "clicked");
  g_assert_true (pl_test_wait_for (pl_test_window_idle, window, 60));
  s = pl_engine_get_snapshot (engine);
  g_assert_cmpfloat (s->metrics.total.parameter_sparsity, ==, 0.0);
  for (guint i = 0; i < s->n_layers; i++)
    g_assert_true (g_bytes_equal (s->layers[i].weights, before->layers[i].weights));

  procedure = find_dropdown_with (root, PL_LESSON_N_PROCEDURES);
  g_assert_nonnull (procedure);
  pl_window_automate (window, "epochs=2");
  for (guint i = 0; i < G_N_ELEMENTS (procedures); i++)
    {
      GListModel *list = gtk_drop_down_get_model (procedure);
      const PlSchedulePoint *p;
      gsize n;
      guint row = GTK_INVALID_LIST_POSITION;

      for (guint k = 0; k < g_list_model_get_n_items (list); k++)
        if (g_str_equal (gtk_string_list_get_string (GTK_STRING_LIST (list), k), procedures[i].title))
          row = k;
      g_assert_cmpuint (row, !=, GTK_INVALID_LIST_POSITION);
      gtk_drop_down_set_selected (procedure, row);
      g_assert_true (gtk_widget_is_sensitive (run));
      g_signal_emit_by_name (run, "clicked");
      g_assert_true (pl_test_wait_for (pl_test_window_idle, window, 300));
      s = pl_engine_get_snapshot (engine);
      g_assert_cmpuint (errors.errors, ==, 0);
      g_assert_nonnull (s->schedules[procedures[i].method]);
      p = g_bytes_get_data (s->schedules[procedures[i].method], &n);
      n /= sizeof (PlSchedulePoint);
      g_assert_cmpuint (n, >=, 2);
      g_assert_cmpfloat_with_epsilon (p[n - 1].sparsity, 0.8, 0.01);
    }

  g_object_ref (window);
  gtk_window_destroy (GTK_WINDOW (window));
  g_assert_finalize_object (window);
  g_free (errors.message);
}

/* ---- Reproduce a Paper ---- */

/* Whether a menu button under @root has an item labelled @label, with @action. */
static gboolean
menu_has_item (GtkWidget  *root,
               const char *label,
               const char *action)
{
  if (GTK_IS_MENU_BUTTON (root))
    {
      GMenuModel *menu = gtk_menu_button_get_menu_model (GTK_MENU_BUTTON (root));
      GPtrArray *todo = g_ptr_array_new ();
      gboolean found = FALSE;

      if (menu != NULL)
        g_ptr_array_add (todo, menu);
      while (todo->len > 0 && !found)
        {
          GMenuModel *m = g_ptr_array_steal_index (todo, todo->len - 1);

          for (int i = 0; i < g_menu_model_get_n_items (m) && !found; i++)
            {
              g_autofree char *l = NULL;
              g_autofree char *a = NULL;
              g_autoptr(GMenuLinkIter) links = g_menu_model_iterate_item_links (m, i);
              GMenuModel *sub;

              g_menu_model_get_item_attribute (m, i, G_MENU_ATTRIBUTE_LABEL, "s", &l);
              g_menu_model_get_item_attribute (m, i, G_MENU_ATTRIBUTE_ACTION, "s", &a);
              found = g_strcmp0 (l, label) == 0 && g_strcmp0 (a, action) == 0;
              while (g_menu_link_iter_get_next (links, NULL, &sub))
                {
                  g_ptr_array_add (todo, sub);
                  g_object_unref (sub);   /* the model holds it */
                }
            }
        }
      g_ptr_array_unref (todo);
      if (found)
        return TRUE;
    }
  for (GtkWidget *c = gtk_widget_get_first_child (root); c != NULL; c = gtk_widget_get_next_sibling (c))
    if (menu_has_item (c, label, action))
      return TRUE;
  return FALSE;
}

static gboolean
dialog_done (gpointer dialog)
{
  return !pl_reproduce_dialog_is_running (dialog);
}

/* A number as the table shows it, written out here (4 significant digits, whole from 1000). */
static char *
table_number (double      v,
              const char *unit)
{
  if (isnan (v))
    return g_strdup ("—");
  return fabs (v) >= 1000 ? g_strdup_printf ("%.0f%s", v, unit) : g_strdup_printf ("%.4g%s", v, unit);
}

/* Issue 16: "Reproduce a Paper…" in the main menu; han2015 --quick chosen by click and Run: the
 * run goes on the engine thread and the table shows each of its numbers with the paper's;
 * Export writes the chart and the points; Stop (the dialog's, as Escape) ends a run with no
 * result and the last one stays; without data the dialog says so. */
static void
test_reproduce (void)
{
  PlWindow *window = pl_window_new (NULL);
  PlEngine *engine = pl_window_get_engine (window);
  g_autofree char *dir = g_dir_make_tmp ("pl-gui-reproduce-XXXXXX", NULL);
  g_autofree char *png = g_build_filename (dir, "han2015.png", NULL);
  g_autofree char *csv = g_build_filename (dir, "han2015.csv", NULL);
  g_autofree char *table = NULL;
  g_autofree char *contents = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) lines = NULL;
  const PlReproduceResult *r;
  PlReproduceDialog *dialog;
  GtkWidget *paper, *quick, *run;
  gsize size = 0;

  gtk_window_present (GTK_WINDOW (window));
  g_assert_true (pl_test_wait_for (pl_test_window_idle, window, 60));
  g_assert_true (menu_has_item (GTK_WIDGET (window), "Reproduce a _Paper…", "win.reproduce"));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.reproduce", NULL));
  dialog = pl_window_open_reproduce (window);   /* the one open */
  g_assert_nonnull (dialog);
  g_assert_null (pl_reproduce_dialog_get_table_text (dialog));

  paper = pl_test_find_widget (GTK_WIDGET (dialog), ADW_TYPE_COMBO_ROW, NULL);
  quick = pl_test_find_widget (GTK_WIDGET (dialog), GTK_TYPE_SWITCH, NULL);
  run = pl_test_find_widget (GTK_WIDGET (dialog), GTK_TYPE_BUTTON, "reproduce.run");
  g_assert_nonnull (paper);
  g_assert_nonnull (quick);
  g_assert_nonnull (run);
  adw_combo_row_set_selected (ADW_COMBO_ROW (paper), PL_PAPER_HAN2015);
  gtk_switch_set_active (GTK_SWITCH (quick), TRUE);
  g_signal_emit_by_name (run, "clicked");
  g_assert_true (pl_reproduce_dialog_is_running (dialog));
  g_assert_false (pl_window_is_idle (window));
  g_assert_true (pl_test_wait_for (dialog_done, dialog, 300));
  g_assert_cmpstr (pl_reproduce_dialog_get_status (dialog), ==, "");

  r = pl_engine_get_reproduction (engine);
  g_assert_nonnull (r);
  g_assert_cmpint (r->paper, ==, PL_PAPER_HAN2015);
  g_assert_true (r->quick);
  g_assert_cmpuint (r->settings.seeds, ==, 1);
  table = pl_reproduce_dialog_get_table_text (dialog);
  g_assert_nonnull (table);
  lines = g_strsplit (table, "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, r->rows->len + 2);   /* header, rows, "" */
  g_assert_true (g_str_has_prefix (lines[0], "Number\tPaper\tMeasured\t"));
  for (guint k = 0; k < r->rows->len; k++)
    {
      const PlReproduceRow *row = &g_array_index (r->rows, PlReproduceRow, k);
      g_autofree char *p = table_number (row->paper, row->unit);
      g_autofree char *m = table_number (row->mean, row->unit);
      g_autofree char *expected = g_strdup_printf ("%s\t%s\t%s\t", row->label, p, m);

      g_assert_true (g_str_has_prefix (lines[k + 1], expected));
    }
  /* the paper's own numbers: Table 1's 1.64 % error of the dense network */
  g_assert_nonnull (strstr (table, "\t1.64%\t"));

  g_assert_true (pl_reproduce_dialog_export (dialog, png, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (png, &contents, &size, &error));
  g_assert_cmpuint (size, >, 8);
  g_assert_cmpint (memcmp (contents, "\x89PNG", 4), ==, 0);
  g_clear_pointer (&contents, g_free);
  g_assert_true (pl_reproduce_dialog_export (dialog, csv, &error));
  g_assert_true (g_file_get_contents (csv, &contents, NULL, &error));
  g_assert_true (g_str_has_prefix (contents, "curve,seed,level,target_sparsity,sparsity,test_accuracy"));
  g_clear_pointer (&contents, g_free);
  /* the table, with Table 1's dense error as the paper's number of its row */
  g_assert_true (pl_reproduce_dialog_export_table (dialog, csv, &error));
  g_assert_true (g_file_get_contents (csv, &contents, NULL, &error));
  g_assert_true (g_str_has_prefix (contents, "key,label,unit,paper,mean,min,max,seeds,source\n"));
  g_assert_nonnull (strstr (contents, "\nerror_before,"));
  g_assert_nonnull (strstr (contents, ",1.64,"));

  /* Stop: frankle2019's full run stopped at once; no result, han2015's stays on view */
  pl_reproduce_dialog_set_choice (dialog, PL_PAPER_FRANKLE2019, FALSE, 5);
  g_signal_emit_by_name (run, "clicked");
  g_assert_true (pl_reproduce_dialog_is_running (dialog));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (dialog), "reproduce.cancel", NULL));
  g_assert_true (pl_test_wait_for (dialog_done, dialog, 120));
  g_assert_nonnull (strstr (pl_reproduce_dialog_get_status (dialog), "Stopped"));
  g_assert_true (pl_engine_get_reproduction (engine) == r);
  {
    g_autofree char *again = pl_reproduce_dialog_get_table_text (dialog);

    g_assert_cmpstr (again, ==, table);
  }
  g_assert_true (pl_test_wait_for (pl_test_window_idle, window, 60));

  g_object_ref (window);
  gtk_window_destroy (GTK_WINDOW (window));
  g_assert_finalize_object (window);
  g_unlink (png);
  g_unlink (csv);
  g_rmdir (dir);

  /* data without a validation split (the papers' early stopping and records need one): Run
   * says what is missing, nothing crashes */
  {
    g_autoptr(PlEngine) other = pl_engine_new (1);
    PlDataOptions options = PL_DATA_OPTIONS_INIT;
    PlReproduceDialog *d;

    options.val_size = 0;
    pl_engine_load_data (other, "moons:n=200", &options);
    while (pl_engine_get_snapshot (other)->data_name == NULL)
      g_main_context_iteration (NULL, TRUE);
    d = pl_reproduce_dialog_new (NULL, other);
    gtk_window_present (GTK_WINDOW (d));
    g_assert_true (gtk_widget_activate_action (GTK_WIDGET (d), "reproduce.run", NULL));
    g_assert_true (pl_test_wait_for (dialog_done, d, 60));
    g_assert_nonnull (strstr (pl_reproduce_dialog_get_status (d), "The reproduction failed"));
    g_assert_nonnull (strstr (pl_reproduce_dialog_get_status (d), "validation split"));
    g_assert_null (pl_reproduce_dialog_get_table_text (d));
    gtk_window_destroy (GTK_WINDOW (d));
  }
}

/* ---- errors in the middle of what runs ---- */

typedef struct {
  PlWindow *window;
  int       state;     /* PlEngineState */
} StateWait;

static gboolean
in_state (gpointer data)
{
  StateWait *w = data;
  PlSnapshot *s = pl_engine_get_snapshot (pl_window_get_engine (w->window));

  return (int) s->state == w->state;
}

static void
wait_for_state (PlWindow *window,
                int       state)
{
  StateWait w = { window, state };

  g_assert_true (pl_test_wait_for (in_state, &w, 120));
}

/* What a user sees after each error: the window answers a new slider position with an accuracy
 * read-out, and nothing shows a non-number. */
static void
assert_still_answers (PlWindow *window,
                      double    percent)
{
  g_autofree char *expected = g_strdup_printf ("Sparsity %.1f", percent);

  pl_window_set_sparsity (window, percent);
  g_assert_true (pl_test_wait_for (pl_test_window_idle, window, 120));
  g_assert_nonnull (strstr (pl_window_get_readout_text (window), expected));
  g_assert_cmpfloat (shown_accuracy (window), >=, 0.0);
  g_assert_null (strstr (pl_window_get_accuracy_text (window), "nan"));
}

/* The engine reports an error while training runs, while a sweep runs, in the middle of a drag;
 * a dataset that is not there; a training run that diverges. Each time the message names what
 * went wrong, what ran goes on or ends cleanly, and the window keeps working. */
static void
test_errors_mid_run (void)
{
  PlWindow *window = pl_window_new (NULL);
  PlEngine *engine = pl_window_get_engine (window);
  g_autoptr(GSettings) settings = g_settings_new ("io.github.prunelab.PruneLab");
  g_autofree char *dir = g_dir_make_tmp ("pl-gui-XXXXXX", NULL);
  g_autofree char *bad = g_build_filename (dir, "bad.safetensors", NULL);
  g_autofree char *huge = g_build_filename (dir, "huge.safetensors", NULL);
  g_autofree char *missing = g_build_filename (dir, "no-fashion-here", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(PlMlp) model = NULL;
  g_autofree char *dataset = NULL;
  PlSnapshot *s;
  Errors errors = { 0 };
  gsize n;

  g_signal_connect (engine, "error", G_CALLBACK (on_error), &errors);
  gtk_window_present (GTK_WINDOW (window));
  g_assert_true (pl_test_wait_for (pl_test_window_idle, window, 60));
  g_assert_true (g_file_set_contents (bad, "{\"not\": \"a model\"}", -1, NULL));

  /* a bad model opened while training: refused with a message, and training goes on */
  pl_window_automate (window, "epochs=100000;train");
  wait_for_state (window, PL_ENGINE_STATE_TRAINING);
  pl_window_open_model_path (window, bad);
  while (errors.errors < 1)
    g_main_context_iteration (NULL, TRUE);
  g_test_message ("while training: “%s”", errors.message);
  g_assert_nonnull (strstr (errors.message, "training"));
  g_assert_cmpint (pl_engine_get_snapshot (engine)->state, ==, PL_ENGINE_STATE_TRAINING);
  pl_window_automate (window, "stop");
  g_assert_true (pl_test_wait_for (pl_test_window_idle, window, 120));
  assert_still_answers (window, 40.0);

  /* the same during a sweep (the Run Sweep button): the sweep completes */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.sweep", NULL));
  pl_window_open_model_path (window, bad);   /* queued behind the sweep: arrives while it runs */
  g_assert_true (pl_test_wait_for (pl_test_window_idle, window, 300));
  g_test_message ("during a sweep: “%s”", errors.message);
  g_assert_cmpuint (errors.errors, ==, 2);
  g_assert_nonnull (strstr (errors.message, "sweep"));
  s = pl_engine_get_snapshot (engine);
  g_assert_cmpuint (s->n_curves, >=, 2);
  for (guint c = 0; c < s->n_curves; c++)
    {
      pl_sweep_curve_points (&s->curves[c], &n);
      g_assert_cmpuint (n, >=, 2);
    }

  /* in the middle of a drag: the file's error names it, and the drag goes on */
  for (guint i = 0; i < 40; i++)
    {
      pl_window_set_sparsity (window, i * 2.0);
      if (i == 20)
        pl_window_open_model_path (window, bad);
      g_main_context_iteration (NULL, FALSE);
    }
  g_assert_true (pl_test_wait_for (pl_test_window_idle, window, 120));
  g_test_message ("during a drag: “%s”", errors.message);
  g_assert_cmpuint (errors.errors, ==, 3);
  g_assert_nonnull (strstr (errors.message, "bad.safetensors"));
  g_assert_nonnull (strstr (pl_window_get_readout_text (window), "Sparsity 78.0"));

  /* Fashion-MNIST chosen where its files are not: the message names the folder, the list goes
   * back to the dataset still loaded, and that one still trains */
  g_settings_set_string (settings, "fashion-mnist-folder", missing);
  pl_window_automate (window, "dataset=fashion-mnist");
  g_assert_true (pl_test_wait_for (pl_test_window_idle, window, 120));
  g_test_message ("a missing dataset: “%s”", errors.message);
  g_assert_cmpuint (errors.errors, >=, 4);
  g_assert_nonnull (strstr (errors.message, "no-fashion-here"));
  g_assert_cmpstr (pl_engine_get_snapshot (engine)->data_name, ==, "spiral");
  g_clear_pointer (&dataset, g_free);
  dataset = g_settings_get_string (settings, "dataset");
  g_assert_cmpstr (dataset, ==, "spiral");
  pl_window_automate (window, "epochs=2;train");
  g_assert_true (pl_test_wait_for (pl_test_window_idle, window, 120));
  assert_still_answers (window, 30.0);
  g_settings_reset (settings, "fashion-mnist-folder");

  /* training that diverges (weights so large that the loss overflows): a message that says so,
   * the last good weights, and the window goes on */
  s = pl_engine_get_snapshot (engine);
  model = pl_snapshot_build_model (s, FALSE);
  for (gsize k = 0; k < model->n_params; k++)
    model->params[k] *= 1e17f;
  g_assert_true (pl_safetensors_save (model, huge, &error));
  g_assert_no_error (error);
  pl_window_open_model_path (window, huge);
  g_assert_true (pl_test_wait_for (pl_test_window_idle, window, 120));
  errors.errors = 0;
  pl_window_automate (window, "epochs=5;train");
  g_assert_true (pl_test_wait_for (pl_test_window_idle, window, 120));
  g_test_message ("diverging: “%s”", errors.message);
  g_assert_cmpuint (errors.errors, ==, 1);
  g_assert_nonnull (strstr (errors.message, "diverge"));
  s = pl_engine_get_snapshot (engine);
  for (guint i = 0; i < s->n_layers; i++)
    {
      const float *w = pl_snapshot_floats (s->layers[i].weights, &n);

      for (gsize k = 0; k < n; k++)
        g_assert_true (isfinite (w[k]));
    }
  assert_still_answers (window, 10.0);

  gtk_window_destroy (GTK_WINDOW (window));
  g_remove (bad);
  g_remove (huge);
  g_rmdir (dir);
  g_free (errors.message);
}

/* ---- what a user does, step by step ---- */

/* A widget of the window's template, by its name in pl-window.ui. (transfer none) */
static gpointer
window_child (PlWindow   *window,
              const char *name)
{
  GObject *child = gtk_widget_get_template_child (GTK_WIDGET (window), PL_TYPE_WINDOW, name);

  g_assert_nonnull (child);
  return child;
}

/* Reads @path and checks it starts as its format does. */
static void
assert_file_format (const char *path)
{
  g_autofree char *bytes = NULL;
  gsize length = 0;

  g_assert_true (g_file_get_contents (path, &bytes, &length, NULL));
  g_assert_cmpuint (length, >, 16);
  if (g_str_has_suffix (path, ".png"))
    g_assert_cmpmem (bytes, 8, "\x89PNG\r\n\x1a\n", 8);
  else if (g_str_has_suffix (path, ".svg"))
    g_assert_nonnull (strstr (bytes, "<svg"));
  else if (g_str_has_suffix (path, ".pdf"))
    g_assert_cmpmem (bytes, 5, "%PDF-", 5);
  else
    g_assert_true (g_utf8_validate (bytes, length, NULL));
}

typedef struct {
  PlWindow *window;
  guint     n_curves;
} CurvesWait;

static gboolean
curves_shown (gpointer data)
{
  CurvesWait *w = data;
  PlSnapshot *s = pl_engine_get_snapshot (pl_window_get_engine (w->window));
  const PlChart *chart = pl_chart_view_get_chart (window_child (w->window, "curves_view"));

  return s->state == PL_ENGINE_STATE_IDLE && chart != NULL && chart->kind == PL_CHART_CURVES
         && ((const PlCurveSet *) chart->data)->n_curves == w->n_curves;
}

/* A sweep of every score but the learned one (its predictor is trained apart), twelve or
 * more: the window holds and draws every curve (it held at most seven arrays per chart and
 * aborted on the eighth), and exports them in every format, one series each in the CSV. */
static void
test_sweep_of_twelve_curves (void)
{
  PlWindow *window = pl_window_new (NULL);
  PlEngine *engine = pl_window_get_engine (window);
  g_autofree char *dir = g_dir_make_tmp ("pl-gui-XXXXXX", NULL);
  static const char * const formats[] = { "png", "svg", "pdf", "csv" };
  PlScoreKind scores[PL_N_SCORES];
  CurvesWait wait = { window, 0 };
  Errors errors = { 0 };

  g_signal_connect (engine, "error", G_CALLBACK (on_error), &errors);
  gtk_window_present (GTK_WINDOW (window));
  g_assert_true (pl_test_wait_for (pl_test_window_idle, window, 60));
  pl_window_automate (window, "epochs=3;train;view=curves");
  g_assert_true (pl_test_wait_for (pl_test_window_idle, window, 120));

  for (guint k = 0; k < PL_N_SCORES; k++)
    if (k != PL_SCORE_LEARNED)
      scores[wait.n_curves++] = k;
  g_assert_cmpuint (wait.n_curves, ==, PL_N_SCORES - 1);
  g_assert_cmpuint (wait.n_curves, >=, 12);
  g_assert_cmpuint (pl_engine_sweep (engine, scores, wait.n_curves, 5, 0.9, 1), >, 0);
  g_assert_true (pl_test_wait_for (curves_shown, &wait, 300));
  g_assert_cmpuint (errors.errors, ==, 0);
  pl_test_run_for (200);

  for (guint f = 0; f < G_N_ELEMENTS (formats); f++)
    {
      g_autofree char *name = g_strconcat ("curves.", formats[f], NULL);
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_autoptr(GError) error = NULL;

      g_assert_true (pl_window_export_visible (window, path, &error));
      g_assert_no_error (error);
      assert_file_format (path);
      if (g_str_equal (formats[f], "csv"))
        {
          g_autofree char *text = NULL;
          g_auto(GStrv) lines = NULL;
          g_autoptr(GHashTable) series = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

          g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
          lines = g_strsplit (text, "\n", -1);
          g_assert_cmpstr (lines[0], ==, "series,sparsity,value,lo,hi");
          /* five points a curve, then the unpruned accuracy as its own row */
          for (guint i = 1; lines[i] != NULL && *lines[i] != '\0'; i++)
            if (!g_str_has_prefix (lines[i], "unpruned,"))
              g_hash_table_add (series, g_strndup (lines[i], strcspn (lines[i], ",")));
          g_assert_cmpuint (g_hash_table_size (series), ==, wait.n_curves);
          g_assert_cmpuint (g_strv_length (lines), ==, 1 + wait.n_curves * 5 + 1 + 1);
        }
      g_remove (path);
    }

  g_object_ref (window);
  gtk_window_destroy (GTK_WINDOW (window));
  g_assert_finalize_object (window);
  g_rmdir (dir);
  g_free (errors.message);
}

/* The drag gesture on a chart view, found as GTK holds it. (transfer none) */
static GtkGesture *
find_drag_gesture (GtkWidget *widget)
{
  g_autoptr(GListModel) controllers = gtk_widget_observe_controllers (widget);

  for (guint i = 0; i < g_list_model_get_n_items (controllers); i++)
    {
      g_autoptr(GObject) c = g_list_model_get_item (controllers, i);

      if (GTK_IS_GESTURE_DRAG (c))
        return GTK_GESTURE (c);
    }
  g_error ("no drag gesture on %s", G_OBJECT_TYPE_NAME (widget));
}

/* What a threshold drag to @value prunes, counted over the weights the model keeps: in each
 * layer the scores below @value (at most @value: a tie at the threshold may go either way),
 * but never the whole layer, whose highest-scoring weight stays (pl-prune.h). */
static void
count_scores_below (PlSnapshot *s,
                    double      value,
                    gsize      *below,
                    gsize      *at_most)
{
  *below = *at_most = 0;
  for (guint i = 0; i < s->n_layers; i++)
    {
      gsize n = 0, kept = 0, lt = 0, le = 0;
      const float *sc = pl_snapshot_floats (s->layers[i].scores, &n);
      const float *m = pl_snapshot_floats (s->layers[i].masks, NULL);

      for (gsize k = 0; k < n; k++)
        if (m[k] != 0.0f)
          {
            kept++;
            lt += sc[k] < value;
            le += sc[k] <= value;
          }
      *below += MIN (lt, kept - MIN (kept, 1));
      *at_most += MIN (le, kept - MIN (kept, 1));
    }
}

/* The weights of every layer, one after the other. (transfer full) */
static GArray *
copy_weights (PlSnapshot *s,
              gboolean    masks)
{
  GArray *a = g_array_new (FALSE, FALSE, sizeof (float));

  for (guint i = 0; i < s->n_layers; i++)
    {
      gsize n = 0;
      const float *w = pl_snapshot_floats (masks ? s->layers[i].masks : s->layers[i].weights, &n);

      g_array_append_vals (a, w, n);
    }
  return a;
}

static void
wait_idle (PlWindow *window)
{
  g_assert_true (pl_test_wait_for (pl_test_window_idle, window, 300));
  pl_test_run_for (50);   /* the frame that shows it */
}

/* Drags the threshold line to @fraction of the histogram's plot width, as a pointer would:
 * drag-begin at a start point, then drag-update with offsets from it, then drag-end. The
 * preview asked for is the score under the pointer, its mask prunes the scores below it, and
 * the slider and the read-out show its sparsity. Returns that sparsity. */
static double
drag_threshold_to (PlWindow *window,
                   double    fraction)
{
  PlChartView *view = window_child (window, "histogram_view");
  GtkGesture *drag = find_drag_gesture (GTK_WIDGET (view));
  PlSnapshot *s = pl_engine_get_snapshot (pl_window_get_engine (window));
  GtkRange *slider = window_child (window, "sparsity_scale");
  PlChartArea area;
  double x0, x1, y, value;
  gsize below, at_most;
  gboolean handled;
  g_autofree char *shown = NULL;

  g_assert_true (pl_chart_view_get_area (view, &area));
  x0 = area.x + 0.02 * area.width;
  x1 = area.x + fraction * area.width;
  y = area.y + area.height / 2;
  g_signal_emit_by_name (drag, "drag-begin", x0, y, &handled);
  for (guint step = 1; step <= 8; step++)
    {
      g_signal_emit_by_name (drag, "drag-update", (x1 - x0) * step / 8, 0.0, &handled);
      g_main_context_iteration (NULL, FALSE);
    }
  g_signal_emit_by_name (drag, "drag-end", x1 - x0, 0.0, &handled);
  wait_idle (window);

  value = pl_chart_area_value_x (&area, x1);
  s = pl_engine_get_snapshot (pl_window_get_engine (window));
  g_assert_true (s->has_preview);
  g_assert_true (s->preview_by_threshold);
  g_assert_cmpfloat (s->preview.value, ==, value);
  count_scores_below (s, value, &below, &at_most);
  g_assert_cmpuint (s->preview.pruned, >=, below);
  g_assert_cmpuint (s->preview.pruned, <=, at_most);
  g_assert_cmpfloat_with_epsilon (gtk_range_get_value (slider), 100 * s->preview.sparsity, 1e-9);
  shown = g_strdup_printf ("Sparsity %.1f %%", 100 * s->preview.sparsity);
  g_assert_nonnull (strstr (pl_window_get_readout_text (window), shown));
  g_test_message ("dragged to %.0f%% of the axis: threshold %.4g, sparsity %.1f%%, accuracy %.1f%%",
                  100 * fraction, value, 100 * s->preview.sparsity, 100 * s->preview.accuracy);
  return s->preview.sparsity;
}

static void
activate (PlWindow   *window,
          const char *action)
{
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), action, NULL));
  wait_idle (window);
}

/* The Export menu's item for @format on the visible page, as a user clicks it: the action
 * opens the file chooser with its suggested name, the user picks @dir and presses Export. */
static char *
export_from_menu (PlWindow   *window,
                  const char *format,
                  const char *dir)
{
  const char *page = adw_view_stack_get_visible_child_name (window_child (window, "view_stack"));
  g_autofree char *name = g_strdup_printf ("prunelab-%s.%s", page, format);
  char *path = g_build_filename (dir, name, NULL);
  g_autoptr(GFile) folder = g_file_new_for_path (dir);
  GListModel *toplevels = gtk_window_get_toplevels ();   /* (transfer none) */
  g_autoptr(GError) error = NULL;
  GtkWidget *chooser = NULL;

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.export", "s", format));
  for (guint tries = 0; chooser == NULL && tries < 100; tries++)
    {
      for (guint i = 0; i < g_list_model_get_n_items (toplevels) && chooser == NULL; i++)
        {
          g_autoptr(GObject) w = g_list_model_get_item (toplevels, i);

          if (GTK_IS_FILE_CHOOSER (w) && gtk_widget_get_visible (GTK_WIDGET (w)))
            chooser = GTK_WIDGET (w);
        }
      if (chooser == NULL)
        pl_test_run_for (20);
    }
  g_assert_nonnull (chooser);
  /* the chooser loads the folder it opens in; the user then goes to @dir, keeping the name */
  pl_test_run_for (300);
  g_assert_true (gtk_file_chooser_set_current_folder (GTK_FILE_CHOOSER (chooser), folder, &error));
  g_assert_no_error (error);
  for (guint tries = 0; tries < 100; tries++)
    {
      g_autoptr(GFile) chosen = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser));

      if (chosen != NULL && g_strcmp0 (g_file_peek_path (chosen), path) == 0)
        break;
      pl_test_run_for (20);
    }
  gtk_dialog_response (GTK_DIALOG (chooser), GTK_RESPONSE_ACCEPT);
  for (guint tries = 0; !g_file_test (path, G_FILE_TEST_EXISTS) && tries < 250; tries++)
    pl_test_run_for (20);
  g_assert_true (g_file_test (path, G_FILE_TEST_EXISTS));
  assert_file_format (path);
  if (g_str_equal (format, "csv"))
    {
      g_autofree char *text = NULL;

      /* the page's chart has numbers: a header and at least one row */
      g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
      g_assert_nonnull (strchr (text, '\n'));
      g_assert_cmpuint (strlen (strchr (text, '\n') + 1), >, 0);
    }
  return path;
}

/* A user's session: train, drag the threshold line on the histogram, apply, undo, apply
 * again, fine-tune, rewind, run a sweep, look at every page and export each in every format
 * from the menu; closing the window frees it. */
static void
test_user_session (void)
{
  PlWindow *window = pl_window_new (NULL);
  PlEngine *engine = pl_window_get_engine (window);
  AdwViewStack *stack = window_child (window, "view_stack");
  g_autoptr(GtkSelectionModel) pages = NULL;
  g_autofree char *dir = g_dir_make_tmp ("pl-gui-XXXXXX", NULL);
  static const char * const formats[] = { "png", "svg", "pdf", "csv" };
  g_autoptr(GArray) initial = NULL;
  g_autoptr(GArray) trained = NULL;
  g_autoptr(GArray) tuned = NULL;
  g_autoptr(GArray) masks = NULL;
  g_autoptr(GArray) now = NULL;
  double low, mid, high, applied;
  Errors errors = { 0 };
  PlSnapshot *s;
  guint n_pages, n_kept_changed = 0;

  g_signal_connect (engine, "error", G_CALLBACK (on_error), &errors);
  gtk_window_present (GTK_WINDOW (window));
  wait_idle (window);
  initial = copy_weights (pl_engine_get_snapshot (engine), FALSE);

  pl_window_automate (window, "epochs=20;train");
  wait_idle (window);
  s = pl_engine_get_snapshot (engine);
  g_assert_cmpfloat (s->metrics.total.parameter_sparsity, ==, 0.0);
  trained = copy_weights (s, FALSE);

  /* the threshold page: further right prunes more */
  adw_view_stack_set_visible_child_name (stack, "threshold");
  pl_test_run_for (200);
  low = drag_threshold_to (window, 0.03);
  high = drag_threshold_to (window, 0.5);
  mid = drag_threshold_to (window, 0.1);
  g_assert_cmpfloat (low, <, mid);
  g_assert_cmpfloat (mid, <, high);

  /* apply: the model carries the preview's mask; undo: the trained model comes back */
  activate (window, "win.apply-prune");
  s = pl_engine_get_snapshot (engine);
  g_assert_false (s->has_preview);
  g_assert_true (s->can_undo);
  g_assert_cmpfloat_with_epsilon (s->metrics.total.parameter_sparsity, mid, 1e-9);
  activate (window, "win.undo");
  s = pl_engine_get_snapshot (engine);
  g_assert_cmpfloat (s->metrics.total.parameter_sparsity, ==, 0.0);
  g_clear_pointer (&now, g_array_unref);
  now = copy_weights (s, FALSE);
  g_assert_cmpmem (now->data, now->len * sizeof (float), trained->data, trained->len * sizeof (float));

  /* apply again, then fine-tune: pruned weights stay zero, kept ones learn */
  applied = drag_threshold_to (window, 0.1);
  activate (window, "win.apply-prune");
  s = pl_engine_get_snapshot (engine);
  g_assert_cmpfloat_with_epsilon (s->metrics.total.parameter_sparsity, applied, 1e-9);
  activate (window, "win.fine-tune");
  g_assert_cmpuint (errors.errors, ==, 0);
  s = pl_engine_get_snapshot (engine);
  g_assert_cmpfloat_with_epsilon (s->metrics.total.parameter_sparsity, applied, 1e-9);
  tuned = copy_weights (s, FALSE);
  masks = copy_weights (s, TRUE);
  for (guint k = 0; k < tuned->len; k++)
    {
      float m = g_array_index (masks, float, k), w = g_array_index (tuned, float, k);

      if (m == 0.0f)
        g_assert_cmpfloat (w, ==, 0.0f);
      else
        n_kept_changed += w != g_array_index (trained, float, k);
    }
  g_assert_cmpuint (n_kept_changed, >, 0);

  /* rewind: the initial weights under the same mask */
  activate (window, "win.rewind");
  s = pl_engine_get_snapshot (engine);
  g_assert_cmpfloat_with_epsilon (s->metrics.total.parameter_sparsity, applied, 1e-9);
  g_clear_pointer (&now, g_array_unref);
  now = copy_weights (s, FALSE);
  for (guint k = 0; k < now->len; k++)
    g_assert_cmpfloat (g_array_index (now, float, k), ==,
                       g_array_index (initial, float, k) * g_array_index (masks, float, k));

  /* the Run Sweep button: one curve per score, from 0 to 99 % */
  adw_view_stack_set_visible_child_name (stack, "curves");
  activate (window, "win.sweep");
  s = pl_engine_get_snapshot (engine);
  g_assert_cmpuint (s->n_curves, >=, 3);
  for (guint c = 0; c < s->n_curves; c++)
    {
      gsize n = 0;
      const PlSweepPoint *p = pl_sweep_curve_points (&s->curves[c], &n);

      g_assert_cmpuint (n, ==, 24);
      g_assert_cmpfloat (p[0].sparsity, <=, applied + 1e-9);
      g_assert_cmpfloat_with_epsilon (p[n - 1].sparsity, 0.99, 0.01);
    }
  g_assert_cmpuint (errors.errors, ==, 0);

  /* every page, as the view switcher shows it, has its chart and exports in every format */
  pages = adw_view_stack_get_pages (stack);
  n_pages = g_list_model_get_n_items (G_LIST_MODEL (pages));
  g_assert_cmpuint (n_pages, >=, 6);
  for (guint i = 0; i < n_pages; i++)
    {
      g_autoptr(AdwViewStackPage) page = g_list_model_get_item (G_LIST_MODEL (pages), i);
      const char *name = adw_view_stack_page_get_name (page);

      /* the switcher shows only the visible pages (Feature Maps is a conv net's) */
      if (!adw_view_stack_page_get_visible (page))
        {
          g_test_message ("%s: not shown for %s", name, s->arch);
          continue;
        }
      gtk_selection_model_select_item (pages, i, TRUE);
      pl_test_run_for (150);
      g_assert_cmpstr (adw_view_stack_get_visible_child_name (stack), ==, name);
      for (guint f = 0; f < G_N_ELEMENTS (formats); f++)
        {
          g_autofree char *path = export_from_menu (window, formats[f], dir);

          g_test_message ("%s: exported %s", name, path);
          g_remove (path);
        }
    }
  g_assert_cmpuint (errors.errors, ==, 0);

  g_object_ref (window);
  gtk_window_destroy (GTK_WINDOW (window));
  g_assert_finalize_object (window);
  g_rmdir (dir);
  g_free (errors.message);
}

/* ---- a convolutional network ---- */

static char *accessible_property (GtkAccessible         *accessible,
                                  GtkAccessibleProperty  property);

static gboolean
feature_image_is (gpointer data)
{
  gpointer *args = data;
  PlSnapshot *s = pl_engine_get_snapshot (pl_window_get_engine (args[0]));

  return pl_window_is_idle (args[0]) && s->feature_index == GPOINTER_TO_UINT (args[1]);
}

/* A chart view's chart is of @kind and has something to draw. */
static void
assert_chart (PlWindow    *window,
              const char  *view,
              PlChartKind  kind)
{
  const PlChart *chart = pl_chart_view_get_chart (window_child (window, view));

  g_assert_nonnull (chart);
  g_assert_cmpint (chart->kind, ==, kind);
  g_assert_null (pl_chart_empty_message (chart));
}

/* LeNet-5 from the Network row on the built-in shapes: the Filters page (shown for a conv net
 * only) draws its filters, the model page the network with channel stacks, the Feature Maps
 * page (likewise) one evaluation image through the stages; the slider's preview reaches the maps, the spin button
 * picks another image, and what needs an MLP is off. Dense layers again hide the page. */
static void
test_lenet5 (void)
{
  PlWindow *window = pl_window_new (NULL);
  PlEngine *engine = pl_window_get_engine (window);
  AdwViewStackPage *maps_page = window_child (window, "maps_page");
  Errors errors = { 0 };
  gpointer args[2] = { window, GUINT_TO_POINTER (7) };
  const PlChart *chart;
  const PlNetworkData *network;
  const PlFeatureMapsData *maps;
  PlSnapshot *s;
  guint n_conv = 0;

  g_signal_connect (engine, "error", G_CALLBACK (on_error), &errors);
  gtk_window_present (GTK_WINDOW (window));
  g_assert_true (pl_test_wait_for (pl_test_window_idle, window, 60));
  g_assert_false (adw_view_stack_page_get_visible (maps_page));

  /* a strategy that does not prune a conv net (Wanda per row, N:M) is set to one that does;
   * LeNet-5 over a 2-D set brings the shapes first */
  pl_window_automate (window, "score=wanda;idle;scope=row;idle");
  g_assert_true (pl_test_wait_for (pl_test_window_idle, window, 60));
  adw_combo_row_set_selected (window_child (window, "nm_row"), 1);
  g_assert_true (pl_test_wait_for (pl_test_window_idle, window, 60));
  g_assert_cmpuint (errors.errors, ==, 0);
  pl_window_automate (window, "network=lenet5;idle;epochs=2;lr=0.05;train;idle;view=maps");
  g_assert_true (pl_test_wait_for (pl_test_window_idle, window, 300));
  if (errors.errors > 0)
    g_error ("LeNet-5: the engine reported “%s”", errors.message);
  s = pl_engine_get_snapshot (engine);
  g_assert_cmpstr (s->data_name, ==, "shapes");
  g_assert_cmpint (s->strategy.score, ==, PL_SCORE_MAGNITUDE);
  g_assert_cmpint (s->strategy.scope, ==, PL_SCOPE_GLOBAL);
  g_assert_cmpuint (s->strategy.nm_m, ==, 0);
  g_assert_cmpuint (adw_combo_row_get_selected (window_child (window, "score_row")), ==, PL_SCORE_MAGNITUDE);
  g_assert_cmpstr (s->arch, ==, "1x28x28-c6k5p2-m2-c16k5-m2-120-84-10");
  g_assert_cmpuint (s->n_stages, ==, 4);
  g_test_message ("LeNet-5 after two epochs: “%s”", pl_window_get_accuracy_text (window));
  g_assert_cmpfloat (shown_accuracy (window), >=, 70.0);   /* 8 classes: chance is 12.5 % */
  g_assert_true (adw_view_stack_page_get_visible (maps_page));

  /* the filters of both conv layers, the network with its input and four stages as stacks */
  g_assert_true (adw_view_stack_page_get_visible (window_child (window, "filters_page")));
  assert_chart (window, "filters_view", PL_CHART_FILTERS);
  g_assert_cmpuint (((const PlFiltersData *) pl_chart_view_get_chart (window_child (window, "filters_view"))->data)->n_layers, ==, 2);
  assert_chart (window, "network_view", PL_CHART_NETWORK);
  network = pl_chart_view_get_chart (window_child (window, "network_view"))->data;
  g_assert_cmpuint (network->n_stages, ==, 5);
  g_assert_cmpuint (network->n_layers, ==, 3);
  g_assert_cmpuint (network->sizes[0], ==, 16 * 5 * 5);
  assert_chart (window, "maps_view", PL_CHART_FEATURE_MAPS);
  maps = pl_chart_view_get_chart (window_child (window, "maps_view"))->data;
  g_assert_cmpuint (maps->n_stages, ==, 4);
  g_test_message ("preview %d at %.3f", s->has_preview, s->has_preview ? s->preview.sparsity : 0.0);
  g_assert_cmpint (maps->show_preview, ==, s->has_preview);
  g_assert_cmpuint (maps->c * maps->h * maps->w, ==, 28 * 28);
  /* the conv layers come first in layers[], as matrices of their filters */
  for (guint i = 0; i < s->n_stages; i++)
    if (s->stages[i].kind == PL_CONV_LAYER_CONV)
      {
        g_assert_cmpint (s->stages[i].layer, ==, (gint) n_conv);
        g_assert_cmpuint (s->layers[n_conv].n_out, ==, s->stages[i].c_out);
        n_conv++;
      }
  g_assert_cmpuint (n_conv, ==, 2);

  /* what needs an MLP is off, and says why; the engine compacts a conv net itself */
  g_assert_false (gtk_widget_is_sensitive (window_child (window, "obs_button")));
  g_assert_false (gtk_widget_is_sensitive (window_child (window, "measure_button")));
  g_assert_false (gtk_widget_is_sensitive (window_child (window, "invert_row")));
  g_assert_nonnull (strstr (gtk_widget_get_tooltip_text (window_child (window, "measure_button")),
                            "convolutional"));
  g_assert_true (gtk_widget_is_sensitive (window_child (window, "compact_button")));
  /* of the procedures, one-shot and iterative run on a conv net */
  gtk_drop_down_set_selected (window_child (window, "procedure_dropdown"), PL_LESSON_PROCEDURE_GRADUAL);
  g_assert_false (gtk_widget_is_sensitive (window_child (window, "procedure_button")));
  gtk_drop_down_set_selected (window_child (window, "procedure_dropdown"), PL_LESSON_PROCEDURE_ITERATIVE);
  g_assert_true (gtk_widget_is_sensitive (window_child (window, "procedure_button")));
  g_assert_nonnull (strstr (gtk_widget_get_tooltip_text (window_child (window, "compact_button")),
                            "nn.Conv2d"));

  /* half of each conv layer's filters by L1 norm: the preview reaches the feature maps */
  pl_window_automate (window, "score=neuron-l1;idle;scope=layer;idle");
  g_assert_true (pl_test_wait_for (pl_test_window_idle, window, 60));
  pl_window_set_sparsity (window, 50.0);
  g_assert_true (pl_test_wait_for (pl_test_window_idle, window, 60));
  g_assert_cmpuint (errors.errors, ==, 0);
  s = pl_engine_get_snapshot (engine);
  g_assert_true (s->has_preview);
  for (guint i = 0; i < s->n_stages; i++)
    g_assert_nonnull (s->stages[i].preview_maps);
  g_test_message ("neuron-l1 at 50%%: “%s” / “%s”", pl_window_get_accuracy_text (window),
                  pl_window_get_readout_text (window));
  chart = pl_chart_view_get_chart (window_child (window, "maps_view"));
  maps = chart->data;
  g_assert_true (maps->show_preview);
  g_assert_nonnull (maps->stages[0].preview_maps);
  g_assert_nonnull (maps->stages[0].preview_filter_mask);
  {
    guint dead = 0;

    for (guint c = 0; c < maps->stages[0].c; c++)
      dead += maps->stages[0].preview_filter_mask[c] == 0.0f;
    g_assert_cmpuint (dead, ==, 3);   /* 3 of conv 1's 6 filters */
  }
  chart = pl_chart_view_get_chart (window_child (window, "filters_view"));
  g_assert_nonnull (((const PlFiltersData *) chart->data)->layers[1].preview_filter_mask);
  {
    g_autofree char *words = accessible_property (window_child (window, "filters_view"),
                                                  GTK_ACCESSIBLE_PROPERTY_DESCRIPTION);

    g_assert_nonnull (strstr (words, "11 of 22 filters removed"));
  }

  /* another evaluation image, through the spin button: its maps and its class */
  gtk_spin_button_set_value (window_child (window, "feature_spin"), 7);
  g_assert_true (pl_test_wait_for (feature_image_is, args, 60));
  s = pl_engine_get_snapshot (engine);
  g_assert_cmpuint (s->feature_index, ==, 7);
  g_assert_nonnull (strstr (gtk_label_get_label (window_child (window, "feature_class_label")),
                            s->class_names[s->feature_label]));
  maps = pl_chart_view_get_chart (window_child (window, "maps_view"))->data;
  g_assert_cmpstr (maps->class_name, ==, s->class_names[s->feature_label]);
  g_assert_true (maps->image == pl_snapshot_floats (s->feature_input, NULL));
  g_assert_cmpuint (errors.errors, ==, 0);

  /* every page of a conv net draws (the confusion matrix of LeNet-5's 10 outputs on the 8
   * shapes too) and exports: the Filters page its filters, Feature Maps its maps */
  {
    static const char * const pages[] = { "weights", "filters", "maps", "model", "results" };
    /* each export's CSV header names the chart's own columns */
    static const char * const heads[] = { "output,input,weight,pruned", "layer,filter,channel,ky,kx,weight",
                                          "stage,channel,y,x,value", "kind,layer,from,to,value",
                                          "true,predicted,count" };
    g_autofree char *dir = g_dir_make_tmp ("pl-gui-conv-XXXXXX", NULL);

    for (guint i = 0; i < G_N_ELEMENTS (pages); i++)
      {
        g_autofree char *png = g_strdup_printf ("%s/%s.png", dir, pages[i]);
        g_autofree char *csv = g_strdup_printf ("%s/%s.csv", dir, pages[i]);
        g_autofree char *text = NULL;
        g_autoptr(GError) error = NULL;

        adw_view_stack_set_visible_child_name (window_child (window, "view_stack"), pages[i]);
        pl_test_run_for (200);
        g_assert_true (pl_window_export_visible (window, png, &error));
        g_assert_no_error (error);
        assert_file_format (png);
        g_assert_true (pl_window_export_visible (window, csv, &error));
        g_assert_no_error (error);
        g_assert_true (g_file_get_contents (csv, &text, NULL, NULL));
        g_test_message ("%s: %.60s", pages[i], text);
        g_assert_nonnull (strstr (text, heads[i]));
        g_remove (png);
        g_remove (csv);
      }
    g_rmdir (dir);
  }

  /* dense layers again: no feature maps */
  pl_window_automate (window, "network=mlp;idle");
  g_assert_true (pl_test_wait_for (pl_test_window_idle, window, 60));
  s = pl_engine_get_snapshot (engine);
  g_assert_cmpuint (s->n_stages, ==, 0);
  g_assert_false (adw_view_stack_page_get_visible (maps_page));
  g_assert_false (adw_view_stack_page_get_visible (window_child (window, "filters_page")));
  g_assert_cmpint (pl_chart_view_get_chart (window_child (window, "boundary_view"))->kind, ==, PL_CHART_FIELDS);
  g_assert_true (gtk_widget_is_sensitive (window_child (window, "measure_button")));

  g_object_ref (window);
  gtk_window_destroy (GTK_WINDOW (window));
  g_assert_finalize_object (window);
  g_free (errors.message);
}

/* ---- lessons ---- */

/* Every step of every built-in lesson, walked through a fresh window as a teacher would: the
 * step's settings and actions run, and each number it tells the class to notice holds. */
static void
test_lessons (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_test_build_filename (G_TEST_DIST, "..", "data", "lessons", NULL);
  g_autoptr(GPtrArray) lessons = pl_lesson_load_dir (dir, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (lessons->len, >, 0);
  for (guint i = 0; i < lessons->len; i++)
    {
      const PlLesson *lesson = g_ptr_array_index (lessons, i);
      PlWindow *window = pl_window_new (NULL);
      Errors errors = { 0 };

      g_signal_connect (pl_window_get_engine (window), "error", G_CALLBACK (on_error), &errors);
      gtk_window_present (GTK_WINDOW (window));
      g_assert_true (pl_test_wait_for (pl_test_window_idle, window, 60));
      for (guint k = 0; k < lesson->n_steps; k++)
        {
          const PlLessonStep *step = &lesson->steps[k];
          PlSnapshot *s;
          g_autoptr(GString) seen = g_string_new (NULL);

          pl_window_run_lesson_step (window, step);
          g_assert_true (pl_test_wait_for (pl_test_window_idle, window, 600));
          s = pl_engine_get_snapshot (pl_window_get_engine (window));
          for (guint q = 0; q < PL_LESSON_N_QUANTITIES; q++)
            {
              double v;

              if (pl_lesson_quantity_value (q, s, &step->settings, &v))
                g_string_append_printf (seen, " %s %.4f", pl_lesson_quantity_name (q), v);
            }
          g_test_message ("%s, step %u:%s", lesson->id, k + 1, seen->str);
          if (errors.errors > 0)
            g_error ("%s, step %u: the engine reported “%s”", lesson->id, k + 1, errors.message);
          for (guint e = 0; e < step->n_expects; e++)
            {
              const PlLessonExpect *x = &step->expects[e];
              double v;

              if (!pl_lesson_quantity_value (x->quantity, s, &step->settings, &v))
                g_error ("%s, step %u: no %s to check", lesson->id, k + 1,
                         pl_lesson_quantity_name (x->quantity));
              if (!(v >= x->min && v <= x->max))
                g_error ("%s, step %u: %s is %.4f, the lesson says %g … %g", lesson->id, k + 1,
                         pl_lesson_quantity_name (x->quantity), v, x->min, x->max);
            }
        }
      g_object_ref (window);
      gtk_window_destroy (GTK_WINDOW (window));
      g_assert_finalize_object (window);
      g_free (errors.message);
    }
}

/* ---- the lesson panel and teacher mode ---- */

/* A label under @root showing @text (markup stripped). */
static gboolean
shows_text (GtkWidget  *root,
            const char *text)
{
  if (GTK_IS_LABEL (root) && gtk_widget_is_visible (root)
      && g_strcmp0 (gtk_label_get_text (GTK_LABEL (root)), text) == 0)
    return TRUE;
  for (GtkWidget *c = gtk_widget_get_first_child (root); c != NULL; c = gtk_widget_get_next_sibling (c))
    if (shows_text (c, text))
      return TRUE;
  return FALSE;
}

static char *
plain_text (const char *markup)
{
  char *text = NULL;

  g_assert_true (pango_parse_markup (markup, -1, 0, NULL, &text, NULL, NULL));
  return text;
}

/* The lesson as a teacher opens it from the Lessons menu: the panel shows the step's title,
 * "what to notice" and "Step n of N"; Next enters the next step and runs it; teacher mode
 * hides the settings the step does not use and locks its other buttons, and gives them back
 * when it is turned off. */
static void
test_lesson_panel (void)
{
  PlWindow *window = pl_window_new (NULL);
  GtkWidget *root = GTK_WIDGET (window);
  GPtrArray *lessons;
  const PlLesson *lesson = NULL;
  guint step = 99;
  GtkWidget *panel, *train, *sweep, *scale, *dataset;
  g_autofree char *title = NULL;
  g_autofree char *notice = NULL;
  g_autofree char *counter = NULL;

  gtk_window_present (GTK_WINDOW (window));
  g_assert_true (pl_test_wait_for (pl_test_window_idle, window, 60));
  /* found uninstalled: the build tree's copy of data/lessons, every file of the source's
   * (data/lessons/meson.build lists them) */
  lessons = pl_window_get_lessons (window);
  {
    g_autofree char *dir = g_test_build_filename (G_TEST_DIST, "..", "data", "lessons", NULL);
    g_autoptr(GPtrArray) source = pl_lesson_load_dir (dir, NULL);

    g_assert_nonnull (source);
    g_assert_cmpuint (lessons->len, ==, source->len);
    g_assert_cmpuint (lessons->len, >=, 7);
  }
  panel = pl_test_find_widget (root, PL_TYPE_LESSON_PANEL, NULL);
  g_assert_nonnull (panel);
  g_assert_false (gtk_widget_get_visible (panel));

  g_assert_true (gtk_widget_activate_action (root, "win.open-lesson", "s", "magnitude"));
  g_assert_true (pl_test_wait_for (pl_test_window_idle, window, 300));
  lesson = pl_window_get_lesson (window, &step);
  g_assert_nonnull (lesson);
  g_assert_cmpstr (lesson->id, ==, "magnitude");
  g_assert_cmpuint (step, ==, 0);
  g_assert_true (gtk_widget_get_visible (panel));
  title = plain_text (pl_lesson_text_get (&lesson->steps[0].title));
  g_assert_true (shows_text (panel, title));
  counter = g_strdup_printf ("Step 1 of %u", lesson->n_steps);
  g_assert_true (shows_text (panel, counter));

  /* Next runs step 2; Previous is there now */
  g_assert_true (gtk_widget_activate_action (root, "win.lesson-next", NULL));
  g_assert_true (pl_test_wait_for (pl_test_window_idle, window, 300));
  pl_window_get_lesson (window, &step);
  g_assert_cmpuint (step, ==, 1);
  g_clear_pointer (&title, g_free);
  title = plain_text (pl_lesson_text_get (&lesson->steps[1].title));
  notice = plain_text (pl_lesson_text_get (&lesson->steps[1].notice));
  g_assert_true (shows_text (panel, title));
  g_assert_true (shows_text (panel, notice));
  g_assert_true (gtk_widget_get_sensitive (pl_test_find_widget (panel, GTK_TYPE_BUTTON, "win.lesson-previous")));

  /* step 2 uses no control: teacher mode puts every one away */
  train = pl_test_find_widget (root, GTK_TYPE_BUTTON, "win.train");
  sweep = pl_test_find_widget (root, GTK_TYPE_BUTTON, "win.sweep");
  scale = pl_test_find_widget (root, GTK_TYPE_SCALE, NULL);
  dataset = pl_test_find_widget (root, ADW_TYPE_COMBO_ROW, NULL);
  g_assert_true (lesson->steps[1].controls == 0);
  g_assert_true (gtk_widget_get_sensitive (train));
  pl_window_set_teacher_mode (window, TRUE);
  g_assert_false (gtk_widget_get_sensitive (train));
  g_assert_false (gtk_widget_get_sensitive (sweep));
  g_assert_false (gtk_widget_get_sensitive (scale));
  g_assert_false (gtk_widget_is_visible (dataset));

  /* step 3 uses the slider and the threshold, and nothing else */
  g_assert_true (gtk_widget_activate_action (root, "win.lesson-next", NULL));
  g_assert_true (pl_test_wait_for (pl_test_window_idle, window, 300));
  g_assert_true (lesson->steps[2].controls & (1u << PL_LESSON_CONTROL_SPARSITY));
  g_assert_true (gtk_widget_get_sensitive (scale));
  g_assert_false (gtk_widget_get_sensitive (train));
  /* the keyboard is on the step's first control */
  g_assert_true (gtk_widget_has_focus (scale));

  pl_window_set_teacher_mode (window, FALSE);
  g_assert_true (gtk_widget_get_sensitive (train));
  g_assert_true (gtk_widget_is_visible (dataset));

  g_assert_true (gtk_widget_activate_action (root, "win.lesson-close", NULL));
  g_assert_false (gtk_widget_get_visible (panel));
  g_assert_null (pl_window_get_lesson (window, NULL));

  g_object_ref (window);
  gtk_window_destroy (GTK_WINDOW (window));
  g_assert_finalize_object (window);
}

/* A teacher's own lessons in PRUNELAB_LESSON_PATH join the menu, and take the place of an
 * installed one with the same id; a file that does not load is left out (and named in a
 * toast) while every other lesson stays. */
static void
test_own_lessons (void)
{
  g_autofree char *dir = g_dir_make_tmp ("pl-lessons-XXXXXX", NULL);
  g_autofree char *good = g_build_filename (dir, "0-mine.json", NULL);
  g_autofree char *bad = g_build_filename (dir, "1-broken.json", NULL);
  g_autofree char *source = g_test_build_filename (G_TEST_DIST, "..", "data", "lessons", NULL);
  g_autoptr(GPtrArray) installed = pl_lesson_load_dir (source, NULL);
  const char *mine = "{\"prunelab-lesson\":1,\"id\":\"mine\",\"title\":\"Mine\",\"summary\":\"s\","
                     "\"steps\":[{\"title\":\"T\",\"text\":\"x\",\"view\":\"weights\",\"notice\":\"n\"}]}";
  PlWindow *window;
  GPtrArray *lessons;
  gboolean found = FALSE;

  g_assert_true (g_file_set_contents (good, mine, -1, NULL));
  g_assert_true (g_file_set_contents (bad, "{\"prunelab-lesson\":1,\"id\":", -1, NULL));
  g_setenv ("PRUNELAB_LESSON_PATH", dir, TRUE);
  window = pl_window_new (NULL);
  g_unsetenv ("PRUNELAB_LESSON_PATH");

  lessons = pl_window_get_lessons (window);
  g_assert_cmpuint (lessons->len, ==, installed->len + 1);
  for (guint i = 0; i < lessons->len; i++)
    found |= g_str_equal (((PlLesson *) g_ptr_array_index (lessons, i))->id, "mine");
  g_assert_true (found);
  g_assert_true (pl_window_open_lesson (window, "mine", 0, NULL));

  g_object_ref (window);
  gtk_window_destroy (GTK_WINDOW (window));
  g_assert_finalize_object (window);
  g_remove (good);
  g_remove (bad);
  g_rmdir (dir);
}

/* Presentation mode (F9) on a 1280×720 projector with a lesson open: the window's type grows
 * (a CSS class on the window), the charts get the presentation sizes, and the whole window
 * still fits 1280 pixels with the charts keeping more than half of them. */
static void
test_presentation_720p (void)
{
  PlWindow *window = pl_window_new (NULL);
  GtkWidget *root = GTK_WIDGET (window);
  static const char *pages[] = { "weights", "threshold", "curves", "training", "model", "results" };
  GtkWidget *paned, *side;
  int min_width, nat_width;

  gtk_window_set_default_size (GTK_WINDOW (window), 1280, 720);
  gtk_window_present (GTK_WINDOW (window));
  g_assert_true (pl_test_wait_for (pl_test_window_idle, window, 60));
  g_assert_false (gtk_widget_has_css_class (root, "presentation"));
  g_assert_true (gtk_widget_activate_action (root, "win.presentation", NULL));
  g_assert_true (gtk_widget_has_css_class (root, "presentation"));
  g_assert_true (pl_window_open_lesson (window, "magnitude", 3, NULL));
  g_assert_true (pl_test_wait_for (pl_test_window_idle, window, 300));
  while (g_main_context_iteration (NULL, FALSE))
    ;

  /* every page, with its toolbar: the stack measures the one on view */
  for (guint i = 0; i < G_N_ELEMENTS (pages); i++)
    {
      adw_view_stack_set_visible_child_name (ADW_VIEW_STACK (pl_test_find_widget (root, ADW_TYPE_VIEW_STACK, NULL)), pages[i]);
      while (g_main_context_iteration (NULL, FALSE))
        ;
      gtk_widget_measure (root, GTK_ORIENTATION_HORIZONTAL, -1, &min_width, &nat_width, NULL, NULL);
      g_test_message ("presentation, %s: window needs %d px, would like %d", pages[i], min_width, nat_width);
      g_assert_cmpint (min_width, <=, 1280);
      g_assert_cmpint (gtk_widget_get_width (root), <=, 1280);
    }
  paned = pl_test_find_widget (root, GTK_TYPE_PANED, NULL);
  side = gtk_paned_get_start_child (GTK_PANED (paned));
  g_test_message ("presentation: side panel %d of %d px", gtk_widget_get_width (side),
                  gtk_widget_get_width (paned));
  g_assert_cmpint (gtk_widget_get_width (paned), >, 1200);
  g_assert_cmpint (2 * gtk_widget_get_width (side), <, gtk_widget_get_width (paned));

  g_assert_true (gtk_widget_activate_action (root, "win.presentation", NULL));
  g_assert_false (gtk_widget_has_css_class (root, "presentation"));
  g_object_ref (window);
  gtk_window_destroy (GTK_WINDOW (window));
  g_assert_finalize_object (window);
}

/* ---- accessibility ---- */

/* Roles a user operates (ARIA's widget roles), which a screen reader must be able to name. */
static gboolean
role_is_interactive (GtkAccessibleRole role)
{
  switch (role)
    {
    case GTK_ACCESSIBLE_ROLE_BUTTON:
    case GTK_ACCESSIBLE_ROLE_CHECKBOX:
    case GTK_ACCESSIBLE_ROLE_COMBO_BOX:
    case GTK_ACCESSIBLE_ROLE_LINK:
    case GTK_ACCESSIBLE_ROLE_MENU_ITEM:
    case GTK_ACCESSIBLE_ROLE_MENU_ITEM_CHECKBOX:
    case GTK_ACCESSIBLE_ROLE_MENU_ITEM_RADIO:
    case GTK_ACCESSIBLE_ROLE_RADIO:
    case GTK_ACCESSIBLE_ROLE_SEARCH_BOX:
    case GTK_ACCESSIBLE_ROLE_SLIDER:
    case GTK_ACCESSIBLE_ROLE_SPIN_BUTTON:
    case GTK_ACCESSIBLE_ROLE_SWITCH:
    case GTK_ACCESSIBLE_ROLE_TAB:
    case GTK_ACCESSIBLE_ROLE_TEXT_BOX:
      return TRUE;
    default:
      return FALSE;
    }
}

/* Roles whose name may come from their content (ARIA "name from content"). */
static gboolean
role_names_from_content (GtkAccessibleRole role)
{
  return role == GTK_ACCESSIBLE_ROLE_BUTTON
         || role == GTK_ACCESSIBLE_ROLE_CHECKBOX || role == GTK_ACCESSIBLE_ROLE_RADIO
         || role == GTK_ACCESSIBLE_ROLE_LINK || role == GTK_ACCESSIBLE_ROLE_TAB
         || role == GTK_ACCESSIBLE_ROLE_MENU_ITEM;
}

static gboolean
has_label_text (GtkWidget *root)
{
  if (GTK_IS_LABEL (root) && *gtk_label_get_text (GTK_LABEL (root)) != '\0')
    return TRUE;
  for (GtkWidget *c = gtk_widget_get_first_child (root); c != NULL; c = gtk_widget_get_next_sibling (c))
    if (has_label_text (c))
      return TRUE;
  return FALSE;
}

/* The accessible property @property of @accessible as text, or NULL when it is not set.
 * (transfer full) */
static char *
accessible_property (GtkAccessible         *accessible,
                     GtkAccessibleProperty  property)
{
  char *value;

  if (!gtk_test_accessible_has_property (accessible, property))
    return NULL;
  /* check_property gives the value when it differs from the one expected */
  value = gtk_test_accessible_check_property (accessible, property, "");
  return value != NULL ? value : g_strdup ("");
}

/* The accessible name of @widget as a screen reader computes it: its label property, the
 * widgets it is labelled by, or for a button-like role the text it shows. */
static gboolean
has_accessible_name (GtkWidget *widget)
{
  GtkAccessible *accessible = GTK_ACCESSIBLE (widget);
  g_autofree char *label = accessible_property (accessible, GTK_ACCESSIBLE_PROPERTY_LABEL);

  if (label != NULL && *label != '\0')
    return TRUE;
  if (gtk_test_accessible_has_relation (accessible, GTK_ACCESSIBLE_RELATION_LABELLED_BY))
    return TRUE;
  return role_names_from_content (gtk_accessible_get_accessible_role (accessible)) && has_label_text (widget);
}

/* Every interactive widget under @root that is shown (hidden ones, such as a popover's until it
 * opens, are not in the tree a screen reader sees), with the ones that have no name appended
 * to @unnamed. */
static void
walk_accessible_tree (GtkWidget *root,
                      GString   *unnamed,
                      guint     *n_interactive)
{
  GtkAccessibleRole role = gtk_accessible_get_accessible_role (GTK_ACCESSIBLE (root));

  if (!gtk_widget_get_visible (root))
    return;

  if (role_is_interactive (role))
    {
      (*n_interactive)++;
      if (!has_accessible_name (root))
        {
          g_string_append_printf (unnamed, "\n  %s (role %d)", G_OBJECT_TYPE_NAME (root), role);
          for (GtkWidget *p = gtk_widget_get_parent (root); p != NULL; p = gtk_widget_get_parent (p))
            g_string_append_printf (unnamed, " in %s", G_OBJECT_TYPE_NAME (p));
        }
    }
  for (GtkWidget *c = gtk_widget_get_first_child (root); c != NULL; c = gtk_widget_get_next_sibling (c))
    walk_accessible_tree (c, unnamed, n_interactive);
}

static void
assert_all_named (PlWindow   *window,
                  const char *when)
{
  g_autoptr(GString) unnamed = g_string_new (NULL);
  guint n = 0;

  walk_accessible_tree (GTK_WIDGET (window), unnamed, &n);
  g_test_message ("%s: %u interactive widgets", when, n);
  g_assert_cmpuint (n, >, 20);
  if (unnamed->len > 0)
    g_error ("%s: interactive widgets without an accessible name:%s", when, unnamed->str);
}

/* Finds the key binding of @widget for @keyval (no modifier) among its shortcut controllers
 * (the class's bindings and the ones added to it) and runs it, as GTK does for a key press
 * on the focused widget. */
static void
press_key (GtkWidget *widget,
           guint      keyval)
{
  g_autoptr(GListModel) controllers = gtk_widget_observe_controllers (widget);

  for (guint i = 0; i < g_list_model_get_n_items (controllers); i++)
    {
      g_autoptr(GObject) controller = g_list_model_get_item (controllers, i);

      if (!GTK_IS_SHORTCUT_CONTROLLER (controller))
        continue;
      for (guint k = 0; k < g_list_model_get_n_items (G_LIST_MODEL (controller)); k++)
        {
          g_autoptr(GtkShortcut) shortcut = g_list_model_get_item (G_LIST_MODEL (controller), k);
          GtkShortcutTrigger *trigger = gtk_shortcut_get_trigger (shortcut);

          if (GTK_IS_KEYVAL_TRIGGER (trigger)
              && gtk_keyval_trigger_get_keyval (GTK_KEYVAL_TRIGGER (trigger)) == keyval
              && gtk_keyval_trigger_get_modifiers (GTK_KEYVAL_TRIGGER (trigger)) == 0)
            {
              g_assert_true (gtk_shortcut_action_activate (gtk_shortcut_get_action (shortcut), 0, widget,
                                                           gtk_shortcut_get_arguments (shortcut)));
              return;
            }
        }
    }
  g_error ("%s has no binding for %s", G_OBJECT_TYPE_NAME (widget), gdk_keyval_name (keyval));
}

static void
collect_charts (GtkWidget *root,
                GPtrArray *charts)
{
  if (PL_IS_CHART_VIEW (root))
    g_ptr_array_add (charts, root);
  for (GtkWidget *c = gtk_widget_get_first_child (root); c != NULL; c = gtk_widget_get_next_sibling (c))
    collect_charts (c, charts);
}

static double
preview_sparsity (PlWindow *window)
{
  PlSnapshot *s = pl_engine_get_snapshot (pl_window_get_engine (window));

  g_assert_true (s->has_preview);
  return s->preview.sparsity;
}

/* A student with a screen reader or only a keyboard: every control of the window (a lesson
 * open, teacher mode on and off) has an accessible name; each chart says in words what it
 * shows, with the accuracy the read-out shows, and says it again after a preview; the slider
 * and the histogram's threshold move with the arrows and Page Up/Down through the live
 * preview. */
static void
test_accessible (void)
{
  PlWindow *window = pl_window_new (NULL);
  GtkWidget *root = GTK_WIDGET (window);
  GtkWidget *scale, *histogram = NULL;
  g_autofree char *description = NULL;
  g_autofree char *label = NULL;
  g_autofree char *expected = NULL;
  PlSnapshot *s;
  double before, threshold;

  gtk_window_present (GTK_WINDOW (window));
  g_assert_true (pl_test_wait_for (pl_test_window_idle, window, 60));
  assert_all_named (window, "a new window");

  g_assert_true (pl_window_open_lesson (window, "magnitude", 2, NULL));
  g_assert_true (pl_test_wait_for (pl_test_window_idle, window, 300));
  assert_all_named (window, "a lesson at step 3");
  pl_window_set_teacher_mode (window, TRUE);
  assert_all_named (window, "teacher mode");
  pl_window_set_teacher_mode (window, FALSE);

  scale = pl_test_find_widget (root, GTK_TYPE_SCALE, NULL);
  s = pl_engine_get_snapshot (pl_window_get_engine (window));
  g_assert_true (s->has_preview);
  expected = g_strdup_printf ("Validation accuracy %.1f %% at %.1f %% sparsity",
                              100 * s->preview.accuracy, 100 * s->preview.sparsity);
  g_assert_nonnull (strstr (pl_window_get_accuracy_text (window), "accuracy"));
  /* every chart names itself and says in words what it shows, most with the accuracy shown */
  {
    g_autoptr(GPtrArray) charts = g_ptr_array_new ();
    guint with_accuracy = 0;

    collect_charts (root, charts);
    g_assert_cmpuint (charts->len, ==, 10);   /* Filters and Feature Maps too, hidden for an MLP */
    for (guint i = 0; i < charts->len; i++)
      {
        GtkAccessible *chart = g_ptr_array_index (charts, i);
        g_autofree char *name = accessible_property (chart, GTK_ACCESSIBLE_PROPERTY_LABEL);
        g_autofree char *words = accessible_property (chart, GTK_ACCESSIBLE_PROPERTY_DESCRIPTION);

        g_assert_nonnull (name);
        g_assert_cmpstr (name, !=, "");
        g_assert_nonnull (words);
        g_test_message ("chart “%s”: “%s”", name, words);
        if (strstr (words, expected) != NULL)
          with_accuracy++;
        if (gtk_accessible_get_accessible_role (chart) == GTK_ACCESSIBLE_ROLE_SLIDER)
          histogram = GTK_WIDGET (chart);
      }
    /* the histogram, the curves, the network and the regions (the confusion matrix is of the
     * model without the preview) */
    g_assert_cmpuint (with_accuracy, ==, 4);
    g_assert_nonnull (histogram);
  }

  /* the slider: Page Up is 10 points, Right one, each through the preview */
  gtk_widget_grab_focus (scale);
  before = gtk_range_get_value (GTK_RANGE (scale));
  press_key (scale, GDK_KEY_Page_Up);
  g_assert_cmpfloat_with_epsilon (gtk_range_get_value (GTK_RANGE (scale)), before + 10, 1e-9);
  g_assert_true (pl_test_wait_for (pl_test_window_idle, window, 60));
  g_assert_cmpfloat_with_epsilon (preview_sparsity (window), (before + 10) / 100, 0.005);
  press_key (scale, GDK_KEY_Right);
  g_assert_true (pl_test_wait_for (pl_test_window_idle, window, 60));
  g_assert_cmpfloat_with_epsilon (preview_sparsity (window), (before + 11) / 100, 0.005);
  press_key (scale, GDK_KEY_Page_Down);
  press_key (scale, GDK_KEY_Page_Down);
  g_assert_true (pl_test_wait_for (pl_test_window_idle, window, 60));
  g_assert_cmpfloat_with_epsilon (preview_sparsity (window), (before - 9) / 100, 0.005);

  /* and the description followed the preview */
  s = pl_engine_get_snapshot (pl_window_get_engine (window));
  g_clear_pointer (&expected, g_free);
  expected = g_strdup_printf ("Validation accuracy %.1f %% at %.1f %% sparsity",
                              100 * s->preview.accuracy, 100 * s->preview.sparsity);
  description = accessible_property (GTK_ACCESSIBLE (histogram), GTK_ACCESSIBLE_PROPERTY_DESCRIPTION);
  g_assert_nonnull (strstr (description, expected));

  /* the histogram's threshold: Right a hundredth of the score range up, Page Up a tenth; the
   * preview prunes more each time and the slider follows */
  g_assert_true (gtk_widget_get_focusable (histogram));
  g_assert_true (gtk_widget_grab_focus (histogram));
  threshold = s->preview.threshold;
  before = s->preview.sparsity;
  press_key (histogram, GDK_KEY_Right);
  g_assert_true (pl_test_wait_for (pl_test_window_idle, window, 60));
  s = pl_engine_get_snapshot (pl_window_get_engine (window));
  g_assert_true (s->preview_by_threshold);
  g_assert_cmpfloat_with_epsilon (s->preview.value, threshold + 0.01 * (s->score_max - s->score_min), 1e-6);
  g_assert_cmpfloat (s->preview.sparsity, >=, before);
  before = s->preview.sparsity;
  press_key (histogram, GDK_KEY_Page_Up);
  g_assert_true (pl_test_wait_for (pl_test_window_idle, window, 60));
  s = pl_engine_get_snapshot (pl_window_get_engine (window));
  g_assert_cmpfloat (s->preview.sparsity, >, before);
  g_assert_cmpfloat_with_epsilon (gtk_range_get_value (GTK_RANGE (scale)), 100 * s->preview.sparsity, 1e-6);
  press_key (histogram, GDK_KEY_Home);
  g_assert_true (pl_test_wait_for (pl_test_window_idle, window, 60));
  g_assert_cmpfloat (preview_sparsity (window), <, before);
  label = accessible_property (GTK_ACCESSIBLE (histogram), GTK_ACCESSIBLE_PROPERTY_VALUE_TEXT);
  g_assert_nonnull (label);
  g_test_message ("threshold value text “%s”", label);

  g_object_ref (window);
  gtk_window_destroy (GTK_WINDOW (window));
  g_assert_finalize_object (window);
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
  /* GTK's test accessibility backend: it needs no AT-SPI bus (the "none" that the test
   * environment sets needs none either, but it keeps no accessible properties to check) */
  g_setenv ("GTK_A11Y", "test", TRUE);
  if (!gtk_init_check ())
    {
      g_test_message ("no display: run under xvfb-run");
      return 77;
    }
  adw_init ();
  g_test_add_func ("/gui/window/trains-previews-exports-and-survives-a-bad-file", test_train_drag_export);
  g_test_add_func ("/gui/window/keeps-working-after-errors-mid-run", test_errors_mid_run);
  g_test_add_func ("/gui/window/a-user-session-drags-applies-undoes-tunes-rewinds-sweeps-exports",
                   test_user_session);
  g_test_add_func ("/gui/curves/a-sweep-of-twelve-scores-draws-and-exports", test_sweep_of_twelve_curves);
  g_test_add_func ("/gui/strategy/row-erk-nm-and-pruning-at-init", test_scopes_nm_and_at_init);
  g_test_add_func ("/gui/prune/obs-undoes-and-movement-set-rigl-run", test_prune_obs_and_dst);
  g_test_add_func ("/gui/reproduce/menu-run-table-export-stop", test_reproduce);
  g_test_add_func ("/gui/conv/lenet5-filters-feature-maps-preview-and-image", test_lenet5);
  g_test_add_func ("/gui/lessons/every-step-runs-and-its-numbers-hold", test_lessons);
  g_test_add_func ("/gui/lessons/panel-next-and-teacher-mode", test_lesson_panel);
  g_test_add_func ("/gui/lessons/own-folder-joins-and-a-bad-file-is-left-out", test_own_lessons);
  g_test_add_func ("/gui/presentation/fits-1280x720-with-a-lesson", test_presentation_720p);
  g_test_add_func ("/gui/a11y/every-control-named-charts-described-keys-move", test_accessible);
  g_test_add_func ("/gui/app/runs-uninstalled-without-a-schema", test_runs_uninstalled);
  return g_test_run ();
}
