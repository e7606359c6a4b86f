#define G_LOG_DOMAIN "pl-window"

#include "config.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <inttypes.h>
#include <math.h>

#include "pl-window-private.h"

G_DEFINE_FINAL_TYPE (PlWindow, pl_window, ADW_TYPE_APPLICATION_WINDOW)

/* The datasets offered: spec for the engine and settings, name and label for people. */
static const struct {
  const char *spec;
  const char *name;   /* in the status line: "2-64-64-3 on spiral: …" */
  const char *label;  /* in the menu */
  gboolean    images; /* 28×28 images, which LeNet-5 reads */
} datasets[] = {
  { "spiral", N_("spiral"), N_("Spiral (2-D, 3 classes)"), FALSE },
  { "moons", N_("moons"), N_("Moons (2-D, 2 classes)"), FALSE },
  { "circles", N_("circles"), N_("Circles (2-D, 2 classes)"), FALSE },
  { "xor", N_("xor"), N_("XOR (2-D, 2 classes)"), FALSE },
  { "blobs", N_("blobs"), N_("Blobs (2-D, 3 classes)"), FALSE },
  { "shapes", N_("shapes"), N_("Shapes (28×28 images, 8 classes)"), TRUE },
  { "fashion-mnist", N_("fashion-mnist"), N_("Fashion-MNIST (28×28 images)"), TRUE },
};
#define SHAPES_DATASET 5

/* The kinds of network a new network is, in the Network row's order: the settings' value and
 * the label. */
static const struct {
  const char *name;
  const char *label;
} networks[] = {
  { "mlp", N_("Dense layers (MLP)") },
  { "lenet5", N_("LeNet-5 (convolutional)") },
};
#define NETWORK_LENET5 1

/* How long a slider motion waits for its preview before the frame is drawn (see
 * on_sparsity_changed): a frame is 16.7 ms, the frame's own drawing ~8 ms, so a wait of 10 ms
 * keeps the frame within two refreshes (33 ms) when the answer is late. */
#define PREVIEW_HOLD_USEC (10 * G_TIME_SPAN_MILLISECOND)

/* The name people read for a loaded dataset: a built-in one's, else its spec as given */
static const char *
dataset_display_name (const char *spec)
{
  for (guint i = 0; i < G_N_ELEMENTS (datasets); i++)
    if (g_strcmp0 (spec, datasets[i].spec) == 0)
      return _(datasets[i].name);
  return spec;
}

static const char *activations[] = { "relu", "tanh", "sigmoid" };

/* The Procedure list, in PlLessonProcedure's order. */
static const char *procedure_titles[PL_LESSON_N_PROCEDURES] = {
  [PL_LESSON_PROCEDURE_ONESHOT] = N_("One-shot"),
  [PL_LESSON_PROCEDURE_ITERATIVE] = N_("Iterative, 5 rounds"),
  [PL_LESSON_PROCEDURE_LOTTERY_TICKET] = N_("Lottery ticket"),
  [PL_LESSON_PROCEDURE_GRADUAL] = N_("Gradual"),
  [PL_LESSON_PROCEDURE_ADAPTIVE] = N_("Adaptive, 1 point"),
  [PL_LESSON_PROCEDURE_L1] = N_("L1, then prune"),
  [PL_LESSON_PROCEDURE_L0] = N_("L0, hard-concrete"),
  [PL_LESSON_PROCEDURE_AT_INIT] = N_("At initialisation, then train"),
  [PL_LESSON_PROCEDURE_MOVEMENT] = N_("Movement, while fine-tuning"),
  [PL_LESSON_PROCEDURE_SET] = N_("SET, sparse from scratch"),
  [PL_LESSON_PROCEDURE_RIGL] = N_("RigL, sparse from scratch"),
};

/* ---- snapshots ---- */

static void
update_readouts (PlWindow   *self,
                 PlSnapshot *s)
{
  g_autofree char *accuracy = NULL;
  g_autofree char *readout = NULL;
  gboolean on_test = s->eval_split != NULL && g_str_equal (s->eval_split, "test");

  if (s->has_preview)
    {
      const PlPreviewResult *p = &s->preview;
      g_autofree char *threshold = isfinite (p->threshold)
                                   ? g_strdup_printf (_("\nThreshold %.4g on the score"), p->threshold)
                                   : g_strdup ("");

      guint total = on_test ? s->n_test : s->n_val;

      /* during a drag, the preview is of a fixed subsample: say so */
      if (s->preview_subsample)
        accuracy = g_strdup_printf (on_test ? _("Test accuracy %.1f %% on %u of %u samples")
                                            : _("Validation accuracy %.1f %% on %u of %u samples"),
                                    100 * p->accuracy, p->n, total);
      else
        accuracy = g_strdup_printf (on_test ? _("Test accuracy %.1f %%") : _("Validation accuracy %.1f %%"),
                                    100 * p->accuracy);
      /* a conv net's structured candidates are its filters */
      readout = g_strdup_printf (s->n_stages > 0 ? _("Sparsity %.1f %% (%lu of %lu weights)\n"
                                                     "%u of %u filters removed · loss %.4f%s")
                                                 : _("Sparsity %.1f %% (%lu of %lu weights)\n"
                                                     "%u of %u hidden neurons dead · loss %.4f%s"),
                                 100 * p->sparsity, (unsigned long) p->pruned,
                                 (unsigned long) p->weights,
                                 p->dead_neurons, p->neurons, p->loss, threshold);
    }
  else if (s->eval.valid)
    {
      accuracy = g_strdup_printf (on_test ? _("Test accuracy %.1f %%") : _("Validation accuracy %.1f %%"),
                                  100 * s->eval.accuracy);
      readout = g_strdup_printf (_("Sparsity %.1f %% · loss %.4f"),
                                 100 * s->metrics.total.parameter_sparsity, s->eval.loss);
    }
  else
    {
      accuracy = g_strdup (s->arch != NULL ? _("Not evaluated yet") : _("No network yet"));
      readout = g_strdup ("");
    }

  gtk_label_set_label (self->accuracy_label, accuracy);
  gtk_label_set_label (self->readout_label, readout);
}

