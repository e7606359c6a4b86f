#define G_LOG_DOMAIN "pl-train"

#include "config.h"

#include <cblas.h>
#include <inttypes.h>
#include <glib/gi18n-lib.h>
#include <math.h>
#include <string.h>

#include "pl-blas.h"
#include "pl-error.h"
#include "pl-eval.h"
#include "pl-nn.h"
#include "pl-train-private.h"
#include "pl-optim.h"
#include "pl-rng.h"
#include "pl-simd.h"
#include "pl-sparse-nn.h"
#include "pl-team.h"
#include "pl-train.h"

#define GOOD_EVERY  16   /* steps between copies of parameters known to give a finite loss */

typedef enum {
  PHASE_GATHER,    /* each worker: its slice of the batch's inputs into batch_x */
  PHASE_FIRST,     /* each worker: its columns of the first layer over the whole batch */
  PHASE_GRADIENT,  /* each worker: its slice of the batch, forward and backward */
  PHASE_REDUCE,    /* each worker: its range of parameters, partial gradients summed */
  PHASE_UPDATE,    /* each worker: its range of parameters, optimiser step */
} Phase;

typedef struct {
  PlTrainer *trainer;   /* borrowed */
  guint      index;
  PlNnWork  *work;      /* owned */
  guint32   *y;         /* owned, (max_batch) labels of the slice */
  float     *grad;      /* owned, except worker 0's, which is the trainer's */
  gsize      lo[2], hi[2];  /* parameter ranges for the reduce and update phases: [0] the
                             * worker's rows of the first layer's weights when the trainer
                             * splits them (else empty), [1] its share of the rest */
  double     loss;      /* of the slice, summed over samples */
  guint      correct;
  double     norm_sq;       /* partial ‖g‖² before clipping */
  double     norm_sq_clip;  /* partial ‖clamp(g)‖² when clipping by value */
  float     *teacher;   /* owned, (max_batch, n_out) teacher rows of the slice, or NULL */
  float     *packed;    /* owned, (4, CHUNK) during a sparse run, else NULL: p, g, state1,
                         * state2 of a chunk's kept weights (process_packed) */
  gsize     *packed_at; /* owned, (CHUNK): their indices in the parameters */
} Worker;

struct _PlTrainer {
  PlMlp          *model;        /* borrowed */
  PlTrainConfig   config;
  float          *grad;         /* owned, (n_params) */
  float          *state1;       /* owned: momentum, or Adam's first moment */
  float          *state2;       /* owned: Adam's second moment, or NULL */
  float          *good;         /* owned: recent parameters whose loss was finite */
  guint64         t;            /* optimiser steps so far */
  guint           since_good;   /* steps since @good was taken, 0 at the start of a run */
  PlRng           rng;
  GArray         *history;      /* PlEpochRecord */
  GArray         *grad_norms;   /* float */
  guint64         samples_seen;
  double          train_seconds;

  /* the batch being computed */
  const PlDataset *data;        /* borrowed */
  const guint32   *batch_idx;   /* borrowed */
  guint            batch_n;
  const guint32   *next_idx;    /* borrowed: the next batch of the epoch, or NULL */
  guint            next_n;
  float            lr;
  float            clip_coef;
  gboolean         fused_update; /* update during the reduce phase (no norm clipping) */
  gboolean         masked;       /* some weight is pruned: the loops read the masks */

  /* With several threads the first layer — most of the parameters and of the work — is split
   * by neurons, the rest of the network by samples. Each worker gathers its slice of the
   * batch's inputs (PHASE_GATHER), computes its neurons' outputs for the whole batch
   * (PHASE_FIRST), runs the upper layers forward and backward on its slice of the batch,
   * leaving the slice's first-layer ∂L/∂z in batch_d (PHASE_GRADIENT), then computes its
   * neurons' weight gradient over the whole batch and steps them (PHASE_REDUCE). A worker's
   * rows of the first layer are read and written by its core alone, and their gradient is not
   * summed from partial ones. (A network without hidden layers is split by samples only.) */
  gboolean         split_first;  /* for this run: can_split, unless the layers run sparse */
  gboolean         can_split;
  float           *batch_x;      /* owned, (batch, n_in), or NULL */
  float           *batch_h;      /* owned, (batch, sizes[1]), or NULL */
  float           *batch_d;      /* owned, (batch, sizes[1]), or NULL */

