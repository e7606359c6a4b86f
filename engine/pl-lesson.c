#define G_LOG_DOMAIN "pl-lesson"

#include "config.h"

#include "pl-lesson.h"

#include <glib/gi18n-lib.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#include "pl-error.h"
#include "pl-json.h"

/* ---- names ------------------------------------------------------------------------------- */

static const char *action_names[PL_LESSON_N_ACTIONS] = {
  [PL_LESSON_ACTION_NEW_MODEL] = "new-model",
  [PL_LESSON_ACTION_TRAIN] = "train",
  [PL_LESSON_ACTION_PREVIEW] = "preview",
  [PL_LESSON_ACTION_APPLY_PRUNE] = "apply-prune",
  [PL_LESSON_ACTION_FINE_TUNE] = "fine-tune",
  [PL_LESSON_ACTION_REWIND] = "rewind",
  [PL_LESSON_ACTION_UNDO] = "undo",
  [PL_LESSON_ACTION_SWEEP] = "sweep",
  [PL_LESSON_ACTION_PROCEDURE] = "procedure",
  [PL_LESSON_ACTION_PRUNE_OBS] = "prune-obs",
};

static const char *control_names[PL_LESSON_N_CONTROLS] = {
  [PL_LESSON_CONTROL_DATASET] = "dataset",
  [PL_LESSON_CONTROL_NETWORK] = "network",
  [PL_LESSON_CONTROL_TRAINING] = "training",
  [PL_LESSON_CONTROL_TRAIN] = "train",
  [PL_LESSON_CONTROL_STRATEGY] = "strategy",
  [PL_LESSON_CONTROL_SPARSITY] = "sparsity",
  [PL_LESSON_CONTROL_THRESHOLD] = "threshold",
  [PL_LESSON_CONTROL_APPLY_PRUNE] = "apply-prune",
  [PL_LESSON_CONTROL_FINE_TUNE] = "fine-tune",
  [PL_LESSON_CONTROL_REWIND] = "rewind",
  [PL_LESSON_CONTROL_UNDO] = "undo",
  [PL_LESSON_CONTROL_SWEEP] = "sweep",
  [PL_LESSON_CONTROL_REGULARISATION] = "regularisation",
  [PL_LESSON_CONTROL_PROCEDURE] = "procedure",
  [PL_LESSON_CONTROL_PRUNE_OBS] = "prune-obs",
};

static const char *penalty_names[PL_LESSON_N_PENALTIES] = {
  [PL_LESSON_PENALTY_NONE] = "none",
  [PL_LESSON_PENALTY_L1] = "l1",
  [PL_LESSON_PENALTY_ARTICLE_L0] = "article-l0",
};

static const char *procedure_names[PL_LESSON_N_PROCEDURES] = {
  [PL_LESSON_PROCEDURE_ONESHOT] = "oneshot",
  [PL_LESSON_PROCEDURE_ITERATIVE] = "iterative",
  [PL_LESSON_PROCEDURE_LOTTERY_TICKET] = "lottery-ticket",
  [PL_LESSON_PROCEDURE_GRADUAL] = "gradual",
  [PL_LESSON_PROCEDURE_ADAPTIVE] = "adaptive",
  [PL_LESSON_PROCEDURE_L1] = "l1",
  [PL_LESSON_PROCEDURE_L0] = "l0",
  [PL_LESSON_PROCEDURE_AT_INIT] = "at-init",
  [PL_LESSON_PROCEDURE_MOVEMENT] = "movement",
  [PL_LESSON_PROCEDURE_SET] = "set",
  [PL_LESSON_PROCEDURE_RIGL] = "rigl",
};

const char *
pl_lesson_penalty_name (PlLessonPenalty penalty)
{
  g_return_val_if_fail (penalty < PL_LESSON_N_PENALTIES, NULL);
  return penalty_names[penalty];
}

const char *
pl_lesson_procedure_name (PlLessonProcedure procedure)
{
  g_return_val_if_fail (procedure < PL_LESSON_N_PROCEDURES, NULL);
  return procedure_names[procedure];
}

PlMethod
pl_lesson_procedure_method (PlLessonProcedure  procedure,
                            gboolean          *rewind)
{
  static const PlMethod methods[PL_LESSON_N_PROCEDURES] = {
    [PL_LESSON_PROCEDURE_ONESHOT] = PL_METHOD_ONESHOT,
    [PL_LESSON_PROCEDURE_ITERATIVE] = PL_METHOD_ITERATIVE,
    [PL_LESSON_PROCEDURE_LOTTERY_TICKET] = PL_METHOD_ITERATIVE,
    [PL_LESSON_PROCEDURE_GRADUAL] = PL_METHOD_GRADUAL,
    [PL_LESSON_PROCEDURE_ADAPTIVE] = PL_METHOD_ADAPTIVE,
    [PL_LESSON_PROCEDURE_L1] = PL_METHOD_L1,
    [PL_LESSON_PROCEDURE_L0] = PL_METHOD_L0,
    [PL_LESSON_PROCEDURE_AT_INIT] = PL_METHOD_AT_INIT,
    [PL_LESSON_PROCEDURE_MOVEMENT] = PL_METHOD_MOVEMENT,
    [PL_LESSON_PROCEDURE_SET] = PL_METHOD_SET,
    [PL_LESSON_PROCEDURE_RIGL] = PL_METHOD_RIGL,
  };

  g_return_val_if_fail (procedure < PL_LESSON_N_PROCEDURES, PL_METHOD_ONESHOT);
  if (rewind != NULL)
    *rewind = procedure == PL_LESSON_PROCEDURE_LOTTERY_TICKET;
  return methods[procedure];
}

