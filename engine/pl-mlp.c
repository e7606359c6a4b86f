#define G_LOG_DOMAIN "pl-mlp"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <math.h>
#include <string.h>

#include "pl-error.h"
#include "pl-mlp.h"
#include "pl-rng.h"

static void
set_layer_pointers (PlMlp *self)
{
  float *p = self->params;
  float *m = self->masks;
  float *nm = self->neuron_masks;

  for (guint i = 0; i < self->n_layers; i++)
    {
      PlLayer *l = &self->layers[i];
      gsize nw = (gsize) l->n_out * l->n_in;

      l->w = p;
      l->w_mask = m;
      l->b = p + nw;
      l->neuron_mask = nm;
      p += nw + l->n_out;
      m += nw + l->n_out;
      nm += l->n_out;
    }
}

PlMlp *
pl_mlp_new (const guint  *sizes,
            guint         n_layers,
            PlActivation  activation)
{
  PlMlp *self;

  g_return_val_if_fail (sizes != NULL, NULL);
  g_return_val_if_fail (n_layers >= 1 && n_layers <= PL_MLP_MAX_LAYERS, NULL);
  for (guint i = 0; i <= n_layers; i++)
    g_return_val_if_fail (sizes[i] >= 1 && sizes[i] <= PL_MLP_MAX_WIDTH, NULL);

  self = g_new0 (PlMlp, 1);
  self->n_layers = n_layers;
  self->activation = activation;
  self->sizes = g_memdup2 (sizes, sizeof (guint) * (n_layers + 1));
  self->layers = g_new0 (PlLayer, n_layers);

  for (guint i = 0; i < n_layers; i++)
    {
      self->layers[i].n_in = sizes[i];
      self->layers[i].n_out = sizes[i + 1];
      self->n_params += (gsize) sizes[i + 1] * sizes[i] + sizes[i + 1];
      self->n_neurons += sizes[i + 1];
    }

  self->params = g_new0 (float, self->n_params);
  self->masks = g_new (float, self->n_params);
  self->neuron_masks = g_new (float, self->n_neurons);
  for (gsize i = 0; i < self->n_params; i++)
    self->masks[i] = 1.0f;
  for (gsize i = 0; i < self->n_neurons; i++)
    self->neuron_masks[i] = 1.0f;
  set_layer_pointers (self);

  return self;
}

gboolean
pl_arch_parse (const char  *arch,
               guint       *sizes,
               guint       *n_layers,
               GError     **error)
{
  g_auto(GStrv) parts = NULL;
  guint n;

  g_return_val_if_fail (arch != NULL, FALSE);

  parts = g_strsplit (arch, "-", -1);
  n = g_strv_length (parts);
  if (n < 2 || n > PL_MLP_MAX_LAYERS + 1)
    {
      g_set_error (error, PL_SPEC_ERROR, PL_SPEC_ERROR_INVALID,
                   _("architecture “%s”: give 2 to %d layer sizes joined by “-”, such as 784-300-100-10"),
                   arch, PL_MLP_MAX_LAYERS + 1);
      return FALSE;
    }

  for (guint i = 0; i < n; i++)
    {
      guint64 v;

      if (!g_ascii_string_to_unsigned (parts[i], 10, 1, PL_MLP_MAX_WIDTH, &v, NULL))
        {
          g_set_error (error, PL_SPEC_ERROR, PL_SPEC_ERROR_INVALID,
                       _("architecture “%s”: “%s” is not a layer size from 1 to %d"),
                       arch, parts[i], PL_MLP_MAX_WIDTH);
          return FALSE;
        }
      sizes[i] = (guint) v;
    }
  *n_layers = n - 1;

  return TRUE;
}

PlMlp *
pl_mlp_new_from_arch (const char    *arch,
                      PlActivation   activation,
                      GError       **error)
{
  guint sizes[PL_MLP_MAX_LAYERS + 1];
  guint n_layers;

  if (!pl_arch_parse (arch, sizes, &n_layers, error))
    return NULL;

  return pl_mlp_new (sizes, n_layers, activation);
}

PlMlp *
pl_mlp_copy (const PlMlp *self)
{
  PlMlp *copy;

  g_return_val_if_fail (self != NULL, NULL);

  copy = pl_mlp_new (self->sizes, self->n_layers, self->activation);
  pl_mlp_copy_from (copy, self);

  return copy;
}

