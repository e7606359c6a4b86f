#define G_LOG_DOMAIN "pl-reproduce"

#include "config.h"

#include "pl-reproduce.h"

#include <glib/gi18n-lib.h>
#include <math.h>
#include <string.h>

#include "pl-error.h"
#include "pl-eval.h"
#include "pl-metrics.h"
#include "pl-schedule.h"

/* ---- the papers -------------------------------------------------------------------------- */

/* Han, Pool, Tran & Dally, "Learning both Weights and Connections for Efficient Neural
 * Networks", NeurIPS 2015. Table 1, row "LeNet-300-100 Ref": Top-1 Error 1.64%, Parameters
 * 267K; row "LeNet-300-100 Pruned": Top-1 Error 1.59%, Parameters 22K, Compression Rate 12×.
 * Table 2 ("Weights%" kept after pruning): fc1 235K weights, 8%; fc2 30K, 9%; fc3 1K, 26%;
 * total 266K, 8%. Section 3.3: retraining starts from the trained weights (no re-initialisation)
 * at a smaller learning rate; issue 16 asks for 1/10 of the original one. Section 3.4: prune and
 * retrain iteratively. MNIST; here whatever --data gives (Fashion-MNIST by default), so the
 * errors are not comparable, the kept shares and the compression are. */
static const PlPaperNumber han2015_numbers[] = {
  { "error_before", N_("test error of the dense network"), "%", 1.64, "Table 1" },
  { "error_after", N_("test error after pruning and retraining"), "%", 1.59, "Table 1" },
  { "params_before", N_("parameters (weights and biases), dense"), "", 267e3, "Table 1" },
  { "params_after", N_("parameters kept after pruning"), "", 22e3, "Table 1" },
  { "compression", N_("compression (parameters before / after)"), "×", 12.0, "Table 1" },
  { "kept_fc1", N_("weights kept in fc1"), "%", 8.0, "Table 2" },
  { "kept_fc2", N_("weights kept in fc2"), "%", 9.0, "Table 2" },
  { "kept_fc3", N_("weights kept in fc3"), "%", 26.0, "Table 2" },
  { "kept_total", N_("weights kept in total"), "%", 8.0, "Table 2" },
};

/* Frankle & Carbin, "The Lottery Ticket Hypothesis: Finding Sparse, Trainable Neural
 * Networks", ICLR 2019. Figure 2 / Appendix: LeNet-300-100, Adam lr 1.2e-3, batch 60, pruning
 * rate 20% per round for the hidden layers and 10% for the output layer, the survivors reset
 * to their initial values. Figures 3 and 4 are plots, so their numbers are read off them (as
 * issue 16 gives them): winning tickets keep the original accuracy down to about 3.5% of the
 * weights remaining; randomly re-initialised, the same sparse networks fall off from about 26%
 * remaining. "Holds down to" is measured as pl_reproduce_holds_to() with the dense network's
 * accuracy minus 1 point as the floor. */
static const PlPaperNumber frankle2019_numbers[] = {
  { "dense_accuracy", N_("test accuracy of the dense network"), "%", NAN, NULL },
  { "ticket_holds_to", N_("ticket: within 1 point of dense down to (weights left)"), "%", 3.5, "Figure 3 (read off the plot)" },
  { "reinit_holds_to", N_("random reinit: within 1 point of dense down to (weights left)"), "%", 26.0, "Figure 4 (read off the plot)" },
  { "ticket_last_accuracy", N_("ticket: test accuracy at the last round"), "%", NAN, NULL },
  { "reinit_last_accuracy", N_("random reinit: test accuracy at the last round"), "%", NAN, NULL },
  { "dense_early_stop", N_("early-stopping iteration of the dense network"), "", NAN, NULL },
  { "ticket_last_early_stop", N_("ticket: early-stopping iteration at the last round"), "", NAN, NULL },
  { "reinit_last_early_stop", N_("random reinit: early-stopping iteration, last round"), "", NAN, NULL },
};

/* Blalock, Gonzalez Ortiz, Frankle & Guttag, "What is the State of Neural Network Pruning?",
 * MLSys 2020. Section 7 (the recommendations of ShrinkBench): report compression ratio
 * (original size / pruned size, counting every parameter) and theoretical speed-up (original
 * FLOPs / pruned FLOPs) at several operating points, with several seeds, against the
 * baselines global and layer-wise magnitude pruning and random pruning; the paper's curves use
 * compression ratios 2, 4, 8, 16, 32 (Figures 5–7). It reports no LeNet-300-100 numbers: the
 * rows are the measured ones, the paper's column is empty. */
static const PlPaperNumber blalock2020_numbers[] = {
  { "dense_accuracy", N_("test accuracy of the dense network"), "%", NAN, NULL },
};

/* Tanaka, Kunin, Yamins & Ganguli, "Pruning neural networks without any data by iteratively
 * conserving synaptic flow", NeurIPS 2020. Figure 1 and Section 4 describe layer collapse: at
 * high compression, magnitude, SNIP and GraSP at initialisation prune a whole layer away (the
 * network is disconnected), and SynFlow, pruning iteratively in 100 rounds (Algorithm 1), is the
 * one that reaches the maximal compression without it. The paper's figures are for VGG and
 * ResNet models on CIFAR and Tiny ImageNet and give no LeNet-300-100 numbers: the rows are the
 * measured ones. A seed whose network never disconnects on the grid leaves that method's
 * "collapse" row without a value for it. */
