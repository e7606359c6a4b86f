#define G_LOG_DOMAIN "pl-session"

#include "config.h"

#include "pl-session.h"

#include <glib/gi18n-lib.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#include "pl-error.h"
#include "pl-file.h"
#include "pl-json.h"
#include "pl-prune.h"
#include "pl-safetensors.h"
#include "pl-score.h"

/* A manifest is a few KiB; these limits stop json-glib before it works on a hostile one
 * (pl-json.h). */
#define MAX_MANIFEST_BYTES  (1024 * 1024)
#define MAX_MANIFEST_DEPTH  8
#define MAX_MANIFEST_VALUES 4096

#define HISTORY_COLUMNS 7   /* PlEpochRecord, in its order */
#define SWEEP_COLUMNS   5   /* PlSweepPoint, in its order, then one per layer */

static void
curve_clear (gpointer data)
{
  PlSessionCurve *c = data;

  g_clear_pointer (&c->points, g_array_unref);
}

PlSession *
pl_session_new (void)
{
  PlSession *self = g_new0 (PlSession, 1);

  self->software = g_strdup ("PruneLab " PACKAGE_VERSION);
  self->data_options = (PlDataOptions) PL_DATA_OPTIONS_INIT;
  pl_train_config_init (&self->train);
  pl_strategy_init (&self->strategy);
  self->history = g_array_new (FALSE, FALSE, sizeof (PlEpochRecord));
  self->grad_norms = g_array_new (FALSE, FALSE, sizeof (float));
  self->curves = g_array_new (FALSE, TRUE, sizeof (PlSessionCurve));
  g_array_set_clear_func (self->curves, curve_clear);
  return self;
}

void
pl_session_free (PlSession *self)
{
  if (self == NULL)
    return;

  g_free (self->software);
  g_free (self->created);
  g_free (self->data_spec);
  g_free (self->data_sha256);
  g_clear_pointer (&self->model, pl_mlp_free);
  g_clear_pointer (&self->initial, pl_mlp_free);
  g_clear_pointer (&self->history, g_array_unref);
  g_clear_pointer (&self->grad_norms, g_array_unref);
  g_clear_pointer (&self->curves, g_array_unref);
  g_free (self->lesson_id);
  g_free (self);
}

void
pl_session_set_model (PlSession *self,
                      PlMlp     *model,
                      PlMlp     *initial)
{
  g_return_if_fail (self != NULL && model != NULL);

  if (initial == NULL)
    initial = pl_mlp_copy (model);
  for (gsize k = 0; k < initial->n_params; k++)
    initial->masks[k] = 1.0f;
  pl_mlp_apply_masks (initial);
  g_clear_pointer (&self->model, pl_mlp_free);
  g_clear_pointer (&self->initial, pl_mlp_free);
  self->model = model;
  self->initial = initial;
}

void
pl_session_set_data (PlSession           *self,
                     const PlData        *data,
                     const PlDataOptions *options)
{
  g_return_if_fail (self != NULL && data != NULL);

  g_free (self->data_spec);
  self->data_spec = g_strdup (data->spec);
  self->data_options = options != NULL ? *options : (PlDataOptions) PL_DATA_OPTIONS_INIT;
  g_free (self->data_sha256);
  self->data_sha256 = pl_session_hash_data (data);
  self->n_train = data->train != NULL ? data->train->n : 0;
  self->n_val = data->val != NULL ? data->val->n : 0;
  self->n_test = data->test != NULL ? data->test->n : 0;
}

void
pl_session_add_curve (PlSession          *self,
                      PlScoreKind         score,
                      guint64             seed,
                      const PlSweepPoint *points,
                      guint               n_points)
{
  PlSessionCurve c = { score, seed,
                       g_array_sized_new (FALSE, FALSE, sizeof (PlSweepPoint), n_points) };

  g_return_if_fail (self != NULL);

  g_array_append_vals (c.points, points, n_points);
  g_array_append_val (self->curves, c);
}

/* ---- the data's hash --------------------------------------------------------------------- */

static void
hash_u32 (GChecksum *sum,
          guint32    v)
{
  guint32 le = GUINT32_TO_LE (v);

  g_checksum_update (sum, (const guchar *) &le, sizeof le);
}

static void
hash_split (GChecksum       *sum,
            const PlDataset *d)
{
  gsize n_x;

  if (d == NULL)
    {
      hash_u32 (sum, 0);
      return;
    }
  hash_u32 (sum, d->n);
  n_x = (gsize) d->n * d->n_features;
#if G_BYTE_ORDER == G_LITTLE_ENDIAN
  g_checksum_update (sum, (const guchar *) d->x, n_x * sizeof (float));
  g_checksum_update (sum, (const guchar *) d->y, (gsize) d->n * sizeof (guint32));
#else
  for (gsize k = 0; k < n_x; k++)
    {
      guint32 u;

      memcpy (&u, &d->x[k], sizeof u);
      hash_u32 (sum, u);
    }
  for (guint k = 0; k < d->n; k++)
    hash_u32 (sum, d->y[k]);
#endif
}

char *
pl_session_hash_data (const PlData *data)
{
  g_autoptr(GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);

  g_return_val_if_fail (data != NULL, NULL);

  g_checksum_update (sum, (const guchar *) "prunelab-data-1", strlen ("prunelab-data-1"));
  hash_u32 (sum, data->n_features);
  hash_u32 (sum, data->n_classes);
  hash_split (sum, data->train);
  hash_split (sum, data->val);
  hash_split (sum, data->test);

  return g_strdup (g_checksum_get_string (sum));
}

