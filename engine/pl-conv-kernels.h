/* pl-conv-kernels.h — direct convolution kernels for a layer with one input channel
 *
 * LeNet-5's first layer (6 filters of 1×5×5 over 28×28) makes a tiny product for sgemm
 * (M = 6, K = 25), which OpenBLAS runs at a fraction of its rate, after im2col has copied each
 * pixel 25 times. These kernels compute the same sums straight from the zero-bordered input:
 * each output row is taken 8 positions at a time (one AVX2 register; the last block of a row
 * overlaps the one before), and up to 6 filters × 2 blocks of accumulators stay in registers
 * while the k·k taps are broadcast over them. They are written with GCC vector types and
 * compiled with PL_TARGET_CLONES, so that a machine without AVX2 runs the same code on SSE2
 * pairs. No FMA: the products are rounded as in the plain loops.
 *
 * The conv layer passes (pl-conv.c) use them when pl_conv_kernels_direct() says so, im2col +
 * cblas_sgemm otherwise. tests/test-conv.c checks both against the nested loops.
 */
#pragma once

#include <glib.h>

#include "pl-conv.h"

G_BEGIN_DECLS

/* TRUE when the layer is a conv layer that the kernels below handle: c_in = 1, w_out ≥ 8,
 * k ≤ 7. */
gboolean pl_conv_kernels_direct        (const PlConvLayer *l);

/* z (n, c_out, h_out, w_out) ← Σ_{ky,kx} w[o][ky][kx] · x[s][oy + ky − pad][ox + kx − pad]
 * (zero outside), for x (n, 1, h_in, w_in); no bias, no activation. @padded holds at least
 * (h_in + 2·pad)·(w_in + 2·pad) floats (scratch). */
void     pl_conv_kernels_forward       (const PlConvLayer *l,
                                        const float       *x,
                                        guint              n,
                                        float             *z,
                                        float             *padded);

/* gw (c_out, k, k) ← beta·gw + Σ_s Σ_{oy,ox} dz[s][o][oy][ox] · x[s][oy + ky − pad][ox + kx − pad],
 * with dz of sample s, filter o at dz + s·s_stride + o·o_stride (h_out·w_out floats each).
 * The sums run in 8 float lanes over the batch, then are added up. @padded as above. */
void     pl_conv_kernels_weight_grad   (const PlConvLayer *l,
                                        const float       *x,
                                        const float       *dz,
                                        gsize              s_stride,
                                        gsize              o_stride,
                                        guint              n,
                                        float              beta,
                                        float             *gw,
                                        float             *padded);

/* The same sums for a layer of 8 or 16 filters over more than one input channel (LeNet-5's
 * second layer, 16 × 6×5×5 over 14×14): the filters are the lanes (one or two registers), and
 * 6 output positions (for the gradient: 6 taps) are accumulated at a time while the input is
 * broadcast. @padded holds c_in·(h_in + 2·pad)·(w_in + 2·pad) floats. */
gboolean pl_conv_kernels_channels      (const PlConvLayer *l);
void     pl_conv_kernels_channels_forward
                                       (const PlConvLayer *l,
                                        const float       *x,
                                        guint              n,
                                        float             *z,
                                        float             *padded);
void     pl_conv_kernels_channels_weight_grad
                                       (const PlConvLayer *l,
                                        const float       *x,
                                        const float       *dz,
                                        gsize              s_stride,
                                        gsize              o_stride,
                                        guint              n,
                                        float              beta,
                                        float             *gw,
                                        float             *padded);

/* dx (n, c_in, h_in, w_in) ← Σ_{o,ky,kx} w[o][c][ky][kx] · dz[s][o][iy + pad − ky][ix + pad − kx]
 * (the terms inside dz), dz as for the weight gradient: im2col's transpose after Wᵀ·dz, in one
 * pass. Each dz row is widened to whole blocks of 8 (zeros), 2 blocks × k taps of one input
 * row accumulated in registers over the filters, then added to the bordered gradient. For the
 * layers pl_conv_kernels_channels() takes (and k ≤ 7). */
gboolean pl_conv_kernels_input         (const PlConvLayer *l);
void     pl_conv_kernels_input_grad    (const PlConvLayer *l,
                                        const float       *dz,
                                        gsize              s_stride,
                                        gsize              o_stride,
                                        guint              n,
                                        float             *dx);

/* The 2×2 max-pool of pl-conv.c (each output the maximum of its window, the first on ties, a
 * NaN at a window's first place coming through, its index into the sample's maps kept), 8
 * outputs at a time from the even and odd columns of the two rows. */
void     pl_conv_kernels_max_pool2     (float             *out,
                                        guint32           *argmax,
                                        const float       *x,
                                        const PlConvLayer *l,
                                        guint              n);

G_END_DECLS
