#define G_LOG_DOMAIN "pl-csr"

#include "config.h"

#include <string.h>

/* Under AddressSanitizer the batch-1 product takes the portable loop, whose loads ASan checks
 * (it cannot see inside a gather). */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__SANITIZE_ADDRESS__)
# include <immintrin.h>
# define HAVE_GATHER 1
#endif

#include "pl-csr.h"
#include "pl-simd.h"

#define B      PL_CSR_BLOCK
#define LANES  16     /* partial sums of a dot product, summed in a fixed order at the end */
#define FEW    4      /* batches below this many samples are done sample by sample */

/* 16 floats, loaded and stored at any float alignment. Written with GCC's vector extensions so
 * that each block loop is 4 vector operations per kept weight whatever the clone (4 × 4 on
 * SSE2, 2 × 8 on AVX2, 1 × 16 on AVX-512): left to itself, -O3 unrolls and jams the weight loop
 * into scalar code. */
typedef float V16 __attribute__((vector_size (64), aligned (4)));

typedef float V8 __attribute__((vector_size (32)));
typedef float V4 __attribute__((vector_size (16)));

/* The lanes' sum as a tree, the same on every vector unit: lanes j and j + 8 first, then
 * j + 4, j + 2, j + 1. By pointer: a 64-byte vector passed by value changes the ABI between
 * the AVX2 and AVX-512 clones (clang refuses it). */
static inline float
hsum16 (const V16 *pv)
{
  V16 v = *pv;
  V8 h = __builtin_shufflevector (v, v, 0, 1, 2, 3, 4, 5, 6, 7)
         + __builtin_shufflevector (v, v, 8, 9, 10, 11, 12, 13, 14, 15);
  V4 q = __builtin_shufflevector (h, h, 0, 1, 2, 3) + __builtin_shufflevector (h, h, 4, 5, 6, 7);

  return (q[0] + q[2]) + (q[1] + q[3]);
}

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
  g_free (csr->col_ptr);
  g_free (csr->col_row);
  g_free (csr->col_val);
  g_free (csr);
}

/* col_row and col_val from the rows: row by row, so that each column's rows increase */
static void
fill_columns (PlCsr *csr)
{
  g_autofree int32_t *next = g_memdup2 (csr->col_ptr, sizeof (int32_t) * ((gsize) csr->n_cols + 1));

  for (guint o = 0; o < csr->n_rows; o++)
    for (int32_t k = csr->row_ptr[o]; k < csr->row_ptr[o + 1]; k++)
      {
        int32_t at = next[csr->col[k]]++;

        csr->col_row[at] = (uint16_t) o;
        csr->col_val[at] = csr->val[k];
      }
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
  if (csr->col_ptr != NULL)
    fill_columns (csr);
}

gboolean
pl_csr_add_columns (PlCsr *csr)
{
  g_return_val_if_fail (csr != NULL, FALSE);

  if (csr->col_ptr != NULL)
    return TRUE;
  if (csr->n_rows > G_MAXUINT16 + 1u)
    return FALSE;

  csr->col_ptr = g_new0 (int32_t, (gsize) csr->n_cols + 1);
  for (guint32 k = 0; k < csr->nnz; k++)
    csr->col_ptr[csr->col[k] + 1]++;
  for (guint j = 0; j < csr->n_cols; j++)
    csr->col_ptr[j + 1] += csr->col_ptr[j];
  csr->col_row = g_new (uint16_t, MAX (csr->nnz, 1));
  csr->col_val = g_new (float, MAX (csr->nnz, 1));
  fill_columns (csr);

  return TRUE;
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
  /* per thread: an input block, an output block and one more input-sized block for
   * pl_csr_backward */
  return (gsize) MAX (n_threads, 1) * B * ((gsize) csr->n_rows + 2 * (gsize) csr->n_cols);
}

/* ---- one sample ---- */

/* out[o] = Σ_k val[k]·x[col[k]] over row o, in LANES partial sums: lane j takes the row's
 * entries j, j + 16, j + 32, …, and the lanes are summed by hsum16's tree — the order of every
 * version below. This one, for machines without gathers, keeps the sums unrolled; on the Zen 4
 * development machine it takes 0.9–1.1 ns per kept weight, the AVX-512 gathers about 0.6. */
