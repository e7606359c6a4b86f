#define G_LOG_DOMAIN "pl-conv"

#include "config.h"

#include <string.h>

#include "pl-conv-kernels.h"
#include "pl-simd.h"

/* Eight floats, one AVX2 register (two SSE2 registers in the portable copy). Loaded and stored
 * through memcpy: rows are not aligned, and the macros keep vectors out of function
 * signatures, whose ABI would depend on the copy compiled. */
typedef float V8 __attribute__ ((vector_size (32)));

/* GCC 12 with -fsanitize=address,undefined at -O2 loses track of the buffers' sizes after the
 * kernels are inlined into their switches and reports the loads of the weight gradient's
 * accumulators as out of the bounds [0, 0] (-Warray-bounds, -Wstringop-overread); the sizes are checked by the
 * callers and the tests compare every kernel with plain loops under ASan. */
#if !defined (__clang__)
#pragma GCC diagnostic ignored "-Warray-bounds"
#pragma GCC diagnostic ignored "-Wstringop-overread"
#pragma GCC diagnostic ignored "-Wstringop-overflow"
#endif

/* The even and the odd lanes of the 16 floats of (a, b), in order: GCC's and Clang's builtins
 * (the fuzz harnesses build with Clang) */
#if defined (__clang__)
#define EVEN_LANES(a, b) __builtin_shufflevector ((a), (b), 0, 2, 4, 6, 8, 10, 12, 14)
#define ODD_LANES(a, b)  __builtin_shufflevector ((a), (b), 1, 3, 5, 7, 9, 11, 13, 15)
#else
#define EVEN_LANES(a, b) __builtin_shuffle ((a), (b), even)
#define ODD_LANES(a, b)  __builtin_shuffle ((a), (b), odd)
#endif

#define LOAD8(v, p)  memcpy (&(v), (p), sizeof (V8))
#define STORE8(p, v) memcpy ((p), &(v), sizeof (V8))

#define MAX_GROUP  6  /* filters (or taps) whose accumulators stay in registers together */
#define POS_GROUP  5  /* output positions of the channel kernel's forward: 10 accumulators, as
                       * 12 and the two weight vectors leave no register for the products */
#define MAX_KERNEL 7

gboolean
pl_conv_kernels_direct (const PlConvLayer *l)
{
  return l->kind == PL_CONV_LAYER_CONV && l->c_in == 1 && l->w_out >= 8 && l->k <= MAX_KERNEL;
}

/* The start of the j-th block of 8 positions in a row of w_out ≥ 8: 8·j, the last one moved
 * back to end at the row's end (overlapping the one before) */
static inline gsize
block_start (gsize j,
             gsize w_out)
{
  return MIN (8 * j, w_out - 8);
}

/* The sample's plane with its zero border: @padded (h_in + 2·pad, w_in + 2·pad), whose border
 * the caller zeroed once; the plane itself when there is no padding */
static const float *
bordered (const PlConvLayer *l,
          const float       *plane,
          float             *padded)
{
  const gsize w_in = l->w_in, pad = l->pad, wp = w_in + 2 * pad;

  if (pad == 0)
    return plane;
  for (gsize iy = 0; iy < l->h_in; iy++)
    memcpy (padded + (iy + pad) * wp + pad, plane + iy * w_in, sizeof (float) * w_in);
  return padded;
}

/* z rows of g_n filters (planes @plane floats apart) at positions [oa, oa + 8) and
 * [ob, ob + 8) of one output row, from the bordered rows at @src (@wp apart): the 2·g_n
 * accumulators stay in registers while each tap's weight is broadcast over them, the taps
 * summed in the order ky, kx as in the nested loops */
