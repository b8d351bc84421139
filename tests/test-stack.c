/* SPDX-License-Identifier: GPL-3.0-or-later */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <string.h>

#include "sim-net.h"
#include "sim-stack.h"
#include "test-wire.h"

/*
 * RFC 3261 §17 transactions on the virtual clock, over the simulated network: a client stack
 * ("ua" 10.0.0.11) and a server stack ("server" 10.0.0.1) whose TU the test scripts.
 */

/*
 * libosip2 and the fast parser add every header to its list with osip_list_add, which walks the
 * list: the call whose count makes parsing quadratic.  Counting the calls made from our code
 * (this definition interposes the library's) shows whether a message was parsed whole.
 */
static guint n_list_adds;

int
osip_list_add (osip_list_t *li,
               void        *element,
               int          pos)
{
  static int (*real) (osip_list_t *, void *, int);

  if (real == NULL)
    real = (int (*) (osip_list_t *, void *, int)) dlsym (RTLD_NEXT, "osip_list_add");
  n_list_adds++;
  return real (li, element, pos);
}

typedef struct {
  SimClock *clock;
  SimTrace *trace;
  GRand *rand;
  SimNet *net;
  SimStack *client;
  SimStack *server;
  SimAddr server_addr;
  /* what the server TU does with a new request: respond with this status (0 = nothing) */
  int auto_status;
  guint n_requests;
  SimServerTxn *last_txn;
  GPtrArray *responses;    /* int status codes seen by the client TU, as GINT_TO_POINTER */
  gboolean stateless;      /* the server TU answers auto_status with respond_stateless */
  char *last_body;         /* the body of the last request the server TU saw */
  GPtrArray *unanswered;   /* SimServerTxn* (ref) the server TU left without a response */
  guint drop_407;          /* how many 407s the server sends are lost on the way */
  gboolean forward;        /* the server TU also forwards each unanswered request (a proxy) */
} Fixture;

static void
send_cb (SimStack      *stack,
         const SimAddr *dst,
         const char    *data,
         gsize          len,
         gboolean       retransmission,
         gpointer       user_data)
{
  Fixture *f = user_data;

  if (f->drop_407 > 0 && stack == f->server && len > 11 && memcmp (data, "SIP/2.0 407", 11) == 0)
    {
      f->drop_407--;
      return;
    }
  sim_net_send (f->net, sim_stack_get_local (stack), dst, data, len, retransmission);
}

static void
receive_cb (const SimAddr *src,
            const SimAddr *dst,
            const char    *data,
            gsize          len,
            gpointer       user_data)
{
  sim_stack_receive (SIM_STACK (user_data), src, data, len);
}

static void
server_request_cb (SimStack       *stack,
                   SimServerTxn   *txn,
                   osip_message_t *request,
                   const SimAddr  *src,
                   gpointer        user_data)
{
  Fixture *f = user_data;

  f->n_requests++;
  if (txn == NULL)
    return;
  g_clear_pointer (&f->last_txn, sim_server_txn_unref);
  f->last_txn = sim_server_txn_ref (txn);
  {
    osip_body_t *body = NULL;

    g_clear_pointer (&f->last_body, g_free);
    if (osip_message_get_body (request, 0, &body) >= 0 && body != NULL)
      f->last_body = g_strndup (body->body, body->length);
  }
  if (f->auto_status != 0 && f->stateless)
    sim_server_txn_respond_stateless (txn, sim_message_new_response (request, f->auto_status, NULL,
                                                                     sim_server_txn_get_to_tag (txn)));
  else if (f->auto_status != 0)
    sim_server_txn_reply (txn, f->auto_status, NULL);
  else
    g_ptr_array_add (f->unanswered, sim_server_txn_ref (txn));
  if (f->auto_status == 0 && f->forward)
    {
      SimAddr silent;

      /* Like a proxy towards a phone that never answers: the client transaction lives 32 s. */
      sim_addr_init (&silent, "10.0.0.99", 5060, SIM_TRANSPORT_UDP);
      sim_stack_send_request (stack, sim_message_clone (request), &silent, NULL, NULL, NULL);
    }
}

static void
response_cb (SimStack       *stack,
             SimClientTxn   *txn,
             osip_message_t *response,
             gpointer        user_data)
{
  Fixture *f = user_data;
  g_ptr_array_add (f->responses, GINT_TO_POINTER (response->status_code));
}

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  SimAddr ua;

  f->clock = sim_clock_new_virtual ();
  f->trace = sim_trace_new ();
  f->rand = g_rand_new_with_seed (3);
  f->net = sim_net_new (f->clock, f->trace, f->rand);
  f->responses = g_ptr_array_new ();
  f->unanswered = g_ptr_array_new_with_free_func ((GDestroyNotify) sim_server_txn_unref);
  sim_net_add_host (f->net, "server", "10.0.0.1", NULL);
  sim_net_add_host (f->net, "ua", "10.0.0.11", NULL);
  sim_addr_init (&f->server_addr, "10.0.0.1", 5060, SIM_TRANSPORT_UDP);
  sim_addr_init (&ua, "10.0.0.11", 5060, SIM_TRANSPORT_UDP);
  f->server = sim_stack_new (f->clock, f->trace, f->rand, "server", &f->server_addr);
  f->client = sim_stack_new (f->clock, f->trace, f->rand, "ua", &ua);
  sim_stack_set_send_func (f->server, send_cb, f);
  sim_stack_set_send_func (f->client, send_cb, f);
  sim_stack_set_request_func (f->server, server_request_cb, f);
  sim_net_bind (f->net, "server", 5060, receive_cb, f->server);
  sim_net_bind (f->net, "ua", 5060, receive_cb, f->client);
  f->auto_status = 200;
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  g_clear_pointer (&f->last_txn, sim_server_txn_unref);
  g_ptr_array_unref (f->unanswered);
  g_assert_finalize_object (f->client);
  g_assert_finalize_object (f->server);
  g_assert_finalize_object (f->net);
  g_assert_finalize_object (f->clock);
  g_assert_finalize_object (f->trace);
  g_rand_free (f->rand);
  g_ptr_array_unref (f->responses);
  g_free (f->last_body);
}

static osip_message_t *
request (const char *method)
{
  g_autofree char *text = g_strdup_printf ("%s sip:lab.example SIP/2.0\r\n"
                                           "Max-Forwards: 70\r\n"
                                           "From: <sip:alice@lab.example>;tag=abc\r\n"
                                           "To: <sip:bob@lab.example>\r\n"
                                           "Call-ID: call-1@10.0.0.11\r\n"
                                           "CSeq: 1 %s\r\n"
                                           "Content-Length: 0\r\n\r\n", method, method);
  return sim_message_from_text (text);
}

static guint
count_packets (Fixture    *f,
               const char *action,
               const char *from)
{
  GPtrArray *events = sim_trace_get_events (f->trace);
  guint n = 0;

  for (guint i = 0; i < events->len; i++)
    {
      SimEvent *e = events->pdata[i];
      if (e->type == SIM_EVENT_PACKET && g_strcmp0 (e->action, action) == 0 &&
          (from == NULL || g_strcmp0 (e->from, from) == 0))
        n++;
    }
  return n;
}

static void
test_non_invite_gets_its_final_response (Fixture       *f,
                                         gconstpointer  data)
{
  sim_stack_send_request (f->client, request ("OPTIONS"), &f->server_addr, NULL, response_cb, f);
  sim_clock_run_until (f->clock, SIM_SEC (1));
  g_assert_cmpuint (f->responses->len, ==, 1);
  g_assert_cmpint (GPOINTER_TO_INT (f->responses->pdata[0]), ==, 200);
  g_assert_cmpuint (count_packets (f, "retransmitted", NULL), ==, 0);
  /* Timer K (T4) and Timer J (64*T1) clean both sides up. */
  sim_clock_run_until (f->clock, SIM_SEC (40));
  g_assert_cmpuint (sim_stack_get_n_transactions (f->client), ==, 0);
  g_assert_cmpuint (sim_stack_get_n_transactions (f->server), ==, 0);
}

static void
test_timer_e_retransmits_and_timer_f_gives_408 (Fixture       *f,
                                                gconstpointer  data)
{
  g_test_summary ("RFC 3261 §17.1.2.2: E doubles from T1 to T2; F fires at 64*T1 with a 408 for the TU");
  sim_net_set_host_up (f->net, "server", FALSE);
  sim_stack_send_request (f->client, request ("REGISTER"), &f->server_addr, NULL, response_cb, f);
  sim_clock_run_until (f->clock, SIM_MSEC (31999));
  g_assert_cmpuint (f->responses->len, ==, 0);
  /* Retransmissions at 0.5, 1.5, 3.5, 7.5, 11.5, ... 31.5 s: 4 doublings, then every T2. */
  g_assert_cmpuint (count_packets (f, "retransmitted", "ua"), ==, 10);
  sim_clock_run_until (f->clock, SIM_SEC (33));
  g_assert_cmpuint (f->responses->len, ==, 1);
  g_assert_cmpint (GPOINTER_TO_INT (f->responses->pdata[0]), ==, 408);
}