  /* extensions: a hook after every step, distillation from a teacher's soft targets */
  PlTrainStepHook  step_hook;
  gpointer         step_hook_data;
  const float     *teacher;      /* borrowed: (teacher_n, n_out) */
  guint            teacher_n;
  double           temperature;
  double           alpha;

  /* sparse fine-tuning: the CSR forms of the layers that pay, during a masked run without a
   * teacher (pl-sparse-nn.h), or NULL */
  PlSparseNet     *sparse;

  /* the thread team: worker 0 is the calling thread */
  guint          n_threads;
  PlTeam        *team;         /* owned */
  Worker         workers[PL_TEAM_MAX_THREADS];
  Phase          phase;
};

void
pl_train_config_init (PlTrainConfig *config)
{
  g_return_if_fail (config != NULL);

  *config = (PlTrainConfig) {
    .epochs = 10,
    .batch_size = 128,
    .optimizer = PL_OPTIMIZER_SGD,
    .lr = 0.1,
    .momentum = 0.9,
    .nesterov = FALSE,
    .beta1 = 0.9,
    .beta2 = 0.999,
    .eps = 1e-8,
    .schedule = PL_LR_CONSTANT,
    .step_epochs = 10,
    .step_gamma = 0.1,
    .seed = 1,
    .threads = 1,
  };
}

const char *
pl_optimizer_to_string (PlOptimizer optimizer)
{
  return optimizer == PL_OPTIMIZER_ADAM ? "adam" : "sgd";
}

gboolean
pl_optimizer_parse (const char   *text,
                    PlOptimizer  *optimizer,
                    GError      **error)
{
  if (g_strcmp0 (text, "sgd") == 0)
    *optimizer = PL_OPTIMIZER_SGD;
  else if (g_strcmp0 (text, "adam") == 0)
    *optimizer = PL_OPTIMIZER_ADAM;
  else
    {
      g_set_error (error, PL_SPEC_ERROR, PL_SPEC_ERROR_UNKNOWN_NAME,
                   _("optimizer “%s”: choose sgd or adam"), text);
      return FALSE;
    }
  return TRUE;
}

const char *
pl_lr_schedule_to_string (PlLrSchedule schedule)
{
  switch (schedule)
    {
    case PL_LR_CONSTANT:
      return "constant";
    case PL_LR_STEP:
      return "step";
    case PL_LR_COSINE:
      return "cosine";
    default:
      g_assert_not_reached ();
    }
}

gboolean
pl_lr_schedule_parse (const char    *text,
                      PlLrSchedule  *schedule,
                      GError       **error)
{
  for (PlLrSchedule s = PL_LR_CONSTANT; s <= PL_LR_COSINE; s++)
    if (g_strcmp0 (text, pl_lr_schedule_to_string (s)) == 0)
      {
        *schedule = s;
        return TRUE;
      }

  g_set_error (error, PL_SPEC_ERROR, PL_SPEC_ERROR_UNKNOWN_NAME,
               _("learning-rate schedule “%s”: choose constant, step or cosine"), text);
  return FALSE;
}

/* ---- the phases ---- */

/* The worker's slice of a batch of @n samples: [*lo, *hi). */
static void
slice_of (const Worker *w,
          guint         n,
          guint        *lo,
          guint        *hi)
{
  guint T = w->trainer->n_threads;

  *lo = (guint) ((guint64) n * w->index / T);
  *hi = (guint) ((guint64) n * (w->index + 1) / T);
}

/* Asks for the inputs of the worker's share of the next batch to be brought into cache while
 * this step computes: the rows are scattered over the training set, and fetched from memory on
 * demand they cost the gather several microseconds each. */
static void
prefetch_next (Worker *w)
{
  PlTrainer *self = w->trainer;
  gsize row_bytes = sizeof (float) * self->data->n_features;
  guint lo, hi;

  if (self->next_idx == NULL)
    return;
  slice_of (w, self->next_n, &lo, &hi);
  for (guint s = lo; s < hi; s++)
    {
      const char *row = (const char *) (self->data->x + (gsize) self->next_idx[s] * self->data->n_features);

      for (gsize b = 0; b < row_bytes; b += 64)
        __builtin_prefetch (row + b, 0, 2);
    }
}

static void
run_gather (Worker *w)
{
  PlTrainer *self = w->trainer;
  const PlDataset *data = self->data;
  guint nf = data->n_features;
  guint lo, hi;

  slice_of (w, self->batch_n, &lo, &hi);
  for (guint s = lo; s < hi; s++)
    memcpy (self->batch_x + (gsize) s * nf, data->x + (gsize) self->batch_idx[s] * nf,
            sizeof (float) * nf);
}

