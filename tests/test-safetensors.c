#define G_LOG_DOMAIN "test-safetensors"

#include "config.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#include "pl-error.h"
#include "pl-mlp.h"
#include "pl-rng.h"
#include "pl-safetensors.h"
#include "pl-test-util.h"

#define CASE_NAME "case.safetensors"

/* ---- helpers ----------------------------------------------------------------------------- */

/* A file: 8-byte little-endian @header_size, the header text, then @data_size bytes of @data
 * (zeros past @data_len). */
static GBytes *
make_file_full (const char  *header,
                gsize        header_len,
                guint64      header_size,
                const void  *data,
                gsize        data_len,
                gsize        data_size)
{
  gsize size = 8 + header_len + data_size;
  guint8 *file = g_malloc0 (size);
  guint64 le = GUINT64_TO_LE (header_size);

  memcpy (file, &le, 8);
  memcpy (file + 8, header, header_len);
  if (data != NULL)
    memcpy (file + 8 + header_len, data, MIN (data_len, data_size));

  return g_bytes_new_take (file, size);
}

static GBytes *
make_file (const char *header,
           const void *data,
           gsize       data_size)
{
  return make_file_full (header, strlen (header), strlen (header), data, data_size, data_size);
}

static char *
make_temp_dir (void)
{
  g_autoptr(GError) error = NULL;
  char *dir = g_dir_make_tmp ("test-safetensors-XXXXXX", &error);

  g_assert_no_error (error);
  return dir;
}

static void
remove_dir (const char *dir)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);

      g_assert_cmpint (g_unlink (path), ==, 0);
    }
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

static guint
count_dir_entries (const char *dir)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  guint n = 0;

  g_assert_nonnull (d);
  while (g_dir_read_name (d) != NULL)
    n++;
  return n;
}

/* A 4-6-5-3 model with seeded weights and non-zero biases. */
static PlMlp *
make_model (PlActivation activation)
{
  static const guint sizes[] = { 4, 6, 5, 3 };
  PlMlp *model = pl_mlp_new (sizes, G_N_ELEMENTS (sizes) - 1, activation);

  pl_mlp_init (model, 42);
  for (guint i = 0; i < model->n_layers; i++)
    for (guint j = 0; j < model->layers[i].n_out; j++)
      model->layers[i].b[j] = 0.01f * (j + 1) - 0.02f * i;

  return model;
}

/* Prunes every third weight and every outgoing weight of hidden neuron 2 of layer 0. */
static void
prune_model (PlMlp *model)
{
  PlLayer *next = &model->layers[1];

  for (guint i = 0; i < model->n_layers; i++)
    {
      PlLayer *l = &model->layers[i];

      for (gsize k = 0; k < (gsize) l->n_out * l->n_in; k += 3)
        l->w_mask[k] = 0.0f;
    }
  for (guint o = 0; o < next->n_out; o++)
    next->w_mask[(gsize) o * next->n_in + 2] = 0.0f;
  pl_mlp_apply_masks (model);
}

static void
assert_models_equal (const PlMlp *a,
                     const PlMlp *b)
{
  g_autofree char *arch_a = pl_mlp_arch (a);
  g_autofree char *arch_b = pl_mlp_arch (b);

  g_assert_cmpstr (arch_a, ==, arch_b);
  g_assert_cmpuint (a->n_layers, ==, b->n_layers);
  g_assert_cmpint (a->activation, ==, b->activation);
  g_assert_cmpuint (a->n_params, ==, b->n_params);
  g_assert_cmpuint (a->n_neurons, ==, b->n_neurons);
  g_assert_cmpmem (a->sizes, sizeof (guint) * (a->n_layers + 1),
                   b->sizes, sizeof (guint) * (b->n_layers + 1));
  g_assert_cmpmem (a->params, sizeof (float) * a->n_params, b->params, sizeof (float) * b->n_params);
  g_assert_cmpmem (a->masks, sizeof (float) * a->n_params, b->masks, sizeof (float) * b->n_params);
  g_assert_cmpmem (a->neuron_masks, sizeof (float) * a->n_neurons,
                   b->neuron_masks, sizeof (float) * b->n_neurons);
}

/* The header object of a file, parsed in the test. */
static JsonParser *
parse_header (GBytes  *bytes,
              gsize   *header_size)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  const guint8 *data;
  guint64 n;
  gsize size;

  data = g_bytes_get_data (bytes, &size);
  g_assert_cmpuint (size, >=, 8);
  memcpy (&n, data, 8);
  n = GUINT64_FROM_LE (n);
  g_assert_cmpuint (n, <=, size - 8);
  json_parser_load_from_data (parser, (const char *) data + 8, n, &error);
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)));
  *header_size = n;

  return g_steal_pointer (&parser);
}

static GBytes *
read_file (const char *path)
{
  g_autoptr(GError) error = NULL;
  char *contents = NULL;
  gsize length;

  g_file_get_contents (path, &contents, &length, &error);
  g_assert_no_error (error);
  return g_bytes_new_take (contents, length);
}

/* Saves @model into a temporary directory and returns the file's bytes. */
static GBytes *
save_to_bytes (const PlMlp *model)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = make_temp_dir ();
  g_autofree char *path = g_build_filename (dir, "model.safetensors", NULL);
  GBytes *bytes;

  pl_safetensors_save (model, path, &error);
  g_assert_no_error (error);
  bytes = read_file (path);
  remove_dir (dir);

  return bytes;
}

/* ---- round trips ------------------------------------------------------------------------- */

static void
round_trip (gboolean     pruned,
            PlActivation activation)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PlMlp) model = make_model (activation);
  g_autoptr(PlMlp) loaded = NULL;
  g_autofree char *dir = make_temp_dir ();
  g_autofree char *path = g_build_filename (dir, "model.safetensors", NULL);

  if (pruned)
    {
      prune_model (model);
      g_assert_cmpuint (pl_mlp_n_pruned (model), >, 0);
      g_assert_cmpfloat (model->layers[0].neuron_mask[2], ==, 0.0f);
    }

  g_assert_true (pl_safetensors_save (model, path, &error));
  g_assert_no_error (error);
  loaded = pl_safetensors_load (path, &error);
  g_assert_no_error (error);
  g_assert_nonnull (loaded);

  assert_models_equal (model, loaded);
  g_assert_cmpuint (pl_mlp_n_pruned (loaded), ==, pl_mlp_n_pruned (model));

  remove_dir (dir);
}

static void
test_round_trip (void)
{
  round_trip (FALSE, PL_ACTIVATION_RELU);
}

static void
test_round_trip_pruned (void)
{
  round_trip (TRUE, PL_ACTIVATION_RELU);
}

static void
test_round_trip_activation (void)
{
  round_trip (TRUE, PL_ACTIVATION_TANH);
  round_trip (FALSE, PL_ACTIVATION_SIGMOID);
}

