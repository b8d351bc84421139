/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "siplab-cli-text.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* ECMA-48 SGR attributes, each switched off on its own so nesting bold and emphasis works. */
#define SGR_BOLD            "\033[1m"
#define SGR_NOT_BOLD        "\033[22m"
#define SGR_UNDERLINE       "\033[4m"
#define SGR_NOT_UNDERLINED  "\033[24m"

/* Whether standard output takes attributes: one property of the process, set once at start. */
static gboolean use_ansi;

gboolean
siplab_cli_text_detect_ansi (void)
{
  const char *term = g_getenv ("TERM");

  /* https://no-color.org: any value of NO_COLOR, even empty, asks for no attributes. */
  if (g_getenv ("NO_COLOR") != NULL)
    return FALSE;
  if (term == NULL || strcmp (term, "dumb") == 0)
    return FALSE;
  return isatty (STDOUT_FILENO) != 0;
}

void
siplab_cli_text_set_ansi (gboolean ansi)
{
  use_ansi = ansi;
}

gboolean
siplab_cli_text_get_ansi (void)
{
  return use_ansi;
}

/*
 * Whether a span opened just before @p with @n stars (1: emphasis, 2: bold) is closed later:
 * by a run of exactly @n stars right after a non-space character.  Escaped characters and code
 * spans are skipped, as the renderer skips them.
 */
static gboolean
has_closer (const char *p,
            gsize       n)
{
  for (const char *q = p; *q != '\0'; q++)
    {
      gsize run;

      if (*q == '\\' && q[1] != '\0')
        {
          q++;
          continue;
        }
      if (*q == '`')
        {
          const char *end = strchr (q + 1, '`');

          if (end == NULL)
            return FALSE;
          q = end;
          continue;
        }
      if (*q != '*')
        continue;
      run = strspn (q, "*");
      if (run == n && q > p && !g_ascii_isspace (q[-1]))
        return TRUE;
      q += run - 1;
    }
  return FALSE;
}

/* Handles the run of stars at @p; returns how many characters it took. */
static gsize
render_stars (GString    *out,
              const char *start,
              const char *p,
              gboolean    ansi,
              gboolean   *bold,
              gboolean   *em)
{
  gsize run = strspn (p, "*");
  gboolean after_word = p > start && !g_ascii_isspace (p[-1]);
  gboolean before_word = p[run] != '\0' && !g_ascii_isspace (p[run]);
  gboolean *open = run == 2 ? bold : run == 1 ? em : NULL;

  if (open != NULL && *open && after_word)
    {
      *open = FALSE;
      if (ansi)
        g_string_append (out, run == 2 ? SGR_NOT_BOLD : SGR_NOT_UNDERLINED);
      return run;
    }
  if (open != NULL && !*open && before_word && has_closer (p + run, run))
    {
      *open = TRUE;
      if (ansi)
        g_string_append (out, run == 2 ? SGR_BOLD : SGR_UNDERLINE);
      return run;
    }
  /* Not markup: "Contact: *", a list's "* ", a star nobody closes. */
  g_string_append_len (out, p, run);
  return run;
}

char *
siplab_cli_text_render (const char *markdown,
                        gboolean    ansi)
{
  GString *out = g_string_new (NULL);
  gboolean bold = FALSE;
  gboolean em = FALSE;
  const char *p = markdown != NULL ? markdown : "";

  while (*p != '\0')
    {
      if (*p == '\\' && p[1] != '\0' && strchr ("*`_\\", p[1]) != NULL)
        {
          g_string_append_c (out, p[1]);
          p += 2;
        }
      else if (*p == '`' && strchr (p + 1, '`') != NULL)
        {
          const char *end = strchr (p + 1, '`');

          /* Code is what a student types: quoted, as the CLI's own messages quote commands. */
          g_string_append_c (out, '\'');
          g_string_append_len (out, p + 1, end - p - 1);
          g_string_append_c (out, '\'');
          p = end + 1;
        }
      else if (*p == '*')
        p += render_stars (out, markdown, p, ansi, &bold, &em);
      else
        g_string_append_c (out, *p++);
    }
  /* has_closer() makes every span close; this only guards the terminal against a bug. */
  if (ansi && (bold || em))
    g_string_append (out, SGR_NOT_BOLD SGR_NOT_UNDERLINED);
  return g_string_free (out, FALSE);
}

gsize
siplab_cli_text_width (const char *rendered)
{
  gsize width = 0;
  const char *p = rendered;

  while (*p != '\0')
    {
      if (*p == '\033' && p[1] == '[')
        {
          /* A CSI sequence: parameters, then one final byte in 0x40..0x7e. */
          p += 2;
          while (*p != '\0' && !(*p >= 0x40 && *p <= 0x7e))
            p++;
          if (*p != '\0')
            p++;
          continue;
        }
      p = g_utf8_next_char (p);
      width++;
    }
  return width;
}

void
siplab_cli_text_print_block (const char *markdown)
{
  g_autofree char *text = NULL;

  if (markdown == NULL || *markdown == '\0')
    return;
  text = siplab_cli_text_render (markdown, use_ansi);
  printf ("%s\n\n", text);
}

void
siplab_cli_text_print_paragraph (const char *prefix,
                                 const char *markdown,
                                 guint       width)
{
  g_autofree char *text = siplab_cli_text_render (markdown, use_ansi);
  g_auto(GStrv) words = g_strsplit_set (text, " \n", -1);
  gsize col = 0;

  if (prefix != NULL && *prefix != '\0')
    {
      fputs (prefix, stdout);
      col = siplab_cli_text_width (prefix);
    }
  for (guint i = 0; words[i] != NULL; i++)
    {
      gsize len = siplab_cli_text_width (words[i]);

      if (words[i][0] == '\0')
        continue;
      if (col > 0 && col + 1 + len > width)
        {
          putchar ('\n');
          col = 0;
        }
      else if (col > 0)
        {
          putchar (' ');
          col++;
        }
      fputs (words[i], stdout);
      col += len;
    }
  printf ("\n\n");
}
