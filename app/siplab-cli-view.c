/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "siplab-cli-view.h"

#include <stdio.h>
#include <string.h>

#include "sim-capture.h"
#include "sim-export.h"
#include "sim-message.h"
#include "sim-observe.h"
#include "siplab-cli-common.h"

/*
 * `siplab-cli view FILE`: reads a pcap or pcapng capture with the capture reader (sim-capture.h),
 * feeds every SIP message to a SimObserver and prints its events as the simulator's exporters
 * do.  The file is read twice: a first pass learns what names the hosts (User-Agent, Server,
 * the AOR, who answers REGISTERs), the second prints.  Nothing of the capture is kept beyond
 * the observer's bounded tables and one ladder chunk, so a capture of any size streams through.
 *
 * Exit status: 0 when the file could be read (problems in it go to stderr as "FILE: packet N:
 * what is wrong", and the good packets are still shown); 1 when it cannot be read at all;
 * 2 for a wrong command line.
 */

typedef enum {
  FORMAT_LADDER,
  FORMAT_MESSAGES,
  FORMAT_JSONL,
} Format;

typedef enum {
  FILTER_NONE,
  FILTER_CALL_ID,
  FILTER_AOR,
  FILTER_METHOD,
} FilterKind;

typedef struct {
  const char *path;
  Format format;
  FilterKind filter;
  char *filter_value;

  SimObserver *observer;
  gboolean matching;       /* the message being fed passes the filter */
  guint64 packet;          /* the frame of the message being fed */
  GPtrArray *chunk;        /* ladder: events not yet written */
  GPtrArray *columns;      /* ladder: node names in order of appearance (owned strings) */
  GHashTable *column_set;
  GString *out;
} View;

static void
flush_out (View *view)
{
  if (view->out->len > 0)
    {
      fwrite (view->out->str, 1, view->out->len, stdout);
      g_string_truncate (view->out, 0);
    }
}

static void
add_column (View       *view,
            const char *name)
{
  if (name != NULL && !g_hash_table_contains (view->column_set, name))
    {
      char *copy = g_strdup (name);

      g_hash_table_add (view->column_set, copy);
      g_ptr_array_add (view->columns, copy);
    }
}

/*
 * Writes the ladder of the events gathered so far.  Its columns are the hosts of this chunk, in
 * the order the capture first showed them, so a host keeps its place relative to the others
 * from chunk to chunk, and a capture of thousands of hosts still draws narrow ladders.
 */
static void
flush_ladder (View *view)
{
  SimExportOptions opts = { 0 };
  g_autoptr(GHashTable) present = NULL;
  g_autoptr(GPtrArray) columns = NULL;

  if (view->chunk->len == 0)
    return;
  present = g_hash_table_new (g_str_hash, g_str_equal);
  for (guint i = 0; i < view->chunk->len; i++)
    {
      const SimEvent *event = view->chunk->pdata[i];

      if (event->type == SIM_EVENT_PACKET && event->from != NULL && event->to != NULL)
        {
          g_hash_table_add (present, event->from);
          g_hash_table_add (present, event->to);
        }
    }
  columns = g_ptr_array_new ();
  for (guint i = 0; i < view->columns->len; i++)
    if (g_hash_table_contains (present, view->columns->pdata[i]))
      g_ptr_array_add (columns, view->columns->pdata[i]);
  g_ptr_array_add (columns, NULL);
  opts.nodes = (const char * const *) columns->pdata;
  sim_export_ladder (view->chunk, view->out, &opts);
  g_ptr_array_set_size (view->chunk, 0);
  flush_out (view);
}

static gboolean
event_passes (View           *view,
              const SimEvent *event)
{
  /* A binding belongs to its AOR, whichever message made it change (an expiry has none). */
  if (view->filter == FILTER_AOR && event->type == SIM_EVENT_BINDING)
    return event->aor != NULL && strstr (event->aor, view->filter_value) != NULL;
  return view->matching;
}

