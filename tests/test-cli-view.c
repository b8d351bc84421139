/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/wait.h>
#include <string.h>
#include <sys/prctl.h>

/*
 * `siplab-cli view` on real traffic: dumpcap records the loopback interface while sipp
 * registers with digest to `siplab-cli serve` (alice with her password, bob with a wrong one),
 * and then view must list every SIP message tshark finds in the capture, in the same order,
 * with the right verdict on every Authorization.  Skipped, with the reason, only when dumpcap,
 * tshark or sipp is missing or capturing on loopback is not permitted.  Every process has a
 * bounded lifetime.
 */

#define DOMAIN "lab.example"
#define WAIT_MS 15000

typedef struct {
  char *dir;
  char *users;
  char *capture;
  guint16 port;
} Fixture;

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

static GSubprocess *
spawn_logged (Fixture            *f,
              const char         *log_name,
              const char * const *argv)
{
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
  g_autofree char *log = g_build_filename (f->dir, log_name, NULL);
  g_autoptr(GError) error = NULL;
  GSubprocess *process;

  g_subprocess_launcher_set_stdout_file_path (launcher, log);
  g_subprocess_launcher_set_stderr_file_path (launcher, log);
  g_subprocess_launcher_set_cwd (launcher, f->dir);
  g_subprocess_launcher_set_child_setup (launcher, child_setup, NULL, NULL);
  process = g_subprocess_launcher_spawnv (launcher, argv, &error);
  g_assert_no_error (error);
  return process;
}

/* Polls @log_name for @text on the wall clock; the machine may be loaded, so generously. */
static gboolean
wait_for_log (Fixture     *f,
              const char  *log_name,
              const char  *text,
              GSubprocess *process)
{
  g_autofree char *log = g_build_filename (f->dir, log_name, NULL);
  gint64 deadline = g_get_monotonic_time () + WAIT_MS * 1000;

  while (g_get_monotonic_time () < deadline)
    {
      g_autofree char *contents = NULL;

      if (g_file_get_contents (log, &contents, NULL, NULL) && strstr (contents, text) != NULL)
        return TRUE;
      if (g_subprocess_get_identifier (process) == NULL)
        return FALSE;   /* it exited */
      g_usleep (50 * 1000);
    }
  return FALSE;
}

static void
stop (GSubprocess *process)
{
  g_subprocess_send_signal (process, SIGTERM);
  g_subprocess_wait (process, NULL, NULL);
}

static void
run_sipp (Fixture    *f,
          const char *user,
          const char *password,
          const char *transport)
{
  g_autofree char *csv = g_strdup_printf ("%s/%s-%s.csv", f->dir, user, transport);
  g_autofree char *text = g_strdup_printf ("SEQUENTIAL\n%s;[authentication username=%s "
                                           "password=%s];\n", user, user, password);
  g_autofree char *scenario = g_test_build_filename (G_TEST_DIST, "sipp", "register.xml", NULL);
  g_autofree char *server = g_strdup_printf ("127.0.0.1:%u", f->port);
  g_autofree char *local = g_strdup_printf ("%d", g_random_int_range (20000, 60000));
  g_autofree char *log = g_strdup_printf ("sipp-%s-%s.log", user, transport);
  const char *argv[] = { "sipp", "-sf", scenario, "-inf", csv, "-auth_uri", DOMAIN,
                         "-key", "domain", DOMAIN, "-key", "expires", "600", "-i", "127.0.0.1",
                         "-p", local, "-m", "1", "-nostdin", "-timeout", "10", "-timeout_error",
                         "-t", transport, server, NULL };
  g_autoptr(GSubprocess) sipp = NULL;

  g_assert_true (g_file_set_contents (csv, text, -1, NULL));
  sipp = spawn_logged (f, log, argv);
  /* bob's wrong password ends his run with a failure: only the messages matter here. */
  g_subprocess_wait (sipp, NULL, NULL);
}

