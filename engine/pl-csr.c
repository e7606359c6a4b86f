#define G_LOG_DOMAIN "pl-csr"

#include "config.h"

#include <string.h>

#include "pl-csr.h"
#include "pl-simd.h"

#define B      PL_CSR_BLOCK
#define LANES  16     /* partial sums of a dot product, summed in a fixed order at the end */
#define FEW    4      /* batches below this many samples are done sample by sample */

PlCsr *
pl_csr_new_from_dense (const float *w,
                       const float *mask,
                       const float *row_live,
                       const float *col_live,
                       guint        n_rows,
                       guint        n_cols)
{
  g_autoptr(PlCsr) csr = NULL;
  guint64 nnz = 0;
  guint32 k = 0;

  g_return_val_if_fail (w != NULL || (gsize) n_rows * n_cols == 0, NULL);
  g_return_val_if_fail (n_cols <= G_MAXINT32, NULL);

  for (guint o = 0; o < n_rows; o++)
    {
      if (row_live != NULL && row_live[o] == 0.0f)
        continue;
      for (guint j = 0; j < n_cols; j++)
        nnz += (mask == NULL || mask[(gsize) o * n_cols + j] != 0.0f)
               && (col_live == NULL || col_live[j] != 0.0f);
    }
  if (nnz > G_MAXINT32)
    return NULL;

  csr = g_new0 (PlCsr, 1);
  csr->n_rows = n_rows;
  csr->n_cols = n_cols;
  csr->nnz = (guint32) nnz;
  csr->row_ptr = g_new (int32_t, (gsize) n_rows + 1);
  csr->col = g_new (int32_t, MAX (nnz, 1));
  csr->val = g_new (float, MAX (nnz, 1));

  for (guint o = 0; o < n_rows; o++)
    {
      csr->row_ptr[o] = (int32_t) k;
      if (row_live != NULL && row_live[o] == 0.0f)
        continue;
      for (guint j = 0; j < n_cols; j++)
        {
          gsize at = (gsize) o * n_cols + j;

          if ((mask == NULL || mask[at] != 0.0f) && (col_live == NULL || col_live[j] != 0.0f))
            {
              csr->col[k] = (int32_t) j;
              csr->val[k] = w[at];
              k++;
            }
        }
    }
  csr->row_ptr[n_rows] = (int32_t) k;
  g_assert (k == nnz);

  return g_steal_pointer (&csr);
}

void
pl_csr_free (PlCsr *csr)
{
  if (csr == NULL)
    return;

  g_free (csr->row_ptr);
  g_free (csr->col);
  g_free (csr->val);
  g_free (csr);
}

void
pl_csr_refresh_values (PlCsr       *csr,
                       const float *w)
{
  g_return_if_fail (csr != NULL);

  for (guint o = 0; o < csr->n_rows; o++)
    {
      const float *row = w + (gsize) o * csr->n_cols;

      for (int32_t k = csr->row_ptr[o]; k < csr->row_ptr[o + 1]; k++)
        csr->val[k] = row[csr->col[k]];
    }
}

gsize
pl_csr_bytes (const PlCsr *csr)
{
  return (sizeof (float) + sizeof (int32_t)) * (gsize) csr->nnz
         + sizeof (int32_t) * ((gsize) csr->n_rows + 1);
}

gsize
pl_csr_scratch_floats (const PlCsr *csr,
                       guint        n_threads)
{
  return (gsize) MAX (n_threads, 1) * B * ((gsize) csr->n_rows + csr->n_cols);
}

/* ---- one sample ---- */

/* Σ_k val[k]·x[col[k]] over one row, in LANES partial sums */
static inline __attribute__((always_inline)) float
row_dot (const float   *restrict val,
         const int32_t *restrict col,
         int32_t                 n,
         const float   *restrict x)
{
  float part[LANES] = { 0 };
  float sum = 0.0f;
  int32_t k = 0;

  for (; k + LANES <= n; k += LANES)
    for (guint j = 0; j < LANES; j++)
      part[j] += val[k + j] * x[col[k + j]];
  for (; k < n; k++)
    part[0] += val[k] * x[col[k]];
  for (guint j = 0; j < LANES; j++)
    sum += part[j];

  return sum;
}

PL_TARGET_CLONES void
pl_csr_mv (float       *out,
           const PlCsr *csr,
           const float *x)
{
  for (guint o = 0; o < csr->n_rows; o++)
    {
      int32_t k0 = csr->row_ptr[o];

      out[o] = row_dot (csr->val + k0, csr->col + k0, csr->row_ptr[o + 1] - k0, x);
    }
}

