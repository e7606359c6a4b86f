/* pl-window-actions.c — the window's actions, and which are enabled */
#define G_LOG_DOMAIN "pl-window"

#include "config.h"

#include <glib/gi18n.h>
#include <math.h>

#include "pl-conv-schedule.h"
#include "pl-preferences.h"
#include "pl-reproduce-dialog.h"
#include "pl-window-private.h"

void
_pl_window_toast (PlWindow   *self,
                  const char *message)
{
  /* a toast's title is Pango markup: a message quoting a file or a parser ("<data>:1:26", "R&D")
   * is shown as it is written */
  g_autofree char *escaped = g_markup_escape_text (message, -1);
  AdwToast *toast = adw_toast_new (escaped);

  adw_toast_set_timeout (toast, 6);
  adw_toast_overlay_add_toast (self->toast_overlay, toast);
}

void
_pl_window_track (PlWindow *self,
                  guint     id)
{
  if (id > 0)
    self->pending++;
}

PlScope
_pl_window_scope (PlWindow *self)
{
  /* the Scope list is in the order of PlScope */
  return MIN (adw_combo_row_get_selected (self->scope_row), PL_SCOPE_ERK);
}

/* The rows of the N:M list */
static const guint nm_choices[][2] = { { 0, 0 }, { 2, 4 }, { 4, 8 }, { 1, 4 } };

void
_pl_window_nm (PlWindow *self,
               guint    *n,
               guint    *m)
{
  guint i = MIN (adw_combo_row_get_selected (self->nm_row), G_N_ELEMENTS (nm_choices) - 1);

  *n = nm_choices[i][0];
  *m = nm_choices[i][1];
}

/* What prunes a conv net (pl_engine_conv_strategy_supported): a weight score of
 * pl_conv_weight_score_supported, or the filter norms and channel scores that remove whole
 * filters; the global scope, not inverted, no N:M. */
static gboolean
conv_score_supported (PlScoreKind kind)
{
  PlStrategy strategy;

  pl_strategy_init (&strategy);
  strategy.score = kind;
  return pl_engine_conv_strategy_supported (&strategy, NULL);
}

gboolean
_pl_window_fit_conv_strategy (PlWindow *self)
{
  guint score = adw_combo_row_get_selected (self->score_row);
  gboolean was_updating = self->updating, changed = FALSE;
  g_autofree char *message = NULL;

  self->updating = TRUE;
  if (score < PL_N_SCORES && !conv_score_supported (score))
    {
      /* TRANSLATORS: a score's title, which the window replaced by magnitude's */
      message = g_strdup_printf (_("%s does not prune a convolutional network: magnitude instead"),
                                 _(pl_score_info (score)->title));
      adw_combo_row_set_selected (self->score_row, PL_SCORE_MAGNITUDE);
      gtk_label_set_label (self->explanation_label, _(pl_score_info (PL_SCORE_MAGNITUDE)->explanation));
      changed = TRUE;
    }
  if (_pl_window_scope (self) != PL_SCOPE_GLOBAL && _pl_window_scope (self) != PL_SCOPE_LAYER)
    {
      adw_combo_row_set_selected (self->scope_row, PL_SCOPE_GLOBAL);
      changed = TRUE;
    }
  if (gtk_switch_get_active (self->invert_switch))
    {
      gtk_switch_set_active (self->invert_switch, FALSE);
      changed = TRUE;
    }
  if (adw_combo_row_get_selected (self->nm_row) != 0)
    {
      adw_combo_row_set_selected (self->nm_row, 0);
      changed = TRUE;
    }
  self->updating = was_updating;
  if (message != NULL)
    _pl_window_toast (self, message);
  return changed;
}

