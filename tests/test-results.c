/* engine/pl-results: the grid's keys, a results folder, shards and their merge */
#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "pl-error.h"
#include "pl-results.h"
#include "pl-test-util.h"

static PlGrid *
make_grid (const char *identity,
           guint       n_seeds,
           gint64      seeds_in_head)
{
  g_autoptr(JsonObject) head = json_object_new ();
  g_autoptr(JsonObject) tail = json_object_new ();
  g_autoptr(GPtrArray) labels = g_ptr_array_new_with_free_func (g_free);

  json_object_set_string_member (head, "command", "schedule");
  json_object_set_int_member (head, "seeds", seeds_in_head);
  json_object_set_int_member (tail, "threads", 1);
  for (guint s = 0; s < n_seeds; s++)
    g_ptr_array_add (labels, g_strdup_printf ("oneshot seed %u", s));
  return pl_grid_new ("schedule", identity, (const char * const *) labels->pdata, labels->len,
                      head, tail);
}

/* The keys and the id are the SHA-256 of the text pl-results.h gives, as sha256sum(1) prints it:
 *   printf 'prunelab-point 1\nmodel 00\npoint oneshot seed 0\n' | sha256sum
 *   printf 'prunelab-grid 1\nschedule\nmodel 00\noneshot seed 0\noneshot seed 1\n' | sha256sum */
static void
test_keys (void)
{
  g_autoptr(PlGrid) grid = make_grid ("model 00\n", 2, 2);
  g_autoptr(PlGrid) other = make_grid ("model 01\n", 2, 2);
  g_autoptr(PlGrid) more = make_grid ("model 00\n", 3, 3);

  g_assert_cmpstr (grid->keys[0], ==, "f73119be845a659836c9a7c87dc0694973deb6de508704b50b60a0853eb4cecc");
  g_assert_cmpstr (grid->id, ==, "c15d0ef0addfceb45cb0298239bd82eacad7e96d50fe5513b42d8d8ad4b26233");
  /* another model: other keys; more seeds: the same keys for the same points, another grid */
  g_assert_cmpstr (other->keys[0], !=, grid->keys[0]);
  g_assert_cmpstr (more->keys[1], ==, grid->keys[1]);
  g_assert_cmpstr (more->id, !=, grid->id);
}

static void
test_shard_parse (void)
{
  const char *bad[] = { "", "1", "2/2", "-1/2", "0/0", "a/b", "0/2/3", "1 /2", "0/2000000" };
  guint i, n;

  g_assert_true (pl_shard_parse ("0/1", &i, &n, NULL));
  g_assert_cmpuint (i, ==, 0);
  g_assert_cmpuint (n, ==, 1);
  g_assert_true (pl_shard_parse ("31/32", &i, &n, NULL));
  g_assert_cmpuint (i, ==, 31);
  g_assert_cmpuint (n, ==, 32);
  for (guint k = 0; k < G_N_ELEMENTS (bad); k++)
    {
      g_autoptr(GError) error = NULL;

      g_assert_false (pl_shard_parse (bad[k], &i, &n, &error));
      g_assert_error (error, PL_SPEC_ERROR, PL_SPEC_ERROR_INVALID);
      g_assert_nonnull (strstr (error->message, bad[k]));
    }
}

static JsonArray *
points_of (guint seed)
{
  JsonArray *a = json_array_new ();

  for (guint l = 0; l < 2; l++)
    {
      JsonObject *p = json_object_new ();

      json_object_set_string_member (p, "method", "oneshot");
      json_object_set_string_member (p, "score", "oneshot");
      json_object_set_int_member (p, "seed", seed);
      json_object_set_int_member (p, "level", l);
      json_object_set_double_member (p, "param", 0.5 * l);
      json_object_set_double_member (p, "sparsity", 0.5 * l);
      json_object_set_double_member (p, "test_accuracy", 0.9 - 0.125 * l);
      json_object_set_double_member (p, "test_loss", 0.3);
      json_object_set_null_member (p, "val_accuracy");
      json_array_add_object_element (a, p);
    }
  return a;
}

static void
test_folder_round_trip (void)
{
  g_autofree char *dir = g_dir_make_tmp ("pl-results-XXXXXX", NULL);
  g_autofree char *sub = g_build_filename (dir, "results", NULL);
  g_autoptr(PlGrid) grid = make_grid ("model 00\n", 3, 3);
  g_autoptr(PlMerge) merge = pl_merge_new ();
  g_autoptr(GError) error = NULL;
  JsonArray *loaded = NULL;
  double seconds = -1;

  g_assert_true (pl_results_save_grid (sub, grid, &error));
  g_assert_no_error (error);
  /* nothing saved yet: no points, no error */
  g_assert_true (pl_results_load_point (sub, grid, 1, &loaded, &seconds, &error));
  g_assert_null (loaded);
  for (guint s = 0; s < 3; s++)
    {
      g_autoptr(JsonArray) p = points_of (s);

      g_assert_true (pl_results_save_point (sub, grid, s, p, 1.5 + s, &error));
    }
  g_assert_true (pl_results_load_point (sub, grid, 1, &loaded, &seconds, &error));
  g_assert_nonnull (loaded);
  g_assert_cmpfloat (seconds, ==, 2.5);
  {
    g_autoptr(JsonArray) expected = points_of (1);
    g_autoptr(JsonNode) a = json_node_init_array (json_node_alloc (), expected);
    g_autoptr(JsonNode) b = json_node_init_array (json_node_alloc (), loaded);

    g_assert_true (json_node_equal (a, b));
  }
  json_array_unref (loaded);

  /* the folder merges whole */
  g_assert_true (pl_merge_add (merge, sub, &error));
  g_assert_no_error (error);
  g_assert_true (pl_merge_check_complete (merge, &error));
  g_assert_cmpfloat (pl_merge_get_seconds (merge), ==, 1.5 + 2.5 + 3.5);
  g_assert_cmpuint (json_array_get_length (pl_merge_get_points (merge, 2)), ==, 2);

  /* a point file in another's place is refused, naming it */
  {
    g_autofree char *p0 = g_strdup_printf ("%s/%s.json", sub, grid->keys[0]);
    g_autofree char *p1 = g_strdup_printf ("%s/%s.json", sub, grid->keys[1]);

    g_assert_cmpint (g_rename (p0, p1), ==, 0);
    g_assert_false (pl_results_load_point (sub, grid, 1, &loaded, &seconds, &error));
    g_assert_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_BAD_HEADER);
    g_assert_nonnull (strstr (error->message, p1));
    g_assert_nonnull (strstr (error->message, "oneshot seed 0"));
    g_clear_error (&error);
  }
  /* two grids in one folder: name one */
  {
    g_autoptr(PlGrid) other = make_grid ("model 01\n", 1, 1);
    g_autoptr(PlMerge) m = pl_merge_new ();

    g_assert_true (pl_results_save_grid (sub, other, NULL));
    g_assert_false (pl_merge_add (m, sub, &error));
    g_assert_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_MISMATCH);
    g_assert_nonnull (strstr (error->message, "holds 2 grids"));
    g_clear_error (&error);
  }
  pl_test_remove_tree (dir);
}

