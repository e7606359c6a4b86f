#define G_LOG_DOMAIN "pl-conv-train"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <math.h>
#include <string.h>

#include "pl-blas.h"
#include "pl-conv-train.h"
#include "pl-error.h"
#include "pl-eval.h"
#include "pl-optim.h"
#include "pl-rng.h"
#include "pl-train-private.h"
#include "pl-team.h"

/* One thread's share of a step. */
typedef struct {
  PlConvWork *work;        /* owned */
  float      *x;           /* owned: (batch, inputs), the gathered samples */
  guint32    *y;           /* owned: (batch) */
  float      *grad;        /* owned: (net->n_params), this thread's part of the batch gradient */
  float      *head_grad;   /* owned: (head->n_params) */
  guint       lo, hi;      /* its samples within the batch */
  double      loss_sum;    /* Σ of its samples' cross-entropy */
  guint       correct;
} Share;

/* A contiguous range of one parameter block: a layer's weights or its biases. */
typedef struct {
  gboolean head;           /* FALSE: net->params, TRUE: net->head->params */
  gsize    offset, n;
  gboolean is_weight;      /* weights take L1 and weight decay, biases not */
} Segment;

struct _PlConvTrainer {
  PlConvNet      *net;              /* borrowed */
  PlTrainConfig   config;
  PlRng           rng;              /* order of the samples */
  PlTeam         *team;             /* owned */
  guint           n_threads;
  Share          *shares;           /* owned: n_threads */
  GArray         *segments;         /* owned: Segment, conv layers then head layers */
  float          *state1[2];        /* owned: momentum / Adam m, conv and head blocks */
  float          *state2[2];        /* owned: Adam v */
  float          *good[2];          /* owned: the parameters at the epoch's start */
  guint64         t;                /* optimiser steps taken */
  GArray         *history;          /* owned: PlEpochRecord */
  GArray         *grad_norms;       /* owned: float */
  guint64         samples_seen;
  double          train_seconds;
  /* the step running */
  const PlDataset *data;            /* borrowed */
  const guint32   *batch_idx;       /* borrowed: (batch_n) */
  guint            batch_n;
};

PlConvTrainer *
pl_conv_trainer_new (PlConvNet           *net,
                     const PlTrainConfig *config)
{
  PlConvTrainer *self;
  gsize sizes[2];

  g_return_val_if_fail (net != NULL && config != NULL, NULL);
  g_return_val_if_fail (config->batch_size >= 1 && config->threads >= 1, NULL);

  self = g_new0 (PlConvTrainer, 1);
  self->net = net;
  self->config = *config;
  pl_rng_init (&self->rng, config->seed);
  self->n_threads = MIN (config->threads, MIN (config->batch_size, PL_TEAM_MAX_THREADS));
  self->team = pl_team_new (self->n_threads);
  self->shares = g_new0 (Share, self->n_threads);
  sizes[0] = MAX (net->n_params, 1);
  sizes[1] = net->head->n_params;
  for (guint t = 0; t < self->n_threads; t++)
    {
      Share *s = &self->shares[t];
      guint max_n = (config->batch_size + self->n_threads - 1) / self->n_threads;

      s->work = pl_conv_work_new (net, max_n);
      s->x = g_new (float, (gsize) max_n * pl_conv_net_n_inputs (net));
      s->y = g_new (guint32, max_n);
      s->grad = g_new0 (float, sizes[0]);
      s->head_grad = g_new0 (float, sizes[1]);
    }
  for (guint b = 0; b < 2; b++)
    {
      self->state1[b] = g_new0 (float, sizes[b]);
      self->state2[b] = g_new0 (float, sizes[b]);
      self->good[b] = g_new (float, sizes[b]);
    }

  self->segments = g_array_new (FALSE, FALSE, sizeof (Segment));
  for (guint i = 0; i < net->n_layers; i++)
    {
      const PlConvLayer *l = &net->layers[i];
      gsize nw = (gsize) l->c_out * l->c_in * l->k * l->k;
      Segment w = { FALSE, (gsize) (l->w - net->params), nw, TRUE };
      Segment b = { FALSE, (gsize) (l->b - net->params), l->c_out, FALSE };

      if (l->kind != PL_CONV_LAYER_CONV)
        continue;
      g_array_append_val (self->segments, w);
      g_array_append_val (self->segments, b);
    }
  for (guint i = 0; i < net->head->n_layers; i++)
    {
      const PlLayer *l = &net->head->layers[i];
      Segment w = { TRUE, (gsize) (l->w - net->head->params), (gsize) l->n_out * l->n_in, TRUE };
      Segment b = { TRUE, (gsize) (l->b - net->head->params), l->n_out, FALSE };

      g_array_append_val (self->segments, w);
      g_array_append_val (self->segments, b);
    }

  self->history = g_array_new (FALSE, FALSE, sizeof (PlEpochRecord));
  self->grad_norms = g_array_new (FALSE, FALSE, sizeof (float));

  return self;
}

