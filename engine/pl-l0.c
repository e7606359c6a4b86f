#define G_LOG_DOMAIN "pl-l0"

#include "config.h"

#include "pl-l0.h"

#include <cblas.h>
#include <glib/gi18n-lib.h>
#include <math.h>
#include <string.h>

#include "pl-blas.h"
#include "pl-error.h"
#include "pl-eval.h"
#include "pl-train-private.h"
#include "pl-nn.h"
#include "pl-optim.h"
#include "pl-rng.h"
#include "pl-simd.h"

#define GOOD_EVERY 16   /* steps between copies of parameters known to give a finite loss */

struct _PlL0 {
  PlL0Config  config;
  guint       n_layers;
  gsize       n_params;
  gsize       n_gates;
  guint       n_in[PL_MLP_MAX_LAYERS];
  guint       n_out[PL_MLP_MAX_LAYERS];
  gsize       param_off[PL_MLP_MAX_LAYERS];     /* first weight of layer i in params */
  gsize       gate_off[PL_MLP_MAX_LAYERS + 1];  /* first gate of layer i */
  float      *log_alpha;  /* owned, (n_gates) */

  /* scratch of pl_l0_objective */
  float      *z;          /* owned, (n_gates) */
  float      *dz;         /* owned, (n_gates) ∂z/∂log α */
  float      *p;          /* owned, (n_gates) P(z ≠ 0) */
  float      *grad;       /* owned, (n_params) ∂CE/∂(θ ⊙ z) */
  PlMlp      *eff;        /* owned: the model with weights θ ⊙ z */
  PlNnWork   *work;       /* owned */
};

void
pl_l0_config_init (PlL0Config *config)
{
  g_return_if_fail (config != NULL);

  *config = (PlL0Config) {
    .gates = PL_L0_PER_WEIGHT,
    .lambda = 0.1,
    .beta = 2.0 / 3.0,
    .gamma = -0.1,
    .zeta = 1.1,
    .init_drop = 0.1,
    .epochs = 5,
    .batch_size = 128,
    .lr = 1e-3,
    .lr_log_alpha = 0.05,
    .threads = 1,
    .seed = 1,
  };
}

static inline double
sigmoid (double x)
{
  return 1.0 / (1.0 + exp (-x));
}

double
pl_hard_concrete_sample (double  log_alpha,
                         double  u,
                         double  beta,
                         double  gamma,
                         double  zeta,
                         double *dz_dlog_alpha)
{
  double s = sigmoid ((log (u) - log (1.0 - u) + log_alpha) / beta);
  double sbar = s * (zeta - gamma) + gamma;

  if (dz_dlog_alpha != NULL)
    *dz_dlog_alpha = sbar > 0.0 && sbar < 1.0 ? (zeta - gamma) * s * (1.0 - s) / beta : 0.0;

  return CLAMP (sbar, 0.0, 1.0);
}

double
pl_hard_concrete_prob_nonzero (double log_alpha,
                               double beta,
                               double gamma,
                               double zeta)
{
  return sigmoid (log_alpha - beta * log (-gamma / zeta));
}

double
pl_hard_concrete_test (double log_alpha,
                       double gamma,
                       double zeta)
{
  return CLAMP (sigmoid (log_alpha) * (zeta - gamma) + gamma, 0.0, 1.0);
}

