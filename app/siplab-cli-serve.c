/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "siplab-cli-serve.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib-unix.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sim-export.h"
#include "sim-live.h"
#include "sim-scenario.h"
#include "sim-server.h"
#include "sim-world.h"
#include "siplab-cli-audit.h"
#include "siplab-cli-common.h"
#include "siplab-cli-serve-config.h"

/*
 * siplab-cli serve: the lab's registrar and proxy on real sockets, headless.  Every trace
 * event is printed as it happens, flushed line by line so a pipe (`| tee`, a test) sees it at
 * once: either one line per packet and binding change ("ladder", readable in a terminal next
 * to the phones) or JSON Lines, the format `siplab-cli run --format jsonl` writes.
 *
 * With --scenario the registrar is a SimWorld's instead (mixed mode): the scenario's simulated
 * phones run on the wall clock next to the real phones, registered at the same registrar,
 * and the two kinds call each other through the one proxy (sim_world_listen()).
 *
 * Status lines ("listening on ...") go to stderr so stdout stays pure JSON Lines.
 *
 * Output never stops SIP: a reader that does not read (a paused `| less`, a stuck terminal)
 * must not freeze the registrar.  stdout and stderr are made non-blocking (their flags are
 * restored at exit) and written from bounded queues, SERVE_OUTPUT_MAX bytes of trace and
 * SERVE_STATUS_MAX of status lines, drained when the descriptor is writable.  When a queue is
 * full, whole lines are dropped and counted; once there is room again a line says how many
 * ("siplab-cli: N trace lines dropped: the output is not being read", on stdout in the ladder
 * format and on stderr with jsonl, whose stdout holds only JSON), and the total is printed on
 * stderr at exit.  A line that was partly written is always completed, so a reader never sees
 * half a line followed by another one.
 * Exit status: 0 after SIGINT/SIGTERM; 2 the command line or the users file is wrong;
 * 1 the server could not start (an address in use, an unreadable database).
 */

/*
 * GLib 2.74 hands its small structures (every GPtrArray, GHashTable, GString, GList node)
 * out of GSlice, a slab allocator of its own that keeps freed chunks in per-thread magazines
 * and gives a slab back only when all of it is free.  A registration's transactions and its
 * binding take chunks from the same slabs, so after a burst the slabs (and the allocator pages
 * under them) stay resident for the few bindings in each: at 100,000 bindings serve kept about
 * 1.6 KB of RSS per binding with GSlice, 460 bytes without it (issue 15).  G_SLICE=always-malloc
 * makes GSlice call malloc, as GLib 2.76 and later always do, so the allocator (mimalloc) sees
 * every block and the location's own heap (sim-location.c) holds the long-lived ones.  GSlice
 * reads its configuration once, on first use, which is before main(): GObject's constructor
 * already makes hash tables, and setenv() before libc's own initialisation would be undone.
 * So a function in .preinit_array, which runs before any library's constructor, sets the
 * configuration directly (GSlice only stores it there).  From GLib 2.76 on this does nothing.
 */
static void
set_gslice_always_malloc (int    argc,
                          char **argv,
                          char **envp)
{
  G_GNUC_BEGIN_IGNORE_DEPRECATIONS
  g_slice_set_config (G_SLICE_CONFIG_ALWAYS_MALLOC, TRUE);
  G_GNUC_END_IGNORE_DEPRECATIONS
}

__attribute__ ((section (".preinit_array"), used))
static void (*const preinit_gslice) (int, char **, char **) = set_gslice_always_malloc;

enum {
  EXIT_OK = 0,
  EXIT_RUNTIME = 1,
  EXIT_USAGE = SIPLAB_CLI_EXIT_USAGE,
};

/* The trace kept for a reader that is behind: a few seconds of a busy lab's ladder. */
#define SERVE_OUTPUT_MAX (1024 * 1024)
/* Status lines kept for stderr: they are few, this only bounds a stderr nobody reads. */
#define SERVE_STATUS_MAX (64 * 1024)
/* Trace is written once a burst of packets is handled, or sooner when this much waits. */
#define SERVE_OUTPUT_CHUNK (64 * 1024)
/* At exit, how long the queues may wait for a slow reader before what is left is dropped. */
#define SERVE_EXIT_FLUSH_MS 1000

/*
 * One output descriptor: a bounded queue of whole lines (the first one possibly partly
 * written), drained with non-blocking writes.
 */
typedef struct _Output Output;
struct _Output {
  int fd;
  int saved_flags;           /* the descriptor's flags before serving, -1: left alone */
  gsize max;                 /* queue bound in bytes */
  GString *queue;
  gsize head;                /* bytes of queue already written */
  guint64 dropped;           /* lines dropped since the last report */
  guint64 dropped_total;
  guint watch;               /* waits for the descriptor to be writable again */
  gboolean failed;           /* the reader is gone (EPIPE...): nothing more is written */
  Output *report_to;         /* where the "lines dropped" report goes (this or stderr's) */
  const char *kind;          /* what the lines are, for that report: "trace", "status" */
};

typedef enum {
  FORMAT_LADDER,
  FORMAT_JSONL,
  FORMAT_NONE,
} Format;