static void
test_masks_only_when_pruned (void)
{
  g_autoptr(PlMlp) model = make_model (PL_ACTIVATION_RELU);

  for (guint pass = 0; pass < 2; pass++)
    {
      g_autoptr(GBytes) bytes = NULL;
      g_autoptr(JsonParser) parser = NULL;
      JsonObject *root;
      gsize header_size;

      if (pass == 1)
        prune_model (model);
      bytes = save_to_bytes (model);
      parser = parse_header (bytes, &header_size);
      root = json_node_get_object (json_parser_get_root (parser));

      /* metadata + weight and bias per layer (+ mask per layer when pruned) */
      g_assert_cmpuint (json_object_get_size (root), ==,
                        1 + model->n_layers * (pass == 0 ? 2 : 3));
      for (guint i = 0; i < model->n_layers; i++)
        {
          g_autofree char *mask = g_strdup_printf ("layers.%u.weight_mask", i);

          g_assert_cmpint (json_object_has_member (root, mask), ==, pass == 1);
        }
    }
}

static void
test_writes_reference_layout (void)
{
  g_autoptr(PlMlp) model = make_model (PL_ACTIVATION_TANH);
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(JsonParser) parser = NULL;
  g_autoptr(GList) names = NULL;
  const guint8 *data;
  JsonObject *root;
  JsonObject *metadata;
  gsize header_size;
  gsize size;
  gsize offset = 0;
  guint i = 0;

  prune_model (model);
  bytes = save_to_bytes (model);
  data = g_bytes_get_data (bytes, &size);
  parser = parse_header (bytes, &header_size);
  root = json_node_get_object (json_parser_get_root (parser));

  /* Padded with spaces to a multiple of 8, so the data buffer starts aligned. */
  g_assert_cmpuint (header_size % 8, ==, 0);
  g_assert_cmpint (data[8], ==, '{');
  for (gsize k = header_size; k > 0 && data[8 + k - 1] != '}'; k--)
    g_assert_cmpint (data[8 + k - 1], ==, ' ');

  metadata = json_object_get_object_member (root, "__metadata__");
  g_assert_nonnull (metadata);
  g_assert_cmpuint (json_object_get_size (metadata), ==, 3);
  g_assert_cmpstr (json_object_get_string_member (metadata, "format"), ==, "prunelab");
  g_assert_cmpstr (json_object_get_string_member (metadata, "arch"), ==, "4-6-5-3");
  g_assert_cmpstr (json_object_get_string_member (metadata, "activation"), ==, "tanh");

  /* Layer by layer: weight, bias, mask; offsets ascending and contiguous; F32 LE values. */
  names = json_object_get_members (root);
  g_assert_cmpstr (names->data, ==, "__metadata__");
  for (GList *l = names->next; l != NULL; l = l->next, i++)
    {
      const PlLayer *layer = &model->layers[i / 3];
      const char *kinds[] = { "weight", "bias", "weight_mask" };
      g_autofree char *expected = g_strdup_printf ("layers.%u.%s", i / 3, kinds[i % 3]);
      JsonObject *entry = json_object_get_object_member (root, l->data);
      JsonArray *offsets = json_object_get_array_member (entry, "data_offsets");
      JsonArray *shape = json_object_get_array_member (entry, "shape");
      const float *values = i % 3 == 0 ? layer->w : i % 3 == 1 ? layer->b : layer->w_mask;
      gsize n = i % 3 == 1 ? layer->n_out : (gsize) layer->n_out * layer->n_in;

      g_assert_cmpstr (l->data, ==, expected);
      g_assert_cmpstr (json_object_get_string_member (entry, "dtype"), ==, "F32");
      g_assert_cmpuint (json_array_get_length (shape), ==, i % 3 == 1 ? 1 : 2);
      g_assert_cmpint (json_array_get_int_element (shape, 0), ==, layer->n_out);
      if (i % 3 != 1)
        g_assert_cmpint (json_array_get_int_element (shape, 1), ==, layer->n_in);
      g_assert_cmpint (json_array_get_int_element (offsets, 0), ==, offset);
      g_assert_cmpint (json_array_get_int_element (offsets, 1), ==, offset + 4 * n);

      for (gsize k = 0; k < n; k++)
        {
          const guint8 *p = data + 8 + header_size + offset + 4 * k;
          guint32 u = (guint32) p[0] | (guint32) p[1] << 8 | (guint32) p[2] << 16
                      | (guint32) p[3] << 24;
          float f;

          memcpy (&f, &u, sizeof f);
          g_assert_cmpmem (&f, sizeof f, &values[k], sizeof f);
        }
      offset += 4 * n;
    }
  g_assert_cmpuint (i, ==, 3 * model->n_layers);
  g_assert_cmpuint (8 + header_size + offset, ==, size);
}

/* ---- saving ------------------------------------------------------------------------------ */

static void
test_save_into_missing_directory (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PlMlp) model = make_model (PL_ACTIVATION_RELU);
  g_autofree char *dir = make_temp_dir ();
  g_autofree char *path = g_build_filename (dir, "no-such-dir", "model.safetensors", NULL);

  g_assert_false (pl_safetensors_save (model, path, &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, path));
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
  g_assert_cmpuint (count_dir_entries (dir), ==, 0);

  remove_dir (dir);
}

static void
test_save_replaces_existing_file (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PlMlp) model = make_model (PL_ACTIVATION_RELU);
  g_autoptr(PlMlp) loaded = NULL;
  g_autofree char *dir = make_temp_dir ();
  g_autofree char *path = g_build_filename (dir, "model.safetensors", NULL);

  g_file_set_contents (path, "not a model", -1, &error);
  g_assert_no_error (error);

  prune_model (model);
  g_assert_true (pl_safetensors_save (model, path, &error));
  g_assert_no_error (error);
  /* Saving twice over the same name leaves one file and no temporary beside it. */
  g_assert_true (pl_safetensors_save (model, path, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (count_dir_entries (dir), ==, 1);

  loaded = pl_safetensors_load (path, &error);
  g_assert_no_error (error);
  assert_models_equal (model, loaded);

  remove_dir (dir);
}

static void
test_save_refuses_non_finite (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PlMlp) model = make_model (PL_ACTIVATION_RELU);
  g_autofree char *dir = make_temp_dir ();
  g_autofree char *path = g_build_filename (dir, "model.safetensors", NULL);

  model->layers[1].b[0] = NAN;
  g_assert_false (pl_safetensors_save (model, path, &error));
  g_assert_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_BAD_VALUE);
  g_assert_nonnull (strstr (error->message, path));
  g_assert_cmpuint (count_dir_entries (dir), ==, 0);

  remove_dir (dir);
}

