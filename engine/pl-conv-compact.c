#define G_LOG_DOMAIN "pl-conv-compact"

#include "config.h"

#include <string.h>

#include "pl-compact.h"
#include "pl-conv-compact.h"

/* The live filters of conv layer @l as indices; a layer with none keeps filter 0, muted by its
 * zero weights (see the header). */
static GArray *
live_filters (const PlConvLayer *l)
{
  GArray *live = g_array_new (FALSE, FALSE, sizeof (guint32));

  for (guint32 o = 0; o < l->c_out; o++)
    if (l->filter_mask[o] != 0.0f)
      g_array_append_val (live, o);
  if (live->len == 0)
    {
      guint32 zero = 0;

      g_array_append_val (live, zero);
    }
  return live;
}

/* Every channel of the image. */
static GArray *
all_channels (guint c)
{
  GArray *all = g_array_sized_new (FALSE, FALSE, sizeof (guint32), c);

  for (guint32 k = 0; k < c; k++)
    g_array_append_val (all, k);
  return all;
}

/* Channel @c of the maps that layer @l reads is a muted stand-in: a filter of the conv layer
 * @src (NULL for the image) whose filter mask is 0. */
static gboolean
muted_channel (const PlConvLayer *src,
               guint32            c)
{
  return src != NULL && src->filter_mask[c] == 0.0f;
}

PlConvNet *
pl_conv_compact (const PlConvNet  *net,
                 GArray          **kept)
{
  g_autoptr(PlConvNet) small = NULL;
  g_autoptr(PlMlp) mid = NULL;
  g_autoptr(PlMlp) head = NULL;
  g_autoptr(GString) arch = NULL;
  g_autoptr(GError) error = NULL;
  GArray *chan[PL_CONV_MAX_LAYERS + 1] = { NULL };  /* chan[i]: channels of layer i's input */
  const PlConvLayer *src[PL_CONV_MAX_LAYERS + 1] = { NULL };  /* the conv layer that made them */
  const PlConvLayer *last;
  const PlLayer *d0;
  guint sizes[PL_MLP_MAX_LAYERS + 1];
  guint n_conv = 0;
  gsize hw;

  g_return_val_if_fail (net != NULL, NULL);

  /* the channels that survive, layer by layer */
  chan[0] = all_channels (net->c);
  for (guint i = 0; i < net->n_layers; i++)
    {
      const PlConvLayer *l = &net->layers[i];

      if (l->kind == PL_CONV_LAYER_CONV)
        {
          chan[i + 1] = live_filters (l);
          src[i + 1] = l;
        }
      else
        {
          chan[i + 1] = g_array_ref (chan[i]);
          src[i + 1] = src[i];
        }
    }

  /* the head with the columns of the live channels only, then its dead neurons removed */
  last = &net->layers[net->n_layers - 1];
  hw = (gsize) last->h_out * last->w_out;
  d0 = &net->head->layers[0];
  memcpy (sizes, net->head->sizes, sizeof (guint) * (net->head->n_layers + 1));
  sizes[0] = (guint) (chan[net->n_layers]->len * hw);
  mid = pl_mlp_new (sizes, net->head->n_layers, net->head->activation);
  for (guint o = 0; o < d0->n_out; o++)
    {
      PlLayer *m0 = &mid->layers[0];

      m0->b[o] = d0->b[o];
      for (guint q = 0; q < chan[net->n_layers]->len; q++)
        {
          guint32 c = g_array_index (chan[net->n_layers], guint32, q);
          gboolean muted = muted_channel (src[net->n_layers], c);

          for (gsize p = 0; p < hw; p++)
            {
              gsize at = (gsize) o * d0->n_in + c * hw + p;
              gsize to = (gsize) o * m0->n_in + q * hw + p;
              float m = muted ? 0.0f : d0->w_mask[at];

              m0->w_mask[to] = m;
              m0->w[to] = m != 0.0f ? d0->w[at] * m : 0.0f;
            }
        }
    }
  for (guint i = 1; i < net->head->n_layers; i++)
    {
      const PlLayer *l = &net->head->layers[i];
      gsize n = (gsize) l->n_out * l->n_in;

      memcpy (mid->layers[i].w, l->w, sizeof (float) * n);
      memcpy (mid->layers[i].w_mask, l->w_mask, sizeof (float) * n);
      memcpy (mid->layers[i].b, l->b, sizeof (float) * l->n_out);
    }
  pl_mlp_apply_masks (mid);
  head = pl_compact (mid, NULL);

  /* the smaller network's spec, as pl_conv_net_arch() writes it */
  arch = g_string_new (NULL);
  g_string_append_printf (arch, "%ux%ux%u", net->c, net->h, net->w);
  for (guint i = 0; i < net->n_layers; i++)
    {
      const PlConvLayer *l = &net->layers[i];

      if (l->kind == PL_CONV_LAYER_POOL)
        g_string_append_printf (arch, "-m%u", l->k);
      else
        {
          g_string_append_printf (arch, "-c%uk%u", chan[i + 1]->len, l->k);
          if (l->pad > 0)
            g_string_append_printf (arch, "p%u", l->pad);
        }
    }
  for (guint i = 1; i <= head->n_layers; i++)
    g_string_append_printf (arch, "-%u", head->sizes[i]);
  small = pl_conv_net_new_from_arch (arch->str, net->activation, &error);
  /* the same layers with fewer channels parse as the original did */
  g_assert_no_error (error);

  for (guint i = 0; i < net->n_layers; i++)
    {
      const PlConvLayer *l = &net->layers[i];
      PlConvLayer *s = &small->layers[i];
      gsize kk = (gsize) l->k * l->k;

      if (l->kind != PL_CONV_LAYER_CONV)
        continue;
      g_assert (s->c_out == chan[i + 1]->len && s->c_in == chan[i]->len);
      for (guint r = 0; r < s->c_out; r++)
        {
          guint32 o = g_array_index (chan[i + 1], guint32, r);
          gboolean muted = l->filter_mask[o] == 0.0f;

          s->b[r] = muted ? 0.0f : l->b[o];
          for (guint q = 0; q < s->c_in; q++)
            {
              guint32 c = g_array_index (chan[i], guint32, q);
              gboolean dead_in = muted_channel (src[i], c);

              for (gsize t = 0; t < kk; t++)
                {
                  gsize at = ((gsize) o * l->c_in + c) * kk + t;
                  gsize to = ((gsize) r * s->c_in + q) * kk + t;
                  float m = muted || dead_in ? 0.0f : l->w_mask[at];

                  s->w_mask[to] = m;
                  s->w[to] = m != 0.0f ? l->w[at] * m : 0.0f;
                }
            }
        }
      if (kept != NULL)
        kept[n_conv] = g_array_ref (chan[i + 1]);
      n_conv++;
    }

  g_assert (small->head->n_layers == head->n_layers);
  for (guint i = 0; i < head->n_layers; i++)
    {
      const PlLayer *l = &head->layers[i];
      PlLayer *s = &small->head->layers[i];
      gsize n = (gsize) l->n_out * l->n_in;

      g_assert (s->n_out == l->n_out && s->n_in == l->n_in);
      memcpy (s->w, l->w, sizeof (float) * n);
      memcpy (s->w_mask, l->w_mask, sizeof (float) * n);
      memcpy (s->b, l->b, sizeof (float) * l->n_out);
    }
  pl_conv_net_apply_masks (small);

  for (guint i = 0; i <= net->n_layers; i++)
    g_array_unref (chan[i]);

  return g_steal_pointer (&small);
}