typedef struct {
  Format format;
  const char *server_name;   /* the registrar's node name in the trace */
  gboolean timers;
  gint64 clock_offset;
  GString *line;
  Output out;                /* the trace, on stdout */
  Output err;                /* status lines, on stderr */
  Output *status;            /* where status lines go: err, or out when both are one file */
  guint flush_source;
  guint sigint, sigterm;
  guint sighup, sighup_report;  /* the plain server: what a reload (SIGHUP) did, as a status */
  SimServer *server;
  const char *users_path;
  GMainLoop *loop;
  SiplabServeLogLevel log_level;  /* status lines above this priority are not printed */
  gboolean journal;          /* stderr is the journal: lines start with "<N>" (sd-daemon.h) */
} Serve;

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
                            g_strcmp0 (event->to, serve->server_name) == 0);

        /* One line per packet, seen from the registrar: a simulated phone's packet is traced
         * when its phone sends it and again when it arrives (mixed mode). */
        if ((g_strcmp0 (event->action, "delivered") == 0 &&
             g_strcmp0 (event->to, serve->server_name) != 0) ||
            ((g_strcmp0 (event->action, "sent") == 0 ||
              g_strcmp0 (event->action, "retransmitted") == 0) &&
             g_strcmp0 (event->from, serve->server_name) != 0))
          return FALSE;

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
      g_string_append_printf (out, "%s: %s %s", event->node,
                              g_strcmp0 (event->action, "challenged") == 0 ? "challenge:"
                              : g_strcmp0 (event->action, "rejected") == 0 ? "refused:" : "lookup",
                              event->text ? event->text : "");
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

static gboolean output_writable_cb (int          fd,
                                    GIOCondition condition,
                                    gpointer     data);

static void
output_init (Output     *output,
             int         fd,
             gsize       max,
             const char *kind)
{
  struct stat st;

  output->fd = fd;
  output->kind = kind;
  output->max = max;
  output->saved_flags = -1;
  output->queue = g_string_new (NULL);
  output->report_to = output;
  /* A regular file never keeps a writer waiting; anything else (a pipe, a terminal, the
   * journal's socket) can.  The flags belong to the open file, which a shell may share: they
   * are restored at exit. */
  if (fstat (fd, &st) == 0 && !S_ISREG (st.st_mode))
    {
      int flags = fcntl (fd, F_GETFL);

      if (flags != -1 && (flags & O_NONBLOCK) == 0 && fcntl (fd, F_SETFL, flags | O_NONBLOCK) == 0)
        output->saved_flags = flags;
    }
}

static guint64
count_lines (const char *text,
             gsize       len)
{
  guint64 n = 0;

  for (const char *p = text; (p = memchr (p, '\n', text + len - p)) != NULL; p++)
    n++;
  return n;
}

static void
output_report_drops (Output *output)
{
  Output *target = output->report_to;
  char report[128];
  int len;

  len = g_snprintf (report, sizeof report,
                    "siplab-cli: %" G_GUINT64_FORMAT " %s lines dropped: the output is not "
                    "being read\n", output->dropped, output->kind);
  if (target->failed || target->queue->len - target->head + len > target->max)
    return;
  g_string_append_len (target->queue, report, len);
  output->dropped = 0;
}

/* Queues one or more whole lines, or drops them all (counted) when the queue is full. */
static void
output_push (Output     *output,
             const char *text,
             gsize       len)
{
  gsize queued;

  if (output->failed || len == 0)
    return;
  /* Room again after drops: the report goes where the gap is, before the next line. */
  if (output->dropped > 0)
    output_report_drops (output);
  queued = output->queue->len - output->head;
  if (output->dropped > 0 && output->report_to == output)
    {
      /* The report did not fit yet: nothing may jump ahead of it. */
      output->dropped += count_lines (text, len);
      output->dropped_total += count_lines (text, len);
      return;
    }
  if (queued + len > output->max)
    {
      output->dropped += count_lines (text, len);
      output->dropped_total += count_lines (text, len);
      return;
    }
  g_string_append_len (output->queue, text, len);
}

/*
 * Writes what the descriptor takes without waiting.  What is left waits for a G_IO_OUT watch;
 * a reader gone away (a closed pipe) stops the output, never the registrar.
 */
static void
output_flush (Output *output)
{
  while (!output->failed)
    {
      gsize left = output->queue->len - output->head;
      gssize n;

      if (left == 0)
        {
          g_string_truncate (output->queue, 0);
          output->head = 0;
          /* Drained after drops: say so now rather than at the next line. */
          if (output->dropped > 0)
            {
              output_report_drops (output);
              if (output->report_to != output)
                output_flush (output->report_to);
              else if (output->dropped == 0)
                continue;
            }
          break;
        }
      n = write (output->fd, output->queue->str + output->head, left);
      if (n > 0)
        {
          output->head += n;
          continue;
        }
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        {
          if (output->watch == 0)
            output->watch = g_unix_fd_add (output->fd, G_IO_OUT, output_writable_cb, output);
          break;
        }
      output->failed = TRUE;
      output->dropped_total += count_lines (output->queue->str + output->head, left);
      g_string_truncate (output->queue, 0);
      output->head = 0;
    }
  /* Keep the queue's memory bounded by max, not by how much was ever written. */
  if (output->head > SERVE_OUTPUT_CHUNK && output->head * 2 > output->queue->len)
    {
      g_string_erase (output->queue, 0, output->head);
      output->head = 0;
    }
}

static gboolean
output_writable_cb (int          fd,
                    GIOCondition condition,
                    gpointer     data)
{
  Output *output = data;

  output->watch = 0;
  output_flush (output);
  /* output_flush () added a new watch if the descriptor is full again. */
  return G_SOURCE_REMOVE;
}

static gboolean
output_busy (Output *output)
{
  return output->watch != 0;
}

/* At exit: a bounded wait for a slow reader, then whatever is still queued counts as dropped. */
static void
output_finish (Output *output)
{
  gint64 deadline = g_get_monotonic_time () + SERVE_EXIT_FLUSH_MS * G_TIME_SPAN_MILLISECOND;

  if (output->queue == NULL)
    return;
  g_clear_handle_id (&output->watch, g_source_remove);
  for (;;)
    {
      struct pollfd pfd = { output->fd, POLLOUT, 0 };
      gint64 left;

      output_flush (output);
      g_clear_handle_id (&output->watch, g_source_remove);
      left = (deadline - g_get_monotonic_time ()) / G_TIME_SPAN_MILLISECOND;
      if (output->failed || output->queue->len == output->head || left <= 0)
        break;
      poll (&pfd, 1, (int) left);
    }
  output->dropped_total += count_lines (output->queue->str + output->head,
                                        output->queue->len - output->head);
  g_string_free (output->queue, TRUE);
  output->queue = NULL;
}

