/* The chart renderers: every kind in every format, pixel probes, empty states, CSV, export
 * failures, Chinese text, and prunelab-cli plot as a user runs it. */
#include "config.h"

#include "pl-test-cli.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <math.h>
#include <pango/pangocairo.h>
#include <string.h>

#include "pl-chart-export.h"
#include "pl-chart.h"

/* ----- fixtures: small hand-made data of every kind ----- */

typedef struct {
  PlChart          chart;
  PlHeatmapData    heatmap;
  PlFieldsData     fields;
  PlHistogramData  histogram;
  PlCurveSet       curves;
  PlCurve          curve[3];
  PlTrainingData   training;
  PlGradNormData   grad_norm;
  PlConfusionData  confusion;
  PlBoundaryData   boundary;
  PlNetworkData    network;
  PlNetworkLayer   network_layers[3];
  PlBarsData       bars;
  float            w[12 * 20], mask[12 * 20];
  float            fw[6 * 64], fmask[6 * 64], fneurons[6];
  double           counts[20], thresholds[2], shares[2];
  double           cx[3][5], cy[3][5], clo[3][5], chi[3][5];
  double           epoch[6], tl[6], vl[6], ta[6], va[6];
  float            norms[500];
  guint32          confusion_counts[9];
  guint32          grid[20 * 30], labels[40];
  float            points[80], confidence[20 * 30];
  guint            sizes[4];
  float            nw[3][5 * 4], nmask[3][5 * 4], nneurons[3][5];
  double           bar_values[9];
  PlFiltersData    filters;
  PlFiltersLayer   filter_layers[2];
  float            kw0[3 * 1 * 3 * 3], km0[3 * 1 * 3 * 3], kf0[3];
  float            kw1[4 * 3 * 3 * 3], km1[4 * 3 * 3 * 3], kf1[4];
  PlFeatureMapsData feature_maps;
  PlFeatureStage   stages[2];
  float            image[8 * 8], maps0[3 * 8 * 8], maps1[3 * 4 * 4], stage_mask[3];
} Fixture;

static const char *const class_names[] = { "cat", "dog", "bird" };
static const char *const group_names[] = { "layers.0", "layers.1", "layers.2" };
static const char *const series_names[] = { "parameter", "structural", "relative" };

static const char *const kind_names[PL_CHART_N_KINDS] = {
  "heatmap", "fields", "histogram", "curves", "sensitivity", "training", "grad-norm",
  "confusion", "boundary", "network", "bars", "filters", "feature-maps",
};

static void
fixture_fill (Fixture     *f,
              PlChartKind  kind)
{
  memset (f, 0, sizeof *f);
  f->chart.kind = kind;

  switch (kind)
    {
    case PL_CHART_HEATMAP:
      for (guint i = 0; i < 12 * 20; i++)
        {
          f->w[i] = (float) sin (i * 0.37);
          f->mask[i] = i % 7 == 3 ? 0 : 1;
        }
      f->heatmap = (PlHeatmapData) { .title = "Heatmap", .n_rows = 12, .n_cols = 20, .values = f->w,
                                     .mask = f->mask, .limit = 1 };
      f->chart.data = &f->heatmap;
      break;

    case PL_CHART_FIELDS:
      for (guint i = 0; i < 6 * 64; i++)
        {
          f->fw[i] = (float) cos (i * 0.21);
          f->fmask[i] = i % 5 == 0 ? 0 : 1;
        }
      for (guint i = 0; i < 6; i++)
        f->fneurons[i] = i == 2 ? 0 : 1;
      f->fields = (PlFieldsData) { .title = "Fields", .n_neurons = 6, .n_inputs = 64, .image_width = 8,
                                   .image_height = 8, .weights = f->fw, .mask = f->fmask,
                                   .neuron_mask = f->fneurons };
      f->chart.data = &f->fields;
      break;

    case PL_CHART_HISTOGRAM:
      for (guint i = 0; i < 20; i++)
        f->counts[i] = 200 * exp (-(double) i * 0.25);
      f->thresholds[0] = 0.3;
      f->thresholds[1] = 0.6;
      f->shares[0] = 0.58;
      f->shares[1] = 0.91;
      f->histogram = (PlHistogramData) { .title = "Histogram", .n_bins = 20, .lo = 0, .hi = 1,
                                         .counts = f->counts, .n_thresholds = 2,
                                         .thresholds = f->thresholds, .shares = f->shares };
      f->chart.data = &f->histogram;
      break;

    case PL_CHART_CURVES:
    case PL_CHART_SENSITIVITY:
      for (guint c = 0; c < 3; c++)
        {
          for (guint j = 0; j < 5; j++)
            {
              f->cx[c][j] = (double[]) { 0, 0.5, 0.75, 0.9, 0.99 }[j];
              f->cy[c][j] = 0.9 - (0.1 + 0.1 * c) * j;
              f->clo[c][j] = f->cy[c][j] - 0.02 * j;
              f->chi[c][j] = f->cy[c][j] + 0.02 * j;
            }
          f->curve[c] = (PlCurve) { (const char *[]) { "magnitude", "taylor", "random" }[c], 5,
                                    f->cx[c], f->cy[c], f->clo[c], f->chi[c] };
        }
      f->curves = (PlCurveSet) { .title = "Curves", .n_curves = 3, .curves = f->curve, .reference = 0.92,
                                 .spread = PL_SPREAD_MIN_MAX, .n_seeds = 3,
                                 .y_format = PL_CHART_NUMBER_PERCENT };
      f->chart.data = &f->curves;
      break;

    case PL_CHART_TRAINING:
      for (guint i = 0; i < 6; i++)
        {
          f->epoch[i] = i + 1;
          f->tl[i] = 1.0 / (i + 1);
          f->vl[i] = 1.1 / (i + 1) + 0.05;
          f->ta[i] = 0.5 + 0.08 * i;
          f->va[i] = i == 2 ? NAN : 0.48 + 0.07 * i;
        }
      f->training = (PlTrainingData) { .title = "Training", .n = 6, .epoch = f->epoch, .train_loss = f->tl,
                                       .val_loss = f->vl, .train_accuracy = f->ta, .val_accuracy = f->va };
      f->chart.data = &f->training;
      break;

    case PL_CHART_GRAD_NORM:
      for (guint i = 0; i < 500; i++)
        f->norms[i] = (float) (0.3 + 2.0 * exp (-(double) i / 80.0) + 0.2 * sin (i));
      f->grad_norm = (PlGradNormData) { .title = "Gradient norm", .n = 500, .norms = f->norms,
                                        .clip_norm = 1.0, .steps_per_epoch = 50 };
      f->chart.data = &f->grad_norm;
      break;

    case PL_CHART_CONFUSION:
      memcpy (f->confusion_counts, (guint32[]) { 50, 3, 2, 4, 40, 6, 0, 7, 43 }, sizeof f->confusion_counts);
      f->confusion = (PlConfusionData) { .title = "Confusion", .n_classes = 3, .counts = f->confusion_counts,
                                         .class_names = class_names };
      f->chart.data = &f->confusion;
      break;

    case PL_CHART_BOUNDARY:
      for (guint i = 0; i < 20; i++)
        for (guint j = 0; j < 30; j++)
          {
            f->grid[i * 30 + j] = j < 10 ? 0 : j < 20 ? 1 : 2;
            f->confidence[i * 30 + j] = 0.4f + 0.02f * (float) j;
          }
      for (guint k = 0; k < 40; k++)
        {
          f->points[2 * k] = (float) (-1.0 + 3.0 * k / 40.0);
          f->points[2 * k + 1] = (float) sin (k);
          f->labels[k] = k * 3 / 40;
        }
      f->boundary = (PlBoundaryData) { .title = "Boundary", .n_classes = 3, .grid_width = 30, .grid_height = 20,
                                       .grid_class = f->grid, .grid_confidence = f->confidence,
                                       .x_min = -1, .x_max = 2, .y_min = -1.5, .y_max = 1.5, .n_points = 40,
                                       .points = f->points, .labels = f->labels };
      f->chart.data = &f->boundary;
      break;

    case PL_CHART_NETWORK:
      f->sizes[0] = 3;
      f->sizes[1] = 5;
      f->sizes[2] = 4;
      f->sizes[3] = 2;
      for (guint l = 0; l < 3; l++)
        {
          for (guint i = 0; i < f->sizes[l] * f->sizes[l + 1]; i++)
            {
              f->nw[l][i] = (float) sin (i + l);
              f->nmask[l][i] = (i + l) % 4 == 0 ? 0 : 1;
            }
          for (guint j = 0; j < f->sizes[l + 1]; j++)
            f->nneurons[l][j] = l == 0 && j == 1 ? 0 : 1;
          f->network_layers[l] = (PlNetworkLayer) { f->nw[l], f->nmask[l], f->nneurons[l] };
        }
      f->network = (PlNetworkData) { .title = "Network", .n_layers = 3, .sizes = f->sizes,
                                     .layers = f->network_layers };
      f->chart.data = &f->network;
      break;

    case PL_CHART_FILTERS:
      /* two conv layers: 3 filters of 1×3×3 (filter 1 dead), 4 of 3×3×3 (weight 5 pruned) */
      for (guint i = 0; i < G_N_ELEMENTS (f->kw0); i++)
        {
          f->kw0[i] = (float) sin (i * 0.7);
          f->km0[i] = 1;
        }
      for (guint i = 0; i < G_N_ELEMENTS (f->kw1); i++)
        {
          f->kw1[i] = (float) cos (i * 0.31) * 0.5f;
          f->km1[i] = i % 9 == 5 ? 0 : 1;
        }
      for (guint i = 0; i < 3; i++)
        f->kf0[i] = i == 1 ? 0 : 1;
      for (guint i = 0; i < 4; i++)
        f->kf1[i] = 1;
      f->filter_layers[0] = (PlFiltersLayer) { .c_out = 3, .c_in = 1, .k = 3, .weights = f->kw0, .mask = f->km0,
                                               .filter_mask = f->kf0, .limit = 1 };
      f->filter_layers[1] = (PlFiltersLayer) { .c_out = 4, .c_in = 3, .k = 3, .weights = f->kw1, .mask = f->km1,
                                               .filter_mask = f->kf1, .limit = 0.5 };
      f->filters = (PlFiltersData) { .title = "Filters", .n_layers = 2, .layers = f->filter_layers };
      f->chart.data = &f->filters;
      break;

    case PL_CHART_FEATURE_MAPS:
      /* an 8×8 image, a conv stage of 3@8×8 (channel 2 dead), a pool stage of 3@4×4 */
      for (guint i = 0; i < 64; i++)
        f->image[i] = (float) (i % 8) / 7.0f;
      for (guint i = 0; i < 3 * 64; i++)
        f->maps0[i] = i >= 2 * 64 ? 0 : (float) fabs (sin (i * 0.1));
      for (guint i = 0; i < 3 * 16; i++)
        f->maps1[i] = i >= 2 * 16 ? 0 : (float) (i % 16) / 4.0f;
      for (guint i = 0; i < 3; i++)
        f->stage_mask[i] = i == 2 ? 0 : 1;
      f->stages[0] = (PlFeatureStage) { PL_FEATURE_STAGE_CONV, NULL, 3, 8, 8, f->maps0, f->stage_mask, NULL, NULL };
      f->stages[1] = (PlFeatureStage) { PL_FEATURE_STAGE_POOL, NULL, 3, 4, 4, f->maps1, f->stage_mask, NULL, NULL };
      f->feature_maps = (PlFeatureMapsData) { .title = "Feature maps", .class_name = "cat", .c = 1, .h = 8,
                                              .w = 8, .image = f->image, .n_stages = 2, .stages = f->stages };
      f->chart.data = &f->feature_maps;
      break;

    case PL_CHART_BARS:
    case PL_CHART_N_KINDS:
    default:
      for (guint i = 0; i < 9; i++)
        f->bar_values[i] = (i % 3) * 0.3 + 0.05 * i;
      f->bars = (PlBarsData) { .title = "Bars", .n_groups = 3, .group_names = group_names, .n_series = 3,
                               .series_names = series_names, .values = f->bar_values,
                               .format = PL_CHART_NUMBER_PERCENT };
      f->chart.data = &f->bars;
      break;
    }
}

