/* pl-cli-plot.c — prunelab-cli plot: every chart from a JSON result or a saved model */
#define G_LOG_DOMAIN "prunelab-cli"

#include "config.h"

#include <glib/gi18n.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "pl-chart-export.h"
#include "pl-cli-plot-private.h"
#include "pl-cli-private.h"
#include "pl-conv-file.h"
#include "pl-error.h"
#include "pl-eval.h"
#include "pl-nn.h"
#include "pl-safetensors.h"

#define DEFAULT_WIDTH   1200
#define DEFAULT_HEIGHT  800
#define DEFAULT_DPI     96.0
#define DEFAULT_BINS    50
#define BOUNDARY_GRID   240
#define BOUNDARY_POINTS 2000
#define MAX_THRESHOLDS  8

typedef struct {
  char         *input;
  char         *model;         /* --model: --input by the name the other commands use */
  char         *out;
  char         *csv;
  char         *theme;
  char         *title;
  PlCliNumbers  thresholds;
  char         *spread;
  char         *aggregate;
  int           width;
  int           height;
  double        dpi;
  int           layer;         /* −1: the kind's default */
  int           bins;
  int           max_tiles;
  int           image;         /* feature-maps: the test image */
  gboolean      log_count;
  gboolean      log_remaining;
  gboolean      log_y;
  PlCliDataArgs data_args;
} Options;

typedef struct {
  const Options   *opt;
  const char      *display;    /* the input as messages name it */
  JsonObject      *root;       /* owned: a JSON result, or NULL */
  PlMlp           *model;      /* owned: an MLP, or NULL */
  PlConvNet       *conv;       /* owned: a convolutional network, or NULL */
  PlLayer         *layers;     /* the model's parametrised layers as weight matrices (n_out,
                                * n_in): an MLP's, or a conv net's conv layers as (c_out,
                                * c_in·k·k) with their filter masks as neuron masks, then its
                                * head's; NULL for a JSON result */
  guint            n_layers;
  PlData          *data;       /* owned: --data, or NULL */
  GPtrArray       *owned;      /* blocks the chart borrows */
  PlChart          chart;
  PlHeatmapData    heatmap;
  PlFieldsData     fields;
  PlHistogramData  histogram;
  PlCurveSet       curves;
  PlTrainingData   training;
  PlGradNormData   grad_norm;
  PlConfusionData  confusion;
  PlBoundaryData   boundary;
  PlNetworkData    network;
  PlBarsData       bars;
  PlFiltersData    filters;
  PlFeatureMapsData feature_maps;
} Plot;

typedef gboolean (*BuildFunc) (Plot    *plot,
                               GError **error);

typedef struct {
  const char  *name;
  const char  *summary;
  BuildFunc    build;
} Kind;

static void
plot_clear (Plot *p)
{
  g_clear_pointer (&p->root, json_object_unref);
  g_clear_pointer (&p->model, pl_mlp_free);
  g_clear_pointer (&p->conv, pl_conv_net_free);
  g_clear_pointer (&p->data, pl_data_free);
  g_clear_pointer (&p->owned, g_ptr_array_unref);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Plot, plot_clear)

/* Keeps @block alive as long as the plot; returns it. */
static gpointer
keep (Plot     *p,
      gpointer  block)
{
  g_ptr_array_add (p->owned, block);
  return block;
}

static const char *
keep_string (Plot *p,
             char *text)
{
  return keep (p, text);
}

static const char *
title_or (Plot       *p,
          const char *fallback)
{
  return p->opt->title != NULL ? p->opt->title : fallback;
}

/* ----- reading JSON results ----- */

static gboolean
node_number (JsonNode *node,
             gboolean  null_ok,
             double   *out)
{
  GType type;

  if (node == NULL)
    return FALSE;
  if (JSON_NODE_HOLDS_NULL (node))
    {
      *out = NAN;
      return null_ok;
    }
  if (!JSON_NODE_HOLDS_VALUE (node))
    return FALSE;
  type = json_node_get_value_type (node);
  if (type != G_TYPE_DOUBLE && type != G_TYPE_INT64)
    return FALSE;
  *out = json_node_get_double (node);
  return isfinite (*out);
}

static gboolean
get_number (Plot        *p,
            JsonObject  *o,
            const char  *where,
            const char  *member,
            gboolean     null_ok,
            double      *out,
            GError     **error)
{
  if (o != NULL && node_number (json_object_get_member (o, member), null_ok, out))
    return TRUE;
  g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_BAD_VALUE,
               _("“%s”: %s has no number “%s”"), p->display, where, member);
  return FALSE;
}

static double
get_number_or (JsonObject *o,
               const char *member,
               double      fallback)
{
  double v;

  return node_number (json_object_get_member (o, member), TRUE, &v) ? v : fallback;
}

static JsonArray *
get_array (Plot        *p,
           JsonObject  *o,
           const char  *where,
           const char  *member,
           GError     **error)
{
  JsonNode *node = o != NULL ? json_object_get_member (o, member) : NULL;

  if (node != NULL && JSON_NODE_HOLDS_ARRAY (node))
    return json_node_get_array (node);
  g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_BAD_VALUE,
               _("“%s”: %s has no list “%s”"), p->display, where, member);
  return NULL;
}

static JsonObject *
get_element_object (Plot        *p,
                    JsonArray   *array,
                    guint        i,
                    const char  *member,
                    GError     **error)
{
  JsonNode *node = json_array_get_element (array, i);

  if (JSON_NODE_HOLDS_OBJECT (node))
    return json_node_get_object (node);
  g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_BAD_VALUE,
               _("“%s”: %s[%u] is not an object"), p->display, member, i);
  return NULL;
}

/* A JSON result for a chart that needs one, with a message that says which command makes it
 * (commands: prunelab-cli commands as typed, so not translated). */
static gboolean
need_result (Plot        *p,
             const char  *member,
             const char  *commands,
             GError     **error)
{
  const char *command;

  if (p->root == NULL)
    {
      g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_MISMATCH,
                   _("“%s” is a model; this chart needs the JSON result of %s"), p->display, commands);
      return FALSE;
    }
  if (json_object_has_member (p->root, member))
    return TRUE;
  command = json_object_get_string_member_with_default (p->root, "command", NULL);
  if (command != NULL)
    g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_MISMATCH,
                 _("“%s” is a “%s” result without “%s”; this chart needs the JSON result of %s"),
                 p->display, command, member, commands);
  else
    g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_MISMATCH,
                 _("“%s” has no “%s”; this chart needs the JSON result of %s"), p->display, member, commands);
  return FALSE;
}

static gboolean
need_model (Plot        *p,
            GError     **error)
{
  if (p->layers != NULL)
    return TRUE;
  g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_MISMATCH,
               _("“%s” is a JSON result; this chart draws a model: give --input MODEL.safetensors"),
               p->display);
  return FALSE;
}

/* A chart that draws an MLP's structure (not a conv net's). */
static gboolean
need_mlp (Plot        *p,
          GError     **error)
{
  if (p->conv == NULL)
    return need_model (p, error);
  g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_MISMATCH,
               _("“%s” is a convolutional network; this chart draws an MLP (heatmap, histogram, sparsity, confusion, network, filters and feature-maps draw a convolutional network)"),
               p->display);
  return FALSE;
}

