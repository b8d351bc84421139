/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib-object.h>

#include "sim-clock.h"
#include "sim-location.h"
#include "sim-trace.h"

G_BEGIN_DECLS

/*
 * SimObserver: SIP messages seen on someone else's network (a capture file, live HEP) turned
 * into the simulator's own events, so every exporter (sim-export.h) and every GUI view explains
 * a real network exactly as it explains the simulator.  GTK-free, and it never sends anything.
 *
 * Feed it whole SIP messages in capture order with their capture time and addresses
 * (sim_observer_feed()).  For each one it emits on the trace:
 *
 *  - SIM_EVENT_NODE "added" the first time a host is seen (node: its name, text: its address);
 *  - SIM_EVENT_PACKET "sent", or "retransmitted" when the same request or response (same top
 *    Via branch, CSeq, status and direction) was seen before — its reason names the RFC 3261
 *    §17 timer inferred from the gap (Timer A/E doubling from T1 = 500 ms, capped at T2 = 4 s
 *    for E; Timer G for a final response to INVITE) — then "delivered" at the same moment, so
 *    the ladder draws one arrow per message; from/to are node names, the rest is
 *    sim_event_set_packet();
 *  - SIM_EVENT_NONCE "issued" for every nonce of a 401/407 challenge (node: the challenger);
 *  - SIM_EVENT_NONCE for every Authorization/Proxy-Authorization of a request seen for the first
 *    time (a retransmission is the same request, not a replay), judged by recomputing the digest
 *    with sim-digest.c against the users file: action "accepted" (text "correct"), "rejected"
 *    (text "wrong-password" or "replayed": the same nonce and nonce-count were answered
 *    before), "stale" (text "stale": the nonce is older than the lifetime, or the server
 *    answered the request with stale=true, which emits a second event then), or "undecidable"
 *    (text "undecidable": unknown user, no users file, an algorithm sim-digest.c lacks, or a
 *    nonce never seen issued is judged on the digest alone).  The reason is a sentence;
 *  - SIM_EVENT_BINDING added/refreshed/removed/expired: the location table of every registrar
 *    (a host that answers a REGISTER) rebuilt from the Contact and expires of each 200 OK to a
 *    REGISTER (RFC 3261 §10.3 step 8: the 200 lists all current bindings), one SimLocation per
 *    registrar on the observer's clock, which follows capture time.
 *
 * Times: the trace's time 0 is the capture time of the first message fed; event t values are
 * microseconds after it (sim_observer_get_time_origin() gives the origin).  A message whose
 * time goes backwards is taken at the current time.
 *
 * Node names are "alice (baresip)" (the AOR's user of a REGISTER's From, the User-Agent's
 * product), "registrar (Kamailio)" (the Server header of a host that answers REGISTERs), or the
 * address ("192.0.2.7:5060") when nothing is known.  A name is chosen when the host is first
 * seen and never changes; duplicates get " #2", " #3".  A file reader calls
 * sim_observer_learn() over every message first, so hosts are named with what the whole
 * capture tells; live mode (HEP) names a host from what has been seen so far.
 *
 * Memory is bounded: at most SIM_OBSERVER_MAX_HOSTS hosts (beyond it a new host is named by its
 * address and not remembered), SIM_OBSERVER_MAX_TRANSACTIONS messages remembered for
 * retransmission detection and SIM_OBSERVER_MAX_NONCES nonces (the oldest forgotten first),
 * SIM_OBSERVER_MAX_COUNTS_PER_NONCE nonce-counts per nonce, and the bindings of each registrar
 * (sim_observer_set_max_bindings()).
 * The trace's own keep/max_kept settings bound the events.
 */

/* Hosts remembered with a name; beyond it a host is named by its address each time. */
#define SIM_OBSERVER_MAX_HOSTS         4096
/* Messages remembered (by branch, CSeq, status, direction) to recognise a retransmission. */
#define SIM_OBSERVER_MAX_TRANSACTIONS  65536
/* Nonces remembered (issue time, answered nonce-counts) to judge stale and replayed. */
#define SIM_OBSERVER_MAX_NONCES        65536
/* Nonce-counts remembered per nonce (replay detection); beyond it new counts are not recorded. */
#define SIM_OBSERVER_MAX_COUNTS_PER_NONCE 1024
/* Bindings held per registrar's rebuilt location table (default of
 * sim_observer_set_max_bindings()); a 200 OK that would add a new AOR beyond it is left out,
 * with a SIM_EVENT_NOTE saying so. */
