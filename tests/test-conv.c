/* Convolutional networks: the architecture spec, the im2col forward pass and the direct kernels
 * (pl-conv-kernels.h) against nested loops, and the backward pass of every layer type against
 * centred finite differences in double. */
#include "config.h"

#include <math.h>
#include <string.h>

#include "pl-conv.h"
#include "pl-conv-kernels.h"
#include "pl-conv-file.h"
#include "pl-conv-prune.h"
#include "pl-conv-train.h"
#include "pl-eval.h"
#include "pl-safetensors.h"
#include "pl-error.h"
#include "pl-rng.h"
#include "pl-test-util.h"

#define N_SAMPLES 5

/* The architectures under test: each layer type, padding, a pool of 3 with a remainder, two
 * input channels. */
static const char * const archs[] = {
  "1x6x6-c3k3-4",                    /* conv, flatten, dense (the output) */
  "2x7x7-c3k3p1-m2-5-3",             /* padding; pool rounding 7 → 3 */
  "1x8x8-c2k3p1-m2-c3k2-m3-4-3",     /* conv, pool, conv, pool of 3 (3 → 1), hidden dense */
};

static PlConvNet *
make_net (const char   *arch,
          PlActivation  activation,
          guint64       seed)
{
  g_autoptr(GError) error = NULL;
  PlConvNet *net = pl_conv_net_new_from_arch (arch, activation, &error);
  PlRng rng;

  g_assert_no_error (error);
  pl_conv_net_init (net, seed);
  /* biases off zero, so that a wrong bias gradient shows */
  pl_rng_init (&rng, seed + 7);
  for (guint i = 0; i < net->n_layers; i++)
    if (net->layers[i].kind == PL_CONV_LAYER_CONV)
      for (guint o = 0; o < net->layers[i].c_out; o++)
        net->layers[i].b[o] = (float) (0.2 * pl_rng_uniform (&rng) - 0.1);
  for (guint i = 0; i < net->head->n_layers; i++)
    for (guint o = 0; o < net->head->layers[i].n_out; o++)
      net->head->layers[i].b[o] = (float) (0.2 * pl_rng_uniform (&rng) - 0.1);
  return net;
}

/* Filter 0 of the first conv layer cut off (every weight that reads it masked), and every
 * fifth conv weight pruned, as pruning leaves a network. */
static void
prune_some (PlConvNet *net)
{
  const PlConvLayer *first = &net->layers[0];
  const PlConvLayer *next = NULL;
  gsize nw;

  for (guint i = 1; i < net->n_layers && next == NULL; i++)
    if (net->layers[i].kind == PL_CONV_LAYER_CONV)
      next = &net->layers[i];
  if (next != NULL)
    {
      gsize kk = (gsize) next->k * next->k;

      for (guint o = 0; o < next->c_out; o++)
        for (gsize t = 0; t < kk; t++)
          next->w_mask[(gsize) o * next->c_in * kk + t] = 0.0f;
    }
  else
    {
      const PlLayer *d = &net->head->layers[0];
      guint hw = net->layers[net->n_layers - 1].h_out * net->layers[net->n_layers - 1].w_out;

      for (guint o = 0; o < d->n_out; o++)
        for (guint t = 0; t < hw; t++)
          d->w_mask[(gsize) o * d->n_in + t] = 0.0f;
    }
  nw = (gsize) first->c_out * first->c_in * first->k * first->k;
  for (gsize k = 3; k < nw; k += 5)
    first->w_mask[k] = 0.0f;
  pl_conv_net_apply_masks (net);
  g_assert_cmpfloat (first->filter_mask[0], ==, 0.0f);
  g_assert_cmpfloat (first->filter_mask[1], ==, 1.0f);
}

static void
check_forward (const char   *arch,
               PlActivation  activation,
               gboolean      pruned)
{
  g_autoptr(PlConvNet) net = make_net (arch, activation, 3);
  g_autoptr(PlDataset) data = NULL;
  g_autoptr(PlConvWork) work = NULL;
  g_autofree double *ref = NULL;
  g_autofree double *in = NULL;
  g_autofree double *out = NULL;
  const PlConvLayer *l0 = &net->layers[0];
  guint m = pl_conv_net_n_outputs (net);
  guint n_in = pl_conv_net_n_inputs (net);
  gsize out_size = (gsize) l0->c_out * l0->h_out * l0->w_out;
  const float *p;
  double loss_ref, loss;

  if (pruned)
    prune_some (net);
  data = pl_test_random_data (N_SAMPLES, n_in, m, 11);
  work = pl_conv_work_new (net, N_SAMPLES);
  ref = g_new (double, (gsize) N_SAMPLES * m);
  in = g_new (double, n_in);
  out = g_new (double, out_size);

  p = pl_conv_forward (net, work, data->x, N_SAMPLES);
  loss = pl_conv_loss (net, work, data->y, N_SAMPLES, NULL);
  loss_ref = pl_conv_forward_ref (net, data->x, data->y, N_SAMPLES, ref);
  for (gsize k = 0; k < (gsize) N_SAMPLES * m; k++)
    g_assert_cmpfloat_with_epsilon (p[k], ref[k], 1e-5);
  g_assert_cmpfloat_with_epsilon (loss, loss_ref, 1e-5);

  /* the first conv layer alone, sample by sample, by the nested-loop convolution */
  for (guint s = 0; s < N_SAMPLES; s++)
    {
      const float *a = pl_conv_work_activation (work, 0) + s * out_size;

      for (guint k = 0; k < n_in; k++)
        in[k] = data->x[(gsize) s * n_in + k];
      pl_conv_layer_forward_ref (net, 0, in, out);
      for (gsize k = 0; k < out_size; k++)
        g_assert_cmpfloat_with_epsilon (a[k], out[k], 1e-5);
    }
}

static void
test_forward_matches_nested_loops (void)
{
  for (guint a = 0; a < G_N_ELEMENTS (archs); a++)
    {
      check_forward (archs[a], PL_ACTIVATION_RELU, FALSE);
      check_forward (archs[a], PL_ACTIVATION_TANH, FALSE);
      check_forward (archs[a], PL_ACTIVATION_RELU, TRUE);
      check_forward (archs[a], PL_ACTIVATION_TANH, TRUE);
    }
}

/* Every parameter's gradient against (L(θ + h) − L(θ − h)) / (2h) of the double reference,
 * with the step as the float parameter can take it. */
static void
check_gradient_parts (const char   *arch,
                      PlActivation  activation,
                      gboolean      pruned,
                      guint         n_parts)
{
  g_autoptr(PlConvNet) net = make_net (arch, activation, 5);
  g_autoptr(PlDataset) data = NULL;
  g_autoptr(PlConvWork) work = NULL;
  g_autofree float *grad = NULL;
  g_autofree float *head_grad = NULL;
  /* small: the reference is in double, and a step across a tie of a max-pool window or a
   * ReLU kink would break the comparison (the float steps are taken as they round) */
  const double h = 1e-6;
  double worst = 0.0;
  guint m = pl_conv_net_n_outputs (net);

  if (pruned)
    prune_some (net);
  data = pl_test_random_data (N_SAMPLES, pl_conv_net_n_inputs (net), m, 13);
  work = pl_conv_work_new (net, N_SAMPLES);
  grad = g_new (float, MAX (net->n_params, 1));
  head_grad = g_new (float, net->head->n_params);

  pl_conv_forward (net, work, data->x, N_SAMPLES);
  pl_conv_backward (net, work, data->y, N_SAMPLES, 1.0f / N_SAMPLES, grad, head_grad);

  for (guint part = 0; part < n_parts; part++)
    {
      float *params = part == 0 ? net->params : net->head->params;
      const float *g = part == 0 ? grad : head_grad;
      gsize n = part == 0 ? net->n_params : net->head->n_params;

      for (gsize k = 0; k < n; k++)
        {
          float saved = params[k];
          float up = (float) (saved + h), down = (float) (saved - h);
          double l_up, l_down, fd;

          params[k] = up;
          l_up = pl_conv_forward_ref (net, data->x, data->y, N_SAMPLES, NULL);
          params[k] = down;
          l_down = pl_conv_forward_ref (net, data->x, data->y, N_SAMPLES, NULL);
          params[k] = saved;
          fd = (l_up - l_down) / ((double) up - (double) down);
          if (fabs (g[k] - fd) > 2e-5 + 1e-3 * fabs (fd))
            g_error ("%s %s%s: parameter %zu of %s: backward %.7g, finite differences %.7g",
                     arch, pl_activation_to_string (activation), pruned ? " pruned" : "",
                     (size_t) k, part == 0 ? "the conv layers" : "the head", g[k], fd);
          worst = MAX (worst, fabs (g[k] - fd));
        }
    }
  g_test_message ("%s %s%s: largest difference %.2e", arch, pl_activation_to_string (activation),
                  pruned ? " pruned" : "", worst);
}

