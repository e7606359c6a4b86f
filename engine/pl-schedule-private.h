/* pl-schedule-private.h — what the procedures in pl-schedule-dst.c (movement, SET, RigL) use
 * of a run of pl-schedule.c: its inputs, stages, points and masked training */
#pragma once

#include "pl-schedule.h"

G_BEGIN_DECLS

typedef struct _PlScheduleRun PlScheduleRun;

/* The run's inputs (borrowed). */
const PlMlp            *_pl_schedule_model       (PlScheduleRun    *run);
const PlData           *_pl_schedule_data        (PlScheduleRun    *run);
const PlScheduleConfig *_pl_schedule_config      (PlScheduleRun    *run);
PlMethod                _pl_schedule_method      (PlScheduleRun    *run);
guint64                 _pl_schedule_seed        (PlScheduleRun    *run);

/* Reports @text (translated) as the stage now running. */
void      _pl_schedule_stage        (PlScheduleRun    *run,
                                     const char       *text);
/* Measures @m as level 0 and adds the point. */
void      _pl_schedule_start_point  (PlScheduleRun    *run,
                                     const PlMlp      *m);
/* Measures @m as the point at @level (@param) and adds it; *@last becomes a copy of @m. */
void      _pl_schedule_point        (PlScheduleRun    *run,
                                     const PlMlp      *m,
                                     guint             level,
                                     double            param,
                                     PlMlp           **last);
/* Masked training of @m for @epochs at @lr with the run's config and a seed of its own;
 * @hook (may be NULL) after every step. @trainer (may be NULL) points at the trainer while it
 * runs, for a hook that reads its gradient. */
gboolean  _pl_schedule_train        (PlScheduleRun    *run,
                                     PlMlp            *m,
                                     guint             epochs,
                                     double            lr,
                                     PlTrainStepHook   hook,
                                     gpointer          hook_data,
                                     PlTrainer       **trainer,
                                     GError          **error);
/* Prunes @m further to @sparsity with @scores and the run's spec (scope, exclude_output,
 * allow_empty, invert). */
gboolean  _pl_schedule_prune_with   (PlScheduleRun    *run,
                                     PlMlp            *m,
                                     const PlScores   *scores,
                                     double            sparsity,
                                     GError          **error);

/* The procedures (pl-schedule-dst.c). */
gboolean  _pl_schedule_run_movement (PlScheduleRun    *run,
                                     PlMlp           **last,
                                     GError          **error);
gboolean  _pl_schedule_run_dst      (PlScheduleRun    *run,
                                     PlMlp           **last,
                                     GError          **error);

G_END_DECLS