void
pl_mlp_copy_from (PlMlp       *self,
                  const PlMlp *src)
{
  g_return_if_fail (self->n_params == src->n_params && self->n_layers == src->n_layers);

  memcpy (self->params, src->params, sizeof (float) * src->n_params);
  memcpy (self->masks, src->masks, sizeof (float) * src->n_params);
  memcpy (self->neuron_masks, src->neuron_masks, sizeof (float) * src->n_neurons);
  self->activation = src->activation;
}

void
pl_mlp_free (PlMlp *self)
{
  if (self == NULL)
    return;

  g_free (self->sizes);
  g_free (self->layers);
  g_free (self->params);
  g_free (self->masks);
  g_free (self->neuron_masks);
  g_free (self);
}

void
pl_mlp_init (PlMlp   *self,
             guint64  seed)
{
  PlRng rng;

  g_return_if_fail (self != NULL);

  pl_rng_init (&rng, seed);
  for (guint i = 0; i < self->n_layers; i++)
    {
      PlLayer *l = &self->layers[i];
      gsize nw = (gsize) l->n_out * l->n_in;
      double limit;

      /* He et al. 2015 for ReLU: Var = 2/fan_in → U(±√(6/fan_in)).
       * Glorot & Bengio 2010 otherwise: U(±√(6/(fan_in+fan_out))). */
      if (self->activation == PL_ACTIVATION_RELU)
        limit = sqrt (6.0 / l->n_in);
      else
        limit = sqrt (6.0 / (l->n_in + l->n_out));

      for (gsize k = 0; k < nw; k++)
        l->w[k] = (float) ((2.0 * pl_rng_uniform (&rng) - 1.0) * limit);
      memset (l->b, 0, sizeof (float) * l->n_out);
    }

  pl_mlp_apply_masks (self);
}

char *
pl_mlp_arch (const PlMlp *self)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; i <= self->n_layers; i++)
    g_string_append_printf (s, i ? "-%u" : "%u", self->sizes[i]);

  return g_string_free (s, FALSE);
}

gsize
pl_mlp_n_weights (const PlMlp *self)
{
  gsize n = 0;

  for (guint i = 0; i < self->n_layers; i++)
    n += (gsize) self->layers[i].n_out * self->layers[i].n_in;

  return n;
}

gsize
pl_mlp_n_pruned (const PlMlp *self)
{
  gsize n = 0;

  for (guint i = 0; i < self->n_layers; i++)
    {
      const PlLayer *l = &self->layers[i];
      gsize nw = (gsize) l->n_out * l->n_in;

      for (gsize k = 0; k < nw; k++)
        n += l->w_mask[k] == 0.0f;
    }

  return n;
}

void
pl_mlp_apply_masks (PlMlp *self)
{
  for (gsize k = 0; k < self->n_params; k++)
    self->params[k] *= self->masks[k];

  /* Zero times a weight of −0.0 or a NaN must still give a clean 0. */
  for (gsize k = 0; k < self->n_params; k++)
    if (self->masks[k] == 0.0f)
      self->params[k] = 0.0f;

  for (guint i = 0; i + 1 < self->n_layers; i++)
    {
      const PlLayer *next = &self->layers[i + 1];
      PlLayer *l = &self->layers[i];

      for (guint j = 0; j < l->n_out; j++)
        {
          gboolean alive = FALSE;

          for (guint o = 0; o < next->n_out && !alive; o++)
            alive = next->w_mask[(gsize) o * next->n_in + j] != 0.0f;
          l->neuron_mask[j] = alive ? 1.0f : 0.0f;
        }
    }
}

const char *
pl_activation_to_string (PlActivation activation)
{
  switch (activation)
    {
    case PL_ACTIVATION_RELU:
      return "relu";
    case PL_ACTIVATION_TANH:
      return "tanh";
    case PL_ACTIVATION_SIGMOID:
      return "sigmoid";
    default:
      g_assert_not_reached ();
    }
}

gboolean
pl_activation_parse (const char    *text,
                     PlActivation  *activation,
                     GError       **error)
{
  static const PlActivation all[] = { PL_ACTIVATION_RELU, PL_ACTIVATION_TANH, PL_ACTIVATION_SIGMOID };

  for (guint i = 0; i < G_N_ELEMENTS (all); i++)
    if (g_strcmp0 (text, pl_activation_to_string (all[i])) == 0)
      {
        *activation = all[i];
        return TRUE;
      }

  g_set_error (error, PL_SPEC_ERROR, PL_SPEC_ERROR_UNKNOWN_NAME,
               _("activation “%s”: choose relu, tanh or sigmoid"), text);
  return FALSE;
}