static const char *
fixture_title (const Fixture *f)
{
  switch (f->chart.kind)
    {
    case PL_CHART_HEATMAP:
      return f->heatmap.title;
    case PL_CHART_FIELDS:
      return f->fields.title;
    case PL_CHART_HISTOGRAM:
      return f->histogram.title;
    case PL_CHART_CURVES:
    case PL_CHART_SENSITIVITY:
      return f->curves.title;
    case PL_CHART_TRAINING:
      return f->training.title;
    case PL_CHART_GRAD_NORM:
      return f->grad_norm.title;
    case PL_CHART_CONFUSION:
      return f->confusion.title;
    case PL_CHART_BOUNDARY:
      return f->boundary.title;
    case PL_CHART_NETWORK:
      return f->network.title;
    case PL_CHART_FILTERS:
      return f->filters.title;
    case PL_CHART_FEATURE_MAPS:
      return f->feature_maps.title;
    case PL_CHART_BARS:
    case PL_CHART_N_KINDS:
    default:
      return f->bars.title;
    }
}

/* ----- helpers ----- */

static cairo_surface_t *
render (const PlChart      *chart,
        int                 width,
        int                 height,
        const PlChartStyle *style)
{
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, width, height);
  cairo_t *cr = cairo_create (surface);

  pl_chart_draw (cr, width, height, chart, style);
  g_assert_cmpint (cairo_status (cr), ==, CAIRO_STATUS_SUCCESS);
  cairo_destroy (cr);
  cairo_surface_flush (surface);
  return surface;
}

static guint32
pixel_at (cairo_surface_t *surface,
          double           x,
          double           y)
{
  const guint8 *data = cairo_image_surface_get_data (surface);
  int stride = cairo_image_surface_get_stride (surface);
  int px = (int) floor (x), py = (int) floor (y);

  g_assert_cmpint (px, >=, 0);
  g_assert_cmpint (py, >=, 0);
  g_assert_cmpint (px, <, cairo_image_surface_get_width (surface));
  g_assert_cmpint (py, <, cairo_image_surface_get_height (surface));
  return ((const guint32 *) (gconstpointer) (data + (gsize) py * stride))[px];
}

/* Largest per-channel difference of two opaque pixels. */
static int
pixel_distance (guint32 a,
                guint32 b)
{
  int d = 0;

  for (int shift = 0; shift <= 16; shift += 8)
    d = MAX (d, ABS ((int) ((a >> shift) & 0xff) - (int) ((b >> shift) & 0xff)));
  return d;
}

static gboolean
surfaces_equal (cairo_surface_t *a,
                cairo_surface_t *b)
{
  int h = cairo_image_surface_get_height (a);
  int stride = cairo_image_surface_get_stride (a);

  return h == cairo_image_surface_get_height (b) && stride == cairo_image_surface_get_stride (b)
         && memcmp (cairo_image_surface_get_data (a), cairo_image_surface_get_data (b), (gsize) h * stride) == 0;
}

/* ----- style: ticks, numbers, palettes ----- */

static void
test_ticks_one_two_five (void)
{
  PlChartTicks t;
  double lo = 0.13, hi = 0.87;

  g_assert_cmpfloat_with_epsilon (pl_chart_nice_step (1, 5), 0.2, 1e-12);
  g_assert_cmpfloat_with_epsilon (pl_chart_nice_step (100, 5), 20, 1e-12);
  g_assert_cmpfloat_with_epsilon (pl_chart_nice_step (0.03, 6), 0.005, 1e-15);
  g_assert_cmpfloat_with_epsilon (pl_chart_nice_step (8, 1), 10, 1e-12);

  pl_chart_ticks_linear (0, 1, 5, &t);
  g_assert_cmpuint (t.n, ==, 6);
  for (guint i = 0; i < t.n; i++)
    g_assert_cmpfloat_with_epsilon (t.values[i], 0.2 * i, 1e-12);
  g_assert_cmpfloat (t.values[0], ==, 0.0);

  pl_chart_ticks_linear (-3, 7, 5, &t);
  g_assert_cmpfloat (t.step, ==, 2);
  g_assert_cmpfloat (t.values[0], ==, -2);

  pl_chart_nice_range (&lo, &hi, 5);
  g_assert_cmpfloat_with_epsilon (lo, 0.0, 1e-12);
  g_assert_cmpfloat_with_epsilon (hi, 1.0, 1e-12);

  lo = hi = 5;   /* a single value widens around itself */
  pl_chart_nice_range (&lo, &hi, 5);
  g_assert_cmpfloat (lo, <, 5);
  g_assert_cmpfloat (hi, >, 5);
}

static void
test_ticks_log_decades (void)
{
  PlChartTicks t;

  pl_chart_ticks_log (0.001, 1, 5, &t);
  g_assert_cmpuint (t.n, ==, 4);
  g_assert_cmpfloat_with_epsilon (t.values[0], 0.001, 1e-15);
  g_assert_cmpfloat_with_epsilon (t.values[3], 1, 1e-12);

  pl_chart_ticks_log (1, 100, 8, &t);
  g_assert_cmpuint (t.n, ==, 7);   /* 1 2 5 10 20 50 100 */
  g_assert_cmpfloat_with_epsilon (t.values[1], 2, 1e-12);
  g_assert_cmpfloat_with_epsilon (t.values[5], 50, 1e-12);
}

static void
test_format_number (void)
{
  char buf[64];

  pl_chart_format_number (buf, sizeof buf, 0.25, 0.05, PL_CHART_NUMBER_PLAIN);
  g_assert_cmpstr (buf, ==, "0.25");
  pl_chart_format_number (buf, sizeof buf, -0.5, 0.1, PL_CHART_NUMBER_PLAIN);
  g_assert_cmpstr (buf, ==, "−0.5");
  pl_chart_format_number (buf, sizeof buf, -0.0001, 0.1, PL_CHART_NUMBER_PLAIN);
  g_assert_cmpstr (buf, ==, "0.0");
  pl_chart_format_number (buf, sizeof buf, 12000, 2000, PL_CHART_NUMBER_INTEGER);
  g_assert_cmpstr (buf, ==, "12k");
  pl_chart_format_number (buf, sizeof buf, 3e-5, 1e-5, PL_CHART_NUMBER_PLAIN);
  g_assert_cmpstr (buf, ==, "3×10⁻⁵");
  pl_chart_format_number (buf, sizeof buf, 1e-5, 1e-5, PL_CHART_NUMBER_PLAIN);
  g_assert_cmpstr (buf, ==, "10⁻⁵");
  pl_chart_format_number (buf, sizeof buf, 0.5, 0.1, PL_CHART_NUMBER_PERCENT);
  g_assert_cmpstr (buf, ==, "50%");
  pl_chart_format_number (buf, sizeof buf, 0.8555, 0.001, PL_CHART_NUMBER_PERCENT);
  g_assert_cmpstr (buf, ==, "85.5%");
  pl_chart_format_number (buf, sizeof buf, 0.02, 0, PL_CHART_NUMBER_PLAIN);
  g_assert_cmpstr (buf, ==, "0.02");
  pl_chart_format_number (buf, sizeof buf, NAN, 0, PL_CHART_NUMBER_PLAIN);
  g_assert_cmpstr (buf, ==, "–");
}

static void
test_palettes (void)
{
  PlChartStyle light, dark;
  PlRgba c;
  const guint32 *lut;

  pl_chart_style_init (&light, PL_CHART_THEME_LIGHT);
  pl_chart_style_init (&dark, PL_CHART_THEME_DARK);

  /* Okabe–Ito blue #0072B2 leads on light backgrounds, sky blue #56B4E9 on dark ones. */
  pl_chart_series_colour (&light, 0, &c);
  g_assert_cmpuint (pl_rgba_to_pixel (&c), ==, 0xFF0072B2);
  pl_chart_series_colour (&dark, 0, &c);
  g_assert_cmpuint (pl_rgba_to_pixel (&c), ==, 0xFF56B4E9);
  pl_chart_series_colour (&light, PL_CHART_N_SERIES, &c);   /* wraps */
  g_assert_cmpuint (pl_rgba_to_pixel (&c), ==, 0xFF0072B2);

  /* The diverging map: blue below zero, red above, and the mask colour is none of its colours. */
  lut = pl_chart_diverging_lut (&light);
  g_assert_cmpuint (lut[0] & 0xff, >, (lut[0] >> 16) & 0xff);
  g_assert_cmpuint ((lut[255] >> 16) & 0xff, >, lut[255] & 0xff);
  for (guint i = 0; i < 256; i++)
    {
      g_assert_cmpint (pixel_distance (lut[i], pl_rgba_to_pixel (&light.mask)), >=, 12);
      g_assert_cmpint (pixel_distance (pl_chart_diverging_lut (&dark)[i], pl_rgba_to_pixel (&dark.mask)), >=, 12);
    }

  /* Viridis runs from dark purple to yellow. */
  lut = pl_chart_sequential_lut ();
  g_assert_cmpuint (lut[0], ==, 0xFF440154);
  g_assert_cmpuint (lut[255], ==, 0xFFFDE725);
}

static void
test_theme_parse (void)
{
  g_autoptr(GError) error = NULL;
  PlChartTheme theme;

  g_assert_true (pl_chart_theme_parse ("presentation", &theme, &error));
  g_assert_cmpint (theme, ==, PL_CHART_THEME_PRESENTATION);
  g_assert_false (pl_chart_theme_parse ("neon", &theme, &error));
  g_assert_error (error, PL_CHART_ERROR, PL_CHART_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "neon"));
}

static void
test_area_mapping_inverts (void)
{
  PlChartArea a = { 10, 20, 400, 300, { 0, 1, FALSE, PL_CHART_NUMBER_PLAIN }, { 1, 1000, TRUE, PL_CHART_NUMBER_PLAIN } };
  PlChartArea r = { 0, 0, 100, 100, { 1, 0.01, TRUE, PL_CHART_NUMBER_PERCENT }, { 0, 1, FALSE, PL_CHART_NUMBER_PLAIN } };

  g_assert_cmpfloat_with_epsilon (pl_chart_area_x (&a, 0.25), 110, 1e-9);
  g_assert_cmpfloat_with_epsilon (pl_chart_area_value_x (&a, 110), 0.25, 1e-12);
  g_assert_cmpfloat_with_epsilon (pl_chart_area_y (&a, 1), 320, 1e-9);     /* lo at the bottom */
  g_assert_cmpfloat_with_epsilon (pl_chart_area_y (&a, 1000), 20, 1e-9);
  g_assert_cmpfloat_with_epsilon (pl_chart_area_y (&a, 31.6227766), 170, 1e-6);
  g_assert_cmpfloat_with_epsilon (pl_chart_area_value_y (&a, 170), 31.6227766, 1e-6);
  /* a reversed log axis: 100 % remaining on the left */
  g_assert_cmpfloat_with_epsilon (pl_chart_area_x (&r, 1), 0, 1e-9);
  g_assert_cmpfloat_with_epsilon (pl_chart_area_x (&r, 0.1), 50, 1e-9);
}

/* ----- every kind in every format ----- */

static void
check_magic (GBytes        *bytes,
             PlChartFormat  format,
             guint          width,
             guint          height,
             double         dpi)
{
  gsize size;
  const guint8 *data = g_bytes_get_data (bytes, &size);

  switch (format)
    {
    case PL_CHART_FORMAT_PNG:
      {
        guint w, h;
        double d;

        g_assert_cmpuint (size, >, 8);
        g_assert_cmpmem (data, 8, "\x89PNG\r\n\x1a\n", 8);
        g_assert_true (pl_png_get_info (data, size, &w, &h, &d));
        g_assert_cmpuint (w, ==, width);
        g_assert_cmpuint (h, ==, height);
        g_assert_cmpfloat_with_epsilon (d, dpi, 0.0127);  /* whole pixels per metre */
      }
      break;
    case PL_CHART_FORMAT_SVG:
      {
        g_autofree char *text = g_strndup ((const char *) data, size);
        g_autofree char *want_w = g_strdup_printf ("width=\"%gpt\"", width * 72.0 / dpi);

        g_assert_true (g_str_has_prefix (text, "<?xml"));
        g_assert_nonnull (strstr (text, "<svg"));
        g_assert_nonnull (strstr (text, want_w));
        g_assert_nonnull (strstr (text, "</svg>"));
      }
      break;
    case PL_CHART_FORMAT_PDF:
    default:
      {
        g_autofree char *text = g_strndup ((const char *) data, size);
        g_autofree char *box = g_strdup_printf ("/MediaBox [ 0 0 %g %g ]", width * 72.0 / dpi, height * 72.0 / dpi);

        g_assert_cmpmem (data, 5, "%PDF-", 5);
        g_assert_nonnull (memmem (data, size, box, strlen (box)));
        g_assert_true (size > 100 && memcmp (data + size - 6, "%%EOF", 5) == 0);
      }
      break;
    }
}

