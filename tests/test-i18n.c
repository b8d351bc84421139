/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <string.h>

#include <glib.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <locale.h>

#include "sim-document.h"
#include "sim-i18n.h"
#include "sim-lesson.h"
#include "sim-lesson-student.h"

/*
 * Translation end to end (docs/translating.md): the built siplab-cli run with LANGUAGE=es and
 * the build tree's catalogues (SIPLAB_LOCALEDIR) speaks Spanish, while the JSON Lines export,
 * a machine format (docs/jsonl.md), stays byte for byte the same in every language.
 */

typedef struct {
  char *out;
  char *err;
  int status;
} Result;

static void
result_clear (Result *r)
{
  g_clear_pointer (&r->out, g_free);
  g_clear_pointer (&r->err, g_free);
}

/* Runs siplab-cli with @lang as LANGUAGE (NULL: the C locale) and the arguments after it. */
static void
run_cli (Result     *r,
         const char *lang,
         ...)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_auto(GStrv) envp = g_get_environ ();
  g_autofree char *localedir = g_build_filename (g_getenv ("SIPLAB_BUILD_ROOT"), "po", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) extra_env = g_ptr_array_new ();
  const char *arg;
  va_list args;

  /* Arguments "env:NAME=VALUE" set the environment instead. */
  g_ptr_array_add (argv, (char *) g_getenv ("SIPLAB_CLI"));
  va_start (args, lang);
  while ((arg = va_arg (args, const char *)) != NULL)
    g_ptr_array_add (g_str_has_prefix (arg, "env:") ? extra_env : argv, (char *) arg);
  va_end (args);
  g_ptr_array_add (argv, NULL);

  envp = g_environ_unsetenv (envp, "LC_ALL");
  envp = g_environ_unsetenv (envp, "LC_MESSAGES");
  envp = g_environ_setenv (envp, "SIPLAB_LOCALEDIR", localedir, TRUE);
  if (lang != NULL)
    {
      /* As the task's users run it: es_ES.UTF-8 need not be generated (sim-i18n.c). */
      envp = g_environ_setenv (envp, "LANGUAGE", lang, TRUE);
      envp = g_environ_setenv (envp, "LANG", "es_ES.UTF-8", TRUE);
    }
  else
    {
      envp = g_environ_unsetenv (envp, "LANGUAGE");
      envp = g_environ_setenv (envp, "LANG", "C", TRUE);
    }
  for (guint i = 0; i < extra_env->len; i++)
    {
      g_auto(GStrv) pair = g_strsplit ((char *) extra_env->pdata[i] + 4, "=", 2);

      envp = g_environ_setenv (envp, pair[0], pair[1], TRUE);
    }
  g_spawn_sync (NULL, (char **) argv->pdata, envp, G_SPAWN_DEFAULT, NULL, NULL,
                &r->out, &r->err, &r->status, &error);
  g_assert_no_error (error);
}

static char *
scenario (const char *name)
{
  return g_build_filename (g_getenv ("SIPLAB_SOURCE_DIR"), "data", "scenarios", name, NULL);
}

static void
test_run_ladder_speaks_spanish (void)
{
  g_autofree char *file = scenario ("03-register-digest.scn");
  Result es = { 0 }, c = { 0 };

  run_cli (&es, "es", "run", file, NULL);
  run_cli (&c, NULL, "run", file, NULL);
  g_assert_cmpint (es.status, ==, 0);
  g_assert_cmpint (c.status, ==, 0);
  g_assert_nonnull (strstr (c.out, "+ alice-desk registration registering"));
  g_assert_nonnull (strstr (es.out, "+ registro de alice-desk: registrándose"));
  g_assert_nonnull (strstr (es.out, "caduca en 3600"));
  g_assert_null (strstr (es.out, "registration registering"));
  /* SIP itself is never translated. */
  g_assert_nonnull (strstr (es.out, "REGISTER (CSeq 1)"));
  g_assert_nonnull (strstr (es.out, "401 Unauthorized"));
  result_clear (&es);
  result_clear (&c);
}

/*
 * A user who builds SIP Lab and runs ./_build/app/siplab-cli with LANGUAGE=es sets no
 * SIPLAB_LOCALEDIR: the program finds the build tree's catalogues itself.
 */
static void
test_build_tree_finds_its_catalogues (void)
{
  g_autofree char *file = scenario ("03-register-digest.scn");
  Result es = { 0 };

  run_cli (&es, "es", "env:SIPLAB_LOCALEDIR=", "run", file, NULL);
  g_assert_cmpint (es.status, ==, 0);
  g_assert_nonnull (strstr (es.out, "+ registro de alice-desk: registrándose"));
  result_clear (&es);
}

