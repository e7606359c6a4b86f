/* pl-window-session.c — Open / Save / Save As / recent sessions (.prunelab files)
 *
 * A session is read on the main thread (pl_session_load checks it whole before anything
 * changes: a bad file shows its message in a dialog and nothing else happens), then handed to
 * the engine, which loads its data and restores the model; when that is done the slider goes
 * back where it was. Saving asks the engine, which holds the weights, the rewind weights and
 * the training settings, with the slider position from here. Every session opened or saved
 * goes into GtkRecentManager under PL_SESSION_MIME_TYPE; the primary menu's "Recent Sessions"
 * lists those that still exist.
 */
#define G_LOG_DOMAIN "pl-window"

#include "config.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "pl-report.h"
#include "pl-session.h"
#include "pl-window-private.h"

#define MAX_RECENT 8

/* ---- recent sessions ---- */

static int
compare_recent (gconstpointer a,
                gconstpointer b)
{
  GDateTime *ta = gtk_recent_info_get_modified (*(GtkRecentInfo **) a);
  GDateTime *tb = gtk_recent_info_get_modified (*(GtkRecentInfo **) b);

  return -g_date_time_compare (ta, tb);
}

void
_pl_window_update_recent (PlWindow *self)
{
  GtkRecentManager *manager = gtk_recent_manager_get_default ();
  g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func ((GDestroyNotify) gtk_recent_info_unref);
  GList *all = gtk_recent_manager_get_items (manager);

  for (GList *l = all; l != NULL; l = l->next)
    {
      GtkRecentInfo *info = l->data;

      if (g_strcmp0 (gtk_recent_info_get_mime_type (info), PL_SESSION_MIME_TYPE) == 0
          && gtk_recent_info_is_local (info) && gtk_recent_info_exists (info))
        g_ptr_array_add (items, gtk_recent_info_ref (info));
    }
  g_list_free_full (all, (GDestroyNotify) gtk_recent_info_unref);
  g_ptr_array_sort (items, compare_recent);

  g_menu_remove_all (self->recent_menu);
  for (guint i = 0; i < items->len && i < MAX_RECENT; i++)
    {
      GtkRecentInfo *info = g_ptr_array_index (items, i);
      g_autofree char *path = g_filename_from_uri (gtk_recent_info_get_uri (info), NULL, NULL);
      g_autoptr(GMenuItem) item = NULL;

      if (path == NULL)
        continue;
      item = g_menu_item_new (gtk_recent_info_get_display_name (info), NULL);
      g_menu_item_set_action_and_target_value (item, "win.open-recent-session",
                                               g_variant_new_string (path));
      g_menu_append_item (self->recent_menu, item);
    }
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.open-recent-session", items->len > 0);
}

static void
add_recent (PlWindow   *self,
            const char *path)
{
  g_autofree char *uri = g_filename_to_uri (path, NULL, NULL);
  GtkRecentData data = {
    .mime_type = (char *) PL_SESSION_MIME_TYPE,
    .app_name = (char *) g_get_application_name (),
    .app_exec = (char *) "prunelab %u",
  };

  if (uri != NULL)
    gtk_recent_manager_add_full (gtk_recent_manager_get_default (), uri, &data);
}

/* ---- opening ---- */

static void
show_error (PlWindow     *self,
            const char   *heading,
            const GError *error)
{
  AdwMessageDialog *dialog;

  dialog = ADW_MESSAGE_DIALOG (adw_message_dialog_new (GTK_WINDOW (self), heading, error->message));
  adw_message_dialog_add_response (dialog, "close", _("_Close"));
  gtk_window_set_modal (GTK_WINDOW (dialog), TRUE);
  gtk_window_present (GTK_WINDOW (dialog));
}

