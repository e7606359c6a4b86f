#define G_LOG_DOMAIN "pl-report"

#include "config.h"

#include "pl-report.h"
#include "pl-reproduce-view.h"

#include <cairo-pdf.h>
#include <glib/gi18n-lib.h>
#include <math.h>
#include <pango/pangocairo.h>
#include <string.h>

#include "pl-chart.h"
#include "pl-eval.h"
#include "pl-file.h"
#include "pl-metrics.h"
#include "pl-nn.h"
#include "pl-prune.h"
#include "pl-score.h"

/* A4 in points, and the margins */
#define PAGE_W   595.28
#define PAGE_H   841.89
#define MARGIN   50.0
#define FOOTER   24.0
#define TEXT_W   (PAGE_W - 2 * MARGIN)
#define BOTTOM   (PAGE_H - MARGIN - FOOTER)
/* The charts are laid out in logical pixels (1/96 inch, pl-chart-style.h); the page is in
 * points (1/72 inch). */
#define PX_PER_PT (96.0 / 72.0)

#define HIST_BINS      64
#define BOUNDARY_GRID  120
#define BOUNDARY_DOTS  600

typedef struct {
  cairo_t            *cr;
  double              y;          /* the cursor, points from the top of the page */
  guint               page;       /* pages begun */
  guint               n_figures;
  guint               on_page;    /* figures on the current page */
  PlReportInfo       *info;       /* borrowed, may be NULL */
  PlChartStyle        style;
  GPtrArray          *keep;       /* owned: what the charts borrow, freed at the end */
} Doc;

static gpointer
keep (Doc      *doc,
      gpointer  p)
{
  g_ptr_array_add (doc->keep, p);
  return p;
}

/* ---- pages and text ---------------------------------------------------------------------- */

static PangoLayout *
make_layout (Doc        *doc,
             const char *markup,
             double      size,
             double      width)
{
  PangoLayout *layout = pango_cairo_create_layout (doc->cr);
  g_autoptr(PangoFontDescription) font = pango_font_description_from_string ("Sans");

  /* sizes in points on the PDF page */
  pango_cairo_context_set_resolution (pango_layout_get_context (layout), 72);
  pango_layout_context_changed (layout);
  pango_font_description_set_size (font, (int) (size * PANGO_SCALE));
  pango_layout_set_font_description (layout, font);
  pango_layout_set_width (layout, (int) (width * PANGO_SCALE));
  pango_layout_set_wrap (layout, PANGO_WRAP_WORD_CHAR);
  pango_layout_set_markup (layout, markup, -1);
  return layout;
}

static void
footer (Doc *doc)
{
  g_autofree char *text = g_markup_printf_escaped (_("PruneLab report · page %u"), doc->page);
  g_autoptr(PangoLayout) layout = make_layout (doc, text, 8, TEXT_W);

  pango_layout_set_alignment (layout, PANGO_ALIGN_RIGHT);
  cairo_set_source_rgb (doc->cr, 0.4, 0.4, 0.4);
  cairo_move_to (doc->cr, MARGIN, PAGE_H - MARGIN);
  pango_cairo_show_layout (doc->cr, layout);
}

static void
new_page (Doc *doc)
{
  if (doc->page > 0)
    {
      footer (doc);
      cairo_show_page (doc->cr);
    }
  doc->page++;
  doc->y = MARGIN;
  doc->on_page = 0;
}

/* Room for @height more points on this page, else a new one. */
static void
need (Doc    *doc,
      double  height)
{
  if (doc->page == 0 || doc->y + height > BOTTOM)
    new_page (doc);
}

static void
text (Doc        *doc,
      const char *markup,
      double      size,
      double      gap)
{
  g_autoptr(PangoLayout) layout = make_layout (doc, markup, size, TEXT_W);
  int w, h;

  pango_layout_get_size (layout, &w, &h);
  need (doc, h / (double) PANGO_SCALE);
  cairo_set_source_rgb (doc->cr, 0.1, 0.1, 0.1);
  cairo_move_to (doc->cr, MARGIN, doc->y);
  pango_cairo_show_layout (doc->cr, layout);
  doc->y += h / (double) PANGO_SCALE + gap;
}

static void
heading (Doc        *doc,
         const char *title)
{
  g_autofree char *markup = g_markup_printf_escaped ("<b>%s</b>", title);

  /* a heading is not left alone at the bottom of a page */
  need (doc, 60);
  doc->y += 6;
  text (doc, markup, 13, 4);
}

/* A row of a two-column table: the name muted on the left, the value (plain text) wrapped on
 * the right. */
