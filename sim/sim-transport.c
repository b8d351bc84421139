/* SPDX-License-Identifier: GPL-3.0-or-later */
#define _GNU_SOURCE   /* recvmmsg(2) */
#include "sim-transport.h"

#include <arpa/inet.h>
#include <errno.h>
#include <gio/gio.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <string.h>
#include <unistd.h>

#include "sim-framing.h"
#include "sim-tls.h"

/*
 * The real-socket transport.  UDP is one datagram, one message.  TCP is a byte stream, so a
 * message ends where its Content-Length says (RFC 3261 §18.3: mandatory on streams); a stream
 * that does not look like SIP, lacks Content-Length or announces more than we accept cannot be
 * resynchronised, and the connection is closed.  Between messages a client may send CRLF
 * keep-alives; a double CRLF "ping" is answered with a single CRLF "pong" (RFC 5626 §3.5.1).
 *
 * TLS (RFC 3261 §26.3.1) is a TCP connection accepted on a tls: listener with a SimTlsSession
 * between socket and framer: the bytes read go through the session, the plain text it yields
 * through the same framer, and what we send is encrypted into the same output queue.  So every
 * limit below holds for TLS unchanged, and an unfinished handshake has the connect timeout.
 *
 * Connections are keyed by the peer's ip:port (TLS ones as "tls:ip:port").  A phone that registered over TCP is reached
 * over the connection its REGISTER came in on; the proxy targets the binding's source address,
 * which is exactly that key.
 *
 * The framing itself lives in sim-framing.c (no sockets there, so every split of a stream is
 * tested and fuzzed).  What a stranger can hold here is bounded by the limits documented in
 * sim-transport.h: one sweep timer closes idle connections, unfinished messages and connects
 * that never complete; caps on connections per IP and in all keep us below RLIMIT_NOFILE; and
 * when the descriptors run out anyway, accepting pauses instead of spinning.
 *
 * A connection is "protected" while it is the flow of a live binding (keep_until, set by the
 * server through sim_socket_transport_keep_alive_until()).  Only protected connections count
 * any byte as a sign of life; an unprotected one is kept alive only by complete SIP messages
 * (received, or sent by the stack), so CRLF pings and their pongs do not reset its idle timer
 * (RFC 5626 §3.5.1, §4.4.1: keep-alives belong to the flows of registrations).  When a cap is
 * full, the least recently active unprotected connection makes room for the new one: a
 * stranger holding connections delays nobody's phone, and only when every connection is
 * protected is the new one refused.
 */

G_DEFINE_QUARK (sim-transport-error-quark, sim_transport_error)

#define MAX_OUTPUT        (1024 * 1024)   /* a peer that does not read loses its connection */
#define UDP_BURST         64              /* datagrams read per wake-up before yielding */
#define UDP_BATCH         16              /* datagrams read per recvmmsg(2) */
/* Answers held back during one receive burst and sent with one sendmmsg(2) at its end: at most
 * this many datagrams, or this many bytes, before the held ones go out early (after the batch
 * end function has run, so that group commit still precedes every answer). */
#define UDP_SEND_BATCH    64
#define UDP_SEND_BYTES    (256 * 1024)
/* Spare hold buffers kept for reuse after sim_socket_transport_send_held(): a fresh 256 KiB
 * buffer per burst would be an mmap(2) and its page faults each time. */
#define UDP_SPARE_HOLDS   4
#define UDP_RCVBUF        (4 * 1024 * 1024)
#define SEND_WAIT_MS      20              /* longest wait for room in a full UDP send buffer */
#define SEND_BACKOFF_MS   500             /* ...and no waiting for this long after one ran out */
#define ACCEPT_BURST      64              /* connections accepted per wake-up before yielding */

typedef struct {
  SimSocketTransport *self;
  GSocket *socket;
  GSource *source;
  GSource *pause_source;      /* accepting paused (descriptors ran out): resumes on this */
  SimAddr addr;
} Listener;

typedef struct {
  gint ref_count;
  SimSocketTransport *self;  /* NULL once closed */
  GSocket *socket;
  GSource *in_source;
  GSource *out_source;
  SimAddr peer;
  SimAddr local;
  char *key;
  SimFramer *framer;
  GByteArray *out;
  gboolean connecting;
  gint64 opened_at;          /* monotonic µs, for the connect timeout and the lifetime */
  gint64 last_activity;      /* monotonic µs of the last sign of life that counts (below) */
  gint64 message_started;    /* monotonic µs the unfinished message began; 0 if none */
  guint64 consumed_seen;     /* the framer's consumed count when message_started was set */
  gint64 keep_until;         /* monotonic µs: not idle-closed before this (a live binding) */
  gboolean inbound;          /* accepted, not connected by us */
  SimTlsSession *tls;        /* TLS between socket and framer (accepted on a tls: listener) */
  gboolean ever_protected;   /* keep_until was once set into the future */
} Connection;

struct _SimSocketTransport {
  GObject parent_instance;
  SimStack *stack;
  GMainContext *context;
  GPtrArray *listeners;       /* Listener* */
  GArray *listener_addrs;     /* SimAddr */
  GHashTable *connections;    /* "ip:port" -> Connection* (holds a ref) */
  GHashTable *per_ip;         /* "ip" -> number of connections with it (GUINT_TO_POINTER) */
  GSource *sweep_source;      /* closes idle and unfinished connections; runs while any exist */
  SimTime tcp_idle_timeout;
  SimTime tcp_message_timeout;
  SimTime tcp_connect_timeout;
  guint tcp_max_connections;  /* as configured; the effective cap also heeds RLIMIT_NOFILE */
  guint tcp_max_per_ip;
  gsize max_message;
  guint8 *buffer;             /* SIM_TRANSPORT_MAX_MESSAGE + 1 bytes of receive space */
  guint8 *udp_buffers;        /* UDP_BATCH datagrams' worth, allocated on first use */
  gint64 send_backoff_until;  /* monotonic µs: no waiting for a full send buffer before this */
  struct mmsghdr *udp_msgs;
  struct iovec *udp_iov;
  struct sockaddr_storage *udp_from;
  /* Datagrams held during a receive burst (udp_readable_cb()): their bytes in held_bytes, one
   * HeldDatagram each in held; sent by flush_held() after the batch end function. */
  gboolean holding;
  GByteArray *held_bytes;
  GArray *held;               /* HeldDatagram */
  GPtrArray *spare_holds;     /* SimHeldDatagrams*, emptied, at most UDP_SPARE_HOLDS */
  SimTransportBatchFunc batch_func;
  gpointer batch_data;
  /* The IPv4 address of the last datagram and its text: a burst usually comes from few
   * addresses, and inet_ntop(3) per datagram showed in the profile. */
  struct in_addr last_v4;
  char last_v4_ip[INET_ADDRSTRLEN];
  SimTransportNameFunc name_func;
  gpointer name_data;
  SimTlsContext *tls_context; /* certificate and key of the tls: listeners, NULL: none */
  GByteArray *plain;          /* decrypted bytes of one read, reused */
  int priority;               /* of the socket sources (sim_socket_transport_set_priority) */
};

/* One datagram held for the end of a receive burst. */
typedef struct {
  int fd;
  gsize offset;               /* into held_bytes */
  gsize len;
  SimAddr dst;
  SimAddr src;                /* the listener's address, for the trace */
  SimStack *stack;            /* told of a send error (RFC 3261 §18.4) */
  struct sockaddr_storage to;
  socklen_t to_len;
} HeldDatagram;

/* Answers taken out of a burst's hold (sim_socket_transport_take_held()). */
struct _SimHeldDatagrams {
  GArray *held;               /* HeldDatagram */
  GByteArray *bytes;
};

G_DEFINE_FINAL_TYPE (SimSocketTransport, sim_socket_transport, G_TYPE_OBJECT)

static void stack_send_cb (SimStack *stack, const SimAddr *dst, const char *data, gsize len,
                           gboolean retransmission, gpointer user_data);

/* ---------------------------------------------------------------------------------------- */
/* Addresses and tracing                                                                     */

static gboolean
addr_from_socket_address (GSocketAddress   *address,
                          SimTransportKind  transport,
                          SimAddr          *addr)
{
  GInetSocketAddress *inet;
  g_autofree char *ip = NULL;

  if (!G_IS_INET_SOCKET_ADDRESS (address))
    return FALSE;
  inet = G_INET_SOCKET_ADDRESS (address);
  ip = g_inet_address_to_string (g_inet_socket_address_get_address (inet));
  sim_addr_init (addr, ip, g_inet_socket_address_get_port (inet), transport);
  return TRUE;
}

/*
 * The UDP hot path talks to the socket's descriptor directly: GSocket would allocate a
 * GInetSocketAddress (two GObjects) per datagram each way, which under a burst of REGISTERs
 * costs as much as the registrar's own bookkeeping.
 */
static gboolean
addr_from_sockaddr (const struct sockaddr_storage *ss,
                    SimTransportKind               transport,
                    SimAddr                       *addr)
{
  memset (addr, 0, sizeof *addr);
  addr->transport = transport;
  if (ss->ss_family == AF_INET)
    {
      const struct sockaddr_in *sin = (const struct sockaddr_in *) ss;
      addr->port = ntohs (sin->sin_port);
      return inet_ntop (AF_INET, &sin->sin_addr, addr->ip, sizeof addr->ip) != NULL;
    }
  if (ss->ss_family == AF_INET6)
    {
      const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *) ss;
      addr->port = ntohs (sin6->sin6_port);
      return inet_ntop (AF_INET6, &sin6->sin6_addr, addr->ip, sizeof addr->ip) != NULL;
    }
  return FALSE;
}

