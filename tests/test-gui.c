/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <stdio.h>
#include <string.h>

#include <glib/gstdio.h>
#include <gtk/gtk.h>

#include "sim-digest.h"

#include "app-listen-dialog.h"
#include "app-watch-dialog.h"
#include "sim-hep.h"
#include "sim-capture-world.h"
#include "app-network-view.h"
#include "app-location-view.h"
#include "app-ticker.h"
#include "sim-pcap.h"
#include "app-packet.h"
#include "app-window.h"
#include "test-long-scene.h"

/*
 * The GUI's views against the core: whatever the window shows must be what the trace and the
 * location service say.  Needs a display (meson runs it under xvfb-run); without one it skips.
 */

/* The window's session: what its views show and its actions change. */
static SimDocument *
document_of (AppWindow *window)
{
  return app_window_get_document (window);
}

static SimWorld *
world_of (AppWindow *window)
{
  return sim_document_get_world (app_window_get_document (window));
}

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
  g_assert_true (sim_document_open (document_of (f->window), NULL, &error));
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
  SimWorld *world = world_of (f->window);
  AppLadderView *ladder = app_window_get_ladder (f->window);

  g_assert_cmpuint (app_ladder_view_get_n_rows (ladder), ==, 0);

  /* Step by step, then in one jump: the ladder keeps up either way. */
  for (guint i = 0; i < 25; i++)
    {
      g_assert_true (sim_document_step (document_of (f->window)));
      g_assert_cmpuint (app_ladder_view_get_n_rows (ladder), ==, count_packets_sent (world));
    }
  sim_document_run_until (document_of (f->window), SIM_SEC (20));
  g_assert_cmpuint (count_packets_sent (world), >, 10);
  g_assert_cmpuint (app_ladder_view_get_n_rows (ladder), ==, count_packets_sent (world));
}

static void
test_location_table_has_a_row_per_binding (Fixture       *f,
                                           gconstpointer  data)
{
  SimWorld *world = world_of (f->window);
  AppLocationView *location = app_window_get_location (f->window);

  g_assert_cmpuint (app_location_view_get_n_rows (location), ==, 0);
  sim_document_run_until (document_of (f->window), SIM_SEC (10));
  /* alice-desk, alice-soft and bob-desk are registered by now. */
  g_assert_cmpuint (sim_location_get_n_bindings (sim_world_get_location (world)), ==, 3);
  g_assert_cmpuint (app_location_view_get_n_rows (location), ==,
                    sim_location_get_n_bindings (sim_world_get_location (world)));

  /* The demo asks for 120 s: by 200 s every binding has been refreshed at least once. */
  sim_document_run_until (document_of (f->window), SIM_SEC (200));
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

  sim_document_run_until (document_of (f->window), SIM_SEC (10));
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
  SimWorld *world = world_of (f->window);
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
      g_assert_true (sim_document_open (document_of (window), path, &error));
      g_assert_no_error (error);
      gtk_window_present (GTK_WINDOW (window));
      world = world_of (window);

      /* The same keys a teacher presses: Right steps one event. */
      for (guint k = 0; k < 10; k++)
        g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.step", NULL));
      g_assert_cmpuint (app_ladder_view_get_n_rows (app_window_get_ladder (window)), ==,
                        count_packets_sent (world));

      sim_document_run_until (document_of (window), SIM_SEC (60));
      g_assert_cmpuint (count_packets_sent (world), >, 0);
      g_assert_cmpuint (app_ladder_view_get_n_rows (app_window_get_ladder (window)), ==,
                        count_packets_sent (world));
      location = sim_world_get_location (world);
      if (location != NULL)
        g_assert_cmpuint (app_location_view_get_n_rows (app_window_get_location (window)), ==,
                          sim_location_get_n_bindings (location));

      /* Restart replays the same deterministic session from zero. */
      g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.restart", NULL));
      g_assert_cmpint (sim_world_now (world_of (window)), ==, 0);
      g_assert_cmpuint (app_ladder_view_get_n_rows (app_window_get_ladder (window)), ==,
                        count_packets_sent (world_of (window)));

      gtk_window_destroy (GTK_WINDOW (window));
    }
}


static char *
scenario_path (const char *name)
{
  const char *source_dir = g_getenv ("SIPLAB_SOURCE_DIR");

  if (source_dir == NULL)
    return NULL;
  return g_build_filename (source_dir, "data", "scenarios", name, NULL);
}

static AppWindow *
open_window (const char *name)
{
  g_autofree char *path = name ? scenario_path (name) : NULL;
  g_autoptr(GError) error = NULL;
  AppWindow *window = g_object_ref_sink (app_window_new (NULL));

  g_assert_true (sim_document_open (document_of (window), path, &error));
  g_assert_no_error (error);
  gtk_window_present (GTK_WINDOW (window));
  return window;
}

static void
close_window (AppWindow *window)
{
  gtk_window_destroy (GTK_WINDOW (window));
  g_object_unref (window);
}

/* The value of header @name in @raw. */
static char *
header_value (const char *raw,
              const char *name)
{
  g_auto(GStrv) lines = g_strsplit (raw, "\r\n", -1);

  for (guint i = 0; lines[i] != NULL; i++)
    if (g_ascii_strncasecmp (lines[i], name, strlen (name)) == 0 && lines[i][strlen (name)] == ':')
      return g_strstrip (g_strdup (lines[i] + strlen (name) + 1));
  return NULL;
}

/* The ladder row of the first REGISTER from @from that carries an Authorization, or -1. */
static int
find_authorized_register (AppLadderView *ladder,
                          const char    *from,
                          guint          skip)
{
  for (guint i = 0; i < app_ladder_view_get_n_rows (ladder); i++)
    {
      SimEvent *e = app_ladder_view_get_row (ladder, i);
      g_autofree char *authorization = NULL;

      if (e->status != 0 || g_strcmp0 (e->method, "REGISTER") != 0 || g_strcmp0 (e->from, from))
        continue;
      authorization = header_value (e->raw, "Authorization");
      if (authorization != NULL && skip-- == 0)
        return i;
    }
  return -1;
}

/* What the digest panel shows is what sim_digest computes from the wire and the password. */
static char *
independent_response (SimEvent   *request,
                      const char *password)
{
  g_autofree char *authorization = header_value (request->raw, "Authorization");
  SimDigestCredentials creds = { NULL, };
  g_autofree char *ha1 = NULL, *ha2 = NULL;
  char *response;

  g_assert_nonnull (authorization);
  g_assert_true (sim_digest_credentials_parse (authorization, &creds, NULL));
  ha1 = sim_digest_ha1 (creds.algorithm, creds.username, creds.realm, password);
  ha2 = sim_digest_ha2 (creds.algorithm, "REGISTER", creds.uri);
  response = sim_digest_response (creds.algorithm, ha1, creds.nonce, creds.nc, creds.cnonce,
                                  creds.qop, ha2);
  sim_digest_credentials_clear (&creds);
  return response;
}

static char *
sent_response (SimEvent *request)
{
  g_autofree char *authorization = header_value (request->raw, "Authorization");
  SimDigestCredentials creds = { NULL, };
  char *response;

  g_assert_true (sim_digest_credentials_parse (authorization, &creds, NULL));
  response = g_strdup (creds.response);
  sim_digest_credentials_clear (&creds);
  return response;
}

static void
test_digest_panel_computes_the_response (void)
{
  g_autofree char *path = scenario_path ("03-register-digest.scn");
  AppWindow *window;
  AppLadderView *ladder;
  AppDigestView *digest;
  g_autofree char *expected = NULL;
  g_autofree char *sent = NULL;
  int row;

  if (path == NULL)
    {
      g_test_skip ("SIPLAB_SOURCE_DIR is not set");
      return;
    }
  window = open_window ("03-register-digest.scn");
  ladder = app_window_get_ladder (window);
  digest = app_window_get_digest (window);
  app_window_show_pane (window, "digest");
  sim_document_run_until (document_of (window), SIM_SEC (1));

  g_assert_cmpuint (app_digest_view_get_n_nonces (digest, "issued"), ==, 1);
  g_assert_cmpuint (app_digest_view_get_n_nonces (digest, "accepted"), ==, 1);
  g_assert_cmpuint (app_digest_view_get_n_nonces (digest, "rejected"), ==, 0);

  row = find_authorized_register (ladder, "alice-desk", 0);
  g_assert_cmpint (row, >=, 0);
  app_ladder_view_select_row (ladder, row);
  expected = independent_response (app_ladder_view_get_row (ladder, row), "secret123");
  sent = sent_response (app_ladder_view_get_row (ladder, row));
  g_assert_cmpstr (app_digest_view_get_expected (digest), ==, expected);
  g_assert_cmpstr (expected, ==, sent);
  g_assert_cmpstr (app_digest_view_get_verdict (digest), ==, "accepted");

  /* The 200 OK that answered it shows the same computation. */
  app_ladder_view_select_row (ladder, row + 1);
  g_assert_cmpstr (app_digest_view_get_expected (digest), ==, expected);
  close_window (window);
}

