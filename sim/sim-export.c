/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "sim-export.h"
#include "sim-i18n.h"

#include <stdlib.h>
#include <string.h>

/*
 * Writers over the trace.  A datagram shows up in the trace several times: "sent" (or
 * "retransmitted") when it leaves, then "delivered" or "dropped".  The ladder and the message
 * list draw one row per datagram, so a first pass pairs every departure with its fate.
 */

#define DEFAULT_WIDTH 120
#define TIME_WIDTH    11        /* "   12.345s  " */
#define MIN_SPACING   8

typedef enum {
  FATE_UNKNOWN,                 /* still in flight when the trace ends */
  FATE_DELIVERED,
  FATE_LOST_ON_LINK,            /* simulated loss: it never reaches the receiver */
  FATE_DROPPED_AT_RECEIVER,     /* nobody at that address, powered off, port closed */
} Fate;

typedef struct {
  Fate fate;
  const SimEvent *dropped;      /* the "dropped" event, for its reason */
} PacketFate;

static gboolean
is_departure (const SimEvent *event)
{
  return event->type == SIM_EVENT_PACKET &&
         (g_strcmp0 (event->action, "sent") == 0 ||
          g_strcmp0 (event->action, "retransmitted") == 0);
}

static char *
datagram_key (const SimEvent *event)
{
  char src[64], dst[64];

  sim_addr_format (&event->src, src, sizeof src);
  sim_addr_format (&event->dst, dst, sizeof dst);
  return g_strdup_printf ("%s>%s\n%s", src, dst, event->raw ? event->raw : "");
}

/*
 * Returns an array parallel to @events with the fate of every departure.  Identical datagrams
 * (a retransmission is byte for byte the original) are matched first in, first out: they leave
 * at least T1 apart, far more than any jitter, so they arrive in order too.
 */
static PacketFate *
compute_fates (GPtrArray *events)
{
  PacketFate *fates = g_new0 (PacketFate, events->len);
  g_autoptr(GHashTable) in_flight =
    g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_queue_free);

  for (guint i = 0; i < events->len; i++)
    {
      const SimEvent *event = events->pdata[i];
      g_autofree char *key = NULL;
      GQueue *queue;

      if (event->type != SIM_EVENT_PACKET)
        continue;
      key = datagram_key (event);
      queue = g_hash_table_lookup (in_flight, key);
      if (is_departure (event))
        {
          if (queue == NULL)
            {
              queue = g_queue_new ();
              g_hash_table_insert (in_flight, g_steal_pointer (&key), queue);
            }
          g_queue_push_tail (queue, GUINT_TO_POINTER (i));
        }
      else if (queue != NULL && !g_queue_is_empty (queue))
        {
          guint sent = GPOINTER_TO_UINT (g_queue_pop_head (queue));

          if (g_strcmp0 (event->action, "delivered") == 0)
            fates[sent].fate = FATE_DELIVERED;
          else if (g_strcmp0 (event->action, "dropped") == 0)
            {
              /* SimNet says "lost on the link" for simulated loss; anything else happened at
               * the far end (no host at that address any more, powered off, port closed). */
              gboolean on_link = event->reason != NULL &&
                                 strstr (event->reason, "on the link") != NULL;

              fates[sent].fate = on_link ? FATE_LOST_ON_LINK : FATE_DROPPED_AT_RECEIVER;
              fates[sent].dropped = event;
            }
        }
    }
  return fates;
}

void
sim_export_format_seconds (SimTime  t,
                           GString *out)
{
  guint64 abs_t;
  char frac[8];
  int n;

  g_return_if_fail (out != NULL);

  if (t < 0)
    {
      g_string_append_c (out, '-');
      abs_t = (guint64) 0 - (guint64) t;
    }
  else
    abs_t = (guint64) t;
  /* "%llu.%06u" without the trailing zeros (one kept), by hand: every JSON line has one. */
  {
    char whole[24];
    guint64 w = abs_t / 1000000;
    guint f = (guint) (abs_t % 1000000);
    gsize k = 0;

    do
      whole[k++] = (char) ('0' + w % 10);
    while ((w /= 10) > 0);
    while (k > 0)
      g_string_append_c (out, whole[--k]);
    for (int i = 5; i >= 0; i--, f /= 10)
      frac[i] = (char) ('0' + f % 10);
  }
  for (n = 6; n > 1 && frac[n - 1] == '0'; n--)
    ;
  g_string_append_c (out, '.');
  g_string_append_len (out, frac, n);
}

/*
 * "1.234s" in milliseconds, computed on integers so no rounding mode can change it.  The
 * milliseconds are truncated, as a clock's display shows the millisecond it is in: 42.9 ms is
 * "0.042s" here and everywhere else a student reads a time (verdicts, the GUI).
 */
void
sim_export_format_time (SimTime  t,
                        GString *out)
{
  gint64 ms = t / 1000;

  g_return_if_fail (out != NULL);

  if (t < 0)
    g_string_append_printf (out, "-%" G_GINT64_FORMAT ".%03ds", (-ms) / 1000, (int) ((-ms) % 1000));
  else
    g_string_append_printf (out, "%" G_GINT64_FORMAT ".%03ds", ms / 1000, (int) (ms % 1000));
}

char *
sim_export_time_string (SimTime t)
{
  GString *out = g_string_new (NULL);

  sim_export_format_time (t, out);
  return g_string_free (out, FALSE);
}

static void
append_time_prefix (GString *out,
                    SimTime  t,
                    gboolean show)
{
  g_autoptr(GString) s = g_string_new (NULL);

  if (show)
    sim_export_format_time (t, s);
  g_string_append_printf (out, "%9s  ", s->str);
}

/* "1" from a CSeq of "1 REGISTER". */
static char *
cseq_number (const SimEvent *event)
{
  const char *c = event->cseq;

  if (c == NULL)
    return NULL;
  c += strspn (c, " \t");
  return g_strndup (c, strspn (c, "0123456789"));
}

