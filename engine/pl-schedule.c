#define G_LOG_DOMAIN "pl-schedule"

#include "config.h"

#include "pl-schedule.h"

#include <glib/gi18n-lib.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "pl-distill.h"
#include "pl-error.h"
#include "pl-eval.h"
#include "pl-metrics.h"
#include "pl-schedule-private.h"
#include "pl-sensitivity.h"
#include "pl-sweep.h"

/* ---- what each procedure is -------------------------------------------------------------- */

static const PlMethodInfo method_info[PL_N_METHODS] = {
  [PL_METHOD_ONESHOT] = {
    "oneshot", N_("One-shot prune and fine-tune"),
    N_("Prunes the trained network once to each target sparsity with the chosen score, then "
       "fine-tunes the surviving weights for a few epochs while the pruned ones stay at zero. "
       "It is the cheapest procedure and the baseline for the others (Han et al. 2015).") },
  [PL_METHOD_ITERATIVE] = {
    "iterative", N_("Iterative pruning, optionally with rewinding (lottery ticket)"),
    N_("Prunes in rounds, each removing the same share of the remaining weights and then "
       "training again, so that the network adapts step by step to the final sparsity (Han et "
       "al. 2015). With rewinding, the surviving weights are reset before each round's training "
       "to their initial values or to those of an early epoch, and each round trains as long as "
       "the dense network did from that point: the lottery-ticket procedure of Frankle & Carbin "
       "(2019).") },
  [PL_METHOD_GRADUAL] = {
    "gradual", N_("Gradual pruning during training (cubic schedule)"),
    N_("Prunes while training: every Δt steps the lowest-scoring weights are removed until the "
       "sparsity reaches s_t = s_f + (s_i − s_f)(1 − (t − t₀)/(nΔt))³, fast at first and "
       "slowly towards the end (Zhu & Gupta 2017). The network keeps learning between the "
       "updates, so it needs no separate fine-tuning.") },
  [PL_METHOD_ADAPTIVE] = {
    "adaptive", N_("Adaptive search within an accuracy budget"),
    N_("Searches by bisection on validation data for the largest sparsity whose validation "
       "accuracy stays within a budget of the dense model's (the seed article's adaptive "
       "pruning), and reports that sparsity on the test set. Per layer, each layer moves from "
       "dense towards the largest sparsity it tolerates alone (read from its sensitivity "
       "curve), and the search tunes how far.") },
  [PL_METHOD_L1] = {
    "l1", N_("L1 regularisation, then pruning"),
    N_("Trains with the penalty λ·Σ|w|, which pulls the weights the loss does not need towards "
       "zero, then prunes the smallest weights and fine-tunes without the penalty (the seed "
       "article's regularisation-driven pruning). Stochastic gradient steps on |w| make few "
       "weights exactly zero, so the pruning step is what creates the sparsity.") },
  [PL_METHOD_L0] = {
    "l0", N_("L0 regularisation with hard-concrete gates"),
    N_("Learns a hard-concrete gate for every weight (or neuron), penalises the expected "
       "number of open gates and freezes the gates into a mask at the end (Louizos, Welling & "
       "Kingma 2018). The seed article's update θ − α(g + λ·1[θ≠0]) is not L0 regularisation: "
       "1[θ≠0] is 1 for every nonzero weight, so it moves all weights by the same step and "
       "sets none to zero.") },
  [PL_METHOD_DISTILL] = {
    "distill", N_("Pruning with distillation from the dense network"),
    N_("Prunes once like oneshot, then fine-tunes the sparse network on the labels and on the "
       "dense network's outputs softened by a temperature T, the soft-target term weighted by "
       "α and scaled by T² (Hinton, Vinyals & Dean 2015). The dense network is the teacher of "
       "the seed article's pair of a full and a sparse network.") },
  [PL_METHOD_MOVEMENT] = {
    "movement", N_("Movement pruning during fine-tuning"),
    N_("Fine-tunes while pruning on the cubic schedule of gradual pruning, but removes the "
       "weights with the lowest movement score S = −Σ_t w·∂L/∂w summed over the steps so far: "
       "those that fine-tuning pulls towards zero, however large they are now (Sanh, Wolf & "
       "Rush 2020, eq. 8). It suits transfer, where the weights that matter change most.") },
  [PL_METHOD_SET] = {
    "set", N_("Sparse evolutionary training (SET)"),
    N_("Trains a sparse network from scratch at the target sparsity: every Δt steps each layer "
       "drops the share α/2·(1 + cos(πt/T_end)) of its active weights with the smallest |w| and "
       "grows as many new ones at random, starting at zero (Mocanu et al. 2018, with the cosine "
       "decay of Evci et al. 2020). The number of weights never changes.") },
  [PL_METHOD_RIGL] = {
    "rigl", N_("Rigged lottery (RigL)"),
    N_("Trains a sparse network from scratch like SET, but grows the connections whose dense "
       "gradient |∂L/∂w| on a batch is largest, where a new weight would lower the loss fastest "
       "(Evci et al. 2020, Algorithm 1). The network stays at the target sparsity throughout "
       "and needs no dense training.") },
  [PL_METHOD_AT_INIT] = {
    "at-init", N_("Pruning at initialisation, then training the sparse network"),
    N_("Prunes the untrained network to each target sparsity, before any training, then "
       "trains the sparse network from those initial weights; the first point is the dense "
       "network trained the same way. Use it with SNIP (Lee et al. 2019), GraSP (Wang et al. "
       "2020) or SynFlow (Tanaka et al. 2020), which prunes in 100 rounds with an exponentially "
       "shrinking density; magnitude and random at initialisation are the baselines.") },
};

const PlMethodInfo *
pl_method_info (PlMethod method)
{
  g_return_val_if_fail (method < PL_N_METHODS, NULL);

  return &method_info[method];
}

