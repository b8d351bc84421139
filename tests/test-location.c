/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "sim-location.h"

#include <malloc.h>
#include <string.h>

#define AOR "sip:alice@lab.example"
#define DESK "sip:alice@10.0.0.11:5060"
#define LAPTOP "sip:alice@10.0.0.12:5060"

typedef struct {
  SimClock *clock;
  SimTrace *trace;
  SimLocation *location;
  GPtrArray *changed;       /* AORs from "changed", in order */
} Fixture;

static void
changed_cb (SimLocation *location,
            const char  *aor,
            gpointer     data)
{
  Fixture *f = data;
  g_ptr_array_add (f->changed, g_strdup (aor));
}

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  f->clock = sim_clock_new_virtual ();
  f->trace = sim_trace_new ();
  f->location = sim_location_new (f->clock, f->trace, "registrar");
  f->changed = g_ptr_array_new_with_free_func (g_free);
  g_signal_connect (f->location, "changed", G_CALLBACK (changed_cb), f);
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  g_assert_finalize_object (f->location);
  /* The location's timers must be gone with it: running the clock now must be harmless. */
  sim_clock_run_until (f->clock, sim_clock_now (f->clock) + SIM_SEC (100000));
  g_clear_pointer (&f->changed, g_ptr_array_unref);
  g_clear_object (&f->trace);
  g_clear_object (&f->clock);
}

/* A binding as the registrar would hand it over: granted @granted seconds from now. */
static SimBinding *
make_binding (Fixture    *f,
              const char *contact,
              guint32     granted,
              const char *call_id,
              guint32     cseq,
              const char *user_agent)
{
  SimBinding *binding = g_new0 (SimBinding, 1);
  SimTime now = sim_clock_now (f->clock);

  binding->aor = g_strdup (AOR);
  binding->contact = g_strdup (contact);
  binding->display = g_strdup_printf ("<%s>", contact);
  binding->q = -1;
  binding->expires_at = now + SIM_SEC (granted);
  binding->granted = granted;
  binding->call_id = g_strdup (call_id);
  binding->cseq = cseq;
  sim_addr_init (&binding->source, "10.0.0.11", 5060, SIM_TRANSPORT_UDP);
  binding->user_agent = g_strdup (user_agent);
  binding->registered_at = now;
  binding->updated_at = now;
  return binding;
}

static GPtrArray *
binding_set (SimBinding *first,
             ...)
{
  GPtrArray *set = g_ptr_array_new_with_free_func ((GDestroyNotify) sim_binding_free);
  va_list args;

  va_start (args, first);
  for (SimBinding *b = first; b != NULL; b = va_arg (args, SimBinding *))
    g_ptr_array_add (set, b);
  va_end (args);
  return set;
}

