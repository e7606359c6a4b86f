/* Sparsity and cost metrics of a hand-made pruned 3-4-3-2 network, every field by hand; Hoyer
 * sparsity of the whole tensor under magnitude pruning. */
#include "config.h"

#include <math.h>
#include <string.h>

#include "pl-metrics.h"
#include "pl-mlp.h"
#include "pl-prune.h"
#include "pl-score.h"

/*   L0 (4×3): rows [3 1 1] [1 1 1] [1 −1 1] [1 1 −1]; pruned: (0,0) and row 1 (neuron 1 of
 *             layer 0, structured)
 *   L1 (3×4): rows [.5 .5 .5 .5] [−.5 .5 2 .5] [.5 .5 .5 .5]; pruned: column 1 (the same
 *             neuron's outgoing weights)
 *   L2 (2×3): rows [1 −1 4] [1 1 4]; pruned: column 2, so neuron 2 of layer 1 dies
 * Biases are 0.1 everywhere (never pruned). */
static const float w0[] = { 3, 1, 1, 1, 1, 1, 1, -1, 1, 1, 1, -1 };
static const float m0[] = { 0, 1, 1, 0, 0, 0, 1, 1, 1, 1, 1, 1 };
static const float w1[] = { 0.5f, 0.5f, 0.5f, 0.5f, -0.5f, 0.5f, 2, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f };
static const float m1[] = { 1, 0, 1, 1, 1, 0, 1, 1, 1, 0, 1, 1 };
static const float w2[] = { 1, -1, 4, 1, 1, 4 };
static const float m2[] = { 1, 1, 0, 1, 1, 0 };

static PlMlp *
hand_model (float **unpruned)
{
  static const guint sizes[] = { 3, 4, 3, 2 };
  const float *w[] = { w0, w1, w2 }, *m[] = { m0, m1, m2 };
  PlMlp *model = pl_mlp_new (sizes, 3, PL_ACTIVATION_RELU);

  for (guint i = 0; i < 3; i++)
    {
      PlLayer *l = &model->layers[i];
      gsize nw = (gsize) l->n_out * l->n_in;

      memcpy (l->w, w[i], sizeof (float) * nw);
      memcpy (l->w_mask, m[i], sizeof (float) * nw);
      for (guint o = 0; o < l->n_out; o++)
        l->b[o] = 0.1f;
    }
  if (unpruned != NULL)
    *unpruned = g_memdup2 (model->params, sizeof (float) * model->n_params);
  pl_mlp_apply_masks (model);

  return model;
}

typedef struct {
  guint  n_in, n_out;
  gsize  weights, pruned, nonzero, effective;
  guint  dead;
  double parameter, structural, relative, hoyer, hoyer_kept;
  double flops_dense, flops_effective, bytes_dense, bytes_csr, bytes_compact;
} Expected;

static void
check (const PlLayerMetrics *m,
       const Expected       *e)
{
  g_assert_cmpuint (m->n_in, ==, e->n_in);
  g_assert_cmpuint (m->n_out, ==, e->n_out);
  g_assert_cmpuint (m->weights, ==, e->weights);
  g_assert_cmpuint (m->pruned, ==, e->pruned);
  g_assert_cmpuint (m->nonzero, ==, e->nonzero);
  g_assert_cmpuint (m->effective, ==, e->effective);
  g_assert_cmpuint (m->dead_neurons, ==, e->dead);
  g_assert_cmpfloat_with_epsilon (m->parameter_sparsity, e->parameter, 1e-12);
  g_assert_cmpfloat_with_epsilon (m->structural_sparsity, e->structural, 1e-12);
  g_assert_cmpfloat_with_epsilon (m->relative_sparsity, e->relative, 1e-12);
  g_assert_cmpfloat_with_epsilon (m->hoyer, e->hoyer, 1e-9);
  g_assert_cmpfloat_with_epsilon (m->hoyer_kept, e->hoyer_kept, 1e-9);
  g_assert_cmpfloat (m->flops_dense, ==, e->flops_dense);
  g_assert_cmpfloat (m->flops_effective, ==, e->flops_effective);
  g_assert_cmpfloat (m->bytes_dense, ==, e->bytes_dense);
  g_assert_cmpfloat (m->bytes_csr, ==, e->bytes_csr);
  g_assert_cmpfloat (m->bytes_compact, ==, e->bytes_compact);
}