/* addr_from_sockaddr() for a datagram's source, with the last IPv4 address's text kept. */
static gboolean
udp_source (SimSocketTransport            *self,
            const struct sockaddr_storage *ss,
            SimAddr                       *addr)
{
  const struct sockaddr_in *sin = (const struct sockaddr_in *) ss;

  if (ss->ss_family != AF_INET)
    return addr_from_sockaddr (ss, SIM_TRANSPORT_UDP, addr);
  if (self->last_v4_ip[0] == '\0' || sin->sin_addr.s_addr != self->last_v4.s_addr)
    {
      if (inet_ntop (AF_INET, &sin->sin_addr, self->last_v4_ip, sizeof self->last_v4_ip) == NULL)
        {
          self->last_v4_ip[0] = '\0';
          return FALSE;
        }
      self->last_v4 = sin->sin_addr;
    }
  memset (addr, 0, sizeof *addr);
  addr->transport = SIM_TRANSPORT_UDP;
  addr->port = ntohs (sin->sin_port);
  memcpy (addr->ip, self->last_v4_ip, sizeof self->last_v4_ip);
  return TRUE;
}

/* FALSE if @addr's ip is no numeric address (the caller falls back to GIO's parser). */
static gboolean
sockaddr_from_addr (const SimAddr           *addr,
                    struct sockaddr_storage *ss,
                    socklen_t               *len)
{
  memset (ss, 0, sizeof *ss);
  if (strchr (addr->ip, ':') == NULL)
    {
      struct sockaddr_in *sin = (struct sockaddr_in *) ss;
      sin->sin_family = AF_INET;
      sin->sin_port = htons (addr->port);
      *len = sizeof *sin;
      return inet_pton (AF_INET, addr->ip, &sin->sin_addr) == 1;
    }
  else
    {
      struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *) ss;
      sin6->sin6_family = AF_INET6;
      sin6->sin6_port = htons (addr->port);
      *len = sizeof *sin6;
      return inet_pton (AF_INET6, addr->ip, &sin6->sin6_addr) == 1;
    }
}

static gboolean
is_ipv6 (const SimAddr *addr)
{
  return strchr (addr->ip, ':') != NULL;
}

/* "ip:port" for TCP, "tls:ip:port" for TLS: a TLS and a TCP connection never share a key. */
static char *
peer_key (const SimAddr *addr)
{
  char text[64];

  sim_addr_format (addr, text, sizeof text);
  return addr->transport == SIM_TRANSPORT_TLS ? g_strconcat ("tls:", text, NULL)
                                              : g_strdup (text);
}

/* "TCP connection with 1.2.3.4:5" or "TLS connection with ...", for notes. */
static const char *
connection_label (const SimAddr *peer,
                  char           buf[96])
{
  char text[64];

  sim_addr_format (peer, text, sizeof text);
  g_snprintf (buf, 96, "%s connection with %s", sim_transport_name (peer->transport), text);
  return buf;
}

static void
trace_packet (SimSocketTransport *self,
              const char         *action,
              const SimAddr      *src,
              const SimAddr      *dst,
              gboolean            outgoing,
              const char         *data,
              gsize               len,
              const char         *reason)
{
  SimTrace *trace = sim_stack_get_trace (self->stack);
  const SimAddr *peer = outgoing ? dst : src;
  const char *local_name = sim_stack_get_node_name (self->stack);
  const char *peer_name = NULL;
  char peer_text[64];
  SimEvent *event;

  if (trace == NULL || !sim_trace_is_enabled (trace))
    return;
  if (self->name_func != NULL)
    peer_name = self->name_func (peer, self->name_data);
  if (peer_name == NULL)
    {
      sim_addr_format (peer, peer_text, sizeof peer_text);
      peer_name = peer_text;
    }
  event = sim_event_new (SIM_EVENT_PACKET, action);
  event->t = sim_clock_now (sim_stack_get_clock (self->stack));
  sim_event_set_packet (event, outgoing ? local_name : peer_name, outgoing ? peer_name : local_name,
                        src, dst, data, len);
  event->reason = g_strdup (reason);
  sim_trace_emit (trace, event);
}

static void
trace_note (SimSocketTransport *self,
            const char         *format,
            ...) G_GNUC_PRINTF (2, 3);

static void
trace_note (SimSocketTransport *self,
            const char         *format,
            ...)
{
  va_list args;

  /* After dispose (the stack released) nothing is noted any more. */
  if (self->stack == NULL)
    return;
  va_start (args, format);
  sim_stack_notev (self->stack, format, args);
  va_end (args);
}

static GSource *
attach_source (SimSocketTransport *self,
               GSocket            *socket,
               GIOCondition        condition,
               GSocketSourceFunc   func,
               gpointer            data)
{
  GSource *source = g_socket_create_source (socket, condition, NULL);

  g_source_set_callback (source, G_SOURCE_FUNC (func), data, NULL);
  g_source_set_priority (source, self->priority);
  /* GLib blocks a source that cannot recurse while it dispatches it, by taking its socket out
   * of the poll set and putting it back afterwards, and each of those writes to the context's
   * wake-up eventfd: two write(2)s, a read(2) and an extra poll(2) per dispatch, about half of
   * serve's system calls under load.  No socket callback here runs a main loop of its own, so
   * none can be re-entered, and every socket source may be marked as able to recurse (a source
   * destroyed by its own callback is still fine: GLib holds a reference over the dispatch). */
  g_source_set_can_recurse (source, TRUE);
  g_source_attach (source, self->context);
  return source;
}

static void
destroy_source (GSource **source)
{
  if (*source != NULL)
    {
      g_source_destroy (*source);
      g_clear_pointer (source, g_source_unref);
    }
}

/* ---------------------------------------------------------------------------------------- */
/* TCP connections                                                                           */

static Connection *
connection_ref (Connection *conn)
{
  conn->ref_count++;
  return conn;
}

static void
connection_unref (Connection *conn)
{
  if (--conn->ref_count > 0)
    return;
  g_assert (conn->in_source == NULL && conn->out_source == NULL);
  g_clear_object (&conn->socket);
  g_clear_pointer (&conn->tls, sim_tls_session_free);
  sim_framer_free (conn->framer);
  g_byte_array_unref (conn->out);
  g_free (conn->key);
  g_free (conn);
}

/* Idempotent; the connection may still be referenced by a caller up the stack. */
static void
connection_close (Connection *conn,
                  const char *why)
{
  SimSocketTransport *self = conn->self;
  gboolean lost;
  char label[96];

  if (self == NULL)
    return;
  conn->self = NULL;
  lost = conn->connecting || conn->out->len > 0;
  destroy_source (&conn->in_source);
  destroy_source (&conn->out_source);
  /* A TLS peer is told the end is deliberate (close_notify), if the socket takes it now. */
  if (conn->tls != NULL && conn->socket != NULL && !lost)
    {
      sim_tls_session_close_notify (conn->tls, conn->out);
      if (conn->out->len > 0)
        g_socket_send (conn->socket, (const char *) conn->out->data, conn->out->len, NULL, NULL);
    }
  if (conn->socket != NULL)
    g_socket_close (conn->socket, NULL);
  if (why != NULL)
    trace_note (self, "%s closed: %s", connection_label (&conn->peer, label), why);
  /* A connect that failed (refused, unreachable, timed out), or a connection lost with bytes
   * still unsent: what we queued for this peer will never go, so its transactions end now with
   * 503 (RFC 3261 §18.4) instead of timing out. */
  if (why != NULL && lost && self->stack != NULL)
    sim_stack_transport_error (self->stack, &conn->peer, why);
  /* Drops the table's reference last: it may be the only one. */
  if (g_hash_table_lookup (self->connections, conn->key) == conn)
    {
      guint n = GPOINTER_TO_UINT (g_hash_table_lookup (self->per_ip, conn->peer.ip));

      if (n > 1)
        g_hash_table_insert (self->per_ip, g_strdup (conn->peer.ip), GUINT_TO_POINTER (n - 1));
      else
        g_hash_table_remove (self->per_ip, conn->peer.ip);
      g_hash_table_remove (self->connections, conn->key);
    }
}

/*
 * The connection cap in force: the configured one, but never more than the descriptors this
 * process may open, less SIM_TRANSPORT_FD_RESERVE for the listeners, the database, the
 * standard streams and GLib's own (read each time: the limit can change under us).
 */
