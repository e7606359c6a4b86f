#define G_LOG_DOMAIN "pl-conv"

#include "config.h"

#include <float.h>
#include <glib/gi18n-lib.h>
#include <math.h>
#include <string.h>

#include "pl-blas.h"
#include "pl-conv.h"
#include "pl-conv-kernels.h"
#include "pl-simd.h"
#include "pl-error.h"
#include "pl-nn.h"
#include "pl-rng.h"

#define LENET5 "1x28x28-c6k5p2-m2-c16k5-m2-120-84-10"

/* ---- architecture ------------------------------------------------------------------------ */

gboolean
pl_conv_arch_is_conv (const char *arch)
{
  const char *dash;

  g_return_val_if_fail (arch != NULL, FALSE);

  if (strcmp (arch, "lenet5") == 0)
    return TRUE;
  dash = strchr (arch, '-');
  return memchr (arch, 'x', dash != NULL ? (gsize) (dash - arch) : strlen (arch)) != NULL;
}

/* Reads a decimal number in 1..max at *p and moves *p past it. */
static gboolean
read_number (const char **p,
             guint        min,
             guint        max,
             guint       *out)
{
  guint64 v = 0;
  const char *s = *p;

  if (!g_ascii_isdigit (*s))
    return FALSE;
  while (g_ascii_isdigit (*s))
    {
      v = v * 10 + (guint64) (*s - '0');
      if (v > max)
        return FALSE;
      s++;
    }
  if (v < min)
    return FALSE;
  *p = s;
  *out = (guint) v;
  return TRUE;
}

typedef struct {
  PlConvLayerKind kind;
  guint           n, k, pad;
} LayerSpec;

static gboolean
parse_input (const char *arch,
             const char *part,
             guint      *dims,
             GError    **error)
{
  const char *p = part;

  for (guint d = 0; d < 3; d++)
    {
      if ((d > 0 && *p++ != 'x')
          || !read_number (&p, 1, d == 0 ? PL_CONV_MAX_CHANNELS : PL_CONV_MAX_SIDE, &dims[d]))
        {
          g_set_error (error, PL_SPEC_ERROR, PL_SPEC_ERROR_INVALID,
                       _("architecture “%s”: “%s” is not an input shape CxHxW such as 1x28x28 (C up to %d, H and W up to %d)"),
                       arch, part, PL_CONV_MAX_CHANNELS, PL_CONV_MAX_SIDE);
          return FALSE;
        }
    }
  if (*p != '\0')
    {
      g_set_error (error, PL_SPEC_ERROR, PL_SPEC_ERROR_INVALID,
                   _("architecture “%s”: “%s” is not an input shape CxHxW such as 1x28x28 (C up to %d, H and W up to %d)"),
                   arch, part, PL_CONV_MAX_CHANNELS, PL_CONV_MAX_SIDE);
      return FALSE;
    }
  return TRUE;
}

static gboolean
parse_layer (const char *arch,
             const char *part,
             LayerSpec  *spec,
             GError    **error)
{
  const char *p = part + 1;
  gboolean ok;

  spec->pad = 0;
  if (part[0] == 'c')
    {
      spec->kind = PL_CONV_LAYER_CONV;
      ok = read_number (&p, 1, PL_CONV_MAX_CHANNELS, &spec->n)
           && *p++ == 'k' && read_number (&p, 1, PL_CONV_MAX_KERNEL, &spec->k)
           && (*p == '\0' || (*p++ == 'p' && read_number (&p, 0, PL_CONV_MAX_KERNEL, &spec->pad)))
           && *p == '\0';
    }
  else if (part[0] == 'm')
    {
      spec->kind = PL_CONV_LAYER_POOL;
      ok = read_number (&p, 1, PL_CONV_MAX_KERNEL, &spec->k) && *p == '\0';
    }
  else
    ok = FALSE;

  if (!ok)
    {
      g_set_error (error, PL_SPEC_ERROR, PL_SPEC_ERROR_INVALID,
                   _("architecture “%s”: “%s” is not a layer: write cNkK or cNkKpP for a convolution of N filters K×K with padding P, mK for a K×K max-pool, or a number for a dense layer"),
                   arch, part);
      return FALSE;
    }
  if (spec->kind == PL_CONV_LAYER_CONV && spec->pad >= spec->k)
    {
      g_set_error (error, PL_SPEC_ERROR, PL_SPEC_ERROR_INVALID,
                   _("architecture “%s”: “%s” pads by %u, more than its kernel allows (at most %u)"),
                   arch, part, spec->pad, spec->k - 1);
      return FALSE;
    }
  return TRUE;
}

