#define G_LOG_DOMAIN "test-session"

#include "config.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "pl-error.h"
#include "pl-mlp.h"
#include "pl-safetensors.h"
#include "pl-session.h"

/* ---- helpers ----------------------------------------------------------------------------- */

static char *tmp_dir;

static char *
tmp_path (const char *name)
{
  return g_build_filename (tmp_dir, name, NULL);
}

/* A session as a user makes one: a trained and pruned 2-5-3 model on spiral data, initial
 * weights unlike the trained ones, a history with NaN validation figures, gradient norms, two
 * sweep curves, a lesson step and a slider position. */
static PlSession *
make_session (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PlData) data = NULL;
  PlDataOptions options = PL_DATA_OPTIONS_INIT;
  PlSession *s = pl_session_new ();
  PlMlp *model = pl_mlp_new_from_arch ("2-5-3", PL_ACTIVATION_TANH, &error);
  PlMlp *initial;

  g_assert_no_error (error);
  pl_mlp_init (model, 7);
  initial = pl_mlp_copy (model);
  pl_mlp_init (model, 8);
  for (gsize k = 0; k < model->layers[0].n_in * model->layers[0].n_out; k += 3)
    model->layers[0].w_mask[k] = 0.0f;
  model->layers[1].w_mask[1] = 0.0f;
  pl_mlp_apply_masks (model);
  /* a value whose decimal form would lose bits */
  model->layers[1].b[2] = 1.0f / 3.0f;
  pl_session_set_model (s, model, initial);
  s->model_seed = G_MAXUINT64;

  options.val_size = 30;
  options.standardize = TRUE;
  options.split_seed = 12345678901234ull;
  data = pl_data_load ("spiral:n=150,noise=0.1,seed=3", &options, &error);
  g_assert_no_error (error);
  pl_session_set_data (s, data, &options);

  s->train.epochs = 7;
  s->train.optimizer = PL_OPTIMIZER_ADAM;
  s->train.lr = 0.1 + 0.2;  /* 0.30000000000000004 */
  s->train.clip_norm = 1e-300;
  s->train.seed = 99;
  s->strategy.score = PL_SCORE_TAYLOR;
  s->strategy.scope = PL_SCOPE_LAYER;
  s->strategy.invert = TRUE;
  s->strategy.score_options.seed = 5;
  s->slider = 0.7123456789012345;
  s->lesson_id = g_strdup ("magnitude");
  s->lesson_step = 3;

  for (guint e = 0; e < 4; e++)
    {
      PlEpochRecord r = { e + 1, 1.0 / (e + 3), 0.5 + e / 10.0, e == 2 ? NAN : 0.7 / (e + 1),
                          e == 2 ? NAN : 0.6, 0.1 * exp (-(double) e), 0.01 * e };

      g_array_append_val (s->history, r);
    }
  for (guint k = 0; k < 50; k++)
    {
      float norm = (float) (1.0 / (k + 1.0) + 1e-7 * k);

      g_array_append_val (s->grad_norms, norm);
    }
  {
    PlSweepPoint a[] = { { 0, 0, 0, 0.9, 0.3, { 0 } }, { 0.5, 0.5, 0.1, 0.8, 0.5, { 0.4, 0.6 } },
                         { 0.9, 0.9, 0.4, 1.0 / 3.0, NAN, { 0.95, 1.0 / 7.0 } } };
    PlSweepPoint b[] = { { 0.25, 0.25, 0, 0.85, 0.4 } };

    pl_session_add_curve (s, PL_SCORE_MAGNITUDE, 0, a, G_N_ELEMENTS (a));
    pl_session_add_curve (s, PL_SCORE_GRADIENT, G_MAXUINT64, b, G_N_ELEMENTS (b));
  }

  return s;
}

static GBytes *
session_bytes (void)
{
  g_autoptr(PlSession) s = make_session ();
  g_autoptr(GError) error = NULL;
  GBytes *bytes = pl_session_to_bytes (s, "case.prunelab", &error);

  g_assert_no_error (error);
  return bytes;
}

static gboolean
same_double (double a,
             double b)
{
  return memcmp (&a, &b, sizeof a) == 0;
}