static void
run_first (Worker *w)
{
  PlTrainer *self = w->trainer;
  guint n_in = self->model->layers[0].n_in;

  prefetch_next (w);
  pl_nn_forward_first_columns (self->model, self->batch_x, self->batch_n,
                               (guint) (w->lo[0] / n_in), (guint) (w->hi[0] / n_in), self->batch_h);
}

static void
run_gradient (Worker *w)
{
  PlTrainer *self = w->trainer;
  const PlDataset *data = self->data;
  guint n = self->batch_n;
  guint lo, hi;
  guint nf = data->n_features;
  float *x = w->work->input;

  if (!self->split_first)
    prefetch_next (w);
  slice_of (w, n, &lo, &hi);
  for (guint s = lo; s < hi; s++)
    {
      guint32 idx = self->batch_idx[s];

      if (!self->split_first)
        memcpy (x + (gsize) (s - lo) * nf, data->x + (gsize) idx * nf, sizeof (float) * nf);
      w->y[s - lo] = data->y[idx];
    }

  w->loss = 0.0;
  w->correct = 0;
  if (hi == lo)
    {
      memset (w->grad, 0, sizeof (float) * self->model->n_params);
      return;
    }

  if (self->split_first)
    {
      w->work->first_delta = self->batch_d + (gsize) lo * self->model->sizes[1];
      pl_nn_forward_upper (self->model, w->work, self->batch_h + (gsize) lo * self->model->sizes[1], hi - lo);
    }
  else if (self->sparse != NULL)
    pl_sparse_forward (self->model, self->sparse, w->index, w->work, x, hi - lo);
  else
    pl_nn_forward (self->model, w->work, x, hi - lo);
  w->loss = pl_nn_loss (self->model, w->work, w->y, hi - lo, &w->correct) * (hi - lo);
  if (self->sparse != NULL)
    pl_sparse_backward (self->model, self->sparse, w->index, w->work, w->y, hi - lo, 1.0f / n,
                        FALSE, w->grad);
  else if (self->teacher == NULL)
    pl_nn_backward (self->model, w->work, w->y, hi - lo, 1.0f / n, FALSE, w->grad);
  else
    {
      guint m = self->model->sizes[self->model->n_layers];

      for (guint s = lo; s < hi; s++)
        memcpy (w->teacher + (gsize) (s - lo) * m,
                self->teacher + (gsize) self->batch_idx[s] * m, sizeof (float) * m);
      pl_nn_backward_distill (self->model, w->work, w->y, w->teacher, hi - lo,
                              self->temperature, self->alpha, 1.0f / n, FALSE, w->grad);
    }
}

#define CHUNK 4096       /* parameters summed and updated together, while in L1 cache */

/* process_range for the weights [lo, hi) of a CSR layer of a sparse run (its weights from
 * @base in the parameters): the same phases on its kept weights only, gathered into
 * w->packed, stepped and scattered back. A pruned weight's parameter, gradient and optimiser
 * state are 0 (plan_sparse) and would stay 0 under the masked step, so leaving them out
 * changes nothing but the order of the norm's sums. */
static void
process_packed (Worker            *w,
                Phase              phase,
                const PlCsr       *csr,
                gsize              base,
                gsize              lo,
                gsize              hi,
                const PlOptimStep *k)
{
  PlTrainer *self = w->trainer;
  float *p = w->packed, *g = p + CHUNK, *s1 = g + CHUNK, *s2 = s1 + CHUNK;
  float *params = self->model->params;
  float wd = (float) self->config.weight_decay;
  gsize n = 0;

  for (guint r = (guint) ((lo - base) / csr->n_cols); r < csr->n_rows && base + (gsize) r * csr->n_cols < hi; r++)
    for (int32_t e = csr->row_ptr[r]; e < csr->row_ptr[r + 1]; e++)
      {
        gsize at = base + (gsize) r * csr->n_cols + csr->col[e];

        if (at >= lo && at < hi)
          w->packed_at[n++] = at;
      }
  g_assert (n <= CHUNK);
  if (n == 0)
    return;

  for (gsize j = 0; j < n; j++)
    {
      gsize at = w->packed_at[j];

      p[j] = params[at];
      g[j] = self->grad[at];
      s1[j] = self->state1[at];
      s2[j] = self->state2 != NULL ? self->state2[at] : 0.0f;
    }
  if (phase == PHASE_REDUCE)
    {
      for (guint t = 1; t < self->n_threads; t++)
        for (gsize j = 0; j < n; j++)
          g[j] += self->workers[t].grad[w->packed_at[j]];
      pl_optim_objective_grad (g, p, NULL, n, (float) self->config.l1, (float) self->config.article_l0, k->cv, &w->norm_sq, &w->norm_sq_clip);
    }
  if (phase == PHASE_UPDATE || self->fused_update)
    {
      if (self->config.optimizer == PL_OPTIMIZER_SGD)
        pl_optim_sgd_step (p, s1, g, NULL, n, wd, k);
      else
        pl_optim_adam_step (p, s1, s2, g, NULL, n, wd, k);
    }
  for (gsize j = 0; j < n; j++)
    {
      gsize at = w->packed_at[j];

      params[at] = p[j];
      self->grad[at] = g[j];
      self->state1[at] = s1[j];
      if (self->state2 != NULL)
        self->state2[at] = s2[j];
    }
}

