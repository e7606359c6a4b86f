/* pl-cli-options.c — prunelab-cli's option tables: every number checked where it is parsed */
#define G_LOG_DOMAIN "prunelab-cli"

#include "config.h"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

#include "pl-cli-private.h"

/* The options of one group, as given, and what GOption holds of them. */
typedef struct {
  GArray    *options;       /* PlCliOption */
  GPtrArray *strings;       /* the translated descriptions GOption points to */
} OptionSet;

/* Every option set of this process's commands, for _pl_cli_settings_text(). */
static GPtrArray *all_sets;

static void
option_set_free (gpointer data)
{
  OptionSet *set = data;

  if (all_sets != NULL)
    g_ptr_array_remove (all_sets, set);

  g_array_unref (set->options);
  g_ptr_array_unref (set->strings);
  g_free (set);
}

static gboolean
is_number (PlCliArg arg)
{
  return arg >= PL_CLI_INT;
}

static gboolean
is_whole (PlCliArg arg)
{
  return arg == PL_CLI_INT || arg == PL_CLI_INT64 || arg == PL_CLI_INTS;
}

static char *
format_bound (double v)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  return g_strdup (g_ascii_formatd (buf, sizeof buf, "%.15g", v));
}

char *
_pl_cli_range_text (const PlCliOption *option)
{
  const PlCliRange *r = &option->range;
  gboolean list = option->arg == PL_CLI_DOUBLES || option->arg == PL_CLI_INTS;
  g_autofree char *lo = format_bound (r->min);
  g_autofree char *hi = format_bound (r->max);
  g_autofree char *one = NULL;

  if (is_whole (option->arg))
    one = list ? g_strdup_printf (_("whole numbers from %lld to %lld"),
                                  (long long) r->imin, (long long) r->imax)
               : g_strdup_printf (_("a whole number from %lld to %lld"),
                                  (long long) r->imin, (long long) r->imax);
  else if (isfinite (r->min) && isfinite (r->max))
    {
      /* [a, b], (a, b], [a, b), (a, b) */
      g_autofree char *interval = g_strdup_printf ("%c%s, %s%c",
                                                   r->open & PL_CLI_OPEN_MIN ? '(' : '[', lo, hi,
                                                   r->open & PL_CLI_OPEN_MAX ? ')' : ']');
      one = list ? g_strdup_printf (_("numbers in %s"), interval)
                 : g_strdup_printf (_("a number in %s"), interval);
    }
  else if (isfinite (r->min))
    {
      const char *op = r->open & PL_CLI_OPEN_MIN ? ">" : "≥";

      one = list ? g_strdup_printf (_("numbers %s %s"), op, lo)
                 : g_strdup_printf (_("a number %s %s"), op, lo);
    }
  else
    one = g_strdup (list ? _("finite numbers") : _("a finite number"));

  if (!list)
    return g_steal_pointer (&one);
  /* TRANSLATORS: "up to 16 numbers in [0, 1], comma-separated" */
  return g_strdup_printf (_("up to %u %s, comma-separated"), r->max_count, one);
}

static gboolean
in_range (const PlCliRange *r,
          double            v)
{
  if (!isfinite (v))
    return FALSE;
  if (r->open & PL_CLI_OPEN_MIN ? !(v > r->min) : !(v >= r->min))
    return FALSE;
  if (r->open & PL_CLI_OPEN_MAX ? !(v < r->max) : !(v <= r->max))
    return FALSE;
  return TRUE;
}

/* One value: a whole number within [imin, imax] or a finite number within the range; "1x",
 * "", "nan", "inf" and "1e999" are not. */
static gboolean
parse_one (const PlCliOption *option,
           const char        *text,
           double            *number,
           gint64            *whole)
{
  const PlCliRange *r = &option->range;

  if (is_whole (option->arg))
    {
      gint64 v;

      if (!g_ascii_string_to_signed (text, 10, r->imin, r->imax, &v, NULL))
        return FALSE;
      *whole = v;
      *number = (double) v;
      return TRUE;
    }
  else
    {
      char *end = NULL;
      double v;

      if (*text == '\0' || g_ascii_isspace (*text))
        return FALSE;
      v = g_ascii_strtod (text, &end);
      if (end == text || *end != '\0' || !in_range (r, v))
        return FALSE;
      *number = v;
      return TRUE;
    }
}