gboolean
pl_method_parse (const char  *name,
                 PlMethod    *method,
                 GError     **error)
{
  g_autoptr(GString) names = g_string_new (NULL);

  g_return_val_if_fail (method != NULL, FALSE);

  for (guint k = 0; k < PL_N_METHODS; k++)
    if (g_strcmp0 (name, method_info[k].name) == 0)
      {
        *method = k;
        return TRUE;
      }

  for (guint k = 0; k < PL_N_METHODS; k++)
    g_string_append_printf (names, k ? ", %s" : "%s", method_info[k].name);
  g_set_error (error, PL_SPEC_ERROR, PL_SPEC_ERROR_UNKNOWN_NAME,
               _("method “%s”: choose one of %s"), name ? name : "", names->str);
  return FALSE;
}

void
pl_schedule_config_init (PlScheduleConfig *config)
{
  static const double targets[] = { 0.5, 0.8, 0.9, 0.95, 0.97, 0.99 };
  static const double lambdas[] = { 0.3, 1.0, 3.0, 10.0 };
  static const PlScoreOptions score_options = PL_SCORE_OPTIONS_INIT;

  g_return_if_fail (config != NULL);

  memset (config, 0, sizeof *config);
  config->score = PL_SCORE_MAGNITUDE;
  config->score_options = score_options;
  pl_prune_spec_init (&config->spec, PL_SCOPE_GLOBAL, FALSE, 0.0);
  pl_train_config_init (&config->train);
  config->train.lr = 0.01;
  config->fine_tune_epochs = 1;
  memcpy (config->targets, targets, sizeof targets);
  config->n_targets = G_N_ELEMENTS (targets);

  config->rounds = 5;
  config->round_epochs = PL_ROUND_EPOCHS_DENSE;
  config->rewind = PL_REWIND_NONE;
  config->rewind_epoch = 1;
  config->dense_epochs = 5;
  config->dense_lr = 0.1;

  config->gradual_epochs = 3;
  config->initial_sparsity = 0.0;
  config->start_step = 0;
  config->delta_steps = 50;
  config->ramp = 0.7;

  config->budget = 0.01;
  config->step = 0.01;
  config->max_sparsity = 0.99;

  config->l1 = 1e-3;
  config->l1_epochs = 2;

  pl_l0_config_init (&config->l0);
  memcpy (config->l0_lambdas, lambdas, sizeof lambdas);
  config->n_l0_lambdas = G_N_ELEMENTS (lambdas);

  config->temperature = 4.0;
  config->alpha = 0.5;

  config->dst_epochs = 5;
  config->drop_fraction = 0.3;

  config->init_rounds = 100;
}

/* ---- the schedules' formulas ------------------------------------------------------------- */

double
pl_cubic_sparsity (double  s_initial,
                   double  s_final,
                   guint64 t0,
                   guint64 n,
                   guint64 delta_t,
                   guint64 t)
{
  double f;
  guint64 k;

  if (t < t0)
    return s_initial;
  if (n == 0 || delta_t == 0)
    return s_final;
  k = (t - t0) / delta_t;
  if (k >= n)
    return s_final;
  f = 1.0 - (double) k / (double) n;

  return s_final + (s_initial - s_final) * f * f * f;
}

double
pl_iterative_sparsity (double s_final,
                       guint  rounds,
                       guint  round)
{
  g_return_val_if_fail (rounds >= 1, s_final);

  if (round >= rounds)
    return s_final;
  /* 1 − (1 − s_final)^(round/rounds): the sweep's spacing with rounds + 1 points */
  return pl_sweep_target (s_final, rounds + 1, round);
}

void
pl_rewind_weights (PlMlp       *model,
                   const float *stored)
{
  g_return_if_fail (model != NULL && stored != NULL);

  /* masks are 1 on biases, so this keeps every bias's stored value too */
  for (gsize k = 0; k < model->n_params; k++)
    model->params[k] = model->masks[k] != 0.0f ? stored[k] : 0.0f;
  pl_mlp_apply_masks (model);
}

int
pl_adaptive_bisect (guint             n_levels,
                    double            floor,
                    PlAccuracyAtFunc  accuracy_at,
                    gpointer          user_data,
                    GError          **error)
{
  guint lo = 0, hi;
  double acc;

  g_return_val_if_fail (n_levels >= 1 && accuracy_at != NULL, -1);

  hi = n_levels - 1;
  if (hi == 0)
    return 0;
  if (!accuracy_at (hi, &acc, user_data, error))
    return -1;
  if (acc >= floor)
    return (int) hi;

  /* invariant: lo is within the floor (level 0, the dense model, by definition), hi is not */
  while (hi - lo > 1)
    {
      guint mid = lo + (hi - lo) / 2;

      if (!accuracy_at (mid, &acc, user_data, error))
        return -1;
      if (acc >= floor)
        lo = mid;
      else
        hi = mid;
    }

  return (int) lo;
}

/* ---- a run ------------------------------------------------------------------------------- */

struct _PlScheduleRun {
  const PlMlp             *model;      /* borrowed */
  const PlData            *data;       /* borrowed */
  PlMethod                 method;
  const PlScheduleConfig  *config;     /* borrowed */
  guint64                  seed;
  GArray                  *points;     /* borrowed */
  PlScheduleProgressFunc   progress;
  gpointer                 user_data;
  GCancellable            *cancellable;
  gint64                   t0;
  guint                    n_trainings;
  char                     stage[160];
  /* iterative: capture of the epoch-e weights */
  float                   *capture;    /* borrowed */
  guint                    capture_epoch;
  PlMlp                   *capture_model;  /* borrowed */
  const PlMlp             *training;   /* borrowed: the model train() is training, or NULL */
};
typedef PlScheduleRun Run;

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

  if (run->progress != NULL)
    {
      PlScheduleProgress p = { run->method, run->seed, run->stage, NULL, NULL, NULL };
      run->progress (&p, run->user_data);
    }
}

static void
train_progress_cb (const PlTrainProgress *tp,
                   gpointer               user_data)
{
  Run *run = user_data;

  if (run->capture != NULL && tp->epoch_done && tp->record->epoch == run->capture_epoch)
    memcpy (run->capture, run->capture_model->params,
            sizeof (float) * run->capture_model->n_params);

  if (run->progress != NULL)
    {
      PlScheduleProgress p = { run->method, run->seed, run->stage, tp, NULL, run->training };
      run->progress (&p, run->user_data);
    }
}