static const char *view_names[PL_LESSON_N_VIEWS] = {
  [PL_LESSON_VIEW_WEIGHTS] = "weights",
  [PL_LESSON_VIEW_THRESHOLD] = "threshold",
  [PL_LESSON_VIEW_CURVES] = "curves",
  [PL_LESSON_VIEW_TRAINING] = "training",
  [PL_LESSON_VIEW_MODEL] = "model",
  [PL_LESSON_VIEW_RESULTS] = "results",
  [PL_LESSON_VIEW_MAPS] = "maps",
  [PL_LESSON_VIEW_FILTERS] = "filters",
};

static const char *quantity_names[PL_LESSON_N_QUANTITIES] = {
  [PL_LESSON_QUANTITY_VALIDATION_ACCURACY] = "validation-accuracy",
  [PL_LESSON_QUANTITY_PREVIEW_ACCURACY] = "preview-accuracy",
  [PL_LESSON_QUANTITY_PREVIEW_SPARSITY] = "preview-sparsity",
  [PL_LESSON_QUANTITY_PREVIEW_STRUCTURAL_SPARSITY] = "preview-structural-sparsity",
  [PL_LESSON_QUANTITY_SPARSITY] = "sparsity",
  [PL_LESSON_QUANTITY_STRUCTURAL_SPARSITY] = "structural-sparsity",
  [PL_LESSON_QUANTITY_RELATIVE_SPARSITY] = "relative-sparsity",
  [PL_LESSON_QUANTITY_HOYER] = "hoyer",
  [PL_LESSON_QUANTITY_SWEEP_ACCURACY] = "sweep-accuracy",
  [PL_LESSON_QUANTITY_PROCEDURE_ACCURACY] = "procedure-accuracy",
  [PL_LESSON_QUANTITY_PROCEDURE_SPARSITY] = "procedure-sparsity",
};

const char *
pl_lesson_action_name (PlLessonAction action)
{
  g_return_val_if_fail (action < PL_LESSON_N_ACTIONS, NULL);
  return action_names[action];
}

const char *
pl_lesson_control_name (PlLessonControl control)
{
  g_return_val_if_fail (control < PL_LESSON_N_CONTROLS, NULL);
  return control_names[control];
}

const char *
pl_lesson_view_name (PlLessonView view)
{
  g_return_val_if_fail (view < PL_LESSON_N_VIEWS, NULL);
  return view_names[view];
}

const char *
pl_lesson_quantity_name (PlLessonQuantity quantity)
{
  g_return_val_if_fail (quantity < PL_LESSON_N_QUANTITIES, NULL);
  return quantity_names[quantity];
}

/* ---- freeing ----------------------------------------------------------------------------- */

static void
text_clear (PlLessonText *t)
{
  for (guint i = 0; i < t->n; i++)
    {
      g_free (t->langs[i]);
      g_free (t->texts[i]);
    }
  g_clear_pointer (&t->langs, g_free);
  g_clear_pointer (&t->texts, g_free);
  t->n = 0;
}

static void
step_clear (PlLessonStep *s)
{
  text_clear (&s->title);
  text_clear (&s->text);
  text_clear (&s->formula);
  text_clear (&s->notice);
  g_clear_pointer (&s->settings.dataset, g_free);
  g_clear_pointer (&s->settings.network, g_free);
  g_clear_pointer (&s->settings.hidden, g_free);
  g_clear_pointer (&s->settings.activation, g_free);
}

void
pl_lesson_free (PlLesson *lesson)
{
  if (lesson == NULL)
    return;
  for (guint i = 0; i < lesson->n_steps; i++)
    step_clear (&lesson->steps[i]);
  g_free (lesson->steps);
  text_clear (&lesson->title);
  text_clear (&lesson->summary);
  g_free (lesson->id);
  g_free (lesson->seed);
  g_free (lesson->path);
  g_free (lesson);
}

/* ---- reading, with the place of every value for messages --------------------------------- */

static JsonNode *
member (JsonObject *object,
        const char *name)
{
  return json_object_has_member (object, name) ? json_object_get_member (object, name) : NULL;
}

static gboolean
node_is_string (JsonNode *node)
{
  return node != NULL && JSON_NODE_HOLDS_VALUE (node)
         && json_node_get_value_type (node) == G_TYPE_STRING;
}

static gboolean
node_is_number (JsonNode *node)
{
  return node != NULL && JSON_NODE_HOLDS_VALUE (node)
         && (json_node_get_value_type (node) == G_TYPE_INT64
             || json_node_get_value_type (node) == G_TYPE_DOUBLE);
}

static gboolean
node_is_bool (JsonNode *node)
{
  return node != NULL && JSON_NODE_HOLDS_VALUE (node)
         && json_node_get_value_type (node) == G_TYPE_BOOLEAN;
}

/* ---- Pango markup, checked without Pango: well formed, known elements and attributes ----- */

static const char *markup_elements[] = {
  "b", "big", "i", "s", "sub", "sup", "small", "tt", "u", "span", NULL,
};

static const char *span_attributes[] = {
  "font", "font_desc", "font_family", "face", "size", "font_size", "style", "weight",
  "variant", "stretch", "foreground", "fgcolor", "color", "background", "bgcolor", "underline",
  "underline_color", "rise", "strikethrough", "strikethrough_color", "letter_spacing", "alpha",
  "fgalpha", "bgalpha", "allow_breaks", "insert_hyphens", "baseline_shift", "font_scale", NULL,
};

static void
markup_start (GMarkupParseContext  *context,
              const char           *element,
              const char          **names,
              const char          **values,
              gpointer              user_data,
              GError              **error)
{
  if (g_str_equal (element, "markup"))
    return;
  if (!g_strv_contains (markup_elements, element))
    {
      g_set_error (error, G_MARKUP_ERROR, G_MARKUP_ERROR_UNKNOWN_ELEMENT,
                   _("<%s> is not Pango markup"), element);
      return;
    }
  for (guint i = 0; names[i] != NULL; i++)
    if (!g_str_equal (element, "span") || !g_strv_contains (span_attributes, names[i]))
      {
        g_set_error (error, G_MARKUP_ERROR, G_MARKUP_ERROR_UNKNOWN_ATTRIBUTE,
                     _("<%s> has no attribute “%s” in Pango markup"), element, names[i]);
        return;
      }
}

