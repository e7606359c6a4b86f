#define G_LOG_DOMAIN "pl-engine"

#include "config.h"

#include "pl-engine-worker-private.h"

#include <glib/gi18n-lib.h>
#include <math.h>
#include <string.h>

#include "pl-conv-compact.h"
#include "pl-conv-file.h"
#include "pl-conv-prune.h"
#include "pl-conv-score.h"
#include "pl-conv-sweep.h"
#include "pl-conv-train.h"
#include "pl-error.h"
#include "pl-eval.h"
#include "pl-metrics.h"

/* A convolutional network (pl-conv.h) as the worker's model. While w->conv holds one, the
 * dense fields (w->model, w->initial) are NULL and the commands about the model run here:
 * new and loaded networks, saving, training and fine-tuning, the strategy and its scores, the
 * live preview, apply-prune, undo, rewind and the feature maps. Sweeps and procedures run in
 * their usual files with a conv branch. What a conv net does not have (sessions, OBS, the
 * sparse measurements and compacted export of the app) fails with G_IO_ERROR_NOT_SUPPORTED.
 *
 * The draft (pl-snapshot.h): layers[] are the parametrised layers, the conv layers first as
 * the matrices of their filters, then the head's dense layers; stages[] the conv and pool
 * layers with the feature maps of one evaluation image.
 *
 * Strategies on a conv net:
 *   weights  every kind pl_conv_weight_score_supported() takes (magnitude, random, gradient,
 *            taylor, fisher, lamp, snip; pl-conv-score.h) over the conv and dense weights,
 *            scope global (the live preview, PlConvPreview) or layer (a pruned copy);
 *   filters  the per-neuron kinds neuron-l1 and neuron-l2 (the filter's L1 / L2 norm, Li et
 *            al. 2017) and apoz, activation and neuron-taylor (channel scores, pl-conv-prune.h)
 *            remove whole filters of every conv layer, the same share of each (round(s·c_out)),
 *            with the next layer's input channels; a copy of the network is pruned and
 *            evaluated for each preview.
 * Invert, exclude-output and N:M are not defined here and are refused. A preview by threshold
 * (the histogram's line) previews the target sparsity s = (pruned already + candidates scoring
 * at most the threshold) / all, of the weights or of the filters: the global weight ranking
 * then prunes exactly those; per layer, or for filters (the same share of each conv layer), the
 * layers' shares are those of s rather than of the threshold. */

/* ───────────────────────────── the network ───────────────────────────── */

gboolean
_pl_worker_conv_fits (const PlConvNet *net,
                      const PlData    *data)
{
  if (pl_conv_net_n_inputs (net) != data->n_features || pl_conv_net_n_outputs (net) < data->n_classes)
    return FALSE;
  /* an image set has its own shape; a set of plain features is read as the net's image */
  return data->image_width == 0 || (data->image_width == net->w && data->image_height == net->h);
}

static void
clear_stages (PlWorker *w)
{
  PlSnapshot *d = w->draft;

  for (guint i = 0; i < d->n_stages; i++)
    {
      g_clear_pointer (&d->stages[i].maps, pl_bytes_unref);
      g_clear_pointer (&d->stages[i].preview_maps, pl_bytes_unref);
    }
  d->n_stages = 0;
  g_clear_pointer (&d->feature_input, pl_bytes_unref);
}

/* No preview shown, and none kept: the model, its data or the strategy changed. */
static void
forget_preview (PlWorker *w)
{
  _pl_worker_clear_preview (w);
  g_clear_pointer (&w->conv_preview, pl_conv_preview_free);
  g_clear_pointer (&w->conv_shown, pl_conv_net_free);
}

void
_pl_worker_conv_clear (PlWorker *w)
{
  if (w->conv == NULL)
    return;
  forget_preview (w);
  g_clear_pointer (&w->conv, pl_conv_net_free);
  g_clear_pointer (&w->conv_initial, pl_conv_net_free);
  g_clear_pointer (&w->conv_dense, pl_conv_net_free);
  g_clear_pointer (&w->conv_scores, g_free);
  clear_stages (w);
  w->changed |= PL_SNAPSHOT_CHANGED_FEATURES;
}

void
_pl_worker_conv_data_changed (PlWorker *w)
{
  forget_preview (w);
  g_clear_pointer (&w->conv_scores, g_free);
  w->draft->feature_index = 0;
  _pl_worker_touch (w, DIRTY_EVAL | DIRTY_SCORES | DIRTY_FEATURES | DIRTY_PREVIEW);
}

/* A parametrised layer as the matrix the snapshot shows: a conv layer's filters (rows of
 * c_in·k·k weights, row masks its filter masks), then the head's dense layers, in the order of
 * PlSnapshot.layers[] and of the scores: weight scores from @w_off, filter scores (structured,
 * conv layers only) from @f_off. */
typedef struct {
  gboolean  conv;
  guint     n_out, n_in;
  float    *w, *b, *mask, *rows;
  gsize     w_off, f_off;
} Matrix;

#define MAX_MATRICES (PL_CONV_MAX_LAYERS + PL_MLP_MAX_LAYERS)