static guint
effective_max_connections (SimSocketTransport *self)
{
  struct rlimit limit;
  guint max = self->tcp_max_connections;

  if (getrlimit (RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY)
    {
      rlim_t room = limit.rlim_cur > SIM_TRANSPORT_FD_RESERVE + 1 ?
                    limit.rlim_cur - SIM_TRANSPORT_FD_RESERVE : 1;
      max = (guint) MIN ((rlim_t) max, room);
    }
  return max;
}

/* How long an accepted connection may stay open without ever becoming the flow of a binding. */
static SimTime
unprotected_lifetime (SimSocketTransport *self)
{
  return self->tcp_idle_timeout * SIM_TRANSPORT_TCP_UNREGISTERED_LIFETIME;
}

/*
 * Makes room for a new connection (to or from @for_ip): closes the least recently active
 * connection that is not the flow of a live binding, among those with @ip (NULL: any), and
 * says why in the trace.  Connects of ours still pending are spared (their own timeout ends
 * them).  FALSE if every candidate is protected: the new connection is the one refused.  A
 * linear scan: it runs only at a full cap, and the caps bound its length.
 */
static gboolean
evict_unprotected (SimSocketTransport *self,
                   const char         *ip,
                   const char         *for_ip,
                   guint               limit)
{
  gint64 now = g_get_monotonic_time ();
  Connection *victim = NULL;
  g_autofree char *why = NULL;
  GHashTableIter iter;
  Connection *conn;

  g_hash_table_iter_init (&iter, self->connections);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &conn))
    {
      if (conn->connecting || now < conn->keep_until)
        continue;
      if (ip != NULL && strcmp (conn->peer.ip, ip) != 0)
        continue;
      if (victim == NULL || conn->last_activity < victim->last_activity)
        victim = conn;
    }
  if (victim == NULL)
    return FALSE;
  if (ip != NULL)
    why = g_strdup_printf ("evicted for a new connection from %s: %u connections from %s are "
                           "open, the limit per address, and this one, the least recently "
                           "active, carries no registration", for_ip, limit, ip);
  else
    why = g_strdup_printf ("evicted for a new connection with %s: %u connections are open, the "
                           "limit, and this one, the least recently active, carries no "
                           "registration", for_ip, limit);
  connection_close (victim, why);
  return TRUE;
}

static const char *
seconds_text (SimTime t,
              char    buf[32])
{
  g_snprintf (buf, 32, "%g s", (double) t / G_USEC_PER_SEC);
  return buf;
}

/*
 * One timer for all connections: a connect that does not complete, a message begun and not
 * finished, and a connection with no traffic each have their deadline (sim-transport.h).
 */
static gboolean
sweep_cb (gpointer data)
{
  SimSocketTransport *self = data;
  g_autoptr(GPtrArray) expired = g_ptr_array_new ();
  g_autoptr(GPtrArray) reasons = g_ptr_array_new_with_free_func (g_free);
  gint64 now = g_get_monotonic_time ();
  GHashTableIter iter;
  Connection *conn;

  g_hash_table_iter_init (&iter, self->connections);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &conn))
    {
      char t[32];
      char *why = NULL;

      if (conn->connecting)
        {
          if (now - conn->opened_at >= self->tcp_connect_timeout)
            why = g_strdup_printf ("the connect did not complete within %s",
                                   seconds_text (self->tcp_connect_timeout, t));
        }
      else if (conn->tls != NULL && !sim_tls_session_is_established (conn->tls))
        {
          /* A handshake gets as long as a connect (sim-transport.h): until it finishes the
           * peer has not even begun to speak SIP. */
          if (now - conn->opened_at >= self->tcp_connect_timeout)
            why = g_strdup_printf ("the TLS handshake did not complete within %s",
                                   seconds_text (self->tcp_connect_timeout, t));
        }
      else if (conn->message_started != 0 &&
               now - conn->message_started >= self->tcp_message_timeout)
        why = g_strdup_printf ("a message begun was not completed within %s",
                               seconds_text (self->tcp_message_timeout, t));
      else if (conn->message_started != 0)
        ;       /* a message is arriving: its own deadline above decides */
      else if (conn->inbound && !conn->ever_protected &&
               now - conn->opened_at >= unprotected_lifetime (self))
        why = g_strdup_printf ("open for %s without ever carrying a registration",
                               seconds_text (unprotected_lifetime (self), t));
      else if (now - conn->last_activity >= self->tcp_idle_timeout && now >= conn->keep_until)
        why = g_strdup_printf ("idle for %s", seconds_text (self->tcp_idle_timeout, t));
      if (why != NULL)
        {
          g_ptr_array_add (expired, connection_ref (conn));
          g_ptr_array_add (reasons, why);
        }
    }
  for (guint i = 0; i < expired->len; i++)
    {
      conn = expired->pdata[i];
      connection_close (conn, reasons->pdata[i]);
      connection_unref (conn);
    }
  if (g_hash_table_size (self->connections) == 0)
    {
      g_clear_pointer (&self->sweep_source, g_source_unref);
      return G_SOURCE_REMOVE;
    }
  return G_SOURCE_CONTINUE;
}

/* A quarter of the shortest deadline, within 50 ms..1 s: a deadline is late by at most that. */
static void
sweep_start (SimSocketTransport *self)
{
  SimTime shortest = MIN (self->tcp_idle_timeout,
                          MIN (self->tcp_message_timeout, self->tcp_connect_timeout));
  guint interval = (guint) CLAMP (shortest / 4000, 50, 1000);

  if (self->sweep_source != NULL)
    return;
  self->sweep_source = g_timeout_source_new (interval);
  g_source_set_callback (self->sweep_source, sweep_cb, self, NULL);
  g_source_attach (self->sweep_source, self->context);
}

static void
sweep_restart (SimSocketTransport *self)
{
  if (self->sweep_source == NULL)
    return;
  destroy_source (&self->sweep_source);
  sweep_start (self);
}

static gboolean connection_writable_cb (GSocket *socket, GIOCondition condition, gpointer data);
static gboolean connection_readable_cb (GSocket *socket, GIOCondition condition, gpointer data);

static Connection *
connection_new (SimSocketTransport *self,
                GSocket            *socket,
                const SimAddr      *peer,
                gboolean            connecting)
{
  Connection *conn = g_new0 (Connection, 1);
  g_autoptr(GSocketAddress) local = NULL;

  conn->ref_count = 1;          /* the table's */
  conn->self = self;
  conn->socket = g_object_ref (socket);
  conn->peer = *peer;
  if (conn->peer.transport != SIM_TRANSPORT_TLS)
    conn->peer.transport = SIM_TRANSPORT_TCP;
  conn->key = peer_key (&conn->peer);
  if (conn->peer.transport == SIM_TRANSPORT_TLS)
    conn->tls = sim_tls_session_new_server (self->tls_context);
  conn->framer = sim_framer_new (self->max_message);
  conn->out = g_byte_array_new ();
  conn->connecting = connecting;
  conn->opened_at = conn->last_activity = g_get_monotonic_time ();
  local = g_socket_get_local_address (socket, NULL);
  if (local == NULL || !addr_from_socket_address (local, SIM_TRANSPORT_TCP, &conn->local))
    conn->local = *sim_stack_get_local (self->stack);
  conn->local.transport = conn->peer.transport;
  g_socket_set_blocking (socket, FALSE);

  /* An older connection from the same ip:port is gone for good (the port was reused). */
  {
    Connection *old = g_hash_table_lookup (self->connections, conn->key);
    if (old != NULL)
      connection_close (old, "replaced by a new connection from the same address");
  }
  g_hash_table_insert (self->connections, conn->key, conn);
  g_hash_table_insert (self->per_ip, g_strdup (conn->peer.ip),
                       GUINT_TO_POINTER (GPOINTER_TO_UINT (g_hash_table_lookup (self->per_ip,
                                                                                conn->peer.ip)) + 1));
  sweep_start (self);
  conn->in_source = attach_source (self, socket, G_IO_IN | G_IO_HUP | G_IO_ERR,
                                   connection_readable_cb, conn);
  if (connecting)
    conn->out_source = attach_source (self, socket, G_IO_OUT | G_IO_HUP | G_IO_ERR,
                                      connection_writable_cb, conn);
  return conn;
}

/* Writes what the socket takes now; returns FALSE if the connection was closed. */
static gboolean
connection_write_pending (Connection *conn)
{
  while (conn->out->len > 0)
    {
      g_autoptr(GError) error = NULL;
      gssize n = g_socket_send (conn->socket, (const char *) conn->out->data, conn->out->len,
                                NULL, &error);
      if (n < 0)
        {
          if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
            break;
          connection_close (conn, error->message);
          return FALSE;
        }
      g_byte_array_remove_range (conn->out, 0, (guint) n);
    }
  return TRUE;
}

/* Writes what it can and waits for the socket to drain the rest. */
static void
connection_flush (Connection *conn)
{
  if (!connection_write_pending (conn))
    return;
  if (conn->out->len > 0 && conn->out_source == NULL)
    conn->out_source = attach_source (conn->self, conn->socket, G_IO_OUT | G_IO_HUP | G_IO_ERR,
                                      connection_writable_cb, conn);
}

