/* pl-cli-prune-conv.c — prunelab-cli prune on a convolutional network: weights by a weight
 * score (pl-conv-score.h), or whole filters by their L1/L2 norm (Li et al. 2017), FPGM (He et
 * al. 2019) or a channel score from the activations (APoZ, mean activation, Taylor), then
 * optional fine-tuning and compaction */
#define G_LOG_DOMAIN "prunelab-cli"

#include "config.h"

#include <glib/gi18n.h>
#include <stdio.h>
#include <string.h>

#include "pl-cli-prune-private.h"
#include "pl-conv-compact.h"
#include "pl-conv-file.h"
#include "pl-conv-prune.h"
#include "pl-conv-score.h"
#include "pl-conv-train.h"
#include "pl-eval.h"

int
_pl_cli_prune_conv (const PlCliPruneArgs *a,
                    PlCliDataArgs        *data_args,
                    PlScoreKind           kind,
                    gboolean              fpgm,
                    PlScope               scope,
                    const PlCliNumbers   *sparsity,
                    gboolean              by_threshold,
                    gboolean              compact,
                    const char           *out)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PlConvNet) net = NULL;
  g_autoptr(PlData) data = NULL;
  g_autoptr(PlEvaluation) before = NULL;
  g_autoptr(PlEvaluation) pruned_ev = NULL;
  g_autoptr(PlEvaluation) after = NULL;
  g_autoptr(PlConvNet) small = NULL;
  g_autoptr(PlEvaluation) small_ev = NULL;
  g_autofree char *small_arch = NULL;
  g_autofree float *scores = NULL;
  PlCliConvScore score;
  PlConvPruner pruner;
  PlConvNet *pruned;
  gboolean structured;
  guint n_calib = 0;
  gint removed = 0;
  gsize n_weights, n_pruned;
  double s;
  int status;

  if (by_threshold || sparsity->n != 1)
    return _pl_cli_usage (_("a convolutional network is pruned to one --sparsity value so far"));
  if ((status = _pl_cli_conv_parse_score (a, fpgm ? "fpgm" : pl_score_info (kind)->name, scope, &score)) != 0)
    return status;
  structured = score.mode != PL_CONV_PRUNE_WEIGHTS;
  if (compact && !structured)
    return _pl_cli_usage (_("--compact removes whole filters: add --structured with a filter or channel score"));
  s = sparsity->values[0];

  net = pl_conv_net_load (a->model_path, &error);
  if (net == NULL)
    return _pl_cli_fail (error);
  data = _pl_cli_load_data (data_args, &error);
  if (data == NULL)
    return _pl_cli_fail (error);
  before = pl_conv_evaluate (net, data->test, &error);
  if (before == NULL)
    {
      g_prefix_error (&error, "“%s” on “%s”: ", a->model_path, data->spec);
      return _pl_cli_fail (error);
    }

  /* the weight scores on the first --score-batches batches (seed 0), the channel scores on the
   * first --score-batches × 256 training samples (_pl_cli_conv_pruner_init) */
  if (!_pl_cli_conv_pruner_init (&pruner, &scores, a, &score, scope, net, data, 0, &error)
      || (pruned = pl_conv_pruner_apply (&pruner, s, &error)) == NULL)
    {
      g_prefix_error (&error, "“%s”: ", a->model_path);
      return _pl_cli_fail (error);
    }
  n_calib = pruner.n_calib;
  for (gsize f = 0; f < net->n_filters; f++)
    removed += (pruned->filter_masks[f] == 0.0f) - (net->filter_masks[f] == 0.0f);
  g_clear_pointer (&net, pl_conv_net_free);
  net = pruned;
  pruned_ev = pl_conv_evaluate (net, data->test, NULL);

  if (a->fine_tune_epochs > 0 && !_pl_cli_conv_fine_tune (net, data, a, 1, &error))
    return _pl_cli_fail (error);
  after = pl_conv_evaluate (net, data->test, NULL);

  if (compact)
    {
      small = pl_conv_compact (net, NULL);
      small_ev = pl_conv_evaluate (small, data->test, NULL);
      small_arch = pl_conv_net_arch (small);
    }
  if (out != NULL && !pl_conv_net_save (small != NULL ? small : net, out, &error))
    return _pl_cli_fail (error);

  n_weights = pl_conv_net_n_weights (net);
  n_pruned = pl_conv_net_n_pruned (net);
  if (a->json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();
      g_autofree char *arch = pl_conv_net_arch (net);

      json_builder_begin_object (b);
      _pl_cli_add_string (b, "command", "prune");
      _pl_cli_add_string (b, "model", a->model_path);
      _pl_cli_add_string (b, "data", data->spec);
      _pl_cli_add_string (b, "arch", arch);
      _pl_cli_add_string (b, "score", score.name);
      _pl_cli_add_string (b, "scope", structured ? "layer" : scope == PL_SCOPE_GLOBAL ? "global" : "layer");
      _pl_cli_add_bool (b, "structured", structured);
      _pl_cli_add_double (b, "target_sparsity", s);
      if (n_calib > 0)
        _pl_cli_add_int (b, "calibration", n_calib);
      _pl_cli_add_double (b, "test_accuracy_before", before->accuracy);
      _pl_cli_add_double (b, "test_loss_before", before->loss);
      _pl_cli_add_double (b, "test_accuracy_pruned", pruned_ev->accuracy);
      _pl_cli_add_double (b, "test_loss_pruned", pruned_ev->loss);
      _pl_cli_add_int (b, "fine_tune_epochs", a->fine_tune_epochs);
      _pl_cli_add_evaluation (b, "test", after);
      _pl_cli_add_int (b, "weights", (gint64) n_weights);
      _pl_cli_add_int (b, "pruned_weights", (gint64) n_pruned);
      _pl_cli_add_double (b, "sparsity", n_weights > 0 ? (double) n_pruned / n_weights : 0.0);
      json_builder_set_member_name (b, "filters");
      json_builder_begin_array (b);
      for (guint i = 0; i < net->n_layers; i++)
        {
          const PlConvLayer *l = &net->layers[i];
          guint live = 0;

          if (l->kind != PL_CONV_LAYER_CONV)
            continue;
          for (guint o = 0; o < l->c_out; o++)
            live += l->filter_mask[o] != 0.0f;
          json_builder_begin_object (b);
          _pl_cli_add_int (b, "filters", l->c_out);
          _pl_cli_add_int (b, "live", live);
          json_builder_end_object (b);
        }
      json_builder_end_array (b);
      if (small != NULL)
        {
          json_builder_set_member_name (b, "compacted");
          json_builder_begin_object (b);
          _pl_cli_add_string (b, "arch", small_arch);
          _pl_cli_add_double (b, "test_accuracy", small_ev->accuracy);
          _pl_cli_add_double (b, "test_loss", small_ev->loss);
          _pl_cli_add_int (b, "parameters", (gint64) pl_conv_net_n_params (small));
          json_builder_end_object (b);
        }
      _pl_cli_add_string (b, "blas_core", _pl_cli_blas_core ());
      if (out != NULL)
        _pl_cli_add_string (b, "out", out);
      json_builder_end_object (b);
      if (!_pl_cli_emit_result (b, TRUE, NULL, NULL, NULL, &error))
        return _pl_cli_fail (error);
    }
  else
    {
      printf (_("test accuracy %.2f%% before, %.2f%% pruned, %.2f%% after %d epoch(s) of fine-tuning\n"),
              100 * before->accuracy, 100 * pruned_ev->accuracy, 100 * after->accuracy,
              a->fine_tune_epochs);
      printf (_("%lu of %lu weights pruned (%.1f%%)\n"),
              (unsigned long) n_pruned, (unsigned long) n_weights,
              n_weights > 0 ? 100.0 * n_pruned / n_weights : 0.0);
      if (structured)
        printf (_("%u filters removed\n"), (guint) removed);
      if (small != NULL)
        printf (_("compacted to %s, test accuracy %.2f%%\n"), small_arch, 100 * small_ev->accuracy);
      if (out != NULL)
        printf (_("pruned model saved to %s\n"), out);
    }

  return PL_EXIT_OK;
}

