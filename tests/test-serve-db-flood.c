/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <stdio.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/prctl.h>

#include "sim-server.h"
#include "sim-store.h"

/*
 * serve --db under a flood (issue 15): the server of `siplab-cli serve --db`, in-process so
 * that its own counters can be read, on the loopback interface, with a slow disk (a trigger in
 * the test's database file makes every binding written cost a few milliseconds; production
 * code is unchanged).  tests/flood-register.py plays both the lab's phones and the attacker:
 * valid authenticated REGISTERs as fast as it can, with garbage, strangers and wrong passwords
 * mixed in (over UDP the attacker sends 4,000 datagrams a second whatever the server answers),
 * over UDP, or over TCP on many connections that pipeline requests; over UDP the test itself
 * adds 57 KB REGISTERs (send_big_cb()).  Every run is bounded by the client's own time limit
 * and the count of 200s it waits for; no assertion depends on how fast the machine is.
 */

#define DOMAIN "lab.example"
#define N_USERS 40
#define FLOOD_SECONDS "8"
#define FLOOD_ACKS "4000"
#define CLIENT_WAIT_MS 60000
/* Each row written to the bindings table costs this many steps of a recursive query: a disk
 * slower than the flood (a few milliseconds a row), so the answers must wait for it. */
#define SLOW_ROWS "20000"

/*
 * How much the server's RSS may grow during a flood: what its named limits let a stranger make
 * it hold (live transactions' messages: the 64 MiB default and an eighth for small requests;
 * SQLite's page cache, SIM_STORE_CACHE_KIB; the held answers, SIM_SERVER_MAX_WAITING_ANSWERS
 * and the spares of 256 KiB each) and room for the allocator.  AddressSanitizer keeps freed
 * memory in its quarantine (256 MiB) and shadow besides.
 */
#if defined(__SANITIZE_ADDRESS__)
#define SANITIZER_KIB (512 * 1024)
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZER_KIB (512 * 1024)
#endif
#endif
#ifndef SANITIZER_KIB
#define SANITIZER_KIB 0
#endif
#define MAX_GROWTH_KIB (72 * 1024 + SIM_STORE_CACHE_KIB + \
                        (SIM_SERVER_MAX_WAITING_ANSWERS + 4) * 256 + 16 * 1024 + SANITIZER_KIB)

typedef struct {
  char *dir;
  char *users;
  char *db;
  SimServer *server;
} Fixture;

/* The client dies with the test, even when a timeout kills it. */
static void
child_setup (gpointer data)
{
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

static SimServer *
start_server (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  SimServer *server = sim_server_new (DOMAIN, f->db, &error);

  g_assert_no_error (error);
  /* As `serve --format none`, the fastest and the one a loaded lab runs. */
  sim_trace_set_enabled (sim_server_get_trace (server), FALSE);
  g_assert_true (sim_server_restore_bindings (server, &error));
  g_assert_no_error (error);
  g_assert_true (sim_server_load_users (server, f->users, FALSE, &error));
  g_assert_no_error (error);
  g_assert_true (sim_server_listen (server, "udp:127.0.0.1:0", &error));
  g_assert_true (sim_server_listen (server, "tcp:127.0.0.1:0", &error));
  g_assert_no_error (error);
  return server;
}

static void
stop_server (Fixture *f)
{
  sim_server_stop (f->server);
  g_assert_finalize_object (g_steal_pointer (&f->server));
}

static guint16
server_port (Fixture          *f,
             SimTransportKind  kind)
{
  GArray *listeners = sim_socket_transport_get_listeners (sim_server_get_transport (f->server));

  for (guint i = 0; i < listeners->len; i++)
    if (g_array_index (listeners, SimAddr, i).transport == kind)
      return g_array_index (listeners, SimAddr, i).port;
  g_assert_not_reached ();
}

/* Makes every row written to the bindings table slow: the test's disk takes its time. */
static void
slow_bindings_table (const char *db_path)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SimStore) store = sim_store_open (db_path, &error);   /* creates the schema */
  sqlite3 *db = NULL;
  char *message = NULL;

  g_assert_no_error (error);
  g_assert_cmpint (sqlite3_open_v2 (db_path, &db, SQLITE_OPEN_READWRITE, NULL), ==, SQLITE_OK);
  sqlite3_busy_timeout (db, 2000);
  g_assert_cmpint (sqlite3_exec (db,
                                 "CREATE TRIGGER slow_insert AFTER INSERT ON bindings BEGIN "
                                 "SELECT count(*) FROM (WITH RECURSIVE c(x) AS (SELECT 1 "
                                 "UNION ALL SELECT x + 1 FROM c WHERE x < " SLOW_ROWS ") "
                                 "SELECT x FROM c); END;",
                                 NULL, NULL, &message), ==, SQLITE_OK);
  g_assert_null (message);
  sqlite3_close (db);
}

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) users = g_string_new ("# the flood's users\n");

  f->dir = g_dir_make_tmp ("siplab-flood-XXXXXX", &error);
  g_assert_no_error (error);
  f->users = g_build_filename (f->dir, "users.txt", NULL);
  f->db = g_build_filename (f->dir, "lab.sqlite", NULL);
  /* The last one registers after the flood, on a binding of its own. */
  for (guint i = 1; i <= N_USERS + 1; i++)
    g_string_append_printf (users, "user%u:pw%u\n", i, i);
  g_assert_true (g_file_set_contents (f->users, users->str, -1, &error));
  slow_bindings_table (f->db);
  f->server = start_server (f);
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  const char *files[] = { "users.txt", "lab.sqlite", "lab.sqlite-wal", "lab.sqlite-shm" };

  if (f->server != NULL)
    stop_server (f);
  for (guint i = 0; i < 10; i++)
    g_main_context_iteration (NULL, FALSE);
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

