/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "sim-phone.h"
#include "sim-server.h"
#include "sim-transport.h"
#include "test-wire.h"

/*
 * Hostile TCP peers on the loopback interface (suite 'net'): the test plays the attacker with
 * raw sockets against a SimSocketTransport whose limits are shortened through its API, so
 * every deadline passes in a second or two; generous waits keep it steady on a loaded machine.
 * A well-behaved client is answered throughout.
 */

#define WAIT_MS 10000

typedef struct {
  SimClock *clock;
  SimTrace *trace;
  GRand *rand;
  SimStack *server;
  SimSocketTransport *transport;
  SimAddr tcp4;
  SimAddr tcp6;          /* port 0 when there is no IPv6 loopback */
  guint n_requests;
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
  if (txn != NULL)
    sim_server_txn_reply (txn, 200, NULL);
}

static gboolean
have_ipv6 (void)
{
  g_autoptr(GSocket) probe = g_socket_new (G_SOCKET_FAMILY_IPV6, G_SOCKET_TYPE_STREAM,
                                           G_SOCKET_PROTOCOL_TCP, NULL);
  g_autoptr(GSocketAddress) any = g_inet_socket_address_new_from_string ("::1", 0);

  return probe != NULL && g_socket_bind (probe, any, FALSE, NULL);
}

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  GArray *bound;
  SimAddr local;

  f->clock = sim_clock_new_wall ();
  f->trace = sim_trace_new ();
  f->rand = g_rand_new_with_seed (9);
  sim_addr_init (&local, "127.0.0.1", 0, SIM_TRANSPORT_UDP);
  f->server = sim_stack_new (f->clock, f->trace, f->rand, "registrar", &local);
  sim_stack_set_request_func (f->server, server_request_cb, f);
  f->transport = sim_socket_transport_new (f->server);
  g_assert_true (sim_socket_transport_listen (f->transport, "tcp:127.0.0.1:0", &error));
  g_assert_no_error (error);
  if (have_ipv6 ())
    {
      g_assert_true (sim_socket_transport_listen (f->transport, "tcp:[::1]:0", &error));
      g_assert_no_error (error);
    }
  bound = sim_socket_transport_get_listeners (f->transport);
  f->tcp4 = g_array_index (bound, SimAddr, 0);
  if (bound->len > 1)
    f->tcp6 = g_array_index (bound, SimAddr, 1);
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  sim_socket_transport_close (f->transport);
  g_assert_finalize_object (f->transport);
  g_clear_object (&f->server);
  g_clear_object (&f->trace);
  g_clear_object (&f->clock);
  g_rand_free (f->rand);
}

static gboolean
timeout_cb (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
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

static GSocket *
raw_connect (const SimAddr *addr)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new_from_string (addr->ip, addr->port);
  GSocket *socket = g_socket_new (g_socket_address_get_family (address), G_SOCKET_TYPE_STREAM,
                                  G_SOCKET_PROTOCOL_TCP, &error);

  g_assert_no_error (error);
  g_assert_true (g_socket_connect (socket, address, NULL, &error));
  g_assert_no_error (error);
  g_socket_set_blocking (socket, FALSE);
  return socket;
}

/* Connects from @source_ip (another 127.0.0.x: the whole 127/8 is loopback on Linux). */
static GSocket *
raw_connect_from (const SimAddr *addr,
                  const char    *source_ip)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new_from_string (addr->ip, addr->port);
  g_autoptr(GSocketAddress) source = g_inet_socket_address_new_from_string (source_ip, 0);
  GSocket *socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
                                  G_SOCKET_PROTOCOL_TCP, &error);

  g_assert_no_error (error);
  g_assert_true (g_socket_bind (socket, source, FALSE, &error));
  g_assert_no_error (error);
  g_assert_true (g_socket_connect (socket, address, NULL, &error));
  g_assert_no_error (error);
  g_socket_set_blocking (socket, FALSE);
  return socket;
}

/* The client end's address, which is the server's key for the connection. */
static void
socket_peer (GSocket *socket,
             SimAddr *peer)
{
  g_autoptr(GSocketAddress) local = g_socket_get_local_address (socket, NULL);
  g_autofree char *ip = g_inet_address_to_string (
    g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (local)));

  sim_addr_init (peer, ip, g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local)),
                 SIM_TRANSPORT_TCP);
}

/* Runs the loop until the server holds @n connections (or WAIT_MS pass). */
static void
wait_n_connections (SimSocketTransport *transport,
                    guint               n)
{
  gint64 end = g_get_monotonic_time () + WAIT_MS * 1000;

  while (sim_socket_transport_get_n_connections (transport) != n &&
         g_get_monotonic_time () < end)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
  g_assert_cmpuint (sim_socket_transport_get_n_connections (transport), ==, n);
}

/* Trace notes that contain @text. */
static guint
count_notes (SimTrace   *trace,
             const char *text)
{
  GPtrArray *events = sim_trace_get_events (trace);
  guint notes = 0;

  for (guint i = 0; i < events->len; i++)
    {
      SimEvent *event = events->pdata[i];
      if (event->type == SIM_EVENT_NOTE && event->text != NULL && strstr (event->text, text) != NULL)
        notes++;
    }
  return notes;
}

static void
raw_send_len (GSocket    *socket,
              const char *text,
              gsize       len)
{
  g_autoptr(GError) error = NULL;

  g_assert_cmpint (g_socket_send (socket, text, len, NULL, &error), ==, (gssize) len);
  g_assert_no_error (error);
}

