/* The engine thread with a convolutional network (LeNet-5 on the built-in shapes): the
 * snapshot's layers, stages and feature maps; training; the live preview of weights and of
 * whole filters against plain recomputations; apply, undo, rewind; saving; a sweep; and what a
 * conv net refuses. */
#include "config.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "pl-conv-file.h"
#include "pl-conv-prune.h"
#include "pl-engine.h"
#include "pl-error.h"
#include "pl-eval.h"
#include "pl-test-engine.h"
#include "pl-test-util.h"

#define SPEC       "shapes:n=2000,seed=5"
#define TIMEOUT_MS 300000

/* The engine's recorder, and the same data loaded here: the evaluation split to check
 * against. */
typedef struct {
  PlTestEngine  t;
  PlEngine     *engine;   /* t.engine */
  PlData       *data;
} Recorder;

static gboolean
wait_done (Recorder *r,
           guint     id)
{
  return pl_test_engine_wait_done (&r->t, id, TIMEOUT_MS);
}

static void
wait_preview (Recorder *r,
              guint64   request)
{
  pl_test_engine_wait_preview (&r->t, request, TIMEOUT_MS);
}

static void
train_config (PlTrainConfig *config,
              guint          epochs)
{
  pl_train_config_init (config);
  config->epochs = epochs;
  config->batch_size = 64;
  config->lr = 0.05;
  config->momentum = 0.9;
  config->threads = 2;
  config->seed = 3;
}

/* Data, LeNet-5 (seed 7), and @epochs of training when > 0. */
static void
set_up (Recorder *r,
        guint     epochs)
{
  g_autoptr(GError) error = NULL;
  PlDataOptions options = PL_DATA_OPTIONS_INIT;

  pl_test_engine_init (&r->t, 2, NULL, NULL);
  r->engine = r->t.engine;
  r->data = pl_data_load (SPEC, &options, &error);
  g_assert_no_error (error);

  g_assert_true (wait_done (r, pl_engine_load_data (r->engine, SPEC, NULL)));
  g_assert_true (wait_done (r, pl_engine_new_model (r->engine, "lenet5", PL_ACTIVATION_RELU, 7)));
  if (epochs > 0)
    {
      PlTrainConfig config;

      train_config (&config, epochs);
      g_assert_true (wait_done (r, pl_engine_train (r->engine, &config)));
    }
  g_assert_cmpuint (r->t.errors->len, ==, 0);
}

static void
tear_down (Recorder *r)
{
  r->engine = NULL;
  pl_test_engine_clear (&r->t);
  pl_data_free (r->data);
}

static const PlDataset *
eval_split (Recorder *r)
{
  return r->data->val != NULL && r->data->val->n > 0 ? r->data->val : r->data->test;
}

/* The network the snapshot shows, through the file format: saved by the engine, loaded here. */
static PlConvNet *
saved_net (Recorder   *r,
           const char *name)
{
  g_autofree char *path = g_build_filename (pl_test_tmp_dir (), name, NULL);
  g_autoptr(GError) error = NULL;
  PlConvNet *net;

  g_assert_true (wait_done (r, pl_engine_save_model (r->engine, path)));
  net = pl_conv_net_load (path, &error);
  g_assert_no_error (error);
  g_unlink (path);
  return net;
}

static void
set_strategy (Recorder    *r,
              PlScoreKind  score,
              PlScope      scope)
{
  PlStrategy strategy;

  pl_strategy_init (&strategy);
  strategy.score = score;
  strategy.scope = scope;
  g_assert_true (wait_done (r, pl_engine_set_strategy (r->engine, &strategy)));
}

/* LeNet-5 in a snapshot: its layers as filter matrices, its stages, and the feature maps of
 * the first evaluation image, stage 0 against the nested loops of pl_conv_layer_forward_ref;
 * the dense FLOPs against the hand count; after training, the accuracy. */
