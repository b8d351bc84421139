/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib-object.h>

#include "sim-auth-limiter.h"
#include "sim-location.h"
#include "sim-proxy.h"
#include "sim-registrar.h"
#include "sim-store.h"
#include "sim-transport.h"

G_BEGIN_DECLS

/*
 * SimServer: the registrar and proxy of the simulator, on real sockets, so lab phones
 * (Linphone, baresip, desk phones, sipp) register on the same code the lessons show.  It owns
 * a wall SimClock, a SimTrace, the SimStack on a SimSocketTransport, SimAuth, SimLocation,
 * SimRegistrar and SimProxy, wired like SimWorld's registrar; optionally a SimStore so that
 * bindings survive a restart (written by the registrar's commit hook before each 200 OK; a
 * failed write answers 500 and keeps the old bindings), and a users file that is re-read on
 * SIGHUP or when it changes.  Mixed mode (simulated phones next to real ones) is SimWorld's
 * sim_world_listen(), not this type.
 *
 * Authentication: REGISTER is answered 401 until it carries a good Authorization for its To
 * user; out-of-dialog requests whose From is one of our users are answered 407 until they carry
 * a good Proxy-Authorization for the From's user (SimProxy, RFC 3261 §22.3).  Nonces are
 * one-time and bound to the client's IP address (SimAuth).
 *
 * Failed authentications are limited per (source IP, claimed user) by the SimAuthLimiter that
 * a world on real sockets uses too (sim-auth-limiter.h: what counts, the defaults, the bound).
 */
#define SIM_SERVER_MAX_AUTH_OFFENDERS SIM_AUTH_LIMITER_MAX_OFFENDERS

/*
 * With a database, a UDP burst's answers wait (held) until every group commit handed over
 * before them is durable: at most this many bursts' answers wait at once, past it the serving
 * thread waits for the disk.
 */
#define SIM_SERVER_MAX_WAITING_ANSWERS (2 * SIM_STORE_MAX_IN_FLIGHT)

#define SIM_SERVER_ERROR (sim_server_error_quark ())
GQuark sim_server_error_quark (void);

typedef enum {
  SIM_SERVER_ERROR_USERS = 1,    /* the users file is unreadable or has a bad line */
} SimServerError;

#define SIM_SERVER_NODE_NAME "registrar"

#define SIM_TYPE_SERVER (sim_server_get_type ())
G_DECLARE_FINAL_TYPE (SimServer, sim_server, SIM, SERVER, GObject)

/* @db_path NULL: bindings live in memory only and the secret is new at every start. */
SimServer          *sim_server_new              (const char          *domain,
                                                 const char          *db_path,
                                                 GError             **error) G_GNUC_WARN_UNUSED_RESULT;
/*
 * Re-creates the bindings saved in the database with their remaining lifetime (lapsed ones are
 * dropped), traced as "added" with a reason saying so.  Connect trace observers first.
 */
gboolean            sim_server_restore_bindings (SimServer           *self,
                                                 GError             **error);
gboolean            sim_server_listen           (SimServer           *self,
                                                 const char          *spec,
                                                 GError             **error);
/*
 * Loads the users file (one "name:password" a line, '#' starts a comment line, blank lines
 * ignored) and replaces the user set.  A user no longer in the file loses its bindings at once
 * (traced "removed" with the reason) and can authenticate nothing more.  Errors read "FILE:LINE: message"; on error nothing
 * changes.  With @watch, the file is re-read on SIGHUP and whenever it changes on disk.
 */
gboolean            sim_server_load_users       (SimServer           *self,
                                                 const char          *path,
                                                 gboolean             watch,
                                                 GError             **error);
/* Re-reads the file given to sim_server_load_users(); errors are traced and keep the old set. */
gboolean            sim_server_reload_users     (SimServer           *self,
                                                 GError             **error);
/*
 * With @audit, every load and reload of the users file traces a note "warning: FILE:LINE:
 * user 'NAME': the password ..." for each weak password (sim-audit.h: shorter than
 * SIM_AUDIT_MIN_PASSWORD_LENGTH or in @common, a set from sim_audit_read_common_passwords(),
 * or NULL to check only the length); with the trace disabled they are g_message()s instead.
 * The password itself is never traced.  Default: off.
 */
void                sim_server_set_password_audit (SimServer         *self,
                                                   gboolean           audit,
                                                   GHashTable        *common);
/* Defaults: 10 failures within 60 s block the IP for 300 s (SIM_AUTH_LIMITER_DEFAULT_*).
 * @max_failures 0 turns it off. */
void                sim_server_set_auth_limit   (SimServer           *self,
                                                 guint                max_failures,
                                                 SimTime              window,
                                                 SimTime              block);
/* Relaying to foreign domains for authenticated users (sim_proxy_set_relay(); default off). */
void                sim_server_set_relay        (SimServer           *self,
                                                 gboolean             relay);
/* Stops listening and closes every connection. */
void                sim_server_stop             (SimServer           *self);

SimClock           *sim_server_get_clock        (SimServer           *self);
SimTrace           *sim_server_get_trace        (SimServer           *self);
SimStack           *sim_server_get_stack        (SimServer           *self);
SimRegistrar       *sim_server_get_registrar    (SimServer           *self);
SimProxy           *sim_server_get_proxy        (SimServer           *self);
SimLocation        *sim_server_get_location     (SimServer           *self);
SimSocketTransport *sim_server_get_transport    (SimServer           *self);
/* NULL without a database. */
SimStore           *sim_server_get_store        (SimServer           *self);
guint               sim_server_get_n_users      (SimServer           *self);
/* The most bursts' answers that ever waited for their commit at once (for tests: at most
 * SIM_SERVER_MAX_WAITING_ANSWERS). */
guint               sim_server_get_peak_waiting_answers (SimServer     *self);
/* Unix time in microseconds at which the server's clock read zero. */
gint64              sim_server_get_clock_offset (SimServer           *self);

/*
 * Parses the text of a users file named @path (for messages) into @users (name -> password,
 * both g_free'd).  `siplab-cli serve --users` and the GUI's listen dialog read users files with
 * it.
 */
gboolean            sim_users_parse             (const char          *path,
                                                 const char          *contents,
                                                 GHashTable         **users,
                                                 GError             **error);
/*
 * Reads the users file at @path and parses it as sim_users_parse() does.  Every error is
 * SIM_SERVER_ERROR_USERS: "FILE:LINE: what is wrong", or why the file cannot be read.  The
 * server's reload, mixed mode and the GUI's live registrar all read users files through here.
 */
gboolean            sim_users_read_file         (const char          *path,
                                                 GHashTable         **users,
                                                 GError             **error);

G_END_DECLS
