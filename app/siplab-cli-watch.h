/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* `siplab-cli watch --hep udp:HOST:PORT`: a PBX's SIP traffic live from HEP (docs/watch.md). */
int siplab_cli_watch (int    argc,
                      char **argv);

G_END_DECLS