static void
test_snapshot (void)
{
  Recorder r;
  g_autoptr(PlSnapshot) s = NULL;   /* a reference: the loop replaces r.t.last */
  const PlDataset *eval;
  g_autoptr(PlConvNet) net = NULL;
  g_autoptr(PlEvaluation) ev = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree double *in = NULL;
  g_autofree double *out = NULL;
  const float *maps;
  gsize n;
  static const guint shapes[][2] = { { 6, 25 }, { 16, 150 }, { 120, 400 }, { 84, 120 }, { 10, 84 } };

  set_up (&r, 2);
  s = pl_snapshot_ref (r.t.last);
  eval = eval_split (&r);
  g_assert_cmpstr (s->arch, ==, "1x28x28-c6k5p2-m2-c16k5-m2-120-84-10");
  g_assert_cmpuint (s->n_layers, ==, 5);
  for (guint i = 0; i < 5; i++)
    {
      g_assert_cmpuint (s->layers[i].n_out, ==, shapes[i][0]);
      g_assert_cmpuint (s->layers[i].n_in, ==, shapes[i][1]);
      pl_snapshot_floats (s->layers[i].weights, &n);
      g_assert_cmpuint (n, ==, shapes[i][0] * shapes[i][1]);
      pl_snapshot_floats (s->layers[i].neuron_masks, &n);
      g_assert_cmpuint (n, ==, shapes[i][0]);
    }
  g_assert_cmpuint (s->n_stages, ==, 4);
  g_assert_cmpint (s->stages[0].layer, ==, 0);
  g_assert_cmpint (s->stages[1].layer, ==, -1);
  g_assert_cmpint (s->stages[2].layer, ==, 1);
  g_assert_cmpuint (s->stages[3].c_out * s->stages[3].h_out * s->stages[3].w_out, ==, 400);

  /* dense FLOPs per sample, 2 per multiply-add at every output position: conv1
   * 2·6·25·28·28 = 235,200; conv2 2·16·150·10·10 = 480,000; the head 2·(400·120 + 120·84 +
   * 84·10) = 117,840 */
  g_assert_cmpfloat (s->metrics.layers[0].flops_dense, ==, 235200.0);
  g_assert_cmpfloat (s->metrics.layers[1].flops_dense, ==, 480000.0);
  g_assert_cmpfloat (s->metrics.total.flops_dense, ==, 833040.0);
  g_assert_cmpuint (s->metrics.total.weights, ==, 150 + 2400 + 48000 + 10080 + 840);
  g_assert_cmpuint (s->metrics.total.pruned, ==, 0);

  /* the snapshot's evaluation is that of the network it shows */
  net = saved_net (&r, "conv-snapshot.safetensors");
  ev = pl_conv_evaluate (net, eval, &error);
  g_assert_no_error (error);
  g_assert_true (s->eval.valid);
  g_assert_cmpuint (s->eval.n, ==, eval->n);
  g_assert_cmpfloat_with_epsilon (s->eval.accuracy, ev->accuracy, 1e-12);
  g_test_message ("LeNet-5 on %s, 2 epochs: %.4f on %u %s samples", SPEC, s->eval.accuracy,
                  s->eval.n, s->eval_split);
  /* 8 balanced classes: chance is 0.125 */
  g_assert_cmpfloat (s->eval.accuracy, >=, 0.8);

  /* stage 0's maps of evaluation image 0 */
  g_assert_cmpuint (s->feature_index, ==, 0);
  g_assert_cmpuint (s->feature_label, ==, eval->y[0]);
  in = g_new (double, 784);
  out = g_new (double, 6 * 28 * 28);
  for (guint k = 0; k < 784; k++)
    in[k] = eval->x[k];
  pl_conv_layer_forward_ref (net, 0, in, out);
  maps = pl_snapshot_floats (s->stages[0].maps, &n);
  g_assert_cmpuint (n, ==, 6 * 28 * 28);
  for (gsize k = 0; k < n; k++)
    g_assert_cmpfloat_with_epsilon (maps[k], out[k], 1e-4);
  g_assert_null (s->stages[0].preview_maps);

  /* another image */
  g_assert_true (wait_done (&r, pl_engine_set_feature_image (r.engine, 3)));
  g_assert_cmpuint (r.t.last->feature_index, ==, 3);
  g_assert_cmpuint (r.t.last->feature_label, ==, eval->y[3]);
  for (guint k = 0; k < 784; k++)
    in[k] = eval->x[3 * 784 + k];
  pl_conv_layer_forward_ref (net, 0, in, out);
  maps = pl_snapshot_floats (r.t.last->stages[0].maps, &n);
  for (gsize k = 0; k < n; k++)
    g_assert_cmpfloat_with_epsilon (maps[k], out[k], 1e-4);
  g_clear_pointer (&s, pl_snapshot_unref);
  tear_down (&r);
}