static void
mv_default (float       *out,
            const PlCsr *csr,
            const float *x)
{
  const float *restrict val = csr->val;
  const int32_t *restrict col = csr->col;

  for (guint o = 0; o < csr->n_rows; o++)
    {
      int32_t k = csr->row_ptr[o], end = csr->row_ptr[o + 1];
      float p[LANES] = { 0 };
      V16 v;

      for (; k + LANES <= end; k += LANES)
        {
#define T(j) p[j] += val[k + j] * x[col[k + j]]
          T (0); T (1); T (2); T (3); T (4); T (5); T (6); T (7);
          T (8); T (9); T (10); T (11); T (12); T (13); T (14); T (15);
#undef T
        }
      for (guint j = 0; k < end; k++, j++)
        p[j] += val[k] * x[col[k]];
      memcpy (&v, p, sizeof v);
      out[o] = hsum16 (&v);
    }
}

#ifdef HAVE_GATHER
/* The same sums with the vector unit's gathers, the last group of a row masked. */
__attribute__((target ("avx512f"))) static void
mv_avx512 (float       *out,
           const PlCsr *csr,
           const float *x)
{
  for (guint o = 0; o < csr->n_rows; o++)
    {
      int32_t k = csr->row_ptr[o], end = csr->row_ptr[o + 1];
      __m512 acc = _mm512_setzero_ps ();
      float part[LANES];
      V16 v;

      for (; k + LANES <= end; k += LANES)
        {
          __m512i idx = _mm512_loadu_si512 ((const void *) (csr->col + k));
          __m512 xv = _mm512_i32gather_ps (idx, x, 4);

          acc = _mm512_add_ps (acc, _mm512_mul_ps (_mm512_loadu_ps (csr->val + k), xv));
        }
      if (k < end)
        {
          __mmask16 m = (__mmask16) ((1u << (end - k)) - 1);
          __m512i idx = _mm512_maskz_loadu_epi32 (m, csr->col + k);
          __m512 xv = _mm512_mask_i32gather_ps (_mm512_setzero_ps (), m, idx, x, 4);

          acc = _mm512_add_ps (acc, _mm512_mul_ps (_mm512_maskz_loadu_ps (m, csr->val + k), xv));
        }
      _mm512_storeu_ps (part, acc);
      memcpy (&v, part, sizeof v);
      out[o] = hsum16 (&v);
    }
}

__attribute__((target ("avx2"))) static void
mv_avx2 (float       *out,
         const PlCsr *csr,
         const float *x)
{
  for (guint o = 0; o < csr->n_rows; o++)
    {
      int32_t k = csr->row_ptr[o], end = csr->row_ptr[o + 1];
      __m256 lo = _mm256_setzero_ps (), hi = _mm256_setzero_ps ();
      float part[LANES];
      V16 v;

      for (; k + LANES <= end; k += LANES)
        {
          __m256i i0 = _mm256_loadu_si256 ((const __m256i *) (csr->col + k));
          __m256i i1 = _mm256_loadu_si256 ((const __m256i *) (csr->col + k + 8));

          lo = _mm256_add_ps (lo, _mm256_mul_ps (_mm256_loadu_ps (csr->val + k),
                                                 _mm256_i32gather_ps (x, i0, 4)));
          hi = _mm256_add_ps (hi, _mm256_mul_ps (_mm256_loadu_ps (csr->val + k + 8),
                                                 _mm256_i32gather_ps (x, i1, 4)));
        }
      if (k < end)
        {
          static const int32_t ramp[16] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };
          __m256i r = _mm256_set1_epi32 (end - k);
          __m256i m0 = _mm256_cmpgt_epi32 (r, _mm256_loadu_si256 ((const __m256i *) ramp));
          __m256i m1 = _mm256_cmpgt_epi32 (r, _mm256_loadu_si256 ((const __m256i *) (ramp + 8)));
          __m256i i0 = _mm256_maskload_epi32 (csr->col + k, m0);
          __m256i i1 = _mm256_maskload_epi32 (csr->col + k + 8, m1);
          __m256 z = _mm256_setzero_ps ();

          lo = _mm256_add_ps (lo, _mm256_mul_ps (_mm256_maskload_ps (csr->val + k, m0),
                                                 _mm256_mask_i32gather_ps (z, x, i0, _mm256_castsi256_ps (m0), 4)));
          hi = _mm256_add_ps (hi, _mm256_mul_ps (_mm256_maskload_ps (csr->val + k + 8, m1),
                                                 _mm256_mask_i32gather_ps (z, x, i1, _mm256_castsi256_ps (m1), 4)));
        }
      _mm256_storeu_ps (part, lo);
      _mm256_storeu_ps (part + 8, hi);
      memcpy (&v, part, sizeof v);
      out[o] = hsum16 (&v);
    }
}
#endif

