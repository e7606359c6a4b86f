#define G_LOG_DOMAIN "fuzz-csv"

#include "config.h"

#include <math.h>
#include <string.h>

#include "pl-dataset.h"
#include "pl-error.h"
#include "pl-fuzz.h"

/* The CSV reader as a user reaches it: pl_data_load () with the spec
 * "csv:FILE[,OPTIONS][,test=FILE]", as prunelab-cli --data and the GUI pass it.
 *
 * Input: an optional first line "#OPTIONS" (ended by a newline or a NUL), appended to the spec
 * after a comma as the user types it: label=…, header=yes|no|detect, or anything else, which the
 * spec parser must refuse cleanly. Then the training file; a form feed ends it, and what
 * follows is a second file passed as test=. Options that give test= themselves are skipped: a
 * relative path would reach files outside the harness's folder.
 *
 * Checked: a rejection is a PL_FORMAT_ERROR or PL_SPEC_ERROR naming one of the files; a loaded
 * set has three splits with the same features and classes, finite features, labels below the
 * class count, one valid UTF-8 name per class and a training split that is not empty. */

static void
check_split (const PlDataset *d,
             const PlData    *data,
             const char      *which)
{
  PL_FUZZ_CHECK (d != NULL, "no %s split", which);
  PL_FUZZ_CHECK (d->n_features == data->n_features && d->n_classes == data->n_classes,
                 "%s split: %u features, %u classes; the set has %u, %u", which,
                 d->n_features, d->n_classes, data->n_features, data->n_classes);
  for (gsize i = 0; i < (gsize) d->n * d->n_features; i++)
    PL_FUZZ_CHECK (isfinite (d->x[i]), "%s split: feature %zu is %g", which, i, d->x[i]);
  for (guint i = 0; i < d->n; i++)
    PL_FUZZ_CHECK (d->y[i] < d->n_classes, "%s split: label %u of sample %u, %u classes",
                   which, d->y[i], i, d->n_classes);
}

static void
check_data (const PlData *data,
            gboolean      has_test_file)
{
  PL_FUZZ_CHECK (data->n_features >= 1, "no features");
  PL_FUZZ_CHECK (data->n_classes >= 1 && data->n_classes <= 1000, "%u classes",
                 data->n_classes);
  PL_FUZZ_CHECK (g_strcmp0 (data->name, "train.csv") == 0, "named “%s”", data->name);
  PL_FUZZ_CHECK (data->image_width == 0 && data->image_height == 0, "CSV rows as images");
  PL_FUZZ_CHECK (data->feature_mean == NULL && data->feature_std == NULL,
                 "standardised without being asked");
  PL_FUZZ_CHECK (data->class_names != NULL
                 && g_strv_length (data->class_names) == data->n_classes,
                 "%u class names for %u classes",
                 data->class_names != NULL ? g_strv_length (data->class_names) : 0,
                 data->n_classes);
  for (guint c = 0; c < data->n_classes; c++)
    PL_FUZZ_CHECK (g_utf8_validate (data->class_names[c], -1, NULL),
                   "class name %u is not valid UTF-8", c);

  check_split (data->train, data, "training");
  check_split (data->val, data, "validation");
  check_split (data->test, data, "test");
  PL_FUZZ_CHECK (data->train->n >= 1, "no training samples");
  PL_FUZZ_CHECK (has_test_file || data->test->n >= 1, "no test samples held out");
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autofree char *options = NULL;
  g_autofree char *train_path = NULL;
  g_autofree char *test_path = NULL;
  g_autoptr(GString) spec = g_string_new ("csv:");
  g_autoptr(GError) error = NULL;
  g_autoptr(PlData) loaded = NULL;
  const char *p = (const char *) data;
  const char *end = p + size;
  const char *form_feed;

  if (size > 0 && p[0] == '#')
    {
      const char *stop = p + 1;

      while (stop < end && *stop != '\n' && *stop != '\0')
        stop++;
      options = g_strndup (p + 1, stop - (p + 1));
      p = stop < end ? stop + 1 : end;
      if (strstr (options, "test=") != NULL)
        return 0;
    }

  form_feed = memchr (p, '\f', end - p);
  train_path = pl_fuzz_write ("train.csv", p, (form_feed != NULL ? form_feed : end) - p);
  if (form_feed != NULL)
    test_path = pl_fuzz_write ("test.csv", form_feed + 1, end - (form_feed + 1));

  g_string_append (spec, train_path);
  if (options != NULL && options[0] != '\0')
    g_string_append_printf (spec, ",%s", options);
  if (test_path != NULL)
    g_string_append_printf (spec, ",test=%s", test_path);

  loaded = pl_data_load (spec->str, NULL, &error);
  if (loaded == NULL)
    {
      pl_fuzz_check_error (error, train_path, test_path);
      PL_FUZZ_CHECK (error->domain == PL_FORMAT_ERROR || error->domain == PL_SPEC_ERROR,
                     "neither a format nor a spec error: %s", error->message);
      return 0;
    }

  PL_FUZZ_CHECK (error == NULL, "success with an error set");
  check_data (loaded, test_path != NULL);

  return 0;
}

