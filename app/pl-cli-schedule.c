/* pl-cli-schedule.c — prunelab-cli schedule: pruning schedules compared, seed by seed */
#define G_LOG_DOMAIN "prunelab-cli"

#include "config.h"

#include <glib/gi18n.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "pl-cli-grid-private.h"
#include "pl-cli-plot-private.h"
#include "pl-cli-private.h"
#include "pl-conv-file.h"
#include "pl-conv-schedule.h"
#include "pl-conv-sweep.h"
#include "pl-error.h"
#include "pl-eval.h"
#include "pl-file.h"
#include "pl-safetensors.h"
#include "pl-schedule.h"

/* ---- schedule ---------------------------------------------------------------------------- */

typedef struct {
  gboolean tty;
  gint64   last_draw;
} Progress;

static void
on_schedule_progress (const PlScheduleProgress *p,
                      gpointer                  user_data)
{
  Progress *state = user_data;
  const char *name = pl_method_info (p->method)->name;

  if (state->tty)
    g_printerr ("\r\033[K");

  if (p->point != NULL)
    {
      const PlSchedulePoint *pt = p->point;

      g_printerr (_("%-9s seed %llu  sparsity %6.2f%%  val %6.2f%%  test %6.2f%%  loss %.4f%s  %.1f s\n"),
                  name, (unsigned long long) p->seed, 100 * pt->sparsity, 100 * pt->val_accuracy,
                  100 * pt->test_accuracy, pt->test_loss, pt->chosen ? _("  (chosen)") : "",
                  pt->seconds);
    }
  else if (p->train != NULL && p->train->epoch_done)
    {
      const PlEpochRecord *r = p->train->record;

      g_printerr (_("%-9s seed %llu  %s: epoch %u/%u  train loss %.4f  val %.2f%%  %.1f s\n"),
                  name, (unsigned long long) p->seed, p->stage, p->train->epoch, p->train->epochs, r->train_loss,
                  100 * r->val_accuracy, r->seconds);
    }
  else if (p->train != NULL)
    {
      gint64 now = g_get_monotonic_time ();

      if (state->tty && now - state->last_draw >= 100000)
        {
          state->last_draw = now;
          g_printerr (_("%-9s seed %llu  %s: epoch %u/%u  step %llu/%llu  loss %.4f"),
                      name, (unsigned long long) p->seed, p->stage, p->train->epoch,
                      p->train->epochs, (unsigned long long) p->train->step,
                      (unsigned long long) p->train->steps_total, p->train->batch_loss);
        }
    }
  else
    g_printerr (_("%-9s seed %llu  %s\n"), name, (unsigned long long) p->seed, p->stage);
}

/* A point as it goes into the result. (transfer full) */
static JsonNode *
point_json (const PlSchedulePoint *p,
            guint                  n_layers)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  const char *name = pl_method_info (p->method)->name;

  json_builder_begin_object (b);
  _pl_cli_add_string (b, "method", name);
  /* the curve's name, under the key sweep's points use, so that “plot curves” draws it */
  _pl_cli_add_string (b, "score", name);
  _pl_cli_add_int (b, "seed", (gint64) p->seed);
  _pl_cli_add_int (b, "level", p->level);
  _pl_cli_add_double (b, "param", p->param);
  _pl_cli_add_double (b, "sparsity", p->sparsity);
  _pl_cli_add_double (b, "structural_sparsity", p->structural_sparsity);
  _pl_cli_add_double (b, "test_accuracy", p->test_accuracy);
  _pl_cli_add_double (b, "test_loss", p->test_loss);
  _pl_cli_add_double (b, "val_accuracy", p->val_accuracy);
  _pl_cli_add_double (b, "val_loss", p->val_loss);
  if (p->method == PL_METHOD_ADAPTIVE)
    {
      _pl_cli_add_bool (b, "chosen", p->chosen);
    }
  json_builder_set_member_name (b, "layer_sparsity");
  json_builder_begin_array (b);
  for (guint i = 0; i < n_layers; i++)
    json_builder_add_double_value (b, p->layer_sparsity[i]);
  json_builder_end_array (b);
  _pl_cli_add_double (b, "seconds", p->seconds);
  json_builder_end_object (b);
  return _pl_cli_builder_node (b);
}

/* Columns a character takes on a terminal: 2 for CJK and other wide ones, 0 for combining marks */
static guint
display_width (gunichar c)
{
  if (g_unichar_iszerowidth (c))
    return 0;
  return g_unichar_iswide (c) ? 2 : 1;
}

/* Punctuation that must not begin a line (Chinese line-breaking rules: 避头点) */
static gboolean
is_closing (gunichar c)
{
  switch (g_unichar_break_type (c))
    {
    case G_UNICODE_BREAK_CLOSE_PUNCTUATION:
    case G_UNICODE_BREAK_CLOSE_PARENTHESIS:
    case G_UNICODE_BREAK_EXCLAMATION:
    case G_UNICODE_BREAK_INFIX_SEPARATOR:
    case G_UNICODE_BREAK_NON_STARTER:
      return TRUE;
    case G_UNICODE_BREAK_QUOTATION:
      return g_unichar_type (c) == G_UNICODE_FINAL_PUNCTUATION;  /* ” ’ */
    default:
      return FALSE;
    }
}

/* … nor end one (避尾点) */
static gboolean
is_opening (gunichar c)
{
  switch (g_unichar_break_type (c))
    {
    case G_UNICODE_BREAK_OPEN_PUNCTUATION:
      return TRUE;
    case G_UNICODE_BREAK_QUOTATION:
      return g_unichar_type (c) == G_UNICODE_INITIAL_PUNCTUATION;  /* “ ‘ */
    default:
      return FALSE;
    }
}