/* The binding events of the trace, as "action contact expires" lines. */
static char *
binding_events (Fixture *f)
{
  GPtrArray *events = sim_trace_get_events (f->trace);
  g_autoptr(GString) out = g_string_new (NULL);

  for (guint i = 0; i < events->len; i++)
    {
      SimEvent *event = events->pdata[i];
      if (event->type != SIM_EVENT_BINDING)
        continue;
      g_string_append_printf (out, "%s %s %" G_GINT64_FORMAT "\n", event->action, event->contact,
                              event->expires);
    }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

static SimEvent *
last_binding_event (Fixture *f)
{
  GPtrArray *events = sim_trace_get_events (f->trace);

  for (guint i = events->len; i > 0; i--)
    if (((SimEvent *) events->pdata[i - 1])->type == SIM_EVENT_BINDING)
      return events->pdata[i - 1];
  return NULL;
}

static void
test_replace_adds_and_traces (Fixture       *f,
                              gconstpointer  data)
{
  g_autoptr(GPtrArray) set = binding_set (make_binding (f, DESK, 3600, "c1@desk", 1, "Desk/1"),
                                          make_binding (f, LAPTOP, 600, "c2@laptop", 7, NULL),
                                          NULL);
  g_autofree char *events = NULL;
  GPtrArray *bindings;
  const SimBinding *desk;
  SimEvent *event;

  sim_location_replace (f->location, AOR, set, "REGISTER CSeq 1");

  bindings = sim_location_lookup (f->location, AOR);
  g_assert_nonnull (bindings);
  g_assert_cmpuint (bindings->len, ==, 2);
  g_assert_cmpstr (((SimBinding *) bindings->pdata[0])->contact, ==, DESK);
  g_assert_cmpstr (((SimBinding *) bindings->pdata[1])->contact, ==, LAPTOP);
  g_assert_cmpuint (sim_location_get_n_bindings (f->location), ==, 2);
  g_assert_cmpuint (sim_location_get_n_aors (f->location), ==, 1);

  desk = sim_location_find (f->location, AOR, DESK);
  g_assert_nonnull (desk);
  g_assert_cmpstr (desk->aor, ==, AOR);
  g_assert_cmpstr (desk->call_id, ==, "c1@desk");
  g_assert_cmpstr (desk->user_agent, ==, "Desk/1");
  g_assert_cmpint (desk->expires_at, ==, SIM_SEC (3600));
  g_assert_cmpstr (desk->source.ip, ==, "10.0.0.11");
  g_assert_null (sim_location_find (f->location, AOR, "sip:alice@10.0.0.99"));
  g_assert_null (sim_location_lookup (f->location, "sip:bob@lab.example"));

  events = binding_events (f);
  g_assert_cmpstr (events, ==,
                   "added " DESK " 3600\n"
                   "added " LAPTOP " 600\n");
  event = last_binding_event (f);
  g_assert_cmpstr (event->node, ==, "registrar");
  g_assert_cmpstr (event->aor, ==, AOR);
  g_assert_cmpstr (event->reason, ==, "REGISTER CSeq 1");
  g_assert_cmpstr (event->call_id, ==, "c2@laptop");
  g_assert_cmpstr (event->cseq, ==, "7 REGISTER");

  g_assert_cmpuint (f->changed->len, ==, 1);
  g_assert_cmpstr (f->changed->pdata[0], ==, AOR);
}

static void
test_binding_expires_at_granted_time (Fixture       *f,
                                      gconstpointer  data)
{
  g_autoptr(GPtrArray) set = binding_set (make_binding (f, DESK, 120, "c1@desk", 1, NULL), NULL);
  SimEvent *event;

  g_test_summary ("A binding lives exactly as long as it was granted, then is traced as expired.");

  sim_location_replace (f->location, AOR, set, "REGISTER");
  sim_clock_run_until (f->clock, SIM_SEC (120) - 1);
  g_assert_nonnull (sim_location_find (f->location, AOR, DESK));

  sim_clock_run_until (f->clock, SIM_SEC (120));
  g_assert_null (sim_location_lookup (f->location, AOR));
  g_assert_cmpuint (sim_location_get_n_bindings (f->location), ==, 0);
  g_assert_cmpuint (sim_location_get_n_aors (f->location), ==, 0);

  event = last_binding_event (f);
  g_assert_cmpstr (event->action, ==, "expired");
  g_assert_cmpstr (event->contact, ==, DESK);
  g_assert_cmpint (event->t, ==, SIM_SEC (120));
  g_assert_nonnull (strstr (event->reason, "120 s"));
  g_assert_cmpuint (f->changed->len, ==, 2);
  g_assert_cmpuint (sim_clock_pending_count (f->clock), ==, 0);
}

static void
test_refresh_moves_the_expiry_later (Fixture       *f,
                                     gconstpointer  data)
{
  g_autoptr(GPtrArray) first = binding_set (make_binding (f, DESK, 100, "c1@desk", 1, NULL), NULL);
  g_autoptr(GPtrArray) refresh = NULL;
  g_autofree char *events = NULL;
  const SimBinding *binding;

  sim_location_replace (f->location, AOR, first, "REGISTER 1");
  sim_clock_run_until (f->clock, SIM_SEC (50));
  refresh = binding_set (make_binding (f, DESK, 100, "c1@desk", 2, NULL), NULL);
  ((SimBinding *) refresh->pdata[0])->registered_at = 0;
  sim_location_replace (f->location, AOR, refresh, "REGISTER 2");

  /* The first deadline passes without taking the refreshed binding. */
  sim_clock_run_until (f->clock, SIM_SEC (149));
  binding = sim_location_find (f->location, AOR, DESK);
  g_assert_nonnull (binding);
  g_assert_cmpuint (binding->cseq, ==, 2);
  g_assert_cmpint (binding->registered_at, ==, 0);
  g_assert_cmpint (binding->updated_at, ==, SIM_SEC (50));
  g_assert_cmpuint (sim_clock_pending_count (f->clock), ==, 1);

  sim_clock_run_until (f->clock, SIM_SEC (150));
  g_assert_null (sim_location_find (f->location, AOR, DESK));

  events = binding_events (f);
  g_assert_cmpstr (events, ==,
                   "added " DESK " 100\n"
                   "refreshed " DESK " 100\n"
                   "expired " DESK " 0\n");
}

static void
test_earliest_binding_expires_first (Fixture       *f,
                                     gconstpointer  data)
{
  g_autoptr(GPtrArray) set = binding_set (make_binding (f, DESK, 300, "c1@desk", 1, NULL),
                                          make_binding (f, LAPTOP, 100, "c2@laptop", 1, NULL),
                                          NULL);

  sim_location_replace (f->location, AOR, set, "REGISTER");
  sim_clock_run_until (f->clock, SIM_SEC (100));
  g_assert_null (sim_location_find (f->location, AOR, LAPTOP));
  g_assert_nonnull (sim_location_find (f->location, AOR, DESK));
  g_assert_cmpuint (sim_location_get_n_bindings (f->location), ==, 1);

  sim_clock_run_until (f->clock, SIM_SEC (300));
  g_assert_cmpuint (sim_location_get_n_bindings (f->location), ==, 0);
}

static void
test_replace_removes_what_is_missing (Fixture       *f,
                                      gconstpointer  data)
{
  g_autoptr(GPtrArray) both = binding_set (make_binding (f, DESK, 300, "c1@desk", 1, NULL),
                                           make_binding (f, LAPTOP, 300, "c2@laptop", 1, NULL),
                                           NULL);
  g_autoptr(GPtrArray) desk_only = NULL;
  g_autoptr(GPtrArray) none = g_ptr_array_new ();
  g_autoptr(GHashTable) reasons = g_hash_table_new (g_str_hash, g_str_equal);
  GPtrArray *current;
  SimEvent *event;

  sim_location_replace (f->location, AOR, both, "REGISTER 1");

  /* Keeping the stored desk binding as it is traces nothing for it. */
  current = sim_location_lookup (f->location, AOR);
  desk_only = g_ptr_array_new ();
  g_ptr_array_add (desk_only, current->pdata[0]);
  g_hash_table_insert (reasons, (gpointer) LAPTOP, (gpointer) "expires 0");
  sim_location_replace_full (f->location, AOR, desk_only, "REGISTER 2", reasons);

  g_assert_cmpuint (sim_location_get_n_bindings (f->location), ==, 1);
  event = last_binding_event (f);
  g_assert_cmpstr (event->action, ==, "removed");
  g_assert_cmpstr (event->contact, ==, LAPTOP);
  g_assert_cmpstr (event->reason, ==, "expires 0");
  g_assert_cmpint (event->expires, ==, 0);

  /* Unchanged bindings: no event, no "changed". */
  {
    guint n_events = sim_trace_get_n_events (f->trace);
    guint n_changed = f->changed->len;
    g_autoptr(GPtrArray) same = g_ptr_array_new ();

    g_ptr_array_add (same, sim_binding_copy (sim_location_find (f->location, AOR, DESK)));
    g_ptr_array_set_free_func (same, (GDestroyNotify) sim_binding_free);
    sim_location_replace (f->location, AOR, same, "again");
    g_assert_cmpuint (sim_trace_get_n_events (f->trace), ==, n_events);
    g_assert_cmpuint (f->changed->len, ==, n_changed);
  }

  sim_location_replace (f->location, AOR, none, "Contact: *");
  g_assert_null (sim_location_lookup (f->location, AOR));
  g_assert_cmpuint (sim_location_get_n_aors (f->location), ==, 0);
  event = last_binding_event (f);
  g_assert_cmpstr (event->action, ==, "removed");
  g_assert_cmpstr (event->reason, ==, "Contact: *");
  g_assert_cmpuint (sim_clock_pending_count (f->clock), ==, 0);
}

static void
test_lookup_never_returns_a_lapsed_binding (Fixture       *f,
                                            gconstpointer  data)
{
  g_autoptr(GPtrArray) set = binding_set (make_binding (f, DESK, 10, "c1@desk", 1, NULL), NULL);

  g_test_summary ("With a late (wall) clock the timer may not have run yet: lookup still "
                  "treats a binding whose time is up as gone.");

  sim_location_replace (f->location, AOR, set, "REGISTER");
  /* Move virtual time without running timers, as a late wall-clock timer would. */
  {
    SimBinding *stored = g_ptr_array_index (sim_location_lookup (f->location, AOR), 0);
    stored->expires_at = sim_clock_now (f->clock);
  }
  g_assert_null (sim_location_lookup (f->location, AOR));
  g_assert_cmpstr (last_binding_event (f)->action, ==, "expired");
}

static void
test_user_agents_are_shared (Fixture       *f,
                             gconstpointer  data)
{
  g_autoptr(GPtrArray) set = binding_set (make_binding (f, DESK, 300, "c1", 1, "Phone/2.0"),
                                          make_binding (f, LAPTOP, 300, "c2", 1, "Phone/2.0"),
                                          NULL);
  GPtrArray *bindings;
  g_autoptr(SimBinding) copy = NULL;

  sim_location_replace (f->location, AOR, set, "REGISTER");
  bindings = sim_location_lookup (f->location, AOR);
  g_assert_true (((SimBinding *) bindings->pdata[0])->user_agent ==
                 ((SimBinding *) bindings->pdata[1])->user_agent);
  g_assert_true (((SimBinding *) bindings->pdata[0])->aor ==
                 ((SimBinding *) bindings->pdata[1])->aor);

  /* A copy owns all its strings. */
  copy = sim_binding_copy (bindings->pdata[0]);
  g_assert_false (copy->user_agent == ((SimBinding *) bindings->pdata[0])->user_agent);
  g_assert_cmpstr (copy->user_agent, ==, "Phone/2.0");
  g_assert_cmpstr (copy->aor, ==, AOR);
}

static void
test_list_aors_is_sorted (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr(GPtrArray) a = binding_set (make_binding (f, DESK, 300, "c1", 1, NULL), NULL);
  g_autoptr(GPtrArray) b = binding_set (make_binding (f, LAPTOP, 300, "c2", 1, NULL), NULL);
  g_autoptr(GPtrArray) aors = NULL;

  sim_location_replace (f->location, "sip:zoe@lab.example", a, "REGISTER");
  sim_location_replace (f->location, "sip:bob@lab.example", b, "REGISTER");
  aors = sim_location_list_aors (f->location);
  g_assert_cmpuint (aors->len, ==, 2);
  g_assert_cmpstr (aors->pdata[0], ==, "sip:bob@lab.example");
  g_assert_cmpstr (aors->pdata[1], ==, "sip:zoe@lab.example");
  /* The stored AOR is the record's, whatever the caller's binding said. */
  g_assert_cmpstr (sim_location_find (f->location, "sip:bob@lab.example", LAPTOP)->aor, ==,
                   "sip:bob@lab.example");
}

static void
test_disabled_trace_still_signals (Fixture       *f,
                                   gconstpointer  data)
{
  g_autoptr(GPtrArray) set = binding_set (make_binding (f, DESK, 5, "c1", 1, NULL), NULL);

  sim_trace_set_enabled (f->trace, FALSE);
  sim_location_replace (f->location, AOR, set, "REGISTER");
  sim_clock_run_until (f->clock, SIM_SEC (5));
  g_assert_cmpuint (sim_trace_get_n_events (f->trace), ==, 0);
  g_assert_cmpuint (f->changed->len, ==, 2);
  g_assert_cmpuint (sim_location_get_n_bindings (f->location), ==, 0);
}

/* Bytes the C allocator has handed out (glibc's count; 0 when another allocator answers). */
static gsize
heap_in_use (void)
{
  struct mallinfo2 info = mallinfo2 ();
  return info.uordblks + info.hblkhd;
}

/*
 * Issue 15: serve must hold 100,000 bindings in at most 1 KiB of RSS each, allocator waste
 * included.  The location's own share (record, binding, its strings, array, expiry timer and
 * hash table slot, as the system allocator counts them) must stay well under that.
 */
static void
test_binding_costs_under_a_bound (Fixture       *f,
                                  gconstpointer  data)
{
  const guint n = 20000;
  g_autoptr(SimLocation) location = sim_location_new (f->clock, NULL, "registrar");
  gsize before, after, per_binding;

  before = heap_in_use ();
  if (before == 0)
    {
      g_test_skip ("the allocator (a sanitizer's?) does not report its use through mallinfo2()");
      return;
    }
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *aor = g_strdup_printf ("sip:user%06u@lab.example", i);
      g_autofree char *contact = g_strdup_printf ("sip:user%06u@10.0.0.11:5060", i);
      g_autofree char *call_id = g_strdup_printf ("%u-4242@10.0.0.11", i);
      g_autoptr(GPtrArray) set = binding_set (make_binding (f, contact, 3600, call_id, 2,
                                                            "sipp/3.6.1"), NULL);

      g_free (((SimBinding *) set->pdata[0])->aor);
      ((SimBinding *) set->pdata[0])->aor = g_strdup (aor);
      sim_location_replace (location, aor, set, "test");
    }
  after = heap_in_use ();
  per_binding = (after - before) / n;
  g_test_message ("%" G_GSIZE_FORMAT " bytes per binding", per_binding);
  g_assert_cmpuint (sim_location_get_n_bindings (location), ==, n);
  g_assert_cmpuint (per_binding, <, 768);
}