static PlConvNet *
conv_net_new (const guint     *input,
              const LayerSpec *specs,
              guint            n_layers,
              const guint     *dense,
              guint            n_dense,
              PlActivation     activation)
{
  PlConvNet *self = g_new0 (PlConvNet, 1);
  guint sizes[PL_MLP_MAX_LAYERS + 1];
  guint c = input[0], h = input[1], w = input[2];
  gsize np = 0, nf = 0;
  float *pp, *mp, *fp;

  self->c = c;
  self->h = h;
  self->w = w;
  self->activation = activation;
  self->n_layers = n_layers;
  self->layers = g_new0 (PlConvLayer, n_layers);

  for (guint i = 0; i < n_layers; i++)
    {
      PlConvLayer *l = &self->layers[i];

      l->kind = specs[i].kind;
      l->c_in = c;
      l->h_in = h;
      l->w_in = w;
      l->k = specs[i].k;
      l->pad = specs[i].pad;
      if (l->kind == PL_CONV_LAYER_CONV)
        {
          l->c_out = specs[i].n;
          l->h_out = h + 2 * l->pad - l->k + 1;
          l->w_out = w + 2 * l->pad - l->k + 1;
          np += (gsize) l->c_out * l->c_in * l->k * l->k + l->c_out;
          nf += l->c_out;
        }
      else
        {
          l->c_out = c;
          l->h_out = h / l->k;
          l->w_out = w / l->k;
        }
      c = l->c_out;
      h = l->h_out;
      w = l->w_out;
    }

  self->n_params = np;
  self->n_filters = nf;
  self->params = g_new0 (float, MAX (np, 1));
  self->masks = g_new (float, MAX (np, 1));
  self->filter_masks = g_new (float, MAX (nf, 1));
  for (gsize k = 0; k < np; k++)
    self->masks[k] = 1.0f;
  for (gsize k = 0; k < nf; k++)
    self->filter_masks[k] = 1.0f;

  pp = self->params;
  mp = self->masks;
  fp = self->filter_masks;
  for (guint i = 0; i < n_layers; i++)
    {
      PlConvLayer *l = &self->layers[i];
      gsize nw = (gsize) l->c_out * l->c_in * l->k * l->k;

      if (l->kind != PL_CONV_LAYER_CONV)
        continue;
      l->w = pp;
      l->b = pp + nw;
      l->w_mask = mp;
      l->filter_mask = fp;
      pp += nw + l->c_out;
      mp += nw + l->c_out;
      fp += l->c_out;
    }

  sizes[0] = c * h * w;
  memcpy (sizes + 1, dense, sizeof (guint) * n_dense);
  self->head = pl_mlp_new (sizes, n_dense, activation);

  return self;
}

PlConvNet *
pl_conv_net_new_from_arch (const char    *arch,
                           PlActivation   activation,
                           GError       **error)
{
  g_auto(GStrv) parts = NULL;
  LayerSpec specs[PL_CONV_MAX_LAYERS];
  guint dense[PL_MLP_MAX_LAYERS];
  guint input[3];
  guint n, n_layers = 0, n_dense = 0;
  guint c, h, w;

  g_return_val_if_fail (arch != NULL, NULL);

  if (strcmp (arch, "lenet5") == 0)
    arch = LENET5;

  parts = g_strsplit (arch, "-", -1);
  n = g_strv_length (parts);
  if (n < 2)
    {
      g_set_error (error, PL_SPEC_ERROR, PL_SPEC_ERROR_INVALID,
                   _("architecture “%s”: a convolutional network is an input shape, layers and dense sizes joined by “-”, such as %s"),
                   arch, LENET5);
      return NULL;
    }
  if (!parse_input (arch, parts[0], input, error))
    return NULL;
  c = input[0];
  h = input[1];
  w = input[2];

  for (guint i = 1; i < n; i++)
    {
      const char *part = parts[i];

      if (g_ascii_isdigit (part[0]))
        {
          guint64 v;

          if (n_dense == PL_MLP_MAX_LAYERS)
            {
              g_set_error (error, PL_SPEC_ERROR, PL_SPEC_ERROR_INVALID,
                           _("architecture “%s”: more than %d dense layers"), arch, PL_MLP_MAX_LAYERS);
              return NULL;
            }
          if (!g_ascii_string_to_unsigned (part, 10, 1, PL_MLP_MAX_WIDTH, &v, NULL))
            {
              g_set_error (error, PL_SPEC_ERROR, PL_SPEC_ERROR_INVALID,
                           _("architecture “%s”: “%s” is not a layer size from 1 to %d"),
                           arch, part, PL_MLP_MAX_WIDTH);
              return NULL;
            }
          dense[n_dense++] = (guint) v;
          continue;
        }

      if (n_dense > 0)
        {
          g_set_error (error, PL_SPEC_ERROR, PL_SPEC_ERROR_INVALID,
                       _("architecture “%s”: “%s” follows a dense layer; convolutions and pools come first"),
                       arch, part);
          return NULL;
        }
      if (n_layers == PL_CONV_MAX_LAYERS)
        {
          g_set_error (error, PL_SPEC_ERROR, PL_SPEC_ERROR_INVALID,
                       _("architecture “%s”: more than %d convolution and pool layers"),
                       arch, PL_CONV_MAX_LAYERS);
          return NULL;
        }
      if (!parse_layer (arch, part, &specs[n_layers], error))
        return NULL;

      {
        const LayerSpec *s = &specs[n_layers];
        gboolean conv = s->kind == PL_CONV_LAYER_CONV;
        guint eh = conv ? h + 2 * s->pad : h;
        guint ew = conv ? w + 2 * s->pad : w;
        guint need = conv && 2 * s->pad < s->k ? s->k - 2 * s->pad : conv ? 1 : s->k;

        if (eh < s->k || ew < s->k)
          {
            g_set_error (error, PL_SPEC_ERROR, PL_SPEC_ERROR_INVALID,
                         _("architecture “%s”: layer “%s” needs an input of at least %u×%u, it gets %u×%u"),
                         arch, part, need, need, h, w);
            return NULL;
          }
        if (s->kind == PL_CONV_LAYER_CONV)
          {
            guint64 cols;

            /* one sample's maps and patch matrix (c_in·k·k, h_out·w_out) must stay
             * addressable and allocatable */
            h = eh - s->k + 1;
            w = ew - s->k + 1;
            cols = (guint64) c * s->k * s->k * h * w;
            c = s->n;
            if ((guint64) c * h * w > PL_CONV_MAX_SAMPLE || cols > PL_CONV_MAX_SAMPLE)
              {
                g_set_error (error, PL_SPEC_ERROR, PL_SPEC_ERROR_INVALID,
                             _("architecture “%s”: layer “%s” needs more than %d values per sample"),
                             arch, part, PL_CONV_MAX_SAMPLE);
                return NULL;
              }
          }
        else
          {
            h /= s->k;
            w /= s->k;
          }
      }
      n_layers++;
    }

  if (n_dense == 0)
    {
      g_set_error (error, PL_SPEC_ERROR, PL_SPEC_ERROR_INVALID,
                   _("architecture “%s”: no dense layer; the last part gives the classes, as in %s"),
                   arch, LENET5);
      return NULL;
    }
  if ((guint64) c * h * w > PL_MLP_MAX_WIDTH)
    {
      g_set_error (error, PL_SPEC_ERROR, PL_SPEC_ERROR_INVALID,
                   _("architecture “%s”: the flattened features (%u×%u×%u) exceed %d"),
                   arch, c, h, w, PL_MLP_MAX_WIDTH);
      return NULL;
    }

  return conv_net_new (input, specs, n_layers, dense, n_dense, activation);
}

