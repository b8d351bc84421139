/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * siplab-cli worksheet FILE [--answers] --format md|html [--out FILE]
 * (app/siplab-cli-worksheet.c): a lesson on paper.  Exit status: 0 written; 1 the lesson
 * could not be played to its end or the output not written; 2 the command line or the lesson
 * file is wrong ("FILE:LINE: what is wrong").
 */
int siplab_cli_worksheet (int    argc,
                          char **argv);

G_END_DECLS