/* Evaluates @m into @pt (validation and test, sparsities). */
static void
measure (Run             *run,
         const PlMlp     *m,
         guint            level,
         double           param,
         PlSchedulePoint *pt)
{
  g_autoptr(PlEvaluation) test = pl_evaluate (m, run->data->test, NULL);
  PlMetrics metrics;

  memset (pt, 0, sizeof *pt);
  pt->method = run->method;
  pt->seed = run->seed;
  pt->level = level;
  pt->param = param;
  pl_metrics_compute (&metrics, m, NULL, NULL, NULL);
  pt->sparsity = metrics.total.parameter_sparsity;
  pt->structural_sparsity = metrics.total.structural_sparsity;
  for (guint i = 0; i < m->n_layers; i++)
    pt->layer_sparsity[i] = metrics.layers[i].parameter_sparsity;
  pt->val_accuracy = pt->val_loss = NAN;
  if (run->data->val != NULL && run->data->val->n > 0)
    {
      g_autoptr(PlEvaluation) val = pl_evaluate (m, run->data->val, NULL);

      pt->val_accuracy = val->accuracy;
      pt->val_loss = val->loss;
    }
  pt->test_accuracy = test != NULL ? test->accuracy : NAN;
  pt->test_loss = test != NULL ? test->loss : NAN;
  pt->seconds = (g_get_monotonic_time () - run->t0) / 1e6;
}

static void
add_point (Run                   *run,
           const PlSchedulePoint *pt)
{
  g_array_append_val (run->points, *pt);
  if (run->progress != NULL)
    {
      PlScheduleProgress p = { run->method, run->seed, run->stage, NULL, pt, NULL };
      run->progress (&p, run->user_data);
    }
}

static void
add_start_point (Run         *run,
                 const PlMlp *m)
{
  PlSchedulePoint pt;

  measure (run, m, 0, NAN, &pt);
  add_point (run, &pt);
}

/* Prunes @m further with @kind: one value (global, or every layer) or one per layer. */
static gboolean
prune_to (Run           *run,
          PlMlp         *m,
          PlScoreKind    kind,
          const double  *values,
          guint          n_values,
          GError       **error)
{
  PlScoreOptions options = run->config->score_options;
  PlPruneSpec spec = run->config->spec;
  g_autoptr(PlScores) scores = NULL;

  options.seed = run->seed;
  scores = pl_scores_compute (m, kind, run->data->train, &options, error);
  if (scores == NULL)
    return FALSE;

  spec.by_threshold = FALSE;
  if (n_values > 1)
    spec.scope = PL_SCOPE_LAYER;
  spec.n_values = n_values;
  for (guint i = 0; i < n_values; i++)
    spec.values[i] = CLAMP (values[i], 0.0, 1.0);

  return pl_prune_apply (m, scores, &spec, error);
}

static gboolean
prune_one (Run          *run,
           PlMlp        *m,
           PlScoreKind   kind,
           double        value,
           GError      **error)
{
  return prune_to (run, m, kind, &value, 1, error);
}

typedef struct {
  double           lr;
  double           l1;
  const float     *teacher;      /* soft targets of the training set, or NULL */
  PlTrainStepHook  hook;
  gpointer         hook_data;
  PlTrainer      **trainer;      /* NULL, or set to the trainer (borrowed) before it runs */
} TrainExtras;

/* Trains @m for @epochs (masked: pruned weights stay 0). */
static gboolean
train (Run                *run,
       PlMlp              *m,
       guint               epochs,
       const TrainExtras  *extras,
       GError            **error)
{
  g_autoptr(PlTrainer) trainer = NULL;
  PlTrainConfig c = run->config->train;
  gboolean ok;

  if (epochs == 0)
    return TRUE;

  c.epochs = epochs;
  c.lr = extras->lr;
  c.l1 = extras->l1;
  c.seed = run->seed * 1000003u + ++run->n_trainings;
  trainer = pl_trainer_new (m, &c);
  if (extras->teacher != NULL)
    pl_trainer_set_distillation (trainer, extras->teacher, run->data->train->n,
                                 run->config->temperature, run->config->alpha);
  if (extras->hook != NULL)
    pl_trainer_set_step_hook (trainer, extras->hook, extras->hook_data);
  if (extras->trainer != NULL)
    *extras->trainer = trainer;

  run->training = m;
  ok = pl_trainer_run (trainer, run->data->train, run->data->val, train_progress_cb, run,
                       run->cancellable, error);
  run->training = NULL;
  if (extras->trainer != NULL)
    *extras->trainer = NULL;

  return ok;
}

static void
keep_last (PlMlp       **last,
           const PlMlp  *m)
{
  if (last == NULL)
    return;
  g_clear_pointer (last, pl_mlp_free);
  *last = pl_mlp_copy (m);
}

/* ---- one-shot and distillation ----------------------------------------------------------- */

static gboolean
run_oneshot (Run     *run,
             gboolean distill,
             PlMlp  **last,
             GError **error)
{
  const PlScheduleConfig *c = run->config;
  g_autofree float *teacher = NULL;
  TrainExtras extras = { .lr = c->train.lr };

  set_stage (run, "%s", _("dense model"));
  add_start_point (run, run->model);

  if (distill)
    {
      teacher = pl_distill_soft_targets (run->model, run->data->train, c->temperature, error);
      if (teacher == NULL)
        return FALSE;
      extras.teacher = teacher;
    }

  for (guint k = 0; k < c->n_targets; k++)
    {
      g_autoptr(PlMlp) m = pl_mlp_copy (run->model);
      PlSchedulePoint pt;

      set_stage (run, _("sparsity %.4g: prune and fine-tune"), c->targets[k]);
      if (!prune_one (run, m, c->score, c->targets[k], error)
          || !train (run, m, c->fine_tune_epochs, &extras, error))
        return FALSE;
      measure (run, m, k + 1, c->targets[k], &pt);
      add_point (run, &pt);
      keep_last (last, m);
    }

  return TRUE;
}

/* ---- iterative, with rewinding ----------------------------------------------------------- */