static inline __attribute__ ((always_inline)) void
forward_block (float       *restrict z,
               gsize                 plane,
               const float *restrict src,
               gsize                 wp,
               const float *restrict w,
               gsize                 k,
               gsize                 oa,
               gsize                 ob,
               guint                 g_n)
{
  V8 acc_a[MAX_GROUP], acc_b[MAX_GROUP];

  for (guint g = 0; g < g_n; g++)
    {
      acc_a[g] = (V8) { 0 };
      acc_b[g] = (V8) { 0 };
    }
  for (gsize ky = 0; ky < k; ky++)
    for (gsize kx = 0; kx < k; kx++)
      {
        const float *r = src + ky * wp + kx;
        V8 xa, xb;

        LOAD8 (xa, r + oa);
        LOAD8 (xb, r + ob);
        for (guint g = 0; g < g_n; g++)
          {
            float wt = w[(g * k + ky) * k + kx];

            acc_a[g] += wt * xa;
            acc_b[g] += wt * xb;
          }
      }
  for (guint g = 0; g < g_n; g++)
    {
      STORE8 (z + g * plane + oa, acc_a[g]);
      STORE8 (z + g * plane + ob, acc_b[g]);
    }
}

PL_TARGET_CLONES void
pl_conv_kernels_forward (const PlConvLayer *l,
                         const float       *x,
                         guint              n,
                         float             *z,
                         float             *padded)
{
  const gsize k = l->k, c_out = l->c_out, h_out = l->h_out, w_out = l->w_out;
  const gsize wp = l->w_in + 2 * l->pad, plane = h_out * w_out;
  const gsize n_blocks = (w_out + 7) / 8, in_plane = (gsize) l->h_in * l->w_in;

  g_return_if_fail (pl_conv_kernels_direct (l));

  if (l->pad > 0)
    memset (padded, 0, sizeof (float) * (l->h_in + 2 * l->pad) * wp);
  for (gsize s = 0; s < n; s++)
    {
      const float *src = bordered (l, x + s * in_plane, padded);
      float *zs = z + s * c_out * plane;

      for (gsize oy = 0; oy < h_out; oy++)
        for (gsize j = 0; j < n_blocks; j += 2)
          {
            /* blocks two by two, an odd last one twice */
            gsize oa = block_start (j, w_out), ob = block_start (MIN (j + 1, n_blocks - 1), w_out);

            for (gsize g0 = 0; g0 < c_out; g0 += MAX_GROUP)
              {
                float *zr = zs + g0 * plane + oy * w_out;
                const float *r = src + oy * wp, *wg = l->w + g0 * k * k;

                /* a constant group size for each call, so that the accumulators are registers */
                switch (MIN (MAX_GROUP, c_out - g0))
                  {
                  case 6: forward_block (zr, plane, r, wp, wg, k, oa, ob, 6); break;
                  case 5: forward_block (zr, plane, r, wp, wg, k, oa, ob, 5); break;
                  case 4: forward_block (zr, plane, r, wp, wg, k, oa, ob, 4); break;
                  case 3: forward_block (zr, plane, r, wp, wg, k, oa, ob, 3); break;
                  case 2: forward_block (zr, plane, r, wp, wg, k, oa, ob, 2); break;
                  default: forward_block (zr, plane, r, wp, wg, k, oa, ob, 1); break;
                  }
              }
          }
    }
}

/* lanes[kx] (the 8 lanes of filter o's tap (ky, kx)) += Σ_{oy,ox} dz[oy][ox] ·
 * src[oy + ky][ox + kx] for two filters at once (d0, d1; d1 = d0 and lanes1 = NULL for one).
 * The last block of a row overlaps the one before: @tail zeroes its lanes counted already. */
