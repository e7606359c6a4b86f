/* pl-cli-train.c — prunelab-cli train */
#define G_LOG_DOMAIN "prunelab-cli"

#include "config.h"

#include <glib/gi18n.h>
#include <math.h>
#include <stdio.h>
#include <unistd.h>

#include "pl-cli-plot-private.h"
#include "pl-cli-private.h"
#include "pl-conv-file.h"
#include "pl-conv-train.h"
#include "pl-error.h"
#include "pl-safetensors.h"
#include "pl-train.h"

typedef struct {
  gboolean tty;
  gint64   last_draw;
} Progress;

static void
on_progress (const PlTrainProgress *p,
             gpointer               user_data)
{
  Progress *state = user_data;

  if (p->epoch_done)
    {
      const PlEpochRecord *r = p->record;

      if (state->tty)
        g_printerr ("\r\033[K");
      if (isfinite (r->val_accuracy))
        g_printerr (_("epoch %u/%u  train loss %.4f  train acc %.2f%%  val loss %.4f  val acc %.2f%%  %.1f s\n"),
                    r->epoch, p->epochs, r->train_loss, 100 * r->train_accuracy,
                    r->val_loss, 100 * r->val_accuracy, r->seconds);
      else
        g_printerr (_("epoch %u/%u  train loss %.4f  train acc %.2f%%  %.1f s\n"),
                    r->epoch, p->epochs, r->train_loss, 100 * r->train_accuracy, r->seconds);
      return;
    }

  if (state->tty)
    {
      gint64 now = g_get_monotonic_time ();

      if (now - state->last_draw < 100000)
        return;
      state->last_draw = now;
      g_printerr ("\r\033[K");
      g_printerr (_("epoch %u/%u  step %llu/%llu  loss %.4f"),
                  p->epoch, p->epochs, (unsigned long long) p->step,
                  (unsigned long long) p->steps_total, p->batch_loss);
    }
}

static void
add_history (JsonBuilder  *b,
             const GArray *history,
             const GArray *norms)
{

  json_builder_set_member_name (b, "history");
  json_builder_begin_array (b);
  for (guint i = 0; i < history->len; i++)
    {
      const PlEpochRecord *r = &g_array_index (history, PlEpochRecord, i);

      json_builder_begin_object (b);
      _pl_cli_add_int (b, "epoch", r->epoch);
      _pl_cli_add_double (b, "train_loss", r->train_loss);
      _pl_cli_add_double (b, "train_accuracy", r->train_accuracy);
      _pl_cli_add_double (b, "val_loss", r->val_loss);
      _pl_cli_add_double (b, "val_accuracy", r->val_accuracy);
      _pl_cli_add_double (b, "lr", r->lr);
      _pl_cli_add_double (b, "seconds", r->seconds);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);

  json_builder_set_member_name (b, "grad_norms");
  json_builder_begin_array (b);
  for (guint i = 0; i < norms->len; i++)
    json_builder_add_double_value (b, g_array_index (norms, float, i));
  json_builder_end_array (b);
}

