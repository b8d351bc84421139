/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <gio/gio.h>
#include <string.h>

#include "sim-transport.h"
#include "test-wire.h"

/*
 * SimSocketTransport on the loopback interface: two SimStacks on wall clocks talk over real
 * UDP and TCP sockets, and raw sockets check the stream framing (RFC 3261 §18.3) and the size
 * limit.  Every wait is bounded.
 */

#define WAIT_MS 5000

typedef struct {
  SimClock *clock;
  SimTrace *trace;
  GRand *rand;
  SimStack *server;
  SimStack *client;
  SimSocketTransport *server_transport;
  SimSocketTransport *client_transport;
  SimAddr server_udp;
  SimAddr server_tcp;
  guint n_requests;
  GPtrArray *methods;          /* char*: requests the server saw */
  int last_status;
  guint n_responses;
  SimAddr last_src;
} Fixture;

static void
server_request_cb (SimStack       *stack,
                   SimServerTxn   *txn,
                   osip_message_t *request,
                   const SimAddr  *src,
                   gpointer        user_data)
{
  Fixture *f = user_data;

  f->n_requests++;
  f->last_src = *src;
  g_ptr_array_add (f->methods, g_strdup (request->sip_method));
  if (txn != NULL)
    sim_server_txn_reply (txn, 200, NULL);
}

static void
response_cb (SimStack       *stack,
             SimClientTxn   *txn,
             osip_message_t *response,
             gpointer        user_data)
{
  Fixture *f = user_data;

  if (response->status_code >= 200)
    {
      f->last_status = response->status_code;
      f->n_responses++;
    }
}

static const SimAddr *
listener (SimSocketTransport *transport,
          SimTransportKind    kind)
{
  GArray *addrs = sim_socket_transport_get_listeners (transport);

  for (guint i = 0; i < addrs->len; i++)
    if (g_array_index (addrs, SimAddr, i).transport == kind)
      return &g_array_index (addrs, SimAddr, i);
  return NULL;
}

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  SimAddr local;

  f->clock = sim_clock_new_wall ();
  f->trace = sim_trace_new ();
  f->rand = g_rand_new_with_seed (7);
  f->methods = g_ptr_array_new_with_free_func (g_free);
  sim_addr_init (&local, "127.0.0.1", 0, SIM_TRANSPORT_UDP);
  f->server = sim_stack_new (f->clock, f->trace, f->rand, "registrar", &local);
  f->client = sim_stack_new (f->clock, f->trace, f->rand, "phone", &local);
  sim_stack_set_request_func (f->server, server_request_cb, f);

  f->server_transport = sim_socket_transport_new (f->server);
  f->client_transport = sim_socket_transport_new (f->client);
  g_assert_true (sim_socket_transport_listen (f->server_transport, "udp:127.0.0.1:0", &error));
  g_assert_no_error (error);
  g_assert_true (sim_socket_transport_listen (f->server_transport, "tcp:127.0.0.1:0", &error));
  g_assert_no_error (error);
  g_assert_true (sim_socket_transport_listen (f->client_transport, "udp:127.0.0.1:0", &error));
  g_assert_no_error (error);
  f->server_udp = *listener (f->server_transport, SIM_TRANSPORT_UDP);
  f->server_tcp = *listener (f->server_transport, SIM_TRANSPORT_TCP);
  g_assert_cmpuint (f->server_udp.port, >, 0);
  g_assert_cmpuint (f->server_tcp.port, >, 0);
  /* The first endpoint became the stack's address (Via sent-by). */
  g_assert_cmpuint (sim_stack_get_local (f->server)->port, ==, f->server_udp.port);
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  sim_socket_transport_close (f->client_transport);
  sim_socket_transport_close (f->server_transport);
  g_assert_finalize_object (f->client_transport);
  g_assert_finalize_object (f->server_transport);
  g_clear_object (&f->client);
  g_clear_object (&f->server);
  g_clear_object (&f->trace);
  g_clear_object (&f->clock);
  g_rand_free (f->rand);
  g_ptr_array_unref (f->methods);
}