PlL0 *
pl_l0_new (const PlMlp      *model,
           const PlL0Config *config)
{
  PlL0 *self;
  gsize off = 0, gates = 0;
  float la0;

  g_return_val_if_fail (model != NULL && config != NULL, NULL);
  g_return_val_if_fail (config->init_drop > 0.0 && config->init_drop < 1.0, NULL);
  g_return_val_if_fail (config->gamma < 0.0 && config->zeta > 1.0 && config->beta > 0.0, NULL);

  self = g_new0 (PlL0, 1);
  self->config = *config;
  self->n_layers = model->n_layers;
  self->n_params = model->n_params;
  for (guint i = 0; i < model->n_layers; i++)
    {
      const PlLayer *l = &model->layers[i];

      self->n_in[i] = l->n_in;
      self->n_out[i] = l->n_out;
      self->param_off[i] = off;
      self->gate_off[i] = gates;
      off += (gsize) l->n_out * l->n_in + l->n_out;
      gates += config->gates == PL_L0_PER_WEIGHT ? (gsize) l->n_out * l->n_in : l->n_in;
    }
  self->gate_off[model->n_layers] = gates;
  self->n_gates = gates;

  la0 = (float) log ((1.0 - config->init_drop) / config->init_drop);
  self->log_alpha = g_new (float, gates);
  for (gsize j = 0; j < gates; j++)
    self->log_alpha[j] = la0;
  self->z = g_new (float, gates);
  self->dz = g_new (float, gates);
  self->p = g_new (float, gates);
  self->grad = g_new (float, model->n_params);

  return self;
}

void
pl_l0_free (PlL0 *self)
{
  if (self == NULL)
    return;

  g_free (self->log_alpha);
  g_free (self->z);
  g_free (self->dz);
  g_free (self->p);
  g_free (self->grad);
  pl_mlp_free (self->eff);
  pl_nn_work_free (self->work);
  g_free (self);
}

gsize
pl_l0_n_gates (const PlL0 *self)
{
  return self->n_gates;
}

float *
pl_l0_log_alpha (PlL0 *self)
{
  return self->log_alpha;
}

double
pl_l0_expected_l0 (const PlL0 *self)
{
  const PlL0Config *c = &self->config;
  double sum = 0.0;

  for (gsize j = 0; j < self->n_gates; j++)
    sum += pl_hard_concrete_prob_nonzero (self->log_alpha[j], c->beta, c->gamma, c->zeta);

  return sum;
}

/* The gate of weight k (0-based within layer i's weights, row-major (n_out, n_in)). */
static inline gsize
gate_of (const PlL0 *self,
         guint       i,
         gsize       k)
{
  return self->gate_off[i] + (self->config.gates == PL_L0_PER_WEIGHT ? k : k % self->n_in[i]);
}

/* log x for normal x > 0, written so that loops over it vectorise: x = m·2^e with m in
 * [√½, √2), log m = 2·atanh(t) = 2(t + t³/3 + … + t⁹/9), t = (m − 1)/(m + 1), |t| < 0.172; the
 * error is below float rounding. libm's logf and expf are calls the compiler cannot vectorise,
 * and a step samples a gate for each of the 266k weights of 784-300-100-10. */
static inline float
fast_logf (float x)
{
  union { float f; guint32 i; } v = { x };
  guint32 mant = v.i & 0x007fffffu;
  guint32 big = mant > 0x3504f3u;        /* the mantissa is above √2: halve it */
  float e = (float) ((int) ((v.i >> 23) & 0xff) - 127 + (int) big);
  float m, t, t2;

  /* integer operations only: float comparisons would keep the loop from vectorising */
  v.i = mant | (0x3f800000u - (big << 23));
  m = v.f;
  t = (m - 1.0f) / (m + 1.0f);
  t2 = t * t;

  return e * 0.693147181f
         + 2.0f * t * (1.0f + t2 * (1.0f / 3 + t2 * (1.0f / 5 + t2 * (1.0f / 7
                                                                   + t2 * (1.0f / 9)))));
}

/* e^x, vectorisable: x = n·ln 2 + r, |r| ≤ ½ln 2, e^r by its Taylor series to r⁷ (error
 * below float rounding), 2^n through the exponent bits; x is clamped to [−87, 88] (a NaN
 * becomes 88). */
