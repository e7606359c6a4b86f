/* pl-reproduce-dialog.c — Reproduce a Paper: choose, run on the engine thread, read, export */
#define G_LOG_DOMAIN "pl-reproduce-dialog"

#include "config.h"

#include "pl-reproduce-dialog.h"

#include <glib/gi18n.h>
#include <string.h>

#include "pl-chart-view.h"
#include "pl-error.h"
#include "pl-reproduce-view.h"

#define PULSE_MS 120

/* the data a run may use: the engine's loaded dataset (spec NULL), or Fashion-MNIST from its
 * default folder when it is there, as prunelab-cli reproduce takes by default */
#define MAX_DATA 2

struct _PlReproduceDialog
{
  AdwWindow        parent_instance;

  PlEngine        *engine;          /* owned (a reference) */
  gulong           snapshot_handler;
  gulong           done_handler;
  gulong           error_handler;
  guint            run_id;          /* of the run sent, 0 when none runs */
  gconstpointer    before;          /* the engine's reproduction when the run was sent: a
                                     * new result replaces it (and is allocated before the
                                     * old one goes) */
  guint            pulse_source;
  char            *error_message;   /* owned: the engine's error during the run */
  const char      *data_specs[MAX_DATA];  /* static, or NULL for the loaded data */
  guint            n_data;

  AdwComboRow     *paper_row;
  GtkSwitch       *quick_switch;
  GtkSpinButton   *seeds_spin;
  AdwComboRow     *data_row;
  GtkWidget       *run_button;
  GtkWidget       *cancel_button;
  GtkProgressBar  *progress;
  GtkLabel        *status_label;
  GtkWidget       *results_box;
  GtkLabel        *heading_label;
  GtkLabel        *settings_label;
  GtkGrid         *table;
  PlChartView     *chart_view;
  GtkWidget       *export_chart_button;
  GtkWidget       *export_csv_button;
  GtkWidget       *export_table_button;
};

G_DEFINE_FINAL_TYPE (PlReproduceDialog, pl_reproduce_dialog, ADW_TYPE_WINDOW)

static const char *table_headers[] = {
  N_("Number"), N_("Paper"), N_("Measured"), N_("Min … max over seeds"), N_("Source"),
};

/* ---- the result ---- */

static GtkWidget *
cell (const char *text,
      gboolean    numeric,
      gboolean    heading)
{
  GtkWidget *label = gtk_label_new (text);

  gtk_label_set_xalign (GTK_LABEL (label), numeric ? 1.0f : 0.0f);
  gtk_label_set_wrap (GTK_LABEL (label), !numeric);
  gtk_label_set_selectable (GTK_LABEL (label), !heading);
  if (!numeric)
    gtk_label_set_max_width_chars (GTK_LABEL (label), 40);
  if (numeric)
    gtk_widget_add_css_class (label, "numeric");
  if (heading)
    gtk_widget_add_css_class (label, "heading");
  return label;
}

static void
clear_table (PlReproduceDialog *self)
{
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->table))) != NULL)
    gtk_grid_remove (self->table, child);
}

/* The engine's newest reproduction in the table and the chart (as prunelab-cli prints and
 * draws it). */
