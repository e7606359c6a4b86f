/* pl-eval.h — loss, accuracy, per-class accuracy and confusion matrix of a model on a dataset */
#pragma once

#include <glib.h>

#include "pl-dataset.h"
#include "pl-conv.h"
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
/* The same for a convolutional network. (transfer full) */
PlEvaluation *pl_conv_evaluate   (const PlConvNet  *net,
                                  const PlDataset  *data,
                                  GError          **error);
void          pl_evaluation_free (PlEvaluation     *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PlEvaluation, pl_evaluation_free)

/* A decision grid: what a model with 2 inputs predicts over a region of the plane, at the
 * centres of size × size cells — cell (i, j) at x = x0 + (j + ½)(x1 − x0)/size,
 * y = y0 + (i + ½)(y1 − y0)/size. The engine's snapshots (the window's boundary view) and
 * `prunelab-cli plot boundary` both take it, so their pictures of one model agree. */
typedef struct {
  guint    size;
  double   x0, x1, y0, y1;
  guint    n_out;             /* the model's outputs */
  float   *prob;              /* owned, (size [y], size [x], n_out): softmax probabilities,
                               * row 0 at y0 */
} PlDecisionGrid;

/* The region of a decision grid around the points (2 features) of @sets (NULL entries and
 * empty sets are skipped): their bounding box widened on every side by 5 % of its larger side
 * plus 1e-3, so that it has an area also when the points coincide. All 0 without a point. */
void            pl_decision_region     (const PlDataset * const *sets,
                                        guint                    n_sets,
                                        double                  *x0,
                                        double                  *x1,
                                        double                  *y0,
                                        double                  *y1);
/* @model's probabilities on a @size × @size grid over [x0, x1] × [y0, y1]. The model has 2
 * inputs. (transfer full) */
PlDecisionGrid *pl_decision_grid       (const PlMlp             *model,
                                        guint                    size,
                                        double                   x0,
                                        double                   x1,
                                        double                   y0,
                                        double                   y1);
void            pl_decision_grid_free  (PlDecisionGrid          *grid);
/* The predicted class of each of @n_cells cells of probabilities @prob (n_cells, n_out) — the
 * arg-max over all outputs, the first on ties, as pl_evaluate — into @cls and its probability
 * into @conf (either may be NULL). */
void            pl_decision_argmax     (guint32                 *cls,
                                        float                   *conf,
                                        const float             *prob,
                                        gsize                    n_cells,
                                        guint                    n_out);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PlDecisionGrid, pl_decision_grid_free)

G_END_DECLS