void
_pl_window_send_strategy (PlWindow *self)
{
  PlStrategy strategy;
  guint score;

  if (_pl_window_network_is_conv (self))
    _pl_window_fit_conv_strategy (self);
  score = adw_combo_row_get_selected (self->score_row);

  pl_strategy_init (&strategy);
  strategy.score = MIN (score, PL_N_SCORES - 1);
  strategy.scope = _pl_window_scope (self);
  _pl_window_nm (self, &strategy.nm_n, &strategy.nm_m);
  strategy.invert = gtk_switch_get_active (self->invert_switch);
  _pl_window_track (self, pl_engine_set_strategy (self->engine, &strategy));
  self->last_preview = pl_engine_preview (self->engine,
                                          gtk_range_get_value (GTK_RANGE (self->sparsity_scale)) / 100.0,
                                          FALSE);
}

void
_pl_window_new_model (PlWindow *self)
{
  static const PlActivation acts[] = { PL_ACTIVATION_RELU, PL_ACTIVATION_TANH, PL_ACTIVATION_SIGMOID };
  g_autofree char *hidden = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->arch_row))));
  g_autofree char *arch = NULL;
  guint a = MIN (adw_combo_row_get_selected (self->activation_row), 2);

  if (_pl_window_network_is_conv (self))
    arch = g_strdup ("lenet5");
  else if (*hidden != '\0')
    arch = g_strdup_printf ("IN-%s-OUT", hidden);
  _pl_window_track (self, pl_engine_new_model (self->engine, arch, acts[a], 1));
}

static void
train_action (GtkWidget  *widget,
              const char *name,
              GVariant   *param)
{
  PlWindow *self = PL_WINDOW (widget);
  PlTrainConfig config;

  if (self->snapshot != NULL && self->snapshot->state == PL_ENGINE_STATE_PAUSED)
    {
      pl_engine_resume (self->engine);
      return;
    }
  pl_train_config_init (&config);
  config.epochs = (guint) gtk_spin_button_get_value (self->epochs_spin);
  config.lr = gtk_spin_button_get_value (self->lr_spin);
  config.batch_size = g_settings_get_uint (self->settings, "batch-size");
  if (self->snapshot != NULL && self->snapshot->n_features <= 2)
    config.batch_size = MIN (config.batch_size, 32);
  config.threads = g_settings_get_uint (self->settings, "train-threads");
  _pl_window_train_options (self, &config);
  _pl_window_track (self, pl_engine_train (self->engine, &config));
}

void
_pl_window_train_options (PlWindow      *self,
                          PlTrainConfig *config)
{
  guint penalty = adw_combo_row_get_selected (self->penalty_row);
  double lambda = gtk_spin_button_get_value (self->lambda_spin);

  config->l1 = penalty == PL_LESSON_PENALTY_L1 ? lambda : 0.0;
  config->article_l0 = penalty == PL_LESSON_PENALTY_ARTICLE_L0 ? lambda : 0.0;
  config->clip_norm = gtk_spin_button_get_value (self->clip_spin);
}

/* Δt for movement, SET and RigL: about PROCEDURE_MASK_UPDATES mask updates in a run of
 * @epochs epochs of ⌈n_train / batch⌉ steps. Movement updates every Δt steps over the first
 * ramp·steps (n = ⌊ramp·steps/Δt⌋ updates, pl-schedule.h), SET and RigL every Δt steps until
 * T_end = ⌊ramp·steps⌋, so both make ⌊ramp·steps/Δt⌋ ≈ 10 with Δt = max (1, ⌊ramp·steps/10⌋). */
#define PROCEDURE_MASK_UPDATES 10

static guint64
procedure_delta_steps (guint  n_train,
                       guint  batch_size,
                       guint  epochs,
                       double ramp)
{
  guint64 steps = (guint64) epochs * ((n_train + MAX (batch_size, 1) - 1) / MAX (batch_size, 1));

  return MAX ((guint64) floor (ramp * (double) steps / PROCEDURE_MASK_UPDATES), 1);
}

/* win.run-procedure: the procedure chosen, from the network as it is, to the slider's
 * sparsity, with the strategy's score and scope and the training settings; its points join the
 * Curves chart. */
