#define G_LOG_DOMAIN "pl-preferences"

#include "config.h"

#include <glib/gi18n.h>

#include "pl-preferences.h"

struct _PlPreferences {
  AdwPreferencesWindow  parent_instance;
  GSettings            *settings;  /* owned */
};

G_DEFINE_FINAL_TYPE (PlPreferences, pl_preferences, ADW_TYPE_PREFERENCES_WINDOW)

static const char *schemes[] = { "default", "light", "dark" };

static gboolean
scheme_to_index (GValue   *value,
                 GVariant *variant,
                 gpointer  user_data)
{
  const char *s = g_variant_get_string (variant, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (schemes); i++)
    if (g_str_equal (s, schemes[i]))
      {
        g_value_set_uint (value, i);
        return TRUE;
      }
  return FALSE;
}

static GVariant *
index_to_scheme (const GValue       *value,
                 const GVariantType *type,
                 gpointer            user_data)
{
  return g_variant_new_string (schemes[MIN (g_value_get_uint (value), G_N_ELEMENTS (schemes) - 1)]);
}

static GtkWidget *
spin_row (GSettings  *settings,
          const char *key,
          const char *title,
          const char *subtitle,
          double      lower,
          double      upper)
{
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *spin = gtk_spin_button_new_with_range (lower, upper, 1);

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
  gtk_widget_set_valign (spin, GTK_ALIGN_CENTER);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), spin);
  g_settings_bind (settings, key, spin, "value", G_SETTINGS_BIND_DEFAULT);
  return row;
}

static void
pl_preferences_dispose (GObject *object)
{
  g_clear_object (&PL_PREFERENCES (object)->settings);
  G_OBJECT_CLASS (pl_preferences_parent_class)->dispose (object);
}

static void
pl_preferences_class_init (PlPreferencesClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = pl_preferences_dispose;
}

static void
pl_preferences_init (PlPreferences *self)
{
}

/* The folder takes effect when applied (Enter or the apply button), not on every key. */
static void
on_folder_apply (AdwEntryRow   *row,
                 PlPreferences *self)
{
  g_settings_set_string (self->settings, "fashion-mnist-folder",
                         gtk_editable_get_text (GTK_EDITABLE (row)));
}

GtkWidget *
pl_preferences_new (GSettings *settings)
{
  PlPreferences *self = g_object_new (PL_TYPE_PREFERENCES, "search-enabled", FALSE, NULL);
  AdwPreferencesPage *page = ADW_PREFERENCES_PAGE (adw_preferences_page_new ());
  AdwPreferencesGroup *look = ADW_PREFERENCES_GROUP (adw_preferences_group_new ());
  AdwPreferencesGroup *training = ADW_PREFERENCES_GROUP (adw_preferences_group_new ());
  AdwPreferencesGroup *data = ADW_PREFERENCES_GROUP (adw_preferences_group_new ());
  GtkWidget *folder_row = adw_entry_row_new ();
  g_autofree char *folder = g_settings_get_string (settings, "fashion-mnist-folder");
  g_autoptr(GtkStringList) names = gtk_string_list_new (NULL);
  GtkWidget *style_row = adw_combo_row_new ();
  GtkWidget *presentation_row = adw_action_row_new ();
  GtkWidget *presentation_switch = gtk_switch_new ();
  guint n_cores = g_get_num_processors ();

  self->settings = g_object_ref (settings);

  adw_preferences_group_set_title (look, _("Appearance"));
  gtk_string_list_append (names, _("Follow the system"));
  gtk_string_list_append (names, _("Light"));
  gtk_string_list_append (names, _("Dark"));
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (style_row), _("Style"));
  adw_combo_row_set_model (ADW_COMBO_ROW (style_row), G_LIST_MODEL (names));
  g_settings_bind_with_mapping (settings, "color-scheme", style_row, "selected", G_SETTINGS_BIND_DEFAULT,
                                scheme_to_index, index_to_scheme, NULL, NULL);
  adw_preferences_group_add (look, style_row);

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (presentation_row), _("Presentation mode"));
  adw_action_row_set_subtitle (ADW_ACTION_ROW (presentation_row),
                               _("Large type, thick lines and high contrast for a projector (F9)"));
  gtk_widget_set_valign (presentation_switch, GTK_ALIGN_CENTER);
  adw_action_row_add_suffix (ADW_ACTION_ROW (presentation_row), presentation_switch);
  adw_action_row_set_activatable_widget (ADW_ACTION_ROW (presentation_row), presentation_switch);
  g_settings_bind (settings, "presentation-mode", presentation_switch, "active", G_SETTINGS_BIND_DEFAULT);
  adw_preferences_group_add (look, presentation_row);

  adw_preferences_group_set_title (training, _("Training"));
  adw_preferences_group_add (training, spin_row (settings, "train-threads", _("Training threads"),
                                                 _("Each batch is split over them; the live preview keeps a core only with one"),
                                                 1, MAX (n_cores, 1)));
  adw_preferences_group_add (training, spin_row (settings, "batch-size", _("Batch size"),
                                                 _("Samples per step on image data (2-D sets use up to 32)"), 1, 4096));

  adw_preferences_group_set_title (data, _("Data"));
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (folder_row), _("Fashion-MNIST folder"));
  gtk_widget_set_tooltip_text (folder_row,
                               _("The folder with the four IDX files; empty for "
                                 "/usr/share/datasets/fashion-mnist (apt install dataset-fashion-mnist)"));
  adw_entry_row_set_show_apply_button (ADW_ENTRY_ROW (folder_row), TRUE);
  gtk_editable_set_text (GTK_EDITABLE (folder_row), folder);
  g_signal_connect (folder_row, "apply", G_CALLBACK (on_folder_apply), self);
  adw_preferences_group_add (data, folder_row);

  adw_preferences_page_add (page, look);
  adw_preferences_page_add (page, training);
  adw_preferences_page_add (page, data);
  adw_preferences_window_add (ADW_PREFERENCES_WINDOW (self), page);

  return GTK_WIDGET (self);
}