static void
row (Doc        *doc,
     const char *name,
     const char *value)
{
  g_autofree char *name_markup = g_markup_escape_text (name, -1);
  g_autofree char *value_markup = g_markup_escape_text (value != NULL ? value : "—", -1);
  g_autoptr(PangoLayout) left = make_layout (doc, name_markup, 9.5, 150);
  g_autoptr(PangoLayout) right = make_layout (doc, value_markup, 9.5, TEXT_W - 160);
  int wl, hl, wr, hr;
  double h;

  pango_layout_get_size (left, &wl, &hl);
  pango_layout_get_size (right, &wr, &hr);
  h = MAX (hl, hr) / (double) PANGO_SCALE;
  need (doc, h);
  cairo_set_source_rgb (doc->cr, 0.35, 0.35, 0.35);
  cairo_move_to (doc->cr, MARGIN, doc->y);
  pango_cairo_show_layout (doc->cr, left);
  cairo_set_source_rgb (doc->cr, 0.1, 0.1, 0.1);
  cairo_move_to (doc->cr, MARGIN + 160, doc->y);
  pango_cairo_show_layout (doc->cr, right);
  doc->y += h + 3;
}

static void
rowf (Doc        *doc,
      const char *name,
      const char *format,
      ...) G_GNUC_PRINTF (3, 4);

static void
rowf (Doc        *doc,
      const char *name,
      const char *format,
      ...)
{
  g_autofree char *value = NULL;
  va_list args;

  va_start (args, format);
  value = g_strdup_vprintf (format, args);
  va_end (args);
  row (doc, name, value);
}

static const char *
yes_no (gboolean v)
{
  return v ? _("yes") : _("no");
}

/* ---- the settings pages ------------------------------------------------------------------ */

static void
title_page (Doc             *doc,
            const PlSession *s,
            const PlData    *data,
            const char      *source)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  g_autofree char *date = g_date_time_format (now, "%Y-%m-%d %H:%M");
  g_autofree char *arch = pl_mlp_arch (s->model);
  g_autofree char *title = g_markup_printf_escaped ("<b>%s</b>", _("PruneLab report"));
  g_autofree char *sub = g_markup_printf_escaped ("%s", source);
  const PlTrainConfig *t = &s->train;
  const PlScoreInfo *info = pl_score_info (s->strategy.score);

  new_page (doc);
  text (doc, title, 22, 4);
  text (doc, sub, 11, 10);
  row (doc, _("Date"), date);
  row (doc, _("Software"), "PruneLab " PACKAGE_VERSION);
  row (doc, _("Session saved"), s->created);
  row (doc, _("Saved by"), s->software);

  heading (doc, _("Dataset"));
  row (doc, _("Specification"), s->data_spec);
  if (data != NULL)
    {
      row (doc, _("Name"), data->name);
      rowf (doc, _("Features, classes"), "%u, %u", data->n_features, data->n_classes);
    }
  rowf (doc, _("Samples"), _("%u training, %u validation, %u test"), s->n_train, s->n_val,
        s->n_test);
  row (doc, _("Content hash (SHA-256)"), s->data_sha256);
  rowf (doc, _("Split"), _("validation size %d (−1: default), split seed %llu, standardised: %s"),
        s->data_options.val_size, (unsigned long long) s->data_options.split_seed,
        yes_no (s->data_options.standardize));

  heading (doc, _("Architecture"));
  row (doc, _("Layers"), arch);
  row (doc, _("Hidden activation"), pl_activation_to_string (s->model->activation));
  rowf (doc, _("Parameters"), _("%lu (%lu weights)"), (unsigned long) s->model->n_params,
        (unsigned long) pl_mlp_n_weights (s->model));
  if (s->model_seed != 0)
    rowf (doc, _("Initialisation seed"), "%" G_GUINT64_FORMAT, s->model_seed);
  else
    row (doc, _("Initialisation seed"), _("loaded from a file"));

  heading (doc, _("Training settings"));
  if (t->optimizer == PL_OPTIMIZER_ADAM)
    rowf (doc, _("Optimiser"), "Adam (β₁ %g, β₂ %g, ε %g)", t->beta1, t->beta2, t->eps);
  else
    rowf (doc, _("Optimiser"), _("SGD (momentum %g%s)"), t->momentum,
          t->nesterov ? ", Nesterov" : "");
  rowf (doc, _("Learning rate"), _("%g, schedule %s"), t->lr, pl_lr_schedule_to_string (t->schedule));
  rowf (doc, _("Epochs per run, batch"), "%u, %u", t->epochs, t->batch_size);
  rowf (doc, _("Weight decay (L2), L1"), "%g, %g", t->weight_decay, t->l1);
  rowf (doc, _("Gradient clipping"), _("by value %g, by norm %g (0: off)"), t->clip_value,
        t->clip_norm);
  rowf (doc, _("Sample order seed"), "%" G_GUINT64_FORMAT, t->seed);

  heading (doc, _("Training history"));
  if (s->history->len == 0)
    row (doc, _("Epochs"), _("none recorded (the model was loaded trained)"));
  else
    {
      const PlEpochRecord *last = &g_array_index (s->history, PlEpochRecord, s->history->len - 1);
      double seconds = 0;

      for (guint e = 0; e < s->history->len; e++)
        seconds += g_array_index (s->history, PlEpochRecord, e).seconds;
      rowf (doc, _("Epochs"), _("%u, %.2f s of training, %u steps"), s->history->len, seconds,
            s->grad_norms->len);
      rowf (doc, _("Last epoch"), _("training loss %.4f, accuracy %.2f %%"), last->train_loss,
            100 * last->train_accuracy);
      if (!isnan (last->val_accuracy))
        rowf (doc, _("Validation"), _("loss %.4f, accuracy %.2f %%"), last->val_loss,
              100 * last->val_accuracy);
    }

  heading (doc, _("Pruning strategy"));
  row (doc, _("Score"), _(info->title));
  row (doc, _("Formula"), info->formula);
  row (doc, _("Source"), _(info->source));
  rowf (doc, _("Scope"), "%s", _(pl_scope_title (s->strategy.scope)));
  if (s->strategy.nm_m > 0)
    rowf (doc, _("N:M"), _("keep %u of every %u consecutive inputs"), s->strategy.nm_n,
          s->strategy.nm_m);
  rowf (doc, _("Invert, exclude output, allow empty layers"), "%s, %s, %s",
        yes_no (s->strategy.invert), yes_no (s->strategy.exclude_output),
        yes_no (s->strategy.allow_empty));
  if (info->needs_data)
    rowf (doc, _("Batches for the score"), _("%u of %u samples, seed %llu"),
          s->strategy.score_options.n_batches, s->strategy.score_options.batch_size,
          (unsigned long long) s->strategy.score_options.seed);
  if (s->slider_by_threshold)
    rowf (doc, _("Slider"), _("score threshold %g"), s->slider);
  else
    rowf (doc, _("Slider"), _("target sparsity %.1f %%"), 100 * s->slider);
  if (s->lesson_id != NULL)
    rowf (doc, _("Lesson"), _("%s, step %u"), s->lesson_id, s->lesson_step + 1);
}

