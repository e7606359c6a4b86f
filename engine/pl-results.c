#define G_LOG_DOMAIN "pl-results"

#include "config.h"

#include "pl-results.h"

#include <errno.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "pl-error.h"
#include "pl-file.h"
#include "pl-json.h"

#define GRID_FORMAT  "prunelab-grid"
#define POINT_FORMAT "prunelab-point"

/* ---- the grid ---------------------------------------------------------------------------- */

static char *
point_key (const char *identity,
           const char *label)
{
  g_autoptr(GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);

  g_checksum_update (sum, (const guchar *) "prunelab-point 1\n", -1);
  g_checksum_update (sum, (const guchar *) identity, -1);
  g_checksum_update (sum, (const guchar *) "point ", -1);
  g_checksum_update (sum, (const guchar *) label, -1);
  g_checksum_update (sum, (const guchar *) "\n", -1);
  return g_strdup (g_checksum_get_string (sum));
}

static char *
grid_id (const char         *command,
         const char         *identity,
         const char * const *labels,
         guint               n)
{
  g_autoptr(GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);

  g_checksum_update (sum, (const guchar *) "prunelab-grid 1\n", -1);
  g_checksum_update (sum, (const guchar *) command, -1);
  g_checksum_update (sum, (const guchar *) "\n", -1);
  g_checksum_update (sum, (const guchar *) identity, -1);
  for (guint i = 0; i < n; i++)
    {
      g_checksum_update (sum, (const guchar *) labels[i], -1);
      g_checksum_update (sum, (const guchar *) "\n", -1);
    }
  return g_strdup (g_checksum_get_string (sum));
}

PlGrid *
pl_grid_new (const char         *command,
             const char         *identity,
             const char * const *labels,
             guint               n_labels,
             JsonObject         *head,
             JsonObject         *tail)
{
  PlGrid *grid;

  g_return_val_if_fail (command != NULL && identity != NULL && labels != NULL, NULL);
  g_return_val_if_fail (n_labels >= 1 && n_labels <= PL_GRID_MAX_POINTS, NULL);
  g_return_val_if_fail (head != NULL && tail != NULL, NULL);

  grid = g_new0 (PlGrid, 1);
  grid->command = g_strdup (command);
  grid->identity = g_strdup (identity);
  grid->size = n_labels;
  grid->labels = g_new0 (char *, n_labels + 1);
  grid->keys = g_new0 (char *, n_labels + 1);
  for (guint i = 0; i < n_labels; i++)
    {
      grid->labels[i] = g_strdup (labels[i]);
      grid->keys[i] = point_key (identity, labels[i]);
    }
  grid->id = grid_id (command, identity, labels, n_labels);
  grid->head = json_object_ref (head);
  grid->tail = json_object_ref (tail);
  return grid;
}

void
pl_grid_free (PlGrid *grid)
{
  if (grid == NULL)
    return;
  g_free (grid->command);
  g_free (grid->identity);
  g_free (grid->id);
  g_strfreev (grid->labels);
  g_strfreev (grid->keys);
  g_clear_pointer (&grid->head, json_object_unref);
  g_clear_pointer (&grid->tail, json_object_unref);
  g_free (grid);
}

static JsonNode *
object_node (JsonObject *object)
{
  JsonNode *node = json_node_new (JSON_NODE_OBJECT);

  json_node_set_object (node, object);
  return node;
}

JsonObject *
pl_grid_to_json (const PlGrid *grid)
{
  JsonObject *o = json_object_new ();
  JsonArray *labels = json_array_sized_new (grid->size);

  g_return_val_if_fail (grid != NULL, o);

  json_object_set_string_member (o, "format", GRID_FORMAT);
  json_object_set_int_member (o, "version", PL_RESULTS_VERSION);
  json_object_set_string_member (o, "id", grid->id);
  json_object_set_string_member (o, "command", grid->command);
  json_object_set_string_member (o, "identity", grid->identity);
  for (guint i = 0; i < grid->size; i++)
    json_array_add_string_element (labels, grid->labels[i]);
  json_object_set_array_member (o, "labels", labels);
  json_object_set_member (o, "head", object_node (grid->head));
  json_object_set_member (o, "tail", object_node (grid->tail));
  return o;
}