gboolean
_pl_cli_prune_args_conv (const PlCliPruneArgs *a)
{
  return a->model_path != NULL && a->session_path == NULL && pl_conv_file_is_conv (a->model_path);
}

int
_pl_cli_conv_parse_score (const PlCliPruneArgs *a,
                          const char           *name,
                          PlScope               scope,
                          PlCliConvScore       *out)
{
  g_autoptr(GError) error = NULL;
  PlScoreKind kind = PL_SCORE_MAGNITUDE;
  gboolean fpgm = strcmp (name, "fpgm") == 0;

  if (a->invert || a->exclude_output)
    return _pl_cli_usage (_("--invert and --exclude-output do not take a convolutional network yet"));
  if (a->nm != NULL)
    return _pl_cli_usage (_("--nm does not take a convolutional network yet"));
  if (!fpgm && !pl_score_parse (name, &kind, &error))
    return _pl_cli_fail (error);

  *out = (PlCliConvScore) { PL_CONV_PRUNE_WEIGHTS, kind, PL_CONV_FILTER_L1, PL_CONV_CHANNEL_APOZ,
                            fpgm ? "fpgm" : pl_score_info (kind)->name };
  if (a->structured && (fpgm || kind == PL_SCORE_NEURON_L1 || kind == PL_SCORE_NEURON_L2))
    {
      out->mode = PL_CONV_PRUNE_FILTERS;
      out->filter = fpgm ? PL_CONV_FILTER_FPGM
                    : kind == PL_SCORE_NEURON_L2 ? PL_CONV_FILTER_L2 : PL_CONV_FILTER_L1;
      return 0;
    }
  if (a->structured && (kind == PL_SCORE_APOZ || kind == PL_SCORE_ACTIVATION
                        || kind == PL_SCORE_NEURON_TAYLOR))
    {
      out->mode = PL_CONV_PRUNE_CHANNELS;
      out->channel = kind == PL_SCORE_APOZ ? PL_CONV_CHANNEL_APOZ
                     : kind == PL_SCORE_ACTIVATION ? PL_CONV_CHANNEL_ACTIVATION
                     : PL_CONV_CHANNEL_TAYLOR;
      return 0;
    }
  if (a->structured || fpgm || !pl_conv_weight_score_supported (kind))
    return _pl_cli_usage (_("a convolutional network’s weights are pruned by --score magnitude, random, gradient, taylor, fisher, lamp or snip, and its filters with --structured --score neuron-l1, neuron-l2, fpgm, apoz, activation or neuron-taylor"));
  if (scope != PL_SCOPE_GLOBAL && scope != PL_SCOPE_LAYER)
    return _pl_cli_usage (_("a convolutional network is pruned with --scope global or layer"));
  return 0;
}

