/* pl-lesson.h — guided lessons: a lesson file is a sequence of steps a teacher walks a class
 * through, each with its explanation, formula, settings, the controls it needs, the view to
 * show and what to notice
 *
 * Format (JSON, UTF-8; the files in data/lessons/, documented in the README):
 *
 *   { "prunelab-lesson": 1,                    the format version; 1 is the only one
 *     "id": "magnitude",                       [a-z0-9-], unique among lessons
 *     "seed": "002",                           optional: the seed article it follows
 *     "title": TEXT, "summary": TEXT,
 *     "steps": [ STEP, … ] }                   1 to PL_LESSON_MAX_STEPS steps
 *
 *   STEP = { "title": TEXT,
 *            "text": TEXT,                     Pango markup
 *            "formula": TEXT,                  optional; Pango markup (<sub>, <sup>, <i>, …)
 *            "settings": { … },                optional; see PlLessonSettings (dataset,
 *                                              network, hidden, activation, epochs, lr, score,
 *                                              scope, invert, sparsity, seed, penalty,
 *                                              lambda, clip-norm, procedure)
 *            "actions": [ "train", … ],        optional; run in order when the step starts
 *                                              (new-model, train, preview, apply-prune,
 *                                              prune-obs, fine-tune, rewind, undo, sweep,
 *                                              procedure; preview, prune-obs and procedure
 *                                              need settings.sparsity)
 *            "controls": [ "sparsity", … ],    the controls the step needs (teacher mode
 *                                              locks the others); see pl_lesson_control_name
 *            "view": "threshold",              the page to show
 *            "notice": TEXT,                   what the class should look for
 *            "expect": [ { "quantity": "preview-accuracy", "min": 0.9, "max": 1 }, … ] }
 *                                              optional: what the step's numbers must be on
 *                                              the built-in data (a test checks them)
 *
 *   TEXT = "one text for every language" | { "en": "…", "zh_CN": "…", … }
 *
 * Unknown members, wrong types, values out of range, unknown names (scores, actions,
 * controls, views, quantities) and markup that is not well formed are rejected with a GError
 * (PL_FORMAT_ERROR) that names the file and the place ("steps[2].settings.lr").
 */
#pragma once

#include <glib.h>

#include "pl-score.h"
#include "pl-snapshot.h"

G_BEGIN_DECLS

#define PL_LESSON_FORMAT_VERSION 1
#define PL_LESSON_MAX_STEPS      32
#define PL_LESSON_MAX_BYTES      (1024 * 1024)

typedef enum {
  PL_LESSON_ACTION_NEW_MODEL,
  PL_LESSON_ACTION_TRAIN,
  PL_LESSON_ACTION_PREVIEW,       /* at settings.sparsity */
  PL_LESSON_ACTION_APPLY_PRUNE,
  PL_LESSON_ACTION_FINE_TUNE,
  PL_LESSON_ACTION_REWIND,
  PL_LESSON_ACTION_UNDO,
  PL_LESSON_ACTION_SWEEP,
  PL_LESSON_ACTION_PROCEDURE,     /* runs settings.procedure to settings.sparsity */
  PL_LESSON_ACTION_PRUNE_OBS,     /* OBS with reconstruction to settings.sparsity */
  PL_LESSON_N_ACTIONS
} PlLessonAction;

typedef enum {
  PL_LESSON_CONTROL_DATASET,
  PL_LESSON_CONTROL_NETWORK,      /* hidden layers and activation */
  PL_LESSON_CONTROL_TRAINING,     /* epochs and learning rate */
  PL_LESSON_CONTROL_TRAIN,        /* train, pause, stop */
  PL_LESSON_CONTROL_STRATEGY,     /* score, scope, invert */
  PL_LESSON_CONTROL_SPARSITY,     /* the slider */
  PL_LESSON_CONTROL_THRESHOLD,    /* the threshold line on the histogram */
  PL_LESSON_CONTROL_APPLY_PRUNE,
  PL_LESSON_CONTROL_FINE_TUNE,
  PL_LESSON_CONTROL_REWIND,
  PL_LESSON_CONTROL_UNDO,
  PL_LESSON_CONTROL_SWEEP,
  PL_LESSON_CONTROL_REGULARISATION, /* the training penalty, its λ and the gradient clip */
  PL_LESSON_CONTROL_PROCEDURE,    /* the procedure list and Run Procedure */
  PL_LESSON_CONTROL_PRUNE_OBS,    /* Prune with Reconstruction (OBS) */
  PL_LESSON_N_CONTROLS
} PlLessonControl;

