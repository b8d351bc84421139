/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib-object.h>

#include "sim-stack.h"

G_BEGIN_DECLS

/*
 * SimSocketTransport: the real network under a SimStack (RFC 3261 §18).  It listens on UDP and
 * TCP endpoints (IPv4 and IPv6), feeds every datagram and every framed stream message to the
 * stack with its real source address, and carries what the stack sends: UDP through the
 * listening socket of the destination's family, TCP over the open connection to that ip:port
 * (so a phone registered over TCP is reached over its own connection), connecting if there is
 * none.  Every packet is traced exactly as SimNet traces it ("sent", "delivered", "dropped"),
 * so the views show real phones like simulated ones.
 *
 * All I/O runs as GSources on the thread-default main context of the creator.
 */

#define SIM_TRANSPORT_ERROR (sim_transport_error_quark ())
GQuark sim_transport_error_quark (void);

typedef enum {
  SIM_TRANSPORT_ERROR_BAD_SPEC = 1,   /* not "udp:HOST:PORT" / "tcp:HOST:PORT" */
} SimTransportError;

/* The default and upper limit of a datagram or stream message we accept (RFC 3261 §18.1.1). */
#define SIM_TRANSPORT_MAX_MESSAGE 65535

/* Names the far end of a packet in the trace (an AOR's user); NULL means "use ip:port". */
typedef const char *(*SimTransportNameFunc) (const SimAddr *peer,
                                             gpointer       user_data);

#define SIM_TYPE_SOCKET_TRANSPORT (sim_socket_transport_get_type ())
G_DECLARE_FINAL_TYPE (SimSocketTransport, sim_socket_transport, SIM, SOCKET_TRANSPORT, GObject)

/*
 * Becomes @stack's send function; the stack's node name is the local name in the trace.  The
 * first endpoint listened on becomes the stack's local address (its Via sent-by and
 * Record-Route), so listen first on the address phones should see.
 */
SimSocketTransport *sim_socket_transport_new      (SimStack              *stack) G_GNUC_WARN_UNUSED_RESULT;
/*
 * Parses "udp:127.0.0.1:5060", "tcp:[::1]:5062", "udp:0.0.0.0:5060".  Port 0 picks a free
 * port (see sim_socket_transport_get_listeners()).
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
void      sim_socket_transport_set_max_message    (SimSocketTransport    *self,
                                                   gsize                  max_message);
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
/* Open TCP connections (accepted and connected). */
guint     sim_socket_transport_get_n_connections  (SimSocketTransport    *self);
/* Stops listening, closes every connection and detaches from the stack. */
void      sim_socket_transport_close              (SimSocketTransport    *self);

G_END_DECLS
