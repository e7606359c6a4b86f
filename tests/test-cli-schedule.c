/* prunelab-cli schedule and sensitivity as a user runs them: the JSON a chart reads, the help,
 * usage errors, and Ctrl-C keeping what finished. */
#include "config.h"

#include "pl-test-cli.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <signal.h>
#include <string.h>

static const char *cli_path;
static char *model_dir;
static char *model_path;

/* A small model on the built-in spiral, trained once for every test. */
static const char *
spiral_model (void)
{
  if (model_path == NULL)
    {
      g_auto(PlTestRun) r = { 0 };

      model_dir = g_dir_make_tmp ("pl-cli-schedule-XXXXXX", NULL);
      model_path = g_build_filename (model_dir, "spiral.safetensors", NULL);
      pl_test_run_cli (&r, cli_path, "train", "--data", "spiral:n=600,seed=2", "--arch", "2-32-32-3",
               "--optimizer", "adam", "--lr", "0.01", "--batch", "32", "--epochs", "30",
               "--out", model_path, NULL);
      g_assert_cmpint (r.status, ==, 0);
    }
  return model_path;
}

static void
test_schedule_json_has_curves (void)
{
  g_auto(PlTestRun) r = { 0 };
  g_autoptr(JsonObject) o = NULL;
  g_autofree char *csv_path = g_build_filename (g_get_tmp_dir (), "pl-schedule-test.csv", NULL);
  g_autofree char *csv = NULL;
  g_auto(GStrv) lines = NULL;
  JsonArray *points, *curves;
  guint with_seed_1 = 0;

  pl_test_run_cli (&r, cli_path, "schedule", "--model", spiral_model (), "--data", "spiral:n=600,seed=2",
           "--method", "oneshot,l1", "--sparsity", "0.5,0.8", "--seeds", "2", "--lr", "0.05",
           "--batch", "32", "--csv", csv_path, "--json", NULL);
  g_assert_cmpint (r.status, ==, 0);
  o = pl_test_parse_json (r.out);

  g_assert_cmpstr (json_object_get_string_member (o, "command"), ==, "schedule");
  g_assert_true (json_object_has_member (o, "dense_test_accuracy"));
  g_assert_false (json_object_get_boolean_member (o, "interrupted"));
  points = json_object_get_array_member (o, "points");
  /* 2 methods × 2 seeds × (dense start + 2 targets) */
  g_assert_cmpuint (json_array_get_length (points), ==, 12);
  for (guint k = 0; k < json_array_get_length (points); k++)
    {
      JsonObject *p = json_array_get_object_element (points, k);
      const char *method = json_object_get_string_member (p, "method");

      g_assert_true (g_strcmp0 (method, "oneshot") == 0 || g_strcmp0 (method, "l1") == 0);
      /* the curve's name where sweep's points have it, for the chart */
      g_assert_cmpstr (json_object_get_string_member (p, "score"), ==, method);
      g_assert_true (json_object_has_member (p, "sparsity"));
      g_assert_true (json_object_has_member (p, "test_accuracy"));
      g_assert_true (json_object_has_member (p, "test_loss"));
      g_assert_true (json_object_has_member (p, "val_accuracy"));
      with_seed_1 += json_object_get_int_member (p, "seed") == 1;
    }
  g_assert_cmpuint (with_seed_1, ==, 6);

  curves = json_object_get_array_member (o, "curves");
  g_assert_cmpuint (json_array_get_length (curves), ==, 6);
  for (guint k = 0; k < json_array_get_length (curves); k++)
    {
      JsonObject *c = json_array_get_object_element (curves, k);

      g_assert_cmpint (json_object_get_int_member (c, "seeds"), ==, 2);
      g_assert_cmpfloat (json_object_get_double_member (c, "test_accuracy_min"), <=,
                         json_object_get_double_member (c, "test_accuracy"));
      g_assert_cmpfloat (json_object_get_double_member (c, "test_accuracy_max"), >=,
                         json_object_get_double_member (c, "test_accuracy"));
      g_assert_true (json_object_has_member (c, "test_accuracy_sd"));
    }

  g_assert_true (g_file_get_contents (csv_path, &csv, NULL, NULL));
  g_assert_true (g_str_has_prefix (csv, "method,seed,level,param,sparsity"));
  lines = g_strsplit (csv, "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, 12 + 2);   /* header, 12 points, "" */
  g_remove (csv_path);
  /* progress goes to stderr */
  g_assert_nonnull (strstr (r.err, "sparsity  50.00%"));
}

static void
test_sensitivity_json_shape (void)
{
  g_auto(PlTestRun) r = { 0 };
  g_autoptr(JsonObject) o = NULL;
  JsonArray *layers;

  pl_test_run_cli (&r, cli_path, "sensitivity", "--model", spiral_model (), "--data", "spiral:n=600,seed=2",
           "--points", "5", "--json", NULL);
  g_assert_cmpint (r.status, ==, 0);
  o = pl_test_parse_json (r.out);
  g_assert_cmpstr (json_object_get_string_member (o, "command"), ==, "sensitivity");
  g_assert_true (json_object_has_member (o, "dense_test_accuracy"));
  layers = json_object_get_array_member (o, "layers");
  g_assert_cmpuint (json_array_get_length (layers), ==, 3);
  for (guint i = 0; i < 3; i++)
    {
      JsonObject *l = json_array_get_object_element (layers, i);
      g_autofree char *name = g_strdup_printf ("layers.%u", i);
      JsonArray *pts = json_object_get_array_member (l, "points");
      JsonObject *first;

      g_assert_cmpstr (json_object_get_string_member (l, "name"), ==, name);
      g_assert_cmpuint (json_array_get_length (pts), ==, 5);
      first = json_array_get_object_element (pts, 0);
      g_assert_cmpfloat (json_object_get_double_member (first, "sparsity"), ==, 0.0);
      g_assert_cmpfloat (json_object_get_double_member (first, "test_accuracy"), ==,
                         json_object_get_double_member (o, "dense_test_accuracy"));
      for (guint j = 0; j < 5; j++)
        {
          JsonObject *p = json_array_get_object_element (pts, j);

          g_assert_true (json_object_has_member (p, "sparsity"));
          g_assert_true (json_object_has_member (p, "test_accuracy"));
          g_assert_true (json_object_has_member (p, "test_loss"));
        }
    }
}

static void
test_help_explains_methods (void)
{
  g_auto(PlTestRun) r = { 0 };

  pl_test_run_cli (&r, cli_path, "schedule", "--help", NULL);
  g_assert_cmpint (r.status, ==, 0);
  for (const char *const *m = (const char *const[]) { "oneshot", "iterative", "gradual", "adaptive",
                                                      "l1", "l0", "distill", NULL }; *m; m++)
    {
      g_autofree char *entry = g_strdup_printf ("  %s — ", *m);

      g_assert_nonnull (strstr (r.out, entry));
    }
  g_assert_nonnull (strstr (r.out, "is not L0 regularisation"));
  g_assert_nonnull (strstr (r.out, "training stabiliser, not pruning"));
  g_assert_nonnull (strstr (r.out, "Frankle"));
}

static void
test_usage_errors (void)
{
  const char *bad[][6] = {
    { "--method", "lottery", NULL },
    { "--method", "oneshot", "--sparsity", "1.5", NULL },
    { "--method", "iterative", "--rewind", "soon", NULL },
    { "--method", "distill", "--fine-tune-epochs", "0", NULL },
    { "--sparsity", "0.5", NULL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_auto(PlTestRun) r = { 0 };

      pl_test_run_cli (&r, cli_path, "schedule", "--model", spiral_model (), "--data", "spiral:n=600,seed=2",
               bad[i][0], bad[i][1], bad[i][2], bad[i][3], bad[i][4], NULL);
      g_assert_cmpint (r.status, ==, 2);
      g_assert_nonnull (strstr (r.err, "prunelab-cli: "));
    }
}

static void
test_ctrl_c_keeps_finished_points (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) proc = NULL;
  g_autoptr(GDataInputStream) err = NULL;
  g_autoptr(JsonObject) o = NULL;
  g_autoptr(GBytes) out_bytes = NULL;
  g_autofree char *out = NULL;
  gsize len;
  guint finished = 0;

  /* many long targets: the run takes tens of seconds unless interrupted */
  proc = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE, &error,
                           cli_path, "schedule", "--model", spiral_model (),
                           "--data", "spiral:n=600,seed=2", "--method", "oneshot",
                           "--sparsity", "0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9",
                           "--fine-tune-epochs", "2000", "--json", NULL);
  g_assert_no_error (error);
  err = g_data_input_stream_new (g_subprocess_get_stderr_pipe (proc));

  /* wait for the dense point, then for fine-tuning to start, then press Ctrl-C */
  for (;;)
    {
      g_autofree char *line = g_data_input_stream_read_line_utf8 (err, &len, NULL, &error);

      g_assert_no_error (error);
      g_assert_nonnull (line);
      if (strstr (line, "sparsity   0.00%") != NULL)
        finished++;
      if (finished > 0 && strstr (line, "epoch 1/2000") != NULL)
        break;
    }
  g_subprocess_send_signal (proc, SIGINT);
  g_subprocess_communicate (proc, NULL, NULL, &out_bytes, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_exited (proc));
  g_assert_cmpint (g_subprocess_get_exit_status (proc), ==, 130);

  out = g_strndup (g_bytes_get_data (out_bytes, NULL), g_bytes_get_size (out_bytes));
  o = pl_test_parse_json (out);
  g_assert_true (json_object_get_boolean_member (o, "interrupted"));
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (o, "points")), >=, 1);
}

