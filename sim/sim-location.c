/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "sim-location.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/*
 * The location service keeps what REGISTER requests established and nothing else: it holds
 * no policy (the registrar decides what a request may change, RFC 3261 §10.3) and only
 * applies whole binding sets, so a rejected request cannot leave half an update behind.
 *
 * Memory matters here: a benchmark holds tens of thousands of bindings.  So the stored
 * bindings share their AOR string with their record, User-Agent strings come from a
 * reference-counted pool (a lab has a handful of phone models, and attacker-chosen strings
 * are released again, unlike g_intern_string), and there is one expiry timer per AOR, armed
 * for its earliest binding.  When a refresh pushes that deadline later the timer is left
 * alone and simply re-arms itself when it fires early: cancelling would leave a dead timer in
 * the clock's heap until its old deadline.
 */

/*
 * Where the location's memory comes from.  Bindings live for hours; the transactions that
 * created them live 32 seconds (Timer J, RFC 3261 §17.2.2), and a burst allocates both side by
 * side.  With one heap for everything, each page of the allocator ends up holding a few
 * bindings among the blocks of ended transactions and can never be given back.  At 100,000
 * bindings (bench/bench-serve.sh) `serve` kept 650 bytes of RSS per binding with one heap, 460
 * with this one; the bindings themselves use about 500 (GSlice, the other part of the waste,
 * is turned off in app/siplab-cli-serve.c).
 * So when the process allocates with mimalloc (siplab-cli links it first, replacing malloc),
 * every allocation made while the location changes (records, bindings and their strings, the
 * binding arrays, the expiry timers of the clock) goes to a heap of its own: mi_heap_set_default()
 * for the duration of the change.  Transaction pages then empty completely when their
 * transactions end, and mimalloc returns them to the system.  The symbols are weak: in programs
 * without mimalloc (the GUI, the tests, sanitizer builds) nothing changes, and the heap is only
 * used when malloc() itself is mimalloc's (so free() can release its blocks) and only on the
 * thread that created it (a mimalloc heap belongs to one thread).
 */
typedef struct mi_heap_s mi_heap_t;
extern mi_heap_t *mi_heap_new (void) __attribute__ ((weak));
extern mi_heap_t *mi_heap_set_default (mi_heap_t *heap) __attribute__ ((weak));
extern bool mi_is_in_heap_region (const void *p) __attribute__ ((weak));

static mi_heap_t *binding_heap;
static GThread *binding_heap_thread;

/* Makes the bindings' heap the default one for this thread; returns the one to restore. */
static mi_heap_t *
heap_enter (void)
{
  static gsize checked;

  if (g_once_init_enter (&checked))
    {
      if (mi_heap_new != NULL && mi_heap_set_default != NULL && mi_is_in_heap_region != NULL)
        {
          void *probe = malloc (16);

          if (mi_is_in_heap_region (probe))
            {
              binding_heap = mi_heap_new ();
              binding_heap_thread = g_thread_self ();
            }
          free (probe);
        }
      g_once_init_leave (&checked, 1);
    }
  if (binding_heap == NULL || g_thread_self () != binding_heap_thread)
    return NULL;
  return mi_heap_set_default (binding_heap);
}

static void
heap_leave (mi_heap_t *previous)
{
  if (previous != NULL)
    mi_heap_set_default (previous);
}

typedef struct {
  SimLocation *self;
  char *aor;
  GPtrArray *bindings;     /* SimBinding*, owned (stored form), registration order */
  guint timer;
  SimTime timer_deadline;
} AorRecord;

struct _SimLocation {
  GObject parent_instance;
  SimClock *clock;
  SimTrace *trace;
  char *node_name;
  GHashTable *aors;        /* aor -> AorRecord* */
  AorRecord *last_record;  /* the record find_record() found last, or NULL */
  GHashTable *pool;        /* string -> PoolEntry* (User-Agent strings) */
  guint n_bindings;
  SimLocationChangedFunc changed_func;
  gpointer changed_data;
};

