/* test-cli-options.c — every numeric option of every command refuses what is not in its range
 *
 * The options are not listed here: they are read from prunelab-cli itself. The commands come
 * from "prunelab-cli --help" (and "bench --help"), each command's options from "--help-all",
 * and an option's range from the end of its help line, which the CLI writes from the same
 * table row it checks with ("; a number in [0, 1)"). So a new numeric option is tried the day
 * it is added, and a numeric-looking option without a range fails the test.
 *
 * For each numeric option: NaN, ±infinity, "", "1x", "1e999" and the values just outside its range
 * (the bound itself when it is open; below the lowest and above the highest whole number;
 * a fraction for a whole number; one value too many for a list) must end the run with exit
 * status 2 and "--NAME must be RANGE, not “VALUE”"; the bounds that belong to the range and a
 * full list must pass. Each run ends with an unknown option, so that a value that passes
 * starts nothing.
 */
#define G_LOG_DOMAIN "test-cli-options"

#include "config.h"

#include <math.h>
#include <string.h>

#include "pl-test-cli.h"

/* Ends every run: what passes its option is stopped here. */
#define STOP "--no-such-option-stops-the-run"

typedef enum {
  RANGE_WHOLE,     /* whole numbers from lo to hi */
  RANGE_INTERVAL,  /* [lo, hi], with open ends */
  RANGE_ABOVE,     /* > lo or ≥ lo */
  RANGE_FINITE,
} RangeKind;

typedef struct {
  char      *command;     /* "train", "bench drag" */
  char      *name;        /* "lr" */
  char       short_name;  /* 0 for none */
  char      *range;       /* as the help writes it, and the error must */
  RangeKind  kind;
  gboolean   list;
  guint      max_count;
  gint64     ilo, ihi;
  double     lo, hi;
  gboolean   open_lo, open_hi;
} NumberOption;

static const char *cli;
static GPtrArray *numbers;   /* NumberOption */

static void
number_option_free (gpointer data)
{
  NumberOption *o = data;

  g_free (o->command);
  g_free (o->name);
  g_free (o->range);
  g_free (o);
}

/* ---- reading the CLI's help -------------------------------------------------------------- */

static char *
help_of (const char *command,
         const char *flag)
{
  g_auto(GStrv) words = g_strsplit (command, " ", -1);
  g_autoptr(GPtrArray) args = g_ptr_array_new ();
  g_auto(PlTestRun) run = { 0 };

  for (guint i = 0; words[i] != NULL; i++)
    if (*words[i] != '\0')
      g_ptr_array_add (args, words[i]);
  g_ptr_array_add (args, (char *) flag);
  g_ptr_array_add (args, NULL);
  pl_test_run_cliv (&run, cli, (const char * const *) args->pdata, NULL, NULL);
  g_assert_cmpint (run.status, ==, 0);
  return g_steal_pointer (&run.out);
}

/* The names under "Commands:", or NULL when @help has none. */
static GStrv
commands_in (const char *help)
{
  g_autoptr(GRegex) line = g_regex_new ("^  ([a-z]+) +\\S", G_REGEX_MULTILINE, 0, NULL);
  g_autoptr(GMatchInfo) match = NULL;
  g_autoptr(GStrvBuilder) names = g_strv_builder_new ();
  const char *section = strstr (help, "\nCommands:\n");

  if (section == NULL)
    return NULL;
  g_regex_match (line, section, 0, &match);
  for (; g_match_info_matches (match); g_match_info_next (match, NULL))
    {
      g_autofree char *name = g_match_info_fetch (match, 1);
      g_strv_builder_add (names, name);
    }
  return g_strv_builder_end (names);
}

