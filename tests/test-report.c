/* The PDF report: the pages a session calls for, each one rendered by poppler (pdftoppm) and
 * not blank, the captions and settings in its text (pdftotext); prunelab-cli report. */
#include "config.h"

#include <cairo.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "pl-dataset.h"
#include "pl-report.h"
#include "pl-reproduce-view.h"
#include "pl-safetensors.h"
#include "pl-session.h"
#include "pl-test-cli.h"
#include "pl-train.h"

static char *dir;

static gboolean
have_poppler (void)
{
  g_autofree char *info = g_find_program_in_path ("pdfinfo");
  g_autofree char *ppm = g_find_program_in_path ("pdftoppm");
  g_autofree char *txt = g_find_program_in_path ("pdftotext");

  if (info != NULL && ppm != NULL && txt != NULL)
    return TRUE;
  g_test_skip ("pdfinfo, pdftoppm or pdftotext (poppler-utils) is missing: the report "
               "cannot be checked");
  return FALSE;
}

static char *
run (const char * const *argv)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *err = NULL;
  char *out = NULL;
  int status;

  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
                               &out, &err, &status, &error));
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, &error))
    g_error ("%s: %s", argv[0], err);
  return out;
}

static guint
pdf_pages (const char *path)
{
  const char *argv[] = { "pdfinfo", path, NULL };
  g_autofree char *out = run (argv);
  const char *p = strstr (out, "Pages:");

  g_assert_nonnull (p);
  return (guint) g_ascii_strtoull (p + strlen ("Pages:") + strspn (p + 6, " "), NULL, 10);
}

/* Every page rendered by pdftoppm, each with some ink on it. */
static void
assert_pages_render (const char *pdf,
                     guint       n_pages)
{
  g_autofree char *prefix = g_build_filename (dir, "page", NULL);
  const char *argv[] = { "pdftoppm", "-r", "30", "-png", pdf, prefix, NULL };
  g_autofree char *out = run (argv);

  for (guint p = 1; p <= n_pages + 1; p++)
    {
      g_autofree char *png = NULL;
      cairo_surface_t *image;
      guint dark = 0;

      /* pdftoppm numbers with as many digits as the last page needs */
      png = g_strdup_printf ("%s-%u.png", prefix, p);
      if (!g_file_test (png, G_FILE_TEST_EXISTS))
        {
          g_free (png);
          png = g_strdup_printf ("%s-%02u.png", prefix, p);
        }
      if (p == n_pages + 1)
        {
          g_assert_false (g_file_test (png, G_FILE_TEST_EXISTS));
          break;
        }
      image = cairo_image_surface_create_from_png (png);
      g_assert_cmpint (cairo_surface_status (image), ==, CAIRO_STATUS_SUCCESS);
      cairo_surface_flush (image);
      for (int y = 0; y < cairo_image_surface_get_height (image); y++)
        {
          const guint32 *line = (const guint32 *) (cairo_image_surface_get_data (image)
                                                   + y * cairo_image_surface_get_stride (image));

          for (int x = 0; x < cairo_image_surface_get_width (image); x++)
            dark += (line[x] & 0xff) < 0x80;
        }
      g_test_message ("page %u: %u dark pixels", p, dark);
      g_assert_cmpuint (dark, >, 100);
      cairo_surface_destroy (image);
      g_unlink (png);
    }
}

static char *
pdf_text (const char *pdf)
{
  const char *argv[] = { "pdftotext", "-layout", pdf, "-", NULL };

  return run (argv);
}

