#define G_LOG_DOMAIN "pl-engine"

#include "config.h"

#include "pl-engine-worker-private.h"

#include <cblas.h>
#include <glib/gi18n-lib.h>
#include <math.h>
#include <string.h>

#include "pl-blas.h"
#include "pl-conv-file.h"
#include "pl-conv-schedule.h"
#include "pl-error.h"
#include "pl-eval.h"
#include "pl-metrics.h"
#include "pl-nn.h"
#include "pl-prune.h"
#include "pl-safetensors.h"
#include "pl-sweep.h"

/* The worker thread of PlEngine: its life, and the commands that are not long runs. It owns the
 * data, the model, the trainer, the scores and the previews, runs the commands in order, and
 * publishes snapshots (pl-engine-publish.c); previews and long runs are in pl-engine-run.c.
 * See pl-engine.c for the hand-over between the threads. */

void
_pl_undo_entry_free (gpointer data)
{
  UndoEntry *e = data;

  g_free (e->params);
  g_free (e->masks);
  g_free (e->neuron_masks);
  pl_conv_net_free (e->conv);
  g_free (e);
}

static void
worker_free (PlWorker *w)
{
  _pl_worker_conv_clear (w);
  _pl_worker_clear_curves (w);
  g_clear_pointer (&w->draft, pl_snapshot_unref);
  g_clear_pointer (&w->held_preview, _pl_command_free);
  pl_data_free (w->data);
  pl_mlp_free (w->model);
  pl_mlp_free (w->initial);
  g_free (w->dense_params);
  g_array_unref (w->history);
  g_array_unref (w->grad_norms);
  g_ptr_array_unref (w->undo);
  pl_scores_free (w->scores);
  pl_preview_free (w->full.preview);
  pl_preview_free (w->sub.preview);
  pl_preview_inputs_unref (w->inputs);
  pl_preview_inputs_unref (w->sub_inputs);
  g_free (w->preview_masks);
  g_free (w->preview_neuron_masks);
  g_free (w);
}

gboolean
_pl_worker_model_fits (const PlMlp  *model,
                       const PlData *data)
{
  return model->sizes[0] == data->n_features && model->sizes[model->n_layers] >= data->n_classes;
}

/* FALSE with an error naming @path (the model's file, or NULL for a new model) when @model
 * does not fit the loaded data. */
static gboolean
check_fits (PlWorker     *w,
            const PlMlp  *model,
            const char   *path,
            GError      **error)
{
  g_autofree char *arch = NULL;

  if (w->data == NULL || _pl_worker_model_fits (model, w->data))
    return TRUE;

  arch = pl_mlp_arch (model);
  if (path != NULL)
    g_set_error (error, PL_TRAIN_ERROR, PL_TRAIN_ERROR_MISMATCH,
                 _("“%s”: the model %s does not fit “%s”, which has %u features and %u classes"),
                 path, arch, w->data->name, w->data->n_features, w->data->n_classes);
  else
    g_set_error (error, PL_TRAIN_ERROR, PL_TRAIN_ERROR_MISMATCH,
                 _("architecture “%s” does not fit “%s”: it has %u features and %u classes"),
                 arch, w->data->name, w->data->n_features, w->data->n_classes);
  return FALSE;
}

/* ───────────────────────────── events ───────────────────────────── */

void
_pl_worker_post_error (PlWorker *w,
                       GError   *error)   /* transfer full */
{
  PlEvent *ev = g_new0 (PlEvent, 1);

  ev->error = error;
  _pl_engine_post (w->engine, NULL, ev);
}

/* Ends a command: its error (if any) and its done event, after the snapshot showing it. */
void
_pl_worker_finish (PlWorker        *w,
                   const PlCommand *cmd,
                   GError          *error)   /* transfer full, or NULL */
{
  PlEvent *ev = g_new0 (PlEvent, 1);

  ev->command = cmd->kind;
  ev->id = cmd->id;
  ev->ok = error == NULL;
  ev->error = error;
  _pl_engine_post (w->engine, NULL, ev);
  _pl_engine_command_done (w->engine, cmd);
}

void
_pl_worker_fail (PlWorker        *w,
                 const PlCommand *cmd,
                 GQuark           domain,
                 gint             code,
                 const char      *format,
                 ...)
{
  va_list args;
  GError *error;

  va_start (args, format);
  error = g_error_new_valist (domain, code, format, args);
  va_end (args);
  _pl_worker_finish (w, cmd, error);
}

/* ───────────────────────────── model and data ───────────────────────────── */

