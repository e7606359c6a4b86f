/* test-sparse-nn.c — sparse fine-tuning gives the dense masked results up to rounding
 *
 * The reference is the engine's dense masked path (pl_nn_forward / pl_nn_backward, and the
 * trainer with dense_only), itself checked against finite differences in test-nn and PyTorch
 * in test-optim. Here the CSR passes must agree with it: the gradient of one batch, and the
 * weights after a few steps of SGD with momentum and of Adam, with one and two threads. */
#include "config.h"

#include <math.h>
#include <string.h>

#include "pl-nn.h"
#include "pl-rng.h"
#include "pl-sparse-nn.h"
#include "pl-train.h"

/* A 60-40-30-5 network with @sparsity of every layer's weights pruned at random. */
static PlMlp *
masked_model (double       sparsity,
              PlActivation activation,
              guint64      seed)
{
  static const guint sizes[] = { 60, 40, 30, 5 };
  PlMlp *m = pl_mlp_new (sizes, 3, activation);
  PlRng rng;

  pl_mlp_init (m, seed);
  pl_rng_init (&rng, seed + 1);
  for (guint i = 0; i < m->n_layers; i++)
    {
      PlLayer *l = &m->layers[i];

      for (guint o = 0; o < l->n_out; o++)
        l->b[o] = (float) (0.1 * pl_rng_normal (&rng));
      for (gsize k = 0; k < (gsize) l->n_out * l->n_in; k++)
        if (pl_rng_uniform (&rng) < sparsity)
          l->w_mask[k] = 0.0f;
    }
  pl_mlp_apply_masks (m);
  return m;
}

static PlDataset *
random_data (guint   n,
             guint64 seed)
{
  PlDataset *d = pl_dataset_new (n, 60, 5);
  PlRng rng;

  pl_rng_init (&rng, seed);
  for (gsize k = 0; k < (gsize) n * 60; k++)
    d->x[k] = (float) pl_rng_normal (&rng);
  for (guint s = 0; s < n; s++)
    d->y[s] = (guint32) pl_rng_below (&rng, 5);
  return d;
}

static gboolean
is_weight (const PlMlp *m,
           gsize        k)
{
  gsize off = 0;

  for (guint i = 0; i < m->n_layers; i++)
    {
      gsize nw = (gsize) m->layers[i].n_out * m->layers[i].n_in;

      if (k >= off && k < off + nw)
        return TRUE;
      off += nw + m->layers[i].n_out;
    }
  return FALSE;
}

/* One batch: probabilities and the gradient of every kept parameter as the dense pass gives
 * them; a pruned weight's gradient of a sparse layer is left as it was. */
static void
test_one_batch (void)
{
  for (PlActivation a = PL_ACTIVATION_RELU; a <= PL_ACTIVATION_SIGMOID; a++)
    for (guint n = 1; n <= 70; n += 23)
      {
        g_autoptr(PlMlp) m = masked_model (0.9, a, 3 + n);
        g_autoptr(PlDataset) d = random_data (n, 5);
        g_autoptr(PlSparseNet) net = pl_sparse_net_new (m, 1);
        g_autoptr(PlNnWork) wd = pl_nn_work_new (m, n);
        g_autoptr(PlNnWork) ws = pl_nn_work_new (m, n);
        g_autofree float *gd = g_new (float, m->n_params);
        g_autofree float *gs = g_new (float, m->n_params);
        const float *pd, *ps;
        double gmax = 0.0;

        g_assert_nonnull (net);
        g_assert_cmpuint (net->n_sparse, ==, 3);
        pd = pl_nn_forward (m, wd, d->x, n);
        ps = pl_sparse_forward (m, net, 0, ws, d->x, n);
        for (gsize k = 0; k < (gsize) n * 5; k++)
          g_assert_cmpfloat_with_epsilon (ps[k], pd[k], 1e-6);

        for (gsize k = 0; k < m->n_params; k++)
          gs[k] = 7.0f;
        pl_nn_backward (m, wd, d->y, n, 1.0f / n, FALSE, gd);
        pl_sparse_backward (m, net, 0, ws, d->y, n, 1.0f / n, FALSE, gs);
        for (gsize k = 0; k < m->n_params; k++)
          gmax = MAX (gmax, fabs (gd[k]));
        for (gsize k = 0; k < m->n_params; k++)
          {
            if (m->masks[k] == 0.0f)
              g_assert_cmpfloat (gs[k], ==, 7.0f);
            else
              g_assert_cmpfloat_with_epsilon (gs[k], gd[k], 1e-5 * gmax);
          }
      }
}

