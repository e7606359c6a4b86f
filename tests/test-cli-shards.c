/* prunelab-cli sweep and schedule in pieces, as a user runs them on several machines: shards
 * merged give the whole run's points exactly, a killed run resumes from its results folder with
 * the same numbers, merge refuses pieces of other grids and damaged files, and the GNU parallel
 * recipe of the README runs. */
#include "config.h"

#include "pl-test-cli.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <signal.h>
#include <string.h>

static const char *cli_path;
static char *work_dir;
static char *model_path;

#define DATA "spiral:n=600,seed=2"

static void
remove_tree (const char *path)
{
  g_autoptr(GDir) d = g_dir_open (path, 0, NULL);
  const char *name;

  if (d != NULL)
    while ((name = g_dir_read_name (d)) != NULL)
      {
        g_autofree char *child = g_build_filename (path, name, NULL);

        remove_tree (child);
      }
  g_remove (path);
}

/* A small model on the built-in spiral, trained once for every test. */
static const char *
spiral_model (void)
{
  if (model_path == NULL)
    {
      g_auto(PlTestRun) r = { 0 };

      model_path = g_build_filename (work_dir, "spiral.safetensors", NULL);
      pl_test_run_cli (&r, cli_path, "train", "--data", DATA, "--arch", "2-32-32-3",
                       "--optimizer", "adam", "--lr", "0.01", "--batch", "32", "--epochs", "20",
                       "--out", model_path, NULL);
      g_assert_cmpint (r.status, ==, 0);
    }
  return model_path;
}

static char *
path_in (const char *name)
{
  return g_build_filename (work_dir, name, NULL);
}

/* Runs the CLI with @args (NULL-terminated) and more, and gives its stdout; it must exit 0. */
static char *
run_ok (const char * const *args,
        const char         *first,
        ...)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_auto(PlTestRun) r = { 0 };
  va_list more;

  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  va_start (more, first);
  for (const char *a = first; a != NULL; a = va_arg (more, const char *))
    g_ptr_array_add (argv, (gpointer) a);
  va_end (more);
  g_ptr_array_add (argv, NULL);
  pl_test_run_cliv (&r, cli_path, (const char * const *) argv->pdata, NULL, NULL);
  if (r.status != 0)
    g_test_message ("stderr: %s", r.err);
  g_assert_cmpint (r.status, ==, 0);
  return g_steal_pointer (&r.out);
}

static gboolean
is_timing (const char *name)
{
  return strcmp (name, "seconds") == 0 || strcmp (name, "sweep_seconds") == 0;
}

/* Every member of @a and @b equal, in the same order, but for the timings (of the result and of
 * each point): the same points, same seeds, same numbers, to the last bit. */
static void
assert_same_result (JsonObject *a,
                    JsonObject *b)
{
  g_autoptr(GList) ma = json_object_get_members (a);
  g_autoptr(GList) mb = json_object_get_members (b);
  GList *la, *lb;

  for (la = ma, lb = mb; la != NULL && lb != NULL; la = la->next, lb = lb->next)
    {
      const char *name = la->data;

      g_assert_cmpstr (name, ==, lb->data);
      if (is_timing (name))
        continue;
      if (strcmp (name, "points") == 0)
        {
          JsonArray *pa = json_object_get_array_member (a, name);
          JsonArray *pb = json_object_get_array_member (b, name);

          g_assert_cmpuint (json_array_get_length (pa), ==, json_array_get_length (pb));
          for (guint k = 0; k < json_array_get_length (pa); k++)
            assert_same_result (json_array_get_object_element (pa, k),
                                json_array_get_object_element (pb, k));
          continue;
        }
      if (!json_node_equal (json_object_get_member (a, name), json_object_get_member (b, name)))
        {
          g_autofree char *va = json_to_string (json_object_get_member (a, name), FALSE);
          g_autofree char *vb = json_to_string (json_object_get_member (b, name), FALSE);

          g_test_message ("“%s”: %s ≠ %s", name, va, vb);
          g_test_fail ();
        }
    }
  g_assert_null (la);
  g_assert_null (lb);
}

