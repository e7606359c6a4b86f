/* pl-cli-prune.c — prunelab-cli prune */
#define G_LOG_DOMAIN "prunelab-cli"

#include "config.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "pl-cli-plot-private.h"
#include "pl-cli-private.h"
#include "pl-cli-prune-private.h"
#include "pl-compact.h"
#include "pl-conv-file.h"
#include "pl-csr-file.h"
#include "pl-error.h"
#include "pl-file.h"
#include "pl-metrics.h"
#include "pl-obs.h"
#include "pl-prune.h"
#include "pl-safetensors.h"
#include "pl-score.h"

static void
add_layer_metrics (JsonBuilder          *b,
                   const char           *name,
                   const PlLayerMetrics *lm)
{
  json_builder_begin_object (b);
  _pl_cli_add_string (b, "name", name);
  _pl_cli_add_int (b, "n_in", lm->n_in);
  _pl_cli_add_int (b, "n_out", lm->n_out);
  _pl_cli_add_int (b, "weights", (gint64) lm->weights);
  _pl_cli_add_int (b, "pruned", (gint64) lm->pruned);
  _pl_cli_add_int (b, "nonzero", (gint64) lm->nonzero);
  _pl_cli_add_int (b, "dead_neurons", lm->dead_neurons);
  _pl_cli_add_double (b, "parameter_sparsity", lm->parameter_sparsity);
  _pl_cli_add_double (b, "structural_sparsity", lm->structural_sparsity);
  _pl_cli_add_double (b, "relative_sparsity", lm->relative_sparsity);
  _pl_cli_add_double (b, "hoyer", lm->hoyer);
  _pl_cli_add_double (b, "hoyer_kept", lm->hoyer_kept);
  _pl_cli_add_int (b, "effective_weights", (gint64) lm->effective);
  _pl_cli_add_double (b, "flops_dense", lm->flops_dense);
  _pl_cli_add_double (b, "flops_effective", lm->flops_effective);
  _pl_cli_add_double (b, "bytes_dense", lm->bytes_dense);
  _pl_cli_add_double (b, "bytes_csr", lm->bytes_csr);
  _pl_cli_add_double (b, "bytes_compact", lm->bytes_compact);
  json_builder_end_object (b);
}

/* "layers": […], "total": {…} */
void
_pl_cli_add_metrics (JsonBuilder     *b,
                     const PlMetrics *metrics)
{
  json_builder_set_member_name (b, "layers");
  json_builder_begin_array (b);
  for (guint i = 0; i < metrics->n_layers; i++)
    {
      g_autofree char *name = g_strdup_printf ("layers.%u", i);
      add_layer_metrics (b, name, &metrics->layers[i]);
    }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "total");
  add_layer_metrics (b, "total", &metrics->total);
}