static void
update_status (PlWindow   *self,
               PlSnapshot *s)
{
  g_autofree char *status = NULL;

  switch (s->state)
    {
    case PL_ENGINE_STATE_TRAINING:
    case PL_ENGINE_STATE_PAUSED:
      if (s->state == PL_ENGINE_STATE_PAUSED)
        status = g_strdup_printf (s->training.fine_tune ? _("Fine-tuning paused: epoch %u of %u, loss %.4f")
                                                        : _("Training paused: epoch %u of %u, loss %.4f"),
                                  s->training.epoch, s->training.epochs, s->training.batch_loss);
      else
        status = g_strdup_printf (s->training.fine_tune ? _("Fine-tuning: epoch %u of %u, loss %.4f, %.0f samples/s")
                                                        : _("Training: epoch %u of %u, loss %.4f, %.0f samples/s"),
                                  s->training.epoch, s->training.epochs, s->training.batch_loss,
                                  s->training.samples_per_second);
      break;
    case PL_ENGINE_STATE_SWEEPING:
      status = g_strdup (_("Sweeping sparsities…"));
      break;
    case PL_ENGINE_STATE_BUSY:
      status = s->command == PL_ENGINE_COMMAND_SCHEDULE
               ? g_strdup (_("Running the procedure… (Escape stops it)"))
               : g_strdup_printf (_("Working: %s…"), pl_engine_command_title (s->command));
      break;
    case PL_ENGINE_STATE_IDLE:
    default:
      if (s->arch != NULL && s->data_name != NULL)
        status = g_strdup_printf (_("%s on %s: %u training, %u validation, %u test samples"),
                                  s->arch, dataset_display_name (s->data_name), s->n_train, s->n_val,
                                  s->n_test);
      else
        status = g_strdup (_("Loading…"));
      break;
    }

  gtk_label_set_label (self->status_label, status);
  if (s->state != PL_ENGINE_STATE_IDLE && s->progress >= 0)
    gtk_progress_bar_set_fraction (self->progress_bar, s->progress);
  else if (s->state == PL_ENGINE_STATE_IDLE)
    gtk_progress_bar_set_fraction (self->progress_bar, 0.0);
  else
    gtk_progress_bar_pulse (self->progress_bar);

  if (s->state == PL_ENGINE_STATE_SWEEPING && s->progress >= 0)
    gtk_progress_bar_set_fraction (self->sweep_progress, s->progress);
}

gboolean
_pl_window_network_is_conv (PlWindow *self)
{
  return adw_combo_row_get_selected (self->network_row) == NETWORK_LENET5;
}

static void
set_network (PlWindow *self,
             guint     network)
{
  self->updating = TRUE;
  adw_combo_row_set_selected (self->network_row, network);
  self->updating = FALSE;
  _pl_window_update_teacher (self);   /* shows or hides the hidden-layers row */
}

gboolean
_pl_window_is_conv (PlWindow *self)
{
  return self->snapshot != NULL && self->snapshot->n_stages > 0;
}

/* The Feature Maps page is a conv net's: its image spin button over the evaluation split and
 * the image's class. */
static void
update_feature_image (PlWindow   *self,
                      PlSnapshot *s)
{
  guint n = g_strcmp0 (s->eval_split, "test") == 0 ? s->n_test : s->n_val;
  g_autofree char *label = NULL;

  adw_view_stack_page_set_visible (self->maps_page, s->n_stages > 0);
  self->updating = TRUE;
  gtk_spin_button_set_range (self->feature_spin, 0, MAX (n, 1) - 1);
  gtk_spin_button_set_value (self->feature_spin, s->feature_index);
  self->updating = FALSE;
  if (s->n_stages > 0 && s->feature_input != NULL && s->class_names != NULL
      && s->feature_label < g_strv_length (s->class_names))
    /* TRANSLATORS: the class of the image the feature maps are of, and the split it is from */
    label = g_strdup_printf (g_strcmp0 (s->eval_split, "test") == 0 ? _("of the test set, class “%s”")
                                                                    : _("of the validation set, class “%s”"),
                             s->class_names[s->feature_label]);
  gtk_label_set_label (self->feature_class_label, label != NULL ? label : "");
}

/* Invert and N:M do not prune a conv net (the engine refuses them): off, and said why; a conv
 * net opened from a file gets a strategy that prunes it. */
static void
update_conv_strategy (PlWindow   *self,
                      PlSnapshot *s)
{
  gboolean conv = s->n_stages > 0;
  const char *why = conv ? _("Not for a convolutional network") : NULL;

  gtk_widget_set_sensitive (self->invert_row, !conv);
  gtk_widget_set_sensitive (GTK_WIDGET (self->nm_row), !conv);
  gtk_widget_set_tooltip_text (self->invert_row, why);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->nm_row), why);
  if (conv && _pl_window_fit_conv_strategy (self))
    _pl_window_send_strategy (self);
}

static void
on_feature_image_changed (PlWindow *self)
{
  if (self->updating || self->engine == NULL)
    return;
  _pl_window_track (self, pl_engine_set_feature_image (self->engine,
                                                       (guint) gtk_spin_button_get_value_as_int (self->feature_spin)));
}

static void
update_layer_list (PlWindow   *self,
                   PlSnapshot *s)
{
  g_autoptr(GtkStringList) list = gtk_string_list_new (NULL);

  /* the same number of layers can be another network (2-64-64-3 after 784-64-64-10) */
  if (s->n_layers == self->n_layers_listed && g_strcmp0 (s->arch, self->arch_listed) == 0)
    return;
  g_free (self->arch_listed);
  self->arch_listed = g_strdup (s->arch);

  for (guint i = 0; i < s->n_layers; i++)
    {
      const PlConvStageView *conv = _pl_window_conv_stage (s, i);
      g_autofree char *name = NULL;

      if (conv != NULL)
        /* TRANSLATORS: a conv layer: its number, and N filters of C×K×K weights */
        name = g_strdup_printf (_("Layer %u: %u filters of %u×%u×%u"), i + 1,
                                conv->c_out, conv->c_in, conv->k, conv->k);
      else
        name = g_strdup_printf (_("Layer %u (%u → %u)"), i + 1,
                                s->layers[i].n_in, s->layers[i].n_out);
      gtk_string_list_append (list, name);
    }
  self->updating = TRUE;
  gtk_drop_down_set_model (self->layer_dropdown, G_LIST_MODEL (list));
  self->layer = MIN (self->layer, s->n_layers > 0 ? s->n_layers - 1 : 0);
  gtk_drop_down_set_selected (self->layer_dropdown, self->layer);
  self->updating = FALSE;
  self->n_layers_listed = s->n_layers;
}

