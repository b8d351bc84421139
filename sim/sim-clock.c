/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "sim-clock.h"

/*
 * SimClock drives every timer in a session: transaction retransmissions (RFC 3261 §17),
 * binding expiry, phone refreshes, nonce lifetimes and packet delivery on the simulated
 * network.  A virtual clock is a discrete-event queue: time only moves when the owner runs
 * it, so an hour of refreshes takes milliseconds and two runs of one scenario are identical.
 * A wall clock fires the same timers from the GLib main loop in real time.
 *
 * Timers live in a binary heap ordered by (deadline, sequence number); the sequence number
 * makes timers with equal deadlines fire in the order they were added, which keeps runs
 * deterministic.  Cancelled timers are removed lazily.
 */

typedef struct {
  SimTime deadline;
  guint64 seq;
  guint id;
  gboolean cancelled;
  SimClockFunc func;
  gpointer user_data;
  GDestroyNotify destroy;
} Timer;

typedef struct {
  SimTime deadline;
  guint64 seq;
  Timer *timer;
} HeapSlot;

/* A live timer by its id (never 0, which marks an empty slot). */
typedef struct {
  guint id;
  Timer *timer;
} IdSlot;

struct _SimClock {
  GObject parent_instance;

  gboolean virtual;
  SimTime now;              /* virtual time */
  gint64 wall_origin;       /* monotonic time at creation, wall mode */
  HeapSlot *heap;           /* min-heap of heap_len slots, heap_size allocated */
  guint heap_len;
  guint heap_size;
  IdSlot *ids;              /* id -> Timer* (live timers only): open addressing, ids_mask + 1 */
  guint ids_mask;           /* slots, a power of two kept at least twice n_ids */
  guint n_ids;
  guint next_id;
  guint64 next_seq;
  guint wall_source;        /* wall mode: GSource armed for the earliest deadline */
  SimTime wall_armed;       /* the deadline wall_source is armed for */
  guint running;
};

G_DEFINE_FINAL_TYPE (SimClock, sim_clock, G_TYPE_OBJECT)

static void wall_rearm (SimClock *self);

/* ---------------------------------------------------------------------------------------- */
/* Timers by id: every timer is added once and removed once, so this table is on every
 * message's path.  Linear probing with backward-shift removal (no tombstones); ids are
 * consecutive, and a multiplication by an odd constant keeps consecutive ids in distinct
 * slots. */

static inline guint
id_home (guint id,
         guint mask)
{
  return (id * 2654435761u) & mask;
}

static Timer *
ids_lookup (SimClock *self,
            guint     id)
{
  if (self->ids == NULL || id == 0)
    return NULL;
  for (guint i = id_home (id, self->ids_mask); self->ids[i].id != 0; i = (i + 1) & self->ids_mask)
    if (self->ids[i].id == id)
      return self->ids[i].timer;
  return NULL;
}

static void ids_insert (SimClock *self, guint id, Timer *timer);

static void
ids_grow (SimClock *self)
{
  IdSlot *old = self->ids;
  guint old_size = old != NULL ? self->ids_mask + 1 : 0;

  self->ids_mask = old_size != 0 ? 2 * old_size - 1 : 63;
  self->ids = g_new0 (IdSlot, self->ids_mask + 1);
  self->n_ids = 0;
  for (guint i = 0; i < old_size; i++)
    if (old[i].id != 0)
      ids_insert (self, old[i].id, old[i].timer);
  g_free (old);
}

/* Adds @timer under @id, replacing what was there (as g_hash_table_insert did). */
static void
ids_insert (SimClock *self,
            guint     id,
            Timer    *timer)
{
  guint i;

  if (self->ids == NULL || 2 * (self->n_ids + 1) > self->ids_mask + 1)
    ids_grow (self);
  for (i = id_home (id, self->ids_mask); self->ids[i].id != 0; i = (i + 1) & self->ids_mask)
    if (self->ids[i].id == id)
      {
        self->ids[i].timer = timer;
        return;
      }
  self->ids[i].id = id;
  self->ids[i].timer = timer;
  self->n_ids++;
}

static void
ids_remove (SimClock *self,
            guint     id)
{
  guint mask = self->ids_mask, i, j;

  if (self->ids == NULL || id == 0)
    return;
  for (i = id_home (id, mask); self->ids[i].id != id; i = (i + 1) & mask)
    if (self->ids[i].id == 0)
      return;
  /* Move back every later entry of the run whose home is not between the hole and it. */
  for (j = (i + 1) & mask; self->ids[j].id != 0; j = (j + 1) & mask)
    {
      guint home = id_home (self->ids[j].id, mask);

      if (((j - home) & mask) >= ((j - i) & mask))
        {
          self->ids[i] = self->ids[j];
          i = j;
        }
    }
  self->ids[i].id = 0;
  self->ids[i].timer = NULL;
  self->n_ids--;
}

