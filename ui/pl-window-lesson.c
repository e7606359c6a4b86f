#define G_LOG_DOMAIN "pl-window-lesson"

#include "config.h"

#include <glib/gi18n.h>

#include "pl-window-private.h"

/* A lesson step as the window's automation steps (pl_window_automate): the view, the
 * settings as a user would set them, then the actions in order, each waiting for the engine,
 * so that the step runs through the same widgets and actions as a user's clicks. */
char *
_pl_window_lesson_automation (const PlLessonStep *step)
{
  const PlLessonSettings *s = &step->settings;
  g_autoptr(GString) out = g_string_new (NULL);
  char number[G_ASCII_DTOSTR_BUF_SIZE];

  g_string_append_printf (out, "view=%s;", pl_lesson_view_name (step->view));
  if (s->has_dataset)
    g_string_append_printf (out, "dataset=%s;idle;", s->dataset);
  if (s->has_network)
    g_string_append_printf (out, "network=%s;idle;", s->network);
  if (s->has_hidden)
    g_string_append_printf (out, "hidden=%s;", s->hidden);
  if (s->has_activation)
    g_string_append_printf (out, "activation=%s;", s->activation);
  if (s->has_epochs)
    g_string_append_printf (out, "epochs=%u;", s->epochs);
  if (s->has_lr)
    g_string_append_printf (out, "lr=%s;", g_ascii_dtostr (number, sizeof number, s->lr));
  if (s->has_scope)
    g_string_append_printf (out, "scope=%s;", pl_scope_name (s->scope));
  if (s->has_invert)
    g_string_append_printf (out, "invert=%d;", s->invert ? 1 : 0);
  if (s->has_score)
    g_string_append_printf (out, "score=%s;idle;", pl_score_info (s->score)->name);
  if (s->has_penalty)
    g_string_append_printf (out, "penalty=%s;", pl_lesson_penalty_name (s->penalty));
  if (s->has_lambda)
    g_string_append_printf (out, "lambda=%s;", g_ascii_dtostr (number, sizeof number, s->lambda));
  if (s->has_clip_norm)
    g_string_append_printf (out, "clip-norm=%s;", g_ascii_dtostr (number, sizeof number, s->clip_norm));
  if (s->has_procedure)
    g_string_append_printf (out, "procedure=%s;", pl_lesson_procedure_name (s->procedure));

  for (guint i = 0; i < step->n_actions; i++)
    {
      if (step->actions[i] == PL_LESSON_ACTION_PREVIEW)
        g_string_append_printf (out, "sparsity=%s;",
                                g_ascii_dtostr (number, sizeof number, 100 * s->sparsity));
      else if (step->actions[i] == PL_LESSON_ACTION_PROCEDURE)
        g_string_append_printf (out, "sparsity=%s;idle;run-procedure;",
                                g_ascii_dtostr (number, sizeof number, 100 * s->sparsity));
      else if (step->actions[i] == PL_LESSON_ACTION_PRUNE_OBS)
        g_string_append_printf (out, "sparsity=%s;idle;prune-obs;",
                                g_ascii_dtostr (number, sizeof number, 100 * s->sparsity));
      else
        g_string_append_printf (out, "%s;", pl_lesson_action_name (step->actions[i]));
      g_string_append (out, "idle;");
    }

  return g_string_free (g_steal_pointer (&out), FALSE);
}

void
pl_window_run_lesson_step (PlWindow           *self,
                           const PlLessonStep *step)
{
  g_autofree char *steps = NULL;

  g_return_if_fail (PL_IS_WINDOW (self));
  g_return_if_fail (step != NULL);

  steps = _pl_window_lesson_automation (step);
  pl_window_automate (self, steps);
}

/* ---- the installed lessons ---- */

static const PlLesson *
find_lesson (PlWindow   *self,
             const char *id)
{
  for (guint i = 0; self->lessons != NULL && i < self->lessons->len; i++)
    {
      const PlLesson *lesson = g_ptr_array_index (self->lessons, i);

      if (g_str_equal (lesson->id, id))
        return lesson;
    }
  return NULL;
}

static int
compare_names (gconstpointer a,
               gconstpointer b)
{
  return g_strcmp0 (*(char * const *) a, *(char * const *) b);
}

/* The lessons of every folder pl_lesson_dirs() names; the first folder wins for an id (the
 * build tree's over the installed ones). A file that does not load is reported and left out,
 * so that one bad lesson does not take the others away. */
