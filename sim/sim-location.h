/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib-object.h>

#include "sim-clock.h"
#include "sim-trace.h"

G_BEGIN_DECLS

/*
 * The location service (RFC 3261 §10.3): Address of Record -> bindings.  A binding is one
 * Contact of one AOR with its granted expiry and the Call-ID/CSeq that last touched it, which
 * is how a refresh is told apart from a new registration (§10.3 step 7).  Bindings expire on
 * the session clock, and every change is traced (SIM_EVENT_BINDING).
 */

/* SimBinding.q when the Contact had no q parameter (a qvalue is 0 to 1, RFC 3261 §20.10). */
#define SIM_BINDING_NO_Q (-1.0)
typedef struct {
  char *aor;            /* "sip:alice@lab.example" */
  char *contact;        /* the Contact URI, as the registrar compares it */
  char *display;        /* the whole Contact header value as received (for views) */
  double q;             /* SIM_BINDING_NO_Q when absent */
  SimTime expires_at;   /* absolute, on the session clock */
  guint32 granted;      /* seconds granted in the last 200 OK */
  char *call_id;
  guint32 cseq;
  SimAddr source;       /* where the REGISTER came from (NAT, RFC 3581), and its transport */
  char *user_agent;
  char *instance;       /* +sip.instance, if any */
  SimTime registered_at;
  SimTime updated_at;
} SimBinding;

#define SIM_TYPE_BINDING (sim_binding_get_type ())
GType       sim_binding_get_type (void) G_GNUC_CONST;
SimBinding *sim_binding_copy     (const SimBinding *binding);
void        sim_binding_free     (SimBinding       *binding);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SimBinding, sim_binding_free)

#define SIM_TYPE_LOCATION (sim_location_get_type ())
G_DECLARE_FINAL_TYPE (SimLocation, sim_location, SIM, LOCATION, GObject)

SimLocation *sim_location_new          (SimClock          *clock,
                                        SimTrace          *trace,
                                        const char        *node_name) G_GNUC_WARN_UNUSED_RESULT;
/*
 * Current bindings of @aor (borrowed SimBinding*, in registration order), or NULL if none.
 * A binding whose time is up is expired first, even if its timer has not run yet.  Stored
 * bindings share some strings with the location: copy one with sim_binding_copy() to keep it,
 * never sim_binding_free() a borrowed one.
 */
GPtrArray   *sim_location_lookup       (SimLocation       *self,
                                        const char        *aor);
/* Like sim_location_lookup(), but expires nothing, so it never changes the location. */
GPtrArray   *sim_location_peek         (SimLocation       *self,
                                        const char        *aor);
const SimBinding *sim_location_find    (SimLocation       *self,
                                        const char        *aor,
                                        const char        *contact);
/*
 * The first binding of any AOR for which @match returns TRUE, or NULL; the location is walked
 * in place, nothing is allocated or expired (the proxy's search for a Contact).
 */
typedef gboolean (*SimBindingMatchFunc) (const SimBinding *binding,
                                         gpointer          user_data);
const SimBinding *sim_location_find_binding (SimLocation        *self,
                                             SimBindingMatchFunc match,
                                             gpointer            user_data);
/*
 * Replaces the whole binding set of @aor with @bindings (SimBinding*, copied) in one step, so
 * a REGISTER is all-or-nothing (§10.3 step 8).  Emits added/refreshed/removed for the
 * differences with @why as the reason.  An empty array removes the AOR.
 */
void         sim_location_replace      (SimLocation       *self,
                                        const char        *aor,
                                        GPtrArray         *bindings,
                                        const char        *why);
/*
 * Like sim_location_replace(), with a sentence per Contact URI in @reasons (contact -> reason,
 * may be NULL) for the changes whose cause differs from @why: an eviction, an Expires: 0, a
 * refresh with a new Call-ID.  A binding of @bindings that equals the stored one (same Contact,
 * expiry, Call-ID, CSeq and update time) is kept as it is and traces nothing.
 */
void         sim_location_replace_full (SimLocation       *self,
                                        const char        *aor,
                                        GPtrArray         *bindings,
                                        const char        *why,
                                        GHashTable        *reasons);
/*
 * For replay worlds only (SimDocument's seek): sets @aor's bindings to @bindings (SimBinding*,
 * copied field for field; empty or NULL removes the AOR) as a recorded session had them:
 * traces nothing and arms no expiry timer (the replay world's clock never runs); "changed" is
 * emitted so that views redraw.
 */
void         sim_location_restore      (SimLocation       *self,
                                        const char        *aor,
                                        GPtrArray         *bindings);
/* TRUE if changes are traced now: only then are @why and @reasons above read. */
gboolean     sim_location_is_tracing   (SimLocation       *self);
/* All AORs with bindings, sorted. */
GPtrArray   *sim_location_list_aors    (SimLocation       *self) G_GNUC_WARN_UNUSED_RESULT;
guint        sim_location_get_n_bindings (SimLocation     *self);
guint        sim_location_get_n_aors   (SimLocation       *self);
const char  *sim_location_get_node_name (SimLocation      *self);

/* "changed" (const char *aor) is emitted after any change of an AOR's bindings. */

/*
 * Called on every change, just before "changed" is emitted, with the same AOR: for the one
 * owner that must hear every change (SimServer), without a signal emission per REGISTER.
 * NULL removes it.
 */
typedef void (*SimLocationChangedFunc) (SimLocation *location,
                                        const char  *aor,
                                        gpointer     user_data);
void         sim_location_set_changed_func (SimLocation           *self,
                                            SimLocationChangedFunc func,
                                            gpointer               user_data);

G_END_DECLS
