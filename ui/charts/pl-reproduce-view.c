/* pl-reproduce-view.c — a paper reproduction's table cells, settings line, CSV and chart */
#define G_LOG_DOMAIN "pl-charts"

#include "config.h"

#include "pl-reproduce-view.h"

#include <glib/gi18n-lib.h>
#include <math.h>
#include <string.h>

#include "pl-chart-private.h"
#include "pl-chart-style.h"
#include "pl-error.h"
#include "pl-file.h"
#include "pl-json.h"

char *
pl_reproduce_format_value (double      value,
                           const char *unit)
{
  if (!isfinite (value))
    return g_strdup ("—");
  if (fabs (value) >= 1000)
    return g_strdup_printf ("%.0f%s", value, unit != NULL ? unit : "");
  return g_strdup_printf ("%.4g%s", value, unit != NULL ? unit : "");
}

void
pl_reproduce_cells_init (PlReproduceCells     *cells,
                         const PlReproduceRow *row)
{
  g_autofree char *lo = pl_reproduce_format_value (row->min, row->unit);
  g_autofree char *hi = pl_reproduce_format_value (row->max, row->unit);

  cells->paper = pl_reproduce_format_value (row->paper, row->unit);
  cells->mean = pl_reproduce_format_value (row->mean, row->unit);
  cells->span = g_strdup_printf ("%s … %s", lo, hi);
  cells->source = g_strdup (row->source != NULL ? row->source : "");
}

void
pl_reproduce_cells_clear (PlReproduceCells *cells)
{
  g_clear_pointer (&cells->paper, g_free);
  g_clear_pointer (&cells->mean, g_free);
  g_clear_pointer (&cells->span, g_free);
  g_clear_pointer (&cells->source, g_free);
}

char *
pl_reproduce_settings_text (const PlReproduceResult *r)
{
  const PlReproduceSettings *s = &r->settings;
  GString *t = g_string_new (NULL);

  g_string_append_printf (t, g_dngettext (GETTEXT_PACKAGE, "%u seed", "%u seeds", s->seeds), s->seeds);
  g_string_append (t, _("; "));
  g_string_append_printf (t, g_dngettext (GETTEXT_PACKAGE, "dense training %u epoch", "dense training %u epochs", s->dense_epochs),
                          s->dense_epochs);
  g_string_append_printf (t, _(" at lr %g (%s, batch %u)"), s->dense_lr,
                          pl_optimizer_to_string (s->optimizer), s->batch);
  g_string_append (t, _("; "));
  switch (r->paper)
    {
    case PL_PAPER_HAN2015:
      g_string_append_printf (t, g_dngettext (GETTEXT_PACKAGE, "%u round", "%u rounds", s->rounds), s->rounds);
      g_string_append_printf (t, g_dngettext (GETTEXT_PACKAGE, " of %u retraining epoch", " of %u retraining epochs", s->round_epochs),
                              s->round_epochs);
      g_string_append_printf (t, _(" at lr %g"), s->retrain_lr);
      break;
    case PL_PAPER_FRANKLE2019:
      g_string_append_printf (t, g_dngettext (GETTEXT_PACKAGE, "%u round", "%u rounds", s->rounds), s->rounds);
      g_string_append_printf (t, g_dngettext (GETTEXT_PACKAGE, " of %u epoch after rewinding", " of %u epochs after rewinding", s->dense_epochs),
                              s->dense_epochs);
      break;
    case PL_PAPER_BLALOCK2020:
      g_string_append_printf (t, g_dngettext (GETTEXT_PACKAGE, "%u fine-tuning epoch", "%u fine-tuning epochs", s->round_epochs),
                              s->round_epochs);
      g_string_append_printf (t, _(" at lr %g; chosen score %s"), s->retrain_lr,
                              pl_score_info (r->score)->name);
      break;
    case PL_PAPER_TANAKA2020:
      g_string_append_printf (t, g_dngettext (GETTEXT_PACKAGE, "each sparse network trained %u epoch",
                                              "each sparse network trained %u epochs", s->dense_epochs),
                              s->dense_epochs);
      g_string_append (t, r->quick ? _("; compression ratios 10^(k/4), k = 4, 6, …, 16")
                                   : _("; compression ratios 10^(k/4), k = 2, 3, …, 16"));
      break;
    case PL_N_PAPERS:
    default:
      g_assert_not_reached ();
    }
  return g_string_free (t, FALSE);
}