static gboolean
parse_range (NumberOption *o,
             const char   *text)
{
  g_autoptr(GRegex) list = g_regex_new ("^up to (\\d+) (.*), comma-separated$", 0, 0, NULL);
  g_autoptr(GRegex) whole = g_regex_new ("^(?:a )?whole numbers? from (-?\\d+) to (-?\\d+)$", 0, 0, NULL);
  g_autoptr(GRegex) interval = g_regex_new ("^(?:a number|numbers) in ([[(])(\\S+), (\\S+)([])])$", 0, 0, NULL);
  g_autoptr(GRegex) above = g_regex_new ("^(?:a number|numbers) (>|≥) (\\S+)$", 0, 0, NULL);
  g_autoptr(GMatchInfo) m = NULL;
  g_autofree char *one = NULL;

  if (g_regex_match (list, text, 0, &m))
    {
      g_autofree char *count = g_match_info_fetch (m, 1);

      o->list = TRUE;
      o->max_count = (guint) g_ascii_strtoull (count, NULL, 10);
      one = g_match_info_fetch (m, 2);
    }
  else
    one = g_strdup (text);
  g_clear_pointer (&m, g_match_info_unref);

  if (g_regex_match (whole, one, 0, &m))
    {
      g_autofree char *lo = g_match_info_fetch (m, 1);
      g_autofree char *hi = g_match_info_fetch (m, 2);

      o->kind = RANGE_WHOLE;
      o->ilo = g_ascii_strtoll (lo, NULL, 10);
      o->ihi = g_ascii_strtoll (hi, NULL, 10);
      return TRUE;
    }
  g_clear_pointer (&m, g_match_info_unref);
  if (g_regex_match (interval, one, 0, &m))
    {
      g_autofree char *open = g_match_info_fetch (m, 1);
      g_autofree char *lo = g_match_info_fetch (m, 2);
      g_autofree char *hi = g_match_info_fetch (m, 3);
      g_autofree char *close = g_match_info_fetch (m, 4);

      o->kind = RANGE_INTERVAL;
      o->lo = g_ascii_strtod (lo, NULL);
      o->hi = g_ascii_strtod (hi, NULL);
      o->open_lo = *open == '(';
      o->open_hi = *close == ')';
      return TRUE;
    }
  g_clear_pointer (&m, g_match_info_unref);
  if (g_regex_match (above, one, 0, &m))
    {
      g_autofree char *op = g_match_info_fetch (m, 1);
      g_autofree char *lo = g_match_info_fetch (m, 2);

      o->kind = RANGE_ABOVE;
      o->lo = g_ascii_strtod (lo, NULL);
      o->hi = INFINITY;
      o->open_lo = strcmp (op, ">") == 0;
      return TRUE;
    }
  if (strcmp (one, "a finite number") == 0 || strcmp (one, "finite numbers") == 0)
    {
      o->kind = RANGE_FINITE;
      o->lo = -INFINITY;
      o->hi = INFINITY;
      return TRUE;
    }
  return FALSE;
}

/* Every "  -x, --name=ARG   help" line of a command's --help-all. */
static void
read_options (const char *command)
{
  g_autofree char *help = help_of (command, "--help-all");
  g_autoptr(GRegex) line = g_regex_new ("^  (?:-(\\w), )?--([a-z0-9-]+)=(\\S+) +(.*)$",
                                        G_REGEX_MULTILINE, 0, NULL);
  g_autoptr(GRegex) metavar = g_regex_new ("^(?:[A-Z]|[A-Z]\\[,[A-Z]…\\]|LIST)$", 0, 0, NULL);
  g_autoptr(GMatchInfo) match = NULL;
  g_auto(GStrv) sub = commands_in (help);

  if (sub != NULL)
    {
      for (guint i = 0; sub[i] != NULL; i++)
        {
          g_autofree char *inner = g_strdup_printf ("%s %s", command, sub[i]);
          read_options (inner);
        }
      return;
    }

  g_regex_match (line, help, 0, &match);
  for (; g_match_info_matches (match); g_match_info_next (match, NULL))
    {
      g_autofree char *short_name = g_match_info_fetch (match, 1);
      g_autofree char *name = g_match_info_fetch (match, 2);
      g_autofree char *arg = g_match_info_fetch (match, 3);
      g_autofree char *text = g_match_info_fetch (match, 4);
      const char *semi = g_strrstr (text, "; ");
      NumberOption *o = g_new0 (NumberOption, 1);

      o->command = g_strdup (command);
      o->name = g_strdup (name);
      o->short_name = *short_name;
      if (semi == NULL || !parse_range (o, semi + 2))
        {
          /* not a number: then its help must not look like one */
          if (g_regex_match (metavar, arg, 0, NULL))
            g_error ("prunelab-cli %s --%s=%s takes a number but states no range: “%s”",
                     command, name, arg, text);
          number_option_free (o);
          continue;
        }
      o->range = g_strdup (semi + 2);
      g_ptr_array_add (numbers, o);
    }
}