static void
assert_same_model (const PlMlp *a,
                   const PlMlp *b)
{
  g_assert_cmpuint (a->n_layers, ==, b->n_layers);
  g_assert_cmpint (a->activation, ==, b->activation);
  g_assert_cmpmem (a->sizes, sizeof (guint) * (a->n_layers + 1), b->sizes,
                   sizeof (guint) * (b->n_layers + 1));
  g_assert_cmpmem (a->params, sizeof (float) * a->n_params, b->params,
                   sizeof (float) * b->n_params);
  g_assert_cmpmem (a->masks, sizeof (float) * a->n_params, b->masks,
                   sizeof (float) * b->n_params);
  g_assert_cmpmem (a->neuron_masks, sizeof (float) * a->n_neurons, b->neuron_masks,
                   sizeof (float) * b->n_neurons);
}

/* The file @bytes with its manifest text edited: @from (which must occur once, as written in
 * the header, quotes escaped) replaced by @to; the header length is fixed up, the tensor data
 * are untouched. */
static GBytes *
edit_header (GBytes     *bytes,
             const char *from,
             const char *to)
{
  gsize size;
  const guint8 *data = g_bytes_get_data (bytes, &size);
  guint64 header_size;
  g_autofree char *header = NULL;
  g_autoptr(GString) edited = NULL;
  GByteArray *out;
  guint64 le;

  memcpy (&header_size, data, 8);
  header_size = GUINT64_FROM_LE (header_size);
  header = g_strndup ((const char *) data + 8, header_size);
  if (strstr (header, from) == NULL)
    g_error ("“%s” not in the header: %s", from, header);
  g_assert_null (strstr (strstr (header, from) + 1, from));
  edited = g_string_new (header);
  g_string_replace (edited, from, to, 1);

  out = g_byte_array_new ();
  le = GUINT64_TO_LE ((guint64) edited->len);
  g_byte_array_append (out, (const guint8 *) &le, 8);
  g_byte_array_append (out, (const guint8 *) edited->str, edited->len);
  g_byte_array_append (out, data + 8 + header_size, size - 8 - header_size);
  return g_byte_array_free_to_bytes (out);
}

static void
assert_rejected (GBytes     *bytes,
                 gint        code,
                 const char *part)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PlSession) s = pl_session_load_bytes (bytes, "edited.prunelab", &error);

  g_assert_null (s);
  g_assert_error (error, PL_FORMAT_ERROR, code);
  g_assert_true (g_str_has_prefix (error->message, "“edited.prunelab”"));
  if (strstr (error->message, part) == NULL)
    g_error ("expected “%s” in: %s", part, error->message);
}

/* ---- round trip -------------------------------------------------------------------------- */

