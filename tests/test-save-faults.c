/* test-save-faults.c — every save fails as a user meets it, and loses nothing
 *
 * Each way PruneLab saves a user's file — a model (safetensors, the GUI's Save Model), a chart
 * as PNG, SVG and PDF and its numbers as CSV (the GUI's Export), and every file prunelab-cli
 * writes (train, prune, sweep, schedule, sensitivity, plot) — is made to fail in each way a
 * user meets:
 *   read-only-folder  the folder's mode forbids writing. Tests run as root here, and root
 *                     writes anywhere: the save runs without CAP_DAC_OVERRIDE and
 *                     CAP_DAC_READ_SEARCH (root's powers over permissions), so that the mode
 *                     binds it as it binds any user; skipped where they cannot be dropped;
 *   missing-folder    the path names a folder that does not exist;
 *   target-is-folder  a folder, not empty, stands where the file should go;
 *   disk-full         a file size limit (RLIMIT_FSIZE, 64 bytes) makes a write fail midway with
 *                     EFBIG, as a full disk does with ENOSPC (a small tmpfs is not available to
 *                     tests).
 * After each the save has failed, naming the file and the problem; the folder holds what it
 * held, byte for byte (the old file is intact, no temporary file is left). Each saver also
 * replaces an old file when nothing fails, so that its failures are failures of the save.
 *
 * prunelab-cli's result on stdout, redirected to a full disk, is a failure too (exit status 1).
 *
 * Then a process saving a large model over and over is killed with SIGKILL, at random moments
 * and while a temporary file is being written: the file always loads and is one of the two
 * models being saved, whole.
 */
#define G_LOG_DOMAIN "test-save-faults"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <linux/capability.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pl-chart-bars.h"
#include "pl-chart-export.h"
#include "pl-file.h"
#include "pl-mlp.h"
#include "pl-safetensors.h"
#include "pl-test-cli.h"
#include "pl-test-util.h"

/* The "disk" holds this many bytes of a file: less than any file saved here. */
#define FILE_LIMIT 64
/* The CLI's runs: a small model on a small built-in set. */
#define DATA       "spiral:n=150"
#define ARCH       "2-16-3"
/* The model saved while being killed: 9.6 MB, and 19 MB with its masks. */
#define BIG_ARCH   "784-1200-1200-10"

typedef enum {
  FAULT_READ_ONLY_FOLDER,
  FAULT_MISSING_FOLDER,
  FAULT_TARGET_IS_FOLDER,
  FAULT_DISK_FULL,
  N_FAULTS
} Fault;

static const struct {
  const char *name;
  int         errnum;  /* the problem the message must name */
} faults[N_FAULTS] = {
  { "read-only-folder", EACCES },
  { "missing-folder", ENOENT },
  { "target-is-folder", EISDIR },
  { "disk-full", EFBIG },
};

typedef gboolean (*SaveFunc) (const char  *path,
                              GError     **error);

typedef struct {
  const char *name;       /* in the test path */
  const char *file;       /* the target's name */
  SaveFunc    save;       /* in this process; or */
  const char *args[20];   /* prunelab-cli's arguments: "@" the target, "@model" a small model */
} Saver;

typedef struct {
  guint        id;
  const Saver *saver;
  Fault        fault;     /* N_FAULTS: nothing fails */
} Case;

static PlMlp *small_model;
static PlBarsData bars;
static char *fixture_dir;
static char *fixture_model;

/* ---- the savers -------------------------------------------------------------------------- */

static gboolean
save_model (const char  *path,
            GError     **error)
{
  return pl_safetensors_save (small_model, path, error);
}

static gboolean
export_chart (const char     *path,
              PlChartFormat   format,
              GError        **error)
{
  const PlChart chart = { PL_CHART_BARS, &bars };
  PlChartStyle style;

  pl_chart_style_init (&style, PL_CHART_THEME_LIGHT);
  return pl_chart_export (&chart, &style, path, format, 300, 200, 96, error);
}

static gboolean
export_png (const char  *path,
            GError     **error)
{
  return export_chart (path, PL_CHART_FORMAT_PNG, error);
}

static gboolean
export_svg (const char  *path,
            GError     **error)
{
  return export_chart (path, PL_CHART_FORMAT_SVG, error);
}

static gboolean
export_pdf (const char  *path,
            GError     **error)
{
  return export_chart (path, PL_CHART_FORMAT_PDF, error);
}

