/* pl-eval.h — loss, accuracy, per-class accuracy and confusion matrix of a model on a dataset */
#pragma once

#include <glib.h>

#include "pl-dataset.h"
#include "pl-mlp.h"

G_BEGIN_DECLS

typedef struct {
  guint    n;                 /* samples evaluated */
  guint    n_classes;
  double   loss;              /* mean cross-entropy */
  double   accuracy;          /* share of correct arg-max predictions, 0..1 */
  double  *class_accuracy;    /* owned, (n_classes); NaN for a class with no sample */
  guint32 *confusion;         /* owned, (n_classes, n_classes): [true][predicted] counts */
} PlEvaluation;

/* Evaluates in chunks; returns NULL and sets @error when the shapes of model and data differ.
 * (transfer full) */
PlEvaluation *pl_evaluate        (const PlMlp      *model,
                                  const PlDataset  *data,
                                  GError          **error);
void          pl_evaluation_free (PlEvaluation     *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PlEvaluation, pl_evaluation_free)

G_END_DECLS