/* The descriptor gets its flags back: a shell may share it. */
static void
output_restore (Output *output)
{
  if (output->saved_flags != -1)
    fcntl (output->fd, F_SETFL, output->saved_flags);
  output->saved_flags = -1;
}

/* A status line on stderr that cannot block either. */
static void
serve_status (Serve      *serve,
              const char *format,
              ...) G_GNUC_PRINTF (2, 3);

static void
serve_status (Serve      *serve,
              const char *format,
              ...)
{
  g_autofree char *text = NULL;
  g_autofree char *line = NULL;
  va_list args;

  SiplabServeLogLevel priority;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);
  priority = siplab_cli_serve_log_priority (text);
  if (serve->log_level != 0 && priority > serve->log_level)
    return;
  /* Under systemd the journal reads the priority off the line (SyslogLevelPrefix=): a
   * warning is then a warning in `journalctl -p warning`. */
  if (serve->journal)
    line = g_strdup_printf ("<%d>siplab-cli serve: %s\n", (int) priority, text);
  else
    line = g_strdup_printf ("siplab-cli serve: %s\n", text);
  output_push (serve->status, line, strlen (line));
  output_flush (serve->status);
}

static void
serve_output_start (Serve *serve)
{
  struct stat out_st, err_st;

  output_init (&serve->out, STDOUT_FILENO, SERVE_OUTPUT_MAX, "trace");
  output_init (&serve->err, STDERR_FILENO, SERVE_STATUS_MAX, "status");
  serve->status = &serve->err;
  serve->journal = *siplab_cli_serve_log_prefix (SIPLAB_SERVE_LOG_INFO) != '\0';
  /* `2>&1 | less`: one pipe, so one queue, or a status line could land inside a trace line
   * that was partly written. */
  if (fstat (STDOUT_FILENO, &out_st) == 0 && fstat (STDERR_FILENO, &err_st) == 0 &&
      out_st.st_dev == err_st.st_dev && out_st.st_ino == err_st.st_ino &&
      !S_ISREG (out_st.st_mode))
    serve->status = &serve->out;
  /* JSON Lines consumers expect nothing but JSON on stdout. */
  else if (serve->format == FORMAT_JSONL)
    serve->out.report_to = &serve->err;
}

static void
flush_pending (Serve *serve)
{
  gboolean failed = serve->out.failed;

  output_flush (&serve->out);
  if (serve->out.failed && !failed)
    serve_status (serve, "cannot write to stdout any more; still serving");
}

static gboolean
flush_cb (gpointer data)
{
  Serve *serve = data;

  serve->flush_source = 0;
  flush_pending (serve);
  return G_SOURCE_REMOVE;
}
static void
trace_event_cb (SimTrace *trace,
                SimEvent *event,
                gpointer  user_data)
{
  Serve *serve = user_data;
  GString *out = serve->line;

  if (serve->out.failed)
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
  output_push (&serve->out, out->str, out->len);
  /* Lines are written once the current burst of packets is handled (the source runs at the
   * sockets' priority, so it is not starved under load), or sooner when much is waiting:
   * one write(2) per burst instead of one per line, and a pipe still sees every line at once
   * when the server is idle.  While the reader is behind, its writable watch drains. */
  if (output_busy (&serve->out))
    return;
  if (serve->out.queue->len - serve->out.head >= SERVE_OUTPUT_CHUNK)
    flush_pending (serve);
  else if (serve->flush_source == 0)
    serve->flush_source = g_idle_add_full (G_PRIORITY_DEFAULT, flush_cb, serve, NULL);
}

static void
serve_clear (Serve *serve)
{
  g_clear_handle_id (&serve->flush_source, g_source_remove);
  g_clear_handle_id (&serve->sigint, g_source_remove);
  g_clear_handle_id (&serve->sigterm, g_source_remove);
  g_clear_handle_id (&serve->sighup, g_source_remove);
  g_clear_handle_id (&serve->sighup_report, g_source_remove);
  g_clear_pointer (&serve->loop, g_main_loop_unref);
  g_string_free (serve->line, TRUE);
  /* The total goes after everything else, on stderr even when stdout is gone. */
  serve->status = &serve->err;
  output_finish (&serve->out);
  if (serve->out.dropped_total > 0)
    serve_status (serve, "%" G_GUINT64_FORMAT " trace lines dropped in all: the output was "
                  "not read fast enough", serve->out.dropped_total);
  output_finish (&serve->err);
  /* Only now: stdout and stderr may be one open file, and its flags one. */
  output_restore (&serve->out);
  output_restore (&serve->err);
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
      siplab_cli_usage_error ("serve", "%s takes a number of seconds, not '%s'", option, text);
      return FALSE;
    }
  *out = SIM_SEC (n);
  return TRUE;
}

/*
 * --tcp-*: the TCP limits of sim-transport.h (idle, unfinished-message and connect timeouts,
 * connection caps); 0 or NULL keeps the transport's default.  Kept together so both the plain
 * server and mixed mode (--scenario) apply the same ones.
 */
typedef struct {
  char *idle_text;
  char *message_text;
  char *connect_text;
  int max;
  int max_per_ip;
} TcpOptions;

static gboolean
tcp_options_check (const TcpOptions *tcp)
{
  SimTime t = 0;

  if (tcp->max < 0 || tcp->max_per_ip < 0)
    {
      siplab_cli_usage_error ("serve", "--tcp-max and --tcp-max-per-ip take a positive number");
      return FALSE;
    }
  return parse_seconds ("--tcp-idle", tcp->idle_text, &t) &&
         parse_seconds ("--tcp-message-timeout", tcp->message_text, &t) &&
         parse_seconds ("--tcp-connect-timeout", tcp->connect_text, &t);
}