guint
pl_schedule_round_epochs (const PlScheduleConfig *config)
{
  guint e;

  g_return_val_if_fail (config != NULL, 0);

  if (config->round_epochs != PL_ROUND_EPOCHS_DENSE)
    return config->round_epochs;
  if (config->rewind == PL_REWIND_NONE)
    return 2;
  e = config->rewind == PL_REWIND_INIT ? 0 : config->rewind_epoch;

  return config->dense_epochs > e ? config->dense_epochs - e : 0;
}

static gboolean
run_iterative (Run     *run,
               PlMlp  **last,
               GError **error)
{
  const PlScheduleConfig *c = run->config;
  g_autoptr(PlMlp) m = NULL;
  g_autofree float *stored = NULL;
  gboolean rewinding = c->rewind != PL_REWIND_NONE;
  double s_final = 0.0;
  TrainExtras extras = { .lr = rewinding ? c->dense_lr : c->train.lr };

  for (guint k = 0; k < c->n_targets; k++)
    s_final = MAX (s_final, c->targets[k]);

  if (rewinding && c->rewind_params == NULL)
    {
      /* the lottery ticket: a dense network trained from a seeded initialisation, whose
       * initial or epoch-e weights are kept */
      guint e = c->rewind == PL_REWIND_INIT ? 0 : c->rewind_epoch;
      TrainExtras dense = { .lr = c->dense_lr };
      gboolean ok;

      m = pl_mlp_new (run->model->sizes, run->model->n_layers, run->model->activation);
      pl_mlp_init (m, run->seed);
      stored = g_memdup2 (m->params, sizeof (float) * m->n_params);
      run->capture = e > 0 ? stored : NULL;
      run->capture_epoch = e;
      run->capture_model = m;
      set_stage (run, _("training the dense network (%u epochs, keeping epoch %u)"),
                 c->dense_epochs, e);
      ok = train (run, m, c->dense_epochs, &dense, error);
      run->capture = NULL;
      if (!ok)
        return FALSE;
    }
  else
    {
      m = pl_mlp_copy (run->model);
      if (rewinding)
        stored = g_memdup2 (c->rewind_params, sizeof (float) * m->n_params);
    }

  set_stage (run, "%s", _("dense model"));
  add_start_point (run, m);

  for (guint k = 1; k <= c->rounds; k++)
    {
      double target = pl_iterative_sparsity (s_final, c->rounds, k);
      PlSchedulePoint pt;

      set_stage (run, _("round %u/%u: sparsity %.4g"), k, c->rounds, target);
      if (!prune_one (run, m, c->score, target, error))
        return FALSE;
      if (rewinding)
        pl_rewind_weights (m, stored);
      if (!train (run, m, pl_schedule_round_epochs (c), &extras, error))
        return FALSE;
      measure (run, m, k, target, &pt);
      add_point (run, &pt);
      keep_last (last, m);
    }

  return TRUE;
}

/* ---- gradual (Zhu & Gupta) --------------------------------------------------------------- */

typedef struct {
  Run     *run;
  double   s_initial, s_final;
  guint64  t0, n, delta_t;
  double   current;
  GError  *error;
} Gradual;

static gboolean
gradual_hook (PlMlp    *model,
              guint64   step,
              gpointer  user_data)
{
  Gradual *g = user_data;
  double s;

  if (step < g->t0 || (step - g->t0) % g->delta_t != 0 || (step - g->t0) / g->delta_t > g->n
      || g->error != NULL)
    return FALSE;

  s = pl_cubic_sparsity (g->s_initial, g->s_final, g->t0, g->n, g->delta_t, step);
  if (s <= g->current)
    return FALSE;
  if (!prune_one (g->run, model, g->run->config->score, s, &g->error))
    return FALSE;
  g->current = s;

  return TRUE;
}

static gboolean
run_gradual (Run     *run,
             PlMlp  **last,
             GError **error)
{
  const PlScheduleConfig *c = run->config;
  guint64 steps_per_epoch = (run->data->train->n + c->train.batch_size - 1) / c->train.batch_size;
  guint64 total = steps_per_epoch * c->gradual_epochs;

  set_stage (run, "%s", _("dense model"));
  add_start_point (run, run->model);

  if (c->start_step >= total)
    {
      g_set_error (error, PL_SPEC_ERROR, PL_SPEC_ERROR_INVALID,
                   _("gradual pruning starts at step %llu but the %u epochs have only %llu steps"),
                   (unsigned long long) c->start_step, c->gradual_epochs,
                   (unsigned long long) total);
      return FALSE;
    }

  for (guint k = 0; k < c->n_targets; k++)
    {
      g_autoptr(PlMlp) m = pl_mlp_copy (run->model);
      Gradual g = {
        .run = run, .s_initial = c->initial_sparsity, .s_final = c->targets[k],
        .t0 = c->start_step, .delta_t = c->delta_steps,
        .n = (guint64) floor (c->ramp * (double) (total - c->start_step) / c->delta_steps),
      };
      TrainExtras extras = { .lr = c->train.lr, .hook = gradual_hook, .hook_data = &g };
      PlSchedulePoint pt;
      gboolean ok;

      g.current = (double) pl_mlp_n_pruned (m) / pl_mlp_n_weights (m);
      set_stage (run, _("sparsity %.4g: %llu mask updates every %llu steps"),
                 g.s_final, (unsigned long long) (g.n + 1), (unsigned long long) g.delta_t);
      /* the update at t = t₀ = 0 comes before the first step */
      if (g.t0 == 0)
        {
          double s = pl_cubic_sparsity (g.s_initial, g.s_final, 0, g.n, g.delta_t, 0);

          if (s > g.current && !prune_one (run, m, c->score, s, error))
            return FALSE;
          g.current = MAX (g.current, s);
        }

      ok = train (run, m, c->gradual_epochs, &extras, error);
      if (g.error != NULL)
        {
          g_clear_error (error);
          g_propagate_error (error, g.error);
          return FALSE;
        }
      if (!ok)
        return FALSE;

      measure (run, m, k + 1, c->targets[k], &pt);
      add_point (run, &pt);
      keep_last (last, m);
    }

  return TRUE;
}

