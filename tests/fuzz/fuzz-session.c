#define G_LOG_DOMAIN "fuzz-session"

#include "config.h"

#include <math.h>
#include <string.h>

#include "pl-error.h"
#include "pl-fuzz.h"
#include "pl-mlp.h"
#include "pl-safetensors.h"
#include "pl-session.h"

/* The session reader as a user reaches it: pl_session_load () of a file, as the app's Open,
 * `prunelab FILE.prunelab` and prunelab-cli --session pass it. The input is the file.
 *
 * Checked: a rejection is a PL_FORMAT_ERROR naming the file. A loaded session has a model and
 * initial weights of one architecture, the initial weights unpruned, masks of 0 and 1 with
 * every pruned weight exactly 0, finite parameters, a data spec and a 64-digit hash, settings
 * in their ranges, a history numbered 1, 2, …, and sweep points in [0, 1]; and it survives a
 * round trip through the writer: saved and loaded again, everything is the same, bit for bit. */

static void
check_model (const PlMlp *m,
             const char  *what)
{
  PL_FUZZ_CHECK (m->n_layers >= 1 && m->n_layers <= PL_MLP_MAX_LAYERS, "%s: %u layers", what,
                 m->n_layers);
  for (gsize k = 0; k < m->n_params; k++)
    {
      PL_FUZZ_CHECK (isfinite (m->params[k]), "%s: parameter %zu is %g", what, k, m->params[k]);
      PL_FUZZ_CHECK (m->masks[k] == 0.0f || m->masks[k] == 1.0f, "%s: mask %zu is %g", what, k,
                     m->masks[k]);
      PL_FUZZ_CHECK (m->masks[k] == 1.0f || m->params[k] == 0.0f,
                     "%s: pruned parameter %zu is %g", what, k, m->params[k]);
    }
}

static void
check_session (const PlSession *s)
{
  PL_FUZZ_CHECK (s->model != NULL && s->initial != NULL, "no model");
  check_model (s->model, "model");
  check_model (s->initial, "initial");
  PL_FUZZ_CHECK (s->model->n_layers == s->initial->n_layers
                 && memcmp (s->model->sizes, s->initial->sizes,
                            sizeof (guint) * (s->model->n_layers + 1)) == 0
                 && s->model->activation == s->initial->activation,
                 "the initial weights have another architecture");
  PL_FUZZ_CHECK (pl_mlp_n_pruned (s->initial) == 0, "the initial weights are pruned");
  PL_FUZZ_CHECK (s->data_spec != NULL && s->data_spec[0] != '\0', "no data spec");
  PL_FUZZ_CHECK (s->data_sha256 != NULL && strlen (s->data_sha256) == 64, "bad data hash");
  PL_FUZZ_CHECK (g_utf8_validate (s->software, -1, NULL) && g_utf8_validate (s->created, -1, NULL),
                 "software or created not UTF-8");
  PL_FUZZ_CHECK (s->train.epochs >= 1 && s->train.batch_size >= 1 && s->train.lr > 0
                 && isfinite (s->train.lr), "training settings out of range");
  PL_FUZZ_CHECK (s->strategy.score < PL_N_SCORES, "score %d", s->strategy.score);
  PL_FUZZ_CHECK (isfinite (s->slider) && (s->slider_by_threshold
                                          || (s->slider >= 0 && s->slider <= 1)),
                 "slider %g", s->slider);
  for (guint e = 0; e < s->history->len; e++)
    PL_FUZZ_CHECK (g_array_index (s->history, PlEpochRecord, e).epoch == e + 1,
                   "epoch %u numbered %u", e, g_array_index (s->history, PlEpochRecord, e).epoch);
  for (guint k = 0; k < s->grad_norms->len; k++)
    PL_FUZZ_CHECK (isfinite (g_array_index (s->grad_norms, float, k)), "gradient norm %u", k);
  PL_FUZZ_CHECK (s->curves->len <= PL_SESSION_MAX_CURVES, "%u curves", s->curves->len);
  for (guint i = 0; i < s->curves->len; i++)
    {
      const PlSessionCurve *c = &g_array_index (s->curves, PlSessionCurve, i);

      PL_FUZZ_CHECK (c->score < PL_N_SCORES, "curve %u: score %d", i, c->score);
      for (guint k = 0; k < c->points->len; k++)
        {
          const PlSweepPoint *p = &g_array_index (c->points, PlSweepPoint, k);

          PL_FUZZ_CHECK (p->target >= 0 && p->target <= 1 && p->sparsity >= 0
                         && p->sparsity <= 1 && p->accuracy >= 0 && p->accuracy <= 1,
                         "curve %u point %u out of range", i, k);
        }
    }
}

static void
check_same_model (const PlMlp *a,
                  const PlMlp *b,
                  const char  *what)
{
  PL_FUZZ_CHECK (a->n_params == b->n_params && a->n_neurons == b->n_neurons
                 && memcmp (a->params, b->params, sizeof (float) * a->n_params) == 0
                 && memcmp (a->masks, b->masks, sizeof (float) * a->n_params) == 0
                 && memcmp (a->neuron_masks, b->neuron_masks, sizeof (float) * a->n_neurons) == 0,
                 "%s changed in a round trip", what);
}