static void
test_renders_every_format (gconstpointer user_data)
{
  PlChartKind kind = GPOINTER_TO_INT (user_data);
  Fixture *f = g_new (Fixture, 1);
  const PlChartTheme themes[] = { PL_CHART_THEME_LIGHT, PL_CHART_THEME_DARK, PL_CHART_THEME_PRESENTATION };

  fixture_fill (f, kind);
  g_assert_null (pl_chart_empty_message (&f->chart));
  for (guint t = 0; t < G_N_ELEMENTS (themes); t++)
    for (PlChartFormat format = PL_CHART_FORMAT_PNG; format <= PL_CHART_FORMAT_PDF; format++)
      {
        g_autoptr(GError) error = NULL;
        g_autoptr(GBytes) bytes = NULL;
        PlChartStyle style;

        pl_chart_style_init (&style, themes[t]);
        bytes = pl_chart_render (&f->chart, &style, format, 640, 480, 150, &error);
        g_assert_no_error (error);
        check_magic (bytes, format, 640, 480, 150);
      }
  g_free (f);
}

/* ----- pixel probes ----- */

static void
test_heatmap_pruned_cell_has_mask_colour (void)
{
  Fixture f;
  PlChartStyle style;
  PlChartArea area;
  cairo_surface_t *s;
  cairo_t *cr;
  const guint32 *lut;

  fixture_fill (&f, PL_CHART_HEATMAP);
  f.w[3 * 20 + 4] = 25.0f;
  f.mask[3 * 20 + 4] = 0;          /* pruned: the mask colour, whatever its value */
  f.w[5 * 20 + 6] = 1.0f;          /* kept at +limit: the map's red end */
  f.mask[5 * 20 + 6] = 1;
  f.w[7 * 20 + 2] = -1.0f;         /* kept at −limit: the blue end */
  f.mask[7 * 20 + 2] = 1;
  pl_chart_style_init (&style, PL_CHART_THEME_LIGHT);
  lut = pl_chart_diverging_lut (&style);

  s = render (&f.chart, 600, 400, &style);
  cr = cairo_create (s);
  g_assert_true (pl_chart_heatmap_layout (cr, 600, 400, &f.heatmap, &style, &area));
  cairo_destroy (cr);

  g_assert_cmpuint (pixel_at (s, pl_chart_area_x (&area, 4.5), pl_chart_area_y (&area, 3.5)), ==,
                    pl_rgba_to_pixel (&style.mask));
  g_assert_cmpuint (pixel_at (s, pl_chart_area_x (&area, 6.5), pl_chart_area_y (&area, 5.5)), ==, lut[255]);
  g_assert_cmpuint (pixel_at (s, pl_chart_area_x (&area, 2.5), pl_chart_area_y (&area, 7.5)), ==, lut[0]);

  {
    guint row, col;

    g_assert_true (pl_chart_heatmap_cell_at (&area, pl_chart_area_x (&area, 4.5), pl_chart_area_y (&area, 3.5),
                                             &row, &col));
    g_assert_cmpuint (row, ==, 3);
    g_assert_cmpuint (col, ==, 4);
  }
  cairo_surface_destroy (s);

  /* With the automatic scale (99th percentile of the kept |w|) the pruned 25.0 changes nothing. */
  f.heatmap.limit = 0;
  s = render (&f.chart, 600, 400, &style);
  cr = cairo_create (s);
  g_assert_true (pl_chart_heatmap_layout (cr, 600, 400, &f.heatmap, &style, &area));
  cairo_destroy (cr);
  g_assert_cmpuint (pixel_at (s, pl_chart_area_x (&area, 4.5), pl_chart_area_y (&area, 3.5)), ==,
                    pl_rgba_to_pixel (&style.mask));
  g_assert_cmpuint (pixel_at (s, pl_chart_area_x (&area, 6.5), pl_chart_area_y (&area, 5.5)), ==, lut[255]);
  cairo_surface_destroy (s);
}

static void
test_heatmap_aggregates_large_matrix (void)
{
  g_autofree float *w = g_new0 (float, 300 * 784);
  g_autofree float *mask = g_new (float, 300 * 784);
  PlHeatmapData data = { "Big", NULL, NULL, 300, 784, w, mask, 1.0, PL_HEATMAP_MAX_ABS };
  PlChart chart = { PL_CHART_HEATMAP, &data };
  PlChartStyle style;
  cairo_surface_t *s;
  cairo_t *cr;
  PlChartArea area;
  guint red = 0, masked = 0;
  const guint32 *lut;

  for (gsize i = 0; i < 300 * 784; i++)
    {
      w[i] = 0.01f;
      mask[i] = 1;
    }
  w[150 * 784 + 400] = 1.0f;        /* one strong weight among 235 200 */
  for (guint r = 0; r < 300; r++)   /* columns 700… all pruned */
    for (guint j = 700; j < 784; j++)
      mask[r * 784 + j] = 0;

  pl_chart_style_init (&style, PL_CHART_THEME_LIGHT);
  lut = pl_chart_diverging_lut (&style);
  s = render (&chart, 400, 300, &style);   /* far fewer pixels than weights */
  cr = cairo_create (s);
  g_assert_true (pl_chart_heatmap_layout (cr, 400, 300, &data, &style, &area));
  cairo_destroy (cr);
  g_assert_cmpfloat (area.width, <, 784);
  g_assert_cmpfloat (area.height, <, 300);

  for (int y = (int) ceil (area.y); y < (int) (area.y + area.height); y++)
    for (int x = (int) ceil (area.x); x < (int) (area.x + area.width); x++)
      {
        guint32 p = pixel_at (s, x, y);

        red += p == lut[255];
        masked += p == pl_rgba_to_pixel (&style.mask);
      }
  /* max-|w| keeps the single strong weight visible; the pruned columns stay in the mask colour */
  g_assert_cmpuint (red, >=, 1);
  g_assert_cmpuint (masked, >, 0);
  g_assert_cmpuint (pixel_at (s, pl_chart_area_x (&area, 760), pl_chart_area_y (&area, 100)), ==,
                    pl_rgba_to_pixel (&style.mask));
  cairo_surface_destroy (s);
}

/* The colour index a plain reading of pl-chart-heatmap.h gives value @v on a scale of ±@limit. */
static int
lut_index (float  v,
           double limit)
{
  float t = v * (float) (127.5 / limit) + 127.5f;

  return (int) CLAMP (t, 0.0f, 255.0f);
}

/* Every pixel of the heatmap's raster against a plain loop over each block in reading order:
 * the kept weight of largest |w| (the first of equal ones, with its sign), or the mean of the
 * kept ones; the mask colour when the block is all pruned. */
static void
test_heatmap_image_blocks_match_loop (void)
{
  enum { ROWS = 37, COLS = 53 };
  static const guint sizes[][2] = { { 53, 37 }, { 20, 9 }, { 7, 5 }, { 1, 1 }, { 53, 10 }, { 13, 37 }, { 52, 36 } };
  g_autofree float *w = g_new (float, ROWS * COLS);
  g_autofree float *mask = g_new (float, ROWS * COLS);
  GRand *rand = g_rand_new_with_seed (17);
  PlChartStyle style;
  const guint32 *lut;
  guint32 mask_px;
  const double limit = 0.8;

  pl_chart_style_init (&style, PL_CHART_THEME_LIGHT);
  lut = pl_chart_diverging_lut (&style);
  mask_px = pl_rgba_to_pixel (&style.mask);
  for (guint i = 0; i < ROWS * COLS; i++)
    {
      w[i] = (float) g_rand_double_range (rand, -1.2, 1.2);   /* some beyond ±limit */
      mask[i] = g_rand_double (rand) < 0.6 ? 0.0f : 1.0f;
    }
  for (guint r = 0; r < 12; r++)          /* a corner all pruned: whole blocks in the mask colour */
    for (guint j = 0; j < 15; j++)
      mask[r * COLS + j] = 0.0f;
  /* a tie of |w| in one block, opposite signs: the first in reading order is shown */
  w[20 * COLS + 30] = -1.5f, mask[20 * COLS + 30] = 1;
  w[20 * COLS + 31] = 1.5f, mask[20 * COLS + 31] = 1;
  w[21 * COLS + 30] = 1.5f, mask[21 * COLS + 30] = 1;   /* and one a row below */

  for (guint agg = 0; agg < 2; agg++)
    for (guint s = 0; s < G_N_ELEMENTS (sizes); s++)
      {
        PlHeatmapData data = { "t", NULL, NULL, ROWS, COLS, w, mask, limit,
                               agg == 0 ? PL_HEATMAP_MAX_ABS : PL_HEATMAP_MEAN };
        guint oc = sizes[s][0], orows = sizes[s][1];
        cairo_surface_t *image = pl_chart_heatmap_image (&data, oc, orows, limit, &style);
        const guint8 *px = cairo_image_surface_get_data (image);
        int stride = cairo_image_surface_get_stride (image);

        g_assert_cmpint (cairo_image_surface_get_width (image), ==, oc);
        g_assert_cmpint (cairo_image_surface_get_height (image), ==, orows);
        for (guint o = 0; o < orows; o++)
          for (guint b = 0; b < oc; b++)
            {
              guint r0 = o * ROWS / orows, r1 = (o + 1) * ROWS / orows;
              guint c0 = b * COLS / oc, c1 = (b + 1) * COLS / oc;
              guint32 got = ((const guint32 *) (gconstpointer) (px + (gsize) o * stride))[b];
              float top = -1, chosen = 0;
              double sum = 0;
              guint kept = 0;

              for (guint r = r0; r < r1; r++)
                for (guint j = c0; j < c1; j++)
                  if (mask[r * COLS + j] != 0)
                    {
                      float v = w[r * COLS + j];

                      kept++;
                      sum += v;
                      if (fabsf (v) > top)
                        top = fabsf (v), chosen = v;
                    }
              if (kept == 0)
                g_assert_cmphex (got, ==, mask_px);
              else if (agg == 0)
                g_assert_cmphex (got, ==, lut[lut_index (chosen, limit)]);
              else
                {
                  /* the sum's order differs from the loop's: one step of the scale either way */
                  int at = lut_index ((float) (sum / kept), limit);

                  g_assert_true (got == lut[at] || got == lut[MAX (at - 1, 0)] || got == lut[MIN (at + 1, 255)]);
                }
            }
        cairo_surface_destroy (image);
      }
  g_rand_free (rand);
}

static void
test_curves_pass_through_data_points (void)
{
  Fixture f;
  PlChartStyle style;
  PlChartArea area;
  cairo_surface_t *s;
  cairo_t *cr;

  pl_chart_style_init (&style, PL_CHART_THEME_LIGHT);
  for (guint log = 0; log < 2; log++)
    {
      fixture_fill (&f, PL_CHART_CURVES);
      f.curves.log_remaining = log;
      s = render (&f.chart, 800, 600, &style);
      cr = cairo_create (s);
      g_assert_true (pl_chart_curves_layout (cr, 800, 600, &f.curves, &style, &area));
      cairo_destroy (cr);

      for (guint c = 0; c < 3; c++)
        {
          PlRgba colour;
          guint32 want;

          pl_chart_series_colour (&style, c, &colour);
          want = pl_rgba_to_pixel (&colour);
          for (guint j = 1; j < 4; j++)
            {
              /* x: the sparsity, or on the log axis the share remaining */
              double v = log ? 1 - f.cx[c][j] : f.cx[c][j];
              guint32 got = pixel_at (s, pl_chart_area_x (&area, v), pl_chart_area_y (&area, f.cy[c][j]));

              g_assert_cmpint (pixel_distance (got, want), <=, 2);
            }
        }
      cairo_surface_destroy (s);
    }
}

/* Twelve curves, more than the palette's eight colours: curves 0 and 8 share a colour, and
 * curve 8 is drawn dashed where curve 0 is solid (pl_chart_series_dash), so that each stays
 * told apart. Along each flat line, the share of pixels in the curve's colour: all of a solid
 * line, clearly less of a dashed one, with gaps of the background. */