/* Label variants from the most to the least detailed; the ladder takes the first that fits. */
static GPtrArray *
label_candidates (const SimEvent *event)
{
  GPtrArray *labels = g_ptr_array_new_with_free_func (g_free);
  /* A message on a TLS link is marked: on the wire only its size shows (sim-net.h). */
  const char *retx = event->tls
                     ? (g_strcmp0 (event->action, "retransmitted") == 0 ? " (retx) [TLS]" : " [TLS]")
                     : g_strcmp0 (event->action, "retransmitted") == 0 ? " (retx)" : "";
  g_autofree char *num = cseq_number (event);
  const char *first = event->first_line ? event->first_line : "";

  if (event->status > 0)
    {
      const char *status_text = first + strlen ("SIP/2.0 ");
      g_autofree char *code = g_strdup_printf ("%d", event->status);

      if (num != NULL && *num != '\0' && event->method != NULL)
        {
          g_ptr_array_add (labels, g_strdup_printf ("%s (CSeq %s %s)%s", status_text, num,
                                                    event->method, retx));
          g_ptr_array_add (labels, g_strdup_printf ("%s (%s %s)%s", status_text, num,
                                                    event->method, retx));
        }
      /* The reason phrase says more to a student than the CSeq does. */
      g_ptr_array_add (labels, g_strdup_printf ("%s%s", status_text, retx));
      if (num != NULL && *num != '\0' && event->method != NULL)
        g_ptr_array_add (labels, g_strdup_printf ("%s (%s %s)%s", code, num, event->method, retx));
      g_ptr_array_add (labels, g_strdup_printf ("%s%s", code, retx));
    }
  else if (event->method != NULL && *event->method != '\0' && g_ascii_isupper (event->method[0]))
    {
      if (num != NULL && *num != '\0')
        {
          g_ptr_array_add (labels, g_strdup_printf ("%s (CSeq %s)%s", event->method, num, retx));
          g_ptr_array_add (labels, g_strdup_printf ("%s (%s)%s", event->method, num, retx));
        }
      g_ptr_array_add (labels, g_strdup_printf ("%s%s", event->method, retx));
    }
  else
    {
      /* Not SIP (a malformed-input lesson): show the start of it. */
      g_autofree char *start = g_strndup (first, 24);
      g_ptr_array_add (labels, g_strdup_printf ("\"%s\"%s", start, retx));
    }
  return labels;
}

char *
sim_export_packet_label (const SimEvent *event)
{
  g_autoptr(GPtrArray) labels = NULL;

  g_return_val_if_fail (event != NULL, NULL);
  labels = label_candidates (event);
  return g_strdup (labels->pdata[0]);
}

/* --- Ladder --------------------------------------------------------------------------------- */

typedef struct {
  GPtrArray *names;         /* char*, owned (a stream outlives the events it has seen) */
  GHashTable *index;        /* name (borrowed from names) -> column + 1 */
  guint need;               /* the spacing the arrows seen so far need */
  guint *x;                 /* lifeline positions */
  guint width;              /* diagram width (after the time column) */
  guint spacing;
  gboolean staggered;       /* names on two header lines */
} Ladder;

static void
ladder_add_node (Ladder     *ladder,
                 const char *name)
{
  char *copy;

  if (name == NULL || g_hash_table_contains (ladder->index, name))
    return;
  copy = g_strdup (name);
  g_ptr_array_add (ladder->names, copy);
  g_hash_table_insert (ladder->index, copy, GUINT_TO_POINTER (ladder->names->len));
}

static guint
ladder_column (Ladder     *ladder,
               const char *name)
{
  return GPOINTER_TO_UINT (g_hash_table_lookup (ladder->index, name)) - 1;
}

static void
ladder_clear (Ladder *ladder)
{
  g_clear_pointer (&ladder->names, g_ptr_array_unref);
  g_clear_pointer (&ladder->index, g_hash_table_unref);
  g_clear_pointer (&ladder->x, g_free);
}

static guint
half_left (const char *name)
{
  return strlen (name) / 2;
}

static guint
half_right (const char *name)
{
  return strlen (name) - strlen (name) / 2;
}

static void
ladder_init (Ladder                 *ladder,
             const SimExportOptions *opts)
{
  ladder->names = g_ptr_array_new_with_free_func (g_free);
  ladder->index = g_hash_table_new (g_str_hash, g_str_equal);
  ladder->need = MIN_SPACING;
  if (opts->nodes != NULL)
    for (guint i = 0; opts->nodes[i] != NULL; i++)
      ladder_add_node (ladder, opts->nodes[i]);
}

/*
 * The layout's first half, one event at a time: an arrow's ends become columns (in the order
 * they first appear) and its label widens the spacing it needs.  Columns are only ever appended,
 * so what an arrow needs is known when it is seen.
 */
static void
ladder_plan_event (Ladder         *ladder,
                   const SimEvent *event)
{
  g_autoptr(GPtrArray) labels = NULL;
  guint a, b, span, len;

  if (!is_departure (event) || event->from == NULL || event->to == NULL)
    return;
  ladder_add_node (ladder, event->from);
  ladder_add_node (ladder, event->to);
  a = ladder_column (ladder, event->from);
  b = ladder_column (ladder, event->to);
  span = a > b ? a - b : b - a;
  if (span == 0)
    return;
  labels = label_candidates (event);
  len = strlen (labels->pdata[0]);
  /* An arrow over @span gaps has span * spacing - 1 cells; the label needs five more:
   * "- " before it, " -" and the head after it. */
  ladder->need = MAX (ladder->need, (len + 6 + span - 1) / span);
}

/* Chooses the spacing between lifelines: wide enough for the labels, narrow enough for @width. */
static void
ladder_layout (Ladder *ladder,
               guint   width)
{
  guint n = ladder->names->len;
  guint need = ladder->need;
  guint need_names = MIN_SPACING;
  guint x0, tail, avail;

  if (n == 0)
    return;
  for (guint i = 0; i + 1 < n; i++)
    need_names = MAX (need_names, half_right (ladder->names->pdata[i]) +
                                  half_left (ladder->names->pdata[i + 1]) + 1);
  need = MAX (need, need_names);

  x0 = half_left (ladder->names->pdata[0]);
  tail = half_right (ladder->names->pdata[n - 1]);
  avail = width > TIME_WIDTH + x0 + tail ? width - TIME_WIDTH - x0 - tail : 0;
  if (n > 1 && need * (n - 1) > avail)
    need = MAX (MIN_SPACING, avail / (n - 1));
  ladder->spacing = need;
  ladder->staggered = need < need_names;

  ladder->x = g_new0 (guint, n);
  for (guint i = 0; i < n; i++)
    ladder->x[i] = x0 + i * need;
  ladder->width = ladder->x[n - 1] + MAX (tail, 1);
}

static char *
ladder_blank_row (Ladder *ladder)
{
  char *row = g_malloc (ladder->width + 1);

  memset (row, ' ', ladder->width);
  row[ladder->width] = '\0';
  for (guint i = 0; i < ladder->names->len; i++)
    row[ladder->x[i]] = '|';
  return row;
}