static void
check_round_trip (const PlSession *s)
{
  g_autofree char *path = g_build_filename (pl_fuzz_dir (), "round-trip.prunelab", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(PlSession) again = NULL;

  PL_FUZZ_CHECK (pl_session_save (s, path, &error), "a loaded session does not save: %s",
                 error->message);
  again = pl_session_load (path, &error);
  PL_FUZZ_CHECK (again != NULL, "a saved session does not load: %s", error->message);
  check_same_model (s->model, again->model, "the model");
  check_same_model (s->initial, again->initial, "the initial model");
  PL_FUZZ_CHECK (strcmp (s->data_spec, again->data_spec) == 0
                 && strcmp (s->data_sha256, again->data_sha256) == 0,
                 "the data changed in a round trip");
  PL_FUZZ_CHECK (memcmp (&s->slider, &again->slider, sizeof s->slider) == 0
                 && memcmp (&s->train.lr, &again->train.lr, sizeof s->train.lr) == 0
                 && s->strategy.score == again->strategy.score
                 && g_strcmp0 (s->lesson_id, again->lesson_id) == 0,
                 "the settings changed in a round trip");
  PL_FUZZ_CHECK (s->history->len == again->history->len
                 && s->grad_norms->len == again->grad_norms->len
                 && (s->grad_norms->len == 0
                     || memcmp (s->grad_norms->data, again->grad_norms->data,
                                sizeof (float) * s->grad_norms->len) == 0),
                 "the history changed in a round trip");
  PL_FUZZ_CHECK (s->curves->len == again->curves->len, "the curves changed in a round trip");
  for (guint i = 0; i < s->curves->len; i++)
    {
      GArray *a = g_array_index (s->curves, PlSessionCurve, i).points;
      GArray *b = g_array_index (again->curves, PlSessionCurve, i).points;

      PL_FUZZ_CHECK (a->len == b->len
                     && (a->len == 0
                         || memcmp (a->data, b->data, sizeof (PlSweepPoint) * a->len) == 0),
                     "curve %u changed in a round trip", i);
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autofree char *path = pl_fuzz_write ("session.prunelab", data, size);
  g_autoptr(GError) error = NULL;
  g_autoptr(PlSession) session = pl_session_load (path, &error);

  if (!pl_fuzz_loaded (session, error, path))
    return 0;
  check_session (session);
  check_round_trip (session);

  return 0;
}

/* ---- seeds ------------------------------------------------------------------------------- */

/* Sessions written by pl_session_to_bytes (), the writer PruneLab uses: small models, with and
 * without history, curves and a lesson; then the model seeds, which must be refused. */
void
pl_fuzz_make_seeds (void)
{
  static const struct {
    const char *arch;
    guint       epochs;
    guint       curves;
    gboolean    lesson;
    gboolean    by_threshold;
  } sessions[] = {
    { "2-3-2", 0, 0, FALSE, FALSE },
    { "2-4-3", 3, 1, TRUE, FALSE },
    { "3-2-2-2", 2, 2, FALSE, TRUE },
  };
  g_auto(GStrv) bad = pl_fuzz_data_files ("bad", "session-");

  for (guint i = 0; i < G_N_ELEMENTS (sessions); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(PlSession) s = pl_session_new ();
      g_autoptr(PlData) data = NULL;
      g_autoptr(GBytes) bytes = NULL;
      g_autofree char *name = NULL;
      g_autofree char *spec = NULL;
      PlMlp *m = pl_mlp_new_from_arch (sessions[i].arch, PL_ACTIVATION_RELU, &error);
      PlDataOptions options = PL_DATA_OPTIONS_INIT;
      gsize len;
      const void *contents;

      g_assert_no_error (error);
      pl_mlp_init (m, 2000 + i);
      for (gsize k = 1; k < m->layers[0].n_in * m->layers[0].n_out; k += 2)
        m->layers[0].w_mask[k] = 0.0f;
      pl_mlp_apply_masks (m);
      pl_session_set_model (s, m, NULL);

      spec = g_strdup_printf ("blobs:n=20,classes=%u", m->sizes[m->n_layers]);
      options.val_size = 4;
      data = pl_data_load (sessions[i].arch[0] == '2' ? spec : "blobs:n=20", &options, &error);
      g_assert_no_error (error);
      pl_session_set_data (s, data, &options);

      for (guint e = 0; e < sessions[i].epochs; e++)
        {
          PlEpochRecord r = { e + 1, 0.5, 0.75, e == 0 ? NAN : 0.25, e == 0 ? NAN : 0.5, 0.1, 1 };
          float norm = 0.5f + e;

          g_array_append_val (s->history, r);
          g_array_append_val (s->grad_norms, norm);
        }
      for (guint c = 0; c < sessions[i].curves; c++)
        {
          PlSweepPoint points[] = { { 0, 0, 0, 0.9, 0.2 }, { 0.5, 0.5, 0.25, 0.75, 0.5 } };

          pl_session_add_curve (s, (PlScoreKind) c, c, points, G_N_ELEMENTS (points));
        }
      if (sessions[i].lesson)
        {
          s->lesson_id = g_strdup ("magnitude");
          s->lesson_step = 2;
        }
      s->slider_by_threshold = sessions[i].by_threshold;
      s->slider = sessions[i].by_threshold ? 0.125 : 0.5;

      bytes = pl_session_to_bytes (s, "seed.prunelab", &error);
      g_assert_no_error (error);
      contents = g_bytes_get_data (bytes, &len);
      name = g_strdup_printf ("session-%s-%u-%u.prunelab", sessions[i].arch,
                              sessions[i].epochs, sessions[i].curves);
      pl_fuzz_add_seed (name, contents, len);
    }

  for (guint i = 0; bad[i] != NULL; i++)
    {
      g_autoptr(GBytes) bytes = pl_fuzz_read (bad[i]);
      g_autofree char *base = g_path_get_basename (bad[i]);
      gsize len;
      const void *contents = g_bytes_get_data (bytes, &len);

      pl_fuzz_add_seed (base, contents, len);
    }
}