/* Also with reasons, expiry, a replay and a sniffer's attack, which the ladder translates. */
static void
test_jsonl_identical_in_every_language (void)
{
  static const char *const scenes[] = {
    "03-register-digest.scn", "04-refresh-expiry.scn", "07-replay-attack.scn", "08-sniffer.scn",
  };

  for (guint i = 0; i < G_N_ELEMENTS (scenes); i++)
    {
      g_autofree char *file = scenario (scenes[i]);
      Result es = { 0 }, c = { 0 };

      run_cli (&es, "es", "run", file, "--format", "jsonl", NULL);
      run_cli (&c, NULL, "run", file, "--format", "jsonl", NULL);
      g_assert_cmpint (es.status, ==, 0);
      g_assert_cmpuint (strlen (c.out), >, 1000);
      g_assert_nonnull (strstr (c.out, "\"reason\":\"the "));
      g_assert_cmpstr (es.out, ==, c.out);
      result_clear (&es);
      result_clear (&c);
    }
}

static void
test_usage_and_errors_speak_spanish (void)
{
  Result r = { 0 };

  run_cli (&r, "es", "help", NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.out, "Uso: siplab-cli ORDEN"));
  result_clear (&r);
  /* LC_ALL=C is a script asking for English on purpose: LANGUAGE does not override it. */
  run_cli (&r, "es", "help", "env:LC_ALL=C", NULL);
  g_assert_nonnull (strstr (r.out, "Usage: siplab-cli COMMAND"));
  result_clear (&r);
  run_cli (&r, "es", "run", "--format", "xml", "x.scn", NULL);
  g_assert_true (g_spawn_check_wait_status (r.status, NULL) == FALSE);
  g_assert_nonnull (strstr (r.err, "formato desconocido «xml»"));
  result_clear (&r);
}

static void
test_lessons_picks_the_translation (void)
{
  Result es = { 0 }, c = { 0 };

  run_cli (&es, "es", "lessons", NULL);
  run_cli (&c, NULL, "lessons", NULL);
  g_assert_cmpint (es.status, ==, 0);
  /* Listed once, under its original's id, with the translated title. */
  g_assert_nonnull (strstr (es.out, "01-point-to-point            Llamadas punto a punto"));
  g_assert_null (strstr (es.out, "01-point-to-point.es"));
  g_assert_nonnull (strstr (c.out, "01-point-to-point            Point-to-point calling"));
  result_clear (&es);
  result_clear (&c);
}

/* A translation must make its original's claims: a changed answer key is refused. */
static void
test_check_compares_a_translation_with_its_original (void)
{
  g_autofree char *dir = g_dir_make_tmp ("siplab-i18n-XXXXXX", NULL);
  g_autofree char *lessons = g_build_filename (g_getenv ("SIPLAB_SOURCE_DIR"), "lessons", NULL);
  g_autofree char *original = g_build_filename (lessons, "01-point-to-point.lesson", NULL);
  g_autofree char *es = g_build_filename (lessons, "01-point-to-point.es.lesson", NULL);
  g_autofree char *copy = g_build_filename (dir, "l.lesson", NULL);
  g_autofree char *bad = g_build_filename (dir, "l.es.lesson", NULL);
  g_autofree char *text = NULL, *es_text = NULL;
  g_autoptr(GString) changed = NULL;
  Result r = { 0 };

  g_assert_true (g_file_get_contents (original, &text, NULL, NULL));
  g_assert_true (g_file_get_contents (es, &es_text, NULL, NULL));
  g_assert_true (g_file_set_contents (copy, text, -1, NULL));
  run_cli (&r, NULL, "check", "--seeds", "0", original, es, NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.out, "01-point-to-point.es.lesson: 2 steps, 3 questions, 1 task ok"));
  result_clear (&r);

  changed = g_string_new (es_text);
  g_assert_cmpint (g_string_replace (changed, "answer: a", "answer: b", 1), ==, 1);
  g_assert_true (g_file_set_contents (bad, changed->str, -1, NULL));
  run_cli (&r, NULL, "check", "--seeds", "0", bad, NULL);
  g_assert_false (g_spawn_check_wait_status (r.status, NULL));
  g_assert_nonnull (strstr (r.out, "FAILED (not the same lesson as its original)"));
  g_assert_nonnull (strstr (r.err, "items and claims differ"));
  result_clear (&r);
  g_unlink (bad);
  g_unlink (copy);
  g_rmdir (dir);
}

