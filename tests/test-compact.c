/* test-compact.c — a neuron-pruned network and its compacted copy compute the same outputs
 *
 * The masked network (pl_nn_forward on the full-size model, dead neurons forced to 0) is the
 * reference; the compacted network must agree on random inputs, with every activation, with
 * weights pruned inside the surviving block too, and when a whole hidden layer is dead. A
 * hand-built case checks which rows and columns survive. */
#include "config.h"

#include <glib/gstdio.h>
#include <math.h>

#include "pl-compact.h"
#include "pl-metrics.h"
#include "pl-nn.h"
#include "pl-rng.h"
#include "pl-safetensors.h"

static PlMlp *
random_model (const char   *arch,
              PlActivation  activation,
              guint64       seed)
{
  g_autoptr(GError) error = NULL;
  PlMlp *m = pl_mlp_new_from_arch (arch, activation, &error);
  PlRng rng;

  g_assert_no_error (error);
  pl_mlp_init (m, seed);
  pl_rng_init (&rng, seed + 100);
  for (guint i = 0; i < m->n_layers; i++)
    for (guint o = 0; o < m->layers[i].n_out; o++)
      m->layers[i].b[o] = (float) (0.3 * pl_rng_normal (&rng));
  return m;
}

/* Prunes hidden neuron j of layer i the way structured pruning does: its row in layer i and
 * its column in layer i + 1. */
static void
kill_neuron (PlMlp *m,
             guint  i,
             guint  j)
{
  PlLayer *l = &m->layers[i], *next = &m->layers[i + 1];

  for (guint k = 0; k < l->n_in; k++)
    l->w_mask[(gsize) j * l->n_in + k] = 0.0f;
  for (guint o = 0; o < next->n_out; o++)
    next->w_mask[(gsize) o * next->n_in + j] = 0.0f;
}

static void
assert_same_outputs (const PlMlp *m,
                     const PlMlp *c,
                     guint64      seed)
{
  static const guint n = 33;
  g_autofree float *x = g_new (float, (gsize) n * m->sizes[0]);
  g_autoptr(PlNnWork) wm = pl_nn_work_new (m, n);
  g_autoptr(PlNnWork) wc = pl_nn_work_new (c, n);
  guint m_out = m->sizes[m->n_layers];
  const float *pm, *pc;
  PlRng rng;

  g_assert_cmpuint (c->sizes[0], ==, m->sizes[0]);
  g_assert_cmpuint (c->sizes[c->n_layers], ==, m_out);
  pl_rng_init (&rng, seed);
  for (gsize k = 0; k < (gsize) n * m->sizes[0]; k++)
    x[k] = (float) pl_rng_normal (&rng);
  pm = pl_nn_forward (m, wm, x, n);
  pc = pl_nn_forward (c, wc, x, n);
  for (gsize k = 0; k < (gsize) n * m_out; k++)
    g_assert_cmpfloat_with_epsilon (pc[k], pm[k], 1e-6);
}

/* 5-4-3-2: neuron 1 of layer 0 and neuron 2 of layer 1 pruned → 5-3-2-2, and which entries
 * survive, in order. */
static void
test_by_hand (void)
{
  g_autoptr(PlMlp) m = random_model ("5-4-3-2", PL_ACTIVATION_RELU, 1);
  g_autoptr(PlMlp) c = NULL;
  GArray *kept[2] = { NULL };
  guint sizes[4];
  static const guint32 rows0[] = { 0, 2, 3 }, rows1[] = { 0, 1 };

  kill_neuron (m, 0, 1);
  kill_neuron (m, 1, 2);
  pl_mlp_apply_masks (m);
  c = pl_compact (m, kept);
  pl_compact_sizes (m, sizes);

  g_assert_cmpuint (c->n_layers, ==, 3);
  g_assert_cmpuint (c->sizes[1], ==, 3);
  g_assert_cmpuint (c->sizes[2], ==, 2);
  g_assert_cmpuint (c->sizes[3], ==, 2);
  for (guint b = 0; b <= 3; b++)
    g_assert_cmpuint (sizes[b], ==, c->sizes[b]);
  g_assert_cmpuint (kept[0]->len, ==, 3);
  g_assert_cmpuint (kept[1]->len, ==, 2);
  for (guint r = 0; r < 3; r++)
    {
      g_assert_cmpuint (g_array_index (kept[0], guint32, r), ==, rows0[r]);
      g_assert_cmpfloat (c->layers[0].b[r], ==, m->layers[0].b[rows0[r]]);
      for (guint k = 0; k < 5; k++)
        g_assert_cmpfloat (c->layers[0].w[r * 5 + k], ==, m->layers[0].w[rows0[r] * 5 + k]);
    }
  /* layer 1: rows 0, 1 of columns 0, 2, 3 */
  for (guint r = 0; r < 2; r++)
    for (guint k = 0; k < 3; k++)
      g_assert_cmpfloat (c->layers[1].w[r * 3 + k], ==, m->layers[1].w[rows1[r] * 4 + rows0[k]]);
  /* nothing is pruned in the compacted network: plain nn.Linear layers */
  g_assert_cmpuint (pl_mlp_n_pruned (c), ==, 0);
  assert_same_outputs (m, c, 2);

  g_array_unref (kept[0]);
  g_array_unref (kept[1]);
}

