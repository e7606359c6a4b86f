/* The engine's reproduce command: the result is pl_reproduce_run's on the same data and
 * options, its stages arrive in the snapshots, Stop cancels it, and a failure is an error.
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "pl-blas.h"
#include "pl-engine.h"
#include "pl-error.h"
#include "pl-test-engine.h"

#define SPEC       "moons:n=300,seed=2"
#define TIMEOUT_MS 120000

typedef struct {
  PlTestEngine  t;
  gboolean      saw_stage;   /* a snapshot of the command running with its stage text */
} Recorder;

static void
on_snapshot (PlTestEngine *t,
             PlSnapshot   *snapshot)
{
  Recorder *r = t->user_data;

  if (snapshot->command == PL_ENGINE_COMMAND_REPRODUCE && snapshot->progress_text != NULL
      && strstr (snapshot->progress_text, "seed 0") != NULL)
    r->saw_stage = TRUE;
}

static void
recorder_init (Recorder *r)
{
  memset (r, 0, sizeof *r);
  pl_test_engine_init (&r->t, 2, on_snapshot, r);
}

static gboolean
wait_done (Recorder *r,
           guint     id)
{
  return pl_test_engine_wait_done (&r->t, id, TIMEOUT_MS);
}

static void
options_init (PlReproduceOptions *o)
{
  pl_reproduce_options_init (o);
  o->quick = TRUE;
  o->seeds = 1;
  o->threads = 1;
}

/* han2015 --quick on tiny data: the engine's rows and points are pl_reproduce_run's on the
 * same data (loaded from the same spec), number for number. */
static void
test_equals_direct (void)
{
  g_autoptr(PlReproduceResult) direct = NULL;
  g_autoptr(PlData) data = NULL;
  g_autoptr(GError) error = NULL;
  PlDataOptions data_options = PL_DATA_OPTIONS_INIT;
  const PlReproduceResult *got;
  PlReproduceOptions o;
  Recorder r;
  int blas;

  options_init (&o);
  data = pl_data_load (SPEC, &data_options, &error);
  g_assert_no_error (error);
  /* the engine's BLAS threads (pl_engine_new (2)) */
  blas = pl_blas_set_threads (2);
  direct = pl_reproduce_run (PL_PAPER_HAN2015, data, &o, NULL, NULL, NULL, &error);
  pl_blas_set_threads (blas);
  g_assert_no_error (error);
  g_assert_nonnull (direct);

  recorder_init (&r);
  g_assert_null (pl_engine_get_reproduction (r.t.engine));
  g_assert_true (wait_done (&r, pl_engine_reproduce (r.t.engine, PL_PAPER_HAN2015, &o, SPEC)));
  g_assert_cmpuint (r.t.errors->len, ==, 0);
  g_assert_true (r.saw_stage);
  /* idle again, no stage left */
  g_assert_cmpint (r.t.last->state, ==, PL_ENGINE_STATE_IDLE);
  g_assert_null (r.t.last->progress_text);
  /* the engine's own model and data were not touched: it had none and still has none */
  g_assert_null (r.t.last->arch);
  g_assert_null (r.t.last->data_name);

  got = pl_engine_get_reproduction (r.t.engine);
  g_assert_nonnull (got);
  g_assert_cmpint (got->paper, ==, PL_PAPER_HAN2015);
  g_assert_true (got->quick);
  g_assert_cmpstr (got->arch, ==, direct->arch);
  g_assert_cmpuint (got->settings.seeds, ==, 1);
  g_assert_cmpuint (got->rows->len, ==, direct->rows->len);
  for (guint k = 0; k < got->rows->len; k++)
    {
      const PlReproduceRow *a = &g_array_index (got->rows, PlReproduceRow, k);
      const PlReproduceRow *b = &g_array_index (direct->rows, PlReproduceRow, k);

      g_assert_cmpstr (a->key, ==, b->key);
      g_assert_cmpuint (a->n, ==, b->n);
      g_assert_true ((isnan (a->mean) && isnan (b->mean)) || a->mean == b->mean);
      g_assert_true ((isnan (a->min) && isnan (b->min)) || a->min == b->min);
      g_assert_true ((isnan (a->max) && isnan (b->max)) || a->max == b->max);
    }
  g_assert_cmpuint (got->points->len, ==, direct->points->len);
  for (guint k = 0; k < got->points->len; k++)
    {
      const PlReproducePoint *a = &g_array_index (got->points, PlReproducePoint, k);
      const PlReproducePoint *b = &g_array_index (direct->points, PlReproducePoint, k);

      g_assert_cmpstr (a->curve, ==, b->curve);
      g_assert_cmpfloat (a->sparsity, ==, b->sparsity);
      g_assert_cmpfloat (a->test_accuracy, ==, b->test_accuracy);
    }
  pl_test_engine_clear (&r.t);
}