static char *
lesson_id (const char *path)
{
  static char id[64];
  g_autofree char *got = sim_lesson_id_for_file (path);

  g_strlcpy (id, got, sizeof id);
  return id;
}

/* The helpers on their own: what counts as a language suffix, and which sibling is picked. */
static void
test_language_suffixes (void)
{
  g_assert_cmpuint (sim_i18n_language_suffix_length ("lessons/01-x.es.lesson"), ==, 3);
  g_assert_cmpuint (sim_i18n_language_suffix_length ("01-x.ast.lesson"), ==, 4);
  g_assert_cmpuint (sim_i18n_language_suffix_length ("lessons/01-x.lesson"), ==, 0);
  g_assert_cmpuint (sim_i18n_language_suffix_length ("a.b/01-x.lesson"), ==, 0);
  g_assert_cmpuint (sim_i18n_language_suffix_length ("01-x.ES.lesson"), ==, 0);
  g_assert_cmpuint (sim_i18n_language_suffix_length ("01-x.v2.lesson"), ==, 0);
  g_assert_cmpuint (sim_i18n_language_suffix_length ("es.lesson"), ==, 0);
  /* A translation is the same lesson: one id, so one progress record and one seed each. */
  g_assert_cmpstr (lesson_id ("lessons/01-point-to-point.es.lesson"), ==, "01-point-to-point");
}

static void
test_localized_path_follows_the_language (void)
{
  g_autofree char *lessons = g_build_filename (g_getenv ("SIPLAB_SOURCE_DIR"), "lessons", NULL);
  g_autofree char *original = g_build_filename (lessons, "01-point-to-point.lesson", NULL);
  g_autofree char *es = g_build_filename (lessons, "01-point-to-point.es.lesson", NULL);
  g_autofree char *untranslated = g_build_filename (lessons, "03-many-devices.lesson", NULL);
  g_autofree char *a = NULL, *b = NULL, *c = NULL, *d = NULL, *e = NULL;
  g_autoptr(SimDocument) document = sim_document_new ();
  g_autoptr(GError) error = NULL;

  g_setenv ("LANGUAGE", "de:es", TRUE);
  setlocale (LC_MESSAGES, "C.UTF-8");
  a = sim_i18n_localized_path (original);
  b = sim_i18n_localized_path (untranslated);
  c = sim_i18n_localized_path (es);
  g_assert_cmpstr (a, ==, es);
  g_assert_cmpstr (b, ==, untranslated);
  g_assert_cmpstr (c, ==, es);
  g_assert_cmpstr (sim_i18n_language (), ==, "de");
  /* The GUI's document opens the translation too. */
  g_assert_true (sim_document_open_lesson (document, original, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (sim_document_get_path (document), ==, es);

  /* Under "C" gettext translates nothing, so neither is a lesson swapped. */
  setlocale (LC_MESSAGES, "C");
  d = sim_i18n_localized_path (original);
  g_assert_cmpstr (d, ==, original);
  g_assert_cmpstr (sim_i18n_language (), ==, "C");
  g_unsetenv ("LANGUAGE");
  setlocale (LC_MESSAGES, "C.UTF-8");
  g_setenv ("LANG", "C.UTF-8", TRUE);
  g_unsetenv ("LC_ALL");
  g_unsetenv ("LC_MESSAGES");
  e = sim_i18n_localized_path (original);
  g_assert_cmpstr (e, ==, original);
  setlocale (LC_MESSAGES, "C");
}

/*
 * Every string marked in the sources has a Spanish translation: xgettext over po/POTFILES.in
 * as the build's siplab-pot runs it, then msgcmp against po/es.po (which fails on a msgid the
 * catalogue lacks), and msgfmt --check --statistics (no fuzzy, no untranslated entry).
 */
static void
test_spanish_catalogue_is_complete (void)
{
  const char *src = g_getenv ("SIPLAB_SOURCE_DIR");
  g_autofree char *dir = g_dir_make_tmp ("siplab-pot-XXXXXX", NULL);
  g_autofree char *pot = g_build_filename (dir, "siplab.pot", NULL);
  g_autofree char *potfiles = g_build_filename (src, "po", "POTFILES.in", NULL);
  g_autofree char *po = g_build_filename (src, "po", "es.po", NULL);
  const char *xgettext[] = { "xgettext", "--from-code=UTF-8", "--keyword=_", "--keyword=N_",
                             "--keyword=C_:1c,2", "--keyword=NC_:1c,2", "--keyword=g_dngettext:2,3",
                             "--keyword=g_dpgettext2:2c,3", "-f", potfiles, "-D", src, "-o", pot,
                             NULL };
  const char *msgcmp[] = { "msgcmp", po, pot, NULL };
  const char *msgfmt[] = { "msgfmt", "--check", "--statistics", "-o", "/dev/null", po, NULL };
  g_autofree char *out = NULL, *err = NULL;
  g_autoptr(GError) error = NULL;
  int status;

  g_spawn_sync (NULL, (char **) xgettext, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, &err,
                &status, &error);
  g_assert_no_error (error);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  g_clear_pointer (&err, g_free);
  g_spawn_sync (NULL, (char **) msgcmp, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, &err,
                &status, &error);
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, NULL))
    g_error ("po/es.po lacks strings the sources mark:\n%s", err);
  g_clear_pointer (&err, g_free);
  g_spawn_sync (NULL, (char **) msgfmt, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err,
                &status, &error);
  g_assert_no_error (error);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  g_assert_nonnull (strstr (err, "translated message"));
  g_assert_null (strstr (err, "untranslated"));
  g_assert_null (strstr (err, "fuzzy"));
  g_unlink (pot);
  g_rmdir (dir);
}

