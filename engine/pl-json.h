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

G_END_DECLS
