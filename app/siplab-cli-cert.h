/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * siplab-cli cert --host NAME [--ip ADDR]... [--out DIR] [--days N] (app/siplab-cli-cert.c):
 * a lab CA and a server certificate for NAME signed by it (sim-cert.h), then what to do with
 * them: the `serve` command line for TLS and what to install on Linphone and baresip.
 * Exit status: 0 written; 1 not written (a file exists, a write or OpenSSL failed); 2 the
 * command line is wrong.
 */
int siplab_cli_cert (int    argc,
                     char **argv);

G_END_DECLS
