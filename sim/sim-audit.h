/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * The password audit of a users file (`serve` at start-up and on every reload of the users
 * file): a captured 401 and the Authorization that answered it let a sniffer test passwords
 * offline as fast as MD5 runs (RFC 7616 §5.7), so a short password or one from a common-
 * password list falls in seconds.  Each warning reads "FILE:LINE: user NAME: WHY" and never
 * contains the password.
 *
 * A password is weak when it is shorter than SIM_AUDIT_MIN_PASSWORD_LENGTH characters (UTF-8
 * characters, not bytes) or when it is in the common-password list, compared case-insensitively
 * (ASCII), since "Password" falls to a word list as fast as "password".  The list is a text
 * file, one password a line, '#' starting a comment line; SIP Lab ships
 * data/common-passwords.txt (installed as DATADIR/siplab/common-passwords.txt).
 */

/* Shorter than this is weak whatever the characters. */
#define SIM_AUDIT_MIN_PASSWORD_LENGTH 10
/* A common-password list is read up to this many entries (the shipped one has a few hundred);
 * the rest of a longer file is ignored. */
#define SIM_AUDIT_MAX_COMMON_PASSWORDS 100000
/* The longest line a common-password list may have; longer lines are skipped. */
#define SIM_AUDIT_MAX_COMMON_LENGTH 128

/* Reads a common-password list into a set of lower-cased passwords (g_hash_table_contains()). */
GHashTable *sim_audit_read_common_passwords (const char   *path,
                                             GError      **error);
/* TRUE when @password is weak; @why (optional) gets a static reason ("is shorter than 10
 * characters", "is in the common-password list"). */
gboolean    sim_audit_password_is_weak      (const char   *password,
                                             GHashTable   *common,
                                             const char  **why);
/*
 * The warnings for the users file text @contents named @path (as sim_users_parse() reads it:
 * "name:password" lines, '#' comments, blank lines; malformed lines are the parser's business
 * and are skipped here).  @common may be NULL: then only the length is checked.  Never NULL.
 */
GPtrArray  *sim_audit_users                 (const char   *path,
                                             const char   *contents,
                                             GHashTable   *common);
/* The same for the file at @path; NULL when it cannot be read. */
GPtrArray  *sim_audit_users_file            (const char   *path,
                                             GHashTable   *common,
                                             GError      **error);

G_END_DECLS
