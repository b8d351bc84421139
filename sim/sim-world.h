/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib-object.h>

#include "sim-auth.h"
#include "sim-clock.h"
#include "sim-location.h"
#include "sim-net.h"
#include "sim-phone.h"
#include "sim-registrar.h"
#include "sim-stack.h"
#include "sim-trace.h"
#include "sim-transport.h"

G_BEGIN_DECLS

/*
 * SimWorld: one simulated session — the clock, the network, the registrar/proxy and the
 * phones — built from a scenario or by hand.  Every command a view or a lesson may give goes
 * through here, and every consequence shows up in the trace.  The same seed and the same
 * commands at the same virtual times give the same trace, byte for byte.
 */

typedef enum {
  SIM_MODE_REGISTRAR,      /* phones register and call through the registrar/proxy */
  SIM_MODE_P2P,            /* point-to-point: phones call addresses from their address books */
} SimMode;

#define SIM_TYPE_WORLD (sim_world_get_type ())
G_DECLARE_FINAL_TYPE (SimWorld, sim_world, SIM, WORLD, GObject)

SimWorld     *sim_world_new              (guint32        seed) G_GNUC_WARN_UNUSED_RESULT;
guint32       sim_world_get_seed         (SimWorld      *self);
SimClock     *sim_world_get_clock        (SimWorld      *self);
SimTrace     *sim_world_get_trace        (SimWorld      *self);
SimNet       *sim_world_get_net          (SimWorld      *self);
GRand        *sim_world_get_rand         (SimWorld      *self);
SimMode       sim_world_get_mode         (SimWorld      *self);
void          sim_world_set_mode         (SimWorld      *self,
                                          SimMode        mode);
const char   *sim_world_get_domain       (SimWorld      *self);

/* The registrar/proxy host (there is at most one).  NULL until added. */
gboolean      sim_world_add_server       (SimWorld      *self,
                                          const char    *name,
                                          const char    *ip,
                                          const char    *domain,
                                          GError       **error);
const char   *sim_world_get_server_name  (SimWorld      *self);
SimRegistrar *sim_world_get_registrar    (SimWorld      *self);
SimLocation  *sim_world_get_location     (SimWorld      *self);
SimAuth      *sim_world_get_auth         (SimWorld      *self);
SimStack     *sim_world_get_server_stack (SimWorld      *self);

/* A user account: the registrar knows it, and phones of this user use @password. */
gboolean      sim_world_add_user         (SimWorld      *self,
                                          const char    *user,
                                          const char    *password,
                                          const char    *display_name,
                                          GError       **error);
GPtrArray    *sim_world_list_users       (SimWorld      *self) G_GNUC_WARN_UNUSED_RESULT;
/* A device of @user on a new host @device at @ip (port 5060). */
SimPhone     *sim_world_add_phone        (SimWorld      *self,
                                          const char    *user,
                                          const char    *device,
                                          const char    *ip,
                                          GError       **error);
gboolean      sim_world_remove_phone     (SimWorld      *self,
                                          const char    *device,
                                          GError       **error);
SimPhone     *sim_world_get_phone        (SimWorld      *self,
                                          const char    *device);
/* Phones in the order they were added (borrowed). */
GPtrArray    *sim_world_get_phones       (SimWorld      *self);
/* A host that only sends what it is told to and records what it receives (an attacker, a sniffer). */
gboolean      sim_world_add_host         (SimWorld      *self,
                                          const char    *name,
                                          const char    *ip,
                                          GError       **error);
/*
 * A NAT (a home router) with public address @ip whose mappings close after @timeout without
 * outgoing traffic (<= 0: SIM_NET_NAT_DEFAULT_TIMEOUT); see sim-net.h.
 */
gboolean      sim_world_add_nat          (SimWorld      *self,
                                          const char    *name,
                                          const char    *ip,
                                          SimTime        timeout,
                                          GError       **error);
/* Puts phone or host @name behind NAT @nat: its address becomes a private one. */
gboolean      sim_world_set_behind       (SimWorld      *self,
                                          const char    *name,
                                          const char    *nat,
                                          GError       **error);

/* Commands.  Each traces a SIM_EVENT_ACTION first.  They act now, at the clock's current time.
 * sim_world_register asks for @expires seconds, or with SIM_PHONE_DEFAULT_EXPIRES for the
 * phone's default. */
gboolean      sim_world_register         (SimWorld      *self,
                                          const char    *device,
                                          gint64         expires,
                                          GError       **error);
gboolean      sim_world_unregister       (SimWorld      *self,
                                          const char    *device,
                                          gboolean       all,         /* Contact: * */
                                          GError       **error);
gboolean      sim_world_call             (SimWorld      *self,
                                          const char    *device,
                                          const char    *target,      /* user name or AOR */
                                          GError       **error);
gboolean      sim_world_hangup           (SimWorld      *self,
                                          const char    *device,
                                          GError       **error);
gboolean      sim_world_move             (SimWorld      *self,
                                          const char    *device,
                                          const char    *new_ip,
                                          GError       **error);
gboolean      sim_world_set_power        (SimWorld      *self,
                                          const char    *device,
                                          gboolean       on,
                                          GError       **error);
/* Changes the password a phone (device) uses, or with @device NULL the registrar's for @user. */
gboolean      sim_world_set_password     (SimWorld      *self,
                                          const char    *user,
                                          const char    *device,
                                          const char    *password,
                                          GError       **error);
/*
 * Replays the last REGISTER carrying an Authorization that @victim sent, from host @attacker
 * (the victim's own address when NULL).  @new_call_id / @bump_cseq change those fields so the
 * registrar cannot just treat it as a retransmission.  The outcome shows in the trace.
 */