PlConvNet *
pl_conv_net_copy (const PlConvNet *self)
{
  LayerSpec specs[PL_CONV_MAX_LAYERS];
  guint input[3] = { self->c, self->h, self->w };
  PlConvNet *copy;

  g_return_val_if_fail (self != NULL, NULL);

  for (guint i = 0; i < self->n_layers; i++)
    specs[i] = (LayerSpec) { self->layers[i].kind, self->layers[i].c_out, self->layers[i].k,
                             self->layers[i].pad };
  copy = conv_net_new (input, specs, self->n_layers, self->head->sizes + 1, self->head->n_layers,
                       self->activation);
  memcpy (copy->params, self->params, sizeof (float) * self->n_params);
  memcpy (copy->masks, self->masks, sizeof (float) * self->n_params);
  memcpy (copy->filter_masks, self->filter_masks, sizeof (float) * self->n_filters);
  pl_mlp_copy_from (copy->head, self->head);

  return copy;
}

void
pl_conv_net_free (PlConvNet *self)
{
  if (self == NULL)
    return;

  g_free (self->layers);
  g_free (self->params);
  g_free (self->masks);
  g_free (self->filter_masks);
  g_clear_pointer (&self->head, pl_mlp_free);
  g_free (self);
}

char *
pl_conv_net_arch (const PlConvNet *self)
{
  GString *s = g_string_new (NULL);

  g_string_append_printf (s, "%ux%ux%u", self->c, self->h, self->w);
  for (guint i = 0; i < self->n_layers; i++)
    {
      const PlConvLayer *l = &self->layers[i];

      if (l->kind == PL_CONV_LAYER_POOL)
        g_string_append_printf (s, "-m%u", l->k);
      else if (l->pad > 0)
        g_string_append_printf (s, "-c%uk%up%u", l->c_out, l->k, l->pad);
      else
        g_string_append_printf (s, "-c%uk%u", l->c_out, l->k);
    }
  for (guint i = 1; i <= self->head->n_layers; i++)
    g_string_append_printf (s, "-%u", self->head->sizes[i]);

  return g_string_free (s, FALSE);
}

guint
pl_conv_net_n_inputs (const PlConvNet *self)
{
  return self->c * self->h * self->w;
}

guint
pl_conv_net_n_outputs (const PlConvNet *self)
{
  return self->head->sizes[self->head->n_layers];
}

gsize
pl_conv_net_n_params (const PlConvNet *self)
{
  return self->n_params + self->head->n_params;
}

gsize
pl_conv_net_n_weights (const PlConvNet *self)
{
  gsize n = pl_mlp_n_weights (self->head);

  for (guint i = 0; i < self->n_layers; i++)
    if (self->layers[i].kind == PL_CONV_LAYER_CONV)
      n += (gsize) self->layers[i].c_out * self->layers[i].c_in * self->layers[i].k * self->layers[i].k;
  return n;
}

gsize
pl_conv_net_n_pruned (const PlConvNet *self)
{
  gsize n = pl_mlp_n_pruned (self->head);

  for (guint i = 0; i < self->n_layers; i++)
    {
      const PlConvLayer *l = &self->layers[i];
      gsize nw = (gsize) l->c_out * l->c_in * l->k * l->k;

      if (l->kind == PL_CONV_LAYER_CONV)
        for (gsize k = 0; k < nw; k++)
          n += l->w_mask[k] == 0.0f;
    }
  return n;
}

void
pl_conv_net_init (PlConvNet *self,
                  guint64    seed)
{
  PlRng rng;

  g_return_if_fail (self != NULL);

  pl_rng_init (&rng, seed);
  for (guint i = 0; i < self->n_layers; i++)
    {
      PlConvLayer *l = &self->layers[i];
      gsize fan_in = (gsize) l->c_in * l->k * l->k;
      gsize fan_out = (gsize) l->c_out * l->k * l->k;
      gsize nw = l->c_out * fan_in;
      double limit;

      if (l->kind != PL_CONV_LAYER_CONV)
        continue;
      /* As pl_mlp_init: He et al. 2015 U(±√(6/fan_in)) for ReLU, Glorot & Bengio 2010
       * U(±√(6/(fan_in + fan_out))) otherwise, with the receptive field in the fans (as
       * torch.nn.init computes them for Conv2d). */
      limit = self->activation == PL_ACTIVATION_RELU ? sqrt (6.0 / fan_in)
                                                     : sqrt (6.0 / (fan_in + fan_out));
      for (gsize k = 0; k < nw; k++)
        l->w[k] = (float) ((2.0 * pl_rng_uniform (&rng) - 1.0) * limit);
      memset (l->b, 0, sizeof (float) * l->c_out);
    }
  pl_mlp_init (self->head, seed + 1);
  pl_conv_net_apply_masks (self);
}

