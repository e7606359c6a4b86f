#define G_LOG_DOMAIN "pl-eval"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <math.h>

#include "pl-error.h"
#include "pl-eval.h"
#include "pl-nn.h"

#define EVAL_CHUNK 1024

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

  ev = g_new0 (PlEvaluation, 1);
  ev->n = data->n;
  ev->n_classes = m;
  ev->class_accuracy = g_new0 (double, m);
  ev->confusion = g_new0 (guint32, (gsize) m * m);
  class_total = g_new0 (guint32, m);

  if (data->n == 0)
    {
      ev->loss = ev->accuracy = NAN;
      for (guint c = 0; c < m; c++)
        ev->class_accuracy[c] = NAN;
      return ev;
    }

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

  ev->loss = loss / data->n;
  ev->accuracy = (double) correct / data->n;
  for (guint c = 0; c < m; c++)
    ev->class_accuracy[c] = class_total[c] > 0
                            ? (double) ev->confusion[(gsize) c * m + c] / class_total[c]
                            : NAN;

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