static guint
matrices (const PlConvNet *net,
          Matrix          *out)
{
  gsize w_off = 0, f_off = 0;
  guint n = 0;

  for (guint i = 0; i < net->n_layers; i++)
    {
      const PlConvLayer *l = &net->layers[i];

      if (l->kind != PL_CONV_LAYER_CONV)
        continue;
      out[n++] = (Matrix) { TRUE, l->c_out, l->c_in * l->k * l->k, l->w, l->b, l->w_mask,
                            l->filter_mask, w_off, f_off };
      w_off += (gsize) l->c_out * l->c_in * l->k * l->k;
      f_off += l->c_out;
    }
  for (guint i = 0; i < net->head->n_layers; i++)
    {
      const PlLayer *l = &net->head->layers[i];

      out[n++] = (Matrix) { FALSE, l->n_out, l->n_in, l->w, l->b, l->w_mask, l->neuron_mask,
                            w_off, f_off };
      w_off += (gsize) l->n_out * l->n_in;
    }
  return n;
}

/* The candidates of the strategy in matrix @m: its filters when it prunes filters (none of a
 * dense layer), else its weights; their scores, their masks (1 kept) and their count. */
static gsize
candidates (const PlWorker  *w,
            const Matrix    *m,
            const float    **scores,
            const float    **masks)
{
  if (w->conv_structured)
    {
      *scores = w->conv_scores + m->f_off;
      *masks = m->rows;
      return m->conv ? m->n_out : 0;
    }
  *scores = w->conv_scores + m->w_off;
  *masks = m->mask;
  return (gsize) m->n_out * m->n_in;
}

/* Takes @net: the model from now on, its weights the ones to rewind to. */
void
_pl_worker_set_conv (PlWorker   *w,
                     PlConvNet  *net,
                     guint64     seed,
                     const char *path)
{
  Matrix m[MAX_MATRICES];
  guint n = matrices (net, m);
  gint p = 0;
  PlSnapshot *d;

  g_clear_pointer (&w->model, pl_mlp_free);
  g_clear_pointer (&w->initial, pl_mlp_free);
  g_clear_pointer (&w->preview_masks, g_free);
  g_clear_pointer (&w->preview_neuron_masks, g_free);
  _pl_worker_conv_clear (w);
  w->conv = net;
  w->conv_initial = pl_conv_net_copy (net);
  w->shown = NULL;

  /* a draft with the network's layers, none of the old model's views */
  d = _pl_snapshot_copy_resized (w->draft, 0);
  pl_snapshot_unref (w->draft);
  w->draft = _pl_snapshot_copy_resized (d, n);
  pl_snapshot_unref (d);
  d = w->draft;
  for (guint i = 0; i < n; i++)
    {
      d->layers[i].n_in = m[i].n_in;
      d->layers[i].n_out = m[i].n_out;
    }
  /* the stages; a conv stage's filters are the next of layers[] */
  for (guint i = 0; i < net->n_layers; i++)
    {
      const PlConvLayer *l = &net->layers[i];

      d->stages[i] = (PlConvStageView) { l->kind, l->c_in, l->h_in, l->w_in, l->c_out, l->h_out,
                                         l->w_out, l->k, l->pad,
                                         l->kind == PL_CONV_LAYER_CONV ? p++ : -1, NULL, NULL };
    }
  d->n_stages = net->n_layers;
  g_free (d->arch);
  d->arch = pl_conv_net_arch (net);
  d->activation = net->activation;
  d->model_seed = seed;
  g_free (d->model_path);
  d->model_path = g_strdup (path);
  d->feature_index = 0;
  _pl_worker_reset_model_state (w);
  _pl_worker_touch (w, DIRTY_FEATURES);
  w->changed |= PL_SNAPSHOT_CHANGED_FEATURES;
}

gboolean
_pl_worker_check_conv_fits (PlWorker         *w,
                            const PlConvNet  *net,
                            const char       *path,
                            GError          **error)
{
  g_autofree char *arch = NULL;
  g_autofree char *what = NULL;

  if (w->data == NULL || _pl_worker_conv_fits (net, w->data))
    return TRUE;
  arch = pl_conv_net_arch (net);
  if (w->data->image_width > 0)
    what = g_strdup_printf (_("the network %s does not fit “%s”, which has %u×%u images of %u classes"),
                            arch, w->data->name, w->data->image_width, w->data->image_height,
                            w->data->n_classes);
  else
    what = g_strdup_printf (_("the network %s does not fit “%s”, which has %u features and %u classes"),
                            arch, w->data->name, w->data->n_features, w->data->n_classes);
  if (path != NULL)
    /* TRANSLATORS: a file, and what is wrong with it */
    g_set_error (error, PL_TRAIN_ERROR, PL_TRAIN_ERROR_MISMATCH, _("“%s”: %s"), path, what);
  else
    g_set_error_literal (error, PL_TRAIN_ERROR, PL_TRAIN_ERROR_MISMATCH, what);
  return FALSE;
}

/* ───────────────────────────── scores ───────────────────────────── */

