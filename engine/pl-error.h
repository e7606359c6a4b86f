/* pl-error.h — error domains of the engine
 *
 * One domain per area. Messages name the file (or the option) and the problem.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define PL_FORMAT_ERROR (pl_format_error_quark ())
#define PL_SPEC_ERROR   (pl_spec_error_quark ())
#define PL_TRAIN_ERROR  (pl_train_error_quark ())

/* Problems in a file's contents (IDX, CSV, safetensors, …). */
typedef enum {
  PL_FORMAT_ERROR_TRUNCATED,   /* fewer bytes than the header promises */
  PL_FORMAT_ERROR_BAD_MAGIC,   /* not the expected kind of file */
  PL_FORMAT_ERROR_BAD_HEADER,  /* header unreadable or inconsistent */
  PL_FORMAT_ERROR_BAD_DTYPE,   /* element type not supported */
  PL_FORMAT_ERROR_BAD_SHAPE,   /* dimensions wrong, zero or mismatched */
  PL_FORMAT_ERROR_BAD_OFFSET,  /* data offsets out of range or overlapping */
  PL_FORMAT_ERROR_TOO_LARGE,   /* sizes that overflow or exceed the limits */
  PL_FORMAT_ERROR_BAD_LABEL,   /* a label outside the class range */
  PL_FORMAT_ERROR_BAD_VALUE,   /* a value that is not a finite number */
  PL_FORMAT_ERROR_MISMATCH,    /* files that do not belong together */
  PL_FORMAT_ERROR_FAILED,
} PlFormatError;

/* Problems in a user-written specification (dataset spec, architecture, option). */
typedef enum {
  PL_SPEC_ERROR_INVALID,
  PL_SPEC_ERROR_UNKNOWN_NAME,
} PlSpecError;

typedef enum {
  PL_TRAIN_ERROR_DIVERGED,     /* NaN or Inf in the loss */
  PL_TRAIN_ERROR_MISMATCH,     /* model and data shapes differ */
  PL_TRAIN_ERROR_FAILED,
} PlTrainError;

GQuark pl_format_error_quark (void);
GQuark pl_spec_error_quark   (void);
GQuark pl_train_error_quark  (void);

G_END_DECLS