enum {
  SIGNAL_CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

G_DEFINE_BOXED_TYPE (SimBinding, sim_binding, sim_binding_copy, sim_binding_free)
G_DEFINE_FINAL_TYPE (SimLocation, sim_location, G_TYPE_OBJECT)

/* ---------------------------------------------------------------------------------------- */
/* SimBinding, the public (fully owned) form                                                 */

SimBinding *
sim_binding_copy (const SimBinding *binding)
{
  SimBinding *copy;

  g_return_val_if_fail (binding != NULL, NULL);

  copy = g_new (SimBinding, 1);
  *copy = *binding;
  copy->aor = g_strdup (binding->aor);
  copy->contact = g_strdup (binding->contact);
  copy->display = g_strdup (binding->display);
  copy->call_id = g_strdup (binding->call_id);
  copy->user_agent = g_strdup (binding->user_agent);
  copy->instance = g_strdup (binding->instance);
  return copy;
}

void
sim_binding_free (SimBinding *binding)
{
  if (binding == NULL)
    return;
  g_free (binding->aor);
  g_free (binding->contact);
  g_free (binding->display);
  g_free (binding->call_id);
  g_free (binding->user_agent);
  g_free (binding->instance);
  g_free (binding);
}

/* ---------------------------------------------------------------------------------------- */
/* The stored form: aor borrowed from the record, user_agent from the pool                   */

/* A pooled string and its reference count; the pool's key is the entry's own text. */
typedef struct {
  guint refs;
  char text[];
} PoolEntry;

static const char *
pool_ref (SimLocation *self,
          const char  *string)
{
  PoolEntry *entry;
  gsize len;

  if (string == NULL)
    return NULL;
  entry = g_hash_table_lookup (self->pool, string);
  if (entry == NULL)
    {
      len = strlen (string);
      entry = g_malloc (sizeof (PoolEntry) + len + 1);
      entry->refs = 0;
      memcpy (entry->text, string, len + 1);
      g_hash_table_insert (self->pool, entry->text, entry);
    }
  entry->refs++;
  return entry->text;
}

static void
pool_unref (SimLocation *self,
            const char  *string)
{
  PoolEntry *entry;

  if (string == NULL)
    return;
  entry = g_hash_table_lookup (self->pool, string);
  g_assert (entry != NULL && entry->text == string && entry->refs > 0);
  if (--entry->refs == 0)
    g_hash_table_remove (self->pool, string);
}

static SimBinding *
stored_new (SimLocation      *self,
            AorRecord        *record,
            const SimBinding *binding)
{
  SimBinding *stored = g_new (SimBinding, 1);

  *stored = *binding;
  stored->aor = record->aor;
  stored->contact = g_strdup (binding->contact);
  stored->display = g_strdup (binding->display);
  stored->call_id = g_strdup (binding->call_id);
  stored->user_agent = (char *) pool_ref (self, binding->user_agent);
  stored->instance = g_strdup (binding->instance);
  return stored;
}

static void
stored_free (SimLocation *self,
             SimBinding  *stored)
{
  g_free (stored->contact);
  g_free (stored->display);
  g_free (stored->call_id);
  pool_unref (self, stored->user_agent);
  g_free (stored->instance);
  g_free (stored);
}

/* What stored_update keeps of @old for @text: @old itself when it reads the same, else a copy. */
static char *
updated_string (char       *old,
                const char *text)
{
  return g_strcmp0 (old, text) == 0 ? old : g_strdup (text);
}

static void
free_if_replaced (char *old,
                  char *now)
{
  if (old != now)
    g_free (old);
}

/*
 * stored_free (@stored) then stored_new (@binding), for a binding of the same Contact: what
 * every refresh does, so the stored binding is updated in place and only the strings that
 * differ (usually just the Call-ID) are copied.  @binding's strings may be @stored's own, so
 * everything new is copied before anything old is freed.
 */
static void
stored_update (SimLocation      *self,
               SimBinding       *stored,
               const SimBinding *binding)
{
  SimBinding old = *stored;

  *stored = *binding;
  stored->aor = old.aor;
  stored->contact = old.contact;        /* the same text: that is how it was matched */
  stored->display = updated_string (old.display, binding->display);
  stored->call_id = updated_string (old.call_id, binding->call_id);
  stored->instance = updated_string (old.instance, binding->instance);
  stored->user_agent = g_strcmp0 (old.user_agent, binding->user_agent) == 0
                         ? old.user_agent : (char *) pool_ref (self, binding->user_agent);
  free_if_replaced (old.display, stored->display);
  free_if_replaced (old.call_id, stored->call_id);
  free_if_replaced (old.instance, stored->instance);
  if (old.user_agent != stored->user_agent)
    pool_unref (self, old.user_agent);
}

/* Unchanged means nothing a REGISTER can change differs: keep the stored one, trace nothing. */
static gboolean
binding_unchanged (const SimBinding *stored,
                   const SimBinding *binding)
{
  return stored == binding ||
         (stored->expires_at == binding->expires_at &&
          stored->granted == binding->granted &&
          stored->cseq == binding->cseq &&
          stored->updated_at == binding->updated_at &&
          g_strcmp0 (stored->call_id, binding->call_id) == 0);
}

/* ---------------------------------------------------------------------------------------- */
/* Records and tracing                                                                       */

/*
 * The record of @aor, or NULL.  A REGISTER looks its AOR up several times in a row (the
 * registrar's plan, the server's commit hook, the update, the 200's Contacts), so the record
 * found last is checked before hashing the AOR again; record_free() forgets it.
 */
static AorRecord *
find_record (SimLocation *self,
             const char  *aor)
{
  AorRecord *record = self->last_record;

  if (record != NULL && strcmp (record->aor, aor) == 0)
    return record;
  record = g_hash_table_lookup (self->aors, aor);
  if (record != NULL)
    self->last_record = record;
  return record;
}

static AorRecord *
record_new (SimLocation *self,
            const char  *aor)
{
  mi_heap_t *previous = heap_enter ();   /* a record lives as long as its bindings */
  AorRecord *record = g_new0 (AorRecord, 1);

  record->self = self;
  record->aor = g_strdup (aor);
  /* Most AORs have one or two bindings: do not let GPtrArray reserve its default 16 slots. */
  record->bindings = g_ptr_array_sized_new (1);
  g_hash_table_insert (self->aors, record->aor, record);
  heap_leave (previous);
  return record;
}

/* The hash table's value destructor: the record must already be out of the timer queue. */
static void
record_free (gpointer data)
{
  AorRecord *record = data;

  if (record->self->last_record == record)
    record->self->last_record = NULL;

  for (guint i = 0; i < record->bindings->len; i++)
    stored_free (record->self, record->bindings->pdata[i]);
  record->self->n_bindings -= record->bindings->len;
  g_ptr_array_unref (record->bindings);
  g_free (record->aor);
  g_free (record);
}

static void
record_remove (SimLocation *self,
               AorRecord   *record)
{
  sim_clock_clear (self->clock, &record->timer);
  g_hash_table_remove (self->aors, record->aor);
}

static gboolean
tracing (SimLocation *self)
{
  return self->trace != NULL && sim_trace_is_enabled (self->trace);
}

static SimEvent *
binding_event (SimLocation      *self,
               const char       *action,
               const SimBinding *binding,
               gint64            expires,
               const char       *reason)
{
  SimEvent *event = sim_event_new (SIM_EVENT_BINDING, action);

  event->t = sim_clock_now (self->clock);
  event->node = g_strdup (self->node_name);
  event->aor = g_strdup (binding->aor);
  event->contact = g_strdup (binding->contact);
  event->expires = expires;
  event->call_id = g_strdup (binding->call_id);
  event->cseq = g_strdup_printf ("%u REGISTER", binding->cseq);
  event->src = binding->source;
  event->reason = g_strdup (reason);
  return event;
}

static void
emit_events (SimLocation *self,
             GPtrArray   *events)
{
  for (guint i = 0; i < events->len; i++)
    sim_trace_emit (self->trace, g_steal_pointer (&events->pdata[i]));
  g_ptr_array_set_size (events, 0);
}

static void expiry_cb (gpointer data);

/* Keeps at most one pending timer per AOR, never later than its earliest binding's expiry. */
static void
record_arm (SimLocation *self,
            AorRecord   *record)
{
  SimTime earliest = G_MAXINT64;
  mi_heap_t *previous;

  for (guint i = 0; i < record->bindings->len; i++)
    earliest = MIN (earliest, ((SimBinding *) record->bindings->pdata[i])->expires_at);

  if (record->bindings->len == 0)
    {
      sim_clock_clear (self->clock, &record->timer);
      return;
    }
  if (record->timer != 0 && record->timer_deadline <= earliest)
    return;
  sim_clock_clear (self->clock, &record->timer);
  record->timer_deadline = earliest;
  /* The timer lives as long as the binding: it belongs with the bindings (heap_enter()). */
  previous = heap_enter ();
  record->timer = sim_clock_add (self->clock, earliest - sim_clock_now (self->clock), expiry_cb,
                                 record, NULL);
  heap_leave (previous);
}

/*
 * Drops the bindings of @record whose time is up (RFC 3261 §10.2.1: a binding the UA did not
 * refresh in time is gone), collecting their trace events.  Returns TRUE if any expired.
 */
static gboolean
record_expire (SimLocation *self,
               AorRecord   *record,
               GPtrArray   *events)
{
  SimTime now = sim_clock_now (self->clock);
  gboolean any = FALSE;

  for (guint i = 0; i < record->bindings->len;)
    {
      SimBinding *binding = record->bindings->pdata[i];

      if (binding->expires_at > now)
        {
          i++;
          continue;
        }
      if (events != NULL)
        {
          g_autofree char *reason =
            g_strdup_printf ("no refresh arrived within the %u s granted by the last 200 OK, so "
                             "the binding lapsed (RFC 3261 §10.2.1)", binding->granted);
          g_ptr_array_add (events, binding_event (self, "expired", binding, 0, reason));
        }
      g_ptr_array_remove_index (record->bindings, i);
      stored_free (self, binding);
      self->n_bindings--;
      any = TRUE;
    }
  return any;
}

static void
emit_changed (SimLocation *self,
              const char  *aor)
{
  if (self->changed_func != NULL)
    self->changed_func (self, aor, self->changed_data);
  g_signal_emit (self, signals[SIGNAL_CHANGED], 0, aor);
}

/*
 * Expires what is due in @record, then traces and signals once the state is consistent.
 * Returns FALSE, touching nothing, when nothing was due; otherwise @record may be gone.
 */
static gboolean
record_expire_and_notify (SimLocation *self,
                          AorRecord   *record)
{
  g_autoptr(GPtrArray) events = tracing (self) ? g_ptr_array_new () : NULL;
  g_autofree char *aor = NULL;

  if (!record_expire (self, record, events))
    return FALSE;
  aor = g_strdup (record->aor);
  if (record->bindings->len == 0)
    record_remove (self, record);
  else
    record_arm (self, record);

  g_object_ref (self);
  if (events != NULL)
    emit_events (self, events);
  emit_changed (self, aor);
  g_object_unref (self);
  return TRUE;
}

static void
expiry_cb (gpointer data)
{
  AorRecord *record = data;

  record->timer = 0;
  /* Nothing due means we woke early: a refresh moved the deadline after the timer was set. */
  if (!record_expire_and_notify (record->self, record))
    record_arm (record->self, record);
}

/* ---------------------------------------------------------------------------------------- */

static void
sim_location_dispose (GObject *object)
{
  SimLocation *self = SIM_LOCATION (object);

  if (self->aors != NULL)
    {
      GHashTableIter iter;
      AorRecord *record;

      /* The clock may outlive us: no timer may still point at a record. */
      g_hash_table_iter_init (&iter, self->aors);
      while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &record))
        sim_clock_clear (self->clock, &record->timer);
      g_clear_pointer (&self->aors, g_hash_table_unref);
    }
  G_OBJECT_CLASS (sim_location_parent_class)->dispose (object);
}

