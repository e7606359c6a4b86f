/* pl-cli-prune-args.c — the options and steps prunelab-cli prune and sweep share */
#define G_LOG_DOMAIN "prunelab-cli"

#include "config.h"

#include <glib/gi18n.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "pl-cli-prune-private.h"
#include "pl-train.h"

/* The spec of the arguments' strategy, with one value. */
void
_pl_cli_prune_args_spec (const PlCliPruneArgs *a,
                         PlScope               scope,
                         gboolean              by_threshold,
                         PlPruneSpec          *spec)
{
  PlStrategy strategy;

  pl_strategy_init (&strategy);
  strategy.scope = scope;
  strategy.invert = a->invert;
  strategy.exclude_output = a->exclude_output;
  strategy.allow_empty = a->allow_empty;
  /* checked by _pl_cli_check_prune_args */
  if (a->nm != NULL && !pl_nm_parse (a->nm, &strategy.nm_n, &strategy.nm_m, NULL))
    g_assert_not_reached ();
  pl_strategy_to_prune_spec (&strategy, spec, by_threshold, 0.0);
}

void
_pl_cli_prune_args_clear (PlCliPruneArgs *a)
{
  g_clear_pointer (&a->model_path, g_free);
  g_clear_pointer (&a->session_path, g_free);
  g_clear_pointer (&a->score_names, g_free);
  g_clear_pointer (&a->scope_name, g_free);
  g_clear_pointer (&a->nm, g_free);
}

/* “Score: magnitude, gradient, …” from the score table, made once; GOption borrows it for
 * --help. (transfer none) */
static const char *
score_help (void)
{
  static char *help;

  if (g_once_init_enter (&help))
    {
      g_autofree char *names = _pl_cli_score_names (FALSE);

      g_once_init_leave (&help, g_strdup_printf (_("Score: %s"), names));
    }
  return help;
}

/* The shared options, then @more (the command's own). */
void
_pl_cli_add_prune_options (GOptionContext    *context,
                           PlCliPruneArgs    *a,
                           gboolean           several_scores,
                           const PlCliOption *more)
{
  const PlCliOption options[] = {
    { "model", 'm', PL_CLI_FILENAME, &a->model_path, N_("Trained model (safetensors)"), N_("FILE") },
    PL_CLI_SESSION_OPTION (&a->session_path),
    { "score", 0, PL_CLI_STRING, &a->score_names,
      several_scores ? N_("Scores to compare, comma-separated (see “prunelab-cli prune --help-scores”)")
                     : score_help (),
      several_scores ? N_("NAME[,NAME…]") : N_("NAME") },
    { "scope", 0, PL_CLI_STRING, &a->scope_name, N_("global (one ranking across layers, default), layer, row (each output row on its own, as Wanda) or erk (ERK layer budgets for one sparsity)"), N_("SCOPE") },
    { "nm", 0, PL_CLI_STRING, &a->nm, N_("Keep the N highest scores of every M consecutive inputs of a row (N:M, e.g. 2:4) before the selection"), N_("N:M") },
    { "structured", 0, PL_CLI_FLAG, &a->structured, N_("Prune whole hidden neurons (needs a neuron score)") },
    { "invert", 0, PL_CLI_FLAG, &a->invert, N_("Prune the highest scores first (a sanity check)") },
    { "exclude-output", 0, PL_CLI_FLAG, &a->exclude_output, N_("Leave the output layer's weights alone") },
    { "allow-empty", 0, PL_CLI_FLAG, &a->allow_empty, N_("Allow a layer to lose every weight") },
    { "fine-tune-epochs", 0, PL_CLI_INT, &a->fine_tune_epochs, N_("Masked training after pruning (default 0)"), N_("N"),
      PL_CLI_WHOLE (0, PL_CLI_MAX_EPOCHS) },
    { "lr", 0, PL_CLI_DOUBLE, &a->lr, N_("Fine-tuning learning rate, SGD with momentum 0.9 (default 0.01)"), N_("X"),
      PL_CLI_ABOVE (0) },
    { "batch", 0, PL_CLI_INT, &a->batch, N_("Fine-tuning batch size (default 128)"), N_("N"),
      PL_CLI_WHOLE (1, PL_CLI_MAX_BATCH) },
    { "score-batches", 0, PL_CLI_INT, &a->score_batches, N_("Batches of 256 training samples for data-driven scores (default 8)"), N_("N"),
      PL_CLI_WHOLE (1, PL_CLI_MAX_SCORE_BATCHES) },
    { "threads", 't', PL_CLI_INT, &a->threads, N_("Threads (default 1)"), N_("N"), PL_CLI_WHOLE (1, PL_CLI_MAX_THREADS) },
    { "json", 0, PL_CLI_FLAG, &a->json, N_("Print the result as one JSON object on stdout"), NULL },
    { NULL }
  };

  _pl_cli_add_options (context, options, more, NULL);
}