static void
tcp_options_apply (const TcpOptions   *tcp,
                   SimSocketTransport *transport)
{
  SimTime t = 0;

  if (tcp->idle_text != NULL && parse_seconds ("--tcp-idle", tcp->idle_text, &t))
    sim_socket_transport_set_tcp_idle_timeout (transport, t);
  if (tcp->message_text != NULL &&
      parse_seconds ("--tcp-message-timeout", tcp->message_text, &t))
    sim_socket_transport_set_tcp_message_timeout (transport, t);
  if (tcp->connect_text != NULL &&
      parse_seconds ("--tcp-connect-timeout", tcp->connect_text, &t))
    sim_socket_transport_set_tcp_connect_timeout (transport, t);
  if (tcp->max > 0)
    sim_socket_transport_set_tcp_max_connections (transport, (guint) tcp->max);
  if (tcp->max_per_ip > 0)
    sim_socket_transport_set_tcp_max_per_ip (transport, (guint) tcp->max_per_ip);
}

/*
 * --max-transactions, --max-transaction-memory: the limits of sim-stack.h on what live
 * transactions may hold (SIM_STACK_MAX_TRANSACTIONS, SIM_STACK_MAX_TRANSACTION_BYTES); 0 keeps
 * the default.  The plain server and mixed mode apply them to the registrar's stack.
 */
typedef struct {
  int max_transactions;
  int max_memory_mb;
} StackOptions;

static gboolean
stack_options_check (const StackOptions *stack)
{
  if (stack->max_transactions < 0 || stack->max_memory_mb < 0)
    {
      siplab_cli_usage_error ("serve", "--max-transactions and --max-transaction-memory take a "
                              "positive number");
      return FALSE;
    }
  return TRUE;
}

static void
stack_options_apply (const StackOptions *options,
                     SimStack           *stack)
{
  if (options->max_transactions > 0)
    sim_stack_set_max_transactions (stack, (guint) options->max_transactions);
  if (options->max_memory_mb > 0)
    sim_stack_set_max_transaction_bytes (stack, (guint64) options->max_memory_mb * 1024 * 1024);
}

static gboolean
parse_format (const char *format_text,
              Format     *format)
{
  if (format_text == NULL || strcmp (format_text, "ladder") == 0)
    *format = FORMAT_LADDER;
  else if (strcmp (format_text, "jsonl") == 0)
    *format = FORMAT_JSONL;
  else if (strcmp (format_text, "none") == 0)
    *format = FORMAT_NONE;
  else
    {
      siplab_cli_usage_error ("serve", "unknown format '%s' (ladder, jsonl or none)", format_text);
      return FALSE;
    }
  return TRUE;
}

/* ------------------------------------------------------------------------------------------ */
/* The command line                                                                           */

typedef struct {
  char **listen;
  char *domain;
  char *users_path;
  char *db_path;
  char *format_text;
  char *window_text;
  char *block_text;
  char *scenario_path;
  char *cert_path;
  char *key_path;
  char *config_path;         /* only for --help: siplab_cli_serve_config_expand () reads it */
  char *log_level_text;
  int auth_limit;
  int max_message;           /* 0: the transport's default */
  gboolean timers;
  gboolean relay;
  TcpOptions tcp;
  StackOptions stack;
  /* Parsed from the texts above by the checks of each mode. */
  Format format;
  SimTime window;
  SimTime block;
} ServeOptions;