static char *
format_count (double v)
{
  if (v >= 1e9)
    return g_strdup_printf ("%.2f G", v / 1e9);
  if (v >= 1e6)
    return g_strdup_printf ("%.2f M", v / 1e6);
  if (v >= 1e4)
    return g_strdup_printf ("%.1f k", v / 1e3);
  return g_strdup_printf ("%.0f", v);
}

/* One line of a table at the cursor, its columns @widths points wide; @bold for the header
 * and the total. */
static void
table_line_in (Doc           *doc,
               const double  *widths,
               const char   **cells,
               guint          n,
               gboolean       bold)
{
  double x = MARGIN, h = 0;

  for (guint c = 0; c < n; c++)
    {
      g_autofree char *markup = bold ? g_markup_printf_escaped ("<b>%s</b>", cells[c])
                                     : g_markup_escape_text (cells[c], -1);
      g_autoptr(PangoLayout) layout = make_layout (doc, markup, 8, widths[c] - 3);
      int w, lh;

      pango_layout_get_size (layout, &w, &lh);
      h = MAX (h, lh / (double) PANGO_SCALE);
    }
  need (doc, h + 4);
  for (guint c = 0; c < n; c++)
    {
      g_autofree char *markup = bold ? g_markup_printf_escaped ("<b>%s</b>", cells[c])
                                     : g_markup_escape_text (cells[c], -1);
      g_autoptr(PangoLayout) layout = make_layout (doc, markup, 8, widths[c] - 3);

      cairo_set_source_rgb (doc->cr, 0.1, 0.1, 0.1);
      cairo_move_to (doc->cr, x, doc->y);
      pango_cairo_show_layout (doc->cr, layout);
      x += widths[c];
    }
  doc->y += h + 2;
  cairo_set_source_rgb (doc->cr, 0.75, 0.75, 0.75);
  cairo_set_line_width (doc->cr, bold ? 0.8 : 0.4);
  cairo_move_to (doc->cr, MARGIN, doc->y);
  cairo_line_to (doc->cr, PAGE_W - MARGIN, doc->y);
  cairo_stroke (doc->cr);
  doc->y += 3;
}

/* A line of the metrics table. */
static void
table_line (Doc         *doc,
            const char **cells,
            guint        n,
            gboolean     bold)
{
  static const double widths[] = { 54, 68, 58, 54, 52, 56, 46, 58, 49 };

  g_assert (n <= G_N_ELEMENTS (widths));
  table_line_in (doc, widths, cells, n, bold);
}

