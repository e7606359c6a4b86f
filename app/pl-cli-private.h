/* pl-cli-private.h — shared pieces of prunelab-cli's subcommands */
#pragma once

#include <gio/gio.h>
#include <math.h>
#include <stdio.h>
#include <json-glib/json-glib.h>

#include "pl-dataset.h"
#include "pl-eval.h"
#include "pl-metrics.h"
#include "pl-mlp.h"
#include "pl-session.h"

G_BEGIN_DECLS

/* Exit statuses: 0 success, 1 bad input or failure, 2 bad usage, 130 interrupted. */
enum {
  PL_EXIT_OK = 0,
  PL_EXIT_FAILED = 1,
  PL_EXIT_USAGE = 2,
  PL_EXIT_INTERRUPTED = 130,
};

/* A command: prunelab-cli NAME, or prunelab-cli bench NAME. */
typedef struct {
  const char  *name;
  int        (*run) (int argc, char **argv);
  const char  *summary;   /* N_() */
} PlCliCommand;

/* Runs the command argv[1] names, with argv[0] "PROGRAM NAME"; −1 when there is none. */
int          _pl_cli_run_command    (int                 argc,
                                     char              **argv,
                                     const PlCliCommand *table);
/* Prints @usage and the table's commands ("Commands:", one line each) to @out; returns 0 for
 * stdout, else 2. */
int          _pl_cli_usage_commands (FILE               *out,
                                     const char         *usage,
                                     const PlCliCommand *table);

int          _pl_cli_train        (int argc, char **argv);
int          _pl_cli_eval         (int argc, char **argv);
int          _pl_cli_bench        (int argc, char **argv);
int          _pl_cli_bench_sparse (int argc, char **argv);
int          _pl_cli_plot         (int argc, char **argv);
int          _pl_cli_prune        (int argc, char **argv);
int          _pl_cli_sweep        (int argc, char **argv);
int          _pl_cli_schedule     (int argc, char **argv);
int          _pl_cli_merge        (int argc, char **argv);
int          _pl_cli_sensitivity  (int argc, char **argv);
int          _pl_cli_reproduce    (int argc, char **argv);
int          _pl_cli_session      (int argc, char **argv);
int          _pl_cli_report       (int argc, char **argv);

/* ---- options ----
 *
 * Every option of every command is a row of a PlCliOption table, which _pl_cli_add_options()
 * turns into GOption entries. A number is checked where it is parsed, against its row's range:
 * NaN, ±infinity, a value out of range, "1x" or "" end the run with exit status 2 and
 * "--lr must be a number > 0, not “nan”", and the range is printed in --help. One place for
 * every option, and a new one cannot be added unchecked (tests/test-cli-options.c reads the
 * ranges from --help-all and tries each). */

typedef enum {
  PL_CLI_FLAG,       /* gboolean */
  PL_CLI_STRING,     /* char *, owned by the caller */
  PL_CLI_FILENAME,   /* char *, in the file names' encoding */
  PL_CLI_FILENAMES,  /* char **, NULL-terminated: G_OPTION_REMAINING's arguments */
  /* numbers, with a PlCliRange: */
  PL_CLI_INT,        /* int, from imin to imax */
  PL_CLI_INT64,      /* gint64, from imin to imax */
  PL_CLI_DOUBLE,     /* double: finite, within min … max */
  PL_CLI_DOUBLES,    /* PlCliNumbers: 1 to max_count comma-separated doubles, each in range */
  PL_CLI_INTS,       /* PlCliNumbers: 1 to max_count comma-separated whole numbers */
} PlCliArg;

enum {
  PL_CLI_OPEN_MIN = 1 << 0,   /* min itself is not allowed */
  PL_CLI_OPEN_MAX = 1 << 1,   /* max itself is not allowed */
};

typedef struct {
  double  min, max;           /* doubles: the interval; max INFINITY for none */
  guint   open;               /* PL_CLI_OPEN_MIN, PL_CLI_OPEN_MAX */
  gint64  imin, imax;         /* whole numbers */
  guint   max_count;          /* lists */
} PlCliRange;

/* whole numbers from lo to hi */
#define PL_CLI_WHOLE(lo, hi)        { .imin = (lo), .imax = (hi) }
#define PL_CLI_WHOLES(lo, hi, n)    { .imin = (lo), .imax = (hi), .max_count = (n) }
/* [lo, hi], and (lo, hi], [lo, hi), (lo, hi) with PL_CLI_OPEN_… */
#define PL_CLI_IN(lo, hi)           { .min = (lo), .max = (hi) }
#define PL_CLI_IN_OPEN(lo, hi, o)   { .min = (lo), .max = (hi), .open = (o) }
/* > lo, ≥ lo (and finite) */
#define PL_CLI_ABOVE(lo)            { .min = (lo), .max = INFINITY, .open = PL_CLI_OPEN_MIN }
#define PL_CLI_AT_LEAST(lo)         { .min = (lo), .max = INFINITY }
/* any finite number */
#define PL_CLI_FINITE               { .min = -INFINITY, .max = INFINITY }
#define PL_CLI_LIST(lo, hi, n)      { .min = (lo), .max = (hi), .max_count = (n) }

#define PL_CLI_MAX_NUMBERS 64

/* Limits shared by the commands: the engine's thread teams, a batch that the trainer's
 * buffers can hold (65,536 × 784 floats are 205 MB), epochs that end. */
