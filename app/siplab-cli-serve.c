/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "siplab-cli-serve.h"

#include <gio/gio.h>
#include <glib-unix.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "sim-export.h"
#include "sim-server.h"

/*
 * siplab-cli serve: the lab's registrar and proxy on real sockets, headless.  Every trace
 * event is printed as it happens, flushed line by line so a pipe (`| tee`, a test) sees it at
 * once: either one line per packet and binding change ("ladder", readable in a terminal next
 * to the phones) or JSON Lines, the format `siplab-cli run --format jsonl` writes.
 *
 * Status lines ("listening on ...") go to stderr so stdout stays pure JSON Lines.
 * Exit status: 0 after SIGINT/SIGTERM; 2 the command line or the users file is wrong;
 * 1 the server could not start (an address in use, an unreadable database).
 */

enum {
  EXIT_OK = 0,
  EXIT_RUNTIME = 1,
  EXIT_USAGE = 2,
};

typedef enum {
  FORMAT_LADDER,
  FORMAT_JSONL,
} Format;

typedef struct {
  Format format;
  gboolean timers;
  gboolean write_failed;
  gint64 clock_offset;
  GString *line;
  GMainLoop *loop;
} Serve;

static int
usage_error (const char *format,
             ...) G_GNUC_PRINTF (1, 2);

static int
usage_error (const char *format,
             ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  fprintf (stderr, "siplab-cli serve: %s\n", message);
  fprintf (stderr, "Try 'siplab-cli serve --help'.\n");
  return EXIT_USAGE;
}

/* "14:03:27.512", local time: what a student compares with the phone's own log. */
static void
append_time (Serve   *serve,
             SimTime  t,
             GString *out)
{
  gint64 usec = serve->clock_offset + t;
  time_t seconds = (time_t) (usec / G_USEC_PER_SEC);
  struct tm tm;
  char text[16];

  localtime_r (&seconds, &tm);
  strftime (text, sizeof text, "%H:%M:%S", &tm);
  g_string_append_printf (out, "%s.%03d ", text, (int) ((usec % G_USEC_PER_SEC) / 1000));
}

/* "alice (127.0.0.1:5071/UDP)", or just "127.0.0.1:5071/UDP" when the name is the address. */
static void
append_peer (GString       *out,
             const char    *name,
             const SimAddr *addr)
{
  char text[64];

  sim_addr_format (addr, text, sizeof text);
  if (name != NULL && strcmp (name, text) != 0)
    g_string_append_printf (out, "%s (%s/%s)", name, text, sim_transport_name (addr->transport));
  else
    g_string_append_printf (out, "%s/%s", text, sim_transport_name (addr->transport));
}

static gboolean
format_ladder_line (Serve    *serve,
                    SimEvent *event,
                    GString  *out)
{
  switch (event->type)
    {
    case SIM_EVENT_PACKET:
      {
        g_autofree char *label = sim_export_packet_label (event);
        gboolean inbound = g_strcmp0 (event->action, "delivered") == 0 ||
                           (g_strcmp0 (event->action, "dropped") == 0 &&
                            g_strcmp0 (event->to, SIM_SERVER_NODE_NAME) == 0);

        append_time (serve, event->t, out);
        if (inbound)
          {
            append_peer (out, event->from, &event->src);
            g_string_append_printf (out, " -> %s: ", event->to);
          }
        else
          {
            g_string_append_printf (out, "%s -> ", event->from);
            append_peer (out, event->to, &event->dst);
            g_string_append (out, ": ");
          }
        g_string_append (out, label);
        if (g_strcmp0 (event->action, "retransmitted") == 0)
          g_string_append (out, " (retransmission)");
        else if (g_strcmp0 (event->action, "dropped") == 0)
          g_string_append_printf (out, " DROPPED: %s", event->reason ? event->reason : "");
        return TRUE;
      }

    case SIM_EVENT_BINDING:
      append_time (serve, event->t, out);
      g_string_append_printf (out, "%s: binding %s %s", event->node, event->action,
                              event->aor ? event->aor : "");
      if (event->contact != NULL)
        g_string_append_printf (out, " -> %s", event->contact);
      if (g_strcmp0 (event->action, "added") == 0 || g_strcmp0 (event->action, "refreshed") == 0)
        g_string_append_printf (out, " (%" G_GINT64_FORMAT " s)", event->expires);
      if (event->text != NULL)
        g_string_append_printf (out, ": %s", event->text);
      if (event->reason != NULL)
        g_string_append_printf (out, " (%s)", event->reason);
      return TRUE;

    case SIM_EVENT_NOTE:
      append_time (serve, event->t, out);
      g_string_append_printf (out, "%s: %s", event->node ? event->node : "note",
                              event->text ? event->text : "");
      return TRUE;

    case SIM_EVENT_LOOKUP:
      append_time (serve, event->t, out);
      g_string_append_printf (out, "%s: lookup %s", event->node, event->text ? event->text : "");
      return TRUE;

    case SIM_EVENT_TIMER:
    case SIM_EVENT_TRANSACTION:
    case SIM_EVENT_NONCE:
    case SIM_EVENT_CALL:
    case SIM_EVENT_REGISTRATION:
    case SIM_EVENT_NODE:
    case SIM_EVENT_ACTION:
    default:
      return FALSE;
    }
}

