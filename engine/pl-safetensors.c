#define G_LOG_DOMAIN "pl-safetensors"

#include "config.h"

#include "pl-safetensors.h"

#include <errno.h>
#include <float.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#include "pl-error.h"
#include "pl-file.h"
#include "pl-json.h"

/* The reference implementation refuses headers over 100 MB; ours take a few KiB. */
#define MAX_HEADER_SIZE (100u * 1024 * 1024)
/* A safetensors header nests three levels deep. json-glib's parser recurses once per level
 * and overflows the stack on deep nesting (100,000 '[' crash it), so deeper text is refused
 * before it. */
#define MAX_JSON_DEPTH  16
/* json-glib takes some 80 bytes per value: a 100 MiB header of "0," would need 4 GiB. A
 * header of PlMlp tensors holds some 500 values, one of a 1000-tensor model 10,000. */
#define MAX_JSON_VALUES (1 << 20)
/* Far above any model PruneLab trains (784-300-100-10 takes 1 MiB). */
#define MAX_FILE_SIZE   ((guint64) 8 << 30)

/* Element types of the format (https://github.com/huggingface/safetensors). */
typedef enum {
  KIND_OTHER,  /* valid in the format, not convertible to float */
  KIND_F32,
  KIND_F64,
  KIND_F16,
  KIND_BF16,
} DtypeKind;

typedef struct {
  const char *name;
  guint       size;
  DtypeKind   kind;
} Dtype;

static const Dtype dtypes[] = {
  { "BOOL", 1, KIND_OTHER }, { "U8", 1, KIND_OTHER }, { "I8", 1, KIND_OTHER },
  { "F8_E5M2", 1, KIND_OTHER }, { "F8_E4M3", 1, KIND_OTHER },
  { "I16", 2, KIND_OTHER }, { "U16", 2, KIND_OTHER }, { "F16", 2, KIND_F16 },
  { "BF16", 2, KIND_BF16 },
  { "I32", 4, KIND_OTHER }, { "U32", 4, KIND_OTHER }, { "F32", 4, KIND_F32 },
  { "I64", 8, KIND_OTHER }, { "U64", 8, KIND_OTHER }, { "F64", 8, KIND_F64 },
};

/* One entry of the header, checked against the rules of the format. */
typedef struct {
  const char  *name;        /* borrowed from the parser */
  const Dtype *dtype;       /* borrowed from dtypes[] */
  guint        rank;
  gsize        dims[PL_SAFETENSORS_MAX_RANK];  /* the first dimensions (conv weights have four) */
  gsize        n_elements;
  gsize        begin;       /* byte range in the data buffer */
  gsize        end;
} Tensor;

/* The tensors that make up one layer. */
typedef struct {
  const Tensor *weight;     /* layers.i.weight, or layers.i.weight_orig as PyTorch prunes */
  const Tensor *bias;
  const Tensor *mask;       /* layers.i.weight_mask, or NULL when nothing is pruned */
} LayerTensors;

/* The parts of a file, borrowed from the bytes and the parser. */
typedef struct {
  const char   *display_name;
  const guint8 *data;        /* the data buffer, after the header */
  gsize         data_size;
  JsonObject   *metadata;    /* NULL when absent */
  GArray       *tensors;     /* of Tensor */
} Contents;

/* ---- element access ---------------------------------------------------------------------- */

static double
half_to_double (guint16 h)
{
  int exponent = (h >> 10) & 0x1f;
  int mantissa = h & 0x3ff;
  double v;

  /* IEEE 754 binary16: 1 sign, 5 exponent (bias 15), 10 mantissa bits. */
  if (exponent == 0)
    v = ldexp (mantissa, -24);
  else if (exponent == 31)
    v = mantissa ? NAN : INFINITY;
  else
    v = ldexp (mantissa + 1024, exponent - 25);

  return (h & 0x8000) ? -v : v;
}

/* Element @k of @t, converted exactly to double. */
static double
tensor_get (const Tensor *t,
            const guint8 *data,
            gsize         k)
{
  const guint8 *p = data + t->begin + k * t->dtype->size;

  switch (t->dtype->kind)
    {
    case KIND_F32:
      {
        guint32 u;
        float f;

        memcpy (&u, p, sizeof u);
        u = GUINT32_FROM_LE (u);
        memcpy (&f, &u, sizeof f);
        return f;
      }
    case KIND_F64:
      {
        guint64 u;
        double d;

        memcpy (&u, p, sizeof u);
        u = GUINT64_FROM_LE (u);
        memcpy (&d, &u, sizeof d);
        return d;
      }
    case KIND_F16:
      {
        guint16 u;

        memcpy (&u, p, sizeof u);
        return half_to_double (GUINT16_FROM_LE (u));
      }
    case KIND_BF16:
      {
        guint16 u;
        guint32 w;
        float f;

        /* bfloat16 is the upper half of a binary32. */
        memcpy (&u, p, sizeof u);
        w = (guint32) GUINT16_FROM_LE (u) << 16;
        memcpy (&f, &w, sizeof f);
        return f;
      }
    case KIND_OTHER:
    default:
      g_assert_not_reached ();
    }
}

/* ---- header ------------------------------------------------------------------------------ */