/* The annotation lines of a ladder (an event, not an arrow, a header or a scenario's note). */
static gboolean
is_annotation (const char *line)
{
  const char *p = line;

  while (*p == ' ' || g_ascii_isdigit (*p) || *p == '.')
    p++;
  if (p > line && p[-1] != ' ')
    return FALSE;
  if (*p == 's' && p[1] == ' ')
    p += 2;
  while (*p == ' ')
    p++;
  return g_str_has_prefix (p, "+ ") || g_str_has_prefix (p, ">> ") || g_str_has_prefix (p, "x ") ||
         g_str_has_prefix (p, "% ") || g_str_has_prefix (p, "! ");
}

/*
 * The simulator's reasons and action texts (the bracketed explanations, why a binding went,
 * what a phone did) are Spanish too: in the unwrapped ladders of every shipped scenario, each
 * event line differs from its English and contains none of English's common words, while the
 * lines stay the same in number (one event, one line).  Scenario notes ("# ...") are the
 * author's words and stay.
 */
static void
test_run_ladder_reasons_speak_spanish (void)
{
  static const char *const scenes[] = {
    "01-p2p-call.scn", "02-p2p-peer-moves.scn", "03-register-digest.scn", "04-refresh-expiry.scn",
    "05-devices-fork.scn", "06-unregister.scn", "07-replay-attack.scn", "08-sniffer.scn",
  };
  static const char *const english[] = {
    " the ", " and ", " is ", " was ", " of ", " with ", " from ", " by ", " granted",
    " asked", " registers", " registration ", " hangs up", " calls ", " no answer", " lost ",
  };
  guint checked = 0;

  for (guint i = 0; i < G_N_ELEMENTS (scenes); i++)
    {
      g_autofree char *file = scenario (scenes[i]);
      g_auto(GStrv) es_lines = NULL, c_lines = NULL;
      Result es = { 0 }, c = { 0 };

      run_cli (&es, "es", "run", file, "--width", "100000", NULL);
      run_cli (&c, NULL, "run", file, "--width", "100000", NULL);
      g_assert_cmpint (es.status, ==, 0);
      g_assert_cmpint (c.status, ==, 0);
      es_lines = g_strsplit (es.out, "\n", -1);
      c_lines = g_strsplit (c.out, "\n", -1);
      g_assert_cmpuint (g_strv_length (es_lines), ==, g_strv_length (c_lines));
      for (guint j = 0; c_lines[j] != NULL; j++)
        {
          if (!is_annotation (c_lines[j]))
            continue;
          if (g_strcmp0 (es_lines[j], c_lines[j]) == 0)
            g_error ("%s: line %u is English in Spanish: %s", scenes[i], j + 1, es_lines[j]);
          for (guint k = 0; k < G_N_ELEMENTS (english); k++)
            if (strstr (es_lines[j], english[k]) != NULL)
              g_error ("%s: line %u has the English \"%s\": %s", scenes[i], j + 1, english[k],
                       es_lines[j]);
          checked++;
        }
      result_clear (&es);
      result_clear (&c);
    }
  /* Every scene has events: a ladder that lost them would pass the checks above. */
  g_assert_cmpuint (checked, >, 100);
}

