/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "sim-capture-world.h"
#include "sim-document.h"
#include "sim-hep.h"
#include "sim-observe.h"
#include "sim-watch.h"

/*
 * Live HEP (sim-watch.h, `siplab-cli watch --hep`) on the loopback interface: HEPv3 datagrams
 * built with sim_hep_encode() reach the observer, packets with a wrong or missing key, garbage
 * and other protocols are dropped and counted; the command prints messages as they come and
 * ends cleanly on SIGINT; and a real Kamailio (tests/kamailio/kamailio.cfg) sends its siptrace
 * copies of a sipp registration with digest (REGISTER, 401, REGISTER, 200) to `watch`, which
 * must print all four in order.  The Kamailio test is skipped only when kamailio or sipp is
 * not installed (CI installs both).  Every wait is bounded and generous: the machine is shared.
 */

#define WAIT_MS 20000
#define KEY "lab-key"

static const char register_text[] =
  "REGISTER sip:lab.test SIP/2.0\r\n"
  "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-watch-1;rport\r\n"
  "Max-Forwards: 70\r\n"
  "From: <sip:alice@lab.test>;tag=1\r\n"
  "To: <sip:alice@lab.test>\r\n"
  "Call-ID: watch-1@127.0.0.1\r\n"
  "CSeq: 1 REGISTER\r\n"
  "Contact: <sip:alice@127.0.0.1:5070>\r\n"
  "User-Agent: watchtest/1.0\r\n"
  "Content-Length: 0\r\n\r\n";

/* Children die with the test, even when a timeout kills it. */
static void
child_setup (gpointer data)
{
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

static gboolean
timeout_cb (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

/* Iterates the main context until *@flag or @ms pass; the final value of *@flag. */
static gboolean
wait_until (gboolean (*done) (gpointer),
            gpointer   data,
            guint      ms)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add (ms, timeout_cb, &timed_out);

  while (!done (data) && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (!timed_out)
    g_source_remove (id);
  return done (data);
}

/* A HEPv3 packet carrying @sip from @src_ip:5070 to @dst_ip:5060, with @key (NULL: none). */
static GBytes *
hep_packet (const char *sip,
            const char *src_ip,
            const char *dst_ip,
            const char *key,
            guint8      proto_type)
{
  SimHepPacket packet = { 0 };
  g_autoptr(GError) error = NULL;
  GBytes *bytes;

  sim_addr_init (&packet.src, src_ip, 5070, SIM_TRANSPORT_UDP);
  sim_addr_init (&packet.dst, dst_ip, 5060, SIM_TRANSPORT_UDP);
  packet.ts_sec = 1767225600;
  packet.proto_type = proto_type;
  packet.capture_id = 2001;
  packet.auth_key = (char *) key;
  packet.payload = g_bytes_new_static (sip, strlen (sip));
  bytes = sim_hep_encode (&packet, FALSE, &error);
  g_assert_no_error (error);
  g_bytes_unref (packet.payload);
  return bytes;
}

/* Sends @bytes from a fresh socket to @watch's address. */
static void
send_to_watch (SimWatch *watch,
               GBytes   *bytes)
{
  g_autofree char *spec = sim_watch_get_address (watch);
  g_autoptr(GInetSocketAddress) to = sim_watch_parse_address (spec, NULL);
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GError) error = NULL;
  gsize len;
  const char *data = g_bytes_get_data (bytes, &len);

  g_assert_nonnull (to);
  socket = g_socket_new (g_socket_address_get_family (G_SOCKET_ADDRESS (to)),
                         G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_socket_send_to (socket, G_SOCKET_ADDRESS (to), data, len, NULL, &error), ==,
                   (gssize) len);
  g_assert_no_error (error);
}

typedef struct {
  SimWatch *watch;
  guint64 received;
} Seen;

static gboolean
received_enough (gpointer data)
{
  Seen *seen = data;
  return sim_watch_get_stats (seen->watch)->received >= seen->received;
}

static void
test_address_parsing (void)
{
  static const char *const good[] = { "udp:127.0.0.1:9060", "127.0.0.1:0", "udp:[::1]:9060",
                                      "[::1]:1" };
  static const char *const bad[] = { "udp:127.0.0.1", "udp:localhost:9060", "tcp:127.0.0.1:9060",
                                     "udp:127.0.0.1:65536", "udp:127.0.0.1:x", "udp:::1:9060",
                                     "udp:[::1:9060", "" };

  for (guint i = 0; i < G_N_ELEMENTS (good); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GInetSocketAddress) address = sim_watch_parse_address (good[i], &error);

      g_assert_no_error (error);
      g_assert_nonnull (address);
    }
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GInetSocketAddress) address = sim_watch_parse_address (bad[i], &error);

      g_test_message ("%s", bad[i]);
      g_assert_null (address);
      g_assert_error (error, SIM_WATCH_ERROR, SIM_WATCH_ERROR_ADDRESS);
    }
}