void
_pl_worker_reset_model_state (PlWorker *w)
{
  _pl_worker_clear_preview (w);
  _pl_worker_clear_curves (w);
  _pl_worker_clear_schedules (w);
  g_ptr_array_set_size (w->undo, 0);
  g_array_set_size (w->history, 0);
  g_array_set_size (w->grad_norms, 0);
  g_clear_pointer (&w->dense_params, g_free);
  g_clear_pointer (&w->scores, pl_scores_free);
  _pl_worker_drop_previews (w);
  w->draft->training.epoch = w->draft->training.epochs = 0;
  w->draft->training.step = w->draft->training.steps_total = 0;
  w->draft->training.batch_loss = 0.0;
  w->run_started = 0;
  w->draft->training.samples_per_second = 0.0;
  w->draft->training.fine_tune = FALSE;
  _pl_worker_touch (w, DIRTY_MODEL | DIRTY_HISTORY);
  w->changed |= PL_SNAPSHOT_CHANGED_MODEL | PL_SNAPSHOT_CHANGED_TRAINING;
}

/* Takes @model; @initial is a copy of its starting weights. */
static void
set_model (PlWorker   *w,
           PlMlp      *model,
           guint64     seed,
           const char *path)
{
  _pl_worker_conv_clear (w);
  pl_mlp_free (w->model);
  pl_mlp_free (w->initial);
  w->model = model;
  w->initial = pl_mlp_copy (model);

  /* a draft with the model's layers, none of the old one's views */
  {
    PlSnapshot *d = _pl_snapshot_copy_resized (w->draft, 0);

    pl_snapshot_unref (w->draft);
    w->draft = _pl_snapshot_copy_resized (d, model->n_layers);
    pl_snapshot_unref (d);
  }
  for (guint i = 0; i < model->n_layers; i++)
    {
      w->draft->layers[i].n_in = model->layers[i].n_in;
      w->draft->layers[i].n_out = model->layers[i].n_out;
    }
  g_free (w->draft->arch);
  w->draft->arch = pl_mlp_arch (model);
  w->draft->activation = model->activation;
  w->draft->model_seed = seed;
  g_free (w->draft->model_path);
  w->draft->model_path = g_strdup (path);
  g_free (w->preview_masks);
  g_free (w->preview_neuron_masks);
  w->preview_masks = g_new (float, model->n_params);
  w->preview_neuron_masks = g_new (float, model->n_neurons);
  _pl_worker_reset_model_state (w);
}

/* "IN-300-100-OUT" with the data's sizes. */
static PlMlp *
model_from_arch (PlWorker      *w,
                 const char    *arch,
                 PlActivation   activation,
                 GError       **error)
{
  g_auto(GStrv) parts = NULL;
  g_autofree char *resolved = NULL;

  if (arch == NULL || *arch == '\0')
    {
      if (w->data == NULL)
        {
          g_set_error (error, PL_ENGINE_ERROR, PL_ENGINE_ERROR_NO_DATA,
                       _("a default architecture needs a dataset: load one or give the layers"));
          return NULL;
        }
      arch = w->data->n_features == 2 ? "IN-64-64-OUT" : "IN-300-100-OUT";
    }

  parts = g_strsplit (arch, "-", -1);
  for (guint i = 0; parts[i] != NULL; i++)
    {
      gboolean in = g_ascii_strcasecmp (parts[i], "IN") == 0;
      gboolean out = g_ascii_strcasecmp (parts[i], "OUT") == 0;

      if (!in && !out)
        continue;
      if (w->data == NULL)
        {
          g_set_error (error, PL_SPEC_ERROR, PL_SPEC_ERROR_INVALID,
                       _("architecture “%s”: IN and OUT need a dataset"), arch);
          return NULL;
        }
      g_free (parts[i]);
      parts[i] = g_strdup_printf ("%u", in ? w->data->n_features : w->data->n_classes);
    }
  resolved = g_strjoinv ("-", parts);
  return pl_mlp_new_from_arch (resolved, activation, error);
}

