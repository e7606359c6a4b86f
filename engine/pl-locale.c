#define G_LOG_DOMAIN "pl-locale"

#include "config.h"

#include "pl-locale.h"

#include <glib/gi18n-lib.h>
#include <locale.h>

/* build/po next to build/app, in a folder meson configured (it holds meson-private/) */
static char *
build_tree_localedir (void)
{
  g_autofree char *exe = g_file_read_link ("/proc/self/exe", NULL);
  g_autofree char *exe_dir = NULL;
  g_autofree char *top = NULL;
  g_autofree char *marker = NULL;
  g_autofree char *po = NULL;

  if (exe == NULL)
    return NULL;
  exe_dir = g_path_get_dirname (exe);
  top = g_path_get_dirname (exe_dir);
  marker = g_build_filename (top, "meson-private", NULL);
  po = g_build_filename (top, "po", NULL);
  if (!g_file_test (marker, G_FILE_TEST_IS_DIR) || !g_file_test (po, G_FILE_TEST_IS_DIR))
    return NULL;
  return g_steal_pointer (&po);
}

const char *
pl_locale_init (void)
{
  static char *dir;

  setlocale (LC_ALL, "");
  setlocale (LC_NUMERIC, "C");
  if (dir == NULL)
    {
      dir = build_tree_localedir ();
      if (dir == NULL)
        dir = g_strdup (LOCALEDIR);
    }
  bindtextdomain (GETTEXT_PACKAGE, dir);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  return dir;
}
