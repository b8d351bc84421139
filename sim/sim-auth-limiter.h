/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

#include "sim-auth.h"
#include "sim-stack.h"

G_BEGIN_DECLS

/*
 * SimAuthLimiter: the guard against password guessing of a registrar on real sockets (not part
 * of RFC 3261).  SimServer (`siplab-cli serve`) and a SimWorld that listens on real sockets
 * (mixed mode, the GUI's live mode) use the same one, so a guesser meets the same wall whichever
 * way the registrar was started.  The simulator alone has none: a lesson may send as many wrong
 * passwords as it likes.
 *
 * Failed authentications are limited per (source IP, an IPv6 one as its /64; claimed user),
 * whatever the To tag or the other credentials beside them: after max_failures wrong digests
 * within the window, that user's REGISTERs and proxied requests from that IP are answered 403
 * for the block time (traced); the same address may still authenticate as any other user, so
 * one guesser behind a class's shared NAT address locks out only the account it guesses.  Only
 * wrong passwords and unknown users count (401 and 407 alike), not the challenge that starts
 * every registration or call.  At most SIM_AUTH_LIMITER_MAX_OFFENDERS such pairs are tracked;
 * beyond it the least recent unblocked one is forgotten.
 */
#define SIM_AUTH_LIMITER_MAX_OFFENDERS 4096

/* The defaults: 10 wrong digests within 60 s block that user from that address for 300 s. */
#define SIM_AUTH_LIMITER_DEFAULT_MAX_FAILURES 10
#define SIM_AUTH_LIMITER_DEFAULT_WINDOW SIM_SEC (60)
#define SIM_AUTH_LIMITER_DEFAULT_BLOCK SIM_SEC (300)

typedef struct _SimAuthLimiter SimAuthLimiter;

/*
 * Counts the wrong digests @auth finds (it takes @auth's verdict function) and refuses on
 * @stack, whose clock, trace and node name it uses.  Both are kept until the limiter is freed.
 */
SimAuthLimiter *sim_auth_limiter_new       (SimStack         *stack,
                                            SimAuth          *auth) G_GNUC_WARN_UNUSED_RESULT;
void            sim_auth_limiter_free      (SimAuthLimiter   *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SimAuthLimiter, sim_auth_limiter_free)

/* @max_failures 0 turns the limit off. */
void            sim_auth_limiter_set_limit (SimAuthLimiter   *self,
                                            guint             max_failures,
                                            SimTime           window,
                                            SimTime           block);
guint           sim_auth_limiter_get_max_failures (SimAuthLimiter *self);

/*
 * Before the registrar or proxy sees @request: when its credentials name a user blocked at
 * @src, answers it 403 statelessly (traced) and returns TRUE.  ACK and CANCEL are never
 * refused (they are never verified).
 */
gboolean        sim_auth_limiter_refuse    (SimAuthLimiter   *self,
                                            SimServerTxn     *txn,
                                            osip_message_t   *request,
                                            const SimAddr    *src);

G_END_DECLS