static void
append_row (GString    *out,
            const char *row)
{
  gsize len = strlen (row);

  while (len > 0 && row[len - 1] == ' ')
    len--;
  g_string_append_len (out, row, len);
  g_string_append_c (out, '\n');
}

static void
ladder_header (Ladder  *ladder,
               GString *out)
{
  for (guint line = 0; line < (ladder->staggered ? 2u : 1u); line++)
    {
      gsize row_len = ladder->width + 128;
      g_autofree char *row = g_malloc (row_len + 1);

      memset (row, ' ', row_len);
      row[row_len] = '\0';
      for (guint i = 0; i < ladder->names->len; i++)
        {
          const char *name = ladder->names->pdata[i];
          guint start = ladder->x[i] > half_left (name) ? ladder->x[i] - half_left (name) : 0;

          if (ladder->staggered && i % 2 != line)
            row[ladder->x[i]] = '|';
          else if (start + strlen (name) <= row_len)
            memcpy (row + start, name, strlen (name));
        }
      append_time_prefix (out, 0, FALSE);
      append_row (out, row);
    }
  {
    g_autofree char *row = ladder_blank_row (ladder);
    append_time_prefix (out, 0, FALSE);
    append_row (out, row);
  }
}

/*
 * Draws one datagram from column @a to column @b:
 *
 *   |-- REGISTER (CSeq 1) -->|      delivered
 *   |<- 401 Unauthorized ----|
 *   |-- INVITE (CSeq 1) --X     |   lost on the link
 *   |-- INVITE (CSeq 1) ---X|       dropped at the receiver (nobody there, powered off)
 */
static void
ladder_packet_row (Ladder         *ladder,
                   GString        *out,
                   const SimEvent *event,
                   Fate            fate)
{
  g_autofree char *row = ladder_blank_row (ladder);
  g_autoptr(GPtrArray) labels = label_candidates (event);
  guint a = ladder_column (ladder, event->from);
  guint b = ladder_column (ladder, event->to);
  guint lo = ladder->x[MIN (a, b)];
  guint hi = ladder->x[MAX (a, b)];
  gboolean right = a < b;
  const char *label = NULL;
  g_autofree char *cut = NULL;
  guint cells, region, block, start, head;

  append_time_prefix (out, event->t, TRUE);

  if (a == b)
    {
      /* A node sending to itself: no arrow to draw, say it in words. */
      g_autoptr(GString) s = g_string_new (row);
      g_string_truncate (s, ladder->x[a] + 1);
      g_string_append_printf (s, " %s (to itself)", (char *) labels->pdata[0]);
      append_row (out, s->str);
      return;
    }

  cells = hi - lo - 1;
  region = cells - 3;       /* cells minus the first dash, a dash before the head, the head */
  for (guint i = 0; i < labels->len && label == NULL; i++)
    if (strlen (labels->pdata[i]) + 2 <= region)
      label = labels->pdata[i];
  if (label == NULL)
    {
      guint keep = region > 4 ? region - 4 : 0;
      cut = g_strdup_printf ("%.*s..", (int) keep, (char *) labels->pdata[labels->len - 1]);
      label = cut;
    }

  for (guint p = lo + 1; p < hi; p++)
    row[p] = '-';
  head = right ? hi - 1 : lo + 1;
  row[head] = right ? '>' : '<';

  block = strlen (label) + 2;
  start = (right ? lo + 2 : lo + 3) + (region > block ? (region - block) / 2 : 0);
  if (block <= cells)
    {
      row[start] = ' ';
      memcpy (row + start + 1, label, strlen (label));
      row[start + block - 1] = ' ';
    }

  if (fate == FATE_DROPPED_AT_RECEIVER)
    row[head] = 'X';
  else if (fate == FATE_LOST_ON_LINK)
    {
      /* The X goes halfway between the label and the receiver; beyond it there is nothing. */
      guint x;

      if (right)
        {
          guint r0 = MIN (start + block + 1, head);
          x = head - r0 >= 2 ? r0 + (head - r0) / 2 : head;
          for (guint p = x + 1; p <= head; p++)
            row[p] = ' ';
        }
      else
        {
          guint r1 = start >= 2 ? MAX (start - 2, head) : head;
          x = r1 - head >= 2 ? r1 - (r1 - head) / 2 : head;
          for (guint p = head; p < x; p++)
            row[p] = ' ';
        }
      row[x] = 'X';
      for (guint i = 0; i < ladder->names->len; i++)
        if (row[ladder->x[i]] == ' ')
          row[ladder->x[i]] = '|';
    }
  append_row (out, row);
}

/*
 * Reasons shorter than this are labels that tell events of one kind apart ("Expires: 0",
 * "Contact: * with Expires: 0", "answered") and are always written; longer ones are the
 * explanations (RFC prose, why a datagram was lost) that SimExportOptions.explained gives once.
 */
#define EXPLANATION_MIN_LENGTH 40

/* Whether @event's reason is to be written: it has one, not already explained (see opts). */
static gboolean
reason_is_new (const SimEvent         *event,
               const SimExportOptions *opts)
{
  if (event->reason == NULL || *event->reason == '\0')
    return FALSE;
  if (opts->explained == NULL || strlen (event->reason) < EXPLANATION_MIN_LENGTH)
    return TRUE;
  if (g_hash_table_contains (opts->explained, event->reason))
    return FALSE;
  g_hash_table_add (opts->explained, g_strdup (event->reason));
  return TRUE;
}

static void
append_reason (GString                *s,
               const SimEvent         *event,
               const SimExportOptions *opts)
{
  if (reason_is_new (event, opts))
    {
      g_autofree char *reason = sim_i18n_reason (event->reason);

      g_string_append_printf (s, " (%s)", reason);
    }
}

/* @text, one of the simulator's sentences (or a scenario's own words), in the user's language. */
static void
append_said (GString    *s,
             const char *text)
{
  g_autofree char *said = sim_i18n_reason (text);

  g_string_append (s, said);
}

/* The usual tail of an annotation: the event's text after a colon, then its reason. */
static void
append_text_and_reason (GString                *s,
                        const SimEvent         *event,
                        const SimExportOptions *opts)
{
  if (event->text != NULL)
    {
      g_string_append (s, ": ");
      append_said (s, event->text);
    }
  append_reason (s, event, opts);
}

/*
 * The annotation of one kind of event, appended to @s; FALSE when the ladder leaves the event
 * out (a packet that was not dropped, timers and transactions unless asked for).
 */
typedef gboolean (*DescribeFunc) (GString                *s,
                                  const SimEvent         *event,
                                  const char             *node,
                                  const SimExportOptions *opts);