static gboolean
timeout_cb (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

/* Runs the main loop until *@counter reaches @target or WAIT_MS pass. */
static gboolean
wait_for_count (guint *counter,
                guint  target)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add (WAIT_MS, timeout_cb, &timed_out);

  while (*counter < target && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (!timed_out)
    g_source_remove (id);
  return *counter >= target;
}

/* Spins the main loop for @ms milliseconds. */
static void
spin (guint ms)
{
  gboolean done = FALSE;

  g_timeout_add (ms, timeout_cb, &done);
  while (!done)
    g_main_context_iteration (NULL, TRUE);
}

static guint
count_packets (SimTrace   *trace,
               const char *action,
               const char *from,
               const char *to)
{
  GPtrArray *events = sim_trace_get_events (trace);
  guint n = 0;

  for (guint i = 0; i < events->len; i++)
    {
      SimEvent *event = events->pdata[i];
      if (event->type == SIM_EVENT_PACKET && g_strcmp0 (event->action, action) == 0 &&
          (from == NULL || g_strcmp0 (event->from, from) == 0) &&
          (to == NULL || g_strcmp0 (event->to, to) == 0))
        n++;
    }
  return n;
}

static void
test_udp_round_trip (Fixture       *f,
                     gconstpointer  data)
{
  g_test_summary ("An OPTIONS over UDP reaches the server stack with its real source address "
                  "and the 200 comes back; both directions are traced like SimNet's packets.");

  sim_stack_send_request (f->client, test_options_new ("transport-test", 1), &f->server_udp, NULL, response_cb, f);
  g_assert_true (wait_for_count (&f->n_responses, 1));
  g_assert_cmpint (f->last_status, ==, 200);
  g_assert_cmpuint (f->n_requests, ==, 1);
  g_assert_cmpstr (f->last_src.ip, ==, "127.0.0.1");
  g_assert_cmpint (f->last_src.transport, ==, SIM_TRANSPORT_UDP);
  g_assert_cmpuint (f->last_src.port, ==, listener (f->client_transport, SIM_TRANSPORT_UDP)->port);

  /* Each side traces what it sends and what it receives; the far end is named by ip:port. */
  {
    g_autofree char *phone = sim_addr_to_string (listener (f->client_transport, SIM_TRANSPORT_UDP));
    g_assert_cmpuint (count_packets (f->trace, "delivered", phone, "registrar"), ==, 1);
    g_assert_cmpuint (count_packets (f->trace, "sent", "registrar", phone), ==, 1);
    g_assert_cmpuint (count_packets (f->trace, "sent", "phone", NULL), ==, 1);
  }
}

static const char *
name_alice_cb (const SimAddr *peer,
               gpointer       user_data)
{
  return "alice";
}

static void
test_tcp_round_trip (Fixture       *f,
                     gconstpointer  data)
{
  g_test_summary ("Over TCP the client connects, the server answers over the same connection "
                  "(RFC 3261 §18.2.2), and the stack sees a TCP source address.");

  sim_socket_transport_set_name_func (f->server_transport, name_alice_cb, NULL);
  sim_stack_send_request (f->client, test_options_new ("transport-test", 1), &f->server_tcp, NULL, response_cb, f);
  g_assert_true (wait_for_count (&f->n_responses, 1));
  g_assert_cmpint (f->last_status, ==, 200);
  g_assert_cmpint (f->last_src.transport, ==, SIM_TRANSPORT_TCP);
  g_assert_cmpuint (sim_socket_transport_get_n_connections (f->client_transport), ==, 1);
  g_assert_cmpuint (sim_socket_transport_get_n_connections (f->server_transport), ==, 1);

  /* A second request reuses the connection. */
  sim_stack_send_request (f->client, test_options_new ("transport-test", 2), &f->server_tcp, NULL, response_cb, f);
  g_assert_true (wait_for_count (&f->n_responses, 2));
  g_assert_cmpuint (sim_socket_transport_get_n_connections (f->server_transport), ==, 1);
  g_assert_cmpuint (count_packets (f->trace, "delivered", "alice", "registrar"), ==, 2);
  g_assert_cmpuint (count_packets (f->trace, "sent", "registrar", "alice"), ==, 2);
}

static void
test_ipv6_round_trip (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocket) probe = g_socket_new (G_SOCKET_FAMILY_IPV6, G_SOCKET_TYPE_DATAGRAM,
                                           G_SOCKET_PROTOCOL_UDP, NULL);
  g_autoptr(GSocketAddress) any = g_inet_socket_address_new_from_string ("::1", 0);
  SimAddr server6;

  if (probe == NULL || !g_socket_bind (probe, any, FALSE, NULL))
    {
      g_test_skip ("no IPv6 loopback here");
      return;
    }
  g_assert_true (sim_socket_transport_listen (f->server_transport, "udp:[::1]:0", &error));
  g_assert_no_error (error);
  g_assert_true (sim_socket_transport_listen (f->client_transport, "udp:[::1]:0", &error));
  g_assert_no_error (error);
  g_assert_true (sim_socket_transport_listen (f->server_transport, "tcp:[::1]:0", &error));
  g_assert_no_error (error);

  server6 = g_array_index (sim_socket_transport_get_listeners (f->server_transport), SimAddr, 2);
  g_assert_cmpstr (server6.ip, ==, "::1");
  sim_stack_send_request (f->client, test_options_new ("transport-test", 1), &server6, NULL, response_cb, f);
  g_assert_true (wait_for_count (&f->n_responses, 1));
  g_assert_cmpint (f->last_status, ==, 200);
  g_assert_cmpstr (f->last_src.ip, ==, "::1");

  server6 = g_array_index (sim_socket_transport_get_listeners (f->server_transport), SimAddr, 3);
  g_assert_cmpint (server6.transport, ==, SIM_TRANSPORT_TCP);
  sim_stack_send_request (f->client, test_options_new ("transport-test", 2), &server6, NULL, response_cb, f);
  g_assert_true (wait_for_count (&f->n_responses, 2));
  g_assert_cmpint (f->last_src.transport, ==, SIM_TRANSPORT_TCP);
  g_assert_cmpstr (f->last_src.ip, ==, "::1");
}

