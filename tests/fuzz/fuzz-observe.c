/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * libFuzzer target for the observer (sim-observe.c): what a capture or a HEP sender delivers is
 * any bytes, and the observer must explain them without crashing, leaking or holding more than
 * its bounds.  The input is cut at NUL bytes into messages; they alternate between two hosts,
 * 300 ms apart (so retransmission timers, nonce lifetimes and binding expiries all run), and
 * are judged against a users file of one user.  Then every exporter writes the trace.
 *
 * Invariants: a message the observer refuses emits nothing; one it takes emits a "sent" or
 * "retransmitted" packet and its "delivered".
 *
 * Build (clang only): see tests/fuzz/README.md; ninja -C _build-fuzz tests/fuzz/fuzz-observe.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sim-export.h"
#include "sim-observe.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

#define CHECK(cond) \
  G_STMT_START { \
    if (!(cond)) { g_printerr ("invariant failed: %s\n", #cond); abort (); } \
  } G_STMT_END

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(SimTrace) trace = sim_trace_new ();
  g_autoptr(SimObserver) observer = sim_observer_new (trace);
  g_autoptr(GHashTable) users = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr(GString) out = g_string_new (NULL);
  SimAddr a, b;
  gsize start = 0;
  guint n = 0;

  g_hash_table_insert (users, g_strdup ("alice"), g_strdup ("secret"));
  sim_observer_set_users (observer, users);
  sim_observer_set_max_bindings (observer, 8);
  sim_trace_set_max_kept (trace, 2000);
  sim_addr_init (&a, "192.0.2.10", 5060, SIM_TRANSPORT_UDP);
  sim_addr_init (&b, "2001:db8::1", 5060, SIM_TRANSPORT_UDP);

  for (gsize i = 0; i <= size; i++)
    {
      guint64 before;
      gboolean taken;

      if (i < size && data[i] != '\0')
        continue;
      before = sim_trace_get_n_emitted (trace);
      taken = sim_observer_feed (observer, G_GINT64_CONSTANT (1767225600000000) + n * 300000,
                                 n % 2 ? &b : &a, n % 2 ? &a : &b,
                                 (const char *) data + start, i - start, NULL);
      /* A refused message is refused before the clock moves: not even an expiry is traced. */
      CHECK (taken || sim_trace_get_n_emitted (trace) == before);
      if (taken)
        CHECK (sim_trace_get_n_emitted (trace) >= before + 2);
      n++;
      start = i + 1;
    }
  sim_observer_advance (observer, G_GINT64_CONSTANT (1767225600000000) + SIM_SEC (7200));

  sim_export_ladder (sim_trace_get_events (trace), out, NULL);
  sim_export_messages (sim_trace_get_events (trace), out);
  sim_export_jsonl (sim_trace_get_events (trace), out);
  return 0;
}