/*
 * A hidden digest pane builds no row per nonce (while playing a busy scene that was most of
 * the frames' update phase); shown, it lists every nonce and works out the packet selected
 * while it was hidden.
 */
static void
test_hidden_digest_pane_builds_nothing_until_shown (void)
{
  g_autofree char *path = scenario_path ("03-register-digest.scn");
  AppWindow *window;
  AppLadderView *ladder;
  AppDigestView *digest;
  g_autofree char *sent = NULL;
  gint64 deadline;
  int row;

  if (path == NULL)
    {
      g_test_skip ("SIPLAB_SOURCE_DIR is not set");
      return;
    }
  window = open_window ("03-register-digest.scn");
  ladder = app_window_get_ladder (window);
  digest = app_window_get_digest (window);
  deadline = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;
  while (!gtk_widget_get_mapped (GTK_WIDGET (window)) && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  app_window_show_pane (window, "location");
  while (gtk_widget_get_mapped (GTK_WIDGET (digest)) && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  g_assert_false (gtk_widget_get_mapped (GTK_WIDGET (digest)));
  sim_document_run_until (document_of (window), SIM_SEC (1));

  /* Counted, but no labels built. */
  g_assert_cmpuint (app_digest_view_get_n_nonces (digest, "issued"), ==, 1);
  g_assert_cmpuint (app_digest_view_get_n_nonces (digest, "accepted"), ==, 1);
  g_assert_cmpuint (app_digest_view_get_n_rows_built (digest), ==, 0);
  row = find_authorized_register (ladder, "alice-desk", 0);
  g_assert_cmpint (row, >=, 0);
  app_ladder_view_select_row (ladder, row);

  app_window_show_pane (window, "digest");
  while (!gtk_widget_get_mapped (GTK_WIDGET (digest)) && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpuint (app_digest_view_get_n_rows_built (digest), ==, 1);
  g_assert_cmpstr (app_digest_view_get_verdict (digest), ==, "accepted");
  sent = sent_response (app_ladder_view_get_row (ladder, row));
  g_assert_cmpstr (app_digest_view_get_expected (digest), ==, sent);
  close_window (window);
}

static void
test_digest_panel_computes_a_proxy_authorization (void)
{
  g_autofree char *path = scenario_path ("05-devices-fork.scn");
  AppWindow *window;
  AppLadderView *ladder;
  AppDigestView *digest;
  int row = -1, challenge = -1;
  g_autofree char *credentials = NULL;
  g_autofree char *expected = NULL;
  SimDigestCredentials creds = { NULL, };

  g_test_summary ("Issue 9 item 2: alice's INVITE is challenged with 407; the digest pane works "
                  "out her Proxy-Authorization (HA2 over INVITE and the Request-URI) like a "
                  "REGISTER's Authorization, and shows the proxy's verdict.");
  if (path == NULL)
    {
      g_test_skip ("SIPLAB_SOURCE_DIR is not set");
      return;
    }
  window = open_window ("05-devices-fork.scn");
  ladder = app_window_get_ladder (window);
  digest = app_window_get_digest (window);
  app_window_show_pane (window, "digest");
  sim_document_run_until (document_of (window), SIM_MSEC (2500));

  for (guint i = 0; i < app_ladder_view_get_n_rows (ladder); i++)
    {
      SimEvent *e = app_ladder_view_get_row (ladder, i);
      g_autofree char *value = NULL;

      if (e->status == 407 && challenge < 0)
        challenge = i;
      if (e->status != 0 || g_strcmp0 (e->method, "INVITE") != 0 || g_strcmp0 (e->from, "alice-desk"))
        continue;
      value = header_value (e->raw, "Proxy-Authorization");
      if (value != NULL && row < 0)
        {
          row = i;
          credentials = g_steal_pointer (&value);
        }
    }
  g_assert_cmpint (challenge, >=, 0);
  g_assert_cmpint (row, >, challenge);

  app_ladder_view_select_row (ladder, row);
  g_assert_true (sim_digest_credentials_parse (credentials, &creds, NULL));
  {
    g_autofree char *ha1 = sim_digest_ha1 (creds.algorithm, "alice", creds.realm, "alice-secret");
    g_autofree char *ha2 = sim_digest_ha2 (creds.algorithm, "INVITE", creds.uri);
    expected = sim_digest_response (creds.algorithm, ha1, creds.nonce, creds.nc, creds.cnonce,
                                    creds.qop, ha2);
  }
  g_assert_cmpstr (creds.uri, ==, "sip:bob@lab.example");
  g_assert_cmpstr (app_digest_view_get_expected (digest), ==, expected);
  g_assert_cmpstr (expected, ==, creds.response);
  g_assert_cmpstr (app_digest_view_get_verdict (digest), ==, "accepted");
  sim_digest_credentials_clear (&creds);
  close_window (window);
}

static void
test_digest_panel_shows_a_wrong_password (void)
{
  AppWindow *window = open_window (NULL);
  AppLadderView *ladder = app_window_get_ladder (window);
  AppDigestView *digest = app_window_get_digest (window);
  g_autoptr(GError) error = NULL;
  g_autofree char *expected = NULL;
  g_autofree char *sent = NULL;
  int row;

  /* Before alice-desk's first REGISTER: her phone is configured with the wrong password. */
  g_assert_true (sim_document_apply_text (document_of (window), "password alice-desk not-alice-pw", &error));
  g_assert_no_error (error);
  sim_document_run_until (document_of (window), SIM_SEC (2));

  row = find_authorized_register (ladder, "alice-desk", 0);
  g_assert_cmpint (row, >=, 0);
  app_ladder_view_select_row (ladder, row);
  expected = independent_response (app_ladder_view_get_row (ladder, row), "alice-pw");
  sent = sent_response (app_ladder_view_get_row (ladder, row));
  g_assert_cmpstr (app_digest_view_get_expected (digest), ==, expected);
  g_assert_cmpstr (expected, !=, sent);
  g_assert_cmpstr (app_digest_view_get_verdict (digest), ==, "rejected");
  g_assert_cmpuint (app_digest_view_get_n_nonces (digest, "rejected"), >=, 1);
  close_window (window);
}

static void
test_digest_panel_shows_a_replay (void)
{
  g_autofree char *path = scenario_path ("07-replay-attack.scn");
  AppWindow *window;
  AppLadderView *ladder;
  AppDigestView *digest;
  g_autofree char *expected = NULL;
  int row;

  if (path == NULL)
    {
      g_test_skip ("SIPLAB_SOURCE_DIR is not set");
      return;
    }
  g_test_summary ("Eve's replayed REGISTER carries a correct digest: only the used nonce "
                  "gives it away.");
  window = open_window ("07-replay-attack.scn");
  ladder = app_window_get_ladder (window);
  digest = app_window_get_digest (window);
  sim_document_run_until (document_of (window), SIM_MSEC (5100));

  row = find_authorized_register (ladder, "eve", 0);
  g_assert_cmpint (row, >=, 0);
  app_ladder_view_select_row (ladder, row);
  expected = independent_response (app_ladder_view_get_row (ladder, row), "secret123");
  g_assert_cmpstr (app_digest_view_get_expected (digest), ==, expected);
  g_assert_cmpstr (app_digest_view_get_verdict (digest), ==, "rejected");
  /* No sniffer in this scene: no paragraph about one. */
  g_assert_false (app_digest_view_get_sniffer_note_shown (digest));
  close_window (window);
}

static void
test_inspector_shows_what_the_sniffer_saw (void)
{
  g_autofree char *path = scenario_path ("08-sniffer.scn");
  AppWindow *window;
  AppLadderView *ladder;
  AppInspector *inspector;
  guint n_tls = 0, n_plain = 0;

  if (path == NULL)
    {
      g_test_skip ("SIPLAB_SOURCE_DIR is not set");
      return;
    }
  g_test_summary ("A packet a sniffer copied on a plain link is shown to it in full; on a TLS "
                  "link the sniffer's view has a record size and addresses, no SIP text.");
  window = open_window ("08-sniffer.scn");
  ladder = app_window_get_ladder (window);
  inspector = app_window_get_inspector (window);
  sim_document_run_until (document_of (window), SIM_SEC (10));

  for (guint row = 0; row < app_ladder_view_get_n_rows (ladder); row++)
    {
      SimEvent *sent = app_ladder_view_get_row (ladder, row);
      g_autofree char *seen = NULL;
      g_autofree char *size = NULL;

      app_ladder_view_select_row (ladder, row);
      seen = app_inspector_get_sniffer_text (inspector);
      g_assert_nonnull (seen);
      g_assert_true (g_str_has_prefix (seen, "What sniffer wire saw"));
      if (sent->tls)
        {
          size = g_strdup_printf ("TLS record, %zu bytes, from ", strlen (sent->raw) + 22);
          g_assert_nonnull (strstr (seen, size));
          g_assert_null (strstr (seen, "SIP/2.0"));
          g_assert_null (strstr (seen, "sip:"));
          g_assert_null (strstr (seen, sent->first_line));
          g_assert_null (strstr (seen, "Digest"));
          g_assert_null (strstr (seen, "Authorization"));
          n_tls++;
        }
      else
        {
          size = g_strdup_printf ("all %zu bytes in clear", strlen (sent->raw));
          g_assert_nonnull (strstr (seen, size));
          n_plain++;
        }
    }
  g_assert_cmpuint (n_tls, ==, 4);
  g_assert_cmpuint (n_plain, ==, 8);
  /* A scene with a sniffer explains why the nonce stops replay but not guessing. */
  g_assert_true (app_digest_view_get_sniffer_note_shown (app_window_get_digest (window)));
  close_window (window);
}

static void
test_timers_panel_tracks_the_trace (void)
{
  AppWindow *window = open_window (NULL);
  AppTimersView *timers = app_window_get_timers (window);

  app_window_show_pane (window, "timers");
  g_assert_cmpstr (app_window_get_pane (window), ==, "timers");

  /* alice-desk's first REGISTER is on its way: Timers E and F run. */
  sim_document_run_until (document_of (window), SIM_MSEC (50));
  g_assert_cmpuint (app_timers_view_get_n_transaction_timers (timers), >=, 2);

  /* Everyone registered: three refresh timers and three bindings, at least. */
  sim_document_run_until (document_of (window), SIM_SEC (7));
  g_assert_cmpuint (app_timers_view_get_n_bars (timers), >=, 6);

  /* Long after the demo: no transaction is left, refreshes and bindings go on. */
  sim_document_run_until (document_of (window), SIM_SEC (300));
  g_assert_cmpuint (app_timers_view_get_n_transaction_timers (timers), ==, 0);
  g_assert_cmpuint (app_timers_view_get_n_bars (timers), >=, 6);
  close_window (window);
}

static void
test_step_back_lands_on_the_previous_step (void)
{
  AppWindow *window = open_window (NULL);
  guint counts[13];
  g_autoptr(GPtrArray) before = NULL;

  counts[0] = sim_trace_get_n_events (sim_world_get_trace (world_of (window)));
  for (guint i = 1; i < G_N_ELEMENTS (counts); i++)
    {
      g_assert_true (sim_document_step (document_of (window)));
      counts[i] = sim_trace_get_n_events (sim_world_get_trace (world_of (window)));
    }
  before = g_ptr_array_ref (sim_trace_get_events (
    sim_world_get_trace (world_of (window))));

  /* Left, as a teacher presses it: one step back, the same events up to there. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.step-back", NULL));
  {
    SimTrace *trace = sim_world_get_trace (world_of (window));

    g_assert_cmpuint (sim_trace_get_n_events (trace), ==, counts[11]);
    for (guint i = 0; i < counts[11]; i++)
      {
        SimEvent *a = before->pdata[i];
        SimEvent *b = sim_trace_get_event (trace, i);

        g_assert_cmpint (a->type, ==, b->type);
        g_assert_cmpint (a->t, ==, b->t);
        g_assert_cmpstr (a->action, ==, b->action);
        g_assert_cmpstr (a->raw, ==, b->raw);
      }
    g_assert_cmpuint (app_ladder_view_get_n_rows (app_window_get_ladder (window)), ==,
                      count_packets_sent (world_of (window)));
  }

  for (guint i = 10; i > 0; i--)
    {
      g_assert_true (sim_document_step_back (document_of (window)));
      SimTrace *trace = sim_world_get_trace (world_of (window));

      g_assert_cmpuint (sim_trace_get_n_events (trace), ==, counts[i]);
    }
  g_assert_true (sim_document_step_back (document_of (window)));
  g_assert_cmpuint (sim_trace_get_n_events (sim_world_get_trace (world_of (window))),
                    ==, counts[0]);
  g_assert_false (sim_document_step_back (document_of (window)));
  close_window (window);
}

static void
test_speed_goes_to_an_hour_per_second (void)
{
  AppWindow *window = open_window (NULL);

  app_window_set_speed (window, 1);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.speed-up", NULL));
  g_assert_cmpfloat (app_window_get_speed (window), ==, 2);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.speed-down", NULL));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.speed-down", NULL));
  g_assert_cmpfloat (app_window_get_speed (window), ==, 0.5);
  for (guint i = 0; i < 20; i++)
    gtk_widget_activate_action (GTK_WIDGET (window), "win.speed-up", NULL);
  g_assert_cmpfloat (app_window_get_speed (window), >=, 1000);
  close_window (window);
}

static void
test_playing_stops_at_the_run_length (void)
{
  g_autofree char *path = scenario_path ("04-refresh-expiry.scn");
  gint64 deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;
  AppWindow *window;
  SimTime run_length;
  guint wake_id;

  g_test_summary ("Play runs the session in bounded slices per frame, the clock catching up "
                  "over the frames that follow: at an hour a second it still stops exactly at "
                  "the scenario's run length, with every packet in the ladder.");
  if (path == NULL)
    {
      g_test_skip ("SIPLAB_SOURCE_DIR is not set");
      return;
    }
  window = open_window ("04-refresh-expiry.scn");
  run_length = sim_document_get_run_length (document_of (window));
  g_assert_cmpint (run_length, >, 0);
  wake_id = g_timeout_add (100, wake_cb, NULL);
  app_window_set_speed (window, 3600);
  app_window_set_playing (window, TRUE);
  while (app_window_get_playing (window) && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (wake_id);

  g_assert_false (app_window_get_playing (window));
  g_assert_cmpint (sim_world_now (world_of (window)), ==, run_length);
  g_assert_cmpuint (app_ladder_view_get_n_rows (app_window_get_ladder (window)), ==,
                    count_packets_sent (world_of (window)));
  close_window (window);
}

typedef struct {
  guint sizings;          /* the window's "compute-size" */
  guint frames;
  guint laid_out;         /* frames in which the window was sized again */
  guint sizings_seen;
} Layouts;

static void
count_sizing_cb (GdkToplevel     *toplevel,
                 GdkToplevelSize *size,
                 Layouts         *layouts)
{
  layouts->sizings++;
}

static void
count_frame_cb (GdkFrameClock *clock,
                Layouts       *layouts)
{
  layouts->frames++;
  if (layouts->sizings != layouts->sizings_seen)
    layouts->laid_out++;
  layouts->sizings_seen = layouts->sizings;
}

/*
 * While playing, a frame that only moves the clock and the packets lays nothing out: the clock
 * is a ticker whose width changes only with its text's shape, and the scrubber, the tables,
 * the inspector and the ladder's scroll and growth fall due together once per 200 ms slot.
 * A layout has GTK size the whole window again (with X round trips); before, that was every
 * frame (160 frames of 160 here, against 24 now).  The frames laid out are counted against the slots that went by (a loaded machine
 * draws few frames: the bound then says less, but never fails for it).
 */
static void
test_playing_lays_the_window_out_once_per_slot (void)
{
  g_autofree char *path = scenario_path ("04-refresh-expiry.scn");
  Layouts layouts = { 0 };
  gint64 start, deadline;
  GdkFrameClock *clock;
  GdkSurface *surface;
  AppWindow *window;
  guint wake_id;
  double slots;

  if (path == NULL)
    {
      g_test_skip ("SIPLAB_SOURCE_DIR is not set");
      return;
    }
  window = open_window ("04-refresh-expiry.scn");
  deadline = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;
  while (!gtk_widget_get_mapped (GTK_WIDGET (window)) && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  clock = gtk_widget_get_frame_clock (GTK_WIDGET (window));
  surface = gtk_native_get_surface (GTK_NATIVE (window));
  g_signal_connect (surface, "compute-size", G_CALLBACK (count_sizing_cb), &layouts);
  g_signal_connect (clock, "after-paint", G_CALLBACK (count_frame_cb), &layouts);
  wake_id = g_timeout_add (20, wake_cb, NULL);
  app_window_set_speed (window, 30);
  app_window_set_playing (window, TRUE);
  layouts = (Layouts) { 0 };
  start = g_get_monotonic_time ();
  while (g_get_monotonic_time () < start + 3 * G_USEC_PER_SEC && app_window_get_playing (window))
    g_main_context_iteration (NULL, TRUE);
  slots = (g_get_monotonic_time () - start) / (G_USEC_PER_SEC / 5.0);
  app_window_set_playing (window, FALSE);
  g_source_remove (wake_id);
  g_signal_handlers_disconnect_by_data (clock, &layouts);
  g_signal_handlers_disconnect_by_data (surface, &layouts);

  g_test_message ("%u frames, %u laid out (%u sizings) in %.0f slots", layouts.frames,
                  layouts.laid_out, layouts.sizings, slots);
  g_assert_cmpuint (layouts.frames, >, 0);
  /*
   * A slot's layout can spill into the next frame (GTK's layout phase runs at most four
   * passes, and sizing the window queues another): a few frames per slot at most.
   */
  g_assert_cmpfloat (layouts.laid_out, <=, 3 * slots + 3);
  close_window (window);
}

static void
test_ladder_collapses_refreshes (void)
{
  g_autofree char *path = scenario_path ("04-refresh-expiry.scn");
  AppWindow *window;
  AppLadderView *ladder;
  guint n_all, max_count = 0;

  if (path == NULL)
    {
      g_test_skip ("SIPLAB_SOURCE_DIR is not set");
      return;
    }
  window = open_window ("04-refresh-expiry.scn");
  ladder = app_window_get_ladder (window);
  sim_document_run_until (document_of (window), SIM_SEC (390));
  n_all = app_ladder_view_get_n_rows (ladder);
  g_assert_cmpuint (n_all, ==, count_packets_sent (world_of (window)));

  g_object_set (window, "collapse-refreshes", TRUE, NULL);
  /* The first registration's four packets, then one line for every refresh since. */
  g_assert_cmpuint (app_ladder_view_get_n_rows (ladder), ==, 5);
  for (guint i = 0; i < app_ladder_view_get_n_rows (ladder); i++)
    max_count = MAX (max_count, app_ladder_view_get_row_count (ladder, i));
  g_assert_cmpuint (max_count, >=, 3);

  /* New refreshes fold into the same line as they come. */
  sim_document_run_until (document_of (window), SIM_SEC (399));
  g_assert_cmpuint (app_ladder_view_get_n_rows (ladder), ==, 5);

  g_object_set (window, "collapse-refreshes", FALSE, NULL);
  g_assert_cmpuint (app_ladder_view_get_n_rows (ladder), ==,
                    count_packets_sent (world_of (window)));
  close_window (window);
}

static gboolean
trace_has_action (SimWorld   *world,
                  const char *needle)
{
  GPtrArray *events = sim_trace_get_events (sim_world_get_trace (world));

  for (guint i = 0; i < events->len; i++)
    {
      SimEvent *e = events->pdata[i];

      if (e->type == SIM_EVENT_ACTION && e->text != NULL && strstr (e->text, needle) != NULL)
        return TRUE;
    }
  return FALSE;
}

static void
test_scene_edits_replay_and_save (void)
{
  AppWindow *window = open_window (NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  g_autoptr(SimScenario) saved = NULL;
  g_autoptr(SimWorld) rebuilt = NULL;
  SimWorld *world;

  sim_document_run_until (document_of (window), SIM_SEC (2));
  g_assert_true (sim_document_apply_text (document_of (window),
                                          "add-phone carol-desk carol 10.0.0.31 password carol-pw",
                                          &error));
  g_assert_no_error (error);
  /* A new user needs a password; an unknown phone cannot be moved. */
  g_assert_false (sim_document_apply_text (document_of (window),
                                           "add-phone dave-desk dave 10.0.0.41", &error));
  g_assert_error (error, SIM_COMMAND_ERROR, SIM_COMMAND_ERROR_INVALID);
  g_assert_cmpstr (error->message, ==, "'dave' is a new user: give a password");
  g_clear_error (&error);
  g_assert_false (sim_document_apply_text (document_of (window), "move nobody 10.0.0.99", &error));
  g_assert_nonnull (error);
  g_clear_error (&error);

  sim_document_run_until (document_of (window), SIM_SEC (4));
  world = world_of (window);
  g_assert_nonnull (sim_world_get_phone (world, "carol-desk"));
  g_assert_cmpint (sim_phone_get_reg_state (sim_world_get_phone (world, "carol-desk")), ==,
                   SIM_REG_REGISTERED);
  g_assert_true (sim_document_apply_text (document_of (window), "power-off alice-soft", &error));
  g_assert_true (sim_document_apply_text (document_of (window), "link default loss 10%", &error));
  g_assert_true (sim_document_apply_text (document_of (window), "move bob-desk 10.0.0.52", &error));
  g_assert_true (sim_document_apply_text (document_of (window), "remove-phone alice-desk", &error));
  g_assert_no_error (error);
  world = world_of (window);
  g_assert_true (trace_has_action (world, "alice-desk is removed"));
  g_assert_null (sim_world_get_phone (world, "alice-desk"));

  /* Restart replays the edits at their times. */
  g_assert_true (sim_document_restart (document_of (window), &error));
  world = world_of (window);
  g_assert_null (sim_world_get_phone (world, "carol-desk"));
  sim_document_run_until (document_of (window), SIM_SEC (5));
  g_assert_nonnull (sim_world_get_phone (world, "carol-desk"));
  g_assert_null (sim_world_get_phone (world, "alice-desk"));
  g_assert_false (sim_phone_is_powered (sim_world_get_phone (world, "alice-soft")));

  /* Saved, it is a scenario that parses and builds. */
  text = sim_document_to_text (document_of (window));
  g_test_message ("%s", text);
  saved = sim_scenario_parse_data (text, -1, "saved", &error);
  g_assert_no_error (error);
  g_assert_nonnull (sim_scenario_find_node (saved, "carol-desk"));
  g_assert_null (sim_scenario_find_node (saved, "alice-desk"));
  g_assert_nonnull (strstr (text, "power-off alice-soft"));
  g_assert_nonnull (strstr (text, "move bob-desk 10.0.0.52"));
  rebuilt = sim_scenario_build (saved, 0, &error);
  g_assert_no_error (error);
  sim_world_run_until (rebuilt, SIM_SEC (10));
  g_assert_cmpint (sim_phone_get_reg_state (sim_world_get_phone (rebuilt, "carol-desk")), ==,
                   SIM_REG_REGISTERED);

  /* Switching to point-to-point goes through the world as well. */
  g_assert_true (sim_document_apply_text (document_of (window), "mode p2p", &error));
  g_assert_cmpint (sim_world_get_mode (world_of (window)), ==, SIM_MODE_P2P);
  close_window (window);
}

static void
test_exports_write_files (void)
{
  AppWindow *window = open_window (NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("siplab-gui-XXXXXX", &error);
  g_autofree char *svg = g_build_filename (dir, "ladder.svg", NULL);
  g_autofree char *png = g_build_filename (dir, "ladder.png", NULL);
  g_autofree char *pcap = g_build_filename (dir, "run.pcapng", NULL);
  g_autofree char *contents = NULL;
  g_autofree char *tshark = g_find_program_in_path ("tshark");
  gsize length;

  g_assert_no_error (error);
  sim_document_run_until (document_of (window), SIM_SEC (20));

  g_assert_true (app_ladder_view_export (app_window_get_ladder (window), svg,
                                         APP_LADDER_FORMAT_SVG, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (svg, &contents, &length, &error));
  g_assert_nonnull (strstr (contents, "<svg"));
  g_clear_pointer (&contents, g_free);

  g_assert_true (app_ladder_view_export (app_window_get_ladder (window), png,
                                         APP_LADDER_FORMAT_PNG, &error));
  g_assert_true (g_file_get_contents (png, &contents, &length, &error));
  g_assert_cmpuint (length, >, 8);
  g_assert_cmpmem (contents, 8, "\x89PNG\r\n\x1a\n", 8);
  g_clear_pointer (&contents, g_free);

  g_assert_true (sim_pcap_write_file (sim_trace_get_events (sim_world_get_trace (world_of (window))),
                                      pcap, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (pcap, &contents, &length, &error));
  g_assert_cmpmem (contents, 4, "\x0a\x0d\x0d\x0a", 4);

  if (tshark != NULL)
    {
      const char *argv[] = { tshark, "-r", pcap, "-Y", "sip", NULL };
      g_autofree char *out = NULL;
      g_autofree char *err = NULL;
      int status;

      g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out,
                                   &err, &status, &error));
      g_assert_true (g_spawn_check_wait_status (status, &error));
      g_assert_no_error (error);
      g_assert_nonnull (strstr (out, "REGISTER"));
      g_assert_nonnull (strstr (out, "401"));
    }
  else
    g_test_message ("no tshark: the capture is only checked for its magic number");

  g_unlink (svg);
  g_unlink (png);
  g_unlink (pcap);
  g_rmdir (dir);
  close_window (window);
}

static void
test_presentation_and_dark_style (void)
{
  AppWindow *window = open_window (NULL);
  GtkWidget *network = GTK_WIDGET (app_window_get_network (window));
  gboolean prefer_dark = FALSE;
  GdkRGBA light_bg, dark_bg;

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.presentation", NULL));
  g_assert_true (app_window_get_presentation (window));
  g_assert_true (gtk_widget_has_css_class (GTK_WIDGET (window), "presentation"));
  app_window_set_presentation (window, FALSE);
  g_assert_false (gtk_widget_has_css_class (GTK_WIDGET (window), "presentation"));

  app_lookup_color (network, "node_bg", "#000000", &light_bg);
  app_window_set_dark (window, TRUE);
  g_object_get (gtk_settings_get_default (), "gtk-application-prefer-dark-theme", &prefer_dark,
                NULL);
  g_assert_true (prefer_dark);
  /* The custom-drawn views look their colours up: the dark ones now. */
  app_lookup_color (network, "node_bg", "#ffffff", &dark_bg);
  g_assert_cmpfloat (dark_bg.red + dark_bg.green + dark_bg.blue, <,
                     light_bg.red + light_bg.green + light_bg.blue);
  app_window_set_dark (window, FALSE);
  close_window (window);
}

static void
test_counters_count_registrations_and_failures (void)
{
  g_autofree char *path = scenario_path ("03-register-digest.scn");
  AppWindow *window;
  AppCountersView *counters;

  if (path == NULL)
    {
      g_test_skip ("SIPLAB_SOURCE_DIR is not set");
      return;
    }
  window = open_window ("03-register-digest.scn");
  counters = app_window_get_counters (window);
  app_window_show_pane (window, "counters");
  g_assert_cmpstr (app_window_get_pane (window), ==, "counters");
  sim_document_run_until (document_of (window), SIM_SEC (10));
  g_assert_cmpuint (app_counters_view_get_n_registrations (counters), ==, 1);
  g_assert_cmpuint (app_counters_view_get_n_bindings (counters), ==, 1);
  g_assert_cmpuint (app_counters_view_get_n_failures (counters), ==, 0);
  close_window (window);

  /* Eve's replayed digest is turned down: the registrar counts it as a failure. */
  window = open_window ("07-replay-attack.scn");
  counters = app_window_get_counters (window);
  sim_document_run_until (document_of (window), SIM_SEC (10));
  g_assert_cmpuint (app_counters_view_get_n_failures (counters), >, 0);
  g_assert_cmpuint (app_counters_view_get_n_registrations (counters), >=, 1);
  close_window (window);
}

static void
test_ladder_keeps_the_newest_rows (void)
{
  AppWindow *window = open_window (NULL);
  AppLadderView *ladder = app_window_get_ladder (window);
  SimWorld *world = world_of (window);

  g_test_summary ("With a row limit (live mode) the oldest packets fold into one count.");
  app_ladder_view_set_max_rows (ladder, 16);
  sim_document_run_until (document_of (window), SIM_SEC (120));
  g_assert_cmpuint (count_packets_sent (world), >, 40);
  g_assert_cmpuint (app_ladder_view_get_n_rows (ladder), <=, 16 + 16 / 8);
  g_assert_cmpuint (app_ladder_view_get_n_earlier (ladder), >, 0);
  g_assert_cmpuint (app_ladder_view_get_n_rows (ladder) + app_ladder_view_get_n_earlier (ladder),
                    ==, count_packets_sent (world));
  close_window (window);
}

static gboolean
flag_cb (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

/* Runs the main loop (the live world's clock and sockets) until @location has @n bindings. */
static gboolean
wait_for_bindings (SimLocation *location,
                   guint        n)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add_seconds (10, flag_cb, &timed_out);

  while (!timed_out && sim_location_get_n_bindings (location) < n)
    g_main_context_iteration (NULL, TRUE);
  if (!timed_out)
    g_source_remove (id);
  return !timed_out;
}

static void
wait_ms (guint ms)
{
  gboolean done = FALSE;

  g_timeout_add (ms, flag_cb, &done);
  while (!done)
    g_main_context_iteration (NULL, TRUE);
}

/* The cairo nodes under @node: their bounds, and where they start in @node's coordinates. */
static void
collect_cairo_nodes (GskRenderNode *node,
                     double         dy,
                     GArray        *local,
                     GArray        *absolute)
{
  switch ((int) gsk_render_node_get_node_type (node))
    {
    case GSK_CONTAINER_NODE:
      for (guint i = 0; i < gsk_container_node_get_n_children (node); i++)
        collect_cairo_nodes (gsk_container_node_get_child (node, i), dy, local, absolute);
      break;
    case GSK_TRANSFORM_NODE:
      {
        GskTransform *transform = gsk_transform_node_get_transform (node);
        float tx = 0, ty = 0;

        g_assert_cmpint (gsk_transform_get_category (transform), >=,
                         GSK_TRANSFORM_CATEGORY_2D_TRANSLATE);
        gsk_transform_to_translate (transform, &tx, &ty);
        collect_cairo_nodes (gsk_transform_node_get_child (node), dy + ty, local, absolute);
      }
      break;
    case GSK_CLIP_NODE:
      collect_cairo_nodes (gsk_clip_node_get_child (node), dy, local, absolute);
      break;
    case GSK_DEBUG_NODE:
      collect_cairo_nodes (gsk_debug_node_get_child (node), dy, local, absolute);
      break;
    case GSK_CAIRO_NODE:
      {
        graphene_rect_t bounds;

        gsk_render_node_get_bounds (node, &bounds);
        g_array_append_val (local, bounds);
        bounds.origin.y += dy;
        g_array_append_val (absolute, bounds);
      }
      break;
    default:
      break;
    }
}

static GtkWidget *
find_widget (GtkWidget *widget,
             GType      type)
{
  if (G_TYPE_CHECK_INSTANCE_TYPE (widget, type))
    return widget;
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_widget (child, type);

      if (found != NULL)
        return found;
    }
  return NULL;
}

static void
test_ladder_draws_late_rows_near_the_origin (void)
{
  g_autofree char *path = scenario_path ("04-refresh-expiry.scn");
  g_autoptr(GArray) local = g_array_new (FALSE, FALSE, sizeof (graphene_rect_t));
  g_autoptr(GArray) absolute = g_array_new (FALSE, FALSE, sizeof (graphene_rect_t));
  g_autoptr(GtkSnapshot) snapshot = NULL;
  g_autoptr(GdkPaintable) paintable = NULL;
  g_autoptr(GskRenderNode) node = NULL;
  AppWindow *window;
  AppLadderView *ladder;
  GtkScrolledWindow *scroller;
  GtkAdjustment *adjustment;
  GtkWidget *body;
  double value, page;

  if (path == NULL)
    {
      g_test_skip ("SIPLAB_SOURCE_DIR is not set");
      return;
    }
  g_test_summary ("A long ladder is drawn from the first row in view, so cairo never sees the "
                  "y of a late row (GSK_RENDERER=cairo drew lines away from their labels).");
  window = open_window ("04-refresh-expiry.scn");
  ladder = app_window_get_ladder (window);
  sim_document_run_until (document_of (window), SIM_SEC (390));
  wait_ms (300);

  scroller = GTK_SCROLLED_WINDOW (find_widget (GTK_WIDGET (ladder), GTK_TYPE_SCROLLED_WINDOW));
  adjustment = gtk_scrolled_window_get_vadjustment (scroller);
  body = find_widget (GTK_WIDGET (scroller), GTK_TYPE_DRAWING_AREA);
  g_assert_nonnull (body);
  value = gtk_adjustment_get_value (adjustment);
  page = gtk_adjustment_get_page_size (adjustment);
  /* Followed to the newest row: more than a page down the ladder. */
  g_assert_cmpuint (app_ladder_view_get_n_rows (ladder), >, 15);
  g_assert_cmpfloat (page, >, 0);
  g_assert_cmpfloat (value, >, page);

  paintable = gtk_widget_paintable_new (body);
  snapshot = gtk_snapshot_new ();
  gdk_paintable_snapshot (paintable, GDK_SNAPSHOT (snapshot), gtk_widget_get_width (body),
                          gtk_widget_get_height (body));
  node = gtk_snapshot_free_to_node (g_steal_pointer (&snapshot));
  g_assert_nonnull (node);
  collect_cairo_nodes (node, 0, local, absolute);
  g_assert_cmpuint (local->len, >=, 1);
  for (guint i = 0; i < local->len; i++)
    {
      graphene_rect_t *l = &g_array_index (local, graphene_rect_t, i);
      graphene_rect_t *a = &g_array_index (absolute, graphene_rect_t, i);

      /* The cairo surface starts at its own y = 0, about a page tall... */
      g_assert_cmpfloat (l->origin.y, ==, 0);
      g_assert_cmpfloat (l->size.height, <=, page + 300);
      /* ...and is placed (by a transform) where the rows in view are. */
      g_assert_cmpfloat (a->origin.y, <=, value);
      g_assert_cmpfloat (a->origin.y, >=, value - 300);
    }
  close_window (window);
}

static void
test_live_mode_shows_a_real_phone (void)
{
  g_autofree char *path = scenario_path ("03-register-digest.scn");
  g_autofree char *dir = NULL;
  g_autofree char *users = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(SimClock) clock = NULL;
  g_autoptr(SimTrace) trace = NULL;
  g_autoptr(GRand) rand = NULL;
  g_autoptr(SimStack) stack = NULL;
  g_autoptr(SimSocketTransport) transport = NULL;
  g_autoptr(SimPhone) bob = NULL;
  SimListenOptions options = { "127.0.0.1", 0, TRUE, FALSE, NULL, NULL, TRUE };
  AppWindow *window;
  AppLadderView *ladder;
  SimWorld *world;
  SimAddr registrar, local;
  gboolean seen_ok = FALSE, seen_register = FALSE;

  if (path == NULL)
    {
      g_test_skip ("SIPLAB_SOURCE_DIR is not set");
      return;
    }
  g_test_summary ("Live mode: the scene's registrar on a real UDP socket; a phone on a real "
                  "socket registers, and the location table and the ladder show it next to the "
                  "scene's simulated phone.");

  dir = g_dir_make_tmp ("siplab-gui-XXXXXX", &error);
  g_assert_no_error (error);
  users = g_build_filename (dir, "users.txt", NULL);
  g_assert_true (g_file_set_contents (users, "# lab users\nbob:bobpw\n", -1, &error));
  options.users_path = users;

  window = open_window ("03-register-digest.scn");
  ladder = app_window_get_ladder (window);
  /* The menu's dialog builds from its template (what it asks for is sim_document_listen()'s). */
  {
    AppListenDialog *dialog = app_listen_dialog_new (GTK_WINDOW (window), document_of (window));

    gtk_window_present (GTK_WINDOW (dialog));
    gtk_window_destroy (GTK_WINDOW (dialog));
  }
  g_assert_true (sim_document_listen (document_of (window), &options, &error));
  g_assert_no_error (error);
  g_assert_true (sim_document_get_live (document_of (window)));
  world = world_of (window);
  g_assert_false (sim_clock_is_virtual (sim_world_get_clock (world)));
  registrar = g_array_index (sim_socket_transport_get_listeners (sim_world_get_transport (world)),
                             SimAddr, 0);
  g_assert_cmpuint (registrar.port, !=, 0);
  /* Playback is off: the wall clock runs the session. */
  app_window_set_playing (window, TRUE);
  g_assert_false (app_window_get_playing (window));
  g_assert_false (sim_document_step (document_of (window)));

  /* A phone outside the window, on its own socket and clock: as a desk phone would be. */
  clock = sim_clock_new_wall ();
  trace = sim_trace_new ();
  rand = g_rand_new_with_seed (11);
  sim_addr_init (&local, "127.0.0.1", 0, SIM_TRANSPORT_UDP);
  stack = sim_stack_new (clock, trace, rand, "bob-phone", &local);
  transport = sim_socket_transport_new (stack);
  g_assert_true (sim_socket_transport_listen (transport, "udp:127.0.0.1:0", &error));
  g_assert_no_error (error);
  bob = sim_phone_new (stack, "bob", "bob-phone", "lab.example", "bobpw", "Bob");
  sim_phone_set_outbound (bob, &registrar);
  g_assert_true (sim_phone_register (bob, 600, &error));
  g_assert_no_error (error);

  /* alice-desk (simulated, the scene's) and bob (real). */
  g_assert_true (wait_for_bindings (sim_world_get_location (world), 2));
  g_assert_nonnull (sim_location_lookup (sim_world_get_location (world), "sip:bob@lab.example"));
  wait_ms (400);
  g_assert_cmpuint (app_location_view_get_n_rows (app_window_get_location (window)), ==, 2);
  g_assert_cmpuint (app_counters_view_get_n_bindings (app_window_get_counters (window)), ==, 2);
  g_assert_cmpuint (app_counters_view_get_n_registrations (app_window_get_counters (window)), >=,
                    2);

  /* The ladder shows bob's REGISTERs and the 200 OK sent to him, named by his AOR's user. */
  for (guint i = 0; i < app_ladder_view_get_n_rows (ladder); i++)
    {
      SimEvent *e = app_ladder_view_get_row (ladder, i);

      if (e->status == 0 && g_strcmp0 (e->method, "REGISTER") == 0 &&
          g_strcmp0 (e->to, "registrar") == 0 && g_strcmp0 (e->src.ip, "127.0.0.1") == 0 &&
          e->src.port == sim_stack_get_local (stack)->port)
        seen_register = TRUE;
      if (e->status == 200 && g_strcmp0 (e->to, "bob") == 0)
        seen_ok = TRUE;
    }
  g_assert_true (seen_register);
  g_assert_true (seen_ok);

  /* The trace keeps the recent live events, so a capture exported now holds bob's REGISTERs
   * as they came in over the real socket. */
  {
    GPtrArray *events = sim_trace_get_events (sim_world_get_trace (world));
    g_autoptr(GBytes) capture = NULL;
    guint n_frames = 0, n_from_bob = 0;

    for (guint i = 0; i < events->len; i++)
      {
        SimEvent *e = events->pdata[i];

        if (e->type == SIM_EVENT_PACKET && g_strcmp0 (e->method, "REGISTER") == 0 &&
            e->src.port == sim_stack_get_local (stack)->port)
          n_from_bob++;
      }
    g_assert_cmpuint (n_from_bob, >=, 2);
    capture = sim_pcap_to_bytes (events, &n_frames);
    g_assert_cmpuint (n_frames, >=, 4);
  }

  /* Back to the scene: the sockets close, playback works again. */
  sim_document_stop_listening (document_of (window));
  g_assert_false (sim_document_get_live (document_of (window)));
  g_assert_true (sim_clock_is_virtual (sim_world_get_clock (world_of (window))));
  g_assert_true (sim_document_step (document_of (window)));

  sim_phone_set_powered (bob, FALSE);
  sim_socket_transport_close (transport);
  close_window (window);
  g_remove (users);
  g_rmdir (dir);
}


/* ------------------------------------------------------------------------------------------ */
/* Seeking in a long scene (issue 17)                                                         */

/* The newest packet shown once the window has caught up with its document. */
static SimEvent *
inspected_after_refresh (AppWindow *window)
{
  AppInspector *inspector = app_window_get_inspector (window);

  for (guint i = 0; i < 20; i++)
    g_main_context_iteration (NULL, FALSE);
  return app_inspector_get_event (inspector);
}

/* The inspected packet is the one a straight run to the same time has at the same index,
 * byte for byte, and the inspector shows its text. */
static void
assert_inspects_straight_packet (AppWindow  *window,
                                 const char *text,
                                 SimTime     t)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SimScenario) scenario = sim_scenario_parse_data (text, -1, "long.scn", &error);
  g_autoptr(SimWorld) straight = sim_scenario_build (scenario, 0, &error);
  SimEvent *shown = inspected_after_refresh (window);
  SimTrace *trace;
  SimEvent *expected;
  GtkTextBuffer *buffer = app_inspector_get_buffer (app_window_get_inspector (window));
  GtkTextIter start, end;
  g_autofree char *inspector_text = NULL;

  g_assert_no_error (error);
  sim_world_run_until (straight, t);
  g_assert_cmpint (sim_world_now (world_of (window)), ==, sim_world_now (straight));
  g_assert_nonnull (shown);
  trace = sim_world_get_trace (straight);
  expected = sim_trace_get_event (trace, sim_trace_position_of (trace, shown->index));
  assert_event_equal (shown, expected);
  /* It is the newest packet sent by then, as the straight run's ladder would follow. */
  for (guint i = sim_trace_position_of (trace, shown->index + 1); i < sim_trace_get_n_events (trace);
       i++)
    {
      SimEvent *later = sim_trace_get_event (trace, i);

      g_assert_false (later->type == SIM_EVENT_PACKET && (g_str_equal (later->action, "sent") ||
                                                          g_str_equal (later->action,
                                                                       "retransmitted")));
    }
  gtk_text_buffer_get_bounds (buffer, &start, &end);
  inspector_text = gtk_text_buffer_get_text (buffer, &start, &end, TRUE);
  g_assert_cmpstr (inspector_text, ==, expected->raw);

  /* The counters are the session's since t = 0, not the window's. */
  {
    guint64 registrations = 0;

    for (guint i = 0; i < sim_trace_get_n_events (trace); i++)
      {
        SimEvent *e = sim_trace_get_event (trace, i);

        if (e->type == SIM_EVENT_PACKET && g_str_equal (e->action, "sent") &&
            g_strcmp0 (e->from, "registrar") == 0 && e->status >= 200 && e->status < 300 &&
            g_strcmp0 (e->method, "REGISTER") == 0)
          registrations++;
      }
    g_assert_cmpuint (app_counters_view_get_n_registrations (app_window_get_counters (window)),
                      ==, registrations);
  }

  /* The location table shows the straight run's bindings, one heading per AOR that has any. */
  {
    SimLocation *location = sim_world_get_location (straight);
    g_autoptr(GPtrArray) aors = sim_location_list_aors (location);
    AppLocationView *view = app_window_get_location (window);
    guint rows = 0;

    for (guint i = 0; i < aors->len; i++)
      {
        GPtrArray *bindings = sim_location_lookup (location, aors->pdata[i]);

        if (bindings != NULL && bindings->len > 0)
          rows += 1 + bindings->len;
      }
    g_assert_cmpuint (app_location_view_get_n_rows (view), ==,
                      sim_location_get_n_bindings (location));
    g_assert_cmpuint (g_list_model_get_n_items (app_location_view_get_model (view)), ==, rows);
  }

  /* After a seek the nonce summary counts the window's nonce events, as one by one would. */
  if (sim_document_get_replaying (document_of (window)))
    {
      SimTrace *shown_trace = sim_world_get_trace (world_of (window));
      guint issued = 0, accepted = 0;

      for (guint i = 0; i < sim_trace_get_n_events (shown_trace); i++)
        {
          SimEvent *e = sim_trace_get_event (shown_trace, i);

          issued += e->type == SIM_EVENT_NONCE && g_strcmp0 (e->action, "issued") == 0;
          accepted += e->type == SIM_EVENT_NONCE && g_strcmp0 (e->action, "accepted") == 0;
        }
      g_assert_cmpuint (app_digest_view_get_n_nonces (app_window_get_digest (window), "issued"),
                        ==, issued);
      g_assert_cmpuint (app_digest_view_get_n_nonces (app_window_get_digest (window), "accepted"),
                        ==, accepted);
    }
}

static void
test_seeking_a_long_scene_inspects_the_straight_runs_packet (void)
{
  g_autofree char *text = test_long_scene (20, 1200);
  g_autoptr(GError) error = NULL;
  AppWindow *window = g_object_ref_sink (app_window_new (NULL));
  GtkRange *scrubber = app_window_get_scrubber (window);
  SimTime points[] = { SIM_SEC (900), SIM_SEC (150), SIM_SEC (1100), SIM_SEC (30) + 5,
                       SIM_SEC (600) };
  gboolean handled = FALSE;

  g_test_summary ("Seeking back and forth in a long scene, with the scrubber, Page Up and the "
                  "API, the inspector follows the newest packet: the one a straight run to that "
                  "time sent last, byte for byte.");

  g_assert_true (sim_document_open_data (document_of (window), text, -1, "long.scn", &error));
  g_assert_no_error (error);
  gtk_window_present (GTK_WINDOW (window));
  sim_document_run_until (document_of (window), SIM_SEC (1200));
  assert_inspects_straight_packet (window, text, SIM_SEC (1200));
  g_assert_cmpfloat (gtk_adjustment_get_upper (gtk_range_get_adjustment (scrubber)), >=, 1200);

  for (guint p = 0; p < G_N_ELEMENTS (points); p++)
    {
      g_assert_true (app_window_seek (window, points[p]));
      assert_inspects_straight_packet (window, text, points[p]);
      g_assert_cmpfloat (gtk_range_get_value (scrubber), ==, SIM_TIME_TO_SECONDS (points[p]));
      /* Within the record: a replay world from the history, nothing re-run. */
      g_assert_true (sim_document_get_replaying (document_of (window)));
    }

  /* The user drags the scrubber to 450 s: the seek happens once the handle rests. */
  g_signal_emit_by_name (scrubber, "change-value", GTK_SCROLL_JUMP, 450.0, &handled);
  while (sim_world_now (world_of (window)) != SIM_SEC (450))
    g_main_context_iteration (NULL, TRUE);
  assert_inspects_straight_packet (window, text, SIM_SEC (450));

  /* Page Up: back a twentieth of the 1200 s recorded. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.seek-back", NULL));
  assert_inspects_straight_packet (window, text, SIM_SEC (390));
  g_assert_cmpuint (sim_document_get_n_rerun_events (document_of (window)), ==, 0);
  close_window (window);
}

/* The GtkButton labelled @label under @widget, or NULL. */
static GtkButton *
find_button (GtkWidget  *widget,
             const char *label)
{
  if (GTK_IS_BUTTON (widget) &&
      g_strcmp0 (gtk_button_get_label (GTK_BUTTON (widget)), label) == 0)
    return GTK_BUTTON (widget);
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkButton *found = find_button (child, label);

      if (found != NULL)
        return found;
    }
  return NULL;
}

/*
 * A capture opens in the window (its messages in the ladder), and "Watch a SIP Network…" takes
 * a port from its dialog and shows a HEP packet sent there as a ladder row.
 */
static void
test_capture_and_watch_dialog (void)
{
  const char *source_dir = g_getenv ("SIPLAB_SOURCE_DIR");
  g_autofree char *capture = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GSocketAddress) to = NULL;
  g_autoptr(GBytes) hep = NULL;
  static const char sip[] = "OPTIONS sip:lab.test SIP/2.0\r\n"
                            "Via: SIP/2.0/UDP 10.0.0.2;branch=z9hG4bKw\r\n"
                            "From: <sip:a@lab.test>;tag=1\r\nTo: <sip:lab.test>\r\n"
                            "Call-ID: w\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";
  SimHepPacket packet = { 0 };
  AppWatchDialog *dialog;
  AppWindow *window;
  AppLadderView *ladder;
  const char *subtitle;
  guint port;

  if (source_dir == NULL)
    {
      g_test_skip ("SIPLAB_SOURCE_DIR is not set");
      return;
    }
  capture = g_build_filename (source_dir, "tests", "kamailio", "register-digest.pcapng", NULL);
  window = open_window (NULL);
  ladder = app_window_get_ladder (window);
  g_assert_true (sim_document_open_capture (document_of (window), capture, NULL, NULL, &error));
  g_assert_no_error (error);
  wait_ms (100);
  g_assert_cmpuint (app_ladder_view_get_n_rows (ladder), ==, 14);

  dialog = app_watch_dialog_new (GTK_WINDOW (window), document_of (window));
  gtk_window_present (GTK_WINDOW (dialog));
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (find_widget (GTK_WIDGET (dialog),
                                                           GTK_TYPE_SPIN_BUTTON)), 0);
  g_signal_emit_by_name (find_button (GTK_WIDGET (dialog), "_Watch"), "clicked");
  g_assert_true (sim_document_get_live (document_of (window)));
  subtitle = sim_document_get_subtitle (document_of (window));
  g_assert_true (g_str_has_prefix (subtitle, "Watching HEP on udp:127.0.0.1:"));
  port = (guint) g_ascii_strtoull (strrchr (subtitle, ':') + 1, NULL, 10);
  g_assert_cmpuint (port, >, 0);

  sim_addr_init (&packet.src, "10.0.0.2", 5060, SIM_TRANSPORT_UDP);
  sim_addr_init (&packet.dst, "10.0.0.1", 5060, SIM_TRANSPORT_UDP);
  packet.proto_type = SIM_HEP_PROTO_SIP;
  packet.payload = g_bytes_new_static (sip, strlen (sip));
  hep = sim_hep_encode (&packet, FALSE, &error);
  g_bytes_unref (packet.payload);
  g_assert_no_error (error);
  socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP,
                         &error);
  to = g_inet_socket_address_new_from_string ("127.0.0.1", port);
  g_assert_cmpint (g_socket_send_to (socket, to, g_bytes_get_data (hep, NULL),
                                     g_bytes_get_size (hep), NULL, &error), >, 0);
  for (guint i = 0; i < 100 && app_ladder_view_get_n_rows (ladder) == 0; i++)
    wait_ms (50);
  g_assert_cmpuint (app_ladder_view_get_n_rows (ladder), ==, 1);
  sim_document_stop_listening (document_of (window));
  g_assert_false (sim_document_get_live (document_of (window)));
  close_window (window);
}

