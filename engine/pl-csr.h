/* pl-csr.h — a masked layer in compressed sparse rows, and its products
 *
 * A layer's weights W (n_rows, n_cols) = (n_out, n_in), row-major as in PlLayer, keep only the
 * entries whose mask is not 0 (and, when given, whose output row and input column are live):
 * row o holds the entries row_ptr[o] .. row_ptr[o + 1] − 1 of col (int32 column indices, in
 * increasing order) and val (float32 values). A kept weight whose value is 0 is stored.
 * Bytes: 4·nnz (values) + 4·nnz (indices) + 4·(n_rows + 1) (row pointers), the formula of
 * pl-metrics.h without the biases.
 *
 * The products take a batch sample-major, (n, width) as everywhere in the engine. From four
 * samples on they work on blocks of PL_CSR_BLOCK samples transposed to feature-major
 * ([feature][sample]), so that every kept weight is one axpy (or one dot) over a block's
 * contiguous samples; fewer samples are done one by one (pl_csr_mv), by rows with gathers or,
 * with the optional column copy (pl_csr_add_columns), by columns skipping the input's zeros.
 * Each block's sums run in a fixed order whatever the vector unit, so that results do not
 * depend on the machine or the thread count. With a PlTeam the blocks are shared between its
 * members.
 *
 * Scratch: every product taking @scratch needs pl_csr_scratch_floats (csr, n_threads) floats
 * (n_threads the team's size, 1 without a team).
 */
#pragma once

#include <glib.h>
#include <stdint.h>

#include "pl-team.h"

G_BEGIN_DECLS

#define PL_CSR_BLOCK 64

typedef struct {
  guint     n_rows;
  guint     n_cols;
  guint32   nnz;
  int32_t  *row_ptr;   /* owned: (n_rows + 1), row_ptr[0] = 0, row_ptr[n_rows] = nnz */
  int32_t  *col;       /* owned: (nnz) */
  float    *val;       /* owned: (nnz) */
  /* optional (pl_csr_add_columns): the same entries by column (CSC), for pl_csr_mv's input
   * skipping: column j holds col_ptr[j] .. col_ptr[j + 1] − 1 of col_row (uint16 row indices,
   * increasing) and col_val. NULL when not built. */
  int32_t  *col_ptr;   /* owned: (n_cols + 1) */
  uint16_t *col_row;   /* owned: (nnz) */
  float    *col_val;   /* owned: (nnz) */
} PlCsr;

/* The kept entries of @w (n_rows, n_cols) under @mask (same shape, 0 pruned; NULL keeps all).
 * @row_live (n_rows) and @col_live (n_cols) may be NULL; an entry in a row or column whose live
 * flag is 0 is left out (it multiplies a value that is forced to 0, or a 0). Returns NULL when
 * more than G_MAXINT32 entries are kept. (transfer full) */
PlCsr  *pl_csr_new_from_dense   (const float *w,
                                 const float *mask,
                                 const float *row_live,
                                 const float *col_live,
                                 guint        n_rows,
                                 guint        n_cols);
void    pl_csr_free             (PlCsr       *csr);
/* val ← the entries of @w (n_rows, n_cols) at the stored positions (after a training step). */
void    pl_csr_refresh_values   (PlCsr       *csr,
                                 const float *w);
/* Adds the column copy (CSC: 6·nnz + 4·(n_cols + 1) bytes more) that pl_csr_mv uses when the
 * input has zeros; FALSE (and nothing built) when n_rows > 65536, which 16-bit rows cannot
 * index. pl_csr_refresh_values keeps it current. */
gboolean pl_csr_add_columns     (PlCsr       *csr);
/* 4·nnz + 4·nnz + 4·(n_rows + 1), the CSR arrays only (not the column copy) */
gsize   pl_csr_bytes            (const PlCsr *csr);
gsize   pl_csr_scratch_floats   (const PlCsr *csr,
                                 guint        n_threads);

