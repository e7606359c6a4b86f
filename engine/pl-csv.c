#define G_LOG_DOMAIN "pl-csv"

#include "config.h"

#include "pl-dataset.h"

#include <float.h>
#include <math.h>
#include <string.h>

#include <gio/gio.h>
#include <glib/gi18n-lib.h>

#include "pl-error.h"

/* CSV with numeric features and one label column.
 *
 * Fields are separated by commas; spaces and tabs around a field are ignored; a field may be
 * quoted with double quotes ("" inside stands for one quote) but may not span lines. Blank
 * lines are skipped; every other line must have as many fields as the first. A feature must
 * be a finite number that fits a float ("nan", "inf", "1e999" are rejected).
 *
 * Labels are collected in one table, shared by a training and a test file, keyed by their
 * text (integers without leading zeros). When every label is a non-negative integer the
 * integers are the class ids; otherwise each distinct text is a class, numbered in order of
 * first appearance. */

#define CSV_MAX_BYTES    ((gsize) 1 << 30)
#define CSV_MAX_COLUMNS  (1u << 20)
#define CSV_MAX_CLASSES  1000u
#define CSV_SHOW_CHARS   40

typedef struct {
  char  *s;    /* borrowed from the file's buffer, NUL-terminated in place */
  gsize  len;
} Field;

typedef struct {
  char     *text;          /* owned: the key */
  char     *display_name;  /* owned: the file of its first appearance */
  guint     line;
  gboolean  is_int;
  guint     value;         /* when is_int, clamped to G_MAXUINT */
} Label;

typedef struct {
  GHashTable *index;   /* text (borrowed from the Label) → position + 1 */
  GPtrArray  *labels;  /* Label, owned */
} LabelTable;

typedef struct {
  char     *display_name;  /* owned */
  guint     n_cols;        /* 0 until the first line is read */
  guint     label_col;
  char    **header;        /* owned, NULL without a header row */
  gsize     n_rows;
  gsize     cap_rows;
  float    *x;             /* owned: (cap_rows, n_cols - 1) */
  guint32  *y;             /* owned: (cap_rows) positions in the LabelTable */
} CsvTable;

static void
label_free (gpointer data)
{
  Label *label = data;

  g_free (label->text);
  g_free (label->display_name);
  g_free (label);
}

static void
label_table_init (LabelTable *lt)
{
  lt->index = g_hash_table_new (g_str_hash, g_str_equal);
  lt->labels = g_ptr_array_new_with_free_func (label_free);
}

static void
label_table_clear (LabelTable *lt)
{
  g_clear_pointer (&lt->index, g_hash_table_unref);
  g_clear_pointer (&lt->labels, g_ptr_array_unref);
}

static void
csv_table_clear (CsvTable *t)
{
  g_clear_pointer (&t->display_name, g_free);
  g_clear_pointer (&t->header, g_strfreev);
  g_clear_pointer (&t->x, g_free);
  g_clear_pointer (&t->y, g_free);
}

/* A short, valid UTF-8 rendering of a field for messages, control characters as “?”.
 * (transfer full) */
static char *
show_field (const Field *f)
{
  char *text = g_utf8_make_valid (f->s, MIN (f->len, CSV_SHOW_CHARS));

  for (char *c = text; *c != '\0'; c++)
    if ((guchar) *c < 0x20 || *c == 0x7f)
      *c = '?';
  if (f->len > CSV_SHOW_CHARS)
    {
      char *longer = g_strconcat (text, "…", NULL);

      g_free (text);
      text = longer;
    }
  return text;
}

static gboolean
all_digits (const char *s,
            gsize       len)
{
  if (len == 0)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if (!g_ascii_isdigit (s[i]))
      return FALSE;
  return TRUE;
}