static void
test_retransmitted_request_gets_the_same_response (Fixture       *f,
                                                   gconstpointer  data)
{
  SimLinkParams lossy = { SIM_MSEC (20), 0, 0.0 };
  GPtrArray *events;
  const char *first = NULL, *second = NULL;

  /* The first 200 is lost on the way back; the UA retransmits; the server answers again. */
  f->auto_status = 200;
  sim_stack_send_request (f->client, request ("REGISTER"), &f->server_addr, NULL, response_cb, f);
  lossy.loss = 1.0;
  sim_clock_run_until (f->clock, SIM_MSEC (20));   /* request delivered, 200 sent */
  sim_net_set_link (f->net, "server", "ua", &lossy);
  sim_clock_run_until (f->clock, SIM_MSEC (100));
  lossy.loss = 0.0;
  sim_net_set_link (f->net, "server", "ua", &lossy);
  sim_clock_run_until (f->clock, SIM_SEC (2));
  g_assert_cmpuint (f->n_requests, ==, 1);  /* the TU saw it once */
  g_assert_cmpuint (f->responses->len, ==, 1);
  events = sim_trace_get_events (f->trace);
  for (guint i = 0; i < events->len; i++)
    {
      SimEvent *e = events->pdata[i];
      if (e->type == SIM_EVENT_PACKET && e->status == 200 && g_strcmp0 (e->from, "server") == 0)
        {
          if (first == NULL)
            first = e->raw;
          else if (second == NULL)
            second = e->raw;
        }
    }
  g_assert_nonnull (second);
  g_assert_cmpstr (first, ==, second);
}

static void
test_invite_failure_is_acked_by_the_transaction (Fixture       *f,
                                                 gconstpointer  data)
{
  f->auto_status = 486;
  sim_stack_send_request (f->client, request ("INVITE"), &f->server_addr, NULL, response_cb, f);
  sim_clock_run_until (f->clock, SIM_SEC (1));
  /* 100 Trying from the INVITE server transaction, then the 486. */
  g_assert_cmpuint (f->responses->len, ==, 2);
  g_assert_cmpint (GPOINTER_TO_INT (f->responses->pdata[0]), ==, 100);
  g_assert_cmpint (GPOINTER_TO_INT (f->responses->pdata[f->responses->len - 1]), ==, 486);
  /* The ACK was generated by the client transaction and absorbed by the server transaction. */
  g_assert_cmpuint (f->n_requests, ==, 1);
  {
    GPtrArray *events = sim_trace_get_events (f->trace);
    gboolean ack = FALSE;
    for (guint i = 0; i < events->len; i++)
      {
        SimEvent *e = events->pdata[i];
        if (e->type == SIM_EVENT_PACKET && g_strcmp0 (e->method, "ACK") == 0 && e->status == 0)
          ack = TRUE;
      }
    g_assert_true (ack);
  }
  /* No Timer G retransmission happened: the ACK stopped it. */
  sim_clock_run_until (f->clock, SIM_SEC (40));
  g_assert_cmpuint (count_packets (f, "retransmitted", "server"), ==, 0);
}

static void
test_unacknowledged_2xx_is_retransmitted (Fixture       *f,
                                          gconstpointer  data)
{
  g_test_summary ("RFC 3261 §13.3.1.4: a UAS retransmits its 2xx until the ACK comes");
  f->auto_status = 200;
  sim_stack_send_request (f->client, request ("INVITE"), &f->server_addr, NULL, response_cb, f);
  sim_clock_run_until (f->clock, SIM_SEC (3));
  /* Nobody sends the ACK (the client TU here does not): 200 again at 0.5, 1.5 s... */
  g_assert_cmpuint (count_packets (f, "retransmitted", "server"), >=, 2);
}

static void
test_invite_timer_b_gives_408 (Fixture       *f,
                               gconstpointer  data)
{
  sim_net_set_host_up (f->net, "server", FALSE);
  sim_stack_send_request (f->client, request ("INVITE"), &f->server_addr, NULL, response_cb, f);
  sim_clock_run_until (f->clock, SIM_SEC (33));
  /* Timer A doubles without a cap: 0.5, 1.5, 3.5, 7.5, 15.5, 31.5 s. */
  g_assert_cmpuint (count_packets (f, "retransmitted", "ua"), ==, 6);
  g_assert_cmpuint (f->responses->len, ==, 1);
  g_assert_cmpint (GPOINTER_TO_INT (f->responses->pdata[0]), ==, 408);
}

/* @text arrives at the server from @ip, port 5060, over UDP. */
static void
send_raw_from (Fixture    *f,
               const char *ip,
               const char *text)
{
  SimAddr ua;
  sim_addr_init (&ua, ip, 5060, SIM_TRANSPORT_UDP);
  sim_net_send (f->net, &ua, &f->server_addr, text, strlen (text), FALSE);
  sim_clock_run_until (f->clock, sim_clock_now (f->clock) + SIM_SEC (1));
}

static void
send_raw (Fixture    *f,
          const char *text)
{
  send_raw_from (f, "10.0.0.11", text);
}

static SimEvent *
last_packet_from (Fixture    *f,
                  const char *from)
{
  GPtrArray *events = sim_trace_get_events (f->trace);

  for (guint i = events->len; i > 0; i--)
    {
      SimEvent *e = events->pdata[i - 1];
      if (e->type == SIM_EVENT_PACKET && g_strcmp0 (e->action, "sent") == 0 &&
          g_strcmp0 (e->from, from) == 0)
        return e;
    }
  return NULL;
}

static void
test_request_without_cseq_gets_400 (Fixture       *f,
                                    gconstpointer  data)
{
  SimEvent *reply;

  send_raw (f, "REGISTER sip:lab.example SIP/2.0\r\n"
               "Via: SIP/2.0/UDP 10.0.0.11:5060;branch=z9hG4bKx1\r\n"
               "From: <sip:alice@lab.example>;tag=1\r\n"
               "To: <sip:alice@lab.example>\r\n"
               "Call-ID: c1\r\n"
               "Content-Length: 0\r\n\r\n");
  g_assert_cmpuint (f->n_requests, ==, 0);
  g_assert_cmpuint (count_packets (f, "sent", "server"), ==, 0);  /* no CSeq: cannot answer */

  send_raw (f, "REGISTER sip:lab.example SIP/2.0\r\n"
               "Via: SIP/2.0/UDP 10.0.0.11:5060;branch=z9hG4bKx2\r\n"
               "From: <sip:alice@lab.example>;tag=1\r\n"
               "To: <sip:alice@lab.example>\r\n"
               "Call-ID: c1\r\n"
               "CSeq: 1 INVITE\r\n"
               "Content-Length: 0\r\n\r\n");
  reply = last_packet_from (f, "server");
  g_assert_nonnull (reply);
  g_assert_cmpint (reply->status, ==, 400);
  g_assert_cmpuint (f->n_requests, ==, 0);
}

static void
test_garbage_is_dropped_without_harm (Fixture       *f,
                                      gconstpointer  data)
{
  static const char *junk[] = {
    "", "\r\n\r\n", "hello world", "SIP/2.0\r\n\r\n", "INVITE\r\n\r\n",
    "REGISTER sip:x SIP/2.0\r\nVia: garbage\r\n\r\n",
    "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKnope\r\nCSeq: 1 REGISTER\r\n\r\n",
  };

  for (guint i = 0; i < G_N_ELEMENTS (junk); i++)
    send_raw (f, junk[i]);
  /* Random bytes, seeded. */
  for (guint i = 0; i < 200; i++)
    {
      char buf[300];
      guint len = g_rand_int_range (f->rand, 1, sizeof buf);
      SimAddr ua;
      for (guint j = 0; j < len; j++)
        buf[j] = (char) g_rand_int_range (f->rand, 1, 256);
      sim_addr_init (&ua, "10.0.0.11", 5060, SIM_TRANSPORT_UDP);
      sim_stack_receive (f->server, &ua, buf, len);
    }
  g_assert_cmpuint (f->n_requests, ==, 0);
  /* And the stack still works. */
  sim_stack_send_request (f->client, request ("OPTIONS"), &f->server_addr, NULL, response_cb, f);
  sim_clock_run_until (f->clock, sim_clock_now (f->clock) + SIM_SEC (1));
  g_assert_cmpuint (f->responses->len, ==, 1);
}