/* out = A·x by columns over the nonzero inputs @nz (m of them, increasing): out[row] +=
 * val·x[j] over column j's kept entries, the columns in increasing order (a fixed order, and no
 * vector code: the same result on every machine). Skipping x[j] = 0 changes no sum of finite
 * weights: its terms are ±0. On the EPYC a processed entry costs about 0.5 ns and a column
 * about 4 (a fit of per-layer timings: this VM exposes no hardware counters to say where it
 * goes). Ordering the columns by length (predictable loop exits), two columns at once,
 * prefetching the next columns, fixed blocks of 4 entries, two output copies for alternate
 * columns and 8-row vector tiles (1.3 kept weights per tile at 90%) were each measured no
 * faster, most slower; listing the nonzero inputs with AVX2 (compare, movemask, a table of
 * offsets) saved under 0.1 µs of a 9 µs forward. */
static void
mv_columns (float         *restrict out,
            const PlCsr   *csr,
            const float   *restrict x,
            const guint32 *restrict nz,
            guint          m)
{
  const int32_t *restrict ptr = csr->col_ptr;
  const uint16_t *restrict row = csr->col_row;
  const float *restrict val = csr->col_val;

  memset (out, 0, sizeof (float) * csr->n_rows);
  for (guint i = 0; i < m; i++)
    {
      guint j = nz[i];
      float xj = x[j];
      int32_t k = ptr[j], end = ptr[j + 1];

      for (; k + 4 <= end; k += 4)
        {
          out[row[k]] += val[k] * xj;
          out[row[k + 1]] += val[k + 1] * xj;
          out[row[k + 2]] += val[k + 2] * xj;
          out[row[k + 3]] += val[k + 3] * xj;
        }
      for (; k < end; k++)
        out[row[k]] += val[k] * xj;
    }
}

/* nz ← the indices of x's nonzero entries, in increasing order, without branches; their number */
static guint
list_nonzero (guint32     *restrict nz,
              const float *restrict x,
              guint                 n)
{
  guint m = 0;

  for (guint j = 0; j < n; j++)
    {
      nz[m] = j;
      m += x[j] != 0.0f;
    }
  return m;
}

#define NZ_STACK 4096   /* inputs listed on the stack; wider layers allocate */

typedef void (*MvFunc) (float *, const PlCsr *, const float *);

/* Picked once; not an ifunc, which ThreadSanitizer cannot run (pl-simd.h). */
static MvFunc
pick_mv (void)
{
#ifdef HAVE_GATHER
  __builtin_cpu_init ();
  if (__builtin_cpu_supports ("avx512f"))
    return mv_avx512;
  if (__builtin_cpu_supports ("avx2"))
    return mv_avx2;
#endif
  return mv_default;
}

static MvFunc
get_mv (void)
{
  static MvFunc mv = NULL;
  MvFunc f = g_atomic_pointer_get (&mv);

  if (f == NULL)
    {
      f = pick_mv ();
      g_atomic_pointer_set (&mv, f);
    }
  return f;
}

void
pl_csr_mv (float       *out,
           const PlCsr *csr,
           const float *x)
{
  guint32 stack[NZ_STACK];
  g_autofree guint32 *heap = NULL;
  guint32 *nz = stack;
  double by_rows, by_cols;
  gsize e = 0;
  guint m;

  if (csr->col_ptr == NULL)
    {
      get_mv () (out, csr, x);
      return;
    }
  if (csr->n_cols > NZ_STACK)
    nz = heap = g_new (guint32, csr->n_cols);
  m = list_nonzero (nz, x, csr->n_cols);
  for (guint i = 0; i < m; i++)
    e += (gsize) (csr->col_ptr[nz[i] + 1] - csr->col_ptr[nz[i]]);
  by_rows = PL_CSR_NS_ROW_ENTRY * csr->nnz + PL_CSR_NS_ROW * csr->n_rows;
  by_cols = PL_CSR_NS_SCAN * csr->n_cols + PL_CSR_NS_COLUMN * m + PL_CSR_NS_COL_ENTRY * (double) e;
  if (by_cols <= by_rows)
    mv_columns (out, csr, x, nz, m);
  else
    get_mv () (out, csr, x);
}

