/* pl-results.h — a sweep or schedule in pieces: its grid, shards, a results folder, merging
 *
 * A sweep or a schedule is a grid of independent pieces of work, the grid points, in one stable
 * order: methods (or scores) × seeds × levels, the way the unsharded run makes and prints them.
 * A grid point yields one or more curve points: one level of a sweep that fine-tunes each
 * point, or a whole run (every level of a sweep's preview, which goes from one level to the
 * next incrementally, and every level of a schedule's method and seed, which share training:
 * iterative rounds build on each other, the adaptive search probes where the last answer
 * sends it). Each grid point has a label ("magnitude seed 1 level 3 target 0.5") and a key:
 *
 *   key = SHA-256 ("prunelab-point 1\n" identity "point " label "\n")
 *   id  = SHA-256 ("prunelab-grid 1\n" command "\n" identity label₀ "\n" label₁ "\n" …)
 *
 * where the identity names everything a point's numbers depend on: the SHA-256 of the model
 * file, the data spec and the data's hash (pl_session_hash_data), and the settings. The same
 * point of another grid (more seeds, another list of scores) has the same key; another model,
 * data or setting gives another.
 *
 * Shard I of N runs the grid points whose index ≡ I (mod N). A results folder holds one file
 * per finished grid point, KEY.json, and one grid file per grid, grid-ID.json (the identity,
 * the labels and the result's fixed members), each saved atomically (pl-file.h): a run killed at
 * any moment leaves whole files, and the next run with the folder skips the points it finds.
 *
 * Merging reads shard outputs (the result a run with --shard prints, which carries its grid)
 * and results folders (or one of their grid files), checks that they are pieces of one grid,
 * and gives each grid point's curve points, in grid order. Every reader validates what it reads
 * and fails with a PL_FORMAT_ERROR that names the file and the problem.
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define PL_RESULTS_VERSION   1
/* grid points in one grid, and bytes of a file the readers take */
#define PL_GRID_MAX_POINTS   1000000
#define PL_RESULTS_MAX_BYTES (256 * 1024 * 1024)

typedef struct {
  char        *command;   /* owned: "sweep" or "schedule" */
  char        *identity;  /* owned: model hash, data spec and hash, settings (text) */
  char        *id;        /* owned: hex SHA-256, see above */
  guint        size;      /* grid points */
  char       **labels;    /* owned, size + 1, NULL-terminated */
  char       **keys;      /* owned, size + 1: hex SHA-256 of each point */
  JsonObject  *head;      /* owned: the result's members before "interrupted" */
  JsonObject  *tail;      /* owned: its members after the timings (threads, blas_core) */
} PlGrid;

/* Copies everything; takes a reference to @head and @tail. @n_labels from 1 to
 * PL_GRID_MAX_POINTS. (transfer full) */
PlGrid     *pl_grid_new            (const char         *command,
                                    const char         *identity,
                                    const char * const *labels,
                                    guint               n_labels,
                                    JsonObject         *head,
                                    JsonObject         *tail);
void        pl_grid_free           (PlGrid             *grid);
/* The grid file's object: format, version, id, command, identity, labels, head, tail.
 * (transfer full) */
JsonObject *pl_grid_to_json        (const PlGrid       *grid);
/* The grid of pl_grid_to_json's @object, read from @file (a display name for messages); the id
 * is recomputed and must match. (transfer full) */
PlGrid     *pl_grid_from_json      (JsonObject         *object,
                                    const char         *file,
                                    GError            **error);

/* "I/N" with 0 ≤ I < N ≤ PL_GRID_MAX_POINTS; a PL_SPEC_ERROR otherwise. */
gboolean    pl_shard_parse         (const char         *text,
                                    guint              *index,
                                    guint              *count,
                                    GError            **error);

/* The SHA-256 of a file's bytes, hex; a G_FILE_ERROR naming it when it cannot be read.
 * (transfer full) */
char       *pl_results_hash_file   (const char         *path,
                                    GError            **error);

/* ---- a results folder ---- */

/* Saves @grid's file, DIR/grid-ID.json, creating @dir when missing. */
gboolean    pl_results_save_grid   (const char         *dir,
                                    const PlGrid       *grid,
                                    GError            **error);
/* Saves grid point @index's curve points (objects) and the seconds it took, DIR/KEY.json. */
gboolean    pl_results_save_point  (const char         *dir,
                                    const PlGrid       *grid,
                                    guint               index,
                                    JsonArray          *points,
                                    double              seconds,
                                    GError            **error);
/* The curve points of grid point @index saved in @dir: TRUE with *@points NULL when there is
 * no file; FALSE with the error when there is one that does not read as this point's.
 * (transfer full) */
gboolean    pl_results_load_point  (const char         *dir,
                                    const PlGrid       *grid,
                                    guint               index,
                                    JsonArray         **points,
                                    double             *seconds,
                                    GError            **error);

/* ---- merging ---- */

typedef struct _PlMerge PlMerge;

PlMerge    *pl_merge_new           (void);
void        pl_merge_free          (PlMerge            *self);
/* Adds a shard output, a grid file (with the point files beside it) or a results folder (its
 * one grid file). Fails on a file that is none of these, that does not read, or whose grid is
 * not the grid of the files added before. The first file that holds a grid point gives it. */
gboolean    pl_merge_add           (PlMerge            *self,
                                    const char         *path,
                                    GError            **error);
/* The same on a shard output's text (the fuzzing harness's entry). */
gboolean    pl_merge_add_data      (PlMerge            *self,
                                    const char         *contents,
                                    gsize               length,
                                    const char         *display_name,
                                    GError            **error);
/* The grid, once one was added (transfer none), or NULL. */
const PlGrid *pl_merge_get_grid    (PlMerge            *self);
/* Grid point @index's curve points, or NULL when no file held it. (transfer none) */
JsonArray  *pl_merge_get_points    (PlMerge            *self,
                                    guint               index);
/* The seconds of the grid points found, added up. */
double      pl_merge_get_seconds   (PlMerge            *self);
/* TRUE when every grid point was found; else a PL_FORMAT_ERROR_MISMATCH that names the
 * first missing ones and how many there are. */
gboolean    pl_merge_check_complete (PlMerge           *self,
                                     GError           **error);

/* The result a sharded run prints carries this in "grid": the grid file's members and
 * "shard", "shards", and "done" (one {index, points, seconds} per grid point in the result's
 * points, in order). (transfer full) */
JsonObject *pl_shard_to_json       (const PlGrid       *grid,
                                    guint               shard,
                                    guint               shards,
                                    const guint        *done,
                                    const guint        *n_points,
                                    const double       *seconds,
                                    guint               n_done);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PlGrid, pl_grid_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PlMerge, pl_merge_free)

G_END_DECLS