void
pl_conv_net_apply_masks (PlConvNet *self)
{
  g_return_if_fail (self != NULL);

  for (gsize k = 0; k < self->n_params; k++)
    self->params[k] *= self->masks[k];
  pl_mlp_apply_masks (self->head);

  for (guint i = 0; i < self->n_layers; i++)
    {
      PlConvLayer *l = &self->layers[i];
      const PlConvLayer *next = NULL;
      guint hw = l->h_out * l->w_out;

      if (l->kind != PL_CONV_LAYER_CONV)
        continue;
      for (guint j = i + 1; j < self->n_layers && next == NULL; j++)
        if (self->layers[j].kind == PL_CONV_LAYER_CONV)
          next = &self->layers[j];
      /* the pools between keep the channels, so channel c of this layer is channel c of the
       * next conv layer's input; after the last conv layer, the pools shrink each map to the
       * last layer's h_out × w_out */
      if (next == NULL)
        hw = self->layers[self->n_layers - 1].h_out * self->layers[self->n_layers - 1].w_out;

      for (guint c = 0; c < l->c_out; c++)
        {
          gboolean alive = FALSE;

          if (next != NULL)
            {
              gsize kk = (gsize) next->k * next->k;

              for (guint o = 0; o < next->c_out && !alive; o++)
                for (gsize t = 0; t < kk && !alive; t++)
                  alive = next->w_mask[((gsize) o * next->c_in + c) * kk + t] != 0.0f;
            }
          else
            {
              const PlLayer *d = &self->head->layers[0];

              for (guint o = 0; o < d->n_out && !alive; o++)
                for (guint t = 0; t < hw && !alive; t++)
                  alive = d->w_mask[(gsize) o * d->n_in + (gsize) c * hw + t] != 0.0f;
            }
          l->filter_mask[c] = alive ? 1.0f : 0.0f;
        }
    }
}

/* ---- passes ------------------------------------------------------------------------------ */

struct _PlConvWork {
  guint     max_batch;
  float    *block;                          /* owned: the float buffers below point into it */
  float    *act[PL_CONV_MAX_LAYERS + 1];    /* act[0]: the input (borrowed); act[i + 1]: layer
                                             * i's output (n, c_out, h_out, w_out) */
  guint     chunk[PL_CONV_MAX_LAYERS];      /* conv: samples per im2col block, so that the block
                                             * stays in cache (PL_CONV_COL_FLOATS) */
  float    *col;                            /* im2col of a block of samples, (c_in·k·k,
                                             * chunk·h_out·w_out); the backward pass reuses it
                                             * for ∂L/∂col */
  guint32  *argmax[PL_CONV_MAX_LAYERS];     /* owned (pools): the input index of each output's
                                             * maximum within its sample, (n, c, h_out, w_out) */
  float    *zc;                             /* (c_out, chunk·h_out·w_out): channel-major products */
  float    *padded;                         /* one input plane with its zero border, for im2col:
                                             * (h_in + 2·pad, w_in + 2·pad) */
  float    *delta[2];                       /* ping-pong (n, max layer size) */
  float    *head_delta;                     /* (n, head sizes[1]): ∂L/∂z of the head's first layer */
  PlNnWork *head;                           /* owned */
};

PlConvWork *
pl_conv_work_new (const PlConvNet *net,
                  guint            max_batch)
{
  PlConvWork *work;
  gsize total = 0, max_act = pl_conv_net_n_inputs (net), max_zc = 1, max_col = 1, max_pad = 1;
  float *p;

  g_return_val_if_fail (net != NULL && max_batch > 0, NULL);

  work = g_new0 (PlConvWork, 1);
  work->max_batch = max_batch;
  for (guint i = 0; i < net->n_layers; i++)
    {
      const PlConvLayer *l = &net->layers[i];
      gsize hw = (gsize) l->h_out * l->w_out;

      total += max_batch * l->c_out * hw;
      max_act = MAX (max_act, l->c_out * hw);
      if (l->kind == PL_CONV_LAYER_CONV)
        {
          gsize per = (gsize) l->c_in * l->k * l->k * hw;

          work->chunk[i] = (guint) CLAMP (PL_CONV_COL_FLOATS / per, 1, max_batch);
          max_col = MAX (max_col, per * work->chunk[i]);
          max_zc = MAX (max_zc, (gsize) l->c_out * hw * work->chunk[i]);
          /* every input plane with its border, for pl_conv_kernels_channels_forward() */
          max_pad = MAX (max_pad, (gsize) l->c_in * (l->h_in + 2 * l->pad) * (l->w_in + 2 * l->pad));
        }
      else
        work->argmax[i] = g_new (guint32, max_batch * l->c_out * hw);
    }
  total += max_col + max_zc + max_pad + 2 * max_batch * max_act
           + (gsize) max_batch * net->head->sizes[1];

  work->block = g_new (float, total);
  p = work->block;
  for (guint i = 0; i < net->n_layers; i++)
    {
      const PlConvLayer *l = &net->layers[i];
      gsize hw = (gsize) l->h_out * l->w_out;

      work->act[i + 1] = p;
      p += max_batch * l->c_out * hw;
    }
  work->col = p;
  p += max_col;
  work->zc = p;
  p += max_zc;
  work->padded = p;
  p += max_pad;
  work->delta[0] = p;
  p += max_batch * max_act;
  work->delta[1] = p;
  p += max_batch * max_act;
  work->head_delta = p;

  work->head = pl_nn_work_new (net->head, max_batch);
  work->head->first_delta = work->head_delta;

  return work;
}