static void
set_data (PlWorker *w,
          PlData   *data)   /* transfer full */
{
  const PlDataset *train = data->train;
  PlSnapshot *d = w->draft;

  pl_data_free (w->data);
  w->data = data;
  w->eval = data->val != NULL && data->val->n > 0 ? data->val : data->test;

  g_free (d->data_name);
  d->data_name = g_strdup (data->name);
  g_free (d->data_spec);
  d->data_spec = g_strdup (data->spec);
  d->n_features = data->n_features;
  d->n_classes = data->n_classes;
  d->image_width = data->image_width;
  d->image_height = data->image_height;
  g_strfreev (d->class_names);
  d->class_names = g_strdupv (data->class_names);
  d->n_train = train->n;
  d->n_val = data->val != NULL ? data->val->n : 0;
  d->n_test = data->test != NULL ? data->test->n : 0;
  d->eval_split = w->eval == data->val ? "validation" : "test";

  g_clear_pointer (&d->points, pl_bytes_unref);
  g_clear_pointer (&d->point_labels, pl_bytes_unref);
  d->grid_x0 = d->grid_x1 = d->grid_y0 = d->grid_y1 = 0.0;
  w->has_grid = data->n_features == 2 && train->n > 0;
  if (w->has_grid)
    {
      const PlDataset *sets[] = { data->train, data->val, data->test };

      d->points = g_bytes_new (train->x, sizeof (float) * 2 * train->n);
      d->point_labels = g_bytes_new (train->y, sizeof (guint32) * train->n);
      pl_decision_region (sets, G_N_ELEMENTS (sets), &d->grid_x0, &d->grid_x1, &d->grid_y0,
                          &d->grid_y1);
    }

  _pl_worker_clear_preview (w);
  _pl_worker_clear_curves (w);
  _pl_worker_drop_previews (w);
  g_clear_pointer (&w->inputs, pl_preview_inputs_unref);
  g_clear_pointer (&w->sub_inputs, pl_preview_inputs_unref);
  _pl_worker_touch (w, DIRTY_EVAL | DIRTY_GRID | DIRTY_SCORES | DIRTY_PREVIEW);
  w->changed |= PL_SNAPSHOT_CHANGED_DATA | PL_SNAPSHOT_CHANGED_GRID;

  if (w->conv != NULL && _pl_worker_conv_fits (w->conv, data))
    {
      _pl_worker_conv_data_changed (w);
      return;
    }
  if (w->model == NULL || !_pl_worker_model_fits (w->model, data))
    {
      g_autoptr(GError) error = NULL;
      PlMlp *model = model_from_arch (w, NULL, PL_ACTIVATION_RELU, &error);

      g_assert (model != NULL);
      pl_mlp_init (model, 1);
      set_model (w, model, 1, NULL);
    }
}

void
_pl_worker_push_undo (PlWorker *w)
{
  UndoEntry *e = g_new0 (UndoEntry, 1);

  if (w->conv != NULL)
    e->conv = pl_conv_net_copy (w->conv);
  else
    {
      e->params = g_memdup2 (w->model->params, sizeof (float) * w->model->n_params);
      e->masks = g_memdup2 (w->model->masks, sizeof (float) * w->model->n_params);
      e->neuron_masks = g_memdup2 (w->model->neuron_masks, sizeof (float) * w->model->n_neurons);
    }
  if (w->undo->len == UNDO_MAX)
    g_ptr_array_remove_index (w->undo, 0);
  g_ptr_array_add (w->undo, e);
  w->changed |= PL_SNAPSHOT_CHANGED_STATE;
}

/* ───────────────────────────── commands ───────────────────────────── */

static void
do_load_data (PlWorker  *w,
              PlCommand *cmd)
{
  GError *error = NULL;
  PlData *data;

  _pl_worker_set_state (w, PL_ENGINE_STATE_BUSY, cmd->kind, -1.0);
  _pl_worker_publish (w);
  if (cmd->kind == PL_ENGINE_COMMAND_SET_DATA)
    data = g_steal_pointer (&cmd->data);
  else
    data = pl_data_load (cmd->text, &cmd->data_options, &error);
  if (data != NULL)
    {
      w->data_options = cmd->kind == PL_ENGINE_COMMAND_SET_DATA
                        ? (PlDataOptions) PL_DATA_OPTIONS_INIT : cmd->data_options;
      set_data (w, data);
    }
  _pl_worker_set_state (w, PL_ENGINE_STATE_IDLE, PL_ENGINE_COMMAND_NONE, -1.0);
  _pl_worker_publish (w);
  _pl_worker_finish (w, cmd, error);
}

static void
do_new_model (PlWorker  *w,
              PlCommand *cmd)
{
  GError *error = NULL;
  PlMlp *model;

  if (cmd->text != NULL && pl_conv_arch_is_conv (cmd->text))
    {
      PlConvNet *net = pl_conv_net_new_from_arch (cmd->text, cmd->activation, &error);

      if (net != NULL && !_pl_worker_check_conv_fits (w, net, NULL, &error))
        g_clear_pointer (&net, pl_conv_net_free);
      if (net != NULL)
        {
          pl_conv_net_init (net, cmd->seed);
          _pl_worker_set_conv (w, net, cmd->seed, NULL);
          _pl_worker_publish (w);
        }
      _pl_worker_finish (w, cmd, error);
      return;
    }
  model = model_from_arch (w, cmd->text, cmd->activation, &error);
  if (model != NULL && !check_fits (w, model, NULL, &error))
    g_clear_pointer (&model, pl_mlp_free);
  if (model != NULL)
    {
      pl_mlp_init (model, cmd->seed);
      set_model (w, model, cmd->seed, NULL);
      _pl_worker_publish (w);
    }
  _pl_worker_finish (w, cmd, error);
}