static void
metrics_page (Doc             *doc,
              const PlSession *s,
              const PlMetrics *m,
              PlEvaluation    *ev)
{
  const char *header[] = { _("Layer"), _("Shape"), _("Weights"), _("Pruned"), _("Sparsity"),
                           _("Structural"), _("Hoyer"), _("FLOPs kept"), _("CSR bytes") };

  new_page (doc);
  heading (doc, _("Metrics per layer"));
  /* No relative sparsity (the |w| mass removed): it is measured on the weights before pruning,
   * which a session does not keep (its initial weights are those rewind goes back to). */
  text (doc, _("Sparsity: pruned weights / weights. Structural: dead hidden neurons / hidden "
               "neurons. Hoyer: (√n − ‖w‖₁/‖w‖₂)/(√n − 1) over the whole tensor, pruned entries "
               "as zeros (Hoyer 2004). FLOPs kept: multiply-adds of the kept weights between "
               "live neurons, per sample. CSR bytes: the kept weights stored as compressed "
               "sparse rows."), 8.5, 8);
  table_line (doc, header, G_N_ELEMENTS (header), TRUE);
  for (guint i = 0; i <= m->n_layers; i++)
    {
      const PlLayerMetrics *lm = i < m->n_layers ? &m->layers[i] : &m->total;
      g_autofree char *name = i < m->n_layers ? g_strdup_printf ("layers.%u", i)
                                              : g_strdup (_("total"));
      g_autofree char *shape = i < m->n_layers ? g_strdup_printf ("%u × %u", lm->n_out, lm->n_in)
                                               : g_strdup ("");
      g_autofree char *weights = format_count (lm->weights);
      g_autofree char *pruned = format_count (lm->pruned);
      g_autofree char *sparsity = g_strdup_printf ("%.1f %%", 100 * lm->parameter_sparsity);
      g_autofree char *structural = g_strdup_printf ("%.1f %%", 100 * lm->structural_sparsity);
      g_autofree char *hoyer = g_strdup_printf ("%.3f", lm->hoyer);
      g_autofree char *flops = format_count (lm->flops_effective);
      g_autofree char *csr = format_count (lm->bytes_csr);
      const char *cells[] = { name, shape, weights, pruned, sparsity, structural, hoyer, flops,
                              csr };

      table_line (doc, cells, G_N_ELEMENTS (cells), i == m->n_layers);
    }

  if (ev != NULL)
    {
      g_autofree char *line = g_markup_printf_escaped (_("Test accuracy %.2f %%, loss %.4f on %u "
                                                         "test samples, with the masks of the "
                                                         "session."),
                                                       100 * ev->accuracy, ev->loss, ev->n);

      doc->y += 8;
      text (doc, line, 10, 4);
    }
}

/* The paper-vs-measured table of a reproduction run in the session (pl-reproduce-view.h, as
 * prunelab-cli reproduce prints it and the app's dialog shows it). */
static void
reproduction_page (Doc                     *doc,
                   const PlReproduceResult *r)
{
  static const double widths[] = { 205, 58, 62, 108, 62 };
  const PlPaperInfo *info = pl_paper_info (r->paper);
  const char *header[] = { _("Number"), _("Paper"), _("Measured"), _("Min … max over seeds"),
                           _("Source") };
  g_autofree char *title = g_strdup_printf (_("Paper reproduction: %s — %s"), info->name, _(info->title));
  g_autofree char *settings = pl_reproduce_settings_text (r);
  g_autofree char *about = g_markup_printf_escaped (r->quick ? _("%s\nNetwork %s; quick run (fewer epochs, rounds and seeds than the full run): %s; %.1f s.")
                                                             : _("%s\nNetwork %s; settings: %s; %.1f s."),
                                                    info->citation, r->arch, settings, r->seconds);

  new_page (doc);
  heading (doc, title);
  text (doc, about, 8.5, 8);
  table_line_in (doc, widths, header, G_N_ELEMENTS (header), TRUE);
  for (guint k = 0; k < r->rows->len; k++)
    {
      const PlReproduceRow *row = &g_array_index (r->rows, PlReproduceRow, k);
      g_auto(PlReproduceCells) cells = { 0 };
      const char *line[5];

      pl_reproduce_cells_init (&cells, row);
      line[0] = row->label;
      line[1] = cells.paper;
      line[2] = cells.mean;
      line[3] = cells.span;
      line[4] = cells.source;
      table_line_in (doc, widths, line, G_N_ELEMENTS (line), FALSE);
    }
  doc->y += 6;
  text (doc, _("Measured: the mean over the seeds that measured the number; the paper's values "
               "as it prints them, with its table or figure (— where it gives none)."), 8.5, 4);
}

/* ---- figures ----------------------------------------------------------------------------- */

static void
figure (Doc           *doc,
        const PlChart *chart,
        const char    *caption)
{
  double avail = (PAGE_H - 2 * MARGIN - FOOTER) / 2;
  double chart_h = avail - 62;
  g_autofree char *label = g_strdup_printf (_("Figure %u."), doc->n_figures + 1);
  g_autofree char *markup = g_markup_printf_escaped ("<b>%s</b> %s", label, caption);

  if (doc->on_page >= 2)
    new_page (doc);
  doc->y = MARGIN + avail * doc->on_page;

  cairo_save (doc->cr);
  cairo_translate (doc->cr, MARGIN, doc->y);
  cairo_scale (doc->cr, 1 / PX_PER_PT, 1 / PX_PER_PT);
  cairo_rectangle (doc->cr, 0, 0, TEXT_W * PX_PER_PT, chart_h * PX_PER_PT);
  cairo_clip (doc->cr);
  pl_chart_draw (doc->cr, TEXT_W * PX_PER_PT, chart_h * PX_PER_PT, chart, &doc->style);
  cairo_restore (doc->cr);
  doc->y += chart_h + 6;
  {
    g_autoptr(PangoLayout) layout = make_layout (doc, markup, 9, TEXT_W);

    cairo_set_source_rgb (doc->cr, 0.1, 0.1, 0.1);
    cairo_move_to (doc->cr, MARGIN, doc->y);
    pango_cairo_show_layout (doc->cr, layout);
  }
  doc->y = MARGIN + avail * (doc->on_page + 1);
  doc->on_page++;

  if (doc->info != NULL && doc->n_figures < PL_REPORT_MAX_FIGURES)
    doc->info->captions[doc->n_figures] = g_strdup_printf ("%s %s", label, caption);
  doc->n_figures++;
}

