/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* `siplab-cli serve`: the registrar and proxy on real sockets (docs/real-phones.md). */
int siplab_cli_serve (int    argc,
                      char **argv);

G_END_DECLS
