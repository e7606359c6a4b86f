/* pl-window-charts.c — turning snapshots into the plain data of the chart renderers
 *
 * Each chart's data borrows the snapshot's arrays; a small holder keeps a reference to the
 * snapshot (and owns what had to be computed) until the view replaces the chart.
 */
#define G_LOG_DOMAIN "pl-window"

#include "config.h"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

#include "pl-eval.h"
#include "pl-window-private.h"

#define HISTOGRAM_BINS 50

typedef struct {
  union {
    PlHeatmapData   heatmap;
    PlHistogramData histogram;
    PlCurveSet      curves;
    PlTrainingData  training;
    PlGradNormData  gradnorm;
    PlNetworkData   network;
    PlBoundaryData  boundary;
    PlFieldsData    fields;
    PlConfusionData confusion;
    PlFiltersData   filters;
    PlFeatureMapsData feature_maps;
  } d;                          /* first, so that the holder is the data */
  PlSnapshot *snapshot;         /* owned */
  char       *title;            /* owned */
  GPtrArray  *blocks;           /* owned, of owned: computed arrays, as many as the data needs */
} Holder;

static void
holder_free (gpointer data)
{
  Holder *h = data;

  g_clear_pointer (&h->snapshot, pl_snapshot_unref);
  g_free (h->title);
  g_ptr_array_unref (h->blocks);
  g_free (h);
}

static Holder *
holder_new (PlSnapshot *snapshot)
{
  Holder *h = g_new0 (Holder, 1);

  h->snapshot = pl_snapshot_ref (snapshot);
  h->blocks = g_ptr_array_new_with_free_func (g_free);
  return h;
}

static gpointer
holder_alloc (Holder *h,
              gsize   size)
{
  gpointer block = g_malloc0 (MAX (size, 1));

  g_ptr_array_add (h->blocks, block);
  return block;
}

static void
set_empty (PlChartView *view)
{
  pl_chart_view_set_chart (view, PL_CHART_BARS, NULL, NULL);
}

const PlConvStageView *
_pl_window_conv_stage (const PlSnapshot *s,
                       guint             layer)
{
  for (guint i = 0; i < s->n_stages; i++)
    if (s->stages[i].kind == PL_CONV_LAYER_CONV && s->stages[i].layer == (gint) layer)
      return &s->stages[i];
  return NULL;
}

/* ---- the charts ---- */

static void
update_heatmap (PlWindow   *self,
                PlSnapshot *s)
{
  Holder *h;
  const PlLayerView *l;
  const PlConvStageView *conv;
  GBytes *masks;

  if (s->n_layers == 0)
    return set_empty (self->heatmap_view);

  l = &s->layers[MIN (self->layer, s->n_layers - 1)];
  conv = _pl_window_conv_stage (s, MIN (self->layer, s->n_layers - 1));
  masks = s->has_preview && l->preview_masks != NULL ? l->preview_masks : l->masks;
  h = holder_new (s);
  if (conv != NULL)
    h->title = g_strdup_printf (s->has_preview ? _("Layer %u filters (%u of %u×%u×%u), preview mask")
                                               : _("Layer %u filters (%u of %u×%u×%u)"),
                                MIN (self->layer, s->n_layers - 1) + 1, conv->c_out, conv->c_in,
                                conv->k, conv->k);
  else
    h->title = g_strdup_printf (s->has_preview ? _("Layer %u weights (%u → %u), preview mask")
                                               : _("Layer %u weights (%u → %u)"),
                                MIN (self->layer, s->n_layers - 1) + 1, l->n_in, l->n_out);
  h->d.heatmap = (PlHeatmapData) {
    .title = h->title,
    .x_label = conv != NULL ? _("weight of the filter (input channel, row, column)") : _("input neuron"),
    .y_label = conv != NULL ? _("filter") : _("output neuron"),
    .n_rows = l->n_out,
    .n_cols = l->n_in,
    .values = pl_snapshot_floats (l->weights, NULL),
    .mask = pl_snapshot_floats (masks, NULL),
    .aggregate = PL_HEATMAP_MAX_ABS,
  };
  pl_chart_view_set_chart (self->heatmap_view, PL_CHART_HEATMAP, h, holder_free);
}