static void
show_result (PlReproduceDialog *self)
{
  const PlReproduceResult *r = pl_engine_get_reproduction (self->engine);
  const PlPaperInfo *info;
  g_autofree char *heading = NULL;
  g_autofree char *settings = NULL;
  g_autofree char *settings_line = NULL;

  clear_table (self);
  gtk_widget_set_visible (self->results_box, r != NULL);
  gtk_widget_set_sensitive (self->export_chart_button, r != NULL);
  gtk_widget_set_sensitive (self->export_csv_button, r != NULL);
  gtk_widget_set_sensitive (self->export_table_button, r != NULL);
  if (r == NULL)
    {
      pl_chart_view_set_chart (self->chart_view, PL_CHART_CURVES, NULL, NULL);
      return;
    }

  info = pl_paper_info (r->paper);
  heading = g_strdup_printf ("%s — %s", info->name, _(info->title));
  gtk_label_set_text (self->heading_label, heading);
  settings = pl_reproduce_settings_text (r);
  settings_line = g_strdup_printf (r->quick ? _("%s\nnetwork %s; quick run (fewer epochs, rounds and seeds than the full run): %s; %.1f s")
                                            : _("%s\nnetwork %s; settings: %s; %.1f s"),
                                   info->citation, r->arch, settings, r->seconds);
  gtk_label_set_text (self->settings_label, settings_line);

  for (guint c = 0; c < G_N_ELEMENTS (table_headers); c++)
    gtk_grid_attach (self->table, cell (_(table_headers[c]), c >= 1 && c <= 3, TRUE), c, 0, 1, 1);
  for (guint k = 0; k < r->rows->len; k++)
    {
      const PlReproduceRow *row = &g_array_index (r->rows, PlReproduceRow, k);
      g_auto(PlReproduceCells) cells = { 0 };

      pl_reproduce_cells_init (&cells, row);
      gtk_grid_attach (self->table, cell (row->label, FALSE, FALSE), 0, k + 1, 1, 1);
      gtk_grid_attach (self->table, cell (cells.paper, TRUE, FALSE), 1, k + 1, 1, 1);
      gtk_grid_attach (self->table, cell (cells.mean, TRUE, FALSE), 2, k + 1, 1, 1);
      gtk_grid_attach (self->table, cell (cells.span, TRUE, FALSE), 3, k + 1, 1, 1);
      gtk_grid_attach (self->table, cell (cells.source, FALSE, FALSE), 4, k + 1, 1, 1);
    }
  pl_chart_view_set_chart (self->chart_view, PL_CHART_CURVES, pl_reproduce_chart_new (r),
                           (GDestroyNotify) pl_reproduce_chart_free);
}

/* ---- running ---- */

static gboolean
pulse_cb (gpointer data)
{
  PlReproduceDialog *self = data;

  gtk_progress_bar_pulse (self->progress);
  return G_SOURCE_CONTINUE;
}

static void
set_running (PlReproduceDialog *self,
             gboolean           running)
{
  gtk_widget_set_sensitive (self->run_button, !running);
  gtk_widget_set_sensitive (GTK_WIDGET (self->paper_row), !running);
  gtk_widget_set_sensitive (GTK_WIDGET (self->quick_switch), !running);
  gtk_widget_set_sensitive (GTK_WIDGET (self->seeds_spin), !running);
  gtk_widget_set_sensitive (GTK_WIDGET (self->data_row), !running);
  gtk_button_set_label (GTK_BUTTON (self->cancel_button), running ? _("_Stop") : _("_Close"));
  gtk_widget_set_visible (GTK_WIDGET (self->progress), running);
  /* the bar pulses until the run reports its share (while loading the data, say) */
  if (running && self->pulse_source == 0)
    self->pulse_source = g_timeout_add (PULSE_MS, pulse_cb, self);
  if (!running)
    g_clear_handle_id (&self->pulse_source, g_source_remove);
}

static void
on_snapshot (PlEngine          *engine,
             PlSnapshot        *snapshot,
             PlReproduceDialog *self)
{
  if (self->run_id == 0 || snapshot->command != PL_ENGINE_COMMAND_REPRODUCE)
    return;
  /* the share of the run once known (≥ 0), else the bar pulses; the stage says where it is */
  if (snapshot->progress >= 0)
    {
      g_clear_handle_id (&self->pulse_source, g_source_remove);
      gtk_progress_bar_set_fraction (self->progress, snapshot->progress);
    }
  gtk_progress_bar_set_text (self->progress, snapshot->progress_text != NULL
                                             ? snapshot->progress_text : _("Starting…"));
}