static gboolean
check_markup (const char  *text,
              GError     **error)
{
  static const GMarkupParser parser = { markup_start, NULL, NULL, NULL, NULL };
  g_autoptr(GMarkupParseContext) context = NULL;
  g_autofree char *wrapped = g_strconcat ("<markup>", text, "</markup>", NULL);

  context = g_markup_parse_context_new (&parser, 0, NULL, NULL);
  return g_markup_parse_context_parse (context, wrapped, -1, error)
         && g_markup_parse_context_end_parse (context, error);
}

/* ---- values ------------------------------------------------------------------------------ */

static gboolean
text_valid (const char *lang)
{
  /* "en", "zh_CN", "pt_BR", "sr@latin" */
  if (lang[0] == '\0' || strlen (lang) > 16)
    return FALSE;
  for (const char *p = lang; *p != '\0'; p++)
    if (!g_ascii_isalnum (*p) && *p != '_' && *p != '@')
      return FALSE;
  return TRUE;
}

static gboolean
read_one_text (PlJsonReader *r,
               const char   *value,
               gboolean      markup,
               GError      **error)
{
  g_autoptr(GError) local = NULL;

  if (value[0] == '\0')
    {
      pl_json_fail (r, error, _("the text is empty"));
      return FALSE;
    }
  if (markup && !check_markup (value, &local))
    {
      g_autofree char *shown = g_utf8_make_valid (local->message, -1);

      pl_json_fail (r, error, _("not valid Pango markup: %s"), shown);
      return FALSE;
    }
  return TRUE;
}

/* TEXT: a string, or an object of language → string. */
static gboolean
read_text (PlJsonReader *r,
           JsonObject   *object,
           const char   *name,
           gboolean      required,
           gboolean      markup,
           PlLessonText *out,
           GError      **error)
{
  JsonNode *node = member (object, name);
  gsize len;
  gboolean ok = TRUE;

  if (node == NULL)
    {
      if (required)
        pl_json_fail (r, error, _("“%s” is missing"), name);
      return !required;
    }
  len = pl_json_enter (r, name, 0);
  if (node_is_string (node))
    {
      ok = read_one_text (r, json_node_get_string (node), markup, error);
      if (ok)
        {
          out->n = 1;
          out->langs = g_new0 (char *, 1);
          out->texts = g_new0 (char *, 1);
          out->langs[0] = g_strdup ("");
          out->texts[0] = g_strdup (json_node_get_string (node));
        }
    }
  else if (JSON_NODE_HOLDS_OBJECT (node))
    {
      JsonObject *langs = json_node_get_object (node);
      g_autoptr(GList) members = json_object_get_members (langs);
      guint n = g_list_length (members), i = 0;

      if (n == 0)
        {
          pl_json_fail (r, error, _("give the text in at least one language"));
          ok = FALSE;
        }
      out->langs = g_new0 (char *, MAX (n, 1));
      out->texts = g_new0 (char *, MAX (n, 1));
      for (GList *l = members; l != NULL && ok; l = l->next, i++)
        {
          JsonNode *v = json_object_get_member (langs, l->data);
          gsize inner = pl_json_enter (r, l->data, 0);

          if (!text_valid (l->data))
            {
              pl_json_fail (r, error, _("“%s” is not a language tag such as “en” or “zh_CN”"),
                           (const char *) l->data);
              ok = FALSE;
            }
          else if (!node_is_string (v))
            {
              pl_json_fail (r, error, _("expected a string"));
              ok = FALSE;
            }
          else
            ok = read_one_text (r, json_node_get_string (v), markup, error);
          if (ok)
            {
              out->langs[i] = g_strdup (l->data);
              out->texts[i] = g_strdup (json_node_get_string (v));
              out->n = i + 1;
            }
          pl_json_leave (r, inner);
        }
    }
  else
    {
      pl_json_fail (r, error, _("expected a string or an object of languages"));
      ok = FALSE;
    }
  pl_json_leave (r, len);

  return ok;
}

static gboolean
read_string (PlJsonReader *r,
             JsonObject   *object,
             const char   *name,
             char        **out,
             GError      **error)
{
  JsonNode *node = member (object, name);

  if (!node_is_string (node) || json_node_get_string (node)[0] == '\0')
    {
      gsize len = pl_json_enter (r, name, 0);

      pl_json_fail (r, error, node == NULL ? _("missing") : _("expected a non-empty string"));
      pl_json_leave (r, len);
      return FALSE;
    }
  *out = g_strdup (json_node_get_string (node));
  return TRUE;
}

/* A number in [lo, hi]: finite, and whole when @whole. */
static gboolean
read_number (PlJsonReader *r,
             JsonNode     *node,
             const char   *name,
             double        lo,
             double        hi,
             gboolean      whole,
             double       *out,
             GError      **error)
{
  gsize len = pl_json_enter (r, name, 0);
  double v;
  gboolean ok = FALSE;

  if (!node_is_number (node))
    pl_json_fail (r, error, _("expected a number"));
  else if (v = json_node_get_double (node), !isfinite (v) || v < lo || v > hi)
    pl_json_fail (r, error, _("%g is out of range: give a number from %g to %g"), v, lo, hi);
  else if (whole && v != floor (v))
    pl_json_fail (r, error, _("%g is not a whole number"), v);
  else
    {
      *out = v;
      ok = TRUE;
    }
  pl_json_leave (r, len);

  return ok;
}

