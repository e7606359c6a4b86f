#define G_LOG_DOMAIN "pl-json"

#include "config.h"

#include "pl-json.h"

#include <glib/gi18n-lib.h>
#include <math.h>
#include <string.h>

#include "pl-error.h"

/* The UTF-16 code unit of the 4 hex digits at @p (which may end early), or -1. */
static int
hex4 (const char *p,
      gsize       avail)
{
  int unit = 0;

  if (avail < 4)
    return -1;
  for (guint k = 0; k < 4; k++)
    {
      int digit = g_ascii_xdigit_value (p[k]);

      if (digit < 0)
        return -1;
      unit = unit << 4 | digit;
    }
  return unit;
}

/* The length of the escape after a backslash at @p (RFC 8259, section 7): one of "\/bfnrt, or
 * u and 4 hex digits, a high surrogate only with a low one after it; 0 if it is none of these.
 * json-glib 1.6 decodes a lone surrogate into bytes that are not UTF-8, which would reach the
 * messages that quote tensor names, and leaks when a high surrogate is followed by a bad
 * escape. */
static gsize
escape_length (const char *p,
               gsize       avail)
{
  int unit, low;

  if (avail >= 1 && p[0] != '\0' && strchr ("\"\\/bfnrt", p[0]))
    return 1;
  if (avail < 1 || p[0] != 'u' || (unit = hex4 (p + 1, avail - 1)) < 0)
    return 0;
  if (unit >= 0xDC00 && unit <= 0xDFFF)
    return 0;
  if (unit < 0xD800 || unit > 0xDBFF)
    return 5;
  if (avail < 11 || p[5] != '\\' || p[6] != 'u' || (low = hex4 (p + 7, avail - 7)) < 0xDC00
      || low > 0xDFFF)
    return 0;
  return 11;
}

PlJsonCheck
pl_json_check (const char *text,
               gsize       len,
               guint       max_depth,
               gsize       max_values)
{
  gboolean in_string = FALSE;
  gboolean in_scalar = FALSE;  /* a number or literal at the top level */
  gsize n_values = 1;
  guint depth = 0;
  gboolean closed = FALSE;  /* the first value has ended */

  for (gsize i = 0; i < len; i++)
    {
      char c = text[i];
      gboolean space = c != '\0' && strchr (" \t\r\n", c) != NULL;

      if (in_string)
        {
          if (c == '\\')
            {
              gsize n = escape_length (text + i + 1, len - i - 1);

              if (n == 0)
                return PL_JSON_BAD_ESCAPE;
              i += n;
            }
          else if (c == '"')
            {
              in_string = FALSE;
              closed = depth == 0;
            }
          continue;
        }

      if (closed && !space)
        return PL_JSON_TRAILING;
      if (in_scalar && (space || c == '"' || c == '{' || c == '['))
        {
          /* the top-level scalar ended: anything but white space is a second value */
          in_scalar = FALSE;
          closed = TRUE;
          if (!space)
            return PL_JSON_TRAILING;
          continue;
        }
      if (c == '"')
        in_string = TRUE;
      else if (c == '{' || c == '[')
        {
          if (++depth > max_depth)
            return PL_JSON_TOO_DEEP;
          n_values++;
        }
      else if (c == '}' || c == ']')
        {
          depth = depth > 0 ? depth - 1 : 0;
          closed = depth == 0;
        }
      else if (c == ',')
        n_values++;
      else if (c == '\0' || !strchr (" \t\r\n:-+.0123456789eEtrufalsn", c))
        return PL_JSON_NOT_JSON;
      else if (depth == 0 && !space)
        in_scalar = TRUE;

      if (n_values > max_values)
        return PL_JSON_TOO_MANY;
    }

  return PL_JSON_OK;
}


/* ---- reading a parsed document ----------------------------------------------------------- */

void
pl_json_reader_init (PlJsonReader *r,
                     const char   *file)
{
  r->file = file;
  r->where = g_string_new (NULL);
}

void
pl_json_reader_clear (PlJsonReader *r)
{
  if (r->where != NULL)
    g_string_free (r->where, TRUE);
  r->where = NULL;
}

void
pl_json_fail (PlJsonReader  *r,
              GError       **error,
              const char    *format,
              ...)
{
  g_autofree char *problem = NULL;
  va_list args;

  va_start (args, format);
  problem = g_strdup_vprintf (format, args);
  va_end (args);
  if (r->where->len > 0)
    g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_BAD_HEADER,
                 _("“%s”: %s: %s"), r->file, r->where->str, problem);
  else
    g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_BAD_HEADER,
                 _("“%s”: %s"), r->file, problem);
}

gsize
pl_json_enter (PlJsonReader *r,
               const char   *name,
               guint         index)
{
  gsize len = r->where->len;

  if (name != NULL)
    g_string_append_printf (r->where, len > 0 ? ".%s" : "%s", name);
  else
    g_string_append_printf (r->where, "[%u]", index);
  return len;
}

void
pl_json_leave (PlJsonReader *r,
               gsize         mark)
{
  g_string_truncate (r->where, mark);
}