static const PlPaperNumber tanaka2020_numbers[] = {
  { "dense_accuracy", N_("test accuracy of the dense network"), "%", NAN, NULL },
};

/* Tanaka et al. 2020: compression ratios 10^{k/4}; the quick run takes every other one from
 * 10 on */
#define TANAKA_MAX_POINTS 16

static guint
tanaka_ratios (gboolean quick,
               double  *ratios)
{
  guint n = 0;

  for (guint k = quick ? 4 : 2; k <= 16; k += quick ? 2 : 1)
    ratios[n++] = pow (10.0, k / 4.0);
  return n;
}

/* the ratios of the accuracy rows */
static const double tanaka_shown[] = { 10, 100, 1000, 10000 };

/* ShrinkBench's operating points (Blalock et al. 2020, Figures 5–7) */
static const double blalock_ratios[] = { 2, 4, 8, 16, 32 };

static const PlPaperInfo paper_info[PL_N_PAPERS] = {
  [PL_PAPER_HAN2015] = {
    "han2015", N_("Han et al. 2015: learning both weights and connections"),
    "S. Han, J. Pool, J. Tran, W. J. Dally. Learning both Weights and Connections for Efficient "
    "Neural Networks. NeurIPS 2015.",
    /* xgettext:no-c-format */
    N_("LeNet-300-100 trained dense, then pruned layer by layer to the paper's kept shares (8%, 9%, 26%) "
       "in iterative rounds of magnitude pruning and retraining at 1/10 of the learning rate."),
    .full = { .seeds = 3, .dense_epochs = 10, .dense_lr = 0.1, .optimizer = PL_OPTIMIZER_SGD,
              .batch = 128, .rounds = 5, .round_epochs = 2, .retrain_lr = 0.01 },
    .quick = { .seeds = 1, .dense_epochs = 3, .dense_lr = 0.1, .optimizer = PL_OPTIMIZER_SGD,
               .batch = 128, .rounds = 3, .round_epochs = 1, .retrain_lr = 0.01 },
    han2015_numbers, G_N_ELEMENTS (han2015_numbers) },
  [PL_PAPER_FRANKLE2019] = {
    "frankle2019", N_("Frankle & Carbin 2019: the lottery ticket hypothesis"),
    "J. Frankle, M. Carbin. The Lottery Ticket Hypothesis: Finding Sparse, Trainable Neural "
    "Networks. ICLR 2019.",
    /* xgettext:no-c-format */
    N_("LeNet-300-100 pruned iteratively, 20% of each hidden layer and 10% of the output layer per round, "
       "the survivors rewound to their initial values and retrained; the same masks with a random "
       "re-initialisation are trained beside them."),
    /* the paper: Adam 1.2e-3, batch 60, 50,000 iterations; batch 128 and fewer epochs here to fit
     * the 30-minute budget */
    .full = { .seeds = 5, .dense_epochs = 2, .dense_lr = 1.2e-3, .optimizer = PL_OPTIMIZER_ADAM,
              .batch = 128, .rounds = 15, .eval_every = 100 },
    .quick = { .seeds = 1, .dense_epochs = 1, .dense_lr = 1.2e-3, .optimizer = PL_OPTIMIZER_ADAM,
               .batch = 128, .rounds = 7, .eval_every = 100 },
    frankle2019_numbers, G_N_ELEMENTS (frankle2019_numbers) },
  [PL_PAPER_BLALOCK2020] = {
    "blalock2020", N_("Blalock et al. 2020: ShrinkBench's reporting standard"),
    "D. Blalock, J. J. Gonzalez Ortiz, J. Frankle, J. Guttag. What is the State of Neural "
    "Network Pruning? MLSys 2020.",
    N_("LeNet-300-100 trained dense, then pruned one-shot to compression ratios 2, 4, 8, 16 and 32 by "
       "global magnitude, layer-wise magnitude, random and the chosen score, and fine-tuned; compression "
       "ratio and theoretical speed-up are reported beside the accuracy."),
    .full = { .seeds = 3, .dense_epochs = 10, .dense_lr = 0.1, .optimizer = PL_OPTIMIZER_SGD,
              .batch = 128, .round_epochs = 2, .retrain_lr = 0.01 },
    .quick = { .seeds = 1, .dense_epochs = 2, .dense_lr = 0.1, .optimizer = PL_OPTIMIZER_SGD,
               .batch = 128, .round_epochs = 0, .retrain_lr = 0.01 },
    blalock2020_numbers, G_N_ELEMENTS (blalock2020_numbers) },
  [PL_PAPER_TANAKA2020] = {
    "tanaka2020", N_("Tanaka et al. 2020: layer collapse and SynFlow"),
    "H. Tanaka, D. Kunin, D. L. K. Yamins, S. Ganguli. Pruning neural networks without any data "
    "by iteratively conserving synaptic flow. NeurIPS 2020.",
    N_("LeNet-300-100 pruned at initialisation by magnitude, SNIP, GraSP and SynFlow (100 rounds) to "
       "compression ratios 10^(k/4) up to 10,000, each sparse network then trained; the compression at "
       "which each method first disconnects the network is reported beside the accuracies."),
    .full = { .seeds = 3, .dense_epochs = 2, .dense_lr = 0.1, .optimizer = PL_OPTIMIZER_SGD,
              .batch = 128 },
    .quick = { .seeds = 1, .dense_epochs = 1, .dense_lr = 0.1, .optimizer = PL_OPTIMIZER_SGD,
               .batch = 128 },
    tanaka2020_numbers, G_N_ELEMENTS (tanaka2020_numbers) },
};

