/* pl-window-a11y.c — the window for a screen reader and the keyboard: each chart says what it
 * shows in words, updated with every snapshot, and the histogram's threshold moves with the
 * keys as the slider does
 *
 * The words are the numbers the read-outs show, in sentences (e.g. "Validation accuracy 95.2 %
 * at 80.0 % sparsity; Magnitude |w| stays within 1 point of the unpruned 97.0 % up to 88 %
 * sparsity"), so a student who cannot see the chart hears what the class is told to notice.
 */
#define G_LOG_DOMAIN "pl-window"

#include "config.h"

#include <glib/gi18n.h>
#include <math.h>

#include "pl-window-private.h"

static void
describe (PlChartView *view,
          const char  *label,
          const char  *description)
{
  gtk_accessible_update_property (GTK_ACCESSIBLE (view),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, label,
                                  GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, description,
                                  -1);
}

/* The accuracy the window shows: the preview's, else the model's; FALSE when there is none. */
static gboolean
shown_accuracy (PlSnapshot *s,
                double     *accuracy,
                double     *sparsity)
{
  if (s->has_preview)
    {
      *accuracy = s->preview.accuracy;
      *sparsity = s->preview.sparsity;
      return TRUE;
    }
  if (s->eval.valid)
    {
      *accuracy = s->eval.accuracy;
      *sparsity = s->metrics.total.parameter_sparsity;
      return TRUE;
    }
  return FALSE;
}

/* "Validation accuracy 95.2 % at 80.0 % sparsity" (transfer full) */
static char *
accuracy_sentence (PlSnapshot *s)
{
  double accuracy, sparsity;
  gboolean test = s->eval_split != NULL && g_str_equal (s->eval_split, "test");

  if (!shown_accuracy (s, &accuracy, &sparsity))
    return g_strdup (s->arch != NULL ? _("Not evaluated yet") : _("No network yet"));
  return g_strdup_printf (test ? _("Test accuracy %.1f %% at %.1f %% sparsity")
                               : _("Validation accuracy %.1f %% at %.1f %% sparsity"),
                          100 * accuracy, 100 * sparsity);
}

/* The largest swept sparsity up to which the curve stays within 1 percentage point of the
 * unpruned accuracy (every point before it too); −1 when even its first point does not. */
static double
curve_holds_until (const PlSweepCurve *curve,
                   double              dense)
{
  gsize n = 0;
  const PlSweepPoint *p = pl_sweep_curve_points (curve, &n);
  double until = -1;

  for (gsize k = 0; k < n; k++)
    {
      if (p[k].accuracy < dense - 0.01)
        break;
      until = p[k].sparsity;
    }
  return until;
}

