/* prunelab-cli train, eval and prune with a convolutional network, as a user runs them: on a CSV of
 * small images (36 pixels, the class is the quadrant of a bright spot). */
#include "config.h"

#include <string.h>

#include <glib/gstdio.h>

#include <math.h>

#include "pl-conv-file.h"
#include "pl-conv-prune.h"
#include "pl-conv-score.h"
#include "pl-blas.h"
#include "pl-conv-sweep.h"
#include "pl-conv-train.h"
#include "pl-eval.h"
#include "pl-dataset.h"
#include "pl-rng.h"
#include "pl-test-cli.h"
#include "pl-test-util.h"

static const char *cli_path;

static char *
write_images (const char *name,
              guint       n,
              guint64     seed)
{
  g_autoptr(GString) csv = g_string_new (NULL);
  PlRng rng;

  pl_rng_init (&rng, seed);
  for (guint s = 0; s < n; s++)
    {
      guint q = s % 4, cy = (q / 2) * 3 + (guint) pl_rng_below (&rng, 2) + 1;
      guint cx = (q % 2) * 3 + (guint) pl_rng_below (&rng, 2) + 1;

      for (guint k = 0; k < 36; k++)
        g_string_append_printf (csv, "%.3f,", 0.3 * pl_rng_uniform (&rng) + (k == cy * 6 + cx));
      g_string_append_printf (csv, "%u\n", q);
    }
  return pl_test_write_text (name, csv->str);
}

/* The built-in image set needs no files: LeNet-5 learns its shapes in two epochs, and the
 * class names come through. */
static void
test_lenet5_on_shapes (void)
{
  g_auto(PlTestRun) train = { 0 };
  g_autoptr(JsonObject) a = NULL;

  pl_test_run_cli (&train, cli_path, "train", "--data", "shapes:n=2400", "--arch", "lenet5",
                   "--epochs", "2", "--batch", "64", "--lr", "0.05", "--momentum", "0.9",
                   "--threads", "2", "--json", NULL);
  g_assert_cmpint (train.status, ==, 0);
  a = pl_test_parse_json (train.out);
  g_assert_cmpstr (json_object_get_string_member (a, "arch"), ==, "1x28x28-c6k5p2-m2-c16k5-m2-120-84-10");
  g_test_message ("LeNet-5 on shapes:n=2400, 2 epochs: %.4f",
                  json_object_get_double_member (a, "test_accuracy"));
  /* 8 balanced classes: chance is 0.125 */
  g_assert_cmpfloat (json_object_get_double_member (a, "test_accuracy"), >=, 0.8);
}

/* bench train on LeNet-5: its FLOPs per training sample against the hand count, and a rate.
 * Forward and weight gradient of both conv layers, the input gradient of the second:
 * conv1 6·1·25·28·28 = 117,600 multiply-adds, ·2·2 = 470,400 FLOPs; conv2 16·6·25·10·10 =
 * 240,000, ·2·3 = 1,440,000; the head 400·120 ·2·2 = 192,000, (120·84 + 84·10) ·2·3 = 65,520;
 * in all 2,167,920. */
static void
test_bench_train_lenet5 (void)
{
  g_auto(PlTestRun) r = { 0 };
  g_autoptr(JsonObject) o = NULL;
  JsonArray *runs;

  pl_test_run_cli (&r, cli_path, "bench", "train", "--arch", "lenet5", "--steps", "2",
                   "--repeats", "1", "--threads", "1", "--batch", "16", "--json", NULL);
  g_assert_cmpint (r.status, ==, 0);
  o = pl_test_parse_json (r.out);
  g_assert_cmpstr (json_object_get_string_member (o, "arch"), ==, "1x28x28-c6k5p2-m2-c16k5-m2-120-84-10");
  g_assert_cmpfloat (json_object_get_double_member (o, "flops_per_sample"), ==, 2167920.0);
  runs = json_object_get_array_member (o, "runs");
  g_assert_cmpuint (json_array_get_length (runs), ==, 1);
  g_assert_cmpfloat (json_object_get_double_member (json_array_get_object_element (runs, 0),
                                                    "samples_per_second"), >, 0.0);
}

/* bench sparse on a filter-pruned conv net: the forward as pruned against the compacted one,
 * FLOPs and bytes against the hand count. 1x6x6-c4k3p1-m2-8-4 with 2 of its 4 filters gone:
 * as pruned 4·9·36 + 36·8 + 8·4 = 1,616 multiply-adds a sample (3,232 FLOPs), 356 weights and
 * 16 biases (4·(2·356 + 16) = 2,912 bytes with the mask); compacted 2·9·36 + 18·8 + 32 = 824
 * (1,648 FLOPs), 194 weights and 14 biases (832 bytes). */
static void
test_bench_sparse_conv (void)
{
  g_autofree char *train_csv = write_images ("bench-train.csv", 400, 3);
  g_autofree char *spec = g_strdup_printf ("csv:%s,header=no", train_csv);
  g_autofree char *model = g_build_filename (pl_test_tmp_dir (), "bench-conv.safetensors", NULL);
  g_autofree char *half = g_build_filename (pl_test_tmp_dir (), "bench-half.safetensors", NULL);
  g_auto(PlTestRun) train = { 0 };
  g_auto(PlTestRun) prune = { 0 };
  g_auto(PlTestRun) bench = { 0 };
  g_auto(PlTestRun) refused = { 0 };
  g_autoptr(JsonObject) o = NULL;
  JsonArray *points;

  pl_test_run_cli (&train, cli_path, "train", "--data", spec, "--arch", "1x6x6-c4k3p1-m2-8-4",
                   "--epochs", "2", "--out", model, NULL);
  g_assert_cmpint (train.status, ==, 0);
  pl_test_run_cli (&prune, cli_path, "prune", "--model", model, "--data", spec, "--score", "neuron-l1",
                   "--structured", "--sparsity", "0.5", "--out", half, NULL);
  g_assert_cmpint (prune.status, ==, 0);
  pl_test_run_cli (&bench, cli_path, "bench", "sparse", "--model", half, "--batch", "1,8",
                   "--rounds", "3", "--json", NULL);
  g_assert_cmpint (bench.status, ==, 0);
  o = pl_test_parse_json (bench.out);
  g_assert_cmpstr (json_object_get_string_member (o, "compacted_arch"), ==, "1x6x6-c2k3p1-m2-8-4");
  points = json_object_get_array_member (o, "model");
  g_assert_cmpuint (json_array_get_length (points), ==, 2);
  for (guint i = 0; i < 2; i++)
    {
      JsonObject *p = json_array_get_object_element (points, i);
      double n = json_object_get_int_member (p, "batch");

      g_assert_cmpfloat (n, ==, i == 0 ? 1 : 8);
      g_assert_cmpfloat (json_object_get_double_member (p, "dense_flops"), ==, n * 3232);
      g_assert_cmpfloat (json_object_get_double_member (p, "compacted_flops"), ==, n * 1648);
      g_assert_cmpfloat (json_object_get_double_member (p, "dense_bytes"), ==, 2912);
      g_assert_cmpfloat (json_object_get_double_member (p, "compacted_bytes"), ==, 832);
      g_assert_cmpfloat (json_object_get_double_member (p, "dense_ms"), >, 0);
      g_assert_cmpfloat (json_object_get_double_member (p, "compacted_ms"), >, 0);
      g_assert_cmpfloat (json_object_get_double_member (p, "worst_difference"), <=, 1e-4);
    }
  pl_test_run_cli (&refused, cli_path, "bench", "sparse", "--model", half, "--sweep", NULL);
  g_assert_cmpint (refused.status, ==, 2);
  g_assert_nonnull (strstr (refused.err, "convolutional network is timed as pruned and compacted"));
}