gboolean
_pl_cli_conv_pruner_init (PlConvPruner         *pruner,
                          float               **scores,
                          const PlCliPruneArgs *a,
                          const PlCliConvScore *score,
                          PlScope               scope,
                          const PlConvNet      *net,
                          const PlData         *data,
                          guint64               seed,
                          GError              **error)
{
  *pruner = (PlConvPruner) { net, score->mode, NULL, scope == PL_SCOPE_GLOBAL, a->allow_empty,
                             score->filter, score->channel, data->train, 0, data->test };
  *scores = NULL;
  /* the first --score-batches × 256 training samples, as the MLP's scores take batches of 256
   * of them */
  if (score->mode == PL_CONV_PRUNE_CHANNELS)
    pruner->n_calib = MIN ((guint) a->score_batches * 256u, data->train->n);
  if (score->mode == PL_CONV_PRUNE_WEIGHTS && score->kind != PL_SCORE_MAGNITUDE)
    {
      PlScoreOptions options = PL_SCORE_OPTIONS_INIT;

      options.n_batches = (guint) a->score_batches;
      options.seed = seed;
      *scores = g_new (float, MAX (pl_conv_net_n_weights (net), 1));
      if (!pl_conv_weight_scores (net, score->kind, data->train, &options, *scores, error))
        {
          g_clear_pointer (scores, g_free);
          return FALSE;
        }
      pruner->scores = *scores;
    }
  return TRUE;
}

gboolean
_pl_cli_conv_fine_tune (PlConvNet            *net,
                        const PlData         *data,
                        const PlCliPruneArgs *a,
                        guint64               seed,
                        GError              **error)
{
  g_autoptr(PlConvTrainer) trainer = NULL;
  PlTrainConfig config;

  _pl_cli_fine_tune_config (a, seed, &config);
  trainer = pl_conv_trainer_new (net, &config);
  return pl_conv_trainer_run (trainer, data->train, data->val, NULL, NULL, _pl_cli_cancellable (), error);
}
