/* prunelab-cli session and --session as a teacher uses them: a session prepared by script,
 * then every command that takes --model working from it. */
#include "config.h"

#include "pl-test-cli.h"

#include <glib/gstdio.h>
#include <string.h>

#include "pl-dataset.h"
#include "pl-safetensors.h"
#include "pl-session.h"

static const char *cli_path;
static char *dir;

static char *
path_in_dir (const char *name)
{
  return g_build_filename (dir, name, NULL);
}

/* A trained spiral model, once for all tests. */
static const char *
trained_model (void)
{
  static char *path;

  if (path == NULL)
    {
      g_auto(PlTestRun) r = { 0 };

      path = path_in_dir ("spiral.safetensors");
      pl_test_run_cli (&r, cli_path, "train", "--data", "spiral:n=600", "--arch", "2-24-24-3",
                       "--epochs", "30", "--out", path, NULL);
      g_assert_cmpint (r.status, ==, 0);
    }
  return path;
}

/* The session holds the model's file weights as initial weights, the masks that prune gives for
 * the same settings, the strategy, slider and lesson asked for, and the hash of the data. */
static void
test_session_holds_what_was_asked (void)
{
  g_autofree char *session_path = path_in_dir ("taylor.prunelab");
  g_autofree char *pruned_path = path_in_dir ("pruned.safetensors");
  g_auto(PlTestRun) made = { 0 };
  g_auto(PlTestRun) pruned = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(PlSession) s = NULL;
  g_autoptr(PlMlp) original = NULL;
  g_autoptr(PlMlp) reference = NULL;
  g_autoptr(PlData) data = NULL;
  g_autofree char *hash = NULL;
  g_autoptr(JsonObject) o = NULL;

  pl_test_run_cli (&made, cli_path, "session", "--model", trained_model (), "--data",
                   "spiral:n=600", "--score", "taylor", "--sparsity", "0.7", "--prune",
                   "--lesson", "magnitude", "--step", "3", "--out", session_path, "--json", NULL);
  g_assert_cmpint (made.status, ==, 0);
  o = pl_test_parse_json (made.out);
  g_assert_cmpstr (json_object_get_string_member (o, "out"), ==, session_path);

  pl_test_run_cli (&pruned, cli_path, "prune", "--model", trained_model (), "--data",
                   "spiral:n=600", "--score", "taylor", "--sparsity", "0.7", "--out",
                   pruned_path, NULL);
  g_assert_cmpint (pruned.status, ==, 0);

  s = pl_session_load (session_path, &error);
  g_assert_no_error (error);
  original = pl_safetensors_load (trained_model (), &error);
  g_assert_no_error (error);
  reference = pl_safetensors_load (pruned_path, &error);
  g_assert_no_error (error);

  g_assert_cmpmem (s->initial->params, sizeof (float) * s->initial->n_params, original->params,
                   sizeof (float) * original->n_params);
  g_assert_cmpmem (s->model->masks, sizeof (float) * s->model->n_params, reference->masks,
                   sizeof (float) * reference->n_params);
  g_assert_cmpmem (s->model->params, sizeof (float) * s->model->n_params, reference->params,
                   sizeof (float) * reference->n_params);
  g_assert_cmpint (s->strategy.score, ==, PL_SCORE_TAYLOR);
  g_assert_cmpfloat (s->slider, ==, 0.7);
  g_assert_false (s->slider_by_threshold);
  g_assert_cmpstr (s->lesson_id, ==, "magnitude");
  g_assert_cmpuint (s->lesson_step, ==, 2);
  g_assert_cmpstr (s->data_spec, ==, "spiral:n=600");

  data = pl_data_load ("spiral:n=600", NULL, &error);
  g_assert_no_error (error);
  hash = pl_session_hash_data (data);
  g_assert_cmpstr (s->data_sha256, ==, hash);
}

/* eval, prune and sensitivity take --session for --model, with the session's data. */
static void
test_commands_take_session (void)
{
  g_autofree char *session_path = path_in_dir ("plain.prunelab");
  g_auto(PlTestRun) made = { 0 };
  g_auto(PlTestRun) by_session = { 0 };
  g_auto(PlTestRun) by_model = { 0 };
  g_auto(PlTestRun) prune = { 0 };
  g_auto(PlTestRun) sens = { 0 };
  g_autoptr(JsonObject) a = NULL;
  g_autoptr(JsonObject) b = NULL;

  pl_test_run_cli (&made, cli_path, "session", "--model", trained_model (), "--data",
                   "spiral:n=600", "--out", session_path, NULL);
  g_assert_cmpint (made.status, ==, 0);

  pl_test_run_cli (&by_session, cli_path, "eval", "--session", session_path, "--json", NULL);
  g_assert_cmpint (by_session.status, ==, 0);
  pl_test_run_cli (&by_model, cli_path, "eval", "--model", trained_model (), "--data",
                   "spiral:n=600", "--json", NULL);
  g_assert_cmpint (by_model.status, ==, 0);
  a = pl_test_parse_json (by_session.out);
  b = pl_test_parse_json (by_model.out);
  g_assert_cmpfloat (json_object_get_double_member (a, "test_accuracy"), ==,
                     json_object_get_double_member (b, "test_accuracy"));
  g_assert_cmpfloat (json_object_get_double_member (a, "test_loss"), ==,
                     json_object_get_double_member (b, "test_loss"));

  pl_test_run_cli (&prune, cli_path, "prune", "--session", session_path, "--score", "magnitude",
                   "--sparsity", "0.5", "--json", NULL);
  g_assert_cmpint (prune.status, ==, 0);
  pl_test_run_cli (&sens, cli_path, "sensitivity", "--session", session_path, "--points", "3",
                   "--json", NULL);
  g_assert_cmpint (sens.status, ==, 0);
}