static void
test_train_and_eval (void)
{
  g_autofree char *train_csv = write_images ("conv-train.csv", 600, 1);
  g_autofree char *test_csv = write_images ("conv-test.csv", 200, 2);
  g_autofree char *spec = g_strdup_printf ("csv:%s,header=no,test=%s", train_csv, test_csv);
  g_autofree char *model = g_build_filename (pl_test_tmp_dir (), "conv.safetensors", NULL);
  g_auto(PlTestRun) train = { 0 };
  g_auto(PlTestRun) eval = { 0 };
  g_auto(PlTestRun) prune = { 0 };
  g_auto(PlTestRun) eval2 = { 0 };
  g_auto(PlTestRun) refused = { 0 };
  g_auto(PlTestRun) refused2 = { 0 };
  g_autofree char *pruned = g_build_filename (pl_test_tmp_dir (), "conv-pruned.safetensors", NULL);
  g_autoptr(JsonObject) a = NULL;
  g_autoptr(JsonObject) b = NULL;
  g_autoptr(JsonObject) c = NULL;
  g_autoptr(JsonObject) d = NULL;
  g_autoptr(GError) error = NULL;
  JsonArray *filters;

  pl_test_run_cli (&train, cli_path, "train", "--data", spec, "--arch", "1x6x6-c4k3p1-m2-8-4",
                   "--epochs", "6", "--batch", "32", "--lr", "0.05", "--threads", "2",
                   "--out", model, "--json", NULL);
  g_assert_cmpint (train.status, ==, 0);
  pl_test_run_cli (&eval, cli_path, "eval", "--model", model, "--data", spec, "--json", NULL);
  g_assert_cmpint (eval.status, ==, 0);

  a = pl_test_parse_json (train.out);
  b = pl_test_parse_json (eval.out);
  g_assert_cmpstr (json_object_get_string_member (a, "arch"), ==, "1x6x6-c4k3p1-m2-8-4");
  g_assert_cmpstr (json_object_get_string_member (b, "arch"), ==, "1x6x6-c4k3p1-m2-8-4");
  /* 4·9 + 4 conv, 36·8 + 8 and 8·4 + 4 dense */
  g_assert_cmpint (json_object_get_int_member (a, "parameters"), ==, 40 + 296 + 36);
  g_assert_cmpfloat (json_object_get_double_member (a, "test_accuracy"), >=, 0.9);
  g_assert_cmpfloat (json_object_get_double_member (a, "test_accuracy"), ==,
                     json_object_get_double_member (b, "test_accuracy"));
  g_assert_cmpint (json_array_get_length (json_object_get_array_member (a, "history")), ==, 6);

  /* half of each conv layer's filters by L1 norm: 2 of 4, and the saved file evaluates the same */
  pl_test_run_cli (&prune, cli_path, "prune", "--model", model, "--data", spec, "--score", "neuron-l1",
                   "--structured", "--sparsity", "0.5", "--out", pruned, "--json", NULL);
  g_assert_cmpint (prune.status, ==, 0);
  c = pl_test_parse_json (prune.out);
  filters = json_object_get_array_member (c, "filters");
  g_assert_cmpuint (json_array_get_length (filters), ==, 1);
  g_assert_cmpint (json_object_get_int_member (json_array_get_object_element (filters, 0), "live"), ==, 2);
  g_assert_cmpfloat (json_object_get_double_member (c, "test_accuracy_before"), ==,
                     json_object_get_double_member (a, "test_accuracy"));
  pl_test_run_cli (&eval2, cli_path, "eval", "--model", pruned, "--data", spec, "--json", NULL);
  g_assert_cmpint (eval2.status, ==, 0);
  d = pl_test_parse_json (eval2.out);
  g_assert_cmpfloat (json_object_get_double_member (d, "test_accuracy"), ==,
                     json_object_get_double_member (c, "test_accuracy"));
  /* 2 filters · 9 weights, their 2 · 9 head columns · 8 rows */
  g_assert_cmpint (json_object_get_int_member (d, "pruned_weights"), ==, 18 + 144);

  /* FPGM: the 2 of 4 filters with the smallest summed distance Σ_i ‖F_j − F_i‖₂ to the
   * others, computed here from the saved weights by plain loops */
  {
    g_auto(PlTestRun) fp = { 0 };
    g_auto(PlTestRun) no_structured = { 0 };
    g_autofree char *fpgm_out = g_build_filename (pl_test_tmp_dir (), "conv-fpgm.safetensors", NULL);
    g_autoptr(PlConvNet) orig = pl_conv_net_load (model, &error);
    g_autoptr(PlConvNet) after = NULL;
    g_autoptr(JsonObject) e = NULL;
    double g[4];
    guint order[4] = { 0, 1, 2, 3 };

    g_assert_no_error (error);
    for (guint j = 0; j < 4; j++)
      {
        g[j] = 0.0;
        for (guint i = 0; i < 4; i++)
          {
            double d2 = 0.0;

            for (guint t = 0; t < 9; t++)
              d2 += pow ((double) orig->layers[0].w[j * 9 + t] - orig->layers[0].w[i * 9 + t], 2);
            g[j] += sqrt (d2);
          }
      }
    for (guint x = 0; x < 4; x++)          /* insertion sort by g, index breaks ties */
      for (guint y = x; y > 0 && g[order[y]] < g[order[y - 1]]; y--)
        {
          guint tmp = order[y];

          order[y] = order[y - 1];
          order[y - 1] = tmp;
        }
    pl_test_run_cli (&fp, cli_path, "prune", "--model", model, "--data", spec, "--score", "fpgm",
                     "--structured", "--sparsity", "0.5", "--out", fpgm_out, "--json", NULL);
    g_assert_cmpint (fp.status, ==, 0);
    e = pl_test_parse_json (fp.out);
    g_assert_cmpstr (json_object_get_string_member (e, "score"), ==, "fpgm");
    after = pl_conv_net_load (fpgm_out, &error);
    g_assert_no_error (error);
    for (guint r = 0; r < 4; r++)
      g_assert_cmpfloat (after->layers[0].filter_mask[order[r]], ==, r < 2 ? 0.0f : 1.0f);
    pl_test_run_cli (&no_structured, cli_path, "prune", "--model", model, "--data", spec,
                     "--score", "fpgm", "--sparsity", "0.5", NULL);
    g_assert_cmpint (no_structured.status, ==, 2);
    g_assert_nonnull (strstr (no_structured.err, "--structured"));
  }

  /* a weight score with data: half of all weights go, those the engine's Taylor scores of the
   * saved model (8 batches of 256 training samples, seed 0, as --score-batches' default) name */
  {
    g_auto(PlTestRun) taylor = { 0 };
    g_autofree char *taylor_out = g_build_filename (pl_test_tmp_dir (), "conv-taylor.safetensors", NULL);
    g_autoptr(PlConvNet) orig = pl_conv_net_load (model, &error);
    g_autoptr(PlConvNet) after = NULL;
    g_autoptr(PlData) data = NULL;
    g_autoptr(JsonObject) e = NULL;
    g_autofree float *scores = NULL;
    PlScoreOptions options = PL_SCORE_OPTIONS_INIT;
    gsize n;

    g_assert_no_error (error);
    pl_test_run_cli (&taylor, cli_path, "prune", "--model", model, "--data", spec, "--score", "taylor",
                     "--sparsity", "0.5", "--out", taylor_out, "--json", NULL);
    g_assert_cmpint (taylor.status, ==, 0);
    e = pl_test_parse_json (taylor.out);
    n = pl_conv_net_n_weights (orig);
    g_assert_cmpint (json_object_get_int_member (e, "pruned_weights"), ==, (gint64) nearbyint (0.5 * n));
    data = pl_data_load (spec, NULL, &error);
    g_assert_no_error (error);
    scores = g_new (float, n);
    g_assert_true (pl_conv_weight_scores (orig, PL_SCORE_TAYLOR, data->train, &options, scores, &error));
    pl_conv_prune_scored (orig, scores, 0.5, TRUE, FALSE);
    after = pl_conv_net_load (taylor_out, &error);
    g_assert_no_error (error);
    g_assert_cmpmem (after->masks, sizeof (float) * after->n_params, orig->masks, sizeof (float) * orig->n_params);
    g_assert_cmpmem (after->head->masks, sizeof (float) * after->head->n_params,
                     orig->head->masks, sizeof (float) * orig->head->n_params);
  }

  /* what conv nets do not take yet is refused */
  pl_test_run_cli (&refused, cli_path, "prune", "--model", model, "--data", spec, "--score", "wanda",
                   "--sparsity", "0.5", NULL);
  g_assert_cmpint (refused.status, ==, 2);
  g_assert_nonnull (strstr (refused.err, "--score magnitude, random"));
  pl_test_run_cli (&refused2, cli_path, "sweep", "--model", model, "--data", spec, "--score", "magnitude",
                   "--nm", "2:4", NULL);
  g_assert_cmpint (refused2.status, ==, 2);
  g_assert_nonnull (strstr (refused2.err, "--nm does not take a convolutional network yet"));
}