static void
test_load_missing_file (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PlMlp) model = NULL;
  g_autofree char *dir = make_temp_dir ();
  g_autofree char *path = g_build_filename (dir, "missing.safetensors", NULL);

  model = pl_safetensors_load (path, &error);
  g_assert_null (model);
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
  g_assert_nonnull (strstr (error->message, path));

  g_clear_error (&error);
  model = pl_safetensors_load (dir, &error);
  g_assert_null (model);
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL);

  remove_dir (dir);
}

/* ---- hand-made files --------------------------------------------------------------------- */

/* One tensor entry of a header. */
#define T(name, dtype, shape, begin, end) \
  "\"" name "\":{\"dtype\":\"" dtype "\",\"shape\":" shape ",\"data_offsets\":[" #begin "," #end "]}"

/* A 2-3-2 MLP: w0 [3,2] bytes 0..24, b0 [3] 24..36, w1 [2,3] 36..60, b1 [2] 60..68; with masks
 * m0 [3,2] 68..92 and m1 [2,3] 92..116. */
#define W0 T ("layers.0.weight", "F32", "[3,2]", 0, 24)
#define B0 T ("layers.0.bias", "F32", "[3]", 24, 36)
#define W1 T ("layers.1.weight", "F32", "[2,3]", 36, 60)
#define B1 T ("layers.1.bias", "F32", "[2]", 60, 68)
#define M0 T ("layers.0.weight_mask", "F32", "[3,2]", 68, 92)
#define M1 T ("layers.1.weight_mask", "F32", "[2,3]", 92, 116)
#define VALID W0 "," B0 "," W1 "," B1
#define VALID_BYTES 68
#define MASKED_BYTES 116

/* Data of the 2-3-2 MLP and its masks; neuron 1 of layer 0 has no outgoing weight left. */
static const float valid_data[] = {
  0.5f, -1.0f, 1.5f, -2.0f, 2.5f, -3.0f,            /* w0 */
  0.125f, -0.25f, 0.375f,                           /* b0 */
  1.0f, 2.0f, 3.0f, -1.0f, -2.0f, -3.0f,            /* w1 */
  0.0625f, -0.0625f,                                /* b1 */
  1.0f, 0.0f, 1.0f, 1.0f, 0.0f, 1.0f,               /* m0 */
  1.0f, 0.0f, 1.0f, 1.0f, 0.0f, 1.0f,               /* m1 */
};

static PlMlp *
load_case (const char  *header,
           const float *data,
           gsize        data_size,
           GError     **error)
{
  g_autoptr(GBytes) bytes = make_file (header, data, data_size);

  return pl_safetensors_load_bytes (bytes, CASE_NAME, error);
}

static void
test_loads_hand_made_file (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PlMlp) model = NULL;

  /* Tensors listed out of buffer order, extra entry keys ignored, header padded. */
  model = load_case ("{" B1 "," W0 ","
                     "\"__metadata__\":{\"arch\":\"2-3-2\",\"comment\":\"hello\"},"
                     B0 "," W1 "}        ",
                     valid_data, VALID_BYTES, &error);
  g_assert_no_error (error);
  g_assert_nonnull (model);
  g_assert_cmpuint (model->n_layers, ==, 2);
  g_assert_cmpint (model->activation, ==, PL_ACTIVATION_RELU);
  g_assert_cmpmem (model->layers[0].w, 6 * sizeof (float), valid_data, 6 * sizeof (float));
  g_assert_cmpmem (model->layers[0].b, 3 * sizeof (float), valid_data + 6, 3 * sizeof (float));
  g_assert_cmpmem (model->layers[1].w, 6 * sizeof (float), valid_data + 9, 6 * sizeof (float));
  g_assert_cmpmem (model->layers[1].b, 2 * sizeof (float), valid_data + 15, 2 * sizeof (float));
  g_assert_cmpuint (pl_mlp_n_pruned (model), ==, 0);
}

static void
test_loads_masks (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PlMlp) model = NULL;

  model = load_case ("{\"__metadata__\":{\"activation\":\"sigmoid\"}," VALID "," M0 "," M1 "}",
                     valid_data, MASKED_BYTES, &error);
  g_assert_no_error (error);
  g_assert_cmpint (model->activation, ==, PL_ACTIVATION_SIGMOID);
  g_assert_cmpuint (pl_mlp_n_pruned (model), ==, 4);
  g_assert_cmpmem (model->layers[0].w_mask, 6 * sizeof (float), valid_data + 17, 6 * sizeof (float));
  g_assert_cmpmem (model->layers[1].w_mask, 6 * sizeof (float), valid_data + 23, 6 * sizeof (float));
  g_assert_cmpfloat (model->layers[0].w[1], ==, 0.0f);
  g_assert_cmpfloat (model->layers[1].w[4], ==, 0.0f);
  g_assert_cmpfloat (model->layers[1].w[3], ==, -1.0f);
  /* Neuron 1 of layer 0 feeds nothing: w1[0][1] and w1[1][1] are pruned. */
  g_assert_cmpfloat (model->layers[0].neuron_mask[0], ==, 1.0f);
  g_assert_cmpfloat (model->layers[0].neuron_mask[1], ==, 0.0f);
  g_assert_cmpfloat (model->layers[0].neuron_mask[2], ==, 1.0f);
  /* Biases are never pruned. */
  for (guint j = 0; j < 3; j++)
    g_assert_cmpfloat (model->layers[0].b[j], ==, valid_data[6 + j]);
}

static void
test_loads_torch_prune_layout (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PlMlp) model = NULL;

  /* torch.nn.utils.prune keeps the unpruned values in weight_orig; weight = orig × mask. */
  model = load_case ("{"
                     T ("layers.0.weight_orig", "F32", "[3,2]", 0, 24) "," B0 ","
                     T ("layers.1.weight_orig", "F32", "[2,3]", 36, 60) "," B1 ","
                     M0 "," M1 "}",
                     valid_data, MASKED_BYTES, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (pl_mlp_n_pruned (model), ==, 4);
  for (guint i = 0; i < 2; i++)
    for (guint k = 0; k < 6; k++)
      {
        float expected = valid_data[(i ? 9 : 0) + k] * valid_data[(i ? 23 : 17) + k];

        g_assert_cmpfloat (model->layers[i].w[k], ==, expected);
        g_assert_false (signbit (model->layers[i].w[k]) && expected == 0.0f);
      }
  g_assert_cmpfloat (model->layers[0].neuron_mask[1], ==, 0.0f);
}

static guint16
to_half (float f)
{
  /* Only for the exactly representable test values: normal numbers and zero. */
  guint32 u;
  int exponent;

  memcpy (&u, &f, sizeof u);
  if ((u & 0x7fffffff) == 0)
    return (guint16) (u >> 16);
  exponent = (int) ((u >> 23) & 0xff) - 127 + 15;
  g_assert_cmpint (exponent, >, 0);
  g_assert_cmpint (exponent, <, 31);
  g_assert_cmpuint (u & 0x1fff, ==, 0);
  return (guint16) (((u >> 16) & 0x8000) | (exponent << 10) | ((u >> 13) & 0x3ff));
}