static void
sim_location_finalize (GObject *object)
{
  SimLocation *self = SIM_LOCATION (object);

  g_clear_pointer (&self->pool, g_hash_table_unref);
  g_free (self->node_name);
  g_clear_object (&self->clock);
  g_clear_object (&self->trace);
  G_OBJECT_CLASS (sim_location_parent_class)->finalize (object);
}

static void
sim_location_class_init (SimLocationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = sim_location_dispose;
  object_class->finalize = sim_location_finalize;

  /**
   * SimLocation::changed:
   * @aor: the Address of Record whose bindings changed
   *
   * Emitted after any change of an AOR's bindings: a REGISTER applied, or a binding expired.
   */
  signals[SIGNAL_CHANGED] =
    g_signal_new ("changed",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, G_TYPE_STRING | G_SIGNAL_TYPE_STATIC_SCOPE);
}

static void
sim_location_init (SimLocation *self)
{
  self->aors = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, record_free);
  self->pool = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_free);
}

SimLocation *
sim_location_new (SimClock   *clock,
                  SimTrace   *trace,
                  const char *node_name)
{
  SimLocation *self;

  g_return_val_if_fail (SIM_IS_CLOCK (clock), NULL);
  g_return_val_if_fail (trace == NULL || SIM_IS_TRACE (trace), NULL);

  self = g_object_new (SIM_TYPE_LOCATION, NULL);
  self->clock = g_object_ref (clock);
  self->trace = trace != NULL ? g_object_ref (trace) : NULL;
  self->node_name = g_strdup (node_name != NULL ? node_name : "registrar");
  return self;
}

