/* OBS with reconstruction (pl-obs.h): on tiny layers, the kept weights are the least-squares
 * optimum for the mask, checked against a plain normal-equations solve per row (Gaussian
 * elimination in double, no LAPACK); OBS beats masking; exact counts; a whole model. */
#include "config.h"

#include <math.h>
#include <string.h>

#include "pl-error.h"
#include "pl-obs.h"
#include "pl-rng.h"
#include "pl-test-util.h"

static void
random_fill (float  *v,
             gsize   n,
             PlRng  *rng)
{
  for (gsize k = 0; k < n; k++)
    v[k] = (float) pl_rng_normal (rng);
}

/* Solves a (k, k) · z = b in place by Gaussian elimination with partial pivoting. */
static void
solve (double *a,
       double *b,
       guint   k)
{
  for (guint p = 0; p < k; p++)
    {
      guint piv = p;

      for (guint q = p + 1; q < k; q++)
        if (fabs (a[q * k + p]) > fabs (a[piv * k + p]))
          piv = q;
      for (guint j = 0; j < k; j++)
        {
          double t = a[p * k + j];
          a[p * k + j] = a[piv * k + j];
          a[piv * k + j] = t;
        }
      {
        double t = b[p];
        b[p] = b[piv];
        b[piv] = t;
      }
      g_assert_cmpfloat (fabs (a[p * k + p]), >, 1e-12);
      for (guint q = p + 1; q < k; q++)
        {
          double f = a[q * k + p] / a[p * k + p];

          for (guint j = p; j < k; j++)
            a[q * k + j] -= f * a[p * k + j];
          b[q] -= f * b[p];
        }
    }
  for (guint p = k; p-- > 0;)
    {
      for (guint j = p + 1; j < k; j++)
        b[p] -= a[p * k + j] * b[j];
      b[p] /= a[p * k + p];
    }
}

/* The optimum for @mask of Σ_s (w·t_s − ŵ·x_s)² + (λ/2)‖w − ŵ‖² per row, λ = damp·mean(diag 2XᵀX)
 * and t_s the target inputs @xt (NULL: x_s): the normal equations
 * (X_Mᵀ X_M + λ/2 I) ŵ_M = X_Mᵀ X_t w + λ/2 w_M, built from the samples. */
static void
reference_optimum (float       *w_hat,
                   const float *w,
                   const float *mask,
                   guint        r,
                   guint        c,
                   const float *x,
                   const float *xt,
                   guint        n,
                   double       damp)
{
  double mean_diag = 0.0, half_lambda;

  for (guint j = 0; j < c; j++)
    for (guint s = 0; s < n; s++)
      mean_diag += 2.0 * x[s * c + j] * x[s * c + j] / c;
  half_lambda = damp * mean_diag / 2.0;

  for (guint o = 0; o < r; o++)
    {
      g_autofree guint *kept = g_new (guint, c);
      g_autofree double *a = g_new0 (double, c * c);
      g_autofree double *b = g_new0 (double, c);
      guint k = 0;

      for (guint j = 0; j < c; j++)
        if (mask[o * c + j] != 0.0f)
          kept[k++] = j;
      for (guint p = 0; p < k; p++)
        {
          for (guint q = 0; q < k; q++)
            for (guint s = 0; s < n; s++)
              a[p * k + q] += (double) x[s * c + kept[p]] * x[s * c + kept[q]];
          a[p * k + p] += half_lambda;
          for (guint s = 0; s < n; s++)
            {
              double y = 0.0;

              for (guint j = 0; j < c; j++)
                y += (double) w[o * c + j] * (xt != NULL ? xt : x)[s * c + j];
              b[p] += x[s * c + kept[p]] * y;
            }
          b[p] += half_lambda * w[o * c + kept[p]];
        }
      solve (a, b, k);
      for (guint j = 0; j < c; j++)
        w_hat[o * c + j] = 0.0f;
      for (guint p = 0; p < k; p++)
        w_hat[o * c + kept[p]] = (float) b[p];
    }
}

static int
compare_floats (const void *a,
                const void *b)
{
  float x = *(const float *) a, y = *(const float *) b;

  return (x > y) - (x < y);
}

static gsize
count_pruned (const float *mask,
              gsize        n)
{
  gsize z = 0;

  for (gsize k = 0; k < n; k++)
    z += mask[k] == 0.0f;
  return z;
}

/* With @with_bias the bias is refitted too: the reference then solves the normal equations of
 * the inputs with a column of ones appended, whose weight is the bias. */