static void
test_received_and_rport_are_stamped (Fixture       *f,
                                     gconstpointer  data)
{
  SimEvent *reply;

  g_test_summary ("RFC 3581: the response names the address the request really came from");
  send_raw (f, "OPTIONS sip:lab.example SIP/2.0\r\n"
               "Via: SIP/2.0/UDP 192.168.1.5:5070;branch=z9hG4bKnat;rport\r\n"
               "Max-Forwards: 70\r\n"
               "From: <sip:alice@lab.example>;tag=1\r\n"
               "To: <sip:lab.example>\r\n"
               "Call-ID: nat-1\r\n"
               "CSeq: 1 OPTIONS\r\n"
               "Content-Length: 0\r\n\r\n");
  reply = last_packet_from (f, "server");
  g_assert_nonnull (reply);
  g_assert_cmpint (reply->status, ==, 200);
  g_assert_nonnull (strstr (reply->raw, "received=10.0.0.11"));
  g_assert_nonnull (strstr (reply->raw, "rport=5060"));
  g_assert_cmpstr (reply->dst.ip, ==, "10.0.0.11");
}

/* A transport that cannot reach anyone and says so from inside the send function. */
static void
failing_send_cb (SimStack      *stack,
                 const SimAddr *dst,
                 const char    *data,
                 gsize          len,
                 gboolean       retransmission,
                 gpointer       user_data)
{
  Fixture *f = user_data;

  if (dst->transport == SIM_TRANSPORT_TCP)
    sim_stack_transport_error (stack, dst, "connection refused (test)");
  else
    send_cb (stack, dst, data, len, retransmission, f);
}

static void
test_transport_error_gives_503_at_once (Fixture       *f,
                                        gconstpointer  data)
{
  SimAddr tcp = f->server_addr;

  g_test_summary ("RFC 3261 §8.1.3.1: a transport error ends the client transactions to that "
                  "address with 503 right after the current event, not inside "
                  "sim_stack_send_request() and not with 408 after 32 s; others are untouched.");

  tcp.transport = SIM_TRANSPORT_TCP;
  sim_stack_set_send_func (f->client, failing_send_cb, f);
  sim_stack_send_request (f->client, request ("REGISTER"), &tcp, NULL, response_cb, f);
  sim_stack_send_request (f->client, request ("INVITE"), &tcp, NULL, response_cb, f);
  sim_stack_send_request (f->client, request ("OPTIONS"), &f->server_addr, NULL, response_cb, f);
  /* Not delivered from inside the send function: the TU has not even got the transaction. */
  g_assert_cmpuint (f->responses->len, ==, 0);
  sim_clock_run_until (f->clock, 0);
  g_assert_cmpuint (f->responses->len, ==, 2);
  g_assert_cmpint (GPOINTER_TO_INT (f->responses->pdata[0]), ==, 503);
  g_assert_cmpint (GPOINTER_TO_INT (f->responses->pdata[1]), ==, 503);
  /* The UDP OPTIONS goes on and gets its 200. */
  sim_clock_run_until (f->clock, SIM_SEC (40));
  g_assert_cmpuint (f->responses->len, ==, 3);
  g_assert_cmpint (GPOINTER_TO_INT (f->responses->pdata[2]), ==, 200);
  g_assert_cmpuint (sim_stack_get_n_transactions (f->client), ==, 0);
}

static void
test_pending_transport_error_goes_with_the_stack (Fixture       *f,
                                                  gconstpointer  data)
{
  SimAddr tcp = f->server_addr;

  g_test_summary ("A transport error still waiting on the clock holds no reference: the stack "
                  "(and its clock) can go before the clock runs it; the tear-down checks that.");

  tcp.transport = SIM_TRANSPORT_TCP;
  sim_stack_set_send_func (f->client, failing_send_cb, f);
  sim_stack_send_request (f->client, request ("REGISTER"), &tcp, NULL, response_cb, f);
  g_assert_cmpuint (sim_clock_pending_count (f->clock), >, 0);
  g_assert_cmpuint (f->responses->len, ==, 0);
}


/* ---------------------------------------------------------------------------------------- */
/* Attack cost: caps before parsing, stateless answers, the transaction cap                   */

/* A REGISTER from the UA with @extra header lines (each ending in CRLF) before the blank line. */
static char *
register_with (const char *branch,
               const char *extra)
{
  return g_strdup_printf ("REGISTER sip:lab.example SIP/2.0\r\n"
                          "Via: SIP/2.0/UDP 10.0.0.11:5060;branch=%s;rport\r\n"
                          "Max-Forwards: 70\r\n"
                          "From: <sip:alice@lab.example>;tag=1\r\n"
                          "To: <sip:alice@lab.example>\r\n"
                          "Call-ID: cap-1\r\n"
                          "CSeq: 1 REGISTER\r\n"
                          "%s"
                          "Content-Length: 0\r\n\r\n", branch, extra);
}

static void
assert_refused_unparsed (Fixture    *f,
                         const char *text,
                         int         status)
{
  SimEvent *reply;
  guint before = count_packets (f, "sent", "server");

  n_list_adds = 0;
  send_raw (f, text);
  /* The request and the few headers a response copies, not its hundreds of lines. */
  g_assert_cmpuint (n_list_adds, <, 60);
  g_assert_cmpuint (f->n_requests, ==, 0);
  g_assert_cmpuint (sim_stack_get_n_transactions (f->server), ==, 0);
  if (status == 0)
    {
      g_assert_cmpuint (count_packets (f, "sent", "server"), ==, before);
      return;
    }
  g_assert_cmpuint (count_packets (f, "sent", "server"), ==, before + 1);
  reply = last_packet_from (f, "server");
  g_assert_cmpint (reply->status, ==, status);
  g_assert_nonnull (strstr (reply->raw, "Call-ID: cap-1\r\n"));
  g_assert_nonnull (strstr (reply->raw, "received=10.0.0.11"));
}

static void
test_too_many_header_lines_get_513_unparsed (Fixture       *f,
                                             gconstpointer  data)
{
  g_autoptr(GString) extra = g_string_new (NULL);
  g_autofree char *text = NULL;

  g_test_summary ("RFC 3261 §21.5.14: more than SIM_MESSAGE_MAX_HEADER_LINES header lines get "
                  "513 from the few headers a response copies; the rest is never parsed and "
                  "no transaction is made");
  for (guint i = 0; i < SIM_MESSAGE_MAX_HEADER_LINES; i++)
    g_string_append_printf (extra, "X-Pad: %u\r\n", i);
  text = register_with ("z9hG4bKcap1", extra->str);
  assert_refused_unparsed (f, text, 513);

  /* A folded header is counted line by line. */
  g_string_truncate (extra, 0);
  g_string_append (extra, "Subject: a\r\n");
  for (guint i = 0; i < SIM_MESSAGE_MAX_HEADER_LINES; i++)
    g_string_append (extra, " b\r\n");
  g_free (text);
  text = register_with ("z9hG4bKcap2", extra->str);
  assert_refused_unparsed (f, text, 513);

  /* At the limit it is served as always. */
  g_string_truncate (extra, 0);
  for (guint i = 0; i < SIM_MESSAGE_MAX_HEADER_LINES - 8; i++)
    g_string_append_printf (extra, "X-Pad: %u\r\n", i);
  g_free (text);
  text = register_with ("z9hG4bKcap3", extra->str);
  send_raw (f, text);
  g_assert_cmpuint (f->n_requests, ==, 1);
  g_assert_cmpint (last_packet_from (f, "server")->status, ==, 200);
}

static void
test_overlong_header_line_gets_513_unparsed (Fixture       *f,
                                             gconstpointer  data)
{
  g_autofree char *pad = g_strnfill (SIM_MESSAGE_MAX_LINE_LENGTH, 'a');
  g_autofree char *extra = g_strdup_printf ("Subject: %s\r\n", pad);
  g_autofree char *text = register_with ("z9hG4bKlong1", extra);
  g_autofree char *from = NULL;

  assert_refused_unparsed (f, text, 513);

  /* When a header the response must copy is itself too long, there is nothing bounded to
   * answer with: dropped. */
  from = g_strdup_printf ("REGISTER sip:lab.example SIP/2.0\r\n"
                          "Via: SIP/2.0/UDP 10.0.0.11:5060;branch=z9hG4bKlong2;rport\r\n"
                          "Max-Forwards: 70\r\n"
                          "From: \"%s\" <sip:alice@lab.example>;tag=1\r\n"
                          "To: <sip:alice@lab.example>\r\n"
                          "Call-ID: cap-1\r\n"
                          "CSeq: 1 REGISTER\r\n"
                          "Content-Length: 0\r\n\r\n", pad);
  assert_refused_unparsed (f, from, 0);
}