static void
on_error (PlEngine          *engine,
          GError            *error,
          PlReproduceDialog *self)
{
  if (self->run_id == 0)
    return;
  g_free (self->error_message);
  self->error_message = g_strdup (error->message);
}

static void
on_done (PlEngine          *engine,
         guint              command,
         guint              id,
         gboolean           ok,
         PlReproduceDialog *self)
{
  if (id == 0 || id != self->run_id)
    return;
  self->run_id = 0;
  set_running (self, FALSE);
  if (!ok)
    {
      g_autofree char *message = g_strdup_printf (_("The reproduction failed: %s"),
                                                  self->error_message != NULL ? self->error_message
                                                                              : _("unknown error"));

      gtk_label_set_text (self->status_label, message);
    }
  else if (pl_engine_get_reproduction (engine) == self->before)
    gtk_label_set_text (self->status_label, _("Stopped before the end: no result."));
  else
    gtk_label_set_text (self->status_label, "");
  g_clear_pointer (&self->error_message, g_free);
  gtk_widget_set_visible (GTK_WIDGET (self->status_label),
                          *gtk_label_get_text (self->status_label) != '\0');
  /* a stopped run leaves no result: the last one stays shown */
  show_result (self);
}

static void
run_action (GtkWidget  *widget,
            const char *name,
            GVariant   *param)
{
  PlReproduceDialog *self = PL_REPRODUCE_DIALOG (widget);
  PlReproduceOptions options;
  guint data;

  if (self->run_id != 0)
    return;
  pl_reproduce_options_init (&options);
  options.quick = gtk_switch_get_active (self->quick_switch);
  options.seeds = (guint) gtk_spin_button_get_value (self->seeds_spin);
  options.threads = 0;   /* the engine's */
  data = adw_combo_row_get_selected (self->data_row);
  gtk_label_set_text (self->status_label, "");
  gtk_widget_set_visible (GTK_WIDGET (self->status_label), FALSE);
  gtk_progress_bar_set_text (self->progress, _("Starting…"));
  self->before = pl_engine_get_reproduction (self->engine);
  self->run_id = pl_engine_reproduce (self->engine, adw_combo_row_get_selected (self->paper_row),
                                      &options, data < self->n_data ? self->data_specs[data] : NULL);
  set_running (self, TRUE);
}

/* Cancel: stops the run (the engine's Stop), or closes the dialog when none runs. */
static void
cancel_action (GtkWidget  *widget,
               const char *name,
               GVariant   *param)
{
  PlReproduceDialog *self = PL_REPRODUCE_DIALOG (widget);

  if (self->run_id != 0)
    pl_engine_stop (self->engine);
  else
    gtk_window_close (GTK_WINDOW (self));
}

static gboolean
close_request (GtkWindow *window)
{
  PlReproduceDialog *self = PL_REPRODUCE_DIALOG (window);

  /* closing while it runs stops it: nobody would see the result */
  if (self->run_id != 0)
    pl_engine_stop (self->engine);
  return GTK_WINDOW_CLASS (pl_reproduce_dialog_parent_class)->close_request (window);
}

/* ---- export ---- */

