/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * Lesson text in a terminal.  Lessons are written in a little Markdown: **bold**, *emphasis*,
 * `code` and \* for a literal star.  A terminal shows bold as bold and emphasis underlined
 * (ANSI SGR attributes) when standard output is one; a pipe or a file gets the plain words,
 * so a hand-in or a test never sees escape sequences.  Code is quoted ('state') either way,
 * as the CLI's own messages quote the commands a student types.
 */

/* TRUE when standard output is a terminal that takes attributes ($NO_COLOR unset, $TERM not
 * "dumb").  The CLI asks once, at start. */
gboolean siplab_cli_text_detect_ansi   (void);
/* Whether the printing functions below use attributes (default FALSE). */
void     siplab_cli_text_set_ansi      (gboolean    ansi);
gboolean siplab_cli_text_get_ansi      (void);

/* @markdown's inline markup rendered: with attributes when @ansi, plain words otherwise.  Text
 * that is not markup (a lone "*", "Contact: *", an unclosed "*") is kept as written. */
char    *siplab_cli_text_render        (const char *markdown,
                                        gboolean    ansi) G_GNUC_WARN_UNUSED_RESULT;
/* The columns @rendered takes: escape sequences none, each UTF-8 character one. */
gsize    siplab_cli_text_width         (const char *rendered);

/* Prints @markdown rendered, keeping its own line breaks, and a blank line (nothing for NULL
 * or ""). */
void     siplab_cli_text_print_block   (const char *markdown);
/* Prints @prefix (may be NULL) and @markdown rendered as one paragraph wrapped at @width
 * columns, and a blank line. */
void     siplab_cli_text_print_paragraph (const char *prefix,
                                          const char *markdown,
                                          guint       width);

G_END_DECLS