static gboolean
export_csv (const char  *path,
            GError     **error)
{
  const PlChart chart = { PL_CHART_BARS, &bars };

  return pl_chart_export_csv (&chart, path, error);
}

#define TRAIN       "train", "--data", DATA, "--epochs", "1"
#define PRUNE       "prune", "--model", "@model", "--data", DATA, "--score", "magnitude", "--sparsity", "0.5"
#define SWEEP       "sweep", "--model", "@model", "--data", DATA, "--score", "magnitude", "--points", "2"
#define SCHEDULE    "schedule", "--model", "@model", "--data", DATA, "--method", "oneshot", \
                    "--sparsity", "0.5", "--fine-tune-epochs", "0"
#define SENSITIVITY "sensitivity", "--model", "@model", "--data", DATA, "--points", "2"

static const Saver savers[] = {
  { "model", "model.safetensors", save_model },
  { "chart-png", "chart.png", export_png },
  { "chart-svg", "chart.svg", export_svg },
  { "chart-pdf", "chart.pdf", export_pdf },
  { "chart-csv", "chart.csv", export_csv },
  { "cli/train/out", "trained.safetensors", NULL, { TRAIN, "--out", "@" } },
  { "cli/train/plot", "training.png", NULL, { TRAIN, "--plot", "@" } },
  { "cli/prune/out", "pruned.safetensors", NULL, { PRUNE, "--out", "@" } },
  { "cli/sweep/csv", "sweep.csv", NULL, { SWEEP, "--csv", "@" } },
  { "cli/sweep/plot", "sweep.svg", NULL, { SWEEP, "--plot", "@" } },
  { "cli/schedule/csv", "schedule.csv", NULL, { SCHEDULE, "--csv", "@" } },
  { "cli/schedule/out", "schedule.safetensors", NULL, { SCHEDULE, "--out", "@" } },
  { "cli/schedule/plot", "schedule.pdf", NULL, { SCHEDULE, "--plot", "@" } },
  { "cli/sensitivity/csv", "sensitivity.csv", NULL, { SENSITIVITY, "--csv", "@" } },
  { "cli/sensitivity/plot", "sensitivity.png", NULL, { SENSITIVITY, "--plot", "@" } },
  { "cli/plot/out", "heatmap.svg", NULL, { "plot", "heatmap", "--input", "@model", "--out", "@" } },
  { "cli/plot/csv", "heatmap.csv", NULL, { "plot", "heatmap", "--input", "@model", "--csv", "@" } },
};

/* ---- making a fault ---------------------------------------------------------------------- */

/* Root's powers over file permissions. */
static const int dac_caps[] = { CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH };

/* In a child about to start a program: out of the bounding set, so that the program never has
 * them, root or not (async-signal-safe). */
static void
drop_dac_on_exec (gpointer data)
{
  for (guint i = 0; i < G_N_ELEMENTS (dac_caps); i++)
    prctl (PR_CAPBSET_DROP, dac_caps[i], 0, 0, 0);
}

/* In this process (a test subprocess): out of the effective set. */
static gboolean
drop_dac_here (void)
{
  struct __user_cap_header_struct header = { _LINUX_CAPABILITY_VERSION_3, 0 };
  struct __user_cap_data_struct caps[_LINUX_CAPABILITY_U32S_3];

  if (syscall (SYS_capget, &header, caps) != 0)
    return FALSE;
  for (guint i = 0; i < G_N_ELEMENTS (dac_caps); i++)
    caps[0].effective &= ~(1u << dac_caps[i]);
  return syscall (SYS_capset, &header, caps) == 0;
}

static void
limit_file_size (gpointer data)
{
  struct rlimit limit = { FILE_LIMIT, FILE_LIMIT };

  setrlimit (RLIMIT_FSIZE, &limit);
}

/* A file cannot be created in @folder by a process without root's powers over permissions. */
static gboolean
folder_refuses_files (const char *folder)
{
  g_autofree char *probe = g_build_filename (folder, "probe", NULL);
  const char *args[] = { "/usr/bin/touch", probe, NULL };
  int wait_status = 0;

  g_spawn_sync (NULL, (char **) args, NULL, G_SPAWN_STDERR_TO_DEV_NULL, drop_dac_on_exec, NULL,
                NULL, NULL, &wait_status, NULL);
  if (g_file_test (probe, G_FILE_TEST_EXISTS))
    {
      g_unlink (probe);
      return FALSE;
    }
  return TRUE;
}

/* ---- what a folder holds ----------------------------------------------------------------- */