/* One of @names[0..n), by name. */
static gboolean
read_name (PlJsonReader *r,
           JsonNode     *node,
           const char   *what,
           const char  **names,
           guint         n,
           guint        *out,
           GError      **error)
{
  g_autoptr(GString) known = g_string_new (NULL);

  if (node == NULL)
    {
      pl_json_fail (r, error, _("the %s is missing"), what);
      return FALSE;
    }
  if (node_is_string (node))
    for (guint i = 0; i < n; i++)
      if (g_str_equal (json_node_get_string (node), names[i]))
        {
          *out = i;
          return TRUE;
        }
  for (guint i = 0; i < n; i++)
    g_string_append_printf (known, i > 0 ? ", %s" : "%s", names[i]);
  pl_json_fail (r, error, _("%s “%s” is not one of %s"), what,
               node_is_string (node) ? json_node_get_string (node) : "?", known->str);
  return FALSE;
}

/* ---- steps ------------------------------------------------------------------------------- */

static gboolean
hidden_valid (const char *text)
{
  /* "64-64", "300-100": sizes 1 … 65536 joined by '-' */
  g_auto(GStrv) parts = g_strsplit (text, "-", -1);

  for (guint i = 0; parts[i] != NULL; i++)
    {
      guint64 v;

      if (!g_ascii_string_to_unsigned (parts[i], 10, 1, 65536, &v, NULL))
        return FALSE;
    }
  return parts[0] != NULL;
}

static gboolean
read_settings (PlJsonReader     *r,
               JsonObject       *object,
               PlLessonSettings *s,
               GError          **error)
{
  static const char *known[] = {
    "dataset", "network", "hidden", "activation", "epochs", "lr", "score", "scope", "invert",
    "sparsity", "seed", "penalty", "lambda", "clip-norm", "procedure", NULL,
  };
  static const char *activations[] = { "relu", "tanh", "sigmoid" };
  static const char *networks[] = { "mlp", "lenet5" };
  /* in PlScope's order (pl_scope_name) */
  static const char *scopes[] = { "global", "layer", "row", "erk" };
  JsonNode *node;
  double v;
  guint k;

  if (!pl_json_check_members (r, object, known, error))
    return FALSE;

  if (member (object, "dataset") != NULL)
    {
      if (!read_string (r, object, "dataset", &s->dataset, error))
        return FALSE;
      s->has_dataset = TRUE;
    }
  if (member (object, "hidden") != NULL)
    {
      if (!read_string (r, object, "hidden", &s->hidden, error))
        return FALSE;
      if (!hidden_valid (s->hidden))
        {
          gsize len = pl_json_enter (r, "hidden", 0);

          pl_json_fail (r, error, _("“%s” is not hidden layer sizes such as “64-64”"), s->hidden);
          pl_json_leave (r, len);
          return FALSE;
        }
      s->has_hidden = TRUE;
    }
  if ((node = member (object, "network")) != NULL)
    {
      gsize len = pl_json_enter (r, "network", 0);
      gboolean ok = read_name (r, node, _("network"), networks, G_N_ELEMENTS (networks), &k, error);

      pl_json_leave (r, len);
      if (!ok)
        return FALSE;
      s->network = g_strdup (networks[k]);
      s->has_network = TRUE;
    }
  if ((node = member (object, "activation")) != NULL)
    {
      gsize len = pl_json_enter (r, "activation", 0);
      gboolean ok = read_name (r, node, _("activation"), activations, 3, &k, error);

      pl_json_leave (r, len);
      if (!ok)
        return FALSE;
      s->activation = g_strdup (activations[k]);
      s->has_activation = TRUE;
    }
  if ((node = member (object, "epochs")) != NULL)
    {
      if (!read_number (r, node, "epochs", 1, 10000, TRUE, &v, error))
        return FALSE;
      s->epochs = (guint) v;
      s->has_epochs = TRUE;
    }
  if ((node = member (object, "lr")) != NULL)
    {
      if (!read_number (r, node, "lr", 1e-6, 10, FALSE, &s->lr, error))
        return FALSE;
      s->has_lr = TRUE;
    }
  if ((node = member (object, "score")) != NULL)
    {
      g_autoptr(GError) local = NULL;
      gsize len = pl_json_enter (r, "score", 0);

      if (!node_is_string (node)
          || !pl_score_parse (json_node_get_string (node), &s->score, &local))
        {
          pl_json_fail (r, error, "%s", local != NULL ? local->message : _("expected a score name"));
          pl_json_leave (r, len);
          return FALSE;
        }
      pl_json_leave (r, len);
      s->has_score = TRUE;
    }
  if ((node = member (object, "scope")) != NULL)
    {
      gsize len = pl_json_enter (r, "scope", 0);
      gboolean ok = read_name (r, node, _("scope"), scopes, G_N_ELEMENTS (scopes), &k, error);

      pl_json_leave (r, len);
      if (!ok)
        return FALSE;
      s->scope = (PlScope) k;
      s->has_scope = TRUE;
    }
  if ((node = member (object, "invert")) != NULL)
    {
      if (!node_is_bool (node))
        {
          gsize len = pl_json_enter (r, "invert", 0);

          pl_json_fail (r, error, _("expected true or false"));
          pl_json_leave (r, len);
          return FALSE;
        }
      s->invert = json_node_get_boolean (node);
      s->has_invert = TRUE;
    }
  if ((node = member (object, "sparsity")) != NULL)
    {
      if (!read_number (r, node, "sparsity", 0, 0.99, FALSE, &s->sparsity, error))
        return FALSE;
      s->has_sparsity = TRUE;
    }
  if ((node = member (object, "seed")) != NULL)
    {
      if (!read_number (r, node, "seed", 0, 1e15, TRUE, &v, error))
        return FALSE;
      s->seed = (guint64) v;
      s->has_seed = TRUE;
    }
  if ((node = member (object, "penalty")) != NULL)
    {
      gsize len = pl_json_enter (r, "penalty", 0);
      gboolean ok = read_name (r, node, _("penalty"), penalty_names, PL_LESSON_N_PENALTIES, &k, error);

      pl_json_leave (r, len);
      if (!ok)
        return FALSE;
      s->penalty = k;
      s->has_penalty = TRUE;
    }
  if ((node = member (object, "lambda")) != NULL)
    {
      if (!read_number (r, node, "lambda", 1e-9, 100, FALSE, &s->lambda, error))
        return FALSE;
      s->has_lambda = TRUE;
    }
  if ((node = member (object, "clip-norm")) != NULL)
    {
      if (!read_number (r, node, "clip-norm", 0, 1000, FALSE, &s->clip_norm, error))
        return FALSE;
      s->has_clip_norm = TRUE;
    }
  if ((node = member (object, "procedure")) != NULL)
    {
      gsize len = pl_json_enter (r, "procedure", 0);
      gboolean ok = read_name (r, node, _("procedure"), procedure_names, PL_LESSON_N_PROCEDURES, &k, error);

      pl_json_leave (r, len);
      if (!ok)
        return FALSE;
      s->procedure = k;
      s->has_procedure = TRUE;
    }
  return TRUE;
}

