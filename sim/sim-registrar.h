/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib-object.h>

#include "sim-auth.h"
#include "sim-location.h"
#include "sim-stack.h"

G_BEGIN_DECLS

/* Registrar policy.  Defaults: 60/3600/7200 s, 423 below the minimum, 10 contacts, 503 when full. */
typedef struct {
  char *domain;            /* "lab.example": the host part of AORs we are responsible for */
  guint min_expires;
  guint default_expires;
  guint max_expires;
  gboolean raise_to_min;   /* TRUE: grant the minimum instead of 423 (what many real registrars do) */
  guint max_contacts;
  gboolean replace_oldest; /* TRUE: a new contact beyond the limit evicts the oldest; FALSE: 503 */
  gboolean require_auth;   /* FALSE only for the "no security" lesson */
  /*
   * TRUE (the default): the proxy challenges out-of-dialog requests whose From is our domain
   * with 407 (RFC 3261 §22.3) and routes them only for that From's user.  Has effect only with
   * require_auth: without authentication there is nothing to prove an identity with.
   */
  gboolean proxy_auth;
  /*
   * Where the proxy sends a request for an AOR.  FALSE (the default): to the address and port
   * each binding's REGISTER came from, its flow, which is what reaches a phone behind NAT (what
   * deployed proxies do; RFC 5626 §5 makes it the standard, with outbound's flows).  TRUE: to
   * the address in the Contact URI, as plain RFC 3261 §16.6 reads it; behind NAT that is a
   * private address and the request is lost.
   */
  gboolean route_to_contact;
} SimRegistrarPolicy;

#define SIM_TYPE_REGISTRAR (sim_registrar_get_type ())
G_DECLARE_FINAL_TYPE (SimRegistrar, sim_registrar, SIM, REGISTRAR, GObject)

SimRegistrar *sim_registrar_new          (SimStack                 *stack,
                                          SimLocation              *location,
                                          SimAuth                  *auth,
                                          const char               *domain) G_GNUC_WARN_UNUSED_RESULT;
const SimRegistrarPolicy *sim_registrar_get_policy (SimRegistrar   *self);
/* Copies @policy (its domain string too). */
void          sim_registrar_set_policy   (SimRegistrar             *self,
                                          const SimRegistrarPolicy *policy);
void          sim_registrar_set_user     (SimRegistrar             *self,
                                          const char               *username,
                                          const char               *password);
void          sim_registrar_remove_user  (SimRegistrar             *self,
                                          const char               *username);
const char   *sim_registrar_get_password (SimRegistrar             *self,
                                          const char               *username);
SimLocation  *sim_registrar_get_location (SimRegistrar             *self);
SimAuth      *sim_registrar_get_auth     (SimRegistrar             *self);
/*
 * Whether @host names us: our domain (any case, whatever the port), or an address of one of
 * our listeners (sim_stack_is_local(): every listener, not only the first) at @port, 0 meaning
 * any port.  The registrar (RFC 3261 §10.3 step 1) and the proxy (§16.4, From of our users)
 * share this one answer.
 */
gboolean      sim_registrar_is_our_host  (SimRegistrar             *self,
                                          const char               *host,
                                          guint16                   port);
/*
 * The Date header of a 200 OK (RFC 3261 §10.3 step 8, §20.17) is @unix_seconds plus the
 * session clock's seconds.  The default, SIM_REGISTRAR_DEFAULT_DATE_EPOCH (2026-01-01T00:00:00Z),
 * keeps simulated runs identical; real-socket mode passes the wall time at which its clock
 * started, g_get_real_time () / G_USEC_PER_SEC - sim_clock_now (clock) / G_USEC_PER_SEC.
 */
#define SIM_REGISTRAR_DEFAULT_DATE_EPOCH G_GINT64_CONSTANT (1767225600)
void          sim_registrar_set_date_epoch (SimRegistrar           *self,
                                          gint64                    unix_seconds);
gint64        sim_registrar_get_date_epoch (SimRegistrar           *self);
/* The RFC 1123 date ("Thu, 01 Jan 2026 00:00:00 GMT") the registrar shows for clock time @t. */
char         *sim_registrar_format_date  (SimRegistrar             *self,
                                          SimTime                   t) G_GNUC_WARN_UNUSED_RESULT;
/*
 * The commit hook: called once a REGISTER has passed every check, with the AOR's complete new
 * binding set (@bindings: borrowed SimBinding*, possibly empty), before the location service
 * changes and before the reply.  Returning FALSE (with @error set) aborts the update: the old
 * bindings stay and the phone gets 500 Server Internal Error, so a 200 OK always means the
 * bindings it lists are committed (real-socket mode writes them to its database here).
 */
typedef gboolean (*SimRegistrarCommitFunc) (SimRegistrar  *registrar,
                                            const char    *aor,
                                            GPtrArray     *bindings,
                                            gpointer       user_data,
                                            GError       **error);
void          sim_registrar_set_commit_func (SimRegistrar          *self,
                                          SimRegistrarCommitFunc    func,
                                          gpointer                  user_data);
/*
 * Called with every digest verdict of a REGISTER (after sim_auth_verify(), RFC 3261 §22.4),
 * whether or not the trace is on: real-socket mode counts wrong passwords per source with it.
 * @username is the one the Authorization claimed, or NULL.
 */
typedef void (*SimRegistrarAuthFunc) (SimRegistrar  *registrar,
                                      SimAuthResult  result,
                                      const char    *username,
                                      gpointer       user_data);
void          sim_registrar_set_auth_func (SimRegistrar            *self,
                                           SimRegistrarAuthFunc     func,
                                           gpointer                 user_data);
/* Handles one REGISTER received in @txn (RFC 3261 §10.3 steps 1-8) and responds in it. */
void          sim_registrar_handle       (SimRegistrar             *self,
                                          SimServerTxn             *txn,
                                          osip_message_t           *request);

G_END_DECLS