/* A chart of a convolutional network's conv stages. */
static gboolean
need_conv (Plot        *p,
           GError     **error)
{
  if (p->conv != NULL)
    return TRUE;
  if (!need_model (p, error))
    return FALSE;
  g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_MISMATCH,
               _("“%s” is an MLP; this chart needs a convolutional network (e.g. --arch lenet5)"),
               p->display);
  return FALSE;
}

static gboolean
need_data (Plot        *p,
           const char  *why,
           GError     **error)
{
  if (p->data != NULL)
    return TRUE;
  g_set_error (error, PL_SPEC_ERROR, PL_SPEC_ERROR_INVALID, _("this chart needs --data SPEC: %s"), why);
  return FALSE;
}

static gboolean
pick_layer (Plot        *p,
            guint       *layer,
            GError     **error)
{
  int n = p->opt->layer < 0 ? 0 : p->opt->layer;

  if ((guint) n >= p->n_layers)
    {
      g_set_error (error, PL_SPEC_ERROR, PL_SPEC_ERROR_INVALID,
                   _("--layer %d: “%s” has layers 0 to %u"), n, p->display, p->n_layers - 1);
      return FALSE;
    }
  *layer = (guint) n;
  return TRUE;
}

/* ----- charts of a model ----- */

/* p->layers of a conv net: its conv layers' weights (c_out, c_in, k, k) are row-major
 * (c_out, c_in·k·k) matrices, one row per filter. */
static void
conv_layers (Plot *p)
{
  const PlConvNet *net = p->conv;
  guint n = 0;

  p->layers = keep (p, g_new0 (PlLayer, net->n_layers + net->head->n_layers));
  for (guint i = 0; i < net->n_layers; i++)
    {
      const PlConvLayer *l = &net->layers[i];

      if (l->kind == PL_CONV_LAYER_CONV)
        p->layers[n++] = (PlLayer) { l->c_in * l->k * l->k, l->c_out, l->w, l->b, l->w_mask,
                                     l->filter_mask };
    }
  for (guint i = 0; i < net->head->n_layers; i++)
    p->layers[n++] = net->head->layers[i];
  p->n_layers = n;
}

static gboolean
build_heatmap (Plot    *p,
               GError **error)
{
  guint n;
  const PlLayer *l;

  if (!need_model (p, error) || !pick_layer (p, &n, error))
    return FALSE;
  l = &p->layers[n];
  p->heatmap.title = title_or (p, keep_string (p, g_strdup_printf (_("Weights of layers.%u (%u → %u)"),
                                                                   n, l->n_in, l->n_out)));
  p->heatmap.n_rows = l->n_out;
  p->heatmap.n_cols = l->n_in;
  p->heatmap.values = l->w;
  p->heatmap.mask = l->w_mask;
  p->heatmap.aggregate = p->opt->aggregate != NULL && strcmp (p->opt->aggregate, "mean") == 0
                         ? PL_HEATMAP_MEAN : PL_HEATMAP_MAX_ABS;
  p->chart = (PlChart) { PL_CHART_HEATMAP, &p->heatmap };
  return TRUE;
}

static gboolean
build_fields (Plot    *p,
              GError **error)
{
  const PlLayer *l;
  guint w = 0, h = 0;

  if (!need_mlp (p, error))
    return FALSE;
  l = &p->model->layers[0];
  if (p->data != NULL && p->data->image_width > 0)
    {
      w = p->data->image_width;
      h = p->data->image_height;
    }
  else
    {
      guint side = (guint) lround (sqrt (l->n_in));

      if (side * side == l->n_in && side > 1)
        w = h = side;
    }
  if (w == 0 || (guint64) w * h != l->n_in)
    {
      g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_MISMATCH,
                   _("“%s”: %u inputs are not a square image; give --data with image data"),
                   p->display, l->n_in);
      return FALSE;
    }
  p->fields.title = title_or (p, _("Receptive fields of the first layer"));
  p->fields.n_neurons = l->n_out;
  p->fields.n_inputs = l->n_in;
  p->fields.image_width = w;
  p->fields.image_height = h;
  p->fields.weights = l->w;
  p->fields.mask = l->w_mask;
  p->fields.neuron_mask = p->model->n_layers > 1 ? l->neuron_mask : NULL;
  p->fields.max_tiles = (guint) MAX (p->opt->max_tiles, 0);
  p->chart = (PlChart) { PL_CHART_FIELDS, &p->fields };
  return TRUE;
}

static gboolean
build_histogram (Plot    *p,
                 GError **error)
{
  guint first = 0, last, n_bins = p->opt->bins > 0 ? (guint) p->opt->bins : DEFAULT_BINS;
  gsize total = 0, kept = 0, k = 0;
  float top = 0;
  float *values;
  double *thresholds, *shares, *counts;
  guint n_thresholds = 0;
  g_autofree char *scope = NULL;

  if (!need_model (p, error))
    return FALSE;
  last = p->n_layers - 1;
  if (p->opt->layer >= 0)
    {
      if (!pick_layer (p, &first, error))
        return FALSE;
      last = first;
    }

  for (guint i = first; i <= last; i++)
    {
      const PlLayer *l = &p->layers[i];

      for (gsize j = 0; j < (gsize) l->n_in * l->n_out; j++)
        kept += l->w_mask[j] != 0;
      total += (gsize) l->n_in * l->n_out;
    }
  /* Until the scoring module lands, the score is the magnitude |w| of the unpruned weights. */
  values = keep (p, g_new (float, MAX (kept, 1)));
  for (guint i = first; i <= last; i++)
    {
      const PlLayer *l = &p->layers[i];

      for (gsize j = 0; j < (gsize) l->n_in * l->n_out; j++)
        if (l->w_mask[j] != 0)
          {
            values[k] = fabsf (l->w[j]);
            top = MAX (top, values[k]);
            k++;
          }
    }

  n_thresholds = p->opt->thresholds.n;
  thresholds = keep (p, g_memdup2 (p->opt->thresholds.values, sizeof (double) * MAX_THRESHOLDS));
  shares = keep (p, g_new0 (double, MAX_THRESHOLDS));
  for (guint t = 0; t < n_thresholds; t++)
    {
      gsize below = 0;

      /* Scores below the threshold are pruned, on top of what is pruned already. */
      for (gsize j = 0; j < kept; j++)
        below += values[j] < thresholds[t];
      shares[t] = total > 0 ? (double) (total - kept + below) / total : 0;
    }

  counts = keep (p, g_new0 (double, n_bins));
  pl_histogram_bin (values, kept, n_bins, 0, top, counts);

  scope = first == last ? g_strdup_printf (_("layers.%u"), first)
                        : g_strdup_printf (_("all %u layers"), p->n_layers);
  p->histogram.title = title_or (p, _("Magnitude of the unpruned weights"));
  p->histogram.note = keep_string (p, g_strdup_printf (_("%s · %lu of %lu weights unpruned · scores below a threshold are pruned"),
                                                       scope, (unsigned long) kept, (unsigned long) total));
  p->histogram.x_label = "|w|";
  p->histogram.n_bins = n_bins;
  p->histogram.lo = 0;
  p->histogram.hi = top;
  p->histogram.counts = counts;
  p->histogram.log_count = p->opt->log_count;
  p->histogram.n_thresholds = n_thresholds;
  p->histogram.thresholds = thresholds;
  p->histogram.shares = shares;
  p->chart = (PlChart) { PL_CHART_HISTOGRAM, &p->histogram };
  return TRUE;
}

