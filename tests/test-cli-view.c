/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <signal.h>
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
          guint       n)
{
  g_autofree char *csv = g_strdup_printf ("%s/%s.csv", f->dir, user);
  g_autofree char *text = g_strdup_printf ("SEQUENTIAL\n%s;[authentication username=%s "
                                           "password=%s];\n", user, user, password);
  g_autofree char *scenario = g_test_build_filename (G_TEST_DIST, "sipp", "register.xml", NULL);
  g_autofree char *server = g_strdup_printf ("127.0.0.1:%u", f->port);
  g_autofree char *local = g_strdup_printf ("%d", g_random_int_range (20000, 60000));
  g_autofree char *log = g_strdup_printf ("sipp-%s.log", user);
  const char *argv[] = { "sipp", "-sf", scenario, "-inf", csv, "-auth_uri", DOMAIN,
                         "-key", "domain", DOMAIN, "-key", "expires", "600", "-i", "127.0.0.1",
                         "-p", local, "-m", "1", "-nostdin", "-timeout", "10", "-timeout_error",
                         server, NULL };
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
  const char *argv[] = { "tshark", "-r", f->capture, "-d", decode, "-Y", "sip", "-T", "fields",
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
  g_autoptr(GSubprocess) dumpcap = NULL;
  g_autoptr(GSubprocess) serve = NULL;

  for (guint attempt = 0; attempt < 5 && serve == NULL; attempt++)
    {
      const char *argv[] = { cli_path (), "serve", "--listen", NULL, "--domain", DOMAIN,
                             "--users", f->users, "--format", "jsonl", NULL };

      f->port = g_random_int_range (20000, 60000);
      g_free (udp);
      udp = g_strdup_printf ("udp:127.0.0.1:%u", f->port);
      argv[3] = udp;
      serve = spawn_logged (f, "serve.log", argv);
      if (!wait_for_log (f, "serve.log", "siplab-cli serve: domain", serve))
        {
          stop (serve);
          g_clear_object (&serve);
        }
    }
  g_assert_nonnull (serve);

  filter = g_strdup_printf ("udp port %u", f->port);
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

  run_sipp (f, "alice", "alicepw", 1);
  run_sipp (f, "bob", "not-bobs-password", 1);

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
        g_ptr_array_add (verdicts, g_strdup_printf ("%s %s",
                                                    json_object_get_string_member (object, "user"),
                                                    json_object_get_string_member (object, "text")));
    }

  expected = tshark_first_lines (f);
  g_test_message ("tshark: %u SIP messages, view: %u, %u verdicts", expected->len, listed->len,
                  verdicts->len);
  /* alice: REGISTER, 401, REGISTER, 200; bob: REGISTER, 401, REGISTER, 401 at least. */
  g_assert_cmpuint (expected->len, >=, 8);
  g_assert_cmpuint (listed->len, ==, expected->len);
  for (guint i = 0; i < expected->len; i++)
    g_assert_cmpstr (listed->pdata[i], ==, expected->pdata[i]);

  g_assert_cmpuint (verdicts->len, >=, 2);
  g_assert_cmpstr (verdicts->pdata[0], ==, "alice correct");
  g_assert_cmpstr (verdicts->pdata[1], ==, "bob wrong-password");
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
  return g_test_run ();
}