static void
serve_options_clear (ServeOptions *opts)
{
  g_clear_pointer (&opts->listen, g_strfreev);
  g_clear_pointer (&opts->domain, g_free);
  g_clear_pointer (&opts->users_path, g_free);
  g_clear_pointer (&opts->db_path, g_free);
  g_clear_pointer (&opts->format_text, g_free);
  g_clear_pointer (&opts->window_text, g_free);
  g_clear_pointer (&opts->block_text, g_free);
  g_clear_pointer (&opts->scenario_path, g_free);
  g_clear_pointer (&opts->cert_path, g_free);
  g_clear_pointer (&opts->key_path, g_free);
  g_clear_pointer (&opts->config_path, g_free);
  g_clear_pointer (&opts->log_level_text, g_free);
  g_clear_pointer (&opts->tcp.idle_text, g_free);
  g_clear_pointer (&opts->tcp.message_text, g_free);
  g_clear_pointer (&opts->tcp.connect_text, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (ServeOptions, serve_options_clear)

static GOptionContext *
serve_options_context_new (ServeOptions *opts)
{
  const GOptionEntry entries[] = {
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, &opts->config_path,
      "Read these options from a configuration file (siplab-serve.conf(5)); flags given too "
      "override it, a --listen replaces all its listeners", "FILE" },
    { "listen", 'l', 0, G_OPTION_ARG_STRING_ARRAY, &opts->listen,
      "Listen here (repeatable): udp:HOST:PORT, tcp:HOST:PORT or tls:HOST:PORT (needs --cert "
      "and --key; 5061 is SIP over TLS's port); IPv6 as udp:[::1]:5060. "
      "Every listener is the server; the first one is the address in its Via, so list the LAN "
      "address first", "TRANSPORT:HOST:PORT" },
    { "domain", 'd', 0, G_OPTION_ARG_STRING, &opts->domain,
      "The SIP domain (realm) of the AORs, e.g. lab.example or the server's IP", "DOMAIN" },
    { "users", 'u', 0, G_OPTION_ARG_FILENAME, &opts->users_path,
      "Users file: one name:password a line, # comments; re-read on SIGHUP and on change", "FILE" },
    { "db", 0, 0, G_OPTION_ARG_FILENAME, &opts->db_path,
      "Keep bindings (and the server secret) in this SQLite file across restarts", "FILE" },
    { "format", 'f', 0, G_OPTION_ARG_STRING, &opts->format_text,
      "Output: ladder (one line per packet, default), jsonl, or none (only status lines on "
      "stderr: the fastest, for a registrar under load)", "FORMAT" },
    { "timers", 't', 0, G_OPTION_ARG_NONE, &opts->timers,
      "Also print transaction and timer events", NULL },
    { "log-level", 0, 0, G_OPTION_ARG_STRING, &opts->log_level_text,
      "Status lines printed on stderr: error, warning or info (default: info, all of them)",
      "LEVEL" },
    { "auth-limit", 0, 0, G_OPTION_ARG_INT, &opts->auth_limit,
      "Wrong passwords for one user from one IP before that user's requests from there get 403 "
      "(default 10, 0: no limit)", "N" },
    { "auth-window", 0, 0, G_OPTION_ARG_STRING, &opts->window_text,
      "...counted within this many seconds (default 60)", "SECONDS" },
    { "auth-block", 0, 0, G_OPTION_ARG_STRING, &opts->block_text,
      "...and refused for this many seconds (default 300)", "SECONDS" },
    { "relay", 0, 0, G_OPTION_ARG_NONE, &opts->relay,
      "Also forward requests for other domains, for authenticated users only (default: off, "
      "such requests get 403)", NULL },
    { "max-message", 0, 0, G_OPTION_ARG_INT, &opts->max_message,
      "Drop messages larger than this (default and maximum 65535)", "BYTES" },
    { "scenario", 's', 0, G_OPTION_ARG_FILENAME, &opts->scenario_path,
      "Mixed mode: also run this scenario's simulated phones (and its users, domain and "
      "actions, in real time) on the same registrar", "FILE" },
    { "cert", 0, 0, G_OPTION_ARG_FILENAME, &opts->cert_path,
      "TLS listeners: the server's certificate, PEM (its chain may follow it)", "FILE" },
    { "key", 0, 0, G_OPTION_ARG_FILENAME, &opts->key_path,
      "TLS listeners: the certificate's private key, PEM, without a passphrase", "FILE" },
    { "tcp-idle", 0, 0, G_OPTION_ARG_STRING, &opts->tcp.idle_text,
      "Close a TCP connection without a SIP message for this many seconds (CRLF pings count "
      "only on the flow of a live registration, which is never closed for being idle); one "
      "that never carried a registration lives at most ten times this (default 120)", "SECONDS" },
    { "tcp-message-timeout", 0, 0, G_OPTION_ARG_STRING, &opts->tcp.message_text,
      "Close a TCP connection whose message is not complete this many seconds after it "
      "began (default 20)", "SECONDS" },
    { "tcp-connect-timeout", 0, 0, G_OPTION_ARG_STRING, &opts->tcp.connect_text,
      "Give up an outbound TCP connect after this many seconds: 503; also close a TLS "
      "connection whose handshake is not done this long after it was accepted (default 10)",
      "SECONDS" },
    { "tcp-max", 0, 0, G_OPTION_ARG_INT, &opts->tcp.max,
      "Open TCP connections in all, TLS ones included (default 4096, never above the "
      "descriptor limit less 64)",
      "N" },
    { "tcp-max-per-ip", 0, 0, G_OPTION_ARG_INT, &opts->tcp.max_per_ip,
      "Open TCP and TLS connections from one IP address (default 256: a classroom behind one "
      "NAT)",
      "N" },
    { "max-transactions", 0, 0, G_OPTION_ARG_INT, &opts->stack.max_transactions,
      "Live SIP transactions before new requests get 503 with Retry-After (default 131072; "
      "one address may hold 1/16)",
      "N" },
    { "max-transaction-memory", 0, 0, G_OPTION_ARG_INT, &opts->stack.max_memory_mb,
      "Megabytes of messages live transactions may hold before new requests get 503 "
      "(default 64; requests under 4 KB may use an eighth more; one address may hold 1/16)",
      "MB" },
    { NULL }
  };
  GOptionContext *context =
    g_option_context_new ("- the registrar and proxy on real sockets, for lab phones");

  /* The context keeps a copy of the entries: they may live on this stack. */
  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_set_description (context,
    "Example:\n"
    "  siplab-cli serve --listen udp:192.168.1.10:5060 --listen tcp:192.168.1.10:5060 \\\n"
    "                   --domain lab.example --users users.txt --db lab.sqlite\n"
    "\n"
    "With TLS (the TCP limits apply to TLS connections too):\n"
    "  siplab-cli serve --listen udp:192.168.1.10:5060 --listen tls:192.168.1.10:5061 \\\n"
    "                   --cert server.pem --key server.key --domain lab.example --users users.txt\n"
    "\n"
    "Point phones at the first address with the domain as their SIP domain;\n"
    "docs/real-phones.md shows Linphone, baresip and desk phones.");
  return context;
}

/* What both modes need: EXIT_OK, or EXIT_USAGE after saying what is wrong. */
static int
serve_options_parse (ServeOptions   *opts,
                     int            *argc,
                     char         ***argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;

  opts->auth_limit = 10;
  opts->window = SIM_SEC (60);
  opts->block = SIM_SEC (300);
  context = serve_options_context_new (opts);
  if (!g_option_context_parse (context, argc, argv, &error))
    return siplab_cli_usage_error ("serve", "%s", error->message);
  if (*argc > 1)
    return siplab_cli_usage_error ("serve", "unexpected argument '%s'", (*argv)[1]);
  if (!tcp_options_check (&opts->tcp) || !stack_options_check (&opts->stack))
    return EXIT_USAGE;
  if (opts->log_level_text != NULL && !siplab_cli_serve_log_level_parse (opts->log_level_text,
                                                                          NULL))
    return siplab_cli_usage_error ("serve", "--log-level is error, warning or info, not '%s'",
                                   opts->log_level_text);
  if (opts->listen == NULL || opts->listen[0] == NULL)
    return siplab_cli_usage_error ("serve", "at least one --listen is needed, e.g. "
                                   "--listen udp:127.0.0.1:5060");
  return EXIT_OK;
}

/* TRUE if a --listen is tls: (those that do not parse are judged elsewhere). */
static gboolean
serve_options_have_tls (const ServeOptions *opts)
{
  for (guint i = 0; opts->listen[i] != NULL; i++)
    {
      SimAddr addr;

      if (sim_transport_parse_spec (opts->listen[i], &addr, NULL) &&
          addr.transport == SIM_TRANSPORT_TLS)
        return TRUE;
    }
  return FALSE;
}

/*
 * Every --listen parses, and --cert and --key come together exactly when a tls: listener
 * needs them: EXIT_OK, or EXIT_USAGE after saying what is wrong.
 */
static int
serve_options_check_listen (ServeOptions *opts)
{
  gboolean tls = FALSE;

  for (guint i = 0; opts->listen[i] != NULL; i++)
    {
      g_autoptr(GError) error = NULL;
      SimAddr addr;

      if (!sim_transport_parse_spec (opts->listen[i], &addr, &error))
        return siplab_cli_usage_error ("serve", "--listen %s", error->message);
      tls |= addr.transport == SIM_TRANSPORT_TLS;
    }
  if (tls && (opts->cert_path == NULL || opts->key_path == NULL))
    return siplab_cli_usage_error ("serve", "--listen tls:... needs --cert FILE and --key FILE "
                                   "(the server's certificate and its private key, PEM)");
  if (!tls && (opts->cert_path != NULL || opts->key_path != NULL))
    return siplab_cli_usage_error ("serve", "--cert and --key are for a --listen tls:HOST:PORT, "
                                   "and there is none");
  return EXIT_OK;
}

/* The plain server's options: EXIT_OK, or EXIT_USAGE after saying what is wrong. */
static int
serve_options_check_server (ServeOptions *opts)
{
  g_autoptr(GError) error = NULL;

  if (opts->domain == NULL || *opts->domain == '\0')
    return siplab_cli_usage_error ("serve", "--domain is needed, e.g. --domain lab.example");
  if (opts->users_path == NULL)
    return siplab_cli_usage_error ("serve", "--users is needed: a file with one name:password "
                                   "a line");
  if (!parse_format (opts->format_text, &opts->format))
    return EXIT_USAGE;
  if (opts->auth_limit < 0)
    return siplab_cli_usage_error ("serve", "--auth-limit cannot be negative");
  if (opts->max_message != 0 && (opts->max_message < SIM_TRANSPORT_MIN_MAX_MESSAGE ||
                                 opts->max_message > SIM_TRANSPORT_MAX_MESSAGE))
    return siplab_cli_usage_error ("serve", "--max-message must be between %d and %d",
                                   SIM_TRANSPORT_MIN_MAX_MESSAGE, SIM_TRANSPORT_MAX_MESSAGE);
  if (!parse_seconds ("--auth-window", opts->window_text, &opts->window) ||
      !parse_seconds ("--auth-block", opts->block_text, &opts->block))
    return EXIT_USAGE;
  return serve_options_check_listen (opts);
}

/* ------------------------------------------------------------------------------------------ */
/* Serving                                                                                    */

static void
print_listeners (Serve              *serve,
                 SimSocketTransport *transport)
{
  GArray *bound = sim_socket_transport_get_listeners (transport);

  for (guint i = 0; i < bound->len; i++)
    {
      const SimAddr *addr = &g_array_index (bound, SimAddr, i);
      char text[64];

      sim_addr_format (addr, text, sizeof text);
      serve_status (serve, "listening on %s:%s",
                    addr->transport == SIM_TRANSPORT_TCP ? "tcp" :
                    addr->transport == SIM_TRANSPORT_TLS ? "tls" : "udp", text);
    }
}

/*
 * SIGINT and SIGTERM end the main loop.  Installed before the "domain ..." status line, which
 * tells a supervisor (or a test) that the server is up: a SIGTERM right after it must still
 * mean a clean exit, not the default action.
 */
static void
catch_signals (Serve *serve)
{
  serve->loop = g_main_loop_new (NULL, FALSE);
  serve->sigint = g_unix_signal_add (SIGINT, quit_cb, serve);
  serve->sigterm = g_unix_signal_add (SIGTERM, quit_cb, serve);
}

/* Runs the main loop until SIGINT or SIGTERM. */
static void
run_until_signal (Serve *serve)
{
  g_main_loop_run (serve->loop);
  g_clear_handle_id (&serve->sigint, g_source_remove);
  g_clear_handle_id (&serve->sigterm, g_source_remove);
  g_clear_handle_id (&serve->flush_source, g_source_remove);
  flush_pending (serve);
  g_clear_pointer (&serve->loop, g_main_loop_unref);
  serve_status (serve, "stopped");
}

/* Starts printing @trace's events; the handler's id, 0 with --format none. */
static gulong
serve_start (Serve              *serve,
             const ServeOptions *opts,
             SimTrace           *trace)
{
  serve->timers = opts->timers;
  serve->log_level = SIPLAB_SERVE_LOG_INFO;
  siplab_cli_serve_log_level_parse (opts->log_level_text, &serve->log_level);
  serve->line = g_string_new (NULL);
  serve_output_start (serve);
  if (serve->format == FORMAT_NONE)
    return 0;
  return g_signal_connect (trace, "event", G_CALLBACK (trace_event_cb), serve);
}

/* Stops printing and writes what is left (bounded by SERVE_EXIT_FLUSH_MS). */
static void
serve_stop (Serve    *serve,
            SimTrace *trace,
            gulong   *handler)
{
  g_clear_signal_handler (handler, trace);
  serve_clear (serve);
}

/* The socket options both modes apply to the registrar's transport and stack. */
static void
apply_socket_options (const ServeOptions *opts,
                      SimSocketTransport *transport,
                      SimStack           *stack)
{
  if (opts->max_message != 0)
    sim_socket_transport_set_max_message (transport, (gsize) opts->max_message);
  tcp_options_apply (&opts->tcp, transport);
  stack_options_apply (&opts->stack, stack);
}

/* ------------------------------------------------------------------------------------------ */
/* Mixed mode                                                                                 */

/*
 * The scenario's world on the wall clock, with the accounts of the users file beside the
 * scenario's (@n_users: all of them); NULL after saying why, the command line being wrong.
 */
static SimWorld *
scenario_world_new (const ServeOptions *opts,
                    guint              *n_users)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SimScenario) scenario = NULL;
  SimWorld *world;

  scenario = sim_scenario_parse_file (opts->scenario_path, &error);
  if (scenario == NULL)
    {
      fprintf (stderr, "%s\n", error->message);
      return NULL;
    }
  /* The checks the GUI's live mode makes too (sim-live.h): a registrar, its domain, the users. */
  world = sim_live_world_new (scenario, opts->domain, opts->users_path, n_users, &error);
  if (world == NULL)
    {
      if (error->domain == SIM_LIVE_ERROR)
        siplab_cli_usage_error ("serve", "%s", error->message);
      else if (error->domain == SIM_SERVER_ERROR)
        fprintf (stderr, "%s\n", error->message);
      else
        fprintf (stderr, "siplab-cli serve: %s\n", error->message);
    }
  return world;
}

