/* pl-fuzz.h — what the fuzz harnesses share
 *
 * A harness, tests/fuzz/fuzz-NAME.c, defines two functions:
 *   LLVMFuzzerTestOneInput ()  gives one input to a reader the way a user's file reaches it,
 *                              then checks what a valid result or an error must satisfy; a
 *                              broken rule calls pl_fuzz_fail (), which aborts
 *   pl_fuzz_make_seeds ()      writes the seed corpus (valid files from the project's writers,
 *                              and the known bad files of tests/data/bad) with pl_fuzz_add_seed ()
 * It is linked twice (tests/fuzz/meson.build): with libFuzzer's main in a -Dfuzzing=true build,
 * and with pl-fuzz-replay.c's main in every build, which replays the regression files and the
 * seeds as g_test cases (meson test) and writes the seeds (--write-seeds).
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <glib.h>

G_BEGIN_DECLS

/* The two functions each harness defines. */
int          LLVMFuzzerTestOneInput (const uint8_t *data,
                                     size_t         size);
void         pl_fuzz_make_seeds     (void);

/* A broken invariant: prints the message (and the input being replayed) and aborts, which
 * libFuzzer reports as a crash and saves the input. */
G_GNUC_NORETURN G_GNUC_PRINTF (1, 2)
void         pl_fuzz_fail           (const char    *format,
                                     ...);
#define PL_FUZZ_CHECK(cond, ...) G_STMT_START { if (!(cond)) pl_fuzz_fail (__VA_ARGS__); } G_STMT_END

/* A private temporary folder, made on first use and removed at exit. The first call also makes
 * warnings and criticals fatal, as G_DEBUG=fatal-warnings does in the tests. */
const char  *pl_fuzz_dir            (void);
/* Writes @len bytes to @name in pl_fuzz_dir (), truncating what was there. Returns the path.
 * (transfer full) */
char        *pl_fuzz_write          (const char    *name,
                                     const void    *data,
                                     gsize          len);
/* @data compressed as one gzip member, as gzip(1) writes it. (transfer full) */
GBytes      *pl_fuzz_gzip           (const void    *data,
                                     gsize          len);
/* The rules every rejection keeps: @error is set, its message is valid UTF-8 and names the
 * basename of @path or of @other_path (may be NULL). */
void         pl_fuzz_check_error    (const GError  *error,
                                     const char    *path,
                                     const char    *other_path);
/* What a reader of @path returned: TRUE when it loaded (@result, and no @error); when it
 * refused (@result NULL), checks the refusal is a PL_FORMAT_ERROR that keeps
 * pl_fuzz_check_error ()'s rules and returns FALSE. */
gboolean     pl_fuzz_loaded         (gconstpointer  result,
                                     const GError  *error,
                                     const char    *path);
/* Seeds: pl_fuzz_make_seeds () adds each one under a name (a file name, no folders). */
void         pl_fuzz_add_seed       (const char    *name,
                                     const void    *data,
                                     gsize          len);
/* The files of tests/data/@subdir whose names start with @prefix, sorted; full paths.
 * (transfer full) */
GStrv        pl_fuzz_data_files     (const char    *subdir,
                                     const char    *prefix);
/* The contents of a file; aborts when it cannot be read. (transfer full) */
GBytes      *pl_fuzz_read           (const char    *path);

/* For the replay main: where seeds go, and the input named in failure messages. */
void         pl_fuzz_set_seed_dir   (const char    *dir);
void         pl_fuzz_set_input_name (const char    *name);

G_END_DECLS
