/* pl-cli-private.h — shared pieces of prunelab-cli's subcommands */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "pl-dataset.h"
#include "pl-eval.h"
#include "pl-metrics.h"
#include "pl-mlp.h"

G_BEGIN_DECLS

/* Exit statuses: 0 success, 1 bad input or failure, 2 bad usage, 130 interrupted. */
enum {
  PL_EXIT_OK = 0,
  PL_EXIT_FAILED = 1,
  PL_EXIT_USAGE = 2,
  PL_EXIT_INTERRUPTED = 130,
};

int          _pl_cli_train        (int argc, char **argv);
int          _pl_cli_eval         (int argc, char **argv);
int          _pl_cli_bench        (int argc, char **argv);
int          _pl_cli_plot         (int argc, char **argv);
int          _pl_cli_prune        (int argc, char **argv);
int          _pl_cli_sweep        (int argc, char **argv);
int          _pl_cli_schedule     (int argc, char **argv);
int          _pl_cli_sensitivity  (int argc, char **argv);

/* Parses a subcommand's options; prints the error and returns FALSE on bad usage. */
gboolean     _pl_cli_parse        (GOptionContext  *context,
                                   int             *argc,
                                   char          ***argv);
/* Prints "prunelab-cli: MESSAGE" to stderr and returns the exit status that fits the error
 * (2 for a bad specification, 130 for a cancellation, else 1). */
int          _pl_cli_fail         (const GError    *error);
int          _pl_cli_usage        (const char      *format,
                                   ...) G_GNUC_PRINTF (1, 2);

/* Sets OpenBLAS's thread count (≥ 1) and returns it. */
guint        _pl_cli_set_threads  (int              threads);
/* OpenBLAS's name of the core in use, e.g. "Zen" (transfer none). */
const char  *_pl_cli_blas_core    (void);

/* SIGINT cancels this; long commands pass it on. (transfer none) */
GCancellable *_pl_cli_cancellable (void);

/* Before a long run: fails at once for an output file that could not be saved (a missing or
 * read-only folder, a folder in its place); NULL passes. See pl_file_check(). */
gboolean     _pl_cli_check_output (const char      *path,
                                   GError         **error);
/* Writes the builder's root to stdout, pretty-printed, with a final newline. */
void         _pl_cli_print_json   (JsonBuilder     *builder);
/* Add "name": value to the object being built. */
void         _pl_cli_add_string   (JsonBuilder     *builder,
                                   const char      *name,
                                   const char      *value);
void         _pl_cli_add_int      (JsonBuilder     *builder,
                                   const char      *name,
                                   gint64           value);
void         _pl_cli_add_bool     (JsonBuilder     *builder,
                                   const char      *name,
                                   gboolean         value);
/* Adds "name": value, writing null for NaN or Inf (JSON has neither). */
void         _pl_cli_add_double   (JsonBuilder     *builder,
                                   const char      *name,
                                   double           value);
/* Adds test_accuracy, test_loss, per_class_accuracy, confusion_matrix. */
void         _pl_cli_add_evaluation (JsonBuilder        *builder,
                                     const char         *prefix,
                                     const PlEvaluation *ev);

G_END_DECLS

G_BEGIN_DECLS

/* The dataset options every data-reading subcommand takes. */
typedef struct {
  char     *spec;          /* --data */
  int       val_size;      /* --val-size, -1 = default */
  gboolean  standardize;   /* --standardize */
  int       max_train;     /* --max-train, 0 = all */
  gint64    split_seed;    /* --split-seed */
} PlCliDataArgs;

#define PL_CLI_DATA_ARGS_INIT { NULL, -1, FALSE, 0, 0 }

void         _pl_cli_add_data_options (GOptionContext *context,
                                       PlCliDataArgs  *args);
/* (transfer full) */
PlData      *_pl_cli_load_data        (const PlCliDataArgs *args,
                                       GError             **error);
void         _pl_cli_data_args_clear  (PlCliDataArgs  *args);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (PlCliDataArgs, _pl_cli_data_args_clear)

/* Adds "layers" (each layer's metrics, named layers.N) and "total". */
void         _pl_cli_add_metrics      (JsonBuilder     *builder,
                                       const PlMetrics *metrics);

G_END_DECLS
