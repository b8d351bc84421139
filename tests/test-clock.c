/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "sim-clock.h"

static void
record_cb (gpointer data)
{
  GString *log = data;
  g_string_append_c (log, 'x');
}

typedef struct {
  GString *log;
  char tag;
} Tagged;

static void
tagged_cb (gpointer data)
{
  Tagged *t = data;
  g_string_append_c (t->log, t->tag);
}

static void
test_timers_fire_in_deadline_order (void)
{
  g_autoptr(SimClock) clock = sim_clock_new_virtual ();
  g_autoptr(GString) log = g_string_new (NULL);
  Tagged a = { log, 'a' }, b = { log, 'b' }, c = { log, 'c' }, d = { log, 'd' };

  sim_clock_add (clock, SIM_SEC (3), tagged_cb, &c, NULL);
  sim_clock_add (clock, SIM_SEC (1), tagged_cb, &a, NULL);
  sim_clock_add (clock, SIM_SEC (2), tagged_cb, &b, NULL);
  /* Same deadline as b: fires after it, in insertion order. */
  sim_clock_add (clock, SIM_SEC (2), tagged_cb, &d, NULL);

  sim_clock_run_until (clock, SIM_SEC (10));
  g_assert_cmpstr (log->str, ==, "abdc");
  g_assert_cmpint (sim_clock_now (clock), ==, SIM_SEC (10));
}

static void
test_cancelled_timer_never_fires (void)
{
  g_autoptr(SimClock) clock = sim_clock_new_virtual ();
  g_autoptr(GString) log = g_string_new (NULL);
  guint id, cancelled;

  id = sim_clock_add (clock, SIM_SEC (1), record_cb, log, NULL);
  g_assert_true (sim_clock_is_pending (clock, id));
  g_assert_cmpint (sim_clock_deadline (clock, id), ==, SIM_SEC (1));
  cancelled = id;
  sim_clock_clear (clock, &id);
  g_assert_cmpuint (id, ==, 0);
  g_assert_cmpint (sim_clock_deadline (clock, cancelled), ==, SIM_TIME_NONE);
  g_assert_false (sim_clock_step (clock));
  g_assert_cmpstr (log->str, ==, "");
  g_assert_cmpint (sim_clock_now (clock), ==, 0);
}

static void
test_step_advances_to_next_deadline (void)
{
  g_autoptr(SimClock) clock = sim_clock_new_virtual ();
  g_autoptr(GString) log = g_string_new (NULL);
  SimTime next;

  sim_clock_add (clock, SIM_MSEC (500), record_cb, log, NULL);
  g_assert_true (sim_clock_next_deadline (clock, &next));
  g_assert_cmpint (next, ==, SIM_MSEC (500));
  g_assert_true (sim_clock_step (clock));
  g_assert_cmpint (sim_clock_now (clock), ==, SIM_MSEC (500));
  g_assert_cmpstr (log->str, ==, "x");
  g_assert_false (sim_clock_next_deadline (clock, NULL));
}

static gboolean
quit_cb (gpointer loop)
{
  g_main_loop_quit (loop);
  return G_SOURCE_REMOVE;
}

static void
test_wall_clock_fires_from_main_loop (void)
{
  g_autoptr(SimClock) clock = sim_clock_new_wall ();
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);

  sim_clock_add (clock, SIM_MSEC (20), record_cb, log, NULL);
  g_timeout_add (200, quit_cb, loop);
  g_main_loop_run (loop);
  g_assert_cmpstr (log->str, ==, "x");
  g_assert_cmpint (sim_clock_now (clock), >=, SIM_MSEC (20));
}

static void
count_cb (gpointer data)
{
  (*(guint *) data)++;
}

static void
test_jump_fires_nothing (void)
{
  g_autoptr(SimClock) clock = sim_clock_new_virtual ();
  guint fired = 0;
  guint id;

  g_test_summary ("A replay world's clock jumps to a time, back or forth, firing nothing and "
                  "keeping what is pending.");
  id = sim_clock_add (clock, SIM_SEC (5), count_cb, &fired, NULL);
  sim_clock_jump (clock, SIM_SEC (100));
  g_assert_cmpint (sim_clock_now (clock), ==, SIM_SEC (100));
  g_assert_cmpuint (fired, ==, 0);
  g_assert_true (sim_clock_is_pending (clock, id));
  g_assert_cmpint (sim_clock_deadline (clock, id), ==, SIM_SEC (5));
  sim_clock_jump (clock, SIM_SEC (2));
  g_assert_cmpint (sim_clock_now (clock), ==, SIM_SEC (2));
  g_assert_cmpuint (fired, ==, 0);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/sim/clock/timers-fire-in-deadline-order", test_timers_fire_in_deadline_order);
  g_test_add_func ("/sim/clock/cancelled-timer-never-fires", test_cancelled_timer_never_fires);
  g_test_add_func ("/sim/clock/jump-fires-nothing", test_jump_fires_nothing);
  g_test_add_func ("/sim/clock/step-advances-to-next-deadline", test_step_advances_to_next_deadline);
  g_test_add_func ("/sim/clock/wall-clock-fires-from-main-loop", test_wall_clock_fires_from_main_loop);
  return g_test_run ();
}
