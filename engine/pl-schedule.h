/* pl-schedule.h — pruning procedures: one-shot, iterative with rewind, gradual, adaptive, L1,
 * L0 and distillation, each as a curve of points, with mean and spread over seeds
 *
 * A procedure starts from a trained model (never changed) and produces points along a curve:
 * level 0 is where it starts (the dense model), then one point per target sparsity (one-shot,
 * gradual, L1, distillation), per round (iterative), per λ (L0) or per sparsity probed
 * (adaptive). Each point is measured on the validation and test splits. A seed makes a run
 * reproducible: it picks the scored batches, the random score, the order of the training
 * samples, the L0 gate noise and, when an iterative run trains its own dense network, the
 * initial weights.
 *
 * Procedures (see pl_method_info() for the explanations the CLI and the GUI show):
 *   oneshot    prune to each target, fine-tune (masked) fine_tune_epochs
 *   iterative  rounds k = 1…K prune to s_k = 1 − (1 − s_f)^{k/K} (the same share of the
 *              remaining weights each round, s_K = s_f exactly), optionally rewind the
 *              surviving weights to stored ones, then train round_epochs (by default, with
 *              rewinding, as long as the dense run after the rewind point; Han et al. 2015;
 *              with rewinding, the lottery ticket of Frankle & Carbin 2019 and its "late
 *              resetting" to epoch-e weights, Frankle et al. 2019)
 *   gradual    train gradual_epochs while the sparsity follows the cubic schedule of Zhu &
 *              Gupta (2017) s_t = s_f + (s_i − s_f)(1 − (t − t₀)/(nΔt))³, the masks updated every
 *              Δt steps
 *   adaptive   the largest sparsity on a grid (step, up to max_sparsity) whose validation
 *              accuracy after pruning (and fine-tuning) stays within the budget of the dense
 *              model's, by bisection. Per layer: layer i's limit s_i is the largest grid
 *              sparsity up to which its validation accuracy, pruned alone, stays within the
 *              budget (pl-sensitivity.h); level k = 0…20 keeps (1 − s_i)^{k/20} of each layer's
 *              weights, and the bisection runs over k (param = k/20)
 *   l1         train l1_epochs with the penalty l1·Σ|w|, then prune the smallest weights to
 *              each target and fine-tune without the penalty
 *   l0         for each λ, train hard-concrete gates (pl-l0.h), freeze them into a mask, and
 *              fine-tune
 *   distill    as oneshot, but the fine-tuning learns from the unpruned model's soft targets
 *              (pl-distill.h)
 *   movement   as gradual (its epochs, s_i, t₀, Δt, ramp, lr), but the weights pruned are those
 *              of lowest movement score S = −Σ_t w·∂L/∂w accumulated over the fine-tuning so far
 *              (Sanh et al. 2020, pl-movement.h); the first update comes after the first step,
 *              and when the schedule has not reached s_f by the last step, it prunes to s_f then
 *   set, rigl  dynamic sparse training from scratch (pl-dst.h): a network initialised with the
 *              run's seed and a random mask of each target sparsity in every layer (uniform
 *              densities, or ERK's with spec.scope PL_SCOPE_ERK: pl_erk_sparsities) trains dst_epochs at dense_lr; every Δt (delta_steps) steps until
 *              T_end = ⌊ramp · steps⌋ each layer drops α/2·(1 + cos(πt/T_end)) of its active
 *              weights by |w| and regrows as many at random (SET, Mocanu et al. 2018) or by
 *              |dense gradient| on a random batch (RigL, Evci et al. 2020), at 0
 *   at-init    pruning at initialisation: the untrained network (rewind_params, the weights
 *              the model started from, or a seeded initialisation of its architecture) is
 *              scored and pruned to each target, then the sparse network trains dense_epochs
 *              at dense_lr; level 0 is the dense network trained the same way. SynFlow prunes
 *              in init_rounds rounds k to 1 − (1 − s)^{k/K} (the exponential schedule of
 *              Tanaka et al. 2020, Algorithm 1), every other score at once (SNIP, GraSP,
 *              magnitude at init, random)
 */
#pragma once

#include <gio/gio.h>

#include "pl-dataset.h"
#include "pl-l0.h"
#include "pl-mlp.h"
#include "pl-prune.h"
#include "pl-score.h"
#include "pl-train.h"

G_BEGIN_DECLS

typedef enum {
  PL_METHOD_ONESHOT,
  PL_METHOD_ITERATIVE,
  PL_METHOD_GRADUAL,
  PL_METHOD_ADAPTIVE,
  PL_METHOD_L1,
  PL_METHOD_L0,
  PL_METHOD_DISTILL,
  PL_METHOD_MOVEMENT,
  PL_METHOD_SET,
  PL_METHOD_RIGL,
  PL_METHOD_AT_INIT,
  PL_N_METHODS
} PlMethod;