/* Bins the scores of the candidates (kept weights or live neurons) into the window's cache. */
static void
bin_scores (PlWindow   *self,
            PlSnapshot *s)
{
  double lo = s->score_min, hi = s->score_max, total = 0.0, top = 0.0;
  gboolean per_neuron = pl_score_info (s->strategy.score)->per_neuron;

  memset (self->hist_counts, 0, sizeof self->hist_counts);
  self->hist_valid = s->n_layers > 0 && s->scores_valid && hi > lo;
  if (!self->hist_valid)
    return;

  for (guint i = 0; i < s->n_layers; i++)
    {
      const PlLayerView *l = &s->layers[i];
      gsize n = 0;
      const float *sc = pl_snapshot_floats (l->scores, &n);
      const float *keep = pl_snapshot_floats (per_neuron ? l->neuron_masks : l->masks, NULL);

      for (gsize k = 0; sc != NULL && k < n; k++)
        if (keep == NULL || keep[k] != 0.0f)
          {
            int b = (int) floor ((sc[k] - lo) / (hi - lo) * HISTOGRAM_BINS);
            self->hist_counts[CLAMP (b, 0, HISTOGRAM_BINS - 1)] += 1;
          }
    }
  for (guint b = 0; b < HISTOGRAM_BINS; b++)
    {
      total += self->hist_counts[b];
      top = MAX (top, self->hist_counts[b]);
    }
  /* a skewed distribution (most scores in one bin) reads better on a log count axis */
  self->hist_log = total > 0 && top > 0.5 * total;
  self->hist_lo = lo;
  self->hist_hi = hi;
}

/* The histogram with the preview's threshold; bins again only when scores or masks changed. */
static void
update_histogram (PlWindow          *self,
                  PlSnapshot        *s,
                  PlSnapshotChanged  changed)
{
  Holder *h;
  double *counts, *thresholds, *shares;

  if (changed & (PL_SNAPSHOT_CHANGED_SCORES | PL_SNAPSHOT_CHANGED_MASKS | PL_SNAPSHOT_CHANGED_MODEL)
      || !self->hist_valid)
    bin_scores (self, s);
  if (!self->hist_valid)
    return set_empty (self->histogram_view);

  h = holder_new (s);
  counts = holder_alloc (h, sizeof (double) * HISTOGRAM_BINS);
  thresholds = holder_alloc (h, sizeof (double));
  shares = holder_alloc (h, sizeof (double));
  memcpy (counts, self->hist_counts, sizeof (double) * HISTOGRAM_BINS);

  h->title = g_strdup_printf (_("%s: drag to set the threshold"), _(pl_score_info (s->strategy.score)->title));
  h->d.histogram = (PlHistogramData) {
    .title = h->title,
    .x_label = s->strategy.invert ? _("score (inverted: the highest go first)") : _("score (the lowest go first)"),
    .n_bins = HISTOGRAM_BINS,
    .lo = self->hist_lo,
    .hi = self->hist_hi,
    .counts = counts,
    .log_count = self->hist_log,
  };
  if (s->has_preview && isfinite (s->preview.threshold))
    {
      thresholds[0] = s->preview.threshold;
      shares[0] = s->preview.sparsity;
      h->d.histogram.n_thresholds = 1;
      h->d.histogram.thresholds = thresholds;
      h->d.histogram.shares = shares;
    }
  pl_chart_view_set_chart (self->histogram_view, PL_CHART_HISTOGRAM, h, holder_free);
}

gboolean
_pl_window_histogram_value (PlWindow *self,
                            double    x,
                            double   *value)
{
  PlChartArea area;
  const PlChart *chart = pl_chart_view_get_chart (self->histogram_view);

  if (chart == NULL || chart->kind != PL_CHART_HISTOGRAM || !pl_chart_view_get_area (self->histogram_view, &area))
    return FALSE;
  x = CLAMP (x, area.x, area.x + area.width);
  *value = pl_chart_area_value_x (&area, x);
  return TRUE;
}

/* One curve per score: the seeds of a score give, at each target sparsity, the mean accuracy
 * and its smallest and largest (pl_curve_summarise, as `prunelab-cli plot curves`), drawn at the
 * mean sparsity reached. */