/* The filter mask a conv or pool layer's channels follow: a conv layer's own, a pool's that
 * of the conv layer before it (a dead filter's map stays 0 through the pool). */
static const float *
channel_mask (const PlConvNet *net,
              guint            layer)
{
  for (guint i = layer + 1; i-- > 0;)
    if (net->layers[i].kind == PL_CONV_LAYER_CONV)
      return net->layers[i].filter_mask;
  return NULL;
}

/* The conv layers (all, or the --layer-th conv layer), one panel each. */
static gboolean
build_filters (Plot    *p,
               GError **error)
{
  const PlConvNet *net;
  PlFiltersLayer *panels;
  guint n_conv = 0, n = 0;
  g_autofree char *arch = NULL;

  if (!need_conv (p, error))
    return FALSE;
  net = p->conv;
  for (guint i = 0; i < net->n_layers; i++)
    n_conv += net->layers[i].kind == PL_CONV_LAYER_CONV;
  if (p->opt->layer >= 0 && (guint) p->opt->layer >= n_conv)
    {
      g_set_error (error, PL_SPEC_ERROR, PL_SPEC_ERROR_INVALID,
                   _("--layer %d: “%s” has conv layers 0 to %u"), p->opt->layer, p->display, n_conv - 1);
      return FALSE;
    }
  panels = keep (p, g_new0 (PlFiltersLayer, n_conv));
  for (guint i = 0, k = 0; i < net->n_layers; i++)
    {
      const PlConvLayer *l = &net->layers[i];

      if (l->kind != PL_CONV_LAYER_CONV)
        continue;
      if (p->opt->layer < 0 || (guint) p->opt->layer == k)
        panels[n++] = (PlFiltersLayer) {
          .name = keep_string (p, g_strdup_printf (_("conv %u"), k + 1)),
          .c_out = l->c_out, .c_in = l->c_in, .k = l->k,
          .weights = l->w, .mask = l->w_mask, .filter_mask = l->filter_mask,
        };
      k++;
    }
  arch = pl_conv_net_arch (net);
  p->filters.title = title_or (p, keep_string (p, g_strdup_printf (_("Filters of %s"), arch)));
  p->filters.n_layers = n;
  p->filters.layers = panels;
  p->chart = (PlChart) { PL_CHART_FILTERS, &p->filters };
  return TRUE;
}

/* One test image (--image N) through the network: pl_conv_forward on that sample, then each
 * conv and pool layer's maps as the forward left them (pl_conv_work_activation). */
static gboolean
build_feature_maps (Plot    *p,
                    GError **error)
{
  const PlConvNet *net;
  const PlDataset *test;
  g_autoptr(PlConvWork) work = NULL;
  PlFeatureStage *stages;
  const float *x;
  guint index = (guint) MAX (p->opt->image, 0);
  g_autofree char *arch = NULL;

  if (!need_conv (p, error) || !need_data (p, _("the test image to run through the network"), error))
    return FALSE;
  net = p->conv;
  test = p->data->test;
  if (test->n_features != pl_conv_net_n_inputs (net))
    {
      g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_MISMATCH,
                   _("“%s” takes %u×%u×%u = %u inputs; “%s” has %u features"), p->display, net->c, net->h,
                   net->w, pl_conv_net_n_inputs (net), p->data->spec, test->n_features);
      return FALSE;
    }
  if (index >= test->n)
    {
      g_set_error (error, PL_SPEC_ERROR, PL_SPEC_ERROR_INVALID,
                   _("--image %u: the test set of “%s” has images 0 to %u"), index, p->data->spec, test->n - 1);
      return FALSE;
    }
  x = test->x + (gsize) index * test->n_features;
  work = pl_conv_work_new (net, 1);
  pl_conv_forward (net, work, x, 1);

  stages = keep (p, g_new0 (PlFeatureStage, net->n_layers));
  for (guint i = 0; i < net->n_layers; i++)
    {
      const PlConvLayer *l = &net->layers[i];
      gsize size = (gsize) l->c_out * l->h_out * l->w_out;

      stages[i] = (PlFeatureStage) {
        l->kind == PL_CONV_LAYER_CONV ? PL_FEATURE_STAGE_CONV : PL_FEATURE_STAGE_POOL, NULL,
        l->c_out, l->h_out, l->w_out,
        keep (p, g_memdup2 (pl_conv_work_activation (work, i), sizeof (float) * size)),
        channel_mask (net, i), NULL, NULL,
      };
    }
  arch = pl_conv_net_arch (net);
  p->feature_maps.title = title_or (p, keep_string (p, g_strdup_printf (_("Feature maps of %s, test image %u"),
                                                                        arch, index)));
  if (p->data->class_names != NULL && test->y[index] < p->data->n_classes)
    p->feature_maps.class_name = p->data->class_names[test->y[index]];
  p->feature_maps.c = net->c;
  p->feature_maps.h = net->h;
  p->feature_maps.w = net->w;
  p->feature_maps.image = keep (p, g_memdup2 (x, sizeof (float) * test->n_features));
  p->feature_maps.n_stages = net->n_layers;
  p->feature_maps.stages = stages;
  p->chart = (PlChart) { PL_CHART_FEATURE_MAPS, &p->feature_maps };
  return TRUE;
}

static gboolean
build_network (Plot    *p,
               GError **error)
{
  PlNetworkLayer *layers;
  g_autofree char *arch = NULL;
  const PlMlp *mlp;

  if (!need_model (p, error))
    return FALSE;
  mlp = p->conv != NULL ? p->conv->head : p->model;
  layers = keep (p, g_new0 (PlNetworkLayer, mlp->n_layers));
  for (guint i = 0; i < mlp->n_layers; i++)
    {
      layers[i].w = mlp->layers[i].w;
      layers[i].mask = mlp->layers[i].w_mask;
      layers[i].neuron_mask = mlp->layers[i].neuron_mask;
    }
  if (p->conv != NULL)
    {
      const PlConvNet *net = p->conv;
      PlNetworkStage *stages = keep (p, g_new0 (PlNetworkStage, net->n_layers + 1));

      stages[0] = (PlNetworkStage) { PL_NETWORK_STAGE_INPUT, net->c, net->h, net->w, NULL };
      for (guint i = 0; i < net->n_layers; i++)
        {
          const PlConvLayer *l = &net->layers[i];

          stages[i + 1] = (PlNetworkStage) {
            l->kind == PL_CONV_LAYER_CONV ? PL_NETWORK_STAGE_CONV : PL_NETWORK_STAGE_POOL,
            l->c_out, l->h_out, l->w_out, channel_mask (net, i),
          };
        }
      p->network.n_stages = net->n_layers + 1;
      p->network.stages = stages;
      arch = pl_conv_net_arch (net);
    }
  else
    arch = pl_mlp_arch (p->model);
  p->network.title = title_or (p, keep_string (p, g_strdup_printf (_("Network %s"), arch)));
  p->network.n_layers = mlp->n_layers;
  p->network.sizes = mlp->sizes;
  p->network.layers = layers;
  p->chart = (PlChart) { PL_CHART_NETWORK, &p->network };
  return TRUE;
}