/* Random neuron and weight pruning on every activation: the compacted network computes the
 * masked one's outputs, and its size is pl-metrics' compacted bytes. */
static void
test_random (void)
{
  for (PlActivation a = PL_ACTIVATION_RELU; a <= PL_ACTIVATION_SIGMOID; a++)
    for (guint64 seed = 1; seed <= 4; seed++)
      {
        g_autoptr(PlMlp) m = random_model ("20-16-12-5", a, seed);
        g_autoptr(PlMlp) c = NULL;
        PlMetrics metrics;
        double bytes = 0.0;
        PlRng rng;

        pl_rng_init (&rng, seed);
        for (guint i = 0; i < 2; i++)
          for (guint j = 0; j < m->sizes[i + 1]; j++)
            if (pl_rng_uniform (&rng) < 0.5)
              kill_neuron (m, i, j);
        for (gsize k = 0; k < m->n_params; k++)
          if (pl_rng_uniform (&rng) < 0.3 && m->masks[k] != 0.0f)
            {
              /* only weights, never biases */
              gsize off = 0;
              gboolean is_weight = FALSE;

              for (guint i = 0; i < m->n_layers; i++)
                {
                  gsize nw = (gsize) m->layers[i].n_out * m->layers[i].n_in;

                  is_weight |= k >= off && k < off + nw;
                  off += nw + m->layers[i].n_out;
                }
              if (is_weight)
                m->masks[k] = 0.0f;
            }
        pl_mlp_apply_masks (m);
        c = pl_compact (m, NULL);
        assert_same_outputs (m, c, seed + 10);

        pl_metrics_compute (&metrics, m, NULL, NULL, NULL);
        for (guint i = 0; i < c->n_layers; i++)
          bytes += 4.0 * ((double) c->layers[i].n_out * c->layers[i].n_in + c->layers[i].n_out);
        /* pl-metrics counts the compacted rows and columns the same way, unless a hidden layer
         * died whole (then the stand-in neuron adds a row) */
        if (c->sizes[1] == m->sizes[1] - metrics.layers[0].dead_neurons
            && c->sizes[2] == m->sizes[2] - metrics.layers[1].dead_neurons)
          g_assert_cmpfloat (bytes, ==, metrics.total.bytes_compact);
      }
}

/* A hidden layer with no live neuron: the output is the last layer's bias through a softmax,
 * and the compacted network keeps one muted neuron there. */
static void
test_dead_layer (void)
{
  for (PlActivation a = PL_ACTIVATION_RELU; a <= PL_ACTIVATION_SIGMOID; a++)
    {
      g_autoptr(PlMlp) m = random_model ("6-5-4-3", a, 9);
      g_autoptr(PlMlp) c = NULL;

      for (guint j = 0; j < 4; j++)
        kill_neuron (m, 1, j);
      kill_neuron (m, 0, 2);
      pl_mlp_apply_masks (m);
      c = pl_compact (m, NULL);
      g_assert_cmpuint (c->sizes[2], ==, 1);
      assert_same_outputs (m, c, 5);
    }
}

/* Saved and loaded again, the compacted network keeps its smaller shapes and its outputs. */
static void
test_saves (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PlMlp) m = random_model ("12-10-8-3", PL_ACTIVATION_TANH, 3);
  g_autoptr(PlMlp) c = NULL;
  g_autoptr(PlMlp) back = NULL;
  g_autofree char *dir = g_dir_make_tmp ("test-compact-XXXXXX", &error);
  g_autofree char *path = NULL;
  g_autofree char *arch = NULL;

  g_assert_no_error (error);
  for (guint j = 0; j < 10; j += 2)
    kill_neuron (m, 0, j);
  kill_neuron (m, 1, 7);
  pl_mlp_apply_masks (m);
  c = pl_compact (m, NULL);
  path = g_build_filename (dir, "small.safetensors", NULL);
  g_assert_true (pl_safetensors_save (c, path, &error));
  g_assert_no_error (error);
  back = pl_safetensors_load (path, &error);
  g_assert_no_error (error);
  arch = pl_mlp_arch (back);
  g_assert_cmpstr (arch, ==, "12-5-7-3");
  assert_same_outputs (m, back, 4);
  g_unlink (path);
  g_rmdir (dir);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/engine/compact/keeps-live-rows-and-columns", test_by_hand);
  g_test_add_func ("/engine/compact/equals-masked-network", test_random);
  g_test_add_func ("/engine/compact/dead-hidden-layer", test_dead_layer);
  g_test_add_func ("/engine/compact/saves-smaller-shapes", test_saves);

  return g_test_run ();
}
