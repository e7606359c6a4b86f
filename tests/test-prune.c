/* Selection: hand-made scores with known masks for every scope and switch, exact counts,
 * agreement with a sorted reference, structured pruning against the compacted network, and
 * the masks of torch.nn.utils.prune on the same weights. */
#include "config.h"

#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#include "pl-error.h"
#include "pl-nn.h"
#include "pl-prune.h"
#include "pl-rng.h"
#include "pl-safetensors.h"
#include "pl-score.h"

/* ---- helpers ----------------------------------------------------------------------------- */

static PlMlp *
model_new (const char   *arch,
           PlActivation  activation,
           guint64       seed)
{
  g_autoptr(GError) error = NULL;
  PlMlp *m = pl_mlp_new_from_arch (arch, activation, &error);

  g_assert_no_error (error);
  pl_mlp_init (m, seed);

  return m;
}

/* Scores of @kind's shape with the given values: layer by layer, in order. */
static PlScores *
scores_with (const PlMlp *m,
             PlScoreKind  kind,
             const float *values)
{
  g_autoptr(GError) error = NULL;
  PlScores *s = pl_scores_compute (m, kind, NULL, NULL, &error);

  g_assert_no_error (error);
  if (values != NULL)
    for (guint i = 0, off = 0; i < m->n_layers; off += s->n[i], i++)
      if (s->n[i] > 0)
        memcpy (s->layer[i], values + off, sizeof (float) * s->n[i]);

  return s;
}

static void
apply_ok (PlMlp             *m,
          const PlScores    *s,
          const PlPruneSpec *spec)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (pl_prune_apply (m, s, spec, &error));
  g_assert_no_error (error);
}

static void
assert_layer_mask (const PlMlp *m,
                   guint        i,
                   const float *expected)
{
  const PlLayer *l = &m->layers[i];

  for (gsize k = 0; k < (gsize) l->n_out * l->n_in; k++)
    {
      if (l->w_mask[k] != expected[k])
        g_test_message ("layer %u weight %" G_GSIZE_FORMAT ": mask %g, expected %g",
                        i, k, l->w_mask[k], expected[k]);
      g_assert_cmpfloat (l->w_mask[k], ==, expected[k]);
      if (expected[k] == 0.0f)
        g_assert_cmpfloat (l->w[k], ==, 0.0f);
    }
  for (guint o = 0; o < l->n_out; o++)
    g_assert_cmpfloat (l->w_mask[(gsize) l->n_out * l->n_in + o], ==, 1.0f);  /* bias */
}

static gsize
layer_pruned (const PlMlp *m,
              guint        i)
{
  const PlLayer *l = &m->layers[i];
  gsize n = 0;

  for (gsize k = 0; k < (gsize) l->n_out * l->n_in; k++)
    n += l->w_mask[k] == 0.0f;

  return n;
}

static PlPruneSpec
spec_of (PlScope  scope,
         gboolean by_threshold,
         double   value)
{
  PlPruneSpec spec;

  pl_prune_spec_init (&spec, scope, by_threshold, value);

  return spec;
}

/* ---- the hand-made example --------------------------------------------------------------- */

/* 2-2-2, weight scores L0 = [0.4, 0.1, 0.3, 0.2], L1 = [0.5, 0.1, 0.6, 0.05]. Each layer's
 * reserve (kept so that it is not emptied) is its best: L0[0] and L1[2]. */
static const float hand_scores[] = { 0.4f, 0.1f, 0.3f, 0.2f, 0.5f, 0.1f, 0.6f, 0.05f };

static void
check_hand (PlPruneSpec *spec,
            const float *mask0,
            const float *mask1)
{
  g_autoptr(PlMlp) m = model_new ("2-2-2", PL_ACTIVATION_RELU, 1);
  g_autoptr(PlScores) s = scores_with (m, PL_SCORE_MAGNITUDE, hand_scores);

  apply_ok (m, s, spec);
  assert_layer_mask (m, 0, mask0);
  assert_layer_mask (m, 1, mask1);
}

static void
test_global_hand (void)
{
  PlPruneSpec spec;

  /* 4 of 8: 0.05 (L1[3]), 0.1 (L0[1]), 0.1 (L1[1]), 0.2 (L0[3]) */
  spec = spec_of (PL_SCOPE_GLOBAL, FALSE, 0.5);
  check_hand (&spec, (float[]) { 1, 0, 1, 0 }, (float[]) { 1, 0, 1, 0 });
  /* 2 of 8: the tie at 0.1 goes to the lower position, L0[1] */
  spec = spec_of (PL_SCOPE_GLOBAL, FALSE, 0.25);
  check_hand (&spec, (float[]) { 1, 0, 1, 1 }, (float[]) { 1, 1, 1, 0 });
  spec = spec_of (PL_SCOPE_GLOBAL, FALSE, 0.0);
  check_hand (&spec, (float[]) { 1, 1, 1, 1 }, (float[]) { 1, 1, 1, 1 });
}

