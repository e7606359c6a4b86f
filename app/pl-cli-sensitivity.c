/* pl-cli-sensitivity.c — prunelab-cli sensitivity: each layer pruned alone, accuracy at each level */
#define G_LOG_DOMAIN "prunelab-cli"

#include "config.h"

#include <glib/gi18n.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "pl-cli-plot-private.h"
#include "pl-cli-private.h"
#include "pl-error.h"
#include "pl-file.h"
#include "pl-safetensors.h"
#include "pl-sensitivity.h"
#include "pl-sweep.h"

static void
on_sensitivity_progress (const PlSensitivity *s,
                         guint                layer,
                         guint                level,
                         gpointer             user_data)
{
  gsize at = (gsize) layer * s->n_levels + level;

  g_printerr (_("layers.%u  sparsity %6.2f%%  test accuracy %6.2f%%  loss %.4f\n"),
              layer, 100 * s->sparsity[at], 100 * s->accuracy[at], s->loss[at]);
}

/* The points as CSV, one row each. (transfer full) */
static GString *
sensitivity_csv (const PlSensitivity *s)
{
  GString *text = g_string_new ("layer,target_sparsity,sparsity,test_accuracy,test_loss\n");

  for (guint i = 0; i < s->n_layers; i++)
    for (guint j = 0; j < s->n_done[i]; j++)
      {
        gsize at = (gsize) i * s->n_levels + j;

        g_string_append_printf (text, "layers.%u,%.6g,%.6g,%.6g,%.6g\n", i, s->levels[j],
                                s->sparsity[at], s->accuracy[at], s->loss[at]);
      }
  return text;
}

