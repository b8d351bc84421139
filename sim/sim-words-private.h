/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

#include "sim-types.h"

G_BEGIN_DECLS

/*
 * The word reader the scenario statements and the command language share, in-tree only, so a
 * scenario line, a lesson's "do:" and a student's typed command split and read words the same
 * way: spaces and tabs separate words, '#' starts a comment, double quotes group words (and
 * protect '#'; "\"" and "\\" work inside them).
 *
 * Errors carry no position: the reader keeps the first one in SimWords.error (domain
 * SIM_COMMAND_ERROR, code SYNTAX or INVALID) and the caller puts "FILE:LINE: " in front.
 */

typedef struct {
  GPtrArray *words;          /* SimWord* of the current line */
  guint pos;
  GError *error;             /* the first error, without position; the caller takes it */
} SimWords;

void        _sim_words_init          (SimWords    *self);
void        _sim_words_clear         (SimWords    *self);
/* Splits @line into the words to read; FALSE on an unclosed quote or a quote inside a word. */
gboolean    _sim_words_split         (SimWords    *self,
                                      const char  *line);

/* Sets the error (the first one stays) and returns FALSE. */
gboolean    _sim_words_fail          (SimWords    *self,
                                      int          code,
                                      const char  *format,
                                      ...) G_GNUC_PRINTF (3, 4);
/* Takes @local (from sim_scenario_parse_duration() and the like) as the error. */
gboolean    _sim_words_fail_with     (SimWords    *self,
                                      GError      *local);

gboolean    _sim_words_at_end        (SimWords    *self);
const char *_sim_words_peek          (SimWords    *self);
/* Whether the next word is the bare (unquoted) keyword @word; consumes it if so. */
gboolean    _sim_words_accept        (SimWords    *self,
                                      const char  *word);
/* The next word, or NULL and "missing WHAT". */
const char *_sim_words_next          (SimWords    *self,
                                      const char  *what);
gboolean    _sim_words_expect_end    (SimWords    *self);
/* The rest of the line as one text, words joined by one space (titles and notes). */
char       *_sim_words_rest          (SimWords    *self) G_GNUC_WARN_UNUSED_RESULT;

/* Names of nodes: letters, digits, '-', '_', '.', starting with a letter, at most
 * SIM_COMMAND_MAX_NAME_LEN characters. */
gboolean    _sim_words_valid_name    (const char  *name);
/* The user part of a SIP URI (RFC 3261 §25.1 "user": unreserved and user-unreserved). */
gboolean    _sim_words_valid_user    (const char  *name);
gboolean    _sim_words_valid_domain  (const char  *text);
gboolean    _sim_words_valid_ipv4    (const char  *text);

const char *_sim_words_next_name     (SimWords    *self,
                                      const char  *what);
const char *_sim_words_next_ip       (SimWords    *self);
gboolean    _sim_words_next_uint     (SimWords    *self,
                                      const char  *what,
                                      guint64      max,
                                      guint64     *out);
gboolean    _sim_words_next_duration (SimWords    *self,
                                      const char  *what,
                                      SimTime     *out);
/* A number of seconds; a unit is accepted too ("300", "300s", "5m"). */
gboolean    _sim_words_next_seconds  (SimWords    *self,
                                      const char  *what,
                                      guint       *out);
/* on/off (yes/no). */
gboolean    _sim_words_next_switch   (SimWords    *self,
                                      const char  *what,
                                      gboolean    *out);
/* "30%", "0.5%": a fraction from 0 to 1. */
gboolean    _sim_words_next_percent  (SimWords    *self,
                                      const char  *what,
                                      double      *out);

/* Writing: each appends a space, then the value as the reader reads it back. */
void        _sim_words_append        (GString     *s,
                                      const char  *word);
void        _sim_words_append_duration (GString   *s,
                                        SimTime    t);
void        _sim_words_append_percent  (GString   *s,
                                        double     fraction);

G_END_DECLS