/* Filter masks of the conv layers in @path, in order, as "1100 110100" */
static char *
filter_masks_of (const char *path)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PlConvNet) net = pl_conv_net_load (path, &error);
  GString *s = g_string_new (NULL);

  g_assert_no_error (error);
  for (guint i = 0; i < net->n_layers; i++)
    if (net->layers[i].kind == PL_CONV_LAYER_CONV)
      {
        if (s->len > 0)
          g_string_append_c (s, ' ');
        for (guint o = 0; o < net->layers[i].c_out; o++)
          g_string_append_c (s, net->layers[i].filter_mask[o] != 0.0f ? '1' : '0');
      }
  return g_string_free (s, FALSE);
}

static char *
filter_masks_of_net (const PlConvNet *net)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < net->n_layers; i++)
    if (net->layers[i].kind == PL_CONV_LAYER_CONV)
      {
        if (s->len > 0)
          g_string_append_c (s, ' ');
        for (guint o = 0; o < net->layers[i].c_out; o++)
          g_string_append_c (s, net->layers[i].filter_mask[o] != 0.0f ? '1' : '0');
      }
  return g_string_free (s, FALSE);
}

/* prune --structured --score apoz|activation|neuron-taylor on a conv net: the filters the CLI
 * removes are those of the engine call on the first 8 · 256 training samples, and in the first
 * layer those of APoZ and the mean activation computed here by nested loops; then --compact. */