static void
test_converts_other_float_dtypes (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PlMlp) model = NULL;
  g_autoptr(GBytes) bytes = NULL;
  guint8 data[6 * 2 + 3 * 2 + 6 * 8 + 2 * 4 + 6 * 2];
  guint8 *p = data;

  /* w0 F16, b0 BF16, w1 F64, b1 F32, m0 F16 */
  for (guint k = 0; k < 6; k++, p += 2)
    {
      guint16 h = GUINT16_TO_LE (to_half (valid_data[k]));
      memcpy (p, &h, 2);
    }
  for (guint k = 0; k < 3; k++, p += 2)
    {
      guint32 u;
      guint16 h;

      memcpy (&u, &valid_data[6 + k], 4);
      h = GUINT16_TO_LE ((guint16) (u >> 16));
      memcpy (p, &h, 2);
    }
  for (guint k = 0; k < 6; k++, p += 8)
    {
      double d = valid_data[9 + k];
      guint64 u;

      memcpy (&u, &d, 8);
      u = GUINT64_TO_LE (u);
      memcpy (p, &u, 8);
    }
  for (guint k = 0; k < 2; k++, p += 4)
    {
      guint32 u;

      memcpy (&u, &valid_data[15 + k], 4);
      u = GUINT32_TO_LE (u);
      memcpy (p, &u, 4);
    }
  for (guint k = 0; k < 6; k++, p += 2)
    {
      guint16 h = GUINT16_TO_LE (to_half (valid_data[17 + k]));
      memcpy (p, &h, 2);
    }
  g_assert_true (p == data + sizeof data);

  bytes = make_file ("{"
                     T ("layers.0.weight", "F16", "[3,2]", 0, 12) ","
                     T ("layers.0.bias", "BF16", "[3]", 12, 18) ","
                     T ("layers.1.weight", "F64", "[2,3]", 18, 66) ","
                     T ("layers.1.bias", "F32", "[2]", 66, 74) ","
                     T ("layers.0.weight_mask", "F16", "[3,2]", 74, 86) "}",
                     data, sizeof data);
  model = pl_safetensors_load_bytes (bytes, CASE_NAME, &error);
  g_assert_no_error (error);
  for (guint k = 0; k < 6; k++)
    g_assert_cmpfloat (model->layers[0].w[k], ==, valid_data[k] * valid_data[17 + k]);
  for (guint k = 0; k < 3; k++)
    g_assert_cmpfloat (model->layers[0].b[k], ==, valid_data[6 + k]);
  for (guint k = 0; k < 6; k++)
    g_assert_cmpfloat (model->layers[1].w[k], ==, valid_data[9 + k]);
  for (guint k = 0; k < 2; k++)
    g_assert_cmpfloat (model->layers[1].b[k], ==, valid_data[15 + k]);
  g_assert_cmpuint (pl_mlp_n_pruned (model), ==, 2);
}

typedef struct {
  const char *path;
  const char *header;
  gsize       data_size;   /* bytes of valid_data, zero-padded past its end */
  int         patch;       /* index of a float of valid_data to replace, or -1 */
  float       value;
  int         code;
} BadCase;