gboolean
pl_csr_mv_pays (const PlCsr *csr,
                const float *x)
{
  double dense = PL_CSR_NS_DENSE_WEIGHT * csr->n_rows * csr->n_cols + PL_CSR_NS_DENSE_CALL;
  double by_rows = PL_CSR_NS_ROW_ENTRY * csr->nnz + PL_CSR_NS_ROW * csr->n_rows;
  double by_cols;
  guint m = 0;

  if (by_rows < dense)
    return TRUE;
  if (csr->col_ptr == NULL || PL_CSR_NS_SCAN * csr->n_cols >= dense)
    return FALSE;
  for (guint j = 0; j < csr->n_cols; j++)
    m += x[j] != 0.0f;
  by_cols = PL_CSR_NS_SCAN * csr->n_cols + PL_CSR_NS_COLUMN * m
            + PL_CSR_NS_COL_ENTRY * (double) csr->nnz * m / MAX (csr->n_cols, 1);
  return by_cols < dense;
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
  const float *rows = a + (gsize) s0 * m;

  if (bn < B)
    memset (t, 0, sizeof (float) * B * m);
  /* in tiles of 16 features: 16 contiguous floats read from each row, written to 16 rows of
   * the block that stay in L1 */
  for (guint j0 = 0; j0 < m; j0 += 16)
    {
      guint j1 = MIN (j0 + 16, m);

      for (guint s = 0; s < bn; s++)
        {
          const float *src = rows + (gsize) s * m;

          for (guint j = j0; j < j1; j++)
            t[(gsize) j * B + s] = src[j];
        }
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
  float *rows = out + (gsize) s0 * m;

  for (guint j0 = 0; j0 < m; j0 += 16)
    {
      guint j1 = MIN (j0 + 16, m);

      for (guint s = 0; s < bn; s++)
        {
          float *dst = rows + (gsize) s * m;

          for (guint j = j0; j < j1; j++)
            dst[j] = t[(gsize) j * B + s];
        }
    }
}

/* The block kernels work in 8-float vectors, 8 of them to a block's 64 samples: the vector unit's
 * own width on AVX2 (two SSE2 registers each on the default copy, one half of a register on
 * AVX-512). A 64-byte vector type left GCC to build each broadcast weight through the stack
 * on AVX2, 30× slower than these loops. Each sample's sums run in the same order in every copy. */
typedef float V8u __attribute__((vector_size (32), aligned (4)));

G_STATIC_ASSERT (B == 8 * 8);

#define SPLAT8(v) ((V8) { (v), (v), (v), (v), (v), (v), (v), (v) })
#define FOR8(X) X (0) X (1) X (2) X (3) X (4) X (5) X (6) X (7)

/* outT (n_rows, B) = A · inT (n_cols, B): per row, one axpy per kept weight */
PL_TARGET_CLONES static void
block_mm (float       *restrict outT,
          const PlCsr *csr,
          const float *restrict inT)
{
  for (guint o = 0; o < csr->n_rows; o++)
    {
      V8 a0 = { 0 }, a1 = { 0 }, a2 = { 0 }, a3 = { 0 }, a4 = { 0 }, a5 = { 0 }, a6 = { 0 }, a7 = { 0 };
      V8u *dst = (V8u *) (outT + (gsize) o * B);

      for (int32_t k = csr->row_ptr[o]; k < csr->row_ptr[o + 1]; k++)
        {
          const V8u *src = (const V8u *) (inT + (gsize) csr->col[k] * B);
          V8 v = SPLAT8 (csr->val[k]);

#define AXPY(i) a##i += v * src[i];
          FOR8 (AXPY)
#undef AXPY
        }
#define STORE(i) dst[i] = a##i;
      FOR8 (STORE)
#undef STORE
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
      const V8u *src = (const V8u *) (dT + (gsize) o * B);
#define LOAD(i) V8 s##i = src[i];
      FOR8 (LOAD)
#undef LOAD

      for (int32_t k = csr->row_ptr[o]; k < csr->row_ptr[o + 1]; k++)
        {
          V8u *dst = (V8u *) (outT + (gsize) csr->col[k] * B);
          V8 v = SPLAT8 (csr->val[k]);

#define AXPY(i) dst[i] += v * s##i;
          FOR8 (AXPY)
#undef AXPY
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
      const V8u *a = (const V8u *) (dT + (gsize) o * B);
#define LOAD(i) V8 d##i = a[i];
      FOR8 (LOAD)
#undef LOAD
      float *restrict grow = gw + (gsize) o * csr->n_cols;

      for (int32_t k = csr->row_ptr[o]; k < csr->row_ptr[o + 1]; k++)
        {
          const V8u *b = (const V8u *) (inT + (gsize) csr->col[k] * B);
          /* lane j of the 16 sums samples j, j + 16, j + 32, j + 48, in that order: lo holds
           * lanes 0–7 (vectors 0, 2, 4, 6), hi lanes 8–15; hsum16 adds them as lanes j, j + 8 */
          V8 lo = d0 * b[0], hi = d1 * b[1];
          V16 part;
          float sum;

          lo += d2 * b[2];
          hi += d3 * b[3];
          lo += d4 * b[4];
          hi += d5 * b[5];
          lo += d6 * b[6];
          hi += d7 * b[7];
          memcpy (&part, &lo, sizeof lo);
          memcpy ((char *) &part + sizeof lo, &hi, sizeof hi);
          sum = hsum16 (&part);
          grow[csr->col[k]] = add ? grow[csr->col[k]] + sum : sum;
        }
    }
}

#undef FOR8
#undef SPLAT8

/* ---- the batch products, shared between a team's members ---- */

typedef enum { OP_MM, OP_MM_T, OP_GRAD, OP_BACKWARD } Op;

typedef struct {
  Op           op;
  const PlCsr *csr;
  float       *out;
  const float *a;       /* in (mm), d (mm_t, grad) */
  const float *b;       /* in (grad) */
  guint        n;
  gboolean     accumulate;
  float       *scratch;
  float       *out2;    /* dx (backward) */
} Job;

static void
job_func (guint    index,
          guint    n_threads,
          gpointer data)
{
  const Job *job = data;
  const PlCsr *csr = job->csr;
  guint nb = (job->n + B - 1) / B;
  float *t1 = job->scratch + (gsize) index * pl_csr_scratch_floats (csr, 1);
  float *t2 = t1 + (gsize) B * csr->n_cols;   /* (n_rows, B) after (n_cols, B) */
  float *t3 = t2 + (gsize) B * csr->n_rows;   /* (n_cols, B) */

  if (job->op == OP_BACKWARD)
    {
      /* one member: each block's d and input transposed once for both products */
      g_assert (n_threads == 1);
      for (guint blk = 0; blk < nb; blk++)
        {
          guint s0 = blk * B, bn = MIN (B, job->n - s0);

          to_block (t1, job->b, csr->n_cols, s0, bn);
          to_block (t2, job->a, csr->n_rows, s0, bn);
          block_grad (job->out, csr, t2, t1, 0, csr->n_rows, job->accumulate || blk > 0);
          block_mm_t (t3, csr, t2);
          from_block (job->out2, t3, csr->n_cols, s0, bn);
        }
      return;
    }

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
  Job job = { OP_MM, csr, out, in, NULL, n, FALSE, scratch, NULL };

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
  Job job = { OP_MM_T, csr, out, d, NULL, n, FALSE, scratch, NULL };

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
  Job job = { OP_GRAD, csr, gw, d, in, n, accumulate, scratch, NULL };

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

void
pl_csr_backward (float       *gw,
                 float       *dx,
                 const PlCsr *csr,
                 const float *d,
                 const float *in,
                 guint        n,
                 gboolean     accumulate,
                 float       *scratch)
{
  Job job = { OP_BACKWARD, csr, gw, d, in, n, accumulate, scratch, dx };

  g_return_if_fail (csr != NULL && (csr->nnz == 0 || gw != NULL) && (n == 0 || dx != NULL));

  if (n < FEW)
    {
      pl_csr_weight_grad (gw, csr, d, in, n, accumulate, NULL, scratch);
      pl_csr_mm_t (dx, csr, d, n, NULL, scratch);
      return;
    }
  job_func (0, 1, &job);
}
