/* pl-train-private.h — what the trainers (pl-train, pl-conv-train, pl-l0) share: their reports
 * to the progress callback and the end of an epoch */
#pragma once

#include "pl-eval.h"
#include "pl-train.h"

G_BEGIN_DECLS

/* The progress callback of a run and the run's size. */
typedef struct {
  PlTrainProgressFunc  progress;    /* may be NULL */
  gpointer             user_data;
  guint                epochs;
  guint64              steps_total;
} PlTrainReport;

/* Reports step @step of epoch @epoch: its batch loss and gradient norm (0 when not measured). */
void _pl_train_report_step   (const PlTrainReport *report,
                              guint                epoch,
                              guint64              step,
                              double               batch_loss,
                              double               grad_norm);
/* Ends epoch @rec: its training loss and accuracy, the means of @loss_sum (Σ batch loss ·
 * batch size) and @correct over @n_train samples, the validation figures of @val (NULL: NaN),
 * the record appended to @history (NULL: none kept), then the epoch_done report. */
void _pl_train_finish_epoch  (const PlTrainReport *report,
                              PlEpochRecord       *rec,
                              double               loss_sum,
                              guint64              correct,
                              guint                n_train,
                              const PlEvaluation  *val,
                              GArray              *history,
                              guint64              step);

G_END_DECLS