/* Splits @bytes into header and data buffer and parses the header into @parser. */
static gboolean
read_header (const guint8  *bytes,
             gsize          size,
             const char    *display_name,
             JsonParser    *parser,
             Contents      *contents,
             GError       **error)
{
  g_autoptr(GError) local_error = NULL;
  const char *header;
  guint64 header_size;

  if (size < 8)
    {
      g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_TRUNCATED,
                   _("“%s”: %zu bytes, too short for the 8-byte header length of a safetensors file"),
                   display_name, size);
      return FALSE;
    }

  memcpy (&header_size, bytes, sizeof header_size);
  header_size = GUINT64_FROM_LE (header_size);
  if (header_size > MAX_HEADER_SIZE)
    {
      g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_TOO_LARGE,
                   _("“%s”: header length %llu exceeds the limit of %u bytes"),
                   display_name, (unsigned long long) header_size, MAX_HEADER_SIZE);
      return FALSE;
    }
  if (header_size > size - 8)
    {
      g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_TRUNCATED,
                   _("“%s”: header length %llu but only %zu bytes follow"),
                   display_name, (unsigned long long) header_size, size - 8);
      return FALSE;
    }

  header = (const char *) bytes + 8;
  if (header_size < 2 || header[0] != '{')
    {
      g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_BAD_MAGIC,
                   _("“%s”: the header is not a JSON object; not a safetensors file"),
                   display_name);
      return FALSE;
    }
  /* g_utf8_validate_len() also refuses NUL bytes. */
  if (!g_utf8_validate_len (header, header_size, NULL))
    {
      g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_BAD_MAGIC,
                   _("“%s”: the header is not UTF-8 text; not a safetensors file"),
                   display_name);
      return FALSE;
    }
  switch (pl_json_check (header, header_size, MAX_JSON_DEPTH, MAX_JSON_VALUES))
    {
    case PL_JSON_OK:
      break;
    case PL_JSON_TOO_DEEP:
      g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_BAD_HEADER,
                   _("“%s”: the header nests deeper than %d levels"),
                   display_name, MAX_JSON_DEPTH);
      return FALSE;
    case PL_JSON_TOO_MANY:
      g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_TOO_LARGE,
                   _("“%s”: the header holds more than %d values"),
                   display_name, MAX_JSON_VALUES);
      return FALSE;
    case PL_JSON_BAD_ESCAPE:
      g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_BAD_MAGIC,
                   _("“%s”: the header has a string escape that JSON does not allow (a "
                     "backslash takes one of \\\" \\\\ / b f n r t, or u and 4 hex digits, a "
                     "surrogate only in a pair); not a safetensors file"),
                   display_name);
      return FALSE;
    case PL_JSON_TRAILING:
      g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_BAD_MAGIC,
                   _("“%s”: the header holds more than one JSON value; not a safetensors "
                     "file"),
                   display_name);
      return FALSE;
    case PL_JSON_NOT_JSON:
    default:
      g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_BAD_MAGIC,
                   _("“%s”: the header is not JSON; not a safetensors file"),
                   display_name);
      return FALSE;
    }
  if (!json_parser_load_from_data (parser, header, header_size, &local_error))
    {
      /* json-glib quotes the token it stopped at, escapes decoded, not always as UTF-8 */
      g_autofree char *shown = g_utf8_make_valid (local_error->message, -1);

      g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_BAD_MAGIC,
                   _("“%s”: the header is not JSON (%s); not a safetensors file"),
                   display_name, shown);
      return FALSE;
    }
  if (!JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_BAD_MAGIC,
                   _("“%s”: the header is not a JSON object; not a safetensors file"),
                   display_name);
      return FALSE;
    }

  contents->display_name = display_name;
  contents->data = bytes + 8 + header_size;
  contents->data_size = size - 8 - header_size;

  return TRUE;
}

/* A JSON integer in 0..G_MAXSIZE. json-glib saturates integers beyond gint64 to negative
 * or out-of-range values, which this refuses as well. */
static gboolean
node_get_size (JsonNode *node,
               gsize    *out)
{
  gint64 v;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node)
      || json_node_get_value_type (node) != G_TYPE_INT64)
    return FALSE;

  v = json_node_get_int (node);
  if (v < 0 || (guint64) v > G_MAXSIZE)
    return FALSE;

  *out = (gsize) v;
  return TRUE;
}

/* Checks one tensor entry by the rules of the format, whatever its name. */
static gboolean
parse_tensor (const Contents  *contents,
              const char      *name,
              JsonNode        *node,
              Tensor          *t,
              GError         **error)
{
  const char *display_name = contents->display_name;
  JsonObject *entry;
  JsonNode *dtype_node;
  JsonArray *shape;
  JsonArray *offsets;
  const char *dtype;
  gsize n_bytes;

  memset (t, 0, sizeof *t);
  t->name = name;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    {
      g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_BAD_HEADER,
                   _("“%s”: tensor “%s”: the entry is not an object"), display_name, name);
      return FALSE;
    }
  entry = json_node_get_object (node);

  dtype_node = json_object_get_member (entry, "dtype");
  if (dtype_node == NULL || !JSON_NODE_HOLDS_VALUE (dtype_node)
      || json_node_get_value_type (dtype_node) != G_TYPE_STRING)
    {
      g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_BAD_HEADER,
                   _("“%s”: tensor “%s”: no “dtype” string"), display_name, name);
      return FALSE;
    }
  dtype = json_node_get_string (dtype_node);
  for (guint i = 0; i < G_N_ELEMENTS (dtypes) && t->dtype == NULL; i++)
    if (strcmp (dtype, dtypes[i].name) == 0)
      t->dtype = &dtypes[i];
  if (t->dtype == NULL)
    {
      g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_BAD_DTYPE,
                   _("“%s”: tensor “%s”: unknown dtype “%s”"), display_name, name, dtype);
      return FALSE;
    }

  if (!json_object_has_member (entry, "shape")
      || !JSON_NODE_HOLDS_ARRAY (json_object_get_member (entry, "shape")))
    {
      g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_BAD_SHAPE,
                   _("“%s”: tensor “%s”: no “shape” list"), display_name, name);
      return FALSE;
    }
  shape = json_object_get_array_member (entry, "shape");
  t->rank = json_array_get_length (shape);
  t->n_elements = 1;
  for (guint i = 0; i < t->rank; i++)
    {
      gsize dim;

      if (!node_get_size (json_array_get_element (shape, i), &dim))
        {
          g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_BAD_SHAPE,
                       _("“%s”: tensor “%s”: dimension %u is not a non-negative integer"),
                       display_name, name, i);
          return FALSE;
        }
      if (i < G_N_ELEMENTS (t->dims))
        t->dims[i] = dim;
      if (!g_size_checked_mul (&t->n_elements, t->n_elements, dim))
        {
          g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_TOO_LARGE,
                       _("“%s”: tensor “%s”: the number of elements overflows"),
                       display_name, name);
          return FALSE;
        }
    }
  if (!g_size_checked_mul (&n_bytes, t->n_elements, t->dtype->size))
    {
      g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_TOO_LARGE,
                   _("“%s”: tensor “%s”: the size in bytes overflows"), display_name, name);
      return FALSE;
    }

  if (!json_object_has_member (entry, "data_offsets")
      || !JSON_NODE_HOLDS_ARRAY (json_object_get_member (entry, "data_offsets"))
      || json_array_get_length (json_object_get_array_member (entry, "data_offsets")) != 2)
    {
      g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_BAD_OFFSET,
                   _("“%s”: tensor “%s”: no “data_offsets” pair [begin, end]"),
                   display_name, name);
      return FALSE;
    }
  offsets = json_object_get_array_member (entry, "data_offsets");
  if (!node_get_size (json_array_get_element (offsets, 0), &t->begin)
      || !node_get_size (json_array_get_element (offsets, 1), &t->end))
    {
      g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_BAD_OFFSET,
                   _("“%s”: tensor “%s”: data_offsets are not two non-negative integers"),
                   display_name, name);
      return FALSE;
    }
  if (t->begin > t->end || t->end > contents->data_size)
    {
      g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_BAD_OFFSET,
                   _("“%s”: tensor “%s”: data_offsets [%zu, %zu] are not a range in the "
                     "%zu-byte data buffer"),
                   display_name, name, t->begin, t->end, contents->data_size);
      return FALSE;
    }
  if (t->end - t->begin != n_bytes)
    {
      g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_BAD_OFFSET,
                   _("“%s”: tensor “%s”: %zu %s elements take %zu bytes, data_offsets give %zu"),
                   display_name, name, t->n_elements, t->dtype->name, n_bytes,
                   t->end - t->begin);
      return FALSE;
    }

  return TRUE;
}