static gboolean
build_boundary (Plot    *p,
                GError **error)
{
  const PlDataset *test;
  g_autoptr(PlDecisionGrid) grid = NULL;
  guint32 *grid_class, *labels;
  float *grid_conf, *points;
  double x0, x1, y0, y1;
  guint g = BOUNDARY_GRID, n_out, n_points;

  if (!need_mlp (p, error) || !need_data (p, _("the 2-D set whose points and regions to draw"), error))
    return FALSE;
  if (p->data->n_features != 2 || p->model->sizes[0] != 2)
    {
      g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_MISMATCH,
                   _("“%s”: a decision boundary needs a model with 2 inputs and 2-D data; “%s” has %u features"),
                   p->display, p->data->spec, p->data->n_features);
      return FALSE;
    }
  test = p->data->test;

  /* the region and the grid of the window's boundary view (pl-eval.h), at a finer size */
  {
    const PlDataset *sets[] = { p->data->train, p->data->val, p->data->test };

    pl_decision_region (sets, G_N_ELEMENTS (sets), &x0, &x1, &y0, &y1);
  }
  grid = pl_decision_grid (p->model, g, x0, x1, y0, y1);
  n_out = grid->n_out;
  grid_class = keep (p, g_new (guint32, (gsize) g * g));
  grid_conf = keep (p, g_new (float, (gsize) g * g));
  pl_decision_argmax (grid_class, grid_conf, grid->prob, (gsize) g * g, n_out);

  n_points = MIN (test->n, BOUNDARY_POINTS);
  points = keep (p, g_memdup2 (test->x, sizeof (float) * 2 * MAX (n_points, 1)));
  labels = keep (p, g_memdup2 (test->y, sizeof (guint32) * MAX (n_points, 1)));

  p->boundary.title = title_or (p, keep_string (p, g_strdup_printf (_("Decision boundary on %s (test points)"),
                                                                    p->data->name)));
  p->boundary.n_classes = n_out;
  p->boundary.grid_width = g;
  p->boundary.grid_height = g;
  p->boundary.grid_class = grid_class;
  p->boundary.grid_confidence = grid_conf;
  p->boundary.x_min = x0;
  p->boundary.x_max = x1;
  p->boundary.y_min = y0;
  p->boundary.y_max = y1;
  p->boundary.n_points = n_points;
  p->boundary.points = points;
  p->boundary.labels = labels;
  p->boundary.class_names = (const char * const *) p->data->class_names;
  p->chart = (PlChart) { PL_CHART_BOUNDARY, &p->boundary };
  return TRUE;
}

/* ----- charts of JSON results ----- */

static gboolean
build_confusion (Plot    *p,
                 GError **error)
{
  guint32 *counts;
  guint n;

  if (p->layers != NULL)
    {
      g_autoptr(PlEvaluation) ev = NULL;

      if (!need_data (p, _("the data to evaluate the model on"), error))
        return FALSE;
      ev = p->conv != NULL ? pl_conv_evaluate (p->conv, p->data->test, error)
                           : pl_evaluate (p->model, p->data->test, error);
      if (ev == NULL)
        {
          g_prefix_error (error, "“%s” on “%s”: ", p->display, p->data->spec);
          return FALSE;
        }
      n = ev->n_classes;
      counts = keep (p, g_memdup2 (ev->confusion, sizeof (guint32) * n * n));
    }
  else
    {
      JsonArray *rows;

      if (!need_result (p, "test_confusion_matrix", _("train or eval (or a model with --data)"), error)
          || (rows = get_array (p, p->root, _("the result"), "test_confusion_matrix", error)) == NULL)
        return FALSE;
      n = json_array_get_length (rows);
      counts = keep (p, g_new0 (guint32, MAX ((gsize) n * n, 1)));
      for (guint i = 0; i < n; i++)
        {
          JsonNode *node = json_array_get_element (rows, i);
          JsonArray *row = JSON_NODE_HOLDS_ARRAY (node) ? json_node_get_array (node) : NULL;

          if (row == NULL || json_array_get_length (row) != n)
            {
              g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_BAD_SHAPE,
                           _("“%s”: test_confusion_matrix[%u] is not a list of %u counts"), p->display, i, n);
              return FALSE;
            }
          for (guint j = 0; j < n; j++)
            {
              double v;

              if (!node_number (json_array_get_element (row, j), FALSE, &v) || v < 0 || v > G_MAXUINT32
                  || v != floor (v))
                {
                  g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_BAD_VALUE,
                               _("“%s”: test_confusion_matrix[%u][%u] is not a count"), p->display, i, j);
                  return FALSE;
                }
              counts[(gsize) i * n + j] = (guint32) v;
            }
        }
    }

  p->confusion.title = title_or (p, _("Confusion matrix on the test set"));
  p->confusion.n_classes = n;
  p->confusion.counts = counts;
  if (p->data != NULL && p->data->n_classes == n)
    p->confusion.class_names = (const char * const *) p->data->class_names;
  p->chart = (PlChart) { PL_CHART_CONFUSION, &p->confusion };
  return TRUE;
}

static gboolean
build_training (Plot    *p,
                GError **error)
{
  JsonArray *history;
  guint n;
  double *block;

  if (!need_result (p, "history", "train", error)
      || (history = get_array (p, p->root, _("the result"), "history", error)) == NULL)
    return FALSE;
  n = json_array_get_length (history);
  block = keep (p, g_new (double, 5 * (gsize) MAX (n, 1)));
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *where = g_strdup_printf ("history[%u]", i);
      JsonObject *o = get_element_object (p, history, i, "history", error);

      if (o == NULL
          || !get_number (p, o, where, "epoch", FALSE, &block[i], error)
          || !get_number (p, o, where, "train_loss", TRUE, &block[n + i], error)
          || !get_number (p, o, where, "train_accuracy", TRUE, &block[3 * n + i], error))
        return FALSE;
      /* Validation figures are null (or absent) without a validation split. */
      block[2 * n + i] = get_number_or (o, "val_loss", NAN);
      block[4 * n + i] = get_number_or (o, "val_accuracy", NAN);
    }
  p->training.title = title_or (p, _("Training"));
  p->training.n = n;
  p->training.epoch = block;
  p->training.train_loss = block + n;
  p->training.val_loss = block + 2 * n;
  p->training.train_accuracy = block + 3 * n;
  p->training.val_accuracy = block + 4 * n;
  p->chart = (PlChart) { PL_CHART_TRAINING, &p->training };
  return TRUE;
}