static void
figure_training (Doc             *doc,
                 const PlSession *s)
{
  guint n = s->history->len;
  double *block = keep (doc, g_new (double, 5 * (gsize) MAX (n, 1)));
  PlTrainingData *d = keep (doc, g_new0 (PlTrainingData, 1));
  PlChart chart = { PL_CHART_TRAINING, d };

  for (guint e = 0; e < n; e++)
    {
      const PlEpochRecord *r = &g_array_index (s->history, PlEpochRecord, e);

      block[e] = r->epoch;
      block[n + e] = r->train_loss;
      block[2 * n + e] = r->val_loss;
      block[3 * n + e] = r->train_accuracy;
      block[4 * n + e] = r->val_accuracy;
    }
  *d = (PlTrainingData) { _("Training"), n, block, block + n, block + 2 * n, block + 3 * n,
                          block + 4 * n };
  figure (doc, &chart, _("Training: loss and accuracy on the training batches and on the "
                         "validation split after each epoch, over every run of the model "
                         "(training and fine-tuning)."));
}

static void
figure_grad_norm (Doc             *doc,
                  const PlSession *s)
{
  PlGradNormData *d = keep (doc, g_new0 (PlGradNormData, 1));
  PlChart chart = { PL_CHART_GRAD_NORM, d };
  guint epochs = s->history->len;
  guint steps = s->grad_norms->len;

  *d = (PlGradNormData) {
    _("Gradient norm during training"), steps, (const float *) s->grad_norms->data,
    s->train.clip_norm, s->train.clip_value,
    epochs > 0 && steps % epochs == 0 ? steps / epochs : 0, TRUE,
  };
  figure (doc, &chart, _("Global L2 norm of the gradient at every training step, before "
                         "clipping (log scale); a clipping level, when set, is drawn as a "
                         "line. Clipping stabilises training; it does not prune."));
}

static void
figure_curves (Doc             *doc,
               const PlSession *s,
               double           dense)
{
  PlCurve *curves = keep (doc, g_new0 (PlCurve, s->curves->len));
  PlCurveSet *d = keep (doc, g_new0 (PlCurveSet, 1));
  PlChart chart = { PL_CHART_CURVES, d };
  g_autoptr(GString) names = g_string_new (NULL);

  for (guint i = 0; i < s->curves->len; i++)
    {
      const PlSessionCurve *c = &g_array_index (s->curves, PlSessionCurve, i);
      double *xy = keep (doc, g_new (double, 2 * (gsize) MAX (c->points->len, 1)));

      for (guint k = 0; k < c->points->len; k++)
        {
          const PlSweepPoint *p = &g_array_index (c->points, PlSweepPoint, k);

          xy[k] = p->sparsity;
          xy[c->points->len + k] = p->accuracy;
        }
      curves[i] = (PlCurve) { pl_score_info (c->score)->name, c->points->len, xy,
                              xy + c->points->len, NULL, NULL };
      g_string_append_printf (names, "%s%s", i > 0 ? ", " : "", _(pl_score_info (c->score)->title));
    }
  *d = (PlCurveSet) {
    .title = _("Accuracy after pruning"), .y_label = _("validation accuracy"),
    .n_curves = s->curves->len, .curves = curves, .reference = dense,
    .y_format = PL_CHART_NUMBER_PERCENT, .log_remaining = TRUE,
  };
  figure (doc, &chart, keep (doc, g_strdup_printf (_("Sparsity versus validation accuracy, each "
                                                     "score pruning the same model to a range of "
                                                     "sparsities without fine-tuning: %s. The "
                                                     "dashed line is the dense model."),
                                                   names->str)));
}

static void
figure_weights (Doc             *doc,
                const PlSession *s,
                const PlData    *data)
{
  const PlMlp *m = s->model;

  if (data != NULL && data->image_width > 0 && (guint64) data->image_width * data->image_height == m->sizes[0])
    {
      PlFieldsData *d = keep (doc, g_new0 (PlFieldsData, 1));
      PlChart chart = { PL_CHART_FIELDS, d };
      const PlLayer *l = &m->layers[0];

      d->title = _("Receptive fields of the first layer");
      d->n_neurons = l->n_out;
      d->n_inputs = l->n_in;
      d->image_width = data->image_width;
      d->image_height = data->image_height;
      d->weights = l->w;
      d->mask = l->w_mask;
      d->neuron_mask = m->n_layers > 1 ? l->neuron_mask : NULL;
      figure (doc, &chart, _("The weights of each first-layer neuron drawn as an image over "
                             "the input pixels; pruned weights in grey, dead neurons crossed."));
    }

  for (guint i = 0; i < m->n_layers; i++)
    {
      const PlLayer *l = &m->layers[i];
      PlHeatmapData *d = keep (doc, g_new0 (PlHeatmapData, 1));
      PlChart chart = { PL_CHART_HEATMAP, d };

      d->title = keep (doc, g_strdup_printf (_("Weights of layers.%u (%u → %u)"), i, l->n_in,
                                             l->n_out));
      d->n_rows = l->n_out;
      d->n_cols = l->n_in;
      d->values = l->w;
      d->mask = l->w_mask;
      d->aggregate = PL_HEATMAP_MAX_ABS;
      figure (doc, &chart, keep (doc, g_strdup_printf (_("The weights of layer %u, one cell per "
                                                         "weight (output neuron × input), "
                                                         "pruned weights in grey; large layers "
                                                         "show the largest |w| of each block "
                                                         "of cells."), i)));
    }
}