/* How the strategy prunes the net: FALSE with the error for what is not defined on one. */
static gboolean
conv_pruner_kind (const PlStrategy   *strategy,
                  PlConvPruneMode    *mode,
                  PlConvFilterScore  *filter,
                  PlConvChannelScore *channel,
                  GError            **error)
{
  PlScoreKind kind = strategy->score;
  const PlScoreInfo *info = pl_score_info (kind);

  *filter = PL_CONV_FILTER_L1;
  *channel = PL_CONV_CHANNEL_APOZ;
  if (strategy->invert || strategy->exclude_output || strategy->nm_m > 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                   _("inverted scores, a kept output layer and N:M do not prune a convolutional network"));
      return FALSE;
    }
  if (info->per_neuron)
    {
      if (kind == PL_SCORE_NEURON_L1 || kind == PL_SCORE_NEURON_L2)
        {
          *mode = PL_CONV_PRUNE_FILTERS;
          *filter = kind == PL_SCORE_NEURON_L2 ? PL_CONV_FILTER_L2 : PL_CONV_FILTER_L1;
          return TRUE;
        }
      if (kind == PL_SCORE_APOZ || kind == PL_SCORE_ACTIVATION || kind == PL_SCORE_NEURON_TAYLOR)
        {
          *mode = PL_CONV_PRUNE_CHANNELS;
          *channel = kind == PL_SCORE_APOZ ? PL_CONV_CHANNEL_APOZ
                     : kind == PL_SCORE_ACTIVATION ? PL_CONV_CHANNEL_ACTIVATION
                     : PL_CONV_CHANNEL_TAYLOR;
          return TRUE;
        }
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                   _("the score “%s” does not prune a convolutional network’s filters: take neuron-l1, neuron-l2, apoz, activation or neuron-taylor"),
                   info->name);
      return FALSE;
    }
  if (!pl_conv_weight_score_supported (kind))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                   _("the score “%s” is not defined for a convolutional network: take magnitude, random, gradient, taylor, fisher, lamp or snip"),
                   info->name);
      return FALSE;
    }
  if (strategy->scope != PL_SCOPE_GLOBAL && strategy->scope != PL_SCOPE_LAYER)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                   _("a convolutional network’s weights are pruned with the global or the per-layer scope"));
      return FALSE;
    }
  *mode = PL_CONV_PRUNE_WEIGHTS;
  return TRUE;
}

gboolean
pl_engine_conv_strategy_supported (const PlStrategy  *strategy,
                                   GError           **error)
{
  PlConvPruneMode mode;
  PlConvFilterScore filter;
  PlConvChannelScore channel;

  g_return_val_if_fail (strategy != NULL, FALSE);
  return conv_pruner_kind (strategy, &mode, &filter, &channel, error);
}

/* Calibration samples of the channel scores: the strategy's batches of the training split,
 * as the dense network's scores take them. */
static guint
n_calib (const PlWorker   *w,
         const PlStrategy *strategy)
{
  const PlScoreOptions *o = &strategy->score_options;

  return MIN (o->n_batches * o->batch_size, w->data->train->n);
}

/* The pruner of @strategy (pruning as @mode, @filter, @channel say) for w->conv, evaluated on
 * w->eval; @scores: the weight scores of a weight pruner, else NULL. */
static PlConvPruner
conv_pruner (const PlWorker     *w,
             const PlStrategy   *strategy,
             PlConvPruneMode     mode,
             PlConvFilterScore   filter,
             PlConvChannelScore  channel,
             const float        *scores)
{
  return (PlConvPruner) { w->conv, mode, mode == PL_CONV_PRUNE_WEIGHTS ? scores : NULL,
                          strategy->scope == PL_SCOPE_GLOBAL, strategy->allow_empty, filter,
                          channel, w->data->train, n_calib (w, strategy), w->eval };
}

