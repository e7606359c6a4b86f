#include "config.h"

#include <math.h>

#include "pl-rng.h"

static void
test_same_seed_same_sequence (void)
{
  PlRng a, b, c;

  pl_rng_init (&a, 42);
  pl_rng_init (&b, 42);
  pl_rng_init (&c, 43);
  for (guint i = 0; i < 1000; i++)
    {
      guint64 x = pl_rng_next (&a);

      g_assert_cmpuint (x, ==, pl_rng_next (&b));
      if (i == 0)
        g_assert_cmpuint (x, !=, pl_rng_next (&c));
    }
}

static void
test_known_values (void)
{
  PlRng rng;

  /* Pinned so that a change of generator, which would change every seeded run, is noticed. */
  pl_rng_init (&rng, 1);
  g_assert_cmpuint (pl_rng_next (&rng), ==, G_GUINT64_CONSTANT (0xb3f2af6d0fc710c5));
}

static void
test_uniform_and_normal_moments (void)
{
  PlRng rng;
  double sum = 0, sq = 0, nsum = 0, nsq = 0;
  const guint n = 200000;

  pl_rng_init (&rng, 7);
  for (guint i = 0; i < n; i++)
    {
      double u = pl_rng_uniform (&rng);
      double z = pl_rng_normal (&rng);

      g_assert_cmpfloat (u, >=, 0.0);
      g_assert_cmpfloat (u, <, 1.0);
      sum += u;
      sq += u * u;
      nsum += z;
      nsq += z * z;
    }
  g_assert_cmpfloat_with_epsilon (sum / n, 0.5, 0.005);
  g_assert_cmpfloat_with_epsilon (sq / n - (sum / n) * (sum / n), 1.0 / 12, 0.002);
  g_assert_cmpfloat_with_epsilon (nsum / n, 0.0, 0.01);
  g_assert_cmpfloat_with_epsilon (nsq / n, 1.0, 0.02);
}

static void
test_below_covers_range_evenly (void)
{
  PlRng rng;
  guint counts[7] = { 0 };

  pl_rng_init (&rng, 3);
  for (guint i = 0; i < 70000; i++)
    {
      guint64 v = pl_rng_below (&rng, 7);

      g_assert_cmpuint (v, <, 7);
      counts[v]++;
    }
  for (guint k = 0; k < 7; k++)
    g_assert_cmpuint (counts[k], >, 9500);
}

static void
test_shuffle_is_permutation (void)
{
  PlRng rng;
  guint32 idx[100];
  gboolean seen[100] = { FALSE };
  guint moved = 0;

  pl_rng_init (&rng, 5);
  for (guint i = 0; i < 100; i++)
    idx[i] = i;
  pl_rng_shuffle (&rng, idx, 100);
  for (guint i = 0; i < 100; i++)
    {
      g_assert_cmpuint (idx[i], <, 100);
      g_assert_false (seen[idx[i]]);
      seen[idx[i]] = TRUE;
      moved += idx[i] != i;
    }
  g_assert_cmpuint (moved, >, 80);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/engine/rng/same-seed-same-sequence", test_same_seed_same_sequence);
  g_test_add_func ("/engine/rng/known-values", test_known_values);
  g_test_add_func ("/engine/rng/uniform-and-normal-moments", test_uniform_and_normal_moments);
  g_test_add_func ("/engine/rng/below-covers-range-evenly", test_below_covers_range_evenly);
  g_test_add_func ("/engine/rng/shuffle-is-permutation", test_shuffle_is_permutation);
  return g_test_run ();
}
