/* SPDX-License-Identifier: GPL-3.0-or-later */
#define _GNU_SOURCE 1   /* F_SETPIPE_SZ: a small pipe fills quickly */
#include <gio/gio.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test-baresip.h"
#include "sim-store.h"

/*
 * `siplab-cli serve` against real sipp (the scenarios in tests/sipp/) on the loopback interface:
 * registration with digest authentication over UDP and TCP, refresh, unregister, a call
 * routed through the proxy to a registered sipp, and kill -9 in the middle of a burst of
 * registrations; and two real softphones (baresip) registering and calling each other through
 * the server, both over UDP, and over UDP and TCP (two Record-Routes) with the callee hanging
 * up.  Skipped only when sipp or baresip is not installed (CI installs sip-tester and
 * baresip-core).
 * Every process has a bounded lifetime: sipp has -timeout, and the test kills what outlives
 * its wait.
 */

#define DOMAIN "lab.example"
#define SERVER_WAIT_MS 10000
#define SIPP_WAIT_MS 30000
#define N_BURST 40

typedef struct {
  char *dir;
  char *users;
  char *db;
  char *sipp_dir;
  guint16 port;
  char *scenario;          /* mixed mode: the scenario file the server runs, else NULL */
  const char *format;      /* --format: "jsonl" unless a test says otherwise */
  GSubprocess *server;
  GString *out;            /* the server's stdout (JSON Lines) */
  GString *err;            /* the server's stderr */
  GCancellable *cancel;
  gboolean out_done;
  guint sipp_runs;
  gboolean use_config;     /* serve --config FILE alone (write_config ()), no other flag */
} Fixture;

/* Children die with the test, even when a timeout kills it. */
static void
child_setup (gpointer data)
{
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

static const char *
cli_path (void)
{
  const char *path = g_getenv ("SIPLAB_CLI");
  return path != NULL ? path : "siplab-cli";
}

static gboolean
timeout_cb (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

/* Accumulates a pipe into a GString as the main loop runs. */
typedef struct {
  GInputStream *stream;
  GString *buffer;
  gboolean *done;
  GCancellable *cancel;
  char chunk[4096];
} Reader;

static void
reader_read_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      data)
{
  Reader *reader = data;
  gssize n = g_input_stream_read_finish (G_INPUT_STREAM (source), result, NULL);

  if (n <= 0)
    {
      if (reader->done != NULL)
        *reader->done = TRUE;
      g_object_unref (reader->stream);
      g_object_unref (reader->cancel);
      g_free (reader);
      return;
    }
  g_string_append_len (reader->buffer, reader->chunk, n);
  g_input_stream_read_async (reader->stream, reader->chunk, sizeof reader->chunk,
                             G_PRIORITY_DEFAULT, reader->cancel, reader_read_cb, reader);
}

static void
reader_start (GInputStream *stream,
              GString      *buffer,
              gboolean     *done,
              GCancellable *cancel)
{
  Reader *reader = g_new0 (Reader, 1);

  reader->stream = g_object_ref (stream);
  reader->buffer = buffer;
  reader->done = done;
  reader->cancel = g_object_ref (cancel);
  g_input_stream_read_async (stream, reader->chunk, sizeof reader->chunk, G_PRIORITY_DEFAULT,
                             cancel, reader_read_cb, reader);
}

static gboolean
wait_for_text (GString    *buffer,
               const char *needle,
               guint       ms)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add (ms, timeout_cb, &timed_out);

  while (strstr (buffer->str, needle) == NULL && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (!timed_out)
    g_source_remove (id);
  if (strstr (buffer->str, needle) == NULL)
    {
      /* What the server said last tells why it never came (the log keeps it). */
      gsize from = buffer->len > 4000 ? buffer->len - 4000 : 0;
      g_test_message ("waited %u ms for '%s'; the server's output ends with:\n%s", ms, needle,
                      buffer->str + from);
      return FALSE;
    }
  return TRUE;
}

static guint
count_text (GString    *buffer,
            const char *needle)
{
  guint n = 0;

  for (const char *p = strstr (buffer->str, needle); p != NULL; p = strstr (p + 1, needle))
    n++;
  return n;
}

/* Waits up to @ms for @needle to appear @n times: the server's lines arrive in bursts. */
static gboolean
wait_for_count (GString    *buffer,
                const char *needle,
                guint       n,
                guint       ms)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add (ms, timeout_cb, &timed_out);

  while (count_text (buffer, needle) < n && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (!timed_out)
    g_source_remove (id);
  return count_text (buffer, needle) >= n;
}

static void
wait_done_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      data)
{
  g_subprocess_wait_finish (G_SUBPROCESS (source), result, NULL);
  *(gboolean *) data = TRUE;
}

/*
 * Waits for @process to exit, killing it after @ms.  Returns its exit status, -1 if killed.
 * (GSubprocess reaps children on GLib's worker thread; the async wait is what wakes this one.)
 */
static int
wait_process (GSubprocess *process,
              guint        ms)
{
  gboolean timed_out = FALSE;
  gboolean exited = FALSE;
  guint id = g_timeout_add (ms, timeout_cb, &timed_out);

  g_subprocess_wait_async (process, NULL, wait_done_cb, &exited);
  while (!exited && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (!timed_out)
    g_source_remove (id);
  if (!exited)
    {
      g_subprocess_force_exit (process);
      while (!exited)
        g_main_context_iteration (NULL, TRUE);
      return -1;
    }
  return g_subprocess_get_if_exited (process) ? g_subprocess_get_exit_status (process) : -1;
}

static char *write_config (Fixture *f);

/* One server; its stdout and stderr are collected while the test runs. */
static gboolean
start_server (Fixture *f)
{
  g_autoptr(GSubprocessLauncher) launcher =
    g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_autoptr(GError) error = NULL;
  g_autofree char *udp = g_strdup_printf ("udp:127.0.0.1:%u", f->port);
  g_autofree char *tcp = g_strdup_printf ("tcp:127.0.0.1:%u", f->port);

  g_subprocess_launcher_set_child_setup (launcher, child_setup, NULL, NULL);
  g_string_truncate (f->out, 0);
  g_string_truncate (f->err, 0);
  f->out_done = FALSE;
  if (f->use_config)
    {
      g_autofree char *config = write_config (f);
      f->server = g_subprocess_launcher_spawn (launcher, &error, cli_path (), "serve",
                                               "--config", config, NULL);
    }
  else if (f->scenario != NULL)
    f->server = g_subprocess_launcher_spawn (launcher, &error, cli_path (), "serve",
                                             "--listen", udp, "--listen", tcp,
                                             "--scenario", f->scenario, "--format",
                                             f->format ? f->format : "jsonl", NULL);
  else
    f->server = g_subprocess_launcher_spawn (launcher, &error, cli_path (), "serve",
                                             "--listen", udp, "--listen", tcp,
                                             "--domain", DOMAIN, "--users", f->users,
                                             "--db", f->db, "--format",
                                             f->format ? f->format : "jsonl", NULL);
  g_assert_no_error (error);
  reader_start (g_subprocess_get_stdout_pipe (f->server), f->out, &f->out_done, f->cancel);
  reader_start (g_subprocess_get_stderr_pipe (f->server), f->err, NULL, f->cancel);
  /* "domain ..." is the last line printed once every socket listens. */
  if (wait_for_text (f->err, "siplab-cli serve: domain", SERVER_WAIT_MS))
    return TRUE;
  /* The random port was taken: the caller picks another one. */
  wait_process (f->server, 2000);
  g_clear_object (&f->server);
  return FALSE;
}

static void
stop_server (Fixture *f,
             int      signum)
{
  if (f->server == NULL)
    return;
  g_subprocess_send_signal (f->server, signum);
  wait_process (f->server, SERVER_WAIT_MS);
  if (signum == SIGTERM)
    g_assert_true (g_subprocess_get_if_exited (f->server) &&
                   g_subprocess_get_exit_status (f->server) == 0);
  else
    g_assert_true (g_subprocess_get_if_signaled (f->server));
  g_clear_object (&f->server);
}

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) users = g_string_new ("# SIP Lab test users\nalice:alicepw\nbob:bobpw\n");

  f->dir = g_dir_make_tmp ("siplab-serve-XXXXXX", &error);
  g_assert_no_error (error);
  /* Mixed mode: @data is the text of the scenario whose phones share the registrar. */
  if (data != NULL)
    {
      f->scenario = g_build_filename (f->dir, "mixed.scn", NULL);
      g_assert_true (g_file_set_contents (f->scenario, data, -1, &error));
    }
  f->users = g_build_filename (f->dir, "users.txt", NULL);
  f->db = g_build_filename (f->dir, "lab.sqlite", NULL);
  f->sipp_dir = g_test_build_filename (G_TEST_DIST, "sipp", NULL);
  for (guint i = 1; i <= N_BURST; i++)
    g_string_append_printf (users, "user%u:pw%u\n", i, i);
  g_assert_true (g_file_set_contents (f->users, users->str, -1, &error));
  f->out = g_string_new (NULL);
  f->err = g_string_new (NULL);
  f->cancel = g_cancellable_new ();

  for (guint attempt = 0; attempt < 8; attempt++)
    {
      f->port = (guint16) g_random_int_range (20000, 60000);
      if (start_server (f))
        return;
    }
  g_error ("siplab-cli serve did not start: %s", f->err->str);
}