static void
event_cb (SimTrace *trace,
          SimEvent *event,
          View     *view)
{
  if (!event_passes (view, event))
    return;
  switch (view->format)
    {
    case FORMAT_JSONL:
      sim_export_jsonl_line (event, view->out);
      break;
    case FORMAT_MESSAGES:
      if (event->type == SIM_EVENT_PACKET)
        {
          g_autoptr(GPtrArray) one = NULL;

          if (g_strcmp0 (event->action, "delivered") == 0)
            break;
          one = g_ptr_array_new ();
          g_ptr_array_add (one, event);
          g_string_append_printf (view->out, "# packet %" G_GUINT64_FORMAT "\n", view->packet);
          sim_export_messages (one, view->out);
          if (event->reason != NULL)
            g_string_append_printf (view->out, "  (retransmission: %s)\n\n", event->reason);
        }
      else if (event->type == SIM_EVENT_NONCE || event->type == SIM_EVENT_BINDING)
        {
          g_autofree char *line = sim_export_describe_event (event, NULL);

          if (line != NULL)
            g_string_append_printf (view->out, "%s\n\n", line);
        }
      break;
    case FORMAT_LADDER:
      if (event->type == SIM_EVENT_PACKET)
        {
          add_column (view, event->from);
          add_column (view, event->to);
        }
      g_ptr_array_add (view->chunk, sim_event_ref (event));
      /* The ladder draws a retransmission "(retx)" but no reason under an arrow: the timer
       * that sent it goes on a line of its own, for this output only. */
      if (event->type == SIM_EVENT_PACKET && event->reason != NULL &&
          g_strcmp0 (event->action, "retransmitted") == 0)
        {
          SimEvent *note = sim_event_new (SIM_EVENT_NOTE, "retransmission");

          note->t = event->t;
          note->node = g_strdup (event->from);
          note->text = g_strdup_printf ("retransmitted: %s", event->reason);
          g_ptr_array_add (view->chunk, note);
        }
      return;
    }
  flush_out (view);
}

/* Whether @data passes --filter: decided on the raw text, before the observer sees it. */
static gboolean
message_passes (View       *view,
                const char *data,
                gsize       len)
{
  g_autofree char *text = NULL;
  g_autofree char *value = NULL;
  g_autofree char *other = NULL;

  if (view->filter == FILTER_NONE)
    return TRUE;
  text = g_strndup (data, len);
  switch (view->filter)
    {
    case FILTER_CALL_ID:
      value = sim_raw_header_value (text, "Call-ID");
      return value != NULL && strcmp (g_strstrip (value), view->filter_value) == 0;
    case FILTER_METHOD:
      value = sim_raw_header_value (text, "CSeq");
      if (value == NULL)
        return FALSE;
      g_strstrip (value);
      return strchr (value, ' ') != NULL &&
             g_ascii_strcasecmp (g_strstrip (strchr (value, ' ')), view->filter_value) == 0;
    case FILTER_AOR:
      /* The AOR is in To (a REGISTER's AOR, RFC 3261 §10.2) or From (who calls). */
      value = sim_raw_header_value (text, "To");
      other = sim_raw_header_value (text, "From");
      return (value != NULL && strstr (value, view->filter_value) != NULL) ||
             (other != NULL && strstr (other, view->filter_value) != NULL);
    case FILTER_NONE:
    default:
      return TRUE;
    }
}

static void
learn_cb (const SimCapturedMessage *message,
          gpointer                  user_data)
{
  View *view = user_data;

  sim_observer_learn (view->observer, &message->src, &message->dst, message->data, message->len);
}

static void
message_cb (const SimCapturedMessage *message,
            gpointer                  user_data)
{
  View *view = user_data;
  g_autoptr(GError) error = NULL;

  /* A chunk ends between messages, never between a packet's "sent" and its "delivered". */
  if (view->chunk->len >= SIPLAB_CLI_VIEW_LADDER_CHUNK)
    flush_ladder (view);
  view->packet = message->packet;
  view->matching = message_passes (view, message->data, message->len);
  if (!sim_observer_feed (view->observer, message->time_us, &message->src, &message->dst,
                          message->data, message->len, &error))
    {
      fflush (stdout);
      fprintf (stderr, "%s: packet %" G_GUINT64_FORMAT ": %s\n", view->path, message->packet,
               error->message);
    }
}

static void
problem_cb (guint64     packet,
            const char *what,
            gpointer    user_data)
{
  View *view = user_data;

  fflush (stdout);
  fprintf (stderr, "%s: packet %" G_GUINT64_FORMAT ": %s\n", view->path, packet, what);
}

static gboolean
parse_filter (View       *view,
              const char *text)
{
  static const struct { const char *prefix; FilterKind kind; } kinds[] = {
    { "call-id=", FILTER_CALL_ID },
    { "aor=", FILTER_AOR },
    { "method=", FILTER_METHOD },
  };

  for (guint i = 0; i < G_N_ELEMENTS (kinds); i++)
    if (g_str_has_prefix (text, kinds[i].prefix) && text[strlen (kinds[i].prefix)] != '\0')
      {
        view->filter = kinds[i].kind;
        view->filter_value = g_strdup (text + strlen (kinds[i].prefix));
        return TRUE;
      }
  return FALSE;
}

