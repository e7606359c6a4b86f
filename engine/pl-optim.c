#define G_LOG_DOMAIN "pl-optim"

#include "config.h"

#include "pl-optim.h"

#include <math.h>

#include "pl-simd.h"

float
pl_optim_adam_step_size (double  lr,
                         double  beta1,
                         guint64 t)
{
  return (float) (lr / (1.0 - pow (beta1, (double) t)));
}

float
pl_optim_adam_sqrt_bc2 (double  beta2,
                        guint64 t)
{
  return (float) sqrt (1.0 - pow (beta2, (double) t));
}

/* ---- the fast kernels -------------------------------------------------------------------- */

#define LANES 16         /* independent partial sums, so that the norm loops vectorise */

static inline float
clampf (float x,
        float c)
{
  return x > c ? c : x < -c ? -c : x;
}

/* The loops below take mask == NULL for a model with no pruned weight; each is written once as
 * an always-inlined body with a constant `masked`, so that the compiler makes a mask-free copy
 * that reads one array less. */
#define MASK(i) (masked ? mask[i] : 1.0f)

/* g ← (g + l1·sign(w)) ⊙ mask, the gradient of the objective, on n entries; adds ‖g‖² and
 * ‖clip(g)‖² to the sums. LANES partial sums keep the loop vectorisable and its result
 * independent of the vector width. */
static inline __attribute__((always_inline)) void
objective_grad_body (float       *restrict g,
                     const float *restrict p,
                     const float *restrict mask,
                     gsize                 n,
                     float                 l1,
                     float                 l0a,
                     float                 cv,
                     double               *norm_sq,
                     double               *norm_sq_clip,
                     const gboolean        masked)
{
  float an[LANES] = { 0 }, ac[LANES] = { 0 };
  gsize i = 0;

  for (; i + LANES <= n; i += LANES)
    for (guint j = 0; j < LANES; j++)
      {
        float w = p[i + j];
        float sign = (float) (w > 0.0f) - (float) (w < 0.0f);
        float gi = (g[i + j] + l1 * sign + l0a * (float) (w != 0.0f)) * MASK (i + j);
        float gc = clampf (gi, cv);

        g[i + j] = gi;
        an[j] += gi * gi;
        ac[j] += gc * gc;
      }
  for (; i < n; i++)
    {
      float sign = (float) (p[i] > 0.0f) - (float) (p[i] < 0.0f);
      float gi = (g[i] + l1 * sign + l0a * (float) (p[i] != 0.0f)) * MASK (i);
      float gc = clampf (gi, cv);

      g[i] = gi;
      an[0] += gi * gi;
      ac[0] += gc * gc;
    }

  for (guint j = 0; j < LANES; j++)
    {
      *norm_sq += an[j];
      *norm_sq_clip += ac[j];
    }
}

PL_TARGET_CLONES void
pl_optim_objective_grad (float       *g,
                         const float *p,
                         const float *mask,
                         gsize        n,
                         float        l1,
                         float        l0a,
                         float        cv,
                         double      *norm_sq,
                         double      *norm_sq_clip)
{
  if (mask != NULL)
    objective_grad_body (g, p, mask, n, l1, l0a, cv, norm_sq, norm_sq_clip, TRUE);
  else
    objective_grad_body (g, p, NULL, n, l1, l0a, cv, norm_sq, norm_sq_clip, FALSE);
}

/* SGD with momentum and weight decay, as torch.optim.SGD, on n entries:
 * g ← clip(g)·coef + wd·w;  v ← μv + g;  w ← w − lr·(nesterov ? g + μv : v).
 * Masked entries get v = 0 and no step. */
static inline __attribute__((always_inline)) void
sgd_step_body (float       *restrict p,
               float       *restrict v,
               const float *restrict g,
               const float *restrict mask,
               gsize                 n,
               float                 wd,
               const PlOptimStep    *k,
               const gboolean        masked)
{
  const float lr = k->lr, mu = k->mu, coef = k->coef, cv = k->cv;

  if (k->nesterov)
    for (gsize i = 0; i < n; i++)
      {
        float gi = (clampf (g[i], cv) * coef + wd * p[i]) * MASK (i);
        float vi = (mu * v[i] + gi) * MASK (i);

        v[i] = vi;
        p[i] -= lr * (gi + mu * vi);
      }
  else
    for (gsize i = 0; i < n; i++)
      {
        float gi = clampf (g[i], cv) * coef + wd * p[i];
        float vi = (mu * v[i] + gi) * MASK (i);

        v[i] = vi;
        p[i] -= lr * vi;
      }
}

