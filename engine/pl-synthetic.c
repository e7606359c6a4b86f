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

/* the images: any class count up to the shapes there are (see make_shapes) */
static const SyntheticSet shapes_set = { "shapes", NULL, 0.3, 8, TRUE };

/* ---- shapes: a built-in image set for convolutional networks ------------------------------
 *
 * 28×28 greyscale images in [0, 1] (the side and range of Fashion-MNIST) of one of eight stroked
 * shapes, class k the k-th of shape_names. Each image draws its shape centred at a uniform
 * offset of ±SHAPE_SHIFT pixels from the image centre, of size r (a bar's half-length) uniform
 * in [5.25, 7.5], turned by a uniform angle of ±SHAPE_TURN radians, with a stroke of uniform
 * brightness in [0.6, 1] and half-width h in [1, 1.6] pixels, then adds Gaussian noise of
 * standard deviation @noise to every pixel and clips to [0, 1]. A pixel's ink is the stroke's
 * coverage by distance d from the pixel centre to the shape's outline: 1 within the half-width h,
 * falling linearly to 0 at h + 1 (one pixel of anti-aliasing). Ink reaches at most
 * 3 + 7.5 + 2.6 = 13.1 pixels from the centre, so no shape touches the border. The shapes differ by where their
 * strokes lie (bars by 90°, a bar and a diagonal by 45°, more than twice the turn), so a small
 * network separates them but the noise and jitter keep pruning's losses visible. */

#define SHAPE_SIDE   28
#define SHAPE_SHIFT  3.0
#define SHAPE_TURN   0.3
#define SHAPES_MAX_N 200000u  /* 627 MB of images */

static const char * const shape_names[] = {
  N_("horizontal bar"), N_("vertical bar"), N_("diagonal"), N_("plus"),
  N_("ring"), N_("square"), N_("cross"), N_("disc"),
};

/* Distance from the segment (ax, ay)–(bx, by) */
static double
segment_distance (double px,
                  double py,
                  double ax,
                  double ay,
                  double bx,
                  double by)
{
  double dx = bx - ax, dy = by - ay;
  double t = ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy);

  t = CLAMP (t, 0.0, 1.0);
  return hypot (px - ax - t * dx, py - ay - t * dy);
}

/* Distance from the outline of shape @cls of size r at (u, v), the pixel in the shape's own
 * turned, centred frame. */
static double
shape_distance (guint  cls,
                double u,
                double v,
                double r)
{
  switch (cls)
    {
    case 0:  return segment_distance (u, v, -r, 0, r, 0);
    case 1:  return segment_distance (u, v, 0, -r, 0, r);
    case 2:  return segment_distance (u, v, -0.8 * r, 0.8 * r, 0.8 * r, -0.8 * r);
    case 3:  return MIN (segment_distance (u, v, -r, 0, r, 0), segment_distance (u, v, 0, -r, 0, r));
    case 4:  return fabs (hypot (u, v) - 0.8 * r);
    case 5:  return fabs (MAX (fabs (u), fabs (v)) - 0.7 * r);
    case 6:  return MIN (segment_distance (u, v, -0.8 * r, -0.8 * r, 0.8 * r, 0.8 * r),
                         segment_distance (u, v, -0.8 * r, 0.8 * r, 0.8 * r, -0.8 * r));
    default: return MAX (hypot (u, v) - 0.55 * r, 0.0);  /* filled */
    }
}

static void
draw_shape (PlRng  *rng,
            guint   cls,
            double  noise,
            float  *image)
{
  double cx = (SHAPE_SIDE - 1) / 2.0 + SHAPE_SHIFT * (2.0 * pl_rng_uniform (rng) - 1.0);
  double cy = (SHAPE_SIDE - 1) / 2.0 + SHAPE_SHIFT * (2.0 * pl_rng_uniform (rng) - 1.0);
  double r = 7.5 * (0.7 + 0.3 * pl_rng_uniform (rng));
  double turn = SHAPE_TURN * (2.0 * pl_rng_uniform (rng) - 1.0);
  double ink = 0.6 + 0.4 * pl_rng_uniform (rng);
  double half = 1.0 + 0.6 * pl_rng_uniform (rng);
  double c = cos (turn), s = sin (turn);

  for (guint y = 0; y < SHAPE_SIDE; y++)
    for (guint x = 0; x < SHAPE_SIDE; x++)
      {
        double dx = x - cx, dy = y - cy;
        double d = shape_distance (cls, c * dx + s * dy, -s * dx + c * dy, r);
        double value = ink * CLAMP (half + 1.0 - d, 0.0, 1.0);

        if (noise > 0)
          value += noise * pl_rng_normal (rng);
        image[y * SHAPE_SIDE + x] = (float) CLAMP (value, 0.0, 1.0);
      }
}

static PlDataset *
make_shapes (guint    n,
             double   noise,
             guint    n_classes,
             guint64  seed)
{
  PlDataset *data = pl_dataset_new (n, SHAPE_SIDE * SHAPE_SIDE, n_classes);
  PlRng rng;

  pl_rng_init (&rng, seed);
  for (guint i = 0; i < n; i++)
    {
      data->y[i] = i % n_classes;
      draw_shape (&rng, data->y[i], noise, data->x + (gsize) i * SHAPE_SIDE * SHAPE_SIDE);
    }
  return data;
}

static const char * const names[] = { "spiral", "moons", "circles", "xor", "blobs", "shapes", NULL };

G_STATIC_ASSERT (G_N_ELEMENTS (names) == G_N_ELEMENTS (sets) + 2);

guint
pl_synthetic_image_side (const char *name)
{
  return g_strcmp0 (name, "shapes") == 0 ? SHAPE_SIDE : 0;
}

const char *
pl_synthetic_class_name (const char *name,
                         guint       cls)
{
  if (g_strcmp0 (name, "shapes") == 0 && cls < G_N_ELEMENTS (shape_names))
    return _(shape_names[cls]);
  return NULL;
}

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
  if (strcmp (name, "shapes") == 0)
    set = &shapes_set;
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
  if (n_classes < 2 || n_classes > (set == &shapes_set ? G_N_ELEMENTS (shape_names) : SYNTHETIC_MAX_CLASSES))
    {
      g_set_error (error, PL_SPEC_ERROR, PL_SPEC_ERROR_INVALID,
                   _("%s: %u classes; 2 to %u are supported"), name, n_classes,
                   set == &shapes_set ? (guint) G_N_ELEMENTS (shape_names) : SYNTHETIC_MAX_CLASSES);
      return NULL;
    }

  if (n < n_classes || n > (set == &shapes_set ? SHAPES_MAX_N : SYNTHETIC_MAX_N))
    {
      g_set_error (error, PL_SPEC_ERROR, PL_SPEC_ERROR_INVALID,
                   _("%s: %u samples; %u to %u are supported"), name, n, n_classes,
                   set == &shapes_set ? SHAPES_MAX_N : SYNTHETIC_MAX_N);
      return NULL;
    }

  if (set == &shapes_set)
    return make_shapes (n, noise, n_classes, seed);

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
