/* pl-window-private.h — the parts of PlWindow shared by pl-window*.c */
#pragma once

#include "pl-chart-view.h"
#include "pl-lesson-panel.h"
#include "pl-settings.h"
#include "pl-window.h"

G_BEGIN_DECLS

struct _PlWindow {
  AdwApplicationWindow  parent_instance;

  PlEngine             *engine;            /* owned */
  GSettings            *settings;          /* owned */
  PlSnapshot           *snapshot;          /* owned: the newest delivered */

  /* template children */
  AdwToastOverlay      *toast_overlay;
  AdwViewSwitcherTitle *switcher_title;
  AdwViewStack         *view_stack;
  GtkMenuButton        *export_button;
  AdwComboRow          *dataset_row;
  AdwComboRow          *network_row;  /* networks[] of pl-window.c: dense, LeNet-5 */
  AdwEntryRow          *arch_row;
  AdwComboRow          *activation_row;
  GtkSpinButton        *epochs_spin;
  GtkSpinButton        *lr_spin;
  GtkLabel             *status_label;
  GtkProgressBar       *progress_bar;
  AdwComboRow          *score_row;
  AdwComboRow          *scope_row;
  AdwComboRow          *nm_row;       /* off, 2:4, 4:8, 1:4 (_pl_window_nm) */
  GtkSwitch            *invert_switch;
  GtkScale             *sparsity_scale;
  GtkLabel             *accuracy_label;
  GtkLabel             *readout_label;
  GtkLabel             *explanation_label;
  GtkDropDown          *layer_dropdown;
  GtkLabel             *hover_label;
  GtkScrolledWindow    *heatmap_scroller;
  PlChartView          *heatmap_view;
  PlChartView          *histogram_view;
  PlChartView          *curves_view;
  GtkProgressBar       *sweep_progress;
  PlChartView          *training_view;
  PlChartView          *gradnorm_view;
  AdwViewStackPage     *model_page;
  PlChartView          *network_view;
  PlChartView          *boundary_view;
  PlChartView          *confusion_view;
  AdwViewStackPage     *filters_page;      /* a conv net's filters: shown only for one */
  PlChartView          *filters_view;
  AdwViewStackPage     *maps_page;         /* a conv net's feature maps: shown only for one */
  PlChartView          *maps_view;
  GtkSpinButton        *feature_spin;      /* the evaluation image of the maps */
  GtkLabel             *feature_class_label;
  GtkWidget            *measure_button;
  GtkWidget            *compact_button;
  GtkGrid              *metrics_grid;
  PlLessonPanel        *lesson_panel;
  GMenu                *lessons_menu;
  GtkWidget            *train_button;
  GtkWidget            *stop_button;
  GtkWidget            *undo_button;
  GtkWidget            *pruning_group;
  GtkWidget            *invert_row;
  GtkWidget            *apply_button;
  GtkWidget            *obs_button;
  GtkWidget            *fine_tune_button;
  GtkWidget            *rewind_button;
  GtkWidget            *network_group;
  GtkWidget            *epochs_row;
  GtkWidget            *lr_row;
  GtkWidget            *new_row;
  GtkWidget            *sweep_button;
  AdwComboRow          *penalty_row;
  GtkWidget            *lambda_row;
  GtkSpinButton        *lambda_spin;
  GtkWidget            *clip_row;
  GtkSpinButton        *clip_spin;
  GtkDropDown          *procedure_dropdown;
  GtkWidget            *procedure_button;
  GtkGrid              *sparse_grid;       /* pl-window-sparse.c */
  GtkLabel             *sparse_label;
  GMenu                *recent_menu;

  /* state */
  guint                 pending;           /* commands sent and not done */
  guint64               last_preview;      /* id of the newest preview request */
  double                drag_x0;           /* where the histogram drag began, widget px */
  gboolean              updating;          /* setting widgets from a snapshot: no commands */
  gboolean              presentation;
  double                zoom;              /* heatmap zoom, 1 = fit */
  guint                 layer;             /* heatmap layer */
  guint                 n_layers_listed;
  char                 *arch_listed;       /* owned: the architecture the layer list is of */
  char                 *data_spec_loaded;  /* owned: the spec last sent to the engine */
  guint                 load_data_id;      /* of that command, until it is done */
  double                hist_counts[64];   /* the score histogram, kept between previews */
  double                hist_lo, hist_hi;
  gboolean              hist_log;
  gboolean              hist_valid;

  /* lessons (pl-window-lesson.c) */
  GPtrArray            *lessons;           /* owned: the installed PlLessons */
  const PlLesson       *lesson;            /* borrowed from lessons: the open one, or NULL */
  guint                 lesson_step;       /* the step shown */
  gboolean              teacher_mode;      /* controls the step does not use are put away */
  gboolean              lesson_running;    /* a step's settings and actions are being run */
  /* measured latency and size (pl-window-sparse.c) */
  guint                 sparse_measure_id;       /* of the measurement running, else 0 */
  double                sparse_measure_sparsity; /* of the mask it measures */
  char                 *sparse_export_path;      /* owned: of the export running */
  /* sessions (pl-window-session.c) */
  char                 *session_path;      /* owned: opened from / saved to, else NULL */
  guint                 load_session_id;   /* of the load-session command, until done */
  double                session_slider;    /* the slider of the session being loaded */
  gboolean              session_by_threshold;
  char                 *session_loaded_lesson; /* owned: the lesson of the session loading, or NULL */
  guint                 session_loaded_step;
  char                 *session_lesson;    /* owned: a lesson (and 0-based step) a session opened
                                            * could not show, kept for its next save, or NULL */
  guint                 session_lesson_step;
  guint                 report_session_id; /* the session saved for Export Report, until done */
  char                 *report_session;    /* owned: that temporary session file */
  char                 *report_path;       /* owned: the PDF to write */
  GtkWidget            *reproduce_dialog;  /* weak: the Reproduce a Paper dialog open, or NULL */

