/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib-object.h>

#include "sim-clock.h"
#include "sim-digest.h"
#include "sim-trace.h"

G_BEGIN_DECLS

/*
 * SimAuth: the registrar's side of digest authentication (RFC 3261 §22, RFC 7616, RFC 8760).
 * It issues nonces, builds WWW-Authenticate challenges and verifies Authorization headers.
 *
 * Nonces are unguessable: base64url (time ‖ counter ‖ AES-128(key, time ‖ counter)), the key
 * drawn from the secret, so a nonce cannot be predicted, forged or altered without the secret.
 * The secret comes from the caller: RAND_bytes in real-socket mode, derived from the seed in the
 * simulator so runs are deterministic.  Every issued nonce is remembered until its lifetime ends, to enforce
 * one-time use (the default: a nonce authenticates exactly one request; RFC 7616 §3.4 lets a
 * server refuse reuse) or, with one-time off, a strictly increasing nonce-count.
 *
 * The same object challenges for the registrar (401, WWW-Authenticate) and for the proxy (407,
 * Proxy-Authenticate, RFC 3261 §22.3): one realm, one nonce table.  Nonces are bound to the
 * client's IP address (the _full() calls; the others bind to "no address"): answered from
 * another address a nonce is SIM_AUTH_UNKNOWN_NONCE.  A wrong answer uses the nonce up, and
 * credentials without qop are refused, since every challenge asks for qop="auth".
 */
typedef enum {
  SIM_AUTH_OK = 0,
  SIM_AUTH_NO_CREDENTIALS,   /* no Authorization for our realm: challenge */
  SIM_AUTH_MALFORMED,        /* unparsable Authorization: 400 */
  SIM_AUTH_WRONG_REALM,      /* credentials for another realm: challenge */
  SIM_AUTH_UNKNOWN_NONCE,    /* forged, altered, or from before a restart: challenge */
  SIM_AUTH_STALE,            /* good digest, nonce lifetime over: challenge with stale=true */
  SIM_AUTH_REPLAYED,         /* nonce already used (one-time) or nc not increasing: challenge */
  SIM_AUTH_BAD_RESPONSE,     /* wrong password or unknown user (indistinguishable): challenge */
  SIM_AUTH_ALGORITHM_NOT_OFFERED, /* algorithm the realm does not allow: challenge */
  SIM_AUTH_URI_MISMATCH,     /* digest-uri differs from the Request-URI: 400 */
  SIM_AUTH_QOP_MISSING,      /* no qop after our qop="auth" challenge (RFC 2069 form): challenge */
} SimAuthResult;

/* Client addresses longer than this (never a real IP address) are cut for the nonce's
 * address binding. */
#define SIM_AUTH_MAX_CLIENT_LEN 64

const char *sim_auth_result_name   (SimAuthResult result);   /* "ok", "stale", "replayed", ... */
const char *sim_auth_result_reason (SimAuthResult result);   /* a sentence for a student */

/* Returns the user's password, or NULL for an unknown user. */
typedef const char *(*SimAuthLookupFunc) (const char *username,
                                          gpointer    user_data);

#define SIM_TYPE_AUTH (sim_auth_get_type ())
G_DECLARE_FINAL_TYPE (SimAuth, sim_auth, SIM, AUTH, GObject)

SimAuth   *sim_auth_new              (SimClock                 *clock,
                                      SimTrace                 *trace,
                                      const char               *node_name,
                                      const char               *realm,
                                      const guint8             *secret,
                                      gsize                     secret_len) G_GNUC_WARN_UNUSED_RESULT;
const char *sim_auth_get_realm       (SimAuth                  *self);
/* Algorithms to challenge with, in preference order (default: MD5 only, see DESIGN.md). */
void       sim_auth_set_algorithms   (SimAuth                  *self,
                                      const SimDigestAlgorithm *algorithms,
                                      guint                     n_algorithms);
void       sim_auth_set_nonce_lifetime (SimAuth                *self,
                                      SimTime                   lifetime);    /* default 300 s */
void       sim_auth_set_one_time     (SimAuth                  *self,
                                      gboolean                  one_time);    /* default TRUE */
/*
 * With one-time off: TRUE (the default) refuses a nonce-count that does not grow (RFC 7616
 * §3.4), FALSE checks no count at all, so a nonce authenticates any request, replays
 * included, until its lifetime ends, as registrars do that rely on the lifetime alone.
 */