static void
test_too_many_contacts_get_513_unparsed (Fixture       *f,
                                         gconstpointer  data)
{
  g_autoptr(GString) extra = g_string_new ("Contact: ");
  g_autofree char *text = NULL;

  for (guint i = 0; i <= SIM_MESSAGE_MAX_CONTACTS; i++)
    g_string_append_printf (extra, "%s<sip:a%u@10.0.0.11>", i > 0 ? ", " : "", i);
  g_string_append (extra, "\r\n");
  text = register_with ("z9hG4bKcontacts1", extra->str);
  assert_refused_unparsed (f, text, 513);

  /* Spread over lines (m is Contact's compact form); commas in quotes and <> do not count. */
  g_string_truncate (extra, 0);
  for (guint i = 0; i <= SIM_MESSAGE_MAX_CONTACTS; i++)
    g_string_append_printf (extra, "m: \"a, b\" <sip:a%u@10.0.0.11;x=1,2>\r\n", i);
  g_free (text);
  text = register_with ("z9hG4bKcontacts2", extra->str);
  assert_refused_unparsed (f, text, 513);

  /* Exactly the limit, with commas only inside quotes and <>, is served. */
  g_string_truncate (extra, 0);
  for (guint i = 0; i < SIM_MESSAGE_MAX_CONTACTS; i++)
    g_string_append_printf (extra, "m: \"a, b\" <sip:a%u@10.0.0.11>\r\n", i);
  g_free (text);
  text = register_with ("z9hG4bKcontacts3", extra->str);
  send_raw (f, text);
  g_assert_cmpuint (f->n_requests, ==, 1);
}

static void
test_over_limit_response_is_dropped (Fixture       *f,
                                     gconstpointer  data)
{
  g_autoptr(GString) text = g_string_new (NULL);
  SimClientTxn *txn;
  SimAddr server = f->server_addr;

  f->auto_status = 0;
  txn = sim_stack_send_request (f->client, request ("OPTIONS"), &f->server_addr, NULL,
                                response_cb, f);
  sim_clock_run_until (f->clock, SIM_MSEC (100));
  g_string_printf (text, "SIP/2.0 200 OK\r\n"
                         "Via: SIP/2.0/UDP 10.0.0.11:5060;branch=%s;rport\r\n"
                         "From: <sip:alice@lab.example>;tag=abc\r\n"
                         "To: <sip:bob@lab.example>;tag=x\r\n"
                         "Call-ID: call-1@10.0.0.11\r\n"
                         "CSeq: 1 OPTIONS\r\n", sim_client_txn_get_branch (txn));
  for (guint i = 0; i < SIM_MESSAGE_MAX_HEADER_LINES; i++)
    g_string_append (text, "X-Pad: 1\r\n");
  g_string_append (text, "Content-Length: 0\r\n\r\n");
  n_list_adds = 0;
  sim_stack_receive (f->client, &server, text->str, text->len);
  g_assert_cmpuint (n_list_adds, ==, 0);
  g_assert_cmpuint (f->responses->len, ==, 0);
}

static void
test_stateless_response_leaves_no_transaction (Fixture       *f,
                                               gconstpointer  data)
{
  g_test_summary ("RFC 3261 §8.2.7: a 401 sent statelessly keeps nothing; a retransmission is "
                  "a new request and gets a new 401");
  f->auto_status = 401;
  f->stateless = TRUE;
  sim_stack_send_request (f->client, request ("REGISTER"), &f->server_addr, NULL, response_cb, f);
  sim_clock_run_until (f->clock, SIM_MSEC (100));
  g_assert_cmpuint (f->responses->len, ==, 1);
  g_assert_cmpint (GPOINTER_TO_INT (f->responses->pdata[0]), ==, 401);
  g_assert_cmpuint (sim_stack_get_n_transactions (f->server), ==, 0);
  g_assert_true (sim_server_txn_has_final (f->last_txn));

  /* The same request again (the 401 lost): the TU sees it anew. */
  send_raw (f, "REGISTER sip:lab.example SIP/2.0\r\n"
               "Via: SIP/2.0/UDP 10.0.0.11:5060;branch=z9hG4bKagain;rport\r\n"
               "Max-Forwards: 70\r\n"
               "From: <sip:alice@lab.example>;tag=1\r\n"
               "To: <sip:alice@lab.example>\r\n"
               "Call-ID: again\r\n"
               "CSeq: 1 REGISTER\r\n"
               "Content-Length: 0\r\n\r\n");
  send_raw (f, "REGISTER sip:lab.example SIP/2.0\r\n"
               "Via: SIP/2.0/UDP 10.0.0.11:5060;branch=z9hG4bKagain;rport\r\n"
               "Max-Forwards: 70\r\n"
               "From: <sip:alice@lab.example>;tag=1\r\n"
               "To: <sip:alice@lab.example>\r\n"
               "Call-ID: again\r\n"
               "CSeq: 1 REGISTER\r\n"
               "Content-Length: 0\r\n\r\n");
  g_assert_cmpuint (f->n_requests, ==, 3);
  g_assert_cmpuint (sim_stack_get_n_transactions (f->server), ==, 0);
}

static void
test_ack_to_stateless_response_is_absorbed (Fixture       *f,
                                            gconstpointer  data)
{
  g_test_summary ("The ACK to a 407 sent statelessly carries our marked To tag: the stack drops "
                  "it instead of giving the TU an ACK it would take for a 2xx's");
  f->auto_status = 407;
  f->stateless = TRUE;
  sim_stack_send_request (f->client, request ("INVITE"), &f->server_addr, NULL, response_cb, f);
  sim_clock_run_until (f->clock, SIM_SEC (1));
  /* No 100 Trying before a stateless final response (RFC 3261 §8.2.7). */
  g_assert_cmpuint (f->responses->len, ==, 1);
  g_assert_cmpint (GPOINTER_TO_INT (f->responses->pdata[0]), ==, 407);
  /* The client transaction sent its ACK; the server TU saw only the INVITE. */
  g_assert_cmpuint (count_packets (f, "sent", "ua"), ==, 2);
  g_assert_cmpuint (f->n_requests, ==, 1);
  g_assert_cmpuint (sim_stack_get_n_transactions (f->server), ==, 0);
  /* Nothing is retransmitted: no transaction waits for that ACK. */
  sim_clock_run_until (f->clock, SIM_SEC (40));
  g_assert_cmpuint (count_packets (f, "retransmitted", "server"), ==, 0);
}

static void
test_lost_stateless_407_is_asked_for_again (Fixture       *f,
                                            gconstpointer  data)
{
  g_test_summary ("A final response sent statelessly to an INVITE follows no 100 Trying "
                  "(RFC 3261 §8.2.7): a client in Proceeding would stop retransmitting "
                  "(§17.1.1.2), so a lost 407 would end the call attempt with 408 after 32 s");
  f->auto_status = 407;
  f->stateless = TRUE;
  f->drop_407 = 1;
  sim_stack_send_request (f->client, request ("INVITE"), &f->server_addr, NULL, response_cb, f);
  sim_clock_run_until (f->clock, SIM_SEC (5));
  g_assert_cmpuint (f->responses->len, ==, 1);
  g_assert_cmpint (GPOINTER_TO_INT (f->responses->pdata[0]), ==, 407);
  g_assert_cmpuint (f->n_requests, ==, 2);
}