static inline __attribute__ ((always_inline)) void
grad_rows (float       *restrict lanes0,
           float       *restrict lanes1,
           const float *restrict d0,
           const float *restrict d1,
           const float *restrict src,
           gsize                 wp,
           gsize                 h_out,
           gsize                 w_out,
           gsize                 ky,
           V8                    tail,
           guint                 k)
{
  const gsize n_blocks = (w_out + 7) / 8;
  V8 a0[MAX_KERNEL], a1[MAX_KERNEL];

  for (guint kx = 0; kx < k; kx++)
    {
      LOAD8 (a0[kx], lanes0 + 8 * kx);
      a1[kx] = (V8) { 0 };
      if (lanes1 != NULL)
        LOAD8 (a1[kx], lanes1 + 8 * kx);
    }
  for (gsize oy = 0; oy < h_out; oy++)
    for (gsize j = 0; j < n_blocks; j++)
      {
        gsize ox = block_start (j, w_out);
        const float *r = src + (oy + ky) * wp + ox;
        V8 dv0, dv1;

        LOAD8 (dv0, d0 + oy * w_out + ox);
        LOAD8 (dv1, d1 + oy * w_out + ox);
        if (j + 1 == n_blocks && 8 * j != ox)
          {
            dv0 *= tail;
            dv1 *= tail;
          }
        for (guint kx = 0; kx < k; kx++)
          {
            V8 xv;

            LOAD8 (xv, r + kx);
            a0[kx] += dv0 * xv;
            a1[kx] += dv1 * xv;
          }
      }
  for (guint kx = 0; kx < k; kx++)
    {
      STORE8 (lanes0 + 8 * kx, a0[kx]);
      if (lanes1 != NULL)
        STORE8 (lanes1 + 8 * kx, a1[kx]);
    }
}

PL_TARGET_CLONES void
pl_conv_kernels_weight_grad (const PlConvLayer *l,
                             const float       *x,
                             const float       *dz,
                             gsize              s_stride,
                             gsize              o_stride,
                             guint              n,
                             float              beta,
                             float             *gw,
                             float             *padded)
{
  const gsize k = l->k, kk = k * k, c_out = l->c_out, h_out = l->h_out, w_out = l->w_out;
  const gsize wp = l->w_in + 2 * l->pad, in_plane = (gsize) l->h_in * l->w_in;
  const gsize overlap = 8 * ((w_out + 7) / 8) - w_out;  /* lanes of the last block counted already */
  g_autofree float *lanes = g_new0 (float, c_out * kk * 8);
  float tail_lanes[8];
  V8 tail;

  g_return_if_fail (pl_conv_kernels_direct (l));

  for (guint j = 0; j < 8; j++)
    tail_lanes[j] = j < overlap ? 0.0f : 1.0f;
  LOAD8 (tail, tail_lanes);
  if (l->pad > 0)
    memset (padded, 0, sizeof (float) * (l->h_in + 2 * l->pad) * wp);

  for (gsize s = 0; s < n; s++)
    {
      const float *src = bordered (l, x + s * in_plane, padded);

      for (gsize o = 0; o < c_out; o += 2)
        {
          const float *d0 = dz + s * s_stride + o * o_stride;
          const float *d1 = o + 1 < c_out ? d0 + o_stride : d0;
          float *l0 = lanes + o * kk * 8, *l1 = o + 1 < c_out ? l0 + kk * 8 : NULL;

          for (gsize ky = 0; ky < k; ky++)
            {
              float *m0 = l0 + ky * k * 8, *m1 = l1 != NULL ? l1 + ky * k * 8 : NULL;

              /* a constant kernel width for each call, so that the accumulators are registers */
              switch (k)
                {
                case 7: grad_rows (m0, m1, d0, d1, src, wp, h_out, w_out, ky, tail, 7); break;
                case 6: grad_rows (m0, m1, d0, d1, src, wp, h_out, w_out, ky, tail, 6); break;
                case 5: grad_rows (m0, m1, d0, d1, src, wp, h_out, w_out, ky, tail, 5); break;
                case 4: grad_rows (m0, m1, d0, d1, src, wp, h_out, w_out, ky, tail, 4); break;
                case 3: grad_rows (m0, m1, d0, d1, src, wp, h_out, w_out, ky, tail, 3); break;
                case 2: grad_rows (m0, m1, d0, d1, src, wp, h_out, w_out, ky, tail, 2); break;
                default: grad_rows (m0, m1, d0, d1, src, wp, h_out, w_out, ky, tail, 1); break;
                }
            }
        }
    }

  for (gsize t = 0; t < c_out * kk; t++)
    {
      double sum = 0.0;

      for (guint j = 0; j < 8; j++)
        sum += lanes[t * 8 + j];
      gw[t] = (beta != 0.0f ? beta * gw[t] : 0.0f) + (float) sum;
    }
}