static void
on_snapshot (PlEngine   *engine,
             PlSnapshot *snapshot,
             PlWindow   *self)
{
  PlSnapshotChanged changed = snapshot->changed;

  if (self->snapshot == NULL)
    changed = ~0;
  g_clear_pointer (&self->snapshot, pl_snapshot_unref);
  self->snapshot = pl_snapshot_ref (snapshot);

  update_status (self, snapshot);
  update_readouts (self, snapshot);
  if (changed & (PL_SNAPSHOT_CHANGED_MODEL | PL_SNAPSHOT_CHANGED_DATA))
    update_layer_list (self, snapshot);
  /* a network opened from a file (or a session) sets the kind a new one will be */
  if ((changed & PL_SNAPSHOT_CHANGED_MODEL) && snapshot->model_path != NULL
      && _pl_window_network_is_conv (self) != (snapshot->n_stages > 0))
    set_network (self, snapshot->n_stages > 0 ? NETWORK_LENET5 : 0);

  /* a threshold drag moves the slider to the sparsity it gives */
  if ((changed & PL_SNAPSHOT_CHANGED_PREVIEW) && snapshot->has_preview && snapshot->preview_by_threshold)
    {
      self->updating = TRUE;
      gtk_range_set_value (GTK_RANGE (self->sparsity_scale), 100 * snapshot->preview.sparsity);
      self->updating = FALSE;
    }

  adw_view_stack_page_set_title (self->model_page,
                                 snapshot->image_width > 0 && snapshot->n_stages == 0 ? _("Fields") : _("Model"));
  adw_view_stack_page_set_visible (self->filters_page, snapshot->n_stages > 0);
  if (changed & PL_SNAPSHOT_CHANGED_MODEL)
    update_conv_strategy (self, snapshot);
  /* a conv net's filters have a page of their own: the network diagram takes the width */
  gtk_widget_set_visible (GTK_WIDGET (self->boundary_view), snapshot->n_stages == 0);
  if (changed & (PL_SNAPSHOT_CHANGED_MODEL | PL_SNAPSHOT_CHANGED_DATA | PL_SNAPSHOT_CHANGED_FEATURES))
    update_feature_image (self, snapshot);
  _pl_window_update_charts (self, snapshot, changed);
  _pl_window_update_descriptions (self, snapshot);
  /* the metrics table is many widgets: rebuilt only while it is on view (and when it comes) */
  if ((changed & (PL_SNAPSHOT_CHANGED_WEIGHTS | PL_SNAPSHOT_CHANGED_MASKS | PL_SNAPSHOT_CHANGED_PREVIEW | PL_SNAPSHOT_CHANGED_MODEL))
      && g_strcmp0 (adw_view_stack_get_visible_child_name (self->view_stack), "results") == 0)
    _pl_window_update_metrics (self, snapshot);
  _pl_window_update_actions (self);
}

static void
on_error (PlEngine *engine,
          GError   *error,
          PlWindow *self)
{
  _pl_window_toast (self, error->message);
}

static void dataset_load_failed (PlWindow *self);

static void
on_done (PlEngine *engine,
         guint     command,
         guint     id,
         gboolean  ok,
         PlWindow *self)
{
  if (self->pending > 0)
    self->pending--;
  if (id != 0 && id == self->load_session_id)
    _pl_window_session_loaded (self, ok);
  if (id != 0 && id == self->report_session_id)
    _pl_window_report_session_saved (self, ok);
  if (id == self->load_data_id)
    {
      self->load_data_id = 0;
      if (!ok)
        dataset_load_failed (self);
    }
  _pl_window_sparse_done (self, command, id, ok);
  _pl_window_update_actions (self);
}

/* No command the window sent is unfinished and the newest preview is answered. */
static gboolean
engine_idle (PlWindow *self)
{
  return self->pending == 0 && self->snapshot != NULL
         && self->snapshot->state == PL_ENGINE_STATE_IDLE
         && (self->reproduce_dialog == NULL
             || !pl_reproduce_dialog_is_running (PL_REPRODUCE_DIALOG (self->reproduce_dialog)))
         && (self->last_preview == 0 || self->snapshot->preview_request >= self->last_preview);
}

gboolean
pl_window_is_idle (PlWindow *self)
{
  return engine_idle (self) && (self->steps == NULL || self->steps[self->step] == NULL);
}

/* ---- settings widgets ---- */

static guint
index_of_dataset (const char *spec)
{
  for (guint i = 0; i < G_N_ELEMENTS (datasets); i++)
    if (g_strcmp0 (spec, datasets[i].spec) == 0)
      return i;
  return 0;
}

/* The engine's spec of dataset @i: Fashion-MNIST from the folder the preferences name. */
static char *
dataset_spec (PlWindow *self,
              guint     i)
{
  const char *spec = datasets[MIN (i, G_N_ELEMENTS (datasets) - 1)].spec;
  g_autofree char *folder = NULL;

  if (!g_str_equal (spec, "fashion-mnist"))
    return g_strdup (spec);
  folder = g_strstrip (g_settings_get_string (self->settings, "fashion-mnist-folder"));
  return *folder != '\0' ? g_strconcat (spec, ":", folder, NULL) : g_strdup (spec);
}

static void
load_dataset (PlWindow *self)
{
  guint i = adw_combo_row_get_selected (self->dataset_row);
  g_autofree char *spec = dataset_spec (self, i);

  if (g_strcmp0 (spec, self->data_spec_loaded) == 0)
    return;
  /* LeNet-5 reads images: a 2-D set gets dense layers */
  if (_pl_window_network_is_conv (self) && !datasets[MIN (i, G_N_ELEMENTS (datasets) - 1)].images)
    set_network (self, 0);
  g_free (self->data_spec_loaded);
  self->data_spec_loaded = g_strdup (spec);
  g_settings_set_string (self->settings, "dataset", datasets[MIN (i, G_N_ELEMENTS (datasets) - 1)].spec);

  self->load_data_id = pl_engine_load_data (self->engine, spec, NULL);
  _pl_window_track (self, self->load_data_id);
  _pl_window_new_model (self);
  _pl_window_send_strategy (self);
}

/* A dataset that did not load (its files missing, say): the engine keeps the one it had, and
 * so does the list, so that what it shows is what is loaded. */
