/* pl-l0.h — L0 regularisation with hard-concrete gates (Louizos, Welling & Kingma 2018,
 * "Learning Sparse Neural Networks through L0 Regularization")
 *
 * Every weight (or every input unit of every layer, a whole column of its weight matrix) gets
 * a gate z ∈ [0, 1] with a learned log α. During training the gates are sampled from the hard
 * concrete distribution, one draw per minibatch:
 *   u ~ U(0, 1),  s = σ((log u − log(1 − u) + log α) / β),  z = min(1, max(0, s·(ζ − γ) + γ))
 * and the network runs with the weights θ ⊙ z. The objective is
 *   mean cross-entropy + λ · E[‖z‖₀] / n_gates,
 *   E[‖z‖₀] = Σ_j P(z_j ≠ 0) = Σ_j σ(log α_j − β·log(−γ/ζ))
 * (their eq. 12), so λ is the price of keeping every gate open; the paper's λ per gate is
 * λ/n_gates here. Stretching s to (γ, ζ) = (−0.1, 1.1) and clamping gives z exact zeros and
 * ones with non-zero probability while the expected L0 stays differentiable in log α; β = 2/3.
 * At the end the test-time gates ẑ = min(1, max(0, σ(log α)(ζ − γ) + γ)) are frozen into the
 * model: w ← θ·ẑ, and weights whose gate is 0 are pruned.
 *
 * This is L0 regularisation. The update θ ← θ − α(g + λ·1[θ ≠ 0]) of the seed article is not:
 * 1[θ ≠ 0] is 1 for every weight that is not already exactly zero, so the "penalty" adds the
 * same constant to every gradient — it shifts all weights by −αλ each step in one direction and
 * drives no weight to zero (the true gradient of ‖θ‖₀ is 0 almost everywhere).
 */
#pragma once

#include <gio/gio.h>

#include "pl-dataset.h"
#include "pl-mlp.h"
#include "pl-train.h"

G_BEGIN_DECLS

typedef enum {
  PL_L0_PER_WEIGHT,   /* one gate per weight */
  PL_L0_PER_NEURON,   /* one gate per input unit of each layer (a column of W): input
                       * features of the first layer, hidden neurons of the others — the
                       * group sparsity Louizos et al. use for fully connected layers */
} PlL0Gates;

typedef struct {
  PlL0Gates gates;
  double    lambda;         /* weight of E[‖z‖₀] / n_gates (default 0.1) */
  double    beta;           /* 2/3 */
  double    gamma;          /* −0.1 */
  double    zeta;           /* 1.1 */
  double    init_drop;      /* initial 1 − σ(log α): log α₀ = log((1 − d)/d) (default 0.1) */
  guint     epochs;         /* default 5 */
  guint     batch_size;     /* default 128 */
  double    lr;             /* Adam on the weights θ (default 1e-3) */
  double    lr_log_alpha;   /* Adam on log α (default 0.05) */
  guint     threads;        /* OpenBLAS threads (default 1) */
  guint64   seed;           /* sample order and gate noise (default 1) */
} PlL0Config;

void      pl_l0_config_init (PlL0Config *config);

/* One hard-concrete gate for noise u ∈ (0, 1); *dz_dlog_alpha (may be NULL) receives ∂z/∂log α,
 * (ζ − γ)·s(1 − s)/β inside the clamp and 0 outside. */
double    pl_hard_concrete_sample        (double  log_alpha,
                                          double  u,
                                          double  beta,
                                          double  gamma,
                                          double  zeta,
                                          double *dz_dlog_alpha);
/* P(z ≠ 0) = σ(log α − β·log(−γ/ζ)), the closed form of eq. 12. */
double    pl_hard_concrete_prob_nonzero  (double  log_alpha,
                                          double  beta,
                                          double  gamma,
                                          double  zeta);
/* The test-time gate min(1, max(0, σ(log α)(ζ − γ) + γ)). */
double    pl_hard_concrete_test          (double  log_alpha,
                                          double  gamma,
                                          double  zeta);

typedef struct _PlL0 PlL0;

/* Gates for @model's shape, log α set from config->init_drop. (transfer full) */
PlL0     *pl_l0_new            (const PlMlp       *model,
                                const PlL0Config  *config);
void      pl_l0_free           (PlL0              *self);
gsize     pl_l0_n_gates        (const PlL0        *self);
/* (transfer none), n_gates entries, writable. */
float    *pl_l0_log_alpha      (PlL0              *self);
/* Σ_j P(z_j ≠ 0) in double. */
double    pl_l0_expected_l0    (const PlL0        *self);

/* The objective for gates drawn with noise @u (n_gates values in (0, 1)) on the batch x (n,
 * n_in), y: mean cross-entropy of @model with weights θ ⊙ z (θ = model->params; masked weights
 * stay 0) plus λ·E[‖z‖₀]/n_gates. Its gradient with respect to θ (n_params, biases included;
 * a masked weight gets the gradient it would have unmasked, training keeps it at 0) and to
 * log α (n_gates) goes into @grad_theta and @grad_log_alpha (either may be NULL). The gates
 * are computed in float with vectorised log and exp (pl_hard_concrete_sample is the double
 * form). */
double    pl_l0_objective      (PlL0              *self,
                                const PlMlp       *model,
                                const float       *u,
                                const float       *x,
                                const guint32     *y,
                                guint              n,
                                float             *grad_theta,
                                float             *grad_log_alpha);
/* The same objective in double from plain loops, with θ (n_params) and log α given (the test
 * oracle); @model gives the shape, masks and activation. */
double    pl_l0_objective_ref  (const PlL0        *self,
                                const PlMlp       *model,
                                const double      *theta,
                                const double      *log_alpha,
                                const double      *u,
                                const float       *x,
                                const guint32     *y,
                                guint              n);

/* Trains θ (model->params) and log α with Adam for config->epochs on @train, validating the
 * test-time gates on @val after each epoch (may be NULL). Progress as pl_trainer_run's (the
 * record's val figures are those of θ ⊙ ẑ). Stops with G_IO_ERROR_CANCELLED (the model keeps
 * the last finished step) or PL_TRAIN_ERROR_DIVERGED. */
gboolean  pl_l0_train          (PlL0                 *self,
                                PlMlp                *model,
                                const PlDataset      *train,
                                const PlDataset      *val,
                                PlTrainProgressFunc   progress,
                                gpointer              user_data,
                                GCancellable         *cancellable,
                                GError              **error);

/* Freezes the test-time gates into @model: w ← θ·ẑ, and the weights whose gate is 0 are pruned
 * (mask 0). Returns the number of gates that are 0. */
gsize     pl_l0_freeze         (PlL0              *self,
                                PlMlp             *model);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PlL0, pl_l0_free)

G_END_DECLS