static const BadCase bad_cases[] = {
  { "rejects-header-not-json", "{layers: 1}", 0, -1, 0, PL_FORMAT_ERROR_BAD_MAGIC },
  { "rejects-header-not-object", "[" VALID "]", VALID_BYTES, -1, 0, PL_FORMAT_ERROR_BAD_MAGIC },
  { "rejects-header-unterminated", "{" VALID, VALID_BYTES, -1, 0, PL_FORMAT_ERROR_BAD_MAGIC },
  { "rejects-no-tensors", "{}", 0, -1, 0, PL_FORMAT_ERROR_BAD_HEADER },
  { "rejects-only-metadata", "{\"__metadata__\":{\"arch\":\"2-3-2\"}}", 0, -1, 0,
    PL_FORMAT_ERROR_BAD_HEADER },
  { "rejects-entry-not-object", "{\"layers.0.weight\":[1,2]}", 0, -1, 0,
    PL_FORMAT_ERROR_BAD_HEADER },
  { "rejects-missing-dtype",
    "{\"layers.0.weight\":{\"shape\":[3,2],\"data_offsets\":[0,24]}}", 24, -1, 0,
    PL_FORMAT_ERROR_BAD_HEADER },
  { "rejects-missing-shape",
    "{\"layers.0.weight\":{\"dtype\":\"F32\",\"data_offsets\":[0,24]}}", 24, -1, 0,
    PL_FORMAT_ERROR_BAD_SHAPE },
  { "rejects-wrong-dtype",
    "{" T ("layers.0.weight", "I32", "[3,2]", 0, 24) "," B0 "," W1 "," B1 "}",
    VALID_BYTES, -1, 0, PL_FORMAT_ERROR_BAD_DTYPE },
  { "rejects-unknown-dtype",
    "{" T ("layers.0.weight", "F31", "[3,2]", 0, 24) "," B0 "," W1 "," B1 "}",
    VALID_BYTES, -1, 0, PL_FORMAT_ERROR_BAD_DTYPE },
  { "rejects-negative-dimension",
    "{" T ("layers.0.weight", "F32", "[-3,2]", 0, 24) "," B0 "," W1 "," B1 "}",
    VALID_BYTES, -1, 0, PL_FORMAT_ERROR_BAD_SHAPE },
  { "rejects-fractional-dimension",
    "{" T ("layers.0.weight", "F32", "[3.0,2]", 0, 24) "," B0 "," W1 "," B1 "}",
    VALID_BYTES, -1, 0, PL_FORMAT_ERROR_BAD_SHAPE },
  { "rejects-shape-offset-size-mismatch",
    "{" T ("layers.0.weight", "F32", "[3,3]", 0, 24) "," B0 "," W1 "," B1 "}",
    VALID_BYTES, -1, 0, PL_FORMAT_ERROR_BAD_OFFSET },
  { "rejects-three-offsets",
    "{\"layers.0.weight\":{\"dtype\":\"F32\",\"shape\":[3,2],\"data_offsets\":[0,24,24]},"
    B0 "," W1 "," B1 "}",
    VALID_BYTES, -1, 0, PL_FORMAT_ERROR_BAD_OFFSET },
  { "rejects-fractional-offset",
    "{" T ("layers.0.weight", "F32", "[3,2]", 0.0, 24) "," B0 "," W1 "," B1 "}",
    VALID_BYTES, -1, 0, PL_FORMAT_ERROR_BAD_OFFSET },
  { "rejects-reversed-offsets",
    "{" T ("layers.0.weight", "F32", "[0,2]", 24, 0) "," B0 "," W1 "," B1 "}",
    VALID_BYTES, -1, 0, PL_FORMAT_ERROR_BAD_OFFSET },
  { "rejects-overlapping-offsets",
    "{" W0 "," T ("layers.0.bias", "F32", "[3]", 20, 32) ","
    T ("layers.1.weight", "F32", "[2,3]", 32, 56) "," T ("layers.1.bias", "F32", "[2]", 56, 64) "}",
    64, -1, 0, PL_FORMAT_ERROR_BAD_OFFSET },
  { "rejects-offsets-beyond-buffer",
    "{" W0 "," B0 "," W1 "," T ("layers.1.bias", "F32", "[2]", 64, 72) "}",
    VALID_BYTES, -1, 0, PL_FORMAT_ERROR_BAD_OFFSET },
  { "rejects-hole-in-buffer",
    "{" W0 "," T ("layers.0.bias", "F32", "[3]", 28, 40) ","
    T ("layers.1.weight", "F32", "[2,3]", 40, 64) "," T ("layers.1.bias", "F32", "[2]", 64, 72) "}",
    72, -1, 0, PL_FORMAT_ERROR_BAD_OFFSET },
  { "rejects-trailing-bytes", "{" VALID "}", VALID_BYTES + 4, -1, 0, PL_FORMAT_ERROR_BAD_OFFSET },
  { "rejects-huge-shape",
    "{" T ("layers.0.weight", "F32", "[4294967296,4294967296]", 0, 24) "," B0 "," W1 "," B1 "}",
    VALID_BYTES, -1, 0, PL_FORMAT_ERROR_TOO_LARGE },
  { "rejects-huge-byte-size",
    "{" T ("layers.0.weight", "F32", "[4611686018427387904,1]", 0, 24) "," B0 "," W1 "," B1 "}",
    VALID_BYTES, -1, 0, PL_FORMAT_ERROR_TOO_LARGE },
  { "rejects-too-wide-layer",
    "{" T ("layers.0.weight", "F32", "[65537,1]", 0, 262148) ","
    T ("layers.0.bias", "F32", "[65537]", 262148, 524296) "}",
    524296, -1, 0, PL_FORMAT_ERROR_TOO_LARGE },
  { "rejects-too-many-layers",
    "{" VALID "," T ("layers.16.weight", "F32", "[0,2]", 68, 68) "}",
    VALID_BYTES, -1, 0, PL_FORMAT_ERROR_TOO_LARGE },
  { "rejects-missing-bias", "{" W0 "," B0 "," W1 "}", 60, -1, 0, PL_FORMAT_ERROR_BAD_HEADER },
  { "rejects-missing-weight", "{" W0 "," B0 "," T ("layers.1.bias", "F32", "[2]", 36, 44) "}",
    44, -1, 0, PL_FORMAT_ERROR_BAD_HEADER },
  { "rejects-missing-layer",
    "{" W0 "," B0 "," T ("layers.2.weight", "F32", "[2,3]", 36, 60) ","
    T ("layers.2.bias", "F32", "[2]", 60, 68) "}",
    VALID_BYTES, -1, 0, PL_FORMAT_ERROR_BAD_HEADER },
  { "rejects-unknown-tensor",
    "{" VALID "," T ("optimizer.momentum", "F32", "[1]", 68, 72) "}",
    72, -1, 0, PL_FORMAT_ERROR_BAD_HEADER },
  { "rejects-unknown-layer-tensor",
    "{" VALID "," T ("layers.0.running_mean", "F32", "[1]", 68, 72) "}",
    72, -1, 0, PL_FORMAT_ERROR_BAD_HEADER },
  { "rejects-non-canonical-layer-index",
    "{" W0 "," B0 "," T ("layers.01.weight", "F32", "[2,3]", 36, 60) "," B1 "}",
    VALID_BYTES, -1, 0, PL_FORMAT_ERROR_BAD_HEADER },
  { "rejects-weight-and-weight-orig",
    "{" VALID "," T ("layers.0.weight_orig", "F32", "[3,2]", 68, 92) ","
    T ("layers.0.weight_mask", "F32", "[3,2]", 92, 116) "}",
    MASKED_BYTES, -1, 0, PL_FORMAT_ERROR_BAD_HEADER },
  { "rejects-weight-orig-without-mask",
    "{" T ("layers.0.weight_orig", "F32", "[3,2]", 0, 24) "," B0 "," W1 "," B1 "}",
    VALID_BYTES, -1, 0, PL_FORMAT_ERROR_BAD_HEADER },
  { "rejects-zero-width",
    "{" T ("layers.0.weight", "F32", "[0,2]", 0, 0) "," T ("layers.0.bias", "F32", "[0]", 0, 0) "}",
    0, -1, 0, PL_FORMAT_ERROR_BAD_SHAPE },
  { "rejects-weight-of-rank-1",
    "{" T ("layers.0.weight", "F32", "[6]", 0, 24) "," B0 "," W1 "," B1 "}",
    VALID_BYTES, -1, 0, PL_FORMAT_ERROR_BAD_SHAPE },
  { "rejects-bias-shape",
    "{" W0 "," T ("layers.0.bias", "F32", "[1,3]", 24, 36) "," W1 "," B1 "}",
    VALID_BYTES, -1, 0, PL_FORMAT_ERROR_BAD_SHAPE },
  { "rejects-non-chaining-shapes",
    "{" W0 "," B0 "," T ("layers.1.weight", "F32", "[3,2]", 36, 60) ","
    T ("layers.1.bias", "F32", "[3]", 60, 72) "}",
    72, -1, 0, PL_FORMAT_ERROR_BAD_SHAPE },
  { "rejects-mask-shape",
    "{" VALID "," T ("layers.0.weight_mask", "F32", "[2,3]", 68, 92) "}",
    92, -1, 0, PL_FORMAT_ERROR_BAD_SHAPE },
  { "rejects-mask-dtype",
    "{" VALID "," T ("layers.0.weight_mask", "U8", "[3,2]", 68, 74) "}",
    74, -1, 0, PL_FORMAT_ERROR_BAD_DTYPE },
  { "rejects-fractional-mask", "{" VALID "," M0 "," M1 "}", MASKED_BYTES, 20, 0.5f,
    PL_FORMAT_ERROR_BAD_VALUE },
  { "rejects-nan-mask", "{" VALID "," M0 "," M1 "}", MASKED_BYTES, 25, NAN,
    PL_FORMAT_ERROR_BAD_VALUE },
  { "rejects-nan-weight", "{" VALID "}", VALID_BYTES, 3, NAN, PL_FORMAT_ERROR_BAD_VALUE },
  { "rejects-infinite-bias", "{" VALID "}", VALID_BYTES, 16, -INFINITY,
    PL_FORMAT_ERROR_BAD_VALUE },
  { "rejects-arch-metadata-mismatch",
    "{\"__metadata__\":{\"format\":\"prunelab\",\"arch\":\"2-4-2\"}," VALID "}",
    VALID_BYTES, -1, 0, PL_FORMAT_ERROR_MISMATCH },
  { "rejects-arch-metadata-extra-layer",
    "{\"__metadata__\":{\"arch\":\"2-3-2-2\"}," VALID "}",
    VALID_BYTES, -1, 0, PL_FORMAT_ERROR_MISMATCH },
  { "rejects-unreadable-arch-metadata",
    "{\"__metadata__\":{\"arch\":\"two-three\"}," VALID "}",
    VALID_BYTES, -1, 0, PL_FORMAT_ERROR_BAD_HEADER },
  { "rejects-unknown-activation",
    "{\"__metadata__\":{\"activation\":\"gelu\"}," VALID "}",
    VALID_BYTES, -1, 0, PL_FORMAT_ERROR_BAD_HEADER },
  { "rejects-non-string-metadata",
    "{\"__metadata__\":{\"arch\":[2,3,2]}," VALID "}",
    VALID_BYTES, -1, 0, PL_FORMAT_ERROR_BAD_HEADER },
  { "rejects-metadata-not-object",
    "{\"__metadata__\":\"2-3-2\"," VALID "}",
    VALID_BYTES, -1, 0, PL_FORMAT_ERROR_BAD_HEADER },
};