/* The whole run of @args, then N shards of it saved and merged: the same result. */
static void
check_shards_merge (const char * const *args,
                    guint               n_shards,
                    guint               n_points)
{
  g_autofree char *whole_text = run_ok (args, "--json", NULL);
  g_autoptr(JsonObject) whole = pl_test_parse_json (whole_text);
  g_autoptr(JsonObject) merged = NULL;
  g_autoptr(GPtrArray) merge_args = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *merged_text = NULL;
  guint n_shard_points = 0;

  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (whole, "points")), ==, n_points);
  g_ptr_array_add (merge_args, g_strdup ("merge"));
  g_ptr_array_add (merge_args, g_strdup ("--json"));
  for (guint i = 0; i < n_shards; i++)
    {
      g_autofree char *shard = g_strdup_printf ("%u/%u", i, n_shards);
      g_autofree char *name = g_strdup_printf ("shard-%u.json", i);
      g_autofree char *path = path_in (name);
      g_autofree char *out = run_ok (args, "--json", "--shard", shard, NULL);
      g_autoptr(JsonObject) o = pl_test_parse_json (out);

      /* each shard holds only its part */
      n_shard_points += json_array_get_length (json_object_get_array_member (o, "points"));
      g_assert_true (json_object_has_member (o, "grid"));
      g_assert_true (g_file_set_contents (path, out, -1, NULL));
      g_ptr_array_add (merge_args, g_steal_pointer (&path));
    }
  g_assert_cmpuint (n_shard_points, ==, n_points);
  /* the order of the files does not matter */
  if (merge_args->len > 3)
    {
      gpointer t = merge_args->pdata[2];

      merge_args->pdata[2] = merge_args->pdata[3];
      merge_args->pdata[3] = t;
    }
  g_ptr_array_add (merge_args, NULL);
  merged_text = run_ok ((const char * const *) merge_args->pdata, NULL);
  merged = pl_test_parse_json (merged_text);
  assert_same_result (whole, merged);
}

static void
test_sweep_shards (void)
{
  const char *args[] = { "sweep", "--model", spiral_model (), "--data", DATA, "--score",
                         "magnitude,random,taylor", "--seeds", "2", "--points", "5", NULL };

  /* 3 scores × 2 seeds, each a preview over 5 levels */
  check_shards_merge (args, 4, 30);
}

static void
test_sweep_fine_tuned_shards (void)
{
  const char *args[] = { "sweep", "--model", spiral_model (), "--data", DATA, "--score",
                         "magnitude,random", "--seeds", "2", "--points", "3",
                         "--fine-tune-epochs", "1", "--lr", "0.05", NULL };

  /* 2 × 2 × 3 grid points of one level each, over 5 shards (one of them gets 2) */
  check_shards_merge (args, 5, 12);
}

static void
test_schedule_shards (void)
{
  const char *args[] = { "schedule", "--model", spiral_model (), "--data", DATA, "--method",
                         "oneshot,iterative,l1", "--seeds", "2", "--sparsity", "0.5,0.8",
                         "--rounds", "2", "--round-epochs", "1", "--epochs", "1", "--lr", "0.05",
                         "--batch", "32", NULL };

  /* 3 methods × 2 seeds; oneshot and l1: dense + 2 targets, iterative: dense + 2 rounds */
  check_shards_merge (args, 4, 18);
}

static void
test_print_grid (void)
{
  const char *args[] = { "sweep", "--model", spiral_model (), "--data", DATA, "--score",
                         "magnitude,random", "--seeds", "3", "--points", "4", "--fine-tune-epochs", "1",
                         NULL };
  g_autofree char *all = run_ok (args, "--print-grid", NULL);
  g_autofree char *one = run_ok (args, "--print-grid", "--shard", "1/5", NULL);
  g_auto(GStrv) lines = g_strsplit (all, "\n", -1);
  g_auto(GStrv) shard_lines = g_strsplit (one, "\n", -1);

  /* scores × seeds × levels, one line each and an empty end */
  g_assert_cmpuint (g_strv_length (lines), ==, 2 * 3 * 4 + 1);
  g_assert_cmpstr (lines[0], ==, "0\tmagnitude seed 0 level 0 target 0");
  g_assert_true (g_str_has_prefix (lines[5], "5\tmagnitude seed 1 level 1 target 0.78"));
  g_assert_true (g_str_has_prefix (lines[12], "12\trandom seed 0 level 0"));
  /* shard 1/5: 1, 6, 11, 16, 21 */
  g_assert_cmpuint (g_strv_length (shard_lines), ==, 5 + 1);
  g_assert_cmpstr (shard_lines[1], ==, lines[6]);
  g_assert_cmpstr (shard_lines[4], ==, lines[21]);
}

static guint
count_results (const char *dir)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;
  guint n = 0;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    n += name[0] != '.' && !g_str_has_prefix (name, "grid-") && g_str_has_suffix (name, ".json");
  return n;
}

