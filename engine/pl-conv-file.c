#define G_LOG_DOMAIN "pl-conv-file"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <math.h>

#include "pl-conv-file.h"
#include "pl-error.h"
#include "pl-file.h"
#include "pl-safetensors.h"

/* One parametrised layer's tensors: where they live and their shape. */
typedef struct {
  float *w, *b, *mask;
  guint  rank;
  gsize  dims[4];
  gsize  n_out;
} Param;

static guint
collect_params (const PlConvNet *net,
                Param           *params)
{
  guint n = 0;

  for (guint i = 0; i < net->n_layers; i++)
    {
      const PlConvLayer *l = &net->layers[i];

      if (l->kind != PL_CONV_LAYER_CONV)
        continue;
      params[n++] = (Param) { l->w, l->b, l->w_mask, 4, { l->c_out, l->c_in, l->k, l->k }, l->c_out };
    }
  for (guint i = 0; i < net->head->n_layers; i++)
    {
      const PlLayer *l = &net->head->layers[i];

      params[n++] = (Param) { l->w, l->b, l->w_mask, 2, { l->n_out, l->n_in }, l->n_out };
    }
  return n;
}

gboolean
pl_conv_net_save (const PlConvNet  *net,
                  const char       *path,
                  GError          **error)
{
  g_autoptr(PlSafetensorsWriter) writer = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autofree char *arch = NULL;
  Param params[PL_CONV_MAX_LAYERS + PL_MLP_MAX_LAYERS];
  guint n;
  gboolean masked;

  g_return_val_if_fail (net != NULL && path != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  for (gsize k = 0; k < net->n_params; k++)
    if (!isfinite (net->params[k]))
      {
        g_autofree char *display_name = g_filename_display_name (path);

        g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_BAD_VALUE,
                     _("Could not save “%s”: a convolution holds %g, not a finite number"),
                     display_name, net->params[k]);
        return FALSE;
      }
  if (!pl_safetensors_check_finite (net->head, path, error))
    return FALSE;

  arch = pl_conv_net_arch (net);
  masked = pl_conv_net_n_pruned (net) > 0;
  writer = pl_safetensors_writer_new ();
  pl_safetensors_writer_add_metadata (writer, "format", "prunelab");
  pl_safetensors_writer_add_metadata (writer, "arch", arch);
  pl_safetensors_writer_add_metadata (writer, "activation", pl_activation_to_string (net->activation));

  n = collect_params (net, params);
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *weight = g_strdup_printf ("layers.%u.weight", i);
      g_autofree char *bias = g_strdup_printf ("layers.%u.bias", i);
      g_autofree char *mask = g_strdup_printf ("layers.%u.weight_mask", i);

      pl_safetensors_writer_add_f32 (writer, weight, params[i].rank, params[i].dims, params[i].w, FALSE);
      pl_safetensors_writer_add_f32 (writer, bias, 1, &params[i].n_out, params[i].b, FALSE);
      if (masked)
        pl_safetensors_writer_add_f32 (writer, mask, params[i].rank, params[i].dims, params[i].mask, TRUE);
    }
  bytes = pl_safetensors_writer_finish (writer);

  return pl_file_save (path, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), error);
}

/* Reads tensor @name of @rank and @dims into @out as float: finite values, and with @is_mask 0
 * or 1 only. */
static gboolean
read_tensor (const PlSafetensors *st,
             const char          *display_name,
             const char          *name,
             guint                rank,
             const gsize         *dims,
             gboolean             is_mask,
             float               *out,
             GError             **error)
{
  g_autofree double *values = NULL;
  gsize n = 1;

  for (guint d = 0; d < rank; d++)
    n *= dims[d];
  values = g_new (double, n);
  if (!pl_safetensors_get_f64 (st, name, rank, dims, values, error))
    return FALSE;
  for (gsize k = 0; k < n; k++)
    {
      if (!isfinite (values[k]) || (is_mask && values[k] != 0.0 && values[k] != 1.0))
        {
          g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_BAD_VALUE,
                       is_mask ? _("“%s”: tensor “%s” holds %g at %zu; a mask holds 0 or 1")
                               : _("“%s”: tensor “%s” holds %g at %zu, not a finite number"),
                       display_name, name, values[k], (size_t) k);
          return FALSE;
        }
      out[k] = (float) values[k];
    }
  return TRUE;
}

static gboolean
has_tensor (const PlSafetensors *st,
            const char          *name)
{
  for (guint t = 0; t < pl_safetensors_n_tensors (st); t++)
    if (g_strcmp0 (pl_safetensors_tensor_name (st, t), name) == 0)
      return TRUE;
  return FALSE;
}

PlConvNet *
pl_conv_net_load (const char  *path,
                  GError     **error)
{
  g_autoptr(PlSafetensors) st = NULL;
  g_autoptr(PlConvNet) net = NULL;
  g_autofree char *display_name = NULL;
  Param params[PL_CONV_MAX_LAYERS + PL_MLP_MAX_LAYERS];
  PlActivation activation = PL_ACTIVATION_RELU;
  const char *arch, *act;
  guint n;

  g_return_val_if_fail (path != NULL, NULL);

  st = pl_safetensors_open (path, error);
  if (st == NULL)
    return NULL;
  display_name = g_filename_display_name (path);

  arch = pl_safetensors_get_metadata (st, "arch");
  if (arch == NULL || !pl_conv_arch_is_conv (arch))
    {
      g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_BAD_HEADER,
                   _("“%s”: no convolutional architecture in the metadata (“arch”)"), display_name);
      return NULL;
    }
  act = pl_safetensors_get_metadata (st, "activation");
  if (act != NULL && !pl_activation_parse (act, &activation, error))
    {
      g_prefix_error (error, "“%s”: ", display_name);
      return NULL;
    }
  net = pl_conv_net_new_from_arch (arch, activation, error);
  if (net == NULL)
    {
      g_prefix_error (error, "“%s”: ", display_name);
      return NULL;
    }

  n = collect_params (net, params);
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *weight = g_strdup_printf ("layers.%u.weight", i);
      g_autofree char *bias = g_strdup_printf ("layers.%u.bias", i);
      g_autofree char *mask = g_strdup_printf ("layers.%u.weight_mask", i);

      if (!read_tensor (st, display_name, weight, params[i].rank, params[i].dims, FALSE, params[i].w, error)
          || !read_tensor (st, display_name, bias, 1, &params[i].n_out, FALSE, params[i].b, error)
          /* a mask is optional, but one that is there must fit */
          || (has_tensor (st, mask)
              && !read_tensor (st, display_name, mask, params[i].rank, params[i].dims, TRUE,
                               params[i].mask, error)))
        return NULL;
    }
  {
    g_autofree char *extra = g_strdup_printf ("layers.%u.weight", n);

    if (has_tensor (st, extra))
      {
        g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_BAD_SHAPE,
                     _("“%s”: tensor “%s” is one layer more than the architecture %s has"),
                     display_name, extra, arch);
        return NULL;
      }
  }

  pl_conv_net_apply_masks (net);
  return g_steal_pointer (&net);
}

gboolean
pl_conv_file_is_conv (const char *path)
{
  g_autoptr(PlSafetensors) st = NULL;
  const char *arch;

  g_return_val_if_fail (path != NULL, FALSE);

  st = pl_safetensors_open (path, NULL);
  if (st == NULL)
    return FALSE;
  arch = pl_safetensors_get_metadata (st, "arch");
  return arch != NULL && pl_conv_arch_is_conv (arch);
}
