#define G_LOG_DOMAIN "pl-window-lesson"

#include "config.h"

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
  if (s->has_hidden)
    g_string_append_printf (out, "hidden=%s;", s->hidden);
  if (s->has_activation)
    g_string_append_printf (out, "activation=%s;", s->activation);
  if (s->has_epochs)
    g_string_append_printf (out, "epochs=%u;", s->epochs);
  if (s->has_lr)
    g_string_append_printf (out, "lr=%s;", g_ascii_dtostr (number, sizeof number, s->lr));
  if (s->has_scope_layer)
    g_string_append_printf (out, "scope=%s;", s->scope_layer ? "layer" : "global");
  if (s->has_invert)
    g_string_append_printf (out, "invert=%d;", s->invert ? 1 : 0);
  if (s->has_score)
    g_string_append_printf (out, "score=%s;idle;", pl_score_info (s->score)->name);

  for (guint i = 0; i < step->n_actions; i++)
    {
      if (step->actions[i] == PL_LESSON_ACTION_PREVIEW)
        g_string_append_printf (out, "sparsity=%s;",
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
