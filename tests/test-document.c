/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>

#include "sim-document.h"
#include "sim-live.h"
#include "sim-pcap.h"
#include "sim-server.h"
#include "test-long-scene.h"

/*
 * SimDocument without a display: what the GUI's window used to do itself (the edit log,
 * restart and step back, saving the scene, live mode), driven as the window drives it.
 */

#define WAIT_MS 5000

/* What two runs must agree on, event by event. */
static void
assert_same_events (SimWorld *a,
                    SimWorld *b,
                    guint     n)
{
  SimTrace *ta = sim_world_get_trace (a);
  SimTrace *tb = sim_world_get_trace (b);

  g_assert_cmpuint (sim_trace_get_n_events (ta), >=, n);
  g_assert_cmpuint (sim_trace_get_n_events (tb), >=, n);
  for (guint i = 0; i < n; i++)
    {
      SimEvent *x = sim_trace_get_event (ta, i);
      SimEvent *y = sim_trace_get_event (tb, i);

      g_assert_cmpint (x->type, ==, y->type);
      g_assert_cmpint (x->t, ==, y->t);
      g_assert_cmpstr (x->node, ==, y->node);
      g_assert_cmpstr (x->action, ==, y->action);
      g_assert_cmpstr (x->text, ==, y->text);
      g_assert_cmpstr (x->raw, ==, y->raw);
    }
}

static guint
n_events (SimDocument *document)
{
  return sim_trace_get_n_events (sim_world_get_trace (sim_document_get_world (document)));
}

static gboolean
trace_has (SimWorld   *world,
           const char *needle)
{
  GPtrArray *events = sim_trace_get_events (sim_world_get_trace (world));

  for (guint i = 0; i < events->len; i++)
    {
      SimEvent *e = events->pdata[i];

      if (e->text != NULL && strstr (e->text, needle) != NULL)
        return TRUE;
    }
  return FALSE;
}

static SimDocument *
open_demo (void)
{
  SimDocument *document = sim_document_new ();
  g_autoptr(GError) error = NULL;

  g_assert_true (sim_document_open (document, NULL, &error));
  g_assert_no_error (error);
  return document;
}

static void
apply (SimDocument *document,
       const char  *text)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (sim_document_apply_text (document, text, &error));
  g_assert_no_error (error);
}

/* The edits the restart and save tests make to the demo: a phone added at 2 s, then at 4 s a
 * phone powered off, a lossy link, a phone moved and one removed. */
static void
apply_the_edits (SimDocument *document)
{
  sim_document_run_until (document, SIM_SEC (2));
  apply (document, "add-phone carol-desk carol 10.0.0.31 password carol-pw");
  sim_document_run_until (document, SIM_SEC (4));
  apply (document, "power-off alice-soft");
  apply (document, "link default loss 10%");
  apply (document, "move bob-desk 10.0.0.52");
  apply (document, "remove-phone alice-desk");
}

static void
count_cb (gpointer data)
{
  (*(guint *) data)++;
}