/* tshark's list of the SIP start lines in the capture, in capture order. */
static GPtrArray *
tshark_first_lines (Fixture *f)
{
  g_autofree char *decode = g_strdup_printf ("udp.port==%u,sip", f->port);
  g_autofree char *decode_tcp = g_strdup_printf ("tcp.port==%u,sip", f->port);
  const char *argv[] = { "tshark", "-r", f->capture, "-d", decode, "-d", decode_tcp, "-Y", "sip",
                         "-T", "fields",
                         "-e", "sip.Request-Line", "-e", "sip.Status-Line", NULL };
  g_autoptr(GSubprocess) tshark = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;
  g_auto(GStrv) lines = NULL;
  GPtrArray *result = g_ptr_array_new_with_free_func (g_free);

  tshark = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                              G_SUBPROCESS_FLAGS_STDERR_SILENCE, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (tshark, NULL, NULL, &out, NULL, &error);
  g_assert_no_error (error);
  lines = g_strsplit (out, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      char *line = g_strstrip (lines[i]);

      if (*line != '\0')
        g_ptr_array_add (result, g_strdup (line));
    }
  return result;
}

static gboolean
have (const char *program)
{
  g_autofree char *path = g_find_program_in_path (program);

  if (path == NULL)
    {
      g_autofree char *why = g_strdup_printf ("%s is not installed", program);
      g_test_skip (why);
    }
  return path != NULL;
}

/* Records loopback while alice and bob register; FALSE (skipped) if capturing is impossible. */
static gboolean
record (Fixture *f)
{
  g_autofree char *filter = NULL;
  g_autofree char *udp = NULL;
  g_autofree char *tcp = NULL;
  g_autoptr(GSubprocess) dumpcap = NULL;
  g_autoptr(GSubprocess) serve = NULL;

  for (guint attempt = 0; attempt < 5 && serve == NULL; attempt++)
    {
      const char *argv[] = { cli_path (), "serve", "--listen", NULL, "--listen", NULL,
                             "--domain", DOMAIN, "--users", f->users, "--format", "jsonl", NULL };

      f->port = g_random_int_range (20000, 60000);
      g_free (udp);
      udp = g_strdup_printf ("udp:127.0.0.1:%u", f->port);
      g_free (tcp);
      tcp = g_strdup_printf ("tcp:127.0.0.1:%u", f->port);
      argv[3] = udp;
      argv[5] = tcp;
      serve = spawn_logged (f, "serve.log", argv);
      if (!wait_for_log (f, "serve.log", "siplab-cli serve: domain", serve))
        {
          stop (serve);
          g_clear_object (&serve);
        }
    }
  g_assert_nonnull (serve);

  filter = g_strdup_printf ("port %u", f->port);
  {
    const char *argv[] = { "dumpcap", "-i", "lo", "-f", filter, "-w", f->capture, NULL };

    dumpcap = spawn_logged (f, "dumpcap.log", argv);
  }
  if (!wait_for_log (f, "dumpcap.log", "Capturing on", dumpcap))
    {
      g_autofree char *log = NULL;
      g_autofree char *path = g_build_filename (f->dir, "dumpcap.log", NULL);

      g_file_get_contents (path, &log, NULL, NULL);
      stop (dumpcap);
      stop (serve);
      {
      g_autofree char *why = g_strdup_printf ("capturing on loopback is impossible here: %s",
                                              log ? log : "");

      g_test_skip (why);
      }
      return FALSE;
    }

  run_sipp (f, "alice", "alicepw", "u1");
  run_sipp (f, "bob", "not-bobs-password", "u1");
  /* Over TCP the capture reader reassembles the streams: the same verdicts must come out. */
  run_sipp (f, "alice", "alicepw", "t1");
  run_sipp (f, "bob", "not-bobs-password", "t1");

  /* dumpcap writes what it has when it is told to stop; give the last packets a moment. */
  g_usleep (500 * 1000);
  stop (dumpcap);
  stop (serve);
  return TRUE;
}