/* The messages format's "[dropped: ...]" says why in Spanish too. */
static void
test_messages_dropped_reason_speaks_spanish (void)
{
  g_autofree char *file = scenario ("02-p2p-peer-moves.scn");
  Result es = { 0 }, c = { 0 };

  run_cli (&es, "es", "run", file, "--format", "messages", NULL);
  run_cli (&c, NULL, "run", file, "--format", "messages", NULL);
  g_assert_cmpint (es.status, ==, 0);
  g_assert_nonnull (strstr (c.out, "no host has address 10.0.0.12 any more: the datagram is lost"));
  g_assert_nonnull (strstr (es.out, "ningún host tiene ya la dirección 10.0.0.12: el datagrama se pierde"));
  g_assert_null (strstr (es.out, "the datagram is lost"));
  result_clear (&es);
  result_clear (&c);
}

/* @text with every run of white space (a wrapped line's break and indent) as one space. */
static char *
unwrapped (const char *text)
{
  GString *out = g_string_new (NULL);

  for (const char *p = text; *p != '\0'; p++)
    if (!g_ascii_isspace (*p))
      g_string_append_c (out, *p);
    else if (out->len > 0 && out->str[out->len - 1] != ' ')
      g_string_append_c (out, ' ');
  return g_string_free (out, FALSE);
}

/* `view` of a capture says its digest verdicts and what a 200 OK shows in Spanish too. */
static void
test_view_of_a_capture_speaks_spanish (void)
{
  g_autofree char *file = scenario ("04-refresh-expiry.scn");
  g_autofree char *dir = g_dir_make_tmp ("siplab-i18n-XXXXXX", NULL);
  g_autofree char *pcap = g_build_filename (dir, "04.pcapng", NULL);
  g_autofree char *users = g_build_filename (dir, "users", NULL);
  g_autofree char *es_text = NULL, *c_text = NULL;
  Result run = { 0 }, es = { 0 }, c = { 0 };

  run_cli (&run, NULL, "run", file, "--pcap", pcap, NULL);
  g_assert_cmpint (run.status, ==, 0);
  g_assert_true (g_file_set_contents (users, "alice:secret123\n", -1, NULL));
  run_cli (&es, "es", "view", pcap, "--users", users, NULL);
  run_cli (&c, NULL, "view", pcap, "--users", users, NULL);
  g_assert_cmpint (es.status, ==, 0);
  es_text = unwrapped (es.out);
  c_text = unwrapped (c.out);
  g_assert_nonnull (strstr (c_text, "correct: the MD5 digest of alice's password matches"));
  g_assert_nonnull (strstr (es_text, "correcto: el digest MD5 de la contraseña de alice coincide"));
  g_assert_nonnull (strstr (es_text, "el 200 OK del registrar enumera los Contacts actuales"));
  g_assert_null (strstr (es_text, "password matches"));
  result_clear (&run);
  result_clear (&es);
  result_clear (&c);
  g_unlink (pcap);
  g_unlink (users);
  g_rmdir (dir);
}

/* The teacher's commands speak Spanish: class init's instructions, grade's verdicts. */
static void
test_class_and_grade_speak_spanish (void)
{
  g_autofree char *dir = g_dir_make_tmp ("siplab-i18n-XXXXXX", NULL);
  g_autofree char *key = g_build_filename (dir, "class.key", NULL);
  g_autofree char *bogus = g_build_filename (dir, "bogus.handin", NULL);
  Result init = { 0 }, grade = { 0 }, usage = { 0 };

  run_cli (&init, "es", "class", "init", "--out", key, NULL);
  g_assert_cmpint (init.status, ==, 0);
  g_assert_nonnull (strstr (init.out, "escrita en"));
  g_assert_true (g_file_set_contents (bogus, "not a hand-in\n", -1, NULL));
  run_cli (&grade, "es", "grade", key, bogus, NULL);
  g_assert_false (g_spawn_check_wait_status (grade.status, NULL));
  g_assert_nonnull (strstr (grade.out, "Entregas (clave de clase"));
  g_assert_nonnull (strstr (grade.out, "NO ES UNA ENTREGA"));
  g_assert_nonnull (strstr (grade.out, "1 de 1 entrega señalada"));
  run_cli (&usage, "es", "grade", key, NULL);
  g_assert_nonnull (strstr (usage.err, "falta HANDIN"));
  result_clear (&init);
  result_clear (&grade);
  result_clear (&usage);
  g_unlink (key);
  g_unlink (bogus);
  g_rmdir (dir);
}