gboolean
pl_session_check_data (const PlSession *self,
                       const PlData    *data,
                       const char      *display_name,
                       GError         **error)
{
  g_autofree char *hash = NULL;

  g_return_val_if_fail (self != NULL && data != NULL && display_name != NULL, FALSE);

  if (self->model != NULL
      && (self->model->sizes[0] != data->n_features
          || self->model->sizes[self->model->n_layers] < data->n_classes))
    {
      g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_MISMATCH,
                   _("“%s”: the model takes %u inputs and gives %u classes, but the data “%s” "
                     "have %u features and %u classes"),
                   display_name, self->model->sizes[0], self->model->sizes[self->model->n_layers],
                   data->spec, data->n_features, data->n_classes);
      return FALSE;
    }

  hash = pl_session_hash_data (data);
  if (self->data_sha256 != NULL && strcmp (hash, self->data_sha256) != 0)
    {
      g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_MISMATCH,
                   _("“%s”: the data “%s” are not the data the session was saved with "
                     "(SHA-256 %.12s…, the session expects %.12s…)"),
                   display_name, data->spec, hash, self->data_sha256);
      return FALSE;
    }

  return TRUE;
}

/* ---- writing ----------------------------------------------------------------------------- */

/* The manifest is written by hand, not by JsonGenerator: json-glib 1.6 writes 1e-08 as
 * "1e-08.0", which no parser reads. Members are separated as they are added. */
static void
put_separator (GString *s)
{
  char last = s->len > 0 ? s->str[s->len - 1] : '{';

  if (last != '{' && last != '[' && last != ':')
    g_string_append_c (s, ',');
}

static void
put_quoted (GString    *s,
            const char *text)
{
  g_autofree char *valid = g_utf8_make_valid (text, -1);

  g_string_append_c (s, '"');
  for (const char *p = valid; *p; p++)
    {
      guchar c = (guchar) *p;

      if (c == '"' || c == '\\')
        g_string_append_printf (s, "\\%c", c);
      else if (c < 0x20)
        g_string_append_printf (s, "\\u%04x", c);
      else
        g_string_append_c (s, c);
    }
  g_string_append_c (s, '"');
}

static void
put_name (GString    *s,
          const char *name)
{
  put_separator (s);
  if (name != NULL)
    {
      put_quoted (s, name);
      g_string_append_c (s, ':');
    }
}

static void
begin (GString    *s,
       const char *name,
       char        bracket)
{
  put_name (s, name);
  g_string_append_c (s, bracket);
}

static void
end (GString *s,
     char     bracket)
{
  g_string_append_c (s, bracket);
}

static void
add_string (GString    *s,
            const char *name,
            const char *value)
{
  put_name (s, name);
  put_quoted (s, value);
}

static void
add_int (GString    *s,
         const char *name,
         gint64      value)
{
  put_name (s, name);
  g_string_append_printf (s, "%" G_GINT64_FORMAT, value);
}

/* g_ascii_dtostr() gives the shortest text that reads back to the same double; a ".0" keeps
 * it a JSON double (and −0 negative). Only finite values reach here. */
static void
add_double (GString    *s,
            const char *name,
            double      value)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  g_assert (isfinite (value));
  put_name (s, name);
  g_ascii_dtostr (buf, sizeof buf, value);
  g_string_append (s, buf);
  if (strpbrk (buf, ".eE") == NULL)
    g_string_append (s, ".0");
}

static void
add_bool (GString    *s,
          const char *name,
          gboolean    value)
{
  put_name (s, name);
  g_string_append (s, value ? "true" : "false");
}

static void
add_seed (GString    *s,
          const char *name,
          guint64     value)
{
  g_autofree char *text = g_strdup_printf ("%" G_GUINT64_FORMAT, value);

  add_string (s, name, text);
}

static char *
build_manifest (const PlSession *self,
                const char      *tensors_sha256)
{
  GString *b = g_string_new (NULL);
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *created = g_date_time_format_iso8601 (now);
  g_autofree char *arch = pl_mlp_arch (self->model);
  const PlTrainConfig *t = &self->train;
  const PlStrategy *s = &self->strategy;

  begin (b, NULL, '{');
  add_int (b, "version", PL_SESSION_VERSION);
  add_string (b, "software", "PruneLab " PACKAGE_VERSION);
  add_string (b, "created", created);
  add_string (b, "tensors_sha256", tensors_sha256);

  begin (b, "model", '{');
  add_string (b, "arch", arch);
  add_string (b, "activation", pl_activation_to_string (self->model->activation));
  add_seed (b, "seed", self->model_seed);
  end (b, '}');

  begin (b, "data", '{');
  add_string (b, "spec", self->data_spec);
  add_int (b, "val_size", self->data_options.val_size);
  add_bool (b, "standardize", self->data_options.standardize);
  add_seed (b, "split_seed", self->data_options.split_seed);
  add_int (b, "max_train", self->data_options.max_train);
  add_string (b, "sha256", self->data_sha256);
  add_int (b, "n_train", self->n_train);
  add_int (b, "n_val", self->n_val);
  add_int (b, "n_test", self->n_test);
  end (b, '}');

  begin (b, "training", '{');
  add_int (b, "epochs", t->epochs);
  add_int (b, "batch_size", t->batch_size);
  add_string (b, "optimizer", pl_optimizer_to_string (t->optimizer));
  add_double (b, "lr", t->lr);
  add_double (b, "momentum", t->momentum);
  add_bool (b, "nesterov", t->nesterov);
  add_double (b, "beta1", t->beta1);
  add_double (b, "beta2", t->beta2);
  add_double (b, "eps", t->eps);
  add_double (b, "weight_decay", t->weight_decay);
  add_double (b, "l1", t->l1);
  add_double (b, "clip_value", t->clip_value);
  add_double (b, "clip_norm", t->clip_norm);
  add_string (b, "schedule", pl_lr_schedule_to_string (t->schedule));
  add_int (b, "step_epochs", t->step_epochs);
  add_double (b, "step_gamma", t->step_gamma);
  add_seed (b, "seed", t->seed);
  end (b, '}');

  begin (b, "strategy", '{');
  add_string (b, "score", pl_score_info (s->score)->name);
  add_string (b, "scope", pl_scope_name (s->scope));
  add_bool (b, "invert", s->invert);
  add_bool (b, "exclude_output", s->exclude_output);
  add_bool (b, "allow_empty", s->allow_empty);
  add_int (b, "score_batches", s->score_options.n_batches);
  add_int (b, "score_batch_size", s->score_options.batch_size);
  add_seed (b, "score_seed", s->score_options.seed);
  add_int (b, "entropy_bins", s->score_options.entropy_bins);
  if (s->nm_m > 0)
    {
      g_autofree char *nm = g_strdup_printf ("%u:%u", s->nm_n, s->nm_m);

      add_string (b, "nm", nm);
    }
  end (b, '}');

  begin (b, "slider", '{');
  add_bool (b, "by_threshold", self->slider_by_threshold);
  add_double (b, "value", self->slider);
  end (b, '}');

  if (self->lesson_id != NULL)
    {
      begin (b, "lesson", '{');
      add_string (b, "id", self->lesson_id);
      add_int (b, "step", self->lesson_step);
      end (b, '}');
    }
  else
    {
      put_name (b, "lesson");
      g_string_append (b, "null");
    }

  begin (b, "history", '{');
  add_int (b, "epochs", self->history->len);
  end (b, '}');

  begin (b, "grad_norms", '{');
  add_int (b, "steps", self->grad_norms->len);
  end (b, '}');

  begin (b, "sweep", '[');
  for (guint i = 0; i < self->curves->len; i++)
    {
      const PlSessionCurve *c = &g_array_index (self->curves, PlSessionCurve, i);

      begin (b, NULL, '{');
      add_string (b, "score", pl_score_info (c->score)->name);
      add_seed (b, "seed", c->seed);
      add_int (b, "points", c->points->len);
      end (b, '}');
    }
  end (b, ']');
  end (b, '}');

  return g_string_free (b, FALSE);
}

