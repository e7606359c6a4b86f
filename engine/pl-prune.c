#define G_LOG_DOMAIN "pl-prune"

#include "config.h"

#include "pl-prune.h"

#include <glib/gi18n-lib.h>
#include <math.h>
#include <string.h>

#include "pl-error.h"

/* ---- the specification ------------------------------------------------------------------- */

void
pl_prune_spec_init (PlPruneSpec *spec,
                    PlScope      scope,
                    gboolean     by_threshold,
                    double       value)
{
  g_return_if_fail (spec != NULL);

  memset (spec, 0, sizeof *spec);
  spec->scope = scope;
  spec->by_threshold = by_threshold;
  spec->values[0] = value;
  spec->n_values = 1;
}

void
pl_strategy_init (PlStrategy *strategy)
{
  g_return_if_fail (strategy != NULL);

  *strategy = (PlStrategy) {
    .score = PL_SCORE_MAGNITUDE,
    .scope = PL_SCOPE_GLOBAL,
    .score_options = (PlScoreOptions) PL_SCORE_OPTIONS_INIT,
  };
}

void
pl_strategy_to_prune_spec (const PlStrategy *strategy,
                           PlPruneSpec      *spec,
                           gboolean          by_threshold,
                           double            value)
{
  g_return_if_fail (strategy != NULL && spec != NULL);

  pl_prune_spec_init (spec, strategy->scope, by_threshold, value);
  spec->invert = strategy->invert;
  spec->exclude_output = strategy->exclude_output;
  spec->allow_empty = strategy->allow_empty;
  spec->nm_n = strategy->nm_n;
  spec->nm_m = strategy->nm_m;
}

gboolean
pl_scope_parse (const char  *text,
                PlScope     *scope,
                GError     **error)
{
  g_return_val_if_fail (scope != NULL, FALSE);

  for (guint k = PL_SCOPE_GLOBAL; k <= PL_SCOPE_ERK; k++)
    if (g_strcmp0 (text, pl_scope_name (k)) == 0)
      {
        *scope = k;
        return TRUE;
      }

  g_set_error (error, PL_SPEC_ERROR, PL_SPEC_ERROR_UNKNOWN_NAME,
               _("scope “%s”: choose global, layer, row or erk"), text ? text : "");
  return FALSE;
}

const char *
pl_scope_name (PlScope scope)
{
  switch (scope)
    {
    case PL_SCOPE_GLOBAL:
      return "global";
    case PL_SCOPE_LAYER:
      return "layer";
    case PL_SCOPE_ROW:
      return "row";
    case PL_SCOPE_ERK:
      return "erk";
    default:
      g_return_val_if_reached ("global");
    }
}

const char *
pl_scope_title (PlScope scope)
{
  switch (scope)
    {
    case PL_SCOPE_GLOBAL:
      return N_("global: one ranking across layers");
    case PL_SCOPE_LAYER:
      return N_("per layer: one value for every layer");
    case PL_SCOPE_ROW:
      return N_("per row: each output row of a layer on its own");
    case PL_SCOPE_ERK:
      return N_("ERK: layer budgets for one sparsity, then per layer");
    default:
      g_return_val_if_reached ("");
    }
}