static void
test_real_capture (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(GPtrArray) expected = NULL;
  g_autoptr(GPtrArray) listed = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) verdicts = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_auto(GStrv) lines = NULL;
  int status = -1;

  g_test_summary ("dumpcap records sipp registering with digest to serve; view lists every SIP "
                  "message tshark finds, in order, with a verdict on each Authorization");

  if (!have ("dumpcap") || !have ("tshark") || !have ("sipp"))
    return;
  if (!record (f))
    return;

  {
    const char *argv[] = { cli_path (), "view", f->capture, "--users", f->users, "--format",
                           "jsonl", NULL };

    g_spawn_sync (f->dir, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err,
                  &status, &error);
    g_assert_no_error (error);
  }
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  g_assert_cmpstr (err, ==, "");

  lines = g_strsplit (out, "\n", -1);
  for (guint i = 0; lines[i] != NULL && *lines[i] != '\0'; i++)
    {
      g_autoptr(JsonParser) parser = json_parser_new ();
      JsonObject *object;
      const char *type, *action;

      g_assert_true (json_parser_load_from_data (parser, lines[i], -1, NULL));
      object = json_node_get_object (json_parser_get_root (parser));
      type = json_object_get_string_member (object, "type");
      action = json_object_get_string_member (object, "action");
      if (g_strcmp0 (type, "packet") == 0 && g_strcmp0 (action, "delivered") != 0)
        g_ptr_array_add (listed, g_strdup (json_object_get_string_member (object, "first_line")));
      else if (g_strcmp0 (type, "nonce") == 0 && g_strcmp0 (action, "issued") != 0)
        {
          const char *user = json_object_get_string_member (object, "user");
          const char *verdict = json_object_get_string_member (object, "text");

          g_ptr_array_add (verdicts, g_strdup_printf ("%s %s", user, verdict));
        }
    }

  expected = tshark_first_lines (f);
  g_test_message ("tshark: %u SIP messages, view: %u, %u verdicts", expected->len, listed->len,
                  verdicts->len);
  /* alice: REGISTER, 401, REGISTER, 200; bob: REGISTER, 401, REGISTER, 401 at least; twice. */
  g_assert_cmpuint (expected->len, >=, 16);
  g_assert_cmpuint (listed->len, ==, expected->len);
  for (guint i = 0; i < expected->len; i++)
    g_assert_cmpstr (listed->pdata[i], ==, expected->pdata[i]);

  g_assert_nonnull (strstr (out, "\"transport\":\"TCP\""));
  g_assert_cmpuint (verdicts->len, ==, 4);
  g_assert_cmpstr (verdicts->pdata[0], ==, "alice correct");
  g_assert_cmpstr (verdicts->pdata[1], ==, "bob wrong-password");
  g_assert_cmpstr (verdicts->pdata[2], ==, "alice correct");
  g_assert_cmpstr (verdicts->pdata[3], ==, "bob wrong-password");
}


/* Runs `siplab-cli view` with the NULL-terminated arguments after the file. */
static int
view (Fixture     *f,
      const char  *file,
      char       **out,
      char       **err,
      ...)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  const char *arg;
  va_list args;
  int status = -1;

  g_ptr_array_add (argv, (gpointer) cli_path ());
  g_ptr_array_add (argv, (gpointer) "view");
  g_ptr_array_add (argv, (gpointer) file);
  va_start (args, err);
  while ((arg = va_arg (args, const char *)) != NULL)
    g_ptr_array_add (argv, (gpointer) arg);
  va_end (args);
  g_ptr_array_add (argv, NULL);
  g_spawn_sync (f->dir, (char **) argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL, out, err,
                &status, &error);
  g_assert_no_error (error);
  return WIFEXITED (status) ? WEXITSTATUS (status) : -1;
}

/* A capture of the simulator's replay-attack scenario, written by `siplab-cli run --pcap`. */
static void
simulated_capture (Fixture *f)
{
  g_autofree char *scenario = g_build_filename (g_getenv ("SIPLAB_SOURCE_DIR"), "data",
                                                "scenarios", "07-replay-attack.scn", NULL);
  const char *argv[] = { cli_path (), "run", scenario, "--pcap", f->capture, NULL };
  g_autoptr(GError) error = NULL;
  int status = -1;

  g_spawn_sync (f->dir, (char **) argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL,
                NULL, &status, &error);
  g_assert_no_error (error);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  g_assert_true (g_file_set_contents (f->users, "alice:secret123\n", -1, NULL));
}

static guint
count (const char *haystack,
       const char *needle)
{
  guint n = 0;

  for (const char *p = strstr (haystack, needle); p != NULL; p = strstr (p + 1, needle))
    n++;
  return n;
}

