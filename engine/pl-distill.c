#define G_LOG_DOMAIN "pl-distill"

#include "config.h"

#include "pl-distill.h"

#include <glib/gi18n-lib.h>

#include "pl-error.h"
#include "pl-nn.h"

#define CHUNK 1024

float *
pl_distill_soft_targets (const PlMlp      *teacher,
                         const PlDataset  *data,
                         double            temperature,
                         GError          **error)
{
  g_autoptr(PlNnWork) work = NULL;
  g_autofree float *targets = NULL;
  guint m;

  g_return_val_if_fail (teacher != NULL && data != NULL, NULL);
  g_return_val_if_fail (temperature > 0.0, NULL);

  m = teacher->sizes[teacher->n_layers];
  if (data->n_features != teacher->sizes[0] || data->n_classes > m)
    {
      g_set_error (error, PL_TRAIN_ERROR, PL_TRAIN_ERROR_MISMATCH,
                   _("the teacher takes %u inputs and has %u classes; the data has %u features and %u classes"),
                   teacher->sizes[0], m, data->n_features, data->n_classes);
      return NULL;
    }

  targets = g_new (float, MAX ((gsize) data->n * m, 1));
  if (data->n == 0)
    return g_steal_pointer (&targets);

  work = pl_nn_work_new (teacher, MIN (CHUNK, data->n));
  for (guint start = 0; start < data->n; start += CHUNK)
    {
      guint n = MIN (CHUNK, data->n - start);
      const float *p = pl_nn_forward (teacher, work, data->x + (gsize) start * data->n_features, n);

      for (guint s = 0; s < n; s++)
        pl_nn_soften (targets + (gsize) (start + s) * m, p + (gsize) s * m, m, temperature);
    }

  return g_steal_pointer (&targets);
}