/*
 * The trace's action words (machine words, kept in English in the trace and JSON Lines) as the
 * ladder says them: translated with a context, since "accepted" of a nonce and of a
 * transaction may read differently.  Only listed here so xgettext finds them; an action not in
 * the catalogue prints as it is.
 */
static const char *const action_words[] G_GNUC_UNUSED = {
  NC_("trace action", "added"), NC_("trace action", "moved"), NC_("trace action", "power-off"),
  NC_("trace action", "calling"), NC_("trace action", "ended"),
  NC_("trace action", "established"), NC_("trace action", "failed"),
  NC_("trace action", "ringing"), NC_("trace action", "accepted"),
  NC_("trace action", "completed"), NC_("trace action", "confirmed"),
  NC_("trace action", "proceeding"), NC_("trace action", "terminated"),
  NC_("trace action", "trying"), NC_("trace action", "fired"), NC_("trace action", "started"),
  NC_("trace action", "idle"), NC_("trace action", "registered"),
  NC_("trace action", "registering"), NC_("trace action", "unregistering"),
  NC_("trace action", "issued"), NC_("trace action", "no-credentials"),
  NC_("trace action", "rejected"), NC_("trace action", "expired"),
  NC_("trace action", "refreshed"), NC_("trace action", "removed"),
  NC_("trace action", "found"), NC_("trace action", "cracked"),
  NC_("trace action", "not-cracked"), NC_("trace action", "nothing-to-try"),
  NC_("trace action", "stale"),
  /* A packet's: the lesson runner says when the predicted one was "delivered at 0.020s". */
  NC_("trace action", "sent"), NC_("trace action", "delivered"),
  NC_("trace action", "dropped"), NC_("trace action", "retransmitted"),
};

static const char *
action_word (const char *action)
{
  return action != NULL ? g_dpgettext2 (GETTEXT_PACKAGE, "trace action", action) : "?";
}

static gboolean
describe_packet (GString                *s,
                 const SimEvent         *event,
                 const char             *node,
                 const SimExportOptions *opts)
{
  g_autoptr(GPtrArray) labels = NULL;

  if (g_strcmp0 (event->action, "dropped") != 0)
    return FALSE;
  labels = label_candidates (event);
  g_string_append_printf (s, _("x %s from %s to %s dropped"), (char *) labels->pdata[0],
                          event->from ? event->from : "?", event->to ? event->to : "?");
  if (reason_is_new (event, opts))
    {
      g_string_append (s, ": ");
      append_said (s, event->reason);
    }
  return TRUE;
}

static gboolean
describe_binding (GString                *s,
                  const SimEvent         *event,
                  const char             *node,
                  const SimExportOptions *opts)
{
  g_string_append_printf (s, _("+ binding %s: %s -> %s"), action_word (event->action),
                          event->aor ? event->aor : "?", event->contact ? event->contact : "?");
  if (event->expires != SIM_EVENT_NO_EXPIRES)
    g_string_append_printf (s, _(" expires %lld"), (long long) event->expires);
  append_reason (s, event, opts);
  return TRUE;
}

static gboolean
describe_nonce (GString                *s,
                const SimEvent         *event,
                const char             *node,
                const SimExportOptions *opts)
{
  g_string_append_printf (s, _("+ nonce %s at %s"), action_word (event->action), node);
  if (event->nonce != NULL)
    {
      /* In full: a student matches it with the WWW-Authenticate and Authorization text. */
      g_string_append_printf (s, ": %s", event->nonce);
    }
  if (event->algorithm != NULL)
    g_string_append_printf (s, " %s", event->algorithm);
  if (event->user != NULL)
    g_string_append_printf (s, _(" user %s"), event->user);
  append_reason (s, event, opts);
  return TRUE;
}

static gboolean
describe_registration (GString                *s,
                       const SimEvent         *event,
                       const char             *node,
                       const SimExportOptions *opts)
{
  g_string_append_printf (s, _("+ %s registration %s"), node, action_word (event->action));
  if (event->aor != NULL)
    g_string_append_printf (s, " %s", event->aor);
  if (event->expires != SIM_EVENT_NO_EXPIRES)
    g_string_append_printf (s, _(" expires %lld"), (long long) event->expires);
  append_text_and_reason (s, event, opts);
  return TRUE;
}

static gboolean
describe_call (GString                *s,
               const SimEvent         *event,
               const char             *node,
               const SimExportOptions *opts)
{
  g_string_append_printf (s, _("+ %s call"), node);
  if (event->aor != NULL)
    g_string_append_printf (s, _(" with %s"), event->aor);
  g_string_append_printf (s, ": %s", action_word (event->action));
  append_text_and_reason (s, event, opts);
  return TRUE;
}

static gboolean
describe_node (GString                *s,
               const SimEvent         *event,
               const char             *node,
               const SimExportOptions *opts)
{
  if (g_strcmp0 (event->action, "added") == 0 && !opts->show_nodes_added)
    return FALSE;
  /* SimNet's texts name the node already ("bob-desk moved from ... to ..."). */
  if (event->text != NULL)
    {
      g_string_append (s, "+ ");
      append_said (s, event->text);
    }
  else
    {
      g_string_append_printf (s, "+ %s %s", node, action_word (event->action));
      if (event->src.ip[0] != '\0')
        g_string_append_printf (s, " (%s)", event->src.ip);
    }
  return TRUE;
}

static gboolean
describe_action (GString                *s,
                 const SimEvent         *event,
                 const char             *node,
                 const SimExportOptions *opts)
{
  g_string_append (s, ">> ");
  if (event->text != NULL)
    append_said (s, event->text);
  else
    g_string_append_printf (s, "%s %s", action_word (event->action), node);
  append_reason (s, event, opts);
  return TRUE;
}

static gboolean
describe_lookup (GString                *s,
                 const SimEvent         *event,
                 const char             *node,
                 const SimExportOptions *opts)
{
  /* The proxy's authentication verdicts ride on the lookup event (sim-proxy.c): a 407 or a
   * 403 about the caller, not a search for the callee. */
  if (g_strcmp0 (event->action, "challenged") == 0 || g_strcmp0 (event->action, "rejected") == 0)
    g_string_append_printf (s, strcmp (event->action, "challenged") == 0
                               ? _("+ %s challenges the caller %s") : _("+ %s refuses the caller %s"),
                            node, event->aor ? event->aor : "?");
  else
    g_string_append_printf (s, _("+ %s looks up %s"), node, event->aor ? event->aor : "?");
  append_text_and_reason (s, event, opts);
  return TRUE;
}

