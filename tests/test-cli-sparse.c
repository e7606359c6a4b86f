/* prunelab-cli bench sparse, prune --compact and prune --csr as a user runs them: the JSON contract, the
 * figures' formulas, the sweep's points and its chart. Times are read, never judged. */
#include "config.h"

#include "pl-test-cli.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

static const char *cli_path;

static JsonObject *
element (JsonArray *a,
         guint      i)
{
  return json_array_get_object_element (a, i);
}

static void
test_bench_sparse_json (void)
{
  g_autofree char *dir = g_dir_make_tmp ("pl-cli-sparse-XXXXXX", NULL);
  g_autofree char *png = g_build_filename (dir, "sweep.png", NULL);
  g_autofree char *model = g_build_filename (dir, "m90.safetensors", NULL);
  g_auto(PlTestRun) r = { 0 };
  g_autoptr(JsonObject) o = NULL;
  JsonArray *pts, *sweep, *even;
  static const char *forms[] = { "dense", "csr", "compacted" };

  pl_test_run_cli (&r, cli_path, "bench", "sparse", "--sparsity", "0.9", "--batch", "1,8",
                   "--rounds", "1", "--sweep", "--points", "3", "--plot", png, "--out", model,
                   "--json", NULL);
  g_assert_cmpint (r.status, ==, 0);
  o = pl_test_parse_json (r.out);
  g_assert_cmpstr (json_object_get_string_member (o, "command"), ==, "bench sparse");
  g_assert_true (json_object_has_member (o, "blas_core"));

  pts = json_object_get_array_member (o, "model");
  g_assert_cmpuint (json_array_get_length (pts), ==, 2);
  for (guint i = 0; i < 2; i++)
    {
      JsonObject *p = element (pts, i);
      double batch = i == 0 ? 1 : 8;

      g_assert_cmpint (json_object_get_int_member (p, "batch"), ==, (gint64) batch);
      g_assert_cmpfloat_with_epsilon (json_object_get_double_member (p, "sparsity"), 0.9, 1e-5);
      /* 784-300-100-10: 266,200 weights, 410 biases */
      g_assert_cmpfloat (json_object_get_double_member (p, "dense_flops"), ==, batch * 2 * 266200);
      g_assert_cmpfloat (json_object_get_double_member (p, "dense_bytes"), ==, 4.0 * (2 * 266200 + 410));
      /* CSR: at most 26,620 kept weights of 8 bytes, 301 + 101 + 11 row pointers, 410 biases */
      g_assert_cmpfloat (json_object_get_double_member (p, "csr_bytes"), <=, 8.0 * 26620 + 4 * 413 + 4 * 410);
      g_assert_cmpfloat (json_object_get_double_member (p, "csr_flops"), <=, batch * 2 * 26620);
      g_assert_cmpfloat (json_object_get_double_member (p, "worst_difference"), <=, 1e-4);
      for (guint k = 0; k < G_N_ELEMENTS (forms); k++)
        {
          g_autofree char *ms = g_strdup_printf ("%s_ms", forms[k]);

          g_assert_cmpfloat (json_object_get_double_member (p, ms), >, 0.0);
        }
    }

  /* 3 levels (0, 90%, 99%) × 2 batches, level by level */
  sweep = json_object_get_array_member (o, "sweep");
  g_assert_cmpuint (json_array_get_length (sweep), ==, 6);
  g_assert_cmpfloat (json_object_get_double_member (element (sweep, 0), "sparsity"), ==, 0.0);
  g_assert_cmpfloat_with_epsilon (json_object_get_double_member (element (sweep, 2), "sparsity"), 0.9, 1e-5);
  g_assert_cmpfloat_with_epsilon (json_object_get_double_member (element (sweep, 5), "sparsity"), 0.99, 1e-5);
  /* with no weight pruned, CSR does the dense work */
  g_assert_cmpfloat (json_object_get_double_member (element (sweep, 0), "csr_flops"), ==,
                     json_object_get_double_member (element (sweep, 0), "dense_flops"));
  even = json_object_get_array_member (o, "break_even");
  g_assert_cmpuint (json_array_get_length (even), ==, 2);
  g_assert_true (g_file_test (png, G_FILE_TEST_IS_REGULAR));
  g_assert_true (g_file_test (model, G_FILE_TEST_IS_REGULAR));

  g_unlink (png);
  g_unlink (model);
  g_rmdir (dir);
}

/* prune --compact saves the smaller network, which evaluates as the masked one did; --csr
 * saves the CSR form, whose size is the CSR bytes the JSON reports plus its header. */