const PlPaperInfo *
pl_paper_info (PlPaper paper)
{
  g_return_val_if_fail (paper < PL_N_PAPERS, NULL);

  return &paper_info[paper];
}

gboolean
pl_paper_parse (const char  *name,
                PlPaper     *paper,
                GError     **error)
{
  g_autoptr(GString) names = g_string_new (NULL);

  for (PlPaper p = 0; p < PL_N_PAPERS; p++)
    {
      if (name != NULL && strcmp (name, paper_info[p].name) == 0)
        {
          *paper = p;
          return TRUE;
        }
      g_string_append_printf (names, "%s%s", p > 0 ? ", " : "", paper_info[p].name);
    }
  g_set_error (error, PL_SPEC_ERROR, PL_SPEC_ERROR_UNKNOWN_NAME,
               _("paper “%s”: choose one of %s"), name != NULL ? name : "", names->str);
  return FALSE;
}

void
pl_reproduce_options_init (PlReproduceOptions *options)
{
  g_return_if_fail (options != NULL);

  memset (options, 0, sizeof *options);
  options->threads = 1;
  options->score = PL_SCORE_TAYLOR;
}

double
pl_reproduce_holds_to (const double *accuracy,
                       const double *sparsity,
                       guint         n,
                       double        floor)
{
  double remaining = 1.0;

  g_return_val_if_fail (n == 0 || (accuracy != NULL && sparsity != NULL), NAN);

  for (guint k = 1; k < n; k++)
    if (accuracy[k] >= floor)
      remaining = MIN (remaining, 1.0 - sparsity[k]);
  return remaining;
}

/* ---- a result ---------------------------------------------------------------------------- */

void
pl_reproduce_result_free (PlReproduceResult *self)
{
  if (self == NULL)
    return;
  for (guint k = 0; self->rows != NULL && k < self->rows->len; k++)
    {
      PlReproduceRow *r = &g_array_index (self->rows, PlReproduceRow, k);

      g_free (r->key);
      g_free (r->label);
    }
  g_clear_pointer (&self->rows, g_array_unref);
  g_clear_pointer (&self->points, g_array_unref);
  g_free (self->arch);
  g_free (self);
}

static PlReproduceRow *
find_row (PlReproduceResult *result,
          const char        *key)
{
  for (guint k = 0; k < result->rows->len; k++)
    {
      PlReproduceRow *r = &g_array_index (result->rows, PlReproduceRow, k);

      if (strcmp (r->key, key) == 0)
        return r;
    }
  return NULL;
}

/* A row with no value yet. */
static void
add_row (PlReproduceResult *result,
         const char        *key,
         const char        *label,
         const char        *unit,
         double             paper,
         const char        *source)
{
  PlReproduceRow r = {
    .key = g_strdup (key), .label = g_strdup (label), .unit = unit, .paper = paper,
    .source = source, .mean = NAN, .min = NAN, .max = NAN,
  };

  g_array_append_val (result->rows, r);
}

/* One seed's value of the row @key. */
static void
record (PlReproduceResult *result,
        const char        *key,
        double             value)
{
  PlReproduceRow *r = find_row (result, key);

  g_assert (r != NULL);
  if (!isfinite (value))
    return;
  r->n++;
  r->sum += value;
  r->mean = r->sum / r->n;
  r->min = r->n == 1 ? value : MIN (r->min, value);
  r->max = r->n == 1 ? value : MAX (r->max, value);
}

/* ---- pieces every paper uses ------------------------------------------------------------- */

typedef struct {
  const PlData              *data;
  const PlReproduceSettings *s;
  guint                      threads;
  PlReproduceProgressFunc    progress;
  gpointer                   user_data;
  GCancellable              *cancellable;
  PlReproduceResult         *result;
  guint64                    seed;
  const char                *curve;      /* of the points the schedule adds */
  /* frankle2019: validation losses during training, the early-stopping iteration */
  const PlMlp               *watched;    /* borrowed: the model being trained, or NULL */
  double                     best_loss;
  guint64                    best_step;
  guint64                    last_step;
  GPtrArray                 *kept;       /* PlMlp: the model of every point, or NULL */
  GArray                    *stops;      /* double: early-stopping iteration of every point */
  /* progress: the seed's points measured, of n_points */
  guint                      points_done;
  guint                      n_points;
} Ctx;

static void
say (Ctx        *ctx,
     const char *format,
     ...) G_GNUC_PRINTF (2, 3);

static void
say (Ctx        *ctx,
     const char *format,
     ...)
{
  g_autofree char *line = NULL;
  va_list args;

  if (ctx->progress == NULL)
    return;
  va_start (args, format);
  line = g_strdup_vprintf (format, args);
  va_end (args);
  ctx->progress (line,
                 (ctx->seed + MIN (1.0, (double) ctx->points_done / MAX (ctx->n_points, 1)))
                 / MAX (ctx->s->seeds, 1),
                 ctx->user_data);
}

/* LeNet-300-100 for the data: N-300-100-K, ReLU. */
static PlMlp *
lenet_300_100 (const PlData *data)
{
  const guint sizes[] = { data->train->n_features, 300, 100, data->train->n_classes };

  return pl_mlp_new (sizes, G_N_ELEMENTS (sizes) - 1, PL_ACTIVATION_RELU);
}

