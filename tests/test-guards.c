/* test-guards.c — a public function called against its contract warns and refuses
 *
 * Programming errors are not GErrors (DESIGN, Errors): a public function checks its arguments
 * with g_return_val_if_fail(), which logs a critical naming the broken condition and returns a
 * failure value. Each case here runs in a subprocess (g_test_trap_subprocess), because the test
 * environment makes criticals fatal; the child makes them non-fatal, calls the function with a
 * broken argument, checks the failure value and that no GError was set, frees what it made and
 * exits. The parent then checks the child passed and printed the critical with the condition.
 * Under AddressSanitizer the child exits through LeakSanitizer, so a guard that returns after
 * allocating (a leak) fails its case.
 */
#define G_LOG_DOMAIN "test-guards"

#include "config.h"

#include <string.h>

#include "pl-dataset.h"
#include "pl-engine.h"
#include "pl-error.h"
#include "pl-file.h"
#include "pl-mlp.h"
#include "pl-prune.h"
#include "pl-results.h"
#include "pl-safetensors.h"
#include "pl-score.h"
#include "pl-test-util.h"

typedef struct {
  const char *path;       /* the test path under /guards/ */
  const char *condition;  /* what the critical must name, as the guard spells it */
  void      (*call) (void);
} GuardCase;

/* ---- the calls: each breaks one condition and asserts the failure value ------------------- */

static void
csv_read_without_path (void)
{
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) names = NULL;

  g_assert_null (pl_csv_read (NULL, NULL, -1, &names, &error));
  g_assert_no_error (error);
  g_assert_null (names);
}

static void
csv_read_pair_with_bad_header (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PlDataset) train = NULL;
  g_autoptr(PlDataset) test = NULL;
  g_auto(GStrv) names = NULL;

  g_assert_false (pl_csv_read_pair ("train.csv", NULL, NULL, 2, &train, &test, &names, &error));
  g_assert_no_error (error);
  g_assert_null (train);
}

static void
idx_read_without_labels (void)
{
  g_autoptr(GError) error = NULL;

  g_assert_null (pl_idx_read ("images", NULL, &error));
  g_assert_no_error (error);
}

static void
idx_read_file_with_too_many_dimensions (void)
{
  g_autoptr(GError) error = NULL;
  guint32 dims[8];

  g_assert_null (pl_idx_read_file ("images", 7, dims, 1 << 20, &error));
  g_assert_no_error (error);
}

static void
file_save_to_empty_path (void)
{
  g_autoptr(GError) error = NULL;

  g_assert_false (pl_file_save ("", "x", 1, &error));
  g_assert_no_error (error);
}

/* An error already set is the caller's bug: it is kept, not overwritten. */
static void
file_save_over_set_error (void)
{
  g_autofree char *path = g_build_filename (pl_test_tmp_dir (), "never-written", NULL);
  g_autoptr(GError) error = g_error_new_literal (PL_FORMAT_ERROR, PL_FORMAT_ERROR_FAILED,
                                                 "earlier");

  g_assert_false (pl_file_save (path, "x", 1, &error));
  g_assert_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_FAILED);
  g_assert_cmpstr (error->message, ==, "earlier");
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
}

static void
safetensors_load_without_path (void)
{
  g_autoptr(GError) error = NULL;

  g_assert_null (pl_safetensors_load (NULL, &error));
  g_assert_no_error (error);
}

static void
safetensors_save_without_model (void)
{
  g_autoptr(GError) error = NULL;

  g_assert_false (pl_safetensors_save (NULL, "model.safetensors", &error));
  g_assert_no_error (error);
}

static void
mlp_new_without_layers (void)
{
  static const guint sizes[] = { 4 };

  g_assert_null (pl_mlp_new (sizes, 0, PL_ACTIVATION_RELU));
}

static void
mlp_new_with_empty_layer (void)
{
  static const guint sizes[] = { 4, 0, 3 };

  g_assert_null (pl_mlp_new (sizes, 2, PL_ACTIVATION_RELU));
}

static void
prune_spec_set_values_without_layers (void)
{
  g_autoptr(GError) error = NULL;
  PlPruneSpec spec;
  const double values[] = { 0.5 };

  pl_prune_spec_init (&spec, PL_SCOPE_GLOBAL, FALSE, 0.5);
  g_assert_false (pl_prune_spec_set_values (&spec, values, 1, 0, &error));
  g_assert_no_error (error);
}

/* Scores of another model: their layer count does not match. */
static void
prune_select_with_foreign_scores (void)
{
  static const guint small[] = { 3, 2 };
  static const guint deep[] = { 3, 4, 2 };
  g_autoptr(GError) error = NULL;
  g_autoptr(PlMlp) model = pl_mlp_new (deep, 2, PL_ACTIVATION_RELU);
  g_autoptr(PlMlp) other = pl_mlp_new (small, 1, PL_ACTIVATION_RELU);
  g_autoptr(PlScores) scores = NULL;
  g_autofree float *masks = g_new (float, model->n_params);
  g_autofree float *neuron_masks = g_new (float, model->n_neurons);
  PlPruneSpec spec;

  pl_mlp_init (other, 1);
  scores = pl_scores_compute (other, PL_SCORE_MAGNITUDE, NULL, NULL, &error);
  g_assert_no_error (error);
  pl_prune_spec_init (&spec, PL_SCOPE_GLOBAL, FALSE, 0.5);
  g_assert_false (pl_prune_select (model, scores, &spec, masks, neuron_masks, &error));
  g_assert_no_error (error);
}