static void
update_curves (PlWindow   *self,
               PlSnapshot *s)
{
  Holder *h;
  PlCurve *curves;
  guint n_runs = 0, n_all;
  PlScoreKind kinds[PL_N_SCORES];
  guint n_kinds = 0, max_seeds = 1;
  gsize total = 0;
  double *out;

  for (guint m = 0; m < PL_N_METHODS; m++)
    n_runs += s->schedules[m] != NULL;
  if (s->n_curves + n_runs == 0)
    return set_empty (self->curves_view);

  for (guint c = 0; c < s->n_curves; c++)
    {
      gsize n = 0;
      guint k = 0;

      pl_sweep_curve_points (&s->curves[c], &n);
      total += n;
      while (k < n_kinds && kinds[k] != s->curves[c].score)
        k++;
      if (k == n_kinds && n_kinds < PL_N_SCORES)
        kinds[n_kinds++] = s->curves[c].score;
    }

  h = holder_new (s);
  curves = holder_alloc (h, sizeof (PlCurve) * (n_kinds + n_runs));
  out = holder_alloc (h, sizeof (double) * 4 * MAX (total, 1));   /* x, mean, lo, hi */
  for (guint k = 0; k < n_kinds; k++)
    {
      g_autofree double *target = g_new (double, MAX (total, 1));
      g_autofree double *accuracy = g_new (double, MAX (total, 1));
      g_autofree double *reached = g_new (double, MAX (total, 1));
      g_autofree double *scratch = g_new (double, MAX (total, 1));
      guint m = 0, seeds = 0, n_out;

      for (guint c = 0; c < s->n_curves; c++)
        if (s->curves[c].score == kinds[k])
          {
            gsize n = 0;
            const PlSweepPoint *p = pl_sweep_curve_points (&s->curves[c], &n);

            for (gsize j = 0; j < n; j++, m++)
              {
                target[m] = p[j].target;
                accuracy[m] = p[j].accuracy;
                reached[m] = p[j].sparsity;
              }
            seeds++;
          }
      max_seeds = MAX (max_seeds, seeds);
      n_out = pl_curve_summarise (target, accuracy, m, PL_SPREAD_MIN_MAX,
                                  out, out + total, out + 2 * total, out + 3 * total);
      /* the same groups in the same order: x becomes the mean sparsity reached */
      if (pl_curve_summarise (target, reached, m, PL_SPREAD_NONE, scratch, out, NULL, NULL) != n_out)
        g_warn_if_reached ();
      curves[k] = (PlCurve) { _(pl_score_info (kinds[k])->title), n_out, out, out + total,
                              seeds > 1 ? out + 2 * total : NULL, seeds > 1 ? out + 3 * total : NULL };
      out += n_out;
    }
  n_all = n_kinds;
  /* the procedures run (win.run-procedure): validation accuracy against the sparsity each point
   * reached, in order of sparsity; one array holds them all, as the holder keeps few blocks */
  if (n_runs > 0)
    {
      gsize n_points = 0, used = 0;
      double *xy;

      for (guint m = 0; m < PL_N_METHODS; m++)
        n_points += s->schedules[m] != NULL ? g_bytes_get_size (s->schedules[m]) / sizeof (PlSchedulePoint) : 0;
      xy = holder_alloc (h, sizeof (double) * 2 * MAX (n_points, 1));
      for (guint m = 0; m < PL_N_METHODS; m++)
        {
          gsize n = 0;
          const PlSchedulePoint *p;
          double *x = xy + 2 * used, *y = x + (s->schedules[m] != NULL ? g_bytes_get_size (s->schedules[m]) / sizeof (PlSchedulePoint) : 0);

          if (s->schedules[m] == NULL)
            continue;
          p = g_bytes_get_data (s->schedules[m], &n);
          n /= sizeof (PlSchedulePoint);
          for (gsize k = 0; k < n; k++)
            {
              /* insertion by sparsity: a few points */
              gsize at = k;

              while (at > 0 && x[at - 1] > p[k].sparsity)
                {
                  x[at] = x[at - 1];
                  y[at] = y[at - 1];
                  at--;
                }
              x[at] = p[k].sparsity;
              y[at] = p[k].val_accuracy;
            }
          used += n;
          curves[n_all++] = (PlCurve) { _(pl_method_info (m)->title), (guint) n, x, y, NULL, NULL };
        }
    }
  h->title = g_strdup (g_strcmp0 (s->eval_split, "test") == 0 ? _("Accuracy after pruning (test set)")
                                                               : _("Accuracy after pruning (validation set)"));
  h->d.curves = (PlCurveSet) {
    .title = h->title,
    .y_label = _("accuracy"),
    .n_curves = n_all,
    .curves = curves,
    .reference = s->eval.valid ? s->eval.accuracy : NAN,
    .reference_label = _("unpruned"),
    .spread = max_seeds > 1 ? PL_SPREAD_MIN_MAX : PL_SPREAD_NONE,
    .n_seeds = max_seeds > 1 ? max_seeds : 0,
    .y_format = PL_CHART_NUMBER_PERCENT,
  };
  pl_chart_view_set_chart (self->curves_view, PL_CHART_CURVES, h, holder_free);
}

