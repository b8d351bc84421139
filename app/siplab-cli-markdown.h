/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * The Markdown a lesson's text is written in, for a page (app/siplab-cli-worksheet.c).  Only
 * what lessons use is rendered: paragraphs, "-", "*" and "1." lists, headings, fenced code
 * blocks, `code`, **bold** and *italic*.  Everything else is shown as the text it is: no raw
 * HTML, no links, no images pass through, because a lesson is a file a teacher may have got
 * from anyone, and a handout must not run or load what a stranger put into it.
 */

/* Appends @markdown as HTML block elements (<p>, <ul>, <ol>, <pre>, <h3>...). */
void siplab_cli_markdown_to_html     (const char *markdown,
                                      GString    *out);

/* Appends @markdown as Markdown again with every '<', '>' and '&' outside code made an entity,
 * so a Markdown viewer shows the characters instead of reading them as HTML. */
void siplab_cli_markdown_to_markdown (const char *markdown,
                                      GString    *out);

/* Appends plain @text (no Markdown meant) as Markdown that shows exactly those characters. */
void siplab_cli_markdown_append_text (const char *text,
                                      GString    *out);

G_END_DECLS
