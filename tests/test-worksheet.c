/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/wait.h>

#include "test-cli-run.h"

/*
 * siplab-cli worksheet end to end: the built program (SIPLAB_CLI) writes a handout and an
 * answer key for a small lesson whose text is hostile on purpose.  The tests read the files
 * as a teacher's browser or Markdown viewer would get them: well-formed, no markup from the
 * lesson, the questions in the handout and the answers only in the key.
 */

static const char *hostile_lesson =
  "# Worksheet test <b>title</b> & more\n"
  "\n"
  "Intro with <script>alert(1)</script>, **bold**, *italic* and `code <x>`.\n"
  "\n"
  "```scene\n"
  "title worksheet test\n"
  "seed 5\n"
  "server registrar 10.0.0.1 domain lab.example\n"
  "link default latency 20ms jitter 0ms loss 0%\n"
  "user alice password secret123\n"
  "phone alice-desk user alice ip 10.0.0.11\n"
  "run 30s\n"
  "```\n"
  "\n"
  "## Step: Alice registers\n"
  "Alice's phone sends a REGISTER <img src=x onerror=alert(1)>.\n"
  "do: register alice-desk\n"
  "run: until REGISTER leaves alice-desk\n"
  "\n"
  "## Predict: How does the registrar answer?\n"
  "predict: status of response arrives at alice-desk\n"
  "answer: 401\n"
  "explain: UNIQUE-EXPLANATION-401 the registrar challenges.\n"
  "\n"
  "## Choice: What does the 401 carry? </h2><script>x</script>\n"
  "option a: A nonce & a realm <i>\n"
  "option b: The password\n"
  "answer: a\n"
  "explain: UNIQUE-EXPLANATION-CHOICE.\n"
  "\n"
  "## Task: Watch a wrong password fail\n"
  "Give the phone a wrong password and register again.\n"
  "goal: reg-state alice-desk failed\n"
  "solution: password alice-desk wrong-guess; register alice-desk\n"
  "hint: UNIQUE-HINT\n";

typedef struct {
  char *dir;
  char *lesson;
} Fixture;

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  f->dir = g_dir_make_tmp ("siplab-worksheet-XXXXXX", &error);
  g_assert_no_error (error);
  f->lesson = g_build_filename (f->dir, "hostile.lesson", NULL);
  g_file_set_contents (f->lesson, hostile_lesson, -1, &error);
  g_assert_no_error (error);
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  remove_scratch_dir (f->dir);
  g_free (f->dir);
  g_free (f->lesson);
}

/* What a page holds, read back with GMarkup: it must be well-formed XML. */
typedef struct {
  guint n_svg;
  guint n_scripts;          /* <script>, <img>, <iframe>... : must stay 0 */
  GString *text;            /* all character data, entities resolved */
} Page;

static void
page_start_cb (GMarkupParseContext  *context,
               const char           *element,
               const char          **names,
               const char          **values,
               gpointer              user_data,
               GError              **error)
{
  static const char *allowed[] = {
    "html", "head", "meta", "title", "style", "body", "h1", "h2", "h3", "h4", "h5", "h6", "p",
    "span", "strong", "em", "code", "pre", "ul", "ol", "li", "section", "figure", "figcaption",
    "div", "svg", "g", "line", "rect", "path", "text", NULL
  };
  Page *p = user_data;

  if (strcmp (element, "svg") == 0)
    p->n_svg++;
  if (!g_strv_contains (allowed, element))
    p->n_scripts++;
  /* No attribute may run anything. */
  for (guint i = 0; names[i] != NULL; i++)
    if (g_str_has_prefix (names[i], "on") || g_strcmp0 (names[i], "href") == 0 ||
        g_strcmp0 (names[i], "src") == 0)
      p->n_scripts++;
}

static void
page_text_cb (GMarkupParseContext  *context,
              const char           *text,
              gsize                 len,
              gpointer              user_data,
              GError              **error)
{
  Page *p = user_data;

  g_string_append_len (p->text, text, len);
}