GBytes *
pl_session_to_bytes (const PlSession  *self,
                     const char       *path,
                     GError          **error)
{
  g_autoptr(PlSafetensorsWriter) writer = NULL;
  g_autoptr(GChecksum) sum = NULL;
  g_autofree char *manifest = NULL;
  g_autofree char *arch = NULL;
  g_autofree double *rows = NULL;
  const guint8 *data;
  gsize data_size;

  g_return_val_if_fail (self != NULL && path != NULL, NULL);
  g_return_val_if_fail (self->model != NULL && self->initial != NULL, NULL);
  g_return_val_if_fail (self->data_spec != NULL && self->data_sha256 != NULL, NULL);
  g_return_val_if_fail (self->curves->len <= PL_SESSION_MAX_CURVES, NULL);

  if (!pl_safetensors_check_finite (self->model, path, error)
      || !pl_safetensors_check_finite (self->initial, path, error))
    return NULL;

  writer = pl_safetensors_writer_new ();
  pl_safetensors_writer_add_mlp (writer, "", self->model, TRUE);
  pl_safetensors_writer_add_mlp (writer, "initial.", self->initial, FALSE);

  {
    gsize dims[2] = { self->history->len, HISTORY_COLUMNS };

    rows = g_new (double, MAX (1, self->history->len * HISTORY_COLUMNS));
    for (guint e = 0; e < self->history->len; e++)
      {
        const PlEpochRecord *r = &g_array_index (self->history, PlEpochRecord, e);
        double *row = rows + (gsize) e * HISTORY_COLUMNS;

        row[0] = r->epoch;
        row[1] = r->train_loss;
        row[2] = r->train_accuracy;
        row[3] = r->val_loss;
        row[4] = r->val_accuracy;
        row[5] = r->lr;
        row[6] = r->seconds;
      }
    pl_safetensors_writer_add_f64 (writer, "history", 2, dims, rows);
    g_clear_pointer (&rows, g_free);
  }
  {
    gsize dims[1] = { self->grad_norms->len };

    pl_safetensors_writer_add_f32 (writer, "grad_norms", 1, dims,
                                   (const float *) self->grad_norms->data, FALSE);
  }
  for (guint i = 0; i < self->curves->len; i++)
    {
      const PlSessionCurve *c = &g_array_index (self->curves, PlSessionCurve, i);
      g_autofree char *name = g_strdup_printf ("sweep.%u", i);
      guint cols = SWEEP_COLUMNS + self->model->n_layers;
      gsize dims[2] = { c->points->len, cols };

      rows = g_new (double, MAX (1, c->points->len * cols));
      for (guint k = 0; k < c->points->len; k++)
        {
          const PlSweepPoint *p = &g_array_index (c->points, PlSweepPoint, k);
          double *row = rows + (gsize) k * cols;

          row[0] = p->target;
          row[1] = p->sparsity;
          row[2] = p->structural_sparsity;
          row[3] = p->accuracy;
          row[4] = p->loss;
          for (guint l = 0; l < self->model->n_layers; l++)
            row[SWEEP_COLUMNS + l] = p->layer_sparsity[l];
        }
      pl_safetensors_writer_add_f64 (writer, name, 2, dims, rows);
      g_clear_pointer (&rows, g_free);
    }

  data = pl_safetensors_writer_get_data (writer, &data_size);
  sum = g_checksum_new (G_CHECKSUM_SHA256);
  g_checksum_update (sum, data, data_size);
  manifest = build_manifest (self, g_checksum_get_string (sum));

  arch = pl_mlp_arch (self->model);
  pl_safetensors_writer_add_metadata (writer, "format", PL_SESSION_FORMAT);
  pl_safetensors_writer_add_metadata (writer, "arch", arch);
  pl_safetensors_writer_add_metadata (writer, "activation",
                                      pl_activation_to_string (self->model->activation));
  pl_safetensors_writer_add_metadata (writer, "manifest", manifest);

  return pl_safetensors_writer_finish (writer);
}

gboolean
pl_session_save (const PlSession  *self,
                 const char       *path,
                 GError          **error)
{
  g_autoptr(GBytes) bytes = NULL;

  g_return_val_if_fail (self != NULL && path != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  bytes = pl_session_to_bytes (self, path, error);
  if (bytes == NULL)
    return FALSE;

  return pl_file_save (path, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), error);
}