int
_pl_cli_prune (int    argc,
               char **argv)
{
  g_auto(PlCliDataArgs) data_args = PL_CLI_DATA_ARGS_INIT;
  g_auto(PlCliPruneArgs) a;
  PlCliNumbers sparsity = { 0 }, threshold = { 0 };
  g_autofree char *out = NULL;
  gboolean help_scores = FALSE;
  gboolean compact = FALSE, csr = FALSE;
  g_autofree char *method = NULL;
  int calibration = 2048;
  double damp = 0.01;
  int steps = 5;
  gboolean obs = FALSE;
  const PlCliOption options[] = {
    { "method", 0, PL_CLI_STRING, &method, N_("score (prune by --score, default) or obs (Optimal Brain Surgeon with layer-wise reconstruction: no --score, no retraining)"), N_("NAME") },
    { "calibration", 0, PL_CLI_INT, &calibration, N_("obs: training samples whose layer inputs form H = 2XXᵀ (default 2048)"), N_("N"),
      PL_CLI_WHOLE (1, 1000000) },
    { "damp", 0, PL_CLI_DOUBLE, &damp, N_("obs: damping λ = X · mean(diag H) (default 0.01)"), N_("X"),
      PL_CLI_IN (0, 1) },
    { "steps", 0, PL_CLI_INT, &steps, N_("obs: prune and refit in N steps of equal counts, each choosing its mask from the last one’s weights (default 5; 1 is one-shot SparseGPT)"), N_("N"),
      PL_CLI_WHOLE (1, 100) },
    { "sparsity", 0, PL_CLI_DOUBLES, &sparsity, N_("Target sparsity; with --scope layer one value or one per layer"), N_("X[,X…]"),
      PL_CLI_LIST (0, 1, PL_MLP_MAX_LAYERS) },
    { "threshold", 0, PL_CLI_DOUBLES, &threshold, N_("Prune every candidate whose score is below T (above with --invert)"), N_("T[,T…]"),
      PL_CLI_LIST (-INFINITY, INFINITY, PL_MLP_MAX_LAYERS) },
    { "out", 'o', PL_CLI_FILENAME, &out, N_("Save the pruned model here (safetensors, with masks)"), N_("FILE") },
    { "compact", 0, PL_CLI_FLAG, &compact, N_("Remove dead neurons (and a conv network’s removed filters): --out saves the smaller dense network (plain nn.Linear and nn.Conv2d shapes)"), NULL },
    { "csr", 0, PL_CLI_FLAG, &csr, N_("--out saves the kept weights in CSR form (torch.sparse_csr_tensor arrays; see README)"), NULL },
    { "help-scores", 0, PL_CLI_FLAG, &help_scores, N_("Explain every score and exit") },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new (NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(PlData) data = NULL;
  g_autoptr(PlMlp) model = NULL;
  g_autoptr(PlMlp) original = NULL;
  g_autoptr(PlScores) scores = NULL;
  g_autoptr(PlEvaluation) before = NULL;
  g_autoptr(PlEvaluation) pruned_ev = NULL;
  g_autoptr(PlEvaluation) after = NULL;
  g_autoptr(PlMlp) small = NULL;
  g_autoptr(PlEvaluation) small_ev = NULL;
  g_autofree char *small_arch = NULL;
  PlPruneSpec spec;
  PlScope scope = PL_SCOPE_GLOBAL;
  PlScoreKind kind;
  PlMetrics metrics;
  int status;
  gint64 t0 = g_get_monotonic_time ();

  _pl_cli_prune_args_init (&a);
  g_option_context_set_summary (context, _("Score a trained model's weights or neurons, prune by a threshold or to a target\n"
                                           "sparsity, optionally fine-tune, and report accuracy and every sparsity measure."));
  _pl_cli_add_prune_options (context, &a, FALSE, options);
  _pl_cli_add_data_options (context, &data_args);
  if (!_pl_cli_parse (context, &argc, &argv))
    return PL_EXIT_USAGE;

  if (help_scores)
    {
      for (PlScoreKind k = 0; k < PL_N_SCORES; k++)
        {
          const PlScoreInfo *info = pl_score_info (k);

          printf ("%s — %s%s\n  %s %s\n  %s %s\n  %s\n\n", info->name, _(info->title),
                  info->per_neuron ? _(" (neurons)") : "", _("Formula:"), info->formula,
                  _("Source:"), _(info->source), _(info->explanation));
        }
      printf ("obs — %s\n  %s %s\n  %s %s\n  %s\n\n", _("Optimal Brain Surgeon with layer-wise reconstruction (--method obs)"),
              _("Formula:"), "H = 2XXᵀ + λI, λ = damp·mean(diag H); saliency w_ij²/[H⁻¹]_jj; W[:, j:] −= (w_j/U_jj)·U[j, j:], H⁻¹ = UᵀU; then ŵ_M = w·H_{:,M}·(H_MM)⁻¹",
              _("Source:"), _("Frantar & Alistarh 2023 (SparseGPT), Algorithm 1; Hassibi & Stork 1993; Frantar & Alistarh 2022 (OBC)"),
              _("Prunes layer by layer without retraining: the mask follows the OBS saliency, and the kept weights and the bias are set to the exact least-squares optimum of the layer’s outputs on calibration inputs that pass through the layers already pruned."));
      printf ("movement — %s\n  %s %s\n  %s %s\n  %s\n\n", _("Movement pruning (schedule --method movement)"),
              _("Formula:"), "S = −Σ_t w^(t)·∂L/∂w^(t)",
              _("Source:"), _("Sanh, Wolf & Rush 2020, eq. 7–8"),
              _("Accumulated over the fine-tuning steps, so it needs a schedule: the weights that fine-tuning pulls towards zero are pruned first."));
      printf ("fpgm — %s\n  %s %s\n  %s %s\n  %s\n\n", _("Filter pruning via geometric median (convolutional networks, --structured)"),
              _("Formula:"), "g(j) = Σ_i ‖F_j − F_i‖₂",
              _("Source:"), _("He, Liu, Wang, Hu & Yang 2019 (CVPR), “Filter Pruning via Geometric Median”, Eq. 6"),
              _("Scores each filter of a conv layer by its summed distance to the layer’s other live filters; the filters nearest the geometric median, which the others can stand in for, are removed first, with the next layer’s input channel that reads them."));
      printf ("%s\n\n", _("On a convolutional network, --structured --score apoz, activation or neuron-taylor score the channels (filters) of each conv layer from its activation maps a_s (c, h, w) after the activation function, M = h·w, on the first --score-batches × 256 training samples, one conv layer after the other on the network as pruned so far; the round(s·c) lowest live filters of each layer go, with the next layer’s input channels:"));
      printf ("apoz — %s\n  %s %s\n  %s %s\n\n", _("1 − APoZ of a channel (convolutional networks)"),
              _("Formula:"), "1 − mean_s (1/M)·#{p : a_s,c,p = 0}",
              _("Source:"), _("Hu, Peng, Tai & Tang 2016, “Network Trimming”, Eq. 1"));
      printf ("activation — %s\n  %s %s\n  %s %s\n\n", _("Mean activation of a channel (convolutional networks)"),
              _("Formula:"), "mean_s (1/M)·Σ_p a_s,c,p",
              _("Source:"), _("Molchanov, Tyree, Karras, Aila & Kautz 2017 (ICLR), §2.2 “Mean activation”"));
      printf ("neuron-taylor — %s\n  %s %s\n  %s %s\n  %s\n\n", _("Taylor criterion of a channel (convolutional networks)"),
              _("Formula:"), "Θ_c = mean_s |(1/M)·Σ_p a_s,c,p·∂L_s/∂a_s,c,p|,  Θ̂_c = Θ_c / ‖Θ‖₂ over the layer",
              _("Source:"), _("Molchanov et al. 2017 (ICLR), Eq. 8 (per sample, then averaged) and Eq. 9"),
              _("Needs ReLU: the sum over the map is then the filter’s weights and bias times their gradients, which one backward pass per sample gives."));
      printf ("%s\n\n", _("Scopes (--scope) and the N:M constraint (--nm):"));
      for (const char * const *h = pl_selection_help (); *h != NULL; h += 3)
        printf ("%s\n  %s %s\n  %s\n\n", h[0], _("Formula:"), _(h[1]), _(h[2]));
      return PL_EXIT_OK;
    }

  if (method != NULL && g_strcmp0 (method, "obs") != 0 && g_strcmp0 (method, "score") != 0)
    return _pl_cli_usage (_("--method: choose score or obs, not “%s”"), method);
  obs = g_strcmp0 (method, "obs") == 0;
  if (obs)
    {
      if (a.score_names != NULL || threshold.n > 0 || a.structured || a.invert)
        return _pl_cli_usage (_("--method obs chooses its own weights from --sparsity: drop --score, --threshold, --structured and --invert"));
      if (a.nm != NULL)
        return _pl_cli_usage (_("--method obs reconstructs whole rows and keeps no N:M pattern: drop --nm"));
      a.score_names = g_strdup ("magnitude");
    }
  if ((status = _pl_cli_check_prune_args (&a, &scope)) != 0)
    return status;
  if ((sparsity.n == 0) == (threshold.n == 0))
    return _pl_cli_usage (_("give either --sparsity or --threshold"));
  if (!_pl_cli_check_output (out, &error))
    return _pl_cli_fail (error);
  /* FPGM scores conv filters only, so it is no entry of the score table */
  if (g_strcmp0 (a.score_names, "fpgm") == 0)
    {
      if (a.model_path == NULL || a.session_path != NULL || !pl_conv_file_is_conv (a.model_path))
        return _pl_cli_usage (_("--score fpgm scores the filters of a convolutional network: give one with --model"));
      if (!a.structured)
        return _pl_cli_usage (_("--score fpgm removes whole filters: add --structured"));
      if (csr)
        return _pl_cli_usage (_("--csr does not take a convolutional network yet"));
      _pl_cli_set_threads (a.threads);
      return _pl_cli_prune_conv (&a, &data_args, PL_SCORE_NEURON_L1, TRUE, scope, &sparsity,
                                 threshold.n > 0, compact, out);
    }
  if ((status = _pl_cli_parse_score (&a, a.score_names, &kind)) != 0)
    return status;
  _pl_cli_set_threads (a.threads);

  if (a.model_path != NULL && a.session_path == NULL && pl_conv_file_is_conv (a.model_path))
    {
      if (csr)
        return _pl_cli_usage (_("--csr does not take a convolutional network yet"));
      return _pl_cli_prune_conv (&a, &data_args, kind, FALSE, scope, &sparsity, threshold.n > 0,
                                 compact, out);
    }

  model = _pl_cli_load_model_and_data (&a.model_path, a.session_path, &data_args, &data, &error);
  if (model == NULL)
    return _pl_cli_fail (error);
  original = pl_mlp_copy (model);

  _pl_cli_prune_args_spec (&a, scope, threshold.n > 0, &spec);
  if (!pl_prune_spec_set_values (&spec, threshold.n > 0 ? threshold.values : sparsity.values,
                                 threshold.n > 0 ? threshold.n : sparsity.n, model->n_layers, &error))
    {
      g_prefix_error (&error, threshold.n > 0 ? "--threshold: " : "--sparsity: ");
      return _pl_cli_fail (error);
    }

  before = _pl_cli_evaluate (model, data->test, a.model_path, data, &error);
  if (before == NULL)
    return _pl_cli_fail (error);

  if (obs)
    {
      PlObsOptions obs_options = PL_OBS_OPTIONS_INIT;
      double layer_sparsity[PL_MLP_MAX_LAYERS];

      obs_options.calibration = (guint) calibration;
      obs_options.damp = damp;
      obs_options.steps = (guint) steps;
      if (!pl_obs_layer_sparsities (model, &spec, layer_sparsity, &error)
          || !pl_obs_prune (model, data->train, layer_sparsity, &obs_options, &error))
        return _pl_cli_fail (error);
    }
  else
    {
      scores = _pl_cli_compute_scores (model, kind, data, &a, 0, &error);
      if (scores == NULL || !pl_prune_apply (model, scores, &spec, &error))
        return _pl_cli_fail (error);
    }
  pruned_ev = pl_evaluate (model, data->test, NULL);
  pl_metrics_compute (&metrics, model, original->params, NULL, NULL);

  if (a.fine_tune_epochs > 0 && !_pl_cli_fine_tune (model, data, &a, 1, &error))
    return _pl_cli_fail (error);
  after = pl_evaluate (model, data->test, NULL);

  if (compact)
    {
      small = pl_compact (model, NULL);
      small_ev = pl_evaluate (small, data->test, NULL);
      small_arch = pl_mlp_arch (small);
    }
  if (out != NULL && !(csr ? pl_csr_save_model (small != NULL ? small : model, out, &error)
                            : pl_safetensors_save (small != NULL ? small : model, out, &error)))
    return _pl_cli_fail (error);

  if (a.json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();

      json_builder_begin_object (b);
      _pl_cli_add_string (b, "command", "prune");
      _pl_cli_add_string (b, "model", a.model_path);
      _pl_cli_add_string (b, "data", data->spec);
      _pl_cli_add_string (b, "method", obs ? "obs" : "score");
      _pl_cli_add_string (b, "score", obs ? "obs" : pl_score_info (kind)->name);
      _pl_cli_add_string (b, "scope", pl_scope_name (scope));
      if (a.nm != NULL)
        _pl_cli_add_string (b, "nm", a.nm);
      _pl_cli_add_bool (b, "structured", scores != NULL && scores->per_neuron);
      if (obs)
        {
          _pl_cli_add_int (b, "calibration", MIN ((guint) calibration, data->train->n));
          _pl_cli_add_double (b, "damp", damp);
          _pl_cli_add_int (b, "steps", steps);
        }
      _pl_cli_add_bool (b, "invert", a.invert);
      json_builder_set_member_name (b, threshold.n > 0 ? "threshold" : "target_sparsity");
      json_builder_begin_array (b);
      for (guint i = 0; i < spec.n_values; i++)
        json_builder_add_double_value (b, spec.values[i]);
      json_builder_end_array (b);
      _pl_cli_add_double (b, "test_accuracy_before", before->accuracy);
      _pl_cli_add_double (b, "test_loss_before", before->loss);
      _pl_cli_add_double (b, "test_accuracy_pruned", pruned_ev->accuracy);
      _pl_cli_add_double (b, "test_loss_pruned", pruned_ev->loss);
      _pl_cli_add_int (b, "fine_tune_epochs", a.fine_tune_epochs);
      _pl_cli_add_evaluation (b, "test", after);
      _pl_cli_add_double (b, "sparsity", metrics.total.parameter_sparsity);
      _pl_cli_add_double (b, "structural_sparsity", metrics.total.structural_sparsity);
      _pl_cli_add_metrics (b, &metrics);
      if (small != NULL)
        {
          json_builder_set_member_name (b, "compacted");
          json_builder_begin_object (b);
          _pl_cli_add_string (b, "arch", small_arch);
          _pl_cli_add_double (b, "test_accuracy", small_ev->accuracy);
          _pl_cli_add_double (b, "test_loss", small_ev->loss);
          _pl_cli_add_int (b, "parameters", (gint64) small->n_params);
          json_builder_end_object (b);
        }
      _pl_cli_add_double (b, "seconds", (g_get_monotonic_time () - t0) / 1e6);
      _pl_cli_add_string (b, "blas_core", _pl_cli_blas_core ());
      if (out != NULL)
        {
          _pl_cli_add_string (b, "out", out);
        }
      json_builder_end_object (b);
      if (!_pl_cli_emit_result (b, TRUE, NULL, NULL, NULL, &error))
        return _pl_cli_fail (error);
    }
  else
    {
      printf (_("test accuracy %.2f%% before, %.2f%% pruned, %.2f%% after %d epoch(s) of fine-tuning\n"),
              100 * before->accuracy, 100 * pruned_ev->accuracy, 100 * after->accuracy,
              a.fine_tune_epochs);
      printf (_("sparsity %.2f%% (%lu of %lu weights), %u dead neurons\n"),
              100 * metrics.total.parameter_sparsity, (unsigned long) metrics.total.pruned,
              (unsigned long) metrics.total.weights,
              metrics.total.dead_neurons);
      if (small != NULL)
        printf (_("compacted to %s, test accuracy %.2f%%\n"), small_arch, 100 * small_ev->accuracy);
      if (out != NULL)
        printf (_("pruned model saved to %s\n"), out);
    }

  return PL_EXIT_OK;
}
