/* pl-window-sparse.c — what pruning buys, on the Results page: measured latency and size of
 * the mask on view (the preview's, else the model's), and "Export compacted model"
 *
 * Both run on the engine thread (pl_engine_measure_sparse, pl_engine_export_compact) with the
 * model rebuilt from the newest snapshot, so the main loop never waits for them.
 */
#define G_LOG_DOMAIN "pl-window"

#include "config.h"

#include <glib/gi18n.h>

#include "pl-window-private.h"

static const char *form_titles[] = { N_("Dense, with mask"), N_("CSR"), N_("Compacted") };

static void
set_cell (PlWindow   *self,
          guint       col,
          guint       row,
          const char *text,
          gboolean    heading)
{
  GtkWidget *label = gtk_label_new (text);

  gtk_label_set_xalign (GTK_LABEL (label), col == 0 ? 0.0f : 1.0f);
  gtk_widget_add_css_class (label, heading ? "heading" : "numeric");
  gtk_grid_attach (self->sparse_grid, label, col, row, 1, 1);
}

static char *
format_ms (double ms)
{
  return ms < 1.0 ? g_strdup_printf (_("%.1f µs"), 1000 * ms) : g_strdup_printf (_("%.2f ms"), ms);
}

/* The table: one row per form, latency at batch 1 and 256 (and the speed-up over dense), and
 * the bytes of weights, indices and biases. */
static void
show_report (PlWindow             *self,
             const PlSparseReport *r)
{
  static const char *headers[] = { N_("Form"), N_("Batch 1"), N_("Batch 256"), N_("Size") };
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->sparse_grid))) != NULL)
    gtk_grid_remove (self->sparse_grid, child);
  for (guint c = 0; c < G_N_ELEMENTS (headers); c++)
    set_cell (self, c, 0, _(headers[c]), TRUE);

  for (PlForwardKind k = 0; k < PL_N_FORWARDS; k++)
    {
      g_autofree char *b1 = format_ms (r->batch1.ms[k]);
      g_autofree char *b256 = format_ms (r->batch256.ms[k]);
      g_autofree char *size = g_format_size ((guint64) r->batch1.bytes[k]);
      g_autofree char *c1 = NULL, *c256 = NULL;

      if (k == PL_FORWARD_DENSE)
        {
          c1 = g_steal_pointer (&b1);
          c256 = g_steal_pointer (&b256);
        }
      else
        {
          /* TRANSLATORS: a latency and its speed-up over the dense one, "12.5 µs (3.2×)" */
          c1 = g_strdup_printf (_("%s (%.1f×)"), b1, r->batch1.ms[0] / r->batch1.ms[k]);
          c256 = g_strdup_printf (_("%s (%.1f×)"), b256, r->batch256.ms[0] / r->batch256.ms[k]);
        }
      set_cell (self, 0, k + 1, _(form_titles[k]), FALSE);
      set_cell (self, 1, k + 1, c1, FALSE);
      set_cell (self, 2, k + 1, c256, FALSE);
      set_cell (self, 3, k + 1, size, FALSE);
    }
}

void
_pl_window_sparse_done (PlWindow *self,
                        guint     command,
                        guint     id,
                        gboolean  ok)
{
  if (command == PL_ENGINE_COMMAND_MEASURE_SPARSE && id == self->sparse_measure_id)
    {
      const PlSparseReport *r = pl_engine_get_sparse_report (self->engine);

      self->sparse_measure_id = 0;
      if (ok && r != NULL)
        {
          g_autofree char *text = NULL;

          show_report (self, r);
          text = g_strdup_printf (_("The mask at %.1f %% sparsity, forward pass timed\n"
                                    "on the engine thread with %u thread(s), medians of %u rounds.\n"
                                    "Compacted network: %s. Dense runs sgemv/sgemm\n"
                                    "on the masked weights, as a mask alone does."),
                                  100 * self->sparse_measure_sparsity, r->batch1.threads, r->batch1.rounds,
                                  r->compact_arch);
          gtk_label_set_label (self->sparse_label, text);
        }
      else
        gtk_label_set_label (self->sparse_label, _("The measurement failed."));
    }
  else if (command == PL_ENGINE_COMMAND_EXPORT_COMPACT && ok && self->sparse_export_path != NULL)
    {
      g_autofree char *text = g_strdup_printf (_("Compacted model saved to %s"), self->sparse_export_path);

      _pl_window_toast (self, text);
      g_clear_pointer (&self->sparse_export_path, g_free);
    }
}

