/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <string.h>

#include "sim-history.h"
#include "sim-scenario.h"
#include "test-long-scene.h"

/*
 * SimHistory: what a long session's trace no longer keeps, kept compactly and given back
 * exactly (issue 17).  Every check compares with the events of a straight run that kept them
 * all.
 */

static SimWorld *
build_long (void)
{
  g_autofree char *text = test_long_scene (20, 900);
  g_autoptr(GError) error = NULL;
  g_autoptr(SimScenario) scenario = sim_scenario_parse_data (text, -1, "long", &error);
  SimWorld *world;

  g_assert_no_error (error);
  world = sim_scenario_build (scenario, 0, &error);
  g_assert_no_error (error);
  return world;
}

/* A straight run keeping everything, and the same run recorded into a history by a trace
 * that keeps only a window. */
static void
run_both (SimWorld   **straight,
          SimWorld   **windowed,
          SimHistory **history)
{
  *straight = build_long ();
  *windowed = build_long ();
  *history = sim_history_new ();
  sim_trace_set_max_kept (sim_world_get_trace (*windowed), 1000);
  sim_history_follow (*history, sim_world_get_trace (*windowed));
  sim_world_run_until (*straight, SIM_SEC (900));
  sim_world_run_until (*windowed, SIM_SEC (900));
}

static void
test_materialised_events_equal_a_straight_run (void)
{
  g_autoptr(SimWorld) straight = NULL;
  g_autoptr(SimWorld) windowed = NULL;
  g_autoptr(SimHistory) history = NULL;
  GPtrArray *all;
  gsize raw_bytes = 0, stored;

  run_both (&straight, &windowed, &history);
  /* Before any reading fills the cache of decompressed chunks. */
  stored = sim_history_get_memory_size (history);
  all = sim_trace_get_events (sim_world_get_trace (straight));
  /* Long enough for several compressed chunks, and the window really is a window. */
  g_assert_cmpuint (all->len, >, 3 * SIM_HISTORY_CHUNK_EVENTS);
  g_assert_cmpuint (sim_trace_get_n_events (sim_world_get_trace (windowed)), <=, 1000);
  g_assert_cmpuint (sim_history_get_n_events (history), ==, all->len);

  /* In order, then backwards (every chunk read back through the cache, and evicted). */
  for (guint i = 0; i < all->len; i++)
    {
      g_autoptr(SimEvent) e = sim_history_get_event (history, i);
      const SimEvent *straight_event = all->pdata[i];

      assert_event_equal (e, straight_event);
      if (straight_event->raw != NULL)
        raw_bytes += strlen (straight_event->raw);
    }
  for (guint i = all->len; i > 0; i -= 997)
    {
      g_autoptr(SimEvent) e = sim_history_get_event (history, i - 1);

      assert_event_equal (e, all->pdata[i - 1]);
      if (i <= 997)
        break;
    }
  g_assert_null (sim_history_get_event (history, all->len));
  /* Compact: every event, all its fields, in much less than the raw messages alone. */
  g_test_message ("%u events, %zu bytes of raw messages, history %zu bytes (%zu with its "
                  "cache)", all->len, raw_bytes, stored, sim_history_get_memory_size (history));
  g_assert_cmpuint (stored, <, raw_bytes / 2);
  /* Full chunks are in the spill file (test-longrun checks what a long session holds). */
  g_assert_cmpuint (sim_history_get_spilled_size (history), >, 0);
}