/* ---- adaptive ---------------------------------------------------------------------------- */

typedef struct {
  Run          *run;
  GArray       *probes;          /* PlSchedulePoint */
  double        floor;           /* validation accuracy to keep */
  PlMlp        *best;            /* owned: the model of the highest level within the floor */
  guint         best_level;
  /* per layer: the per-layer sparsity of each allowance level */
  gboolean      per_layer;
  guint         n_layers;
  double       *layer_values;    /* (n_levels, n_layers) */
  guint         n_levels;
} Adaptive;

static gboolean
adaptive_probe (guint     level,
                double   *accuracy,
                gpointer  user_data,
                GError  **error)
{
  Adaptive *a = user_data;
  Run *run = a->run;
  const PlScheduleConfig *c = run->config;
  g_autoptr(PlMlp) m = pl_mlp_copy (run->model);
  TrainExtras extras = { .lr = c->train.lr };
  PlSchedulePoint pt;
  double param;
  gboolean ok;

  if (g_cancellable_set_error_if_cancelled (run->cancellable, error))
    return FALSE;

  if (a->per_layer)
    {
      param = (double) level / (a->n_levels - 1);
      set_stage (run, _("per layer, %.0f%% of the way to each layer's limit"), 100 * param);
      ok = prune_to (run, m, c->score, a->layer_values + (gsize) level * a->n_layers,
                     a->n_layers, error);
    }
  else
    {
      param = MIN (level * c->step, c->max_sparsity);
      set_stage (run, _("probing sparsity %.4g"), param);
      ok = prune_one (run, m, c->score, param, error);
    }
  if (!ok || !train (run, m, c->fine_tune_epochs, &extras, error))
    return FALSE;

  measure (run, m, level, param, &pt);
  g_array_append_val (a->probes, pt);
  if (pt.val_accuracy >= a->floor && (a->best == NULL || level > a->best_level))
    {
      g_clear_pointer (&a->best, pl_mlp_free);
      a->best = g_steal_pointer (&m);
      a->best_level = level;
    }
  if (run->progress != NULL)
    {
      PlScheduleProgress p = { run->method, run->seed, run->stage, NULL, &pt, NULL };
      run->progress (&p, run->user_data);
    }
  *accuracy = pt.val_accuracy;

  return TRUE;
}

static int
compare_level (gconstpointer a,
               gconstpointer b)
{
  const PlSchedulePoint *pa = a, *pb = b;

  return (pa->level > pb->level) - (pa->level < pb->level);
}

/* Per-layer sparsities for each level k of n: layer i's largest tolerable sparsity s_i is the
 * highest sensitivity level up to which its validation accuracy alone stays within the budget;
 * level k keeps the share (1 − s_i)^{k/(n−1)} of its weights, from dense (k = 0) to s_i. */
static gboolean
adaptive_layer_values (Adaptive  *a,
                       double     dense_val,
                       GError   **error)
{
  Run *run = a->run;
  const PlScheduleConfig *c = run->config;
  guint n_grid = (guint) floor (c->max_sparsity / c->step + 1e-9) + 1;
  g_autofree double *grid = g_new (double, n_grid);
  g_autoptr(PlSensitivity) sens = NULL;
  g_autoptr(PlScores) scores = NULL;
  PlScoreOptions options = c->score_options;

  for (guint j = 0; j < n_grid; j++)
    grid[j] = MIN (j * c->step, c->max_sparsity);

  options.seed = run->seed;
  scores = pl_scores_compute (run->model, c->score, run->data->train, &options, error);
  if (scores == NULL)
    return FALSE;
  set_stage (run, "%s", _("per-layer sensitivity on validation data"));
  sens = pl_sensitivity_new (run->model->n_layers, grid, n_grid);
  if (!pl_sensitivity_run (sens, run->model, scores, &c->spec, run->data->val, NULL, NULL,
                           run->cancellable, error))
    return FALSE;

  a->n_layers = run->model->n_layers;
  a->layer_values = g_new0 (double, (gsize) a->n_levels * a->n_layers);
  for (guint i = 0; i < a->n_layers; i++)
    {
      double s_max = 0.0;

      if (sens->pruned[i] && !(c->spec.exclude_output && i + 1 == a->n_layers))
        for (guint j = 0; j < n_grid; j++)
          {
            if (sens->accuracy[(gsize) i * n_grid + j] < dense_val - c->budget)
              break;
            s_max = grid[j];
          }
      for (guint k = 1; k < a->n_levels; k++)
        a->layer_values[(gsize) k * a->n_layers + i] = pl_sweep_target (s_max, a->n_levels, k);
    }

  return TRUE;
}

static gboolean
run_adaptive (Run     *run,
              PlMlp  **last,
              GError **error)
{
  const PlScheduleConfig *c = run->config;
  g_autoptr(GArray) probes = g_array_new (FALSE, FALSE, sizeof (PlSchedulePoint));
  Adaptive a = { .run = run, .probes = probes, .per_layer = c->per_layer };
  PlSchedulePoint start;
  guint start_index;
  int found;

  if (run->data->val == NULL || run->data->val->n == 0)
    {
      g_set_error (error, PL_SPEC_ERROR, PL_SPEC_ERROR_INVALID,
                   _("the adaptive search chooses on validation data: give validation samples (--val-size)"));
      return FALSE;
    }

  set_stage (run, "%s", _("dense model"));
  measure (run, run->model, 0, NAN, &start);
  start_index = run->points->len;
  add_point (run, &start);
  a.floor = start.val_accuracy - c->budget;

  /* per layer: levels k = 0…20 towards each layer's limit; else sparsities j·step up to max */
  a.n_levels = c->per_layer ? 21 : (guint) floor (c->max_sparsity / c->step + 1e-9) + 1;
  if (c->per_layer && !adaptive_layer_values (&a, start.val_accuracy, error))
    found = -1;
  else
    found = pl_adaptive_bisect (a.n_levels, a.floor, adaptive_probe, &a, error);

  /* the probes in order of level, the finished ones also when the search stopped */
  g_array_sort (probes, compare_level);
  for (guint k = 0; k < probes->len; k++)
    {
      PlSchedulePoint *pt = &g_array_index (probes, PlSchedulePoint, k);

      pt->chosen = found > 0 && pt->level == (guint) found;
      g_array_append_val (run->points, *pt);
    }
  if (found == 0)
    g_array_index (run->points, PlSchedulePoint, start_index).chosen = TRUE;

  if (found >= 0 && last != NULL)
    {
      g_clear_pointer (last, pl_mlp_free);
      *last = found > 0 && a.best != NULL ? g_steal_pointer (&a.best) : pl_mlp_copy (run->model);
    }
  g_clear_pointer (&a.best, pl_mlp_free);
  g_free (a.layer_values);

  return found >= 0;
}