static void
do_load_model (PlWorker  *w,
               PlCommand *cmd)
{
  GError *error = NULL;
  PlMlp *model;

  _pl_worker_set_state (w, PL_ENGINE_STATE_BUSY, cmd->kind, -1.0);
  _pl_worker_publish (w);
  if (pl_conv_file_is_conv (cmd->text))
    {
      PlConvNet *net = pl_conv_net_load (cmd->text, &error);

      if (net != NULL && !_pl_worker_check_conv_fits (w, net, cmd->text, &error))
        g_clear_pointer (&net, pl_conv_net_free);
      if (net != NULL)
        _pl_worker_set_conv (w, net, 0, cmd->text);
    }
  else
    {
      model = pl_safetensors_load (cmd->text, &error);
      if (model != NULL && !check_fits (w, model, cmd->text, &error))
        g_clear_pointer (&model, pl_mlp_free);
      if (model != NULL)
        set_model (w, model, 0, cmd->text);
    }
  _pl_worker_set_state (w, PL_ENGINE_STATE_IDLE, PL_ENGINE_COMMAND_NONE, -1.0);
  _pl_worker_publish (w);
  _pl_worker_finish (w, cmd, error);
}

static void
do_save_model (PlWorker  *w,
               PlCommand *cmd)
{
  GError *error = NULL;

  if (w->model == NULL && w->conv == NULL)
    {
      _pl_worker_fail (w, cmd, PL_ENGINE_ERROR, PL_ENGINE_ERROR_NO_MODEL, _("there is no model to save"));
      return;
    }
  if (w->conv != NULL ? pl_conv_net_save (w->conv, cmd->text, &error)
                      : pl_safetensors_save (w->model, cmd->text, &error))
    {
      g_free (w->draft->model_path);
      w->draft->model_path = g_strdup (cmd->text);
      w->changed |= PL_SNAPSHOT_CHANGED_STATE;
      _pl_worker_publish (w);
    }
  _pl_worker_finish (w, cmd, error);
}

/* ---- sessions (pl-session.h) ---- */

static void
do_load_session (PlWorker  *w,
                 PlCommand *cmd)
{
  PlSession *s = cmd->session;
  GError *error = NULL;
  PlData *data;
  guint threads = w->config.threads;
  g_autoptr(GError) ignored = NULL;

  _pl_worker_set_state (w, PL_ENGINE_STATE_BUSY, cmd->kind, -1.0);
  _pl_worker_publish (w);
  data = pl_data_load (s->data_spec, &s->data_options, &error);
  if (data != NULL && !pl_session_check_data (s, data, cmd->text, &error))
    g_clear_pointer (&data, pl_data_free);
  if (data != NULL)
    {
      w->data_options = s->data_options;
      set_data (w, data);
      set_model (w, g_steal_pointer (&s->model), s->model_seed, NULL);
      /* the rewind weights; set_model() took a copy of the model's */
      memcpy (w->initial->params, s->initial->params, sizeof (float) * w->initial->n_params);
      w->config = s->train;
      w->config.threads = threads;
      g_array_append_vals (w->history, s->history->data, s->history->len);
      g_array_append_vals (w->grad_norms, s->grad_norms->data, s->grad_norms->len);
      _pl_worker_clear_curves (w);
      for (guint i = 0; i < s->curves->len && w->draft->n_curves < PL_SWEEP_MAX_CURVES; i++)
        {
          PlSessionCurve *c = &g_array_index (s->curves, PlSessionCurve, i);
          guint k = w->draft->n_curves++;

          w->draft->curves[k].score = c->score;
          w->draft->curves[k].seed = c->seed;
          w->draft->curves[k].points = NULL;   /* made from curve_points at the publish */
          w->curve_points[k] = g_array_ref (c->points);
        }
      w->draft->strategy = s->strategy;
      _pl_worker_touch (w, DIRTY_SCORES | DIRTY_PREVIEW | DIRTY_HISTORY | DIRTY_CURVES);
      if (!_pl_worker_ensure_scores (w, &ignored))
        {
          g_clear_pointer (&w->scores, pl_scores_free);
          _pl_worker_clear_score_bytes (w);
          w->dirty &= ~DIRTY_SCORES;
        }
      w->changed |= PL_SNAPSHOT_CHANGED_SCORES | PL_SNAPSHOT_CHANGED_SWEEP;
    }
  _pl_worker_set_state (w, PL_ENGINE_STATE_IDLE, PL_ENGINE_COMMAND_NONE, -1.0);
  _pl_worker_publish (w);
  _pl_worker_finish (w, cmd, error);
}

