/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>

#include "sim-tls.h"
#include "test-baresip.h"
#include "sim-transport.h"

/*
 * SIP over TLS in `siplab-cli serve` on the loopback interface (suite 'net').  A throwaway
 * certificate is made with the openssl command line for every test; the clients are Python's
 * ssl module (tests/tls-client.py): digest registration over TLS on IPv4 and IPv6, a wrong
 * password refused, a handshake that never finishes closed after --tcp-connect-timeout, and
 * garbage before, inside and beside TLS ending only that connection while another client
 * registers.  Two real softphones (baresip, skipped only when it is not installed) register
 * over TLS with digest authentication and call each other through the proxy, every message on
 * their TLS connections with Record-Route ;transport=tls.  Bad certificate and key files stop
 * the start with "FILE: what is wrong".  And without sockets: SimTlsSession fed garbage in
 * every split fails cleanly.
 */

#define DOMAIN "lab.example"
#define WAIT_MS 15000

typedef struct {
  char *dir;
  char *cert;
  char *key;
  char *users;
  char *out_path;
  char *err_path;
  GSubprocess *server;
  guint16 port4;           /* the tls: listeners' ports */
  guint16 port6;           /* 0: no IPv6 loopback here */
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

/* Runs a command to its end; its stdout, and the exit status in @status. */
static char *
run (int          *status,
     const char  **argv)
{
  g_autoptr(GSubprocessLauncher) launcher =
    g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_MERGE);
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  char *out = NULL;

  g_subprocess_launcher_set_child_setup (launcher, child_setup, NULL, NULL);
  process = g_subprocess_launcher_spawnv (launcher, argv, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, NULL, NULL, &out, NULL, &error);
  g_assert_no_error (error);
  *status = g_subprocess_get_if_exited (process) ? g_subprocess_get_exit_status (process) : -1;
  return out;
}

/* An EC key and a self-signed certificate for 127.0.0.1 and ::1, as a lab admin would make. */
static void
make_certificate (const char *dir,
                  const char *name,
                  char      **cert,
                  char      **key)
{
  g_autofree char *cert_name = g_strdup_printf ("%s.pem", name);
  g_autofree char *key_name = g_strdup_printf ("%s.key", name);
  g_autofree char *out = NULL;
  int status = -1;

  *cert = g_build_filename (dir, cert_name, NULL);
  *key = g_build_filename (dir, key_name, NULL);
  {
    const char *argv[] = { "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                           "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", *key, "-out",
                           *cert, "-days", "2", "-subj", "/CN=siplab test",
                           "-addext", "subjectAltName=IP:127.0.0.1,IP:::1", NULL };
    out = run (&status, argv);
  }
  g_assert_cmpint (status, ==, 0);
}

static gboolean
have_ipv6_loopback (void)
{
  g_autoptr(GSocket) socket = g_socket_new (G_SOCKET_FAMILY_IPV6, G_SOCKET_TYPE_STREAM,
                                            G_SOCKET_PROTOCOL_TCP, NULL);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new_from_string ("::1", 0);

  return socket != NULL && g_socket_bind (socket, address, FALSE, NULL);
}

/* Waits until the server's stderr holds @text; its contents then. */
static char *
wait_for_stderr (Fixture    *f,
                 const char *text)
{
  gint64 deadline = g_get_monotonic_time () + WAIT_MS * 1000;

  do
    {
      g_autofree char *contents = NULL;

      if (g_file_get_contents (f->err_path, &contents, NULL, NULL) &&
          strstr (contents, text) != NULL)
        return g_steal_pointer (&contents);
      g_usleep (20000);
    }
  while (g_get_monotonic_time () < deadline);
  return NULL;
}