static void
test_layer_hand (void)
{
  g_autoptr(GError) error = NULL;
  PlPruneSpec spec = spec_of (PL_SCOPE_LAYER, FALSE, 0.0);

  /* one value for every layer: 2 of 4 in each */
  spec.values[0] = 0.5;
  check_hand (&spec, (float[]) { 1, 0, 1, 0 }, (float[]) { 1, 0, 1, 0 });
  /* a list: 2 of L0, 1 of L1 */
  g_assert_true (pl_prune_spec_parse_values (&spec, "0.5, 0.25", 2, &error));
  g_assert_no_error (error);
  check_hand (&spec, (float[]) { 1, 0, 1, 0 }, (float[]) { 1, 1, 1, 0 });
}

static void
test_threshold_hand (void)
{
  PlPruneSpec spec = spec_of (PL_SCOPE_GLOBAL, TRUE, 0.25);

  /* every score < 0.25 */
  check_hand (&spec, (float[]) { 1, 0, 1, 0 }, (float[]) { 1, 0, 1, 0 });
  /* < 0.1 is strict: the two 0.1 stay */
  spec.values[0] = 0.1;
  check_hand (&spec, (float[]) { 1, 1, 1, 1 }, (float[]) { 1, 1, 1, 0 });
  /* per layer, one threshold each */
  spec = spec_of (PL_SCOPE_LAYER, TRUE, 0.0);
  spec.values[0] = 0.35;
  spec.values[1] = 0.2;
  spec.n_values = 2;
  check_hand (&spec, (float[]) { 1, 0, 0, 0 }, (float[]) { 1, 0, 1, 0 });
}

static void
test_invert_hand (void)
{
  PlPruneSpec spec = spec_of (PL_SCOPE_GLOBAL, FALSE, 0.25);

  /* the highest first, 0.6 (L1[2]) and 0.5 (L1[0]); the reserves are now each layer's
   * lowest, L0[1] and L1[3] */
  spec.invert = TRUE;
  check_hand (&spec, (float[]) { 1, 1, 1, 1 }, (float[]) { 0, 1, 0, 1 });
  /* everything but the reserves */
  spec.values[0] = 1.0;
  check_hand (&spec, (float[]) { 0, 1, 0, 0 }, (float[]) { 0, 0, 0, 1 });
  /* a threshold prunes the scores > t */
  spec = spec_of (PL_SCOPE_GLOBAL, TRUE, 0.35);
  spec.invert = TRUE;
  check_hand (&spec, (float[]) { 0, 1, 1, 1 }, (float[]) { 0, 1, 0, 1 });
}

static void
test_ties_lowest_position_first (void)
{
  static const float equal[8] = { 1, 1, 1, 1, 1, 1, 1, 1 };
  g_autoptr(PlMlp) m = model_new ("2-2-2", PL_ACTIVATION_RELU, 1);
  g_autoptr(PlScores) s = scores_with (m, PL_SCORE_MAGNITUDE, equal);
  PlPruneSpec spec = spec_of (PL_SCOPE_GLOBAL, FALSE, 0.5);

  /* reserves: among equals, the last position of each layer (the one that would go last) */
  apply_ok (m, s, &spec);
  assert_layer_mask (m, 0, (float[]) { 0, 0, 0, 1 });
  assert_layer_mask (m, 1, (float[]) { 0, 1, 1, 1 });
}

/* A NaN score (a broken criterion) goes last, with or without invert, and never falls under
 * a threshold: L0 = [NaN, 0.1, 0.3, 0.2], L1 as in hand_scores. */
static void
test_nan_goes_last (void)
{
  float values[8];
  PlPruneSpec spec;

  memcpy (values, hand_scores, sizeof values);
  values[0] = NAN;
  for (guint k = 0; k < 4; k++)
    {
      g_autoptr(PlMlp) m = model_new ("2-2-2", PL_ACTIVATION_RELU, 1);
      g_autoptr(PlScores) s = scores_with (m, PL_SCORE_MAGNITUDE, values);
      static const float expected1[4][4] = {
        { 0, 0, 1, 0 },  /* 6 of 8, lowest first: 0.6 and NaN stay */
        { 0, 0, 0, 1 },  /* 6 of 8, highest first: 0.05 and NaN stay */
        { 0, 0, 0, 0 },  /* every score < +∞ */
        { 0, 0, 0, 0 },  /* every score > −∞ */
      };

      spec = spec_of (PL_SCOPE_GLOBAL, k >= 2, k < 2 ? 0.75 : k == 2 ? INFINITY : -INFINITY);
      spec.invert = k % 2;
      spec.allow_empty = TRUE;
      apply_ok (m, s, &spec);
      assert_layer_mask (m, 0, (float[]) { 1, 0, 0, 0 });
      assert_layer_mask (m, 1, expected1[k]);
    }
}