static void
test_curves_beyond_palette_are_dashed (void)
{
  enum { N_CURVES = 12, N_POINTS = 5 };
  static const char *const names[N_CURVES] = { "c0", "c1", "c2", "c3", "c4", "c5",
                                               "c6", "c7", "c8", "c9", "c10", "c11" };
  double x[N_POINTS] = { 0.0, 0.25, 0.5, 0.75, 0.9 };
  double y[N_CURVES][N_POINTS];
  PlCurve curves[N_CURVES];
  PlCurveSet set = { .title = "twelve", .n_curves = N_CURVES, .curves = curves, .reference = NAN };
  PlChart chart = { PL_CHART_CURVES, &set };
  PlChartStyle style;
  PlChartArea area;
  cairo_surface_t *s;
  cairo_t *cr;
  double dash[2];
  double share[2];

  pl_chart_style_init (&style, PL_CHART_THEME_LIGHT);
  g_assert_cmpuint (pl_chart_series_dash (&style, 0, dash), ==, 0);
  g_assert_cmpuint (pl_chart_series_dash (&style, PL_CHART_N_SERIES, dash), ==, 2);
  g_assert_cmpuint (pl_chart_series_dash (&style, 2 * PL_CHART_N_SERIES, dash), ==, 2);
  g_assert_cmpuint (pl_chart_series_dash (&style, 3 * PL_CHART_N_SERIES, dash), ==, 0);
  for (guint c = 0; c < N_CURVES; c++)
    {
      for (guint j = 0; j < N_POINTS; j++)
        y[c][j] = 0.04 + 0.08 * c;   /* flat, apart */
      curves[c] = (PlCurve) { names[c], N_POINTS, x, y[c], NULL, NULL };
    }
  s = render (&chart, 1200, 800, &style);
  cr = cairo_create (s);
  g_assert_true (pl_chart_curves_layout (cr, 1200, 800, &set, &style, &area));
  cairo_destroy (cr);

  for (guint k = 0; k < 2; k++)
    {
      guint c = k == 0 ? 0 : PL_CHART_N_SERIES;
      double py = pl_chart_area_y (&area, y[c][0]);
      double x0 = pl_chart_area_x (&area, 0.3), x1 = pl_chart_area_x (&area, 0.7);
      guint n = 0, hits = 0;
      PlRgba colour;
      guint32 want;

      pl_chart_series_colour (&style, c, &colour);
      want = pl_rgba_to_pixel (&colour);
      for (double px = x0; px < x1; px += 1.0, n++)
        hits += pixel_distance (pixel_at (s, px, py), want) <= 40;
      share[k] = (double) hits / n;
      g_test_message ("curve %u: %.0f%% of its line in its colour", c, 100 * share[k]);
    }
  g_assert_cmpfloat (share[0], >, 0.95);
  g_assert_cmpfloat (share[1], <, 0.85);
  g_assert_cmpfloat (share[1], >, 0.4);
  cairo_surface_destroy (s);
}

static void
test_histogram_threshold_line_where_value_maps (void)
{
  Fixture f;
  PlChartStyle style;
  PlChartArea area;
  cairo_surface_t *s;
  cairo_t *cr;

  pl_chart_style_init (&style, PL_CHART_THEME_LIGHT);
  fixture_fill (&f, PL_CHART_HISTOGRAM);
  s = render (&f.chart, 800, 600, &style);
  cr = cairo_create (s);
  g_assert_true (pl_chart_histogram_layout (cr, 800, 600, &f.histogram, &style, &area));
  cairo_destroy (cr);

  for (guint k = 0; k < 2; k++)
    {
      PlRgba colour;
      double x = pl_chart_area_x (&area, f.thresholds[k]);
      double y = area.y + area.height * 0.7;
      gboolean found = FALSE;

      pl_chart_series_colour (&style, k + 1, &colour);
      /* The 2-px line covers the pixel where the value maps (or its neighbour after snapping). */
      for (int dx = -1; dx <= 1; dx++)
        found |= pixel_distance (pixel_at (s, x + dx, y), pl_rgba_to_pixel (&colour)) <= 2;
      g_assert_true (found);
      /* and dragging that pixel gives the threshold back */
      g_assert_cmpfloat_with_epsilon (pl_chart_area_value_x (&area, x), f.thresholds[k], 1e-9);
    }
  cairo_surface_destroy (s);
}

/* ----- empty and single-point data ----- */

static void
check_empty_state (const PlChart *chart,
                   const char    *title)
{
  PlChartStyle style;
  const char *message = pl_chart_empty_message (chart);
  cairo_surface_t *got, *want;
  cairo_t *cr;

  g_assert_nonnull (message);
  pl_chart_style_init (&style, PL_CHART_THEME_LIGHT);
  got = render (chart, 500, 300, &style);
  want = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 500, 300);
  cr = cairo_create (want);
  pl_chart_draw_message (cr, 500, 300, title, message, &style);
  cairo_destroy (cr);
  cairo_surface_flush (want);
  g_assert_true (surfaces_equal (got, want));

  /* the message is drawn: some pixels in the middle band are not background */
  {
    guint inked = 0;

    for (int x = 0; x < 500; x++)
      for (int y = 120; y < 200; y++)
        inked += pixel_at (got, x, y) != 0xFFFFFFFF;
    g_assert_cmpuint (inked, >, 20);
  }
  cairo_surface_destroy (got);
  cairo_surface_destroy (want);
}

/* pl_chart_layout() gives the plot area the kind's own layout gives (the area a pointer maps
 * through: the histogram's drag, the heatmap's hover), inside the chart; kinds without one
 * plot area, and empty charts, give FALSE and a zeroed area. */
static void
test_layout_finds_plot_area (gconstpointer user_data)
{
  PlChartKind kind = GPOINTER_TO_INT (user_data);
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 1, 1);
  cairo_t *cr = cairo_create (surface);
  PlChartStyle style;
  PlChartArea area, own, zero;
  PlChart empty = { kind, NULL };
  gboolean ok;
  Fixture f;

  pl_chart_style_init (&style, PL_CHART_THEME_LIGHT);
  fixture_fill (&f, kind);
  memset (&zero, 0, sizeof zero);
  ok = pl_chart_layout (cr, 800, 600, &f.chart, &style, &area);
  if (kind == PL_CHART_FIELDS || kind == PL_CHART_NETWORK || kind == PL_CHART_TRAINING
      || kind == PL_CHART_FILTERS || kind == PL_CHART_FEATURE_MAPS)
    {
      g_assert_false (ok);
      g_assert_cmpmem (&area, sizeof area, &zero, sizeof zero);
    }
  else
    {
      g_assert_true (ok);
      g_assert_cmpfloat (area.x, >, 0);
      g_assert_cmpfloat (area.y, >, 0);
      g_assert_cmpfloat (area.width, >, 100);
      g_assert_cmpfloat (area.height, >, 100);
      g_assert_cmpfloat (area.x + area.width, <, 800);
      g_assert_cmpfloat (area.y + area.height, <, 600);
    }
  if (kind == PL_CHART_HISTOGRAM)
    {
      g_assert_true (pl_chart_histogram_layout (cr, 800, 600, &f.histogram, &style, &own));
      g_assert_cmpmem (&area, sizeof area, &own, sizeof own);
    }
  else if (kind == PL_CHART_HEATMAP)
    {
      g_assert_true (pl_chart_heatmap_layout (cr, 800, 600, &f.heatmap, &style, &own));
      g_assert_cmpmem (&area, sizeof area, &own, sizeof own);
    }
  else if (kind == PL_CHART_CURVES)
    {
      g_assert_true (pl_chart_curves_layout (cr, 800, 600, &f.curves, &style, &own));
      g_assert_cmpmem (&area, sizeof area, &own, sizeof own);
    }

  g_assert_false (pl_chart_layout (cr, 800, 600, &empty, &style, &area));
  g_assert_cmpmem (&area, sizeof area, &zero, sizeof zero);
  cairo_destroy (cr);
  cairo_surface_destroy (surface);
}

static void
test_empty_draws_message (gconstpointer user_data)
{
  PlChartKind kind = GPOINTER_TO_INT (user_data);
  Fixture *f = g_new (Fixture, 1);

  fixture_fill (f, kind);
  switch (kind)
    {
    case PL_CHART_HEATMAP:
      f->heatmap.n_rows = 0;
      break;
    case PL_CHART_FIELDS:
      f->fields.n_neurons = 0;
      break;
    case PL_CHART_HISTOGRAM:
      memset (f->counts, 0, sizeof f->counts);
      break;
    case PL_CHART_CURVES:
    case PL_CHART_SENSITIVITY:
      f->curves.n_curves = 0;
      break;
    case PL_CHART_TRAINING:
      f->training.n = 0;
      break;
    case PL_CHART_GRAD_NORM:
      f->grad_norm.n = 0;
      break;
    case PL_CHART_CONFUSION:
      memset (f->confusion_counts, 0, sizeof f->confusion_counts);
      break;
    case PL_CHART_BOUNDARY:
      f->boundary.grid_width = 0;
      f->boundary.n_points = 0;
      break;
    case PL_CHART_NETWORK:
      f->network.n_layers = 0;
      break;
    case PL_CHART_FILTERS:
      f->filters.n_layers = 0;
      break;
    case PL_CHART_FEATURE_MAPS:
      f->feature_maps.image = NULL;
      break;
    case PL_CHART_BARS:
    case PL_CHART_N_KINDS:
    default:
      f->bars.n_groups = 0;
      break;
    }
  check_empty_state (&f->chart, fixture_title (f));
  g_free (f);
}

static void
test_single_point_draws_message (gconstpointer user_data)
{
  PlChartKind kind = GPOINTER_TO_INT (user_data);
  Fixture *f = g_new (Fixture, 1);

  fixture_fill (f, kind);
  switch (kind)
    {
    case PL_CHART_HISTOGRAM:
      f->histogram.hi = f->histogram.lo;   /* every score equal */
      check_empty_state (&f->chart, "Histogram");
      break;
    case PL_CHART_CURVES:
    case PL_CHART_SENSITIVITY:
      for (guint c = 0; c < 3; c++)
        f->curve[c].n = 1;                 /* one sparsity only */
      check_empty_state (&f->chart, "Curves");
      break;
    case PL_CHART_TRAINING:
      f->training.n = 1;
      check_empty_state (&f->chart, "Training");
      break;
    case PL_CHART_GRAD_NORM:
      f->grad_norm.n = 1;
      check_empty_state (&f->chart, "Gradient norm");
      break;
    case PL_CHART_BOUNDARY:
      f->boundary.n_points = 1;
      f->boundary.grid_width = 0;
      f->boundary.x_max = f->boundary.x_min;   /* one point spans no area */
      check_empty_state (&f->chart, "Boundary");
      break;
    case PL_CHART_HEATMAP:
    case PL_CHART_FIELDS:
    case PL_CHART_CONFUSION:
    case PL_CHART_NETWORK:
    case PL_CHART_FILTERS:
    case PL_CHART_FEATURE_MAPS:
    case PL_CHART_BARS:
    case PL_CHART_N_KINDS:
    default:
      {
        /* One weight, one class, one neuron: a chart of one cell, drawn without complaint. */
        PlChartStyle style;
        cairo_surface_t *s;

        if (kind == PL_CHART_HEATMAP)
          f->heatmap.n_rows = f->heatmap.n_cols = 1;
        else if (kind == PL_CHART_FIELDS)
          f->fields.n_neurons = 1;
        else if (kind == PL_CHART_CONFUSION)
          f->confusion.n_classes = 1;
        else if (kind == PL_CHART_NETWORK)
          f->sizes[0] = f->sizes[1] = f->sizes[2] = f->sizes[3] = 1;
        else if (kind == PL_CHART_FILTERS)
          {
            f->filters.n_layers = 1;
            f->filter_layers[0].c_out = f->filter_layers[0].k = 1;
          }
        else if (kind == PL_CHART_FEATURE_MAPS)
          {
            f->feature_maps.h = f->feature_maps.w = 1;
            f->feature_maps.n_stages = 0;
          }
        else
          f->bars.n_groups = f->bars.n_series = 1;
        pl_chart_style_init (&style, PL_CHART_THEME_LIGHT);
        s = render (&f->chart, 300, 200, &style);
        cairo_surface_destroy (s);
      }
      break;
    }
  g_free (f);
}

static void
test_tiny_sizes_do_not_crash (void)
{
  PlChartStyle style;
  const int sizes[][2] = { { 1, 1 }, { 20, 10 }, { 120, 40 }, { 40, 400 } };

  pl_chart_style_init (&style, PL_CHART_THEME_PRESENTATION);
  for (PlChartKind kind = 0; kind < PL_CHART_N_KINDS; kind++)
    for (guint i = 0; i < G_N_ELEMENTS (sizes); i++)
      {
        Fixture *f = g_new (Fixture, 1);

        fixture_fill (f, kind);
        cairo_surface_destroy (render (&f->chart, sizes[i][0], sizes[i][1], &style));
        g_free (f);
      }
}

/* ----- CSV ----- */

static GPtrArray *
csv_rows (const char *csv)
{
  g_auto(GStrv) lines = g_strsplit (csv, "\n", -1);
  GPtrArray *rows = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);

  for (guint i = 0; lines[i] != NULL; i++)
    if (*lines[i] != '\0')
      g_ptr_array_add (rows, g_strsplit (lines[i], ",", -1));
  return rows;
}