static guint
count_packets (SimTrace   *trace,
               const char *action)
{
  guint n = 0;

  for (guint i = 0; i < sim_trace_get_n_events (trace); i++)
    {
      SimEvent *event = sim_trace_get_event (trace, i);
      if (event->type == SIM_EVENT_PACKET && g_strcmp0 (event->action, action) == 0)
        n++;
    }
  return n;
}

/* One datagram from loopback (IPv4 or IPv6) becomes the observer's events. */
static void
test_datagram_becomes_events (gconstpointer data)
{
  const char *spec = data;
  g_autoptr(SimTrace) trace = sim_trace_new ();
  g_autoptr(SimObserver) observer = sim_observer_new (trace);
  g_autoptr(GError) error = NULL;
  g_autoptr(SimWatch) watch = sim_watch_new (observer, spec, NULL, &error);
  g_autoptr(GBytes) bytes = hep_packet (register_text, "192.0.2.7", "192.0.2.1", NULL,
                                        SIM_HEP_PROTO_SIP);
  g_autofree char *bound = NULL;
  Seen seen = { NULL, 1 };

  if (watch == NULL && strchr (spec, '[') != NULL)
    {
      /* Only a machine without IPv6 on its loopback refuses to bind ::1. */
      g_test_skip_printf ("no IPv6 loopback here: %s", error->message);
      return;
    }
  g_assert_no_error (error);
  bound = sim_watch_get_address (watch);
  g_assert_true (g_str_has_prefix (bound, strchr (spec, '[') ? "udp:[::1]:" : "udp:127.0.0.1:"));
  g_assert_false (g_str_has_suffix (bound, ":0"));
  seen.watch = watch;
  send_to_watch (watch, bytes);
  g_assert_true (wait_until (received_enough, &seen, WAIT_MS));
  g_assert_cmpuint (sim_watch_get_stats (watch)->observed, ==, 1);
  g_assert_null (sim_watch_get_last_drop (watch));
  g_assert_cmpuint (count_packets (trace, "sent"), ==, 1);
  g_assert_cmpuint (sim_observer_get_n_messages (observer), ==, 1);
  /* The addresses are the ones inside HEP (the PBX's view), not the HEP sender's. */
  {
    SimAddr src;
    sim_addr_init (&src, "192.0.2.7", 5070, SIM_TRANSPORT_UDP);
    g_assert_nonnull (sim_observer_get_node_name (observer, &src));
  }
}

/* With a key, packets without it or with another are dropped and counted; then one passes. */
static void
test_wrong_key_dropped (void)
{
  g_autoptr(SimTrace) trace = sim_trace_new ();
  g_autoptr(SimObserver) observer = sim_observer_new (trace);
  g_autoptr(GError) error = NULL;
  g_autoptr(SimWatch) watch = sim_watch_new (observer, "udp:127.0.0.1:0", KEY, &error);
  g_autoptr(GBytes) none = hep_packet (register_text, "192.0.2.7", "192.0.2.1", NULL, 1);
  g_autoptr(GBytes) wrong = hep_packet (register_text, "192.0.2.7", "192.0.2.1", "lab-kez", 1);
  g_autoptr(GBytes) prefix = hep_packet (register_text, "192.0.2.7", "192.0.2.1", "lab-", 1);
  g_autoptr(GBytes) right = hep_packet (register_text, "192.0.2.7", "192.0.2.1", KEY, 1);
  Seen seen = { watch, 4 };

  g_assert_no_error (error);
  send_to_watch (watch, none);
  send_to_watch (watch, wrong);
  send_to_watch (watch, prefix);
  send_to_watch (watch, right);
  g_assert_true (wait_until (received_enough, &seen, WAIT_MS));
  g_assert_cmpuint (sim_watch_get_stats (watch)->dropped_key, ==, 3);
  g_assert_cmpuint (sim_watch_get_stats (watch)->observed, ==, 1);
  g_assert_cmpuint (count_packets (trace, "sent"), ==, 1);
  g_assert_nonnull (strstr (sim_watch_get_last_drop (watch), "127.0.0.1:"));
  g_assert_nonnull (strstr (sim_watch_get_last_drop (watch), "key"));
}