/* Appends text to w, indented, in lines of at most `width` display columns. A line breaks at a
 * space (dropped) or, with no space, next to a wide character such as a Chinese one, unless
 * closing punctuation would begin the line or opening punctuation end it. A run that cannot
 * break and is wider than a line stays whole. */
static void
append_wrapped (GString    *w,
                const char *text,
                guint       indent,
                guint       width)
{
  guint col = indent;
  gboolean space = FALSE;  /* a space came before the next unit */
  const char *p = text;

  g_string_append_printf (w, "%*s", (int) indent, "");
  while (*p != '\0')
    {
      const char *start = p;
      guint len = 0;
      gunichar c = g_utf8_get_char (p);

      if (c == ' ')
        {
          space = TRUE;
          p = g_utf8_next_char (p);
          continue;
        }
      /* one unit: characters up to the next place a line may break */
      for (;;)
        {
          gunichar next;

          len += display_width (c);
          p = g_utf8_next_char (p);
          next = g_utf8_get_char (p);
          if (next == '\0' || next == ' ')
            break;
          if ((g_unichar_iswide (c) || g_unichar_iswide (next)) && !is_closing (next) && !is_opening (c))
            break;
          c = next;
        }

      if (col > indent && col + (space ? 1 : 0) + len > width)
        {
          g_string_append_printf (w, "\n%*s", (int) indent, "");
          col = indent;
        }
      else if (col > indent && space)
        {
          g_string_append_c (w, ' ');
          col++;
        }
      g_string_append_len (w, start, p - start);
      col += len;
      space = FALSE;
    }
}

static char *
methods_description (void)
{
  GString *s = g_string_new (_("Methods:\n"));

  for (PlMethod m = 0; m < PL_N_METHODS; m++)
    {
      const PlMethodInfo *info = pl_method_info (m);
      g_string_append_printf (s, "  %s — %s\n", info->name, _(info->title));
      append_wrapped (s, _(info->explanation), 4, 96);
      g_string_append (s, "\n\n");
    }

  g_string_append (s, _("Gradient clipping (train --clip-norm, --clip-value) is a training stabiliser, not pruning:\n"
                        "it bounds the step when a gradient explodes and removes no weight. To see its effect, train\n"
                        "with and without it, compare the grad_norms of the two results (plot gradnorm) and run the\n"
                        "same schedule on both models.\n\n"
                        "Options for several methods apply where they mean something; the JSON's \"settings\" lists\n"
                        "those used. Every point is measured on the validation and the test split; \"curves\" holds\n"
                        "the mean, standard deviation, minimum and maximum over the seeds of each method and level.\n\n"
                        "Examples:\n"
                        "  prunelab-cli schedule --model m.safetensors --data fashion-mnist --method oneshot,distill,l1 --json\n"
                        "  prunelab-cli schedule --model m.safetensors --data fashion-mnist --method iterative \\\n"
                        "      --rewind 1 --rounds 8 --sparsity 0.97 --round-epochs 3\n"
                        "  prunelab-cli schedule --model m.safetensors --data fashion-mnist --method adaptive --budget 0.01\n"
                        "  prunelab-cli schedule --model m.safetensors --data fashion-mnist --method at-init --score synflow \\\n"
                        "      --sparsity 0.9,0.99 --dense-epochs 3\n"));
  return g_string_free (s, FALSE);
}

typedef struct {
  char     *model_path;
  char     *session_path;
  char     *methods;
  char     *score;
  char     *scope;
  gboolean  exclude_output;
  PlCliNumbers sparsity;
  int       fine_tune_epochs;
  double    lr;
  char     *optimizer;
  int       batch;
  int       threads;
  int       score_batches;
  int       seeds;
  int       rounds;
  int       round_epochs;
  char     *rewind;
  char     *rewind_weights;
  int       dense_epochs;
  double    dense_lr;
  int       init_rounds;
  int       epochs;
  double    drop_fraction;
  gint64    delta_t;
  double    initial_sparsity;
  gint64    start_step;
  double    ramp;
  double    budget;
  double    step;
  double    max_sparsity;
  gboolean  per_layer;
  double    l1;
  PlCliNumbers l0;
  char     *l0_gates;
  double    l0_lr;
  double    gate_lr;
  double    init_drop;
  double    temperature;
  double    alpha;
  gboolean  json;
  char     *csv;
  char     *out;
} ScheduleArgs;

