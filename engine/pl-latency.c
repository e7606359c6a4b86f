#define G_LOG_DOMAIN "pl-latency"

#include "config.h"

#include <cblas.h>
#include <float.h>
#include <glib/gi18n-lib.h>
#include <math.h>
#include <string.h>

#include "pl-blas.h"
#include "pl-compact.h"
#include "pl-csr.h"
#include "pl-error.h"
#include "pl-latency.h"
#include "pl-metrics.h"
#include "pl-nn.h"
#include "pl-rng.h"
#include "pl-team.h"

#define MIN_SAMPLE_USEC 2000   /* a timed sample repeats the forward for at least this long */
#define RANDOM_INPUTS   256    /* samples of random inputs cycled through without set_inputs */

struct _PlForwards {
  const PlMlp *model;                     /* borrowed */
  PlMlp       *compact;                   /* owned */
  PlCsr       *csr[PL_MLP_MAX_LAYERS];    /* owned: effective weights of each layer */
  guint        max_batch;
  guint        threads;
  PlTeam      *team;                      /* owned, NULL for one thread */
  float       *scratch;                   /* owned: the CSR products' */
  float       *act[2];                    /* owned: ping-pong (max_batch, max width) */
  float       *inputs;                    /* owned: (n_inputs, n_in), or NULL for random */
  guint        n_inputs;
  PlMetrics    metrics;
};

const char *
pl_forward_kind_to_string (PlForwardKind kind)
{
  static const char *names[] = { "dense", "csr", "compacted" };

  g_return_val_if_fail (kind < PL_N_FORWARDS, NULL);
  return names[kind];
}

PlForwards *
pl_forwards_new (const PlMlp *model,
                 guint        max_batch,
                 guint        threads)
{
  PlForwards *self;
  gsize scratch = 0;
  guint wmax = 0;

  g_return_val_if_fail (model != NULL && max_batch > 0 && threads > 0, NULL);

  self = g_new0 (PlForwards, 1);
  self->model = model;
  self->max_batch = max_batch;
  self->threads = threads;
  self->compact = pl_compact (model, NULL);
  if (threads > 1)
    self->team = pl_team_new (threads);
  for (guint i = 0; i < model->n_layers; i++)
    {
      const PlLayer *l = &model->layers[i];

      self->csr[i] = pl_csr_new_from_dense (l->w, l->w_mask,
                                            i + 1 < model->n_layers ? l->neuron_mask : NULL,
                                            i > 0 ? model->layers[i - 1].neuron_mask : NULL,
                                            l->n_out, l->n_in);
      g_assert (self->csr[i] != NULL);  /* a PlMlp layer has fewer than 2³¹ weights in practice */
      pl_csr_add_columns (self->csr[i]);
      scratch = MAX (scratch, pl_csr_scratch_floats (self->csr[i], threads));
    }
  for (guint i = 0; i <= model->n_layers; i++)
    wmax = MAX (wmax, model->sizes[i]);
  self->scratch = g_new (float, scratch);
  self->act[0] = g_new0 (float, (gsize) max_batch * wmax);
  self->act[1] = g_new0 (float, (gsize) max_batch * wmax);
  pl_metrics_compute (&self->metrics, model, NULL, NULL, NULL);

  return self;
}

void
pl_forwards_free (PlForwards *self)
{
  if (self == NULL)
    return;

  for (guint i = 0; i < self->model->n_layers; i++)
    pl_csr_free (self->csr[i]);
  pl_mlp_free (self->compact);
  pl_team_free (self->team);
  g_free (self->scratch);
  g_free (self->act[0]);
  g_free (self->act[1]);
  g_free (self->inputs);
  g_free (self);
}

void
pl_forwards_set_inputs (PlForwards  *self,
                        const float *x,
                        guint        n)
{
  g_return_if_fail (self != NULL && (n == 0 || x != NULL));

  g_clear_pointer (&self->inputs, g_free);
  self->n_inputs = n;
  if (n > 0)
    self->inputs = g_memdup2 (x, sizeof (float) * n * self->model->sizes[0]);
}

const float *
pl_forwards_run (PlForwards    *self,
                 PlForwardKind  kind,
                 const float   *x,
                 guint          n)
{
  const PlMlp *m = kind == PL_FORWARD_COMPACT ? self->compact : self->model;
  const float *in = x;
  float *out = NULL;

  g_return_val_if_fail (n > 0 && n <= self->max_batch && kind < PL_N_FORWARDS, NULL);

  for (guint i = 0; i < m->n_layers; i++)
    {
      const PlLayer *l = &m->layers[i];

      out = self->act[i & 1];
      /* out (n, n_out) = in (n, n_in) · Wᵀ */
      /* one sample: each layer by pl_csr_mv, or by sgemv when pl-csr.h's cost model expects the
       * dense product on this input to be faster (a small, dense-ish last layer) */
      if (kind == PL_FORWARD_CSR && n == 1 && !pl_csr_mv_pays (self->csr[i], in))
        cblas_sgemv (CblasRowMajor, CblasNoTrans, l->n_out, l->n_in,
                     1.0f, l->w, l->n_in, in, 1, 0.0f, out, 1);
      else if (kind == PL_FORWARD_CSR)
        {
          if (n == 1)
            pl_csr_mv (out, self->csr[i], in);
          else
            pl_csr_mm (out, self->csr[i], in, n, self->team, self->scratch);
        }
      else if (n == 1)
        cblas_sgemv (CblasRowMajor, CblasNoTrans, l->n_out, l->n_in,
                     1.0f, l->w, l->n_in, in, 1, 0.0f, out, 1);
      else
        cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, n, l->n_out, l->n_in,
                     1.0f, in, l->n_in, l->w, l->n_in, 0.0f, out, l->n_out);

      if (i + 1 < m->n_layers)
        pl_nn_bias_activate (out, l->n_out, l->b, l->neuron_mask, n, l->n_out, m->activation);
      else
        pl_nn_bias_softmax (out, l->b, n, l->n_out);
      in = out;
    }

  return out;
}