/* Garbage, a truncated packet, RTCP in HEP and a payload that is not SIP: counted, not fed. */
static void
test_garbage_dropped (void)
{
  g_autoptr(SimTrace) trace = sim_trace_new ();
  g_autoptr(SimObserver) observer = sim_observer_new (trace);
  g_autoptr(GError) error = NULL;
  g_autoptr(SimWatch) watch = sim_watch_new (observer, "udp:127.0.0.1:0", NULL, &error);
  g_autoptr(GBytes) garbage = g_bytes_new_static ("OPTIONS sip:x SIP/2.0\r\n\r\n", 25);
  g_autoptr(GBytes) full = hep_packet (register_text, "192.0.2.7", "192.0.2.1", NULL, 1);
  g_autoptr(GBytes) truncated = g_bytes_new_from_bytes (full, 0, g_bytes_get_size (full) - 10);
  g_autoptr(GBytes) rtcp = hep_packet (register_text, "192.0.2.7", "192.0.2.1", NULL, 5);
  g_autoptr(GBytes) not_sip = hep_packet ("\x80\xc8\x00\x06 not SIP at all", "192.0.2.7",
                                          "192.0.2.1", NULL, 1);
  g_autofree guint8 *huge = g_malloc0 (SIM_WATCH_MAX_DATAGRAM + 1);
  Seen seen = { watch, 4 };

  g_assert_no_error (error);
  send_to_watch (watch, garbage);
  send_to_watch (watch, truncated);
  send_to_watch (watch, rtcp);
  send_to_watch (watch, not_sip);
  g_assert_true (wait_until (received_enough, &seen, WAIT_MS));
  /* A UDP datagram cannot exceed the buffer; the bound is checked on the same path. */
  memcpy (huge, "HEP3", 4);
  g_assert_false (sim_watch_handle_datagram (watch, huge, SIM_WATCH_MAX_DATAGRAM + 1));

  g_assert_cmpuint (sim_watch_get_stats (watch)->received, ==, 5);
  g_assert_cmpuint (sim_watch_get_stats (watch)->dropped_invalid, ==, 2);
  g_assert_cmpuint (sim_watch_get_stats (watch)->dropped_not_sip, ==, 2);
  g_assert_cmpuint (sim_watch_get_stats (watch)->dropped_large, ==, 1);
  g_assert_cmpuint (sim_watch_get_stats (watch)->observed, ==, 0);
  g_assert_cmpuint (count_packets (trace, "sent"), ==, 0);
}

/* ------------------------------------------------------------------------------------------ */
/* siplab-cli watch                                                                           */

typedef struct {
  GSubprocess *process;
  GString *out;
  GString *err;
  GCancellable *cancel;
  char *hep;               /* the address watch said it listens on */
} Cli;

typedef struct {
  GInputStream *stream;
  GString *buffer;
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
              GCancellable *cancel)
{
  Reader *reader = g_new0 (Reader, 1);

  reader->stream = g_object_ref (stream);
  reader->buffer = buffer;
  reader->cancel = g_object_ref (cancel);
  g_input_stream_read_async (stream, reader->chunk, sizeof reader->chunk, G_PRIORITY_DEFAULT,
                             cancel, reader_read_cb, reader);
}

typedef struct {
  GString *buffer;
  const char *needle;
  guint n;
} Needle;

static gboolean
has_needles (gpointer data)
{
  Needle *needle = data;
  guint n = 0;

  for (const char *p = strstr (needle->buffer->str, needle->needle); p != NULL;
       p = strstr (p + 1, needle->needle))
    n++;
  return n >= needle->n;
}

