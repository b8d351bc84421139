/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib-object.h>

#include "sim-types.h"

G_BEGIN_DECLS

/*
 * One event stream for everything that happens in a session.  The GUI, the CLI, the exporters
 * and the tests all read it; nothing reads the core any other way except through its public
 * commands.
 */
typedef enum {
  SIM_EVENT_PACKET,       /* action: sent, delivered, dropped, retransmitted */
  SIM_EVENT_TIMER,        /* action: started, fired, cancelled; name, duration */
  SIM_EVENT_TRANSACTION,  /* action: created, state, terminated, timeout */
  SIM_EVENT_BINDING,      /* action: added, refreshed, removed, expired, rejected */
  SIM_EVENT_NONCE,        /* action: issued, no-credentials, accepted, rejected, stale */
  SIM_EVENT_CALL,         /* action: the call state: calling, ringing, answered, ... */
  SIM_EVENT_REGISTRATION, /* a phone's view: registering, registered, failed, unregistered */
  SIM_EVENT_NODE,         /* action: added, removed, moved, power-off, power-on */
  SIM_EVENT_ACTION,       /* a scenario or user action started: text */
  SIM_EVENT_LOOKUP,       /* proxy location lookup: aor, text lists contacts */
  SIM_EVENT_NOTE,         /* free text: explanations, lesson steps, errors */
  SIM_EVENT_CAPTURE,      /* a sniffer's copy of a datagram (node: the sniffer), action:
                           * captured; and the sniffer's offline attack, action: cracked,
                           * not-cracked, nothing-to-try */
} SimEventType;

typedef struct _SimEvent SimEvent;

/* SimEvent.expires when the event grants or asks for no number of seconds. */
#define SIM_EVENT_NO_EXPIRES (-1)

struct _SimEvent {
  /*< private >*/
  gint ref_count;
  /*< public >*/
  guint64 index;          /* position in the trace */
  SimTime t;
  SimEventType type;
  char *action;
  char *node;             /* node the event happened at (timer, binding, nonce, call) */

  /* SIM_EVENT_PACKET */
  char *from;             /* node names */
  char *to;
  SimAddr src;
  SimAddr dst;
  char *raw;              /* the whole message as on the wire */
  char *first_line;
  char *call_id;
  char *cseq;             /* "2 REGISTER" */
  char *method;           /* request method, or the CSeq method of a response */
  int status;             /* 0 for requests */
  char *branch;           /* top Via branch: also set on timer and transaction events */
  gboolean tls;           /* PACKET, CAPTURE: it crossed a link on TLS (only sizes show) */
  gsize wire_len;         /* CAPTURE: the bytes the sniffer saw (on TLS: the record's size) */

  /* SIM_EVENT_BINDING, SIM_EVENT_LOOKUP, SIM_EVENT_REGISTRATION */
  char *aor;
  char *contact;
  gint64 expires;         /* seconds granted, or SIM_EVENT_NO_EXPIRES */

  /* SIM_EVENT_NONCE; CAPTURE (cracked): user, the password found is in text */
  char *nonce;
  char *user;
  char *algorithm;

  /* SIM_EVENT_TIMER */
  char *name;             /* "E", "F", "refresh", "expiry", ... */
  SimTime duration;

  /* All: why it happened, in a sentence (a rejected nonce's reason, a dropped packet's cause). */
  char *reason;
  char *text;
};

#define SIM_TYPE_EVENT (sim_event_get_type ())
GType      sim_event_get_type     (void) G_GNUC_CONST;
SimEvent  *sim_event_new          (SimEventType  type,
                                   const char   *action) G_GNUC_WARN_UNUSED_RESULT;
SimEvent  *sim_event_ref          (SimEvent     *event);
void       sim_event_unref        (SimEvent     *event);
const char *sim_event_type_name   (SimEventType  type);
gboolean   sim_event_type_from_name (const char *name,
                                     SimEventType *type);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SimEvent, sim_event_unref)

#define SIM_TYPE_TRACE (sim_trace_get_type ())
G_DECLARE_FINAL_TYPE (SimTrace, sim_trace, SIM, TRACE, GObject)

SimTrace  *sim_trace_new          (void) G_GNUC_WARN_UNUSED_RESULT;
/* When FALSE (benchmarks) events are neither kept nor emitted; check before building one. */
gboolean   sim_trace_is_enabled   (SimTrace     *self);
void       sim_trace_set_enabled  (SimTrace     *self,
                                   gboolean      enabled);
/* Keep events in memory (default).  Observers still get the "event" signal when FALSE. */
void       sim_trace_set_keep     (SimTrace     *self,
                                   gboolean      keep);
/* Keep at most @max_kept events (0, the default: all); beyond it the oldest are dropped, so an
 * event's index is no longer its position: see sim_trace_position_of(). */
void       sim_trace_set_max_kept (SimTrace     *self,
                                   guint         max_kept);
/* The position in sim_trace_get_events() of the first kept event whose index is at least
 * @index (the number of kept events if none is). */
guint      sim_trace_position_of  (SimTrace     *self,
                                   guint64       index);
/*
 * Starts @self over as a trace that has emitted @n_emitted events and keeps @events (SimEvent*,
 * referenced; the most recent ones, in order, each index below @n_emitted), emitting nothing:
 * a world brought to a point of a recorded session without its trace on (SimDocument's seek)
 * shows the events before that point as a straight run would.
 */
void       sim_trace_restore      (SimTrace     *self,
                                   GPtrArray    *events,
                                   guint64       n_emitted);
/* Takes ownership of @event; stamps index and emits "event". */
void       sim_trace_emit         (SimTrace     *self,
                                   SimEvent     *event);
void       sim_trace_note         (SimTrace     *self,
                                   SimTime       t,
                                   const char   *node,
                                   const char   *format,
                                   ...) G_GNUC_PRINTF (4, 5);
guint      sim_trace_get_n_events (SimTrace     *self);
/* Events emitted so far, kept or not. */
guint64    sim_trace_get_n_emitted (SimTrace    *self);
SimEvent  *sim_trace_get_event    (SimTrace     *self,
                                   guint         index);
GPtrArray *sim_trace_get_events   (SimTrace     *self);

/* Fills the packet fields of @event from raw SIP text (first line, Call-ID, CSeq, branch). */
void       sim_event_set_packet   (SimEvent      *event,
                                   const char    *from,
                                   const char    *to,
                                   const SimAddr *src,
                                   const SimAddr *dst,
                                   const char    *raw,
                                   gsize          len);

G_END_DECLS