static void
test_transaction_cap_gives_503 (Fixture       *f,
                                gconstpointer  data)
{
  SimEvent *reply;

  g_test_summary ("Beyond the cap on live transactions a new request gets 503 with Retry-After, "
                  "statelessly; the transactions that exist still get their responses");
  sim_stack_set_max_transactions (f->server, 2);
  f->auto_status = 0;
  send_raw (f, "OPTIONS sip:lab.example SIP/2.0\r\n"
               "Via: SIP/2.0/UDP 10.0.0.11:5060;branch=z9hG4bKcap-a;rport\r\n"
               "Max-Forwards: 70\r\n"
               "From: <sip:alice@lab.example>;tag=1\r\n"
               "To: <sip:lab.example>\r\n"
               "Call-ID: cap-a\r\n"
               "CSeq: 1 OPTIONS\r\n"
               "Content-Length: 0\r\n\r\n");
  /* From another address: one address alone may hold only its share (one of two). */
  send_raw_from (f, "10.0.0.12",
                 "OPTIONS sip:lab.example SIP/2.0\r\n"
               "Via: SIP/2.0/UDP 10.0.0.11:5060;branch=z9hG4bKcap-b;rport\r\n"
               "Max-Forwards: 70\r\n"
               "From: <sip:alice@lab.example>;tag=1\r\n"
               "To: <sip:lab.example>\r\n"
               "Call-ID: cap-b\r\n"
               "CSeq: 1 OPTIONS\r\n"
               "Content-Length: 0\r\n\r\n");
  g_assert_cmpuint (sim_stack_get_n_transactions (f->server), ==, 2);
  send_raw (f, "INVITE sip:lab.example SIP/2.0\r\n"
               "Via: SIP/2.0/UDP 10.0.0.11:5060;branch=z9hG4bKcap-c;rport\r\n"
               "Max-Forwards: 70\r\n"
               "From: <sip:alice@lab.example>;tag=1\r\n"
               "To: <sip:lab.example>\r\n"
               "Call-ID: cap-c\r\n"
               "CSeq: 1 INVITE\r\n"
               "Content-Length: 0\r\n\r\n");
  reply = last_packet_from (f, "server");
  g_assert_cmpint (reply->status, ==, 503);
  g_assert_nonnull (strstr (reply->raw, "Retry-After: 5\r\n"));
  g_assert_cmpuint (f->n_requests, ==, 2);
  g_assert_cmpuint (sim_stack_get_n_transactions (f->server), ==, 2);
  /* Its ACK is absorbed like any ACK to a stateless response. */
  {
    g_autofree char *ack = NULL;
    const char *tag = strstr (reply->raw, "To: <sip:lab.example>;tag=");

    g_assert_nonnull (tag);
    tag += strlen ("To: <sip:lab.example>;tag=");
    ack = g_strdup_printf ("ACK sip:lab.example SIP/2.0\r\n"
                           "Via: SIP/2.0/UDP 10.0.0.11:5060;branch=z9hG4bKcap-c;rport\r\n"
                           "Max-Forwards: 70\r\n"
                           "From: <sip:alice@lab.example>;tag=1\r\n"
                           "To: <sip:lab.example>;tag=%.*s\r\n"
                           "Call-ID: cap-c\r\n"
                           "CSeq: 1 ACK\r\n"
                           "Content-Length: 0\r\n\r\n", (int) strcspn (tag, "\r"), tag);
    send_raw (f, ack);
    g_assert_cmpuint (f->n_requests, ==, 2);
  }
  /* The live transaction still answers. */
  sim_server_txn_reply (f->last_txn, 200, NULL);
  sim_clock_run_until (f->clock, sim_clock_now (f->clock) + SIM_SEC (1));
  g_assert_cmpint (last_packet_from (f, "server")->status, ==, 200);
}

/* A MESSAGE from a foreign domain with a body of @body_len bytes. */
static char *
big_message (const char *branch,
             gsize       body_len)
{
  g_autofree char *body = g_strnfill (body_len, 'x');

  return g_strdup_printf ("MESSAGE sip:bob@lab.example SIP/2.0\r\n"
                          "Via: SIP/2.0/UDP 10.0.0.11:5060;branch=%s;rport\r\n"
                          "Max-Forwards: 70\r\n"
                          "From: <sip:stranger@elsewhere.example>;tag=1\r\n"
                          "To: <sip:bob@lab.example>\r\n"
                          "Call-ID: %s@elsewhere\r\n"
                          "CSeq: 1 MESSAGE\r\n"
                          "Content-Type: text/plain\r\n"
                          "Content-Length: %" G_GSIZE_FORMAT "\r\n\r\n%s",
                          branch, branch, body_len, body);
}

static guint
count_notes (Fixture    *f,
             const char *needle)
{
  return test_count_notes (f->trace, needle);
}

static void
test_byte_budget_gives_503 (Fixture       *f,
                            gconstpointer  data)
{
  const guint64 budget = 100000;
  g_autofree char *first = big_message ("z9hG4bKbig0", 30000);
  guint64 held;
  SimEvent *reply;

  g_test_summary ("Issue 9 item 4: requests the TU holds count their bytes; a new request that "
                  "would take them over the byte budget gets 503 with Retry-After statelessly, "
                  "traced as the memory limit, while a retransmission of a held request is not "
                  "refused and a small request still has its reserve; when every transaction "
                  "is over, no byte is counted any more");
  g_assert_cmpuint (sim_stack_get_max_transaction_bytes (f->server), ==,
                    SIM_STACK_MAX_TRANSACTION_BYTES);
  sim_stack_set_max_transaction_bytes (f->server, budget);
  f->auto_status = 0;
  send_raw (f, first);
  /* The received text, counted while the request is held. */
  g_assert_cmpuint (sim_stack_get_held_bytes (f->server), ==, strlen (first));
  /* Each from an address of its own, since one address may hold only its share (1/16). */
  for (guint i = 1; i < 3; i++)
    {
      g_autofree char *branch = g_strdup_printf ("z9hG4bKbig%u", i);
      g_autofree char *text = big_message (branch, 30000);
      g_autofree char *ip = g_strdup_printf ("10.0.0.%u", 11 + i);
      send_raw_from (f, ip, text);
    }
  g_assert_cmpuint (f->n_requests, ==, 3);
  held = sim_stack_get_held_bytes (f->server);
  g_assert_cmpuint (held, ==, 3 * strlen (first));

  /* The fourth would take the total to about 120,000 bytes. */
  {
    g_autofree char *text = big_message ("z9hG4bKbig3", 30000);
    send_raw_from (f, "10.0.0.14", text);
  }
  reply = last_packet_from (f, "server");
  g_assert_nonnull (reply);
  g_assert_cmpint (reply->status, ==, 503);
  g_assert_nonnull (strstr (reply->raw, "Retry-After: 5\r\n"));
  g_assert_nonnull (strstr (reply->raw, "too much memory"));
  g_assert_cmpuint (count_notes (f, "(the limit for it is 100000 bytes): MESSAGE"), ==, 1);
  g_assert_cmpuint (f->n_requests, ==, 3);
  g_assert_cmpuint (sim_stack_get_n_transactions (f->server), ==, 3);
  g_assert_cmpuint (sim_stack_get_held_bytes (f->server), ==, held);
  g_assert_cmpuint (sim_stack_get_held_bytes (f->server), <=, budget);

  /* A retransmission of a held request matches its transaction: nothing is refused. */
  {
    guint sent = count_packets (f, "sent", "server");
    send_raw (f, first);
    g_assert_cmpuint (count_packets (f, "sent", "server"), ==, sent);
    g_assert_cmpuint (count_notes (f, "gets 503 statelessly"), ==, 1);
  }

  /* A small request has the reserve above the budget (one eighth). */
  f->auto_status = 200;
  send_raw_from (f, "10.0.0.15",
                 "OPTIONS sip:lab.example SIP/2.0\r\n"
               "Via: SIP/2.0/UDP 10.0.0.11:5060;branch=z9hG4bKsmall;rport\r\n"
               "Max-Forwards: 70\r\n"
               "From: <sip:alice@lab.example>;tag=1\r\n"
               "To: <sip:lab.example>\r\n"
               "Call-ID: small\r\n"
               "CSeq: 1 OPTIONS\r\n"
               "Content-Length: 0\r\n\r\n");
  g_assert_cmpint (last_packet_from (f, "server")->status, ==, 200);
  g_assert_cmpuint (sim_stack_get_n_transactions (f->server), ==, 4);

  /* Answered, the requests go and only the responses count; after Timer J nothing does. */
  for (guint i = 0; i < f->unanswered->len; i++)
    sim_server_txn_reply (f->unanswered->pdata[i], 200, NULL);
  g_assert_cmpuint (sim_stack_get_held_bytes (f->server), <, 4 * 1000);
  sim_clock_run_until (f->clock, sim_clock_now (f->clock) + SIM_SEC (40));
  g_assert_cmpuint (sim_stack_get_n_transactions (f->server), ==, 0);
  g_assert_cmpuint (sim_stack_get_held_bytes (f->server), ==, 0);

  /* And the budget is free again for a big request. */
  {
    g_autofree char *text = big_message ("z9hG4bKbig4", 30000);
    send_raw (f, text);
  }
  g_assert_cmpint (last_packet_from (f, "server")->status, ==, 200);
}

/* A REGISTER or OPTIONS of alice's phone at 10.0.0.11 (@tag keeps their branches apart). */
static void
send_phone_request (Fixture    *f,
                    const char *method,
                    const char *tag)
{
  g_autofree char *text = NULL;

  text = g_strdup_printf ("%s sip:lab.example SIP/2.0\r\n"
                          "Via: SIP/2.0/UDP 10.0.0.11:5060;branch=z9hG4bKphone%s;rport\r\n"
                          "Max-Forwards: 70\r\n"
                          "From: <sip:alice@lab.example>;tag=p%s\r\n"
                          "To: <sip:alice@lab.example>\r\n"
                          "Call-ID: phone%s@10.0.0.11\r\n"
                          "CSeq: 1 %s\r\n"
                          "Contact: <sip:alice@10.0.0.11:5060>\r\n"
                          "Expires: 600\r\n"
                          "Content-Length: 0\r\n\r\n", method, tag, tag, tag, method);
  send_raw_from (f, "10.0.0.11", text);
}

/*
 * The stranger at 10.0.0.66 sends MESSAGEs with @body_len bytes of body until one gets 503 (or
 * 100 were sent); returns how many it sent.
 */
