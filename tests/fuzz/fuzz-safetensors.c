#define G_LOG_DOMAIN "fuzz-safetensors"

#include "config.h"

#include <math.h>
#include <string.h>

#include "pl-error.h"
#include "pl-fuzz.h"
#include "pl-mlp.h"
#include "pl-safetensors.h"

/* The model reader as a user reaches it: pl_safetensors_load () of a file, as prunelab-cli
 * --model and the GUI's Open pass it. The input is the file.
 *
 * Checked: a rejection is a PL_FORMAT_ERROR naming the file. A loaded model has 1 to
 * PL_MLP_MAX_LAYERS layers whose sizes chain, finite parameters, masks of 0 and 1 (biases never
 * pruned) with every pruned weight exactly +0, neuron masks of 0 and 1 (the output layer's all
 * 1); and it survives a round trip through the writer: saved and loaded again, it has the same
 * architecture, activation, parameters and masks, bit for bit. */

static void
check_model (const PlMlp *m)
{
  gsize n_params = 0;
  gsize offset = 0;

  PL_FUZZ_CHECK (m->n_layers >= 1 && m->n_layers <= PL_MLP_MAX_LAYERS, "%u layers",
                 m->n_layers);
  PL_FUZZ_CHECK (m->activation == PL_ACTIVATION_RELU || m->activation == PL_ACTIVATION_TANH
                 || m->activation == PL_ACTIVATION_SIGMOID, "activation %d", m->activation);
  for (guint i = 0; i <= m->n_layers; i++)
    PL_FUZZ_CHECK (m->sizes[i] >= 1 && m->sizes[i] <= PL_MLP_MAX_WIDTH, "size %u is %u",
                   i, m->sizes[i]);

  for (guint i = 0; i < m->n_layers; i++)
    {
      const PlLayer *l = &m->layers[i];
      gsize nw = (gsize) l->n_out * l->n_in;

      PL_FUZZ_CHECK (l->n_in == m->sizes[i] && l->n_out == m->sizes[i + 1],
                     "layer %u is %u → %u, the sizes say %u → %u", i, l->n_in, l->n_out,
                     m->sizes[i], m->sizes[i + 1]);
      PL_FUZZ_CHECK (l->w == m->params + offset && l->b == l->w + nw
                     && l->w_mask == m->masks + offset,
                     "layer %u is not where the flat layout puts it", i);
      for (gsize k = 0; k < nw; k++)
        {
          PL_FUZZ_CHECK (l->w_mask[k] == 0.0f || l->w_mask[k] == 1.0f,
                         "layer %u: mask %zu is %g", i, k, l->w_mask[k]);
          PL_FUZZ_CHECK (l->w_mask[k] == 1.0f || (l->w[k] == 0.0f && !signbit (l->w[k])),
                         "layer %u: pruned weight %zu is %g", i, k, l->w[k]);
        }
      for (guint o = 0; o < l->n_out; o++)
        {
          PL_FUZZ_CHECK (l->w_mask[nw + o] == 1.0f, "layer %u: bias %u is pruned", i, o);
          PL_FUZZ_CHECK (l->neuron_mask[o] == 0.0f || l->neuron_mask[o] == 1.0f,
                         "layer %u: neuron mask %u is %g", i, o, l->neuron_mask[o]);
          PL_FUZZ_CHECK (i + 1 < m->n_layers || l->neuron_mask[o] == 1.0f,
                         "output %u is pruned", o);
        }
      offset += nw + l->n_out;
      n_params += nw + l->n_out;
    }
  PL_FUZZ_CHECK (n_params == m->n_params, "%zu parameters counted, %zu recorded", n_params,
                 m->n_params);
  for (gsize k = 0; k < m->n_params; k++)
    PL_FUZZ_CHECK (isfinite (m->params[k]), "parameter %zu is %g", k, m->params[k]);
}