typedef struct {
  const char *name;         /* "oneshot", "iterative", … */
  const char *title;        /* translate with _() */
  const char *explanation;  /* two sentences for --help and the GUI (translate with _()) */
} PlMethodInfo;

const PlMethodInfo *pl_method_info  (PlMethod     method);
gboolean            pl_method_parse (const char  *name,
                                     PlMethod    *method,
                                     GError     **error);

typedef enum {
  PL_REWIND_NONE,    /* keep training the pruned weights from where they are */
  PL_REWIND_INIT,    /* reset the survivors to their initial values */
  PL_REWIND_EPOCH,   /* reset the survivors to their values after rewind_epoch epochs */
} PlRewind;

#define PL_SCHEDULE_MAX_LEVELS 64

/* round_epochs: as long as the dense run after the rewind point (pl_schedule_round_epochs). */
#define PL_ROUND_EPOCHS_DENSE G_MAXUINT

typedef struct {
  /* what is pruned: the score and spec (scope, invert, exclude_output, allow_empty; its values
   * are not used) of one-shot, iterative, gradual, adaptive and distill; L1 prunes by magnitude */
  PlScoreKind     score;
  PlScoreOptions  score_options;      /* the seed is the run's */
  PlPruneSpec     spec;
  /* training: optimiser, lr, batch, threads, clipping; epochs and seed are set per run */
  PlTrainConfig   train;
  guint           fine_tune_epochs;   /* after pruning (oneshot, adaptive, l1, l0, distill) */
  double          targets[PL_SCHEDULE_MAX_LEVELS];  /* sparsities; iterative: the largest is
                                                     * the final one */
  guint           n_targets;

  /* iterative */
  guint           rounds;
  guint           round_epochs;       /* training after each round's pruning, or
                                       * PL_ROUND_EPOCHS_DENSE: see pl_schedule_round_epochs */
  PlRewind        rewind;
  guint           rewind_epoch;       /* PL_REWIND_EPOCH */
  const float    *rewind_params;      /* borrowed (n_params): the weights to rewind to; NULL =
                                       * train a dense network from a seeded initialisation
                                       * for dense_epochs and keep its epoch-e weights */
  guint           dense_epochs;
  double          dense_lr;           /* lr of the dense training and of the rounds when
                                       * rewinding (they retrain rather than fine-tune) */

  /* gradual */
  guint           gradual_epochs;
  double          initial_sparsity;   /* s_i */
  guint64         start_step;         /* t₀ */
  guint64         delta_steps;        /* Δt */
  double          ramp;               /* share of the steps after t₀ over which the sparsity
                                       * rises: n = ⌊ramp·(steps − t₀)/Δt⌋ */

  /* adaptive */
  double          budget;             /* accuracy that may be lost, 0.01 = one point */
  double          step;               /* grid of sparsities: 0, step, 2·step, … */
  double          max_sparsity;
  gboolean        per_layer;

  /* l1 */
  double          l1;
  guint           l1_epochs;

  /* l0: the config's lambda is replaced by each of l0_lambdas */
  PlL0Config      l0;
  double          l0_lambdas[PL_SCHEDULE_MAX_LEVELS];
  guint           n_l0_lambdas;

  /* distill */
  double          temperature;
  double          alpha;

  /* set, rigl (also delta_steps, ramp, dense_lr) */
  guint           dst_epochs;
  double          drop_fraction;      /* α, the share dropped at t = 0 */

  /* at-init: the untrained weights are rewind_params (or a seeded initialisation), the
   * training dense_epochs at dense_lr */
  guint           init_rounds;        /* SynFlow's rounds (default 100) */
} PlScheduleConfig;

/* Defaults: magnitude, global; SGD lr 0.01 momentum 0.9 batch 128; 1 fine-tuning epoch;
 * targets 0.5, 0.8, 0.9, 0.95, 0.97, 0.99; iterative 5 rounds of PL_ROUND_EPOCHS_DENSE, no
 * rewind (epoch 1 when rewinding), dense training 5 epochs at lr 0.1; gradual 3 epochs, s_i 0, t₀ 0, Δt 50,
 * ramp 0.7; adaptive budget 0.01, step 0.01, max 0.99; L1 1e-3 for 2 epochs; L0 per weight,
 * λ 0.3, 1, 3, 10 (pl_l0_config_init otherwise); distillation T 4, α 0.5; set and rigl 5
 * epochs, α 0.3 (Evci et al. 2020); at-init 100 SynFlow rounds. */
void      pl_schedule_config_init (PlScheduleConfig *config);

typedef struct {
  PlMethod  method;
  guint64   seed;
  guint     level;                /* position along the curve; 0 = the start (dense) */
  double    param;                /* what set the point: target sparsity, round, λ, sparsity
                                   * probed; NaN at level 0 */
  double    sparsity;             /* pruned / weights */
  double    structural_sparsity;  /* dead hidden neurons / hidden neurons */
  double    layer_sparsity[PL_MLP_MAX_LAYERS];
  double    val_accuracy;         /* NaN without validation data */
  double    val_loss;
  double    test_accuracy;
  double    test_loss;
  gboolean  chosen;               /* adaptive: the sparsity the search returned */
  double    seconds;              /* since the start of the run */
} PlSchedulePoint;