static gboolean
parse_metadata (Contents    *contents,
                JsonNode    *node,
                GError     **error)
{
  JsonObjectIter iter;
  const char *key;
  JsonNode *value;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    {
      g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_BAD_HEADER,
                   _("“%s”: “__metadata__” is not an object"), contents->display_name);
      return FALSE;
    }

  contents->metadata = json_node_get_object (node);
  json_object_iter_init (&iter, contents->metadata);
  while (json_object_iter_next (&iter, &key, &value))
    if (!JSON_NODE_HOLDS_VALUE (value) || json_node_get_value_type (value) != G_TYPE_STRING)
      {
        g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_BAD_HEADER,
                     _("“%s”: metadata “%s” is not a string"), contents->display_name, key);
        return FALSE;
      }

  return TRUE;
}

static int
compare_tensor_ranges (gconstpointer a,
                       gconstpointer b)
{
  const Tensor *ta = a;
  const Tensor *tb = b;

  if (ta->begin != tb->begin)
    return ta->begin < tb->begin ? -1 : 1;
  if (ta->end != tb->end)
    return ta->end < tb->end ? -1 : 1;
  return 0;
}

/* The tensors must tile the data buffer: no overlap, no hole, nothing after the last. */
static gboolean
check_coverage (const Contents  *contents,
                GError         **error)
{
  g_autoptr(GArray) sorted = NULL;
  const Tensor *previous = NULL;
  gsize covered = 0;

  sorted = g_array_copy (contents->tensors);
  g_array_sort (sorted, compare_tensor_ranges);

  for (guint i = 0; i < sorted->len; i++)
    {
      const Tensor *t = &g_array_index (sorted, Tensor, i);

      if (t->begin < covered)
        {
          g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_BAD_OFFSET,
                       _("“%s”: tensors “%s” and “%s” overlap in the data buffer"),
                       contents->display_name, previous->name, t->name);
          return FALSE;
        }
      if (t->begin > covered)
        {
          g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_BAD_OFFSET,
                       _("“%s”: bytes %zu to %zu of the data buffer belong to no tensor"),
                       contents->display_name, covered, t->begin);
          return FALSE;
        }
      covered = t->end;
      previous = t;
    }

  if (covered != contents->data_size)
    {
      g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_BAD_OFFSET,
                   _("“%s”: bytes %zu to %zu of the data buffer belong to no tensor"),
                   contents->display_name, covered, contents->data_size);
      return FALSE;
    }

  return TRUE;
}

/* Reads the header's tensor entries and metadata, by the rules of the format. */
static gboolean
parse_entries (Contents    *contents,
               JsonObject  *root,
               GError     **error)
{
  JsonObjectIter iter;
  const char *name;
  JsonNode *node;

  json_object_iter_init (&iter, root);
  while (json_object_iter_next (&iter, &name, &node))
    {
      Tensor t;

      if (strcmp (name, "__metadata__") == 0)
        {
          if (!parse_metadata (contents, node, error))
            return FALSE;
          continue;
        }

      if (!parse_tensor (contents, name, node, &t, error))
        return FALSE;
      g_array_append_val (contents->tensors, t);
    }

  return check_coverage (contents, error);
}

/* ---- from tensors to layers -------------------------------------------------------------- */

/* "layers.12.weight_mask" → 12, "weight_mask". Only the canonical spelling of the index. */
static gboolean
parse_tensor_name (const char  *name,
                   guint       *layer,
                   const char **suffix)
{
  const char *p;
  guint64 v;
  g_autofree char *digits = NULL;

  if (!g_str_has_prefix (name, "layers."))
    return FALSE;
  p = name + strlen ("layers.");
  *suffix = strchr (p, '.');
  if (*suffix == NULL || *suffix == p || *suffix - p > 9)
    return FALSE;

  digits = g_strndup (p, *suffix - p);
  if (!g_ascii_string_to_unsigned (digits, 10, 0, G_MAXUINT, &v, NULL)
      || (digits[0] == '0' && digits[1] != '\0'))
    return FALSE;

  *layer = (guint) v;
  *suffix += 1;
  return TRUE;
}