/* The port of the listener printed as "listening on PREFIX<port>". */
static guint16
listener_port (const char *status,
               const char *prefix)
{
  const char *at = strstr (status, prefix);

  g_assert_nonnull (at);
  return (guint16) g_ascii_strtoull (at + strlen (prefix), NULL, 10);
}

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autofree char *status = NULL;
  gboolean v6 = have_ipv6_loopback ();

  f->dir = g_dir_make_tmp ("siplab-tls-XXXXXX", &error);
  g_assert_no_error (error);
  make_certificate (f->dir, "server", &f->cert, &f->key);
  f->users = g_build_filename (f->dir, "users.txt", NULL);
  g_assert_true (g_file_set_contents (f->users, "alice:alice-pw-1234\nbob:bob-pw-5678\n", -1,
                                      &error));
  f->out_path = g_build_filename (f->dir, "out.txt", NULL);
  f->err_path = g_build_filename (f->dir, "err.txt", NULL);

  g_ptr_array_add (argv, (char *) cli_path ());
  g_ptr_array_add (argv, "serve");
  g_ptr_array_add (argv, "--listen");
  g_ptr_array_add (argv, "udp:127.0.0.1:0");
  g_ptr_array_add (argv, "--listen");
  g_ptr_array_add (argv, "tls:127.0.0.1:0");
  if (v6)
    {
      g_ptr_array_add (argv, "--listen");
      g_ptr_array_add (argv, "tls:[::1]:0");
    }
  g_ptr_array_add (argv, "--cert");
  g_ptr_array_add (argv, f->cert);
  g_ptr_array_add (argv, "--key");
  g_ptr_array_add (argv, f->key);
  g_ptr_array_add (argv, "--domain");
  g_ptr_array_add (argv, DOMAIN);
  g_ptr_array_add (argv, "--users");
  g_ptr_array_add (argv, f->users);
  /* A handshake gets this long: short, so the stalled client is closed within the test. */
  g_ptr_array_add (argv, "--tcp-connect-timeout");
  g_ptr_array_add (argv, "1");
  /* @data: the output format ("jsonl" to see headers), or "idle" for the ladder with a short
   * --tcp-idle; the ladder otherwise. */
  g_ptr_array_add (argv, "--format");
  g_ptr_array_add (argv, g_strcmp0 (data, "jsonl") == 0 ? "jsonl" : "ladder");
  if (g_strcmp0 (data, "idle") == 0)
    {
      g_ptr_array_add (argv, "--tcp-idle");
      g_ptr_array_add (argv, "1");
    }
  g_ptr_array_add (argv, NULL);
  g_subprocess_launcher_set_child_setup (launcher, child_setup, NULL, NULL);
  g_subprocess_launcher_set_stdout_file_path (launcher, f->out_path);
  g_subprocess_launcher_set_stderr_file_path (launcher, f->err_path);
  f->server = g_subprocess_launcher_spawnv (launcher, (const char * const *) argv->pdata, &error);
  g_assert_no_error (error);

  status = wait_for_stderr (f, "siplab-cli serve: domain");
  g_assert_nonnull (status);
  f->port4 = listener_port (status, "listening on tls:127.0.0.1:");
  f->port6 = v6 ? listener_port (status, "listening on tls:[::1]:") : 0;
  g_assert_cmpuint (f->port4, >, 0);
}

