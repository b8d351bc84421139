/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "sim-trace.h"

#include "sim-message.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

struct _SimTrace {
  GObject parent_instance;
  GPtrArray *events;
  guint64 n_emitted;
  gboolean enabled;
  gboolean keep;
  guint max_kept;            /* 0: all; else the oldest are dropped beyond this many */
};

enum {
  SIGNAL_EVENT,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

G_DEFINE_BOXED_TYPE (SimEvent, sim_event, sim_event_ref, sim_event_unref)
G_DEFINE_FINAL_TYPE (SimTrace, sim_trace, G_TYPE_OBJECT)

static const char *event_type_names[] = {
  [SIM_EVENT_PACKET] = "packet",
  [SIM_EVENT_TIMER] = "timer",
  [SIM_EVENT_TRANSACTION] = "transaction",
  [SIM_EVENT_BINDING] = "binding",
  [SIM_EVENT_NONCE] = "nonce",
  [SIM_EVENT_CALL] = "call",
  [SIM_EVENT_REGISTRATION] = "registration",
  [SIM_EVENT_NODE] = "node",
  [SIM_EVENT_ACTION] = "action",
  [SIM_EVENT_LOOKUP] = "lookup",
  [SIM_EVENT_NOTE] = "note",
  [SIM_EVENT_CAPTURE] = "capture",
};

const char *
sim_event_type_name (SimEventType type)
{
  if ((guint) type < G_N_ELEMENTS (event_type_names))
    return event_type_names[type];
  return "unknown";
}

gboolean
sim_event_type_from_name (const char   *name,
                          SimEventType *type)
{
  for (guint i = 0; i < G_N_ELEMENTS (event_type_names); i++)
    if (g_strcmp0 (name, event_type_names[i]) == 0)
      {
        *type = i;
        return TRUE;
      }
  return FALSE;
}

SimEvent *
sim_event_new (SimEventType  type,
               const char   *action)
{
  SimEvent *event = g_new0 (SimEvent, 1);

  event->ref_count = 1;
  event->type = type;
  event->action = g_strdup (action);
  event->expires = SIM_EVENT_NO_EXPIRES;
  return event;
}

SimEvent *
sim_event_ref (SimEvent *event)
{
  g_return_val_if_fail (event != NULL, NULL);
  g_atomic_int_inc (&event->ref_count);
  return event;
}

void
sim_event_unref (SimEvent *event)
{
  g_return_if_fail (event != NULL);
  if (!g_atomic_int_dec_and_test (&event->ref_count))
    return;
  g_free (event->action);
  g_free (event->node);
  g_free (event->from);
  g_free (event->to);
  g_free (event->raw);
  g_free (event->first_line);
  g_free (event->call_id);
  g_free (event->cseq);
  g_free (event->method);
  g_free (event->branch);
  g_free (event->aor);
  g_free (event->contact);
  g_free (event->nonce);
  g_free (event->user);
  g_free (event->algorithm);
  g_free (event->name);
  g_free (event->reason);
  g_free (event->text);
  g_free (event);
}

void
sim_event_set_packet (SimEvent      *event,
                      const char    *from,
                      const char    *to,
                      const SimAddr *src,
                      const SimAddr *dst,
                      const char    *raw,
                      gsize          len)
{
  const char *end;
  const char *eol;
  g_autofree char *via = NULL;

  g_free (event->from);
  event->from = g_strdup (from);
  g_free (event->to);
  event->to = g_strdup (to);
  if (src != NULL)
    event->src = *src;
  if (dst != NULL)
    event->dst = *dst;
  g_free (event->raw);
  event->raw = g_strndup (raw, len);
  end = event->raw + strlen (event->raw);
  raw = event->raw;
  eol = strchr (raw, '\n');
  if (eol == NULL)
    eol = end;
  while (eol > raw && (eol[-1] == '\r' || eol[-1] == '\n'))
    eol--;
  event->first_line = g_utf8_make_valid (raw, eol - raw);
  event->call_id = sim_raw_header_value (raw, "Call-ID");
  event->cseq = sim_raw_header_value (raw, "CSeq");
  via = sim_raw_header_value (raw, "Via");
  if (via != NULL)
    {
      const char *b = strstr (via, "branch=");
      if (b != NULL)
        {
          b += strlen ("branch=");
          event->branch = g_strndup (b, strcspn (b, ";, \t"));
        }
    }
  if (g_str_has_prefix (event->first_line, "SIP/2.0 "))
    {
      event->status = atoi (event->first_line + 8);
      if (event->cseq != NULL)
        {
          const char *m = strchr (event->cseq, ' ');
          if (m != NULL)
            event->method = g_strdup (m + strspn (m, " "));
        }
    }
  else
    event->method = g_strndup (event->first_line, strcspn (event->first_line, " "));
}

static void
sim_trace_finalize (GObject *object)
{
  SimTrace *self = SIM_TRACE (object);

  g_clear_pointer (&self->events, g_ptr_array_unref);
  G_OBJECT_CLASS (sim_trace_parent_class)->finalize (object);
}

static void
sim_trace_class_init (SimTraceClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = sim_trace_finalize;

  /**
   * SimTrace::event:
   * @event: (transfer none): the event just added
   */
  signals[SIGNAL_EVENT] =
    g_signal_new ("event", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, SIM_TYPE_EVENT | G_SIGNAL_TYPE_STATIC_SCOPE);
}

static void
sim_trace_init (SimTrace *self)
{
  self->events = g_ptr_array_new_with_free_func ((GDestroyNotify) sim_event_unref);
  self->enabled = TRUE;
  self->keep = TRUE;
}

SimTrace *
sim_trace_new (void)
{
  return g_object_new (SIM_TYPE_TRACE, NULL);
}

gboolean
sim_trace_is_enabled (SimTrace *self)
{
  return self != NULL && self->enabled;
}

void
sim_trace_set_enabled (SimTrace *self,
                       gboolean  enabled)
{
  g_return_if_fail (SIM_IS_TRACE (self));
  self->enabled = !!enabled;
}

void
sim_trace_set_keep (SimTrace *self,
                    gboolean  keep)
{
  g_return_if_fail (SIM_IS_TRACE (self));
  self->keep = !!keep;
}

void
sim_trace_emit (SimTrace *self,
                SimEvent *event)
{
  g_return_if_fail (SIM_IS_TRACE (self));
  g_return_if_fail (event != NULL);

  if (!self->enabled)
    {
      sim_event_unref (event);
      return;
    }
  event->index = self->n_emitted++;
  if (self->keep)
    {
      /* Bounded: drop the oldest eighth at once, so the copying is amortised. */
      if (self->max_kept > 0 && self->events->len >= self->max_kept)
        g_ptr_array_remove_range (self->events, 0, MAX (self->max_kept / 8, 1));
      g_ptr_array_add (self->events, sim_event_ref (event));
    }
  g_signal_emit (self, signals[SIGNAL_EVENT], 0, event);
  sim_event_unref (event);
}

void
sim_trace_note (SimTrace   *self,
                SimTime     t,
                const char *node,
                const char *format,
                ...)
{
  SimEvent *event;
  va_list args;

  g_return_if_fail (SIM_IS_TRACE (self));
  if (!self->enabled)
    return;
  event = sim_event_new (SIM_EVENT_NOTE, "note");
  event->t = t;
  event->node = g_strdup (node);
  va_start (args, format);
  event->text = g_strdup_vprintf (format, args);
  va_end (args);
  sim_trace_emit (self, event);
}

void
sim_trace_set_max_kept (SimTrace *self,
                        guint     max_kept)
{
  g_return_if_fail (SIM_IS_TRACE (self));
  self->max_kept = max_kept;
  if (max_kept > 0 && self->events->len > max_kept)
    g_ptr_array_remove_range (self->events, 0, self->events->len - max_kept);
}

void
sim_trace_restore (SimTrace  *self,
                   GPtrArray *events,
                   guint64    n_emitted)
{
  g_return_if_fail (SIM_IS_TRACE (self));
  g_return_if_fail (events != NULL);

  g_ptr_array_set_size (self->events, 0);
  if (self->keep)
    {
      guint from = 0;

      if (self->max_kept > 0 && events->len > self->max_kept)
        from = events->len - self->max_kept;
      for (guint i = from; i < events->len; i++)
        {
          SimEvent *event = events->pdata[i];

          g_return_if_fail (event->index < n_emitted);
          g_ptr_array_add (self->events, sim_event_ref (event));
        }
    }
  self->n_emitted = n_emitted;
}

guint
sim_trace_position_of (SimTrace *self,
                       guint64   index)
{
  guint lo = 0, hi;

  g_return_val_if_fail (SIM_IS_TRACE (self), 0);
  /* Kept events are in emission order, so their indices increase: binary search. */
  hi = self->events->len;
  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;

      if (((SimEvent *) self->events->pdata[mid])->index < index)
        lo = mid + 1;
      else
        hi = mid;
    }
  return lo;
}

guint
sim_trace_get_n_events (SimTrace *self)
{
  g_return_val_if_fail (SIM_IS_TRACE (self), 0);
  return self->events->len;
}

guint64
sim_trace_get_n_emitted (SimTrace *self)
{
  g_return_val_if_fail (SIM_IS_TRACE (self), 0);
  return self->n_emitted;
}

SimEvent *
sim_trace_get_event (SimTrace *self,
                     guint     index)
{
  g_return_val_if_fail (SIM_IS_TRACE (self), NULL);
  if (index >= self->events->len)
    return NULL;
  return self->events->pdata[index];
}

GPtrArray *
sim_trace_get_events (SimTrace *self)
{
  g_return_val_if_fail (SIM_IS_TRACE (self), NULL);
  return self->events;
}