static void
test_bad_case (gconstpointer user_data)
{
  const BadCase *c = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(PlMlp) model = NULL;
  g_autofree guint8 *data = g_malloc0 (MAX (c->data_size, 1));

  memcpy (data, valid_data, MIN (c->data_size, sizeof valid_data));
  if (c->patch >= 0)
    memcpy (data + 4 * c->patch, &c->value, sizeof (float));

  model = load_case (c->header, (const float *) data, c->data_size, &error);
  g_assert_null (model);
  g_assert_nonnull (error);
  g_test_message ("%s", error->message);
  g_assert_error (error, PL_FORMAT_ERROR, c->code);
  g_assert_true (g_str_has_prefix (error->message, "“" CASE_NAME "”: "));
}

static void
assert_rejects_bytes (GBytes *bytes,
                      int     code)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PlMlp) model = NULL;

  model = pl_safetensors_load_bytes (bytes, CASE_NAME, &error);
  g_assert_null (model);
  g_assert_nonnull (error);
  g_test_message ("%s", error->message);
  g_assert_error (error, PL_FORMAT_ERROR, code);
  g_assert_nonnull (strstr (error->message, CASE_NAME));
}

static void
test_rejects_truncated_header_length (void)
{
  static const guint8 short_file[] = { 0x10, 0, 0, 0, 0, 0, 0 };

  for (gsize n = 0; n <= sizeof short_file; n++)
    {
      g_autoptr(GBytes) bytes = g_bytes_new (short_file, n);

      assert_rejects_bytes (bytes, PL_FORMAT_ERROR_TRUNCATED);
    }
}

static void
test_rejects_header_length_beyond_file (void)
{
  const char *header = "{" VALID "}";
  gsize len = strlen (header);
  g_autoptr(GBytes) one_more = NULL;
  g_autoptr(GBytes) far = NULL;

  one_more = make_file_full (header, len, len + VALID_BYTES + 1, valid_data, VALID_BYTES,
                             VALID_BYTES);
  assert_rejects_bytes (one_more, PL_FORMAT_ERROR_TRUNCATED);
  far = make_file_full (header, len, 100 * 1024 * 1024, valid_data, VALID_BYTES, VALID_BYTES);
  assert_rejects_bytes (far, PL_FORMAT_ERROR_TRUNCATED);
}

static void
test_rejects_huge_header_length (void)
{
  const char *header = "{" VALID "}";
  gsize len = strlen (header);
  const guint64 sizes[] = { 100 * 1024 * 1024 + 1, G_GUINT64_CONSTANT (1) << 63, G_MAXUINT64 };

  for (guint i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      g_autoptr(GBytes) bytes = make_file_full (header, len, sizes[i], valid_data, VALID_BYTES,
                                                VALID_BYTES);

      assert_rejects_bytes (bytes, PL_FORMAT_ERROR_TOO_LARGE);
    }
}

static void
test_rejects_deep_nesting (void)
{
  /* A million levels overflow json-glib's recursive parser: the reader refuses them first. */
  const gsize depth = 1000000;
  g_autoptr(GString) header = g_string_new ("{\"a\":");
  g_autoptr(GBytes) bytes = NULL;

  for (gsize i = 0; i < depth; i++)
    g_string_append_c (header, i % 2 ? '[' : '{');
  bytes = make_file_full (header->str, header->len, header->len, NULL, 0, 0);
  assert_rejects_bytes (bytes, PL_FORMAT_ERROR_BAD_HEADER);
}

static void
test_rejects_too_many_values (void)
{
  /* Two million numbers: json-glib would take some 160 MiB for them. */
  g_autoptr(GString) header = g_string_new ("{\"a\":[0");
  g_autoptr(GBytes) bytes = NULL;

  for (guint i = 0; i < 2000000; i++)
    g_string_append (header, ",0");
  g_string_append (header, "]}");
  bytes = make_file_full (header->str, header->len, header->len, NULL, 0, 0);
  assert_rejects_bytes (bytes, PL_FORMAT_ERROR_TOO_LARGE);
}

static void
test_rejects_nul_and_bad_utf8 (void)
{
  const char *header = "{" VALID "}";
  gsize len = strlen (header);
  g_autofree char *copy = g_strdup (header);
  g_autoptr(GBytes) with_nul = NULL;
  g_autoptr(GBytes) bad_utf8 = NULL;

  copy[5] = '\0';
  with_nul = make_file_full (copy, len, len, valid_data, VALID_BYTES, VALID_BYTES);
  assert_rejects_bytes (with_nul, PL_FORMAT_ERROR_BAD_MAGIC);
  copy[5] = (char) 0xc3;
  copy[6] = '(';
  bad_utf8 = make_file_full (copy, len, len, valid_data, VALID_BYTES, VALID_BYTES);
  assert_rejects_bytes (bad_utf8, PL_FORMAT_ERROR_BAD_MAGIC);
}

