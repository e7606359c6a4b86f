/* prunelab-cli — the headless PruneLab: train, evaluate, benchmark */
#define G_LOG_DOMAIN "prunelab-cli"

#include "config.h"

#include <cblas.h>
#include <errno.h>
#include <glib/gi18n.h>
#include <locale.h>
#include <math.h>
#include <glib-unix.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "pl-cli-plot-private.h"
#include "pl-cli-private.h"
#include "pl-error.h"
#include "pl-file.h"
#include "pl-locale.h"
#include "pl-score.h"

static GCancellable *cancellable;
/* errno of the first write to stdout that failed */
static int stdout_errno;

static gboolean
on_sigint (gpointer data)
{
  /* The first Ctrl-C asks the running command to stop cleanly; a second one ends at once. */
  if (g_cancellable_is_cancelled (cancellable))
    _exit (PL_EXIT_INTERRUPTED);
  g_printerr (_("\nprunelab-cli: interrupted, stopping (press Ctrl-C again to quit at once)\n"));
  g_cancellable_cancel (cancellable);
  return G_SOURCE_CONTINUE;
}

static gpointer
signal_thread (gpointer data)
{
  /* SIGINT is handled by a main loop of its own, so the command can run on the main thread
   * without one; g_unix_signal_source does the async-signal-safe part. */
  GMainContext *context = data;
  g_autoptr(GMainLoop) loop = g_main_loop_new (context, FALSE);

  g_main_loop_run (loop);
  return NULL;
}

GCancellable *
_pl_cli_cancellable (void)
{
  return cancellable;
}

gboolean
_pl_cli_parse (GOptionContext   *context,
               int              *argc,
               char           ***argv)
{
  g_autoptr(GError) error = NULL;

  if (!g_option_context_parse (context, argc, argv, &error))
    {
      g_printerr ("prunelab-cli: %s\n", error->message);
      g_printerr (_("Run “%s --help” to see the options.\n"), (*argv)[0]);
      return FALSE;
    }
  if (*argc > 1)
    {
      g_printerr (_("prunelab-cli: unexpected argument “%s”\n"), (*argv)[1]);
      return FALSE;
    }

  return TRUE;
}

int
_pl_cli_fail (const GError *error)
{
  g_printerr ("prunelab-cli: %s\n", error->message);

  if (error->domain == PL_SPEC_ERROR)
    return PL_EXIT_USAGE;
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return PL_EXIT_INTERRUPTED;
  return PL_EXIT_FAILED;
}

int
_pl_cli_usage (const char *format,
               ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_printerr ("prunelab-cli: %s\n", message);

  return PL_EXIT_USAGE;
}

guint
_pl_cli_set_threads (int threads)
{
  guint n = (guint) CLAMP (threads, 1, 64);

  openblas_set_num_threads ((int) n);
  return n;
}

const char *
_pl_cli_blas_core (void)
{
  const char *core = openblas_get_corename ();

  return core != NULL ? core : "unknown";
}

gboolean
_pl_cli_check_output (const char  *path,
                      GError     **error)
{
  return path == NULL || pl_file_check (path, error);
}

void
_pl_cli_print_json (JsonBuilder *builder)
{
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  g_autoptr(JsonNode) root = json_builder_get_root (builder);
  g_autofree char *text = NULL;

  json_generator_set_root (gen, root);
  json_generator_set_pretty (gen, TRUE);
  text = json_generator_to_data (gen, NULL);
  fputs (text, stdout);
  fputc ('\n', stdout);
  if (fflush (stdout) != 0 && stdout_errno == 0)
    stdout_errno = errno;
}

gboolean
_pl_cli_emit_result (JsonBuilder    *result,
                     gboolean        json,
                     const char     *plot_path,
                     const char     *csv_path,
                     const GString  *csv,
                     GError        **error)
{
  g_return_val_if_fail (result != NULL, FALSE);
  g_return_val_if_fail (csv_path == NULL || csv != NULL, FALSE);

  /* atomic, and a failure names the file */
  if (csv_path != NULL && !pl_file_save (csv_path, csv->str, csv->len, error))
    return FALSE;
  if (plot_path != NULL && !_pl_cli_plot_result (result, plot_path, error))
    return FALSE;
  if (json)
    _pl_cli_print_json (result);
  return TRUE;
}

char *
_pl_cli_score_names (gboolean neurons_only)
{
  GString *names = g_string_new (NULL);

  for (PlScoreKind k = 0; k < PL_N_SCORES; k++)
    {
      const PlScoreInfo *info = pl_score_info (k);

      if (neurons_only && !info->per_neuron)
        continue;
      if (names->len > 0)
        /* TRANSLATORS: the separator of a list of names, as in "magnitude, gradient" */
        g_string_append (names, _(", "));
      g_string_append (names, info->name);
    }
  return g_string_free (names, FALSE);
}

