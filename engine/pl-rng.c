#define G_LOG_DOMAIN "pl-rng"

#include "config.h"

#include <math.h>

#include "pl-rng.h"

static guint64
splitmix64 (guint64 *x)
{
  guint64 z = (*x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

static inline guint64
rotl (guint64 x, int k)
{
  return (x << k) | (x >> (64 - k));
}

void
pl_rng_init (PlRng   *rng,
             guint64  seed)
{
  guint64 x = seed;

  for (guint i = 0; i < 4; i++)
    rng->s[i] = splitmix64 (&x);
}

/* xoshiro256** (Blackman & Vigna 2018) */
guint64
pl_rng_next (PlRng *rng)
{
  guint64 *s = rng->s;
  guint64 result = rotl (s[1] * 5, 7) * 9;
  guint64 t = s[1] << 17;

  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl (s[3], 45);

  return result;
}

double
pl_rng_uniform (PlRng *rng)
{
  return (pl_rng_next (rng) >> 11) * 0x1.0p-53;
}

guint64
pl_rng_below (PlRng   *rng,
              guint64  n)
{
  guint64 limit;
  guint64 r;

  g_assert (n > 0);
  limit = G_MAXUINT64 - G_MAXUINT64 % n;
  do
    r = pl_rng_next (rng);
  while (r >= limit);

  return r % n;
}

double
pl_rng_normal (PlRng *rng)
{
  double u1 = 1.0 - pl_rng_uniform (rng); /* (0, 1] so log is finite */
  double u2 = pl_rng_uniform (rng);

  return sqrt (-2.0 * log (u1)) * cos (2.0 * G_PI * u2);
}

void
pl_rng_shuffle (PlRng   *rng,
                guint32 *idx,
                gsize    n)
{
  for (gsize i = n; i > 1; i--)
    {
      gsize j = pl_rng_below (rng, i);
      guint32 t = idx[i - 1];
      idx[i - 1] = idx[j];
      idx[j] = t;
    }
}
