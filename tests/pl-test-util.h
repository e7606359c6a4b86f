/* pl-test-util.h — what many tests need: seeded random data, the Fashion-MNIST skip, files in
 * a temporary folder, the files of tests/data/bad, mutated copies for fuzzing */
#pragma once

#include <gio/gio.h>

#include "pl-dataset.h"
#include "pl-rng.h"

G_BEGIN_DECLS

/* @n samples of @n_features features and @n_classes classes, drawn from pl_rng seeded by
 * @seed: every feature uniform in [−1, 1) in row-major order, then every label uniform in
 * 0 … @n_classes − 1. The same seed gives the same set. (transfer full) */
PlDataset  *pl_test_random_data                (guint                n,
                                                guint                n_features,
                                                guint                n_classes,
                                                guint64              seed);

/* pl_data_load() of @spec, which must succeed. (transfer full) */
PlData     *pl_test_load                       (const char          *spec,
                                                const PlDataOptions *options);

/* Every label below n_classes and every feature finite, as every reader promises. */
void        pl_test_assert_dataset_valid       (const PlDataset     *d);

/* TRUE, after g_test_skip() with the package to install, when Fashion-MNIST's IDX files are
 * not in PL_FASHION_MNIST_DIR; the caller returns at once:
 *   if (pl_test_skip_without_fashion_mnist ())
 *     return; */
gboolean    pl_test_skip_without_fashion_mnist (void);

/* The program's temporary folder, made on first use and removed by pl_test_run(). */
const char *pl_test_tmp_dir                    (void);
/* Writes @data to @name in pl_test_tmp_dir(), in place (O_TRUNC) and without fsync: fuzz
 * tests rewrite files thousands of times. Returns the path. (transfer full) */
char       *pl_test_write_file                 (const char          *name,
                                                const void          *data,
                                                gsize                len);
char       *pl_test_write_text                 (const char          *name,
                                                const char          *text);
char       *pl_test_write_bytes                (const char          *name,
                                                GBytes              *bytes);
/* g_test_run(), then the temporary folder removed; returns g_test_run()'s result. */
int         pl_test_run                        (void);

/* Removes @path and everything under it, making read-only folders writable first (a test may
 * have taken their write permission away). A missing @path is no error. */
void        pl_test_remove_tree                (const char          *path);

/* @error is set and its message names @path's base name. */
void        pl_test_assert_message_names       (const GError        *error,
                                                const char          *path);

/* Reads @path with the reader under test: TRUE when it read the file, else FALSE with @error
 * set. */
typedef gboolean (*PlTestReadFunc) (const char  *path,
                                    GError     **error);

/* A test per file of tests/data/bad whose name starts with @prefix and ends with one of
 * @suffixes (NULL-terminated), in name order, at @test_prefix + the file name; there must be
 * at least one. A bad file is named WHAT--CODE.EXT: each test checks that @read refuses it
 * with PL_FORMAT_ERROR's CODE (pl_test_format_code_from_name()) in a message that names the
 * file as the user gave it. */
void        pl_test_add_bad_file_tests         (const char          *prefix,
                                                const char * const  *suffixes,
                                                const char          *test_prefix,
                                                PlTestReadFunc       read);
/* The PL_FORMAT_ERROR code named in a bad file's name (idx-WHAT--bad-shape.idx.gz gives
 * PL_FORMAT_ERROR_BAD_SHAPE); a name without one fails the test. */
int         pl_test_format_code_from_name      (const char          *name);

/* A copy of @bytes with one to four random edits: a bit flipped, a byte overwritten (also
 * with a character that matters to CSV), the tail cut off, bytes appended or one removed.
 * (transfer full) */
GBytes     *pl_test_mutate                     (GBytes              *bytes,
                                                PlRng               *rng);

G_END_DECLS