static void
score_info_past_the_table (void)
{
  g_assert_null (pl_score_info (PL_N_SCORES));
}

static void
scores_compute_unknown_kind (void)
{
  static const guint sizes[] = { 3, 2 };
  g_autoptr(GError) error = NULL;
  g_autoptr(PlMlp) model = pl_mlp_new (sizes, 1, PL_ACTIVATION_RELU);

  g_assert_null (pl_scores_compute (model, PL_N_SCORES, NULL, NULL, &error));
  g_assert_no_error (error);
}

static void
hoyer_with_zero_stride (void)
{
  const float x[] = { 1, 0, 0 };

  g_assert_cmpfloat (pl_hoyer (x, 3, 0), ==, 0.0);
}

static void
engine_load_data_without_spec (void)
{
  g_autoptr(PlEngine) engine = pl_engine_new (1);

  g_assert_cmpuint (pl_engine_load_data (engine, NULL, NULL), ==, 0);
}

static void
engine_call_on_other_object (void)
{
  g_autoptr(GObject) object = g_object_new (G_TYPE_OBJECT, NULL);

  g_assert_cmpuint (pl_engine_load_model ((PlEngine *) object, "model.safetensors"), ==, 0);
}

static void
shard_parse_without_text (void)
{
  g_autoptr(GError) error = NULL;
  guint index = 7, count = 7;

  g_assert_false (pl_shard_parse (NULL, &index, &count, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (index, ==, 7);
}

static void
results_hash_without_path (void)
{
  g_autoptr(GError) error = NULL;

  g_assert_null (pl_results_hash_file (NULL, &error));
  g_assert_no_error (error);
}

static void
results_save_point_without_grid (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonArray) points = json_array_new ();

  g_assert_false (pl_results_save_point ("results", NULL, 0, points, 1.0, &error));
  g_assert_no_error (error);
  g_assert_false (g_file_test ("results", G_FILE_TEST_EXISTS));
}

static void
grid_from_json_without_object (void)
{
  g_autoptr(GError) error = NULL;

  g_assert_null (pl_grid_from_json (NULL, "grid.json", &error));
  g_assert_no_error (error);
}

static const GuardCase cases[] = {
  { "csv/read/needs-a-path", "path != NULL", csv_read_without_path },
  { "csv/read-pair/needs-a-header-mode", "header >= -1 && header <= 1",
    csv_read_pair_with_bad_header },
  { "idx/read/needs-a-labels-file", "labels_path != NULL", idx_read_without_labels },
  { "idx/read-file/caps-dimensions", "expected_ndim <= IDX_MAX_NDIM",
    idx_read_file_with_too_many_dimensions },
  { "file/save/needs-a-path", "path != NULL && *path != '\\0'", file_save_to_empty_path },
  { "file/save/keeps-an-error-already-set", "error == NULL || *error == NULL",
    file_save_over_set_error },
  { "safetensors/load/needs-a-path", "path != NULL", safetensors_load_without_path },
  { "safetensors/save/needs-a-model", "model != NULL", safetensors_save_without_model },
  { "mlp/new/needs-a-layer", "n_layers >= 1", mlp_new_without_layers },
  { "mlp/new/refuses-an-empty-layer", "sizes[i] >= 1", mlp_new_with_empty_layer },
  { "prune/spec/needs-layers", "n_layers >= 1", prune_spec_set_values_without_layers },
  { "prune/select/needs-the-model's-scores", "scores->n_layers == model->n_layers",
    prune_select_with_foreign_scores },
  { "score/info/knows-only-its-table", "kind < PL_N_SCORES", score_info_past_the_table },
  { "score/compute/knows-only-its-table", "kind < PL_N_SCORES", scores_compute_unknown_kind },
  { "score/hoyer/needs-a-stride", "stride >= 1", hoyer_with_zero_stride },
  { "engine/load-data/needs-a-spec", "spec != NULL", engine_load_data_without_spec },
  { "engine/refuses-another-object", "PL_IS_ENGINE (self)", engine_call_on_other_object },
  { "shard/parse/needs-the-text", "text != NULL && index != NULL && count != NULL",
    shard_parse_without_text },
  { "results/hash-file/needs-a-path", "path != NULL", results_hash_without_path },
  { "results/save-point/needs-a-grid", "dir != NULL && grid != NULL && index < grid->size",
    results_save_point_without_grid },
  { "grid/from-json/needs-an-object", "object != NULL && file != NULL", grid_from_json_without_object },
};

static void
test_guard (gconstpointer user_data)
{
  const GuardCase *c = user_data;
  g_autofree char *pattern = NULL;

  if (g_test_subprocess ())
    {
      /* criticals are fatal in tests (g_test_init, G_DEBUG=fatal-warnings): not here, so that
       * the call returns and its result is checked */
      g_log_set_always_fatal (G_LOG_FATAL_MASK);
      c->call ();
      return;
    }

  g_test_trap_subprocess (NULL, 60 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
  pattern = g_strdup_printf ("*CRITICAL*assertion*%s*failed*", c->condition);
  g_test_trap_assert_stderr (pattern);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_summary ("The public functions' guards: a broken argument logs a critical naming the "
                  "condition, returns the failure value, sets no error and leaks nothing");

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *path = g_strconcat ("/guards/", cases[i].path, NULL);

      g_test_add_data_func (path, &cases[i], test_guard);
    }

  return pl_test_run ();
}