static void
train_config (const Ctx     *ctx,
              PlTrainConfig *c,
              guint          epochs,
              double         lr,
              guint64        seed)
{
  pl_train_config_init (c);
  c->epochs = epochs;
  c->lr = lr;
  c->optimizer = ctx->s->optimizer;
  c->batch_size = ctx->s->batch;
  c->threads = ctx->threads;
  c->seed = seed;
}

/* The early-stopping iteration (Frankle & Carbin 2019): the step of the lowest validation
 * loss, measured every eval_every steps and at the end of every epoch. */
static void
watch_step (Ctx         *ctx,
            const PlMlp *m,
            guint64      step,
            gboolean     epoch_done)
{
  g_autoptr(PlEvaluation) val = NULL;

  if (step < ctx->last_step || ctx->best_step == 0)
    {
      ctx->best_loss = INFINITY;
      ctx->best_step = 0;
    }
  ctx->last_step = step;
  if (ctx->s->eval_every == 0 || (!epoch_done && step % ctx->s->eval_every != 0))
    return;
  val = pl_evaluate (m, ctx->data->val, NULL);
  if (val != NULL && (ctx->best_step == 0 || val->loss < ctx->best_loss))
    {
      ctx->best_loss = val->loss;
      ctx->best_step = step;
    }
}

static void
train_cb (const PlTrainProgress *tp,
          gpointer               user_data)
{
  Ctx *ctx = user_data;

  if (ctx->watched != NULL)
    watch_step (ctx, ctx->watched, tp->step, tp->epoch_done);
  if (tp->epoch_done)
    say (ctx, _("seed %llu: epoch %u/%u, validation accuracy %.2f%%"),
         (unsigned long long) ctx->seed, tp->epoch, tp->epochs, 100 * tp->record->val_accuracy);
}

/* Trains @m (masked) for @epochs at @lr. */
static gboolean
train (Ctx     *ctx,
       PlMlp   *m,
       guint    epochs,
       double   lr,
       guint64  seed,
       GError **error)
{
  g_autoptr(PlTrainer) trainer = NULL;
  PlTrainConfig c;

  train_config (ctx, &c, epochs, lr, seed);
  trainer = pl_trainer_new (m, &c);
  return pl_trainer_run (trainer, ctx->data->train, ctx->data->val, train_cb, ctx,
                         ctx->cancellable, error);
}

/* Weights and biases, pruned or not. */
static double
weights_and_biases (const PlMlp *m)
{
  double n = 0;

  for (guint i = 0; i < m->n_layers; i++)
    n += (double) m->sizes[i] * m->sizes[i + 1] + m->sizes[i + 1];
  return n;
}

/* A point of @curve measured on @m (test accuracy given, or NaN to evaluate). */
static PlReproducePoint
point_of (Ctx         *ctx,
          const char  *curve,
          guint        level,
          double       target,
          const PlMlp *m,
          double       test_accuracy)
{
  PlReproducePoint p = { .curve = curve, .seed = ctx->seed, .level = level, .target = target,
                         .early_stop = NAN };
  PlMetrics metrics;
  double params = weights_and_biases (m), kept;

  pl_metrics_compute (&metrics, m, NULL, NULL, NULL);
  for (guint i = 0; i < m->n_layers; i++)
    p.layer_sparsity[i] = metrics.layers[i].parameter_sparsity;
  kept = (double) metrics.total.nonzero;
  p.sparsity = metrics.total.parameter_sparsity;
  p.compression = kept > 0 ? params / kept : INFINITY;
  p.speedup = metrics.total.flops_effective > 0
              ? metrics.total.flops_dense / metrics.total.flops_effective : INFINITY;
  if (isnan (test_accuracy))
    {
      g_autoptr(PlEvaluation) ev = pl_evaluate (m, ctx->data->test, NULL);

      test_accuracy = ev != NULL ? ev->accuracy : NAN;
    }
  p.test_accuracy = test_accuracy;
  p.connected = pl_reproduce_connected (m);
  return p;
}

/* The schedule's points become the paper's, with the model each measured. */
static void
schedule_cb (const PlScheduleProgress *sp,
             gpointer                  user_data)
{
  Ctx *ctx = user_data;

  if (sp->train != NULL)
    {
      if (ctx->kept != NULL && sp->model != NULL)
        watch_step (ctx, sp->model, sp->train->step, sp->train->epoch_done);
      if (sp->train->epoch_done)
        say (ctx, _("seed %llu: %s: epoch %u/%u, validation accuracy %.2f%%"),
             (unsigned long long) ctx->seed, sp->stage, sp->train->epoch, sp->train->epochs,
             100 * sp->train->record->val_accuracy);
      return;
    }
  if (sp->point != NULL && sp->model != NULL)
    {
      PlReproducePoint p = point_of (ctx, ctx->curve, sp->point->level,
                                     isnan (sp->point->param) ? 0.0 : sp->point->param,
                                     sp->model, sp->point->test_accuracy);

      if (ctx->kept != NULL)
        {
          p.early_stop = ctx->best_step > 0 ? (double) ctx->best_step : NAN;
          g_ptr_array_add (ctx->kept, pl_mlp_copy (sp->model));
          g_array_append_val (ctx->stops, p.early_stop);
          ctx->best_step = 0;
        }
      g_array_append_val (ctx->result->points, p);
      ctx->points_done++;
      say (ctx, _("seed %llu: %s level %u: %.2f%% of the weights pruned, test accuracy %.2f%%"),
           (unsigned long long) ctx->seed, ctx->curve, p.level, 100 * p.sparsity,
           100 * p.test_accuracy);
    }
}