static gboolean
connection_writable_cb (GSocket      *socket,
                        GIOCondition  condition,
                        gpointer      data)
{
  Connection *conn = data;
  gboolean result = G_SOURCE_CONTINUE;

  if (conn->self == NULL)
    return G_SOURCE_REMOVE;
  connection_ref (conn);
  if (conn->connecting)
    {
      g_autoptr(GError) error = NULL;

      if (!g_socket_check_connect_result (socket, &error))
        {
          connection_close (conn, error->message);
          connection_unref (conn);
          return G_SOURCE_REMOVE;
        }
      conn->connecting = FALSE;
      {
        g_autoptr(GSocketAddress) local = g_socket_get_local_address (socket, NULL);
        if (local != NULL)
          addr_from_socket_address (local, SIM_TRANSPORT_TCP, &conn->local);
      }
    }
  if (!connection_write_pending (conn))
    result = G_SOURCE_REMOVE;             /* closed: the source is already destroyed */
  else if (conn->out->len == 0)
    {
      /* Nothing left to write: this source goes, a later send attaches a new one. */
      g_clear_pointer (&conn->out_source, g_source_unref);
      result = G_SOURCE_REMOVE;
    }
  connection_unref (conn);
  return result;
}

static void
connection_send (Connection *conn,
                 const char *data,
                 gsize       len)
{
  gsize queued = conn->out->len +
                 (conn->tls != NULL ? sim_tls_session_get_n_waiting (conn->tls) : 0);

  if (queued + len > MAX_OUTPUT)
    {
      connection_close (conn, "the peer does not read what we send");
      return;
    }
  if (conn->tls != NULL)
    {
      g_autofree char *why = NULL;

      if (!sim_tls_session_send (conn->tls, (const guint8 *) data, len, conn->out, &why))
        {
          g_autofree char *reason = g_strdup_printf ("TLS: %s", why);
          connection_close (conn, reason);
          return;
        }
    }
  else
    g_byte_array_append (conn->out, (const guint8 *) data, (guint) len);
  if (!conn->connecting)
    connection_flush (conn);
}

/* Hands every complete message to the stack, answers pings, and closes a stream out of step. */
static void
connection_process (Connection *conn)
{
  while (conn->self != NULL)
    {
      SimSocketTransport *self = conn->self;
      const char *data = NULL;
      gsize len = 0;
      SimFramerError error = SIM_FRAMER_ERROR_NONE;

      switch (sim_framer_next (conn->framer, &data, &len, &error))
        {
        case SIM_FRAMER_NEED_MORE:
          /* A message begun here has SIM_TRANSPORT_TCP_MESSAGE_TIMEOUT to complete; the clock
           * restarts whenever an earlier message completed in between. */
          if (!sim_framer_in_message (conn->framer))
            conn->message_started = 0;
          else if (conn->message_started == 0 ||
                   conn->consumed_seen != sim_framer_get_consumed (conn->framer))
            {
              conn->message_started = g_get_monotonic_time ();
              conn->consumed_seen = sim_framer_get_consumed (conn->framer);
            }
          return;

        case SIM_FRAMER_PONG:
          /* RFC 5626 §3.5.1: a CRLFCRLF ping is answered with a CRLF pong. */
          connection_send (conn, "\r\n", 2);
          break;

        case SIM_FRAMER_ERROR:
          if (error == SIM_FRAMER_ERROR_TOO_LARGE)
            trace_packet (self, "dropped", &conn->peer, &conn->local, FALSE, data, len,
                          sim_framer_error_to_string (error));
          connection_close (conn, sim_framer_error_to_string (error));
          return;

        case SIM_FRAMER_MESSAGE:
        default:
          {
            g_autofree char *msg = g_malloc (len + 1);

            memcpy (msg, data, len);
            msg[len] = '\0';
            trace_packet (self, "delivered", &conn->peer, &conn->local, FALSE, msg, len, NULL);
            /* A complete message is a sign of life on any connection (sim-transport.h). */
            conn->last_activity = g_get_monotonic_time ();
            g_object_ref (self);
            sim_stack_receive_at (self->stack, &conn->local, &conn->peer, msg, len);
            g_object_unref (self);
          }
          break;
        }
    }
}

/*
 * Bytes from a TLS connection's socket: the session decrypts what whole records arrived (and
 * runs the handshake until it is done), its answers (handshake flights, alerts) go out, and
 * the plain text goes through the framer exactly as on TCP.  A failed handshake (garbage, a
 * client speaking plain SIP to the TLS port) or a record that does not decrypt ends the
 * connection: a TLS stream cannot be resynchronised.
 */
static void
connection_receive_tls (Connection   *conn,
                        const guint8 *data,
                        gsize         len)
{
  SimSocketTransport *self = conn->self;
  g_autofree char *why = NULL;
  SimTlsResult result;
  char label[96];

  g_byte_array_set_size (self->plain, 0);
  result = sim_tls_session_receive (conn->tls, data, len, self->plain, conn->out, &why);
  if (conn->out->len > 0)
    connection_flush (conn);
  if (conn->self == NULL)
    return;
  if (self->plain->len > 0)
    {
      sim_framer_push (conn->framer, self->plain->data, self->plain->len);
      connection_process (conn);
    }
  if (conn->self == NULL)
    return;
  if (result == SIM_TLS_FAILED)
    {
      g_autofree char *reason = g_strdup_printf ("TLS: %s", why != NULL ? why : "failed");
      connection_close (conn, reason);
    }
  else if (result == SIM_TLS_CLOSED)
    {
      connection_close (conn, NULL);
      trace_note (self, "%s closed by the peer (TLS close_notify)",
                  connection_label (&conn->peer, label));
    }
}

static gboolean
connection_readable_cb (GSocket      *socket,
                        GIOCondition  condition,
                        gpointer      data)
{
  Connection *conn = data;
  SimSocketTransport *self = conn->self;
  g_autoptr(GError) error = NULL;
  gssize n;

  if (self == NULL)
    return G_SOURCE_REMOVE;
  n = g_socket_receive (socket, (char *) self->buffer, SIM_TRANSPORT_MAX_MESSAGE + 1, NULL, &error);
  if (n < 0 && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
    return G_SOURCE_CONTINUE;

  connection_ref (conn);
  if (n <= 0)
    {
      char label[96];

      /* The callback's own source is destroyed by connection_close(); do not return REMOVE
       * for a source that is already gone. */
      connection_close (conn, n == 0 ? NULL : error->message);
      if (n == 0)
        trace_note (self, "%s closed by the peer", connection_label (&conn->peer, label));
    }
  else
    {
      gint64 now = g_get_monotonic_time ();

      /* On the flow of a live binding any byte (a CRLF ping too) is a sign of life; elsewhere
       * only complete messages are (connection_process()). */
      if (now < conn->keep_until)
        conn->last_activity = now;
      if (conn->tls != NULL)
        connection_receive_tls (conn, self->buffer, (gsize) n);
      else
        {
          sim_framer_push (conn->framer, self->buffer, (gsize) n);
          connection_process (conn);
        }
    }
  connection_unref (conn);
  return G_SOURCE_CONTINUE;
}

static Connection *
connection_open (SimSocketTransport *self,
                 const SimAddr      *dst)
{
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new_from_string (dst->ip, dst->port);
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GError) error = NULL;
  gboolean pending = FALSE;
  guint limit;

  if (address == NULL)
    return NULL;
  /* Our own connects count against the cap too: it is what keeps us below RLIMIT_NOFILE. */
  limit = effective_max_connections (self);
  while (g_hash_table_size (self->connections) >= limit)
    if (!evict_unprotected (self, NULL, dst->ip, limit))
      {
        trace_note (self, "no TCP connection to %s:%u: %u connections are open, the limit, and "
                    "every one carries a registration", dst->ip, dst->port, limit);
        return NULL;
      }
  socket = g_socket_new (g_socket_address_get_family (address), G_SOCKET_TYPE_STREAM,
                         G_SOCKET_PROTOCOL_TCP, &error);
  if (socket == NULL)
    return NULL;
  g_socket_set_blocking (socket, FALSE);
  if (!g_socket_connect (socket, address, NULL, &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_PENDING))
        {
          trace_note (self, "cannot connect to %s over TCP: %s", dst->ip, error->message);
          return NULL;
        }
      pending = TRUE;
    }
  return connection_new (self, socket, dst, pending);
}

static gboolean tcp_accept_cb (GSocket *socket, GIOCondition condition, gpointer data);

static gboolean
accept_resume_cb (gpointer data)
{
  Listener *listener = data;

  g_clear_pointer (&listener->pause_source, g_source_unref);
  listener->source = attach_source (listener->self, listener->socket, G_IO_IN, tcp_accept_cb,
                                    listener);
  return G_SOURCE_REMOVE;
}

/*
 * Out of descriptors (EMFILE, ENFILE) or kernel memory: the pending connection stays in the
 * backlog and the listener stays readable, so polling it again at once would spin at 100% CPU.
 * Stop watching it for SIM_TRANSPORT_ACCEPT_PAUSE_MS; the idle and message timeouts meanwhile
 * free descriptors, and the backlog is served when watching resumes.
 */
static void
accept_pause (Listener   *listener,
              const char *why)
{
  SimSocketTransport *self = listener->self;

  trace_note (self, "accepting TCP connections paused for %u ms: %s",
              SIM_TRANSPORT_ACCEPT_PAUSE_MS, why);
  destroy_source (&listener->source);
  listener->pause_source = g_timeout_source_new (SIM_TRANSPORT_ACCEPT_PAUSE_MS);
  g_source_set_callback (listener->pause_source, accept_resume_cb, listener, NULL);
  g_source_attach (listener->pause_source, self->context);
}