/* The grid members of @object, read by @r; @object may have more (a shard's). */
static PlGrid *
grid_read (PlJsonReader  *r,
           JsonObject    *object,
           GError       **error)
{
  const char *format, *command, *identity, *id;
  g_autofree const char **labels = NULL;
  g_autofree char *computed = NULL;
  JsonArray *array;
  JsonObject *head, *tail;
  gint64 version;
  guint n;

  if (!pl_json_get_string (r, object, "format", &format, error))
    return NULL;
  if (strcmp (format, GRID_FORMAT) != 0)
    {
      pl_json_fail (r, error, _("format “%s” is not “%s”"), format, GRID_FORMAT);
      return NULL;
    }
  if (!pl_json_get_int (r, object, "version", 1, G_MAXINT, &version, error))
    return NULL;
  if (version != PL_RESULTS_VERSION)
    {
      pl_json_fail (r, error, _("version %lld is not supported (this program reads version %d)"),
                    (long long) version, PL_RESULTS_VERSION);
      return NULL;
    }
  if (!pl_json_get_string (r, object, "id", &id, error)
      || !pl_json_get_string (r, object, "command", &command, error)
      || !pl_json_get_string (r, object, "identity", &identity, error)
      || (array = pl_json_get_array (r, object, "labels", error)) == NULL
      || (head = pl_json_get_object (r, object, "head", error)) == NULL
      || (tail = pl_json_get_object (r, object, "tail", error)) == NULL)
    return NULL;
  if (strcmp (command, "sweep") != 0 && strcmp (command, "schedule") != 0)
    {
      pl_json_fail (r, error, _("command “%s” is neither sweep nor schedule"), command);
      return NULL;
    }
  n = json_array_get_length (array);
  if (n < 1 || n > PL_GRID_MAX_POINTS)
    {
      pl_json_fail (r, error, _("%u grid points (1 to %d)"), n, PL_GRID_MAX_POINTS);
      return NULL;
    }
  labels = g_new0 (const char *, n + 1);
  for (guint i = 0; i < n; i++)
    {
      JsonNode *node = json_array_get_element (array, i);

      if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING
          || *(labels[i] = json_node_get_string (node)) == '\0' || strchr (labels[i], '\n') != NULL)
        {
          gsize mark = pl_json_enter (r, "labels", 0);
          gsize mark2 = pl_json_enter (r, NULL, i);

          pl_json_fail (r, error, _("a grid point's label is a line of text"));
          pl_json_leave (r, mark2);
          pl_json_leave (r, mark);
          return NULL;
        }
    }
  computed = grid_id (command, identity, labels, n);
  if (strcmp (computed, id) != 0)
    {
      pl_json_fail (r, error, _("the id does not match the grid's contents (the file was edited or damaged)"));
      return NULL;
    }
  return pl_grid_new (command, identity, labels, n, head, tail);
}

PlGrid *
pl_grid_from_json (JsonObject  *object,
                   const char  *file,
                   GError     **error)
{
  PlJsonReader r;
  PlGrid *grid;

  g_return_val_if_fail (object != NULL && file != NULL, NULL);

  pl_json_reader_init (&r, file);
  grid = grid_read (&r, object, error);
  pl_json_reader_clear (&r);
  return grid;
}

gboolean
pl_shard_parse (const char  *text,
                guint       *index,
                guint       *count,
                GError     **error)
{
  g_auto(GStrv) parts = NULL;
  guint64 i, n;

  g_return_val_if_fail (text != NULL && index != NULL && count != NULL, FALSE);

  parts = g_strsplit (text, "/", -1);
  if (g_strv_length (parts) != 2
      || !g_ascii_string_to_unsigned (parts[0], 10, 0, PL_GRID_MAX_POINTS, &i, NULL)
      || !g_ascii_string_to_unsigned (parts[1], 10, 1, PL_GRID_MAX_POINTS, &n, NULL)
      || i >= n)
    {
      g_set_error (error, PL_SPEC_ERROR, PL_SPEC_ERROR_INVALID,
                   _("--shard must be I/N with 0 ≤ I < N ≤ %d, not “%s”"), PL_GRID_MAX_POINTS,
                   text);
      return FALSE;
    }
  *index = (guint) i;
  *count = (guint) n;
  return TRUE;
}

