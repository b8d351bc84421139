/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "siplab-cli-watch.h"

#include <glib-unix.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "sim-export.h"
#include "sim-observe.h"
#include "sim-watch.h"
#include "siplab-cli-common.h"

/*
 * siplab-cli watch --hep udp:HOST:PORT: receives HEPv3 from a PBX or proxy (sim-watch.h) and
 * prints what its observer makes of each SIP message as it arrives, in the ladder format (one
 * line per message and per digest verdict, binding change and new host), the messages format
 * (every message in full) or JSON Lines (docs/jsonl.md).
 *
 * Memory is bounded as in live mode: the trace keeps no events (each is printed and let go),
 * and the observer's own limits bound the hosts, transactions and nonces it remembers.  A reader
 * that does not read (a paused `| less`) only delays this process: HEP is fire-and-forget, so
 * the PBX never waits, and the kernel drops what the socket cannot hold.
 *
 * Status lines go to stderr (stdout stays pure JSON Lines with --format jsonl): "watching HEP on
 * udp:IP:PORT" once the socket is bound, the first WATCH_MAX_DROP_LINES drops (why, from
 * whom), and at exit the counts.  Exit status: 0 after SIGINT/SIGTERM; 2 the command line or
 * the users file is wrong; 1 the socket could not be bound or stdout failed.
 */

enum {
  EXIT_OK = 0,
  EXIT_RUNTIME = 1,
  EXIT_USAGE = SIPLAB_CLI_EXIT_USAGE,
};

/* Drops reported one by one on stderr; the rest are only counted (a flood must not flood). */
#define WATCH_MAX_DROP_LINES 10

typedef enum {
  FORMAT_LADDER,
  FORMAT_MESSAGES,
  FORMAT_JSONL,
} Format;

typedef struct {
  char *hep;
  char *hep_key;
  char *users_path;
  char *format_text;
  Format format;
} WatchOptions;

typedef struct {
  Format format;
  GString *line;
  GPtrArray *one;            /* a one-event array for sim_export_messages() */
  guint drop_lines;
  gboolean write_failed;
  GMainLoop *loop;
} Watch;

