/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

#include "sim-trace.h"

G_BEGIN_DECLS

/*
 * The ladder (sim-export.h) drawn as SVG, for paper: one column per node, named in a box at
 * the top; one arrow per datagram with its label ("REGISTER (CSeq 1)") above it and its time
 * at the left; a datagram lost on the link stops halfway at an X, one dropped at the receiver
 * ends in an X; every other event the text ladder shows is a line of text across the diagram,
 * worded as the text ladder words it.  Black on white with grey lifelines, so a black and
 * white printer loses nothing; no style sheet, no ids and no markers, so several drawings can
 * sit inline in one HTML page.  All text is escaped: node names and notes come from scenario
 * and lesson files that a teacher may have got from anyone.
 *
 * The elements carry classes a test (or a style sheet) can find: <g class="node"
 * data-name=...>, <g class="arrow FATE" data-from=... data-to=... data-label=...> with FATE
 * one of delivered, lost, dropped, in-flight; <g class="note">.
 */

typedef struct {
  /* Column order.  NULL: nodes in the order they first send or receive a packet.  Nodes that
   * appear in the events but not in this list are appended. */
  const char * const *nodes;
  /* Also show transaction and timer events, as the text ladder's option of that name does. */
  gboolean show_timers;
  /* The drawing's <title> (what a screen reader says); NULL: "Ladder diagram". */
  const char *title;
  /* Brief mode: an event's reason (the sentence in parentheses, often RFC prose) is shown
   * the first time an event of its kind ("nonce issued") appears, then left out.  The set
   * (g_str_hash, g_str_equal, owning its keys) remembers the kinds across drawings, so a
   * document explains each kind once.  NULL: every reason is shown. */
  GHashTable *explained;
  /* Split the drawing into parts no taller than this many pixels (a printed page holds about
   * 1000); every part has the names at its top, and no row is cut.  0: one drawing. */
  guint max_height;
} SimSvgLadderOptions;

/* The drawing: one <svg> element per part (no XML declaration: each may go inline in HTML).
 * A new array of strings. */
GPtrArray *sim_svg_ladder_parts (GPtrArray                 *events,
                                 const SimSvgLadderOptions *opts) G_GNUC_WARN_UNUSED_RESULT;
/* Appends the parts one after the other. */
void  sim_svg_ladder           (GPtrArray                 *events,
                                GString                   *out,
                                const SimSvgLadderOptions *opts);

/* @text as XML or HTML character data or attribute value: & < > " ' escaped, invalid UTF-8
 * and control characters (but tab and newline) replaced, so no file can break the markup. */
char *sim_svg_escape_text      (const char                *text) G_GNUC_WARN_UNUSED_RESULT;
void  sim_svg_append_escaped   (GString                   *out,
                                const char                *text);

G_END_DECLS