const char *
sim_location_get_node_name (SimLocation *self)
{
  g_return_val_if_fail (SIM_IS_LOCATION (self), NULL);
  return self->node_name;
}

GPtrArray *
sim_location_lookup (SimLocation *self,
                     const char  *aor)
{
  AorRecord *record;

  g_return_val_if_fail (SIM_IS_LOCATION (self), NULL);
  g_return_val_if_fail (aor != NULL, NULL);

  record = find_record (self, aor);
  if (record == NULL)
    return NULL;
  /* A wall clock may run the expiry timer late; a lapsed binding is never "current".  Only
   * when something expired may @record be gone (and the handlers may have changed more). */
  if (!record_expire_and_notify (self, record))
    return record->bindings;
  record = find_record (self, aor);
  return record != NULL ? record->bindings : NULL;
}

GPtrArray *
sim_location_peek (SimLocation *self,
                   const char  *aor)
{
  AorRecord *record;

  g_return_val_if_fail (SIM_IS_LOCATION (self), NULL);
  g_return_val_if_fail (aor != NULL, NULL);

  record = find_record (self, aor);
  return record != NULL ? record->bindings : NULL;
}

const SimBinding *
sim_location_find_binding (SimLocation        *self,
                           SimBindingMatchFunc match,
                           gpointer            user_data)
{
  GHashTableIter iter;
  AorRecord *record;

  g_return_val_if_fail (SIM_IS_LOCATION (self), NULL);
  g_return_val_if_fail (match != NULL, NULL);

  g_hash_table_iter_init (&iter, self->aors);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &record))
    for (guint i = 0; i < record->bindings->len; i++)
      if (match (record->bindings->pdata[i], user_data))
        return record->bindings->pdata[i];
  return NULL;
}

