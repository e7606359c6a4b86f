/* prunelab — the GTK app */
#define G_LOG_DOMAIN "prunelab"

#include "config.h"

#include <glib/gi18n.h>
#include <locale.h>
#include <signal.h>

#include "pl-application.h"

int
main (int    argc,
      char **argv)
{
  g_autoptr(PlApplication) app = NULL;

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
  /* Past a file size limit (ulimit -f) a save fails with EFBIG and says so; the default action
   * of SIGXFSZ would end the app without a word. */
  signal (SIGXFSZ, SIG_IGN);

  app = pl_application_new ();
  return g_application_run (G_APPLICATION (app), argc, argv);
}