GString *
pl_reproduce_points_csv (const PlReproduceResult *r)
{
  GString *s = g_string_new ("curve,seed,level,target_sparsity,sparsity,test_accuracy,compression,speedup,early_stop,connected");

  for (guint i = 0; i < r->n_layers; i++)
    g_string_append_printf (s, ",layers.%u.sparsity", i);
  g_string_append_c (s, '\n');
  for (guint k = 0; k < r->points->len; k++)
    {
      const PlReproducePoint *p = &g_array_index (r->points, PlReproducePoint, k);

      g_string_append_printf (s, "%s,%" G_GUINT64_FORMAT ",%u,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%d",
                              p->curve, p->seed, p->level, p->target, p->sparsity,
                              p->test_accuracy, p->compression, p->speedup, p->early_stop,
                              p->connected);
      for (guint i = 0; i < r->n_layers; i++)
        g_string_append_printf (s, ",%.6g", p->layer_sparsity[i]);
      g_string_append_c (s, '\n');
    }
  return s;
}

gboolean
pl_reproduce_save_csv (const PlReproduceResult  *result,
                       const char               *path,
                       GError                  **error)
{
  g_autoptr(GString) csv = NULL;

  g_return_val_if_fail (result != NULL && path != NULL, FALSE);

  csv = pl_reproduce_points_csv (result);
  return pl_file_save (path, csv->str, csv->len, error);
}

GString *
pl_reproduce_table_csv (const PlReproduceResult *r)
{
  GString *s = g_string_new ("key,label,unit,paper,mean,min,max,seeds,source\n");

  for (guint k = 0; k < r->rows->len; k++)
    {
      const PlReproduceRow *row = &g_array_index (r->rows, PlReproduceRow, k);
      gboolean measured = row->n > 0;

      _pl_csv_string (s, row->key);
      g_string_append_c (s, ',');
      _pl_csv_string (s, row->label);
      g_string_append_c (s, ',');
      _pl_csv_string (s, row->unit != NULL ? row->unit : "");
      g_string_append_c (s, ',');
      _pl_csv_double (s, row->paper);
      g_string_append_c (s, ',');
      _pl_csv_double (s, measured ? row->mean : NAN);
      g_string_append_c (s, ',');
      _pl_csv_double (s, measured ? row->min : NAN);
      g_string_append_c (s, ',');
      _pl_csv_double (s, measured ? row->max : NAN);
      g_string_append_printf (s, ",%u,", row->n);
      _pl_csv_string (s, row->source != NULL ? row->source : "");
      g_string_append_c (s, '\n');
    }
  return s;
}

gboolean
pl_reproduce_save_table_csv (const PlReproduceResult  *result,
                             const char               *path,
                             GError                  **error)
{
  g_autoptr(GString) csv = NULL;

  g_return_val_if_fail (result != NULL && path != NULL, FALSE);

  csv = pl_reproduce_table_csv (result);
  return pl_file_save (path, csv->str, csv->len, error);
}

/* One curve: the points of @name grouped by their target sparsity (the seeds of a level), the
 * mean and min … max of the test accuracy, drawn at the mean sparsity the seeds reached. */
