/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <stdlib.h>
#include <sqlite3.h>
#include <string.h>

#include "sim-phone.h"
#include "sim-server.h"
#include "sim-world.h"

/*
 * SimServer in-process on the loopback interface.  The phone is the simulator's own SimPhone
 * on a SimStack whose transport is a real socket: the same registrar and the same phone as in
 * the lessons, now across a real network (DESIGN.md, "One registrar, two networks").
 */

#define WAIT_MS 5000

typedef struct {
  char *dir;
  char *users;
  char *db;
  SimServer *server;
  SimClock *clock;
  SimTrace *trace;
  GRand *rand;
  SimStack *phone_stack;
  SimSocketTransport *phone_transport;
  SimPhone *phone;
} Fixture;

static void
write_file (const char *path,
            const char *contents)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (g_file_set_contents (path, contents, -1, &error));
  g_assert_no_error (error);
}

static SimServer *
start_server (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  SimServer *server = sim_server_new ("lab.example", f->db, &error);

  g_assert_no_error (error);
  sim_trace_set_keep (sim_server_get_trace (server), TRUE);
  g_assert_true (sim_server_restore_bindings (server, &error));
  g_assert_no_error (error);
  g_assert_true (sim_server_load_users (server, f->users, TRUE, &error));
  g_assert_no_error (error);
  g_assert_true (sim_server_listen (server, "udp:127.0.0.1:0", &error));
  g_assert_no_error (error);
  return server;
}

static const SimAddr *
server_addr (SimServer *server)
{
  return &g_array_index (sim_socket_transport_get_listeners (sim_server_get_transport (server)),
                         SimAddr, 0);
}

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  SimAddr local;

  f->dir = g_dir_make_tmp ("siplab-server-XXXXXX", &error);
  g_assert_no_error (error);
  f->users = g_build_filename (f->dir, "users.txt", NULL);
  f->db = g_build_filename (f->dir, "lab.sqlite", NULL);
  write_file (f->users, "# the lab\nalice:alicepw\nbob:bobpw\n");
  f->server = start_server (f);

  f->clock = sim_clock_new_wall ();
  f->trace = sim_trace_new ();
  f->rand = g_rand_new_with_seed (11);
  sim_addr_init (&local, "127.0.0.1", 0, SIM_TRANSPORT_UDP);
  f->phone_stack = sim_stack_new (f->clock, f->trace, f->rand, "alice-phone", &local);
  f->phone_transport = sim_socket_transport_new (f->phone_stack);
  g_assert_true (sim_socket_transport_listen (f->phone_transport, "udp:127.0.0.1:0", &error));
  g_assert_no_error (error);
  f->phone = sim_phone_new (f->phone_stack, "alice", "alice-phone", "lab.example", "alicepw",
                            "Alice");
  sim_phone_set_outbound (f->phone, server_addr (f->server));
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  const char *files[] = { "users.txt", "lab.sqlite", "lab.sqlite-wal", "lab.sqlite-shm" };

  sim_phone_set_powered (f->phone, FALSE);
  g_clear_object (&f->phone);
  sim_socket_transport_close (f->phone_transport);
  g_clear_object (&f->phone_transport);
  g_clear_object (&f->phone_stack);
  if (f->server != NULL)
    {
      sim_server_stop (f->server);
      g_assert_finalize_object (g_steal_pointer (&f->server));
    }
  g_clear_object (&f->trace);
  g_clear_object (&f->clock);
  g_rand_free (f->rand);
  for (guint i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree char *path = g_build_filename (f->dir, files[i], NULL);
      g_unlink (path);
    }
  g_rmdir (f->dir);
  g_free (f->users);
  g_free (f->db);
  g_free (f->dir);
}

