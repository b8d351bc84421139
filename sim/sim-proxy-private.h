/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/*
 * What the pieces of SimProxy share, in-tree only: the object itself and the functions one
 * piece calls in another.  sim-proxy.c is the forking proxy core (RFC 3261 §16: forwarding,
 * responses, CANCEL, the checks of §16.3, routing); sim-proxy-auth.c is its proxy
 * authentication (RFC 3261 §22.3); sim-proxy-dialogs.c is the table of dialogs it
 * Record-Routed, which routes in-dialog requests (§16.6 step 4, §12).
 */

#include "sim-proxy.h"

G_BEGIN_DECLS

/* A dialog this proxy Record-Routed; only sim-proxy-dialogs.c looks inside. */
typedef struct _SimProxyDialog SimProxyDialog;

struct _SimProxy {
  GObject parent_instance;
  SimStack *stack;
  SimRegistrar *registrar;
  GHashTable *contexts;    /* SimServerTxn* -> Context* */
  GHashTable *dialogs;     /* key -> SimProxyDialog*, at most max_dialogs */
  guint max_dialogs;
  SimTime dialog_lifetime;
  gboolean relay;
};

/* sim-proxy.c */
SimClock *_sim_proxy_clock             (SimProxy         *self);
/* A refusal of our own, sent statelessly; nothing is sent when @txn is NULL (an ACK). */
void      _sim_proxy_reply             (SimServerTxn     *txn,
                                        int               status,
                                        const char       *reason);
gboolean  _sim_proxy_uri_is_our_domain (SimProxy         *self,
                                        const osip_uri_t *uri);
/* Same user, host and port: the request is meant for the UA that gave @contact. */
gboolean  _sim_proxy_contact_matches   (const char       *contact,
                                        const osip_uri_t *target);

/* sim-proxy-auth.c */
/* Whether the policy has the proxy challenge our users at all (RFC 3261 §22.3). */
gboolean  _sim_proxy_auth_applies      (SimProxy         *self);
gboolean  _sim_proxy_from_is_ours      (SimProxy         *self,
                                        osip_message_t   *request);
/*
 * RFC 3261 §16.3 step 6: FALSE when @request was answered here (407, 403 or 400); otherwise
 * @auth_user is the proven user or NULL, and our Proxy-Authorization is consumed.
 */
gboolean  _sim_proxy_authenticate      (SimProxy         *self,
                                        SimServerTxn     *txn,
                                        osip_message_t   *request,
                                        const SimAddr    *src,
                                        gboolean          in_dialog,
                                        char            **auth_user);

/* sim-proxy-dialogs.c */
void            _sim_proxy_dialogs_init       (SimProxy         *self);
/* Whether a new INVITE may be Record-Routed: the table has room, after pruning lapsed entries. */
gboolean        _sim_proxy_dialogs_have_room  (SimProxy         *self);
/* On the 2xx to an INVITE we Record-Routed: both Contacts and both flows. */
void            _sim_proxy_dialogs_remember   (SimProxy         *self,
                                               osip_message_t   *invite,
                                               osip_message_t   *response,
                                               const SimAddr    *caller_flow,
                                               const SimAddr    *callee_flow);
void            _sim_proxy_dialogs_forget     (SimProxy         *self,
                                               const char       *key);
/* The remembered dialog of @request, sent from @src, one of whose parties gave @target as its
 * Contact. */
SimProxyDialog *_sim_proxy_dialogs_find_party (SimProxy         *self,
                                               osip_message_t   *request,
                                               const osip_uri_t *target,
                                               const SimAddr    *src,
                                               int              *side);
/* The flow of the dialog party whose Contact is @target; FALSE when it is none. */
gboolean        _sim_proxy_dialogs_next_hop   (SimProxy         *self,
                                               osip_message_t   *request,
                                               const osip_uri_t *target,
                                               const SimAddr    *src,
                                               SimAddr          *next,
                                               char            **dialog_key);
/* The flow of a live binding whose Contact is @target. */
gboolean        _sim_proxy_binding_flow       (SimProxy         *self,
                                               const osip_uri_t *target,
                                               SimAddr          *flow);

G_END_DECLS
