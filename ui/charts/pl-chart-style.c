/* pl-chart-style.c — themes, palettes, ticks, number formats and plot-area mapping */
#define G_LOG_DOMAIN "pl-chart"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <math.h>
#include <string.h>

#include "pl-chart-style.h"
#include "pl-chart-private.h"

G_DEFINE_QUARK (pl-chart-error-quark, pl_chart_error)

#define RGB(hex) { ((hex) >> 16 & 0xff) / 255.0, ((hex) >> 8 & 0xff) / 255.0, ((hex) & 0xff) / 255.0, 1.0 }

/* Okabe & Ito (2008), "Color Universal Design": eight colours told apart with every common
 * colour-vision deficiency. Ordered so that the first ones contrast best with the background;
 * yellow, weak on white, comes last on light themes. */
static const PlRgba okabe_ito_light[PL_CHART_N_SERIES] = {
  RGB (0x0072B2), RGB (0xD55E00), RGB (0x009E73), RGB (0xCC79A7),
  RGB (0xE69F00), RGB (0x56B4E9), RGB (0x000000), RGB (0xF0E442),
};
static const PlRgba okabe_ito_dark[PL_CHART_N_SERIES] = {
  RGB (0x56B4E9), RGB (0xE69F00), RGB (0x009E73), RGB (0xCC79A7),
  RGB (0xF0E442), RGB (0xD55E00), RGB (0xFFFFFF), RGB (0x0072B2),
};

/* Viridis (van der Walt & Smith, matplotlib), sampled at i/9: interpolating linearly between
 * these keeps it perceptually ordered and readable in grey. */
static const guint32 viridis_stops[] = {
  0x440154, 0x482878, 0x3E4A89, 0x31688E, 0x26828E,
  0x1F9E89, 0x35B779, 0x6DCD59, 0xB4DE2C, 0xFDE725,
};

/* ColorBrewer RdBu (Brewer 2003), from −1 (dark blue) through a near-white centre to +1 (dark
 * red): negative weights blue, positive red. */
static const guint32 rdbu_stops[] = {
  0x053061, 0x2166AC, 0x4393C3, 0x92C5DE, 0xD1E5F0, 0xF7F7F7,
  0xFDDBC7, 0xF4A582, 0xD6604D, 0xB2182B, 0x67001F,
};

/* For dark backgrounds: the same hues running out to light ends through a mid-grey centre, so
 * that large weights stand out and pruned ones (near black) read as holes. */
static const guint32 dark_diverging_stops[] = {
  0xA6D3FF, 0x84BCF2, 0x6399D2, 0x557BA4, 0x586879, 0x5E5E5E,
  0x7A605A, 0x9E5C4A, 0xC7674A, 0xEB8764, 0xFFC1A6,
};

void
pl_chart_style_init (PlChartStyle *style,
                     PlChartTheme  theme)
{
  static const PlRgba black = RGB (0x000000);

  g_return_if_fail (style != NULL);

  memset (style, 0, sizeof *style);
  style->theme = theme;
  /* Noto Sans CJK carries the Chinese glyphs; fontconfig falls back through the list. */
  style->font_family = "DejaVu Sans, Noto Sans CJK SC, Sans";
  style->font_size = 12;
  style->label_size = 13;
  style->title_size = 16;
  style->line_width = 2;
  style->axis_width = 1;
  style->marker_radius = 3.5;
  style->padding = 14;

  switch (theme)
    {
    case PL_CHART_THEME_DARK:
      style->background = (PlRgba) RGB (0x1E1E1E);
      style->foreground = (PlRgba) RGB (0xEEEEEE);
      style->muted = (PlRgba) RGB (0xB4B4B4);
      style->grid = (PlRgba) RGB (0x3A3A3A);
      style->mask = (PlRgba) RGB (0x0C0C0C);
      style->dead = (PlRgba) RGB (0x5C5C5C);
      style->reference = (PlRgba) RGB (0xEEEEEE);
      memcpy (style->series, okabe_ito_dark, sizeof style->series);
      style->dark_diverging = TRUE;
      break;

    case PL_CHART_THEME_PRESENTATION:
      /* For a projector: large type, thick lines, black on white. */
      style->background = (PlRgba) RGB (0xFFFFFF);
      style->foreground = black;
      style->muted = (PlRgba) RGB (0x1A1A1A);
      style->grid = (PlRgba) RGB (0xC8C8C8);
      style->mask = (PlRgba) RGB (0x9A9A9A);
      style->dead = (PlRgba) RGB (0xBDBDBD);
      style->reference = black;
      memcpy (style->series, okabe_ito_light, sizeof style->series);
      style->font_size = 20;
      style->label_size = 22;
      style->title_size = 28;
      style->line_width = 4.5;
      style->axis_width = 2;
      style->marker_radius = 6.5;
      style->padding = 20;
      break;

    case PL_CHART_THEME_LIGHT:
    default:
      style->theme = PL_CHART_THEME_LIGHT;
      style->background = (PlRgba) RGB (0xFFFFFF);
      style->foreground = (PlRgba) RGB (0x1F1F1F);
      style->muted = (PlRgba) RGB (0x555555);
      style->grid = (PlRgba) RGB (0xE4E4E4);
      style->mask = (PlRgba) RGB (0xBDBDBD);
      style->dead = (PlRgba) RGB (0xC8C8C8);
      style->reference = (PlRgba) RGB (0x1F1F1F);
      memcpy (style->series, okabe_ito_light, sizeof style->series);
      break;
    }
}