static gboolean
tcp_accept_cb (GSocket      *socket,
               GIOCondition  condition,
               gpointer      data)
{
  Listener *listener = data;
  SimSocketTransport *self = listener->self;

  for (guint i = 0; i < ACCEPT_BURST; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GSocket) client = NULL;
      struct sockaddr_storage from;
      socklen_t from_len = sizeof from;
      SimAddr peer;
      guint limit;
      guint from_ip;
      gboolean refused;
      int fd;

      fd = accept4 (g_socket_get_fd (socket), (struct sockaddr *) &from, &from_len,
                    SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0)
        {
          int saved = errno;

          if (saved == EAGAIN || saved == EWOULDBLOCK)
            break;
          /* accept(2): errors of the pending connection itself; the next one may be fine. */
          if (saved == EINTR || saved == ECONNABORTED || saved == EPROTO || saved == EPERM ||
              saved == ENETDOWN || saved == ENOPROTOOPT || saved == EHOSTDOWN ||
              saved == EHOSTUNREACH || saved == ENETUNREACH || saved == EOPNOTSUPP)
            continue;
          /* EMFILE, ENFILE, ENOBUFS, ENOMEM and anything unexpected: do not spin. */
          accept_pause (listener, g_strerror (saved));
          return G_SOURCE_REMOVE;
        }
      if (!addr_from_sockaddr (&from, listener->addr.transport, &peer))
        {
          close (fd);
          continue;
        }
      /* A full cap makes room by evicting an unprotected connection (that address's own
       * first); only when every candidate is a live binding's flow is the newcomer refused. */
      refused = FALSE;
      while (!refused &&
             (from_ip = GPOINTER_TO_UINT (g_hash_table_lookup (self->per_ip, peer.ip))) >=
             self->tcp_max_per_ip)
        if (!evict_unprotected (self, peer.ip, peer.ip, self->tcp_max_per_ip))
          {
            trace_note (self, "refused a TCP connection from %s:%u: %u connections from %s are "
                        "open, the limit per address, and every one carries a registration",
                        peer.ip, peer.port, from_ip, peer.ip);
            refused = TRUE;
          }
      limit = effective_max_connections (self);
      while (!refused && g_hash_table_size (self->connections) >= limit)
        if (!evict_unprotected (self, NULL, peer.ip, limit))
          {
            trace_note (self, "refused a TCP connection from %s:%u: %u connections are open, "
                        "the limit, and every one carries a registration",
                        peer.ip, peer.port, limit);
            refused = TRUE;
          }
      if (refused)
        {
          close (fd);
          continue;
        }
      client = g_socket_new_from_fd (fd, &error);
      if (client == NULL)
        {
          close (fd);
          continue;
        }
      connection_new (self, client, &peer, FALSE)->inbound = TRUE;
    }
  return G_SOURCE_CONTINUE;
}

/* ---------------------------------------------------------------------------------------- */
/* UDP                                                                                       */

static gboolean udp_sendto (SimSocketTransport *self, int fd, const char *data, gsize len,
                            const struct sockaddr_storage *to, socklen_t to_len);

/*
 * Sends the datagrams held during a receive burst: first the batch end function (serve's group
 * commit: every binding the held 200 OKs acknowledge is durable before any of them leaves),
 * then one sendmmsg(2) per run of datagrams from the same socket instead of one sendto(2) each.
 * A datagram the kernel will not take at once goes through udp_sendto()'s bounded wait.
 */
static void
send_datagrams (SimSocketTransport *self,
                GArray             *held,
                GByteArray         *held_bytes)
{
  struct mmsghdr msgs[UDP_SEND_BATCH];
  struct iovec iov[UDP_SEND_BATCH];
  guint n = held->len;
  guint i = 0;

  while (i < n)
    {
      HeldDatagram *first = &g_array_index (held, HeldDatagram, i);
      guint run = 0;
      int sent;

      memset (msgs, 0, sizeof msgs);
      while (i + run < n && run < UDP_SEND_BATCH &&
             g_array_index (held, HeldDatagram, i + run).fd == first->fd)
        {
          HeldDatagram *d = &g_array_index (held, HeldDatagram, i + run);
          iov[run].iov_base = held_bytes->data + d->offset;
          iov[run].iov_len = d->len;
          msgs[run].msg_hdr.msg_name = &d->to;
          msgs[run].msg_hdr.msg_namelen = d->to_len;
          msgs[run].msg_hdr.msg_iov = &iov[run];
          msgs[run].msg_hdr.msg_iovlen = 1;
          run++;
        }
      sent = sendmmsg (first->fd, msgs, run, MSG_DONTWAIT);
      if (sent < 0)
        sent = 0;
      /* The rest one at a time: a full buffer waits (bounded), any other error is reported. */
      for (guint k = sent; k < run; k++)
        {
          HeldDatagram *d = &g_array_index (held, HeldDatagram, i + k);
          const char *data = (const char *) held_bytes->data + d->offset;
          const char *why;

          if (udp_sendto (self, d->fd, data, d->len, &d->to, d->to_len))
            continue;
          why = errno == EAGAIN || errno == EWOULDBLOCK ? "the socket's send buffer is full"
                                                        : g_strerror (errno);
          trace_packet (self, "dropped", &d->src, &d->dst, TRUE, data, d->len, why);
          if (errno != EAGAIN && errno != EWOULDBLOCK && d->stack != NULL)
            sim_stack_transport_error (d->stack, &d->dst, why);
        }
      i += run;
    }
}

static void
flush_held (SimSocketTransport *self)
{
  gboolean send = self->batch_func == NULL || self->batch_func (self, self->batch_data);

  /* Read after the batch function: it may have closed the transport, dropping the held, or
   * taken them (sim_socket_transport_take_held()). */
  if (send && self->held != NULL)
    send_datagrams (self, self->held, self->held_bytes);
  if (self->held != NULL)
    g_array_set_size (self->held, 0);
  if (self->held_bytes != NULL)
    g_byte_array_set_size (self->held_bytes, 0);
}

/* Keeps a datagram for flush_held(); flushes first when the hold is full. */
static void
hold_datagram (SimSocketTransport            *self,
               SimStack                      *stack,
               int                            fd,
               const SimAddr                 *src,
               const SimAddr                 *dst,
               const char                    *data,
               gsize                          len,
               const struct sockaddr_storage *to,
               socklen_t                      to_len)
{
  HeldDatagram d = { .fd = fd, .len = len, .dst = *dst, .src = *src, .stack = stack,
                     .to_len = to_len };

  /* A full hold goes out first, before a hold is chosen: the batch end function may take the
   * full one away (serve's pipelined group commit keeps it until its commit is durable), and
   * the datagram then starts a new one. */
  if (self->held != NULL &&
      (self->held->len >= UDP_SEND_BATCH || self->held_bytes->len + len > UDP_SEND_BYTES))
    flush_held (self);
  if (self->held == NULL && self->spare_holds != NULL && self->spare_holds->len > 0)
    {
      SimHeldDatagrams *spare = g_ptr_array_steal_index_fast (self->spare_holds,
                                                              self->spare_holds->len - 1);
      self->held = spare->held;
      self->held_bytes = spare->bytes;
      g_free (spare);
    }
  if (self->held == NULL)
    {
      self->held = g_array_sized_new (FALSE, FALSE, sizeof (HeldDatagram), UDP_SEND_BATCH);
      self->held_bytes = g_byte_array_sized_new (UDP_SEND_BYTES);
    }
  memcpy (&d.to, to, to_len);
  d.offset = self->held_bytes->len;
  g_byte_array_append (self->held_bytes, (const guint8 *) data, len);
  g_array_append_val (self->held, d);
}

void
sim_socket_transport_flush (SimSocketTransport *self)
{
  g_return_if_fail (SIM_IS_SOCKET_TRANSPORT (self));
  flush_held (self);
}

SimHeldDatagrams *
sim_socket_transport_take_held (SimSocketTransport *self)
{
  SimHeldDatagrams *taken;

  g_return_val_if_fail (SIM_IS_SOCKET_TRANSPORT (self), NULL);
  if (self->held == NULL || self->held->len == 0)
    return NULL;
  taken = g_new (SimHeldDatagrams, 1);
  taken->held = g_steal_pointer (&self->held);
  taken->bytes = g_steal_pointer (&self->held_bytes);
  return taken;
}

void
sim_held_datagrams_free (SimHeldDatagrams *held)
{
  if (held == NULL)
    return;
  g_array_unref (held->held);
  g_byte_array_unref (held->bytes);
  g_free (held);
}

void
sim_socket_transport_send_held (SimSocketTransport *self,
                                SimHeldDatagrams   *held)
{
  g_return_if_fail (SIM_IS_SOCKET_TRANSPORT (self));
  if (held == NULL)
    return;
  /* After sim_socket_transport_close() the descriptors are gone (and their numbers may be
   * reused): the answers die with the sockets, as if lost. */
  if (self->listeners != NULL)
    send_datagrams (self, held->held, held->bytes);
  g_array_set_size (held->held, 0);
  g_byte_array_set_size (held->bytes, 0);
  if (self->spare_holds == NULL)
    self->spare_holds = g_ptr_array_new_with_free_func ((GDestroyNotify) sim_held_datagrams_free);
  if (self->spare_holds->len < UDP_SPARE_HOLDS)
    g_ptr_array_add (self->spare_holds, held);
  else
    sim_held_datagrams_free (held);
}

