/* pl-preferences.h — the preferences window: style, presentation mode, training defaults */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define PL_TYPE_PREFERENCES (pl_preferences_get_type ())

G_DECLARE_FINAL_TYPE (PlPreferences, pl_preferences, PL, PREFERENCES, AdwPreferencesWindow)

/* Every row is bound to @settings (the app's schema). */
GtkWidget *pl_preferences_new (GSettings *settings);

G_END_DECLS