/* Global magnitude: the preview's masks are those of pl_conv_prune_magnitude on the saved
 * network, its accuracy that of the pruned copy; apply gives exactly them, undo the old ones. */
static void
test_preview_weights (void)
{
  Recorder r;
  g_autoptr(PlConvNet) net = NULL;
  g_autoptr(PlConvNet) pruned = NULL;
  g_autoptr(PlEvaluation) ev = NULL;
  const PlSnapshot *s;
  guint64 request;
  gsize n;

  set_up (&r, 1);
  set_strategy (&r, PL_SCORE_MAGNITUDE, PL_SCOPE_GLOBAL);
  net = saved_net (&r, "conv-preview.safetensors");
  pruned = pl_conv_net_copy (net);
  pl_conv_prune_magnitude (pruned, 0.7, TRUE, FALSE);
  ev = pl_conv_evaluate (pruned, eval_split (&r), NULL);

  request = pl_engine_preview (r.engine, 0.7, FALSE);
  wait_preview (&r, request);
  s = r.t.last;
  g_assert_cmpuint (s->preview.weights, ==, pl_conv_net_n_weights (net));
  g_assert_cmpuint (s->preview.pruned, ==, pl_conv_net_n_pruned (pruned));
  g_assert_cmpfloat_with_epsilon (s->preview.accuracy, ev->accuracy, 2.0 / ev->n);
  g_assert_cmpfloat_with_epsilon (s->preview.loss, ev->loss, 1e-4);
  /* the conv layers' masks, then the head's */
  for (guint i = 0; i < 2; i++)
    {
      const PlConvLayer *l = &pruned->layers[i == 0 ? 0 : 2];
      const float *pm = pl_snapshot_floats (s->layers[i].preview_masks, &n);

      g_assert_cmpuint (n, ==, l->c_out * l->c_in * l->k * l->k);
      g_assert_cmpmem (pm, n * sizeof (float), l->w_mask, n * sizeof (float));
    }
  for (guint i = 0; i < pruned->head->n_layers; i++)
    {
      const PlLayer *l = &pruned->head->layers[i];
      const float *pm = pl_snapshot_floats (s->layers[2 + i].preview_masks, &n);

      g_assert_cmpmem (pm, n * sizeof (float), l->w_mask, (gsize) l->n_out * l->n_in * sizeof (float));
    }
  g_assert_nonnull (s->stages[0].preview_maps);
  /* the threshold is the highest |w| pruned: every weight below it is pruned */
  {
    double t = s->preview.threshold;
    gsize below = 0, total = 0;

    g_assert_true (isfinite (t));
    for (guint i = 0; i < s->n_layers; i++)
      {
        const float *w = pl_snapshot_floats (s->layers[i].weights, &n);
        const float *pm = pl_snapshot_floats (s->layers[i].preview_masks, NULL);

        for (gsize k = 0; k < n; k++)
          {
            below += fabsf (w[k]) < t && pm[k] != 0.0f;
            total += fabsf (w[k]) <= t && pm[k] == 0.0f;
          }
      }
    g_assert_cmpuint (below, ==, 0);
    g_assert_cmpuint (total, ==, s->preview.pruned);
  }
  g_assert_cmpuint (s->preview_metrics.total.pruned, ==, pl_conv_net_n_pruned (pruned));

  /* a drag: each position is the same ranking pruned further or less */
  {
    static const double drag[] = { 0.3, 0.9, 0.5, 0.7 };

    for (guint i = 0; i < G_N_ELEMENTS (drag); i++)
      {
        g_autoptr(PlConvNet) at = pl_conv_net_copy (net);

        pl_conv_prune_magnitude (at, drag[i], TRUE, FALSE);
        request = pl_engine_preview (r.engine, drag[i], FALSE);
        wait_preview (&r, request);
        g_assert_cmpuint (r.t.last->preview.pruned, ==, pl_conv_net_n_pruned (at));
        g_assert_cmpmem (pl_snapshot_floats (r.t.last->layers[1].preview_masks, NULL), 2400 * sizeof (float),
                         at->layers[2].w_mask, 2400 * sizeof (float));
      }
    s = r.t.last;
  }

  /* apply: the model's masks become the preview's */
  g_assert_true (wait_done (&r, pl_engine_apply_prune (r.engine)));
  s = r.t.last;
  g_assert_false (s->has_preview);
  g_assert_true (s->can_undo);
  g_assert_cmpuint (s->metrics.total.pruned, ==, pl_conv_net_n_pruned (pruned));
  g_assert_cmpmem (pl_snapshot_floats (s->layers[1].masks, &n), 2400 * sizeof (float),
                   pruned->layers[2].w_mask, 2400 * sizeof (float));
  {
    g_autoptr(PlConvNet) applied = saved_net (&r, "conv-applied.safetensors");
    g_autoptr(PlEvaluation) ev2 = pl_conv_evaluate (applied, eval_split (&r), NULL);

    g_assert_cmpuint (pl_conv_net_n_pruned (applied), ==, pl_conv_net_n_pruned (pruned));
    g_assert_cmpfloat_with_epsilon (r.t.last->eval.accuracy, ev2->accuracy, 1e-12);
  }

  /* undo: nothing pruned again */
  g_assert_true (wait_done (&r, pl_engine_undo (r.engine)));
  g_assert_cmpuint (r.t.last->metrics.total.pruned, ==, 0);
  g_assert_cmpuint (r.t.errors->len, ==, 0);
  tear_down (&r);
}

