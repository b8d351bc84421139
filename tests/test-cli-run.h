/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Running the built siplab-cli (meson passes its path in SIPLAB_CLI) from a test, as a script
 * would, and clearing the scratch folder such a test works in; shared by the end-to-end tests
 * of its subcommands. */
#pragma once

#include <glib.h>
#include <glib/gstdio.h>
#include <stdarg.h>
#include <sys/wait.h>

typedef struct {
  int status;          /* exit code, or -1 */
  char *out;
  char *err;
} Result;

static inline void
result_clear (Result *r)
{
  g_clear_pointer (&r->out, g_free);
  g_clear_pointer (&r->err, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Result, result_clear)

static inline const char *
cli_path (void)
{
  return g_getenv ("SIPLAB_CLI");
}

static inline gboolean
need_cli (void)
{
  if (cli_path () == NULL)
    {
      g_test_skip ("SIPLAB_CLI is not set (meson test sets it)");
      return FALSE;
    }
  return TRUE;
}

/* Runs siplab-cli in @cwd (NULL: the test's own) with the arguments in @args up to a NULL. */
static inline void
run_cli_va (Result     *r,
            const char *cwd,
            va_list     args)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  const char *arg;
  int wait_status = 0;

  g_ptr_array_add (argv, (gpointer) cli_path ());
  while ((arg = va_arg (args, const char *)) != NULL)
    g_ptr_array_add (argv, (gpointer) arg);
  g_ptr_array_add (argv, NULL);

  g_spawn_sync (cwd, (char **) argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL, &r->out, &r->err,
                &wait_status, &error);
  g_assert_no_error (error);
  r->status = WIFEXITED (wait_status) ? WEXITSTATUS (wait_status) : -1;
}

/* Runs siplab-cli in @cwd with the NULL-terminated arguments. */
static inline void
run_cli_in (Result     *r,
            const char *cwd,
            ...)
{
  va_list args;

  va_start (args, cwd);
  run_cli_va (r, cwd, args);
  va_end (args);
}

/* Runs siplab-cli with the NULL-terminated arguments. */
static inline void
run_cli (Result *r,
         ...)
{
  va_list args;

  va_start (args, r);
  run_cli_va (r, NULL, args);
  va_end (args);
}

/* Removes the files in the scratch folder @dir (made by g_dir_make_tmp), then the folder. */
static inline void
remove_scratch_dir (const char *dir)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_remove (path);
    }
  g_rmdir (dir);
}