static gboolean
read_name_array (PlJsonReader *r,
                 JsonObject   *object,
                 const char   *name,
                 const char   *what,
                 const char  **names,
                 guint         n_names,
                 guint        *values,
                 guint         max,
                 guint        *n_values,
                 GError      **error)
{
  JsonNode *node = member (object, name);
  JsonArray *array;
  gsize len;
  gboolean ok = TRUE;

  *n_values = 0;
  if (node == NULL)
    return TRUE;
  len = pl_json_enter (r, name, 0);
  if (!JSON_NODE_HOLDS_ARRAY (node))
    {
      pl_json_fail (r, error, _("expected a list of names"));
      pl_json_leave (r, len);
      return FALSE;
    }
  array = json_node_get_array (node);
  if (json_array_get_length (array) > max)
    {
      pl_json_fail (r, error, _("at most %u entries, not %u"), max, json_array_get_length (array));
      pl_json_leave (r, len);
      return FALSE;
    }
  for (guint i = 0; i < json_array_get_length (array) && ok; i++)
    {
      gsize inner = pl_json_enter (r, NULL, i);

      ok = read_name (r, json_array_get_element (array, i), what, names, n_names,
                      &values[i], error);
      pl_json_leave (r, inner);
    }
  *n_values = json_array_get_length (array);
  pl_json_leave (r, len);

  return ok;
}

static gboolean
read_expects (PlJsonReader *r,
              JsonObject   *object,
              PlLessonStep *step,
              GError      **error)
{
  static const char *known[] = { "quantity", "min", "max", NULL };
  JsonNode *node = member (object, "expect");
  JsonArray *array;
  gsize len;

  if (node == NULL)
    return TRUE;
  len = pl_json_enter (r, "expect", 0);
  if (!JSON_NODE_HOLDS_ARRAY (node)
      || json_array_get_length (json_node_get_array (node)) > G_N_ELEMENTS (step->expects))
    {
      pl_json_fail (r, error, _("expected a list of at most %u expectations"),
                   (guint) G_N_ELEMENTS (step->expects));
      pl_json_leave (r, len);
      return FALSE;
    }
  array = json_node_get_array (node);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *e = json_array_get_element (array, i);
      PlLessonExpect *x = &step->expects[i];
      gsize inner = pl_json_enter (r, NULL, i);
      JsonObject *o;
      guint q;

      if (!JSON_NODE_HOLDS_OBJECT (e))
        {
          pl_json_fail (r, error, _("expected an object"));
          return FALSE;
        }
      o = json_node_get_object (e);
      if (!pl_json_check_members (r, o, known, error))
        return FALSE;
      {
        gsize qlen = pl_json_enter (r, "quantity", 0);
        gboolean ok = read_name (r, member (o, "quantity"), _("quantity"), quantity_names,
                                 PL_LESSON_N_QUANTITIES, &q, error);

        pl_json_leave (r, qlen);
        if (!ok)
          return FALSE;
      }
      x->quantity = q;
      x->min = -INFINITY;
      x->max = INFINITY;
      if (member (o, "min") != NULL
          && !read_number (r, member (o, "min"), "min", 0, 1, FALSE, &x->min, error))
        return FALSE;
      if (member (o, "max") != NULL
          && !read_number (r, member (o, "max"), "max", 0, 1, FALSE, &x->max, error))
        return FALSE;
      if (member (o, "min") == NULL && member (o, "max") == NULL)
        {
          pl_json_fail (r, error, _("give “min”, “max” or both"));
          return FALSE;
        }
      if (x->min > x->max)
        {
          pl_json_fail (r, error, _("“min” %g is above “max” %g"), x->min, x->max);
          return FALSE;
        }
      step->n_expects++;
      pl_json_leave (r, inner);
    }
  pl_json_leave (r, len);

  return TRUE;
}

