/* prunelab-cli reproduce as a user runs it: --list, each paper's --quick run on a small built-in
 * set (its JSON holds the paper's numbers and the measured ones, with the right shape), the
 * chart and CSV, and bad names and data refused with a clear message. */
#include "config.h"

#include "pl-test-cli.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define DATA "moons:n=300,seed=2"

static const char *cli_path;

static void
test_list (void)
{
  g_auto(PlTestRun) r = { 0 };

  pl_test_run_cli (&r, cli_path, "reproduce", "--list", NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.out, "han2015"));
  g_assert_nonnull (strstr (r.out, "frankle2019"));
  g_assert_nonnull (strstr (r.out, "blalock2020"));
  g_assert_nonnull (strstr (r.out, "tanaka2020"));
  g_assert_nonnull (strstr (r.out, "NeurIPS 2015"));
}

/* The numbers array as key → object. (transfer container) */
static GHashTable *
numbers_by_key (JsonObject *o)
{
  GHashTable *t = g_hash_table_new (g_str_hash, g_str_equal);
  JsonArray *a = json_object_get_array_member (o, "numbers");

  g_assert_cmpuint (json_array_get_length (a), >, 0);
  for (guint k = 0; k < json_array_get_length (a); k++)
    {
      JsonObject *n = json_array_get_object_element (a, k);

      g_assert_true (json_object_has_member (n, "label"));
      g_assert_true (json_object_has_member (n, "paper"));
      g_assert_true (json_object_has_member (n, "mean"));
      g_assert_true (json_object_has_member (n, "min"));
      g_assert_true (json_object_has_member (n, "max"));
      g_hash_table_insert (t, (gpointer) json_object_get_string_member (n, "key"), n);
    }
  return t;
}

static JsonObject *
number (GHashTable *t,
        const char *key)
{
  JsonObject *n = g_hash_table_lookup (t, key);

  g_assert_nonnull (n);
  return n;
}

/* mean within [min, max], over @seeds seeds */
static void
assert_measured (JsonObject *n,
                 guint       seeds)
{
  g_assert_cmpint (json_object_get_int_member (n, "n"), ==, seeds);
  g_assert_cmpfloat (json_object_get_double_member (n, "min"), <=, json_object_get_double_member (n, "mean") + 1e-9);
  g_assert_cmpfloat (json_object_get_double_member (n, "mean"), <=, json_object_get_double_member (n, "max") + 1e-9);
}

/* Points of @curve at @level > 0 */
static guint
count_points (JsonObject *o,
              const char *curve,
              gboolean    pruned)
{
  JsonArray *a = json_object_get_array_member (o, "points");
  guint n = 0;

  for (guint k = 0; k < json_array_get_length (a); k++)
    {
      JsonObject *p = json_array_get_object_element (a, k);

      if (strcmp (json_object_get_string_member (p, "score"), curve) == 0
          && (json_object_get_int_member (p, "level") > 0) == pruned)
        n++;
    }
  return n;
}

static JsonObject *
run_quick (const char *paper,
           const char *seeds)
{
  g_auto(PlTestRun) r = { 0 };
  JsonObject *o;

  pl_test_run_cli (&r, cli_path, "reproduce", paper, "--quick", "--seeds", seeds, "--data", DATA,
                   "--threads", "1", "--json", NULL);
  g_assert_cmpint (r.status, ==, 0);
  o = pl_test_parse_json (r.out);
  g_assert_cmpstr (json_object_get_string_member (o, "command"), ==, "reproduce");
  g_assert_cmpstr (json_object_get_string_member (o, "paper"), ==, paper);
  g_assert_cmpstr (json_object_get_string_member (o, "data"), ==, DATA);
  g_assert_cmpstr (json_object_get_string_member (o, "arch"), ==, "2-300-100-2");
  g_assert_true (json_object_get_boolean_member (o, "quick"));
  g_assert_cmpint (json_object_get_int_member (o, "seeds"), ==, atoi (seeds));
  return o;
}

