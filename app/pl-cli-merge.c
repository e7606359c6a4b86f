/* pl-cli-merge.c — prunelab-cli merge: the shards of a sweep or schedule as one result */
#define G_LOG_DOMAIN "prunelab-cli"

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "pl-cli-grid-private.h"
#include "pl-cli-plot-private.h"

int
_pl_cli_merge (int    argc,
               char **argv)
{
  g_autofree char *csv = NULL;
  g_autofree char *plot = NULL;
  gboolean json = FALSE;
  const PlCliOption options[] = {
    { "json", 0, PL_CLI_FLAG, &json, N_("Print the result as one JSON object on stdout"), NULL },
    { "csv", 0, PL_CLI_FILENAME, &csv, N_("Also write the points as CSV"), N_("FILE") },
    { "plot", 0, PL_CLI_FILENAME, &plot, N_("Draw the curves into this file (.png, .svg or .pdf)"), N_("FILE") },
    { NULL }
  };
  g_auto(GStrv) inputs = NULL;
  const PlCliOption rest[] = {
    { G_OPTION_REMAINING, 0, PL_CLI_FILENAMES, &inputs, N_("Shard outputs, results folders or their grid files"), N_("FILE|DIR…") },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new (NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(PlMerge) merge = pl_merge_new ();
  g_autoptr(GPtrArray) points = NULL;
  g_autoptr(JsonBuilder) b = NULL;
  g_autoptr(GString) csv_text = NULL;
  const PlGrid *grid;

  g_option_context_set_summary (context, _("Combine the pieces of one sweep or schedule — the outputs of runs with --shard I/N\n"
                                           "(--json) and folders of --results-dir — into the result the whole run prints:\n"
                                           "the same points in the same order, the curves computed again from them.\n"
                                           "Pieces of different grids, damaged files and missing grid points are refused."));
  _pl_cli_add_options (context, options, rest, NULL);
  if (!_pl_cli_parse (context, &argc, &argv))
    return PL_EXIT_USAGE;
  if (inputs == NULL || inputs[0] == NULL)
    return _pl_cli_usage (_("give the shard outputs or results folders to merge"));
  if (plot != NULL && !_pl_cli_plot_check (plot, &error))
    return _pl_cli_usage ("--plot: %s", error->message);
  if (!_pl_cli_check_output (csv, &error) || !_pl_cli_check_output (plot, &error))
    return _pl_cli_fail (error);

  for (guint i = 0; inputs[i] != NULL; i++)
    if (!pl_merge_add (merge, inputs[i], &error))
      return _pl_cli_fail (error);
  if (!pl_merge_check_complete (merge, &error))
    return _pl_cli_fail (error);

  grid = pl_merge_get_grid (merge);
  points = _pl_cli_grid_points_new (grid->size);
  for (guint i = 0; i < grid->size; i++)
    points->pdata[i] = json_array_ref (pl_merge_get_points (merge, i));

  /* the timings: the grid points' own seconds, added up */
  b = _pl_cli_grid_result (grid->command, grid->head, grid->tail, FALSE, (JsonArray **) points->pdata,
                           grid->size, pl_merge_get_seconds (merge),
                           strcmp (grid->command, "sweep") == 0 ? pl_merge_get_seconds (merge) : NAN,
                           NULL);
  csv_text = csv != NULL ? _pl_cli_grid_csv (grid->command, (JsonArray **) points->pdata, grid->size) : NULL;
  if (!_pl_cli_emit_result (b, json, plot, csv, csv_text, &error))
    return _pl_cli_fail (error);
  if (!json)
    g_printerr (_("merged %u grid points of a %s\n"), grid->size, grid->command);
  return PL_EXIT_OK;
}
