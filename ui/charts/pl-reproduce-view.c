/* pl-reproduce-view.c — a paper reproduction's table cells, settings line, CSV and chart */
#define G_LOG_DOMAIN "pl-charts"

#include "config.h"

#include "pl-reproduce-view.h"

#include <glib/gi18n-lib.h>
#include <math.h>
#include <string.h>

#include "pl-chart-style.h"
#include "pl-file.h"

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
