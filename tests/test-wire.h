/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Messages and checks on the wire a SimTrace recorded, shared by the tests of the simulator
 * and of real sockets. */
#pragma once

#include <string.h>

#include "sim-message.h"
#include "sim-trace.h"

/* How many notes in @trace contain @needle. */
static inline guint
test_count_notes (SimTrace   *trace,
                  const char *needle)
{
  GPtrArray *events = sim_trace_get_events (trace);
  guint n = 0;

  for (guint i = 0; i < events->len; i++)
    {
      SimEvent *e = events->pdata[i];
      if (e->type == SIM_EVENT_NOTE && e->text != NULL && strstr (e->text, needle) != NULL)
        n++;
    }
  return n;
}

/* alice's OPTIONS to the server (sip:lab.example), Call-ID @call_prefix-@cseq. */
static inline osip_message_t *
test_options_new (const char *call_prefix,
                  guint       cseq)
{
  g_autofree char *text =
    g_strdup_printf ("OPTIONS sip:lab.example SIP/2.0\r\n"
                     "Max-Forwards: 70\r\n"
                     "From: <sip:alice@lab.example>;tag=a%u\r\n"
                     "To: <sip:lab.example>\r\n"
                     "Call-ID: %s-%u@127.0.0.1\r\n"
                     "CSeq: %u OPTIONS\r\n"
                     "Content-Length: 0\r\n\r\n", cseq, call_prefix, cseq, cseq);
  return sim_message_from_text (text);
}

/*
 * RFC 3261 §10.2: a UA must not send a REGISTER before the previous one has a final response
 * (or timed out).  Walks the wire of @device and fails on an overlap; returns how many
 * REGISTERs it sent.  The re-send with credentials after a 401 follows the 401, a final
 * response, so it is no overlap.
 */
static inline guint
assert_registers_never_overlap (SimTrace   *trace,
                                const char *device)
{
  GPtrArray *events = sim_trace_get_events (trace);
  g_autofree char *in_flight = NULL;
  guint sent = 0;

  for (guint i = 0; i < events->len; i++)
    {
      SimEvent *e = events->pdata[i];

      if (e->type != SIM_EVENT_PACKET || g_strcmp0 (e->method, "REGISTER") != 0)
        continue;
      if (e->status == 0 && g_strcmp0 (e->action, "sent") == 0 &&
          g_strcmp0 (e->from, device) == 0)
        {
          if (in_flight != NULL)
            g_error ("%s sent REGISTER (CSeq %s) while CSeq %s had no final response", device,
                     e->cseq, in_flight);
          in_flight = g_strdup (e->cseq);
          sent++;
        }
      else if (e->status >= 200 && g_strcmp0 (e->action, "delivered") == 0 &&
               g_strcmp0 (e->to, device) == 0 && g_strcmp0 (e->cseq, in_flight) == 0)
        g_clear_pointer (&in_flight, g_free);
    }
  return sent;
}

