#define G_LOG_DOMAIN "pl-compact"

#include "config.h"

#include "pl-compact.h"

/* The live units of layer boundary b (0 the input, n_layers the output) as indices. */
static GArray *
live_units (const PlMlp *model,
            guint        b)
{
  GArray *live = g_array_new (FALSE, FALSE, sizeof (guint32));

  for (guint32 j = 0; j < model->sizes[b]; j++)
    if (b == 0 || b == model->n_layers || model->layers[b - 1].neuron_mask[j] != 0.0f)
      g_array_append_val (live, j);
  /* a hidden layer with no live neuron keeps neuron 0, muted by its zero weights */
  if (live->len == 0)
    {
      guint32 zero = 0;

      g_array_append_val (live, zero);
    }
  return live;
}

void
pl_compact_sizes (const PlMlp *model,
                  guint       *sizes)
{
  g_return_if_fail (model != NULL && sizes != NULL);

  for (guint b = 0; b <= model->n_layers; b++)
    {
      g_autoptr(GArray) live = live_units (model, b);

      sizes[b] = live->len;
    }
}

PlMlp *
pl_compact (const PlMlp *model,
            GArray     **kept)
{
  g_autoptr(PlMlp) small = NULL;
  GArray *live[PL_MLP_MAX_LAYERS + 1] = { NULL };
  guint sizes[PL_MLP_MAX_LAYERS + 1];

  g_return_val_if_fail (model != NULL, NULL);

  for (guint b = 0; b <= model->n_layers; b++)
    {
      live[b] = live_units (model, b);
      sizes[b] = live[b]->len;
    }
  small = pl_mlp_new (sizes, model->n_layers, model->activation);

  for (guint i = 0; i < model->n_layers; i++)
    {
      const PlLayer *l = &model->layers[i];
      PlLayer *s = &small->layers[i];
      const guint32 *rows = (const guint32 *) live[i + 1]->data;
      const guint32 *cols = (const guint32 *) live[i]->data;

      for (guint r = 0; r < s->n_out; r++)
        {
          /* a muted stand-in neuron (see live_units) has neuron mask 0 */
          gboolean muted = i + 1 < model->n_layers && l->neuron_mask[rows[r]] == 0.0f;

          s->b[r] = muted ? 0.0f : l->b[rows[r]];
          for (guint c = 0; c < s->n_in; c++)
            {
              gsize at = (gsize) rows[r] * l->n_in + cols[c];
              gboolean dead_in = i > 0 && model->layers[i - 1].neuron_mask[cols[c]] == 0.0f;
              float m = muted || dead_in ? 0.0f : l->w_mask[at];

              s->w_mask[(gsize) r * s->n_in + c] = m;
              s->w[(gsize) r * s->n_in + c] = m != 0.0f ? l->w[at] * m : 0.0f;
            }
        }
    }
  pl_mlp_apply_masks (small);

  for (guint b = 0; b <= model->n_layers; b++)
    {
      if (kept != NULL && b > 0 && b < model->n_layers)
        kept[b - 1] = g_array_ref (live[b]);
      g_array_unref (live[b]);
    }

  return g_steal_pointer (&small);
}
