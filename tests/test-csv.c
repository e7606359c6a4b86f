/* test-csv.c — the CSV reader: headers, label columns, quoting, exact numbers, held-out test
 * rows, and what it rejects */
#define G_LOG_DOMAIN "test-csv"

#include "config.h"

#include <math.h>
#include <string.h>
#include <unistd.h>

#include <fcntl.h>

#include <gio/gio.h>
#include <glib/gstdio.h>

#include "pl-dataset.h"
#include "pl-error.h"
#include "pl-rng.h"
#include "pl-test-util.h"

static void
test_spec_missing_csv (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PlData) d = pl_data_load ("csv:/nonexistent/data.csv", NULL, &error);

  g_assert_null (d);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  pl_test_assert_message_names (error, "data.csv");
}

/* ---- CSV ---------------------------------------------------------------------------- */

static PlDataset *
read_csv_text (const char   *text,
               const char   *label,
               int           header,
               char       ***names,
               GError      **error)
{
  g_autofree char *path = pl_test_write_text ("table.csv", text);

  return pl_csv_read (path, label, header, names, error);
}

static void
assert_csv_error (const char *text,
                  const char *label,
                  int         header,
                  int         code,
                  const char *needle)
{
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) names = NULL;
  g_autoptr(PlDataset) d = read_csv_text (text, label, header, &names, &error);

  g_assert_null (d);
  g_assert_null (names);
  g_assert_error (error, PL_FORMAT_ERROR, code);
  pl_test_assert_message_names (error, "table.csv");
  if (needle != NULL && strstr (error->message, needle) == NULL)
    g_error ("message “%s” lacks “%s”", error->message, needle);
}

static void
test_csv_header_and_label_name (void)
{
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) names = NULL;
  g_autoptr(PlDataset) d = read_csv_text ("a,class,b\n1,0,2\n3,2,4.5\n-1e3,1,0\n", "class",
                                          -1, &names, &error);
  const float x[] = { 1, 2, 3, 4.5f, -1000, 0 };
  const guint32 y[] = { 0, 2, 1 };

  g_assert_no_error (error);
  g_assert_null (names);
  g_assert_cmpuint (d->n, ==, 3);
  g_assert_cmpuint (d->n_features, ==, 2);
  g_assert_cmpuint (d->n_classes, ==, 3);
  g_assert_cmpmem (d->x, sizeof x, x, sizeof x);
  g_assert_cmpmem (d->y, sizeof y, y, sizeof y);
}

static void
test_csv_label_index (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PlDataset) d = read_csv_text ("4,0.5,0.25\n7,1.5,2.25\n", "0", 0, NULL, &error);
  const float x[] = { 0.5f, 0.25f, 1.5f, 2.25f };
  const guint32 y[] = { 4, 7 };

  g_assert_no_error (error);
  g_assert_cmpuint (d->n_classes, ==, 8);  /* integer labels are ids: max + 1 */
  g_assert_cmpmem (d->x, sizeof x, x, sizeof x);
  g_assert_cmpmem (d->y, sizeof y, y, sizeof y);
}

static void
test_csv_default_last_column (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PlDataset) d = read_csv_text ("1,2,007\n\n3,4,0\r\n  \n5,6,7", NULL, -1, NULL,
                                          &error);
  const guint32 y[] = { 7, 0, 7 };

  g_assert_no_error (error);
  g_assert_cmpuint (d->n, ==, 3);
  g_assert_cmpuint (d->n_classes, ==, 8);
  g_assert_cmpmem (d->y, sizeof y, y, sizeof y);
}

static void
test_csv_string_labels (void)
{
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) names = NULL;
  g_autoptr(PlDataset) d = read_csv_text ("5.1,3.5,setosa\n7.0,3.2,versicolor\n"
                                          "4.9,3.0,setosa\n6.3,3.3,\"virginica\"\n"
                                          "1,2,3\n",
                                          NULL, -1, &names, &error);
  const guint32 y[] = { 0, 1, 0, 2, 3 };

  g_assert_no_error (error);
  g_assert_cmpuint (d->n, ==, 5);  /* no header detected: the label column is text throughout */
  g_assert_cmpuint (d->n_classes, ==, 4);
  g_assert_cmpmem (d->y, sizeof y, y, sizeof y);
  g_assert_cmpuint (g_strv_length (names), ==, 4);
  g_assert_cmpstr (names[0], ==, "setosa");
  g_assert_cmpstr (names[2], ==, "virginica");
  g_assert_cmpstr (names[3], ==, "3");
}