static gboolean
describe_note (GString                *s,
               const SimEvent         *event,
               const char             *node,
               const SimExportOptions *opts)
{
  g_string_append (s, g_strcmp0 (event->action, "error") == 0 ? "! " : "# ");
  if (event->node != NULL)
    g_string_append_printf (s, "%s: ", event->node);
  append_said (s, event->text ? event->text : "");
  return TRUE;
}

/* A sniffer's copy: what it could read ("REGISTER (CSeq 2)") or only the TLS record's size;
 * and the result of its offline attack. */
static gboolean
describe_capture (GString                *s,
                  const SimEvent         *event,
                  const char             *node,
                  const SimExportOptions *opts)
{
  char src[64], dst[64];

  if (g_strcmp0 (event->action, "captured") != 0)
    {
      g_string_append_printf (s, "%% %s: ", node);
      if (event->text != NULL)
        append_said (s, event->text);
      else
        g_string_append (s, action_word (event->action));
      return TRUE;
    }
  sim_addr_format (&event->src, src, sizeof src);
  sim_addr_format (&event->dst, dst, sizeof dst);
  if (event->tls)
    g_string_append_printf (s, _("%% %s captured [TLS] %s -> %s: a TLS record of %lu bytes, "
                                 "contents unreadable"), node, src, dst,
                            (unsigned long) event->wire_len);
  else
    {
      g_autofree char *label = sim_export_packet_label (event);

      g_string_append_printf (s, _("%% %s captured %s -> %s: %s, %lu bytes in clear"), node, src,
                              dst, label, (unsigned long) event->wire_len);
    }
  return TRUE;
}

static gboolean
describe_timer (GString                *s,
                const SimEvent         *event,
                const char             *node,
                const SimExportOptions *opts)
{
  if (!opts->show_timers)
    return FALSE;
  g_string_append_printf (s, _("~ %s timer %s %s"), node, event->name ? event->name : "?",
                          action_word (event->action));
  if (event->duration > 0)
    {
      g_string_append (s, " ");
      sim_export_format_seconds (event->duration, s);
      g_string_append (s, "s");
    }
  if (event->branch != NULL)
    g_string_append_printf (s, " [%s]", event->branch);
  return TRUE;
}

static gboolean
describe_transaction (GString                *s,
                      const SimEvent         *event,
                      const char             *node,
                      const SimExportOptions *opts)
{
  if (!opts->show_timers)
    return FALSE;
  g_string_append_printf (s, _("~ %s transaction %s"), node, action_word (event->action));
  if (event->branch != NULL)
    g_string_append_printf (s, " [%s]", event->branch);
  append_text_and_reason (s, event, opts);
  return TRUE;
}

/* How each kind of event is annotated. */
static const DescribeFunc describers[] = {
  [SIM_EVENT_PACKET] = describe_packet,
  [SIM_EVENT_TIMER] = describe_timer,
  [SIM_EVENT_TRANSACTION] = describe_transaction,
  [SIM_EVENT_BINDING] = describe_binding,
  [SIM_EVENT_NONCE] = describe_nonce,
  [SIM_EVENT_CALL] = describe_call,
  [SIM_EVENT_REGISTRATION] = describe_registration,
  [SIM_EVENT_NODE] = describe_node,
  [SIM_EVENT_ACTION] = describe_action,
  [SIM_EVENT_LOOKUP] = describe_lookup,
  [SIM_EVENT_NOTE] = describe_note,
  [SIM_EVENT_CAPTURE] = describe_capture,
};

/* The annotation line for a non-packet event, or NULL when the ladder leaves it out. */
static char *
describe_event (const SimEvent         *event,
                const SimExportOptions *opts)
{
  g_autoptr(GString) s = NULL;

  if ((guint) event->type >= G_N_ELEMENTS (describers) || describers[event->type] == NULL)
    return NULL;
  s = g_string_new (NULL);
  if (!describers[event->type] (s, event, event->node ? event->node : "?", opts))
    return NULL;
  return g_string_free (g_steal_pointer (&s), FALSE);
}

/*
 * Appends an annotation after the time column, wrapped at @width on spaces; continuation
 * lines are indented under the text so the time column stays clear.
 */
static void
append_wrapped (GString    *out,
                const char *text,
                guint       width)
{
  const guint indent = TIME_WIDTH + 4;
  guint column = TIME_WIDTH;
  gboolean first = TRUE;
  const char *p = text;

  while (*p != '\0')
    {
      gsize space = strspn (p, " ");
      gsize word = strcspn (p + space, " ");

      if (word == 0)
        break;
      if (!first && column > indent && column + space + word > width)
        {
          g_string_append_printf (out, "\n%*s", (int) indent, "");
          column = indent;
        }
      else if (!first)
        {
          g_string_append_len (out, p, space);
          column += space;
        }
      g_string_append_len (out, p + space, word);
      column += word;
      p += space + word;
      first = FALSE;
    }
  g_string_append_c (out, '\n');
}

void
sim_export_ladder (GPtrArray              *events,
                   GString                *out,
                   const SimExportOptions *opts)
{
  g_autoptr(SimExportLayout) layout = NULL;
  g_autoptr(SimExportStream) stream = NULL;

  g_return_if_fail (events != NULL);
  g_return_if_fail (out != NULL);

  /* The same two steps as a streamed ladder: the layout over every event, then the rows. */
  layout = sim_export_layout_new (opts);
  for (guint i = 0; i < events->len; i++)
    sim_export_layout_add (layout, events->pdata[i]);
  stream = sim_export_stream_new_ladder (g_steal_pointer (&layout), opts, out);
  for (guint i = 0; i < events->len; i++)
    sim_export_stream_add (stream, events->pdata[i], out);
  sim_export_stream_finish (stream, out);
}

/* --- The ladder's pieces, for other drawings of it ---------------------------------------- */

gboolean
sim_export_is_arrow (const SimEvent *event)
{
  g_return_val_if_fail (event != NULL, FALSE);
  return is_departure (event) && event->from != NULL && event->to != NULL;
}

SimExportFate *
sim_export_fates (GPtrArray *events)
{
  g_autofree PacketFate *fates = NULL;
  SimExportFate *out;

  g_return_val_if_fail (events != NULL, NULL);
  fates = compute_fates (events);
  out = g_new0 (SimExportFate, MAX (events->len, 1));
  for (guint i = 0; i < events->len; i++)
    switch (fates[i].fate)
      {
      case FATE_DELIVERED: out[i] = SIM_EXPORT_FATE_DELIVERED; break;
      case FATE_LOST_ON_LINK: out[i] = SIM_EXPORT_FATE_LOST_ON_LINK; break;
      case FATE_DROPPED_AT_RECEIVER: out[i] = SIM_EXPORT_FATE_DROPPED; break;
      case FATE_UNKNOWN:
      default: out[i] = SIM_EXPORT_FATE_IN_FLIGHT; break;
      }
  return out;
}