/* Assigns the tensors to layers; every tensor must have a place. */
/* With @strict every tensor must have a place; otherwise only those named @prefix + "layers."
 * are taken (a session file holds more than one model, pl-session.h). */
static gboolean
collect_layers (const Contents  *contents,
                const char      *prefix,
                gboolean         strict,
                LayerTensors    *layers,
                guint           *n_layers,
                GError         **error)
{
  const char *display_name = contents->display_name;
  gboolean any = FALSE;
  guint n = 0;

  memset (layers, 0, sizeof (LayerTensors) * PL_MLP_MAX_LAYERS);

  for (guint i = 0; i < contents->tensors->len; i++)
    {
      const Tensor *t = &g_array_index (contents->tensors, Tensor, i);
      const Tensor **slot = NULL;
      const char *suffix;
      guint layer;

      if (!g_str_has_prefix (t->name, prefix))
        {
          if (!strict)
            continue;
        }
      else if (!strict && !g_str_has_prefix (t->name + strlen (prefix), "layers."))
        continue;

      if (!parse_tensor_name (t->name + strlen (prefix), &layer, &suffix)
          || !(g_str_equal (suffix, "weight") || g_str_equal (suffix, "weight_orig")
               || g_str_equal (suffix, "bias") || g_str_equal (suffix, "weight_mask")))
        {
          g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_BAD_HEADER,
                       _("“%s”: tensor “%s” is not part of an MLP (expected layers.N.weight, "
                         "layers.N.bias and optionally layers.N.weight_mask)"),
                       display_name, t->name);
          return FALSE;
        }
      if (layer >= PL_MLP_MAX_LAYERS)
        {
          g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_TOO_LARGE,
                       _("“%s”: tensor “%s”: PruneLab models have at most %d layers"),
                       display_name, t->name, PL_MLP_MAX_LAYERS);
          return FALSE;
        }

      if (g_str_equal (suffix, "bias"))
        slot = &layers[layer].bias;
      else if (g_str_equal (suffix, "weight_mask"))
        slot = &layers[layer].mask;
      else
        slot = &layers[layer].weight;

      /* Only weight and weight_orig can meet here: JSON objects keep one member per name. */
      if (*slot != NULL)
        {
          g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_BAD_HEADER,
                       _("“%s”: tensors “%s” and “%s” both give the weight of layer %u"),
                       display_name, (*slot)->name, t->name, layer);
          return FALSE;
        }
      *slot = t;
      n = MAX (n, layer + 1);
      any = TRUE;
    }

  if (!any)
    {
      if (*prefix == '\0')
        g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_BAD_HEADER,
                     _("“%s”: no tensors; expected layers.0.weight and layers.0.bias"),
                     display_name);
      else
        g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_BAD_HEADER,
                     _("“%s”: no tensors “%slayers.N.weight”"), display_name, prefix);
      return FALSE;
    }

  for (guint i = 0; i < n; i++)
    {
      const LayerTensors *l = &layers[i];

      if (l->weight == NULL || l->bias == NULL)
        {
          g_autofree char *missing = g_strdup_printf ("%slayers.%u.%s", prefix, i,
                                                      l->weight == NULL ? "weight" : "bias");

          g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_BAD_HEADER,
                       _("“%s”: layer %u has no tensor “%s”"), display_name, i, missing);
          return FALSE;
        }
      if (g_str_has_suffix (l->weight->name, "_orig") && l->mask == NULL)
        {
          g_autofree char *missing = g_strdup_printf ("%slayers.%u.weight_mask", prefix, i);

          g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_BAD_HEADER,
                       _("“%s”: tensor “%s” needs “%s”"), display_name, l->weight->name,
                       missing);
          return FALSE;
        }
    }

  *n_layers = n;
  return TRUE;
}

static gboolean
check_float_dtype (const Contents  *contents,
                   const Tensor    *t,
                   GError         **error)
{
  if (t->dtype->kind != KIND_OTHER)
    return TRUE;

  g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_BAD_DTYPE,
               _("“%s”: tensor “%s”: dtype %s is not supported; use F32 (or F16, BF16, F64)"),
               contents->display_name, t->name, t->dtype->name);
  return FALSE;
}

/* Dtypes and shapes of the layers; fills @sizes (n_layers + 1 entries). */
static gboolean
check_layer_shapes (const Contents      *contents,
                    const LayerTensors  *layers,
                    guint                n_layers,
                    guint               *sizes,
                    GError             **error)
{
  const char *display_name = contents->display_name;

  for (guint i = 0; i < n_layers; i++)
    {
      const Tensor *w = layers[i].weight;
      const Tensor *b = layers[i].bias;
      const Tensor *m = layers[i].mask;

      if (!check_float_dtype (contents, w, error)
          || !check_float_dtype (contents, b, error)
          || (m != NULL && !check_float_dtype (contents, m, error)))
        return FALSE;

      if (w->rank != 2)
        {
          g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_BAD_SHAPE,
                       _("“%s”: tensor “%s”: rank %u, but a weight has the shape [out, in]"),
                       display_name, w->name, w->rank);
          return FALSE;
        }
      for (guint d = 0; d < 2; d++)
        {
          if (w->dims[d] == 0)
            {
              g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_BAD_SHAPE,
                           _("“%s”: tensor “%s”: shape [%zu, %zu] has a zero dimension"),
                           display_name, w->name, w->dims[0], w->dims[1]);
              return FALSE;
            }
          if (w->dims[d] > PL_MLP_MAX_WIDTH)
            {
              g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_TOO_LARGE,
                           _("“%s”: tensor “%s”: shape [%zu, %zu] is wider than %d"),
                           display_name, w->name, w->dims[0], w->dims[1], PL_MLP_MAX_WIDTH);
              return FALSE;
            }
        }
      if (b->rank != 1 || b->dims[0] != w->dims[0])
        {
          g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_BAD_SHAPE,
                       _("“%s”: tensor “%s”: the bias must have shape [%zu], one per output "
                         "of “%s”"),
                       display_name, b->name, w->dims[0], w->name);
          return FALSE;
        }
      if (m != NULL && (m->rank != 2 || m->dims[0] != w->dims[0] || m->dims[1] != w->dims[1]))
        {
          g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_BAD_SHAPE,
                       _("“%s”: tensor “%s”: the mask must have the shape [%zu, %zu] of “%s”"),
                       display_name, m->name, w->dims[0], w->dims[1], w->name);
          return FALSE;
        }
      if (i > 0 && w->dims[1] != sizes[i])
        {
          g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_BAD_SHAPE,
                       _("“%s”: layer %u takes %zu inputs but layer %u gives %u outputs"),
                       display_name, i, w->dims[1], i - 1, sizes[i]);
          return FALSE;
        }

      sizes[i] = (guint) w->dims[1];
      sizes[i + 1] = (guint) w->dims[0];
    }

  return TRUE;
}