char *
pl_results_hash_file (const char  *path,
                      GError     **error)
{
  g_autoptr(GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  g_autoptr(GMappedFile) file = NULL;

  g_return_val_if_fail (path != NULL, NULL);

  /* (GLib's message names the file) */
  file = g_mapped_file_new (path, FALSE, error);
  if (file == NULL)
    return NULL;
  g_checksum_update (sum, (const guchar *) g_mapped_file_get_contents (file),
                     (gssize) g_mapped_file_get_length (file));
  return g_strdup (g_checksum_get_string (sum));
}

/* ---- files ------------------------------------------------------------------------------- */

/* @object pretty-printed with a final newline, saved atomically. */
static gboolean
save_object (const char  *path,
             JsonObject  *object,
             GError     **error)
{
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  g_autoptr(JsonNode) root = object_node (object);
  g_autofree char *text = NULL;
  g_autofree char *with_newline = NULL;

  json_generator_set_pretty (gen, TRUE);
  json_generator_set_root (gen, root);
  text = json_generator_to_data (gen, NULL);
  with_newline = g_strconcat (text, "\n", NULL);
  return pl_file_save (path, with_newline, strlen (with_newline), error);
}

static gboolean
make_dir (const char  *dir,
          GError     **error)
{
  if (g_mkdir_with_parents (dir, 0777) != 0)
    {
      int saved = errno;

      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved),
                   _("Could not create the folder “%s”: %s"), dir, g_strerror (saved));
      return FALSE;
    }
  return TRUE;
}

gboolean
pl_results_save_grid (const char  *dir,
                      const PlGrid *grid,
                      GError     **error)
{
  g_autofree char *name = NULL;
  g_autofree char *path = NULL;
  g_autoptr(JsonObject) object = NULL;

  g_return_val_if_fail (dir != NULL && grid != NULL, FALSE);

  if (!make_dir (dir, error))
    return FALSE;
  name = g_strdup_printf ("grid-%s.json", grid->id);
  path = g_build_filename (dir, name, NULL);
  object = pl_grid_to_json (grid);
  return save_object (path, object, error);
}

static char *
point_path (const char   *dir,
            const PlGrid *grid,
            guint         index)
{
  g_autofree char *name = g_strdup_printf ("%s.json", grid->keys[index]);

  return g_build_filename (dir, name, NULL);
}

gboolean
pl_results_save_point (const char  *dir,
                       const PlGrid *grid,
                       guint        index,
                       JsonArray   *points,
                       double       seconds,
                       GError     **error)
{
  g_autoptr(JsonObject) o = json_object_new ();
  g_autofree char *path = NULL;

  g_return_val_if_fail (dir != NULL && grid != NULL && index < grid->size, FALSE);
  g_return_val_if_fail (points != NULL, FALSE);

  if (!make_dir (dir, error))
    return FALSE;
  path = point_path (dir, grid, index);
  json_object_set_string_member (o, "format", POINT_FORMAT);
  json_object_set_int_member (o, "version", PL_RESULTS_VERSION);
  json_object_set_string_member (o, "key", grid->keys[index]);
  json_object_set_string_member (o, "label", grid->labels[index]);
  json_object_set_array_member (o, "points", json_array_ref (points));
  json_object_set_double_member (o, "seconds", isfinite (seconds) && seconds >= 0 ? seconds : 0.0);
  return save_object (path, o, error);
}

/* The parsed JSON object of @contents, guarded (pl-json.h). (transfer full) */
static JsonParser *
parse_object (const char  *contents,
              gsize        length,
              const char  *file,
              GError     **error)
{
  g_autoptr(JsonParser) parser = json_parser_new_immutable ();
  g_autoptr(GError) local = NULL;
  const char *problem = NULL;

  if (length > PL_RESULTS_MAX_BYTES)
    {
      g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_TOO_LARGE,
                   _("“%s”: %lu bytes is too large for a result (at most %d)"), file,
                   (unsigned long) length, PL_RESULTS_MAX_BYTES);
      return NULL;
    }
  if (!g_utf8_validate (contents, (gssize) length, NULL) || memchr (contents, '\0', length) != NULL)
    {
      g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_BAD_MAGIC,
                   _("“%s”: not a result of prunelab-cli (not UTF-8 text)"), file);
      return NULL;
    }
  switch (pl_json_check (contents, length, 16, 64 * 1024 * 1024))
    {
    case PL_JSON_OK:
      break;
    case PL_JSON_NOT_JSON:
      problem = _("not JSON");
      break;
    case PL_JSON_TOO_DEEP:
      problem = _("nested too deeply");
      break;
    case PL_JSON_TOO_MANY:
      problem = _("too many values");
      break;
    case PL_JSON_TRAILING:
      problem = _("more than one JSON value");
      break;
    case PL_JSON_BAD_ESCAPE:
    default:
      problem = _("a string escape that is not valid");
      break;
    }
  if (problem == NULL && !json_parser_load_from_data (parser, contents, (gssize) length, &local))
    problem = local->message;
  if (problem == NULL
      && (json_parser_get_root (parser) == NULL || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser))))
    problem = _("not a JSON object");
  if (problem != NULL)
    {
      g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_BAD_MAGIC,
                   _("“%s”: not a result of prunelab-cli: %s"), file, problem);
      return NULL;
    }
  return g_steal_pointer (&parser);
}