/* The cost model: a dense layer stays dense, a layer at 90% runs sparse. */
static void
test_cost_model (void)
{
  g_autoptr(PlMlp) dense = masked_model (0.0, PL_ACTIVATION_RELU, 1);
  g_autoptr(PlMlp) half = masked_model (0.5, PL_ACTIVATION_RELU, 1);
  g_autoptr(PlMlp) sparse = masked_model (0.9, PL_ACTIVATION_RELU, 1);
  g_autoptr(PlSparseNet) n_dense = pl_sparse_net_new (dense, 1);
  g_autoptr(PlSparseNet) n_half = pl_sparse_net_new (half, 1);
  g_autoptr(PlSparseNet) n_sparse = pl_sparse_net_new (sparse, 1);

  g_assert_null (n_dense);
  g_assert_null (n_half);    /* 3 · 0.5 > 1: an sgemm is cheaper */
  g_assert_nonnull (n_sparse);
}

static void
train (PlMlp         *m,
       PlOptimizer    optimizer,
       guint          threads,
       gboolean       dense_only,
       const PlDataset *d)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PlTrainer) t = NULL;
  PlTrainConfig c;

  pl_train_config_init (&c);
  c.epochs = 2;
  c.batch_size = 32;
  c.optimizer = optimizer;
  c.lr = optimizer == PL_OPTIMIZER_ADAM ? 1e-3 : 0.05;
  c.weight_decay = 1e-4;
  /* Adam also with L1 and clipping by global norm: the update then runs as its own phase */
  if (optimizer == PL_OPTIMIZER_ADAM)
    {
      c.l1 = 1e-4;
      c.clip_norm = 0.5;
    }
  c.threads = threads;
  c.dense_only = dense_only;
  t = pl_trainer_new (m, &c);
  g_assert_true (pl_trainer_run (t, d, NULL, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
}

/* 2 epochs of 10 steps: the weights of sparse and dense masked training agree to rounding,
 * pruned weights stay exactly 0 and the kept ones have moved. The sparse run updates only the
 * kept weights of its CSR layers (pl-train.c process_packed). */
static void
test_training (void)
{
  g_autoptr(PlDataset) d = random_data (320, 9);

  for (PlOptimizer o = PL_OPTIMIZER_SGD; o <= PL_OPTIMIZER_ADAM; o++)
    for (guint threads = 1; threads <= 2; threads++)
      {
        g_autoptr(PlMlp) start = masked_model (0.92, PL_ACTIVATION_RELU, 11);
        g_autoptr(PlMlp) md = pl_mlp_copy (start);
        g_autoptr(PlMlp) ms = pl_mlp_copy (start);
        double moved = 0.0, wmax = 0.0;

        train (md, o, threads, TRUE, d);
        train (ms, o, threads, FALSE, d);
        for (gsize k = 0; k < start->n_params; k++)
          wmax = MAX (wmax, fabs (md->params[k]));
        for (gsize k = 0; k < start->n_params; k++)
          {
            if (start->masks[k] == 0.0f)
              {
                g_assert_cmpfloat (ms->params[k], ==, 0.0f);
                g_assert_true (is_weight (start, k));
                continue;
              }
            g_assert_cmpfloat_with_epsilon (ms->params[k], md->params[k], 1e-5 * wmax);
            moved = MAX (moved, fabs (md->params[k] - start->params[k]));
          }
        g_assert_cmpfloat (moved, >, 1e-3);
      }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/engine/sparse-nn/one-batch/equals-dense-masked", test_one_batch);
  g_test_add_func ("/engine/sparse-nn/cost-model/picks-sparse-layers", test_cost_model);
  g_test_add_func ("/engine/sparse-nn/training/equals-dense-masked", test_training);

  return g_test_run ();
}