static void
remove_tree (const char *dir)
{
  g_autoptr(GDir) handle = g_dir_open (dir, 0, NULL);
  const char *name;

  while (handle != NULL && (name = g_dir_read_name (handle)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      /* The baresip phones' configuration directories are the only subdirectories. */
      if (g_file_test (path, G_FILE_TEST_IS_DIR) && !g_file_test (path, G_FILE_TEST_IS_SYMLINK))
        remove_tree (path);
      else
        g_unlink (path);
    }
  g_rmdir (dir);
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  stop_server (f, SIGTERM);
  g_cancellable_cancel (f->cancel);
  /* Let the cancelled reads finish so their closures are freed. */
  for (guint i = 0; i < 10; i++)
    g_main_context_iteration (NULL, FALSE);
  if (g_test_failed ())
    g_printerr ("server stderr:\n%s\nserver stdout:\n%s\n", f->err->str, f->out->str);
  remove_tree (f->dir);
  g_clear_object (&f->cancel);
  g_string_free (f->out, TRUE);
  g_string_free (f->err, TRUE);
  g_free (f->users);
  g_free (f->db);
  g_free (f->scenario);
  g_free (f->sipp_dir);
  g_free (f->dir);
}

/* Writes a sipp injection file for @names (password = the users file's). */
static char *
write_csv (Fixture            *f,
           const char * const *names,
           const char * const *passwords)
{
  g_autoptr(GString) csv = g_string_new ("SEQUENTIAL\n");
  g_autofree char *base = g_strdup_printf ("users-%u.csv", f->sipp_runs);
  char *path = g_build_filename (f->dir, base, NULL);

  for (guint i = 0; names[i] != NULL; i++)
    g_string_append_printf (csv, "%s;[authentication username=%s password=%s];\n", names[i],
                            names[i], passwords[i]);
  g_assert_true (g_file_set_contents (path, csv->str, -1, NULL));
  return path;
}

/*
 * Starts sipp with @scenario and extra arguments (NULL-terminated), talking to the server
 * unless @to_server is FALSE (a UAS).  Its output goes to a log in the temporary directory.
 */
static GSubprocess *
spawn_sipp (Fixture            *f,
            const char         *scenario,
            gboolean            to_server,
            const char * const *extra)
{
  g_autoptr(GSubprocessLauncher) launcher =
    g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_INHERIT);
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *log = g_strdup_printf ("%s/sipp-%u.log", f->dir, ++f->sipp_runs);
  g_autoptr(GError) error = NULL;
  GSubprocess *process;

  g_ptr_array_add (argv, g_strdup ("sipp"));
  g_ptr_array_add (argv, g_strdup ("-sf"));
  g_ptr_array_add (argv, g_build_filename (f->sipp_dir, scenario, NULL));
  for (guint i = 0; extra[i] != NULL; i++)
    g_ptr_array_add (argv, g_strdup (extra[i]));
  /* Bounded: sipp gives up by itself, and reports failure if it had to. */
  g_ptr_array_add (argv, g_strdup ("-i"));
  g_ptr_array_add (argv, g_strdup ("127.0.0.1"));
  g_ptr_array_add (argv, g_strdup ("-nostdin"));
  g_ptr_array_add (argv, g_strdup ("-timeout"));
  g_ptr_array_add (argv, g_strdup ("20"));
  g_ptr_array_add (argv, g_strdup ("-timeout_error"));
  g_ptr_array_add (argv, g_strdup ("-key"));
  g_ptr_array_add (argv, g_strdup ("domain"));
  g_ptr_array_add (argv, g_strdup (DOMAIN));
  if (to_server)
    g_ptr_array_add (argv, g_strdup_printf ("127.0.0.1:%u", f->port));
  g_ptr_array_add (argv, NULL);
  g_subprocess_launcher_set_stdout_file_path (launcher, log);
  g_subprocess_launcher_set_stderr_file_path (launcher, log);
  g_subprocess_launcher_set_cwd (launcher, f->dir);
  g_subprocess_launcher_set_child_setup (launcher, child_setup, NULL, NULL);
  process = g_subprocess_launcher_spawnv (launcher, (const char * const *) argv->pdata, &error);
  g_assert_no_error (error);
  return process;
}

static int
run_sipp (Fixture            *f,
          const char         *scenario,
          const char * const *extra)
{
  g_autoptr(GSubprocess) process = spawn_sipp (f, scenario, TRUE, extra);
  int status = wait_process (process, SIPP_WAIT_MS);

  if (status != 0)
    {
      g_autofree char *log = g_strdup_printf ("%s/sipp-%u.log", f->dir, f->sipp_runs);
      g_autofree char *text = NULL;
      g_file_get_contents (log, &text, NULL, NULL);
      g_printerr ("sipp %s exited with %d:\n%s\n", scenario, status, text ? text : "");
    }
  return status;
}

static char *
free_port (void)
{
  return g_strdup_printf ("%d", g_random_int_range (20000, 60000));
}

static gboolean
have_sipp (void)
{
  g_autofree char *sipp = g_find_program_in_path ("sipp");

  if (sipp == NULL)
    g_test_skip ("sipp is not installed (Debian package sip-tester)");
  return sipp != NULL;
}

static void
test_register_refresh_unregister (Fixture       *f,
                                  gconstpointer  data)
{
  g_autofree char *port = free_port ();
  g_autofree char *tcp_port = free_port ();
  const char *udp_args[] = { "-s", "alice", "-au", "alice", "-ap", "alicepw", "-auth_uri", DOMAIN,
                             "-p", port, "-m", "1", NULL };
  const char *tcp_args[] = { "-t", "t1", "-s", "alice", "-au", "alice", "-ap", "alicepw",
                             "-auth_uri", DOMAIN, "-p", tcp_port, "-m", "1", NULL };
  const char *options_args[] = { "-m", "1", NULL };

  g_test_summary ("sipp registers with digest authentication (401 then 200), refreshes on the "
                  "same Call-ID and unregisters with Expires: 0, over UDP and over TCP; the "
                  "server's JSON Lines show every step and name the phone by its user.");

  if (!have_sipp ())
    return;
  g_assert_cmpint (run_sipp (f, "register-refresh-unregister.xml", udp_args), ==, 0);
  g_assert_true (wait_for_text (f->out, "\"action\":\"removed\"", 2000));
  g_assert_cmpuint (count_text (f->out, "\"status\":401"), >=, 3);
  g_assert_cmpuint (count_text (f->out, "\"action\":\"added\",\"aor\""), ==, 1);
  g_assert_cmpuint (count_text (f->out, "\"action\":\"refreshed\",\"aor\""), ==, 1);
  g_assert_cmpuint (count_text (f->out, "\"from\":\"alice\""), >=, 1);

  g_assert_cmpint (run_sipp (f, "register-refresh-unregister.xml", tcp_args), ==, 0);
  g_assert_true (wait_for_text (f->out, "\"transport\":\"TCP\"", 2000));
  /* The unregistration's line may come in a later burst than the first TCP packet's. */
  g_assert_true (wait_for_count (f->out, "\"action\":\"removed\",\"aor\"", 2, 5000));
  g_assert_cmpuint (count_text (f->out, "\"action\":\"removed\",\"aor\""), ==, 2);

  /* The server answers OPTIONS for itself (a keep-alive many phones send). */
  g_assert_cmpint (run_sipp (f, "options.xml", options_args), ==, 0);
}