char *
sim_export_describe_event (const SimEvent         *event,
                           const SimExportOptions *opts)
{
  static const SimExportOptions defaults = { 0 };

  g_return_val_if_fail (event != NULL, NULL);
  return describe_event (event, opts != NULL ? opts : &defaults);
}

/* --- Messages ------------------------------------------------------------------------------- */

void
sim_export_messages (GPtrArray *events,
                     GString   *out)
{
  g_autoptr(SimExportStream) stream = NULL;

  g_return_if_fail (events != NULL);
  g_return_if_fail (out != NULL);

  stream = sim_export_stream_new_messages ();
  for (guint i = 0; i < events->len; i++)
    sim_export_stream_add (stream, events->pdata[i], out);
  sim_export_stream_finish (stream, out);
}

/* One datagram of the message list: a header line with its fate, then its text. */
static void
append_message (GString        *out,
                const SimEvent *event,
                Fate            fate,
                const SimEvent *dropped)
{
  char src[64], dst[64];
  const char *p;

  sim_addr_format (&event->src, src, sizeof src);
  sim_addr_format (&event->dst, dst, sizeof dst);
  g_string_append (out, "=== ");
  sim_export_format_time (event->t, out);
  g_string_append_printf (out, "  %s -> %s  %s -> %s  %s  %s",
                          event->from ? event->from : "?", event->to ? event->to : "?",
                          src, dst, sim_transport_name (event->src.transport), event->action);
  if (fate == FATE_LOST_ON_LINK || fate == FATE_DROPPED_AT_RECEIVER)
    {
      g_autofree char *reason = sim_i18n_reason (dropped->reason ? dropped->reason : "?");

      g_string_append_printf (out, _("  [dropped: %s]"), reason);
    }
  g_string_append (out, " ===\n");

  /* The wire has CRLF line ends; a terminal wants LF. */
  for (p = event->raw ? event->raw : ""; *p != '\0'; p++)
    if (*p != '\r')
      g_string_append_c (out, *p);
  if (out->len > 0 && out->str[out->len - 1] != '\n')
    g_string_append_c (out, '\n');
  g_string_append_c (out, '\n');
}

/* --- Streams -------------------------------------------------------------------------------- */

struct _SimExportLayout {
  Ladder ladder;
};

SimExportLayout *
sim_export_layout_new (const SimExportOptions *opts)
{
  static const SimExportOptions defaults = { 0 };
  SimExportLayout *self = g_new0 (SimExportLayout, 1);

  ladder_init (&self->ladder, opts != NULL ? opts : &defaults);
  return self;
}

void
sim_export_layout_add (SimExportLayout *self,
                       const SimEvent  *event)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (event != NULL);
  ladder_plan_event (&self->ladder, event);
}

void
sim_export_layout_free (SimExportLayout *self)
{
  if (self == NULL)
    return;
  ladder_clear (&self->ladder);
  g_free (self);
}

/* An event waiting to be written: a departure waits for its fate, the rest for the ones before. */
typedef struct {
  SimEvent *event;
  gboolean waiting;             /* a departure whose fate has not come yet */
  Fate fate;
  SimEvent *dropped;            /* the "dropped" event, for its reason */
} Pending;

static void
pending_free (Pending *pending)
{
  sim_event_unref (pending->event);
  if (pending->dropped != NULL)
    sim_event_unref (pending->dropped);
  g_free (pending);
}

struct _SimExportStream {
  gboolean ladder;              /* else the message list */
  SimExportOptions opts;        /* the ladder's, nodes left out (the layout has them) */
  Ladder layout;
  gboolean time_shown;
  SimTime last_t;
  GQueue pending;               /* Pending*, in trace order */
  GHashTable *in_flight;        /* datagram_key () -> GQueue of the Pending departures */
};

static SimExportStream *
stream_new (void)
{
  SimExportStream *self = g_new0 (SimExportStream, 1);

  g_queue_init (&self->pending);
  self->in_flight = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                           (GDestroyNotify) g_queue_free);
  return self;
}

SimExportStream *
sim_export_stream_new_ladder (SimExportLayout        *layout,
                              const SimExportOptions *opts,
                              GString                *out)
{
  SimExportStream *self;

  g_return_val_if_fail (layout != NULL, NULL);
  g_return_val_if_fail (out != NULL, NULL);

  self = stream_new ();
  self->ladder = TRUE;
  if (opts != NULL)
    self->opts = *opts;
  self->opts.nodes = NULL;
  self->layout = layout->ladder;
  g_free (layout);
  ladder_layout (&self->layout, self->opts.width ? self->opts.width : DEFAULT_WIDTH);
  if (self->layout.names->len > 0)
    ladder_header (&self->layout, out);
  return self;
}

SimExportStream *
sim_export_stream_new_messages (void)
{
  return stream_new ();
}

/* Writes one event whose fate (if it is a departure) is known. */
static void
stream_write (SimExportStream *self,
              const Pending   *pending,
              GString         *out)
{
  const SimEvent *event = pending->event;
  g_autofree char *text = NULL;
  guint width = self->opts.width ? self->opts.width : DEFAULT_WIDTH;

  if (!self->ladder)
    {
      if (is_departure (event))
        append_message (out, event, pending->fate, pending->dropped);
      return;
    }
  if (is_departure (event) && event->from != NULL && event->to != NULL)
    {
      /* The layout saw every event of the session: an arrow it has no column for means it was
       * planned over other events (a caller's mistake), and has no place to be drawn. */
      if (!g_hash_table_contains (self->layout.index, event->from) ||
          !g_hash_table_contains (self->layout.index, event->to))
        {
          g_critical ("sim_export_stream_add: no column for %s -> %s: the layout was planned "
                      "over other events", event->from, event->to);
          return;
        }
      ladder_packet_row (&self->layout, out, event, pending->fate);
      self->time_shown = TRUE;
      self->last_t = event->t;
      return;
    }
  text = describe_event (event, &self->opts);
  if (text == NULL)
    return;
  append_time_prefix (out, event->t, !self->time_shown || event->t != self->last_t);
  self->time_shown = TRUE;
  self->last_t = event->t;
  append_wrapped (out, text, width);
}