/* ---------------------------------------------------------------------------------------- */
/* Raw sockets against the server                                                             */

static GSocket *
raw_connect (const SimAddr *addr)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new_from_string (addr->ip, addr->port);
  GSocket *socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
                                  G_SOCKET_PROTOCOL_TCP, &error);

  g_assert_no_error (error);
  g_assert_true (g_socket_connect (socket, address, NULL, &error));
  g_assert_no_error (error);
  g_socket_set_blocking (socket, FALSE);
  return socket;
}

static void
raw_send (GSocket    *socket,
          const char *text)
{
  g_autoptr(GError) error = NULL;
  gsize len = strlen (text);

  g_assert_cmpint (g_socket_send (socket, text, len, NULL, &error), ==, (gssize) len);
  g_assert_no_error (error);
}

/*
 * Reads what arrives within @ms into @out; returns FALSE if the server closed the connection.
 */
static gboolean
raw_read (GSocket *socket,
          GString *out,
          guint    ms)
{
  gint64 end = g_get_monotonic_time () + ms * 1000;

  while (g_get_monotonic_time () < end)
    {
      char buf[4096];
      g_autoptr(GError) error = NULL;
      gssize n = g_socket_receive (socket, buf, sizeof buf, NULL, &error);

      if (n == 0)
        return FALSE;
      if (n > 0)
        g_string_append_len (out, buf, n);
      else if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        return FALSE;
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
  return TRUE;
}

static char *
raw_request (const char *method,
             guint       n,
             const char *body)
{
  return g_strdup_printf ("%s sip:lab.example SIP/2.0\r\n"
                          "Via: SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bK-raw-%u;rport\r\n"
                          "Max-Forwards: 70\r\n"
                          "From: <sip:alice@lab.example>;tag=r%u\r\n"
                          "To: <sip:lab.example>\r\n"
                          "Call-ID: raw-%u@127.0.0.1\r\n"
                          "CSeq: %u %s\r\n"
                          "Content-Type: text/plain\r\n"
                          "l: %zu\r\n\r\n%s", method, n, n, n, n, method, strlen (body), body);
}

static guint
count_occurrences (const char *haystack,
                   const char *needle)
{
  guint n = 0;

  for (const char *p = strstr (haystack, needle); p != NULL; p = strstr (p + 1, needle))
    n++;
  return n;
}

static void
test_tcp_framing (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(GSocket) socket = raw_connect (&f->server_tcp);
  g_autofree char *one = raw_request ("OPTIONS", 1, "");
  g_autofree char *two = raw_request ("MESSAGE", 2, "hello\r\n\r\nworld");
  g_autofree char *three = raw_request ("OPTIONS", 3, "");
  g_autofree char *both = g_strconcat (one, two, NULL);
  g_autoptr(GString) in = g_string_new (NULL);
  gsize half = strlen (three) / 2;

  g_test_summary ("Messages on a stream end where Content-Length (or 'l') says (RFC 3261 "
                  "§18.3): two in one write, one split over two writes, a body holding a blank "
                  "line, and CRLF keep-alives in between (RFC 5626 §3.5.1).");

  raw_send (socket, both);
  raw_send (socket, "\r\n\r\n");      /* a keep-alive ping: answered with one CRLF */
  {
    g_autofree char *first = g_strndup (three, half);
    raw_send (socket, first);
  }
  g_assert_true (wait_for_count (&f->n_requests, 2));
  raw_send (socket, three + half);
  g_assert_true (wait_for_count (&f->n_requests, 3));
  g_assert_cmpstr (f->methods->pdata[0], ==, "OPTIONS");
  g_assert_cmpstr (f->methods->pdata[1], ==, "MESSAGE");
  g_assert_cmpstr (f->methods->pdata[2], ==, "OPTIONS");
  g_assert_cmpint (f->last_src.transport, ==, SIM_TRANSPORT_TCP);

  /* The three answers come back over this very connection. */
  g_assert_true (raw_read (socket, in, 300));
  g_assert_cmpuint (count_occurrences (in->str, "SIP/2.0 200 OK"), ==, 3);
  g_assert_true (g_str_has_prefix (in->str, "SIP/2.0 200") || g_str_has_prefix (in->str, "\r\n"));
}

static void
test_tcp_garbage_closes (Fixture       *f,
                         gconstpointer  data)
{
  g_autoptr(GSocket) garbage = raw_connect (&f->server_tcp);
  g_autoptr(GSocket) no_length = raw_connect (&f->server_tcp);
  g_autoptr(GString) in = g_string_new (NULL);

  g_test_summary ("A stream that does not carry SIP, or a message without Content-Length, "
                  "cannot be resynchronised: the server drops the connection.");

  raw_send (garbage, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  g_assert_false (raw_read (garbage, in, 2000));

  raw_send (no_length, "OPTIONS sip:lab.example SIP/2.0\r\n"
                       "Via: SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bK-x\r\n"
                       "From: <sip:a@lab.example>;tag=1\r\nTo: <sip:lab.example>\r\n"
                       "Call-ID: nolen\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\n\r\n");
  g_assert_false (raw_read (no_length, in, 2000));
  g_assert_cmpuint (f->n_requests, ==, 0);
  g_assert_cmpuint (sim_socket_transport_get_n_connections (f->server_transport), ==, 0);
}

static void
test_oversized_datagram_dropped (Fixture       *f,
                                 gconstpointer  data)
{
  g_autoptr(GSocket) socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM,
                                            G_SOCKET_PROTOCOL_UDP, NULL);
  g_autoptr(GSocketAddress) dst =
    g_inet_socket_address_new_from_string (f->server_udp.ip, f->server_udp.port);
  g_autoptr(GString) big = g_string_new (NULL);
  g_autofree char *small = NULL;
  g_autoptr(GError) error = NULL;
  guint dropped = 0;

  g_test_summary ("A datagram over the configured maximum is dropped and traced; one under it "
                  "is delivered.");

  sim_socket_transport_set_max_message (f->server_transport, 1000);
  {
    g_autofree char *padding = g_strnfill (1500, 'x');
    g_autofree char *request = raw_request ("MESSAGE", 9, padding);
    g_string_append (big, request);
  }
  g_assert_cmpint (g_socket_send_to (socket, dst, big->str, big->len, NULL, &error), ==,
                   (gssize) big->len);
  small = raw_request ("OPTIONS", 10, "");
  g_assert_cmpint (g_socket_send_to (socket, dst, small, strlen (small), NULL, &error), ==,
                   (gssize) strlen (small));
  g_assert_true (wait_for_count (&f->n_requests, 1));
  spin (100);
  g_assert_cmpuint (f->n_requests, ==, 1);
  g_assert_cmpstr (f->methods->pdata[0], ==, "OPTIONS");
  dropped = count_packets (f->trace, "dropped", NULL, "registrar");
  g_assert_cmpuint (dropped, ==, 1);
}

/* The main context's poll, counting the times GLib's own wake-up eventfd was found readable. */
static guint n_wakeups;

static gboolean
is_eventfd (int fd)
{
  g_autofree char *link = g_strdup_printf ("/proc/self/fd/%d", fd);
  g_autofree char *target = g_file_read_link (link, NULL);

  return target != NULL && strstr (target, "eventfd") != NULL;
}

static gint
counting_poll (GPollFD *fds,
               guint    n_fds,
               gint     timeout)
{
  gint ready = g_poll (fds, n_fds, timeout);

  for (guint i = 0; ready > 0 && i < n_fds; i++)
    if ((fds[i].revents & G_IO_IN) && is_eventfd (fds[i].fd))
      n_wakeups++;
  return ready;
}

static void
test_udp_dispatch_needs_no_wakeup (Fixture       *f,
                                   gconstpointer  data)
{
  g_autoptr(GSocket) socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM,
                                            G_SOCKET_PROTOCOL_UDP, NULL);
  g_autoptr(GSocketAddress) dst =
    g_inet_socket_address_new_from_string (f->server_udp.ip, f->server_udp.port);
  GPollFunc previous = g_main_context_get_poll_func (NULL);

  g_test_summary ("Reading a burst of datagrams leaves the UDP socket in the poll set: GLib "
                  "does not signal its wake-up eventfd around each dispatch (two write(2)s, "
                  "a read(2) and an extra poll(2) per burst under load).");

  if (!g_file_test ("/proc/self/fd", G_FILE_TEST_IS_DIR))
    {
      g_test_skip ("no /proc/self/fd to tell GLib's eventfd from the sockets");
      return;
    }
  /* Setting the sockets up did signal it (adding a descriptor does): that is read first. */
  g_main_context_iteration (NULL, FALSE);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  n_wakeups = 0;
  g_main_context_set_poll_func (NULL, counting_poll);
  for (guint round = 1; round <= 3; round++)
    {
      for (guint i = 0; i < 4; i++)
        {
          g_autofree char *request = raw_request ("OPTIONS", 4 * round + i, "");
          g_assert_cmpint (g_socket_send_to (socket, dst, request, strlen (request), NULL, NULL),
                           ==, (gssize) strlen (request));
        }
      g_assert_true (wait_for_count (&f->n_requests, 4 * round));
      /* A wake-up signalled during the dispatch would be seen by this poll. */
      while (g_main_context_iteration (NULL, FALSE))
        ;
    }
  g_main_context_set_poll_func (NULL, previous);
  g_assert_cmpuint (f->n_requests, ==, 12);
  g_assert_cmpuint (n_wakeups, ==, 0);
}

