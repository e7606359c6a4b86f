#define G_LOG_DOMAIN "pl-snapshot"

#include "config.h"

#include <math.h>
#include <string.h>

#include "pl-snapshot.h"

#include <glib/gi18n-lib.h>
#include "pl-engine-private.h"
#include "pl-tsan-private.h"

G_DEFINE_BOXED_TYPE (PlSnapshot, pl_snapshot, pl_snapshot_ref, pl_snapshot_unref)

PlSnapshot *
pl_snapshot_new (guint n_layers)
{
  PlSnapshot *self;

  g_return_val_if_fail (n_layers <= PL_MLP_MAX_LAYERS, NULL);

  self = g_atomic_rc_box_alloc0 (sizeof (PlSnapshot) + n_layers * sizeof (PlLayerView));
  self->n_layers = n_layers;
  self->progress = -1.0;
  self->eval_split = "validation";
  self->activation = PL_ACTIVATION_RELU;
  pl_strategy_init (&self->strategy);
  self->preview.threshold = NAN;
  return self;
}

PlSnapshot *
pl_snapshot_ref (PlSnapshot *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return g_atomic_rc_box_acquire (self);
}

static void
snapshot_clear (gpointer data)
{
  PlSnapshot *self = data;

  g_free (self->data_name);
  g_free (self->data_spec);
  g_strfreev (self->class_names);
  g_clear_pointer (&self->points, pl_bytes_unref);
  g_clear_pointer (&self->point_labels, pl_bytes_unref);
  g_clear_pointer (&self->grid, pl_bytes_unref);
  g_clear_pointer (&self->preview_grid, pl_bytes_unref);
  g_free (self->arch);
  g_free (self->model_path);
  g_free (self->progress_text);
  g_clear_pointer (&self->eval.class_accuracy, pl_bytes_unref);
  g_clear_pointer (&self->eval.confusion, pl_bytes_unref);
  g_clear_pointer (&self->training.history, pl_bytes_unref);
  g_clear_pointer (&self->training.grad_norms, pl_bytes_unref);
  for (guint i = 0; i < self->n_curves; i++)
    g_clear_pointer (&self->curves[i].points, pl_bytes_unref);
  for (guint i = 0; i < PL_N_METHODS; i++)
    g_clear_pointer (&self->schedules[i], pl_bytes_unref);
  for (guint i = 0; i < self->n_stages; i++)
    {
      g_clear_pointer (&self->stages[i].maps, pl_bytes_unref);
      g_clear_pointer (&self->stages[i].preview_maps, pl_bytes_unref);
    }
  g_clear_pointer (&self->feature_input, pl_bytes_unref);
  for (guint i = 0; i < self->n_layers; i++)
    {
      PlLayerView *l = &self->layers[i];

      g_clear_pointer (&l->weights, pl_bytes_unref);
      g_clear_pointer (&l->biases, pl_bytes_unref);
      g_clear_pointer (&l->masks, pl_bytes_unref);
      g_clear_pointer (&l->neuron_masks, pl_bytes_unref);
      g_clear_pointer (&l->scores, pl_bytes_unref);
      g_clear_pointer (&l->preview_masks, pl_bytes_unref);
      g_clear_pointer (&l->preview_neuron_masks, pl_bytes_unref);
    }
}

void
pl_snapshot_unref (PlSnapshot *self)
{
  g_return_if_fail (self != NULL);

  /* as pl_bytes_unref: the rc-box's count is an atomic inside libglib */
  PL_TSAN_RELEASE (self);
  PL_TSAN_ACQUIRE (self);
  g_atomic_rc_box_release_full (self, snapshot_clear);
}

static GBytes *
ref_or_null (GBytes *bytes)
{
  return bytes != NULL ? g_bytes_ref (bytes) : NULL;
}

PlSnapshot *
pl_snapshot_copy (const PlSnapshot *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return _pl_snapshot_copy_resized (self, self->n_layers);
}