gboolean
pl_json_check_members (PlJsonReader  *r,
                       JsonObject    *object,
                       const char   **known,
                       GError       **error)
{
  g_autoptr(GList) members = json_object_get_members (object);

  for (GList *l = members; l != NULL; l = l->next)
    if (!g_strv_contains (known, l->data))
      {
        g_autofree char *list = g_strjoinv (", ", (char **) known);

        pl_json_fail (r, error, _("unknown member “%s” (known: %s)"), (const char *) l->data,
                      list);
        return FALSE;
      }
  return TRUE;
}

/* Member @name, entered; NULL (with the error, and left) when absent. */
static JsonNode *
enter_member (PlJsonReader  *r,
              JsonObject    *object,
              const char    *name,
              gsize         *mark,
              GError       **error)
{
  *mark = pl_json_enter (r, name, 0);
  if (!json_object_has_member (object, name))
    {
      pl_json_leave (r, *mark);
      pl_json_fail (r, error, _("member “%s” is missing"), name);
      return NULL;
    }
  return json_object_get_member (object, name);
}

static gboolean
holds_value (JsonNode *node,
             GType     type)
{
  return JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == type;
}

JsonObject *
pl_json_get_object (PlJsonReader  *r,
                    JsonObject    *object,
                    const char    *name,
                    GError       **error)
{
  JsonObject *out = NULL;
  gsize mark;
  JsonNode *node = enter_member (r, object, name, &mark, error);

  if (node == NULL)
    return NULL;
  if (JSON_NODE_HOLDS_OBJECT (node))
    out = json_node_get_object (node);
  else
    pl_json_fail (r, error, _("expected an object"));
  pl_json_leave (r, mark);
  return out;
}

JsonArray *
pl_json_get_array (PlJsonReader  *r,
                   JsonObject    *object,
                   const char    *name,
                   GError       **error)
{
  JsonArray *out = NULL;
  gsize mark;
  JsonNode *node = enter_member (r, object, name, &mark, error);

  if (node == NULL)
    return NULL;
  if (JSON_NODE_HOLDS_ARRAY (node))
    out = json_node_get_array (node);
  else
    pl_json_fail (r, error, _("expected a list"));
  pl_json_leave (r, mark);
  return out;
}

gboolean
pl_json_get_string (PlJsonReader  *r,
                    JsonObject    *object,
                    const char    *name,
                    const char   **out,
                    GError       **error)
{
  gboolean ok = FALSE;
  gsize mark;
  JsonNode *node = enter_member (r, object, name, &mark, error);

  if (node == NULL)
    return FALSE;
  if (holds_value (node, G_TYPE_STRING))
    {
      *out = json_node_get_string (node);
      ok = TRUE;
    }
  else
    pl_json_fail (r, error, _("expected a string"));
  pl_json_leave (r, mark);
  return ok;
}

gboolean
pl_json_get_bool (PlJsonReader  *r,
                  JsonObject    *object,
                  const char    *name,
                  gboolean      *out,
                  GError       **error)
{
  gboolean ok = FALSE;
  gsize mark;
  JsonNode *node = enter_member (r, object, name, &mark, error);

  if (node == NULL)
    return FALSE;
  if (holds_value (node, G_TYPE_BOOLEAN))
    {
      *out = json_node_get_boolean (node);
      ok = TRUE;
    }
  else
    pl_json_fail (r, error, _("expected true or false"));
  pl_json_leave (r, mark);
  return ok;
}

gboolean
pl_json_get_double (PlJsonReader  *r,
                    JsonObject    *object,
                    const char    *name,
                    double         lo,
                    double         hi,
                    double        *out,
                    GError       **error)
{
  gboolean ok = FALSE;
  gsize mark;
  JsonNode *node = enter_member (r, object, name, &mark, error);
  double v;

  if (node == NULL)
    return FALSE;
  if (!holds_value (node, G_TYPE_DOUBLE) && !holds_value (node, G_TYPE_INT64))
    pl_json_fail (r, error, _("expected a number"));
  else if (v = json_node_get_double (node), !isfinite (v) || v < lo || v > hi)
    pl_json_fail (r, error, _("%g is out of range: give a number from %g to %g"), v, lo, hi);
  else
    {
      *out = v;
      ok = TRUE;
    }
  pl_json_leave (r, mark);
  return ok;
}

gboolean
pl_json_get_int (PlJsonReader  *r,
                 JsonObject    *object,
                 const char    *name,
                 gint64         lo,
                 gint64         hi,
                 gint64        *out,
                 GError       **error)
{
  gboolean ok = FALSE;
  gsize mark;
  JsonNode *node = enter_member (r, object, name, &mark, error);
  gint64 v;

  if (node == NULL)
    return FALSE;
  if (!holds_value (node, G_TYPE_INT64))
    pl_json_fail (r, error, _("expected a whole number"));
  else if (v = json_node_get_int (node), v < lo || v > hi)
    pl_json_fail (r, error,
                  _("%lld is out of range: give a whole number from %lld to %lld"),
                  (long long) v, (long long) lo, (long long) hi);
  else
    {
      *out = v;
      ok = TRUE;
    }
  pl_json_leave (r, mark);
  return ok;
}