static void
dataset_load_failed (PlWindow *self)
{
  const char *loaded = self->snapshot != NULL ? self->snapshot->data_name : NULL;
  guint i = index_of_dataset (loaded);

  self->updating = TRUE;
  adw_combo_row_set_selected (self->dataset_row, i);
  self->updating = FALSE;
  g_free (self->data_spec_loaded);
  self->data_spec_loaded = loaded != NULL ? dataset_spec (self, i) : NULL;
  if (loaded != NULL)
    g_settings_set_string (self->settings, "dataset", datasets[i].spec);
}

static void
on_fashion_folder_changed (PlWindow *self)
{
  guint i = adw_combo_row_get_selected (self->dataset_row);

  if (g_str_equal (datasets[MIN (i, G_N_ELEMENTS (datasets) - 1)].spec, "fashion-mnist"))
    load_dataset (self);
}

static void
on_dataset_changed (PlWindow *self)
{
  if (!self->updating)
    load_dataset (self);
}

/* A new kind of network is made at once, as a new dataset makes one; LeNet-5 on a 2-D set
 * brings the built-in images first. */
static void
on_network_changed (PlWindow *self)
{
  guint i = adw_combo_row_get_selected (self->dataset_row);

  _pl_window_update_teacher (self);
  if (self->updating)
    return;
  g_settings_set_string (self->settings, "network",
                         networks[MIN (adw_combo_row_get_selected (self->network_row), NETWORK_LENET5)].name);
  if (_pl_window_network_is_conv (self) && !datasets[MIN (i, G_N_ELEMENTS (datasets) - 1)].images)
    {
      adw_combo_row_set_selected (self->dataset_row, SHAPES_DATASET);  /* loads and makes it */
      return;
    }
  _pl_window_new_model (self);
  _pl_window_send_strategy (self);
}

static void
on_strategy_changed (PlWindow *self)
{
  const PlScoreInfo *info;
  guint i = adw_combo_row_get_selected (self->score_row);

  if (i >= PL_N_SCORES)
    return;
  info = pl_score_info (i);
  gtk_label_set_label (self->explanation_label, _(info->explanation));
  if (self->updating)
    return;
  g_settings_set_string (self->settings, "score", info->name);
  g_settings_set_string (self->settings, "scope", pl_scope_name (_pl_window_scope (self)));
  _pl_window_send_strategy (self);
}

void
_pl_window_show_session (PlWindow        *self,
                         const PlSession *session)
{
  const PlStrategy *st = &session->strategy;

  self->updating = TRUE;
  for (guint i = 0; i < G_N_ELEMENTS (datasets); i++)
    if (g_strcmp0 (session->data_spec, datasets[i].spec) == 0)
      adw_combo_row_set_selected (self->dataset_row, i);
  g_free (self->data_spec_loaded);
  self->data_spec_loaded = g_strdup (session->data_spec);
  adw_combo_row_set_selected (self->activation_row, MIN ((guint) session->model->activation, 2));
  adw_combo_row_set_selected (self->score_row, st->score);
  adw_combo_row_set_selected (self->scope_row, st->scope);
  adw_combo_row_set_selected (self->nm_row, st->nm_m == 4 && st->nm_n == 2 ? 1
                                            : st->nm_m == 8 && st->nm_n == 4 ? 2
                                            : st->nm_m == 4 && st->nm_n == 1 ? 3 : 0);
  gtk_switch_set_active (self->invert_switch, st->invert);
  gtk_spin_button_set_value (self->epochs_spin, session->train.epochs);
  gtk_spin_button_set_value (self->lr_spin, session->train.lr);
  self->updating = FALSE;
  gtk_label_set_label (self->explanation_label, _(pl_score_info (st->score)->explanation));
}

static void
on_sparsity_changed (PlWindow *self)
{
  if (self->updating || self->engine == NULL)
    return;
  self->last_preview = pl_engine_preview (self->engine,
                                          gtk_range_get_value (GTK_RANGE (self->sparsity_scale)) / 100.0,
                                          FALSE);
  /* The slider's own redraw would make the next frame before the answer is in, and the answer
   * would wait a whole frame (16.7 ms) for the one after; a preview usually takes less than
   * PREVIEW_HOLD_USEC, so the frame waits for it instead. */
  pl_engine_wait_for_preview (self->engine, self->last_preview, PREVIEW_HOLD_USEC);
}

void
pl_window_set_sparsity (PlWindow *self,
                        double    percent)
{
  gtk_range_set_value (GTK_RANGE (self->sparsity_scale), percent);
}

static void
on_page_changed (PlWindow *self)
{
  if (self->snapshot != NULL
      && g_strcmp0 (adw_view_stack_get_visible_child_name (self->view_stack), "results") == 0)
    _pl_window_update_metrics (self, self->snapshot);
}

static void
on_layer_changed (PlWindow *self)
{
  if (self->updating)
    return;
  self->layer = gtk_drop_down_get_selected (self->layer_dropdown);
  if (self->snapshot != NULL)
    _pl_window_update_charts (self, self->snapshot, PL_SNAPSHOT_CHANGED_WEIGHTS);
}

/* ---- the live drag on the histogram, the hover on the heatmap ---- */

static void
histogram_drag (PlWindow *self,
                double    x)
{
  double value;

  if (self->snapshot == NULL || !self->snapshot->scores_valid
      || _pl_window_control_locked (self, PL_LESSON_CONTROL_THRESHOLD))
    return;
  if (_pl_window_histogram_value (self, x, &value))
    {
      self->last_preview = pl_engine_preview (self->engine, value, TRUE);
      pl_engine_wait_for_preview (self->engine, self->last_preview, PREVIEW_HOLD_USEC);
    }
}

/* The pointer's x is the start GTK gave with drag-begin plus the offset of each update. */
static void
on_drag_begin (GtkGestureDrag *gesture,
               double          x,
               double          y,
               PlWindow       *self)
{
  /* then the keys move the threshold on from where the pointer left it */
  gtk_widget_grab_focus (GTK_WIDGET (self->histogram_view));
  self->drag_x0 = x;
  histogram_drag (self, x);
}

static void
on_drag_update (GtkGestureDrag *gesture,
                double          dx,
                double          dy,
                PlWindow       *self)
{
  histogram_drag (self, self->drag_x0 + dx);
}

static void
on_heatmap_motion (GtkEventControllerMotion *controller,
                   double                    x,
                   double                    y,
                   PlWindow                 *self)
{
  _pl_window_hover_heatmap (self, x, y);
}

/* ---- window state ---- */