static char *
shard_text (const PlGrid *grid,
            guint         shard,
            guint         shards)
{
  g_autoptr(JsonObject) root = json_object_new ();
  g_autoptr(JsonNode) node = json_node_new (JSON_NODE_OBJECT);
  g_autofree guint *done = g_new0 (guint, grid->size);
  g_autofree guint *counts = g_new0 (guint, grid->size);
  g_autofree double *seconds = g_new0 (double, grid->size);
  JsonArray *points = json_array_new ();
  guint n = 0;

  for (guint i = shard; i < grid->size; i += shards)
    {
      g_autoptr(JsonArray) p = points_of (i);

      for (guint k = 0; k < json_array_get_length (p); k++)
        json_array_add_element (points, json_node_copy (json_array_get_element (p, k)));
      done[n] = i;
      counts[n] = json_array_get_length (p);
      seconds[n++] = 1;
    }
  json_object_set_array_member (root, "points", points);
  json_object_set_object_member (root, "grid", pl_shard_to_json (grid, shard, shards, done, counts,
                                                                 seconds, n));
  json_node_set_object (node, root);
  return json_to_string (node, FALSE);
}

static void
test_merge_shards (void)
{
  g_autoptr(PlGrid) grid = make_grid ("model 00\n", 5, 5);
  g_autoptr(PlGrid) other = make_grid ("model 00\n", 4, 4);
  g_autoptr(PlGrid) moved = make_grid ("model 01\n", 5, 5);
  g_autoptr(PlMerge) merge = pl_merge_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *s0 = shard_text (grid, 0, 2);
  g_autofree char *s1 = shard_text (grid, 1, 2);
  g_autofree char *o1 = shard_text (other, 1, 2);
  g_autofree char *m1 = shard_text (moved, 1, 2);

  g_assert_true (pl_merge_add_data (merge, s1, strlen (s1), "s1.json", &error));
  g_assert_false (pl_merge_check_complete (merge, &error));
  g_assert_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_MISMATCH);
  g_assert_nonnull (strstr (error->message, "3 of the 5 grid points"));
  g_assert_nonnull (strstr (error->message, "0 (oneshot seed 0), 2 (oneshot seed 2)"));
  g_clear_error (&error);

  g_assert_false (pl_merge_add_data (merge, o1, strlen (o1), "o1.json", &error));
  g_assert_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_MISMATCH);
  g_assert_nonnull (strstr (error->message, "“o1.json”: a piece of another grid than “s1.json”"));
  g_assert_nonnull (strstr (error->message, "“seeds” is 5 there, 4 here"));
  g_clear_error (&error);

  /* the same settings shown, another model file */
  g_assert_false (pl_merge_add_data (merge, m1, strlen (m1), "m1.json", &error));
  g_assert_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_MISMATCH);
  g_assert_nonnull (strstr (error->message, "another model file, data or setting"));
  g_clear_error (&error);

  g_assert_true (pl_merge_add_data (merge, s0, strlen (s0), "s0.json", &error));
  g_assert_true (pl_merge_check_complete (merge, &error));
  for (guint i = 0; i < 5; i++)
    g_assert_cmpint (json_array_get_object_element (pl_merge_get_points (merge, i), 0) != NULL, ==, TRUE);
  g_assert_cmpint (json_object_get_int_member (json_array_get_object_element (pl_merge_get_points (merge, 3), 1),
                                               "seed"), ==, 3);
}

static gboolean
read_shard_file (const char  *path,
                 GError     **error)
{
  g_autoptr(PlMerge) merge = pl_merge_new ();

  return pl_merge_add (merge, path, error);
}

int
main (int    argc,
      char **argv)
{
  const char *suffixes[] = { ".json", NULL };

  g_test_init (&argc, &argv, NULL);
  g_test_summary ("Grid keys, results folders, shard outputs and their merge");

  g_test_add_func ("/engine/results/keys-are-sha256-of-the-documented-text", test_keys);
  g_test_add_func ("/engine/results/shard-parse", test_shard_parse);
  g_test_add_func ("/engine/results/folder/round-trip-and-refusals", test_folder_round_trip);
  g_test_add_func ("/engine/results/merge/shards-and-other-grids", test_merge_shards);
  pl_test_add_bad_file_tests ("shard-", suffixes, "/engine/results/bad/", read_shard_file);

  return g_test_run ();
}