static void
print_origin (View *view)
{
  g_autoptr(GDateTime) when = NULL;
  g_autofree char *iso = NULL;
  gint64 origin = sim_observer_get_time_origin (view->observer);

  if (view->format == FORMAT_JSONL || sim_observer_get_n_messages (view->observer) == 0)
    return;
  when = g_date_time_new_from_unix_utc (origin / G_USEC_PER_SEC);
  if (when == NULL)
    return;
  iso = g_date_time_format (when, "%Y-%m-%d %H:%M:%S");
  printf ("# %s: %" G_GUINT64_FORMAT " SIP messages; time 0 is %s.%06d UTC\n", view->path,
          sim_observer_get_n_messages (view->observer), iso, (int) (origin % G_USEC_PER_SEC));
}

static int
run_view (View       *view,
          const char *users_path)
{
  g_autoptr(SimTrace) trace = sim_trace_new ();
  g_autoptr(SimObserver) observer = sim_observer_new (trace);
  g_autoptr(GError) error = NULL;

  view->observer = observer;
  /* Events stream to the output as they are emitted; the trace keeps none of them. */
  sim_trace_set_keep (trace, FALSE);
  g_signal_connect (trace, "event", G_CALLBACK (event_cb), view);

  if (users_path != NULL && !sim_observer_load_users (observer, users_path, &error))
    {
      fprintf (stderr, "siplab-cli view: %s\n", error->message);
      return 1;
    }
  if (!sim_capture_read_file (view->path, learn_cb, NULL, view, &error))
    {
      /* The reader's message names the file already. */
      fprintf (stderr, "siplab-cli view: %s\n", error->message);
      return 1;
    }
  if (!sim_capture_read_file (view->path, message_cb, problem_cb, view, &error))
    {
      /* The reader's message names the file already. */
      fprintf (stderr, "siplab-cli view: %s\n", error->message);
      return 1;
    }
  flush_ladder (view);
  flush_out (view);
  print_origin (view);
  view->observer = NULL;
  return 0;
}

int
siplab_cli_view (int    argc,
                 char **argv)
{
  g_autoptr(GOptionContext) context = g_option_context_new ("FILE - explain a capture");
  g_autoptr(GError) error = NULL;
  g_autofree char *users = NULL;
  g_autofree char *format = NULL;
  g_autofree char *filter = NULL;
  View view = { 0 };
  int status;
  const GOptionEntry entries[] = {
    { "users", 'u', 0, G_OPTION_ARG_FILENAME, &users,
      "Judge every Authorization with this name:password file (as serve --users)", "FILE" },
    { "format", 'f', 0, G_OPTION_ARG_STRING, &format,
      "Output: ladder (default), messages or jsonl", "FORMAT" },
    { "filter", 0, 0, G_OPTION_ARG_STRING, &filter,
      "Only call-id=ID, aor=TEXT (in From or To) or method=METHOD (of CSeq)", "KEY=VALUE" },
    { NULL },
  };

  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_set_summary (context,
    "Reads a pcap or pcapng capture (SIP over UDP or TCP on any port, HEPv3 inside) and\n"
    "explains it like the simulator: every host a node, retransmissions and their RFC 3261\n"
    "timers, digest verdicts (with --users), the registrars' location tables.  See docs/view.md.");
  if (!g_option_context_parse (context, &argc, &argv, &error))
    return siplab_cli_usage_error ("view", "%s", error->message);
  if (argc != 2)
    return siplab_cli_usage_error ("view", argc < 2 ? "no capture file given"
                                                    : "more than one capture file given");
  view.path = argv[1];
  if (format == NULL || strcmp (format, "ladder") == 0)
    view.format = FORMAT_LADDER;
  else if (strcmp (format, "messages") == 0)
    view.format = FORMAT_MESSAGES;
  else if (strcmp (format, "jsonl") == 0)
    view.format = FORMAT_JSONL;
  else
    return siplab_cli_usage_error ("view", "unknown format '%s' (ladder, messages or jsonl)",
                                   format);
  if (filter != NULL && !parse_filter (&view, filter))
    return siplab_cli_usage_error ("view", "unknown filter '%s' (call-id=ID, aor=TEXT or "
                                   "method=METHOD)", filter);

  view.chunk = g_ptr_array_new_with_free_func ((GDestroyNotify) sim_event_unref);
  view.columns = g_ptr_array_new ();
  view.column_set = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  view.out = g_string_new (NULL);
  status = run_view (&view, users);
  g_ptr_array_unref (view.chunk);
  g_ptr_array_unref (view.columns);
  g_hash_table_unref (view.column_set);
  g_string_free (view.out, TRUE);
  g_free (view.filter_value);
  return status;
}
