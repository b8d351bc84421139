/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "sim-i18n.h"

#include <locale.h>
#include <string.h>

#ifndef SIPLAB_LOCALEDIR
#define SIPLAB_LOCALEDIR "/usr/share/locale"
#endif

/*
 * Binds the "siplab" catalogue and makes it the default domain, so GtkBuilder templates
 * (which use textdomain() when the .ui names none) and g_option_context's help find it too.
 * The caller has already called setlocale (LC_ALL, "").  UTF-8 always: GLib and GTK speak it.
 */
/* The locale the environment asks messages in: LC_ALL, else LC_MESSAGES, else LANG. */
static const char *
requested_messages_locale (void)
{
  const char *names[] = { "LC_ALL", "LC_MESSAGES", "LANG" };

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      const char *value = g_getenv (names[i]);

      if (value != NULL && *value != '\0')
        return value;
    }
  return NULL;
}

void
sim_i18n_init (void)
{
  const char *dir = g_getenv (SIM_I18N_LOCALEDIR_ENV);
  const char *messages = setlocale (LC_MESSAGES, NULL);
  const char *requested = requested_messages_locale ();

  /*
   * A locale the C library lacks (LANG=es_ES.UTF-8 with es_ES not generated) leaves "C", where
   * gettext ignores LANGUAGE: C.UTF-8 (built into glibc) lets LANGUAGE=es still speak Spanish.
   * Only then: LC_ALL=C asked for on purpose (a script wanting English) stays "C".
   */
  if (messages != NULL && strcmp (messages, "C") == 0 && g_getenv ("LANGUAGE") != NULL &&
      requested != NULL && strcmp (requested, "C") != 0 && strcmp (requested, "POSIX") != 0 &&
      !g_str_has_prefix (requested, "C.") && setlocale (LC_MESSAGES, "C.UTF-8") != NULL)
    setlocale (LC_CTYPE, "C.UTF-8");
  bindtextdomain (GETTEXT_PACKAGE, dir != NULL && *dir != '\0' ? dir : SIPLAB_LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
}

/* Whether gettext translates at all: it ignores LANGUAGE while LC_MESSAGES is "C" or "POSIX". */
static gboolean
messages_translated (void)
{
  const char *messages = setlocale (LC_MESSAGES, NULL);

  return messages != NULL && strcmp (messages, "C") != 0 && strcmp (messages, "POSIX") != 0;
}

/* The language part of a locale name: "es" of "es_ES.UTF-8"; FALSE for "C" and the like. */
static gboolean
language_of (const char *name,
             char        lang[8])
{
  gsize n = strcspn (name, "_.@");

  if (n < 2 || n > 3 || strcmp (name, "C") == 0 || strncmp (name, "POSIX", 5) == 0)
    return FALSE;
  for (gsize i = 0; i < n; i++)
    if (!g_ascii_islower (name[i]))
      return FALSE;
  memcpy (lang, name, n);
  lang[n] = '\0';
  return TRUE;
}

/*
 * The language the user reads first, as a code ("es"), or "C" when untranslated.  GLib's list
 * follows LANGUAGE, LC_ALL, LC_MESSAGES and LANG in gettext's order.
 */
const char *
sim_i18n_language (void)
{
  static char lang[8];
  const char * const *names = g_get_language_names ();

  if (!messages_translated ())
    return "C";
  for (guint i = 0; names[i] != NULL; i++)
    if (language_of (names[i], lang))
      return lang;
  return "C";
}

/*
 * The length of @path's language suffix: 3 for "x.es.lesson" (".es"), 0 for "x.lesson".  A
 * translated sibling is named NAME.LANG.EXT with LANG two or three lower-case letters.
 */
gsize
sim_i18n_language_suffix_length (const char *path)
{
  const char *base = strrchr (path, '/');
  const char *ext, *dot;
  char lang[8];

  base = base != NULL ? base + 1 : path;
  ext = strrchr (base, '.');
  if (ext == NULL || ext == base)
    return 0;
  for (dot = ext - 1; dot > base && *dot != '.'; dot--)
    ;
  if (*dot != '.' || dot == base || (gsize) (ext - dot - 1) > 3)
    return 0;
  {
    char word[8] = { 0 };

    memcpy (word, dot + 1, ext - dot - 1);
    if (!language_of (word, lang) || strcmp (word, lang) != 0)
      return 0;
  }
  return ext - dot;
}

/*
 * The translated sibling of @path the user reads ("lessons/01-x.es.lesson" for
 * "lessons/01-x.lesson" under LANGUAGE=es), trying the user's languages in order; a copy of
 * @path when there is none or @path is itself a translation.
 */
char *
sim_i18n_localized_path (const char *path)
{
  const char * const *names = g_get_language_names ();
  const char *ext = strrchr (path, '.');
  const char *slash = strrchr (path, '/');
  char lang[8];

  g_return_val_if_fail (path != NULL, NULL);
  if (!messages_translated () || ext == NULL || (slash != NULL && ext < slash) ||
      sim_i18n_language_suffix_length (path) > 0)
    return g_strdup (path);
  for (guint i = 0; names[i] != NULL; i++)
    {
      g_autofree char *candidate = NULL;

      if (!language_of (names[i], lang))
        continue;
      candidate = g_strdup_printf ("%.*s.%s%s", (int) (ext - path), path, lang, ext);
      if (g_file_test (candidate, G_FILE_TEST_IS_REGULAR))
        return g_steal_pointer (&candidate);
    }
  return g_strdup (path);
}