const char * const *
pl_selection_help (void)
{
  static const char * const help[] = {
    "global", N_("one ranking of every candidate across layers"),
    N_("One threshold or target sparsity for the whole network: the lowest scores go first "
       "wherever they are. Layers whose scores run on different scales are pruned unevenly; "
       "LAMP scores are made for this scope."),
    "layer", N_("round(s_l·n_l) of each layer l"),
    N_("Each layer is ranked on its own, with one value for every layer or one per layer."),
    "row", N_("round(s·n_in) of each output row"),
    N_("Each output row (the weights into one neuron) is ranked on its own: the comparison "
       "group of Wanda (Sun et al. 2023, “A Simple and Effective Pruning Approach for Large "
       "Language Models”, §3), which prunes every output alike."),
    "erk", N_("density_l = ε·(n_in + n_out)/(n_in·n_out), Σ_l density_l·n_l = (1 − s)·Σ_l n_l"),
    N_("Erdős–Rényi-kernel layer budgets (Evci et al. 2020, “Rigging the Lottery: Making All "
       "Tickets Winners”, §3, after Mocanu et al. 2018): small layers keep more. A layer whose "
       "density would pass 1 stays dense and the others share the rest, as the authors’ code "
       "does (rigl/sparse_utils.py); then each layer is pruned to its budget by the score. "
       "It takes one target sparsity, no threshold."),
    "--nm N:M", N_("keep the N highest of every M consecutive inputs [g·M, g·M + M) of a row"),
    N_("Semi-structured N:M sparsity (NVIDIA Ampere’s sparse tensor cores multiply 2:4 matrices "
       "at twice the dense math throughput, Mishra et al. 2021, “Accelerating Sparse Deep Neural "
       "Networks”): applied with any weight score "
       "before the selection, which counts it as pruned already, so a sparsity up to 1 − N/M "
       "gives the N:M mask itself and a larger one prunes further."),
    NULL
  };

  return help;
}

gboolean
pl_nm_parse (const char  *text,
             guint       *n,
             guint       *m,
             GError     **error)
{
  guint64 a = 0, b = 0;
  const char *colon;
  g_autofree char *left = NULL;

  g_return_val_if_fail (n != NULL && m != NULL, FALSE);

  colon = text != NULL ? strchr (text, ':') : NULL;
  if (colon != NULL)
    left = g_strndup (text, colon - text);
  if (colon == NULL
      || !g_ascii_string_to_unsigned (left, 10, 1, 256, &a, NULL)
      || !g_ascii_string_to_unsigned (colon + 1, 10, 2, 256, &b, NULL)
      || a >= b)
    {
      g_set_error (error, PL_SPEC_ERROR, PL_SPEC_ERROR_INVALID,
                   _("N:M “%s”: give two whole numbers 1 ≤ N < M ≤ 256, such as 2:4"),
                   text ? text : "");
      return FALSE;
    }
  *n = (guint) a;
  *m = (guint) b;
  return TRUE;
}

/* Evci et al. 2020 §3; the loop is get_sparsities of google-research/rigl's sparse_utils.py:
 * rhs is what the sparse layers keep, less the zeros the dense layers give back, and ε =
 * rhs / Σ_sparse p_l·n_l with p_l = (n_in + n_out)/(n_in·n_out); while ε·max p_l > 1 the
 * layers of the largest p_l become dense. */
void
pl_erk_sparsities (const PlMlp *model,
                   double       sparsity,
                   gboolean     exclude_output,
                   double      *layer_sparsity)
{
  gboolean dense[PL_MLP_MAX_LAYERS] = { FALSE };
  double prob[PL_MLP_MAX_LAYERS];
  guint L;
  double eps = 0.0;

  g_return_if_fail (model != NULL && layer_sparsity != NULL);

  L = model->n_layers;
  for (guint i = 0; i < L; i++)
    {
      const PlLayer *l = &model->layers[i];

      prob[i] = ((double) l->n_in + l->n_out) / ((double) l->n_in * l->n_out);
    }

  for (;;)
    {
      double rhs = 0.0, divisor = 0.0, max_prob = 0.0;
      gboolean any_sparse = FALSE;

      for (guint i = 0; i < L; i++)
        {
          double n = (double) model->layers[i].n_in * model->layers[i].n_out;

          if (exclude_output && i + 1 == L)
            continue;
          if (dense[i])
            rhs -= n * sparsity;
          else
            {
              rhs += n * (1.0 - sparsity);
              divisor += prob[i] * n;
              max_prob = MAX (max_prob, prob[i]);
              any_sparse = TRUE;
            }
        }
      if (!any_sparse)
        break;
      eps = rhs / divisor;
      if (max_prob * eps <= 1.0)
        break;
      for (guint i = 0; i < L; i++)
        if (!dense[i] && !(exclude_output && i + 1 == L) && prob[i] == max_prob)
          dense[i] = TRUE;
    }

  for (guint i = 0; i < L; i++)
    {
      if ((exclude_output && i + 1 == L) || dense[i])
        layer_sparsity[i] = 0.0;
      else
        layer_sparsity[i] = CLAMP (1.0 - eps * prob[i], 0.0, 1.0);
    }
}

