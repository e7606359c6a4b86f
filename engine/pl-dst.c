#define G_LOG_DOMAIN "pl-dst"

#include "config.h"

#include "pl-dst.h"

#include <math.h>
#include <stdlib.h>

double
pl_dst_drop_fraction (double  alpha,
                      guint64 t,
                      guint64 t_end)
{
  if (t >= t_end)
    return 0.0;

  return alpha / 2.0 * (1.0 + cos (G_PI * (double) t / (double) t_end));
}

typedef struct {
  float  key;
  gsize  at;
} Entry;

/* ascending key, then position */
static int
compare_entries (const void *a,
                 const void *b)
{
  const Entry *x = a, *y = b;

  if (x->key != y->key)
    return x->key < y->key ? -1 : 1;
  return x->at < y->at ? -1 : x->at > y->at;
}

gsize
pl_dst_update_layer (float        *w,
                     float        *mask,
                     gsize         n,
                     double        fraction,
                     PlDstGrowth   growth,
                     const float  *grad,
                     PlRng        *rng)
{
  g_autofree Entry *e = NULL;
  gsize active = 0, k, m = 0;

  g_return_val_if_fail (w != NULL && mask != NULL, 0);
  g_return_val_if_fail (growth == PL_DST_SET ? rng != NULL : grad != NULL, 0);
  g_return_val_if_fail (fraction >= 0.0 && fraction <= 1.0, 0);

  for (gsize j = 0; j < n; j++)
    active += mask[j] != 0.0f;
  k = (gsize) floor (fraction * (double) active);
  if (k == 0)
    return 0;

  /* drop: the k active weights of smallest |w| */
  e = g_new (Entry, n);
  for (gsize j = 0; j < n; j++)
    if (mask[j] != 0.0f)
      e[m++] = (Entry) { fabsf (w[j]), j };
  qsort (e, m, sizeof *e, compare_entries);
  for (gsize c = 0; c < k; c++)
    {
      mask[e[c].at] = 0.0f;
      w[e[c].at] = 0.0f;
    }

  /* grow: k of the inactive weights (after the drop) */
  m = 0;
  for (gsize j = 0; j < n; j++)
    if (mask[j] == 0.0f)
      e[m++] = (Entry) { growth == PL_DST_RIGL ? -fabsf (grad[j]) : 0.0f, j };
  if (growth == PL_DST_RIGL)
    qsort (e, m, sizeof *e, compare_entries);
  else
    for (gsize c = 0; c < k; c++)   /* a partial Fisher–Yates shuffle */
      {
        gsize r = c + (gsize) pl_rng_below (rng, m - c);
        Entry t = e[c];

        e[c] = e[r];
        e[r] = t;
      }
  for (gsize c = 0; c < k; c++)
    {
      mask[e[c].at] = 1.0f;
      w[e[c].at] = 0.0f;
    }

  return k;
}