/* Opens every --listen under the world's registrar; FALSE after saying why not. */
static gboolean
scenario_world_listen (Serve              *serve,
                       SimWorld           *world,
                       const ServeOptions *opts)
{
  g_autoptr(GError) error = NULL;

  for (guint i = 0; opts->listen[i] != NULL; i++)
    if (!sim_world_listen (world, opts->listen[i], &error))
      {
        serve_status (serve, "cannot listen: %s", error->message);
        return FALSE;
      }
  /* The world makes its socket transport at the first listen: its options come after. */
  apply_socket_options (opts, sim_world_get_transport (world),
                        sim_world_get_server_stack (world));
  return TRUE;
}

/*
 * Mixed mode: the scenario's world on the wall clock, its registrar on real sockets too.  The
 * users of the scenario can register from real phones; a users file adds more.  The database,
 * users-file reloading and the failed-password limit belong to the plain server and are not
 * offered here.
 */
static int
serve_scenario (ServeOptions *opts)
{
  g_autoptr(SimWorld) world = NULL;
  Serve serve = { FORMAT_LADDER, };
  SimTrace *trace;
  guint n_users = 0;
  gulong handler;

  if (!parse_format (opts->format_text, &serve.format))
    return EXIT_USAGE;
  if (opts->db_path != NULL)
    return siplab_cli_usage_error ("serve", "--db cannot be combined with --scenario: a "
                                   "scenario's phones start afresh every time");
  if (opts->cert_path != NULL || opts->key_path != NULL || serve_options_have_tls (opts))
    return siplab_cli_usage_error ("serve", "TLS (--listen tls:, --cert, --key) is not offered "
                                   "with --scenario yet: serve the real phones without one");
  /* Writes to a closed socket or pipe report EPIPE instead of killing the server. */
  signal (SIGPIPE, SIG_IGN);
  world = scenario_world_new (opts, &n_users);
  if (world == NULL)
    return EXIT_USAGE;
  trace = sim_world_get_trace (world);
  serve.server_name = sim_world_get_server_name (world);
  /* A server runs for days: observers get every event, nobody keeps them all. */
  sim_trace_set_keep (trace, FALSE);
  /* Wall time of the world's clock zero, for the time column (the registrar's Date follows
   * real time by itself once it listens). */
  serve.clock_offset = g_get_real_time () - sim_clock_now (sim_world_get_clock (world));

  handler = serve_start (&serve, opts, trace);
  if (!scenario_world_listen (&serve, world, opts))
    {
      serve_stop (&serve, trace, &handler);
      return EXIT_RUNTIME;
    }
  catch_signals (&serve);
  print_listeners (&serve, sim_world_get_transport (world));
  serve_status (&serve, "scenario %s: %u simulated phones", opts->scenario_path,
                sim_world_get_phones (world)->len);
  serve_status (&serve, "domain %s, %u users, %u bindings",
                sim_world_get_domain (world), n_users,
                sim_location_get_n_bindings (sim_world_get_location (world)));

  run_until_signal (&serve);
  serve_stop (&serve, trace, &handler);
  return EXIT_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* The plain server                                                                           */

/* The server with its users and limits, before it listens; NULL after saying why not. */
static SimServer *
server_new (const ServeOptions *opts,
            int                *status)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SimServer) server = NULL;

  server = sim_server_new (opts->domain, opts->db_path, &error);
  if (server == NULL)
    {
      fprintf (stderr, "siplab-cli serve: %s\n", error->message);
      *status = EXIT_RUNTIME;
      return NULL;
    }
  /* Weak passwords: warned about on stderr at start-up, traced at each reload. */
  sim_server_set_password_audit (server, TRUE, siplab_cli_common_passwords ());
  if (!sim_server_load_users (server, opts->users_path, TRUE, &error))
    {
      fprintf (stderr, "%s\n", error->message);
      *status = EXIT_USAGE;
      return NULL;
    }
  sim_server_set_auth_limit (server, (guint) opts->auth_limit, opts->window, opts->block);
  sim_server_set_relay (server, opts->relay);
  apply_socket_options (opts, sim_server_get_transport (server), sim_server_get_stack (server));
  /* A bad certificate or key stops the start with "FILE: what is wrong", as the users file. */
  if (opts->cert_path != NULL &&
      !sim_socket_transport_load_tls (sim_server_get_transport (server), opts->cert_path,
                                      opts->key_path, &error))
    {
      fprintf (stderr, "%s\n", error->message);
      *status = EXIT_USAGE;
      return NULL;
    }
  return g_steal_pointer (&server);
}