static gboolean
check_value (const PlPruneSpec  *spec,
             double              v,
             GError            **error)
{
  if (spec->by_threshold ? isnan (v) : !(v >= 0.0 && v <= 1.0))
    {
      if (spec->by_threshold)
        g_set_error (error, PL_SPEC_ERROR, PL_SPEC_ERROR_INVALID,
                     _("threshold %g is not a number"), v);
      else
        g_set_error (error, PL_SPEC_ERROR, PL_SPEC_ERROR_INVALID,
                     _("sparsity %g is not between 0 and 1"), v);
      return FALSE;
    }

  return TRUE;
}

gboolean
pl_prune_spec_set_values (PlPruneSpec   *spec,
                          const double  *values,
                          guint          n,
                          guint          n_layers,
                          GError       **error)
{
  g_return_val_if_fail (spec != NULL && values != NULL, FALSE);
  g_return_val_if_fail (n_layers >= 1 && n_layers <= PL_MLP_MAX_LAYERS, FALSE);

  if (n != 1 && n != n_layers)
    {
      g_set_error (error, PL_SPEC_ERROR, PL_SPEC_ERROR_INVALID,
                   _("give one value or one per layer (%u), not %u"), n_layers, n);
      return FALSE;
    }
  for (guint i = 0; i < n; i++)
    if (!check_value (spec, values[i], error))
      return FALSE;

  memcpy (spec->values, values, sizeof (double) * n);
  spec->n_values = n;

  return TRUE;
}

gboolean
pl_prune_spec_parse_values (PlPruneSpec  *spec,
                            const char   *text,
                            guint         n_layers,
                            GError      **error)
{
  g_auto(GStrv) parts = NULL;
  double values[PL_MLP_MAX_LAYERS];
  guint n;

  g_return_val_if_fail (spec != NULL && text != NULL, FALSE);
  g_return_val_if_fail (n_layers >= 1 && n_layers <= PL_MLP_MAX_LAYERS, FALSE);

  parts = g_strsplit (text, ",", -1);
  n = g_strv_length (parts);
  if (n != 1 && n != n_layers)
    {
      g_set_error (error, PL_SPEC_ERROR, PL_SPEC_ERROR_INVALID,
                   _("“%s”: give one value or one per layer (%u), not %u"),
                   text, n_layers, n);
      return FALSE;
    }

  for (guint i = 0; i < n; i++)
    {
      const char *s = g_strstrip (parts[i]);
      char *end = NULL;

      values[i] = g_ascii_strtod (s, &end);
      if (*s == '\0' || end == s || *end != '\0' || !isfinite (values[i]))
        {
          g_set_error (error, PL_SPEC_ERROR, PL_SPEC_ERROR_INVALID,
                       _("“%s”: “%s” is not a number"), text, s);
          return FALSE;
        }
    }

  if (!pl_prune_spec_set_values (spec, values, n, n_layers, error))
    {
      g_prefix_error (error, "“%s”: ", text);
      return FALSE;
    }
  return TRUE;
}

/* ---- sorting candidates ------------------------------------------------------------------ */

typedef struct {
  guint32 key;     /* the score as an order-preserving unsigned integer */
  guint32 layer;
  gsize   index;   /* weight (or neuron) within the layer */
} Candidate;

/* Maps a float to an unsigned integer with the same order: negative floats have their bits
 * flipped, positive ones their sign bit set. −0 becomes +0 first, and NaN counts as +∞. */
static guint32
order_key (float v)
{
  union { float f; guint32 u; } x;

  x.f = isnan (v) ? INFINITY : v + 0.0f;

  return (x.u & 0x80000000u) ? ~x.u : x.u | 0x80000000u;
}

/* LSD radix sort on key, 8 bits a pass: O(n) and stable, so candidates added in position order
 * stay in position order among equal scores. Passes where every key shares the byte are
 * skipped. */