static void
test_csv_header_modes (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PlDataset) yes = read_csv_text ("1,2\n3,4\n", NULL, 1, NULL, &error);
  g_autoptr(PlDataset) no = read_csv_text ("1,2\n3,4\n", NULL, 0, NULL, &error);
  g_autoptr(PlDataset) detect = read_csv_text ("x,y\n3,4\n", NULL, -1, NULL, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (yes->n, ==, 1);
  g_assert_cmpuint (no->n, ==, 2);
  g_assert_cmpuint (detect->n, ==, 1);
  g_assert_cmpfloat (detect->x[0], ==, 3);
}

static void
test_csv_quotes_and_spaces (void)
{
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) names = NULL;
  g_autoptr(PlDataset) d = read_csv_text ("\"x 1\", \"y\"\"\" ,label\r\n"
                                          " 1 ,\t\"2\" , \"a, b\"\r\n"
                                          "3,4,\"say \"\"hi\"\"\"\r\n",
                                          "label", -1, &names, &error);
  const float x[] = { 1, 2, 3, 4 };

  g_assert_no_error (error);
  g_assert_cmpmem (d->x, sizeof x, x, sizeof x);
  g_assert_cmpstr (names[0], ==, "a, b");
  g_assert_cmpstr (names[1], ==, "say \"hi\"");
}

/* Every number reads as strtod would read it, rounded to float (integers take a fast path). */
static void
test_csv_numbers_exact (void)
{
  static const char * const texts[] = {
    "0", "-0", "7", "-7", "123456789", "-123456789", "16777217", "-16777219", "999999999",
    "1234567890", "+5", "0.1", "-2.5e-3", "1e-50", "3.4028234e38", "0x10", "00012",
  };
  GString *text = g_string_new (NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(PlDataset) d = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (texts); i++)
    g_string_append_printf (text, "%s,0\n", texts[i]);
  d = read_csv_text (text->str, NULL, 0, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (d->n, ==, G_N_ELEMENTS (texts));
  for (guint i = 0; i < G_N_ELEMENTS (texts); i++)
    {
      float expected = (float) g_ascii_strtod (texts[i], NULL);

      g_assert_cmpmem (&d->x[i], sizeof (float), &expected, sizeof (float));
    }
  g_string_free (text, TRUE);
}

static void
test_csv_rejects_ragged (void)
{
  assert_csv_error ("1,2,0\n3,4\n", NULL, -1, PL_FORMAT_ERROR_BAD_SHAPE, "line 2");
  assert_csv_error ("a,b,c\n1,2,0\n3,4,5,6\n", NULL, -1, PL_FORMAT_ERROR_BAD_SHAPE, "line 3");
}

static void
test_csv_rejects_bad_values (void)
{
  assert_csv_error ("x,y,l\n1,2,0\n3,nan,1\n", NULL, -1, PL_FORMAT_ERROR_BAD_VALUE,
                    "line 3, column 2 (“y”)");
  assert_csv_error ("1,2,0\n3,NaN,1\n", NULL, 0, PL_FORMAT_ERROR_BAD_VALUE, "line 2, column 2");
  assert_csv_error ("1,inf,0\n", NULL, 0, PL_FORMAT_ERROR_BAD_VALUE, "inf");
  assert_csv_error ("1,-Infinity,0\n", NULL, 0, PL_FORMAT_ERROR_BAD_VALUE, NULL);
  assert_csv_error ("1,1e999,0\n", NULL, 0, PL_FORMAT_ERROR_BAD_VALUE, "1e999");
  assert_csv_error ("1,1e39,0\n", NULL, 0, PL_FORMAT_ERROR_BAD_VALUE, NULL);  /* > FLT_MAX */
  assert_csv_error ("1,abc,0\n", NULL, 0, PL_FORMAT_ERROR_BAD_VALUE, "abc");
  assert_csv_error ("1,2x,0\n", NULL, 0, PL_FORMAT_ERROR_BAD_VALUE, NULL);
  assert_csv_error ("1,,0\n", NULL, 0, PL_FORMAT_ERROR_BAD_VALUE, NULL);
  assert_csv_error ("1,\"2,0\n", NULL, 0, PL_FORMAT_ERROR_BAD_VALUE, "quote");
  assert_csv_error ("1,\"2\"x,0\n", NULL, 0, PL_FORMAT_ERROR_BAD_VALUE, "quote");
  assert_csv_error ("1,2,\n", NULL, 0, PL_FORMAT_ERROR_BAD_LABEL, "empty");

  /* a NUL byte inside a number */
  {
    static const char nul[] = "1,2\0003,0\n";
    g_autofree char *path = pl_test_write_file ("nul.csv", nul, sizeof nul - 1);
    g_autoptr(GError) error = NULL;
    g_autoptr(PlDataset) d = pl_csv_read (path, NULL, 0, NULL, &error);

    g_assert_null (d);
    g_assert_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_BAD_VALUE);
    g_assert_true (g_utf8_validate (error->message, -1, NULL));
  }
}