/* ---- reading ----------------------------------------------------------------------------- */

typedef struct {
  const PlSafetensors *file;
  PlJsonReader         r;
  GHashTable          *used;    /* tensor names taken (borrowed strings) */
} Loader;

static gboolean
get_seed (Loader      *l,
          JsonObject  *object,
          const char  *name,
          guint64     *out,
          GError     **error)
{
  const char *text;
  gsize mark;
  gboolean ok;

  if (!pl_json_get_string (&l->r, object, name, &text, error))
    return FALSE;
  mark = pl_json_enter (&l->r, name, 0);
  ok = g_ascii_string_to_unsigned (text, 10, 0, G_MAXUINT64, out, NULL);
  if (!ok)
    pl_json_fail (&l->r, error, _("“%s” is not a seed (a whole number ≥ 0, as text)"), text);
  pl_json_leave (&l->r, mark);
  return ok;
}

static gboolean
get_uint (Loader      *l,
          JsonObject  *object,
          const char  *name,
          guint        lo,
          guint        hi,
          guint       *out,
          GError     **error)
{
  gint64 v;

  if (!pl_json_get_int (&l->r, object, name, lo, hi, &v, error))
    return FALSE;
  *out = (guint) v;
  return TRUE;
}

/* Enters @name and reads it as an object with exactly the members @known. */
static JsonObject *
enter_object (Loader      *l,
              JsonObject  *object,
              const char  *name,
              const char **known,
              gsize       *mark,
              GError     **error)
{
  JsonObject *o = pl_json_get_object (&l->r, object, name, error);

  if (o == NULL)
    return NULL;
  *mark = pl_json_enter (&l->r, name, 0);
  if (!pl_json_check_members (&l->r, o, known, error))
    {
      pl_json_leave (&l->r, *mark);
      return NULL;
    }
  return o;
}

/* A name parsed by @parse, with the parser's message given the place. */
static gboolean
fail_with_place (Loader      *l,
                 const char  *name,
                 GError      *problem,
                 GError     **error)
{
  gsize mark = pl_json_enter (&l->r, name, 0);

  pl_json_fail (&l->r, error, "%s", problem->message);
  pl_json_leave (&l->r, mark);
  g_error_free (problem);
  return FALSE;
}

static gboolean
read_model_section (Loader       *l,
                    JsonObject   *root,
                    const char  **arch,
                    PlActivation *activation,
                    guint64      *seed,
                    GError      **error)
{
  static const char *known[] = { "arch", "activation", "seed", NULL };
  GError *problem = NULL;
  const char *act;
  gsize mark;
  JsonObject *o = enter_object (l, root, "model", known, &mark, error);
  gboolean ok;

  if (o == NULL)
    return FALSE;
  ok = pl_json_get_string (&l->r, o, "arch", arch, error)
       && pl_json_get_string (&l->r, o, "activation", &act, error)
       && get_seed (l, o, "seed", seed, error);
  if (ok && !pl_activation_parse (act, activation, &problem))
    ok = fail_with_place (l, "activation", problem, error);
  pl_json_leave (&l->r, mark);
  return ok;
}

static gboolean
read_data_section (Loader      *l,
                   JsonObject  *root,
                   PlSession   *s,
                   GError     **error)
{
  static const char *known[] = { "spec", "val_size", "standardize", "split_seed", "max_train",
                                 "sha256", "n_train", "n_val", "n_test", NULL };
  const char *spec, *sha;
  gint64 val_size;
  guint max_train;
  gsize mark;
  JsonObject *o = enter_object (l, root, "data", known, &mark, error);
  gboolean ok;

  if (o == NULL)
    return FALSE;
  ok = pl_json_get_string (&l->r, o, "spec", &spec, error)
       && pl_json_get_int (&l->r, o, "val_size", -1, G_MAXINT, &val_size, error)
       && pl_json_get_bool (&l->r, o, "standardize", &s->data_options.standardize, error)
       && get_seed (l, o, "split_seed", &s->data_options.split_seed, error)
       && get_uint (l, o, "max_train", 0, G_MAXUINT, &max_train, error)
       && pl_json_get_string (&l->r, o, "sha256", &sha, error)
       && get_uint (l, o, "n_train", 0, G_MAXUINT, &s->n_train, error)
       && get_uint (l, o, "n_val", 0, G_MAXUINT, &s->n_val, error)
       && get_uint (l, o, "n_test", 0, G_MAXUINT, &s->n_test, error);
  if (ok && *spec == '\0')
    {
      gsize m = pl_json_enter (&l->r, "spec", 0);

      pl_json_fail (&l->r, error, _("the data spec is empty"));
      pl_json_leave (&l->r, m);
      ok = FALSE;
    }
  if (ok)
    {
      gboolean hex = strlen (sha) == 64;

      for (guint k = 0; hex && k < 64; k++)
        hex = g_ascii_isxdigit (sha[k]) && !g_ascii_isupper (sha[k]);
      if (!hex)
        {
          gsize m = pl_json_enter (&l->r, "sha256", 0);

          pl_json_fail (&l->r, error, _("not a SHA-256 (64 lower-case hex digits)"));
          pl_json_leave (&l->r, m);
          ok = FALSE;
        }
    }
  if (ok)
    {
      s->data_spec = g_strdup (spec);
      s->data_sha256 = g_strdup (sha);
      s->data_options.val_size = (gint) val_size;
      s->data_options.max_train = max_train;
    }
  pl_json_leave (&l->r, mark);
  return ok;
}