/* ---- values in and out of range ---------------------------------------------------------- */

static char *
format_double (double v)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  return g_strdup (g_ascii_dtostr (buf, sizeof buf, v));
}

/* A step outside @bound, away from the range: 1e-6 of its size (at least 1e-6). */
static double
beyond (double bound,
        double direction)
{
  return bound + direction * 1e-6 * MAX (1.0, fabs (bound));
}

/* One value inside the range. */
static char *
inside (const NumberOption *o)
{
  switch (o->kind)
    {
    case RANGE_WHOLE:
      return g_strdup_printf ("%" G_GINT64_FORMAT, o->ilo);
    case RANGE_INTERVAL:
      return format_double ((o->lo + o->hi) / 2);
    case RANGE_ABOVE:
      return format_double (o->lo + 1);
    default:
      return g_strdup ("0.5");
    }
}

static GPtrArray *
bad_values (const NumberOption *o)
{
  GPtrArray *v = g_ptr_array_new_with_free_func (g_free);
  const char *always[] = { "nan", "inf", "-inf", "", "1x" };
  guint first_range;

  for (guint i = 0; i < G_N_ELEMENTS (always); i++)
    g_ptr_array_add (v, g_strdup (always[i]));
  if (o->kind != RANGE_WHOLE)
    g_ptr_array_add (v, g_strdup ("1e999"));   /* overflows to infinity */
  first_range = v->len;

  switch (o->kind)
    {
    case RANGE_WHOLE:
      g_ptr_array_add (v, g_strdup ("1.5"));
      g_ptr_array_add (v, g_strdup ("0x10"));
      if (o->ilo > G_MININT64)
        g_ptr_array_add (v, g_strdup_printf ("%" G_GINT64_FORMAT, o->ilo - 1));
      if (o->ihi < G_MAXINT64)
        g_ptr_array_add (v, g_strdup_printf ("%" G_GINT64_FORMAT, o->ihi + 1));
      else
        g_ptr_array_add (v, g_strdup ("9223372036854775808"));
      break;
    case RANGE_INTERVAL:
      g_ptr_array_add (v, o->open_lo ? format_double (o->lo) : format_double (beyond (o->lo, -1)));
      g_ptr_array_add (v, o->open_hi ? format_double (o->hi) : format_double (beyond (o->hi, +1)));
      break;
    case RANGE_ABOVE:
      g_ptr_array_add (v, o->open_lo ? format_double (o->lo) : format_double (beyond (o->lo, -1)));
      break;
    case RANGE_FINITE:
      break;
    }

  if (o->list)
    {
      /* a bad value after a good one, and one value too many */
      g_autofree char *good = inside (o);
      GString *many = g_string_new (good);

      g_ptr_array_add (v, g_strdup_printf ("%s,nan", good));
      if (first_range < v->len)
        g_ptr_array_add (v, g_strdup_printf ("%s,%s", good, (char *) v->pdata[first_range]));
      for (guint i = 0; i < o->max_count; i++)
        g_string_append_printf (many, ",%s", good);
      g_ptr_array_add (v, g_string_free (many, FALSE));
    }
  return v;
}

