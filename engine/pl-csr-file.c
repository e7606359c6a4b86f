#define G_LOG_DOMAIN "pl-csr-file"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#include "pl-csr-file.h"
#include "pl-csr.h"
#include "pl-error.h"
#include "pl-file.h"

/* "name": {"dtype": D, "shape": [n], "data_offsets": [offset, offset + bytes]} */
static void
add_entry (JsonBuilder *b,
           const char  *name,
           const char  *dtype,
           gsize        n,
           gsize       *offset)
{
  json_builder_set_member_name (b, name);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "dtype");
  json_builder_add_string_value (b, dtype);
  json_builder_set_member_name (b, "shape");
  json_builder_begin_array (b);
  json_builder_add_int_value (b, (gint64) n);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "data_offsets");
  json_builder_begin_array (b);
  json_builder_add_int_value (b, (gint64) *offset);
  json_builder_add_int_value (b, (gint64) (*offset + 4 * n));
  json_builder_end_array (b);
  json_builder_end_object (b);
  *offset += 4 * n;
}

/* n 32-bit values, little-endian */
static guint8 *
put32 (guint8        *out,
       const void    *values,
       gsize          n)
{
  const guint32 *v = values;

  for (gsize k = 0; k < n; k++)
    {
      guint32 u = GUINT32_TO_LE (v[k]);

      memcpy (out, &u, 4);
      out += 4;
    }
  return out;
}

gboolean
pl_csr_save_model (const PlMlp  *model,
                   const char   *path,
                   GError      **error)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *display_name = NULL;
  g_autofree char *arch = NULL;
  g_autofree char *json = NULL;
  g_autofree guint8 *file = NULL;
  PlCsr *csr[PL_MLP_MAX_LAYERS] = { NULL };
  gsize offset = 0, len, padded;
  guint64 len_le;
  guint8 *p;
  gboolean ok;

  g_return_val_if_fail (model != NULL && path != NULL, FALSE);

  display_name = g_filename_display_name (path);
  for (guint i = 0; i < model->n_layers; i++)
    {
      const PlLayer *l = &model->layers[i];

      for (gsize k = 0; k < (gsize) l->n_out * l->n_in + l->n_out; k++)
        if (!isfinite (l->w[k]))
          {
            g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_BAD_VALUE,
                         _("Could not save “%s”: layer %u holds %g, not a finite number"),
                         display_name, i, l->w[k]);
            for (guint j = 0; j < i; j++)
              pl_csr_free (csr[j]);
            return FALSE;
          }
      csr[i] = pl_csr_new_from_dense (l->w, l->w_mask,
                                      i + 1 < model->n_layers ? l->neuron_mask : NULL,
                                      i > 0 ? model->layers[i - 1].neuron_mask : NULL,
                                      l->n_out, l->n_in);
      g_assert (csr[i] != NULL);
    }

  arch = pl_mlp_arch (model);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "__metadata__");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "format");
  json_builder_add_string_value (b, "prunelab-csr");
  json_builder_set_member_name (b, "arch");
  json_builder_add_string_value (b, arch);
  json_builder_set_member_name (b, "activation");
  json_builder_add_string_value (b, pl_activation_to_string (model->activation));
  for (guint i = 0; i < model->n_layers; i++)
    {
      g_autofree char *name = g_strdup_printf ("layers.%u.weight.shape", i);
      g_autofree char *shape = g_strdup_printf ("%u,%u", csr[i]->n_rows, csr[i]->n_cols);

      json_builder_set_member_name (b, name);
      json_builder_add_string_value (b, shape);
    }
  json_builder_end_object (b);
  for (guint i = 0; i < model->n_layers; i++)
    {
      g_autofree char *crow = g_strdup_printf ("layers.%u.weight.crow_indices", i);
      g_autofree char *col = g_strdup_printf ("layers.%u.weight.col_indices", i);
      g_autofree char *val = g_strdup_printf ("layers.%u.weight.values", i);
      g_autofree char *bias = g_strdup_printf ("layers.%u.bias", i);

      add_entry (b, crow, "I32", (gsize) csr[i]->n_rows + 1, &offset);
      add_entry (b, col, "I32", csr[i]->nnz, &offset);
      add_entry (b, val, "F32", csr[i]->nnz, &offset);
      add_entry (b, bias, "F32", model->layers[i].n_out, &offset);
    }
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  json = json_generator_to_data (gen, &len);
  /* padded with spaces to a multiple of 8, so that the data start aligned */
  padded = (len + 7) & ~(gsize) 7;

  file = g_malloc (8 + padded + offset);
  len_le = GUINT64_TO_LE ((guint64) padded);
  memcpy (file, &len_le, 8);
  memcpy (file + 8, json, len);
  memset (file + 8 + len, ' ', padded - len);
  p = file + 8 + padded;
  for (guint i = 0; i < model->n_layers; i++)
    {
      p = put32 (p, csr[i]->row_ptr, (gsize) csr[i]->n_rows + 1);
      p = put32 (p, csr[i]->col, csr[i]->nnz);
      p = put32 (p, csr[i]->val, csr[i]->nnz);
      p = put32 (p, model->layers[i].b, model->layers[i].n_out);
      pl_csr_free (csr[i]);
    }
  g_assert (p == file + 8 + padded + offset);

  ok = pl_file_save (path, file, 8 + padded + offset, error);
  return ok;
}