static gboolean
parse_float (const Field *f,
             float       *out)
{
  char *end = NULL;
  double v;

  if (f->len == 0)
    return FALSE;

  /* Plain integers of up to 9 digits (most cells of pixel tables) are exact in a double and
   * skip strtod; the result is the same. */
  if (f->len <= 10)
    {
      gboolean neg = f->s[0] == '-';
      gsize i = neg ? 1 : 0;
      guint32 n = 0;

      if (f->len - i >= 1 && f->len - i <= 9)
        {
          for (; i < f->len && g_ascii_isdigit (f->s[i]); i++)
            n = n * 10 + (guint32) (f->s[i] - '0');
          if (i == f->len)
            {
              *out = neg ? -(float) (double) n : (float) (double) n;
              return TRUE;
            }
        }
    }

  v = g_ascii_strtod (f->s, &end);
  if (end != f->s + f->len || !isfinite (v) || fabs (v) > FLT_MAX)
    return FALSE;
  *out = (float) v;
  return TRUE;
}

static gboolean
is_number (const Field *f)
{
  float v;

  return parse_float (f, &v);
}

/* Reads at most CSV_MAX_BYTES of @path; the buffer ends with a NUL. */
static gboolean
read_contents (const char  *path,
               const char  *display_name,
               char       **contents,
               gsize       *length,
               GError     **error)
{
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GFileInputStream) stream = NULL;
  g_autoptr(GFileInfo) info = NULL;
  g_autofree char *buf = NULL;
  GError *local = NULL;
  gsize cap = 64 * 1024;
  gsize len = 0;

  stream = g_file_read (file, NULL, &local);
  if (stream == NULL)
    {
      g_propagate_error (error, local);  /* GIO's message names the file */
      return FALSE;
    }

  info = g_file_input_stream_query_info (stream, G_FILE_ATTRIBUTE_STANDARD_SIZE, NULL, NULL);
  if (info != NULL && g_file_info_has_attribute (info, G_FILE_ATTRIBUTE_STANDARD_SIZE))
    {
      goffset size = g_file_info_get_size (info);

      if (size > (goffset) CSV_MAX_BYTES)
        {
          g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_TOO_LARGE,
                       _("“%s” is larger than the limit of %zu bytes for CSV files"),
                       display_name, CSV_MAX_BYTES);
          return FALSE;
        }
      if (size > 0)
        cap = (gsize) size + 1;
    }

  /* Read until a short read (the end); a full buffer is grown only once a probe finds more,
   * so a file of known size is read into one exact allocation. */
  buf = g_malloc (cap);
  for (;;)
    {
      gsize want = cap - 1 - len;
      gsize n_read = 0;

      if (want == 0)
        {
          char probe[4096];

          if (!g_input_stream_read_all (G_INPUT_STREAM (stream), probe, sizeof probe, &n_read,
                                        NULL, &local))
            break;
          if (n_read == 0)
            break;
          if (len + n_read > CSV_MAX_BYTES)
            {
              g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_TOO_LARGE,
                           _("“%s” is larger than the limit of %zu bytes for CSV files"),
                           display_name, CSV_MAX_BYTES);
              return FALSE;
            }
          cap = MIN (MAX (cap * 2, len + n_read + 1), CSV_MAX_BYTES + 1);
          buf = g_realloc (buf, cap);
          memcpy (buf + len, probe, n_read);
          len += n_read;
          continue;
        }

      if (!g_input_stream_read_all (G_INPUT_STREAM (stream), buf + len, want, &n_read, NULL,
                                    &local))
        break;
      len += n_read;
      if (n_read < want)
        break;
    }
  if (local != NULL)
    {
      g_set_error (error, local->domain, local->code,
                   _("Could not read “%s”: %s"), display_name, local->message);
      g_error_free (local);
      return FALSE;
    }
  buf[len] = '\0';

  *contents = g_steal_pointer (&buf);
  *length = len;
  return TRUE;
}

static inline gboolean
is_blank (char c)
{
  return c == ' ' || c == '\t';
}

/* Splits [line, end) into @fields, unquoting and NUL-terminating each in place. *end may be
 * overwritten: the caller has found the next line already. */