/*
 * A refresh updates the stored binding in place: every field the new one brings must be
 * there, strings borrowed from the stored binding itself included, and two bindings of one
 * Contact in one call still both read the old one as it was ("refreshed" twice).
 */
static void
test_refresh_updates_every_field (Fixture       *f,
                                  gconstpointer  data)
{
  g_autoptr(GPtrArray) first = binding_set (make_binding (f, DESK, 3600, "c1@desk", 1, "Desk/1"), NULL);
  g_autoptr(GPtrArray) second = NULL;
  g_autoptr(GPtrArray) twice = NULL;
  g_autofree char *events = NULL;
  GPtrArray *bindings;
  SimBinding *stored, *update;

  sim_location_replace (f->location, AOR, first, "REGISTER CSeq 1");
  stored = sim_location_lookup (f->location, AOR)->pdata[0];
  sim_clock_run_until (f->clock, sim_clock_now (f->clock) + SIM_SEC (10));

  /* The new binding borrows the stored display and instance-less fields, as a caller may. */
  update = g_new0 (SimBinding, 1);
  *update = *stored;
  update->aor = g_strdup (AOR);
  update->contact = g_strdup (DESK);
  update->display = g_strdup ("\"Desk\" <sip:alice@10.0.0.11:5060>");
  update->call_id = g_strdup ("c2@desk");
  update->cseq = 2;
  update->user_agent = g_strdup ("Desk/2");
  update->instance = g_strdup ("<urn:uuid:00000000-0000-1000-8000-000000000001>");
  update->q = 0.5;
  update->expires_at = sim_clock_now (f->clock) + SIM_SEC (600);
  update->granted = 600;
  update->updated_at = sim_clock_now (f->clock);
  second = binding_set (update, NULL);
  sim_location_replace (f->location, AOR, second, "REGISTER CSeq 2");

  bindings = sim_location_lookup (f->location, AOR);
  g_assert_cmpuint (bindings->len, ==, 1);
  stored = bindings->pdata[0];
  g_assert_cmpstr (stored->aor, ==, AOR);
  g_assert_cmpstr (stored->contact, ==, DESK);
  g_assert_cmpstr (stored->display, ==, update->display);
  g_assert_cmpstr (stored->call_id, ==, "c2@desk");
  g_assert_cmpuint (stored->cseq, ==, 2);
  g_assert_cmpstr (stored->user_agent, ==, "Desk/2");
  g_assert_cmpstr (stored->instance, ==, update->instance);
  g_assert_cmpfloat (stored->q, ==, 0.5);
  g_assert_cmpint (stored->expires_at, ==, update->expires_at);
  g_assert_cmpuint (stored->granted, ==, 600);

  /* Two of one Contact, the second borrowing the stored strings. */
  sim_clock_run_until (f->clock, sim_clock_now (f->clock) + SIM_SEC (10));
  twice = binding_set (make_binding (f, DESK, 300, "c3@desk", 3, "Desk/2"), NULL);
  update = g_new0 (SimBinding, 1);
  *update = *stored;
  update->cseq = 4;
  update->aor = g_strdup (stored->aor);
  update->contact = g_strdup (stored->contact);
  update->display = g_strdup (stored->display);
  update->call_id = g_strdup ("c4@desk");
  update->user_agent = g_strdup (stored->user_agent);
  update->instance = NULL;
  update->updated_at = sim_clock_now (f->clock);
  g_ptr_array_add (twice, update);
  sim_location_replace (f->location, AOR, twice, "REGISTER CSeq 4");
  bindings = sim_location_lookup (f->location, AOR);
  g_assert_cmpuint (bindings->len, ==, 2);
  g_assert_cmpstr (((SimBinding *) bindings->pdata[0])->call_id, ==, "c3@desk");
  g_assert_cmpstr (((SimBinding *) bindings->pdata[1])->call_id, ==, "c4@desk");
  g_assert_null (((SimBinding *) bindings->pdata[1])->instance);
  g_assert_cmpuint (sim_location_get_n_bindings (f->location), ==, 2);
  events = binding_events (f);
  g_assert_cmpstr (events, ==,
                   "added " DESK " 3600\n"
                   "refreshed " DESK " 600\n"
                   "refreshed " DESK " 300\n"
                   "refreshed " DESK " 600\n");
}