int
_pl_cli_sensitivity (int    argc,
                     char **argv)
{
  g_auto(PlCliDataArgs) data_args = PL_CLI_DATA_ARGS_INIT;
  g_autofree char *model_path = NULL;
  g_autofree char *session_path = NULL;
  g_autofree char *score_name = NULL;
  g_autofree char *csv = NULL;
  g_autofree char *plot = NULL;
  int n_points = 12, threads = 1, score_batches = 8;
  double max_sparsity = 0.99;
  gboolean invert = FALSE, json = FALSE;
  const PlCliOption options[] = {
    { "model", 'm', PL_CLI_FILENAME, &model_path, N_("Trained model (safetensors)"), N_("FILE") },
    PL_CLI_SESSION_OPTION (&session_path),
    { "score", 0, PL_CLI_STRING, &score_name, N_("What to prune by (default magnitude); a neuron score prunes whole neurons of the hidden layers"), N_("NAME") },
    { "points", 0, PL_CLI_INT, &n_points, N_("Sparsity levels per layer from 0 to --max, denser near the top (default 12)"), N_("N"),
      PL_CLI_WHOLE (2, 1000) },
    { "max", 0, PL_CLI_DOUBLE, &max_sparsity, N_("Highest sparsity (default 0.99)"), N_("X"),
      PL_CLI_IN_OPEN (0, 1, PL_CLI_OPEN_MIN) },
    { "invert", 0, PL_CLI_FLAG, &invert, N_("Prune the highest scores first (a sanity check)") },
    { "score-batches", 0, PL_CLI_INT, &score_batches, N_("Batches of 256 training samples for data-driven scores (default 8)"), N_("N"),
      PL_CLI_WHOLE (1, PL_CLI_MAX_SCORE_BATCHES) },
    { "threads", 't', PL_CLI_INT, &threads, N_("Threads (default 1)"), N_("N"), PL_CLI_WHOLE (1, PL_CLI_MAX_THREADS) },
    { "csv", 0, PL_CLI_FILENAME, &csv, N_("Also write the points as CSV"), N_("FILE") },
    { "plot", 0, PL_CLI_FILENAME, &plot, N_("Draw the sensitivity curves into this file (.png, .svg or .pdf)"), N_("FILE") },
    { "json", 0, PL_CLI_FLAG, &json, N_("Print the result as one JSON object on stdout"), NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new (NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(PlData) data = NULL;
  g_autoptr(PlMlp) model = NULL;
  g_autoptr(PlScores) scores = NULL;
  g_autoptr(PlSensitivity) sens = NULL;
  g_autofree double *levels = NULL;
  PlScoreOptions score_options = PL_SCORE_OPTIONS_INIT;
  PlScoreKind kind = PL_SCORE_MAGNITUDE;
  PlPruneSpec spec;
  gboolean interrupted = FALSE;
  gint64 t0 = g_get_monotonic_time ();

  g_option_context_set_summary (context, _("Per-layer sensitivity: prune one layer at a time to a range of sparsities, the\n"
                                           "others left as they are, and report the test accuracy of each point."));
  _pl_cli_add_options (context, options, NULL);
  _pl_cli_add_data_options (context, &data_args);
  if (!_pl_cli_parse (context, &argc, &argv))
    return PL_EXIT_USAGE;

  if (model_path == NULL && session_path == NULL)
    return _pl_cli_usage (_("--model (a safetensors file) or --session (a .prunelab file) is required"));
  if (score_name != NULL && !pl_score_parse (score_name, &kind, &error))
    return _pl_cli_fail (error);
  if (plot != NULL && !_pl_cli_plot_check (plot, &error))
    return _pl_cli_usage ("--plot: %s", error->message);
  if (!_pl_cli_check_output (csv, &error) || !_pl_cli_check_output (plot, &error))
    return _pl_cli_fail (error);
  _pl_cli_set_threads (threads);

  model = _pl_cli_load_model_and_data (&model_path, session_path, &data_args, &data, &error);
  if (model == NULL)
    return _pl_cli_fail (error);

  score_options.n_batches = (guint) score_batches;
  scores = pl_scores_compute (model, kind, data->train, &score_options, &error);
  if (scores == NULL)
    {
      g_prefix_error (&error, "“%s” on “%s”: ", model_path, data->spec);
      return _pl_cli_fail (error);
    }

  levels = g_new (double, n_points);
  for (int i = 0; i < n_points; i++)
    levels[i] = pl_sweep_target (max_sparsity, (guint) n_points, (guint) i);
  sens = pl_sensitivity_new (model->n_layers, levels, (guint) n_points);
  pl_prune_spec_init (&spec, PL_SCOPE_LAYER, FALSE, 0.0);
  spec.invert = invert;
  if (!pl_sensitivity_run (sens, model, scores, &spec, data->test, on_sensitivity_progress, NULL,
                           _pl_cli_cancellable (), &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return _pl_cli_fail (error);
      g_clear_error (&error);
      interrupted = TRUE;
      g_printerr (_("prunelab-cli: sensitivity interrupted; reporting the points that finished\n"));
    }

  if (json || plot != NULL || csv != NULL)
    {
      g_autoptr(GString) csv_text = csv != NULL ? sensitivity_csv (sens) : NULL;
      g_autoptr(JsonBuilder) b = json_builder_new ();

      json_builder_begin_object (b);
      _pl_cli_add_string (b, "command", "sensitivity");
      _pl_cli_add_string (b, "model", model_path);
      _pl_cli_add_string (b, "data", data->spec);
      _pl_cli_add_string (b, "score", pl_score_info (kind)->name);
      _pl_cli_add_bool (b, "structured", scores->per_neuron);
      _pl_cli_add_bool (b, "invert", invert);
      _pl_cli_add_double (b, "dense_test_accuracy", sens->dense_accuracy);
      _pl_cli_add_double (b, "dense_test_loss", sens->dense_loss);
      _pl_cli_add_bool (b, "interrupted", interrupted);
      json_builder_set_member_name (b, "layers");
      json_builder_begin_array (b);
      for (guint i = 0; i < sens->n_layers; i++)
        {
          g_autofree char *name = g_strdup_printf ("layers.%u", i);

          if (!sens->pruned[i])
            continue;
          json_builder_begin_object (b);
          _pl_cli_add_string (b, "name", name);
          _pl_cli_add_int (b, "n_in", model->layers[i].n_in);
          _pl_cli_add_int (b, "n_out", model->layers[i].n_out);
          json_builder_set_member_name (b, "points");
          json_builder_begin_array (b);
          for (guint j = 0; j < sens->n_done[i]; j++)
            {
              gsize at = (gsize) i * sens->n_levels + j;

              json_builder_begin_object (b);
              _pl_cli_add_double (b, "target_sparsity", sens->levels[j]);
              _pl_cli_add_double (b, "sparsity", sens->sparsity[at]);
              _pl_cli_add_double (b, "test_accuracy", sens->accuracy[at]);
              _pl_cli_add_double (b, "test_loss", sens->loss[at]);
              json_builder_end_object (b);
            }
          json_builder_end_array (b);
          json_builder_end_object (b);
        }
      json_builder_end_array (b);
      _pl_cli_add_double (b, "seconds", (g_get_monotonic_time () - t0) / 1e6);
      _pl_cli_add_int (b, "threads", threads);
      _pl_cli_add_string (b, "blas_core", _pl_cli_blas_core ());
      json_builder_end_object (b);
      if (!_pl_cli_emit_result (b, json, plot, csv, csv_text, &error))
        return _pl_cli_fail (error);
    }
  if (!json && plot == NULL)
    {
      printf (_("dense test accuracy %.2f%%\n"), 100 * sens->dense_accuracy);
      for (guint i = 0; i < sens->n_layers; i++)
        {
          if (!sens->pruned[i])
            continue;
          printf ("layers.%u:", i);
          for (guint j = 0; j < sens->n_done[i]; j++)
            printf ("  %.0f%%→%.1f%%", 100 * sens->sparsity[(gsize) i * sens->n_levels + j],
                    100 * sens->accuracy[(gsize) i * sens->n_levels + j]);
          printf ("\n");
        }
    }

  return interrupted ? PL_EXIT_INTERRUPTED : PL_EXIT_OK;
}