static gboolean
split_line (char        *line,
            char        *end,
            GArray      *fields,
            const char  *display_name,
            guint        line_no,
            GError     **error)
{
  char *p = line;

  g_array_set_size (fields, 0);
  for (;;)
    {
      Field f;
      char *sep;
      char *stop;
      gboolean more;

      if (fields->len >= CSV_MAX_COLUMNS)
        {
          g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_TOO_LARGE,
                       _("“%s”, line %u: more than %u columns"),
                       display_name, line_no, CSV_MAX_COLUMNS);
          return FALSE;
        }

      while (p < end && is_blank (*p))
        p++;

      if (p < end && *p == '"')
        {
          char *w = ++p;

          f.s = w;
          for (;;)
            {
              if (p >= end)
                {
                  g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_BAD_VALUE,
                               _("“%s”, line %u, column %u: the quote is not closed on "
                                 "this line"),
                               display_name, line_no, fields->len + 1);
                  return FALSE;
                }
              if (*p == '"')
                {
                  if (p + 1 < end && p[1] == '"')
                    {
                      *w++ = '"';
                      p += 2;
                      continue;
                    }
                  p++;
                  break;
                }
              *w++ = *p++;
            }
          stop = w;
          while (p < end && is_blank (*p))
            p++;
          if (p < end && *p != ',')
            {
              g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_BAD_VALUE,
                           _("“%s”, line %u, column %u: text after the closing quote"),
                           display_name, line_no, fields->len + 1);
              return FALSE;
            }
          sep = p;
        }
      else
        {
          f.s = p;
          sep = p < end ? memchr (p, ',', (gsize) (end - p)) : NULL;
          if (sep == NULL)
            sep = end;
          stop = sep;
          while (stop > f.s && is_blank (stop[-1]))
            stop--;
        }

      f.len = stop - f.s;
      more = sep < end && *sep == ',';
      *stop = '\0';  /* stop ≤ sep: within the line or on its end */
      g_array_append_val (fields, f);
      if (!more)
        return TRUE;
      p = sep + 1;
    }
}

static gboolean
label_table_add (LabelTable   *lt,
                 const Field  *f,
                 const char   *display_name,
                 guint         line_no,
                 guint         column,
                 guint32      *id,
                 GError      **error)
{
  const char *key = f->s;
  gsize key_len = f->len;
  gpointer pos;
  Label *label;

  if (f->len == 0)
    {
      g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_BAD_LABEL,
                   _("“%s”, line %u, column %u: the label is empty"),
                   display_name, line_no, column + 1);
      return FALSE;
    }
  if (memchr (f->s, '\0', f->len) != NULL || !g_utf8_validate (f->s, f->len, NULL))
    {
      g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_BAD_LABEL,
                   _("“%s”, line %u, column %u: the label is not valid UTF-8 text"),
                   display_name, line_no, column + 1);
      return FALSE;
    }

  if (all_digits (key, key_len))
    {
      while (key_len > 1 && key[0] == '0')
        {
          key++;
          key_len--;
        }
    }

  pos = g_hash_table_lookup (lt->index, key);
  if (pos != NULL)
    {
      *id = GPOINTER_TO_UINT (pos) - 1;
      return TRUE;
    }

  if (lt->labels->len >= CSV_MAX_CLASSES)
    {
      g_autofree char *shown = show_field (f);

      g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_BAD_LABEL,
                   _("“%s”, line %u, column %u: label “%s” makes more than %u classes; is "
                     "this the label column?"),
                   display_name, line_no, column + 1, shown, CSV_MAX_CLASSES);
      return FALSE;
    }

  label = g_new0 (Label, 1);
  label->text = g_strndup (key, key_len);
  label->display_name = g_strdup (display_name);
  label->line = line_no;
  label->is_int = all_digits (key, key_len);
  if (label->is_int)
    label->value = key_len <= 9 ? (guint) g_ascii_strtoull (key, NULL, 10) : G_MAXUINT;
  g_ptr_array_add (lt->labels, label);
  g_hash_table_insert (lt->index, label->text, GUINT_TO_POINTER (lt->labels->len));
  *id = lt->labels->len - 1;

  return TRUE;
}