/* Filter pruning by L1 norm at 50 %: in each conv layer the round(c_out/2) filters of the
 * smallest Σ|F_j| (computed here from the snapshot's weights by a plain loop) die, with the next
 * layer's input channels; their preview maps are 0. */
static void
test_preview_filters (void)
{
  Recorder r;
  const PlSnapshot *s;
  guint64 request;

  set_up (&r, 1);
  set_strategy (&r, PL_SCORE_NEURON_L1, PL_SCOPE_GLOBAL);
  request = pl_engine_preview (r.engine, 0.5, FALSE);
  wait_preview (&r, request);
  s = r.t.last;

  for (guint i = 0; i < 2; i++)
    {
      const PlLayerView *l = &s->layers[i];
      const float *w = pl_snapshot_floats (l->weights, NULL);
      const float *fm = pl_snapshot_floats (l->preview_neuron_masks, NULL);
      const PlConvStageView *st = &s->stages[i == 0 ? 0 : 2];
      const float *maps = pl_snapshot_floats (st->preview_maps, NULL);
      double norm[16];
      guint dead = 0;

      for (guint o = 0; o < l->n_out; o++)
        {
          norm[o] = 0.0;
          for (guint k = 0; k < l->n_in; k++)
            norm[o] += fabs (w[(gsize) o * l->n_in + k]);
        }
      for (guint o = 0; o < l->n_out; o++)
        {
          guint below = 0;

          /* filter o dies when fewer than half the filters are smaller (ties by index) */
          for (guint q = 0; q < l->n_out; q++)
            below += norm[q] < norm[o] || (norm[q] == norm[o] && q < o);
          g_assert_cmpfloat (fm[o], ==, below < l->n_out / 2 ? 0.0f : 1.0f);
          dead += fm[o] == 0.0f;
          if (fm[o] == 0.0f)
            for (guint p = 0; p < st->h_out * st->w_out; p++)
              g_assert_cmpfloat (maps[(gsize) o * st->h_out * st->w_out + p], ==, 0.0f);
          /* the next conv layer reads nothing of a dead filter of the first */
          if (i == 0 && fm[o] == 0.0f)
            {
              const float *next = pl_snapshot_floats (s->layers[1].preview_masks, NULL);

              for (guint f = 0; f < 16; f++)
                for (guint t = 0; t < 25; t++)
                  g_assert_cmpfloat (next[(gsize) f * 150 + o * 25 + t], ==, 0.0f);
            }
        }
      g_assert_cmpuint (dead, ==, l->n_out / 2);
    }
  g_assert_cmpuint (s->preview.dead_neurons, ==, 3 + 8);
  g_assert_cmpuint (s->preview_metrics.total.dead_neurons, ==, 3 + 8);
  g_assert_cmpfloat (s->preview_metrics.total.structural_sparsity, ==, 0.5);
  g_assert_true (s->scores_valid);
  g_test_message ("half the filters by L1: accuracy %.4f", s->preview.accuracy);

  /* exported without the dead filters: a smaller LeNet-5 that computes the same */
  {
    g_autofree char *path = g_build_filename (pl_test_tmp_dir (), "conv-small.safetensors", NULL);
    g_autoptr(PlConvNet) small = NULL;
    g_autoptr(PlEvaluation) ev = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree char *arch = NULL;
    double accuracy = s->preview.accuracy;

    g_assert_true (wait_done (&r, pl_engine_export_compact (r.engine, NULL, path)));
    small = pl_conv_net_load (path, &error);
    g_assert_no_error (error);
    arch = pl_conv_net_arch (small);
    g_assert_cmpstr (arch, ==, "1x28x28-c3k5p2-m2-c8k5-m2-120-84-10");
    ev = pl_conv_evaluate (small, eval_split (&r), &error);
    g_assert_no_error (error);
    g_assert_cmpfloat_with_epsilon (ev->accuracy, accuracy, 2.0 / ev->n);
    g_unlink (path);
  }
  tear_down (&r);
}