static gboolean
read_training_section (Loader         *l,
                       JsonObject     *root,
                       PlTrainConfig  *t,
                       GError        **error)
{
  static const char *known[] = { "epochs", "batch_size", "optimizer", "lr", "momentum",
                                 "nesterov", "beta1", "beta2", "eps", "weight_decay", "l1",
                                 "clip_value", "clip_norm", "schedule", "step_epochs",
                                 "step_gamma", "seed", NULL };
  GError *problem = NULL;
  const char *optimizer, *schedule;
  gsize mark;
  JsonObject *o = enter_object (l, root, "training", known, &mark, error);
  gboolean ok;

  if (o == NULL)
    return FALSE;
  /* The ranges of prunelab-cli train's options (app/pl-cli-train.c). */
  ok = get_uint (l, o, "epochs", 1, PL_SESSION_MAX_EPOCHS, &t->epochs, error)
       && get_uint (l, o, "batch_size", 1, 65536, &t->batch_size, error)
       && pl_json_get_string (&l->r, o, "optimizer", &optimizer, error)
       && pl_json_get_double (&l->r, o, "lr", 0, 1e6, &t->lr, error)
       && pl_json_get_double (&l->r, o, "momentum", 0, 1, &t->momentum, error)
       && pl_json_get_bool (&l->r, o, "nesterov", &t->nesterov, error)
       && pl_json_get_double (&l->r, o, "beta1", 0, 1, &t->beta1, error)
       && pl_json_get_double (&l->r, o, "beta2", 0, 1, &t->beta2, error)
       && pl_json_get_double (&l->r, o, "eps", 0, 1, &t->eps, error)
       && pl_json_get_double (&l->r, o, "weight_decay", 0, 1e6, &t->weight_decay, error)
       && pl_json_get_double (&l->r, o, "l1", 0, 1e6, &t->l1, error)
       && pl_json_get_double (&l->r, o, "clip_value", 0, G_MAXDOUBLE, &t->clip_value, error)
       && pl_json_get_double (&l->r, o, "clip_norm", 0, G_MAXDOUBLE, &t->clip_norm, error)
       && pl_json_get_string (&l->r, o, "schedule", &schedule, error)
       && get_uint (l, o, "step_epochs", 1, PL_SESSION_MAX_EPOCHS, &t->step_epochs, error)
       && pl_json_get_double (&l->r, o, "step_gamma", 0, 1, &t->step_gamma, error)
       && get_seed (l, o, "seed", &t->seed, error);
  if (ok && t->lr <= 0)
    {
      gsize m = pl_json_enter (&l->r, "lr", 0);

      pl_json_fail (&l->r, error, _("the learning rate must be > 0"));
      pl_json_leave (&l->r, m);
      ok = FALSE;
    }
  if (ok && !pl_optimizer_parse (optimizer, &t->optimizer, &problem))
    ok = fail_with_place (l, "optimizer", problem, error);
  if (ok && !pl_lr_schedule_parse (schedule, &t->schedule, &problem))
    ok = fail_with_place (l, "schedule", problem, error);
  t->threads = 1;
  pl_json_leave (&l->r, mark);
  return ok;
}

static gboolean
read_strategy_section (Loader      *l,
                       JsonObject  *root,
                       PlStrategy  *s,
                       GError     **error)
{
  static const char *known[] = { "score", "scope", "invert", "exclude_output", "allow_empty",
                                 "score_batches", "score_batch_size", "score_seed",
                                 "entropy_bins", "nm", NULL };
  GError *problem = NULL;
  const char *score, *scope, *nm = NULL;
  gsize mark;
  JsonObject *o = enter_object (l, root, "strategy", known, &mark, error);
  gboolean ok;

  if (o == NULL)
    return FALSE;
  ok = pl_json_get_string (&l->r, o, "score", &score, error)
       && pl_json_get_string (&l->r, o, "scope", &scope, error)
       && pl_json_get_bool (&l->r, o, "invert", &s->invert, error)
       && pl_json_get_bool (&l->r, o, "exclude_output", &s->exclude_output, error)
       && pl_json_get_bool (&l->r, o, "allow_empty", &s->allow_empty, error)
       && get_uint (l, o, "score_batches", 1, 100000, &s->score_options.n_batches, error)
       && get_uint (l, o, "score_batch_size", 1, 65536, &s->score_options.batch_size, error)
       && get_seed (l, o, "score_seed", &s->score_options.seed, error)
       && get_uint (l, o, "entropy_bins", 2, 4096, &s->score_options.entropy_bins, error);
  if (ok && !pl_score_parse (score, &s->score, &problem))
    ok = fail_with_place (l, "score", problem, error);
  if (ok && !pl_scope_parse (scope, &s->scope, &problem))
    ok = fail_with_place (l, "scope", problem, error);
  /* optional: files from before N:M have none */
  s->nm_n = s->nm_m = 0;
  if (ok && json_object_has_member (o, "nm"))
    ok = pl_json_get_string (&l->r, o, "nm", &nm, error);
  if (ok && nm != NULL && !pl_nm_parse (nm, &s->nm_n, &s->nm_m, &problem))
    ok = fail_with_place (l, "nm", problem, error);
  pl_json_leave (&l->r, mark);
  return ok;
}