/* Every AppTicker's text under @widget, in widget order. */
static void
collect_tickers (GtkWidget *widget,
                 GPtrArray *texts)
{
  if (APP_IS_TICKER (widget))
    g_ptr_array_add (texts, g_strdup (app_ticker_get_text (APP_TICKER (widget))));
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    collect_tickers (child, texts);
}

/*
 * A real capture (sipp registering twice as alice and once as bob to Kamailio, all on
 * 127.0.0.1): the network view draws every host the observer named, keyed by IP and port, with
 * the registrar in the middle, and the Location pane shows the registrar's rebuilt table, its
 * expiries counted down against the capture's last moment.
 */
static void
test_capture_draws_hosts_and_location (void)
{
  const char *source_dir = g_getenv ("SIPLAB_SOURCE_DIR");
  g_autofree char *capture = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) drawn = NULL;
  g_autoptr(GPtrArray) names = NULL;
  g_autoptr(GPtrArray) tickers = g_ptr_array_new_with_free_func (g_free);
  AppLocationView *location;
  AppNetworkView *network;
  SimObserver *observer;
  AppWindow *window;
  guint countdowns = 0;

  if (source_dir == NULL)
    {
      g_test_skip ("SIPLAB_SOURCE_DIR is not set");
      return;
    }
  capture = g_build_filename (source_dir, "tests", "kamailio", "register-digest.pcapng", NULL);
  window = open_window (NULL);
  g_assert_true (sim_document_open_capture (document_of (window), capture, NULL, NULL, &error));
  g_assert_no_error (error);
  observer = sim_capture_world_get_observer (world_of (window));
  g_assert_nonnull (observer);
  names = sim_observer_list_nodes (observer, NULL);
  g_assert_cmpuint (names->len, ==, 4);

  network = APP_NETWORK_VIEW (find_widget (GTK_WIDGET (window), APP_TYPE_NETWORK_VIEW));
  gtk_widget_queue_draw (GTK_WIDGET (network));
  for (guint i = 0; i < 100; i++)
    {
      g_clear_pointer (&drawn, g_ptr_array_unref);
      drawn = app_network_view_list_drawn_hosts (network);
      if (drawn->len >= names->len)
        break;
      wait_ms (50);
    }
  g_assert_cmpuint (drawn->len, ==, names->len);
  for (guint i = 0; i < names->len; i++)
    g_assert_true (g_ptr_array_find_with_equal_func (drawn, names->pdata[i], g_str_equal, NULL));
  g_assert_true (g_ptr_array_find_with_equal_func (drawn, "alice (sipp)", g_str_equal, NULL));
  g_assert_true (g_ptr_array_find_with_equal_func (drawn, "alice (sipp) #2", g_str_equal, NULL));
  g_assert_true (g_ptr_array_find_with_equal_func (drawn, "registrar (kamailio)", g_str_equal,
                                                   NULL));

  /* Two Contacts of alice at the registrar, granted 3600 s, about 3593 s left at the end. */
  location = app_window_get_location (window);
  g_assert_cmpuint (app_location_view_get_n_rows (location), ==, 2);
  collect_tickers (GTK_WIDGET (location), tickers);
  for (guint i = 0; i < tickers->len; i++)
    if (g_str_has_suffix (tickers->pdata[i], " s / 3600"))
      {
        guint left = (guint) g_ascii_strtoull (tickers->pdata[i], NULL, 10);

        g_assert_cmpuint (left, >=, 3590);
        g_assert_cmpuint (left, <, 3600);
        countdowns++;
      }
  g_assert_cmpuint (countdowns, ==, 2);
  close_window (window);
}