#define SIM_OBSERVER_DEFAULT_MAX_BINDINGS 65536
/* A nonce older than this when answered is judged stale (serve's default lifetime). */
#define SIM_OBSERVER_DEFAULT_NONCE_LIFETIME SIM_SEC (300)
/* RFC 3261 §17.1.1.1 defaults: the inferred timers are computed from these. */
#define SIM_OBSERVER_T1 SIM_MSEC (500)
#define SIM_OBSERVER_T2 SIM_SEC (4)

#define SIM_TYPE_OBSERVER (sim_observer_get_type ())
G_DECLARE_FINAL_TYPE (SimObserver, sim_observer, SIM, OBSERVER, GObject)

SimObserver *sim_observer_new           (SimTrace       *trace) G_GNUC_WARN_UNUSED_RESULT;
SimTrace    *sim_observer_get_trace     (SimObserver    *self);
/* The virtual clock that follows capture time (the locations' clock). */
SimClock    *sim_observer_get_clock     (SimObserver    *self);

/* @users: name -> password (as sim_users_read_file() returns it); referenced.  NULL: none. */
void         sim_observer_set_users     (SimObserver    *self,
                                         GHashTable     *users);
/* Reads a users file (one name:password a line, as `serve --users`); errors as
 * sim_users_read_file() gives them. */
gboolean     sim_observer_load_users    (SimObserver    *self,
                                         const char     *path,
                                         GError        **error);
void         sim_observer_set_nonce_lifetime (SimObserver *self,
                                         SimTime         lifetime);
/* At most @max_bindings (> 0) bindings per registrar
 * (default SIM_OBSERVER_DEFAULT_MAX_BINDINGS). */
void         sim_observer_set_max_bindings (SimObserver *self,
                                         guint           max_bindings);

/*
 * Optional first pass: learns names (User-Agent, Server, the AOR of a REGISTER, who answers
 * REGISTERs) from a message without emitting anything or changing any other state.
 */
void         sim_observer_learn         (SimObserver    *self,
                                         const SimAddr  *src,
                                         const SimAddr  *dst,
                                         const char     *data,
                                         gsize           len);
/*
 * Observes one whole SIP message captured at @time_us (any epoch: microseconds, e.g. Unix time)
 * going from @src to @dst.  Returns FALSE with @error (G_IO_ERROR_INVALID_DATA, "what is wrong")
 * when @data is not a SIP message; nothing is emitted then.
 */
gboolean     sim_observer_feed          (SimObserver    *self,
                                         gint64          time_us,
                                         const SimAddr  *src,
                                         const SimAddr  *dst,
                                         const char     *data,
                                         gsize           len,
                                         GError        **error);
/* Moves the clock to @time_us (same epoch as feed) without a message: bindings expire. */
void         sim_observer_advance       (SimObserver    *self,
                                         gint64          time_us);
/* The capture time of trace time 0 (the first message fed), or 0 before any. */
gint64       sim_observer_get_time_origin (SimObserver  *self);
guint64      sim_observer_get_n_messages (SimObserver   *self);

/* The node name of @addr's host if it has been seen, else NULL. */
const char  *sim_observer_get_node_name (SimObserver    *self,
                                         const SimAddr  *addr);
/*
 * The hosts named so far (borrowed node names), in the order the capture first showed them,
 * at most SIM_OBSERVER_MAX_HOSTS; @addresses_out (may be NULL) gets each one's "ip:port"
 * (borrowed), in the same order.  Hosts are keyed by address and port, so the phones of a
 * loopback capture (one IP) are told apart.
 */
GPtrArray   *sim_observer_list_nodes    (SimObserver    *self,
                                         GPtrArray     **addresses_out) G_GNUC_WARN_UNUSED_RESULT;
/* Node names of the registrars seen so far (borrowed strings, in order of discovery). */
GPtrArray   *sim_observer_get_registrars (SimObserver   *self) G_GNUC_WARN_UNUSED_RESULT;
/* The location table rebuilt for registrar @node_name, or NULL. */
SimLocation *sim_observer_get_location  (SimObserver    *self,
                                         const char     *node_name);

G_END_DECLS
