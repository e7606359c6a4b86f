/* pl-latency.h — measured inference latency of a pruned model: dense, CSR and compacted
 *
 * Three ways to run the same masked network forward (biases, activations and the final
 * softmax included, identical in all three):
 *   dense      cblas_sgemv (one sample) or cblas_sgemm (a batch) on the masked weights, the way
 *              a pruned model runs when only a mask is kept (torch.nn.utils.prune);
 *   CSR        every layer's effective weights (kept, between live neurons) in CSR (pl-csr.h):
 *              pl_csr_mm for a batch; for one sample, per layer and call as pl-csr.h's cost
 *              model picks: pl_csr_mv (by rows with gathers, or by columns skipping the
 *              input's zeros), or sgemv on the masked weights for a layer left dense-ish;
 *   compacted  the dense network without its dead neurons (pl-compact.h), by sgemv / sgemm.
 * Each is checked against the dense output first (pl_latency_measure fails when one differs by
 * more than 1e-4 of the largest output), then timed: rounds of the three, interleaved so that
 * load from other processes falls on all alike, each sample long enough to time (repeated
 * until ≥ 2 ms), and the median per forward reported.
 *
 * Figures per forward of a batch of n samples (pl-metrics.h's formulas):
 *   FLOPs  2 per multiply-add: dense n·2·Σ n_out·n_in, CSR n·2·effective, compacted
 *          n·2·Σ rows·cols;
 *   bytes  dense with mask 4·Σ (2·n_out·n_in + n_out) (float32 weights, a float32 0/1 mask as
 *          torch.nn.utils.prune and PruneLab's files keep it, biases), CSR bytes_csr, compacted
 *          bytes_compact.
 */
#pragma once

#include <gio/gio.h>

#include "pl-mlp.h"

G_BEGIN_DECLS

typedef enum {
  PL_FORWARD_DENSE,
  PL_FORWARD_CSR,
  PL_FORWARD_COMPACT,
  PL_N_FORWARDS
} PlForwardKind;

typedef struct {
  guint   batch;
  guint   threads;
  double  ms[PL_N_FORWARDS];      /* median milliseconds per forward of the batch */
  double  flops[PL_N_FORWARDS];   /* per forward of the batch */
  double  bytes[PL_N_FORWARDS];
  double  worst_difference;       /* of CSR and compacted outputs to dense, relative */
  guint   rounds;
} PlLatency;

/* "dense", "csr", "compacted" */
const char  *pl_forward_kind_to_string (PlForwardKind kind);

typedef struct _PlForwards PlForwards;

/* The three forms of @model (borrowed while the PlForwards lives; its masks applied), for up
 * to @max_batch samples, run with @threads threads (OpenBLAS's, and a PlTeam for CSR batches).
 * (transfer full) */
PlForwards  *pl_forwards_new     (const PlMlp   *model,
                                  guint          max_batch,
                                  guint          threads);
void         pl_forwards_free    (PlForwards    *self);

/* Runs one forward of the first @n samples of @x (n, n_in) the way @kind does; returns the
 * probabilities (n, n_out), valid until the next call. (transfer none) */
const float *pl_forwards_run     (PlForwards    *self,
                                  PlForwardKind  kind,
                                  const float   *x,
                                  guint          n);

/* The inputs pl_latency_measure times on: a copy of the first @n samples of @x (n, n_in), e.g.
 * a dataset's test images, whose zeros (the pixels of the background) the CSR column form
 * skips as it would in use. Without it the inputs are uniform in [0, 1), which have no zeros. */
void         pl_forwards_set_inputs (PlForwards  *self,
                                     const float *x,
                                     guint        n);
/* Checks and times the three on batches of @batch inputs (pl_forwards_set_inputs, or random),
 * @rounds rounds (≥ 1); successive forwards take successive samples, cycling through them, so
 * that no form is timed on one input it may have learnt (branch predictors do).
 * Fails with G_IO_ERROR_CANCELLED, or PL_TRAIN_ERROR_FAILED when a form's outputs differ. */
gboolean     pl_latency_measure  (PlForwards    *self,
                                  guint          batch,
                                  guint          rounds,
                                  PlLatency     *result,
                                  GCancellable  *cancellable,
                                  GError       **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PlForwards, pl_forwards_free)

G_END_DECLS
