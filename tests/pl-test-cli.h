/* pl-test-cli.h — running prunelab-cli from a test as a user would, and reading its JSON */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef struct {
  int    status;   /* exit status, −1 when killed by a signal */
  char  *out;      /* owned: stdout */
  char  *err;      /* owned: stderr */
} PlTestRun;

void        pl_test_run_clear (PlTestRun  *run);
/* Runs @cli with the arguments (NULL-terminated) and waits; stderr goes to the test log when
 * the status is not 0. */
void        pl_test_run_cli   (PlTestRun  *run,
                               const char *cli,
                               const char *first,
                               ...) G_GNUC_NULL_TERMINATED;
/* The same with the arguments in an array (NULL-terminated); @setup, when not NULL, runs in the
 * child before the program starts (a file size limit, a capability dropped, …). */
void        pl_test_run_cliv  (PlTestRun            *run,
                               const char           *cli,
                               const char * const   *args,
                               GSpawnChildSetupFunc  setup,
                               gpointer              setup_data);
/* The JSON object in @text; the test fails when it is not one. (transfer full) */
JsonObject *pl_test_parse_json (const char *text);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (PlTestRun, pl_test_run_clear)

G_END_DECLS