static void
run_procedure_action (GtkWidget  *widget,
                      const char *name,
                      GVariant   *param)
{
  PlWindow *self = PL_WINDOW (widget);
  PlLessonProcedure procedure = MIN (gtk_drop_down_get_selected (self->procedure_dropdown),
                                     PL_LESSON_N_PROCEDURES - 1);
  double target = gtk_range_get_value (GTK_RANGE (self->sparsity_scale)) / 100.0;
  double lambda = gtk_spin_button_get_value (self->lambda_spin);
  gboolean rewind = FALSE;
  PlMethod method = pl_lesson_procedure_method (procedure, &rewind);
  PlScheduleConfig config;

  if (target <= 0.0)
    {
      _pl_window_toast (self, _("Set the sparsity to reach on the slider first"));
      return;
    }
  pl_schedule_config_init (&config);
  config.score = MIN (adw_combo_row_get_selected (self->score_row), PL_N_SCORES - 1);
  config.spec.scope = _pl_window_scope (self);
  _pl_window_nm (self, &config.spec.nm_n, &config.spec.nm_m);
  config.spec.invert = gtk_switch_get_active (self->invert_switch);
  config.train.lr = gtk_spin_button_get_value (self->lr_spin);
  config.train.batch_size = self->snapshot != NULL && self->snapshot->n_features <= 2
                            ? MIN (g_settings_get_uint (self->settings, "batch-size"), 32)
                            : g_settings_get_uint (self->settings, "batch-size");
  config.train.threads = g_settings_get_uint (self->settings, "train-threads");
  config.train.clip_norm = gtk_spin_button_get_value (self->clip_spin);
  config.targets[0] = target;
  config.n_targets = 1;
  config.rewind = rewind ? PL_REWIND_INIT : PL_REWIND_NONE;
  config.max_sparsity = 0.99;   /* adaptive: as far as the budget allows */
  config.l1 = lambda;
  config.l0.lambda = lambda;
  config.l0_lambdas[0] = lambda;
  config.n_l0_lambdas = 1;
  /* at initialisation: the untrained weights pruned, then trained as Train would */
  config.dense_epochs = MAX ((guint) gtk_spin_button_get_value (self->epochs_spin), 1);
  config.dense_lr = config.train.lr;
  /* SET and RigL train from scratch for as long as Train would */
  config.dst_epochs = config.dense_epochs;
  if (method == PL_METHOD_MOVEMENT || method == PL_METHOD_SET || method == PL_METHOD_RIGL)
    config.delta_steps = procedure_delta_steps (self->snapshot != NULL ? self->snapshot->n_train : 0,
                                                config.train.batch_size,
                                                method == PL_METHOD_MOVEMENT ? config.gradual_epochs
                                                                             : config.dst_epochs,
                                                config.ramp);
  _pl_window_track (self, pl_engine_run_schedule (self->engine, method, &config, 1, FALSE));
}

/* win.prune-obs: Optimal Brain Surgeon with reconstruction to the slider's sparsity, in the
 * strategy's scope (pl_engine_prune_obs); a prune step like Apply, which Undo reverts. */
static void
prune_obs_action (GtkWidget  *widget,
                  const char *name,
                  GVariant   *param)
{
  PlWindow *self = PL_WINDOW (widget);
  double target = gtk_range_get_value (GTK_RANGE (self->sparsity_scale)) / 100.0;

  if (target <= 0.0)
    {
      _pl_window_toast (self, _("Set the sparsity to reach on the slider first"));
      return;
    }
  /* the scope it allocates the sparsity with is the strategy's: send the panel's first */
  _pl_window_send_strategy (self);
  _pl_window_track (self, pl_engine_prune_obs (self->engine, CLAMP (target, 0.0, 1.0)));
}