static gboolean
holds_number (JsonNode *node)
{
  GType t;

  if (JSON_NODE_HOLDS_NULL (node))
    return TRUE;  /* NaN: JSON has none */
  if (!JSON_NODE_HOLDS_VALUE (node))
    return FALSE;
  t = json_node_get_value_type (node);
  return t == G_TYPE_DOUBLE || t == G_TYPE_INT64;
}

/* Curve point @index of grid point @label: an object whose "score" and "seed" are the label's
 * ("NAME seed S …"), with numbers (or null) where curves are computed from. */
static gboolean
check_curve_point (PlJsonReader  *r,
                   const PlGrid  *grid,
                   const char    *label,
                   JsonNode      *node,
                   GError       **error)
{
  static const char *const numbers[] = { "sparsity", "test_accuracy", "test_loss", NULL };
  static const char *const schedule_numbers[] = { "param", "val_accuracy", NULL };
  g_auto(GStrv) words = g_strsplit (label, " ", 4);
  const char *score;
  JsonObject *o;
  gint64 seed, level;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    {
      pl_json_fail (r, error, _("a curve point is an object"));
      return FALSE;
    }
  o = json_node_get_object (node);
  if (!pl_json_get_string (r, o, "score", &score, error)
      || !pl_json_get_int (r, o, "seed", 0, G_MAXINT64, &seed, error))
    return FALSE;
  if (g_strv_length (words) < 3 || strcmp (words[0], score) != 0 || strcmp (words[1], "seed") != 0
      || g_ascii_strtoll (words[2], NULL, 10) != seed)
    {
      pl_json_fail (r, error, _("a point of %s seed %lld where grid point “%s” belongs"), score,
                    (long long) seed, label);
      return FALSE;
    }
  for (guint k = 0; numbers[k] != NULL; k++)
    {
      JsonNode *v = json_object_get_member (o, numbers[k]);

      if (v == NULL || !holds_number (v))
        {
          pl_json_fail (r, error, _("“%s” is not a number"), numbers[k]);
          return FALSE;
        }
    }
  if (strcmp (grid->command, "schedule") == 0)
    {
      const char *method;

      if (!pl_json_get_string (r, o, "method", &method, error)
          || !pl_json_get_int (r, o, "level", 0, G_MAXINT, &level, error))
        return FALSE;
      if (strcmp (method, score) != 0)
        {
          pl_json_fail (r, error, _("method “%s” and curve “%s” differ"), method, score);
          return FALSE;
        }
      for (guint k = 0; schedule_numbers[k] != NULL; k++)
        {
          JsonNode *v = json_object_get_member (o, schedule_numbers[k]);

          if (v == NULL || !holds_number (v))
            {
              pl_json_fail (r, error, _("“%s” is not a number"), schedule_numbers[k]);
              return FALSE;
            }
        }
    }
  return TRUE;
}

/* Elements @first … @first + @n − 1 of @points, checked, as a new array. (transfer full) */
static JsonArray *
take_points (PlJsonReader  *r,
             const PlGrid  *grid,
             guint          index,
             JsonArray     *points,
             guint          first,
             guint          n,
             GError       **error)
{
  g_autoptr(JsonArray) out = json_array_sized_new (n);

  for (guint k = first; k < first + n; k++)
    {
      JsonNode *node = json_array_get_element (points, k);
      gsize mark = pl_json_enter (r, "points", 0);
      gsize mark2 = pl_json_enter (r, NULL, k);
      gboolean ok = check_curve_point (r, grid, grid->labels[index], node, error);

      pl_json_leave (r, mark2);
      pl_json_leave (r, mark);
      if (!ok)
        return NULL;
      json_array_add_element (out, json_node_copy (node));
    }
  return g_steal_pointer (&out);
}