static guint
flood_until_503 (Fixture *f,
                 gsize    body_len)
{
  static guint serial;
  guint refused = count_notes (f, "gets 503 statelessly");
  guint sent = 0;

  while (count_notes (f, "gets 503 statelessly") == refused && sent < 100)
    {
      g_autofree char *branch = g_strdup_printf ("z9hG4bKflood%u", serial++);
      g_autofree char *text = big_message (branch, body_len);

      send_raw_from (f, "10.0.0.66", text);
      sent++;
    }
  g_assert_cmpuint (count_notes (f, "gets 503 statelessly"), ==, refused + 1);
  g_assert_cmpint (last_packet_from (f, "server")->status, ==, 503);
  g_assert_nonnull (strstr (last_packet_from (f, "server")->raw, "Retry-After: 5\r\n"));
  return sent;
}

static void
test_one_source_gets_its_share_of_the_count (Fixture       *f,
                                             gconstpointer  data)
{
  g_test_summary ("Issue 9 item 4: a stranger's requests that nobody answers may fill the count "
                  "cap up to half (16 of 32); from then on it is held to its share (1/16, 2 of "
                  "32): the next gets 503 with Retry-After statelessly, traced as the address's "
                  "share, while our phone's REGISTER and OPTIONS from another address are still "
                  "served; when the transactions end no source is left in the table");
  sim_stack_set_max_transactions (f->server, 32);
  f->auto_status = 0;
  g_assert_cmpuint (flood_until_503 (f, 10), ==, 17);
  g_assert_cmpuint (f->n_requests, ==, 16);
  g_assert_nonnull (strstr (last_packet_from (f, "server")->raw, "this address holds"));
  g_assert_cmpuint (count_notes (f, "this address holds 16 transactions"), ==, 1);
  g_assert_cmpuint (sim_stack_get_n_sources (f->server), ==, 1);

  f->auto_status = 200;
  send_phone_request (f, "REGISTER", "r1");
  g_assert_cmpint (last_packet_from (f, "server")->status, ==, 200);
  send_phone_request (f, "OPTIONS", "o1");
  g_assert_cmpint (last_packet_from (f, "server")->status, ==, 200);
  g_assert_cmpuint (sim_stack_get_n_sources (f->server), ==, 2);

  /* Timer J ends the phone's; the stranger's, answered at last, end too. */
  for (guint i = 0; i < f->unanswered->len; i++)
    sim_server_txn_reply (f->unanswered->pdata[i], 200, NULL);
  sim_clock_run_until (f->clock, sim_clock_now (f->clock) + SIM_SEC (40));
  g_assert_cmpuint (sim_stack_get_n_transactions (f->server), ==, 0);
  g_assert_cmpuint (sim_stack_get_n_sources (f->server), ==, 0);
  g_assert_cmpuint (sim_stack_get_held_bytes (f->server), ==, 0);
}

static void
test_one_source_gets_its_share_of_the_bytes (Fixture       *f,
                                             gconstpointer  data)
{
  g_test_summary ("Issue 9 item 4: a stranger's big, then small, then tiny MESSAGEs that a proxy "
                  "forwards to a silent phone are charged to the stranger twice (its server "
                  "transaction and the client transaction forwarding it); past half the budget "
                  "it is held to its share (1/16), so it cannot also fill the reserve of "
                  "small requests: our phone's REGISTER from another address still gets 200; "
                  "when Timer F and Timer J have run, nothing is charged any more");
  sim_stack_set_max_transaction_bytes (f->server, 160000);
  f->auto_status = 0;
  f->forward = TRUE;
  flood_until_503 (f, 30000);
  flood_until_503 (f, 3500);
  flood_until_503 (f, 0);
  /* Two admitted: with their forwarded copies they hold 120 KB, over half the budget and over
   * the share of 10,000 bytes, so nothing more of the stranger's, big or small. */
  g_assert_cmpuint (f->n_requests, ==, 2);
  g_assert_cmpuint (count_notes (f, "this address holds 4 transactions"), ==, 3);

  f->auto_status = 200;
  send_phone_request (f, "REGISTER", "r2");
  g_assert_cmpint (last_packet_from (f, "server")->status, ==, 200);
  send_phone_request (f, "OPTIONS", "o2");
  g_assert_cmpint (last_packet_from (f, "server")->status, ==, 200);

  /* The forwarded copy times out (Timer F, then the server transaction is answered). */
  for (guint i = 0; i < f->unanswered->len; i++)
    sim_server_txn_reply (f->unanswered->pdata[i], 408, NULL);
  sim_clock_run_until (f->clock, sim_clock_now (f->clock) + SIM_SEC (70));
  g_assert_cmpuint (sim_stack_get_n_transactions (f->server), ==, 0);
  g_assert_cmpuint (sim_stack_get_n_sources (f->server), ==, 0);
  g_assert_cmpuint (sim_stack_get_held_bytes (f->server), ==, 0);
}

static void
test_count_cap_is_traced_as_count (Fixture       *f,
                                   gconstpointer  data)
{
  g_autofree char *text = big_message ("z9hG4bKcount", 100);

  g_test_summary ("The 503 of the count cap and the one of the byte budget say which limit "
                  "was hit, in the reason phrase and in the trace");
  sim_stack_set_max_transactions (f->server, 0);
  send_raw (f, text);
  g_assert_cmpint (last_packet_from (f, "server")->status, ==, 503);
  g_assert_nonnull (strstr (last_packet_from (f, "server")->raw, "too many transactions"));
  g_assert_cmpuint (count_notes (f, "0 transactions are live (the limit): MESSAGE"), ==, 1);
}

static void
test_client_bytes_are_counted_until_the_end (Fixture       *f,
                                             gconstpointer  data)
{
  g_autoptr(osip_message_t) invite = NULL;
  g_autofree char *text = big_message ("z9hG4bKignored", 20000);
  osip_message_t *message = sim_message_from_text (text);
  SimClientTxn *txn;
  guint64 held;

  g_test_summary ("A client transaction counts its request text until its final response (and "
                  "an INVITE its ACK until Timer D); Timer F, Timer D, the end of the stack and "
                  "sim_stack_reset all bring the count back to zero");
  /* The server never answers: Timer F ends the MESSAGE with 408 after 32 s. */
  f->auto_status = 0;
  osip_list_special_free (&message->vias, (void (*) (void *)) osip_via_free);
  txn = sim_stack_send_request (f->client, message, &f->server_addr, NULL, response_cb, f);
  held = sim_stack_get_held_bytes (f->client);
  g_assert_cmpuint (held, >, 20000);
  g_assert_cmpuint (held, <, 21000);
  g_assert_false (sim_client_txn_is_terminated (txn));
  sim_clock_run_until (f->clock, SIM_SEC (10));
  /* Retransmissions do not add: the text is held once. */
  g_assert_cmpuint (sim_stack_get_held_bytes (f->client), ==, held);
  g_assert_cmpuint (sim_stack_get_held_bytes (f->server), >, 20000);
  sim_clock_run_until (f->clock, SIM_SEC (40));
  g_assert_cmpuint (f->responses->len, ==, 1);
  g_assert_cmpint (GPOINTER_TO_INT (f->responses->pdata[0]), ==, 408);
  g_assert_cmpuint (sim_stack_get_n_transactions (f->client), ==, 0);
  g_assert_cmpuint (sim_stack_get_held_bytes (f->client), ==, 0);

  /* An INVITE refused with 486: the ACK is kept for retransmitted 486s until Timer D. */
  f->auto_status = 486;
  sim_stack_send_request (f->client, request ("INVITE"), &f->server_addr, NULL, response_cb, f);
  sim_clock_run_until (f->clock, SIM_SEC (41));
  g_assert_cmpint (GPOINTER_TO_INT (f->responses->pdata[f->responses->len - 1]), ==, 486);
  g_assert_cmpuint (sim_stack_get_n_transactions (f->client), ==, 1);
  g_assert_cmpuint (sim_stack_get_held_bytes (f->client), >, 100);
  g_assert_cmpuint (sim_stack_get_held_bytes (f->client), <, 1000);
  sim_clock_run_until (f->clock, SIM_SEC (80));
  g_assert_cmpuint (sim_stack_get_n_transactions (f->client), ==, 0);
  g_assert_cmpuint (sim_stack_get_held_bytes (f->client), ==, 0);

  /* Transactions forgotten at once (power lost), or left when the stack goes (the tear-down,
   * which asserts the count is zero in dispose). */
  sim_stack_send_request (f->client, request ("OPTIONS"), &f->server_addr, NULL, response_cb, f);
  g_assert_cmpuint (sim_stack_get_held_bytes (f->client), >, 0);
  sim_stack_reset (f->client);
  g_assert_cmpuint (sim_stack_get_held_bytes (f->client), ==, 0);
  invite = request ("INVITE");
  sim_stack_send_request (f->client, g_steal_pointer (&invite), &f->server_addr, NULL, response_cb, f);
  g_assert_cmpuint (sim_stack_get_held_bytes (f->client), >, 0);
}