static gboolean
timeout_cb (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

typedef gboolean (*Predicate) (Fixture *f);

static gboolean
wait_until (Fixture   *f,
            Predicate  predicate)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add (WAIT_MS, timeout_cb, &timed_out);

  while (!predicate (f) && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (!timed_out)
    g_source_remove (id);
  return predicate (f);
}

static gboolean
phone_done (Fixture *f)
{
  SimRegState state = sim_phone_get_reg_state (f->phone);
  return state == SIM_REG_REGISTERED || state == SIM_REG_FAILED || state == SIM_REG_IDLE;
}

static guint
count_events (SimServer    *server,
              SimEventType  type,
              const char   *action,
              const char   *needle)
{
  GPtrArray *events = sim_trace_get_events (sim_server_get_trace (server));
  guint n = 0;

  for (guint i = 0; i < events->len; i++)
    {
      SimEvent *event = events->pdata[i];
      if (event->type == type && (action == NULL || g_strcmp0 (event->action, action) == 0) &&
          (needle == NULL || (event->text != NULL && strstr (event->text, needle) != NULL)))
        n++;
    }
  return n;
}

static void
test_phone_registers (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  SimLocation *location = sim_server_get_location (f->server);
  GPtrArray *bindings;

  g_test_summary ("The simulator's own phone registers with the real-socket server: 401 with an "
                  "MD5 challenge, then 200 OK, and the binding carries the real source address.");

  g_assert_true (sim_phone_register (f->phone, 600, &error));
  g_assert_true (wait_until (f, phone_done));
  g_assert_cmpstr (sim_reg_state_name (sim_phone_get_reg_state (f->phone)), ==,
                   sim_reg_state_name (SIM_REG_REGISTERED));
  g_assert_cmpuint (sim_phone_get_granted (f->phone), ==, 600);
  bindings = sim_location_lookup (location, "sip:alice@lab.example");
  g_assert_nonnull (bindings);
  g_assert_cmpuint (bindings->len, ==, 1);
  g_assert_cmpstr (((SimBinding *) bindings->pdata[0])->source.ip, ==, "127.0.0.1");
  g_assert_cmpuint (((SimBinding *) bindings->pdata[0])->source.port, ==,
                    sim_stack_get_local (f->phone_stack)->port);
  /* Stored before the 200 OK went out. */
  g_assert_cmpuint (sim_store_count_bindings (sim_server_get_store (f->server)), ==, 1);
}

/* Packets from @user's phone the server traced as delivered from @user. */
static guint
count_packets_from (SimServer  *server,
                    const char *user)
{
  GPtrArray *events = sim_trace_get_events (sim_server_get_trace (server));
  guint n = 0;

  for (guint i = 0; i < events->len; i++)
    {
      SimEvent *event = events->pdata[i];
      if (event->type == SIM_EVENT_PACKET && g_strcmp0 (event->action, "delivered") == 0 &&
          g_strcmp0 (event->from, user) == 0)
        n++;
    }
  return n;
}

static void
test_trace_names_after_untraced_registration (Fixture       *f,
                                              gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  g_test_summary ("With the trace off the server does not keep the names of the phones' "
                  "addresses up to date; once it is on again they are rebuilt from the bindings, "
                  "so packets are named after the user who registered from there.");

  sim_trace_set_enabled (sim_server_get_trace (f->server), FALSE);
  g_assert_true (sim_phone_register (f->phone, 600, &error));
  g_assert_true (wait_until (f, phone_done));
  g_assert_cmpint (sim_phone_get_reg_state (f->phone), ==, SIM_REG_REGISTERED);
  g_assert_cmpuint (count_packets_from (f->server, "alice"), ==, 0);

  sim_trace_set_enabled (sim_server_get_trace (f->server), TRUE);
  g_assert_true (sim_phone_register (f->phone, 600, &error));
  g_assert_true (wait_until (f, phone_done));
  g_assert_cmpint (sim_phone_get_reg_state (f->phone), ==, SIM_REG_REGISTERED);
  /* The refresh's REGISTERs come from the address alice registered: named after her. */
  g_assert_cmpuint (count_packets_from (f->server, "alice"), >=, 1);
}

static void
test_bindings_survive_restart (Fixture       *f,
                               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  GPtrArray *bindings;
  SimBinding *binding;
  SimTime left;

  g_test_summary ("A new server on the same database has the binding, with its remaining "
                  "lifetime and its Call-ID (so the phone's next refresh is a refresh).");

  g_assert_true (sim_phone_register (f->phone, 600, &error));
  g_assert_true (wait_until (f, phone_done));
  g_assert_cmpint (sim_phone_get_reg_state (f->phone), ==, SIM_REG_REGISTERED);

  sim_server_stop (f->server);
  g_assert_finalize_object (g_steal_pointer (&f->server));
  f->server = start_server (f);

  bindings = sim_location_lookup (sim_server_get_location (f->server), "sip:alice@lab.example");
  g_assert_nonnull (bindings);
  g_assert_cmpuint (bindings->len, ==, 1);
  binding = bindings->pdata[0];
  left = binding->expires_at - sim_clock_now (sim_server_get_clock (f->server));
  g_assert_cmpint (left, >, SIM_SEC (590));
  g_assert_cmpint (left, <=, SIM_SEC (600));
  g_assert_cmpstr (binding->call_id, ==, sim_phone_get_call_id (f->phone));
  g_assert_cmpuint (count_events (f->server, SIM_EVENT_NOTE, NULL, "restored 1 bindings"), ==, 1);
}

/* Makes every later write to the bindings table fail, as a full disk or an I/O error would. */
static void
break_bindings_table (const char *db_path)
{
  sqlite3 *db = NULL;
  char *message = NULL;

  g_assert_cmpint (sqlite3_open_v2 (db_path, &db, SQLITE_OPEN_READWRITE, NULL), ==, SQLITE_OK);
  sqlite3_busy_timeout (db, 2000);
  g_assert_cmpint (sqlite3_exec (db,
                                 "CREATE TRIGGER broken_insert BEFORE INSERT ON bindings BEGIN "
                                 "SELECT RAISE (ABORT, 'disk I/O error (test)'); END;"
                                 "CREATE TRIGGER broken_delete BEFORE DELETE ON bindings BEGIN "
                                 "SELECT RAISE (ABORT, 'disk I/O error (test)'); END;",
                                 NULL, NULL, &message), ==, SQLITE_OK);
  g_assert_null (message);
  sqlite3_close (db);
}

static void
test_failed_store_write_answers_500 (Fixture       *f,
                                     gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  SimLocation *location = sim_server_get_location (f->server);
  GPtrArray *bindings;
  SimTime expires_at;

  g_test_summary ("When SQLite refuses to store a REGISTER's bindings, the phone hears 500 "
                  "Server Internal Error, not 200 OK, and the bindings it had stay as they were.");

  g_assert_true (sim_phone_register (f->phone, 600, &error));
  g_assert_true (wait_until (f, phone_done));
  g_assert_cmpint (sim_phone_get_reg_state (f->phone), ==, SIM_REG_REGISTERED);
  bindings = sim_location_lookup (location, "sip:alice@lab.example");
  g_assert_nonnull (bindings);
  expires_at = ((SimBinding *) bindings->pdata[0])->expires_at;

  break_bindings_table (f->db);
  g_usleep (G_USEC_PER_SEC / 100);    /* let the refresh's grant differ if it went through */
  g_assert_true (sim_phone_register (f->phone, 900, &error));
  g_assert_true (wait_until (f, phone_done));
  g_assert_cmpint (sim_phone_get_reg_state (f->phone), ==, SIM_REG_FAILED);
  g_assert_nonnull (strstr (sim_phone_get_reg_reason (f->phone), "500"));

  bindings = sim_location_lookup (location, "sip:alice@lab.example");
  g_assert_nonnull (bindings);
  g_assert_cmpuint (bindings->len, ==, 1);
  g_assert_cmpint (((SimBinding *) bindings->pdata[0])->expires_at, ==, expires_at);
  g_assert_cmpuint (((SimBinding *) bindings->pdata[0])->granted, ==, 600);
  g_assert_cmpuint (count_events (f->server, SIM_EVENT_BINDING, "rejected",
                                  "500 Server Internal Error"), ==, 1);
  g_assert_cmpuint (count_events (f->server, SIM_EVENT_NOTE, NULL, "disk I/O error (test)"), ==, 1);
  g_assert_cmpuint (sim_store_count_bindings (sim_server_get_store (f->server)), ==, 1);
}

static void
test_failed_auth_limit (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  g_test_summary ("After N wrong passwords from one IP within the window its REGISTERs are "
                  "answered 403 for the block time, even with the right password; the first "
                  "401 of a registration does not count.");

  sim_server_set_auth_limit (f->server, 3, SIM_SEC (60), SIM_SEC (60));
  /* `siplab-cli serve --format none` turns the trace off: the limit must not depend on it. */
  if (data != NULL)
    sim_trace_set_enabled (sim_server_get_trace (f->server), FALSE);

  /* A correct registration: a 401 and a 200, no failure counted. */
  g_assert_true (sim_phone_register (f->phone, 600, &error));
  g_assert_true (wait_until (f, phone_done));
  g_assert_cmpint (sim_phone_get_reg_state (f->phone), ==, SIM_REG_REGISTERED);

  sim_phone_set_password (f->phone, "guess");
  for (guint i = 0; i < 3; i++)
    {
      g_assert_true (sim_phone_register (f->phone, 600, &error));
      g_assert_true (wait_until (f, phone_done));
      g_assert_cmpint (sim_phone_get_reg_state (f->phone), ==, SIM_REG_FAILED);
    }
  g_assert_cmpuint (count_events (f->server, SIM_EVENT_BINDING, "rejected",
                                  "403 Too Many Failed Authentications"), ==, 0);

  sim_phone_set_password (f->phone, "alicepw");
  g_assert_true (sim_phone_register (f->phone, 600, &error));
  g_assert_true (wait_until (f, phone_done));
  g_assert_cmpint (sim_phone_get_reg_state (f->phone), ==, SIM_REG_FAILED);
  if (data != NULL)
    return;
  g_assert_cmpuint (count_events (f->server, SIM_EVENT_BINDING, "rejected",
                                  "403 Too Many Failed Authentications"), ==, 1);
  g_assert_cmpuint (count_events (f->server, SIM_EVENT_NOTE, NULL, "answered 403"), ==, 1);
}

typedef struct {
  SimStack *stack;
  SimSocketTransport *transport;
  SimPhone *phone;
} Extra;

static gboolean
calls_established (Fixture *f)
{
  Extra *bob = g_object_get_data (G_OBJECT (f->phone), "bob");
  return sim_phone_get_call_state (f->phone) == SIM_CALL_ESTABLISHED &&
         sim_phone_get_call_state (bob->phone) == SIM_CALL_ESTABLISHED;
}

static gboolean
calls_ended (Fixture *f)
{
  Extra *bob = g_object_get_data (G_OBJECT (f->phone), "bob");
  return sim_phone_get_call_state (f->phone) == SIM_CALL_ENDED &&
         sim_phone_get_call_state (bob->phone) == SIM_CALL_ENDED;
}

static gboolean
both_registered (Fixture *f)
{
  Extra *bob = g_object_get_data (G_OBJECT (f->phone), "bob");
  return sim_phone_get_reg_state (f->phone) == SIM_REG_REGISTERED &&
         sim_phone_get_reg_state (bob->phone) == SIM_REG_REGISTERED;
}

static void
test_tcp_binding_reached_over_its_connection (Fixture       *f,
                                              gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  Extra bob = { NULL, };
  SimAddr tcp_server, local;
  GPtrArray *bindings;

  g_test_summary ("alice registers over TCP, bob over UDP; bob's INVITE to alice reaches her "
                  "over the connection her REGISTER came in on (her phone listens on UDP only), "
                  "and the call is set up and torn down through the proxy.");

  g_assert_true (sim_server_listen (f->server, "tcp:127.0.0.1:0", &error));
  g_assert_no_error (error);
  tcp_server = g_array_index (sim_socket_transport_get_listeners (
                                sim_server_get_transport (f->server)), SimAddr, 1);
  g_assert_cmpint (tcp_server.transport, ==, SIM_TRANSPORT_TCP);
  sim_phone_set_outbound (f->phone, &tcp_server);
  sim_phone_set_answer_delay (f->phone, 0);

  sim_addr_init (&local, "127.0.0.1", 0, SIM_TRANSPORT_UDP);
  bob.stack = sim_stack_new (f->clock, f->trace, f->rand, "bob-phone", &local);
  bob.transport = sim_socket_transport_new (bob.stack);
  g_assert_true (sim_socket_transport_listen (bob.transport, "udp:127.0.0.1:0", &error));
  bob.phone = sim_phone_new (bob.stack, "bob", "bob-phone", "lab.example", "bobpw", "Bob");
  sim_phone_set_outbound (bob.phone, server_addr (f->server));
  g_object_set_data (G_OBJECT (f->phone), "bob", &bob);

  g_assert_true (sim_phone_register (f->phone, 600, &error));
  g_assert_true (sim_phone_register (bob.phone, 600, &error));
  g_assert_true (wait_until (f, both_registered));
  bindings = sim_location_lookup (sim_server_get_location (f->server), "sip:alice@lab.example");
  g_assert_nonnull (bindings);
  g_assert_cmpint (((SimBinding *) bindings->pdata[0])->source.transport, ==, SIM_TRANSPORT_TCP);
  g_assert_cmpuint (sim_socket_transport_get_n_connections (sim_server_get_transport (f->server)),
                    ==, 1);

  g_assert_true (sim_phone_call (bob.phone, "alice", &error));
  g_assert_no_error (error);
  g_assert_true (wait_until (f, calls_established));
  g_assert_true (sim_phone_hangup (bob.phone, &error));
  g_assert_true (wait_until (f, calls_ended));
  /* Still one connection: the server opened none towards alice's UDP Contact. */
  g_assert_cmpuint (sim_socket_transport_get_n_connections (sim_server_get_transport (f->server)),
                    ==, 1);

  g_object_set_data (G_OBJECT (f->phone), "bob", NULL);
  sim_phone_set_powered (bob.phone, FALSE);
  g_clear_object (&bob.phone);
  sim_socket_transport_close (bob.transport);
  g_clear_object (&bob.transport);
  g_clear_object (&bob.stack);
}

static gboolean
has_three_users (Fixture *f)
{
  return sim_server_get_n_users (f->server) == 3;
}

static gboolean
saw_sighup (Fixture *f)
{
  return count_events (f->server, SIM_EVENT_NOTE, NULL, "SIGHUP") > 0;
}

static gboolean
saw_reload_error (Fixture *f)
{
  return count_events (f->server, SIM_EVENT_NOTE, NULL, "not reloaded") > 0;
}

static void
test_users_reload (Fixture       *f,
                   gconstpointer  data)
{
  g_test_summary ("The users file is re-read when it changes and on SIGHUP; a broken file is "
                  "reported with its line and the users loaded before stay.");

  g_assert_cmpuint (sim_server_get_n_users (f->server), ==, 2);
  write_file (f->users, "alice:alicepw\nbob:bobpw\ncarol:carolpw\n");
  g_assert_true (wait_until (f, has_three_users));
  g_assert_cmpstr (sim_registrar_get_password (sim_server_get_registrar (f->server), "carol"), ==,
                   "carolpw");

  write_file (f->users, "alice:alicepw\nthis line is wrong\n");
  raise (SIGHUP);
  g_assert_true (wait_until (f, saw_sighup));
  g_assert_true (wait_until (f, saw_reload_error));
  g_assert_cmpuint (sim_server_get_n_users (f->server), ==, 3);
  g_assert_cmpuint (count_events (f->server, SIM_EVENT_NOTE, NULL, "users.txt:2: expected "
                                  "name:password"), >, 0);
}

/* ---------------------------------------------------------------------------------------- */
/* Mixed mode in-process: a SimWorld's registrar on real sockets                             */

static gboolean
wait_for_phones (SimPhone    *a,
                 SimPhone    *b,
                 gboolean   (*done) (SimPhone *a, SimPhone *b))
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add (WAIT_MS, timeout_cb, &timed_out);

  while (!done (a, b) && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (!timed_out)
    g_source_remove (id);
  return done (a, b);
}

static gboolean
phones_registered (SimPhone *a,
                 SimPhone *b)
{
  return sim_phone_get_reg_state (a) == SIM_REG_REGISTERED &&
         sim_phone_get_reg_state (b) == SIM_REG_REGISTERED;
}

static gboolean
phones_in_call (SimPhone *a,
                  SimPhone *b)
{
  return sim_phone_get_call_state (a) == SIM_CALL_ESTABLISHED &&
         sim_phone_get_call_state (b) == SIM_CALL_ESTABLISHED;
}

static gboolean
phones_hung_up (SimPhone *a,
           SimPhone *b)
{
  SimCallState sa = sim_phone_get_call_state (a), sb = sim_phone_get_call_state (b);
  return (sa == SIM_CALL_ENDED || sa == SIM_CALL_IDLE) &&
         (sb == SIM_CALL_ENDED || sb == SIM_CALL_IDLE);
}

static void
test_mixed_world_calls_real_phone (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SimClock) clock = sim_clock_new_wall ();
  g_autoptr(SimWorld) world = sim_world_new_with_clock (5, clock);
  g_autoptr(SimTrace) trace = sim_trace_new ();
  g_autoptr(SimStack) bob_stack = NULL;
  g_autoptr(SimSocketTransport) bob_transport = NULL;
  g_autoptr(SimPhone) bob = NULL;
  g_autoptr(GRand) rand = g_rand_new_with_seed (3);
  const SimAddr *registrar;
  SimPhone *alice;
  SimAddr local;

  g_test_summary ("A SimWorld on a wall clock with its registrar on a real UDP socket: the "
                  "simulated alice (SimNet) and a phone on a real socket (bob) both register at "
                  "the same address, call each other through the proxy and hang up.");

  g_assert_true (sim_world_add_server (world, "registrar", "10.0.0.1", "lab.example", &error));
  g_assert_true (sim_world_add_user (world, "alice", "alicepw", NULL, &error));
  g_assert_true (sim_world_add_user (world, "bob", "bobpw", NULL, &error));
  alice = sim_world_add_phone (world, "alice", "alice-phone", "10.0.0.11", &error);
  g_assert_no_error (error);
  sim_phone_set_answer_delay (alice, SIM_MSEC (100));

  /* Only one IPv4 address can be the registrar's on both networks. */
  g_assert_false (sim_world_listen (world, "udp:[::1]:0", &error));
  g_assert_error (error, SIM_WORLD_ERROR, SIM_WORLD_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (sim_world_listen (world, "udp:10.0.0.11:0", &error));
  g_assert_error (error, SIM_WORLD_ERROR, SIM_WORLD_ERROR_EXISTS);
  g_clear_error (&error);
  g_assert_null (sim_world_get_transport (world));

  g_assert_true (sim_world_listen (world, "udp:127.0.0.1:0", &error));
  g_assert_no_error (error);
  registrar = sim_stack_get_local (sim_world_get_server_stack (world));
  g_assert_cmpstr (registrar->ip, ==, "127.0.0.1");
  g_assert_cmpuint (registrar->port, !=, 5060);
  g_assert_cmpstr (sim_net_host_ip (sim_world_get_net (world), "registrar"), ==, "127.0.0.1");

  sim_addr_init (&local, "127.0.0.1", 0, SIM_TRANSPORT_UDP);
  bob_stack = sim_stack_new (clock, trace, rand, "bob-phone", &local);
  bob_transport = sim_socket_transport_new (bob_stack);
  g_assert_true (sim_socket_transport_listen (bob_transport, "udp:127.0.0.1:0", &error));
  bob = sim_phone_new (bob_stack, "bob", "bob-phone", "lab.example", "bobpw", "Bob");
  sim_phone_set_outbound (bob, registrar);
  sim_phone_set_answer_delay (bob, SIM_MSEC (100));

  g_assert_true (sim_world_register (world, "alice-phone", 600, &error));
  g_assert_true (sim_phone_register (bob, 600, &error));
  g_assert_true (wait_for_phones (alice, bob, phones_registered));
  g_assert_cmpuint (sim_location_get_n_aors (sim_world_get_location (world)), ==, 2);

  /* Simulated -> real, then real -> simulated. */
  g_assert_true (sim_world_call (world, "alice-phone", "bob", &error));
  g_assert_true (wait_for_phones (alice, bob, phones_in_call));
  g_assert_true (sim_world_hangup (world, "alice-phone", &error));
  g_assert_true (wait_for_phones (alice, bob, phones_hung_up));

  g_assert_true (sim_phone_call (bob, "alice", &error));
  g_assert_true (wait_for_phones (alice, bob, phones_in_call));
  g_assert_true (sim_phone_hangup (bob, &error));
  g_assert_true (wait_for_phones (alice, bob, phones_hung_up));
  g_assert_no_error (error);

  sim_phone_set_powered (bob, FALSE);
  sim_socket_transport_close (bob_transport);
}

static void
test_users_parse_errors (void)
{
  const struct {
    const char *contents;
    const char *message;
  } cases[] = {
    { "alice:pw\nalice:other\n", "users.txt:2: user 'alice' is listed twice" },
    { "# c\n\nnopassword\n", "users.txt:3: expected name:password" },
    { ":pw\n", "users.txt:1: the user name is empty" },
    { "al ice:pw\n", "users.txt:1: 'al ice' is not a SIP user name" },
    { "alice:\n", "users.txt:1: user 'alice' has an empty password" },
  };
  g_autoptr(GHashTable) users = NULL;
  g_autoptr(GError) error = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GHashTable) none = NULL;
      g_autoptr(GError) local = NULL;

      g_assert_false (sim_users_parse ("users.txt", cases[i].contents, &none, &local));
      g_assert_error (local, SIM_SERVER_ERROR, SIM_SERVER_ERROR_USERS);
      g_assert_true (g_str_has_prefix (local->message, cases[i].message));
      g_assert_null (none);
    }

  /* Passwords keep ':' and '#'; CRLF files and surrounding blanks are fine. */
  g_assert_true (sim_users_parse ("users.txt", "  # comment\r\nalice:a:b#c\r\n\r\n  bob : x \r\n",
                                  &users, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (g_hash_table_size (users), ==, 2);
  g_assert_cmpstr (g_hash_table_lookup (users, "alice"), ==, "a:b#c");
  g_assert_cmpstr (g_hash_table_lookup (users, "bob"), ==, " x");
}


/* ---------------------------------------------------------------------------------------- */
/* Hostile peers on loopback (issue 9, attack cost): a test socket plays the attacker.        */

typedef struct {
  GSocket *socket;
  GSocketAddress *server;
  gboolean reliable;
} Attacker;

static gboolean
readable_cb (GSocket      *socket,
             GIOCondition  condition,
             gpointer      data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

/* The next message the server sends to @socket, or NULL after WAIT_MS. */
static char *
attacker_receive (GSocket  *socket,
                  gboolean  reliable)
{
  g_autoptr(GString) text = g_string_new (NULL);
  gint64 deadline = g_get_monotonic_time () + WAIT_MS * 1000;

  while (g_get_monotonic_time () < deadline)
    {
      char buf[65536];
      gssize n;
      gboolean ready = FALSE, timed_out = FALSE;
      g_autoptr(GSource) source = g_socket_create_source (socket, G_IO_IN, NULL);
      guint timeout = g_timeout_add (100, timeout_cb, &timed_out);

      g_source_set_callback (source, (GSourceFunc) G_CALLBACK (readable_cb), &ready, NULL);
      g_source_attach (source, NULL);
      while (!ready && !timed_out)
        g_main_context_iteration (NULL, TRUE);
      g_source_destroy (source);
      if (!timed_out)
        g_source_remove (timeout);
      if (!ready)
        continue;
      n = g_socket_receive (socket, buf, sizeof buf, NULL, NULL);
      if (n <= 0)
        continue;
      g_string_append_len (text, buf, n);
      /* Every response here has an empty body. */
      if (!reliable || strstr (text->str, "\r\n\r\n") != NULL)
        return g_string_free (g_steal_pointer (&text), FALSE);
    }
  return NULL;
}

/* A socket towards the server's listener of @transport in @family, or FALSE (no IPv6 here). */
static gboolean
attacker_open (SimServer        *server,
               SimTransportKind  transport,
               const char       *ip,
               Attacker         *attacker)
{
  GArray *listeners = sim_socket_transport_get_listeners (sim_server_get_transport (server));
  g_autoptr(GInetAddress) loopback = g_inet_address_new_from_string (ip);
  g_autoptr(GSocketAddress) any = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GError) error = NULL;

  memset (attacker, 0, sizeof *attacker);
  for (guint i = 0; i < listeners->len && attacker->server == NULL; i++)
    {
      SimAddr *addr = &g_array_index (listeners, SimAddr, i);
      if (addr->transport == transport && strcmp (addr->ip, ip) == 0)
        attacker->server = g_inet_socket_address_new (loopback, addr->port);
    }
  g_assert_nonnull (attacker->server);
  attacker->reliable = transport == SIM_TRANSPORT_TCP;
  attacker->socket = g_socket_new (g_inet_address_get_family (loopback),
                                   attacker->reliable ? G_SOCKET_TYPE_STREAM : G_SOCKET_TYPE_DATAGRAM,
                                   G_SOCKET_PROTOCOL_DEFAULT, &error);
  g_assert_no_error (error);
  if (attacker->reliable)
    g_assert_true (g_socket_connect (attacker->socket, attacker->server, NULL, &error));
  else
    g_assert_true (g_socket_bind (attacker->socket, any, FALSE, &error));
  g_assert_no_error (error);
  return TRUE;
}

static void
attacker_close (Attacker *attacker)
{
  g_socket_close (attacker->socket, NULL);
  g_clear_object (&attacker->socket);
  g_clear_object (&attacker->server);
}

static guint16
attacker_port (Attacker *attacker)
{
  g_autoptr(GSocketAddress) local = g_socket_get_local_address (attacker->socket, NULL);
  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local));
}

