#define G_LOG_DOMAIN "pl-conv-schedule"

#include "config.h"

#include "pl-conv-schedule.h"

#include <glib/gi18n-lib.h>
#include <math.h>
#include <string.h>

#include "pl-conv-prune.h"
#include "pl-conv-score.h"
#include "pl-conv-sweep.h"
#include "pl-conv-train.h"
#include "pl-error.h"
#include "pl-eval.h"

typedef struct {
  const PlConvNet         *net;
  const PlData            *data;
  PlMethod                 method;
  const PlScheduleConfig  *config;
  guint64                  seed;
  GArray                  *points;
  PlScheduleProgressFunc   progress;
  gpointer                 user_data;
  GCancellable            *cancellable;
  gint64                   t0;
  guint                    n_trainings;
  char                     stage[160];
} Run;

gboolean
pl_conv_schedule_supported (PlMethod method)
{
  return method == PL_METHOD_ONESHOT || method == PL_METHOD_ITERATIVE;
}

static void
report (Run                   *run,
        const PlTrainProgress *train,
        const PlSchedulePoint *point)
{
  if (run->progress != NULL)
    {
      PlScheduleProgress p = { run->method, run->seed, run->stage, train, point, NULL };

      run->progress (&p, run->user_data);
    }
}

static void
set_stage (Run        *run,
           const char *format,
           ...) G_GNUC_PRINTF (2, 3);

static void
set_stage (Run        *run,
           const char *format,
           ...)
{
  va_list args;

  va_start (args, format);
  g_vsnprintf (run->stage, sizeof run->stage, format, args);
  va_end (args);
  report (run, NULL, NULL);
}

static void
train_progress_cb (const PlTrainProgress *tp,
                   gpointer               user_data)
{
  report (user_data, tp, NULL);
}

/* Measures @net (validation and test, sparsities) and adds the point. */
static void
add_point (Run             *run,
           const PlConvNet *net,
           guint            level,
           double           param)
{
  g_autoptr(PlEvaluation) test = pl_conv_evaluate (net, run->data->test, NULL);
  double layers[PL_CONV_MAX_LAYERS + PL_MLP_MAX_LAYERS];
  gsize n_weights = pl_conv_net_n_weights (net), dead = 0;
  PlSchedulePoint pt;

  memset (&pt, 0, sizeof pt);
  pt.method = run->method;
  pt.seed = run->seed;
  pt.level = level;
  pt.param = param;
  pt.sparsity = n_weights > 0 ? (double) pl_conv_net_n_pruned (net) / n_weights : 0.0;
  for (gsize f = 0; f < net->n_filters; f++)
    dead += net->filter_masks[f] == 0.0f;
  pt.structural_sparsity = net->n_filters > 0 ? (double) dead / net->n_filters : 0.0;
  pl_conv_net_layer_sparsity (net, layers);
  for (guint i = 0; i < MIN (pl_conv_net_n_param_layers (net), PL_MLP_MAX_LAYERS); i++)
    pt.layer_sparsity[i] = layers[i];
  pt.val_accuracy = pt.val_loss = NAN;
  if (run->data->val != NULL && run->data->val->n > 0)
    {
      g_autoptr(PlEvaluation) val = pl_conv_evaluate (net, run->data->val, NULL);

      pt.val_accuracy = val != NULL ? val->accuracy : NAN;
      pt.val_loss = val != NULL ? val->loss : NAN;
    }
  pt.test_accuracy = test != NULL ? test->accuracy : NAN;
  pt.test_loss = test != NULL ? test->loss : NAN;
  pt.seconds = (g_get_monotonic_time () - run->t0) / 1e6;
  g_array_append_val (run->points, pt);
  report (run, NULL, &g_array_index (run->points, PlSchedulePoint, run->points->len - 1));
}

/* Prunes @net further to @target by the config's score, computed on @net as it is. */
static gboolean
prune_to (Run        *run,
          PlConvNet  *net,
          double      target,
          GError    **error)
{
  const PlScheduleConfig *c = run->config;
  g_autofree float *scores = g_new (float, MAX (pl_conv_net_n_weights (net), 1));
  PlScoreOptions options = c->score_options;

  options.seed = run->seed;
  if (!pl_conv_weight_scores (net, c->score, run->data->train, &options, scores, error))
    return FALSE;
  pl_conv_prune_scored (net, scores, CLAMP (target, 0.0, 1.0), c->spec.scope == PL_SCOPE_GLOBAL,
                        c->spec.allow_empty);
  return TRUE;
}