PlSnapshot *
_pl_snapshot_copy_resized (const PlSnapshot *self,
                           guint             n_layers)
{
  PlSnapshot *copy;

  g_return_val_if_fail (self != NULL && n_layers <= PL_MLP_MAX_LAYERS, NULL);

  /* shallow, then take references on everything shared; layers past the source's empty */
  copy = g_atomic_rc_box_alloc0 (sizeof (PlSnapshot) + n_layers * sizeof (PlLayerView));
  memcpy (copy, self, sizeof (PlSnapshot) + MIN (n_layers, self->n_layers) * sizeof (PlLayerView));
  copy->n_layers = n_layers;
  copy->data_name = g_strdup (self->data_name);
  copy->data_spec = g_strdup (self->data_spec);
  copy->class_names = g_strdupv (self->class_names);
  copy->points = ref_or_null (self->points);
  copy->point_labels = ref_or_null (self->point_labels);
  copy->grid = ref_or_null (self->grid);
  copy->preview_grid = ref_or_null (self->preview_grid);
  copy->arch = g_strdup (self->arch);
  copy->model_path = g_strdup (self->model_path);
  copy->progress_text = g_strdup (self->progress_text);
  copy->eval.class_accuracy = ref_or_null (self->eval.class_accuracy);
  copy->eval.confusion = ref_or_null (self->eval.confusion);
  copy->training.history = ref_or_null (self->training.history);
  copy->training.grad_norms = ref_or_null (self->training.grad_norms);
  for (guint i = 0; i < self->n_curves; i++)
    copy->curves[i].points = ref_or_null (self->curves[i].points);
  for (guint i = 0; i < PL_N_METHODS; i++)
    copy->schedules[i] = ref_or_null (self->schedules[i]);
  for (guint i = 0; i < self->n_stages; i++)
    {
      copy->stages[i].maps = ref_or_null (self->stages[i].maps);
      copy->stages[i].preview_maps = ref_or_null (self->stages[i].preview_maps);
    }
  copy->feature_input = ref_or_null (self->feature_input);
  for (guint i = 0; i < MIN (n_layers, self->n_layers); i++)
    {
      PlLayerView *l = &copy->layers[i];

      l->weights = ref_or_null (l->weights);
      l->biases = ref_or_null (l->biases);
      l->masks = ref_or_null (l->masks);
      l->neuron_masks = ref_or_null (l->neuron_masks);
      l->scores = ref_or_null (l->scores);
      l->preview_masks = ref_or_null (l->preview_masks);
      l->preview_neuron_masks = ref_or_null (l->preview_neuron_masks);
    }
  return copy;
}

static void
copy_floats (float  *dst,
             GBytes *src,
             gsize   n,
             float   fallback)
{
  gsize have = 0;
  const float *p = pl_snapshot_floats (src, &have);

  if (p != NULL && have == n)
    memcpy (dst, p, n * sizeof (float));
  else
    for (gsize k = 0; k < n; k++)
      dst[k] = fallback;
}

PlMlp *
pl_snapshot_build_model (const PlSnapshot *self,
                         gboolean          with_preview)
{
  guint sizes[PL_MLP_MAX_LAYERS + 1];
  PlMlp *model;

  g_return_val_if_fail (self != NULL, NULL);

  if (self->arch == NULL || self->n_layers == 0 || self->n_stages > 0)
    return NULL;
  with_preview = with_preview && self->has_preview;

  sizes[0] = self->layers[0].n_in;
  for (guint i = 0; i < self->n_layers; i++)
    sizes[i + 1] = self->layers[i].n_out;
  model = pl_mlp_new (sizes, self->n_layers, self->activation);
  for (guint i = 0; i < self->n_layers; i++)
    {
      const PlLayerView *v = &self->layers[i];
      PlLayer *l = &model->layers[i];
      gsize nw = (gsize) v->n_out * v->n_in;

      copy_floats (l->w, v->weights, nw, 0.0f);
      copy_floats (l->b, v->biases, v->n_out, 0.0f);
      copy_floats (l->w_mask, with_preview ? v->preview_masks : v->masks, nw, 1.0f);
      copy_floats (l->neuron_mask, with_preview ? v->preview_neuron_masks : v->neuron_masks,
                   v->n_out, 1.0f);
    }
  pl_mlp_apply_masks (model);
  return model;
}

const float *
pl_snapshot_floats (GBytes *bytes,
                    gsize  *n)
{
  gsize size = 0;
  const float *p = bytes != NULL ? g_bytes_get_data (bytes, &size) : NULL;

  if (n != NULL)
    *n = size / sizeof (float);
  return p;
}

const guint32 *
pl_snapshot_uint32s (GBytes *bytes,
                     gsize  *n)
{
  gsize size = 0;
  const guint32 *p = bytes != NULL ? g_bytes_get_data (bytes, &size) : NULL;

  if (n != NULL)
    *n = size / sizeof (guint32);
  return p;
}

const double *
pl_snapshot_doubles (GBytes *bytes,
                     gsize  *n)
{
  gsize size = 0;
  const double *p = bytes != NULL ? g_bytes_get_data (bytes, &size) : NULL;

  if (n != NULL)
    *n = size / sizeof (double);
  return p;
}

const PlEpochRecord *
pl_snapshot_history (const PlSnapshot *self,
                     gsize            *n)
{
  gsize size = 0;
  const PlEpochRecord *p;

  g_return_val_if_fail (self != NULL, NULL);

  p = self->training.history != NULL ? g_bytes_get_data (self->training.history, &size) : NULL;
  if (n != NULL)
    *n = size / sizeof (PlEpochRecord);
  return p;
}

const PlSweepPoint *
pl_sweep_curve_points (const PlSweepCurve *curve,
                       gsize              *n)
{
  gsize size = 0;
  const PlSweepPoint *p;

  g_return_val_if_fail (curve != NULL, NULL);

  p = curve->points != NULL ? g_bytes_get_data (curve->points, &size) : NULL;
  if (n != NULL)
    *n = size / sizeof (PlSweepPoint);
  return p;
}