/* Effective weights: kept, into a live neuron and from a live input. CSR bytes: 4 (value) +
 * 4 (column) per effective weight, 4·(rows + 1) row pointers, 4 per bias. Compact bytes:
 * 4 · (live rows · live columns + live rows). Hoyer: (√n − ‖·‖₁/‖·‖₂)/(√n − 1) over the whole
 * tensor, pruned entries 0 (n = all weights), and over the kept weights (n = kept). */
static const Expected expected_layers[3] = {
  /* L0: 4 of 12 pruned; mass 14, removed 3 + 3; the 8 kept all have |w| = 1, so Hoyer of the
   * kept 0 and of the tensor (√12 − 8/√8)/(√12 − 1) (below); neuron 1 dead, its row already
   * pruned: 8 effective; CSR 8·8 + 4·5 + 4·4; compact 3 rows × 3 inputs */
  { 3, 4, 12, 4, 8 + 4, 8, 1, 4 / 12.0, 1 / 4.0, 6 / 14.0, 0.0 /* below */, 0.0,
    24, 16, 4 * 16, 100, 4 * (9 + 3) },
  /* L1: column 1 (3) pruned; mass 7.5, removed 1.5; kept: eight 0.5 and one 2, so
   * ‖·‖₁ = 6, ‖·‖₂ = √6: kept (n = 9) (3 − √6)/2, tensor (n = 12) (√12 − √6)/(√12 − 1);
   * neuron 2 dead: its row keeps 3 weights, which do no work, so 6 effective (12 FLOPs, not
   * 18); CSR 8·6 + 4·4 + 4·3; compact 2 rows × 3 live inputs */
  { 4, 3, 12, 3, 9 + 3, 6, 1, 3 / 12.0, 1 / 3.0, 1.5 / 7.5, 0.0, 0.0,
    24, 12, 4 * 15, 76, 4 * (6 + 2) },
  /* L2: column 2 (2) pruned; mass 12, removed 8; kept four |w| = 1: kept 0, tensor (n = 6)
   * (√6 − 2)/(√6 − 1); the output layer has no dead neurons; CSR 8·4 + 4·3 + 4·2; compact 2
   * rows × 2 live inputs */
  { 3, 2, 6, 2, 4 + 2, 4, 0, 2 / 6.0, 0.0, 8 / 12.0, 0.0, 0.0,
    12, 8, 4 * 8, 52, 4 * (4 + 2) },
};

static void
test_hand_made_every_field (void)
{
  g_autofree float *unpruned = NULL;
  g_autoptr(PlMlp) model = hand_model (&unpruned);
  Expected layers[3], total;
  PlMetrics metrics;

  memcpy (layers, expected_layers, sizeof layers);
  layers[0].hoyer = (sqrt (12.0) - 8 / sqrt (8.0)) / (sqrt (12.0) - 1);
  layers[1].hoyer = (sqrt (12.0) - 6 / sqrt (6.0)) / (sqrt (12.0) - 1);
  layers[1].hoyer_kept = (3 - sqrt (6.0)) / 2;
  layers[2].hoyer = (sqrt (6.0) - 4 / sqrt (4.0)) / (sqrt (6.0) - 1);
  /* total: 9 of 30 pruned; 2 dead of the 7 hidden neurons; mass 33.5, removed 15.5; the 21
   * kept weights have ‖·‖₁ = 18, ‖·‖₂² = 18; 18 effective */
  total = (Expected) { 3, 2, 30, 9, 30, 18, 2, 9 / 30.0, 2 / 7.0, 15.5 / 33.5,
                       (sqrt (30.0) - 18 / sqrt (18.0)) / (sqrt (30.0) - 1),
                       (sqrt (21.0) - 18 / sqrt (18.0)) / (sqrt (21.0) - 1),
                       60, 36, 156, 228, 104 };

  g_assert_cmpfloat (model->neuron_masks[1], ==, 0.0f);
  g_assert_cmpfloat (model->neuron_masks[4 + 2], ==, 0.0f);

  pl_metrics_compute (&metrics, model, unpruned, NULL, NULL);
  g_assert_cmpuint (metrics.n_layers, ==, 3);
  for (guint i = 0; i < 3; i++)
    check (&metrics.layers[i], &layers[i]);
  check (&metrics.total, &total);

  /* Without the unpruned weights, the removed mass is what the masked model still has: 0. */
  pl_metrics_compute (&metrics, model, NULL, NULL, NULL);
  for (guint i = 0; i < 3; i++)
    {
      layers[i].relative = 0.0;
      check (&metrics.layers[i], &layers[i]);
    }
  total.relative = 0.0;
  check (&metrics.total, &total);
}