static void
test_format_none_serves_silently (Fixture       *f,
                                  gconstpointer  data)
{
  g_autofree char *port = free_port ();
  const char *names[] = { "alice", "bob", NULL };
  const char *passwords[] = { "alicepw", "bobpw", NULL };
  g_autofree char *csv = NULL;

  g_test_summary ("With --format none (the benchmark's setting) the server prints no line per "
                  "packet, and still registers sipp with digest authentication.");

  if (!have_sipp ())
    return;
  stop_server (f, SIGTERM);
  g_clear_object (&f->server);
  f->format = "none";
  g_assert_true (start_server (f));
  csv = write_csv (f, names, passwords);
  {
    const char *args[] = { "-inf", csv, "-auth_uri", DOMAIN, "-key", "expires", "600",
                           "-p", port, "-m", "2", NULL };
    g_assert_cmpint (run_sipp (f, "register.xml", args), ==, 0);
  }
  stop_server (f, SIGTERM);
  g_assert_cmpstr (f->out->str, ==, "");
  g_assert_nonnull (strstr (f->err->str, "siplab-cli serve: stopped"));
}

/* Lines of the server's JSON Lines holding all of @a, @b and @c. */
static guint
count_lines_with (GString    *buffer,
                  const char *a,
                  const char *b,
                  const char *c)
{
  g_auto(GStrv) lines = g_strsplit (buffer->str, "\n", -1);
  guint n = 0;

  for (guint i = 0; lines[i] != NULL; i++)
    if (strstr (lines[i], a) != NULL && strstr (lines[i], b) != NULL && strstr (lines[i], c) != NULL)
      n++;
  return n;
}

/*
 * A baresip softphone (Debian's baresip-core) for @user on 127.0.0.1:@port, the server as its
 * outbound proxy over @transport ("tcp" or "udp"; NULL: baresip's default, UDP), answering
 * calls at once, a 440 Hz tone as its microphone and no sound card.  Its console log goes to
 * DIR/baresip-USER.log; its standard input takes commands ("/hangup").
 */
static GSubprocess *
spawn_baresip (Fixture    *f,
               const char *user,
               const char *transport,
               guint       port,
               guint       seconds,
               const char *command)
{
  g_autofree char *account = NULL;

  if (transport != NULL)
    account = g_strdup_printf ("<sip:%s@%s;transport=%s>;auth_pass=%spw;"
                               "outbound=\"sip:127.0.0.1:%u;transport=%s\";"
                               "regint=600;answermode=auto\n", user, DOMAIN, transport, user,
                               f->port, transport);
  else
    account = g_strdup_printf ("<sip:%s@%s>;auth_pass=%spw;outbound=\"sip:127.0.0.1:%u\";"
                               "regint=600;answermode=auto\n", user, DOMAIN, user, f->port);
  return test_baresip_spawn (f->dir, user, port, "", account, seconds, command, child_setup);
}

static gboolean
have_baresip (void)
{
  g_autofree char *baresip = g_find_program_in_path ("baresip");

  if (baresip == NULL)
    g_test_skip ("baresip is not installed (Debian package baresip-core)");
  return baresip != NULL;
}

/*
 * Ports for two baresip phones.  baresip listens on UDP and TCP at its port and on TLS at the
 * next one: keep the three ports of each phone clear of each other and of the server's.
 */
static void
baresip_ports (Fixture *f,
               guint   *bob_port,
               guint   *alice_port)
{
  guint avoid[3] = { f->port, 0, 0 };

  *bob_port = avoid[1] = test_baresip_pick_port (avoid);
  *alice_port = test_baresip_pick_port (avoid);
}

/* Waits until a line of the server's JSON Lines holds all of @a, @b and @c. */
static gboolean
wait_for_line_with (Fixture    *f,
                    const char *a,
                    const char *b,
                    const char *c,
                    guint       ms)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add (ms, timeout_cb, &timed_out);

  while (count_lines_with (f->out, a, b, c) == 0 && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (!timed_out)
    g_source_remove (id);
  if (count_lines_with (f->out, a, b, c) == 0)
    {
      gsize from = f->out->len > 4000 ? f->out->len - 4000 : 0;
      g_test_message ("waited %u ms for a line with '%s' '%s' '%s'; the server's output ends "
                      "with:\n%s", ms, a, b, c, f->out->str + from);
      return FALSE;
    }
  return TRUE;
}

static void
test_baresip_phones_register_and_call (Fixture       *f,
                                       gconstpointer  data)
{
  g_autoptr(GSubprocess) bob = NULL;
  g_autoptr(GSubprocess) alice = NULL;
  g_autofree char *alice_log_path = g_strdup_printf ("%s/baresip-alice.log", f->dir);
  g_autofree char *alice_log = NULL;
  guint bob_port, alice_port;

  g_test_summary ("Two real softphones (baresip): each registers with MD5 digest "
                  "authentication, alice calls sip:bob@" DOMAIN ", bob answers, and INVITE, "
                  "180, 200, ACK, BYE and its 200 all pass through the server's proxy.");

  if (!have_baresip ())
    return;
  baresip_ports (f, &bob_port, &alice_port);
  bob = spawn_baresip (f, "bob", NULL, bob_port, 20, NULL);
  /* A real phone starting up (modules, audio) on a loaded CI machine: the longer wait. */
  g_assert_true (wait_for_text (f->out, "\"action\":\"added\",\"aor\":\"sip:bob@" DOMAIN "\"",
                                SIPP_WAIT_MS));
  alice = spawn_baresip (f, "alice", NULL, alice_port, 8, "/dial sip:bob@" DOMAIN);
  /* alice hangs up when her -t runs out; the 200 to her BYE is the last message. */
  g_assert_true (wait_for_text (f->out, "\"first_line\":\"BYE ", SIPP_WAIT_MS));
  wait_process (alice, SIPP_WAIT_MS);
  g_assert_true (wait_for_text (f->out, "\"status\":200,\"method\":\"BYE\"", SERVER_WAIT_MS));
  g_subprocess_force_exit (bob);
  wait_process (bob, SERVER_WAIT_MS);

  g_assert_cmpuint (count_text (f->out, "\"action\":\"added\",\"aor\":\"sip:alice@" DOMAIN "\""),
                    ==, 1);
  /* Each one's first REGISTER was challenged (baresip answers the MD5 challenge). */
  for (guint i = 0; i < 2; i++)
    {
      g_autofree char *dst = g_strdup_printf ("\"dst\":\"127.0.0.1:%u\"",
                                              i == 0 ? bob_port : alice_port);
      g_assert_cmpuint (count_lines_with (f->out, "\"status\":401", dst, "REGISTER\""), >=, 1);
    }
  /* The INVITE reached bob's binding, the 200 reached alice, the ACK and the BYE went through
   * the proxy (Record-Route) to bob. */
  g_assert_cmpuint (count_lines_with (f->out, "\"from\":\"registrar\",\"to\":\"bob\"",
                                      "\"method\":\"INVITE\"", "\"first_line\":\"INVITE "),
                    >=, 1);
  /* alice by address: her dialling races her own registration, so she may not be named yet. */
  {
    g_autofree char *to_alice = g_strdup_printf ("\"dst\":\"127.0.0.1:%u\"", alice_port);
    g_assert_cmpuint (count_lines_with (f->out, to_alice, "\"status\":200",
                                        "\"method\":\"INVITE\""), >=, 1);
    /* Her INVITE was challenged first (her From is a user of ours) and baresip answered the
     * 407 with Proxy-Authorization by itself (RFC 3261 §22.3). */
    g_assert_cmpuint (count_lines_with (f->out, to_alice, "\"status\":407",
                                        "\"method\":\"INVITE\""), >=, 1);
  }
  g_assert_cmpuint (count_lines_with (f->out, "\"from\":\"registrar\",\"to\":\"bob\"",
                                      "\"first_line\":\"ACK ", "\"method\":\"ACK\""), >=, 1);
  g_assert_cmpuint (count_lines_with (f->out, "\"from\":\"registrar\",\"to\":\"bob\"",
                                      "\"first_line\":\"BYE ", "\"method\":\"BYE\""), >=, 1);
  /* The 200 to the BYE went back to alice (by address: she unregisters as she quits). */
  {
    g_autofree char *to_alice = g_strdup_printf ("\"dst\":\"127.0.0.1:%u\"", alice_port);
    g_assert_cmpuint (count_lines_with (f->out, to_alice, "\"status\":200", "\"method\":\"BYE\""),
                      >=, 1);
  }
  g_assert_true (g_file_get_contents (alice_log_path, &alice_log, NULL, NULL));
  if (strstr (alice_log, "Call established") == NULL)
    g_error ("alice's baresip did not report the call established:\n%s", alice_log);
}