static void
remove_tree (const char *dir)
{
  g_autoptr(GDir) handle = g_dir_open (dir, 0, NULL);
  const char *name;

  while (handle != NULL && (name = g_dir_read_name (handle)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_remove (path);
    }
  g_rmdir (dir);
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  if (f->server != NULL)
    {
      g_subprocess_send_signal (f->server, SIGTERM);
      g_subprocess_wait (f->server, NULL, NULL);
      /* A clean exit: SIGTERM is the only way this server ended. */
      g_assert_true (g_subprocess_get_if_exited (f->server));
      g_assert_cmpint (g_subprocess_get_exit_status (f->server), ==, 0);
      g_clear_object (&f->server);
    }
  remove_tree (f->dir);
  g_free (f->dir);
  g_free (f->cert);
  g_free (f->key);
  g_free (f->users);
  g_free (f->out_path);
  g_free (f->err_path);
}

/* tests/tls-client.py with @args; its output. */
static char *
client (const char *first,
        ...)
{
  g_autofree char *script = g_test_build_filename (G_TEST_DIST, "tls-client.py", NULL);
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  const char *arg;
  va_list args;
  int status = -1;
  char *out;

  g_ptr_array_add (argv, "python3");
  g_ptr_array_add (argv, script);
  va_start (args, first);
  for (arg = first; arg != NULL; arg = va_arg (args, const char *))
    g_ptr_array_add (argv, (char *) arg);
  va_end (args);
  g_ptr_array_add (argv, NULL);
  out = run (&status, (const char **) argv->pdata);
  if (status != 0)
    g_error ("tls-client.py failed (%d): %s", status, out);
  return out;
}

static char *
register_over_tls (const char *host,
                   guint16     port,
                   const char *user,
                   const char *password)
{
  char port_text[8];

  g_snprintf (port_text, sizeof port_text, "%u", port);
  return client ("register", host, port_text, user, password, DOMAIN, NULL);
}

static void
test_python_client_registers_with_digest (Fixture       *f,
                                          gconstpointer  data)
{
  g_autofree char *out = NULL;
  g_autofree char *ladder = NULL;

  g_test_summary ("REGISTER, 401, REGISTER with Authorization, 200, all over one TLS "
                  "connection; the answer's Via says TLS and the sips: Contact is bound.");
  out = register_over_tls ("127.0.0.1", f->port4, "alice", "alice-pw-1234");
  g_assert_nonnull (strstr (out, "first 401\n"));
  g_assert_nonnull (strstr (out, "final 200\n"));
  g_assert_nonnull (strstr (out, "Via: SIP/2.0/TLS 127.0.0.1:"));
  g_assert_nonnull (strstr (out, "Contact: <sips:alice@127.0.0.1:"));
  if (f->port6 != 0)
    {
      g_free (out);
      out = register_over_tls ("::1", f->port6, "bob", "bob-pw-5678");
      g_assert_nonnull (strstr (out, "final 200\n"));
      g_assert_nonnull (strstr (out, "Via: SIP/2.0/TLS [::1]:"));
    }
  /* The registrar saw the bindings as TLS ones. */
  g_assert_true (g_file_get_contents (f->out_path, &ladder, NULL, NULL));
  g_assert_nonnull (strstr (ladder, "/TLS -> registrar: REGISTER"));
  g_assert_nonnull (strstr (ladder, "binding added sips:alice@" DOMAIN));
}

static void
test_wrong_password_is_refused (Fixture       *f,
                                gconstpointer  data)
{
  g_autofree char *out = register_over_tls ("127.0.0.1", f->port4, "alice", "not-the-password");

  g_assert_nonnull (strstr (out, "first 401\n"));
  /* A wrong answer to the challenge is challenged again (or refused once it repeats). */
  g_assert_true (strstr (out, "final 401\n") != NULL || strstr (out, "final 403\n") != NULL);
}

static void
test_unfinished_handshake_is_closed (Fixture       *f,
                                     gconstpointer  data)
{
  char port_text[8];
  g_autofree char *out = NULL;
  g_autofree char *ladder = NULL;
  double after = 0;

  g_test_summary ("A client that sends half a ClientHello and waits is disconnected once "
                  "--tcp-connect-timeout (1 s here) has passed, and a note says why.");
  g_snprintf (port_text, sizeof port_text, "%u", f->port4);
  out = client ("stall", "127.0.0.1", port_text, "12", NULL);
  g_assert_true (g_str_has_prefix (out, "closed after "));
  after = g_ascii_strtod (out + strlen ("closed after "), NULL);
  /* Not before the timeout; the sweep is late by at most a quarter of it, the machine more. */
  g_assert_cmpfloat (after, >=, 0.9);
  g_assert_true (g_file_get_contents (f->out_path, &ladder, NULL, NULL));
  g_assert_nonnull (strstr (ladder, "closed: the TLS handshake did not complete within 1 s"));
}

static void
test_registered_connection_outlives_the_idle_timeout (Fixture       *f,
                                                      gconstpointer  data)
{
  char port_text[8];
  g_autofree char *out = NULL;

  g_test_summary ("With --tcp-idle 1, a TLS connection that carries a live registration stays "
                  "open through 4 quiet seconds (the phone is reached over it), while a TLS "
                  "connection that never sent SIP is closed as idle.");
  g_snprintf (port_text, sizeof port_text, "%u", f->port4);
  out = client ("hold", "127.0.0.1", port_text, "alice", "alice-pw-1234", DOMAIN, "4", NULL);
  g_assert_nonnull (strstr (out, "final 200\n"));
  g_assert_nonnull (strstr (out, "registered: open\n"));
  g_assert_nonnull (strstr (out, "stranger: closed\n"));
}

static void
test_garbage_before_and_after_the_handshake (Fixture       *f,
                                             gconstpointer  data)
{
  char port_text[8];
  g_autofree char *out = NULL;
  g_autofree char *ok = NULL;

  g_test_summary ("Garbage and plain SIP before the handshake, garbage inside TLS and raw "
                  "bytes beside it after the handshake each close only their own connection; "
                  "the server lives on and registers another client.");
  g_snprintf (port_text, sizeof port_text, "%u", f->port4);
  out = client ("garbage", "127.0.0.1", port_text, NULL);
  g_assert_nonnull (strstr (out, "before: closed\n"));
  g_assert_nonnull (strstr (out, "plain-sip: closed\n"));
  g_assert_nonnull (strstr (out, "inside: closed\n"));
  g_assert_nonnull (strstr (out, "beside: closed\n"));
  ok = register_over_tls ("127.0.0.1", f->port4, "bob", "bob-pw-5678");
  /* The teardown's SIGTERM then finds the server alive and sees it exit cleanly. */
  g_assert_nonnull (strstr (ok, "final 200\n"));
}

/* Waits until the server's stdout has a line holding all of @a, @b and @c. */
static gboolean
wait_for_line_with (Fixture    *f,
                    const char *a,
                    const char *b,
                    const char *c)
{
  gint64 deadline = g_get_monotonic_time () + 3 * WAIT_MS * 1000;

  do
    {
      g_autofree char *contents = NULL;

      if (g_file_get_contents (f->out_path, &contents, NULL, NULL))
        {
          g_auto(GStrv) lines = g_strsplit (contents, "\n", -1);

          for (guint i = 0; lines[i] != NULL; i++)
            if (strstr (lines[i], a) != NULL && strstr (lines[i], b) != NULL &&
                strstr (lines[i], c) != NULL)
              return TRUE;
        }
      g_usleep (50000);
    }
  while (g_get_monotonic_time () < deadline);
  g_test_message ("no line of the server's output holds '%s' '%s' '%s'", a, b, c);
  return FALSE;
}

/*
 * A baresip softphone for @user listening on 127.0.0.1:@port (TLS on @port + 1), registered
 * over TLS with the server as its outbound proxy, trusting the test's certificate (sip_cafile),
 * answering calls at once, a 440 Hz tone as its microphone and no sound card.  Its console
 * log goes to DIR/baresip-USER.log.
 */
static GSubprocess *
spawn_baresip (Fixture    *f,
               const char *user,
               guint       port,
               guint       seconds,
               const char *command)
{
  const char *password = strcmp (user, "alice") == 0 ? "alice-pw-1234" : "bob-pw-5678";
  g_autofree char *cafile = g_strdup_printf ("sip_cafile %s\n", f->cert);
  g_autofree char *account = g_strdup_printf ("<sip:%s@%s;transport=tls>;auth_pass=%s;"
                                              "outbound=\"sip:127.0.0.1:%u;transport=tls\";"
                                              "regint=600;answermode=auto\n", user, DOMAIN,
                                              password, f->port4);

  return test_baresip_spawn (f->dir, user, port, cafile, account, seconds, command, child_setup);
}

static void
test_baresip_phones_register_and_call_over_tls (Fixture       *f,
                                                gconstpointer  data)
{
  g_autofree char *baresip = g_find_program_in_path ("baresip");
  g_autofree char *rr = NULL;
  g_autofree char *alice_log_path = g_strdup_printf ("%s/baresip-alice.log", f->dir);
  g_autofree char *alice_log = NULL;
  g_autofree char *ladder = NULL;
  g_autoptr(GSubprocess) bob = NULL;
  g_autoptr(GSubprocess) alice = NULL;
  guint bob_port, alice_port;

  g_test_summary ("Two baresip phones register over TLS (401, then digest), alice calls bob, "
                  "and INVITE, 180, 200, ACK, BYE and its 200 all pass through the proxy on "
                  "the phones' own TLS connections, the INVITE with Record-Route "
                  ";transport=tls.");
  if (baresip == NULL)
    {
      g_test_skip ("baresip is not installed (Debian package baresip-core)");
      return;
    }
  /* baresip listens on UDP and TCP at its port and TLS at the next: keep them apart. */
  {
    guint avoid[2] = { 0, 0 };

    bob_port = avoid[0] = test_baresip_pick_port (avoid);
    alice_port = test_baresip_pick_port (avoid);
  }
  bob = spawn_baresip (f, "bob", bob_port, 30, NULL);
  g_assert_true (wait_for_line_with (f, "\"action\":\"added\",\"aor\":\"sip:bob@" DOMAIN "\"",
                                     "", ""));
  alice = spawn_baresip (f, "alice", alice_port, 8, "/dial sip:bob@" DOMAIN);
  /* alice hangs up when her -t runs out; bob's 200 to her BYE goes back to her over TLS. */
  g_assert_true (wait_for_line_with (f, "\"action\":\"sent\"", "\"status\":200,\"method\":\"BYE\"",
                                     "\"transport\":\"TLS\""));
  g_subprocess_wait (alice, NULL, NULL);
  g_subprocess_force_exit (bob);
  g_subprocess_wait (bob, NULL, NULL);

  rr = g_strdup_printf ("Record-Route: <sip:127.0.0.1:%u;transport=tls;lr>", f->port4);
  g_assert_true (wait_for_line_with (f, "\"to\":\"bob\"", "\"first_line\":\"INVITE ", rr));
  g_assert_true (wait_for_line_with (f, "\"status\":401", "REGISTER", "\"transport\":\"TLS\""));
  g_assert_true (wait_for_line_with (f, "\"to\":\"bob\"", "\"first_line\":\"ACK ",
                                     "\"transport\":\"TLS\""));
  g_assert_true (wait_for_line_with (f, "\"to\":\"bob\"", "\"first_line\":\"BYE ",
                                     "\"transport\":\"TLS\""));
  /* Nothing went over anything but TLS. */
  g_assert_true (g_file_get_contents (f->out_path, &ladder, NULL, NULL));
  g_assert_null (strstr (ladder, "\"transport\":\"UDP\""));
  g_assert_null (strstr (ladder, "\"transport\":\"TCP\""));
  g_assert_true (g_file_get_contents (alice_log_path, &alice_log, NULL, NULL));
  if (strstr (alice_log, "Call established") == NULL)
    g_error ("alice's baresip did not report the call established:\n%s", alice_log);
}

/* serve with @cert and @key; its stderr, which must be one "FILE: ..." line with exit 2. */
static char *
serve_with (const char *cert,
            const char *key,
            const char *users)
{
  const char *argv[] = { cli_path (), "serve", "--listen", "tls:127.0.0.1:0", "--cert", cert,
                         "--key", key, "--domain", DOMAIN, "--users", users, NULL };
  int status = -1;
  char *out = run (&status, argv);

  g_assert_cmpint (status, ==, 2);
  return out;
}

static void
test_bad_files_are_named_at_start_up (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("siplab-tls-XXXXXX", &error);
  g_autofree char *cert = NULL, *key = NULL, *cert2 = NULL, *key2 = NULL;
  g_autofree char *users = g_build_filename (dir, "users.txt", NULL);
  g_autofree char *missing = g_build_filename (dir, "missing.pem", NULL);
  g_autofree char *out = NULL;
  g_autofree char *expected = NULL;

  g_assert_no_error (error);
  make_certificate (dir, "one", &cert, &key);
  make_certificate (dir, "two", &cert2, &key2);
  g_assert_true (g_file_set_contents (users, "alice:alice-pw-1234\n", -1, NULL));

  out = serve_with (missing, key, users);
  expected = g_strdup_printf ("%s: No such file or directory\n", missing);
  g_assert_cmpstr (out, ==, expected);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&expected, g_free);

  out = serve_with (users, key, users);
  expected = g_strdup_printf ("%s: no PEM certificate in it", users);
  g_assert_true (g_str_has_prefix (out, expected));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&expected, g_free);

  out = serve_with (cert, cert, users);
  expected = g_strdup_printf ("%s: no PEM private key in it", cert);
  g_assert_true (g_str_has_prefix (out, expected));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&expected, g_free);

  out = serve_with (cert, key2, users);
  expected = g_strdup_printf ("%s: the private key does not belong to the certificate in %s\n",
                              key2, cert);
  g_assert_cmpstr (out, ==, expected);
  remove_tree (dir);
}