/* Decides the label column and allocates the rows, once the first row (or header) is known. */
static gboolean
begin_data (CsvTable     *t,
            const Field  *header,
            const char   *label_column,
            gsize         length,
            gsize         n_lines,
            GError      **error)
{
  gsize n_features = t->n_cols - 1;
  gsize row_floats;

  t->label_col = t->n_cols - 1;
  if (header != NULL)
    {
      t->header = g_new0 (char *, t->n_cols + 1);
      for (guint c = 0; c < t->n_cols; c++)
        t->header[c] = g_utf8_make_valid (header[c].s, header[c].len);
    }

  if (label_column != NULL)
    {
      gboolean found = FALSE;

      for (guint c = 0; header != NULL && c < t->n_cols && !found; c++)
        {
          if (strcmp (t->header[c], label_column) == 0)
            {
              t->label_col = c;
              found = TRUE;
            }
        }
      if (!found && all_digits (label_column, strlen (label_column)))
        {
          guint64 c = g_ascii_strtoull (label_column, NULL, 10);

          if (strlen (label_column) > 9 || c >= t->n_cols)
            {
              g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_BAD_SHAPE,
                           _("“%s” has %u columns (0 to %u); there is no label column %s"),
                           t->display_name, t->n_cols, t->n_cols - 1, label_column);
              return FALSE;
            }
          t->label_col = c;
          found = TRUE;
        }
      if (!found)
        {
          g_autofree char *shown = g_utf8_make_valid (label_column, -1);

          g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_BAD_HEADER,
                       _("“%s” has no column named “%s”"), t->display_name, shown);
          return FALSE;
        }
    }

  /* A data row holds n_cols non-empty fields and n_cols − 1 commas, which bounds the rows
   * the file can hold; rows grow past this only if that reasoning were wrong. */
  t->cap_rows = MAX (1, MIN (n_lines, length / (2 * (gsize) t->n_cols - 1) + 1));
  if (!g_size_checked_mul (&row_floats, t->cap_rows, n_features)
      || row_floats > G_MAXSIZE / sizeof (float))
    {
      g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_TOO_LARGE,
                   _("“%s” is too large"), t->display_name);
      return FALSE;
    }
  t->x = g_new (float, row_floats);
  t->y = g_new (guint32, t->cap_rows);

  return TRUE;
}

static gboolean
add_row (CsvTable     *t,
         LabelTable   *lt,
         const Field  *fields,
         guint         line_no,
         GError      **error)
{
  gsize n_features = t->n_cols - 1;
  float *row;

  if (t->n_rows == t->cap_rows)
    {
      gsize floats;

      if (!g_size_checked_mul (&t->cap_rows, t->cap_rows, 2)
          || !g_size_checked_mul (&floats, t->cap_rows, n_features)
          || t->cap_rows > G_MAXUINT)
        {
          g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_TOO_LARGE,
                       _("“%s” has too many rows"), t->display_name);
          return FALSE;
        }
      t->x = g_renew (float, t->x, floats);
      t->y = g_renew (guint32, t->y, t->cap_rows);
    }

  row = t->x + t->n_rows * n_features;
  for (guint c = 0; c < t->n_cols; c++)
    {
      if (c == t->label_col)
        continue;
      if (!parse_float (&fields[c], row++))
        {
          g_autofree char *shown = show_field (&fields[c]);

          if (t->header != NULL)
            g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_BAD_VALUE,
                         _("“%s”, line %u, column %u (“%s”): “%s” is not a finite "
                           "number"),
                         t->display_name, line_no, c + 1, t->header[c], shown);
          else
            g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_BAD_VALUE,
                         _("“%s”, line %u, column %u: “%s” is not a finite number"),
                         t->display_name, line_no, c + 1, shown);
          return FALSE;
        }
    }

  if (!label_table_add (lt, &fields[t->label_col], t->display_name, line_no, t->label_col,
                        &t->y[t->n_rows], error))
    return FALSE;
  t->n_rows++;

  return TRUE;
}