static void
do_save_session (PlWorker  *w,
                 PlCommand *cmd)
{
  PlSession *s = cmd->session;
  GError *error = NULL;

  if (w->model == NULL || w->data == NULL)
    {
      _pl_worker_fail (w, cmd, PL_ENGINE_ERROR,
                       w->data == NULL ? PL_ENGINE_ERROR_NO_DATA : PL_ENGINE_ERROR_NO_MODEL,
                       _("a session needs data and a model"));
      return;
    }

  pl_session_set_model (s, pl_mlp_copy (w->model), pl_mlp_copy (w->initial));
  pl_session_set_data (s, w->data, &w->data_options);
  s->model_seed = w->draft->model_seed;
  s->train = w->config;
  g_array_append_vals (s->history, w->history->data, w->history->len);
  g_array_append_vals (s->grad_norms, w->grad_norms->data, w->grad_norms->len);
  for (guint i = 0; i < w->draft->n_curves; i++)
    if (w->curve_points[i] != NULL)
      pl_session_add_curve (s, w->draft->curves[i].score, w->draft->curves[i].seed,
                            (const PlSweepPoint *) w->curve_points[i]->data,
                            w->curve_points[i]->len);
  s->strategy = w->draft->strategy;

  pl_session_save (s, cmd->text, &error);
  _pl_worker_finish (w, cmd, error);
}

static void
do_set_strategy (PlWorker  *w,
                 PlCommand *cmd)
{
  g_autoptr(GError) ignored = NULL;

  w->draft->strategy = cmd->strategy;
  _pl_worker_clear_preview (w);
  _pl_worker_drop_previews (w);
  _pl_worker_touch (w, DIRTY_SCORES | DIRTY_PREVIEW);
  /* scores now, also while training: the histogram shows them */
  if (!_pl_worker_ensure_scores (w, &ignored))
    {
      g_clear_pointer (&w->scores, pl_scores_free);
      _pl_worker_clear_score_bytes (w);
      w->dirty &= ~DIRTY_SCORES;
    }
  w->changed |= PL_SNAPSHOT_CHANGED_SCORES;
  _pl_worker_publish (w);
  _pl_worker_finish (w, cmd, NULL);
}

static void
do_clear_preview (PlWorker  *w,
                  PlCommand *cmd)
{
  _pl_worker_clear_preview (w);
  _pl_worker_publish (w);
  _pl_worker_finish (w, cmd, NULL);
}

static void
do_apply_prune (PlWorker  *w,
                PlCommand *cmd)
{
  GError *error = NULL;
  PlPruneSpec spec;
  UndoEntry *top;

  if (w->model == NULL)
    {
      _pl_worker_fail (w, cmd, PL_ENGINE_ERROR, PL_ENGINE_ERROR_NO_MODEL, _("there is no model to prune"));
      return;
    }
  /* the newest preview asked for: the worker took every request sent before this command */
  if (!w->draft->has_preview)
    {
      _pl_worker_fail (w, cmd, PL_ENGINE_ERROR, PL_ENGINE_ERROR_NO_PREVIEW,
                       _("nothing to prune with: preview a threshold or sparsity first"));
      return;
    }
  if (!_pl_worker_ensure_scores (w, &error))
    {
      _pl_worker_finish (w, cmd, error);
      return;
    }

  _pl_worker_push_undo (w);
  pl_strategy_to_prune_spec (&w->draft->strategy, &spec, w->preview_by_threshold, w->preview_value);
  if (!pl_prune_apply (w->model, w->scores, &spec, &error))
    {
      top = g_ptr_array_steal_index (w->undo, w->undo->len - 1);
      memcpy (w->model->params, top->params, sizeof (float) * w->model->n_params);
      memcpy (w->model->masks, top->masks, sizeof (float) * w->model->n_params);
      memcpy (w->model->neuron_masks, top->neuron_masks, sizeof (float) * w->model->n_neurons);
      _pl_undo_entry_free (top);
      _pl_worker_finish (w, cmd, error);
      return;
    }
  top = g_ptr_array_index (w->undo, w->undo->len - 1);
  g_free (w->dense_params);
  w->dense_params = g_memdup2 (top->params, sizeof (float) * w->model->n_params);

  _pl_worker_clear_preview (w);
  _pl_worker_touch (w, DIRTY_MODEL);
  _pl_worker_publish (w);
  _pl_worker_finish (w, cmd, NULL);
}

static void
do_undo (PlWorker  *w,
         PlCommand *cmd)
{
  UndoEntry *e;

  if (w->model == NULL || w->undo->len == 0)
    {
      _pl_worker_fail (w, cmd, PL_ENGINE_ERROR, PL_ENGINE_ERROR_NOTHING_TO_UNDO, _("there is nothing to undo"));
      return;
    }
  e = g_ptr_array_steal_index (w->undo, w->undo->len - 1);
  memcpy (w->model->params, e->params, sizeof (float) * w->model->n_params);
  memcpy (w->model->masks, e->masks, sizeof (float) * w->model->n_params);
  memcpy (w->model->neuron_masks, e->neuron_masks, sizeof (float) * w->model->n_neurons);
  _pl_undo_entry_free (e);
  if (pl_mlp_n_pruned (w->model) == 0)
    g_clear_pointer (&w->dense_params, g_free);

  _pl_worker_clear_preview (w);
  _pl_worker_touch (w, DIRTY_MODEL);
  w->changed |= PL_SNAPSHOT_CHANGED_STATE;
  _pl_worker_publish (w);
  _pl_worker_finish (w, cmd, NULL);
}