static void
check_optimum (double   damp,
               gboolean with_bias,
               guint    steps)
{
  enum { R = 4, C = 7, N = 25, CA = C + 1 };
  float w[R * CA], w_obs[R * C], b_obs[R], w_ref[R * CA], w_masked[R * CA], mask[R * C];
  float mask_a[R * CA], x[N * C], xa[N * CA], w_hat[R * CA];
  guint c = with_bias ? CA : C;
  PlObsOptions options = PL_OBS_OPTIONS_INIT;
  g_autoptr(GError) error = NULL;
  double e_obs, e_ref, e_masked;
  PlRng rng;

  pl_rng_init (&rng, 7);
  random_fill (w, R * CA, &rng);   /* row o: weights, then the bias in column C */
  random_fill (x, N * C, &rng);
  for (guint s = 0; s < N; s++)
    {
      for (guint j = 0; j < C; j++)
        xa[s * c + j] = x[s * C + j];
      if (with_bias)
        xa[s * c + C] = 1.0f;
    }
  for (guint o = 0; o < R; o++)
    {
      for (guint j = 0; j < C; j++)
        {
          w_obs[o * C + j] = w[o * CA + j];
          mask[o * C + j] = 1.0f;
        }
      b_obs[o] = w[o * CA + C];
    }

  options.damp = damp;
  options.steps = steps;
  options.block_size = 3;   /* several blocks, one of them short */
  g_assert_true (pl_obs_prune_layer (w_obs, with_bias ? b_obs : NULL, mask, R, C, x, NULL, N, 15,
                                     &options, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (count_pruned (mask, R * C), ==, 15);

  /* the same rows in the reference's layout (r, c) */
  {
    float wc[R * CA];

    for (guint o = 0; o < R; o++)
      for (guint j = 0; j < c; j++)
        {
          wc[o * c + j] = w[o * CA + j];
          mask_a[o * c + j] = j < C ? mask[o * C + j] : 1.0f;
          w_hat[o * c + j] = j < C ? w_obs[o * C + j] : b_obs[o];
          w_masked[o * c + j] = j < C ? w[o * CA + j] * mask[o * C + j] : w[o * CA + j];
        }
    reference_optimum (w_ref, wc, mask_a, R, c, xa, NULL, N, damp);
    for (guint k = 0; k < R * c; k++)
      g_assert_cmpfloat_with_epsilon (w_hat[k], w_ref[k], 1e-4);

    e_obs = pl_obs_layer_error (wc, w_hat, R, c, xa, N);
    e_ref = pl_obs_layer_error (wc, w_ref, R, c, xa, N);
    e_masked = pl_obs_layer_error (wc, w_masked, R, c, xa, N);
  }
  g_test_message ("damp %g, bias %d, %u step(s): |WX - W^X|^2 OBS %.6g, least squares %.6g, masking %.6g",
                  damp, with_bias, steps, e_obs, e_ref, e_masked);
  g_assert_cmpfloat_with_epsilon (e_obs, e_ref, 1e-4 * e_ref);
  g_assert_cmpfloat (e_obs, <, 0.9 * e_masked);
}

static void
test_least_squares (void)
{
  check_optimum (0.0, FALSE, 1);
  check_optimum (0.0, FALSE, 4);
}

static void
test_least_squares_damped (void)
{
  check_optimum (0.01, FALSE, 1);
  check_optimum (0.01, FALSE, 5);
}

static void
test_least_squares_bias (void)
{
  check_optimum (0.0, TRUE, 5);
  check_optimum (0.01, TRUE, 1);
}

/* With target inputs the refit matches W X_t + b: inputs that differ from X, one of them dead
 * in X (as a neuron killed by pruning the layer before) but not in X_t. */
static void
test_target (void)
{
  enum { R = 3, C = 6, N = 30, CA = C + 1 };
  float w[R * C], b[R], x[N * C], xt[N * C], mask[R * C];
  float w_hat[R * CA], wc[R * CA], mask_a[R * CA], xa[N * CA], xta[N * CA], w_ref[R * CA];
  PlObsOptions options = PL_OBS_OPTIONS_INIT;
  g_autoptr(GError) error = NULL;
  PlRng rng;

  pl_rng_init (&rng, 13);
  random_fill (w, R * C, &rng);
  random_fill (b, R, &rng);
  random_fill (xt, N * C, &rng);
  for (guint k = 0; k < N * C; k++)
    x[k] = xt[k] + 0.3f * (float) pl_rng_normal (&rng);
  for (guint s = 0; s < N; s++)
    x[s * C + 4] = 0.0f;
  for (guint o = 0; o < R; o++)
    for (guint j = 0; j < CA; j++)
      wc[o * CA + j] = j < C ? w[o * C + j] : b[o];
  for (guint k = 0; k < R * C; k++)
    mask[k] = 1.0f;
  for (guint s = 0; s < N; s++)
    for (guint j = 0; j < CA; j++)
      {
        xa[s * CA + j] = j < C ? x[s * C + j] : 1.0f;
        xta[s * CA + j] = j < C ? xt[s * C + j] : 1.0f;
      }

  g_assert_true (pl_obs_prune_layer (w, b, mask, R, C, x, xt, N, 8, &options, &error));
  g_assert_no_error (error);
  for (guint o = 0; o < R; o++)
    for (guint j = 0; j < CA; j++)
      {
        mask_a[o * CA + j] = j < C ? mask[o * C + j] : 1.0f;
        w_hat[o * CA + j] = j < C ? w[o * C + j] : b[o];
      }
  /* the dead input's weights are pruned and the error is measured against W X_t */
  for (guint o = 0; o < R; o++)
    g_assert_cmpfloat (mask[o * C + 4], ==, 0.0f);
  reference_optimum (w_ref, wc, mask_a, R, CA, xa, xta, N, options.damp);
  for (guint k = 0; k < R * CA; k++)
    g_assert_cmpfloat_with_epsilon (w_hat[k], w_ref[k], 1e-4);
}

/* OBS beats masking by magnitude at the same count, and its own mask without the update; the
 * SparseGPT partial updates alone (no refit) lie between the optimum and plain masking. */
static void
test_beats_masking (void)
{
  enum { R = 16, C = 40, N = 200 };
  g_autofree float *w = g_new (float, R * C);
  g_autofree float *x = g_new (float, N * C);
  g_autofree float *w_obs = NULL, *w_partial = NULL, *m_obs = g_new (float, R * C);
  g_autofree float *m_partial = g_new (float, R * C), *w_mag = g_new (float, R * C);
  g_autofree float *w_own = g_new (float, R * C);
  g_autofree float *order = g_new (float, R * C);
  PlObsOptions options = PL_OBS_OPTIONS_INIT;
  g_autoptr(GError) error = NULL;
  double e_obs, e_partial, e_mag, e_own, threshold;
  gsize n_prune = R * C * 3 / 4;
  PlRng rng;

  pl_rng_init (&rng, 11);
  random_fill (w, R * C, &rng);
  /* correlated inputs, where compensation pays: x = z·A with a random mixing A */
  {
    g_autofree float *z = g_new (float, N * C), *a = g_new (float, C * C);

    random_fill (z, N * C, &rng);
    random_fill (a, C * C, &rng);
    for (guint s = 0; s < N; s++)
      for (guint j = 0; j < C; j++)
        {
          double v = 0.0;
          for (guint k = 0; k < C; k++)
            v += z[s * C + k] * a[k * C + j] * (k == j ? 3.0 : 0.3);
          x[s * C + j] = (float) v;
        }
  }

  w_obs = g_memdup2 (w, sizeof (float) * R * C);
  w_partial = g_memdup2 (w, sizeof (float) * R * C);
  for (guint k = 0; k < R * C; k++)
    m_obs[k] = m_partial[k] = 1.0f;
  options.block_size = 16;
  g_assert_true (pl_obs_prune_layer (w_obs, NULL, m_obs, R, C, x, NULL, N, n_prune, &options, &error));
  options.refit = FALSE;
  options.steps = 1;
  g_assert_true (pl_obs_prune_layer (w_partial, NULL, m_partial, R, C, x, NULL, N, n_prune, &options, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (count_pruned (m_obs, R * C), ==, n_prune);
  g_assert_cmpuint (count_pruned (m_partial, R * C), ==, n_prune);

  /* magnitude: the n_prune smallest |w| (no ties in random normals) */
  for (guint k = 0; k < R * C; k++)
    order[k] = fabsf (w[k]);
  qsort (order, R * C, sizeof (float), compare_floats);
  threshold = order[n_prune];
  for (guint k = 0; k < R * C; k++)
    {
      w_mag[k] = fabsf (w[k]) >= threshold ? w[k] : 0.0f;
      w_own[k] = w[k] * m_obs[k];
    }

  e_obs = pl_obs_layer_error (w, w_obs, R, C, x, N);
  e_partial = pl_obs_layer_error (w, w_partial, R, C, x, N);
  e_mag = pl_obs_layer_error (w, w_mag, R, C, x, N);
  e_own = pl_obs_layer_error (w, w_own, R, C, x, N);
  g_test_message ("75%%: OBS %.5g, SparseGPT updates only %.5g, magnitude %.5g, OBS mask only %.5g",
                  e_obs, e_partial, e_mag, e_own);
  g_assert_cmpfloat (e_obs, <, 0.8 * e_mag);
  g_assert_cmpfloat (e_obs, <, e_own);
  g_assert_cmpfloat (e_partial, <, e_mag);
  /* for the same mask the refit is the optimum; with its own mask SparseGPT's can only be
   * compared to masking */
  {
    g_autofree float *w_refit = g_new (float, R * C);

    reference_optimum (w_refit, w, m_partial, R, C, x, NULL, N, 0.01);
    g_assert_cmpfloat (pl_obs_layer_error (w, w_refit, R, C, x, N), <=, e_partial * (1 + 1e-6));
  }
}

/* Weights pruned already stay pruned and count; an input that is always 0 has its weights
 * pruned first, and damping 0 still works thanks to H_jj = 1 there. */
static void
test_pruned_and_dead (void)
{
  enum { R = 3, C = 5, N = 12 };
  float w[R * C], mask[R * C], x[N * C];
  PlObsOptions options = PL_OBS_OPTIONS_INIT;
  g_autoptr(GError) error = NULL;
  PlRng rng;

  pl_rng_init (&rng, 3);
  random_fill (w, R * C, &rng);
  random_fill (x, N * C, &rng);
  for (guint s = 0; s < N; s++)
    x[s * C + 2] = 0.0f;
  for (guint k = 0; k < R * C; k++)
    mask[k] = 1.0f;
  mask[0] = mask[7] = 0.0f;
  for (guint k = 0; k < R * C; k++)
    w[k] *= 1.0f + 10.0f * (k % C == 2);   /* large weights on the dead input */

  options.damp = 0.0;
  g_assert_true (pl_obs_prune_layer (w, NULL, mask, R, C, x, NULL, N, 5, &options, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (count_pruned (mask, R * C), ==, 5);
  g_assert_cmpfloat (mask[0], ==, 0.0f);
  g_assert_cmpfloat (mask[7], ==, 0.0f);
  for (guint o = 0; o < R; o++)
    {
      g_assert_cmpfloat (mask[o * C + 2], ==, 0.0f);
      g_assert_cmpfloat (w[o * C + 2], ==, 0.0f);
    }

  /* without damping, inputs that are linearly dependent make H singular: a clear error */
  {
    float w2[R * C], m2[R * C], x2[N * C];

    random_fill (w2, R * C, &rng);
    for (guint k = 0; k < R * C; k++)
      m2[k] = 1.0f;
    for (guint s = 0; s < N; s++)
      for (guint j = 0; j < C; j++)
        x2[s * C + j] = (float) (s + 1) * (j + 1);
    g_assert_false (pl_obs_prune_layer (w2, NULL, m2, R, C, x2, NULL, N, 5, &options, &error));
    g_assert_error (error, PL_TRAIN_ERROR, PL_TRAIN_ERROR_FAILED);
  }
}

/* A whole model: every layer pruned to exactly its share, earlier masks kept, biases kept. */
static void
test_model (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PlMlp) m = pl_mlp_new_from_arch ("6-12-8-3", PL_ACTIVATION_RELU, &error);
  g_autoptr(PlDataset) data = pl_test_random_data (300, 6, 3, 5);
  g_autofree float *bias0 = NULL;
  double s[] = { 0.5, 0.75, 0.3 };
  PlObsOptions options = PL_OBS_OPTIONS_INIT;

  pl_mlp_init (m, 2);
  m->layers[1].w_mask[3] = 0.0f;
  pl_mlp_apply_masks (m);
  bias0 = g_memdup2 (m->layers[0].b, sizeof (float) * 12);
  options.calibration = 100;
  options.bias = FALSE;
  g_assert_true (pl_obs_prune (m, data, s, &options, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (count_pruned (m->layers[0].w_mask, 72), ==, 36);
  g_assert_cmpuint (count_pruned (m->layers[1].w_mask, 96), ==, 72);
  g_assert_cmpuint (count_pruned (m->layers[2].w_mask, 24), ==, 7);   /* round(7.2) */
  g_assert_cmpfloat (m->layers[1].w_mask[3], ==, 0.0f);
  for (guint i = 0; i < 3; i++)
    for (gsize k = 0; k < (gsize) m->layers[i].n_out * m->layers[i].n_in; k++)
      if (m->layers[i].w_mask[k] == 0.0f)
        g_assert_cmpfloat (m->layers[i].w[k], ==, 0.0f);
  g_assert_cmpmem (bias0, sizeof (float) * 12, m->layers[0].b, sizeof (float) * 12);

  s[1] = 1.5;
  g_assert_false (pl_obs_prune (m, data, s, &options, &error));
  g_assert_error (error, PL_SPEC_ERROR, PL_SPEC_ERROR_INVALID);
}

/* A cancelled GCancellable stops pl_obs_prune at its first column block with
 * G_IO_ERROR_CANCELLED, before any weight of the first layer is pruned. */
static void
test_cancelled (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PlMlp) m = pl_mlp_new_from_arch ("6-12-3", PL_ACTIVATION_RELU, &error);
  g_autoptr(PlDataset) data = pl_test_random_data (100, 6, 3, 5);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  double s[] = { 0.5, 0.5 };
  PlObsOptions options = PL_OBS_OPTIONS_INIT;

  pl_mlp_init (m, 2);
  options.cancellable = cancellable;
  g_cancellable_cancel (cancellable);
  g_assert_false (pl_obs_prune (m, data, s, &options, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpuint (count_pruned (m->layers[0].w_mask, 72), ==, 0);
}

static void
record_fraction (double   fraction,
                 gpointer data)
{
  g_array_append_val ((GArray *) data, fraction);
}

/* The progress rises from 0 to exactly 1; the model's share after the first layer is its work
 * by the hand formula steps·(c³ + r·c²), c = inputs + 1 (the bias), r = outputs: 6-12-3 with
 * 2 steps: layer 0 2·(7³ + 12·7²) = 1862, layer 1 2·(13³ + 3·13²) = 5408. */
static void
test_progress (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PlMlp) m = pl_mlp_new_from_arch ("6-12-3", PL_ACTIVATION_RELU, &error);
  g_autoptr(PlDataset) data = pl_test_random_data (100, 6, 3, 5);
  g_autoptr(GArray) seen = g_array_new (FALSE, FALSE, sizeof (double));
  double s[] = { 0.5, 0.5 }, after_first = 1862.0 / (1862.0 + 5408.0);
  PlObsOptions options = PL_OBS_OPTIONS_INIT;
  gboolean hit = FALSE;

  pl_mlp_init (m, 2);
  options.steps = 2;
  options.block_size = 4;
  options.progress = record_fraction;
  options.progress_data = seen;
  g_assert_true (pl_obs_prune (m, data, s, &options, &error));
  g_assert_no_error (error);

  /* layer 0: 7 columns in blocks of 4, layer 1: 13 in blocks of 4: a report inside each step's
   * blocks after the first, and one at each step's end */
  g_assert_cmpuint (seen->len, ==, 2 * (1 + 1) + 2 * (3 + 1));
  for (guint i = 0; i < seen->len; i++)
    {
      double f = g_array_index (seen, double, i);

      g_assert_cmpfloat (f, >, 0.0);
      g_assert_cmpfloat (f, <=, 1.0);
      if (i > 0)
        g_assert_cmpfloat (f, >, g_array_index (seen, double, i - 1));
      hit |= fabs (f - after_first) < 1e-12;
    }
  g_assert_true (hit);
  g_assert_cmpfloat (g_array_index (seen, double, seen->len - 1), ==, 1.0);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/engine/obs/layer/is-least-squares-optimum", test_least_squares);
  g_test_add_func ("/engine/obs/layer/is-damped-optimum", test_least_squares_damped);
  g_test_add_func ("/engine/obs/layer/refits-the-bias", test_least_squares_bias);
  g_test_add_func ("/engine/obs/layer/matches-target-inputs", test_target);
  g_test_add_func ("/engine/obs/layer/beats-masking", test_beats_masking);
  g_test_add_func ("/engine/obs/layer/keeps-pruned-and-drops-dead-inputs", test_pruned_and_dead);
  g_test_add_func ("/engine/obs/model/exact-counts", test_model);
  g_test_add_func ("/engine/obs/model/stops-when-cancelled", test_cancelled);
  g_test_add_func ("/engine/obs/model/reports-progress", test_progress);

  return pl_test_run ();
}