/* ---- L1 and L0 --------------------------------------------------------------------------- */

static gboolean
run_l1 (Run     *run,
        PlMlp  **last,
        GError **error)
{
  const PlScheduleConfig *c = run->config;
  g_autoptr(PlMlp) trained = pl_mlp_copy (run->model);
  TrainExtras with_l1 = { .lr = c->train.lr, .l1 = c->l1 };
  TrainExtras plain = { .lr = c->train.lr };

  set_stage (run, "%s", _("dense model"));
  add_start_point (run, run->model);

  set_stage (run, _("training with the L1 penalty %g for %u epochs"), c->l1, c->l1_epochs);
  if (!train (run, trained, c->l1_epochs, &with_l1, error))
    return FALSE;

  for (guint k = 0; k < c->n_targets; k++)
    {
      g_autoptr(PlMlp) m = pl_mlp_copy (trained);
      PlSchedulePoint pt;

      set_stage (run, _("sparsity %.4g: prune the smallest weights and fine-tune"), c->targets[k]);
      if (!prune_one (run, m, PL_SCORE_MAGNITUDE, c->targets[k], error)
          || !train (run, m, c->fine_tune_epochs, &plain, error))
        return FALSE;
      measure (run, m, k + 1, c->targets[k], &pt);
      add_point (run, &pt);
      keep_last (last, m);
    }

  return TRUE;
}

static gboolean
run_l0 (Run     *run,
        PlMlp  **last,
        GError **error)
{
  const PlScheduleConfig *c = run->config;
  TrainExtras plain = { .lr = c->train.lr };

  set_stage (run, "%s", _("dense model"));
  add_start_point (run, run->model);

  for (guint k = 0; k < c->n_l0_lambdas; k++)
    {
      g_autoptr(PlMlp) m = pl_mlp_copy (run->model);
      g_autoptr(PlL0) l0 = NULL;
      PlL0Config l0c = c->l0;
      PlSchedulePoint pt;

      l0c.lambda = c->l0_lambdas[k];
      l0c.seed = run->seed * 1000003u + k + 1;
      l0c.threads = c->train.threads;
      l0c.batch_size = c->train.batch_size;
      l0 = pl_l0_new (m, &l0c);

      set_stage (run, _("λ %g: training hard-concrete gates for %u epochs"), l0c.lambda, l0c.epochs);
      if (!pl_l0_train (l0, m, run->data->train, run->data->val, train_progress_cb, run,
                        run->cancellable, error))
        return FALSE;
      pl_l0_freeze (l0, m);
      set_stage (run, _("λ %g: gates frozen, sparsity %.4g; fine-tuning"), l0c.lambda,
                 (double) pl_mlp_n_pruned (m) / pl_mlp_n_weights (m));
      if (!train (run, m, c->fine_tune_epochs, &plain, error))
        return FALSE;
      measure (run, m, k + 1, l0c.lambda, &pt);
      add_point (run, &pt);
      keep_last (last, m);
    }

  return TRUE;
}

/* ---- entry point ------------------------------------------------------------------------- */
/* ---- pruning at initialisation ----------------------------------------------------------- */

static gboolean
run_at_init (Run     *run,
             PlMlp  **last,
             GError **error)
{
  const PlScheduleConfig *c = run->config;
  g_autoptr(PlMlp) untrained = pl_mlp_new (run->model->sizes, run->model->n_layers,
                                           run->model->activation);
  TrainExtras extras = { .lr = c->dense_lr };
  gboolean iterative = c->score == PL_SCORE_SYNFLOW;

  /* the untrained network, dense: the weights the model started from, or a seeded
   * initialisation */
  if (c->rewind_params != NULL)
    memcpy (untrained->params, c->rewind_params, sizeof (float) * untrained->n_params);
  else
    pl_mlp_init (untrained, run->seed);

  {
    g_autoptr(PlMlp) dense = pl_mlp_copy (untrained);

    set_stage (run, _("training the dense network (%u epochs)"), c->dense_epochs);
    if (!train (run, dense, c->dense_epochs, &extras, error))
      return FALSE;
    set_stage (run, "%s", _("dense model"));
    add_start_point (run, dense);
  }

  for (guint k = 0; k < c->n_targets; k++)
    {
      g_autoptr(PlMlp) m = pl_mlp_copy (untrained);
      guint rounds = iterative ? c->init_rounds : 1;
      PlSchedulePoint pt;

      for (guint r = 1; r <= rounds; r++)
        {
          double target = pl_iterative_sparsity (c->targets[k], rounds, r);

          if (g_cancellable_set_error_if_cancelled (run->cancellable, error))
            return FALSE;
          if (rounds > 1 && (r == 1 || r % 10 == 0))
            set_stage (run, _("sparsity %.4g: pruning at initialisation, round %u/%u"),
                       c->targets[k], r, rounds);
          else if (rounds == 1)
            set_stage (run, _("sparsity %.4g: pruning at initialisation"), c->targets[k]);
          if (!prune_one (run, m, c->score, target, error))
            return FALSE;
        }
      set_stage (run, _("sparsity %.4g: training the sparse network"), c->targets[k]);
      if (!train (run, m, c->dense_epochs, &extras, error))
        return FALSE;
      measure (run, m, k + 1, c->targets[k], &pt);
      add_point (run, &pt);
      keep_last (last, m);
    }

  return TRUE;
}