static void
load_lessons (PlWindow *self)
{
  g_auto(GStrv) dirs = pl_lesson_dirs ();
  g_autoptr(GString) problems = g_string_new (NULL);

  self->lessons = g_ptr_array_new_with_free_func ((GDestroyNotify) pl_lesson_free);
  for (guint d = 0; dirs[d] != NULL; d++)
    {
      g_autoptr(GDir) dir = g_dir_open (dirs[d], 0, NULL);
      g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
      const char *name;

      while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
        if (g_str_has_suffix (name, ".json"))
          g_ptr_array_add (names, g_strdup (name));
      g_ptr_array_sort (names, compare_names);
      for (guint i = 0; i < names->len; i++)
        {
          g_autofree char *path = g_build_filename (dirs[d], g_ptr_array_index (names, i), NULL);
          g_autoptr(GError) error = NULL;
          g_autoptr(PlLesson) lesson = pl_lesson_load (path, &error);

          if (lesson == NULL)
            g_string_append_printf (problems, "%s%s", problems->len > 0 ? "\n" : "", error->message);
          else if (find_lesson (self, lesson->id) == NULL)
            g_ptr_array_add (self->lessons, g_steal_pointer (&lesson));
        }
    }
  if (problems->len > 0)
    _pl_window_toast (self, problems->str);
}

static void
fill_lessons_menu (PlWindow *self)
{
  g_menu_remove_all (self->lessons_menu);
  for (guint i = 0; i < self->lessons->len; i++)
    {
      const PlLesson *lesson = g_ptr_array_index (self->lessons, i);
      g_autofree char *label = g_strdup_printf ("%u. %s", i + 1, pl_lesson_text_get (&lesson->title));
      g_autoptr(GMenuItem) item = g_menu_item_new (label, NULL);

      g_menu_item_set_action_and_target_value (item, "win.open-lesson", g_variant_new_string (lesson->id));
      g_menu_append_item (self->lessons_menu, item);
    }
  if (self->lessons->len == 0)
    {
      g_autoptr(GMenuItem) item = g_menu_item_new (_("No lessons installed"), "win.no-lessons");

      g_menu_append_item (self->lessons_menu, item);
    }
}

void
_pl_window_init_lessons (PlWindow *self)
{
  load_lessons (self);
  fill_lessons_menu (self);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.no-lessons", FALSE);
}

GPtrArray *
pl_window_get_lessons (PlWindow *self)
{
  g_return_val_if_fail (PL_IS_WINDOW (self), NULL);
  return self->lessons;
}

const PlLesson *
pl_window_get_lesson (PlWindow *self,
                      guint    *step)
{
  g_return_val_if_fail (PL_IS_WINDOW (self), NULL);
  if (step != NULL)
    *step = self->lesson != NULL ? self->lesson_step : 0;
  return self->lesson;
}

/* ---- steps ---- */

/* The automation of steps @from … @to of the open lesson, each led by "lesson-step=N" so
 * that the panel shows the step whose settings and actions follow. (transfer full) */
static char *
steps_automation (PlWindow *self,
                  guint     from,
                  guint     to)
{
  g_autoptr(GString) out = g_string_new (NULL);

  for (guint k = from; k <= to && k < self->lesson->n_steps; k++)
    {
      g_autofree char *step = _pl_window_lesson_automation (&self->lesson->steps[k]);

      g_string_append_printf (out, "lesson-step=%u;%s", k, step);
    }
  g_string_append (out, "lesson-done;");
  return g_string_free (g_steal_pointer (&out), FALSE);
}

/* Puts @more after the automation step running now (or starts it when none is running). */
static void
splice_automation (PlWindow   *self,
                   const char *more)
{
  g_autoptr(GStrvBuilder) builder = NULL;
  g_auto(GStrv) inserted = NULL;

  if (self->steps == NULL || self->steps[self->step] == NULL)
    {
      pl_window_automate (self, more);
      return;
    }
  builder = g_strv_builder_new ();
  inserted = g_strsplit (more, ";", -1);
  for (guint i = 0; i <= self->step; i++)
    g_strv_builder_add (builder, self->steps[i]);
  g_strv_builder_addv (builder, (const char **) inserted);
  for (guint i = self->step + 1; self->steps[i] != NULL; i++)
    g_strv_builder_add (builder, self->steps[i]);
  g_strfreev (self->steps);
  self->steps = g_strv_builder_end (builder);
}

/* A step's settings and actions are running (from lesson-step=N to lesson-done). */
static gboolean
step_running (PlWindow *self)
{
  return self->lesson_running && self->steps != NULL && self->steps[self->step] != NULL;
}