static int
compare_floats (gconstpointer a,
                gconstpointer b)
{
  float x = *(const float *) a, y = *(const float *) b;

  return x < y ? -1 : x > y;
}

/* The strategy's scores of the weights (or neurons) still kept, and the threshold the slider
 * stands at: the value below which the slider's share of them would go (global scope). */
static void
figure_histogram (Doc             *doc,
                  const PlSession *s,
                  const PlData    *data)
{
  const PlScoreInfo *info = pl_score_info (s->strategy.score);
  g_autoptr(GError) error = NULL;
  g_autoptr(PlScores) scores = NULL;
  g_autoptr(GArray) kept = g_array_new (FALSE, FALSE, sizeof (float));
  PlHistogramData *d;
  PlChart chart = { PL_CHART_HISTOGRAM, NULL };
  double *counts, *threshold, *share;
  float lo, hi;

  if (info->needs_data && data == NULL)
    return;
  scores = pl_scores_compute (s->model, s->strategy.score, data != NULL ? data->train : NULL,
                              &s->strategy.score_options, &error);
  if (scores == NULL)
    {
      g_debug ("no histogram: %s", error->message);
      return;
    }
  for (guint i = 0; i < scores->n_layers; i++)
    for (gsize k = 0; k < scores->n[i]; k++)
      {
        const PlLayer *l = &s->model->layers[i];
        gboolean alive = scores->per_neuron ? l->neuron_mask[k] != 0.0f : l->w_mask[k] != 0.0f;

        if (alive && isfinite (scores->layer[i][k]))
          g_array_append_val (kept, scores->layer[i][k]);
      }
  if (kept->len == 0)
    return;
  g_array_sort (kept, compare_floats);
  lo = g_array_index (kept, float, 0);
  hi = g_array_index (kept, float, kept->len - 1);
  if (!(hi > lo))
    hi = lo + 1;

  counts = keep (doc, g_new0 (double, HIST_BINS));
  for (guint k = 0; k < kept->len; k++)
    {
      int b = (int) ((g_array_index (kept, float, k) - lo) / (hi - lo) * HIST_BINS);

      counts[CLAMP (b, 0, HIST_BINS - 1)] += 1;
    }
  threshold = keep (doc, g_new (double, 1));
  share = keep (doc, g_new (double, 1));
  if (s->slider_by_threshold)
    *threshold = s->slider;
  else
    {
      /* The slider is the total sparsity: of all candidates, the pruned ones count already. */
      gsize all = 0;
      gint64 more;

      for (guint i = 0; i < scores->n_layers; i++)
        all += scores->n[i];
      more = (gint64) floor (s->slider * all) - (gint64) (all - kept->len);
      *threshold = more <= 0 ? lo : g_array_index (kept, float, MIN ((gsize) more, kept->len) - 1);
    }
  *share = s->slider_by_threshold ? NAN : s->slider;

  d = keep (doc, g_new0 (PlHistogramData, 1));
  *d = (PlHistogramData) {
    .title = keep (doc, g_strdup_printf (_("Scores: %s"), _(info->title))),
    .n_bins = HIST_BINS, .lo = lo, .hi = hi, .counts = counts, .log_count = TRUE,
    .n_thresholds = s->strategy.scope == PL_SCOPE_GLOBAL || s->slider_by_threshold ? 1 : 0,
    .thresholds = threshold, .shares = s->slider_by_threshold ? NULL : share,
  };
  chart.data = d;
  figure (doc, &chart, keep (doc, g_strdup_printf (scores->per_neuron
                                                   ? _("Histogram of the score %s of the neurons "
                                                       "still alive (log count); the line is the "
                                                       "threshold at the slider's position.")
                                                   : _("Histogram of the score %s of the weights "
                                                       "still kept (log count); the line is the "
                                                       "threshold at the slider's position."),
                                                   info->formula)));
}