/* out (n_rows) = A (n_rows, n_cols) · x (n_cols), by rows or, when the column copy exists, by
 * columns skipping x's zeros, whichever the cost model below expects to be faster for this x.
 *
 * The cost model of one product (nanoseconds; fitted to the per-layer timings of 784-300-100-10
 * at 90 and 95% on the 2-core AMD EPYC (Zen 3, 2.45 GHz) with Fashion-MNIST inputs, see README):
 *   by rows     PL_CSR_NS_ROW_ENTRY · nnz + PL_CSR_NS_ROW · n_rows   (gathers, every kept weight)
 *   by columns  PL_CSR_NS_SCAN · n_cols + PL_CSR_NS_COLUMN · m + PL_CSR_NS_COL_ENTRY · e
 * where m is the number of nonzero inputs and e the kept entries in their columns (the work
 * input skipping leaves), counted exactly on each call from the list of nonzero inputs that the
 * column kernel needs anyway. */
#define PL_CSR_NS_ROW_ENTRY  0.57
#define PL_CSR_NS_ROW        7.3
#define PL_CSR_NS_SCAN       0.6
#define PL_CSR_NS_COLUMN     4.3
#define PL_CSR_NS_COL_ENTRY  0.51
/* Dense cblas_sgemv on the masked weights (n_rows, n_cols), for the caller's choice of a layer:
 * PL_CSR_NS_DENSE_WEIGHT · n_rows · n_cols + PL_CSR_NS_DENSE_CALL (the weights streamed from
 * the caches, measured beside the above). */
#define PL_CSR_NS_DENSE_WEIGHT 0.06
#define PL_CSR_NS_DENSE_CALL   50.0

void    pl_csr_mv               (float       *out,
                                 const PlCsr *csr,
                                 const float *x);

/* TRUE when pl_csr_mv on @x is expected (cost model above) to beat cblas_sgemv on the dense
 * masked (n_rows, n_cols) weights; the columns' work is estimated from the number of nonzero
 * inputs as m·nnz/n_cols, counted only when the bounds alone do not decide. */
gboolean pl_csr_mv_pays         (const PlCsr *csr,
                                 const float *x);

/* out (n, n_rows) = in (n, n_cols) · Aᵀ — the forward pass of a batch (no bias). */
void    pl_csr_mm               (float       *out,
                                 const PlCsr *csr,
                                 const float *in,
                                 guint        n,
                                 PlTeam      *team,
                                 float       *scratch);

/* out (n, n_cols) = d (n, n_rows) · A — the backward pass to the layer's input. */
void    pl_csr_mm_t             (float       *out,
                                 const PlCsr *csr,
                                 const float *d,
                                 guint        n,
                                 PlTeam      *team,
                                 float       *scratch);

/* The weight gradient at the kept positions only: for each stored entry (o, j)
 *   gw[o·n_cols + j] (+)= Σ_s d[s][o] · in[s][j],   d (n, n_rows), in (n, n_cols),
 * overwriting with @accumulate FALSE, adding otherwise. Entries of gw (n_rows, n_cols) that are
 * not stored are not touched. */
void    pl_csr_weight_grad      (float       *gw,
                                 const PlCsr *csr,
                                 const float *d,
                                 const float *in,
                                 guint        n,
                                 gboolean     accumulate,
                                 PlTeam      *team,
                                 float       *scratch);

/* pl_csr_weight_grad and pl_csr_mm_t together, on the calling thread, with each block of d
 * and of the input transposed once for both: the backward pass of a hidden layer. */
void    pl_csr_backward         (float       *gw,
                                 float       *dx,
                                 const PlCsr *csr,
                                 const float *d,
                                 const float *in,
                                 guint        n,
                                 gboolean     accumulate,
                                 float       *scratch);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PlCsr, pl_csr_free)

G_END_DECLS