/*
 * Pairs a packet event with the departures in flight (as compute_fates() does): a departure
 * joins its datagram's queue, a "delivered" or "dropped" settles the oldest one in it.
 */
static void
stream_match (SimExportStream *self,
              Pending         *pending)
{
  SimEvent *event = pending->event;
  g_autofree char *key = datagram_key (event);
  GQueue *queue = g_hash_table_lookup (self->in_flight, key);
  Pending *sent;

  if (is_departure (event))
    {
      if (queue == NULL)
        {
          queue = g_queue_new ();
          g_hash_table_insert (self->in_flight, g_steal_pointer (&key), queue);
        }
      pending->waiting = TRUE;
      g_queue_push_tail (queue, pending);
      return;
    }
  if (queue == NULL)
    return;
  sent = g_queue_pop_head (queue);
  if (g_strcmp0 (event->action, "delivered") == 0)
    sent->fate = FATE_DELIVERED;
  else if (g_strcmp0 (event->action, "dropped") == 0)
    {
      /* SimNet says "lost on the link" for simulated loss; anything else happened at the far
       * end (no host at that address any more, powered off, port closed). */
      gboolean on_link = event->reason != NULL && strstr (event->reason, "on the link") != NULL;

      sent->fate = on_link ? FATE_LOST_ON_LINK : FATE_DROPPED_AT_RECEIVER;
      sent->dropped = sim_event_ref (event);
    }
  sent->waiting = FALSE;
  /* Nothing is kept for a datagram that has arrived: the table holds what is in flight. */
  if (g_queue_is_empty (queue))
    g_hash_table_remove (self->in_flight, key);
}

void
sim_export_stream_add (SimExportStream *self,
                       SimEvent        *event,
                       GString         *out)
{
  Pending *pending;

  g_return_if_fail (self != NULL);
  g_return_if_fail (event != NULL);
  g_return_if_fail (out != NULL);

  pending = g_new0 (Pending, 1);
  pending->event = sim_event_ref (event);
  if (event->type == SIM_EVENT_PACKET)
    stream_match (self, pending);
  /* The message list shows departures only: nothing else has to wait with them. */
  if (self->ladder || is_departure (event))
    g_queue_push_tail (&self->pending, pending);
  else
    pending_free (pending);

  /* Everything up to the first departure still in flight is final. */
  while (!g_queue_is_empty (&self->pending) &&
         !((Pending *) g_queue_peek_head (&self->pending))->waiting)
    {
      Pending *head = g_queue_pop_head (&self->pending);

      stream_write (self, head, out);
      pending_free (head);
    }
}

void
sim_export_stream_finish (SimExportStream *self,
                          GString         *out)
{
  Pending *head;

  g_return_if_fail (self != NULL);
  g_return_if_fail (out != NULL);

  /* What is still in flight when the trace ends is drawn without a fate. */
  g_hash_table_remove_all (self->in_flight);
  while ((head = g_queue_pop_head (&self->pending)) != NULL)
    {
      stream_write (self, head, out);
      pending_free (head);
    }
}

void
sim_export_stream_free (SimExportStream *self)
{
  if (self == NULL)
    return;
  g_hash_table_unref (self->in_flight);
  g_queue_clear_full (&self->pending, (GDestroyNotify) pending_free);
  ladder_clear (&self->layout);
  g_free (self);
}

/* --- JSON Lines ----------------------------------------------------------------------------- */

/*
 * One line is written straight into the output, member after member, without building a
 * JsonNode tree: a capture of a million messages prints some four million lines, and a builder,
 * a generator and their nodes per line were most of `siplab-cli view`'s time.  The bytes are
 * those json-glib 1.6's JsonGenerator wrote before (members in insertion order, no spaces,
 * the same escapes: \" \\ \b \f \n \r \t, \u00XX for other control characters and DEL, UTF-8
 * passed through), with one exception: json-glib leaves 0x1f unescaped, which RFC 8259 §7
 * forbids, so it is written \u001f here.
 */
typedef struct {
  GString *out;
  gboolean first;    /* no member written yet: the next one needs no comma */
} JsonLine;

static void
json_member (JsonLine   *line,
             const char *name)
{
  if (!line->first)
    g_string_append_c (line->out, ',');
  line->first = FALSE;
  /* Member names are this file's constants: plain ASCII, nothing to escape. */
  g_string_append_c (line->out, '"');
  g_string_append (line->out, name);
  g_string_append (line->out, "\":");
}

/* Whether a byte must be escaped in a JSON string: controls, '"', '\\' and DEL (as json-glib). */
static const guint8 json_escaped[256] = {
  [0x00 ... 0x1f] = 1, ['"'] = 1, ['\\'] = 1, [0x7f] = 1,
};

/*
 * Appends @value as a JSON string (RFC 8259 §7), writing straight into @out's buffer grown to
 * the worst case first (six bytes a character).  Returns whether @value has bytes above 0x7f,
 * which only then need a UTF-8 check.
 */
static gboolean
json_append_escaped (GString    *out,
                     const char *value)
{
  static const char hex[] = "0123456789abcdef";
  gsize len = strlen (value);
  gsize start = out->len;
  guint8 high = 0;
  char *w;

  g_string_set_size (out, start + 6 * len + 2);
  w = out->str + start;
  *w++ = '"';
  for (const guchar *p = (const guchar *) value; *p != '\0'; p++)
    {
      guchar c = *p;

      high |= c;
      if (G_LIKELY (!json_escaped[c]))
        {
          *w++ = (char) c;
          continue;
        }
      *w++ = '\\';
      switch (c)
        {
        case '"': *w++ = '"'; break;
        case '\\': *w++ = '\\'; break;
        case '\b': *w++ = 'b'; break;
        case '\f': *w++ = 'f'; break;
        case '\n': *w++ = 'n'; break;
        case '\r': *w++ = 'r'; break;
        case '\t': *w++ = 't'; break;
        default:
          *w++ = 'u';
          *w++ = '0';
          *w++ = '0';
          *w++ = hex[c >> 4];
          *w++ = hex[c & 0xf];
          break;
        }
    }
  *w++ = '"';
  g_string_truncate (out, w - out->str);
  return (high & 0x80) != 0;
}

static void
add_string (JsonLine   *line,
            const char *name,
            const char *value)
{
  gsize start;

  json_member (line, name);
  if (value == NULL)
    {
      g_string_append (line->out, "null");
      return;
    }
  start = line->out->len;
  if (json_append_escaped (line->out, value) && !g_utf8_validate (value, -1, NULL))
    {
      /* Malformed-input lessons may put any bytes on the wire; JSON must stay UTF-8. */
      g_autofree char *valid = g_utf8_make_valid (value, -1);

      g_string_truncate (line->out, start);
      json_append_escaped (line->out, valid);
    }
}