PlReproduceDialog *
pl_window_open_reproduce (PlWindow *self)
{
  g_return_val_if_fail (PL_IS_WINDOW (self), NULL);

  if (self->reproduce_dialog == NULL)
    {
      self->reproduce_dialog = GTK_WIDGET (pl_reproduce_dialog_new (GTK_WINDOW (self), self->engine));
      g_object_add_weak_pointer (G_OBJECT (self->reproduce_dialog), (gpointer *) &self->reproduce_dialog);
    }
  gtk_window_present (GTK_WINDOW (self->reproduce_dialog));
  return PL_REPRODUCE_DIALOG (self->reproduce_dialog);
}

/* win.reproduce: the Reproduce a Paper dialog (pl-reproduce-dialog.h); the run it starts goes
 * on the engine thread, and Stop (Escape) ends it as it ends a training run. */
static void
reproduce_action (GtkWidget  *widget,
                  const char *name,
                  GVariant   *param)
{
  pl_window_open_reproduce (PL_WINDOW (widget));
}

static void
pause_action (GtkWidget  *widget,
              const char *name,
              GVariant   *param)
{
  pl_engine_pause (PL_WINDOW (widget)->engine);
}

static void
stop_action (GtkWidget  *widget,
             const char *name,
             GVariant   *param)
{
  pl_engine_stop (PL_WINDOW (widget)->engine);
}

static void
new_model_action (GtkWidget  *widget,
                  const char *name,
                  GVariant   *param)
{
  PlWindow *self = PL_WINDOW (widget);

  _pl_window_new_model (self);
  _pl_window_send_strategy (self);
}

static void
apply_prune_action (GtkWidget  *widget,
                    const char *name,
                    GVariant   *param)
{
  PlWindow *self = PL_WINDOW (widget);

  _pl_window_track (self, pl_engine_apply_prune (self->engine));
  /* the preview after applying starts from the pruned model: back to 0 % more */
  self->updating = TRUE;
  gtk_range_set_value (GTK_RANGE (self->sparsity_scale), 0.0);
  self->updating = FALSE;
}

static void
fine_tune_action (GtkWidget  *widget,
                  const char *name,
                  GVariant   *param)
{
  PlWindow *self = PL_WINDOW (widget);

  _pl_window_track (self, pl_engine_fine_tune (self->engine, 1, gtk_spin_button_get_value (self->lr_spin) / 10));
}

static void
undo_action (GtkWidget  *widget,
             const char *name,
             GVariant   *param)
{
  PlWindow *self = PL_WINDOW (widget);

  _pl_window_track (self, pl_engine_undo (self->engine));
}

static void
rewind_action (GtkWidget  *widget,
               const char *name,
               GVariant   *param)
{
  PlWindow *self = PL_WINDOW (widget);

  _pl_window_track (self, pl_engine_rewind (self->engine));
}

static void
sweep_action (GtkWidget  *widget,
              const char *name,
              GVariant   *param)
{
  PlWindow *self = PL_WINDOW (widget);
  PlScoreKind scores[4] = { PL_SCORE_MAGNITUDE, PL_SCORE_TAYLOR, PL_SCORE_RANDOM };
  guint n = 3;
  guint chosen = adw_combo_row_get_selected (self->score_row);

  if (chosen < PL_N_SCORES && chosen != PL_SCORE_MAGNITUDE && chosen != PL_SCORE_TAYLOR
      && chosen != PL_SCORE_RANDOM && !pl_score_info (chosen)->per_neuron)
    scores[n++] = chosen;
  _pl_window_track (self, pl_engine_sweep (self->engine, scores, n, 24, 0.99, 3));
  gtk_progress_bar_set_fraction (self->sweep_progress, 0.0);
}

