/* prunelab-cli prune --method obs and schedule --method movement, set, rigl as a user runs them:
 * the JSON, the per-layer sparsities, usage errors and the help. */
#include "config.h"

#include "pl-test-cli.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#define DATA "moons:n=800,seed=4"

static const char *cli_path;
static char *model_dir;
static char *model_path;

/* A small model on the built-in moons, trained once for every test. */
static const char *
moons_model (void)
{
  if (model_path == NULL)
    {
      g_auto(PlTestRun) r = { 0 };

      model_dir = g_dir_make_tmp ("pl-cli-obs-XXXXXX", NULL);
      model_path = g_build_filename (model_dir, "moons.safetensors", NULL);
      pl_test_run_cli (&r, cli_path, "train", "--data", DATA, "--arch", "2-32-32-2",
                       "--epochs", "20", "--batch", "32", "--out", model_path, NULL);
      g_assert_cmpint (r.status, ==, 0);
    }
  return model_path;
}

static double
pruned_accuracy (const char *first,
                 ...) G_GNUC_NULL_TERMINATED;

/* Runs prune --json with the arguments after the model and data; returns the pruned accuracy
 * and checks every layer's sparsity is 0.8. */
static double
pruned_accuracy (const char *first,
                 ...)
{
  g_autoptr(GPtrArray) args = g_ptr_array_new ();
  g_auto(PlTestRun) r = { 0 };
  g_autoptr(JsonObject) o = NULL;
  JsonArray *layers;
  va_list ap;

  g_ptr_array_add (args, (char *) "prune");
  g_ptr_array_add (args, (char *) "--model");
  g_ptr_array_add (args, (char *) moons_model ());
  g_ptr_array_add (args, (char *) "--data");
  g_ptr_array_add (args, (char *) DATA);
  g_ptr_array_add (args, (char *) "--sparsity");
  g_ptr_array_add (args, (char *) "0.8");
  g_ptr_array_add (args, (char *) "--scope");
  g_ptr_array_add (args, (char *) "layer");
  g_ptr_array_add (args, (char *) "--json");
  va_start (ap, first);
  for (const char *a = first; a != NULL; a = va_arg (ap, const char *))
    g_ptr_array_add (args, (char *) a);
  va_end (ap);
  g_ptr_array_add (args, NULL);

  pl_test_run_cliv (&r, cli_path, (const char * const *) args->pdata, NULL, NULL);
  g_assert_cmpint (r.status, ==, 0);
  o = pl_test_parse_json (r.out);
  layers = json_object_get_array_member (o, "layers");
  for (guint i = 0; i < json_array_get_length (layers); i++)
    g_assert_cmpfloat_with_epsilon (json_object_get_double_member (json_array_get_object_element (layers, i),
                                                                   "parameter_sparsity"), 0.8, 0.01);
  if (g_strcmp0 (first, "--method") == 0)
    {
      g_assert_cmpstr (json_object_get_string_member (o, "method"), ==, "obs");
      g_assert_cmpint (json_object_get_int_member (o, "calibration"), ==, 50);
      g_assert_cmpint (json_object_get_int_member (o, "steps"), ==, 5);
    }

  return json_object_get_double_member (o, "test_accuracy_pruned");
}

/* OBS at 80% per layer, no fine-tuning, loses less than magnitude pruning does. */
static void
test_obs_prunes_per_layer (void)
{
  double magnitude = pruned_accuracy ("--score", "magnitude", NULL);
  double obs = pruned_accuracy ("--method", "obs", "--calibration", "50", NULL);

  g_test_message ("80%% per layer: magnitude %.4f, OBS %.4f", magnitude, obs);
  g_assert_cmpfloat (obs, >=, magnitude);
}

static void
test_obs_usage_errors (void)
{
  static const char *const cases[][4] = {
    { "--method", "obs", "--score", "magnitude" },
    { "--method", "obs", "--threshold", "0.1" },
    { "--method", "surgeon", "--sparsity", "0.5" },
    { "--method", "obs", "--steps", "0" },
  };

  for (guint k = 0; k < G_N_ELEMENTS (cases); k++)
    {
      g_auto(PlTestRun) r = { 0 };

      pl_test_run_cli (&r, cli_path, "prune", "--model", moons_model (), "--data", DATA,
                       cases[k][0], cases[k][1], cases[k][2], cases[k][3],
                       k < 2 ? "--sparsity" : NULL, "0.5", NULL);
      g_assert_cmpint (r.status, ==, 2);
      g_assert_nonnull (strstr (r.err, "prunelab-cli: "));
    }
}

static void
test_help_scores_explains_obs (void)
{
  g_auto(PlTestRun) r = { 0 };

  pl_test_run_cli (&r, cli_path, "prune", "--help-scores", NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.out, "obs — "));
  g_assert_nonnull (strstr (r.out, "SparseGPT"));
  g_assert_nonnull (strstr (r.out, "movement — "));
  g_assert_nonnull (strstr (r.out, "Sanh"));
}

/* movement, set and rigl each give the dense start and one point at the target. */
static void
test_schedule_methods (void)
{
  g_auto(PlTestRun) r = { 0 };
  g_autoptr(JsonObject) o = NULL;
  JsonArray *points;
  guint at_target = 0;

  pl_test_run_cli (&r, cli_path, "schedule", "--model", moons_model (), "--data", DATA,
                   "--method", "movement,set,rigl", "--sparsity", "0.8", "--epochs", "8",
                   "--delta-t", "5", "--lr", "0.05", "--drop-fraction", "0.4", "--json", NULL);
  g_assert_cmpint (r.status, ==, 0);
  o = pl_test_parse_json (r.out);
  {
    JsonObject *settings = json_object_get_object_member (o, "settings");

    g_assert_cmpfloat (json_object_get_double_member (settings, "drop_fraction"), ==, 0.4);
    g_assert_cmpint (json_object_get_int_member (settings, "dst_epochs"), ==, 8);
    g_assert_cmpint (json_object_get_int_member (settings, "gradual_epochs"), ==, 8);
  }
  points = json_object_get_array_member (o, "points");
  g_assert_cmpuint (json_array_get_length (points), ==, 6);
  for (guint k = 0; k < json_array_get_length (points); k++)
    {
      JsonObject *p = json_array_get_object_element (points, k);

      if (json_object_get_int_member (p, "level") == 1)
        {
          g_assert_cmpfloat_with_epsilon (json_object_get_double_member (p, "sparsity"), 0.8, 0.005);
          g_assert_cmpfloat (json_object_get_double_member (p, "test_accuracy"), >, 0.75);
          at_target++;
        }
    }
  g_assert_cmpuint (at_target, ==, 3);
}

int
main (int    argc,
      char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);
  g_test_summary ("prunelab-cli prune --method obs and schedule --method movement, set, rigl");

  cli_path = g_getenv ("PRUNELAB_CLI");
  if (cli_path == NULL)
    {
      g_printerr ("PRUNELAB_CLI is not set; run through meson test\n");
      return 77;
    }

  g_test_add_func ("/cli/prune/obs/prunes-every-layer", test_obs_prunes_per_layer);
  g_test_add_func ("/cli/prune/obs/usage-errors-exit-2", test_obs_usage_errors);
  g_test_add_func ("/cli/prune/help-scores-explains-obs", test_help_scores_explains_obs);
  g_test_add_func ("/cli/schedule/movement-set-rigl", test_schedule_methods);

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