static void
do_rewind (PlWorker  *w,
           PlCommand *cmd)
{
  if (w->model == NULL)
    {
      _pl_worker_fail (w, cmd, PL_ENGINE_ERROR, PL_ENGINE_ERROR_NO_MODEL, _("there is no model to rewind"));
      return;
    }
  _pl_worker_push_undo (w);
  memcpy (w->model->params, w->initial->params, sizeof (float) * w->model->n_params);
  pl_mlp_apply_masks (w->model);
  _pl_worker_clear_preview (w);
  _pl_worker_touch (w, DIRTY_MODEL);
  _pl_worker_publish (w);
  _pl_worker_finish (w, cmd, NULL);
}

/* ───────────────────────────── procedures ───────────────────────────── */

typedef struct {
  PlWorker *w;
  PlMethod  method;
  GArray   *points;   /* PlSchedulePoint: the ones pl_schedule_run appended so far */
} ScheduleRun;

static void
on_schedule_progress (const PlScheduleProgress *p,
                      gpointer                  user_data)
{
  ScheduleRun *run = user_data;
  PlWorker *w = run->w;

  /* pl_schedule_run appended the point to run->points before telling */
  if (p->point != NULL)
    {
      g_clear_pointer (&w->draft->schedules[run->method], pl_bytes_unref);
      w->draft->schedules[run->method] = g_bytes_new (run->points->data,
                                               run->points->len * sizeof (PlSchedulePoint));
      w->changed |= PL_SNAPSHOT_CHANGED_SWEEP;
    }
  if (p->train != NULL)
    _pl_worker_set_state (w, PL_ENGINE_STATE_BUSY, PL_ENGINE_COMMAND_SCHEDULE,
                          p->train->steps_total > 0 ? (double) p->train->step / p->train->steps_total : -1.0);
  if (g_get_monotonic_time () - w->publish_time >= PUBLISH_USEC)
    _pl_worker_publish (w);
}

/* The procedure reads the model and the data (borrowed, unchanged) on this thread; nothing
 * else runs meanwhile: commands wait in the queue, and stop cancels. */