/* On [lo, hi): PHASE_REDUCE sums the workers' partial gradients in a fixed order, turns them
 * into the objective gradient and adds its norms — and, fused, takes the optimiser step while
 * the chunk is in cache; PHASE_UPDATE takes the step alone (after clipping by norm). */
static void
process_range (Worker           *w,
               Phase             phase,
               gsize             lo,
               gsize             hi,
               gboolean          is_weight,
               gboolean          sum_partials,
               const PlOptimStep *k)
{
  PlTrainer *self = w->trainer;
  float *restrict g = self->grad;
  float *p = self->model->params + lo;
  const float *mask = self->masked ? self->model->masks + lo : NULL;
  float wd = is_weight ? (float) self->config.weight_decay : 0.0f;

  if (phase == PHASE_REDUCE)
    {
      for (guint t = 1; sum_partials && t < self->n_threads; t++)
        pl_optim_add (g + lo, self->workers[t].grad + lo, hi - lo);
      pl_optim_objective_grad (g + lo, p, mask, hi - lo, is_weight ? (float) self->config.l1 : 0.0f,
                               is_weight ? (float) self->config.article_l0 : 0.0f, k->cv,
                               &w->norm_sq, &w->norm_sq_clip);
      if (!self->fused_update)
        return;
    }

  if (self->config.optimizer == PL_OPTIMIZER_SGD)
    pl_optim_sgd_step (p, self->state1 + lo, g + lo, mask, hi - lo, wd, k);
  else
    pl_optim_adam_step (p, self->state1 + lo, self->state2 + lo, g + lo, mask, hi - lo, wd, k);
}

/* Runs the reduce or update phase on the weight and bias parts of the worker's ranges, a chunk
 * at a time; in the reduce phase the first layer's rows of a split gradient are computed first. */
static void
run_by_segments (Worker *w,
                 Phase   phase)
{
  PlTrainer *self = w->trainer;
  const PlTrainConfig *c = &self->config;
  PlOptimStep k = {
    .lr = self->lr,
    .mu = (float) c->momentum,
    .nesterov = c->nesterov,
    .b1 = (float) c->beta1,
    .b2 = (float) c->beta2,
    .step = pl_optim_adam_step_size (self->lr, c->beta1, self->t),
    .sqrt_bc2 = pl_optim_adam_sqrt_bc2 (c->beta2, self->t),
    .eps = (float) c->eps,
    .coef = self->clip_coef,
    .cv = c->clip_value > 0.0 ? (float) c->clip_value : INFINITY,
  };
  gsize off = 0;

  if (phase == PHASE_REDUCE)
    w->norm_sq = w->norm_sq_clip = 0.0;

  if (phase == PHASE_REDUCE && w->hi[0] > w->lo[0])
    {
      const PlLayer *l = &self->model->layers[0];
      gsize r0 = w->lo[0] / l->n_in, r1 = w->hi[0] / l->n_in;

      /* gW (rows, n_in) = dᵀ (rows, batch) · x (batch, n_in) over the whole batch */
      cblas_sgemm (CblasRowMajor, CblasTrans, CblasNoTrans,
                   r1 - r0, l->n_in, self->batch_n,
                   1.0f, self->batch_d + r0, l->n_out, self->batch_x, l->n_in,
                   0.0f, self->grad + w->lo[0], l->n_in);
    }

  for (guint range = 0; range < 2; range++)
    {
      off = 0;
      for (guint i = 0; i < self->model->n_layers; i++)
        {
          const PlLayer *l = &self->model->layers[i];
          gsize nw = (gsize) l->n_out * l->n_in;
          gsize seg[3] = { off, off + nw, off + nw + l->n_out };

          for (guint part = 0; part < 2; part++)
            {
              gsize lo = MAX (seg[part], w->lo[range]);
              gsize hi = MIN (seg[part + 1], w->hi[range]);

              for (gsize a = lo; a < hi; a += CHUNK)
                if (part == 0 && self->sparse != NULL && self->sparse->csr[i] != NULL)
                  process_packed (w, phase, self->sparse->csr[i], seg[0], a, MIN (a + CHUNK, hi), &k);
                else
                  process_range (w, phase, a, MIN (a + CHUNK, hi), part == 0, range == 1, &k);
            }
          off = seg[2];
        }
    }
}