static void
summarise (PlReproduceChart        *view,
           PlCurve                 *curve,
           const PlReproduceResult *r,
           const char              *name)
{
  g_autoptr(GArray) xs = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) ys = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) reached = g_array_new (FALSE, FALSE, sizeof (double));
  g_autofree double *target = NULL;
  g_autofree double *mean = NULL;
  double *block;
  guint n, m;

  for (guint k = 0; k < r->points->len; k++)
    {
      const PlReproducePoint *p = &g_array_index (r->points, PlReproducePoint, k);

      if (strcmp (p->curve, name) != 0)
        continue;
      g_array_append_val (xs, p->target);
      g_array_append_val (ys, p->test_accuracy);
      g_array_append_val (reached, p->sparsity);
    }
  n = xs->len;
  block = g_new (double, 4 * (gsize) MAX (n, 1));
  g_ptr_array_add (view->storage, block);
  curve->name = name;
  curve->n = pl_curve_summarise ((double *) xs->data, (double *) ys->data, n, PL_SPREAD_MIN_MAX,
                                 block, block + n, block + 2 * n, block + 3 * n);
  target = g_new (double, MAX (n, 1));
  mean = g_new (double, MAX (n, 1));
  m = pl_curve_summarise ((double *) xs->data, (double *) reached->data, n, PL_SPREAD_NONE,
                          target, mean, NULL, NULL);
  /* the same groups in the same order when every accuracy is finite */
  if (m == curve->n)
    memcpy (block, mean, sizeof (double) * m);
  curve->x = block;
  curve->y = block + n;
  curve->lo = block + 2 * n;
  curve->hi = block + 3 * n;
}

PlReproduceChart *
pl_reproduce_chart_new (const PlReproduceResult *result)
{
  PlReproduceChart *view;
  g_autoptr(GPtrArray) names = g_ptr_array_new ();
  PlCurve *curves;

  g_return_val_if_fail (result != NULL, NULL);

  view = g_new0 (PlReproduceChart, 1);
  view->storage = g_ptr_array_new_with_free_func (g_free);
  for (guint k = 0; k < result->points->len; k++)
    {
      const char *curve = g_array_index (result->points, PlReproducePoint, k).curve;
      gboolean seen = FALSE;

      for (guint i = 0; i < names->len && !seen; i++)
        seen = strcmp (g_ptr_array_index (names, i), curve) == 0;
      if (!seen)
        g_ptr_array_add (names, (gpointer) curve);
    }
  curves = g_new0 (PlCurve, MAX (names->len, 1));
  g_ptr_array_add (view->storage, curves);
  for (guint i = 0; i < names->len; i++)
    summarise (view, &curves[i], result, g_ptr_array_index (names, i));

  view->curves.title = g_strdup_printf (_("%s: accuracy after pruning"), pl_paper_info (result->paper)->name);
  g_ptr_array_add (view->storage, (gpointer) view->curves.title);
  view->curves.n_curves = names->len;
  view->curves.curves = curves;
  view->curves.reference = NAN;
  view->curves.spread = PL_SPREAD_MIN_MAX;
  view->curves.n_seeds = result->settings.seeds;
  view->curves.y_format = PL_CHART_NUMBER_PERCENT;
  view->chart = (PlChart) { PL_CHART_CURVES, &view->curves };
  return view;
}

void
pl_reproduce_chart_free (PlReproduceChart *view)
{
  if (view == NULL)
    return;
  g_ptr_array_unref (view->storage);
  g_free (view);
}

gboolean
pl_reproduce_chart_export (const PlReproduceResult  *result,
                           const char               *path,
                           GError                  **error)
{
  g_autoptr(PlReproduceChart) view = NULL;
  PlChartFormat format;
  PlChartStyle style;

  g_return_val_if_fail (result != NULL && path != NULL, FALSE);

  if (!pl_chart_format_from_path (path, &format, error))
    return FALSE;
  view = pl_reproduce_chart_new (result);
  pl_chart_style_init (&style, PL_CHART_THEME_LIGHT);
  return pl_chart_export (&view->chart, &style, path, format, PL_REPRODUCE_CHART_WIDTH,
                          PL_REPRODUCE_CHART_HEIGHT, 96.0, error);
}

/* ---- a `prunelab-cli reproduce --json` file read back ---- */

/* Member @name: a number, or null (what the CLI writes for a value that is not finite) as
 * NaN; @optional members may be missing (NaN). */
static gboolean
get_number_or_null (PlJsonReader  *r,
                    JsonObject    *o,
                    const char    *name,
                    gboolean       optional,
                    double        *out,
                    GError       **error)
{
  JsonNode *node = json_object_get_member (o, name);

  *out = NAN;
  if ((node == NULL && optional) || (node != NULL && JSON_NODE_HOLDS_NULL (node)))
    return TRUE;
  return pl_json_get_double (r, o, name, -G_MAXDOUBLE, G_MAXDOUBLE, out, error);
}