static void
test_round_trip (void)
{
  g_autoptr(PlSession) s = make_session ();
  g_autoptr(PlSession) again = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *path = tmp_path ("round-trip.prunelab");

  g_test_summary ("A saved session loads back with the same weights, masks, initial weights, "
                  "history, curves and settings, bit for bit");

  g_assert_true (pl_session_save (s, path, &error));
  g_assert_no_error (error);
  again = pl_session_load (path, &error);
  g_assert_no_error (error);
  g_assert_nonnull (again);

  assert_same_model (s->model, again->model);
  assert_same_model (s->initial, again->initial);
  g_assert_cmpuint (pl_mlp_n_pruned (again->model), ==, pl_mlp_n_pruned (s->model));
  g_assert_cmpuint (pl_mlp_n_pruned (again->initial), ==, 0);
  g_assert_cmpuint (again->model_seed, ==, G_MAXUINT64);

  g_assert_cmpstr (again->data_spec, ==, s->data_spec);
  g_assert_cmpstr (again->data_sha256, ==, s->data_sha256);
  g_assert_cmpint (again->data_options.val_size, ==, 30);
  g_assert_true (again->data_options.standardize);
  g_assert_cmpuint (again->data_options.split_seed, ==, 12345678901234ull);
  g_assert_cmpuint (again->n_train, ==, s->n_train);
  g_assert_cmpuint (again->n_val, ==, 30);
  g_assert_cmpuint (again->n_test, ==, s->n_test);

  g_assert_cmpuint (again->train.epochs, ==, 7);
  g_assert_cmpint (again->train.optimizer, ==, s->train.optimizer);
  g_assert_true (same_double (again->train.lr, 0.1 + 0.2));
  g_assert_true (same_double (again->train.clip_norm, 1e-300));
  g_assert_true (same_double (again->train.momentum, s->train.momentum));
  g_assert_true (same_double (again->train.beta2, s->train.beta2));
  g_assert_true (same_double (again->train.eps, s->train.eps));
  g_assert_cmpuint (again->train.seed, ==, 99);

  g_assert_cmpint (again->strategy.score, ==, s->strategy.score);
  g_assert_cmpint (again->strategy.scope, ==, PL_SCOPE_LAYER);
  g_assert_true (again->strategy.invert);
  g_assert_false (again->strategy.exclude_output);
  g_assert_cmpuint (again->strategy.score_options.seed, ==, 5);
  g_assert_cmpuint (again->strategy.score_options.n_batches, ==, s->strategy.score_options.n_batches);
  g_assert_false (again->slider_by_threshold);
  g_assert_true (same_double (again->slider, s->slider));
  g_assert_cmpstr (again->lesson_id, ==, "magnitude");
  g_assert_cmpuint (again->lesson_step, ==, 3);
  g_assert_cmpstr (again->software, ==, "PruneLab " PACKAGE_VERSION);
  g_assert_nonnull (again->created);

  g_assert_cmpuint (again->history->len, ==, s->history->len);
  for (guint e = 0; e < s->history->len; e++)
    {
      const PlEpochRecord *a = &g_array_index (s->history, PlEpochRecord, e);
      const PlEpochRecord *b = &g_array_index (again->history, PlEpochRecord, e);

      g_assert_cmpuint (a->epoch, ==, b->epoch);
      g_assert_true (same_double (a->train_loss, b->train_loss));
      g_assert_true (same_double (a->train_accuracy, b->train_accuracy));
      g_assert_true (same_double (a->val_loss, b->val_loss));
      g_assert_true (same_double (a->val_accuracy, b->val_accuracy));
      g_assert_true (same_double (a->lr, b->lr));
      g_assert_true (same_double (a->seconds, b->seconds));
    }
  g_assert_cmpmem (s->grad_norms->data, s->grad_norms->len * sizeof (float),
                   again->grad_norms->data, again->grad_norms->len * sizeof (float));

  g_assert_cmpuint (again->curves->len, ==, 2);
  for (guint i = 0; i < 2; i++)
    {
      const PlSessionCurve *a = &g_array_index (s->curves, PlSessionCurve, i);
      const PlSessionCurve *b = &g_array_index (again->curves, PlSessionCurve, i);

      g_assert_cmpint (a->score, ==, b->score);
      g_assert_cmpuint (a->seed, ==, b->seed);
      g_assert_cmpuint (a->points->len, ==, b->points->len);
      for (guint k = 0; k < a->points->len; k++)
        {
          const PlSweepPoint *p = &g_array_index (a->points, PlSweepPoint, k);
          const PlSweepPoint *q = &g_array_index (b->points, PlSweepPoint, k);

          g_assert_true (same_double (p->target, q->target));
          g_assert_true (same_double (p->sparsity, q->sparsity));
          g_assert_true (same_double (p->structural_sparsity, q->structural_sparsity));
          g_assert_true (same_double (p->accuracy, q->accuracy));
          g_assert_true (same_double (p->loss, q->loss));
          g_assert_true (same_double (p->layer_sparsity[0], q->layer_sparsity[0]));
          g_assert_true (same_double (p->layer_sparsity[1], q->layer_sparsity[1]));
          g_assert_cmpfloat (q->layer_sparsity[2], ==, 0.0);
        }
    }
}