static void
zoom_action (GtkWidget  *widget,
             const char *name,
             GVariant   *param)
{
  PlWindow *self = PL_WINDOW (widget);
  int width, height;

  self->zoom = g_str_equal (name, "win.zoom-in") ? MIN (self->zoom * 1.5, 16.0) : MAX (self->zoom / 1.5, 1.0);
  width = gtk_widget_get_width (GTK_WIDGET (self->heatmap_scroller));
  height = gtk_widget_get_height (GTK_WIDGET (self->heatmap_scroller));
  gtk_widget_set_size_request (GTK_WIDGET (self->heatmap_view),
                               self->zoom > 1.0 ? (int) (width * self->zoom) - 4 : 240,
                               self->zoom > 1.0 ? (int) (height * self->zoom) - 4 : 180);
}

static void
presentation_action (GtkWidget  *widget,
                     const char *name,
                     GVariant   *param)
{
  PlWindow *self = PL_WINDOW (widget);

  /* the window follows the setting (pl-window.c), as the preferences do */
  g_settings_set_boolean (self->settings, "presentation-mode", !self->presentation);
}

static void
preferences_action (GtkWidget  *widget,
                    const char *name,
                    GVariant   *param)
{
  PlWindow *self = PL_WINDOW (widget);
  GtkWidget *prefs = pl_preferences_new (self->settings);

  gtk_window_set_transient_for (GTK_WINDOW (prefs), GTK_WINDOW (self));
  gtk_window_present (GTK_WINDOW (prefs));
}

/* ---- files ---- */

static PlChartView *
visible_chart (PlWindow *self)
{
  const char *page = adw_view_stack_get_visible_child_name (self->view_stack);

  if (g_strcmp0 (page, "threshold") == 0)
    return self->histogram_view;
  if (g_strcmp0 (page, "curves") == 0)
    return self->curves_view;
  if (g_strcmp0 (page, "training") == 0)
    return self->training_view;
  if (g_strcmp0 (page, "model") == 0)
    return self->snapshot != NULL && self->snapshot->n_features == 2 ? self->boundary_view : self->network_view;
  if (g_strcmp0 (page, "filters") == 0)
    return self->filters_view;
  if (g_strcmp0 (page, "maps") == 0)
    return self->maps_view;
  if (g_strcmp0 (page, "results") == 0)
    return self->confusion_view;
  return self->heatmap_view;
}

gboolean
pl_window_export_visible (PlWindow    *self,
                          const char  *path,
                          GError     **error)
{
  return pl_chart_view_export (visible_chart (self), path, error);
}

static void
on_export_response (GtkNativeDialog *dialog,
                    int              response,
                    PlWindow        *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *path = g_file_get_path (file);
      g_autoptr(GError) error = NULL;

      if (!pl_window_export_visible (self, path, &error))
        _pl_window_toast (self, error->message);
      else
        {
          g_autofree char *base = g_path_get_basename (path);
          g_autofree char *message = g_strdup_printf (_("Saved “%s”"), base);
          _pl_window_toast (self, message);
        }
    }
  g_object_unref (dialog);
}

static void
export_action (GtkWidget  *widget,
               const char *name,
               GVariant   *param)
{
  PlWindow *self = PL_WINDOW (widget);
  const char *format = g_variant_get_string (param, NULL);
  g_autofree char *suggested = NULL;
  GtkFileChooserNative *dialog;

  dialog = gtk_file_chooser_native_new (_("Export Chart"), GTK_WINDOW (self),
                                        GTK_FILE_CHOOSER_ACTION_SAVE, _("_Export"), _("_Cancel"));
  suggested = g_strdup_printf ("prunelab-%s.%s",
                               adw_view_stack_get_visible_child_name (self->view_stack), format);
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (dialog), suggested);
  g_signal_connect (dialog, "response", G_CALLBACK (on_export_response), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (dialog));
}

void
pl_window_open_model_path (PlWindow   *self,
                           const char *path)
{
  _pl_window_track (self, pl_engine_load_model (self->engine, path));
  _pl_window_send_strategy (self);
}