static void
sort_candidates (Candidate *c,
                 gsize      n)
{
  g_autofree Candidate *tmp = NULL;
  Candidate *src = c, *dst;

  if (n < 2)
    return;

  tmp = g_new (Candidate, n);
  dst = tmp;
  for (guint shift = 0; shift < 32; shift += 8)
    {
      gsize count[256] = { 0 };
      gsize pos = 0;
      Candidate *t;

      for (gsize k = 0; k < n; k++)
        count[(src[k].key >> shift) & 0xff]++;
      if (count[(src[0].key >> shift) & 0xff] == n)
        continue;
      for (guint d = 0; d < 256; d++)
        {
          gsize c_d = count[d];

          count[d] = pos;
          pos += c_d;
        }
      for (gsize k = 0; k < n; k++)
        dst[count[(src[k].key >> shift) & 0xff]++] = src[k];
      t = src;
      src = dst;
      dst = t;
    }

  if (src != c)
    memcpy (c, src, sizeof (Candidate) * n);
}

/* ---- selection --------------------------------------------------------------------------- */

/* The prunable units of one layer: its weights, or its neurons for structured pruning. */
typedef struct {
  const PlMlp       *model;
  const PlScores    *scores;
  const PlPruneSpec *spec;
  gboolean           structured;
  float             *masks;         /* output */
  float             *neuron_masks;  /* output */
  gsize              neuron_offset[PL_MLP_MAX_LAYERS];
} Selection;

static gsize
n_units (const Selection *sel,
         guint            i)
{
  const PlLayer *l = &sel->model->layers[i];

  return sel->structured ? l->n_out : (gsize) l->n_out * l->n_in;
}

/* Read from the outputs, which start as the model's masks: the N:M step prunes there before
 * the groups are selected. */
static gboolean
unit_pruned (const Selection *sel,
             guint            i,
             gsize            k)
{
  const PlMlp *model = sel->model;
  const PlLayer *l = &model->layers[i];

  return (sel->structured ? sel->neuron_masks[sel->neuron_offset[i] + k]
                          : sel->masks[(l->w_mask - model->masks) + k]) == 0.0f;
}

/* The score as selection sees it: negated with invert, so that the lowest still goes first. */
static float
unit_score (const Selection *sel,
            guint            i,
            gsize            k)
{
  float v = sel->scores->layer[i][k];

  return sel->spec->invert ? -v : v;
}

static gboolean
in_scope (const Selection *sel,
          guint            i)
{
  guint last = sel->model->n_layers - 1;

  if (sel->structured)
    return i < last;  /* hidden layers only: the outputs are the classes */

  return !(sel->spec->exclude_output && i == last);
}

static void
prune_unit (Selection *sel,
            guint      i,
            gsize      k)
{
  const PlMlp *model = sel->model;
  const PlLayer *l = &model->layers[i];

  if (!sel->structured)
    {
      sel->masks[(l->w_mask - model->masks) + k] = 0.0f;
      return;
    }

  /* neuron k of layer i: row k of layer i and column k of layer i + 1 */
  {
    const PlLayer *next = &model->layers[i + 1];
    float *row = sel->masks + (l->w_mask - model->masks) + k * l->n_in;
    float *col = sel->masks + (next->w_mask - model->masks) + k;

    for (guint t = 0; t < l->n_in; t++)
      row[t] = 0.0f;
    for (guint o = 0; o < next->n_out; o++)
      col[(gsize) o * next->n_in] = 0.0f;
    sel->neuron_masks[sel->neuron_offset[i] + k] = 0.0f;
  }
}

/* The candidate that selection keeps to leave layer i non-empty: its highest-scoring unpruned
 * unit, the one that would go last. Returns FALSE when every unit is pruned already. */
static gboolean
layer_reserve (const Selection *sel,
               guint            i,
               gsize           *reserve)
{
  gsize n = n_units (sel, i);
  gboolean found = FALSE;
  guint32 best = 0;

  for (gsize k = 0; k < n; k++)
    {
      guint32 key;

      if (unit_pruned (sel, i, k))
        continue;
      key = order_key (unit_score (sel, i, k));
      if (!found || key >= best)
        {
          best = key;
          *reserve = k;
          found = TRUE;
        }
    }

  return found;
}