/* Without a lesson, history or curves, and with a threshold slider. */
static void
test_round_trip_minimal (void)
{
  g_autoptr(PlSession) s = make_session ();
  g_autoptr(PlSession) again = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = NULL;

  g_clear_pointer (&s->lesson_id, g_free);
  g_array_set_size (s->history, 0);
  g_array_set_size (s->grad_norms, 0);
  g_array_set_size (s->curves, 0);
  s->slider_by_threshold = TRUE;
  s->slider = -2.5;

  bytes = pl_session_to_bytes (s, "minimal.prunelab", &error);
  g_assert_no_error (error);
  again = pl_session_load_bytes (bytes, "minimal.prunelab", &error);
  g_assert_no_error (error);
  g_assert_null (again->lesson_id);
  g_assert_cmpuint (again->history->len, ==, 0);
  g_assert_cmpuint (again->grad_norms->len, ==, 0);
  g_assert_cmpuint (again->curves->len, ==, 0);
  g_assert_true (again->slider_by_threshold);
  g_assert_cmpfloat (again->slider, ==, -2.5);
  assert_same_model (s->model, again->model);
}

/* The file is a safetensors file that other tools read: the model's tensors under their
 * PyTorch names, the format in the metadata. */
static void
test_is_safetensors (void)
{
  g_autoptr(GBytes) bytes = session_bytes ();
  g_autoptr(GError) error = NULL;
  g_autoptr(PlSafetensors) file = pl_safetensors_parse (bytes, "case.prunelab", &error);
  gsize dims[2];

  g_assert_no_error (error);
  g_assert_cmpstr (pl_safetensors_get_metadata (file, "format"), ==, "prunelab-session");
  g_assert_cmpstr (pl_safetensors_get_metadata (file, "arch"), ==, "2-5-3");
  g_assert_cmpstr (pl_safetensors_get_metadata (file, "activation"), ==, "tanh");
  g_assert_true (pl_safetensors_get_shape (file, "layers.0.weight", 2, dims, &error));
  g_assert_cmpuint (dims[0], ==, 5);
  g_assert_cmpuint (dims[1], ==, 2);
  g_assert_true (pl_safetensors_get_shape (file, "layers.1.weight_mask", 2, dims, &error));
  g_assert_true (pl_safetensors_get_shape (file, "initial.layers.1.bias", 1, dims, &error));
  g_assert_cmpuint (dims[0], ==, 3);
  g_assert_true (pl_safetensors_get_shape (file, "history", 2, dims, &error));
  g_assert_cmpuint (dims[0], ==, 4);
  g_assert_cmpuint (dims[1], ==, 7);
  g_assert_true (pl_safetensors_get_shape (file, "sweep.0", 2, dims, &error));
  g_assert_cmpuint (dims[0], ==, 3);
  g_assert_cmpuint (dims[1], ==, 5 + 2);   /* and one sparsity per layer */
  g_assert_no_error (error);
  g_assert_cmpuint (pl_safetensors_n_tensors (file), ==, 6 + 4 + 2 + 2);
}

/* ---- the data hash ----------------------------------------------------------------------- */

static void
put_u32 (GByteArray *a,
         guint32     v)
{
  guint8 b[4] = { v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, v >> 24 };

  g_byte_array_append (a, b, 4);
}

static void
put_float (GByteArray *a,
           float       f)
{
  guint32 u;

  memcpy (&u, &f, 4);
  put_u32 (a, u);
}