/* A field of /proc/self/status in KiB ("VmRSS", "VmHWM"). */
static guint64
status_kib (const char *field)
{
  g_autofree char *text = NULL;
  const char *at;

  g_assert_true (g_file_get_contents ("/proc/self/status", &text, NULL, NULL));
  at = strstr (text, field);
  g_assert_nonnull (at);
  return g_ascii_strtoull (at + strlen (field) + 1, NULL, 10);
}

/*
 * The largest answers a stranger can ask for: REGISTERs of 57 KB (sixty Via headers of 900
 * bytes, each copied into the 401), BIG_IN_A_ROW of them at once, BIG_ROUNDS times in a flood.
 * Sent while the server does not read (from a callback of its own main loop), so that the next
 * burst reads at least BIG_IN_A_ROW / 2 of them together (a burst reads up to 64 datagrams):
 * their 401s are more than the 256 KiB a burst's hold of answers takes, and the hold is sent,
 * or taken to wait for a group commit, in the middle of the burst.
 */
#define BIG_IN_A_ROW 12
#define BIG_ROUNDS   3

typedef struct {
  GSocket *socket;
  GSocketAddress *to;
  guint sent;
} Big;

static gboolean
send_big_cb (gpointer data)
{
  Big *big = data;
  g_autoptr(GString) vias = g_string_new (NULL);
  g_autofree char *filler = g_strnfill (900, 'x');

  for (guint i = 0; i < 60; i++)
    g_string_append_printf (vias, "Via: SIP/2.0/UDP 10.0.%u.%u:5060;branch=z9hG4bK-%s\r\n",
                            big->sent % 200, i, filler);
  for (guint i = 0; i < BIG_IN_A_ROW; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *text =
        g_strdup_printf ("REGISTER sip:" DOMAIN " SIP/2.0\r\n"
                         "Via: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK-big-%u-%u;rport\r\n%s"
                         "Max-Forwards: 70\r\n"
                         "From: <sip:stranger@" DOMAIN ">;tag=%u\r\n"
                         "To: <sip:stranger@" DOMAIN ">\r\n"
                         "Call-ID: big-%u-%u\r\n"
                         "CSeq: 1 REGISTER\r\n"
                         "Contact: <sip:stranger@127.0.0.1:5999>\r\n"
                         "Content-Length: 0\r\n\r\n",
                         big->sent, i, vias->str, i, big->sent, i);

      g_assert_cmpint (g_socket_send_to (big->socket, big->to, text, strlen (text), NULL,
                                         &error), ==, strlen (text));
      g_assert_no_error (error);
    }
  return ++big->sent < BIG_ROUNDS ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

/* Resets the peak RSS the kernel keeps (VmHWM). */
static gboolean
reset_peak_rss (void)
{
  FILE *file = fopen ("/proc/self/clear_refs", "w");
  gboolean ok;

  if (file == NULL)
    return FALSE;
  ok = fputs ("5", file) >= 0;
  return fclose (file) == 0 && ok;
}

/* The highest RSS sampled while a client runs, in KiB. */
static guint64 rss_peak;

static gboolean
sample_rss_cb (gpointer data)
{
  rss_peak = MAX (rss_peak, status_kib ("VmRSS:"));
  return G_SOURCE_CONTINUE;
}

typedef struct {
  GString *out;
  gboolean done;
  char chunk[4096];
} Output;

static void
read_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      data)
{
  Output *output = data;
  gssize n = g_input_stream_read_finish (G_INPUT_STREAM (source), result, NULL);

  if (n <= 0)
    {
      output->done = TRUE;
      return;
    }
  g_string_append_len (output->out, output->chunk, n);
  g_input_stream_read_async (G_INPUT_STREAM (source), output->chunk, sizeof output->chunk,
                             G_PRIORITY_DEFAULT, NULL, read_cb, output);
}