static void
test_response_without_rport_goes_to_sent_by_port (Fixture       *f,
                                                  gconstpointer  data)
{
  SimEvent *reply;

  g_test_summary ("RFC 3261 §18.2.2: without rport the response goes to the received address "
                  "at the Via sent-by port (5060 when none), not to the source port");
  send_raw (f, "OPTIONS sip:lab.example SIP/2.0\r\n"
               "Via: SIP/2.0/UDP 10.0.0.11:5070;branch=z9hG4bKsentby1\r\n"
               "Max-Forwards: 70\r\n"
               "From: <sip:alice@lab.example>;tag=1\r\n"
               "To: <sip:lab.example>\r\n"
               "Call-ID: sent-by-1\r\n"
               "CSeq: 1 OPTIONS\r\n"
               "Content-Length: 0\r\n\r\n");
  reply = last_packet_from (f, "server");
  g_assert_cmpint (reply->status, ==, 200);
  g_assert_cmpstr (reply->dst.ip, ==, "10.0.0.11");
  g_assert_cmpuint (reply->dst.port, ==, 5070);

  {
    const char *text = "OPTIONS sip:lab.example SIP/2.0\r\n"
                       "Via: SIP/2.0/UDP 192.168.1.5;branch=z9hG4bKsentby2\r\n"
                       "Max-Forwards: 70\r\n"
                       "From: <sip:alice@lab.example>;tag=1\r\n"
                       "To: <sip:lab.example>\r\n"
                       "Call-ID: sent-by-2\r\n"
                       "CSeq: 1 OPTIONS\r\n"
                       "Content-Length: 0\r\n\r\n";
    SimAddr ua;

    sim_addr_init (&ua, "10.0.0.11", 6000, SIM_TRANSPORT_UDP);
    sim_net_send (f->net, &ua, &f->server_addr, text, strlen (text), FALSE);
    sim_clock_run_until (f->clock, sim_clock_now (f->clock) + SIM_SEC (1));
  }
  reply = last_packet_from (f, "server");
  g_assert_cmpint (reply->status, ==, 200);
  g_assert_cmpstr (reply->dst.ip, ==, "10.0.0.11");
  g_assert_cmpuint (reply->dst.port, ==, 5060);
}

static void
test_content_length_beyond_the_datagram_gets_400 (Fixture       *f,
                                                  gconstpointer  data)
{
  SimEvent *reply;

  g_test_summary ("RFC 3261 §18.3: over UDP a Content-Length larger than the body received is "
                  "a 400; a smaller one cuts the body");
  send_raw (f, "MESSAGE sip:lab.example SIP/2.0\r\n"
               "Via: SIP/2.0/UDP 10.0.0.11:5060;branch=z9hG4bKclen1;rport\r\n"
               "Max-Forwards: 70\r\n"
               "From: <sip:alice@lab.example>;tag=1\r\n"
               "To: <sip:lab.example>\r\n"
               "Call-ID: cap-1\r\n"
               "CSeq: 1 MESSAGE\r\n"
               "Content-Type: text/plain\r\n"
               "Content-Length: 100\r\n\r\n"
               "only ten b");
  reply = last_packet_from (f, "server");
  g_assert_nonnull (reply);
  g_assert_cmpint (reply->status, ==, 400);
  g_assert_cmpuint (f->n_requests, ==, 0);
  g_assert_cmpuint (sim_stack_get_n_transactions (f->server), ==, 0);

  send_raw (f, "MESSAGE sip:lab.example SIP/2.0\r\n"
               "Via: SIP/2.0/UDP 10.0.0.11:5060;branch=z9hG4bKclen2;rport\r\n"
               "Max-Forwards: 70\r\n"
               "From: <sip:alice@lab.example>;tag=1\r\n"
               "To: <sip:lab.example>\r\n"
               "Call-ID: cap-2\r\n"
               "CSeq: 1 MESSAGE\r\n"
               "Content-Type: text/plain\r\n"
               "Content-Length: 5\r\n\r\n"
               "hello, and bytes beyond the Content-Length");
  g_assert_cmpuint (f->n_requests, ==, 1);
  g_assert_cmpstr (f->last_body, ==, "hello");
  g_assert_cmpint (last_packet_from (f, "server")->status, ==, 200);
}

static void
test_every_listener_is_local (Fixture       *f,
                              gconstpointer  data)
{
  SimAddr addr;

  g_test_summary ("Besides its local address, every endpoint added is ours, in any spelling of "
                  "its IP; a wildcard endpoint counts on every interface address (loopback "
                  "included) with its port only; the endpoint of a transport and family is found "
                  "for Record-Route.");

  g_assert_true (sim_stack_is_local (f->server, "10.0.0.1", 5060));
  g_assert_false (sim_stack_is_local (f->server, "10.0.0.1", 5061));
  g_assert_true (sim_stack_is_local (f->server, "10.0.0.1", 0));
  /* The simulator's single address serves every transport. */
  g_assert_true (sim_addr_equal (sim_stack_find_local (f->server, SIM_TRANSPORT_TCP, &f->server_addr),
                                 &f->server_addr));

  sim_addr_init (&addr, "::1", 5062, SIM_TRANSPORT_TCP);
  sim_stack_add_local_addr (f->server, &addr);
  g_assert_true (sim_stack_is_local (f->server, "[::1]", 5062));
  g_assert_true (sim_stack_is_local (f->server, "0:0:0:0:0:0:0:1", 5062));
  g_assert_false (sim_stack_is_local (f->server, "::1", 5063));
  g_assert_false (sim_stack_is_local (f->server, "127.0.0.1", 5062));

  sim_addr_init (&addr, "0.0.0.0", 5090, SIM_TRANSPORT_UDP);
  sim_stack_add_local_addr (f->server, &addr);
  g_assert_true (sim_stack_is_local (f->server, "127.0.0.1", 5090));
  g_assert_true (sim_stack_is_local (f->server, "::ffff:127.0.0.1", 5090));
  g_assert_true (sim_stack_is_local (f->server, "0.0.0.0", 5090));
  g_assert_false (sim_stack_is_local (f->server, "127.0.0.1", 5091));
  g_assert_false (sim_stack_is_local (f->server, "lab.example", 5090));

  sim_addr_init (&addr, "::1", 40000, SIM_TRANSPORT_UDP);
  g_assert_cmpstr (sim_stack_find_local (f->server, SIM_TRANSPORT_TCP, &addr)->ip, ==, "::1");
  g_assert_null (sim_stack_find_local (f->server, SIM_TRANSPORT_UDP, &addr));
  sim_addr_init (&addr, "127.0.0.1", 40000, SIM_TRANSPORT_UDP);
  g_assert_cmpstr (sim_stack_find_local (f->server, SIM_TRANSPORT_UDP, &addr)->ip, ==, "127.0.0.1");
}

/* The raw text of every packet @from sent with @action ("sent", "retransmitted"), in order. */
static GPtrArray *
packets_from (Fixture    *f,
              const char *action,
              const char *from)
{
  GPtrArray *events = sim_trace_get_events (f->trace);
  GPtrArray *raw = g_ptr_array_new ();

  for (guint i = 0; i < events->len; i++)
    {
      SimEvent *e = events->pdata[i];
      if (e->type == SIM_EVENT_PACKET && g_strcmp0 (e->action, action) == 0 &&
          g_strcmp0 (e->from, from) == 0)
        g_ptr_array_add (raw, e->raw);
    }
  return raw;
}

static guint
count_timer_events (Fixture    *f,
                    const char *action,
                    const char *name)
{
  GPtrArray *events = sim_trace_get_events (f->trace);
  guint n = 0;

  for (guint i = 0; i < events->len; i++)
    {
      SimEvent *e = events->pdata[i];
      if (e->type == SIM_EVENT_TIMER && g_strcmp0 (e->action, action) == 0 &&
          g_strcmp0 (e->name, name) == 0)
        n++;
    }
  return n;
}