static void
read_page (const char *xml,
           Page       *p)
{
  static const GMarkupParser parser = { page_start_cb, NULL, page_text_cb, NULL, NULL };
  g_autoptr(GMarkupParseContext) context = NULL;
  g_autoptr(GError) error = NULL;

  p->text = g_string_new (NULL);
  context = g_markup_parse_context_new (&parser, 0, p, NULL);
  g_markup_parse_context_parse (context, xml, -1, &error);
  g_assert_no_error (error);
  g_markup_parse_context_end_parse (context, &error);
  g_assert_no_error (error);
}

static void
page_clear (Page *p)
{
  if (p->text != NULL)
    g_string_free (g_steal_pointer (&p->text), TRUE);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Page, page_clear)

static void
assert_no_markup_from_the_lesson (const char *doc)
{
  g_autofree char *lower = g_ascii_strdown (doc, -1);

  g_assert_null (strstr (lower, "<script"));
  g_assert_null (strstr (lower, "<img"));
  g_assert_null (strstr (lower, "<b>"));
  g_assert_null (strstr (lower, "<i>"));
}

/* Markdown: no '<' a viewer could read as a tag, outside code (where it is shown as is). */
static void
assert_no_raw_tags (const char *md)
{
  g_auto(GStrv) lines = g_strsplit (md, "\n", -1);
  gboolean fenced = FALSE;

  for (guint i = 0; lines[i] != NULL; i++)
    {
      gboolean code = FALSE;

      if (g_str_has_prefix (lines[i], "```"))
        {
          fenced = !fenced;
          continue;
        }
      if (fenced)
        continue;
      for (const char *p = lines[i]; *p != '\0'; p++)
        {
          if (*p == '`')
            code = !code;
          else if (*p == '<' && !code && (p == lines[i] || p[-1] != '\\'))
            g_error ("a raw '<' in line %u of the Markdown: %s", i + 1, lines[i]);
        }
    }
}

/* ------------------------------------------------------------------------------------------ */

static void
test_html_handout_has_the_questions_not_the_answers (Fixture       *f,
                                                     gconstpointer  data)
{
  g_auto(Result) r = { 0 };
  g_auto(Page) page = { 0 };

  if (!need_cli ())
    return;
  run_cli_in (&r, NULL, "worksheet", f->lesson, "--format", "html", NULL);
  g_assert_cmpstr (r.err, ==, "");
  g_assert_cmpint (r.status, ==, 0);
  g_assert_true (g_str_has_prefix (r.out, "<!DOCTYPE html>"));
  assert_no_markup_from_the_lesson (r.out);
  read_page (r.out, &page);
  g_assert_cmpuint (page.n_scripts, ==, 0);

  /* The lesson's text, as text. */
  g_assert_nonnull (strstr (page.text->str, "Worksheet test <b>title</b> & more"));
  g_assert_nonnull (strstr (page.text->str, "Intro with <script>alert(1)</script>"));
  g_assert_nonnull (strstr (page.text->str, "REGISTER <img src=x onerror=alert(1)>."));
  g_assert_nonnull (strstr (r.out, "<strong>bold</strong>"));
  g_assert_nonnull (strstr (r.out, "<code>code &lt;x&gt;</code>"));
  /* Every item; the choice's options with boxes; a blank for the prediction; room for the
   * task. */
  g_assert_nonnull (strstr (page.text->str, "1. Step:"));
  g_assert_nonnull (strstr (page.text->str, "2. Predict:"));
  g_assert_nonnull (strstr (page.text->str, "What does the 401 carry? </h2><script>x</script>"));
  g_assert_nonnull (strstr (page.text->str, "A nonce & a realm <i>"));
  g_assert_nonnull (strstr (page.text->str, "The password"));
  g_assert_nonnull (strstr (page.text->str, "Your answer (a status code"));
  g_assert_nonnull (strstr (page.text->str, "Your commands"));
  g_assert_nonnull (strstr (page.text->str, "register PHONE"));
  /* The first step's ladder: the REGISTER the student is about to be asked about. */
  g_assert_cmpuint (page.n_svg, >=, 1);
  g_assert_nonnull (strstr (r.out, "data-label=\"REGISTER (CSeq 1)\""));
  /* Nothing of the answers: not the 401 the prediction asks for, no explanation, no hint,
   * no model solution. */
  g_assert_null (strstr (r.out, "401 Unauthorized"));
  g_assert_null (strstr (r.out, "UNIQUE-"));
  g_assert_null (strstr (r.out, "wrong-guess"));
}