static gboolean
timeout_cb (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

/*
 * Runs tests/flood-register.py with @args (after the script's path) against the server, which
 * serves on this thread meanwhile, and returns what it printed: "ok USER CSEQ" for each 200,
 * then "done N".
 */
static GString *
run_client (Fixture     *f,
            const char **args,
            Big         *big)
{
  g_autofree char *script = g_test_build_filename (G_TEST_DIST, "flood-register.py", NULL);
  g_autoptr(GSubprocessLauncher) launcher =
    g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GSubprocess) client = NULL;
  g_autoptr(GError) error = NULL;
  Output output = { .out = g_string_new (NULL) };
  gboolean timed_out = FALSE;
  guint id, sample, big_source = 0;

  g_ptr_array_add (argv, (gpointer) "python3");
  g_ptr_array_add (argv, script);
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);
  g_subprocess_launcher_set_child_setup (launcher, child_setup, NULL, NULL);
  client = g_subprocess_launcher_spawnv (launcher, (const char * const *) argv->pdata, &error);
  g_assert_no_error (error);
  g_input_stream_read_async (g_subprocess_get_stdout_pipe (client), output.chunk,
                             sizeof output.chunk, G_PRIORITY_DEFAULT, NULL, read_cb, &output);
  id = g_timeout_add (CLIENT_WAIT_MS, timeout_cb, &timed_out);
  sample = g_timeout_add (50, sample_rss_cb, NULL);
  /* In the flood, once its commits are under way. */
  if (big != NULL)
    big_source = g_timeout_add (1000, send_big_cb, big);
  while (!output.done && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (sample);
  if (big != NULL && big->sent < BIG_ROUNDS)
    g_source_remove (big_source);
  if (timed_out)
    g_error ("the flood client did not finish in %u ms; it printed:\n%s", CLIENT_WAIT_MS,
             output.out->str);
  g_source_remove (id);
  g_assert_true (g_subprocess_wait (client, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_exited (client));
  g_assert_cmpint (g_subprocess_get_exit_status (client), ==, 0);
  return output.out;
}

/* The number after @word at the start of a line of @out ("done" for the 200s). */
static guint
client_count (GString    *out,
              const char *word)
{
  g_autofree char *needle = g_strdup_printf ("\n%s ", word);
  const char *at = strstr (out->str, needle);

  /* The first line has no newline before it. */
  if (g_str_has_prefix (out->str, needle + 1))
    return (guint) g_ascii_strtoull (out->str + strlen (needle + 1), NULL, 10);
  g_assert_nonnull (at);
  return (guint) g_ascii_strtoull (at + strlen (needle), NULL, 10);
}

/*
 * Every "ok USER CSEQ" in @out is in the database, with at least that CSeq: nothing the server
 * acknowledged is lost.  Read after the server is gone, as a restart reads it.
 */
static guint
check_acks_stored (Fixture *f,
                   GString *out)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SimStore) store = sim_store_open (f->db, &error);
  g_autoptr(GPtrArray) bindings = NULL;
  g_autoptr(GHashTable) cseqs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_auto(GStrv) lines = g_strsplit (out->str, "\n", -1);
  guint checked = 0;

  g_assert_no_error (error);
  bindings = sim_store_load_bindings (store, g_get_real_time (), 0, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < bindings->len; i++)
    {
      SimBinding *binding = bindings->pdata[i];
      const char *at = strchr (binding->aor, '@');
      g_hash_table_replace (cseqs, g_strndup (binding->aor + 4, at - binding->aor - 4),
                            GUINT_TO_POINTER (binding->cseq));
    }
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_auto(GStrv) words = g_strsplit (lines[i], " ", 3);
      guint64 acked;
      gpointer stored;

      if (g_strcmp0 (words[0], "ok") != 0)
        continue;
      acked = g_ascii_strtoull (words[2], NULL, 10);
      if (!g_hash_table_lookup_extended (cseqs, words[1], NULL, &stored))
        g_error ("%s was acknowledged (CSeq %" G_GUINT64_FORMAT ") but is not in the database",
                 words[1], acked);
      if (GPOINTER_TO_UINT (stored) < acked)
        g_error ("%s was acknowledged with CSeq %" G_GUINT64_FORMAT " but the database has "
                 "CSeq %u", words[1], acked, GPOINTER_TO_UINT (stored));
      checked++;
    }
  return checked;
}