/* Masks given apart from the model (as a preview has them) give the same numbers. */
static void
test_explicit_masks (void)
{
  g_autofree float *unpruned = NULL;
  g_autoptr(PlMlp) pruned = hand_model (&unpruned);
  static const guint sizes[] = { 3, 4, 3, 2 };
  g_autoptr(PlMlp) dense = pl_mlp_new (sizes, 3, PL_ACTIVATION_RELU);
  PlMetrics a, b;

  memcpy (dense->params, unpruned, sizeof (float) * dense->n_params);
  pl_metrics_compute (&a, pruned, unpruned, NULL, NULL);
  pl_metrics_compute (&b, dense, NULL, pruned->masks, pruned->neuron_masks);
  g_assert_cmpmem (&a, sizeof a, &b, sizeof b);
}

static void
test_unpruned_model (void)
{
  static const guint sizes[] = { 784, 300, 100, 10 };
  g_autoptr(PlMlp) model = pl_mlp_new (sizes, 3, PL_ACTIVATION_RELU);
  PlMetrics m;

  pl_mlp_init (model, 1);
  pl_metrics_compute (&m, model, NULL, NULL, NULL);
  g_assert_cmpuint (m.total.weights, ==, 266200);
  g_assert_cmpuint (m.total.pruned, ==, 0);
  g_assert_cmpuint (m.total.nonzero, ==, 266200 + 410);
  g_assert_cmpuint (m.total.dead_neurons, ==, 0);
  g_assert_cmpfloat (m.total.parameter_sparsity, ==, 0.0);
  g_assert_cmpfloat (m.total.structural_sparsity, ==, 0.0);
  g_assert_cmpfloat (m.total.relative_sparsity, ==, 0.0);
  g_assert_cmpfloat (m.total.flops_dense, ==, 2.0 * 266200);
  g_assert_cmpfloat (m.total.flops_effective, ==, 2.0 * 266200);
  g_assert_cmpfloat (m.total.bytes_dense, ==, 4.0 * (266200 + 410));
  g_assert_cmpfloat (m.total.bytes_compact, ==, 4.0 * (266200 + 410));
  g_assert_cmpfloat (m.total.bytes_csr, ==, 8.0 * 266200 + 4.0 * (410 + 3) + 4.0 * 410);
  /* uniform weights: Hoyer of U(−a, a) is (√n − √3·n/2/√n)/(√n − 1) ≈ 1 − √3/2 */
  g_assert_cmpfloat_with_epsilon (m.layers[0].hoyer, 1 - sqrt (3.0) / 2, 0.01);
}

/* Hoyer's measure of a whole tensor: 0 for equal magnitudes, 1 with a single weight left. */
static void
test_hoyer_constant_and_one_hot (void)
{
  static const guint sizes[] = { 3, 2 };
  g_autoptr(PlMlp) model = pl_mlp_new (sizes, 1, PL_ACTIVATION_RELU);
  PlMetrics m;

  for (guint k = 0; k < 6; k++)
    model->layers[0].w[k] = k % 2 ? -0.5f : 0.5f;
  pl_metrics_compute (&m, model, NULL, NULL, NULL);
  g_assert_cmpfloat_with_epsilon (m.layers[0].hoyer, 0.0, 1e-12);
  g_assert_cmpfloat_with_epsilon (m.total.hoyer, 0.0, 1e-12);

  for (guint k = 1; k < 6; k++)
    model->layers[0].w_mask[k] = 0.0f;
  pl_mlp_apply_masks (model);
  pl_metrics_compute (&m, model, NULL, NULL, NULL);
  g_assert_cmpfloat_with_epsilon (m.layers[0].hoyer, 1.0, 1e-12);
  g_assert_cmpfloat (m.layers[0].hoyer_kept, ==, 0.0);  /* one survivor: n = 1 */
}

/* Global magnitude pruning removes the smallest weights, so the whole tensor gets sparser:
 * Hoyer rises at every step. The survivors-only figure falls (they are the large, similar
 * ones), which is why it is not called the sparsity. */