static void
run_phase (Worker *w,
           Phase   phase)
{
  if (phase == PHASE_GATHER)
    run_gather (w);
  else if (phase == PHASE_FIRST)
    run_first (w);
  else if (phase == PHASE_GRADIENT)
    run_gradient (w);
  else
    run_by_segments (w, phase);
}

static void
phase_func (guint    index,
            guint    n_threads,
            gpointer data)
{
  PlTrainer *self = data;

  run_phase (&self->workers[index], self->phase);
}

/* Runs @phase on every worker, the caller doing worker 0's part, and waits for all. */
static void
team_run (PlTrainer *self,
          Phase      phase)
{
  self->phase = phase;
  pl_team_run (self->team, phase_func, self);
}

/* ---- the trainer ---- */

/* The workers' parameter ranges for the reduce and update phases, after split_first. */
static void
assign_ranges (PlTrainer *self)
{
  const PlMlp *model = self->model;
  const PlLayer *l0 = &model->layers[0];
  guint T = self->n_threads;
  /* the first layer's rows, then the rest of the parameters in ranges aligned to 16 floats
   * (a cache line) */
  gsize rest = self->split_first ? (gsize) l0->n_out * l0->n_in : 0;
  gsize np = model->n_params, n_rest = np - rest;

  for (guint t = 0; t < T; t++)
    {
      Worker *w = &self->workers[t];

      w->lo[0] = self->split_first ? (gsize) (l0->n_out * t / T) * l0->n_in : 0;
      w->hi[0] = self->split_first ? (gsize) (l0->n_out * (t + 1) / T) * l0->n_in : 0;
      w->lo[1] = rest + ((n_rest * t / T) & ~(gsize) 15);
      w->hi[1] = t + 1 == T ? np : rest + ((n_rest * (t + 1) / T) & ~(gsize) 15);
    }
}

/* Sparse fine-tuning (pl-sparse-nn.h): decides after every change of the masks which layers
 * run as CSR. Their pruned weights' gradients are then never written, so they are zeroed
 * here once, in every worker's partial gradient. A teacher or config->dense_only keeps the
 * dense passes. */
static void
plan_sparse (PlTrainer *self)
{
  g_clear_pointer (&self->sparse, pl_sparse_net_free);
  if (self->masked && self->teacher == NULL && !self->config.dense_only)
    self->sparse = pl_sparse_net_new (self->model, self->n_threads);
  self->split_first = self->can_split && self->sparse == NULL;
  assign_ranges (self);
  for (guint t = 0; t < self->n_threads; t++)
    {
      Worker *w = &self->workers[t];

      if (self->sparse != NULL && w->packed == NULL)
        {
          w->packed = g_new (float, 4 * CHUNK);
          w->packed_at = g_new (gsize, CHUNK);
        }
      if (self->sparse != NULL)
        memset (w->grad, 0, sizeof (float) * self->model->n_params);
    }
  /* the optimiser state of a pruned weight is 0, as the masked step leaves it */
  if (self->sparse != NULL)
    for (gsize k = 0; k < self->model->n_params; k++)
      if (self->model->masks[k] == 0.0f)
        {
          self->state1[k] = 0.0f;
          if (self->state2 != NULL)
            self->state2[k] = 0.0f;
        }
}