void
pl_conv_work_free (PlConvWork *work)
{
  if (work == NULL)
    return;

  for (guint i = 0; i < PL_CONV_MAX_LAYERS; i++)
    g_free (work->argmax[i]);
  g_free (work->block);
  pl_nn_work_free (work->head);
  g_free (work);
}

const float *
pl_conv_work_activation (const PlConvWork *work,
                         guint             layer)
{
  return work->act[layer + 1];
}

/* dst[0 … len) ← src[0 … len), for the short rows of im2col: blocks of 8 floats (one AVX2
 * register), the last block overlapping the one before instead of a scalar tail */
static inline void
copy_row (float       *restrict dst,
          const float *restrict src,
          gsize                 len)
{
  gsize j;

  if (len < 8)
    {
      for (j = 0; j < len; j++)
        dst[j] = src[j];
      return;
    }
  for (j = 0; j + 8 <= len; j += 8)
    memcpy (dst + j, src + j, 8 * sizeof (float));
  if (j < len)
    memcpy (dst + len - 8, src + len - 8, 8 * sizeof (float));
}

/* col (c_in·k·k, n·h_out·w_out) ← the patches of x (n, c_in, h_in, w_in), zero outside:
 * col[(c·k + ky)·k + kx][s·hw + oy·w_out + ox] = x[s][c][oy + ky − pad][ox + kx − pad].
 * Each input plane is first copied into @padded with its zero border (when pad > 0), so that
 * every row of col is a plain copy of w_out floats, with no edge cases. */
PL_TARGET_CLONES static void
im2col (float             *col,
        float             *padded,
        const float       *x,
        const PlConvLayer *l,
        guint              n)
{
  const gsize c_in = l->c_in, k = l->k, pad = l->pad;
  const gsize h_in = l->h_in, w_in = l->w_in, h_out = l->h_out, w_out = l->w_out;
  const gsize hw = h_out * w_out, row_len = n * hw, plane_size = h_in * w_in;
  const gsize in_size = c_in * plane_size, wp = w_in + 2 * pad, hp = h_in + 2 * pad;

  if (pad > 0)
    memset (padded, 0, sizeof (float) * hp * wp);
  for (gsize s = 0; s < n; s++)
    for (gsize c = 0; c < c_in; c++)
      {
        const float *plane = x + s * in_size + c * plane_size, *src = plane;

        if (pad > 0)
          {
            /* the border stays zero from the memset above: only the inside is written */
            for (gsize iy = 0; iy < h_in; iy++)
              memcpy (padded + (iy + pad) * wp + pad, plane + iy * w_in, sizeof (float) * w_in);
            src = padded;
          }
        for (gsize ky = 0; ky < k; ky++)
          for (gsize kx = 0; kx < k; kx++)
            {
              float *out = col + ((c * k + ky) * k + kx) * row_len + s * hw;

              for (gsize oy = 0; oy < h_out; oy++)
                copy_row (out + oy * w_out, src + (oy + ky) * wp + kx, w_out);
            }
      }
}

/* dx (n, c_in, h_in, w_in) ← Σ of dcol over the patches that read each input (im2col's
 * transpose) */
PL_TARGET_CLONES static void
col2im (float             *dx,
        const float       *dcol,
        const PlConvLayer *l,
        guint              n)
{
  const gsize c_in = l->c_in, k = l->k, pad = l->pad;
  const gsize h_in = l->h_in, w_in = l->w_in, h_out = l->h_out, w_out = l->w_out;
  const gsize hw = h_out * w_out, row_len = n * hw, plane_size = h_in * w_in;
  const gsize in_size = c_in * plane_size;

  memset (dx, 0, sizeof (float) * n * in_size);
  for (gsize c = 0; c < c_in; c++)
    for (gsize ky = 0; ky < k; ky++)
      for (gsize kx = 0; kx < k; kx++)
        {
          const float *row = dcol + ((c * k + ky) * k + kx) * row_len;
          gsize oy0 = ky < pad ? pad - ky : 0, ox0 = kx < pad ? pad - kx : 0;
          gsize oy1 = MIN (h_out, h_in + pad > ky ? h_in + pad - ky : 0);
          gsize ox1 = MIN (w_out, w_in + pad > kx ? w_in + pad - kx : 0);

          if (oy0 >= oy1 || ox0 >= ox1)
            continue;
          for (gsize s = 0; s < n; s++)
            {
              float *plane = dx + s * in_size + c * plane_size;

              for (gsize oy = oy0; oy < oy1; oy++)
                {
                  const float *restrict in = row + s * hw + oy * w_out;
                  float *restrict dst =
                    plane + (oy + ky - pad) * w_in + ((gssize) kx - (gssize) pad);

                  for (gsize ox = ox0; ox < ox1; ox++)
                    dst[ox] += in[ox];
                }
            }
        }
}

/* dst (m) = act(src + b), one loop per activation so that each vectorises; dst may be src
 * (the direct kernels' output, activated in place) */
PL_TARGET_CLONES static void
bias_activate (float        *dst,
               const float  *src,
               float         b,
               gsize         m,
               PlActivation  activation)
{
  switch (activation)
    {
    case PL_ACTIVATION_RELU:
      for (gsize p = 0; p < m; p++)
        {
          float z = src[p] + b;

          dst[p] = z > 0.0f ? z : 0.0f;
        }
      return;
    case PL_ACTIVATION_TANH:
      for (gsize p = 0; p < m; p++)
        dst[p] = tanhf (src[p] + b);
      return;
    case PL_ACTIVATION_SIGMOID:
      for (gsize p = 0; p < m; p++)
        dst[p] = 1.0f / (1.0f + expf (-(src[p] + b)));
      return;
    default:
      g_assert_not_reached ();
    }
}