static void
check_gradient (const char   *arch,
                PlActivation  activation,
                gboolean      pruned)
{
  check_gradient_parts (arch, activation, pruned, 2);
}

/* A first layer whose patches (25 · 40 · 40 floats a sample) exceed PL_CONV_COL_FLOATS / 5:
 * the passes work on blocks of 3 and 2 samples, which the conv gradients must not notice (the
 * head's are those of the tests above). */
static void
test_gradient_blocks (void)
{
  const char *arch = "1x40x40-c4k5p2-m2-c4k3-5";

  g_assert_cmpuint (25 * 40 * 40 * N_SAMPLES, >, PL_CONV_COL_FLOATS);
  check_forward (arch, PL_ACTIVATION_RELU, FALSE);
  check_forward (arch, PL_ACTIVATION_TANH, TRUE);
  check_gradient_parts (arch, PL_ACTIVATION_TANH, FALSE, 1);
  check_gradient_parts (arch, PL_ACTIVATION_TANH, TRUE, 1);
  check_gradient_parts (arch, PL_ACTIVATION_RELU, TRUE, 1);
}

/* The direct kernels of a one-channel layer (pl-conv-kernels.h) against plain loops in double,
 * on random shapes: widths that are and are not multiples of 8 (the overlapping last block),
 * padding 0 and > 0, kernels 1 to 7, filter counts around the groups of 6 and the pairs of the
 * weight gradient. */
static void
test_direct_kernels_match_loops (void)
{
  PlRng rng;
  guint checked = 0;

  pl_rng_init (&rng, 41);
  for (guint trial = 0; trial < 60; trial++)
    {
      PlConvLayer l = { .kind = PL_CONV_LAYER_CONV, .c_in = 1 };
      guint n = 1 + (guint) pl_rng_below (&rng, 3);
      g_autofree float *w = NULL;
      g_autofree float *x = NULL;
      g_autofree float *z = NULL;
      g_autofree float *dz = NULL;
      g_autofree float *gw = NULL;
      g_autofree float *padded = NULL;
      gsize plane, kk;
      float beta = trial % 2 == 0 ? 0.0f : 1.0f;

      l.k = 1 + (guint) pl_rng_below (&rng, 7);
      l.pad = trial % 3 == 0 ? 0 : (guint) pl_rng_below (&rng, l.k);
      l.c_out = 1 + (guint) pl_rng_below (&rng, 13);
      l.h_in = l.k + (guint) pl_rng_below (&rng, 12);
      /* w_out from 8 to 8 + 33: multiples of 8 and the widths between */
      l.w_out = 8 + (guint) pl_rng_below (&rng, 34);
      l.w_in = l.w_out + l.k - 1 - 2 * l.pad;
      l.h_out = l.h_in + 2 * l.pad - l.k + 1;
      g_assert_true (pl_conv_kernels_direct (&l));
      plane = (gsize) l.h_out * l.w_out;
      kk = (gsize) l.k * l.k;

      w = g_new (float, l.c_out * kk);
      x = g_new (float, (gsize) n * l.h_in * l.w_in);
      z = g_new (float, n * l.c_out * plane);
      dz = g_new (float, n * l.c_out * plane);
      gw = g_new (float, l.c_out * kk);
      padded = g_new (float, (gsize) (l.h_in + 2 * l.pad) * (l.w_in + 2 * l.pad));
      for (gsize t = 0; t < l.c_out * kk; t++)
        {
          w[t] = (float) (2.0 * pl_rng_uniform (&rng) - 1.0);
          gw[t] = (float) (2.0 * pl_rng_uniform (&rng) - 1.0);
        }
      for (gsize t = 0; t < (gsize) n * l.h_in * l.w_in; t++)
        x[t] = (float) (2.0 * pl_rng_uniform (&rng) - 1.0);
      for (gsize t = 0; t < n * l.c_out * plane; t++)
        dz[t] = (float) (2.0 * pl_rng_uniform (&rng) - 1.0);
      l.w = w;

      pl_conv_kernels_forward (&l, x, n, z, padded);
      for (guint s = 0; s < n; s++)
        for (guint o = 0; o < l.c_out; o++)
          for (guint oy = 0; oy < l.h_out; oy++)
            for (guint ox = 0; ox < l.w_out; ox++)
              {
                double ref = 0.0;

                for (guint ky = 0; ky < l.k; ky++)
                  for (guint kx = 0; kx < l.k; kx++)
                    {
                      int iy = (int) (oy + ky) - (int) l.pad, ix = (int) (ox + kx) - (int) l.pad;

                      if (iy >= 0 && iy < (int) l.h_in && ix >= 0 && ix < (int) l.w_in)
                        ref += (double) w[(o * l.k + ky) * l.k + kx]
                               * x[((gsize) s * l.h_in + iy) * l.w_in + ix];
                    }
                g_assert_cmpfloat_with_epsilon (z[((gsize) s * l.c_out + o) * plane + oy * l.w_out + ox],
                                                ref, 1e-5);
              }

      /* dz laid out as the backward pass has it: channel-major over the block of samples */
      {
        g_autofree double *ref = g_new0 (double, l.c_out * kk);
        g_autofree double *size = g_new0 (double, l.c_out * kk);

        for (guint o = 0; o < l.c_out; o++)
          for (guint ky = 0; ky < l.k; ky++)
            for (guint kx = 0; kx < l.k; kx++)
              {
                double sum = beta * (double) gw[(o * l.k + ky) * l.k + kx], abs_sum = fabs (sum);

                for (guint s = 0; s < n; s++)
                  for (guint oy = 0; oy < l.h_out; oy++)
                    for (guint ox = 0; ox < l.w_out; ox++)
                      {
                        int iy = (int) (oy + ky) - (int) l.pad, ix = (int) (ox + kx) - (int) l.pad;

                        if (iy >= 0 && iy < (int) l.h_in && ix >= 0 && ix < (int) l.w_in)
                          {
                            double t = (double) dz[((gsize) o * n + s) * plane + oy * l.w_out + ox]
                                       * x[((gsize) s * l.h_in + iy) * l.w_in + ix];

                            sum += t;
                            abs_sum += fabs (t);
                          }
                      }
                ref[(o * l.k + ky) * l.k + kx] = sum;
                size[(o * l.k + ky) * l.k + kx] = abs_sum;
              }
        pl_conv_kernels_weight_grad (&l, x, dz, plane, n * plane, n, beta, gw, padded);
        for (gsize t = 0; t < l.c_out * kk; t++)
          /* float sums in lanes: within 1e-5 of the terms' sizes summed (one term missed or
           * counted twice would be off by its own size, ~0.25 on average) */
          if (fabs (gw[t] - ref[t]) > 1e-5 * size[t] + 1e-6)
            g_error ("1x%ux%u-c%uk%up%u, %u samples: weight gradient %zu is %.7g, the loops %.7g",
                     l.h_in, l.w_in, l.c_out, l.k, l.pad, n, (size_t) t, gw[t], ref[t]);
      }
      checked++;
    }
  g_assert_cmpuint (checked, ==, 60);

  /* what they do not take */
  {
    PlConvLayer two = { .kind = PL_CONV_LAYER_CONV, .c_in = 2, .k = 3, .w_out = 8 };
    PlConvLayer narrow = { .kind = PL_CONV_LAYER_CONV, .c_in = 1, .k = 3, .w_out = 7 };
    PlConvLayer wide = { .kind = PL_CONV_LAYER_CONV, .c_in = 1, .k = 8, .w_out = 8 };

    g_assert_false (pl_conv_kernels_direct (&two));
    g_assert_false (pl_conv_kernels_direct (&narrow));
    g_assert_false (pl_conv_kernels_direct (&wide));
  }
}