/* ---- 8 or 16 filters: the channels in the vector lanes ------------------------------------ */

gboolean
pl_conv_kernels_channels (const PlConvLayer *l)
{
  return l->kind == PL_CONV_LAYER_CONV && l->c_in > 1 && (l->c_out == 8 || l->c_out == 16);
}

/* The sample's input with its zero border, (c_in, h_in + 2·pad, w_in + 2·pad) in @padded
 * (border zeroed by the caller), or the input itself when there is no padding */
static const float *
bordered_planes (const PlConvLayer *l,
                 const float       *x,
                 float             *padded)
{
  const gsize hp = l->h_in + 2 * l->pad, wp = l->w_in + 2 * l->pad;

  if (l->pad == 0)
    return x;
  for (gsize c = 0; c < l->c_in; c++)
    bordered (l, x + c * l->h_in * l->w_in, padded + c * hp * wp);
  return padded;
}

/* Where the taps and the output positions read the bordered input: tap t = (c·k + ky)·k + kx
 * at c·hp·wp + ky·wp + kx, position p = oy·w_out + ox at oy·wp + ox (transfer full, both) */
static void
offsets (const PlConvLayer *l,
         gsize            **tap_at,
         gsize            **pos_at)
{
  const gsize k = l->k, hp = l->h_in + 2 * l->pad, wp = l->w_in + 2 * l->pad;

  *tap_at = g_new (gsize, (gsize) l->c_in * k * k);
  *pos_at = g_new (gsize, (gsize) l->h_out * l->w_out);
  for (gsize c = 0; c < l->c_in; c++)
    for (gsize ky = 0; ky < k; ky++)
      for (gsize kx = 0; kx < k; kx++)
        (*tap_at)[(c * k + ky) * k + kx] = c * hp * wp + ky * wp + kx;
  for (gsize oy = 0; oy < l->h_out; oy++)
    for (gsize ox = 0; ox < l->w_out; ox++)
      (*pos_at)[oy * l->w_out + ox] = oy * wp + ox;
}

/* out[q][o] (q < p_n, o < 8·v_n filters) ← (accumulate ? out[q][o] : 0) + Σ_t vec[t][o] ·
 * src[outer_at[t] + inner_at[q]] over the n_outer t, in order; 2·p_n accumulators in registers.
 * The forward runs it over the taps for p_n output positions (out = zt, vec = the weights,
 * outer_at = tap_at, inner_at = pos_at); the weight gradient over the positions for p_n taps
 * (out = gt, vec = dz, outer_at = pos_at, inner_at = tap_at, accumulating over the samples). */
static inline __attribute__ ((always_inline)) void
channels_block (float       *restrict out,
                const float *restrict src,
                const float *restrict vec,
                const gsize *restrict outer_at,
                const gsize *restrict inner_at,
                gsize                 n_outer,
                guint                 p_n,
                guint                 v_n,
                gboolean              accumulate)
{
  V8 acc[MAX_GROUP][2];
  const gsize stride = 8 * v_n;

  for (guint q = 0; q < p_n; q++)
    for (guint v = 0; v < v_n; v++)
      {
        if (accumulate)
          LOAD8 (acc[q][v], out + q * stride + 8 * v);
        else
          acc[q][v] = (V8) { 0 };
      }
  for (gsize t = 0; t < n_outer; t++)
    {
      const float *r = src + outer_at[t];
      V8 w0, w1 = { 0 };

      LOAD8 (w0, vec + t * stride);
      if (v_n == 2)
        LOAD8 (w1, vec + t * stride + 8);
      for (guint q = 0; q < p_n; q++)
        {
          float xv = r[inner_at[q]];

          acc[q][0] += xv * w0;
          if (v_n == 2)
            acc[q][1] += xv * w1;
        }
    }
  for (guint q = 0; q < p_n; q++)
    for (guint v = 0; v < v_n; v++)
      STORE8 (out + q * stride + 8 * v, acc[q][v]);
}