static gboolean
wait_for_text (GString    *buffer,
               const char *text,
               guint       n)
{
  Needle needle = { buffer, text, n };

  if (wait_until (has_needles, &needle, WAIT_MS))
    return TRUE;
  g_test_message ("waited for %u x '%s'; got:\n%s", n, text, buffer->str);
  return FALSE;
}

static void
cli_start (Cli        *cli,
           const char *first_arg,
           ...)
{
  g_autoptr(GSubprocessLauncher) launcher =
    g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  const char *line, *end;
  va_list args;

  g_ptr_array_add (argv, (gpointer) g_getenv ("SIPLAB_CLI"));
  g_ptr_array_add (argv, "watch");
  va_start (args, first_arg);
  for (const char *arg = first_arg; arg != NULL; arg = va_arg (args, const char *))
    g_ptr_array_add (argv, (gpointer) arg);
  va_end (args);
  g_ptr_array_add (argv, NULL);

  g_subprocess_launcher_set_child_setup (launcher, child_setup, NULL, NULL);
  cli->out = g_string_new (NULL);
  cli->err = g_string_new (NULL);
  cli->cancel = g_cancellable_new ();
  cli->process = g_subprocess_launcher_spawnv (launcher, (const char * const *) argv->pdata,
                                               &error);
  g_assert_no_error (error);
  reader_start (g_subprocess_get_stdout_pipe (cli->process), cli->out, cli->cancel);
  reader_start (g_subprocess_get_stderr_pipe (cli->process), cli->err, cli->cancel);
  g_assert_true (wait_for_text (cli->err, "\n", 1));
  line = strstr (cli->err->str, "watching HEP on ");
  g_assert_nonnull (line);
  line += strlen ("watching HEP on ");
  end = line + strcspn (line, " \n");
  cli->hep = g_strndup (line, end - line);
}

static void
wait_done_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      data)
{
  g_subprocess_wait_finish (G_SUBPROCESS (source), result, NULL);
  *(gboolean *) data = TRUE;
}

static gboolean
flag_set (gpointer data)
{
  return *(gboolean *) data;
}

/* SIGINT, then the exit status (-1: it had to be killed). */
static int
cli_stop (Cli *cli)
{
  gboolean exited = FALSE;

  g_subprocess_send_signal (cli->process, SIGINT);
  g_subprocess_wait_async (cli->process, NULL, wait_done_cb, &exited);
  if (!wait_until (flag_set, &exited, WAIT_MS))
    {
      g_subprocess_force_exit (cli->process);
      wait_until (flag_set, &exited, WAIT_MS);
      return -1;
    }
  /* What was still in the pipes. */
  wait_for_text (cli->err, "SIP messages shown", 1);
  return g_subprocess_get_if_exited (cli->process) ? g_subprocess_get_exit_status (cli->process)
                                                   : -1;
}

static void
cli_clear (Cli *cli)
{
  g_cancellable_cancel (cli->cancel);
  g_clear_object (&cli->cancel);
  g_clear_object (&cli->process);
  g_string_free (cli->out, TRUE);
  g_string_free (cli->err, TRUE);
  g_free (cli->hep);
}

static void
send_to (const char *spec,
         GBytes     *bytes)
{
  g_autoptr(GInetSocketAddress) to = sim_watch_parse_address (spec, NULL);
  g_autoptr(GSocket) socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM,
                                            G_SOCKET_PROTOCOL_UDP, NULL);
  gsize len;
  const char *data = g_bytes_get_data (bytes, &len);

  g_assert_nonnull (to);
  g_assert_cmpint (g_socket_send_to (socket, G_SOCKET_ADDRESS (to), data, len, NULL, NULL), ==,
                   (gssize) len);
}

static gboolean
need_cli (void)
{
  if (g_getenv ("SIPLAB_CLI") != NULL)
    return TRUE;
  g_test_skip ("SIPLAB_CLI is not set (meson test sets it)");
  return FALSE;
}