static gboolean
read_file (const char  *path,
           char       **contents,
           gsize       *length,
           GError     **error)
{
  GStatBuf st;

  if (g_stat (path, &st) == 0 && st.st_size > PL_RESULTS_MAX_BYTES)
    {
      g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_TOO_LARGE,
                   _("“%s”: %lld bytes is too large for a result (at most %d)"), path,
                   (long long) st.st_size, PL_RESULTS_MAX_BYTES);
      return FALSE;
    }
  return g_file_get_contents (path, contents, length, error);
}

gboolean
pl_results_load_point (const char   *dir,
                       const PlGrid *grid,
                       guint         index,
                       JsonArray   **points,
                       double       *seconds,
                       GError      **error)
{
  static const char *known[] = { "format", "version", "key", "label", "points", "seconds", NULL };
  g_autofree char *path = NULL;
  g_autofree char *contents = NULL;
  g_autoptr(JsonParser) parser = NULL;
  g_autoptr(GError) local = NULL;
  JsonObject *o;
  JsonArray *array;
  const char *format, *key, *label;
  gint64 version;
  double s;
  gsize length;
  PlJsonReader r;
  gboolean ok = FALSE;

  g_return_val_if_fail (dir != NULL && grid != NULL && index < grid->size, FALSE);
  g_return_val_if_fail (points != NULL && seconds != NULL, FALSE);

  *points = NULL;
  *seconds = 0.0;
  path = point_path (dir, grid, index);
  if (!read_file (path, &contents, &length, &local))
    {
      if (g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        return TRUE;
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  parser = parse_object (contents, length, path, error);
  if (parser == NULL)
    return FALSE;
  o = json_node_get_object (json_parser_get_root (parser));

  pl_json_reader_init (&r, path);
  if (!pl_json_check_members (&r, o, known, error)
      || !pl_json_get_string (&r, o, "format", &format, error))
    goto out;
  if (strcmp (format, POINT_FORMAT) != 0)
    {
      pl_json_fail (&r, error, _("format “%s” is not “%s”"), format, POINT_FORMAT);
      goto out;
    }
  if (!pl_json_get_int (&r, o, "version", PL_RESULTS_VERSION, PL_RESULTS_VERSION, &version, error)
      || !pl_json_get_string (&r, o, "key", &key, error)
      || !pl_json_get_string (&r, o, "label", &label, error)
      || !pl_json_get_double (&r, o, "seconds", 0, INFINITY, &s, error)
      || (array = pl_json_get_array (&r, o, "points", error)) == NULL)
    goto out;
  if (strcmp (key, grid->keys[index]) != 0 || strcmp (label, grid->labels[index]) != 0)
    {
      pl_json_fail (&r, error, _("holds grid point “%s”, not “%s”"), label, grid->labels[index]);
      goto out;
    }
  *points = take_points (&r, grid, index, array, 0, json_array_get_length (array), error);
  if (*points == NULL)
    goto out;
  *seconds = s;
  ok = TRUE;
out:
  pl_json_reader_clear (&r);
  return ok;
}

JsonObject *
pl_shard_to_json (const PlGrid *grid,
                  guint         shard,
                  guint         shards,
                  const guint  *done,
                  const guint  *n_points,
                  const double *seconds,
                  guint         n_done)
{
  JsonObject *o = pl_grid_to_json (grid);
  JsonArray *list = json_array_sized_new (n_done);

  json_object_set_int_member (o, "shard", shard);
  json_object_set_int_member (o, "shards", shards);
  for (guint k = 0; k < n_done; k++)
    {
      JsonObject *d = json_object_new ();

      json_object_set_int_member (d, "index", done[k]);
      json_object_set_int_member (d, "points", n_points[k]);
      json_object_set_double_member (d, "seconds", seconds[k]);
      json_array_add_object_element (list, d);
    }
  json_object_set_array_member (o, "done", list);
  return o;
}

/* ---- merging ----------------------------------------------------------------------------- */

struct _PlMerge {
  PlGrid     *grid;       /* owned, or NULL before the first file */
  char       *grid_file;  /* owned: the file it came from */
  JsonArray **points;     /* owned, grid->size: each grid point's, or NULL */
  double      seconds;
};

PlMerge *
pl_merge_new (void)
{
  return g_new0 (PlMerge, 1);
}

void
pl_merge_free (PlMerge *self)
{
  if (self == NULL)
    return;
  if (self->grid != NULL)
    for (guint i = 0; i < self->grid->size; i++)
      g_clear_pointer (&self->points[i], json_array_unref);
  g_free (self->points);
  g_free (self->grid_file);
  pl_grid_free (self->grid);
  g_free (self);
}

/* How @b differs from @a, for a message. (transfer full) */
static char *
grid_difference (const PlGrid *a,
                 const PlGrid *b)
{
  g_autoptr(GList) members = NULL;

  if (strcmp (a->command, b->command) != 0)
    return g_strdup_printf (_("it is a %s, not a %s"), b->command, a->command);
  members = json_object_get_members (a->head);
  for (GList *l = members; l != NULL; l = l->next)
    {
      const char *name = l->data;
      JsonNode *na = json_object_get_member (a->head, name);
      JsonNode *nb = json_object_get_member (b->head, name);

      if (nb == NULL || !json_node_equal (na, nb))
        {
          g_autofree char *va = json_to_string (na, FALSE);
          g_autofree char *vb = nb != NULL ? json_to_string (nb, FALSE) : g_strdup (_("missing"));

          return g_strdup_printf (_("“%s” is %s there, %s here"), name, va, vb);
        }
    }
  if (a->size != b->size)
    return g_strdup_printf (_("%u grid points there, %u here"), a->size, b->size);
  if (strcmp (a->identity, b->identity) != 0)
    return g_strdup (_("the same settings shown, but another model file, data or setting"));
  return g_strdup (_("other grid points"));
}

/* Takes @grid as the merge's, or checks it is the same. */
static gboolean
adopt_grid (PlMerge     *self,
            PlGrid      *grid,
            const char  *file,
            GError     **error)
{
  if (self->grid == NULL)
    {
      self->grid = grid;
      self->grid_file = g_strdup (file);
      self->points = g_new0 (JsonArray *, grid->size);
      return TRUE;
    }
  if (strcmp (self->grid->id, grid->id) != 0)
    {
      g_autofree char *why = grid_difference (self->grid, grid);

      g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_MISMATCH,
                   _("“%s”: a piece of another grid than “%s”: %s"), file, self->grid_file, why);
      pl_grid_free (grid);
      return FALSE;
    }
  pl_grid_free (grid);
  return TRUE;
}

static void
set_points (PlMerge   *self,
            guint      index,
            JsonArray *points,
            double     seconds)
{
  if (self->points[index] != NULL)
    {
      json_array_unref (points);
      return;
    }
  self->points[index] = points;
  self->seconds += seconds;
}

static gboolean
add_shard (PlMerge       *self,
           PlJsonReader  *r,
           JsonObject    *root,
           GError       **error)
{
  static const char *known[] = { "format", "version", "id", "command", "identity", "labels",
                                 "head", "tail", "shard", "shards", "done", NULL };
  g_autoptr(GPtrArray) taken = g_ptr_array_new_with_free_func ((GDestroyNotify) json_array_unref);
  g_autoptr(GArray) taken_index = g_array_new (FALSE, FALSE, sizeof (guint));
  g_autoptr(GArray) taken_seconds = g_array_new (FALSE, FALSE, sizeof (double));
  JsonObject *g;
  JsonArray *done, *points;
  PlGrid *grid;
  gint64 shard, shards, last = -1;
  guint first = 0;
  gsize mark;

  if ((g = pl_json_get_object (r, root, "grid", error)) == NULL
      || (points = pl_json_get_array (r, root, "points", error)) == NULL)
    return FALSE;

  mark = pl_json_enter (r, "grid", 0);
  if (!pl_json_check_members (r, g, known, error)
      || (grid = grid_read (r, g, error)) == NULL)
    {
      pl_json_leave (r, mark);
      return FALSE;
    }
  if (!pl_json_get_int (r, g, "shards", 1, PL_GRID_MAX_POINTS, &shards, error)
      || !pl_json_get_int (r, g, "shard", 0, shards - 1, &shard, error)
      || (done = pl_json_get_array (r, g, "done", error)) == NULL)
    goto fail;

  for (guint k = 0; k < json_array_get_length (done); k++)
    {
      JsonNode *node = json_array_get_element (done, k);
      gsize m1 = pl_json_enter (r, "done", 0), m2 = pl_json_enter (r, NULL, k);
      gint64 index, n;
      double seconds;
      JsonArray *p;

      if (!JSON_NODE_HOLDS_OBJECT (node))
        {
          pl_json_fail (r, error, _("expected an object"));
          goto fail_in;
        }
      if (!pl_json_get_int (r, json_node_get_object (node), "index", 0, grid->size - 1, &index, error)
          || !pl_json_get_int (r, json_node_get_object (node), "points", 0, G_MAXINT, &n, error)
          || !pl_json_get_double (r, json_node_get_object (node), "seconds", 0, INFINITY, &seconds, error))
        goto fail_in;
      if (index <= last || index % shards != shard)
        {
          pl_json_fail (r, error, _("grid point %lld is out of order or not of shard %lld/%lld"),
                        (long long) index, (long long) shard, (long long) shards);
          goto fail_in;
        }
      if ((guint64) first + (guint64) n > json_array_get_length (points))
        {
          pl_json_fail (r, error, _("%u curve points listed, the result has %u"),
                        (guint) (first + n), json_array_get_length (points));
          goto fail_in;
        }
      pl_json_leave (r, m2);
      pl_json_leave (r, m1);
      pl_json_leave (r, mark);
      p = take_points (r, grid, (guint) index, points, first, (guint) n, error);
      mark = pl_json_enter (r, "grid", 0);
      if (p == NULL)
        goto fail;
      g_ptr_array_add (taken, p);
      g_array_append_val (taken_index, (guint) { index });
      g_array_append_val (taken_seconds, seconds);
      first += (guint) n;
      last = index;
      continue;
    fail_in:
      pl_json_leave (r, m2);
      pl_json_leave (r, m1);
      goto fail;
    }
  if (first != json_array_get_length (points))
    {
      pl_json_fail (r, error, _("%u curve points listed, the result has %u"), first,
                    json_array_get_length (points));
      goto fail;
    }
  pl_json_leave (r, mark);

  if (!adopt_grid (self, grid, r->file, error))
    return FALSE;
  for (guint k = 0; k < taken->len; k++)
    set_points (self, g_array_index (taken_index, guint, k),
                json_array_ref (g_ptr_array_index (taken, k)),
                g_array_index (taken_seconds, double, k));
  return TRUE;

fail:
  pl_json_leave (r, mark);
  pl_grid_free (grid);
  return FALSE;
}

/* A grid file; with @dir, the point files beside it. */
static gboolean
add_grid_file (PlMerge       *self,
               PlJsonReader  *r,
               JsonObject    *root,
               const char    *dir,
               GError       **error)
{
  static const char *known[] = { "format", "version", "id", "command", "identity", "labels",
                                 "head", "tail", NULL };
  PlGrid *grid;

  if (!pl_json_check_members (r, root, known, error)
      || (grid = grid_read (r, root, error)) == NULL)
    return FALSE;
  if (!adopt_grid (self, grid, r->file, error))
    return FALSE;
  if (dir == NULL)
    return TRUE;
  for (guint i = 0; i < self->grid->size; i++)
    {
      JsonArray *points = NULL;
      double seconds;

      if (self->points[i] != NULL)
        continue;
      if (!pl_results_load_point (dir, self->grid, i, &points, &seconds, error))
        return FALSE;
      if (points != NULL)
        set_points (self, i, points, seconds);
    }
  return TRUE;
}

static gboolean
add_text (PlMerge     *self,
          const char  *contents,
          gsize        length,
          const char  *file,
          const char  *dir,
          GError     **error)
{
  g_autoptr(JsonParser) parser = parse_object (contents, length, file, error);
  JsonObject *root;
  PlJsonReader r;
  gboolean ok;

  if (parser == NULL)
    return FALSE;
  root = json_node_get_object (json_parser_get_root (parser));
  pl_json_reader_init (&r, file);
  if (json_object_has_member (root, "grid"))
    ok = add_shard (self, &r, root, error);
  else if (json_object_has_member (root, "format")
           && JSON_NODE_HOLDS_VALUE (json_object_get_member (root, "format"))
           && g_strcmp0 (json_object_get_string_member (root, "format"), GRID_FORMAT) == 0)
    ok = add_grid_file (self, &r, root, dir, error);
  else
    {
      g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_BAD_MAGIC,
                   _("“%s”: neither the output of a run with --shard (it has no “grid”) nor a grid file of a results folder"),
                   file);
      ok = FALSE;
    }
  pl_json_reader_clear (&r);
  return ok;
}