gboolean
pl_chart_theme_parse (const char    *name,
                      PlChartTheme  *theme,
                      GError       **error)
{
  g_return_val_if_fail (name != NULL && theme != NULL, FALSE);

  if (strcmp (name, "light") == 0)
    *theme = PL_CHART_THEME_LIGHT;
  else if (strcmp (name, "dark") == 0)
    *theme = PL_CHART_THEME_DARK;
  else if (strcmp (name, "presentation") == 0)
    *theme = PL_CHART_THEME_PRESENTATION;
  else
    {
      g_set_error (error, PL_CHART_ERROR, PL_CHART_ERROR_INVALID,
                   _("unknown theme “%s” (light, dark or presentation)"), name);
      return FALSE;
    }
  return TRUE;
}

const char *
pl_chart_theme_to_string (PlChartTheme theme)
{
  switch (theme)
    {
    case PL_CHART_THEME_DARK:
      return "dark";
    case PL_CHART_THEME_PRESENTATION:
      return "presentation";
    case PL_CHART_THEME_LIGHT:
    default:
      return "light";
    }
}

/* ----- colours ----- */

void
pl_chart_series_colour (const PlChartStyle *style,
                        guint               index,
                        PlRgba             *colour)
{
  *colour = style->series[index % PL_CHART_N_SERIES];
}

guint
pl_chart_series_dash (const PlChartStyle *style,
                      guint               index,
                      double              dash[2])
{
  switch ((index / PL_CHART_N_SERIES) % 3)
    {
    case 1:
      dash[0] = 4 * style->line_width;
      dash[1] = 2 * style->line_width;
      return 2;
    case 2:
      dash[0] = 1 * style->line_width;
      dash[1] = 1.5 * style->line_width;
      return 2;
    default:
      return 0;
    }
}

static void
interpolate_stops (const guint32 *stops,
                   guint          n_stops,
                   double         t,
                   PlRgba        *colour)
{
  double pos;
  guint i;
  double f;
  PlRgba a, b;

  t = isnan (t) ? 0.0 : CLAMP (t, 0.0, 1.0);
  pos = t * (n_stops - 1);
  i = MIN ((guint) pos, n_stops - 2);
  f = pos - i;
  a = (PlRgba) RGB (stops[i]);
  b = (PlRgba) RGB (stops[i + 1]);
  colour->r = a.r + f * (b.r - a.r);
  colour->g = a.g + f * (b.g - a.g);
  colour->b = a.b + f * (b.b - a.b);
  colour->a = 1.0;
}

void
pl_chart_diverging (const PlChartStyle *style,
                    double              t,
                    PlRgba             *colour)
{
  if (style->dark_diverging)
    interpolate_stops (dark_diverging_stops, G_N_ELEMENTS (dark_diverging_stops), (t + 1) / 2, colour);
  else
    interpolate_stops (rdbu_stops, G_N_ELEMENTS (rdbu_stops), (t + 1) / 2, colour);
}

void
pl_chart_sequential (double  t,
                     PlRgba *colour)
{
  interpolate_stops (viridis_stops, G_N_ELEMENTS (viridis_stops), t, colour);
}

