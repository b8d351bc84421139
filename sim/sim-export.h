/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

#include "sim-trace.h"

G_BEGIN_DECLS

/*
 * Text writers over a trace (a GPtrArray of SimEvent*, as sim_trace_get_events() returns):
 *
 *  - a ladder (sequence) diagram in plain ASCII, one column per node, time going down;
 *  - every datagram with a header line and its raw text ("messages");
 *  - JSON Lines, one object per event (the format is documented in docs/jsonl.md; other
 *    programs read it, so field names never change).
 *
 * All of them are pure functions of the events: same trace, same bytes (the ladder's, of the
 * events and the options' set of reasons already explained).
 */

typedef struct {
  /* Column order for the ladder.  NULL: nodes in the order they first send or receive a
   * packet.  Nodes that appear in the trace but not in this list are appended. */
  const char * const *nodes;
  /* Maximum line width of the ladder's diagram rows (0: 120).  Labels are shortened to fit. */
  guint width;
  /* Also show transaction and timer events (retransmission timers, Timer F...). */
  gboolean show_timers;
  /* Also show "node added" events (every host of the scenario at time 0). */
  gboolean show_nodes_added;
  /* Explain once: when set, an event's explanation (a reason of 40 characters or more: the RFC
   * prose in parentheses, why a packet was dropped) is written only if its text is not in this
   * set of strings, and is then added to it (g_str_hash/g_str_equal, keys freed with g_free);
   * shorter reasons ("Expires: 0") tell events apart and are always written.  One set over the
   * ladders of a session explains each kind of event once.  NULL: every reason, every time. */
  GHashTable *explained;
} SimExportOptions;

void     sim_export_ladder        (GPtrArray              *events,
                                   GString                *out,
                                   const SimExportOptions *opts);
void     sim_export_messages      (GPtrArray              *events,
                                   GString                *out);
/* Appends one JSON object and a newline.  Usable live from the trace's "event" signal. */
void     sim_export_jsonl_line    (const SimEvent         *event,
                                   GString                *out);
void     sim_export_jsonl         (GPtrArray              *events,
                                   GString                *out);

/*
 * The same writers as streams, for a run too long to keep (siplab-cli run): events go in as
 * the trace emits them and text comes out as soon as it is final.  A datagram's row waits for
 * its fate ("delivered" or "dropped", one link latency later), and the events after it wait
 * with it, so a stream holds only the datagrams in flight and what followed the oldest of them.
 *
 * The ladder's columns and spacing depend on every arrow of the session, so a ladder stream
 * starts from a SimExportLayout that has seen every event first (for a simulation: a first run
 * of the same deterministic world, which keeps nothing but the node names and one number).
 * sim_export_ladder() and sim_export_messages() are these streams over an array, so a streamed
 * run and a kept one print the same bytes.
 */
typedef struct _SimExportLayout SimExportLayout;
typedef struct _SimExportStream SimExportStream;

/* @opts as for sim_export_ladder() (its nodes come first); NULL: defaults. */
SimExportLayout *sim_export_layout_new         (const SimExportOptions *opts)
                                                G_GNUC_WARN_UNUSED_RESULT;
void             sim_export_layout_add         (SimExportLayout        *self,
                                                const SimEvent         *event);
void             sim_export_layout_free        (SimExportLayout        *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SimExportLayout, sim_export_layout_free)

/* Takes @layout; appends the ladder's header to @out.  @opts as given to the layout. */
SimExportStream *sim_export_stream_new_ladder   (SimExportLayout        *layout,
                                                const SimExportOptions *opts,
                                                GString                *out)
                                                G_GNUC_WARN_UNUSED_RESULT;
SimExportStream *sim_export_stream_new_messages (void) G_GNUC_WARN_UNUSED_RESULT;
/* Appends to @out whatever @event makes final (often nothing, or several events' text). */
void             sim_export_stream_add          (SimExportStream        *self,
                                                SimEvent               *event,
                                                GString                *out);
/* The trace has ended: what is still waiting is written, datagrams in flight without a fate. */
void             sim_export_stream_finish       (SimExportStream        *self,
                                                GString                *out);
void             sim_export_stream_free         (SimExportStream        *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SimExportStream, sim_export_stream_free)

/* "12.5", "0.02", "3700.020001": seconds with at most six decimals and no binary noise. */
void     sim_export_format_seconds (SimTime                t,
                                    GString               *out);
/* "1.234s": the one format of a moment in the simulation, wherever a student reads it (the
 * ladder's time column, a verdict, a highlighted header, the GUI's ladder and inspector):
 * milliseconds, truncated like a clock's display. */
void     sim_export_format_time   (SimTime                 t,
                                   GString                *out);
char    *sim_export_time_string   (SimTime                 t) G_GNUC_WARN_UNUSED_RESULT;
/* The ladder's arrow label: "REGISTER (CSeq 1)", "401 Unauthorized (CSeq 1 REGISTER)". */
char    *sim_export_packet_label  (const SimEvent         *event) G_GNUC_WARN_UNUSED_RESULT;

/*
 * The ladder's pieces, for another drawing of the same ladder (sim-svg-ladder.h): which events
 * are arrows, what became of each, the text line of every other event, and the time format.
 */
typedef enum {
  SIM_EXPORT_FATE_IN_FLIGHT,       /* no "delivered" or "dropped" among the events */
  SIM_EXPORT_FATE_DELIVERED,
  SIM_EXPORT_FATE_LOST_ON_LINK,    /* simulated loss: it never reaches the receiver */
  SIM_EXPORT_FATE_DROPPED,         /* dropped at the receiver: nobody there, powered off */
} SimExportFate;

/* Whether the ladder draws @event as an arrow: a packet sent or retransmitted, node to node. */
gboolean       sim_export_is_arrow        (const SimEvent         *event);
/* An array parallel to @events: the fate of every arrow (other entries IN_FLIGHT); g_free it. */
SimExportFate *sim_export_fates           (GPtrArray              *events)
                                          G_GNUC_WARN_UNUSED_RESULT;
/* The ladder's line for an event that is not an arrow ("+ binding added: ..."), or NULL when
 * the ladder leaves it out (with @opts as sim_export_ladder() takes them; NULL: defaults). */
char          *sim_export_describe_event  (const SimEvent         *event,
                                           const SimExportOptions *opts) G_GNUC_WARN_UNUSED_RESULT;
G_END_DECLS