static void
check_round_trip (const PlMlp *m)
{
  g_autofree char *path = g_build_filename (pl_fuzz_dir (), "round-trip.safetensors", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(PlMlp) again = NULL;

  PL_FUZZ_CHECK (pl_safetensors_save (m, path, &error), "a loaded model does not save: %s",
                 error->message);
  again = pl_safetensors_load (path, &error);
  PL_FUZZ_CHECK (again != NULL, "a saved model does not load: %s", error->message);
  PL_FUZZ_CHECK (again->n_layers == m->n_layers && again->activation == m->activation
                 && memcmp (again->sizes, m->sizes, sizeof (guint) * (m->n_layers + 1)) == 0,
                 "the architecture changed in a round trip");
  PL_FUZZ_CHECK (memcmp (again->params, m->params, sizeof (float) * m->n_params) == 0,
                 "the parameters changed in a round trip");
  PL_FUZZ_CHECK (memcmp (again->masks, m->masks, sizeof (float) * m->n_params) == 0,
                 "the masks changed in a round trip");
  PL_FUZZ_CHECK (memcmp (again->neuron_masks, m->neuron_masks,
                         sizeof (float) * m->n_neurons) == 0,
                 "the neuron masks changed in a round trip");
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autofree char *path = pl_fuzz_write ("model.safetensors", data, size);
  g_autoptr(GError) error = NULL;
  g_autoptr(PlMlp) model = pl_safetensors_load (path, &error);

  if (!pl_fuzz_loaded (model, error, path))
    return 0;
  check_model (model);
  check_round_trip (model);

  return 0;
}

/* ---- seeds ------------------------------------------------------------------------------- */

/* Models written by pl_safetensors_save (), the writer PruneLab uses, small enough to mutate
 * fast; then the files PyTorch wrote for the interop tests and the known bad files. */
void
pl_fuzz_make_seeds (void)
{
  static const struct {
    const char   *arch;
    PlActivation  activation;
    guint         prune_every;  /* prune weight k when k % prune_every == 1; 0: none */
  } models[] = {
    { "2-3-2", PL_ACTIVATION_RELU, 0 },
    { "3-4-4-2", PL_ACTIVATION_TANH, 3 },
    { "1-1", PL_ACTIVATION_SIGMOID, 0 },
    { "4-2", PL_ACTIVATION_RELU, 2 },
    { "2-5-3-3-2", PL_ACTIVATION_SIGMOID, 4 },
  };
  g_auto(GStrv) torch = pl_fuzz_data_files ("", "");
  g_auto(GStrv) bad = pl_fuzz_data_files ("bad", "st-");
  g_autofree char *path = g_build_filename (pl_fuzz_dir (), "seed.safetensors", NULL);

  for (guint i = 0; i < G_N_ELEMENTS (models); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(PlMlp) m = pl_mlp_new_from_arch (models[i].arch, models[i].activation, &error);
      g_autoptr(GBytes) bytes = NULL;
      g_autofree char *name = NULL;
      gsize len;
      const void *contents;

      g_assert_no_error (error);
      pl_mlp_init (m, 1000 + i);
      if (models[i].prune_every > 0)
        {
          /* weights only: the bias entries of the masks stay 1 */
          for (guint l = 0; l < m->n_layers; l++)
            for (gsize k = 0; k < (gsize) m->layers[l].n_out * m->layers[l].n_in; k++)
              if (k % models[i].prune_every == 1)
                m->layers[l].w_mask[k] = 0.0f;
          pl_mlp_apply_masks (m);
        }
      if (!pl_safetensors_save (m, path, &error))
        pl_fuzz_fail ("%s", error->message);
      bytes = pl_fuzz_read (path);
      contents = g_bytes_get_data (bytes, &len);
      name = g_strdup_printf ("prunelab-%s-%s%s.safetensors", models[i].arch,
                              pl_activation_to_string (models[i].activation),
                              models[i].prune_every > 0 ? "-pruned" : "");
      pl_fuzz_add_seed (name, contents, len);
    }

  for (guint i = 0; torch[i] != NULL; i++)
    if (g_str_has_suffix (torch[i], ".safetensors"))
      {
        g_autoptr(GBytes) bytes = pl_fuzz_read (torch[i]);
        g_autofree char *base = g_path_get_basename (torch[i]);
        gsize len;
        const void *contents = g_bytes_get_data (bytes, &len);

        pl_fuzz_add_seed (base, contents, len);
      }

  for (guint i = 0; bad[i] != NULL; i++)
    {
      g_autoptr(GBytes) bytes = pl_fuzz_read (bad[i]);
      g_autofree char *base = g_path_get_basename (bad[i]);
      gsize len;
      const void *contents = g_bytes_get_data (bytes, &len);

      pl_fuzz_add_seed (base, contents, len);
    }
}