static void
update_training (PlWindow   *self,
                 PlSnapshot *s)
{
  gsize n = 0, n_norms = 0;
  const PlEpochRecord *r = pl_snapshot_history (s, &n);
  const float *norms = pl_snapshot_floats (s->training.grad_norms, &n_norms);
  Holder *h, *g;
  double *a;

  if (n == 0)
    set_empty (self->training_view);
  else
    {
      h = holder_new (s);
      a = holder_alloc (h, sizeof (double) * 5 * n);
      for (gsize k = 0; k < n; k++)
        {
          a[k] = r[k].epoch;
          a[n + k] = r[k].train_loss;
          a[2 * n + k] = r[k].val_loss;
          a[3 * n + k] = r[k].train_accuracy;
          a[4 * n + k] = r[k].val_accuracy;
        }
      h->d.training = (PlTrainingData) {
        .title = _("Training"), .n = (guint) n, .epoch = a, .train_loss = a + n,
        .val_loss = a + 2 * n, .train_accuracy = a + 3 * n, .val_accuracy = a + 4 * n,
      };
      pl_chart_view_set_chart (self->training_view, PL_CHART_TRAINING, h, holder_free);
    }

  if (n_norms == 0)
    set_empty (self->gradnorm_view);
  else
    {
      g = holder_new (s);
      g->d.gradnorm = (PlGradNormData) {
        .title = _("Gradient norm per step"), .n = (guint) n_norms, .norms = norms,
        .steps_per_epoch = n > 0 ? (guint) (n_norms / n) : 0, .log_y = TRUE,
      };
      pl_chart_view_set_chart (self->gradnorm_view, PL_CHART_GRAD_NORM, g, holder_free);
    }
}

/* A conv layer's filter mask as the charts read it: the preview's when one is shown. */
static const float *
filter_mask (PlSnapshot *s,
             gint        layer)
{
  const PlLayerView *l;

  if (layer < 0 || (guint) layer >= s->n_layers)
    return NULL;
  l = &s->layers[layer];
  return pl_snapshot_floats (s->has_preview && l->preview_neuron_masks != NULL ? l->preview_neuron_masks
                                                                               : l->neuron_masks, NULL);
}

/* The layers[] index of the filters whose masks stage @i's channels follow: a conv stage's own,
 * a pool's those of the conv stage before it (a pool keeps its channels); -1 for none. */
static gint
stage_filters (const PlSnapshot *s,
               guint             i)
{
  if (s->stages[i].kind == PL_CONV_LAYER_CONV)
    return s->stages[i].layer;
  return i > 0 && s->stages[i - 1].kind == PL_CONV_LAYER_CONV ? s->stages[i - 1].layer : -1;
}

/* The network diagram of a conv net: its layers[] begin with the conv layers, whose columns the
 * diagram draws as channel stacks (the input and each stage), so the dense columns are the
 * head's (as `prunelab-cli plot network`). */
static void
network_stages (Holder     *h,
                PlSnapshot *s)
{
  PlNetworkStage *stages = holder_alloc (h, sizeof (PlNetworkStage) * (s->n_stages + 1));
  guint n_conv = 0;

  stages[0] = (PlNetworkStage) { PL_NETWORK_STAGE_INPUT, s->stages[0].c_in, s->stages[0].h_in,
                                 s->stages[0].w_in, NULL };
  for (guint i = 0; i < s->n_stages; i++)
    {
      const PlConvStageView *st = &s->stages[i];

      stages[i + 1] = (PlNetworkStage) {
        st->kind == PL_CONV_LAYER_CONV ? PL_NETWORK_STAGE_CONV : PL_NETWORK_STAGE_POOL,
        st->c_out, st->h_out, st->w_out, filter_mask (s, stage_filters (s, i)),
      };
      n_conv += st->kind == PL_CONV_LAYER_CONV;
    }
  g_assert (n_conv < s->n_layers);
  h->d.network.n_stages = s->n_stages + 1;
  h->d.network.stages = stages;
  h->d.network.n_layers = s->n_layers - n_conv;
  h->d.network.sizes += n_conv;
  h->d.network.layers += n_conv;
  h->d.network.title = h->title = g_strdup_printf (_("Network %s"), s->arch);
}