static void
raw_send (GSocket    *socket,
          const char *text)
{
  raw_send_len (socket, text, strlen (text));
}

/* Reads what is there now into @out; FALSE once the server has closed the connection. */
static gboolean
raw_poll (GSocket *socket,
          GString *out)
{
  for (;;)
    {
      char buf[4096];
      g_autoptr(GError) error = NULL;
      gssize n = g_socket_receive (socket, buf, sizeof buf, NULL, &error);

      if (n == 0)
        return FALSE;
      if (n < 0)
        return g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK);
      if (out != NULL)
        g_string_append_len (out, buf, n);
    }
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

/* Runs the loop until @out holds @n answers "SIP/2.0 200" or WAIT_MS pass. */
static gboolean
wait_for_answers (GSocket *socket,
                  GString *out,
                  guint    n)
{
  gint64 end = g_get_monotonic_time () + WAIT_MS * 1000;

  while (g_get_monotonic_time () < end)
    {
      if (!raw_poll (socket, out))
        break;
      if (count_occurrences (out->str, "SIP/2.0 200") >= n)
        return TRUE;
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
  return count_occurrences (out->str, "SIP/2.0 200") >= n;
}

static char *
raw_request (const char *method,
             guint       n,
             const char *body)
{
  return g_strdup_printf ("%s sip:lab.example SIP/2.0\r\n"
                          "Via: SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bK-tcp-%u;rport\r\n"
                          "Max-Forwards: 70\r\n"
                          "From: <sip:alice@lab.example>;tag=t%u\r\n"
                          "To: <sip:lab.example>\r\n"
                          "Call-ID: tcp-%u@127.0.0.1\r\n"
                          "CSeq: %u %s\r\n"
                          "Content-Type: text/plain\r\n"
                          "Content-Length: %zu\r\n\r\n%s", method, n, n, n, n, method,
                          strlen (body), body);
}

/* A well-behaved client: one OPTIONS, its 200 back within WAIT_MS. */
static void
assert_still_served (Fixture       *f,
                     const SimAddr *addr)
{
  static guint serial = 1000;
  g_autoptr(GSocket) socket = raw_connect (addr);
  g_autofree char *request = raw_request ("OPTIONS", serial++, "");
  g_autoptr(GString) in = g_string_new (NULL);

  raw_send (socket, request);
  g_assert_true (wait_for_answers (socket, in, 1));
}

/* ---------------------------------------------------------------------------------------- */

static void
check_split_and_pipelined (Fixture       *f,
                           const SimAddr *addr)
{
  g_autoptr(GSocket) socket = raw_connect (addr);
  g_autoptr(GString) in = g_string_new (NULL);
  g_autofree char *one = raw_request ("OPTIONS", 1, "");
  g_autofree char *two = raw_request ("MESSAGE", 2, "hello\r\n\r\nOPTIONS sip:x SIP/2.0\r\n");
  g_autofree char *three = raw_request ("OPTIONS", 3, "");
  g_autofree char *four = raw_request ("OPTIONS", 4, "");
  g_autofree char *pipelined = g_strconcat (two, "\r\n\r\n", three, "\r\n", four, NULL);

  /* The start line cut at byte 20 ("OPTIONS sip:lab.exam"), a pause, then the rest. */
  raw_send_len (socket, one, 20);
  spin (300);
  g_assert_true (raw_poll (socket, in));
  raw_send (socket, one + 20);
  g_assert_true (wait_for_answers (socket, in, 1));

  /* Three messages and two keep-alives in one write. */
  raw_send (socket, pipelined);
  g_assert_true (wait_for_answers (socket, in, 4));
  g_assert_true (raw_poll (socket, in));
  g_assert_cmpuint (count_occurrences (in->str, "SIP/2.0 200"), ==, 4);
  g_assert_cmpuint (sim_socket_transport_get_n_connections (f->transport), ==, 1);
}

static void
test_split_start_line (Fixture       *f,
                       gconstpointer  data)
{
  g_test_summary ("An OPTIONS whose start line is cut at byte 20, with a pause between the "
                  "writes, is answered and the connection stays; so are pipelined messages in "
                  "one write (IPv4 and IPv6).");

  check_split_and_pipelined (f, &f->tcp4);
  g_assert_cmpuint (f->n_requests, ==, 4);
  if (f->tcp6.port == 0)
    {
      g_test_message ("no IPv6 loopback here: IPv6 part skipped");
      return;
    }
  spin (100);     /* the IPv4 connection is closed by the client and the server sees it */
  check_split_and_pipelined (f, &f->tcp6);
  g_assert_cmpuint (f->n_requests, ==, 8);
}

/* Runs the loop until every socket of @sockets is closed by the server, or @ms pass. */
static guint
wait_all_closed (GPtrArray *sockets,
                 guint      ms)
{
  gint64 end = g_get_monotonic_time () + ms * 1000;
  g_autofree gboolean *closed = g_new0 (gboolean, sockets->len);
  guint n_closed = 0;

  while (n_closed < sockets->len && g_get_monotonic_time () < end)
    {
      for (guint i = 0; i < sockets->len; i++)
        if (!closed[i] && !raw_poll (sockets->pdata[i], NULL))
          {
            closed[i] = TRUE;
            n_closed++;
          }
      g_main_context_iteration (NULL, FALSE);
      g_usleep (2000);
    }
  return n_closed;
}

static void
test_idle_connections_closed (Fixture       *f,
                              gconstpointer  data)
{
  g_autoptr(GPtrArray) idle = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GSocket) good = raw_connect (&f->tcp4);
  g_autoptr(GString) in = g_string_new (NULL);
  const guint n = 200;
  gint64 start;

  g_test_summary ("Two hundred connections that never send a byte are closed after the idle "
                  "timeout, while a client that keeps talking is answered and kept.");

  sim_socket_transport_set_tcp_idle_timeout (f->transport, SIM_SEC (2));
  for (guint i = 0; i < n; i++)
    {
      g_ptr_array_add (idle, raw_connect (&f->tcp4));
      /* Let the server accept as we go: the listen backlog is 128. */
      while (sim_socket_transport_get_n_connections (f->transport) < i + 2)
        g_main_context_iteration (NULL, TRUE);
    }
  start = g_get_monotonic_time ();
  g_assert_cmpuint (sim_socket_transport_get_n_connections (f->transport), ==, n + 1);

  /* The good client speaks every 250 ms for 3.5 s: never idle, always answered. */
  for (guint i = 0; i < 14; i++)
    {
      g_autofree char *request = raw_request ("OPTIONS", i + 1, "");
      raw_send (good, request);
      g_assert_true (wait_for_answers (good, in, i + 1));
      spin (250);
    }
  g_assert_cmpuint (wait_all_closed (idle, WAIT_MS), ==, n);
  /* Not before the timeout. */
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 2 * G_USEC_PER_SEC - 100000);
  g_assert_true (raw_poll (good, in));
  g_assert_cmpuint (sim_socket_transport_get_n_connections (f->transport), ==, 1);
}