static void
on_model_response (GtkNativeDialog *dialog,
                   int              response,
                   PlWindow        *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *path = g_file_get_path (file);

      if (gtk_file_chooser_get_action (GTK_FILE_CHOOSER (dialog)) == GTK_FILE_CHOOSER_ACTION_OPEN)
        pl_window_open_model_path (self, path);
      else
        _pl_window_track (self, pl_engine_save_model (self->engine, path));
    }
  g_object_unref (dialog);
}

static void
model_file_action (GtkWidget  *widget,
                   const char *name,
                   GVariant   *param)
{
  PlWindow *self = PL_WINDOW (widget);
  gboolean open = g_str_equal (name, "win.open-model");
  g_autoptr(GtkFileFilter) filter = gtk_file_filter_new ();
  GtkFileChooserNative *dialog;

  dialog = gtk_file_chooser_native_new (open ? _("Open Model") : _("Save Model"), GTK_WINDOW (self),
                                        open ? GTK_FILE_CHOOSER_ACTION_OPEN : GTK_FILE_CHOOSER_ACTION_SAVE,
                                        open ? _("_Open") : _("_Save"), _("_Cancel"));
  gtk_file_filter_set_name (filter, _("safetensors models"));
  gtk_file_filter_add_pattern (filter, "*.safetensors");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (dialog), filter);
  if (!open)
    gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (dialog), "model.safetensors");
  g_signal_connect (dialog, "response", G_CALLBACK (on_model_response), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (dialog));
}

void
_pl_window_update_actions (PlWindow *self)
{
  PlSnapshot *s = self->snapshot;
  GtkWidget *w = GTK_WIDGET (self);
  gboolean has_model = s != NULL && s->arch != NULL;
  gboolean idle = s != NULL && s->state == PL_ENGINE_STATE_IDLE;
  gboolean procedure_ok = TRUE;
  gboolean running = s != NULL && (s->state == PL_ENGINE_STATE_TRAINING || s->state == PL_ENGINE_STATE_SWEEPING
                                   || s->state == PL_ENGINE_STATE_PAUSED
                                   || (s->state == PL_ENGINE_STATE_BUSY && (s->command == PL_ENGINE_COMMAND_SCHEDULE
                                                                            || s->command == PL_ENGINE_COMMAND_PRUNE_OBS
                                                                            || s->command == PL_ENGINE_COMMAND_REPRODUCE)));

  /* a conv net runs the one-shot and iterative procedures (pl_conv_schedule_supported) */
  if (_pl_window_is_conv (self))
    {
      gboolean rewind = FALSE;
      PlLessonProcedure procedure = MIN (gtk_drop_down_get_selected (self->procedure_dropdown),
                                         PL_LESSON_N_PROCEDURES - 1);

      procedure_ok = pl_conv_schedule_supported (pl_lesson_procedure_method (procedure, &rewind));
    }
  gtk_widget_set_tooltip_text (self->procedure_button,
                               procedure_ok ? _("Run the procedure from this network to the slider's sparsity; its curve joins the chart")
                                            : _("This procedure trains or gates dense layers only: a convolutional network runs one-shot and iterative pruning"));

#define FREE(control) (!_pl_window_control_locked (self, PL_LESSON_CONTROL_##control))
  gtk_widget_action_set_enabled (w, "win.train", has_model && (idle || s->state == PL_ENGINE_STATE_PAUSED)
                                                 && FREE (TRAIN));
  gtk_widget_action_set_enabled (w, "win.pause", s != NULL && s->state == PL_ENGINE_STATE_TRAINING && FREE (TRAIN));
  gtk_widget_action_set_enabled (w, "win.stop", running);
  gtk_widget_action_set_enabled (w, "win.new-model", idle && FREE (NETWORK));
  gtk_widget_action_set_enabled (w, "win.apply-prune", has_model && idle && s->has_preview && s->preview.changed + s->preview.pruned > 0
                                                       && FREE (APPLY_PRUNE));
  gtk_widget_action_set_enabled (w, "win.fine-tune", has_model && idle && FREE (FINE_TUNE));
  gtk_widget_action_set_enabled (w, "win.undo", idle && s->can_undo && FREE (UNDO));
  gtk_widget_action_set_enabled (w, "win.rewind", has_model && idle && FREE (REWIND));
  gtk_widget_action_set_enabled (w, "win.sweep", has_model && idle && FREE (SWEEP));
  gtk_widget_action_set_enabled (w, "win.run-procedure", has_model && idle && procedure_ok && FREE (PROCEDURE));
  gtk_widget_action_set_enabled (w, "win.prune-obs", has_model && idle && !_pl_window_is_conv (self)
                                                     && FREE (PRUNE_OBS));
#undef FREE
  gtk_widget_set_tooltip_text (self->obs_button,
                               _pl_window_is_conv (self)
                               ? _("Optimal Brain Surgeon refits dense layers only: not for a convolutional network")
                               : _("Optimal Brain Surgeon to this sparsity in the chosen scope: each layer's kept weights are refitted on training samples to make up for the pruned ones, without retraining (Undo reverts it)"));
  gtk_widget_action_set_enabled (w, "win.open-model", idle);
  gtk_widget_action_set_enabled (w, "win.save-model", has_model);
  _pl_window_update_lesson_actions (self);
  _pl_window_sparse_update_actions (self);
  _pl_window_update_session_actions (self);
}