static void
test_html_key_has_the_answers (Fixture       *f,
                               gconstpointer  data)
{
  g_auto(Result) r = { 0 };
  g_auto(Page) page = { 0 };

  if (!need_cli ())
    return;
  run_cli_in (&r, NULL, "worksheet", f->lesson, "--answers", "--format", "html", NULL);
  g_assert_cmpstr (r.err, ==, "");
  g_assert_cmpint (r.status, ==, 0);
  assert_no_markup_from_the_lesson (r.out);
  read_page (r.out, &page);
  g_assert_cmpuint (page.n_scripts, ==, 0);
  g_assert_nonnull (strstr (page.text->str, "Answer key"));
  g_assert_nonnull (strstr (page.text->str, "Answer: 401"));
  g_assert_nonnull (strstr (page.text->str, "UNIQUE-EXPLANATION-401"));
  g_assert_nonnull (strstr (page.text->str, "Answer: a) A nonce & a realm <i>"));
  g_assert_nonnull (strstr (page.text->str, "UNIQUE-EXPLANATION-CHOICE"));
  g_assert_nonnull (strstr (page.text->str,
                            "password alice-desk wrong-guess\nregister alice-desk"));
  g_assert_nonnull (strstr (page.text->str, "reg-state alice-desk failed"));
  g_assert_nonnull (strstr (page.text->str, "UNIQUE-HINT"));
  /* What followed each answer: the 401 the prediction was about, the solution's REGISTERs. */
  g_assert_nonnull (strstr (r.out, "data-label=\"401 Unauthorized (CSeq 1 REGISTER)\""));
  g_assert_nonnull (strstr (r.out, "data-label=\"REGISTER (CSeq 3)\""));
  /* The key is for the questions: the step's text is not repeated. */
  g_assert_null (strstr (page.text->str, "Intro with"));
}

static gboolean
file_has (const char *path,
          const char *needle)
{
  g_autofree char *text = NULL;

  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  return strstr (text, needle) != NULL;
}

static void
test_markdown_writes_pictures_next_to_it (Fixture       *f,
                                          gconstpointer  data)
{
  g_auto(Result) r = { 0 };
  g_autofree char *out = g_build_filename (f->dir, "sheet.md", NULL);
  g_autofree char *picture = g_build_filename (f->dir, "sheet-01.svg", NULL);
  g_autofree char *md = NULL;
  g_autofree char *svg = NULL;
  g_auto(Page) page = { 0 };

  if (!need_cli ())
    return;
  run_cli_in (&r, NULL, "worksheet", f->lesson, "--format", "md", "--out", out, NULL);
  g_assert_cmpstr (r.err, ==, "");
  g_assert_cmpint (r.status, ==, 0);
  g_assert_cmpstr (r.out, ==, "");
  g_assert_true (g_file_get_contents (out, &md, NULL, NULL));
  g_assert_true (g_str_has_prefix (md, "# Worksheet test \\<b\\>title\\</b\\> &amp; more\n"));
  g_assert_nonnull (strstr (md, "![The ladder at this point (simulated time).](sheet-01.svg)"));
  g_assert_nonnull (strstr (md, "Intro with &lt;script&gt;alert(1)&lt;/script&gt;, **bold**"));
  g_assert_nonnull (strstr (md, "`code <x>`"));
  g_assert_nonnull (strstr (md, "- [ ] **a)** A nonce &amp; a realm \\<i\\>"));
  assert_no_raw_tags (md);
  g_assert_null (strstr (md, "UNIQUE-"));

  g_assert_true (g_file_get_contents (picture, &svg, NULL, NULL));
  g_assert_true (g_str_has_prefix (svg, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg "));
  read_page (svg, &page);
  g_assert_cmpuint (page.n_svg, ==, 1);
  g_assert_cmpuint (page.n_scripts, ==, 0);
  g_assert_true (file_has (picture, "data-label=\"REGISTER (CSeq 1)\""));
}

static void
test_markdown_to_stdout_puts_pictures_in_the_current_directory (Fixture       *f,
                                                                gconstpointer  data)
{
  g_auto(Result) r = { 0 };
  g_autofree char *picture = g_build_filename (f->dir, "hostile-key-02.svg", NULL);

  if (!need_cli ())
    return;
  run_cli_in (&r, f->dir, "worksheet", "hostile.lesson", "--answers", "--format", "md", NULL);
  g_assert_cmpstr (r.err, ==, "");
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.out, "](hostile-key-02.svg)"));
  g_assert_nonnull (strstr (r.out, "UNIQUE-EXPLANATION-401"));
  g_assert_true (g_file_test (picture, G_FILE_TEST_IS_REGULAR));
  g_assert_true (file_has (picture, "data-label=\"401 Unauthorized (CSeq 1 REGISTER)\""));
}

