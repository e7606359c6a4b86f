/* pl-cli-eval.c — prunelab-cli eval */
#define G_LOG_DOMAIN "prunelab-cli"

#include "config.h"

#include <glib/gi18n.h>
#include <math.h>
#include <stdio.h>

#include "pl-cli-private.h"
#include "pl-conv-file.h"
#include "pl-eval.h"
#include "pl-safetensors.h"

int
_pl_cli_eval (int    argc,
              char **argv)
{
  g_auto(PlCliDataArgs) data_args = PL_CLI_DATA_ARGS_INIT;
  g_autofree char *model_path = NULL;
  g_autofree char *session_path = NULL;
  gboolean json = FALSE;
  int threads = 1;
  const PlCliOption options[] = {
    { "model", 'm', PL_CLI_FILENAME, &model_path, N_("Model to evaluate (safetensors)"), N_("FILE") },
    PL_CLI_SESSION_OPTION (&session_path),
    { "threads", 't', PL_CLI_INT, &threads, N_("Threads (default 1)"), N_("N"), PL_CLI_WHOLE (1, PL_CLI_MAX_THREADS) },
    { "json", 0, PL_CLI_FLAG, &json, N_("Print the result as one JSON object on stdout"), NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new (NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(PlData) data = NULL;
  g_autoptr(PlMlp) model = NULL;
  g_autoptr(PlConvNet) conv = NULL;
  g_autoptr(PlEvaluation) ev = NULL;
  g_autoptr(PlEvaluation) val_ev = NULL;
  gsize n_weights, n_pruned;

  g_option_context_set_summary (context, _("Evaluate a saved model on a dataset's test split."));
  _pl_cli_add_options (context, options, NULL);
  _pl_cli_add_data_options (context, &data_args);
  if (!_pl_cli_parse (context, &argc, &argv))
    return PL_EXIT_USAGE;
  _pl_cli_set_threads (threads);

  if (model_path != NULL && session_path == NULL && pl_conv_file_is_conv (model_path))
    {
      conv = pl_conv_net_load (model_path, &error);
      if (conv == NULL)
        return _pl_cli_fail (error);
    }
  else
    {
      model = _pl_cli_load_model_and_data (&model_path, session_path, &data_args, &data, &error);
      if (model == NULL)
        return _pl_cli_fail (error);
    }
  if (data == NULL)
    data = _pl_cli_load_data (&data_args, &error);
  if (data == NULL)
    return _pl_cli_fail (error);

  if (conv != NULL && (ev = pl_conv_evaluate (conv, data->test, &error)) == NULL)
    g_prefix_error (&error, "“%s” on “%s”: ", model_path, data->spec);
  else if (conv == NULL)
    ev = _pl_cli_evaluate (model, data->test, model_path, data, &error);
  if (ev == NULL)
    return _pl_cli_fail (error);
  val_ev = conv != NULL ? pl_conv_evaluate (conv, data->val, NULL) : pl_evaluate (model, data->val, NULL);

  n_weights = conv != NULL ? pl_conv_net_n_weights (conv) : pl_mlp_n_weights (model);
  n_pruned = conv != NULL ? pl_conv_net_n_pruned (conv) : pl_mlp_n_pruned (model);

  if (json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();
      g_autofree char *arch = conv != NULL ? pl_conv_net_arch (conv) : pl_mlp_arch (model);

      json_builder_begin_object (b);
      _pl_cli_add_string (b, "command", "eval");
      _pl_cli_add_string (b, "model", model_path);
      _pl_cli_add_string (b, "data", data->spec);
      _pl_cli_add_string (b, "arch", arch);
      _pl_cli_add_string (b, "activation", pl_activation_to_string (conv != NULL ? conv->activation : model->activation));
      _pl_cli_add_evaluation (b, "test", ev);
      _pl_cli_add_double (b, "val_accuracy", val_ev != NULL ? val_ev->accuracy : NAN);
      _pl_cli_add_double (b, "val_loss", val_ev != NULL ? val_ev->loss : NAN);
      _pl_cli_add_int (b, "test_samples", ev->n);
      _pl_cli_add_int (b, "parameters", (gint64) (conv != NULL ? pl_conv_net_n_params (conv) : model->n_params));
      _pl_cli_add_int (b, "weights", (gint64) n_weights);
      _pl_cli_add_int (b, "pruned_weights", (gint64) n_pruned);
      _pl_cli_add_double (b, "sparsity", n_weights > 0 ? (double) n_pruned / n_weights : 0.0);
      _pl_cli_add_string (b, "blas_core", _pl_cli_blas_core ());
      json_builder_end_object (b);
      if (!_pl_cli_emit_result (b, TRUE, NULL, NULL, NULL, &error))
        return _pl_cli_fail (error);
    }
  else
    {
      printf (_("test accuracy %.2f%%  test loss %.4f  (%u samples)\n"), 100 * ev->accuracy, ev->loss, ev->n);
      printf (_("%lu of %lu weights pruned (%.1f%%)\n"),
              (unsigned long) n_pruned, (unsigned long) n_weights, n_weights > 0 ? 100.0 * n_pruned / n_weights : 0.0);
    }

  return PL_EXIT_OK;
}
