/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* `siplab-cli view FILE`: a capture of a real network explained like the simulator
 * (docs/view.md). */
int siplab_cli_view (int    argc,
                     char **argv);

/* The ladder is written in chunks of at most this many trace events, so memory stays bounded
 * whatever the size of the capture; every chunk repeats the column header. */
#define SIPLAB_CLI_VIEW_LADDER_CHUNK 400

G_END_DECLS