/* The schedule's default config with the paper's training settings. */
static void
schedule_config (const Ctx        *ctx,
                 PlScheduleConfig *c)
{
  pl_schedule_config_init (c);
  c->train.optimizer = ctx->s->optimizer;
  c->train.batch_size = ctx->s->batch;
  c->train.threads = ctx->threads;
  c->train.lr = ctx->s->retrain_lr > 0 ? ctx->s->retrain_lr : ctx->s->dense_lr;
  c->dense_lr = ctx->s->dense_lr;
  c->dense_epochs = ctx->s->dense_epochs;
  c->rounds = MAX (ctx->s->rounds, 1);
  c->round_epochs = ctx->s->round_epochs;
}

/* A dense LeNet-300-100 from the seed's initialisation, trained. (transfer full) */
static PlMlp *
train_dense (Ctx     *ctx,
             GError **error)
{
  g_autoptr(PlMlp) m = lenet_300_100 (ctx->data);

  pl_mlp_init (m, ctx->seed);
  say (ctx, _("seed %llu: training the dense network (%u epochs)"),
       (unsigned long long) ctx->seed, ctx->s->dense_epochs);
  if (!train (ctx, m, ctx->s->dense_epochs, ctx->s->dense_lr, ctx->seed * 1000003u + 1, error))
    return NULL;
  return g_steal_pointer (&m);
}

/* ---- han2015 ----------------------------------------------------------------------------- */

/* Han et al. 2015, Table 2: weights kept per layer */
static const double han_kept[] = { 0.08, 0.09, 0.26 };

static gboolean
run_han2015 (Ctx     *ctx,
             GError **error)
{
  g_autoptr(PlMlp) dense = train_dense (ctx, error);
  g_autoptr(PlMlp) last = NULL;
  g_autoptr(GArray) points = g_array_new (FALSE, FALSE, sizeof (PlSchedulePoint));
  g_autoptr(PlEvaluation) before = NULL;
  PlScheduleConfig c;
  PlReproducePoint start, end;
  double weights = 0, kept = 0;

  if (dense == NULL)
    return FALSE;
  if (dense->n_layers != G_N_ELEMENTS (han_kept))
    {
      g_set_error (error, PL_SPEC_ERROR, PL_SPEC_ERROR_INVALID,
                   _("han2015 needs a network of %u layers"), (guint) G_N_ELEMENTS (han_kept));
      return FALSE;
    }
  before = pl_evaluate (dense, ctx->data->test, error);
  if (before == NULL)
    return FALSE;

  schedule_config (ctx, &c);
  c.rewind = PL_REWIND_NONE;
  c.spec.scope = PL_SCOPE_LAYER;
  c.n_layer_targets = dense->n_layers;
  for (guint i = 0; i < dense->n_layers; i++)
    c.layer_targets[i] = 1.0 - han_kept[i];
  c.targets[0] = 1.0 - han_kept[0];
  c.n_targets = 1;
  ctx->curve = "han2015";
  if (!pl_schedule_run (dense, ctx->data, PL_METHOD_ITERATIVE, &c, ctx->seed, points, &last,
                        schedule_cb, ctx, ctx->cancellable, error))
    return FALSE;

  start = point_of (ctx, "dense", 0, 0, dense, before->accuracy);
  end = point_of (ctx, "han2015", c.rounds, 0, last, NAN);
  for (guint i = 0; i < last->n_layers; i++)
    {
      double n = (double) last->sizes[i] * last->sizes[i + 1];
      char key[16];

      weights += n;
      kept += n * (1 - end.layer_sparsity[i]);
      g_snprintf (key, sizeof key, "kept_fc%u", i + 1);
      record (ctx->result, key, 100 * (1 - end.layer_sparsity[i]));
    }
  record (ctx->result, "error_before", 100 * (1 - start.test_accuracy));
  record (ctx->result, "error_after", 100 * (1 - end.test_accuracy));
  record (ctx->result, "params_before", weights_and_biases (dense));
  record (ctx->result, "params_after", weights_and_biases (dense) / end.compression);
  record (ctx->result, "compression", end.compression);
  record (ctx->result, "kept_total", 100 * kept / weights);
  return TRUE;
}

/* ---- frankle2019 ------------------------------------------------------------------------- */