/* Rewind goes back to the weights LeNet-5 was made with, keeping the masks; a sweep gives its
 * points in order of sparsity; a preview while training is answered between two steps. */
static void
test_rewind_sweep_train (void)
{
  Recorder r;
  g_autoptr(GBytes) initial = NULL;
  const PlSweepPoint *points;
  PlScoreKind score = PL_SCORE_MAGNITUDE;
  PlTrainConfig config;
  guint64 request;
  guint train;
  gsize n;

  set_up (&r, 0);
  initial = g_bytes_ref (r.t.last->layers[1].weights);
  train_config (&config, 1);
  g_assert_true (wait_done (&r, pl_engine_train (r.engine, &config)));
  g_assert_false (g_bytes_equal (initial, r.t.last->layers[1].weights));
  g_assert_true (wait_done (&r, pl_engine_rewind (r.engine)));
  g_assert_true (g_bytes_equal (initial, r.t.last->layers[1].weights));
  g_assert_true (wait_done (&r, pl_engine_undo (r.engine)));
  g_assert_false (g_bytes_equal (initial, r.t.last->layers[1].weights));

  g_assert_true (wait_done (&r, pl_engine_sweep (r.engine, &score, 1, 4, 0.9, 1)));
  g_assert_cmpuint (r.t.last->n_curves, ==, 1);
  points = pl_sweep_curve_points (&r.t.last->curves[0], &n);
  g_assert_cmpuint (n, ==, 4);
  g_assert_cmpfloat (points[0].sparsity, ==, 0.0);
  g_assert_cmpfloat_with_epsilon (points[3].sparsity, 0.9, 1e-3);
  for (guint i = 1; i < n; i++)
    g_assert_cmpfloat (points[i].sparsity, >, points[i - 1].sparsity);
  g_assert_cmpfloat (points[3].accuracy, <, points[0].accuracy);

  /* a preview while training */
  train_config (&config, 3);
  train = pl_engine_train (r.engine, &config);
  request = pl_engine_preview (r.engine, 0.5, FALSE);
  wait_preview (&r, request);
  g_assert_cmpfloat_with_epsilon (r.t.last->preview.sparsity, 0.5, 1e-3);
  pl_engine_stop (r.engine);
  g_assert_true (wait_done (&r, train));
  g_assert_cmpuint (r.t.errors->len, ==, 0);
  tear_down (&r);
}