static gboolean
build_grad_norm (Plot    *p,
                 GError **error)
{
  JsonArray *norms, *history;
  float *values;
  guint n, epochs;

  if (!need_result (p, "grad_norms", "train", error)
      || (norms = get_array (p, p->root, _("the result"), "grad_norms", error)) == NULL)
    return FALSE;
  n = json_array_get_length (norms);
  values = keep (p, g_new (float, MAX (n, 1)));
  for (guint i = 0; i < n; i++)
    {
      double v;

      if (!node_number (json_array_get_element (norms, i), TRUE, &v))
        {
          g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_BAD_VALUE,
                       _("“%s”: grad_norms[%u] is not a number"), p->display, i);
          return FALSE;
        }
      values[i] = (float) v;
    }
  history = json_object_has_member (p->root, "history")
            ? get_array (p, p->root, _("the result"), "history", error) : NULL;
  epochs = history != NULL ? json_array_get_length (history) : 0;

  p->grad_norm.title = title_or (p, _("Gradient norm during training"));
  p->grad_norm.n = n;
  p->grad_norm.norms = values;
  p->grad_norm.clip_norm = get_number_or (p->root, "clip_norm", 0);
  p->grad_norm.clip_value = get_number_or (p->root, "clip_value", 0);
  p->grad_norm.steps_per_epoch = epochs > 0 && n % epochs == 0 ? n / epochs : 0;
  p->grad_norm.log_y = p->opt->log_y;
  p->chart = (PlChart) { PL_CHART_GRAD_NORM, &p->grad_norm };
  return TRUE;
}

static PlSpread
spread_option (const Plot *p)
{
  if (p->opt->spread != NULL && strcmp (p->opt->spread, "sd") == 0)
    return PL_SPREAD_SD;
  if (p->opt->spread != NULL && strcmp (p->opt->spread, "none") == 0)
    return PL_SPREAD_NONE;
  return PL_SPREAD_MIN_MAX;
}

/* One curve from samples (x, y): the seeds of one target sparsity become its mean and spread,
 * drawn at the mean sparsity they reached (@reached may be NULL: x itself). */
static void
summarise (Plot       *p,
           PlCurve    *curve,
           const char *name,
           GArray     *xs,
           GArray     *reached,
           GArray     *ys,
           PlSpread    spread)
{
  guint n = xs->len;
  double *block = keep (p, g_new (double, 4 * (gsize) MAX (n, 1)));

  curve->name = name;
  curve->n = pl_curve_summarise ((double *) xs->data, (double *) ys->data, n, spread,
                                 block, block + n, block + 2 * n, block + 3 * n);
  if (reached != NULL)
    {
      g_autofree double *target = g_new (double, MAX (n, 1));
      g_autofree double *mean = g_new (double, MAX (n, 1));
      guint m = pl_curve_summarise ((double *) xs->data, (double *) reached->data, n, PL_SPREAD_NONE,
                                    target, mean, NULL, NULL);

      /* Same groups, same order: both skip the same non-finite samples only if y is finite. */
      if (m == curve->n)
        memcpy (block, mean, sizeof (double) * m);
    }
  curve->x = block;
  curve->y = block + n;
  curve->lo = spread != PL_SPREAD_NONE ? block + 2 * n : NULL;
  curve->hi = spread != PL_SPREAD_NONE ? block + 3 * n : NULL;
}

static gboolean
build_curves (Plot    *p,
              GError **error)
{
  JsonArray *points;
  g_autoptr(GPtrArray) names = g_ptr_array_new ();
  g_autoptr(GPtrArray) xs = g_ptr_array_new_with_free_func ((GDestroyNotify) g_array_unref);
  g_autoptr(GPtrArray) ys = g_ptr_array_new_with_free_func ((GDestroyNotify) g_array_unref);
  g_autoptr(GPtrArray) reached = g_ptr_array_new_with_free_func ((GDestroyNotify) g_array_unref);
  g_autoptr(GHashTable) seeds = g_hash_table_new (g_direct_hash, g_direct_equal);
  PlCurve *curves;
  PlSpread spread = spread_option (p);
  const char *scope;

  if (!need_result (p, "points", "sweep", error)
      || (points = get_array (p, p->root, _("the result"), "points", error)) == NULL)
    return FALSE;

  for (guint i = 0; i < json_array_get_length (points); i++)
    {
      g_autofree char *where = g_strdup_printf ("points[%u]", i);
      JsonObject *o = get_element_object (p, points, i, "points", error);
      const char *score;
      double sparsity, accuracy, target;
      guint k;

      if (o == NULL)
        return FALSE;
      score = json_object_get_string_member_with_default (o, "score", NULL);
      if (score == NULL)
        {
          g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_BAD_VALUE,
                       _("“%s”: %s has no text “%s”"), p->display, where, "score");
          return FALSE;
        }
      if (!get_number (p, o, where, "sparsity", FALSE, &sparsity, error)
          || !get_number (p, o, where, "test_accuracy", FALSE, &accuracy, error))
        return FALSE;
      /* Seeds share a target sparsity; the sparsity reached may differ a little. */
      target = get_number_or (o, "target_sparsity", sparsity);
      g_hash_table_add (seeds, GINT_TO_POINTER ((int) get_number_or (o, "seed", 0)));

      for (k = 0; k < names->len; k++)
        if (strcmp (g_ptr_array_index (names, k), score) == 0)
          break;
      if (k == names->len)
        {
          g_ptr_array_add (names, (gpointer) score);
          g_ptr_array_add (xs, g_array_new (FALSE, FALSE, sizeof (double)));
          g_ptr_array_add (ys, g_array_new (FALSE, FALSE, sizeof (double)));
          g_ptr_array_add (reached, g_array_new (FALSE, FALSE, sizeof (double)));
        }
      g_array_append_val (g_ptr_array_index (xs, k), target);
      g_array_append_val (g_ptr_array_index (ys, k), accuracy);
      g_array_append_val (g_ptr_array_index (reached, k), sparsity);
    }

  curves = keep (p, g_new0 (PlCurve, MAX (names->len, 1)));
  for (guint k = 0; k < names->len; k++)
    summarise (p, &curves[k], keep_string (p, g_strdup (g_ptr_array_index (names, k))),
               g_ptr_array_index (xs, k), g_ptr_array_index (reached, k), g_ptr_array_index (ys, k), spread);

  scope = json_object_get_string_member_with_default (p->root, "scope", NULL);
  p->curves.title = title_or (p, scope != NULL && strcmp (scope, "layer") == 0
                                 ? _("Accuracy after layer-wise pruning")
                                 : scope != NULL && strcmp (scope, "global") == 0
                                 ? _("Accuracy after global pruning") : _("Accuracy after pruning"));
  p->curves.n_curves = names->len;
  p->curves.curves = curves;
  p->curves.reference = get_number_or (p->root, "dense_test_accuracy", NAN);
  p->curves.spread = spread;
  p->curves.n_seeds = (guint) get_number_or (p->root, "seeds", g_hash_table_size (seeds));
  p->curves.log_remaining = p->opt->log_remaining;
  p->curves.y_format = PL_CHART_NUMBER_PERCENT;
  p->chart = (PlChart) { PL_CHART_CURVES, &p->curves };
  return TRUE;
}

