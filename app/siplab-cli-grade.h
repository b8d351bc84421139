/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * The teacher's subcommands of siplab-cli (app/siplab-cli-grade.c):
 *
 *   siplab-cli class init [--out FILE]        makes a class key (mode 0600) that signs hand-ins
 *   siplab-cli grade KEY HANDIN... [--csv]    verifies hand-ins, prints per-question statistics
 *
 * Exit status: 0 success (grade: every hand-in signed with KEY and unchanged); 1 a write failed
 * or some hand-in was flagged; 2 the command line, the key or a file is wrong.
 */
int siplab_cli_class (int    argc,
                      char **argv);
int siplab_cli_grade (int    argc,
                      char **argv);

G_END_DECLS
