#define G_LOG_DOMAIN "fuzz-lesson"

#include "config.h"

#include <math.h>
#include <string.h>

#include "pl-error.h"
#include "pl-fuzz.h"
#include "pl-lesson.h"

/* The lesson reader as a user reaches it: pl_lesson_load () of a file, as the app's lesson list
 * opens data/lessons/ and a teacher's own files. The input is the file.
 *
 * Checked: a rejection is a PL_FORMAT_ERROR (or a file error) naming the file. A loaded lesson
 * has a valid id, 1 to PL_LESSON_MAX_STEPS steps, every text non-empty UTF-8 with a language
 * found by pl_lesson_text_get, names in range, settings in their ranges, and expectations
 * with min ≤ max. */

static void
check_text (const PlLessonText *t,
            gboolean            required,
            const char         *what)
{
  const char *chosen;

  PL_FUZZ_CHECK (!required || t->n > 0, "%s: no text", what);
  if (t->n == 0)
    return;
  chosen = pl_lesson_text_get (t);
  PL_FUZZ_CHECK (chosen != NULL && chosen[0] != '\0', "%s: no text chosen", what);
  for (guint i = 0; i < t->n; i++)
    PL_FUZZ_CHECK (g_utf8_validate (t->texts[i], -1, NULL) && t->texts[i][0] != '\0',
                   "%s: text %u is empty or not UTF-8", what, i);
}

static void
check_lesson (const PlLesson *l)
{
  PL_FUZZ_CHECK (l->id != NULL && l->id[0] != '\0', "no id");
  PL_FUZZ_CHECK (l->n_steps >= 1 && l->n_steps <= PL_LESSON_MAX_STEPS, "%u steps", l->n_steps);
  check_text (&l->title, TRUE, "title");
  check_text (&l->summary, TRUE, "summary");
  for (guint i = 0; i < l->n_steps; i++)
    {
      const PlLessonStep *s = &l->steps[i];
      const PlLessonSettings *st = &s->settings;

      check_text (&s->title, TRUE, "step title");
      check_text (&s->text, TRUE, "step text");
      check_text (&s->formula, FALSE, "step formula");
      check_text (&s->notice, TRUE, "step notice");
      PL_FUZZ_CHECK (s->view < PL_LESSON_N_VIEWS, "view %d", s->view);
      PL_FUZZ_CHECK (s->controls < (1u << PL_LESSON_N_CONTROLS), "controls %x", s->controls);
      PL_FUZZ_CHECK (s->n_actions <= G_N_ELEMENTS (s->actions), "%u actions", s->n_actions);
      for (guint a = 0; a < s->n_actions; a++)
        PL_FUZZ_CHECK (s->actions[a] < PL_LESSON_N_ACTIONS, "action %d", s->actions[a]);
      PL_FUZZ_CHECK (!st->has_epochs || (st->epochs >= 1 && st->epochs <= 10000), "epochs %u",
                     st->epochs);
      PL_FUZZ_CHECK (!st->has_lr || (isfinite (st->lr) && st->lr > 0 && st->lr <= 10), "lr %g",
                     st->lr);
      PL_FUZZ_CHECK (!st->has_sparsity || (st->sparsity >= 0 && st->sparsity <= 0.99),
                     "sparsity %g", st->sparsity);
      PL_FUZZ_CHECK (!st->has_score || st->score < PL_N_SCORES, "score %d", st->score);
      PL_FUZZ_CHECK (!st->has_penalty || st->penalty < PL_LESSON_N_PENALTIES, "penalty %d", st->penalty);
      PL_FUZZ_CHECK (!st->has_procedure || st->procedure < PL_LESSON_N_PROCEDURES, "procedure %d",
                     st->procedure);
      PL_FUZZ_CHECK (!st->has_lambda || (st->lambda > 0 && st->lambda <= 100), "lambda %g", st->lambda);
      PL_FUZZ_CHECK (!st->has_clip_norm || (st->clip_norm >= 0 && st->clip_norm <= 1000),
                     "clip-norm %g", st->clip_norm);
      PL_FUZZ_CHECK (!st->has_dataset || (st->dataset != NULL && st->dataset[0] != '\0'),
                     "empty dataset");
      PL_FUZZ_CHECK (s->n_expects <= G_N_ELEMENTS (s->expects), "%u expectations", s->n_expects);
      for (guint e = 0; e < s->n_expects; e++)
        {
          const PlLessonExpect *x = &s->expects[e];

          PL_FUZZ_CHECK (x->quantity < PL_LESSON_N_QUANTITIES, "quantity %d", x->quantity);
          PL_FUZZ_CHECK (x->min <= x->max, "min %g > max %g", x->min, x->max);
          PL_FUZZ_CHECK (isfinite (x->min) || isfinite (x->max), "no bound");
        }
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autofree char *path = pl_fuzz_write ("lesson.json", data, size);
  g_autoptr(GError) error = NULL;
  g_autoptr(PlLesson) lesson = pl_lesson_load (path, &error);

  if (!pl_fuzz_loaded (lesson, error, path))
    return 0;
  check_lesson (lesson);
  return 0;
}

/* The built-in lessons, as the project ships them. */
void
pl_fuzz_make_seeds (void)
{
  g_autofree char *dir = g_build_filename (PL_FUZZ_DATA_DIR, "..", "..", "data", "lessons", NULL);
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  if (d == NULL)
    pl_fuzz_fail ("no lessons in %s", dir);
  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_autoptr(GBytes) bytes = NULL;
      gsize len;
      const void *contents;

      if (!g_str_has_suffix (name, ".json"))
        continue;
      bytes = pl_fuzz_read (path);
      contents = g_bytes_get_data (bytes, &len);
      pl_fuzz_add_seed (name, contents, len);
    }
}
