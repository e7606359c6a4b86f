/* pl-optim.h — the optimiser kernels: the objective's gradient with its norms, an SGD step and
 * an Adam step, on a flat range of parameters
 *
 * As in llm.c: free functions, outputs first, every array of n entries. A @mask may be NULL (no
 * entry pruned); an entry whose mask is 0 keeps its value, and its optimiser state stays 0.
 * Each fast kernel has a plain-loop `_ref` twin with the same arguments, the oracle of
 * tests/test-optim.c; the trainer (pl-train.c) and the L0 trainer (pl-l0.c) take the fast ones.
 *
 * The update rules are torch.optim's (PyTorch 1.13 documentation), in this order within a step:
 * clipping by value (|g| ≤ cv), then by global norm (× coef), then L2 weight decay added to
 * the gradient, then the optimiser.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The constants of one optimiser step. */
typedef struct {
  float    lr;
  float    mu;           /* SGD momentum */
  gboolean nesterov;
  float    b1, b2;       /* Adam: β₁, β₂ */
  float    step;         /* Adam: lr / (1 − β₁ᵗ), pl_optim_adam_step_size() */
  float    sqrt_bc2;     /* Adam: √(1 − β₂ᵗ), pl_optim_adam_sqrt_bc2() */
  float    eps;
  float    coef;         /* global-norm clipping factor, 1 when off */
  float    cv;           /* clipping by value, +∞ when off */
} PlOptimStep;

/* Adam's bias corrections at step @t ≥ 1 (Kingma & Ba 2015, Algorithm 1), in double then
 * rounded: lr / (1 − β₁ᵗ) and √(1 − β₂ᵗ). */
float pl_optim_adam_step_size         (double             lr,
                                       double             beta1,
                                       guint64            t);
float pl_optim_adam_sqrt_bc2          (double             beta2,
                                       guint64            t);

/* g ← (g + l1·sign(w) + l0a·1[w ≠ 0]) ⊙ mask: the gradient of the loss plus the L1 term and the
 * seed article's "L0" term (PlTrainConfig.article_l0, which is not L0), masked; adds ‖g‖² to
 * *norm_sq and ‖clip(g, cv)‖² to *norm_sq_clip (in 16 partial float sums, so the result does not
 * depend on the vector width). */
void  pl_optim_objective_grad         (float             *g,
                                       const float       *w,
                                       const float       *mask,
                                       gsize              n,
                                       float              l1,
                                       float              l0a,
                                       float              cv,
                                       double            *norm_sq,
                                       double            *norm_sq_clip);
void  pl_optim_objective_grad_ref     (float             *g,
                                       const float       *w,
                                       const float       *mask,
                                       gsize              n,
                                       float              l1,
                                       float              l0a,
                                       float              cv,
                                       double            *norm_sq,
                                       double            *norm_sq_clip);

/* SGD with momentum and weight decay @wd, as torch.optim.SGD:
 * g ← clip(g)·coef + wd·w;  v ← μv + g;  w ← w − lr·(nesterov ? g + μv : v). */
void  pl_optim_sgd_step               (float             *w,
                                       float             *v,
                                       const float       *g,
                                       const float       *mask,
                                       gsize              n,
                                       float              wd,
                                       const PlOptimStep *k);
void  pl_optim_sgd_step_ref           (float             *w,
                                       float             *v,
                                       const float       *g,
                                       const float       *mask,
                                       gsize              n,
                                       float              wd,
                                       const PlOptimStep *k);

/* Adam (Kingma & Ba 2015) with L2 weight decay @wd added to the gradient, as torch.optim.Adam:
 * g ← clip(g)·coef + wd·w;  m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²;
 * w ← w − lr/(1−β₁ᵗ) · m / (√v/√(1−β₂ᵗ) + ε). */
void  pl_optim_adam_step              (float             *w,
                                       float             *m,
                                       float             *v,
                                       const float       *g,
                                       const float       *mask,
                                       gsize              n,
                                       float              wd,
                                       const PlOptimStep *k);
void  pl_optim_adam_step_ref          (float             *w,
                                       float             *m,
                                       float             *v,
                                       const float       *g,
                                       const float       *mask,
                                       gsize              n,
                                       float              wd,
                                       const PlOptimStep *k);

/* g += h */
void  pl_optim_add                    (float             *g,
                                       const float       *h,
                                       gsize              n);

G_END_DECLS