PlTrainer *
pl_trainer_new (PlMlp               *model,
                const PlTrainConfig *config)
{
  PlTrainer *self;
  gsize np;

  g_return_val_if_fail (model != NULL && config != NULL, NULL);
  g_return_val_if_fail (config->batch_size > 0, NULL);

  np = model->n_params;
  self = g_new0 (PlTrainer, 1);
  self->model = model;
  self->config = *config;
  self->n_threads = CLAMP (config->threads, 1, PL_TEAM_MAX_THREADS);
  self->grad = g_new0 (float, np);
  self->state1 = g_new0 (float, np);
  if (config->optimizer == PL_OPTIMIZER_ADAM)
    self->state2 = g_new0 (float, np);
  self->good = g_new0 (float, np);
  self->history = g_array_new (FALSE, FALSE, sizeof (PlEpochRecord));
  self->grad_norms = g_array_new (FALSE, FALSE, sizeof (float));
  pl_rng_init (&self->rng, config->seed);

  self->can_split = self->split_first = self->n_threads > 1 && model->n_layers >= 2;
  if (self->split_first)
    {
      self->batch_x = g_new0 (float, (gsize) config->batch_size * model->sizes[0]);
      self->batch_h = g_new0 (float, (gsize) config->batch_size * model->sizes[1]);
      self->batch_d = g_new0 (float, (gsize) config->batch_size * model->sizes[1]);
    }

  for (guint t = 0; t < self->n_threads; t++)
    {
      Worker *w = &self->workers[t];
      guint T = self->n_threads;
      guint slice = (config->batch_size + T - 1) / T;

      w->trainer = self;
      w->index = t;
      w->work = pl_nn_work_new (model, slice);
      w->y = g_new0 (guint32, slice);
      w->grad = t == 0 ? self->grad : g_new0 (float, np);
    }
  assign_ranges (self);
  self->team = pl_team_new (self->n_threads);

  return self;
}

void
pl_trainer_free (PlTrainer *self)
{
  if (self == NULL)
    return;

  pl_team_free (self->team);
  for (guint t = 0; t < self->n_threads; t++)
    {
      Worker *w = &self->workers[t];

      if (t > 0)
        g_free (w->grad);
      pl_nn_work_free (w->work);
      g_free (w->y);
      g_free (w->teacher);
      g_free (w->packed);
      g_free (w->packed_at);
    }

  g_free (self->grad);
  g_free (self->batch_x);
  g_free (self->batch_h);
  g_free (self->batch_d);
  g_free (self->state1);
  g_free (self->state2);
  g_free (self->good);
  g_array_unref (self->history);
  g_array_unref (self->grad_norms);
  g_free (self);
}

void
pl_trainer_reset_state (PlTrainer *self)
{
  gsize np = self->model->n_params;

  memset (self->state1, 0, sizeof (float) * np);
  if (self->state2 != NULL)
    memset (self->state2, 0, sizeof (float) * np);
  self->t = 0;
}

void
pl_trainer_set_step_hook (PlTrainer       *self,
                          PlTrainStepHook  hook,
                          gpointer         user_data)
{
  g_return_if_fail (self != NULL);

  self->step_hook = hook;
  self->step_hook_data = user_data;
}

void
pl_trainer_set_distillation (PlTrainer   *self,
                             const float *teacher,
                             guint        n_samples,
                             double       temperature,
                             double       alpha)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (teacher == NULL || (temperature > 0.0 && alpha >= 0.0 && alpha <= 1.0));

  self->teacher = teacher;
  self->teacher_n = teacher != NULL ? n_samples : 0;
  self->temperature = temperature;
  self->alpha = alpha;
  for (guint t = 0; t < self->n_threads; t++)
    {
      Worker *w = &self->workers[t];

      if (teacher != NULL && w->teacher == NULL)
        w->teacher = g_new (float, (gsize) w->work->max_batch
                                   * self->model->sizes[self->model->n_layers]);
    }
}

const GArray *
pl_trainer_get_history (PlTrainer *self)
{
  return self->history;
}

const float *
pl_trainer_get_gradient (PlTrainer *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->grad;
}

const GArray *
pl_trainer_get_grad_norms (PlTrainer *self)
{
  return self->grad_norms;
}

guint64
pl_trainer_get_samples_seen (PlTrainer *self)
{
  return self->samples_seen;
}

double
pl_trainer_get_train_seconds (PlTrainer *self)
{
  return self->train_seconds;
}

void
_pl_train_report_step (const PlTrainReport *report,
                       guint                epoch,
                       guint64              step,
                       double               batch_loss,
                       double               grad_norm)
{
  PlTrainProgress p = {
    .epoch = epoch, .epochs = report->epochs, .step = step, .steps_total = report->steps_total,
    .batch_loss = batch_loss, .grad_norm = grad_norm,
  };

  if (report->progress != NULL)
    report->progress (&p, report->user_data);
}