static void
test_csv_rejects_label_column (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PlDataset) d = NULL;

  assert_csv_error ("a,b\n1,2\n", "c", -1, PL_FORMAT_ERROR_BAD_HEADER, "“c”");
  assert_csv_error ("1,2\n3,4\n", "2", 0, PL_FORMAT_ERROR_BAD_SHAPE, NULL);
  assert_csv_error ("1,2\n3,4\n", "99999999999", 0, PL_FORMAT_ERROR_BAD_SHAPE, NULL);

  d = read_csv_text ("1,2\n", "name", 0, NULL, &error);
  g_assert_null (d);
  g_assert_error (error, PL_SPEC_ERROR, PL_SPEC_ERROR_INVALID);
}

static void
test_csv_rejects_empty (void)
{
  assert_csv_error ("", NULL, -1, PL_FORMAT_ERROR_BAD_SHAPE, "empty");
  assert_csv_error ("\n\r\n  \n", NULL, -1, PL_FORMAT_ERROR_BAD_SHAPE, "empty");
  assert_csv_error ("a,b\n", NULL, -1, PL_FORMAT_ERROR_BAD_SHAPE, "no data");
  assert_csv_error ("a,b\n", NULL, 1, PL_FORMAT_ERROR_BAD_SHAPE, "no data");
  assert_csv_error ("1\n2\n", NULL, -1, PL_FORMAT_ERROR_BAD_SHAPE, "column");
}

static void
test_csv_rejects_too_many_classes (void)
{
  GString *text = g_string_new (NULL);

  assert_csv_error ("1,2,1000\n", NULL, -1, PL_FORMAT_ERROR_BAD_LABEL, "1000");
  assert_csv_error ("1,2,99999999999999999999999\n", NULL, -1, PL_FORMAT_ERROR_BAD_LABEL, NULL);
  for (guint i = 0; i < 1001; i++)
    g_string_append_printf (text, "%u,c%u\n", i, i);
  assert_csv_error (text->str, NULL, -1, PL_FORMAT_ERROR_BAD_LABEL, "line 1001");
  g_string_free (text, TRUE);
}

