/* pl-dataset.h — datasets: built-in 2-D sets, IDX (MNIST format), CSV
 *
 * dataset spec (the CLI's --data):
 *   fashion-mnist[:DIR]          IDX files of Fashion-MNIST, default PL_FASHION_MNIST_DIR
 *   mnist:DIR | idx:DIR          any directory holding the four IDX files (raw or .gz)
 *   csv:FILE[,label=COL][,header=yes|no][,test=FILE]
 *                                numeric features; COL is a column name or a 0-based index
 *                                (default: the last column)
 *   spiral|moons|circles|xor|blobs[:n=N,noise=X,seed=S,classes=K]
 *                                built-in 2-D sets; K only for spiral and blobs
 *   shapes[:n=N,noise=X,seed=S,classes=K]
 *                                built-in 28×28 images of K ≤ 8 stroked shapes (bars, a
 *                                diagonal, plus, ring, square, cross, disc) for convolutional
 *                                networks; N = 6000 training and as many test images by default
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* One split of a dataset: features row-major, one label per sample. A plain value. */
typedef struct {
  guint    n;            /* samples */
  guint    n_features;
  guint    n_classes;
  float   *x;            /* owned, (n, n_features) row-major */
  guint32 *y;            /* owned, (n), each < n_classes */
} PlDataset;

/* The splits of one dataset as a user loaded it. */
typedef struct {
  char      *spec;         /* owned: the spec as given */
  char      *name;         /* owned: "fashion-mnist", "spiral", the CSV file's basename, … */
  guint      n_features;
  guint      n_classes;
  guint      image_width;  /* 28 × 28 for MNIST-like sets; 0 when the features are not an image */
  guint      image_height;
  char     **class_names;  /* owned, NULL-terminated, n_classes entries */
  PlDataset *train;        /* owned: training data, validation samples removed */
  PlDataset *val;          /* owned: carved from the training data (seeded); may have n == 0 */
  PlDataset *test;         /* owned: the official test set, kept apart */
  /* Standardisation applied to every split (all NULL when off): x' = (x − mean) / std,
   * with mean and std computed on the training split only. */
  float     *feature_mean; /* owned, (n_features) or NULL */
  float     *feature_std;  /* owned, (n_features) or NULL */
} PlData;

typedef struct {
  gint     val_size;      /* samples carved from train for validation; -1 = default
                           * (5000 for image sets, but at most 20%; 20% for the others);
                           * 0 = none */
  gboolean standardize;   /* standardise features on training statistics */
  guint64  split_seed;    /* seed of the train/validation split (and CSV test split) */
  guint    max_train;     /* 0 = all; else keep only the first max_train training samples
                           * (after the split), for quick runs and tests */
} PlDataOptions;

#define PL_DATA_OPTIONS_INIT { -1, FALSE, 0, 0 }

PlDataset *pl_dataset_new      (guint n, guint n_features, guint n_classes);
void       pl_dataset_free     (PlDataset *self);

/* Loads every split described by @spec. (transfer full) */
PlData    *pl_data_load        (const char           *spec,
                                const PlDataOptions  *options,
                                GError              **error);
void       pl_data_free        (PlData *self);

/* Readers, each validating everything before it allocates; errors name @path. */
PlDataset *pl_idx_read         (const char  *images_path,
                                const char  *labels_path,
                                GError     **error);
/* pl_idx_read() that also returns the image size from the images file's dimensions
 * (n, height, width); @width and @height may be NULL. (transfer full) */
PlDataset *pl_idx_read_images  (const char  *images_path,
                                const char  *labels_path,
                                guint       *width,
                                guint       *height,
                                GError     **error);
/* Reads one IDX file (raw or gzip by magic), checked against a 16 MiB-per-dimension limit and
 * @max_bytes in total. Returns the element bytes; @dims receives up to 4 dimensions.
 * type_code: 0x08 unsigned byte only. (transfer full) */
GBytes    *pl_idx_read_file    (const char  *path,
                                guint        expected_ndim,
                                guint32     *dims,
                                gsize        max_bytes,
                                GError     **error);
/* @label_column: a column name or a 0-based index as text (a header name wins); NULL = last
 * column. @header: 1 = first row is a header, 0 = none, -1 = detect (a row with a non-number).
 * Labels that are all non-negative integers are the class ids (n_classes = max + 1 ≤ 1000) and
 * @class_names receives NULL; otherwise each distinct label is a class, numbered in order of
 * first appearance, and @class_names (may be NULL) receives their names. At most 1 GiB.
 * (transfer full) */
PlDataset *pl_csv_read         (const char  *path,
                                const char  *label_column,
                                int          header,
                                char      ***class_names,
                                GError     **error);
/* Reads a training and a test file (@test_path may be NULL) with the same columns. Labels are
 * resolved over both files (training file first), so one label gets one class id in both. */
gboolean   pl_csv_read_pair    (const char  *train_path,
                                const char  *test_path,
                                const char  *label_column,
                                int          header,
                                PlDataset  **train,
                                PlDataset  **test,
                                char      ***class_names,
                                GError     **error);

/* Built-in sets (n samples, class labels): 2-D points (2 features), or for "shapes" 28×28
 * images (784 features, see pl-synthetic.c). @name is one of pl_synthetic_names().
 * Deterministic for a given seed. @noise < 0 and @n_classes 0 pick the set's defaults; only
 * spiral, blobs and shapes take another class count than 2. Sample i has class i mod
 * n_classes, so classes are balanced and interleaved. (transfer full) */
PlDataset *pl_synthetic_make   (const char  *name,
                                guint        n,
                                double       noise,
                                guint        n_classes,
                                guint64      seed,
                                GError     **error);
const char * const *pl_synthetic_names (void);
/* The side of a built-in image set's square images ("shapes": 28), 0 for a 2-D set. */
guint       pl_synthetic_image_side  (const char *name);
/* The translated name of class @cls of a built-in image set, NULL for a 2-D set. */
const char *pl_synthetic_class_name  (const char *name,
                                      guint       cls);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PlDataset, pl_dataset_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PlData, pl_data_free)

G_END_DECLS
