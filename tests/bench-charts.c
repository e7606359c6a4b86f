/* How fast the charts the GUI redraws on every drag step render: a 300×784 heatmap, a 50-bin
 * histogram and a 4-strategy curve chart at 1200×800 on an image surface (target: < 4 ms each),
 * and LeNet-5's filters (6×1 and 16×6 of 5×5) and feature maps (one image, 4 stages), which
 * follow the preview mask too.
 * Run once per chart in the test suite; with -m perf (meson test --benchmark) 200 times after a
 * warm-up, reporting median, 95th percentile and minimum. Drawing uses cairo/pixman and Pango
 * on one thread; no OpenBLAS is involved. */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <pango/pango.h>

#include "pl-chart.h"

#define TARGET_MS 4.0

typedef struct {
  float   w[300 * 784], mask[300 * 784];
  double  counts[50], thresholds[2], shares[2];
  double  x[4][24], y[4][24], lo[4][24], hi[4][24];
  PlCurve curve[4];
  PlHeatmapData   heatmap;
  PlHistogramData histogram;
  PlCurveSet      curves;
  /* LeNet-5: conv 6×1×5×5 and 16×6×5×5, maps 6@28×28, 6@14×14, 16@10×10, 16@5×5 */
  float   kw0[6 * 25], km0[6 * 25], kf0[6], kw1[16 * 6 * 25], km1[16 * 6 * 25], kf1[16];
  float   image[28 * 28], maps0[6 * 784], maps1[6 * 196], maps2[16 * 100], maps3[16 * 25];
  PlFiltersLayer    filter_layers[2];
  PlFiltersData     filters;
  PlFeatureStage    stages[4];
  PlFeatureMapsData feature_maps;
} Data;

static Data *
make_data (void)
{
  Data *d = g_new0 (Data, 1);
  g_autoptr(GRand) rand = g_rand_new_with_seed (7);
  const char *names[] = { "magnitude", "taylor", "fisher", "random" };

  /* LeNet-300-100's first layer, half of it pruned */
  for (guint i = 0; i < 300 * 784; i++)
    {
      d->w[i] = (float) (g_rand_double_range (rand, -1, 1) * 0.08);
      d->mask[i] = g_rand_double (rand) < 0.5 ? 0 : 1;
    }
  d->heatmap = (PlHeatmapData) { "layers.0", NULL, NULL, 300, 784, d->w, d->mask, 0, PL_HEATMAP_MAX_ABS };

  for (guint i = 0; i < 50; i++)
    d->counts[i] = 20000 * exp (-(double) i / 9.0);
  d->thresholds[0] = 0.02;
  d->thresholds[1] = 0.05;
  d->shares[0] = 0.3;
  d->shares[1] = 0.7;
  d->histogram = (PlHistogramData) { "|w|", "|w|", NULL, 50, 0, 0.2, d->counts, FALSE, 2, d->thresholds, d->shares };

  for (guint c = 0; c < 4; c++)
    {
      for (guint j = 0; j < 24; j++)
        {
          d->x[c][j] = 1 - pow (0.8, j);
          d->y[c][j] = 0.86 - (0.1 + 0.1 * c) * pow (d->x[c][j], 6);
          d->lo[c][j] = d->y[c][j] - 0.01 * (c + 1) * d->x[c][j];
          d->hi[c][j] = d->y[c][j] + 0.01 * (c + 1) * d->x[c][j];
        }
      d->curve[c] = (PlCurve) { names[c], 24, d->x[c], d->y[c], d->lo[c], d->hi[c] };
    }
  d->curves = (PlCurveSet) { .n_curves = 4, .curves = d->curve, .reference = 0.86, .spread = PL_SPREAD_MIN_MAX,
                             .n_seeds = 3, .y_format = PL_CHART_NUMBER_PERCENT };

  /* half the weights pruned, a third of the filters removed */
  for (guint i = 0; i < 6 * 25; i++)
    {
      d->kw0[i] = (float) g_rand_double_range (rand, -0.5, 0.5);
      d->km0[i] = g_rand_double (rand) < 0.5 ? 0 : 1;
    }
  for (guint i = 0; i < 16 * 6 * 25; i++)
    {
      d->kw1[i] = (float) g_rand_double_range (rand, -0.2, 0.2);
      d->km1[i] = g_rand_double (rand) < 0.5 ? 0 : 1;
    }
  for (guint i = 0; i < 16; i++)
    {
      if (i < 6)
        d->kf0[i] = i % 3 == 2 ? 0 : 1;
      d->kf1[i] = i % 3 == 2 ? 0 : 1;
    }
  d->filter_layers[0] = (PlFiltersLayer) { .c_out = 6, .c_in = 1, .k = 5, .weights = d->kw0, .mask = d->km0,
                                           .filter_mask = d->kf0 };
  d->filter_layers[1] = (PlFiltersLayer) { .c_out = 16, .c_in = 6, .k = 5, .weights = d->kw1, .mask = d->km1,
                                           .filter_mask = d->kf1 };
  d->filters = (PlFiltersData) { .n_layers = 2, .layers = d->filter_layers };
  for (guint i = 0; i < 28 * 28; i++)
    d->image[i] = (float) g_rand_double (rand);
  {
    float *maps[4] = { d->maps0, d->maps1, d->maps2, d->maps3 };
    const guint c[4] = { 6, 6, 16, 16 }, side[4] = { 28, 14, 10, 5 };

    for (guint st = 0; st < 4; st++)
      {
        for (guint i = 0; i < c[st] * side[st] * side[st]; i++)
          maps[st][i] = (float) g_rand_double_range (rand, 0, 2);
        d->stages[st] = (PlFeatureStage) { st % 2 == 0 ? PL_FEATURE_STAGE_CONV : PL_FEATURE_STAGE_POOL, NULL,
                                           c[st], side[st], side[st], maps[st], st < 2 ? d->kf0 : d->kf1,
                                           NULL, NULL };
      }
  }
  d->feature_maps = (PlFeatureMapsData) { .class_name = "Ankle boot", .c = 1, .h = 28, .w = 28,
                                          .image = d->image, .n_stages = 4, .stages = d->stages };
  return d;
}

