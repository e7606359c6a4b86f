/* pl-chart-confusion.c — a confusion matrix coloured by each row's shares */
#define G_LOG_DOMAIN "pl-chart"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <math.h>
#include <string.h>

#include "pl-chart-confusion.h"
#include "pl-chart-private.h"

typedef struct {
  PlFrame       frame;
  PlFrameLayout layout;
  char          note[160];
  char        **names;      /* owned: the class labels used */
  double        bar_width;
} Confusion;

static void
confusion_clear (Confusion *m)
{
  g_clear_pointer (&m->names, g_strfreev);
}

const char *
pl_chart_confusion_empty_message (const PlConfusionData *data)
{
  guint64 total = 0;

  if (data == NULL || data->n_classes == 0 || data->counts == NULL)
    return _("No predictions to show");
  for (gsize i = 0; i < (gsize) data->n_classes * data->n_classes; i++)
    total += data->counts[i];
  if (total == 0)
    return _("No predictions to show");
  return NULL;
}

static gboolean
confusion_layout (PlCanvas              *c,
                  const PlConfusionData *data,
                  Confusion             *m)
{
  const PlChartStyle *s = c->style;
  guint n = data->n_classes;
  guint64 total = 0, correct = 0;
  char pct[32];
  PlChartArea *a;

  memset (m, 0, sizeof *m);
  m->names = g_new0 (char *, n + 1);
  for (guint i = 0; i < n; i++)
    {
      m->names[i] = data->class_names != NULL && data->class_names[i] != NULL
                    ? g_strdup (data->class_names[i]) : g_strdup_printf ("%u", i);
      for (guint j = 0; j < n; j++)
        total += data->counts[(gsize) i * n + j];
      correct += data->counts[(gsize) i * n + i];
    }

  pl_chart_format_number (pct, sizeof pct, (double) correct / total, 0.001, PL_CHART_NUMBER_PERCENT);
  /* TRANSLATORS: "accuracy 92.0% of 1000 samples · colour: share of the true class" */
  g_snprintf (m->note, sizeof m->note, _("accuracy %s of %llu samples · colour: share of the true class"),
              pct, (unsigned long long) total);
  m->frame.title = data->title != NULL ? data->title : _("Confusion matrix");
  m->frame.note = m->note;
  m->frame.x_label = _("predicted class");
  m->frame.y_label = _("true class");
  m->frame.x = (PlChartAxis) { 0, n, FALSE, PL_CHART_NUMBER_INTEGER };
  m->frame.y = (PlChartAxis) { n, 0, FALSE, PL_CHART_NUMBER_INTEGER };
  m->frame.n_x_categories = n;
  m->frame.x_categories = (const char * const *) m->names;
  m->frame.n_y_categories = n;
  m->frame.y_categories = (const char * const *) m->names;
  m->frame.no_grid = TRUE;
  m->bar_width = s->font_size * 1.2;
  m->frame.right_reserve = _pl_colour_bar_width (c, 0, 1, PL_CHART_NUMBER_PERCENT, NULL);
  if (!_pl_frame_layout (c, &m->frame, 0, 0, c->width, c->height, &m->layout))
    return FALSE;

  /* Square cells. */
  a = &m->layout.area;
  if (a->width > a->height)
    {
      /* centred, the colour bar and the axis titles moving with it */
      a->x += (a->width - a->height) / 2;
      m->layout.y_label_x += (a->width - a->height) / 2;
      a->width = a->height;
    }
  else
    {
      a->y += (a->height - a->width) / 2;
      a->height = a->width;
    }
  return TRUE;
}

gboolean
pl_chart_confusion_layout (cairo_t               *cr,
                           double                 width,
                           double                 height,
                           const PlConfusionData *data,
                           const PlChartStyle    *style,
                           PlChartArea           *area)
{
  PlCanvas c;
  Confusion m;
  gboolean ok;

  g_return_val_if_fail (cr != NULL && style != NULL && area != NULL, FALSE);

  memset (area, 0, sizeof *area);
  if (pl_chart_confusion_empty_message (data) != NULL)
    return FALSE;
  _pl_canvas_init (&c, cr, width, height, style);
  ok = confusion_layout (&c, data, &m);
  if (ok)
    *area = m.layout.area;
  confusion_clear (&m);
  _pl_canvas_clear (&c);
  return ok;
}