static void
test_han2015 (void)
{
  g_autoptr(JsonObject) o = run_quick ("han2015", "2");
  g_autoptr(GHashTable) t = numbers_by_key (o);

  /* the paper's numbers, Table 1 and 2 */
  g_assert_cmpfloat (json_object_get_double_member (number (t, "error_before"), "paper"), ==, 1.64);
  g_assert_cmpfloat (json_object_get_double_member (number (t, "error_after"), "paper"), ==, 1.59);
  g_assert_cmpfloat (json_object_get_double_member (number (t, "compression"), "paper"), ==, 12);
  g_assert_cmpstr (json_object_get_string_member (number (t, "kept_fc1"), "source"), ==, "Table 2");
  for (guint i = 0; i < 3; i++)
    {
      static const char *keys[] = { "kept_fc1", "kept_fc2", "kept_fc3" };
      JsonObject *n = number (t, keys[i]);

      assert_measured (n, 2);
      /* the kept share asked for, to a weight (fc1 has 600 weights) */
      g_assert_cmpfloat_with_epsilon (json_object_get_double_member (n, "mean"),
                                      json_object_get_double_member (n, "paper"), 100.0 / 600);
    }
  assert_measured (number (t, "error_after"), 2);
  /* 2 seeds × (dense + 3 rounds), the last at the paper's shares */
  g_assert_cmpuint (count_points (o, "han2015", FALSE), ==, 2);
  g_assert_cmpuint (count_points (o, "han2015", TRUE), ==, 6);
}

static void
test_frankle2019 (void)
{
  g_autoptr(JsonObject) o = run_quick ("frankle2019", "1");
  g_autoptr(GHashTable) t = numbers_by_key (o);
  JsonObject *settings = json_object_get_object_member (o, "settings");
  guint rounds = (guint) json_object_get_int_member (settings, "rounds");
  double holds;

  g_assert_cmpfloat (json_object_get_double_member (number (t, "ticket_holds_to"), "paper"), ==, 3.5);
  g_assert_cmpfloat (json_object_get_double_member (number (t, "reinit_holds_to"), "paper"), ==, 26);
  g_assert_true (json_object_get_null_member (number (t, "dense_accuracy"), "paper"));
  assert_measured (number (t, "ticket_holds_to"), 1);
  assert_measured (number (t, "reinit_last_early_stop"), 1);
  /* a share of weights remaining, at least the last round's 0.8^K of the hidden layers */
  holds = json_object_get_double_member (number (t, "ticket_holds_to"), "mean");
  g_assert_cmpfloat (holds, <=, 100);
  g_assert_cmpfloat (holds, >=, 100 * pow (0.8, rounds) * 0.99);
  g_assert_cmpuint (count_points (o, "ticket", FALSE), ==, 1);
  g_assert_cmpuint (count_points (o, "ticket", TRUE), ==, rounds);
  g_assert_cmpuint (count_points (o, "reinit", TRUE), ==, rounds);
  g_assert_cmpuint (count_points (o, "reinit", FALSE), ==, 1);
}

static void
test_blalock2020 (void)
{
  static const char *curves[] = { "magnitude-global", "magnitude-layer", "random", "taylor" };
  g_autoptr(JsonObject) o = run_quick ("blalock2020", "2");
  g_autoptr(GHashTable) t = numbers_by_key (o);

  /* at least 5 operating points for every strategy and seed */
  for (guint i = 0; i < G_N_ELEMENTS (curves); i++)
    {
      g_assert_cmpuint (count_points (o, curves[i], TRUE), ==, 2 * 5);
      for (guint c = 2; c <= 32; c *= 2)
        {
          g_autofree char *ck = g_strdup_printf ("compression.%s.x%u", curves[i], c);
          g_autofree char *sk = g_strdup_printf ("speedup.%s.x%u", curves[i], c);
          JsonObject *cn = number (t, ck);

          assert_measured (cn, 2);
          assert_measured (number (t, sk), 2);
          /* the biases are never pruned: a little less than the ratio asked for over weights */
          g_assert_cmpfloat (json_object_get_double_member (cn, "mean"), <=, c + 1e-9);
          g_assert_cmpfloat (json_object_get_double_member (cn, "mean"), >, 0.5 * c);
        }
    }
}

