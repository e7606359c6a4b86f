/* Lesson files: the built-in lessons parse, are complete in English and Simplified Chinese and
 * follow the seed articles; malformed lessons are rejected with a message that names the file
 * and the place. (That each lesson's numbers hold on the built-in data is checked by test-gui,
 * which walks every lesson through the window.) */
#include "config.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "pl-error.h"
#include "pl-lesson.h"

static char *
lessons_dir (void)
{
  return g_test_build_filename (G_TEST_DIST, "..", "data", "lessons", NULL);
}

/* One lesson per topic of the seed articles, in order; the last one prunes the filters of a
 * convolutional network (seed 001, §5.1.1: structured pruning of CNN kernels). */
static const char *built_in[] = {
  "magnitude", "gradient", "neurons", "information", "sparsity-measures", "regularisation",
  "schedules", "structured-filters",
};

static void
assert_both_languages (const PlLessonText *t,
                       const char         *lesson,
                       guint               step,
                       const char         *what)
{
  if (t->n == 1 && t->langs[0][0] == '\0')
    return;   /* one text for every language: a formula, say */
  if (pl_lesson_text_get_lang (t, "en") == NULL || pl_lesson_text_get_lang (t, "zh_CN") == NULL)
    g_error ("lesson “%s”, step %u: %s lacks English or Simplified Chinese", lesson, step + 1, what);
}

/* The lessons of the seed articles, each 4–8 steps, every text in en and zh_CN, every
 * step with something to notice and a view. */