/* Prunes within one group sharing @value: the layers first..last, or with @row < G_MAXUINT
 * row @row of layer @first only, whose kept-back candidate is @row_reserve (G_MAXSIZE: none
 * in this row). */
static void
select_group (Selection *sel,
              guint      first,
              guint      last,
              guint      row,
              gsize      row_reserve,
              double     value)
{
  const PlPruneSpec *spec = sel->spec;
  g_autofree Candidate *cand = NULL;
  gsize n_total = 0, n_pruned = 0, n_cand = 0, k_prune;
  double target;

  for (guint i = first; i <= last; i++)
    if (in_scope (sel, i))
      n_total += row < G_MAXUINT ? sel->model->layers[i].n_in : n_units (sel, i);
  if (n_total == 0)
    return;

  cand = g_new (Candidate, n_total);
  for (guint i = first; i <= last; i++)
    {
      gsize k0 = 0, k1, reserve = G_MAXSIZE;

      if (!in_scope (sel, i))
        continue;
      if (row < G_MAXUINT)
        {
          k0 = (gsize) row * sel->model->layers[i].n_in;
          k1 = k0 + sel->model->layers[i].n_in;
          reserve = row_reserve;
        }
      else
        {
          k1 = n_units (sel, i);
          if (spec->allow_empty || !layer_reserve (sel, i, &reserve))
            reserve = G_MAXSIZE;
        }
      for (gsize k = k0; k < k1; k++)
        {
          if (unit_pruned (sel, i, k))
            {
              n_pruned++;
              continue;
            }
          if (k == reserve)
            continue;
          cand[n_cand].key = order_key (unit_score (sel, i, k));
          cand[n_cand].layer = i;
          cand[n_cand].index = k;
          n_cand++;
        }
    }

  if (spec->by_threshold)
    {
      /* score < t, compared in double; with invert, −score < −t, that is score > t. A NaN
       * score is never below a threshold. */
      double t = spec->invert ? -value : value;

      for (gsize c = 0; c < n_cand; c++)
        {
          double v = unit_score (sel, cand[c].layer, cand[c].index);

          if (v < t)
            prune_unit (sel, cand[c].layer, cand[c].index);
        }
      return;
    }

  /* round half to even, as Python's round() in torch.nn.utils.prune */
  target = nearbyint (value * (double) n_total);
  k_prune = target > (double) n_pruned ? (gsize) target - n_pruned : 0;
  k_prune = MIN (k_prune, n_cand);
  if (k_prune == 0)
    return;

  sort_candidates (cand, n_cand);
  for (gsize c = 0; c < k_prune; c++)
    prune_unit (sel, cand[c].layer, cand[c].index);
}

/* Every row of layer i as its own group (the row scope). */
static void
select_rows (Selection *sel,
             guint      i,
             double     value)
{
  const PlLayer *l = &sel->model->layers[i];
  gsize reserve = G_MAXSIZE;

  if (!in_scope (sel, i))
    return;
  if (sel->spec->allow_empty || !layer_reserve (sel, i, &reserve))
    reserve = G_MAXSIZE;
  for (guint o = 0; o < l->n_out; o++)
    select_group (sel, i, i, o,
                  reserve / l->n_in == o ? reserve : G_MAXSIZE, value);
}

/* The N:M step: in each run of M consecutive inputs of a row, all but the N highest-scoring
 * unpruned weights are pruned (lowest key first, ties by position). */
static void
select_nm (Selection *sel)
{
  guint N = sel->spec->nm_n, M = sel->spec->nm_m;
  g_autofree Candidate *cand = g_new (Candidate, M);

  for (guint i = 0; i < sel->model->n_layers; i++)
    {
      const PlLayer *l = &sel->model->layers[i];

      if (!in_scope (sel, i))
        continue;
      for (guint o = 0; o < l->n_out; o++)
        for (guint j0 = 0; j0 < l->n_in; j0 += M)
          {
            guint j1 = MIN (j0 + M, l->n_in), n_alive = 0;

            for (guint j = j0; j < j1; j++)
              {
                gsize k = (gsize) o * l->n_in + j;

                if (unit_pruned (sel, i, k))
                  continue;
                cand[n_alive].key = order_key (unit_score (sel, i, k));
                cand[n_alive].layer = i;
                cand[n_alive].index = k;
                n_alive++;
              }
            if (n_alive <= N)
              continue;
            /* a stable insertion sort: a run is short, and the radix sort's buffer would cost
             * more than the run (2:4 with 90 % on 784-300-100-10: 79 ms that way, 12 ms so) */
            for (guint c = 1; c < n_alive; c++)
              {
                Candidate t = cand[c];
                guint d = c;

                for (; d > 0 && cand[d - 1].key > t.key; d--)
                  cand[d] = cand[d - 1];
                cand[d] = t;
              }
            for (guint c = 0; c < n_alive - N; c++)
              prune_unit (sel, i, cand[c].index);
          }
    }
}

