/* pl-cli-grid.c — the grid options of sweep and schedule, and the result built from points */
#define G_LOG_DOMAIN "prunelab-cli"

#include "config.h"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

#include "pl-cli-grid-private.h"
#include "pl-error.h"
#include "pl-session.h"

void
_pl_cli_grid_args_clear (PlCliGridArgs *g)
{
  g_clear_pointer (&g->shard, g_free);
  g_clear_pointer (&g->results_dir, g_free);
}

int
_pl_cli_grid_check (PlCliGridArgs *g)
{
  g_autoptr(GError) error = NULL;

  g->index = 0;
  g->count = 1;
  if (g->shard != NULL && !pl_shard_parse (g->shard, &g->index, &g->count, &error))
    return _pl_cli_usage ("%s", error->message);
  return 0;
}

gboolean
_pl_cli_grid_mine (const PlCliGridArgs *g,
                   guint                index)
{
  return index % g->count == g->index;
}

gboolean
_pl_cli_grid_wanted (const PlCliGridArgs *g)
{
  return g->shard != NULL || g->results_dir != NULL;
}

void
_pl_cli_grid_print (const PlCliGridArgs *g,
                    const char * const  *labels,
                    guint                n)
{
  for (guint i = 0; i < n; i++)
    if (_pl_cli_grid_mine (g, i))
      printf ("%u\t%s\n", i, labels[i]);
}

PlGrid *
_pl_cli_grid_make (const char          *command,
                   const char          *model_path,
                   const PlData        *data,
                   const char          *settings,
                   const char * const  *labels,
                   guint                n,
                   JsonObject          *head,
                   JsonObject          *tail,
                   GError             **error)
{
  g_autofree char *model_sha = pl_results_hash_file (model_path, error);
  g_autofree char *data_sha = NULL;
  g_autofree char *identity = NULL;

  if (model_sha == NULL)
    return NULL;
  data_sha = pl_session_hash_data (data);
  identity = g_strdup_printf ("model %s\ndata %s %s\nsettings %s\n", model_sha, data->spec,
                              data_sha, settings);
  return pl_grid_new (command, identity, labels, n, head, tail);
}

static void
array_unref0 (gpointer array)
{
  if (array != NULL)
    json_array_unref (array);
}

GPtrArray *
_pl_cli_grid_points_new (guint n)
{
  GPtrArray *a = g_ptr_array_new_full (n, array_unref0);

  g_ptr_array_set_size (a, (gint) n);
  return a;
}

JsonNode *
_pl_cli_builder_node (JsonBuilder *b)
{
  return json_builder_get_root (b);
}

/* A number of a point: null (NaN), an integer or a double. */
static double
number (JsonObject *o,
        const char *name)
{
  JsonNode *node = json_object_get_member (o, name);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node))
    return NAN;
  if (json_node_get_value_type (node) == G_TYPE_INT64)
    return (double) json_node_get_int (node);
  if (json_node_get_value_type (node) == G_TYPE_DOUBLE)
    return json_node_get_double (node);
  return NAN;
}

static const char *
string (JsonObject *o,
        const char *name)
{
  JsonNode *node = json_object_get_member (o, name);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    return "";
  return json_node_get_string (node);
}

GArray *
_pl_cli_schedule_summary (JsonArray **points,
                          guint       n)
{
  g_autoptr(GArray) all = g_array_new (FALSE, FALSE, sizeof (PlSchedulePoint));

  for (guint i = 0; i < n; i++)
    for (guint k = 0; points[i] != NULL && k < json_array_get_length (points[i]); k++)
      {
        JsonObject *o = json_array_get_object_element (points[i], k);
        PlSchedulePoint p = { 0 };

        if (!pl_method_parse (string (o, "method"), &p.method, NULL))
          continue;
        p.seed = (guint64) number (o, "seed");
        p.level = (guint) number (o, "level");
        p.param = number (o, "param");
        p.sparsity = number (o, "sparsity");
        p.test_accuracy = number (o, "test_accuracy");
        p.test_loss = number (o, "test_loss");
        p.val_accuracy = number (o, "val_accuracy");
        g_array_append_val (all, p);
      }
  return pl_schedule_summarise ((const PlSchedulePoint *) (gpointer) all->data, all->len);
}

static void
add_summary_json (JsonBuilder             *b,
                  const PlScheduleSummary *s)
{
  json_builder_begin_object (b);
  _pl_cli_add_string (b, "method", pl_method_info (s->method)->name);
  _pl_cli_add_int (b, "level", s->level);
  _pl_cli_add_double (b, "param", s->param);
  _pl_cli_add_int (b, "seeds", s->n);
  _pl_cli_add_double (b, "sparsity", s->sparsity);
  _pl_cli_add_double (b, "test_accuracy", s->test_accuracy);
  _pl_cli_add_double (b, "test_accuracy_sd", s->test_accuracy_sd);
  _pl_cli_add_double (b, "test_accuracy_min", s->test_accuracy_min);
  _pl_cli_add_double (b, "test_accuracy_max", s->test_accuracy_max);
  _pl_cli_add_double (b, "test_loss", s->test_loss);
  _pl_cli_add_double (b, "test_loss_sd", s->test_loss_sd);
  _pl_cli_add_double (b, "val_accuracy", s->val_accuracy);
  json_builder_end_object (b);
}