static gboolean
ensure_conv_scores (PlWorker  *w,
                    GError   **error)
{
  PlConvNet *net = w->conv;
  PlSnapshot *d = w->draft;
  PlConvPruneMode mode;
  PlConvFilterScore filter;
  PlConvChannelScore channel;
  const PlScoreInfo *info = pl_score_info (d->strategy.score);
  g_autofree float *scores = NULL;
  double lo = INFINITY, hi = -INFINITY;
  gint64 t0 = g_get_monotonic_time ();
  int blas;
  gboolean ok = TRUE;

  if (w->conv_scores != NULL && !(w->dirty & DIRTY_SCORES))
    return TRUE;
  if (!conv_pruner_kind (&d->strategy, &mode, &filter, &channel, error))
    return FALSE;
  if ((info->needs_data || mode == PL_CONV_PRUNE_CHANNELS) && w->data == NULL)
    {
      g_set_error (error, PL_ENGINE_ERROR, PL_ENGINE_ERROR_NO_DATA,
                   _("the score “%s” needs data: load a dataset first"), info->name);
      return FALSE;
    }

  blas = _pl_worker_blas_begin (w);
  if (mode == PL_CONV_PRUNE_WEIGHTS)
    {
      scores = g_new (float, MAX (pl_conv_net_n_weights (net), 1));
      ok = pl_conv_weight_scores (net, d->strategy.score, w->data != NULL ? w->data->train : NULL,
                                  &d->strategy.score_options, scores, error);
    }
  else
    {
      gsize f = 0;

      scores = g_new (float, MAX (net->n_filters, 1));
      for (guint i = 0; i < net->n_layers && ok; i++)
        {
          const PlConvLayer *l = &net->layers[i];
          g_autofree double *s = NULL;

          if (l->kind != PL_CONV_LAYER_CONV)
            continue;
          s = g_new (double, l->c_out);
          if (mode == PL_CONV_PRUNE_FILTERS)
            pl_conv_filter_norms (net, i, filter == PL_CONV_FILTER_L2, s);
          else
            ok = pl_conv_channel_scores (net, i, channel, w->data->train, n_calib (w, &d->strategy), s, error);
          for (guint c = 0; c < l->c_out && ok; c++)
            scores[f++] = (float) s[c];
        }
    }
  _pl_worker_blas_end (blas);
  if (!ok)
    return FALSE;

  g_free (w->conv_scores);
  w->conv_scores = g_steal_pointer (&scores);
  w->conv_structured = mode != PL_CONV_PRUNE_WEIGHTS;
  w->scores_time = g_get_monotonic_time ();
  w->conv_scores_usec = w->scores_time - t0;
  w->dirty &= ~DIRTY_SCORES;

  /* into the draft's layers, and the range of the candidates' (kept weights', live filters')
   * scores: what a threshold slider spans */
  _pl_worker_clear_score_bytes (w);
  {
    Matrix m[MAX_MATRICES];
    guint n = matrices (net, m);

    for (guint p = 0; p < n; p++)
      {
        const float *sc, *mask;
        gsize nc = candidates (w, &m[p], &sc, &mask);

        if (nc > 0)
          d->layers[p].scores = g_bytes_new (sc, sizeof (float) * nc);
        for (gsize k = 0; k < nc; k++)
          if (mask[k] != 0.0f && isfinite (sc[k]))
            {
              lo = MIN (lo, sc[k]);
              hi = MAX (hi, sc[k]);
            }
      }
  }
  d->score_min = isfinite (lo) ? lo : 0.0;
  d->score_max = isfinite (hi) ? hi : 0.0;
  w->changed |= PL_SNAPSHOT_CHANGED_SCORES;
  return TRUE;
}

static void
scores_or_none (PlWorker *w)
{
  g_autoptr(GError) ignored = NULL;

  /* a strategy that cannot score this network shows no scores; a preview says why */
  if (!ensure_conv_scores (w, &ignored))
    {
      g_clear_pointer (&w->conv_scores, g_free);
      _pl_worker_clear_score_bytes (w);
      w->dirty &= ~DIRTY_SCORES;
      w->changed |= PL_SNAPSHOT_CHANGED_SCORES;
    }
}

/* ───────────────────────────── the draft ───────────────────────────── */

/* The maps of every stage for the feature image through @net into maps (or preview_maps). */
static void
compute_maps (PlWorker        *w,
              const PlConvNet *net,
              gboolean         preview)
{
  PlSnapshot *d = w->draft;
  g_autoptr(PlConvWork) work = NULL;
  const float *x;
  guint idx;
  int blas;

  for (guint i = 0; i < d->n_stages; i++)
    g_clear_pointer (preview ? &d->stages[i].preview_maps : &d->stages[i].maps, pl_bytes_unref);
  if (!preview)
    g_clear_pointer (&d->feature_input, pl_bytes_unref);
  w->changed |= PL_SNAPSHOT_CHANGED_FEATURES;
  if (net == NULL || w->eval == NULL || w->eval->n == 0 || !_pl_worker_conv_fits (net, w->data))
    return;

  idx = d->feature_index % w->eval->n;
  x = w->eval->x + (gsize) idx * w->eval->n_features;
  if (!preview)
    {
      d->feature_label = w->eval->y[idx];
      d->feature_input = g_bytes_new (x, sizeof (float) * w->eval->n_features);
    }
  blas = _pl_worker_blas_begin (w);
  work = pl_conv_work_new (net, 1);
  pl_conv_forward (net, work, x, 1);
  _pl_worker_blas_end (blas);
  for (guint i = 0; i < net->n_layers && i < d->n_stages; i++)
    {
      const PlConvLayer *l = &net->layers[i];
      GBytes *b = g_bytes_new (pl_conv_work_activation (work, i),
                               sizeof (float) * l->c_out * l->h_out * l->w_out);

      if (preview)
        d->stages[i].preview_maps = b;
      else
        d->stages[i].maps = b;
    }
}