static gboolean
read_slider_and_lesson (Loader      *l,
                        JsonObject  *root,
                        PlSession   *s,
                        GError     **error)
{
  static const char *slider_known[] = { "by_threshold", "value", NULL };
  static const char *lesson_known[] = { "id", "step", NULL };
  JsonNode *lesson;
  gsize mark;
  JsonObject *o = enter_object (l, root, "slider", slider_known, &mark, error);
  gboolean ok;

  if (o == NULL)
    return FALSE;
  ok = pl_json_get_bool (&l->r, o, "by_threshold", &s->slider_by_threshold, error)
       && pl_json_get_double (&l->r, o, "value", s->slider_by_threshold ? -G_MAXDOUBLE : 0,
                              s->slider_by_threshold ? G_MAXDOUBLE : 1, &s->slider, error);
  pl_json_leave (&l->r, mark);
  if (!ok)
    return FALSE;

  if (!json_object_has_member (root, "lesson"))
    {
      pl_json_fail (&l->r, error, _("member “%s” is missing"), "lesson");
      return FALSE;
    }
  lesson = json_object_get_member (root, "lesson");
  if (JSON_NODE_HOLDS_NULL (lesson))
    return TRUE;

  o = enter_object (l, root, "lesson", lesson_known, &mark, error);
  if (o == NULL)
    return FALSE;
  {
    const char *id;

    ok = pl_json_get_string (&l->r, o, "id", &id, error)
         && get_uint (l, o, "step", 0, 1000, &s->lesson_step, error);
    /* A lesson id as pl-lesson.h allows it: [a-z0-9-] */
    for (const char *p = ok ? id : ""; ok && *p; p++)
      ok = g_ascii_islower (*p) || g_ascii_isdigit (*p) || *p == '-';
    if (ok && (*id == '\0' || strlen (id) > 64))
      ok = FALSE;
    if (ok)
      s->lesson_id = g_strdup (id);
    else if (error == NULL || *error == NULL)
      {
        gsize m = pl_json_enter (&l->r, "id", 0);

        pl_json_fail (&l->r, error, _("not a lesson id (1 to 64 of a-z, 0-9 and -)"));
        pl_json_leave (&l->r, m);
      }
  }
  pl_json_leave (&l->r, mark);
  return ok;
}

/* Marks tensor @name as taken, by the file's own string, which lives as long as the loader. */
static void
mark_used (Loader     *l,
           const char *name)
{
  for (guint t = 0; t < pl_safetensors_n_tensors (l->file); t++)
    if (strcmp (pl_safetensors_tensor_name (l->file, t), name) == 0)
      g_hash_table_add (l->used, (gpointer) pl_safetensors_tensor_name (l->file, t));
}

/* Tensor @name, of the shape [@rows, @cols] (@cols 0: [@rows]), as doubles. (transfer full) */
static double *
read_table (Loader      *l,
            const char  *name,
            gsize        rows,
            gsize        cols,
            GError     **error)
{
  gsize dims[2] = { rows, cols };
  g_autofree double *out = g_new (double, MAX (1, rows * MAX (cols, 1)));

  if (!pl_safetensors_get_f64 (l->file, name, cols > 0 ? 2 : 1, dims, out, error))
    return NULL;
  mark_used (l, name);
  return g_steal_pointer (&out);
}

/* A value of tensor @name, row @row, column @col, that must be in [lo, hi] (NaN when
 * @nan_ok). */
static gboolean
check_cell (Loader      *l,
            const char  *name,
            gsize        row,
            const char  *column,
            double       v,
            double       lo,
            double       hi,
            gboolean     nan_ok,
            GError     **error)
{
  if ((isnan (v) && nan_ok) || (v >= lo && v <= hi))
    return TRUE;

  g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_BAD_VALUE,
               _("“%s”: tensor “%s”, row %lu: %s is %g, not in [%g, %g]"), l->r.file, name,
               (unsigned long) row, column, v, lo, hi);
  return FALSE;
}

static gboolean
read_history (Loader      *l,
              JsonObject  *root,
              PlSession   *s,
              GError     **error)
{
  static const char *known[] = { "epochs", NULL };
  g_autofree double *rows = NULL;
  guint n;
  gsize mark;
  JsonObject *o = enter_object (l, root, "history", known, &mark, error);

  if (o == NULL)
    return FALSE;
  if (!get_uint (l, o, "epochs", 0, PL_SESSION_MAX_EPOCHS, &n, error))
    {
      pl_json_leave (&l->r, mark);
      return FALSE;
    }
  pl_json_leave (&l->r, mark);

  rows = read_table (l, "history", n, HISTORY_COLUMNS, error);
  if (rows == NULL)
    return FALSE;
  for (guint e = 0; e < n; e++)
    {
      const double *row = rows + (gsize) e * HISTORY_COLUMNS;
      PlEpochRecord r;

      /* Epochs count on over all runs of the model: 1, 2, 3, … */
      if (!check_cell (l, "history", e, "epoch", row[0], e + 1, e + 1, FALSE, error)
          || !check_cell (l, "history", e, "train_loss", row[1], 0, G_MAXDOUBLE, TRUE, error)
          || !check_cell (l, "history", e, "train_accuracy", row[2], 0, 1, TRUE, error)
          || !check_cell (l, "history", e, "val_loss", row[3], 0, G_MAXDOUBLE, TRUE, error)
          || !check_cell (l, "history", e, "val_accuracy", row[4], 0, 1, TRUE, error)
          || !check_cell (l, "history", e, "lr", row[5], 0, G_MAXDOUBLE, FALSE, error)
          || !check_cell (l, "history", e, "seconds", row[6], 0, G_MAXDOUBLE, FALSE, error))
        return FALSE;
      r = (PlEpochRecord) { (guint) row[0], row[1], row[2], row[3], row[4], row[5], row[6] };
      g_array_append_val (s->history, r);
    }
  return TRUE;
}

static gboolean
read_grad_norms (Loader      *l,
                 JsonObject  *root,
                 PlSession   *s,
                 GError     **error)
{
  static const char *known[] = { "steps", NULL };
  g_autofree double *values = NULL;
  guint n;
  gsize mark;
  JsonObject *o = enter_object (l, root, "grad_norms", known, &mark, error);

  if (o == NULL)
    return FALSE;
  if (!get_uint (l, o, "steps", 0, PL_SESSION_MAX_STEPS, &n, error))
    {
      pl_json_leave (&l->r, mark);
      return FALSE;
    }
  pl_json_leave (&l->r, mark);

  values = read_table (l, "grad_norms", n, 0, error);
  if (values == NULL)
    return FALSE;
  g_array_set_size (s->grad_norms, n);
  for (guint k = 0; k < n; k++)
    {
      if (!check_cell (l, "grad_norms", k, "norm", values[k], 0, G_MAXFLOAT, FALSE, error))
        return FALSE;
      g_array_index (s->grad_norms, float, k) = (float) values[k];
    }
  return TRUE;
}