static void
test_slow_sender_closed (Fixture       *f,
                         gconstpointer  data)
{
  g_autoptr(GSocket) slow = raw_connect (&f->tcp4);
  g_autofree char *request = raw_request ("OPTIONS", 1, "");
  gint64 start = g_get_monotonic_time ();
  gboolean closed = FALSE;
  gsize sent = 0;

  g_test_summary ("A peer that sends its message one byte at a time (never idle) is closed "
                  "once the message deadline passes, before the message is complete.");

  sim_socket_transport_set_tcp_idle_timeout (f->transport, SIM_SEC (30));
  sim_socket_transport_set_tcp_message_timeout (f->transport, SIM_SEC (2));
  while (!closed && sent < strlen (request) - 1 &&
         g_get_monotonic_time () - start < WAIT_MS * 1000)
    {
      g_autoptr(GError) error = NULL;

      if (g_socket_send (slow, request + sent, 1, NULL, &error) == 1)
        sent++;
      spin (100);
      closed = !raw_poll (slow, NULL);
    }
  g_assert_true (closed);
  g_assert_cmpuint (sent, <, strlen (request) - 1);
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 2 * G_USEC_PER_SEC - 100000);
  g_assert_cmpuint (f->n_requests, ==, 0);
  assert_still_served (f, &f->tcp4);
}

static void
test_truncated_body_closed (Fixture       *f,
                            gconstpointer  data)
{
  g_autoptr(GPtrArray) sockets = g_ptr_array_new_with_free_func (g_object_unref);
  g_autofree char *whole = raw_request ("MESSAGE", 1, "0123456789abcdefghij");
  g_autofree char *done = raw_request ("OPTIONS", 2, "");
  gint64 start;

  g_test_summary ("A message whose body stops short of its Content-Length is closed after the "
                  "message deadline, even after a complete message on the same connection "
                  "(the deadline counts from the unfinished message's start).");

  sim_socket_transport_set_tcp_idle_timeout (f->transport, SIM_SEC (30));
  sim_socket_transport_set_tcp_message_timeout (f->transport, SIM_SEC (1));
  g_ptr_array_add (sockets, raw_connect (&f->tcp4));
  {
    g_autofree char *both = g_strconcat (done, NULL);
    raw_send (sockets->pdata[0], both);
  }
  raw_send_len (sockets->pdata[0], whole, strlen (whole) - 5);
  start = g_get_monotonic_time ();
  g_assert_cmpuint (wait_all_closed (sockets, WAIT_MS), ==, 1);
  g_assert_cmpint (g_get_monotonic_time () - start, >=, G_USEC_PER_SEC - 100000);
  g_assert_cmpuint (f->n_requests, ==, 1);
  assert_still_served (f, &f->tcp4);
}