static void
add_string_if_set (JsonLine   *line,
                   const char *name,
                   const char *value)
{
  if (value != NULL)
    add_string (line, name, value);
}

static void
add_int (JsonLine   *line,
         const char *name,
         gint64      value)
{
  json_member (line, name);
  g_string_append_printf (line->out, "%" G_GINT64_FORMAT, value);
}

static void
add_addr (JsonLine      *line,
          const char    *name,
          const SimAddr *addr)
{
  char buf[64];

  sim_addr_format (addr, buf, sizeof buf);
  add_string (line, name, buf);
}

static void
add_expires (JsonLine       *line,
             const SimEvent *event,
             gboolean        always)
{
  if (event->expires != SIM_EVENT_NO_EXPIRES)
    add_int (line, "expires", event->expires);
  else if (always)
    add_string (line, "expires", NULL);
}

/* Fields an event type has no fixed list for: whatever is set, in one fixed order. */
static void
add_other_fields (JsonLine       *line,
                  const SimEvent *event)
{
  add_string (line, "node", event->node);
  add_string (line, "action", event->action);
  add_string_if_set (line, "text", event->text);
  add_string_if_set (line, "reason", event->reason);
  add_string_if_set (line, "from", event->from);
  add_string_if_set (line, "to", event->to);
  if (event->src.ip[0] != '\0')
    {
      /* Node events carry the host's address without a port. */
      if (event->src.port == 0)
        add_string (line, "ip", event->src.ip);
      else
        add_addr (line, "src", &event->src);
    }
  if (event->dst.ip[0] != '\0')
    add_addr (line, "dst", &event->dst);
  add_string_if_set (line, "aor", event->aor);
  add_string_if_set (line, "contact", event->contact);
  add_expires (line, event, FALSE);
  add_string_if_set (line, "call_id", event->call_id);
  add_string_if_set (line, "cseq", event->cseq);
  add_string_if_set (line, "method", event->method);
  if (event->status > 0)
    add_int (line, "status", event->status);
  add_string_if_set (line, "branch", event->branch);
  add_string_if_set (line, "nonce", event->nonce);
  add_string_if_set (line, "user", event->user);
  add_string_if_set (line, "algorithm", event->algorithm);
  add_string_if_set (line, "name", event->name);
}

static void
add_tls (JsonLine *line)
{
  json_member (line, "tls");
  g_string_append (line->out, "true");
}

/* A sniffer's copy (docs/jsonl.md): what it could read, or only the TLS record's size. */
static void
add_capture_fields (JsonLine       *line,
                    const SimEvent *event)
{
  add_string (line, "node", event->node);
  add_string (line, "action", event->action);
  if (strcmp (event->action, "captured") != 0)
    {
      add_string_if_set (line, "user", event->user);
      add_string (line, "text", event->text);
      return;
    }
  add_string (line, "from", event->from);
  add_string (line, "to", event->to);
  add_addr (line, "src", &event->src);
  add_addr (line, "dst", &event->dst);
  add_int (line, "bytes", (gint64) event->wire_len);
  if (event->tls)
    add_tls (line);
  else
    {
      add_string (line, "first_line", event->first_line);
      add_string (line, "raw", event->raw);
    }
}

static void
add_packet_fields (JsonLine       *line,
                   const SimEvent *event)
{
  add_string (line, "action", event->action);
  add_string (line, "from", event->from);
  add_string (line, "to", event->to);
  add_addr (line, "src", &event->src);
  add_addr (line, "dst", &event->dst);
  add_string (line, "transport", sim_transport_name (event->src.transport));
  add_string (line, "first_line", event->first_line);
  add_string (line, "call_id", event->call_id);
  add_string (line, "cseq", event->cseq);
  if (event->status > 0)
    add_int (line, "status", event->status);
  add_string_if_set (line, "method", event->method);
  add_string_if_set (line, "branch", event->branch);
  add_string_if_set (line, "reason", event->reason);
  if (event->tls)
    add_tls (line);
  add_string (line, "raw", event->raw);
}

void
sim_export_jsonl_line (const SimEvent *event,
                       GString        *out)
{
  JsonLine line = { out, FALSE };

  g_return_if_fail (event != NULL);
  g_return_if_fail (out != NULL);

  /*
   * The two times are written exactly, from integer microseconds (a double would print
   * 3700.02 as 3700.0200000000000001): "t" first, "duration" last.
   */
  g_string_append (out, "{\"t\":");
  sim_export_format_seconds (event->t, out);
  add_string (&line, "type", sim_event_type_name (event->type));
  switch (event->type)
    {
    case SIM_EVENT_PACKET:
      add_packet_fields (&line, event);
      break;

    case SIM_EVENT_CAPTURE:
      add_capture_fields (&line, event);
      break;

    case SIM_EVENT_BINDING:
      add_string (&line, "node", event->node);
      add_string (&line, "action", event->action);
      add_string (&line, "aor", event->aor);
      add_string (&line, "contact", event->contact);
      add_expires (&line, event, TRUE);
      add_string (&line, "reason", event->reason);
      add_string_if_set (&line, "text", event->text);
      add_string_if_set (&line, "call_id", event->call_id);
      add_string_if_set (&line, "cseq", event->cseq);
      break;

    case SIM_EVENT_NONCE:
      add_string (&line, "node", event->node);
      add_string (&line, "action", event->action);
      add_string (&line, "nonce", event->nonce);
      add_string (&line, "reason", event->reason);
      add_string (&line, "user", event->user);
      add_string (&line, "algorithm", event->algorithm);
      add_string_if_set (&line, "text", event->text);
      break;

    case SIM_EVENT_TIMER:
      add_string (&line, "node", event->node);
      add_string (&line, "action", event->action);
      add_string (&line, "name", event->name);
      add_string (&line, "branch", event->branch);
      add_string_if_set (&line, "text", event->text);
      add_string_if_set (&line, "reason", event->reason);
      g_string_append (out, ",\"duration\":");
      sim_export_format_seconds (event->duration, out);
      break;

    default:
      add_other_fields (&line, event);
      break;
    }
  g_string_append (out, "}\n");
}

void
sim_export_jsonl (GPtrArray *events,
                  GString   *out)
{
  g_return_if_fail (events != NULL);
  for (guint i = 0; i < events->len; i++)
    sim_export_jsonl_line (events->pdata[i], out);
}
