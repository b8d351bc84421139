/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>

#include "sim-server.h"

/*
 * SimProxy on real sockets, played against by a stranger on the loopback interface: raw UDP
 * and TCP clients over IPv4 and IPv6 that write SIP text by hand, a silent UDP port and a TCP
 * service that must never hear from the server.  The server listens on UDP and TCP, IPv4 and
 * IPv6, all of which are "us".
 */

#define WAIT_MS 3000
/* How long we keep listening for traffic that must not come (the old code sent at once). */
#define QUIET_MS 400

enum { UDP4, TCP4, UDP6, TCP6, N_LISTENERS };

typedef struct {
  char *dir;
  char *users;
  SimServer *server;
  SimAddr listen[N_LISTENERS];
  GSocket *silent_udp[2];     /* IPv4, IPv6: a port that must receive nothing */
  GSocket *silent_tcp[2];     /* IPv4, IPv6: a service that must see no connection */
  SimAddr silent_udp_addr[2];
  SimAddr silent_tcp_addr[2];
} Fixture;

typedef struct {
  GSocket *socket;
  SimAddr local;
  SimAddr server;             /* where this peer sends */
  gboolean tcp;
  GByteArray *in;
} Peer;

static GSocket *
bind_socket (const char  *ip,
             gboolean     tcp,
             SimAddr     *bound)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GInetAddress) inet = g_inet_address_new_from_string (ip);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (inet, 0);
  g_autoptr(GSocketAddress) local = NULL;
  GSocket *socket = g_socket_new (g_inet_address_get_family (inet),
                                  tcp ? G_SOCKET_TYPE_STREAM : G_SOCKET_TYPE_DATAGRAM,
                                  tcp ? G_SOCKET_PROTOCOL_TCP : G_SOCKET_PROTOCOL_UDP, &error);

  g_assert_no_error (error);
  g_assert_true (g_socket_bind (socket, address, FALSE, &error));
  g_assert_no_error (error);
  local = g_socket_get_local_address (socket, &error);
  g_assert_no_error (error);
  sim_addr_init (bound, ip,
                 g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local)),
                 tcp ? SIM_TRANSPORT_TCP : SIM_TRANSPORT_UDP);
  g_socket_set_blocking (socket, FALSE);
  return socket;
}

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  const char *specs[N_LISTENERS] = { "udp:127.0.0.1:0", "tcp:127.0.0.1:0", "udp:[::1]:0",
                                     "tcp:[::1]:0" };
  g_autoptr(GError) error = NULL;
  GArray *listeners;

  f->dir = g_dir_make_tmp ("siplab-proxy-XXXXXX", &error);
  g_assert_no_error (error);
  f->users = g_build_filename (f->dir, "users.txt", NULL);
  g_assert_true (g_file_set_contents (f->users, "alice:alicepw\nbob:bobpw\n", -1, &error));
  f->server = sim_server_new ("lab.example", NULL, &error);
  g_assert_no_error (error);
  sim_trace_set_keep (sim_server_get_trace (f->server), TRUE);
  g_assert_true (sim_server_load_users (f->server, f->users, FALSE, &error));
  for (guint i = 0; i < N_LISTENERS; i++)
    {
      g_assert_true (sim_server_listen (f->server, specs[i], &error));
      g_assert_no_error (error);
    }
  listeners = sim_socket_transport_get_listeners (sim_server_get_transport (f->server));
  for (guint i = 0; i < N_LISTENERS; i++)
    f->listen[i] = g_array_index (listeners, SimAddr, i);

  for (guint v6 = 0; v6 < 2; v6++)
    {
      const char *ip = v6 ? "::1" : "127.0.0.1";
      f->silent_udp[v6] = bind_socket (ip, FALSE, &f->silent_udp_addr[v6]);
      f->silent_tcp[v6] = bind_socket (ip, TRUE, &f->silent_tcp_addr[v6]);
      g_assert_true (g_socket_listen (f->silent_tcp[v6], &error));
      g_assert_no_error (error);
    }
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  for (guint v6 = 0; v6 < 2; v6++)
    {
      g_socket_close (f->silent_udp[v6], NULL);
      g_socket_close (f->silent_tcp[v6], NULL);
      g_clear_object (&f->silent_udp[v6]);
      g_clear_object (&f->silent_tcp[v6]);
    }
  sim_server_stop (f->server);
  g_assert_finalize_object (g_steal_pointer (&f->server));
  g_unlink (f->users);
  g_rmdir (f->dir);
  g_free (f->users);
  g_free (f->dir);
}

static void
pump (guint ms)
{
  gint64 end = g_get_monotonic_time () + ms * 1000;

  while (g_get_monotonic_time () < end)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
}

/* Nothing arrived at the silent UDP port, and nobody connected to the silent TCP service. */
static void
assert_silence (Fixture *f)
{
  pump (QUIET_MS);
  for (guint v6 = 0; v6 < 2; v6++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GSocket) accepted = NULL;
      char buf[2048];

      g_assert_cmpint (g_socket_receive (f->silent_udp[v6], buf, sizeof buf, NULL, &error), ==, -1);
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK);
      g_clear_error (&error);
      accepted = g_socket_accept (f->silent_tcp[v6], NULL, &error);
      g_assert_null (accepted);
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK);
    }
}

static Peer *
peer_new (Fixture *f,
          guint    listener)
{
  Peer *peer = g_new0 (Peer, 1);
  const SimAddr *server = &f->listen[listener];
  g_autoptr(GError) error = NULL;

  peer->server = *server;
  peer->tcp = server->transport == SIM_TRANSPORT_TCP;
  peer->socket = bind_socket (server->ip, peer->tcp, &peer->local);
  peer->in = g_byte_array_new ();
  if (peer->tcp)
    {
      g_autoptr(GInetAddress) inet = g_inet_address_new_from_string (server->ip);
      g_autoptr(GSocketAddress) address = g_inet_socket_address_new (inet, server->port);

      g_socket_set_blocking (peer->socket, TRUE);
      g_assert_true (g_socket_connect (peer->socket, address, NULL, &error));
      g_assert_no_error (error);
      g_socket_set_blocking (peer->socket, FALSE);
    }
  return peer;
}

static void
peer_free (Peer *peer)
{
  g_socket_close (peer->socket, NULL);
  g_object_unref (peer->socket);
  g_byte_array_unref (peer->in);
  g_free (peer);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Peer, peer_free)

/* Our own sent-by ("127.0.0.1:4000" or "[::1]:4000") and transport name for the Via. */
static char *
peer_via (Peer *peer)
{
  char host[64];

  sim_addr_format (&peer->local, host, sizeof host);
  return g_strdup_printf ("SIP/2.0/%s %s", peer->tcp ? "TCP" : "UDP", host);
}