PL_TARGET_CLONES void
pl_conv_kernels_channels_forward (const PlConvLayer *l,
                                  const float       *x,
                                  guint              n,
                                  float             *z,
                                  float             *padded)
{
  const gsize c_out = l->c_out, k = l->k, n_taps = (gsize) l->c_in * k * k;
  const gsize hw = (gsize) l->h_out * l->w_out, in_size = (gsize) l->c_in * l->h_in * l->w_in;
  const guint v_n = (guint) (c_out / 8);
  g_autofree float *wt = g_new (float, n_taps * c_out);
  g_autofree float *zt = g_new (float, POS_GROUP * c_out);
  g_autofree gsize *tap_at = NULL;
  g_autofree gsize *pos_at = NULL;

  g_return_if_fail (pl_conv_kernels_channels (l));

  /* the weights tap-major, wt[t][o], so that a tap's filters are one or two vectors */
  for (gsize o = 0; o < c_out; o++)
    for (gsize t = 0; t < n_taps; t++)
      wt[t * c_out + o] = l->w[o * n_taps + t];
  offsets (l, &tap_at, &pos_at);
  if (l->pad > 0)
    memset (padded, 0, sizeof (float) * l->c_in * (l->h_in + 2 * l->pad) * (l->w_in + 2 * l->pad));

  for (gsize s = 0; s < n; s++)
    {
      const float *src = bordered_planes (l, x + s * in_size, padded);
      float *zs = z + s * c_out * hw;

      for (gsize p0 = 0; p0 < hw; p0 += POS_GROUP)
        {
          guint p_n = (guint) MIN (POS_GROUP, hw - p0);

          /* constant sizes for each call, so that the accumulators are registers */
          if (v_n == 2)
            switch (p_n)
              {
              case 5: channels_block (zt, src, wt, tap_at, pos_at + p0, n_taps, 5, 2, FALSE); break;
              case 4: channels_block (zt, src, wt, tap_at, pos_at + p0, n_taps, 4, 2, FALSE); break;
              case 3: channels_block (zt, src, wt, tap_at, pos_at + p0, n_taps, 3, 2, FALSE); break;
              case 2: channels_block (zt, src, wt, tap_at, pos_at + p0, n_taps, 2, 2, FALSE); break;
              default: channels_block (zt, src, wt, tap_at, pos_at + p0, n_taps, 1, 2, FALSE); break;
              }
          else
            switch (p_n)
              {
              case 5: channels_block (zt, src, wt, tap_at, pos_at + p0, n_taps, 5, 1, FALSE); break;
              case 4: channels_block (zt, src, wt, tap_at, pos_at + p0, n_taps, 4, 1, FALSE); break;
              case 3: channels_block (zt, src, wt, tap_at, pos_at + p0, n_taps, 3, 1, FALSE); break;
              case 2: channels_block (zt, src, wt, tap_at, pos_at + p0, n_taps, 2, 1, FALSE); break;
              default: channels_block (zt, src, wt, tap_at, pos_at + p0, n_taps, 1, 1, FALSE); break;
              }
          /* back to the maps' layout, (c_out, hw) */
          for (guint q = 0; q < p_n; q++)
            for (gsize o = 0; o < c_out; o++)
              zs[o * hw + p0 + q] = zt[q * c_out + o];
        }
    }
}

