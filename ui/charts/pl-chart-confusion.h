/* pl-chart-confusion.h — a confusion matrix, cells coloured by their share of the true class */
#pragma once

#include <cairo.h>
#include <glib.h>

#include "pl-chart-style.h"

G_BEGIN_DECLS

typedef struct {
  const char          *title;         /* may be NULL: "Confusion matrix" */
  guint                n_classes;
  const guint32       *counts;        /* borrowed, (n_classes, n_classes): [true][predicted],
                                       * as PlEvaluation.confusion */
  const char * const  *class_names;   /* borrowed, (n_classes) or NULL: the class numbers */
} PlConfusionData;

void         pl_chart_draw_confusion           (cairo_t               *cr,
                                                double                 width,
                                                double                 height,
                                                const PlConfusionData *data,
                                                const PlChartStyle    *style);
/* x: predicted class (cell j spans j..j+1), y: true class (row i spans i..i+1 downwards). */
gboolean     pl_chart_confusion_layout         (cairo_t               *cr,
                                                double                 width,
                                                double                 height,
                                                const PlConfusionData *data,
                                                const PlChartStyle    *style,
                                                PlChartArea           *area);
const char  *pl_chart_confusion_empty_message  (const PlConfusionData *data);
/* true,predicted,count,share_of_true */
void         pl_chart_confusion_write_csv      (const PlConfusionData *data,
                                                GString               *csv);

G_END_DECLS