typedef struct {
  PlMethod                method;
  guint64                 seed;
  const char             *stage;   /* what runs, e.g. "round 2/5" (translated) */
  const PlTrainProgress  *train;   /* inside a training run, else NULL */
  const PlSchedulePoint  *point;   /* a point just finished, else NULL */
  const PlMlp            *model;   /* with @train: the model being trained, after the step
                                    * and any mask update at it (borrowed, read-only) */
} PlScheduleProgress;

typedef void (*PlScheduleProgressFunc) (const PlScheduleProgress *progress,
                                        gpointer                  user_data);

/* Runs @method from @model (borrowed, not changed) on @data (train, val, test) with @seed,
 * appending each finished point to @points (PlSchedulePoint) as it comes. @last_model (may be
 * NULL) receives the model of the last point (transfer full). On cancellation returns FALSE
 * with G_IO_ERROR_CANCELLED; the points that finished stay in @points. Fails with
 * PL_SPEC_ERROR on a config that does not fit the method, and with the trainer's errors. */
gboolean  pl_schedule_run         (const PlMlp             *model,
                                   const PlData            *data,
                                   PlMethod                 method,
                                   const PlScheduleConfig  *config,
                                   guint64                  seed,
                                   GArray                  *points,
                                   PlMlp                  **last_model,
                                   PlScheduleProgressFunc   progress,
                                   gpointer                 user_data,
                                   GCancellable            *cancellable,
                                   GError                 **error);

/* Zhu & Gupta's cubic schedule at step t: s_i before t₀, then
 * s_f + (s_i − s_f)(1 − (t_k − t₀)/(nΔt))³ with t_k = t₀ + ⌊(t − t₀)/Δt⌋·Δt the last mask
 * update, and s_f from t₀ + nΔt on (n = 0: s_f from t₀ on). */
double    pl_cubic_sparsity       (double   s_initial,
                                   double   s_final,
                                   guint64  t0,
                                   guint64  n,
                                   guint64  delta_t,
                                   guint64  t);
/* The epochs each iterative round trains: config->round_epochs, or for PL_ROUND_EPOCHS_DENSE
 * as long as the dense run after the rewind point, as Frankle & Carbin (2019) retrain every
 * round for the dense network's iterations — dense_epochs − E when rewinding to epoch E
 * (dense_epochs when rewinding to the initialisation; 0 when E ≥ dense_epochs) — and 2 epochs
 * of fine-tuning without rewinding (Han et al. 2015 retrain briefly). */
guint     pl_schedule_round_epochs (const PlScheduleConfig *config);
/* Target of iterative round k of K (1-based): 1 − (1 − s_f)^{k/K}; exactly s_f for k = K. */
double    pl_iterative_sparsity   (double   s_final,
                                   guint    rounds,
                                   guint    round);
/* The lottery ticket's reset: every kept weight takes its value in @stored (the layout of
 * model->params), pruned weights stay 0, biases take theirs. */
void      pl_rewind_weights       (PlMlp       *model,
                                   const float *stored);

/* Adaptive search on a grid of sparsities j·step (j = 0…J, J·step ≤ max): @accuracy_at (j)
 * gives the validation accuracy at level j (j = 0 is the dense model, never asked). Returns
 * the level found: accuracy within @floor at it, and below @floor at the next level (unless
 * it is J). Bisection: levels lo (within) and hi (not) close in until hi = lo + 1, so the
 * answer has that property even when accuracy is not monotone in sparsity. Returns -1 with
 * the callback's error when it fails. */
typedef gboolean (*PlAccuracyAtFunc) (guint     level,
                                      double   *accuracy,
                                      gpointer  user_data,
                                      GError  **error);
int       pl_adaptive_bisect      (guint             n_levels,
                                   double            floor,
                                   PlAccuracyAtFunc  accuracy_at,
                                   gpointer          user_data,
                                   GError          **error);

/* Mean and spread over seeds of the points with the same method and level. */
typedef struct {
  PlMethod  method;
  guint     level;
  double    param;            /* of the first seed's point */
  guint     n;                /* points (seeds) */
  double    sparsity;         /* mean */
  double    test_accuracy;    /* mean */
  double    test_accuracy_sd; /* sample standard deviation, 0 for one point */
  double    test_accuracy_min;
  double    test_accuracy_max;
  double    test_loss;        /* mean */
  double    test_loss_sd;
  double    val_accuracy;     /* mean (NaN without validation data) */
} PlScheduleSummary;

/* (transfer full) PlScheduleSummary, ordered by method, then level. */
GArray   *pl_schedule_summarise   (const PlSchedulePoint *points,
                                   guint                  n_points);

G_END_DECLS
