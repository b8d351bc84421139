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

static void
test_bounded_trace_keeps_the_newest (void)
{
  g_autoptr(SimTrace) trace = sim_trace_new ();
  GPtrArray *events = sim_trace_get_events (trace);

  g_test_summary ("With a limit the trace keeps only the newest events (live mode); indices stay "
                  "those of emission and sim_trace_position_of() finds an event by index.");

  sim_trace_set_max_kept (trace, 80);
  for (guint i = 0; i < 1000; i++)
    sim_trace_note (trace, SIM_MSEC (i), "registrar", "note %u", i);
  g_assert_cmpuint (events->len, <=, 80);
  g_assert_cmpuint (events->len, >, 60);
  g_assert_cmpuint (sim_trace_get_n_emitted (trace), ==, 1000);
  /* The newest is kept, and the kept ones are consecutive up to it. */
  g_assert_cmpuint (((SimEvent *) events->pdata[events->len - 1])->index, ==, 999);
  for (guint i = 1; i < events->len; i++)
    g_assert_cmpuint (((SimEvent *) events->pdata[i])->index, ==,
                      ((SimEvent *) events->pdata[i - 1])->index + 1);
  {
    guint64 first = ((SimEvent *) events->pdata[0])->index;

    g_assert_cmpuint (sim_trace_position_of (trace, 0), ==, 0);           /* dropped: the oldest kept */
    g_assert_cmpuint (sim_trace_position_of (trace, first), ==, 0);
    g_assert_cmpuint (sim_trace_position_of (trace, 999), ==, events->len - 1);
    g_assert_cmpuint (sim_trace_position_of (trace, 1000), ==, events->len);
    g_assert_cmpstr (((SimEvent *) events->pdata[sim_trace_position_of (trace, 990)])->text, ==,
                     "note 990");
  }
  /* Lowering the limit drops at once. */
  sim_trace_set_max_kept (trace, 10);
  g_assert_cmpuint (events->len, ==, 10);
  g_assert_cmpuint (((SimEvent *) events->pdata[0])->index, ==, 990);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/sim/trace/packet-fields-come-from-raw-text", test_packet_fields_come_from_raw_text);
  g_test_add_func ("/sim/trace/disabled-trace-keeps-nothing", test_disabled_trace_keeps_nothing);
  g_test_add_func ("/sim/trace/bounded-trace-keeps-the-newest", test_bounded_trace_keeps_the_newest);
  return g_test_run ();
}
