/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/*
 * What the pieces of SimProxy share, in-tree only: the object itself and the functions one
 * piece calls in another.  sim-proxy.c is the forking proxy core (RFC 3261 §16: forwarding,
 * responses, CANCEL, the checks of §16.3, routing); sim-proxy-auth.c is its proxy
 * authentication (RFC 3261 §22.3).
 */

#include "sim-proxy.h"

G_BEGIN_DECLS

struct _SimProxy {
  GObject parent_instance;
  SimStack *stack;
  SimRegistrar *registrar;
  GHashTable *contexts;    /* SimServerTxn* -> Context* */
  GHashTable *dialogs;     /* key -> Dialog*, at most max_dialogs */
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

G_END_DECLS