static void
test_killed_run_resumes (void)
{
  const char *args[] = { "sweep", "--model", spiral_model (), "--data", DATA, "--score",
                         "magnitude,taylor", "--seeds", "2", "--points", "8",
                         "--fine-tune-epochs", "10", "--lr", "0.05", "--batch", "16", NULL };
  g_autofree char *dir = path_in ("killed");
  g_autofree char *whole_text = run_ok (args, "--json", NULL);
  g_autoptr(JsonObject) whole = pl_test_parse_json (whole_text);
  g_autoptr(JsonObject) resumed = NULL;
  g_autoptr(JsonObject) merged = NULL;
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) proc = NULL;
  g_autoptr(GDataInputStream) err = NULL;
  g_autofree char *resumed_text = NULL;
  g_autofree char *merged_text = NULL;
  const char *merge_args[] = { "merge", "--json", dir, NULL };
  guint done = 0, saved;

  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_insert (argv, 0, (gpointer) cli_path);
  g_ptr_array_add (argv, (gpointer) "--results-dir");
  g_ptr_array_add (argv, dir);
  g_ptr_array_add (argv, NULL);

  /* start the run, and kill it (SIGKILL: no chance to clean up) after two points */
  proc = g_subprocess_newv ((const char * const *) argv->pdata,
                            G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_PIPE, &error);
  g_assert_no_error (error);
  err = g_data_input_stream_new (g_subprocess_get_stderr_pipe (proc));
  while (done < 2)
    {
      g_autofree char *line = g_data_input_stream_read_line_utf8 (err, NULL, NULL, &error);

      g_assert_no_error (error);
      g_assert_nonnull (line);
      done += strstr (line, "test accuracy") != NULL;
    }
  g_subprocess_send_signal (proc, SIGKILL);
  g_subprocess_wait (proc, NULL, &error);
  g_assert_no_error (error);
  g_assert_false (g_subprocess_get_if_exited (proc));

  /* some points were saved, not all */
  saved = count_results (dir);
  g_test_message ("%u of 32 grid points saved before the kill", saved);
  g_assert_cmpuint (saved, >=, 2);
  g_assert_cmpuint (saved, <, 32);

  /* resumed: the rest is done, and the result is the whole run's */
  resumed_text = run_ok (args, "--json", "--results-dir", dir, NULL);
  resumed = pl_test_parse_json (resumed_text);
  assert_same_result (whole, resumed);
  g_assert_cmpuint (count_results (dir), ==, 32);
  /* and so is the folder's merge */
  merged_text = run_ok (merge_args, NULL);
  merged = pl_test_parse_json (merged_text);
  assert_same_result (whole, merged);
}

/* A schedule resumed from a folder that one shard filled: the rest is run, the result is the
 * whole run's; the grid is methods × seeds, one grid point per run. */
static void
test_schedule_resumes (void)
{
  const char *args[] = { "schedule", "--model", spiral_model (), "--data", DATA, "--method",
                         "oneshot,gradual", "--seeds", "2", "--sparsity", "0.5,0.9", "--epochs", "1",
                         "--lr", "0.05", "--batch", "32", NULL };
  g_autofree char *dir = path_in ("schedule-results");
  g_autofree char *whole_text = run_ok (args, "--json", NULL);
  g_autofree char *grid = run_ok (args, "--print-grid", NULL);
  g_autofree char *half = run_ok (args, "--json", "--shard", "1/2", "--results-dir", dir, NULL);
  g_autofree char *resumed_text = NULL;
  g_autoptr(JsonObject) whole = pl_test_parse_json (whole_text);
  g_autoptr(JsonObject) resumed = NULL;
  g_autoptr(JsonObject) first = pl_test_parse_json (half);

  g_assert_cmpstr (grid, ==, "0\toneshot seed 0\n1\toneshot seed 1\n2\tgradual seed 0\n3\tgradual seed 1\n");
  /* shard 1/2: oneshot seed 1 and gradual seed 1, 3 points each */
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (first, "points")), ==, 6);
  g_assert_cmpuint (count_results (dir), ==, 2);
  resumed_text = run_ok (args, "--json", "--results-dir", dir, NULL);
  resumed = pl_test_parse_json (resumed_text);
  assert_same_result (whole, resumed);
  g_assert_cmpuint (count_results (dir), ==, 4);
}