/* Trains @net for @epochs (masked) with the config's optimiser and lr. */
static gboolean
train (Run        *run,
       PlConvNet  *net,
       guint       epochs,
       GError    **error)
{
  g_autoptr(PlConvTrainer) trainer = NULL;
  PlTrainConfig c = run->config->train;

  if (epochs == 0)
    return TRUE;
  c.epochs = epochs;
  c.seed = run->seed * 1000003u + ++run->n_trainings;
  trainer = pl_conv_trainer_new (net, &c);
  return pl_conv_trainer_run (trainer, run->data->train, run->data->val, train_progress_cb, run,
                              run->cancellable, error);
}

static void
keep_last (PlConvNet       **last,
           const PlConvNet  *net)
{
  if (last == NULL)
    return;
  g_clear_pointer (last, pl_conv_net_free);
  *last = pl_conv_net_copy (net);
}

static gboolean
check_config (PlMethod                 method,
              const PlScheduleConfig  *c,
              GError                 **error)
{
  const char *problem = NULL;

  if (!pl_conv_schedule_supported (method))
    {
      g_set_error (error, PL_SPEC_ERROR, PL_SPEC_ERROR_INVALID,
                   _("a convolutional network runs the methods oneshot and iterative; %s trains or gates dense layers only"),
                   pl_method_info (method)->name);
      return FALSE;
    }
  if (!pl_conv_weight_score_supported (c->score))
    problem = _("a convolutional network is pruned by the scores magnitude, random, gradient, taylor, fisher, lamp or snip");
  else if (c->spec.scope != PL_SCOPE_GLOBAL && c->spec.scope != PL_SCOPE_LAYER)
    problem = _("a convolutional network is pruned with --scope global or layer");
  else if (c->spec.invert || c->spec.exclude_output)
    problem = _("--invert and --exclude-output do not take a convolutional network yet");
  else if (method == PL_METHOD_ITERATIVE && (c->rewind != PL_REWIND_NONE || c->n_layer_targets > 0))
    problem = _("iterative on a convolutional network does not rewind or take per-layer targets yet");
  if (problem == NULL)
    return TRUE;
  g_set_error_literal (error, PL_SPEC_ERROR, PL_SPEC_ERROR_INVALID, problem);
  return FALSE;
}

gboolean
pl_conv_schedule_run (const PlConvNet         *net,
                      const PlData            *data,
                      PlMethod                 method,
                      const PlScheduleConfig  *config,
                      guint64                  seed,
                      GArray                  *points,
                      PlConvNet              **last,
                      PlScheduleProgressFunc   progress,
                      gpointer                 user_data,
                      GCancellable            *cancellable,
                      GError                 **error)
{
  const PlScheduleConfig *c = config;
  Run run = { net, data, method, config, seed, points, progress, user_data, cancellable,
              g_get_monotonic_time (), 0, "" };

  g_return_val_if_fail (net != NULL && data != NULL && config != NULL && points != NULL, FALSE);

  if (!check_config (method, config, error))
    return FALSE;

  set_stage (&run, "%s", _("dense model"));
  add_point (&run, net, 0, NAN);

  if (method == PL_METHOD_ONESHOT)
    for (guint k = 0; k < c->n_targets; k++)
      {
        g_autoptr(PlConvNet) m = pl_conv_net_copy (net);

        set_stage (&run, _("sparsity %.4g: prune and fine-tune"), c->targets[k]);
        if (!prune_to (&run, m, c->targets[k], error) || !train (&run, m, c->fine_tune_epochs, error))
          return FALSE;
        add_point (&run, m, k + 1, c->targets[k]);
        keep_last (last, m);
      }
  else
    {
      g_autoptr(PlConvNet) m = pl_conv_net_copy (net);
      double s_final = 0.0;

      for (guint k = 0; k < c->n_targets; k++)
        s_final = MAX (s_final, c->targets[k]);
      for (guint k = 1; k <= c->rounds; k++)
        {
          double target = pl_iterative_sparsity (s_final, c->rounds, k);

          set_stage (&run, _("round %u/%u: sparsity %.4g"), k, c->rounds, target);
          if (!prune_to (&run, m, target, error)
              || !train (&run, m, pl_schedule_round_epochs (c), error))
            return FALSE;
          add_point (&run, m, k, target);
          keep_last (last, m);
        }
    }
  return TRUE;
}