static double
field (GPtrArray *rows,
       guint      row,
       guint      col)
{
  char **cells = g_ptr_array_index (rows, row);

  return g_ascii_strtod (cells[col], NULL);
}

static void
test_csv_curves_hold_plotted_numbers (void)
{
  Fixture f;
  g_autofree char *csv = NULL;
  g_autoptr(GPtrArray) rows = NULL;
  guint r = 1;

  fixture_fill (&f, PL_CHART_CURVES);
  f.cy[1][2] = 0.1 + 0.2;   /* 0.30000000000000004: must come back bit for bit */
  csv = pl_chart_to_csv (&f.chart);
  rows = csv_rows (csv);
  g_assert_cmpstr (((char **) g_ptr_array_index (rows, 0))[0], ==, "series");
  g_assert_cmpuint (rows->len, ==, 1 + 3 * 5 + 1);
  for (guint c = 0; c < 3; c++)
    for (guint j = 0; j < 5; j++, r++)
      {
        g_assert_cmpstr (((char **) g_ptr_array_index (rows, r))[0], ==, f.curve[c].name);
        g_assert_cmpfloat (field (rows, r, 1), ==, f.cx[c][j]);
        g_assert_cmpfloat (field (rows, r, 2), ==, f.cy[c][j]);
        g_assert_cmpfloat (field (rows, r, 3), ==, f.clo[c][j]);
        g_assert_cmpfloat (field (rows, r, 4), ==, f.chi[c][j]);
      }
  g_assert_cmpstr (((char **) g_ptr_array_index (rows, r))[0], ==, "dense");
  g_assert_cmpfloat (field (rows, r, 2), ==, 0.92);
}

static void
test_csv_heatmap_holds_every_weight (void)
{
  Fixture f;
  g_autofree char *csv = NULL;
  g_autoptr(GPtrArray) rows = NULL;

  fixture_fill (&f, PL_CHART_HEATMAP);
  csv = pl_chart_to_csv (&f.chart);
  rows = csv_rows (csv);
  g_assert_cmpuint (rows->len, ==, 1 + 12 * 20);
  for (guint i = 0; i < 12 * 20; i++)
    {
      g_assert_cmpfloat (field (rows, i + 1, 0), ==, i / 20);
      g_assert_cmpfloat (field (rows, i + 1, 1), ==, i % 20);
      g_assert_cmpfloat ((float) field (rows, i + 1, 2), ==, f.w[i]);
      g_assert_cmpfloat (field (rows, i + 1, 3), ==, f.mask[i] == 0 ? 1 : 0);
    }
}

static void
test_csv_histogram_holds_bins_and_thresholds (void)
{
  Fixture f;
  g_autofree char *csv = NULL;
  g_autoptr(GPtrArray) rows = NULL;

  fixture_fill (&f, PL_CHART_HISTOGRAM);
  csv = pl_chart_to_csv (&f.chart);
  rows = csv_rows (csv);
  g_assert_cmpuint (rows->len, ==, 1 + 20 + 2);
  for (guint i = 0; i < 20; i++)
    {
      g_assert_cmpstr (((char **) g_ptr_array_index (rows, i + 1))[0], ==, "count");
      g_assert_cmpfloat_with_epsilon (field (rows, i + 1, 1), i / 20.0, 1e-12);
      g_assert_cmpfloat (field (rows, i + 1, 3), ==, f.counts[i]);
    }
  g_assert_cmpstr (((char **) g_ptr_array_index (rows, 21))[0], ==, "threshold");
  g_assert_cmpfloat (field (rows, 21, 1), ==, 0.3);
  g_assert_cmpfloat (field (rows, 22, 3), ==, 0.91);
}

static void
test_csv_quotes_names (void)
{
  Fixture f;
  g_autofree char *csv = NULL;

  fixture_fill (&f, PL_CHART_CURVES);
  f.curve[0].name = "taylor, \"fine-tuned\"";
  csv = pl_chart_to_csv (&f.chart);
  g_assert_nonnull (strstr (csv, "\n\"taylor, \"\"fine-tuned\"\"\",0,"));
}

static void
test_histogram_bins_values (void)
{
  const float values[] = { 0, 0.1f, 0.25f, 0.5f, 0.99f, 1.0f, NAN, 2.0f };
  double counts[4];

  pl_histogram_bin (values, G_N_ELEMENTS (values), 4, 0, 1, counts);
  g_assert_cmpfloat (counts[0], ==, 2);   /* 0, 0.1 */
  g_assert_cmpfloat (counts[1], ==, 1);   /* 0.25 */
  g_assert_cmpfloat (counts[2], ==, 1);   /* 0.5 */
  g_assert_cmpfloat (counts[3], ==, 2);   /* 0.99 and hi itself; NaN and 2 left out */
}

static void
test_curve_summarise_seeds (void)
{
  const double x[] = { 0.5, 0, 0.5, 0, 0.5, 0.9 };
  const double y[] = { 0.8, 0.9, 0.7, 0.9, 0.9, 0.3 };
  double ox[6], om[6], olo[6], ohi[6];
  guint n;

  n = pl_curve_summarise (x, y, 6, PL_SPREAD_MIN_MAX, ox, om, olo, ohi);
  g_assert_cmpuint (n, ==, 3);
  g_assert_cmpfloat (ox[0], ==, 0);
  g_assert_cmpfloat (ox[1], ==, 0.5);
  g_assert_cmpfloat_with_epsilon (om[1], 0.8, 1e-12);
  g_assert_cmpfloat (olo[1], ==, 0.7);
  g_assert_cmpfloat (ohi[1], ==, 0.9);

  n = pl_curve_summarise (x, y, 6, PL_SPREAD_SD, ox, om, olo, ohi);
  g_assert_cmpfloat_with_epsilon (ohi[1] - om[1], 0.1, 1e-12);   /* sample sd of .8 .7 .9 */
  g_assert_cmpfloat (olo[2], ==, om[2]);                          /* one seed: no spread */
}

/* ----- export ----- */