static void
test_completed_non_invite_repeats_its_response (Fixture       *f,
                                                gconstpointer  data)
{
  g_autofree char *text = register_with ("z9hG4bKcompleted1", "");
  g_autoptr(GPtrArray) sent = NULL;
  g_autoptr(GPtrArray) resent = NULL;
  g_autofree char *first = NULL;
  g_autoptr(osip_message_t) parsed = sim_message_from_text (text);

  g_test_summary ("RFC 3261 §17.2.2: a non-INVITE server transaction in Completed answers every "
                  "retransmitted request with the same bytes, without the TU, until Timer J "
                  "(64*T1); it holds (and counts) exactly its response's text, charged to its "
                  "source, and the TU's reference to it still answers as a completed one");
  f->auto_status = 200;
  send_raw (f, text);
  g_assert_cmpuint (f->n_requests, ==, 1);
  sent = packets_from (f, "sent", "server");
  g_assert_cmpuint (sent->len, ==, 1);
  first = g_strdup (sent->pdata[0]);
  g_assert_true (g_str_has_prefix (first, "SIP/2.0 200 OK\r\n"));
  g_assert_cmpuint (sim_stack_get_n_transactions (f->server), ==, 1);
  g_assert_cmpuint (sim_stack_get_held_bytes (f->server), ==, strlen (first));
  g_assert_cmpuint (sim_stack_get_n_sources (f->server), ==, 1);
  g_assert_cmpuint (count_timer_events (f, "started", "J"), ==, 1);

  /* What the TU holds is done: no second final response, no request any more. */
  g_assert_nonnull (f->last_txn);
  g_assert_true (sim_server_txn_has_final (f->last_txn));
  g_assert_null (sim_server_txn_get_request (f->last_txn));
  sim_server_txn_reply (f->last_txn, 500, NULL);
  sim_server_txn_respond (f->last_txn, sim_message_new_response (parsed, 503, NULL, NULL));
  sim_server_txn_respond_stateless (f->last_txn, sim_message_new_response (parsed, 403, NULL, NULL));

  /* Two retransmissions, the second 20 s later: the same 200, the TU not asked again. */
  send_raw (f, text);
  sim_clock_run_until (f->clock, SIM_SEC (21));
  send_raw (f, text);
  g_assert_cmpuint (f->n_requests, ==, 1);
  g_clear_pointer (&sent, g_ptr_array_unref);
  sent = packets_from (f, "sent", "server");
  g_assert_cmpuint (sent->len, ==, 1);
  resent = packets_from (f, "retransmitted", "server");
  g_assert_cmpuint (resent->len, ==, 2);
  g_assert_cmpstr (resent->pdata[0], ==, first);
  g_assert_cmpstr (resent->pdata[1], ==, first);
  g_assert_cmpuint (sim_stack_get_held_bytes (f->server), ==, strlen (first));

  /* Timer J (32 s after the 200, sent at 0 s) ends it: nothing held, no source left. */
  sim_clock_run_until (f->clock, SIM_MSEC (31900));
  g_assert_cmpuint (sim_stack_get_n_transactions (f->server), ==, 1);
  sim_clock_run_until (f->clock, SIM_MSEC (32100));
  g_assert_cmpuint (count_timer_events (f, "fired", "J"), ==, 1);
  g_assert_cmpuint (sim_stack_get_n_transactions (f->server), ==, 0);
  g_assert_cmpuint (sim_stack_get_held_bytes (f->server), ==, 0);
  g_assert_cmpuint (sim_stack_get_n_sources (f->server), ==, 0);

  /* After Timer J the same request is a new transaction for the TU. */
  send_raw (f, text);
  g_assert_cmpuint (f->n_requests, ==, 2);
  g_assert_cmpuint (sim_stack_get_n_transactions (f->server), ==, 1);

  /* Completed transactions forgotten at once (power lost), or left when the stack goes (the
   * tear-down, which asserts the count is zero in dispose). */
  sim_stack_reset (f->server);
  g_assert_cmpuint (sim_stack_get_n_transactions (f->server), ==, 0);
  g_assert_cmpuint (sim_stack_get_held_bytes (f->server), ==, 0);
  g_free (text);
  text = register_with ("z9hG4bKcompleted2", "");
  send_raw (f, text);
  g_assert_cmpuint (f->n_requests, ==, 3);
  g_assert_cmpuint (sim_stack_get_held_bytes (f->server), >, 0);
}

static void
test_addr_is_unicast (void)
{
  static const struct { const char *ip; gboolean unicast; } cases[] = {
    { "10.0.0.5", TRUE }, { "192.0.2.1", TRUE }, { "2001:db8::1", TRUE }, { "240.0.0.1", TRUE },
    { "127.0.0.1", FALSE }, { "127.9.9.9", FALSE }, { "::1", FALSE }, { "0.0.0.0", FALSE },
    { "::", FALSE }, { "224.0.0.1", FALSE }, { "239.255.255.250", FALSE }, { "ff02::1", FALSE },
    { "255.255.255.255", FALSE }, { "::ffff:127.0.0.1", FALSE }, { "::ffff:224.0.0.1", FALSE },
    { "::ffff:255.255.255.255", FALSE }, { "::ffff:10.0.0.5", TRUE }, { "lab.example", FALSE },
  };

  g_test_summary ("sim_addr_is_unicast: the one check (used by the proxy's relay) that an IP may "
                  "be a next hop; an IPv4-mapped IPv6 address is judged as its IPv4 address.");

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      SimAddr addr;

      sim_addr_init (&addr, cases[i].ip, 5060, SIM_TRANSPORT_UDP);
      g_test_message ("%s", cases[i].ip);
      g_assert_cmpint (sim_addr_is_unicast (&addr), ==, cases[i].unicast);
    }
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
#define ADD(path, fn) g_test_add (path, Fixture, NULL, fixture_set_up, fn, fixture_tear_down)
  g_test_add_func ("/sim/stack/addr-is-unicast-judges-mapped-ipv6-as-ipv4", test_addr_is_unicast);
  ADD ("/sim/stack/non-invite-gets-its-final-response", test_non_invite_gets_its_final_response);
  ADD ("/sim/stack/timer-e-retransmits-and-timer-f-gives-408", test_timer_e_retransmits_and_timer_f_gives_408);
  ADD ("/sim/stack/retransmitted-request-gets-the-same-response", test_retransmitted_request_gets_the_same_response);
  ADD ("/sim/stack/invite-failure-is-acked-by-the-transaction", test_invite_failure_is_acked_by_the_transaction);
  ADD ("/sim/stack/unacknowledged-2xx-is-retransmitted", test_unacknowledged_2xx_is_retransmitted);
  ADD ("/sim/stack/invite-timer-b-gives-408", test_invite_timer_b_gives_408);
  ADD ("/sim/stack/request-without-cseq-gets-400", test_request_without_cseq_gets_400);
  ADD ("/sim/stack/garbage-is-dropped-without-harm", test_garbage_is_dropped_without_harm);
  ADD ("/sim/stack/received-and-rport-are-stamped", test_received_and_rport_are_stamped);
  ADD ("/sim/stack/transport-error-gives-503-at-once", test_transport_error_gives_503_at_once);
  ADD ("/sim/stack/pending-transport-error-goes-with-the-stack",
       test_pending_transport_error_goes_with_the_stack);
  ADD ("/sim/stack/too-many-header-lines-get-513-unparsed", test_too_many_header_lines_get_513_unparsed);
  ADD ("/sim/stack/overlong-header-line-gets-513-unparsed", test_overlong_header_line_gets_513_unparsed);
  ADD ("/sim/stack/too-many-contacts-get-513-unparsed", test_too_many_contacts_get_513_unparsed);
  ADD ("/sim/stack/over-limit-response-is-dropped", test_over_limit_response_is_dropped);
  ADD ("/sim/stack/stateless-response-leaves-no-transaction", test_stateless_response_leaves_no_transaction);
  ADD ("/sim/stack/ack-to-stateless-response-is-absorbed", test_ack_to_stateless_response_is_absorbed);
  ADD ("/sim/stack/lost-stateless-407-is-asked-for-again", test_lost_stateless_407_is_asked_for_again);
  ADD ("/sim/stack/transaction-cap-gives-503", test_transaction_cap_gives_503);
  ADD ("/sim/stack/byte-budget-gives-503", test_byte_budget_gives_503);
  ADD ("/sim/stack/one-source-gets-only-its-share-of-the-count",
       test_one_source_gets_its_share_of_the_count);
  ADD ("/sim/stack/one-source-gets-only-its-share-of-the-bytes",
       test_one_source_gets_its_share_of_the_bytes);
  ADD ("/sim/stack/count-cap-is-traced-as-count", test_count_cap_is_traced_as_count);
  ADD ("/sim/stack/client-bytes-are-counted-until-the-end", test_client_bytes_are_counted_until_the_end);
  ADD ("/sim/stack/response-without-rport-goes-to-sent-by-port",
       test_response_without_rport_goes_to_sent_by_port);
  ADD ("/sim/stack/content-length-beyond-the-datagram-gets-400",
       test_content_length_beyond_the_datagram_gets_400);
  ADD ("/sim/stack/every-listener-is-local", test_every_listener_is_local);
  ADD ("/sim/stack/completed-non-invite-repeats-its-response-until-timer-j",
       test_completed_non_invite_repeats_its_response);
#undef ADD
  return g_test_run ();
}
