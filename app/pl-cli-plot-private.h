/* pl-cli-plot-private.h — --plot FILE for the commands that produce results */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Draws the chart that fits a command's JSON result into @path (.png, .svg or .pdf; 1200 × 800
 * pixels at 96 DPI, light theme): "train" → training curves, "sweep" → sparsity-vs-accuracy
 * curves, "sensitivity" → per-layer sensitivity, "prune" → sparsity per layer, "eval" → the
 * confusion matrix. The builder must hold the finished object with its "command" member. */
gboolean     _pl_cli_plot_result  (JsonBuilder  *result,
                                   const char   *path,
                                   GError      **error);

/* Checks early, before a long run, that @path names a chart file (.png, .svg or .pdf). */
gboolean     _pl_cli_plot_check   (const char   *path,
                                   GError      **error);

G_END_DECLS