/* The filters of every conv layer, with the preview's masks when one is shown (the Filters
 * page). */
static void
update_filters (PlWindow   *self,
                PlSnapshot *s)
{
  Holder *h = holder_new (s);
  PlFiltersLayer *panels = holder_alloc (h, sizeof (PlFiltersLayer) * s->n_stages);
  char **names = holder_alloc (h, sizeof (char *) * s->n_stages);
  guint n = 0;

  for (guint i = 0; i < s->n_stages; i++)
    {
      const PlConvStageView *st = &s->stages[i];
      const PlLayerView *l;

      if (st->kind != PL_CONV_LAYER_CONV || st->layer < 0 || (guint) st->layer >= s->n_layers)
        continue;
      l = &s->layers[st->layer];
      g_assert (l->n_out == st->c_out && l->n_in == st->c_in * st->k * st->k);
      /* TRANSLATORS: a panel of the filters chart: the conv layer's number in the layer list */
      names[n] = g_strdup_printf (_("layer %d"), st->layer + 1);
      g_ptr_array_add (h->blocks, names[n]);
      panels[n] = (PlFiltersLayer) {
        .name = names[n],
        .c_out = st->c_out, .c_in = st->c_in, .k = st->k,
        .weights = pl_snapshot_floats (l->weights, NULL),
        .mask = pl_snapshot_floats (l->masks, NULL),
        .filter_mask = pl_snapshot_floats (l->neuron_masks, NULL),
        .preview_mask = s->has_preview ? pl_snapshot_floats (l->preview_masks, NULL) : NULL,
        .preview_filter_mask = s->has_preview ? pl_snapshot_floats (l->preview_neuron_masks, NULL) : NULL,
      };
      n++;
    }
  h->title = g_strdup (s->has_preview ? _("Filters with the preview mask") : _("Filters"));
  h->d.filters = (PlFiltersData) { .title = h->title, .n_layers = n, .layers = panels };
  pl_chart_view_set_chart (self->filters_view, PL_CHART_FILTERS, h, holder_free);
}

/* One evaluation image through the conv net, stage by stage (the Feature Maps page). */
static void
update_feature_maps (PlWindow   *self,
                     PlSnapshot *s)
{
  Holder *h;
  PlFeatureStage *stages;
  gboolean preview = FALSE;

  if (s->n_stages == 0 || s->feature_input == NULL)
    return set_empty (self->maps_view);

  h = holder_new (s);
  stages = holder_alloc (h, sizeof (PlFeatureStage) * s->n_stages);
  for (guint i = 0; i < s->n_stages; i++)
    {
      const PlConvStageView *st = &s->stages[i];
      gint layer = stage_filters (s, i);
      const PlLayerView *l = layer >= 0 && (guint) layer < s->n_layers ? &s->layers[layer] : NULL;

      stages[i] = (PlFeatureStage) {
        st->kind == PL_CONV_LAYER_CONV ? PL_FEATURE_STAGE_CONV : PL_FEATURE_STAGE_POOL, NULL,
        st->c_out, st->h_out, st->w_out,
        pl_snapshot_floats (st->maps, NULL),
        l != NULL ? pl_snapshot_floats (l->neuron_masks, NULL) : NULL,
        s->has_preview ? pl_snapshot_floats (st->preview_maps, NULL) : NULL,
        l != NULL && s->has_preview ? pl_snapshot_floats (l->preview_neuron_masks, NULL) : NULL,
      };
      preview |= stages[i].preview_maps != NULL;
      if (stages[i].maps == NULL)
        {
          holder_free (h);
          return set_empty (self->maps_view);
        }
    }
  h->title = g_strdup_printf (preview ? _("Feature maps of image %u, preview mask") : _("Feature maps of image %u"),
                              s->feature_index);
  h->d.feature_maps = (PlFeatureMapsData) {
    .title = h->title,
    .class_name = s->class_names != NULL && s->feature_label < g_strv_length (s->class_names)
                  ? s->class_names[s->feature_label] : NULL,
    .c = s->stages[0].c_in, .h = s->stages[0].h_in, .w = s->stages[0].w_in,
    .image = pl_snapshot_floats (s->feature_input, NULL),
    .n_stages = s->n_stages,
    .stages = stages,
    .show_preview = preview,
  };
  pl_chart_view_set_chart (self->maps_view, PL_CHART_FEATURE_MAPS, h, holder_free);
}