/* The collapse row is the first ratio whose point is disconnected, read here from the points */
static void
test_tanaka2020 (void)
{
  static const char *curves[] = { "magnitude", "snip", "grasp", "synflow" };
  g_autoptr(JsonObject) o = run_quick ("tanaka2020", "1");
  g_autoptr(GHashTable) t = numbers_by_key (o);
  JsonArray *points = json_object_get_array_member (o, "points");

  assert_measured (number (t, "dense_accuracy"), 1);
  for (guint i = 0; i < G_N_ELEMENTS (curves); i++)
    {
      g_autofree char *ck = g_strdup_printf ("collapse.%s", curves[i]);
      g_autofree char *ak = g_strdup_printf ("accuracy.%s.x100", curves[i]);
      JsonObject *cn = number (t, ck);
      double first = NAN;

      assert_measured (number (t, ak), 1);
      g_assert_cmpuint (count_points (o, curves[i], FALSE), ==, 1);
      g_assert_cmpuint (count_points (o, curves[i], TRUE), ==, 7);
      for (guint k = 0; k < json_array_get_length (points); k++)
        {
          JsonObject *p = json_array_get_object_element (points, k);

          if (strcmp (json_object_get_string_member (p, "score"), curves[i]) == 0
              && json_object_get_int_member (p, "level") > 0 && isnan (first)
              && !json_object_get_boolean_member (p, "connected"))
            first = 1 / (1 - json_object_get_double_member (p, "target_sparsity"));
        }
      if (isnan (first))
        g_assert_cmpint (json_object_get_int_member (cn, "n"), ==, 0);
      else
        g_assert_cmpfloat_with_epsilon (json_object_get_double_member (cn, "mean"), first, 1e-6 * first);
    }
}

static void
test_plot_and_csv (void)
{
  g_auto(PlTestRun) r = { 0 };
  g_autofree char *dir = g_dir_make_tmp ("pl-cli-reproduce-XXXXXX", NULL);
  g_autofree char *png = g_build_filename (dir, "han.png", NULL);
  g_autofree char *csv = g_build_filename (dir, "han.csv", NULL);
  g_autofree char *text = NULL;

  g_autofree char *table = g_build_filename (dir, "han-table.csv", NULL);
  g_autofree char *table_text = NULL;
  g_auto(GStrv) lines = NULL;
  g_auto(PlTestRun) j = { 0 };
  g_autoptr(JsonObject) o = NULL;
  g_autoptr(GHashTable) t = NULL;

  pl_test_run_cli (&r, cli_path, "reproduce", "han2015", "--quick", "--data", DATA, "--plot", png,
                   "--csv", csv, NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.out, "Table 1"));
  g_assert_nonnull (strstr (r.out, "quick run"));
  g_assert_true (g_file_test (png, G_FILE_TEST_IS_REGULAR));
  g_assert_true (g_file_get_contents (csv, &text, NULL, NULL));
  g_assert_true (g_str_has_prefix (text, "curve,seed,level,target_sparsity,sparsity,test_accuracy"));

  /* the table as CSV holds the --json numbers of the same run, row by row */
  pl_test_run_cli (&j, cli_path, "reproduce", "han2015", "--quick", "--data", DATA, "--json",
                   "--table-csv", table, NULL);
  g_assert_cmpint (j.status, ==, 0);
  o = pl_test_parse_json (j.out);
  t = numbers_by_key (o);
  g_assert_true (g_file_get_contents (table, &table_text, NULL, NULL));
  lines = g_strsplit (table_text, "\n", -1);
  g_assert_cmpstr (lines[0], ==, "key,label,unit,paper,mean,min,max,seeds,source");
  g_assert_cmpuint (g_strv_length (lines), ==, g_hash_table_size (t) + 2);   /* + header, last "" */
  for (guint k = 1; lines[k][0] != '\0'; k++)
    {
      g_autoptr(GPtrArray) f = g_ptr_array_new_with_free_func (g_free);
      GString *cell = g_string_new (NULL);
      gboolean quoted = FALSE;
      JsonObject *n;

      /* RFC 4180 fields: a label may hold commas and quotes */
      for (const char *c = lines[k]; ; c++)
        {
          if (quoted && *c == '"' && c[1] == '"')
            g_string_append_c (cell, *c++);
          else if (*c == '"')
            quoted = !quoted;
          else if ((*c == ',' && !quoted) || *c == '\0')
            {
              g_ptr_array_add (f, g_string_free (cell, FALSE));
              cell = g_string_new (NULL);
              if (*c == '\0')
                break;
            }
          else
            g_string_append_c (cell, *c);
        }
      g_string_free (cell, TRUE);
      g_assert_cmpuint (f->len, ==, 9);
      n = number (t, f->pdata[0]);
      g_assert_cmpstr (f->pdata[1], ==, json_object_get_string_member (n, "label"));
      if (json_object_get_int_member (n, "n") > 0)
        {
          g_assert_cmpfloat_with_epsilon (g_ascii_strtod (f->pdata[4], NULL),
                                          json_object_get_double_member (n, "mean"),
                                          1e-9 * fabs (json_object_get_double_member (n, "mean")) + 1e-12);
          g_assert_cmpfloat_with_epsilon (g_ascii_strtod (f->pdata[6], NULL),
                                          json_object_get_double_member (n, "max"),
                                          1e-9 * fabs (json_object_get_double_member (n, "max")) + 1e-12);
        }
      g_assert_cmpint (atoi (f->pdata[7]), ==, json_object_get_int_member (n, "n"));
    }
  g_remove (table);
  g_remove (png);
  g_remove (csv);
  g_rmdir (dir);
}