static gboolean
parse_value (const PlCliOption  *option,
             const char         *value,
             GError            **error)
{
  double number = 0;
  gint64 whole = 0;
  gboolean ok = TRUE;

  switch (option->arg)
    {
    case PL_CLI_INT:
      if ((ok = parse_one (option, value, &number, &whole)))
        *(int *) option->arg_data = (int) whole;
      break;
    case PL_CLI_INT64:
      if ((ok = parse_one (option, value, &number, &whole)))
        *(gint64 *) option->arg_data = whole;
      break;
    case PL_CLI_DOUBLE:
      if ((ok = parse_one (option, value, &number, &whole)))
        *(double *) option->arg_data = number;
      break;
    case PL_CLI_DOUBLES:
    case PL_CLI_INTS:
      {
        g_auto(GStrv) parts = g_strsplit (value, ",", -1);
        PlCliNumbers numbers = { 0 };

        numbers.n = g_strv_length (parts);
        ok = numbers.n >= 1 && numbers.n <= option->range.max_count;
        for (guint i = 0; ok && i < numbers.n; i++)
          ok = parse_one (option, g_strstrip (parts[i]), &numbers.values[i], &whole);
        if (ok)
          *(PlCliNumbers *) option->arg_data = numbers;
        break;
      }
    default:
      g_assert_not_reached ();
    }

  if (!ok)
    {
      g_autofree char *range = _pl_cli_range_text (option);
      g_autofree char *shown = g_utf8_make_valid (value, -1);

      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   _("--%s must be %s, not “%s”"), option->long_name, range, shown);
    }
  return ok;
}

static gboolean
on_number (const char  *option_name,
           const char  *value,
           gpointer     data,
           GError     **error)
{
  OptionSet *set = data;

  /* "--lr" or "-t" */
  for (guint i = 0; i < set->options->len; i++)
    {
      const PlCliOption *o = &g_array_index (set->options, PlCliOption, i);

      if ((option_name[1] == '-' && strcmp (option_name + 2, o->long_name) == 0)
          || (option_name[1] != '-' && option_name[1] == o->short_name && option_name[2] == '\0'))
        return parse_value (o, value, error);
    }
  g_assert_not_reached ();
  return FALSE;
}

/* @tables: NULL-terminated */
static GOptionGroup *
make_group (const char               *name,
            const char               *title,
            const char               *help,
            const PlCliOption *const *tables)
{
  OptionSet *set = g_new0 (OptionSet, 1);
  g_autoptr(GArray) entries = g_array_new (TRUE, TRUE, sizeof (GOptionEntry));
  GOptionGroup *group;

  set->options = g_array_new (FALSE, FALSE, sizeof (PlCliOption));
  set->strings = g_ptr_array_new_with_free_func (g_free);
  if (all_sets == NULL)
    all_sets = g_ptr_array_new ();
  g_ptr_array_add (all_sets, set);
  for (guint t = 0; tables[t] != NULL; t++)
    for (const PlCliOption *o = tables[t]; o->long_name != NULL; o++)
      g_array_append_vals (set->options, o, 1);

  for (guint i = 0; i < set->options->len; i++)
    {
      const PlCliOption *o = &g_array_index (set->options, PlCliOption, i);
      GOptionEntry e = { o->long_name, o->short_name, 0, G_OPTION_ARG_NONE, o->arg_data, NULL,
                         o->arg_description != NULL ? _(o->arg_description) : NULL };

      switch (o->arg)
        {
        case PL_CLI_FLAG:
          e.arg = G_OPTION_ARG_NONE;
          break;
        case PL_CLI_STRING:
          e.arg = G_OPTION_ARG_STRING;
          break;
        case PL_CLI_FILENAME:
          e.arg = G_OPTION_ARG_FILENAME;
          break;
        case PL_CLI_FILENAMES:
          e.arg = G_OPTION_ARG_FILENAME_ARRAY;
          break;
        default:
          /* a number: checked by on_number as it is parsed */
          g_assert (is_number (o->arg));
          g_assert (is_whole (o->arg) ? o->range.imin <= o->range.imax : o->range.min <= o->range.max);
          g_assert ((o->arg != PL_CLI_DOUBLES && o->arg != PL_CLI_INTS)
                    || (o->range.max_count >= 1 && o->range.max_count <= PL_CLI_MAX_NUMBERS));
          e.arg = G_OPTION_ARG_CALLBACK;
          e.arg_data = (gpointer) on_number;
          break;
        }

      if (is_number (o->arg))
        {
          g_autofree char *range = _pl_cli_range_text (o);

          /* TRANSLATORS: an option's help, then the values it takes */
          e.description = g_strdup_printf (_("%s; %s"), _(o->description), range);
          g_ptr_array_add (set->strings, (gpointer) e.description);
        }
      else
        e.description = _(o->description);
      g_array_append_val (entries, e);
    }

  group = g_option_group_new (name, title, help, set, option_set_free);
  /* (the descriptions are translated above, with the ranges) */
  g_option_group_add_entries (group, (const GOptionEntry *) (gpointer) entries->data);
  return group;
}