static const char *
static_unit (const char *unit)
{
  static const char * const units[] = { "%", "×", "" };

  for (guint i = 0; i < G_N_ELEMENTS (units); i++)
    if (strcmp (unit, units[i]) == 0)
      return units[i];
  return NULL;
}

static gboolean
read_row (PlJsonReader       *r,
          JsonObject         *o,
          const PlPaperInfo  *info,
          PlReproduceRow     *row,
          GError            **error)
{
  const char *key, *label, *unit;
  gint64 n;

  if (!pl_json_get_string (r, o, "key", &key, error)
      || !pl_json_get_string (r, o, "label", &label, error)
      || !pl_json_get_string (r, o, "unit", &unit, error)
      || !get_number_or_null (r, o, "paper", FALSE, &row->paper, error)
      || !pl_json_get_int (r, o, "n", 0, G_MAXUINT32, &n, error)
      || !get_number_or_null (r, o, "mean", FALSE, &row->mean, error)
      || !get_number_or_null (r, o, "min", FALSE, &row->min, error)
      || !get_number_or_null (r, o, "max", FALSE, &row->max, error))
    return FALSE;
  row->unit = static_unit (unit);
  if (row->unit == NULL)
    {
      pl_json_fail (r, error, _("unit “%s” is none of %%, × or nothing"), unit);
      return FALSE;
    }
  row->n = (guint) n;
  row->key = g_utf8_make_valid (key, -1);
  row->label = g_utf8_make_valid (label, -1);
  /* the source is the paper's own words: the table's, for the paper's numbers */
  row->source = NULL;
  for (guint k = 0; k < info->n_numbers; k++)
    if (strcmp (info->numbers[k].key, key) == 0)
      row->source = info->numbers[k].source;
  return TRUE;
}

static gboolean
read_point (PlJsonReader      *r,
            JsonObject        *o,
            PlReproducePoint  *p,
            GError           **error)
{
  const char *curve;
  gint64 seed, level;
  double test_accuracy;

  memset (p, 0, sizeof *p);
  if (!pl_json_get_string (r, o, "score", &curve, error)
      || !pl_json_get_int (r, o, "seed", 0, G_MAXINT64, &seed, error)
      || !pl_json_get_int (r, o, "level", 0, G_MAXUINT32, &level, error)
      || !get_number_or_null (r, o, "target_sparsity", FALSE, &p->target, error)
      || !get_number_or_null (r, o, "sparsity", FALSE, &p->sparsity, error)
      || !get_number_or_null (r, o, "test_accuracy", FALSE, &test_accuracy, error)
      || !get_number_or_null (r, o, "compression", TRUE, &p->compression, error)
      || !get_number_or_null (r, o, "speedup", TRUE, &p->speedup, error)
      || !get_number_or_null (r, o, "early_stop", TRUE, &p->early_stop, error))
    return FALSE;
  /* the curves' names live as long as the program, as the run's static ones do */
  {
    g_autofree char *valid = g_utf8_make_valid (curve, -1);

    p->curve = g_intern_string (valid);
  }
  p->seed = (guint64) seed;
  p->level = (guint) level;
  p->test_accuracy = test_accuracy;
  p->connected = json_object_get_boolean_member_with_default (o, "connected", TRUE);
  for (guint i = 0; i < PL_MLP_MAX_LAYERS; i++)
    p->layer_sparsity[i] = NAN;
  return TRUE;
}