static void
test_built_in (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = lessons_dir ();
  g_autoptr(GPtrArray) lessons = pl_lesson_load_dir (dir, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (lessons->len, ==, G_N_ELEMENTS (built_in));
  for (guint i = 0; i < lessons->len; i++)
    {
      const PlLesson *l = g_ptr_array_index (lessons, i);
      guint n_expects = 0;

      g_test_message ("%s: %u steps", l->id, l->n_steps);
      g_assert_cmpstr (l->id, ==, built_in[i]);
      g_assert_nonnull (l->seed);
      g_assert_cmpuint (l->n_steps, >=, 4);
      g_assert_cmpuint (l->n_steps, <=, 8);
      assert_both_languages (&l->title, l->id, 0, "the title");
      assert_both_languages (&l->summary, l->id, 0, "the summary");
      for (guint s = 0; s < l->n_steps; s++)
        {
          const PlLessonStep *step = &l->steps[s];

          assert_both_languages (&step->title, l->id, s, "the title");
          assert_both_languages (&step->text, l->id, s, "the text");
          assert_both_languages (&step->notice, l->id, s, "what to notice");
          if (step->formula.n > 0)
            assert_both_languages (&step->formula, l->id, s, "the formula");
          n_expects += step->n_expects;
        }
      /* every lesson states at least one number the class should see */
      g_assert_cmpuint (n_expects, >=, 1);
    }
}

static PlLesson *
parse (const char  *json,
       GError     **error)
{
  return pl_lesson_parse (json, strlen (json), "t.json", error);
}

#define MINIMAL_STEP "{\"title\":\"T\",\"text\":\"x\",\"view\":\"weights\",\"notice\":\"n\"}"

/* A minimal lesson, and what each member gives. */
static void
test_parse_fields (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PlLesson) l = NULL;
  const PlLessonStep *s;

  l = parse ("{\"prunelab-lesson\":1,\"id\":\"x-1\",\"title\":{\"en\":\"E\",\"zh_CN\":\"中\"},"
             "\"summary\":\"S\",\"steps\":[{\"title\":\"T\",\"text\":\"a <b>b</b> x<sub>i</sub>\","
             "\"formula\":\"|w<sub>ij</sub>|\",\"settings\":{\"dataset\":\"moons\",\"network\":\"lenet5\",\"hidden\":\"8-4\","
             "\"activation\":\"tanh\",\"epochs\":12,\"lr\":0.02,\"score\":\"apoz\",\"scope\":\"layer\","
             "\"invert\":true,\"sparsity\":0.75,\"seed\":3},\"actions\":[\"new-model\",\"train\","
             "\"preview\"],\"controls\":[\"sparsity\",\"train\"],\"view\":\"threshold\","
             "\"notice\":\"N\",\"expect\":[{\"quantity\":\"preview-accuracy\",\"min\":0.5},"
             "{\"quantity\":\"sparsity\",\"max\":0.1}]}]}", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (l->id, ==, "x-1");
  g_assert_null (l->seed);
  g_assert_cmpstr (pl_lesson_text_get_lang (&l->title, "zh_CN"), ==, "中");
  g_assert_cmpuint (l->n_steps, ==, 1);
  s = &l->steps[0];
  g_assert_true (s->settings.has_dataset && s->settings.has_hidden && s->settings.has_lr);
  g_assert_cmpstr (s->settings.dataset, ==, "moons");
  g_assert_cmpstr (s->settings.hidden, ==, "8-4");
  g_assert_true (s->settings.has_network);
  g_assert_cmpstr (s->settings.network, ==, "lenet5");
  g_assert_cmpstr (s->settings.activation, ==, "tanh");
  g_assert_cmpuint (s->settings.epochs, ==, 12);
  g_assert_cmpfloat (s->settings.lr, ==, 0.02);
  g_assert_cmpint (s->settings.score, ==, PL_SCORE_APOZ);
  g_assert_true (s->settings.has_scope && s->settings.scope == PL_SCOPE_LAYER && s->settings.invert);
  g_assert_cmpfloat (s->settings.sparsity, ==, 0.75);
  g_assert_cmpuint (s->settings.seed, ==, 3);
  g_assert_false (s->settings.has_epochs == FALSE);
  g_assert_cmpuint (s->n_actions, ==, 3);
  g_assert_cmpint (s->actions[2], ==, PL_LESSON_ACTION_PREVIEW);
  g_assert_cmpuint (s->controls, ==, (1u << PL_LESSON_CONTROL_SPARSITY) | (1u << PL_LESSON_CONTROL_TRAIN));
  g_assert_cmpint (s->view, ==, PL_LESSON_VIEW_THRESHOLD);
  g_assert_cmpuint (s->n_expects, ==, 2);
  g_assert_cmpint (s->expects[0].quantity, ==, PL_LESSON_QUANTITY_PREVIEW_ACCURACY);
  g_assert_cmpfloat (s->expects[0].min, ==, 0.5);
  g_assert_true (isinf (s->expects[0].max));
  g_assert_cmpfloat (s->expects[1].max, ==, 0.1);
  g_assert_true (isinf (s->expects[1].min) && s->expects[1].min < 0);
}

/* Issue 16's fields: every scope, the action and control prune-obs, and the procedures
 * movement, set and rigl, read into the settings as the GUI uses them. */
static void
test_parse_issue16 (void)
{
  static const struct { const char *name; PlScope scope; } scopes[] = {
    { "global", PL_SCOPE_GLOBAL }, { "layer", PL_SCOPE_LAYER }, { "row", PL_SCOPE_ROW }, { "erk", PL_SCOPE_ERK },
  };
  static const struct { const char *name; PlLessonProcedure procedure; PlMethod method; } procedures[] = {
    { "movement", PL_LESSON_PROCEDURE_MOVEMENT, PL_METHOD_MOVEMENT },
    { "set", PL_LESSON_PROCEDURE_SET, PL_METHOD_SET },
    { "rigl", PL_LESSON_PROCEDURE_RIGL, PL_METHOD_RIGL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (scopes); i++)
    for (guint j = 0; j < G_N_ELEMENTS (procedures); j++)
      {
        g_autoptr(GError) error = NULL;
        g_autofree char *json = g_strdup_printf (
          "{\"prunelab-lesson\":1,\"id\":\"x\",\"title\":\"t\",\"summary\":\"s\",\"steps\":[{\"title\":\"T\","
          "\"text\":\"x\",\"view\":\"curves\",\"notice\":\"n\",\"settings\":{\"scope\":\"%s\","
          "\"procedure\":\"%s\",\"sparsity\":0.9},\"actions\":[\"prune-obs\",\"undo\",\"procedure\"],"
          "\"controls\":[\"prune-obs\",\"procedure\"]}]}", scopes[i].name, procedures[j].name);
        g_autoptr(PlLesson) l = parse (json, &error);
        const PlLessonStep *s;
        gboolean rewind = TRUE;

        g_assert_no_error (error);
        s = &l->steps[0];
        g_assert_true (s->settings.has_scope);
        g_assert_cmpint (s->settings.scope, ==, scopes[i].scope);
        g_assert_true (s->settings.has_procedure);
        g_assert_cmpint (s->settings.procedure, ==, procedures[j].procedure);
        g_assert_cmpint (pl_lesson_procedure_method (s->settings.procedure, &rewind), ==, procedures[j].method);
        g_assert_false (rewind);
        g_assert_cmpuint (s->n_actions, ==, 3);
        g_assert_cmpint (s->actions[0], ==, PL_LESSON_ACTION_PRUNE_OBS);
        g_assert_cmpstr (pl_lesson_action_name (s->actions[0]), ==, "prune-obs");
        g_assert_cmpuint (s->controls, ==, (1u << PL_LESSON_CONTROL_PRUNE_OBS) | (1u << PL_LESSON_CONTROL_PROCEDURE));
      }
}

/* The user's language first, then English, then the first given. */
static void
test_text_language (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PlLesson) l = parse ("{\"prunelab-lesson\":1,\"id\":\"x\",\"title\":{\"zh_CN\":\"中文\","
                                 "\"en\":\"English\"},\"summary\":{\"de\":\"Deutsch\"},"
                                 "\"steps\":[" MINIMAL_STEP "]}", &error);
  const char *lang = g_getenv ("LANGUAGE");
  g_autofree char *saved = g_strdup (lang);

  g_assert_no_error (error);
  g_setenv ("LANGUAGE", "zh_CN", TRUE);
  g_setenv ("LC_ALL", "C.UTF-8", TRUE);
  g_assert_cmpstr (pl_lesson_text_get (&l->title), ==, "中文");
  g_assert_cmpstr (pl_lesson_text_get (&l->summary), ==, "Deutsch");
  g_setenv ("LANGUAGE", "fr", TRUE);
  g_assert_cmpstr (pl_lesson_text_get (&l->title), ==, "English");
  if (saved != NULL)
    g_setenv ("LANGUAGE", saved, TRUE);
  else
    g_unsetenv ("LANGUAGE");
}

typedef struct {
  const char *json;
  const char *where;    /* the place the message must name */
} Bad;

/* Each malformed lesson is rejected with PL_FORMAT_ERROR, and the message names the file and
 * the place. */
static void
test_rejects (void)
{
  static const Bad bad[] = {
    { "", "JSON object" },
    { "{\"a\":", "not valid JSON" },
    { "[1]", "JSON object" },
    { "\"\"{\"prunelab-lesson\":1}", "more than one value" },
    { "{\"id\":\"\\ud800\"}", "string escape" },
    { "{\"id\":\"x\"}", "prunelab-lesson" },
    { "{\"prunelab-lesson\":2,\"id\":\"x\",\"title\":\"t\",\"summary\":\"s\",\"steps\":[" MINIMAL_STEP "]}", "format" },
    { "{\"prunelab-lesson\":1,\"id\":\"X y\",\"title\":\"t\",\"summary\":\"s\",\"steps\":[" MINIMAL_STEP "]}", "id" },
    { "{\"prunelab-lesson\":1,\"id\":\"x\",\"title\":\"t\",\"summary\":\"s\",\"steps\":[]}", "steps" },
    { "{\"prunelab-lesson\":1,\"id\":\"x\",\"title\":\"t\",\"summary\":\"s\",\"steps\":[" MINIMAL_STEP "],\"extra\":1}", "extra" },
    { "{\"prunelab-lesson\":1,\"id\":\"x\",\"title\":\"\",\"summary\":\"s\",\"steps\":[" MINIMAL_STEP "]}", "title" },
    { "{\"prunelab-lesson\":1,\"id\":\"x\",\"title\":{\"e n\":\"a\"},\"summary\":\"s\",\"steps\":[" MINIMAL_STEP "]}", "language tag" },
    { "{\"prunelab-lesson\":1,\"id\":\"x\",\"title\":\"t\",\"summary\":\"s\",\"steps\":[{\"title\":\"T\",\"text\":\"<b>x\",\"view\":\"weights\",\"notice\":\"n\"}]}", "steps[0].text" },
    { "{\"prunelab-lesson\":1,\"id\":\"x\",\"title\":\"t\",\"summary\":\"s\",\"steps\":[{\"title\":\"T\",\"text\":\"<script>x</script>\",\"view\":\"weights\",\"notice\":\"n\"}]}", "Pango markup" },
    { "{\"prunelab-lesson\":1,\"id\":\"x\",\"title\":\"t\",\"summary\":\"s\",\"steps\":[{\"title\":\"T\",\"text\":\"x\",\"view\":\"nowhere\",\"notice\":\"n\"}]}", "steps[0].view" },
    { "{\"prunelab-lesson\":1,\"id\":\"x\",\"title\":\"t\",\"summary\":\"s\",\"steps\":[{\"title\":\"T\",\"text\":\"x\",\"view\":\"weights\"}]}", "notice" },
    { "{\"prunelab-lesson\":1,\"id\":\"x\",\"title\":\"t\",\"summary\":\"s\",\"steps\":[" MINIMAL_STEP ",{\"title\":\"T\",\"text\":\"x\",\"view\":\"weights\",\"notice\":\"n\",\"settings\":{\"lr\":\"fast\"}}]}", "steps[1].settings.lr" },
    { "{\"prunelab-lesson\":1,\"id\":\"x\",\"title\":\"t\",\"summary\":\"s\",\"steps\":[{\"title\":\"T\",\"text\":\"x\",\"view\":\"weights\",\"notice\":\"n\",\"settings\":{\"sparsity\":1.5}}]}", "out of range" },
    { "{\"prunelab-lesson\":1,\"id\":\"x\",\"title\":\"t\",\"summary\":\"s\",\"steps\":[{\"title\":\"T\",\"text\":\"x\",\"view\":\"weights\",\"notice\":\"n\",\"settings\":{\"epochs\":2.5}}]}", "whole" },
    { "{\"prunelab-lesson\":1,\"id\":\"x\",\"title\":\"t\",\"summary\":\"s\",\"steps\":[{\"title\":\"T\",\"text\":\"x\",\"view\":\"weights\",\"notice\":\"n\",\"settings\":{\"score\":\"loudness\"}}]}", "settings.score" },
    { "{\"prunelab-lesson\":1,\"id\":\"x\",\"title\":\"t\",\"summary\":\"s\",\"steps\":[{\"title\":\"T\",\"text\":\"x\",\"view\":\"weights\",\"notice\":\"n\",\"settings\":{\"hidden\":\"64-x\"}}]}", "hidden" },
    { "{\"prunelab-lesson\":1,\"id\":\"x\",\"title\":\"t\",\"summary\":\"s\",\"steps\":[{\"title\":\"T\",\"text\":\"x\",\"view\":\"maps\",\"notice\":\"n\",\"settings\":{\"network\":\"resnet\"}}]}", "settings.network" },
    { "{\"prunelab-lesson\":1,\"id\":\"x\",\"title\":\"t\",\"summary\":\"s\",\"steps\":[{\"title\":\"T\",\"text\":\"x\",\"view\":\"weights\",\"notice\":\"n\",\"settings\":{\"colour\":1}}]}", "colour" },
    { "{\"prunelab-lesson\":1,\"id\":\"x\",\"title\":\"t\",\"summary\":\"s\",\"steps\":[{\"title\":\"T\",\"text\":\"x\",\"view\":\"weights\",\"notice\":\"n\",\"actions\":[\"dance\"]}]}", "actions[0]" },
    { "{\"prunelab-lesson\":1,\"id\":\"x\",\"title\":\"t\",\"summary\":\"s\",\"steps\":[{\"title\":\"T\",\"text\":\"x\",\"view\":\"weights\",\"notice\":\"n\",\"actions\":[\"preview\"]}]}", "settings.sparsity" },
    { "{\"prunelab-lesson\":1,\"id\":\"x\",\"title\":\"t\",\"summary\":\"s\",\"steps\":[{\"title\":\"T\",\"text\":\"x\",\"view\":\"weights\",\"notice\":\"n\",\"controls\":[\"joystick\"]}]}", "controls[0]" },
    { "{\"prunelab-lesson\":1,\"id\":\"x\",\"title\":\"t\",\"summary\":\"s\",\"steps\":[{\"title\":\"T\",\"text\":\"x\",\"view\":\"curves\",\"notice\":\"n\",\"settings\":{\"sparsity\":0.9},\"actions\":[\"procedure\"]}]}", "settings.procedure" },
    { "{\"prunelab-lesson\":1,\"id\":\"x\",\"title\":\"t\",\"summary\":\"s\",\"steps\":[{\"title\":\"T\",\"text\":\"x\",\"view\":\"curves\",\"notice\":\"n\",\"settings\":{\"procedure\":\"l0\"},\"actions\":[\"procedure\"]}]}", "settings.sparsity" },
    { "{\"prunelab-lesson\":1,\"id\":\"x\",\"title\":\"t\",\"summary\":\"s\",\"steps\":[{\"title\":\"T\",\"text\":\"x\",\"view\":\"curves\",\"notice\":\"n\",\"settings\":{\"procedure\":\"annealing\"}}]}", "settings.procedure" },
    { "{\"prunelab-lesson\":1,\"id\":\"x\",\"title\":\"t\",\"summary\":\"s\",\"steps\":[{\"title\":\"T\",\"text\":\"x\",\"view\":\"curves\",\"notice\":\"n\",\"settings\":{\"penalty\":\"l2\"}}]}", "settings.penalty" },
    { "{\"prunelab-lesson\":1,\"id\":\"x\",\"title\":\"t\",\"summary\":\"s\",\"steps\":[{\"title\":\"T\",\"text\":\"x\",\"view\":\"weights\",\"notice\":\"n\",\"settings\":{\"scope\":\"neuron\"}}]}", "global, layer, row, erk" },
    { "{\"prunelab-lesson\":1,\"id\":\"x\",\"title\":\"t\",\"summary\":\"s\",\"steps\":[{\"title\":\"T\",\"text\":\"x\",\"view\":\"weights\",\"notice\":\"n\",\"settings\":{\"scope\":true}}]}", "settings.scope" },
    { "{\"prunelab-lesson\":1,\"id\":\"x\",\"title\":\"t\",\"summary\":\"s\",\"steps\":[{\"title\":\"T\",\"text\":\"x\",\"view\":\"weights\",\"notice\":\"n\",\"actions\":[\"prune-obs\"]}]}", "the action “prune-obs” needs “settings.sparsity”" },
    { "{\"prunelab-lesson\":1,\"id\":\"x\",\"title\":\"t\",\"summary\":\"s\",\"steps\":[{\"title\":\"T\",\"text\":\"x\",\"view\":\"curves\",\"notice\":\"n\",\"settings\":{\"procedure\":\"RigL\"}}]}", "movement, set, rigl" },
    { "{\"prunelab-lesson\":1,\"id\":\"x\",\"title\":\"t\",\"summary\":\"s\",\"steps\":[{\"title\":\"T\",\"text\":\"x\",\"view\":\"curves\",\"notice\":\"n\",\"settings\":{\"lambda\":0}}]}", "settings.lambda" },
    { "{\"prunelab-lesson\":1,\"id\":\"x\",\"title\":\"t\",\"summary\":\"s\",\"steps\":[{\"title\":\"T\",\"text\":\"x\",\"view\":\"curves\",\"notice\":\"n\",\"settings\":{\"clip-norm\":-1}}]}", "settings.clip-norm" },
    { "{\"prunelab-lesson\":1,\"id\":\"x\",\"title\":\"t\",\"summary\":\"s\",\"steps\":[{\"title\":\"T\",\"text\":\"x\",\"view\":\"curves\",\"notice\":\"n\",\"expect\":[{\"quantity\":\"procedure-accuracy\",\"min\":0.9}]}]}", "settings.procedure" },
    { "{\"prunelab-lesson\":1,\"id\":\"x\",\"title\":\"t\",\"summary\":\"s\",\"steps\":[{\"title\":\"T\",\"text\":\"x\",\"view\":\"weights\",\"notice\":\"n\",\"expect\":[{\"quantity\":\"speed\",\"min\":0}]}]}", "expect[0].quantity" },
    { "{\"prunelab-lesson\":1,\"id\":\"x\",\"title\":\"t\",\"summary\":\"s\",\"steps\":[{\"title\":\"T\",\"text\":\"x\",\"view\":\"weights\",\"notice\":\"n\",\"expect\":[{\"min\":0}]}]}", "expect[0].quantity" },
    { "{\"prunelab-lesson\":1,\"id\":\"x\",\"title\":\"t\",\"summary\":\"s\",\"steps\":[{\"title\":\"T\",\"text\":\"x\",\"view\":\"weights\",\"notice\":\"n\",\"expect\":[{\"quantity\":\"sparsity\"}]}]}", "min" },
    { "{\"prunelab-lesson\":1,\"id\":\"x\",\"title\":\"t\",\"summary\":\"s\",\"steps\":[{\"title\":\"T\",\"text\":\"x\",\"view\":\"weights\",\"notice\":\"n\",\"expect\":[{\"quantity\":\"sparsity\",\"min\":0.9,\"max\":0.1}]}]}", "above" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(PlLesson) l = parse (bad[i].json, &error);

      g_test_message ("%u: %s", i, error != NULL ? error->message : "(accepted)");
      g_assert_null (l);
      g_assert_error (error, PL_FORMAT_ERROR, error->code);
      g_assert_true (g_str_has_prefix (error->message, "“t.json”"));
      if (strstr (error->message, bad[i].where) == NULL)
        g_error ("case %u: “%s” does not name “%s”", i, error->message, bad[i].where);
    }
}

/* Bytes that are not text, and a file over the size limit. */
static void
test_rejects_binary_and_huge (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PlLesson) l = NULL;
  g_autofree char *huge = g_malloc (PL_LESSON_MAX_BYTES + 2);

  l = pl_lesson_parse ("{\"a\":\"\xff\"}", 9, "t.json", &error);
  g_assert_null (l);
  g_assert_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_BAD_MAGIC);
  g_clear_error (&error);

  memset (huge, ' ', PL_LESSON_MAX_BYTES + 1);
  huge[PL_LESSON_MAX_BYTES + 1] = '\0';
  l = pl_lesson_parse (huge, PL_LESSON_MAX_BYTES + 1, "t.json", &error);
  g_assert_null (l);
  g_assert_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_TOO_LARGE);
}