static void
test_no_layer_emptied (void)
{
  PlPruneSpec spec = spec_of (PL_SCOPE_GLOBAL, FALSE, 1.0);

  /* each layer keeps its best weight */
  check_hand (&spec, (float[]) { 1, 0, 0, 0 }, (float[]) { 0, 0, 1, 0 });
  spec = spec_of (PL_SCOPE_GLOBAL, TRUE, INFINITY);
  check_hand (&spec, (float[]) { 1, 0, 0, 0 }, (float[]) { 0, 0, 1, 0 });
  spec = spec_of (PL_SCOPE_LAYER, FALSE, 1.0);
  check_hand (&spec, (float[]) { 1, 0, 0, 0 }, (float[]) { 0, 0, 1, 0 });

  /* unless asked */
  spec = spec_of (PL_SCOPE_GLOBAL, FALSE, 1.0);
  spec.allow_empty = TRUE;
  check_hand (&spec, (float[]) { 0, 0, 0, 0 }, (float[]) { 0, 0, 0, 0 });
  spec = spec_of (PL_SCOPE_GLOBAL, TRUE, INFINITY);
  spec.allow_empty = TRUE;
  check_hand (&spec, (float[]) { 0, 0, 0, 0 }, (float[]) { 0, 0, 0, 0 });
}

static void
test_exclude_output (void)
{
  PlPruneSpec spec = spec_of (PL_SCOPE_GLOBAL, FALSE, 0.5);

  /* n = 4 weights in scope (layer 0 only): 2 pruned */
  spec.exclude_output = TRUE;
  check_hand (&spec, (float[]) { 1, 0, 1, 0 }, (float[]) { 1, 1, 1, 1 });
  spec = spec_of (PL_SCOPE_GLOBAL, TRUE, 1.0);
  spec.exclude_output = TRUE;
  check_hand (&spec, (float[]) { 1, 0, 0, 0 }, (float[]) { 1, 1, 1, 1 });
}

static void
test_masks_compose (void)
{
  g_autoptr(PlMlp) m = model_new ("2-2-2", PL_ACTIVATION_RELU, 1);
  g_autoptr(PlScores) s = NULL;
  float high[8];
  PlPruneSpec spec;

  /* L0[0] is pruned already; new scores call it the most important */
  memcpy (high, hand_scores, sizeof high);
  high[0] = 100.0f;
  s = scores_with (m, PL_SCORE_MAGNITUDE, high);
  m->layers[0].w_mask[0] = 0.0f;
  pl_mlp_apply_masks (m);

  /* target 1 of 8: reached already, nothing changes */
  spec = spec_of (PL_SCOPE_GLOBAL, FALSE, 0.125);
  apply_ok (m, s, &spec);
  assert_layer_mask (m, 0, (float[]) { 0, 1, 1, 1 });
  assert_layer_mask (m, 1, (float[]) { 1, 1, 1, 1 });

  /* target 3 of 8: two more, the lowest (L1[3] 0.05, L0[1] 0.1); L0[0] stays pruned and the
   * reserve of layer 0 is now L0[2] (0.3) */
  spec.values[0] = 0.375;
  apply_ok (m, s, &spec);
  assert_layer_mask (m, 0, (float[]) { 0, 0, 1, 1 });
  assert_layer_mask (m, 1, (float[]) { 1, 1, 1, 0 });

  /* a threshold below every score adds nothing and revives nothing */
  spec = spec_of (PL_SCOPE_GLOBAL, TRUE, 0.0);
  apply_ok (m, s, &spec);
  assert_layer_mask (m, 0, (float[]) { 0, 0, 1, 1 });
  assert_layer_mask (m, 1, (float[]) { 1, 1, 1, 0 });
}

/* Pruning a pruned model with unrelated scores only adds zeros, on a bigger random net. */
static void
test_masks_compose_random (void)
{
  g_autoptr(PlMlp) m = model_new ("20-30-10", PL_ACTIVATION_RELU, 3);
  g_autoptr(PlScores) a = NULL;
  g_autoptr(PlScores) b = NULL;
  g_autofree float *before = NULL;
  PlPruneSpec spec = spec_of (PL_SCOPE_GLOBAL, FALSE, 0.5);
  PlScoreOptions options = PL_SCORE_OPTIONS_INIT;
  gsize n_before;

  a = scores_with (m, PL_SCORE_MAGNITUDE, NULL);
  apply_ok (m, a, &spec);
  before = g_memdup2 (m->masks, sizeof (float) * m->n_params);
  n_before = pl_mlp_n_pruned (m);
  g_assert_cmpuint (n_before, ==, 450);

  options.seed = 5;
  b = pl_scores_compute (m, PL_SCORE_RANDOM, NULL, &options, NULL);
  spec.values[0] = 0.7;
  apply_ok (m, b, &spec);
  g_assert_cmpuint (pl_mlp_n_pruned (m), ==, 630);
  for (gsize k = 0; k < m->n_params; k++)
    if (before[k] == 0.0f)
      g_assert_cmpfloat (m->masks[k], ==, 0.0f);
}

/* ---- exact counts and a sorted reference ------------------------------------------------- */

static void
random_scores (PlScores *s,
               guint64   seed,
               guint     levels)
{
  PlRng rng;

  pl_rng_init (&rng, seed);
  for (guint i = 0; i < s->n_layers; i++)
    for (gsize k = 0; k < s->n[i]; k++)
      s->layer[i][k] = levels ? (float) pl_rng_below (&rng, levels) - 0.5f * levels
                              : (float) pl_rng_normal (&rng);
}