static void
test_hoyer_rises_under_magnitude_pruning (void)
{
  static const guint sizes[] = { 64, 48, 32, 10 };
  static const double levels[] = { 0.0, 0.5, 0.9, 0.99 };
  g_autoptr(PlMlp) model = pl_mlp_new (sizes, 3, PL_ACTIVATION_RELU);
  double last = -1.0, first_kept = 0.0;

  pl_mlp_init (model, 3);
  for (guint i = 0; i < G_N_ELEMENTS (levels); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(PlMlp) pruned = pl_mlp_copy (model);
      g_autoptr(PlScores) scores = pl_scores_compute (pruned, PL_SCORE_MAGNITUDE, NULL, NULL,
                                                      &error);
      PlPruneSpec spec;
      PlMetrics m;

      g_assert_no_error (error);
      pl_prune_spec_init (&spec, PL_SCOPE_GLOBAL, FALSE, levels[i]);
      g_assert_true (pl_prune_apply (pruned, scores, &spec, &error));
      g_assert_no_error (error);
      pl_metrics_compute (&m, pruned, model->params, NULL, NULL);
      g_test_message ("%.0f %% pruned: Hoyer %.3f, of the kept weights %.3f",
                      100 * levels[i], m.total.hoyer, m.total.hoyer_kept);
      g_assert_cmpfloat (m.total.hoyer, >, last);
      for (guint l = 0; l < 3; l++)
        g_assert_cmpfloat (m.layers[l].hoyer, >=, m.layers[l].hoyer_kept);
      if (i == 0)
        {
          first_kept = m.total.hoyer_kept;
          g_assert_cmpfloat (m.total.hoyer, ==, m.total.hoyer_kept);
        }
      last = m.total.hoyer;
      if (i == G_N_ELEMENTS (levels) - 1)
        g_assert_cmpfloat (m.total.hoyer_kept, <, first_kept);
    }
  g_assert_cmpfloat (last, >, 0.8);
}

/* After pruning the survivors keep training (fine-tuning, a rewind): the relative sparsity
 * stays the share of the mass removed at pruning time, measured on the unpruned weights, while
 * Hoyer follows the weights as they are now (computed here by a plain loop over W ⊙ M). */
static void
test_hoyer_follows_current_weights (void)
{
  g_autofree float *unpruned = NULL;
  g_autoptr(PlMlp) model = hand_model (&unpruned);
  PlMetrics before, after;

  pl_metrics_compute (&before, model, unpruned, NULL, NULL);
  for (gsize k = 0; k < model->n_params; k++)
    if (model->masks[k] != 0.0f)
      model->params[k] = (float) (k % 7) - 3.0f;
  pl_metrics_compute (&after, model, unpruned, NULL, NULL);
  for (guint i = 0; i < model->n_layers; i++)
    {
      const PlLayer *l = &model->layers[i];
      double n = (double) l->n_out * l->n_in, l1 = 0, l2 = 0;

      for (gsize j = 0; j < (gsize) l->n_out * l->n_in; j++)
        {
          double v = l->w_mask[j] != 0.0f ? l->w[j] : 0.0;

          l1 += fabs (v);
          l2 += v * v;
        }
      g_assert_cmpfloat_with_epsilon (after.layers[i].hoyer,
                                      (sqrt (n) - l1 / sqrt (l2)) / (sqrt (n) - 1), 1e-12);
      g_assert_cmpfloat (after.layers[i].relative_sparsity, ==, before.layers[i].relative_sparsity);
    }
}

/* A small conv net by hand: 1x4x4-c2k3p1-m2-c2k1-2 (conv 2 filters of 1×3×3 on 4×4, a 2×2
 * pool to 2×2, conv 2 filters of 2×1×1, a dense layer 8 → 2), every weight 1 but weight 0 of
 * each filter of the first layer, 2. The second conv layer's weights of input channel 0 are
 * pruned, so filter 0 of the first layer is dead (nothing reads it). */