/* The command prints each message as it arrives, reports drops, and SIGINT ends it with 0. */
static void
test_cli_live_and_sigint (void)
{
  Cli cli = { 0 };
  g_autoptr(GBytes) right = hep_packet (register_text, "192.0.2.7", "192.0.2.1", KEY, 1);
  g_autoptr(GBytes) wrong = hep_packet (register_text, "192.0.2.7", "192.0.2.1", "nope", 1);

  if (!need_cli ())
    return;
  cli_start (&cli, "--hep", "udp:127.0.0.1:0", "--hep-key", KEY, NULL);
  g_assert_true (g_str_has_prefix (cli.hep, "udp:127.0.0.1:"));
  send_to (cli.hep, wrong);
  g_assert_true (wait_for_text (cli.err, "missing or wrong HEP auth key", 1));
  send_to (cli.hep, right);
  g_assert_true (wait_for_text (cli.out, "REGISTER (CSeq 1)", 1));
  g_assert_null (strstr (cli.out->str, "nope"));
  g_assert_cmpint (cli_stop (&cli), ==, 0);
  g_assert_nonnull (strstr (cli.err->str, "2 datagrams, 1 SIP messages shown; dropped: 1 wrong"));
  cli_clear (&cli);
}

static void
test_cli_usage_errors (void)
{
  static const char *const cases[][3] = {
    { "--hep", "localhost:9060", "not an IP address" },
    { "--hep", "tcp:127.0.0.1:9060", "only UDP" },
    { "--format", "pdf", "--hep udp:HOST:PORT is needed" },
    { "--hep=udp:127.0.0.1:0", "--format=pdf", "unknown format" },
  };

  if (!need_cli ())
    return;
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *err = NULL;
      int status = 0;
      const char *argv[] = { g_getenv ("SIPLAB_CLI"), "watch", cases[i][0], cases[i][1], NULL };

      g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL,
                                   NULL, NULL, &err, &status, NULL));
      g_assert_true (WIFEXITED (status));
      g_assert_cmpint (WEXITSTATUS (status), ==, 2);
      g_assert_nonnull (strstr (err, cases[i][2]));
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Kamailio                                                                                   */

/* A UDP port that was free a moment ago (Kamailio needs a number, not 0). */
static guint16
free_udp_port (void)
{
  g_autoptr(GSocket) socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM,
                                            G_SOCKET_PROTOCOL_UDP, NULL);
  g_autoptr(GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any = g_inet_socket_address_new (lo, 0);
  g_autoptr(GSocketAddress) bound = NULL;

  g_assert_true (g_socket_bind (socket, any, FALSE, NULL));
  bound = g_socket_get_local_address (socket, NULL);
  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
}

/* Kamailio's config with the ports, the key and the password filled in. */
static char *
write_kamailio_cfg (const char *dir,
                    guint16     sip_port,
                    const char *hep,
                    const char *hep_version)
{
  g_autofree char *template_path = g_test_build_filename (G_TEST_DIST, "kamailio",
                                                          "kamailio.cfg", NULL);
  g_autofree char *text = NULL;
  g_autofree char *sip = g_strdup_printf ("%u", sip_port);
  const char *hep_port = strrchr (hep, ':') + 1;
  char *path = g_build_filename (dir, "kamailio.cfg", NULL);
  static const char *const names[] = { "@SIP_PORT@", "@HEP_PORT@", "@HEP_KEY@", "@PASSWORD@",
                                        "@HEP_VERSION@" };
  const char *values[] = { sip, hep_port, KEY, "alicepw", hep_version };
  g_autoptr(GError) error = NULL;

  g_assert_true (g_file_get_contents (template_path, &text, NULL, &error));
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_auto(GStrv) parts = g_strsplit (text, names[i], -1);
      g_free (text);
      text = g_strjoinv (values[i], parts);
    }
  g_assert_true (g_file_set_contents (path, text, -1, &error));
  return path;
}

static gboolean
have_program (const char *name,
              const char *package)
{
  g_autofree char *path = g_find_program_in_path (name);

  if (path == NULL)
    {
      g_autofree char *why = g_strdup_printf ("%s is not installed (Debian package %s)", name,
                                              package);
      g_test_skip (why);
    }
  return path != NULL;
}

static GSubprocess *
spawn_logged (const char         *log,
              GError            **error,
              const char * const *argv)
{
  g_autoptr(GSubprocessLauncher) launcher =
    g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE);

  g_subprocess_launcher_set_child_setup (launcher, child_setup, NULL, NULL);
  g_subprocess_launcher_set_stdout_file_path (launcher, log);
  g_subprocess_launcher_set_stderr_file_path (launcher, log);
  return g_subprocess_launcher_spawnv (launcher, argv, error);
}