static gboolean
check_metadata (const Contents  *contents,
                const guint     *sizes,
                guint            n_layers,
                PlActivation    *activation,
                GError         **error)
{
  g_autoptr(GError) local_error = NULL;
  const char *display_name = contents->display_name;
  const char *arch = NULL;
  const char *act = NULL;

  *activation = PL_ACTIVATION_RELU;
  if (contents->metadata == NULL)
    return TRUE;

  if (json_object_has_member (contents->metadata, "arch"))
    arch = json_object_get_string_member (contents->metadata, "arch");
  if (json_object_has_member (contents->metadata, "activation"))
    act = json_object_get_string_member (contents->metadata, "activation");

  if (arch != NULL)
    {
      guint meta_sizes[PL_MLP_MAX_LAYERS + 1];
      guint meta_n_layers;

      if (!pl_arch_parse (arch, meta_sizes, &meta_n_layers, &local_error))
        {
          g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_BAD_HEADER,
                       _("“%s”: metadata: %s"), display_name, local_error->message);
          return FALSE;
        }
      if (meta_n_layers != n_layers
          || memcmp (meta_sizes, sizes, sizeof (guint) * (n_layers + 1)) != 0)
        {
          g_autoptr(GString) found = g_string_new (NULL);

          for (guint i = 0; i <= n_layers; i++)
            g_string_append_printf (found, i ? "-%u" : "%u", sizes[i]);
          g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_MISMATCH,
                       _("“%s”: the metadata give the architecture %s, the tensors %s"),
                       display_name, arch, found->str);
          return FALSE;
        }
    }

  if (act != NULL && !pl_activation_parse (act, activation, &local_error))
    {
      g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_BAD_HEADER,
                   _("“%s”: metadata: %s"), display_name, local_error->message);
      return FALSE;
    }

  return TRUE;
}

/* Finite numbers within float range; masks exactly 0 or 1. */
static gboolean
check_values (const Contents  *contents,
              const Tensor    *t,
              gboolean         is_mask,
              GError         **error)
{
  for (gsize k = 0; k < t->n_elements; k++)
    {
      double v = tensor_get (t, contents->data, k);

      if (is_mask && v != 0.0 && v != 1.0)
        {
          g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_BAD_VALUE,
                       _("“%s”: tensor “%s”: element %zu is %g; a mask holds only 0 and 1"),
                       contents->display_name, t->name, k, v);
          return FALSE;
        }
      if (!isfinite (v) || fabs (v) > FLT_MAX)
        {
          g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_BAD_VALUE,
                       _("“%s”: tensor “%s”: element %zu is %g, not a finite float"),
                       contents->display_name, t->name, k, v);
          return FALSE;
        }
    }

  return TRUE;
}

static void
copy_tensor (float          *out,
             const Contents *contents,
             const Tensor   *t)
{
  if (t->dtype->kind == KIND_F32 && G_BYTE_ORDER == G_LITTLE_ENDIAN)
    {
      memcpy (out, contents->data + t->begin, t->end - t->begin);
      return;
    }

  for (gsize k = 0; k < t->n_elements; k++)
    out[k] = (float) tensor_get (t, contents->data, k);
}

/* The model of the tensors collected in @layers, each checked. (transfer full) */
static PlMlp *
make_model (const Contents      *contents,
            const LayerTensors  *layers,
            guint                n_layers,
            const guint         *sizes,
            PlActivation         activation,
            GError             **error)
{
  g_autoptr(PlMlp) model = NULL;

  for (guint i = 0; i < n_layers; i++)
    if (!check_values (contents, layers[i].weight, FALSE, error)
        || !check_values (contents, layers[i].bias, FALSE, error)
        || (layers[i].mask != NULL && !check_values (contents, layers[i].mask, TRUE, error)))
      return NULL;

  model = pl_mlp_new (sizes, n_layers, activation);
  for (guint i = 0; i < n_layers; i++)
    {
      PlLayer *l = &model->layers[i];
      const Tensor *m = layers[i].mask;

      copy_tensor (l->w, contents, layers[i].weight);
      copy_tensor (l->b, contents, layers[i].bias);
      /* A weight_orig's pruned entries are live values; the masks zero them below. */
      for (gsize k = 0; m != NULL && k < m->n_elements; k++)
        l->w_mask[k] = tensor_get (m, contents->data, k) != 0.0 ? 1.0f : 0.0f;
    }
  pl_mlp_apply_masks (model);

  return g_steal_pointer (&model);
}