static void
schedule_args_clear (ScheduleArgs *a)
{
  g_clear_pointer (&a->model_path, g_free);
  g_clear_pointer (&a->session_path, g_free);
  g_clear_pointer (&a->methods, g_free);
  g_clear_pointer (&a->score, g_free);
  g_clear_pointer (&a->scope, g_free);
  g_clear_pointer (&a->optimizer, g_free);
  g_clear_pointer (&a->rewind, g_free);
  g_clear_pointer (&a->rewind_weights, g_free);
  g_clear_pointer (&a->l0_gates, g_free);
  g_clear_pointer (&a->csv, g_free);
  g_clear_pointer (&a->out, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (ScheduleArgs, schedule_args_clear)

/* Fills @c from the arguments; returns 0 or an exit status. */
static int
schedule_config (const ScheduleArgs *a,
                 PlScheduleConfig   *c,
                 PlMlp              *model,
                 float             **rewind_params)
{
  g_autoptr(GError) error = NULL;

  pl_schedule_config_init (c);

  if (a->score != NULL && !pl_score_parse (a->score, &c->score, &error))
    return _pl_cli_fail (error);
  if (a->scope != NULL && !pl_scope_parse (a->scope, &c->spec.scope, &error))
    return _pl_cli_fail (error);
  c->spec.exclude_output = a->exclude_output;
  if (a->sparsity.n > 0)
    {
      memcpy (c->targets, a->sparsity.values, sizeof (double) * a->sparsity.n);
      c->n_targets = a->sparsity.n;
    }

  c->fine_tune_epochs = (guint) a->fine_tune_epochs;
  c->train.lr = a->lr;
  c->train.batch_size = (guint) a->batch;
  c->train.threads = (guint) a->threads;
  c->score_options.n_batches = (guint) a->score_batches;
  if (a->optimizer != NULL && !pl_optimizer_parse (a->optimizer, &c->train.optimizer, &error))
    return _pl_cli_usage ("--optimizer: %s", error->message);

  c->rounds = (guint) a->rounds;
  c->round_epochs = a->round_epochs < 0 ? PL_ROUND_EPOCHS_DENSE : (guint) a->round_epochs;
  c->dense_epochs = (guint) a->dense_epochs;
  c->dense_lr = a->dense_lr;
  c->init_rounds = (guint) a->init_rounds;
  if (a->rewind != NULL && strcmp (a->rewind, "none") != 0)
    {
      guint64 e;

      if (strcmp (a->rewind, "init") == 0)
        c->rewind = PL_REWIND_INIT;
      else if (g_ascii_string_to_unsigned (a->rewind, 10, 0, PL_CLI_MAX_EPOCHS, &e, NULL))
        {
          c->rewind = e == 0 ? PL_REWIND_INIT : PL_REWIND_EPOCH;
          c->rewind_epoch = (guint) e;
        }
      else
        return _pl_cli_usage (_("--rewind must be none, init or an epoch from 0 to %d, not “%s”"),
                              PL_CLI_MAX_EPOCHS, a->rewind);
    }
  if (a->rewind_weights != NULL)
    {
      g_autoptr(PlMlp) early = pl_safetensors_load (a->rewind_weights, &error);
      g_autofree char *arch_a = NULL;
      g_autofree char *arch_b = NULL;

      if (early == NULL)
        return _pl_cli_fail (error);
      arch_a = pl_mlp_arch (early);
      arch_b = pl_mlp_arch (model);
      if (strcmp (arch_a, arch_b) != 0)
        return _pl_cli_usage (_("--rewind-weights: “%s” is %s, the model is %s"),
                              a->rewind_weights, arch_a, arch_b);
      if (c->rewind == PL_REWIND_NONE)
        c->rewind = PL_REWIND_EPOCH;
      *rewind_params = g_memdup2 (early->params, sizeof (float) * early->n_params);
      c->rewind_params = *rewind_params;
    }

  /* (-1 when not given: each method's default) */
  if (a->epochs > 0)
    c->gradual_epochs = c->l1_epochs = c->l0.epochs = c->dst_epochs = (guint) a->epochs;
  c->drop_fraction = a->drop_fraction;
  c->delta_steps = (guint64) a->delta_t;
  c->start_step = (guint64) a->start_step;
  c->initial_sparsity = a->initial_sparsity;
  c->ramp = a->ramp;

  c->budget = a->budget;
  c->step = a->step;
  c->max_sparsity = a->max_sparsity;
  c->per_layer = a->per_layer;

  c->l1 = a->l1;
  if (a->l0.n > 0)
    {
      memcpy (c->l0_lambdas, a->l0.values, sizeof (double) * a->l0.n);
      c->n_l0_lambdas = a->l0.n;
    }
  if (a->l0_gates != NULL)
    {
      if (strcmp (a->l0_gates, "weight") == 0)
        c->l0.gates = PL_L0_PER_WEIGHT;
      else if (strcmp (a->l0_gates, "neuron") == 0)
        c->l0.gates = PL_L0_PER_NEURON;
      else
        return _pl_cli_usage (_("--l0-gates: weight or neuron, not “%s”"), a->l0_gates);
    }
  c->l0.lr = a->l0_lr;
  c->l0.lr_log_alpha = a->gate_lr;
  c->l0.init_drop = a->init_drop;

  c->temperature = a->temperature;
  c->alpha = a->alpha;

  return 0;
}

static void
add_settings_json (JsonBuilder            *b,
                   const PlScheduleConfig *c,
                   const PlMethod         *methods,
                   guint                   n_methods)
{
  gboolean used[PL_N_METHODS] = { FALSE };

  for (guint i = 0; i < n_methods; i++)
    used[methods[i]] = TRUE;

  json_builder_set_member_name (b, "settings");
  json_builder_begin_object (b);
  _pl_cli_add_string (b, "score", pl_score_info (c->score)->name);
  _pl_cli_add_string (b, "scope", pl_scope_name (c->spec.scope));
  _pl_cli_add_bool (b, "exclude_output", c->spec.exclude_output);
  json_builder_set_member_name (b, "target_sparsity");
  json_builder_begin_array (b);
  for (guint k = 0; k < c->n_targets; k++)
    json_builder_add_double_value (b, c->targets[k]);
  json_builder_end_array (b);
  _pl_cli_add_int (b, "fine_tune_epochs", c->fine_tune_epochs);
  _pl_cli_add_string (b, "optimizer", pl_optimizer_to_string (c->train.optimizer));
  _pl_cli_add_double (b, "lr", c->train.lr);
  _pl_cli_add_int (b, "batch", c->train.batch_size);
  if (used[PL_METHOD_ITERATIVE])
    {
      _pl_cli_add_int (b, "rounds", c->rounds);
      _pl_cli_add_int (b, "round_epochs", pl_schedule_round_epochs (c));
      _pl_cli_add_string (b, "rewind", c->rewind == PL_REWIND_NONE ? "none"
                                        : c->rewind == PL_REWIND_INIT ? "init" : "epoch");
      if (c->rewind != PL_REWIND_NONE)
        {
          _pl_cli_add_int (b, "rewind_epoch", c->rewind == PL_REWIND_INIT ? 0 : c->rewind_epoch);
          _pl_cli_add_string (b, "rewind_weights", c->rewind_params != NULL ? "file" : "dense training");
          _pl_cli_add_int (b, "dense_epochs", c->dense_epochs);
          _pl_cli_add_double (b, "dense_lr", c->dense_lr);
        }
    }
  if (used[PL_METHOD_SET] || used[PL_METHOD_RIGL])
    {
      _pl_cli_add_int (b, "dst_epochs", c->dst_epochs);
      _pl_cli_add_double (b, "drop_fraction", c->drop_fraction);
      _pl_cli_add_int (b, "delta_t", (gint64) c->delta_steps);
      _pl_cli_add_double (b, "ramp", c->ramp);
      _pl_cli_add_double (b, "dense_lr", c->dense_lr);
    }
  if (used[PL_METHOD_GRADUAL] || used[PL_METHOD_MOVEMENT])
    {
      _pl_cli_add_int (b, "gradual_epochs", c->gradual_epochs);
      _pl_cli_add_double (b, "initial_sparsity", c->initial_sparsity);
      _pl_cli_add_int (b, "start_step", (gint64) c->start_step);
      _pl_cli_add_int (b, "delta_t", (gint64) c->delta_steps);
      _pl_cli_add_double (b, "ramp", c->ramp);
    }
  if (used[PL_METHOD_ADAPTIVE])
    {
      _pl_cli_add_double (b, "budget", c->budget);
      _pl_cli_add_double (b, "step", c->step);
      _pl_cli_add_double (b, "max_sparsity", c->max_sparsity);
      _pl_cli_add_bool (b, "per_layer", c->per_layer);
    }
  if (used[PL_METHOD_L1])
    {
      _pl_cli_add_double (b, "l1", c->l1);
      _pl_cli_add_int (b, "l1_epochs", c->l1_epochs);
    }
  if (used[PL_METHOD_L0])
    {
      json_builder_set_member_name (b, "l0");
      json_builder_begin_array (b);
      for (guint k = 0; k < c->n_l0_lambdas; k++)
        json_builder_add_double_value (b, c->l0_lambdas[k]);
      json_builder_end_array (b);
      _pl_cli_add_string (b, "l0_gates", c->l0.gates == PL_L0_PER_WEIGHT ? "weight" : "neuron");
      _pl_cli_add_int (b, "l0_epochs", c->l0.epochs);
      _pl_cli_add_double (b, "l0_lr", c->l0.lr);
      _pl_cli_add_double (b, "gate_lr", c->l0.lr_log_alpha);
      _pl_cli_add_double (b, "init_drop", c->l0.init_drop);
      _pl_cli_add_double (b, "beta", c->l0.beta);
      _pl_cli_add_double (b, "gamma", c->l0.gamma);
      _pl_cli_add_double (b, "zeta", c->l0.zeta);
    }
  if (used[PL_METHOD_AT_INIT])
    {
      _pl_cli_add_int (b, "at_init_epochs", c->dense_epochs);
      _pl_cli_add_double (b, "at_init_lr", c->dense_lr);
      _pl_cli_add_int (b, "init_rounds", c->score == PL_SCORE_SYNFLOW ? c->init_rounds : 1);
      _pl_cli_add_string (b, "init_weights", c->rewind_params != NULL ? "file" : "seeded");
    }
  if (used[PL_METHOD_DISTILL])
    {
      _pl_cli_add_double (b, "temperature", c->temperature);
      _pl_cli_add_double (b, "alpha", c->alpha);
    }
  json_builder_end_object (b);
}

int
_pl_cli_schedule (int    argc,
                  char **argv)
{
  g_auto(PlCliDataArgs) data_args = PL_CLI_DATA_ARGS_INIT;
  g_auto(ScheduleArgs) a = {
    .fine_tune_epochs = 1, .lr = 0.01, .batch = 128, .threads = 1, .score_batches = 8,
    .seeds = 1, .rounds = 5, .round_epochs = -1, .dense_epochs = 5, .dense_lr = 0.1,
    .init_rounds = 100,
    .epochs = -1, .delta_t = 50, .ramp = 0.7, .budget = 0.01, .step = 0.01,
    .max_sparsity = 0.99, .l1 = 1e-3, .l0_lr = 1e-3, .gate_lr = 0.05, .init_drop = 0.1,
    .temperature = 4.0, .alpha = 0.5, .drop_fraction = 0.3,
  };
  g_autofree char *plot = NULL;
  g_auto(PlCliGridArgs) g = PL_CLI_GRID_ARGS_INIT;
  const PlCliOption options[] = {
    { "model", 'm', PL_CLI_FILENAME, &a.model_path, N_("Trained model to start from (safetensors)"), N_("FILE") },
    PL_CLI_SESSION_OPTION (&a.session_path),
    { "plot", 0, PL_CLI_FILENAME, &plot, N_("Draw the curves into this file (.png, .svg or .pdf)"), N_("FILE") },
    { "method", 'M', PL_CLI_STRING, &a.methods, N_("oneshot, iterative, gradual, adaptive, l1, l0, distill, movement, set, rigl, at-init; several comma-separated give one curve each"), N_("NAME[,NAME…]") },
    { "score", 0, PL_CLI_STRING, &a.score, N_("What to prune by (default magnitude; see “prunelab-cli prune --help-scores”)"), N_("NAME") },
    { "scope", 0, PL_CLI_STRING, &a.scope, N_("global (default), layer, row or erk (see “prunelab-cli prune --help-scores”)"), N_("SCOPE") },
    { "exclude-output", 0, PL_CLI_FLAG, &a.exclude_output, N_("Leave the output layer's weights alone") },
    { "sparsity", 0, PL_CLI_DOUBLES, &a.sparsity, N_("Target sparsities, one point each (default 0.5,0.8,0.9,0.95,0.97,0.99); iterative: the largest is the final one"), N_("X[,X…]"),
      PL_CLI_LIST (0, 1, PL_SCHEDULE_MAX_LEVELS) },
    { "fine-tune-epochs", 0, PL_CLI_INT, &a.fine_tune_epochs, N_("Masked fine-tuning after pruning: oneshot, adaptive, l1, l0, distill (default 1)"), N_("N"),
      PL_CLI_WHOLE (0, PL_CLI_MAX_EPOCHS) },
    { "lr", 0, PL_CLI_DOUBLE, &a.lr, N_("Learning rate of fine-tuning and of training with a penalty or schedule (default 0.01)"), N_("X"),
      PL_CLI_ABOVE (0) },
    { "optimizer", 0, PL_CLI_STRING, &a.optimizer, N_("sgd (momentum 0.9, default) or adam"), N_("NAME") },
    { "batch", 0, PL_CLI_INT, &a.batch, N_("Batch size (default 128)"), N_("N"), PL_CLI_WHOLE (1, PL_CLI_MAX_BATCH) },
    { "score-batches", 0, PL_CLI_INT, &a.score_batches, N_("Batches of 256 training samples for data-driven scores (default 8)"), N_("N"),
      PL_CLI_WHOLE (1, PL_CLI_MAX_SCORE_BATCHES) },
    { "seeds", 0, PL_CLI_INT, &a.seeds, N_("Repeat every method with seeds 0…K−1 and report mean and spread (default 1)"), N_("K"),
      PL_CLI_WHOLE (1, 1000) },
    { "threads", 't', PL_CLI_INT, &a.threads, N_("Threads (default 1)"), N_("N"), PL_CLI_WHOLE (1, PL_CLI_MAX_THREADS) },
    { "rounds", 0, PL_CLI_INT, &a.rounds, N_("iterative: rounds, each pruning the same share of what remains (default 5)"), N_("K"),
      PL_CLI_WHOLE (1, 1000) },
    { "round-epochs", 0, PL_CLI_INT, &a.round_epochs, N_("iterative: training epochs after each round's pruning (default: with --rewind, as long as the dense run after the rewind point, --dense-epochs − E, as Frankle & Carbin; without, 2)"), N_("N"),
      PL_CLI_WHOLE (0, PL_CLI_MAX_EPOCHS) },
    { "rewind", 0, PL_CLI_STRING, &a.rewind, N_("iterative: none (default), init, or an epoch E — reset the survivors to those weights each round; without --rewind-weights a dense network is trained from a seeded initialisation to get them"), N_("WHEN") },
    { "rewind-weights", 0, PL_CLI_FILENAME, &a.rewind_weights, N_("iterative: rewind to these weights (a model saved early in training) and start from --model; at-init: the untrained weights to prune (default: a seeded initialisation of --model's architecture)"), N_("FILE") },
    { "dense-epochs", 0, PL_CLI_INT, &a.dense_epochs, N_("iterative with --rewind: epochs of the dense training (default 5); at-init: of the dense and of each sparse network"), N_("N"),
      PL_CLI_WHOLE (0, PL_CLI_MAX_EPOCHS) },
    { "dense-lr", 0, PL_CLI_DOUBLE, &a.dense_lr, N_("iterative with --rewind: learning rate of the dense training and of the rounds; set, rigl: of the sparse training; at-init: of its trainings (default 0.1)"), N_("X"),
      PL_CLI_ABOVE (0) },
    { "init-rounds", 0, PL_CLI_INT, &a.init_rounds, N_("at-init with --score synflow: pruning rounds, the density shrinking exponentially (default 100)"), N_("K"),
      PL_CLI_WHOLE (1, 10000) },
    { "epochs", 0, PL_CLI_INT, &a.epochs, N_("gradual, movement, l1, l0, set, rigl: training epochs (defaults 3, 3, 2, 5, 5, 5)"), N_("N"),
      PL_CLI_WHOLE (1, PL_CLI_MAX_EPOCHS) },
    { "delta-t", 0, PL_CLI_INT64, &a.delta_t, N_("gradual, movement, set, rigl: steps between mask updates, Δt (default 50)"), N_("N"),
      PL_CLI_WHOLE (1, G_MAXINT64) },
    { "initial-sparsity", 0, PL_CLI_DOUBLE, &a.initial_sparsity, N_("gradual, movement: s_i (default 0)"), N_("X"),
      PL_CLI_IN_OPEN (0, 1, PL_CLI_OPEN_MAX) },
    { "start-step", 0, PL_CLI_INT64, &a.start_step, N_("gradual, movement: t₀, the step of the first update (default 0)"), N_("N"),
      PL_CLI_WHOLE (0, G_MAXINT64) },
    { "ramp", 0, PL_CLI_DOUBLE, &a.ramp, N_("gradual, movement: share of the steps after t₀ over which the sparsity rises; set, rigl: T_end as a share of the steps (default 0.7)"), N_("X"),
      PL_CLI_IN_OPEN (0, 1, PL_CLI_OPEN_MIN) },
    { "drop-fraction", 0, PL_CLI_DOUBLE, &a.drop_fraction, N_("set, rigl: α, the share of each layer's weights dropped and regrown at the first update, decayed as α/2·(1 + cos(πt/T_end)) (default 0.3)"), N_("X"),
      PL_CLI_IN (0, 1) },
    { "budget", 0, PL_CLI_DOUBLE, &a.budget, N_("adaptive: validation accuracy that may be lost, 0.01 = one point (default 0.01)"), N_("X"),
      PL_CLI_IN (0, 1) },
    { "step", 0, PL_CLI_DOUBLE, &a.step, N_("adaptive: grid of sparsities searched (default 0.01)"), N_("X"),
      PL_CLI_IN_OPEN (0, 1, PL_CLI_OPEN_MIN) },
    { "max", 0, PL_CLI_DOUBLE, &a.max_sparsity, N_("adaptive: highest sparsity searched (default 0.99)"), N_("X"),
      PL_CLI_IN_OPEN (0, 1, PL_CLI_OPEN_MIN) },
    { "per-layer", 0, PL_CLI_FLAG, &a.per_layer, N_("adaptive: a sparsity per layer, from the layers' sensitivity") },
    { "l1", 0, PL_CLI_DOUBLE, &a.l1, N_("l1: the penalty λ of λ·Σ|w| (default 0.001)"), N_("X"), PL_CLI_AT_LEAST (0) },
    { "l0", 0, PL_CLI_DOUBLES, &a.l0, N_("l0: penalties λ of λ·E[‖z‖₀]/gates, one point each (default 0.3,1,3,10)"), N_("X[,X…]"),
      PL_CLI_LIST (0, 1e6, PL_SCHEDULE_MAX_LEVELS) },
    { "l0-gates", 0, PL_CLI_STRING, &a.l0_gates, N_("l0: weight (default) or neuron"), N_("KIND") },
    { "l0-lr", 0, PL_CLI_DOUBLE, &a.l0_lr, N_("l0: Adam learning rate of the weights (default 0.001)"), N_("X"), PL_CLI_ABOVE (0) },
    { "gate-lr", 0, PL_CLI_DOUBLE, &a.gate_lr, N_("l0: Adam learning rate of the gates' log α (default 0.05)"), N_("X"), PL_CLI_ABOVE (0) },
    { "init-drop", 0, PL_CLI_DOUBLE, &a.init_drop, N_("l0: initial probability of a closed gate (default 0.1)"), N_("X"),
      PL_CLI_IN_OPEN (0, 1, PL_CLI_OPEN_MIN | PL_CLI_OPEN_MAX) },
    { "temperature", 0, PL_CLI_DOUBLE, &a.temperature, N_("distill: temperature T (default 4)"), N_("T"), PL_CLI_ABOVE (0) },
    { "alpha", 0, PL_CLI_DOUBLE, &a.alpha, N_("distill: weight α of the soft-target term (default 0.5)"), N_("A"), PL_CLI_IN (0, 1) },
    { "csv", 0, PL_CLI_FILENAME, &a.csv, N_("Also write the points as CSV"), N_("FILE") },
    { "out", 'o', PL_CLI_FILENAME, &a.out, N_("Save the model of the last point of the last run (safetensors)"), N_("FILE") },
    { "json", 0, PL_CLI_FLAG, &a.json, N_("Print the result as one JSON object on stdout"), NULL },
    PL_CLI_GRID_OPTIONS (&g),
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new (NULL);
  g_autofree char *description = methods_description ();
  g_autoptr(GError) error = NULL;
  g_autoptr(PlData) data = NULL;
  g_autoptr(PlMlp) model = NULL;
  g_autoptr(PlMlp) last = NULL;
  g_autoptr(PlConvNet) conv = NULL;
  g_autoptr(PlConvNet) conv_last = NULL;
  g_autoptr(PlEvaluation) dense = NULL;
  g_autoptr(GArray) summary = NULL;
  g_autoptr(GPtrArray) labels = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) results_owner = NULL;
  JsonArray **results = NULL;                /* per grid point, in results_owner, or NULL */
  g_autofree gboolean *complete = NULL;
  g_autofree double *point_seconds = NULL;
  g_autoptr(PlGrid) grid = NULL;
  g_autoptr(JsonObject) head = NULL;
  g_autoptr(JsonObject) tail = NULL;
  g_autoptr(JsonObject) shard = NULL;
  guint n_grid, n_found = 0, n_mine = 0;
  g_autofree float *rewind_params = NULL;
  g_auto(GStrv) names = NULL;
  PlMethod methods[PL_N_METHODS * 4];
  guint n_methods;
  PlScheduleConfig config;
  Progress progress = { .tty = isatty (STDERR_FILENO) };
  gboolean interrupted = FALSE, is_conv;
  guint n_layers;
  int status;
  gint64 t0 = g_get_monotonic_time ();

  g_option_context_set_summary (context, _("Run pruning procedures from a trained model — one-shot, iterative with rewinding\n"
                                           "(lottery ticket), gradual, adaptive, L1, L0 and distillation — and report one\n"
                                           "sparsity-versus-accuracy curve per method, over several seeds."));
  g_option_context_set_description (context, description);
  _pl_cli_add_options (context, options, NULL);
  _pl_cli_add_data_options (context, &data_args);
  if (!_pl_cli_parse (context, &argc, &argv))
    return PL_EXIT_USAGE;

  if (a.model_path == NULL && a.session_path == NULL)
    return _pl_cli_usage (_("--model (a safetensors file) or --session (a .prunelab file) is required"));
  if (a.methods == NULL)
    return _pl_cli_usage (_("--method is required (for example --method oneshot,iterative)"));
  if (plot != NULL && !_pl_cli_plot_check (plot, &error))
    return _pl_cli_usage ("--plot: %s", error->message);
  if (!_pl_cli_check_output (a.csv, &error) || !_pl_cli_check_output (a.out, &error)
      || !_pl_cli_check_output (plot, &error))
    return _pl_cli_fail (error);
  names = g_strsplit (a.methods, ",", -1);
  n_methods = g_strv_length (names);
  if (n_methods == 0 || n_methods > G_N_ELEMENTS (methods))
    return _pl_cli_usage (_("--method: give 1 to %u methods"), (guint) G_N_ELEMENTS (methods));
  for (guint i = 0; i < n_methods; i++)
    if (!pl_method_parse (g_strstrip (names[i]), &methods[i], &error))
      return _pl_cli_fail (error);
  if ((status = _pl_cli_grid_check (&g)) != 0)
    return status;
  if (a.out != NULL && _pl_cli_grid_wanted (&g))
    return _pl_cli_usage (_("--out cannot be combined with --shard or --results-dir: the last run is not known"));

  /* The grid, in its order: methods × seeds; a grid point is every level of one method and
   * seed, which share training (rounds build on each other, the adaptive search goes where its
   * last probe sends it, the trainings of a run count up its seed). */
  for (guint i = 0; i < n_methods; i++)
    for (guint seed = 0; seed < (guint) a.seeds; seed++)
      g_ptr_array_add (labels, g_strdup_printf ("%s seed %u", pl_method_info (methods[i])->name, seed));
  n_grid = labels->len;
  g_ptr_array_add (labels, NULL);
  if (g.print_grid)
    {
      _pl_cli_grid_print (&g, (const char * const *) labels->pdata, n_grid);
      return PL_EXIT_OK;
    }
  results_owner = _pl_cli_grid_points_new (n_grid);
  results = (JsonArray **) results_owner->pdata;
  complete = g_new0 (gboolean, n_grid);
  point_seconds = g_new0 (double, n_grid);

  /* a convolutional network runs the methods pl-conv-schedule.h defines for it */
  is_conv = a.model_path != NULL && a.session_path == NULL && pl_conv_file_is_conv (a.model_path);
  if (is_conv)
    {
      for (guint i = 0; i < n_methods; i++)
        if (!pl_conv_schedule_supported (methods[i]))
          return _pl_cli_usage (_("--method %s does not take a convolutional network: it runs oneshot and iterative"),
                                pl_method_info (methods[i])->name);
      if (a.rewind_weights != NULL)
        return _pl_cli_usage (_("--rewind-weights does not take a convolutional network yet"));
      if ((status = schedule_config (&a, &config, NULL, &rewind_params)) != 0)
        return status;
      conv = pl_conv_net_load (a.model_path, &error);
      if (conv == NULL || (data = _pl_cli_load_data (&data_args, &error)) == NULL)
        return _pl_cli_fail (error);
      n_layers = pl_conv_net_n_param_layers (conv);
      if (n_layers > PL_MLP_MAX_LAYERS)
        return _pl_cli_usage (_("schedule takes a convolutional network of at most %u conv and dense layers"),
                              (guint) PL_MLP_MAX_LAYERS);
      _pl_cli_set_threads (a.threads);
      dense = pl_conv_evaluate (conv, data->test, &error);
      if (dense == NULL)
        {
          g_prefix_error (&error, "“%s” on “%s”: ", a.model_path, data->spec);
          return _pl_cli_fail (error);
        }
    }
  else
    {
      model = _pl_cli_load_model_and_data (&a.model_path, a.session_path, &data_args, &data, &error);
      if (model == NULL)
        return _pl_cli_fail (error);
      if ((status = schedule_config (&a, &config, model, &rewind_params)) != 0)
        return status;
      _pl_cli_set_threads (a.threads);

      dense = _pl_cli_evaluate (model, data->test, a.model_path, data, &error);
      if (dense == NULL)
        return _pl_cli_fail (error);
      n_layers = model->n_layers;
    }
  g_printerr (_("schedule: %s on %s, dense test accuracy %.2f%%; %u training, %u validation, %u test samples\n"),
              a.model_path, data->spec, 100 * dense->accuracy, data->train->n, data->val->n,
              data->test->n);

  {
    g_autoptr(JsonBuilder) b = json_builder_new ();
    g_autoptr(JsonNode) node = NULL;

    json_builder_begin_object (b);
    _pl_cli_add_string (b, "command", "schedule");
    _pl_cli_add_string (b, "model", a.model_path);
    _pl_cli_add_string (b, "data", data->spec);
    json_builder_set_member_name (b, "methods");
    json_builder_begin_array (b);
    for (guint i = 0; i < n_methods; i++)
      json_builder_add_string_value (b, pl_method_info (methods[i])->name);
    json_builder_end_array (b);
    _pl_cli_add_int (b, "seeds", a.seeds);
    add_settings_json (b, &config, methods, n_methods);
    _pl_cli_add_double (b, "dense_test_accuracy", dense->accuracy);
    _pl_cli_add_double (b, "dense_test_loss", dense->loss);
    json_builder_end_object (b);
    node = json_builder_get_root (b);
    head = json_object_ref (json_node_get_object (node));
  }
  tail = json_object_new ();
  json_object_set_int_member (tail, "threads", a.threads);
  json_object_set_string_member (tail, "blas_core", _pl_cli_blas_core ());

  if (_pl_cli_grid_wanted (&g))
    {
      static const char *const skip[] = { PL_CLI_GRID_SKIP, "model", "session", "method", "seeds",
                                          "out", NULL };
      g_autofree char *options_text = _pl_cli_settings_text (skip);
      g_autofree char *rewind_sha = NULL;
      g_autofree char *settings = NULL;

      if (a.rewind_weights != NULL
          && (rewind_sha = pl_results_hash_file (a.rewind_weights, &error)) == NULL)
        return _pl_cli_fail (error);
      settings = g_strdup_printf ("%s rewind-weights-sha256=%s", options_text,
                                  rewind_sha != NULL ? rewind_sha : "(none)");
      grid = _pl_cli_grid_make ("schedule", a.model_path, data, settings,
                                (const char * const *) labels->pdata, n_grid, head, tail, &error);
      if (grid == NULL || (g.results_dir != NULL && !pl_results_save_grid (g.results_dir, grid, &error)))
        return _pl_cli_fail (error);
    }

  for (guint i = 0; i < n_methods && !interrupted; i++)
    for (guint seed = 0; seed < (guint) a.seeds && !interrupted; seed++)
      {
        g_autoptr(PlMlp) run_last = NULL;
        g_autoptr(PlConvNet) run_last_conv = NULL;
        g_autoptr(GArray) run_points = g_array_new (FALSE, FALSE, sizeof (PlSchedulePoint));
        guint c = i * (guint) a.seeds + seed;
        gint64 t_run = g_get_monotonic_time ();
        gboolean ok;

        if (!_pl_cli_grid_mine (&g, c))
          continue;
        n_mine++;
        if (g.results_dir != NULL)
          {
            if (!pl_results_load_point (g.results_dir, grid, c, &results[c], &point_seconds[c], &error))
              return _pl_cli_fail (error);
            if (results[c] != NULL)
              {
                complete[c] = TRUE;
                n_found++;
                continue;
              }
          }
        ok = is_conv
             ? pl_conv_schedule_run (conv, data, methods[i], &config, seed, run_points, &run_last_conv,
                                     on_schedule_progress, &progress, _pl_cli_cancellable (), &error)
             : pl_schedule_run (model, data, methods[i], &config, seed, run_points, &run_last,
                                on_schedule_progress, &progress, _pl_cli_cancellable (), &error);
        if (!ok)
          {
            if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
              return _pl_cli_fail (error);
            g_clear_error (&error);
            interrupted = TRUE;
          }
        results[c] = json_array_new ();
        for (guint k = 0; k < run_points->len; k++)
          json_array_add_element (results[c], point_json (&g_array_index (run_points, PlSchedulePoint, k),
                                                          n_layers));
        complete[c] = ok;
        point_seconds[c] = (g_get_monotonic_time () - t_run) / 1e6;
        if (ok && g.results_dir != NULL
            && !pl_results_save_point (g.results_dir, grid, c, results[c], point_seconds[c], &error))
          return _pl_cli_fail (error);
        if (ok)
          {
            g_clear_pointer (&last, pl_mlp_free);
            last = g_steal_pointer (&run_last);
            g_clear_pointer (&conv_last, pl_conv_net_free);
            conv_last = g_steal_pointer (&run_last_conv);
          }
      }

  if (progress.tty)
    g_printerr ("\r\033[K");
  if (g.results_dir != NULL)
    g_printerr (_("prunelab-cli: %u of %u grid points were in “%s” already\n"), n_found, n_mine,
                g.results_dir);
  if (interrupted)
    g_printerr (_("prunelab-cli: schedule interrupted; reporting the points that finished\n"));

  if (g.shard != NULL)
    {
      g_autofree guint *done = g_new (guint, n_grid);
      g_autofree guint *counts = g_new (guint, n_grid);
      g_autofree double *secs = g_new (double, n_grid);
      guint n_done = 0;

      /* a shard's result holds its finished grid points alone */
      for (guint k = 0; k < n_grid; k++)
        if (results[k] != NULL && !complete[k])
          g_clear_pointer (&results[k], json_array_unref);
        else if (results[k] != NULL)
          {
            done[n_done] = k;
            counts[n_done] = json_array_get_length (results[k]);
            secs[n_done++] = point_seconds[k];
          }
      shard = pl_shard_to_json (grid, g.index, g.count, done, counts, secs, n_done);
    }
  summary = _pl_cli_schedule_summary (results, n_grid);

  if (a.out != NULL && last != NULL && !pl_safetensors_save (last, a.out, &error))
    return _pl_cli_fail (error);
  if (a.out != NULL && conv_last != NULL && !pl_conv_net_save (conv_last, a.out, &error))
    return _pl_cli_fail (error);

  if (a.json || plot != NULL || a.csv != NULL)
    {
      g_autoptr(GString) csv = a.csv != NULL ? _pl_cli_grid_csv ("schedule", results, n_grid) : NULL;
      g_autoptr(JsonBuilder) b = NULL;

      if (a.out != NULL && (last != NULL || conv_last != NULL))
        json_object_set_string_member (tail, "out", a.out);
      b = _pl_cli_grid_result ("schedule", head, tail, interrupted, results, n_grid,
                               (g_get_monotonic_time () - t0) / 1e6, NAN, shard);
      if (!_pl_cli_emit_result (b, a.json, plot, a.csv, csv, &error))
        return _pl_cli_fail (error);
    }
  if (!a.json)
    {
      printf (_("dense test accuracy %.2f%%\n"), 100 * dense->accuracy);
      printf (_("method     level  sparsity  test accuracy (mean ± sd over seeds)  test loss\n"));
      for (guint k = 0; k < summary->len; k++)
        {
          const PlScheduleSummary *s = &g_array_index (summary, PlScheduleSummary, k);

          printf ("%-10s %5u  %7.2f%%  %6.2f%% ± %.2f  (%u)                 %.4f\n",
                  pl_method_info (s->method)->name, s->level, 100 * s->sparsity,
                  100 * s->test_accuracy, 100 * s->test_accuracy_sd, s->n, s->test_loss);
        }
      if (a.out != NULL && (last != NULL || conv_last != NULL))
        printf (_("model of the last point saved to %s\n"), a.out);
    }

  return interrupted ? PL_EXIT_INTERRUPTED : PL_EXIT_OK;
}
