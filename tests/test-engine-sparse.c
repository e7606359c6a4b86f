/* The engine's measure-sparse and export-compact commands: results arrive with ::done on the
 * main context, a compacted export loads as the smaller network with the masked one's outputs,
 * and a bad path is an ::error naming the file while the engine keeps running. */
#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "pl-compact.h"
#include "pl-engine.h"
#include "pl-nn.h"
#include "pl-rng.h"
#include "pl-safetensors.h"

typedef struct {
  guint     command;
  guint     id;
  gboolean  ok;
  gboolean  got;
  GError   *error;
} Wait;

static void
on_done (PlEngine *engine,
         guint     command,
         guint     id,
         gboolean  ok,
         Wait     *w)
{
  if (id != w->id)
    return;
  w->command = command;
  w->ok = ok;
  w->got = TRUE;
}

static void
on_error (PlEngine     *engine,
          const GError *error,
          Wait         *w)
{
  g_clear_error (&w->error);
  w->error = g_error_copy (error);
}

static void
wait_for (PlEngine *engine,
          Wait     *w,
          guint     id)
{
  gint64 end = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;

  w->id = id;
  w->got = FALSE;
  while (!w->got && g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, TRUE);
  g_assert_true (w->got);
}

/* 30-20-10-4 with 80% of its weights and hidden neurons 0–4 of the first layer pruned */
static PlMlp *
pruned_model (void)
{
  static const guint sizes[] = { 30, 20, 10, 4 };
  PlMlp *m = pl_mlp_new (sizes, 3, PL_ACTIVATION_RELU);
  PlRng rng;

  pl_mlp_init (m, 2);
  pl_rng_init (&rng, 3);
  for (guint i = 0; i < m->n_layers; i++)
    for (gsize k = 0; k < (gsize) m->layers[i].n_out * m->layers[i].n_in; k++)
      if (pl_rng_uniform (&rng) < 0.8)
        m->layers[i].w_mask[k] = 0.0f;
  for (guint j = 0; j < 5; j++)
    for (guint o = 0; o < 10; o++)
      m->layers[1].w_mask[o * 20 + j] = 0.0f;
  pl_mlp_apply_masks (m);
  return m;
}

static void
test_measure (void)
{
  g_autoptr(PlEngine) engine = pl_engine_new (1);
  g_autoptr(PlMlp) m = pruned_model ();
  g_autofree char *arch = NULL;
  const PlSparseReport *r;
  Wait w = { 0 };
  guint sizes[4];

  g_signal_connect (engine, "done", G_CALLBACK (on_done), &w);
  g_signal_connect (engine, "error", G_CALLBACK (on_error), &w);
  g_assert_null (pl_engine_get_sparse_report (engine));
  wait_for (engine, &w, pl_engine_measure_sparse (engine, m));
  g_assert_no_error (w.error);
  g_assert_true (w.ok);
  g_assert_cmpuint (w.command, ==, PL_ENGINE_COMMAND_MEASURE_SPARSE);

  r = pl_engine_get_sparse_report (engine);
  g_assert_nonnull (r);
  g_assert_cmpuint (r->batch1.batch, ==, 1);
  g_assert_cmpuint (r->batch256.batch, ==, 256);
  for (PlForwardKind k = 0; k < PL_N_FORWARDS; k++)
    {
      g_assert_cmpfloat (r->batch1.ms[k], >, 0.0);
      g_assert_cmpfloat (r->batch256.ms[k], >, 0.0);
      g_assert_cmpfloat (r->batch256.flops[k], ==, 256 * r->batch1.flops[k]);
    }
  g_assert_cmpfloat (r->batch1.bytes[PL_FORWARD_CSR], <, r->batch1.bytes[PL_FORWARD_DENSE]);
  pl_compact_sizes (m, sizes);
  arch = g_strdup_printf ("%u-%u-%u-%u", sizes[0], sizes[1], sizes[2], sizes[3]);
  g_assert_cmpstr (r->compact_arch, ==, arch);
  g_assert_cmpuint (sizes[1], <=, 15);
  g_clear_error (&w.error);
}

static void
test_export (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PlEngine) engine = pl_engine_new (1);
  g_autoptr(PlMlp) m = pruned_model ();
  g_autoptr(PlMlp) back = NULL;
  g_autoptr(PlNnWork) wm = NULL;
  g_autoptr(PlNnWork) wb = NULL;
  g_autofree char *dir = g_dir_make_tmp ("test-engine-sparse-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "small.safetensors", NULL);
  g_autofree char *bad = g_build_filename (dir, "missing", "small.safetensors", NULL);
  float x[3 * 30];
  const float *pm, *pb;
  Wait w = { 0 };

  g_signal_connect (engine, "done", G_CALLBACK (on_done), &w);
  g_signal_connect (engine, "error", G_CALLBACK (on_error), &w);
  wait_for (engine, &w, pl_engine_export_compact (engine, m, path));
  g_assert_no_error (w.error);
  g_assert_true (w.ok);
  back = pl_safetensors_load (path, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (back->sizes[1], <, 20);
  for (guint k = 0; k < G_N_ELEMENTS (x); k++)
    x[k] = (float) k / G_N_ELEMENTS (x);
  wm = pl_nn_work_new (m, 3);
  wb = pl_nn_work_new (back, 3);
  pm = pl_nn_forward (m, wm, x, 3);
  pb = pl_nn_forward (back, wb, x, 3);
  for (guint k = 0; k < 3 * 4; k++)
    g_assert_cmpfloat_with_epsilon (pb[k], pm[k], 1e-6);

  /* a folder that does not exist: an error naming the file, and the engine goes on */
  wait_for (engine, &w, pl_engine_export_compact (engine, m, bad));
  g_assert_false (w.ok);
  g_assert_nonnull (w.error);
  g_assert_nonnull (strstr (w.error->message, "small.safetensors"));
  g_clear_error (&w.error);
  wait_for (engine, &w, pl_engine_measure_sparse (engine, m));
  g_assert_true (w.ok);

  g_unlink (path);
  g_rmdir (dir);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/engine/thread/sparse/measure-arrives-with-done", test_measure);
  g_test_add_func ("/engine/thread/sparse/export-compact-and-bad-path", test_export);

  return g_test_run ();
}