const SimBinding *
sim_location_find (SimLocation *self,
                   const char  *aor,
                   const char  *contact)
{
  GPtrArray *bindings;

  g_return_val_if_fail (SIM_IS_LOCATION (self), NULL);
  g_return_val_if_fail (contact != NULL, NULL);

  bindings = sim_location_lookup (self, aor);
  if (bindings == NULL)
    return NULL;
  for (guint i = 0; i < bindings->len; i++)
    {
      SimBinding *binding = bindings->pdata[i];
      if (strcmp (binding->contact, contact) == 0)
        return binding;
    }
  return NULL;
}

void
sim_location_replace (SimLocation *self,
                      const char  *aor,
                      GPtrArray   *bindings,
                      const char  *why)
{
  sim_location_replace_full (self, aor, bindings, why, NULL);
}

/* Whether a binding after the @i-th of @bindings has its Contact. */
static gboolean
contact_follows (GPtrArray *bindings,
                 guint      i)
{
  const char *contact = ((SimBinding *) bindings->pdata[i])->contact;

  for (guint k = i + 1; k < bindings->len; k++)
    if (strcmp (((SimBinding *) bindings->pdata[k])->contact, contact) == 0)
      return TRUE;
  return FALSE;
}

/*
 * Adds the @i-th of @bindings to @fresh: the stored binding of its Contact in @old taken over
 * as it is (NULL returned), or refreshed ("refreshed"), or a new one ("added").  What is taken
 * from @old is cleared there.
 */