static GPtrArray *
good_values (const NumberOption *o)
{
  GPtrArray *v = g_ptr_array_new_with_free_func (g_free);

  g_ptr_array_add (v, inside (o));
  switch (o->kind)
    {
    case RANGE_WHOLE:
      g_ptr_array_add (v, g_strdup_printf ("%" G_GINT64_FORMAT, o->ilo));
      g_ptr_array_add (v, g_strdup_printf ("%" G_GINT64_FORMAT, o->ihi));
      break;
    case RANGE_INTERVAL:
      if (!o->open_lo)
        g_ptr_array_add (v, format_double (o->lo));
      if (!o->open_hi)
        g_ptr_array_add (v, format_double (o->hi));
      break;
    case RANGE_ABOVE:
      if (!o->open_lo)
        g_ptr_array_add (v, format_double (o->lo));
      g_ptr_array_add (v, g_strdup ("1e300"));
      break;
    case RANGE_FINITE:
      g_ptr_array_add (v, g_strdup ("-1e300"));
      g_ptr_array_add (v, g_strdup ("1e300"));
      break;
    }
  if (o->list)
    {
      g_autofree char *good = inside (o);
      GString *full = g_string_new (good);

      for (guint i = 1; i < o->max_count; i++)
        g_string_append_printf (full, ",%s", good);
      g_ptr_array_add (v, g_string_free (full, FALSE));
    }
  return v;
}

/* prunelab-cli COMMAND… --NAME=VALUE --no-such-option (or -X VALUE with @short_form) */
static void
run_with (const NumberOption *o,
          const char         *value,
          gboolean            short_form,
          PlTestRun          *run)
{
  g_auto(GStrv) words = g_strsplit (o->command, " ", -1);
  g_autoptr(GPtrArray) args = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; words[i] != NULL; i++)
    g_ptr_array_add (args, g_strdup (words[i]));
  if (short_form)
    {
      g_ptr_array_add (args, g_strdup_printf ("-%c", o->short_name));
      g_ptr_array_add (args, g_strdup (value));
    }
  else
    g_ptr_array_add (args, g_strdup_printf ("--%s=%s", o->name, value));
  g_ptr_array_add (args, g_strdup (STOP));
  g_ptr_array_add (args, NULL);
  pl_test_run_cliv (run, cli, (const char * const *) args->pdata, NULL, NULL);
}

static void
test_option (gconstpointer data)
{
  const NumberOption *o = data;
  g_autoptr(GPtrArray) bad = bad_values (o);
  g_autoptr(GPtrArray) good = good_values (o);
  g_autofree char *rejected = g_strdup_printf ("--%s must be %s, not “", o->name, o->range);

  for (guint i = 0; i < bad->len; i++)
    for (int form = 0; form < (o->short_name != 0 && i == 0 ? 2 : 1); form++)
      {
        const char *value = bad->pdata[i];
        g_autofree char *quoted = g_strdup_printf ("%s%s”", rejected, value);
        g_auto(PlTestRun) run = { 0 };

        run_with (o, value, form == 1, &run);
        if (run.status != 2 || strstr (run.err, quoted) == NULL)
          g_error ("prunelab-cli %s --%s=%s: exit status %d, stderr “%s”; expected 2 and “%s”",
                   o->command, o->name, value, run.status, run.err, quoted);
      }

  for (guint i = 0; i < good->len; i++)
    {
      const char *value = good->pdata[i];
      g_auto(PlTestRun) run = { 0 };

      run_with (o, value, FALSE, &run);
      /* refused by the stop, not by the option */
      g_assert_cmpint (run.status, ==, 2);
      if (strstr (run.err, rejected) != NULL || strstr (run.err, STOP) == NULL)
        g_error ("prunelab-cli %s --%s=%s is in “%s” but was refused: “%s”",
                 o->command, o->name, value, o->range, run.err);
    }
}