  /* automation */
  char                **steps;             /* owned */
  guint                 step;
  guint                 step_source;
};

/* pl-window-charts.c: redraws the charts that the snapshot's changes touch */
void     _pl_window_update_charts     (PlWindow        *self,
                                       PlSnapshot      *snapshot,
                                       PlSnapshotChanged changed);
void     _pl_window_update_styles     (PlWindow        *self);
void     _pl_window_update_metrics    (PlWindow        *self,
                                       PlSnapshot      *snapshot);
/* the heatmap's hover read-out for a pointer position */
void     _pl_window_hover_heatmap     (PlWindow        *self,
                                       double           x,
                                       double           y);
/* the threshold under a pointer x on the histogram, if any */
gboolean _pl_window_histogram_value   (PlWindow        *self,
                                       double           x,
                                       double          *value);

/* pl-window-lesson.c: a lesson step as automation steps (transfer full) */
char    *_pl_window_lesson_automation (const PlLessonStep *step);
void     _pl_window_init_lessons      (PlWindow        *self);
void     _pl_window_class_init_lessons (GtkWidgetClass *widget_class);
/* An automation step of the lessons ("lesson=ID[:STEP]", "lesson-step=N"): TRUE if @key is one */
gboolean _pl_window_lesson_automate   (PlWindow        *self,
                                       const char      *key,
                                       const char      *value);
/* TRUE when teacher mode locks @control: a lesson is open, its step does not name the
 * control, and no step is running */
gboolean _pl_window_control_locked    (PlWindow        *self,
                                       PlLessonControl  control);
/* The lesson's actions: Previous, Next, Close, Teacher Mode */
void     _pl_window_update_lesson_actions (PlWindow    *self);
/* Shows and hides the side panel's controls for teacher mode and the step */
void     _pl_window_update_teacher    (PlWindow        *self);
/* A session's lesson step, shown without running it (@id NULL: closes the lesson) */
void     _pl_window_show_session_lesson (PlWindow      *self,
                                         const char    *id,
                                         guint          step);
/* The lesson id (or NULL) and 0-based @step a session saved now records */
const char *_pl_window_lesson_for_session (PlWindow    *self,
                                           guint       *step);

/* pl-window-a11y.c: the charts' accessible names and descriptions, the threshold's keys */
void     _pl_window_update_descriptions (PlWindow      *self,
                                         PlSnapshot    *snapshot);
void     _pl_window_init_a11y         (PlWindow        *self);
void     _pl_window_class_init_a11y   (GtkWidgetClass  *widget_class);

/* pl-window-sparse.c */
void     _pl_window_class_init_sparse     (GtkWidgetClass *widget_class);
void     _pl_window_sparse_update_actions (PlWindow       *self);
void     _pl_window_sparse_done           (PlWindow       *self,
                                           guint           command,
                                           guint           id,
                                           gboolean        ok);
/* pl-window-session.c */
void     _pl_window_class_init_session (GtkWidgetClass *widget_class);
void     _pl_window_update_session_actions (PlWindow   *self);
void     _pl_window_update_recent     (PlWindow        *self);
void     _pl_window_session_loaded    (PlWindow        *self,
                                       gboolean         ok);
void     _pl_window_report_session_saved (PlWindow     *self,
                                          gboolean      ok);
/* pl-window.c: the settings widgets as the session has them (before the engine loads it) */
void     _pl_window_show_session      (PlWindow        *self,
                                       const PlSession *session);

/* pl-window-actions.c */
void     _pl_window_class_init_actions (GtkWidgetClass *widget_class);
void     _pl_window_update_actions    (PlWindow        *self);
void     _pl_window_track             (PlWindow        *self,
                                       guint            id);
void     _pl_window_send_strategy     (PlWindow        *self);
/* The Scope list's choice. */
PlScope  _pl_window_scope             (PlWindow        *self);
/* The N:M list's choice into @n and @m (0, 0: off). */
void     _pl_window_nm                (PlWindow        *self,
                                       guint           *n,
                                       guint           *m);
/* The training settings of the side panel beyond epochs and rate: penalty, λ, clipping */
void     _pl_window_train_options     (PlWindow        *self,
                                       PlTrainConfig   *config);
void     _pl_window_new_model         (PlWindow        *self);
/* The conv stage whose filters are layers[@layer], or NULL for a dense layer. */
const PlConvStageView *_pl_window_conv_stage (const PlSnapshot *s,
                                              guint             layer);
/* The snapshot is of a convolutional network: what needs an MLP (pl_snapshot_build_model:
 * measured latency, compaction, OBS, sessions) is off. */
gboolean _pl_window_is_conv           (PlWindow        *self);
/* The strategy rows set to what prunes a conv net (a supported score, scope global or layer,
 * no invert, no N:M), a toast naming a score replaced; TRUE if a row changed. */
gboolean _pl_window_fit_conv_strategy (PlWindow        *self);
/* The Network row asks for LeNet-5 (else dense layers). */
gboolean _pl_window_network_is_conv   (PlWindow        *self);
void     _pl_window_toast             (PlWindow        *self,
                                       const char      *message);

G_END_DECLS