PlMlp *
pl_safetensors_load_bytes (GBytes      *bytes,
                           const char  *display_name,
                           GError     **error)
{
  g_autoptr(JsonParser) parser = NULL;
  g_autoptr(GArray) tensors = NULL;
  LayerTensors layers[PL_MLP_MAX_LAYERS];
  guint sizes[PL_MLP_MAX_LAYERS + 1];
  Contents contents = { 0 };
  PlActivation activation;
  const guint8 *data;
  guint n_layers;
  gsize size;

  g_return_val_if_fail (bytes != NULL, NULL);
  g_return_val_if_fail (display_name != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  data = g_bytes_get_data (bytes, &size);
  parser = json_parser_new ();
  tensors = g_array_new (FALSE, FALSE, sizeof (Tensor));
  contents.tensors = tensors;

  if (!read_header (data, size, display_name, parser, &contents, error)
      || !parse_entries (&contents, json_node_get_object (json_parser_get_root (parser)), error)
      || !collect_layers (&contents, "", TRUE, layers, &n_layers, error)
      || !check_layer_shapes (&contents, layers, n_layers, sizes, error)
      || !check_metadata (&contents, sizes, n_layers, &activation, error))
    return NULL;

  return make_model (&contents, layers, n_layers, sizes, activation, error);
}

/* The file's bytes, after checks that it is a regular file of a size a model may take. */
static GBytes *
read_file (const char  *path,
           const char  *display_name,
           GError     **error)
{
  g_autofree char *contents = NULL;
  GStatBuf st;
  gsize length;

  if (g_stat (path, &st) != 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved_errno),
                   _("Could not open “%s”: %s"), display_name, g_strerror (saved_errno));
      return NULL;
    }
  if (!S_ISREG (st.st_mode))
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                   _("Could not open “%s”: not a regular file"), display_name);
      return NULL;
    }
  if ((guint64) st.st_size > MAX_FILE_SIZE || (guint64) st.st_size > G_MAXSSIZE)
    {
      g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_TOO_LARGE,
                   _("“%s”: %llu bytes, more than the %llu bytes a model file may take"),
                   display_name, (unsigned long long) st.st_size,
                   (unsigned long long) MAX_FILE_SIZE);
      return NULL;
    }

  /* The bytes read are validated whatever their size, should the file change meanwhile. */
  if (!g_file_get_contents (path, &contents, &length, error))
    return NULL;
  return g_bytes_new_take (g_steal_pointer (&contents), length);
}

PlMlp *
pl_safetensors_load (const char  *path,
                     GError     **error)
{
  g_autofree char *display_name = NULL;
  g_autoptr(GBytes) bytes = NULL;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  display_name = g_filename_display_name (path);
  bytes = read_file (path, display_name, error);
  if (bytes == NULL)
    return NULL;

  return pl_safetensors_load_bytes (bytes, display_name, error);
}

/* ---- the container ----------------------------------------------------------------------- */

struct _PlSafetensors {
  GBytes     *bytes;          /* owned: the whole file */
  char       *display_name;   /* owned */
  JsonParser *parser;         /* owned: the header; tensor names and metadata point into it */
  GArray     *tensors;        /* owned: Tensor */
  Contents    contents;       /* borrows from the above */
};

PlSafetensors *
pl_safetensors_parse (GBytes      *bytes,
                      const char  *display_name,
                      GError     **error)
{
  g_autoptr(PlSafetensors) self = NULL;
  const guint8 *data;
  gsize size;

  g_return_val_if_fail (bytes != NULL, NULL);
  g_return_val_if_fail (display_name != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  self = g_new0 (PlSafetensors, 1);
  self->bytes = g_bytes_ref (bytes);
  self->display_name = g_strdup (display_name);
  self->parser = json_parser_new ();
  self->tensors = g_array_new (FALSE, FALSE, sizeof (Tensor));
  self->contents.tensors = self->tensors;

  data = g_bytes_get_data (bytes, &size);
  if (!read_header (data, size, self->display_name, self->parser, &self->contents, error)
      || !parse_entries (&self->contents,
                         json_node_get_object (json_parser_get_root (self->parser)), error))
    return NULL;

  return g_steal_pointer (&self);
}

PlSafetensors *
pl_safetensors_open (const char  *path,
                     GError     **error)
{
  g_autofree char *display_name = NULL;
  g_autoptr(GBytes) bytes = NULL;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  display_name = g_filename_display_name (path);
  bytes = read_file (path, display_name, error);
  if (bytes == NULL)
    return NULL;

  return pl_safetensors_parse (bytes, display_name, error);
}

void
pl_safetensors_free (PlSafetensors *self)
{
  if (self == NULL)
    return;

  g_clear_pointer (&self->tensors, g_array_unref);
  g_clear_object (&self->parser);
  g_clear_pointer (&self->bytes, g_bytes_unref);
  g_free (self->display_name);
  g_free (self);
}

const char *
pl_safetensors_get_metadata (const PlSafetensors *self,
                             const char          *key)
{
  g_return_val_if_fail (self != NULL, NULL);

  if (self->contents.metadata == NULL || !json_object_has_member (self->contents.metadata, key))
    return NULL;
  /* parse_metadata() checked that every value is a string */
  return json_object_get_string_member (self->contents.metadata, key);
}

guint
pl_safetensors_n_tensors (const PlSafetensors *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->tensors->len;
}

const char *
pl_safetensors_tensor_name (const PlSafetensors *self,
                            guint                i)
{
  g_return_val_if_fail (self != NULL && i < self->tensors->len, NULL);

  return g_array_index (self->tensors, Tensor, i).name;
}

static const Tensor *
find_tensor (const PlSafetensors *self,
             const char          *name)
{
  for (guint i = 0; i < self->tensors->len; i++)
    if (strcmp (g_array_index (self->tensors, Tensor, i).name, name) == 0)
      return &g_array_index (self->tensors, Tensor, i);
  return NULL;
}

/* The tensor @name of a float dtype with exactly @rank dimensions, else an error. */
static const Tensor *
get_float_tensor (const PlSafetensors *self,
                  const char          *name,
                  guint                rank,
                  GError             **error)
{
  const Tensor *t = find_tensor (self, name);

  if (t == NULL)
    {
      g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_BAD_HEADER,
                   _("“%s”: no tensor “%s”"), self->display_name, name);
      return NULL;
    }
  if (!check_float_dtype (&self->contents, t, error))
    return NULL;
  if (t->rank != rank)
    {
      g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_BAD_SHAPE,
                   _("“%s”: tensor “%s” has %u dimensions, not %u"), self->display_name, name,
                   t->rank, rank);
      return NULL;
    }
  return t;
}