static void
test_merge_refuses (void)
{
  const char *two[] = { "sweep", "--model", spiral_model (), "--data", DATA, "--score",
                        "magnitude", "--seeds", "2", "--points", "3", NULL };
  const char *three[] = { "sweep", "--model", spiral_model (), "--data", DATA, "--score",
                          "magnitude", "--seeds", "3", "--points", "3", NULL };
  g_autofree char *a = path_in ("grid-a-0.json");
  g_autofree char *b = path_in ("grid-b-1.json");
  g_autofree char *a1 = path_in ("grid-a-1.json");
  g_autofree char *cut = path_in ("cut.json");
  g_autofree char *out_a = run_ok (two, "--json", "--shard", "0/2", NULL);
  g_autofree char *out_a1 = run_ok (two, "--json", "--shard", "1/2", NULL);
  g_autofree char *out_b = run_ok (three, "--json", "--shard", "1/2", NULL);
  g_autofree char *whole = run_ok (two, "--json", NULL);

  g_assert_true (g_file_set_contents (a, out_a, -1, NULL));
  g_assert_true (g_file_set_contents (a1, out_a1, -1, NULL));
  g_assert_true (g_file_set_contents (b, out_b, -1, NULL));
  g_assert_true (g_file_set_contents (cut, out_a1, (gssize) strlen (out_a1) / 2, NULL));

  /* shards of two grids: the second file named, and what differs */
  {
    g_auto(PlTestRun) r = { 0 };

    pl_test_run_cli (&r, cli_path, "merge", "--json", a, b, NULL);
    g_assert_cmpint (r.status, ==, 1);
    g_assert_cmpstr (r.out, ==, "");
    g_assert_nonnull (strstr (r.err, b));
    g_assert_nonnull (strstr (r.err, "another grid"));
    g_assert_nonnull (strstr (r.err, "“seeds” is 2 there, 3 here"));
  }
  /* a shard cut in the middle (a full disk, a copy that stopped) */
  {
    g_auto(PlTestRun) r = { 0 };

    pl_test_run_cli (&r, cli_path, "merge", "--json", a, cut, NULL);
    g_assert_cmpint (r.status, ==, 1);
    g_assert_nonnull (strstr (r.err, cut));
    g_assert_nonnull (strstr (r.err, "not a result of prunelab-cli"));
  }
  /* the whole run's output has no grid */
  {
    g_auto(PlTestRun) r = { 0 };
    g_autofree char *w = path_in ("whole.json");

    g_assert_true (g_file_set_contents (w, whole, -1, NULL));
    pl_test_run_cli (&r, cli_path, "merge", w, NULL);
    g_assert_cmpint (r.status, ==, 1);
    g_assert_nonnull (strstr (r.err, "it has no “grid”"));
  }
  /* a shard missing */
  {
    g_auto(PlTestRun) r = { 0 };

    pl_test_run_cli (&r, cli_path, "merge", "--json", a, NULL);
    g_assert_cmpint (r.status, ==, 1);
    g_assert_nonnull (strstr (r.err, "1 of the 2 grid points"));
    g_assert_nonnull (strstr (r.err, "magnitude seed 1"));
  }
  /* nothing to merge: usage */
  {
    g_auto(PlTestRun) r = { 0 };

    pl_test_run_cli (&r, cli_path, "merge", NULL);
    g_assert_cmpint (r.status, ==, 2);
  }
  /* and both halves of one grid merge */
  {
    g_auto(PlTestRun) r = { 0 };
    g_autoptr(JsonObject) w = pl_test_parse_json (whole);
    g_autoptr(JsonObject) m = NULL;

    pl_test_run_cli (&r, cli_path, "merge", "--json", a1, a, NULL);
    g_assert_cmpint (r.status, ==, 0);
    m = pl_test_parse_json (r.out);
    assert_same_result (w, m);
  }
}

/* The README's recipes: parallel prunelab-cli sweep … --shard {}/4 on one machine, and with
 * --sshloginfile --workdir across machines (here the one login GNU parallel gives the local
 * computer, “:”, through its ssh login machinery; the hosts of a real file need ssh). */