static void
test_baresip_udp_calls_tcp_and_callee_hangs_up (Fixture       *f,
                                                gconstpointer  data)
{
  g_autoptr(GSubprocess) bob = NULL;
  g_autoptr(GSubprocess) alice = NULL;
  g_autofree char *double_rr = NULL;
  g_autofree char *to_alice = NULL;
  g_autofree char *bob_log_path = g_strdup_printf ("%s/baresip-bob.log", f->dir);
  g_autofree char *bob_log = NULL;
  GOutputStream *bob_stdin;
  guint bob_port, alice_port;

  g_test_summary ("Two baresip phones on different transports: alice registers over UDP, bob "
                  "over TCP.  alice's INVITE (after the 407) reaches bob over his TCP "
                  "connection with two Record-Routes (RFC 5658: ;transport=tcp for bob's side on "
                  "top, UDP for alice's), and then the callee hangs up: bob's BYE goes back "
                  "over TCP to the proxy and along the route set over UDP to alice, and her 200 "
                  "returns to bob.");

  if (!have_baresip ())
    return;
  baresip_ports (f, &bob_port, &alice_port);
  bob = spawn_baresip (f, "bob", "tcp", bob_port, 30, NULL);
  g_assert_true (wait_for_line_with (f, "\"action\":\"added\",\"aor\":\"sip:bob@" DOMAIN "\"",
                                     "", "", SIPP_WAIT_MS));
  alice = spawn_baresip (f, "alice", "udp", alice_port, 30, "/dial sip:bob@" DOMAIN);
  /* The ACK for the 2xx reached bob over TCP: the call is up. */
  g_assert_true (wait_for_line_with (f, "\"from\":\"registrar\",\"to\":\"bob\"",
                                     "\"first_line\":\"ACK ", "\"transport\":\"TCP\"",
                                     SIPP_WAIT_MS));
  double_rr = g_strdup_printf ("Record-Route: <sip:127.0.0.1:%u;transport=tcp;lr>\\r\\n"
                               "Record-Route: <sip:127.0.0.1:%u;lr>\\r\\n", f->port, f->port);
  g_assert_cmpuint (count_lines_with (f->out, "\"to\":\"bob\"", "\"first_line\":\"INVITE ",
                                      double_rr), >=, 1);

  /* bob hangs up. */
  bob_stdin = g_subprocess_get_stdin_pipe (bob);
  g_assert_true (g_output_stream_write_all (bob_stdin, "/hangup\n", 8, NULL, NULL, NULL));
  to_alice = g_strdup_printf ("\"dst\":\"127.0.0.1:%u\"", alice_port);
  g_assert_true (wait_for_line_with (f, "\"action\":\"sent\"", to_alice, "\"first_line\":\"BYE ",
                                     SIPP_WAIT_MS));
  g_assert_true (wait_for_line_with (f, "\"action\":\"sent\",\"from\":\"registrar\",\"to\":\"bob\"",
                                     "\"status\":200,\"method\":\"BYE\"", "\"transport\":\"TCP\"",
                                     SERVER_WAIT_MS));
  /* The BYE came from bob over his connection and went to alice over UDP. */
  g_assert_cmpuint (count_lines_with (f->out, "\"action\":\"delivered\",\"from\":\"bob\"",
                                      "\"first_line\":\"BYE ", "\"transport\":\"TCP\""), ==, 1);
  g_assert_cmpuint (count_lines_with (f->out, to_alice, "\"first_line\":\"BYE ",
                                      "\"transport\":\"UDP\""), >=, 1);
  g_subprocess_force_exit (alice);
  wait_process (alice, SERVER_WAIT_MS);
  /* bob quits by himself, so his log is flushed. */
  g_assert_true (g_output_stream_write_all (bob_stdin, "/quit\n", 6, NULL, NULL, NULL));
  wait_process (bob, SERVER_WAIT_MS);
  g_assert_true (g_file_get_contents (bob_log_path, &bob_log, NULL, NULL));
  if (strstr (bob_log, "Call established") == NULL || strstr (bob_log, "terminate call") == NULL)
    g_error ("bob's baresip did not report the call established and hung up:\n%s", bob_log);
}

static void
test_call_through_proxy (Fixture       *f,
                         gconstpointer  data)
{
  g_autofree char *bob_port = free_port ();
  g_autofree char *alice_port = free_port ();
  const char *names[] = { "bob", NULL };
  const char *passwords[] = { "bobpw", NULL };
  g_autofree char *csv = NULL;
  g_autoptr(GSubprocess) uas = NULL;

  g_test_summary ("bob registers with one sipp, a second sipp answers on bob's port, and alice's "
                  "INVITE to sip:bob@" DOMAIN " is first challenged with 407 (her From is a user "
                  "of the domain), answered with Proxy-Authorization, and then routed by the "
                  "proxy to that binding: 180, 200, ACK and BYE all pass through the server "
                  "(Record-Route); the credentials meant for the proxy do not reach bob.");

  if (!have_sipp ())
    return;
  csv = write_csv (f, names, passwords);
  {
    const char *args[] = { "-inf", csv, "-auth_uri", DOMAIN, "-key", "expires", "600",
                           "-p", bob_port, "-m", "1", NULL };
    g_assert_cmpint (run_sipp (f, "register.xml", args), ==, 0);
  }
  {
    const char *args[] = { "-s", "bob", "-p", bob_port, "-m", "1", NULL };
    uas = spawn_sipp (f, "uas.xml", FALSE, args);
  }
  /* Give the UAS a moment to bind its port. */
  {
    gboolean done = FALSE;
    g_timeout_add (300, timeout_cb, &done);
    while (!done)
      g_main_context_iteration (NULL, TRUE);
  }
  {
    const char *args[] = { "-s", "bob", "-key", "caller", "alice", "-au", "alice", "-ap", "alicepw",
                           "-auth_uri", "bob@" DOMAIN, "-p", alice_port, "-m", "1", NULL };
    g_assert_cmpint (run_sipp (f, "uac-invite.xml", args), ==, 0);
  }
  g_assert_cmpint (wait_process (uas, SIPP_WAIT_MS), ==, 0);
  /* One 407 with a Proxy-Authenticate, then the authenticated INVITE was routed. */
  g_assert_cmpuint (count_lines_with (f->out, "\"status\":407", "INVITE\"",
                                      "\"action\":\"sent\""), ==, 1);
  g_assert_cmpuint (count_text (f->out, "\"action\":\"accepted\""), >=, 2);
  g_assert_cmpuint (count_text (f->out, "\"type\":\"lookup\",\"node\":\"registrar\",\"action\":\"found\""), ==, 1);
  /* The INVITE went to bob's binding, and so did the ACK and the BYE (via Record-Route). */
  g_assert_cmpuint (count_text (f->out, "\"action\":\"sent\",\"from\":\"registrar\",\"to\":\"bob\""),
                    >=, 3);
}

static void
test_kill_loses_no_binding (Fixture       *f,
                            gconstpointer  data)
{
  g_autofree char *port = free_port ();
  g_autofree char *alice_port = free_port ();
  g_autofree char *caller_port = free_port ();
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) passwords = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *csv = NULL;
  g_autofree char *count = g_strdup_printf ("%u", N_BURST);
  g_autoptr(GSubprocess) uas = NULL;

  g_test_summary ("Every registration sipp saw acknowledged with 200 OK is in the database "
                  "when the server is killed with SIGKILL right after; the restarted server "
                  "restores the bindings and routes a call with one of them.");

  if (!have_sipp ())
    return;
  for (guint i = 1; i <= N_BURST; i++)
    {
      g_ptr_array_add (names, g_strdup_printf ("user%u", i));
      g_ptr_array_add (passwords, g_strdup_printf ("pw%u", i));
    }
  g_ptr_array_add (names, NULL);
  g_ptr_array_add (passwords, NULL);
  csv = write_csv (f, (const char * const *) names->pdata, (const char * const *) passwords->pdata);
  {
    const char *args[] = { "-inf", csv, "-auth_uri", DOMAIN, "-key", "expires", "3600",
                           "-p", port, "-m", count, "-r", "200", NULL };
    g_assert_cmpint (run_sipp (f, "register.xml", args), ==, 0);
  }
  {
    const char *alice[] = { "alice", NULL };
    const char *alicepw[] = { "alicepw", NULL };
    g_autofree char *alice_csv = write_csv (f, alice, alicepw);
    const char *args[] = { "-inf", alice_csv, "-auth_uri", DOMAIN, "-key", "expires", "3600",
                           "-p", alice_port, "-m", "1", NULL };
    g_assert_cmpint (run_sipp (f, "register.xml", args), ==, 0);
  }
  /* sipp exited 0: all N_BURST + 1 got their 200 OK.  No grace period: SIGKILL at once. */
  stop_server (f, SIGKILL);

  g_assert_true (start_server (f));
  g_assert_true (wait_for_text (f->err, "bindings restored from", 2000));
  {
    g_autofree char *expected = g_strdup_printf ("%u users, %u bindings restored", N_BURST + 2,
                                                 N_BURST + 1);
    g_assert_nonnull (strstr (f->err->str, expected));
  }
  g_assert_true (wait_for_text (f->out, "restored from the database after a restart", 2000));

  /* The restored binding routes: a call to alice reaches the sipp on alice's port. */
  {
    const char *args[] = { "-s", "alice", "-p", alice_port, "-m", "1", NULL };
    uas = spawn_sipp (f, "uas.xml", FALSE, args);
  }
  {
    gboolean done = FALSE;
    g_timeout_add (300, timeout_cb, &done);
    while (!done)
      g_main_context_iteration (NULL, TRUE);
  }
  {
    const char *args[] = { "-s", "alice", "-key", "caller", "bob", "-au", "bob", "-ap", "bobpw",
                           "-auth_uri", "alice@" DOMAIN, "-p", caller_port, "-m", "1", NULL };
    g_assert_cmpint (run_sipp (f, "uac-invite.xml", args), ==, 0);
  }
  g_assert_cmpint (wait_process (uas, SIPP_WAIT_MS), ==, 0);
}