gboolean
pl_safetensors_get_shape (const PlSafetensors  *self,
                          const char           *name,
                          guint                 rank,
                          gsize                *dims,
                          GError              **error)
{
  const Tensor *t;

  g_return_val_if_fail (self != NULL && name != NULL, FALSE);
  g_return_val_if_fail (rank <= PL_SAFETENSORS_MAX_RANK, FALSE);

  t = get_float_tensor (self, name, rank, error);
  if (t == NULL)
    return FALSE;
  for (guint d = 0; d < rank; d++)
    dims[d] = t->dims[d];
  return TRUE;
}

gboolean
pl_safetensors_get_f64 (const PlSafetensors  *self,
                        const char           *name,
                        guint                 rank,
                        const gsize          *dims,
                        double               *out,
                        GError              **error)
{
  const Tensor *t;

  g_return_val_if_fail (self != NULL && name != NULL && out != NULL, FALSE);
  g_return_val_if_fail (rank <= PL_SAFETENSORS_MAX_RANK, FALSE);

  t = get_float_tensor (self, name, rank, error);
  if (t == NULL)
    return FALSE;
  for (guint d = 0; d < rank; d++)
    if (t->dims[d] != dims[d])
      {
        g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_BAD_SHAPE,
                     _("“%s”: tensor “%s”: dimension %u is %zu, not %zu"), self->display_name,
                     name, d, t->dims[d], dims[d]);
        return FALSE;
      }

  for (gsize k = 0; k < t->n_elements; k++)
    out[k] = tensor_get (t, self->contents.data, k);
  return TRUE;
}

PlMlp *
pl_safetensors_get_mlp (const PlSafetensors  *self,
                        const char           *prefix,
                        PlActivation          activation,
                        GError              **error)
{
  LayerTensors layers[PL_MLP_MAX_LAYERS];
  guint sizes[PL_MLP_MAX_LAYERS + 1];
  guint n_layers;

  g_return_val_if_fail (self != NULL && prefix != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!collect_layers (&self->contents, prefix, FALSE, layers, &n_layers, error)
      || !check_layer_shapes (&self->contents, layers, n_layers, sizes, error))
    return NULL;

  return make_model (&self->contents, layers, n_layers, sizes, activation, error);
}

const guint8 *
pl_safetensors_get_data (const PlSafetensors *self,
                         gsize               *size)
{
  g_return_val_if_fail (self != NULL && size != NULL, NULL);

  *size = self->contents.data_size;
  return self->contents.data;
}

/* ---- writing ----------------------------------------------------------------------------- */

typedef struct {
  char   *name;      /* owned */
  char   *dtype;     /* static: "F32" or "F64" */
  guint   rank;
  gsize   dims[PL_SAFETENSORS_MAX_RANK];
  gsize   begin;
  gsize   end;
} Entry;

struct _PlSafetensorsWriter {
  GPtrArray  *metadata;  /* owned: key, value, key, value, … (char *) */
  GArray     *entries;   /* owned: Entry, in the order added */
  GByteArray *data;      /* owned: the data buffer */
};

static void
entry_clear (gpointer data)
{
  Entry *e = data;

  g_free (e->name);
}

PlSafetensorsWriter *
pl_safetensors_writer_new (void)
{
  PlSafetensorsWriter *self = g_new0 (PlSafetensorsWriter, 1);

  self->metadata = g_ptr_array_new_with_free_func (g_free);
  self->entries = g_array_new (FALSE, FALSE, sizeof (Entry));
  g_array_set_clear_func (self->entries, entry_clear);
  self->data = g_byte_array_new ();
  return self;
}

void
pl_safetensors_writer_free (PlSafetensorsWriter *self)
{
  if (self == NULL)
    return;

  g_ptr_array_unref (self->metadata);
  g_array_unref (self->entries);
  g_byte_array_unref (self->data);
  g_free (self);
}

void
pl_safetensors_writer_add_metadata (PlSafetensorsWriter *self,
                                    const char          *key,
                                    const char          *value)
{
  g_return_if_fail (self != NULL && key != NULL && value != NULL);

  g_ptr_array_add (self->metadata, g_strdup (key));
  g_ptr_array_add (self->metadata, g_strdup (value));
}

static gsize
add_entry (PlSafetensorsWriter *self,
           const char          *name,
           const char          *dtype,
           gsize                element_size,
           guint                rank,
           const gsize         *dims)
{
  Entry e = { g_strdup (name), (char *) dtype, rank, { 0 }, self->data->len, 0 };
  gsize n = 1;

  g_assert (rank <= PL_SAFETENSORS_MAX_RANK);
  for (guint d = 0; d < rank; d++)
    {
      e.dims[d] = dims[d];
      n *= dims[d];
    }
  e.end = e.begin + n * element_size;
  g_array_append_val (self->entries, e);
  return n;
}

/* @n little-endian floats; with @as_mask, 1 for kept (non-zero) and 0 for pruned. */
static void
put_floats (GByteArray  *out,
            const float *values,
            gsize        n,
            gboolean     as_mask)
{
  for (gsize k = 0; k < n; k++)
    {
      float f = as_mask ? (values[k] != 0.0f ? 1.0f : 0.0f) : values[k];
      guint32 u;

      memcpy (&u, &f, sizeof u);
      u = GUINT32_TO_LE (u);
      g_byte_array_append (out, (const guint8 *) &u, sizeof u);
    }
}

void
pl_safetensors_writer_add_f32 (PlSafetensorsWriter *self,
                               const char          *name,
                               guint                rank,
                               const gsize         *dims,
                               const float         *values,
                               gboolean             as_mask)
{
  gsize n;

  g_return_if_fail (self != NULL && name != NULL && rank <= PL_SAFETENSORS_MAX_RANK);

  n = add_entry (self, name, "F32", sizeof (float), rank, dims);
  put_floats (self->data, values, n, as_mask);
}

void
pl_safetensors_writer_add_f64 (PlSafetensorsWriter *self,
                               const char          *name,
                               guint                rank,
                               const gsize         *dims,
                               const double        *values)
{
  gsize n;

  g_return_if_fail (self != NULL && name != NULL && rank <= PL_SAFETENSORS_MAX_RANK);

  n = add_entry (self, name, "F64", sizeof (double), rank, dims);
  for (gsize k = 0; k < n; k++)
    {
      guint64 u;

      memcpy (&u, &values[k], sizeof u);
      u = GUINT64_TO_LE (u);
      g_byte_array_append (self->data, (const guint8 *) &u, sizeof u);
    }
}

