/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib-object.h>

#include "sim-message.h"
#include "sim-stack.h"
#include "sim-tls.h"

G_BEGIN_DECLS

/*
 * SimSocketTransport: the real network under a SimStack (RFC 3261 §18).  It listens on UDP,
 * TCP and TLS endpoints (IPv4 and IPv6), feeds every datagram and every framed stream message
 * to the stack with its real source address, and carries what the stack sends: UDP through the
 * listening socket of the destination's family, TCP over the open connection to that ip:port
 * (so a phone registered over TCP is reached over its own connection), connecting if there is
 * none.  TLS is accepted only (sim-tls.h): a TLS destination is reached over the connection it
 * opened, and one with none fails at once (RFC 3261 §18.4: 503).  Every packet is traced
 * exactly as SimNet traces it ("sent", "delivered", "dropped"), so the views show real phones
 * like simulated ones; on TLS the trace holds the decrypted messages, as the server sees them.
 *
 * All I/O runs as GSources on the thread-default main context of the creator.
 */

#define SIM_TRANSPORT_ERROR (sim_transport_error_quark ())
GQuark sim_transport_error_quark (void);

typedef enum {
  SIM_TRANSPORT_ERROR_BAD_SPEC = 1,   /* not "udp:HOST:PORT" / "tcp:HOST:PORT" / "tls:..." */
  SIM_TRANSPORT_ERROR_NO_CERTIFICATE, /* a tls: listener before sim_socket_transport_load_tls() */
} SimTransportError;

/* The default and upper limit of a datagram or stream message we accept (RFC 3261 §18.1.1):
 * the parser's own limit, so no message the transport takes is refused for its size later. */
#define SIM_TRANSPORT_MAX_MESSAGE SIM_MESSAGE_MAX_SIZE
/* The smallest size cap sim_socket_transport_set_max_message() sets (less is raised to it);
 * `siplab-cli serve --max-message` refuses less. */
#define SIM_TRANSPORT_MIN_MAX_MESSAGE 512

/*
 * TCP limits: what a stranger can hold open, and for how long.  Each has a setter below and a
 * `siplab-cli serve` option.  They apply to TLS connections alike (a TLS connection is a TCP
 * connection with a SimTlsSession between socket and framer; caps count both kinds together),
 * and a TLS handshake that has not finished SIM_TRANSPORT_TCP_CONNECT_TIMEOUT after the
 * connection was accepted is closed: a stranger cannot hold a connection by starting a
 * handshake and never finishing it.
 *
 * - Framing (sim-framing.h): a message is cut by Content-Length, judged only on whole lines
 *   or on the size cap (max_message, --max-message); a stream out of step is closed.
 * - SIM_TRANSPORT_TCP_IDLE_TIMEOUT (120 s, --tcp-idle): a connection silent for this long is
 *   closed, as Kamailio's tcp_connection_lifetime (default 120 s).  A connection that carries a
 *   live registration (the flow its REGISTER came in on; "protected") is exempt until the
 *   binding expires: phones keep TCP open between refreshes, and a phone behind NAT is only
 *   reachable over it (sim_socket_transport_keep_alive_until(), called by SimServer).  On a
 *   protected connection any byte counts as traffic.  On an unprotected one only complete SIP
 *   messages do, received or sent by the stack: CRLF keep-alive pings (and our pongs) do not,
 *   because RFC 5626 keep-alives are for the flows of registrations (§3.5.1, §4.4.1), and a
 *   stranger otherwise holds a connection forever with 4 bytes every few seconds.  Every
 *   complete message counts, OPTIONS included: phones send OPTIONS as a keep-alive on a
 *   connection they call over without registering on it, and leaving OPTIONS out would stop
 *   nobody (any other request, answered 401/407/403, keeps a connection just as cheaply);
 *   what bounds such a stranger is the lifetime below and eviction at a full cap.
 * - SIM_TRANSPORT_TCP_UNREGISTERED_LIFETIME (10 idle timeouts, 20 min by default; follows
 *   --tcp-idle): an accepted connection that has never carried a live registration is closed
 *   this long after it opened, however busy.  A phone that calls over a connection it did not
 *   register on simply reconnects for its next request; a connection we opened is exempt.
 * - SIM_TRANSPORT_TCP_MESSAGE_TIMEOUT (20 s, --tcp-message-timeout): a message that has begun
 *   must be complete within this long (a 1-byte-per-second sender, a body shorter than its
 *   Content-Length); otherwise the connection is closed.  The clock restarts with each message.
 * - SIM_TRANSPORT_TCP_CONNECT_TIMEOUT (10 s, as Kamailio's tcp_connect_timeout; --tcp-connect-
 *   timeout): an outbound connect that has not completed by then is abandoned, and the
 *   transactions waiting on it end at once with 503 (RFC 3261 §18.4, sim_stack_transport_error).
 * - SIM_TRANSPORT_TCP_MAX_CONNECTIONS (4096, --tcp-max): open connections in all, accepted and
 *   connected; the cap in force is never above the soft RLIMIT_NOFILE less
 *   SIM_TRANSPORT_FD_RESERVE (64: listeners, database, standard streams, GLib's descriptors),
 *   so running out of descriptors does not take the listeners and the database with it.
 * - SIM_TRANSPORT_TCP_MAX_PER_IP (256, --tcp-max-per-ip): open connections from one IP
 *   address.  A whole classroom sits behind one school NAT address: 30-60 phones, some with a
 *   connection per account, plus reconnects overlapping the old connection until it idles
 *   out, fit well under 256; one stranger still cannot take more than a fraction of the total.
 * - At a full cap the newcomer does not simply lose: the least recently active connection that
 *   carries no live registration (at the per-IP cap, that address's own) is closed to make
 *   room, traced as a note with the reason, so strangers filling the caps from many addresses
 *   cannot lock out a new phone.  Only when every candidate is protected is the new connection
 *   accepted and closed at once (traced as a note); our own connects are treated alike.
 * - SIM_TRANSPORT_ACCEPT_PAUSE_MS (250 ms): when accept() fails for lack of descriptors
 *   (EMFILE, ENFILE) or memory, the listener is not watched for this long instead of being
 *   polled again at once (which would spin at 100% CPU); the backlog waits in the kernel.
 */
