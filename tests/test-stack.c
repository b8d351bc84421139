/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <string.h>

#include "sim-net.h"
#include "sim-stack.h"

/*
 * RFC 3261 §17 transactions on the virtual clock, over the simulated network: a client stack
 * ("ua" 10.0.0.11) and a server stack ("server" 10.0.0.1) whose TU the test scripts.
 */

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
  if (f->auto_status != 0)
    sim_server_txn_reply (txn, f->auto_status, NULL);
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
  g_assert_finalize_object (f->client);
  g_assert_finalize_object (f->server);
  g_assert_finalize_object (f->net);
  g_assert_finalize_object (f->clock);
  g_assert_finalize_object (f->trace);
  g_rand_free (f->rand);
  g_ptr_array_unref (f->responses);
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
  g_assert_cmpint (GPOINTER_TO_INT (f->responses->pdata[1]), ==, 486);
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

static void
send_raw (Fixture    *f,
          const char *text)
{
  SimAddr ua;
  sim_addr_init (&ua, "10.0.0.11", 5060, SIM_TRANSPORT_UDP);
  sim_net_send (f->net, &ua, &f->server_addr, text, strlen (text), FALSE);
  sim_clock_run_until (f->clock, sim_clock_now (f->clock) + SIM_SEC (1));
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

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
#define ADD(path, fn) g_test_add (path, Fixture, NULL, fixture_set_up, fn, fixture_tear_down)
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
  ADD ("/sim/stack/every-listener-is-local", test_every_listener_is_local);
#undef ADD
  return g_test_run ();
}