static const char *
take_binding (SimLocation *self,
              AorRecord   *record,
              GPtrArray   *old,
              GPtrArray   *bindings,
              guint        i,
              GPtrArray   *fresh)
{
  const SimBinding *binding = bindings->pdata[i];
  SimBinding *stored = NULL;
  guint pos;

  for (pos = 0; pos < old->len; pos++)
    {
      SimBinding *candidate = old->pdata[pos];
      if (candidate != NULL && strcmp (candidate->contact, binding->contact) == 0)
        {
          stored = candidate;
          break;
        }
    }

  if (stored != NULL && binding_unchanged (stored, binding))
    {
      old->pdata[pos] = NULL;                 /* taken over as it is */
      g_ptr_array_add (fresh, stored);
      return NULL;
    }
  /* A later binding of the same Contact (a caller may pass two) must still find the old one
   * as it was, so only the last of them is refreshed in place. */
  if (stored != NULL && !contact_follows (bindings, i))
    {
      old->pdata[pos] = NULL;                 /* refreshed where it is */
      stored_update (self, stored, binding);
      g_ptr_array_add (fresh, stored);
    }
  else
    g_ptr_array_add (fresh, stored_new (self, record, binding));
  return stored != NULL ? "refreshed" : "added";
}

static const char *
reason_for (GHashTable *reasons,
            const char *contact,
            const char *why)
{
  const char *reason = reasons != NULL ? g_hash_table_lookup (reasons, contact) : NULL;
  return reason != NULL ? reason : why;
}

void
sim_location_replace_full (SimLocation *self,
                           const char  *aor,
                           GPtrArray   *bindings,
                           const char  *why,
                           GHashTable  *reasons)
{
  g_autoptr(GPtrArray) events = NULL;
  g_autoptr(GPtrArray) updates = NULL;
  g_autoptr(GPtrArray) fresh = NULL;
  g_autofree char *aor_copy = NULL;
  AorRecord *record;
  GPtrArray *old;
  gboolean changed = FALSE;
  guint n_old;
  mi_heap_t *previous;

  g_return_if_fail (SIM_IS_LOCATION (self));
  g_return_if_fail (aor != NULL);

  for (guint i = 0; bindings != NULL && i < bindings->len; i++)
    g_return_if_fail (bindings->pdata[i] != NULL &&
                      ((SimBinding *) bindings->pdata[i])->contact != NULL);

  /* @aor may be a stored binding's string, which this call can free. */
  aor_copy = g_strdup (aor);
  if (tracing (self))
    {
      events = g_ptr_array_new ();
      updates = g_ptr_array_new ();
    }
  record = find_record (self, aor_copy);
  if (record == NULL)
    {
      if (bindings == NULL || bindings->len == 0)
        return;
      record = record_new (self, aor_copy);
    }
  /* Handing back the very array sim_location_lookup() returned changes nothing. */
  if (bindings == record->bindings)
    {
      record_expire_and_notify (self, record);
      return;
    }
  /* What lapsed before this request is reported as expired, not as removed by it. */
  changed = record_expire (self, record, events);

  /* The new set and its bindings come from the bindings' heap (and the few trace events). */
  previous = heap_enter ();
  old = record->bindings;
  n_old = old->len;
  fresh = g_ptr_array_sized_new (bindings != NULL ? MAX (bindings->len, 1) : 1);

  /* Build the whole new set before freeing anything: @bindings may point into the old one. */
  for (guint i = 0; bindings != NULL && i < bindings->len; i++)
    {
      const SimBinding *binding = bindings->pdata[i];
      const char *action = take_binding (self, record, old, bindings, i, fresh);

      if (action == NULL)
        continue;
      changed = TRUE;
      if (updates != NULL)
        g_ptr_array_add (updates, binding_event (self, action, fresh->pdata[fresh->len - 1],
                                                 binding->granted,
                                                 reason_for (reasons, binding->contact, why)));
    }

  /* Whatever of the old set is left was replaced or removed; removals are traced first, so
   * an eviction reads before the addition it made room for. */
  for (guint pos = 0; pos < old->len; pos++)
    {
      SimBinding *stored = old->pdata[pos];
      gboolean kept = FALSE;

      if (stored == NULL)
        continue;
      for (guint i = 0; i < fresh->len && !kept; i++)
        kept = strcmp (((SimBinding *) fresh->pdata[i])->contact, stored->contact) == 0;
      if (!kept)
        {
          changed = TRUE;
          if (events != NULL)
            g_ptr_array_add (events, binding_event (self, "removed", stored, 0,
                                                    reason_for (reasons, stored->contact, why)));
        }
      stored_free (self, stored);
    }

  if (events != NULL)
    g_ptr_array_extend_and_steal (events, g_steal_pointer (&updates));
  record->bindings = g_steal_pointer (&fresh);
  g_ptr_array_unref (old);
  self->n_bindings = self->n_bindings - n_old + record->bindings->len;

  if (record->bindings->len == 0)
    record_remove (self, record);
  else
    record_arm (self, record);
  heap_leave (previous);

  if (!changed)
    return;
  g_object_ref (self);
  if (events != NULL)
    emit_events (self, events);
  emit_changed (self, aor_copy);
  g_object_unref (self);
}

