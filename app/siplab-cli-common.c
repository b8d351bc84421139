/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "siplab-cli-common.h"

#include <stdio.h>

#include "sim-i18n.h"

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
  fprintf (stderr, _("Try 'siplab-cli %s --help'.\n"), command);
  return SIPLAB_CLI_EXIT_USAGE;
}