/*
 * A worksheet of a shipped lesson: in Spanish its headings are Spanish and it is the lesson's
 * Spanish translation; in English the answer key plays every choice's key under the letter
 * the runner shows it as (the options are shuffled per seed: the file's letter failed).
 */
static void
test_worksheet_speaks_spanish (void)
{
  g_autofree char *lesson = g_build_filename (g_getenv ("SIPLAB_SOURCE_DIR"), "lessons",
                                              "02-register-and-aor.lesson", NULL);
  g_autofree char *dir = g_dir_make_tmp ("siplab-i18n-XXXXXX", NULL);
  g_autofree char *sheet = g_build_filename (dir, "sheet.html", NULL);
  g_autofree char *key = g_build_filename (dir, "key.html", NULL);
  g_autofree char *html = NULL, *key_html = NULL;
  Result es = { 0 }, c = { 0 };

  run_cli (&es, "es", "worksheet", lesson, "--format", "html", "--out", sheet, NULL);
  g_assert_cmpstr (es.err, ==, "");
  g_assert_cmpint (es.status, ==, 0);
  g_assert_true (g_file_get_contents (sheet, &html, NULL, NULL));
  g_assert_nonnull (strstr (html, "<html lang=\"es\">"));
  g_assert_nonnull (strstr (html, "Hoja de trabajo"));
  g_assert_nonnull (strstr (html, "Fíjese en"));
  g_assert_nonnull (strstr (html, "La petición REGISTER"));
  run_cli (&c, NULL, "worksheet", lesson, "--answers", "--format", "html", "--out", key, NULL);
  g_assert_cmpstr (c.err, ==, "");
  g_assert_cmpint (c.status, ==, 0);
  g_assert_true (g_file_get_contents (key, &key_html, NULL, NULL));
  g_assert_nonnull (strstr (key_html, "<html lang=\"en\">"));
  g_assert_nonnull (strstr (key_html, "Answer key"));
  result_clear (&es);
  result_clear (&c);
  g_unlink (sheet);
  g_unlink (key);
  g_rmdir (dir);
}

/* A sample of @format: "v1", "v2" ... for each "%s", 7 (or 7.5) for each number. */
static char *
sample_of (const char *format)
{
  GString *out = g_string_new (NULL);
  guint n = 0;

  for (const char *p = format; *p != '\0'; p++)
    {
      if (*p != '%')
        {
          g_string_append_c (out, *p);
          continue;
        }
      if (p[1] == '%')
        {
          g_string_append_c (out, '%');
          p++;
          continue;
        }
      while (strchr ("0123456789.*$-+ #hlLqjzt", p[1]) != NULL)
        p++;
      p++;
      if (*p == 's')
        g_string_append_printf (out, "v%u", ++n);
      else
        g_string_append (out, *p == 'f' || *p == 'g' ? "7.5" : "7");
    }
  return g_string_free (out, FALSE);
}

/*
 * A capture's reasons carry a peer's header fields.  A text that repeats the literals of a
 * format with three "%s" ("%s drops it: %s has sent nothing to %s (address-dependent ...") but
 * never completes it made the backtracking matcher run for minutes (the time grew with the
 * cube of the text's length and more); now one call has a bounded number of steps.  In a
 * subprocess: it switches the locale, and before the fix it is killed by the timeout.
 */