gboolean
pl_merge_add_data (PlMerge     *self,
                   const char  *contents,
                   gsize        length,
                   const char  *display_name,
                   GError     **error)
{
  g_return_val_if_fail (self != NULL && (contents != NULL || length == 0), FALSE);
  g_return_val_if_fail (display_name != NULL, FALSE);

  return add_text (self, contents != NULL ? contents : "", length, display_name, NULL, error);
}

static gboolean
is_grid_name (const char *name)
{
  gsize len = strlen (name);

  if (len != strlen ("grid-.json") + 64 || !g_str_has_prefix (name, "grid-")
      || !g_str_has_suffix (name, ".json"))
    return FALSE;
  for (gsize i = 5; i < 5 + 64; i++)
    if (!g_ascii_isxdigit (name[i]))
      return FALSE;
  return TRUE;
}

gboolean
pl_merge_add (PlMerge     *self,
              const char  *path,
              GError     **error)
{
  g_autofree char *file = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *contents = NULL;
  gsize length;

  g_return_val_if_fail (self != NULL && path != NULL, FALSE);

  if (g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      g_autoptr(GDir) d = g_dir_open (path, 0, error);
      g_autoptr(GPtrArray) grids = g_ptr_array_new_with_free_func (g_free);
      const char *name;

      if (d == NULL)
        return FALSE;
      while ((name = g_dir_read_name (d)) != NULL)
        if (is_grid_name (name))
          g_ptr_array_add (grids, g_strdup (name));
      if (grids->len != 1)
        {
          if (grids->len == 0)
            g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_MISMATCH,
                         _("“%s”: no grid file (grid-ID.json): not a folder a run with --results-dir wrote"),
                         path);
          else
            g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_MISMATCH,
                         _("“%s” holds %u grids; name the grid file of the one to merge (%s/grid-ID.json)"),
                         path, grids->len, path);
          return FALSE;
        }
      file = g_build_filename (path, g_ptr_array_index (grids, 0), NULL);
      dir = g_strdup (path);
    }
  else
    {
      file = g_strdup (path);
      dir = g_path_get_dirname (path);
    }

  if (!read_file (file, &contents, &length, error))
    return FALSE;
  return add_text (self, contents, length, file, dir, error);
}