static gboolean
run_frankle2019 (Ctx     *ctx,
                 GError **error)
{
  g_autoptr(PlMlp) shape = lenet_300_100 (ctx->data);
  g_autoptr(GArray) points = g_array_new (FALSE, FALSE, sizeof (PlSchedulePoint));
  g_autoptr(GPtrArray) kept = g_ptr_array_new_with_free_func ((GDestroyNotify) pl_mlp_free);
  g_autoptr(GArray) stops = g_array_new (FALSE, FALSE, sizeof (double));
  g_autofree double *acc = NULL;
  g_autofree double *sparsity = NULL;
  g_autofree double *racc = NULL;
  PlScheduleConfig c;
  guint n, first = ctx->result->points->len;
  double floor;

  schedule_config (ctx, &c);
  c.rewind = PL_REWIND_INIT;
  c.round_epochs = PL_ROUND_EPOCHS_DENSE;
  c.n_layer_targets = shape->n_layers;
  /* Frankle & Carbin 2019, Figure 2: p = 20% of each hidden layer per round, p/2 = 10% of the
   * output layer; after K rounds 0.8^K and 0.9^K of them remain */
  for (guint i = 0; i < shape->n_layers; i++)
    c.layer_targets[i] = 1.0 - pow (i + 1 == shape->n_layers ? 0.9 : 0.8, c.rounds);
  c.targets[0] = c.layer_targets[0];
  c.n_targets = 1;
  ctx->curve = "ticket";
  ctx->kept = kept;
  ctx->stops = stops;
  ctx->best_step = 0;
  if (!pl_schedule_run (shape, ctx->data, PL_METHOD_ITERATIVE, &c, ctx->seed, points, NULL,
                        schedule_cb, ctx, ctx->cancellable, error))
    return FALSE;
  ctx->kept = NULL;
  ctx->stops = NULL;

  n = kept->len;
  acc = g_new (double, n);
  sparsity = g_new (double, n);
  racc = g_new (double, n);
  for (guint k = 0; k < n; k++)
    {
      const PlReproducePoint *p = &g_array_index (ctx->result->points, PlReproducePoint, first + k);

      acc[k] = p->test_accuracy;
      sparsity[k] = p->sparsity;
    }
  racc[0] = acc[0];
  /* both curves start at the same dense network */
  {
    PlReproducePoint dense = g_array_index (ctx->result->points, PlReproducePoint, first);

    dense.curve = "reinit";
    g_array_append_val (ctx->result->points, dense);
  }

  /* the same masks, randomly re-initialised (a seed no run uses), trained as long */
  for (guint k = 1; k < n; k++)
    {
      g_autoptr(PlMlp) m = pl_mlp_copy (g_ptr_array_index (kept, k));
      const PlReproducePoint *tp = &g_array_index (ctx->result->points, PlReproducePoint, first + k);
      PlReproducePoint p;

      pl_mlp_init (m, ctx->seed * 7919u + 1000u * k + 17u);
      say (ctx, _("seed %llu: round %u, random re-initialisation"), (unsigned long long) ctx->seed, k);
      ctx->watched = m;
      ctx->best_step = 0;
      if (!train (ctx, m, pl_schedule_round_epochs (&c), c.dense_lr,
                  ctx->seed * 1000003u + 500u + k, error))
        {
          ctx->watched = NULL;
          return FALSE;
        }
      ctx->watched = NULL;
      p = point_of (ctx, "reinit", k, tp->target, m, NAN);
      p.early_stop = ctx->best_step > 0 ? (double) ctx->best_step : NAN;
      racc[k] = p.test_accuracy;
      g_array_append_val (ctx->result->points, p);
      ctx->points_done++;
      say (ctx, _("seed %llu: %s level %u: %.2f%% of the weights pruned, test accuracy %.2f%%"),
           (unsigned long long) ctx->seed, "reinit", k, 100 * p.sparsity, 100 * p.test_accuracy);
    }

  floor = acc[0] - 0.01;
  record (ctx->result, "dense_accuracy", 100 * acc[0]);
  record (ctx->result, "ticket_holds_to", 100 * pl_reproduce_holds_to (acc, sparsity, n, floor));
  record (ctx->result, "reinit_holds_to", 100 * pl_reproduce_holds_to (racc, sparsity, n, floor));
  record (ctx->result, "ticket_last_accuracy", 100 * acc[n - 1]);
  record (ctx->result, "reinit_last_accuracy", 100 * racc[n - 1]);
  record (ctx->result, "dense_early_stop", g_array_index (stops, double, 0));
  record (ctx->result, "ticket_last_early_stop", g_array_index (stops, double, n - 1));
  record (ctx->result, "reinit_last_early_stop",
          g_array_index (ctx->result->points, PlReproducePoint, ctx->result->points->len - 1).early_stop);
  return TRUE;
}

/* ---- blalock2020 ------------------------------------------------------------------------- */

typedef struct {
  const char *curve;
  PlScoreKind score;
  PlScope     scope;
} Strategy;

static guint
blalock_strategies (const PlReproduceResult *result,
                    Strategy                *out)
{
  out[0] = (Strategy) { "magnitude-global", PL_SCORE_MAGNITUDE, PL_SCOPE_GLOBAL };
  out[1] = (Strategy) { "magnitude-layer", PL_SCORE_MAGNITUDE, PL_SCOPE_LAYER };
  out[2] = (Strategy) { "random", PL_SCORE_RANDOM, PL_SCOPE_GLOBAL };
  /* the chosen score, unless it is one of the baselines already */
  if (result->score == PL_SCORE_MAGNITUDE || result->score == PL_SCORE_RANDOM)
    return 3;
  out[3] = (Strategy) { pl_score_info (result->score)->name, result->score, PL_SCOPE_GLOBAL };
  return 4;
}

static void
blalock_rows (PlReproduceResult *result)
{
  Strategy st[4];
  guint n = blalock_strategies (result, st);

  for (guint i = 0; i < n; i++)
    for (guint j = 0; j < G_N_ELEMENTS (blalock_ratios); j++)
      {
        g_autofree char *key = g_strdup_printf ("accuracy.%s.x%g", st[i].curve, blalock_ratios[j]);
        g_autofree char *label = g_strdup_printf (_("%s at ×%g: test accuracy"), st[i].curve, blalock_ratios[j]);
        g_autofree char *skey = g_strdup_printf ("speedup.%s.x%g", st[i].curve, blalock_ratios[j]);
        g_autofree char *slabel = g_strdup_printf (_("%s at ×%g: theoretical speed-up"), st[i].curve, blalock_ratios[j]);
        g_autofree char *ckey = g_strdup_printf ("compression.%s.x%g", st[i].curve, blalock_ratios[j]);
        g_autofree char *clabel = g_strdup_printf (_("%s at ×%g: compression ratio measured"), st[i].curve, blalock_ratios[j]);

        add_row (result, key, label, "%", NAN, NULL);
        add_row (result, ckey, clabel, "×", NAN, NULL);
        add_row (result, skey, slabel, "×", NAN, NULL);
      }
}