static gboolean
read_step (PlJsonReader *r,
           JsonNode     *node,
           PlLessonStep *step,
           GError      **error)
{
  static const char *known[] = {
    "title", "text", "formula", "settings", "actions", "controls", "view", "notice", "expect",
    NULL,
  };
  guint controls[PL_LESSON_N_CONTROLS * 2], n_controls, view;
  JsonObject *o;
  JsonNode *settings;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    {
      pl_json_fail (r, error, _("a step is an object"));
      return FALSE;
    }
  o = json_node_get_object (node);
  if (!pl_json_check_members (r, o, known, error)
      || !read_text (r, o, "title", TRUE, FALSE, &step->title, error)
      || !read_text (r, o, "text", TRUE, TRUE, &step->text, error)
      || !read_text (r, o, "formula", FALSE, TRUE, &step->formula, error)
      || !read_text (r, o, "notice", TRUE, TRUE, &step->notice, error))
    return FALSE;

  if ((settings = member (o, "settings")) != NULL)
    {
      gsize len = pl_json_enter (r, "settings", 0);
      gboolean ok;

      if (!JSON_NODE_HOLDS_OBJECT (settings))
        {
          pl_json_fail (r, error, _("expected an object"));
          return FALSE;
        }
      ok = read_settings (r, json_node_get_object (settings), &step->settings, error);
      pl_json_leave (r, len);
      if (!ok)
        return FALSE;
    }

  if (!read_name_array (r, o, "actions", _("action"), action_names, PL_LESSON_N_ACTIONS,
                        (guint *) step->actions, G_N_ELEMENTS (step->actions),
                        &step->n_actions, error)
      || !read_name_array (r, o, "controls", _("control"), control_names, PL_LESSON_N_CONTROLS,
                           controls, G_N_ELEMENTS (controls), &n_controls, error))
    return FALSE;
  for (guint i = 0; i < n_controls; i++)
    step->controls |= 1u << controls[i];
  for (guint i = 0; i < step->n_actions; i++)
    if ((step->actions[i] == PL_LESSON_ACTION_PREVIEW || step->actions[i] == PL_LESSON_ACTION_PROCEDURE
         || step->actions[i] == PL_LESSON_ACTION_PRUNE_OBS)
        && !step->settings.has_sparsity)
      {
        pl_json_fail (r, error, _("the action “%s” needs “settings.sparsity”"),
                     action_names[step->actions[i]]);
        return FALSE;
      }
    else if (step->actions[i] == PL_LESSON_ACTION_PROCEDURE && !step->settings.has_procedure)
      {
        pl_json_fail (r, error, _("the action “procedure” needs “settings.procedure”"));
        return FALSE;
      }

  {
    gsize len = pl_json_enter (r, "view", 0);
    gboolean ok = read_name (r, member (o, "view"), _("view"), view_names, PL_LESSON_N_VIEWS,
                             &view, error);

    pl_json_leave (r, len);
    if (!ok)
      return FALSE;
    step->view = view;
  }

  if (!read_expects (r, o, step, error))
    return FALSE;
  for (guint i = 0; i < step->n_expects; i++)
    if (step->expects[i].quantity == PL_LESSON_QUANTITY_SWEEP_ACCURACY
        && !step->settings.has_sparsity)
      {
        pl_json_fail (r, error, _("“sweep-accuracy” is read at “settings.sparsity”: give it"));
        return FALSE;
      }
    else if ((step->expects[i].quantity == PL_LESSON_QUANTITY_PROCEDURE_ACCURACY
              || step->expects[i].quantity == PL_LESSON_QUANTITY_PROCEDURE_SPARSITY)
             && !step->settings.has_procedure)
      {
        pl_json_fail (r, error, _("“%s” is read from the run of “settings.procedure”: give it"),
                     quantity_names[step->expects[i].quantity]);
        return FALSE;
      }

  return TRUE;
}

static gboolean
id_valid (const char *id)
{
  if (id[0] == '\0' || strlen (id) > 64)
    return FALSE;
  for (const char *p = id; *p != '\0'; p++)
    if (!g_ascii_islower (*p) && !g_ascii_isdigit (*p) && *p != '-')
      return FALSE;
  return TRUE;
}

static gboolean
read_lesson (PlJsonReader *r,
             JsonNode     *root,
             PlLesson     *lesson,
             GError      **error)
{
  static const char *known[] = {
    "prunelab-lesson", "id", "seed", "title", "summary", "steps", NULL,
  };
  JsonObject *o;
  JsonNode *version, *steps;
  JsonArray *array;
  gsize len;

  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      pl_json_fail (r, error, _("a lesson is a JSON object"));
      return FALSE;
    }
  o = json_node_get_object (root);
  version = member (o, "prunelab-lesson");
  if (version == NULL)
    {
      pl_json_fail (r, error, _("not a PruneLab lesson (no “prunelab-lesson” member)"));
      return FALSE;
    }
  if (!node_is_number (version) || json_node_get_double (version) != PL_LESSON_FORMAT_VERSION)
    {
      if (node_is_number (version))
        pl_json_fail (r, error, _("lesson format %g is not supported (this PruneLab reads %d)"),
                     json_node_get_double (version), PL_LESSON_FORMAT_VERSION);
      else
        pl_json_fail (r, error, _("“prunelab-lesson” is the format version, a number"));
      return FALSE;
    }
  if (!pl_json_check_members (r, o, known, error)
      || !read_string (r, o, "id", &lesson->id, error))
    return FALSE;
  if (!id_valid (lesson->id))
    {
      pl_json_fail (r, error, _("id “%s”: use lowercase letters, digits and “-”"), lesson->id);
      return FALSE;
    }
  if (member (o, "seed") != NULL && !read_string (r, o, "seed", &lesson->seed, error))
    return FALSE;
  if (!read_text (r, o, "title", TRUE, FALSE, &lesson->title, error)
      || !read_text (r, o, "summary", TRUE, TRUE, &lesson->summary, error))
    return FALSE;

  steps = member (o, "steps");
  len = pl_json_enter (r, "steps", 0);
  if (steps == NULL || !JSON_NODE_HOLDS_ARRAY (steps)
      || json_array_get_length (json_node_get_array (steps)) == 0
      || json_array_get_length (json_node_get_array (steps)) > PL_LESSON_MAX_STEPS)
    {
      pl_json_fail (r, error, _("give a list of 1 to %d steps"), PL_LESSON_MAX_STEPS);
      return FALSE;
    }
  array = json_node_get_array (steps);
  lesson->steps = g_new0 (PlLessonStep, json_array_get_length (array));
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      gsize inner = pl_json_enter (r, NULL, i);

      lesson->n_steps = i + 1;
      if (!read_step (r, json_array_get_element (array, i), &lesson->steps[i], error))
        return FALSE;
      pl_json_leave (r, inner);
    }
  pl_json_leave (r, len);

  return TRUE;
}