/* The channel kernels (8 or 16 filters over more than one input channel: forward, weight and
 * input gradients) against plain loops in double, on random shapes: 2 to 7 input channels, kernels 1 to 7, padding 0 and
 * > 0, square and odd-sized maps, position and tap counts that are and are not multiples of the
 * groups. */
static void
test_channel_kernels_match_loops (void)
{
  PlRng rng;

  pl_rng_init (&rng, 43);
  for (guint trial = 0; trial < 40; trial++)
    {
      PlConvLayer l = { .kind = PL_CONV_LAYER_CONV };
      guint n = 1 + (guint) pl_rng_below (&rng, 3);
      g_autofree float *w = NULL;
      g_autofree float *x = NULL;
      g_autofree float *z = NULL;
      g_autofree float *dz = NULL;
      g_autofree float *gw = NULL;
      g_autofree float *padded = NULL;
      g_autofree double *ref = NULL;
      g_autofree double *size = NULL;
      gsize plane, ckk, in_plane;
      float beta = trial % 2 == 0 ? 0.0f : 1.0f;

      l.c_in = 2 + (guint) pl_rng_below (&rng, 6);
      l.c_out = trial % 3 == 0 ? 8 : 16;
      l.k = 1 + (guint) pl_rng_below (&rng, 7);
      l.pad = trial % 4 == 0 ? 0 : (guint) pl_rng_below (&rng, l.k);
      l.h_in = l.k + (guint) pl_rng_below (&rng, 11);
      l.w_in = MAX (l.k + (guint) pl_rng_below (&rng, 13), 1);
      l.h_out = l.h_in + 2 * l.pad - l.k + 1;
      l.w_out = l.w_in + 2 * l.pad - l.k + 1;
      g_assert_true (pl_conv_kernels_channels (&l));
      plane = (gsize) l.h_out * l.w_out;
      ckk = (gsize) l.c_in * l.k * l.k;
      in_plane = (gsize) l.h_in * l.w_in;

      w = g_new (float, l.c_out * ckk);
      x = g_new (float, n * l.c_in * in_plane);
      z = g_new (float, n * l.c_out * plane);
      dz = g_new (float, n * l.c_out * plane);
      gw = g_new (float, l.c_out * ckk);
      ref = g_new0 (double, l.c_out * ckk);
      size = g_new0 (double, l.c_out * ckk);
      padded = g_new (float, (gsize) l.c_in * (l.h_in + 2 * l.pad) * (l.w_in + 2 * l.pad));
      for (gsize t = 0; t < l.c_out * ckk; t++)
        {
          w[t] = (float) (2.0 * pl_rng_uniform (&rng) - 1.0);
          gw[t] = (float) (2.0 * pl_rng_uniform (&rng) - 1.0);
        }
      for (gsize t = 0; t < n * l.c_in * in_plane; t++)
        x[t] = (float) (2.0 * pl_rng_uniform (&rng) - 1.0);
      for (gsize t = 0; t < n * l.c_out * plane; t++)
        dz[t] = (float) (2.0 * pl_rng_uniform (&rng) - 1.0);
      l.w = w;

      for (guint o = 0; o < l.c_out; o++)
        for (gsize t = 0; t < ckk; t++)
          ref[o * ckk + t] = beta * (double) gw[o * ckk + t];
      pl_conv_kernels_channels_forward (&l, x, n, z, padded);
      for (guint s = 0; s < n; s++)
        for (guint o = 0; o < l.c_out; o++)
          for (guint oy = 0; oy < l.h_out; oy++)
            for (guint ox = 0; ox < l.w_out; ox++)
              {
                double sum = 0.0, abs_sum = 0.0;
                double d = dz[((gsize) o * n + s) * plane + oy * l.w_out + ox];

                for (guint c = 0; c < l.c_in; c++)
                  for (guint ky = 0; ky < l.k; ky++)
                    for (guint kx = 0; kx < l.k; kx++)
                      {
                        int iy = (int) (oy + ky) - (int) l.pad, ix = (int) (ox + kx) - (int) l.pad;
                        gsize t = (c * l.k + ky) * l.k + kx;
                        double xv;

                        if (iy < 0 || iy >= (int) l.h_in || ix < 0 || ix >= (int) l.w_in)
                          continue;
                        xv = x[((gsize) s * l.c_in + c) * in_plane + (gsize) iy * l.w_in + ix];
                        sum += (double) w[o * ckk + t] * xv;
                        abs_sum += fabs ((double) w[o * ckk + t] * xv);
                        /* the weight gradient's terms, dz channel-major over the samples */
                        ref[o * ckk + t] += d * xv;
                        size[o * ckk + t] += fabs (d * xv);
                      }
                if (fabs (z[((gsize) s * l.c_out + o) * plane + oy * l.w_out + ox] - sum)
                    > 1e-6 * abs_sum + 1e-7)
                  g_error ("%ux%ux%u-c%uk%up%u: output %u,%u,%u,%u is %.7g, the loops %.7g",
                           l.c_in, l.h_in, l.w_in, l.c_out, l.k, l.pad, s, o, oy, ox,
                           z[((gsize) s * l.c_out + o) * plane + oy * l.w_out + ox], sum);
              }

      pl_conv_kernels_channels_weight_grad (&l, x, dz, plane, n * plane, n, beta, gw, padded);
      for (gsize t = 0; t < l.c_out * ckk; t++)
        if (fabs (gw[t] - ref[t]) > 1e-5 * (size[t] + fabs (ref[t])) + 1e-6)
          g_error ("%ux%ux%u-c%uk%up%u, %u samples: weight gradient %zu is %.7g, the loops %.7g",
                   l.c_in, l.h_in, l.w_in, l.c_out, l.k, l.pad, n, (size_t) t, gw[t], ref[t]);

      /* the input gradient: every output's dz spread back over the inputs its patch read */
      {
        g_autofree float *dx = g_new (float, n * l.c_in * in_plane);
        g_autofree double *dx_ref = g_new0 (double, n * l.c_in * in_plane);
        g_autofree double *dx_size = g_new0 (double, n * l.c_in * in_plane);

        g_assert_true (pl_conv_kernels_input (&l));
        for (guint s = 0; s < n; s++)
          for (guint o = 0; o < l.c_out; o++)
            for (guint oy = 0; oy < l.h_out; oy++)
              for (guint ox = 0; ox < l.w_out; ox++)
                for (guint c = 0; c < l.c_in; c++)
                  for (guint ky = 0; ky < l.k; ky++)
                    for (guint kx = 0; kx < l.k; kx++)
                      {
                        int iy = (int) (oy + ky) - (int) l.pad, ix = (int) (ox + kx) - (int) l.pad;
                        gsize at = ((gsize) s * l.c_in + c) * in_plane + (gsize) iy * l.w_in + ix;
                        double t;

                        if (iy < 0 || iy >= (int) l.h_in || ix < 0 || ix >= (int) l.w_in)
                          continue;
                        t = (double) w[o * ckk + (c * l.k + ky) * l.k + kx]
                            * dz[((gsize) o * n + s) * plane + oy * l.w_out + ox];
                        dx_ref[at] += t;
                        dx_size[at] += fabs (t);
                      }
        pl_conv_kernels_input_grad (&l, dz, plane, n * plane, n, dx);
        for (gsize t = 0; t < n * l.c_in * in_plane; t++)
          if (fabs (dx[t] - dx_ref[t]) > 1e-6 * dx_size[t] + 1e-7)
            g_error ("%ux%ux%u-c%uk%up%u, %u samples: input gradient %zu is %.7g, the loops %.7g",
                     l.c_in, l.h_in, l.w_in, l.c_out, l.k, l.pad, n, (size_t) t, dx[t], dx_ref[t]);
      }
    }

  {
    PlConvLayer one = { .kind = PL_CONV_LAYER_CONV, .c_in = 1, .c_out = 16, .k = 3 };
    PlConvLayer twelve = { .kind = PL_CONV_LAYER_CONV, .c_in = 3, .c_out = 12, .k = 3 };

    g_assert_false (pl_conv_kernels_channels (&one));
    g_assert_false (pl_conv_kernels_channels (&twelve));
  }
}