static void
attacker_send (Attacker   *attacker,
               const char *text,
               gsize       len)
{
  g_autoptr(GError) error = NULL;
  gsize sent = 0;

  g_socket_set_blocking (attacker->socket, TRUE);
  while (sent < len)
    {
      gssize n = attacker->reliable
        ? g_socket_send (attacker->socket, text + sent, len - sent, NULL, &error)
        : g_socket_send_to (attacker->socket, attacker->server, text + sent, len - sent, NULL, &error);
      g_assert_no_error (error);
      sent += n;
    }
  g_socket_set_blocking (attacker->socket, FALSE);
}

/* A request from the attacker's socket; @extra header lines go before Content-Length. */
static char *
hostile_request (Attacker   *attacker,
                 const char *method,
                 const char *branch,
                 const char *extra,
                 const char *via_params)
{
  g_autoptr(GSocketAddress) local = g_socket_get_local_address (attacker->socket, NULL);
  g_autoptr(GInetAddress) ip = g_object_ref (g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (local)));
  g_autofree char *ip_text = g_inet_address_to_string (ip);
  gboolean v6 = g_inet_address_get_family (ip) == G_SOCKET_FAMILY_IPV6;

  /* The Request-URI names our domain: whether each listener's address counts as us is not
   * what these tests are about. */
  return g_strdup_printf ("%s sip:lab.example SIP/2.0\r\n"
                          "Via: SIP/2.0/%s %s%s%s:%u;branch=%s%s\r\n"
                          "Max-Forwards: 70\r\n"
                          "From: <sip:alice@lab.example>;tag=evil\r\n"
                          "To: <sip:alice@lab.example>\r\n"
                          "Call-ID: %s@hostile\r\n"
                          "CSeq: 1 %s\r\n"
                          "%s"
                          "Content-Length: 0\r\n\r\n",
                          method, attacker->reliable ? "TCP" : "UDP", v6 ? "[" : "", ip_text, v6 ? "]" : "",
                          attacker_port (attacker), branch, via_params, branch, method, extra);
}