/* The widget that takes the keyboard for a control, for focus. */
static GtkWidget *
control_widget (PlWindow        *self,
                PlLessonControl  control)
{
  switch (control)
    {
    case PL_LESSON_CONTROL_DATASET:     return GTK_WIDGET (self->dataset_row);
    case PL_LESSON_CONTROL_NETWORK:     return GTK_WIDGET (self->arch_row);
    case PL_LESSON_CONTROL_TRAINING:    return GTK_WIDGET (self->epochs_spin);
    case PL_LESSON_CONTROL_TRAIN:       return self->train_button;
    case PL_LESSON_CONTROL_STRATEGY:    return GTK_WIDGET (self->score_row);
    case PL_LESSON_CONTROL_SPARSITY:    return GTK_WIDGET (self->sparsity_scale);
    case PL_LESSON_CONTROL_THRESHOLD:   return GTK_WIDGET (self->histogram_view);
    case PL_LESSON_CONTROL_APPLY_PRUNE: return self->apply_button;
    case PL_LESSON_CONTROL_FINE_TUNE:   return self->fine_tune_button;
    case PL_LESSON_CONTROL_REWIND:      return self->rewind_button;
    case PL_LESSON_CONTROL_UNDO:        return self->undo_button;
    case PL_LESSON_CONTROL_SWEEP:       return self->sweep_button;
    case PL_LESSON_CONTROL_REGULARISATION: return GTK_WIDGET (self->penalty_row);
    case PL_LESSON_CONTROL_PROCEDURE:   return GTK_WIDGET (self->procedure_dropdown);
    case PL_LESSON_CONTROL_PRUNE_OBS:   return self->obs_button;
    case PL_LESSON_N_CONTROLS:
    default:                            return NULL;
    }
}

gboolean
_pl_window_control_locked (PlWindow        *self,
                           PlLessonControl  control)
{
  if (!self->teacher_mode || self->lesson == NULL || step_running (self))
    return FALSE;
  return (self->lesson->steps[self->lesson_step].controls & (1u << control)) == 0;
}

void
_pl_window_update_teacher (PlWindow *self)
{
  gboolean locked[PL_LESSON_N_CONTROLS];

  for (guint c = 0; c < PL_LESSON_N_CONTROLS; c++)
    locked[c] = self->teacher_mode && self->lesson != NULL
                && (self->lesson->steps[self->lesson_step].controls & (1u << c)) == 0;

  /* settings the step does not use are hidden; the buttons are locked by their actions
   * (_pl_window_update_actions), the slider and the histogram here */
  gtk_widget_set_visible (self->pruning_group, !locked[PL_LESSON_CONTROL_STRATEGY]);
  gtk_widget_set_visible (GTK_WIDGET (self->dataset_row), !locked[PL_LESSON_CONTROL_DATASET]);
  gtk_widget_set_visible (GTK_WIDGET (self->network_row), !locked[PL_LESSON_CONTROL_NETWORK]);
  gtk_widget_set_visible (GTK_WIDGET (self->arch_row), !locked[PL_LESSON_CONTROL_NETWORK]
                                                       && !_pl_window_network_is_conv (self));
  gtk_widget_set_visible (GTK_WIDGET (self->activation_row), !locked[PL_LESSON_CONTROL_NETWORK]);
  gtk_widget_set_visible (self->new_row, !locked[PL_LESSON_CONTROL_NETWORK]);
  gtk_widget_set_visible (self->epochs_row, !locked[PL_LESSON_CONTROL_TRAINING]);
  gtk_widget_set_visible (self->lr_row, !locked[PL_LESSON_CONTROL_TRAINING]);
  gtk_widget_set_visible (GTK_WIDGET (self->penalty_row), !locked[PL_LESSON_CONTROL_REGULARISATION]);
  gtk_widget_set_visible (self->lambda_row, !locked[PL_LESSON_CONTROL_REGULARISATION]);
  gtk_widget_set_visible (self->clip_row, !locked[PL_LESSON_CONTROL_REGULARISATION]);
  gtk_widget_set_visible (self->network_group,
                          !locked[PL_LESSON_CONTROL_DATASET] || !locked[PL_LESSON_CONTROL_NETWORK]
                          || !locked[PL_LESSON_CONTROL_TRAINING]
                          || !locked[PL_LESSON_CONTROL_REGULARISATION]);
  gtk_widget_set_sensitive (GTK_WIDGET (self->procedure_dropdown), !locked[PL_LESSON_CONTROL_PROCEDURE]);
  gtk_widget_set_sensitive (GTK_WIDGET (self->sparsity_scale), !locked[PL_LESSON_CONTROL_SPARSITY]);
  gtk_widget_set_focusable (GTK_WIDGET (self->histogram_view), !locked[PL_LESSON_CONTROL_THRESHOLD]);
}