void
_pl_cli_add_string (JsonBuilder *builder,
                    const char  *name,
                    const char  *value)
{
  json_builder_set_member_name (builder, name);
  json_builder_add_string_value (builder, value);
}

void
_pl_cli_add_int (JsonBuilder *builder,
                 const char  *name,
                 gint64       value)
{
  json_builder_set_member_name (builder, name);
  json_builder_add_int_value (builder, value);
}

void
_pl_cli_add_bool (JsonBuilder *builder,
                  const char  *name,
                  gboolean     value)
{
  json_builder_set_member_name (builder, name);
  json_builder_add_boolean_value (builder, value);
}

void
_pl_cli_add_double (JsonBuilder *builder,
                    const char  *name,
                    double       value)
{
  json_builder_set_member_name (builder, name);
  if (isfinite (value))
    json_builder_add_double_value (builder, value);
  else
    json_builder_add_null_value (builder);
}

void
_pl_cli_add_evaluation (JsonBuilder        *builder,
                        const char         *prefix,
                        const PlEvaluation *ev)
{
  g_autofree char *acc = g_strconcat (prefix, "_accuracy", NULL);
  g_autofree char *loss = g_strconcat (prefix, "_loss", NULL);
  g_autofree char *per_class = g_strconcat (prefix, "_per_class_accuracy", NULL);
  g_autofree char *confusion = g_strconcat (prefix, "_confusion_matrix", NULL);

  _pl_cli_add_double (builder, acc, ev->accuracy);
  _pl_cli_add_double (builder, loss, ev->loss);

  json_builder_set_member_name (builder, per_class);
  json_builder_begin_array (builder);
  for (guint c = 0; c < ev->n_classes; c++)
    if (isfinite (ev->class_accuracy[c]))
      json_builder_add_double_value (builder, ev->class_accuracy[c]);
    else
      json_builder_add_null_value (builder);
  json_builder_end_array (builder);

  json_builder_set_member_name (builder, confusion);
  json_builder_begin_array (builder);
  for (guint t = 0; t < ev->n_classes; t++)
    {
      json_builder_begin_array (builder);
      for (guint p = 0; p < ev->n_classes; p++)
        json_builder_add_int_value (builder, ev->confusion[(gsize) t * ev->n_classes + p]);
      json_builder_end_array (builder);
    }
  json_builder_end_array (builder);
}

void
_pl_cli_add_data_options (GOptionContext *context,
                          PlCliDataArgs  *args)
{
  const PlCliOption options[] = {
    { "data", 'd', PL_CLI_STRING, &args->spec,
      N_("Dataset: fashion-mnist[:DIR], mnist:DIR, idx:DIR, csv:FILE[,label=COL][,header=yes|no][,test=FILE], "
         "spiral|moons|circles|xor|blobs[:n=N,noise=X,seed=S,classes=K]"), N_("SPEC") },
    { "val-size", 0, PL_CLI_INT, &args->val_size,
      /* xgettext:no-c-format */
      N_("Validation samples carved from the training data (default 5000 for images, 20% otherwise)"), N_("N"),
      PL_CLI_WHOLE (0, G_MAXINT) },
    { "standardize", 0, PL_CLI_FLAG, &args->standardize,
      N_("Standardise features with the training set's mean and deviation") },
    { "max-train", 0, PL_CLI_INT, &args->max_train,
      N_("Use only the first N training samples (quick runs)"), N_("N"), PL_CLI_WHOLE (0, G_MAXINT) },
    { "split-seed", 0, PL_CLI_INT64, &args->split_seed,
      N_("Seed of the train/validation split (default 0)"), N_("N"), PL_CLI_WHOLE (0, G_MAXINT64) },
    { NULL }
  };

  _pl_cli_add_option_group (context, "data", _("Dataset options:"), _("Show the dataset options"), options);
}

PlData *
_pl_cli_load_data (const PlCliDataArgs  *args,
                   GError              **error)
{
  g_autoptr(PlData) data = NULL;
  PlDataOptions options = PL_DATA_OPTIONS_INIT;

  if (args->spec == NULL)
    {
      g_set_error (error, PL_SPEC_ERROR, PL_SPEC_ERROR_INVALID,
                   _("--data is required (for example --data spiral or --data fashion-mnist)"));
      return NULL;
    }
  options.val_size = args->val_size;
  options.standardize = args->standardize;
  options.max_train = (guint) args->max_train;
  options.split_seed = (guint64) args->split_seed;

  data = pl_data_load (args->spec, &options, error);
  if (data != NULL && args->session != NULL
      && !pl_session_check_data (args->session, data, args->session_path, error))
    return NULL;
  return g_steal_pointer (&data);
}