#define SIM_TRANSPORT_TCP_IDLE_TIMEOUT     SIM_SEC (120)
#define SIM_TRANSPORT_TCP_MESSAGE_TIMEOUT  SIM_SEC (20)
#define SIM_TRANSPORT_TCP_CONNECT_TIMEOUT  SIM_SEC (10)
#define SIM_TRANSPORT_TCP_UNREGISTERED_LIFETIME 10   /* times the idle timeout */
#define SIM_TRANSPORT_TCP_MAX_CONNECTIONS  4096
#define SIM_TRANSPORT_TCP_MAX_PER_IP       256
#define SIM_TRANSPORT_FD_RESERVE           64
#define SIM_TRANSPORT_ACCEPT_PAUSE_MS      250

/* Names the far end of a packet in the trace (an AOR's user); NULL means "use ip:port". */
typedef const char *(*SimTransportNameFunc) (const SimAddr *peer,
                                             gpointer       user_data);

#define SIM_TYPE_SOCKET_TRANSPORT (sim_socket_transport_get_type ())
G_DECLARE_FINAL_TYPE (SimSocketTransport, sim_socket_transport, SIM, SOCKET_TRANSPORT, GObject)

/*
 * Called at the end of each burst of received datagrams, before the UDP answers the burst caused
 * (held until then, and sent with sendmmsg(2)) leave: serve commits its database here, so that
 * no 200 OK leaves before the binding it acknowledges is durable.  FALSE drops the held answers
 * (the commit failed: they would acknowledge what is not on disk).
 */
typedef gboolean (*SimTransportBatchFunc) (SimSocketTransport *transport,
                                       gpointer            user_data);

/*
 * Becomes @stack's send function; the stack's node name is the local name in the trace.  The
 * first endpoint listened on becomes the stack's local address (its Via sent-by and
 * Record-Route), so listen first on the address phones should see.
 */
SimSocketTransport *sim_socket_transport_new      (SimStack              *stack) G_GNUC_WARN_UNUSED_RESULT;
/*
 * Parses "udp:127.0.0.1:5060", "tcp:[::1]:5062", "udp:0.0.0.0:5060", "tls:[::1]:5061".  Port
 * 0 picks a free port (see sim_socket_transport_get_listeners()).
 */
gboolean  sim_transport_parse_spec                (const char            *spec,
                                                   SimAddr               *addr,
                                                   GError               **error);
gboolean  sim_socket_transport_listen             (SimSocketTransport    *self,
                                                   const char            *spec,
                                                   GError               **error);
gboolean  sim_socket_transport_listen_addr        (SimSocketTransport    *self,
                                                   const SimAddr         *addr,
                                                   GError               **error);
