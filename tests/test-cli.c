/* prunelab-cli as a user runs it: exit statuses, JSON results, saved models. */
#include "config.h"

#include "pl-test-cli.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>

static const char *cli_path;

static void
test_train_json_has_the_contract (void)
{
  g_auto(PlTestRun) r = { 0 };
  g_autoptr(JsonObject) o = NULL;
  const char *fields[] = { "test_accuracy", "test_loss", "train_loss", "val_accuracy", "epochs",
                           "seconds", "samples_per_second", "parameters", "threads", "blas_core" };

  pl_test_run_cli (&r, cli_path, "train", "--data", "moons:n=400", "--epochs", "20", "--json", NULL);
  g_assert_cmpint (r.status, ==, 0);
  o = pl_test_parse_json (r.out);
  for (guint i = 0; i < G_N_ELEMENTS (fields); i++)
    g_assert_true (json_object_has_member (o, fields[i]));
  g_assert_cmpint (json_object_get_int_member (o, "epochs"), ==, 20);
  g_assert_cmpint (json_object_get_int_member (o, "parameters"), ==, 2 * 64 + 64 + 64 * 64 + 64 + 64 * 2 + 2);
  g_assert_cmpfloat (json_object_get_double_member (o, "test_accuracy"), >=, 0.95);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (o, "history")), ==, 20);
  /* progress goes to stderr, never into the JSON */
  g_assert_nonnull (strstr (r.err, "epoch 20/20"));
}