/*
 * The location remembers the record it found last: a removed AOR, another AOR, and the
 * same AOR added again must each be looked up afresh (ASan builds catch a stale record).
 */
static void
test_lookups_follow_removal_and_other_aors (Fixture       *f,
                                            gconstpointer  data)
{
  g_autoptr(GPtrArray) first = binding_set (make_binding (f, DESK, 3600, "c1@desk", 1, "Desk/1"), NULL);
  g_autoptr(GPtrArray) again = binding_set (make_binding (f, LAPTOP, 600, "c2@laptop", 1, NULL), NULL);
  g_autoptr(GPtrArray) none = g_ptr_array_new ();
  GPtrArray *bindings;

  sim_location_replace (f->location, AOR, first, "REGISTER CSeq 1");
  g_assert_cmpuint (sim_location_lookup (f->location, AOR)->len, ==, 1);
  g_assert_null (sim_location_lookup (f->location, "sip:bob@lab.example"));
  g_assert_cmpuint (sim_location_peek (f->location, AOR)->len, ==, 1);
  sim_location_replace (f->location, AOR, none, "REGISTER CSeq 2");
  g_assert_null (sim_location_lookup (f->location, AOR));
  g_assert_null (sim_location_peek (f->location, AOR));
  sim_location_replace (f->location, AOR, again, "REGISTER CSeq 1");
  bindings = sim_location_lookup (f->location, AOR);
  g_assert_cmpuint (bindings->len, ==, 1);
  g_assert_cmpstr (((SimBinding *) bindings->pdata[0])->contact, ==, LAPTOP);
  /* Expiry removes the record too. */
  sim_clock_run_until (f->clock, sim_clock_now (f->clock) + SIM_SEC (601));
  g_assert_null (sim_location_peek (f->location, AOR));
  g_assert_null (sim_location_lookup (f->location, AOR));
  g_assert_cmpuint (sim_location_get_n_aors (f->location), ==, 0);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add ("/sim/location/" path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

  ADD ("replace-adds-and-traces", test_replace_adds_and_traces);
  ADD ("binding-expires-at-the-granted-time", test_binding_expires_at_granted_time);
  ADD ("refresh-moves-the-expiry-later", test_refresh_moves_the_expiry_later);
  ADD ("earliest-binding-expires-first", test_earliest_binding_expires_first);
  ADD ("replace-removes-what-is-missing", test_replace_removes_what_is_missing);
  ADD ("lookup-never-returns-a-lapsed-binding", test_lookup_never_returns_a_lapsed_binding);
  ADD ("user-agents-are-shared", test_user_agents_are_shared);
  ADD ("list-aors-is-sorted", test_list_aors_is_sorted);
  ADD ("disabled-trace-still-signals", test_disabled_trace_still_signals);
  ADD ("a-binding-costs-under-a-bound", test_binding_costs_under_a_bound);
  ADD ("refresh-updates-every-field", test_refresh_updates_every_field);
  ADD ("lookups-follow-removal-and-other-aors", test_lookups_follow_removal_and_other_aors);

#undef ADD
  return g_test_run ();
}