static void
test_per_ip_cap (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(GPtrArray) kept = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GPtrArray) extra = g_ptr_array_new_with_free_func (g_object_unref);

  g_test_summary ("Beyond the per-IP cap, when every connection of that address carries a "
                  "live registration, a new connection is closed at once and traced; the "
                  "connections within it are served, and so is another address.  The total "
                  "cap applies across addresses.");

  sim_trace_set_keep (f->trace, TRUE);
  sim_socket_transport_set_tcp_max_per_ip (f->transport, 3);
  for (guint i = 0; i < 3; i++)
    {
      SimAddr peer;

      g_ptr_array_add (kept, raw_connect (&f->tcp4));
      wait_n_connections (f->transport, i + 1);
      socket_peer (kept->pdata[i], &peer);
      g_assert_true (sim_socket_transport_keep_alive_until (f->transport, &peer,
                                                            sim_clock_now (f->clock) +
                                                            SIM_SEC (60)));
    }
  g_ptr_array_add (extra, raw_connect (&f->tcp4));
  g_ptr_array_add (extra, raw_connect (&f->tcp4));
  g_assert_cmpuint (wait_all_closed (extra, WAIT_MS), ==, 2);
  g_assert_cmpuint (sim_socket_transport_get_n_connections (f->transport), ==, 3);
  g_assert_cmpuint (count_notes (f->trace, "the limit per address"), ==, 2);
  for (guint i = 0; i < kept->len; i++)
    {
      g_autofree char *request = raw_request ("OPTIONS", i + 1, "");
      g_autoptr(GString) in = g_string_new (NULL);

      raw_send (kept->pdata[i], request);
      g_assert_true (wait_for_answers (kept->pdata[i], in, 1));
    }

  /* Another address is not held back by the first one's cap, but by the total. */
  if (f->tcp6.port != 0)
    {
      g_autoptr(GPtrArray) over = g_ptr_array_new_with_free_func (g_object_unref);
      SimAddr peer;

      sim_socket_transport_set_tcp_max_connections (f->transport, 4);
      g_assert_cmpuint (sim_socket_transport_get_tcp_max_connections (f->transport), ==, 4);
      assert_still_served (f, &f->tcp6);
      spin (100);
      g_ptr_array_add (kept, raw_connect (&f->tcp6));
      wait_n_connections (f->transport, 4);
      socket_peer (kept->pdata[3], &peer);
      g_assert_true (sim_socket_transport_keep_alive_until (f->transport, &peer,
                                                            sim_clock_now (f->clock) +
                                                            SIM_SEC (60)));
      g_ptr_array_add (over, raw_connect (&f->tcp6));
      g_assert_cmpuint (wait_all_closed (over, WAIT_MS), ==, 1);
      g_assert_cmpuint (sim_socket_transport_get_n_connections (f->transport), ==, 4);
    }
}

static void
test_per_ip_cap_evicts_oldest (Fixture       *f,
                               gconstpointer  data)
{
  g_autoptr(GPtrArray) sockets = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GPtrArray) oldest = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GString) in = g_string_new (NULL);
  g_autofree char *request = raw_request ("OPTIONS", 1, "");

  g_test_summary ("At the per-IP cap a new connection from that address is accepted and the "
                  "address's least recently active connection without a live registration is "
                  "closed instead (traced); a connection that just sent a message is kept.");

  sim_trace_set_keep (f->trace, TRUE);
  sim_socket_transport_set_tcp_max_per_ip (f->transport, 3);
  /* Another address's older connection is no candidate. */
  g_ptr_array_add (sockets, raw_connect_from (&f->tcp4, "127.0.0.2"));
  wait_n_connections (f->transport, 1);
  g_ptr_array_add (oldest, raw_connect (&f->tcp4));
  wait_n_connections (f->transport, 2);
  for (guint i = 0; i < 2; i++)
    {
      g_ptr_array_add (sockets, raw_connect (&f->tcp4));
      wait_n_connections (f->transport, i + 3);
    }
  /* The oldest of 127.0.0.1 speaks last: the second becomes the least recently active. */
  raw_send (oldest->pdata[0], request);
  g_assert_true (wait_for_answers (oldest->pdata[0], in, 1));
  g_ptr_array_add (sockets, raw_connect (&f->tcp4));
  {
    g_autoptr(GPtrArray) second = g_ptr_array_new_with_free_func (g_object_unref);

    g_ptr_array_add (second, g_object_ref (sockets->pdata[1]));
    g_assert_cmpuint (wait_all_closed (second, WAIT_MS), ==, 1);
  }
  g_assert_cmpuint (count_notes (f->trace, "the limit per address, and this one, the least "
                                 "recently active, carries no registration"), ==, 1);
  wait_n_connections (f->transport, 4);
  g_assert_true (raw_poll (oldest->pdata[0], in));
  g_assert_true (raw_poll (sockets->pdata[0], NULL));
  g_assert_true (raw_poll (sockets->pdata[2], NULL));
  {
    g_autofree char *two = raw_request ("OPTIONS", 2, "");
    g_autoptr(GString) answer = g_string_new (NULL);

    raw_send (sockets->pdata[3], two);
    g_assert_true (wait_for_answers (sockets->pdata[3], answer, 1));
  }
}

/* Sends without asserting: the server may have closed the connection. */
static void
try_send (GSocket    *socket,
          const char *text)
{
  g_autoptr(GError) error = NULL;

  g_socket_send (socket, text, strlen (text), NULL, &error);
}

