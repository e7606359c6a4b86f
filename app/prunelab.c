/* prunelab — the GTK app */
#define G_LOG_DOMAIN "prunelab"

#include "config.h"

#include <glib/gi18n.h>
#include <locale.h>
#include <malloc.h>
#include <signal.h>

#include "pl-application.h"
#include "pl-locale.h"

int
main (int    argc,
      char **argv)
{
  g_autoptr(PlApplication) app = NULL;

  /* The engine's buffers of a few MB (previews, evaluations, training) come and go. After the
   * first is freed, glibc's sliding mmap threshold would serve them from the heap and keep
   * their pages after they are freed too; a fixed threshold gives them back to the system
   * (the GUI's peak with Fashion-MNIST and a sweep: about 10 MB less, tests/bench-memory.c). */
  mallopt (M_MMAP_THRESHOLD, 1024 * 1024);

  pl_locale_init ();
  /* Past a file size limit (ulimit -f) a save fails with EFBIG and says so; the default action
   * of SIGXFSZ would end the app without a word. */
  signal (SIGXFSZ, SIG_IGN);

  app = pl_application_new ();
  return g_application_run (G_APPLICATION (app), argc, argv);
}
