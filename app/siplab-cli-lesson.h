/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * The lesson subcommands of siplab-cli (app/siplab-cli-lesson.c).  Each is a subcommand main:
 * argv[0] is "siplab-cli NAME".  Exit status: 0 success; 1 a claim or a write failed;
 * 2 the command line or a lesson file is wrong.
 */
int siplab_cli_lesson  (int    argc,
                        char **argv);
int siplab_cli_check   (int    argc,
                        char **argv);
int siplab_cli_lessons (int    argc,
                        char **argv);

G_END_DECLS