static void
test_crlf_pings_keep_only_protected (Fixture       *f,
                                     gconstpointer  data)
{
  g_autoptr(GSocket) flow = raw_connect (&f->tcp4);
  g_autoptr(GSocket) stranger = raw_connect (&f->tcp4);
  g_autoptr(GString) flow_in = g_string_new (NULL);
  g_autoptr(GString) stranger_in = g_string_new (NULL);
  g_autofree char *one = raw_request ("OPTIONS", 1, "");
  g_autofree char *two = raw_request ("OPTIONS", 2, "");
  gboolean stranger_closed = FALSE;
  gint64 start, closed_at = 0;
  SimAddr peer;

  g_test_summary ("CRLF keep-alive pings (RFC 5626) every 200 ms do not keep a connection "
                  "without a live registration past the idle timeout (only complete messages "
                  "count there), while the flow of a live registration pinging alike stays.");

  sim_socket_transport_set_tcp_idle_timeout (f->transport, SIM_SEC (1));
  raw_send (flow, one);
  raw_send (stranger, two);
  g_assert_true (wait_for_answers (flow, flow_in, 1));
  g_assert_true (wait_for_answers (stranger, stranger_in, 1));
  start = g_get_monotonic_time ();
  socket_peer (flow, &peer);
  g_assert_true (sim_socket_transport_keep_alive_until (f->transport, &peer,
                                                        sim_clock_now (f->clock) + SIM_SEC (60)));
  g_string_truncate (flow_in, 0);
  while (g_get_monotonic_time () - start < 4 * G_USEC_PER_SEC)
    {
      try_send (flow, "\r\n\r\n");
      if (!stranger_closed)
        try_send (stranger, "\r\n\r\n");
      spin (200);
      g_assert_true (raw_poll (flow, flow_in));
      if (!stranger_closed && !raw_poll (stranger, NULL))
        {
          stranger_closed = TRUE;
          closed_at = g_get_monotonic_time ();
        }
    }
  g_assert_true (stranger_closed);
  g_assert_cmpint (closed_at - start, >=, G_USEC_PER_SEC - 100000);
  /* The protected flow got its pongs and is still open and served. */
  g_assert_cmpuint (count_occurrences (flow_in->str, "\r\n"), >=, 10);
  g_assert_true (raw_poll (flow, flow_in));
  g_assert_cmpuint (sim_socket_transport_get_n_connections (f->transport), ==, 1);
  {
    g_autofree char *three = raw_request ("OPTIONS", 3, "");

    raw_send (flow, three);
    g_assert_true (wait_for_answers (flow, flow_in, 1));
  }
}

static void
test_unregistered_lifetime (Fixture       *f,
                            gconstpointer  data)
{
  g_autoptr(GSocket) busy = raw_connect (&f->tcp4);
  g_autoptr(GString) in = g_string_new (NULL);
  gint64 start = g_get_monotonic_time ();
  gint64 closed_at = 0;
  guint n = 0;

  g_test_summary ("A connection that never carries a registration is closed "
                  "SIM_TRANSPORT_TCP_UNREGISTERED_LIFETIME idle timeouts after it opened, "
                  "however often it sends complete messages (an OPTIONS every 100 ms).");

  sim_trace_set_keep (f->trace, TRUE);
  sim_socket_transport_set_tcp_idle_timeout (f->transport, SIM_MSEC (500));
  while (closed_at == 0 && g_get_monotonic_time () - start < 30 * G_USEC_PER_SEC)
    {
      g_autofree char *request = raw_request ("OPTIONS", ++n, "");

      try_send (busy, request);
      spin (100);
      if (!raw_poll (busy, in))
        closed_at = g_get_monotonic_time ();
    }
  g_assert_cmpint (closed_at, !=, 0);
  g_assert_cmpint (closed_at - start, >=,
                   SIM_TRANSPORT_TCP_UNREGISTERED_LIFETIME * SIM_MSEC (500) - 100000);
  g_assert_cmpuint (count_notes (f->trace, "without ever carrying a registration"), ==, 1);
  assert_still_served (f, &f->tcp4);
}

static void
test_keep_alive_until (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(GPtrArray) flow = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GPtrArray) stranger = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GSocketAddress) local = NULL;
  g_autofree char *request = raw_request ("OPTIONS", 1, "");
  g_autoptr(GString) in = g_string_new (NULL);
  SimAddr peer;
  gint64 start;

  g_test_summary ("A connection the server exempts (the flow of a live registration) outlives "
                  "the idle timeout until the given time, then idles out like any other.");

  sim_socket_transport_set_tcp_idle_timeout (f->transport, SIM_SEC (1));
  g_ptr_array_add (flow, raw_connect (&f->tcp4));
  g_ptr_array_add (stranger, raw_connect (&f->tcp4));
  raw_send (flow->pdata[0], request);
  g_assert_true (wait_for_answers (flow->pdata[0], in, 1));
  local = g_socket_get_local_address (flow->pdata[0], NULL);
  {
    g_autofree char *ip = g_inet_address_to_string (
      g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (local)));
    sim_addr_init (&peer, ip, g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local)),
                   SIM_TRANSPORT_TCP);
  }
  start = g_get_monotonic_time ();
  g_assert_true (sim_socket_transport_keep_alive_until (f->transport, &peer,
                                                        sim_clock_now (f->clock) + SIM_SEC (3)));
  g_assert_cmpuint (wait_all_closed (stranger, WAIT_MS), ==, 1);
  spin (1000);
  g_assert_true (raw_poll (flow->pdata[0], in));
  g_assert_cmpuint (wait_all_closed (flow, WAIT_MS), ==, 1);
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 3 * G_USEC_PER_SEC - 100000);
}

/* ---------------------------------------------------------------------------------------- */
/* Outbound connects                                                                          */

typedef struct {
  guint n;
  int status;
} Answers;

static void
response_cb (SimStack       *stack,
             SimClientTxn   *txn,
             osip_message_t *response,
             gpointer        user_data)
{
  Answers *answers = user_data;

  if (response->status_code >= 200)
    {
      answers->status = response->status_code;
      answers->n++;
    }
}