static void
test_rejects_out_of_range_f64 (void)
{
  double values[17];
  g_autoptr(GBytes) bytes = NULL;

  for (guint k = 0; k < G_N_ELEMENTS (values); k++)
    values[k] = valid_data[k];
  values[2] = 1e300;  /* finite as a double, infinite as a float */
  if (G_BYTE_ORDER != G_LITTLE_ENDIAN)
    {
      g_test_skip ("the test data are written in host order");
      return;
    }
  bytes = make_file ("{"
                     T ("layers.0.weight", "F64", "[3,2]", 0, 48) ","
                     T ("layers.0.bias", "F64", "[3]", 48, 72) ","
                     T ("layers.1.weight", "F64", "[2,3]", 72, 120) ","
                     T ("layers.1.bias", "F64", "[2]", 120, 136) "}",
                     values, sizeof values);
  assert_rejects_bytes (bytes, PL_FORMAT_ERROR_BAD_VALUE);
}

/* ---- fuzzing ----------------------------------------------------------------------------- */

static void
test_fuzz_mutations (void)
{
  const guint n_rounds = g_test_slow () ? 200000 : 10000;
  g_autoptr(PlMlp) model = make_model (PL_ACTIVATION_TANH);
  g_autoptr(GBytes) valid = NULL;
  const guint8 *orig;
  guint64 header_size;
  gsize size;
  guint n_loaded = 0;
  GHashTable *codes = g_hash_table_new (NULL, NULL);
  PlRng rng;
  gint64 start = g_get_monotonic_time ();

  prune_model (model);
  valid = save_to_bytes (model);
  orig = g_bytes_get_data (valid, &size);
  memcpy (&header_size, orig, 8);
  header_size = GUINT64_FROM_LE (header_size);

  pl_rng_init (&rng, 20240611);
  for (guint round = 0; round < n_rounds; round++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(PlMlp) loaded = NULL;
      g_autoptr(GBytes) bytes = NULL;
      guint8 *buf = g_memdup2 (orig, size);
      gsize len = size;
      guint kind = pl_rng_below (&rng, 6);
      guint n_edits = 1 + pl_rng_below (&rng, 4);

      for (guint e = 0; e < n_edits; e++)
        switch (kind)
          {
          case 0:  /* any byte */
            buf[pl_rng_below (&rng, len)] = (guint8) pl_rng_next (&rng);
            break;
          case 1:  /* a header byte, to anything */
            buf[8 + pl_rng_below (&rng, header_size)] = (guint8) pl_rng_next (&rng);
            break;
          case 2:  /* a header digit, to another digit or a JSON token */
            {
              static const char tokens[] = "0123456789-.e[]{},:\" ";
              gsize at = 8 + pl_rng_below (&rng, header_size);

              for (gsize k = 0; k < header_size && !g_ascii_isdigit (buf[at]); k++)
                at = 8 + (at - 8 + 1) % header_size;
              buf[at] = tokens[pl_rng_below (&rng, sizeof tokens - 1)];
            }
            break;
          case 3:  /* a bit of the header length */
            buf[pl_rng_below (&rng, 8)] ^= 1u << pl_rng_below (&rng, 8);
            break;
          case 4:  /* truncation */
            len = pl_rng_below (&rng, len + 1);
            break;
          default:  /* a data byte (masks become fractional, floats NaN) */
            if (size > 8 + header_size)
              buf[8 + header_size + pl_rng_below (&rng, size - 8 - header_size)] ^=
                1u << pl_rng_below (&rng, 8);
            break;
          }

      bytes = g_bytes_new_take (buf, len);
      loaded = pl_safetensors_load_bytes (bytes, CASE_NAME, &error);
      if (loaded != NULL)
        {
          g_assert_no_error (error);
          g_assert_cmpuint (loaded->n_layers, >=, 1);
          n_loaded++;
        }
      else
        {
          g_assert_nonnull (error);
          g_assert_true (error->domain == PL_FORMAT_ERROR);
          g_assert_nonnull (strstr (error->message, CASE_NAME));
          g_hash_table_add (codes, GINT_TO_POINTER (error->code + 1));
        }
    }

  g_test_message ("%u mutations: %u loaded, %u rejected with %u distinct codes, %.2f s",
                  n_rounds, n_loaded, n_rounds - n_loaded, g_hash_table_size (codes),
                  (g_get_monotonic_time () - start) / 1e6);
  /* The mutations reach past the first checks. */
  g_assert_cmpuint (g_hash_table_size (codes), >=, 6);
  g_assert_cmpuint (n_loaded, >, 0);
  g_hash_table_unref (codes);
}

/* ---- files written by PyTorch ------------------------------------------------------------ */

/* From tests/torch/make_fixture.py, which wrote tests/data/st-torch-small.safetensors: a 2-8-3
 * MLP pruned by torch.nn.utils.prune.global_unstructured (L1, 25 %), saved as its raw
 * state_dict (layers.{i}.weight_orig, weight_mask, bias) with no arch or activation. */
#define TORCH_FIXTURE_VERSION "1"
#define TORCH_FIXTURE_N_PRUNED 10
static const float torch_w0[] = { 0.613946915f, -0.168994188f, -0.453527719f, 0.323340237f, -0.355631381f, -0.536586583f, -0.642807782f, 0.514831662f, 0.238152444f, 0.462210149f, 0.0f, 0.0f, -0.15943478f, -0.0f, -0.662864208f, 0.268605828f };
static const float torch_b0[] = { -0.122564301f, 0.611777365f, 0.0536734201f, -0.145927891f, 0.590694487f, 0.524732947f, 0.561767578f, 0.281891704f };
static const float torch_w1[] = { 0.0f, 0.321603507f, 0.123533592f, 0.0f, 0.0657267869f, -0.128373772f, -0.0f, 0.274758786f, -0.0f, -0.0f, 0.299739629f, 0.304227114f, 0.119589701f, 0.320646644f, -0.195635349f, 0.131583557f, 0.326227516f, -0.288704276f, -0.205959976f, -0.0f, 0.323540956f, -0.0f, 0.232444078f, -0.160473108f };
static const float torch_b1[] = { 0.0382052734f, -0.320431918f, -0.00765458401f };
static const float torch_inputs[][2] = { { 0.5f, -1.0f }, { 2.0f, 0.25f }, { -0.75f, -0.5f } };
static const float torch_logits[][3] = { { 0.0578997619f, -0.0932525098f, 0.197028637f }, { 0.0485686623f, -0.0582764745f, 0.778215826f }, { 0.486756563f, 0.0214219391f, -0.243586436f } };