static void
update_model_views (PlWindow   *self,
                    PlSnapshot *s)
{
  Holder *h;
  PlNetworkLayer *layers;
  guint *sizes;

  if (s->n_layers == 0)
    {
      set_empty (self->network_view);
      set_empty (self->boundary_view);
      set_empty (self->filters_view);
      return;
    }
  if (s->n_stages == 0)
    set_empty (self->filters_view);

  h = holder_new (s);
  layers = holder_alloc (h, sizeof (PlNetworkLayer) * s->n_layers);
  sizes = holder_alloc (h, sizeof (guint) * (s->n_layers + 1));
  for (guint i = 0; i < s->n_layers; i++)
    {
      const PlLayerView *l = &s->layers[i];
      gboolean pv = s->has_preview && l->preview_masks != NULL;

      sizes[i] = l->n_in;
      sizes[i + 1] = l->n_out;
      layers[i] = (PlNetworkLayer) {
        pl_snapshot_floats (l->weights, NULL),
        pl_snapshot_floats (pv ? l->preview_masks : l->masks, NULL),
        pl_snapshot_floats (pv ? l->preview_neuron_masks : l->neuron_masks, NULL),
      };
    }
  h->d.network = (PlNetworkData) { .title = _("Network"), .n_layers = s->n_layers, .sizes = sizes, .layers = layers };
  if (s->n_stages > 0)
    network_stages (h, s);
  pl_chart_view_set_chart (self->network_view, PL_CHART_NETWORK, h, holder_free);

  if (s->n_stages > 0)
    {
      update_filters (self, s);
      set_empty (self->boundary_view);
    }
  else if (s->image_width > 0 && s->layers[0].n_in == s->image_width * s->image_height)
    {
      const PlLayerView *l = &s->layers[0];
      gboolean pv = s->has_preview && l->preview_masks != NULL;
      Holder *f = holder_new (s);

      f->d.fields = (PlFieldsData) {
        .title = _("Receptive fields of the first layer"),
        .n_neurons = l->n_out, .n_inputs = l->n_in,
        .image_width = s->image_width, .image_height = s->image_height,
        .weights = pl_snapshot_floats (l->weights, NULL),
        .mask = pl_snapshot_floats (pv ? l->preview_masks : l->masks, NULL),
        .neuron_mask = pl_snapshot_floats (pv ? l->preview_neuron_masks : l->neuron_masks, NULL),
      };
      pl_chart_view_set_chart (self->boundary_view, PL_CHART_FIELDS, f, holder_free);
    }
  else if (s->n_features == 2 && s->grid_size > 0 && s->grid != NULL)
    {
      GBytes *grid = s->has_preview && s->preview_grid != NULL ? s->preview_grid : s->grid;
      gsize n_prob = 0;
      const float *prob = pl_snapshot_floats (grid, &n_prob);
      guint n = s->grid_size, c = (guint) (n_prob / ((gsize) n * n));   /* the model's outputs */
      Holder *b = holder_new (s);
      guint32 *cls = holder_alloc (b, sizeof (guint32) * n * n);
      float *conf = holder_alloc (b, sizeof (float) * n * n);
      gsize n_points = 0;

      /* the predicted class and its probability in each cell, as `prunelab-cli plot boundary` */
      pl_decision_argmax (cls, conf, prob, (gsize) n * n, c);
      pl_snapshot_uint32s (s->point_labels, &n_points);
      b->d.boundary = (PlBoundaryData) {
        .title = s->has_preview ? _("Decision boundary with the preview mask") : _("Decision boundary"),
        .n_classes = c, .grid_width = n, .grid_height = n, .grid_class = cls, .grid_confidence = conf,
        .x_min = s->grid_x0, .x_max = s->grid_x1, .y_min = s->grid_y0, .y_max = s->grid_y1,
        .n_points = (guint) n_points, .points = pl_snapshot_floats (s->points, NULL),
        .labels = pl_snapshot_uint32s (s->point_labels, NULL),
        .class_names = (const char * const *) s->class_names,
      };
      pl_chart_view_set_chart (self->boundary_view, PL_CHART_BOUNDARY, b, holder_free);
    }
  else
    set_empty (self->boundary_view);
}