PL_TARGET_CLONES void
pl_conv_kernels_channels_weight_grad (const PlConvLayer *l,
                                      const float       *x,
                                      const float       *dz,
                                      gsize              s_stride,
                                      gsize              o_stride,
                                      guint              n,
                                      float              beta,
                                      float             *gw,
                                      float             *padded)
{
  const gsize c_out = l->c_out, k = l->k, n_taps = (gsize) l->c_in * k * k;
  const gsize hw = (gsize) l->h_out * l->w_out, in_size = (gsize) l->c_in * l->h_in * l->w_in;
  const guint v_n = (guint) (c_out / 8);
  g_autofree float *gt = g_new0 (float, n_taps * c_out);
  g_autofree float *dt = g_new (float, hw * c_out);
  g_autofree gsize *tap_at = NULL;
  g_autofree gsize *pos_at = NULL;

  g_return_if_fail (pl_conv_kernels_channels (l));

  offsets (l, &tap_at, &pos_at);
  if (l->pad > 0)
    memset (padded, 0, sizeof (float) * l->c_in * (l->h_in + 2 * l->pad) * (l->w_in + 2 * l->pad));

  for (gsize s = 0; s < n; s++)
    {
      const float *src = bordered_planes (l, x + s * in_size, padded);

      /* dz position-major, dt[p][o] */
      for (gsize o = 0; o < c_out; o++)
        for (gsize p = 0; p < hw; p++)
          dt[p * c_out + o] = dz[s * s_stride + o * o_stride + p];
      for (gsize t0 = 0; t0 < n_taps; t0 += MAX_GROUP)
        {
          guint p_n = (guint) MIN (MAX_GROUP, n_taps - t0);
          float *g = gt + t0 * c_out;
          const gsize *ta = tap_at + t0;

          if (v_n == 2)
            switch (p_n)
              {
              case 6: channels_block (g, src, dt, pos_at, ta, hw, 6, 2, TRUE); break;
              case 5: channels_block (g, src, dt, pos_at, ta, hw, 5, 2, TRUE); break;
              case 4: channels_block (g, src, dt, pos_at, ta, hw, 4, 2, TRUE); break;
              case 3: channels_block (g, src, dt, pos_at, ta, hw, 3, 2, TRUE); break;
              case 2: channels_block (g, src, dt, pos_at, ta, hw, 2, 2, TRUE); break;
              default: channels_block (g, src, dt, pos_at, ta, hw, 1, 2, TRUE); break;
              }
          else
            switch (p_n)
              {
              case 6: channels_block (g, src, dt, pos_at, ta, hw, 6, 1, TRUE); break;
              case 5: channels_block (g, src, dt, pos_at, ta, hw, 5, 1, TRUE); break;
              case 4: channels_block (g, src, dt, pos_at, ta, hw, 4, 1, TRUE); break;
              case 3: channels_block (g, src, dt, pos_at, ta, hw, 3, 1, TRUE); break;
              case 2: channels_block (g, src, dt, pos_at, ta, hw, 2, 1, TRUE); break;
              default: channels_block (g, src, dt, pos_at, ta, hw, 1, 1, TRUE); break;
              }
        }
    }

  for (gsize o = 0; o < c_out; o++)
    for (gsize t = 0; t < n_taps; t++)
      gw[o * n_taps + t] = (beta != 0.0f ? beta * gw[o * n_taps + t] : 0.0f) + gt[t * c_out + o];
}

/* ---- the input gradient ------------------------------------------------------------------- */

/* Output row oy's blocks [8·j, 8·j + 8·b_n) spread back to input row oy + ky of channel c:
 * acc[kx][b] = Σ_o w[o][c][ky][kx] · dz[o][oy][8·(j + b) …], 2·k accumulators in registers
 * over the filters, added into the k partial gradients dxk[kx] at the block's own place (the
 * shift by kx is left to the end: adding shifted vectors into one buffer would load each right
 * after an overlapping store, which the processor cannot forward) */
static inline __attribute__ ((always_inline)) void
input_grad_block (float       *restrict dxk,
                  gsize                 dxk_size,
                  const float *restrict dzr,
                  gsize                 dz_plane,
                  const float *restrict w,
                  gsize                 w_filter,
                  gsize                 c_out,
                  guint                 b_n,
                  guint                 k)
{
  V8 acc[MAX_KERNEL][2];

  for (guint kx = 0; kx < k; kx++)
    {
      acc[kx][0] = (V8) { 0 };
      acc[kx][1] = (V8) { 0 };
    }
  for (gsize o = 0; o < c_out; o++)
    {
      V8 d0, d1 = { 0 };

      LOAD8 (d0, dzr + o * dz_plane);
      if (b_n == 2)
        LOAD8 (d1, dzr + o * dz_plane + 8);
      for (guint kx = 0; kx < k; kx++)
        {
          float wt = w[o * w_filter + kx];

          acc[kx][0] += wt * d0;
          if (b_n == 2)
            acc[kx][1] += wt * d1;
        }
    }
  for (guint kx = 0; kx < k; kx++)
    for (guint b = 0; b < b_n; b++)
      {
        float *at = dxk + kx * dxk_size + 8 * b;
        V8 v;

        LOAD8 (v, at);
        v += acc[kx][b];
        STORE8 (at, v);
      }
}