static void
trace_event_cb (SimTrace *trace,
                SimEvent *event,
                gpointer  user_data)
{
  Serve *serve = user_data;
  GString *out = serve->line;

  if (serve->write_failed)
    return;
  if (!serve->timers && (event->type == SIM_EVENT_TIMER || event->type == SIM_EVENT_TRANSACTION))
    return;
  g_string_truncate (out, 0);
  if (serve->format == FORMAT_JSONL)
    sim_export_jsonl_line (event, out);
  else if (format_ladder_line (serve, event, out))
    g_string_append_c (out, '\n');
  if (out->len == 0)
    return;
  /* A reader gone away (a closed pipe) must not stop the registrar: stop printing instead. */
  if (fwrite (out->str, 1, out->len, stdout) != out->len || fflush (stdout) != 0)
    {
      serve->write_failed = TRUE;
      fprintf (stderr, "siplab-cli serve: cannot write to stdout any more; still serving\n");
    }
}

static gboolean
quit_cb (gpointer data)
{
  Serve *serve = data;

  g_main_loop_quit (serve->loop);
  return G_SOURCE_CONTINUE;
}

static gboolean
parse_seconds (const char *option,
               const char *text,
               SimTime    *out)
{
  guint64 n;

  if (text == NULL)
    return TRUE;
  if (!g_ascii_string_to_unsigned (text, 10, 1, 365 * 24 * 3600, &n, NULL))
    {
      usage_error ("%s takes a number of seconds, not '%s'", option, text);
      return FALSE;
    }
  *out = SIM_SEC (n);
  return TRUE;
}