/* The subprocess: no temporary directory to spill into. */
static void
no_spill_file_child (void)
{
  g_autoptr(SimWorld) straight = NULL;
  g_autoptr(SimWorld) windowed = NULL;
  g_autoptr(SimHistory) history = NULL;
  GPtrArray *all;

  /* Before anything asks GLib for the directory, which it remembers. */
  g_setenv ("TMPDIR", "/nonexistent/siplab-test", TRUE);
  g_test_expect_message ("Sim", G_LOG_LEVEL_WARNING, "SimHistory: no spill file*");
  run_both (&straight, &windowed, &history);
  g_test_assert_expected_messages ();
  all = sim_trace_get_events (sim_world_get_trace (straight));
  g_assert_cmpuint (sim_history_get_spilled_size (history), ==, 0);
  g_assert_cmpuint (sim_history_get_memory_size (history), >, 0);
  for (guint i = 0; i < all->len; i += 7)
    {
      g_autoptr(SimEvent) e = sim_history_get_event (history, i);

      assert_event_equal (e, all->pdata[i]);
    }
  sim_history_truncate (history, SIM_HISTORY_CHUNK_EVENTS + 5);
  for (guint i = 0; i < all->len; i++)
    sim_history_append (history, all->pdata[i]);
  for (guint i = 0; i < all->len; i += 13)
    {
      g_autoptr(SimEvent) e = sim_history_get_event (history, i);

      assert_event_equal (e, all->pdata[i]);
    }
}