/* Restores the saved bindings and opens every --listen; FALSE after saying why not. */
static gboolean
server_start (Serve              *serve,
              SimServer          *server,
              const ServeOptions *opts)
{
  g_autoptr(GError) error = NULL;

  if (!sim_server_restore_bindings (server, &error))
    {
      serve_status (serve, "%s", error->message);
      return FALSE;
    }
  for (guint i = 0; opts->listen[i] != NULL; i++)
    if (!sim_server_listen (server, opts->listen[i], &error))
      {
        serve_status (serve, "cannot listen: %s", error->message);
        return FALSE;
      }
  return TRUE;
}

/* The first endpoint is the sent-by of our Via and our Record-Route: phones must reach it. */
static void
warn_unreachable_first_listener (Serve     *serve,
                                 SimServer *server)
{
  GArray *bound = sim_socket_transport_get_listeners (sim_server_get_transport (server));
  const SimAddr *first = &g_array_index (bound, SimAddr, 0);
  g_autoptr(GInetAddress) inet = g_inet_address_new_from_string (first->ip);

  /* 0.0.0.0 is not an address anyone can send to. */
  if (inet != NULL && g_inet_address_get_is_any (inet))
    serve_status (serve, "warning: the first --listen is %s, which phones cannot "
                  "send to; Via and Record-Route will name it and calls will fail. List the "
                  "server's LAN address first.", first->ip);
}