void       sim_auth_set_nonce_count  (SimAuth                  *self,
                                      gboolean                  check);
gboolean   sim_auth_get_nonce_count  (SimAuth                  *self);
/* At most this many nonces are remembered; beyond it the oldest is forgotten (its phone is
 * simply challenged again).  48 bytes each, in a ring up to twice the live count. */
#define SIM_AUTH_DEFAULT_MAX_LIVE_NONCES (1024 * 1024)
void       sim_auth_set_max_live_nonces (SimAuth               *self,
                                         guint                  max_live);

/*
 * HA1 = H(username:realm:password) is kept per user (and per algorithm), and made again when
 * the lookup returns another password.  Unknown users are kept too (their HA1 is made with a
 * dummy password, so they cost what known users cost): at most this many users are kept,
 * beyond it the cache starts over.  Each costs about 300 bytes.  Setting the bound empties it.
 */
#define SIM_AUTH_DEFAULT_MAX_HA1_CACHE (64 * 1024)
void       sim_auth_set_max_ha1_cache (SimAuth                 *self,
                                       guint                    max_users);
guint      sim_auth_get_n_ha1_cached (SimAuth                  *self);

/*
 * Builds the WWW-Authenticate header values for a 401: one per enabled algorithm, each with a
 * fresh nonce, realm, opaque, qop="auth" and, when @stale, stale=true.  Traces "issued".
 */
GPtrArray *sim_auth_challenge        (SimAuth                  *self,
                                      gboolean                  stale) G_GNUC_WARN_UNUSED_RESULT;
/*
 * The same, with nonces bound to @client (the requester's IP address as text, NULL for none),
 * for a 401 (@proxy FALSE) or, as Proxy-Authenticate values, a 407 (@proxy TRUE: only the trace
 * reason differs).
 */
GPtrArray *sim_auth_challenge_full   (SimAuth                  *self,
                                      gboolean                  stale,
                                      const char               *client,
                                      gboolean                  proxy) G_GNUC_WARN_UNUSED_RESULT;

/*
 * Verifies the Authorization header value @authorization for a request with @method and
 * Request-URI @request_uri.  On SIM_AUTH_OK the nonce is consumed.  @out_username gets the
 * claimed username whenever it could be parsed.  Traces "accepted" or "rejected" with the reason.
 */
SimAuthResult sim_auth_verify        (SimAuth                  *self,
                                      const char               *method,
                                      const char               *request_uri,
                                      const char               *authorization,
                                      SimAuthLookupFunc         lookup,
                                      gpointer                  lookup_data,
                                      char                    **out_username);

/* The same for a request from @client (see sim_auth_challenge_full()). */
SimAuthResult sim_auth_verify_full   (SimAuth                  *self,
                                      const char               *method,
                                      const char               *request_uri,
                                      const char               *authorization,
                                      const char               *client,
                                      SimAuthLookupFunc         lookup,
                                      gpointer                  lookup_data,
                                      char                    **out_username);

/*
 * sim_auth_verify_full() for an Authorization a message parser already split: @scheme (NULL:
 * there is none) and its parameters, each value as it stood (quotes kept).  The verdict,
 * trace and hook are exactly those of sim_auth_verify_full() on
 * sim_digest_params_to_string (@scheme, @params, @n_params), for every input; plain values are
 * read in place, without parsing that text again (sim_digest_credentials_parse_params()).
 */
SimAuthResult sim_auth_verify_params (SimAuth              *self,
                                      const char           *method,
                                      const char           *request_uri,
                                      const char           *scheme,
                                      const SimDigestParam *params,
                                      guint                 n_params,
                                      const char           *client,
                                      SimAuthLookupFunc     lookup,
                                      gpointer              lookup_data,
                                      char                **out_username);

/*
 * Called with every verdict of sim_auth_verify*() (401 and 407 alike), whether or not the
 * trace is on: real-socket mode counts wrong passwords per (address, user) with it.
 * @username is the one the credentials claimed, or NULL; @client as given to verify.
 */
typedef void (*SimAuthVerdictFunc) (SimAuth       *auth,
                                    SimAuthResult  result,
                                    const char    *username,
                                    const char    *client,
                                    gpointer       user_data);
void       sim_auth_set_verdict_func (SimAuth                  *self,
                                      SimAuthVerdictFunc        func,
                                      gpointer                  user_data);

guint      sim_auth_get_n_live_nonces (SimAuth                 *self);

G_END_DECLS