static void
test_exact_counts (void)
{
  static const char *archs[] = { "3-5-2", "10-20-30-4", "7-1-3", "9-1" };
  static const double amounts[] = { 0, 0.01, 0.1, 0.2, 0.25, 0.37, 0.5, 0.75, 0.9, 0.99, 1 };

  for (guint a = 0; a < G_N_ELEMENTS (archs); a++)
    for (guint v = 0; v < G_N_ELEMENTS (amounts); v++)
      for (int scope = PL_SCOPE_GLOBAL; scope <= PL_SCOPE_LAYER; scope++)
        for (int allow_empty = 0; allow_empty <= 1; allow_empty++)
          {
            g_autoptr(PlMlp) m = model_new (archs[a], PL_ACTIVATION_RELU, a);
            g_autoptr(PlScores) s = scores_with (m, PL_SCORE_MAGNITUDE, NULL);
            PlPruneSpec spec = spec_of (scope, FALSE, amounts[v]);
            gsize n = pl_mlp_n_weights (m);

            spec.allow_empty = allow_empty;
            random_scores (s, a * 100 + v, 0);
            apply_ok (m, s, &spec);

            if (scope == PL_SCOPE_GLOBAL)
              {
                gsize expected = (gsize) nearbyint (amounts[v] * n);

                if (!allow_empty)
                  expected = MIN (expected, n - m->n_layers);
                g_assert_cmpuint (pl_mlp_n_pruned (m), ==, expected);
              }
            else
              for (guint i = 0; i < m->n_layers; i++)
                {
                  gsize nl = (gsize) m->layers[i].n_out * m->layers[i].n_in;
                  gsize expected = (gsize) nearbyint (amounts[v] * nl);

                  if (!allow_empty)
                    expected = MIN (expected, nl - 1);
                  g_assert_cmpuint (layer_pruned (m, i), ==, expected);
                }

            /* lowest first: no kept score below a pruned one within a group */
            for (guint i = 0; i < m->n_layers; i++)
              for (guint j = 0; j < m->n_layers; j++)
                {
                  float max_pruned = -INFINITY, min_kept = INFINITY;

                  if (scope == PL_SCOPE_LAYER && i != j)
                    continue;
                  for (gsize k = 0; k < s->n[i]; k++)
                    if (m->layers[i].w_mask[k] == 0.0f)
                      max_pruned = MAX (max_pruned, s->layer[i][k]);
                  for (gsize k = 0; k < s->n[j]; k++)
                    if (m->layers[j].w_mask[k] != 0.0f)
                      min_kept = MIN (min_kept, s->layer[j][k]);
                  /* one kept weight per layer may be a reserve below the cut */
                  if (allow_empty || layer_pruned (m, j) + 1 < s->n[j])
                    g_assert_cmpfloat (max_pruned, <=, min_kept);
                }
          }

  /* rounding is Python's, half to even, as in torch: 0.5 · 5 = 2.5 → 2, 0.5 · 7 → 4 */
  {
    g_autoptr(PlMlp) m = model_new ("5-1", PL_ACTIVATION_RELU, 1);
    g_autoptr(PlMlp) m7 = model_new ("7-1", PL_ACTIVATION_RELU, 1);
    g_autoptr(PlScores) s = scores_with (m, PL_SCORE_MAGNITUDE, NULL);
    g_autoptr(PlScores) s7 = scores_with (m7, PL_SCORE_MAGNITUDE, NULL);
    PlPruneSpec spec = spec_of (PL_SCOPE_GLOBAL, FALSE, 0.5);

    apply_ok (m, s, &spec);
    apply_ok (m7, s7, &spec);
    g_assert_cmpuint (pl_mlp_n_pruned (m), ==, 2);
    g_assert_cmpuint (pl_mlp_n_pruned (m7), ==, 4);
  }
}

typedef struct {
  float  v;
  guint  layer;
  gsize  index;
  gsize  pos;
} RefUnit;

static int
ref_cmp (const void *pa,
         const void *pb)
{
  const RefUnit *a = pa, *b = pb;

  if (a->v != b->v)
    return a->v < b->v ? -1 : 1;
  return a->pos < b->pos ? -1 : a->pos > b->pos;
}

