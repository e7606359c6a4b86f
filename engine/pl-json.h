/* pl-json.h — a guard in front of json-glib for files PruneLab reads
 *
 * A lexical scan, not a parser (json-glib reads the text afterwards): the text must use only
 * JSON's own tokens (json-glib 1.6 would also take single-quoted strings, comments and hex
 * numbers, which would hide brackets from this scan) and escapes (RFC 8259 §7: json-glib 1.6
 * decodes a lone surrogate escape into bytes that are not UTF-8, which would reach messages
 * that quote names, and leaks when a high surrogate is followed by a bad escape), nest at most
 * @max_depth levels, hold at most @max_values values and nothing but white space after the
 * value that opens it (json-glib 1.6 leaks the nodes of a second value, as in "{} [1]"). Found
 * by fuzzing the safetensors and lesson readers (tests/fuzz/).
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef enum {
  PL_JSON_OK,
  PL_JSON_NOT_JSON,     /* a character outside JSON's tokens */
  PL_JSON_TOO_DEEP,
  PL_JSON_TOO_MANY,
  PL_JSON_TRAILING,     /* more than one value */
  PL_JSON_BAD_ESCAPE,
} PlJsonCheck;

/* @text: UTF-8 (checked by the caller), @len bytes. */
PlJsonCheck pl_json_check (const char *text,
                           gsize       len,
                           guint       max_depth,
                           gsize       max_values);

/* ---- reading a parsed document, with the place of every value in messages ----
 *
 * Errors are PL_FORMAT_ERROR_BAD_HEADER and read "“FILE”: PLACE: PROBLEM", the place a path
 * such as "training.lr" or "sweep[2].score". */
typedef struct {
  const char *file;    /* borrowed: the display name */
  GString    *where;   /* owned: the place being read */
} PlJsonReader;

void         pl_json_reader_init   (PlJsonReader  *r,
                                    const char    *file);
void         pl_json_reader_clear  (PlJsonReader  *r);
void         pl_json_fail          (PlJsonReader  *r,
                                    GError       **error,
                                    const char    *format,
                                    ...) G_GNUC_PRINTF (3, 4);
/* Enters member @name (or element @index when @name is NULL); returns what to give
 * pl_json_leave(). */
gsize        pl_json_enter         (PlJsonReader  *r,
                                    const char    *name,
                                    guint          index);
void         pl_json_leave         (PlJsonReader  *r,
                                    gsize          mark);
/* Every member of @object is one of @known (NULL-terminated). */
gboolean     pl_json_check_members (PlJsonReader  *r,
                                    JsonObject    *object,
                                    const char   **known,
                                    GError       **error);
/* Member @name of @object, which must be present and of the type asked for. The doubles are
 * finite and in [@lo, @hi]; the whole numbers JSON integers in [@lo, @hi]. */
JsonObject  *pl_json_get_object    (PlJsonReader  *r,
                                    JsonObject    *object,
                                    const char    *name,
                                    GError       **error);
JsonArray   *pl_json_get_array     (PlJsonReader  *r,
                                    JsonObject    *object,
                                    const char    *name,
                                    GError       **error);
gboolean     pl_json_get_string    (PlJsonReader  *r,
                                    JsonObject    *object,
                                    const char    *name,
                                    const char   **out,
                                    GError       **error);
gboolean     pl_json_get_bool      (PlJsonReader  *r,
                                    JsonObject    *object,
                                    const char    *name,
                                    gboolean      *out,
                                    GError       **error);
gboolean     pl_json_get_double    (PlJsonReader  *r,
                                    JsonObject    *object,
                                    const char    *name,
                                    double         lo,
                                    double         hi,
                                    double        *out,
                                    GError       **error);
gboolean     pl_json_get_int       (PlJsonReader  *r,
                                    JsonObject    *object,
                                    const char    *name,
                                    gint64         lo,
                                    gint64         hi,
                                    gint64        *out,
                                    GError       **error);

G_END_DECLS
