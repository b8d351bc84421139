/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "siplab-cli-common.h"

#include <stdio.h>

int
siplab_cli_usage_error (const char *command,
                        const char *format,
                        ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  fprintf (stderr, "siplab-cli %s: %s\n", command, message);
  fprintf (stderr, "Try 'siplab-cli %s --help'.\n", command);
  return SIPLAB_CLI_EXIT_USAGE;
}

char *
siplab_cli_installed_data_path (const char *name)
{
  g_autofree char *exe = g_file_read_link ("/proc/self/exe", NULL);
  g_autofree char *bindir = NULL;
  g_autofree char *prefix = NULL;
  g_autofree char *path = NULL;

  if (exe == NULL)
    return NULL;
  bindir = g_path_get_dirname (exe);
  prefix = g_path_get_dirname (bindir);
  path = g_build_filename (prefix, "share", "siplab", name, NULL);
  return g_file_test (path, G_FILE_TEST_EXISTS) ? g_steal_pointer (&path) : NULL;
}