static int
compare_names (gconstpointer a,
               gconstpointer b)
{
  return strcmp (*(char * const *) a, *(char * const *) b);
}

/* One line per entry, sorted, "name sha256" (files) or "name/" (folders, then their entries). */
static void
describe_into (GString    *out,
               const char *folder,
               const char *prefix)
{
  g_autoptr(GDir) dir = g_dir_open (folder, 0, NULL);
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  if (dir == NULL)
    {
      g_string_append_printf (out, "%s(none)\n", prefix);
      return;
    }
  while ((name = g_dir_read_name (dir)) != NULL)
    g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, compare_names);

  for (guint i = 0; i < names->len; i++)
    {
      g_autofree char *path = g_build_filename (folder, names->pdata[i], NULL);
      g_autofree char *inner = g_strconcat (prefix, names->pdata[i], "/", NULL);
      g_autofree char *contents = NULL;
      g_autofree char *sum = NULL;
      gsize length;

      if (g_file_test (path, G_FILE_TEST_IS_DIR))
        {
          g_string_append_printf (out, "%s\n", inner);
          describe_into (out, path, inner);
          continue;
        }
      g_assert_true (g_file_get_contents (path, &contents, &length, NULL));
      sum = g_compute_checksum_for_data (G_CHECKSUM_SHA256, (const guchar *) contents, length);
      g_string_append_printf (out, "%s%s %s\n", prefix, (char *) names->pdata[i], sum);
    }
}

static char *
describe_folder (const char *folder)
{
  GString *out = g_string_new (NULL);

  describe_into (out, folder, "");
  return g_string_free (out, FALSE);
}

static void
write_old_file (const char *path)
{
  g_autoptr(GString) old = g_string_new (NULL);

  while (old->len < 200)
    g_string_append (old, "the old file, which must survive; ");
  g_assert_true (g_file_set_contents (path, old->str, (gssize) old->len, NULL));
  g_assert_cmpint (g_chmod (path, 0600), ==, 0);
}

/* ---- running a saver --------------------------------------------------------------------- */

static void
run_cli (const Saver          *saver,
         const char           *target,
         GSpawnChildSetupFunc  setup,
         PlTestRun            *run)
{
  const char *args[G_N_ELEMENTS (saver->args)];
  guint n = 0;

  for (; saver->args[n] != NULL; n++)
    args[n] = strcmp (saver->args[n], "@") == 0 ? target
              : strcmp (saver->args[n], "@model") == 0 ? fixture_model : saver->args[n];
  args[n] = NULL;
  pl_test_run_cliv (run, g_getenv ("PRUNELAB_CLI"), args, setup, NULL);
}

/* The folder of a case: the test process's, so that its subprocess finds it too. */
static char *
case_dir (const Case *c,
          pid_t       test_pid)
{
  g_autofree char *name = g_strdup_printf ("test-save-faults-%d-%u", (int) test_pid, c->id);

  return g_build_filename (g_get_tmp_dir (), name, NULL);
}

static char *
case_target (const Case *c,
             const char *dir)
{
  switch (c->fault)
    {
    case FAULT_READ_ONLY_FOLDER:
      return g_build_filename (dir, "read-only", c->saver->file, NULL);
    case FAULT_MISSING_FOLDER:
      return g_build_filename (dir, "missing", c->saver->file, NULL);
    default:
      return g_build_filename (dir, c->saver->file, NULL);
    }
}

/* In the test subprocess: the fault, then the save, which must fail and say why. */
static void
save_under_fault (const Case *c)
{
  g_autofree char *dir = case_dir (c, getppid ());
  g_autofree char *target = case_target (c, dir);
  g_autoptr(GError) error = NULL;

  if (c->fault == FAULT_READ_ONLY_FOLDER)
    g_assert_true (drop_dac_here ());
  if (c->fault == FAULT_DISK_FULL)
    {
      signal (SIGXFSZ, SIG_IGN);
      limit_file_size (NULL);
    }

  g_assert_false (c->saver->save (target, &error));
  g_assert_nonnull (error);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, target));
  g_assert_nonnull (strstr (error->message, g_strerror (faults[c->fault].errnum)));
}