static void
peer_send (Peer       *peer,
           const char *text)
{
  g_autoptr(GError) error = NULL;
  gsize len = strlen (text);

  if (peer->tcp)
    g_assert_cmpint (g_socket_send (peer->socket, text, len, NULL, &error), ==, (gssize) len);
  else
    {
      g_autoptr(GInetAddress) inet = g_inet_address_new_from_string (peer->server.ip);
      g_autoptr(GSocketAddress) address = g_inet_socket_address_new (inet, peer->server.port);
      g_assert_cmpint (g_socket_send_to (peer->socket, address, text, len, NULL, &error), ==,
                       (gssize) len);
    }
  g_assert_no_error (error);
}

/* A whole message from the buffer (headers, then Content-Length bytes), or NULL. */
static char *
take_message (GByteArray *in)
{
  const char *data = (const char *) in->data;
  const char *end = in->len > 0 ? g_strstr_len (data, in->len, "\r\n\r\n") : NULL;
  const char *cl;
  gsize head, body = 0;
  char *msg;

  if (in->len == 0 || end == NULL)
    return NULL;
  head = end - data + 4;
  cl = g_strstr_len (data, head, "\r\nContent-Length:");
  if (cl != NULL)
    body = strtoul (cl + strlen ("\r\nContent-Length:"), NULL, 10);
  if (in->len < head + body)
    return NULL;
  msg = g_strndup (data, head + body);
  g_byte_array_remove_range (in, 0, head + body);
  return msg;
}

/* The next message the server sends this peer, waiting up to @ms; NULL if none comes. */
static char *
peer_receive (Peer *peer,
              guint ms)
{
  gint64 end = g_get_monotonic_time () + ms * 1000;

  while (g_get_monotonic_time () < end)
    {
      char buf[65536];
      gssize n;
      char *msg;

      if (peer->tcp && (msg = take_message (peer->in)) != NULL)
        return msg;
      g_main_context_iteration (NULL, FALSE);
      n = g_socket_receive (peer->socket, buf, sizeof buf, NULL, NULL);
      if (n > 0)
        {
          if (!peer->tcp)
            return g_strndup (buf, n);
          g_byte_array_append (peer->in, (guint8 *) buf, n);
          continue;
        }
      g_usleep (1000);
    }
  return NULL;
}

static int
status_of (const char *msg)
{
  int status = 0;

  if (msg == NULL || sscanf (msg, "SIP/2.0 %d", &status) != 1)
    return 0;
  return status;
}

/* The first final response (provisional ones are skipped), or NULL. */
static char *
peer_final (Peer *peer)
{
  for (;;)
    {
      char *msg = peer_receive (peer, WAIT_MS);
      if (msg == NULL || status_of (msg) >= 200 || status_of (msg) == 0)
        return msg;
      g_free (msg);
    }
}

/* A request from @peer; @extra holds more header lines (each ending in CRLF). */
static char *
request_text (Peer       *peer,
              const char *method,
              const char *uri,
              const char *to_tag,
              const char *call_id,
              const char *extra)
{
  g_autofree char *via = peer_via (peer);
  static guint counter;

  counter++;
  return g_strdup_printf ("%s %s SIP/2.0\r\n"
                          "Via: %s;branch=z9hG4bK-test-%u;rport\r\n"
                          "Max-Forwards: 70\r\n"
                          "From: <sip:mallory@evil.example>;tag=m%u\r\n"
                          "To: <%s>%s%s\r\n"
                          "Call-ID: %s\r\n"
                          "CSeq: %u %s\r\n"
                          "%s"
                          "Content-Length: 0\r\n\r\n",
                          method, uri, via, counter, counter, uri, to_tag ? ";tag=" : "",
                          to_tag ? to_tag : "", call_id, counter, method, extra ? extra : "");
}

/* Sends a request and returns the status of its final response (0: none came). */
static int
ask (Peer       *peer,
     const char *method,
     const char *uri,
     const char *to_tag,
     const char *extra)
{
  g_autofree char *call_id = g_strdup_printf ("%u@test", g_random_int ());
  g_autofree char *text = request_text (peer, method, uri, to_tag, call_id, extra);
  g_autofree char *response = NULL;

  peer_send (peer, text);
  response = peer_final (peer);
  return status_of (response);
}

static void
test_foreign_request_uri_is_not_relayed (Fixture       *f,
                                         gconstpointer  data)
{
  g_test_summary ("OPTIONS and INVITE whose Request-URI names a silent loopback UDP port or a "
                  "loopback TCP service (transport=tcp), sent over UDP and TCP, IPv4 and IPv6, "
                  "get 403 and not a byte or a connection reaches the target.");

  for (guint l = 0; l < N_LISTENERS; l++)
    for (guint v6 = 0; v6 < 2; v6++)
      {
        g_autoptr(Peer) peer = peer_new (f, l);
        char host[64];
        g_autofree char *udp_uri = NULL;
        g_autofree char *tcp_uri = NULL;

        sim_addr_format (&f->silent_udp_addr[v6], host, sizeof host);
        udp_uri = g_strdup_printf ("sip:victim@%s", host);
        sim_addr_format (&f->silent_tcp_addr[v6], host, sizeof host);
        tcp_uri = g_strdup_printf ("sip:victim@%s;transport=tcp", host);

        g_assert_cmpint (ask (peer, "OPTIONS", udp_uri, NULL, NULL), ==, 403);
        g_assert_cmpint (ask (peer, "INVITE", udp_uri, NULL, NULL), ==, 403);
        g_assert_cmpint (ask (peer, "OPTIONS", tcp_uri, NULL, NULL), ==, 403);
        g_assert_cmpint (ask (peer, "INVITE", tcp_uri, NULL, NULL), ==, 403);
        g_assert_cmpint (ask (peer, "MESSAGE", udp_uri, NULL, NULL), ==, 403);
      }
  /* The relay option serves authenticated users only: a stranger is still refused. */
  sim_server_set_relay (f->server, TRUE);
  {
    g_autoptr(Peer) peer = peer_new (f, UDP4);
    char host[64];
    g_autofree char *uri = NULL;

    sim_addr_format (&f->silent_udp_addr[0], host, sizeof host);
    uri = g_strdup_printf ("sip:victim@%s", host);
    g_assert_cmpint (ask (peer, "OPTIONS", uri, NULL, NULL), ==, 403);
  }
  assert_silence (f);
}