int
_pl_cli_train (int    argc,
               char **argv)
{
  g_auto(PlCliDataArgs) data_args = PL_CLI_DATA_ARGS_INIT;
  g_autofree char *arch = NULL;
  g_autofree char *activation_name = NULL;
  g_autofree char *optimizer_name = NULL;
  g_autofree char *schedule_name = NULL;
  g_autofree char *out = NULL;
  g_autofree char *init_path = NULL;
  g_autofree char *plot = NULL;
  int epochs = 10, batch = 128, threads = 1, step_epochs = 10;
  gint64 seed = 1;
  double lr = NAN, momentum = 0.9, weight_decay = 0.0, l1 = 0.0;
  double clip_value = 0.0, clip_norm = 0.0, step_gamma = 0.1;
  gboolean nesterov = FALSE, json = FALSE;
  const PlCliOption options[] = {
    { "arch", 'a', PL_CLI_STRING, &arch,
      N_("Layer sizes, input to output (default: the data's inputs-64-64-classes for 2-D sets, inputs-300-100-classes otherwise); a convolutional network as CxHxW-cNkK[pP]-mK-…-classes, or lenet5"), N_("784-300-100-10") },
    { "activation", 0, PL_CLI_STRING, &activation_name, N_("relu (default), tanh or sigmoid"), N_("NAME") },
    { "epochs", 'e', PL_CLI_INT, &epochs, N_("Passes over the training data (default 10)"), N_("N"),
      PL_CLI_WHOLE (0, PL_CLI_MAX_EPOCHS) },
    { "batch", 'b', PL_CLI_INT, &batch, N_("Minibatch size (default 128)"), N_("N"),
      PL_CLI_WHOLE (1, PL_CLI_MAX_BATCH) },
    { "optimizer", 0, PL_CLI_STRING, &optimizer_name, N_("sgd (default) or adam"), N_("NAME") },
    { "lr", 0, PL_CLI_DOUBLE, &lr, N_("Learning rate (default 0.1 for sgd, 0.001 for adam)"), N_("X"),
      PL_CLI_ABOVE (0) },
    { "momentum", 0, PL_CLI_DOUBLE, &momentum, N_("SGD momentum (default 0.9)"), N_("X"),
      PL_CLI_IN_OPEN (0, 1, PL_CLI_OPEN_MAX) },
    { "nesterov", 0, PL_CLI_FLAG, &nesterov, N_("Nesterov momentum") },
    { "weight-decay", 0, PL_CLI_DOUBLE, &weight_decay, N_("L2 weight decay on weights (default 0)"), N_("X"),
      PL_CLI_AT_LEAST (0) },
    { "l1", 0, PL_CLI_DOUBLE, &l1, N_("L1 penalty on weights (default 0)"), N_("X"), PL_CLI_AT_LEAST (0) },
    { "clip-value", 0, PL_CLI_DOUBLE, &clip_value, N_("Clamp each gradient entry to ±X (default 0: off)"), N_("X"),
      PL_CLI_AT_LEAST (0) },
    { "clip-norm", 0, PL_CLI_DOUBLE, &clip_norm, N_("Rescale the gradient to global L2 norm ≤ X (default 0: off)"), N_("X"),
      PL_CLI_AT_LEAST (0) },
    { "schedule", 0, PL_CLI_STRING, &schedule_name, N_("Learning-rate schedule: constant (default), step or cosine"), N_("NAME") },
    { "step-epochs", 0, PL_CLI_INT, &step_epochs, N_("Step schedule: epochs between decays (default 10)"), N_("N"),
      PL_CLI_WHOLE (1, PL_CLI_MAX_EPOCHS) },
    { "step-gamma", 0, PL_CLI_DOUBLE, &step_gamma, N_("Step schedule: decay factor (default 0.1)"), N_("X"),
      PL_CLI_IN_OPEN (0, 1, PL_CLI_OPEN_MIN) },
    { "seed", 's', PL_CLI_INT64, &seed, N_("Seed of initialisation and sample order (default 1)"), N_("N"),
      PL_CLI_WHOLE (0, G_MAXINT64) },
    { "threads", 't', PL_CLI_INT, &threads, N_("Threads (default 1)"), N_("N"), PL_CLI_WHOLE (1, PL_CLI_MAX_THREADS) },
    { "init", 0, PL_CLI_FILENAME, &init_path, N_("Start from this model (safetensors) instead of a fresh one"), N_("FILE") },
    { "out", 'o', PL_CLI_FILENAME, &out, N_("Save the trained model here (safetensors)"), N_("FILE") },
    { "json", 0, PL_CLI_FLAG, &json, N_("Print the result as one JSON object on stdout"), NULL },
    { "plot", 0, PL_CLI_FILENAME, &plot, N_("Draw the training curves into this file (.png, .svg or .pdf)"), N_("FILE") },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new (NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(PlData) data = NULL;
  g_autoptr(PlMlp) model = NULL;
  g_autoptr(PlTrainer) trainer = NULL;
  g_autoptr(PlConvNet) conv = NULL;
  g_autoptr(PlConvTrainer) conv_trainer = NULL;
  const GArray *history, *grad_norms;
  gboolean ok;
  g_autoptr(PlEvaluation) test_ev = NULL;
  g_autoptr(JsonBuilder) b = NULL;
  PlActivation activation = PL_ACTIVATION_RELU;
  PlTrainConfig config;
  Progress progress = { .tty = isatty (STDERR_FILENO) };
  const PlEpochRecord *last = NULL;
  gboolean interrupted = FALSE;
  double seconds, samples_per_second;
  guint n_threads;

  g_option_context_set_summary (context, _("Train a multi-layer perceptron or a convolutional network with softmax cross-entropy.\n"
                                           "Progress goes to stderr; --json prints the result on stdout."));
  _pl_cli_add_options (context, options, NULL);
  _pl_cli_add_data_options (context, &data_args);
  if (!_pl_cli_parse (context, &argc, &argv))
    return PL_EXIT_USAGE;

  if (plot != NULL && !_pl_cli_plot_check (plot, &error))
    return _pl_cli_usage ("--plot: %s", error->message);
  if (!_pl_cli_check_output (out, &error) || !_pl_cli_check_output (plot, &error))
    return _pl_cli_fail (error);

  pl_train_config_init (&config);
  if ((activation_name != NULL && !pl_activation_parse (activation_name, &activation, &error))
      || (optimizer_name != NULL && !pl_optimizer_parse (optimizer_name, &config.optimizer, &error))
      || (schedule_name != NULL && !pl_lr_schedule_parse (schedule_name, &config.schedule, &error)))
    return _pl_cli_fail (error);

  config.epochs = (guint) epochs;
  config.batch_size = (guint) batch;
  config.lr = !isnan (lr) ? lr : config.optimizer == PL_OPTIMIZER_ADAM ? 1e-3 : 0.1;
  config.momentum = momentum;
  config.nesterov = nesterov;
  config.weight_decay = weight_decay;
  config.l1 = l1;
  config.clip_value = clip_value;
  config.clip_norm = clip_norm;
  config.step_epochs = (guint) step_epochs;
  config.step_gamma = step_gamma;
  config.seed = (guint64) seed;
  n_threads = _pl_cli_set_threads (threads);
  config.threads = n_threads;

  data = _pl_cli_load_data (&data_args, &error);
  if (data == NULL)
    return _pl_cli_fail (error);

  if (init_path != NULL ? pl_conv_file_is_conv (init_path) : arch != NULL && pl_conv_arch_is_conv (arch))
    {
      if (init_path != NULL)
        {
          if (arch != NULL || activation_name != NULL)
            return _pl_cli_usage (_("--init takes the architecture and activation from the file; drop --arch and --activation"));
          conv = pl_conv_net_load (init_path, &error);
          if (conv == NULL)
            return _pl_cli_fail (error);
        }
      else
        {
          conv = pl_conv_net_new_from_arch (arch, activation, &error);
          if (conv == NULL)
            return _pl_cli_fail (error);
          pl_conv_net_init (conv, config.seed);
        }
      g_clear_pointer (&arch, g_free);
      arch = pl_conv_net_arch (conv);
      if (pl_conv_net_n_inputs (conv) != data->n_features || pl_conv_net_n_outputs (conv) < data->n_classes)
        return _pl_cli_usage (_("architecture %s does not fit “%s”: it needs %u inputs and at least %u outputs"),
                              arch, data->spec, data->n_features, data->n_classes);
    }
  else if (init_path != NULL)
    {
      model = pl_safetensors_load (init_path, &error);
      if (model == NULL)
        return _pl_cli_fail (error);
      if (arch != NULL || activation_name != NULL)
        return _pl_cli_usage (_("--init takes the architecture and activation from the file; drop --arch and --activation"));
    }
  else
    {
      if (arch == NULL)
        arch = data->image_width > 0 || data->n_features > 2
               ? g_strdup_printf ("%u-300-100-%u", data->n_features, data->n_classes)
               : g_strdup_printf ("%u-64-64-%u", data->n_features, data->n_classes);
      model = pl_mlp_new_from_arch (arch, activation, &error);
      if (model == NULL)
        return _pl_cli_fail (error);
      pl_mlp_init (model, config.seed);
    }

  if (model != NULL && (model->sizes[0] != data->n_features || model->sizes[model->n_layers] < data->n_classes))
    {
      g_autofree char *a = pl_mlp_arch (model);
      return _pl_cli_usage (_("architecture %s does not fit “%s”: it needs %u inputs and at least %u outputs"),
                            a, data->spec, data->n_features, data->n_classes);
    }

  if (arch == NULL)
    arch = pl_mlp_arch (model);
  g_printerr (_("training %s on %s: %u training, %u validation, %u test samples, %u thread(s), OpenBLAS core %s\n"),
              arch, data->name, data->train->n, data->val->n,
              data->test->n, n_threads, _pl_cli_blas_core ());

  if (conv != NULL)
    {
      conv_trainer = pl_conv_trainer_new (conv, &config);
      ok = pl_conv_trainer_run (conv_trainer, data->train, data->val, on_progress, &progress,
                                _pl_cli_cancellable (), &error);
      history = pl_conv_trainer_get_history (conv_trainer);
      grad_norms = pl_conv_trainer_get_grad_norms (conv_trainer);
      seconds = pl_conv_trainer_get_train_seconds (conv_trainer);
      samples_per_second = seconds > 0 ? pl_conv_trainer_get_samples_seen (conv_trainer) / seconds : 0.0;
    }
  else
    {
      trainer = pl_trainer_new (model, &config);
      ok = pl_trainer_run (trainer, data->train, data->val, on_progress, &progress,
                           _pl_cli_cancellable (), &error);
      history = pl_trainer_get_history (trainer);
      grad_norms = pl_trainer_get_grad_norms (trainer);
      seconds = pl_trainer_get_train_seconds (trainer);
      samples_per_second = seconds > 0 ? pl_trainer_get_samples_seen (trainer) / seconds : 0.0;
    }
  if (!ok)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return _pl_cli_fail (error);
      /* Ctrl-C: keep what finished — the model as it is now is evaluated and saved. */
      g_printerr (_("prunelab-cli: training interrupted; reporting and saving the model as it is\n"));
      interrupted = TRUE;
      g_clear_error (&error);
    }
  if (progress.tty)
    g_printerr ("\r\033[K");

  test_ev = conv != NULL ? pl_conv_evaluate (conv, data->test, &error)
                         : pl_evaluate (model, data->test, &error);
  if (test_ev == NULL)
    return _pl_cli_fail (error);

  if (out != NULL && !(conv != NULL ? pl_conv_net_save (conv, out, &error)
                                      : pl_safetensors_save (model, out, &error)))
    return _pl_cli_fail (error);

  if (history->len > 0)
    last = &g_array_index (history, PlEpochRecord, history->len - 1);

  if (json || plot != NULL)
    {
      g_autofree char *arch_text = conv != NULL ? pl_conv_net_arch (conv) : pl_mlp_arch (model);

      b = json_builder_new ();
      json_builder_begin_object (b);
      _pl_cli_add_string (b, "command", "train");
      _pl_cli_add_string (b, "data", data->spec);
      _pl_cli_add_string (b, "arch", arch_text);
      _pl_cli_add_string (b, "activation", pl_activation_to_string (conv != NULL ? conv->activation : model->activation));
      _pl_cli_add_string (b, "optimizer", pl_optimizer_to_string (config.optimizer));
      _pl_cli_add_double (b, "lr", config.lr);
      _pl_cli_add_double (b, "momentum", config.momentum);
      _pl_cli_add_double (b, "weight_decay", config.weight_decay);
      _pl_cli_add_double (b, "l1", config.l1);
      _pl_cli_add_double (b, "clip_value", config.clip_value);
      _pl_cli_add_double (b, "clip_norm", config.clip_norm);
      _pl_cli_add_string (b, "schedule", pl_lr_schedule_to_string (config.schedule));
      _pl_cli_add_int (b, "batch", config.batch_size);
      _pl_cli_add_int (b, "seed", (gint64) config.seed);
      _pl_cli_add_int (b, "epochs", history->len);
      _pl_cli_add_bool (b, "interrupted", interrupted);
      _pl_cli_add_evaluation (b, "test", test_ev);
      _pl_cli_add_double (b, "train_loss", last ? last->train_loss : NAN);
      _pl_cli_add_double (b, "train_accuracy", last ? last->train_accuracy : NAN);
      _pl_cli_add_double (b, "val_loss", last ? last->val_loss : NAN);
      _pl_cli_add_double (b, "val_accuracy", last ? last->val_accuracy : NAN);
      _pl_cli_add_double (b, "seconds", seconds);
      _pl_cli_add_double (b, "samples_per_second", samples_per_second);
      _pl_cli_add_int (b, "parameters", (gint64) (conv != NULL ? pl_conv_net_n_params (conv) : model->n_params));
      _pl_cli_add_int (b, "threads", n_threads);
      _pl_cli_add_string (b, "blas_core", _pl_cli_blas_core ());
      _pl_cli_add_int (b, "train_samples", data->train->n);
      _pl_cli_add_int (b, "val_samples", data->val->n);
      _pl_cli_add_int (b, "test_samples", data->test->n);
      if (out != NULL)
        {
          _pl_cli_add_string (b, "model", out);
        }
      add_history (b, history, grad_norms);
      json_builder_end_object (b);
      if (!_pl_cli_emit_result (b, json, plot, NULL, NULL, &error))
        return _pl_cli_fail (error);
    }
  if (!json)
    {
      printf (_("test accuracy %.2f%%  test loss %.4f  (%u samples)\n"),
              100 * test_ev->accuracy, test_ev->loss, test_ev->n);
      printf (_("%lu parameters, %.0f samples/s over %.1f s of training\n"),
              (unsigned long) (conv != NULL ? pl_conv_net_n_params (conv) : model->n_params),
              samples_per_second, seconds);
      if (out != NULL)
        printf (_("model saved to %s\n"), out);
    }

  return interrupted ? PL_EXIT_INTERRUPTED : PL_EXIT_OK;
}