void
_pl_cli_add_options (GOptionContext    *context,
                     const PlCliOption *first,
                     ...)
{
  const PlCliOption *tables[8] = { first };
  guint n = 1;
  va_list more;

  va_start (more, first);
  while ((tables[n] = va_arg (more, const PlCliOption *)) != NULL)
    g_assert (++n < G_N_ELEMENTS (tables));
  va_end (more);
  g_option_context_set_main_group (context, make_group (NULL, NULL, NULL, tables));
}

void
_pl_cli_add_option_group (GOptionContext    *context,
                          const char        *name,
                          const char        *title,
                          const char        *help,
                          const PlCliOption *options)
{
  const PlCliOption *tables[] = { options, NULL };

  g_option_context_add_group (context, make_group (name, title, help, tables));
}

char *
_pl_cli_settings_text (const char * const *skip)
{
  GString *s = g_string_new (NULL);
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  for (guint k = 0; all_sets != NULL && k < all_sets->len; k++)
    {
      const OptionSet *set = g_ptr_array_index (all_sets, k);

      for (guint i = 0; i < set->options->len; i++)
        {
          const PlCliOption *o = &g_array_index (set->options, PlCliOption, i);
          const PlCliNumbers *numbers = o->arg_data;

          if (skip != NULL && g_strv_contains (skip, o->long_name))
            continue;
          g_string_append_printf (s, "--%s=", o->long_name);
          switch (o->arg)
            {
            case PL_CLI_FLAG:
              g_string_append (s, *(gboolean *) o->arg_data ? "1" : "0");
              break;
            case PL_CLI_STRING:
            case PL_CLI_FILENAME:
              if (*(char **) o->arg_data == NULL)
                g_string_append (s, "(none)");
              else
                g_string_append_uri_escaped (s, *(char **) o->arg_data, NULL, TRUE);
              break;
            case PL_CLI_INT:
              g_string_append_printf (s, "%d", *(int *) o->arg_data);
              break;
            case PL_CLI_INT64:
              g_string_append_printf (s, "%" G_GINT64_FORMAT, *(gint64 *) o->arg_data);
              break;
            case PL_CLI_DOUBLE:
              g_string_append (s, g_ascii_formatd (buf, sizeof buf, "%.17g", *(double *) o->arg_data));
              break;
            case PL_CLI_FILENAMES:
              for (char **f = *(char ***) o->arg_data; f != NULL && *f != NULL; f++)
                g_string_append_uri_escaped (s, *f, NULL, TRUE);
              break;
            case PL_CLI_DOUBLES:
            case PL_CLI_INTS:
            default:
              for (guint j = 0; j < numbers->n; j++)
                g_string_append_printf (s, "%s%s", j > 0 ? "," : "",
                                        g_ascii_formatd (buf, sizeof buf, "%.17g", numbers->values[j]));
              break;
            }
          g_string_append_c (s, ' ');
        }
    }
  return g_string_free (s, FALSE);
}