static void
timer_free (Timer *timer)
{
  if (timer->destroy != NULL)
    timer->destroy (timer->user_data);
  g_free (timer);
}

/*
 * A heap slot keeps its timer's ordering key beside the pointer: sifting compares keys in the
 * array itself instead of following a pointer per comparison (a cache miss each, with tens of
 * thousands of timers pending), which made heap_pop a twentieth of bench-register's time.
 */
static inline gboolean
slot_before (const HeapSlot *a,
             const HeapSlot *b)
{
  return a->deadline < b->deadline || (a->deadline == b->deadline && a->seq < b->seq);
}

static void
heap_push (SimClock *self,
           Timer    *timer)
{
  HeapSlot slot = { timer->deadline, timer->seq, timer };
  guint i;

  if (self->heap_len == self->heap_size)
    {
      self->heap_size = MAX (64, self->heap_size * 2);
      self->heap = g_renew (HeapSlot, self->heap, self->heap_size);
    }
  /* Sift up with a hole: parents move down until the slot's place is found. */
  i = self->heap_len++;
  while (i > 0)
    {
      guint parent = (i - 1) / 2;

      if (!slot_before (&slot, &self->heap[parent]))
        break;
      self->heap[i] = self->heap[parent];
      i = parent;
    }
  self->heap[i] = slot;
}

static Timer *
heap_pop (SimClock *self)
{
  HeapSlot *h = self->heap;
  HeapSlot last;
  Timer *top;
  guint i = 0, len;

  if (self->heap_len == 0)
    return NULL;
  top = h[0].timer;
  len = --self->heap_len;
  if (len == 0)
    return top;
  /* Sift the last slot down from the root, with a hole. */
  last = h[len];
  for (;;)
    {
      guint l = 2 * i + 1, m;

      if (l >= len)
        break;
      m = l + 1 < len && slot_before (&h[l + 1], &h[l]) ? l + 1 : l;
      if (!slot_before (&h[m], &last))
        break;
      h[i] = h[m];
      i = m;
    }
  h[i] = last;
  return top;
}

/* Drops cancelled timers from the top so that heap[0] is the next live one. */
static Timer *
heap_peek_live (SimClock *self)
{
  while (self->heap_len > 0)
    {
      Timer *top = self->heap[0].timer;
      if (!top->cancelled)
        return top;
      timer_free (heap_pop (self));
    }
  return NULL;
}

static void
sim_clock_finalize (GObject *object)
{
  SimClock *self = SIM_CLOCK (object);
  Timer *timer;

  g_clear_handle_id (&self->wall_source, g_source_remove);
  g_clear_pointer (&self->ids, g_free);
  self->n_ids = 0;
  while ((timer = heap_pop (self)) != NULL)
    timer_free (timer);
  g_clear_pointer (&self->heap, g_free);

  G_OBJECT_CLASS (sim_clock_parent_class)->finalize (object);
}

static void
sim_clock_class_init (SimClockClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = sim_clock_finalize;
}

static void
sim_clock_init (SimClock *self)
{
  self->next_id = 1;
}

SimClock *
sim_clock_new_virtual (void)
{
  SimClock *self = g_object_new (SIM_TYPE_CLOCK, NULL);

  self->virtual = TRUE;
  return self;
}

SimClock *
sim_clock_new_wall (void)
{
  SimClock *self = g_object_new (SIM_TYPE_CLOCK, NULL);

  self->virtual = FALSE;
  self->wall_origin = g_get_monotonic_time ();
  return self;
}

gboolean
sim_clock_is_virtual (SimClock *self)
{
  g_return_val_if_fail (SIM_IS_CLOCK (self), FALSE);
  return self->virtual;
}

SimTime
sim_clock_now (SimClock *self)
{
  g_return_val_if_fail (SIM_IS_CLOCK (self), 0);

  if (self->virtual)
    return self->now;
  return g_get_monotonic_time () - self->wall_origin;
}

