/* pl-file.h — saving a user's file: atomic, and a failure names the file
 *
 * Every file PruneLab writes for a user (models, charts, CSV results) goes through
 * pl_file_save(). The bytes go to a temporary file in the target's folder (".NAME.XXXXXX"),
 * which is flushed to the disk (fsync), given the old file's permissions and renamed over the
 * target; then the folder is flushed, so that the rename itself survives a power cut. Until the
 * rename the old file is untouched: a failure at any step (a read-only or missing folder, a
 * full disk, a file size limit) removes the temporary file and leaves the old file as it was,
 * and a process killed at any moment leaves the old file or the new one, whole (and at worst
 * the temporary file beside it). The GError is G_FILE_ERROR, its code from errno, and reads
 * “Could not save “PATH”: PROBLEM”.
 *
 * A symbolic link is followed: the file it points to is replaced and the link stays. A target
 * that exists and is not a regular file (a terminal, /dev/stdout, a pipe) is written in place,
 * as there is nothing to rename over. A folder is refused before anything is written.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

gboolean  pl_file_save   (const char     *path,
                          gconstpointer   data,
                          gsize           size,
                          GError        **error);

/* Fails as pl_file_save() would for a target that is a folder, a missing folder or one that
 * cannot be written, by creating and removing a temporary file beside @path; writes nothing
 * else. For a check before a long run, so that it does not end in an error it could have
 * given at once; a full disk shows only at the save. */
gboolean  pl_file_check  (const char     *path,
                          GError        **error);

G_END_DECLS
