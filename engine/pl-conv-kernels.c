#define G_LOG_DOMAIN "pl-conv"

#include "config.h"

#include <string.h>

#include "pl-conv-kernels.h"
#include "pl-simd.h"

/* Eight floats, one AVX2 register (two SSE2 registers in the portable copy). Loaded and stored
 * through memcpy: rows are not aligned, and the macros keep vectors out of function
 * signatures, whose ABI would depend on the copy compiled. */
typedef float V8 __attribute__ ((vector_size (32)));

#define LOAD8(v, p)  memcpy (&(v), (p), sizeof (V8))
#define STORE8(p, v) memcpy ((p), &(v), sizeof (V8))

#define MAX_GROUP  6  /* filters whose accumulators stay in registers together */
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
