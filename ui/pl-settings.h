/* pl-settings.h — the app's GSettings, also when it runs uninstalled
 *
 * The schema is looked up where GLib looks (installed, or GSETTINGS_SCHEMA_DIR as `meson devenv`
 * sets it), then in the build tree the program runs from (build/app/prunelab reads
 * build/data/gschemas.compiled), and last from the copy compiled into the program: then the
 * settings live in memory for this run only, and one warning on stderr says so. The app never
 * aborts for a missing schema.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* (transfer full) */
GSettings *pl_settings_new (const char *schema_id);

G_END_DECLS