static int
status_of (const char *response)
{
  g_assert_nonnull (response);
  g_assert_true (g_str_has_prefix (response, "SIP/2.0 "));
  return atoi (response + 8);
}

static void
test_hostile_floods_cost_nothing (Fixture       *f,
                                  gconstpointer  data)
{
  const char *spec = data;
  SimTransportKind transport = g_str_has_prefix (spec, "tcp") ? SIM_TRANSPORT_TCP : SIM_TRANSPORT_UDP;
  const char *ip = strchr (spec, '[') != NULL ? "::1" : "127.0.0.1";
  SimStack *stack = sim_server_get_stack (f->server);
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) pad = g_string_new (NULL);
  g_autofree char *text = NULL;
  g_autofree char *reply = NULL;
  Attacker attacker;

  g_test_summary ("Issue 9 item 4: 12,000 header lines get 513 unparsed, an unauthenticated "
                  "REGISTER gets a 401 that leaves no transaction, and OPTIONS is still answered");
  if (!sim_server_listen (f->server, spec, &error))
    {
      g_test_skip_printf ("cannot listen on %s: %s", spec, error->message);
      return;
    }
  attacker_open (f->server, transport, ip, &attacker);

  /* A full datagram of one-letter headers: quadratic in libosip2, one pass here. */
  while (pad->len < 60000)
    g_string_append (pad, "a: b\r\n");
  text = hostile_request (&attacker, "REGISTER", "z9hG4bKflood1", pad->str, ";rport");
  attacker_send (&attacker, text, strlen (text));
  reply = attacker_receive (attacker.socket, attacker.reliable);
  g_assert_cmpint (status_of (reply), ==, 513);
  g_assert_nonnull (strstr (reply, "Call-ID: z9hG4bKflood1@hostile\r\n"));
  g_assert_cmpuint (sim_stack_get_n_transactions (stack), ==, 0);

  g_free (text);
  g_free (reply);
  text = hostile_request (&attacker, "REGISTER", "z9hG4bKflood2", "", ";rport");
  attacker_send (&attacker, text, strlen (text));
  reply = attacker_receive (attacker.socket, attacker.reliable);
  g_assert_cmpint (status_of (reply), ==, 401);
  g_assert_cmpuint (sim_stack_get_n_transactions (stack), ==, 0);

  g_free (text);
  g_free (reply);
  text = hostile_request (&attacker, "OPTIONS", "z9hG4bKprobe", "", ";rport");
  attacker_send (&attacker, text, strlen (text));
  reply = attacker_receive (attacker.socket, attacker.reliable);
  g_assert_cmpint (status_of (reply), ==, 200);
  attacker_close (&attacker);
}