static int
compare_double (gconstpointer a,
                gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return (x > y) - (x < y);
}

gboolean
pl_latency_measure (PlForwards    *self,
                    guint          batch,
                    guint          rounds,
                    PlLatency     *result,
                    GCancellable  *cancellable,
                    GError       **error)
{
  const PlMlp *m = self->model;
  guint n_in = m->sizes[0], n_out = m->sizes[m->n_layers];
  g_autofree float *x = NULL;
  g_autofree float *ref = NULL;
  g_autofree double *ms = NULL;
  guint reps[PL_N_FORWARDS];
  double flops_compact = 0.0, bytes_masked = 0.0, worst = 0.0, top = 0.0;
  int blas_before;
  guint pool, starts;
  PlRng rng;

  g_return_val_if_fail (batch > 0 && batch <= self->max_batch && rounds > 0, FALSE);

  /* a pool of at least one batch, cycled through: the inputs given, repeated if fewer */
  pool = MAX (batch, self->n_inputs > 0 ? self->n_inputs : RANDOM_INPUTS);
  x = g_new (float, (gsize) pool * n_in);
  pl_rng_init (&rng, 15);
  for (guint s = 0; s < pool; s++)
    if (self->n_inputs > 0)
      memcpy (x + (gsize) s * n_in, self->inputs + (gsize) (s % self->n_inputs) * n_in,
              sizeof (float) * n_in);
    else
      for (guint j = 0; j < n_in; j++)
        x[(gsize) s * n_in + j] = (float) pl_rng_uniform (&rng);
  blas_before = pl_blas_set_threads ((int) self->threads);

  /* the check: CSR and compacted against dense */
  ref = g_memdup2 (pl_forwards_run (self, PL_FORWARD_DENSE, x, batch), sizeof (float) * batch * n_out);
  for (gsize k = 0; k < (gsize) batch * n_out; k++)
    top = MAX (top, fabs (ref[k]));
  for (PlForwardKind kind = PL_FORWARD_CSR; kind < PL_N_FORWARDS; kind++)
    {
      const float *p = pl_forwards_run (self, kind, x, batch);

      for (gsize k = 0; k < (gsize) batch * n_out; k++)
        worst = MAX (worst, fabs (p[k] - ref[k]) / MAX (top, FLT_MIN));
    }
  if (!(worst <= 1e-4))
    {
      pl_blas_set_threads (blas_before);
      g_set_error (error, PL_TRAIN_ERROR, PL_TRAIN_ERROR_FAILED,
                   _("the sparse forward passes differ from the dense one by %.2g"), worst);
      return FALSE;
    }

  starts = pool - batch + 1;
  /* how many forwards make a sample of MIN_SAMPLE_USEC, from one timed call each */
  for (PlForwardKind kind = 0; kind < PL_N_FORWARDS; kind++)
    {
      gint64 t0 = g_get_monotonic_time (), dt;

      pl_forwards_run (self, kind, x, batch);
      dt = MAX (g_get_monotonic_time () - t0, 1);
      reps[kind] = (guint) CLAMP (MIN_SAMPLE_USEC / dt + 1, 1, 100000);
    }

  ms = g_new (double, (gsize) rounds * PL_N_FORWARDS);
  for (guint r = 0; r < rounds; r++)
    for (PlForwardKind kind = 0; kind < PL_N_FORWARDS; kind++)
      {
        gint64 t0;

        if (g_cancellable_set_error_if_cancelled (cancellable, error))
          {
            pl_blas_set_threads (blas_before);
            return FALSE;
          }
        t0 = g_get_monotonic_time ();
        for (guint k = 0; k < reps[kind]; k++)
          pl_forwards_run (self, kind, x + (gsize) ((guint64) k * batch % starts) * n_in, batch);
        ms[(gsize) kind * rounds + r] = (g_get_monotonic_time () - t0) / 1e3 / reps[kind];
      }
  pl_blas_set_threads (blas_before);

  for (guint i = 0; i < self->compact->n_layers; i++)
    flops_compact += 2.0 * self->compact->layers[i].n_out * self->compact->layers[i].n_in;
  for (guint i = 0; i < m->n_layers; i++)
    bytes_masked += 4.0 * (2.0 * m->layers[i].n_out * m->layers[i].n_in + m->layers[i].n_out);

  *result = (PlLatency) {
    .batch = batch,
    .threads = self->threads,
    .flops = { batch * self->metrics.total.flops_dense, batch * self->metrics.total.flops_effective,
               batch * flops_compact },
    .bytes = { bytes_masked, self->metrics.total.bytes_csr, self->metrics.total.bytes_compact },
    .worst_difference = worst,
    .rounds = rounds,
  };
  for (PlForwardKind kind = 0; kind < PL_N_FORWARDS; kind++)
    {
      double *v = ms + (gsize) kind * rounds;

      qsort (v, rounds, sizeof (double), compare_double);
      result->ms[kind] = rounds % 2 ? v[rounds / 2] : 0.5 * (v[rounds / 2 - 1] + v[rounds / 2]);
    }

  return TRUE;
}