/* The vectorised 2×2 max-pool against the window loop: ties (values from {0, 1, 2}) go to the
 * first place in the window, a NaN at a window's first place comes through, widths with and
 * without a remainder of 8 outputs, odd input sizes (the last row and column dropped). */
static void
test_max_pool2_matches_loop (void)
{
  PlRng rng;

  pl_rng_init (&rng, 47);
  for (guint trial = 0; trial < 20; trial++)
    {
      PlConvLayer l = { .kind = PL_CONV_LAYER_POOL, .k = 2 };
      guint n = 1 + (guint) pl_rng_below (&rng, 3);
      g_autofree float *x = NULL;
      g_autofree float *out = NULL;
      g_autofree guint32 *argmax = NULL;
      gsize in_plane, out_plane;

      l.c_in = l.c_out = 1 + (guint) pl_rng_below (&rng, 4);
      l.h_in = 2 + (guint) pl_rng_below (&rng, 9);
      l.w_in = 2 + (guint) pl_rng_below (&rng, 50);
      l.h_out = l.h_in / 2;
      l.w_out = l.w_in / 2;
      in_plane = (gsize) l.h_in * l.w_in;
      out_plane = (gsize) l.h_out * l.w_out;
      x = g_new (float, n * l.c_in * in_plane);
      out = g_new (float, n * l.c_out * out_plane);
      argmax = g_new (guint32, n * l.c_out * out_plane);
      for (gsize t = 0; t < n * l.c_in * in_plane; t++)
        x[t] = (float) pl_rng_below (&rng, 3);
      x[0] = NAN;
      if (l.w_in > 3)
        x[3] = NAN;   /* the second place of window 1: the others win */

      pl_conv_kernels_max_pool2 (out, argmax, x, &l, n);
      for (gsize sc = 0; sc < (gsize) n * l.c_out; sc++)
        for (gsize oy = 0; oy < l.h_out; oy++)
          for (gsize ox = 0; ox < l.w_out; ox++)
            {
              const float *plane = x + sc * in_plane;
              gsize best = 2 * oy * l.w_in + 2 * ox, o = sc * out_plane + oy * l.w_out + ox;

              for (gsize ky = 0; ky < 2; ky++)
                for (gsize kx = 0; kx < 2; kx++)
                  {
                    gsize at = (2 * oy + ky) * l.w_in + 2 * ox + kx;

                    if (plane[at] > plane[best])
                      best = at;
                  }
              if (isnan (plane[best]))
                g_assert_true (isnan (out[o]));
              else
                g_assert_cmpfloat (out[o], ==, plane[best]);
              g_assert_cmpuint (argmax[o], ==, sc % l.c_out * in_plane + best);
            }
      g_assert_true (isnan (out[0]));
    }
}

/* Networks whose conv layers run the direct kernels, with odd widths and more than one group
 * of filters, against the nested loops and finite differences. */
static void
test_direct_layer_gradient (void)
{
  const char * const direct[] = {
    "1x9x11-c7k3p1-m2-5-3",          /* w_out 11: one full block and an overlapping one */
    "1x10x13-c2k5-m3-4",             /* no padding, w_out 9 */
    "2x7x9-c8k3p1-m2-c16k2-5",       /* the channel kernels: 8 filters padded, 16 unpadded */
  };

  for (guint a = 0; a < G_N_ELEMENTS (direct); a++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(PlConvNet) net = pl_conv_net_new_from_arch (direct[a], PL_ACTIVATION_RELU, &error);

      g_assert_no_error (error);
      g_assert_true (pl_conv_kernels_direct (&net->layers[0])
                     || pl_conv_kernels_channels (&net->layers[0]));
      check_forward (direct[a], PL_ACTIVATION_RELU, FALSE);
      check_forward (direct[a], PL_ACTIVATION_TANH, TRUE);
      check_gradient (direct[a], PL_ACTIVATION_TANH, FALSE);
      check_gradient (direct[a], PL_ACTIVATION_RELU, TRUE);
      check_gradient (direct[a], PL_ACTIVATION_SIGMOID, FALSE);
    }
}

static void
test_gradient_tanh (void)
{
  for (guint a = 0; a < G_N_ELEMENTS (archs); a++)
    {
      check_gradient (archs[a], PL_ACTIVATION_TANH, FALSE);
      check_gradient (archs[a], PL_ACTIVATION_TANH, TRUE);
    }
}

static void
test_gradient_relu (void)
{
  for (guint a = 0; a < G_N_ELEMENTS (archs); a++)
    {
      check_gradient (archs[a], PL_ACTIVATION_RELU, FALSE);
      check_gradient (archs[a], PL_ACTIVATION_RELU, TRUE);
    }
}

static void
test_gradient_sigmoid (void)
{
  check_gradient (archs[2], PL_ACTIVATION_SIGMOID, FALSE);
}

static void
test_arch_lenet5 (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PlConvNet) net = pl_conv_net_new_from_arch ("lenet5", PL_ACTIVATION_RELU, &error);
  g_autoptr(PlConvNet) same = NULL;
  g_autoptr(PlConvNet) copy = NULL;
  g_autofree char *arch = NULL;
  g_autofree char *arch2 = NULL;

  g_assert_no_error (error);
  arch = pl_conv_net_arch (net);
  g_assert_cmpstr (arch, ==, "1x28x28-c6k5p2-m2-c16k5-m2-120-84-10");
  g_assert_cmpuint (net->n_layers, ==, 4);
  g_assert_cmpuint (net->layers[0].h_out, ==, 28);
  g_assert_cmpuint (net->layers[1].h_out, ==, 14);
  g_assert_cmpuint (net->layers[2].h_out, ==, 10);
  g_assert_cmpuint (net->layers[3].w_out, ==, 5);
  g_assert_cmpuint (net->head->sizes[0], ==, 400);
  /* 6·25 + 6, 16·6·25 + 16; 400·120 + 120, 120·84 + 84, 84·10 + 10: LeNet-5's 61,706 */
  g_assert_cmpuint (net->n_params, ==, 156 + 2416);
  g_assert_cmpuint (pl_conv_net_n_params (net), ==, 61706);
  g_assert_true (pl_conv_arch_is_conv ("lenet5"));
  g_assert_true (pl_conv_arch_is_conv ("1x28x28-10"));
  g_assert_false (pl_conv_arch_is_conv ("784-300-100-10"));
  g_assert_false (pl_conv_arch_is_conv ("784-x"));

  same = pl_conv_net_new_from_arch (arch, PL_ACTIVATION_TANH, &error);
  g_assert_no_error (error);
  pl_conv_net_init (same, 9);
  copy = pl_conv_net_copy (same);
  arch2 = pl_conv_net_arch (copy);
  g_assert_cmpstr (arch2, ==, arch);
  g_assert_cmpmem (copy->params, sizeof (float) * copy->n_params, same->params, sizeof (float) * same->n_params);
  g_assert_cmpmem (copy->head->params, sizeof (float) * copy->head->n_params,
                   same->head->params, sizeof (float) * same->head->n_params);
}