void
pl_safetensors_writer_add_mlp (PlSafetensorsWriter *self,
                               const char          *prefix,
                               const PlMlp         *model,
                               gboolean             with_masks)
{
  g_return_if_fail (self != NULL && prefix != NULL && model != NULL);

  for (guint i = 0; i < model->n_layers; i++)
    {
      const PlLayer *l = &model->layers[i];
      g_autofree char *weight = g_strdup_printf ("%slayers.%u.weight", prefix, i);
      g_autofree char *bias = g_strdup_printf ("%slayers.%u.bias", prefix, i);
      g_autofree char *mask = g_strdup_printf ("%slayers.%u.weight_mask", prefix, i);
      gsize wdims[2] = { l->n_out, l->n_in };
      gsize bdims[1] = { l->n_out };

      pl_safetensors_writer_add_f32 (self, weight, 2, wdims, l->w, FALSE);
      pl_safetensors_writer_add_f32 (self, bias, 1, bdims, l->b, FALSE);
      if (with_masks)
        pl_safetensors_writer_add_f32 (self, mask, 2, wdims, l->w_mask, TRUE);
    }
}

/* The header JSON, padded with spaces to a multiple of 8 bytes as the reference writer does,
 * so that the data buffer starts aligned: the metadata, then the tensors in the order added. */
static char *
build_header (const PlSafetensorsWriter *self,
              gsize                     *header_size)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *json = NULL;
  gsize len;
  gsize padded;
  char *header;

  json_builder_begin_object (builder);
  if (self->metadata->len > 0)
    {
      json_builder_set_member_name (builder, "__metadata__");
      json_builder_begin_object (builder);
      for (guint i = 0; i + 1 < self->metadata->len; i += 2)
        {
          json_builder_set_member_name (builder, g_ptr_array_index (self->metadata, i));
          json_builder_add_string_value (builder, g_ptr_array_index (self->metadata, i + 1));
        }
      json_builder_end_object (builder);
    }

  for (guint i = 0; i < self->entries->len; i++)
    {
      const Entry *e = &g_array_index (self->entries, Entry, i);

      json_builder_set_member_name (builder, e->name);
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "dtype");
      json_builder_add_string_value (builder, e->dtype);
      json_builder_set_member_name (builder, "shape");
      json_builder_begin_array (builder);
      for (guint d = 0; d < e->rank; d++)
        json_builder_add_int_value (builder, e->dims[d]);
      json_builder_end_array (builder);
      json_builder_set_member_name (builder, "data_offsets");
      json_builder_begin_array (builder);
      json_builder_add_int_value (builder, e->begin);
      json_builder_add_int_value (builder, e->end);
      json_builder_end_array (builder);
      json_builder_end_object (builder);
    }
  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  json_generator_set_root (generator, root);
  json = json_generator_to_data (generator, &len);

  padded = (len + 7) / 8 * 8;
  header = g_malloc (padded);
  memcpy (header, json, len);
  memset (header + len, ' ', padded - len);

  *header_size = padded;
  return header;
}

const guint8 *
pl_safetensors_writer_get_data (PlSafetensorsWriter *self,
                                gsize               *size)
{
  g_return_val_if_fail (self != NULL && size != NULL, NULL);

  *size = self->data->len;
  return self->data->data;
}

GBytes *
pl_safetensors_writer_finish (PlSafetensorsWriter *self)
{
  g_autofree char *header = NULL;
  gsize header_size;
  guint64 header_size_le;
  guint8 *file;

  g_return_val_if_fail (self != NULL, NULL);

  header = build_header (self, &header_size);
  file = g_malloc (8 + header_size + self->data->len);
  header_size_le = GUINT64_TO_LE ((guint64) header_size);
  memcpy (file, &header_size_le, 8);
  memcpy (file + 8, header, header_size);
  if (self->data->len > 0)
    memcpy (file + 8 + header_size, self->data->data, self->data->len);

  return g_bytes_new_take (file, 8 + header_size + self->data->len);
}

gboolean
pl_safetensors_check_finite (const PlMlp  *model,
                             const char   *path,
                             GError      **error)
{
  g_autofree char *display_name = NULL;

  g_return_val_if_fail (model != NULL, FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  for (guint i = 0; i < model->n_layers; i++)
    {
      const PlLayer *l = &model->layers[i];
      gsize n = (gsize) l->n_out * l->n_in + l->n_out;  /* the weight, then its bias */

      for (gsize k = 0; k < n; k++)
        if (!isfinite (l->w[k]))
          {
            display_name = g_filename_display_name (path);
            g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_BAD_VALUE,
                         _("Could not save “%s”: layer %u holds %g, not a finite number"),
                         display_name, i, l->w[k]);
            return FALSE;
          }
    }

  return TRUE;
}

gboolean
pl_safetensors_save (const PlMlp  *model,
                     const char   *path,
                     GError      **error)
{
  g_autoptr(PlSafetensorsWriter) writer = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autofree char *arch = NULL;

  g_return_val_if_fail (model != NULL, FALSE);
  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  /* The loader refuses what is not finite; do not write a file it cannot read back. */
  if (!pl_safetensors_check_finite (model, path, error))
    return FALSE;

  arch = pl_mlp_arch (model);
  writer = pl_safetensors_writer_new ();
  pl_safetensors_writer_add_metadata (writer, "format", "prunelab");
  pl_safetensors_writer_add_metadata (writer, "arch", arch);
  pl_safetensors_writer_add_metadata (writer, "activation",
                                      pl_activation_to_string (model->activation));
  pl_safetensors_writer_add_mlp (writer, "", model, pl_mlp_n_pruned (model) > 0);
  bytes = pl_safetensors_writer_finish (writer);

  return pl_file_save (path, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), error);
}
