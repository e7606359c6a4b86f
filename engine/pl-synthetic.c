#define G_LOG_DOMAIN "pl-synthetic"

#include "config.h"

#include "pl-dataset.h"

#include <math.h>
#include <string.h>

#include <glib/gi18n-lib.h>

#include "pl-error.h"
#include "pl-rng.h"

/* Built-in 2-D sets, so the app starts without a download. Each generator draws one point of a
 * given class from a PlRng; features stay roughly within [-1.5, 1.5]. Sample i has class
 * i mod K, which keeps the classes balanced and interleaved without a shuffle. */

#define SYNTHETIC_MAX_N        10000000u
#define SYNTHETIC_MAX_CLASSES  100u
#define SYNTHETIC_MAX_NOISE    10.0

typedef void (*DrawFunc) (PlRng  *rng,
                          guint   cls,
                          guint   n_classes,
                          double  noise,
                          double *x,
                          double *y);

typedef struct {
  const char *name;
  DrawFunc    draw;
  double      default_noise;
  guint       default_classes;
  gboolean    any_classes;     /* FALSE: exactly two classes */
} SyntheticSet;

/* Arms of a spiral (after the CS231n example): radius r uniform in [0, 1), angle sweeping
 * 4 radians along the arm, arms evenly spaced; the noise is on the angle. */
static void
draw_spiral (PlRng  *rng,
             guint   cls,
             guint   n_classes,
             double  noise,
             double *x,
             double *y)
{
  double r = pl_rng_uniform (rng);
  double t = cls * (2.0 * G_PI / n_classes) + 4.0 * r + noise * pl_rng_normal (rng);

  *x = r * sin (t);
  *y = r * cos (t);
}

/* Two interleaved half circles (as scikit-learn's make_moons), centred on the origin. */
static void
draw_moons (PlRng  *rng,
            guint   cls,
            guint   n_classes,
            double  noise,
            double *x,
            double *y)
{
  double t = G_PI * pl_rng_uniform (rng);

  if (cls == 0)
    {
      *x = cos (t);
      *y = sin (t);
    }
  else
    {
      *x = 1.0 - cos (t);
      *y = 0.5 - sin (t);
    }
  *x += noise * pl_rng_normal (rng) - 0.5;
  *y += noise * pl_rng_normal (rng) - 0.25;
}

/* Two concentric circles, radii 1 and 0.5 (make_circles with factor 0.5). */
static void
draw_circles (PlRng  *rng,
              guint   cls,
              guint   n_classes,
              double  noise,
              double *x,
              double *y)
{
  double t = 2.0 * G_PI * pl_rng_uniform (rng);
  double r = cls == 0 ? 1.0 : 0.5;

  *x = r * cos (t) + noise * pl_rng_normal (rng);
  *y = r * sin (t) + noise * pl_rng_normal (rng);
}

/* Uniform in [-1, 1]², class 1 where x·y < 0 (before the noise is added). */
static void
draw_xor (PlRng  *rng,
          guint   cls,
          guint   n_classes,
          double  noise,
          double *x,
          double *y)
{
  double s = pl_rng_uniform (rng) < 0.5 ? -1.0 : 1.0;
  double a = pl_rng_uniform (rng);
  double b = pl_rng_uniform (rng);

  *x = s * a + noise * pl_rng_normal (rng);
  *y = (cls == 0 ? s : -s) * b + noise * pl_rng_normal (rng);
}

/* Gaussian blobs whose centres sit evenly on the unit circle. */
static void
draw_blobs (PlRng  *rng,
            guint   cls,
            guint   n_classes,
            double  noise,
            double *x,
            double *y)
{
  double t = cls * (2.0 * G_PI / n_classes);

  *x = cos (t) + noise * pl_rng_normal (rng);
  *y = sin (t) + noise * pl_rng_normal (rng);
}

static const SyntheticSet sets[] = {
  { "spiral",  draw_spiral,  0.2,  3, TRUE  },
  { "moons",   draw_moons,   0.1,  2, FALSE },
  { "circles", draw_circles, 0.05, 2, FALSE },
  { "xor",     draw_xor,     0.1,  2, FALSE },
  { "blobs",   draw_blobs,   0.25, 3, TRUE  },
};

static const char * const names[] = { "spiral", "moons", "circles", "xor", "blobs", NULL };

G_STATIC_ASSERT (G_N_ELEMENTS (names) == G_N_ELEMENTS (sets) + 1);

const char * const *
pl_synthetic_names (void)
{
  return names;
}

PlDataset *
pl_synthetic_make (const char  *name,
                   guint        n,
                   double       noise,
                   guint        n_classes,
                   guint64      seed,
                   GError     **error)
{
  const SyntheticSet *set = NULL;
  PlDataset *data;
  PlRng rng;

  g_return_val_if_fail (name != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (sets); i++)
    if (strcmp (sets[i].name, name) == 0)
      set = &sets[i];
  if (set == NULL)
    {
      g_autofree char *known = g_strjoinv (", ", (char **) names);

      g_set_error (error, PL_SPEC_ERROR, PL_SPEC_ERROR_UNKNOWN_NAME,
                   _("Unknown built-in dataset “%s” (known: %s)"), name, known);
      return NULL;
    }

  if (isnan (noise) || isinf (noise) || noise > SYNTHETIC_MAX_NOISE)
    {
      g_set_error (error, PL_SPEC_ERROR, PL_SPEC_ERROR_INVALID,
                   _("%s: noise %g is not between 0 and %g"), name, noise,
                   SYNTHETIC_MAX_NOISE);
      return NULL;
    }
  if (noise < 0)
    noise = set->default_noise;

  if (n_classes == 0)
    n_classes = set->default_classes;
  if (!set->any_classes && n_classes != 2)
    {
      g_set_error (error, PL_SPEC_ERROR, PL_SPEC_ERROR_INVALID,
                   _("%s: has exactly 2 classes, not %u"), name, n_classes);
      return NULL;
    }
  if (n_classes < 2 || n_classes > SYNTHETIC_MAX_CLASSES)
    {
      g_set_error (error, PL_SPEC_ERROR, PL_SPEC_ERROR_INVALID,
                   _("%s: %u classes; 2 to %u are supported"), name, n_classes,
                   SYNTHETIC_MAX_CLASSES);
      return NULL;
    }

  if (n < n_classes || n > SYNTHETIC_MAX_N)
    {
      g_set_error (error, PL_SPEC_ERROR, PL_SPEC_ERROR_INVALID,
                   _("%s: %u samples; %u to %u are supported"), name, n, n_classes,
                   SYNTHETIC_MAX_N);
      return NULL;
    }

  data = pl_dataset_new (n, 2, n_classes);
  pl_rng_init (&rng, seed);
  for (guint i = 0; i < n; i++)
    {
      guint cls = i % n_classes;
      double x, y;

      set->draw (&rng, cls, n_classes, noise, &x, &y);
      data->x[2 * (gsize) i] = (float) x;
      data->x[2 * (gsize) i + 1] = (float) y;
      data->y[i] = cls;
    }

  return data;
}