/* ...and the restarted server has a binding for every user acknowledged. */
static void
check_acks_restored (Fixture *f,
                     GString *out)
{
  g_auto(GStrv) lines = g_strsplit (out->str, "\n", -1);
  SimLocation *location = sim_server_get_location (f->server);

  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_auto(GStrv) words = g_strsplit (lines[i], " ", 3);
      g_autofree char *aor = NULL;
      GPtrArray *bindings;

      if (g_strcmp0 (words[0], "ok") != 0)
        continue;
      aor = g_strdup_printf ("sip:%s@" DOMAIN, words[1]);
      bindings = sim_location_peek (location, aor);
      if (bindings == NULL || bindings->len == 0)
        g_error ("%s was acknowledged but the restarted server has no binding for it", aor);
    }
}

static void
flood (Fixture    *f,
       const char *mode)
{
  g_autofree char *port = NULL;
  g_autofree char *udp_port = NULL;
  g_autofree char *users = g_strdup_printf ("1-%u", N_USERS);
  g_autofree char *last_user = g_strdup_printf ("%u", N_USERS + 1);
  g_autoptr(GString) out = NULL;
  g_autoptr(GString) last = NULL;
  guint64 rss_before;
  guint64 peak;
  gboolean hwm_reset;
  guint acks, attacks, checked, peak_waiting, peak_in_flight;
  SimStore *store = sim_server_get_store (f->server);
  g_autoptr(GError) error = NULL;
  Big big = { NULL };

  port = g_strdup_printf ("%u", server_port (f, strcmp (mode, "udp") == 0 ? SIM_TRANSPORT_UDP
                                                                           : SIM_TRANSPORT_TCP));
  udp_port = g_strdup_printf ("%u", server_port (f, SIM_TRANSPORT_UDP));
  big.socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM,
                             G_SOCKET_PROTOCOL_UDP, &error);
  g_assert_no_error (error);
  big.to = g_inet_socket_address_new_from_string ("127.0.0.1",
                                                  server_port (f, SIM_TRANSPORT_UDP));
  /* The peak RSS (VmHWM) is this flood's, not an earlier test's (where the kernel lets it be
   * reset; else the RSS sampled while the client runs is the peak). */
  hwm_reset = reset_peak_rss ();
  rss_before = status_kib ("VmRSS:");
  rss_peak = rss_before;
  {
    const char *args[] = { mode, "127.0.0.1", port, DOMAIN, users, FLOOD_ACKS, FLOOD_SECONDS,
                           "16", NULL };
    out = run_client (f, args, strcmp (mode, "udp") == 0 ? &big : NULL);
  }
  g_object_unref (big.socket);
  g_object_unref (big.to);
  acks = client_count (out, "done");
  attacks = client_count (out, "attacker");
  peak = hwm_reset ? MAX (rss_peak, status_kib ("VmHWM:")) : rss_peak;
  peak_waiting = sim_server_get_peak_waiting_answers (f->server);
  peak_in_flight = sim_store_get_peak_in_flight (store);
  g_test_message ("%s: %u registrations acknowledged, %u of the attacker's %s; at most %u "
                  "bursts' answers waited (limit %u), %u groups in flight (limit %u); RSS %"
                  G_GUINT64_FORMAT " KiB before, peak %" G_GUINT64_FORMAT " KiB (growth limit "
                  "%u KiB)", mode, acks, attacks,
                  strcmp (mode, "udp") == 0 ? "datagrams" : "connections", peak_waiting,
                  SIM_SERVER_MAX_WAITING_ANSWERS, peak_in_flight, SIM_STORE_MAX_IN_FLIGHT,
                  rss_before, peak, MAX_GROWTH_KIB);
  g_assert_cmpuint (acks, >, 0);
  g_assert_cmpuint (attacks, >, 0);
  /* A disk slower than the flood: over UDP the answers did wait for it (over TCP each save is
   * its own transaction and nothing is held). */
  if (strcmp (mode, "udp") == 0)
    g_assert_cmpuint (peak_waiting, >, 0);
  g_assert_cmpuint (peak_waiting, <=, SIM_SERVER_MAX_WAITING_ANSWERS);
  g_assert_cmpuint (peak_in_flight, <=, SIM_STORE_MAX_IN_FLIGHT);
  g_assert_cmpuint (peak - MIN (peak, rss_before), <=, MAX_GROWTH_KIB);

  /* It keeps answering: one more registration, with nothing else in the way, gets its 200. */
  {
    const char *args[] = { "udp", "127.0.0.1", udp_port, DOMAIN, last_user, "1", "20", NULL };
    last = run_client (f, args, NULL);
  }
  g_assert_cmpuint (client_count (last, "done"), ==, 1);

  /* Nothing acknowledged is lost: the file a restart reads has every binding. */
  stop_server (f);
  checked = check_acks_stored (f, out) + check_acks_stored (f, last);
  g_assert_cmpuint (checked, ==, acks + 1);
  f->server = start_server (f);
  check_acks_restored (f, out);
  check_acks_restored (f, last);
}