static void
test_save_fails (gconstpointer data)
{
  const Case *c = data;
  g_autofree char *dir = NULL;
  g_autofree char *folder = NULL;
  g_autofree char *target = NULL;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;

  if (c->saver->save != NULL && g_test_subprocess ())
    {
      save_under_fault (c);
      return;
    }

  dir = case_dir (c, getpid ());
  target = case_target (c, dir);
  pl_test_remove_tree (dir);
  g_assert_cmpint (g_mkdir (dir, 0755), ==, 0);

  switch (c->fault)
    {
    case FAULT_READ_ONLY_FOLDER:
      folder = g_path_get_dirname (target);
      g_assert_cmpint (g_mkdir (folder, 0755), ==, 0);
      write_old_file (target);
      g_assert_cmpint (g_chmod (folder, 0555), ==, 0);
      if (!folder_refuses_files (folder))
        {
          g_test_skip ("a folder cannot be made read-only here (not even without CAP_DAC_OVERRIDE)");
          pl_test_remove_tree (dir);
          return;
        }
      break;
    case FAULT_MISSING_FOLDER:
      folder = g_strdup (dir);
      break;
    case FAULT_TARGET_IS_FOLDER:
      {
        g_autofree char *inside = g_build_filename (target, "inside.txt", NULL);

        folder = g_strdup (dir);
        g_assert_cmpint (g_mkdir (target, 0755), ==, 0);
        write_old_file (inside);
        break;
      }
    case FAULT_DISK_FULL:
      folder = g_strdup (dir);
      write_old_file (target);
      break;
    default:
      g_assert_not_reached ();
    }
  before = describe_folder (folder);

  if (c->saver->save != NULL)
    {
      g_test_trap_subprocess (NULL, 60 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_DEFAULT);
      g_test_trap_assert_passed ();
    }
  else
    {
      g_auto(PlTestRun) run = { 0 };

      run_cli (c->saver, target,
               c->fault == FAULT_READ_ONLY_FOLDER ? drop_dac_on_exec
               : c->fault == FAULT_DISK_FULL ? limit_file_size : NULL, &run);
      g_assert_cmpint (run.status, ==, 1);
      g_assert_nonnull (strstr (run.err, target));
      g_assert_nonnull (strstr (run.err, g_strerror (faults[c->fault].errnum)));
    }

  after = describe_folder (folder);
  g_assert_cmpstr (after, ==, before);

  pl_test_remove_tree (dir);
}

/* The control: with nothing in the way the saver replaces the old file, which keeps its
 * permissions, and leaves no temporary file. */
