#define G_LOG_DOMAIN "fuzz-shard"

#include "config.h"

#include <string.h>

#include "pl-error.h"
#include "pl-fuzz.h"
#include "pl-results.h"

/* The reader of prunelab-cli merge as a user reaches it: pl_merge_add () of a file, which is a
 * shard output (the result of a run with --shard) or a results folder's grid file. The input
 * is the file; a second pass adds it again to a merge that holds a valid grid, as a merge of
 * several shards does.
 *
 * Checked: a rejection is a PL_FORMAT_ERROR naming the file (pl_fuzz_loaded). An accepted
 * file gives a grid of 1 to PL_GRID_MAX_POINTS points with a label and a 64-digit key each,
 * every grid point it holds an array of objects, and a completeness check that either passes
 * or names the file. */

static void
check_merge (PlMerge    *merge,
             const char *path)
{
  const PlGrid *grid = pl_merge_get_grid (merge);
  g_autoptr(GError) error = NULL;

  PL_FUZZ_CHECK (grid != NULL, "accepted, no grid");
  PL_FUZZ_CHECK (grid->size >= 1 && grid->size <= PL_GRID_MAX_POINTS, "%u grid points", grid->size);
  for (guint i = 0; i < grid->size; i++)
    {
      JsonArray *points = pl_merge_get_points (merge, i);

      PL_FUZZ_CHECK (grid->labels[i] != NULL && grid->labels[i][0] != '\0', "label %u empty", i);
      PL_FUZZ_CHECK (grid->keys[i] != NULL && strlen (grid->keys[i]) == 64, "key %u", i);
      for (guint k = 0; points != NULL && k < json_array_get_length (points); k++)
        PL_FUZZ_CHECK (JSON_NODE_HOLDS_OBJECT (json_array_get_element (points, k)),
                       "point %u of %u is not an object", k, i);
    }
  if (!pl_merge_check_complete (merge, &error))
    {
      PL_FUZZ_CHECK (error->domain == PL_FORMAT_ERROR, "incomplete: %s", error->message);
      pl_fuzz_check_error (error, path, NULL);
    }
}

/* A shard output as a sweep writes it: the head, its points, the grid. (transfer full) */
static char *
make_shard (guint shard,
            guint shards,
            guint n_seeds)
{
  g_autoptr(JsonObject) head = json_object_new ();
  g_autoptr(JsonObject) tail = json_object_new ();
  g_autoptr(JsonObject) root = json_object_new ();
  g_autoptr(PlGrid) grid = NULL;
  g_autoptr(GPtrArray) labels = g_ptr_array_new_with_free_func (g_free);
  g_autofree guint *done = g_new0 (guint, n_seeds);
  g_autofree guint *counts = g_new0 (guint, n_seeds);
  g_autofree double *seconds = g_new0 (double, n_seeds);
  JsonArray *points = json_array_new ();
  g_autoptr(JsonNode) node = json_node_new (JSON_NODE_OBJECT);
  guint n_done = 0;

  json_object_set_string_member (head, "command", "sweep");
  json_object_set_string_member (head, "data", "spiral");
  json_object_set_int_member (head, "seeds", n_seeds);
  json_object_set_int_member (tail, "threads", 1);
  for (guint s = 0; s < n_seeds; s++)
    g_ptr_array_add (labels, g_strdup_printf ("magnitude seed %u levels 2 max 0.9", s));
  grid = pl_grid_new ("sweep", "model 00\ndata spiral 00\nsettings --lr=0.01\n",
                      (const char * const *) labels->pdata, labels->len, head, tail);

  json_object_set_string_member (root, "command", "sweep");
  json_object_set_boolean_member (root, "interrupted", FALSE);
  for (guint s = 0; s < n_seeds; s++)
    {
      if (s % shards != shard)
        continue;
      for (guint l = 0; l < 2; l++)
        {
          JsonObject *p = json_object_new ();
          JsonArray *layers = json_array_new ();

          json_object_set_string_member (p, "score", "magnitude");
          json_object_set_int_member (p, "seed", s);
          json_object_set_double_member (p, "target_sparsity", 0.9 * l);
          json_object_set_double_member (p, "sparsity", 0.9 * l);
          json_object_set_double_member (p, "structural_sparsity", 0);
          json_object_set_double_member (p, "test_accuracy", 0.9 - 0.1 * l);
          json_object_set_null_member (p, "test_loss");
          json_array_add_double_element (layers, 0.5);
          json_object_set_array_member (p, "layer_sparsity", layers);
          json_array_add_object_element (points, p);
        }
      done[n_done] = s;
      counts[n_done] = 2;
      seconds[n_done++] = 0.25;
    }
  json_object_set_array_member (root, "points", points);
  json_object_set_double_member (root, "seconds", 1.5);
  json_object_set_object_member (root, "grid", pl_shard_to_json (grid, shard, shards, done, counts,
                                                                 seconds, n_done));
  json_node_set_object (node, root);
  return json_to_string (node, TRUE);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autofree char *path = pl_fuzz_write ("shard.json", data, size);
  g_autofree char *valid = make_shard (0, 2, 3);
  g_autoptr(PlMerge) merge = pl_merge_new ();
  g_autoptr(PlMerge) second = pl_merge_new ();
  g_autoptr(GError) error = NULL;

  gboolean ok = pl_merge_add (merge, path, &error);

  if (pl_fuzz_loaded (ok ? merge : NULL, error, path))
    check_merge (merge, path);
  g_clear_error (&error);

  /* after a valid shard */
  if (!pl_merge_add_data (second, valid, strlen (valid), "first.json", &error))
    pl_fuzz_fail ("the valid shard is refused: %s", error->message);
  ok = pl_merge_add (second, path, &error);
  pl_fuzz_loaded (ok ? second : NULL, error, path);
  check_merge (second, "first.json");
  return 0;
}

/* Shard outputs and a grid file from the writers, and the bad files of tests/data/bad. */
void
pl_fuzz_make_seeds (void)
{
  g_auto(GStrv) bad = pl_fuzz_data_files ("bad", "shard-");

  for (guint shard = 0; shard < 2; shard++)
    {
      g_autofree char *text = make_shard (shard, 2, 3);
      g_autofree char *name = g_strdup_printf ("shard-%u-of-2.json", shard);

      pl_fuzz_add_seed (name, text, strlen (text));
    }
  {
    g_autofree char *text = make_shard (0, 1, 1);

    pl_fuzz_add_seed ("shard-whole.json", text, strlen (text));
  }
  {
    g_autoptr(JsonObject) head = json_object_new ();
    g_autoptr(JsonObject) tail = json_object_new ();
    const char *labels[] = { "oneshot seed 0", "oneshot seed 1" };
    g_autoptr(PlGrid) grid = pl_grid_new ("schedule", "model 00\n", labels, 2, head, tail);
    g_autoptr(JsonObject) o = pl_grid_to_json (grid);
    g_autoptr(JsonNode) node = json_node_new (JSON_NODE_OBJECT);
    g_autofree char *text = NULL;

    json_node_set_object (node, o);
    text = json_to_string (node, TRUE);
    pl_fuzz_add_seed ("grid-schedule.json", text, strlen (text));
  }
  for (guint i = 0; bad[i] != NULL; i++)
    {
      g_autoptr(GBytes) bytes = pl_fuzz_read (bad[i]);
      g_autofree char *name = g_path_get_basename (bad[i]);
      gsize len;
      const void *contents = g_bytes_get_data (bytes, &len);

      pl_fuzz_add_seed (name, contents, len);
    }
}