static void
test_tcp_dispatch_needs_no_wakeup (Fixture       *f,
                                   gconstpointer  data)
{
  g_autoptr(GSocket) socket = raw_connect (&f->server_tcp);
  GPollFunc previous = g_main_context_get_poll_func (NULL);

  g_test_summary ("Reading requests from a TCP connection leaves its socket in the poll set: "
                  "GLib does not signal its wake-up eventfd around each dispatch of a "
                  "connection's source either.");

  if (!g_file_test ("/proc/self/fd", G_FILE_TEST_IS_DIR))
    {
      g_test_skip ("no /proc/self/fd to tell GLib's eventfd from the sockets");
      return;
    }
  /* The first request makes the server accept the connection and attach its source, which
   * does signal the eventfd (adding a descriptor does): that is read before counting. */
  {
    g_autofree char *request = raw_request ("OPTIONS", 1, "");
    raw_send (socket, request);
  }
  g_assert_true (wait_for_count (&f->n_requests, 1));
  while (g_main_context_iteration (NULL, FALSE))
    ;
  n_wakeups = 0;
  g_main_context_set_poll_func (NULL, counting_poll);
  for (guint round = 1; round <= 3; round++)
    {
      for (guint i = 0; i < 4; i++)
        {
          g_autofree char *request = raw_request ("OPTIONS", 1 + 4 * round + i, "");
          raw_send (socket, request);
        }
      g_assert_true (wait_for_count (&f->n_requests, 1 + 4 * round));
      while (g_main_context_iteration (NULL, FALSE))
        ;
    }
  g_main_context_set_poll_func (NULL, previous);
  g_assert_cmpuint (f->n_requests, ==, 13);
  g_assert_cmpuint (n_wakeups, ==, 0);
}