static gboolean
csv_parse (CsvTable     *t,
           LabelTable   *lt,
           const char   *path,
           const char   *label_column,
           int           header,
           GError      **error)
{
  g_autofree char *contents = NULL;
  g_autoptr(GArray) fields = g_array_new (FALSE, FALSE, sizeof (Field));
  g_autoptr(GArray) first = NULL;  /* the first row, while header detection waits */
  guint first_line = 0;
  gsize length = 0;
  gsize n_lines = 1;
  guint line_no = 0;
  char *p, *end;

  memset (t, 0, sizeof *t);
  t->display_name = g_filename_display_name (path);

  if (label_column != NULL && !all_digits (label_column, strlen (label_column)))
    {
      if (header == 0)
        {
          g_autofree char *shown = g_utf8_make_valid (label_column, -1);

          g_set_error (error, PL_SPEC_ERROR, PL_SPEC_ERROR_INVALID,
                       _("“%s” is read without a header (header=no), so the label column "
                         "“%s” must be a 0-based index"),
                       t->display_name, shown);
          return FALSE;
        }
      header = 1;  /* a column named by name implies a header */
    }

  if (!read_contents (path, t->display_name, &contents, &length, error))
    return FALSE;

  for (p = contents; (p = memchr (p, '\n', contents + length - p)) != NULL; p++)
    n_lines++;

  for (p = contents, end = contents + length; p < end; )
    {
      char *nl = memchr (p, '\n', end - p);
      char *line = p;
      char *line_end = nl != NULL ? nl : end;
      char *q;

      p = nl != NULL ? nl + 1 : end;
      line_no++;
      if (line_end > line && line_end[-1] == '\r')
        line_end--;
      for (q = line; q < line_end && (is_blank (*q) || *q == '\r'); q++)
        ;
      if (q == line_end)
        continue;

      if (!split_line (line, line_end, fields, t->display_name, line_no, error))
        return FALSE;

      if (t->n_cols == 0)
        {
          if (fields->len < 2)
            {
              g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_BAD_SHAPE,
                           _("“%s”, line %u: one column; features and a label need at "
                             "least two"),
                           t->display_name, line_no);
              return FALSE;
            }
          t->n_cols = fields->len;
          if (header == 1)
            {
              if (!begin_data (t, (Field *) fields->data, label_column, length, n_lines,
                               error))
                return FALSE;
            }
          else if (header == 0)
            {
              if (!begin_data (t, NULL, label_column, length, n_lines, error)
                  || !add_row (t, lt, (Field *) fields->data, line_no, error))
                return FALSE;
            }
          else
            {
              first = g_array_copy (fields);
              first_line = line_no;
            }
          continue;
        }

      if (fields->len != t->n_cols)
        {
          g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_BAD_SHAPE,
                       _("“%s”, line %u: %u fields where the first row has %u"),
                       t->display_name, line_no, fields->len, t->n_cols);
          return FALSE;
        }

      if (first != NULL)
        {
          const Field *f1 = (const Field *) first->data;
          const Field *f2 = (const Field *) fields->data;
          gboolean is_header = FALSE;

          /* A header names a column whose values are numbers. */
          for (guint c = 0; c < t->n_cols && !is_header; c++)
            is_header = !is_number (&f1[c]) && is_number (&f2[c]);
          if (!begin_data (t, is_header ? f1 : NULL, label_column, length, n_lines, error))
            return FALSE;
          if (!is_header && !add_row (t, lt, f1, first_line, error))
            return FALSE;
          g_clear_pointer (&first, g_array_unref);
        }

      if (!add_row (t, lt, (Field *) fields->data, line_no, error))
        return FALSE;
    }

  if (first != NULL)
    {
      const Field *f1 = (const Field *) first->data;
      gboolean any_number = FALSE;

      /* A single row is a header only if none of it is a number. */
      for (guint c = 0; c < t->n_cols; c++)
        any_number |= is_number (&f1[c]);
      if (!begin_data (t, any_number ? NULL : f1, label_column, length, n_lines, error))
        return FALSE;
      if (any_number && !add_row (t, lt, f1, first_line, error))
        return FALSE;
    }

  if (t->n_cols == 0)
    {
      g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_BAD_SHAPE,
                   _("“%s” is empty"), t->display_name);
      return FALSE;
    }
  if (t->n_rows == 0)
    {
      g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_BAD_SHAPE,
                   _("“%s” has a header but no data rows"), t->display_name);
      return FALSE;
    }

  return TRUE;
}