PL_TARGET_CLONES void
pl_optim_sgd_step (float            *p,
                   float            *v,
                   const float      *g,
                   const float      *mask,
                   gsize             n,
                   float             wd,
                   const PlOptimStep *k)
{
  if (mask != NULL)
    sgd_step_body (p, v, g, mask, n, wd, k, TRUE);
  else
    sgd_step_body (p, v, g, NULL, n, wd, k, FALSE);
}

/* Adam (Kingma & Ba 2015) with L2 weight decay added to the gradient, as torch.optim.Adam:
 * m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²;  w ← w − lr/(1−β₁ᵗ) · m / (√v/√(1−β₂ᵗ) + ε). */
static inline __attribute__((always_inline)) void
adam_step_body (float       *restrict p,
                float       *restrict m,
                float       *restrict v,
                const float *restrict g,
                const float *restrict mask,
                gsize                 n,
                float                 wd,
                const PlOptimStep    *k,
                const gboolean        masked)
{
  const float b1 = k->b1, b2 = k->b2, step = k->step, sqrt_bc2 = k->sqrt_bc2;
  const float eps = k->eps, coef = k->coef, cv = k->cv;

  for (gsize i = 0; i < n; i++)
    {
      float gi = (clampf (g[i], cv) * coef + wd * p[i]) * MASK (i);
      float mi = (b1 * m[i] + (1.0f - b1) * gi) * MASK (i);
      float vi = (b2 * v[i] + (1.0f - b2) * gi * gi) * MASK (i);

      m[i] = mi;
      v[i] = vi;
      p[i] -= step * mi / (sqrtf (vi) / sqrt_bc2 + eps);
    }
}

PL_TARGET_CLONES void
pl_optim_adam_step (float            *p,
                    float            *m,
                    float            *v,
                    const float      *g,
                    const float      *mask,
                    gsize             n,
                    float             wd,
                    const PlOptimStep *k)
{
  if (mask != NULL)
    adam_step_body (p, m, v, g, mask, n, wd, k, TRUE);
  else
    adam_step_body (p, m, v, g, NULL, n, wd, k, FALSE);
}

#undef MASK

/* g += h on n entries */
PL_TARGET_CLONES void
pl_optim_add (float       *restrict g,
              const float *restrict h,
              gsize                 n)
{
  for (gsize i = 0; i < n; i++)
    g[i] += h[i];
}

/* ---- the plain loops: the oracle of tests/test-optim.c ----------------------------------- */

static float
mask_at (const float *mask,
         gsize        i)
{
  return mask != NULL ? mask[i] : 1.0f;
}

void
pl_optim_objective_grad_ref (float       *g,
                             const float *w,
                             const float *mask,
                             gsize        n,
                             float        l1,
                             float        l0a,
                             float        cv,
                             double      *norm_sq,
                             double      *norm_sq_clip)
{
  for (gsize i = 0; i < n; i++)
    {
      float sign = w[i] > 0.0f ? 1.0f : w[i] < 0.0f ? -1.0f : 0.0f;
      float gi = (g[i] + l1 * sign + l0a * (w[i] != 0.0f ? 1.0f : 0.0f)) * mask_at (mask, i);
      float gc = clampf (gi, cv);

      g[i] = gi;
      *norm_sq += (double) gi * gi;
      *norm_sq_clip += (double) gc * gc;
    }
}

void
pl_optim_sgd_step_ref (float             *w,
                       float             *v,
                       const float       *g,
                       const float       *mask,
                       gsize              n,
                       float              wd,
                       const PlOptimStep *k)
{
  for (gsize i = 0; i < n; i++)
    {
      float keep = mask_at (mask, i);
      float gi = (clampf (g[i], k->cv) * k->coef + wd * w[i]) * keep;

      v[i] = (k->mu * v[i] + gi) * keep;
      w[i] -= k->lr * (k->nesterov ? gi + k->mu * v[i] : v[i]);
    }
}

void
pl_optim_adam_step_ref (float             *w,
                        float             *m,
                        float             *v,
                        const float       *g,
                        const float       *mask,
                        gsize              n,
                        float              wd,
                        const PlOptimStep *k)
{
  for (gsize i = 0; i < n; i++)
    {
      float keep = mask_at (mask, i);
      float gi = (clampf (g[i], k->cv) * k->coef + wd * w[i]) * keep;

      m[i] = (k->b1 * m[i] + (1.0f - k->b1) * gi) * keep;
      v[i] = (k->b2 * v[i] + (1.0f - k->b2) * gi * gi) * keep;
      w[i] -= k->step * m[i] / (sqrtf (v[i]) / k->sqrt_bc2 + k->eps);
    }
}