static void
add_members (JsonBuilder *b,
             JsonObject  *o)
{
  g_autoptr(GList) members = json_object_get_members (o);

  for (GList *l = members; l != NULL; l = l->next)
    {
      json_builder_set_member_name (b, l->data);
      json_builder_add_value (b, json_node_copy (json_object_get_member (o, l->data)));
    }
}

JsonBuilder *
_pl_cli_grid_result (const char  *command,
                     JsonObject  *head,
                     JsonObject  *tail,
                     gboolean     interrupted,
                     JsonArray  **points,
                     guint        n,
                     double       seconds,
                     double       sweep_seconds,
                     JsonObject  *shard)
{
  JsonBuilder *b = json_builder_new ();

  json_builder_begin_object (b);
  add_members (b, head);
  _pl_cli_add_bool (b, "interrupted", interrupted);
  json_builder_set_member_name (b, "points");
  json_builder_begin_array (b);
  for (guint i = 0; i < n; i++)
    for (guint k = 0; points[i] != NULL && k < json_array_get_length (points[i]); k++)
      json_builder_add_value (b, json_node_copy (json_array_get_element (points[i], k)));
  json_builder_end_array (b);
  if (strcmp (command, "schedule") == 0)
    {
      g_autoptr(GArray) summary = _pl_cli_schedule_summary (points, n);

      json_builder_set_member_name (b, "curves");
      json_builder_begin_array (b);
      for (guint k = 0; k < summary->len; k++)
        add_summary_json (b, &g_array_index (summary, PlScheduleSummary, k));
      json_builder_end_array (b);
    }
  _pl_cli_add_double (b, "seconds", seconds);
  /* the sweep alone: scores, pruning, fine-tuning and evaluation, no data loading */
  if (!isnan (sweep_seconds))
    _pl_cli_add_double (b, "sweep_seconds", sweep_seconds);
  add_members (b, tail);
  if (shard != NULL)
    {
      JsonNode *node = json_node_new (JSON_NODE_OBJECT);

      json_node_set_object (node, shard);
      json_builder_set_member_name (b, "grid");
      json_builder_add_value (b, node);
    }
  json_builder_end_object (b);
  return b;
}

GString *
_pl_cli_grid_csv (const char  *command,
                  JsonArray  **points,
                  guint        n)
{
  gboolean schedule = strcmp (command, "schedule") == 0;
  GString *s = g_string_new (schedule ? "method,seed,level,param,sparsity,structural_sparsity,"
                                        "test_accuracy,test_loss,val_accuracy,val_loss,chosen,seconds"
                                      : "score,seed,target_sparsity,sparsity,structural_sparsity,"
                                        "test_accuracy,test_loss");
  guint n_layers = 0;
  gboolean header = FALSE;

  for (guint i = 0; i < n; i++)
    for (guint k = 0; points[i] != NULL && k < json_array_get_length (points[i]); k++)
      {
        JsonObject *o = json_array_get_object_element (points[i], k);
        JsonNode *layers = json_object_get_member (o, "layer_sparsity");
        JsonArray *ls = layers != NULL && JSON_NODE_HOLDS_ARRAY (layers) ? json_node_get_array (layers) : NULL;

        if (!header)
          {
            n_layers = ls != NULL ? json_array_get_length (ls) : 0;
            for (guint l = 0; l < n_layers; l++)
              g_string_append_printf (s, ",layers.%u.sparsity", l);
            g_string_append_c (s, '\n');
            header = TRUE;
          }
        if (schedule)
          {
            JsonNode *chosen = json_object_get_member (o, "chosen");

            g_string_append_printf (s, "%s,%.0f,%.0f,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%d,%.3f",
                                    string (o, "method"), number (o, "seed"), number (o, "level"),
                                    number (o, "param"), number (o, "sparsity"),
                                    number (o, "structural_sparsity"), number (o, "test_accuracy"),
                                    number (o, "test_loss"), number (o, "val_accuracy"),
                                    number (o, "val_loss"),
                                    chosen != NULL && JSON_NODE_HOLDS_VALUE (chosen)
                                      && json_node_get_value_type (chosen) == G_TYPE_BOOLEAN
                                      && json_node_get_boolean (chosen),
                                    number (o, "seconds"));
          }
        else
          g_string_append_printf (s, "%s,%.0f,%.6g,%.6g,%.6g,%.6g,%.6g", string (o, "score"),
                                  number (o, "seed"), number (o, "target_sparsity"),
                                  number (o, "sparsity"), number (o, "structural_sparsity"),
                                  number (o, "test_accuracy"), number (o, "test_loss"));
        for (guint l = 0; l < n_layers; l++)
          {
            JsonNode *v = ls != NULL && l < json_array_get_length (ls) ? json_array_get_element (ls, l) : NULL;
            double x = NAN;

            if (v != NULL && JSON_NODE_HOLDS_VALUE (v))
              x = json_node_get_value_type (v) == G_TYPE_INT64 ? (double) json_node_get_int (v)
                                                               : json_node_get_double (v);
            g_string_append_printf (s, ",%.6g", x);
          }
        g_string_append_c (s, '\n');
      }
  if (!header)
    g_string_append_c (s, '\n');
  return s;
}