guint32
pl_rgba_to_pixel (const PlRgba *c)
{
  /* Premultiplied ARGB32, as cairo stores it. */
  double a = CLAMP (c->a, 0.0, 1.0);
  guint32 A = (guint32) lround (a * 255);
  guint32 R = (guint32) lround (CLAMP (c->r, 0.0, 1.0) * a * 255);
  guint32 G = (guint32) lround (CLAMP (c->g, 0.0, 1.0) * a * 255);
  guint32 B = (guint32) lround (CLAMP (c->b, 0.0, 1.0) * a * 255);

  return A << 24 | R << 16 | G << 8 | B;
}

void
pl_rgba_mix (const PlRgba *colour,
             const PlRgba *other,
             double        t,
             PlRgba       *out)
{
  PlRgba r;

  r.r = colour->r + t * (other->r - colour->r);
  r.g = colour->g + t * (other->g - colour->g);
  r.b = colour->b + t * (other->b - colour->b);
  r.a = colour->a + t * (other->a - colour->a);
  *out = r;
}

void
pl_chart_set_source (cairo_t      *cr,
                     const PlRgba *c)
{
  if (c->a >= 1.0)
    cairo_set_source_rgb (cr, c->r, c->g, c->b);
  else
    cairo_set_source_rgba (cr, c->r, c->g, c->b, c->a);
}

static guint32 lut_rdbu[256], lut_dark[256], lut_viridis[256];

static void
fill_luts (void)
{
  for (guint i = 0; i < 256; i++)
    {
      PlRgba c;

      interpolate_stops (rdbu_stops, G_N_ELEMENTS (rdbu_stops), i / 255.0, &c);
      lut_rdbu[i] = pl_rgba_to_pixel (&c);
      interpolate_stops (dark_diverging_stops, G_N_ELEMENTS (dark_diverging_stops), i / 255.0, &c);
      lut_dark[i] = pl_rgba_to_pixel (&c);
      interpolate_stops (viridis_stops, G_N_ELEMENTS (viridis_stops), i / 255.0, &c);
      lut_viridis[i] = pl_rgba_to_pixel (&c);
    }
}

static void
ensure_luts (void)
{
  static gsize done = 0;

  if (g_once_init_enter (&done))
    {
      fill_luts ();
      g_once_init_leave (&done, 1);
    }
}

const guint32 *
pl_chart_diverging_lut (const PlChartStyle *style)
{
  ensure_luts ();
  return style->dark_diverging ? lut_dark : lut_rdbu;
}

const guint32 *
pl_chart_sequential_lut (void)
{
  ensure_luts ();
  return lut_viridis;
}

/* ----- ticks ----- */

double
pl_chart_nice_step (double span,
                    guint  target)
{
  double raw, mag, f;

  if (!(span > 0) || !isfinite (span))
    return 1.0;
  raw = span / MAX (target, 1u);
  mag = pow (10, floor (log10 (raw)));
  f = raw / mag;
  /* The nearest of 1, 2, 5, 10 on a log scale: the boundaries are their geometric means. */
  if (f < 1.4142)
    return mag;
  if (f < 3.1623)
    return 2 * mag;
  if (f < 7.0711)
    return 5 * mag;
  return 10 * mag;
}

void
pl_chart_nice_range (double *lo,
                     double *hi,
                     guint   target)
{
  double step;

  if (!isfinite (*lo) || !isfinite (*hi))
    {
      *lo = 0;
      *hi = 1;
      return;
    }
  if (*lo > *hi)
    {
      double t = *lo;
      *lo = *hi;
      *hi = t;
    }
  if (*hi - *lo <= fabs (*hi) * 1e-12)
    {
      double d = *hi != 0 ? fabs (*hi) * 0.1 : 1.0;
      *lo -= d;
      *hi += d;
    }
  step = pl_chart_nice_step (*hi - *lo, target);
  *lo = floor (*lo / step + 1e-9) * step;
  *hi = ceil (*hi / step - 1e-9) * step;
}