/* The header's rule with qsort, for weight scores. */
static void
reference_select (const PlMlp       *m,
                  const PlScores    *s,
                  const PlPruneSpec *spec,
                  float             *masks)
{
  guint L = m->n_layers;
  guint n_groups = spec->scope == PL_SCOPE_GLOBAL ? 1 : L;

  memcpy (masks, m->masks, sizeof (float) * m->n_params);
  for (guint g = 0; g < n_groups; g++)
    {
      guint first = spec->scope == PL_SCOPE_GLOBAL ? 0 : g;
      guint last = spec->scope == PL_SCOPE_GLOBAL ? L - 1 : g;
      double value = spec->values[spec->n_values == 1 ? 0 : g];
      g_autoptr(GArray) cand = g_array_new (FALSE, FALSE, sizeof (RefUnit));
      gsize n = 0, already = 0, pos = 0, k;

      for (guint i = first; i <= last; i++)
        {
          const PlLayer *l = &m->layers[i];
          gsize nw = (gsize) l->n_out * l->n_in;
          gssize best = -1;

          if (spec->exclude_output && i == L - 1)
            continue;
          for (gsize w = 0; w < nw; w++)
            {
              float v = spec->invert ? -s->layer[i][w] : s->layer[i][w];

              n++;
              if (l->w_mask[w] == 0.0f)
                {
                  already++;
                  continue;
                }
              if (best < 0 || v >= (spec->invert ? -s->layer[i][best] : s->layer[i][best]))
                best = w;
            }
          for (gsize w = 0; w < nw; w++)
            {
              RefUnit u = { spec->invert ? -s->layer[i][w] : s->layer[i][w], i, w, pos + w };

              if (l->w_mask[w] != 0.0f && (spec->allow_empty || (gssize) w != best))
                g_array_append_val (cand, u);
            }
          pos += nw;
        }

      g_array_sort (cand, ref_cmp);
      if (spec->by_threshold)
        {
          for (guint c = 0; c < cand->len; c++)
            {
              RefUnit *u = &g_array_index (cand, RefUnit, c);
              double t = spec->invert ? -value : value;

              if (u->v < t)
                masks[(m->layers[u->layer].w_mask - m->masks) + u->index] = 0.0f;
            }
          continue;
        }
      k = (gsize) nearbyint (value * n);
      k = k > already ? MIN (k - already, cand->len) : 0;
      for (gsize c = 0; c < k; c++)
        {
          RefUnit *u = &g_array_index (cand, RefUnit, c);

          masks[(m->layers[u->layer].w_mask - m->masks) + u->index] = 0.0f;
        }
    }
}

static void
test_matches_sorted_reference (void)
{
  guint checked = 0;

  for (guint trial = 0; trial < 48; trial++)
    {
      g_autoptr(PlMlp) m = model_new (trial % 2 ? "6-9-5-3" : "40-30-20", PL_ACTIVATION_RELU,
                                      trial);
      g_autoptr(PlScores) s = scores_with (m, PL_SCORE_MAGNITUDE, NULL);
      g_autofree float *masks = g_new (float, m->n_params);
      g_autofree float *neurons = g_new (float, m->n_neurons);
      g_autofree float *expected = g_new (float, m->n_params);
      g_autoptr(GError) error = NULL;
      PlRng rng;
      PlPruneSpec spec;

      pl_rng_init (&rng, 1000 + trial);
      /* few levels: many ties; negative scores too */
      random_scores (s, trial, trial % 3 == 0 ? 0 : 3 + trial % 5);
      /* some weights pruned already */
      for (gsize k = 0; k < m->n_params; k++)
        if (pl_rng_uniform (&rng) < 0.2 * (trial % 4))
          m->masks[k] = 0.0f;
      for (guint i = 0; i < m->n_layers; i++)
        for (guint o = 0; o < m->layers[i].n_out; o++)
          m->layers[i].w_mask[(gsize) m->layers[i].n_out * m->layers[i].n_in + o] = 1.0f;
      pl_mlp_apply_masks (m);

      spec = spec_of (trial % 2 ? PL_SCOPE_LAYER : PL_SCOPE_GLOBAL, trial % 5 == 4,
                      trial % 5 == 4 ? pl_rng_normal (&rng) : pl_rng_uniform (&rng));
      spec.invert = (trial / 2) % 2;
      spec.exclude_output = (trial / 4) % 2;
      spec.allow_empty = (trial / 8) % 2;
      if (spec.scope == PL_SCOPE_LAYER && trial % 3 == 1)
        {
          spec.n_values = m->n_layers;
          for (guint i = 0; i < m->n_layers; i++)
            spec.values[i] = spec.by_threshold ? pl_rng_normal (&rng) : pl_rng_uniform (&rng);
        }

      g_assert_true (pl_prune_select (m, s, &spec, masks, neurons, &error));
      g_assert_no_error (error);
      reference_select (m, s, &spec, expected);
      g_assert_cmpmem (masks, sizeof (float) * m->n_params,
                       expected, sizeof (float) * m->n_params);

      /* select leaves the model alone, and its neuron masks are those of apply_masks */
      {
        g_autoptr(PlMlp) applied = pl_mlp_copy (m);

        memcpy (applied->masks, masks, sizeof (float) * m->n_params);
        pl_mlp_apply_masks (applied);
        g_assert_cmpmem (neurons, sizeof (float) * m->n_neurons,
                         applied->neuron_masks, sizeof (float) * m->n_neurons);
      }
      checked++;
    }
  g_assert_cmpuint (checked, ==, 48);
}

/* ---- structured ------------------------------------------------------------------------- */

