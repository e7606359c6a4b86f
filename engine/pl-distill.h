/* pl-distill.h — a teacher's soft targets for knowledge distillation
 *
 * Fine-tuning a pruned network (the student) against the outputs of the unpruned one (the
 * teacher) — the seed article's pair of a full and a sparse network — follows Hinton, Vinyals
 * & Dean (2015, "Distilling the Knowledge in a Neural Network"): the student learns from the
 * labels and from the teacher's probabilities softened by a temperature T,
 *   (1 − α)·CE(y, p) + α·T²·KL(softmax(z_teacher/T) ‖ softmax(z_student/T)).
 * A high T shows how the teacher ranks the wrong classes (a shirt looks more like a pullover
 * than a boot), which carries more information per sample than the label. The loss and its
 * gradient are pl_nn_backward_distill; PlTrainer uses them after pl_trainer_set_distillation.
 */
#pragma once

#include <glib.h>

#include "pl-dataset.h"
#include "pl-mlp.h"

G_BEGIN_DECLS

/* The teacher's probabilities at @temperature for every sample of @data, (data->n, n_out).
 * Fails (PL_TRAIN_ERROR_MISMATCH) when model and data shapes differ. (transfer full) */
float    *pl_distill_soft_targets (const PlMlp      *teacher,
                                   const PlDataset  *data,
                                   double            temperature,
                                   GError          **error);

G_END_DECLS