/* out (n_cols) = dᵀA for one sample: a scatter of every kept row */
PL_TARGET_CLONES static void
mv_t (float       *restrict out,
      const PlCsr *csr,
      const float *restrict d)
{
  memset (out, 0, sizeof (float) * csr->n_cols);
  for (guint o = 0; o < csr->n_rows; o++)
    {
      float v = d[o];

      if (v == 0.0f)
        continue;
      for (int32_t k = csr->row_ptr[o]; k < csr->row_ptr[o + 1]; k++)
        out[csr->col[k]] += csr->val[k] * v;
    }
}

/* ---- blocks of B samples, feature-major ---- */

/* t (m, B) ← rows s0 … s0 + bn − 1 of a (·, m) transposed, the columns past bn zero */
static void
to_block (float       *restrict t,
          const float *restrict a,
          guint                 m,
          guint                 s0,
          guint                 bn)
{
  if (bn < B)
    memset (t, 0, sizeof (float) * B * m);
  for (guint s = 0; s < bn; s++)
    {
      const float *row = a + (gsize) (s0 + s) * m;

      for (guint j = 0; j < m; j++)
        t[(gsize) j * B + s] = row[j];
    }
}

/* out rows s0 … s0 + bn − 1 (·, m) ← t (m, B) transposed */
static void
from_block (float       *restrict out,
            const float *restrict t,
            guint                 m,
            guint                 s0,
            guint                 bn)
{
  for (guint s = 0; s < bn; s++)
    {
      float *row = out + (gsize) (s0 + s) * m;

      for (guint j = 0; j < m; j++)
        row[j] = t[(gsize) j * B + s];
    }
}

/* outT (n_rows, B) = A · inT (n_cols, B): per row, one axpy per kept weight */
PL_TARGET_CLONES static void
block_mm (float       *restrict outT,
          const PlCsr *csr,
          const float *restrict inT)
{
  for (guint o = 0; o < csr->n_rows; o++)
    {
      float acc[B] = { 0 };

      for (int32_t k = csr->row_ptr[o]; k < csr->row_ptr[o + 1]; k++)
        {
          const float *restrict src = inT + (gsize) csr->col[k] * B;
          float v = csr->val[k];

          for (guint s = 0; s < B; s++)
            acc[s] += v * src[s];
        }
      memcpy (outT + (gsize) o * B, acc, sizeof acc);
    }
}

/* outT (n_cols, B) = Aᵀ · dT (n_rows, B): per kept weight, one axpy into its column */
PL_TARGET_CLONES static void
block_mm_t (float       *restrict outT,
            const PlCsr *csr,
            const float *restrict dT)
{
  memset (outT, 0, sizeof (float) * B * csr->n_cols);
  for (guint o = 0; o < csr->n_rows; o++)
    {
      const float *restrict src = dT + (gsize) o * B;

      for (int32_t k = csr->row_ptr[o]; k < csr->row_ptr[o + 1]; k++)
        {
          float *restrict dst = outT + (gsize) csr->col[k] * B;
          float v = csr->val[k];

          for (guint s = 0; s < B; s++)
            dst[s] += v * src[s];
        }
    }
}

/* g[k] (+)= dT[o] · inT[col[k]] over B samples, for the kept entries of rows [r0, r1) */
PL_TARGET_CLONES static void
block_grad (float       *restrict gw,
            const PlCsr *csr,
            const float *restrict dT,
            const float *restrict inT,
            guint                 r0,
            guint                 r1,
            gboolean              add)
{
  for (guint o = r0; o < r1; o++)
    {
      const float *restrict a = dT + (gsize) o * B;
      float *restrict grow = gw + (gsize) o * csr->n_cols;

      for (int32_t k = csr->row_ptr[o]; k < csr->row_ptr[o + 1]; k++)
        {
          const float *restrict b = inT + (gsize) csr->col[k] * B;
          float part[LANES] = { 0 };
          float sum = 0.0f;

          for (guint s = 0; s < B; s += LANES)
            for (guint j = 0; j < LANES; j++)
              part[j] += a[s + j] * b[s + j];
          for (guint j = 0; j < LANES; j++)
            sum += part[j];
          grow[csr->col[k]] = add ? grow[csr->col[k]] + sum : sum;
        }
    }
}

/* ---- the batch products, shared between a team's members ---- */

typedef enum { OP_MM, OP_MM_T, OP_GRAD } Op;