static gboolean
build_sensitivity (Plot    *p,
                   GError **error)
{
  JsonArray *layers;
  PlCurve *curves;
  PlSpread spread = spread_option (p);
  guint n;

  if (!need_result (p, "layers", "sensitivity", error)
      || (layers = get_array (p, p->root, _("the result"), "layers", error)) == NULL)
    return FALSE;
  n = json_array_get_length (layers);
  curves = keep (p, g_new0 (PlCurve, MAX (n, 1)));
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *where = g_strdup_printf ("layers[%u]", i);
      JsonObject *o = get_element_object (p, layers, i, "layers", error);
      g_autoptr(GArray) xs = g_array_new (FALSE, FALSE, sizeof (double));
      g_autoptr(GArray) ys = g_array_new (FALSE, FALSE, sizeof (double));
      JsonArray *pts;
      const char *name;

      if (o == NULL || (pts = get_array (p, o, where, "points", error)) == NULL)
        return FALSE;
      name = json_object_get_string_member_with_default (o, "name", NULL);
      for (guint j = 0; j < json_array_get_length (pts); j++)
        {
          g_autofree char *pwhere = g_strdup_printf ("layers[%u].points[%u]", i, j);
          JsonObject *pt = get_element_object (p, pts, j, "points", error);
          double x, y;

          if (pt == NULL
              || !get_number (p, pt, pwhere, "sparsity", FALSE, &x, error)
              || !get_number (p, pt, pwhere, "test_accuracy", FALSE, &y, error))
            return FALSE;
          g_array_append_val (xs, x);
          g_array_append_val (ys, y);
        }
      summarise (p, &curves[i], keep_string (p, name != NULL ? g_strdup (name) : g_strdup_printf ("layers.%u", i)),
                 xs, NULL, ys, spread);
    }
  p->curves.title = title_or (p, _("Sensitivity of each layer"));
  p->curves.n_curves = n;
  p->curves.curves = curves;
  p->curves.reference = get_number_or (p->root, "dense_test_accuracy", NAN);
  p->curves.spread = spread;
  p->curves.log_remaining = p->opt->log_remaining;
  p->curves.y_format = PL_CHART_NUMBER_PERCENT;
  p->chart = (PlChart) { PL_CHART_SENSITIVITY, &p->curves };
  return TRUE;
}

static gboolean
build_sparsity (Plot    *p,
                GError **error)
{
  static const char *members[] = { "parameter_sparsity", "structural_sparsity", "relative_sparsity", "hoyer" };
  const char *series[] = { N_("parameter"), N_("structural (dead neurons)"), N_("relative (|w| mass)"), N_("Hoyer") };
  const char **group_names, **series_names;
  double *values;
  guint n, n_series;

  if (p->layers != NULL)
    {
      /* From a model alone: parameter and structural sparsity; the mass removed is not in the file. */
      n = p->n_layers;
      n_series = 2;
      values = keep (p, g_new (double, (gsize) n * n_series));
      group_names = keep (p, g_new0 (const char *, n + 1));
      for (guint i = 0; i < n; i++)
        {
          const PlLayer *l = &p->layers[i];
          gsize pruned = 0, dead = 0;

          for (gsize j = 0; j < (gsize) l->n_in * l->n_out; j++)
            pruned += l->w_mask[j] == 0;
          for (guint j = 0; j < l->n_out; j++)
            dead += l->neuron_mask[j] == 0;
          values[i * n_series] = (double) pruned / ((gsize) l->n_in * l->n_out);
          values[i * n_series + 1] = (double) dead / l->n_out;
          group_names[i] = keep_string (p, g_strdup_printf ("layers.%u (%u → %u)", i, l->n_in, l->n_out));
        }
      p->bars.note = keep_string (p, g_strdup_printf (_("%s · from the masks in the model"), p->display));
    }
  else
    {
      JsonArray *layers;
      double before, after;

      if (!need_result (p, "layers", _("prune (or a model)"), error)
          || (layers = get_array (p, p->root, _("the result"), "layers", error)) == NULL)
        return FALSE;
      n = json_array_get_length (layers);
      n_series = G_N_ELEMENTS (members);
      values = keep (p, g_new (double, (gsize) MAX (n, 1) * n_series));
      group_names = keep (p, g_new0 (const char *, n + 1));
      for (guint i = 0; i < n; i++)
        {
          g_autofree char *where = g_strdup_printf ("layers[%u]", i);
          JsonObject *o = get_element_object (p, layers, i, "layers", error);
          const char *name;

          if (o == NULL)
            return FALSE;
          name = json_object_get_string_member_with_default (o, "name", NULL);
          if (name == NULL)
            name = keep_string (p, g_strdup_printf ("layers.%u", i));
          /* "layers.0 (784 → 300)" when the shape is there */
          if (json_object_has_member (o, "n_in") && json_object_has_member (o, "n_out"))
            group_names[i] = keep_string (p, g_strdup_printf ("%s (%d → %d)", name,
                                                              (int) get_number_or (o, "n_in", 0),
                                                              (int) get_number_or (o, "n_out", 0)));
          else
            group_names[i] = name;
          for (guint s = 0; s < n_series; s++)
            if (!get_number (p, o, where, members[s], TRUE, &values[(gsize) i * n_series + s], error))
              return FALSE;
        }
      before = get_number_or (p->root, "test_accuracy_before", NAN);
      after = get_number_or (p->root, "test_accuracy", NAN);
      if (isfinite (before) && isfinite (after))
        p->bars.note = keep_string (p, g_strdup_printf (_("test accuracy %.1f%% before pruning, %.1f%% after · global sparsity %.1f%%"),
                                                        100 * before, 100 * after,
                                                        100 * get_number_or (p->root, "sparsity", NAN)));
    }

  series_names = keep (p, g_new0 (const char *, n_series + 1));
  for (guint s = 0; s < n_series; s++)
    series_names[s] = _(series[s]);
  p->bars.title = title_or (p, _("Sparsity per layer"));
  p->bars.n_groups = n;
  p->bars.group_names = group_names;
  p->bars.n_series = n_series;
  p->bars.series_names = series_names;
  p->bars.values = values;
  p->bars.format = PL_CHART_NUMBER_PERCENT;
  p->chart = (PlChart) { PL_CHART_BARS, &p->bars };
  return TRUE;
}

static const Kind kinds[] = {
  { "heatmap",     N_("a layer's weights (--layer N) as colours, pruned ones grey        MODEL"), build_heatmap },
  { "fields",      N_("first-layer receptive fields as image tiles                       MODEL [--data]"), build_fields },
  { "histogram",   N_("|w| of the unpruned weights, --threshold lines, share pruned      MODEL"), build_histogram },
  { "network",     N_("the network diagram, dead neurons dimmed, conv stages as stacks   MODEL"), build_network },
  { "filters",     N_("each conv layer's filters as small heatmaps, dead ones crossed    conv MODEL"), build_filters },
  { "feature-maps", N_("one test image (--image N) through a conv net: every map          conv MODEL --data"), build_feature_maps },
  { "boundary",    N_("decision regions of a 2-D set with its test points                MODEL --data"), build_boundary },
  { "confusion",   N_("confusion matrix of the test set                     train/eval JSON, MODEL --data"), build_confusion },
  { "training",    N_("loss and accuracy per epoch, training and validation              train JSON"), build_training },
  { "gradnorm",    N_("global gradient norm per step with the clipping level             train JSON"), build_grad_norm },
  { "curves",      N_("accuracy vs sparsity per strategy, mean and spread over seeds     sweep JSON"), build_curves },
  { "sensitivity", N_("accuracy as each layer alone is pruned                            sensitivity JSON"), build_sensitivity },
  { "sparsity",    N_("parameter, structural, relative sparsity and Hoyer per layer      prune JSON, MODEL"), build_sparsity },
};