static inline float
fast_expf (float x)
{
  union { float f; guint32 i; } v, t, c = { x };
  guint32 over, under;
  float n, r, p;

  /* clamp to [−87, 88] on the bits (float comparisons keep the loop from vectorising): above
   * 88 are the bit patterns 0x42b00001 … 0x7fffffff, below −87 those above 0xc2ae0000 */
  over = 0u - (guint32) (c.i - 0x42b00001u < 0x7fffffffu - 0x42b00000u);
  under = 0u - (guint32) (c.i > 0xc2ae0000u);
  c.i ^= (c.i ^ 0x42b00000u) & over;
  c.i ^= (c.i ^ 0xc2ae0000u) & under;
  x = c.f;
  /* n = round (x / ln 2): adding 1.5·2²³ rounds to an integer in the low mantissa bits */
  t.f = x * 1.44269504f + 12582912.0f;
  n = t.f - 12582912.0f;
  r = (x - n * 0.693145752f) - n * 1.42860677e-6f;   /* ln 2 in two parts */
  p = 1.0f + r * (1.0f + r * (0.5f + r * (1.0f / 6 + r * (1.0f / 24 + r * (1.0f / 120
                 + r * (1.0f / 720 + r * (1.0f / 5040)))))));
  v.i = (t.i - 0x4b400000u + 127u) << 23;

  return p * v.f;
}

/* z and ∂z/∂log α of every gate for the noise u, in float. */
PL_TARGET_CLONES static void
sample_gates (PlL0        *self,
              const float *u)
{
  const float inv_beta = (float) (1.0 / self->config.beta);
  const float width = (float) (self->config.zeta - self->config.gamma);
  const float gamma = (float) self->config.gamma;
  const float *restrict la = self->log_alpha;
  float *restrict z = self->z;
  float *restrict dz = self->dz;
  gsize n = self->n_gates;

  for (gsize j = 0; j < n; j++)
    {
      float logit = fast_logf (u[j] / (1.0f - u[j]));
      float s = 1.0f / (1.0f + fast_expf (-(logit + la[j]) * inv_beta));
      float sbar = s * width + gamma;
      float clamped = sbar < 0.0f ? 0.0f : sbar;
      union { float f; guint32 i; } sb = { sbar }, d;
      /* all ones when 0 < sbar < 1 (as bits: 1 … 0x3f7fffff), else 0 */
      guint32 inside = 0u - (guint32) (sb.i - 1u < 0x3f7fffffu);

      z[j] = clamped > 1.0f ? 1.0f : clamped;
      d.f = width * s * (1.0f - s) * inv_beta;
      d.i &= inside;
      dz[j] = d.f;
    }
}

/* Adds λ/n_gates · p(1 − p) to each gate's gradient (may be NULL) and returns Σ p, with
 * p = σ(log α − β log(−γ/ζ)). */
PL_TARGET_CLONES static double
penalty_terms (PlL0  *self,
               float  shift,
               float  scale,
               float *grad)
{
  const float *restrict la = self->log_alpha;
  float *restrict p = self->p;
  float lanes[16] = { 0 };
  double sum = 0.0;
  gsize n = self->n_gates, j = 0;

  for (j = 0; j < n; j++)
    p[j] = 1.0f / (1.0f + fast_expf (shift - la[j]));
  if (grad != NULL)
    for (j = 0; j < n; j++)
      grad[j] += scale * p[j] * (1.0f - p[j]);

  /* 16 partial sums: vectorised, and the same whatever the vector width */
  for (j = 0; j + 16 <= n; j += 16)
    for (guint k = 0; k < 16; k++)
      lanes[k] += p[j + k];
  for (; j < n; j++)
    lanes[0] += p[j];
  for (guint k = 0; k < 16; k++)
    sum += lanes[k];

  return sum;
}