const PlGrid *
pl_merge_get_grid (PlMerge *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->grid;
}

JsonArray *
pl_merge_get_points (PlMerge *self,
                     guint    index)
{
  g_return_val_if_fail (self != NULL && self->grid != NULL && index < self->grid->size, NULL);
  return self->points[index];
}

double
pl_merge_get_seconds (PlMerge *self)
{
  g_return_val_if_fail (self != NULL, 0.0);
  return self->seconds;
}

gboolean
pl_merge_check_complete (PlMerge  *self,
                         GError  **error)
{
  g_autoptr(GString) missing = g_string_new (NULL);
  guint n_missing = 0;

  g_return_val_if_fail (self != NULL, FALSE);

  if (self->grid == NULL)
    {
      g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_MISMATCH, _("nothing to merge"));
      return FALSE;
    }
  for (guint i = 0; i < self->grid->size; i++)
    if (self->points[i] == NULL)
      {
        if (n_missing < 5)
          g_string_append_printf (missing, "%s%u (%s)", n_missing > 0 ? ", " : "", i,
                                  self->grid->labels[i]);
        n_missing++;
      }
  if (n_missing > 0)
    {
      g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_MISMATCH,
                   _("%u of the %u grid points of “%s” are missing: %s%s"), n_missing,
                   self->grid->size, self->grid_file, missing->str, n_missing > 5 ? ", …" : "");
      return FALSE;
    }
  return TRUE;
}
