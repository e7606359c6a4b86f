/* pl-reproduce.h — paper reproductions: a table of pruning papers, each with its citation, the
 * experiment's settings and the numbers it reports, and the runs that measure the same numbers
 *
 * A paper is a row of pl_paper_info(): its name (what `prunelab-cli reproduce NAME` takes), the
 * citation, the settings of its small-network experiment (full and quick) and the numbers it
 * reports, each quoted with its table or figure. pl_reproduce_run() runs the experiment on any
 * dataset (the network is LeNet-300-100 with the data's inputs and classes, N-300-100-K) and
 * returns, for every number, the paper's value beside the measured mean, minimum and maximum
 * over the seeds, and the points of its curves (one per seed, curve and level).
 *
 * Papers:
 *   han2015      Han et al. 2015: each layer pruned to its own kept share (8%, 9%, 26%), iterative
 *                rounds of pruning and retraining at 1/10 of the learning rate (no rewinding);
 *                error before/after, parameters, compression
 *   frankle2019  Frankle & Carbin 2019: the lottery ticket — iterative rounds pruning 20% of each
 *                hidden layer's and 10% of the output layer's remaining weights, the survivors
 *                rewound to their initial values; accuracy and early-stopping iteration of the
 *                winning tickets and of the same masks randomly re-initialised, against the share
 *                of weights remaining
 *   blalock2020  Blalock et al. 2020 (ShrinkBench): compression ratio and theoretical speed-up at
 *                compression ratios 2, 4, 8, 16, 32 for magnitude (global and per layer), random
 *                and a chosen score, one-shot with fine-tuning, over seeds
 *   tanaka2020   Tanaka et al. 2020: pruning at initialisation by magnitude, SNIP, GraSP and
 *                SynFlow (schedule's at-init) to compression ratios 10^{k/4}; accuracy of each
 *                sparse network after training, and the compression at which each first
 *                disconnects the network (pl_reproduce_connected())
 */
#pragma once

#include <gio/gio.h>

#include "pl-dataset.h"
#include "pl-mlp.h"
#include "pl-score.h"
#include "pl-train.h"

G_BEGIN_DECLS

typedef enum {
  PL_PAPER_HAN2015,
  PL_PAPER_FRANKLE2019,
  PL_PAPER_BLALOCK2020,
  PL_PAPER_TANAKA2020,
  PL_N_PAPERS
} PlPaper;

/* One number a paper reports. */
typedef struct {
  const char *key;       /* "error_after", also the JSON key */
  const char *label;     /* translate with _() */
  const char *unit;      /* "%", "×", "" */
  double      value;     /* as the paper prints it (percentages in %), NaN when it gives none */
  const char *source;    /* "Table 1", "Figure 3" (not translated: the paper's own words) */
} PlPaperNumber;

/* The experiment's settings, full or quick. */
typedef struct {
  guint        seeds;
  guint        dense_epochs;      /* training of the dense network */
  double       dense_lr;
  PlOptimizer  optimizer;
  guint        batch;
  guint        rounds;            /* iterative papers */
  guint        round_epochs;      /* training after each round (or each one-shot point) */
  double       retrain_lr;        /* of the rounds (han2015: dense_lr / 10) */
  guint        eval_every;        /* frankle2019: steps between validation losses for the
                                   * early-stopping iteration */
} PlReproduceSettings;

typedef struct {
  const char          *name;         /* "han2015" */
  const char          *title;        /* translate with _() */
  const char          *citation;     /* authors, title, venue, year (not translated) */
  const char          *summary;      /* what runs, two sentences; translate with _() */
  PlReproduceSettings  full;
  PlReproduceSettings  quick;
  const PlPaperNumber *numbers;
  guint                n_numbers;
} PlPaperInfo;

const PlPaperInfo *pl_paper_info  (PlPaper      paper);
/* Fails with PL_SPEC_ERROR_UNKNOWN_NAME naming the papers. */
gboolean           pl_paper_parse (const char  *name,
                                   PlPaper     *paper,
                                   GError     **error);

