/* pl-rng.h — a small seeded random number generator (xoshiro256**, seeded by splitmix64)
 *
 * GLib's GRand is a Mersenne Twister whose doubles are fine but whose state is large and whose
 * sequence is not documented to stay the same across GLib versions; runs must be bit-identical
 * for a seed, so the engine uses its own generator.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  guint64 s[4];
} PlRng;

void    pl_rng_init     (PlRng *rng, guint64 seed);
guint64 pl_rng_next     (PlRng *rng);
/* Uniform in [0, 1). */
double  pl_rng_uniform  (PlRng *rng);
/* Uniform integer in [0, n), n > 0, without modulo bias. */
guint64 pl_rng_below    (PlRng *rng, guint64 n);
/* Standard normal (Box–Muller, one value per call). */
double  pl_rng_normal   (PlRng *rng);
/* Fisher–Yates shuffle of n indices. */
void    pl_rng_shuffle  (PlRng *rng, guint32 *idx, gsize n);

G_END_DECLS