static void
print_log (const char *path)
{
  g_autofree char *text = NULL;

  if (g_file_get_contents (path, &text, NULL, NULL))
    g_test_message ("%s:\n%s", path, text);
}

/*
 * Kamailio's siptrace copies a digest registration as HEP (@data: the version, "3" with an auth
 * key, "1" or "2" without: they carry none); watch prints all four messages in order.
 */
static void
test_kamailio_siptrace (gconstpointer data)
{
  const char *hep_version = data;
  gboolean keyed = g_str_equal (hep_version, "3");
  g_autofree char *dir = NULL;
  g_autofree char *cfg = NULL;
  g_autofree char *kam_log = NULL, *sipp_log = NULL, *csv = NULL, *scenario = NULL;
  g_autofree char *listen = NULL, *target = NULL, *pid = NULL, *users = NULL;
  g_autoptr(GSubprocess) kamailio = NULL;
  g_autoptr(GSubprocess) sipp = NULL;
  g_autoptr(GError) error = NULL;
  Cli cli = { 0 };
  guint16 sip_port;
  const char *p;
  int status;

  if (!need_cli () || !have_program ("kamailio", "kamailio") ||
      !have_program ("sipp", "sip-tester"))
    return;
  dir = g_dir_make_tmp ("siplab-watch-XXXXXX", &error);
  g_assert_no_error (error);
  users = g_build_filename (dir, "users.txt", NULL);
  g_assert_true (g_file_set_contents (users, "alice:alicepw\n", -1, NULL));
  if (keyed)
    cli_start (&cli, "--hep", "udp:127.0.0.1:0", "--hep-key", KEY, "--users", users, NULL);
  else
    cli_start (&cli, "--hep", "udp:127.0.0.1:0", "--users", users, NULL);

  sip_port = free_udp_port ();
  cfg = write_kamailio_cfg (dir, sip_port, cli.hep, hep_version);
  kam_log = g_build_filename (dir, "kamailio.log", NULL);
  pid = g_build_filename (dir, "kamailio.pid", NULL);
  /* Foreground (-DD), logging to stderr (-E), its runtime files in the test's own folder. */
  {
    const char *argv[] = { "kamailio", "-DD", "-E", "-f", cfg, "-Y", dir, "-P", pid, NULL };
    kamailio = spawn_logged (kam_log, &error, argv);
    g_assert_no_error (error);
  }
  listen = g_strdup_printf ("%u", free_udp_port ());
  target = g_strdup_printf ("127.0.0.1:%u", sip_port);
  csv = g_build_filename (dir, "users.csv", NULL);
  g_assert_true (g_file_set_contents (csv, "SEQUENTIAL\n"
                                      "alice;[authentication username=alice password=alicepw];\n",
                                      -1, NULL));
  scenario = g_test_build_filename (G_TEST_DIST, "sipp", "register.xml", NULL);
  sipp_log = g_build_filename (dir, "sipp.log", NULL);
  /* Kamailio may still be starting: sipp retransmits (every 500 ms) until it answers. */
  {
    const char *argv[] = { "sipp", "-sf", scenario, "-inf", csv, "-auth_uri", "lab.test",
                           "-key", "domain", "lab.test", "-key", "expires", "3600", "-m", "1",
                           "-i", "127.0.0.1", "-p", listen, "-timeout", "20", "-timeout_error",
                           "-nostdin", target, NULL };
    sipp = spawn_logged (sipp_log, &error, argv);
    g_assert_no_error (error);
  }
  {
    gboolean exited = FALSE;
    g_subprocess_wait_async (sipp, NULL, wait_done_cb, &exited);
    wait_until (flag_set, &exited, WAIT_MS + 10000);
    if (!exited)
      g_subprocess_force_exit (sipp);
  }
  if (!wait_for_text (cli.out, "200 OK", 1))
    {
      print_log (kam_log);
      print_log (sipp_log);
    }
  g_subprocess_send_signal (kamailio, SIGTERM);
  status = cli_stop (&cli);
  g_test_message ("watch printed:\n%s%s", cli.out->str, cli.err->str);

  /* REGISTER, 401, REGISTER, 200, in this order, each once. */
  p = strstr (cli.out->str, "REGISTER (CSeq 1)");
  g_assert_nonnull (p);
  p = strstr (p, "401 Unauthorized (CSeq 1 REGISTER)");
  g_assert_nonnull (p);
  p = strstr (p, "REGISTER (CSeq 2)");
  g_assert_nonnull (p);
  /* Kamailio checked the password alicepw; SIP Lab, recomputing it, agrees. */
  p = strstr (p, "digest of alice: correct");
  g_assert_nonnull (p);
  p = strstr (p, "200 OK (CSeq 2 REGISTER)");
  g_assert_nonnull (p);
  g_assert_cmpint (status, ==, 0);
  g_assert_nonnull (strstr (cli.err->str, "dropped: 0 wrong"));
  {
    gboolean exited = FALSE;
    g_subprocess_wait_async (kamailio, NULL, wait_done_cb, &exited);
    if (!wait_until (flag_set, &exited, WAIT_MS))
      g_subprocess_force_exit (kamailio);
  }
  cli_clear (&cli);
  {
    g_autoptr(GFile) folder = g_file_new_for_path (dir);
    g_autoptr(GFileEnumerator) children = g_file_enumerate_children (folder, "standard::name",
                                                                     0, NULL, NULL);
    GFileInfo *info;
    while (children != NULL && (info = g_file_enumerator_next_file (children, NULL, NULL)))
      {
        g_autofree char *child = g_build_filename (dir, g_file_info_get_name (info), NULL);
        g_remove (child);
        g_object_unref (info);
      }
    g_rmdir (dir);
  }
}