static void
test_formats (Fixture       *f,
              gconstpointer  data)
{
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;

  g_test_summary ("The three formats show every message and every verdict of a capture");

  if (g_getenv ("SIPLAB_SOURCE_DIR") == NULL)
    {
      g_test_skip ("SIPLAB_SOURCE_DIR is not set (meson test sets it)");
      return;
    }
  simulated_capture (f);

  g_assert_cmpint (view (f, f->capture, &out, &err, "--users", f->users, NULL), ==, 0);
  g_assert_cmpstr (err, ==, "");
  g_assert_nonnull (strstr (out, "alice (SIP Lab phone)"));
  g_assert_cmpuint (count (out, "+ nonce accepted"), ==, 1);
  g_assert_cmpuint (count (out, "replayed nonce"), ==, 3);
  g_assert_nonnull (strstr (out, "+ binding added: sip:alice@lab.example"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  g_assert_cmpint (view (f, f->capture, &out, &err, "--users", f->users, "--format", "messages",
                         NULL), ==, 0);
  g_assert_cmpuint (count (out, "\n=== "), ==, 10);
  g_assert_cmpuint (count (out, "+ nonce rejected"), ==, 3);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  g_assert_cmpint (view (f, f->capture, &out, &err, "--users", f->users, "--format", "jsonl",
                         NULL), ==, 0);
  g_assert_cmpuint (count (out, "\"type\":\"packet\",\"action\":\"sent\""), ==, 10);
  g_assert_cmpuint (count (out, "\"text\":\"replayed\""), ==, 3);
  g_assert_false (g_str_has_prefix (out, "#"));
}

static void
test_filter (Fixture       *f,
             gconstpointer  data)
{
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;

  g_test_summary ("--filter keeps the messages (and their verdicts) of one method, AOR or call");

  if (g_getenv ("SIPLAB_SOURCE_DIR") == NULL)
    {
      g_test_skip ("SIPLAB_SOURCE_DIR is not set (meson test sets it)");
      return;
    }
  simulated_capture (f);

  g_assert_cmpint (view (f, f->capture, &out, &err, "--format", "jsonl", "--filter",
                         "method=INVITE", NULL), ==, 0);
  g_assert_cmpstr (out, ==, "");
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (view (f, f->capture, &out, &err, "--format", "jsonl", "--filter",
                         "aor=alice@lab.example", NULL), ==, 0);
  g_assert_cmpuint (count (out, "\"action\":\"sent\""), ==, 10);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  /* The attacker's own REGISTER has a Call-ID of its own: its two messages alone. */
  g_assert_cmpint (view (f, f->capture, &out, &err, "--format", "jsonl", "--filter",
                         "call-id=3i6rvbgq6s0c", NULL), ==, 0);
  g_assert_cmpuint (count (out, "\"action\":\"sent\""), ==, 2);
  g_assert_cmpuint (count (out, "\"call_id\":\"3i6rvbgq6s0c\""), ==, 4);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (view (f, f->capture, &out, &err, "--filter", "colour=blue", NULL), ==, 2);
  g_assert_nonnull (strstr (err, "unknown filter"));
}

static void
test_retransmissions (Fixture       *f,
                      gconstpointer  data)
{
  g_autofree char *source = g_build_filename (g_getenv ("SIPLAB_SOURCE_DIR") ?: ".", "data",
                                              "scenarios", "03-register-digest.scn", NULL);
  g_autofree char *scenario = g_build_filename (f->dir, "lossy.scn", NULL);
  g_autofree char *text = NULL;
  g_autofree char *sim_out = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(GString) lossy = NULL;
  g_autoptr(GError) error = NULL;
  int status = -1;
  guint sim_retx;

  g_test_summary ("On a lossy link the simulator's retransmissions are all found in its capture, "
                  "each named Timer E on its own schedule");

  if (g_getenv ("SIPLAB_SOURCE_DIR") == NULL)
    {
      g_test_skip ("SIPLAB_SOURCE_DIR is not set (meson test sets it)");
      return;
    }
  g_assert_true (g_file_get_contents (source, &text, NULL, NULL));
  lossy = g_string_new (text);
  g_assert_cmpuint (g_string_replace (lossy, "loss 0%", "loss 60%", 1), ==, 1);
  g_assert_true (g_file_set_contents (scenario, lossy->str, -1, NULL));
  {
    const char *argv[] = { cli_path (), "run", scenario, "--format", "jsonl", "--pcap",
                           f->capture, NULL };

    g_spawn_sync (f->dir, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &sim_out, NULL,
                  &status, &error);
    g_assert_no_error (error);
    g_assert_true (g_spawn_check_wait_status (status, NULL));
  }
  sim_retx = count (sim_out, "\"action\":\"retransmitted\"");
  g_assert_cmpuint (sim_retx, >, 0);

  g_assert_cmpint (view (f, f->capture, &out, &err, NULL), ==, 0);
  /* The simulator counts its timers' copies; a response the server sends again because the
   * request came again is a new send to it, but the same message again to an observer. */
  g_assert_cmpuint (count (out, "REGISTER (CSeq 1) (retx)") +
                    count (out, "REGISTER (CSeq 2) (retx)"), ==, sim_retx);
  g_assert_cmpuint (count (out, "(retx)"), >=, sim_retx);
  g_assert_cmpuint (count (out, "Timer E"), >, 0);
  g_assert_null (strstr (out, "not the schedule"));
}

static void
test_bad_files (Fixture       *f,
                gconstpointer  data)
{
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *contents = NULL;
  g_autofree char *truncated = g_build_filename (f->dir, "truncated.pcapng", NULL);
  g_autofree char *missing = g_build_filename (f->dir, "missing.pcapng", NULL);
  g_autofree char *expected = NULL;
  gsize len;

  g_test_summary ("A truncated capture: its last packet is reported as FILE: packet N and the "
                  "rest shown, exit 0; a file that cannot be read: exit 1");

  if (g_getenv ("SIPLAB_SOURCE_DIR") == NULL)
    {
      g_test_skip ("SIPLAB_SOURCE_DIR is not set (meson test sets it)");
      return;
    }
  simulated_capture (f);
  g_assert_true (g_file_get_contents (f->capture, &contents, &len, NULL));
  g_assert_true (g_file_set_contents (truncated, contents, len - 100, NULL));

  g_assert_cmpint (view (f, truncated, &out, &err, "--format", "jsonl", NULL), ==, 0);
  expected = g_strdup_printf ("%s: packet 10: ", truncated);
  g_assert_true (g_str_has_prefix (err, expected));
  g_assert_cmpuint (count (out, "\"action\":\"sent\""), ==, 9);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  g_assert_cmpint (view (f, missing, &out, &err, NULL), ==, 1);
  g_assert_nonnull (strstr (err, "missing.pcapng"));
}

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  f->dir = g_dir_make_tmp ("siplab-view-XXXXXX", &error);
  g_assert_no_error (error);
  f->users = g_build_filename (f->dir, "users.txt", NULL);
  f->capture = g_build_filename (f->dir, "register.pcapng", NULL);
  g_assert_true (g_file_set_contents (f->users, "alice:alicepw\nbob:bobpw\n", -1, NULL));
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(GDir) dir = g_dir_open (f->dir, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (f->dir, name, NULL);
      g_unlink (path);
    }
  g_rmdir (f->dir);
  g_free (f->dir);
  g_free (f->users);
  g_free (f->capture);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/cli/view/real-capture-of-sipp-and-serve-listed-with-verdicts", Fixture, NULL,
              fixture_set_up, test_real_capture, fixture_tear_down);
  g_test_add ("/cli/view/three-formats-show-messages-and-verdicts", Fixture, NULL,
              fixture_set_up, test_formats, fixture_tear_down);
  g_test_add ("/cli/view/filter-by-method-aor-call-id", Fixture, NULL,
              fixture_set_up, test_filter, fixture_tear_down);
  g_test_add ("/cli/view/simulated-retransmissions-are-found-with-their-timer", Fixture, NULL,
              fixture_set_up, test_retransmissions, fixture_tear_down);
  g_test_add ("/cli/view/truncated-and-missing-files", Fixture, NULL,
              fixture_set_up, test_bad_files, fixture_tear_down);
  return g_test_run ();
}