static void
test_saved_model_evaluates_the_same (void)
{
  g_autofree char *dir = g_dir_make_tmp ("pl-cli-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "xor.safetensors", NULL);
  g_auto(PlTestRun) train = { 0 };
  g_auto(PlTestRun) eval = { 0 };
  g_autoptr(JsonObject) a = NULL;
  g_autoptr(JsonObject) b = NULL;

  pl_test_run_cli (&train, cli_path, "train", "--data", "xor", "--epochs", "10", "--arch", "2-16-2",
           "--activation", "tanh", "--out", path, "--json", NULL);
  g_assert_cmpint (train.status, ==, 0);
  pl_test_run_cli (&eval, cli_path, "eval", "--model", path, "--data", "xor", "--json", NULL);
  g_assert_cmpint (eval.status, ==, 0);

  a = pl_test_parse_json (train.out);
  b = pl_test_parse_json (eval.out);
  g_assert_cmpfloat (json_object_get_double_member (a, "test_accuracy"), ==,
                     json_object_get_double_member (b, "test_accuracy"));
  g_assert_cmpfloat (json_object_get_double_member (a, "test_loss"), ==,
                     json_object_get_double_member (b, "test_loss"));
  g_assert_cmpstr (json_object_get_string_member (b, "activation"), ==, "tanh");
  g_assert_cmpstr (json_object_get_string_member (b, "arch"), ==, "2-16-2");

  g_remove (path);
  g_rmdir (dir);
}

static void
test_same_seed_same_result (void)
{
  g_auto(PlTestRun) a = { 0 };
  g_auto(PlTestRun) b = { 0 };
  g_autoptr(JsonObject) oa = NULL;
  g_autoptr(JsonObject) ob = NULL;

  pl_test_run_cli (&a, cli_path, "train", "--data", "spiral:n=300,seed=4", "--epochs", "5", "--threads", "2", "--json", NULL);
  pl_test_run_cli (&b, cli_path, "train", "--data", "spiral:n=300,seed=4", "--epochs", "5", "--threads", "2", "--json", NULL);
  g_assert_cmpint (a.status, ==, 0);
  g_assert_cmpint (b.status, ==, 0);
  oa = pl_test_parse_json (a.out);
  ob = pl_test_parse_json (b.out);
  g_assert_cmpfloat (json_object_get_double_member (oa, "test_loss"), ==,
                     json_object_get_double_member (ob, "test_loss"));
}

static void
test_bad_usage_exits_2 (void)
{
  const char *cases[][6] = {
    { "train", "--data", "spiral", "--epochs", "many", NULL },
    { "train", "--data", "spiral", "--lr", "-1", NULL },
    { "train", "--data", "nosuchset", NULL },
    { "train", "--data", "spiral", "--arch", "2-x-3", NULL },
    { "train", "--data", "spiral", "--optimizer", "lbfgs", NULL },
    { "train", NULL },
    { "frobnicate", NULL },
    { "eval", "--data", "spiral", NULL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_auto(PlTestRun) r = { 0 };

      pl_test_run_cli (&r, cli_path, cases[i][0], cases[i][1], cases[i][2], cases[i][3], cases[i][4], cases[i][5], NULL);
      g_test_message ("case %u: %s", i, r.err);
      g_assert_cmpint (r.status, ==, 2);
      g_assert_cmpstr (r.out, ==, "");
      g_assert_true (g_str_has_prefix (r.err, "prunelab-cli"));
    }
}

static void
test_bad_input_exits_1_naming_the_file (void)
{
  g_autofree char *dir = g_dir_make_tmp ("pl-cli-XXXXXX", NULL);
  g_autofree char *bad = g_build_filename (dir, "broken.safetensors", NULL);
  g_autofree char *missing = g_build_filename (dir, "missing.safetensors", NULL);
  g_auto(PlTestRun) r1 = { 0 };
  g_auto(PlTestRun) r2 = { 0 };

  /* a header length of 16, then 9 bytes that are not JSON */
  g_assert_true (g_file_set_contents (bad, "\x10\x00\x00\x00\x00\x00\x00\x00{not json", 17, NULL));

  pl_test_run_cli (&r1, cli_path, "eval", "--model", bad, "--data", "spiral", NULL);
  g_assert_cmpint (r1.status, ==, 1);
  g_assert_nonnull (strstr (r1.err, "broken.safetensors"));
  /* one line */
  g_assert_cmpint (strchr (r1.err, '\n') - r1.err, ==, (int) strlen (r1.err) - 1);

  pl_test_run_cli (&r2, cli_path, "eval", "--model", missing, "--data", "spiral", NULL);
  g_assert_cmpint (r2.status, ==, 1);
  g_assert_nonnull (strstr (r2.err, "missing.safetensors"));

  g_remove (bad);
  g_rmdir (dir);
}

static void
test_model_data_mismatch_is_reported (void)
{
  g_autofree char *dir = g_dir_make_tmp ("pl-cli-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "m.safetensors", NULL);
  g_auto(PlTestRun) train = { 0 };
  g_auto(PlTestRun) eval = { 0 };

  pl_test_run_cli (&train, cli_path, "train", "--data", "blobs", "--epochs", "1", "--out", path, NULL);
  g_assert_cmpint (train.status, ==, 0);
  /* 3 outputs cannot classify 5 classes */
  pl_test_run_cli (&eval, cli_path, "eval", "--model", path, "--data", "spiral:classes=5", NULL);
  g_assert_cmpint (eval.status, ==, 1);
  g_assert_nonnull (strstr (eval.err, "m.safetensors"));

  g_remove (path);
  g_rmdir (dir);
}

static void
test_prune_and_sweep_json (void)
{
  g_autofree char *dir = g_dir_make_tmp ("pl-cli-XXXXXX", NULL);
  g_autofree char *model = g_build_filename (dir, "m.safetensors", NULL);
  g_autofree char *pruned = g_build_filename (dir, "p.safetensors", NULL);
  g_autofree char *csv = g_build_filename (dir, "sweep.csv", NULL);
  g_autofree char *csv_text = NULL;
  g_auto(PlTestRun) train = { 0 };
  g_auto(PlTestRun) prune = { 0 };
  g_auto(PlTestRun) eval = { 0 };
  g_auto(PlTestRun) sweep = { 0 };
  g_autoptr(JsonObject) p = NULL;
  g_autoptr(JsonObject) e = NULL;
  g_autoptr(JsonObject) sw = NULL;
  JsonArray *layers, *points;

  pl_test_run_cli (&train, cli_path, "train", "--data", "spiral", "--epochs", "30", "--out", model, NULL);
  g_assert_cmpint (train.status, ==, 0);

  pl_test_run_cli (&prune, cli_path, "prune", "--model", model, "--data", "spiral", "--score", "magnitude",
           "--sparsity", "0.5", "--fine-tune-epochs", "2", "--out", pruned, "--json", NULL);
  g_assert_cmpint (prune.status, ==, 0);
  p = pl_test_parse_json (prune.out);
  g_assert_true (json_object_has_member (p, "test_accuracy_before"));
  g_assert_true (json_object_has_member (p, "test_accuracy"));
  g_assert_cmpfloat_with_epsilon (json_object_get_double_member (p, "sparsity"), 0.5, 1e-3);
  layers = json_object_get_array_member (p, "layers");
  g_assert_cmpuint (json_array_get_length (layers), ==, 3);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (layers, 0), "name"), ==, "layers.0");
  g_assert_true (json_object_has_member (json_array_get_object_element (layers, 2), "bytes_csr"));

  /* the saved masks survive: eval sees the same sparsity and accuracy */
  pl_test_run_cli (&eval, cli_path, "eval", "--model", pruned, "--data", "spiral", "--json", NULL);
  g_assert_cmpint (eval.status, ==, 0);
  e = pl_test_parse_json (eval.out);
  g_assert_cmpfloat_with_epsilon (json_object_get_double_member (e, "sparsity"), 0.5, 1e-3);
  g_assert_cmpfloat (json_object_get_double_member (e, "test_accuracy"), ==,
                     json_object_get_double_member (p, "test_accuracy"));

  pl_test_run_cli (&sweep, cli_path, "sweep", "--model", model, "--data", "spiral", "--score", "magnitude,random",
           "--points", "6", "--seeds", "2", "--csv", csv, "--json", NULL);
  g_assert_cmpint (sweep.status, ==, 0);
  sw = pl_test_parse_json (sweep.out);
  points = json_object_get_array_member (sw, "points");
  g_assert_cmpuint (json_array_get_length (points), ==, 2 * 2 * 6);
  g_assert_cmpfloat (json_object_get_double_member (json_array_get_object_element (points, 0), "sparsity"), ==, 0.0);
  g_assert_cmpfloat_with_epsilon (json_object_get_double_member (json_array_get_object_element (points, 5), "sparsity"), 0.99, 0.01);
  g_assert_true (g_file_get_contents (csv, &csv_text, NULL, NULL));
  g_assert_true (g_str_has_prefix (csv_text, "score,seed,target_sparsity,sparsity"));

  g_remove (model);
  g_remove (pruned);
  g_remove (csv);
  g_rmdir (dir);
}

static void
test_prune_usage_errors (void)
{
  g_auto(PlTestRun) r1 = { 0 };
  g_auto(PlTestRun) r2 = { 0 };
  g_auto(PlTestRun) r3 = { 0 };

  /* neither --sparsity nor --threshold */
  pl_test_run_cli (&r1, cli_path, "prune", "--model", "x.safetensors", "--data", "spiral", "--score", "magnitude", NULL);
  g_assert_cmpint (r1.status, ==, 2);
  /* --structured with a weight score */
  pl_test_run_cli (&r2, cli_path, "prune", "--model", "x.safetensors", "--data", "spiral", "--score", "magnitude",
           "--structured", "--sparsity", "0.5", NULL);
  g_assert_cmpint (r2.status, ==, 2);
  g_assert_nonnull (strstr (r2.err, "neuron"));
  /* unknown score */
  pl_test_run_cli (&r3, cli_path, "sweep", "--model", "x.safetensors", "--data", "spiral", "--score", "magic", NULL);
  g_assert_cmpint (r3.status, ==, 2);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  cli_path = g_getenv ("PRUNELAB_CLI");
  if (cli_path == NULL)
    {
      g_printerr ("PRUNELAB_CLI must name the prunelab-cli binary\n");
      return 1;
    }

  g_test_add_func ("/cli/train/json-has-the-contract", test_train_json_has_the_contract);
  g_test_add_func ("/cli/train/saved-model-evaluates-the-same", test_saved_model_evaluates_the_same);
  g_test_add_func ("/cli/train/same-seed-same-result", test_same_seed_same_result);
  g_test_add_func ("/cli/usage/bad-usage-exits-2", test_bad_usage_exits_2);
  g_test_add_func ("/cli/input/bad-input-exits-1-naming-the-file", test_bad_input_exits_1_naming_the_file);
  g_test_add_func ("/cli/input/model-data-mismatch-is-reported", test_model_data_mismatch_is_reported);
  g_test_add_func ("/cli/prune/json-and-saved-masks", test_prune_and_sweep_json);
  g_test_add_func ("/cli/prune/usage-errors", test_prune_usage_errors);
  return g_test_run ();
}