/* ---------------------------------------------------------------------------------------- */
/* Mixed mode: simulated phones and sipp on one registrar                                   */

#define MIXED_HEADER \
  "seed 3\n" \
  "server registrar 10.0.0.1 domain " DOMAIN "\n" \
  "user alice password alice-secret\n" \
  "user bob password bob-secret\n" \
  "phone alice-phone user alice ip 10.0.0.11 answer-after 300ms\n" \
  "at 0s register alice-phone\n"

static const char mixed_answer[] = MIXED_HEADER;
/* Late enough for the test to register sipp as bob and start its UAS first. */
static const char mixed_call[] = MIXED_HEADER
  "at 5s call alice-phone bob\n"
  "at 7s hangup alice-phone\n";

#define ALICE_ADDED "\"type\":\"binding\",\"node\":\"registrar\",\"action\":\"added\"," \
                    "\"aor\":\"sip:alice@" DOMAIN "\""

static void
test_mixed_sipp_calls_simulated_phone (Fixture       *f,
                                       gconstpointer  data)
{
  g_autofree char *port = free_port ();
  const char *args[] = { "-s", "alice", "-key", "caller", "bob", "-au", "bob", "-ap", "bob-secret",
                         "-auth_uri", "alice@" DOMAIN, "-p", port, "-m", "1", NULL };

  g_test_summary ("Mixed mode: the scenario's simulated alice registers over SimNet at the "
                  "registrar's real address; a real sipp calls sip:alice@" DOMAIN " over UDP and "
                  "the proxy forwards the INVITE, ACK and BYE across the simulated network to the "
                  "phone, which answers by itself.");

  if (!have_sipp ())
    return;
  g_assert_true (wait_for_text (f->out, ALICE_ADDED, SERVER_WAIT_MS));
  g_assert_cmpint (run_sipp (f, "uac-invite.xml", args), ==, 0);
  g_assert_true (wait_for_text (f->out, "\"type\":\"call\",\"node\":\"alice-phone\","
                                "\"action\":\"ended\"", 2000));
  g_assert_cmpuint (count_text (f->out, "\"type\":\"call\",\"node\":\"alice-phone\","
                                "\"action\":\"established\""), ==, 1);
  /* SimNet carried the INVITE, the ACK and the BYE from the registrar to alice-phone. */
  g_assert_cmpuint (count_text (f->out, "\"action\":\"delivered\",\"from\":\"registrar\","
                                "\"to\":\"alice-phone\""), >=, 3 + 2);
}

static void
test_mixed_simulated_phone_calls_sipp (Fixture       *f,
                                       gconstpointer  data)
{
  g_autofree char *bob_port = free_port ();
  const char *names[] = { "bob", NULL };
  const char *passwords[] = { "bob-secret", NULL };
  g_autofree char *csv = NULL;
  g_autoptr(GSubprocess) uas = NULL;

  g_test_summary ("Mixed mode: sipp registers as bob over UDP with the scenario's password and "
                  "waits as a UAS; at 5 s the simulated alice calls \"bob\", the proxy finds the "
                  "real binding and the whole call (INVITE, 200, ACK, BYE) crosses from SimNet "
                  "to the real socket and back.");

  if (!have_sipp ())
    return;
  csv = write_csv (f, names, passwords);
  {
    const char *args[] = { "-inf", csv, "-auth_uri", DOMAIN, "-key", "expires", "600",
                           "-p", bob_port, "-m", "1", NULL };
    g_assert_cmpint (run_sipp (f, "register.xml", args), ==, 0);
  }
  {
    const char *args[] = { "-s", "bob", "-p", bob_port, "-m", "1", NULL };
    uas = spawn_sipp (f, "uas.xml", FALSE, args);
  }
  g_assert_cmpint (wait_process (uas, SIPP_WAIT_MS), ==, 0);
  g_assert_cmpuint (count_text (f->out, "\"type\":\"lookup\",\"node\":\"registrar\","
                                "\"action\":\"found\""), ==, 1);
  g_assert_cmpuint (count_text (f->out, "\"type\":\"call\",\"node\":\"alice-phone\","
                                "\"action\":\"established\""), ==, 1);
  /* INVITE, ACK and BYE went out of the real socket to the sipp binding, named by its user. */
  {
    g_autofree char *to_bob = g_strdup_printf ("\"action\":\"sent\",\"from\":\"registrar\","
                                               "\"to\":\"bob\",\"src\":\"127.0.0.1:%u\","
                                               "\"dst\":\"127.0.0.1:%s\"", f->port, bob_port);
    g_assert_cmpuint (count_text (f->out, to_bob), >=, 3);
  }
}

/* --- A reader that does not read ----------------------------------------------------------- */

#define FLOOD_BATCH 50
#define FLOOD_REQUESTS 10000

/* Sends @n OPTIONS (numbered from @first) to the server and counts the 200s that come back
 * within @ms. */
static guint
send_options_batch (GSocket        *socket,
                    GSocketAddress *server,
                    guint           first,
                    guint           n,
                    guint           ms)
{
  g_autoptr(GSocketAddress) local = g_socket_get_local_address (socket, NULL);
  guint16 local_port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local));
  gint64 deadline = g_get_monotonic_time () + ms * G_TIME_SPAN_MILLISECOND;
  guint answered = 0;

  for (guint i = first; i < first + n; i++)
    {
      g_autofree char *request =
        g_strdup_printf ("OPTIONS sip:" DOMAIN " SIP/2.0\r\n"
                         "Via: SIP/2.0/UDP 127.0.0.1:%u;branch=z9hG4bK-flood-%u;rport\r\n"
                         "Max-Forwards: 70\r\n"
                         "From: <sip:monitor@" DOMAIN ">;tag=flood%u\r\n"
                         "To: <sip:" DOMAIN ">\r\n"
                         "Call-ID: flood-%u@127.0.0.1\r\n"
                         "CSeq: 1 OPTIONS\r\n"
                         "Content-Length: 0\r\n\r\n", local_port, i, i, i);
      g_assert_cmpint (g_socket_send_to (socket, server, request, strlen (request), NULL, NULL),
                       ==, (gssize) strlen (request));
    }
  while (answered < n)
    {
      char reply[2048];
      gint64 left = deadline - g_get_monotonic_time ();
      gssize got;

      if (left <= 0)
        break;
      g_socket_set_timeout (socket, 0);
      if (!g_socket_condition_timed_wait (socket, G_IO_IN, left, NULL, NULL))
        break;
      got = g_socket_receive (socket, reply, sizeof reply - 1, NULL, NULL);
      if (got > 0)
        {
          reply[got] = '\0';
          if (g_str_has_prefix (reply, "SIP/2.0 200"))
            answered++;
        }
    }
  return answered;
}

/* Reads what is in @fd now (non-blocking) into @out; FALSE at end of file. */
static gboolean
drain_fd (int      fd,
          GString *out)
{
  char chunk[65536];
  gssize n;

  while ((n = read (fd, chunk, sizeof chunk)) > 0)
    g_string_append_len (out, chunk, n);
  return n != 0;
}