static void
on_look_changed (PlWindow *self)
{
  g_autofree char *scheme = g_settings_get_string (self->settings, "color-scheme");

  adw_style_manager_set_color_scheme (adw_style_manager_get_default (),
                                      g_str_equal (scheme, "light") ? ADW_COLOR_SCHEME_FORCE_LIGHT
                                      : g_str_equal (scheme, "dark") ? ADW_COLOR_SCHEME_FORCE_DARK
                                      : ADW_COLOR_SCHEME_DEFAULT);
  self->presentation = g_settings_get_boolean (self->settings, "presentation-mode");
  /* on a projector the histogram's hint would sit on the bars the class is looking at */
  gtk_widget_set_has_tooltip (GTK_WIDGET (self->histogram_view), !self->presentation);
  _pl_window_update_styles (self);
}

static gboolean
pl_window_close_request (GtkWindow *window)
{
  PlWindow *self = PL_WINDOW (window);
  int width, height;

  gtk_window_get_default_size (window, &width, &height);
  g_settings_set_int (self->settings, "window-width", MAX (width, 360));
  g_settings_set_int (self->settings, "window-height", MAX (height, 360));
  g_settings_set_boolean (self->settings, "window-maximized", gtk_window_is_maximized (window));
  g_settings_set_uint (self->settings, "epochs", (guint) gtk_spin_button_get_value (self->epochs_spin));
  g_settings_set_double (self->settings, "learning-rate", gtk_spin_button_get_value (self->lr_spin));
  g_settings_set_string (self->settings, "architecture", gtk_editable_get_text (GTK_EDITABLE (self->arch_row)));
  g_settings_set_string (self->settings, "network",
                         networks[MIN (adw_combo_row_get_selected (self->network_row), NETWORK_LENET5)].name);
  g_settings_set_string (self->settings, "activation",
                         activations[MIN (adw_combo_row_get_selected (self->activation_row), 2)]);

  return GTK_WINDOW_CLASS (pl_window_parent_class)->close_request (window);
}

static void
pl_window_dispose (GObject *object)
{
  PlWindow *self = PL_WINDOW (object);

  g_clear_handle_id (&self->step_source, g_source_remove);
  /* the dialog holds the engine: it goes first */
  if (self->reproduce_dialog != NULL)
    gtk_window_destroy (GTK_WINDOW (self->reproduce_dialog));
  if (self->engine != NULL)
    g_signal_handlers_disconnect_by_data (self->engine, self);
  g_clear_object (&self->engine);
  g_clear_pointer (&self->snapshot, pl_snapshot_unref);
  g_clear_object (&self->settings);
  g_clear_pointer (&self->steps, g_strfreev);
  g_clear_pointer (&self->data_spec_loaded, g_free);
  g_clear_pointer (&self->arch_listed, g_free);
  self->lesson = NULL;
  g_clear_pointer (&self->lessons, g_ptr_array_unref);
  g_clear_pointer (&self->sparse_export_path, g_free);
  g_clear_pointer (&self->session_path, g_free);
  g_clear_pointer (&self->session_lesson, g_free);
  g_clear_pointer (&self->session_loaded_lesson, g_free);
  if (self->report_session != NULL)
    g_unlink (self->report_session);
  g_clear_pointer (&self->report_session, g_free);
  g_clear_pointer (&self->report_path, g_free);

  gtk_widget_dispose_template (GTK_WIDGET (self), PL_TYPE_WINDOW);
  G_OBJECT_CLASS (pl_window_parent_class)->dispose (object);
}