gboolean
sim_socket_transport_in_burst (SimSocketTransport *self)
{
  g_return_val_if_fail (SIM_IS_SOCKET_TRANSPORT (self), FALSE);
  return self->holding;
}

void
sim_socket_transport_set_batch_end_func (SimSocketTransport    *self,
                                         SimTransportBatchFunc  func,
                                         gpointer               user_data)
{
  g_return_if_fail (SIM_IS_SOCKET_TRANSPORT (self));
  self->batch_func = func;
  self->batch_data = user_data;
}

static gboolean
udp_readable_cb (GSocket      *socket,
                 GIOCondition  condition,
                 gpointer      data)
{
  Listener *listener = data;
  SimSocketTransport *self = listener->self;

  g_object_ref (self);
  if (self->udp_buffers == NULL)
    {
      self->udp_buffers = g_malloc (UDP_BATCH * (SIM_TRANSPORT_MAX_MESSAGE + 2));
      self->udp_msgs = g_new0 (struct mmsghdr, UDP_BATCH);
      self->udp_iov = g_new0 (struct iovec, UDP_BATCH);
      self->udp_from = g_new0 (struct sockaddr_storage, UDP_BATCH);
    }
  /* Up to UDP_BURST datagrams per wake-up, UDP_BATCH per system call (recvmmsg(2)).  The
   * UDP answers they cause are held and sent together at the end (flush_held()). */
  self->holding = TRUE;
  for (guint round = 0; round < UDP_BURST / UDP_BATCH && self->listeners != NULL; round++)
    {
      int received;

      for (guint i = 0; i < UDP_BATCH; i++)
        {
          self->udp_iov[i].iov_base = self->udp_buffers + i * (SIM_TRANSPORT_MAX_MESSAGE + 2);
          self->udp_iov[i].iov_len = SIM_TRANSPORT_MAX_MESSAGE + 1;
          memset (&self->udp_msgs[i], 0, sizeof self->udp_msgs[i]);
          self->udp_msgs[i].msg_hdr.msg_name = &self->udp_from[i];
          self->udp_msgs[i].msg_hdr.msg_namelen = sizeof self->udp_from[i];
          self->udp_msgs[i].msg_hdr.msg_iov = &self->udp_iov[i];
          self->udp_msgs[i].msg_hdr.msg_iovlen = 1;
        }
      received = recvmmsg (g_socket_get_fd (socket), self->udp_msgs, UDP_BATCH, MSG_DONTWAIT, NULL);
      if (received <= 0)
        break;      /* would block, or an ICMP error reported on the socket: nothing to read */
      for (int i = 0; i < received && self->listeners != NULL; i++)
        {
          char *text = self->udp_iov[i].iov_base;
          gsize n = self->udp_msgs[i].msg_len;
          SimAddr src;

          if (!udp_source (self, &self->udp_from[i], &src))
            continue;
          if (n > self->max_message)
            {
              g_autofree char *reason =
                g_strdup_printf ("the datagram has %" G_GSIZE_FORMAT " bytes, more than the %"
                                 G_GSIZE_FORMAT " this registrar accepts", n, self->max_message);
              trace_packet (self, "dropped", &src, &listener->addr, FALSE, text, MIN (n, 512),
                            reason);
              continue;
            }
          text[n] = '\0';
          /* A CRLF keep-alive (many phones send one to keep their NAT binding open) is no
           * message. */
          if (strspn (text, "\r\n \t") == n)
            continue;
          trace_packet (self, "delivered", &src, &listener->addr, FALSE, text, n, NULL);
          sim_stack_receive_at (self->stack, &listener->addr, &src, text, n);
        }
      if (received < UDP_BATCH)
        break;      /* drained */
    }
  self->holding = FALSE;
  flush_held (self);
  g_object_unref (self);
  return G_SOURCE_CONTINUE;
}

static Listener *
find_udp_listener (SimSocketTransport *self,
                   const SimAddr      *dst)
{
  gboolean v6 = is_ipv6 (dst);

  for (guint i = 0; i < self->listeners->len; i++)
    {
      Listener *listener = self->listeners->pdata[i];
      if (listener->addr.transport == SIM_TRANSPORT_UDP && is_ipv6 (&listener->addr) == v6)
        return listener;
    }
  return NULL;
}

/* ---------------------------------------------------------------------------------------- */
/* Sending: the stack's send function                                                        */

/* Over the TCP connection to @dst, opened when there is none; over TLS, only an open one. */
static void
send_tcp (SimSocketTransport *self,
          SimStack           *stack,
          const SimAddr      *dst,
          const char         *data,
          gsize               len,
          const char         *action)
{
  g_autofree char *key = peer_key (dst);
  Connection *conn = g_hash_table_lookup (self->connections, key);
  gboolean tls = dst->transport == SIM_TRANSPORT_TLS;

  /* We accept TLS but open none (sim-tls.h): a TLS destination is reached only over the
   * connection it opened to us, as a phone registered over TLS is. */
  if (conn == NULL && !tls)
    conn = connection_open (self, dst);
  if (conn == NULL)
    {
      SimAddr src = *sim_stack_get_local (stack);
      src.transport = dst->transport;
      trace_packet (self, "dropped", &src, dst, TRUE, data, len,
                    tls ? "no TLS connection from the destination is open, and this server "
                          "opens no TLS connections"
                        : "no TCP connection to the destination could be opened");
      sim_stack_transport_error (stack, dst, tls ? "no TLS connection is open to the destination"
                                                 : "no TCP connection could be opened");
      return;
    }
  trace_packet (self, action, &conn->local, dst, TRUE, data, len, NULL);
  /* A message the stack sends is a sign of life (a pong is not: connection_process()). */
  conn->last_activity = g_get_monotonic_time ();
  connection_send (conn, data, len);
}

/* sendto on the non-blocking UDP socket @fd: TRUE when sent, else errno says why (EAGAIN or
 * EWOULDBLOCK: the send buffer is still full). */
static gboolean
udp_sendto (SimSocketTransport            *self,
            int                            fd,
            const char                    *data,
            gsize                          len,
            const struct sockaddr_storage *to,
            socklen_t                      to_len)
{
  gint64 deadline;

  if (sendto (fd, data, len, 0, (const struct sockaddr *) to, to_len) >= 0)
    return TRUE;
  /* A full send buffer (a burst faster than the peers read): wait a little for room.
   * The wait blocks the whole server, so it is bounded twice: SEND_WAIT_MS per datagram,
   * and none at all for SEND_BACKOFF_MS after a wait that ran out (a stalled interface
   * must not cost every datagram a wait); then the datagram is dropped and the
   * retransmission timers cover it, as for any loss. */
  if ((errno != EAGAIN && errno != EWOULDBLOCK) ||
      g_get_monotonic_time () < self->send_backoff_until)
    return FALSE;
  deadline = g_get_monotonic_time () + SEND_WAIT_MS * 1000;
  for (;;)
    {
      struct pollfd pfd = { .fd = fd, .events = POLLOUT };
      gint64 left = (deadline - g_get_monotonic_time () + 999) / 1000;
      int ready = left > 0 ? poll (&pfd, 1, (int) left) : 0;

      if (ready < 0 && errno == EINTR)
        continue;
      if (ready > 0)
        {
          if (sendto (fd, data, len, 0, (const struct sockaddr *) to, to_len) >= 0)
            return TRUE;
          if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
            continue;
        }
      else
        {
          if (ready == 0)
            self->send_backoff_until = g_get_monotonic_time () + SEND_BACKOFF_MS * 1000;
          errno = EAGAIN;
        }
      return FALSE;
    }
}

/* From our UDP listener of @dst's address family. */
static void
send_udp (SimSocketTransport *self,
          SimStack           *stack,
          const SimAddr      *dst,
          const char         *data,
          gsize               len,
          const char         *action)
{
  Listener *listener = find_udp_listener (self, dst);
  g_autoptr(GError) error = NULL;
  struct sockaddr_storage to;
  socklen_t to_len;
  const char *why;

  if (listener == NULL)
    {
      SimAddr src = *sim_stack_get_local (stack);
      trace_packet (self, "dropped", &src, dst, TRUE, data, len,
                    is_ipv6 (dst) ? "no UDP endpoint listens on IPv6" :
                                    "no UDP endpoint listens on IPv4");
      return;
    }
  if (len > self->max_message)
    {
      trace_packet (self, "dropped", &listener->addr, dst, TRUE, data, len,
                    "the message is too large for a datagram");
      return;
    }
  trace_packet (self, action, &listener->addr, dst, TRUE, data, len, NULL);
  if (sockaddr_from_addr (dst, &to, &to_len))
    {
      if (self->holding)
        {
          hold_datagram (self, stack, g_socket_get_fd (listener->socket), &listener->addr, dst,
                         data, len, &to, to_len);
          return;
        }
      if (udp_sendto (self, g_socket_get_fd (listener->socket), data, len, &to, to_len))
        return;
      /* Still full: not fatal, the retransmission timers cover it. */
      if (errno == EAGAIN || errno == EWOULDBLOCK)
        {
          trace_packet (self, "dropped", &listener->addr, dst, TRUE, data, len,
                        "the socket's send buffer is full");
          return;
        }
      why = g_strerror (errno);
    }
  else
    {
      /* Not numeric (a scoped IPv6 address, say): let GIO resolve it. */
      g_autoptr(GSocketAddress) address =
        g_inet_socket_address_new_from_string (dst->ip, dst->port);

      if (address != NULL &&
          g_socket_send_to (listener->socket, address, data, len, NULL, &error) >= 0)
        return;
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        {
          trace_packet (self, "dropped", &listener->addr, dst, TRUE, data, len, error->message);
          return;
        }
      why = error != NULL ? error->message : "not an IP address";
    }
  trace_packet (self, "dropped", &listener->addr, dst, TRUE, data, len, why);
  /* The kernel refused at once (no route, unreachable network): RFC 3261 §18.4. */
  sim_stack_transport_error (stack, dst, why);
}