/* Turns label positions into class ids. @map receives one id per label. */
static gboolean
label_table_resolve (LabelTable   *lt,
                     guint32     **map,
                     guint        *n_classes,
                     char       ***class_names,
                     GError      **error)
{
  g_autofree guint32 *ids = g_new (guint32, MAX (lt->labels->len, 1));
  gboolean all_int = TRUE;

  for (guint i = 0; i < lt->labels->len; i++)
    all_int &= ((Label *) g_ptr_array_index (lt->labels, i))->is_int;

  if (all_int)
    {
      guint max = 0;

      for (guint i = 0; i < lt->labels->len; i++)
        {
          const Label *label = g_ptr_array_index (lt->labels, i);

          if (label->value >= CSV_MAX_CLASSES)
            {
              g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_BAD_LABEL,
                           _("“%s”, line %u: label %s is too large; integer labels are class "
                             "ids, which must be below %u"),
                           label->display_name, label->line, label->text, CSV_MAX_CLASSES);
              return FALSE;
            }
          ids[i] = label->value;
          max = MAX (max, label->value);
        }
      *n_classes = max + 1;
      *class_names = NULL;
    }
  else
    {
      *n_classes = lt->labels->len;
      *class_names = g_new0 (char *, lt->labels->len + 1);
      for (guint i = 0; i < lt->labels->len; i++)
        {
          ids[i] = i;
          (*class_names)[i] = g_strdup (((Label *) g_ptr_array_index (lt->labels, i))->text);
        }
    }

  *map = g_steal_pointer (&ids);
  return TRUE;
}

/* Moves the rows of @t into a PlDataset (whose arrays are plain g_malloc blocks). */
static PlDataset *
table_to_dataset (CsvTable      *t,
                  const guint32 *map,
                  guint          n_classes)
{
  PlDataset *data = g_new0 (PlDataset, 1);

  data->n = t->n_rows;
  data->n_features = t->n_cols - 1;
  data->n_classes = n_classes;
  data->x = g_renew (float, g_steal_pointer (&t->x), t->n_rows * data->n_features);
  data->y = g_renew (guint32, g_steal_pointer (&t->y), t->n_rows);
  for (gsize i = 0; i < t->n_rows; i++)
    data->y[i] = map[data->y[i]];

  return data;
}

gboolean
pl_csv_read_pair (const char   *train_path,
                  const char   *test_path,
                  const char   *label_column,
                  int           header,
                  PlDataset   **train,
                  PlDataset   **test,
                  char       ***class_names,
                  GError      **error)
{
  CsvTable tables[2];
  LabelTable lt;
  g_autofree guint32 *map = NULL;
  g_auto(GStrv) names = NULL;
  guint n_classes = 0;
  guint n_files = test_path != NULL ? 2 : 1;
  gboolean ok = FALSE;

  g_return_val_if_fail (train_path != NULL, FALSE);
  g_return_val_if_fail (train != NULL, FALSE);
  g_return_val_if_fail (test_path == NULL || test != NULL, FALSE);
  g_return_val_if_fail (header >= -1 && header <= 1, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  memset (tables, 0, sizeof tables);
  label_table_init (&lt);

  if (!csv_parse (&tables[0], &lt, train_path, label_column, header, error))
    goto out;
  if (n_files == 2)
    {
      if (!csv_parse (&tables[1], &lt, test_path, label_column, header, error))
        goto out;
      if (tables[1].n_cols != tables[0].n_cols)
        {
          g_set_error (error, PL_FORMAT_ERROR, PL_FORMAT_ERROR_MISMATCH,
                       _("“%s” has %u columns but “%s” has %u"),
                       tables[1].display_name, tables[1].n_cols, tables[0].display_name,
                       tables[0].n_cols);
          goto out;
        }
    }

  if (!label_table_resolve (&lt, &map, &n_classes, &names, error))
    goto out;

  *train = table_to_dataset (&tables[0], map, n_classes);
  if (n_files == 2)
    *test = table_to_dataset (&tables[1], map, n_classes);
  if (class_names != NULL)
    *class_names = g_steal_pointer (&names);
  ok = TRUE;

out:
  csv_table_clear (&tables[0]);
  csv_table_clear (&tables[1]);
  label_table_clear (&lt);

  return ok;
}

PlDataset *
pl_csv_read (const char   *path,
             const char   *label_column,
             int           header,
             char       ***class_names,
             GError      **error)
{
  PlDataset *data = NULL;

  g_return_val_if_fail (path != NULL, NULL);

  if (class_names != NULL)
    *class_names = NULL;
  if (!pl_csv_read_pair (path, NULL, label_column, header, &data, NULL, class_names, error))
    return NULL;

  return data;
}