/* schedule --method at-init with SynFlow's rounds, and prune --nm with the row scope: the
 * JSON says what ran, and a 2:4 mask prunes at least half of each layer whose rows are long
 * enough (every layer of 2-32-32-3 but the first, whose rows hold 2 inputs). */
static void
test_at_init_and_nm (void)
{
  g_auto(PlTestRun) r = { 0 };
  g_auto(PlTestRun) p = { 0 };
  g_auto(PlTestRun) bad = { 0 };
  g_autoptr(JsonObject) o = NULL;
  g_autoptr(JsonObject) q = NULL;
  JsonObject *settings;
  JsonArray *points, *layers;

  pl_test_run_cli (&r, cli_path, "schedule", "--model", spiral_model (), "--data", "spiral:n=600,seed=2",
                   "--method", "at-init", "--score", "synflow", "--init-rounds", "7",
                   "--sparsity", "0.5,0.9", "--dense-epochs", "2", "--batch", "32", "--json", NULL);
  g_assert_cmpint (r.status, ==, 0);
  o = pl_test_parse_json (r.out);
  settings = json_object_get_object_member (o, "settings");
  g_assert_cmpstr (json_object_get_string_member (settings, "score"), ==, "synflow");
  g_assert_cmpint (json_object_get_int_member (settings, "init_rounds"), ==, 7);
  g_assert_cmpstr (json_object_get_string_member (settings, "init_weights"), ==, "seeded");
  points = json_object_get_array_member (o, "points");
  g_assert_cmpuint (json_array_get_length (points), ==, 3);
  g_assert_cmpfloat_with_epsilon (json_object_get_double_member (json_array_get_object_element (points, 2),
                                                                 "sparsity"), 0.9, 1e-3);

  pl_test_run_cli (&p, cli_path, "prune", "--model", spiral_model (), "--data", "spiral:n=600,seed=2",
                   "--score", "wanda", "--scope", "row", "--nm", "2:4", "--sparsity", "0", "--json", NULL);
  g_assert_cmpint (p.status, ==, 0);
  q = pl_test_parse_json (p.out);
  g_assert_cmpstr (json_object_get_string_member (q, "scope"), ==, "row");
  g_assert_cmpstr (json_object_get_string_member (q, "nm"), ==, "2:4");
  layers = json_object_get_array_member (q, "layers");
  for (guint i = 1; i < json_array_get_length (layers); i++)
    g_assert_cmpfloat (json_object_get_double_member (json_array_get_object_element (layers, i),
                                                      "parameter_sparsity"), >=, 0.5);

  pl_test_run_cli (&bad, cli_path, "prune", "--model", spiral_model (), "--data", "spiral:n=600,seed=2",
                   "--score", "magnitude", "--nm", "4:2", "--sparsity", "0.5", NULL);
  g_assert_cmpint (bad.status, !=, 0);
  g_assert_nonnull (strstr (bad.err, "N:M"));
}

int
main (int    argc,
      char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);
  g_test_summary ("prunelab-cli schedule and sensitivity end to end");

  cli_path = g_getenv ("PRUNELAB_CLI");
  if (cli_path == NULL)
    {
      g_printerr ("PRUNELAB_CLI is not set; run through meson test\n");
      return 77;
    }

  g_test_add_func ("/cli/schedule/json-has-points-and-curves", test_schedule_json_has_curves);
  g_test_add_func ("/cli/sensitivity/json-shape", test_sensitivity_json_shape);
  g_test_add_func ("/cli/schedule/help-explains-methods", test_help_explains_methods);
  g_test_add_func ("/cli/schedule/usage-errors-exit-2", test_usage_errors);
  g_test_add_func ("/cli/schedule/ctrl-c-keeps-finished-points", test_ctrl_c_keeps_finished_points);
  g_test_add_func ("/cli/schedule/at-init-and-prune-nm", test_at_init_and_nm);

  status = g_test_run ();

  if (model_path != NULL)
    {
      g_remove (model_path);
      g_rmdir (model_dir);
    }
  g_free (model_path);
  g_free (model_dir);

  return status;
}