int
siplab_cli_serve (int    argc,
                  char **argv)
{
  g_auto(GStrv) listen = NULL;
  g_autofree char *domain = NULL;
  g_autofree char *users_path = NULL;
  g_autofree char *db_path = NULL;
  g_autofree char *format_text = NULL;
  g_autofree char *window_text = NULL;
  g_autofree char *block_text = NULL;
  int auth_limit = 10;
  int max_message = 0;
  gboolean timers = FALSE;
  const GOptionEntry entries[] = {
    { "listen", 'l', 0, G_OPTION_ARG_STRING_ARRAY, &listen,
      "Listen here (repeatable): udp:HOST:PORT or tcp:HOST:PORT; IPv6 as udp:[::1]:5060. "
      "The first one is the address phones see in Via and Record-Route", "TRANSPORT:HOST:PORT" },
    { "domain", 'd', 0, G_OPTION_ARG_STRING, &domain,
      "The SIP domain (realm) of the AORs, e.g. lab.example or the server's IP", "DOMAIN" },
    { "users", 'u', 0, G_OPTION_ARG_FILENAME, &users_path,
      "Users file: one name:password a line, # comments; re-read on SIGHUP and on change", "FILE" },
    { "db", 0, 0, G_OPTION_ARG_FILENAME, &db_path,
      "Keep bindings (and the server secret) in this SQLite file across restarts", "FILE" },
    { "format", 'f', 0, G_OPTION_ARG_STRING, &format_text,
      "Output: ladder (one line per packet, default) or jsonl", "FORMAT" },
    { "timers", 't', 0, G_OPTION_ARG_NONE, &timers,
      "Also print transaction and timer events", NULL },
    { "auth-limit", 0, 0, G_OPTION_ARG_INT, &auth_limit,
      "Wrong passwords from one IP before its REGISTERs get 403 (default 10, 0: no limit)", "N" },
    { "auth-window", 0, 0, G_OPTION_ARG_STRING, &window_text,
      "...counted within this many seconds (default 60)", "SECONDS" },
    { "auth-block", 0, 0, G_OPTION_ARG_STRING, &block_text,
      "...and refused for this many seconds (default 300)", "SECONDS" },
    { "max-message", 0, 0, G_OPTION_ARG_INT, &max_message,
      "Drop messages larger than this (default and maximum 65535)", "BYTES" },
    { NULL }
  };
  g_autoptr(GOptionContext) context =
    g_option_context_new ("- the registrar and proxy on real sockets, for lab phones");
  g_autoptr(GError) error = NULL;
  g_autoptr(SimServer) server = NULL;
  g_autoptr(GMainLoop) loop = NULL;
  Serve serve = { FORMAT_LADDER, };
  SimTime window = SIM_SEC (60);
  SimTime block = SIM_SEC (300);
  GArray *bound;
  guint sigint, sigterm;
  gulong handler;

  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_set_description (context,
    "Example:\n"
    "  siplab-cli serve --listen udp:192.168.1.10:5060 --listen tcp:192.168.1.10:5060 \\\n"
    "                   --domain lab.example --users users.txt --db lab.sqlite\n"
    "\n"
    "Point phones at the first address with the domain as their SIP domain;\n"
    "docs/real-phones.md shows Linphone, baresip and desk phones.");
  if (!g_option_context_parse (context, &argc, &argv, &error))
    return usage_error ("%s", error->message);
  if (argc > 1)
    return usage_error ("unexpected argument '%s'", argv[1]);
  if (listen == NULL || listen[0] == NULL)
    return usage_error ("at least one --listen is needed, e.g. --listen udp:127.0.0.1:5060");
  if (domain == NULL || *domain == '\0')
    return usage_error ("--domain is needed, e.g. --domain lab.example");
  if (users_path == NULL)
    return usage_error ("--users is needed: a file with one name:password a line");
  if (format_text == NULL || strcmp (format_text, "ladder") == 0)
    serve.format = FORMAT_LADDER;
  else if (strcmp (format_text, "jsonl") == 0)
    serve.format = FORMAT_JSONL;
  else
    return usage_error ("unknown format '%s' (ladder or jsonl)", format_text);
  if (auth_limit < 0)
    return usage_error ("--auth-limit cannot be negative");
  if (max_message != 0 && (max_message < 512 || max_message > 65535))
    return usage_error ("--max-message must be between 512 and 65535");
  if (!parse_seconds ("--auth-window", window_text, &window) ||
      !parse_seconds ("--auth-block", block_text, &block))
    return EXIT_USAGE;
  for (guint i = 0; listen[i] != NULL; i++)
    {
      SimAddr addr;
      if (!sim_transport_parse_spec (listen[i], &addr, &error))
        return usage_error ("--listen %s", error->message);
    }

  /* Writes to a closed socket or pipe report EPIPE instead of killing the server. */
  signal (SIGPIPE, SIG_IGN);

  server = sim_server_new (domain, db_path, &error);
  if (server == NULL)
    {
      fprintf (stderr, "siplab-cli serve: %s\n", error->message);
      return EXIT_RUNTIME;
    }
  if (!sim_server_load_users (server, users_path, TRUE, &error))
    {
      fprintf (stderr, "%s\n", error->message);
      return EXIT_USAGE;
    }
  sim_server_set_auth_limit (server, (guint) auth_limit, window, block);
  if (max_message != 0)
    sim_socket_transport_set_max_message (sim_server_get_transport (server), (gsize) max_message);

  serve.timers = timers;
  serve.clock_offset = sim_server_get_clock_offset (server);
  serve.line = g_string_new (NULL);
  handler = g_signal_connect (sim_server_get_trace (server), "event",
                              G_CALLBACK (trace_event_cb), &serve);

  if (!sim_server_restore_bindings (server, &error))
    {
      fprintf (stderr, "siplab-cli serve: %s\n", error->message);
      g_clear_signal_handler (&handler, sim_server_get_trace (server));
      g_string_free (serve.line, TRUE);
      return EXIT_RUNTIME;
    }
  for (guint i = 0; listen[i] != NULL; i++)
    if (!sim_server_listen (server, listen[i], &error))
      {
        fprintf (stderr, "siplab-cli serve: cannot listen: %s\n", error->message);
        g_clear_signal_handler (&handler, sim_server_get_trace (server));
        g_string_free (serve.line, TRUE);
        return EXIT_RUNTIME;
      }

  bound = sim_socket_transport_get_listeners (sim_server_get_transport (server));
  for (guint i = 0; i < bound->len; i++)
    {
      const SimAddr *addr = &g_array_index (bound, SimAddr, i);
      char text[64];

      sim_addr_format (addr, text, sizeof text);
      fprintf (stderr, "siplab-cli serve: listening on %s:%s\n",
               addr->transport == SIM_TRANSPORT_TCP ? "tcp" : "udp", text);
    }
  {
    const SimAddr *first = &g_array_index (bound, SimAddr, 0);
    g_autoptr(GInetAddress) inet = g_inet_address_new_from_string (first->ip);
    /* The first endpoint is the sent-by of our Via and our Record-Route: phones must be able
     * to reach it, and 0.0.0.0 is not an address anyone can send to. */
    if (inet != NULL && g_inet_address_get_is_any (inet))
      fprintf (stderr, "siplab-cli serve: warning: the first --listen is %s, which phones cannot "
                       "send to; Via and Record-Route will name it and calls will fail. List the "
                       "server's LAN address first.\n", first->ip);
  }
  fprintf (stderr, "siplab-cli serve: domain %s, %u users, %u bindings%s%s\n", domain,
           sim_server_get_n_users (server),
           sim_location_get_n_bindings (sim_server_get_location (server)),
           db_path ? " restored from " : "", db_path ? db_path : "");
  fflush (stderr);

  loop = g_main_loop_new (NULL, FALSE);
  serve.loop = loop;
  sigint = g_unix_signal_add (SIGINT, quit_cb, &serve);
  sigterm = g_unix_signal_add (SIGTERM, quit_cb, &serve);
  g_main_loop_run (loop);
  g_source_remove (sigint);
  g_source_remove (sigterm);

  fprintf (stderr, "siplab-cli serve: stopped\n");
  sim_server_stop (server);
  g_clear_signal_handler (&handler, sim_server_get_trace (server));
  g_string_free (serve.line, TRUE);
  return EXIT_OK;
}