static void
test_connect_timeout (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocket) full = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
                                          G_SOCKET_PROTOCOL_TCP, NULL);
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(GSocket) filler = NULL;
  Answers answers = { 0, };
  SimAddr dst;
  gint64 start;

  g_test_summary ("A TCP connect that never completes (a listener whose backlog is full drops "
                  "the SYNs) is abandoned after the connect timeout and its transaction ends "
                  "with 503 (RFC 3261 §18.4), not 408 after 32 s.");

  /* Backlog 0 holds one connection; nobody accepts, so the next SYNs go unanswered. */
  g_socket_set_listen_backlog (full, 0);
  g_assert_true (g_socket_bind (full, any, FALSE, &error));
  g_assert_true (g_socket_listen (full, &error));
  g_assert_no_error (error);
  bound = g_socket_get_local_address (full, NULL);
  sim_addr_init (&dst, "127.0.0.1",
                 g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound)),
                 SIM_TRANSPORT_TCP);
  filler = raw_connect (&dst);

  sim_socket_transport_set_tcp_connect_timeout (f->transport, SIM_SEC (1));
  start = g_get_monotonic_time ();
  sim_stack_send_request (f->server, test_options_new ("tcp-connect", 1), &dst, NULL, response_cb, &answers);
  while (answers.n == 0 && g_get_monotonic_time () - start < WAIT_MS * 1000)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpuint (answers.n, ==, 1);
  g_assert_cmpint (answers.status, ==, 503);
  g_assert_cmpint (g_get_monotonic_time () - start, >=, G_USEC_PER_SEC - 100000);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 8 * G_USEC_PER_SEC);
  g_assert_cmpuint (sim_socket_transport_get_n_connections (f->transport), ==, 0);
  g_assert_cmpuint (sim_stack_get_n_transactions (f->server), ==, 0);
}

/* ---------------------------------------------------------------------------------------- */
/* Out of descriptors                                                                         */

static double
cpu_seconds (void)
{
  struct rusage usage;

  getrusage (RUSAGE_SELF, &usage);
  return usage.ru_utime.tv_sec + usage.ru_utime.tv_usec / 1e6 +
         usage.ru_stime.tv_sec + usage.ru_stime.tv_usec / 1e6;
}

static void
emfile_child (void)
{
  Fixture fixture = { NULL, };
  Fixture *f = &fixture;
  g_autoptr(GPtrArray) clients = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GArray) junk = g_array_new (FALSE, FALSE, sizeof (int));
  g_autoptr(GSocketAddress) address = NULL;
  struct rlimit limit;
  double cpu;
  const guint n = 5;

  g_assert_cmpint (getrlimit (RLIMIT_NOFILE, &limit), ==, 0);
  limit.rlim_cur = 256;
  g_assert_cmpint (setrlimit (RLIMIT_NOFILE, &limit), ==, 0);
  fixture_setup (f, NULL);
  /* The cap in force stays below the descriptor limit. */
  g_assert_cmpuint (sim_socket_transport_get_tcp_max_connections (f->transport), ==,
                    256 - SIM_TRANSPORT_FD_RESERVE);

  address = g_inet_socket_address_new_from_string (f->tcp4.ip, f->tcp4.port);
  for (guint i = 0; i < n; i++)
    g_ptr_array_add (clients, g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
                                            G_SOCKET_PROTOCOL_TCP, NULL));
  /* Every other descriptor taken: the server's accept() now fails with EMFILE. */
  for (;;)
    {
      int fd = open ("/dev/null", O_RDONLY | O_CLOEXEC);
      if (fd < 0)
        {
          g_assert_cmpint (errno, ==, EMFILE);
          break;
        }
      g_array_append_val (junk, fd);
    }
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *request = raw_request ("OPTIONS", i + 1, "");

      /* The kernel completes the handshake from its backlog, no descriptor needed. */
      g_assert_true (g_socket_connect (clients->pdata[i], address, NULL, &error));
      g_assert_no_error (error);
      g_socket_set_blocking (clients->pdata[i], FALSE);
      raw_send (clients->pdata[i], request);
    }

  cpu = cpu_seconds ();
  spin (2000);
  cpu = cpu_seconds () - cpu;
  g_test_message ("CPU while out of descriptors: %.3f s in 2 s", cpu);
  g_assert_cmpfloat (cpu, <, 0.5);
  g_assert_cmpuint (sim_socket_transport_get_n_connections (f->transport), ==, 0);

  /* Descriptors free again: the backlog is served. */
  for (guint i = 0; i < junk->len; i++)
    close (g_array_index (junk, int, i));
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(GString) in = g_string_new (NULL);
      g_assert_true (wait_for_answers (clients->pdata[i], in, 1));
    }
  g_assert_cmpuint (f->n_requests, ==, n);
  g_ptr_array_set_size (clients, 0);
  fixture_teardown (f, NULL);
}