/* What a conv net does not take fails with a message and leaves the engine as it was. */
static void
test_refusals (void)
{
  Recorder r;
  const GError *e;
  guint64 request;

  /* what the window offers for a conv net */
  {
    static const struct { PlScoreKind score; PlScope scope; gboolean invert; gboolean ok; } cases[] = {
      { PL_SCORE_MAGNITUDE, PL_SCOPE_GLOBAL, FALSE, TRUE },
      { PL_SCORE_SNIP, PL_SCOPE_LAYER, FALSE, TRUE },
      { PL_SCORE_NEURON_L1, PL_SCOPE_GLOBAL, FALSE, TRUE },
      { PL_SCORE_NEURON_TAYLOR, PL_SCOPE_GLOBAL, FALSE, TRUE },
      { PL_SCORE_WANDA, PL_SCOPE_GLOBAL, FALSE, FALSE },
      { PL_SCORE_HOYER, PL_SCOPE_GLOBAL, FALSE, FALSE },
      { PL_SCORE_MAGNITUDE, PL_SCOPE_GLOBAL, TRUE, FALSE },
    };

    for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
      {
        g_autoptr(GError) error = NULL;
        PlStrategy strategy;

        pl_strategy_init (&strategy);
        strategy.score = cases[i].score;
        strategy.scope = cases[i].scope;
        strategy.invert = cases[i].invert;
        g_assert_cmpint (pl_engine_conv_strategy_supported (&strategy, &error), ==, cases[i].ok);
        if (!cases[i].ok)
          g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED);
      }
  }

  set_up (&r, 0);
  g_assert_false (wait_done (&r, pl_engine_prune_obs (r.engine, 0.5)));
  e = g_ptr_array_index (r.t.errors, 0);
  g_assert_error (e, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED);

  /* a score not defined on conv weights: the preview says why */
  set_strategy (&r, PL_SCORE_WANDA, PL_SCOPE_GLOBAL);
  request = pl_engine_preview (r.engine, 0.5, FALSE);
  while (r.t.errors->len < 2)
    g_main_context_iteration (NULL, TRUE);
  e = g_ptr_array_index (r.t.errors, 1);
  g_assert_error (e, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED);
  g_assert_nonnull (strstr (e->message, "wanda"));
  (void) request;

  /* LeNet-5 reads 28×28 images, not points of the plane */
  g_assert_true (wait_done (&r, pl_engine_load_data (r.engine, "spiral:n=400", NULL)));
  g_assert_cmpstr (r.t.last->arch, ==, "2-64-64-3");   /* the data's default replaced it */
  g_assert_cmpuint (r.t.last->n_stages, ==, 0);
  g_assert_false (wait_done (&r, pl_engine_new_model (r.engine, "lenet5", PL_ACTIVATION_RELU, 1)));
  e = g_ptr_array_index (r.t.errors, 2);
  g_assert_error (e, PL_TRAIN_ERROR, PL_TRAIN_ERROR_MISMATCH);
  g_assert_nonnull (strstr (e->message, "spiral"));
  g_assert_cmpstr (r.t.last->arch, ==, "2-64-64-3");
  tear_down (&r);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/engine/conv/snapshot-train-feature-maps", test_snapshot);
  g_test_add_func ("/engine/conv/preview-weights-apply-undo", test_preview_weights);
  g_test_add_func ("/engine/conv/preview-filters-l1", test_preview_filters);
  g_test_add_func ("/engine/conv/rewind-sweep-preview-while-training", test_rewind_sweep_train);
  g_test_add_func ("/engine/conv/refusals", test_refusals);
  return pl_test_run ();
}
