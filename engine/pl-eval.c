#define G_LOG_DOMAIN "pl-eval"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <math.h>
#include <string.h>

#include "pl-error.h"
#include "pl-eval.h"
#include "pl-nn.h"

#define EVAL_CHUNK 1024
/* im2col of 256 LeNet-5 samples is 20 MB */
#define CONV_EVAL_CHUNK 256

/* The confusion matrix and class counts of a chunk's probabilities p (n, m). */
static void
count_predictions (PlEvaluation  *ev,
                   guint32       *class_total,
                   const float   *p,
                   const guint32 *y,
                   guint          n)
{
  guint m = ev->n_classes;

  for (guint s = 0; s < n; s++)
    {
      const float *row = p + (gsize) s * m;
      guint best = 0;

      for (guint j = 1; j < m; j++)
        if (row[j] > row[best])
          best = j;
      ev->confusion[(gsize) y[s] * m + best]++;
      class_total[y[s]]++;
    }
}

static PlEvaluation *
evaluation_new (guint n,
                guint m)
{
  PlEvaluation *ev = g_new0 (PlEvaluation, 1);

  ev->n = n;
  ev->n_classes = m;
  ev->class_accuracy = g_new0 (double, m);
  ev->confusion = g_new0 (guint32, (gsize) m * m);
  if (n == 0)
    {
      ev->loss = ev->accuracy = NAN;
      for (guint c = 0; c < m; c++)
        ev->class_accuracy[c] = NAN;
    }
  return ev;
}

static void
finish (PlEvaluation  *ev,
        const guint32 *class_total,
        double         loss_sum,
        guint          correct)
{
  guint m = ev->n_classes;

  ev->loss = loss_sum / ev->n;
  ev->accuracy = (double) correct / ev->n;
  for (guint c = 0; c < m; c++)
    ev->class_accuracy[c] = class_total[c] > 0
                            ? (double) ev->confusion[(gsize) c * m + c] / class_total[c]
                            : NAN;
}

PlEvaluation *
pl_evaluate (const PlMlp      *model,
             const PlDataset  *data,
             GError          **error)
{
  g_autoptr(PlNnWork) work = NULL;
  g_autofree guint32 *class_total = NULL;
  PlEvaluation *ev;
  guint m;
  double loss = 0.0;
  guint correct = 0;

  g_return_val_if_fail (model != NULL && data != NULL, NULL);

  m = model->sizes[model->n_layers];
  if (data->n_features != model->sizes[0] || data->n_classes > m)
    {
      g_set_error (error, PL_TRAIN_ERROR, PL_TRAIN_ERROR_MISMATCH,
                   _("the model takes %u inputs and has %u classes; the data has %u features and %u classes"),
                   model->sizes[0], m, data->n_features, data->n_classes);
      return NULL;
    }

  ev = evaluation_new (data->n, m);
  if (data->n == 0)
    return ev;
  class_total = g_new0 (guint32, m);

  work = pl_nn_work_new (model, MIN (EVAL_CHUNK, data->n));
  for (guint start = 0; start < data->n; start += EVAL_CHUNK)
    {
      guint n = MIN (EVAL_CHUNK, data->n - start);
      const guint32 *y = data->y + start;
      const float *p;
      guint chunk_correct;

      p = pl_nn_forward (model, work, data->x + (gsize) start * data->n_features, n);
      loss += pl_nn_loss (model, work, y, n, &chunk_correct) * n;
      correct += chunk_correct;

      count_predictions (ev, class_total, p, y, n);
    }

  finish (ev, class_total, loss, correct);
  return ev;
}

PlEvaluation *
pl_conv_evaluate (const PlConvNet  *net,
                  const PlDataset  *data,
                  GError          **error)
{
  g_autoptr(PlConvWork) work = NULL;
  g_autofree guint32 *class_total = NULL;
  PlEvaluation *ev;
  guint m, n_in;
  double loss = 0.0;
  guint correct = 0;

  g_return_val_if_fail (net != NULL && data != NULL, NULL);

  m = pl_conv_net_n_outputs (net);
  n_in = pl_conv_net_n_inputs (net);
  if (data->n_features != n_in || data->n_classes > m)
    {
      g_set_error (error, PL_TRAIN_ERROR, PL_TRAIN_ERROR_MISMATCH,
                   _("the model takes %u inputs and has %u classes; the data has %u features and %u classes"),
                   n_in, m, data->n_features, data->n_classes);
      return NULL;
    }

  ev = evaluation_new (data->n, m);
  if (data->n == 0)
    return ev;
  class_total = g_new0 (guint32, m);

  work = pl_conv_work_new (net, MIN (CONV_EVAL_CHUNK, data->n));
  for (guint start = 0; start < data->n; start += CONV_EVAL_CHUNK)
    {
      guint n = MIN (CONV_EVAL_CHUNK, data->n - start);
      const guint32 *y = data->y + start;
      const float *p;
      guint chunk_correct;

      p = pl_conv_forward (net, work, data->x + (gsize) start * n_in, n);
      loss += pl_conv_loss (net, work, y, n, &chunk_correct) * n;
      correct += chunk_correct;
      count_predictions (ev, class_total, p, y, n);
    }

  finish (ev, class_total, loss, correct);
  return ev;
}

