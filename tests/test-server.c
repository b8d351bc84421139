/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <glib/gstdio.h>
#include <signal.h>
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

/* RFC 3261 §10.2: no REGISTER of @device leaves before the previous one has a final response. */
static guint
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

static gboolean
phones_registered_twice (SimPhone *a,
                         SimPhone *b)
{
  return phones_registered (a, b) && sim_phone_get_cseq (a) == 4 && sim_phone_get_cseq (b) == 4;
}

static void
test_mixed_phones_send_one_register_at_a_time (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SimClock) clock = sim_clock_new_wall ();
  g_autoptr(SimWorld) world = sim_world_new_with_clock (9, clock);
  g_autoptr(SimTrace) trace = sim_trace_new ();
  g_autoptr(SimStack) bob_stack = NULL;
  g_autoptr(SimSocketTransport) bob_transport = NULL;
  g_autoptr(SimPhone) bob = NULL;
  g_autoptr(GRand) rand = g_rand_new_with_seed (4);
  SimPhone *alice;
  SimAddr local;

  g_test_summary ("On the wall clock (mixed mode), a simulated phone and a phone on a real UDP "
                  "socket each asked to register twice in a row send the second REGISTER only "
                  "after the first has its 200 (RFC 3261 §10.2), and both end registered.");

  g_assert_true (sim_world_add_server (world, "registrar", "10.0.0.1", "lab.example", &error));
  g_assert_true (sim_world_add_user (world, "alice", "alicepw", NULL, &error));
  g_assert_true (sim_world_add_user (world, "bob", "bobpw", NULL, &error));
  alice = sim_world_add_phone (world, "alice", "alice-phone", "10.0.0.11", &error);
  g_assert_no_error (error);
  g_assert_true (sim_world_listen (world, "udp:127.0.0.1:0", &error));
  g_assert_no_error (error);

  sim_addr_init (&local, "127.0.0.1", 0, SIM_TRANSPORT_UDP);
  bob_stack = sim_stack_new (clock, trace, rand, "bob-phone", &local);
  bob_transport = sim_socket_transport_new (bob_stack);
  g_assert_true (sim_socket_transport_listen (bob_transport, "udp:127.0.0.1:0", &error));
  bob = sim_phone_new (bob_stack, "bob", "bob-phone", "lab.example", "bobpw", "Bob");
  sim_phone_set_outbound (bob, sim_stack_get_local (sim_world_get_server_stack (world)));

  g_assert_true (sim_world_register (world, "alice-phone", 600, &error));
  g_assert_true (sim_world_register (world, "alice-phone", 300, &error));
  g_assert_true (sim_phone_register (bob, 600, &error));
  g_assert_true (sim_phone_register (bob, 300, &error));
  g_assert_true (wait_for_phones (alice, bob, phones_registered_twice));
  g_assert_cmpuint (assert_registers_never_overlap (sim_world_get_trace (world), "alice-phone"),
                    ==, 4);
  g_assert_cmpuint (assert_registers_never_overlap (trace, "bob-phone"), ==, 4);
  g_assert_cmpuint (sim_phone_get_granted (alice), ==, 300);
  g_assert_cmpuint (sim_phone_get_granted (bob), ==, 300);

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

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  sim_message_init_library ();

  g_test_add_func ("/net/server/users-file-errors-name-the-line", test_users_parse_errors);
  g_test_add_func ("/net/server/mixed-world-phones-call-real-phones",
                   test_mixed_world_calls_real_phone);
  g_test_add_func ("/net/server/mixed/phones-send-one-register-at-a-time",
                   test_mixed_phones_send_one_register_at_a_time);
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
  return g_test_run ();
}