void
pl_chart_ticks_linear (double        lo,
                       double        hi,
                       guint         target,
                       PlChartTicks *ticks)
{
  double a = MIN (lo, hi), b = MAX (lo, hi);
  double step, first;

  ticks->n = 0;
  ticks->step = 1;
  if (!isfinite (a) || !isfinite (b) || !(b > a))
    return;
  step = pl_chart_nice_step (b - a, target);
  while ((b - a) / step > PL_CHART_MAX_TICKS - 1)
    step *= 2;
  ticks->step = step;
  first = ceil (a / step - 1e-9);
  for (double k = first; k * step <= b + step * 1e-9 && ticks->n < PL_CHART_MAX_TICKS; k++)
    {
      double v = k * step;

      /* Exact zero, not 1e-17 from rounding. */
      ticks->values[ticks->n++] = fabs (v) < step * 1e-9 ? 0.0 : v;
    }
}

void
pl_chart_ticks_log (double        lo,
                    double        hi,
                    guint         target,
                    PlChartTicks *ticks)
{
  double a = MIN (lo, hi), b = MAX (lo, hi);
  int e0, e1;
  static const double all[] = { 1, 2, 5 };
  guint per;

  ticks->n = 0;
  ticks->step = 1;
  if (!(a > 0) || !isfinite (b) || !(b > a))
    return;
  e0 = (int) floor (log10 (a) + 1e-9);
  e1 = (int) ceil (log10 (b) - 1e-9);
  /* 1, 2, 5 per decade when they fit, else every decade, else every k-th decade. */
  per = (e1 - e0) * 3 <= (int) MAX (target, 2u) + 1 ? 3 : 1;
  {
    int every = per == 3 ? 1 : MAX (1, (e1 - e0 + (int) target - 1) / (int) MAX (target, 1u));

    for (int e = e0; e <= e1; e++)
      {
        if (per == 1 && (e - e0) % every != 0)
          continue;
        for (guint k = 0; k < per; k++)
          {
            double v = all[k] * pow (10, e);

            if (v >= a * (1 - 1e-9) && v <= b * (1 + 1e-9) && ticks->n < PL_CHART_MAX_TICKS)
              ticks->values[ticks->n++] = v;
          }
      }
  }
  ticks->step = pow (10, e0);
}

/* ----- numbers ----- */

static const char *const superscripts[] = {
  "⁰", "¹", "²", "³", "⁴", "⁵", "⁶", "⁷", "⁸", "⁹",
};

static void
append_superscript (GString *s,
                    int      e)
{
  char digits[16];

  if (e < 0)
    g_string_append (s, "⁻");
  g_snprintf (digits, sizeof digits, "%d", ABS (e));
  for (const char *p = digits; *p; p++)
    g_string_append (s, superscripts[*p - '0']);
}

/* Trims trailing zeros after a decimal point ("2.50" → "2.5", "3.0" → "3"). */
static void
trim_zeros (GString *s)
{
  if (strchr (s->str, '.') == NULL)
    return;
  while (s->len > 0 && s->str[s->len - 1] == '0')
    g_string_truncate (s, s->len - 1);
  if (s->len > 0 && s->str[s->len - 1] == '.')
    g_string_truncate (s, s->len - 1);
}

void
pl_chart_format_number (char          *buf,
                        gsize          size,
                        double         value,
                        double         step,
                        PlChartNumber  format)
{
  g_autoptr(GString) s = g_string_new (NULL);
  const char *suffix = "";
  double a;
  gboolean negative;
  gboolean free_form = !(step > 0) || !isfinite (step);

  g_return_if_fail (buf != NULL && size > 0);

  if (!isfinite (value))
    {
      g_strlcpy (buf, "–", size);
      return;
    }

  if (format == PL_CHART_NUMBER_PERCENT)
    {
      value *= 100;
      step *= 100;
    }
  negative = value < 0;
  a = fabs (value);

  if (format == PL_CHART_NUMBER_INTEGER && !free_form && step < 1)
    step = 1;

  if (a >= 1e4 && (free_form || step >= 100 || format == PL_CHART_NUMBER_INTEGER))
    {
      /* 12 000 → 12k, 2 500 000 → 2.5M */
      double div = a >= 1e7 ? 1e6 : 1e3;

      suffix = a >= 1e7 ? "M" : "k";
      a /= div;
      step /= div;
    }

  if (a == 0)
    g_string_append (s, "0");
  else if ((free_form && (a < 1e-3 || a >= 1e7))
           || (!free_form && format == PL_CHART_NUMBER_PLAIN && step < 1e-3))
    {
      /* m×10ᵉ, with the exponent of the step (so one axis shares it) or of the value. */
      int e = (int) floor (log10 (free_form ? a : step) + 1e-9);
      double m = a / pow (10, e);
      int decimals = free_form ? 1 : 0;

      if (!free_form && fabs (m - round (m)) > 1e-6)
        decimals = 1;
      g_string_append_printf (s, "%.*f", decimals, m);
      trim_zeros (s);
      if (strcmp (s->str, "1") == 0)
        g_string_truncate (s, 0);
      else
        g_string_append (s, "×");
      g_string_append (s, "10");
      append_superscript (s, e);
    }
  else
    {
      int decimals;

      if (free_form)
        decimals = MAX (0, 3 - (int) floor (log10 (a)) - 1);
      else
        decimals = MAX (0, (int) -floor (log10 (step) + 1e-9));
      decimals = MIN (decimals, 9);
      g_string_append_printf (s, "%.*f", decimals, a);
      if (free_form)
        trim_zeros (s);
    }

  /* No "−0" after rounding. */
  if (negative && strspn (s->str, "0.") != s->len)
    g_string_prepend (s, "−");
  g_string_append (s, suffix);

  if (format == PL_CHART_NUMBER_PERCENT)
    {
      /* TRANSLATORS: a percentage on a chart axis; %s is the number */
      g_autofree char *text = g_strdup_printf (_("%s%%"), s->str);
      g_strlcpy (buf, text, size);
    }
  else
    g_strlcpy (buf, s->str, size);
}