void
_pl_train_finish_epoch (const PlTrainReport *report,
                        PlEpochRecord       *rec,
                        double               loss_sum,
                        guint64              correct,
                        guint                n_train,
                        const PlEvaluation  *val,
                        GArray              *history,
                        guint64              step)
{
  PlTrainProgress p = {
    .epoch = rec->epoch, .epochs = report->epochs, .step = step, .steps_total = report->steps_total,
    .epoch_done = TRUE, .record = rec,
  };

  rec->train_loss = loss_sum / n_train;
  rec->train_accuracy = (double) correct / n_train;
  rec->val_loss = val != NULL ? val->loss : NAN;
  rec->val_accuracy = val != NULL ? val->accuracy : NAN;
  if (history != NULL)
    g_array_append_val (history, *rec);
  p.batch_loss = rec->train_loss;
  if (report->progress != NULL)
    report->progress (&p, report->user_data);
}

double
pl_train_config_learning_rate (const PlTrainConfig *c,
                               guint                epoch,
                               guint64              step,
                               guint64              steps_total)
{
  switch (c->schedule)
    {
    case PL_LR_CONSTANT:
      return c->lr;
    case PL_LR_STEP:
      return c->lr * pow (c->step_gamma, epoch / MAX (c->step_epochs, 1));
    case PL_LR_COSINE:
      return c->lr * 0.5 * (1.0 + cos (G_PI * (double) step / MAX (steps_total, 1)));
    default:
      g_assert_not_reached ();
    }
}

/* One minibatch; returns FALSE when the loss is not finite. */
static gboolean
train_step (PlTrainer *self,
            double    *loss,
            guint     *correct,
            double    *grad_norm)
{
  double norm_sq = 0.0, norm_sq_clip = 0.0;

  *loss = 0.0;
  *correct = 0;
  if (self->split_first)
    {
      team_run (self, PHASE_GATHER);
      team_run (self, PHASE_FIRST);
    }
  team_run (self, PHASE_GRADIENT);
  for (guint t = 0; t < self->n_threads; t++)
    {
      *loss += self->workers[t].loss;
      *correct += self->workers[t].correct;
    }
  *loss /= self->batch_n;
  if (!isfinite (*loss))
    return FALSE;

  /* These parameters gave a finite loss: keep them, now and then, to fall back on. */
  if (self->since_good++ % GOOD_EVERY == 0)
    memcpy (self->good, self->model->params, sizeof (float) * self->model->n_params);

  self->t++;
  self->fused_update = self->config.clip_norm <= 0.0;
  self->clip_coef = 1.0f;
  team_run (self, PHASE_REDUCE);
  for (guint t = 0; t < self->n_threads; t++)
    {
      norm_sq += self->workers[t].norm_sq;
      norm_sq_clip += self->workers[t].norm_sq_clip;
    }
  *grad_norm = sqrt (norm_sq);

  if (!self->fused_update)
    {
      double n = sqrt (self->config.clip_value > 0.0 ? norm_sq_clip : norm_sq);

      /* as torch.nn.utils.clip_grad_norm_: g · max_norm / (‖g‖ + 1e-6), only when larger */
      self->clip_coef = (float) MIN (1.0, self->config.clip_norm / (n + 1e-6));
      team_run (self, PHASE_UPDATE);
    }
  if (self->sparse != NULL)
    pl_sparse_net_refresh (self->sparse, self->model);

  return TRUE;
}

