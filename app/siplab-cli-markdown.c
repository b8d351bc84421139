/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "siplab-cli-markdown.h"

#include <string.h>

#include "sim-svg-ladder.h"

/*
 * A deliberately small Markdown reader: lessons are short texts with paragraphs, lists and
 * a little emphasis.  Blocks are read line by line; inline markup is matched in pairs, and
 * a marker without its partner is shown as the character it is.  All text goes through
 * sim_svg_append_escaped(), so nothing in a lesson becomes markup the reader did not write
 * here.
 */

/* ------------------------------------------------------------------------------------------ */
/* Inline                                                                                     */

/* Where the closing @marker of a span that opens at @p ends, or NULL. */
static const char *
find_closing (const char *p,
              const char *marker)
{
  const char *end = strstr (p, marker);

  /* "**" then "*" would close on the wrong one; an empty span is no span. */
  if (end == NULL || end == p)
    return NULL;
  return end;
}

static void
append_escaped_len (GString    *out,
                    const char *text,
                    gsize       len)
{
  g_autofree char *part = g_strndup (text, len);

  sim_svg_append_escaped (out, part);
}

static void
inline_to_html (const char *text,
                GString    *out)
{
  static const struct {
    const char *marker;
    const char *open;
    const char *close;
  } spans[] = {
    { "`", "<code>", "</code>" },
    { "**", "<strong>", "</strong>" },
    { "*", "<em>", "</em>" },
    { "_", "<em>", "</em>" },
  };
  const char *p = text;

  while (*p != '\0')
    {
      gboolean matched = FALSE;

      for (guint i = 0; i < G_N_ELEMENTS (spans) && !matched; i++)
        {
          gsize mlen = strlen (spans[i].marker);
          const char *end;

          if (strncmp (p, spans[i].marker, mlen) != 0)
            continue;
          /* "_" only opens at the start of a word: snake_case names stay as written. */
          if (spans[i].marker[0] == '_' && p > text && g_ascii_isalnum (p[-1]))
            continue;
          if ((end = find_closing (p + mlen, spans[i].marker)) == NULL)
            continue;
          g_string_append (out, spans[i].open);
          if (spans[i].marker[0] == '`')
            append_escaped_len (out, p + mlen, end - p - mlen);
          else
            {
              g_autofree char *inner = g_strndup (p + mlen, end - p - mlen);
              inline_to_html (inner, out);
            }
          g_string_append (out, spans[i].close);
          p = end + mlen;
          matched = TRUE;
        }
      if (!matched)
        {
          const char *next = g_utf8_next_char (p);
          append_escaped_len (out, p, next - p);
          p = next;
        }
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Blocks                                                                                     */

typedef enum {
  BLOCK_NONE,
  BLOCK_PARAGRAPH,
  BLOCK_UL,
  BLOCK_OL,
} BlockKind;

typedef struct {
  GString *out;
  BlockKind open;          /* the block being read */
  GString *pending;        /* the text of the paragraph or list item being read */
  const char *fence;       /* inside a fenced block: its marker */
} Reader;

/* Ends the paragraph or list item being read. */
static void
flush_text (Reader *r)
{
  if (r->pending->len == 0)
    return;
  if (r->open == BLOCK_PARAGRAPH)
    g_string_append (r->out, "<p>");
  else
    g_string_append (r->out, "<li>");
  inline_to_html (r->pending->str, r->out);
  g_string_append (r->out, r->open == BLOCK_PARAGRAPH ? "</p>\n" : "</li>\n");
  g_string_truncate (r->pending, 0);
}

static void
close_block (Reader *r)
{
  flush_text (r);
  if (r->open == BLOCK_UL)
    g_string_append (r->out, "</ul>\n");
  else if (r->open == BLOCK_OL)
    g_string_append (r->out, "</ol>\n");
  r->open = BLOCK_NONE;
}

/* The length of a list marker at @line ("- ", "* ", "12. "), 0 if none; @kind_out its list. */
static gsize
list_marker (const char *line,
             BlockKind  *kind_out)
{
  gsize digits = strspn (line, "0123456789");

  if ((line[0] == '-' || line[0] == '*' || line[0] == '+') && line[1] == ' ')
    {
      *kind_out = BLOCK_UL;
      return 2;
    }
  if (digits > 0 && digits < 4 && (line[digits] == '.' || line[digits] == ')') &&
      line[digits + 1] == ' ')
    {
      *kind_out = BLOCK_OL;
      return digits + 2;
    }
  return 0;
}

static void
add_text (Reader     *r,
          const char *text)
{
  if (r->pending->len > 0)
    g_string_append_c (r->pending, ' ');
  g_string_append (r->pending, text);
}

/* One line outside a fenced block. */
static void
read_line (Reader     *r,
           const char *raw)
{
  g_autofree char *line = g_strstrip (g_strdup (raw));
  BlockKind kind = BLOCK_NONE;
  gsize marker;
  gsize hashes = strspn (line, "#");

  if (line[0] == '\0')
    {
      close_block (r);
      return;
    }
  if (g_str_has_prefix (line, "```") || g_str_has_prefix (line, "~~~"))
    {
      close_block (r);
      r->fence = line[0] == '`' ? "```" : "~~~";
      g_string_append (r->out, "<pre><code>");
      return;
    }
  if (hashes > 0 && hashes <= 6 && line[hashes] == ' ')
    {
      close_block (r);
      /* The page's own headings are h1 and h2: a lesson's start at h3. */
      g_string_append_printf (r->out, "<h%u>", (guint) MIN (hashes + 2, 6));
      inline_to_html (line + hashes + 1, r->out);
      g_string_append_printf (r->out, "</h%u>\n", (guint) MIN (hashes + 2, 6));
      return;
    }
  marker = list_marker (line, &kind);
  if (marker > 0)
    {
      if (r->open != kind)
        {
          close_block (r);
          g_string_append (r->out, kind == BLOCK_UL ? "<ul>\n" : "<ol>\n");
          r->open = kind;
        }
      flush_text (r);
      add_text (r, line + marker);
      return;
    }
  /* A line under a list item continues it; anything else continues the paragraph. */
  if (r->open == BLOCK_NONE)
    r->open = BLOCK_PARAGRAPH;
  add_text (r, line);
}

void
siplab_cli_markdown_to_html (const char *markdown,
                             GString    *out)
{
  g_auto(GStrv) lines = NULL;
  g_autoptr(GString) pending = g_string_new (NULL);
  Reader r = { out, BLOCK_NONE, pending, NULL };

  g_return_if_fail (out != NULL);
  if (markdown == NULL)
    return;
  lines = g_strsplit (markdown, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      if (r.fence != NULL)
        {
          if (g_str_has_prefix (lines[i] + strspn (lines[i], " "), r.fence))
            {
              g_string_append (out, "</code></pre>\n");
              r.fence = NULL;
            }
          else
            {
              sim_svg_append_escaped (out, lines[i]);
              g_string_append_c (out, '\n');
            }
          continue;
        }
      read_line (&r, lines[i]);
    }
  if (r.fence != NULL)
    g_string_append (out, "</code></pre>\n");
  close_block (&r);
}

/* ------------------------------------------------------------------------------------------ */
/* Markdown out                                                                               */

/* @text with '<', '>' and '&' as entities; a Markdown viewer shows the characters. */
static void
append_entities (GString    *out,
                 const char *text,
                 gsize       len)
{
  for (gsize i = 0; i < len; i++)
    switch (text[i])
      {
      case '<': g_string_append (out, "&lt;"); break;
      case '>': g_string_append (out, "&gt;"); break;
      case '&': g_string_append (out, "&amp;"); break;
      default: g_string_append_c (out, text[i]); break;
      }
}

/* One line outside code blocks: entities outside `code` spans, which show text as it is. */
static void
markdown_line (const char *line,
               GString    *out)
{
  const char *p = line;

  while (*p != '\0')
    {
      const char *tick = strchr (p, '`');
      const char *close = tick != NULL ? strchr (tick + 1, '`') : NULL;

      if (close == NULL)
        {
          append_entities (out, p, strlen (p));
          break;
        }
      append_entities (out, p, tick - p);
      g_string_append_len (out, tick, close + 1 - tick);
      p = close + 1;
    }
}

void
siplab_cli_markdown_to_markdown (const char *markdown,
                                 GString    *out)
{
  g_auto(GStrv) lines = NULL;
  const char *fence = NULL;

  g_return_if_fail (out != NULL);
  if (markdown == NULL)
    return;
  lines = g_strsplit (markdown, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      const char *stripped = lines[i] + strspn (lines[i], " ");

      if (fence == NULL && (g_str_has_prefix (stripped, "```") ||
                            g_str_has_prefix (stripped, "~~~")))
        fence = stripped[0] == '`' ? "```" : "~~~";
      else if (fence != NULL && g_str_has_prefix (stripped, fence))
        fence = NULL;
      else if (fence == NULL)
        {
          markdown_line (lines[i], out);
          g_string_append_c (out, '\n');
          continue;
        }
      g_string_append (out, lines[i]);
      g_string_append_c (out, '\n');
    }
  /* An unclosed fence would swallow the rest of the handout. */
  if (fence != NULL)
    g_string_append_printf (out, "%s\n", fence);
}

void
siplab_cli_markdown_append_text (const char *text,
                                 GString    *out)
{
  g_return_if_fail (out != NULL);
  if (text == NULL)
    return;
  for (const char *p = text; *p != '\0'; p++)
    {
      /* Every ASCII punctuation character may be backslash-escaped in CommonMark; these are
       * the ones that could start markup in running text. */
      if (strchr ("\\`*_[]<>#!|~", *p) != NULL)
        g_string_append_c (out, '\\');
      if (*p == '&')
        g_string_append (out, "&amp;");
      else if (*p == '\n' || *p == '\r' || *p == '\t')
        g_string_append_c (out, ' ');
      else
        g_string_append_c (out, *p);
    }
}