const char *
pl_engine_state_to_string (PlEngineState state)
{
  switch (state)
    {
    case PL_ENGINE_STATE_IDLE:     return "idle";
    case PL_ENGINE_STATE_BUSY:     return "busy";
    case PL_ENGINE_STATE_TRAINING: return "training";
    case PL_ENGINE_STATE_PAUSED:   return "paused";
    case PL_ENGINE_STATE_SWEEPING: return "sweeping";
    default:                       return "unknown";
    }
}

const char *
pl_engine_command_to_string (PlEngineCommand command)
{
  static const char * const names[] = {
    [PL_ENGINE_COMMAND_NONE] = "none",
    [PL_ENGINE_COMMAND_LOAD_DATA] = "load-data",
    [PL_ENGINE_COMMAND_SET_DATA] = "set-data",
    [PL_ENGINE_COMMAND_NEW_MODEL] = "new-model",
    [PL_ENGINE_COMMAND_LOAD_MODEL] = "load-model",
    [PL_ENGINE_COMMAND_SAVE_MODEL] = "save-model",
    [PL_ENGINE_COMMAND_TRAIN] = "train",
    [PL_ENGINE_COMMAND_FINE_TUNE] = "fine-tune",
    [PL_ENGINE_COMMAND_SET_STRATEGY] = "set-strategy",
    [PL_ENGINE_COMMAND_PREVIEW] = "preview",
    [PL_ENGINE_COMMAND_CLEAR_PREVIEW] = "clear-preview",
    [PL_ENGINE_COMMAND_APPLY_PRUNE] = "apply-prune",
    [PL_ENGINE_COMMAND_UNDO] = "undo",
    [PL_ENGINE_COMMAND_REWIND] = "rewind",
    [PL_ENGINE_COMMAND_SWEEP] = "sweep",
    [PL_ENGINE_COMMAND_MEASURE_SPARSE] = "measure-sparse",
    [PL_ENGINE_COMMAND_EXPORT_COMPACT] = "export-compact",
    [PL_ENGINE_COMMAND_LOAD_SESSION] = "load-session",
    [PL_ENGINE_COMMAND_SAVE_SESSION] = "save-session",
    [PL_ENGINE_COMMAND_SCHEDULE] = "schedule",
    [PL_ENGINE_COMMAND_PRUNE_OBS] = "prune-obs",
    [PL_ENGINE_COMMAND_REPRODUCE] = "reproduce",
    [PL_ENGINE_COMMAND_SET_FEATURE_IMAGE] = "set-feature-image",
  };

  if ((guint) command < G_N_ELEMENTS (names))
    return names[command];
  return "unknown";
}

/* What a person reads for a command, translated ("Working: %s…"); to_string is the log name */
const char *
pl_engine_command_title (PlEngineCommand command)
{
  static const char * const titles[] = {
    [PL_ENGINE_COMMAND_NONE] = N_("nothing"),
    [PL_ENGINE_COMMAND_LOAD_DATA] = N_("loading the dataset"),
    [PL_ENGINE_COMMAND_SET_DATA] = N_("setting the dataset"),
    [PL_ENGINE_COMMAND_NEW_MODEL] = N_("making a new network"),
    [PL_ENGINE_COMMAND_LOAD_MODEL] = N_("opening the model"),
    [PL_ENGINE_COMMAND_SAVE_MODEL] = N_("saving the model"),
    [PL_ENGINE_COMMAND_TRAIN] = N_("training"),
    [PL_ENGINE_COMMAND_FINE_TUNE] = N_("fine-tuning"),
    [PL_ENGINE_COMMAND_SET_STRATEGY] = N_("scoring with the strategy"),
    [PL_ENGINE_COMMAND_PREVIEW] = N_("previewing the prune"),
    [PL_ENGINE_COMMAND_CLEAR_PREVIEW] = N_("clearing the preview"),
    [PL_ENGINE_COMMAND_APPLY_PRUNE] = N_("pruning"),
    [PL_ENGINE_COMMAND_UNDO] = N_("undoing the last prune"),
    [PL_ENGINE_COMMAND_REWIND] = N_("rewinding"),
    [PL_ENGINE_COMMAND_SWEEP] = N_("sweeping sparsities"),
    [PL_ENGINE_COMMAND_MEASURE_SPARSE] = N_("measuring latency and size"),
    [PL_ENGINE_COMMAND_EXPORT_COMPACT] = N_("exporting the compacted model"),
    [PL_ENGINE_COMMAND_LOAD_SESSION] = N_("opening the session"),
    [PL_ENGINE_COMMAND_SAVE_SESSION] = N_("saving the session"),
    [PL_ENGINE_COMMAND_SCHEDULE] = N_("running a pruning procedure"),
    [PL_ENGINE_COMMAND_PRUNE_OBS] = N_("pruning with reconstruction (OBS)"),
    [PL_ENGINE_COMMAND_REPRODUCE] = N_("reproducing a paper"),
    [PL_ENGINE_COMMAND_SET_FEATURE_IMAGE] = N_("choosing the feature-map image"),
  };

  if ((guint) command < G_N_ELEMENTS (titles) && titles[command] != NULL)
    return _(titles[command]);
  return _("an unknown command");
}
