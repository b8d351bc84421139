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

static void
count_fired_cb (gpointer data)
{
  (*(guint *) data)++;
}

/*
 * Timers are found by id in the clock's own table: thousands added and cancelled in a random
 * order (ids sharing slots, removals from the middle of probe runs, the table growing)
 * must leave exactly the ones not cancelled pending, and those fire.
 */
static void
test_many_timers_by_id (void)
{
  g_autoptr(SimClock) clock = sim_clock_new_virtual ();
  g_autoptr(GRand) rand = g_rand_new_with_seed (42);
  g_autoptr(GArray) ids = g_array_new (FALSE, FALSE, sizeof (guint));
  g_autoptr(GHashTable) live = g_hash_table_new (NULL, NULL);
  guint fired = 0;

  /* About 300 live among 60,000 ids: ids far apart share slots of the small table. */
  for (int round = 0; round < 120000; round++)
    {
      if (ids->len < 300 || (ids->len < 400 && g_rand_int_range (rand, 0, 2) != 0))
        {
          guint id = sim_clock_add (clock, SIM_SEC (g_rand_int_range (rand, 1, 1000)),
                                    count_fired_cb, &fired, NULL);

          g_array_append_val (ids, id);
          g_hash_table_add (live, GUINT_TO_POINTER (id));
        }
      else
        {
          guint at = g_rand_int_range (rand, 0, ids->len);
          guint id = g_array_index (ids, guint, at);

          sim_clock_cancel (clock, id);
          g_hash_table_remove (live, GUINT_TO_POINTER (id));
          g_array_remove_index_fast (ids, at);
          g_assert_false (sim_clock_is_pending (clock, id));
        }
    }
  g_assert_cmpuint (sim_clock_pending_count (clock), ==, g_hash_table_size (live));
  for (guint i = 0; i < ids->len; i++)
    {
      guint id = g_array_index (ids, guint, i);

      g_assert_true (sim_clock_is_pending (clock, id));
      g_assert_cmpint (sim_clock_deadline (clock, id), !=, SIM_TIME_NONE);
    }
  sim_clock_run_until (clock, SIM_SEC (2000));
  g_assert_cmpuint (fired, ==, g_hash_table_size (live));
  g_assert_cmpuint (sim_clock_pending_count (clock), ==, 0);
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
  g_test_add_func ("/sim/clock/thousands-of-timers-are-found-by-id", test_many_timers_by_id);
  return g_test_run ();
}