/* A session as the app saves one after training, a sweep and a prune, on 2-D data. */
static PlSession *
make_session (PlData **data_out)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PlTrainer) trainer = NULL;
  PlDataOptions options = PL_DATA_OPTIONS_INIT;
  PlSession *s = pl_session_new ();
  PlData *data = pl_data_load ("moons:n=400", &options, &error);
  PlMlp *model = pl_mlp_new_from_arch ("2-16-16-2", PL_ACTIVATION_RELU, &error);
  PlMlp *initial;
  PlSweepPoint points[] = { { 0, 0, 0, 0.95, 0.2 }, { 0.5, 0.5, 0.1, 0.93, 0.3 },
                            { 0.9, 0.9, 0.4, 0.7, 0.8 } };

  g_assert_no_error (error);
  pl_mlp_init (model, 3);
  initial = pl_mlp_copy (model);
  s->train.epochs = 4;
  trainer = pl_trainer_new (model, &s->train);
  g_assert_true (pl_trainer_run (trainer, data->train, data->val, NULL, NULL, NULL, &error));
  g_array_append_vals (s->history, pl_trainer_get_history (trainer)->data,
                       pl_trainer_get_history (trainer)->len);
  g_array_append_vals (s->grad_norms, pl_trainer_get_grad_norms (trainer)->data,
                       pl_trainer_get_grad_norms (trainer)->len);
  for (gsize k = 0; k < model->n_params; k += 3)
    model->masks[k] = 0.0f;
  for (guint i = 0; i < model->n_layers; i++)
    for (guint o = 0; o < model->layers[i].n_out; o++)
      model->layers[i].w_mask[(gsize) model->layers[i].n_out * model->layers[i].n_in + o] = 1.0f;
  pl_mlp_apply_masks (model);
  pl_session_set_model (s, model, initial);
  pl_session_set_data (s, data, &options);
  pl_session_add_curve (s, PL_SCORE_MAGNITUDE, 0, points, G_N_ELEMENTS (points));
  pl_session_add_curve (s, PL_SCORE_RANDOM, 0, points, 2);
  s->slider = 0.4;
  s->created = g_strdup ("2026-12-02T12:00:00Z");
  *data_out = data;
  return s;
}