void
_pl_worker_conv_refresh (PlWorker *w,
                         gint64    now,
                         gboolean  dragging)
{
  PlConvNet *net = w->conv;
  PlSnapshot *d = w->draft;

  if (w->dirty & (DIRTY_WEIGHTS | DIRTY_MASKS))
    {
      Matrix m[MAX_MATRICES];
      guint n = matrices (net, m);

      for (guint p = 0; p < n; p++)
        {
          gsize nw = (gsize) m[p].n_out * m[p].n_in;

          if (w->dirty & DIRTY_WEIGHTS)
            {
              _pl_worker_set_bytes (&d->layers[p].weights, m[p].w, sizeof (float) * nw);
              _pl_worker_set_bytes (&d->layers[p].biases, m[p].b, sizeof (float) * m[p].n_out);
            }
          if (w->dirty & DIRTY_MASKS)
            {
              _pl_worker_set_bytes (&d->layers[p].masks, m[p].mask, sizeof (float) * nw);
              _pl_worker_set_bytes (&d->layers[p].neuron_masks, m[p].rows,
                                    sizeof (float) * m[p].n_out);
            }
        }
      w->changed |= (w->dirty & DIRTY_WEIGHTS ? PL_SNAPSHOT_CHANGED_WEIGHTS : 0)
                    | (w->dirty & DIRTY_MASKS ? PL_SNAPSHOT_CHANGED_MASKS : 0);
      w->dirty &= ~(DIRTY_WEIGHTS | DIRTY_MASKS);
    }
  if (w->dirty & DIRTY_FEATURES)
    {
      compute_maps (w, net, FALSE);
      w->dirty &= ~DIRTY_FEATURES;
    }
  if ((w->dirty & DIRTY_METRICS) && _pl_worker_due (w, &w->metrics_time, METRICS_USEC, now))
    {
      pl_metrics_compute_conv (&d->metrics, net, w->conv_dense);
      w->dirty &= ~DIRTY_METRICS;
    }
  w->dirty &= ~(DIRTY_GRID | DIRTY_PGRID);   /* no decision grid over images */
  if ((w->dirty & DIRTY_EVAL) && !dragging && _pl_worker_due (w, &w->eval_time, EVAL_USEC, now))
    _pl_worker_compute_eval (w);
  /* while training at most every SCORES_USEC, and so that scoring takes at most a tenth of the
   * time: a data-driven score of a conv net runs a backward pass per sample */
  if ((w->dirty & DIRTY_SCORES) && !dragging
      && (!w->running || now - w->scores_time >= MAX (SCORES_USEC, 10 * w->conv_scores_usec)))
    scores_or_none (w);
}

/* ───────────────────────────── previews ───────────────────────────── */

/* The target sparsity that score threshold @t gives: every weight (filter) pruned already and
 * every candidate scoring at most @t, of all of them. */
static double
threshold_sparsity (const PlWorker *w,
                    double          t)
{
  Matrix m[MAX_MATRICES];
  guint n_m = matrices (w->conv, m);
  gsize pruned = 0, n = 0;

  for (guint p = 0; p < n_m; p++)
    {
      const float *sc, *mask;
      gsize nc = candidates (w, &m[p], &sc, &mask);

      for (gsize k = 0; k < nc; k++)
        pruned += mask[k] == 0.0f || sc[k] <= t;
      n += nc;
    }
  return n > 0 ? (double) pruned / n : 0.0;
}

/* The score threshold of the preview shown, as the dense preview reports it (pl-preview.h): the
 * highest score of a weight (a filter) the preview prunes and the model keeps; NaN when it
 * prunes none. */
static double
shown_threshold (const PlWorker *w)
{
  Matrix m[MAX_MATRICES], shown[MAX_MATRICES];
  guint n = matrices (w->conv, m);
  double t = -INFINITY;

  matrices (w->conv_shown, shown);
  for (guint p = 0; p < n; p++)
    {
      const float *sc, *mask, *shown_mask;
      gsize nc = candidates (w, &m[p], &sc, &mask);

      candidates (w, &shown[p], &sc, &shown_mask);
      for (gsize k = 0; k < nc; k++)
        if (shown_mask[k] == 0.0f && mask[k] != 0.0f)
          t = MAX (t, sc[k]);
    }
  return isfinite (t) ? t : NAN;
}

/* While training the weights move at every step: the incremental preview is rebuilt on them
 * once it is PREVIEW_REFRESH_USEC old, but not in the middle of a drag unless it is
 * PREVIEW_MAX_AGE_USEC old (as the dense network's, pl-engine-run.c). */
static gboolean
conv_preview_current (PlWorker *w,
                      gboolean  in_run)
{
  gint64 age = g_get_monotonic_time () - w->conv_preview_built;

  if (w->conv_preview == NULL)
    return FALSE;
  if (!w->conv_preview_stale)
    return TRUE;
  if (!in_run)
    return FALSE;
  return age < PREVIEW_REFRESH_USEC
         || (w->request_gap <= DRAG_GAP_USEC && age < PREVIEW_MAX_AGE_USEC);
}

/* The incremental preview (global weight scores) of the network and scores as they are. */
static gboolean
build_conv_preview (PlWorker  *w,
                    GError   **error)
{
  g_clear_pointer (&w->conv_preview, pl_conv_preview_free);
  w->conv_preview = pl_conv_preview_new (w->conv, w->conv_scores, w->draft->strategy.allow_empty,
                                         w->eval, w->threads, error);
  if (w->conv_preview == NULL)
    return FALSE;
  w->conv_preview_built = g_get_monotonic_time ();
  w->conv_preview_stale = FALSE;
  w->conv_preview_step = w->grad_norms->len;
  return TRUE;
}