/* self->eff ← @model with weights θ ⊙ gates (gates: n_gates values). */
static void
make_effective (PlL0        *self,
                const PlMlp *model,
                const float *gates)
{
  /* the forward pass reads weights, biases and neuron masks (masked weights are 0 in θ) */
  if (self->eff == NULL)
    self->eff = pl_mlp_copy (model);
  memcpy (self->eff->neuron_masks, model->neuron_masks, sizeof (float) * model->n_neurons);

  for (guint i = 0; i < self->n_layers; i++)
    {
      const PlLayer *l = &model->layers[i];
      PlLayer *e = &self->eff->layers[i];
      gsize nw = (gsize) l->n_out * l->n_in;

      if (self->config.gates == PL_L0_PER_WEIGHT)
        {
          const float *g = gates + self->gate_off[i];

          for (gsize k = 0; k < nw; k++)
            e->w[k] = l->w[k] * g[k];
        }
      else
        for (guint o = 0; o < l->n_out; o++)
          {
            const float *g = gates + self->gate_off[i];
            const float *w = l->w + (gsize) o * l->n_in;
            float *we = e->w + (gsize) o * l->n_in;

            for (guint k = 0; k < l->n_in; k++)
              we[k] = w[k] * g[k];
          }
      memcpy (e->b, l->b, sizeof (float) * l->n_out);
    }
}

double
pl_l0_objective (PlL0          *self,
                 const PlMlp   *model,
                 const float   *u,
                 const float   *x,
                 const guint32 *y,
                 guint          n,
                 float         *grad_theta,
                 float         *grad_log_alpha)
{
  const PlL0Config *c = &self->config;
  double shift = c->beta * log (-c->gamma / c->zeta);
  double ce, penalty = 0.0;
  float pen_scale = (float) (c->lambda / self->n_gates);

  g_return_val_if_fail (model->n_params == self->n_params, NAN);
  g_return_val_if_fail (model->n_layers == self->n_layers, NAN);
  g_return_val_if_fail (n > 0, NAN);

  if (self->work == NULL || self->work->max_batch < n)
    {
      pl_nn_work_free (self->work);
      self->work = pl_nn_work_new (model, n);
    }

  sample_gates (self, u);
  make_effective (self, model, self->z);
  pl_nn_forward (self->eff, self->work, x, n);
  ce = pl_nn_loss (self->eff, self->work, y, n, NULL);

  if (grad_log_alpha != NULL)
    memset (grad_log_alpha, 0, sizeof (float) * self->n_gates);
  if (grad_theta != NULL || grad_log_alpha != NULL)
    {
      pl_nn_backward (self->eff, self->work, y, n, 1.0f / n, FALSE, self->grad);

      for (guint i = 0; i < self->n_layers; i++)
        {
          const PlLayer *l = &model->layers[i];
          gsize nw = (gsize) l->n_out * l->n_in;
          const float *g = self->grad + self->param_off[i];

          /* ∂/∂θ_k = g_k·z_j;  ∂/∂log α_j = Σ_{k in j} g_k·θ_k·∂z_j/∂log α */
          for (guint o = 0; o < l->n_out; o++)
            {
              gsize row = (gsize) o * l->n_in;
              gsize j0 = self->gate_off[i] + (self->config.gates == PL_L0_PER_WEIGHT ? row : 0);
              const float *z = self->z + j0;
              const float *dz = self->dz + j0;

              if (grad_theta != NULL)
                {
                  float *gt = grad_theta + self->param_off[i] + row;

                  for (guint k = 0; k < l->n_in; k++)
                    gt[k] = g[row + k] * z[k];
                }
              if (grad_log_alpha != NULL)
                {
                  float *ga = grad_log_alpha + j0;

                  for (guint k = 0; k < l->n_in; k++)
                    ga[k] += g[row + k] * l->w[row + k] * dz[k];
                }
            }
          if (grad_theta != NULL)
            memcpy (grad_theta + self->param_off[i] + nw, g + nw, sizeof (float) * l->n_out);
        }
    }

  /* λ/n_gates · Σ σ(log α − β log(−γ/ζ)), whose derivative is λ/n_gates · p(1 − p) */
  penalty = penalty_terms (self, (float) shift, pen_scale, grad_log_alpha);

  return ce + c->lambda * penalty / self->n_gates;
}

/* ---- the plain-loop reference, in double ---- */