static char *
describe_curves (PlSnapshot *s)
{
  g_autoptr(GString) out = g_string_new (NULL);
  g_autofree char *head = accuracy_sentence (s);

  if (s->n_curves == 0)
    return g_strdup_printf (_("%s. No sweep yet: Run Sweep draws accuracy against sparsity"), head);
  g_string_append (out, head);
  for (guint c = 0; c < s->n_curves && s->eval.valid; c++)
    {
      double until = curve_holds_until (&s->curves[c], s->eval.accuracy);
      const char *name = _(pl_score_info (s->curves[c].score)->title);

      g_string_append (out, "; ");
      if (until < 0)
        g_string_append_printf (out, _("%s falls below the unpruned %.1f %% at once"), name,
                                100 * s->eval.accuracy);
      else
        g_string_append_printf (out, _("%s stays within 1 point of the unpruned %.1f %% up to %.0f %% sparsity"),
                                name, 100 * s->eval.accuracy, 100 * until);
    }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

static char *
describe_histogram (PlSnapshot *s)
{
  g_autofree char *head = accuracy_sentence (s);
  const char *score = _(pl_score_info (s->strategy.score)->title);

  if (!s->scores_valid)
    return g_strdup_printf (_("Histogram of the scores: none yet. %s"), head);
  if (s->has_preview && isfinite (s->preview.threshold))
    return g_strdup_printf (_("Histogram of %s from %.4g to %.4g; the threshold is at %.4g and "
                              "prunes %.1f %% of the weights. %s"),
                            score, s->score_min, s->score_max, s->preview.threshold,
                            100 * s->preview.sparsity, head);
  return g_strdup_printf (_("Histogram of %s from %.4g to %.4g; no threshold set. %s"),
                          score, s->score_min, s->score_max, head);
}

static char *
describe_heatmap (PlWindow   *self,
                  PlSnapshot *s)
{
  guint i;
  const PlLayerView *l;
  double pruned;

  if (s->n_layers == 0)
    return g_strdup (_("No network yet"));
  i = MIN (self->layer, s->n_layers - 1);
  l = &s->layers[i];
  pruned = s->has_preview ? s->preview.layer_sparsity[i] : s->metrics.layers[i].parameter_sparsity;
  return g_strdup_printf (_("Layer %u: %u × %u weights, %.1f %% of them pruned%s; red is positive, "
                            "blue negative, grey pruned"),
                          i + 1, l->n_out, l->n_in, 100 * pruned,
                          s->has_preview ? _(" in the preview") : "");
}

static char *
describe_training (PlSnapshot *s)
{
  gsize n = 0;
  const PlEpochRecord *r = pl_snapshot_history (s, &n);

  if (n == 0)
    return g_strdup (_("No training yet"));
  return g_strdup_printf (_("After %u epochs: training loss %.4f, validation loss %.4f, "
                            "validation accuracy %.1f %%"),
                          r[n - 1].epoch, r[n - 1].train_loss, r[n - 1].val_loss,
                          100 * r[n - 1].val_accuracy);
}

static char *
describe_gradnorm (PlSnapshot *s)
{
  gsize n = 0;
  const float *norms = pl_snapshot_floats (s->training.grad_norms, &n);
  double top = 0;

  if (n == 0)
    return g_strdup (_("No training yet"));
  for (gsize k = 0; k < n; k++)
    top = MAX (top, norms[k]);
  return g_strdup_printf (_("Gradient norm over %lu steps: %.3g at the last, %.3g at the largest"),
                          (unsigned long) n, norms[n - 1], top);
}

static char *
describe_model (PlSnapshot *s)
{
  g_autofree char *head = accuracy_sentence (s);
  guint dead = s->has_preview ? s->preview.dead_neurons : 0, neurons = s->has_preview ? s->preview.neurons : 0;

  if (s->arch == NULL)
    return g_strdup (_("No network yet"));
  if (!s->has_preview)
    return g_strdup_printf (_("Network %s. %s"), s->arch, head);
  /* a conv net's preview counts its filters */
  return g_strdup_printf (s->n_stages > 0 ? _("Network %s: %u of %u filters removed. %s")
                                          : _("Network %s: %u of %u hidden neurons dead. %s"),
                          s->arch, dead, neurons, head);
}

/* The filters: how many the model (or the preview) has removed, with the accuracy shown. */
static char *
describe_filters (PlSnapshot *s)
{
  g_autofree char *head = NULL;
  guint removed = 0, filters = 0, layers = 0;

  if (s->n_stages == 0)
    return g_strdup (_("Only a convolutional network has filters"));
  for (guint i = 0; i < s->n_stages; i++)
    {
      const PlConvStageView *st = &s->stages[i];
      const PlLayerView *l;
      const float *mask;

      if (st->kind != PL_CONV_LAYER_CONV || st->layer < 0 || (guint) st->layer >= s->n_layers)
        continue;
      l = &s->layers[st->layer];
      mask = pl_snapshot_floats (s->has_preview && l->preview_neuron_masks != NULL ? l->preview_neuron_masks
                                                                                  : l->neuron_masks, NULL);
      for (guint f = 0; f < st->c_out; f++)
        removed += mask != NULL && mask[f] == 0.0f;
      filters += st->c_out;
      layers++;
    }
  head = accuracy_sentence (s);
  return g_strdup_printf (_("%u conv layers, %u of %u filters removed. %s"), layers, removed, filters, head);
}

/* The feature maps: which image, its class, the stages. */
static char *
describe_maps (PlSnapshot *s)
{
  if (s->n_stages == 0 || s->feature_input == NULL)
    return g_strdup (_("Only a convolutional network has feature maps"));
  return g_strdup_printf (s->has_preview ? _("Image %u (class %s) through %u stages, with the preview mask")
                                         : _("Image %u (class %s) through %u stages"),
                          s->feature_index,
                          s->class_names != NULL && s->feature_label < g_strv_length (s->class_names)
                          ? s->class_names[s->feature_label] : "?",
                          s->n_stages);
}

/* The confusion matrix is of the model with its own masks (s->eval), not of the preview. */
static char *
describe_confusion (PlSnapshot *s)
{
  gsize n = 0;
  const guint32 *counts = pl_snapshot_uint32s (s->eval.confusion, &n);
  guint k = s->eval.n_classes, worst = 0;
  double worst_share = 2;

  if (!s->eval.valid || counts == NULL || k == 0 || n < (gsize) k * k)
    return g_strdup (_("Not evaluated yet"));
  for (guint t = 0; t < k; t++)
    {
      guint64 row = 0;

      for (guint p = 0; p < k; p++)
        row += counts[t * k + p];
      if (row > 0 && (double) counts[t * k + t] / row < worst_share)
        {
          worst_share = (double) counts[t * k + t] / row;
          worst = t;
        }
    }
  return g_strdup_printf (_("The model without the preview: %s accuracy %.1f %% on %u samples; "
                            "class %s is recognised worst, %.1f %% of the time"),
                          g_strcmp0 (s->eval_split, "test") == 0 ? _("test") : _("validation"),
                          100 * s->eval.accuracy, s->eval.n,
                          s->class_names != NULL && s->class_names[0] != NULL ? s->class_names[MIN (worst, g_strv_length (s->class_names) - 1)] : "?",
                          100 * MIN (worst_share, 1.0));
}

void
_pl_window_update_descriptions (PlWindow   *self,
                                PlSnapshot *s)
{
  g_autofree char *heatmap = describe_heatmap (self, s);
  g_autofree char *histogram = describe_histogram (s);
  g_autofree char *curves = describe_curves (s);
  g_autofree char *training = describe_training (s);
  g_autofree char *gradnorm = describe_gradnorm (s);
  g_autofree char *model = describe_model (s);
  g_autofree char *results = describe_confusion (s);
  g_autofree char *maps = describe_maps (s);
  g_autofree char *filters = describe_filters (s);

  describe (self->heatmap_view, _("Weights of the layer"), heatmap);
  describe (self->histogram_view, _("Pruning threshold on the score histogram"), histogram);
  describe (self->curves_view, _("Accuracy after pruning"), curves);
  describe (self->training_view, _("Training history"), training);
  describe (self->gradnorm_view, _("Gradient norm per step"), gradnorm);
  describe (self->network_view, _("The network"), model);
  describe (self->boundary_view, s->image_width > 0 ? _("Receptive fields") : _("Decision regions"), model);
  describe (self->filters_view, _("Filters of the conv layers"), filters);
  describe (self->maps_view, _("Feature maps"), maps);
  describe (self->confusion_view, _("Confusion matrix"), results);

  /* the histogram is a slider over the score: where the threshold is */
  if (s->scores_valid && s->score_max > s->score_min)
    {
      double at = s->has_preview && isfinite (s->preview.threshold) ? s->preview.threshold : s->score_min;
      g_autofree char *text = g_strdup_printf (_("threshold %.4g, %.1f %% pruned"), at,
                                               s->has_preview ? 100 * s->preview.sparsity : 0.0);

      gtk_accessible_update_property (GTK_ACCESSIBLE (self->histogram_view),
                                      GTK_ACCESSIBLE_PROPERTY_VALUE_MIN, s->score_min,
                                      GTK_ACCESSIBLE_PROPERTY_VALUE_MAX, s->score_max,
                                      GTK_ACCESSIBLE_PROPERTY_VALUE_NOW, CLAMP (at, s->score_min, s->score_max),
                                      GTK_ACCESSIBLE_PROPERTY_VALUE_TEXT, text,
                                      -1);
    }
}

/* ---- the threshold from the keyboard ---- */

/* win.move-threshold(d): the threshold moves by @param of the score range (Left/Right and
 * Up/Down a hundredth, Page Up/Down a tenth, Home/End to the ends), through the same live
 * preview as a drag. */
static void
move_threshold_action (GtkWidget  *widget,
                       const char *name,
                       GVariant   *param)
{
  PlWindow *self = PL_WINDOW (widget);
  PlSnapshot *s = self->snapshot;
  double step = g_variant_get_double (param);
  double lo, hi, at;

  if (s == NULL || !s->scores_valid || !(s->score_max > s->score_min)
      || _pl_window_control_locked (self, PL_LESSON_CONTROL_THRESHOLD))
    return;
  lo = s->score_min;
  hi = s->score_max;
  at = s->has_preview && s->preview_by_threshold ? s->preview.value
       : s->has_preview && isfinite (s->preview.threshold) ? s->preview.threshold : lo;
  at = CLAMP (at + step * (hi - lo), lo, hi);
  self->last_preview = pl_engine_preview (self->engine, at, TRUE);
}

void
_pl_window_init_a11y (PlWindow *self)
{
  static const struct {
    guint  keyval;
    double step;
  } keys[] = {
    { GDK_KEY_Right, 0.01 }, { GDK_KEY_Up, 0.01 }, { GDK_KEY_KP_Right, 0.01 }, { GDK_KEY_KP_Up, 0.01 },
    { GDK_KEY_Left, -0.01 }, { GDK_KEY_Down, -0.01 }, { GDK_KEY_KP_Left, -0.01 }, { GDK_KEY_KP_Down, -0.01 },
    { GDK_KEY_Page_Up, 0.1 }, { GDK_KEY_KP_Page_Up, 0.1 },
    { GDK_KEY_Page_Down, -0.1 }, { GDK_KEY_KP_Page_Down, -0.1 },
    { GDK_KEY_End, 1.0 }, { GDK_KEY_Home, -1.0 },
  };
  GtkEventController *shortcuts = gtk_shortcut_controller_new ();

  for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
    gtk_shortcut_controller_add_shortcut (GTK_SHORTCUT_CONTROLLER (shortcuts),
                                          gtk_shortcut_new_with_arguments (gtk_keyval_trigger_new (keys[i].keyval, 0),
                                                                           gtk_named_action_new ("win.move-threshold"),
                                                                           "d", keys[i].step));
  gtk_widget_add_controller (GTK_WIDGET (self->histogram_view), shortcuts);
  gtk_widget_set_focusable (GTK_WIDGET (self->histogram_view), TRUE);
}

void
_pl_window_class_init_a11y (GtkWidgetClass *widget_class)
{
  gtk_widget_class_install_action (widget_class, "win.move-threshold", "d", move_threshold_action);
}