/* The addresses really bound (ephemeral ports resolved), SimAddr, in the order listened. */
GArray   *sim_socket_transport_get_listeners      (SimSocketTransport    *self);
/*
 * The main-loop priority of the sockets' sources (default G_PRIORITY_DEFAULT).  A GUI sets it
 * below its redraw priority so that a flood of datagrams, each always ready, cannot starve
 * the frames: the sockets are read between frames instead.
 */
void      sim_socket_transport_set_priority       (SimSocketTransport    *self,
                                                   int                    priority);
void      sim_socket_transport_set_max_message    (SimSocketTransport    *self,
                                                   gsize                  max_message);
/* Sends the UDP answers held so far in this burst (after the batch end function), now. */
void      sim_socket_transport_flush              (SimSocketTransport    *self);
/*
 * The UDP answers held so far in this burst, taken out of the hold (NULL if none): they leave
 * only when the caller passes them to sim_socket_transport_send_held(), which sends and frees
 * them (or drops them if the transport was closed meanwhile).  serve's pipelined group commit
 * takes a burst's answers at its end and sends them once their commit is durable.
 */
typedef struct _SimHeldDatagrams SimHeldDatagrams;
SimHeldDatagrams *sim_socket_transport_take_held  (SimSocketTransport    *self);
void      sim_socket_transport_send_held          (SimSocketTransport    *self,
                                                   SimHeldDatagrams      *held);
void      sim_held_datagrams_free                 (SimHeldDatagrams      *held);
/* TRUE while a burst of datagrams is processed and its UDP answers are held. */
gboolean  sim_socket_transport_in_burst           (SimSocketTransport    *self);
void      sim_socket_transport_set_batch_end_func (SimSocketTransport    *self,
                                                   SimTransportBatchFunc  func,
                                                   gpointer               user_data);
void      sim_socket_transport_set_name_func      (SimSocketTransport    *self,
                                                   SimTransportNameFunc   func,
                                                   gpointer               user_data);
/*
 * Sends @data to @dst exactly as the stack's send function does (UDP from the listener of
 * @dst's family, TCP over the connection to @dst).  For a caller that routes some of a stack's
 * traffic elsewhere and installs its own send function (SimWorld's mixed mode).
 */
void      sim_socket_transport_send               (SimSocketTransport    *self,
                                                   const SimAddr         *dst,
                                                   const char            *data,
                                                   gsize                  len,
                                                   gboolean               retransmission);
/* The TCP limits above; a timeout is > 0, a cap >= 1.  They apply to open connections too. */
void      sim_socket_transport_set_tcp_idle_timeout    (SimSocketTransport *self,
                                                        SimTime             timeout);
void      sim_socket_transport_set_tcp_message_timeout (SimSocketTransport *self,
                                                        SimTime             timeout);
void      sim_socket_transport_set_tcp_connect_timeout (SimSocketTransport *self,
                                                        SimTime             timeout);
void      sim_socket_transport_set_tcp_max_connections (SimSocketTransport *self,
                                                        guint               max_connections);
/* The connection cap in force: the configured one, lowered to fit RLIMIT_NOFILE. */
guint     sim_socket_transport_get_tcp_max_connections (SimSocketTransport *self);
void      sim_socket_transport_set_tcp_max_per_ip      (SimSocketTransport *self,
                                                        guint               max_per_ip);
/*
 * Exempts the TCP connection to @peer (ip:port, transport TCP) from the idle timeout until
 * @until on the stack's clock (a binding's expiry); a time in the past ends the exemption.
 * FALSE if there is no such connection (nothing to do: UDP, or the phone already left).
 */
gboolean  sim_socket_transport_keep_alive_until        (SimSocketTransport *self,
                                                        const SimAddr      *peer,
                                                        SimTime             until);
/*
 * The certificate and key of the tls: listeners (sim-tls.h: errors read "FILE: what is wrong").
 * Load before listening on tls:; a tls: listen without them fails.  New connections use it.
 */
gboolean  sim_socket_transport_load_tls           (SimSocketTransport    *self,
                                                   const char            *cert_file,
                                                   const char            *key_file,
                                                   GError               **error);
void      sim_socket_transport_set_tls_context    (SimSocketTransport    *self,
                                                   SimTlsContext         *context);
/* Open TCP and TLS connections (accepted and connected). */
guint     sim_socket_transport_get_n_connections  (SimSocketTransport    *self);
/* Stops listening, closes every connection and detaches from the stack. */
void      sim_socket_transport_close              (SimSocketTransport    *self);

G_END_DECLS
