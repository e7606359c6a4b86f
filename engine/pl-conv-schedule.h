/* pl-conv-schedule.h — the pruning procedures of pl-schedule.h that are defined for a
 * convolutional network
 *
 *   oneshot    prune a copy of the model to each target by the config's weight score
 *              (pl-conv-score.h; scope global or layer), fine-tune it (masked)
 *              fine_tune_epochs, measure
 *   iterative  rounds k = 1…K prune the same network further to s_k = 1 − (1 − s_f)^{k/K}
 *              (pl_iterative_sparsity; Han et al. 2015), each followed by
 *              pl_schedule_round_epochs() epochs of masked training at the config's lr; without
 *              rewinding
 *
 * with the config, the points (PlSchedulePoint: sparsity over every conv and dense weight,
 * structural sparsity the share of dead filters, layer_sparsity per conv then dense layer), the
 * progress reports (their model is NULL) and the seeds of pl_schedule_run(). The other methods
 * (gradual, adaptive, L1, L0, distillation, movement, SET, RigL, at-init), per-layer targets
 * and rewinding train or gate an MLP's dense layers only: they fail with PL_SPEC_ERROR.
 */
#pragma once

#include <gio/gio.h>

#include "pl-conv.h"
#include "pl-schedule.h"

G_BEGIN_DECLS

/* TRUE when @method runs on a conv net (oneshot, iterative). */
gboolean pl_conv_schedule_supported (PlMethod                 method);

/* As pl_schedule_run() on @net (borrowed, not changed); @last (may be NULL) receives the
 * network of the last point (transfer full). */
gboolean pl_conv_schedule_run       (const PlConvNet         *net,
                                     const PlData            *data,
                                     PlMethod                 method,
                                     const PlScheduleConfig  *config,
                                     guint64                  seed,
                                     GArray                  *points,
                                     PlConvNet              **last,
                                     PlScheduleProgressFunc   progress,
                                     gpointer                 user_data,
                                     GCancellable            *cancellable,
                                     GError                 **error);

G_END_DECLS