static gboolean
run_blalock2020 (Ctx     *ctx,
                 GError **error)
{
  g_autoptr(PlMlp) dense = train_dense (ctx, error);
  g_autoptr(PlEvaluation) ev = NULL;
  Strategy st[4];
  guint n = blalock_strategies (ctx->result, st);

  if (dense == NULL || (ev = pl_evaluate (dense, ctx->data->test, error)) == NULL)
    return FALSE;
  record (ctx->result, "dense_accuracy", 100 * ev->accuracy);

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(GArray) points = g_array_new (FALSE, FALSE, sizeof (PlSchedulePoint));
      guint first = ctx->result->points->len;
      PlScheduleConfig c;

      schedule_config (ctx, &c);
      c.score = st[i].score;
      c.spec.scope = st[i].scope;
      c.fine_tune_epochs = ctx->s->round_epochs;
      /* compression over the weights r = 1/(1 − s): s = 1 − 1/r */
      for (guint j = 0; j < G_N_ELEMENTS (blalock_ratios); j++)
        c.targets[j] = 1.0 - 1.0 / blalock_ratios[j];
      c.n_targets = G_N_ELEMENTS (blalock_ratios);
      ctx->curve = st[i].curve;
      if (!pl_schedule_run (dense, ctx->data, PL_METHOD_ONESHOT, &c, ctx->seed, points, NULL,
                            schedule_cb, ctx, ctx->cancellable, error))
        return FALSE;
      for (guint k = first; k < ctx->result->points->len; k++)
        {
          const PlReproducePoint *p = &g_array_index (ctx->result->points, PlReproducePoint, k);
          char key[96];

          if (p->level == 0)
            continue;
          g_snprintf (key, sizeof key, "accuracy.%s.x%g", p->curve, blalock_ratios[p->level - 1]);
          record (ctx->result, key, 100 * p->test_accuracy);
          g_snprintf (key, sizeof key, "compression.%s.x%g", p->curve, blalock_ratios[p->level - 1]);
          record (ctx->result, key, p->compression);
          g_snprintf (key, sizeof key, "speedup.%s.x%g", p->curve, blalock_ratios[p->level - 1]);
          record (ctx->result, key, p->speedup);
        }
    }
  return TRUE;
}

/* ---- tanaka2020 -------------------------------------------------------------------------- */

gboolean
pl_reproduce_connected (const PlMlp *m)
{
  g_autofree gboolean *reached = NULL;
  g_autofree gboolean *next = NULL;
  guint width = 0;
  gboolean any = TRUE;

  g_return_val_if_fail (m != NULL, FALSE);

  for (guint i = 0; i <= m->n_layers; i++)
    width = MAX (width, m->sizes[i]);
  reached = g_new (gboolean, width);
  next = g_new (gboolean, width);
  for (guint j = 0; j < m->sizes[0]; j++)
    reached[j] = TRUE;
  for (guint i = 0; i < m->n_layers && any; i++)
    {
      const PlLayer *l = &m->layers[i];

      any = FALSE;
      for (guint o = 0; o < l->n_out; o++)
        {
          next[o] = FALSE;
          for (guint j = 0; j < l->n_in && !next[o]; j++)
            next[o] = reached[j] && l->w_mask[(gsize) o * l->n_in + j] != 0.0f;
          any = any || next[o];
        }
      memcpy (reached, next, sizeof (gboolean) * l->n_out);
    }
  return any;
}

static const PlScoreKind tanaka_scores[] = {
  PL_SCORE_MAGNITUDE, PL_SCORE_SNIP, PL_SCORE_GRASP, PL_SCORE_SYNFLOW,
};

static void
tanaka_rows (PlReproduceResult *result)
{
  for (guint i = 0; i < G_N_ELEMENTS (tanaka_scores); i++)
    {
      const char *name = pl_score_info (tanaka_scores[i])->name;
      g_autofree char *key = g_strdup_printf ("collapse.%s", name);
      g_autofree char *label = g_strdup_printf (_("%s at init: compression that first disconnects"), name);

      add_row (result, key, label, "×", NAN, NULL);
      for (guint j = 0; j < G_N_ELEMENTS (tanaka_shown); j++)
        {
          g_autofree char *akey = g_strdup_printf ("accuracy.%s.x%g", name, tanaka_shown[j]);
          g_autofree char *alabel = g_strdup_printf (_("%s at init, ×%g: test accuracy"), name, tanaka_shown[j]);

          add_row (result, akey, alabel, "%", NAN, NULL);
        }
    }
}

