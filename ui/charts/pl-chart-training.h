/* pl-chart-training.h — training curves: loss and accuracy per epoch; gradient norm per step */
#pragma once

#include <cairo.h>
#include <glib.h>

#include "pl-chart-style.h"

G_BEGIN_DECLS

typedef struct {
  const char   *title;            /* may be NULL: "Training" */
  guint         n;                /* epochs */
  const double *epoch;            /* borrowed, (n); NULL: 1 … n */
  const double *train_loss;       /* borrowed, (n); NaN: not measured */
  const double *val_loss;         /* borrowed, (n) or NULL */
  const double *train_accuracy;   /* borrowed, (n) or NULL */
  const double *val_accuracy;     /* borrowed, (n) or NULL */
} PlTrainingData;

typedef struct {
  const char  *title;             /* may be NULL: "Gradient norm" */
  guint        n;                 /* steps */
  const float *norms;             /* borrowed, (n): global L2 norm before clipping */
  double       clip_norm;         /* > 0: drawn as the clipping level */
  double       clip_value;        /* > 0: said in the note (per-entry clipping has no level) */
  guint        steps_per_epoch;   /* > 0: epochs marked on the axis */
  gboolean     log_y;
} PlGradNormData;

void         pl_chart_draw_training           (cairo_t              *cr,
                                               double                width,
                                               double                height,
                                               const PlTrainingData *data,
                                               const PlChartStyle   *style);
/* areas[0]: loss over epochs; areas[1]: accuracy over epochs (zero size when there is none). */
gboolean     pl_chart_training_layout         (cairo_t              *cr,
                                               double                width,
                                               double                height,
                                               const PlTrainingData *data,
                                               const PlChartStyle   *style,
                                               PlChartArea           areas[2]);
const char  *pl_chart_training_empty_message  (const PlTrainingData *data);
/* epoch,train_loss,val_loss,train_accuracy,val_accuracy */
void         pl_chart_training_write_csv      (const PlTrainingData *data,
                                               GString              *csv);

void         pl_chart_draw_grad_norm          (cairo_t              *cr,
                                               double                width,
                                               double                height,
                                               const PlGradNormData *data,
                                               const PlChartStyle   *style);
/* x: step (1 … n), y: norm. */
gboolean     pl_chart_grad_norm_layout        (cairo_t              *cr,
                                               double                width,
                                               double                height,
                                               const PlGradNormData *data,
                                               const PlChartStyle   *style,
                                               PlChartArea          *area);
const char  *pl_chart_grad_norm_empty_message (const PlGradNormData *data);
/* step,grad_norm,clip_norm */
void         pl_chart_grad_norm_write_csv     (const PlGradNormData *data,
                                               GString              *csv);

G_END_DECLS