guint
sim_clock_add (SimClock       *self,
               SimTime         delay,
               SimClockFunc    func,
               gpointer        user_data,
               GDestroyNotify  destroy)
{
  Timer *timer;

  g_return_val_if_fail (SIM_IS_CLOCK (self), 0);
  g_return_val_if_fail (func != NULL, 0);

  timer = g_new0 (Timer, 1);
  timer->deadline = sim_clock_now (self) + MAX (delay, 0);
  timer->seq = self->next_seq++;
  timer->id = self->next_id++;
  if (self->next_id == 0)
    self->next_id = 1;
  timer->func = func;
  timer->user_data = user_data;
  timer->destroy = destroy;
  heap_push (self, timer);
  ids_insert (self, timer->id, timer);

  /* Re-arm the main-loop timeout only when this timer is due before the armed one. */
  if (!self->virtual && (self->wall_source == 0 || timer->deadline < self->wall_armed))
    wall_rearm (self);
  return timer->id;
}

void
sim_clock_cancel (SimClock *self,
                  guint     id)
{
  Timer *timer;

  g_return_if_fail (SIM_IS_CLOCK (self));

  timer = ids_lookup (self, id);
  if (timer == NULL)
    return;
  ids_remove (self, id);
  timer->cancelled = TRUE;
  /* Release the user data now: its owner may be going away. */
  if (timer->destroy != NULL)
    {
      GDestroyNotify destroy = timer->destroy;
      timer->destroy = NULL;
      destroy (timer->user_data);
    }
}

gboolean
sim_clock_is_pending (SimClock *self,
                      guint     id)
{
  g_return_val_if_fail (SIM_IS_CLOCK (self), FALSE);
  return ids_lookup (self, id) != NULL;
}

SimTime
sim_clock_deadline (SimClock *self,
                    guint     id)
{
  Timer *timer;

  g_return_val_if_fail (SIM_IS_CLOCK (self), SIM_TIME_NONE);
  timer = ids_lookup (self, id);
  return timer != NULL ? timer->deadline : SIM_TIME_NONE;
}

gboolean
sim_clock_next_deadline (SimClock *self,
                         SimTime  *deadline)
{
  Timer *top;

  g_return_val_if_fail (SIM_IS_CLOCK (self), FALSE);
  top = heap_peek_live (self);
  if (top == NULL)
    return FALSE;
  if (deadline != NULL)
    *deadline = top->deadline;
  return TRUE;
}

guint
sim_clock_pending_count (SimClock *self)
{
  g_return_val_if_fail (SIM_IS_CLOCK (self), 0);
  return self->n_ids;
}

static void
fire (SimClock *self,
      Timer    *timer)
{
  ids_remove (self, timer->id);
  self->running++;
  timer->func (timer->user_data);
  self->running--;
  timer_free (timer);
}

/* Runs the next timer, advancing virtual time to its deadline.  Returns FALSE when idle. */
gboolean
sim_clock_step (SimClock *self)
{
  Timer *timer;

  g_return_val_if_fail (SIM_IS_CLOCK (self), FALSE);
  g_return_val_if_fail (self->virtual, FALSE);

  if (heap_peek_live (self) == NULL)
    return FALSE;
  timer = heap_pop (self);
  if (timer->deadline > self->now)
    self->now = timer->deadline;
  fire (self, timer);
  return TRUE;
}

void
sim_clock_run_until (SimClock *self,
                     SimTime   until)
{
  Timer *top;

  g_return_if_fail (SIM_IS_CLOCK (self));
  g_return_if_fail (self->virtual);

  while ((top = heap_peek_live (self)) != NULL && top->deadline <= until)
    sim_clock_step (self);
  if (until > self->now)
    self->now = until;
}

void
sim_clock_jump (SimClock *self,
                SimTime   t)
{
  g_return_if_fail (SIM_IS_CLOCK (self));
  g_return_if_fail (self->virtual);

  self->now = t;
}

/* Wall mode: one GLib timeout armed for the earliest deadline. */
static gboolean
wall_dispatch_cb (gpointer data)
{
  SimClock *self = data;
  Timer *top;

  self->wall_source = 0;
  g_object_ref (self);
  while ((top = heap_peek_live (self)) != NULL && top->deadline <= sim_clock_now (self))
    fire (self, heap_pop (self));
  wall_rearm (self);
  g_object_unref (self);
  return G_SOURCE_REMOVE;
}

static void
wall_rearm (SimClock *self)
{
  Timer *top;
  SimTime wait;

  g_clear_handle_id (&self->wall_source, g_source_remove);
  top = heap_peek_live (self);
  if (top == NULL)
    return;
  self->wall_armed = top->deadline;
  wait = top->deadline - sim_clock_now (self);
  if (wait < 0)
    wait = 0;
  self->wall_source = g_timeout_add_full (G_PRIORITY_DEFAULT, (guint) ((wait + 999) / 1000),
                                          wall_dispatch_cb, self, NULL);
}