static void
test_arch_rejects_malformed (void)
{
  static const struct {
    const char *arch;
    const char *says;   /* a part of the message */
  } bad[] = {
    { "1x28x28", "input shape, layers and dense sizes" },
    { "1x28-10", "is not an input shape" },
    { "0x28x28-10", "is not an input shape" },
    { "1x28x28x3-10", "is not an input shape" },
    { "1xx28-10", "is not an input shape" },
    { "1x28x28-c6-10", "is not a layer" },
    { "1x28x28-c6k-10", "is not a layer" },
    { "1x28x28-c0k5-10", "is not a layer" },
    { "1x28x28-c6k5p-10", "is not a layer" },
    { "1x28x28-c6k5q2-10", "is not a layer" },
    { "1x28x28-m-10", "is not a layer" },
    { "1x28x28-m2x-10", "is not a layer" },
    { "1x28x28-r2-10", "is not a layer" },
    { "1x28x28-c6k5p5-10", "pads by 5" },
    { "1x28x28-c6k33-10", "is not a layer" },
    { "1x4x4-c6k5-10", "needs an input of at least 5×5, it gets 4×4" },
    { "1x4x4-m5-10", "needs an input of at least 5×5" },
    { "1x28x28-c6k5-m2", "no dense layer" },
    { "1x28x28-c6k5-m2-", "is not a layer" },
    { "1x28x28-c6k5", "no dense layer" },
    { "1x28x28-10-c6k5", "follows a dense layer" },
    { "1x28x28-c6k5-0", "is not a layer size" },
    { "1x28x28-c6k5-99999999999", "is not a layer size" },
    { "1x256x256-c4096k1-m256-10", "more than 16777216 values per sample" },
    { "1x4096x4096-c1k3-m64-10", "more than 16777216 values per sample" },
    { "1x64x64-c100k1-10", "flattened features" },
    { "lenet", "input shape, layers and dense sizes" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(PlConvNet) net = pl_conv_net_new_from_arch (bad[i].arch, PL_ACTIVATION_RELU, &error);

      g_assert_null (net);
      g_assert_error (error, PL_SPEC_ERROR, PL_SPEC_ERROR_INVALID);
      if (strstr (error->message, bad[i].says) == NULL || strstr (error->message, bad[i].arch) == NULL)
        g_error ("“%s”: expected a message with “%s”, got “%s”", bad[i].arch, bad[i].says, error->message);
    }
}

static void
test_file_round_trip (void)
{
  g_autoptr(PlConvNet) net = make_net (archs[2], PL_ACTIVATION_TANH, 21);
  g_autoptr(PlConvNet) back = NULL;
  g_autoptr(PlSafetensors) st = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_build_filename (pl_test_tmp_dir (), "conv.safetensors", NULL);
  g_autofree char *arch = NULL;
  gsize dims[4];

  prune_some (net);
  g_assert_true (pl_conv_net_save (net, path, &error));
  g_assert_no_error (error);
  g_assert_true (pl_conv_file_is_conv (path));

  /* the layout PyTorch's nn.Conv2d and nn.Linear take */
  st = pl_safetensors_open (path, &error);
  g_assert_no_error (error);
  g_assert_true (pl_safetensors_get_shape (st, "layers.0.weight", 4, dims, &error));
  g_assert_cmpuint (dims[0], ==, 2);
  g_assert_cmpuint (dims[1], ==, 1);
  g_assert_cmpuint (dims[2], ==, 3);
  g_assert_cmpuint (dims[3], ==, 3);
  g_assert_true (pl_safetensors_get_shape (st, "layers.1.weight_mask", 4, dims, &error));
  g_assert_cmpuint (dims[0], ==, 3);
  g_assert_cmpuint (dims[1], ==, 2);
  g_assert_true (pl_safetensors_get_shape (st, "layers.2.weight", 2, dims, &error));
  g_assert_cmpuint (dims[0], ==, 4);
  g_assert_cmpuint (dims[1], ==, 3);
  g_assert_no_error (error);
  g_assert_cmpstr (pl_safetensors_get_metadata (st, "activation"), ==, "tanh");

  back = pl_conv_net_load (path, &error);
  g_assert_no_error (error);
  arch = pl_conv_net_arch (back);
  g_assert_cmpstr (arch, ==, archs[2]);
  g_assert_cmpint (back->activation, ==, PL_ACTIVATION_TANH);
  g_assert_cmpmem (back->params, sizeof (float) * back->n_params, net->params, sizeof (float) * net->n_params);
  g_assert_cmpmem (back->masks, sizeof (float) * back->n_params, net->masks, sizeof (float) * net->n_params);
  g_assert_cmpmem (back->filter_masks, sizeof (float) * back->n_filters,
                   net->filter_masks, sizeof (float) * net->n_filters);
  g_assert_cmpmem (back->head->params, sizeof (float) * back->head->n_params,
                   net->head->params, sizeof (float) * net->head->n_params);
  g_assert_cmpmem (back->head->masks, sizeof (float) * back->head->n_params,
                   net->head->masks, sizeof (float) * net->head->n_params);
}

/* A file like the one pl_conv_net_save writes for 1x4x4-c2k3-3, with one thing changed. */
static char *
write_bad (const char  *name,
           const char  *arch,
           guint        weight0_rank,
           float        mask_value,
           gboolean     extra_layer,
           float        bias_value)
{
  g_autoptr(PlSafetensorsWriter) w = pl_safetensors_writer_new ();
  g_autoptr(GBytes) bytes = NULL;
  float v[64];
  gsize d0[4] = { 2, 1, 3, 3 }, d0b[1] = { 2 }, d1[2] = { 3, 8 }, d1b[1] = { 3 };
  gsize d0r2[2] = { 2, 9 };

  for (guint k = 0; k < G_N_ELEMENTS (v); k++)
    v[k] = 0.01f * k;
  if (arch != NULL)
    pl_safetensors_writer_add_metadata (w, "arch", arch);
  pl_safetensors_writer_add_f32 (w, "layers.0.weight", weight0_rank, weight0_rank == 4 ? d0 : d0r2, v, FALSE);
  v[1] = bias_value;
  pl_safetensors_writer_add_f32 (w, "layers.0.bias", 1, d0b, v, FALSE);
  v[1] = 0.01f;
  if (mask_value >= 0.0f)
    {
      float m[18];

      for (guint k = 0; k < 18; k++)
        m[k] = k == 4 ? mask_value : 1.0f;
      pl_safetensors_writer_add_f32 (w, "layers.0.weight_mask", 4, d0, m, FALSE);
    }
  pl_safetensors_writer_add_f32 (w, "layers.1.weight", 2, d1, v, FALSE);
  pl_safetensors_writer_add_f32 (w, "layers.1.bias", 1, d1b, v, FALSE);
  if (extra_layer)
    pl_safetensors_writer_add_f32 (w, "layers.2.weight", 2, d1, v, FALSE);
  bytes = pl_safetensors_writer_finish (w);
  return pl_test_write_bytes (name, bytes);
}

static void
test_file_rejects_bad (void)
{
  static const struct {
    const char *name;
    const char *arch;
    guint       rank;
    float       mask;
    gboolean    extra;
    float       bias;
    const char *says;
  } bad[] = {
    { "conv-good.safetensors", "1x4x4-c2k3-3", 4, 0.0f, FALSE, 0.5f, NULL },
    { "conv-no-arch.safetensors", NULL, 4, -1.0f, FALSE, 0.5f, "no convolutional architecture" },
    { "conv-mlp-arch.safetensors", "16-3", 4, -1.0f, FALSE, 0.5f, "no convolutional architecture" },
    { "conv-bad-arch.safetensors", "1x4x4-c2k3p9-3", 4, -1.0f, FALSE, 0.5f, "pads by 9" },
    { "conv-other-arch.safetensors", "1x4x4-c3k3-3", 4, -1.0f, FALSE, 0.5f, "dimension 0 is 2, not 3" },
    { "conv-rank.safetensors", "1x4x4-c2k3-3", 2, -1.0f, FALSE, 0.5f, "has 2 dimensions, not 4" },
    { "conv-mask.safetensors", "1x4x4-c2k3-3", 4, 0.5f, FALSE, 0.5f, "a mask holds 0 or 1" },
    { "conv-nan.safetensors", "1x4x4-c2k3-3", 4, -1.0f, FALSE, NAN, "not a finite number" },
    { "conv-extra.safetensors", "1x4x4-c2k3-3", 4, -1.0f, TRUE, 0.5f, "one layer more" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *path = write_bad (bad[i].name, bad[i].arch, bad[i].rank, bad[i].mask,
                                         bad[i].extra, bad[i].bias);
      g_autoptr(PlConvNet) net = pl_conv_net_load (path, &error);

      if (bad[i].says == NULL)
        {
          g_assert_no_error (error);
          g_assert_nonnull (net);
          /* the mask's 0 zeroed its weight; the filter still feeds the head */
          g_assert_cmpfloat (net->layers[0].w[4], ==, 0.0f);
          g_assert_cmpfloat (net->layers[0].b[1], ==, 0.5f);
          continue;
        }
      g_assert_null (net);
      g_assert_nonnull (error);
      pl_test_assert_message_names (error, path);
      if (strstr (error->message, bad[i].says) == NULL)
        g_error ("%s: expected “%s” in “%s”", bad[i].name, bad[i].says, error->message);
    }
}

/* Images whose class is the quadrant holding the bright blob: a conv net must learn it. */
static PlDataset *
blob_images (guint   n,
             guint64 seed)
{
  PlDataset *d = pl_dataset_new (n, 36, 4);
  PlRng rng;

  pl_rng_init (&rng, seed);
  for (guint s = 0; s < n; s++)
    {
      guint q = s % 4, cy = (q / 2) * 3 + (guint) pl_rng_below (&rng, 2) + 1;
      guint cx = (q % 2) * 3 + (guint) pl_rng_below (&rng, 2) + 1;

      for (guint k = 0; k < 36; k++)
        d->x[(gsize) s * 36 + k] = (float) (0.3 * pl_rng_uniform (&rng));
      d->x[(gsize) s * 36 + cy * 6 + cx] += 1.0f;
      d->y[s] = q;
    }
  return d;
}

static void
train_once (PlConvNet *net,
            guint      threads,
            guint      epochs)
{
  g_autoptr(PlDataset) train = blob_images (400, 1);
  g_autoptr(PlConvTrainer) trainer = NULL;
  g_autoptr(GError) error = NULL;
  PlTrainConfig config;

  pl_train_config_init (&config);
  config.epochs = epochs;
  config.batch_size = 32;
  config.lr = 0.05;
  config.weight_decay = 1e-4;
  config.threads = threads;
  trainer = pl_conv_trainer_new (net, &config);
  g_assert_true (pl_conv_trainer_run (trainer, train, NULL, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (pl_conv_trainer_get_history (trainer)->len, ==, epochs);
  g_assert_cmpuint (pl_conv_trainer_get_grad_norms (trainer)->len, ==, epochs * 13);
}

static void
test_train_learns_and_keeps_pruned_zero (void)
{
  g_autoptr(PlConvNet) net = make_net ("1x6x6-c4k3p1-m2-8-4", PL_ACTIVATION_RELU, 2);
  g_autoptr(PlConvNet) again = NULL;
  g_autoptr(PlConvNet) two = NULL;
  g_autoptr(PlDataset) test = blob_images (200, 2);
  g_autoptr(PlEvaluation) before = NULL;
  g_autoptr(PlEvaluation) after = NULL;
  g_autoptr(GError) error = NULL;
  const PlConvLayer *l0 = &net->layers[0];

  /* filter 3 cut off (its outgoing head columns), and a few conv weights */
  for (guint o = 0; o < net->head->layers[0].n_out; o++)
    for (guint t = 0; t < 9; t++)
      net->head->layers[0].w_mask[(gsize) o * 36 + 27 + t] = 0.0f;
  l0->w_mask[0] = l0->w_mask[10] = 0.0f;
  pl_conv_net_apply_masks (net);
  g_assert_cmpfloat (l0->filter_mask[3], ==, 0.0f);
  again = pl_conv_net_copy (net);
  two = pl_conv_net_copy (net);

  before = pl_conv_evaluate (net, test, &error);
  g_assert_no_error (error);
  train_once (net, 1, 8);
  after = pl_conv_evaluate (net, test, &error);
  g_assert_no_error (error);
  g_test_message ("test accuracy %.3f → %.3f, loss %.3f → %.3f", before->accuracy, after->accuracy,
                  before->loss, after->loss);
  g_assert_cmpfloat (after->accuracy, >=, 0.9);
  g_assert_cmpfloat (after->loss, <, before->loss);
  g_assert_cmpfloat (l0->w[0], ==, 0.0f);
  g_assert_cmpfloat (l0->w[10], ==, 0.0f);
  g_assert_cmpfloat (l0->filter_mask[3], ==, 0.0f);
  for (guint o = 0; o < net->head->layers[0].n_out; o++)
    g_assert_cmpfloat (net->head->layers[0].w[(gsize) o * 36 + 30], ==, 0.0f);

  /* the same seed gives the same weights; two threads sum the same gradient in another order */
  train_once (again, 1, 8);
  g_assert_cmpmem (again->params, sizeof (float) * again->n_params, net->params, sizeof (float) * net->n_params);
  train_once (two, 2, 8);
  for (gsize k = 0; k < net->n_params; k++)
    g_assert_cmpfloat_with_epsilon (two->params[k], net->params[k], 1e-3);
}

static void
test_train_rejects_mismatched_data (void)
{
  g_autoptr(PlConvNet) net = make_net ("1x5x5-c2k3-4", PL_ACTIVATION_RELU, 2);
  g_autoptr(PlDataset) data = blob_images (8, 1);
  g_autoptr(PlConvTrainer) trainer = NULL;
  g_autoptr(GError) error = NULL;
  PlTrainConfig config;

  pl_train_config_init (&config);
  trainer = pl_conv_trainer_new (net, &config);
  g_assert_false (pl_conv_trainer_run (trainer, data, NULL, NULL, NULL, NULL, &error));
  g_assert_error (error, PL_TRAIN_ERROR, PL_TRAIN_ERROR_MISMATCH);
  g_clear_error (&error);
  g_assert_null (pl_conv_evaluate (net, data, &error));
  g_assert_error (error, PL_TRAIN_ERROR, PL_TRAIN_ERROR_MISMATCH);
}

/* The weights of a network in ranking order: conv layers, then the head. */
static guint
weight_layers (PlConvNet *net,
               float    **w,
               float    **mask,
               gsize     *n)
{
  guint k = 0;

  for (guint i = 0; i < net->n_layers; i++)
    if (net->layers[i].kind == PL_CONV_LAYER_CONV)
      {
        PlConvLayer *l = &net->layers[i];

        w[k] = l->w;
        mask[k] = l->w_mask;
        n[k++] = (gsize) l->c_out * l->c_in * l->k * l->k;
      }
  for (guint i = 0; i < net->head->n_layers; i++)
    {
      w[k] = net->head->layers[i].w;
      mask[k] = net->head->layers[i].w_mask;
      n[k++] = (gsize) net->head->layers[i].n_out * net->head->layers[i].n_in;
    }
  return k;
}

/* Global magnitude pruning against a count of ranks: weight (i, k) goes when fewer than
 * target others come before it in (|w|, layer, index) order, the layers' keepers aside. */
static void
test_prune_magnitude_matches_ranks (void)
{
  for (guint global = 0; global < 2; global++)
    {
      g_autoptr(PlConvNet) net = make_net (archs[2], PL_ACTIVATION_RELU, 31);
      g_autoptr(PlConvNet) orig = NULL;
      float *w[8], *mask[8], *ow[8], *omask[8];
      gsize n[8], on[8], total = 0;
      guint L;
      const double s = 0.6;

      /* ties across layers and within one, to test the order */
      net->layers[0].w[1] = net->layers[0].w[2] = 0.05f;
      net->head->layers[0].w[0] = -0.05f;
      orig = pl_conv_net_copy (net);
      L = weight_layers (net, w, mask, n);
      weight_layers (orig, ow, omask, on);
      pl_conv_prune_magnitude (net, s, global, FALSE);

      for (guint i = 0; i < L; i++)
        total += n[i];
      for (guint i0 = 0; i0 < (global ? 1 : L); i0++)
        {
          guint first = global ? 0 : i0, last = global ? L : i0 + 1;
          gsize in_scope = 0, target, got = 0;

          for (guint i = first; i < last; i++)
            in_scope += n[i];
          target = (gsize) nearbyint (s * in_scope);
          for (guint i = first; i < last; i++)
            {
              gsize keeper = 0;

              for (gsize k = 1; k < n[i]; k++)
                if (fabsf (ow[i][k]) >= fabsf (ow[i][keeper]))
                  keeper = k;
              for (gsize k = 0; k < n[i]; k++)
                {
                  gsize before = 0;
                  gboolean expect;

                  for (guint j = first; j < last; j++)
                    {
                      gsize kj = 0;

                      /* the keepers are never candidates: they do not count */
                      for (gsize r = 1; r < n[j]; r++)
                        if (fabsf (ow[j][r]) >= fabsf (ow[j][kj]))
                          kj = r;
                      for (gsize q = 0; q < n[j]; q++)
                        {
                          float a = fabsf (ow[j][q]), b = fabsf (ow[i][k]);

                          if (q == kj)
                            continue;
                          if (a < b || (a == b && (j < i || (j == i && q < k))))
                            before++;
                        }
                    }
                  expect = k != keeper && before < target;
                  g_assert_cmpint (mask[i][k] == 0.0f, ==, expect);
                  if (expect)
                    g_assert_cmpfloat (w[i][k], ==, 0.0f);
                  got += mask[i][k] == 0.0f;
                }
            }
          g_assert_cmpuint (got, ==, target);
        }
      if (global)
        g_assert_cmpuint (pl_conv_net_n_pruned (net), ==, (gsize) nearbyint (s * total));
    }
}

/* Li et al.'s filter norms on weights set by hand: filter A = (1, 0, 0, 0) has L1 1 and L2 1,
 * B = (0.4, 0.4, 0.4, 0.4) L1 1.6 and L2 0.8, C = (1, 1, 1, 1) L1 4 and L2 2. */
static void
test_prune_filters_by_hand (void)
{
  for (guint l2 = 0; l2 < 2; l2++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(PlConvNet) net = pl_conv_net_new_from_arch ("1x4x4-c3k2-c2k2-3", PL_ACTIVATION_RELU, &error);
      g_autoptr(PlDataset) data = NULL;
      g_autoptr(PlConvWork) work = NULL;
      PlConvLayer *c0, *c1;
      const float filters[3][4] = { { 1, 0, 0, 0 }, { 0.4f, 0.4f, 0.4f, 0.4f }, { 1, 1, 1, 1 } };
      double norm[3];
      guint gone = l2 ? 1 : 0;   /* L1 removes A, L2 removes B */
      guint removed;

      g_assert_no_error (error);
      pl_conv_net_init (net, 4);
      c0 = &net->layers[0];
      c1 = &net->layers[1];
      for (guint o = 0; o < 3; o++)
        {
          memcpy (c0->w + o * 4, filters[o], sizeof filters[o]);
          c0->b[o] = 0.5f;   /* a bias alone keeps a map alive: the mask must kill it */
        }
      /* layer 1: filter 0 has the smaller norm either way */
      for (guint t = 0; t < 12; t++)
        {
          c1->w[t] = 0.01f * (t + 1);
          c1->w[12 + t] = 1.0f;
        }
      pl_conv_filter_norms (net, 0, l2, norm);
      g_assert_cmpfloat_with_epsilon (norm[0], 1.0, 1e-6);
      g_assert_cmpfloat_with_epsilon (norm[1], l2 ? 0.8 : 1.6, 1e-6);
      g_assert_cmpfloat_with_epsilon (norm[2], l2 ? 2.0 : 4.0, 1e-6);

      /* round(1/3 · 3) = 1 filter of layer 0, round(1/3 · 2) = 1 of layer 1 */
      removed = pl_conv_prune_filters (net, 1.0 / 3.0, l2);
      g_assert_cmpuint (removed, ==, 2);
      for (guint o = 0; o < 3; o++)
        g_assert_cmpfloat (c0->filter_mask[o], ==, o == gone ? 0.0f : 1.0f);
      for (guint t = 0; t < 4; t++)
        g_assert_cmpfloat (c0->w[gone * 4 + t], ==, 0.0f);
      /* the next layer's input channel went with it */
      for (guint q = 0; q < 2; q++)
        for (guint t = 0; t < 4; t++)
          {
            g_assert_cmpfloat (c1->w_mask[(q * 3 + gone) * 4 + t], ==, 0.0f);
            /* (layer 1's filter 0 is removed itself, below) */
            g_assert_cmpfloat (c1->w_mask[(q * 3 + (gone + 1) % 3) * 4 + t], ==, q == 1 ? 1.0f : 0.0f);
          }
      /* layer 1's filter 0 and the head's columns of its 2×2 map */
      g_assert_cmpfloat (c1->filter_mask[0], ==, 0.0f);
      g_assert_cmpfloat (c1->filter_mask[1], ==, 1.0f);
      for (guint q = 0; q < 3; q++)
        for (guint t = 0; t < 4; t++)
          {
            g_assert_cmpfloat (net->head->layers[0].w_mask[q * 8 + t], ==, 0.0f);
            g_assert_cmpfloat (net->head->layers[0].w_mask[q * 8 + 4 + t], ==, 1.0f);
          }

      /* the removed maps are 0 in the forward pass, bias or not */
      data = pl_test_random_data (3, 16, 3, 5);
      work = pl_conv_work_new (net, 3);
      pl_conv_forward (net, work, data->x, 3);
      for (guint s = 0; s < 3; s++)
        for (guint t = 0; t < 9; t++)
          g_assert_cmpfloat (pl_conv_work_activation (work, 0)[(s * 3 + gone) * 9 + t], ==, 0.0f);

      /* nothing more at the same sparsity; at most c_out − 1 at any */
      g_assert_cmpuint (pl_conv_prune_filters (net, 1.0 / 3.0, l2), ==, 0);
      g_assert_cmpuint (pl_conv_prune_filters (net, 1.0, l2), ==, 1);
      g_assert_cmpuint (c0->filter_mask[0] + c0->filter_mask[1] + c0->filter_mask[2], ==, 1);
    }
}

/* FPGM (He et al. 2019, Eq. 6) by hand on three 1×2×2 filters A = (0,0,0,0), B = (3,0,0,4),
 * C = (0,0,0,1): ‖A−B‖ = 5, ‖A−C‖ = 1, ‖B−C‖ = √(9+9) = 3√2, so g(A) = 6, g(B) = 5 + 3√2,
 * g(C) = 1 + 3√2 ≈ 5.243 — C, nearest the geometric median, goes first although A has the
 * smaller norm. */
static void
test_prune_filters_fpgm_by_hand (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PlConvNet) net = pl_conv_net_new_from_arch ("1x4x4-c3k2-c2k2-3", PL_ACTIVATION_RELU, &error);
  PlConvLayer *c0, *c1;
  const float filters[3][4] = { { 0, 0, 0, 0 }, { 3, 0, 0, 4 }, { 0, 0, 0, 1 } };
  double g[3];

  g_assert_no_error (error);
  pl_conv_net_init (net, 4);
  c0 = &net->layers[0];
  c1 = &net->layers[1];
  for (guint o = 0; o < 3; o++)
    memcpy (c0->w + o * 4, filters[o], sizeof filters[o]);
  pl_conv_filter_fpgm (net, 0, g);
  g_assert_cmpfloat_with_epsilon (g[0], 6.0, 1e-9);
  g_assert_cmpfloat_with_epsilon (g[1], 5.0 + 3.0 * sqrt (2.0), 1e-6);
  g_assert_cmpfloat_with_epsilon (g[2], 1.0 + 3.0 * sqrt (2.0), 1e-6);

  /* layer 1, two filters: g is ‖F_0 − F_1‖ for both, a tie, so filter 0 goes */
  g_assert_cmpuint (pl_conv_prune_filters_by (net, 1.0 / 3.0, PL_CONV_FILTER_FPGM), ==, 2);
  g_assert_cmpfloat (c0->filter_mask[0], ==, 1.0f);
  g_assert_cmpfloat (c0->filter_mask[1], ==, 1.0f);
  g_assert_cmpfloat (c0->filter_mask[2], ==, 0.0f);
  for (guint q = 0; q < 2; q++)
    for (guint t = 0; t < 4; t++)
      g_assert_cmpfloat (c1->w_mask[(q * 3 + 2) * 4 + t], ==, 0.0f);
  g_assert_cmpfloat (c1->filter_mask[0], ==, 0.0f);
  g_assert_cmpfloat (c1->filter_mask[1], ==, 1.0f);

  /* a dead filter counts no more: A and B are left, g(A) = g(B) = 5 */
  pl_conv_filter_fpgm (net, 0, g);
  g_assert_cmpfloat_with_epsilon (g[0], 5.0, 1e-6);
  g_assert_cmpfloat_with_epsilon (g[1], 5.0, 1e-6);
  g_assert_cmpfloat (g[2], ==, 0.0);
}

/* Layer-0 maps of 1x4x4-c3k2-… by direct loops (k = 2, no padding), ReLU, in double. */
static void
naive_conv0 (const PlConvLayer *l,
             const float       *x,
             double             a[3][3][3])
{
  for (guint c = 0; c < 3; c++)
    for (guint y = 0; y < 3; y++)
      for (guint xx = 0; xx < 3; xx++)
        {
          double z = l->b[c];

          for (guint ky = 0; ky < 2; ky++)
            for (guint kx = 0; kx < 2; kx++)
              z += (double) l->w[c * 4 + ky * 2 + kx] * x[(y + ky) * 4 + xx + kx];
          a[c][y][xx] = z > 0.0 ? z : 0.0;
        }
}

/* APoZ and mean activation against direct loops; Taylor (Eq. 8–9) against central finite
 * differences of each sample's loss when filter c's output is scaled by 1 ± ε. */
static void
test_channel_scores_match_loops (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PlConvNet) net = pl_conv_net_new_from_arch ("1x4x4-c3k2-c2k2-3", PL_ACTIVATION_RELU, &error);
  g_autoptr(PlDataset) data = pl_test_random_data (7, 16, 3, 11);
  PlConvLayer *c0;
  double apoz[3], act[3], taylor[3], ref_apoz[3] = { 0 }, ref_act[3] = { 0 }, ref_taylor[3] = { 0 };
  double norm = 0.0;

  g_assert_no_error (error);
  pl_conv_net_init (net, 9);
  c0 = &net->layers[0];
  c0->b[1] = -0.3f;   /* some zeros, not all */
  g_assert_true (pl_conv_channel_scores (net, 0, PL_CONV_CHANNEL_APOZ, data, 100, apoz, &error));
  g_assert_true (pl_conv_channel_scores (net, 0, PL_CONV_CHANNEL_ACTIVATION, data, 100, act, &error));
  g_assert_true (pl_conv_channel_scores (net, 0, PL_CONV_CHANNEL_TAYLOR, data, 100, taylor, &error));
  g_assert_no_error (error);

  for (guint s = 0; s < data->n; s++)
    {
      double a[3][3][3];

      naive_conv0 (c0, data->x + s * 16, a);
      for (guint c = 0; c < 3; c++)
        {
          double zeros = 0.0, sum = 0.0, lp, lm, prob[3];
          const double eps = 1e-3;
          float w0[4], b0 = c0->b[c];

          for (guint p = 0; p < 9; p++)
            {
              zeros += a[c][p / 3][p % 3] == 0.0;
              sum += a[c][p / 3][p % 3];
            }
          ref_apoz[c] += zeros / 9 / data->n;
          ref_act[c] += sum / 9 / data->n;

          memcpy (w0, c0->w + c * 4, sizeof w0);
          for (guint t = 0; t < 4; t++)
            c0->w[c * 4 + t] = (float) (w0[t] * (1 + eps));
          c0->b[c] = (float) (b0 * (1 + eps));
          lp = pl_conv_forward_ref (net, data->x + s * 16, data->y + s, 1, prob);
          for (guint t = 0; t < 4; t++)
            c0->w[c * 4 + t] = (float) (w0[t] * (1 - eps));
          c0->b[c] = (float) (b0 * (1 - eps));
          lm = pl_conv_forward_ref (net, data->x + s * 16, data->y + s, 1, prob);
          memcpy (c0->w + c * 4, w0, sizeof w0);
          c0->b[c] = b0;
          /* dL/dε = Σ_p a_p·∂L/∂a_p; the map mean is that over 9 */
          ref_taylor[c] += fabs ((lp - lm) / (2 * eps) / 9) / data->n;
        }
    }
  for (guint c = 0; c < 3; c++)
    norm += ref_taylor[c] * ref_taylor[c];
  norm = sqrt (norm);
  g_assert_cmpfloat (norm, >, 0.0);
  for (guint c = 0; c < 3; c++)
    {
      g_assert_cmpfloat_with_epsilon (apoz[c], 1.0 - ref_apoz[c], 1e-9);
      g_assert_cmpfloat_with_epsilon (act[c], ref_act[c], 1e-5);
      g_assert_cmpfloat_with_epsilon (taylor[c], ref_taylor[c] / norm, 2e-3);
    }
  /* not every channel alike, or the comparison says little */
  g_assert_cmpfloat (fabs (apoz[0] - apoz[1]) + fabs (apoz[1] - apoz[2]), >, 0.0);

  /* pruning by mean activation removes layer 0's lowest channel and its next-layer inputs */
  {
    guint low = 0;

    for (guint c = 1; c < 3; c++)
      if (act[c] < act[low])
        low = c;
    g_assert_cmpint (pl_conv_prune_channels (net, 1.0 / 3.0, PL_CONV_CHANNEL_ACTIVATION, data, 100, &error), ==, 2);
    g_assert_no_error (error);
    for (guint c = 0; c < 3; c++)
      g_assert_cmpfloat (c0->filter_mask[c], ==, c == low ? 0.0f : 1.0f);
    for (guint q = 0; q < 2; q++)
      for (guint t = 0; t < 4; t++)
        g_assert_cmpfloat (net->layers[1].w_mask[(q * 3 + low) * 4 + t], ==, 0.0f);
  }
}

static void
test_channel_taylor_needs_relu (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PlConvNet) net = pl_conv_net_new_from_arch ("1x4x4-c3k2-c2k2-3", PL_ACTIVATION_TANH, &error);
  g_autoptr(PlDataset) data = pl_test_random_data (3, 16, 3, 2);
  double out[3];

  g_assert_no_error (error);
  pl_conv_net_init (net, 1);
  g_assert_false (pl_conv_channel_scores (net, 0, PL_CONV_CHANNEL_TAYLOR, data, 3, out, &error));
  g_assert_error (error, PL_TRAIN_ERROR, PL_TRAIN_ERROR_MISMATCH);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/engine/conv/arch/lenet5", test_arch_lenet5);
  g_test_add_func ("/engine/conv/arch/rejects-malformed", test_arch_rejects_malformed);
  g_test_add_func ("/engine/conv/forward/matches-nested-loops", test_forward_matches_nested_loops);
  g_test_add_func ("/engine/conv/gradient/tanh/matches-finite-differences", test_gradient_tanh);
  g_test_add_func ("/engine/conv/gradient/relu/matches-finite-differences", test_gradient_relu);
  g_test_add_func ("/engine/conv/gradient/sigmoid/matches-finite-differences", test_gradient_sigmoid);
  g_test_add_func ("/engine/conv/gradient/in-blocks/matches-finite-differences", test_gradient_blocks);
  g_test_add_func ("/engine/conv/direct/kernels-match-loops", test_direct_kernels_match_loops);
  g_test_add_func ("/engine/conv/direct/channel-kernels-match-loops", test_channel_kernels_match_loops);
  g_test_add_func ("/engine/conv/direct/max-pool2-matches-loop", test_max_pool2_matches_loop);
  g_test_add_func ("/engine/conv/direct/matches-finite-differences", test_direct_layer_gradient);
  g_test_add_func ("/engine/conv/file/round-trip", test_file_round_trip);
  g_test_add_func ("/engine/conv/file/rejects-bad", test_file_rejects_bad);
  g_test_add_func ("/engine/conv/train/learns-and-keeps-pruned-zero", test_train_learns_and_keeps_pruned_zero);
  g_test_add_func ("/engine/conv/train/rejects-mismatched-data", test_train_rejects_mismatched_data);
  g_test_add_func ("/engine/conv/prune/magnitude-matches-ranks", test_prune_magnitude_matches_ranks);
  g_test_add_func ("/engine/conv/prune/filters-by-hand", test_prune_filters_by_hand);
  g_test_add_func ("/engine/conv/prune/fpgm-by-hand", test_prune_filters_fpgm_by_hand);
  g_test_add_func ("/engine/conv/prune/channel-scores-match-loops", test_channel_scores_match_loops);
  g_test_add_func ("/engine/conv/prune/channel-taylor-needs-relu", test_channel_taylor_needs_relu);
  return pl_test_run ();
}