static void
test_udp_flood (Fixture       *f,
                gconstpointer  data)
{
  g_test_summary ("A flood of valid authenticated REGISTERs over UDP, with garbage, strangers, "
                  "wrong passwords and 57 KB REGISTERs mixed in, against serve --db on a slow "
                  "disk: at most SIM_SERVER_MAX_WAITING_ANSWERS bursts' answers wait and "
                  "SIM_STORE_MAX_IN_FLIGHT groups are in flight, RSS grows within what the "
                  "named limits allow, every 200 OK is in the file, and a REGISTER after the "
                  "flood gets its 200.  Before the fixes, the 57 KB REGISTERs' 401s filled a "
                  "burst's hold while a commit was in flight, and serve crashed; and one set of "
                  "answers more than the limit could wait.");
  flood (f, "udp");
}

static void
test_tcp_flood (Fixture       *f,
                gconstpointer  data)
{
  g_test_summary ("The same over TCP: sixteen connections pipelining the registrations of "
                  "forty users, and connections of garbage beside them, against serve --db on "
                  "a slow disk: memory bounded, every 200 OK in the file, and a REGISTER after "
                  "the flood gets its 200.");
  flood (f, "tcp");
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  /* A closed pipe to a dead child must not kill the test. */
  signal (SIGPIPE, SIG_IGN);

  g_test_add ("/net/serve-db/a-udp-flood-is-held-within-the-limits-and-loses-nothing", Fixture,
              NULL, fixture_setup, test_udp_flood, fixture_teardown);
  g_test_add ("/net/serve-db/a-tcp-flood-on-many-connections-loses-nothing", Fixture, NULL,
              fixture_setup, test_tcp_flood, fixture_teardown);
  return g_test_run ();
}