gboolean
pl_window_open_session_path (PlWindow   *self,
                             const char *path)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *display_name = NULL;
  PlSession *session;

  g_return_val_if_fail (PL_IS_WINDOW (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  session = pl_session_load (path, &error);
  if (session == NULL)
    {
      show_error (self, _("The session could not be opened"), error);
      return FALSE;
    }

  display_name = g_filename_display_name (path);
  _pl_window_show_session (self, session);
  self->session_slider = session->slider;
  self->session_by_threshold = session->slider_by_threshold;
  g_free (self->session_loaded_lesson);
  self->session_loaded_lesson = g_strdup (session->lesson_id);
  self->session_loaded_step = session->lesson_step;
  g_free (self->session_path);
  self->session_path = g_strdup (path);
  self->load_session_id = pl_engine_load_session (self->engine, session, display_name);
  _pl_window_track (self, self->load_session_id);
  add_recent (self, path);
  return TRUE;
}

/* Called by the window when the engine finished loading a session. */
void
_pl_window_session_loaded (PlWindow *self,
                           gboolean  ok)
{
  self->load_session_id = 0;
  if (!ok)
    {
      g_clear_pointer (&self->session_path, g_free);
      g_clear_pointer (&self->session_loaded_lesson, g_free);
      return;
    }
  _pl_window_show_session_lesson (self, self->session_loaded_lesson, self->session_loaded_step);
  g_clear_pointer (&self->session_loaded_lesson, g_free);
  if (self->session_by_threshold)
    self->last_preview = pl_engine_preview (self->engine, self->session_slider, TRUE);
  else
    {
      /* the same value the slider would give: a preview at the session's sparsity */
      self->updating = TRUE;
      pl_window_set_sparsity (self, 100 * self->session_slider);
      self->updating = FALSE;
      self->last_preview = pl_engine_preview (self->engine, self->session_slider, FALSE);
    }
}

/* ---- saving ---- */

gboolean
pl_window_save_session_path (PlWindow   *self,
                             const char *path)
{
  PlSession *ui_part;

  g_return_val_if_fail (PL_IS_WINDOW (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  ui_part = pl_session_new ();
  ui_part->slider = gtk_range_get_value (GTK_RANGE (self->sparsity_scale)) / 100.0;
  ui_part->lesson_id = g_strdup (_pl_window_lesson_for_session (self, &ui_part->lesson_step));
  _pl_window_track (self, pl_engine_save_session (self->engine, path, ui_part));
  g_free (self->session_path);
  self->session_path = g_strdup (path);
  add_recent (self, path);
  return TRUE;
}

static GtkFileFilter *
session_filter (void)
{
  GtkFileFilter *filter = gtk_file_filter_new ();

  gtk_file_filter_set_name (filter, _("PruneLab sessions"));
  gtk_file_filter_add_mime_type (filter, PL_SESSION_MIME_TYPE);
  gtk_file_filter_add_pattern (filter, "*" PL_SESSION_EXTENSION);
  return filter;
}

static void
on_session_response (GtkNativeDialog *dialog,
                     int              response,
                     PlWindow        *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *path = g_file_get_path (file);

      if (path == NULL)
        ;
      else if (gtk_file_chooser_get_action (GTK_FILE_CHOOSER (dialog)) == GTK_FILE_CHOOSER_ACTION_OPEN)
        pl_window_open_session_path (self, path);
      else if (g_str_has_suffix (path, PL_SESSION_EXTENSION))
        pl_window_save_session_path (self, path);
      else
        {
          g_autofree char *with_suffix = g_strconcat (path, PL_SESSION_EXTENSION, NULL);

          pl_window_save_session_path (self, with_suffix);
        }
    }
  g_object_unref (dialog);
}

static void
session_file_action (GtkWidget  *widget,
                     const char *name,
                     GVariant   *param)
{
  PlWindow *self = PL_WINDOW (widget);
  gboolean open = g_str_equal (name, "win.open-session");
  g_autoptr(GtkFileFilter) filter = session_filter ();
  GtkFileChooserNative *dialog;

  if (g_str_equal (name, "win.save-session") && self->session_path != NULL)
    {
      pl_window_save_session_path (self, self->session_path);
      return;
    }

  /* GtkFileChooserNative: GtkFileDialog is GTK 4.10 */
  dialog = gtk_file_chooser_native_new (open ? _("Open Session") : _("Save Session"),
                                        GTK_WINDOW (self),
                                        open ? GTK_FILE_CHOOSER_ACTION_OPEN : GTK_FILE_CHOOSER_ACTION_SAVE,
                                        open ? _("_Open") : _("_Save"), _("_Cancel"));
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (dialog), filter);
  if (!open)
    {
      g_autofree char *base = self->session_path != NULL ? g_path_get_basename (self->session_path)
                                                        : g_strdup ("session" PL_SESSION_EXTENSION);

      gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (dialog), base);
    }
  g_signal_connect (dialog, "response", G_CALLBACK (on_session_response), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (dialog));
}

/* ---- Export Report ---- */

/* The report is drawn from a session the engine saves (it holds the weights and the rewind
 * weights), read back here with its data; on the main thread, which for Fashion-MNIST takes
 * about a second. */