static gboolean
read_sweep (Loader      *l,
            JsonObject  *root,
            PlSession   *s,
            GError     **error)
{
  static const char *known[] = { "score", "seed", "points", NULL };
  JsonArray *curves = pl_json_get_array (&l->r, root, "sweep", error);
  guint cols = SWEEP_COLUMNS + s->model->n_layers;
  gsize outer;
  guint n;

  if (curves == NULL)
    return FALSE;
  n = json_array_get_length (curves);
  outer = pl_json_enter (&l->r, "sweep", 0);
  if (n > PL_SESSION_MAX_CURVES)
    {
      pl_json_fail (&l->r, error, _("%u curves, more than %d"), n, PL_SESSION_MAX_CURVES);
      pl_json_leave (&l->r, outer);
      return FALSE;
    }

  for (guint i = 0; i < n; i++)
    {
      g_autofree char *name = g_strdup_printf ("sweep.%u", i);
      g_autofree double *rows = NULL;
      JsonNode *node = json_array_get_element (curves, i);
      gsize mark = pl_json_enter (&l->r, NULL, i);
      GError *problem = NULL;
      PlSessionCurve c = { 0 };
      const char *score;
      JsonObject *o;
      guint n_points;

      if (!JSON_NODE_HOLDS_OBJECT (node))
        {
          pl_json_fail (&l->r, error, _("expected an object"));
          pl_json_leave (&l->r, outer);
          return FALSE;
        }
      o = json_node_get_object (node);
      if (!pl_json_check_members (&l->r, o, known, error)
          || !pl_json_get_string (&l->r, o, "score", &score, error)
          || !get_seed (l, o, "seed", &c.seed, error)
          || !get_uint (l, o, "points", 0, PL_SESSION_MAX_POINTS, &n_points, error))
        {
          pl_json_leave (&l->r, outer);
          return FALSE;
        }
      if (!pl_score_parse (score, &c.score, &problem))
        {
          fail_with_place (l, "score", problem, error);
          pl_json_leave (&l->r, outer);
          return FALSE;
        }
      pl_json_leave (&l->r, mark);

      rows = read_table (l, name, n_points, cols, error);
      if (rows == NULL)
        {
          pl_json_leave (&l->r, outer);
          return FALSE;
        }
      c.points = g_array_sized_new (FALSE, FALSE, sizeof (PlSweepPoint), n_points);
      g_array_append_val (s->curves, c);
      for (guint k = 0; k < n_points; k++)
        {
          const double *row = rows + (gsize) k * cols;
          PlSweepPoint p = { row[0], row[1], row[2], row[3], row[4], { 0 } };

          if (!check_cell (l, name, k, "target", p.target, 0, 1, FALSE, error)
              || !check_cell (l, name, k, "sparsity", p.sparsity, 0, 1, FALSE, error)
              || !check_cell (l, name, k, "structural_sparsity", p.structural_sparsity, 0, 1,
                              FALSE, error)
              || !check_cell (l, name, k, "accuracy", p.accuracy, 0, 1, FALSE, error)
              || !check_cell (l, name, k, "loss", p.loss, 0, G_MAXDOUBLE, TRUE, error))
            {
              pl_json_leave (&l->r, outer);
              return FALSE;
            }
          for (guint li = 0; li < s->model->n_layers; li++)
            {
              p.layer_sparsity[li] = row[SWEEP_COLUMNS + li];
              if (!check_cell (l, name, k, "layer sparsity", p.layer_sparsity[li], 0, 1, FALSE,
                               error))
                {
                  pl_json_leave (&l->r, outer);
                  return FALSE;
                }
            }
          g_array_append_val (c.points, p);
        }
    }

  pl_json_leave (&l->r, outer);
  return TRUE;
}

/* Both models: the manifest's architecture, the initial one without masks. */
static gboolean
read_models (Loader        *l,
             PlSession     *s,
             const char    *arch,
             PlActivation   activation,
             GError       **error)
{
  g_autofree char *found = NULL;
  g_autofree char *found_initial = NULL;

  s->model = pl_safetensors_get_mlp (l->file, "", activation, error);
  if (s->model == NULL)
    return FALSE;
  s->initial = pl_safetensors_get_mlp (l->file, "initial.", activation, error);
  if (s->initial == NULL)
    return FALSE;

  found = pl_mlp_arch (s->model);
  found_initial = pl_mlp_arch (s->initial);
  if (strcmp (found, arch) != 0 || strcmp (found_initial, arch) != 0)
    {
      g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_MISMATCH,
                   _("“%s”: the manifest gives the architecture %s, the tensors %s (initial "
                     "weights %s)"), l->r.file, arch, found, found_initial);
      return FALSE;
    }

  for (guint i = 0; i < s->model->n_layers; i++)
    {
      g_autofree char *w = g_strdup_printf ("layers.%u.weight", i);
      g_autofree char *b = g_strdup_printf ("layers.%u.bias", i);
      g_autofree char *m = g_strdup_printf ("layers.%u.weight_mask", i);
      g_autofree char *iw = g_strdup_printf ("initial.layers.%u.weight", i);
      g_autofree char *ib = g_strdup_printf ("initial.layers.%u.bias", i);
      const char *names[] = { w, b, m, iw, ib };

      for (guint k = 0; k < G_N_ELEMENTS (names); k++)
        mark_used (l, names[k]);
    }
  return TRUE;
}

/* Every tensor was taken by a part of the session. */
static gboolean
check_all_used (Loader  *l,
                GError **error)
{
  for (guint t = 0; t < pl_safetensors_n_tensors (l->file); t++)
    {
      const char *name = pl_safetensors_tensor_name (l->file, t);

      if (!g_hash_table_contains (l->used, name))
        {
          g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_BAD_HEADER,
                       _("“%s”: tensor “%s” is not part of a session"), l->r.file, name);
          return FALSE;
        }
    }
  return TRUE;
}