static void
test_unread_stdout_does_not_stop_sip (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("siplab-serve-XXXXXX", &error);
  g_autofree char *users = g_build_filename (dir, "users.txt", NULL);
  g_autoptr(GString) out = g_string_new (NULL);
  g_autoptr(GString) err = g_string_new (NULL);
  g_autoptr(GCancellable) cancel = g_cancellable_new ();
  g_autoptr(GSubprocess) server = NULL;
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GSocketAddress) server_addr = NULL;
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GRegex) whole = NULL;
  g_auto(GStrv) lines = NULL;
  guint16 port = 0;
  guint answered = 0;
  gint64 start;
  int fds[2];

  g_test_summary ("Nobody reads the server's stdout (a paused `| less`): the pipe fills, the "
                  "server keeps answering a flood of OPTIONS at once and drops whole trace "
                  "lines, counted; once the pipe is read again a line reports how many were "
                  "dropped, every line written is whole, and the total is on stderr at exit.");

  g_assert_no_error (error);
  g_assert_true (g_file_set_contents (users, "alice:alicepw\n", -1, &error));
  for (guint attempt = 0; attempt < 8 && server == NULL; attempt++)
    {
      g_autoptr(GSubprocessLauncher) launcher =
        g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDERR_PIPE);
      g_autofree char *udp = NULL;

      port = (guint16) g_random_int_range (20000, 60000);
      udp = g_strdup_printf ("udp:127.0.0.1:%u", port);
      g_assert_true (g_unix_open_pipe (fds, FD_CLOEXEC, &error));
      /* The smallest pipe the kernel offers, so it fills after a few lines. */
      fcntl (fds[1], F_SETPIPE_SZ, 4096);
      g_subprocess_launcher_take_stdout_fd (launcher, fds[1]);
      g_subprocess_launcher_set_child_setup (launcher, child_setup, NULL, NULL);
      /* All 10,000 OPTIONS come from one address within Timer J's 32 s: twice the default
       * cap lets that one address hold them (its share is 1/16 of the cap, sim-stack.h). */
      server = g_subprocess_launcher_spawn (launcher, &error, cli_path (), "serve",
                                            "--listen", udp, "--domain", DOMAIN,
                                            "--users", users, "--format", "ladder",
                                            "--max-transactions", "262144", NULL);
      g_assert_no_error (error);
      g_string_truncate (err, 0);
      reader_start (g_subprocess_get_stderr_pipe (server), err, NULL, cancel);
      if (!wait_for_text (err, "siplab-cli serve: domain", SERVER_WAIT_MS))
        {
          wait_process (server, 2000);
          g_clear_object (&server);
          close (fds[0]);
        }
    }
  g_assert_nonnull (server);
  g_unix_set_fd_nonblocking (fds[0], TRUE, NULL);

  socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP,
                         &error);
  g_assert_no_error (error);
  g_assert_true (g_socket_bind (socket, any, FALSE, &error));
  server_addr = g_inet_socket_address_new (loopback, port);

  /* Far more trace than the pipe and the server's buffer hold.  On the old code the server
   * blocked in write(2) once the pipe was full, and stopped answering. */
  for (guint i = 0; i < FLOOD_REQUESTS; i += FLOOD_BATCH)
    {
      guint n = send_options_batch (socket, server_addr, i, FLOOD_BATCH, 10000);

      if (n == 0)
        g_error ("the server stopped answering after %u OPTIONS while its stdout is not read",
                 i);
      answered += n;
    }
  /* Loopback UDP loses almost nothing; most of the flood must have been answered. */
  g_assert_cmpuint (answered, >=, FLOOD_REQUESTS * 95 / 100);
  start = g_get_monotonic_time ();
  g_assert_cmpuint (send_options_batch (socket, server_addr, FLOOD_REQUESTS, 1, 5000), ==, 1);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 5 * G_USEC_PER_SEC);

  /* The reader comes back: the buffer drains and the gap is reported. */
  {
    gint64 deadline = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;

    while (strstr (out->str, "trace lines dropped") == NULL &&
           g_get_monotonic_time () < deadline)
      {
        drain_fd (fds[0], out);
        g_main_context_iteration (NULL, FALSE);
        g_usleep (10000);
      }
  }
  g_assert_nonnull (strstr (out->str, "trace lines dropped: the output is not being read"));
  g_subprocess_send_signal (server, SIGTERM);
  {
    gint64 deadline = g_get_monotonic_time () + SERVER_WAIT_MS * G_TIME_SPAN_MILLISECOND;

    while (drain_fd (fds[0], out) && g_get_monotonic_time () < deadline)
      g_usleep (10000);
  }
  g_assert_cmpint (wait_process (server, SERVER_WAIT_MS), ==, 0);
  close (fds[0]);
  g_assert_true (wait_for_text (err, "siplab-cli serve: stopped", 2000));
  g_assert_nonnull (strstr (err->str, "trace lines dropped in all"));

  /* Every line is a whole trace line (one time stamp, ending in a label) or the report. */
  g_assert_true (g_str_has_suffix (out->str, "\n"));
  whole = g_regex_new ("^(\\d\\d:\\d\\d:\\d\\d\\.\\d\\d\\d (127\\.0\\.0\\.1:\\d+/UDP -> registrar"
                       "|registrar -> 127\\.0\\.0\\.1:\\d+/UDP): "
                       "(OPTIONS \\(CSeq 1\\)|200 OK \\(CSeq 1 OPTIONS\\))"
                       "|siplab-cli: \\d+ trace lines dropped: the output is not being read)$",
                       0, 0, &error);
  g_assert_no_error (error);
  lines = g_strsplit (out->str, "\n", -1);
  for (guint i = 0; lines[i + 1] != NULL; i++)
    if (!g_regex_match (whole, lines[i], 0, NULL))
      g_error ("line %u is not a whole trace line: '%s'", i + 1, lines[i]);
  g_assert_cmpuint (g_strv_length (lines), >, 10);

  g_cancellable_cancel (cancel);
  for (guint i = 0; i < 10; i++)
    g_main_context_iteration (NULL, FALSE);
  remove_tree (dir);
}

/* ------------------------------------------------------------------------------------------ */
/* serve --config (app/siplab-cli-serve-config.h, siplab-serve.conf(5))                       */

/* The fixture's server as a configuration file: relative paths are the file's directory's. */
static char *
write_config (Fixture *f)
{
  g_autofree char *text = g_strdup_printf (
    "# The test's server, every option from the file.\n"
    "[server]\n"
    "listen = udp:127.0.0.1:%u; tcp:127.0.0.1:%u\n"
    "domain = " DOMAIN "\n"
    "users = users.txt\n"
    "database = lab.sqlite\n"
    "\n"
    "[auth]\n"
    "limit = 10\n"
    "[log]\n"
    "trace = jsonl\n", f->port, f->port);
  char *path = g_build_filename (f->dir, "serve.conf", NULL);

  g_assert_true (g_file_set_contents (path, text, -1, NULL));
  return path;
}

static void
config_fixture_setup (Fixture       *f,
                      gconstpointer  data)
{
  f->use_config = TRUE;
  fixture_setup (f, NULL);
}

static void
test_config_sipp_registers (Fixture       *f,
                            gconstpointer  data)
{
  g_autofree char *port = free_port ();
  const char *udp_args[] = { "-s", "alice", "-au", "alice", "-ap", "alicepw", "-auth_uri", DOMAIN,
                             "-p", port, "-m", "1", NULL };
  g_autofree char *db = g_build_filename (f->dir, "lab.sqlite", NULL);

  g_test_summary ("serve --config FILE and no other flag: the listeners, domain, users file "
                  "(relative to the file), database and trace format all come from the file, "
                  "and sipp registers, refreshes and unregisters.");

  g_assert_true (strstr (f->err->str, "domain " DOMAIN ", 42 users") != NULL);
  g_assert_true (g_file_test (db, G_FILE_TEST_IS_REGULAR));
  if (!have_sipp ())
    return;
  g_assert_cmpint (run_sipp (f, "register-refresh-unregister.xml", udp_args), ==, 0);
  g_assert_true (wait_for_text (f->out, "\"action\":\"removed\"", 2000));
  g_assert_cmpuint (count_text (f->out, "\"action\":\"added\",\"aor\""), ==, 1);
}