/* The hash follows its documented layout, written here byte by byte. */
static void
test_data_hash (void)
{
  PlData data = { 0 };
  PlDataset *train = pl_dataset_new (2, 3, 2);
  PlDataset *test = pl_dataset_new (1, 3, 2);
  g_autoptr(GByteArray) expected = g_byte_array_new ();
  g_autofree char *reference = NULL;
  g_autofree char *hash = NULL;

  for (guint k = 0; k < 6; k++)
    train->x[k] = k * 0.5f - 1.0f;
  train->y[0] = 1;
  train->y[1] = 0;
  test->x[0] = 3.25f;
  test->x[1] = -0.0f;
  test->x[2] = 1e-30f;
  test->y[0] = 1;
  data.spec = (char *) "hand-made";
  data.n_features = 3;
  data.n_classes = 2;
  data.train = train;
  data.test = test;

  g_byte_array_append (expected, (const guint8 *) "prunelab-data-1", 15);
  put_u32 (expected, 3);
  put_u32 (expected, 2);
  put_u32 (expected, 2);
  for (guint k = 0; k < 6; k++)
    put_float (expected, k * 0.5f - 1.0f);
  put_u32 (expected, 1);
  put_u32 (expected, 0);
  put_u32 (expected, 0);   /* no validation split */
  put_u32 (expected, 1);
  put_float (expected, 3.25f);
  put_float (expected, -0.0f);
  put_float (expected, 1e-30f);
  put_u32 (expected, 1);
  reference = g_compute_checksum_for_data (G_CHECKSUM_SHA256, expected->data, expected->len);

  hash = pl_session_hash_data (&data);
  g_assert_cmpstr (hash, ==, reference);

  pl_dataset_free (train);
  pl_dataset_free (test);
}

/* Data loaded again from the spec pass; other data, or data of another shape, do not. */
static void
test_check_data (void)
{
  g_autoptr(PlSession) s = make_session ();
  g_autoptr(GError) error = NULL;
  g_autoptr(PlData) same = NULL;
  g_autoptr(PlData) other = NULL;
  g_autoptr(PlData) shape = NULL;
  PlDataOptions options = s->data_options;

  same = pl_data_load (s->data_spec, &options, &error);
  g_assert_no_error (error);
  g_assert_true (pl_session_check_data (s, same, "a.prunelab", &error));
  g_assert_no_error (error);

  other = pl_data_load ("spiral:n=150,noise=0.1,seed=4", &options, &error);
  g_assert_no_error (error);
  g_assert_false (pl_session_check_data (s, other, "a.prunelab", &error));
  g_assert_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_MISMATCH);
  g_assert_nonnull (strstr (error->message, "not the data the session was saved with"));
  g_clear_error (&error);

  shape = pl_data_load ("spiral:n=150,classes=5", &options, &error);
  g_assert_no_error (error);
  g_assert_false (pl_session_check_data (s, shape, "a.prunelab", &error));
  g_assert_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_MISMATCH);
  g_assert_nonnull (strstr (error->message, "“a.prunelab”: the model takes 2 inputs and gives 3"));
}

/* ---- rejected files ---------------------------------------------------------------------- */

/* Every cut of the file is refused with a message naming it, at any length. */
static void
test_truncated (void)
{
  g_autoptr(GBytes) bytes = session_bytes ();
  gsize size = g_bytes_get_size (bytes);
  g_autofree char *path = tmp_path ("cut.prunelab");

  for (gsize len = 0; len < size; len += (len < 64 ? 1 : 97))
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(PlSession) s = NULL;

      g_assert_true (g_file_set_contents (path, g_bytes_get_data (bytes, NULL), len, NULL));
      s = pl_session_load (path, &error);
      g_assert_null (s);
      g_assert_error (error, PL_FORMAT_ERROR, error->code);
      g_assert_nonnull (strstr (error->message, "cut.prunelab"));
    }
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(PlSession) s = NULL;

    g_assert_true (g_file_set_contents (path, g_bytes_get_data (bytes, NULL), size - 1, NULL));
    s = pl_session_load (path, &error);
    g_assert_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_BAD_OFFSET);
    g_test_message ("%s", error->message);
    g_assert_nonnull (strstr (error->message, "cut.prunelab”: tensor “sweep.1”: data_offsets"));
  }
}

/* A changed byte anywhere in the tensor data is found by the checksum. */
static void
test_edited_tensor_data (void)
{
  g_autoptr(GBytes) bytes = session_bytes ();
  gsize size;
  const guint8 *data = g_bytes_get_data (bytes, &size);
  guint64 header_size;

  memcpy (&header_size, data, 8);
  header_size = GUINT64_FROM_LE (header_size);
  for (gsize at = 8 + header_size; at < size; at += 41)
    {
      g_autofree guint8 *copy = g_memdup2 (data, size);
      g_autoptr(GBytes) edited = NULL;

      copy[at] ^= 0x10;
      edited = g_bytes_new (copy, size);
      assert_rejected (edited, PL_FORMAT_ERROR_MISMATCH, "do not match their checksum");
    }
}