void
pl_conv_trainer_free (PlConvTrainer *self)
{
  if (self == NULL)
    return;

  for (guint t = 0; t < self->n_threads; t++)
    {
      Share *s = &self->shares[t];

      pl_conv_work_free (s->work);
      g_free (s->x);
      g_free (s->y);
      g_free (s->grad);
      g_free (s->head_grad);
    }
  g_free (self->shares);
  for (guint b = 0; b < 2; b++)
    {
      g_free (self->state1[b]);
      g_free (self->state2[b]);
      g_free (self->good[b]);
    }
  g_array_unref (self->segments);
  g_array_unref (self->history);
  g_array_unref (self->grad_norms);
  pl_team_free (self->team);
  g_free (self);
}

/* Thread @index: gathers its samples, runs forward and backward into its own gradient. */
static void
share_run (guint    index,
           guint    n_threads,
           gpointer data)
{
  PlConvTrainer *self = data;
  Share *s = &self->shares[index];
  guint n_in = pl_conv_net_n_inputs (self->net);
  guint n;

  s->lo = (guint) ((guint64) self->batch_n * index / n_threads);
  s->hi = (guint) ((guint64) self->batch_n * (index + 1) / n_threads);
  s->loss_sum = 0.0;
  s->correct = 0;
  n = s->hi - s->lo;
  if (n == 0)
    {
      memset (s->grad, 0, sizeof (float) * self->net->n_params);
      memset (s->head_grad, 0, sizeof (float) * self->net->head->n_params);
      return;
    }
  for (guint k = 0; k < n; k++)
    {
      guint32 i = self->batch_idx[s->lo + k];

      memcpy (s->x + (gsize) k * n_in, self->data->x + (gsize) i * n_in, sizeof (float) * n_in);
      s->y[k] = self->data->y[i];
    }
  pl_conv_forward (self->net, s->work, s->x, n);
  s->loss_sum = pl_conv_loss (self->net, s->work, s->y, n, &s->correct) * n;
  pl_conv_backward (self->net, s->work, s->y, n, 1.0f / self->batch_n, s->grad, s->head_grad);
}

/* One minibatch; FALSE when the loss is not finite (nothing updated then). */
static gboolean
train_step (PlConvTrainer *self,
            float          lr,
            double        *loss,
            guint         *correct,
            double        *grad_norm)
{
  const PlTrainConfig *c = &self->config;
  PlConvNet *net = self->net;
  float *grad[2] = { self->shares[0].grad, self->shares[0].head_grad };
  float *params[2] = { net->params, net->head->params };
  const float *masks[2] = { net->masks, net->head->masks };
  gsize sizes[2] = { net->n_params, net->head->n_params };
  double norm_sq = 0.0, norm_sq_clip = 0.0;
  PlOptimStep k;

  pl_team_run (self->team, share_run, self);
  *loss = 0.0;
  *correct = 0;
  for (guint t = 0; t < self->n_threads; t++)
    {
      *loss += self->shares[t].loss_sum;
      *correct += self->shares[t].correct;
    }
  *loss /= self->batch_n;
  if (!isfinite (*loss))
    return FALSE;

  /* the partial gradients summed in thread order */
  for (guint t = 1; t < self->n_threads; t++)
    {
      pl_optim_add (grad[0], self->shares[t].grad, sizes[0]);
      pl_optim_add (grad[1], self->shares[t].head_grad, sizes[1]);
    }

  self->t++;
  k = (PlOptimStep) {
    .lr = lr,
    .mu = (float) c->momentum,
    .nesterov = c->nesterov,
    .b1 = (float) c->beta1,
    .b2 = (float) c->beta2,
    .step = pl_optim_adam_step_size (lr, c->beta1, self->t),
    .sqrt_bc2 = pl_optim_adam_sqrt_bc2 (c->beta2, self->t),
    .eps = (float) c->eps,
    .coef = 1.0f,
    .cv = c->clip_value > 0.0 ? (float) c->clip_value : INFINITY,
  };

  for (guint i = 0; i < self->segments->len; i++)
    {
      const Segment *sg = &g_array_index (self->segments, Segment, i);
      guint b = sg->head;

      pl_optim_objective_grad (grad[b] + sg->offset, params[b] + sg->offset, masks[b] + sg->offset,
                               sg->n, sg->is_weight ? (float) c->l1 : 0.0f, 0.0f, k.cv,
                               &norm_sq, &norm_sq_clip);
    }
  *grad_norm = sqrt (norm_sq);
  if (c->clip_norm > 0.0)
    {
      double n = sqrt (c->clip_value > 0.0 ? norm_sq_clip : norm_sq);

      /* as torch.nn.utils.clip_grad_norm_ (and pl-train.c) */
      k.coef = (float) MIN (1.0, c->clip_norm / (n + 1e-6));
    }

  for (guint i = 0; i < self->segments->len; i++)
    {
      const Segment *sg = &g_array_index (self->segments, Segment, i);
      guint b = sg->head;
      float wd = sg->is_weight ? (float) c->weight_decay : 0.0f;

      if (c->optimizer == PL_OPTIMIZER_SGD)
        pl_optim_sgd_step (params[b] + sg->offset, self->state1[b] + sg->offset,
                           grad[b] + sg->offset, masks[b] + sg->offset, sg->n, wd, &k);
      else
        pl_optim_adam_step (params[b] + sg->offset, self->state1[b] + sg->offset,
                            self->state2[b] + sg->offset, grad[b] + sg->offset,
                            masks[b] + sg->offset, sg->n, wd, &k);
    }

  return TRUE;
}