/* Runs `siplab-cli serve ARGS...` to its end (bounded); its exit status, stderr in @err. */
static int
run_serve_sync (const char * const *args,
                char              **err)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  /* Not run by systemd: the ${CREDENTIALS_DIRECTORY} case must find it unset. */
  g_auto(GStrv) env = g_environ_unsetenv (g_get_environ (), "CREDENTIALS_DIRECTORY");
  int status = -1;

  g_ptr_array_add (argv, (gpointer) cli_path ());
  g_ptr_array_add (argv, (gpointer) "serve");
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);
  g_spawn_sync (NULL, (char **) argv->pdata, env, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL,
                err, &status, &error);
  g_assert_no_error (error);
  return g_spawn_check_wait_status (status, NULL) ? 0 :
         WIFEXITED (status) ? WEXITSTATUS (status) : -1;
}

static void
test_config_wrong_line (void)
{
  /* Each file is wrong on exactly one line: the error names it. */
  static const struct {
    const char *text;
    guint line;
    const char *what;
  } cases[] = {
    { "[server]\ndomain = lab.example\nlisten = udp:127.0.0.1:0\ndomian = x\n", 4,
      "unknown key 'domian' in [server]" },
    { "# comment\n[sever]\ndomain = lab.example\n", 2, "unknown group [sever]" },
    { "domain = lab.example\n", 1, "comes before any [group]" },
    { "[server]\nlisten = udp:127.0.0.1:0\n\nthis is not a key\n", 4, "is not a key = value" },
    { "[server]\nlisten = udp:127.0.0.1:0\n[auth]\nwindow = soon\n", 4,
      "window takes a number of seconds, not 'soon'" },
    { "[server]\nlisten = udp:127.0.0.1:0;carrier-pigeon:x:1\n", 2, "listen: " },
    { "[server]\nrelay = maybe\n", 2, "relay takes true or false" },
    { "[server]\ndomain = a\n[log]\ntrace = pretty\n", 4, "trace is ladder, jsonl or none" },
    { "[server]\ndomain = a\ndomain = b\n", 3, "domain is set twice in [server] (first on "
      "line 2)" },
    { "[tcp]\nmax-connections = -1\n", 2, "max-connections takes a whole number" },
    { "[server]\nusers = ${CREDENTIALS_DIRECTORY}/users\n", 2, "$CREDENTIALS_DIRECTORY" },
    { "[server]\nlisten = udp:127.0.0.1:0\n\ndomain = lab.example # the lab\n", 4,
      "a comment goes on a line of its own" },
  };
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("siplab-config-XXXXXX", &error);
  g_autofree char *path = g_build_filename (dir, "serve.conf", NULL);

  g_test_summary ("A wrong configuration file stops serve with exit status 2 and "
                  "'FILE:LINE: what is wrong', for unknown keys and groups (typos), lines that "
                  "are no key, bad values and keys set twice.");

  g_assert_no_error (error);
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *err = NULL;
      g_autofree char *prefix = g_strdup_printf ("%s:%u: ", path, cases[i].line);
      const char *args[] = { "--config", path, NULL };

      g_assert_true (g_file_set_contents (path, cases[i].text, -1, NULL));
      g_assert_cmpint (run_serve_sync (args, &err), ==, 2);
      if (!g_str_has_prefix (err, prefix) || strstr (err, cases[i].what) == NULL)
        g_error ("case %u: expected '%s...%s', got '%s'", i, prefix, cases[i].what, err);
    }
  g_unlink (path);
  g_rmdir (dir);
}

/* Starts serve with @args until its "domain ..." line; returns the process, stderr in @err. */
static GSubprocess *
start_serve_async (const char * const *args,
                   GString            *err,
                   GCancellable       *cancel)
{
  g_autoptr(GSubprocessLauncher) launcher =
    g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  GSubprocess *process;

  g_ptr_array_add (argv, (gpointer) cli_path ());
  g_ptr_array_add (argv, (gpointer) "serve");
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);
  g_subprocess_launcher_set_child_setup (launcher, child_setup, NULL, NULL);
  process = g_subprocess_launcher_spawnv (launcher, (const char * const *) argv->pdata, &error);
  g_assert_no_error (error);
  reader_start (g_subprocess_get_stderr_pipe (process), err, NULL, cancel);
  g_assert_true (wait_for_text (err, "siplab-cli serve: domain", SERVER_WAIT_MS));
  return process;
}

static void
stop_serve_async (GSubprocess  *process,
                  GCancellable *cancel)
{
  g_subprocess_send_signal (process, SIGTERM);
  g_assert_cmpint (wait_process (process, SERVER_WAIT_MS), ==, 0);
  g_cancellable_cancel (cancel);
  for (guint i = 0; i < 10; i++)
    g_main_context_iteration (NULL, FALSE);
}

static void
test_config_flags_override (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("siplab-config-XXXXXX", &error);
  g_autofree char *path = g_build_filename (dir, "serve.conf", NULL);
  g_autofree char *users = g_build_filename (dir, "users.txt", NULL);
  g_autoptr(GCancellable) cancel = g_cancellable_new ();
  g_autoptr(GString) err = g_string_new (NULL);
  g_autoptr(GSubprocess) server = NULL;
  /* 192.0.2.1 (TEST-NET-1) is no address of this machine: listening there would fail. */
  const char *args[] = { "--config", path, "--domain", "flag.example", "--listen",
                         "udp:127.0.0.1:0", NULL };

  g_test_summary ("A flag overrides its key: --domain wins over the file's domain, and a "
                  "--listen replaces every listener of the file.");

  g_assert_no_error (error);
  g_assert_true (g_file_set_contents (users, "alice:alicepw-long\n", -1, NULL));
  g_assert_true (g_file_set_contents (path,
                                      "[server]\n"
                                      "listen = udp:192.0.2.1:5060\n"
                                      "domain = file.example\n"
                                      "users = users.txt\n", -1, NULL));
  server = start_serve_async (args, err, cancel);
  g_assert_nonnull (strstr (err->str, "domain flag.example, 1 users"));
  g_assert_null (strstr (err->str, "192.0.2.1"));
  stop_serve_async (server, cancel);
  remove_tree (dir);
}

/* Waits up to @ms for @needle in the file @path; its text. */
static char *
wait_for_file_text (const char *path,
                    const char *needle,
                    guint       ms)
{
  gint64 deadline = g_get_monotonic_time () + ms * G_TIME_SPAN_MILLISECOND;
  char *text = NULL;

  for (;;)
    {
      g_clear_pointer (&text, g_free);
      g_file_get_contents (path, &text, NULL, NULL);
      if ((text != NULL && strstr (text, needle) != NULL) || g_get_monotonic_time () > deadline)
        return text;
      g_usleep (50 * 1000);
    }
}

