/* pl-file.c — atomic saves of a user's files */
#define G_LOG_DOMAIN "pl-file"

#include "config.h"

#include "pl-file.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A temporary name is ".NAME.XXXXXX": NAME is cut to this many bytes so that the name stays
 * within the 255 bytes most file systems allow. */
#define MAX_TEMP_BASE 200

static gboolean
fail (const char  *path,
      int          saved_errno,
      GError     **error)
{
  g_autofree char *display_name = g_filename_display_name (path);

  g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved_errno),
               _("Could not save “%s”: %s"), display_name, g_strerror (saved_errno));
  return FALSE;
}

/* The file that is replaced: @path, or the file a symbolic link at @path points to. */
static char *
resolve (const char *path)
{
  char *real = realpath (path, NULL);
  char *copy;

  if (real == NULL)
    return g_strdup (path);
  copy = g_strdup (real);
  free (real);
  return copy;
}

/* "DIR/.NAME.XXXXXX", beside @target */
static char *
temp_template (const char *target)
{
  g_autofree char *dir = g_path_get_dirname (target);
  g_autofree char *base = g_path_get_basename (target);

  if (strlen (base) > MAX_TEMP_BASE)
    base[MAX_TEMP_BASE] = '\0';
  return g_strdup_printf ("%s%s.%s.XXXXXX", dir, G_DIR_SEPARATOR_S, base);
}

/* Returns 0, or the errno of the write that failed. */
static int
write_all (int           fd,
           const guint8 *p,
           gsize         size)
{
  while (size > 0)
    {
      /* (Linux writes at most 0x7ffff000 bytes at a time) */
      gssize n = write (fd, p, MIN (size, (gsize) 1 << 30));

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return errno;
      if (n == 0)
        return ENOSPC;
      p += n;
      size -= (gsize) n;
    }
  return 0;
}

/* A terminal, /dev/stdout or a pipe: there is nothing to rename over. */
static gboolean
save_in_place (const char    *path,
               const char    *target,
               gconstpointer  data,
               gsize          size,
               GError       **error)
{
  int fd = g_open (target, O_WRONLY | O_TRUNC | O_CLOEXEC, 0);
  int saved_errno;

  if (fd < 0)
    return fail (path, errno, error);
  saved_errno = write_all (fd, data, size);
  if (close (fd) != 0 && saved_errno == 0)
    saved_errno = errno;
  if (saved_errno != 0)
    return fail (path, saved_errno, error);
  return TRUE;
}

/* Makes the rename durable: a directory's entries reach the disk when the directory is
 * flushed. Some file systems cannot flush a directory; the file itself is on the disk then. */
static void
sync_folder (const char *target)
{
  g_autofree char *dir = g_path_get_dirname (target);
  int fd = g_open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);

  if (fd >= 0)
    {
      fsync (fd);
      close (fd);
    }
}

gboolean
pl_file_save (const char     *path,
              gconstpointer   data,
              gsize           size,
              GError        **error)
{
  g_autofree char *target = NULL;
  g_autofree char *tmp = NULL;
  struct stat st;
  gboolean replace;
  int fd, saved_errno;

  g_return_val_if_fail (path != NULL && *path != '\0', FALSE);
  g_return_val_if_fail (data != NULL || size == 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  target = resolve (path);
  replace = stat (target, &st) == 0;
  if (replace && S_ISDIR (st.st_mode))
    return fail (path, EISDIR, error);
  if (replace && !S_ISREG (st.st_mode))
    return save_in_place (path, target, data, size, error);

  tmp = temp_template (target);
  /* 0666 less the umask, as a plain create would give */
  fd = g_mkstemp_full (tmp, O_WRONLY | O_CLOEXEC, 0666);
  if (fd < 0)
    return fail (path, errno, error);

  saved_errno = write_all (fd, data, size);
  if (saved_errno != 0)
    goto failed;
  /* The old file's permissions (a private 0600 file stays private). Where the file system
   * cannot set them, the new file keeps the defaults. */
  if (replace)
    fchmod (fd, st.st_mode & 07777);
  /* EINVAL: a file system that cannot flush (the data are written all the same) */
  if (fsync (fd) != 0 && errno != EINVAL)
    {
      saved_errno = errno;
      goto failed;
    }
  if (close (fd) != 0)
    {
      fd = -1;
      saved_errno = errno;
      goto failed;
    }
  fd = -1;
  if (g_rename (tmp, target) != 0)
    {
      saved_errno = errno;
      goto failed;
    }
  sync_folder (target);
  return TRUE;

failed:
  if (fd >= 0)
    close (fd);
  g_unlink (tmp);
  return fail (path, saved_errno, error);
}

gboolean
pl_file_check (const char  *path,
               GError     **error)
{
  g_autofree char *target = NULL;
  g_autofree char *tmp = NULL;
  struct stat st;
  int fd;

  g_return_val_if_fail (path != NULL && *path != '\0', FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  target = resolve (path);
  if (stat (target, &st) == 0)
    {
      if (S_ISDIR (st.st_mode))
        return fail (path, EISDIR, error);
      if (!S_ISREG (st.st_mode))
        return TRUE;  /* written in place */
    }

  tmp = temp_template (target);
  fd = g_mkstemp_full (tmp, O_WRONLY | O_CLOEXEC, 0600);
  if (fd < 0)
    return fail (path, errno, error);
  close (fd);
  g_unlink (tmp);
  return TRUE;
}