typedef enum {
  PL_LESSON_VIEW_WEIGHTS,
  PL_LESSON_VIEW_THRESHOLD,
  PL_LESSON_VIEW_CURVES,
  PL_LESSON_VIEW_TRAINING,
  PL_LESSON_VIEW_MODEL,
  PL_LESSON_VIEW_RESULTS,
  PL_LESSON_VIEW_MAPS,            /* a convolutional network's feature maps */
  PL_LESSON_VIEW_FILTERS,         /* a convolutional network's filters */
  PL_LESSON_N_VIEWS
} PlLessonView;

/* The numbers a step can expect, read off the app after the step's actions. */
typedef enum {
  PL_LESSON_QUANTITY_VALIDATION_ACCURACY,  /* of the model with its own masks */
  PL_LESSON_QUANTITY_PREVIEW_ACCURACY,     /* validation accuracy of the preview's masks */
  PL_LESSON_QUANTITY_PREVIEW_SPARSITY,     /* parameter sparsity of the preview's masks */
  PL_LESSON_QUANTITY_PREVIEW_STRUCTURAL_SPARSITY, /* dead hidden neurons under the preview */
  PL_LESSON_QUANTITY_SPARSITY,             /* parameter sparsity of the model's masks */
  PL_LESSON_QUANTITY_STRUCTURAL_SPARSITY,  /* dead hidden neurons / hidden neurons */
  PL_LESSON_QUANTITY_RELATIVE_SPARSITY,    /* share of the |w| mass the masks removed */
  PL_LESSON_QUANTITY_HOYER,                /* Hoyer sparsity of all weights */
  PL_LESSON_QUANTITY_SWEEP_ACCURACY,       /* the strategy's sweep curve at settings.sparsity
                                            * (the nearest point) */
  PL_LESSON_QUANTITY_PROCEDURE_ACCURACY,   /* validation accuracy at the end of the last run of
                                            * settings.procedure (adaptive: the point chosen) */
  PL_LESSON_QUANTITY_PROCEDURE_SPARSITY,   /* its parameter sparsity there */
  PL_LESSON_N_QUANTITIES
} PlLessonQuantity;

/* The training penalty a step sets (the GUI's Penalty row). */
typedef enum {
  PL_LESSON_PENALTY_NONE,
  PL_LESSON_PENALTY_L1,           /* λ·Σ|w| (PlTrainConfig.l1) */
  PL_LESSON_PENALTY_ARTICLE_L0,   /* the seed article's λ·1[w ≠ 0] (PlTrainConfig.article_l0) */
  PL_LESSON_N_PENALTIES
} PlLessonPenalty;

/* The procedures the GUI runs (pl-schedule.h), as its Procedure list names them. */
typedef enum {
  PL_LESSON_PROCEDURE_ONESHOT,        /* prune once, fine-tune */
  PL_LESSON_PROCEDURE_ITERATIVE,      /* rounds of prune + fine-tune, no rewind */
  PL_LESSON_PROCEDURE_LOTTERY_TICKET, /* rounds of prune + rewind to the initial weights + retrain */
  PL_LESSON_PROCEDURE_GRADUAL,        /* Zhu & Gupta's cubic schedule while training */
  PL_LESSON_PROCEDURE_ADAPTIVE,       /* the largest sparsity within a 1-point budget */
  PL_LESSON_PROCEDURE_L1,             /* train with λ·Σ|w|, then prune by magnitude */
  PL_LESSON_PROCEDURE_L0,             /* hard-concrete gates with λ (Louizos et al. 2018) */
  PL_LESSON_PROCEDURE_AT_INIT,        /* prune the untrained weights with the score, then train */
  PL_LESSON_PROCEDURE_MOVEMENT,       /* gradual, by movement −Σ_t w·g (Sanh et al. 2020) */
  PL_LESSON_PROCEDURE_SET,            /* sparse from scratch, regrow at random (Mocanu et al. 2018) */
  PL_LESSON_PROCEDURE_RIGL,           /* sparse from scratch, regrow by |g| (Evci et al. 2020) */
  PL_LESSON_N_PROCEDURES
} PlLessonProcedure;

/* A translatable text: the language tags and texts, "" for the one given as a plain string. */
typedef struct {
  guint   n;
  char  **langs;   /* owned, n entries */
  char  **texts;   /* owned, n entries */
} PlLessonText;

