/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <stdlib.h>
#include <sqlite3.h>
#include <string.h>

#include <gio/gio.h>

#include "sim-digest.h"
#include "sim-phone.h"
#include "sim-server.h"
#include "test-wire.h"
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

  g_test_summary ("When SQLite refuses to store the bindings of a REGISTER over TCP (a "
                  "transaction of its own), the phone hears 500 Server Internal Error, not "
                  "200 OK, and the bindings it had stay as they were.");

  g_assert_true (sim_server_listen (f->server, "tcp:127.0.0.1:0", &error));
  g_assert_no_error (error);
  sim_phone_set_outbound (f->phone, &g_array_index (sim_socket_transport_get_listeners (
                                      sim_server_get_transport (f->server)), SimAddr, 1));
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

static gboolean
server_refused_commit (Fixture *f)
{
  return count_events (f->server, SIM_EVENT_NOTE, NULL, "the database refused a commit") > 0;
}

static void
test_failed_group_commit_stops (Fixture       *f,
                                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SimStore) store = NULL;
  g_autoptr(GPtrArray) stored = NULL;

  g_test_summary ("When SQLite refuses the group commit of a burst of UDP REGISTERs (written "
                  "on the store's thread after the registrar said yes), no 200 OK leaves, "
                  "serve stops, and the file keeps the bindings acknowledged before.");

  g_assert_true (sim_phone_register (f->phone, 600, &error));
  g_assert_true (wait_until (f, phone_done));
  g_assert_cmpint (sim_phone_get_reg_state (f->phone), ==, SIM_REG_REGISTERED);

  break_bindings_table (f->db);
  g_assert_true (sim_phone_register (f->phone, 900, &error));
  g_test_expect_message ("Sim", G_LOG_LEVEL_WARNING, "*the database refused a commit*");
  g_assert_true (wait_until (f, server_refused_commit));
  g_test_assert_expected_messages ();
  /* The refresh was never acknowledged: the phone heard nothing from the stopped server. */
  g_assert_cmpint (sim_phone_get_reg_state (f->phone), ==, SIM_REG_REGISTERING);
  g_assert_cmpuint (sim_phone_get_granted (f->phone), ==, 600);
  g_assert_cmpuint (count_events (f->server, SIM_EVENT_NOTE, NULL, "disk I/O error (test)"), ==, 1);

  sim_server_stop (f->server);
  g_assert_finalize_object (g_steal_pointer (&f->server));
  store = sim_store_open (f->db, &error);
  g_assert_no_error (error);
  stored = sim_store_load_bindings (store, 0, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (stored->len, ==, 1);
  g_assert_cmpuint (((SimBinding *) stored->pdata[0])->granted, ==, 600);
}

/* Makes every write to the bindings table slow (a disk that takes its time), about a second. */
static void
slow_bindings_table (const char *db_path)
{
  sqlite3 *db = NULL;
  char *message = NULL;

  g_assert_cmpint (sqlite3_open_v2 (db_path, &db, SQLITE_OPEN_READWRITE, NULL), ==, SQLITE_OK);
  sqlite3_busy_timeout (db, 2000);
  g_assert_cmpint (sqlite3_exec (db,
                                 "CREATE TRIGGER slow_insert AFTER INSERT ON bindings BEGIN "
                                 "SELECT count(*) FROM (WITH RECURSIVE c(x) AS (SELECT 1 "
                                 "UNION ALL SELECT x + 1 FROM c WHERE x < 3000000) "
                                 "SELECT x FROM c); END;",
                                 NULL, NULL, &message), ==, SQLITE_OK);
  g_assert_null (message);
  sqlite3_close (db);
}