static void
test_edited_manifest (void)
{
  static const struct {
    const char *from;
    const char *to;
    gint        code;
    const char *message;
  } cases[] = {
    { "\\\"version\\\":1", "\\\"version\\\":2", PL_FORMAT_ERROR_BAD_HEADER,
      "session format version 2, written by a newer PruneLab" },
    { "\\\"version\\\":1", "\\\"version\\\":0", PL_FORMAT_ERROR_BAD_HEADER, "version: 0 is out of range" },
    { "\\\"version\\\":1", "\\\"release\\\":1", PL_FORMAT_ERROR_BAD_HEADER,
      "member “version” is missing" },
    { "\\\"epochs\\\":7", "\\\"epochs\\\":7,\\\"colour\\\":1", PL_FORMAT_ERROR_BAD_HEADER,
      "training: unknown member “colour”" },
    { "\\\"lr\\\":0.30000000000000004", "\\\"lr\\\":-1", PL_FORMAT_ERROR_BAD_HEADER,
      "training.lr: -1 is out of range" },
    { "\\\"lr\\\":0.30000000000000004", "\\\"lr\\\":\\\"fast\\\"", PL_FORMAT_ERROR_BAD_HEADER,
      "training.lr: expected a number" },
    { "\\\"optimizer\\\":\\\"adam\\\"", "\\\"optimizer\\\":\\\"lbfgs\\\"", PL_FORMAT_ERROR_BAD_HEADER,
      "training.optimizer: " },
    { "\\\"score\\\":\\\"taylor\\\"", "\\\"score\\\":\\\"bogus\\\"", PL_FORMAT_ERROR_BAD_HEADER,
      "strategy.score: " },
    { "\\\"value\\\":0.71234567890123446", "\\\"value\\\":1.5", PL_FORMAT_ERROR_BAD_HEADER,
      "slider.value: 1.5 is out of range" },
    { "\\\"id\\\":\\\"magnitude\\\"", "\\\"id\\\":\\\"../etc\\\"", PL_FORMAT_ERROR_BAD_HEADER,
      "lesson.id: not a lesson id" },
    { "\\\"arch\\\":\\\"2-5-3\\\"", "\\\"arch\\\":\\\"2-6-3\\\"", PL_FORMAT_ERROR_MISMATCH,
      "the manifest gives the architecture 2-6-3, the tensors 2-5-3" },
    { "\\\"epochs\\\":4", "\\\"epochs\\\":5", PL_FORMAT_ERROR_BAD_SHAPE,
      "tensor “history”: dimension 0 is 4, not 5" },
    { "\\\"points\\\":1}", "\\\"points\\\":1},{\\\"score\\\":\\\"magnitude\\\",\\\"seed\\\":\\\"0\\\",\\\"points\\\":1}",
      PL_FORMAT_ERROR_BAD_HEADER, "no tensor “sweep.2”" },
    { "\\\"sha256\\\":\\\"", "\\\"sha256\\\":\\\"x", PL_FORMAT_ERROR_BAD_HEADER,
      "data.sha256: not a SHA-256" },
    { "\"format\":\"prunelab-session\"", "\"format\":\"prunelab\"", PL_FORMAT_ERROR_BAD_MAGIC,
      "not a PruneLab session" },
    { "\"manifest\":\"{", "\"manifest\":\"[{", PL_FORMAT_ERROR_BAD_HEADER,
      "the manifest is not JSON" },
  };
  g_autoptr(GBytes) bytes = session_bytes ();

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GBytes) edited = edit_header (bytes, cases[i].from, cases[i].to);

      g_test_message ("%s → %s", cases[i].from, cases[i].to);
      assert_rejected (edited, cases[i].code, cases[i].message);
    }
}