static void
test_channel_scores_and_compact (void)
{
  g_autofree char *train_csv = write_images ("conv2-train.csv", 600, 5);
  g_autofree char *test_csv = write_images ("conv2-test.csv", 200, 6);
  g_autofree char *spec = g_strdup_printf ("csv:%s,header=no,test=%s", train_csv, test_csv);
  g_autofree char *model = g_build_filename (pl_test_tmp_dir (), "conv2.safetensors", NULL);
  g_auto(PlTestRun) train = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(PlConvNet) orig = NULL;
  g_autoptr(PlData) data = NULL;
  PlDataOptions options = PL_DATA_OPTIONS_INIT;
  static const char * const names[] = { "apoz", "activation", "neuron-taylor" };
  static const PlConvChannelScore scores[] = { PL_CONV_CHANNEL_APOZ, PL_CONV_CHANNEL_ACTIVATION,
                                               PL_CONV_CHANNEL_TAYLOR };
  guint n_calib;

  pl_test_run_cli (&train, cli_path, "train", "--data", spec, "--arch", "1x6x6-c4k3p1-c6k3p1-m2-8-4",
                   "--epochs", "4", "--batch", "32", "--lr", "0.05", "--out", model, NULL);
  g_assert_cmpint (train.status, ==, 0);
  orig = pl_conv_net_load (model, &error);
  g_assert_no_error (error);
  data = pl_data_load (spec, &options, &error);   /* the CLI's default split */
  g_assert_no_error (error);
  n_calib = MIN (8 * 256, data->train->n);

  for (guint k = 0; k < G_N_ELEMENTS (names); k++)
    {
      g_auto(PlTestRun) run = { 0 };
      g_autofree char *out = g_strdup_printf ("%s/conv2-%s.safetensors", pl_test_tmp_dir (), names[k]);
      g_autoptr(PlConvNet) want = pl_conv_net_copy (orig);
      g_autoptr(JsonObject) o = NULL;
      g_autofree char *got_masks = NULL;
      g_autofree char *want_masks = NULL;
      gint removed;

      pl_test_run_cli (&run, cli_path, "prune", "--model", model, "--data", spec, "--score", names[k],
                       "--structured", "--sparsity", "0.5", "--out", out, "--json", NULL);
      g_assert_cmpint (run.status, ==, 0);
      o = pl_test_parse_json (run.out);
      g_assert_cmpint (json_object_get_int_member (o, "calibration"), ==, n_calib);
      removed = pl_conv_prune_channels (want, 0.5, scores[k], data->train, n_calib, &error);
      g_assert_no_error (error);
      g_assert_cmpint (removed, ==, 2 + 3);
      got_masks = filter_masks_of (out);
      want_masks = filter_masks_of_net (want);
      g_assert_cmpstr (got_masks, ==, want_masks);

      /* the first layer by nested loops: 1 − APoZ or the mean activation over the 6×6 maps */
      if (scores[k] != PL_CONV_CHANNEL_TAYLOR)
        {
          double sc[4] = { 0 }, in[36], a[4 * 36];
          guint order[4] = { 0, 1, 2, 3 };

          for (guint smp = 0; smp < n_calib; smp++)
            {
              for (guint t = 0; t < 36; t++)
                in[t] = data->train->x[(gsize) smp * 36 + t];
              pl_conv_layer_forward_ref (orig, 0, in, a);
              for (guint c = 0; c < 4; c++)
                {
                  double v = 0.0;

                  for (guint p = 0; p < 36; p++)
                    v += scores[k] == PL_CONV_CHANNEL_APOZ ? (a[c * 36 + p] == 0.0) : a[c * 36 + p];
                  sc[c] += v / 36;
                }
            }
          for (guint c = 0; c < 4; c++)
            sc[c] = scores[k] == PL_CONV_CHANNEL_APOZ ? 1.0 - sc[c] / n_calib : sc[c] / n_calib;
          for (guint x = 0; x < 4; x++)          /* insertion sort by score, index breaks ties */
            for (guint y = x; y > 0 && sc[order[y]] < sc[order[y - 1]]; y--)
              {
                guint tmp = order[y];

                order[y] = order[y - 1];
                order[y - 1] = tmp;
              }
          for (guint r = 0; r < 4; r++)
            g_assert_cmpint (got_masks[order[r]], ==, r < 2 ? '0' : '1');
        }
    }

  /* --help-scores states the channel scores' formulas and sources */
  {
    g_auto(PlTestRun) help = { 0 };

    pl_test_run_cli (&help, cli_path, "prune", "--help-scores", NULL);
    g_assert_cmpint (help.status, ==, 0);
    g_assert_nonnull (strstr (help.out, "1 − mean_s (1/M)·#{p : a_s,c,p = 0}"));
    g_assert_nonnull (strstr (help.out, "Hu, Peng, Tai & Tang 2016, “Network Trimming”, Eq. 1"));
    g_assert_nonnull (strstr (help.out, "mean_s (1/M)·Σ_p a_s,c,p"));
    g_assert_nonnull (strstr (help.out, "Θ_c = mean_s |(1/M)·Σ_p a_s,c,p·∂L_s/∂a_s,c,p|"));
  }

  /* --compact: half the filters by L1 norm, saved as the smaller net, which evaluates the same */
  {
    g_auto(PlTestRun) run = { 0 };
    g_auto(PlTestRun) eval = { 0 };
    g_auto(PlTestRun) refused = { 0 };
    g_autofree char *small_path = g_build_filename (pl_test_tmp_dir (), "conv2-small.safetensors", NULL);
    g_autoptr(JsonObject) o = NULL;
    g_autoptr(JsonObject) e = NULL;
    g_autoptr(PlConvNet) small = NULL;
    JsonObject *compacted;

    pl_test_run_cli (&run, cli_path, "prune", "--model", model, "--data", spec, "--score", "neuron-l1",
                     "--structured", "--sparsity", "0.5", "--compact", "--out", small_path, "--json", NULL);
    g_assert_cmpint (run.status, ==, 0);
    o = pl_test_parse_json (run.out);
    compacted = json_object_get_object_member (o, "compacted");
    g_assert_cmpstr (json_object_get_string_member (compacted, "arch"), ==, "1x6x6-c2k3p1-c3k3p1-m2-8-4");
    g_assert_cmpfloat (json_object_get_double_member (compacted, "test_accuracy"), ==,
                       json_object_get_double_member (o, "test_accuracy"));
    /* 2·9 + 2, 3·2·9 + 3, (3·9)·8 + 8, 8·4 + 4 */
    g_assert_cmpint (json_object_get_int_member (compacted, "parameters"), ==, 20 + 57 + 224 + 36);
    small = pl_conv_net_load (small_path, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (pl_conv_net_n_pruned (small), ==, 0);
    pl_test_run_cli (&eval, cli_path, "eval", "--model", small_path, "--data", spec, "--json", NULL);
    g_assert_cmpint (eval.status, ==, 0);
    e = pl_test_parse_json (eval.out);
    g_assert_cmpstr (json_object_get_string_member (e, "arch"), ==, "1x6x6-c2k3p1-c3k3p1-m2-8-4");
    g_assert_cmpfloat (json_object_get_double_member (e, "test_accuracy"), ==,
                       json_object_get_double_member (o, "test_accuracy"));
    g_assert_cmpfloat (json_object_get_double_member (e, "test_loss"), ==,
                       json_object_get_double_member (compacted, "test_loss"));
    /* the masked network's loss, summed in another order */
    g_assert_cmpfloat_with_epsilon (json_object_get_double_member (e, "test_loss"),
                                    json_object_get_double_member (o, "test_loss"), 1e-6);

    pl_test_run_cli (&refused, cli_path, "prune", "--model", model, "--data", spec, "--score", "magnitude",
                     "--sparsity", "0.5", "--compact", NULL);
    g_assert_cmpint (refused.status, ==, 2);
    g_assert_nonnull (strstr (refused.err, "--structured"));
  }
}

static void
test_bad_arch_is_explained (void)
{
  g_autofree char *train_csv = write_images ("conv-small.csv", 40, 3);
  g_autofree char *spec = g_strdup_printf ("csv:%s,header=no", train_csv);
  g_auto(PlTestRun) r1 = { 0 };
  g_auto(PlTestRun) r2 = { 0 };

  pl_test_run_cli (&r1, cli_path, "train", "--data", spec, "--arch", "1x6x6-c4k3p7-4", NULL);
  g_assert_cmpint (r1.status, ==, 2);
  g_assert_nonnull (strstr (r1.err, "“c4k3p7” pads by 7"));
  /* a spec that parses but does not fit the data's 36 features */
  pl_test_run_cli (&r2, cli_path, "train", "--data", spec, "--arch", "1x28x28-c4k3-4", NULL);
  g_assert_cmpint (r2.status, ==, 2);
  g_assert_nonnull (strstr (r2.err, "does not fit"));
}

/* round(x) with halves to even, as the pruning rule counts */
static gsize
round_even (double x)
{
  return (gsize) nearbyint (x);
}

/* A trained conv net of two conv layers and a dense head, and the data the CLI loads for @spec. */
static char *
train_model (const char *name,
             const char *spec,
             PlData    **data)
{
  g_autofree char *model = g_strdup_printf ("%s/%s.safetensors", pl_test_tmp_dir (), name);
  g_auto(PlTestRun) train = { 0 };
  g_autoptr(GError) error = NULL;
  PlDataOptions options = PL_DATA_OPTIONS_INIT;

  pl_test_run_cli (&train, cli_path, "train", "--data", spec, "--arch", "1x6x6-c4k3p1-c6k3p1-m2-8-4",
                   "--epochs", "3", "--batch", "32", "--lr", "0.05", "--out", model, NULL);
  g_assert_cmpint (train.status, ==, 0);
  *data = pl_data_load (spec, &options, &error);   /* the CLI's default split */
  g_assert_no_error (error);
  return g_steal_pointer (&model);
}

/* sweep on a conv net: every point's accuracy, loss and sparsity are those of the model pruned
 * to its target by the engine's own functions and evaluated; the unstructured counts are
 * round(s·n) of the n weights; the CSV has the MLP sweep's columns. */
static void
test_sweep (void)
{
  g_autofree char *train_csv = write_images ("conv3-train.csv", 400, 7);
  g_autofree char *test_csv = write_images ("conv3-test.csv", 200, 8);
  g_autofree char *spec = g_strdup_printf ("csv:%s,header=no,test=%s", train_csv, test_csv);
  g_autoptr(PlData) data = NULL;
  g_autofree char *model = train_model ("conv3", spec, &data);
  g_autofree char *csv = g_build_filename (pl_test_tmp_dir (), "conv3-sweep.csv", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(PlConvNet) orig = pl_conv_net_load (model, &error);
  g_autofree float *snip = NULL;
  PlScoreOptions options = PL_SCORE_OPTIONS_INIT;
  static const char * const modes[] = { "weights", "structured" };
  gsize n_weights;

  g_assert_no_error (error);
  n_weights = pl_conv_net_n_weights (orig);
  snip = g_new (float, n_weights);
  options.n_batches = 8;
  options.seed = 0;
  g_assert_true (pl_conv_weight_scores (orig, PL_SCORE_SNIP, data->train, &options, snip, &error));
  g_assert_no_error (error);

  for (guint m = 0; m < G_N_ELEMENTS (modes); m++)
    {
      g_auto(PlTestRun) run = { 0 };
      g_autoptr(JsonObject) o = NULL;
      g_autofree char *text = NULL;
      gboolean structured = m == 1;
      JsonArray *points;
      guint n_seen[3] = { 0, 0, 0 };

      if (structured)
        pl_test_run_cli (&run, cli_path, "sweep", "--model", model, "--data", spec, "--structured",
                         "--score", "neuron-l2,fpgm,apoz", "--points", "5", "--json", NULL);
      else
        pl_test_run_cli (&run, cli_path, "sweep", "--model", model, "--data", spec, "--score",
                         "magnitude,snip", "--scope", "layer", "--points", "6", "--csv", csv, "--json", NULL);
      g_assert_cmpint (run.status, ==, 0);
      o = pl_test_parse_json (run.out);
      g_assert_cmpstr (json_object_get_string_member (o, "command"), ==, "sweep");
      points = json_object_get_array_member (o, "points");
      g_assert_cmpuint (json_array_get_length (points), ==, structured ? 15 : 12);
      for (guint k = 0; k < json_array_get_length (points); k++)
        {
          JsonObject *pt = json_array_get_object_element (points, k);
          const char *score = json_object_get_string_member (pt, "score");
          double target = json_object_get_double_member (pt, "target_sparsity");
          g_autoptr(PlConvNet) want = pl_conv_net_copy (orig);
          g_autoptr(PlEvaluation) ev = NULL;
          JsonArray *layers = json_object_get_array_member (pt, "layer_sparsity");
          gsize dead = 0;

          if (strcmp (score, "magnitude") == 0)
            pl_conv_prune_magnitude (want, target, FALSE, FALSE);
          else if (strcmp (score, "snip") == 0)
            pl_conv_prune_scored (want, snip, target, FALSE, FALSE);
          else if (strcmp (score, "neuron-l2") == 0)
            pl_conv_prune_filters_by (want, target, PL_CONV_FILTER_L2);
          else if (strcmp (score, "fpgm") == 0)
            pl_conv_prune_filters_by (want, target, PL_CONV_FILTER_FPGM);
          else
            {
              g_assert_cmpstr (score, ==, "apoz");
              g_assert_cmpint (pl_conv_prune_channels (want, target, PL_CONV_CHANNEL_APOZ, data->train,
                                                       MIN (8 * 256, data->train->n), &error), >=, 0);
              g_assert_no_error (error);
            }
          n_seen[structured ? (score[0] == 'n' ? 0 : score[0] == 'f' ? 1 : 2) : (score[0] == 'm' ? 0 : 1)]++;
          ev = pl_conv_evaluate (want, data->test, &error);
          g_assert_no_error (error);
          g_assert_cmpfloat (json_object_get_double_member (pt, "test_accuracy"), ==, ev->accuracy);
          /* (the loss to float rounding: OpenBLAS may sum in another order on more threads) */
          g_assert_cmpfloat_with_epsilon (json_object_get_double_member (pt, "test_loss"), ev->loss, 1e-6);
          g_assert_cmpfloat (json_object_get_double_member (pt, "sparsity"), ==,
                             (double) pl_conv_net_n_pruned (want) / n_weights);
          for (gsize f = 0; f < want->n_filters; f++)
            dead += want->filter_masks[f] == 0.0f;
          g_assert_cmpfloat (json_object_get_double_member (pt, "structural_sparsity"), ==,
                             (double) dead / want->n_filters);
          /* two conv layers and two dense ones */
          g_assert_cmpuint (json_array_get_length (layers), ==, 4);
          if (!structured)
            {
              /* per layer, round(s·n) of its n weights (one kept at least) */
              static const gsize sizes[] = { 4 * 9, 6 * 4 * 9, 54 * 8, 8 * 4 };

              for (guint i = 0; i < 4; i++)
                g_assert_cmpfloat_with_epsilon (json_array_get_double_element (layers, i),
                                                (double) MIN (round_even (target * sizes[i]), sizes[i] - 1) / sizes[i],
                                                1e-12);
            }
          else
            /* filter pruning: the dense output layer is untouched, conv1 loses round(s·4) of 4
             * filters (one stays), so at least that share of its weights */
            g_assert_cmpfloat (json_array_get_double_element (layers, 3), ==, 0.0);
        }
      for (guint i = 0; i < (structured ? 3u : 2u); i++)
        g_assert_cmpuint (n_seen[i], ==, structured ? 5 : 6);
      if (!structured)
        {
          g_assert_true (g_file_get_contents (csv, &text, NULL, &error));
          g_assert_true (g_str_has_prefix (text, "score,seed,target_sparsity,sparsity,structural_sparsity,test_accuracy,test_loss,layers.0.sparsity,layers.1.sparsity,layers.2.sparsity,layers.3.sparsity\n"));
        }
    }
}

/* sweep --fine-tune-epochs on a conv net: every point is the model pruned to its target, then
 * fine-tuned (masked, the trainer seeded by the sweep's seed) and evaluated — the same as done
 * here with the engine's trainer on one OpenBLAS thread, as the CLI runs it */
static void
test_sweep_fine_tune (void)
{
  g_autofree char *train_csv = write_images ("conv7-train.csv", 300, 15);
  g_autofree char *test_csv = write_images ("conv7-test.csv", 100, 16);
  g_autofree char *spec = g_strdup_printf ("csv:%s,header=no,test=%s", train_csv, test_csv);
  g_autoptr(PlData) data = NULL;
  g_autofree char *model = train_model ("conv7", spec, &data);
  g_autoptr(GError) error = NULL;
  g_autoptr(PlConvNet) orig = pl_conv_net_load (model, &error);
  g_auto(PlTestRun) run = { 0 };
  g_autoptr(JsonObject) o = NULL;
  JsonArray *points;
  gsize n;
  int before = pl_blas_set_threads (1);

  g_assert_no_error (error);
  n = pl_conv_net_n_weights (orig);
  pl_test_run_cli (&run, cli_path, "sweep", "--model", model, "--data", spec, "--score", "magnitude",
                   "--points", "3", "--max", "0.9", "--fine-tune-epochs", "1", "--lr", "0.02",
                   "--batch", "32", "--seeds", "2", "--json", NULL);
  g_assert_cmpint (run.status, ==, 0);
  o = pl_test_parse_json (run.out);
  points = json_object_get_array_member (o, "points");
  g_assert_cmpuint (json_array_get_length (points), ==, 6);
  for (guint k = 0; k < 6; k++)
    {
      JsonObject *pt = json_array_get_object_element (points, k);
      double target = json_object_get_double_member (pt, "target_sparsity");
      g_autoptr(PlConvNet) want = pl_conv_net_copy (orig);
      g_autoptr(PlConvTrainer) trainer = NULL;
      g_autoptr(PlEvaluation) ev = NULL;
      PlTrainConfig config;

      g_assert_cmpint (json_object_get_int_member (pt, "seed"), ==, k / 3);
      pl_conv_prune_magnitude (want, target, TRUE, FALSE);
      pl_train_config_init (&config);
      config.epochs = 1;
      config.batch_size = 32;
      config.lr = 0.02;
      config.seed = k / 3;
      trainer = pl_conv_trainer_new (want, &config);
      g_assert_true (pl_conv_trainer_run (trainer, data->train, data->val, NULL, NULL, NULL, &error));
      ev = pl_conv_evaluate (want, data->test, &error);
      g_assert_no_error (error);
      /* fine-tuning keeps the masks: round(s·n) of the n weights */
      g_assert_cmpfloat_with_epsilon (json_object_get_double_member (pt, "sparsity"),
                                      (double) round_even (target * n) / n, 1e-12);
      g_assert_cmpuint (pl_conv_net_n_pruned (want), ==, round_even (target * n));
      g_assert_cmpfloat (json_object_get_double_member (pt, "test_accuracy"), ==, ev->accuracy);
      g_assert_cmpfloat_with_epsilon (json_object_get_double_member (pt, "test_loss"), ev->loss, 1e-6);
    }
  pl_blas_set_threads (before);
}

/* sensitivity on a conv net: each layer alone at each level; the layer's sparsity is
 * round(s·n)/n (one weight kept), or with a filter score its share of dead filters, the
 * accuracy that of the engine's model pruned so */
static void
test_sensitivity (void)
{
  g_autofree char *train_csv = write_images ("conv4-train.csv", 400, 9);
  g_autofree char *test_csv = write_images ("conv4-test.csv", 200, 10);
  g_autofree char *spec = g_strdup_printf ("csv:%s,header=no,test=%s", train_csv, test_csv);
  g_autoptr(PlData) data = NULL;
  g_autofree char *model = train_model ("conv4", spec, &data);
  g_autoptr(GError) error = NULL;
  g_autoptr(PlConvNet) orig = pl_conv_net_load (model, &error);
  g_auto(PlTestRun) run = { 0 };
  g_auto(PlTestRun) refused = { 0 };
  g_autoptr(JsonObject) o = NULL;
  g_autoptr(PlEvaluation) dense = NULL;
  static const gsize sizes[] = { 4 * 9, 6 * 4 * 9, 54 * 8, 8 * 4 };
  static const guint shape[][2] = { { 9, 4 }, { 36, 6 }, { 54, 8 }, { 8, 4 } };
  JsonArray *layers;

  g_assert_no_error (error);
  pl_test_run_cli (&run, cli_path, "sensitivity", "--model", model, "--data", spec, "--points", "4",
                   "--json", NULL);
  g_assert_cmpint (run.status, ==, 0);
  o = pl_test_parse_json (run.out);
  dense = pl_conv_evaluate (orig, data->test, &error);
  g_assert_no_error (error);
  g_assert_cmpfloat (json_object_get_double_member (o, "dense_test_accuracy"), ==, dense->accuracy);
  layers = json_object_get_array_member (o, "layers");
  g_assert_cmpuint (json_array_get_length (layers), ==, 4);
  for (guint i = 0; i < 4; i++)
    {
      JsonObject *l = json_array_get_object_element (layers, i);
      JsonArray *points = json_object_get_array_member (l, "points");
      g_autofree char *name = g_strdup_printf ("layers.%u", i);

      g_assert_cmpstr (json_object_get_string_member (l, "name"), ==, name);
      g_assert_cmpint (json_object_get_int_member (l, "n_in"), ==, shape[i][0]);
      g_assert_cmpint (json_object_get_int_member (l, "n_out"), ==, shape[i][1]);
      g_assert_cmpuint (json_array_get_length (points), ==, 4);
      for (guint j = 0; j < 4; j++)
        {
          JsonObject *pt = json_array_get_object_element (points, j);
          double level = json_object_get_double_member (pt, "target_sparsity");
          g_autoptr(PlConvNet) want = pl_conv_net_copy (orig);
          g_autoptr(PlEvaluation) ev = NULL;

          pl_conv_prune_scored_layer (want, NULL, i, level, FALSE);
          g_assert_cmpuint (pl_conv_net_n_pruned (want), ==, MIN (round_even (level * sizes[i]), sizes[i] - 1));
          ev = pl_conv_evaluate (want, data->test, &error);
          g_assert_no_error (error);
          g_assert_cmpfloat_with_epsilon (json_object_get_double_member (pt, "sparsity"),
                                          (double) MIN (round_even (level * sizes[i]), sizes[i] - 1) / sizes[i],
                                          1e-12);
          g_assert_cmpfloat (json_object_get_double_member (pt, "test_accuracy"), ==, ev->accuracy);
          /* (the loss to float rounding: OpenBLAS may sum in another order on more threads) */
          g_assert_cmpfloat_with_epsilon (json_object_get_double_member (pt, "test_loss"), ev->loss, 1e-6);
        }
    }

  /* filters: each conv layer alone loses min(round(s·c), c − 1) of its c filters */
  {
    g_auto(PlTestRun) filters = { 0 };
    g_autoptr(JsonObject) f = NULL;
    static const guint conv_index[] = { 0, 1 }, n_filters[] = { 4, 6 };

    pl_test_run_cli (&filters, cli_path, "sensitivity", "--model", model, "--data", spec, "--score",
                     "neuron-l1", "--points", "3", "--json", NULL);
    g_assert_cmpint (filters.status, ==, 0);
    f = pl_test_parse_json (filters.out);
    g_assert_true (json_object_get_boolean_member (f, "structured"));
    layers = json_object_get_array_member (f, "layers");
    g_assert_cmpuint (json_array_get_length (layers), ==, 2);
    for (guint i = 0; i < 2; i++)
      {
        JsonArray *points = json_object_get_array_member (json_array_get_object_element (layers, i), "points");

        g_assert_cmpuint (json_array_get_length (points), ==, 3);
        for (guint j = 0; j < 3; j++)
          {
            JsonObject *pt = json_array_get_object_element (points, j);
            double level = json_object_get_double_member (pt, "target_sparsity");
            g_autoptr(PlConvNet) want = pl_conv_net_copy (orig);
            g_autoptr(PlEvaluation) ev = NULL;
            guint c = n_filters[i];

            g_assert_cmpuint (pl_conv_prune_filters_layer (want, conv_index[i], level, PL_CONV_FILTER_L1), ==,
                              MIN (round_even (level * c), c - 1));
            ev = pl_conv_evaluate (want, data->test, &error);
            g_assert_no_error (error);
            g_assert_cmpfloat (json_object_get_double_member (pt, "sparsity"), ==,
                               (double) MIN (round_even (level * c), c - 1) / c);
            g_assert_cmpfloat (json_object_get_double_member (pt, "test_accuracy"), ==, ev->accuracy);
          }
      }
  }

  pl_test_run_cli (&refused, cli_path, "sensitivity", "--model", model, "--data", spec, "--score",
                   "apoz", NULL);
  g_assert_cmpint (refused.status, ==, 2);
  g_assert_nonnull (strstr (refused.err, "sensitivity prunes a convolutional network’s weights by"));
}

/* schedule on a conv net: one-shot and iterative reach their targets (round(s·n) of every
 * weight, the iterative rounds at 1 − (1 − s)^{k/K}), the saved last model is the last point;
 * the methods not defined for conv nets are refused by name */
static void
test_schedule (void)
{
  g_autofree char *train_csv = write_images ("conv5-train.csv", 400, 11);
  g_autofree char *test_csv = write_images ("conv5-test.csv", 200, 12);
  g_autofree char *spec = g_strdup_printf ("csv:%s,header=no,test=%s", train_csv, test_csv);
  g_autoptr(PlData) data = NULL;
  g_autofree char *model = train_model ("conv5", spec, &data);
  g_autofree char *out = g_build_filename (pl_test_tmp_dir (), "conv5-last.safetensors", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(PlConvNet) orig = pl_conv_net_load (model, &error);
  g_autoptr(PlConvNet) last = NULL;
  g_autoptr(PlEvaluation) ev = NULL;
  g_auto(PlTestRun) run = { 0 };
  g_auto(PlTestRun) refused = { 0 };
  g_autoptr(JsonObject) o = NULL;
  JsonArray *points;
  JsonObject *final;
  gsize n;

  g_assert_no_error (error);
  n = pl_conv_net_n_weights (orig);
  pl_test_run_cli (&run, cli_path, "schedule", "--model", model, "--data", spec, "--method",
                   "oneshot,iterative", "--sparsity", "0.5,0.8", "--rounds", "3", "--round-epochs", "1",
                   "--fine-tune-epochs", "1", "--lr", "0.02", "--batch", "32", "--out", out, "--json", NULL);
  g_assert_cmpint (run.status, ==, 0);
  o = pl_test_parse_json (run.out);
  points = json_object_get_array_member (o, "points");
  g_assert_cmpuint (json_array_get_length (points), ==, 3 + 4);
  for (guint k = 0; k < json_array_get_length (points); k++)
    {
      JsonObject *pt = json_array_get_object_element (points, k);
      const char *method = json_object_get_string_member (pt, "method");
      guint level = (guint) json_object_get_int_member (pt, "level");
      double target = level == 0 ? 0.0
                      : strcmp (method, "oneshot") == 0 ? (level == 1 ? 0.5 : 0.8)
                      : 1.0 - pow (0.2, level / 3.0);

      g_assert_cmpfloat_with_epsilon (json_object_get_double_member (pt, "sparsity"),
                                      (double) round_even (target * n) / n, 1e-12);
      g_assert_cmpuint (json_array_get_length (json_object_get_array_member (pt, "layer_sparsity")), ==, 4);
    }
  final = json_array_get_object_element (points, json_array_get_length (points) - 1);
  g_assert_cmpstr (json_object_get_string_member (final, "method"), ==, "iterative");
  last = pl_conv_net_load (out, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (pl_conv_net_n_pruned (last), ==, round_even (0.8 * n));
  ev = pl_conv_evaluate (last, data->test, &error);
  g_assert_no_error (error);
  g_assert_cmpfloat (json_object_get_double_member (final, "test_accuracy"), ==, ev->accuracy);

  pl_test_run_cli (&refused, cli_path, "schedule", "--model", model, "--data", spec, "--method",
                   "oneshot,gradual", NULL);
  g_assert_cmpint (refused.status, ==, 2);
  g_assert_nonnull (strstr (refused.err, "--method gradual does not take a convolutional network: it runs oneshot and iterative"));
}

/* plot on a conv net: the charts of its layers are drawn, those of an MLP's structure refused */
static void
test_plot (void)
{
  g_autofree char *train_csv = write_images ("conv6-train.csv", 200, 13);
  g_autofree char *test_csv = write_images ("conv6-test.csv", 100, 14);
  g_autofree char *spec = g_strdup_printf ("csv:%s,header=no,test=%s", train_csv, test_csv);
  g_autoptr(PlData) data = NULL;
  g_autofree char *model = train_model ("conv6", spec, &data);
  static const char * const kinds[] = { "heatmap", "histogram", "sparsity", "confusion" };
  g_auto(PlTestRun) refused = { 0 };
  g_autofree char *png = g_build_filename (pl_test_tmp_dir (), "conv6.png", NULL);

  for (guint k = 0; k < G_N_ELEMENTS (kinds); k++)
    {
      g_auto(PlTestRun) run = { 0 };

      g_remove (png);
      pl_test_run_cli (&run, cli_path, "plot", kinds[k], "--input", model, "--data", spec,
                       "--layer", "1", "--out", png, NULL);
      g_assert_cmpint (run.status, ==, 0);
      g_assert_true (g_file_test (png, G_FILE_TEST_EXISTS));
    }
  /* the curves of a conv net's sweep and sensitivity results */
  {
    static const char * const commands[] = { "sweep", "sensitivity" };
    static const char * const charts[] = { "curves", "sensitivity" };

    for (guint k = 0; k < G_N_ELEMENTS (commands); k++)
      {
        g_auto(PlTestRun) run = { 0 };
        g_auto(PlTestRun) chart = { 0 };
        g_autofree char *name = g_strdup_printf ("conv6-%s.json", commands[k]);
        g_autofree char *json = NULL;

        pl_test_run_cli (&run, cli_path, commands[k], "--model", model, "--data", spec, "--score",
                         "magnitude", "--points", "3", "--json", NULL);
        g_assert_cmpint (run.status, ==, 0);
        json = pl_test_write_text (name, run.out);
        g_remove (png);
        pl_test_run_cli (&chart, cli_path, "plot", charts[k], "--input", json, "--out", png, NULL);
        g_assert_cmpint (chart.status, ==, 0);
        g_assert_true (g_file_test (png, G_FILE_TEST_EXISTS));
      }
  }
  pl_test_run_cli (&refused, cli_path, "plot", "fields", "--input", model, "--out", png, NULL);
  g_assert_cmpint (refused.status, !=, 0);
  g_assert_nonnull (strstr (refused.err, "is a convolutional network; this chart draws an MLP"));
}

static GPtrArray *
read_csv (const char *path)
{
  g_autofree char *text = NULL;
  g_auto(GStrv) lines = NULL;
  GPtrArray *rows = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);

  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    if (*lines[i] != '\0')
      g_ptr_array_add (rows, g_strsplit (lines[i], ",", -1));
  return rows;
}

static double
cell (GPtrArray *rows,
      guint      row,
      guint      col)
{
  return g_ascii_strtod (((char **) g_ptr_array_index (rows, row))[col], NULL);
}

/* Checks the first bytes of a chart file of @format (png, svg or pdf). */
static void
check_chart_file (const char *path,
                  const char *format)
{
  g_autofree char *bytes = NULL;
  gsize size = 0;

  g_assert_true (g_file_get_contents (path, &bytes, &size, NULL));
  g_assert_cmpuint (size, >, 100);
  if (strcmp (format, "png") == 0)
    g_assert_cmpmem (bytes, 8, "\x89PNG\r\n\x1a\n", 8);
  else if (strcmp (format, "svg") == 0)
    g_assert_nonnull (strstr (bytes, "<svg"));
  else
    g_assert_cmpmem (bytes, 5, "%PDF-", 5);
}

/* plot filters, feature-maps and network on a conv net with a dead filter: valid PNG, SVG and
 * PDF; the filters' CSV holds the saved weights and masks; the feature maps' CSV holds what the
 * plain-loop reference (pl_conv_layer_forward_ref, a max by hand for the pool) computes for
 * that test image; an MLP is refused with a message that says why. */
static void
test_plot_conv_charts (void)
{
  g_autofree char *train_csv = write_images ("conv7-train.csv", 200, 15);
  g_autofree char *test_csv = write_images ("conv7-test.csv", 50, 16);
  g_autofree char *spec = g_strdup_printf ("csv:%s,header=no,test=%s", train_csv, test_csv);
  g_autoptr(PlData) data = NULL;
  g_autofree char *model = train_model ("conv7", spec, &data);
  g_autofree char *pruned = g_build_filename (pl_test_tmp_dir (), "conv7-pruned.safetensors", NULL);
  g_autofree char *mlp = g_build_filename (pl_test_tmp_dir (), "conv7-mlp.safetensors", NULL);
  g_autofree char *csv = g_build_filename (pl_test_tmp_dir (), "conv7.csv", NULL);
  static const char * const kinds[] = { "filters", "feature-maps", "network" };
  static const char * const formats[] = { "png", "svg", "pdf" };
  g_autoptr(PlConvNet) net = NULL;
  g_autoptr(GError) error = NULL;
  guint n_dead = 0;

  {
    g_auto(PlTestRun) run = { 0 };

    pl_test_run_cli (&run, cli_path, "prune", "--model", model, "--data", spec, "--score", "neuron-l1",
                     "--structured", "--sparsity", "0.5", "--out", pruned, NULL);
    g_assert_cmpint (run.status, ==, 0);
  }
  net = pl_conv_net_load (pruned, &error);
  g_assert_no_error (error);
  for (gsize i = 0; i < net->n_filters; i++)
    n_dead += net->filter_masks[i] == 0;
  g_assert_cmpuint (n_dead, >, 0);

  for (guint k = 0; k < G_N_ELEMENTS (kinds); k++)
    for (guint f = 0; f < G_N_ELEMENTS (formats); f++)
      {
        g_auto(PlTestRun) run = { 0 };
        g_autofree char *out = g_strdup_printf ("%s/conv7-%s.%s", pl_test_tmp_dir (), kinds[k], formats[f]);

        g_remove (out);
        pl_test_run_cli (&run, cli_path, "plot", kinds[k], "--input", pruned, "--data", spec, "--image", "3",
                         "--out", out, NULL);
        g_assert_cmpint (run.status, ==, 0);
        check_chart_file (out, formats[f]);
      }

  /* filters: every weight of both conv layers, as saved */
  {
    g_auto(PlTestRun) run = { 0 };
    g_autoptr(GPtrArray) rows = NULL;
    guint r = 1;

    pl_test_run_cli (&run, cli_path, "plot", "filters", "--input", pruned, "--csv", csv, NULL);
    g_assert_cmpint (run.status, ==, 0);
    rows = read_csv (csv);
    g_assert_cmpuint (rows->len, ==, 1 + 4 * 1 * 9 + 6 * 4 * 9);
    for (guint l = 0, conv = 0; l < net->n_layers; l++)
      {
        const PlConvLayer *L = &net->layers[l];

        if (L->kind != PL_CONV_LAYER_CONV)
          continue;
        for (gsize i = 0; i < (gsize) L->c_out * L->c_in * L->k * L->k; i++, r++)
          {
            guint filter = (guint) (i / ((gsize) L->c_in * L->k * L->k));

            g_assert_cmpfloat (cell (rows, r, 0), ==, conv);
            g_assert_cmpfloat (cell (rows, r, 1), ==, filter);
            g_assert_cmpfloat ((float) cell (rows, r, 5), ==, L->w[i]);
            g_assert_cmpfloat (cell (rows, r, 6), ==, L->w_mask[i] == 0);
            g_assert_cmpfloat (cell (rows, r, 7), ==, L->filter_mask[filter] == 0);
          }
        conv++;
      }
  }
  /* --layer 1: the second conv layer only */
  {
    g_auto(PlTestRun) run = { 0 };
    g_auto(PlTestRun) bad = { 0 };
    g_autoptr(GPtrArray) rows = NULL;

    /* --model: the name the other commands give the model */
    pl_test_run_cli (&run, cli_path, "plot", "filters", "--model", pruned, "--layer", "1", "--csv", csv, NULL);
    g_assert_cmpint (run.status, ==, 0);
    rows = read_csv (csv);
    g_assert_cmpuint (rows->len, ==, 1 + 6 * 4 * 9);
    pl_test_run_cli (&bad, cli_path, "plot", "filters", "--input", pruned, "--layer", "2", "--csv", csv, NULL);
    g_assert_cmpint (bad.status, !=, 0);
    g_assert_nonnull (strstr (bad.err, "conv layers 0 to 1"));
  }

  /* feature maps of test image 3 against the plain loops */
  {
    g_auto(PlTestRun) run = { 0 };
    g_autoptr(GPtrArray) rows = NULL;
    double in[36], a0[4 * 36], a1[6 * 36], pool[6 * 9];
    const float *x = data->test->x + 3 * 36;
    guint r = 1;

    pl_test_run_cli (&run, cli_path, "plot", "feature-maps", "--input", pruned, "--data", spec, "--image", "3",
                     "--csv", csv, NULL);
    g_assert_cmpint (run.status, ==, 0);
    rows = read_csv (csv);
    g_assert_cmpuint (rows->len, ==, 1 + 36 + 4 * 36 + 6 * 36 + 6 * 9);
    for (guint t = 0; t < 36; t++)
      in[t] = x[t];
    pl_conv_layer_forward_ref (net, 0, in, a0);
    pl_conv_layer_forward_ref (net, 1, a0, a1);
    for (guint c = 0; c < 6; c++)
      for (guint oy = 0; oy < 3; oy++)
        for (guint ox = 0; ox < 3; ox++)
          {
            double m = -INFINITY;

            for (guint ky = 0; ky < 2; ky++)
              for (guint kx = 0; kx < 2; kx++)
                m = MAX (m, a1[c * 36 + (oy * 2 + ky) * 6 + ox * 2 + kx]);
            pool[c * 9 + oy * 3 + ox] = m;
          }
    for (guint t = 0; t < 36; t++, r++)
      {
        g_assert_cmpfloat (cell (rows, r, 0), ==, 0);
        g_assert_cmpfloat ((float) cell (rows, r, 4), ==, x[t]);
      }
    for (guint t = 0; t < 4 * 36; t++, r++)
      {
        g_assert_cmpfloat (cell (rows, r, 0), ==, 1);
        g_assert_cmpfloat_with_epsilon (cell (rows, r, 4), a0[t], 1e-4);
      }
    for (guint t = 0; t < 6 * 36; t++, r++)
      {
        g_assert_cmpfloat (cell (rows, r, 0), ==, 2);
        g_assert_cmpfloat_with_epsilon (cell (rows, r, 4), a1[t], 1e-4);
      }
    for (guint t = 0; t < 6 * 9; t++, r++)
      {
        g_assert_cmpfloat (cell (rows, r, 0), ==, 3);
        g_assert_cmpfloat_with_epsilon (cell (rows, r, 4), pool[t], 1e-4);
      }
  }

  /* network: one "channel" row per channel of the input and the three stages, dead filters dead */
  {
    g_auto(PlTestRun) run = { 0 };
    g_autoptr(GPtrArray) rows = NULL;
    guint n_channels = 0, n_dead_rows = 0;

    pl_test_run_cli (&run, cli_path, "plot", "network", "--input", pruned, "--csv", csv, NULL);
    g_assert_cmpint (run.status, ==, 0);
    rows = read_csv (csv);
    for (guint i = 1; i < rows->len; i++)
      if (strcmp (((char **) g_ptr_array_index (rows, i))[0], "channel") == 0)
        {
          n_channels++;
          n_dead_rows += cell (rows, i, 5) == 1;
        }
    g_assert_cmpuint (n_channels, ==, 1 + 4 + 6 + 6);
    /* a conv layer's dead filters, and the pool after the last conv repeats its dead channels */
    {
      guint want = 0;

      for (guint c = 0; c < 4; c++)
        want += net->layers[0].filter_mask[c] == 0;
      for (guint c = 0; c < 6; c++)
        want += 2 * (net->layers[1].filter_mask[c] == 0);
      g_assert_cmpuint (n_dead_rows, ==, want);
    }
  }

  /* an MLP and a missing --data are refused, saying why */
  {
    g_auto(PlTestRun) train = { 0 };
    g_auto(PlTestRun) filters = { 0 };
    g_auto(PlTestRun) maps = { 0 };
    g_auto(PlTestRun) no_data = { 0 };

    pl_test_run_cli (&train, cli_path, "train", "--data", spec, "--arch", "36-8-4", "--epochs", "1", "--out", mlp, NULL);
    g_assert_cmpint (train.status, ==, 0);
    pl_test_run_cli (&filters, cli_path, "plot", "filters", "--input", mlp, "--csv", csv, NULL);
    g_assert_cmpint (filters.status, !=, 0);
    g_assert_nonnull (strstr (filters.err, "needs a convolutional network"));
    pl_test_run_cli (&maps, cli_path, "plot", "feature-maps", "--input", mlp, "--data", spec, "--csv", csv, NULL);
    g_assert_cmpint (maps.status, !=, 0);
    g_assert_nonnull (strstr (maps.err, "needs a convolutional network"));
    pl_test_run_cli (&no_data, cli_path, "plot", "feature-maps", "--input", pruned, "--csv", csv, NULL);
    g_assert_cmpint (no_data.status, !=, 0);
    g_assert_nonnull (strstr (no_data.err, "--data"));
  }
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  cli_path = g_getenv ("PRUNELAB_CLI");
  if (cli_path == NULL)
    {
      g_printerr ("PRUNELAB_CLI must name the prunelab-cli binary\n");
      return 1;
    }

  g_test_add_func ("/cli/conv/train-and-eval", test_train_and_eval);
  g_test_add_func ("/cli/conv/lenet5-learns-built-in-shapes", test_lenet5_on_shapes);
  g_test_add_func ("/cli/conv/bench-train-counts-flops", test_bench_train_lenet5);
  g_test_add_func ("/cli/conv/bench-sparse-as-pruned-and-compacted", test_bench_sparse_conv);
  g_test_add_func ("/cli/conv/channel-scores-and-compact", test_channel_scores_and_compact);
  g_test_add_func ("/cli/conv/bad-arch-is-explained", test_bad_arch_is_explained);
  g_test_add_func ("/cli/conv/sweep", test_sweep);
  g_test_add_func ("/cli/conv/sweep-fine-tune", test_sweep_fine_tune);
  g_test_add_func ("/cli/conv/sensitivity", test_sensitivity);
  g_test_add_func ("/cli/conv/schedule", test_schedule);
  g_test_add_func ("/cli/conv/plot", test_plot);
  g_test_add_func ("/cli/conv/plot-filters-feature-maps-network", test_plot_conv_charts);
  return pl_test_run ();
}