gboolean      sim_world_replay           (SimWorld      *self,
                                          const char    *victim,
                                          const char    *attacker,
                                          gboolean       new_call_id,
                                          gboolean       bump_cseq,
                                          GError       **error);
/*
 * What an attacker changes in a captured REGISTER before sending it again: none of it is in
 * the digest (qop=auth covers the method and the Request-URI, RFC 7616 §3.4.3), so the
 * Authorization still verifies if the nonce may be used.
 */
typedef struct {
  gboolean new_call_id;
  gboolean bump_cseq;
  const char *contact;       /* a new Contact (a URI, or "*"); NULL: as captured */
  gint64 expires;            /* a new Expires header; -1: as captured */
} SimReplayChanges;

gboolean      sim_world_replay_full      (SimWorld      *self,
                                          const char    *victim,
                                          const char    *attacker,
                                          const SimReplayChanges *changes,
                                          GError       **error);
/* Sends raw bytes from @from_host to the registrar (malformed-input lessons and tests). */
gboolean      sim_world_send_raw         (SimWorld      *self,
                                          const char    *from_host,
                                          const char    *text,
                                          GError       **error);
void          sim_world_set_link         (SimWorld      *self,
                                          const char    *a,          /* NULL: every link */
                                          const char    *b,
                                          const SimLinkParams *params);

/* Point-to-point address books: @device learns that @user is at @ip:5060. */
void          sim_world_learn_address    (SimWorld      *self,
                                          const char    *device,
                                          const char    *user,
                                          const char    *ip);
/* Every phone learns every other phone's current address (N x (N-1) entries). */
void          sim_world_fill_address_books (SimWorld    *self);

/* Running */
SimTime       sim_world_now              (SimWorld      *self);
void          sim_world_run_until        (SimWorld      *self,
                                          SimTime        t);
/* Runs timers until at least one more trace event exists; FALSE when nothing is left to run. */
gboolean      sim_world_step_event       (SimWorld      *self);

/* Schedules a closure at absolute virtual time @at (scenario actions). */
void          sim_world_schedule         (SimWorld      *self,
                                          SimTime        at,
                                          SimClockFunc   func,
                                          gpointer       user_data,
                                          GDestroyNotify destroy);

/*
 * Mixed mode: simulated phones and real phones on one registrar/proxy.
 *
 * sim_world_new_with_clock() runs the world on any clock; mixed mode needs a wall clock
 * (sim_clock_new_wall()) so that the simulated phones live in real time next to real ones.
 * sim_world_listen() then opens real sockets under the world's server stack.  The first
 * endpoint (IPv4, not 0.0.0.0) becomes the server's address for everybody: its Via and
 * Record-Route, and the server host's address on the simulated network, so a simulated phone
 * reaches the registrar at the same ip:port as a real phone does; from then on the Date of the
 * registrar's 200 OK is real time (sim_registrar_set_date_epoch()).  What the server sends to
 * the IP of a simulated host crosses SimNet; everything else goes out through the sockets.
 * (A real phone whose IP equals a simulated host's is therefore unreachable: keep the scenario
 * on addresses the LAN does not use, such as 10.0.0.0/24 on a 192.168 classroom network.)
 */
SimWorld     *sim_world_new_with_clock   (guint32        seed,
                                          SimClock      *clock) G_GNUC_WARN_UNUSED_RESULT;
gboolean      sim_world_listen           (SimWorld      *self,
                                          const char    *spec,      /* "udp:HOST:PORT", ... */
                                          GError       **error);
/* NULL until sim_world_listen() succeeded. */
SimSocketTransport *sim_world_get_transport (SimWorld   *self);
/*
 * Adds the accounts of the users file at @path (one "name:password" a line, the format of
 * sim_server_load_users()) to the registrar, beside the scenario's users; for a name in both,
 * the registrar takes the file's password (the scenario's phones keep theirs).  @n_new (may be
 * NULL) gets the number of the file's users the scenario did not declare.  Errors: SIM_SERVER_ERROR_USERS ("FILE:LINE:
 * what is wrong", or why the file cannot be read), SIM_WORLD_ERROR_STATE without a registrar;
 * on error no account is added.  Used by mixed mode (`siplab-cli serve --scenario`) and the
 * GUI's live registrar.
 */
gboolean      sim_world_load_users       (SimWorld      *self,
                                          const char    *path,
                                          guint         *n_new,
                                          GError       **error);
/*
 * Checks a domain asked for (a --domain option, a dialog's field) against the world's: the
 * registrar answers for its scenario's domain only.  @domain NULL: nothing was asked, TRUE.
 * Errors: SIM_WORLD_ERROR_INVALID "domain D differs from the scenario's domain S", or
 * SIM_WORLD_ERROR_STATE when the world has no registrar.
 */
gboolean      sim_world_check_domain     (SimWorld      *self,
                                          const char    *domain,
                                          GError       **error);
/*
 * The guard against password guessing that listening puts in front of the registrar, the one
 * SimServer has (sim-auth-limiter.h, with its defaults); NULL until sim_world_listen() was
 * called.  The simulator alone has none.
 */
typedef struct _SimAuthLimiter SimAuthLimiter;
SimAuthLimiter *sim_world_get_auth_limiter (SimWorld    *self);

#define SIM_WORLD_ERROR (sim_world_error_quark ())
GQuark sim_world_error_quark (void);
typedef enum {
  SIM_WORLD_ERROR_NOT_FOUND = 1,
  SIM_WORLD_ERROR_EXISTS,
  SIM_WORLD_ERROR_INVALID,
  SIM_WORLD_ERROR_STATE,
} SimWorldError;

G_END_DECLS