static void
test_save_replaces (gconstpointer data)
{
  const Case *c = data;
  g_autofree char *dir = g_dir_make_tmp ("test-save-faults-XXXXXX", NULL);
  g_autofree char *target = g_build_filename (dir, c->saver->file, NULL);
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  g_autofree char *expected = NULL;
  g_autofree char *sum = NULL;
  g_autofree char *contents = NULL;
  gsize length;
  struct stat st;

  write_old_file (target);
  before = describe_folder (dir);

  if (c->saver->save != NULL)
    {
      g_autoptr(GError) error = NULL;

      g_assert_true (c->saver->save (target, &error));
      g_assert_no_error (error);
    }
  else
    {
      g_auto(PlTestRun) run = { 0 };

      run_cli (c->saver, target, NULL, &run);
      g_assert_cmpint (run.status, ==, 0);
    }

  after = describe_folder (dir);
  g_assert_cmpstr (after, !=, before);
  g_assert_true (g_file_get_contents (target, &contents, &length, NULL));
  sum = g_compute_checksum_for_data (G_CHECKSUM_SHA256, (const guchar *) contents, length);
  expected = g_strdup_printf ("%s %s\n", c->saver->file, sum);
  g_assert_cmpstr (after, ==, expected);  /* the new file, and nothing else */
  g_assert_cmpint (g_stat (target, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);

  pl_test_remove_tree (dir);
}

/* The result on stdout, “> result.json” on a full disk: /dev/full refuses every write with
 * ENOSPC. */
static void
stdout_to_full_disk (gpointer data)
{
  int fd = open ("/dev/full", O_WRONLY | O_CLOEXEC);

  if (fd >= 0)
    dup2 (fd, STDOUT_FILENO);
}

static void
test_stdout_full (void)
{
  static const char *const args[][10] = {
    { TRAIN, "--json", NULL },
    { TRAIN, NULL },
  };

  if (g_getenv ("PRUNELAB_CLI") == NULL || !g_file_test ("/dev/full", G_FILE_TEST_EXISTS))
    {
      g_test_skip ("needs prunelab-cli and /dev/full");
      return;
    }
  for (guint i = 0; i < G_N_ELEMENTS (args); i++)
    {
      g_auto(PlTestRun) run = { 0 };

      pl_test_run_cliv (&run, g_getenv ("PRUNELAB_CLI"), args[i], stdout_to_full_disk, NULL);
      g_assert_cmpint (run.status, ==, 1);
      g_assert_nonnull (strstr (run.err, "standard output"));
      g_assert_nonnull (strstr (run.err, g_strerror (ENOSPC)));
    }
}

/* ---- killed while saving ----------------------------------------------------------------- */

static void
make_big_models (PlMlp **a,
                 PlMlp **b)
{
  *a = pl_mlp_new_from_arch (BIG_ARCH, PL_ACTIVATION_RELU, NULL);
  *b = pl_mlp_new_from_arch (BIG_ARCH, PL_ACTIVATION_RELU, NULL);
  pl_mlp_init (*a, 1);
  pl_mlp_init (*b, 2);
  /* b is pruned: its file holds masks too, and is twice as long */
  for (guint i = 0; i < (*b)->n_layers; i++)
    for (gsize k = 0; k < (gsize) (*b)->layers[i].n_out * (*b)->layers[i].n_in; k += 3)
      (*b)->layers[i].w_mask[k] = 0;
  pl_mlp_apply_masks (*b);
}

/* `test-save-faults --save-forever PATH`: saves the two big models over PATH in turn until it
 * is killed. */
static int
save_forever (const char *path)
{
  g_autoptr(PlMlp) a = NULL;
  g_autoptr(PlMlp) b = NULL;

  make_big_models (&a, &b);
  for (guint64 i = 0;; i++)
    {
      g_autoptr(GError) error = NULL;

      if (!pl_safetensors_save (i % 2 == 0 ? b : a, path, &error))
        {
          g_printerr ("%s\n", error->message);
          return 1;
        }
    }
}

static GBytes *
saved_bytes (const PlMlp *model,
             const char  *path)
{
  g_autoptr(GError) error = NULL;
  char *contents = NULL;
  gsize length;

  g_assert_true (pl_safetensors_save (model, path, &error));
  g_assert_true (g_file_get_contents (path, &contents, &length, &error));
  return g_bytes_new_take (contents, length);
}

/* Temporary files beside @name in @dir; removes them when @remove. */
static guint
count_temporary (const char *dir,
                 const char *name,
                 gboolean    remove,
                 gboolean    need_data)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  g_autofree char *prefix = g_strdup_printf (".%s.", name);
  const char *entry;
  guint n = 0;

  while ((entry = g_dir_read_name (d)) != NULL)
    if (g_str_has_prefix (entry, prefix))
      {
        g_autofree char *path = g_build_filename (dir, entry, NULL);
        struct stat st;

        if (need_data && (g_stat (path, &st) != 0 || st.st_size == 0))
          continue;
        n++;
        if (remove)
          g_unlink (path);
      }
  return n;
}