gboolean
pl_reproduce_dialog_export (PlReproduceDialog  *self,
                            const char         *path,
                            GError            **error)
{
  const PlReproduceResult *r;
  g_autofree char *lower = NULL;

  g_return_val_if_fail (PL_IS_REPRODUCE_DIALOG (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  r = pl_engine_get_reproduction (self->engine);
  if (r == NULL)
    {
      g_set_error (error, PL_SPEC_ERROR, PL_SPEC_ERROR_INVALID, _("there is no reproduction to export: run one first"));
      return FALSE;
    }
  lower = g_ascii_strdown (path, -1);
  if (g_str_has_suffix (lower, ".csv"))
    return pl_reproduce_save_csv (r, path, error);
  return pl_reproduce_chart_export (r, path, error);
}

gboolean
pl_reproduce_dialog_export_table (PlReproduceDialog *self,
                                  const char        *path,
                                  GError           **error)
{
  const PlReproduceResult *r;

  g_return_val_if_fail (PL_IS_REPRODUCE_DIALOG (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  r = pl_engine_get_reproduction (self->engine);
  if (r == NULL)
    {
      g_set_error (error, PL_SPEC_ERROR, PL_SPEC_ERROR_INVALID, _("there is no reproduction to export: run one first"));
      return FALSE;
    }
  return pl_reproduce_save_table_csv (r, path, error);
}

static void
export_response (GtkNativeDialog   *dialog,
                 int                response,
                 PlReproduceDialog *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *path = g_file_get_path (file);
      g_autoptr(GError) error = NULL;
      const char *csv = g_object_get_data (G_OBJECT (dialog), "pl-csv");
      g_autofree char *with_suffix = NULL;
      g_autofree char *base = g_path_get_basename (path);

      /* a name without an extension gets the filter's */
      if (strchr (base, '.') == NULL)
        path = g_strconcat (with_suffix = path, csv != NULL ? ".csv" : ".png", NULL);
      if (!(g_strcmp0 (csv, "table") == 0 ? pl_reproduce_dialog_export_table (self, path, &error)
                                          : pl_reproduce_dialog_export (self, path, &error)))
        {
          gtk_label_set_text (self->status_label, error->message);
          gtk_widget_set_visible (GTK_WIDGET (self->status_label), TRUE);
        }
      else
        {
          g_autofree char *message = g_strdup_printf (_("Saved %s"), path);

          gtk_label_set_text (self->status_label, message);
          gtk_widget_set_visible (GTK_WIDGET (self->status_label), TRUE);
        }
    }
  gtk_native_dialog_destroy (dialog);
  g_object_unref (dialog);
}

static void
add_filter (GtkFileChooser *chooser,
            const char     *name,
            const char     *pattern)
{
  g_autoptr(GtkFileFilter) filter = gtk_file_filter_new ();

  gtk_file_filter_set_name (filter, name);
  gtk_file_filter_add_pattern (filter, pattern);
  gtk_file_chooser_add_filter (chooser, filter);
}

static void
export_action (GtkWidget  *widget,
               const char *name,
               GVariant   *param)
{
  PlReproduceDialog *self = PL_REPRODUCE_DIALOG (widget);
  const PlReproduceResult *r = pl_engine_get_reproduction (self->engine);
  gboolean table = g_str_equal (name, "reproduce.export-table");
  gboolean csv = table || g_str_equal (name, "reproduce.export-csv");
  GtkFileChooserNative *chooser;
  g_autofree char *base = NULL;

  if (r == NULL)
    return;
  /* GtkFileChooserNative: GtkFileDialog is GTK 4.10 */
  chooser = gtk_file_chooser_native_new (table ? _("Export Table as CSV")
                                         : csv ? _("Export Points as CSV") : _("Export Chart"),
                                         GTK_WINDOW (self), GTK_FILE_CHOOSER_ACTION_SAVE,
                                         _("_Export"), _("_Cancel"));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  if (csv)
    {
      add_filter (GTK_FILE_CHOOSER (chooser), _("CSV (*.csv)"), "*.csv");
      g_object_set_data (G_OBJECT (chooser), "pl-csv", (gpointer) (table ? "table" : "csv"));
    }
  else
    {
      add_filter (GTK_FILE_CHOOSER (chooser), _("PNG image (*.png)"), "*.png");
      add_filter (GTK_FILE_CHOOSER (chooser), _("SVG image (*.svg)"), "*.svg");
      add_filter (GTK_FILE_CHOOSER (chooser), _("PDF document (*.pdf)"), "*.pdf");
    }
  base = g_strdup_printf ("%s%s.%s", pl_paper_info (r->paper)->name, table ? "-table" : "",
                          csv ? "csv" : "png");
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (chooser), base);
  g_signal_connect (chooser, "response", G_CALLBACK (export_response), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

/* ---- choices ---- */

static void
paper_changed (PlReproduceDialog *self)
{
  guint p = adw_combo_row_get_selected (self->paper_row);
  const PlPaperInfo *info;

  if (p >= PL_N_PAPERS)
    return;
  info = pl_paper_info (p);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (self->paper_row), _(info->summary));
  /* the paper's seeds for the run chosen; the user may change them */
  gtk_spin_button_set_value (self->seeds_spin, gtk_switch_get_active (self->quick_switch)
                                               ? info->quick.seeds : info->full.seeds);
}

void
pl_reproduce_dialog_set_choice (PlReproduceDialog *self,
                                PlPaper            paper,
                                gboolean           quick,
                                guint              seeds)
{
  g_return_if_fail (PL_IS_REPRODUCE_DIALOG (self));
  g_return_if_fail (paper < PL_N_PAPERS && seeds >= 1);

  gtk_switch_set_active (self->quick_switch, quick);
  adw_combo_row_set_selected (self->paper_row, paper);
  paper_changed (self);
  gtk_spin_button_set_value (self->seeds_spin, seeds);
}

gboolean
pl_reproduce_dialog_is_running (PlReproduceDialog *self)
{
  g_return_val_if_fail (PL_IS_REPRODUCE_DIALOG (self), FALSE);

  return self->run_id != 0;
}

const char *
pl_reproduce_dialog_get_status (PlReproduceDialog *self)
{
  g_return_val_if_fail (PL_IS_REPRODUCE_DIALOG (self), NULL);

  return gtk_label_get_text (self->status_label);
}

char *
pl_reproduce_dialog_get_table_text (PlReproduceDialog *self)
{
  GString *s;
  int rows = 0;

  g_return_val_if_fail (PL_IS_REPRODUCE_DIALOG (self), NULL);

  if (gtk_grid_get_child_at (self->table, 0, 0) == NULL)
    return NULL;
  s = g_string_new (NULL);
  while (gtk_grid_get_child_at (self->table, 0, rows) != NULL)
    {
      for (int c = 0; c < (int) G_N_ELEMENTS (table_headers); c++)
        {
          GtkWidget *label = gtk_grid_get_child_at (self->table, c, rows);

          if (c > 0)
            g_string_append_c (s, '\t');
          g_string_append (s, label != NULL ? gtk_label_get_text (GTK_LABEL (label)) : "");
        }
      g_string_append_c (s, '\n');
      rows++;
    }
  return g_string_free (s, FALSE);
}

/* ---- the object ---- */

static void
pl_reproduce_dialog_dispose (GObject *object)
{
  PlReproduceDialog *self = PL_REPRODUCE_DIALOG (object);

  g_clear_handle_id (&self->pulse_source, g_source_remove);
  if (self->engine != NULL)
    {
      g_clear_signal_handler (&self->snapshot_handler, self->engine);
      g_clear_signal_handler (&self->done_handler, self->engine);
      g_clear_signal_handler (&self->error_handler, self->engine);
      g_clear_object (&self->engine);
    }
  g_clear_pointer (&self->error_message, g_free);

  G_OBJECT_CLASS (pl_reproduce_dialog_parent_class)->dispose (object);
}

static void
pl_reproduce_dialog_class_init (PlReproduceDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GtkWindowClass *window_class = GTK_WINDOW_CLASS (klass);

  object_class->dispose = pl_reproduce_dialog_dispose;
  window_class->close_request = close_request;

  gtk_widget_class_install_action (widget_class, "reproduce.run", NULL, run_action);
  gtk_widget_class_install_action (widget_class, "reproduce.cancel", NULL, cancel_action);
  gtk_widget_class_install_action (widget_class, "reproduce.export-chart", NULL, export_action);
  gtk_widget_class_install_action (widget_class, "reproduce.export-csv", NULL, export_action);
  gtk_widget_class_install_action (widget_class, "reproduce.export-table", NULL, export_action);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "reproduce.cancel", NULL);
}

static GtkWidget *
button (const char *label,
        const char *action,
        const char *tooltip)
{
  GtkWidget *b = gtk_button_new_with_mnemonic (label);

  gtk_actionable_set_action_name (GTK_ACTIONABLE (b), action);
  if (tooltip != NULL)
    gtk_widget_set_tooltip_text (b, tooltip);
  return b;
}

static void
pl_reproduce_dialog_init (PlReproduceDialog *self)
{
  g_autoptr(GtkStringList) papers = gtk_string_list_new (NULL);
  GtkWidget *outer = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  GtkWidget *header = adw_header_bar_new ();
  GtkWidget *scroller = gtk_scrolled_window_new ();
  GtkWidget *clamp = adw_clamp_new ();
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 12);
  GtkWidget *group = adw_preferences_group_new ();
  GtkWidget *row, *buttons, *exports, *side;

  gtk_window_set_title (GTK_WINDOW (self), _("Reproduce a Paper"));
  gtk_window_set_default_size (GTK_WINDOW (self), 1440, 920);
  adw_window_set_content (ADW_WINDOW (self), outer);
  gtk_box_append (GTK_BOX (outer), header);
  gtk_widget_set_vexpand (scroller, TRUE);
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scroller), GTK_POLICY_NEVER, GTK_POLICY_AUTOMATIC);
  gtk_box_append (GTK_BOX (outer), scroller);
  adw_clamp_set_maximum_size (ADW_CLAMP (clamp), 1440);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scroller), clamp);
  gtk_widget_set_margin_top (box, 18);
  gtk_widget_set_margin_bottom (box, 18);
  gtk_widget_set_margin_start (box, 18);
  gtk_widget_set_margin_end (box, 18);
  adw_clamp_set_child (ADW_CLAMP (clamp), box);

  /* the choices */
  adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (group), _("Experiment"));
  adw_preferences_group_set_description (ADW_PREFERENCES_GROUP (group),
                                         _("A pruning paper's small-network experiment on LeNet-300-100 with the data's inputs and classes, the same as prunelab-cli reproduce: each number the paper reports beside the measured mean and min … max over the seeds."));
  for (PlPaper p = 0; p < PL_N_PAPERS; p++)
    {
      const PlPaperInfo *info = pl_paper_info (p);
      g_autofree char *item = g_strdup_printf ("%s — %s", info->name, _(info->title));

      gtk_string_list_append (papers, item);
    }
  self->paper_row = ADW_COMBO_ROW (adw_combo_row_new ());
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->paper_row), _("_Paper"));
  adw_preferences_row_set_use_underline (ADW_PREFERENCES_ROW (self->paper_row), TRUE);
  adw_combo_row_set_model (self->paper_row, G_LIST_MODEL (papers));
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), GTK_WIDGET (self->paper_row));

  row = adw_action_row_new ();
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), _("_Quick run"));
  adw_preferences_row_set_use_underline (ADW_PREFERENCES_ROW (row), TRUE);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), _("Fewer epochs, rounds and seeds: under 2 minutes on 2 cores; the full runs take under 30"));
  self->quick_switch = GTK_SWITCH (gtk_switch_new ());
  gtk_switch_set_active (self->quick_switch, TRUE);
  gtk_widget_set_valign (GTK_WIDGET (self->quick_switch), GTK_ALIGN_CENTER);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), GTK_WIDGET (self->quick_switch));
  adw_action_row_set_activatable_widget (ADW_ACTION_ROW (row), GTK_WIDGET (self->quick_switch));
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), row);

  row = adw_action_row_new ();
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), _("_Seeds"));
  adw_preferences_row_set_use_underline (ADW_PREFERENCES_ROW (row), TRUE);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), _("Seeds 0 … K−1; the numbers are the mean and the spread over them"));
  self->seeds_spin = GTK_SPIN_BUTTON (gtk_spin_button_new_with_range (1, 20, 1));
  gtk_widget_set_valign (GTK_WIDGET (self->seeds_spin), GTK_ALIGN_CENTER);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), GTK_WIDGET (self->seeds_spin));
  adw_action_row_set_activatable_widget (ADW_ACTION_ROW (row), GTK_WIDGET (self->seeds_spin));
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), row);

  self->data_row = ADW_COMBO_ROW (adw_combo_row_new ());
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->data_row), _("_Data"));
  adw_preferences_row_set_use_underline (ADW_PREFERENCES_ROW (self->data_row), TRUE);
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), GTK_WIDGET (self->data_row));
  gtk_box_append (GTK_BOX (box), group);

  /* run, stop, progress */
  buttons = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  gtk_widget_set_halign (buttons, GTK_ALIGN_END);
  self->cancel_button = button (_("_Close"), "reproduce.cancel", _("Stop the run (Escape), or close when none runs"));
  self->run_button = button (_("_Run"), "reproduce.run", _("Run the experiment on the engine thread"));
  gtk_widget_add_css_class (self->run_button, "suggested-action");
  gtk_box_append (GTK_BOX (buttons), self->cancel_button);
  gtk_box_append (GTK_BOX (buttons), self->run_button);
  gtk_box_append (GTK_BOX (box), buttons);
  self->progress = GTK_PROGRESS_BAR (gtk_progress_bar_new ());
  gtk_progress_bar_set_show_text (self->progress, TRUE);
  gtk_progress_bar_set_ellipsize (self->progress, PANGO_ELLIPSIZE_END);
  gtk_progress_bar_set_pulse_step (self->progress, 0.05);
  gtk_widget_set_visible (GTK_WIDGET (self->progress), FALSE);
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (self->progress));
  self->status_label = GTK_LABEL (gtk_label_new (NULL));
  gtk_label_set_wrap (self->status_label, TRUE);
  gtk_label_set_xalign (self->status_label, 0.0f);
  gtk_label_set_selectable (self->status_label, TRUE);
  gtk_widget_set_visible (GTK_WIDGET (self->status_label), FALSE);
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (self->status_label));

  /* the result */
  self->results_box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 12);
  self->heading_label = GTK_LABEL (gtk_label_new (NULL));
  gtk_widget_add_css_class (GTK_WIDGET (self->heading_label), "title-4");
  gtk_label_set_xalign (self->heading_label, 0.0f);
  gtk_label_set_wrap (self->heading_label, TRUE);
  gtk_box_append (GTK_BOX (self->results_box), GTK_WIDGET (self->heading_label));
  self->settings_label = GTK_LABEL (gtk_label_new (NULL));
  gtk_widget_add_css_class (GTK_WIDGET (self->settings_label), "dim-label");
  gtk_label_set_xalign (self->settings_label, 0.0f);
  gtk_label_set_wrap (self->settings_label, TRUE);
  gtk_label_set_selectable (self->settings_label, TRUE);
  gtk_box_append (GTK_BOX (self->results_box), GTK_WIDGET (self->settings_label));
  self->table = GTK_GRID (gtk_grid_new ());
  gtk_grid_set_column_spacing (self->table, 18);
  gtk_grid_set_row_spacing (self->table, 6);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->table), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("The paper's numbers beside the measured ones"), -1);
  /* the table and the chart side by side: both in view at once */
  side = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 24);
  gtk_widget_set_valign (GTK_WIDGET (self->table), GTK_ALIGN_START);
  gtk_box_append (GTK_BOX (side), GTK_WIDGET (self->table));
  self->chart_view = PL_CHART_VIEW (pl_chart_view_new ());
  gtk_widget_set_size_request (GTK_WIDGET (self->chart_view), 420, 330);
  gtk_widget_set_hexpand (GTK_WIDGET (self->chart_view), TRUE);
  gtk_box_append (GTK_BOX (side), GTK_WIDGET (self->chart_view));
  gtk_box_append (GTK_BOX (self->results_box), side);
  exports = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  gtk_widget_set_halign (exports, GTK_ALIGN_END);
  self->export_csv_button = button (_("Export _Points as CSV…"), "reproduce.export-csv",
                                    _("Every point of the run (curve, seed, level, sparsity, accuracy, …), as reproduce --csv writes them"));
  self->export_chart_button = button (_("Export _Chart…"), "reproduce.export-chart",
                                      _("The chart as PNG, SVG or PDF, as reproduce --plot draws it"));
  self->export_table_button = button (_("Export _Table as CSV…"), "reproduce.export-table",
                                      _("The paper-vs-measured table (paper, mean, min, max, seeds, source), as reproduce --table-csv writes it"));
  gtk_box_append (GTK_BOX (exports), self->export_table_button);
  gtk_box_append (GTK_BOX (exports), self->export_csv_button);
  gtk_box_append (GTK_BOX (exports), self->export_chart_button);
  gtk_box_append (GTK_BOX (self->results_box), exports);
  gtk_box_append (GTK_BOX (box), self->results_box);

  g_signal_connect_swapped (self->paper_row, "notify::selected", G_CALLBACK (paper_changed), self);
  g_signal_connect_swapped (self->quick_switch, "notify::active", G_CALLBACK (paper_changed), self);
}