gboolean
pl_prune_spec_check_kind (const PlPruneSpec  *spec,
                          gboolean            per_neuron,
                          GError            **error)
{
  g_return_val_if_fail (spec != NULL, FALSE);

  if (spec->scope > PL_SCOPE_ERK)
    {
      g_set_error (error, PL_SPEC_ERROR, PL_SPEC_ERROR_INVALID, _("unknown scope %d"),
                   (int) spec->scope);
      return FALSE;
    }
  if (spec->scope == PL_SCOPE_ERK && (spec->by_threshold || spec->n_values != 1))
    {
      g_set_error (error, PL_SPEC_ERROR, PL_SPEC_ERROR_INVALID,
                   _("the ERK scope allocates one target sparsity to the layers; it takes no "
                     "threshold and no per-layer values"));
      return FALSE;
    }
  if (per_neuron && (spec->scope == PL_SCOPE_ROW || spec->scope == PL_SCOPE_ERK))
    {
      g_set_error (error, PL_SPEC_ERROR, PL_SPEC_ERROR_INVALID,
                   _("the %s scope selects weights; a neuron score needs the global or "
                     "per-layer scope"), pl_scope_name (spec->scope));
      return FALSE;
    }
  if (spec->nm_m > 0 || spec->nm_n > 0)
    {
      if (!(spec->nm_n >= 1 && spec->nm_n < spec->nm_m && spec->nm_m <= 256))
        {
          g_set_error (error, PL_SPEC_ERROR, PL_SPEC_ERROR_INVALID,
                       _("N:M %u:%u: give 1 ≤ N < M ≤ 256"), spec->nm_n, spec->nm_m);
          return FALSE;
        }
      if (per_neuron)
        {
          g_set_error (error, PL_SPEC_ERROR, PL_SPEC_ERROR_INVALID,
                       _("an N:M mask keeps weights within rows; it needs a weight score, not "
                         "a neuron score"));
          return FALSE;
        }
    }

  return TRUE;
}

/* A hidden neuron lives while it was alive and one of its outgoing weights is kept, the rule
 * of pl_mlp_apply_masks. */
static void
update_neuron_masks (const PlMlp *model,
                     const float *masks,
                     float       *neuron_masks)
{
  gsize off = 0;

  for (guint i = 0; i + 1 < model->n_layers; i++)
    {
      const PlLayer *l = &model->layers[i];
      const PlLayer *next = &model->layers[i + 1];
      const float *m = masks + (next->w_mask - model->masks);

      for (guint j = 0; j < l->n_out; j++)
        {
          gboolean alive = FALSE;

          if (neuron_masks[off + j] == 0.0f)
            continue;
          for (guint o = 0; o < next->n_out && !alive; o++)
            alive = m[(gsize) o * next->n_in + j] != 0.0f;
          neuron_masks[off + j] = alive ? 1.0f : 0.0f;
        }
      off += l->n_out;
    }
}