void
sim_location_restore (SimLocation *self,
                      const char  *aor,
                      GPtrArray   *bindings)
{
  AorRecord *record;

  g_return_if_fail (SIM_IS_LOCATION (self));
  g_return_if_fail (aor != NULL);

  record = find_record (self, aor);
  if (record != NULL)
    record_remove (self, record);
  if (bindings != NULL && bindings->len > 0)
    {
      /* No expiry timer: a replay world's clock never runs. */
      record = record_new (self, aor);
      for (guint i = 0; i < bindings->len; i++)
        g_ptr_array_add (record->bindings, stored_new (self, record, bindings->pdata[i]));
      self->n_bindings += bindings->len;
    }
  emit_changed (self, aor);
}

void
sim_location_set_changed_func (SimLocation           *self,
                               SimLocationChangedFunc func,
                               gpointer               user_data)
{
  g_return_if_fail (SIM_IS_LOCATION (self));
  self->changed_func = func;
  self->changed_data = user_data;
}

gboolean
sim_location_is_tracing (SimLocation *self)
{
  g_return_val_if_fail (SIM_IS_LOCATION (self), FALSE);
  return tracing (self);
}

static int
compare_strings (gconstpointer a,
                 gconstpointer b)
{
  return strcmp (*(const char * const *) a, *(const char * const *) b);
}

GPtrArray *
sim_location_list_aors (SimLocation *self)
{
  GPtrArray *aors;
  GHashTableIter iter;
  const char *aor;

  g_return_val_if_fail (SIM_IS_LOCATION (self), NULL);

  aors = g_ptr_array_new_full (g_hash_table_size (self->aors), g_free);
  g_hash_table_iter_init (&iter, self->aors);
  while (g_hash_table_iter_next (&iter, (gpointer *) &aor, NULL))
    g_ptr_array_add (aors, g_strdup (aor));
  g_ptr_array_sort (aors, compare_strings);
  return aors;
}

guint
sim_location_get_n_bindings (SimLocation *self)
{
  g_return_val_if_fail (SIM_IS_LOCATION (self), 0);
  return self->n_bindings;
}

guint
sim_location_get_n_aors (SimLocation *self)
{
  g_return_val_if_fail (SIM_IS_LOCATION (self), 0);
  return g_hash_table_size (self->aors);
}