void
pl_evaluation_free (PlEvaluation *self)
{
  if (self == NULL)
    return;

  g_free (self->class_accuracy);
  g_free (self->confusion);
  g_free (self);
}

/* ---- decision grids ---------------------------------------------------------------------- */

#define GRID_CHUNK 1024   /* cells per forward pass */

void
pl_decision_region (const PlDataset * const *sets,
                    guint                    n_sets,
                    double                  *x0,
                    double                  *x1,
                    double                  *y0,
                    double                  *y1)
{
  double lo_x = INFINITY, hi_x = -INFINITY, lo_y = INFINITY, hi_y = -INFINITY, pad;

  g_return_if_fail (x0 != NULL && x1 != NULL && y0 != NULL && y1 != NULL);

  for (guint k = 0; k < n_sets; k++)
    {
      const PlDataset *d = sets[k];

      if (d == NULL || d->n_features != 2)
        continue;
      for (guint s = 0; s < d->n; s++)
        {
          lo_x = MIN (lo_x, d->x[2 * s]);
          hi_x = MAX (hi_x, d->x[2 * s]);
          lo_y = MIN (lo_y, d->x[2 * s + 1]);
          hi_y = MAX (hi_y, d->x[2 * s + 1]);
        }
    }
  if (!(hi_x >= lo_x) || !(hi_y >= lo_y))
    {
      *x0 = *x1 = *y0 = *y1 = 0.0;
      return;
    }
  pad = 0.05 * MAX (hi_x - lo_x, hi_y - lo_y) + 1e-3;
  *x0 = lo_x - pad;
  *x1 = hi_x + pad;
  *y0 = lo_y - pad;
  *y1 = hi_y + pad;
}

PlDecisionGrid *
pl_decision_grid (const PlMlp *model,
                  guint        size,
                  double       x0,
                  double       x1,
                  double       y0,
                  double       y1)
{
  g_autoptr(PlNnWork) work = NULL;
  g_autofree float *x = NULL;
  PlDecisionGrid *grid;
  guint n, k;

  g_return_val_if_fail (model != NULL && model->sizes[0] == 2 && size > 0, NULL);

  n = size * size;
  k = model->sizes[model->n_layers];
  grid = g_new0 (PlDecisionGrid, 1);
  *grid = (PlDecisionGrid) { size, x0, x1, y0, y1, k, g_new (float, (gsize) n * k) };
  x = g_new (float, (gsize) 2 * n);
  for (guint i = 0; i < size; i++)
    for (guint j = 0; j < size; j++)
      {
        /* cell centres */
        x[2 * (i * size + j)] = (float) (x0 + (j + 0.5) * (x1 - x0) / size);
        x[2 * (i * size + j) + 1] = (float) (y0 + (i + 0.5) * (y1 - y0) / size);
      }

  work = pl_nn_work_new (model, GRID_CHUNK);
  for (guint start = 0; start < n; start += GRID_CHUNK)
    {
      guint c = MIN (GRID_CHUNK, n - start);
      const float *p = pl_nn_forward (model, work, x + (gsize) start * 2, c);

      memcpy (grid->prob + (gsize) start * k, p, sizeof (float) * c * k);
    }
  return grid;
}

void
pl_decision_grid_free (PlDecisionGrid *grid)
{
  if (grid == NULL)
    return;
  g_free (grid->prob);
  g_free (grid);
}

void
pl_decision_argmax (guint32     *cls,
                    float       *conf,
                    const float *prob,
                    gsize        n_cells,
                    guint        n_out)
{
  g_return_if_fail (prob != NULL || n_cells == 0);

  for (gsize k = 0; k < n_cells; k++)
    {
      const float *row = prob + k * n_out;
      guint best = 0;

      for (guint j = 1; j < n_out; j++)
        if (row[j] > row[best])
          best = j;
      if (cls != NULL)
        cls[k] = best;
      if (conf != NULL)
        conf[k] = row[best];
    }
}
