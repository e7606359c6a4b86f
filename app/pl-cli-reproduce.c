/* pl-cli-reproduce.c — prunelab-cli reproduce: a paper's experiment, its numbers beside ours */
#define G_LOG_DOMAIN "prunelab-cli"

#include "config.h"

#include <glib/gi18n.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "pl-cli-plot-private.h"
#include "pl-cli-private.h"
#include "pl-error.h"
#include "pl-reproduce-view.h"

static void
on_progress (const char *line,
             double      fraction,
             gpointer    user_data)
{
  g_printerr ("[%3.0f%%] %s\n", 100 * fraction, line);
}

static char *
papers_description (void)
{
  GString *s = g_string_new (_("Papers:\n"));

  for (PlPaper p = 0; p < PL_N_PAPERS; p++)
    {
      const PlPaperInfo *info = pl_paper_info (p);

      g_string_append_printf (s, "  %-12s %s\n               %s\n", info->name, _(info->title),
                              info->citation);
    }
  g_string_append (s, _("\nThe network is LeNet-300-100 with the data's inputs and classes. Every number is the mean,\n"
                        "minimum and maximum over the seeds, beside the paper's (with its table or figure) where the\n"
                        "paper gives one. --quick runs fewer epochs, rounds and seeds (said in the output) and takes\n"
                        "under 2 minutes on 2 cores; the full runs take under 30.\n\n"
                        "Examples:\n"
                        "  prunelab-cli reproduce --list\n"
                        "  prunelab-cli reproduce han2015 --quick\n"
                        "  prunelab-cli reproduce frankle2019 --data mnist:/path/to/mnist --json --plot tickets.png\n"));
  return g_string_free (s, FALSE);
}

static void
add_settings_json (JsonBuilder               *b,
                   const PlReproduceResult   *r)
{
  const PlReproduceSettings *s = &r->settings;

  json_builder_set_member_name (b, "settings");
  json_builder_begin_object (b);
  _pl_cli_add_int (b, "seeds", s->seeds);
  _pl_cli_add_int (b, "dense_epochs", s->dense_epochs);
  _pl_cli_add_double (b, "dense_lr", s->dense_lr);
  _pl_cli_add_string (b, "optimizer", pl_optimizer_to_string (s->optimizer));
  _pl_cli_add_int (b, "batch", s->batch);
  if (r->paper == PL_PAPER_HAN2015 || r->paper == PL_PAPER_FRANKLE2019)
    _pl_cli_add_int (b, "rounds", s->rounds);
  if (r->paper == PL_PAPER_TANAKA2020)
    _pl_cli_add_int (b, "sparse_epochs", s->dense_epochs);
  else if (r->paper != PL_PAPER_FRANKLE2019)
    {
      _pl_cli_add_int (b, r->paper == PL_PAPER_BLALOCK2020 ? "fine_tune_epochs" : "round_epochs",
                       s->round_epochs);
      _pl_cli_add_double (b, "retrain_lr", s->retrain_lr);
    }
  else
    {
      _pl_cli_add_int (b, "round_epochs", s->dense_epochs);
      _pl_cli_add_int (b, "eval_every", s->eval_every);
    }
  if (r->paper == PL_PAPER_BLALOCK2020)
    _pl_cli_add_string (b, "score", pl_score_info (r->score)->name);
  json_builder_end_object (b);
}