static void
test_a_hostile_reason_is_matched_in_bounded_time (void)
{
  if (g_test_subprocess ())
    {
      g_autofree char *localedir = g_build_filename (g_getenv ("SIPLAB_BUILD_ROOT"), "po", NULL);
      g_autoptr(GString) text = g_string_new ("nat1");
      g_autoptr(GString) nested = g_string_new (NULL);
      g_autofree char *said = NULL, *deep = NULL, *plain = NULL;

      g_setenv ("SIPLAB_LOCALEDIR", localedir, TRUE);
      g_setenv ("LANGUAGE", "es", TRUE);
      g_setenv ("LANG", "es_ES.UTF-8", TRUE);
      g_unsetenv ("LC_ALL");
      g_unsetenv ("LC_MESSAGES");
      setlocale (LC_ALL, "");
      sim_i18n_init ();

      for (guint i = 0; i < 2000; i++)
        g_string_append (text, " drops it: a has sent nothing to b");
      g_string_append_c (text, '.');
      said = sim_i18n_reason (text->str);
      g_assert_nonnull (said);

      /* A reason inside a reason, thousands of levels deep: the recursion is bounded too. */
      for (guint i = 0; i < 5000; i++)
        g_string_append (nested, "eve replays the REGISTER with Authorization captured from ");
      g_string_append (nested, "alice-desk");
      deep = sim_i18n_reason (nested->str);
      g_assert_nonnull (deep);

      /* A simulator sentence is still translated. */
      plain = sim_i18n_reason ("the router r1 is gone: the datagram is lost");
      g_assert_cmpstr (plain, !=, "the router r1 is gone: the datagram is lost");
      return;
    }
  g_test_trap_subprocess (NULL, 60 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

/*
 * In process, in Spanish: every format of sim_i18n_reason()'s table is reached by a text it
 * writes (no earlier format shadows it) and said in Spanish with the values found; a composed
 * sentence has its inner one translated too; anything else comes back unchanged.  Last test of
 * the file: it switches this process's locale.
 */
static void
test_reason_table_translates_every_format (void)
{
  const char * const *formats = sim_i18n_reason_formats ();
  g_autofree char *localedir = g_build_filename (g_getenv ("SIPLAB_BUILD_ROOT"), "po", NULL);
  g_autofree char *composed = NULL, *unknown = NULL, *reason = NULL;
  guint n = 0;

  /* In the C locale nothing is translated. */
  reason = sim_i18n_reason ("the router r1 is gone: the datagram is lost");
  g_assert_cmpstr (reason, ==, "the router r1 is gone: the datagram is lost");
  g_clear_pointer (&reason, g_free);

  g_setenv ("SIPLAB_LOCALEDIR", localedir, TRUE);
  g_setenv ("LANGUAGE", "es", TRUE);
  g_setenv ("LANG", "es_ES.UTF-8", TRUE);
  g_unsetenv ("LC_ALL");
  g_unsetenv ("LC_MESSAGES");
  setlocale (LC_ALL, "");
  sim_i18n_init ();
  g_assert_cmpstr (sim_i18n_language (), ==, "es");

  for (guint i = 0; formats[i] != NULL; i++, n++)
    {
      g_autofree char *sample = sample_of (formats[i]);
      g_autofree char *said = sim_i18n_reason (sample);

      /* " (CSeq + 1)%s" reads the same in Spanish. */
      if (g_strcmp0 (said, sample) == 0 &&
          strcmp (g_dgettext (GETTEXT_PACKAGE, formats[i]), formats[i]) != 0)
        g_error ("format %u is not translated (or never reached): %s", i, formats[i]);
      /* The values found are said again. */
      if (strstr (sample, "v1") != NULL && strstr (said, "v1") == NULL)
        g_error ("format %u loses its first value: %s -> %s", i, sample, said);
    }
  g_assert_cmpuint (n, >, 100);

  composed = sim_i18n_reason ("a new Contact for sip:alice@lab.example: 120 s granted (asked for "
                              "7200 s; the policy grants at most 120 s) (RFC 3261 §10.3 step 7)");
  g_assert_cmpstr (composed, ==, "un Contact nuevo para sip:alice@lab.example: se conceden 120 s "
                                 "(pidió 7200 s; la política concede como mucho 120 s) "
                                 "(RFC 3261 §10.3 paso 7)");
  unknown = sim_i18n_reason ("alice-desk is off: no more refreshes");
  g_assert_cmpstr (unknown, ==, "alice-desk is off: no more refreshes");
  reason = sim_i18n_reason ("eve replays the REGISTER with Authorization captured from alice-desk "
                            "(new Call-ID) (CSeq + 1)");
  g_assert_cmpstr (reason, ==, "eve reenvía el REGISTER con la Authorization capturada de "
                               "alice-desk (Call-ID nuevo) (CSeq + 1)");
  setlocale (LC_ALL, "C");
}

/*
 * A student taking a lesson in the terminal in Spanish, answering wrongly on purpose: the
 * runner's own words (what kind of answer it wants, the refusal of a non-number, the
 * simulator's verdict and when the packet went) are Spanish; the lesson's text is the author's.
 */
static void
test_lesson_runner_speaks_spanish (void)
{
  g_autofree char *lesson = g_build_filename (g_getenv ("SIPLAB_SOURCE_DIR"), "lessons",
                                              "04-digest-challenge.lesson", NULL);
  g_autofree char *localedir = g_build_filename (g_getenv ("SIPLAB_BUILD_ROOT"), "po", NULL);
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) cli = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;
  g_autofree char *home = g_dir_make_tmp ("i18n-lesson-XXXXXX", NULL);

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE |
                                        G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                        G_SUBPROCESS_FLAGS_STDERR_MERGE);
  g_subprocess_launcher_unsetenv (launcher, "LC_ALL");
  g_subprocess_launcher_unsetenv (launcher, "LC_MESSAGES");
  g_subprocess_launcher_setenv (launcher, "SIPLAB_LOCALEDIR", localedir, TRUE);
  g_subprocess_launcher_setenv (launcher, "LANGUAGE", "es", TRUE);
  g_subprocess_launcher_setenv (launcher, "LANG", "es_ES.UTF-8", TRUE);
  /* Progress is saved under the user's data directory: not the tester's. */
  g_subprocess_launcher_setenv (launcher, "XDG_DATA_HOME", home, TRUE);
  cli = g_subprocess_launcher_spawn (launcher, &error, g_getenv ("SIPLAB_CLI"), "lesson",
                                     lesson, NULL);
  g_assert_no_error (error);
  /* The introduction, then a letter where a status code is asked for, then a wrong code. */
  g_subprocess_communicate_utf8 (cli, "\nzzz\n404\n", NULL, &out, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (strstr (out, "un código de estado (tres cifras)"));
  g_assert_nonnull (strstr (out, "Responde con un número."));
  g_assert_nonnull (strstr (out, "El simulador: 401"));
  /* (The paragraph may wrap between the two.) */
  g_assert_nonnull (strstr (out, "enviado a las"));
  g_assert_nonnull (strstr (out, "entregado en 0.042s"));
  g_assert_null (strstr (out, "Answer with a number"));
  g_assert_null (strstr (out, "The simulator:"));
  g_assert_null (strstr (out, "sent at"));
  {
    /* What the runner saved: siplab/progress.ini under the temporary data directory. */
    g_autofree char *progress = g_build_filename (home, "siplab", "progress.ini", NULL);
    g_autofree char *dir = g_path_get_dirname (progress);

    g_unlink (progress);
    g_rmdir (dir);
    g_rmdir (home);
  }
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/i18n/run's ladder speaks Spanish with LANGUAGE=es",
                   test_run_ladder_speaks_spanish);
  g_test_add_func ("/i18n/a build tree's program finds its catalogues without SIPLAB_LOCALEDIR",
                   test_build_tree_finds_its_catalogues);
  g_test_add_func ("/i18n/the JSON Lines export is the same bytes in every language",
                   test_jsonl_identical_in_every_language);
  g_test_add_func ("/i18n/usage and errors speak Spanish", test_usage_and_errors_speak_spanish);
  g_test_add_func ("/i18n/lessons lists a lesson once, in the user's language",
                   test_lessons_picks_the_translation);
  g_test_add_func ("/i18n/check refuses a translation whose claims differ from its original's",
                   test_check_compares_a_translation_with_its_original);
  g_test_add_func ("/i18n/a language suffix is two or three lower-case letters before the extension",
                   test_language_suffixes);
  g_test_add_func ("/i18n/a lesson's translation is picked by the user's language",
                   test_localized_path_follows_the_language);
  g_test_add_func ("/i18n/the Spanish catalogue translates every marked string",
                   test_spanish_catalogue_is_complete);
  g_test_add_func ("/i18n/the ladder's reasons and action texts speak Spanish in every scenario",
                   test_run_ladder_reasons_speak_spanish);
  g_test_add_func ("/i18n/the message list says why a datagram was dropped in Spanish",
                   test_messages_dropped_reason_speaks_spanish);
  g_test_add_func ("/i18n/view of a capture says its verdicts in Spanish",
                   test_view_of_a_capture_speaks_spanish);
  g_test_add_func ("/i18n/class init and grade speak Spanish", test_class_and_grade_speak_spanish);
  g_test_add_func ("/i18n/a hostile reason is matched in bounded time",
                   test_a_hostile_reason_is_matched_in_bounded_time);
  g_test_add_func ("/i18n/a worksheet speaks Spanish, and its answer key plays shuffled choices",
                   test_worksheet_speaks_spanish);
  g_test_add_func ("/i18n/a lesson in the terminal answers a student in Spanish",
                   test_lesson_runner_speaks_spanish);
  /* Last: it switches this process's locale to Spanish. */
  g_test_add_func ("/i18n/every sentence of the simulator's table is said in Spanish",
                   test_reason_table_translates_every_format);
  return g_test_run ();
}
