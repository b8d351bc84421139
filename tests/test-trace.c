/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "sim-trace.h"

#include <string.h>

static void
count_cb (SimTrace *trace,
          SimEvent *event,
          gpointer  data)
{
  (*(guint *) data)++;
}

static void
test_packet_fields_come_from_raw_text (void)
{
  g_autoptr(SimTrace) trace = sim_trace_new ();
  SimEvent *event = sim_event_new (SIM_EVENT_PACKET, "sent");
  const char *raw =
    "SIP/2.0 401 Unauthorized\r\n"
    "Via: SIP/2.0/UDP 10.0.0.11:5060;branch=z9hG4bKabc;rport\r\n"
    "Call-ID: 1234@10.0.0.11\r\n"
    "CSeq: 1 REGISTER\r\n"
    "\r\n";
  SimAddr src, dst;
  guint n = 0;

  sim_addr_init (&src, "10.0.0.1", 5060, SIM_TRANSPORT_UDP);
  sim_addr_init (&dst, "10.0.0.11", 5060, SIM_TRANSPORT_UDP);
  sim_event_set_packet (event, "registrar", "alice-desk", &src, &dst, raw, strlen (raw));
  g_signal_connect (trace, "event", G_CALLBACK (count_cb), &n);
  sim_trace_emit (trace, event);

  g_assert_cmpuint (n, ==, 1);
  event = sim_trace_get_event (trace, 0);
  g_assert_cmpstr (event->first_line, ==, "SIP/2.0 401 Unauthorized");
  g_assert_cmpint (event->status, ==, 401);
  g_assert_cmpstr (event->method, ==, "REGISTER");
  g_assert_cmpstr (event->call_id, ==, "1234@10.0.0.11");
  g_assert_cmpstr (event->cseq, ==, "1 REGISTER");
  g_assert_cmpstr (event->branch, ==, "z9hG4bKabc");
}

static void
test_disabled_trace_keeps_nothing (void)
{
  g_autoptr(SimTrace) trace = sim_trace_new ();

  sim_trace_set_enabled (trace, FALSE);
  sim_trace_note (trace, 0, "x", "hello %d", 1);
  g_assert_cmpuint (sim_trace_get_n_events (trace), ==, 0);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/sim/trace/packet-fields-come-from-raw-text", test_packet_fields_come_from_raw_text);
  g_test_add_func ("/sim/trace/disabled-trace-keeps-nothing", test_disabled_trace_keeps_nothing);
  return g_test_run ();
}