static double
act_ref (PlActivation a,
         double       z)
{
  switch (a)
    {
    case PL_ACTIVATION_RELU:
      return z > 0 ? z : 0;
    case PL_ACTIVATION_TANH:
      return tanh (z);
    case PL_ACTIVATION_SIGMOID:
      return 1.0 / (1.0 + exp (-z));
    default:
      g_assert_not_reached ();
    }
}

double
pl_l0_objective_ref (const PlL0    *self,
                     const PlMlp   *model,
                     const double  *theta,
                     const double  *log_alpha,
                     const double  *u,
                     const float   *x,
                     const guint32 *y,
                     guint          n)
{
  const PlL0Config *c = &self->config;
  guint L = model->n_layers;
  g_autofree double *z = g_new (double, self->n_gates);
  g_autofree double *w = g_new (double, self->n_params);
  double *a[PL_MLP_MAX_LAYERS + 1];
  double loss = 0.0, penalty = 0.0;

  for (gsize j = 0; j < self->n_gates; j++)
    {
      z[j] = pl_hard_concrete_sample (log_alpha[j], u[j], c->beta, c->gamma, c->zeta, NULL);
      penalty += pl_hard_concrete_prob_nonzero (log_alpha[j], c->beta, c->gamma, c->zeta);
    }
  for (guint i = 0; i < L; i++)
    {
      const PlLayer *l = &model->layers[i];
      gsize nw = (gsize) l->n_out * l->n_in;
      gsize off = self->param_off[i];

      for (gsize k = 0; k < nw; k++)
        w[off + k] = theta[off + k] * l->w_mask[k] * z[gate_of (self, i, k)];
      for (guint o = 0; o < l->n_out; o++)
        w[off + nw + o] = theta[off + nw + o];
    }

  for (guint i = 0; i <= L; i++)
    a[i] = g_new0 (double, model->sizes[i]);
  for (guint s = 0; s < n; s++)
    {
      double zmax = -INFINITY, sum = 0.0;
      guint m = model->sizes[L];

      for (guint k = 0; k < model->sizes[0]; k++)
        a[0][k] = x[(gsize) s * model->sizes[0] + k];
      for (guint i = 0; i < L; i++)
        {
          const PlLayer *l = &model->layers[i];
          const double *wi = w + self->param_off[i];
          const double *bi = wi + (gsize) l->n_out * l->n_in;

          for (guint o = 0; o < l->n_out; o++)
            {
              double acc = bi[o];

              for (guint k = 0; k < l->n_in; k++)
                acc += wi[(gsize) o * l->n_in + k] * a[i][k];
              a[i + 1][o] = i + 1 < L ? act_ref (model->activation, acc) * l->neuron_mask[o] : acc;
            }
        }
      for (guint j = 0; j < m; j++)
        zmax = MAX (zmax, a[L][j]);
      for (guint j = 0; j < m; j++)
        sum += exp (a[L][j] - zmax);
      loss += -(a[L][y[s]] - zmax - log (sum));
    }
  for (guint i = 0; i <= L; i++)
    g_free (a[i]);

  return loss / n + c->lambda * penalty / self->n_gates;
}

/* ---- training ---- */

/* One Adam step (Kingma & Ba 2015) of the L0 objective at step @t, β₁ = 0.9, β₂ = 0.999,
 * ε = 1e-8, no weight decay (the penalty is the L0 term) and no clipping; entries with mask 0
 * keep value and state at 0. */
static void
adam (float       *p,
      float       *m,
      float       *v,
      const float *g,
      const float *mask,
      gsize        n,
      double       lr,
      guint64      t)
{
  PlOptimStep k = {
    .lr = (float) lr,
    .b1 = 0.9f,
    .b2 = 0.999f,
    .step = pl_optim_adam_step_size (lr, 0.9, t),
    .sqrt_bc2 = pl_optim_adam_sqrt_bc2 (0.999, t),
    .eps = 1e-8f,
    .coef = 1.0f,
    .cv = INFINITY,
  };

  pl_optim_adam_step (p, m, v, g, mask, n, 0.0f, &k);
}