static void
test_usage_errors_exit_2 (Fixture       *f,
                          gconstpointer  data)
{
  g_autofree char *bad = g_build_filename (f->dir, "bad.lesson", NULL);
  g_autofree char *where = NULL;

  if (!need_cli ())
    return;
  {
    g_auto(Result) r = { 0 };
    run_cli_in (&r, NULL, "worksheet", f->lesson, "--format", "pdf", NULL);
    g_assert_cmpint (r.status, ==, 2);
    g_assert_nonnull (strstr (r.err, "unknown format 'pdf'"));
    g_assert_cmpstr (r.out, ==, "");
  }
  {
    g_auto(Result) r = { 0 };
    run_cli_in (&r, NULL, "worksheet", f->lesson, NULL);
    g_assert_cmpint (r.status, ==, 2);
    g_assert_nonnull (strstr (r.err, "--format"));
  }
  {
    g_auto(Result) r = { 0 };
    run_cli_in (&r, NULL, "worksheet", "--format", "html", NULL);
    g_assert_cmpint (r.status, ==, 2);
    g_assert_nonnull (strstr (r.err, "missing FILE"));
  }
  {
    /* The lesson parser's own words, with the file and line. */
    g_auto(Result) r = { 0 };
    g_assert_true (g_file_set_contents (bad, "# Bad\n\nscene: nowhere.scn\n\n## Step: x\n"
                                             "frobnicate: yes\n", -1, NULL));
    run_cli_in (&r, NULL, "worksheet", bad, "--format", "html", NULL);
    g_assert_cmpint (r.status, ==, 2);
    g_assert_cmpstr (r.out, ==, "");
    g_assert_true (g_str_has_prefix (r.err, bad));
    where = g_strdup_printf ("%s:", bad);
    g_assert_true (g_str_has_prefix (r.err, where));
    g_assert_true (g_ascii_isdigit (r.err[strlen (where)]));
  }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
#define ADD(path, func) g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("/sim/worksheet/html-handout-has-the-questions-not-the-answers",
       test_html_handout_has_the_questions_not_the_answers);
  ADD ("/sim/worksheet/html-key-has-the-answers", test_html_key_has_the_answers);
  ADD ("/sim/worksheet/markdown-writes-pictures-next-to-it",
       test_markdown_writes_pictures_next_to_it);
  ADD ("/sim/worksheet/markdown-to-stdout-puts-pictures-in-the-current-directory",
       test_markdown_to_stdout_puts_pictures_in_the_current_directory);
  ADD ("/sim/worksheet/usage-errors-exit-2", test_usage_errors_exit_2);
#undef ADD
  return g_test_run ();
}