/* The format, the manifest as JSON, its version and the checksum of the tensor data. */
static JsonParser *
read_manifest (Loader      *l,
               GError     **error)
{
  g_autoptr(JsonParser) parser = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autoptr(GChecksum) sum = NULL;
  const char *format = pl_safetensors_get_metadata (l->file, "format");
  const char *manifest = pl_safetensors_get_metadata (l->file, "manifest");
  const char *file = l->r.file;
  const char *tensors_sha256;
  const guint8 *data;
  gsize data_size;
  gint64 version;
  JsonObject *root;

  if (format == NULL || strcmp (format, PL_SESSION_FORMAT) != 0)
    {
      g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_BAD_MAGIC,
                   _("“%s”: not a PruneLab session (a safetensors file without the metadata "
                     "format “%s”)"), file, PL_SESSION_FORMAT);
      return NULL;
    }
  if (manifest == NULL)
    {
      g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_BAD_HEADER,
                   _("“%s”: the session has no manifest"), file);
      return NULL;
    }
  if (strlen (manifest) > MAX_MANIFEST_BYTES)
    {
      g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_TOO_LARGE,
                   _("“%s”: the manifest is larger than %d bytes"), file, MAX_MANIFEST_BYTES);
      return NULL;
    }
  if (pl_json_check (manifest, strlen (manifest), MAX_MANIFEST_DEPTH, MAX_MANIFEST_VALUES)
      != PL_JSON_OK)
    {
      g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_BAD_HEADER,
                   _("“%s”: the manifest is not JSON of at most %d levels and %d values"), file,
                   MAX_MANIFEST_DEPTH, MAX_MANIFEST_VALUES);
      return NULL;
    }
  parser = json_parser_new ();
  if (!json_parser_load_from_data (parser, manifest, -1, &local_error))
    {
      g_autofree char *shown = g_utf8_make_valid (local_error->message, -1);

      g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_BAD_HEADER,
                   _("“%s”: the manifest is not JSON (%s)"), file, shown);
      return NULL;
    }
  if (!JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_BAD_HEADER,
                   _("“%s”: the manifest is not a JSON object"), file);
      return NULL;
    }
  root = json_node_get_object (json_parser_get_root (parser));

  /* The version first: a newer file is refused for what it is, not for its new members. */
  if (!pl_json_get_int (&l->r, root, "version", 1, G_MAXINT, &version, error))
    return NULL;
  if (version > PL_SESSION_VERSION)
    {
      g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_BAD_HEADER,
                   _("“%s”: session format version %lld, written by a newer PruneLab; this one "
                     "reads version %d"), file, (long long) version, PL_SESSION_VERSION);
      return NULL;
    }

  if (!pl_json_get_string (&l->r, root, "tensors_sha256", &tensors_sha256, error))
    return NULL;
  data = pl_safetensors_get_data (l->file, &data_size);
  sum = g_checksum_new (G_CHECKSUM_SHA256);
  g_checksum_update (sum, data, data_size);
  if (strcmp (g_checksum_get_string (sum), tensors_sha256) != 0)
    {
      g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_MISMATCH,
                   _("“%s”: the tensor data do not match their checksum: the file was edited "
                     "or damaged after it was saved"), file);
      return NULL;
    }

  return g_steal_pointer (&parser);
}

static PlSession *
load_parsed (PlSafetensors  *file,
             const char     *display_name,
             GError        **error)
{
  static const char *known[] = { "version", "software", "created", "tensors_sha256", "model",
                                 "data", "training", "strategy", "slider", "lesson", "history",
                                 "grad_norms", "sweep", NULL };
  g_autoptr(JsonParser) parser = NULL;
  g_autoptr(PlSession) s = NULL;
  g_autoptr(GHashTable) used = NULL;
  const char *software, *created, *arch;
  PlActivation activation;
  JsonObject *root;
  Loader l = { 0 };
  gboolean ok;

  used = g_hash_table_new (g_str_hash, g_str_equal);
  l.file = file;
  l.used = used;
  pl_json_reader_init (&l.r, display_name);
  s = pl_session_new ();

  parser = read_manifest (&l, error);
  ok = parser != NULL;
  if (ok)
    {
      root = json_node_get_object (json_parser_get_root (parser));
      ok = pl_json_check_members (&l.r, root, known, error)
           && pl_json_get_string (&l.r, root, "software", &software, error)
           && pl_json_get_string (&l.r, root, "created", &created, error)
           && read_model_section (&l, root, &arch, &activation, &s->model_seed, error)
           && read_data_section (&l, root, s, error)
           && read_training_section (&l, root, &s->train, error)
           && read_strategy_section (&l, root, &s->strategy, error)
           && read_slider_and_lesson (&l, root, s, error)
           && read_models (&l, s, arch, activation, error)
           && read_history (&l, root, s, error)
           && read_grad_norms (&l, root, s, error)
           && read_sweep (&l, root, s, error)
           && check_all_used (&l, error);
    }
  if (ok)
    {
      g_free (s->software);
      s->software = g_utf8_make_valid (software, -1);
      s->created = g_utf8_make_valid (created, -1);
    }
  pl_json_reader_clear (&l.r);

  return ok ? g_steal_pointer (&s) : NULL;
}

PlSession *
pl_session_load_bytes (GBytes      *bytes,
                       const char  *display_name,
                       GError     **error)
{
  g_autoptr(PlSafetensors) file = NULL;

  g_return_val_if_fail (bytes != NULL && display_name != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  file = pl_safetensors_parse (bytes, display_name, error);
  if (file == NULL)
    return NULL;
  return load_parsed (file, display_name, error);
}

PlSession *
pl_session_load (const char  *path,
                 GError     **error)
{
  g_autofree char *display_name = NULL;
  g_autoptr(PlSafetensors) file = NULL;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  display_name = g_filename_display_name (path);
  file = pl_safetensors_open (path, error);
  if (file == NULL)
    return NULL;
  return load_parsed (file, display_name, error);
}