static void
test_session_survives_garbage_in_any_split (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("siplab-tls-XXXXXX", &error);
  g_autofree char *cert = NULL, *key = NULL;
  g_autoptr(SimTlsContext) context = NULL;
  g_autoptr(GRand) rand = g_rand_new_with_seed (12);

  g_test_summary ("Random bytes, and a real ClientHello header followed by random bytes, "
                  "pushed in random pieces: the session fails with a reason or waits, never "
                  "yields plain text, and sends at most an alert.");
  g_assert_no_error (error);
  make_certificate (dir, "fuzz", &cert, &key);
  context = sim_tls_context_new_server (cert, key, &error);
  g_assert_no_error (error);
  for (guint round = 0; round < 200; round++)
    {
      g_autoptr(SimTlsSession) session = sim_tls_session_new_server (context);
      g_autoptr(GByteArray) plain = g_byte_array_new ();
      g_autoptr(GByteArray) out = g_byte_array_new ();
      guint8 data[2048];
      gsize len = (gsize) g_rand_int_range (rand, 1, sizeof data);
      gsize at = 0;
      SimTlsResult result = SIM_TLS_OK;

      for (gsize i = 0; i < len; i++)
        data[i] = (guint8) g_rand_int_range (rand, 0, 256);
      if (round % 2 == 1 && len > 5)
        memcpy (data, "\x16\x03\x01\x07\xf0", 5);   /* a handshake record of 2032 bytes */
      while (at < len && result == SIM_TLS_OK)
        {
          g_autofree char *why = NULL;
          gsize piece = MIN (len - at, (gsize) g_rand_int_range (rand, 1, 300));

          result = sim_tls_session_receive (session, data + at, piece, plain, out, &why);
          at += piece;
          if (result == SIM_TLS_FAILED)
            g_assert_nonnull (why);
        }
      g_assert_cmpuint (plain->len, ==, 0);
      g_assert_false (sim_tls_session_is_established (session));
      g_assert_cmpuint (out->len, <, 64);
    }
  remove_tree (dir);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/net/tls/python-client-registers-with-digest-over-ipv4-and-ipv6", Fixture, NULL,
              fixture_setup, test_python_client_registers_with_digest, fixture_teardown);
  g_test_add ("/net/tls/wrong-password-is-refused", Fixture, NULL,
              fixture_setup, test_wrong_password_is_refused, fixture_teardown);
  g_test_add ("/net/tls/unfinished-handshake-is-closed-after-the-connect-timeout", Fixture, NULL,
              fixture_setup, test_unfinished_handshake_is_closed, fixture_teardown);
  g_test_add ("/net/tls/registered-connection-outlives-the-idle-timeout", Fixture, "idle",
              fixture_setup, test_registered_connection_outlives_the_idle_timeout,
              fixture_teardown);
  g_test_add ("/net/tls/garbage-before-and-after-the-handshake-leaves-others-registering",
              Fixture, NULL, fixture_setup, test_garbage_before_and_after_the_handshake,
              fixture_teardown);
  g_test_add ("/net/tls/baresip-phones-register-and-call-over-tls", Fixture, "jsonl",
              fixture_setup, test_baresip_phones_register_and_call_over_tls, fixture_teardown);
  g_test_add_func ("/net/tls/bad-certificate-and-key-files-are-named-at-start-up",
                   test_bad_files_are_named_at_start_up);
  g_test_add_func ("/net/tls/session-survives-garbage-in-any-split",
                   test_session_survives_garbage_in_any_split);
  return g_test_run ();
}