static void
test_without_a_spill_file_chunks_stay_in_memory (void)
{
  g_test_summary ("When no spill file can be made (no temporary directory), the history warns "
                  "and keeps its compressed chunks in memory, reading back the same events.");
  if (g_test_subprocess ())
    {
      no_spill_file_child ();
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();
}

static void
test_find_time_gives_the_first_event_at_or_after (void)
{
  g_autoptr(SimWorld) straight = NULL;
  g_autoptr(SimWorld) windowed = NULL;
  g_autoptr(SimHistory) history = NULL;
  GPtrArray *all;
  SimTime probes[] = { 0, 1, SIM_MSEC (150), SIM_SEC (60), SIM_SEC (61) + 7, SIM_SEC (300),
                       SIM_SEC (599), SIM_SEC (899), SIM_SEC (901), SIM_SEC (5000) };

  run_both (&straight, &windowed, &history);
  all = sim_trace_get_events (sim_world_get_trace (straight));
  for (guint p = 0; p < G_N_ELEMENTS (probes); p++)
    {
      guint expected = 0;

      while (expected < all->len && ((SimEvent *) all->pdata[expected])->t < probes[p])
        expected++;
      g_assert_cmpuint (sim_history_find_time (history, probes[p]), ==, expected);
    }
  /* Every event's own time finds the first event of that time. */
  for (guint i = 0; i < all->len; i += 331)
    {
      guint64 found = sim_history_find_time (history, ((SimEvent *) all->pdata[i])->t);

      g_assert_cmpuint (found, <=, i);
      g_assert_cmpint (((SimEvent *) all->pdata[found])->t, ==, ((SimEvent *) all->pdata[i])->t);
      if (found > 0)
        g_assert_cmpint (((SimEvent *) all->pdata[found - 1])->t, <,
                         ((SimEvent *) all->pdata[i])->t);
    }
}

static void
test_truncate_then_append_again (void)
{
  g_autoptr(SimWorld) straight = NULL;
  g_autoptr(SimWorld) windowed = NULL;
  g_autoptr(SimHistory) history = NULL;
  GPtrArray *all;
  guint cuts[] = { 3 * SIM_HISTORY_CHUNK_EVENTS + 17, SIM_HISTORY_CHUNK_EVENTS,
                   SIM_HISTORY_CHUNK_EVENTS - 1, 5, 0 };

  run_both (&straight, &windowed, &history);
  sim_history_follow (history, NULL);
  all = sim_trace_get_events (sim_world_get_trace (straight));
  for (guint c = 0; c < G_N_ELEMENTS (cuts); c++)
    {
      guint cut = cuts[c];

      guint64 spilled = sim_history_get_spilled_size (history);

      sim_history_truncate (history, cut);
      g_assert_cmpuint (sim_history_get_n_events (history), ==, cut);
      /* The chunks it forgot leave the spill file too. */
      g_assert_cmpuint (sim_history_get_spilled_size (history), <=, spilled);
      if (cut < SIM_HISTORY_CHUNK_EVENTS)
        g_assert_cmpuint (sim_history_get_spilled_size (history), ==, 0);
      if (cut > 0)
        {
          g_autoptr(SimEvent) last = sim_history_get_event (history, cut - 1);

          assert_event_equal (last, all->pdata[cut - 1]);
        }
      g_assert_null (sim_history_get_event (history, cut));
      /* Re-recording the same session fills it again; events already there are skipped. */
      for (guint i = 0; i < MIN (cut + 2 * SIM_HISTORY_CHUNK_EVENTS, all->len); i++)
        sim_history_append (history, all->pdata[i]);
      for (guint i = 0; i < MIN (cut + 2 * SIM_HISTORY_CHUNK_EVENTS, all->len); i += 101)
        {
          g_autoptr(SimEvent) e = sim_history_get_event (history, i);

          assert_event_equal (e, all->pdata[i]);
        }
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Replay state: bindings and phones recorded, checkpointed per chunk                         */

#define N_STATE_EVENTS (3 * SIM_HISTORY_CHUNK_EVENTS + 100)
#define N_STATE_AORS 7

/* The record made after event @i, if any: AOR @i % 7 gets CSeq @i, every 13th is removed. */
static gboolean
record_after (guint64  i,
              guint   *aor,
              guint32 *cseq)
{
  if (i % 29 != 0)
    return FALSE;
  *aor = i % N_STATE_AORS;
  *cseq = i % 13 == 0 ? 0 : (guint32) i;
  return TRUE;
}

static void
record_state (SimHistory *history,
              guint64     stamp,
              guint       aor,
              guint32     cseq)
{
  g_autofree char *name = g_strdup_printf ("sip:u%u@lab.example", aor);
  g_autoptr(GPtrArray) bindings = g_ptr_array_new ();
  SimBinding binding = { 0 };
  SimHistoryPhone phone = { 0 };
  g_autofree char *device = g_strdup_printf ("p%u", aor);

  binding.aor = name;
  binding.contact = (char *) "sip:u@10.0.0.1";
  binding.display = (char *) "<sip:u@10.0.0.1>;q=0.5";
  binding.q = 0.5;
  binding.expires_at = SIM_SEC (stamp + 60);
  binding.granted = 60;
  binding.call_id = (char *) "call";
  binding.cseq = cseq;
  binding.user_agent = (char *) "ua";
  binding.registered_at = stamp;
  binding.updated_at = stamp + 1;
  if (cseq != 0)
    g_ptr_array_add (bindings, &binding);
  sim_history_record_bindings (history, stamp, "registrar", name, bindings);
  phone.device = device;
  phone.reg_state = cseq != 0 ? SIM_REG_REGISTERED : SIM_REG_IDLE;
  phone.granted = cseq;
  phone.refresh_at = SIM_TIME_NONE;
  phone.powered = TRUE;
  sim_history_record_phone (history, stamp, &phone);
}

static void
append_events (SimHistory *history,
               guint64     from,
               guint64     to)
{
  for (guint64 i = from; i < to; i++)
    {
      g_autoptr(SimEvent) e = sim_event_new (SIM_EVENT_NOTE, "note");
      guint aor;
      guint32 cseq;

      e->t = i;
      e->index = i;
      e->text = g_strdup_printf ("event %" G_GUINT64_FORMAT, i);
      sim_history_append (history, e);
      if (record_after (i, &aor, &cseq))
        record_state (history, i + 1, aor, cseq);
    }
}

/* The location restored after @index events holds, per AOR, the last record at or below it. */
static void
assert_state_at (SimHistory *history,
                 guint64     index)
{
  g_autoptr(SimClock) clock = sim_clock_new_virtual ();
  g_autoptr(SimTrace) trace = sim_trace_new ();
  g_autoptr(SimLocation) location = sim_location_new (clock, trace, "registrar");
  gint64 expected[N_STATE_AORS];

  for (guint a = 0; a < N_STATE_AORS; a++)
    expected[a] = -1;
  for (guint64 i = 0; i + 1 <= index; i++)
    {
      guint aor;
      guint32 cseq;

      if (record_after (i, &aor, &cseq))
        expected[aor] = cseq;
    }
  sim_history_restore_state (history, index, location, NULL);
  for (guint a = 0; a < N_STATE_AORS; a++)
    {
      g_autofree char *name = g_strdup_printf ("sip:u%u@lab.example", a);
      GPtrArray *bindings = sim_location_peek (location, name);

      if (expected[a] <= 0)
        g_assert_true (bindings == NULL || bindings->len == 0);
      else
        {
          const SimBinding *b;

          g_assert_nonnull (bindings);
          g_assert_cmpuint (bindings->len, ==, 1);
          b = bindings->pdata[0];
          g_assert_cmpuint (b->cseq, ==, expected[a]);
          g_assert_cmpint (b->registered_at, ==, expected[a] + 1);
          g_assert_cmpstr (b->display, ==, "<sip:u@10.0.0.1>;q=0.5");
          g_assert_cmpstr (b->user_agent, ==, "ua");
          g_assert_true (b->q == 0.5);
        }
    }
}

static void
test_state_at_any_event_is_the_last_recorded (void)
{
  g_autoptr(SimHistory) history = sim_history_new ();
  guint64 points[] = { 0, 1, 29, 30, 31, SIM_HISTORY_CHUNK_EVENTS - 1, SIM_HISTORY_CHUNK_EVENTS,
                       SIM_HISTORY_CHUNK_EVENTS + 1, 2 * SIM_HISTORY_CHUNK_EVENTS + 17,
                       N_STATE_EVENTS - 1, N_STATE_EVENTS };
  gsize before;

  g_test_summary ("The bindings a history gives back after any number of events are the last "
                  "ones recorded at or before it: within the open chunk, across checkpoints, "
                  "and after truncating into a compressed chunk; a record equal to the state "
                  "(a re-run) or stamped before the end is not kept twice.");

  append_events (history, 0, N_STATE_EVENTS);
  for (guint p = 0; p < G_N_ELEMENTS (points); p++)
    assert_state_at (history, points[p]);
  /* A re-run regenerating what is recorded adds nothing. */
  before = sim_history_get_memory_size (history);
  record_state (history, 58, 58 % N_STATE_AORS, 58);
  record_state (history, N_STATE_EVENTS, (N_STATE_EVENTS - 1) % N_STATE_AORS, 12345);
  g_assert_cmpuint (sim_history_get_memory_size (history), >, before);
  before = sim_history_get_memory_size (history);
  record_state (history, N_STATE_EVENTS, (N_STATE_EVENTS - 1) % N_STATE_AORS, 12345);
  g_assert_cmpuint (sim_history_get_memory_size (history), ==, before);
  /* Back into the first compressed chunk, then recorded again the same way. */
  sim_history_truncate (history, SIM_HISTORY_CHUNK_EVENTS / 2 + 3);
  assert_state_at (history, SIM_HISTORY_CHUNK_EVENTS / 2 + 3);
  assert_state_at (history, 100);
  append_events (history, SIM_HISTORY_CHUNK_EVENTS / 2 + 3, N_STATE_EVENTS);
  for (guint p = 0; p < G_N_ELEMENTS (points); p++)
    assert_state_at (history, points[p]);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/sim/history/materialised-events-equal-a-straight-run",
                   test_materialised_events_equal_a_straight_run);
  g_test_add_func ("/sim/history/find-time-gives-the-first-event-at-or-after",
                   test_find_time_gives_the_first_event_at_or_after);
  g_test_add_func ("/sim/history/truncate-then-append-again", test_truncate_then_append_again);
  g_test_add_func ("/sim/history/without-a-spill-file-chunks-stay-in-memory",
                   test_without_a_spill_file_chunks_stay_in_memory);
  g_test_add_func ("/sim/history/state-at-any-event-is-the-last-recorded",
                   test_state_at_any_event_is_the_last_recorded);
  return g_test_run ();
}