static void
update_confusion (PlWindow   *self,
                  PlSnapshot *s)
{
  Holder *h;
  const char **names;

  if (!s->eval.valid || s->eval.confusion == NULL)
    return set_empty (self->confusion_view);

  h = holder_new (s);
  h->title = g_strdup (g_strcmp0 (s->eval_split, "test") == 0 ? _("Confusion matrix (test set)")
                                                               : _("Confusion matrix (validation set)"));
  /* one name per output: a network may have more outputs than the data has classes (LeNet-5's
   * 10 on the 8 shapes), and those are shown by number (a NULL name) */
  names = holder_alloc (h, sizeof (char *) * (s->eval.n_classes + 1));
  for (guint c = 0, n = s->class_names != NULL ? g_strv_length (s->class_names) : 0; c < s->eval.n_classes; c++)
    names[c] = c < n ? s->class_names[c] : NULL;
  h->d.confusion = (PlConfusionData) {
    .title = h->title, .n_classes = s->eval.n_classes,
    .counts = pl_snapshot_uint32s (s->eval.confusion, NULL),
    .class_names = names,
  };
  pl_chart_view_set_chart (self->confusion_view, PL_CHART_CONFUSION, h, holder_free);
}

void
_pl_window_update_charts (PlWindow          *self,
                          PlSnapshot        *s,
                          PlSnapshotChanged  changed)
{
  const PlSnapshotChanged model = PL_SNAPSHOT_CHANGED_MODEL | PL_SNAPSHOT_CHANGED_WEIGHTS
                                  | PL_SNAPSHOT_CHANGED_MASKS | PL_SNAPSHOT_CHANGED_PREVIEW;

  if (changed & model)
    update_heatmap (self, s);
  if (changed & (model | PL_SNAPSHOT_CHANGED_SCORES))
    update_histogram (self, s, changed);
  if (changed & (PL_SNAPSHOT_CHANGED_SWEEP | PL_SNAPSHOT_CHANGED_EVALUATION | PL_SNAPSHOT_CHANGED_MODEL))
    update_curves (self, s);
  if (changed & (PL_SNAPSHOT_CHANGED_TRAINING | PL_SNAPSHOT_CHANGED_MODEL))
    update_training (self, s);
  if (changed & (model | PL_SNAPSHOT_CHANGED_GRID | PL_SNAPSHOT_CHANGED_DATA))
    update_model_views (self, s);
  if (changed & (PL_SNAPSHOT_CHANGED_EVALUATION | PL_SNAPSHOT_CHANGED_DATA))
    update_confusion (self, s);
  if (changed & (model | PL_SNAPSHOT_CHANGED_FEATURES | PL_SNAPSHOT_CHANGED_DATA))
    update_feature_maps (self, s);
}

void
_pl_window_update_styles (PlWindow *self)
{
  PlChartView *views[] = { self->heatmap_view, self->histogram_view, self->curves_view, self->training_view,
                           self->gradnorm_view, self->network_view, self->boundary_view, self->confusion_view,
                           self->filters_view, self->maps_view };
  gboolean dark = adw_style_manager_get_dark (adw_style_manager_get_default ());
  PlChartStyle style;

  pl_chart_style_init (&style, self->presentation ? PL_CHART_THEME_PRESENTATION
                               : dark ? PL_CHART_THEME_DARK : PL_CHART_THEME_LIGHT);
  if (self->presentation && dark)
    {
      PlChartStyle dark_style;

      /* presentation sizes on the dark colours */
      pl_chart_style_init (&dark_style, PL_CHART_THEME_DARK);
      style.background = dark_style.background;
      style.foreground = dark_style.foreground;
      style.muted = dark_style.muted;
      style.grid = dark_style.grid;
    }
  /* charts sit on the window's own background */
  style.background.a = 0.0;
  for (guint i = 0; i < G_N_ELEMENTS (views); i++)
    pl_chart_view_set_style (views[i], &style);

  if (self->presentation)
    gtk_widget_add_css_class (GTK_WIDGET (self), "presentation");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self), "presentation");
}

void
_pl_window_hover_heatmap (PlWindow *self,
                          double    x,
                          double    y)
{
  PlSnapshot *s = self->snapshot;
  PlChartArea area;
  guint row, col;
  g_autofree char *text = NULL;

  if (s != NULL && s->n_layers > 0 && pl_chart_view_get_area (self->heatmap_view, &area)
      && pl_chart_heatmap_cell_at (&area, x, y, &row, &col))
    {
      const PlLayerView *l = &s->layers[MIN (self->layer, s->n_layers - 1)];
      GBytes *masks = s->has_preview && l->preview_masks != NULL ? l->preview_masks : l->masks;
      gsize k = (gsize) row * l->n_in + col;
      const float *w = pl_snapshot_floats (l->weights, NULL);
      const float *m = pl_snapshot_floats (masks, NULL);
      gsize n_scores = 0;
      const float *sc = pl_snapshot_floats (l->scores, &n_scores);
      double score = sc == NULL ? NAN : n_scores == (gsize) l->n_out * l->n_in ? sc[k] : sc[row];

      if (row < l->n_out && col < l->n_in)
        text = g_strdup_printf (_("output %u, input %u: w = %.4g, score %.4g, %s"), row, col, w[k], score,
                                m[k] != 0.0f ? _("kept") : _("pruned"));
    }
  gtk_label_set_label (self->hover_label, text != NULL ? text : "");
}