/* A model file is not a session, and a session is not a model file: each reader says so. */
static void
test_model_file_is_not_a_session (void)
{
  g_autoptr(PlSession) s = make_session ();
  g_autofree char *model_path = tmp_path ("model.safetensors");
  g_autofree char *session_path = tmp_path ("s.prunelab");
  g_autoptr(GError) error = NULL;
  g_autoptr(PlSession) loaded = NULL;
  g_autoptr(PlMlp) model = NULL;

  g_assert_true (pl_safetensors_save (s->model, model_path, &error));
  loaded = pl_session_load (model_path, &error);
  g_assert_null (loaded);
  g_assert_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_BAD_MAGIC);
  g_assert_nonnull (strstr (error->message, "model.safetensors”: not a PruneLab session"));
  g_clear_error (&error);

  g_assert_true (pl_session_save (s, session_path, &error));
  model = pl_safetensors_load (session_path, &error);
  g_assert_null (model);
  g_assert_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_BAD_HEADER);
  g_assert_nonnull (strstr (error->message, "is not part of an MLP"));
  g_clear_error (&error);

  loaded = pl_session_load (tmp_dir, &error);
  g_assert_null (loaded);
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL);
}

/* A save that cannot happen leaves the old file as it was. */
static void
test_save_atomic (void)
{
  g_autoptr(PlSession) s = make_session ();
  g_autofree char *path = tmp_path ("keep.prunelab");
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_true (pl_session_save (s, path, &error));
  g_assert_true (g_file_get_contents (path, &before, NULL, NULL));
  s->model->params[0] = NAN;
  g_assert_false (pl_session_save (s, path, &error));
  g_assert_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_BAD_VALUE);
  g_assert_nonnull (strstr (error->message, "keep.prunelab"));
  g_assert_true (g_file_get_contents (path, &after, NULL, NULL));
  g_assert_cmpstr (before, ==, after);
}

/* A file of format version 1 written by PruneLab 0.1.0 (tests/data/session-spiral.prunelab:
 * prunelab-cli session on a 2-32-32-3 spiral model, magnitude, pruned to 70%) still loads. */
static void
test_version_1_file (void)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", "session-spiral.prunelab",
                                                 NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(PlSession) s = pl_session_load (path, &error);
  g_autofree char *arch = NULL;

  g_assert_no_error (error);
  arch = pl_mlp_arch (s->model);
  g_assert_cmpstr (arch, ==, "2-32-32-3");
  g_assert_cmpstr (s->data_spec, ==, "spiral");
  g_assert_cmpint (s->strategy.score, ==, PL_SCORE_MAGNITUDE);
  g_assert_cmpfloat (s->slider, ==, 0.7);
  g_assert_cmpuint (pl_mlp_n_pruned (s->model), ==, 829);
  g_assert_cmpuint (pl_mlp_n_pruned (s->initial), ==, 0);
}

int
main (int    argc,
      char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);
  tmp_dir = g_dir_make_tmp ("test-session-XXXXXX", NULL);
  g_assert_nonnull (tmp_dir);

  g_test_add_func ("/io/session/round-trip/bit-identical", test_round_trip);
  g_test_add_func ("/io/session/round-trip/minimal", test_round_trip_minimal);
  g_test_add_func ("/io/session/is-safetensors", test_is_safetensors);
  g_test_add_func ("/io/session/data-hash/documented-layout", test_data_hash);
  g_test_add_func ("/io/session/data-hash/other-data-rejected", test_check_data);
  g_test_add_func ("/io/session/rejects-truncated", test_truncated);
  g_test_add_func ("/io/session/rejects-edited-tensor-data", test_edited_tensor_data);
  g_test_add_func ("/io/session/rejects-edited-manifest", test_edited_manifest);
  g_test_add_func ("/io/session/model-file-is-not-a-session", test_model_file_is_not_a_session);
  g_test_add_func ("/io/session/save-is-atomic", test_save_atomic);
  g_test_add_func ("/io/session/version-1-file-loads", test_version_1_file);

  status = g_test_run ();

  {
    g_autoptr(GDir) dir = g_dir_open (tmp_dir, 0, NULL);
    const char *name;

    while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
      {
        g_autofree char *p = g_build_filename (tmp_dir, name, NULL);
        g_unlink (p);
      }
    g_rmdir (tmp_dir);
    g_free (tmp_dir);
  }
  return status;
}