static void
test_hostile_transaction_cap (Fixture       *f,
                              gconstpointer  data)
{
  const char *spec = data;
  SimTransportKind transport = g_str_has_prefix (spec, "tcp") ? SIM_TRANSPORT_TCP : SIM_TRANSPORT_UDP;
  const char *ip = strchr (spec, '[') != NULL ? "::1" : "127.0.0.1";
  SimStack *stack = sim_server_get_stack (f->server);
  g_autoptr(GError) error = NULL;
  Attacker attacker;

  if (!sim_server_listen (f->server, spec, &error))
    {
      g_test_skip_printf ("cannot listen on %s: %s", spec, error->message);
      return;
    }
  attacker_open (f->server, transport, ip, &attacker);
  /* Each OPTIONS leaves a transaction for 32 s over UDP (Timer J); over TCP none is left (J is
   * zero), so there the cap is 0 and every request meets it. */
  sim_stack_set_max_transactions (stack, transport == SIM_TRANSPORT_UDP ? 3 : 0);
  for (guint i = 0; i < 5; i++)
    {
      g_autofree char *branch = g_strdup_printf ("z9hG4bKcap%u", i);
      g_autofree char *text = hostile_request (&attacker, "OPTIONS", branch, "", ";rport");
      g_autofree char *reply = NULL;

      attacker_send (&attacker, text, strlen (text));
      reply = attacker_receive (attacker.socket, attacker.reliable);
      if (transport == SIM_TRANSPORT_TCP || i >= 3)
        {
          g_assert_cmpint (status_of (reply), ==, 503);
          g_assert_nonnull (strstr (reply, "Retry-After: "));
        }
      else
        g_assert_cmpint (status_of (reply), ==, 200);
    }
  g_assert_cmpuint (sim_stack_get_n_transactions (stack), <=, 3);
  g_assert_cmpuint (count_events (f->server, SIM_EVENT_NOTE, NULL, "gets 503 statelessly"), >=, 2);
  attacker_close (&attacker);
}