void
_pl_window_update_metrics (PlWindow   *self,
                           PlSnapshot *s)
{
  static const char *headers[] = {
    N_("Layer"), N_("Weights"), N_("Pruned"), N_("Dead neurons"), N_("Relative"), N_("Hoyer"),
    N_("Non-zero"), N_("FLOPs / sample"), N_("Dense"), N_("CSR"), N_("Compacted"),
  };
  const PlMetrics *m = s->has_preview ? &s->preview_metrics : &s->metrics;
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->metrics_grid))) != NULL)
    gtk_grid_remove (self->metrics_grid, child);

  for (guint c = 0; c < G_N_ELEMENTS (headers); c++)
    {
      GtkWidget *label = gtk_label_new (_(headers[c]));

      gtk_widget_add_css_class (label, "heading");
      gtk_label_set_xalign (GTK_LABEL (label), c == 0 ? 0.0f : 1.0f);
      gtk_grid_attach (self->metrics_grid, label, c, 0, 1, 1);
    }

  for (guint i = 0; i <= m->n_layers && s->n_layers > 0; i++)
    {
      const PlLayerMetrics *lm = i < m->n_layers ? &m->layers[i] : &m->total;
      char *cells[G_N_ELEMENTS (headers)] = { NULL };
      const PlConvStageView *conv = i < m->n_layers && i < s->n_layers ? _pl_window_conv_stage (s, i) : NULL;

      if (conv != NULL)
        /* TRANSLATORS: a conv layer's row of the metrics table: its number, N filters of C×K×K */
        cells[0] = g_strdup_printf (_("%u: %u filters of %u×%u×%u"), i + 1, conv->c_out, conv->c_in, conv->k, conv->k);
      else
        cells[0] = i < m->n_layers ? g_strdup_printf (_("%u: %u → %u"), i + 1, lm->n_in, lm->n_out) : g_strdup (_("Total"));
      cells[1] = g_strdup_printf ("%" G_GSIZE_FORMAT, lm->weights);
      cells[2] = g_strdup_printf ("%.1f %%", 100 * lm->parameter_sparsity);
      cells[3] = g_strdup_printf ("%u (%.0f %%)", lm->dead_neurons, 100 * lm->structural_sparsity);
      cells[4] = g_strdup_printf ("%.1f %%", 100 * lm->relative_sparsity);
      cells[5] = g_strdup_printf ("%.3f", lm->hoyer);
      cells[6] = g_strdup_printf ("%" G_GSIZE_FORMAT, lm->nonzero);
      {
        char eff[32], dense[32];

        /* at most 4 significant digits, SI suffixes from 10 000: "2034 / 8192", "833k" */
        pl_chart_format_number (eff, sizeof eff, lm->flops_effective, 0.0, PL_CHART_NUMBER_PLAIN);
        pl_chart_format_number (dense, sizeof dense, lm->flops_dense, 0.0, PL_CHART_NUMBER_PLAIN);
        cells[7] = g_strdup_printf ("%s / %s", eff, dense);
      }
      cells[8] = g_format_size ((guint64) lm->bytes_dense);
      cells[9] = g_format_size ((guint64) lm->bytes_csr);
      cells[10] = g_format_size ((guint64) lm->bytes_compact);
      for (guint c = 0; c < G_N_ELEMENTS (headers); c++)
        {
          GtkWidget *label = gtk_label_new (cells[c]);

          gtk_label_set_xalign (GTK_LABEL (label), c == 0 ? 0.0f : 1.0f);
          gtk_widget_add_css_class (label, "numeric");
          if (i == m->n_layers)
            gtk_widget_add_css_class (label, "heading");
          gtk_grid_attach (self->metrics_grid, label, c, i + 1, 1, 1);
        }
      for (guint c = 0; c < G_N_ELEMENTS (headers); c++)
        g_free (cells[c]);
    }
}