void
_pl_window_class_init_actions (GtkWidgetClass *widget_class)
{
  gtk_widget_class_install_action (widget_class, "win.train", NULL, train_action);
  gtk_widget_class_install_action (widget_class, "win.pause", NULL, pause_action);
  gtk_widget_class_install_action (widget_class, "win.stop", NULL, stop_action);
  gtk_widget_class_install_action (widget_class, "win.new-model", NULL, new_model_action);
  gtk_widget_class_install_action (widget_class, "win.apply-prune", NULL, apply_prune_action);
  gtk_widget_class_install_action (widget_class, "win.fine-tune", NULL, fine_tune_action);
  gtk_widget_class_install_action (widget_class, "win.undo", NULL, undo_action);
  gtk_widget_class_install_action (widget_class, "win.rewind", NULL, rewind_action);
  gtk_widget_class_install_action (widget_class, "win.sweep", NULL, sweep_action);
  gtk_widget_class_install_action (widget_class, "win.run-procedure", NULL, run_procedure_action);
  gtk_widget_class_install_action (widget_class, "win.prune-obs", NULL, prune_obs_action);
  gtk_widget_class_install_action (widget_class, "win.reproduce", NULL, reproduce_action);
  gtk_widget_class_install_action (widget_class, "win.zoom-in", NULL, zoom_action);
  gtk_widget_class_install_action (widget_class, "win.zoom-out", NULL, zoom_action);
  gtk_widget_class_install_action (widget_class, "win.presentation", NULL, presentation_action);
  gtk_widget_class_install_action (widget_class, "win.preferences", NULL, preferences_action);
  gtk_widget_class_install_action (widget_class, "win.export", "s", export_action);
  gtk_widget_class_install_action (widget_class, "win.open-model", NULL, model_file_action);
  gtk_widget_class_install_action (widget_class, "win.save-model", NULL, model_file_action);

  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_F5, 0, "win.train", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_space, GDK_CONTROL_MASK, "win.pause", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "win.stop", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_n, GDK_CONTROL_MASK, "win.new-model", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_p, GDK_CONTROL_MASK, "win.apply-prune", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_z, GDK_CONTROL_MASK, "win.undo", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_o, GDK_CONTROL_MASK, "win.open-model", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_s, GDK_CONTROL_MASK, "win.save-model", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_plus, GDK_CONTROL_MASK, "win.zoom-in", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_equal, GDK_CONTROL_MASK, "win.zoom-in", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_minus, GDK_CONTROL_MASK, "win.zoom-out", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_F9, 0, "win.presentation", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_comma, GDK_CONTROL_MASK, "win.preferences", NULL);
}
