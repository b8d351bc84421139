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