/* A TCP port on the loopback interface that nobody listens on (bound, then released). */
static guint16
closed_tcp_port (void)
{
  g_autoptr(GSocket) socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
                                            G_SOCKET_PROTOCOL_TCP, NULL);
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  guint16 port;

  g_assert_true (g_socket_bind (socket, any, FALSE, NULL));
  bound = g_socket_get_local_address (socket, NULL);
  port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  g_socket_close (socket, NULL);
  return port;
}

static void
test_refused_connect_gives_503 (Fixture       *f,
                                gconstpointer  data)
{
  SimAddr dst;
  gint64 start;
  osip_message_t *invite;

  g_test_summary ("A TCP connect that is refused ends the client transactions to that address "
                  "at once with 503 (RFC 3261 §8.1.3.1, §18.4), not with 408 after 32 s.");

  sim_addr_init (&dst, "127.0.0.1", closed_tcp_port (), SIM_TRANSPORT_TCP);
  start = g_get_monotonic_time ();
  sim_stack_send_request (f->client, test_options_new ("transport-test", 1), &dst, NULL, response_cb, f);
  invite = test_options_new ("transport-test", 2);
  osip_free (invite->sip_method);
  invite->sip_method = osip_strdup ("INVITE");
  osip_free (invite->cseq->method);
  invite->cseq->method = osip_strdup ("INVITE");
  sim_stack_send_request (f->client, invite, &dst, NULL, response_cb, f);
  g_assert_true (wait_for_count (&f->n_responses, 2));
  g_assert_cmpint (f->last_status, ==, 503);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 3 * G_USEC_PER_SEC);
  g_assert_cmpuint (sim_stack_get_n_transactions (f->client), ==, 0);
  g_assert_cmpuint (sim_socket_transport_get_n_connections (f->client_transport), ==, 0);
  /* Nothing more arrives later (no 408 from Timer B/F). */
  spin (100);
  g_assert_cmpuint (f->n_responses, ==, 2);
}

