/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "sim-scenario.h"
#include "sim-world.h"

G_BEGIN_DECLS

/*
 * A world that faces real phones: what the GUI's live mode (sim_document_listen()) and
 * `siplab-cli serve --scenario` share, so the users file and the domain are checked in one
 * place.  The sockets are opened afterwards with sim_world_listen(), which also puts the
 * password-guessing guard of `serve` in front of the registrar (sim_world_get_auth_limiter()).
 *
 * @scene: the world is built from it on a wall clock, its simulated phones beside the real
 * ones; it must have a registrar.  NULL: a registrar alone for @domain, named
 * SIM_LIVE_REGISTRAR_NAME, and then @domain and @users_path are required.
 * @domain: NULL or empty for the scene's; otherwise it must be the scene's.
 * @users_path: NULL or empty for none; otherwise a users file (one name:password a line, read
 * as `serve --users` reads it: sim_users_parse()) whose users the registrar knows beside the
 * scene's.  Errors read "FILE:LINE: message".
 * @n_users_out (may be NULL): how many users the registrar knows.
 *
 * The registrar dates its 200 OK (the Date header) in real time once it listens
 * (sim_world_listen()).  The checks are sim_world_check_domain() and sim_world_load_users().
 */
#define SIM_LIVE_REGISTRAR_NAME "registrar"

#define SIM_LIVE_ERROR (sim_live_error_quark ())
GQuark sim_live_error_quark (void);

typedef enum {
  SIM_LIVE_ERROR_NO_REGISTRAR = 1,   /* the scene has no server line */
  SIM_LIVE_ERROR_DOMAIN,             /* no domain, or not the scene's */
  SIM_LIVE_ERROR_USERS,              /* a registrar alone needs a users file */
} SimLiveError;

SimWorld *sim_live_world_new (SimScenario  *scene,
                              const char   *domain,
                              const char   *users_path,
                              guint        *n_users_out,
                              GError      **error) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
