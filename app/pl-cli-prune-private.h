/* pl-cli-prune-private.h — what prunelab-cli prune and sweep share: their options (a model, a
 * score or several, scope, invert, fine-tuning), checked the same way, and the steps that
 * score a model and fine-tune it */
#pragma once

#include "pl-cli-private.h"
#include "pl-conv-sweep.h"
#include "pl-prune.h"
#include "pl-score.h"
#include "pl-train.h"

G_BEGIN_DECLS

/* The options of prune and sweep; --score holds one name (prune) or a list (sweep). */
typedef struct {
  char     *model_path;
  char     *session_path;
  char     *score_names;
  char     *scope_name;
  char     *nm;               /* "2:4", or NULL */
  gboolean  structured;
  gboolean  invert;
  gboolean  exclude_output;
  gboolean  allow_empty;
  int       fine_tune_epochs;
  double    lr;
  int       batch;
  int       threads;
  int       score_batches;
  gboolean  json;
} PlCliPruneArgs;

/* The defaults: lr 0.01, batch 128, one thread, 8 score batches. */
void      _pl_cli_prune_args_init   (PlCliPruneArgs       *a);
void      _pl_cli_prune_args_clear  (PlCliPruneArgs       *a);
/* Adds the shared options, then @more (the command's own). With @several_scores, --score
 * takes a comma-separated list. */
void      _pl_cli_add_prune_options (GOptionContext       *context,
                                     PlCliPruneArgs       *a,
                                     gboolean              several_scores,
                                     const PlCliOption    *more);
/* Checks the shared options and sets @scope; returns 0 or an exit status. */
int       _pl_cli_check_prune_args  (const PlCliPruneArgs *a,
                                     PlScope              *scope);
/* Parses the score @name (and checks it scores neurons with --structured); returns 0 or an
 * exit status. */
int       _pl_cli_parse_score       (const PlCliPruneArgs *a,
                                     const char           *name,
                                     PlScoreKind          *kind);
/* The prune spec of the arguments' strategy, with one value. */
void      _pl_cli_prune_args_spec   (const PlCliPruneArgs *a,
                                     PlScope               scope,
                                     gboolean              by_threshold,
                                     PlPruneSpec          *spec);
/* The scores of @model on @data's training split with --score-batches. (transfer full) */
PlScores *_pl_cli_compute_scores    (const PlMlp          *model,
                                     PlScoreKind           kind,
                                     const PlData         *data,
                                     const PlCliPruneArgs *a,
                                     guint64               seed,
                                     GError              **error);
/* The training config of the fine-tuning: --fine-tune-epochs, --lr, --batch, --threads, @seed. */
void      _pl_cli_fine_tune_config  (const PlCliPruneArgs *a,
                                     guint64               seed,
                                     PlTrainConfig        *config);
/* Masked fine-tuning of @model (--fine-tune-epochs, --lr, --batch); FALSE with the error,
 * a cancellation included. */
gboolean  _pl_cli_fine_tune         (PlMlp                *model,
                                     const PlData         *data,
                                     const PlCliPruneArgs *a,
                                     guint64               seed,
                                     GError              **error);

/* prune on a convolutional network (pl-cli-prune-conv.c): magnitude, or filters by
 * neuron-l1 / neuron-l2 / apoz / activation / neuron-taylor with --structured, or by FPGM with
 * @fpgm (@kind then ignored); with @compact, --out saves the compacted network
 * (pl-conv-compact.h); returns the exit status. */
int       _pl_cli_prune_conv        (const PlCliPruneArgs *a,
                                     PlCliDataArgs        *data_args,
                                     PlScoreKind           kind,
                                     gboolean              fpgm,
                                     PlScope               scope,
                                     const PlCliNumbers   *sparsity,
                                     gboolean              by_threshold,
                                     gboolean              compact,
                                     const char           *out);

/* How sweep and sensitivity prune a convolutional network (pl-cli-prune-conv.c): one --score
 * name parsed for it. */
typedef struct {
  PlConvPruneMode     mode;
  PlScoreKind         kind;       /* weights */
  PlConvFilterScore   filter;
  PlConvChannelScore  channel;
  const char         *name;       /* borrowed: the score's canonical name */
} PlCliConvScore;

/* TRUE when @a's --model is a convolutional network (and no --session is given). */
gboolean  _pl_cli_prune_args_conv   (const PlCliPruneArgs *a);
/* Parses @name for a conv net: a weight score, or with --structured neuron-l1, neuron-l2,
 * fpgm, apoz, activation or neuron-taylor; refuses what a conv net does not take (--invert,
 * --exclude-output, --nm, scopes other than global and layer). Returns 0 or an exit status. */
int       _pl_cli_conv_parse_score  (const PlCliPruneArgs *a,
                                     const char           *name,
                                     PlScope               scope,
                                     PlCliConvScore       *out);
/* Fills @pruner for @net (borrowed) and @score, evaluated on @data's test split: a data-driven
 * weight score is computed on the training split with --score-batches and @seed into
 * *@scores (freed by the caller; NULL for magnitude). FALSE with the error. */
gboolean  _pl_cli_conv_pruner_init  (PlConvPruner         *pruner,
                                     float               **scores,
                                     const PlCliPruneArgs *a,
                                     const PlCliConvScore *score,
                                     PlScope               scope,
                                     const PlConvNet      *net,
                                     const PlData         *data,
                                     guint64               seed,
                                     GError              **error);

/* Masked fine-tuning of a conv net (--fine-tune-epochs, --lr, --batch, --threads) with the
 * trainer seeded by @seed; FALSE with the error, a cancellation included. */
gboolean  _pl_cli_conv_fine_tune    (PlConvNet            *net,
                                     const PlData         *data,
                                     const PlCliPruneArgs *a,
                                     guint64               seed,
                                     GError              **error);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (PlCliPruneArgs, _pl_cli_prune_args_clear)

G_END_DECLS