/* ---- seeds ------------------------------------------------------------------------------- */

/* The engine writes no dataset CSV (it reads them), so the seeds are the engine's built-in sets
 * written in the layout the reader documents, in the variations users' files show. */
typedef struct {
  const char *set;           /* a pl_synthetic_names () entry */
  guint       n;
  guint       classes;       /* 0: the set's default */
  const char *options;       /* the "#…" line, or NULL */
  gboolean    header;
  gboolean    label_first;
  gboolean    text_labels;   /* class names instead of ids, some quoted */
  const char *eol;
  gboolean    test_file;     /* a second file after a form feed */
} CsvSeed;

static void
append_rows (GString         *csv,
             const CsvSeed   *s,
             const PlDataset *d)
{
  static const char * const names[] = { "setosa", "\"versi,color\"", "\"vir\"\"ginica\"",
                                        "x" };

  if (s->header)
    g_string_append_printf (csv, s->label_first ? "kind,\"x 0\",x1%s" : "x0, \"x 1\" ,kind%s",
                            s->eol);
  for (guint i = 0; i < d->n; i++)
    {
      char a[G_ASCII_DTOSTR_BUF_SIZE], b[G_ASCII_DTOSTR_BUF_SIZE];
      g_autofree char *label = s->text_labels ? g_strdup (names[d->y[i] % G_N_ELEMENTS (names)])
                                              : g_strdup_printf ("%u", d->y[i]);

      g_ascii_formatd (a, sizeof a, i % 3 == 0 ? "%.9g" : "%.3e", d->x[2 * i]);
      g_ascii_formatd (b, sizeof b, "%.6f", d->x[2 * i + 1]);
      if (s->label_first)
        g_string_append_printf (csv, "%s,%s,%s%s", label, a, b, s->eol);
      else
        g_string_append_printf (csv, "%s,\t%s ,%s%s", a, b, label, s->eol);
      if (i == 1)
        g_string_append (csv, s->eol);  /* a blank line */
    }
}

void
pl_fuzz_make_seeds (void)
{
  static const CsvSeed seeds[] = {
    { "spiral", 8, 3, NULL, TRUE, FALSE, FALSE, "\n", FALSE },
    { "moons", 6, 0, NULL, FALSE, FALSE, FALSE, "\n", FALSE },
    { "blobs", 9, 4, "label=kind", TRUE, FALSE, TRUE, "\n", FALSE },
    { "circles", 5, 0, "label=0,header=no", FALSE, TRUE, FALSE, "\r\n", FALSE },
    { "xor", 7, 0, "header=yes,label=0", TRUE, TRUE, TRUE, "\r\n", FALSE },
    { "spiral", 6, 2, "header=detect", TRUE, FALSE, FALSE, "\n", TRUE },
    { "blobs", 8, 3, "label=kind,header=yes", TRUE, TRUE, TRUE, "\n", TRUE },
    { "moons", 4, 0, "header=no", TRUE, FALSE, FALSE, "\n", FALSE },
  };
  g_auto(GStrv) bad = pl_fuzz_data_files ("bad", "csv-");

  for (guint k = 0; k < G_N_ELEMENTS (seeds); k++)
    {
      const CsvSeed *s = &seeds[k];
      g_autoptr(GString) csv = g_string_new (NULL);
      g_autoptr(GError) error = NULL;
      g_autoptr(PlDataset) d = pl_synthetic_make (s->set, s->n, -1, s->classes, k, &error);
      g_autofree char *name = g_strdup_printf ("%s-%u", s->set, k);

      g_assert_no_error (error);
      if (s->options != NULL)
        g_string_append_printf (csv, "#%s\n", s->options);
      append_rows (csv, s, d);
      if (s->test_file)
        {
          g_autoptr(PlDataset) t = pl_synthetic_make (s->set, 3, -1, s->classes, k + 100,
                                                      &error);

          g_assert_no_error (error);
          g_string_append_c (csv, '\f');
          append_rows (csv, s, t);
        }
      pl_fuzz_add_seed (name, csv->str, csv->len);
    }

  /* Numbers at the edges of what the reader takes, and integer labels with leading zeros. */
  {
    static const char edges[] = "1e-3,-2.5E+2,+0.5,007\n.5,5.,3.4028234e38,7\n"
                                "-0,1e-45,123456789,0\n0x10,1,2,7\n";

    pl_fuzz_add_seed ("numbers", edges, sizeof edges - 1);
  }

  /* The known bad files, as they are. */
  for (guint i = 0; bad[i] != NULL; i++)
    {
      g_autoptr(GBytes) bytes = pl_fuzz_read (bad[i]);
      g_autofree char *base = g_path_get_basename (bad[i]);
      gsize len;
      const void *text = g_bytes_get_data (bytes, &len);

      pl_fuzz_add_seed (base, text, len);
    }
}
