/* pl-cli-grid-private.h — what sweep, schedule and merge share: the grid options (--shard,
 * --results-dir, --print-grid), the grid of a run, and the result built from its points
 *
 * A result is laid out in one place, _pl_cli_grid_result(), for a whole run, a shard and a
 * merge alike: the head (the settings and the dense model's numbers), "interrupted", "points"
 * (each grid point's curve points, in grid order), "curves" (schedule: mean and spread over
 * seeds, computed from the points), the timings, the tail (threads, BLAS core), and "grid" for a
 * shard. So the merge of every shard of a grid prints what the unsharded run prints, but for
 * the timings. */
#pragma once

#include "pl-cli-private.h"
#include "pl-results.h"
#include "pl-schedule.h"

G_BEGIN_DECLS

typedef struct {
  char      *shard;         /* --shard I/N */
  char      *results_dir;   /* --results-dir DIR */
  gboolean   print_grid;    /* --print-grid */
  guint      index;         /* parsed from shard: I, N; 0 and 1 without */
  guint      count;
} PlCliGridArgs;

#define PL_CLI_GRID_ARGS_INIT { NULL, NULL, FALSE, 0, 1 }

/* Rows of a command's option table */
#define PL_CLI_GRID_OPTIONS(g) \
  { "shard", 0, PL_CLI_STRING, &(g)->shard, \
    N_("Run only the grid points whose index is I modulo N (see --print-grid), and print them with the grid for “prunelab-cli merge”"), N_("I/N") }, \
  { "results-dir", 0, PL_CLI_FILENAME, &(g)->results_dir, \
    N_("Save each grid point's result in this folder as it is done, and skip the points found there"), N_("DIR") }, \
  { "print-grid", 0, PL_CLI_FLAG, &(g)->print_grid, \
    N_("Print the grid points (of the shard), one line each: index, then label; run nothing"), NULL }

/* The options of a grid that are no setting of its points (for _pl_cli_settings_text). */
#define PL_CLI_GRID_SKIP "shard", "results-dir", "print-grid", "json", "csv", "plot"

void        _pl_cli_grid_args_clear (PlCliGridArgs       *g);
/* Parses --shard; 0 or an exit status. */
int         _pl_cli_grid_check      (PlCliGridArgs       *g);
/* Whether grid point @index is this run's. */
gboolean    _pl_cli_grid_mine       (const PlCliGridArgs *g,
                                     guint                index);
/* A grid is needed (ids, keys): with --shard or --results-dir. */
gboolean    _pl_cli_grid_wanted     (const PlCliGridArgs *g);
/* Prints "INDEX\tLABEL" for each grid point of this run. */
void        _pl_cli_grid_print      (const PlCliGridArgs *g,
                                     const char * const  *labels,
                                     guint                n);
/* The grid of a run of @model_path on @data with @settings (transfer full). */
PlGrid     *_pl_cli_grid_make       (const char          *command,
                                     const char          *model_path,
                                     const PlData        *data,
                                     const char          *settings,
                                     const char * const  *labels,
                                     guint                n,
                                     JsonObject          *head,
                                     JsonObject          *tail,
                                     GError             **error);

/* The result: @points has @n entries, NULL for grid points not in it. @sweep_seconds is left
 * out when NaN. @shard (may be NULL) goes in "grid". (transfer full) */
JsonBuilder *_pl_cli_grid_result    (const char          *command,
                                     JsonObject          *head,
                                     JsonObject          *tail,
                                     gboolean             interrupted,
                                     JsonArray          **points,
                                     guint                n,
                                     double               seconds,
                                     double               sweep_seconds,
                                     JsonObject          *shard);
/* The points as CSV, one row each, the columns of @command. (transfer full) */
GString     *_pl_cli_grid_csv       (const char          *command,
                                     JsonArray          **points,
                                     guint                n);
/* Mean and spread over seeds of a schedule's points (PlScheduleSummary). (transfer full) */
GArray      *_pl_cli_schedule_summary (JsonArray        **points,
                                       guint              n);
/* @n NULL slots for each grid point's JsonArray, which it owns. (transfer full) */
GPtrArray   *_pl_cli_grid_points_new (guint              n);
/* A JSON object built by @b (its root), as a node to add to an array. (transfer full) */
JsonNode    *_pl_cli_builder_node   (JsonBuilder         *b);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (PlCliGridArgs, _pl_cli_grid_args_clear)

G_END_DECLS