static gboolean
run_tanaka2020 (Ctx     *ctx,
                GError **error)
{
  g_autoptr(PlMlp) shape = lenet_300_100 (ctx->data);
  double ratios[TANAKA_MAX_POINTS];
  guint n_ratios = tanaka_ratios (ctx->result->quick, ratios);

  for (guint i = 0; i < G_N_ELEMENTS (tanaka_scores); i++)
    {
      g_autoptr(GArray) points = g_array_new (FALSE, FALSE, sizeof (PlSchedulePoint));
      const char *name = pl_score_info (tanaka_scores[i])->name;
      guint first = ctx->result->points->len;
      double collapse = NAN;
      PlScheduleConfig c;
      char key[96];

      schedule_config (ctx, &c);
      c.score = tanaka_scores[i];
      /* layers may be emptied: that is what is looked for */
      c.spec.allow_empty = TRUE;
      for (guint j = 0; j < n_ratios; j++)
        c.targets[j] = 1.0 - 1.0 / ratios[j];
      c.n_targets = n_ratios;
      ctx->curve = name;
      if (!pl_schedule_run (shape, ctx->data, PL_METHOD_AT_INIT, &c, ctx->seed, points, NULL,
                            schedule_cb, ctx, ctx->cancellable, error))
        return FALSE;

      for (guint k = first; k < ctx->result->points->len; k++)
        {
          const PlReproducePoint *p = &g_array_index (ctx->result->points, PlReproducePoint, k);

          if (p->level == 0)
            {
              if (i == 0)
                record (ctx->result, "dense_accuracy", 100 * p->test_accuracy);
              continue;
            }
          if (isnan (collapse) && !p->connected)
            collapse = ratios[p->level - 1];
          for (guint j = 0; j < G_N_ELEMENTS (tanaka_shown); j++)
            if (fabs (ratios[p->level - 1] / tanaka_shown[j] - 1) < 1e-9)
              {
                g_snprintf (key, sizeof key, "accuracy.%s.x%g", name, tanaka_shown[j]);
                record (ctx->result, key, 100 * p->test_accuracy);
              }
        }
      g_snprintf (key, sizeof key, "collapse.%s", name);
      record (ctx->result, key, collapse);
    }
  return TRUE;
}

/* ---- a run ------------------------------------------------------------------------------- */

PlReproduceResult *
pl_reproduce_run (PlPaper                    paper,
                  const PlData              *data,
                  const PlReproduceOptions  *options,
                  PlReproduceProgressFunc    progress,
                  gpointer                   user_data,
                  GCancellable              *cancellable,
                  GError                   **error)
{
  const PlPaperInfo *info;
  g_autoptr(PlReproduceResult) result = NULL;
  g_autoptr(PlMlp) shape = NULL;
  gint64 t0 = g_get_monotonic_time ();
  Ctx ctx = { 0 };

  g_return_val_if_fail (paper < PL_N_PAPERS, NULL);
  g_return_val_if_fail (data != NULL && options != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  info = &paper_info[paper];
  if (data->val == NULL || data->val->n == 0)
    {
      g_set_error (error, PL_SPEC_ERROR, PL_SPEC_ERROR_INVALID,
                   _("%s: the data need a validation split"), info->name);
      return NULL;
    }

  result = g_new0 (PlReproduceResult, 1);
  result->paper = paper;
  result->quick = options->quick;
  result->settings = options->quick ? info->quick : info->full;
  if (options->seeds > 0)
    result->settings.seeds = options->seeds;
  result->score = options->score;
  shape = lenet_300_100 (data);
  result->arch = pl_mlp_arch (shape);
  result->n_layers = shape->n_layers;
  result->rows = g_array_new (FALSE, FALSE, sizeof (PlReproduceRow));
  result->points = g_array_new (FALSE, FALSE, sizeof (PlReproducePoint));
  for (guint k = 0; k < info->n_numbers; k++)
    {
      const PlPaperNumber *num = &info->numbers[k];

      add_row (result, num->key, _(num->label), num->unit, num->value, num->source);
    }
  if (paper == PL_PAPER_BLALOCK2020)
    blalock_rows (result);
  if (paper == PL_PAPER_TANAKA2020)
    tanaka_rows (result);

  ctx.data = data;
  ctx.s = &result->settings;
  ctx.threads = MAX (options->threads, 1);
  ctx.progress = progress;
  ctx.user_data = user_data;
  ctx.cancellable = cancellable;
  ctx.result = result;

  /* the points a seed measures: han2015 and the tickets the levels 0 … rounds of the iterative
   * schedule, then the re-initialisations of levels 1 … rounds; the others levels 0 … targets
   * of each strategy or score */
  {
    Strategy st[4];
    double ratios[TANAKA_MAX_POINTS];
    guint rounds = MAX (result->settings.rounds, 1);

    ctx.n_points = paper == PL_PAPER_HAN2015 ? rounds + 1
                   : paper == PL_PAPER_FRANKLE2019 ? 2 * rounds + 1
                   : paper == PL_PAPER_BLALOCK2020 ? blalock_strategies (result, st) * (G_N_ELEMENTS (blalock_ratios) + 1)
                   : G_N_ELEMENTS (tanaka_scores) * (tanaka_ratios (result->quick, ratios) + 1);
  }

  for (guint seed = 0; seed < result->settings.seeds; seed++)
    {
      gboolean ok = FALSE;

      ctx.seed = seed;
      ctx.points_done = 0;
      switch (paper)
        {
        case PL_PAPER_HAN2015:
          ok = run_han2015 (&ctx, error);
          break;
        case PL_PAPER_FRANKLE2019:
          ok = run_frankle2019 (&ctx, error);
          break;
        case PL_PAPER_BLALOCK2020:
          ok = run_blalock2020 (&ctx, error);
          break;
        case PL_PAPER_TANAKA2020:
          ok = run_tanaka2020 (&ctx, error);
          break;
        case PL_N_PAPERS:
        default:
          g_assert_not_reached ();
        }
      if (!ok)
        return NULL;
    }

  result->seconds = (g_get_monotonic_time () - t0) / 1e6;
  return g_steal_pointer (&result);
}