static gboolean
check_config (PlMethod                 method,
              const PlScheduleConfig  *c,
              GError                 **error)
{
  const char *name = method_info[method].name;
  gboolean uses_targets = method != PL_METHOD_ADAPTIVE && method != PL_METHOD_L0;

  if (c->train.batch_size == 0 || !(c->train.lr > 0.0) || c->train.threads == 0)
    goto invalid;
  if (uses_targets)
    {
      if (c->n_targets == 0 || c->n_targets > PL_SCHEDULE_MAX_LEVELS)
        goto invalid;
      for (guint k = 0; k < c->n_targets; k++)
        if (!(c->targets[k] >= 0.0 && c->targets[k] <= 1.0))
          goto invalid;
    }
  switch (method)
    {
    case PL_METHOD_ONESHOT:
      break;
    case PL_METHOD_AT_INIT:
      if (c->init_rounds == 0 || !(c->dense_lr > 0.0) || c->dense_epochs == 0)
        {
          g_set_error (error, PL_SPEC_ERROR, PL_SPEC_ERROR_INVALID,
                       _("at-init: needs at least one training epoch and one round, and a "
                         "learning rate > 0"));
          return FALSE;
        }
      break;
    case PL_METHOD_DISTILL:
      if (c->fine_tune_epochs == 0 || !(c->temperature > 0.0)
          || !(c->alpha >= 0.0 && c->alpha <= 1.0))
        {
          g_set_error (error, PL_SPEC_ERROR, PL_SPEC_ERROR_INVALID,
                       _("distill: needs at least one fine-tuning epoch, a temperature > 0 and α in [0, 1]"));
          return FALSE;
        }
      break;
    case PL_METHOD_ITERATIVE:
      if (c->rounds == 0 || (c->rewind != PL_REWIND_NONE && !(c->dense_lr > 0.0)))
        goto invalid;
      if (c->rewind == PL_REWIND_EPOCH && c->rewind_params == NULL
          && c->rewind_epoch > c->dense_epochs)
        {
          g_set_error (error, PL_SPEC_ERROR, PL_SPEC_ERROR_INVALID,
                       _("iterative: cannot rewind to epoch %u of a dense training of %u epochs"),
                       c->rewind_epoch, c->dense_epochs);
          return FALSE;
        }
      break;
    case PL_METHOD_GRADUAL:
      if (c->gradual_epochs == 0 || c->delta_steps == 0 || !(c->ramp > 0.0 && c->ramp <= 1.0)
          || !(c->initial_sparsity >= 0.0 && c->initial_sparsity < 1.0))
        goto invalid;
      break;
    case PL_METHOD_ADAPTIVE:
      if (!(c->budget >= 0.0 && c->budget <= 1.0) || !(c->step > 0.0 && c->step <= 1.0)
          || !(c->max_sparsity > 0.0 && c->max_sparsity <= 1.0))
        goto invalid;
      break;
    case PL_METHOD_L1:
      if (!(c->l1 >= 0.0))
        goto invalid;
      break;
    case PL_METHOD_MOVEMENT:
      if (c->gradual_epochs == 0 || c->delta_steps == 0 || !(c->ramp > 0.0 && c->ramp <= 1.0)
          || !(c->initial_sparsity >= 0.0 && c->initial_sparsity < 1.0))
        goto invalid;
      break;
    case PL_METHOD_SET:
    case PL_METHOD_RIGL:
      if (c->dst_epochs == 0 || c->delta_steps == 0 || !(c->ramp > 0.0 && c->ramp <= 1.0)
          || !(c->drop_fraction >= 0.0 && c->drop_fraction <= 1.0) || !(c->dense_lr > 0.0))
        goto invalid;
      for (guint k = 0; k < c->n_targets; k++)
        if (c->targets[k] >= 1.0)
          goto invalid;
      break;
    case PL_METHOD_L0:
      if (c->n_l0_lambdas == 0 || c->n_l0_lambdas > PL_SCHEDULE_MAX_LEVELS || c->l0.epochs == 0
          || !(c->l0.lr > 0.0 && c->l0.lr_log_alpha > 0.0)
          || !(c->l0.init_drop > 0.0 && c->l0.init_drop < 1.0))
        goto invalid;
      for (guint k = 0; k < c->n_l0_lambdas; k++)
        if (!(c->l0_lambdas[k] >= 0.0))
          goto invalid;
      break;
    case PL_N_METHODS:
    default:
      g_assert_not_reached ();
    }

  return TRUE;

invalid:
  g_set_error (error, PL_SPEC_ERROR, PL_SPEC_ERROR_INVALID,
               _("%s: a setting is out of range (sparsities in [0, 1], counts and rates > 0)"), name);
  return FALSE;
}

gboolean
pl_schedule_run (const PlMlp             *model,
                 const PlData            *data,
                 PlMethod                 method,
                 const PlScheduleConfig  *config,
                 guint64                  seed,
                 GArray                  *points,
                 PlMlp                  **last_model,
                 PlScheduleProgressFunc   progress,
                 gpointer                 user_data,
                 GCancellable            *cancellable,
                 GError                 **error)
{
  Run run = {
    .model = model, .data = data, .method = method, .config = config, .seed = seed,
    .points = points, .progress = progress, .user_data = user_data, .cancellable = cancellable,
    .t0 = g_get_monotonic_time (),
  };
  g_autoptr(PlMlp) last = NULL;
  gboolean ok;

  g_return_val_if_fail (model != NULL && data != NULL && config != NULL && points != NULL, FALSE);
  g_return_val_if_fail (method < PL_N_METHODS, FALSE);
  g_return_val_if_fail (g_array_get_element_size (points) == sizeof (PlSchedulePoint), FALSE);

  if (!check_config (method, config, error))
    return FALSE;
  if (data->train->n_features != model->sizes[0]
      || data->train->n_classes > model->sizes[model->n_layers])
    {
      g_set_error (error, PL_TRAIN_ERROR, PL_TRAIN_ERROR_MISMATCH,
                   _("the model takes %u inputs and has %u classes; the data has %u features and %u classes"),
                   model->sizes[0], model->sizes[model->n_layers], data->train->n_features,
                   data->train->n_classes);
      return FALSE;
    }

  switch (method)
    {
    case PL_METHOD_ONESHOT:
      ok = run_oneshot (&run, FALSE, &last, error);
      break;
    case PL_METHOD_DISTILL:
      ok = run_oneshot (&run, TRUE, &last, error);
      break;
    case PL_METHOD_ITERATIVE:
      ok = run_iterative (&run, &last, error);
      break;
    case PL_METHOD_GRADUAL:
      ok = run_gradual (&run, &last, error);
      break;
    case PL_METHOD_ADAPTIVE:
      ok = run_adaptive (&run, &last, error);
      break;
    case PL_METHOD_L1:
      ok = run_l1 (&run, &last, error);
      break;
    case PL_METHOD_L0:
      ok = run_l0 (&run, &last, error);
      break;
    case PL_METHOD_MOVEMENT:
      ok = _pl_schedule_run_movement (&run, &last, error);
      break;
    case PL_METHOD_SET:
    case PL_METHOD_RIGL:
      ok = _pl_schedule_run_dst (&run, &last, error);
      break;
    case PL_METHOD_AT_INIT:
      ok = run_at_init (&run, &last, error);
      break;
    case PL_N_METHODS:
    default:
      g_assert_not_reached ();
    }

  if (ok && last_model != NULL)
    *last_model = g_steal_pointer (&last);

  return ok;
}