gboolean
pl_prune_select (const PlMlp       *model,
                 const PlScores    *scores,
                 const PlPruneSpec *spec,
                 float             *masks,
                 float             *neuron_masks,
                 GError           **error)
{
  Selection sel = { 0 };
  guint L;

  g_return_val_if_fail (model != NULL && scores != NULL && spec != NULL, FALSE);
  g_return_val_if_fail (masks != NULL && neuron_masks != NULL, FALSE);
  g_return_val_if_fail (scores->n_layers == model->n_layers, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  L = model->n_layers;
  for (guint i = 0; i < L; i++)
    {
      const PlLayer *l = &model->layers[i];
      gsize expected = !scores->per_neuron ? (gsize) l->n_out * l->n_in
                       : i + 1 < L ? l->n_out : 0;

      g_return_val_if_fail (scores->n[i] == expected, FALSE);
    }

  if (spec->n_values == 0 || spec->n_values > PL_MLP_MAX_LAYERS
      || (spec->n_values > 1 && ((spec->scope != PL_SCOPE_LAYER && spec->scope != PL_SCOPE_ROW)
                                 || spec->n_values != L)))
    {
      if (spec->scope == PL_SCOPE_LAYER || spec->scope == PL_SCOPE_ROW)
        g_set_error (error, PL_SPEC_ERROR, PL_SPEC_ERROR_INVALID,
                     _("%u values for a model of %u layers: give one value or one per layer"),
                     spec->n_values, L);
      else
        g_set_error (error, PL_SPEC_ERROR, PL_SPEC_ERROR_INVALID,
                     _("%u values for a global selection: give one value, or choose the "
                       "per-layer scope"), spec->n_values);
      return FALSE;
    }
  for (guint v = 0; v < spec->n_values; v++)
    if (!check_value (spec, spec->values[v], error))
      return FALSE;
  if (!pl_prune_spec_check_kind (spec, scores->per_neuron, error))
    return FALSE;

  sel.model = model;
  sel.scores = scores;
  sel.spec = spec;
  sel.structured = scores->per_neuron;
  sel.masks = masks;
  sel.neuron_masks = neuron_masks;
  for (guint i = 1; i < L; i++)
    sel.neuron_offset[i] = sel.neuron_offset[i - 1] + model->layers[i - 1].n_out;

  /* Everything below reads the model's masks and writes the outputs only (each group writes
   * what later groups do not read, so @masks may even be the model's own). */
  if (masks != model->masks)
    memcpy (masks, model->masks, sizeof (float) * model->n_params);
  if (neuron_masks != model->neuron_masks)
    memcpy (neuron_masks, model->neuron_masks, sizeof (float) * model->n_neurons);

  if (spec->nm_m > 0)
    select_nm (&sel);

  switch (spec->scope)
    {
    case PL_SCOPE_GLOBAL:
      select_group (&sel, 0, L - 1, G_MAXUINT, G_MAXSIZE, spec->values[0]);
      break;
    case PL_SCOPE_LAYER:
      for (guint i = 0; i < L; i++)
        select_group (&sel, i, i, G_MAXUINT, G_MAXSIZE, spec->values[spec->n_values == 1 ? 0 : i]);
      break;
    case PL_SCOPE_ROW:
      for (guint i = 0; i < L; i++)
        select_rows (&sel, i, spec->values[spec->n_values == 1 ? 0 : i]);
      break;
    case PL_SCOPE_ERK:
      {
        double layer_sparsity[PL_MLP_MAX_LAYERS];

        pl_erk_sparsities (model, spec->values[0], spec->exclude_output, layer_sparsity);
        for (guint i = 0; i < L; i++)
          select_group (&sel, i, i, G_MAXUINT, G_MAXSIZE, layer_sparsity[i]);
      }
      break;
    default:
      g_assert_not_reached ();
    }

  update_neuron_masks (model, masks, neuron_masks);

  return TRUE;
}

gboolean
pl_prune_apply (PlMlp             *model,
                const PlScores    *scores,
                const PlPruneSpec *spec,
                GError           **error)
{
  g_autofree float *masks = NULL;
  g_autofree float *neuron_masks = NULL;

  g_return_val_if_fail (model != NULL, FALSE);

  masks = g_new (float, model->n_params);
  neuron_masks = g_new (float, model->n_neurons);
  if (!pl_prune_select (model, scores, spec, masks, neuron_masks, error))
    return FALSE;

  memcpy (model->masks, masks, sizeof (float) * model->n_params);
  memcpy (model->neuron_masks, neuron_masks, sizeof (float) * model->n_neurons);
  pl_mlp_apply_masks (model);

  return TRUE;
}
