#define G_LOG_DOMAIN "pl-error"

#include "config.h"

#include "pl-error.h"

G_DEFINE_QUARK (pl-format-error-quark, pl_format_error)
G_DEFINE_QUARK (pl-spec-error-quark, pl_spec_error)
G_DEFINE_QUARK (pl-train-error-quark, pl_train_error)