/* The model with the masks on view: the preview's when one is shown. (transfer full) */
static PlMlp *
model_on_view (PlWindow *self,
               double   *sparsity)
{
  PlSnapshot *s = self->snapshot;

  if (s == NULL || s->arch == NULL)
    return NULL;
  *sparsity = s->has_preview ? s->preview_metrics.total.parameter_sparsity
                             : s->metrics.total.parameter_sparsity;
  return pl_snapshot_build_model (s, TRUE);
}

static void
measure_action (GtkWidget  *widget,
                const char *name,
                GVariant   *param)
{
  PlWindow *self = PL_WINDOW (widget);
  g_autoptr(PlMlp) model = model_on_view (self, &self->sparse_measure_sparsity);

  if (model == NULL)
    return;
  self->sparse_measure_id = pl_engine_measure_sparse (self->engine, model);
  _pl_window_track (self, self->sparse_measure_id);
  gtk_label_set_label (self->sparse_label, _("Measuring…"));
  _pl_window_update_actions (self);
}

static void
on_export_response (GtkNativeDialog *dialog,
                    int              response,
                    PlWindow        *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *path = g_file_get_path (file);
      double sparsity;
      /* a conv net: the engine compacts its own model (the preview's masks when shown), as
       * the snapshot builds no model of one */
      g_autoptr(PlMlp) model = _pl_window_is_conv (self) ? NULL : model_on_view (self, &sparsity);

      if ((model != NULL || _pl_window_is_conv (self)) && path != NULL)
        {
          g_free (self->sparse_export_path);
          self->sparse_export_path = g_strdup (path);
          _pl_window_track (self, pl_engine_export_compact (self->engine, model, path));
        }
    }
  g_object_unref (dialog);
}

static void
export_action (GtkWidget  *widget,
               const char *name,
               GVariant   *param)
{
  PlWindow *self = PL_WINDOW (widget);
  g_autoptr(GtkFileFilter) filter = gtk_file_filter_new ();
  GtkFileChooserNative *dialog;

  /* GtkFileChooserNative: GtkFileDialog needs GTK 4.10 */
  dialog = gtk_file_chooser_native_new (_("Export Compacted Model"), GTK_WINDOW (self),
                                        GTK_FILE_CHOOSER_ACTION_SAVE, _("_Save"), _("_Cancel"));
  gtk_file_filter_set_name (filter, _("safetensors models"));
  gtk_file_filter_add_pattern (filter, "*.safetensors");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (dialog), filter);
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (dialog), "compacted.safetensors");
  g_signal_connect (dialog, "response", G_CALLBACK (on_export_response), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (dialog));
}

void
_pl_window_sparse_update_actions (PlWindow *self)
{
  PlSnapshot *s = self->snapshot;
  gboolean conv = _pl_window_is_conv (self);
  gboolean ready = s != NULL && s->arch != NULL && s->state == PL_ENGINE_STATE_IDLE;

  /* the latency is measured on dense layers (pl_snapshot_build_model); a conv net's compacted
   * form is the engine's (pl_engine_export_compact of its own model) */
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.measure-sparse", ready && !conv && self->sparse_measure_id == 0);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.export-compact", ready);
  gtk_widget_set_tooltip_text (self->measure_button,
                               conv ? _("Measured for dense layers only: not for a convolutional network")
                                    : _("Time the forward pass of the mask on view as dense, CSR and compacted network"));
  gtk_widget_set_tooltip_text (self->compact_button,
                               conv ? _("Save the network without its removed filters, as a smaller nn.Conv2d and nn.Linear stack (safetensors)")
                                    : _("Save the network without its dead neurons, as a smaller nn.Linear stack (safetensors)"));
}

void
_pl_window_class_init_sparse (GtkWidgetClass *widget_class)
{
  gtk_widget_class_bind_template_child (widget_class, PlWindow, sparse_grid);
  gtk_widget_class_bind_template_child (widget_class, PlWindow, sparse_label);
  gtk_widget_class_install_action (widget_class, "win.measure-sparse", NULL, measure_action);
  gtk_widget_class_install_action (widget_class, "win.export-compact", NULL, export_action);
}