/* After the server's own SIGHUP handler has re-read the users file: what came of it. */
static gboolean
sighup_report_cb (gpointer data)
{
  Serve *serve = data;
  g_autoptr(GHashTable) users = NULL;
  g_autoptr(GError) error = NULL;

  serve->sighup_report = 0;
  /* The server keeps its old set when the file is broken; reading it again tells why. */
  if (!sim_users_read_file (serve->users_path, &users, &error))
    serve_status (serve, "warning: users file not reloaded, keeping the %u users loaded before: "
                  "%s", sim_server_get_n_users (serve->server), error->message);
  else
    serve_status (serve, "users file re-read: %u users", sim_server_get_n_users (serve->server));
  return G_SOURCE_REMOVE;
}

/*
 * SIGHUP (`systemctl reload`): the server re-reads the users file (sim-server.c) and traces it,
 * but the service prints no trace; a status line says it in the journal.  The report runs at a
 * lower priority than the sources of the signal, so after the server's handler.
 */
static gboolean
sighup_cb (gpointer data)
{
  Serve *serve = data;

  if (serve->sighup_report == 0)
    serve->sighup_report = g_idle_add_full (G_PRIORITY_LOW, sighup_report_cb, serve, NULL);
  return G_SOURCE_CONTINUE;
}

static int
serve_server (ServeOptions *opts)
{
  g_autoptr(SimServer) server = NULL;
  Serve serve = { FORMAT_LADDER, };
  SimTrace *trace;
  gulong handler;
  int status;

  status = serve_options_check_server (opts);
  if (status != EXIT_OK)
    return status;
  serve.format = opts->format;
  /* Writes to a closed socket or pipe report EPIPE instead of killing the server. */
  signal (SIGPIPE, SIG_IGN);
  server = server_new (opts, &status);
  if (server == NULL)
    return status;
  trace = sim_server_get_trace (server);
  serve.server_name = SIM_SERVER_NODE_NAME;
  serve.clock_offset = sim_server_get_clock_offset (server);
  /* Nothing prints the trace: nothing need build its events either. */
  if (serve.format == FORMAT_NONE)
    sim_trace_set_enabled (trace, FALSE);

  handler = serve_start (&serve, opts, trace);
  if (!server_start (&serve, server, opts))
    {
      serve_stop (&serve, trace, &handler);
      return EXIT_RUNTIME;
    }
  catch_signals (&serve);
  serve.server = server;
  serve.users_path = opts->users_path;
  serve.sighup = g_unix_signal_add (SIGHUP, sighup_cb, &serve);
  print_listeners (&serve, sim_server_get_transport (server));
  warn_unreachable_first_listener (&serve, server);
  serve_status (&serve, "domain %s, %u users, %u bindings%s%s", opts->domain,
                sim_server_get_n_users (server),
                sim_location_get_n_bindings (sim_server_get_location (server)),
                opts->db_path ? " restored from " : "", opts->db_path ? opts->db_path : "");

  run_until_signal (&serve);
  g_clear_handle_id (&serve.sighup, g_source_remove);
  g_clear_handle_id (&serve.sighup_report, g_source_remove);
  sim_server_stop (server);
  serve_stop (&serve, trace, &handler);
  return EXIT_OK;
}

int
siplab_cli_serve (int    argc,
                  char **argv)
{
  g_auto(ServeOptions) opts = { 0 };
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) args = NULL;
  g_autofree char **view = NULL;
  int status;

  /* --config FILE becomes the flags it stands for, before the command line's own. */
  args = siplab_cli_serve_config_expand (argc, argv, &error);
  if (args == NULL)
    {
      fprintf (stderr, "%s%s\n", siplab_cli_serve_log_prefix (SIPLAB_SERVE_LOG_ERROR),
               error->message);
      return EXIT_USAGE;
    }
  argc = (int) g_strv_length (args);
  /* GOption drops what it parses from the vector it is given: a shallow copy, so that every
   * string is still freed with @args. */
  view = g_memdup2 (args, (argc + 1) * sizeof (char *));
  argv = view;
  status = serve_options_parse (&opts, &argc, &argv);
  if (status != EXIT_OK)
    return status;
  siplab_cli_audit_users (opts.users_path);
  if (opts.scenario_path != NULL)
    return serve_scenario (&opts);
  return serve_server (&opts);
}