static void
test_opens_the_demo_scene (void)
{
  g_autoptr(SimDocument) document = sim_document_new ();
  g_autoptr(GError) error = NULL;
  guint worlds = 0, changes = 0;

  g_test_summary ("Opening the demo scene gives a world at t = 0 (notified), its title as the "
                  "subtitle, no lesson and no edits; running it says 'changed' and not 'world'.");

  g_signal_connect_swapped (document, "notify::world", G_CALLBACK (count_cb), &worlds);
  g_signal_connect_swapped (document, "changed", G_CALLBACK (count_cb), &changes);
  g_assert_true (sim_document_open (document, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (worlds, ==, 1);
  g_assert_nonnull (sim_document_get_world (document));
  g_assert_cmpint (sim_world_now (sim_document_get_world (document)), ==, 0);
  g_assert_null (sim_document_get_path (document));
  g_assert_null (sim_document_get_lesson (document));
  g_assert_true (g_str_has_prefix (sim_document_get_subtitle (document), "Demo:"));
  g_assert_cmpstr (sim_document_get_title (document), ==, sim_document_get_subtitle (document));
  g_assert_cmpint (sim_document_get_run_length (document), ==, SIM_SEC (30));

  sim_document_run_until (document, SIM_SEC (3));
  g_assert_true (sim_document_step (document));
  g_assert_cmpuint (worlds, ==, 1);
  g_assert_cmpuint (changes, ==, 2);

  /* A file that does not parse leaves the demo open. */
  g_assert_false (sim_document_open_data (document, "phone x\n", -1, "broken.scn", &error));
  g_assert_error (error, SIM_SCENARIO_ERROR, SIM_SCENARIO_ERROR_SYNTAX);
  g_assert_true (g_str_has_prefix (error->message, "broken.scn:1: "));
  g_assert_cmpuint (worlds, ==, 1);
  g_assert_cmpint (sim_world_now (sim_document_get_world (document)), >=, SIM_SEC (3));
}

static void
test_apply_runs_an_edit_now_and_keeps_it (void)
{
  g_autoptr(SimDocument) document = open_demo ();
  g_autoptr(SimCommand) command = sim_command_new (SIM_VERB_POWER_OFF);
  g_autoptr(GError) error = NULL;
  guint changes = 0;
  const SimCommand *edit;

  g_test_summary ("An edit runs on the world at once (the trace shows it) and is kept with the "
                  "virtual time it was made at.");

  g_signal_connect_swapped (document, "changed", G_CALLBACK (count_cb), &changes);
  sim_document_run_until (document, SIM_SEC (2));
  command->device = g_strdup ("alice-soft");
  g_assert_true (sim_document_apply (document, command, &error));
  g_assert_no_error (error);
  g_assert_false (sim_phone_is_powered (sim_world_get_phone (sim_document_get_world (document),
                                                             "alice-soft")));
  g_assert_cmpuint (sim_document_get_n_edits (document), ==, 1);
  edit = sim_document_get_edit (document, 0);
  g_assert_cmpint (edit->verb, ==, SIM_VERB_POWER_OFF);
  g_assert_cmpint (edit->at, ==, SIM_SEC (2));
  g_assert_cmpstr (edit->device, ==, "alice-soft");
  g_assert_cmpuint (changes, ==, 2);

  apply (document, "add-phone carol-desk carol 10.0.0.31 password carol-pw");
  sim_document_run_until (document, SIM_SEC (4));
  g_assert_cmpint (sim_phone_get_reg_state (sim_world_get_phone (sim_document_get_world (document),
                                                                 "carol-desk")),
                   ==, SIM_REG_REGISTERED);
  g_assert_cmpuint (sim_document_get_n_edits (document), ==, 2);
}

static void
test_failed_edit_leaves_no_entry (void)
{
  g_autoptr(SimDocument) document = open_demo ();
  g_autoptr(SimCommand) wait = sim_command_new (SIM_VERB_WAIT);
  g_autoptr(SimCommand) add = sim_command_new (SIM_VERB_ADD_PHONE);
  g_autoptr(GError) error = NULL;
  guint changes = 0;

  g_test_summary ("An edit the world refuses (an unknown phone, a new user without a "
                  "password, a verb that is no edit) is not kept and changes nothing.");

  g_signal_connect_swapped (document, "changed", G_CALLBACK (count_cb), &changes);
  g_assert_false (sim_document_apply_text (document, "move nobody 10.0.0.99", &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
  g_assert_false (sim_document_apply_text (document,
                                           "add-phone dave-desk dave 10.0.0.41", &error));
  g_assert_error (error, SIM_COMMAND_ERROR, SIM_COMMAND_ERROR_INVALID);
  g_clear_error (&error);
  /* The same given as a command, as the scene editor does: the world refuses it. */
  add->device = g_strdup ("dave-desk");
  add->user = g_strdup ("dave");
  add->value = g_strdup ("10.0.0.41");
  g_assert_false (sim_document_apply (document, add, &error));
  g_assert_error (error, SIM_WORLD_ERROR, SIM_WORLD_ERROR_INVALID);
  g_assert_cmpstr (error->message, ==, "'dave' is a new user: give a password");
  g_clear_error (&error);
  g_assert_null (sim_world_get_phone (sim_document_get_world (document), "dave-desk"));
  wait->duration = SIM_SEC (10);
  g_assert_false (sim_document_apply (document, wait, &error));
  g_assert_error (error, SIM_COMMAND_ERROR, SIM_COMMAND_ERROR_NOT_HERE);
  g_clear_error (&error);
  g_assert_cmpint (sim_world_now (sim_document_get_world (document)), ==, 0);
  g_assert_false (sim_document_apply_text (document, "hangup bob-desk", &error));
  g_assert_nonnull (error);

  g_assert_cmpuint (sim_document_get_n_edits (document), ==, 0);
  g_assert_cmpuint (changes, ==, 0);
}

static void
test_restart_replays_the_edits (void)
{
  g_autoptr(SimDocument) document = open_demo ();
  g_autoptr(SimWorld) first = NULL;
  g_autoptr(GError) error = NULL;
  SimWorld *world;
  guint n;

  g_test_summary ("Restart rebuilds the session at t = 0 and replays every edit at its time: "
                  "run to the same time, the trace is the same, event by event.");

  apply_the_edits (document);
  sim_document_run_until (document, SIM_SEC (20));
  first = g_object_ref (sim_document_get_world (document));
  n = sim_trace_get_n_events (sim_world_get_trace (first));
  g_assert_true (trace_has (first, "alice-desk is removed"));

  g_assert_true (sim_document_restart (document, &error));
  g_assert_no_error (error);
  world = sim_document_get_world (document);
  g_assert_true (world != first);
  g_assert_cmpint (sim_world_now (world), ==, 0);
  g_assert_null (sim_world_get_phone (world, "carol-desk"));
  sim_document_run_until (document, SIM_SEC (20));
  g_assert_nonnull (sim_world_get_phone (world, "carol-desk"));
  g_assert_null (sim_world_get_phone (world, "alice-desk"));
  g_assert_false (sim_phone_is_powered (sim_world_get_phone (world, "alice-soft")));
  g_assert_cmpuint (sim_trace_get_n_events (sim_world_get_trace (world)), ==, n);
  assert_same_events (first, world, n);
  g_assert_cmpuint (sim_document_get_n_edits (document), ==, 5);
}

static void
test_step_back_is_exact (void)
{
  g_autoptr(SimDocument) document = open_demo ();
  g_autoptr(SimWorld) straight = NULL;
  guint counts[13];

  g_test_summary ("Step back lands on the previous step with the same events as the straight "
                  "run had there, edits included; at t = 0 there is nothing to step back to.");

  g_assert_false (sim_document_step_back (document));
  /* An edit between events: the replay makes it at the same point of the session. */
  sim_document_run_until (document, SIM_SEC (2));
  apply (document, "power-off alice-soft");
  counts[0] = n_events (document);
  for (guint i = 1; i < G_N_ELEMENTS (counts); i++)
    {
      g_assert_true (sim_document_step (document));
      counts[i] = n_events (document);
    }
  straight = g_object_ref (sim_document_get_world (document));

  for (guint i = G_N_ELEMENTS (counts) - 1; i > 0; i--)
    {
      g_assert_true (sim_document_step_back (document));
      g_assert_cmpuint (n_events (document), ==, counts[i - 1]);
      assert_same_events (straight, sim_document_get_world (document), counts[i - 1]);
    }
  g_assert_false (sim_phone_is_powered (sim_world_get_phone (sim_document_get_world (document),
                                                             "alice-soft")));
  /* Before the edit, before the first event, then nothing. */
  while (sim_document_step_back (document))
    ;
  g_assert_cmpint (sim_world_now (sim_document_get_world (document)), ==, 0);
  {
    g_autoptr(SimDocument) fresh = open_demo ();

    /* Building traces the scene (its nodes); that much is always there. */
    g_assert_cmpuint (n_events (document), ==, n_events (fresh));
  }
  g_assert_cmpuint (sim_document_get_n_edits (document), ==, 1);
}

/* The scene of a saved file without the comments SIP Lab put on top. */
static char *
canonical (const char *text)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SimScenario) scene = sim_scenario_parse_data (text, -1, "saved.scn", &error);

  g_assert_no_error (error);
  return sim_scenario_to_text (scene);
}

static void
test_save_then_reopen_round_trips (void)
{
  g_autoptr(SimDocument) document = open_demo ();
  g_autoptr(SimDocument) reopened = sim_document_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(SimScenario) saved = NULL;
  g_autoptr(SimWorld) rebuilt = NULL;
  g_autofree char *text = NULL;
  g_autofree char *again = NULL;
  g_autofree char *first_scene = NULL;
  g_autofree char *second_scene = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *path = NULL;

  g_test_summary ("Saving writes the scene with its edits as a scenario that parses and builds "
                  "(an added phone is there from the start, a removed one is left out, the rest "
                  "are 'at' lines); opening it and saving again gives the same scene.");

  apply_the_edits (document);
  sim_document_run_until (document, SIM_SEC (40));
  apply (document, "register bob-desk");

  text = sim_document_to_text (document);
  g_test_message ("%s", text);
  g_assert_true (g_str_has_prefix (text, "# Saved by SIP Lab from the demo scene, with 6 edits "
                                         "made while it ran.\n"));
  g_assert_nonnull (strstr (text, "# carol-desk was added at 2s (here it is there from the "
                                  "start and registers at 2s).\n"));
  g_assert_nonnull (strstr (text, "# alice-desk was removed at 4s (here it is left out).\n"));
  g_assert_nonnull (strstr (text, "at 4s power-off alice-soft\n"));
  g_assert_nonnull (strstr (text, "at 4s move bob-desk 10.0.0.52\n"));
  g_assert_nonnull (strstr (text, "at 2s register carol-desk\n"));
  g_assert_nonnull (strstr (text, "at 40s register bob-desk\n"));
  /* Past the planned end (30 s): the run is extended so the last edit happens. */
  g_assert_nonnull (strstr (text, "run 100s\n"));
  g_assert_null (strstr (text, "alice-desk user"));

  saved = sim_scenario_parse_data (text, -1, "saved.scn", &error);
  g_assert_no_error (error);
  g_assert_nonnull (sim_scenario_find_node (saved, "carol-desk"));
  g_assert_null (sim_scenario_find_node (saved, "alice-desk"));
  g_assert_nonnull (sim_scenario_find_user (saved, "carol"));
  rebuilt = sim_scenario_build (saved, 0, &error);
  g_assert_no_error (error);
  sim_world_run_until (rebuilt, SIM_SEC (10));
  g_assert_cmpint (sim_phone_get_reg_state (sim_world_get_phone (rebuilt, "carol-desk")), ==,
                   SIM_REG_REGISTERED);
  g_assert_false (sim_phone_is_powered (sim_world_get_phone (rebuilt, "alice-soft")));

  /* Saved to a file and opened from there, it saves as the same scene. */
  dir = g_dir_make_tmp ("siplab-document-XXXXXX", &error);
  g_assert_no_error (error);
  path = g_build_filename (dir, "scene.scn", NULL);
  g_assert_true (sim_document_save (document, path, &error));
  g_assert_no_error (error);
  g_assert_true (sim_document_open (reopened, path, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (sim_document_get_path (reopened), ==, path);
  again = sim_document_to_text (reopened);
  g_assert_true (g_str_has_prefix (again, "# Saved by SIP Lab from "));
  first_scene = canonical (text);
  second_scene = canonical (again);
  g_assert_cmpstr (first_scene, ==, second_scene);
  g_unlink (path);
  g_rmdir (dir);
}

static void
test_a_lesson_plays_in_its_runner (void)
{
  const char *source = g_getenv ("SIPLAB_SOURCE_DIR");
  g_autofree char *path = NULL;
  g_autoptr(SimDocument) document = sim_document_new ();
  g_autoptr(GError) error = NULL;
  SimLessonRunner *runner;

  if (source == NULL)
    {
      g_test_skip ("SIPLAB_SOURCE_DIR is not set");
      return;
    }
  g_test_summary ("A lesson's world is its runner's; restart starts a new runner, step back is "
                  "the lesson pane's to do, and edits are made but not kept.");

  path = g_build_filename (source, "lessons", "04-digest-challenge.lesson", NULL);
  g_assert_true (sim_document_open (document, path, &error));
  g_assert_no_error (error);
  runner = sim_document_get_runner (document);
  g_assert_nonnull (sim_document_get_lesson (document));
  g_assert_true (sim_document_get_world (document) == sim_lesson_runner_get_world (runner));
  g_assert_true (g_str_has_prefix (sim_document_get_subtitle (document), "Lesson: "));
  g_assert_true (g_str_has_suffix (sim_document_get_subtitle (document),
                                   " — 04-digest-challenge.lesson"));

  g_assert_true (sim_lesson_runner_enter (runner, &error));
  g_assert_no_error (error);
  sim_document_world_changed (document);
  g_assert_true (sim_document_step (document));
  g_assert_false (sim_document_step_back (document));
  apply (document, "power-off alice-desk");
  g_assert_cmpuint (sim_document_get_n_edits (document), ==, 0);

  g_assert_true (sim_document_restart (document, &error));
  g_assert_no_error (error);
  g_assert_true (sim_document_get_runner (document) != runner);
  g_assert_true (sim_document_get_world (document) ==
                 sim_lesson_runner_get_world (sim_document_get_runner (document)));

  /* A scenario opened next takes the lesson's place. */
  g_assert_true (sim_document_open (document, NULL, &error));
  g_assert_null (sim_document_get_lesson (document));
  g_assert_null (sim_document_get_runner (document));
}

/* ------------------------------------------------------------------------------------------ */
/* Live                                                                                       */

typedef struct {
  char *dir;
  char *users;
} Files;

static void
files_init (Files      *files,
            const char *users)
{
  g_autoptr(GError) error = NULL;

  files->dir = g_dir_make_tmp ("siplab-document-XXXXXX", &error);
  g_assert_no_error (error);
  files->users = g_build_filename (files->dir, "users.txt", NULL);
  g_assert_true (g_file_set_contents (files->users, users, -1, &error));
  g_assert_no_error (error);
}

static void
files_clear (Files *files)
{
  g_unlink (files->users);
  g_rmdir (files->dir);
  g_free (files->users);
  g_free (files->dir);
}

static const SimAddr *
first_listener (SimWorld *world)
{
  return &g_array_index (sim_socket_transport_get_listeners (sim_world_get_transport (world)),
                         SimAddr, 0);
}

static gboolean
port_is_free (guint port)
{
  g_autoptr(GSocket) socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM,
                                            G_SOCKET_PROTOCOL_UDP, NULL);
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, port);

  return g_socket_bind (socket, address, FALSE, NULL);
}

static void
test_live_listens_and_stops (void)
{
  g_autoptr(SimDocument) document = open_demo ();
  SimListenOptions options = { "127.0.0.1", 0, TRUE, TRUE, "lab.example", NULL, FALSE };
  g_autoptr(GError) error = NULL;
  Files files;
  SimWorld *world;
  guint port, lives = 0;

  g_test_summary ("Live mode on 127.0.0.1, port 0: a registrar alone on UDP and TCP (one port) "
                  "on the wall clock, with the users file's users; edits are made but not kept, "
                  "playback does nothing; stopping closes the sockets and reopens the scene.");

  files_init (&files, "# the lab\nalice:alicepw\nbob:bobpw\n");
  options.users_path = files.users;
  apply (document, "power-off alice-soft");
  g_signal_connect_swapped (document, "notify::live", G_CALLBACK (count_cb), &lives);

  g_assert_true (sim_document_listen (document, &options, &error));
  g_assert_no_error (error);
  g_assert_true (sim_document_get_live (document));
  g_assert_cmpuint (lives, ==, 1);
  world = sim_document_get_world (document);
  g_assert_false (sim_clock_is_virtual (sim_world_get_clock (world)));
  g_assert_cmpuint (sim_socket_transport_get_listeners (sim_world_get_transport (world))->len, ==,
                    2);
  port = first_listener (world)->port;
  g_assert_cmpuint (port, !=, 0);
  g_assert_cmpuint (g_array_index (sim_socket_transport_get_listeners (
                      sim_world_get_transport (world)), SimAddr, 1).port, ==, port);
  g_assert_cmpuint (sim_world_get_phones (world)->len, ==, 0);
  g_assert_nonnull (sim_world_get_auth_limiter (world));
  g_assert_true (g_str_has_prefix (sim_document_get_subtitle (document), "Live: 127.0.0.1:"));
  g_assert_nonnull (strstr (sim_document_get_subtitle (document),
                            " UDP TCP · domain lab.example · 0 simulated phones"));
  g_assert_false (port_is_free (port));

  g_assert_false (sim_document_step (document));
  g_assert_false (sim_document_step_back (document));
  apply (document, "link default loss 5%");
  g_assert_cmpuint (sim_document_get_n_edits (document), ==, 1);

  sim_document_stop_listening (document);
  g_assert_false (sim_document_get_live (document));
  g_assert_cmpuint (lives, ==, 2);
  world = sim_document_get_world (document);
  g_assert_true (sim_clock_is_virtual (sim_world_get_clock (world)));
  g_assert_nonnull (sim_world_get_phone (world, "alice-desk"));
  g_assert_cmpuint (sim_document_get_n_edits (document), ==, 0);
  g_assert_true (g_str_has_prefix (sim_document_get_subtitle (document), "Demo:"));
  g_assert_true (port_is_free (port));
  g_assert_true (sim_document_step (document));
  files_clear (&files);
}

static void
test_live_refuses_what_cannot_listen (void)
{
  g_autoptr(SimDocument) document = sim_document_new ();
  SimListenOptions options = { "127.0.0.1", 0, FALSE, FALSE, NULL, NULL, TRUE };
  g_autoptr(GError) error = NULL;
  Files files;

  g_test_summary ("Listening needs a transport, a scene with a registrar (or a domain and a "
                  "users file without one), the scene's domain, and a users file without a "
                  "bad line; a refusal leaves the scene as it was.");

  files_init (&files, "alice:alicepw\nbob\n");
  g_assert_true (sim_document_open_data (document,
                                         "user u password p\n"
                                         "phone a user u ip 10.0.0.11\n", -1, "p2p.scn", &error));
  g_assert_no_error (error);

  g_assert_false (sim_document_listen (document, &options, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  options.udp = TRUE;
  g_assert_false (sim_document_listen (document, &options, &error));
  g_assert_error (error, SIM_LIVE_ERROR, SIM_LIVE_ERROR_NO_REGISTRAR);
  g_clear_error (&error);
  options.with_scene = FALSE;
  g_assert_false (sim_document_listen (document, &options, &error));
  g_assert_error (error, SIM_LIVE_ERROR, SIM_LIVE_ERROR_DOMAIN);
  g_clear_error (&error);
  options.domain = "lab.example";
  g_assert_false (sim_document_listen (document, &options, &error));
  g_assert_error (error, SIM_LIVE_ERROR, SIM_LIVE_ERROR_USERS);
  g_clear_error (&error);
  options.users_path = files.users;
  g_assert_false (sim_document_listen (document, &options, &error));
  g_assert_error (error, SIM_SERVER_ERROR, SIM_SERVER_ERROR_USERS);
  g_assert_true (g_str_has_suffix (error->message, "users.txt:2: expected name:password"));
  g_clear_error (&error);

  g_assert_true (sim_document_open (document, NULL, &error));
  options.with_scene = TRUE;
  options.domain = "other.example";
  g_assert_false (sim_document_listen (document, &options, &error));
  g_assert_error (error, SIM_LIVE_ERROR, SIM_LIVE_ERROR_DOMAIN);
  g_assert_cmpstr (error->message, ==,
                   "domain other.example differs from the scenario's domain lab.example");
  g_clear_error (&error);
  g_assert_false (sim_document_get_live (document));
  g_assert_true (sim_clock_is_virtual (sim_world_get_clock (sim_document_get_world (document))));
  files_clear (&files);
}

/* A phone on a real socket and its own wall clock, as a desk phone in the classroom. */
typedef struct {
  SimClock *clock;
  SimTrace *trace;
  GRand *rand;
  SimStack *stack;
  SimSocketTransport *transport;
  SimPhone *phone;
} RealPhone;

static void
real_phone_init (RealPhone     *p,
                 const SimAddr *registrar)
{
  g_autoptr(GError) error = NULL;
  SimAddr local;

  p->clock = sim_clock_new_wall ();
  p->trace = sim_trace_new ();
  p->rand = g_rand_new_with_seed (7);
  sim_addr_init (&local, "127.0.0.1", 0, SIM_TRANSPORT_UDP);
  p->stack = sim_stack_new (p->clock, p->trace, p->rand, "mallory-phone", &local);
  p->transport = sim_socket_transport_new (p->stack);
  g_assert_true (sim_socket_transport_listen (p->transport, "udp:127.0.0.1:0", &error));
  g_assert_no_error (error);
  p->phone = sim_phone_new (p->stack, "bob", "mallory-phone", "lab.example", "guess", NULL);
  sim_phone_set_outbound (p->phone, registrar);
}

static void
real_phone_clear (RealPhone *p)
{
  sim_phone_set_powered (p->phone, FALSE);
  g_clear_object (&p->phone);
  sim_socket_transport_close (p->transport);
  g_clear_object (&p->transport);
  g_clear_object (&p->stack);
  g_clear_object (&p->trace);
  g_clear_object (&p->clock);
  g_rand_free (p->rand);
}

static gboolean
timeout_cb (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

/* Registers once and waits (on the wall clock) for the outcome. */
static SimRegState
register_once (SimPhone *phone)
{
  g_autoptr(GError) error = NULL;
  gboolean timed_out = FALSE;
  guint id;

  g_assert_true (sim_phone_register (phone, 600, &error));
  g_assert_no_error (error);
  id = g_timeout_add (WAIT_MS, timeout_cb, &timed_out);
  while (sim_phone_get_reg_state (phone) != SIM_REG_REGISTERED &&
         sim_phone_get_reg_state (phone) != SIM_REG_FAILED && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (!timed_out)
    g_source_remove (id);
  return sim_phone_get_reg_state (phone);
}

static void
test_live_registrar_blocks_a_password_guesser (void)
{
  const char *source = g_getenv ("SIPLAB_SOURCE_DIR");
  g_autofree char *path = NULL;
  g_autoptr(SimDocument) document = sim_document_new ();
  SimListenOptions options = { "127.0.0.1", 0, TRUE, FALSE, NULL, NULL, TRUE };
  g_autoptr(GError) error = NULL;
  SimWorld *world;
  SimAddr registrar;
  RealPhone mallory;
  Files files;

  if (source == NULL)
    {
      g_test_skip ("SIPLAB_SOURCE_DIR is not set");
      return;
    }
  g_test_summary ("The GUI's live registrar (a scene's world on a real UDP socket) has serve's "
                  "guard: after the limit of wrong passwords for bob from one address, bob's "
                  "REGISTER from there gets 403 even with the right password.");

  files_init (&files, "bob:bobpw\n");
  options.users_path = files.users;
  path = g_build_filename (source, "data", "scenarios", "03-register-digest.scn", NULL);
  g_assert_true (sim_document_open (document, path, &error));
  g_assert_no_error (error);
  g_assert_true (sim_document_listen (document, &options, &error));
  g_assert_no_error (error);
  world = sim_document_get_world (document);
  g_assert_cmpuint (sim_auth_limiter_get_max_failures (sim_world_get_auth_limiter (world)), ==,
                    SIM_AUTH_LIMITER_DEFAULT_MAX_FAILURES);
  sim_auth_limiter_set_limit (sim_world_get_auth_limiter (world), 3, SIM_SEC (60), SIM_SEC (60));
  registrar = *first_listener (world);

  real_phone_init (&mallory, &registrar);
  for (guint i = 0; i < 3; i++)
    g_assert_cmpint (register_once (mallory.phone), ==, SIM_REG_FAILED);
  g_assert_false (trace_has (world, "403 Too Many Failed Authentications"));
  sim_phone_set_password (mallory.phone, "bobpw");
  g_assert_cmpint (register_once (mallory.phone), ==, SIM_REG_FAILED);
  g_assert_nonnull (strstr (sim_phone_get_reg_reason (mallory.phone), "403"));
  g_assert_true (trace_has (world, "403 Too Many Failed Authentications"));
  g_assert_null (sim_location_lookup (sim_world_get_location (world), "sip:bob@lab.example"));

  sim_document_stop_listening (document);
  real_phone_clear (&mallory);
  files_clear (&files);
}


/* ------------------------------------------------------------------------------------------ */
/* A long scene: bounded trace, seeking and stepping back through the history (issue 17)      */

#define LONG_PHONES 20
#define LONG_SECONDS 1800

static SimDocument *
open_long (char **text_out)
{
  SimDocument *document = sim_document_new ();
  g_autofree char *text = test_long_scene (LONG_PHONES, LONG_SECONDS);
  g_autoptr(GError) error = NULL;

  g_assert_true (sim_document_open_data (document, text, -1, "long.scn", &error));
  g_assert_no_error (error);
  if (text_out != NULL)
    *text_out = g_steal_pointer (&text);
  return document;
}

/* The same scene run straight to @t by a world of its own, keeping every event. */
static SimWorld *
straight_run (const char *text,
              SimTime     t)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SimScenario) scenario = sim_scenario_parse_data (text, -1, "long.scn", &error);
  SimWorld *world;

  g_assert_no_error (error);
  world = sim_scenario_build (scenario, 0, &error);
  g_assert_no_error (error);
  sim_world_run_until (world, t);
  return world;
}

/* The location as the views read it: every AOR's bindings, all their fields. */
static void
assert_same_location (SimWorld *a,
                      SimWorld *b)
{
  SimLocation *la = sim_world_get_location (a);
  SimLocation *lb = sim_world_get_location (b);
  g_autoptr(GPtrArray) aors = NULL;
  g_autoptr(GPtrArray) aors_b = NULL;

  /* Point to point: no registrar. */
  g_assert_true ((la == NULL) == (lb == NULL));
  if (la == NULL)
    return;
  aors = sim_location_list_aors (la);
  aors_b = sim_location_list_aors (lb);

  g_assert_cmpuint (aors->len, ==, aors_b->len);
  for (guint i = 0; i < aors->len; i++)
    {
      GPtrArray *x = sim_location_peek (la, aors->pdata[i]);
      GPtrArray *y = sim_location_peek (lb, aors->pdata[i]);

      g_assert_cmpstr (aors->pdata[i], ==, aors_b->pdata[i]);
      g_assert_cmpuint (x->len, ==, y->len);
      for (guint j = 0; j < x->len; j++)
        {
          const SimBinding *p = x->pdata[j], *q = y->pdata[j];

          g_assert_cmpstr (p->contact, ==, q->contact);
          g_assert_cmpstr (p->display, ==, q->display);
          g_assert_cmpint (p->expires_at, ==, q->expires_at);
          g_assert_cmpuint (p->granted, ==, q->granted);
          g_assert_cmpstr (p->call_id, ==, q->call_id);
          g_assert_cmpuint (p->cseq, ==, q->cseq);
          g_assert_cmpint (p->registered_at, ==, q->registered_at);
          g_assert_cmpint (p->updated_at, ==, q->updated_at);
          g_assert_cmpmem (&p->q, sizeof p->q, &q->q, sizeof q->q);
          g_assert_true (sim_addr_equal (&p->source, &q->source));
          g_assert_cmpint (p->source.transport, ==, q->source.transport);
          g_assert_cmpstr (p->user_agent, ==, q->user_agent);
          g_assert_cmpstr (p->instance, ==, q->instance);
        }
    }
}

/* What the views read of every phone (a replay world sets it from the history). */
static void
assert_same_phones (SimWorld *a,
                    SimWorld *b)
{
  GPtrArray *pa = sim_world_get_phones (a);
  GPtrArray *pb = sim_world_get_phones (b);

  g_assert_cmpuint (pa->len, ==, pb->len);
  for (guint i = 0; i < pa->len; i++)
    {
      SimPhone *x = pa->pdata[i], *y = pb->pdata[i];

      g_assert_cmpstr (sim_phone_get_device (x), ==, sim_phone_get_device (y));
      g_assert_cmpint (sim_phone_get_reg_state (x), ==, sim_phone_get_reg_state (y));
      g_assert_cmpstr (sim_phone_get_reg_reason (x), ==, sim_phone_get_reg_reason (y));
      g_assert_cmpuint (sim_phone_get_granted (x), ==, sim_phone_get_granted (y));
      g_assert_cmpint (sim_phone_get_refresh_at (x), ==, sim_phone_get_refresh_at (y));
      g_assert_cmpint (sim_phone_is_powered (x), ==, sim_phone_is_powered (y));
    }
}

/* @shown (the document's world) is where @straight is: the same time, the same number of
 * events, its window the straight run's last events field for field, the same location. */
static void
assert_at_straight_point (SimWorld *shown,
                          SimWorld *straight)
{
  SimTrace *ts = sim_world_get_trace (shown);
  SimTrace *tr = sim_world_get_trace (straight);
  guint kept = sim_trace_get_n_events (ts);

  g_assert_cmpint (sim_world_now (shown), ==, sim_world_now (straight));
  g_assert_cmpuint (sim_trace_get_n_emitted (ts), ==, sim_trace_get_n_emitted (tr));
  g_assert_cmpuint (kept, <=, SIM_DOCUMENT_MAX_EVENTS);
  /* A running trace drops its oldest eighth at once when full. */
  g_assert_cmpuint (kept, >=, MIN (sim_trace_get_n_events (tr), SIM_DOCUMENT_MAX_EVENTS / 8 * 7));
  for (guint i = 0; i < kept; i++)
    assert_event_equal (sim_trace_get_event (ts, i),
                        sim_trace_get_event (tr, sim_trace_get_n_events (tr) - kept + i));
  assert_same_location (shown, straight);
  assert_same_phones (shown, straight);
}

static void
test_seeking_in_a_long_scene_matches_a_straight_run (void)
{
  g_autofree char *text = NULL;
  g_autoptr(SimDocument) document = open_long (&text);
  SimTime points[] = { SIM_SEC (1200), SIM_SEC (300), SIM_SEC (1799), SIM_MSEC (1500),
                       SIM_SEC (900) + 1, 0, SIM_SEC (1000) };
  SimTime end = SIM_SEC (LONG_SECONDS);
  g_autoptr(SimWorld) whole = straight_run (text, end);
  g_autoptr(SimWorld) at_end = NULL;
  guint64 recorded;

  g_test_summary ("Seeking back and forth in a long scene shows the world a straight run to "
                  "that time has: its time, its events (the window the trace keeps, field for "
                  "field) and its location; the trace stays bounded and the history keeps "
                  "everything.");

  sim_document_run_until (document, end);
  at_end = g_object_ref (sim_document_get_world (document));
  recorded = sim_history_get_n_events (sim_document_get_history (document));
  g_assert_cmpuint (recorded, ==, sim_trace_get_n_emitted (sim_world_get_trace (whole)));
  g_assert_cmpuint (recorded, >, 2 * SIM_DOCUMENT_MAX_EVENTS);
  g_assert_cmpint (sim_document_get_frontier (document), ==,
                   sim_trace_get_event (sim_world_get_trace (whole),
                                        sim_trace_get_n_events (sim_world_get_trace (whole)) - 1)->t);
  assert_at_straight_point (sim_document_get_world (document), whole);

  for (guint p = 0; p < G_N_ELEMENTS (points); p++)
    {
      g_autoptr(SimWorld) straight = straight_run (text, points[p]);

      g_assert_true (sim_document_seek (document, points[p]));
      assert_at_straight_point (sim_document_get_world (document), straight);
      /* Back within the record: a replay world, nothing re-run. */
      g_assert_true (sim_document_get_replaying (document));
      g_assert_cmpuint (sim_document_get_n_rerun_events (document), ==, 0);
      /* Going back forgets nothing of what was recorded. */
      g_assert_cmpuint (sim_history_get_n_events (sim_document_get_history (document)), ==,
                        recorded);
    }
  /* Seeking ahead to where it had been takes the world that went there, paused: no re-run. */
  {
    g_assert_true (sim_document_seek (document, SIM_SEC (400)));
    g_assert_true (sim_document_seek (document, SIM_SEC (200)));
    g_assert_true (sim_document_seek (document, end));
    g_assert_true (sim_document_get_world (document) == at_end);
    g_assert_false (sim_document_get_replaying (document));
    assert_at_straight_point (sim_document_get_world (document), whole);
    g_assert_true (sim_document_seek (document, SIM_SEC (50)));
    g_assert_true (sim_document_seek (document, SIM_SEC (300)));
    {
      g_autoptr(SimWorld) straight = straight_run (text, SIM_SEC (300));

      assert_at_straight_point (sim_document_get_world (document), straight);
    }
    g_assert_true (sim_document_seek (document, SIM_SEC (100)));
  }
  /* Played on from a point it went back to, the session is the straight run again. */
  sim_document_run_until (document, end);
  assert_at_straight_point (sim_document_get_world (document), whole);
  g_assert_false (sim_document_get_replaying (document));
  g_assert_cmpuint (sim_document_get_n_rerun_events (document), ==, 0);
  g_assert_cmpuint (sim_history_get_n_events (sim_document_get_history (document)), ==,
                    recorded);
}

static void
test_step_back_in_a_long_scene_is_exact (void)
{
  g_autofree char *text = NULL;
  g_autoptr(SimDocument) document = open_long (&text);
  g_autoptr(SimWorld) straight = NULL;
  guint64 counts[8];

  g_test_summary ("Step back late in a long scene lands on the previous step with the events "
                  "the straight run had there, its window field for field.");

  sim_document_run_until (document, SIM_SEC (1000));
  counts[0] = sim_trace_get_n_emitted (sim_world_get_trace (sim_document_get_world (document)));
  for (guint i = 1; i < G_N_ELEMENTS (counts); i++)
    {
      g_assert_true (sim_document_step (document));
      counts[i] = sim_trace_get_n_emitted (sim_world_get_trace (sim_document_get_world (document)));
    }
  straight = g_object_ref (sim_document_get_world (document));
  for (guint i = G_N_ELEMENTS (counts) - 1; i > 0; i--)
    {
      SimTrace *trace;
      guint kept;

      g_assert_true (sim_document_step_back (document));
      trace = sim_world_get_trace (sim_document_get_world (document));
      g_assert_cmpuint (sim_trace_get_n_emitted (trace), ==, counts[i - 1]);
      kept = sim_trace_get_n_events (trace);
      g_assert_cmpuint (kept, <=, SIM_DOCUMENT_MAX_EVENTS);
      g_assert_cmpuint (kept, >=, SIM_DOCUMENT_MAX_EVENTS / 8 * 7);
      for (guint j = 0; j < kept; j++)
        {
          SimEvent *e = sim_trace_get_event (trace, j);
          guint pos = sim_trace_position_of (sim_world_get_trace (straight), e->index);

          assert_event_equal (e, sim_trace_get_event (sim_world_get_trace (straight), pos));
        }
    }
}

static void
test_an_edit_in_the_past_forgets_what_followed (void)
{
  g_autoptr(SimDocument) document = open_long (NULL);
  SimHistory *history;
  guint64 at;

  g_test_summary ("An edit made after seeking back changes what follows: the history keeps "
                  "only what happened before it, and records the new run from there.");

  sim_document_run_until (document, SIM_SEC (600));
  g_assert_true (sim_document_seek (document, SIM_SEC (200)));
  history = sim_document_get_history (document);
  at = sim_trace_get_n_emitted (sim_world_get_trace (sim_document_get_world (document)));
  g_assert_cmpuint (sim_history_get_n_events (history), >, at);
  g_assert_true (sim_document_get_replaying (document));
  g_assert_cmpuint (sim_document_get_n_rerun_events (document), ==, 0);
  /* The edit needs a world that runs: the session is re-run to the point shown. */
  apply (document, "power-off p3");
  g_assert_false (sim_document_get_replaying (document));
  g_assert_cmpuint (sim_document_get_n_rerun_events (document), ==, at);
  g_assert_cmpuint (sim_history_get_n_events (history), >, at);
  g_assert_cmpint (sim_document_get_frontier (document), ==, SIM_SEC (200));
  {
    g_autoptr(SimEvent) e = sim_history_get_event (history, at);

    g_assert_cmpstr (e->node, ==, "p3");
  }
}

static void
test_replaying_matches_a_straight_run_at_many_times (void)
{
  g_autofree char *text = NULL;
  g_autoptr(SimDocument) document = open_long (&text);
  g_autoptr(SimWorld) straight = NULL;
  SimTime end = SIM_SEC (LONG_SECONDS);

  g_test_summary ("Gone back to the start, then played on in steps of 37 s: the replay world "
                  "fed from the history has at every point the time, the events, every "
                  "binding field and the phones a straight run has; reaching the end it is the "
                  "world that ran there.");

  sim_document_run_until (document, end);
  straight = straight_run (text, 0);
  g_assert_true (sim_document_seek (document, 0));
  for (SimTime t = 0; t < end; t += SIM_SEC (37))
    {
      if (t > 0)
        sim_document_run_until (document, t);
      sim_world_run_until (straight, t);
      g_assert_true (sim_document_get_replaying (document));
      assert_at_straight_point (sim_document_get_world (document), straight);
    }
  sim_document_run_until (document, end);
  g_assert_false (sim_document_get_replaying (document));
  sim_world_run_until (straight, end);
  assert_at_straight_point (sim_document_get_world (document), straight);
  g_assert_cmpuint (sim_document_get_n_rerun_events (document), ==, 0);
}

static void
test_seeking_far_and_back_takes_bounded_work (void)
{
  g_autoptr(SimDocument) document = open_long (NULL);
  SimTime end = SIM_SEC (LONG_SECONDS);
  SimTime points[] = { 0, end - 1, SIM_SEC (1), end / 2, end, SIM_SEC (2), end - SIM_SEC (3) };
  guint64 n;

  g_test_summary ("Seeking to the far end of a long scene and back, again and again, re-runs "
                  "no event: every point is a replay world or the world that went furthest; "
                  "stepping back while replaying re-runs nothing either.");

  sim_document_run_until (document, end);
  for (guint p = 0; p < G_N_ELEMENTS (points); p++)
    {
      g_assert_true (sim_document_seek (document, points[p]));
      g_assert_cmpint (sim_world_now (sim_document_get_world (document)), ==, points[p]);
    }
  g_assert_true (sim_document_seek (document, end / 3));
  n = sim_trace_get_n_emitted (sim_world_get_trace (sim_document_get_world (document)));
  for (guint i = 1; i <= 5; i++)
    {
      g_assert_true (sim_document_step_back (document));
      g_assert_cmpuint (sim_trace_get_n_emitted (sim_world_get_trace (
                          sim_document_get_world (document))), ==, n - i);
    }
  g_assert_true (sim_document_step (document));
  g_assert_cmpuint (sim_trace_get_n_emitted (sim_world_get_trace (sim_document_get_world (document))),
                    ==, n - 4);
  g_assert_cmpuint (sim_document_get_n_rerun_events (document), ==, 0);
}

/* The capture of @document's session equals the capture of a straight run to @t. */
static void
assert_capture_is_straight (SimDocument *document,
                            const char  *text,
                            SimTime      t)
{
  g_autoptr(SimWorld) straight = straight_run (text, t);
  g_autoptr(GBytes) expected = sim_pcap_to_bytes (sim_trace_get_events (sim_world_get_trace (straight)),
                                                  NULL);
  g_autofree char *path = g_build_filename (g_get_tmp_dir (), "siplab-test-seek.pcapng", NULL);
  g_autofree char *written = NULL;
  gsize len;
  g_autoptr(GError) error = NULL;

  g_assert_true (sim_document_write_pcapng (document, path, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (path, &written, &len, &error));
  g_assert_cmpmem (written, len, g_bytes_get_data (expected, NULL), g_bytes_get_size (expected));
  g_unlink (path);
}

static void
test_the_capture_covers_the_whole_session (void)
{
  g_autofree char *text = NULL;
  g_autoptr(SimDocument) document = open_long (&text);

  g_test_summary ("A pcapng export of a long scene has every datagram from t = 0, not only "
                  "the trace's window; after seeking back, up to the time shown.");

  sim_document_run_until (document, SIM_SEC (LONG_SECONDS));
  g_assert_cmpuint (((SimEvent *) sim_trace_get_event (
                      sim_world_get_trace (sim_document_get_world (document)), 0))->index, >, 0);
  assert_capture_is_straight (document, text, SIM_SEC (LONG_SECONDS));
  g_assert_true (sim_document_seek (document, SIM_SEC (700)));
  assert_capture_is_straight (document, text, SIM_SEC (700));
}

/* Every shipped scene: seeking back to the middle and stepping back there shows what a straight
 * run shows (a scene's actions, a sniffer's attack, calls through the proxy, NAT). */
static void
test_seeking_is_exact_in_every_shipped_scene (void)
{
  const char *source = g_getenv ("SIPLAB_SOURCE_DIR");
  g_autofree char *dir_path = NULL;
  g_autoptr(GDir) dir = NULL;
  const char *name;
  guint n_scenes = 0;

  if (source == NULL)
    {
      g_test_skip ("SIPLAB_SOURCE_DIR is not set");
      return;
    }
  dir_path = g_build_filename (source, "data", "scenarios", NULL);
  dir = g_dir_open (dir_path, 0, NULL);
  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir_path, name, NULL);
      g_autofree char *text = NULL;
      g_autoptr(SimDocument) document = sim_document_new ();
      g_autoptr(GError) error = NULL;
      SimTime end, middle;

      if (!g_str_has_suffix (name, ".scn"))
        continue;
      g_test_message ("%s", name);
      g_assert_true (g_file_get_contents (path, &text, NULL, &error));
      g_assert_true (sim_document_open_data (document, text, -1, "long.scn", &error));
      g_assert_no_error (error);
      end = sim_document_get_run_length (document);
      middle = end / 2 + 1;
      sim_document_run_until (document, end);
      g_assert_true (sim_document_seek (document, middle));
      {
        g_autoptr(SimWorld) straight = straight_run (text, middle);

        assert_at_straight_point (sim_document_get_world (document), straight);
      }
      /* Two steps ahead and back: the same events as the straight run's steps. */
      {
        SimWorld *before = NULL;
        guint64 n0;

        n0 = sim_trace_get_n_emitted (sim_world_get_trace (sim_document_get_world (document)));
        sim_document_step (document);
        sim_document_step (document);
        before = g_object_ref (sim_document_get_world (document));
        if (sim_document_step_back (document))
          {
            SimTrace *trace = sim_world_get_trace (sim_document_get_world (document));

            g_assert_cmpuint (sim_trace_get_n_emitted (trace), >=, n0);
            for (guint i = 0; i < sim_trace_get_n_events (trace); i++)
              {
                SimEvent *e = sim_trace_get_event (trace, i);
                SimTrace *bt = sim_world_get_trace (before);

                /* A full trace drops its oldest eighth at once, so the window a step earlier
                 * may reach further back than the later one kept (09-a-day.scn's does). */
                if (e->index < sim_trace_get_event (bt, 0)->index)
                  continue;
                assert_event_equal (e, sim_trace_get_event (bt, sim_trace_position_of (bt, e->index)));
              }
          }
        g_object_unref (before);
      }
      n_scenes++;
    }
  g_assert_cmpuint (n_scenes, >=, 8);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/sim/document/opens-the-demo-scene", test_opens_the_demo_scene);
  g_test_add_func ("/sim/document/apply-runs-an-edit-now-and-keeps-it",
                   test_apply_runs_an_edit_now_and_keeps_it);
  g_test_add_func ("/sim/document/failed-edit-leaves-no-entry", test_failed_edit_leaves_no_entry);
  g_test_add_func ("/sim/document/restart-replays-the-edits", test_restart_replays_the_edits);
  g_test_add_func ("/sim/document/step-back-is-exact", test_step_back_is_exact);
  g_test_add_func ("/sim/document/seeking-in-a-long-scene-matches-a-straight-run",
                   test_seeking_in_a_long_scene_matches_a_straight_run);
  g_test_add_func ("/sim/document/replaying-matches-a-straight-run-at-many-times",
                   test_replaying_matches_a_straight_run_at_many_times);
  g_test_add_func ("/sim/document/seeking-far-and-back-takes-bounded-work",
                   test_seeking_far_and_back_takes_bounded_work);
  g_test_add_func ("/sim/document/step-back-in-a-long-scene-is-exact",
                   test_step_back_in_a_long_scene_is_exact);
  g_test_add_func ("/sim/document/seeking-is-exact-in-every-shipped-scene",
                   test_seeking_is_exact_in_every_shipped_scene);
  g_test_add_func ("/sim/document/the-capture-covers-the-whole-session",
                   test_the_capture_covers_the_whole_session);
  g_test_add_func ("/sim/document/an-edit-in-the-past-forgets-what-followed",
                   test_an_edit_in_the_past_forgets_what_followed);
  g_test_add_func ("/sim/document/save-then-reopen-round-trips",
                   test_save_then_reopen_round_trips);
  g_test_add_func ("/sim/document/a-lesson-plays-in-its-runner",
                   test_a_lesson_plays_in_its_runner);
  g_test_add_func ("/sim/document/live-listens-on-loopback-and-stops",
                   test_live_listens_and_stops);
  g_test_add_func ("/sim/document/live-refuses-what-cannot-listen",
                   test_live_refuses_what_cannot_listen);
  g_test_add_func ("/sim/document/live-registrar-blocks-a-password-guesser",
                   test_live_registrar_blocks_a_password_guesser);

  return g_test_run ();
}
