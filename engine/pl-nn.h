/* pl-nn.h — batched forward and backward passes of a PlMlp (cblas_sgemm)
 *
 * Shapes are in comments as (rows, cols), row-major. A batch's activations are sample-major
 * (n, width). Backward kernels add into gradients; callers zero them first.
 */
#pragma once

#include <glib.h>

#include "pl-mlp.h"

G_BEGIN_DECLS

/* Activations and deltas for batches of up to max_batch samples: one allocation. */
typedef struct {
  guint   max_batch;
  guint   n_layers;
  float  *block;                         /* owned: everything below points into it */
  float  *act[PL_MLP_MAX_LAYERS + 1];    /* act[0]: the batch input (borrowed or copied);
                                          * act[i]: layer i's output (n, sizes[i]), the last
                                          * one holding the softmax probabilities */
  float  *delta[2];                      /* ping-pong (n, max width) buffers of ∂L/∂z */
  float  *input;                         /* (max_batch, sizes[0]) for gathered batches */
  float  *first_out;                     /* (max_batch, sizes[1]): act[1], unless
                                          * pl_nn_forward_upper borrowed another */
  float  *first_delta;                   /* NULL, or borrowed (n, sizes[1]): the backward
                                          * passes leave the first layer's ∂L/∂z here and do
                                          * not compute its weight gradient (the trainer does,
                                          * for the whole batch, split by rows over threads) */
} PlNnWork;

PlNnWork *pl_nn_work_new   (const PlMlp *model,
                            guint        max_batch);
void      pl_nn_work_free  (PlNnWork    *work);

/* Runs the network on x (n, n_in) into work->act; returns the probabilities (n, n_out).
 * x is borrowed: act[0] = x. */
const float *pl_nn_forward (const PlMlp *model,
                            PlNnWork    *work,
                            const float *x,
                            guint        n);

/* Columns [c0, c1) of the first layer's output for x (n, n_in) into h (n, sizes[1]): the
 * same arithmetic as pl_nn_forward, so that threads can each compute their columns. Needs a
 * hidden layer. */
void      pl_nn_forward_first_columns (const PlMlp *model,
                                       const float *x,
                                       guint        n,
                                       guint        c0,
                                       guint        c1,
                                       float       *h);

/* The rest of pl_nn_forward given the first layer's output h (n, sizes[1]), borrowed as
 * work->act[1]; act[0] is unset, so a backward pass after it needs work->first_delta. */
const float *pl_nn_forward_upper      (const PlMlp *model,
                                       PlNnWork    *work,
                                       const float *h,
                                       guint        n);

/* Mean softmax cross-entropy of the probabilities after pl_nn_forward, and the number of
 * samples whose arg-max equals the label (ties go to the lowest class). */
double    pl_nn_loss       (const PlMlp   *model,
                            const PlNnWork *work,
                            const guint32 *y,
                            guint          n,
                            guint         *n_correct);

/* Adds ∂(mean cross-entropy)/∂θ for the batch of the last pl_nn_forward into grad (the layout
 * of model->params), or, with @accumulate FALSE, overwrites grad with it (no need to zero it
 * first: the training step saves a pass over the parameters that way). Gradients of pruned
 * weights are computed like the others (callers mask them). @scale multiplies the gradient:
 * 1/n for a whole batch, 1/N_total when several parts of one batch are summed. */
void      pl_nn_backward   (const PlMlp   *model,
                            PlNnWork      *work,
                            const guint32 *y,
                            guint          n,
                            float          scale,
                            gboolean       accumulate,
                            float         *grad);

/* Called by pl_nn_backward_per_sample for each layer i, from the last down to the first:
 *   delta (n, n_out)      ∂L_s/∂z of the layer's pre-activations, one row per sample s, with
 *                         L_s the cross-entropy of sample s alone (not divided by n);
 *   input (n, n_in)       the layer's input, work->act[i];
 *   grad_input (n, n_in)  ∂L_s/∂a of that input, before the activation's derivative (the
 *                         gradient with respect to layer i − 1's output); NULL for the first
 *                         layer, whose input is the data.
 * Sample s's gradient of W_oj is delta[s][o]·input[s][j], of b_o delta[s][o]. The buffers are
 * the work's and valid during the call only. */