static void
test_structured_masks_row_and_column (void)
{
  g_autoptr(PlMlp) m = model_new ("4-5-3-2", PL_ACTIVATION_RELU, 2);
  /* neuron scores: layer 0 (5), layer 1 (3); neuron 2 of layer 0 is the lowest */
  static const float values[] = { 0.5f, 0.7f, 0.1f, 0.9f, 0.3f, 0.2f, 0.8f, 0.6f };
  g_autoptr(PlScores) s = scores_with (m, PL_SCORE_NEURON_L1, values);
  PlPruneSpec spec = spec_of (PL_SCOPE_LAYER, FALSE, 0);
  const PlLayer *l0 = &m->layers[0], *l1 = &m->layers[1];

  spec.n_values = 3;
  spec.values[0] = 0.2;  /* 1 of 5 */
  spec.values[1] = 0.0;
  spec.values[2] = 0.9;  /* the output layer has no neuron candidates: unused */
  apply_ok (m, s, &spec);

  for (guint o = 0; o < 5; o++)
    for (guint k = 0; k < 4; k++)
      g_assert_cmpfloat (l0->w_mask[o * 4 + k], ==, o == 2 ? 0.0f : 1.0f);
  for (guint o = 0; o < 3; o++)
    for (guint k = 0; k < 5; k++)
      g_assert_cmpfloat (l1->w_mask[o * 5 + k], ==, k == 2 ? 0.0f : 1.0f);
  for (guint j = 0; j < 5; j++)
    g_assert_cmpfloat (l0->neuron_mask[j], ==, j == 2 ? 0.0f : 1.0f);
  g_assert_cmpuint (layer_pruned (m, 2), ==, 0);

  /* global over 8 hidden neurons at 1.0: each hidden layer keeps its best (3 and 1) */
  spec = spec_of (PL_SCOPE_GLOBAL, FALSE, 1.0);
  apply_ok (m, s, &spec);
  for (guint j = 0; j < 5; j++)
    g_assert_cmpfloat (l0->neuron_mask[j], ==, j == 3 ? 1.0f : 0.0f);
  for (guint j = 0; j < 3; j++)
    g_assert_cmpfloat (l1->neuron_mask[j], ==, j == 1 ? 1.0f : 0.0f);
  /* allow_empty empties them */
  spec.allow_empty = TRUE;
  apply_ok (m, s, &spec);
  for (guint j = 0; j < 5; j++)
    g_assert_cmpfloat (l0->neuron_mask[j], ==, 0.0f);
  g_assert_cmpuint (pl_mlp_n_pruned (m), ==, pl_mlp_n_weights (m));
}

/* The network without neuron @drop0 of hidden layer 0 and @drop1 of hidden layer 1. */
static PlMlp *
compacted (const PlMlp *m,
           guint        drop0,
           guint        drop1)
{
  guint sizes[] = { m->sizes[0], m->sizes[1] - 1, m->sizes[2] - 1, m->sizes[3] };
  guint drop[] = { drop0, drop1, G_MAXUINT };
  PlMlp *c = pl_mlp_new (sizes, 3, m->activation);

  for (guint i = 0; i < 3; i++)
    {
      const PlLayer *l = &m->layers[i];
      PlLayer *cl = &c->layers[i];
      guint drop_in = i > 0 ? drop[i - 1] : G_MAXUINT;

      for (guint o = 0, co = 0; o < l->n_out; o++)
        {
          if (o == drop[i])
            continue;
          for (guint k = 0, ck = 0; k < l->n_in; k++)
            if (k != drop_in)
              cl->w[(gsize) co * cl->n_in + ck++] = l->w[(gsize) o * l->n_in + k];
          cl->b[co++] = l->b[o];
        }
    }

  return c;
}

static void
test_structured_equals_compacted (void)
{
  static const guint n = 16;
  PlRng rng;
  g_autofree float *x = g_new (float, n * 6);

  pl_rng_init (&rng, 3);
  for (guint k = 0; k < n * 6; k++)
    x[k] = (float) pl_rng_normal (&rng);

  for (PlActivation a = PL_ACTIVATION_RELU; a <= PL_ACTIVATION_SIGMOID; a++)
    {
      g_autoptr(PlMlp) m = model_new ("6-5-4-3", a, 7);
      /* lowest: neuron 3 of layer 0 and neuron 0 of layer 1 */
      static const float values[] = { 0.5f, 0.7f, 0.6f, 0.1f, 0.9f, 0.2f, 0.8f, 0.6f, 0.4f };
      g_autoptr(PlScores) s = scores_with (m, PL_SCORE_NEURON_L2, values);
      g_autoptr(PlMlp) c = NULL;
      g_autoptr(PlNnWork) wm = NULL;
      g_autoptr(PlNnWork) wc = NULL;
      PlPruneSpec spec = spec_of (PL_SCOPE_LAYER, FALSE, 0.25);  /* 1 of 5 → 1, 1 of 4 */
      const float *pm, *pc;

      for (guint i = 0; i < 2; i++)
        for (guint o = 0; o < m->layers[i].n_out; o++)
          m->layers[i].b[o] = (float) (0.5 * pl_rng_normal (&rng));
      apply_ok (m, s, &spec);
      g_assert_cmpfloat (m->layers[0].neuron_mask[3], ==, 0.0f);
      g_assert_cmpfloat (m->layers[1].neuron_mask[0], ==, 0.0f);
      /* row 3 of L0; column 3 and row 0 of L1, which share one weight; column 0 of L2 */
      g_assert_cmpuint (pl_mlp_n_pruned (m), ==, 6 + (4 + 5 - 1) + 3);

      c = compacted (m, 3, 0);
      wm = pl_nn_work_new (m, n);
      wc = pl_nn_work_new (c, n);
      pm = pl_nn_forward (m, wm, x, n);
      pc = pl_nn_forward (c, wc, x, n);
      for (guint k = 0; k < n * 3; k++)
        g_assert_cmpfloat_with_epsilon (pm[k], pc[k], 1e-6);
    }
}