static void
test_config_shipped_sample (void)
{
  g_autofree char *sample = g_test_build_filename (G_TEST_DIST, "..", "data", "serve.conf",
                                                   NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("siplab-config-XXXXXX", &error);
  g_autofree char *users = g_build_filename (dir, "users.txt", NULL);
  g_autofree char *db = g_build_filename (dir, "lab.sqlite", NULL);
  g_autofree char *log = g_build_filename (dir, "journal.log", NULL);
  g_autofree char *journal = NULL;
  g_autofree char *text = NULL;
  g_autoptr(GSubprocessLauncher) launcher =
    g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
  g_autoptr(GSubprocess) server = NULL;
  struct stat st;

  g_test_summary ("The sample /etc/siplab/serve.conf of the package is valid: serve starts "
                  "with it (the machine's paths and port overridden by flags), and with "
                  "$JOURNAL_STREAM naming its stderr every status line starts with its "
                  "sd-daemon priority: <6> for information, <4> for a warning (bob's weak "
                  "password); a reload (SIGHUP, ExecReload=) says what it read, and a broken "
                  "users file is a warning that keeps the users loaded before.");

  g_assert_no_error (error);
  g_assert_true (g_file_set_contents (users, "alice:alicepw-long\nbob:123456\n", -1, NULL));
  /* systemd names the stream it gives as stderr by device and inode: here, a file. */
  g_assert_true (g_file_set_contents (log, "", -1, NULL));
  g_assert_cmpint (g_stat (log, &st), ==, 0);
  journal = g_strdup_printf ("%" G_GUINT64_FORMAT ":%" G_GUINT64_FORMAT, (guint64) st.st_dev,
                             (guint64) st.st_ino);
  g_subprocess_launcher_setenv (launcher, "JOURNAL_STREAM", journal, TRUE);
  g_subprocess_launcher_set_stderr_file_path (launcher, log);
  g_subprocess_launcher_set_child_setup (launcher, child_setup, NULL, NULL);
  server = g_subprocess_launcher_spawn (launcher, &error, cli_path (), "serve", "--config", sample,
                                        "--listen", "udp:127.0.0.1:0", "--users", users, "--db",
                                        db, NULL);
  g_assert_no_error (error);
  text = wait_for_file_text (log, "serve: domain", SERVER_WAIT_MS);
  g_assert_nonnull (text);
  g_assert_nonnull (strstr (text, "<6>siplab-cli serve: domain lab.example, 2 users"));
  g_assert_nonnull (strstr (text, "<4>siplab-cli serve: warning: "));
  g_assert_nonnull (strstr (text, "<6>siplab-cli serve: listening on udp:127.0.0.1:"));

  /* systemctl reload: SIGHUP, and the journal hears what came of it. */
  g_assert_true (g_file_set_contents (users, "alice:alicepw-long\nbob:123456\n"
                                      "carol:carolpw-long\n", -1, NULL));
  g_subprocess_send_signal (server, SIGHUP);
  g_free (text);
  text = wait_for_file_text (log, "re-read", SERVER_WAIT_MS);
  g_assert_nonnull (strstr (text, "<6>siplab-cli serve: users file re-read: 3 users"));
  g_assert_true (g_file_set_contents (users, "alice:alicepw-long\nno password here\n", -1, NULL));
  g_subprocess_send_signal (server, SIGHUP);
  g_free (text);
  text = wait_for_file_text (log, "not reloaded", SERVER_WAIT_MS);
  g_assert_nonnull (strstr (text, "<4>siplab-cli serve: warning: users file not reloaded, keeping "
                                  "the 3 users loaded before: "));
  g_subprocess_send_signal (server, SIGTERM);
  g_assert_cmpint (wait_process (server, SERVER_WAIT_MS), ==, 0);
  remove_tree (dir);
}

#define KILL_ROUNDS 20

/* The highest CSeq stored for each user ("user7" -> cseq) in the database of @f. */
static GHashTable *
stored_cseqs (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SimStore) store = sim_store_open (f->db, &error);
  g_autoptr(GPtrArray) bindings = NULL;
  GHashTable *cseqs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  g_assert_no_error (error);
  bindings = sim_store_load_bindings (store, g_get_real_time (), 0, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < bindings->len; i++)
    {
      SimBinding *binding = bindings->pdata[i];
      const char *at = strchr (binding->aor, '@');
      char *user = g_strndup (binding->aor + 4, at - binding->aor - 4);
      g_hash_table_replace (cseqs, user, GUINT_TO_POINTER (binding->cseq));
    }
  return cseqs;
}

static void
test_kill_in_burst (Fixture       *f,
                    gconstpointer  data)
{
  g_autofree char *script = g_test_build_filename (G_TEST_DIST, "burst-register.py", NULL);
  guint total = 0;

  g_test_summary ("Group commit: a python client keeps 40 registrations in flight over UDP, "
                  "and the server is killed with SIGKILL in the middle of the burst, 20 times; "
                  "every REGISTER the client saw acknowledged with 200 OK is in the database.");

  /* Restarted servers print no trace: the client, not a pipe, should set the pace. */
  f->format = "none";
  for (guint round = 0; round < KILL_ROUNDS; round++)
    {
      g_autoptr(GSubprocessLauncher) launcher =
        g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
      g_autoptr(GSubprocess) client = NULL;
      g_autoptr(GError) error = NULL;
      g_autoptr(GString) acks = g_string_new (NULL);
      g_autoptr(GHashTable) cseqs = NULL;
      g_autofree char *port = g_strdup_printf ("%u", f->port);
      g_autofree char *users = g_strdup_printf ("%u", N_BURST);
      g_autofree char *first = g_strdup_printf ("%u", (round + 1) * 1000000);
      g_auto(GStrv) lines = NULL;
      gboolean done = FALSE;
      guint want = g_test_rand_int_range (20, 400);

      g_subprocess_launcher_set_child_setup (launcher, child_setup, NULL, NULL);
      client = g_subprocess_launcher_spawn (launcher, &error, "python3", script, "127.0.0.1",
                                            port, DOMAIN, users, first, NULL);
      g_assert_no_error (error);
      reader_start (g_subprocess_get_stdout_pipe (client), acks, &done, f->cancel);
      if (!wait_for_count (acks, "ok ", want, SIPP_WAIT_MS))
        g_error ("round %u: %u of %u registrations acknowledged; the server said:\n%s", round,
                 count_text (acks, "ok "), want, f->err->str);
      /* In the middle of the burst: 40 registrations are in flight. */
      stop_server (f, SIGKILL);
      /* The client reads what was sent before the kill, then goes. */
      {
        gboolean slept = FALSE;
        g_timeout_add (300, timeout_cb, &slept);
        while (!slept)
          g_main_context_iteration (NULL, TRUE);
      }
      g_subprocess_force_exit (client);
      wait_process (client, SERVER_WAIT_MS);
      while (!done)
        g_main_context_iteration (NULL, TRUE);

      cseqs = stored_cseqs (f);
      lines = g_strsplit (acks->str, "\n", -1);
      for (guint i = 0; lines[i] != NULL && lines[i][0] != '\0'; i++)
        {
          g_auto(GStrv) words = g_strsplit (lines[i], " ", 3);
          guint64 acked = g_ascii_strtoull (words[2], NULL, 10);
          gpointer stored;

          if (!g_hash_table_lookup_extended (cseqs, words[1], NULL, &stored))
            g_error ("round %u: %s was acknowledged (CSeq %" G_GUINT64_FORMAT ") but is not "
                     "in the database", round, words[1], acked);
          if (GPOINTER_TO_UINT (stored) < acked)
            g_error ("round %u: %s was acknowledged with CSeq %" G_GUINT64_FORMAT " but the "
                     "database has CSeq %u", round, words[1], acked, GPOINTER_TO_UINT (stored));
          total++;
        }
      g_assert_true (start_server (f));
    }
  g_test_message ("%u acknowledged registrations checked over %u kills", total, KILL_ROUNDS);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  /* A closed pipe to a dead child must not kill the test. */
  signal (SIGPIPE, SIG_IGN);

  g_test_add ("/net/serve/sipp-registers-refreshes-and-unregisters", Fixture, NULL,
              fixture_setup, test_register_refresh_unregister, fixture_teardown);
  g_test_add ("/net/serve/format-none-serves-silently", Fixture, NULL,
              fixture_setup, test_format_none_serves_silently, fixture_teardown);
  g_test_add ("/net/serve/baresip-phones-register-and-call", Fixture, NULL,
              fixture_setup, test_baresip_phones_register_and_call, fixture_teardown);
  g_test_add ("/net/serve/baresip-udp-calls-tcp-and-the-callee-hangs-up", Fixture, NULL,
              fixture_setup, test_baresip_udp_calls_tcp_and_callee_hangs_up, fixture_teardown);
  g_test_add ("/net/serve/sipp-call-is-routed-to-the-registered-sipp", Fixture, NULL,
              fixture_setup, test_call_through_proxy, fixture_teardown);
  g_test_add ("/net/serve/kill-9-loses-no-acknowledged-binding", Fixture, NULL,
              fixture_setup, test_kill_loses_no_binding, fixture_teardown);
  g_test_add ("/net/serve/kill-9-in-a-burst-loses-no-acknowledged-binding", Fixture, NULL,
              fixture_setup, test_kill_in_burst, fixture_teardown);
  g_test_add ("/net/serve/mixed/sipp-calls-a-simulated-phone", Fixture, mixed_answer,
              fixture_setup, test_mixed_sipp_calls_simulated_phone, fixture_teardown);
  g_test_add ("/net/serve/mixed/simulated-phone-calls-sipp", Fixture, mixed_call,
              fixture_setup, test_mixed_simulated_phone_calls_sipp, fixture_teardown);
  g_test_add_func ("/net/serve/unread-stdout-does-not-stop-sip",
                   test_unread_stdout_does_not_stop_sip);
  g_test_add ("/net/serve/config/sipp-registers-with-serve-config-alone", Fixture, NULL,
              config_fixture_setup, test_config_sipp_registers, fixture_teardown);
  g_test_add_func ("/net/serve/config/a-wrong-line-is-named-by-file-and-line",
                   test_config_wrong_line);
  g_test_add_func ("/net/serve/config/flags-override-the-file",
                   test_config_flags_override);
  g_test_add_func ("/net/serve/config/the-shipped-sample-serves-with-journal-priorities",
                   test_config_shipped_sample);
  return g_test_run ();
}