static void
run_gnu_parallel (gboolean ssh)
{
  g_autofree char *parallel = g_find_program_in_path ("parallel");
  const char *args[] = { "sweep", "--model", spiral_model (), "--data", DATA, "--score",
                         "magnitude,random", "--seeds", "2", "--points", "4", NULL };
  g_autofree char *whole_text = NULL;
  g_autofree char *merged_text = NULL;
  g_autofree char *out_pattern = path_in (ssh ? "ssh-{}.json" : "parallel-{}.json");
  g_autofree char *dir = path_in (ssh ? "ssh-results" : "parallel-results");
  g_autofree char *hosts = path_in ("hosts.txt");
  g_autofree char *login = NULL;
  g_autofree char *command = NULL;
  g_autoptr(JsonObject) whole = NULL;
  g_autoptr(JsonObject) merged = NULL;
  g_autofree char *std_out = NULL;
  g_autofree char *std_err = NULL;
  g_autoptr(GError) error = NULL;
  int status;

  if (parallel == NULL)
    {
      g_test_skip ("GNU parallel is not installed (Debian: apt-get install parallel)");
      return;
    }
  whole_text = run_ok (args, "--json", NULL);
  whole = pl_test_parse_json (whole_text);

  /* as a user types it: parallel runs each job through the shell */
  g_assert_true (g_file_set_contents (hosts, "2/:\n", -1, NULL));
  login = ssh ? g_strdup_printf ("--sshloginfile %s --workdir %s", hosts, work_dir) : g_strdup ("-j 2");
  command = g_strdup_printf ("%s --will-cite --halt now,fail=1 %s %s sweep --model %s --data %s "
                             "--score magnitude,random --seeds 2 --points 4 --results-dir %s "
                             "--shard {}/4 --json '>' %s ::: 0 1 2 3",
                             parallel, login, cli_path, spiral_model (), DATA, dir, out_pattern);
  {
    const char *argv[] = { "/bin/sh", "-c", command, NULL };

    g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &std_out, &std_err,
                  &status, &error);
  }
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, NULL))
    g_test_message ("parallel: %s", std_err);
  g_assert_true (g_spawn_check_wait_status (status, NULL));

  {
    const char *prefix = ssh ? "ssh" : "parallel";
    g_autofree char *n0 = g_strdup_printf ("%s-0.json", prefix);
    g_autofree char *n1 = g_strdup_printf ("%s-1.json", prefix);
    g_autofree char *n2 = g_strdup_printf ("%s-2.json", prefix);
    g_autofree char *n3 = g_strdup_printf ("%s-3.json", prefix);
    g_autofree char *s0 = path_in (n0);
    g_autofree char *s1 = path_in (n1);
    g_autofree char *s2 = path_in (n2);
    g_autofree char *s3 = path_in (n3);
    const char *merge_args[] = { "merge", "--json", s0, s1, s2, s3, NULL };

    merged_text = run_ok (merge_args, NULL);
    merged = pl_test_parse_json (merged_text);
    assert_same_result (whole, merged);
  }
  /* the results folder they shared merges the same */
  {
    const char *merge_args[] = { "merge", "--json", dir, NULL };
    g_autofree char *text = run_ok (merge_args, NULL);
    g_autoptr(JsonObject) o = pl_test_parse_json (text);

    assert_same_result (whole, o);
  }
}

static void
test_gnu_parallel (void)
{
  run_gnu_parallel (FALSE);
}

static void
test_gnu_parallel_sshlogin (void)
{
  run_gnu_parallel (TRUE);
}

int
main (int    argc,
      char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);
  g_test_summary ("prunelab-cli sweep and schedule in shards, resumed, merged");

  cli_path = g_getenv ("PRUNELAB_CLI");
  if (cli_path == NULL)
    {
      g_printerr ("PRUNELAB_CLI is not set; run through meson test\n");
      return 77;
    }
  work_dir = g_dir_make_tmp ("pl-cli-shards-XXXXXX", NULL);

  g_test_add_func ("/cli/shards/sweep/merged-equals-whole-run", test_sweep_shards);
  g_test_add_func ("/cli/shards/sweep-fine-tuned/merged-equals-whole-run", test_sweep_fine_tuned_shards);
  g_test_add_func ("/cli/shards/schedule/merged-equals-whole-run", test_schedule_shards);
  g_test_add_func ("/cli/shards/print-grid/lists-points-in-order", test_print_grid);
  g_test_add_func ("/cli/shards/results-dir/killed-run-resumes-identically", test_killed_run_resumes);
  g_test_add_func ("/cli/shards/results-dir/schedule-resumes-from-a-shard", test_schedule_resumes);
  g_test_add_func ("/cli/shards/merge/refuses-mixed-grids-and-damaged-files", test_merge_refuses);
  g_test_add_func ("/cli/shards/gnu-parallel/readme-recipe", test_gnu_parallel);
  g_test_add_func ("/cli/shards/gnu-parallel/sshloginfile-recipe", test_gnu_parallel_sshlogin);

  status = g_test_run ();

  remove_tree (work_dir);
  g_free (work_dir);
  g_free (model_path);
  return status;
}