PlReproduceDialog *
pl_reproduce_dialog_new (GtkWindow *parent,
                         PlEngine  *engine)
{
  PlReproduceDialog *self;
  g_autoptr(GtkStringList) data = gtk_string_list_new (NULL);
  PlSnapshot *s;
  PlChartStyle style;
  gboolean dark = adw_style_manager_get_dark (adw_style_manager_get_default ());

  g_return_val_if_fail (PL_IS_ENGINE (engine), NULL);

  self = g_object_new (PL_TYPE_REPRODUCE_DIALOG, "modal", TRUE, "transient-for", parent, NULL);
  self->engine = g_object_ref (engine);
  self->snapshot_handler = g_signal_connect (engine, "snapshot", G_CALLBACK (on_snapshot), self);
  self->done_handler = g_signal_connect (engine, "done", G_CALLBACK (on_done), self);
  self->error_handler = g_signal_connect (engine, "error", G_CALLBACK (on_error), self);

  /* the data: the loaded dataset, then Fashion-MNIST when its files are there */
  s = pl_engine_get_snapshot (engine);
  if (s->data_name != NULL)
    {
      g_autofree char *item = g_strdup_printf (_("The loaded dataset: %s (%u training samples)"),
                                               s->data_name, s->n_train);

      gtk_string_list_append (data, item);
      self->data_specs[self->n_data++] = NULL;
    }
  if (g_file_test (PL_FASHION_MNIST_DIR, G_FILE_TEST_IS_DIR))
    {
      gtk_string_list_append (data, _("Fashion-MNIST (as prunelab-cli reproduce uses by default)"));
      self->data_specs[self->n_data++] = "fashion-mnist";
    }
  if (self->n_data == 0)
    gtk_string_list_append (data, _("None: load a dataset first"));
  adw_combo_row_set_model (self->data_row, G_LIST_MODEL (data));

  pl_chart_style_init (&style, dark ? PL_CHART_THEME_DARK : PL_CHART_THEME_LIGHT);
  style.background.a = 0.0;
  pl_chart_view_set_style (self->chart_view, &style);
  paper_changed (self);
  set_running (self, FALSE);
  show_result (self);
  return self;
}