typedef struct {
  gboolean     quick;      /* the paper's quick settings */
  guint        seeds;      /* 0: the settings' */
  guint        threads;    /* ≥ 1 */
  PlScoreKind  score;      /* blalock2020: the chosen method (default taylor) */
} PlReproduceOptions;

void pl_reproduce_options_init (PlReproduceOptions *options);

/* A measured number beside the paper's: over the seeds that measured it. */
typedef struct {
  char        *key;        /* owned */
  char        *label;      /* owned, translated */
  const char  *unit;
  double       paper;      /* NaN when the paper gives none */
  const char  *source;     /* NULL when the paper gives none */
  guint        n;
  double       mean, min, max;
  double       sum;        /* (for the mean) */
} PlReproduceRow;

/* A point of a curve: one seed, one curve ("ticket", "reinit", "magnitude-global", …), one
 * level (0 = the dense network). */
typedef struct {
  const char *curve;                 /* static */
  guint64     seed;
  guint       level;
  double      target;                /* the sparsity aimed at (the same for every seed) */
  double      sparsity;              /* pruned weights / weights */
  double      test_accuracy;
  double      compression;           /* (weights + biases) / (kept weights + biases) */
  double      speedup;               /* dense FLOPs / effective FLOPs (pl-metrics.h) */
  double      early_stop;            /* frankle2019: iteration of the lowest validation loss;
                                      * else NaN */
  gboolean    connected;             /* pl_reproduce_connected() */
  double      layer_sparsity[PL_MLP_MAX_LAYERS];
} PlReproducePoint;

typedef struct {
  PlPaper              paper;
  gboolean             quick;
  PlReproduceSettings  settings;     /* as run (seeds included) */
  PlScoreKind          score;        /* blalock2020's chosen score */
  char                *arch;         /* owned: "784-300-100-10" */
  guint                n_layers;
  GArray              *rows;         /* owned: PlReproduceRow, the paper's numbers first */
  GArray              *points;       /* owned: PlReproducePoint */
  double               seconds;
} PlReproduceResult;

void pl_reproduce_result_free (PlReproduceResult *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PlReproduceResult, pl_reproduce_result_free)

/* Called with a line of progress (translated, no newline) and the share of the run done, 0 … 1,
 * rising: over the seeds, and within a seed the measured points of the paper's curves against
 * the number it makes (the dense training before the first point counts as 0). */
typedef void (*PlReproduceProgressFunc) (const char *line,
                                         double      fraction,
                                         gpointer    user_data);

/* Runs @paper on @data (train, val, test): validation data are needed (the early-stopping
 * iteration, the trainer's records). On cancellation returns NULL with G_IO_ERROR_CANCELLED.
 * (transfer full) */
PlReproduceResult *pl_reproduce_run (PlPaper                    paper,
                                     const PlData              *data,
                                     const PlReproduceOptions  *options,
                                     PlReproduceProgressFunc    progress,
                                     gpointer                   user_data,
                                     GCancellable              *cancellable,
                                     GError                   **error);

/* The share of weights remaining down to which a curve holds an accuracy: the smallest
 * remaining share r_k = 1 − s_k among the levels k ≥ 1 whose accuracy is ≥ @floor (the last
 * such level on a curve of growing sparsity: a single dip on the way, as a few epochs of
 * training give, does not end it); 1 when no level reaches @floor (level 0 is the dense
 * network and is not checked). @accuracy and @sparsity have @n levels in order of level. */
double pl_reproduce_holds_to (const double *accuracy,
                              const double *sparsity,
                              guint         n,
                              double        floor);

/* Whether some output unit of @m is reached from some input through kept weights (mask ≠ 0):
 * every input is reached, and unit o of layer i is when M_oj ≠ 0 for a reached unit j of the
 * layer before. Without such a path the network is disconnected: its output no longer depends
 * on its input, whatever the weights. A layer with no kept weight (Tanaka et al. 2020's "layer
 * collapse") disconnects it; so do kept weights in every layer that line up on no path. */
gboolean pl_reproduce_connected (const PlMlp *m);

G_END_DECLS
