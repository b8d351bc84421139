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

G_END_DECLS