static void
test_foreign_route_is_not_relayed (Fixture       *f,
                                   gconstpointer  data)
{
  g_test_summary ("A request for our own domain whose top Route is not us (loose routing to a "
                  "silent loopback port or TCP service) gets 403 and nothing is sent.");

  for (guint l = 0; l < N_LISTENERS; l++)
    {
      g_autoptr(Peer) peer = peer_new (f, l);
      char host[64];
      g_autofree char *route = NULL;

      sim_addr_format (&f->silent_udp_addr[l >= UDP6], host, sizeof host);
      route = g_strdup_printf ("Route: <sip:%s;lr>\r\n", host);
      g_assert_cmpint (ask (peer, "OPTIONS", "sip:alice@lab.example", NULL, route), ==, 403);
      g_clear_pointer (&route, g_free);
      sim_addr_format (&f->silent_tcp_addr[l >= UDP6], host, sizeof host);
      route = g_strdup_printf ("Route: <sip:%s;transport=tcp;lr>\r\n", host);
      g_assert_cmpint (ask (peer, "INVITE", "sip:alice@lab.example", NULL, route), ==, 403);
    }
  assert_silence (f);
}

static void
test_in_dialog_request_to_stranger_is_not_relayed (Fixture       *f,
                                                   gconstpointer  data)
{
  g_test_summary ("A BYE or ACK with a To tag (in-dialog) whose Request-URI names no party of a "
                  "dialog we Record-Routed and no registered Contact is not relayed: 403 for the "
                  "BYE, silence for the ACK, nothing at the target.");

  for (guint l = 0; l < N_LISTENERS; l++)
    {
      g_autoptr(Peer) peer = peer_new (f, l);
      g_autofree char *ack = NULL;
      g_autofree char *uri = NULL;
      char host[64];

      sim_addr_format (&f->silent_udp_addr[l >= UDP6], host, sizeof host);
      uri = g_strdup_printf ("sip:victim@%s", host);
      g_assert_cmpint (ask (peer, "BYE", uri, "x1", NULL), ==, 403);
      ack = request_text (peer, "ACK", uri, "x2", "ack@test", NULL);
      peer_send (peer, ack);
    }
  assert_silence (f);
}

static void
test_all_listeners_are_us (Fixture       *f,
                           gconstpointer  data)
{
  g_autofree char *register_uri = NULL;
  g_autofree char *invite_uri = NULL;
  g_autofree char *loop_via = NULL;
  g_autoptr(Peer) peer = peer_new (f, UDP6);
  char host[64];

  g_test_summary ("A REGISTER to the IPv6 listener (not the first) is challenged, not refused; "
                  "an INVITE to that address is handled once instead of looping; a request "
                  "whose Via already holds one of our addresses gets 482 Loop Detected.");

  sim_addr_format (&f->listen[UDP6], host, sizeof host);
  register_uri = g_strdup_printf ("sip:%s", host);
  {
    g_autofree char *text = g_strdup_printf (
      "REGISTER %s SIP/2.0\r\n"
      "Via: SIP/2.0/UDP [::1]:%u;branch=z9hG4bK-reg6;rport\r\n"
      "Max-Forwards: 70\r\n"
      "From: <sip:alice@lab.example>;tag=r6\r\n"
      "To: <sip:alice@lab.example>\r\n"
      "Call-ID: reg6@test\r\n"
      "CSeq: 1 REGISTER\r\n"
      "Contact: <sip:alice@[::1]:%u>\r\n"
      "Content-Length: 0\r\n\r\n", register_uri, peer->local.port, peer->local.port);
    g_autofree char *response = NULL;
    peer_send (peer, text);
    response = peer_final (peer);
    g_assert_cmpint (status_of (response), ==, 401);
  }

  /* Our second address as Request-URI: ours, so it is handled here (not forwarded to us). */
  invite_uri = g_strdup_printf ("sip:%s", host);
  g_assert_cmpint (ask (peer, "INVITE", invite_uri, NULL, NULL), ==, 405);
  g_assert_cmpint (ask (peer, "OPTIONS", invite_uri, NULL, NULL), ==, 200);
  {
    g_autofree char *user_uri = g_strdup_printf ("sip:bob@%s", host);
    g_assert_cmpint (ask (peer, "INVITE", user_uri, NULL, NULL), ==, 480);
  }

  /* A request that has been through us already. */
  sim_addr_format (&f->listen[TCP4], host, sizeof host);
  loop_via = g_strdup_printf ("Via: SIP/2.0/TCP %s;branch=z9hG4bK-ours\r\n", host);
  {
    g_autofree char *via = peer_via (peer);
    g_autofree char *text = g_strdup_printf (
      "OPTIONS sip:alice@lab.example SIP/2.0\r\n"
      "Via: %s;branch=z9hG4bK-loop;rport\r\n"
      "%s"
      "Max-Forwards: 69\r\n"
      "From: <sip:mallory@evil.example>;tag=l1\r\n"
      "To: <sip:alice@lab.example>\r\n"
      "Call-ID: loop@test\r\n"
      "CSeq: 1 OPTIONS\r\n"
      "Content-Length: 0\r\n\r\n", via, loop_via);
    g_autofree char *response = NULL;
    peer_send (peer, text);
    response = peer_final (peer);
    g_assert_cmpint (status_of (response), ==, 482);
  }
  /* Each request reached the server exactly once: no copy of it came back to us. */
  g_assert_cmpuint (sim_stack_get_n_transactions (sim_server_get_stack (f->server)), <=, 6);
}

static void
test_section_16_3_checks (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr(Peer) peer = peer_new (f, UDP4);
  g_autofree char *text = NULL;
  g_autofree char *response = NULL;
  int status = 0;

  g_test_summary ("RFC 3261 §16.3: Max-Forwards that is not a number is a 400 (not 483), a "
                  "number of any length is valid (read as at most 255); an "
                  "unknown Proxy-Require option tag is a 420 whose Unsupported lists it; a tel: "
                  "URI is a 416.");

  text = g_strdup_printf ("OPTIONS sip:alice@lab.example SIP/2.0\r\n"
                          "Via: SIP/2.0/UDP 127.0.0.1:%u;branch=z9hG4bK-mf;rport\r\n"
                          "Max-Forwards: abc\r\n"
                          "From: <sip:mallory@evil.example>;tag=mf\r\n"
                          "To: <sip:alice@lab.example>\r\n"
                          "Call-ID: mf@test\r\n"
                          "CSeq: 1 OPTIONS\r\n"
                          "Content-Length: 0\r\n\r\n", peer->local.port);
  peer_send (peer, text);
  response = peer_final (peer);
  g_assert_cmpint (status_of (response), ==, 400);
  g_clear_pointer (&response, g_free);

  /* 1*DIGIT has no length limit: a number beyond 2^32 - 1 is valid, read as 255. */
  for (guint i = 0; i < 2; i++)
    {
      g_clear_pointer (&text, g_free);
      text = g_strdup_printf ("OPTIONS sip:alice@lab.example SIP/2.0\r\n"
                              "Via: SIP/2.0/UDP 127.0.0.1:%u;branch=z9hG4bK-mf%u;rport\r\n"
                              "Max-Forwards: %s\r\n"
                              "From: <sip:mallory@evil.example>;tag=mf\r\n"
                              "To: <sip:alice@lab.example>\r\n"
                              "Call-ID: mf%u@test\r\n"
                              "CSeq: 1 OPTIONS\r\n"
                              "Content-Length: 0\r\n\r\n", peer->local.port, i,
                              i == 0 ? "70" : "000099999999999999999999", i);
      peer_send (peer, text);
      response = peer_final (peer);
      if (i == 0)
        status = status_of (response);
      else
        g_assert_cmpint (status_of (response), ==, status);
      g_assert_cmpint (status_of (response), !=, 400);
      g_clear_pointer (&response, g_free);
    }

  g_clear_pointer (&text, g_free);
  text = request_text (peer, "OPTIONS", "sip:alice@lab.example", NULL, "pr@test",
                       "Proxy-Require: x-teleport, 100rel\r\n");
  peer_send (peer, text);
  response = peer_final (peer);
  g_assert_cmpint (status_of (response), ==, 420);
  g_assert_nonnull (strstr (response, "\r\nUnsupported: x-teleport, 100rel\r\n"));

  g_assert_cmpint (ask (peer, "OPTIONS", "tel:+15551234", NULL, NULL), ==, 416);
}

