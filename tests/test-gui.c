/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <stdio.h>

#include <gtk/gtk.h>

#include "app-window.h"

/*
 * The GUI's views against the core: whatever the window shows must be what the trace and the
 * location service say.  Needs a display (meson runs it under xvfb-run); without one it skips.
 */

typedef struct {
  AppWindow *window;
} Fixture;

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  f->window = app_window_new (NULL);
  g_object_ref_sink (f->window);
  g_assert_true (app_window_open (f->window, NULL, &error));
  g_assert_no_error (error);
  gtk_window_present (GTK_WINDOW (f->window));
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  gtk_window_destroy (GTK_WINDOW (f->window));
  g_clear_object (&f->window);
}

static guint
count_packets_sent (SimWorld *world)
{
  GPtrArray *events = sim_trace_get_events (sim_world_get_trace (world));
  guint n = 0;

  for (guint i = 0; i < events->len; i++)
    {
      SimEvent *e = events->pdata[i];

      if (e->type == SIM_EVENT_PACKET &&
          (g_strcmp0 (e->action, "sent") == 0 || g_strcmp0 (e->action, "retransmitted") == 0))
        n++;
    }
  return n;
}

static void
test_ladder_has_a_row_per_packet (Fixture       *f,
                                  gconstpointer  data)
{
  SimWorld *world = app_window_get_world (f->window);
  AppLadderView *ladder = app_window_get_ladder (f->window);

  g_assert_cmpuint (app_ladder_view_get_n_rows (ladder), ==, 0);

  /* Step by step, then in one jump: the ladder keeps up either way. */
  for (guint i = 0; i < 25; i++)
    {
      g_assert_true (app_window_step (f->window));
      g_assert_cmpuint (app_ladder_view_get_n_rows (ladder), ==, count_packets_sent (world));
    }
  app_window_run_until (f->window, SIM_SEC (20));
  g_assert_cmpuint (count_packets_sent (world), >, 10);
  g_assert_cmpuint (app_ladder_view_get_n_rows (ladder), ==, count_packets_sent (world));
}

static void
test_location_table_has_a_row_per_binding (Fixture       *f,
                                           gconstpointer  data)
{
  SimWorld *world = app_window_get_world (f->window);
  AppLocationView *location = app_window_get_location (f->window);

  g_assert_cmpuint (app_location_view_get_n_rows (location), ==, 0);
  app_window_run_until (f->window, SIM_SEC (10));
  /* alice-desk, alice-soft and bob-desk are registered by now. */
  g_assert_cmpuint (sim_location_get_n_bindings (sim_world_get_location (world)), ==, 3);
  g_assert_cmpuint (app_location_view_get_n_rows (location), ==,
                    sim_location_get_n_bindings (sim_world_get_location (world)));

  /* The demo asks for 120 s: by 200 s every binding has been refreshed at least once. */
  app_window_run_until (f->window, SIM_SEC (200));
  g_assert_cmpuint (app_location_view_get_n_rows (location), ==,
                    sim_location_get_n_bindings (sim_world_get_location (world)));
}

static void
test_selecting_a_row_inspects_its_message (Fixture       *f,
                                           gconstpointer  data)
{
  AppLadderView *ladder = app_window_get_ladder (f->window);
  AppInspector *inspector = app_window_get_inspector (f->window);
  GtkTextBuffer *buffer = app_inspector_get_buffer (inspector);

  app_window_run_until (f->window, SIM_SEC (10));
  g_assert_cmpuint (app_ladder_view_get_n_rows (ladder), >, 4);

  for (guint row = 0; row < 4; row++)
    {
      SimEvent *sent = app_ladder_view_get_row (ladder, row);
      g_autofree char *text = NULL;
      GtkTextIter start, end;

      app_ladder_view_select_row (ladder, row);
      g_assert_true (app_inspector_get_event (inspector) == sent);
      gtk_text_buffer_get_bounds (buffer, &start, &end);
      text = gtk_text_buffer_get_text (buffer, &start, &end, TRUE);
      g_assert_cmpstr (text, ==, sent->raw);
    }

  /* The second packet of the demo is the registrar's challenge. */
  g_assert_cmpint (app_ladder_view_get_row (ladder, 1)->status, ==, 401);
}