static void
stack_send_cb (SimStack      *stack,
               const SimAddr *dst,
               const char    *data,
               gsize          len,
               gboolean       retransmission,
               gpointer       user_data)
{
  SimSocketTransport *self = user_data;
  const char *action = retransmission ? "retransmitted" : "sent";

  if (self->listeners == NULL)
    return;
  if (dst->transport == SIM_TRANSPORT_TCP || dst->transport == SIM_TRANSPORT_TLS)
    send_tcp (self, stack, dst, data, len, action);
  else
    send_udp (self, stack, dst, data, len, action);
}

void
sim_socket_transport_send (SimSocketTransport *self,
                           const SimAddr      *dst,
                           const char         *data,
                           gsize               len,
                           gboolean            retransmission)
{
  g_return_if_fail (SIM_IS_SOCKET_TRANSPORT (self));
  g_return_if_fail (dst != NULL && data != NULL);

  if (self->stack != NULL)
    stack_send_cb (self->stack, dst, data, len, retransmission, self);
}

/* ---------------------------------------------------------------------------------------- */

static void
listener_free (Listener *listener)
{
  destroy_source (&listener->source);
  destroy_source (&listener->pause_source);
  g_socket_close (listener->socket, NULL);
  g_object_unref (listener->socket);
  g_free (listener);
}

void
sim_socket_transport_close (SimSocketTransport *self)
{
  g_return_if_fail (SIM_IS_SOCKET_TRANSPORT (self));

  if (self->listeners == NULL)
    return;
  /* Datagrams held for the end of a burst die with their sockets, as if lost. */
  if (self->held != NULL)
    {
      g_array_set_size (self->held, 0);
      g_byte_array_set_size (self->held_bytes, 0);
    }
  g_clear_pointer (&self->listeners, g_ptr_array_unref);
  if (self->connections != NULL)
    {
      GHashTableIter iter;
      Connection *conn;
      g_autoptr(GPtrArray) all = g_ptr_array_new ();

      g_hash_table_iter_init (&iter, self->connections);
      while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &conn))
        g_ptr_array_add (all, conn);
      for (guint i = 0; i < all->len; i++)
        connection_close (all->pdata[i], NULL);
    }
  destroy_source (&self->sweep_source);
  if (self->stack != NULL)
    sim_stack_set_send_func (self->stack, NULL, NULL);
}

static void
sim_socket_transport_dispose (GObject *object)
{
  SimSocketTransport *self = SIM_SOCKET_TRANSPORT (object);

  sim_socket_transport_close (self);
  g_clear_object (&self->stack);
  G_OBJECT_CLASS (sim_socket_transport_parent_class)->dispose (object);
}

static void
sim_socket_transport_finalize (GObject *object)
{
  SimSocketTransport *self = SIM_SOCKET_TRANSPORT (object);

  g_clear_pointer (&self->connections, g_hash_table_unref);
  g_clear_pointer (&self->per_ip, g_hash_table_unref);
  g_clear_pointer (&self->listener_addrs, g_array_unref);
  g_clear_pointer (&self->context, g_main_context_unref);
  g_clear_pointer (&self->tls_context, sim_tls_context_unref);
  g_clear_pointer (&self->plain, g_byte_array_unref);
  g_free (self->buffer);
  g_free (self->udp_buffers);
  g_clear_pointer (&self->held_bytes, g_byte_array_unref);
  g_clear_pointer (&self->held, g_array_unref);
  g_clear_pointer (&self->spare_holds, g_ptr_array_unref);
  g_free (self->udp_msgs);
  g_free (self->udp_iov);
  g_free (self->udp_from);
  G_OBJECT_CLASS (sim_socket_transport_parent_class)->finalize (object);
}

static void
sim_socket_transport_class_init (SimSocketTransportClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = sim_socket_transport_dispose;
  object_class->finalize = sim_socket_transport_finalize;
}

static void
sim_socket_transport_init (SimSocketTransport *self)
{
  self->listeners = g_ptr_array_new_with_free_func ((GDestroyNotify) listener_free);
  self->listener_addrs = g_array_new (FALSE, TRUE, sizeof (SimAddr));
  self->connections = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                             (GDestroyNotify) connection_unref);
  self->per_ip = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->tcp_idle_timeout = SIM_TRANSPORT_TCP_IDLE_TIMEOUT;
  self->tcp_message_timeout = SIM_TRANSPORT_TCP_MESSAGE_TIMEOUT;
  self->tcp_connect_timeout = SIM_TRANSPORT_TCP_CONNECT_TIMEOUT;
  self->tcp_max_connections = SIM_TRANSPORT_TCP_MAX_CONNECTIONS;
  self->tcp_max_per_ip = SIM_TRANSPORT_TCP_MAX_PER_IP;
  self->max_message = SIM_TRANSPORT_MAX_MESSAGE;
  self->priority = G_PRIORITY_DEFAULT;
  self->buffer = g_malloc (SIM_TRANSPORT_MAX_MESSAGE + 2);
  self->plain = g_byte_array_new ();
  self->context = g_main_context_ref_thread_default ();
}

SimSocketTransport *
sim_socket_transport_new (SimStack *stack)
{
  SimSocketTransport *self;

  g_return_val_if_fail (SIM_IS_STACK (stack), NULL);

  self = g_object_new (SIM_TYPE_SOCKET_TRANSPORT, NULL);
  self->stack = g_object_ref (stack);
  /* The stack holds no reference on us: whoever owns both closes us before the stack goes. */
  sim_stack_set_send_func (stack, stack_send_cb, self);
  return self;
}

gboolean
sim_transport_parse_spec (const char  *spec,
                          SimAddr     *addr,
                          GError     **error)
{
  SimTransportKind transport;
  const char *rest;
  g_autoptr(GInetAddress) inet = NULL;

  g_return_val_if_fail (spec != NULL && addr != NULL, FALSE);

  if (g_ascii_strncasecmp (spec, "udp:", 4) == 0)
    transport = SIM_TRANSPORT_UDP;
  else if (g_ascii_strncasecmp (spec, "tcp:", 4) == 0)
    transport = SIM_TRANSPORT_TCP;
  else if (g_ascii_strncasecmp (spec, "tls:", 4) == 0)
    transport = SIM_TRANSPORT_TLS;
  else
    {
      g_set_error (error, SIM_TRANSPORT_ERROR, SIM_TRANSPORT_ERROR_BAD_SPEC,
                   "'%s': expected udp:HOST:PORT, tcp:HOST:PORT or tls:HOST:PORT", spec);
      return FALSE;
    }
  rest = spec + 4;
  addr->transport = transport;
  /* "udp:HOST:0" means any free port; sim_addr_parse() wants 1..65535, so handle 0 here. */
  if (g_str_has_suffix (rest, ":0"))
    {
      g_autofree char *host = g_strndup (rest, strlen (rest) - 2);
      if (!sim_addr_parse (addr, host, 1) || strchr (host, ':') != NULL)
        {
          /* An IPv6 literal must be bracketed: "[::1]:0". */
          if (!(host[0] == '[' && sim_addr_parse (addr, host, 1)))
            goto bad;
        }
      addr->port = 0;
    }
  else if (!sim_addr_parse (addr, rest, 5060) || (strchr (addr->ip, ':') != NULL && rest[0] != '['))
    goto bad;
  inet = g_inet_address_new_from_string (addr->ip);
  if (inet == NULL)
    goto bad;
  addr->transport = transport;
  return TRUE;

bad:
  g_set_error (error, SIM_TRANSPORT_ERROR, SIM_TRANSPORT_ERROR_BAD_SPEC,
               "'%s': HOST must be an IP address (IPv6 in brackets: udp:[::1]:5060) and PORT a "
               "number", spec);
  return FALSE;
}