static void
test_emfile_pauses_accepting (void)
{
  g_test_summary ("With every descriptor in use accept() fails with EMFILE: the server pauses "
                  "accepting instead of spinning (low CPU), and serves the waiting connections "
                  "once descriptors are free.  Runs in a child with RLIMIT_NOFILE lowered.");

  if (g_test_subprocess ())
    {
      emfile_child ();
      return;
    }
  g_test_trap_subprocess (NULL, 60 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();
}

/* ---------------------------------------------------------------------------------------- */
/* The server keeps a registered phone's flow                                                 */

static gboolean
phone_settled (SimPhone *phone)
{
  SimRegState state = sim_phone_get_reg_state (phone);
  return state == SIM_REG_REGISTERED || state == SIM_REG_FAILED || state == SIM_REG_IDLE;
}

static void
wait_phone (SimPhone *phone)
{
  gint64 end = g_get_monotonic_time () + WAIT_MS * 1000;

  spin (20);
  while (!phone_settled (phone) && g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, TRUE);
}

static void
test_server_keeps_registered_flow (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("siplab-tcp-XXXXXX", &error);
  g_autofree char *users = g_build_filename (dir, "users.txt", NULL);
  g_autoptr(SimServer) server = NULL;
  g_autoptr(SimClock) clock = sim_clock_new_wall ();
  g_autoptr(SimTrace) trace = sim_trace_new ();
  g_autoptr(GPtrArray) stranger = g_ptr_array_new_with_free_func (g_object_unref);
  GRand *rand = g_rand_new_with_seed (5);
  SimSocketTransport *transport;
  SimSocketTransport *phone_transport;
  SimStack *phone_stack;
  SimPhone *phone;
  SimAddr tcp, local;

  g_test_summary ("SimServer exempts the TCP connection a REGISTER came in on from the idle "
                  "timeout while the binding lives (phones keep TCP open quietly between "
                  "refreshes); after an unregister it idles out.");

  g_assert_true (g_file_set_contents (users, "alice:alicepw\n", -1, &error));
  server = sim_server_new ("lab.example", NULL, &error);
  g_assert_no_error (error);
  g_assert_true (sim_server_load_users (server, users, FALSE, &error));
  g_assert_no_error (error);
  g_assert_true (sim_server_listen (server, "tcp:127.0.0.1:0", &error));
  g_assert_no_error (error);
  transport = sim_server_get_transport (server);
  sim_socket_transport_set_tcp_idle_timeout (transport, SIM_SEC (1));
  tcp = g_array_index (sim_socket_transport_get_listeners (transport), SimAddr, 0);

  sim_addr_init (&local, "127.0.0.1", 0, SIM_TRANSPORT_UDP);
  phone_stack = sim_stack_new (clock, trace, rand, "alice-phone", &local);
  phone_transport = sim_socket_transport_new (phone_stack);
  g_assert_true (sim_socket_transport_listen (phone_transport, "udp:127.0.0.1:0", &error));
  phone = sim_phone_new (phone_stack, "alice", "alice-phone", "lab.example", "alicepw", "Alice");
  sim_phone_set_outbound (phone, &tcp);
  g_assert_true (sim_phone_register (phone, 600, &error));
  wait_phone (phone);
  g_assert_cmpint (sim_phone_get_reg_state (phone), ==, SIM_REG_REGISTERED);

  /* A stranger's silent connection idles out; the phone's flow stays well past the timeout. */
  g_ptr_array_add (stranger, raw_connect (&tcp));
  g_assert_cmpuint (wait_all_closed (stranger, WAIT_MS), ==, 1);
  spin (1500);
  g_assert_cmpuint (sim_socket_transport_get_n_connections (transport), ==, 1);
  g_assert_cmpuint (sim_socket_transport_get_n_connections (phone_transport), ==, 1);

  /* Unregistered: the binding is gone, so is the exemption. */
  g_assert_true (sim_phone_register (phone, 0, &error));
  wait_phone (phone);
  {
    gint64 end = g_get_monotonic_time () + WAIT_MS * 1000;
    while (sim_socket_transport_get_n_connections (transport) > 0 &&
           g_get_monotonic_time () < end)
      g_main_context_iteration (NULL, TRUE);
  }
  g_assert_cmpuint (sim_socket_transport_get_n_connections (transport), ==, 0);

  sim_phone_set_powered (phone, FALSE);
  g_object_unref (phone);
  sim_socket_transport_close (phone_transport);
  g_object_unref (phone_transport);
  g_object_unref (phone_stack);
  sim_server_stop (server);
  g_rand_free (rand);
  g_unlink (users);
  g_rmdir (dir);
}

static void
test_strangers_do_not_lock_out_a_phone (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("siplab-tcp-XXXXXX", &error);
  g_autofree char *users = g_build_filename (dir, "users.txt", NULL);
  g_autoptr(SimServer) server = NULL;
  g_autoptr(SimClock) clock = sim_clock_new_wall ();
  g_autoptr(SimTrace) trace = sim_trace_new ();
  g_autoptr(GPtrArray) strangers = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GPtrArray) oldest = g_ptr_array_new_with_free_func (g_object_unref);
  GRand *rand = g_rand_new_with_seed (5);
  SimSocketTransport *transport;
  SimSocketTransport *phone_transport;
  SimStack *phone_stack;
  SimPhone *phone;
  SimAddr tcp, local;
  const guint n_addresses = 4, per_ip = 2;

  g_test_summary ("Strangers that fill the total TCP cap from several source addresses "
                  "(127.0.0.2-5, each at its per-IP cap) without authenticating do not lock out "
                  "a new phone: it connects and registers, and the least recently active "
                  "stranger connection is closed (traced).  The phone's flow, now a live "
                  "binding's, is not the one evicted by the next stranger.");

  g_assert_true (g_file_set_contents (users, "alice:alicepw\n", -1, &error));
  server = sim_server_new ("lab.example", NULL, &error);
  g_assert_no_error (error);
  g_assert_true (sim_server_load_users (server, users, FALSE, &error));
  g_assert_no_error (error);
  g_assert_true (sim_server_listen (server, "tcp:127.0.0.1:0", &error));
  g_assert_no_error (error);
  sim_trace_set_keep (sim_server_get_trace (server), TRUE);
  transport = sim_server_get_transport (server);
  sim_socket_transport_set_tcp_max_connections (transport, n_addresses * per_ip);
  sim_socket_transport_set_tcp_max_per_ip (transport, per_ip);
  tcp = g_array_index (sim_socket_transport_get_listeners (transport), SimAddr, 0);

  for (guint i = 0; i < n_addresses * per_ip; i++)
    {
      g_autofree char *source = g_strdup_printf ("127.0.0.%u", 2 + i / per_ip);

      g_ptr_array_add (i == 0 ? oldest : strangers, raw_connect_from (&tcp, source));
      wait_n_connections (transport, i + 1);
      g_usleep (2000);
    }

  sim_addr_init (&local, "127.0.0.1", 0, SIM_TRANSPORT_UDP);
  phone_stack = sim_stack_new (clock, trace, rand, "alice-phone", &local);
  phone_transport = sim_socket_transport_new (phone_stack);
  g_assert_true (sim_socket_transport_listen (phone_transport, "udp:127.0.0.1:0", &error));
  phone = sim_phone_new (phone_stack, "alice", "alice-phone", "lab.example", "alicepw", "Alice");
  sim_phone_set_outbound (phone, &tcp);
  g_assert_true (sim_phone_register (phone, 600, &error));
  wait_phone (phone);
  g_assert_cmpint (sim_phone_get_reg_state (phone), ==, SIM_REG_REGISTERED);
  g_assert_cmpuint (wait_all_closed (oldest, WAIT_MS), ==, 1);
  g_assert_cmpuint (count_notes (sim_server_get_trace (server),
                                 "connections are open, the limit, and this one, the least "
                                 "recently active, carries no registration"), ==, 1);
  for (guint i = 0; i < strangers->len; i++)
    g_assert_true (raw_poll (strangers->pdata[i], NULL));
  g_assert_cmpuint (sim_socket_transport_get_n_connections (transport), ==, n_addresses * per_ip);

  /* One more stranger: another stranger makes room, not the registered phone. */
  {
    g_autoptr(GPtrArray) next = g_ptr_array_new_with_free_func (g_object_unref);

    g_ptr_array_add (strangers, raw_connect_from (&tcp, "127.0.0.6"));
    g_ptr_array_add (next, g_object_ref (strangers->pdata[0]));
    g_assert_cmpuint (wait_all_closed (next, WAIT_MS), ==, 1);
  }
  spin (100);
  g_assert_cmpuint (sim_socket_transport_get_n_connections (phone_transport), ==, 1);
  g_assert_true (sim_phone_register (phone, 600, &error));
  wait_phone (phone);
  g_assert_cmpint (sim_phone_get_reg_state (phone), ==, SIM_REG_REGISTERED);

  sim_phone_set_powered (phone, FALSE);
  g_object_unref (phone);
  sim_socket_transport_close (phone_transport);
  g_object_unref (phone_transport);
  g_object_unref (phone_stack);
  sim_server_stop (server);
  g_rand_free (rand);
  g_unlink (users);
  g_rmdir (dir);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  sim_message_init_library ();

  g_test_add ("/net/tcp/split-start-line-and-pipelined-messages-are-served", Fixture, NULL,
              fixture_setup, test_split_start_line, fixture_teardown);
  g_test_add ("/net/tcp/idle-connections-are-closed", Fixture, NULL,
              fixture_setup, test_idle_connections_closed, fixture_teardown);
  g_test_add ("/net/tcp/one-byte-at-a-time-sender-is-closed", Fixture, NULL,
              fixture_setup, test_slow_sender_closed, fixture_teardown);
  g_test_add ("/net/tcp/truncated-body-is-closed", Fixture, NULL,
              fixture_setup, test_truncated_body_closed, fixture_teardown);
  g_test_add ("/net/tcp/per-ip-and-total-caps", Fixture, NULL,
              fixture_setup, test_per_ip_cap, fixture_teardown);
  g_test_add ("/net/tcp/per-ip-cap-evicts-the-oldest-unprotected-connection", Fixture, NULL,
              fixture_setup, test_per_ip_cap_evicts_oldest, fixture_teardown);
  g_test_add ("/net/tcp/crlf-pings-keep-only-a-registered-flow-alive", Fixture, NULL,
              fixture_setup, test_crlf_pings_keep_only_protected, fixture_teardown);
  g_test_add ("/net/tcp/a-connection-never-registered-has-a-lifetime", Fixture, NULL,
              fixture_setup, test_unregistered_lifetime, fixture_teardown);
  g_test_add ("/net/tcp/keep-alive-until-exempts-from-idle-timeout", Fixture, NULL,
              fixture_setup, test_keep_alive_until, fixture_teardown);
  g_test_add ("/net/tcp/connect-that-never-completes-gives-503", Fixture, NULL,
              fixture_setup, test_connect_timeout, fixture_teardown);
  g_test_add_func ("/net/tcp/out-of-descriptors-pauses-accepting", test_emfile_pauses_accepting);
  g_test_add_func ("/net/tcp/server-keeps-a-registered-phones-flow",
                   test_server_keeps_registered_flow);
  g_test_add_func ("/net/tcp/strangers-at-the-total-cap-do-not-lock-out-a-phone",
                   test_strangers_do_not_lock_out_a_phone);
  return g_test_run ();
}