static void
test_csv_long_lines (void)
{
  g_autoptr(GError) error = NULL;
  GString *wide = g_string_new (NULL);
  GString *junk = g_string_new ("1,");
  g_autoptr(PlDataset) d = NULL;

  for (guint r = 0; r < 3; r++)
    {
      for (guint c = 0; c < 5000; c++)
        g_string_append_printf (wide, "%u.5,", c);
      g_string_append_printf (wide, "%u\n", r);
    }
  d = read_csv_text (wide->str, NULL, -1, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (d->n_features, ==, 5000);
  g_assert_cmpfloat (d->x[2 * 5000 + 4999], ==, 4999.5f);

  /* a 2 MB field: rejected, and the message shows only its start */
  for (guint i = 0; i < 200000; i++)
    g_string_append (junk, "0123456789");
  g_string_append (junk, "x,0\n");
  {
    g_autoptr(GError) e = NULL;
    g_autoptr(PlDataset) bad = read_csv_text (junk->str, NULL, 0, NULL, &e);

    g_assert_null (bad);
    g_assert_error (e, PL_FORMAT_ERROR, PL_FORMAT_ERROR_BAD_VALUE);
    g_assert_cmpuint (strlen (e->message), <, 300);
  }
  g_string_free (wide, TRUE);
  g_string_free (junk, TRUE);
}

/* A file past the limit is refused from its size, before anything is read. */
static void
test_csv_rejects_huge_file (void)
{
  g_autofree char *path = g_build_filename (pl_test_tmp_dir (), "huge.csv", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(PlDataset) d = NULL;
  int fd = g_open (path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (ftruncate (fd, ((goffset) 1 << 30) + 1), ==, 0);  /* sparse */
  g_close (fd, NULL);

  d = pl_csv_read (path, NULL, -1, NULL, &error);
  g_assert_null (d);
  g_assert_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_TOO_LARGE);
  pl_test_assert_message_names (error, path);
  g_unlink (path);
}

static void
test_csv_pair_shares_labels (void)
{
  g_autofree char *train_path = pl_test_write_text ("pair-train.csv", "x,y\n1,cat\n2,dog\n3,cat\n");
  g_autofree char *test_path = pl_test_write_text ("pair-test.csv", "x,y\n4,bird\n5,dog\n6,cat\n");
  g_autofree char *bad_path = pl_test_write_text ("pair-bad.csv", "x,z,y\n4,1,dog\n");
  g_autoptr(GError) error = NULL;
  g_autoptr(PlDataset) train = NULL;
  g_autoptr(PlDataset) test = NULL;
  g_auto(GStrv) names = NULL;
  const guint32 y_train[] = { 0, 1, 0 };
  const guint32 y_test[] = { 2, 1, 0 };
  g_autofree char *spec = g_strdup_printf ("csv:%s,label=y,header=yes,test=%s",
                                           train_path, test_path);
  g_autofree char *bad_spec = g_strdup_printf ("csv:%s,test=%s", train_path, bad_path);
  g_autoptr(PlData) d = NULL;
  g_autoptr(PlData) bad = NULL;

  g_assert_true (pl_csv_read_pair (train_path, test_path, NULL, -1, &train, &test, &names,
                                   &error));
  g_assert_no_error (error);
  g_assert_cmpmem (train->y, sizeof y_train, y_train, sizeof y_train);
  g_assert_cmpmem (test->y, sizeof y_test, y_test, sizeof y_test);
  g_assert_cmpuint (train->n_classes, ==, 3);
  g_assert_cmpuint (test->n_classes, ==, 3);
  g_assert_cmpstr (names[2], ==, "bird");

  d = pl_test_load (spec, NULL);
  g_assert_cmpstr (d->name, ==, "pair-train.csv");
  g_assert_cmpuint (d->test->n, ==, 3);
  g_assert_cmpuint (d->train->n + d->val->n, ==, 3);
  g_assert_cmpstr (d->class_names[1], ==, "dog");

  bad = pl_data_load (bad_spec, NULL, &error);
  g_assert_null (bad);
  g_assert_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_MISMATCH);
}

static void
test_csv_holds_out_test (void)
{
  GString *text = g_string_new ("f1,f2,label\n");
  g_autofree char *path = NULL;
  g_autofree char *spec = NULL;
  g_autoptr(PlData) d = NULL;
  g_autoptr(PlData) again = NULL;
  PlDataOptions options = PL_DATA_OPTIONS_INIT;

  for (guint i = 0; i < 103; i++)
    g_string_append_printf (text, "%u,%u,%u\n", i, 2 * i, i % 3);
  path = pl_test_write_text ("hold-out.csv", text->str);
  spec = g_strdup_printf ("csv:%s", path);
  options.split_seed = 5;
  d = pl_test_load (spec, &options);
  again = pl_test_load (spec, &options);

  g_assert_cmpuint (d->test->n, ==, 21);   /* round (103 / 5) */
  g_assert_cmpuint (d->val->n, ==, 16);    /* round (82 / 5) */
  g_assert_cmpuint (d->train->n, ==, 66);
  g_assert_cmpmem (d->test->x, 21 * 2 * sizeof (float), again->test->x, 21 * 2 * sizeof (float));
  g_assert_cmpuint (g_strv_length (d->class_names), ==, 3);
  g_assert_cmpstr (d->class_names[2], ==, "2");

  /* every row lands in exactly one split: feature 1 is the row number */
  {
    g_autofree guint8 *seen = g_new0 (guint8, 103);
    PlDataset *splits[3] = { d->train, d->val, d->test };

    for (guint s = 0; s < 3; s++)
      for (guint i = 0; i < splits[s]->n; i++)
        seen[(guint) splits[s]->x[2 * i]]++;
    for (guint i = 0; i < 103; i++)
      g_assert_cmpuint (seen[i], ==, 1);
  }
  g_string_free (text, TRUE);
}

/* ---- robustness --------------------------------------------------------------------- */

static void
test_fuzz_csv (void)
{
  static const char csv[] = "sepal,petal,\"kind\"\n5.1,1.4,setosa\n7.0,4.7,versicolor\n"
                            "6.3,6.0,virginica\n4.9,1.4,setosa\n-1e-3,+2.5,versicolor\n";
  g_autoptr(GBytes) text = g_bytes_new_static (csv, sizeof csv - 1);
  guint n_ok = 0, n_error = 0;
  PlRng rng;

  pl_rng_init (&rng, 77);
  for (guint iter = 0; iter < 3000; iter++)
    {
      g_autoptr(GBytes) m = pl_test_mutate (text, &rng);
      g_autoptr(GError) error = NULL;
      g_auto(GStrv) names = NULL;
      g_autoptr(PlDataset) d = NULL;
      const char *labels[] = { NULL, "kind", "0", "7" };
      int header = (int) pl_rng_below (&rng, 3) - 1;
      gsize len;
      const char *data = g_bytes_get_data (m, &len);
      g_autofree char *path = pl_test_write_file ("fuzz.csv", data, len);

      d = pl_csv_read (path, labels[iter % 4], header, &names, &error);
      if (d != NULL)
        {
          g_assert_no_error (error);
          pl_test_assert_dataset_valid (d);
          if (names != NULL)
            g_assert_cmpuint (g_strv_length (names), ==, d->n_classes);
          n_ok++;
        }
      else
        {
          g_assert_nonnull (error);
          g_assert_null (names);
          g_assert_true (g_utf8_validate (error->message, -1, NULL));
          n_error++;
        }
    }
  g_test_message ("CSV mutations: %u read, %u rejected", n_ok, n_error);
  g_assert_cmpuint (n_error, >, 0);
  g_assert_cmpuint (n_ok, >, 0);
}


/* tests/data/bad/csv-WHAT--CODE.csv: CODE names the expected PL_FORMAT_ERROR code. */
static gboolean
read_csv_file (const char  *path,
               GError     **error)
{
  g_autoptr(PlDataset) d = pl_csv_read (path, NULL, -1, NULL, error);

  return d != NULL;
}

int
main (int   argc,
      char *argv[])
{
  static const char * const suffixes[] = { ".csv", NULL };

  g_test_init (&argc, &argv, NULL);
  g_test_summary ("The CSV reader: headers, labels, quoting, numbers, and every way a file is bad");

  g_test_add_func ("/data/spec/missing-csv-is-named", test_spec_missing_csv);
  g_test_add_func ("/data/csv/reads-header-and-label-by-name", test_csv_header_and_label_name);
  g_test_add_func ("/data/csv/reads-label-by-index", test_csv_label_index);
  g_test_add_func ("/data/csv/defaults-to-last-column", test_csv_default_last_column);
  g_test_add_func ("/data/csv/maps-string-labels", test_csv_string_labels);
  g_test_add_func ("/data/csv/honours-header-modes", test_csv_header_modes);
  g_test_add_func ("/data/csv/reads-quotes-and-spaces", test_csv_quotes_and_spaces);
  g_test_add_func ("/data/csv/reads-long-lines", test_csv_long_lines);
  g_test_add_func ("/data/csv/parses-numbers-exactly", test_csv_numbers_exact);
  g_test_add_func ("/data/csv/test-file-shares-labels", test_csv_pair_shares_labels);
  g_test_add_func ("/data/csv/holds-out-test-set", test_csv_holds_out_test);
  g_test_add_func ("/data/csv/rejects-ragged-rows", test_csv_rejects_ragged);
  g_test_add_func ("/data/csv/rejects-bad-values", test_csv_rejects_bad_values);
  g_test_add_func ("/data/csv/rejects-bad-label-column", test_csv_rejects_label_column);
  g_test_add_func ("/data/csv/rejects-empty", test_csv_rejects_empty);
  g_test_add_func ("/data/csv/rejects-too-many-classes", test_csv_rejects_too_many_classes);
  g_test_add_func ("/data/csv/rejects-huge-file", test_csv_rejects_huge_file);
  g_test_add_func ("/data/fuzz/csv-survives-mutations", test_fuzz_csv);
  pl_test_add_bad_file_tests ("csv-", suffixes, "/data/csv/bad/", read_csv_file);

  return pl_test_run ();
}