gboolean
pl_trainer_run (PlTrainer           *self,
                const PlDataset     *train,
                const PlDataset     *val,
                PlTrainProgressFunc  progress,
                gpointer             user_data,
                GCancellable        *cancellable,
                GError             **error)
{
  PlMlp *model;
  const PlTrainConfig *c;
  g_autofree guint32 *order = NULL;
  guint64 steps_per_epoch, steps_total, step = 0;
  PlTrainReport report;
  int blas_threads_before;
  gboolean ok = TRUE;

  g_return_val_if_fail (self != NULL && train != NULL, FALSE);

  model = self->model;
  c = &self->config;
  if (train->n_features != model->sizes[0] || train->n_classes > model->sizes[model->n_layers]
      || (val != NULL && val->n > 0 && val->n_features != model->sizes[0]))
    {
      g_set_error (error, PL_TRAIN_ERROR, PL_TRAIN_ERROR_MISMATCH,
                   _("the model takes %u inputs and has %u classes; the data has %u features and %u classes"),
                   model->sizes[0], model->sizes[model->n_layers], train->n_features, train->n_classes);
      return FALSE;
    }
  if (train->n == 0)
    {
      g_set_error (error, PL_TRAIN_ERROR, PL_TRAIN_ERROR_FAILED, _("the training set is empty"));
      return FALSE;
    }
  if (self->teacher != NULL && self->teacher_n != train->n)
    {
      g_set_error (error, PL_TRAIN_ERROR, PL_TRAIN_ERROR_MISMATCH,
                   _("the teacher’s soft targets cover %u samples; the training set has %u"),
                   self->teacher_n, train->n);
      return FALSE;
    }

  order = g_new (guint32, train->n);
  for (guint i = 0; i < train->n; i++)
    order[i] = i;
  steps_per_epoch = (train->n + c->batch_size - 1) / c->batch_size;
  steps_total = steps_per_epoch * c->epochs;
  report = (PlTrainReport) { progress, user_data, c->epochs, steps_total };

  pl_mlp_apply_masks (model);
  self->masked = pl_mlp_n_pruned (model) > 0;
  plan_sparse (self);
  self->since_good = 0;
  self->data = train;

  blas_threads_before = pl_blas_set_threads (1);

  for (guint epoch = 0; epoch < c->epochs && ok; epoch++)
    {
      PlEpochRecord rec = { .epoch = self->history->len + 1 };
      double loss_sum = 0.0;
      guint64 correct_sum = 0;
      gint64 t0 = g_get_monotonic_time ();

      pl_rng_shuffle (&self->rng, order, train->n);

      for (guint start = 0; start < train->n; start += c->batch_size)
        {
          double loss, grad_norm = 0.0;
          guint correct;
          float gn;

          if (g_cancellable_set_error_if_cancelled (cancellable, error))
            {
              ok = FALSE;
              break;
            }

          self->batch_idx = order + start;
          self->batch_n = MIN (c->batch_size, train->n - start);
          self->next_idx = start + c->batch_size < train->n ? order + start + c->batch_size : NULL;
          self->next_n = self->next_idx != NULL ? MIN (c->batch_size, train->n - start - c->batch_size) : 0;
          self->lr = (float) pl_train_config_learning_rate (c, epoch, step, steps_total);

          if (!train_step (self, &loss, &correct, &grad_norm))
            {
              memcpy (model->params, self->good, sizeof (float) * model->n_params);
              pl_mlp_apply_masks (model);
              g_set_error (error, PL_TRAIN_ERROR, PL_TRAIN_ERROR_DIVERGED,
                           _("training diverged: the loss became %s in epoch %u, step %llu"
                             "; weights from at most %u steps earlier, whose loss was finite, were restored (try a smaller learning rate or gradient clipping)"),
                           isnan (loss) ? "NaN" : _("infinite"), rec.epoch, (unsigned long long) (step + 1), GOOD_EVERY);
              ok = FALSE;
              break;
            }

          gn = (float) grad_norm;
          g_array_append_val (self->grad_norms, gn);
          loss_sum += loss * self->batch_n;
          correct_sum += correct;
          self->samples_seen += self->batch_n;
          rec.lr = self->lr;
          step++;

          if (self->step_hook != NULL && self->step_hook (model, step, self->step_hook_data))
            {
              pl_mlp_apply_masks (model);
              self->masked = pl_mlp_n_pruned (model) > 0;
              plan_sparse (self);
            }

          _pl_train_report_step (&report, rec.epoch, step, loss, grad_norm);
        }

      rec.seconds = (g_get_monotonic_time () - t0) / 1e6;
      self->train_seconds += rec.seconds;
      if (!ok)
        break;

      {
        g_autoptr(PlEvaluation) ev = NULL;

        if (val != NULL && val->n > 0)
          {
            pl_blas_set_threads (self->n_threads);
            ev = pl_evaluate (model, val, NULL);
            pl_blas_set_threads (1);
          }
        _pl_train_finish_epoch (&report, &rec, loss_sum, correct_sum, train->n, ev, self->history, step);
      }
    }

  pl_blas_set_threads (blas_threads_before);
  g_clear_pointer (&self->sparse, pl_sparse_net_free);
  self->data = NULL;
  self->batch_idx = NULL;

  return ok;
}