/* A binding made by hand: bob's Contact names an address nobody can reach (TEST-NET-1). */
static void
add_binding (Fixture       *f,
             const char    *aor,
             const char    *contact,
             const SimAddr *source)
{
  SimLocation *location = sim_server_get_location (f->server);
  g_autoptr(GPtrArray) bindings = g_ptr_array_new ();
  SimBinding binding = { 0 };

  binding.aor = (char *) aor;
  binding.contact = (char *) contact;
  binding.display = (char *) contact;
  binding.q = -1;
  binding.expires_at = sim_clock_now (sim_server_get_clock (f->server)) + SIM_SEC (600);
  binding.granted = 600;
  binding.call_id = (char *) "nat@test";
  binding.cseq = 1;
  binding.source = *source;
  g_ptr_array_add (bindings, &binding);
  sim_location_replace (location, aor, bindings, "test binding");
}

/* The next request @peer receives, with its method and Request-URI checked. */
static char *
expect_request (Peer       *peer,
                const char *start_line)
{
  for (;;)
    {
      char *msg = peer_receive (peer, WAIT_MS);
      if (msg == NULL)
        g_error ("expected \"%s\", got nothing", start_line);
      if (g_str_has_prefix (msg, "SIP/2.0 "))
        {
          g_free (msg);
          continue;
        }
      if (!g_str_has_prefix (msg, start_line))
        g_error ("expected \"%s\", got:\n%s", start_line, msg);
      return msg;
    }
}

/* The value of the first header line starting with @name (e.g. "Via: "), all of them joined. */
static char *
headers_named (const char *msg,
               const char *name)
{
  g_auto(GStrv) lines = g_strsplit (msg, "\r\n", -1);
  GString *out = g_string_new (NULL);

  for (guint i = 0; lines[i] != NULL; i++)
    if (g_str_has_prefix (lines[i], name))
      {
        if (out->len > 0)
          g_string_append (out, "\n");
        g_string_append (out, lines[i]);
      }
  return g_string_free (out, FALSE);
}

/* The response a UAS sends to @request: its Via, Record-Route, From, To (+ tag), Call-ID, CSeq. */
static char *
response_to (const char *request,
             int         status,
             const char *to_tag,
             const char *contact)
{
  const char *copied[] = { "Via: ", "Record-Route: ", "From: " };
  g_autofree char *to = headers_named (request, "To: ");
  g_autofree char *call_id = headers_named (request, "Call-ID: ");
  g_autofree char *cseq = headers_named (request, "CSeq: ");
  GString *text = g_string_new (NULL);

  g_string_append_printf (text, "SIP/2.0 %d %s\r\n", status, status == 200 ? "OK" : "Ringing");
  for (guint h = 0; h < G_N_ELEMENTS (copied); h++)
    {
      g_autofree char *lines = headers_named (request, copied[h]);
      g_auto(GStrv) each = g_strsplit (lines, "\n", -1);
      for (guint i = 0; each[i] != NULL; i++)
        if (*each[i] != '\0')
          g_string_append_printf (text, "%s\r\n", each[i]);
    }
  g_string_append_printf (text, "%s%s%s\r\n%s\r\n%s\r\n", to, strstr (to, ";tag=") ? "" : ";tag=",
                          strstr (to, ";tag=") ? "" : to_tag, call_id, cseq);
  if (contact != NULL)
    g_string_append_printf (text, "Contact: <%s>\r\n", contact);
  g_string_append (text, "Content-Length: 0\r\n\r\n");
  return g_string_free (text, FALSE);
}

