/* pl-dst.h — dynamic sparse training: the mask updates of SET and RigL
 *
 * A sparse network trains from scratch at a fixed sparsity; every ΔT steps, until T_end, each
 * layer drops the fraction
 *   f(t) = α/2 · (1 + cos(π t / T_end))            (Evci et al. 2020, "Rigging the Lottery:
 *                                                   Making All Tickets Winners", eq. 1)
 * of its active weights with the smallest |w| and grows as many: at random among the inactive
 * ones (SET: Mocanu et al. 2018, "Scalable Training of Artificial Neural Networks with Adaptive
 * Sparse Connectivity Inspired by Network Science") or those with the largest |∂L/∂w| of the
 * dense gradient (RigL, Evci et al. 2020, Algorithm 1). The candidates to grow are the inactive
 * weights after the drop, so a weight just dropped may come back; every grown weight starts at
 * 0. The number of active weights of each layer never changes.
 */
#pragma once

#include <glib.h>

#include "pl-rng.h"

G_BEGIN_DECLS

typedef enum {
  PL_DST_SET,    /* grow at random */
  PL_DST_RIGL,   /* grow by |dense gradient| */
} PlDstGrowth;

/* f(t) = α/2 · (1 + cos(π t / T_end)) for t < T_end, 0 from T_end on. */
double pl_dst_drop_fraction (double    alpha,
                             guint64   t,
                             guint64   t_end);

/* One layer's update: of its n weights @w with @mask (1 active, 0 not), k = ⌊fraction · active⌋
 * active ones with the smallest |w| are dropped (equal |w| by position, lowest first), then k
 * inactive ones grown: with PL_DST_RIGL those with the largest |@grad| (n values; equal ones by
 * position, lowest first), with PL_DST_SET k drawn uniformly without replacement by @rng (grad
 * may be NULL). Dropped and grown weights are set to 0. Returns k. */
gsize  pl_dst_update_layer  (float        *w,
                             float        *mask,
                             gsize         n,
                             double        fraction,
                             PlDstGrowth   growth,
                             const float  *grad,
                             PlRng        *rng);

G_END_DECLS
