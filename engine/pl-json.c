#define G_LOG_DOMAIN "pl-json"

#include "config.h"

#include "pl-json.h"

#include <string.h>

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