/* out (n_out) = act (W · in + b), plain loops in double; the activation is ReLU here. */
static void
forward_ref (const PlMlp *model,
             const float *in,
             float       *out)
{
  double x[64];
  double y[64];

  g_assert_cmpuint (model->sizes[0], <=, G_N_ELEMENTS (x));
  for (guint j = 0; j < model->sizes[0]; j++)
    x[j] = in[j];
  for (guint i = 0; i < model->n_layers; i++)
    {
      const PlLayer *l = &model->layers[i];

      g_assert_cmpuint (l->n_out, <=, G_N_ELEMENTS (y));
      for (guint o = 0; o < l->n_out; o++)
        {
          double s = l->b[o];

          for (guint j = 0; j < l->n_in; j++)
            s += (double) l->w[(gsize) o * l->n_in + j] * x[j];
          if (i + 1 < model->n_layers)
            s = MAX (s, 0.0) * l->neuron_mask[o];
          y[o] = s;
        }
      memcpy (x, y, sizeof (double) * l->n_out);
    }
  for (guint o = 0; o < model->sizes[model->n_layers]; o++)
    out[o] = (float) x[o];
}

static void
test_loads_torch_fixture (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PlMlp) model = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(JsonParser) parser = NULL;
  g_autofree char *path = NULL;
  g_autofree char *arch = NULL;
  JsonObject *metadata;
  gsize header_size;

  path = g_test_build_filename (G_TEST_DIST, "data", "st-torch-small.safetensors", NULL);

  /* The fixture is the one the constants above describe. */
  bytes = read_file (path);
  parser = parse_header (bytes, &header_size);
  metadata = json_object_get_object_member (json_node_get_object (json_parser_get_root (parser)),
                                            "__metadata__");
  g_assert_cmpstr (json_object_get_string_member (metadata, "fixture"), ==, "st-torch-small");
  g_assert_cmpstr (json_object_get_string_member (metadata, "version"), ==,
                   TORCH_FIXTURE_VERSION);
  g_assert_false (json_object_has_member (metadata, "arch"));
  g_assert_false (json_object_has_member (metadata, "activation"));

  model = pl_safetensors_load (path, &error);
  g_assert_no_error (error);
  arch = pl_mlp_arch (model);
  g_assert_cmpstr (arch, ==, "2-8-3");
  g_assert_cmpint (model->activation, ==, PL_ACTIVATION_RELU);
  g_assert_cmpuint (pl_mlp_n_pruned (model), ==, TORCH_FIXTURE_N_PRUNED);

  for (guint k = 0; k < G_N_ELEMENTS (torch_w0); k++)
    {
      g_assert_cmpfloat (model->layers[0].w[k], ==, torch_w0[k]);
      g_assert_cmpfloat (model->layers[0].w_mask[k], ==, torch_w0[k] != 0.0f);
    }
  for (guint k = 0; k < G_N_ELEMENTS (torch_w1); k++)
    {
      g_assert_cmpfloat (model->layers[1].w[k], ==, torch_w1[k]);
      g_assert_cmpfloat (model->layers[1].w_mask[k], ==, torch_w1[k] != 0.0f);
    }
  g_assert_cmpmem (model->layers[0].b, sizeof torch_b0, torch_b0, sizeof torch_b0);
  g_assert_cmpmem (model->layers[1].b, sizeof torch_b1, torch_b1, sizeof torch_b1);

  for (guint s = 0; s < G_N_ELEMENTS (torch_inputs); s++)
    {
      float out[3];

      forward_ref (model, torch_inputs[s], out);
      for (guint o = 0; o < 3; o++)
        g_assert_cmpfloat_with_epsilon (out[o], torch_logits[s][o], 1e-6);
    }
}

/* ---- tests/data/bad ---------------------------------------------------------------------- */

/* st-WHAT--CODE.safetensors: CODE names the expected PL_FORMAT_ERROR code. */
static gboolean
read_safetensors_file (const char  *path,
                       GError     **error)
{
  g_autoptr(PlMlp) model = pl_safetensors_load (path, error);

  return model != NULL;
}

int
main (int   argc,
      char *argv[])
{
  static const char * const suffixes[] = { ".safetensors", NULL };

  g_test_init (&argc, &argv, NULL);
  g_test_summary ("PlMlp to and from safetensors: bit-exact round trips, the format's rules "
                  "on hand-made and mutated files, and files written by PyTorch");

  g_test_add_func ("/io/safetensors/round-trip-is-bit-exact", test_round_trip);
  g_test_add_func ("/io/safetensors/round-trip-with-pruned-weights-is-bit-exact",
                   test_round_trip_pruned);
  g_test_add_func ("/io/safetensors/round-trip-keeps-activation", test_round_trip_activation);
  g_test_add_func ("/io/safetensors/writes-masks-only-when-pruned", test_masks_only_when_pruned);
  g_test_add_func ("/io/safetensors/writes-reference-layout", test_writes_reference_layout);
  g_test_add_func ("/io/safetensors/save-into-missing-directory-fails",
                   test_save_into_missing_directory);
  g_test_add_func ("/io/safetensors/save-replaces-existing-file", test_save_replaces_existing_file);
  g_test_add_func ("/io/safetensors/save-refuses-non-finite-weights", test_save_refuses_non_finite);
  g_test_add_func ("/io/safetensors/load-missing-file-fails", test_load_missing_file);

  g_test_add_func ("/io/safetensors/loads-hand-made-file", test_loads_hand_made_file);
  g_test_add_func ("/io/safetensors/loads-masks-and-derives-neuron-masks", test_loads_masks);
  g_test_add_func ("/io/safetensors/loads-torch-prune-layout", test_loads_torch_prune_layout);
  g_test_add_func ("/io/safetensors/converts-f16-bf16-f64", test_converts_other_float_dtypes);
  g_test_add_func ("/io/safetensors/rejects-truncated-header-length",
                   test_rejects_truncated_header_length);
  g_test_add_func ("/io/safetensors/rejects-header-length-beyond-file",
                   test_rejects_header_length_beyond_file);
  g_test_add_func ("/io/safetensors/rejects-huge-header-length", test_rejects_huge_header_length);
  g_test_add_func ("/io/safetensors/rejects-deep-nesting", test_rejects_deep_nesting);
  g_test_add_func ("/io/safetensors/rejects-header-with-too-many-values",
                   test_rejects_too_many_values);
  g_test_add_func ("/io/safetensors/rejects-nul-and-bad-utf8", test_rejects_nul_and_bad_utf8);
  g_test_add_func ("/io/safetensors/rejects-f64-beyond-float-range", test_rejects_out_of_range_f64);
  for (guint i = 0; i < G_N_ELEMENTS (bad_cases); i++)
    {
      g_autofree char *path = g_strconcat ("/io/safetensors/", bad_cases[i].path, NULL);

      g_test_add_data_func (path, &bad_cases[i], test_bad_case);
    }

  g_test_add_func ("/io/safetensors/fuzz/mutations-load-or-fail-cleanly", test_fuzz_mutations);
  g_test_add_func ("/io/safetensors/torch/loads-pruned-state-dict", test_loads_torch_fixture);
  pl_test_add_bad_file_tests ("st-", suffixes, "/io/safetensors/bad/", read_safetensors_file);

  return g_test_run ();
}
