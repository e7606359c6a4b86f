#define G_LOG_DOMAIN "pl-engine"

#include "config.h"


#include "pl-compact.h"
#include "pl-engine-private.h"
#include "pl-safetensors.h"

#define ROUNDS 7        /* timed rounds of each form at each batch size; medians reported */
#define MAX_INPUTS 1024 /* test samples the timed forwards cycle through */

void
pl_sparse_report_free (PlSparseReport *report)
{
  if (report == NULL)
    return;

  g_free (report->compact_arch);
  g_free (report);
}

static PlSparseReport *
measure (PlEngine      *self,
         PlMlp         *model,
         const PlData  *data,
         GError       **error)
{
  g_autoptr(PlSparseReport) report = g_new0 (PlSparseReport, 1);
  g_autoptr(PlForwards) fw = NULL;
  g_autoptr(PlMlp) small = NULL;

  pl_mlp_apply_masks (model);
  /* the engine's threads, as for evaluation: the UI keeps its core */
  fw = pl_forwards_new (model, 256, self->threads);
  /* timed on the loaded data's test samples when they fit the model, as the model would run */
  if (data != NULL && data->test != NULL && data->test->n > 0 && data->n_features == model->sizes[0])
    pl_forwards_set_inputs (fw, data->test->x, MIN (data->test->n, MAX_INPUTS));
  if (!pl_latency_measure (fw, 1, ROUNDS, &report->batch1, NULL, error)
      || !pl_latency_measure (fw, 256, ROUNDS, &report->batch256, NULL, error))
    return NULL;
  small = pl_compact (model, NULL);
  report->compact_arch = pl_mlp_arch (small);

  return g_steal_pointer (&report);
}

PlEvent *
_pl_engine_sparse_run (PlEngine     *self,
                       PlCommand    *cmd,
                       const PlData *data)
{
  PlEvent *ev = g_new0 (PlEvent, 1);

  g_assert (cmd->model != NULL);
  ev->command = cmd->kind;
  ev->id = cmd->id;
  if (cmd->kind == PL_ENGINE_COMMAND_MEASURE_SPARSE)
    ev->report = measure (self, cmd->model, data, &ev->error);
  else
    {
      g_autoptr(PlMlp) small = NULL;

      g_assert (cmd->kind == PL_ENGINE_COMMAND_EXPORT_COMPACT && cmd->text != NULL);
      pl_mlp_apply_masks (cmd->model);
      small = pl_compact (cmd->model, NULL);
      pl_safetensors_save (small, cmd->text, &ev->error);
    }
  ev->ok = ev->error == NULL;

  return ev;
}