/* The CSeq of alice's binding as another connection reads it from the file: what is durable. */
static guint
stored_cseq (const char *db_path)
{
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;
  guint cseq = 0;

  g_assert_cmpint (sqlite3_open_v2 (db_path, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  sqlite3_busy_timeout (db, 2000);
  g_assert_cmpint (sqlite3_prepare_v2 (db, "SELECT cseq FROM bindings WHERE aor = "
                                       "'sip:alice@lab.example'", -1, &stmt, NULL), ==, SQLITE_OK);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    cseq = (guint) sqlite3_column_int64 (stmt, 0);
  sqlite3_finalize (stmt);
  sqlite3_close (db);
  return cseq;
}

static void
test_answers_wait_for_their_commit (Fixture       *f,
                                    gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  g_test_summary ("With the commit pipelined on the store's thread and a slow disk, a 200 OK "
                  "reaches the phone only once the binding it acknowledges is in the file: for "
                  "a registration and two refreshes of the same AOR, and for the 200 repeated "
                  "to a retransmitted REGISTER while its commit is still running.");

  slow_bindings_table (f->db);
  for (guint round = 0; round < 3; round++)
    {
      gint64 deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;

      g_assert_true (sim_phone_register (f->phone, 600 + round, &error));
      g_assert_no_error (error);
      /* Checked after every event the phone handles: the first moment it knows of the 200. */
      while (!(sim_phone_get_reg_state (f->phone) == SIM_REG_REGISTERED &&
               sim_phone_get_granted (f->phone) == 600 + round))
        {
          g_assert_cmpint (g_get_monotonic_time (), <, deadline);
          g_assert_cmpint (sim_phone_get_reg_state (f->phone), !=, SIM_REG_FAILED);
          g_main_context_iteration (NULL, TRUE);
        }
      g_assert_cmpuint (stored_cseq (f->db), >=, sim_phone_get_cseq (f->phone));
    }
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

/* A SimWorld on @clock with its registrar, the users alice and bob, and the simulated
 * alice-phone (returned in @alice); not yet listening on a real socket. */
static SimWorld *
mixed_world_new (guint      seed,
                 SimClock  *clock,
                 SimPhone **alice)
{
  g_autoptr(GError) error = NULL;
  SimWorld *world = sim_world_new_with_clock (seed, clock);

  g_assert_true (sim_world_add_server (world, "registrar", "10.0.0.1", "lab.example", &error));
  g_assert_true (sim_world_add_user (world, "alice", "alicepw", NULL, &error));
  g_assert_true (sim_world_add_user (world, "bob", "bobpw", NULL, &error));
  *alice = sim_world_add_phone (world, "alice", "alice-phone", "10.0.0.11", &error);
  g_assert_no_error (error);
  return world;
}

/* bob-phone on a real UDP socket of 127.0.0.1, its outbound proxy @registrar. */
static SimPhone *
real_phone_new (SimClock            *clock,
                SimTrace            *trace,
                GRand               *rand,
                const SimAddr       *registrar,
                SimStack           **stack,
                SimSocketTransport **transport)
{
  g_autoptr(GError) error = NULL;
  SimPhone *bob;
  SimAddr local;

  sim_addr_init (&local, "127.0.0.1", 0, SIM_TRANSPORT_UDP);
  *stack = sim_stack_new (clock, trace, rand, "bob-phone", &local);
  *transport = sim_socket_transport_new (*stack);
  g_assert_true (sim_socket_transport_listen (*transport, "udp:127.0.0.1:0", &error));
  bob = sim_phone_new (*stack, "bob", "bob-phone", "lab.example", "bobpw", "Bob");
  sim_phone_set_outbound (bob, registrar);
  return bob;
}

static void
test_mixed_world_calls_real_phone (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SimClock) clock = sim_clock_new_wall ();
  SimPhone *alice;
  g_autoptr(SimWorld) world = mixed_world_new (5, clock, &alice);
  g_autoptr(SimTrace) trace = sim_trace_new ();
  g_autoptr(SimStack) bob_stack = NULL;
  g_autoptr(SimSocketTransport) bob_transport = NULL;
  g_autoptr(SimPhone) bob = NULL;
  g_autoptr(GRand) rand = g_rand_new_with_seed (3);
  const SimAddr *registrar;

  g_test_summary ("A SimWorld on a wall clock with its registrar on a real UDP socket: the "
                  "simulated alice (SimNet) and a phone on a real socket (bob) both register at "
                  "the same address, call each other through the proxy and hang up.");

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

  bob = real_phone_new (clock, trace, rand, registrar, &bob_stack, &bob_transport);
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
test_mixed_registrar_dates_in_real_time (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SimClock) clock = sim_clock_new_wall ();
  SimPhone *alice;
  g_autoptr(SimWorld) world = mixed_world_new (5, clock, &alice);
  SimRegistrar *registrar = sim_world_get_registrar (world);
  gint64 expected;

  g_test_summary ("Once a world's registrar listens on real sockets, the Date of its 200 OK "
                  "is real time (the GUI and serve --scenario used to set this themselves); "
                  "until then it keeps the simulator's fixed epoch.");

  g_assert_cmpint (sim_registrar_get_date_epoch (registrar), ==, SIM_REGISTRAR_DEFAULT_DATE_EPOCH);
  g_assert_true (sim_world_listen (world, "udp:127.0.0.1:0", &error));
  g_assert_no_error (error);
  expected = (g_get_real_time () - sim_clock_now (clock)) / G_USEC_PER_SEC;
  /* A loaded machine may take a while between the two readings: a minute is generous. */
  g_assert_cmpint (ABS (sim_registrar_get_date_epoch (registrar) - expected), <=, 60);
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
  SimPhone *alice;
  g_autoptr(SimWorld) world = mixed_world_new (9, clock, &alice);
  g_autoptr(SimTrace) trace = sim_trace_new ();
  g_autoptr(SimStack) bob_stack = NULL;
  g_autoptr(SimSocketTransport) bob_transport = NULL;
  g_autoptr(SimPhone) bob = NULL;
  g_autoptr(GRand) rand = g_rand_new_with_seed (4);

  g_test_summary ("On the wall clock (mixed mode), a simulated phone and a phone on a real UDP "
                  "socket each asked to register twice in a row send the second REGISTER only "
                  "after the first has its 200 (RFC 3261 §10.2), and both end registered.");

  g_assert_true (sim_world_listen (world, "udp:127.0.0.1:0", &error));
  g_assert_no_error (error);
  bob = real_phone_new (clock, trace, rand, sim_stack_get_local (sim_world_get_server_stack (world)),
                        &bob_stack, &bob_transport);

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


static void
test_missing_users_file_is_a_users_error (void)
{
  g_autoptr(SimServer) server = sim_server_new ("lab.example", NULL, NULL);
  g_autoptr(GHashTable) users = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) read_error = NULL;

  g_test_summary ("A users file that cannot be read is SIM_SERVER_ERROR_USERS naming the file, "
                  "from the server and from sim_users_read_file() alike (the server used to "
                  "set its error over the file error, a GLib warning).");

  g_assert_false (sim_server_load_users (server, "/nonexistent/siplab/users.txt", FALSE, &error));
  g_assert_error (error, SIM_SERVER_ERROR, SIM_SERVER_ERROR_USERS);
  g_assert_nonnull (strstr (error->message, "/nonexistent/siplab/users.txt"));
  g_assert_false (sim_users_read_file ("/nonexistent/siplab/users.txt", &users, &read_error));
  g_assert_error (read_error, SIM_SERVER_ERROR, SIM_SERVER_ERROR_USERS);
  g_assert_cmpstr (read_error->message, ==, error->message);
  g_assert_null (users);
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

/*
 * A socket from @from (a loopback address) towards the server's listener of @transport on
 * @ip, or FALSE (no IPv6 here).
 */
static gboolean
attacker_open_from (SimServer        *server,
                    SimTransportKind  transport,
                    const char       *ip,
                    const char       *from,
                    Attacker         *attacker)
{
  GArray *listeners = sim_socket_transport_get_listeners (sim_server_get_transport (server));
  g_autoptr(GInetAddress) loopback = g_inet_address_new_from_string (ip);
  g_autoptr(GInetAddress) source = g_inet_address_new_from_string (from);
  g_autoptr(GSocketAddress) any = g_inet_socket_address_new (source, 0);
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

/* A socket towards the server's listener of @transport in @family, or FALSE (no IPv6 here). */
static gboolean
attacker_open (SimServer        *server,
               SimTransportKind  transport,
               const char       *ip,
               Attacker         *attacker)
{
  return attacker_open_from (server, transport, ip, ip, attacker);
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
   * zero), so there the cap is 0 and every request meets it.  Over UDP the cap is 3: the
   * first OPTIONS holds one, which is half of it (rounded down) and all of one address's share
   * (1/16, at least one), so from the second on this address gets 503. */
  sim_stack_set_max_transactions (stack, transport == SIM_TRANSPORT_UDP ? 3 : 0);
  for (guint i = 0; i < 5; i++)
    {
      g_autofree char *branch = g_strdup_printf ("z9hG4bKcap%u", i);
      g_autofree char *text = hostile_request (&attacker, "OPTIONS", branch, "", ";rport");
      g_autofree char *reply = NULL;

      attacker_send (&attacker, text, strlen (text));
      reply = attacker_receive (attacker.socket, attacker.reliable);
      if (transport == SIM_TRANSPORT_TCP || i >= 1)
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

static gboolean phone_registered (Fixture *f);

/* A stranger's MESSAGE (a foreign From, so not challenged) to alice with a @body_len body. */
static char *
stranger_message (Attacker *attacker,
                  guint     n,
                  gsize     body_len)
{
  g_autofree char *body = g_strnfill (body_len, 'x');

  return g_strdup_printf ("MESSAGE sip:alice@lab.example SIP/2.0\r\n"
                          "Via: SIP/2.0/UDP 127.0.0.1:%u;branch=z9hG4bKbig%u;rport\r\n"
                          "Max-Forwards: 70\r\n"
                          "From: <sip:stranger@elsewhere.example>;tag=s%u\r\n"
                          "To: <sip:alice@lab.example>\r\n"
                          "Call-ID: big%u@elsewhere.example\r\n"
                          "CSeq: 1 MESSAGE\r\n"
                          "Content-Type: text/plain\r\n"
                          "Content-Length: %" G_GSIZE_FORMAT "\r\n\r\n%s",
                          attacker_port (attacker), n, n, n, body_len, body);
}

static void
test_hostile_big_messages_meet_the_byte_budget (Fixture       *f,
                                                gconstpointer  data)
{
  const guint64 budget = 400000;
  SimStack *stack = sim_server_get_stack (f->server);
  g_autoptr(GError) error = NULL;
  g_autofree char *reply = NULL;
  guint64 peak = 0;
  guint sent = 0;
  Attacker attackers[20];

  g_test_summary ("Issue 9 item 4: strangers' 60 KB MESSAGEs to a registered phone that never "
                  "answers are held twice each (server and client transaction) until the byte "
                  "budget answers 503 with Retry-After; the bytes held stay within the budget "
                  "(and one forwarded copy), OPTIONS is still answered and our phone registers");

  g_assert_true (sim_phone_register (f->phone, 600, &error));
  g_assert_true (wait_until (f, phone_done));
  g_assert_cmpint (sim_phone_get_reg_state (f->phone), ==, SIM_REG_REGISTERED);
  /* Still bound, but it answers nothing any more. */
  sim_phone_set_powered (f->phone, FALSE);
  sim_stack_set_max_transaction_bytes (stack, budget);

  /* Each from a loopback address of its own (not our phone's 127.0.0.1): one address may
   * hold only its share (1/16). */
  while (reply == NULL && sent < G_N_ELEMENTS (attackers))
    {
      g_autofree char *from = g_strdup_printf ("127.0.0.%u", 2 + sent);
      g_autofree char *text = NULL;
      Attacker *attacker = &attackers[sent];

      guint notes = count_events (f->server, SIM_EVENT_NOTE, NULL, "gets 503 statelessly");
      guint n = sim_stack_get_n_transactions (stack);
      gint64 deadline = g_get_monotonic_time () + WAIT_MS * 1000;

      attacker_open_from (f->server, SIM_TRANSPORT_UDP, "127.0.0.1", from, attacker);
      text = stranger_message (attacker, sent, 60000);
      attacker_send (attacker, text, strlen (text));
      sent++;
      /* Admitted (a server and a client transaction), or refused with the trace's note. */
      while (sim_stack_get_n_transactions (stack) < n + 2 &&
             count_events (f->server, SIM_EVENT_NOTE, NULL, "gets 503 statelessly") == notes &&
             g_get_monotonic_time () < deadline)
        g_main_context_iteration (NULL, FALSE);
      peak = MAX (peak, sim_stack_get_held_bytes (stack));
      if (count_events (f->server, SIM_EVENT_NOTE, NULL, "gets 503 statelessly") > notes)
        reply = attacker_receive (attacker->socket, FALSE);
      else
        g_assert_cmpuint (sim_stack_get_n_transactions (stack), ==, n + 2);
    }
  g_assert_nonnull (reply);
  g_assert_cmpint (status_of (reply), ==, 503);
  g_assert_nonnull (strstr (reply, "Retry-After: "));
  g_assert_nonnull (strstr (reply, "too much memory"));
  g_assert_cmpuint (count_events (f->server, SIM_EVENT_NOTE, NULL, "bytes): MESSAGE"), ==, 1);
  /* Three are held: about 120 KB each, the request and its forwarded copy. */
  g_assert_cmpuint (sent, ==, 4);
  g_assert_cmpuint (peak, >, 3 * 120000);
  g_assert_cmpuint (peak, <=, budget + SIM_MESSAGE_MAX_SIZE);
  g_assert_cmpuint (sim_stack_get_held_bytes (stack), <=, budget + SIM_MESSAGE_MAX_SIZE);

  /* A small request has its reserve: the server still answers its own OPTIONS... */
  {
    Attacker *last = &attackers[sent - 1];
    g_autofree char *options = hostile_request (last, "OPTIONS", "z9hG4bKstill", "", ";rport");
    g_autofree char *answer = NULL;

    attacker_send (last, options, strlen (options));
    answer = attacker_receive (last->socket, FALSE);
    g_assert_cmpint (status_of (answer), ==, 200);
  }
  /* ...and our phone, back on, registers again (401, then 200). */
  sim_phone_set_powered (f->phone, TRUE);
  g_assert_true (sim_phone_register (f->phone, 600, &error));
  g_assert_true (wait_until (f, phone_registered));
  g_assert_cmpuint (sim_stack_get_held_bytes (stack), <=,
                    budget + budget / SIM_STACK_SMALL_RESERVE_DIVISOR + SIM_MESSAGE_MAX_SIZE);
  for (guint i = 0; i < sent; i++)
    attacker_close (&attackers[i]);
}

/*
 * The stranger @attacker sends MESSAGEs with @body_len bytes of body to alice until one gets
 * 503 (or 200 were sent); @serial numbers their branches.  Returns how many it sent.
 */
static guint
flood_until_503 (Fixture  *f,
                 Attacker *attacker,
                 gsize     body_len,
                 guint    *serial)
{
  SimStack *stack = sim_server_get_stack (f->server);
  g_autofree char *reply = NULL;
  guint sent = 0;

  while (reply == NULL && sent < 200)
    {
      g_autofree char *text = stranger_message (attacker, (*serial)++, body_len);
      guint notes = count_events (f->server, SIM_EVENT_NOTE, NULL, "gets 503 statelessly");
      guint n = sim_stack_get_n_transactions (stack);
      gint64 deadline = g_get_monotonic_time () + WAIT_MS * 1000;

      attacker_send (attacker, text, strlen (text));
      sent++;
      /* Admitted (a server and a client transaction), or refused with the trace's note. */
      while (sim_stack_get_n_transactions (stack) < n + 2 &&
             count_events (f->server, SIM_EVENT_NOTE, NULL, "gets 503 statelessly") == notes &&
             g_get_monotonic_time () < deadline)
        g_main_context_iteration (NULL, FALSE);
      if (count_events (f->server, SIM_EVENT_NOTE, NULL, "gets 503 statelessly") > notes)
        reply = attacker_receive (attacker->socket, FALSE);
    }
  g_assert_nonnull (reply);
  g_assert_cmpint (status_of (reply), ==, 503);
  g_assert_nonnull (strstr (reply, "Retry-After: "));
  return sent;
}

static void
test_hostile_stranger_keeps_to_its_share (Fixture       *f,
                                          gconstpointer  data)
{
  SimStack *stack = sim_server_get_stack (f->server);
  g_autoptr(GError) error = NULL;
  guint serial = 0;
  Attacker attacker;

  g_test_summary ("Issue 9 item 4: a stranger at 127.0.0.2 sends 60 KB, then 3.5 KB, then empty "
                  "MESSAGEs to our silent phone until each size gets 503; it holds only its "
                  "share (1/16) of the byte budget, so the phone at 127.0.0.1, back on, still "
                  "registers; when every transaction is over no address is charged any more");

  g_assert_true (sim_phone_register (f->phone, 600, &error));
  g_assert_true (wait_until (f, phone_done));
  g_assert_cmpint (sim_phone_get_reg_state (f->phone), ==, SIM_REG_REGISTERED);
  sim_phone_set_powered (f->phone, FALSE);
  sim_stack_set_max_transaction_bytes (stack, 200000);

  attacker_open_from (f->server, SIM_TRANSPORT_UDP, "127.0.0.1", "127.0.0.2", &attacker);
  flood_until_503 (f, &attacker, 60000, &serial);
  flood_until_503 (f, &attacker, 3500, &serial);
  flood_until_503 (f, &attacker, 0, &serial);
  g_assert_cmpuint (count_events (f->server, SIM_EVENT_NOTE, NULL, "this address holds"), ==, 3);

  sim_phone_set_powered (f->phone, TRUE);
  g_assert_true (sim_phone_register (f->phone, 600, &error));
  g_assert_true (wait_until (f, phone_registered));
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

/* ---------------------------------------------------------------------------------------- */
/* Raw peers: an attacker or a bare phone on a socket of its own (issue 9 items 2 and 8)     */

typedef struct {
  GSocket *socket;
  SimTransportKind transport;
  char *ip;                /* our address as the server sees it */
  guint port;
  GString *buffer;         /* TCP bytes not yet split into messages */
  guint n_requests;        /* for branches and Call-IDs */
} Peer;

/* A peer on @ip (127.0.0.1 or ::1) talking to @server over its transport. */
static Peer *
peer_new (const char    *ip,
          const SimAddr *server)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GInetAddress) any = g_inet_address_new_from_string (ip);
  g_autoptr(GSocketAddress) local = g_inet_socket_address_new (any, 0);
  g_autoptr(GInetAddress) server_ip = g_inet_address_new_from_string (server->ip);
  g_autoptr(GSocketAddress) remote = g_inet_socket_address_new (server_ip, server->port);
  g_autoptr(GSocketAddress) bound = NULL;
  gboolean tcp = server->transport == SIM_TRANSPORT_TCP;
  Peer *peer = g_new0 (Peer, 1);

  peer->transport = server->transport;
  peer->ip = g_strdup (ip);
  peer->buffer = g_string_new (NULL);
  peer->socket = g_socket_new (g_inet_address_get_family (any),
                               tcp ? G_SOCKET_TYPE_STREAM : G_SOCKET_TYPE_DATAGRAM,
                               tcp ? G_SOCKET_PROTOCOL_TCP : G_SOCKET_PROTOCOL_UDP, &error);
  g_assert_no_error (error);
  g_assert_true (g_socket_bind (peer->socket, local, FALSE, &error));
  g_assert_no_error (error);
  g_assert_true (g_socket_connect (peer->socket, remote, NULL, &error));
  g_assert_no_error (error);
  g_socket_set_blocking (peer->socket, FALSE);
  bound = g_socket_get_local_address (peer->socket, &error);
  g_assert_no_error (error);
  peer->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  return peer;
}

static void
peer_free (Peer *peer)
{
  g_socket_close (peer->socket, NULL);
  g_object_unref (peer->socket);
  g_string_free (peer->buffer, TRUE);
  g_free (peer->ip);
  g_free (peer);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Peer, peer_free)

static void
peer_send (Peer       *peer,
           const char *text)
{
  g_autoptr(GError) error = NULL;

  g_assert_cmpint (g_socket_send (peer->socket, text, strlen (text), NULL, &error), ==,
                   (gssize) strlen (text));
  g_assert_no_error (error);
}

/* The next whole message from the buffer (our test messages and the server's replies to them
 * carry Content-Length; the forwarded INVITEs too), or NULL. */
static osip_message_t *
peer_take (Peer *peer)
{
  const char *end = strstr (peer->buffer->str, "\r\n\r\n");
  const char *cl;
  gsize head, body = 0, total;
  osip_message_t *msg;

  if (end == NULL)
    return NULL;
  head = end + 4 - peer->buffer->str;
  cl = g_strstr_len (peer->buffer->str, head, "\r\nContent-Length:");
  if (cl != NULL)
    body = strtoul (cl + strlen ("\r\nContent-Length:"), NULL, 10);
  total = head + body;
  if (peer->buffer->len < total)
    return NULL;
  msg = sim_message_parse (peer->buffer->str, total, NULL);
  g_assert_nonnull (msg);
  g_string_erase (peer->buffer, 0, total);
  return msg;
}

/* Waits for the next message that is a request (@want_request) or a final response to CSeq
 * @cseq; 1xx responses and retransmissions of earlier finals are skipped. */
static osip_message_t *
peer_wait (Peer     *peer,
           gboolean  want_request,
           guint     cseq)
{
  gint64 deadline = g_get_monotonic_time () + WAIT_MS * 1000;

  while (g_get_monotonic_time () < deadline)
    {
      osip_message_t *msg;
      char data[65536];
      gssize n;

      while ((msg = peer_take (peer)) != NULL)
        {
          if (want_request ? MSG_IS_REQUEST (msg)
                           : (MSG_IS_RESPONSE (msg) && msg->status_code >= 200 &&
                              sim_message_cseq_number (msg) == cseq))
            return msg;
          osip_message_free (msg);
        }
      n = g_socket_receive (peer->socket, data, sizeof data, NULL, NULL);
      if (n > 0)
        {
          g_string_append_len (peer->buffer, data, n);
          if (peer->transport == SIM_TRANSPORT_UDP)
            g_string_append (peer->buffer, "");
          continue;
        }
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
  return NULL;
}

/* "Proxy-Authorization: ...\r\n" (or Authorization for a 401) answering @challenge for
 * @user/@password and a request @method sip:@to_user@lab.example. */
static char *
credentials_for_uri (osip_message_t *challenge,
                     const char     *user,
                     const char     *password,
                     const char     *method,
                     const char     *uri)
{
  gboolean proxy = challenge->status_code == 407;
  osip_www_authenticate_t *header = osip_list_get (proxy ? &challenge->proxy_authenticates
                                                         : &challenge->www_authenticates, 0);
  SimDigestChallenge parsed = { NULL, };
  SimDigestCredentials creds;
  g_autofree char *value = NULL;
  char *text = NULL;

  g_assert_nonnull (header);
  g_assert_cmpint (osip_www_authenticate_to_str (header, &text), ==, 0);
  g_assert_true (sim_digest_challenge_parse (text, &parsed, NULL));
  osip_free (text);
  sim_digest_answer (&parsed, user, password, method, uri, "0a4f113b", 1, &creds);
  value = sim_digest_credentials_format (&creds);
  sim_digest_credentials_clear (&creds);
  sim_digest_challenge_clear (&parsed);
  return g_strdup_printf ("%s: %s\r\n", proxy ? "Proxy-Authorization" : "Authorization", value);
}

static char *
credentials_line (osip_message_t *challenge,
                  const char     *user,
                  const char     *password,
                  const char     *method,
                  const char     *to_user)
{
  g_autofree char *uri = g_strdup_printf ("sip:%s@lab.example", to_user);

  return credentials_for_uri (challenge, user, password, method, uri);
}

/*
 * A request from @peer with every address given: the Request-URI, the From (a tag is added)
 * and the whole To (with its tag, if any).
 */
static char *
peer_request_full (Peer       *peer,
                   const char *method,
                   const char *request_uri,
                   const char *from,
                   const char *to,
                   const char *call_id,
                   guint       cseq,
                   const char *extra)
{
  gboolean v6 = strchr (peer->ip, ':') != NULL;

  peer->n_requests++;
  return g_strdup_printf ("%s %s SIP/2.0\r\n"
                          "Via: SIP/2.0/%s %s%s%s:%u;branch=z9hG4bK-full-%p-%u;rport\r\n"
                          "Max-Forwards: 70\r\n"
                          "From: <%s>;tag=x%u\r\n"
                          "To: %s\r\n"
                          "Call-ID: %s\r\n"
                          "CSeq: %u %s\r\n"
                          "%s"
                          "Content-Length: 0\r\n\r\n",
                          method, request_uri,
                          peer->transport == SIM_TRANSPORT_TCP ? "TCP" : "UDP",
                          v6 ? "[" : "", peer->ip, v6 ? "]" : "", peer->port, (void *) peer,
                          peer->n_requests, from, peer->n_requests, to, call_id, cseq, method,
                          extra != NULL ? extra : "");
}

/* A request from @peer: From @from_user, to sip:@to_user@lab.example, with a Contact at the
 * peer and @extra headers. */
static char *
peer_request (Peer       *peer,
              const char *method,
              const char *from,
              const char *to_user,
              const char *call_id,
              guint       cseq,
              const char *extra)
{
  gboolean v6 = strchr (peer->ip, ':') != NULL;
  g_autofree char *uri = g_strdup_printf ("sip:%s@lab.example", to_user);
  g_autofree char *to = g_strdup_printf ("<%s>", uri);
  g_autofree char *headers = g_strdup_printf ("Contact: <sip:x@%s%s%s:%u>\r\n%s",
                                              v6 ? "[" : "", peer->ip, v6 ? "]" : "", peer->port,
                                              extra != NULL ? extra : "");

  return peer_request_full (peer, method, uri, from, to, call_id, cseq, headers);
}

/* Sends a request from peer_request_full() and returns its final response. */
static osip_message_t *
peer_ask_full (Peer       *peer,
               const char *method,
               const char *request_uri,
               const char *from,
               const char *to,
               const char *call_id,
               guint       cseq,
               const char *extra)
{
  g_autofree char *text = peer_request_full (peer, method, request_uri, from, to, call_id, cseq,
                                             extra);
  osip_message_t *response;

  peer_send (peer, text);
  response = peer_wait (peer, FALSE, cseq);
  g_assert_nonnull (response);
  return response;
}

/* Sends @method from @peer and returns its final response (the caller frees it). */
static osip_message_t *
peer_ask (Peer       *peer,
          const char *method,
          const char *from,
          const char *to_user,
          const char *call_id,
          guint       cseq,
          const char *extra)
{
  g_autofree char *text = peer_request (peer, method, from, to_user, call_id, cseq, extra);
  osip_message_t *response;

  peer_send (peer, text);
  response = peer_wait (peer, FALSE, cseq);
  g_assert_nonnull (response);
  return response;
}

/* Registers @user at @contact_peer's address: REGISTER, 401, REGISTER with Authorization. */
static void
peer_register (Peer       *peer,
               const char *user,
               const char *password)
{
  g_autofree char *from = g_strdup_printf ("sip:%s@lab.example", user);
  g_autofree char *call_id = g_strdup_printf ("reg-%s-%p", user, (void *) peer);
  g_autoptr(osip_message_t) challenge = NULL;
  g_autoptr(osip_message_t) ok = NULL;
  g_autofree char *line = NULL;
  g_autofree char *text = NULL;
  gboolean v6 = strchr (peer->ip, ':') != NULL;

  /* A REGISTER's Request-URI is the domain, not an AOR: build it by hand. */
  text = g_strdup_printf ("REGISTER sip:lab.example SIP/2.0\r\n"
                          "Via: SIP/2.0/UDP %s%s%s:%u;branch=z9hG4bK-reg1-%p;rport\r\n"
                          "Max-Forwards: 70\r\nFrom: <%s>;tag=r\r\nTo: <%s>\r\n"
                          "Call-ID: %s\r\nCSeq: 1 REGISTER\r\n"
                          "Contact: <sip:%s@%s%s%s:%u>\r\nExpires: 600\r\nContent-Length: 0\r\n\r\n",
                          v6 ? "[" : "", peer->ip, v6 ? "]" : "", peer->port, (void *) peer, from,
                          from, call_id, user, v6 ? "[" : "", peer->ip, v6 ? "]" : "", peer->port);
  peer_send (peer, text);
  challenge = peer_wait (peer, FALSE, 1);
  g_assert_nonnull (challenge);
  g_assert_cmpint (challenge->status_code, ==, 401);
  {
    osip_www_authenticate_t *header = osip_list_get (&challenge->www_authenticates, 0);
    SimDigestChallenge parsed = { NULL, };
    SimDigestCredentials creds;
    g_autofree char *value = NULL;
    char *challenge_text = NULL;

    g_assert_cmpint (osip_www_authenticate_to_str (header, &challenge_text), ==, 0);
    g_assert_true (sim_digest_challenge_parse (challenge_text, &parsed, NULL));
    osip_free (challenge_text);
    sim_digest_answer (&parsed, user, password, "REGISTER", "sip:lab.example", "c0ffee", 1, &creds);
    value = sim_digest_credentials_format (&creds);
    sim_digest_credentials_clear (&creds);
    sim_digest_challenge_clear (&parsed);
    line = g_strdup_printf ("Authorization: %s\r\n", value);
  }
  g_free (text);
  text = g_strdup_printf ("REGISTER sip:lab.example SIP/2.0\r\n"
                          "Via: SIP/2.0/UDP %s%s%s:%u;branch=z9hG4bK-reg2-%p;rport\r\n"
                          "Max-Forwards: 70\r\nFrom: <%s>;tag=r\r\nTo: <%s>\r\n"
                          "Call-ID: %s\r\nCSeq: 2 REGISTER\r\n%s"
                          "Contact: <sip:%s@%s%s%s:%u>\r\nExpires: 600\r\nContent-Length: 0\r\n\r\n",
                          v6 ? "[" : "", peer->ip, v6 ? "]" : "", peer->port, (void *) peer, from,
                          from, call_id, line, user, v6 ? "[" : "", peer->ip, v6 ? "]" : "",
                          peer->port);
  peer_send (peer, text);
  ok = peer_wait (peer, FALSE, 2);
  g_assert_nonnull (ok);
  g_assert_cmpint (ok->status_code, ==, 200);
}

/* The listener of @transport on @ip, added if the server has none yet. */
static SimAddr
listener (Fixture      *f,
          const char   *ip,
          SimTransportKind  transport)
{
  GArray *listeners = sim_socket_transport_get_listeners (sim_server_get_transport (f->server));
  g_autoptr(GError) error = NULL;
  g_autofree char *spec = NULL;

  for (guint i = 0; i < listeners->len; i++)
    {
      SimAddr *addr = &g_array_index (listeners, SimAddr, i);
      if (addr->transport == transport && strcmp (addr->ip, ip) == 0)
        return *addr;
    }
  spec = g_strdup_printf ("%s:%s%s%s:0", transport == SIM_TRANSPORT_TCP ? "tcp" : "udp",
                          strchr (ip, ':') ? "[" : "", ip, strchr (ip, ':') ? "]" : "");
  g_assert_true (sim_server_listen (f->server, spec, &error));
  g_assert_no_error (error);
  listeners = sim_socket_transport_get_listeners (sim_server_get_transport (f->server));
  return g_array_index (listeners, SimAddr, listeners->len - 1);
}

static guint
count_nonce_events (SimServer  *server,
                    const char *action,
                    const char *reason)
{
  GPtrArray *events = sim_trace_get_events (sim_server_get_trace (server));
  guint n = 0;

  for (guint i = 0; i < events->len; i++)
    {
      SimEvent *event = events->pdata[i];
      if (event->type == SIM_EVENT_NONCE && g_strcmp0 (event->action, action) == 0 &&
          (reason == NULL || (event->reason != NULL && strstr (event->reason, reason) != NULL)))
        n++;
    }
  return n;
}

typedef struct {
  const char *ip;
  SimTransportKind transport;
} PeerKind;

static const PeerKind udp4 = { "127.0.0.1", SIM_TRANSPORT_UDP };
static const PeerKind tcp4 = { "127.0.0.1", SIM_TRANSPORT_TCP };
static const PeerKind udp6 = { "::1", SIM_TRANSPORT_UDP };
static const PeerKind tcp6 = { "::1", SIM_TRANSPORT_TCP };

static void
test_from_any_listener_address_is_challenged (Fixture       *f,
                                              gconstpointer  data)
{
  SimAddr server = listener (f, "::1", SIM_TRANSPORT_UDP);
  g_autoptr(Peer) bob = peer_new ("::1", &server);
  g_autoptr(Peer) mallory = peer_new ("::1", &server);
  g_autoptr(osip_message_t) answer = NULL;

  g_test_summary ("Issue 9 items 2 and 6: a From naming alice at our second listener's address "
                  "(any port, as at the first one's) is one of our users and gets 407; it "
                  "never reaches bob unauthenticated");
  peer_register (bob, "bob", "bobpw");
  answer = peer_ask (mallory, "INVITE", "sip:alice@[::1]:9", "bob", "call-any", 1, NULL);
  g_assert_cmpint (answer->status_code, ==, 407);
}

static void
test_invite_needs_proxy_authorization (Fixture       *f,
                                       gconstpointer  data)
{
  const PeerKind *kind = data;
  SimAddr server = listener (f, kind->ip, kind->transport);
  SimAddr udp_server = listener (f, kind->ip, SIM_TRANSPORT_UDP);
  g_autoptr(Peer) bob = peer_new (kind->ip, &udp_server);
  g_autoptr(Peer) mallory = peer_new (kind->ip, &server);
  g_autoptr(osip_message_t) challenge = NULL;
  g_autoptr(osip_message_t) forwarded = NULL;
  g_autofree char *alice_creds = NULL;
  g_autofree char *header = NULL;
  const char *alice = "sip:alice@lab.example";
  guint n_challenged;

  g_test_summary ("Issue 9 item 2: an INVITE whose From is a user of our domain gets 407 with a "
                  "Proxy-Authenticate (RFC 3261 §22.3) until it carries that user's "
                  "Proxy-Authorization; then it is routed without the credentials, a replay of "
                  "them is challenged again, and alice's credentials with From bob get 403.");

  peer_register (bob, "bob", "bobpw");

  /* No credentials: 407, one MD5 challenge with qop="auth", nothing reaches bob. */
  challenge = peer_ask (mallory, "INVITE", alice, "bob", "call-1", 1, NULL);
  g_assert_cmpint (challenge->status_code, ==, 407);
  g_assert_cmpstr (challenge->reason_phrase, ==, "Proxy Authentication Required");
  g_assert_cmpint (osip_list_size (&challenge->proxy_authenticates), ==, 1);
  g_assert_cmpint (osip_list_size (&challenge->www_authenticates), ==, 0);
  {
    char *text = NULL;
    osip_www_authenticate_to_str (osip_list_get (&challenge->proxy_authenticates, 0), &text);
    g_assert_nonnull (strstr (text, "qop=\"auth\""));
    g_assert_nonnull (strstr (text, "algorithm=MD5"));
    osip_free (text);
  }

  /* The right answer: bob's phone gets the INVITE, without the Proxy-Authorization. */
  alice_creds = credentials_line (challenge, "alice", "alicepw", "INVITE", "bob");
  {
    g_autofree char *text = peer_request (mallory, "INVITE", alice, "bob", "call-1", 2, alice_creds);
    peer_send (mallory, text);
  }
  forwarded = peer_wait (bob, TRUE, 0);
  g_assert_nonnull (forwarded);
  g_assert_cmpstr (forwarded->sip_method, ==, "INVITE");
  g_assert_cmpint (osip_list_size (&forwarded->proxy_authorizations), ==, 0);
  g_assert_cmpuint (count_nonce_events (f->server, "accepted", NULL), ==, 2);  /* bob, alice */

  /* The same Proxy-Authorization in a new INVITE (new Call-ID, CSeq, branch): one-time nonce. */
  {
    g_autoptr(osip_message_t) replayed = peer_ask (mallory, "INVITE", alice, "bob", "call-2", 7,
                                                   alice_creds);
    g_assert_cmpint (replayed->status_code, ==, 407);
  }
  g_assert_cmpuint (count_nonce_events (f->server, "rejected", "already used"), ==, 1);

  /* Good credentials of alice, but the From says bob: 403. */
  {
    g_autoptr(osip_message_t) fresh = peer_ask (mallory, "INVITE", "sip:bob@lab.example", "bob",
                                                "call-3", 1, NULL);
    g_autofree char *creds = NULL;
    g_autoptr(osip_message_t) forbidden = NULL;

    g_assert_cmpint (fresh->status_code, ==, 407);
    creds = credentials_line (fresh, "alice", "alicepw", "INVITE", "bob");
    forbidden = peer_ask (mallory, "INVITE", "sip:bob@lab.example", "bob", "call-3", 2, creds);
    g_assert_cmpint (forbidden->status_code, ==, 403);
  }

  /* MESSAGE is challenged the same way; a From of another domain is not challenged. */
  {
    g_autoptr(osip_message_t) message = peer_ask (mallory, "MESSAGE", alice, "bob", "msg-1", 1, NULL);
    g_assert_cmpint (message->status_code, ==, 407);
  }
  n_challenged = count_events (f->server, SIM_EVENT_LOOKUP, "challenged", NULL);
  g_assert_cmpuint (n_challenged, ==, 4);
  header = g_strdup ("sip:eve@elsewhere.example");
  {
    g_autofree char *text = peer_request (mallory, "OPTIONS", header, "bob", "foreign-1", 1, NULL);
    g_autoptr(osip_message_t) reached = NULL;

    peer_send (mallory, text);
    reached = peer_wait (bob, TRUE, 0);
    g_assert_nonnull (reached);
    g_assert_cmpstr (reached->sip_method, ==, "OPTIONS");
  }
  g_assert_cmpuint (count_events (f->server, SIM_EVENT_LOOKUP, "challenged", NULL), ==,
                    n_challenged);
}

static void
test_nonce_from_another_address_is_unknown (Fixture       *f,
                                            gconstpointer  data)
{
  SimAddr server4 = listener (f, "127.0.0.1", SIM_TRANSPORT_UDP);
  SimAddr server6 = listener (f, "::1", SIM_TRANSPORT_UDP);
  g_autoptr(Peer) bob = peer_new ("127.0.0.1", &server4);
  g_autoptr(Peer) alice = peer_new ("127.0.0.1", &server4);
  g_autoptr(Peer) eve = peer_new ("::1", &server6);
  g_autoptr(Peer) alice_again = peer_new ("127.0.0.1", &server4);
  g_autoptr(osip_message_t) challenge = NULL;
  g_autofree char *creds = NULL;
  g_autofree char *wrong = NULL;
  const char *from = "sip:alice@lab.example";

  g_test_summary ("Issue 9 item 8: a nonce is bound to the address it was issued to (in its "
                  "HMAC): answered from another address it is unknown, and a wrong answer from "
                  "there does not burn it for its owner, who may answer from another port.");

  peer_register (bob, "bob", "bobpw");
  challenge = peer_ask (alice, "INVITE", from, "bob", "bound-1", 1, NULL);
  g_assert_cmpint (challenge->status_code, ==, 407);
  creds = credentials_line (challenge, "alice", "alicepw", "INVITE", "bob");
  wrong = credentials_line (challenge, "alice", "guess", "INVITE", "bob");

  /* Eve, at ::1, sniffed both the nonce and alice's answer. */
  {
    g_autoptr(osip_message_t) r1 = peer_ask (eve, "INVITE", from, "bob", "bound-2", 2, wrong);
    g_autoptr(osip_message_t) r2 = peer_ask (eve, "INVITE", from, "bob", "bound-3", 2, creds);
    g_assert_cmpint (r1->status_code, ==, 407);
    g_assert_cmpint (r2->status_code, ==, 407);
  }
  g_assert_cmpuint (count_nonce_events (f->server, "rejected", "to this address"), ==, 2);

  /* Alice answers from 127.0.0.1, another source port: accepted and routed. */
  {
    g_autofree char *text = peer_request (alice_again, "INVITE", from, "bob", "bound-1", 2, creds);
    g_autoptr(osip_message_t) forwarded = NULL;

    peer_send (alice_again, text);
    forwarded = peer_wait (bob, TRUE, 0);
    g_assert_nonnull (forwarded);
    g_assert_cmpstr (forwarded->sip_method, ==, "INVITE");
  }
}

static gboolean
phone_registered (Fixture *f)
{
  return sim_phone_get_reg_state (f->phone) == SIM_REG_REGISTERED;
}

/* Issue 9 item 8: an IPv6 host holds a /64, so its guesses count under the /64. */
static void
test_ipv6_guesses_count_per_64 (void)
{
  static const struct { const char *ip; const char *key; } cases[] = {
    { "127.0.0.1", "127.0.0.1" },
    { "::1", "::/64" },
    { "2001:db8::1", "2001:db8::/64" },
    { "2001:db8::ffff:abcd:1:2", "2001:db8::/64" },
    { "2001:db8:0:1::1", "2001:db8:0:1::/64" },
    { "::ffff:192.0.2.1", "192.0.2.1" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *key = sim_addr_source_key (cases[i].ip);
      g_assert_cmpstr (key, ==, cases[i].key);
    }
}

static void
test_guessing_one_user_does_not_lock_out_another (Fixture       *f,
                                                  gconstpointer  data)
{
  const PeerKind *kind = data;
  SimAddr server = listener (f, kind->ip, kind->transport);
  g_autoptr(Peer) mallory = peer_new (kind->ip, &server);
  g_autoptr(GError) error = NULL;
  const char *teacher = "sip:teacher@lab.example";

  g_test_summary ("Issue 9 item 8: failures are counted per (address, user), 407s included: "
                  "a guesser trying 'teacher' from the class's shared address locks out only "
                  "'teacher' there, and alice registers from the same address meanwhile; each "
                  "wrong answer uses its nonce up, so each guess costs a new challenge.");

  sim_server_set_auth_limit (f->server, 3, SIM_SEC (60), SIM_SEC (60));
  for (guint i = 0; i < 3; i++)
    {
      g_autofree char *call_id = g_strdup_printf ("guess-%u", i);
      g_autoptr(osip_message_t) challenge = peer_ask (mallory, "INVITE", teacher, "bob", call_id,
                                                      1, NULL);
      g_autofree char *creds = NULL;
      g_autoptr(osip_message_t) refused = NULL;
      g_autoptr(osip_message_t) again = NULL;

      g_assert_cmpint (challenge->status_code, ==, 407);
      creds = credentials_line (challenge, "teacher", "guess", "INVITE", "bob");
      refused = peer_ask (mallory, "INVITE", teacher, "bob", call_id, 2, creds);
      g_assert_cmpint (refused->status_code, ==, 407);
      /* The same nonce a second time: used up, not a second guess (and not counted). */
      if (i == 0)
        {
          again = peer_ask (mallory, "INVITE", teacher, "bob", call_id, 3, creds);
          g_assert_cmpint (again->status_code, ==, 407);
        }
    }
  g_assert_cmpuint (count_events (f->server, SIM_EVENT_NOTE, NULL, "answered 403"), ==, 1);

  /* 'teacher' from this address is refused now, with any credentials... */
  {
    g_autoptr(osip_message_t) challenge = peer_ask (mallory, "INVITE", teacher, "bob", "locked", 1,
                                                    NULL);
    g_autofree char *creds = credentials_line (challenge, "teacher", "guess", "INVITE", "bob");
    g_autoptr(osip_message_t) blocked = peer_ask (mallory, "INVITE", teacher, "bob", "locked", 2,
                                                  creds);
    g_assert_cmpint (blocked->status_code, ==, 403);
    g_assert_cmpstr (blocked->reason_phrase, ==, "Too Many Failed Authentications");

    /* ...also with a To tag (a tagged request of no known dialog is challenged too, so it
     * must be blocked too), and behind a decoy credential of another realm put first. */
    {
      g_autoptr(osip_message_t) tagged =
        peer_ask_full (mallory, "MESSAGE", "sip:bob@lab.example", teacher,
                       "<sip:bob@lab.example>;tag=forged", "locked-tagged", 1, creds);
      g_autofree char *decoy = g_strdup_printf ("Proxy-Authorization: Digest username=\"alice\", "
                                                "realm=\"elsewhere.example\", nonce=\"n\", "
                                                "uri=\"sip:bob@lab.example\", response=\"0\"\r\n%s",
                                                creds);
      g_autoptr(osip_message_t) hidden = peer_ask (mallory, "INVITE", teacher, "bob",
                                                   "locked-decoy", 1, decoy);

      g_assert_cmpint (tagged->status_code, ==, 403);
      g_assert_cmpstr (tagged->reason_phrase, ==, "Too Many Failed Authentications");
      g_assert_cmpint (hidden->status_code, ==, 403);
      g_assert_cmpstr (hidden->reason_phrase, ==, "Too Many Failed Authentications");
    }
  }
  /* ...but alice, at the same address, registers. */
  if (strcmp (kind->ip, "127.0.0.1") == 0)
    {
      g_assert_true (sim_phone_register (f->phone, 600, &error));
      g_assert_true (wait_until (f, phone_done));
      g_assert_cmpint (sim_phone_get_reg_state (f->phone), ==, SIM_REG_REGISTERED);
    }
  else
    {
      g_autoptr(Peer) alice = peer_new (kind->ip, &server);
      peer_register (alice, "alice", "alicepw");
    }
}

static void
test_removed_user_loses_bindings (Fixture       *f,
                                  gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  SimAddr server = listener (f, "127.0.0.1", SIM_TRANSPORT_UDP);
  g_autoptr(Peer) peer = peer_new ("127.0.0.1", &server);
  GPtrArray *events;
  gboolean traced = FALSE;

  g_test_summary ("Issue 9 item 2: a user removed from the users file loses its bindings at "
                  "once (traced with the reason, and in the database) and can no longer "
                  "authenticate, neither REGISTER nor INVITE.");

  g_assert_true (sim_phone_register (f->phone, 600, &error));
  g_assert_true (wait_until (f, phone_registered));
  g_assert_nonnull (sim_location_peek (sim_server_get_location (f->server), "sip:alice@lab.example"));

  write_file (f->users, "# the lab, without alice\nbob:bobpw\n");
  g_assert_true (sim_server_reload_users (f->server, &error));
  g_assert_no_error (error);
  g_assert_null (sim_location_peek (sim_server_get_location (f->server), "sip:alice@lab.example"));
  g_assert_cmpuint (sim_store_count_bindings (sim_server_get_store (f->server)), ==, 0);
  events = sim_trace_get_events (sim_server_get_trace (f->server));
  for (guint i = 0; i < events->len; i++)
    {
      SimEvent *event = events->pdata[i];
      if (event->type == SIM_EVENT_BINDING && g_strcmp0 (event->action, "removed") == 0 &&
          event->reason != NULL && strstr (event->reason, "removed from the users file") != NULL)
        traced = TRUE;
    }
  g_assert_true (traced);

  /* Her password opens nothing any more. */
  {
    g_autoptr(osip_message_t) challenge = peer_ask (peer, "INVITE", "sip:alice@lab.example", "bob",
                                                    "gone-1", 1, NULL);
    g_autofree char *creds = credentials_line (challenge, "alice", "alicepw", "INVITE", "bob");
    g_autoptr(osip_message_t) again = peer_ask (peer, "INVITE", "sip:alice@lab.example", "bob",
                                                "gone-1", 2, creds);
    g_assert_cmpint (again->status_code, ==, 407);
  }
  g_assert_true (sim_phone_register (f->phone, 600, &error));
  g_assert_true (wait_until (f, phone_done));
  g_assert_cmpint (sim_phone_get_reg_state (f->phone), ==, SIM_REG_FAILED);
}

static void
test_forged_to_tag_is_challenged (Fixture       *f,
                                  gconstpointer  data)
{
  const PeerKind *kind = data;
  SimAddr server = listener (f, kind->ip, kind->transport);
  SimAddr udp_server = listener (f, kind->ip, SIM_TRANSPORT_UDP);
  g_autoptr(Peer) bob = peer_new (kind->ip, &udp_server);
  g_autoptr(Peer) mallory = peer_new (kind->ip, &server);
  g_autoptr(osip_message_t) reached = NULL;
  g_autofree char *contact = NULL;
  const char *methods[] = { "MESSAGE", "INVITE", "BYE" };
  const char *froms[] = { "sip:teacher@lab.example", "sip:teacher@lab.example.",
                          "sip:teacher@LAB.Example.", "sip:alice@lab.example" };
  const char *to_bob = "<sip:bob@lab.example>;tag=forged";
  gboolean v6 = strchr (kind->ip, ':') != NULL;
  guint cseq = 1;

  g_test_summary ("A To tag of a dialog the proxy never saw is no pass: MESSAGE, INVITE and BYE "
                  "from a user of ours (also spelled lab.example. with a trailing dot, any case) "
                  "to bob's AOR or to his registered Contact get 407; from a stranger, 403; an "
                  "ACK is dropped.  Authenticated, the tagged MESSAGE reaches bob's Contact over "
                  "his flow, but never through his AOR.  Nothing else reaches bob.");

  peer_register (bob, "bob", "bobpw");
  contact = g_strdup_printf ("sip:bob@%s%s%s:%u", v6 ? "[" : "", kind->ip, v6 ? "]" : "", bob->port);

  for (guint m = 0; m < G_N_ELEMENTS (methods); m++)
    for (guint i = 0; i < G_N_ELEMENTS (froms); i++)
      for (guint target = 0; target < 2; target++)
        {
          g_autofree char *call_id = g_strdup_printf ("forged-%u-%u-%u", m, i, target);
          g_autoptr(osip_message_t) response =
            peer_ask_full (mallory, methods[m], target ? contact : "sip:bob@lab.example",
                           froms[i], to_bob, call_id, cseq, NULL);

          g_assert_cmpint (response->status_code, ==, 407);
          cseq++;
        }
  /* The trailing dot is our domain out of a dialog too. */
  {
    g_autoptr(osip_message_t) response =
      peer_ask_full (mallory, "MESSAGE", "sip:bob@lab.example", "sip:teacher@lab.example.",
                     "<sip:bob@lab.example>", "dot-untagged", cseq++, NULL);
    g_assert_cmpint (response->status_code, ==, 407);
  }
  /* A stranger's From is not challenged: refused, since it names no dialog of ours. */
  for (guint target = 0; target < 2; target++)
    {
      g_autoptr(osip_message_t) response =
        peer_ask_full (mallory, "MESSAGE", target ? contact : "sip:bob@lab.example",
                       "sip:eve@elsewhere.example", to_bob, "forged-stranger", cseq, NULL);
      g_assert_cmpint (response->status_code, ==, 403);
      cseq++;
    }
  /* An ACK cannot be challenged: it is dropped. */
  {
    g_autofree char *ack = peer_request_full (mallory, "ACK", contact, "sip:alice@lab.example",
                                              to_bob, "forged-ack", cseq++, NULL);
    peer_send (mallory, ack);
  }

  /* alice proves who she is: a tagged MESSAGE to bob's AOR is still refused ... */
  {
    g_autoptr(osip_message_t) challenge =
      peer_ask_full (mallory, "MESSAGE", "sip:bob@lab.example", "sip:alice@lab.example", to_bob,
                     "authed-aor", cseq, NULL);
    g_autofree char *creds = credentials_for_uri (challenge, "alice", "alicepw", "MESSAGE",
                                                  "sip:bob@lab.example");
    g_autoptr(osip_message_t) response =
      peer_ask_full (mallory, "MESSAGE", "sip:bob@lab.example", "sip:alice@lab.example", to_bob,
                     "authed-aor", cseq + 1, creds);
    g_assert_cmpint (challenge->status_code, ==, 407);
    g_assert_cmpint (response->status_code, ==, 403);
    cseq += 2;
  }
  /* ... and one to his registered Contact reaches him, at his flow. */
  {
    g_autoptr(osip_message_t) challenge =
      peer_ask_full (mallory, "MESSAGE", contact, "sip:alice@lab.example", to_bob,
                     "authed-contact", cseq, NULL);
    g_autofree char *creds = credentials_for_uri (challenge, "alice", "alicepw", "MESSAGE",
                                                  contact);
    g_autofree char *text = peer_request_full (mallory, "MESSAGE", contact,
                                               "sip:alice@lab.example", to_bob, "authed-contact",
                                               cseq + 1, creds);
    g_assert_cmpint (challenge->status_code, ==, 407);
    peer_send (mallory, text);
  }
  /* The first request bob ever gets is that one. */
  reached = peer_wait (bob, TRUE, 0);
  g_assert_nonnull (reached);
  g_assert_cmpstr (reached->sip_method, ==, "MESSAGE");
  {
    g_autofree char *call_id = sim_message_call_id (reached);
    g_assert_cmpstr (call_id, ==, "authed-contact");
  }
}

/* How many datagrams (and bytes) @socket receives within @ms. */
static guint
count_datagrams (GSocket *socket,
                 guint    ms,
                 gsize   *bytes)
{
  gint64 end = g_get_monotonic_time () + ms * 1000;
  guint n = 0;

  *bytes = 0;
  while (g_get_monotonic_time () < end)
    {
      char buf[65536];
      gssize len;

      g_main_context_iteration (NULL, FALSE);
      len = g_socket_receive (socket, buf, sizeof buf, NULL, NULL);
      if (len > 0)
        {
          n++;
          *bytes += len;
          continue;
        }
      g_usleep (2000);
    }
  return n;
}

static void
test_own_refusals_are_stateless (Fixture       *f,
                                 gconstpointer  data)
{
  const PeerKind *kind = data;
  SimAddr server = listener (f, kind->ip, kind->transport);
  SimStack *stack = sim_server_get_stack (f->server);
  g_autoptr(Peer) mallory = peer_new (kind->ip, &server);
  g_autoptr(osip_message_t) refusal = NULL;
  g_autofree char *invite = NULL;
  g_autofree char *ack = NULL;
  g_autofree char *reg = NULL;
  gsize bytes = 0;
  guint n;

  g_test_summary ("The proxy's own refusal of an INVITE (404 for an unknown user) is sent once, "
                  "statelessly: no retransmissions until Timer H, no transaction kept, and its "
                  "ACK is absorbed; so is the registrar's own refusal (403, not our domain).");

  invite = peer_request_full (mallory, "INVITE", "sip:nobody@lab.example", "sip:eve@elsewhere.example",
                              "<sip:nobody@lab.example>", "amp-1", 1, NULL);
  peer_send (mallory, invite);
  if (kind->transport == SIM_TRANSPORT_UDP)
    {
      /* Timer G would have sent it again at 0.5, 1.5 and 3.5 s. */
      n = count_datagrams (mallory->socket, 2000, &bytes);
      g_assert_cmpuint (n, ==, 1);
      g_assert_cmpuint (bytes, <, 1000);
      g_string_append_len (mallory->buffer, "", 0);
    }
  else
    {
      refusal = peer_wait (mallory, FALSE, 1);
      g_assert_nonnull (refusal);
      g_assert_cmpint (refusal->status_code, ==, 404);
    }
  g_assert_cmpuint (sim_stack_get_n_transactions (stack), ==, 0);

  /* The ACK to it is absorbed: nothing answers, nothing is routed, nothing is kept. */
  ack = peer_request_full (mallory, "ACK", "sip:nobody@lab.example", "sip:eve@elsewhere.example",
                           "<sip:nobody@lab.example>;tag=anything", "amp-1", 1, NULL);
  peer_send (mallory, ack);
  if (kind->transport == SIM_TRANSPORT_UDP)
    g_assert_cmpuint (count_datagrams (mallory->socket, 500, &bytes), ==, 0);
  g_assert_cmpuint (sim_stack_get_n_transactions (stack), ==, 0);

  /* A forged in-dialog INVITE "from" one of our users (its To tag names no dialog we know)
   * gets its 407 once as well: no 100 Trying, no retransmission of the 407 until Timer H. */
  if (kind->transport == SIM_TRANSPORT_UDP)
    {
      g_autofree char *forged = peer_request_full (mallory, "INVITE", "sip:bob@lab.example",
                                                   "sip:teacher@lab.example",
                                                   "<sip:bob@lab.example>;tag=forged", "amp-2", 1,
                                                   NULL);
      peer_send (mallory, forged);
      n = count_datagrams (mallory->socket, 2000, &bytes);
      g_assert_cmpuint (n, ==, 1);
      g_assert_cmpuint (sim_stack_get_n_transactions (stack), ==, 0);
    }

  /* The registrar's own refusal keeps nothing either. */
  reg = peer_request_full (mallory, "REGISTER", "sip:elsewhere.example", "sip:eve@elsewhere.example",
                           "<sip:eve@elsewhere.example>", "amp-reg", 2, NULL);
  peer_send (mallory, reg);
  g_clear_pointer (&refusal, osip_message_free);
  refusal = peer_wait (mallory, FALSE, 2);
  g_assert_nonnull (refusal);
  g_assert_cmpint (refusal->status_code, ==, 403);
  g_assert_cmpuint (sim_stack_get_n_transactions (stack), ==, 0);
}

static void
test_relay_refuses_loopback_in_disguise (Fixture       *f,
                                         gconstpointer  data)
{
  SimAddr server = listener (f, "::1", SIM_TRANSPORT_UDP);
  g_autoptr(Peer) alice = peer_new ("::1", &server);
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocket) silent = NULL;
  g_autoptr(GSocketAddress) bound = NULL;
  guint port, cseq = 1;
  const char *hosts[] = { "127.0.0.1", "[::ffff:127.0.0.1]", "[::127.0.0.1]", "[64:ff9b::7f00:1]",
                          "169.254.1.1", "[fe80::1]" };

  g_test_summary ("With --relay, an authenticated user's MESSAGE to a loopback port, also spelled "
                  "IPv4-mapped, IPv4-compatible (::127.0.0.1) or NAT64 (64:ff9b::7f00:1), or to a "
                  "link-local address, gets 403 and nothing arrives at that port.");

  silent = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, &error);
  g_assert_no_error (error);
  {
    g_autoptr(GInetAddress) lo = g_inet_address_new_from_string ("127.0.0.1");
    g_autoptr(GSocketAddress) addr = g_inet_socket_address_new (lo, 0);
    g_assert_true (g_socket_bind (silent, addr, FALSE, &error));
  }
  g_socket_set_blocking (silent, FALSE);
  bound = g_socket_get_local_address (silent, &error);
  port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  sim_server_set_relay (f->server, TRUE);

  for (guint i = 0; i < G_N_ELEMENTS (hosts); i++)
    {
      g_autofree char *uri = g_strdup_printf ("sip:x@%s:%u", hosts[i], port);
      g_autofree char *to = g_strdup_printf ("<%s>", uri);
      g_autoptr(osip_message_t) challenge =
        peer_ask_full (alice, "MESSAGE", uri, "sip:alice@lab.example", to, "relay", cseq, NULL);
      g_autofree char *creds = credentials_for_uri (challenge, "alice", "alicepw", "MESSAGE", uri);
      g_autoptr(osip_message_t) response =
        peer_ask_full (alice, "MESSAGE", uri, "sip:alice@lab.example", to, "relay", cseq + 1, creds);

      g_assert_cmpint (challenge->status_code, ==, 407);
      g_assert_cmpint (response->status_code, ==, 403);
      cseq += 2;
    }
  {
    gsize bytes;
    g_assert_cmpuint (count_datagrams (silent, 300, &bytes), ==, 0);
  }
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  sim_message_init_library ();

  g_test_add_func ("/net/server/users-file-errors-name-the-line", test_users_parse_errors);
  g_test_add_func ("/net/server/missing-users-file-is-a-users-error",
                   test_missing_users_file_is_a_users_error);
  g_test_add_func ("/net/server/mixed-world-phones-call-real-phones",
                   test_mixed_world_calls_real_phone);
  g_test_add_func ("/net/server/mixed/registrar-dates-in-real-time",
                   test_mixed_registrar_dates_in_real_time);
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
  g_test_add ("/net/server/failed-group-commit-sends-no-200-and-stops", Fixture, NULL,
              fixture_setup, test_failed_group_commit_stops, fixture_teardown);
  g_test_add ("/net/server/a-200-leaves-only-once-its-binding-is-durable", Fixture, NULL,
              fixture_setup, test_answers_wait_for_their_commit, fixture_teardown);
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
  g_test_add ("/net/server/hostile/udp-ipv4/big-messages-to-a-silent-phone-meet-the-byte-budget",
              Fixture, NULL, fixture_setup, test_hostile_big_messages_meet_the_byte_budget,
              fixture_teardown);
  g_test_add ("/net/server/hostile/udp-ipv4/a-stranger-keeps-to-its-share-and-the-phone-registers",
              Fixture, NULL, fixture_setup, test_hostile_stranger_keeps_to_its_share,
              fixture_teardown);
  g_test_add ("/net/server/proxy-auth/invite-needs-proxy-authorization/udp4", Fixture, &udp4,
              fixture_setup, test_invite_needs_proxy_authorization, fixture_teardown);
  g_test_add ("/net/server/proxy-auth/invite-needs-proxy-authorization/tcp4", Fixture, &tcp4,
              fixture_setup, test_invite_needs_proxy_authorization, fixture_teardown);
  g_test_add ("/net/server/proxy-auth/invite-needs-proxy-authorization/udp6", Fixture, &udp6,
              fixture_setup, test_invite_needs_proxy_authorization, fixture_teardown);
  g_test_add ("/net/server/proxy-auth/invite-needs-proxy-authorization/tcp6", Fixture, &tcp6,
              fixture_setup, test_invite_needs_proxy_authorization, fixture_teardown);
  g_test_add ("/net/server/proxy-auth/from-any-listener-address-is-challenged", Fixture, NULL,
              fixture_setup, test_from_any_listener_address_is_challenged, fixture_teardown);
  g_test_add ("/net/server/nonce-from-another-address-is-unknown", Fixture, NULL,
              fixture_setup, test_nonce_from_another_address_is_unknown, fixture_teardown);
  g_test_add_func ("/net/server/ipv6-guesses-count-per-64", test_ipv6_guesses_count_per_64);
  g_test_add ("/net/server/guessing-one-user-does-not-lock-out-another/udp4", Fixture, &udp4,
              fixture_setup, test_guessing_one_user_does_not_lock_out_another, fixture_teardown);
  g_test_add ("/net/server/guessing-one-user-does-not-lock-out-another/tcp6", Fixture, &tcp6,
              fixture_setup, test_guessing_one_user_does_not_lock_out_another, fixture_teardown);
  {
    const PeerKind *kinds[] = { &udp4, &tcp4, &udp6, &tcp6 };
    const char *names[] = { "udp4", "tcp4", "udp6", "tcp6" };

    for (guint i = 0; i < G_N_ELEMENTS (kinds); i++)
      {
        g_autofree char *forged = g_strdup_printf ("/net/server/hostile/forged-to-tag-is-challenged/%s",
                                                   names[i]);
        g_autofree char *refusal = g_strdup_printf ("/net/server/hostile/own-refusals-are-sent-once/%s",
                                                    names[i]);
        g_test_add (forged, Fixture, kinds[i], fixture_setup, test_forged_to_tag_is_challenged,
                    fixture_teardown);
        g_test_add (refusal, Fixture, kinds[i], fixture_setup, test_own_refusals_are_stateless,
                    fixture_teardown);
      }
  }
  g_test_add ("/net/server/relay/authenticated-user-cannot-reach-loopback-in-disguise", Fixture,
              NULL, fixture_setup, test_relay_refuses_loopback_in_disguise, fixture_teardown);
  g_test_add ("/net/server/removed-user-loses-bindings-and-access", Fixture, NULL,
              fixture_setup, test_removed_user_loses_bindings, fixture_teardown);
  return g_test_run ();
}