/* ---- entry points ------------------------------------------------------------------------ */

PlLesson *
pl_lesson_parse (const char  *contents,
                 gsize        length,
                 const char  *display_name,
                 GError     **error)
{
  g_autoptr(PlLesson) lesson = g_new0 (PlLesson, 1);
  g_autoptr(JsonParser) parser = NULL;
  g_autoptr(GError) local = NULL;
  g_autoptr(GString) where = g_string_new (NULL);
  /* where: freed by its g_autoptr */
  PlJsonReader r = { display_name != NULL ? display_name : "lesson", where };

  g_return_val_if_fail (contents != NULL || length == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (length > PL_LESSON_MAX_BYTES)
    {
      g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_TOO_LARGE,
                   _("“%s”: %lu bytes is too large for a lesson (at most %d)"),
                   r.file, (unsigned long) length, PL_LESSON_MAX_BYTES);
      return NULL;
    }
  if (!g_utf8_validate (contents, length, NULL) || memchr (contents, '\0', length) != NULL)
    {
      g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_BAD_MAGIC,
                   _("“%s”: a lesson is UTF-8 text"), r.file);
      return NULL;
    }
  switch (pl_json_check (contents, length, 16, 100000))
    {
    case PL_JSON_OK:
      break;
    case PL_JSON_TOO_DEEP:
    case PL_JSON_TOO_MANY:
      g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_TOO_LARGE,
                   _("“%s”: nested too deep or too many values for a lesson"), r.file);
      return NULL;
    case PL_JSON_BAD_ESCAPE:
      g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_BAD_HEADER,
                   _("“%s”: not valid JSON: a string escape that JSON does not allow (a "
                     "backslash takes one of \\\" \\\\ / b f n r t, or u and 4 hex digits, a "
                     "surrogate only in a pair)"), r.file);
      return NULL;
    case PL_JSON_TRAILING:
      g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_BAD_HEADER,
                   _("“%s”: not valid JSON: more than one value"), r.file);
      return NULL;
    case PL_JSON_NOT_JSON:
    default:
      g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_BAD_HEADER,
                   _("“%s”: not valid JSON"), r.file);
      return NULL;
    }
  parser = json_parser_new_immutable ();
  if (!json_parser_load_from_data (parser, contents, (gssize) length, &local))
    {
      /* json-glib quotes the text around the problem, cut at a byte */
      g_autofree char *shown = g_utf8_make_valid (local->message, -1);

      g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_BAD_HEADER,
                   _("“%s”: not valid JSON: %s"), r.file, shown);
      return NULL;
    }
  if (!read_lesson (&r, json_parser_get_root (parser), lesson, error))
    return NULL;

  return g_steal_pointer (&lesson);
}

PlLesson *
pl_lesson_load (const char  *path,
                GError     **error)
{
  g_autofree char *contents = NULL;
  g_autofree char *display = NULL;
  gsize length;
  PlLesson *lesson;

  g_return_val_if_fail (path != NULL, NULL);

  display = g_filename_display_name (path);
  if (!g_file_get_contents (path, &contents, &length, error))
    return NULL;
  lesson = pl_lesson_parse (contents, length, display, error);
  if (lesson != NULL)
    lesson->path = g_strdup (path);

  return lesson;
}

static int
compare_names (gconstpointer a,
               gconstpointer b)
{
  return strcmp (*(char * const *) a, *(char * const *) b);
}

GPtrArray *
pl_lesson_load_dir (const char  *dir,
                    GError     **error)
{
  g_autoptr(GDir) d = NULL;
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) lessons = g_ptr_array_new_with_free_func ((GDestroyNotify) pl_lesson_free);
  const char *name;

  g_return_val_if_fail (dir != NULL, NULL);

  d = g_dir_open (dir, 0, error);
  if (d == NULL)
    return NULL;
  while ((name = g_dir_read_name (d)) != NULL)
    if (g_str_has_suffix (name, ".json"))
      g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, compare_names);

  for (guint i = 0; i < names->len; i++)
    {
      g_autofree char *path = g_build_filename (dir, g_ptr_array_index (names, i), NULL);
      PlLesson *lesson = pl_lesson_load (path, error);

      if (lesson == NULL)
        return NULL;
      for (guint k = 0; k < lessons->len; k++)
        if (g_str_equal (((PlLesson *) g_ptr_array_index (lessons, k))->id, lesson->id))
          {
            g_autofree char *display = g_filename_display_name (path);

            g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_MISMATCH,
                         _("“%s”: another lesson in “%s” has the id “%s”"), display, dir,
                         lesson->id);
            pl_lesson_free (lesson);
            return NULL;
          }
      g_ptr_array_add (lessons, lesson);
    }

  return g_steal_pointer (&lessons);
}

/* build/data/lessons next to build/app, in a folder meson configured (it holds meson-private/),
 * as pl-locale.c finds build/po */
static char *
build_tree_lessons (void)
{
  g_autofree char *exe = g_file_read_link ("/proc/self/exe", NULL);
  g_autofree char *exe_dir = NULL;
  g_autofree char *top = NULL;
  g_autofree char *marker = NULL;
  g_autofree char *lessons = NULL;

  if (exe == NULL)
    return NULL;
  exe_dir = g_path_get_dirname (exe);
  top = g_path_get_dirname (exe_dir);
  marker = g_build_filename (top, "meson-private", NULL);
  lessons = g_build_filename (top, "data", "lessons", NULL);
  if (!g_file_test (marker, G_FILE_TEST_IS_DIR) || !g_file_test (lessons, G_FILE_TEST_IS_DIR))
    return NULL;
  return g_steal_pointer (&lessons);
}