/* dz (m) = d ⊙ act'(a) ⊙ keep, from the activation's output a; returns Σ dz (the bias
 * gradient's share), summed in eight float lanes so that the loop vectorises, then in double */
PL_TARGET_CLONES static double
activation_delta (float        *restrict dz,
                  const float  *restrict d,
                  const float  *restrict a,
                  float         keep,
                  gsize         m,
                  PlActivation  activation)
{
  float lanes[8] = { 0 };
  double sum = 0.0;
  gsize p;

  switch (activation)
    {
    case PL_ACTIVATION_RELU:
      /* a dead filter's maps are 0, so its derivative is 0 already */
      for (p = 0; p < m; p++)
        dz[p] = a[p] > 0.0f ? d[p] : 0.0f;
      break;
    case PL_ACTIVATION_TANH:
      for (p = 0; p < m; p++)
        dz[p] = d[p] * (1.0f - a[p] * a[p]) * keep;
      break;
    case PL_ACTIVATION_SIGMOID:
      for (p = 0; p < m; p++)
        dz[p] = d[p] * a[p] * (1.0f - a[p]) * keep;
      break;
    default:
      g_assert_not_reached ();
    }
  for (p = 0; p + 8 <= m; p += 8)
    for (guint j = 0; j < 8; j++)
      lanes[j] += dz[p + j];
  for (; p < m; p++)
    sum += dz[p];
  for (guint j = 0; j < 8; j++)
    sum += lanes[j];
  return sum;
}

/* out (n, c_out, h_out, w_out) ← pool of x (n, c, h_in, w_in): each output the maximum of
 * its k×k window (the first on ties, as PyTorch), its index kept for the backward pass. A NaN
 * at a window's first place comes through (so does a NaN weight, which makes the whole map
 * NaN), so that a diverging run is noticed. */
PL_TARGET_CLONES static void
max_pool (float             *out,
          guint32           *argmax,
          const float       *x,
          const PlConvLayer *l,
          guint              n)
{
  /* the sizes in locals: the argmax stores (guint32) could alias the layer's fields, which
   * would make the compiler read them again on every output and not vectorise */
  const gsize w_in = l->w_in, h_out = l->h_out, w_out = l->w_out, k = l->k, c_out = l->c_out;
  const gsize in_plane = (gsize) l->h_in * w_in, out_plane = h_out * w_out;

  if (k == 2)
    {
      /* the common case, 8 outputs at a time */
      pl_conv_kernels_max_pool2 (out, argmax, x, l, n);
      return;
    }
  for (gsize sc = 0; sc < (gsize) n * c_out; sc++)
    {
      const float *plane = x + sc * in_plane;
      guint32 base = (guint32) (sc % c_out * in_plane);


      for (gsize oy = 0; oy < h_out; oy++)
        for (gsize ox = 0; ox < w_out; ox++)
          {
            gsize best = oy * k * w_in + ox * k;
            gsize o = sc * out_plane + oy * w_out + ox;

            for (gsize ky = 0; ky < k; ky++)
              for (gsize kx = 0; kx < k; kx++)
                {
                  gsize at = (oy * k + ky) * w_in + ox * k + kx;

                  if (plane[at] > plane[best])
                    best = at;
                }
            out[o] = plane[best];
            argmax[o] = base + (guint32) best;
          }
    }
}

const float *
pl_conv_forward (const PlConvNet *net,
                 PlConvWork      *work,
                 const float     *x,
                 guint            n)
{
  g_return_val_if_fail (net != NULL && work != NULL && x != NULL, NULL);
  g_return_val_if_fail (n >= 1 && n <= work->max_batch, NULL);

  work->act[0] = (float *) x;
  for (guint i = 0; i < net->n_layers; i++)
    {
      const PlConvLayer *l = &net->layers[i];
      gsize hw = (gsize) l->h_out * l->w_out;
      gsize in_size = (gsize) l->c_in * l->h_in * l->w_in;
      guint ckk = l->c_in * l->k * l->k;
      float *out = work->act[i + 1];

      if (l->kind == PL_CONV_LAYER_POOL)
        {
          max_pool (out, work->argmax[i], work->act[i], l, n);
          continue;
        }

      if (pl_conv_kernels_direct (l) || pl_conv_kernels_channels (l))
        {
          /* one input channel, or 8 or 16 filters: the direct kernels (pl-conv-kernels.h)
           * write z into the maps, then act(z + b) ⊙ filter_mask in place */
          if (pl_conv_kernels_direct (l))
            pl_conv_kernels_forward (l, work->act[i], n, out, work->padded);
          else
            pl_conv_kernels_channels_forward (l, work->act[i], n, out, work->padded);
          for (guint s = 0; s < n; s++)
            for (guint o = 0; o < l->c_out; o++)
              {
                float *dst = out + ((gsize) s * l->c_out + o) * hw;

                if (l->filter_mask[o] == 0.0f)
                  memset (dst, 0, sizeof (float) * hw);
                else
                  bias_activate (dst, dst, l->b[o], hw, net->activation);
              }
          continue;
        }

      /* by blocks of m samples: zc (c_out, m·hw) = W (c_out, c_in·k·k) · col (c_in·k·k, m·hw),
       * then out[s][o][p] = act(zc[o][s·hw + p] + b[o]) ⊙ filter_mask[o] */
      for (guint s0 = 0; s0 < n; s0 += work->chunk[i])
        {
          guint m = MIN (work->chunk[i], n - s0);
          gsize mhw = m * hw;

          im2col (work->col, work->padded, work->act[i] + s0 * in_size, l, m);
          cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans,
                       l->c_out, mhw, ckk,
                       1.0f, l->w, ckk, work->col, mhw,
                       0.0f, work->zc, mhw);
          for (guint o = 0; o < l->c_out; o++)
            for (guint s = 0; s < m; s++)
              {
                float *dst = out + ((gsize) (s0 + s) * l->c_out + o) * hw;

                if (l->filter_mask[o] == 0.0f)
                  memset (dst, 0, sizeof (float) * hw);
                else
                  bias_activate (dst, work->zc + o * mhw + s * hw, l->b[o], hw, net->activation);
              }
        }
    }

  return pl_nn_forward (net->head, work->head, work->act[net->n_layers], n);
}