static void
test_export_png_dpi_round_trips (void)
{
  Fixture f;
  PlChartStyle style;
  g_autofree char *dir = g_dir_make_tmp ("pl-charts-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "curves.png", NULL);
  g_autofree char *contents = NULL;
  g_autoptr(GError) error = NULL;
  gsize length;
  guint w, h;
  double dpi;

  fixture_fill (&f, PL_CHART_CURVES);
  pl_chart_style_init (&style, PL_CHART_THEME_LIGHT);
  g_assert_true (pl_chart_export (&f.chart, &style, path, PL_CHART_FORMAT_PNG, 900, 600, 300, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (path, &contents, &length, NULL));
  g_assert_true (pl_png_get_info ((const guint8 *) contents, length, &w, &h, &dpi));
  g_assert_cmpuint (w, ==, 900);
  g_assert_cmpuint (h, ==, 600);
  g_assert_cmpfloat_with_epsilon (dpi, 300, 0.0127);
  /* pHYs sits right after IHDR (8 + 25 bytes) */
  g_assert_cmpmem (contents + 8 + 25 + 4, 4, "pHYs", 4);

  /* and the same chart as CSV */
  g_remove (path);
  g_free (path);
  path = g_build_filename (dir, "curves.csv", NULL);
  g_assert_true (pl_chart_export_csv (&f.chart, path, &error));
  g_assert_no_error (error);
  g_free (contents);
  g_assert_true (g_file_get_contents (path, &contents, NULL, NULL));
  g_assert_true (g_str_has_prefix (contents, "series,sparsity,value,lo,hi\n"));
  g_remove (path);
  g_rmdir (dir);
}

static void
test_crc32_known_value (void)
{
  /* The check value of CRC-32/ISO-HDLC. */
  g_assert_cmpuint (pl_crc32 (0, (const guint8 *) "123456789", 9), ==, 0xCBF43926u);
  g_assert_cmpuint (pl_crc32 (pl_crc32 (0, (const guint8 *) "1234", 4), (const guint8 *) "56789", 5), ==,
                    0xCBF43926u);
}

static guint
count_entries (const char *dir)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  guint n = 0;

  while (d != NULL && g_dir_read_name (d) != NULL)
    n++;
  return n;
}

static void
test_export_missing_directory_fails (void)
{
  Fixture f;
  PlChartStyle style;
  g_autoptr(GError) error = NULL;
  const char *path = "/nonexistent-prunelab-dir/sub/chart.png";

  fixture_fill (&f, PL_CHART_TRAINING);
  pl_chart_style_init (&style, PL_CHART_THEME_LIGHT);
  g_assert_false (pl_chart_export (&f.chart, &style, path, PL_CHART_FORMAT_PNG, 400, 300, 96, &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
  g_assert_nonnull (strstr (error->message, path));
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
  g_clear_error (&error);

  g_assert_false (pl_chart_export_csv (&f.chart, "/nonexistent-prunelab-dir/x.csv", &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
  g_assert_nonnull (strstr (error->message, "/nonexistent-prunelab-dir/x.csv"));
}

static void
test_export_failure_leaves_no_file (void)
{
  Fixture f;
  PlChartStyle style;
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("pl-charts-XXXXXX", NULL);
  g_autofree char *target = g_build_filename (dir, "taken.svg", NULL);
  g_autofree char *inside = g_build_filename (target, "x", NULL);

  /* The target is a non-empty directory: the rename fails after the bytes were written. */
  g_assert_cmpint (g_mkdir (target, 0700), ==, 0);
  g_assert_true (g_file_set_contents (inside, "x", 1, NULL));
  fixture_fill (&f, PL_CHART_BARS);
  pl_chart_style_init (&style, PL_CHART_THEME_LIGHT);
  g_assert_false (pl_chart_export (&f.chart, &style, target, PL_CHART_FORMAT_SVG, 400, 300, 96, &error));
  g_assert_nonnull (error);
  g_assert_nonnull (strstr (error->message, target));
  g_assert_cmpuint (count_entries (dir), ==, 1);   /* no temporary file left behind */

  /* A bad size is refused before anything is written. */
  g_clear_error (&error);
  g_assert_false (pl_chart_export (&f.chart, &style, inside, PL_CHART_FORMAT_PNG, 0, 300, 96, &error));
  g_assert_error (error, PL_CHART_ERROR, PL_CHART_ERROR_INVALID);

  g_remove (inside);
  g_rmdir (target);
  g_rmdir (dir);
}

static void
test_format_from_path (void)
{
  g_autoptr(GError) error = NULL;
  PlChartFormat format;

  g_assert_true (pl_chart_format_from_path ("a/b.PDF", &format, NULL));
  g_assert_cmpint (format, ==, PL_CHART_FORMAT_PDF);
  g_assert_true (pl_chart_format_from_path ("x.svg", &format, NULL));
  g_assert_cmpint (format, ==, PL_CHART_FORMAT_SVG);
  g_assert_false (pl_chart_format_from_path ("dir.png/chart", &format, &error));
  g_assert_error (error, PL_CHART_ERROR, PL_CHART_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "dir.png/chart"));
}

/* ----- Chinese text ----- */

static gboolean
have_cjk_font (void)
{
  PangoFontMap *map = pango_cairo_font_map_get_default ();
  PangoFontFamily **families = NULL;
  int n = 0;
  gboolean found = FALSE;

  pango_font_map_list_families (map, &families, &n);
  for (int i = 0; i < n; i++)
    found |= g_str_has_prefix (pango_font_family_get_name (families[i]), "Noto Sans CJK");
  g_free (families);
  return found;
}

static void
test_chinese_text_renders (void)
{
  PlChartStyle style;
  cairo_surface_t *s;
  cairo_t *cr;
  PangoLayout *layout;
  PangoFontDescription *desc;
  PangoRectangle ink;
  Fixture f;

  if (!have_cjk_font ())
    {
      g_test_skip ("no Noto Sans CJK font (Debian: fonts-noto-cjk)");
      return;
    }
  pl_chart_style_init (&style, PL_CHART_THEME_LIGHT);
  s = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 200, 60);
  cr = cairo_create (s);
  layout = pango_cairo_create_layout (cr);
  desc = pango_font_description_new ();
  pango_font_description_set_family (desc, style.font_family);
  pango_font_description_set_absolute_size (desc, 20 * PANGO_SCALE);
  pango_layout_set_font_description (layout, desc);
  pango_layout_set_text (layout, "中文", -1);
  pango_layout_get_pixel_extents (layout, &ink, NULL);
  g_assert_cmpint (ink.width, >, 10);
  g_assert_cmpint (pango_layout_get_unknown_glyphs_count (layout), ==, 0);
  pango_font_description_free (desc);
  g_object_unref (layout);
  cairo_destroy (cr);
  cairo_surface_destroy (s);

  /* A whole chart with Chinese labels. */
  fixture_fill (&f, PL_CHART_CURVES);
  f.curves.title = "剪枝后的准确率";
  f.curves.x_label = "稀疏度";
  f.curve[0].name = "幅值";
  s = render (&f.chart, 500, 300, &style);
  cairo_surface_destroy (s);
}

/* ----- prunelab-cli plot ----- */

static const char *cli_path;

static gboolean
need_cli (void)
{
  if (cli_path != NULL)
    return TRUE;
  g_test_skip ("PRUNELAB_CLI is not set");
  return FALSE;
}

static void
assert_png (const char *path,
            guint       width,
            guint       height,
            double      dpi)
{
  g_autofree char *contents = NULL;
  gsize length;
  guint w, h;
  double d;

  g_assert_true (g_file_get_contents (path, &contents, &length, NULL));
  g_assert_true (pl_png_get_info ((const guint8 *) contents, length, &w, &h, &d));
  g_assert_cmpuint (w, ==, width);
  g_assert_cmpuint (h, ==, height);
  g_assert_cmpfloat_with_epsilon (d, dpi, 0.0127);  /* whole pixels per metre */
}

static const char train_json[] =
  "{\"command\":\"train\",\"clip_norm\":1.0,\"clip_value\":0,"
  "\"history\":[{\"epoch\":1,\"train_loss\":0.9,\"train_accuracy\":0.6,\"val_loss\":null,\"val_accuracy\":null,\"lr\":0.1,\"seconds\":0.1},"
  "{\"epoch\":2,\"train_loss\":0.5,\"train_accuracy\":0.8,\"val_loss\":0.6,\"val_accuracy\":0.75,\"lr\":0.1,\"seconds\":0.1},"
  "{\"epoch\":3,\"train_loss\":0.3,\"train_accuracy\":0.9,\"val_loss\":0.4,\"val_accuracy\":0.85,\"lr\":0.1,\"seconds\":0.1}],"
  "\"grad_norms\":[2.5,1.9,1.2,0.9,0.8,0.7],"
  "\"test_confusion_matrix\":[[40,10],[5,45]],\"test_per_class_accuracy\":[0.8,0.9]}";

static const char sweep_json[] =
  "{\"command\":\"sweep\",\"scope\":\"global\",\"dense_test_accuracy\":0.86,\"scores\":[\"magnitude\",\"taylor\"],\"seeds\":2,"
  "\"points\":[{\"score\":\"magnitude\",\"seed\":0,\"sparsity\":0,\"test_accuracy\":0.86,\"test_loss\":0.4},"
  "{\"score\":\"magnitude\",\"seed\":1,\"sparsity\":0,\"test_accuracy\":0.86,\"test_loss\":0.4},"
  "{\"score\":\"magnitude\",\"seed\":0,\"sparsity\":0.9,\"test_accuracy\":0.80,\"test_loss\":0.6},"
  "{\"score\":\"magnitude\",\"seed\":1,\"sparsity\":0.9,\"test_accuracy\":0.78,\"test_loss\":0.6},"
  "{\"score\":\"taylor\",\"seed\":0,\"sparsity\":0,\"test_accuracy\":0.86,\"test_loss\":0.4},"
  "{\"score\":\"taylor\",\"seed\":0,\"sparsity\":0.9,\"test_accuracy\":0.7,\"test_loss\":0.9}],\"seconds\":1.2}";

static const char sensitivity_json[] =
  "{\"command\":\"sensitivity\",\"dense_test_accuracy\":0.86,\"layers\":["
  "{\"name\":\"layers.0\",\"points\":[{\"sparsity\":0.5,\"test_accuracy\":0.85},{\"sparsity\":0.9,\"test_accuracy\":0.8}]},"
  "{\"name\":\"layers.1\",\"points\":[{\"sparsity\":0.5,\"test_accuracy\":0.86},{\"sparsity\":0.9,\"test_accuracy\":0.84}]}]}";

static const char prune_json[] =
  "{\"command\":\"prune\",\"test_accuracy_before\":0.86,\"test_accuracy\":0.85,\"sparsity\":0.8,\"layers\":["
  "{\"name\":\"layers.0\",\"n_in\":784,\"n_out\":300,\"weights\":235200,\"pruned\":190000,\"parameter_sparsity\":0.81,"
  "\"structural_sparsity\":0.02,\"relative_sparsity\":0.6,\"hoyer\":0.3,\"nonzero\":45200},"
  "{\"name\":\"layers.1\",\"n_in\":300,\"n_out\":100,\"weights\":30000,\"pruned\":20000,\"parameter_sparsity\":0.67,"
  "\"structural_sparsity\":0,\"relative_sparsity\":0.4,\"hoyer\":0.2,\"nonzero\":10000}]}";

static char *
write_temp (const char *dir,
            const char *name,
            const char *contents)
{
  char *path = g_build_filename (dir, name, NULL);

  g_assert_true (g_file_set_contents (path, contents, -1, NULL));
  return path;
}

static void
test_cli_plots_results (void)
{
  g_autofree char *dir = NULL;
  struct {
    const char *kind;
    const char *json;
    const char *extra;
  } cases[] = {
    { "training", train_json, NULL },
    { "gradnorm", train_json, "--log-y" },
    { "confusion", train_json, NULL },
    { "curves", sweep_json, "--log-remaining" },
    { "sensitivity", sensitivity_json, NULL },
    { "sparsity", prune_json, NULL },
  };

  if (!need_cli ())
    return;
  dir = g_dir_make_tmp ("pl-plot-XXXXXX", NULL);
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_auto(PlTestRun) r = { 0 };
      g_autofree char *input = write_temp (dir, "result.json", cases[i].json);
      g_autofree char *png = g_build_filename (dir, "chart.png", NULL);
      g_autofree char *csv = g_build_filename (dir, "chart.csv", NULL);
      g_autofree char *text = NULL;

      pl_test_run_cli (&r, cli_path, "plot", cases[i].kind, "--input", input, "--out", png, "--csv", csv,
               "--width", "640", "--height", "400", "--dpi", "200",
               cases[i].extra != NULL ? cases[i].extra : "--theme=dark", NULL);
      g_assert_cmpint (r.status, ==, 0);
      assert_png (png, 640, 400, 200);
      g_assert_true (g_file_get_contents (csv, &text, NULL, NULL));
      g_assert_cmpuint (strlen (text), >, 10);
      g_remove (png);
      g_remove (csv);
      g_remove (input);
    }

  /* the curves' CSV: magnitude at 90 %: mean 0.79 of two seeds, band 0.78 … 0.80 */
  {
    g_auto(PlTestRun) r = { 0 };
    g_autofree char *input = write_temp (dir, "sweep.json", sweep_json);
    g_autofree char *csv = g_build_filename (dir, "curves.csv", NULL);
    g_autofree char *text = NULL;

    pl_test_run_cli (&r, cli_path, "plot", "curves", "--input", input, "--csv", csv, NULL);
    g_assert_cmpint (r.status, ==, 0);
    g_assert_true (g_file_get_contents (csv, &text, NULL, NULL));
    g_assert_nonnull (strstr (text, "magnitude,0.9,0.79,0.78,0.8\n"));
    g_assert_nonnull (strstr (text, "dense,,0.86,,\n"));
    g_remove (csv);
    g_remove (input);
  }
  g_rmdir (dir);
}

static void
test_cli_plots_model (void)
{
  g_autofree char *dir = NULL;
  g_autofree char *model = NULL;
  g_autofree char *json = NULL;
  g_auto(PlTestRun) train = { 0 };
  const char *kinds[] = { "heatmap", "histogram", "network", "boundary", "confusion", "sparsity" };

  if (!need_cli ())
    return;
  dir = g_dir_make_tmp ("pl-plot-XXXXXX", NULL);
  model = g_build_filename (dir, "moons.safetensors", NULL);
  json = g_build_filename (dir, "train.json", NULL);

  /* train --plot renders the training curves right after training */
  {
    g_autofree char *plot = g_build_filename (dir, "train.svg", NULL);
    g_autofree char *svg = NULL;

    pl_test_run_cli (&train, cli_path, "train", "--data", "moons:n=300", "--epochs", "3", "--arch", "2-8-2",
             "--out", model, "--plot", plot, NULL);
    g_assert_cmpint (train.status, ==, 0);
    g_assert_true (g_file_get_contents (plot, &svg, NULL, NULL));
    g_assert_true (g_str_has_prefix (svg, "<?xml"));
    g_remove (plot);
  }

  for (guint i = 0; i < G_N_ELEMENTS (kinds); i++)
    {
      g_auto(PlTestRun) r = { 0 };
      g_autofree char *png = g_build_filename (dir, "chart.png", NULL);

      pl_test_run_cli (&r, cli_path, "plot", kinds[i], "--input", model, "--data", "moons:n=300", "--out", png,
               "--width", "500", "--height", "300", "--threshold", "0.1,0.5", NULL);
      g_assert_cmpint (r.status, ==, 0);
      assert_png (png, 500, 300, 96);
      g_remove (png);
    }

  /* fields of a 2-input model: the inputs are no image */
  {
    g_auto(PlTestRun) r = { 0 };
    g_autofree char *png = g_build_filename (dir, "fields.png", NULL);

    pl_test_run_cli (&r, cli_path, "plot", "fields", "--input", model, "--out", png, NULL);
    g_assert_cmpint (r.status, ==, 1);
    g_assert_nonnull (strstr (r.err, model));
    g_assert_false (g_file_test (png, G_FILE_TEST_EXISTS));
  }
  g_remove (model);
  g_rmdir (dir);
}

static void
test_cli_rejects_bad_input (void)
{
  g_autofree char *dir = NULL;
  struct {
    const char *kind;
    const char *json;
    const char *says;
    int         status;
  } cases[] = {
    { "training", "{\"command\":\"train\",\"history\":[{\"epoch\":1}]}", "train_loss", 1 },
    { "training", "{\"command\":\"sweep\",\"points\":[]}", "train", 1 },
    { "curves", "{\"command\":\"sweep\",\"points\":[{\"score\":\"magnitude\",\"sparsity\":\"lots\",\"test_accuracy\":1}]}", "sparsity", 1 },
    { "curves", "[1, 2, 3]", "JSON object", 1 },
    { "confusion", "{\"test_confusion_matrix\":[[1,2],[3]]}", "test_confusion_matrix[1]", 1 },
    { "heatmap", "{\"command\":\"train\"}", "model", 1 },
    { "sensitivity", "not json at all", "not valid JSON", 1 },
  };

  if (!need_cli ())
    return;
  dir = g_dir_make_tmp ("pl-plot-XXXXXX", NULL);
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_auto(PlTestRun) r = { 0 };
      g_autofree char *input = write_temp (dir, "bad.json", cases[i].json);
      g_autofree char *png = g_build_filename (dir, "chart.png", NULL);

      pl_test_run_cli (&r, cli_path, "plot", cases[i].kind, "--input", input, "--out", png, NULL);
      g_assert_cmpint (r.status, ==, cases[i].status);
      g_assert_nonnull (strstr (r.err, input));
      g_assert_nonnull (strstr (r.err, cases[i].says));
      g_assert_false (g_file_test (png, G_FILE_TEST_EXISTS));
      g_remove (input);
    }

  /* usage errors: exit 2 */
  {
    g_auto(PlTestRun) a = { 0 };
    g_auto(PlTestRun) b = { 0 };
    g_auto(PlTestRun) c = { 0 };

    pl_test_run_cli (&a, cli_path, "plot", "pie", "--input", "x.json", "--out", "x.png", NULL);
    g_assert_cmpint (a.status, ==, 2);
    pl_test_run_cli (&b, cli_path, "plot", "training", "--input", "x.json", "--out", "x.gif", NULL);
    g_assert_cmpint (b.status, ==, 2);
    pl_test_run_cli (&c, cli_path, "plot", "training", "--input", "x.json", "--out", "x.png", "--theme", "neon", NULL);
    g_assert_cmpint (c.status, ==, 2);
  }

  /* a directory that does not exist: exit 1, the path named */
  {
    g_auto(PlTestRun) r = { 0 };
    g_autofree char *input = write_temp (dir, "train.json", train_json);

    pl_test_run_cli (&r, cli_path, "plot", "training", "--input", input, "--out", "/nonexistent-prunelab-dir/t.png", NULL);
    g_assert_cmpint (r.status, ==, 1);
    g_assert_nonnull (strstr (r.err, "/nonexistent-prunelab-dir/t.png"));
    g_remove (input);
  }
  g_rmdir (dir);
}

static void
test_cli_help_lists_kinds (void)
{
  g_auto(PlTestRun) r = { 0 };
  const char *kinds[] = { "heatmap", "fields", "histogram", "curves", "training", "gradnorm",
                          "sensitivity", "confusion", "boundary", "network", "sparsity", "filters",
                          "feature-maps" };

  if (!need_cli ())
    return;
  pl_test_run_cli (&r, cli_path, "plot", "--help", NULL);
  g_assert_cmpint (r.status, ==, 0);
  for (guint i = 0; i < G_N_ELEMENTS (kinds); i++)
    {
      g_autofree char *line = g_strdup_printf ("\n  %s ", kinds[i]);

      g_assert_nonnull (strstr (r.out, line));
    }
}

/* ----- conv charts: filters, feature maps, channel stacks ----- */

/* The pixel at the centre of weight (ky, kx) of a tile. */
static void
filter_weight_point (cairo_t             *cr,
                     const PlFiltersData *data,
                     const PlChartStyle  *style,
                     guint                layer,
                     guint                filter,
                     guint                channel,
                     guint                ky,
                     guint                kx,
                     double              *x,
                     double              *y)
{
  double tx, ty, tw, th;
  guint k = data->layers[layer].k;

  g_assert_true (pl_chart_filters_tile_rect (cr, 800, 600, data, style, layer, filter, channel, &tx, &ty, &tw, &th));
  g_assert_cmpfloat (tw, >=, 2.0 * k);
  *x = tx + (kx + 0.5) * tw / k;
  *y = ty + (ky + 0.5) * th / k;
}

/* A dead filter's tile carries the cross at its centre; a pruned weight is in the mask colour;
 * weights at ±limit are the map's red and blue ends — each at the point the hit test names. */
static void
test_filters_pixels (void)
{
  Fixture f;
  PlChartStyle style;
  cairo_surface_t *s;
  cairo_t *cr;
  const guint32 *lut;
  double x, y;
  PlFiltersHit hit;

  fixture_fill (&f, PL_CHART_FILTERS);
  /* layer 1 (limit 0.5): filter 2, channel 1: (0, 0) = +0.5 red, (2, 1) = −0.5 blue, (1, 2)
   * pruned; filter 1 of layer 0 is dead */
  f.kw1[(2 * 3 + 1) * 9 + 0] = 0.5f;
  f.kw1[(2 * 3 + 1) * 9 + 7] = -0.5f;
  f.km1[(2 * 3 + 1) * 9 + 5] = 0;
  f.kw1[(2 * 3 + 1) * 9 + 5] = 0.4f;
  pl_chart_style_init (&style, PL_CHART_THEME_LIGHT);
  lut = pl_chart_diverging_lut (&style);
  s = render (&f.chart, 800, 600, &style);
  cr = cairo_create (s);

  filter_weight_point (cr, &f.filters, &style, 1, 2, 1, 0, 0, &x, &y);
  g_assert_cmpuint (pixel_at (s, x, y), ==, lut[255]);
  g_assert_true (pl_chart_filters_hit (cr, 800, 600, &f.filters, &style, x, y, &hit));
  g_assert_cmpuint (hit.layer, ==, 1);
  g_assert_cmpuint (hit.filter, ==, 2);
  g_assert_cmpuint (hit.channel, ==, 1);
  g_assert_cmpuint (hit.ky, ==, 0);
  g_assert_cmpuint (hit.kx, ==, 0);

  filter_weight_point (cr, &f.filters, &style, 1, 2, 1, 2, 1, &x, &y);
  g_assert_cmpuint (pixel_at (s, x, y), ==, lut[0]);
  g_assert_true (pl_chart_filters_hit (cr, 800, 600, &f.filters, &style, x, y, &hit));
  g_assert_cmpuint (hit.ky, ==, 2);
  g_assert_cmpuint (hit.kx, ==, 1);

  filter_weight_point (cr, &f.filters, &style, 1, 2, 1, 1, 2, &x, &y);
  g_assert_cmpuint (pixel_at (s, x, y), ==, pl_rgba_to_pixel (&style.mask));
  g_assert_true (pl_chart_filters_hit (cr, 800, 600, &f.filters, &style, x, y, &hit));
  g_assert_cmpuint (hit.ky * 3 + hit.kx, ==, 5);

  /* the dead filter: its tile's centre is where the cross's strokes meet, in the text colour;
   * the live filter beside it shows its weight there */
  filter_weight_point (cr, &f.filters, &style, 0, 1, 0, 1, 1, &x, &y);
  g_assert_cmpint (pixel_distance (pixel_at (s, x, y), pl_rgba_to_pixel (&style.foreground)), <=, 2);
  filter_weight_point (cr, &f.filters, &style, 0, 0, 0, 1, 1, &x, &y);
  /* by hand: limit 1 maps w onto entry ⌊(w + 1) · 127.5⌋ */
  g_assert_cmpuint (pixel_at (s, x, y), ==, lut[(int) floor ((f.kw0[4] + 1.0) * 127.5)]);

  /* between tiles is no weight */
  {
    double tx, ty, tw, th;

    g_assert_true (pl_chart_filters_tile_rect (cr, 800, 600, &f.filters, &style, 1, 0, 0, &tx, &ty, &tw, &th));
    g_assert_false (pl_chart_filters_hit (cr, 800, 600, &f.filters, &style, tx + tw + tw / 6, ty + 1, &hit));
    g_assert_false (pl_chart_filters_hit (cr, 800, 600, &f.filters, &style, 2, 2, &hit));
  }
  cairo_destroy (cr);
  cairo_surface_destroy (s);

  /* a preview that prunes a kept weight shows it half-way to the mask colour, unlike the
   * weights already pruned */
  {
    float preview[G_N_ELEMENTS (f.km1)];
    PlRgba half;

    memcpy (preview, f.km1, sizeof preview);
    preview[(2 * 3 + 1) * 9 + 0] = 0;
    f.filter_layers[1].preview_mask = preview;
    s = render (&f.chart, 800, 600, &style);
    cr = cairo_create (s);
    pl_rgba_mix (&style.mask, &style.background, 0.5, &half);
    half.a = 1;
    filter_weight_point (cr, &f.filters, &style, 1, 2, 1, 0, 0, &x, &y);
    g_assert_cmpuint (pixel_at (s, x, y), ==, pl_rgba_to_pixel (&half));
    g_assert_cmpuint (pixel_at (s, x, y), !=, pl_rgba_to_pixel (&style.mask));
    filter_weight_point (cr, &f.filters, &style, 1, 2, 1, 1, 2, &x, &y);
    g_assert_cmpuint (pixel_at (s, x, y), ==, pl_rgba_to_pixel (&style.mask));
    cairo_destroy (cr);
    cairo_surface_destroy (s);
  }
}

/* The most pixels within 2 levels of @colour on one horizontal line of the band y0 ≤ y < y1,
 * from x0 to x1. */
static guint
count_colour_in_band (cairo_surface_t *s,
                      double           x0,
                      double           x1,
                      double           y0,
                      double           y1,
                      guint32          colour)
{
  guint best = 0;

  for (double y = MAX (y0, 0); y < y1; y += 1)
    {
      guint n = 0;

      for (double x = x0; x < x1; x += 1)
        n += pixel_distance (pixel_at (s, x, y), colour) <= 2;
      best = MAX (best, n);
    }
  return best;
}

/* A filter the preview removes is framed in the preview colour (dashes along its row), one
 * already removed is not, nor is a live one. */
static void
test_filters_preview_frame (void)
{
  Fixture f;
  PlChartStyle style;
  cairo_surface_t *s;
  cairo_t *cr;
  float preview_filters[4] = { 1, 1, 1, 0 };   /* layer 1: the preview removes filter 3 */
  double tx, ty, tw, th, gx, gy, gw, gh;
  guint32 frame;

  fixture_fill (&f, PL_CHART_FILTERS);
  f.filter_layers[1].preview_filter_mask = preview_filters;
  f.kf0[1] = 0;
  pl_chart_style_init (&style, PL_CHART_THEME_LIGHT);
  frame = pl_rgba_to_pixel (&style.series[2]);
  s = render (&f.chart, 800, 600, &style);
  cr = cairo_create (s);

  /* the frame runs in the gap (one weight high) just above filter 3's tiles */
  g_assert_true (pl_chart_filters_tile_rect (cr, 800, 600, &f.filters, &style, 1, 3, 0, &tx, &ty, &tw, &th));
  g_assert_true (pl_chart_filters_tile_rect (cr, 800, 600, &f.filters, &style, 1, 3, 2, &gx, &gy, &gw, &gh));
  g_assert_cmpuint (count_colour_in_band (s, tx, gx + gw, ty - tw / 3, ty, frame), >, 10);
  /* not above live filter 1 of layer 1, nor above dead filter 1 of layer 0 */
  g_assert_true (pl_chart_filters_tile_rect (cr, 800, 600, &f.filters, &style, 1, 1, 0, &tx, &ty, &tw, &th));
  g_assert_cmpuint (count_colour_in_band (s, tx, gx + gw, ty - tw / 3, ty, frame), ==, 0);
  g_assert_true (pl_chart_filters_tile_rect (cr, 800, 600, &f.filters, &style, 0, 1, 0, &tx, &ty, &tw, &th));
  g_assert_cmpuint (count_colour_in_band (s, tx, tx + tw, ty - tw / 3, ty, frame), ==, 0);
  cairo_destroy (cr);
  cairo_surface_destroy (s);
}

/* Filters beyond max_channels are not drawn, and the note says so. */
static void
test_filters_many_channels (void)
{
  Fixture f;
  PlChartStyle style;
  cairo_surface_t *s;
  cairo_t *cr;
  double x, y, w, h;

  fixture_fill (&f, PL_CHART_FILTERS);
  f.filters.max_channels = 2;
  pl_chart_style_init (&style, PL_CHART_THEME_LIGHT);
  s = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 1, 1);
  cr = cairo_create (s);
  g_assert_true (pl_chart_filters_tile_rect (cr, 800, 600, &f.filters, &style, 1, 3, 1, &x, &y, &w, &h));
  g_assert_false (pl_chart_filters_tile_rect (cr, 800, 600, &f.filters, &style, 1, 3, 2, &x, &y, &w, &h));
  cairo_destroy (cr);
  cairo_surface_destroy (s);
}