static void
test_bad_spec (void)
{
  const char *bad[] = { "udp:", "sctp:127.0.0.1:5060", "udp:localhost:5060", "tcp:127.0.0.1:x",
                        "udp:::1:5060", "udp:127.0.0.1:70000", "127.0.0.1:5060" };
  SimAddr addr;

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      g_assert_false (sim_transport_parse_spec (bad[i], &addr, &error));
      g_assert_error (error, SIM_TRANSPORT_ERROR, SIM_TRANSPORT_ERROR_BAD_SPEC);
    }
  g_assert_true (sim_transport_parse_spec ("udp:[::1]:5062", &addr, NULL));
  g_assert_cmpstr (addr.ip, ==, "::1");
  g_assert_cmpuint (addr.port, ==, 5062);
  g_assert_true (sim_transport_parse_spec ("TCP:10.0.0.1:5060", &addr, NULL));
  g_assert_cmpint (addr.transport, ==, SIM_TRANSPORT_TCP);
  g_assert_true (sim_transport_parse_spec ("tcp:127.0.0.1:0", &addr, NULL));
  g_assert_cmpuint (addr.port, ==, 0);
  g_assert_true (sim_transport_parse_spec ("udp:[::1]:0", &addr, NULL));
  g_assert_cmpstr (addr.ip, ==, "::1");
}