static void
do_schedule (PlWorker  *w,
             PlCommand *cmd)
{
  g_autoptr(GArray) points = g_array_new (FALSE, FALSE, sizeof (PlSchedulePoint));
  PlMlp *last = NULL;
  PlConvNet *last_conv = NULL;
  GError *error = NULL;
  PlScheduleConfig config = *cmd->schedule;
  ScheduleRun run = { w, cmd->method, points };
  gboolean ok;
  int blas;

  if (w->data == NULL)
    {
      _pl_worker_fail (w, cmd, PL_ENGINE_ERROR, PL_ENGINE_ERROR_NO_DATA,
                       _("load a dataset before a procedure"));
      return;
    }
  if (w->model == NULL && w->conv == NULL)
    {
      _pl_worker_fail (w, cmd, PL_ENGINE_ERROR, PL_ENGINE_ERROR_NO_MODEL,
                       _("make a model before a procedure"));
      return;
    }
  if (w->conv != NULL && !pl_conv_schedule_supported (cmd->method))
    {
      _pl_worker_fail (w, cmd, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                       _("the procedure “%s” trains or gates dense layers only; a convolutional network runs oneshot and iterative"),
                       pl_method_info (cmd->method)->name);
      return;
    }
  /* the lottery ticket of this model: back to its own initial weights */
  if (w->model != NULL && config.rewind == PL_REWIND_INIT && config.rewind_params == NULL)
    config.rewind_params = w->initial->params;
  /* pruning at initialisation starts from the same untrained weights */
  if (w->model != NULL && cmd->method == PL_METHOD_AT_INIT && config.rewind_params == NULL)
    config.rewind_params = w->initial->params;

  g_clear_pointer (&w->draft->schedules[cmd->method], pl_bytes_unref);
  w->cancellable = cmd->cancellable;
  w->running = TRUE;
  _pl_worker_set_state (w, PL_ENGINE_STATE_BUSY, cmd->kind, 0.0);
  _pl_worker_publish (w);

  blas = _pl_worker_blas_begin (w);
  if (w->conv != NULL)
    ok = pl_conv_schedule_run (w->conv, w->data, cmd->method, &config, cmd->seed, points,
                               cmd->adopt ? &last_conv : NULL, on_schedule_progress, &run,
                               cmd->cancellable, &error);
  else
    ok = pl_schedule_run (w->model, w->data, cmd->method, &config, cmd->seed, points,
                          cmd->adopt ? &last : NULL, on_schedule_progress, &run,
                          cmd->cancellable, &error);
  _pl_worker_blas_end (blas);
  if (!ok && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_clear_error (&error);   /* stopped: the points that finished are kept */
  /* all the points, also those a procedure adds without telling (adaptive's probes) */
  g_clear_pointer (&w->draft->schedules[cmd->method], pl_bytes_unref);
  if (points->len > 0)
    w->draft->schedules[cmd->method] = g_bytes_new (points->data, points->len * sizeof (PlSchedulePoint));
  w->changed |= PL_SNAPSHOT_CHANGED_SWEEP;

  if (ok && last_conv != NULL)
    _pl_worker_conv_adopt (w, g_steal_pointer (&last_conv));
  if (ok && last != NULL && last->n_params == w->model->n_params
      && last->n_neurons == w->model->n_neurons)
    {
      _pl_worker_push_undo (w);
      memcpy (w->model->params, last->params, sizeof (float) * last->n_params);
      memcpy (w->model->masks, last->masks, sizeof (float) * last->n_params);
      memcpy (w->model->neuron_masks, last->neuron_masks, sizeof (float) * last->n_neurons);
      pl_mlp_apply_masks (w->model);
      _pl_worker_clear_preview (w);
      _pl_worker_touch (w, DIRTY_MODEL);
    }
  pl_mlp_free (last);
  pl_conv_net_free (last_conv);

  w->running = FALSE;
  w->cancellable = NULL;
  if (w->held_preview != NULL)
    _pl_worker_handle (w, g_steal_pointer (&w->held_preview));
  _pl_worker_set_state (w, PL_ENGINE_STATE_IDLE, PL_ENGINE_COMMAND_NONE, -1.0);
  _pl_worker_publish (w);
  _pl_worker_finish (w, cmd, error);
}

/* ───────────────────────────── the worker loop ───────────────────────────── */

/* What may run while training or sweeping (from the run's progress callback): previews,
 * strategy, clear-preview, save. */
static gboolean
runs_during_a_run (guint kind)
{
  switch (kind)
    {
    case PL_CMD_WAKE:
    case PL_CMD_QUIT:
    case PL_ENGINE_COMMAND_PREVIEW:
    case PL_ENGINE_COMMAND_SET_STRATEGY:
    case PL_ENGINE_COMMAND_CLEAR_PREVIEW:
    case PL_ENGINE_COMMAND_SAVE_MODEL:
    case PL_ENGINE_COMMAND_SET_FEATURE_IMAGE:
      return TRUE;
    default:
      return FALSE;
    }
}

/* Runs @cmd and frees it; while a long command runs, only what runs_during_a_run(), anything
 * else fails as busy. */
void
_pl_worker_handle (PlWorker  *w,
                   PlCommand *cmd)
{
  if (w->running && !runs_during_a_run (cmd->kind))
    {
      _pl_worker_fail (w, cmd, PL_ENGINE_ERROR, PL_ENGINE_ERROR_BUSY,
                       w->training ? _("“%s” is not possible while training: stop the training first")
                                   : _("“%s” is not possible during a sweep: stop the sweep first"),
                       pl_engine_command_title (cmd->kind));
      _pl_command_free (cmd);
      return;
    }
  if (_pl_worker_conv_handle (w, cmd))
    {
      _pl_command_free (cmd);
      return;
    }

  switch (cmd->kind)
    {
    case PL_CMD_WAKE:
      break;
    case PL_CMD_QUIT:
      w->quit = TRUE;
      break;
    case PL_ENGINE_COMMAND_LOAD_DATA:
    case PL_ENGINE_COMMAND_SET_DATA:
      do_load_data (w, cmd);
      break;
    case PL_ENGINE_COMMAND_NEW_MODEL:
      do_new_model (w, cmd);
      break;
    case PL_ENGINE_COMMAND_LOAD_MODEL:
      do_load_model (w, cmd);
      break;
    case PL_ENGINE_COMMAND_SAVE_MODEL:
      do_save_model (w, cmd);
      break;
    case PL_ENGINE_COMMAND_TRAIN:
    case PL_ENGINE_COMMAND_FINE_TUNE:
      _pl_worker_do_train (w, cmd);
      break;
    case PL_ENGINE_COMMAND_SET_STRATEGY:
      do_set_strategy (w, cmd);
      break;
    case PL_ENGINE_COMMAND_PREVIEW:
      /* during training, between two steps, on the weights as they are then */
      _pl_worker_do_preview (w, cmd, w->training);
      break;
    case PL_ENGINE_COMMAND_CLEAR_PREVIEW:
      do_clear_preview (w, cmd);
      break;
    case PL_ENGINE_COMMAND_APPLY_PRUNE:
      do_apply_prune (w, cmd);
      break;
    case PL_ENGINE_COMMAND_UNDO:
      do_undo (w, cmd);
      break;
    case PL_ENGINE_COMMAND_REWIND:
      do_rewind (w, cmd);
      break;
    case PL_ENGINE_COMMAND_SWEEP:
      _pl_worker_do_sweep (w, cmd);
      break;
    case PL_ENGINE_COMMAND_MEASURE_SPARSE:
    case PL_ENGINE_COMMAND_EXPORT_COMPACT:
      if (cmd->model == NULL && w->model == NULL)
        {
          _pl_worker_fail (w, cmd, PL_ENGINE_ERROR, PL_ENGINE_ERROR_NO_MODEL, _("there is no model yet"));
          break;
        }
      if (cmd->model == NULL)
        {
          /* the engine's model with the masks on view */
          cmd->model = pl_mlp_copy (w->model);
          if (w->draft->has_preview)
            {
              memcpy (cmd->model->masks, w->preview_masks, sizeof (float) * w->model->n_params);
              memcpy (cmd->model->neuron_masks, w->preview_neuron_masks, sizeof (float) * w->model->n_neurons);
            }
        }
      _pl_engine_post (w->engine, NULL, _pl_engine_sparse_run (w->engine, cmd, w->data));
      break;
    case PL_ENGINE_COMMAND_LOAD_SESSION:
      do_load_session (w, cmd);
      break;
    case PL_ENGINE_COMMAND_SAVE_SESSION:
      do_save_session (w, cmd);
      break;
    case PL_ENGINE_COMMAND_SCHEDULE:
      do_schedule (w, cmd);
      break;
    case PL_ENGINE_COMMAND_PRUNE_OBS:
      _pl_worker_do_prune_obs (w, cmd);
      break;
    case PL_ENGINE_COMMAND_REPRODUCE:
      _pl_worker_do_reproduce (w, cmd);
      break;
    case PL_ENGINE_COMMAND_SET_FEATURE_IMAGE:
      w->draft->feature_index = cmd->image;
      w->changed |= PL_SNAPSHOT_CHANGED_FEATURES;
      _pl_worker_publish (w);
      _pl_worker_finish (w, cmd, NULL);
      break;
    default:
      g_assert_not_reached ();
    }
  _pl_command_free (cmd);
}

/* Work for when the queue is empty: previews ready for the first drag (of every sample, and
 * of the drag's subsample), and a preview shown on a model that changed done again. Returns
 * FALSE when there is nothing to do. */
static gboolean
idle_work (PlWorker *w)
{
  GError *error = NULL;

  if (w->conv != NULL)
    return _pl_worker_conv_idle (w);
  if (w->model == NULL || w->data == NULL || !_pl_worker_model_fits (w->model, w->data))
    return FALSE;
  if (!w->full.stale && w->sub.stale && w->eval != NULL && w->eval->n > TRAIN_PREVIEW_SAMPLES)
    {
      if (!_pl_worker_ensure_preview (w, &w->sub, FALSE, &error))
        {
          g_clear_error (&error);
          w->sub.stale = FALSE;
        }
      return TRUE;
    }
  if (!w->full.stale)
    return FALSE;

  if (w->draft->has_preview)
    {
      if (!_pl_worker_run_preview (w, FALSE, FALSE, &error))
        _pl_worker_post_error (w, error);
      _pl_worker_publish (w);
    }
  else if (!_pl_worker_ensure_preview (w, &w->full, FALSE, &error))
    {
      /* shown when the user asks for a preview; do not try again until something changes */
      g_clear_error (&error);
      w->full.stale = FALSE;
    }
  else if (w->changed != 0)
    _pl_worker_publish (w);
  return TRUE;
}

gpointer
_pl_worker_main (gpointer data)
{
  PlWorker *w = data;
  PlEngine *engine = w->engine;

  while (!w->quit)
    {
      PlCommand *cmd;

      if (g_atomic_int_get (&engine->queued) == 0 && idle_work (w))
        continue;
      cmd = _pl_engine_queue_pop (engine, _pl_worker_rest_timeout (w));
      if (cmd == NULL)
        {
          _pl_worker_refresh_shown_preview (w);   /* the pointer rests after a drag */
          continue;
        }
      _pl_worker_handle (w, cmd);
    }

  worker_free (w);
  return NULL;
}

PlWorker *
_pl_worker_new (PlEngine *engine)
{
  PlWorker *w = g_new0 (PlWorker, 1);

  w->engine = engine;
  w->threads = engine->threads;
  w->draft = pl_snapshot_new (0);
  w->history = g_array_new (FALSE, FALSE, sizeof (PlEpochRecord));
  w->grad_norms = g_array_new (FALSE, FALSE, sizeof (float));
  w->undo = g_ptr_array_new_with_free_func (_pl_undo_entry_free);
  w->full.inputs = &w->inputs;
  w->sub.inputs = &w->sub_inputs;
  w->sub.max_samples = TRAIN_PREVIEW_SAMPLES;
  pl_train_config_init (&w->config);
  return w;
}