typedef struct {
  Op           op;
  const PlCsr *csr;
  float       *out;
  const float *a;       /* in (mm), d (mm_t, grad) */
  const float *b;       /* in (grad) */
  guint        n;
  gboolean     accumulate;
  float       *scratch;
} Job;

static void
job_func (guint    index,
          guint    n_threads,
          gpointer data)
{
  const Job *job = data;
  const PlCsr *csr = job->csr;
  guint nb = (job->n + B - 1) / B;
  float *t1 = job->scratch + (gsize) index * B * ((gsize) csr->n_rows + csr->n_cols);
  float *t2 = t1 + (gsize) B * csr->n_cols;   /* (n_rows, B) after (n_cols, B) */

  if (job->op == OP_GRAD)
    {
      /* each member its rows, over every block in order */
      guint r0 = (guint) ((guint64) csr->n_rows * index / n_threads);
      guint r1 = (guint) ((guint64) csr->n_rows * (index + 1) / n_threads);

      if (r0 == r1)
        return;
      for (guint blk = 0; blk < nb; blk++)
        {
          guint s0 = blk * B, bn = MIN (B, job->n - s0);

          to_block (t1, job->b, csr->n_cols, s0, bn);
          to_block (t2, job->a, csr->n_rows, s0, bn);
          block_grad (job->out, csr, t2, t1, r0, r1, job->accumulate || blk > 0);
        }
      return;
    }

  for (guint blk = (guint) ((guint64) nb * index / n_threads);
       blk < (guint) ((guint64) nb * (index + 1) / n_threads); blk++)
    {
      guint s0 = blk * B, bn = MIN (B, job->n - s0);

      if (job->op == OP_MM)
        {
          to_block (t1, job->a, csr->n_cols, s0, bn);
          block_mm (t2, csr, t1);
          from_block (job->out, t2, csr->n_rows, s0, bn);
        }
      else
        {
          to_block (t2, job->a, csr->n_rows, s0, bn);
          block_mm_t (t1, csr, t2);
          from_block (job->out, t1, csr->n_cols, s0, bn);
        }
    }
}

static void
run_job (Job    *job,
         PlTeam *team)
{
  if (team != NULL && pl_team_size (team) > 1)
    pl_team_run (team, job_func, job);
  else
    job_func (0, 1, job);
}

void
pl_csr_mm (float       *out,
           const PlCsr *csr,
           const float *in,
           guint        n,
           PlTeam      *team,
           float       *scratch)
{
  Job job = { OP_MM, csr, out, in, NULL, n, FALSE, scratch };

  g_return_if_fail (csr != NULL && (n == 0 || (out != NULL && in != NULL)));

  if (n < FEW)
    {
      for (guint s = 0; s < n; s++)
        pl_csr_mv (out + (gsize) s * csr->n_rows, csr, in + (gsize) s * csr->n_cols);
      return;
    }
  run_job (&job, team);
}

void
pl_csr_mm_t (float       *out,
             const PlCsr *csr,
             const float *d,
             guint        n,
             PlTeam      *team,
             float       *scratch)
{
  Job job = { OP_MM_T, csr, out, d, NULL, n, FALSE, scratch };

  g_return_if_fail (csr != NULL && (n == 0 || (out != NULL && d != NULL)));

  if (n < FEW)
    {
      for (guint s = 0; s < n; s++)
        mv_t (out + (gsize) s * csr->n_cols, csr, d + (gsize) s * csr->n_rows);
      return;
    }
  run_job (&job, team);
}

void
pl_csr_weight_grad (float       *gw,
                    const PlCsr *csr,
                    const float *d,
                    const float *in,
                    guint        n,
                    gboolean     accumulate,
                    PlTeam      *team,
                    float       *scratch)
{
  Job job = { OP_GRAD, csr, gw, d, in, n, accumulate, scratch };

  g_return_if_fail (csr != NULL && (csr->nnz == 0 || gw != NULL));

  if (n < FEW)
    {
      for (guint o = 0; o < csr->n_rows; o++)
        for (int32_t k = csr->row_ptr[o]; k < csr->row_ptr[o + 1]; k++)
          {
            gsize at = (gsize) o * csr->n_cols + csr->col[k];
            float sum = 0.0f;

            for (guint s = 0; s < n; s++)
              sum += d[(gsize) s * csr->n_rows + o] * in[(gsize) s * csr->n_cols + csr->col[k]];
            gw[at] = accumulate ? gw[at] + sum : sum;
          }
      return;
    }
  run_job (&job, team);
}