/* ---- for the procedures of pl-schedule-dst.c ------------------------------------------- */

const PlMlp *
_pl_schedule_model (PlScheduleRun *run)
{
  return run->model;
}

const PlData *
_pl_schedule_data (PlScheduleRun *run)
{
  return run->data;
}

const PlScheduleConfig *
_pl_schedule_config (PlScheduleRun *run)
{
  return run->config;
}

PlMethod
_pl_schedule_method (PlScheduleRun *run)
{
  return run->method;
}

guint64
_pl_schedule_seed (PlScheduleRun *run)
{
  return run->seed;
}

void
_pl_schedule_stage (PlScheduleRun *run,
                    const char    *text)
{
  set_stage (run, "%s", text);
}

void
_pl_schedule_start_point (PlScheduleRun *run,
                          const PlMlp   *m)
{
  add_start_point (run, m);
}

void
_pl_schedule_point (PlScheduleRun *run,
                    const PlMlp   *m,
                    guint          level,
                    double         param,
                    PlMlp        **last)
{
  PlSchedulePoint pt;

  measure (run, m, level, param, &pt);
  add_point (run, &pt);
  keep_last (last, m);
}

gboolean
_pl_schedule_train (PlScheduleRun    *run,
                    PlMlp            *m,
                    guint             epochs,
                    double            lr,
                    PlTrainStepHook   hook,
                    gpointer          hook_data,
                    PlTrainer       **trainer,
                    GError          **error)
{
  TrainExtras extras = {
    .lr = lr, .hook = hook, .hook_data = hook_data, .trainer = trainer,
  };

  return train (run, m, epochs, &extras, error);
}

gboolean
_pl_schedule_prune_with (PlScheduleRun   *run,
                         PlMlp           *m,
                         const PlScores  *scores,
                         double           sparsity,
                         GError         **error)
{
  PlPruneSpec spec = run->config->spec;

  spec.by_threshold = FALSE;
  spec.n_values = 1;
  spec.values[0] = CLAMP (sparsity, 0.0, 1.0);

  return pl_prune_apply (m, scores, &spec, error);
}

/* ---- over seeds -------------------------------------------------------------------------- */

static int
compare_method_level (gconstpointer a,
                      gconstpointer b)
{
  const PlSchedulePoint *pa = *(const PlSchedulePoint * const *) a;
  const PlSchedulePoint *pb = *(const PlSchedulePoint * const *) b;

  if (pa->method != pb->method)
    return (pa->method > pb->method) - (pa->method < pb->method);
  if (pa->level != pb->level)
    return (pa->level > pb->level) - (pa->level < pb->level);
  return (pa->seed > pb->seed) - (pa->seed < pb->seed);
}

GArray *
pl_schedule_summarise (const PlSchedulePoint *points,
                       guint                  n_points)
{
  GArray *out = g_array_new (FALSE, FALSE, sizeof (PlScheduleSummary));
  g_autofree const PlSchedulePoint **sorted = g_new (const PlSchedulePoint *, MAX (n_points, 1));

  g_return_val_if_fail (points != NULL || n_points == 0, out);

  for (guint k = 0; k < n_points; k++)
    sorted[k] = &points[k];
  qsort (sorted, n_points, sizeof *sorted, compare_method_level);

  for (guint a = 0; a < n_points;)
    {
      PlScheduleSummary s = {
        .method = sorted[a]->method, .level = sorted[a]->level, .param = sorted[a]->param,
        .test_accuracy_min = INFINITY, .test_accuracy_max = -INFINITY,
      };
      double acc2 = 0.0, loss2 = 0.0;
      guint b = a;

      for (; b < n_points && sorted[b]->method == s.method && sorted[b]->level == s.level; b++)
        {
          const PlSchedulePoint *p = sorted[b];

          s.n++;
          s.sparsity += p->sparsity;
          s.test_accuracy += p->test_accuracy;
          s.test_loss += p->test_loss;
          s.val_accuracy += p->val_accuracy;
          s.test_accuracy_min = MIN (s.test_accuracy_min, p->test_accuracy);
          s.test_accuracy_max = MAX (s.test_accuracy_max, p->test_accuracy);
        }
      s.sparsity /= s.n;
      s.test_accuracy /= s.n;
      s.test_loss /= s.n;
      s.val_accuracy /= s.n;
      for (guint k = a; k < b; k++)
        {
          double da = sorted[k]->test_accuracy - s.test_accuracy;
          double dl = sorted[k]->test_loss - s.test_loss;

          acc2 += da * da;
          loss2 += dl * dl;
        }
      s.test_accuracy_sd = s.n > 1 ? sqrt (acc2 / (s.n - 1)) : 0.0;
      s.test_loss_sd = s.n > 1 ? sqrt (loss2 / (s.n - 1)) : 0.0;
      g_array_append_val (out, s);
      a = b;
    }

  return out;
}
