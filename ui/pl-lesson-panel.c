/* pl-lesson-panel.c — a lesson step, shown */
#define G_LOG_DOMAIN "pl-lesson-panel"

#include "config.h"

#include "pl-lesson-panel.h"

#include <glib/gi18n.h>

struct _PlLessonPanel {
  GtkBox     parent_instance;

  /* template children */
  GtkLabel  *lesson_label;
  GtkLabel  *step_label;
  GtkLabel  *title_label;
  GtkLabel  *text_label;
  GtkLabel  *formula_label;
  GtkWidget *notice_box;
  GtkLabel  *notice_label;
  GtkWidget *previous_button;
  GtkWidget *next_button;
};

G_DEFINE_FINAL_TYPE (PlLessonPanel, pl_lesson_panel, GTK_TYPE_BOX)

static void
pl_lesson_panel_dispose (GObject *object)
{
  gtk_widget_dispose_template (GTK_WIDGET (object), PL_TYPE_LESSON_PANEL);
  G_OBJECT_CLASS (pl_lesson_panel_parent_class)->dispose (object);
}

static void
pl_lesson_panel_class_init (PlLessonPanelClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = pl_lesson_panel_dispose;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/prunelab/PruneLab/pl-lesson-panel.ui");
  gtk_widget_class_set_css_name (widget_class, "lessonpanel");
#define CHILD(name) gtk_widget_class_bind_template_child (widget_class, PlLessonPanel, name)
  CHILD (lesson_label);
  CHILD (step_label);
  CHILD (title_label);
  CHILD (text_label);
  CHILD (formula_label);
  CHILD (notice_box);
  CHILD (notice_label);
  CHILD (previous_button);
  CHILD (next_button);
#undef CHILD
}

static void
pl_lesson_panel_init (PlLessonPanel *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

GtkWidget *
pl_lesson_panel_new (void)
{
  return g_object_new (PL_TYPE_LESSON_PANEL, NULL);
}

void
pl_lesson_panel_show_step (PlLessonPanel  *self,
                           const PlLesson *lesson,
                           guint           step)
{
  const PlLessonStep *s;
  g_autofree char *counter = NULL;
  const char *formula;

  g_return_if_fail (PL_IS_LESSON_PANEL (self));
  g_return_if_fail (lesson != NULL && step < lesson->n_steps);

  s = &lesson->steps[step];
  counter = g_strdup_printf (_("Step %u of %u"), step + 1, lesson->n_steps);
  gtk_label_set_label (self->lesson_label, pl_lesson_text_get (&lesson->title));
  gtk_label_set_label (self->step_label, counter);
  /* the texts are Pango markup, checked when the lesson was loaded */
  gtk_label_set_markup (self->title_label, pl_lesson_text_get (&s->title));
  gtk_label_set_markup (self->text_label, pl_lesson_text_get (&s->text));
  formula = s->formula.n > 0 ? pl_lesson_text_get (&s->formula) : NULL;
  gtk_label_set_markup (self->formula_label, formula != NULL ? formula : "");
  gtk_widget_set_visible (GTK_WIDGET (self->formula_label), formula != NULL);
  gtk_label_set_markup (self->notice_label, pl_lesson_text_get (&s->notice));

  /* the formula is read by its words, not by its sub- and superscripts' layout */
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->formula_label),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  gtk_label_get_text (self->formula_label), -1);
}

GtkWidget *
pl_lesson_panel_get_next_button (PlLessonPanel *self)
{
  g_return_val_if_fail (PL_IS_LESSON_PANEL (self), NULL);
  return self->next_button;
}