enum {
  PROP_0,
  PROP_TEACHER_MODE,  /* lessons: controls the step does not use are put away */
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
pl_window_get_property (GObject    *object,
                        guint       prop_id,
                        GValue     *value,
                        GParamSpec *pspec)
{
  PlWindow *self = PL_WINDOW (object);

  switch (prop_id)
    {
    case PROP_TEACHER_MODE:
      g_value_set_boolean (value, self->teacher_mode);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
pl_window_set_property (GObject      *object,
                        guint         prop_id,
                        const GValue *value,
                        GParamSpec   *pspec)
{
  PlWindow *self = PL_WINDOW (object);

  switch (prop_id)
    {
    case PROP_TEACHER_MODE:
      pl_window_set_teacher_mode (self, g_value_get_boolean (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

void
pl_window_set_teacher_mode (PlWindow *self,
                            gboolean  teacher_mode)
{
  g_return_if_fail (PL_IS_WINDOW (self));

  teacher_mode = !!teacher_mode;
  if (self->teacher_mode == teacher_mode)
    return;
  self->teacher_mode = teacher_mode;
  _pl_window_update_teacher (self);
  _pl_window_update_actions (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TEACHER_MODE]);
}

static void
pl_window_class_init (PlWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GtkWindowClass *window_class = GTK_WINDOW_CLASS (klass);

  object_class->dispose = pl_window_dispose;
  window_class->close_request = pl_window_close_request;

  object_class->get_property = pl_window_get_property;
  object_class->set_property = pl_window_set_property;
  properties[PROP_TEACHER_MODE] =
    g_param_spec_boolean ("teacher-mode", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  g_type_ensure (PL_TYPE_CHART_VIEW);
  g_type_ensure (PL_TYPE_LESSON_PANEL);
  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/prunelab/PruneLab/pl-window.ui");
#define CHILD(name) gtk_widget_class_bind_template_child (widget_class, PlWindow, name)
  CHILD (toast_overlay);
  CHILD (switcher_title);
  CHILD (view_stack);
  CHILD (export_button);
  CHILD (dataset_row);
  CHILD (network_row);
  CHILD (arch_row);
  CHILD (activation_row);
  CHILD (epochs_spin);
  CHILD (lr_spin);
  CHILD (status_label);
  CHILD (progress_bar);
  CHILD (score_row);
  CHILD (scope_row);
  CHILD (nm_row);
  CHILD (invert_switch);
  CHILD (sparsity_scale);
  CHILD (accuracy_label);
  CHILD (readout_label);
  CHILD (explanation_label);
  CHILD (layer_dropdown);
  CHILD (hover_label);
  CHILD (heatmap_scroller);
  CHILD (heatmap_view);
  CHILD (histogram_view);
  CHILD (curves_view);
  CHILD (sweep_progress);
  CHILD (training_view);
  CHILD (gradnorm_view);
  CHILD (model_page);
  CHILD (network_view);
  CHILD (boundary_view);
  CHILD (confusion_view);
  CHILD (filters_page);
  CHILD (filters_view);
  CHILD (maps_page);
  CHILD (maps_view);
  CHILD (feature_spin);
  CHILD (feature_class_label);
  CHILD (measure_button);
  CHILD (compact_button);
  CHILD (metrics_grid);
  CHILD (lesson_panel);
  CHILD (lessons_menu);
  CHILD (train_button);
  CHILD (stop_button);
  CHILD (undo_button);
  CHILD (pruning_group);
  CHILD (invert_row);
  CHILD (apply_button);
  CHILD (obs_button);
  CHILD (fine_tune_button);
  CHILD (rewind_button);
  CHILD (network_group);
  CHILD (epochs_row);
  CHILD (lr_row);
  CHILD (new_row);
  CHILD (sweep_button);
  CHILD (penalty_row);
  CHILD (lambda_row);
  CHILD (lambda_spin);
  CHILD (clip_row);
  CHILD (clip_spin);
  CHILD (procedure_dropdown);
  CHILD (procedure_button);
  CHILD (recent_menu);
#undef CHILD

  _pl_window_class_init_actions (widget_class);
  _pl_window_class_init_lessons (widget_class);
  _pl_window_class_init_a11y (widget_class);
  _pl_window_class_init_sparse (widget_class);
  _pl_window_class_init_session (widget_class);
}

static void
setup_rows (PlWindow *self)
{
  g_autoptr(GtkStringList) data_list = gtk_string_list_new (NULL);
  g_autoptr(GtkStringList) act_list = gtk_string_list_new (NULL);
  g_autoptr(GtkStringList) network_list = gtk_string_list_new (NULL);
  g_autofree char *network = g_settings_get_string (self->settings, "network");
  g_autoptr(GtkStringList) score_list = gtk_string_list_new (NULL);
  g_autoptr(GtkStringList) scope_list = gtk_string_list_new (NULL);
  g_autoptr(GtkStringList) penalty_list = gtk_string_list_new (NULL);
  g_autoptr(GtkStringList) procedure_list = gtk_string_list_new (NULL);
  g_autoptr(GtkStringList) nm_list = gtk_string_list_new (NULL);
  g_autofree char *dataset = g_settings_get_string (self->settings, "dataset");
  g_autofree char *score = g_settings_get_string (self->settings, "score");
  g_autofree char *scope = g_settings_get_string (self->settings, "scope");
  g_autofree char *activation = g_settings_get_string (self->settings, "activation");
  g_autofree char *arch = g_settings_get_string (self->settings, "architecture");
  PlScoreKind kind = PL_SCORE_MAGNITUDE;

  for (guint i = 0; i < G_N_ELEMENTS (datasets); i++)
    gtk_string_list_append (data_list, _(datasets[i].label));
  gtk_string_list_append (act_list, "ReLU");
  gtk_string_list_append (act_list, "tanh");
  gtk_string_list_append (act_list, _("Sigmoid"));
  for (PlScoreKind k = 0; k < PL_N_SCORES; k++)
    gtk_string_list_append (score_list, _(pl_score_info (k)->title));
  gtk_string_list_append (penalty_list, _("None"));
  gtk_string_list_append (penalty_list, _("L1: λ·Σ|w|"));
  /* TRANSLATORS: the update θ ← θ − α(g + λ·1[θ ≠ 0]) of a seed article, shown in lesson 6 */
  gtk_string_list_append (penalty_list, _("The article’s “L0”: λ·Σ 1[w ≠ 0] (not L0)"));
  for (PlLessonProcedure p = 0; p < PL_LESSON_N_PROCEDURES; p++)
    gtk_string_list_append (procedure_list, _(procedure_titles[p]));
  gtk_string_list_append (scope_list, _("Global: one ranking"));
  gtk_string_list_append (scope_list, _("Per layer"));
  gtk_string_list_append (scope_list, _("Per output row (Wanda)"));
  gtk_string_list_append (scope_list, _("ERK layer budgets"));
  /* TRANSLATORS: no N:M constraint */
  gtk_string_list_append (nm_list, _("Off"));
  gtk_string_list_append (nm_list, "2:4");
  gtk_string_list_append (nm_list, "4:8");
  gtk_string_list_append (nm_list, "1:4");

  self->updating = TRUE;
  adw_combo_row_set_model (self->dataset_row, G_LIST_MODEL (data_list));
  adw_combo_row_set_selected (self->dataset_row, index_of_dataset (dataset));
  adw_combo_row_set_model (self->activation_row, G_LIST_MODEL (act_list));
  for (guint i = 0; i < G_N_ELEMENTS (networks); i++)
    gtk_string_list_append (network_list, _(networks[i].label));
  adw_combo_row_set_model (self->network_row, G_LIST_MODEL (network_list));
  /* LeNet-5 only over images (the dataset chosen first) */
  adw_combo_row_set_selected (self->network_row,
                              g_str_equal (network, "lenet5") && datasets[index_of_dataset (dataset)].images
                              ? NETWORK_LENET5 : 0);
  for (guint i = 0; i < G_N_ELEMENTS (activations); i++)
    if (g_strcmp0 (activation, activations[i]) == 0)
      adw_combo_row_set_selected (self->activation_row, i);
  adw_combo_row_set_model (self->score_row, G_LIST_MODEL (score_list));
  pl_score_parse (score, &kind, NULL);
  adw_combo_row_set_selected (self->score_row, kind);
  adw_combo_row_set_model (self->scope_row, G_LIST_MODEL (scope_list));
  adw_combo_row_set_model (self->nm_row, G_LIST_MODEL (nm_list));
  adw_combo_row_set_model (self->penalty_row, G_LIST_MODEL (penalty_list));
  gtk_drop_down_set_model (self->procedure_dropdown, G_LIST_MODEL (procedure_list));
  {
    PlScope k = PL_SCOPE_GLOBAL;

    pl_scope_parse (scope, &k, NULL);
    adw_combo_row_set_selected (self->scope_row, k);
  }
  gtk_editable_set_text (GTK_EDITABLE (self->arch_row), arch);
  gtk_spin_button_set_value (self->epochs_spin, g_settings_get_uint (self->settings, "epochs"));
  gtk_spin_button_set_value (self->lr_spin, g_settings_get_double (self->settings, "learning-rate"));
  gtk_label_set_label (self->explanation_label, _(pl_score_info (kind)->explanation));
  self->updating = FALSE;

  g_signal_connect_swapped (self->dataset_row, "notify::selected", G_CALLBACK (on_dataset_changed), self);
  g_signal_connect_swapped (self->network_row, "notify::selected", G_CALLBACK (on_network_changed), self);
  g_signal_connect_swapped (self->score_row, "notify::selected", G_CALLBACK (on_strategy_changed), self);
  g_signal_connect_swapped (self->scope_row, "notify::selected", G_CALLBACK (on_strategy_changed), self);
  g_signal_connect_swapped (self->nm_row, "notify::selected", G_CALLBACK (on_strategy_changed), self);
  g_signal_connect_swapped (self->invert_switch, "notify::active", G_CALLBACK (on_strategy_changed), self);
  g_signal_connect_swapped (self->sparsity_scale, "value-changed", G_CALLBACK (on_sparsity_changed), self);
  g_signal_connect_swapped (self->layer_dropdown, "notify::selected", G_CALLBACK (on_layer_changed), self);
  g_signal_connect_swapped (self->feature_spin, "value-changed", G_CALLBACK (on_feature_image_changed), self);
  /* a conv net runs only some procedures: Run Procedure follows the choice */
  g_signal_connect_swapped (self->procedure_dropdown, "notify::selected", G_CALLBACK (_pl_window_update_actions), self);
  g_signal_connect_swapped (self->view_stack, "notify::visible-child-name", G_CALLBACK (on_page_changed), self);
}

static void
pl_window_init (PlWindow *self)
{
  GtkGesture *drag;
  GtkEventController *motion;

  gtk_widget_init_template (GTK_WIDGET (self));

  self->settings = pl_settings_new (PL_APPLICATION_ID);
  self->zoom = 1.0;
  gtk_window_set_default_size (GTK_WINDOW (self),
                               g_settings_get_int (self->settings, "window-width"),
                               g_settings_get_int (self->settings, "window-height"));
  if (g_settings_get_boolean (self->settings, "window-maximized"))
    gtk_window_maximize (GTK_WINDOW (self));

  setup_rows (self);
  g_signal_connect_object (gtk_recent_manager_get_default (), "changed",
                           G_CALLBACK (_pl_window_update_recent), self, G_CONNECT_SWAPPED);
  _pl_window_update_recent (self);

  drag = gtk_gesture_drag_new ();
  g_signal_connect (drag, "drag-begin", G_CALLBACK (on_drag_begin), self);
  g_signal_connect (drag, "drag-update", G_CALLBACK (on_drag_update), self);
  gtk_widget_add_controller (GTK_WIDGET (self->histogram_view), GTK_EVENT_CONTROLLER (drag));
  motion = gtk_event_controller_motion_new ();
  g_signal_connect (motion, "motion", G_CALLBACK (on_heatmap_motion), self);
  gtk_widget_add_controller (GTK_WIDGET (self->heatmap_view), motion);

  g_signal_connect_swapped (adw_style_manager_get_default (), "notify::dark",
                            G_CALLBACK (_pl_window_update_styles), self);
  g_signal_connect_swapped (self->settings, "changed::presentation-mode", G_CALLBACK (on_look_changed), self);
  g_signal_connect_swapped (self->settings, "changed::color-scheme", G_CALLBACK (on_look_changed), self);
  g_signal_connect_swapped (self->settings, "changed::fashion-mnist-folder",
                            G_CALLBACK (on_fashion_folder_changed), self);
  on_look_changed (self);

  self->engine = pl_engine_new (0);
  g_signal_connect (self->engine, "snapshot", G_CALLBACK (on_snapshot), self);
  g_signal_connect (self->engine, "error", G_CALLBACK (on_error), self);
  g_signal_connect (self->engine, "done", G_CALLBACK (on_done), self);

  _pl_window_init_a11y (self);
  _pl_window_init_lessons (self);
  load_dataset (self);
  _pl_window_update_actions (self);
}

PlWindow *
pl_window_new (PlApplication *app)
{
  return g_object_new (PL_TYPE_WINDOW, "application", app, NULL);
}

PlEngine *
pl_window_get_engine (PlWindow *self)
{
  return self->engine;
}

guint64
pl_window_get_last_preview (PlWindow *self)
{
  return self->last_preview;
}

const char *
pl_window_get_accuracy_text (PlWindow *self)
{
  return gtk_label_get_label (self->accuracy_label);
}

const char *
pl_window_get_readout_text (PlWindow *self)
{
  return gtk_label_get_label (self->readout_label);
}

/* ---- automation: "train;idle;sparsity=90;view=weights;ready=/tmp/x;wait=500" ---- */

static gboolean run_steps (gpointer data);

static void
schedule_steps (PlWindow *self,
                guint     delay_ms)
{
  g_clear_handle_id (&self->step_source, g_source_remove);
  self->step_source = g_timeout_add (delay_ms, run_steps, self);
}

static gboolean
run_steps (gpointer data)
{
  PlWindow *self = data;

  self->step_source = 0;
  while (self->steps != NULL && self->steps[self->step] != NULL)
    {
      g_auto(GStrv) kv = g_strsplit (g_strstrip (self->steps[self->step]), "=", 2);
      const char *key = kv[0];
      const char *value = kv[0] != NULL ? kv[1] : NULL;

      if (key == NULL || *key == '\0')
        {
          self->step++;
          continue;
        }
      if (g_str_equal (key, "idle"))
        {
          if (!engine_idle (self))
            {
              schedule_steps (self, 50);
              return G_SOURCE_REMOVE;
            }
        }
      else if (g_str_equal (key, "wait"))
        {
          self->step++;
          schedule_steps (self, value != NULL ? (guint) g_ascii_strtoull (value, NULL, 10) : 500);
          return G_SOURCE_REMOVE;
        }
      else if (g_str_equal (key, "ready") && value != NULL)
        g_file_set_contents (value, "ready\n", -1, NULL);
      else if (g_str_equal (key, "sparsity") && value != NULL)
        pl_window_set_sparsity (self, g_ascii_strtod (value, NULL));
      else if (g_str_equal (key, "view") && value != NULL)
        adw_view_stack_set_visible_child_name (self->view_stack, value);
      else if (g_str_equal (key, "dark"))
        adw_style_manager_set_color_scheme (adw_style_manager_get_default (),
                                            g_strcmp0 (value, "0") == 0 ? ADW_COLOR_SCHEME_FORCE_LIGHT
                                                                         : ADW_COLOR_SCHEME_FORCE_DARK);
      else if (g_str_equal (key, "dataset") && value != NULL)
        adw_combo_row_set_selected (self->dataset_row, index_of_dataset (value));
      else if (g_str_equal (key, "score") && value != NULL)
        {
          PlScoreKind kind;

          if (pl_score_parse (value, &kind, NULL))
            adw_combo_row_set_selected (self->score_row, kind);
        }
      else if (g_str_equal (key, "epochs") && value != NULL)
        gtk_spin_button_set_value (self->epochs_spin, g_ascii_strtod (value, NULL));
      else if (g_str_equal (key, "lr") && value != NULL)
        gtk_spin_button_set_value (self->lr_spin, g_ascii_strtod (value, NULL));
      else if (g_str_equal (key, "hidden") && value != NULL)
        gtk_editable_set_text (GTK_EDITABLE (self->arch_row), value);
      else if (g_str_equal (key, "feature-image") && value != NULL)
        gtk_spin_button_set_value (self->feature_spin, g_ascii_strtod (value, NULL));
      else if (g_str_equal (key, "network") && value != NULL)
        {
          for (guint i = 0; i < G_N_ELEMENTS (networks); i++)
            if (g_str_equal (value, networks[i].name))
              adw_combo_row_set_selected (self->network_row, i);
        }
      else if (g_str_equal (key, "activation") && value != NULL)
        {
          for (guint i = 0; i < G_N_ELEMENTS (activations); i++)
            if (g_str_equal (value, activations[i]))
              adw_combo_row_set_selected (self->activation_row, i);
        }
      else if (g_str_equal (key, "scope") && value != NULL)
        {
          PlScope k = PL_SCOPE_GLOBAL;

          pl_scope_parse (value, &k, NULL);
          adw_combo_row_set_selected (self->scope_row, k);
        }
      else if (g_str_equal (key, "nm") && value != NULL)
        {
          /* off, 2:4, 4:8, 1:4: the rows of the N:M list */
          static const char * const nm[] = { "off", "2:4", "4:8", "1:4" };

          for (guint i = 0; i < G_N_ELEMENTS (nm); i++)
            if (g_str_equal (value, nm[i]))
              adw_combo_row_set_selected (self->nm_row, i);
        }
      else if (g_str_equal (key, "penalty") && value != NULL)
        {
          for (PlLessonPenalty p = 0; p < PL_LESSON_N_PENALTIES; p++)
            if (g_str_equal (value, pl_lesson_penalty_name (p)))
              adw_combo_row_set_selected (self->penalty_row, p);
        }
      else if (g_str_equal (key, "lambda") && value != NULL)
        gtk_spin_button_set_value (self->lambda_spin, g_ascii_strtod (value, NULL));
      else if (g_str_equal (key, "clip-norm") && value != NULL)
        gtk_spin_button_set_value (self->clip_spin, g_ascii_strtod (value, NULL));
      else if (g_str_equal (key, "procedure") && value != NULL)
        {
          for (PlLessonProcedure p = 0; p < PL_LESSON_N_PROCEDURES; p++)
            if (g_str_equal (value, pl_lesson_procedure_name (p)))
              gtk_drop_down_set_selected (self->procedure_dropdown, p);
        }
      else if (g_str_equal (key, "reproduce") && value != NULL)
        {
          /* "reproduce=han2015": the dialog, that paper's quick run with one seed, Run */
          PlReproduceDialog *dialog = pl_window_open_reproduce (self);
          PlPaper paper;

          if (pl_paper_parse (value, &paper, NULL))
            {
              pl_reproduce_dialog_set_choice (dialog, paper, TRUE, 1);
              gtk_widget_activate_action (GTK_WIDGET (dialog), "reproduce.run", NULL);
            }
        }
      else if (g_str_equal (key, "invert") && value != NULL)
        gtk_switch_set_active (self->invert_switch, g_str_equal (value, "1"));
      else if (_pl_window_lesson_automate (self, key, value))
        ;
      else if (g_str_equal (key, "hover") && value != NULL)
        {
          /* "hover=0.5,0.5": the pointer over the heatmap, as fractions of its size */
          g_auto(GStrv) xy = g_strsplit (value, ",", 2);

          if (xy[0] != NULL && xy[1] != NULL)
            _pl_window_hover_heatmap (self,
                                      g_ascii_strtod (xy[0], NULL) * gtk_widget_get_width (GTK_WIDGET (self->heatmap_view)),
                                      g_ascii_strtod (xy[1], NULL) * gtk_widget_get_height (GTK_WIDGET (self->heatmap_view)));
        }
      else if (g_str_equal (key, "size") && value != NULL)
        {
          /* "size=1280x720": the window as a projector shows it */
          char *end = NULL;
          guint64 width = g_ascii_strtoull (value, &end, 10);
          guint64 height = end != NULL && *end == 'x' ? g_ascii_strtoull (end + 1, NULL, 10) : 0;

          if (width >= 360 && height >= 360)
            gtk_window_set_default_size (GTK_WINDOW (self), (int) width, (int) height);
        }
      else if (g_str_equal (key, "export") && value != NULL)
        {
          g_autoptr(GError) error = NULL;

          if (!pl_window_export_visible (self, value, &error))
            g_printerr ("automate: %s\n", error->message);
        }
      else if (g_str_equal (key, "report") && value != NULL)
        pl_window_export_report (self, value);
      else if (g_str_equal (key, "save-session") && value != NULL)
        pl_window_save_session_path (self, value);
      else if (g_str_equal (key, "open-session") && value != NULL)
        pl_window_open_session_path (self, value);
      else if (g_str_equal (key, "quit"))
        {
          /* closing may finalize the window: nothing of it is touched afterwards */
          self->step++;
          gtk_window_close (GTK_WINDOW (self));
          return G_SOURCE_REMOVE;
        }
      else
        {
          g_autofree char *action = g_strconcat ("win.", key, NULL);

          if (!gtk_widget_activate_action (GTK_WIDGET (self), action, NULL))
            g_printerr ("automate: unknown step “%s”\n", key);
        }

      self->step++;
    }

  /* the steps are done: teacher mode locks what the step does not use again */
  _pl_window_update_actions (self);
  return G_SOURCE_REMOVE;
}

void
pl_window_automate (PlWindow   *self,
                    const char *steps)
{
  g_clear_pointer (&self->steps, g_strfreev);
  self->steps = g_strsplit (steps, ";", -1);
  self->lesson_running = FALSE;
  self->step = 0;
  schedule_steps (self, 100);
}