/* The preview at w->preview_value on the current network; on failure the preview is off. */
gboolean
_pl_worker_conv_run_preview (PlWorker  *w,
                             gboolean   in_run,
                             GError   **error)
{
  PlConvNet *net = w->conv;
  PlSnapshot *d = w->draft;
  PlPreviewResult r;
  PlConvPruneMode mode;
  PlConvFilterScore filter;
  PlConvChannelScore channel;
  double target;
  gint64 t0 = g_get_monotonic_time (), t1, t2;
  int blas;

  if (w->data == NULL || w->eval == NULL || w->eval->n == 0)
    {
      g_set_error (error, PL_ENGINE_ERROR, PL_ENGINE_ERROR_NO_DATA, _("load a dataset first"));
      goto fail;
    }
  if (!_pl_worker_conv_fits (net, w->data))
    {
      g_set_error (error, PL_TRAIN_ERROR, PL_TRAIN_ERROR_MISMATCH,
                   _("the model does not fit the data “%s”"), w->data->name);
      goto fail;
    }
  if (!conv_pruner_kind (&d->strategy, &mode, &filter, &channel, error))
    goto fail;
  if (!(in_run && conv_preview_current (w, in_run) && w->conv_scores != NULL))
    {
      if (in_run || w->conv_preview_stale)
        _pl_worker_touch (w, DIRTY_SCORES);   /* of the weights now, as the preview will be */
      if (!ensure_conv_scores (w, error))
        goto fail;
    }
  target = w->preview_by_threshold ? threshold_sparsity (w, w->preview_value)
                                   : CLAMP (w->preview_value, 0.0, 1.0);

  blas = _pl_worker_blas_begin (w);
  if (mode == PL_CONV_PRUNE_WEIGHTS && d->strategy.scope == PL_SCOPE_GLOBAL)
    {
      PlConvPreviewResult cr;
      PlConvNet *shown;

      if (!conv_preview_current (w, in_run) && !build_conv_preview (w, error))
        {
          _pl_worker_blas_end (blas);
          goto fail;
        }
      t1 = g_get_monotonic_time ();
      if (!pl_conv_preview_run (w->conv_preview, target, NULL, &cr, error))
        {
          _pl_worker_blas_end (blas);
          goto fail;
        }
      t2 = g_get_monotonic_time ();
      /* the previewed network: the preview's weights with its masks */
      shown = pl_conv_net_copy (net);
      pl_conv_preview_get_masks (w->conv_preview, shown->masks, shown->head->masks);
      pl_conv_net_apply_masks (shown);
      g_clear_pointer (&w->conv_shown, pl_conv_net_free);
      w->conv_shown = shown;
      pl_conv_sweep_count (shown, target, &r);
      r.full_recompute = cr.conv_recomputed;
      r.n = cr.n;
      r.n_correct = cr.n_correct;
      r.accuracy = cr.accuracy;
      r.loss = cr.loss;
      d->preview_steps_behind = w->grad_norms->len - w->conv_preview_step;
    }
  else
    {
      /* per-layer weights, or filters: a pruned copy, evaluated */
      PlConvPruner pruner = conv_pruner (w, &d->strategy, mode, filter, channel, w->conv_scores);
      PlConvNet *shown;

      t1 = g_get_monotonic_time ();
      shown = pl_conv_pruner_apply (&pruner, target, error);
      if (shown == NULL || !pl_conv_sweep_measure (shown, w->eval, target, &r, error))
        {
          pl_conv_net_free (shown);
          _pl_worker_blas_end (blas);
          goto fail;
        }
      t2 = g_get_monotonic_time ();
      g_clear_pointer (&w->conv_shown, pl_conv_net_free);
      w->conv_shown = shown;
      d->preview_steps_behind = 0;
      /* of the weights as they are: nothing to redo until they change */
      g_clear_pointer (&w->conv_preview, pl_conv_preview_free);
      w->conv_preview_stale = FALSE;
    }
  _pl_worker_blas_end (blas);
  r.value = w->preview_value;
  r.threshold = w->conv_scores != NULL ? shown_threshold (w) : NAN;

  d->previews_computed++;
  d->has_preview = TRUE;
  d->preview_by_threshold = w->preview_by_threshold;
  d->preview_subsample = FALSE;
  d->preview = r;
  {
    Matrix m[MAX_MATRICES];
    guint n = matrices (w->conv_shown, m);

    for (guint p = 0; p < n; p++)
      {
        _pl_worker_set_bytes (&d->layers[p].preview_masks, m[p].mask,
                              sizeof (float) * m[p].n_out * m[p].n_in);
        _pl_worker_set_bytes (&d->layers[p].preview_neuron_masks, m[p].rows,
                              sizeof (float) * m[p].n_out);
      }
  }
  pl_metrics_compute_conv (&d->preview_metrics, w->conv_shown, net);
  compute_maps (w, w->conv_shown, TRUE);
  w->changed |= PL_SNAPSHOT_CHANGED_PREVIEW;
  d->preview_timing.rebuild = t1 - t0;
  d->preview_timing.run = t2 - t1;
  d->preview_timing.masks = g_get_monotonic_time () - t2;
  return TRUE;

fail:
  forget_preview (w);
  w->conv_preview_stale = FALSE;   /* not again until something changes */
  return FALSE;
}