static const Kind *
find_kind (const char *name)
{
  for (guint i = 0; i < G_N_ELEMENTS (kinds); i++)
    if (strcmp (kinds[i].name, name) == 0)
      return &kinds[i];
  return NULL;
}

/* ----- input ----- */

static gboolean
load_input (Plot        *p,
            const char  *path,
            GError     **error)
{
  g_autofree char *contents = NULL;
  gsize length = 0;
  gboolean json;

  if (g_str_has_suffix (path, ".json"))
    json = TRUE;
  else if (g_str_has_suffix (path, ".safetensors"))
    json = FALSE;
  else
    {
      /* Sniff: safetensors starts with an 8-byte little-endian header length, then '{'. */
      guint64 header = 0;

      if (!g_file_get_contents (path, &contents, &length, error))
        return FALSE;
      for (guint i = 0; i < 8 && i < length; i++)
        header |= (guint64) (guint8) contents[i] << (8 * i);
      json = !(length >= 10 && contents[8] == '{' && header >= 2 && header <= length - 8);
    }

  if (!json && pl_conv_file_is_conv (path))
    {
      p->conv = pl_conv_net_load (path, error);
      if (p->conv == NULL)
        return FALSE;
      conv_layers (p);
      return TRUE;
    }
  if (!json)
    {
      p->model = pl_safetensors_load (path, error);
      if (p->model == NULL)
        return FALSE;
      p->layers = p->model->layers;
      p->n_layers = p->model->n_layers;
      return TRUE;
    }

  {
    g_autoptr(JsonParser) parser = json_parser_new ();
    g_autoptr(GError) local = NULL;
    JsonNode *root;

    if (contents == NULL && !g_file_get_contents (path, &contents, &length, error))
      return FALSE;
    if (!json_parser_load_from_data (parser, contents, (gssize) length, &local))
      {
        g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_BAD_MAGIC,
                     _("“%s” is not valid JSON: %s"), path, local->message);
        return FALSE;
      }
    root = json_parser_get_root (parser);
    if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
      {
        g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_BAD_MAGIC,
                     _("“%s” is not a PruneLab result: it holds no JSON object"), path);
        return FALSE;
      }
    p->root = json_object_ref (json_node_get_object (root));
  }
  return TRUE;
}

static void
plot_init (Plot          *p,
           const Options *opt,
           const char    *display)
{
  memset (p, 0, sizeof *p);
  p->opt = opt;
  p->display = display;
  p->owned = g_ptr_array_new_with_free_func (g_free);
}

static void
options_init (Options *opt)
{
  memset (opt, 0, sizeof *opt);
  opt->width = DEFAULT_WIDTH;
  opt->height = DEFAULT_HEIGHT;
  opt->dpi = DEFAULT_DPI;
  opt->layer = -1;
  opt->bins = DEFAULT_BINS;
  opt->data_args = (PlCliDataArgs) PL_CLI_DATA_ARGS_INIT;
}

static void
options_clear (Options *opt)
{
  g_clear_pointer (&opt->input, g_free);
  g_clear_pointer (&opt->model, g_free);
  g_clear_pointer (&opt->out, g_free);
  g_clear_pointer (&opt->csv, g_free);
  g_clear_pointer (&opt->theme, g_free);
  g_clear_pointer (&opt->title, g_free);
  g_clear_pointer (&opt->spread, g_free);
  g_clear_pointer (&opt->aggregate, g_free);
  _pl_cli_data_args_clear (&opt->data_args);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Options, options_clear)

static char *
kinds_description (void)
{
  GString *s = g_string_new (_("Kinds (and what --input they read):\n"));

  for (guint i = 0; i < G_N_ELEMENTS (kinds); i++)
    g_string_append_printf (s, "  %-12s %s\n", kinds[i].name, _(kinds[i].summary));
  g_string_append (s, _("\nExamples:\n"
                        "  prunelab-cli train --data moons --epochs 30 --out m.safetensors --json > run.json\n"
                        "  prunelab-cli plot training --input run.json --out training.png\n"
                        "  prunelab-cli plot boundary --input m.safetensors --data moons --out boundary.svg\n"
                        "  prunelab-cli plot curves --input sweep.json --out curves.pdf --dpi 300 --csv curves.csv\n"
                        "  prunelab-cli plot filters --input lenet5.safetensors --out filters.png\n"
                        "  prunelab-cli plot feature-maps --input lenet5.safetensors --data fashion-mnist --image 3 --out maps.png\n"));
  return g_string_free (s, FALSE);
}