static void
test_bad_input (void)
{
  {
    g_auto(PlTestRun) r = { 0 };

    pl_test_run_cli (&r, cli_path, "reproduce", "han2014", "--quick", NULL);
    g_assert_cmpint (r.status, ==, 2);
    g_assert_nonnull (strstr (r.err, "han2015, frankle2019, blalock2020, tanaka2020"));
  }
  {
    g_auto(PlTestRun) r = { 0 };

    pl_test_run_cli (&r, cli_path, "reproduce", "--quick", NULL);
    g_assert_cmpint (r.status, ==, 2);
    g_assert_nonnull (strstr (r.err, "reproduce --list"));
  }
  {
    g_auto(PlTestRun) r = { 0 };

    pl_test_run_cli (&r, cli_path, "reproduce", "han2015", "--quick", "--data", "moons:n=abc", NULL);
    g_assert_cmpint (r.status, ==, 2);
    g_assert_nonnull (strstr (r.err, "Invalid dataset spec “moons:n=abc”"));
    g_assert_cmpstr (r.out, ==, "");
  }
  {
    g_auto(PlTestRun) r = { 0 };

    pl_test_run_cli (&r, cli_path, "reproduce", "han2015", "--quick", "--data",
                     "mnist:/nonexistent/mnist", NULL);
    g_assert_cmpint (r.status, !=, 0);
    g_assert_nonnull (strstr (r.err, "/nonexistent/mnist"));
    g_assert_cmpstr (r.out, ==, "");
  }
  {
    g_auto(PlTestRun) r = { 0 };

    pl_test_run_cli (&r, cli_path, "reproduce", "blalock2020", "--quick", "--data", DATA,
                     "--score", "apoz", NULL);
    g_assert_cmpint (r.status, ==, 2);
    g_assert_nonnull (strstr (r.err, "apoz"));
  }
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_summary ("prunelab-cli reproduce: papers, quick runs, JSON shape, bad input");
  cli_path = g_getenv ("PRUNELAB_CLI");
  g_assert_nonnull (cli_path);

  g_test_add_func ("/cli/reproduce/list", test_list);
  g_test_add_func ("/cli/reproduce/han2015/quick-json", test_han2015);
  g_test_add_func ("/cli/reproduce/frankle2019/quick-json", test_frankle2019);
  g_test_add_func ("/cli/reproduce/blalock2020/quick-json", test_blalock2020);
  g_test_add_func ("/cli/reproduce/tanaka2020/quick-json", test_tanaka2020);
  g_test_add_func ("/cli/reproduce/plot-and-csv", test_plot_and_csv);
  g_test_add_func ("/cli/reproduce/rejects-bad-names-and-data", test_bad_input);

  return g_test_run ();
}