/* u (n) in (0, 1): 24 bits of splitmix64 (Steele et al. 2014) of key + j, and a half; one key
 * from the run's generator per step. Inline, unlike pl_rng_next, for the 266k gates a step. */
static void
fill_uniform (float   *u,
              gsize    n,
              guint64  key)
{
  for (gsize j = 0; j < n; j++)
    {
      guint64 z = key + (j + 1) * G_GUINT64_CONSTANT (0x9e3779b97f4a7c15);

      z = (z ^ (z >> 30)) * G_GUINT64_CONSTANT (0xbf58476d1ce4e5b9);
      z = (z ^ (z >> 27)) * G_GUINT64_CONSTANT (0x94d049bb133111eb);
      z ^= z >> 31;
      u[j] = ((float) (z >> 40) + 0.5f) * (1.0f / 16777216.0f);
    }
}

gboolean
pl_l0_train (PlL0                 *self,
             PlMlp                *model,
             const PlDataset      *train,
             const PlDataset      *val,
             PlTrainProgressFunc   progress,
             gpointer              user_data,
             GCancellable         *cancellable,
             GError              **error)
{
  const PlL0Config *c;
  gsize np, ng;
  guint nf, bs;
  g_autofree guint32 *order = NULL;
  g_autofree float *x = NULL;
  g_autofree guint32 *y = NULL;
  g_autofree float *u = NULL;
  g_autofree float *g_theta = NULL;
  g_autofree float *g_la = NULL;
  g_autofree float *m_theta = NULL;
  g_autofree float *v_theta = NULL;
  g_autofree float *m_la = NULL;
  g_autofree float *v_la = NULL;
  g_autofree float *good_theta = NULL;
  g_autofree float *good_la = NULL;
  g_autofree float *test_gates = NULL;
  guint64 steps_per_epoch, steps_total, step = 0;
  PlTrainReport report;
  int blas_threads_before;
  gboolean ok = TRUE;
  PlRng rng;

  g_return_val_if_fail (self != NULL && model != NULL && train != NULL, FALSE);
  g_return_val_if_fail (model->n_params == self->n_params, FALSE);

  c = &self->config;
  if (train->n_features != model->sizes[0] || train->n_classes > model->sizes[model->n_layers]
      || (val != NULL && val->n > 0 && val->n_features != model->sizes[0]))
    {
      g_set_error (error, PL_TRAIN_ERROR, PL_TRAIN_ERROR_MISMATCH,
                   _("the model takes %u inputs and has %u classes; the data has %u features and %u classes"),
                   model->sizes[0], model->sizes[model->n_layers], train->n_features,
                   train->n_classes);
      return FALSE;
    }
  if (train->n == 0 || c->batch_size == 0)
    {
      g_set_error (error, PL_TRAIN_ERROR, PL_TRAIN_ERROR_FAILED, _("the training set is empty"));
      return FALSE;
    }

  np = self->n_params;
  ng = self->n_gates;
  nf = train->n_features;
  bs = c->batch_size;
  order = g_new (guint32, train->n);
  x = g_new (float, (gsize) bs * nf);
  y = g_new (guint32, bs);
  u = g_new (float, ng);
  g_theta = g_new (float, np);
  g_la = g_new (float, ng);
  m_theta = g_new0 (float, np);
  v_theta = g_new0 (float, np);
  m_la = g_new0 (float, ng);
  v_la = g_new0 (float, ng);
  good_theta = g_new (float, np);
  good_la = g_new (float, ng);
  test_gates = g_new (float, ng);
  for (guint i = 0; i < train->n; i++)
    order[i] = i;
  steps_per_epoch = (train->n + bs - 1) / bs;
  steps_total = steps_per_epoch * c->epochs;
  report = (PlTrainReport) { progress, user_data, c->epochs, steps_total };
  pl_rng_init (&rng, c->seed);
  pl_mlp_apply_masks (model);

  blas_threads_before = pl_blas_set_threads ((int) MAX (c->threads, 1));

  for (guint epoch = 0; epoch < c->epochs && ok; epoch++)
    {
      PlEpochRecord rec = { .epoch = epoch + 1, .lr = c->lr };
      double loss_sum = 0.0;
      guint64 correct_sum = 0;
      gint64 t0 = g_get_monotonic_time ();

      pl_rng_shuffle (&rng, order, train->n);

      for (guint start = 0; start < train->n; start += bs)
        {
          guint n = MIN (bs, train->n - start);
          double objective, ce;
          guint correct;

          if (g_cancellable_set_error_if_cancelled (cancellable, error))
            {
              ok = FALSE;
              break;
            }

          for (guint s = 0; s < n; s++)
            {
              memcpy (x + (gsize) s * nf, train->x + (gsize) order[start + s] * nf,
                      sizeof (float) * nf);
              y[s] = train->y[order[start + s]];
            }
          fill_uniform (u, ng, pl_rng_next (&rng));

          if (step % GOOD_EVERY == 0)
            {
              memcpy (good_theta, model->params, sizeof (float) * np);
              memcpy (good_la, self->log_alpha, sizeof (float) * ng);
            }

          objective = pl_l0_objective (self, model, u, x, y, n, g_theta, g_la);
          ce = pl_nn_loss (self->eff, self->work, y, n, &correct);
          if (!isfinite (objective))
            {
              memcpy (model->params, good_theta, sizeof (float) * np);
              memcpy (self->log_alpha, good_la, sizeof (float) * ng);
              pl_mlp_apply_masks (model);
              g_set_error (error, PL_TRAIN_ERROR, PL_TRAIN_ERROR_DIVERGED,
                           _("L0 training diverged in epoch %u, step %llu; weights and gates from at most %u "
                             "steps earlier were restored (try a smaller learning rate)"),
                           rec.epoch, (unsigned long long) (step + 1), GOOD_EVERY);
              ok = FALSE;
              break;
            }

          step++;
          adam (model->params, m_theta, v_theta, g_theta, model->masks, np, c->lr, step);
          adam (self->log_alpha, m_la, v_la, g_la, NULL, ng, c->lr_log_alpha, step);
          loss_sum += ce * n;
          correct_sum += correct;

          _pl_train_report_step (&report, rec.epoch, step, ce, 0.0);
        }

      rec.seconds = (g_get_monotonic_time () - t0) / 1e6;
      if (!ok)
        break;

      {
        g_autoptr(PlEvaluation) ev = NULL;

        if (val != NULL && val->n > 0)
          {
            for (gsize j = 0; j < ng; j++)
              test_gates[j] = (float) pl_hard_concrete_test (self->log_alpha[j], c->gamma, c->zeta);
            make_effective (self, model, test_gates);
            ev = pl_evaluate (self->eff, val, NULL);
          }
        _pl_train_finish_epoch (&report, &rec, loss_sum, correct_sum, train->n, ev, NULL, step);
      }
    }

  pl_blas_set_threads (blas_threads_before);

  return ok;
}

gsize
pl_l0_freeze (PlL0  *self,
              PlMlp *model)
{
  const PlL0Config *c = &self->config;
  g_autofree float *gates = g_new (float, self->n_gates);
  gsize closed = 0;

  g_return_val_if_fail (model->n_params == self->n_params, 0);

  for (gsize j = 0; j < self->n_gates; j++)
    {
      gates[j] = (float) pl_hard_concrete_test (self->log_alpha[j], c->gamma, c->zeta);
      closed += gates[j] == 0.0f;
    }

  for (guint i = 0; i < self->n_layers; i++)
    {
      PlLayer *l = &model->layers[i];
      gsize nw = (gsize) l->n_out * l->n_in;

      for (gsize k = 0; k < nw; k++)
        {
          float g = gates[gate_of (self, i, k)];

          l->w[k] *= g;
          if (g == 0.0f)
            l->w_mask[k] = 0.0f;
        }
    }
  pl_mlp_apply_masks (model);

  return closed;
}
