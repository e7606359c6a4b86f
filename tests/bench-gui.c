/* The live drag as the screen shows it, under Xvfb: a drag of 200 pointer positions on the
 * sparsity slider, first idle and then while training runs, on 784-300-100-10 with 10,000
 * Fashion-MNIST evaluation samples (skipped when it is not installed). Reports for each phase
 * the time from each motion to the frame that shows its accuracy (median, 95th percentile),
 * split at the snapshot's arrival on the main loop (the engine's part, then the window's update
 * and drawing), the frame times from the frame clock (median, maximum, how many over 33 ms);
 * the ratio of the training phase to the idle one measured in the same run (the machine may be
 * loaded by others); and launch (GTK initialised, window made) to its first frame.
 *
 * Run with GSK_RENDERER=cairo (meson does): Xvfb has no GPU, and GTK's GL renderer would run on
 * Mesa's llvmpipe, a GPU emulated on the same two cores as the app and the engine. */
#include "config.h"

#include <adwaita.h>
#include <cblas.h>
#include <math.h>
#include <stdio.h>

#include "pl-window.h"

#define N_MOTIONS 200

typedef struct {
  PlWindow  *window;
  gint64     t_start;
  gint64     first_frame;
  gint64     frame_begin;
  GArray    *frame_ms;          /* double */
  gint64     motion_time[N_MOTIONS];
  guint64    motion_request[N_MOTIONS];
  double     latency_ms[N_MOTIONS];
  double     engine_ms[N_MOTIONS];  /* motion → the snapshot answering it on the main loop */
  gint64     answered_at[N_MOTIONS];
  guint      next_unanswered;       /* first motion whose answer has not arrived */
  gboolean   subsample_seen;        /* a snapshot showed a preview of the drag's subsample */
  guint      n_motions;
  guint64    shown_request;     /* newest preview request answered by a delivered snapshot */
  guint      next_unshown;      /* first motion whose answer is not on screen yet */
  gboolean   dragging;
} Bench;