/*
 * baresip registering to Kamailio (tests/kamailio/record-baresip.sh), opened with the users
 * file: selecting alice's authenticated REGISTER shows the capture reader's verdict, accepted,
 * and bob's (wrong password) rejected, though no password is on file for a step-by-step digest.
 */
static void
test_capture_digest_pane_shows_verdicts (void)
{
  const char *source_dir = g_getenv ("SIPLAB_SOURCE_DIR");
  g_autofree char *capture = NULL;
  g_autofree char *users = NULL;
  g_autoptr(GError) error = NULL;
  AppLadderView *ladder;
  AppDigestView *digest;
  AppWindow *window;
  int alice, bob;

  if (source_dir == NULL)
    {
      g_test_skip ("SIPLAB_SOURCE_DIR is not set");
      return;
    }
  capture = g_build_filename (source_dir, "tests", "kamailio", "baresip-register.pcapng", NULL);
  users = g_build_filename (source_dir, "tests", "kamailio", "baresip-users.txt", NULL);
  window = open_window (NULL);
  g_assert_true (sim_document_open_capture (document_of (window), capture, users, NULL,
                                            &error));
  g_assert_no_error (error);
  ladder = app_window_get_ladder (window);
  digest = app_window_get_digest (window);
  app_window_show_pane (window, "digest");
  g_assert_cmpuint (app_digest_view_get_n_nonces (digest, "accepted"), ==, 1);
  g_assert_cmpuint (app_digest_view_get_n_nonces (digest, "rejected"), >=, 1);

  alice = find_authorized_register (ladder, "alice (baresip)", 0);
  bob = find_authorized_register (ladder, "bob (baresip)", 0);
  g_assert_cmpint (alice, >=, 0);
  g_assert_cmpint (bob, >=, 0);
  app_ladder_view_select_row (ladder, alice);
  g_assert_cmpstr (app_digest_view_get_verdict (digest), ==, "accepted");
  app_ladder_view_select_row (ladder, bob);
  g_assert_cmpstr (app_digest_view_get_verdict (digest), ==, "rejected");
  close_window (window);
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
    /* As siplab does: the views read their colours from it. */
    gtk_style_context_add_provider_for_display (gdk_display_get_default (),
                                                GTK_STYLE_PROVIDER (provider),
                                                GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
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
  g_test_add_func ("/gtk/digest/panel-computes-the-response",
                   test_digest_panel_computes_the_response);
  g_test_add_func ("/gtk/digest/panel-computes-a-proxy-authorization",
                   test_digest_panel_computes_a_proxy_authorization);
  g_test_add_func ("/gtk/digest/panel-shows-a-wrong-password",
                   test_digest_panel_shows_a_wrong_password);
  g_test_add_func ("/gtk/digest/panel-shows-a-replay", test_digest_panel_shows_a_replay);
  g_test_add_func ("/gtk/inspector/shows-what-the-sniffer-saw",
                   test_inspector_shows_what_the_sniffer_saw);
  g_test_add_func ("/gtk/timers/panel-tracks-the-trace", test_timers_panel_tracks_the_trace);
  g_test_add_func ("/gtk/counters/count-registrations-and-failures",
                   test_counters_count_registrations_and_failures);
  g_test_add_func ("/gtk/playback/step-back-lands-on-the-previous-step",
                   test_step_back_lands_on_the_previous_step);
  g_test_add_func ("/gtk/digest/a-hidden-pane-builds-nothing-until-shown",
                   test_hidden_digest_pane_builds_nothing_until_shown);
  g_test_add_func ("/gtk/playback/playing-lays-the-window-out-once-per-slot",
                   test_playing_lays_the_window_out_once_per_slot);
  g_test_add_func ("/gtk/playback/playing-stops-at-the-run-length",
                   test_playing_stops_at_the_run_length);
  g_test_add_func ("/gtk/playback/speed-goes-to-an-hour-per-second",
                   test_speed_goes_to_an_hour_per_second);
  g_test_add_func ("/gtk/ladder/collapses-refreshes", test_ladder_collapses_refreshes);
  g_test_add_func ("/gtk/ladder/keeps-the-newest-rows", test_ladder_keeps_the_newest_rows);
  g_test_add_func ("/gtk/ladder/draws-late-rows-near-the-origin",
                   test_ladder_draws_late_rows_near_the_origin);
  g_test_add_func ("/gtk/live/shows-a-real-phone", test_live_mode_shows_a_real_phone);
  g_test_add_func ("/gtk/scene/edits-replay-and-save", test_scene_edits_replay_and_save);
  g_test_add_func ("/gtk/export/ladder-and-capture-write-files", test_exports_write_files);
  g_test_add_func ("/gtk/look/presentation-and-dark-style", test_presentation_and_dark_style);
  g_test_add_func ("/gtk/seek/a-long-scene-inspects-the-straight-runs-packet",
                   test_seeking_a_long_scene_inspects_the_straight_runs_packet);
  g_test_add_func ("/gtk/capture/opens-and-the-watch-dialog-shows-live-hep",
                   test_capture_and_watch_dialog);
  g_test_add_func ("/gtk/capture/draws-every-host-and-the-registrars-location-table",
                   test_capture_draws_hosts_and_location);
  g_test_add_func ("/gtk/capture/digest-pane-shows-the-readers-verdicts",
                   test_capture_digest_pane_shows_verdicts);

  return g_test_run ();
}
