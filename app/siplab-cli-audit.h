/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * The password audit as `siplab-cli serve` runs it (sim-audit.h has the rules): where the
 * shipped common-password list is, and the start-up warnings on stderr.
 */

/*
 * The shipped common-password list, read once per process and kept: $SIPLAB_COMMON_PASSWORDS,
 * the source tree's data/common-passwords.txt (a build), then DATADIR/siplab's.  NULL when
 * none can be read (said once on stderr): then only the length is checked.
 */
GHashTable *siplab_cli_common_passwords (void);

/* Prints "siplab-cli serve: warning: FILE:LINE: user 'NAME': ..." on stderr for each weak
 * password of the users file at @path (NULL: none); an unreadable file is left to the loader. */
void        siplab_cli_audit_users      (const char *path);

G_END_DECLS
