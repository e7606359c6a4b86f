/* pl-train.h — minibatch training of a PlMlp
 *
 * The objective is mean softmax cross-entropy + l1 · Σ|w| (weights only). Its gradient is
 * clipped (by value, then by global norm) and then the optimiser adds L2 weight decay
 * (weight_decay · w, weights only), as torch.optim does. Pruned weights (mask 0) stay exactly
 * 0: their gradient, momentum and Adam moments are zeroed on every step.
 *
 * Runs are bit-identical for the same model, data, config (seed included) and thread count.
 * With threads > 1 each batch is split between the threads, each running single-threaded
 * OpenBLAS on its part, and the partial gradients are summed in a fixed order.
 */
#pragma once

#include <gio/gio.h>

#include "pl-dataset.h"
#include "pl-mlp.h"

G_BEGIN_DECLS

typedef enum {
  PL_OPTIMIZER_SGD,
  PL_OPTIMIZER_ADAM,
} PlOptimizer;

typedef enum {
  PL_LR_CONSTANT,
  PL_LR_STEP,      /* lr · gamma^⌊epoch / step_epochs⌋ */
  PL_LR_COSINE,    /* lr · ½(1 + cos(π · step / total steps)) */
} PlLrSchedule;

typedef struct {
  guint        epochs;
  guint        batch_size;
  PlOptimizer  optimizer;
  double       lr;
  double       momentum;      /* SGD */
  gboolean     nesterov;      /* SGD */
  double       beta1, beta2;  /* Adam */
  double       eps;           /* Adam */
  double       weight_decay;  /* L2, on weights */
  double       l1;            /* L1 penalty, on weights */
  double       article_l0;    /* 0 = off: the seed article's (001) "L0" update
                               * θ ← θ − α(g + λ·1[θ ≠ 0]) adds λ to the gradient of every
                               * weight not exactly 0. It is NOT L0 regularisation (pl-l0.h
                               * says why): kept so that lesson 6 can show what it does */
  double       clip_value;    /* 0 = off: each gradient entry clamped to ±clip_value */
  double       clip_norm;     /* 0 = off: gradient rescaled to global L2 norm ≤ clip_norm */
  PlLrSchedule schedule;
  guint        step_epochs;   /* PL_LR_STEP */
  double       step_gamma;    /* PL_LR_STEP */
  guint64      seed;          /* order of the samples */
  guint        threads;       /* ≥ 1 */
  gboolean     dense_only;    /* FALSE: a masked run takes its sparse layers through CSR
                               * (pl-sparse-nn.h), with the same results up to rounding */
} PlTrainConfig;

/* Defaults: 10 epochs, batch 128, SGD lr 0.1 momentum 0.9, Adam β (0.9, 0.999) ε 1e-8,
 * constant schedule (step: every 10 epochs × 0.1), seed 1, 1 thread. */
void         pl_train_config_init      (PlTrainConfig *config);
gboolean     pl_optimizer_parse        (const char    *text,
                                        PlOptimizer   *optimizer,
                                        GError       **error);
const char  *pl_optimizer_to_string    (PlOptimizer    optimizer);
gboolean     pl_lr_schedule_parse      (const char    *text,
                                        PlLrSchedule  *schedule,
                                        GError       **error);
const char  *pl_lr_schedule_to_string  (PlLrSchedule   schedule);
/* The learning rate of the schedule in 0-based @epoch at @step of @steps_total. */
double       pl_train_config_learning_rate (const PlTrainConfig *config,
                                            guint                epoch,
                                            guint64              step,
                                            guint64              steps_total);

typedef struct {
  guint  epoch;            /* 1-based */
  double train_loss;       /* mean over the epoch's batches (cross-entropy only) */
  double train_accuracy;   /* over the epoch's batches, as they were seen */
  double val_loss;         /* NaN without validation data */
  double val_accuracy;
  double lr;               /* at the epoch's last step */
  double seconds;          /* wall time of the epoch, validation excluded */
} PlEpochRecord;

typedef struct {
  guint         epoch;        /* 1-based, the epoch running */
  guint         epochs;
  guint64       step;         /* steps done in this run */
  guint64       steps_total;
  double        batch_loss;
  double        grad_norm;    /* before clipping */
  gboolean      epoch_done;   /* TRUE once per epoch, after validation */
  const PlEpochRecord *record; /* the finished epoch when epoch_done, else NULL */
} PlTrainProgress;

typedef void (*PlTrainProgressFunc) (const PlTrainProgress *progress,
                                     gpointer               user_data);

typedef struct _PlTrainer PlTrainer;

/* @model is borrowed and must outlive the trainer; the trainer keeps the optimiser state, so
 * running it again continues training (fine-tuning). (transfer full) */
PlTrainer   *pl_trainer_new            (PlMlp               *model,
                                        const PlTrainConfig *config);
void         pl_trainer_free           (PlTrainer           *self);

/* Trains config->epochs epochs on @train, validating on @val (may be NULL or empty) after each.
 * Stops with G_IO_ERROR_CANCELLED when @cancellable fires (the model keeps the weights of the
 * last finished step) and with PL_TRAIN_ERROR_DIVERGED on a NaN/Inf loss (the model gets back
 * the last weights whose loss was finite). */
gboolean     pl_trainer_run            (PlTrainer           *self,
                                        const PlDataset     *train,
                                        const PlDataset     *val,
                                        PlTrainProgressFunc  progress,
                                        gpointer             user_data,
                                        GCancellable        *cancellable,
                                        GError             **error);

/* Called after every step of pl_trainer_run with the steps done in the run so far (1, 2, …);
 * returns TRUE when it changed the model's masks, which the trainer then applies (w ← w ⊙ mask)
 * and follows from the next step on: pruned weights stay 0 and lose their optimiser state.
 * Gradual pruning uses it. */
typedef gboolean (*PlTrainStepHook) (PlMlp    *model,
                                     guint64   step,
                                     gpointer  user_data);

void         pl_trainer_set_step_hook  (PlTrainer           *self,
                                        PlTrainStepHook      hook,
                                        gpointer             user_data);

/* Trains with knowledge distillation from now on (pl_nn_backward_distill): @teacher holds the
 * teacher's probabilities at @temperature, (n_samples, n_out), one row per sample of the
 * training set later given to pl_trainer_run (which must have n_samples samples); borrowed,
 * it must outlive the runs. α weighs the soft-target term, 1 − α the cross-entropy with the
 * labels. NULL turns distillation off. The reported training loss stays the cross-entropy. */
void         pl_trainer_set_distillation (PlTrainer         *self,
                                          const float       *teacher,
                                          guint              n_samples,
                                          double             temperature,
                                          double             alpha);

/* The gradient of the last step, in the layout of model->params: the objective's (cross-entropy,
 * L1, clipped by value; before clipping by norm and before weight decay), 0 at pruned weights.
 * Valid in a step hook until the next step. (transfer none) */
const float *pl_trainer_get_gradient   (PlTrainer           *self);

/* Resets the optimiser state (momentum, Adam moments, step count) — after pruning, say. */
void         pl_trainer_reset_state    (PlTrainer           *self);

/* Every epoch run so far, PlEpochRecord. (transfer none) */
const GArray *pl_trainer_get_history   (PlTrainer           *self);
/* The global gradient L2 norm of every step before clipping, float. (transfer none) */
const GArray *pl_trainer_get_grad_norms (PlTrainer          *self);
guint64      pl_trainer_get_samples_seen (PlTrainer         *self);
double       pl_trainer_get_train_seconds (PlTrainer        *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PlTrainer, pl_trainer_free)

G_END_DECLS