static int
compare_doubles (const void *a,
                 const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return x < y ? -1 : x > y;
}

typedef struct {
  const char *name;
  PlChartKind kind;
  int         width, height;
} Case;

static Data *data;

static void
bench (gconstpointer user_data)
{
  const Case *c = user_data;
  PlChart chart = { c->kind, NULL };
  PlChartStyle style;
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, c->width, c->height);
  guint repeats = g_test_perf () ? 200 : 1, warmup = g_test_perf () ? 10 : 1;
  g_autofree double *ms = g_new (double, repeats);
  double median;

  chart.data = c->kind == PL_CHART_HEATMAP ? (gconstpointer) &data->heatmap
               : c->kind == PL_CHART_HISTOGRAM ? (gconstpointer) &data->histogram
               : c->kind == PL_CHART_FILTERS ? (gconstpointer) &data->filters
               : c->kind == PL_CHART_FEATURE_MAPS ? (gconstpointer) &data->feature_maps
               : (gconstpointer) &data->curves;
  pl_chart_style_init (&style, PL_CHART_THEME_LIGHT);

  /* Warm-up: fonts and glyph caches are loaded once per process. */
  for (guint i = 0; i < warmup + repeats; i++)
    {
      gint64 t0 = g_get_monotonic_time ();
      cairo_t *cr = cairo_create (surface);

      pl_chart_draw (cr, c->width, c->height, &chart, &style);
      g_assert_cmpint (cairo_status (cr), ==, CAIRO_STATUS_SUCCESS);
      cairo_destroy (cr);
      cairo_surface_flush (surface);
      if (i >= warmup)
        ms[i - warmup] = (g_get_monotonic_time () - t0) / 1000.0;
    }
  cairo_surface_destroy (surface);

  qsort (ms, repeats, sizeof *ms, compare_doubles);
  median = ms[repeats / 2];
  g_test_message ("%-34s %4dx%-4d  median %6.2f ms  p95 %6.2f ms  min %6.2f ms  (%u runs)%s",
                  c->name, c->width, c->height, median, ms[(guint) (repeats * 0.95)], ms[0], repeats,
                  g_test_perf () ? (median < TARGET_MS ? "  under 4 ms" : "  OVER 4 ms") : "");
  /* A report, not a gate: the machine is shared, and a busy neighbour should not fail the run. */
}

int
main (int    argc,
      char **argv)
{
  static const Case cases[] = {
    { "heatmap 300x784", PL_CHART_HEATMAP, 1200, 800 },
    { "histogram 50 bins, 2 thresholds", PL_CHART_HISTOGRAM, 1200, 800 },
    { "curves 4 strategies x 24 points", PL_CHART_CURVES, 1200, 800 },
    { "heatmap 300x784, aggregated", PL_CHART_HEATMAP, 600, 400 },
    { "heatmap 300x784, the window's", PL_CHART_HEATMAP, 900, 700 },
    { "filters LeNet-5 (2 conv layers)", PL_CHART_FILTERS, 1200, 800 },
    { "feature maps LeNet-5 (4 stages)", PL_CHART_FEATURE_MAPS, 1200, 800 },
  };
  int status;

  g_test_init (&argc, &argv, NULL);
  data = make_data ();
  g_test_message ("cairo %s, Pango %s; one thread, no OpenBLAS", cairo_version_string (), pango_version_string ());
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/charts/bench/%s-%dx%d",
                                               cases[i].kind == PL_CHART_HEATMAP ? "heatmap"
                                               : cases[i].kind == PL_CHART_HISTOGRAM ? "histogram"
                                               : cases[i].kind == PL_CHART_FILTERS ? "filters"
                                               : cases[i].kind == PL_CHART_FEATURE_MAPS ? "feature-maps" : "curves",
                                               cases[i].width, cases[i].height);
      g_test_add_data_func (path, &cases[i], bench);
    }
  status = g_test_run ();
  g_free (data);
  return status;
}
