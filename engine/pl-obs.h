/* pl-obs.h — Optimal Brain Surgeon with layer-wise reconstruction (SparseGPT / OBC): pruning
 * without retraining
 *
 * Layer by layer, from the first to the last, the layer's weights W (n_out, n_in) are pruned to
 * a target sparsity and the kept weights updated so that the layer's outputs on calibration
 * inputs change as little as possible:
 *   minimise ‖W X − Ŵ X‖²  over Ŵ with the chosen zeros,
 * X (n_in, N) being the layer's inputs on N calibration samples, computed through the layers
 * already pruned and updated (so that each layer compensates for the errors before it). The
 * Hessian of that objective is H = 2 X Xᵀ (n_in, n_in), the same for every row.
 *
 * The mask comes from SparseGPT (Frantar & Alistarh 2023, "SparseGPT: Massive Language Models
 * Can Be Accurately Pruned in One-Shot", Algorithm 1): H += λI with λ = damp · mean(diag H);
 * U the upper Cholesky factor of H⁻¹ (H⁻¹ = UᵀU, through LAPACK's dpotrf/dpotri); columns in
 * blocks of B; in each block the weights with the smallest OBS saliency w_ij² / U_jj² are
 * pruned, the block's share of the layer's target count; column by column the error of the
 * pruned weights e_i = w_ij / U_jj is spread over the columns to the right,
 * W[:, j:] −= e · U[j, j:] (the OBS update δ = −w_q/[H⁻¹]_qq · H⁻¹_{:,q} restricted to the
 * columns not yet passed, which the Cholesky rows give for all rows at once).
 * Inputs that are always 0 on the calibration samples (diag H = 0) get H_jj = 1 and their
 * weights are pruned first (they change nothing).
 *
 * SparseGPT's partial updates only move the weights to the right of a pruned one, so for its
 * mask they reach the optimum only approximately. With refit (the default) every row's kept
 * weights are then set to the exact optimum for the final mask M, the normal equations of the
 * damped objective (w − ŵ)(H + λI)(w − ŵ)ᵀ with ŵ_¬M = 0:
 *   ŵ_M = w (H + λI)_{:,M} ((H + λI)_{MM})⁻¹,
 * w being the row before pruning: what OBS reaches when it removes the pruned weights one at a
 * time from the full H⁻¹ (Hassibi & Stork 1993), and what OBC (Frantar & Alistarh 2022)
 * computes row by row. With damp 0 this is the least-squares optimum of ‖W X − Ŵ X‖ itself.
 *
 * In steps (default 5): step k of K prunes to round(k·n/K) weights in all with the mask chosen as
 * above from the weights the step before refitted, and refits towards the same target, so that
 * later choices see the compensation of the earlier ones (OBC removes one weight at a time
 * for the same reason; one step is SparseGPT's one shot). On the 5-epoch Fashion-MNIST model at
 * 90% per layer, 1 step gives 80.7% and 2, 3, 5, 10 steps 82.3, 83.0, 83.0, 82.8%.
 *
 * With bias (the default) the bias takes part as the weight of an input that is always 1 (a last
 * column of ones in X, never pruned), so that the refit also sets the best bias,
 * ‖W X + b − Ŵ X − b̂‖ being minimised over Ŵ and b̂: pruning shifts the mean of a layer's
 * output, and the bias takes the shift back. Without it biases are not changed. Weights
 * already pruned stay pruned and count towards the target.
 */
#pragma once

#include <gio/gio.h>

#include "pl-dataset.h"
#include "pl-mlp.h"
#include "pl-prune.h"

G_BEGIN_DECLS