static void
test_conv_by_hand (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PlConvNet) net = pl_conv_net_new_from_arch ("1x4x4-c2k3p1-m2-c2k1-2", PL_ACTIVATION_RELU, &error);
  g_autoptr(PlConvNet) before = NULL;
  PlConvLayer *c0, *c1;
  PlMetrics m;

  g_assert_no_error (error);
  for (gsize k = 0; k < net->n_params; k++)
    net->params[k] = 1.0f;
  for (gsize k = 0; k < net->head->n_params; k++)
    net->head->params[k] = 1.0f;
  c0 = &net->layers[0];
  c1 = &net->layers[2];
  c0->w[0] = c0->w[9] = 2.0f;
  before = pl_conv_net_copy (net);
  c1->w_mask[0] = c1->w_mask[2] = 0.0f;   /* (o, c=0) of both filters: weights 0 and 2 */
  pl_conv_net_apply_masks (net);
  g_assert_cmpfloat (c0->filter_mask[0], ==, 0.0f);
  g_assert_cmpfloat (c0->filter_mask[1], ==, 1.0f);

  pl_metrics_compute_conv (&m, net, before);
  g_assert_cmpuint (m.n_layers, ==, 3);
  /* conv 0: 2 filters of 9, none pruned; filter 0 dead, so only filter 1's 9 weights work, at
   * 4·4 positions: dense 2·18·16 = 576 FLOPs, effective 2·9·16 = 288 */
  g_assert_cmpuint (m.layers[0].n_out, ==, 2);
  g_assert_cmpuint (m.layers[0].n_in, ==, 9);
  g_assert_cmpuint (m.layers[0].weights, ==, 18);
  g_assert_cmpuint (m.layers[0].pruned, ==, 0);
  g_assert_cmpuint (m.layers[0].dead_neurons, ==, 1);
  g_assert_cmpuint (m.layers[0].effective, ==, 9);
  g_assert_cmpfloat (m.layers[0].flops_dense, ==, 576.0);
  g_assert_cmpfloat (m.layers[0].flops_effective, ==, 288.0);
  g_assert_cmpfloat (m.layers[0].structural_sparsity, ==, 0.5);
  /* dense 4·(18 + 2); CSR 8·9 + 4·3 + 4·2; compacted 1 filter × 9 inputs: 4·(9 + 1) */
  g_assert_cmpfloat (m.layers[0].bytes_dense, ==, 80.0);
  g_assert_cmpfloat (m.layers[0].bytes_csr, ==, 92.0);
  g_assert_cmpfloat (m.layers[0].bytes_compact, ==, 40.0);
  /* conv 1: 4 weights, 2 pruned, at 2·2 positions; both filters live (the head reads them),
   * one live input channel: effective 2, FLOPs dense 2·4·4 = 32, effective 2·2·4 = 16;
   * relative sparsity 2 of |w| mass 4 */
  g_assert_cmpuint (m.layers[1].weights, ==, 4);
  g_assert_cmpuint (m.layers[1].pruned, ==, 2);
  g_assert_cmpuint (m.layers[1].effective, ==, 2);
  g_assert_cmpfloat (m.layers[1].flops_dense, ==, 32.0);
  g_assert_cmpfloat (m.layers[1].flops_effective, ==, 16.0);
  g_assert_cmpfloat (m.layers[1].parameter_sparsity, ==, 0.5);
  g_assert_cmpfloat (m.layers[1].relative_sparsity, ==, 0.5);
  g_assert_cmpfloat (m.layers[1].bytes_compact, ==, 4.0 * (2 * 1 + 2));
  /* the head: 8 → 2, every weight working */
  g_assert_cmpuint (m.layers[2].weights, ==, 16);
  g_assert_cmpuint (m.layers[2].effective, ==, 16);
  g_assert_cmpfloat (m.layers[2].flops_dense, ==, 32.0);
  g_assert_cmpuint (m.layers[2].dead_neurons, ==, 0);
  /* in all: 38 weights, 2 pruned; 1 dead of the 4 filters (the output layer cannot die) */
  g_assert_cmpuint (m.total.weights, ==, 38);
  g_assert_cmpuint (m.total.pruned, ==, 2);
  g_assert_cmpuint (m.total.dead_neurons, ==, 1);
  g_assert_cmpfloat (m.total.structural_sparsity, ==, 0.25);
  g_assert_cmpfloat (m.total.flops_dense, ==, 640.0);
  g_assert_cmpfloat (m.total.flops_effective, ==, 288.0 + 16.0 + 32.0);
  g_assert_cmpfloat_with_epsilon (m.total.parameter_sparsity, 2.0 / 38.0, 1e-12);
  /* the mass removed: 2 of Σ|w| = 18 + 2 (the two 2s) + 4 + 16 = 40 */
  g_assert_cmpfloat_with_epsilon (m.total.relative_sparsity, 2.0 / 40.0, 1e-12);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_summary ("Parameter, structural, relative and Hoyer sparsity; FLOPs and bytes");

  g_test_add_func ("/engine/metrics/hand-made/every-field", test_hand_made_every_field);
  g_test_add_func ("/engine/metrics/conv/by-hand", test_conv_by_hand);
  g_test_add_func ("/engine/metrics/explicit-masks-match-own-masks", test_explicit_masks);
  g_test_add_func ("/engine/metrics/unpruned-784-300-100-10", test_unpruned_model);
  g_test_add_func ("/engine/metrics/hoyer/constant-is-zero-one-hot-is-one",
                   test_hoyer_constant_and_one_hot);
  g_test_add_func ("/engine/metrics/hoyer/follows-the-weights-after-pruning",
                   test_hoyer_follows_current_weights);
  g_test_add_func ("/engine/metrics/hoyer/rises-under-magnitude-pruning",
                   test_hoyer_rises_under_magnitude_pruning);

  return g_test_run ();
}