static double
luminance (guint32 px)
{
  return 0.2126 * ((px >> 16) & 0xff) + 0.7152 * ((px >> 8) & 0xff) + 0.0722 * (px & 0xff);
}

/* Brighter pixels for larger values within a row's shared scale; a dead channel crossed out;
 * the hit test names the map pixel. */
static void
test_feature_maps_pixels (void)
{
  Fixture f;
  PlChartStyle style;
  cairo_surface_t *s;
  cairo_t *cr;
  double tx, ty, tw, th;
  const double values[] = { 0.0, 0.4, 1.1, 2.0, 3.0 };   /* pool stage, channel 0, x = 0…4 */
  double last = -1;
  guint row, ch, y, x;

  fixture_fill (&f, PL_CHART_FEATURE_MAPS);
  for (guint i = 0; i < 32; i++)
    f.maps1[i] = 1.5f;
  f.maps1[16 + 5] = 3.0f;                   /* channel 1: the row's highest value */
  for (guint i = 0; i < 4; i++)
    f.maps1[i] = (float) values[i];         /* channel 0, y = 0 */
  f.maps1[4] = 0.0f;
  pl_chart_style_init (&style, PL_CHART_THEME_LIGHT);
  s = render (&f.chart, 800, 600, &style);
  cr = cairo_create (s);

  g_assert_true (pl_chart_feature_maps_tile_rect (cr, 800, 600, &f.feature_maps, &style, 2, 0, &tx, &ty, &tw, &th));
  g_assert_cmpfloat (tw, >=, 16);
  for (guint i = 0; i < 4; i++)
    {
      double px = tx + (i + 0.5) * tw / 4, py = ty + 0.5 * th / 4;
      double lum = luminance (pixel_at (s, px, py));

      g_assert_cmpfloat (lum, >, last);
      last = lum;
      g_assert_true (pl_chart_feature_maps_hit (cr, 800, 600, &f.feature_maps, &style, px, py, &row, &ch, &y, &x));
      g_assert_cmpuint (row, ==, 2);
      g_assert_cmpuint (ch, ==, 0);
      g_assert_cmpuint (y, ==, 0);
      g_assert_cmpuint (x, ==, i);
    }
  /* the row's lowest value (0) is the map's first colour, its highest (3, in channel 1) the last */
  g_assert_cmpuint (pixel_at (s, tx + 0.5 * tw / 4, ty + 0.5 * th / 4), ==, pl_chart_sequential_lut ()[0]);
  g_assert_true (pl_chart_feature_maps_tile_rect (cr, 800, 600, &f.feature_maps, &style, 2, 1, &tx, &ty, &tw, &th));
  g_assert_cmpuint (pixel_at (s, tx + 1.5 * tw / 4, ty + 1.5 * th / 4), ==, pl_chart_sequential_lut ()[255]);

  /* channel 2 is dead: crossed out through its centre */
  g_assert_true (pl_chart_feature_maps_tile_rect (cr, 800, 600, &f.feature_maps, &style, 1, 2, &tx, &ty, &tw, &th));
  g_assert_cmpint (pixel_distance (pixel_at (s, tx + tw / 2, ty + th / 2), pl_rgba_to_pixel (&style.foreground)), <=, 2);
  cairo_destroy (cr);
  cairo_surface_destroy (s);

  /* show_preview draws the preview's maps: a map that turns dark turns dark in the chart */
  {
    float preview[3 * 4 * 4];
    guint32 before, after;

    s = render (&f.chart, 800, 600, &style);
    cr = cairo_create (s);
    g_assert_true (pl_chart_feature_maps_tile_rect (cr, 800, 600, &f.feature_maps, &style, 2, 1, &tx, &ty, &tw, &th));
    before = pixel_at (s, tx + 1.5 * tw / 4, ty + 1.5 * th / 4);
    cairo_destroy (cr);
    cairo_surface_destroy (s);
    memcpy (preview, f.maps1, sizeof preview);
    preview[16 + 5] = 0;
    f.stages[1].preview_maps = preview;
    f.feature_maps.show_preview = TRUE;
    s = render (&f.chart, 800, 600, &style);
    after = pixel_at (s, tx + 1.5 * tw / 4, ty + 1.5 * th / 4);
    g_assert_cmpfloat (luminance (after), <, luminance (before));
    cairo_surface_destroy (s);
  }
}