typedef void (*PlNnLayerFunc) (guint        layer,
                               const float *delta,
                               const float *input,
                               const float *grad_input,
                               guint        n,
                               gpointer     user_data);

/* The backward pass of the batch of the last pl_nn_forward (not _upper: it needs act[0]) sample
 * by sample, for the scores that need each sample's gradient rather than the batch's sum: the
 * same arithmetic as pl_nn_backward with scale 1, but no gradient is summed; @func sees every
 * layer's per-sample deltas instead. */
void      pl_nn_backward_per_sample (const PlMlp   *model,
                                     PlNnWork      *work,
                                     const guint32 *y,
                                     guint          n,
                                     PlNnLayerFunc  func,
                                     gpointer       user_data);

/* Knowledge distillation (Hinton, Vinyals & Dean 2015, "Distilling the Knowledge in a Neural
 * Network"). The loss of sample s is
 *   (1 − α)·CE(y_s, p_s) + α·T²·KL(q_t,s ‖ q_s),   q = softmax(z / T),
 * with p the student's probabilities, z its logits and q_t the teacher's probabilities at
 * temperature T, one row of @teacher (n, n_out) per sample. Its gradient with respect to the
 * student's logits is (1 − α)(p − onehot(y)) + α·T·(q_s − q_t): the factor T² keeps the soft
 * term's gradient on the scale of the hard one as T changes. q_s is computed from p as
 * p^{1/T} / Σ p^{1/T} (p clamped at FLT_MIN). Otherwise as pl_nn_backward; α = 0 gives its
 * gradient. */
void      pl_nn_backward_distill (const PlMlp   *model,
                                  PlNnWork      *work,
                                  const guint32 *y,
                                  const float   *teacher,
                                  guint          n,
                                  double         temperature,
                                  double         alpha,
                                  float          scale,
                                  gboolean       accumulate,
                                  float         *grad);
/* The mean of that loss for the batch of the last pl_nn_forward. */
double    pl_nn_distill_loss     (const PlMlp    *model,
                                  const PlNnWork *work,
                                  const guint32  *y,
                                  const float    *teacher,
                                  guint           n,
                                  double          temperature,
                                  double          alpha);
/* q (m) ← softmax(z / T) from p (m) = softmax(z). */
void      pl_nn_soften           (float       *q,
                                  const float *p,
                                  guint        m,
                                  double       temperature);

/* The penalties of training, on weights only (biases are not decayed or pruned):
 * weight_decay/2 · Σ w² + l1 · Σ |w|. */
double    pl_nn_penalty    (const PlMlp *model,
                            double       weight_decay,
                            double       l1);

/* The elementwise steps of the passes, for the kernels that compute the products another way
 * (pl-sparse-nn.c):
 *   out (n, m), rows @stride apart ← activation(out + b) ⊙ neuron_mask, in place;
 *   out (n, m) ← softmax(out + b) row by row;
 *   d (n, m) ⊙= act'(a) ⊙ neuron_mask, the derivative written from the layer's output a. */
void      pl_nn_bias_activate       (float        *out,
                                     gsize         stride,
                                     const float  *b,
                                     const float  *neuron_mask,
                                     guint         n,
                                     guint         m,
                                     PlActivation  activation);
void      pl_nn_bias_softmax        (float        *out,
                                     const float  *b,
                                     guint         n,
                                     guint         m);
void      pl_nn_activation_backward (float        *d,
                                     const float  *a,
                                     const float  *neuron_mask,
                                     guint         n,
                                     guint         m,
                                     PlActivation  activation);

/* Plain-loop references of forward + loss + backward (the test oracle), in double. */
double    pl_nn_loss_ref      (const PlMlp   *model,
                               const float   *x,
                               const guint32 *y,
                               guint          n);
void      pl_nn_backward_ref  (const PlMlp   *model,
                               const float   *x,
                               const guint32 *y,
                               guint          n,
                               double        *grad);

/* The distillation loss above in double, from plain loops (the test oracle). */
double    pl_nn_distill_loss_ref (const PlMlp   *model,
                                  const float   *x,
                                  const guint32 *y,
                                  const float   *teacher,
                                  guint          n,
                                  double         temperature,
                                  double         alpha);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PlNnWork, pl_nn_work_free)

G_END_DECLS