/* Two lessons of one id in a folder, and a missing folder. */
static void
test_dir_errors (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("pl-lessons-XXXXXX", NULL);
  g_autofree char *a = g_build_filename (dir, "a.json", NULL);
  g_autofree char *b = g_build_filename (dir, "b.json", NULL);
  const char *json = "{\"prunelab-lesson\":1,\"id\":\"same\",\"title\":\"t\",\"summary\":\"s\","
                     "\"steps\":[" MINIMAL_STEP "]}";
  GPtrArray *lessons;

  g_assert_true (g_file_set_contents (a, json, -1, NULL));
  g_assert_true (g_file_set_contents (b, json, -1, NULL));
  lessons = pl_lesson_load_dir (dir, &error);
  g_assert_null (lessons);
  g_assert_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_MISMATCH);
  g_assert_nonnull (strstr (error->message, "b.json"));
  g_clear_error (&error);

  g_remove (a);
  g_remove (b);
  g_rmdir (dir);
  lessons = pl_lesson_load_dir (dir, &error);
  g_assert_null (lessons);
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_summary ("Lesson files: the built-in lessons, the format's fields, bad files rejected");

  g_test_add_func ("/engine/lesson/built-in/one-per-topic-in-two-languages", test_built_in);
  g_test_add_func ("/engine/lesson/parse/reads-every-field", test_parse_fields);
  g_test_add_func ("/engine/lesson/parse/scopes-prune-obs-and-dst-procedures", test_parse_issue16);
  g_test_add_func ("/engine/lesson/text/picks-the-users-language", test_text_language);
  g_test_add_func ("/engine/lesson/rejects/malformed-with-the-place", test_rejects);
  g_test_add_func ("/engine/lesson/rejects/binary-and-huge", test_rejects_binary_and_huge);
  g_test_add_func ("/engine/lesson/dir/duplicate-ids-and-missing", test_dir_errors);

  return g_test_run ();
}
