#define G_LOG_DOMAIN "pl-settings"

#include "config.h"

#include "pl-settings.h"

#define G_SETTINGS_ENABLE_BACKEND
#include <gio/gsettingsbackend.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>

/* The build tree the running program sits in: build/app/prunelab reads build/data. */
static GSettingsSchema *
lookup_in_build_tree (const char *schema_id)
{
  g_autofree char *exe = g_file_read_link ("/proc/self/exe", NULL);
  g_autofree char *exe_dir = exe != NULL ? g_path_get_dirname (exe) : NULL;
  g_autofree char *next_to_exe = exe_dir != NULL ? g_build_filename (exe_dir, "..", "data", NULL)
                                                 : NULL;
  g_autofree char *compiled = NULL;
  g_autoptr(GSettingsSchemaSource) source = NULL;

  if (next_to_exe == NULL)
    return NULL;
  compiled = g_build_filename (next_to_exe, "gschemas.compiled", NULL);
  if (!g_file_test (compiled, G_FILE_TEST_IS_REGULAR))
    return NULL;
  source = g_settings_schema_source_new_from_directory (next_to_exe,
                                                        g_settings_schema_source_get_default (),
                                                        FALSE, NULL);

  return source != NULL ? g_settings_schema_source_lookup (source, schema_id, FALSE) : NULL;
}

/* The compiled schema built into the program (a GResource), read from a temporary folder: the
 * schema source maps the file, so the folder can go at once. */
static GSettingsSchema *
lookup_built_in (const char  *schema_id,
                 GError     **error)
{
  g_autoptr(GBytes) bytes = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *compiled = NULL;
  g_autoptr(GSettingsSchemaSource) source = NULL;
  GSettingsSchema *schema = NULL;

  bytes = g_resources_lookup_data ("/io/github/prunelab/PruneLab/gschemas.compiled",
                                   G_RESOURCE_LOOKUP_FLAGS_NONE, error);
  if (bytes == NULL)
    return NULL;
  dir = g_dir_make_tmp ("prunelab-schema-XXXXXX", error);
  if (dir == NULL)
    return NULL;
  compiled = g_build_filename (dir, "gschemas.compiled", NULL);
  if (g_file_set_contents (compiled, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes),
                           error))
    {
      source = g_settings_schema_source_new_from_directory (dir, NULL, TRUE, error);
      if (source != NULL)
        schema = g_settings_schema_source_lookup (source, schema_id, FALSE);
      if (source != NULL && schema == NULL)
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                     "the built-in schema file has no schema “%s”", schema_id);
    }
  g_remove (compiled);
  g_rmdir (dir);

  return schema;
}

GSettings *
pl_settings_new (const char *schema_id)
{
  GSettingsSchemaSource *installed = g_settings_schema_source_get_default ();
  g_autoptr(GSettingsSchema) schema = NULL;
  g_autoptr(GSettingsBackend) memory = NULL;
  g_autoptr(GError) error = NULL;

  g_return_val_if_fail (schema_id != NULL, NULL);

  if (installed != NULL)
    schema = g_settings_schema_source_lookup (installed, schema_id, TRUE);
  if (schema == NULL)
    schema = lookup_in_build_tree (schema_id);
  if (schema != NULL)
    return g_settings_new_full (schema, NULL, NULL);

  schema = lookup_built_in (schema_id, &error);
  /* The resource is compiled into every program that links the UI. */
  if (schema == NULL)
    g_error ("settings schema “%s”: %s", schema_id, error->message);
  g_warning (_("The settings schema “%s” is not installed: settings are kept for this run only. "
               "Run “meson install” or “meson devenv -C build app/prunelab” to keep them."),
             schema_id);
  memory = g_memory_settings_backend_new ();

  return g_settings_new_full (schema, memory, NULL);
}