static void
do_conv_preview (PlWorker  *w,
                 PlCommand *cmd)
{
  GError *error = NULL;
  gint64 t0 = g_get_monotonic_time ();

  _pl_worker_take_request (w, cmd);
  if (!_pl_worker_conv_run_preview (w, w->training, &error))
    _pl_worker_post_error (w, error);
  _pl_worker_publish (w);
  /* a continuous drag must not starve a training: the next preview waits until it has had
   * RUN_SHARE of the time (pl-engine-run.c) */
  if (w->running)
    {
      gint64 now = g_get_monotonic_time ();

      w->run_until = now + (gint64) ((now - t0) * RUN_SHARE / (1.0 - RUN_SHARE));
    }
}

/* No preview shown; the incremental one stays for the next drag. */
static void
clear_conv_preview (PlWorker *w)
{
  _pl_worker_clear_preview (w);
  g_clear_pointer (&w->conv_shown, pl_conv_net_free);
}

gboolean
_pl_worker_conv_idle (PlWorker *w)
{
  g_autoptr(GError) error = NULL;
  PlConvPruneMode mode;
  PlConvFilterScore filter;
  PlConvChannelScore channel;
  int blas;

  if (w->data == NULL || w->eval == NULL || w->eval->n == 0 || !_pl_worker_conv_fits (w->conv, w->data))
    return FALSE;
  /* a preview shown on a network that changed is done again */
  if (w->draft->has_preview && w->conv_preview_stale && w->conv_shown != NULL)
    {
      GError *perror = NULL;

      if (!_pl_worker_conv_run_preview (w, FALSE, &perror))
        _pl_worker_post_error (w, perror);
      _pl_worker_publish (w);
      return TRUE;
    }
  /* the incremental preview made ahead of the first drag */
  if (!w->conv_preview_stale
      || !conv_pruner_kind (&w->draft->strategy, &mode, &filter, &channel, NULL)
      || mode != PL_CONV_PRUNE_WEIGHTS || w->draft->strategy.scope != PL_SCOPE_GLOBAL)
    return FALSE;
  if (!ensure_conv_scores (w, &error))
    {
      w->conv_preview_stale = FALSE;   /* not again until something changes */
      return FALSE;
    }
  blas = _pl_worker_blas_begin (w);
  if (!build_conv_preview (w, NULL))
    w->conv_preview_stale = FALSE;   /* not again until something changes */
  _pl_worker_blas_end (blas);
  if (w->changed != 0)
    _pl_worker_publish (w);
  return TRUE;
}

/* ───────────────────────────── commands ───────────────────────────── */

static void
do_set_conv_strategy (PlWorker  *w,
                      PlCommand *cmd)
{
  w->draft->strategy = cmd->strategy;
  forget_preview (w);
  _pl_worker_touch (w, DIRTY_SCORES | DIRTY_PREVIEW);
  scores_or_none (w);   /* now, also while training: the histogram shows them */
  _pl_worker_publish (w);
  _pl_worker_finish (w, cmd, NULL);
}

static void
model_changed (PlWorker *w)
{
  forget_preview (w);
  _pl_worker_touch (w, DIRTY_MODEL | DIRTY_FEATURES);
}

static void
do_conv_apply_prune (PlWorker  *w,
                     PlCommand *cmd)
{
  PlConvNet *net = w->conv, *shown = w->conv_shown;

  if (!w->draft->has_preview || shown == NULL)
    {
      _pl_worker_fail (w, cmd, PL_ENGINE_ERROR, PL_ENGINE_ERROR_NO_PREVIEW,
                       _("nothing to prune with: preview a threshold or sparsity first"));
      return;
    }
  _pl_worker_push_undo (w);
  g_clear_pointer (&w->conv_dense, pl_conv_net_free);
  w->conv_dense = pl_conv_net_copy (net);
  /* exactly the masks the preview shows */
  memcpy (net->masks, shown->masks, sizeof (float) * net->n_params);
  memcpy (net->filter_masks, shown->filter_masks, sizeof (float) * net->n_filters);
  memcpy (net->head->masks, shown->head->masks, sizeof (float) * net->head->n_params);
  memcpy (net->head->neuron_masks, shown->head->neuron_masks, sizeof (float) * net->head->n_neurons);
  pl_conv_net_apply_masks (net);
  model_changed (w);
  _pl_worker_publish (w);
  _pl_worker_finish (w, cmd, NULL);
}

static void
do_conv_undo (PlWorker  *w,
              PlCommand *cmd)
{
  UndoEntry *e;

  if (w->undo->len == 0)
    {
      _pl_worker_fail (w, cmd, PL_ENGINE_ERROR, PL_ENGINE_ERROR_NOTHING_TO_UNDO, _("there is nothing to undo"));
      return;
    }
  e = g_ptr_array_steal_index (w->undo, w->undo->len - 1);
  if (e->conv != NULL)
    {
      pl_conv_net_free (w->conv);
      w->conv = g_steal_pointer (&e->conv);
    }
  _pl_undo_entry_free (e);
  if (pl_conv_net_n_pruned (w->conv) == 0)
    g_clear_pointer (&w->conv_dense, pl_conv_net_free);
  model_changed (w);
  w->changed |= PL_SNAPSHOT_CHANGED_STATE;
  _pl_worker_publish (w);
  _pl_worker_finish (w, cmd, NULL);
}