typedef struct {
  guint     calibration;  /* calibration samples (default 2048; fewer when the data hold fewer) */
  guint     block_size;   /* B, columns per block (default 128) */
  double    damp;         /* λ = damp · mean(diag H) (default 0.01) */
  gboolean  refit;        /* exact least squares for the final mask (default TRUE) */
  gboolean  bias;         /* the bias refitted as the weight of a constant input (default TRUE) */
  guint     steps;        /* prune and refit in this many steps of equal counts (default 5) */
  gboolean  match_dense;  /* the refit's target is the dense network's layer output (default
                           * TRUE), not the dense weights on the pruned inputs */
  guint64   seed;         /* the calibration samples: the first of a seeded permutation */
  GCancellable *cancellable;  /* borrowed, or NULL: checked before every column block; when
                               * cancelled the call fails with G_IO_ERROR_CANCELLED and the
                               * weights are partly pruned (prune a copy) */
  /* NULL, or called after every column block with the share of the work done, 0 … 1, rising:
   * pl_obs_prune_layer() its layer's, pl_obs_prune() the model's, each layer weighted by
   * steps · (c³ + r·c²) for its r outputs and c inputs (the inverse Cholesky factor and the
   * updates of each step) */
  void        (*progress) (double fraction, gpointer user_data);
  gpointer      progress_data;
} PlObsOptions;

#define PL_OBS_OPTIONS_INIT { 2048, 128, 0.01, TRUE, TRUE, 5, TRUE, 0, NULL, NULL, NULL }

/* Prunes one layer in place. @w (n_out, n_in) and @mask (n_out, n_in, 1 kept / 0 pruned) are
 * the layer's weights and mask, @b (n_out) its bias (NULL: not refitted, options->bias
 * unused); @x (n, n_in) its inputs on n calibration samples, row by row; @x_target (n, n_in)
 * NULL, or the inputs whose outputs W x_t (+ b) the refit matches instead of W x (+ b): the
 * refit's right-hand side is then w (2 X_tᵀ X + λI)_{:,M} (options->match_dense). Exactly n_pruned weights end up pruned (at least those pruned already: if more are, none
 * more). Fails (PL_TRAIN_ERROR_FAILED) when the damped H is not positive definite, which
 * damp > 0 rules out. */
gboolean pl_obs_prune_layer (float              *w,
                             float              *b,
                             float              *mask,
                             guint               n_out,
                             guint               n_in,
                             const float        *x,
                             const float        *x_target,
                             guint               n,
                             gsize               n_pruned,
                             const PlObsOptions *options,
                             GError            **error);

/* Prunes @model layer by layer, layer i to sparsity @sparsity[i] (round(s·n) of its weights,
 * halves to even), its calibration inputs computed from @data through the layers before it as
 * they are after pruning. @options NULL for the defaults. Then pl_mlp_apply_masks. Fails
 * (PL_SPEC_ERROR) on a sparsity outside [0, 1] or options out of range and
 * (PL_TRAIN_ERROR_MISMATCH) when data and model shapes differ. */
gboolean pl_obs_prune       (PlMlp              *model,
                             const PlDataset    *data,
                             const double       *sparsity,
                             const PlObsOptions *options,
                             GError            **error);

/* The sparsity of each layer for pl_obs_prune from a prune spec's target sparsities (not
 * thresholds; invert and structured pruning do not apply): with PL_SCOPE_LAYER its values (one
 * for every layer, or one per layer; 0 for the output layer with exclude_output); with
 * PL_SCOPE_GLOBAL the allocation of global magnitude pruning to that sparsity (pl_prune_select
 * on |w| with the spec), which OBS then reaches layer by layer with its own masks. Fails
 * (PL_SPEC_ERROR) as pl_prune_select does. */
gboolean pl_obs_layer_sparsities (const PlMlp       *model,
                                  const PlPruneSpec *spec,
                                  double            *sparsity,
                                  GError           **error);

/* ‖W X − Ŵ X‖_F² for @x (n, n_in): the reconstruction error of a layer, in double. */
double   pl_obs_layer_error (const float *w,
                             const float *w_hat,
                             guint        n_out,
                             guint        n_in,
                             const float *x,
                             guint        n);

G_END_DECLS
