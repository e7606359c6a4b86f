/* The live drag as the screen shows it, under Xvfb: a drag of 200 pointer positions on the
 * sparsity slider while training runs, on 784-300-100-10 with 10,000 Fashion-MNIST evaluation
 * samples (skipped when it is not installed). Reports the time from each motion to the frame
 * that shows its accuracy (median, 95th percentile) and the frame times from the frame clock
 * (median, maximum); and launch (GTK initialised, window made) to its first frame.
 *
 * Run with GSK_RENDERER=cairo (meson does): Xvfb has no GPU, and GTK's GL renderer would run on
 * Mesa's llvmpipe, a GPU emulated on the same two cores as the app and the engine. */
#include "config.h"

#include <adwaita.h>
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
  if (snapshot->preview_request > b->shown_request)
    b->shown_request = snapshot->preview_request;
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
  guint n_lat = 0;
  double launch_ms, lat_med, lat_p95, frame_med, frame_max;
  guint n_frames, over_33 = 0;

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
  pl_window_set_sparsity (b.window, 0.0);
  run_until (idle_cond, &b, 60);

  pl_train_config_init (&config);
  config.epochs = 50;
  pl_engine_train (engine, &config);
  run_until (training_cond, &b, 60);

  b.dragging = TRUE;
  g_timeout_add (16, motion, &b);
  run_until (drag_done_cond, &b, 120);
  b.dragging = FALSE;
  pl_engine_stop (engine);

  n_lat = b.next_unshown;
  lat_med = quantile (b.latency_ms, n_lat, 0.5);
  lat_p95 = quantile (b.latency_ms, n_lat, 0.95);
  n_frames = b.frame_ms->len;
  for (guint i = 0; i < n_frames; i++)
    over_33 += g_array_index (b.frame_ms, double, i) > 33.0;
  frame_med = quantile ((double *) b.frame_ms->data, n_frames, 0.5);
  frame_max = n_frames > 0 ? g_array_index (b.frame_ms, double, n_frames - 1) : NAN;

  printf ("{\n  \"launch_to_first_frame_ms\": %.1f,\n  \"motions\": %u,\n  \"motions_shown\": %u,\n"
          "  \"motion_to_screen_median_ms\": %.1f,\n  \"motion_to_screen_p95_ms\": %.1f,\n"
          "  \"frames\": %u,\n  \"frame_median_ms\": %.2f,\n  \"frame_max_ms\": %.2f,\n  \"frames_over_33_ms\": %u,\n"
          "  \"previews_requested\": %" G_GUINT64_FORMAT ",\n  \"previews_computed\": %" G_GUINT64_FORMAT ",\n"
          "  \"training_during_drag\": true\n}\n",
          launch_ms, b.n_motions, n_lat, lat_med, lat_p95, n_frames, frame_med, frame_max, over_33,
          pl_engine_get_snapshot (engine)->previews_requested, pl_engine_get_snapshot (engine)->previews_computed);

  gtk_window_destroy (GTK_WINDOW (b.window));
  g_array_unref (b.frame_ms);
  return 0;
}