/* The Record-Route URIs of @msg, top first, as "uri1 uri2". */
static char *
record_routes (const char *msg)
{
  g_autofree char *rrs = headers_named (msg, "Record-Route: ");
  g_autoptr(GString) out = g_string_new (NULL);
  g_auto(GStrv) lines = g_strsplit (rrs, "\n", -1);

  for (guint i = 0; lines[i] != NULL; i++)
    if (*lines[i] != '\0')
      {
        g_auto(GStrv) parts = g_strsplit (lines[i] + strlen ("Record-Route: "), ",", -1);
        for (guint j = 0; parts[j] != NULL; j++)
          {
            if (out->len > 0)
              g_string_append_c (out, ' ');
            g_string_append (out, g_strstrip (parts[j]));
          }
      }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

typedef struct {
  char *call_id;
  char *invite;            /* as bob received it */
  char **uris;             /* the Record-Route URIs of the 2xx, top first */
  const char *caller_contact;
  /*
   * The Record-Route URIs of another proxy on the caller's side (added to the INVITE before it
   * reaches us) and on the callee's side (added to the 2xx), or NULL.  Each is the peer's own
   * outbound proxy, which takes its own entry off the route set before the request reaches us.
   */
  const char *proxy_rr[2];
  /* The dialog table is full: the INVITE must carry no Record-Route and the ACK goes nowhere. */
  gboolean no_record_route;
} Call;

static void
call_clear (Call *call)
{
  g_free (call->call_id);
  g_free (call->invite);
  g_strfreev (call->uris);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Call, call_clear)

/*
 * "Route: <a>, <b>\r\n" from the Record-Route URIs, in order or reversed (RFC 3261 §12.1),
 * less the first @skip of them (the ones a proxy before us has already taken off).
 */
static char *
route_header (char     **uris,
              gboolean   reversed,
              guint      skip)
{
  GString *r = g_string_new ("Route: ");
  guint n = g_strv_length (uris);

  /* No Record-Route, no route set (RFC 3261 §12.1.1). */
  if (n <= skip)
    g_string_truncate (r, 0);

  for (guint i = skip; i < n; i++)
    g_string_append_printf (r, "%s%s", uris[reversed ? n - 1 - i : i], i + 1 < n ? ", " : "\r\n");
  return g_string_free (r, FALSE);
}

/* carol@elsewhere.example's INVITE to sip:bob@lab.example (no To tag), private Contact. */
static char *
carol_invite (const char *via,
              const char *branch,
              const char *call_id,
              const char *extra)
{
  return g_strdup_printf ("INVITE sip:bob@lab.example SIP/2.0\r\n"
                          "Via: %s;branch=z9hG4bK-inv-%s;rport\r\n"
                          "Max-Forwards: 70\r\n"
                          "From: <sip:carol@elsewhere.example>;tag=caller\r\n"
                          "To: <sip:bob@lab.example>\r\n"
                          "Call-ID: %s\r\n"
                          "CSeq: 1 INVITE\r\n"
                          "Contact: <sip:carol@192.0.2.9:5060>\r\n"
                          "%s"
                          "Content-Length: 0\r\n\r\n", via, branch, call_id,
                          extra != NULL ? extra : "");
}

/*
 * @caller calls bob, whose binding names a private Contact (TEST-NET-1) but whose flow is
 * @callee's socket; the caller's Contact is private too.  The call is answered and ACKed; the
 * ACK must reach bob's flow.  @expected_rr, if given, is checked on the INVITE bob receives.
 */
static void
call_establish (Fixture    *f,
                Peer       *caller,
                Peer       *callee,
                const char *call_id,
                const char *expected_rr,
                Call       *call)
{
  g_autofree char *caller_via = peer_via (caller);
  g_autofree char *invite = NULL;
  g_autofree char *ok = NULL;
  g_autofree char *response = NULL;
  g_autofree char *ack = NULL;
  g_autofree char *got = NULL;
  g_autofree char *route_uris = NULL;
  g_autofree char *route = NULL;
  g_autofree char *rr_line = NULL;

  call->call_id = g_strdup (call_id);
  call->caller_contact = "sip:carol@192.0.2.9:5060";
  add_binding (f, "sip:bob@lab.example", "sip:bob@192.0.2.7:5060", &callee->local);

  rr_line = call->proxy_rr[0] ? g_strdup_printf ("Record-Route: <%s>\r\n", call->proxy_rr[0])
                               : NULL;
  invite = carol_invite (caller_via, call_id, call_id, rr_line);
  peer_send (caller, invite);

  /* The INVITE reaches bob's flow, not his private Contact. */
  call->invite = expect_request (callee, "INVITE sip:bob@192.0.2.7:5060 SIP/2.0");
  if (expected_rr != NULL)
    {
      g_autofree char *rr = record_routes (call->invite);
      g_assert_cmpstr (rr, ==, expected_rr);
    }
  ok = response_to (call->invite, 200, "callee", "sip:bob@192.0.2.7:5060");
  if (call->proxy_rr[1] != NULL)
    {
      /* The callee's proxy Record-Routes on top (the first Record-Route line comes first). */
      char *status_end = strstr (ok, "\r\n") + 2;
      g_autofree char *with_rr = g_strdup_printf ("%.*sRecord-Route: <%s>\r\n%s",
                                                  (int) (status_end - ok), ok, call->proxy_rr[1],
                                                  status_end);
      g_free (ok);
      ok = g_steal_pointer (&with_rr);
    }
  peer_send (callee, ok);
  response = peer_final (caller);
  g_assert_cmpint (status_of (response), ==, 200);

  route_uris = record_routes (response);
  call->uris = g_strsplit (route_uris, " ", -1);
  route = route_header (call->uris, TRUE, call->proxy_rr[0] != NULL);
  ack = g_strdup_printf ("ACK sip:bob@192.0.2.7:5060 SIP/2.0\r\n"
                         "Via: %s;branch=z9hG4bK-ack-%s;rport\r\n"
                         "%s"
                         "Max-Forwards: 70\r\n"
                         "From: <sip:carol@elsewhere.example>;tag=caller\r\n"
                         "To: <sip:bob@lab.example>;tag=callee\r\n"
                         "Call-ID: %s\r\n"
                         "CSeq: 1 ACK\r\n"
                         "Content-Length: 0\r\n\r\n", caller_via, call_id, route, call_id);
  peer_send (caller, ack);
  if (call->no_record_route)
    {
      g_autofree char *rr = headers_named (call->invite, "Record-Route: ");

      /* Sent to us anyway, it matches no dialog of ours: dropped, never relayed. */
      g_assert_cmpstr (rr, ==, "");
      got = peer_receive (callee, QUIET_MS);
      g_assert_null (got);
      return;
    }
  got = expect_request (callee, "ACK sip:bob@192.0.2.7:5060 SIP/2.0");
}

/*
 * Bob hangs up, along his route set (the Record-Route list as it came), towards the caller's
 * private Contact: only the caller's flow reaches it.  The caller answers the BYE if it gets
 * it.  Returns the status bob gets.
 */
static int
call_bye_from_callee (Peer *caller,
                      Peer *callee,
                      Call *call)
{
  g_autofree char *callee_via = peer_via (callee);
  g_autofree char *route = route_header (call->uris, FALSE, call->proxy_rr[1] != NULL);
  g_autofree char *bye = NULL;
  g_autofree char *got = NULL;
  g_autofree char *response = NULL;
  gboolean got_bye = FALSE;

  bye = g_strdup_printf ("BYE %s SIP/2.0\r\n"
                         "Via: %s;branch=z9hG4bK-bye-%s;rport\r\n"
                         "%s"
                         "Max-Forwards: 70\r\n"
                         "From: <sip:bob@lab.example>;tag=callee\r\n"
                         "To: <sip:carol@elsewhere.example>;tag=caller\r\n"
                         "Call-ID: %s\r\n"
                         "CSeq: 2 BYE\r\n"
                         "Content-Length: 0\r\n\r\n", call->caller_contact, callee_via,
                         call->call_id, route, call->call_id);
  peer_send (callee, bye);
  for (gint64 end = g_get_monotonic_time () + WAIT_MS * 1000; g_get_monotonic_time () < end;)
    {
      g_autofree char *msg = peer_receive (callee, 20);
      g_autofree char *at_caller = NULL;

      if (status_of (msg) >= 200)
        {
          response = g_steal_pointer (&msg);
          break;
        }
      /* The caller answers the BYE (and its retransmissions) if it gets it. */
      at_caller = peer_receive (caller, 20);
      if (at_caller != NULL && g_str_has_prefix (at_caller, "BYE ") &&
          strstr (at_caller, call->caller_contact) == at_caller + 4)
        {
          g_autofree char *bye_ok = response_to (at_caller, 200, "caller", NULL);
          peer_send (caller, bye_ok);
          got_bye = TRUE;
        }
    }
  /* Drain what is left over (retransmissions that crossed our answer). */
  while ((got = peer_receive (caller, 100)) != NULL)
    {
      got_bye = got_bye || g_str_has_prefix (got, "BYE ");
      g_clear_pointer (&got, g_free);
    }
  /* A refused BYE never reaches the caller; an accepted one does. */
  g_assert_cmpint (got_bye, ==, status_of (response) == 200);
  return status_of (response);
}

static guint
n_dialogs (Fixture *f)
{
  return sim_proxy_get_n_dialogs (sim_server_get_proxy (f->server));
}

static void
test_nat_phone_gets_ack_and_bye (Fixture       *f,
                                 gconstpointer  data)
{
  g_test_summary ("Both phones give private Contacts (192.0.2.x) but send from loopback: the "
                  "INVITE, the ACK (Request-URI: the callee's Contact) and the BYE (Request-URI: "
                  "the caller's Contact) all reach the phones at their flows, over UDP and TCP, "
                  "IPv4 and IPv6; the BYE's 200 ends the remembered dialog.");

  for (guint l = 0; l < N_LISTENERS; l++)
    {
      g_autoptr(Peer) caller = peer_new (f, l);
      g_autoptr(Peer) callee = peer_new (f, l);
      g_autofree char *call_id = g_strdup_printf ("nat-%u@test", l);
      g_auto(Call) call = { NULL, };

      /* A TCP phone's flow is its connection: open it as a registration would. */
      if (callee->tcp)
        g_assert_cmpint (ask (callee, "OPTIONS", "sip:lab.example", NULL, NULL), ==, 200);
      call_establish (f, caller, callee, call_id, NULL, &call);
      g_assert_cmpuint (n_dialogs (f), ==, 1);
      g_assert_cmpint (call_bye_from_callee (caller, callee, &call), ==, 200);
      g_assert_cmpuint (n_dialogs (f), ==, 0);
    }
}

static void
test_dialog_through_other_proxies (Fixture       *f,
                                   gconstpointer  data)
{
  g_test_summary ("Each phone sits behind its own outbound proxy that Record-Routes too (a "
                  "Kamailio in front of the lab): the INVITE brings one Record-Route, the 2xx "
                  "adds another, so the ACK and the BYE reach us with a Route of that other "
                  "proxy below ours.  The Request-URI names the dialog's party and the request "
                  "goes over its flow, over UDP and TCP, IPv4 and IPv6; the other proxy's Route "
                  "alone (here naming a port that must hear nothing) is never a next hop.");

  for (guint l = 0; l < N_LISTENERS; l++)
    {
      g_autoptr(Peer) caller = peer_new (f, l);
      g_autoptr(Peer) callee = peer_new (f, l);
      g_autofree char *call_id = g_strdup_printf ("proxies-%u@test", l);
      g_autofree char *caller_rr = NULL;
      g_autofree char *callee_rr = NULL;
      g_auto(Call) call = { NULL, };
      char host[64];

      sim_addr_format (&f->silent_udp_addr[l >= UDP6], host, sizeof host);
      caller_rr = g_strdup_printf ("sip:%s;lr;ftag=caller", host);
      callee_rr = g_strdup_printf ("sip:%s;transport=udp;lr;ftag=caller", host);
      call.proxy_rr[0] = caller_rr;
      call.proxy_rr[1] = callee_rr;
      if (callee->tcp)
        g_assert_cmpint (ask (callee, "OPTIONS", "sip:lab.example", NULL, NULL), ==, 200);
      call_establish (f, caller, callee, call_id, NULL, &call);
      g_assert_cmpuint (g_strv_length (call.uris), ==, 3);
      g_assert_cmpuint (n_dialogs (f), ==, 1);
      g_assert_cmpint (call_bye_from_callee (caller, callee, &call), ==, 200);
      g_assert_cmpuint (n_dialogs (f), ==, 0);
    }
  assert_silence (f);
}

static void
test_response_without_upstream_via (Fixture       *f,
                                    gconstpointer  data)
{
  g_autoptr(Peer) caller = peer_new (f, UDP4);
  g_autoptr(Peer) callee = peer_new (f, UDP4);
  g_autofree char *caller_via = peer_via (caller);
  g_autofree char *invite = NULL;
  g_autofree char *got = NULL;
  g_autofree char *ringing = NULL;
  g_autofree char *final = NULL;
  g_autofree char *response = NULL;
  g_autofree char *vias = NULL;
  g_autofree char *top_via = NULL;
  g_auto(GStrv) via_lines = NULL;

  g_test_summary ("A callee answers the INVITE with a 487 carrying only our Via (as a UAS that "
                  "copies the Via of our CANCEL does): the response is not sent on without any "
                  "Via (RFC 3261 §16.7 step 3); the caller gets a 487 of ours with its own Via.");

  add_binding (f, "sip:bob@lab.example", "sip:bob@192.0.2.7:5060", &callee->local);
  invite = carol_invite (caller_via, "noup", "noup@test", NULL);
  peer_send (caller, invite);
  got = expect_request (callee, "INVITE sip:bob@192.0.2.7:5060 SIP/2.0");
  ringing = response_to (got, 180, "callee", NULL);
  peer_send (callee, ringing);

  /* The 487 keeps only the first Via line: ours. */
  vias = headers_named (got, "Via: ");
  via_lines = g_strsplit (vias, "\n", -1);
  top_via = g_strdup_printf ("%s\r\n", via_lines[0]);
  final = response_to (got, 487, "callee", NULL);
  {
    g_autofree char *joined = g_strjoinv ("\r\n", via_lines);
    g_autofree char *all_vias = g_strdup_printf ("%s\r\n", joined);
    char *at = strstr (final, all_vias);
    g_autofree char *cut = NULL;

    g_assert_nonnull (at);
    cut = g_strdup_printf ("%.*s%s%s", (int) (at - final), final, top_via, at + strlen (all_vias));
    g_free (final);
    final = g_steal_pointer (&cut);
  }
  peer_send (callee, final);
  response = peer_final (caller);
  g_assert_cmpint (status_of (response), ==, 487);
  g_assert_nonnull (strstr (response, "\r\nVia: "));
  g_assert_nonnull (strstr (response, "branch=z9hG4bK-inv-noup"));
}

static void
test_reinvite_refreshes_remote_target (Fixture       *f,
                                       gconstpointer  data)
{
  g_autoptr(Peer) caller = peer_new (f, UDP4);
  g_autoptr(Peer) callee = peer_new (f, UDP4);
  g_auto(Call) call = { NULL, };
  g_autofree char *caller_via = peer_via (caller);
  g_autofree char *route = NULL;
  g_autofree char *reinvite = NULL;
  g_autofree char *got = NULL;
  g_autofree char *ok = NULL;
  g_autofree char *response = NULL;

  g_test_summary ("A re-INVITE with a new Contact (RFC 3261 §12.2 target refresh) reaches the "
                  "callee's flow, and afterwards the callee's BYE to the caller's new Contact "
                  "reaches the caller's flow.");

  call_establish (f, caller, callee, "refresh@test", NULL, &call);
  route = route_header (call.uris, TRUE, 0);
  reinvite = g_strdup_printf ("INVITE sip:bob@192.0.2.7:5060 SIP/2.0\r\n"
                              "Via: %s;branch=z9hG4bK-reinv;rport\r\n"
                              "%s"
                              "Max-Forwards: 70\r\n"
                              "From: <sip:carol@elsewhere.example>;tag=caller\r\n"
                              "To: <sip:bob@lab.example>;tag=callee\r\n"
                              "Call-ID: refresh@test\r\n"
                              "CSeq: 2 INVITE\r\n"
                              "Contact: <sip:carol@192.0.2.10:5070>\r\n"
                              "Content-Length: 0\r\n\r\n", caller_via, route);
  peer_send (caller, reinvite);
  got = expect_request (callee, "INVITE sip:bob@192.0.2.7:5060 SIP/2.0");
  ok = response_to (got, 200, "callee", "sip:bob@192.0.2.7:5060");
  peer_send (callee, ok);
  response = peer_final (caller);
  g_assert_cmpint (status_of (response), ==, 200);

  call.caller_contact = "sip:carol@192.0.2.10:5070";
  g_assert_cmpint (call_bye_from_callee (caller, callee, &call), ==, 200);
}

/* A peer of @listener's transport on another loopback address (127.0.0.2): a stranger. */
static Peer *
peer_new_at (Fixture    *f,
             guint       listener,
             const char *ip)
{
  Peer *peer = g_new0 (Peer, 1);

  peer->server = f->listen[listener];
  peer->socket = bind_socket (ip, FALSE, &peer->local);
  peer->in = g_byte_array_new ();
  return peer;
}

static void
test_known_dialog_needs_its_partys_address (Fixture       *f,
                                            gconstpointer  data)
{
  g_autoptr(Peer) caller = peer_new (f, UDP4);
  g_autoptr(Peer) callee = peer_new (f, UDP4);
  g_autoptr(Peer) eve = peer_new_at (f, UDP4, "127.0.0.2");
  g_auto(Call) call = { NULL, };
  g_autofree char *eve_via = peer_via (eve);
  g_autofree char *route = NULL;

  g_test_summary ("Call-ID and tags travel in clear: a stranger at another address who sniffed "
                  "them can neither end the call (BYE) nor take its media (re-INVITE with its "
                  "own Contact): its requests count as outside the call (403 for a foreign "
                  "From), reach nobody, and leave the dialog's Contacts alone, so the callee's "
                  "own BYE still ends the call.");

  call_establish (f, caller, callee, "hijack@test", NULL, &call);
  route = route_header (call.uris, TRUE, 0);
  for (guint i = 0; i < 2; i++)
    {
      const char *method = i == 0 ? "INVITE" : "BYE";
      g_autofree char *text =
        g_strdup_printf ("%s sip:bob@192.0.2.7:5060 SIP/2.0\r\n"
                         "Via: %s;branch=z9hG4bK-eve-%u;rport\r\n"
                         "%s"
                         "Max-Forwards: 70\r\n"
                         "From: <sip:carol@elsewhere.example>;tag=caller\r\n"
                         "To: <sip:bob@lab.example>;tag=callee\r\n"
                         "Call-ID: hijack@test\r\n"
                         "CSeq: %u %s\r\n"
                         "Contact: <sip:eve@127.0.0.2:5060>\r\n"
                         "Content-Length: 0\r\n\r\n", method, eve_via, i, route, 10 + i, method);
      g_autofree char *answer = NULL;
      g_autofree char *at_callee = NULL;

      peer_send (eve, text);
      answer = peer_final (eve);
      g_assert_cmpint (status_of (answer), ==, 403);
      at_callee = peer_receive (callee, QUIET_MS);
      g_assert_null (at_callee);
    }
  g_assert_cmpuint (n_dialogs (f), ==, 1);
  /* The dialog still knows the caller's own Contact: the callee's BYE reaches the caller. */
  g_assert_cmpint (call_bye_from_callee (caller, callee, &call), ==, 200);
  g_assert_cmpuint (n_dialogs (f), ==, 0);
}

static void
test_cancel_needs_the_invites_address (Fixture       *f,
                                       gconstpointer  data)
{
  g_autoptr(Peer) caller = peer_new (f, UDP4);
  g_autoptr(Peer) callee = peer_new (f, UDP4);
  g_autoptr(Peer) eve = peer_new_at (f, UDP4, "127.0.0.2");
  g_autofree char *caller_via = peer_via (caller);
  g_autofree char *invite = NULL;
  g_autofree char *got = NULL;
  g_autofree char *ringing = NULL;
  g_autofree char *cancel = NULL;
  g_autofree char *answer = NULL;
  g_autofree char *at_callee = NULL;
  g_autofree char *ours = NULL;

  g_test_summary ("A CANCEL matches its INVITE by the Via branch (RFC 3261 §9.2), which travels "
                  "in clear: from another address it cancels nothing (481) and the ringing "
                  "phone hears nothing; the caller's own CANCEL still works.");

  add_binding (f, "sip:bob@lab.example", "sip:bob@192.0.2.7:5060", &callee->local);
  invite = carol_invite (caller_via, "cancel", "cancel@test", NULL);
  peer_send (caller, invite);
  got = expect_request (callee, "INVITE sip:bob@192.0.2.7:5060 SIP/2.0");
  ringing = response_to (got, 180, "callee", NULL);
  peer_send (callee, ringing);

  cancel = g_strdup_printf ("CANCEL sip:bob@lab.example SIP/2.0\r\n"
                            "Via: %s;branch=z9hG4bK-inv-cancel;rport\r\n"
                            "Max-Forwards: 70\r\n"
                            "From: <sip:carol@elsewhere.example>;tag=caller\r\n"
                            "To: <sip:bob@lab.example>\r\n"
                            "Call-ID: cancel@test\r\n"
                            "CSeq: 1 CANCEL\r\n"
                            "Content-Length: 0\r\n\r\n", caller_via);
  peer_send (eve, cancel);
  answer = peer_final (eve);
  g_assert_cmpint (status_of (answer), ==, 481);
  at_callee = peer_receive (callee, QUIET_MS);
  g_assert_true (at_callee == NULL || !g_str_has_prefix (at_callee, "CANCEL "));

  /* The caller's own CANCEL reaches the phone. */
  peer_send (caller, cancel);
  ours = expect_request (callee, "CANCEL sip:bob@192.0.2.7:5060 SIP/2.0");
}

static void
test_dialog_table_is_bounded (Fixture       *f,
                              gconstpointer  data)
{
  g_autoptr(Peer) caller = peer_new (f, UDP4);
  g_autoptr(Peer) callee = peer_new (f, UDP4);
  g_auto(Call) first = { NULL, };
  g_auto(Call) second = { NULL, };
  g_auto(Call) third = { NULL, };

  g_test_summary ("The table of Record-Routed dialogs has a cap: an INVITE beyond it is not "
                  "Record-Routed and its ACK, sent to us anyway, is dropped; a BYE from our "
                  "user bob in a dialog we do not know is challenged (407) and never reaches "
                  "the caller, while the remembered dialog still works; an entry lapses after "
                  "its lifetime.");

  sim_proxy_set_dialog_limits (sim_server_get_proxy (f->server), 1, SIM_SEC (60));
  call_establish (f, caller, callee, "cap-1@test", NULL, &first);
  second.no_record_route = TRUE;
  call_establish (f, caller, callee, "cap-2@test", NULL, &second);
  g_assert_cmpuint (n_dialogs (f), ==, 1);
  g_assert_cmpint (call_bye_from_callee (caller, callee, &second), ==, 407);
  g_assert_cmpint (call_bye_from_callee (caller, callee, &first), ==, 200);
  g_assert_cmpuint (n_dialogs (f), ==, 0);

  sim_proxy_set_dialog_limits (sim_server_get_proxy (f->server), 16, SIM_MSEC (500));
  call_establish (f, caller, callee, "cap-3@test", NULL, &third);
  g_assert_cmpuint (n_dialogs (f), ==, 1);
  pump (1000);
  g_assert_cmpint (call_bye_from_callee (caller, callee, &third), ==, 407);
  g_assert_cmpuint (n_dialogs (f), ==, 0);
}

static void
test_record_route_forms (Fixture       *f,
                         gconstpointer  data)
{
  g_autoptr(Peer) caller = peer_new (f, TCP6);
  g_autoptr(Peer) callee = peer_new (f, UDP4);
  g_autoptr(Peer) tcp_caller = peer_new (f, TCP4);
  g_autoptr(Peer) tcp_callee = peer_new (f, TCP4);
  g_autoptr(Peer) v6_caller = peer_new (f, UDP6);
  g_autoptr(Peer) v6_callee = peer_new (f, UDP6);
  g_autofree char *expected = NULL;
  g_auto(Call) call1 = { NULL, };
  g_auto(Call) call2 = { NULL, };
  g_auto(Call) call3 = { NULL, };

  g_test_summary ("Record-Route names the listener the INVITE came in on, with transport=tcp "
                  "and IPv6 brackets; an INVITE that arrives over TCP/IPv6 and leaves over "
                  "UDP/IPv4 gets two Record-Routes (RFC 5658), the outgoing one on top, and the "
                  "dialog works along them.");

  expected = g_strdup_printf ("<sip:127.0.0.1:%u;lr> <sip:[::1]:%u;transport=tcp;lr>",
                              f->listen[UDP4].port, f->listen[TCP6].port);
  call_establish (f, caller, callee, "rr-double@test", expected, &call1);
  g_assert_cmpint (call_bye_from_callee (caller, callee, &call1), ==, 200);

  g_clear_pointer (&expected, g_free);
  g_assert_cmpint (ask (tcp_callee, "OPTIONS", "sip:lab.example", NULL, NULL), ==, 200);
  expected = g_strdup_printf ("<sip:127.0.0.1:%u;transport=tcp;lr>", f->listen[TCP4].port);
  call_establish (f, tcp_caller, tcp_callee, "rr-tcp@test", expected, &call2);
  g_assert_cmpint (call_bye_from_callee (tcp_caller, tcp_callee, &call2), ==, 200);

  g_clear_pointer (&expected, g_free);
  expected = g_strdup_printf ("<sip:[::1]:%u;lr>", f->listen[UDP6].port);
  call_establish (f, v6_caller, v6_callee, "rr-v6@test", expected, &call3);
  g_assert_cmpint (call_bye_from_callee (v6_caller, v6_callee, &call3), ==, 200);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/net/proxy/foreign-request-uri-is-not-relayed", Fixture, NULL, fixture_setup,
              test_foreign_request_uri_is_not_relayed, fixture_teardown);
  g_test_add ("/net/proxy/route-that-is-not-us-is-not-relayed", Fixture, NULL, fixture_setup,
              test_foreign_route_is_not_relayed, fixture_teardown);
  g_test_add ("/net/proxy/in-dialog-request-to-a-stranger-is-not-relayed", Fixture, NULL,
              fixture_setup, test_in_dialog_request_to_stranger_is_not_relayed, fixture_teardown);
  g_test_add ("/net/proxy/every-listener-is-us-and-loops-get-482", Fixture, NULL, fixture_setup,
              test_all_listeners_are_us, fixture_teardown);
  g_test_add ("/net/proxy/max-forwards-proxy-require-and-scheme-checks", Fixture, NULL,
              fixture_setup, test_section_16_3_checks, fixture_teardown);
  g_test_add ("/net/proxy/nat-phone-gets-ack-and-bye-at-its-flow", Fixture, NULL, fixture_setup,
              test_nat_phone_gets_ack_and_bye, fixture_teardown);
  g_test_add ("/net/proxy/dialog-through-other-record-routing-proxies", Fixture, NULL,
              fixture_setup, test_dialog_through_other_proxies, fixture_teardown);
  g_test_add ("/net/proxy/response-with-only-our-via-is-not-sent-on", Fixture, NULL,
              fixture_setup, test_response_without_upstream_via, fixture_teardown);
  g_test_add ("/net/proxy/reinvite-refreshes-the-remote-target", Fixture, NULL, fixture_setup,
              test_reinvite_refreshes_remote_target, fixture_teardown);
  g_test_add ("/net/proxy/known-dialog-needs-its-partys-address", Fixture, NULL, fixture_setup,
              test_known_dialog_needs_its_partys_address, fixture_teardown);
  g_test_add ("/net/proxy/cancel-needs-the-invites-address", Fixture, NULL, fixture_setup,
              test_cancel_needs_the_invites_address, fixture_teardown);
  g_test_add ("/net/proxy/dialog-table-is-bounded-and-lapses", Fixture, NULL, fixture_setup,
              test_dialog_table_is_bounded, fixture_teardown);
  g_test_add ("/net/proxy/record-route-names-transport-and-ipv6", Fixture, NULL, fixture_setup,
              test_record_route_forms, fixture_teardown);
  return g_test_run ();
}