/* Shows step @k of the open lesson, without running it. */
static void
show_step (PlWindow *self,
           guint     k)
{
  self->lesson_step = MIN (k, self->lesson->n_steps - 1);
  gtk_widget_set_visible (GTK_WIDGET (self->lesson_panel), TRUE);
  pl_lesson_panel_show_step (self->lesson_panel, self->lesson, self->lesson_step);
  _pl_window_update_teacher (self);
  _pl_window_update_actions (self);
}

/* Where the keyboard goes once a step is entered: in teacher mode the first control the step
 * uses (the others are put away, so Tab walks the step's controls), else Next. */
static void
focus_step (PlWindow *self)
{
  guint controls = self->lesson->steps[self->lesson_step].controls;
  GtkWidget *focus = pl_lesson_panel_get_next_button (self->lesson_panel);

  if (self->teacher_mode)
    for (guint c = 0; c < PL_LESSON_N_CONTROLS; c++)
      if (controls & (1u << c))
        {
          GtkWidget *w = control_widget (self, c);

          if (w != NULL && gtk_widget_get_visible (w) && gtk_widget_get_focusable (w))
            {
              focus = w;
              break;
            }
        }
  gtk_widget_grab_focus (focus);
}

/* Enters step @k: shows it, then runs its settings and actions. */
static void
enter_step (PlWindow *self,
            guint     k)
{
  g_autofree char *steps = NULL;

  steps = steps_automation (self, k, k);
  show_step (self, k);
  pl_window_automate (self, steps);
  self->lesson_running = TRUE;
  _pl_window_update_actions (self);
  focus_step (self);
}

gboolean
pl_window_open_lesson (PlWindow    *self,
                       const char  *id,
                       guint        step,
                       GError     **error)
{
  const PlLesson *lesson;
  g_autofree char *steps = NULL;

  g_return_val_if_fail (PL_IS_WINDOW (self), FALSE);
  g_return_val_if_fail (id != NULL, FALSE);

  lesson = find_lesson (self, id);
  if (lesson == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, _("No lesson “%s” is installed"), id);
      return FALSE;
    }
  if (step >= lesson->n_steps)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("Lesson “%s” has %u steps, not %u"), id, lesson->n_steps, step + 1);
      return FALSE;
    }
  self->lesson = lesson;
  /* a later step builds on the earlier ones (a trained network, an applied mask): they run first */
  steps = steps_automation (self, 0, step);
  show_step (self, 0);
  splice_automation (self, steps);
  self->lesson_running = TRUE;
  _pl_window_update_actions (self);
  focus_step (self);
  return TRUE;
}

/* The lesson step a session was saved at, shown without running it: the session holds the
 * network, data and masks the steps up to it made. A lesson this installation does not have is
 * said in a toast, and the session keeps it for its next save. */
void
_pl_window_show_session_lesson (PlWindow   *self,
                                const char *id,
                                guint       step)
{
  const PlLesson *lesson = id != NULL ? find_lesson (self, id) : NULL;

  g_clear_pointer (&self->session_lesson, g_free);
  self->session_lesson_step = 0;
  self->lesson_running = FALSE;
  if (lesson != NULL && step < lesson->n_steps)
    {
      self->lesson = lesson;
      show_step (self, step);
      adw_view_stack_set_visible_child_name (self->view_stack, pl_lesson_view_name (lesson->steps[step].view));
      return;
    }

  /* the session has no lesson, or one not shown here: the panel closes */
  self->lesson = NULL;
  gtk_widget_set_visible (GTK_WIDGET (self->lesson_panel), FALSE);
  _pl_window_update_teacher (self);
  _pl_window_update_actions (self);
  if (id == NULL)
    return;
  self->session_lesson = g_strdup (id);
  self->session_lesson_step = step;
  if (lesson == NULL)
    {
      g_autofree char *message = g_strdup_printf (_("The session was saved at a step of lesson “%s”, "
                                                    "which is not installed here"), id);
      _pl_window_toast (self, message);
    }
  else
    {
      g_autofree char *message = g_strdup_printf (_("The session was saved at step %u of lesson “%s”, "
                                                    "which has %u steps here"),
                                                  step + 1, id, lesson->n_steps);
      _pl_window_toast (self, message);
    }
}

/* The lesson and step a session saved now records (0-based step): the open lesson's, else one
 * a session brought that could not be shown, else none. */