static gboolean
wake_cb (gpointer user_data)
{
  return G_SOURCE_CONTINUE;
}

static void
test_playing_advances_the_clock (Fixture       *f,
                                 gconstpointer  data)
{
  SimWorld *world = app_window_get_world (f->window);
  /* Frames come slowly under Xvfb (and valgrind): wait for a few, with a generous limit. */
  gint64 deadline = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;

  guint wake_id = g_timeout_add (100, wake_cb, NULL);

  app_window_set_speed (f->window, 10);
  app_window_set_playing (f->window, TRUE);
  while (sim_world_now (world) < SIM_SEC (1) && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  app_window_set_playing (f->window, FALSE);
  g_source_remove (wake_id);

  /* Frame timing under Xvfb is loose: only ask that time moved and packets flew. */
  g_assert_cmpint (sim_world_now (world), >=, SIM_SEC (1));
  g_assert_cmpuint (app_ladder_view_get_n_rows (app_window_get_ladder (f->window)), ==,
                    count_packets_sent (world));
}

static void
test_scenarios_agree_with_the_core (void)
{
  const char *names[] = { "05-devices-fork.scn", "02-p2p-peer-moves.scn", "04-refresh-expiry.scn" };
  const char *source_dir = g_getenv ("SIPLAB_SOURCE_DIR");

  if (source_dir == NULL)
    {
      g_test_skip ("SIPLAB_SOURCE_DIR is not set");
      return;
    }

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *path = g_build_filename (source_dir, "data", "scenarios", names[i], NULL);
      g_autoptr(AppWindow) window = g_object_ref_sink (app_window_new (NULL));
      g_autoptr(GError) error = NULL;
      SimWorld *world;
      SimLocation *location;

      g_test_message ("%s", path);
      g_assert_true (app_window_open (window, path, &error));
      g_assert_no_error (error);
      gtk_window_present (GTK_WINDOW (window));
      world = app_window_get_world (window);

      /* The same keys a teacher presses: Right steps one event. */
      for (guint k = 0; k < 10; k++)
        g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.step", NULL));
      g_assert_cmpuint (app_ladder_view_get_n_rows (app_window_get_ladder (window)), ==,
                        count_packets_sent (world));

      app_window_run_until (window, SIM_SEC (60));
      g_assert_cmpuint (count_packets_sent (world), >, 0);
      g_assert_cmpuint (app_ladder_view_get_n_rows (app_window_get_ladder (window)), ==,
                        count_packets_sent (world));
      location = sim_world_get_location (world);
      if (location != NULL)
        g_assert_cmpuint (app_location_view_get_n_rows (app_window_get_location (window)), ==,
                          sim_location_get_n_bindings (location));

      /* Restart replays the same deterministic session from zero. */
      g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.restart", NULL));
      g_assert_cmpint (sim_world_now (app_window_get_world (window)), ==, 0);
      g_assert_cmpuint (app_ladder_view_get_n_rows (app_window_get_ladder (window)), ==,
                        count_packets_sent (app_window_get_world (window)));

      gtk_window_destroy (GTK_WINDOW (window));
    }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  if (!gtk_init_check ())
    {
      printf ("1..0 # SKIP no display\n");
      return 0;
    }
  {
    g_autoptr(GtkCssProvider) provider = gtk_css_provider_new ();

    gtk_css_provider_load_from_resource (provider, "/org/siplab/SipLab/style.css");
  }

#define ADD(path, fn) g_test_add (path, Fixture, NULL, fixture_set_up, fn, fixture_tear_down)
  ADD ("/gtk/window/ladder-has-a-row-per-packet", test_ladder_has_a_row_per_packet);
  ADD ("/gtk/window/location-table-has-a-row-per-binding",
       test_location_table_has_a_row_per_binding);
  ADD ("/gtk/window/selecting-a-row-inspects-its-message",
       test_selecting_a_row_inspects_its_message);
  ADD ("/gtk/window/playing-advances-the-clock", test_playing_advances_the_clock);
#undef ADD
  g_test_add_func ("/gtk/window/scenarios-agree-with-the-core", test_scenarios_agree_with_the_core);

  return g_test_run ();
}
