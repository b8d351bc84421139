/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * What the subcommands of siplab-cli (siplab-cli.c, siplab-cli-serve.c, siplab-cli-lesson.c)
 * share.  Every subcommand exits with SIPLAB_CLI_EXIT_USAGE when its command line is wrong.
 */
#define SIPLAB_CLI_EXIT_USAGE 2

/*
 * Prints "siplab-cli COMMAND: MESSAGE" and where to find the options on stderr, and returns
 * SIPLAB_CLI_EXIT_USAGE for the subcommand to return.
 */
int siplab_cli_usage_error (const char *command,
                            const char *format,
                            ...) G_GNUC_PRINTF (2, 3);

/*
 * @name in the data directory of the running program's own installation: EXE/../../share/siplab/
 * for EXE = PREFIX/bin/siplab-cli, found from /proc/self/exe, so an installation unpacked
 * anywhere (`dpkg -x pkg.deb ROOT`) finds its data.  NULL when that file does not exist.
 */
char *siplab_cli_installed_data_path (const char *name);

G_END_DECLS