gboolean
pl_conv_kernels_input (const PlConvLayer *l)
{
  return pl_conv_kernels_channels (l) && l->k <= MAX_KERNEL;
}

PL_TARGET_CLONES void
pl_conv_kernels_input_grad (const PlConvLayer *l,
                            const float       *dz,
                            gsize              s_stride,
                            gsize              o_stride,
                            guint              n,
                            float             *dx)
{
  const gsize k = l->k, c_in = l->c_in, c_out = l->c_out, pad = l->pad;
  const gsize h_in = l->h_in, w_in = l->w_in, h_out = l->h_out, w_out = l->w_out;
  const gsize in_plane = h_in * w_in;
  /* dz rows widened to whole blocks of 8 with zeros; the partial gradients dxk[kx] (c_in,
   * h_out + k − 1, wr) indexed by the input row (with its border) and the output column + a
   * margin of k − 1 zero columns on each side, so that the sum over kx below needs no bounds */
  const gsize wq = 8 * ((w_out + 7) / 8), dz_plane = h_out * wq, margin = k - 1;
  const gsize hp = h_out + k - 1, wr = wq + 2 * margin, dx_plane = hp * wr;
  const gsize dxk_size = c_in * dx_plane;
  const gsize w_filter = c_in * k * k;
  g_autofree float *dzr = g_new0 (float, c_out * dz_plane);
  g_autofree float *dxk = g_new (float, k * dxk_size);

  g_return_if_fail (pl_conv_kernels_input (l));

  for (gsize s = 0; s < n; s++)
    {
      for (gsize o = 0; o < c_out; o++)
        for (gsize oy = 0; oy < h_out; oy++)
          memcpy (dzr + o * dz_plane + oy * wq, dz + s * s_stride + o * o_stride + oy * w_out,
                  sizeof (float) * w_out);
      memset (dxk, 0, sizeof (float) * k * dxk_size);

      for (gsize oy = 0; oy < h_out; oy++)
        for (gsize c = 0; c < c_in; c++)
          for (gsize ky = 0; ky < k; ky++)
            for (gsize j = 0; j < wq / 8; j += 2)
              {
                guint b_n = j + 1 < wq / 8 ? 2 : 1;
                float *d = dxk + c * dx_plane + (oy + ky) * wr + margin + 8 * j;
                const float *r = dzr + oy * wq + 8 * j, *wc = l->w + (c * k + ky) * k;

                /* constant sizes for each call, so that the accumulators are registers */
#define INPUT_GRAD_CASE(K) \
                case K: \
                  if (b_n == 2) \
                    input_grad_block (d, dxk_size, r, dz_plane, wc, w_filter, c_out, 2, K); \
                  else \
                    input_grad_block (d, dxk_size, r, dz_plane, wc, w_filter, c_out, 1, K); \
                  break;
                switch (k)
                  {
                  INPUT_GRAD_CASE (7)
                  INPUT_GRAD_CASE (6)
                  INPUT_GRAD_CASE (5)
                  INPUT_GRAD_CASE (4)
                  INPUT_GRAD_CASE (3)
                  INPUT_GRAD_CASE (2)
                  default:
                  INPUT_GRAD_CASE (1)
                  }
#undef INPUT_GRAD_CASE
              }

      /* dx[c][iy][ix] = Σ_kx dxk[kx][c][iy + pad][ix + pad − kx] (zero outside dz's
       * columns), whole rows for every kx: a row added at a shifted place would again be
       * loaded across the store before it */
      for (gsize c = 0; c < c_in; c++)
        for (gsize iy = 0; iy < h_in; iy++)
          {
            float *restrict out = dx + s * c_in * in_plane + c * in_plane + iy * w_in;

            memset (out, 0, sizeof (float) * w_in);
            for (gsize kx = 0; kx < k; kx++)
              {
                const float *restrict row =
                  dxk + kx * dxk_size + c * dx_plane + (iy + pad) * wr + margin + pad - kx;

                for (gsize ix = 0; ix < w_in; ix++)
                  out[ix] += row[ix];
              }
          }
    }
}