/* Checks the shared options; returns 0 or an exit status. */
int
_pl_cli_check_prune_args (const PlCliPruneArgs *a,
                          PlScope              *scope)
{
  g_autoptr(GError) error = NULL;

  if (a->model_path == NULL && a->session_path == NULL)
    return _pl_cli_usage (_("--model (a safetensors file) or --session (a .prunelab file) is required"));
  if (a->score_names == NULL)
    return _pl_cli_usage (_("--score is required (for example --score magnitude)"));
  if (a->scope_name != NULL && !pl_scope_parse (a->scope_name, scope, &error))
    return _pl_cli_fail (error);
  if (a->nm != NULL && !pl_nm_parse (a->nm, &(guint) { 0 }, &(guint) { 0 }, &error))
    {
      g_prefix_error (&error, "--nm: ");
      return _pl_cli_fail (error);
    }

  return 0;
}

int
_pl_cli_parse_score (const PlCliPruneArgs *a,
                     const char           *name,
                     PlScoreKind          *kind)
{
  g_autoptr(GError) error = NULL;

  if (!pl_score_parse (name, kind, &error))
    return _pl_cli_fail (error);
  if (a->structured && !pl_score_info (*kind)->per_neuron)
    {
      g_autofree char *neuron_scores = _pl_cli_score_names (TRUE);

      return _pl_cli_usage (_("--structured needs a neuron score (%s); “%s” scores weights"),
                            neuron_scores, name);
    }
  return 0;
}

PlScores *
_pl_cli_compute_scores (const PlMlp           *model,
                        PlScoreKind            kind,
                        const PlData          *data,
                        const PlCliPruneArgs  *a,
                        guint64                seed,
                        GError               **error)
{
  PlScoreOptions options = PL_SCORE_OPTIONS_INIT;

  options.n_batches = (guint) a->score_batches;
  options.seed = seed;
  return pl_scores_compute (model, kind, data->train, &options, error);
}

void
_pl_cli_fine_tune_config (const PlCliPruneArgs *a,
                          guint64               seed,
                          PlTrainConfig        *config)
{
  pl_train_config_init (config);
  config->epochs = (guint) a->fine_tune_epochs;
  config->batch_size = (guint) a->batch;
  config->lr = a->lr;
  config->seed = seed;
  config->threads = (guint) a->threads;
}

/* Masked fine-tuning of @model; returns FALSE with the error (cancellation included). */
gboolean
_pl_cli_fine_tune (PlMlp                 *model,
                   const PlData          *data,
                   const PlCliPruneArgs  *a,
                   guint64                seed,
                   GError               **error)
{
  g_autoptr(PlTrainer) trainer = NULL;
  PlTrainConfig config;

  _pl_cli_fine_tune_config (a, seed, &config);
  trainer = pl_trainer_new (model, &config);

  return pl_trainer_run (trainer, data->train, data->val, NULL, NULL, _pl_cli_cancellable (), error);
}

void
_pl_cli_prune_args_init (PlCliPruneArgs *a)
{
  *a = (PlCliPruneArgs) { .lr = 0.01, .batch = 128, .threads = 1, .score_batches = 8 };
}