double
pl_conv_loss (const PlConvNet  *net,
              const PlConvWork *work,
              const guint32    *y,
              guint             n,
              guint            *n_correct)
{
  return pl_nn_loss (net->head, work->head, y, n, n_correct);
}

void
pl_conv_backward (const PlConvNet *net,
                  PlConvWork      *work,
                  const guint32   *y,
                  guint            n,
                  float            scale,
                  float           *grad,
                  float           *head_grad)
{
  const PlLayer *d0 = &net->head->layers[0];
  const float *flat = work->act[net->n_layers];
  float *d = work->delta[0];
  float *gp;

  g_return_if_fail (net != NULL && work != NULL && y != NULL && grad != NULL && head_grad != NULL);

  /* The head: its own backward pass leaves ∂L/∂z₁ in head_delta (n, n₁) and the first
   * layer's weight gradient to us: gW₁ (n₁, n₀) = dᵀ · flat; ∂L/∂flat (n, n₀) = d · W₁. */
  pl_nn_backward (net->head, work->head, y, n, scale, FALSE, head_grad);
  cblas_sgemm (CblasRowMajor, CblasTrans, CblasNoTrans,
               d0->n_out, d0->n_in, n,
               1.0f, work->head_delta, d0->n_out, flat, d0->n_in,
               0.0f, head_grad, d0->n_in);
  if (net->n_layers == 0)
    return;
  cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans,
               n, d0->n_in, d0->n_out,
               1.0f, work->head_delta, d0->n_out, d0->w, d0->n_in,
               0.0f, d, d0->n_in);

  gp = grad + net->n_params;
  for (guint i = net->n_layers; i-- > 0;)
    {
      const PlConvLayer *l = &net->layers[i];
      gsize hw = (gsize) l->h_out * l->w_out;
      gsize in_size = (gsize) l->c_in * l->h_in * l->w_in;
      guint ckk = l->c_in * l->k * l->k;
      float *dprev = work->delta[(net->n_layers - i) & 1];
      const float *a = work->act[i + 1];
      double *bias_sum = NULL;
      float *gw, *gb;

      /* d (n, c_out, h_out, w_out) = ∂L/∂(this layer's output) */
      if (l->kind == PL_CONV_LAYER_POOL)
        {
          gsize out_size = (gsize) l->c_out * hw;

          if (i == 0)
            break;
          memset (dprev, 0, sizeof (float) * n * in_size);
          for (guint s = 0; s < n; s++)
            for (gsize o = 0; o < out_size; o++)
              dprev[s * in_size + work->argmax[i][s * out_size + o]] += d[s * out_size + o];
          d = dprev;
          continue;
        }

      gp -= (gsize) ckk * l->c_out + l->c_out;
      gw = gp;
      gb = gp + (gsize) ckk * l->c_out;

      /* by the blocks of the forward pass: zc (c_out, m·hw) = ∂L/∂z = d ⊙ act'(a) ⊙ filter_mask,
       * channel-major; gW (c_out, c_in·k·k) += zc · colᵀ with col computed again; and below
       * the first layer dcol (c_in·k·k, m·hw) = Wᵀ · zc, into col, folded back into dprev */
      bias_sum = g_new0 (double, l->c_out);
      for (guint s0 = 0; s0 < n; s0 += work->chunk[i])
        {
          guint m = MIN (work->chunk[i], n - s0);
          gsize mhw = m * hw;

          for (guint o = 0; o < l->c_out; o++)
            {
              float *z = work->zc + o * mhw;
              double sum = 0.0;

              for (guint s = 0; s < m; s++)
                {
                  const float *ds = d + ((gsize) (s0 + s) * l->c_out + o) * hw;
                  const float *as = a + ((gsize) (s0 + s) * l->c_out + o) * hw;
                  float *zs = z + s * hw;

                  sum += activation_delta (zs, ds, as, l->filter_mask[o], hw,
                                           net->activation);
                }
              bias_sum[o] += sum;
            }

          if (pl_conv_kernels_direct (l))
            pl_conv_kernels_weight_grad (l, work->act[i] + s0 * in_size, work->zc, hw, mhw, m,
                                         s0 == 0 ? 0.0f : 1.0f, gw, work->padded);
          else if (pl_conv_kernels_channels (l))
            pl_conv_kernels_channels_weight_grad (l, work->act[i] + s0 * in_size, work->zc, hw,
                                                  mhw, m, s0 == 0 ? 0.0f : 1.0f, gw,
                                                  work->padded);
          else
            {
              im2col (work->col, work->padded, work->act[i] + s0 * in_size, l, m);
              cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans,
                           l->c_out, ckk, mhw,
                           1.0f, work->zc, mhw, work->col, mhw,
                           s0 == 0 ? 0.0f : 1.0f, gw, ckk);
            }
          if (i == 0)
            continue;
          if (pl_conv_kernels_input (l))
            {
              pl_conv_kernels_input_grad (l, work->zc, hw, mhw, m, dprev + s0 * in_size);
              continue;
            }
          cblas_sgemm (CblasRowMajor, CblasTrans, CblasNoTrans,
                       ckk, mhw, l->c_out,
                       1.0f, l->w, ckk, work->zc, mhw,
                       0.0f, work->col, mhw);
          col2im (dprev + s0 * in_size, work->col, l, m);
        }
      for (guint o = 0; o < l->c_out; o++)
        gb[o] = (float) bias_sum[o];
      g_clear_pointer (&bias_sum, g_free);
      if (i == 0)
        break;
      d = dprev;
    }
}