static void
test_killed_while_saving (void)
{
  g_autofree char *dir = g_dir_make_tmp ("test-save-faults-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "big.safetensors", NULL);
  g_autofree char *self = g_file_read_link ("/proc/self/exe", NULL);
  g_autoptr(PlMlp) a = NULL;
  g_autoptr(PlMlp) b = NULL;
  g_autoptr(GBytes) bytes_a = NULL;
  g_autoptr(GBytes) bytes_b = NULL;
  g_autoptr(GRand) rand = g_rand_new_with_seed (11);
  const guint rounds = 10;
  guint mid_write = 0, left_behind = 0, was_a = 0, was_b = 0;

  make_big_models (&a, &b);
  bytes_b = saved_bytes (b, path);
  bytes_a = saved_bytes (a, path);   /* the old file */
  g_assert_cmpuint (g_bytes_get_size (bytes_b), >, g_bytes_get_size (bytes_a));

  for (guint round = 0; round < rounds; round++)
    {
      const char *argv[] = { self, "--save-forever", path, NULL };
      g_autoptr(GError) error = NULL;
      g_autoptr(PlMlp) loaded = NULL;
      g_autoptr(GBytes) now = NULL;
      char *contents = NULL;
      gsize length;
      GPid pid;
      int wait_status;

      g_assert_true (g_spawn_async (NULL, (char **) argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD,
                                    NULL, NULL, &pid, &error));
      g_assert_no_error (error);

      if (round % 2 == 0)
        /* a random moment: before, between or during saves (one takes some 0.3 s) */
        g_usleep (g_rand_int_range (rand, 0, 3000000));
      else
        {
          /* while a temporary file is being written */
          gint64 deadline = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;

          while (count_temporary (dir, "big.safetensors", FALSE, TRUE) == 0)
            {
              g_assert_cmpint (g_get_monotonic_time (), <, deadline);
              g_usleep (100);
            }
          mid_write++;
        }
      g_assert_cmpint (kill (pid, SIGKILL), ==, 0);
      g_assert_cmpint (waitpid (pid, &wait_status, 0), ==, pid);
      g_spawn_close_pid (pid);
      /* killed, not ended by an error of its own */
      g_assert_true (WIFSIGNALED (wait_status));
      g_assert_cmpint (WTERMSIG (wait_status), ==, SIGKILL);

      g_assert_true (g_file_get_contents (path, &contents, &length, NULL));
      now = g_bytes_new_take (contents, length);
      g_assert_true (g_bytes_equal (now, bytes_a) || g_bytes_equal (now, bytes_b));
      was_a += g_bytes_equal (now, bytes_a);
      was_b += g_bytes_equal (now, bytes_b);
      loaded = pl_safetensors_load (path, &error);
      g_assert_no_error (error);
      g_assert_nonnull (loaded);

      /* A process killed mid-save cannot remove its temporary file; it is harmless, and the
       * next save writes a new one. */
      left_behind += count_temporary (dir, "big.safetensors", TRUE, FALSE) > 0;
    }

  g_test_message ("%u kills, %u of them while a temporary file was being written: the file was "
                  "the first model %u times, the second %u times; %u kills left a temporary "
                  "file behind", rounds, mid_write, was_a, was_b, left_behind);

  pl_test_remove_tree (dir);
}

/* ---- main -------------------------------------------------------------------------------- */

int
main (int   argc,
      char *argv[])
{
  static const char *const groups[] = { "layers.0", "layers.1" };
  static const char *const series[] = { "parameter", "structural" };
  static const double values[] = { 0.5, 0.25, 0.75, 0.0 };
  g_autoptr(GPtrArray) cases = g_ptr_array_new_with_free_func (g_free);
  int status;

  if (argc == 3 && strcmp (argv[1], "--save-forever") == 0)
    return save_forever (argv[2]);

  g_test_init (&argc, &argv, NULL);
  g_test_summary ("Every save of a user's file — models, charts, CSV, every prunelab-cli "
                  "output — fails in a read-only or missing folder, onto a folder and on a full "
                  "disk with a message naming the file, and leaves the old file intact; a "
                  "process killed while saving leaves a whole file");

  small_model = pl_mlp_new_from_arch (ARCH, PL_ACTIVATION_RELU, NULL);
  pl_mlp_init (small_model, 3);
  bars = (PlBarsData) { .title = "Sparsity", .n_groups = 2, .group_names = groups,
                        .n_series = 2, .series_names = series, .values = values,
                        .format = PL_CHART_NUMBER_PERCENT };
  if (!g_test_subprocess ())
    {
      fixture_dir = g_dir_make_tmp ("test-save-faults-XXXXXX", NULL);
      fixture_model = g_build_filename (fixture_dir, "small.safetensors", NULL);
      g_assert_true (pl_safetensors_save (small_model, fixture_model, NULL));
    }

  for (guint i = 0; i < G_N_ELEMENTS (savers); i++)
    for (Fault f = 0; f <= N_FAULTS; f++)
      {
        Case *c = g_new (Case, 1);
        g_autofree char *name = g_strdup_printf ("/save/%s/%s", savers[i].name,
                                                 f < N_FAULTS ? faults[f].name : "replaces-old-file");

        *c = (Case) { cases->len, &savers[i], f };
        g_ptr_array_add (cases, c);
        if (savers[i].save == NULL && g_getenv ("PRUNELAB_CLI") == NULL)
          continue;
        g_test_add_data_func (name, c, f < N_FAULTS ? test_save_fails : test_save_replaces);
      }
  g_test_add_func ("/save/cli/stdout/disk-full", test_stdout_full);
  g_test_add_func ("/save/model/killed-while-saving-leaves-a-whole-file", test_killed_while_saving);

  status = g_test_run ();

  if (fixture_dir != NULL)
    pl_test_remove_tree (fixture_dir);
  g_clear_pointer (&fixture_dir, g_free);
  g_clear_pointer (&fixture_model, g_free);
  g_clear_pointer (&small_model, pl_mlp_free);
  return status;
}