void
pl_window_export_report (PlWindow   *self,
                         const char *path)
{
  PlSession *ui_part;
  g_autofree char *dir = NULL;
  g_autoptr(GError) error = NULL;

  g_return_if_fail (PL_IS_WINDOW (self));
  g_return_if_fail (path != NULL);

  if (self->report_session != NULL)
    return;   /* one at a time */
  dir = g_dir_make_tmp ("prunelab-report-XXXXXX", &error);
  if (dir == NULL)
    {
      _pl_window_toast (self, error->message);
      return;
    }
  self->report_session = g_build_filename (dir, "report" PL_SESSION_EXTENSION, NULL);
  g_free (self->report_path);
  self->report_path = g_strdup (path);
  ui_part = pl_session_new ();
  ui_part->slider = gtk_range_get_value (GTK_RANGE (self->sparsity_scale)) / 100.0;
  ui_part->lesson_id = g_strdup (_pl_window_lesson_for_session (self, &ui_part->lesson_step));
  self->report_session_id = pl_engine_save_session (self->engine, self->report_session, ui_part);
  _pl_window_track (self, self->report_session_id);
}

void
_pl_window_report_session_saved (PlWindow *self,
                                 gboolean  ok)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PlSession) session = NULL;
  g_autoptr(PlData) data = NULL;
  g_autofree char *dir = g_path_get_dirname (self->report_session);
  g_autofree char *source = NULL;
  g_auto(PlReportInfo) info = { 0 };

  self->report_session_id = 0;
  if (ok)
    session = pl_session_load (self->report_session, &error);
  g_unlink (self->report_session);
  g_rmdir (dir);
  g_clear_pointer (&self->report_session, g_free);
  if (!ok)
    return;   /* the engine said why */

  if (session != NULL)
    data = pl_data_load (session->data_spec, &session->data_options, &error);
  source = self->session_path != NULL ? g_filename_display_basename (self->session_path)
                                      : g_strdup (_("Unsaved session"));
  if (data != NULL && pl_report_save (session, data, pl_engine_get_reproduction (self->engine), source, self->report_path, &info, &error))
    {
      g_autofree char *message = g_strdup_printf (_("Report saved: %u pages, %u figures"),
                                                  info.n_pages, info.n_figures);

      _pl_window_toast (self, message);
    }
  else
    _pl_window_toast (self, error->message);
}

static void
on_report_response (GtkNativeDialog *dialog,
                    int              response,
                    PlWindow        *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *path = g_file_get_path (file);

      if (path != NULL && g_str_has_suffix (path, ".pdf"))
        pl_window_export_report (self, path);
      else if (path != NULL)
        {
          g_autofree char *with_suffix = g_strconcat (path, ".pdf", NULL);

          pl_window_export_report (self, with_suffix);
        }
    }
  g_object_unref (dialog);
}

static void
export_report_action (GtkWidget  *widget,
                      const char *name,
                      GVariant   *param)
{
  PlWindow *self = PL_WINDOW (widget);
  g_autoptr(GtkFileFilter) filter = gtk_file_filter_new ();
  GtkFileChooserNative *dialog;

  gtk_file_filter_set_name (filter, _("PDF documents"));
  gtk_file_filter_add_mime_type (filter, "application/pdf");
  dialog = gtk_file_chooser_native_new (_("Export Report"), GTK_WINDOW (self),
                                        GTK_FILE_CHOOSER_ACTION_SAVE, _("_Export"), _("_Cancel"));
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (dialog), filter);
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (dialog), "report.pdf");
  g_signal_connect (dialog, "response", G_CALLBACK (on_report_response), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (dialog));
}

static void
open_recent_action (GtkWidget  *widget,
                    const char *name,
                    GVariant   *param)
{
  pl_window_open_session_path (PL_WINDOW (widget), g_variant_get_string (param, NULL));
}

void
_pl_window_class_init_session (GtkWidgetClass *widget_class)
{
  gtk_widget_class_install_action (widget_class, "win.open-session", NULL, session_file_action);
  gtk_widget_class_install_action (widget_class, "win.save-session", NULL, session_file_action);
  gtk_widget_class_install_action (widget_class, "win.save-session-as", NULL, session_file_action);
  gtk_widget_class_install_action (widget_class, "win.open-recent-session", "s", open_recent_action);
  gtk_widget_class_install_action (widget_class, "win.export-report", NULL, export_report_action);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_o, GDK_CONTROL_MASK | GDK_SHIFT_MASK,
                                       "win.open-session", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_s, GDK_CONTROL_MASK | GDK_SHIFT_MASK,
                                       "win.save-session-as", NULL);
}

void
_pl_window_update_session_actions (PlWindow *self)
{
  PlSnapshot *s = self->snapshot;
  gboolean idle = s != NULL && s->state == PL_ENGINE_STATE_IDLE;
  /* a session keeps an MLP's weights: not a conv net's (yet) */
  gboolean savable = idle && s->arch != NULL && s->data_name != NULL && !_pl_window_is_conv (self);

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.open-session", idle);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.save-session", savable);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.save-session-as", savable);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.export-report",
                                 savable && self->report_session == NULL);
}
