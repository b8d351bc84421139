/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <glib.h>
#include <string.h>

#include "sim-lesson.h"
#include "siplab-cli-text.h"

/*
 * How lesson text looks in a terminal (app/siplab-cli-text.c): the Markdown of the lessons
 * becomes attributes on a terminal and plain words in a pipe, never raw stars or backticks.
 */

static void
test_plain_drops_the_markup (void)
{
  struct {
    const char *markdown;
    const char *plain;
  } cases[] = {
    { "SIP does not *need* a server", "SIP does not need a server" },
    { "The **Address of Record (AOR)** is", "The Address of Record (AOR) is" },
    { "check with `state` now", "check with 'state' now" },
    { "the special **Contact: \\*** with Expires: 0", "the special Contact: * with Expires: 0" },
    /* Not markup: kept as written. */
    { "Contact: * with Expires: 0", "Contact: * with Expires: 0" },
    { "* a list item\n* another", "* a list item\n* another" },
    { "3 * 4 and *unclosed", "3 * 4 and *unclosed" },
    { "a `code *span*` stays", "a 'code *span*' stays" },
    /* A span may go on over the file's line break. */
    { "**same Contact and\nCall-ID** as before", "same Contact and\nCall-ID as before" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *plain = siplab_cli_text_render (cases[i].markdown, FALSE);

      g_assert_cmpstr (plain, ==, cases[i].plain);
    }
}

static void
test_a_terminal_gets_bold_and_underline (void)
{
  g_autofree char *text = siplab_cli_text_render ("a *binding* is **one pair**, see `state`",
                                                  TRUE);

  g_assert_cmpstr (text, ==, "a \033[4mbinding\033[24m is \033[1mone pair\033[22m, see 'state'");
  /* Escape sequences take no columns; "§" takes one. */
  g_assert_cmpuint (siplab_cli_text_width (text), ==,
                    strlen ("a binding is one pair, see 'state'"));
  g_assert_cmpuint (siplab_cli_text_width ("RFC 3261 §10"), ==, 12);
}

/* TRUE when @text still shows Markdown a reader would see as noise. */
static gboolean
has_raw_markup (const char *text)
{
  static GRegex *star = NULL;

  if (star == NULL)
    star = g_regex_new ("\\*\\w|\\w\\*", 0, 0, NULL);
  return strstr (text, "**") != NULL || strchr (text, '`') != NULL ||
         g_regex_match (star, text, 0, NULL);
}

static void
assert_renders_clean (const char *file,
                      const char *what,
                      const char *markdown)
{
  g_autofree char *plain = NULL;

  if (markdown == NULL)
    return;
  plain = siplab_cli_text_render (markdown, FALSE);
  if (has_raw_markup (plain))
    g_error ("%s: %s still shows markup: %s", file, what, plain);
}

static void
test_shipped_lessons_render_without_markup (void)
{
  const char *src = g_getenv ("SIPLAB_SOURCE_DIR");
  g_autofree char *dir_path = NULL;
  g_autoptr(GDir) dir = NULL;
  const char *name;
  guint n = 0;

  g_test_summary ("Every narrative, explanation, option and hint of the shipped lessons reads "
                  "without stars or backticks in a pipe.");
  if (src == NULL)
    {
      g_test_skip ("SIPLAB_SOURCE_DIR is not set (meson test sets it)");
      return;
    }
  dir_path = g_build_filename (src, "lessons", NULL);
  dir = g_dir_open (dir_path, 0, NULL);
  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir_path, name, NULL);
      g_autoptr(GError) error = NULL;
      g_autoptr(SimLesson) lesson = NULL;

      if (!g_str_has_suffix (name, ".lesson"))
        continue;
      lesson = sim_lesson_parse_file (path, &error);
      g_assert_no_error (error);
      assert_renders_clean (name, "the introduction", sim_lesson_get_intro (lesson));
      for (guint i = 0; i < sim_lesson_get_n_items (lesson); i++)
        {
          const SimLessonItem *item = sim_lesson_get_item (lesson, i);

          assert_renders_clean (name, item->title, item->text);
          assert_renders_clean (name, item->title, item->explain);
          assert_renders_clean (name, item->title, item->hint);
          for (guint k = 0; item->options != NULL && k < item->options->len; k++)
            assert_renders_clean (name, item->title,
                                  ((SimLessonOption *) item->options->pdata[k])->text);
        }
      n++;
    }
  g_assert_cmpuint (n, >=, 10);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/sim/cli-text/plain-drops-the-markup", test_plain_drops_the_markup);
  g_test_add_func ("/sim/cli-text/a-terminal-gets-bold-and-underline",
                   test_a_terminal_gets_bold_and_underline);
  g_test_add_func ("/sim/cli-text/shipped-lessons-render-without-markup",
                   test_shipped_lessons_render_without_markup);
  return g_test_run ();
}