const char *
_pl_window_lesson_for_session (PlWindow *self,
                               guint    *step)
{
  if (self->lesson != NULL)
    {
      *step = self->lesson_step;
      return self->lesson->id;
    }
  *step = self->session_lesson_step;
  return self->session_lesson;
}

gboolean
_pl_window_lesson_automate (PlWindow   *self,
                            const char *key,
                            const char *value)
{
  if (g_str_equal (key, "lesson") && value != NULL)
    {
      g_auto(GStrv) parts = g_strsplit (value, ":", 2);
      guint step = parts[1] != NULL ? (guint) g_ascii_strtoull (parts[1], NULL, 10) : 1;
      g_autoptr(GError) error = NULL;

      /* "lesson=magnitude:3": the third step, counted as the panel counts */
      if (!pl_window_open_lesson (self, parts[0], step > 0 ? step - 1 : 0, &error))
        g_printerr ("automate: %s\n", error->message);
      return TRUE;
    }
  if (g_str_equal (key, "lesson-step") && value != NULL)
    {
      if (self->lesson != NULL)
        show_step (self, (guint) g_ascii_strtoull (value, NULL, 10));
      return TRUE;
    }
  if (g_str_equal (key, "lesson-done"))
    {
      self->lesson_running = FALSE;
      _pl_window_update_actions (self);
      return TRUE;
    }
  if (g_str_equal (key, "teacher") && value != NULL)
    {
      pl_window_set_teacher_mode (self, g_str_equal (value, "1"));
      return TRUE;
    }
  return FALSE;
}

/* ---- actions ---- */

static void
open_lesson_action (GtkWidget  *widget,
                    const char *name,
                    GVariant   *param)
{
  PlWindow *self = PL_WINDOW (widget);
  g_autoptr(GError) error = NULL;

  if (!pl_window_open_lesson (self, g_variant_get_string (param, NULL), 0, &error))
    _pl_window_toast (self, error->message);
}

static void
lesson_move_action (GtkWidget  *widget,
                    const char *name,
                    GVariant   *param)
{
  PlWindow *self = PL_WINDOW (widget);
  gboolean next = g_str_equal (name, "win.lesson-next");

  if (self->lesson == NULL)
    return;
  if (next && self->lesson_step + 1 < self->lesson->n_steps)
    enter_step (self, self->lesson_step + 1);
  else if (!next && self->lesson_step > 0)
    enter_step (self, self->lesson_step - 1);
}

static void
lesson_close_action (GtkWidget  *widget,
                     const char *name,
                     GVariant   *param)
{
  PlWindow *self = PL_WINDOW (widget);

  self->lesson = NULL;
  gtk_widget_set_visible (GTK_WIDGET (self->lesson_panel), FALSE);
  _pl_window_update_teacher (self);
  _pl_window_update_actions (self);
}

/* Part of _pl_window_update_actions: the lesson's own actions. */
void
_pl_window_update_lesson_actions (PlWindow *self)
{
  GtkWidget *w = GTK_WIDGET (self);
  gboolean open = self->lesson != NULL;
  gboolean free_to_move = open && !step_running (self) && self->pending == 0
                          && self->snapshot != NULL && self->snapshot->state == PL_ENGINE_STATE_IDLE;

  gtk_widget_action_set_enabled (w, "win.lesson-previous", free_to_move && self->lesson_step > 0);
  gtk_widget_action_set_enabled (w, "win.lesson-next",
                                 free_to_move && self->lesson_step + 1 < self->lesson->n_steps);
  gtk_widget_action_set_enabled (w, "win.lesson-close", open);
  gtk_widget_action_set_enabled (w, "win.teacher-mode", open);
}

void
_pl_window_class_init_lessons (GtkWidgetClass *widget_class)
{
  gtk_widget_class_install_action (widget_class, "win.open-lesson", "s", open_lesson_action);
  gtk_widget_class_install_action (widget_class, "win.lesson-next", NULL, lesson_move_action);
  gtk_widget_class_install_action (widget_class, "win.lesson-previous", NULL, lesson_move_action);
  gtk_widget_class_install_action (widget_class, "win.lesson-close", NULL, lesson_close_action);
  gtk_widget_class_install_action (widget_class, "win.no-lessons", NULL, NULL);
  gtk_widget_class_install_property_action (widget_class, "win.teacher-mode", "teacher-mode");

  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Right, GDK_ALT_MASK, "win.lesson-next", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Left, GDK_ALT_MASK, "win.lesson-previous", NULL);
}