int
_pl_cli_plot (int    argc,
              char **argv)
{
  g_auto(Options) opt = { 0 };
  g_auto(Plot) plot = { 0 };
  const PlCliOption options[] = {
    { "input", 'i', PL_CLI_FILENAME, &opt.input, N_("A JSON result (train, eval, prune, sweep, sensitivity) or a model (safetensors)"), N_("FILE") },
    { "model", 'm', PL_CLI_FILENAME, &opt.model, N_("A model (safetensors), as the other commands name it: the same as --input"), N_("FILE") },
    { "out", 'o', PL_CLI_FILENAME, &opt.out, N_("Write the chart here: .png, .svg or .pdf"), N_("FILE") },
    { "csv", 0, PL_CLI_FILENAME, &opt.csv, N_("Write the plotted numbers here as CSV"), N_("FILE") },
    { "width", 'W', PL_CLI_INT, &opt.width, N_("Width in pixels (default 1200)"), N_("W"), PL_CLI_WHOLE (1, PL_CHART_MAX_PIXELS) },
    { "height", 'H', PL_CLI_INT, &opt.height, N_("Height in pixels (default 800)"), N_("H"), PL_CLI_WHOLE (1, PL_CHART_MAX_PIXELS) },
    { "dpi", 0, PL_CLI_DOUBLE, &opt.dpi, N_("Dots per inch (default 96, as on screen; 300 for print: same pixels, smaller figure, larger text)"), N_("D"),
      PL_CLI_IN (PL_CHART_MIN_DPI, PL_CHART_MAX_DPI) },
    { "theme", 0, PL_CLI_STRING, &opt.theme, N_("light (default), dark or presentation (large type, thick lines)"), N_("NAME") },
    { "title", 0, PL_CLI_STRING, &opt.title, N_("Replace the chart's title"), N_("TEXT") },
    { "layer", 'l', PL_CLI_INT, &opt.layer, N_("heatmap, histogram, filters: the layer, 0 = first (heatmap default 0; histogram, filters default all; filters count conv layers)"), N_("N"),
      PL_CLI_WHOLE (0, PL_MLP_MAX_LAYERS - 1) },
    { "threshold", 't', PL_CLI_DOUBLES, &opt.thresholds, N_("histogram: threshold lines, with the share of weights each prunes"), N_("T[,T…]"),
      PL_CLI_LIST (-INFINITY, INFINITY, MAX_THRESHOLDS) },
    { "bins", 0, PL_CLI_INT, &opt.bins, N_("histogram: number of bins (default 50)"), N_("N"), PL_CLI_WHOLE (1, 10000) },
    { "image", 0, PL_CLI_INT, &opt.image, N_("feature-maps: the test image to run through the network, 0 = first (default 0)"), N_("N"),
      PL_CLI_WHOLE (0, G_MAXINT) },
    { "max-tiles", 0, PL_CLI_INT, &opt.max_tiles, N_("fields: show the first N neurons (default 100)"), N_("N"), PL_CLI_WHOLE (1, 10000) },
    { "log-count", 0, PL_CLI_FLAG, &opt.log_count, N_("histogram: log-scale count axis") },
    { "log-remaining", 0, PL_CLI_FLAG, &opt.log_remaining, N_("curves, sensitivity: x axis = share of weights remaining, log scale") },
    { "log-y", 0, PL_CLI_FLAG, &opt.log_y, N_("gradnorm: log-scale norm axis") },
    { "spread", 0, PL_CLI_STRING, &opt.spread, N_("curves: band over seeds, minmax (default), sd (±1 standard deviation) or none"), N_("KIND") },
    { "aggregate", 0, PL_CLI_STRING, &opt.aggregate, N_("heatmap larger than the pixels: max (largest |w|, default) or mean"), N_("HOW") },
    { NULL }
  };
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *description = NULL;
  const Kind *kind = NULL;
  PlChartStyle style;
  PlChartTheme theme = PL_CHART_THEME_LIGHT;
  PlChartFormat format = PL_CHART_FORMAT_PNG;
  const char *empty;

  options_init (&opt);
  plot_init (&plot, &opt, NULL);

  /* KIND comes first: prunelab-cli plot KIND [OPTIONS…] */
  if (argc >= 2 && argv[1][0] != '-')
    {
      kind = find_kind (argv[1]);
      if (kind == NULL)
        return _pl_cli_usage (_("unknown chart “%s”; run “prunelab-cli plot --help” for the list"), argv[1]);
      memmove (argv + 1, argv + 2, sizeof (char *) * (argc - 1));
      argc--;
    }

  context = g_option_context_new (_("KIND"));
  description = kinds_description ();
  g_option_context_set_summary (context, _("Draw a chart from a result or a model, as PNG, SVG or PDF, and its numbers as CSV.\n"
                                           "A chart of W × H pixels at D DPI is W/D × H/D inches; SVG and PDF pages have that size."));
  g_option_context_set_description (context, description);
  _pl_cli_add_options (context, options, NULL);
  _pl_cli_add_data_options (context, &opt.data_args);
  if (!_pl_cli_parse (context, &argc, &argv))
    return PL_EXIT_USAGE;

  if (kind == NULL)
    return _pl_cli_usage (_("which chart? prunelab-cli plot KIND …; run “prunelab-cli plot --help” for the list"));
  if (opt.model != NULL && opt.input != NULL)
    return _pl_cli_usage (_("--model and --input name the same file: give one"));
  if (opt.model != NULL)
    opt.input = g_steal_pointer (&opt.model);
  if (opt.input == NULL)
    return _pl_cli_usage (_("--input is required (a JSON result or a .safetensors model)"));
  if (opt.out == NULL && opt.csv == NULL)
    return _pl_cli_usage (_("--out FILE.png|.svg|.pdf or --csv FILE is required"));
  if (opt.spread != NULL && strcmp (opt.spread, "minmax") != 0 && strcmp (opt.spread, "sd") != 0
      && strcmp (opt.spread, "none") != 0)
    return _pl_cli_usage (_("--spread must be minmax, sd or none"));
  if (opt.aggregate != NULL && strcmp (opt.aggregate, "max") != 0 && strcmp (opt.aggregate, "mean") != 0)
    return _pl_cli_usage (_("--aggregate must be max or mean"));
  if (opt.theme != NULL && !pl_chart_theme_parse (opt.theme, &theme, &error))
    return _pl_cli_usage ("--theme: %s", error->message);
  if (opt.out != NULL && !pl_chart_format_from_path (opt.out, &format, &error))
    return _pl_cli_usage ("--out: %s", error->message);

  plot.display = opt.input;
  if (!load_input (&plot, opt.input, &error))
    return _pl_cli_fail (error);
  if (opt.data_args.spec != NULL)
    {
      plot.data = _pl_cli_load_data (&opt.data_args, &error);
      if (plot.data == NULL)
        return _pl_cli_fail (error);
    }
  if (!kind->build (&plot, &error))
    return _pl_cli_fail (error);

  empty = pl_chart_empty_message (&plot.chart);
  if (empty != NULL)
    g_printerr (_("prunelab-cli: “%s”: nothing to plot (%s); the chart says so\n"), opt.input, empty);

  pl_chart_style_init (&style, theme);
  if (opt.out != NULL)
    {
      if (!pl_chart_export (&plot.chart, &style, opt.out, format, (guint) opt.width, (guint) opt.height,
                            opt.dpi, &error))
        return _pl_cli_fail (error);
      printf (_("wrote %s (%s, %d × %d pixels at %g DPI)\n"), opt.out, pl_chart_format_to_string (format),
              opt.width, opt.height, opt.dpi);
    }
  if (opt.csv != NULL)
    {
      if (!pl_chart_export_csv (&plot.chart, opt.csv, &error))
        return _pl_cli_fail (error);
      printf (_("wrote %s\n"), opt.csv);
    }
  return PL_EXIT_OK;
}

gboolean
_pl_cli_plot_check (const char  *path,
                    GError     **error)
{
  PlChartFormat format;

  return pl_chart_format_from_path (path, &format, error);
}

gboolean
_pl_cli_plot_result (JsonBuilder  *result,
                     const char   *path,
                     GError      **error)
{
  static const struct {
    const char *command;
    BuildFunc   build;
  } by_command[] = {
    { "train", build_training },
    { "sweep", build_curves },
    { "schedule", build_curves },
    { "reproduce", build_curves },
    { "sensitivity", build_sensitivity },
    { "prune", build_sparsity },
    { "eval", build_confusion },
  };
  g_auto(Options) opt = { 0 };
  g_auto(Plot) plot = { 0 };
  g_autoptr(JsonNode) root = NULL;
  PlChartStyle style;
  PlChartFormat format;
  const char *command;

  g_return_val_if_fail (result != NULL && path != NULL, FALSE);

  options_init (&opt);
  plot_init (&plot, &opt, _("the result"));
  if (!pl_chart_format_from_path (path, &format, error))
    return FALSE;
  root = json_builder_get_root (result);
  g_return_val_if_fail (root != NULL && JSON_NODE_HOLDS_OBJECT (root), FALSE);
  plot.root = json_object_ref (json_node_get_object (root));
  command = json_object_get_string_member_with_default (plot.root, "command", "");

  for (guint i = 0; i < G_N_ELEMENTS (by_command); i++)
    if (strcmp (command, by_command[i].command) == 0)
      {
        if (!by_command[i].build (&plot, error))
          return FALSE;
        pl_chart_style_init (&style, PL_CHART_THEME_LIGHT);
        return pl_chart_export (&plot.chart, &style, path, format, DEFAULT_WIDTH, DEFAULT_HEIGHT, DEFAULT_DPI, error);
      }
  g_set_error (error, PL_SPEC_ERROR, PL_SPEC_ERROR_INVALID, _("--plot: no chart for the result of “%s”"), command);
  return FALSE;
}