static void
test_csv_filters_and_feature_maps (void)
{
  Fixture f;
  g_autofree char *csv = NULL;
  g_autofree char *maps_csv = NULL;
  g_autoptr(GPtrArray) rows = NULL;
  g_autoptr(GPtrArray) map_rows = NULL;
  guint r = 1;

  fixture_fill (&f, PL_CHART_FILTERS);
  csv = pl_chart_to_csv (&f.chart);
  rows = csv_rows (csv);
  g_assert_cmpstr (((char **) g_ptr_array_index (rows, 0))[7], ==, "filter_pruned");
  g_assert_cmpuint (rows->len, ==, 1 + 27 + 108);
  for (guint l = 0; l < 2; l++)
    {
      const PlFiltersLayer *L = &f.filter_layers[l];

      for (guint i = 0; i < L->c_out * L->c_in * 9; i++, r++)
        {
          g_assert_cmpfloat (field (rows, r, 0), ==, l);
          g_assert_cmpfloat (field (rows, r, 1), ==, i / (L->c_in * 9));
          g_assert_cmpfloat (field (rows, r, 2), ==, i / 9 % L->c_in);
          g_assert_cmpfloat (field (rows, r, 3), ==, i % 9 / 3);
          g_assert_cmpfloat (field (rows, r, 4), ==, i % 3);
          g_assert_cmpfloat ((float) field (rows, r, 5), ==, L->weights[i]);
          g_assert_cmpfloat (field (rows, r, 6), ==, L->mask[i] == 0);
          g_assert_cmpfloat (field (rows, r, 7), ==, L->filter_mask[i / (L->c_in * 9)] == 0);
        }
    }

  fixture_fill (&f, PL_CHART_FEATURE_MAPS);
  maps_csv = pl_chart_to_csv (&f.chart);
  map_rows = csv_rows (maps_csv);
  g_assert_cmpuint (map_rows->len, ==, 1 + 64 + 3 * 64 + 3 * 16);
  for (guint i = 0; i < 64; i++)
    {
      g_assert_cmpfloat (field (map_rows, 1 + i, 0), ==, 0);
      g_assert_cmpfloat (field (map_rows, 1 + i, 2), ==, i / 8);
      g_assert_cmpfloat (field (map_rows, 1 + i, 3), ==, i % 8);
      g_assert_cmpfloat ((float) field (map_rows, 1 + i, 4), ==, f.image[i]);
    }
  for (guint i = 0; i < 3 * 64; i++)
    {
      g_assert_cmpfloat (field (map_rows, 65 + i, 0), ==, 1);
      g_assert_cmpfloat (field (map_rows, 65 + i, 1), ==, i / 64);
      g_assert_cmpfloat ((float) field (map_rows, 65 + i, 4), ==, f.maps0[i]);
    }
  for (guint i = 0; i < 3 * 16; i++)
    {
      g_assert_cmpfloat (field (map_rows, 257 + i, 0), ==, 2);
      g_assert_cmpfloat ((float) field (map_rows, 257 + i, 4), ==, f.maps1[i]);
    }
}

/* An MLP's diagram keeps its layout: the first column at padding + 4 em from the left, the last
 * at 4 em from the right (as before conv stages existed). With conv stages, the stacks come
 * first: the dense columns move right, a dead filter is drawn hollow, and the CSV adds one
 * "channel" row per channel after the MLP's rows, which stay as they were. */
static void
test_network_conv_stages (void)
{
  Fixture f;
  PlChartStyle style;
  cairo_surface_t *s, *alive_s, *dead_s;
  cairo_t *cr;
  double x, y, x_conv, y_conv;
  float alive[4] = { 1, 1, 1, 1 }, dead[4] = { 0, 0, 0, 0 };
  PlNetworkStage stages[2] = {
    { PL_NETWORK_STAGE_INPUT, 1, 6, 6, NULL },
    { PL_NETWORK_STAGE_CONV, 4, 6, 6, alive },
  };
  g_autofree char *mlp_csv = NULL;
  g_autofree char *conv_csv = NULL;
  g_autoptr(GPtrArray) rows = NULL;

  fixture_fill (&f, PL_CHART_NETWORK);
  pl_chart_style_init (&style, PL_CHART_THEME_LIGHT);
  s = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 1, 1);
  cr = cairo_create (s);
  g_assert_true (pl_chart_network_neuron_position (cr, 800, 600, &f.network, &style, 0, 0, &x, &y));
  g_assert_cmpfloat_with_epsilon (x, style.padding + 4 * style.font_size, 1e-9);
  g_assert_true (pl_chart_network_neuron_position (cr, 800, 600, &f.network, &style, 3, 0, &x, &y));
  g_assert_cmpfloat_with_epsilon (x, 800 - style.padding - 4 * style.font_size, 1e-9);
  mlp_csv = pl_chart_to_csv (&f.chart);

  f.network.n_stages = 2;
  f.network.stages = stages;
  g_assert_true (pl_chart_network_neuron_position (cr, 800, 600, &f.network, &style, 0, 0, &x_conv, &y_conv));
  /* 2 stacks + 4 columns: the first dense column is the third of six places */
  g_assert_cmpfloat_with_epsilon (x_conv, style.padding + 4 * style.font_size
                                  + 2 * (800 - 2 * style.padding - 8 * style.font_size) / 5, 1e-9);
  cairo_destroy (cr);
  cairo_surface_destroy (s);

  conv_csv = pl_chart_to_csv (&f.chart);
  g_assert_true (g_str_has_prefix (conv_csv, mlp_csv));
  rows = csv_rows (conv_csv + strlen (mlp_csv));
  g_assert_cmpuint (rows->len, ==, 1 + 4);
  g_assert_cmpstr (((char **) g_ptr_array_index (rows, 0))[0], ==, "channel");

  /* the conv stack with every filter dead differs from the live one (hollow squares) */
  alive_s = render (&f.chart, 800, 600, &style);
  stages[1].filter_mask = dead;
  dead_s = render (&f.chart, 800, 600, &style);
  g_assert_false (surfaces_equal (alive_s, dead_s));
  cairo_surface_destroy (alive_s);
  cairo_surface_destroy (dead_s);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  cli_path = g_getenv ("PRUNELAB_CLI");

  g_test_add_func ("/charts/style/ticks/one-two-five", test_ticks_one_two_five);
  g_test_add_func ("/charts/style/ticks/log-decades", test_ticks_log_decades);
  g_test_add_func ("/charts/style/numbers/format-for-axes", test_format_number);
  g_test_add_func ("/charts/style/palettes/okabe-ito-viridis-diverging", test_palettes);
  g_test_add_func ("/charts/style/theme/parse", test_theme_parse);
  g_test_add_func ("/charts/style/area/maps-and-inverts", test_area_mapping_inverts);

  for (PlChartKind kind = 0; kind < PL_CHART_N_KINDS; kind++)
    {
      g_autofree char *every = g_strdup_printf ("/charts/%s/renders-png-svg-pdf", kind_names[kind]);
      g_autofree char *empty = g_strdup_printf ("/charts/%s/empty-draws-message", kind_names[kind]);
      g_autofree char *single = g_strdup_printf ("/charts/%s/single-point-never-crashes", kind_names[kind]);
      g_autofree char *layout = g_strdup_printf ("/charts/%s/layout-finds-plot-area", kind_names[kind]);

      g_test_add_data_func (every, GINT_TO_POINTER (kind), test_renders_every_format);
      g_test_add_data_func (empty, GINT_TO_POINTER (kind), test_empty_draws_message);
      g_test_add_data_func (single, GINT_TO_POINTER (kind), test_single_point_draws_message);
      g_test_add_data_func (layout, GINT_TO_POINTER (kind), test_layout_finds_plot_area);
    }
  g_test_add_func ("/charts/any/tiny-sizes-never-crash", test_tiny_sizes_do_not_crash);
  g_test_add_func ("/charts/filters/dead-pruned-and-signs-where-hit-test-says", test_filters_pixels);
  g_test_add_func ("/charts/filters/first-channels-only", test_filters_many_channels);
  g_test_add_func ("/charts/filters/preview-removal-framed", test_filters_preview_frame);
  g_test_add_func ("/charts/feature-maps/brightness-follows-values", test_feature_maps_pixels);
  g_test_add_func ("/charts/csv/filters-and-feature-maps-hold-inputs", test_csv_filters_and_feature_maps);
  g_test_add_func ("/charts/network/conv-stages-before-an-unchanged-mlp", test_network_conv_stages);

  g_test_add_func ("/charts/heatmap/pruned-cell-has-mask-colour", test_heatmap_pruned_cell_has_mask_colour);
  g_test_add_func ("/charts/heatmap/large-matrix-keeps-largest-weight", test_heatmap_aggregates_large_matrix);
  g_test_add_func ("/charts/heatmap/image-blocks-match-loop", test_heatmap_image_blocks_match_loop);
  g_test_add_func ("/charts/curves/pass-through-data-points", test_curves_pass_through_data_points);
  g_test_add_func ("/charts/curves/beyond-the-palette-are-dashed", test_curves_beyond_palette_are_dashed);
  g_test_add_func ("/charts/curves/summarise-seeds", test_curve_summarise_seeds);
  g_test_add_func ("/charts/histogram/threshold-line-where-value-maps", test_histogram_threshold_line_where_value_maps);
  g_test_add_func ("/charts/histogram/bins-values", test_histogram_bins_values);

  g_test_add_func ("/charts/csv/curves-hold-plotted-numbers", test_csv_curves_hold_plotted_numbers);
  g_test_add_func ("/charts/csv/heatmap-holds-every-weight", test_csv_heatmap_holds_every_weight);
  g_test_add_func ("/charts/csv/histogram-holds-bins-and-thresholds", test_csv_histogram_holds_bins_and_thresholds);
  g_test_add_func ("/charts/csv/quotes-names", test_csv_quotes_names);

  g_test_add_func ("/charts/export/png-dpi-round-trips", test_export_png_dpi_round_trips);
  g_test_add_func ("/charts/export/crc32-check-value", test_crc32_known_value);
  g_test_add_func ("/charts/export/missing-directory-fails-naming-path", test_export_missing_directory_fails);
  g_test_add_func ("/charts/export/failed-rename-leaves-no-file", test_export_failure_leaves_no_file);
  g_test_add_func ("/charts/export/format-from-extension", test_format_from_path);

  g_test_add_func ("/charts/text/chinese-renders", test_chinese_text_renders);

  g_test_add_func ("/charts/cli/plots-every-result", test_cli_plots_results);
  g_test_add_func ("/charts/cli/plots-a-model-and-train-plot", test_cli_plots_model);
  g_test_add_func ("/charts/cli/rejects-bad-input-naming-file", test_cli_rejects_bad_input);
  g_test_add_func ("/charts/cli/help-lists-kinds", test_cli_help_lists_kinds);

  return g_test_run ();
}
