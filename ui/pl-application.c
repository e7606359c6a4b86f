#define G_LOG_DOMAIN "pl-application"

#include "config.h"

#include <glib/gi18n.h>

#include "pl-application.h"
#include "pl-window.h"

struct _PlApplication {
  AdwApplication  parent_instance;
  char           *automate;   /* --automate steps, for screenshots and GUI benchmarks */
};

G_DEFINE_FINAL_TYPE (PlApplication, pl_application, ADW_TYPE_APPLICATION)

static void
pl_application_activate (GApplication *app)
{
  PlApplication *self = PL_APPLICATION (app);
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (app));

  if (window == NULL)
    {
      window = GTK_WINDOW (pl_window_new (self));
      if (self->automate != NULL)
        pl_window_automate (PL_WINDOW (window), self->automate);
    }
  gtk_window_present (window);
}

/* prunelab FILE.prunelab (or a model, FILE.safetensors): the first file opens in the window. */
static void
pl_application_open (GApplication  *app,
                     GFile        **files,
                     int            n_files,
                     const char    *hint)
{
  GtkWindow *window;
  g_autofree char *path = NULL;

  pl_application_activate (app);
  window = gtk_application_get_active_window (GTK_APPLICATION (app));
  if (n_files < 1 || window == NULL)
    return;
  path = g_file_get_path (files[0]);
  if (path == NULL)
    return;
  if (g_str_has_suffix (path, ".safetensors"))
    pl_window_open_model_path (PL_WINDOW (window), path);
  else
    pl_window_open_session_path (PL_WINDOW (window), path);
}

static int
pl_application_handle_local_options (GApplication *app,
                                     GVariantDict *options)
{
  PlApplication *self = PL_APPLICATION (app);

  g_variant_dict_lookup (options, "automate", "s", &self->automate);
  return -1;
}

static void
about_action (GSimpleAction *action,
              GVariant      *parameter,
              gpointer       user_data)
{
  GtkApplication *app = GTK_APPLICATION (user_data);
  static const char *developers[] = { "The PruneLab developers", NULL };
  AdwAboutWindow *about = ADW_ABOUT_WINDOW (adw_about_window_new ());

  gtk_window_set_transient_for (GTK_WINDOW (about), gtk_application_get_active_window (app));
  adw_about_window_set_application_name (about, "PruneLab");
  adw_about_window_set_application_icon (about, PL_APPLICATION_ID);
  adw_about_window_set_version (about, PACKAGE_VERSION);
  adw_about_window_set_developer_name (about, _("The PruneLab developers"));
  adw_about_window_set_developers (about, developers);
  adw_about_window_set_comments (about, _("An interactive workbench for neural-network pruning: train a small "
                                          "network, score its weights, drag a threshold and watch the accuracy."));
  adw_about_window_set_license_type (about, GTK_LICENSE_GPL_3_0);
  gtk_window_present (GTK_WINDOW (about));
}

static void
quit_action (GSimpleAction *action,
             GVariant      *parameter,
             gpointer       user_data)
{
  GtkApplication *app = GTK_APPLICATION (user_data);
  GList *windows = gtk_application_get_windows (app);

  /* close the windows (they save their state), then quit */
  while (windows != NULL)
    {
      GList *next = windows->next;
      gtk_window_destroy (GTK_WINDOW (windows->data));
      windows = next;
    }
  g_application_quit (G_APPLICATION (app));
}

static void
pl_application_startup (GApplication *app)
{
  static const GActionEntry entries[] = {
    { "about", about_action },
    { "quit", quit_action },
  };
  static const char *quit_accels[] = { "<Control>q", NULL };
  static const char *shortcuts_accels[] = { "<Control>question", NULL };

  G_APPLICATION_CLASS (pl_application_parent_class)->startup (app);

  g_action_map_add_action_entries (G_ACTION_MAP (app), entries, G_N_ELEMENTS (entries), app);
  gtk_application_set_accels_for_action (GTK_APPLICATION (app), "app.quit", quit_accels);
  gtk_application_set_accels_for_action (GTK_APPLICATION (app), "win.show-help-overlay", shortcuts_accels);
  /* the style follows the system unless the preferences say otherwise (pl-window.c) */
}

static void
pl_application_finalize (GObject *object)
{
  g_free (PL_APPLICATION (object)->automate);
  G_OBJECT_CLASS (pl_application_parent_class)->finalize (object);
}

static void
pl_application_class_init (PlApplicationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  object_class->finalize = pl_application_finalize;
  app_class->activate = pl_application_activate;
  app_class->open = pl_application_open;
  app_class->startup = pl_application_startup;
  app_class->handle_local_options = pl_application_handle_local_options;
}

static void
pl_application_init (PlApplication *self)
{
  static const GOptionEntry options[] = {
    { "automate", 0, 0, G_OPTION_ARG_STRING, NULL,
      N_("Run window actions in order (for screenshots and benchmarks): steps separated by “;”, "
         "each “ACTION[=VALUE]”, “wait=MS”, “idle” (until the engine is idle) or “ready=FILE”"),
      N_("STEPS") },
    { NULL }
  };

  g_application_add_main_option_entries (G_APPLICATION (self), options);
}

PlApplication *
pl_application_new (void)
{
  return g_object_new (PL_TYPE_APPLICATION,
                       "application-id", PL_APPLICATION_ID,
                       "flags", G_APPLICATION_NON_UNIQUE | G_APPLICATION_HANDLES_OPEN,
                       "resource-base-path", "/io/github/prunelab/PruneLab",
                       NULL);
}