gboolean
sim_socket_transport_listen_addr (SimSocketTransport  *self,
                                  const SimAddr       *addr,
                                  GError             **error)
{
  g_autoptr(GSocketAddress) address = NULL;
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(GSocket) socket = NULL;
  gboolean udp;
  Listener *listener;

  g_return_val_if_fail (SIM_IS_SOCKET_TRANSPORT (self), FALSE);
  g_return_val_if_fail (self->listeners != NULL, FALSE);

  udp = addr->transport == SIM_TRANSPORT_UDP;
  if (addr->transport == SIM_TRANSPORT_TLS && self->tls_context == NULL)
    {
      g_set_error (error, SIM_TRANSPORT_ERROR, SIM_TRANSPORT_ERROR_NO_CERTIFICATE,
                   "a TLS listener needs a certificate and its key (serve: --cert and --key)");
      return FALSE;
    }
  address = g_inet_socket_address_new_from_string (addr->ip, addr->port);
  if (address == NULL)
    {
      g_set_error (error, SIM_TRANSPORT_ERROR, SIM_TRANSPORT_ERROR_BAD_SPEC,
                   "'%s' is not an IP address", addr->ip);
      return FALSE;
    }
  socket = g_socket_new (g_socket_address_get_family (address),
                         udp ? G_SOCKET_TYPE_DATAGRAM : G_SOCKET_TYPE_STREAM,
                         udp ? G_SOCKET_PROTOCOL_UDP : G_SOCKET_PROTOCOL_TCP, error);
  if (socket == NULL)
    return FALSE;
  /* GLib makes IPv6 sockets dual-stack; we want udp:[::]:5060 and udp:0.0.0.0:5060 to coexist. */
  if (g_socket_address_get_family (address) == G_SOCKET_FAMILY_IPV6)
    g_socket_set_option (socket, IPPROTO_IPV6, IPV6_V6ONLY, 1, NULL);
  g_socket_set_blocking (socket, FALSE);
  /* A burst of phones (a classroom powering up, a benchmark) must not overflow the default
   * ~200 KB receive queue while we work: ask for more (the kernel caps it at rmem_max). */
  if (udp)
    g_socket_set_option (socket, SOL_SOCKET, SO_RCVBUF, UDP_RCVBUF, NULL);
  if (!g_socket_bind (socket, address, !udp, error))
    return FALSE;
  if (!udp)
    {
      g_socket_set_listen_backlog (socket, 128);
      if (!g_socket_listen (socket, error))
        return FALSE;
    }
  listener = g_new0 (Listener, 1);
  listener->self = self;
  listener->socket = g_steal_pointer (&socket);
  bound = g_socket_get_local_address (listener->socket, NULL);
  if (bound == NULL || !addr_from_socket_address (bound, addr->transport, &listener->addr))
    listener->addr = *addr;
  listener->source = attach_source (self, listener->socket, G_IO_IN,
                                    udp ? udp_readable_cb : tcp_accept_cb, listener);
  g_ptr_array_add (self->listeners, listener);
  g_array_append_val (self->listener_addrs, listener->addr);
  /* Every listener is us (RFC 3261 §16.4): for routes, loop detection and the registrar. */
  sim_stack_add_local_addr (self->stack, &listener->addr);

  if (self->listeners->len == 1)
    {
      SimAddr local = listener->addr;
      local.transport = SIM_TRANSPORT_UDP;
      sim_stack_set_local (self->stack, &local);
    }
  return TRUE;
}

gboolean
sim_socket_transport_listen (SimSocketTransport  *self,
                             const char          *spec,
                             GError             **error)
{
  SimAddr addr;

  g_return_val_if_fail (SIM_IS_SOCKET_TRANSPORT (self), FALSE);
  if (!sim_transport_parse_spec (spec, &addr, error))
    return FALSE;
  if (!sim_socket_transport_listen_addr (self, &addr, error))
    {
      g_prefix_error (error, "%s: ", spec);
      return FALSE;
    }
  return TRUE;
}

void
sim_socket_transport_set_priority (SimSocketTransport *self,
                                   int                 priority)
{
  GHashTableIter iter;
  gpointer value;

  g_return_if_fail (SIM_IS_SOCKET_TRANSPORT (self));

  self->priority = priority;
  for (guint i = 0; i < self->listeners->len; i++)
    {
      Listener *listener = self->listeners->pdata[i];

      if (listener->source != NULL)
        g_source_set_priority (listener->source, priority);
    }
  g_hash_table_iter_init (&iter, self->connections);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Connection *conn = value;

      if (conn->in_source != NULL)
        g_source_set_priority (conn->in_source, priority);
      if (conn->out_source != NULL)
        g_source_set_priority (conn->out_source, priority);
    }
}

GArray *
sim_socket_transport_get_listeners (SimSocketTransport *self)
{
  g_return_val_if_fail (SIM_IS_SOCKET_TRANSPORT (self), NULL);
  return self->listener_addrs;
}

void
sim_socket_transport_set_max_message (SimSocketTransport *self,
                                      gsize               max_message)
{
  g_return_if_fail (SIM_IS_SOCKET_TRANSPORT (self));
  self->max_message = CLAMP (max_message, SIM_TRANSPORT_MIN_MAX_MESSAGE, SIM_TRANSPORT_MAX_MESSAGE);
  if (self->connections != NULL)
    {
      GHashTableIter iter;
      Connection *conn;

      g_hash_table_iter_init (&iter, self->connections);
      while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &conn))
        sim_framer_set_max_message (conn->framer, self->max_message);
    }
}

void
sim_socket_transport_set_tcp_idle_timeout (SimSocketTransport *self,
                                           SimTime             timeout)
{
  g_return_if_fail (SIM_IS_SOCKET_TRANSPORT (self));
  g_return_if_fail (timeout > 0);
  self->tcp_idle_timeout = timeout;
  sweep_restart (self);
}

void
sim_socket_transport_set_tcp_message_timeout (SimSocketTransport *self,
                                              SimTime             timeout)
{
  g_return_if_fail (SIM_IS_SOCKET_TRANSPORT (self));
  g_return_if_fail (timeout > 0);
  self->tcp_message_timeout = timeout;
  sweep_restart (self);
}

void
sim_socket_transport_set_tcp_connect_timeout (SimSocketTransport *self,
                                              SimTime             timeout)
{
  g_return_if_fail (SIM_IS_SOCKET_TRANSPORT (self));
  g_return_if_fail (timeout > 0);
  self->tcp_connect_timeout = timeout;
  sweep_restart (self);
}

void
sim_socket_transport_set_tcp_max_connections (SimSocketTransport *self,
                                              guint               max_connections)
{
  g_return_if_fail (SIM_IS_SOCKET_TRANSPORT (self));
  g_return_if_fail (max_connections > 0);
  self->tcp_max_connections = max_connections;
}

guint
sim_socket_transport_get_tcp_max_connections (SimSocketTransport *self)
{
  g_return_val_if_fail (SIM_IS_SOCKET_TRANSPORT (self), 0);
  return effective_max_connections (self);
}

void
sim_socket_transport_set_tcp_max_per_ip (SimSocketTransport *self,
                                         guint               max_per_ip)
{
  g_return_if_fail (SIM_IS_SOCKET_TRANSPORT (self));
  g_return_if_fail (max_per_ip > 0);
  self->tcp_max_per_ip = max_per_ip;
}

gboolean
sim_socket_transport_keep_alive_until (SimSocketTransport *self,
                                       const SimAddr      *peer,
                                       SimTime             until)
{
  Connection *conn;
  g_autofree char *key = NULL;
  SimAddr tcp;

  g_return_val_if_fail (SIM_IS_SOCKET_TRANSPORT (self), FALSE);
  g_return_val_if_fail (peer != NULL, FALSE);

  if ((peer->transport != SIM_TRANSPORT_TCP && peer->transport != SIM_TRANSPORT_TLS) ||
      self->connections == NULL || self->stack == NULL)
    return FALSE;
  tcp = *peer;
  key = peer_key (&tcp);
  conn = g_hash_table_lookup (self->connections, key);
  if (conn == NULL)
    return FALSE;
  /* @until is on the stack's clock (a binding's expiry); the deadlines run on the monotonic
   * clock, so carry over the time left. */
  {
    SimTime left = until - sim_clock_now (sim_stack_get_clock (self->stack));
    conn->keep_until = left > 0 ? g_get_monotonic_time () + left : 0;
    if (left > 0)
      conn->ever_protected = TRUE;
  }
  return TRUE;
}

void
sim_socket_transport_set_name_func (SimSocketTransport   *self,
                                    SimTransportNameFunc  func,
                                    gpointer              user_data)
{
  g_return_if_fail (SIM_IS_SOCKET_TRANSPORT (self));
  self->name_func = func;
  self->name_data = user_data;
}

guint
sim_socket_transport_get_n_connections (SimSocketTransport *self)
{
  g_return_val_if_fail (SIM_IS_SOCKET_TRANSPORT (self), 0);
  return self->connections != NULL ? g_hash_table_size (self->connections) : 0;
}

void
sim_socket_transport_set_tls_context (SimSocketTransport *self,
                                      SimTlsContext      *context)
{
  g_return_if_fail (SIM_IS_SOCKET_TRANSPORT (self));

  if (context != NULL)
    sim_tls_context_ref (context);
  g_clear_pointer (&self->tls_context, sim_tls_context_unref);
  self->tls_context = context;
}

gboolean
sim_socket_transport_load_tls (SimSocketTransport  *self,
                               const char          *cert_file,
                               const char          *key_file,
                               GError             **error)
{
  g_autoptr(SimTlsContext) context = NULL;

  g_return_val_if_fail (SIM_IS_SOCKET_TRANSPORT (self), FALSE);
  context = sim_tls_context_new_server (cert_file, key_file, error);
  if (context == NULL)
    return FALSE;
  sim_socket_transport_set_tls_context (self, context);
  return TRUE;
}