/* What a step sets before its actions; each has_* says whether the file sets it. */
typedef struct {
  gboolean      has_dataset;      char        *dataset;      /* owned: a --data spec */
  gboolean      has_network;      char        *network;      /* owned: "mlp" or "lenet5" */
  gboolean      has_hidden;       char        *hidden;       /* owned: "64-64" */
  gboolean      has_activation;   char        *activation;   /* owned: relu, tanh, sigmoid */
  gboolean      has_epochs;       guint        epochs;       /* 1 … 10000 */
  gboolean      has_lr;           double       lr;           /* (0, 10] */
  gboolean      has_score;        PlScoreKind  score;
  gboolean      has_scope;        PlScope      scope;        /* "scope": global, layer, row, erk */
  gboolean      has_invert;       gboolean     invert;
  gboolean      has_sparsity;     double       sparsity;     /* [0, 0.99] */
  gboolean      has_seed;         guint64      seed;         /* of the network's initialisation */
  gboolean      has_penalty;      PlLessonPenalty penalty;
  gboolean      has_lambda;       double       lambda;       /* (0, 100]: of the penalty, L1, L0 */
  gboolean      has_clip_norm;    double       clip_norm;    /* [0, 1000], 0 = off */
  gboolean      has_procedure;    PlLessonProcedure procedure;
} PlLessonSettings;

typedef struct {
  PlLessonQuantity quantity;
  double           min;   /* −∞ when not given */
  double           max;   /* +∞ when not given */
} PlLessonExpect;

typedef struct {
  PlLessonText      title;
  PlLessonText      text;
  PlLessonText      formula;     /* n == 0 when the step has none */
  PlLessonSettings  settings;
  guint             n_actions;
  PlLessonAction    actions[16];
  guint             controls;    /* bit 1 << PlLessonControl per control the step needs */
  PlLessonView      view;
  PlLessonText      notice;
  guint             n_expects;
  PlLessonExpect    expects[8];
} PlLessonStep;

typedef struct {
  char          *path;      /* owned: where it was read from (for messages), or NULL */
  char          *id;        /* owned */
  char          *seed;      /* owned, or NULL */
  PlLessonText   title;
  PlLessonText   summary;
  guint          n_steps;
  PlLessonStep  *steps;     /* owned */
} PlLesson;

/* Parses and validates a lesson; @display_name names it in messages. (transfer full) */
PlLesson    *pl_lesson_parse        (const char   *contents,
                                     gsize         length,
                                     const char   *display_name,
                                     GError      **error);
PlLesson    *pl_lesson_load         (const char   *path,
                                     GError      **error);
void         pl_lesson_free         (PlLesson     *lesson);

/* The lessons in @dir (*.json), sorted by file name; a file that does not parse fails the
 * whole call. (transfer full: a GPtrArray of PlLesson, freeing them) */
GPtrArray   *pl_lesson_load_dir     (const char   *dir,
                                     GError      **error);

/* The folders the installed lessons are read from, in order: those PRUNELAB_LESSON_PATH names
 * (colon-separated: a teacher's own lessons, which take the place of installed ones with the
 * same id), the build tree's data/lessons
 * (meson copies data/lessons there) when the program runs from its build tree
 * (build/app/prunelab, build/tests/test-gui), then PL_LESSONS_DIR (the install prefix's
 * share/prunelab/lessons). Only folders that exist are listed. (transfer full) */
char       **pl_lesson_dirs         (void);

/* The text for the user's languages (g_get_language_names(): "zh_CN.UTF-8", "zh_CN", "zh",
 * …), else English, else the first. (transfer none) */
const char  *pl_lesson_text_get     (const PlLessonText *text);
/* The text in exactly @lang ("en", "zh_CN"), or NULL. (transfer none) */
const char  *pl_lesson_text_get_lang (const PlLessonText *text,
                                      const char         *lang);

/* The value of @quantity in what @snapshot shows, for a step's expectations; @settings are the
 * step's (sweep-accuracy reads the strategy's sweep curve at the point nearest
 * settings.sparsity, procedure-* the last run of settings.procedure). FALSE when the snapshot
 * shows no such number (no preview, no curve of that score, no run of that procedure). */
gboolean     pl_lesson_quantity_value (PlLessonQuantity        quantity,
                                       const PlSnapshot       *snapshot,
                                       const PlLessonSettings *settings,
                                       double                 *value);
/* The method a procedure runs and whether it rewinds to the initial weights. */
PlMethod     pl_lesson_procedure_method (PlLessonProcedure procedure,
                                         gboolean         *rewind);

const char  *pl_lesson_action_name   (PlLessonAction   action);
const char  *pl_lesson_control_name  (PlLessonControl  control);
const char  *pl_lesson_view_name     (PlLessonView     view);
const char  *pl_lesson_quantity_name (PlLessonQuantity quantity);
const char  *pl_lesson_penalty_name  (PlLessonPenalty  penalty);
const char  *pl_lesson_procedure_name (PlLessonProcedure procedure);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PlLesson, pl_lesson_free)

G_END_DECLS
