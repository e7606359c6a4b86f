/* pl-engine-obs.c — the prune-obs command: Optimal Brain Surgeon with layer-wise reconstruction
 * (pl-obs.h) on the engine's model, published as a prune step that undo reverts
 */
#define G_LOG_DOMAIN "pl-engine"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "pl-engine-worker-private.h"
#include "pl-obs.h"

/* pl_obs_prune's share of its work, published at most every PUBLISH_USEC. */
static void
obs_progress (double   fraction,
              gpointer data)
{
  PlWorker *w = data;

  _pl_worker_set_state (w, PL_ENGINE_STATE_BUSY, PL_ENGINE_COMMAND_PRUNE_OBS, fraction);
  if (g_get_monotonic_time () - w->publish_time >= PUBLISH_USEC)
    _pl_worker_publish (w);
}

/* The layer sparsities from the strategy's scope at @cmd->value (pl_obs_layer_sparsities),
 * then pl_obs_prune on a copy of the model with the training split as calibration data; the
 * copy replaces the model only when it finished, so that a failure or a stop leaves the model
 * as it was. */
void
_pl_worker_do_prune_obs (PlWorker  *w,
                         PlCommand *cmd)
{
  g_autoptr(PlMlp) pruned = NULL;
  PlObsOptions options = PL_OBS_OPTIONS_INIT;
  double sparsity[PL_MLP_MAX_LAYERS];
  GError *error = NULL;
  PlPruneSpec spec;
  gboolean ok;
  int blas;

  if (w->data == NULL)
    {
      _pl_worker_fail (w, cmd, PL_ENGINE_ERROR, PL_ENGINE_ERROR_NO_DATA,
                       _("load a dataset before pruning with reconstruction"));
      return;
    }
  if (w->model == NULL)
    {
      _pl_worker_fail (w, cmd, PL_ENGINE_ERROR, PL_ENGINE_ERROR_NO_MODEL, _("there is no model to prune"));
      return;
    }

  pl_strategy_to_prune_spec (&w->draft->strategy, &spec, FALSE, cmd->value);
  /* OBS chooses its own weights: the strategy's score, inversion and N:M do not apply */
  spec.invert = FALSE;
  spec.nm_n = spec.nm_m = 0;
  w->cancellable = cmd->cancellable;
  w->running = TRUE;
  _pl_worker_set_state (w, PL_ENGINE_STATE_BUSY, cmd->kind, 0.0);
  _pl_worker_publish (w);

  pruned = pl_mlp_copy (w->model);
  options.cancellable = cmd->cancellable;
  options.progress = obs_progress;
  options.progress_data = w;
  blas = _pl_worker_blas_begin (w);
  ok = pl_obs_layer_sparsities (pruned, &spec, sparsity, &error)
       && pl_obs_prune (pruned, w->data->train, sparsity, &options, &error);
  _pl_worker_blas_end (blas);
  if (!ok && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_clear_error (&error);   /* stopped: the model stays as it was */
  if (ok)
    {
      _pl_worker_push_undo (w);
      g_free (w->dense_params);
      w->dense_params = g_memdup2 (w->model->params, sizeof (float) * w->model->n_params);
      memcpy (w->model->params, pruned->params, sizeof (float) * pruned->n_params);
      memcpy (w->model->masks, pruned->masks, sizeof (float) * pruned->n_params);
      memcpy (w->model->neuron_masks, pruned->neuron_masks, sizeof (float) * pruned->n_neurons);
      _pl_worker_clear_preview (w);
      _pl_worker_touch (w, DIRTY_MODEL);
    }

  w->running = FALSE;
  w->cancellable = NULL;
  if (w->held_preview != NULL)
    _pl_worker_handle (w, g_steal_pointer (&w->held_preview));
  _pl_worker_set_state (w, PL_ENGINE_STATE_IDLE, PL_ENGINE_COMMAND_NONE, -1.0);
  _pl_worker_publish (w);
  _pl_worker_finish (w, cmd, error);
}