PlReproduceResult *
pl_reproduce_result_load_json (const char  *path,
                               GError     **error)
{
  g_autoptr(PlReproduceResult) result = NULL;
  g_autoptr(JsonParser) parser = NULL;
  g_autoptr(GError) local = NULL;
  g_autofree char *text = NULL;
  g_autofree char *display = NULL;
  const char *command = NULL, *paper_name, *arch;
  const PlPaperInfo *info;
  JsonObject *root;
  JsonArray *numbers, *points;
  PlJsonReader r;
  gint64 seeds;
  gsize len;
  gboolean ok;

  g_return_val_if_fail (path != NULL, NULL);

  if (!g_file_get_contents (path, &text, &len, error))
    return NULL;
  display = g_filename_display_name (path);
  if (!g_utf8_validate (text, (gssize) len, NULL) || pl_json_check (text, len, 16, 10000000) != PL_JSON_OK)
    {
      g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_BAD_MAGIC,
                   _("“%s” is not the JSON of prunelab-cli reproduce --json"), display);
      return NULL;
    }
  parser = json_parser_new ();
  if (!json_parser_load_from_data (parser, text, (gssize) len, &local)
      || json_parser_get_root (parser) == NULL || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_BAD_MAGIC,
                   _("“%s” is not the JSON of prunelab-cli reproduce --json"), display);
      return NULL;
    }
  root = json_node_get_object (json_parser_get_root (parser));

  result = g_new0 (PlReproduceResult, 1);
  result->rows = g_array_new (FALSE, FALSE, sizeof (PlReproduceRow));
  result->points = g_array_new (FALSE, FALSE, sizeof (PlReproducePoint));
  pl_json_reader_init (&r, display);
  ok = pl_json_get_string (&r, root, "command", &command, error);
  if (ok && strcmp (command, "reproduce") != 0)
    {
      pl_json_fail (&r, error, _("the result of “%s”, not of reproduce"), command);
      ok = FALSE;
    }
  ok = ok && pl_json_get_string (&r, root, "paper", &paper_name, error);
  if (ok && !pl_paper_parse (paper_name, &result->paper, &local))
    {
      pl_json_fail (&r, error, "%s", local->message);
      ok = FALSE;
    }
  ok = ok && pl_json_get_bool (&r, root, "quick", &result->quick, error)
       && pl_json_get_int (&r, root, "seeds", 1, 1000, &seeds, error)
       && pl_json_get_string (&r, root, "arch", &arch, error)
       && get_number_or_null (&r, root, "seconds", TRUE, &result->seconds, error)
       && (numbers = pl_json_get_array (&r, root, "numbers", error)) != NULL
       && (points = pl_json_get_array (&r, root, "points", error)) != NULL;
  if (ok)
    {
      info = pl_paper_info (result->paper);
      /* the paper's settings of the run (quick or full) with the seeds run; the file's
       * settings object says the same in words */
      result->settings = result->quick ? info->quick : info->full;
      result->settings.seeds = (guint) seeds;
      result->score = PL_SCORE_TAYLOR;
      if (result->paper == PL_PAPER_BLALOCK2020)
        {
          JsonObject *settings = json_object_get_object_member (root, "settings");
          const char *score = settings != NULL
                              ? json_object_get_string_member_with_default (settings, "score", NULL) : NULL;

          if (score != NULL)
            pl_score_parse (score, &result->score, NULL);
        }
      result->arch = g_utf8_make_valid (arch, -1);
      result->n_layers = 0;
      for (const char *c = result->arch; *c != '\0'; c++)
        result->n_layers += *c == '-';
      if (!isfinite (result->seconds))
        result->seconds = 0;
    }
  for (guint k = 0; ok && k < json_array_get_length (numbers); k++)
    {
      gsize mark = pl_json_enter (&r, "numbers", k);
      JsonNode *node = json_array_get_element (numbers, k);
      PlReproduceRow row = { 0 };

      if (!JSON_NODE_HOLDS_OBJECT (node))
        {
          pl_json_fail (&r, error, _("not an object"));
          ok = FALSE;
        }
      else if ((ok = read_row (&r, json_node_get_object (node), info, &row, error)))
        g_array_append_val (result->rows, row);
      pl_json_leave (&r, mark);
    }
  for (guint k = 0; ok && k < json_array_get_length (points); k++)
    {
      gsize mark = pl_json_enter (&r, "points", k);
      JsonNode *node = json_array_get_element (points, k);
      PlReproducePoint p;

      if (!JSON_NODE_HOLDS_OBJECT (node))
        {
          pl_json_fail (&r, error, _("not an object"));
          ok = FALSE;
        }
      else if ((ok = read_point (&r, json_node_get_object (node), &p, error)))
        g_array_append_val (result->points, p);
      pl_json_leave (&r, mark);
    }
  pl_json_reader_clear (&r);

  return ok ? g_steal_pointer (&result) : NULL;
}