static gboolean
busy_cb (gpointer data)
{
  guint *left = data;

  return --*left > 0 ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

/* Runs @n iterations of a source that is always ready at G_PRIORITY_DEFAULT_IDLE. */
static void
run_busy (guint n)
{
  guint left = n;

  g_idle_add_full (G_PRIORITY_DEFAULT_IDLE, busy_cb, &left, NULL);
  while (left > 0)
    g_main_context_iteration (NULL, TRUE);
}

static void
test_priority (Fixture       *f,
               gconstpointer  data)
{
  g_test_summary ("Below another source's priority, the sockets are read only when that source "
                  "is idle (a GUI keeps its frames under a flood); at the default priority they "
                  "are read first.");

  /* Below the busy source: the request waits in the socket until the busy source is done. */
  sim_socket_transport_set_priority (f->server_transport, G_PRIORITY_LOW);
  sim_stack_send_request (f->client, test_options_new ("priority-test", 1), &f->server_udp, NULL,
                          response_cb, f);
  run_busy (200);
  g_assert_cmpuint (f->n_requests, ==, 0);
  g_assert_true (wait_for_count (&f->n_requests, 1));

  /* Back at the default: read while the busy source is still ready. */
  sim_socket_transport_set_priority (f->server_transport, G_PRIORITY_DEFAULT);
  sim_stack_send_request (f->client, test_options_new ("priority-test", 2), &f->server_udp, NULL,
                          response_cb, f);
  run_busy (200);
  g_assert_cmpuint (f->n_requests, ==, 2);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  sim_message_init_library ();

  g_test_add_func ("/net/transport/listen-spec-must-be-an-ip-and-port", test_bad_spec);
  g_test_add ("/net/transport/udp-round-trip-keeps-the-source-address", Fixture, NULL,
              fixture_setup, test_udp_round_trip, fixture_teardown);
  g_test_add ("/net/transport/tcp-answers-over-the-same-connection", Fixture, NULL,
              fixture_setup, test_tcp_round_trip, fixture_teardown);
  g_test_add ("/net/transport/ipv6-udp-and-tcp-round-trips", Fixture, NULL,
              fixture_setup, test_ipv6_round_trip, fixture_teardown);
  g_test_add ("/net/transport/tcp-frames-by-content-length", Fixture, NULL,
              fixture_setup, test_tcp_framing, fixture_teardown);
  g_test_add ("/net/transport/tcp-garbage-drops-the-connection", Fixture, NULL,
              fixture_setup, test_tcp_garbage_closes, fixture_teardown);
  g_test_add ("/net/transport/refused-tcp-connect-ends-transactions-with-503", Fixture, NULL,
              fixture_setup, test_refused_connect_gives_503, fixture_teardown);
  g_test_add ("/net/transport/oversized-datagram-is-dropped", Fixture, NULL,
              fixture_setup, test_oversized_datagram_dropped, fixture_teardown);
  g_test_add ("/net/transport/sockets-are-read-at-their-priority", Fixture, NULL,
              fixture_setup, test_priority, fixture_teardown);
  g_test_add ("/net/transport/reading-datagrams-does-not-wake-the-main-context", Fixture, NULL,
              fixture_setup, test_udp_dispatch_needs_no_wakeup, fixture_teardown);
  g_test_add ("/net/transport/reading-a-tcp-connection-does-not-wake-the-main-context", Fixture,
              NULL, fixture_setup, test_tcp_dispatch_needs_no_wakeup, fixture_teardown);
  return g_test_run ();
}