/* ---- plain-loop references --------------------------------------------------------------- */

static double
activate_ref (double       z,
              PlActivation activation)
{
  switch (activation)
    {
    case PL_ACTIVATION_RELU:
      return z > 0.0 ? z : 0.0;
    case PL_ACTIVATION_TANH:
      return tanh (z);
    case PL_ACTIVATION_SIGMOID:
      return 1.0 / (1.0 + exp (-z));
    default:
      g_assert_not_reached ();
    }
}

void
pl_conv_layer_forward_ref (const PlConvNet *net,
                           guint            layer,
                           const double    *in,
                           double          *out)
{
  const PlConvLayer *l = &net->layers[layer];

  g_return_if_fail (l->kind == PL_CONV_LAYER_CONV);

  for (guint o = 0; o < l->c_out; o++)
    for (guint oy = 0; oy < l->h_out; oy++)
      for (guint ox = 0; ox < l->w_out; ox++)
        {
          double z = l->b[o];

          for (guint c = 0; c < l->c_in; c++)
            for (guint ky = 0; ky < l->k; ky++)
              for (guint kx = 0; kx < l->k; kx++)
                {
                  int iy = (int) (oy + ky) - (int) l->pad;
                  int ix = (int) (ox + kx) - (int) l->pad;

                  if (iy >= 0 && iy < (int) l->h_in && ix >= 0 && ix < (int) l->w_in)
                    z += (double) l->w[((o * l->c_in + c) * l->k + ky) * l->k + kx]
                         * in[((gsize) c * l->h_in + iy) * l->w_in + ix];
                }
          out[((gsize) o * l->h_out + oy) * l->w_out + ox]
            = activate_ref (z, net->activation) * l->filter_mask[o];
        }
}

double
pl_conv_forward_ref (const PlConvNet *net,
                     const float     *x,
                     const guint32   *y,
                     guint            n,
                     double          *prob)
{
  const PlMlp *head = net->head;
  gsize max = pl_conv_net_n_inputs (net);
  g_autofree double *a = NULL;
  g_autofree double *b = NULL;
  double loss = 0.0;

  for (guint i = 0; i < net->n_layers; i++)
    max = MAX (max, (gsize) net->layers[i].c_out * net->layers[i].h_out * net->layers[i].w_out);
  for (guint i = 0; i <= head->n_layers; i++)
    max = MAX (max, head->sizes[i]);
  a = g_new (double, max);
  b = g_new (double, max);

  for (guint s = 0; s < n; s++)
    {
      guint m = head->sizes[head->n_layers];
      double z_max = -INFINITY, sum = 0.0, p;

      for (gsize k = 0; k < pl_conv_net_n_inputs (net); k++)
        a[k] = x[(gsize) s * pl_conv_net_n_inputs (net) + k];

      for (guint i = 0; i < net->n_layers; i++)
        {
          const PlConvLayer *l = &net->layers[i];
          double *t;

          if (l->kind == PL_CONV_LAYER_CONV)
            pl_conv_layer_forward_ref (net, i, a, b);
          else
            for (guint c = 0; c < l->c_out; c++)
              for (guint oy = 0; oy < l->h_out; oy++)
                for (guint ox = 0; ox < l->w_out; ox++)
                  {
                    double v = -INFINITY;

                    for (guint ky = 0; ky < l->k; ky++)
                      for (guint kx = 0; kx < l->k; kx++)
                        v = MAX (v, a[((gsize) c * l->h_in + oy * l->k + ky) * l->w_in
                                      + ox * l->k + kx]);
                    b[((gsize) c * l->h_out + oy) * l->w_out + ox] = v;
                  }
          t = a;
          a = b;
          b = t;
        }

      /* the dense head on the flattened maps */
      for (guint i = 0; i < head->n_layers; i++)
        {
          const PlLayer *l = &head->layers[i];
          double *t;

          for (guint o = 0; o < l->n_out; o++)
            {
              double z = l->b[o];

              for (guint j = 0; j < l->n_in; j++)
                z += (double) l->w[(gsize) o * l->n_in + j] * a[j];
              b[o] = i + 1 < head->n_layers ? activate_ref (z, net->activation) * l->neuron_mask[o] : z;
            }
          t = a;
          a = b;
          b = t;
        }

      for (guint j = 0; j < m; j++)
        z_max = MAX (z_max, a[j]);
      for (guint j = 0; j < m; j++)
        sum += exp (a[j] - z_max);
      for (guint j = 0; j < m; j++)
        if (prob != NULL)
          prob[(gsize) s * m + j] = exp (a[j] - z_max) / sum;
      p = exp (a[y[s]] - z_max) / sum;
      loss -= log (MAX (p, (double) FLT_MIN));
    }

  return n > 0 ? loss / n : 0.0;
}