static void
figure_sparsity (Doc             *doc,
                 const PlSession *s,
                 const PlMetrics *m)
{
  guint n = m->n_layers;
  const char **groups = keep (doc, g_new0 (const char *, n));
  double *values = keep (doc, g_new (double, 2 * (gsize) n));
  static const char *series[2];
  PlBarsData *d = keep (doc, g_new0 (PlBarsData, 1));
  PlChart chart = { PL_CHART_BARS, d };

  series[0] = _("parameter");
  series[1] = _("structural");
  for (guint i = 0; i < n; i++)
    {
      groups[i] = keep (doc, g_strdup_printf ("layers.%u", i));
      values[2 * i] = m->layers[i].parameter_sparsity;
      values[2 * i + 1] = i + 1 < n ? m->layers[i].structural_sparsity : NAN;
    }
  *d = (PlBarsData) { _("Sparsity per layer"), NULL, NULL, n, groups, 2, series, values,
                      PL_CHART_NUMBER_PERCENT };
  figure (doc, &chart, _("Parameter sparsity (pruned / weights) and structural sparsity (dead "
                         "neurons / neurons; hidden layers only) of each layer."));
}

static void
figure_network (Doc             *doc,
                const PlSession *s)
{
  const PlMlp *m = s->model;
  PlNetworkLayer *layers = keep (doc, g_new0 (PlNetworkLayer, m->n_layers));
  PlNetworkData *d = keep (doc, g_new0 (PlNetworkData, 1));
  PlChart chart = { PL_CHART_NETWORK, d };

  for (guint i = 0; i < m->n_layers; i++)
    layers[i] = (PlNetworkLayer) { m->layers[i].w, m->layers[i].w_mask, m->layers[i].neuron_mask };
  *d = (PlNetworkData) { _("Network"), m->n_layers, m->sizes, layers, 0 };
  figure (doc, &chart, _("The network: neurons as circles, kept weights as lines (colour and "
                         "width by sign and size), dead neurons and pruned weights faded; large "
                         "layers show a sample of their neurons."));
}

static void
figure_confusion (Doc             *doc,
                  const PlData    *data,
                  PlEvaluation    *ev)
{
  PlConfusionData *d = keep (doc, g_new0 (PlConfusionData, 1));
  PlChart chart = { PL_CHART_CONFUSION, d };

  *d = (PlConfusionData) { _("Confusion matrix (test split)"), ev->n_classes, ev->confusion,
                           ev->n_classes == data->n_classes
                           ? (const char * const *) data->class_names : NULL };
  figure (doc, &chart, _("Test samples by true class (rows) and predicted class (columns), "
                         "with the masks of the session."));
}

static void
figure_boundary (Doc             *doc,
                 const PlSession *s,
                 const PlData    *data)
{
  const PlMlp *m = s->model;
  const PlDataset *test = data->test;
  g_autoptr(PlNnWork) work = NULL;
  PlBoundaryData *d;
  PlChart chart = { PL_CHART_BOUNDARY, NULL };
  guint g = BOUNDARY_GRID, n_out = m->sizes[m->n_layers];
  guint32 *cls;
  float *conf, *grid_row;
  double x0 = G_MAXDOUBLE, x1 = -G_MAXDOUBLE, y0 = G_MAXDOUBLE, y1 = -G_MAXDOUBLE;
  guint n_points;

  if (test == NULL || test->n == 0)
    return;
  for (guint i = 0; i < test->n; i++)
    {
      x0 = MIN (x0, test->x[2 * i]);
      x1 = MAX (x1, test->x[2 * i]);
      y0 = MIN (y0, test->x[2 * i + 1]);
      y1 = MAX (y1, test->x[2 * i + 1]);
    }
  if (!(x1 > x0) || !(y1 > y0))
    return;
  {
    double padx = 0.08 * (x1 - x0), pady = 0.08 * (y1 - y0);

    x0 -= padx;
    x1 += padx;
    y0 -= pady;
    y1 += pady;
  }

  /* the model's prediction at every cell centre, a grid row per forward pass */
  cls = keep (doc, g_new (guint32, (gsize) g * g));
  conf = keep (doc, g_new (float, (gsize) g * g));
  grid_row = keep (doc, g_new (float, 2 * (gsize) g));
  work = pl_nn_work_new (m, g);
  for (guint i = 0; i < g; i++)
    {
      const float *prob;

      for (guint j = 0; j < g; j++)
        {
          grid_row[2 * j] = (float) (x0 + (j + 0.5) * (x1 - x0) / g);
          grid_row[2 * j + 1] = (float) (y0 + (i + 0.5) * (y1 - y0) / g);
        }
      prob = pl_nn_forward (m, work, grid_row, g);
      for (guint j = 0; j < g; j++)
        {
          const float *p = prob + (gsize) j * n_out;
          guint best = 0;

          for (guint c = 1; c < n_out; c++)
            if (p[c] > p[best])
              best = c;
          cls[(gsize) i * g + j] = best;
          conf[(gsize) i * g + j] = p[best];
        }
    }

  n_points = MIN (test->n, BOUNDARY_DOTS);
  d = keep (doc, g_new0 (PlBoundaryData, 1));
  *d = (PlBoundaryData) {
    .title = _("Decision boundary (test points)"), .n_classes = n_out,
    .grid_width = g, .grid_height = g, .grid_class = cls, .grid_confidence = conf,
    .x_min = x0, .x_max = x1, .y_min = y0, .y_max = y1,
    .n_points = n_points, .points = test->x, .labels = test->y,
    .class_names = n_out == data->n_classes ? (const char * const *) data->class_names : NULL,
  };
  chart.data = d;
  figure (doc, &chart, _("The class the pruned model predicts over the plane (paler where it "
                         "is less sure), with test points coloured by their true class."));
}