static void
result_json (JsonBuilder             *b,
             const PlReproduceResult *r,
             const char              *data_spec,
             guint                    threads)
{
  const PlPaperInfo *info = pl_paper_info (r->paper);

  json_builder_begin_object (b);
  _pl_cli_add_string (b, "command", "reproduce");
  _pl_cli_add_string (b, "paper", info->name);
  _pl_cli_add_string (b, "title", _(info->title));
  _pl_cli_add_string (b, "citation", info->citation);
  _pl_cli_add_string (b, "data", data_spec);
  _pl_cli_add_string (b, "arch", r->arch);
  _pl_cli_add_bool (b, "quick", r->quick);
  _pl_cli_add_int (b, "seeds", r->settings.seeds);
  add_settings_json (b, r);
  json_builder_set_member_name (b, "numbers");
  json_builder_begin_array (b);
  for (guint k = 0; k < r->rows->len; k++)
    {
      const PlReproduceRow *row = &g_array_index (r->rows, PlReproduceRow, k);

      json_builder_begin_object (b);
      _pl_cli_add_string (b, "key", row->key);
      _pl_cli_add_string (b, "label", row->label);
      _pl_cli_add_string (b, "unit", row->unit);
      _pl_cli_add_double (b, "paper", row->paper);
      if (row->source != NULL)
        _pl_cli_add_string (b, "source", row->source);
      _pl_cli_add_int (b, "n", row->n);
      _pl_cli_add_double (b, "mean", row->mean);
      _pl_cli_add_double (b, "min", row->min);
      _pl_cli_add_double (b, "max", row->max);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  /* the points under the keys sweep's use, so that “plot curves” draws them */
  json_builder_set_member_name (b, "points");
  json_builder_begin_array (b);
  for (guint k = 0; k < r->points->len; k++)
    {
      const PlReproducePoint *p = &g_array_index (r->points, PlReproducePoint, k);

      json_builder_begin_object (b);
      _pl_cli_add_string (b, "score", p->curve);
      _pl_cli_add_int (b, "seed", (gint64) p->seed);
      _pl_cli_add_int (b, "level", p->level);
      _pl_cli_add_double (b, "target_sparsity", p->target);
      _pl_cli_add_double (b, "sparsity", p->sparsity);
      _pl_cli_add_double (b, "test_accuracy", p->test_accuracy);
      _pl_cli_add_double (b, "compression", p->compression);
      _pl_cli_add_double (b, "speedup", p->speedup);
      _pl_cli_add_double (b, "early_stop", p->early_stop);
      _pl_cli_add_bool (b, "connected", p->connected);
      json_builder_set_member_name (b, "layer_sparsity");
      json_builder_begin_array (b);
      for (guint i = 0; i < r->n_layers; i++)
        json_builder_add_double_value (b, p->layer_sparsity[i]);
      json_builder_end_array (b);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  _pl_cli_add_double (b, "seconds", r->seconds);
  _pl_cli_add_int (b, "threads", threads);
  json_builder_end_object (b);
}

/* @text padded with spaces to @width terminal columns (wide characters take 2) */
static void
print_padded (const char *text,
              guint       width)
{
  guint cols = 0;

  for (const char *p = text; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      cols += g_unichar_iszerowidth (c) ? 0 : g_unichar_iswide (c) ? 2 : 1;
    }
  fputs (text, stdout);
  do
    putchar (' ');
  while (++cols < width);
}

static void
print_table (const PlReproduceResult *r,
             const char              *data_spec)
{
  const PlPaperInfo *info = pl_paper_info (r->paper);
  g_autofree char *settings = pl_reproduce_settings_text (r);

  printf ("%s — %s\n%s\n", info->name, _(info->title), info->citation);
  printf (_("data %s, network %s\n"), data_spec, r->arch);
  if (r->quick)
    printf (_("quick run (fewer epochs, rounds and seeds than the full run): %s\n"), settings);
  else
    printf (_("settings: %s\n"), settings);
  putchar ('\n');
  print_padded (_("number"), 62);
  print_padded (_("paper"), 10);
  print_padded (_("measured"), 11);
  print_padded (_("min … max over seeds"), 24);
  printf ("%s\n", _("source"));
  for (guint k = 0; k < r->rows->len; k++)
    {
      const PlReproduceRow *row = &g_array_index (r->rows, PlReproduceRow, k);
      g_auto(PlReproduceCells) cells = { 0 };

      pl_reproduce_cells_init (&cells, row);
      print_padded (row->label, 62);
      print_padded (cells.paper, 10);
      print_padded (cells.mean, 11);
      print_padded (cells.span, 24);
      printf ("%s\n", cells.source);
    }
  if (r->paper == PL_PAPER_TANAKA2020)
    printf (_("“compression that first disconnects”: no path of kept weights from an input to an output;\n"
              "the mean over the seeds whose network disconnected up to ×10000 (n in the JSON), — when none did\n"));
  printf (_("%.1f s\n"), r->seconds);
}

int
_pl_cli_reproduce (int    argc,
                   char **argv)
{
  g_auto(PlCliDataArgs) data_args = PL_CLI_DATA_ARGS_INIT;
  g_autofree char *plot = NULL;
  g_autofree char *csv_path = NULL;
  g_autofree char *table_csv = NULL;
  g_autofree char *score = NULL;
  gboolean list = FALSE, quick = FALSE, json = FALSE;
  int seeds = 0, threads = 2;
  const PlCliOption options[] = {
    { "list", 0, PL_CLI_FLAG, &list, N_("List the papers and exit") },
    { "quick", 0, PL_CLI_FLAG, &quick, N_("Fewer epochs, rounds and seeds: under 2 minutes on 2 cores") },
    { "seeds", 0, PL_CLI_INT, &seeds, N_("Seeds 0…K−1 (default: the paper's, 1 with --quick)"), N_("K"),
      PL_CLI_WHOLE (1, 1000) },
    { "score", 0, PL_CLI_STRING, &score, N_("blalock2020: the method compared with the baselines (default taylor)"), N_("NAME") },
    { "threads", 't', PL_CLI_INT, &threads, N_("Threads (default 2)"), N_("N"), PL_CLI_WHOLE (1, PL_CLI_MAX_THREADS) },
    { "plot", 0, PL_CLI_FILENAME, &plot, N_("Draw the accuracy-versus-sparsity curves into this file (.png, .svg or .pdf)"), N_("FILE") },
    { "csv", 0, PL_CLI_FILENAME, &csv_path, N_("Also write the points as CSV"), N_("FILE") },
    { "table-csv", 0, PL_CLI_FILENAME, &table_csv, N_("Also write the paper-vs-measured table as CSV"), N_("FILE") },
    { "json", 0, PL_CLI_FLAG, &json, N_("Print the result as one JSON object on stdout"), NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new (_("NAME"));
  g_autofree char *description = papers_description ();
  g_autoptr(GError) error = NULL;
  g_autoptr(PlData) data = NULL;
  g_autoptr(PlReproduceResult) result = NULL;
  g_autofree char *name = NULL;
  PlReproduceOptions ro;
  PlPaper paper;

  g_option_context_set_summary (context, _("Run a pruning paper's small-network experiment end to end and print the\n"
                                           "paper's numbers beside the measured ones, with mean and spread over seeds."));
  g_option_context_set_description (context, description);
  _pl_cli_add_options (context, options, NULL);
  _pl_cli_add_data_options (context, &data_args);
  /* the paper's name, before the options */
  if (argc >= 2 && argv[1][0] != '-')
    {
      name = g_strdup (argv[1]);
      memmove (argv + 1, argv + 2, sizeof (char *) * (argc - 1));
      argc--;
    }
  if (!_pl_cli_parse (context, &argc, &argv))
    return PL_EXIT_USAGE;

  if (list)
    {
      for (PlPaper p = 0; p < PL_N_PAPERS; p++)
        {
          const PlPaperInfo *info = pl_paper_info (p);

          printf ("%-12s %s\n             %s\n             %s\n", info->name, _(info->title),
                  info->citation, _(info->summary));
        }
      return PL_EXIT_OK;
    }
  if (name == NULL)
    return _pl_cli_usage (_("which paper? prunelab-cli reproduce NAME …; run “prunelab-cli reproduce --list” for the list"));
  if (!pl_paper_parse (name, &paper, &error))
    return _pl_cli_fail (error);

  pl_reproduce_options_init (&ro);
  ro.quick = quick;
  ro.seeds = (guint) seeds;
  ro.threads = _pl_cli_set_threads (threads);
  if (score != NULL && !pl_score_parse (score, &ro.score, &error))
    return _pl_cli_fail (error);
  if (score != NULL && pl_score_info (ro.score)->per_neuron)
    return _pl_cli_usage (_("--score: %s scores neurons; blalock2020 compares weight scores"), score);
  if (plot != NULL && !_pl_cli_plot_check (plot, &error))
    return _pl_cli_usage ("--plot: %s", error->message);
  if (!_pl_cli_check_output (csv_path, &error) || !_pl_cli_check_output (plot, &error)
      || !_pl_cli_check_output (table_csv, &error))
    return _pl_cli_fail (error);

  if (data_args.spec == NULL)
    data_args.spec = g_strdup ("fashion-mnist");
  data = _pl_cli_load_data (&data_args, &error);
  if (data == NULL)
    return _pl_cli_fail (error);
  g_printerr (_("reproduce %s on %s: %u training, %u validation, %u test samples\n"),
              pl_paper_info (paper)->name, data->spec, data->train->n, data->val->n, data->test->n);

  result = pl_reproduce_run (paper, data, &ro, on_progress, NULL, _pl_cli_cancellable (), &error);
  if (result == NULL)
    return _pl_cli_fail (error);

  /* the chart and the CSV as the app's Reproduce a Paper dialog exports them */
  if (table_csv != NULL && !pl_reproduce_save_table_csv (result, table_csv, &error))
    return _pl_cli_fail (error);
  if (csv_path != NULL && !pl_reproduce_save_csv (result, csv_path, &error))
    return _pl_cli_fail (error);
  if (plot != NULL && !pl_reproduce_chart_export (result, plot, &error))
    return _pl_cli_fail (error);
  if (json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();

      result_json (b, result, data->spec, ro.threads);
      _pl_cli_print_json (b);
    }
  if (!json)
    print_table (result, data->spec);
  return PL_EXIT_OK;
}