static void
watch_options_clear (WatchOptions *opts)
{
  g_clear_pointer (&opts->hep, g_free);
  g_clear_pointer (&opts->hep_key, g_free);
  g_clear_pointer (&opts->users_path, g_free);
  g_clear_pointer (&opts->format_text, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (WatchOptions, watch_options_clear)

/* The ladder format: one line per message, and the observer's verdicts and bindings. */
static gboolean
format_ladder_line (SimEvent *event,
                    GString  *out)
{
  g_autofree char *text = NULL;

  if (event->type == SIM_EVENT_PACKET)
    {
      g_autofree char *label = NULL;

      /* The observer emits "sent" then "delivered" for each message: one line is enough. */
      if (!sim_export_is_arrow (event))
        return FALSE;
      label = sim_export_packet_label (event);
      sim_export_format_time (event->t, out);
      g_string_append_printf (out, "  %s -> %s: %s", event->from, event->to, label);
      if (g_strcmp0 (event->action, "retransmitted") == 0)
        g_string_append_printf (out, " (retransmission%s%s)", event->reason ? ": " : "",
                                event->reason ? event->reason : "");
      return TRUE;
    }
  if (event->type == SIM_EVENT_NONCE && event->nonce != NULL && event->user != NULL &&
      g_strcmp0 (event->action, "issued") != 0)
    {
      const char *verdict = event->text != NULL ? event->text : event->action;

      sim_export_format_time (event->t, out);
      g_string_append_printf (out, "  %s: digest of %s: ", event->node ? event->node : "?",
                              event->user);
      /* The observer's reason may already start with the verdict ("undecidable: ..."). */
      if (event->reason == NULL)
        g_string_append (out, verdict);
      else if (g_str_has_prefix (event->reason, verdict))
        g_string_append (out, event->reason);
      else
        g_string_append_printf (out, "%s: %s", verdict, event->reason);
      return TRUE;
    }
  text = sim_export_describe_event (event, NULL);
  if (text == NULL)
    return FALSE;
  sim_export_format_time (event->t, out);
  g_string_append_printf (out, "  %s", text);
  return TRUE;
}

static void
trace_event_cb (SimTrace *trace,
                SimEvent *event,
                gpointer  user_data)
{
  Watch *watch = user_data;

  g_string_truncate (watch->line, 0);
  switch (watch->format)
    {
    case FORMAT_JSONL:
      sim_export_jsonl_line (event, watch->line);
      break;
    case FORMAT_MESSAGES:
      if (event->type != SIM_EVENT_PACKET || !sim_export_is_arrow (event))
        return;
      g_ptr_array_add (watch->one, event);
      sim_export_messages (watch->one, watch->line);
      g_ptr_array_set_size (watch->one, 0);
      break;
    case FORMAT_LADDER:
    default:
      if (!format_ladder_line (event, watch->line))
        return;
      g_string_append_c (watch->line, '\n');
      break;
    }
  /* Flushed at once: a pipe (`| tee`, a test) sees each message as it arrives. */
  if (fwrite (watch->line->str, 1, watch->line->len, stdout) != watch->line->len ||
      fflush (stdout) != 0)
    {
      watch->write_failed = TRUE;
      g_main_loop_quit (watch->loop);
    }
}

static void
dropped_cb (SimWatch   *sim_watch,
            const char *reason,
            gpointer    user_data)
{
  Watch *watch = user_data;

  if (watch->drop_lines >= WATCH_MAX_DROP_LINES)
    return;
  watch->drop_lines++;
  fprintf (stderr, "siplab-cli watch: %s%s\n", reason,
           watch->drop_lines == WATCH_MAX_DROP_LINES ? " (further drops are only counted)" : "");
}

static gboolean
quit_cb (gpointer user_data)
{
  Watch *watch = user_data;

  g_main_loop_quit (watch->loop);
  return G_SOURCE_CONTINUE;
}

static int
watch_options_parse (WatchOptions  *opts,
                     int           *argc,
                     char        ***argv)
{
  const GOptionEntry entries[] = {
    { "hep", 0, 0, G_OPTION_ARG_STRING, &opts->hep,
      "Receive HEP (v3; v1/v2 carry no key) on this UDP address (udp:127.0.0.1:9060, "
      "udp:[::1]:9060; port 0: any)",
      "udp:HOST:PORT" },
    { "hep-key", 0, 0, G_OPTION_ARG_STRING, &opts->hep_key,
      "Accept only HEP packets carrying this auth key (HEP chunk 14); others are dropped and "
      "counted", "KEY" },
    { "users", 'u', 0, G_OPTION_ARG_FILENAME, &opts->users_path,
      "Judge every Authorization against these passwords (name:password a line, as serve's)",
      "FILE" },
    { "format", 'f', 0, G_OPTION_ARG_STRING, &opts->format_text,
      "ladder (default), messages or jsonl", "FORMAT" },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("--hep udp:HOST:PORT");
  g_autoptr(GError) error = NULL;

  g_option_context_set_summary (context, "Show a PBX's SIP traffic live, received as HEP "
                                "(Kamailio siptrace, OpenSIPS, Asterisk res_hep, FreeSWITCH), "
                                "explained as the simulator explains its own.");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, argc, argv, &error))
    return siplab_cli_usage_error ("watch", "%s", error->message);
  if (*argc > 1)
    return siplab_cli_usage_error ("watch", "unexpected argument '%s'", (*argv)[1]);
  if (opts->hep == NULL)
    return siplab_cli_usage_error ("watch", "--hep udp:HOST:PORT is needed");
  if (opts->format_text == NULL || strcmp (opts->format_text, "ladder") == 0)
    opts->format = FORMAT_LADDER;
  else if (strcmp (opts->format_text, "messages") == 0)
    opts->format = FORMAT_MESSAGES;
  else if (strcmp (opts->format_text, "jsonl") == 0)
    opts->format = FORMAT_JSONL;
  else
    return siplab_cli_usage_error ("watch", "unknown format '%s' (ladder, messages or jsonl)",
                                   opts->format_text);
  return EXIT_OK;
}

static void
print_stats (SimWatch *sim_watch)
{
  const SimWatchStats *stats = sim_watch_get_stats (sim_watch);

  fprintf (stderr, "siplab-cli watch: %" G_GUINT64_FORMAT " datagrams, %" G_GUINT64_FORMAT
           " SIP messages shown; dropped: %" G_GUINT64_FORMAT " wrong or missing key, %"
           G_GUINT64_FORMAT " invalid HEP, %" G_GUINT64_FORMAT " not SIP, %" G_GUINT64_FORMAT
           " too large\n", stats->received, stats->observed, stats->dropped_key,
           stats->dropped_invalid, stats->dropped_not_sip, stats->dropped_large);
}

int
siplab_cli_watch (int    argc,
                  char **argv)
{
  g_auto(WatchOptions) opts = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(SimTrace) trace = sim_trace_new ();
  g_autoptr(SimObserver) observer = NULL;
  g_autoptr(SimWatch) sim_watch = NULL;
  g_autofree char *address = NULL;
  Watch watch = { 0 };
  guint sigint, sigterm;
  gulong handler;
  int status;

  status = watch_options_parse (&opts, &argc, &argv);
  if (status != EXIT_OK)
    return status;

  /* Live: every event is printed as it comes and none is kept. */
  sim_trace_set_keep (trace, FALSE);
  observer = sim_observer_new (trace);
  if (opts.users_path != NULL && !sim_observer_load_users (observer, opts.users_path, &error))
    {
      fprintf (stderr, "%s\n", error->message);
      return EXIT_USAGE;
    }
  sim_watch = sim_watch_new (observer, opts.hep, opts.hep_key, &error);
  if (sim_watch == NULL)
    {
      if (g_error_matches (error, SIM_WATCH_ERROR, SIM_WATCH_ERROR_ADDRESS))
        return siplab_cli_usage_error ("watch", "--hep %s", error->message);
      fprintf (stderr, "siplab-cli watch: %s\n", error->message);
      return EXIT_RUNTIME;
    }

  watch.format = opts.format;
  watch.line = g_string_new (NULL);
  watch.one = g_ptr_array_new ();
  watch.loop = g_main_loop_new (NULL, FALSE);
  handler = g_signal_connect (trace, "event", G_CALLBACK (trace_event_cb), &watch);
  g_signal_connect (sim_watch, "dropped", G_CALLBACK (dropped_cb), &watch);
  sigint = g_unix_signal_add (SIGINT, quit_cb, &watch);
  sigterm = g_unix_signal_add (SIGTERM, quit_cb, &watch);

  address = sim_watch_get_address (sim_watch);
  fprintf (stderr, "siplab-cli watch: watching HEP on %s%s\n", address,
           opts.hep_key != NULL && opts.hep_key[0] != '\0' ? " (auth key required)" : "");
  g_main_loop_run (watch.loop);

  g_source_remove (sigint);
  g_source_remove (sigterm);
  g_clear_signal_handler (&handler, trace);
  sim_watch_stop (sim_watch);
  print_stats (sim_watch);
  g_main_loop_unref (watch.loop);
  g_ptr_array_unref (watch.one);
  g_string_free (watch.line, TRUE);
  return watch.write_failed ? EXIT_RUNTIME : EXIT_OK;
}