/* The engine's own data when no spec is given; Stop ends the run: ok, no result, nothing in
 * ::error, and the cancellation is G_IO_ERROR_CANCELLED from pl_reproduce_run itself. */
static void
test_stop (void)
{
  g_autoptr(PlData) data = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GCancellable) cancelled = g_cancellable_new ();
  g_autoptr(PlReproduceResult) none = NULL;
  PlDataOptions data_options = PL_DATA_OPTIONS_INIT;
  PlReproduceOptions o;
  Recorder r;
  guint id;

  options_init (&o);
  data = pl_data_load (SPEC, &data_options, &error);
  g_assert_no_error (error);
  g_cancellable_cancel (cancelled);
  none = pl_reproduce_run (PL_PAPER_FRANKLE2019, data, &o, NULL, NULL, cancelled, &error);
  g_assert_null (none);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);

  recorder_init (&r);
  g_assert_true (wait_done (&r, pl_engine_load_data (r.t.engine, SPEC, NULL)));
  id = pl_engine_reproduce (r.t.engine, PL_PAPER_FRANKLE2019, &o, NULL);
  pl_engine_stop (r.t.engine);
  g_assert_true (wait_done (&r, id));
  g_assert_cmpuint (r.t.errors->len, ==, 0);
  g_assert_null (pl_engine_get_reproduction (r.t.engine));
  g_assert_cmpint (r.t.last->state, ==, PL_ENGINE_STATE_IDLE);
  /* the engine goes on: a run after the stop finishes, on the loaded data */
  o.seeds = 1;
  g_assert_true (wait_done (&r, pl_engine_reproduce (r.t.engine, PL_PAPER_BLALOCK2020, &o, NULL)));
  g_assert_nonnull (pl_engine_get_reproduction (r.t.engine));
  g_assert_cmpint (pl_engine_get_reproduction (r.t.engine)->paper, ==, PL_PAPER_BLALOCK2020);
  pl_test_engine_clear (&r.t);
}

/* Without data, or with a spec that does not load: ::error says why, done is not ok. */
static void
test_failures (void)
{
  PlReproduceOptions o;
  Recorder r;

  options_init (&o);
  recorder_init (&r);
  g_assert_false (wait_done (&r, pl_engine_reproduce (r.t.engine, PL_PAPER_HAN2015, &o, NULL)));
  g_assert_cmpuint (r.t.errors->len, ==, 1);
  g_assert_error ((GError *) g_ptr_array_index (r.t.errors, 0), PL_ENGINE_ERROR, PL_ENGINE_ERROR_NO_DATA);
  g_assert_false (wait_done (&r, pl_engine_reproduce (r.t.engine, PL_PAPER_HAN2015, &o,
                                                      "csv:/nonexistent/train.csv")));
  g_assert_cmpuint (r.t.errors->len, ==, 2);
  g_assert_nonnull (strstr (((GError *) g_ptr_array_index (r.t.errors, 1))->message, "nonexistent"));
  g_assert_null (pl_engine_get_reproduction (r.t.engine));
  g_assert_cmpint (r.t.last->state, ==, PL_ENGINE_STATE_IDLE);
  pl_test_engine_clear (&r.t);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/engine/reproduce/equals-pl-reproduce-run", test_equals_direct);
  g_test_add_func ("/engine/reproduce/stop-cancels", test_stop);
  g_test_add_func ("/engine/reproduce/failures-are-errors", test_failures);
  return g_test_run ();
}