/* The enumeration finds what is known to be there, with the ranges the commands document. */
static void
test_found_the_options (void)
{
  static const struct {
    const char *command, *name, *range;
  } known[] = {
    { "train", "lr", "a number > 0" },
    { "train", "momentum", "a number in [0, 1)" },
    { "train", "threads", "a whole number from 1 to 64" },
    { "train", "val-size", "a whole number from 0 to 2147483647" },
    { "eval", "threads", "a whole number from 1 to 64" },
    { "session", "sparsity", "a number in [0, 1]" },
    { "report", "sparsity", "a number in [0, 1]" },
    { "prune", "sparsity", "up to 16 numbers in [0, 1], comma-separated" },
    { "prune", "threshold", "up to 16 finite numbers, comma-separated" },
    { "sweep", "max", "a number in (0, 1]" },
    { "schedule", "init-drop", "a number in (0, 1)" },
    { "schedule", "l0", "up to 64 numbers in [0, 1000000], comma-separated" },
    { "reproduce", "seeds", "a whole number from 1 to 1000" },
    { "sensitivity", "points", "a whole number from 2 to 1000" },
    { "plot", "dpi", "a number in [24, 2400]" },
    { "bench train", "threads", "up to 16 whole numbers from 1 to 64, comma-separated" },
    { "bench drag", "positions", "a whole number from 2 to 100000" },
    { "bench sparse", "sparsity", "a number in [0, 1]" },
  };
  g_autoptr(GHashTable) commands = g_hash_table_new (g_str_hash, g_str_equal);

  for (guint k = 0; k < G_N_ELEMENTS (known); k++)
    {
      gboolean found = FALSE;

      for (guint i = 0; i < numbers->len && !found; i++)
        {
          const NumberOption *o = numbers->pdata[i];

          if (strcmp (o->command, known[k].command) == 0 && strcmp (o->name, known[k].name) == 0)
            {
              g_assert_cmpstr (o->range, ==, known[k].range);
              found = TRUE;
            }
        }
      if (!found)
        g_error ("prunelab-cli %s --%s was not found", known[k].command, known[k].name);
    }

  for (guint i = 0; i < numbers->len; i++)
    g_hash_table_add (commands, ((NumberOption *) numbers->pdata[i])->command);
  g_test_message ("%u numeric options in %u commands", numbers->len, g_hash_table_size (commands));
  /* train, eval, prune, sweep, schedule, reproduce, sensitivity, session, report, plot, bench
   * train, bench drag, bench sparse */
  g_assert_cmpuint (g_hash_table_size (commands), ==, 13);
  g_assert_cmpuint (numbers->len, >=, 70);
}

int
main (int   argc,
      char *argv[])
{
  g_autofree char *top = NULL;
  g_auto(GStrv) commands = NULL;
  int status;

  g_test_init (&argc, &argv, NULL);
  g_test_summary ("Every numeric option of every prunelab-cli command, read from its --help-all, "
                  "refuses NaN, infinities, garbage and values out of its range with exit "
                  "status 2 and a message naming the option and the range, and accepts its bounds");

  cli = g_getenv ("PRUNELAB_CLI");
  if (cli == NULL)
    {
      g_test_skip ("PRUNELAB_CLI is not set");
      return g_test_run ();
    }
  /* the help and the messages as the test reads them */
  g_setenv ("LC_ALL", "C.UTF-8", TRUE);
  g_unsetenv ("LANGUAGE");

  numbers = g_ptr_array_new_with_free_func (number_option_free);
  top = help_of ("", "--help");
  commands = commands_in (top);
  g_assert_nonnull (commands);
  for (guint i = 0; commands[i] != NULL; i++)
    read_options (commands[i]);

  g_test_add_func ("/cli/options/all-commands-are-read", test_found_the_options);
  for (guint i = 0; i < numbers->len; i++)
    {
      const NumberOption *o = numbers->pdata[i];
      g_autofree char *path = g_strdup_printf ("/cli/options/%s/%s", o->command, o->name);

      g_strdelimit (path, " ", '/');
      g_test_add_data_func (path, o, test_option);
    }

  status = g_test_run ();
  g_clear_pointer (&numbers, g_ptr_array_unref);
  return status;
}