void
_pl_cli_data_args_clear (PlCliDataArgs *args)
{
  g_clear_pointer (&args->spec, g_free);
  g_clear_pointer (&args->session, pl_session_free);
  g_clear_pointer (&args->session_path, g_free);
}

static const PlCliCommand commands[] = {
  { "train", _pl_cli_train, N_("Train a multi-layer perceptron and report its accuracy") },
  { "eval", _pl_cli_eval, N_("Evaluate a saved model (safetensors) on a dataset") },
  { "prune", _pl_cli_prune, N_("Score, prune and optionally fine-tune a model") },
  { "sweep", _pl_cli_sweep, N_("Sparsity-versus-accuracy curves for several scores") },
  { "schedule", _pl_cli_schedule, N_("Pruning procedures: one-shot, iterative (lottery ticket), gradual, adaptive, L1, L0, distillation; one curve each, over seeds") },
  { "merge", _pl_cli_merge, N_("Combine the shards of a sweep or schedule (outputs of --shard, --results-dir folders) into one result") },
  { "sensitivity", _pl_cli_sensitivity, N_("Accuracy as each layer alone is pruned") },
  { "bench", _pl_cli_bench, N_("Measure training and live-drag speed (bench train, bench drag)") },
  { "report", _pl_cli_report, N_("Write a PDF report of a session (or a model on a dataset) with every chart") },
  { "session", _pl_cli_session, N_("Make a session file (.prunelab) for the app from a model and a dataset") },
  { "plot", _pl_cli_plot, N_("Draw a chart of a result or a model (PNG, SVG, PDF, CSV)") },
  { NULL }
};

int
_pl_cli_usage_commands (FILE               *out,
                        const char         *usage,
                        const PlCliCommand *table)
{
  fprintf (out, "%s\n\n%s\n", usage, _("Commands:"));
  for (const PlCliCommand *c = table; c->name != NULL; c++)
    fprintf (out, "  %-12s %s\n", c->name, _(c->summary));
  fprintf (out, "\n");
  return out == stdout ? PL_EXIT_OK : PL_EXIT_USAGE;
}

int
_pl_cli_run_command (int                 argc,
                     char              **argv,
                     const PlCliCommand *table)
{
  g_autofree char *prog = NULL;

  for (const PlCliCommand *c = table; argc >= 2 && c->name != NULL; c++)
    if (strcmp (argv[1], c->name) == 0)
      {
        prog = g_strdup_printf ("%s %s", argv[0], argv[1]);
        argv[1] = prog;
        return c->run (argc - 1, argv + 1);
      }
  return -1;
}

static int
usage (FILE *out)
{
  int status = _pl_cli_usage_commands (out, _("Usage: prunelab-cli COMMAND [OPTIONS…]"), commands);

  fprintf (out, "%s", _("Run “prunelab-cli COMMAND --help” for the options of a command.\n"));
  return status;
}

int
main (int    argc,
      char **argv)
{
  int status;

  /* the user's language; numbers in files and JSON use '.', whatever the locale */
  pl_locale_init ();

  if (argc < 2)
    return usage (stderr);
  if (strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0 || strcmp (argv[1], "help") == 0)
    return usage (stdout);
  if (strcmp (argv[1], "--version") == 0)
    {
      printf ("prunelab-cli %s\n", PACKAGE_VERSION);
      return PL_EXIT_OK;
    }

  /* Past a file size limit (ulimit -f) a write fails with EFBIG and the save reports it; the
   * default action of SIGXFSZ would end the process without a word. */
  signal (SIGXFSZ, SIG_IGN);

  cancellable = g_cancellable_new ();
  {
    GMainContext *context = g_main_context_new ();
    g_autoptr(GSource) source = g_unix_signal_source_new (SIGINT);

    g_source_set_callback (source, on_sigint, NULL, NULL);
    g_source_attach (source, context);
    g_thread_unref (g_thread_new ("pl-signals", signal_thread, context));
  }

  argv[0] = (char *) "prunelab-cli";
  status = _pl_cli_run_command (argc, argv, commands);
  if (status < 0)
    {
      g_printerr (_("prunelab-cli: unknown command “%s”\n"), argv[1]);
      return usage (stderr);
    }

  /* The result on stdout is output too: a full disk under “> result.json” is a failure. */
  if (fflush (stdout) != 0 && stdout_errno == 0)
    stdout_errno = errno;
  if (stdout_errno != 0 || ferror (stdout))
    {
      g_printerr (_("prunelab-cli: could not write to the standard output: %s\n"),
                  g_strerror (stdout_errno != 0 ? stdout_errno : EIO));
      if (status == PL_EXIT_OK)
        status = PL_EXIT_FAILED;
    }
  return status;
}