/* ---- errors ------------------------------------------------------------------------------ */

static void
test_spec_parse (void)
{
  g_autoptr(GError) error = NULL;
  PlPruneSpec spec;
  PlScope scope;

  pl_prune_spec_init (&spec, PL_SCOPE_LAYER, FALSE, 0.0);
  g_assert_true (pl_prune_spec_parse_values (&spec, "0.5,0.9,0.25", 3, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (spec.n_values, ==, 3);
  g_assert_cmpfloat (spec.values[2], ==, 0.25);
  g_assert_true (pl_prune_spec_parse_values (&spec, "0.3", 3, &error));
  g_assert_cmpuint (spec.n_values, ==, 1);
  g_assert_cmpfloat (spec.values[0], ==, 0.3);

  static const char *bad[] = { "0.5,0.9", "", "abc", "0.5,,0.5", "1.5", "-0.1", "nan", "0.5x" };
  for (guint k = 0; k < G_N_ELEMENTS (bad); k++)
    {
      g_assert_false (pl_prune_spec_parse_values (&spec, bad[k], 3, &error));
      g_assert_error (error, PL_SPEC_ERROR, PL_SPEC_ERROR_INVALID);
      g_clear_error (&error);
    }
  g_assert_cmpfloat (spec.values[0], ==, 0.3);  /* unchanged on failure */

  /* thresholds may be any finite number */
  pl_prune_spec_init (&spec, PL_SCOPE_GLOBAL, TRUE, 0.0);
  g_assert_true (pl_prune_spec_parse_values (&spec, "-2.5", 3, &error));
  g_assert_cmpfloat (spec.values[0], ==, -2.5);

  g_assert_true (pl_scope_parse ("global", &scope, &error));
  g_assert_cmpint (scope, ==, PL_SCOPE_GLOBAL);
  g_assert_true (pl_scope_parse ("layer", &scope, &error));
  g_assert_cmpint (scope, ==, PL_SCOPE_LAYER);
  g_assert_false (pl_scope_parse ("local", &scope, &error));
  g_assert_error (error, PL_SPEC_ERROR, PL_SPEC_ERROR_UNKNOWN_NAME);
}

static void
test_select_rejects_bad_specs (void)
{
  g_autoptr(PlMlp) m = model_new ("2-2-2", PL_ACTIVATION_RELU, 1);
  g_autoptr(PlScores) s = scores_with (m, PL_SCORE_MAGNITUDE, hand_scores);
  g_autofree float *before = g_memdup2 (m->masks, sizeof (float) * m->n_params);
  PlPruneSpec specs[5];

  specs[0] = spec_of (PL_SCOPE_GLOBAL, FALSE, 1.5);
  specs[1] = spec_of (PL_SCOPE_GLOBAL, FALSE, NAN);
  specs[2] = spec_of (PL_SCOPE_GLOBAL, TRUE, NAN);
  specs[3] = spec_of (PL_SCOPE_GLOBAL, FALSE, 0.5);
  specs[3].n_values = 2;  /* a list needs the per-layer scope */
  specs[4] = spec_of (PL_SCOPE_LAYER, FALSE, 0.5);
  specs[4].n_values = 3;  /* the model has 2 layers */
  for (guint k = 0; k < G_N_ELEMENTS (specs); k++)
    {
      g_autoptr(GError) error = NULL;

      g_assert_false (pl_prune_apply (m, s, &specs[k], &error));
      g_assert_error (error, PL_SPEC_ERROR, PL_SPEC_ERROR_INVALID);
      g_assert_cmpmem (m->masks, sizeof (float) * m->n_params,
                       before, sizeof (float) * m->n_params);
    }
}

/* ---- PyTorch ----------------------------------------------------------------------------- */

/* The metadata of a safetensors file, as a JSON object (transfer full). */
static JsonObject *
read_metadata (const char *path)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autofree char *contents = NULL;
  gsize length;
  guint64 n = 0;

  g_assert_true (g_file_get_contents (path, &contents, &length, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (length, >=, 8);
  for (guint k = 0; k < 8; k++)
    n |= (guint64) (guchar) contents[k] << (8 * k);
  g_assert_cmpuint (n, <=, length - 8);
  g_assert_true (json_parser_load_from_data (parser, contents + 8, n, &error));
  g_assert_no_error (error);

  return json_object_ref (json_object_get_object_member (
    json_node_get_object (json_parser_get_root (parser)), "__metadata__"));
}

static PlMlp *
load_fixture (const char *name)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *file = g_strconcat (name, ".safetensors", NULL);
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", file, NULL);
  JsonObject *metadata = read_metadata (path);
  PlMlp *m;

  /* written by tests/torch/make_prune_fixture.py, FIXTURE_VERSION "1" */
  g_assert_cmpstr (json_object_get_string_member (metadata, "fixture"), ==, name);
  g_assert_cmpstr (json_object_get_string_member (metadata, "version"), ==, "1");
  json_object_unref (metadata);

  m = pl_safetensors_load (path, &error);
  g_assert_no_error (error);

  return m;
}

static void
check_torch (const char        *fixture,
             const PlPruneSpec *spec,
             const gsize       *pruned)
{
  g_autoptr(PlMlp) m = load_fixture ("prune-torch-model");
  g_autoptr(PlMlp) t = load_fixture (fixture);
  g_autoptr(PlScores) s = NULL;
  g_autofree char *arch = pl_mlp_arch (m);

  g_assert_cmpstr (arch, ==, "11-7-9-5");
  g_assert_cmpuint (pl_mlp_n_pruned (m), ==, 0);
  s = scores_with (m, PL_SCORE_MAGNITUDE, NULL);
  apply_ok (m, s, spec);

  for (guint i = 0; i < 3; i++)
    g_assert_cmpuint (layer_pruned (t, i), ==, pruned[i]);
  g_assert_cmpmem (m->masks, sizeof (float) * m->n_params, t->masks, sizeof (float) * t->n_params);
  g_assert_cmpmem (m->params, sizeof (float) * m->n_params,
                   t->params, sizeof (float) * t->n_params);
}

static void
test_torch_global (void)
{
  PlPruneSpec spec = spec_of (PL_SCOPE_GLOBAL, FALSE, 0.37);

  /* 0.37 · 185 = 68.45 → 68 */
  check_torch ("prune-torch-global", &spec, (gsize[]) { 33, 19, 16 });
}

static void
test_torch_layer (void)
{
  g_autoptr(GError) error = NULL;
  PlPruneSpec spec = spec_of (PL_SCOPE_LAYER, FALSE, 0.0);

  /* 0.5 · 77 = 38.5 → 38 and 0.9 · 45 = 40.5 → 40: halves to even */
  g_assert_true (pl_prune_spec_parse_values (&spec, "0.5,0.2,0.9", 3, &error));
  g_assert_no_error (error);
  check_torch ("prune-torch-layer", &spec, (gsize[]) { 38, 13, 40 });
}

/* A strategy's switches reach the spec, each on its own, and the value and its kind too. */
static void
test_strategy_to_spec (void)
{
  for (guint bits = 0; bits < 16; bits++)
    {
      PlStrategy strategy;
      PlPruneSpec spec;

      pl_strategy_init (&strategy);
      strategy.scope = bits & 1 ? PL_SCOPE_LAYER : PL_SCOPE_GLOBAL;
      strategy.invert = (bits & 2) != 0;
      strategy.exclude_output = (bits & 4) != 0;
      strategy.allow_empty = (bits & 8) != 0;
      memset (&spec, 0xff, sizeof spec);
      pl_strategy_to_prune_spec (&strategy, &spec, bits % 3 == 0, 0.25 + bits);

      g_assert_cmpint (spec.scope, ==, strategy.scope);
      g_assert_cmpint (spec.invert, ==, strategy.invert);
      g_assert_cmpint (spec.exclude_output, ==, strategy.exclude_output);
      g_assert_cmpint (spec.allow_empty, ==, strategy.allow_empty);
      g_assert_cmpint (spec.by_threshold, ==, bits % 3 == 0);
      g_assert_cmpuint (spec.n_values, ==, 1);
      g_assert_cmpfloat (spec.values[0], ==, 0.25 + bits);
    }
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_summary ("Selection of weights and neurons to prune from scores");
  g_test_add_func ("/engine/prune/strategy/to-spec-carries-every-switch", test_strategy_to_spec);

  g_test_add_func ("/engine/prune/spec/parses-values", test_spec_parse);
  g_test_add_func ("/engine/prune/spec/rejects-bad-values", test_select_rejects_bad_specs);
  g_test_add_func ("/engine/prune/global/hand-made-masks", test_global_hand);
  g_test_add_func ("/engine/prune/layer/hand-made-masks", test_layer_hand);
  g_test_add_func ("/engine/prune/threshold/prunes-scores-below", test_threshold_hand);
  g_test_add_func ("/engine/prune/invert/prunes-the-other-end", test_invert_hand);
  g_test_add_func ("/engine/prune/ties/lowest-position-first", test_ties_lowest_position_first);
  g_test_add_func ("/engine/prune/nan-scores-go-last", test_nan_goes_last);
  g_test_add_func ("/engine/prune/no-layer-emptied-unless-allowed", test_no_layer_emptied);
  g_test_add_func ("/engine/prune/exclude-output", test_exclude_output);
  g_test_add_func ("/engine/prune/masks-compose", test_masks_compose);
  g_test_add_func ("/engine/prune/masks-compose-random", test_masks_compose_random);
  g_test_add_func ("/engine/prune/global/keeps-exact-count", test_exact_counts);
  g_test_add_func ("/engine/prune/matches-sorted-reference", test_matches_sorted_reference);
  g_test_add_func ("/engine/prune/structured/masks-row-and-column",
                   test_structured_masks_row_and_column);
  g_test_add_func ("/engine/prune/structured/equals-compacted-network",
                   test_structured_equals_compacted);
  g_test_add_func ("/engine/prune/torch/global-l1-unstructured-same-mask", test_torch_global);
  g_test_add_func ("/engine/prune/torch/layer-l1-unstructured-same-mask", test_torch_layer);

  return g_test_run ();
}
