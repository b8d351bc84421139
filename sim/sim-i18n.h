/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>
#include <glib/gi18n-lib.h>

/*
 * Translation for libsim and the front ends (docs/translating.md).  Every text a student reads
 * is looked up in the "siplab" catalogue with g_dgettext(), so the core needs no textdomain()
 * of its own and a program that links it with another domain still gets our strings.
 * gi18n-lib.h defines _(), N_(), C_() over GETTEXT_PACKAGE, which meson passes to every target.
 *
 * What is never translated: SIP message text, the JSON Lines export (docs/jsonl.md, a machine
 * format) and the trace's machine words (event actions, JSON field names).
 */

#ifndef GETTEXT_PACKAGE
#error "GETTEXT_PACKAGE must be defined (the top-level meson.build does it)"
#endif

/* The environment variable that overrides where the catalogues are found: the tests point it
 * at the build tree's po/ so a build speaks Spanish without being installed. */
#define SIM_I18N_LOCALEDIR_ENV "SIPLAB_LOCALEDIR"

void sim_i18n_init (void);
const char *sim_i18n_language (void);
char *sim_i18n_localized_path (const char *path);
gsize sim_i18n_language_suffix_length (const char *path);

/*
 * The simulator's sentences (a trace event's reason and text: why a binding went, what a phone
 * does, why a datagram was lost) as the user reads them.  The trace keeps them in English with
 * their values inside, which is what JSON Lines carries in every language; the ladder, the
 * message list and the GUI call this at display time.  @text is matched against a table of
 * the simulator's formats (sim-i18n.c); a match is said again with the catalogue's format and
 * the values found, its "%s" values translated the same way (a reason inside a reason).  A
 * text the table does not know (a scenario's own note, a host name) comes back unchanged.
 * Costs nothing in the simulator: only what is displayed is ever matched.  Free with g_free().
 */
char *sim_i18n_reason (const char *text) G_GNUC_WARN_UNUSED_RESULT;
/* The formats sim_i18n_reason() knows, NULL-terminated (for the tests). */
const char * const *sim_i18n_reason_formats (void);