/* A CSV file changed after the session was saved: the session refuses the new data. */
static void
test_changed_data_refused (void)
{
  g_autofree char *csv = path_in_dir ("points.csv");
  g_autofree char *spec = g_strdup_printf ("csv:%s", csv);
  g_autofree char *model = path_in_dir ("csv.safetensors");
  g_autofree char *session_path = path_in_dir ("csv.prunelab");
  g_autoptr(GString) rows = g_string_new ("x,y,label\n");
  g_auto(PlTestRun) train = { 0 };
  g_auto(PlTestRun) made = { 0 };
  g_auto(PlTestRun) eval = { 0 };
  g_auto(PlTestRun) other = { 0 };

  for (guint i = 0; i < 100; i++)
    g_string_append_printf (rows, "%u,%u,%u\n", i % 10, i / 10, (i % 10) > 4);
  g_assert_true (g_file_set_contents (csv, rows->str, -1, NULL));
  pl_test_run_cli (&train, cli_path, "train", "--data", spec, "--arch", "2-8-2", "--epochs", "2",
                   "--out", model, NULL);
  g_assert_cmpint (train.status, ==, 0);
  pl_test_run_cli (&made, cli_path, "session", "--model", model, "--data", spec, "--out",
                   session_path, NULL);
  g_assert_cmpint (made.status, ==, 0);

  /* one value changed */
  g_string_replace (rows, "\n3,4,0\n", "\n3,4,1\n", 1);
  g_assert_true (g_file_set_contents (csv, rows->str, -1, NULL));
  pl_test_run_cli (&eval, cli_path, "eval", "--session", session_path, NULL);
  g_assert_cmpint (eval.status, ==, 1);
  g_assert_nonnull (strstr (eval.err, "csv.prunelab"));
  g_assert_nonnull (strstr (eval.err, "are not the data the session was saved with"));

  /* data named with --data are the user's choice */
  pl_test_run_cli (&other, cli_path, "eval", "--session", session_path, "--data", spec, NULL);
  g_assert_cmpint (other.status, ==, 0);
}

static void
test_bad_sessions (void)
{
  g_autofree char *session_path = path_in_dir ("whole.prunelab");
  g_autofree char *cut_path = path_in_dir ("cut.prunelab");
  g_autofree char *contents = NULL;
  gsize len;
  g_auto(PlTestRun) made = { 0 };
  g_auto(PlTestRun) cut = { 0 };
  g_auto(PlTestRun) both = { 0 };
  g_auto(PlTestRun) none = { 0 };
  g_auto(PlTestRun) model_as_session = { 0 };

  pl_test_run_cli (&made, cli_path, "session", "--model", trained_model (), "--data",
                   "spiral:n=600", "--out", session_path, NULL);
  g_assert_cmpint (made.status, ==, 0);
  g_assert_true (g_file_get_contents (session_path, &contents, &len, NULL));
  g_assert_true (g_file_set_contents (cut_path, contents, len / 2, NULL));

  pl_test_run_cli (&cut, cli_path, "eval", "--session", cut_path, NULL);
  g_assert_cmpint (cut.status, ==, 1);
  g_assert_nonnull (strstr (cut.err, "cut.prunelab”: "));

  pl_test_run_cli (&model_as_session, cli_path, "eval", "--session", trained_model (), NULL);
  g_assert_cmpint (model_as_session.status, ==, 1);
  g_assert_nonnull (strstr (model_as_session.err, "not a PruneLab session"));

  pl_test_run_cli (&both, cli_path, "eval", "--session", session_path, "--model",
                   trained_model (), NULL);
  g_assert_cmpint (both.status, ==, 2);
  g_assert_nonnull (strstr (both.err, "not both"));

  pl_test_run_cli (&none, cli_path, "session", "--model", trained_model (), "--data", "spiral",
                   NULL);
  g_assert_cmpint (none.status, ==, 2);
  g_assert_nonnull (strstr (none.err, "--out is required"));
}

int
main (int    argc,
      char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);
  cli_path = g_getenv ("PRUNELAB_CLI");
  g_assert_nonnull (cli_path);
  dir = g_dir_make_tmp ("pl-cli-session-XXXXXX", NULL);

  g_test_add_func ("/cli/session/holds-what-was-asked", test_session_holds_what_was_asked);
  g_test_add_func ("/cli/session/commands-take-session", test_commands_take_session);
  g_test_add_func ("/cli/session/changed-data-refused", test_changed_data_refused);
  g_test_add_func ("/cli/session/bad-sessions-exit-with-the-file-named", test_bad_sessions);

  status = g_test_run ();

  {
    g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
    const char *name;

    while (d != NULL && (name = g_dir_read_name (d)) != NULL)
      {
        g_autofree char *p = g_build_filename (dir, name, NULL);
        g_unlink (p);
      }
    g_rmdir (dir);
  }
  g_free (dir);
  return status;
}
