/* pl-sweep.h — sparsity sweeps: the target sparsities, and a run over them
 *
 * A sweep evaluates one model and one set of scores pruned to P target sparsities from 0 up to
 * a maximum. The targets are spaced evenly in log "fraction remaining":
 *
 *   target_i = 1 − (1 − max)^(i/(P−1)),   i = 0 … P−1
 *
 * so target_0 = 0, target_{P−1} = max, and each point keeps the same share (1 − max)^(1/(P−1))
 * of what the point before kept: the steep end of a sparsity/accuracy curve (high sparsity)
 * gets as many points as the flat start. The same spacing serves the iterative schedule's
 * rounds (pl_iterative_sparsity), the levels of a sensitivity scan and of the adaptive search.
 *
 * pl_sweep_run_with() runs the points through any "prune to s and evaluate" function (a
 * convolutional network's, pl-conv-sweep.h); pl_sweep_run() is it with a PlPreview. Both go
 * from the sparsest point down, the cheapest order for a PlPreview (its first run computes the first layer from its few kept weights, each next one only adds the
 * weights it restores, pl-preview.h), and reports each point as it is done.
 */
#pragma once

#include <gio/gio.h>

#include "pl-preview.h"

G_BEGIN_DECLS

/* Seeds a sweep may repeat each score with (the engine's, the app's). */
#define PL_SWEEP_MAX_SEEDS 8

/* target_i = 1 − (1 − @max)^(i/(@n_points−1)) for @i < @n_points; @max in [0, 1],
 * @n_points ≥ 2. Exactly 0 for i = 0 and @max for i = n_points − 1. */
double   pl_sweep_target (double             max,
                          guint              n_points,
                          guint              i);

/* Called once per point, sparsest first: @i is the point's index (targets grow with i), @result
 * the evaluator's at pl_sweep_target (max, n_points, i). Return FALSE to stop the sweep there. */
typedef gboolean (*PlSweepPointFunc) (guint                   i,
                                      double                  target,
                                      const PlPreviewResult  *result,
                                      gpointer                user_data);

/* Prunes a copy of a model to the target sparsity @target and evaluates it into @result (the
 * fields a model has; the others 0). FALSE with the error. */
typedef gboolean (*PlSweepEvalFunc) (double            target,
                                     PlPreviewResult  *result,
                                     gpointer          eval_data,
                                     GError          **error);

/* Calls @eval at the @n_points targets from i = n_points − 1 down to 0, then @func after each.
 * @cancellable (may be NULL) is checked before each point: FALSE with G_IO_ERROR_CANCELLED
 * when it is cancelled, the points before delivered. FALSE with @eval's error when it fails.
 * TRUE when every point was done or @func stopped. */
gboolean pl_sweep_run_with (PlSweepEvalFunc    eval,
                            gpointer           eval_data,
                            double             max,
                            guint              n_points,
                            PlSweepPointFunc   func,
                            gpointer           user_data,
                            GCancellable      *cancellable,
                            GError           **error);

/* The PlSweepEvalFunc of a PlPreview (@preview): pl_preview_run() by target sparsity. */
gboolean pl_sweep_preview_eval (double            target,
                                PlPreviewResult  *result,
                                gpointer          preview,
                                GError          **error);

/* pl_sweep_run_with (pl_sweep_preview_eval, @preview, …): @preview by target sparsity at the
 * @n_points targets, sparsest first, @func after each. */
gboolean pl_sweep_run    (PlPreview         *preview,
                          double             max,
                          guint              n_points,
                          PlSweepPointFunc   func,
                          gpointer           user_data,
                          GCancellable      *cancellable,
                          GError           **error);

G_END_DECLS