#define PL_CLI_MAX_THREADS 64
#define PL_CLI_MAX_BATCH   65536
#define PL_CLI_MAX_EPOCHS  100000
/* batches of 256 samples for the data-driven scores (they stop where the data end) */
#define PL_CLI_MAX_SCORE_BATCHES 100000

typedef struct {
  guint   n;                              /* 0 when the option was not given */
  double  values[PL_CLI_MAX_NUMBERS];
} PlCliNumbers;

typedef struct {
  const char  *long_name;
  char         short_name;
  PlCliArg     arg;
  gpointer     arg_data;
  const char  *description;       /* N_() */
  const char  *arg_description;   /* N_() */
  PlCliRange   range;             /* numbers */
} PlCliOption;

/* Adds the rows of the tables (each ends with a row of NULL name; the list ends with NULL) as
 * the context's main options, in that order. */
void         _pl_cli_add_options      (GOptionContext    *context,
                                       const PlCliOption *first,
                                       ...) G_GNUC_NULL_TERMINATED;
void         _pl_cli_add_option_group (GOptionContext    *context,
                                       const char        *name,
                                       const char        *title,
                                       const char        *help,
                                       const PlCliOption *options);
/* Every option of the running command but those named in @skip (NULL-terminated), with its
 * value as parsed: "--lr=0.01 --batch=128 …", numbers to 17 digits. What a result depends on,
 * for the keys of pl-results.h. (transfer full) */
char        *_pl_cli_settings_text    (const char * const *skip);
/* "a whole number from 1 to 64", "a number in [0, 1)", "up to 16 numbers ≥ 0, comma-separated"
 * (transfer full) */
char        *_pl_cli_range_text       (const PlCliOption *option);

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
/* What every command does with its result, in this order: @csv (the result's numbers as CSV)
 * saved to @csv_path, the chart of @result saved to @plot_path (drawn as “prunelab-cli plot”
 * draws it, pl-cli-plot-private.h), then @result printed on stdout when @json. A NULL path
 * skips its file. Stops at the first failure, with @error set: nothing after it is written or
 * printed, so a result on stdout means every file asked for was saved. */
gboolean     _pl_cli_emit_result  (JsonBuilder     *result,
                                   gboolean         json,
                                   const char      *plot_path,
                                   const char      *csv_path,
                                   const GString   *csv,
                                   GError         **error);
/* The names of the scores of engine/pl-score.c's table, comma-separated in its order: every
 * score, or with @neurons_only those that score hidden neurons. (transfer full) */
char        *_pl_cli_score_names  (gboolean         neurons_only);
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
  PlSession *session;      /* owned: the --session the spec came from, or NULL */
  char     *session_path;  /* owned */
} PlCliDataArgs;

#define PL_CLI_DATA_ARGS_INIT { NULL, -1, FALSE, 0, 0, NULL, NULL }

void         _pl_cli_add_data_options (GOptionContext *context,
                                       PlCliDataArgs  *args);
/* (transfer full) */
PlData      *_pl_cli_load_data        (const PlCliDataArgs *args,
                                       GError             **error);
void         _pl_cli_data_args_clear  (PlCliDataArgs  *args);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (PlCliDataArgs, _pl_cli_data_args_clear)

/* bench sparse on a convolutional network's file: the forward as pruned against the compacted
 * one (pl-cli-sparse-conv.c); the arguments as _pl_cli_bench_sparse parsed them. */
int          _pl_cli_bench_sparse_conv (const char          *model_path,
                                        double               sparsity,
                                        const int           *batches,
                                        guint                n_batches,
                                        guint                threads,
                                        guint                rounds,
                                        const PlCliDataArgs *data_args,
                                        const char          *out,
                                        gboolean             json);

/* --session FILE, the row of a command that takes --model. */
extern const char *_pl_cli_session_help;
#define PL_CLI_SESSION_OPTION(path) \
  { "session", 0, PL_CLI_FILENAME, (path), _pl_cli_session_help, N_("FILE") }

/* The model of --model FILE (safetensors) or --session FILE (.prunelab); exactly one must be
 * given (else a PL_SPEC_ERROR). A session whose data @data_args does not name (no --data)
 * gives its data spec and options to @data_args, and _pl_cli_load_data() then checks the data
 * against the session's hash. (transfer full) */
PlMlp       *_pl_cli_load_model       (const char     *model_path,
                                       const char     *session_path,
                                       PlCliDataArgs  *data_args,
                                       GError        **error);
/* The start of every command on a saved MLP: _pl_cli_load_model(), then _pl_cli_load_data()
 * into *@data. *@model_path becomes a copy of @session_path when the model came from a session,
 * so that messages name the file. NULL with @error set on either failure. (transfer full) */
PlMlp       *_pl_cli_load_model_and_data (char          **model_path,
                                          const char     *session_path,
                                          PlCliDataArgs  *data_args,
                                          PlData        **data,
                                          GError        **error);
/* pl_evaluate() of @model on @split of @data, a failure prefixed with “MODEL” on “DATA”.
 * (transfer full) */
PlEvaluation *_pl_cli_evaluate        (const PlMlp     *model,
                                       const PlDataset *split,
                                       const char      *model_path,
                                       const PlData    *data,
                                       GError         **error);

/* Adds "layers" (each layer's metrics, named layers.N) and "total". */
void         _pl_cli_add_metrics      (JsonBuilder     *builder,
                                       const PlMetrics *metrics);

G_END_DECLS