/* ------------------------------------------------------------------------------------------ */
/* A capture as the GUI's document                                                            */

/*
 * tests/kamailio/register-digest.pcapng: dumpcap on lo while sipp registered to Kamailio
 * (tests/kamailio/kamailio.cfg, password alicepw) as alice twice, then as bob with a wrong
 * password (Kamailio reused its nonce for the second alice: a replay by SIP Lab's rules).
 */
static void
test_capture_document (void)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "kamailio", "register-digest.pcapng",
                                                 NULL);
  g_autofree char *dir = g_dir_make_tmp ("siplab-capture-XXXXXX", NULL);
  g_autofree char *users = g_build_filename (dir, "users.txt", NULL);
  g_autoptr(SimDocument) document = sim_document_new ();
  g_autoptr(GString) problems = g_string_new (NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) verdicts = g_string_new (NULL);
  SimWorld *world;
  SimTrace *trace;

  g_assert_true (sim_capture_world_is_capture_path (path));
  g_assert_true (sim_capture_world_is_capture_path ("x.PCAP"));
  g_assert_false (sim_capture_world_is_capture_path ("x.scn"));
  g_assert_true (g_file_set_contents (users, "alice:alicepw\nbob:bobpw\n", -1, NULL));
  g_assert_true (sim_document_open (document, NULL, &error));
  g_assert_true (sim_document_open_capture (document, path, users, problems, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (problems->str, ==, "");
  g_assert_true (g_str_has_prefix (sim_document_get_subtitle (document),
                                   "Capture: register-digest.pcapng"));
  g_assert_null (sim_document_get_scenario (document));
  world = sim_document_get_world (document);
  trace = sim_world_get_trace (world);
  g_assert_cmpuint (count_packets (trace, "sent"), ==, 14);
  for (guint i = 0; i < sim_trace_get_n_events (trace); i++)
    {
      SimEvent *event = sim_trace_get_event (trace, i);
      if (event->type == SIM_EVENT_NONCE && event->user != NULL)
        g_string_append_printf (verdicts, "%s %s;", event->user, event->text);
    }
  g_assert_cmpstr (verdicts->str, ==, "alice correct;alice replayed;bob wrong-password;");
  /* The views show the end of the capture; there is nothing to replay. */
  g_assert_cmpint (sim_world_now (world), >, SIM_SEC (7));
  g_assert_false (sim_document_step_back (document));
  g_assert_false (sim_document_restart (document, NULL));
  g_assert_true (sim_document_get_world (document) == world);

  /* A missing file leaves the capture open. */
  g_assert_false (sim_document_open_capture (document, "/nonexistent.pcap", NULL, NULL, &error));
  g_assert_nonnull (error);
  g_assert_true (sim_document_get_world (document) == world);
  g_remove (users);
  g_rmdir (dir);
}

typedef struct {
  SimDocument *document;
} DocumentSeen;

static gboolean
document_has_packet (gpointer data)
{
  DocumentSeen *seen = data;
  return count_packets (sim_world_get_trace (sim_document_get_world (seen->document)), "sent") > 0;
}

/* The GUI's "Watch a SIP Network…": live HEP into the document; Stop Listening closes it. */
static void
test_document_watch (void)
{
  g_autoptr(SimDocument) document = sim_document_new ();
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "kamailio", "register-digest.pcapng",
                                                 NULL);
  g_autoptr(GBytes) right = hep_packet (register_text, "192.0.2.7", "192.0.2.1", KEY, 1);
  g_autoptr(GError) error = NULL;
  g_autofree char *spec = NULL;
  g_autoptr(GInetSocketAddress) again_address = NULL;
  g_autoptr(GSocket) again = NULL;
  DocumentSeen seen = { document };
  const char *subtitle;

  /* From a capture (no scene): Stop Listening must still have something to go back to. */
  g_assert_true (sim_document_open_capture (document, path, NULL, NULL, &error));
  g_assert_false (sim_document_watch (document, "udp:nowhere:1", NULL, NULL, &error));
  g_assert_error (error, SIM_WATCH_ERROR, SIM_WATCH_ERROR_ADDRESS);
  g_clear_error (&error);
  g_assert_true (sim_document_watch (document, "udp:127.0.0.1:0", KEY, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (sim_document_get_live (document));
  subtitle = sim_document_get_subtitle (document);
  g_assert_true (g_str_has_prefix (subtitle, "Watching HEP on udp:127.0.0.1:"));
  spec = g_strndup (subtitle + strlen ("Watching HEP on "),
                    strcspn (subtitle + strlen ("Watching HEP on "), " "));
  send_to (spec, right);
  g_assert_true (wait_until (document_has_packet, &seen, WAIT_MS));
  g_assert_false (sim_document_step_back (document));

  sim_document_stop_listening (document);
  g_assert_false (sim_document_get_live (document));
  g_assert_nonnull (sim_document_get_scenario (document));
  /* The socket is closed: its port can be bound again. */
  again_address = sim_watch_parse_address (spec, NULL);
  again = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, NULL);
  g_assert_true (g_socket_bind (again, G_SOCKET_ADDRESS (again_address), FALSE, &error));
  g_assert_no_error (error);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/watch/address/is-udp-ip-and-port-and-nothing-else", test_address_parsing);
  g_test_add_data_func ("/watch/hep/a-datagram-on-ipv4-loopback-becomes-events",
                        "udp:127.0.0.1:0", test_datagram_becomes_events);
  g_test_add_data_func ("/watch/hep/a-datagram-on-ipv6-loopback-becomes-events",
                        "udp:[::1]:0", test_datagram_becomes_events);
  g_test_add_func ("/watch/hep/a-wrong-or-missing-key-is-dropped-and-counted",
                   test_wrong_key_dropped);
  g_test_add_func ("/watch/hep/garbage-other-protocols-and-oversize-are-dropped-and-counted",
                   test_garbage_dropped);
  g_test_add_func ("/watch/cli/prints-live-reports-drops-and-ends-on-sigint",
                   test_cli_live_and_sigint);
  g_test_add_func ("/watch/cli/a-wrong-command-line-exits-2", test_cli_usage_errors);
  g_test_add_data_func ("/watch/kamailio/hepv3-siptrace-of-a-digest-registration-shows-in-order",
                        "3", test_kamailio_siptrace);
  g_test_add_data_func ("/watch/kamailio/hepv2-siptrace-of-a-digest-registration-shows-in-order",
                        "2", test_kamailio_siptrace);
  g_test_add_data_func ("/watch/kamailio/hepv1-siptrace-of-a-digest-registration-shows-in-order",
                        "1", test_kamailio_siptrace);
  g_test_add_func ("/watch/capture/a-kamailio-capture-opens-as-a-document-with-verdicts",
                   test_capture_document);
  g_test_add_func ("/watch/document/live-hep-in-the-document-and-stop-listening",
                   test_document_watch);
  return g_test_run ();
}
