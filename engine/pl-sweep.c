#define G_LOG_DOMAIN "pl-sweep"

#include "config.h"

#include "pl-sweep.h"

#include <math.h>
#include <string.h>

double
pl_sweep_target (double max,
                 guint  n_points,
                 guint  i)
{
  g_return_val_if_fail (n_points >= 2 && i < n_points, 0.0);
  g_return_val_if_fail (max >= 0.0 && max <= 1.0, 0.0);

  if (i == 0)
    return 0.0;
  if (i == n_points - 1)
    return max;
  /* 1 − (1 − max)^(i/(P−1)): even steps in log "fraction remaining" */
  return 1.0 - pow (1.0 - max, (double) i / (n_points - 1));
}

gboolean
pl_sweep_run_with (PlSweepEvalFunc    eval,
                   gpointer           eval_data,
                   double             max,
                   guint              n_points,
                   PlSweepPointFunc   func,
                   gpointer           user_data,
                   GCancellable      *cancellable,
                   GError           **error)
{
  g_return_val_if_fail (eval != NULL && func != NULL, FALSE);
  g_return_val_if_fail (n_points >= 2 && max >= 0.0 && max <= 1.0, FALSE);

  for (guint step = 0; step < n_points; step++)
    {
      guint i = n_points - 1 - step;
      double target = pl_sweep_target (max, n_points, i);
      PlPreviewResult r;

      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return FALSE;
      memset (&r, 0, sizeof r);
      if (!eval (target, &r, eval_data, error))
        return FALSE;
      if (!func (i, target, &r, user_data))
        break;
    }
  return TRUE;
}

gboolean
pl_sweep_preview_eval (double            target,
                       PlPreviewResult  *result,
                       gpointer          preview,
                       GError          **error)
{
  return pl_preview_run (preview, target, FALSE, result, error);
}

gboolean
pl_sweep_run (PlPreview         *preview,
              double             max,
              guint              n_points,
              PlSweepPointFunc   func,
              gpointer           user_data,
              GCancellable      *cancellable,
              GError           **error)
{
  g_return_val_if_fail (preview != NULL, FALSE);

  return pl_sweep_run_with (pl_sweep_preview_eval, preview, max, n_points, func, user_data, cancellable, error);
}