static void
do_conv_rewind (PlWorker  *w,
                PlCommand *cmd)
{
  _pl_worker_push_undo (w);
  memcpy (w->conv->params, w->conv_initial->params, sizeof (float) * w->conv->n_params);
  memcpy (w->conv->head->params, w->conv_initial->head->params,
          sizeof (float) * w->conv->head->n_params);
  pl_conv_net_apply_masks (w->conv);
  model_changed (w);
  _pl_worker_publish (w);
  _pl_worker_finish (w, cmd, NULL);
}

static void
do_conv_feature_image (PlWorker  *w,
                       PlCommand *cmd)
{
  w->draft->feature_index = w->eval != NULL && w->eval->n > 0 ? cmd->image % w->eval->n : 0;
  _pl_worker_touch (w, DIRTY_FEATURES);
  if (w->draft->has_preview && w->conv_shown != NULL)
    compute_maps (w, w->conv_shown, TRUE);
  w->changed |= PL_SNAPSHOT_CHANGED_FEATURES;
  _pl_worker_publish (w);
  _pl_worker_finish (w, cmd, NULL);
}

/* The network on view (the preview's when shown) without its dead filters. */
static void
do_conv_export_compact (PlWorker  *w,
                        PlCommand *cmd)
{
  g_autoptr(PlConvNet) small = NULL;
  GError *error = NULL;

  small = pl_conv_compact (w->draft->has_preview && w->conv_shown != NULL ? w->conv_shown : w->conv,
                           NULL);
  pl_conv_net_save (small, cmd->text, &error);
  _pl_worker_finish (w, cmd, error);
}

static void
not_for_conv (PlWorker  *w,
              PlCommand *cmd)
{
  _pl_worker_fail (w, cmd, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                   _("“%s” is not available for a convolutional network; it works on dense networks"),
                   pl_engine_command_title (cmd->kind));
}

gboolean
_pl_worker_conv_handle (PlWorker  *w,
                        PlCommand *cmd)
{
  if (w->conv == NULL)
    return FALSE;

  switch (cmd->kind)
    {
    case PL_ENGINE_COMMAND_SET_STRATEGY:
      do_set_conv_strategy (w, cmd);
      return TRUE;
    case PL_ENGINE_COMMAND_PREVIEW:
      do_conv_preview (w, cmd);
      return TRUE;
    case PL_ENGINE_COMMAND_CLEAR_PREVIEW:
      clear_conv_preview (w);
      _pl_worker_publish (w);
      _pl_worker_finish (w, cmd, NULL);
      return TRUE;
    case PL_ENGINE_COMMAND_APPLY_PRUNE:
      do_conv_apply_prune (w, cmd);
      return TRUE;
    case PL_ENGINE_COMMAND_UNDO:
      do_conv_undo (w, cmd);
      return TRUE;
    case PL_ENGINE_COMMAND_REWIND:
      do_conv_rewind (w, cmd);
      return TRUE;
    case PL_ENGINE_COMMAND_SET_FEATURE_IMAGE:
      do_conv_feature_image (w, cmd);
      return TRUE;
    case PL_ENGINE_COMMAND_EXPORT_COMPACT:
      if (cmd->model != NULL)
        return FALSE;   /* a dense model the caller built */
      do_conv_export_compact (w, cmd);
      return TRUE;
    case PL_ENGINE_COMMAND_SAVE_SESSION:
    case PL_ENGINE_COMMAND_PRUNE_OBS:
    case PL_ENGINE_COMMAND_MEASURE_SPARSE:
      not_for_conv (w, cmd);
      return TRUE;
    default:
      /* data, models made, opened and saved, training, sessions opened, sweeps, procedures,
       * reproduce: their own files, with a branch for a conv net where they need one */
      return FALSE;
    }
}

gboolean
_pl_worker_conv_pruner (PlWorker         *w,
                        const PlStrategy *strategy,
                        PlConvPruner     *pruner,
                        float           **scores,
                        GError          **error)
{
  PlConvPruneMode mode;
  PlConvFilterScore filter;
  PlConvChannelScore channel;
  int blas;
  gboolean ok = TRUE;

  *scores = NULL;
  if (!conv_pruner_kind (strategy, &mode, &filter, &channel, error))
    return FALSE;
  *pruner = conv_pruner (w, strategy, mode, filter, channel, NULL);
  if (mode != PL_CONV_PRUNE_WEIGHTS)
    return TRUE;
  *scores = g_new (float, MAX (pl_conv_net_n_weights (w->conv), 1));
  blas = _pl_worker_blas_begin (w);
  ok = pl_conv_weight_scores (w->conv, strategy->score, w->data->train, &strategy->score_options,
                              *scores, error);
  _pl_worker_blas_end (blas);
  if (!ok)
    {
      g_clear_pointer (scores, g_free);
      return FALSE;
    }
  pruner->scores = *scores;
  return TRUE;
}

void
_pl_worker_conv_adopt (PlWorker  *w,
                       PlConvNet *net)
{
  _pl_worker_push_undo (w);
  g_clear_pointer (&w->conv_dense, pl_conv_net_free);
  w->conv_dense = g_steal_pointer (&w->conv);
  w->conv = net;
  model_changed (w);
}