static void
test_hostile_udp_details (Fixture       *f,
                          gconstpointer  data)
{
  const char *spec = data;
  const char *ip = strchr (spec, '[') != NULL ? "::1" : "127.0.0.1";
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  g_autofree char *reply = NULL;
  g_autofree char *via = NULL;
  Attacker attacker, other;

  g_test_summary ("RFC 3261 §18.3: Content-Length beyond the datagram gets 400; §18.2.2: "
                  "without rport the response goes to the Via sent-by port");
  if (!sim_server_listen (f->server, spec, &error))
    {
      g_test_skip_printf ("cannot listen on %s: %s", spec, error->message);
      return;
    }
  attacker_open (f->server, SIM_TRANSPORT_UDP, ip, &attacker);
  attacker_open (f->server, SIM_TRANSPORT_UDP, ip, &other);

  text = hostile_request (&attacker, "OPTIONS", "z9hG4bKclen", "", ";rport");
  /* "Content-Length: 0" becomes 40 with 10 bytes of body. */
  {
    char *clen = strstr (text, "Content-Length: 0\r\n\r\n");
    g_autofree char *head = g_strndup (text, clen - text);
    g_free (text);
    text = g_strconcat (head, "Content-Type: text/plain\r\nContent-Length: 40\r\n\r\n0123456789",
                        NULL);
  }
  attacker_send (&attacker, text, strlen (text));
  reply = attacker_receive (attacker.socket, FALSE);
  g_assert_cmpint (status_of (reply), ==, 400);

  /* The Via names @other's port and no rport: the 200 goes there, not back to the source. */
  g_free (text);
  g_free (reply);
  text = hostile_request (&other, "OPTIONS", "z9hG4bKsentby", "", "");
  attacker_send (&attacker, text, strlen (text));
  reply = attacker_receive (other.socket, FALSE);
  g_assert_cmpint (status_of (reply), ==, 200);
  attacker_close (&attacker);
  attacker_close (&other);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  sim_message_init_library ();

  g_test_add_func ("/net/server/users-file-errors-name-the-line", test_users_parse_errors);
  g_test_add_func ("/net/server/mixed-world-phones-call-real-phones",
                   test_mixed_world_calls_real_phone);
  g_test_add ("/net/server/simulated-phone-registers-over-real-udp", Fixture, NULL,
              fixture_setup, test_phone_registers, fixture_teardown);
  g_test_add ("/net/server/trace-names-after-untraced-registration", Fixture, NULL,
              fixture_setup, test_trace_names_after_untraced_registration, fixture_teardown);
  g_test_add ("/net/server/bindings-survive-a-restart", Fixture, NULL,
              fixture_setup, test_bindings_survive_restart, fixture_teardown);
  g_test_add ("/net/server/failed-store-write-answers-500-and-keeps-bindings", Fixture, NULL,
              fixture_setup, test_failed_store_write_answers_500, fixture_teardown);
  g_test_add ("/net/server/repeated-wrong-passwords-get-403", Fixture, NULL,
              fixture_setup, test_failed_auth_limit, fixture_teardown);
  g_test_add ("/net/server/repeated-wrong-passwords-get-403-untraced", Fixture, "untraced",
              fixture_setup, test_failed_auth_limit, fixture_teardown);
  g_test_add ("/net/server/tcp-binding-is-reached-over-its-connection", Fixture, NULL,
              fixture_setup, test_tcp_binding_reached_over_its_connection, fixture_teardown);
  g_test_add ("/net/server/users-file-reloads-on-change-and-sighup", Fixture, NULL,
              fixture_setup, test_users_reload, fixture_teardown);
  {
    static const char *specs[] = { "udp:127.0.0.1:0", "tcp:127.0.0.1:0", "udp:[::1]:0", "tcp:[::1]:0" };
    static const char *names[] = { "udp-ipv4", "tcp-ipv4", "udp-ipv6", "tcp-ipv6" };

    for (guint i = 0; i < G_N_ELEMENTS (specs); i++)
      {
        g_autofree char *flood = g_strdup_printf ("/net/server/hostile/%s/floods-cost-nothing",
                                                  names[i]);
        g_autofree char *cap = g_strdup_printf ("/net/server/hostile/%s/transaction-cap-gives-503",
                                                names[i]);

        g_test_add (flood, Fixture, specs[i], fixture_setup, test_hostile_floods_cost_nothing,
                    fixture_teardown);
        g_test_add (cap, Fixture, specs[i], fixture_setup, test_hostile_transaction_cap,
                    fixture_teardown);
        if (g_str_has_prefix (specs[i], "udp"))
          {
            g_autofree char *details = g_strdup_printf ("/net/server/hostile/%s/content-length-and-sent-by",
                                                        names[i]);
            g_test_add (details, Fixture, specs[i], fixture_setup, test_hostile_udp_details,
                        fixture_teardown);
          }
      }
  }
  return g_test_run ();
}
