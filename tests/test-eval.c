/* Decision grids: the region around the points (one padding rule) against hand values, the
 * grid's probabilities at the cell centres against a softmax worked here, and the arg-max. */
#include "config.h"

#include <math.h>

#include "pl-eval.h"

/* Points (0, 0), (2, 1) and (1, 0.5): the box is 2 × 1, the pad 0.05 · 2 + 0.001 = 0.101 on
 * every side. One point, or points that coincide: the pad is 0.001. No point: all 0. */
static void
test_region (void)
{
  g_autoptr(PlDataset) a = pl_dataset_new (2, 2, 2);
  g_autoptr(PlDataset) b = pl_dataset_new (1, 2, 2);
  g_autoptr(PlDataset) empty = pl_dataset_new (0, 2, 2);
  const PlDataset *sets[] = { a, NULL, empty, b };
  double x0, x1, y0, y1;

  a->x[0] = 0.0f; a->x[1] = 0.0f;
  a->x[2] = 2.0f; a->x[3] = 1.0f;
  b->x[0] = 1.0f; b->x[1] = 0.5f;

  pl_decision_region (sets, G_N_ELEMENTS (sets), &x0, &x1, &y0, &y1);
  g_assert_cmpfloat_with_epsilon (x0, -0.101, 1e-12);
  g_assert_cmpfloat_with_epsilon (x1, 2.101, 1e-12);
  g_assert_cmpfloat_with_epsilon (y0, -0.101, 1e-12);
  g_assert_cmpfloat_with_epsilon (y1, 1.101, 1e-12);

  pl_decision_region (sets + 3, 1, &x0, &x1, &y0, &y1);
  g_assert_cmpfloat_with_epsilon (x0, 0.999, 1e-7);
  g_assert_cmpfloat_with_epsilon (x1, 1.001, 1e-7);
  g_assert_cmpfloat_with_epsilon (y0, 0.499, 1e-7);
  g_assert_cmpfloat_with_epsilon (y1, 0.501, 1e-7);

  pl_decision_region (sets + 1, 2, &x0, &x1, &y0, &y1);
  g_assert_cmpfloat (x0, ==, 0.0);
  g_assert_cmpfloat (x1, ==, 0.0);
  g_assert_cmpfloat (y0, ==, 0.0);
  g_assert_cmpfloat (y1, ==, 0.0);
}

/* One linear layer with logits (x, y, 0): cell (i, j) of a 4 × 4 grid over [−2, 2] × [−1, 3]
 * has its centre at x = −1.5 + j, y = −0.5 + i, and softmax (x, y, 0) worked in double. */
static void
test_grid (void)
{
  const guint sizes[] = { 2, 3 };
  g_autoptr(PlMlp) model = pl_mlp_new (sizes, 1, PL_ACTIVATION_RELU);
  g_autoptr(PlDecisionGrid) grid = NULL;
  guint32 cls[16];
  float conf[16];

  model->layers[0].w[0] = 1.0f;   /* logit 0 = x */
  model->layers[0].w[3] = 1.0f;   /* logit 1 = y */
  grid = pl_decision_grid (model, 4, -2.0, 2.0, -1.0, 3.0);
  g_assert_cmpuint (grid->size, ==, 4);
  g_assert_cmpuint (grid->n_out, ==, 3);
  pl_decision_argmax (cls, conf, grid->prob, 16, grid->n_out);

  for (guint i = 0; i < 4; i++)
    for (guint j = 0; j < 4; j++)
      {
        double x = -1.5 + j, y = -0.5 + i;
        double z = exp (x) + exp (y) + 1.0;
        const float *p = grid->prob + (i * 4 + j) * 3;
        guint expect = x >= y && x >= 0 ? 0 : y >= 0 ? 1 : 2;

        g_assert_cmpfloat_with_epsilon (p[0], exp (x) / z, 1e-6);
        g_assert_cmpfloat_with_epsilon (p[1], exp (y) / z, 1e-6);
        g_assert_cmpfloat_with_epsilon (p[2], 1.0 / z, 1e-6);
        if (x != y)   /* (a tie goes to the first; x = y does not happen on these centres) */
          g_assert_cmpuint (cls[i * 4 + j], ==, expect);
        g_assert_cmpfloat (conf[i * 4 + j], ==, p[cls[i * 4 + j]]);
      }
}

/* Ties go to the first output, as pl_evaluate's confusion matrix counts them. */
static void
test_argmax_ties (void)
{
  const float prob[] = { 0.25f, 0.5f, 0.25f,   0.4f, 0.2f, 0.4f,   0.1f, 0.1f, 0.8f };
  guint32 cls[3];

  pl_decision_argmax (cls, NULL, prob, 3, 3);
  g_assert_cmpuint (cls[0], ==, 1);
  g_assert_cmpuint (cls[1], ==, 0);
  g_assert_cmpuint (cls[2], ==, 2);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/engine/eval/decision-region/pads-the-larger-side", test_region);
  g_test_add_func ("/engine/eval/decision-grid/softmax-at-cell-centres", test_grid);
  g_test_add_func ("/engine/eval/decision-grid/argmax-ties-go-first", test_argmax_ties);
  return g_test_run ();
}