static void
test_prune_compact_and_csr (void)
{
  g_autofree char *dir = g_dir_make_tmp ("pl-cli-sparse-XXXXXX", NULL);
  g_autofree char *model = g_build_filename (dir, "m.safetensors", NULL);
  g_autofree char *small = g_build_filename (dir, "small.safetensors", NULL);
  g_autofree char *csr = g_build_filename (dir, "m.csr.safetensors", NULL);
  g_autofree char *contents = NULL;
  g_auto(PlTestRun) train = { 0 };
  g_auto(PlTestRun) prune = { 0 };
  g_auto(PlTestRun) eval = { 0 };
  g_auto(PlTestRun) pcsr = { 0 };
  g_autoptr(JsonObject) p = NULL;
  g_autoptr(JsonObject) e = NULL;
  g_autoptr(JsonObject) c = NULL;
  JsonObject *compacted;
  gsize size;
  guint64 header;

  pl_test_run_cli (&train, cli_path, "train", "--data", "moons:n=400", "--arch", "2-16-16-2",
                   "--epochs", "20", "--out", model, NULL);
  g_assert_cmpint (train.status, ==, 0);

  /* bench sparse times the forwards on the data's test samples, checked against dense first */
  {
    g_auto(PlTestRun) bench = { 0 };
    g_autoptr(JsonObject) b = NULL;
    JsonArray *pts;

    pl_test_run_cli (&bench, cli_path, "bench", "sparse", "--model", model, "--data", "moons:n=400",
                     "--sparsity", "0.5", "--batch", "1,4", "--rounds", "1", "--json", NULL);
    g_assert_cmpint (bench.status, ==, 0);
    b = pl_test_parse_json (bench.out);
    g_assert_cmpstr (json_object_get_string_member (b, "inputs"), ==, "moons:n=400");
    pts = json_object_get_array_member (b, "model");
    g_assert_cmpuint (json_array_get_length (pts), ==, 2);
    for (guint i = 0; i < 2; i++)
      g_assert_cmpfloat (json_object_get_double_member (element (pts, i), "worst_difference"), <=, 1e-4);
  }

  pl_test_run_cli (&prune, cli_path, "prune", "--model", model, "--data", "moons:n=400",
                   "--score", "neuron-l2", "--structured", "--sparsity", "0.5", "--compact",
                   "--out", small, "--json", NULL);
  g_assert_cmpint (prune.status, ==, 0);
  p = pl_test_parse_json (prune.out);
  compacted = json_object_get_object_member (p, "compacted");
  /* 16 of 32 hidden neurons removed */
  g_assert_cmpint (json_object_get_int_member (compacted, "parameters"), <, 2 * 16 + 16 + 16 * 16 + 16 + 16 * 2 + 2);
  g_assert_cmpfloat (json_object_get_double_member (compacted, "test_accuracy"), ==,
                     json_object_get_double_member (p, "test_accuracy"));
  pl_test_run_cli (&eval, cli_path, "eval", "--model", small, "--data", "moons:n=400", "--json", NULL);
  g_assert_cmpint (eval.status, ==, 0);
  e = pl_test_parse_json (eval.out);
  g_assert_cmpstr (json_object_get_string_member (e, "arch"), ==, json_object_get_string_member (compacted, "arch"));
  g_assert_cmpfloat (json_object_get_double_member (e, "test_accuracy"), ==,
                     json_object_get_double_member (p, "test_accuracy"));

  pl_test_run_cli (&pcsr, cli_path, "prune", "--model", model, "--data", "moons:n=400",
                   "--score", "magnitude", "--sparsity", "0.8", "--csr", "--out", csr, "--json", NULL);
  g_assert_cmpint (pcsr.status, ==, 0);
  c = pl_test_parse_json (pcsr.out);
  g_assert_true (g_file_get_contents (csr, &contents, &size, NULL));
  memcpy (&header, contents, 8);
  header = GUINT64_FROM_LE (header);
  g_assert_cmpfloat ((double) size, ==, 8 + header + json_object_get_double_member (
                       json_object_get_object_member (c, "total"), "bytes_csr"));
  g_assert_nonnull (strstr (contents + 8, "\"prunelab-csr\""));

  g_unlink (model);
  g_unlink (small);
  g_unlink (csr);
  g_rmdir (dir);
}

static void
test_bench_sparse_usage (void)
{
  g_auto(PlTestRun) r = { 0 };

  g_auto(PlTestRun) d = { 0 };

  pl_test_run_cli (&r, cli_path, "bench", "sparse", "--plot", "x.png", NULL);
  g_assert_cmpint (r.status, ==, 2);
  g_assert_nonnull (strstr (r.err, "--sweep"));

  /* inputs of 2 features for the default 784-input model */
  pl_test_run_cli (&d, cli_path, "bench", "sparse", "--data", "moons:n=400", "--rounds", "1", NULL);
  g_assert_cmpint (d.status, ==, 2);
  g_assert_nonnull (strstr (d.err, "--data"));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  cli_path = g_getenv ("PRUNELAB_CLI");
  g_assert_nonnull (cli_path);

  g_test_add_func ("/cli/bench-sparse/json-figures-sweep-and-plot", test_bench_sparse_json);
  g_test_add_func ("/cli/bench-sparse/plot-needs-sweep-and-data-must-fit", test_bench_sparse_usage);
  g_test_add_func ("/cli/prune/compact-and-csr-files", test_prune_compact_and_csr);

  return g_test_run ();
}