static void
test_pages_and_figures (void)
{
  g_autofree char *pdf = g_build_filename (dir, "report.pdf", NULL);
  g_autoptr(PlData) data = NULL;
  g_autoptr(PlSession) s = make_session (&data);
  g_autoptr(GError) error = NULL;
  g_autofree char *txt = NULL;
  g_auto(PlReportInfo) info = { 0 };
  /* training, gradient norm, curves, 3 layers of weights, histogram, sparsity per layer,
   * network, confusion matrix, decision boundary: two per page after the title and metrics */
  guint figures = 1 + 1 + 1 + 3 + 1 + 1 + 1 + 1 + 1;
  guint pages = 2 + (figures + 1) / 2;
  g_autofree char *hash_start = g_strndup (s->data_sha256, 32);   /* the rest may wrap */
  const char *expected_text[] = { "PruneLab report", "moons:n=400", hash_start, "2-16-16-2",
                                  "Training settings", "Training history", "Pruning strategy",
                                  "Magnitude |w|", "target sparsity 40.0 %", "Metrics per layer",
                                  "layers.2", "total", "Test accuracy" };

  if (!have_poppler ())
    return;
  g_assert_true (pl_report_save (s, data, NULL, "class.prunelab", pdf, &info, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (info.n_figures, ==, figures);
  g_assert_cmpuint (info.n_pages, ==, pages);
  g_assert_cmpuint (pdf_pages (pdf), ==, pages);
  assert_pages_render (pdf, pages);

  txt = pdf_text (pdf);
  for (guint i = 0; i < G_N_ELEMENTS (expected_text); i++)
    if (strstr (txt, expected_text[i]) == NULL)
      g_error ("“%s” is not in the report's text", expected_text[i]);
  for (guint f = 1; f <= figures; f++)
    {
      g_autofree char *label = g_strdup_printf ("Figure %u.", f);

      g_assert_nonnull (strstr (txt, label));
    }
  g_unlink (pdf);
}

/* Without data the report leaves out what needs them and says nothing false. */
static void
test_without_data (void)
{
  g_autofree char *pdf = g_build_filename (dir, "nodata.pdf", NULL);
  g_autoptr(PlData) data = NULL;
  g_autoptr(PlSession) s = make_session (&data);
  g_autoptr(GError) error = NULL;
  g_autofree char *txt = NULL;
  g_auto(PlReportInfo) info = { 0 };
  guint figures = 1 + 1 + 1 + 3 + 1 + 1 + 1;   /* no confusion matrix, no boundary */

  if (!have_poppler ())
    return;
  g_assert_true (pl_report_save (s, NULL, NULL, "class.prunelab", pdf, &info, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (info.n_figures, ==, figures);
  g_assert_cmpuint (pdf_pages (pdf), ==, 2 + (figures + 1) / 2);
  txt = pdf_text (pdf);
  g_assert_null (strstr (txt, "Test accuracy"));
  g_assert_null (strstr (txt, "Confusion"));
  g_unlink (pdf);
}

/* A number as the table prints it, written out here: 4 significant digits, whole numbers from
 * 1000 on, the unit after it, "—" when the paper gives none. */
static char *
expected_cell (double      v,
               const char *unit)
{
  if (isnan (v))
    return g_strdup ("—");
  return fabs (v) >= 1000 ? g_strdup_printf ("%.0f%s", v, unit) : g_strdup_printf ("%.4g%s", v, unit);
}

/* Each row of @r is a line of @txt (pdftotext -layout) with its label, the paper's value and
 * the measured mean, in that order. */
static void
assert_rows_in_text (const char              *txt,
                     const PlReproduceResult *r)
{
  g_auto(GStrv) lines = g_strsplit (txt, "\n", -1);

  g_assert_cmpuint (r->rows->len, >, 0);
  for (guint k = 0; k < r->rows->len; k++)
    {
      const PlReproduceRow *row = &g_array_index (r->rows, PlReproduceRow, k);
      g_autofree char *paper = expected_cell (row->paper, row->unit);
      g_autofree char *mean = expected_cell (row->mean, row->unit);
      gboolean found = FALSE;

      for (guint i = 0; lines[i] != NULL && !found; i++)
        {
          const char *at = strstr (lines[i], row->label);
          const char *p = at != NULL ? strstr (at + strlen (row->label), paper) : NULL;

          found = p != NULL && strstr (p + strlen (paper), mean) != NULL;
        }
      if (!found)
        g_error ("no line “%s … %s … %s” in the report", row->label, paper, mean);
    }
}

/* A reproduction (han2015 --quick on tiny data) adds its table after the metrics, a page of
 * its own, and its chart as the last figure. */
static void
test_reproduction (void)
{
  g_autofree char *pdf = g_build_filename (dir, "reproduce.pdf", NULL);
  g_autoptr(PlData) data = NULL;
  g_autoptr(PlSession) s = make_session (&data);
  g_autoptr(GError) error = NULL;
  g_autoptr(PlReproduceResult) r = NULL;
  g_autofree char *txt = NULL;
  g_autofree char *last = NULL;
  g_auto(PlReportInfo) info = { 0 };
  guint figures = 1 + 1 + 1 + 3 + 1 + 1 + 1 + 1 + 1 + 1;
  PlReproduceOptions o;

  if (!have_poppler ())
    return;
  pl_reproduce_options_init (&o);
  o.quick = TRUE;
  o.seeds = 1;
  r = pl_reproduce_run (PL_PAPER_HAN2015, data, &o, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (pl_report_save (s, data, r, "class.prunelab", pdf, &info, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (info.n_figures, ==, figures);
  g_assert_cmpuint (info.n_pages, ==, 3 + (figures + 1) / 2);
  g_assert_cmpuint (pdf_pages (pdf), ==, info.n_pages);
  assert_pages_render (pdf, info.n_pages);
  last = g_strdup_printf ("Figure %u. Paper reproduction (han2015)", figures);
  g_assert_nonnull (strstr (info.captions[figures - 1], "Paper reproduction (han2015)"));
  txt = pdf_text (pdf);
  g_assert_nonnull (strstr (txt, "Paper reproduction: han2015"));
  g_assert_nonnull (strstr (txt, "Min … max over seeds"));
  g_assert_nonnull (strstr (txt, last));
  assert_rows_in_text (txt, r);
  g_unlink (pdf);
}

/* prunelab-cli report from a session and from a model with data. */
static void
test_cli (void)
{
  const char *cli = g_getenv ("PRUNELAB_CLI");
  g_autofree char *session_path = g_build_filename (dir, "cli.prunelab", NULL);
  g_autofree char *model_path = g_build_filename (dir, "cli.safetensors", NULL);
  g_autofree char *a = g_build_filename (dir, "a.pdf", NULL);
  g_autofree char *b = g_build_filename (dir, "b.pdf", NULL);
  g_autoptr(PlData) data = NULL;
  g_autoptr(PlSession) s = make_session (&data);
  g_autoptr(GError) error = NULL;
  g_auto(PlTestRun) by_session = { 0 };
  g_auto(PlTestRun) by_model = { 0 };
  g_auto(PlTestRun) bad = { 0 };
  g_autoptr(JsonObject) o = NULL;

  if (cli == NULL)
    {
      g_test_skip ("PRUNELAB_CLI is not set (meson test sets it)");
      return;
    }
  if (!have_poppler ())
    return;
  g_assert_true (pl_session_save (s, session_path, &error));
  g_assert_true (pl_safetensors_save (s->model, model_path, &error));

  pl_test_run_cli (&by_session, cli, "report", "--session", session_path, "--out", a, "--json", NULL);
  g_assert_cmpint (by_session.status, ==, 0);
  o = pl_test_parse_json (by_session.out);
  g_assert_cmpint (json_object_get_int_member (o, "pages"), ==, pdf_pages (a));
  g_assert_cmpint (pdf_pages (a), ==, 2 + 6);
  assert_pages_render (a, pdf_pages (a));

  /* a model alone has no history or curves: title, metrics, 3 weights, histogram, sparsity,
   * network, confusion, boundary */
  pl_test_run_cli (&by_model, cli, "report", "--model", model_path, "--data", "moons:n=400",
                   "--sparsity", "0.5", "--out", b, NULL);
  g_assert_cmpint (by_model.status, ==, 0);
  g_assert_cmpint (pdf_pages (b), ==, 2 + 4);

  pl_test_run_cli (&bad, cli, "report", "--model", model_path, "--out", b, NULL);
  g_assert_cmpint (bad.status, ==, 2);
  g_assert_nonnull (strstr (bad.err, "--model needs --data"));

  /* --reproduce: a reproduce --json file read back, its rows in the PDF as it printed them */
  {
    g_autofree char *json_path = g_build_filename (dir, "han.json", NULL);
    g_autofree char *bad_path = g_build_filename (dir, "bad.json", NULL);
    g_autofree char *txt = NULL;
    g_auto(PlTestRun) rep = { 0 };
    g_auto(PlTestRun) with = { 0 };
    g_auto(PlTestRun) wrong = { 0 };
    g_autoptr(PlReproduceResult) r = NULL;

    pl_test_run_cli (&rep, cli, "reproduce", "han2015", "--quick", "--data", "moons:n=300,seed=2",
                     "--json", NULL);
    g_assert_cmpint (rep.status, ==, 0);
    g_assert_true (g_file_set_contents (json_path, rep.out, -1, &error));
    r = pl_reproduce_result_load_json (json_path, &error);
    g_assert_no_error (error);
    g_assert_cmpint (r->paper, ==, PL_PAPER_HAN2015);
    g_assert_true (r->quick);
    pl_test_run_cli (&with, cli, "report", "--model", model_path, "--data", "moons:n=400",
                     "--reproduce", json_path, "--out", b, NULL);
    g_assert_cmpint (with.status, ==, 0);
    txt = pdf_text (b);
    g_assert_nonnull (strstr (txt, "Paper reproduction: han2015"));
    assert_rows_in_text (txt, r);

    /* a sweep's result is not a reproduction: the message names the file */
    g_assert_true (g_file_set_contents (bad_path, "{\"command\": \"sweep\", \"points\": []}", -1, &error));
    pl_test_run_cli (&wrong, cli, "report", "--model", model_path, "--data", "moons:n=400",
                     "--reproduce", bad_path, "--out", b, NULL);
    g_assert_cmpint (wrong.status, ==, 1);
    g_assert_nonnull (strstr (wrong.err, "bad.json"));
    g_assert_nonnull (strstr (wrong.err, "not of reproduce"));
    g_unlink (json_path);
    g_unlink (bad_path);
  }

  g_unlink (a);
  g_unlink (b);
  g_unlink (session_path);
  g_unlink (model_path);
}

int
main (int    argc,
      char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);
  dir = g_dir_make_tmp ("test-report-XXXXXX", NULL);
  g_test_add_func ("/report/pdf/expected-pages-each-renders", test_pages_and_figures);
  g_test_add_func ("/report/pdf/without-data-leaves-out-evaluation", test_without_data);
  g_test_add_func ("/report/pdf/reproduction-table-and-chart", test_reproduction);
  g_test_add_func ("/report/cli/session-and-model", test_cli);
  status = g_test_run ();
  g_rmdir (dir);
  g_free (dir);
  return status;
}