/* ----- axes and areas ----- */

double
pl_chart_axis_fraction (const PlChartAxis *axis,
                        double             value)
{
  if (axis->log)
    {
      if (!(value > 0) || !(axis->lo > 0) || !(axis->hi > 0) || axis->lo == axis->hi)
        return NAN;
      return (log10 (value) - log10 (axis->lo)) / (log10 (axis->hi) - log10 (axis->lo));
    }
  if (axis->hi == axis->lo)
    return NAN;
  return (value - axis->lo) / (axis->hi - axis->lo);
}

double
pl_chart_axis_value (const PlChartAxis *axis,
                     double             fraction)
{
  if (axis->log)
    return pow (10, log10 (axis->lo) + fraction * (log10 (axis->hi) - log10 (axis->lo)));
  return axis->lo + fraction * (axis->hi - axis->lo);
}

double
pl_chart_area_x (const PlChartArea *area,
                 double             value)
{
  return area->x + pl_chart_axis_fraction (&area->x_axis, value) * area->width;
}

double
pl_chart_area_y (const PlChartArea *area,
                 double             value)
{
  return area->y + (1 - pl_chart_axis_fraction (&area->y_axis, value)) * area->height;
}

double
pl_chart_area_value_x (const PlChartArea *area,
                       double             px)
{
  return pl_chart_axis_value (&area->x_axis, (px - area->x) / area->width);
}

double
pl_chart_area_value_y (const PlChartArea *area,
                       double             py)
{
  return pl_chart_axis_value (&area->y_axis, 1 - (py - area->y) / area->height);
}

gboolean
pl_chart_area_contains (const PlChartArea *area,
                        double             px,
                        double             py)
{
  return px >= area->x && px <= area->x + area->width
         && py >= area->y && py <= area->y + area->height;
}

/* ----- the empty state ----- */

void
pl_chart_draw_message (cairo_t            *cr,
                       double              width,
                       double              height,
                       const char         *title,
                       const char         *message,
                       const PlChartStyle *style)
{
  PlCanvas c;
  double top = style->padding;

  g_return_if_fail (cr != NULL && style != NULL);

  cairo_save (cr);
  _pl_canvas_init (&c, cr, width, height, style);
  _pl_canvas_background (&c);
  if (title != NULL && *title)
    {
      double tw, th;

      _pl_text_size (&c, PL_TEXT_TITLE, title, width - 2 * style->padding, &tw, &th);
      _pl_text_draw (&c, PL_TEXT_TITLE, title, width / 2, top, 0.5, 0,
                     width - 2 * style->padding, FALSE, &style->foreground);
      top += th;
    }
  if (message != NULL)
    _pl_text_draw_wrapped (&c, PL_TEXT_LABEL, message, width / 2, (top + height) / 2,
                           MAX (width - 2 * style->padding, 1), 0.5, &style->muted);
  _pl_canvas_clear (&c);
  cairo_restore (cr);
}