static int
cmp_double (const void *a,
            const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

static double
quantile (double *v,
          guint   n,
          double  q)
{
  qsort (v, n, sizeof (double), cmp_double);
  return n == 0 ? NAN : v[MIN (n - 1, (guint) ceil (q * n) - (q > 0 ? 1 : 0))];
}

static void
on_before_paint (GdkFrameClock *clock,
                 Bench         *b)
{
  b->frame_begin = g_get_monotonic_time ();
}

static void
on_after_paint (GdkFrameClock *clock,
                Bench         *b)
{
  gint64 now = g_get_monotonic_time ();

  if (b->first_frame == 0)
    b->first_frame = now;
  if (b->dragging && b->frame_begin > 0)
    {
      double ms = (now - b->frame_begin) / 1000.0;
      g_array_append_val (b->frame_ms, ms);
    }
  /* every motion answered by a snapshot delivered before this paint is now on screen */
  while (b->next_unshown < b->n_motions && b->motion_request[b->next_unshown] <= b->shown_request)
    {
      b->latency_ms[b->next_unshown] = (now - b->motion_time[b->next_unshown]) / 1000.0;
      b->next_unshown++;
    }
}

static void
on_snapshot (PlEngine   *engine,
             PlSnapshot *snapshot,
             Bench      *b)
{
  gint64 now = g_get_monotonic_time ();

  if (snapshot->preview_request > b->shown_request)
    b->shown_request = snapshot->preview_request;
  b->subsample_seen |= snapshot->has_preview && snapshot->preview_subsample;
  while (b->next_unanswered < b->n_motions
         && b->motion_request[b->next_unanswered] <= b->shown_request)
    {
      b->answered_at[b->next_unanswered] = now;
      b->engine_ms[b->next_unanswered] = (now - b->motion_time[b->next_unanswered]) / 1000.0;
      b->next_unanswered++;
    }
}

static gboolean
motion (gpointer data)
{
  Bench *b = data;
  guint i = b->n_motions;
  /* across 0 … 99 % and back */
  double t = i < N_MOTIONS / 2 ? i / (N_MOTIONS / 2.0 - 1) : (N_MOTIONS - 1 - i) / (N_MOTIONS / 2.0 - 1);
  b->motion_time[i] = g_get_monotonic_time ();
  pl_window_set_sparsity (b->window, 99.0 * t);
  b->motion_request[i] = pl_window_get_last_preview (b->window);
  b->n_motions++;
  /* the window may have waited for the answer and had it delivered already (within
   * pl_window_set_sparsity, before the request id above was known) */
  on_snapshot (NULL, pl_engine_get_snapshot (pl_window_get_engine (b->window)), b);

  return b->n_motions < N_MOTIONS ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

static gboolean
flag_true (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

static void
run_until (gboolean (*cond) (Bench *), Bench *b, guint seconds)
{
  gboolean expired = FALSE;
  guint id = g_timeout_add_seconds (seconds, flag_true, &expired);

  while (!cond (b) && !expired)
    g_main_context_iteration (NULL, TRUE);
  if (!expired)
    g_source_remove (id);
}

static gboolean
idle_cond (Bench *b)
{
  return pl_window_is_idle (b->window);
}

static gboolean
first_frame_cond (Bench *b)
{
  return b->first_frame != 0;
}

static gboolean
training_cond (Bench *b)
{
  PlSnapshot *s = pl_engine_get_snapshot (pl_window_get_engine (b->window));
  return s->state == PL_ENGINE_STATE_TRAINING && s->training.step > 5;
}

static gboolean
drag_done_cond (Bench *b)
{
  return b->n_motions == N_MOTIONS && b->next_unshown == N_MOTIONS;
}

typedef struct {
  guint     shown;
  double    median, p95;            /* motion → frame */
  double    engine_median, engine_p95, ui_median, ui_p95;
  guint     frames, over_33;
  double    frame_median, frame_max;
  gboolean  subsample;
} Phase;

/* A drag of N_MOTIONS positions, one every 16 ms, until every answer is on screen. */
static void
drag_phase (Bench    *b,
            gboolean  training,
            Phase    *r)
{
  static double ui_ms[N_MOTIONS];
  guint n;

  b->n_motions = b->next_unshown = b->next_unanswered = 0;
  b->subsample_seen = FALSE;
  g_array_set_size (b->frame_ms, 0);
  b->dragging = TRUE;
  g_timeout_add (16, motion, b);
  run_until (drag_done_cond, b, 120);
  b->dragging = FALSE;

  n = r->shown = b->next_unshown;
  /* the motion → frame time split: until the answer is on the main loop (the engine), and from
   * there to the frame that shows it (the window's update and drawing) */
  for (guint i = 0; i < n; i++)
    ui_ms[i] = b->latency_ms[i] - b->engine_ms[i];
  r->engine_median = quantile (b->engine_ms, n, 0.5);
  r->engine_p95 = quantile (b->engine_ms, n, 0.95);
  r->ui_median = quantile (ui_ms, n, 0.5);
  r->ui_p95 = quantile (ui_ms, n, 0.95);
  r->median = quantile (b->latency_ms, n, 0.5);
  r->p95 = quantile (b->latency_ms, n, 0.95);
  r->frames = b->frame_ms->len;
  r->over_33 = 0;
  for (guint i = 0; i < r->frames; i++)
    r->over_33 += g_array_index (b->frame_ms, double, i) > 33.0;
  r->frame_median = quantile ((double *) b->frame_ms->data, r->frames, 0.5);
  r->frame_max = r->frames > 0 ? g_array_index (b->frame_ms, double, r->frames - 1) : NAN;
  r->subsample = b->subsample_seen;
  if (!r->subsample)
    g_printerr ("bench-gui: the %s drag did not show the drag's subsample\n",
                training ? "training" : "idle");
}

static void
print_phase (const char  *name,
             const Phase *r)
{
  printf ("  \"%s\": {\n    \"motions_shown\": %u,\n"
          "    \"motion_to_screen_median_ms\": %.1f,\n    \"motion_to_screen_p95_ms\": %.1f,\n"
          "    \"motion_to_snapshot_median_ms\": %.1f,\n    \"motion_to_snapshot_p95_ms\": %.1f,\n"
          "    \"snapshot_to_screen_median_ms\": %.1f,\n    \"snapshot_to_screen_p95_ms\": %.1f,\n"
          "    \"frames\": %u,\n    \"frame_median_ms\": %.2f,\n    \"frame_max_ms\": %.2f,\n"
          "    \"frames_over_33_ms\": %u,\n    \"subsample_shown\": %s\n  },\n",
          name, r->shown, r->median, r->p95, r->engine_median, r->engine_p95, r->ui_median, r->ui_p95,
          r->frames, r->frame_median, r->frame_max, r->over_33, r->subsample ? "true" : "false");
}

int
main (int    argc,
      char **argv)
{
  Bench b = { 0 };
  PlEngine *engine;
  PlDataOptions options = PL_DATA_OPTIONS_INIT;
  PlTrainConfig config;
  GdkFrameClock *clock;
  gboolean fmnist = g_file_test (PL_FASHION_MNIST_DIR "/train-images-idx3-ubyte.gz", G_FILE_TEST_EXISTS);
  double launch_ms;
  Phase idle, training;

  b.t_start = g_get_monotonic_time ();
  if (!gtk_init_check ())
    {
      g_printerr ("bench-gui: no display; run under xvfb-run\n");
      return 77;
    }
  adw_init ();
  b.frame_ms = g_array_new (FALSE, FALSE, sizeof (double));

  b.window = pl_window_new (NULL);
  gtk_window_present (GTK_WINDOW (b.window));
  gtk_widget_realize (GTK_WIDGET (b.window));
  clock = gtk_widget_get_frame_clock (GTK_WIDGET (b.window));
  g_signal_connect (clock, "before-paint", G_CALLBACK (on_before_paint), &b);
  g_signal_connect (clock, "after-paint", G_CALLBACK (on_after_paint), &b);
  engine = pl_window_get_engine (b.window);
  g_signal_connect (engine, "snapshot", G_CALLBACK (on_snapshot), &b);

  run_until (first_frame_cond, &b, 60);
  launch_ms = (b.first_frame - b.t_start) / 1000.0;
  run_until (idle_cond, &b, 60);

  /* 784-300-100-10 with 10,000 evaluation (validation) samples */
  options.val_size = 10000;
  if (fmnist)
    pl_engine_load_data (engine, "fashion-mnist", &options);
  else
    g_printerr ("bench-gui: Fashion-MNIST is not installed; random data of the same shape\n");
  pl_engine_new_model (engine, fmnist ? "784-300-100-10" : NULL, PL_ACTIVATION_RELU, 1);
  if (!fmnist)
    {
      g_printerr ("bench-gui: skipped without Fashion-MNIST\n");
      return 77;
    }
  run_until (idle_cond, &b, 120);
  /* a first preview builds the engine's (the inputs feature-major, the scores sorted, the first
   * layer computed): a drag finds it made */
  pl_window_set_sparsity (b.window, 50.0);
  run_until (idle_cond, &b, 60);
  pl_window_set_sparsity (b.window, 0.0);
  run_until (idle_cond, &b, 60);

  drag_phase (&b, FALSE, &idle);
  pl_train_config_init (&config);
  config.epochs = 50;
  pl_engine_train (engine, &config);
  run_until (training_cond, &b, 60);
  drag_phase (&b, TRUE, &training);
  pl_engine_stop (engine);

  printf ("{\n  \"launch_to_first_frame_ms\": %.1f,\n", launch_ms);
  print_phase ("idle", &idle);
  print_phase ("training", &training);
  printf ("  \"ratio_training_to_idle\": { \"median\": %.2f, \"p95\": %.2f },\n"
          "  \"previews_requested\": %" G_GUINT64_FORMAT ",\n  \"previews_computed\": %" G_GUINT64_FORMAT ",\n"
          "  \"blas_core\": \"%s\"\n}\n",
          training.median / idle.median, training.p95 / idle.p95,
          pl_engine_get_snapshot (engine)->previews_requested,
          pl_engine_get_snapshot (engine)->previews_computed, openblas_get_corename ());

  gtk_window_destroy (GTK_WINDOW (b.window));
  g_array_unref (b.frame_ms);
  return 0;
}