void
pl_chart_draw_confusion (cairo_t               *cr,
                         double                 width,
                         double                 height,
                         const PlConfusionData *data,
                         const PlChartStyle    *style)
{
  const char *empty = pl_chart_confusion_empty_message (data);
  PlCanvas c;
  Confusion m;
  const PlChartArea *a;
  guint n;
  double cell;
  gboolean text;

  g_return_if_fail (cr != NULL && style != NULL);

  if (!_pl_draw_begin (&c, cr, width, height, style, data != NULL ? data->title : NULL, empty))
    return;
  if (!confusion_layout (&c, data, &m))
    {
      confusion_clear (&m);
      _pl_draw_too_small (&c);
      return;
    }
  a = &m.layout.area;
  n = data->n_classes;
  cell = a->width / n;
  c.small_size = MIN (style->label_size * 1.15, cell * 0.3);
  text = c.small_size >= 6.5;

  for (guint i = 0; i < n; i++)
    {
      guint64 row = 0;

      for (guint j = 0; j < n; j++)
        row += data->counts[(gsize) i * n + j];
      for (guint j = 0; j < n; j++)
        {
          guint32 count = data->counts[(gsize) i * n + j];
          double share = row > 0 ? (double) count / row : 0;
          double x0 = pl_chart_area_x (a, j), x1 = pl_chart_area_x (a, j + 1);
          double y0 = pl_chart_area_y (a, i), y1 = pl_chart_area_y (a, i + 1);
          PlRgba fill, ink;

          pl_chart_sequential (share, &fill);
          pl_chart_set_source (cr, &fill);
          cairo_rectangle (cr, x0, y0, x1 - x0, y1 - y0);
          cairo_fill (cr);

          if (text)
            {
              char buf[32];

              /* Light ink on the dark (low) end of the map, dark ink on the bright end. */
              ink = share < 0.6 ? (PlRgba) { 1, 1, 1, 1 } : (PlRgba) { 0.08, 0.08, 0.08, 1 };
              g_snprintf (buf, sizeof buf, "%u", count);
              _pl_text_draw (&c, PL_TEXT_SMALL, buf, (x0 + x1) / 2, (y0 + y1) / 2, 0.5, 0.5,
                             x1 - x0, FALSE, &ink);
            }
        }
    }

  /* thin separators in the background colour */
  if (cell >= 6 && style->background.a > 0)
    {
      cairo_save (cr);
      pl_chart_set_source (cr, &style->background);
      cairo_set_line_width (cr, MIN (1.0, cell * 0.05));
      for (guint k = 1; k < n; k++)
        {
          cairo_move_to (cr, pl_chart_area_x (a, k), a->y);
          cairo_line_to (cr, pl_chart_area_x (a, k), a->y + a->height);
          cairo_move_to (cr, a->x, pl_chart_area_y (a, k));
          cairo_line_to (cr, a->x + a->width, pl_chart_area_y (a, k));
        }
      cairo_stroke (cr);
      cairo_restore (cr);
    }

  _pl_frame_draw (&c, &m.frame, &m.layout);
  _pl_colour_bar (&c, pl_chart_sequential_lut (), a->x + a->width + style->font_size * 1.2,
                  a->y + style->font_size * 1.6, m.bar_width, MAX (a->height - style->font_size * 1.6, 10),
                  0, 1, PL_CHART_NUMBER_PERCENT, _("share"));
  confusion_clear (&m);
  _pl_draw_end (&c);
}

void
pl_chart_confusion_write_csv (const PlConfusionData *data,
                              GString               *csv)
{
  guint n;

  g_string_append (csv, "true,predicted,count,share_of_true\n");
  if (data == NULL || data->counts == NULL)
    return;
  n = data->n_classes;
  for (guint i = 0; i < n; i++)
    {
      guint64 row = 0;

      for (guint j = 0; j < n; j++)
        row += data->counts[(gsize) i * n + j];
      for (guint j = 0; j < n; j++)
        {
          guint32 count = data->counts[(gsize) i * n + j];

          if (data->class_names != NULL)
            {
              _pl_csv_string (csv, data->class_names[i]);
              g_string_append_c (csv, ',');
              _pl_csv_string (csv, data->class_names[j]);
            }
          else
            g_string_append_printf (csv, "%u,%u", i, j);
          g_string_append_printf (csv, ",%u,", count);
          if (row > 0)
            _pl_csv_double (csv, (double) count / row);
          g_string_append_c (csv, '\n');
        }
    }
}
