/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib-object.h>

#include "sim-registrar.h"
#include "sim-stack.h"

G_BEGIN_DECLS

/*
 * SimProxy: a stateful forking proxy (RFC 3261 §16).  A request for an AOR of our domain is
 * sent to every registered Contact at once; the first 2xx wins and the other branches are
 * CANCELled; no binding means 480 (known user) or 404.  The proxy Record-Routes INVITEs so the
 * whole dialog (ACK, BYE) passes through it and shows in the views.
 *
 * It is no open relay.  A request outside a dialog goes only to the registered Contacts of an
 * AOR of our domain; a foreign domain, or a Route that is not us, gets 403 and nothing is sent
 * (unless the relay option is on and the user authenticated; even then never to our own,
 * loopback, link-local, multicast, broadcast or unspecified addresses, also inside IPv6
 * (sim_addr_is_unicast()), nor to a host name; private ranges are allowed, since a school may
 * relay to another PBX on its LAN).  A request is in a dialog only when its Call-ID and both
 * tags match a dialog this proxy Record-Routed and its Request-URI is a party's Contact: it
 * skips the 407 and goes over the flow that party used (its source address or TCP connection,
 * which is how a phone behind NAT gets its ACK and BYE).  A To tag that matches no such
 * dialog is treated as out of a dialog for authentication (From ours: 407; foreign: 403), never
 * takes the location service's branch, and may go only to a live binding's Contact over that
 * binding's flow, for an authenticated user; such an ACK is dropped.  The dialogs are kept in
 * a table of at most SIM_PROXY_MAX_DIALOGS entries: an entry ends with the 2xx to its BYE, or
 * SIM_PROXY_DIALOG_LIFETIME after its last in-dialog request; while the table is full, no new
 * INVITE is Record-Routed.  Every refusal of our own (403, 404, 480, 416, 420, 482, 483, 400,
 * 405, 481) is sent statelessly, like the 407.
 *
 * Before routing, RFC 3261 §16.3: Max-Forwards not a number -> 400, 0 -> 483 (a number of
 * any length is valid, read as at most 255); a URI scheme other than sip/sips -> 416; a Via
 * with one of our addresses -> 482 (loop); any Proxy-Require option tag -> 420 with
 * Unsupported; then step 6, proxy authorization (§22.3): an out-of-dialog request (not ACK or
 * CANCEL) whose From is of our domain gets 407 Proxy Authentication Required until it carries
 * Proxy-Authorization for our realm, verified like the registrar's Authorization (one-time
 * nonces bound to the client address); the user it proves must be the From's user, else 403.
 * Our credentials are consumed, not forwarded.  This is the policy's proxy_auth (default TRUE,
 * and only with require_auth; scenario and lesson files can turn it off); an OPTIONS to the
 * server itself (no user part, no Route) is not challenged.  Like the registrar's 401, every
 * 407 is sent statelessly (§8.2.7, §16.6): nothing is kept for a stranger, and its ACK is
 * absorbed by the stack.  Every listener of the stack (sim_stack_add_local_addr()) is "us"
 * (sim_registrar_is_our_host()).  Record-Route names the endpoint the INVITE arrived on (transport=tcp, IPv6 in
 * brackets), and the outgoing endpoint too when it differs (RFC 5658 double Record-Route).
 */

#define SIM_PROXY_MAX_DIALOGS 4096
#define SIM_PROXY_DIALOG_LIFETIME SIM_SEC (12 * 3600)
/* Longer Contacts or Call-IDs are not remembered (bounds the table's memory: ~5 MB at most). */
#define SIM_PROXY_MAX_DIALOG_CONTACT 512

#define SIM_TYPE_PROXY (sim_proxy_get_type ())
G_DECLARE_FINAL_TYPE (SimProxy, sim_proxy, SIM, PROXY, GObject)

SimProxy *sim_proxy_new    (SimStack       *stack,
                            SimRegistrar   *registrar) G_GNUC_WARN_UNUSED_RESULT;
/* Handles any request but REGISTER; @txn is NULL for an ACK to a 2xx. */
void      sim_proxy_handle (SimProxy       *self,
                            SimServerTxn   *txn,
                            osip_message_t *request,
                            const SimAddr  *src);
/* Relaying to foreign domains for authenticated users (default FALSE: never). */
void      sim_proxy_set_relay  (SimProxy     *self,
                                gboolean      relay);
gboolean  sim_proxy_get_relay  (SimProxy     *self);
/*
 * The dialog table's cap and the lifetime of an entry after its last in-dialog request
 * (defaults SIM_PROXY_MAX_DIALOGS and SIM_PROXY_DIALOG_LIFETIME).  Lapsed entries go at once.
 */
void      sim_proxy_set_dialog_limits (SimProxy *self,
                                       guint     max_dialogs,
                                       SimTime   lifetime);
/* Dialogs remembered for in-dialog routing (at most the cap). */
guint     sim_proxy_get_n_dialogs (SimProxy  *self);

G_END_DECLS