char **
pl_lesson_dirs (void)
{
  g_autoptr(GStrvBuilder) dirs = g_strv_builder_new ();
  g_autofree char *build = build_tree_lessons ();
  const char *path = g_getenv ("PRUNELAB_LESSON_PATH");

  /* a teacher's own lessons first, then the build tree's, then the installed ones */
  if (path != NULL)
    {
      g_auto(GStrv) own = g_strsplit (path, G_SEARCHPATH_SEPARATOR_S, -1);

      for (guint i = 0; own[i] != NULL; i++)
        if (own[i][0] != '\0' && g_file_test (own[i], G_FILE_TEST_IS_DIR))
          g_strv_builder_add (dirs, own[i]);
    }
  if (build != NULL)
    g_strv_builder_add (dirs, build);
  if (g_file_test (PL_LESSONS_DIR, G_FILE_TEST_IS_DIR))
    g_strv_builder_add (dirs, PL_LESSONS_DIR);
  return g_strv_builder_end (dirs);
}

const char *
pl_lesson_text_get_lang (const PlLessonText *text,
                         const char         *lang)
{
  g_return_val_if_fail (text != NULL && lang != NULL, NULL);

  for (guint i = 0; i < text->n; i++)
    if (g_str_equal (text->langs[i], lang))
      return text->texts[i];
  return NULL;
}

const char *
pl_lesson_text_get (const PlLessonText *text)
{
  const char * const *langs = g_get_language_names ();

  g_return_val_if_fail (text != NULL, NULL);

  if (text->n == 0)
    return NULL;
  for (guint i = 0; langs[i] != NULL; i++)
    {
      const char *t;

      if (g_str_equal (langs[i], "C"))
        break;
      t = pl_lesson_text_get_lang (text, langs[i]);
      if (t != NULL)
        return t;
    }
  for (guint i = 0; i < text->n; i++)
    if (g_str_equal (text->langs[i], "en") || text->langs[i][0] == '\0')
      return text->texts[i];
  return text->texts[0];
}

gboolean
pl_lesson_quantity_value (PlLessonQuantity        quantity,
                          const PlSnapshot       *s,
                          const PlLessonSettings *settings,
                          double                 *value)
{
  double at;

  g_return_val_if_fail (s != NULL && settings != NULL && value != NULL, FALSE);

  at = settings->sparsity;
  switch (quantity)
    {
    case PL_LESSON_QUANTITY_VALIDATION_ACCURACY:
      if (!s->eval.valid)
        return FALSE;
      *value = s->eval.accuracy;
      return TRUE;
    case PL_LESSON_QUANTITY_PREVIEW_ACCURACY:
    case PL_LESSON_QUANTITY_PREVIEW_SPARSITY:
      if (!s->has_preview)
        return FALSE;
      *value = quantity == PL_LESSON_QUANTITY_PREVIEW_ACCURACY ? s->preview.accuracy
                                                              : s->preview.sparsity;
      return TRUE;
    case PL_LESSON_QUANTITY_PREVIEW_STRUCTURAL_SPARSITY:
      if (!s->has_preview)
        return FALSE;
      *value = s->preview.neurons > 0 ? (double) s->preview.dead_neurons / s->preview.neurons : 0.0;
      return TRUE;
    case PL_LESSON_QUANTITY_RELATIVE_SPARSITY:
      *value = s->metrics.total.relative_sparsity;
      return s->n_layers > 0;
    case PL_LESSON_QUANTITY_SPARSITY:
      *value = s->metrics.total.parameter_sparsity;
      return s->n_layers > 0;
    case PL_LESSON_QUANTITY_STRUCTURAL_SPARSITY:
      *value = s->metrics.total.structural_sparsity;
      return s->n_layers > 0;
    case PL_LESSON_QUANTITY_HOYER:
      *value = s->metrics.total.hoyer;
      return s->n_layers > 0;
    case PL_LESSON_QUANTITY_SWEEP_ACCURACY:
      for (guint c = 0; c < s->n_curves; c++)
        if (s->curves[c].score == s->strategy.score)
          {
            gsize n;
            const PlSweepPoint *p = pl_sweep_curve_points (&s->curves[c], &n);
            double best = INFINITY;

            for (gsize k = 0; k < n; k++)
              if (fabs (p[k].target - at) < best)
                {
                  best = fabs (p[k].target - at);
                  *value = p[k].accuracy;
                }
            return n > 0;
          }
      return FALSE;
    case PL_LESSON_QUANTITY_PROCEDURE_ACCURACY:
    case PL_LESSON_QUANTITY_PROCEDURE_SPARSITY:
      {
        GBytes *run;
        gsize n = 0;
        const PlSchedulePoint *p, *end;

        if (!settings->has_procedure)
          return FALSE;
        run = s->schedules[pl_lesson_procedure_method (settings->procedure, NULL)];
        if (run == NULL)
          return FALSE;
        p = g_bytes_get_data (run, &n);
        n /= sizeof (PlSchedulePoint);
        if (n < 2)
          return FALSE;   /* only the start: the run has not finished a point */
        end = &p[n - 1];
        for (gsize k = 0; k < n; k++)
          if (p[k].chosen)
            end = &p[k];
        *value = quantity == PL_LESSON_QUANTITY_PROCEDURE_ACCURACY ? end->val_accuracy : end->sparsity;
        return TRUE;
      }
    case PL_LESSON_N_QUANTITIES:
    default:
      g_return_val_if_reached (FALSE);
    }
}