/* ---- the document ------------------------------------------------------------------------ */

static cairo_status_t
append_cb (void                *closure,
           const unsigned char *data,
           unsigned int         length)
{
  g_byte_array_append (closure, data, length);
  return CAIRO_STATUS_SUCCESS;
}

void
pl_report_info_clear (PlReportInfo *info)
{
  for (guint i = 0; i < PL_REPORT_MAX_FIGURES; i++)
    g_clear_pointer (&info->captions[i], g_free);
  info->n_pages = info->n_figures = 0;
}

GBytes *
pl_report_render (const PlSession         *session,
                  const PlData            *data,
                  const PlReproduceResult *reproduction,
                  const char              *source,
                  PlReportInfo    *info,
                  GError         **error)
{
  g_autoptr(GByteArray) bytes = g_byte_array_new ();
  g_autoptr(PlEvaluation) ev = NULL;
  cairo_surface_t *surface;
  cairo_status_t status;
  PlMetrics metrics;
  Doc doc = { 0 };

  g_return_val_if_fail (session != NULL && session->model != NULL, NULL);
  g_return_val_if_fail (source != NULL, NULL);

  if (info != NULL)
    memset (info, 0, sizeof *info);
  if (data != NULL)
    {
      ev = pl_evaluate (session->model, data->test, error);
      if (ev == NULL)
        return NULL;
    }
  pl_metrics_compute (&metrics, session->model, NULL, NULL, NULL);

  surface = cairo_pdf_surface_create_for_stream (append_cb, bytes, PAGE_W, PAGE_H);
  cairo_pdf_surface_set_metadata (surface, CAIRO_PDF_METADATA_TITLE, _("PruneLab report"));
  cairo_pdf_surface_set_metadata (surface, CAIRO_PDF_METADATA_CREATOR, "PruneLab " PACKAGE_VERSION);
  doc.cr = cairo_create (surface);
  doc.info = info;
  doc.keep = g_ptr_array_new_with_free_func (g_free);
  pl_chart_style_init (&doc.style, PL_CHART_THEME_LIGHT);

  title_page (&doc, session, data, source);
  metrics_page (&doc, session, &metrics, ev);
  if (reproduction != NULL)
    reproduction_page (&doc, reproduction);

  /* the figures */
  doc.on_page = 2;   /* start them on a page of their own */
  if (session->history->len > 0)
    figure_training (&doc, session);
  if (session->grad_norms->len > 0)
    figure_grad_norm (&doc, session);
  if (session->curves->len > 0)
    {
      double dense = NAN;

      for (guint i = 0; i < session->curves->len && isnan (dense); i++)
        {
          const PlSessionCurve *c = &g_array_index (session->curves, PlSessionCurve, i);

          if (c->points->len > 0 && g_array_index (c->points, PlSweepPoint, 0).target == 0)
            dense = g_array_index (c->points, PlSweepPoint, 0).accuracy;
        }
      figure_curves (&doc, session, dense);
    }
  figure_weights (&doc, session, data);
  figure_histogram (&doc, session, data);
  figure_sparsity (&doc, session, &metrics);
  figure_network (&doc, session);
  if (ev != NULL)
    figure_confusion (&doc, data, ev);
  if (data != NULL && data->n_features == 2 && session->model->sizes[0] == 2)
    figure_boundary (&doc, session, data);
  if (reproduction != NULL)
    {
      g_autoptr(PlReproduceChart) view = pl_reproduce_chart_new (reproduction);
      g_autofree char *caption = g_strdup_printf (_("Paper reproduction (%s): test accuracy against the share of weights pruned, the mean over the seeds with the min … max band."),
                                                  pl_paper_info (reproduction->paper)->name);

      figure (&doc, &view->chart, caption);
    }

  footer (&doc);
  cairo_show_page (doc.cr);
  cairo_destroy (doc.cr);
  cairo_surface_finish (surface);
  status = cairo_surface_status (surface);
  cairo_surface_destroy (surface);
  g_ptr_array_unref (doc.keep);

  if (status != CAIRO_STATUS_SUCCESS)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, _("Could not draw the report: %s"),
                   cairo_status_to_string (status));
      return NULL;
    }
  if (info != NULL)
    {
      info->n_pages = doc.page;
      info->n_figures = MIN (doc.n_figures, PL_REPORT_MAX_FIGURES);
    }
  return g_byte_array_free_to_bytes (g_steal_pointer (&bytes));
}

gboolean
pl_report_save (const PlSession         *session,
                const PlData            *data,
                const PlReproduceResult *reproduction,
                const char              *source,
                const char      *path,
                PlReportInfo    *info,
                GError         **error)
{
  g_autoptr(GBytes) bytes = NULL;

  g_return_val_if_fail (path != NULL, FALSE);

  bytes = pl_report_render (session, data, reproduction, source, info, error);
  if (bytes == NULL)
    return FALSE;
  return pl_file_save (path, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), error);
}