gboolean
pl_conv_trainer_run (PlConvTrainer       *self,
                     const PlDataset     *train,
                     const PlDataset     *val,
                     PlTrainProgressFunc  progress,
                     gpointer             user_data,
                     GCancellable        *cancellable,
                     GError             **error)
{
  const PlTrainConfig *c;
  PlConvNet *net;
  g_autofree guint32 *order = NULL;
  guint64 step = 0, steps_total;
  PlTrainReport report;
  gboolean ok = TRUE;
  int blas_threads_before;

  g_return_val_if_fail (self != NULL && train != NULL, FALSE);
  c = &self->config;
  net = self->net;

  if (train->n_features != pl_conv_net_n_inputs (net) || train->n_classes > pl_conv_net_n_outputs (net)
      || (val != NULL && val->n > 0 && val->n_features != train->n_features))
    {
      g_set_error (error, PL_TRAIN_ERROR, PL_TRAIN_ERROR_MISMATCH,
                   _("the model takes %u inputs and has %u classes; the data has %u features and %u classes"),
                   pl_conv_net_n_inputs (net), pl_conv_net_n_outputs (net), train->n_features,
                   train->n_classes);
      return FALSE;
    }
  if (train->n == 0)
    return TRUE;

  order = g_new (guint32, train->n);
  for (guint i = 0; i < train->n; i++)
    order[i] = i;
  steps_total = (guint64) c->epochs * ((train->n + c->batch_size - 1) / c->batch_size);
  report = (PlTrainReport) { progress, user_data, c->epochs, steps_total };

  pl_conv_net_apply_masks (net);
  self->data = train;
  blas_threads_before = pl_blas_set_threads (1);

  for (guint epoch = 0; epoch < c->epochs && ok; epoch++)
    {
      PlEpochRecord rec = { .epoch = self->history->len + 1 };
      double loss_sum = 0.0;
      guint64 correct_sum = 0;
      gint64 t0 = g_get_monotonic_time ();

      memcpy (self->good[0], net->params, sizeof (float) * net->n_params);
      memcpy (self->good[1], net->head->params, sizeof (float) * net->head->n_params);
      pl_rng_shuffle (&self->rng, order, train->n);

      for (guint start = 0; start < train->n; start += c->batch_size)
        {
          double loss, grad_norm = 0.0;
          guint correct;
          float gn, lr;

          if (g_cancellable_set_error_if_cancelled (cancellable, error))
            {
              ok = FALSE;
              break;
            }

          self->batch_idx = order + start;
          self->batch_n = MIN (c->batch_size, train->n - start);
          lr = (float) pl_train_config_learning_rate (c, epoch, step, steps_total);

          if (!train_step (self, lr, &loss, &correct, &grad_norm))
            {
              memcpy (net->params, self->good[0], sizeof (float) * net->n_params);
              memcpy (net->head->params, self->good[1], sizeof (float) * net->head->n_params);
              pl_conv_net_apply_masks (net);
              g_set_error (error, PL_TRAIN_ERROR, PL_TRAIN_ERROR_DIVERGED,
                           _("training diverged: the loss became %s in epoch %u, step %llu; the weights of the epoch's start were restored (try a smaller learning rate or gradient clipping)"),
                           isnan (loss) ? "NaN" : _("infinite"), rec.epoch, (unsigned long long) (step + 1));
              ok = FALSE;
              break;
            }

          gn = (float) grad_norm;
          g_array_append_val (self->grad_norms, gn);
          loss_sum += loss * self->batch_n;
          correct_sum += correct;
          self->samples_seen += self->batch_n;
          rec.lr = lr;
          step++;

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
            ev = pl_conv_evaluate (net, val, NULL);
            pl_blas_set_threads (1);
          }
        _pl_train_finish_epoch (&report, &rec, loss_sum, correct_sum, train->n, ev, self->history, step);
      }
    }

  pl_blas_set_threads (blas_threads_before);
  self->data = NULL;
  self->batch_idx = NULL;

  return ok;
}

const GArray *
pl_conv_trainer_get_history (PlConvTrainer *self)
{
  return self->history;
}

const GArray *
pl_conv_trainer_get_grad_norms (PlConvTrainer *self)
{
  return self->grad_norms;
}

guint64
pl_conv_trainer_get_samples_seen (PlConvTrainer *self)
{
  return self->samples_seen;
}

double
pl_conv_trainer_get_train_seconds (PlConvTrainer *self)
{
  return self->train_seconds;
}