/* ---- 2×2 max-pool --------------------------------------------------------------------------- */

typedef gint32 VI8 __attribute__ ((vector_size (32)));

PL_TARGET_CLONES void
pl_conv_kernels_max_pool2 (float             *out,
                           guint32           *argmax,
                           const float       *x,
                           const PlConvLayer *l,
                           guint              n)
{
  const gsize w_in = l->w_in, h_out = l->h_out, w_out = l->w_out, c_out = l->c_out;
  const gsize in_plane = (gsize) l->h_in * w_in, out_plane = h_out * w_out;
  const VI8 even = { 0, 2, 4, 6, 8, 10, 12, 14 }, odd = even + 1, lane2 = even;
  (void) odd;   /* used by GCC's shuffle only */

  g_return_if_fail (l->kind == PL_CONV_LAYER_POOL && l->k == 2);

  for (gsize sc = 0; sc < (gsize) n * c_out; sc++)
    {
      const float *plane = x + sc * in_plane;
      guint32 base = (guint32) (sc % c_out * in_plane);

      for (gsize oy = 0; oy < h_out; oy++)
        {
          const float *restrict r0 = plane + 2 * oy * w_in, *restrict r1 = r0 + w_in;
          float *restrict o = out + sc * out_plane + oy * w_out;
          guint32 *restrict am = argmax + sc * out_plane + oy * w_out;
          guint32 at0 = base + (guint32) (2 * oy * w_in), row = (guint32) w_in;

          /* 8 outputs at a time: the even and odd columns of 16 inputs of each row, the
           * maxima and their indices selected by masks, ties and NaN as in the loop below;
           * the last block moved back to end at the row's end (its overlap written twice) */
          for (gsize j = 0; w_out >= 8 && j < (w_out + 7) / 8; j++)
            {
              gsize ox = block_start (j, w_out);
              V8 p0, p1, q0, q1, a, b, c, d, m0, m1;
              VI8 gt_ab, gt_cd, gt, i0, j0, j1;

              LOAD8 (p0, r0 + 2 * ox);
              LOAD8 (p1, r0 + 2 * ox + 8);
              LOAD8 (q0, r1 + 2 * ox);
              LOAD8 (q1, r1 + 2 * ox + 8);
              a = EVEN_LANES (p0, p1);
              b = ODD_LANES (p0, p1);
              c = EVEN_LANES (q0, q1);
              d = ODD_LANES (q0, q1);
              gt_ab = b > a;
              gt_cd = d > c;
              m0 = (V8) (((VI8) b & gt_ab) | ((VI8) a & ~gt_ab));
              m1 = (V8) (((VI8) d & gt_cd) | ((VI8) c & ~gt_cd));
              gt = m1 > m0;
              i0 = (gint32) (at0 + 2 * (guint32) ox) + lane2;
              j0 = i0 - gt_ab;                      /* a true comparison is −1 */
              j1 = i0 + (gint32) row - gt_cd;
              m0 = (V8) (((VI8) m1 & gt) | ((VI8) m0 & ~gt));
              j0 = (j1 & gt) | (j0 & ~gt);
              STORE8 (o + ox, m0);
              STORE8 (am + ox, j0);
            }
          for (gsize ox = w_out >= 8 ? w_out : 0; ox < w_out; ox++)
            {
              float a = r0[2 * ox], b = r0[2 * ox + 1], c = r1[2 * ox], d = r1[2 * ox + 1];
              guint32 i0 = at0 + 2 * (guint32) ox, i1 = i0 + row;
              float m0 = b > a ? b : a, m1 = d > c ? d : c;
              guint32 j0 = b > a ? i0 + 1 : i0, j1 = d > c ? i1 + 1 : i1;

              o[ox] = m1 > m0 ? m1 : m0;
              am[ox] = m1 > m0 ? j1 : j0;
            }
        }
    }
}
