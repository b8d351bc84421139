/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Proxy authentication (RFC 3261 §22.3, §16.3 step 6): which requests the proxy challenges
 * with a 407, how their Proxy-Authorization for our realm is verified and consumed, and why a
 * request is refused (400, 403).  The proxy core (sim-proxy.c) asks _sim_proxy_authenticate()
 * before it routes anything.
 */
#include "sim-proxy-private.h"

#include <string.h>

static const char *
lookup_password_cb (const char *username,
                    gpointer    user_data)
{
  return sim_registrar_get_password (user_data, username);
}

/* Is the From of @request one of our addresses-of-record?  The domain, or any address of ours
 * whatever the port, since a phone configured with the server's IP shows that as its domain. */
gboolean
_sim_proxy_from_is_ours (SimProxy       *self,
                         osip_message_t *request)
{
  if (request->from == NULL || request->from->url == NULL || request->from->url->host == NULL)
    return FALSE;
  return sim_registrar_is_our_host (self->registrar, request->from->url->host, 0);
}

/* The Proxy-Authorization for our realm, or NULL.  Others are for proxies further on. */
static osip_proxy_authorization_t *
our_credentials (SimProxy       *self,
                 osip_message_t *request,
                 int            *position)
{
  const char *realm = sim_auth_get_realm (sim_registrar_get_auth (self->registrar));
  gsize realm_len = strlen (realm);

  for (int pos = 0; !osip_list_eol (&request->proxy_authorizations, pos); pos++)
    {
      osip_proxy_authorization_t *credentials = osip_list_get (&request->proxy_authorizations, pos);
      const char *value = credentials->realm;

      if (value == NULL)
        continue;
      /* libosip2 keeps the quotes of a quoted value. */
      if (value[0] == '"' && strlen (value) == realm_len + 2 && value[realm_len + 1] == '"' &&
          strncmp (value + 1, realm, realm_len) == 0)
        {
          *position = pos;
          return credentials;
        }
    }
  return NULL;
}

static void
trace_proxy_auth (SimProxy       *self,
                  osip_message_t *request,
                  const char     *action,
                  const char     *reason)
{
  SimTrace *trace = sim_stack_get_trace (self->stack);
  SimEvent *event;

  if (!sim_trace_is_enabled (trace))
    return;
  event = sim_event_new (SIM_EVENT_LOOKUP, action);
  event->t = sim_clock_now (_sim_proxy_clock (self));
  event->node = g_strdup (sim_stack_get_node_name (self->stack));
  if (request->from != NULL && request->from->url != NULL)
    event->aor = sim_uri_to_aor (request->from->url);
  event->text = g_strdup (reason);
  sim_trace_emit (trace, event);
}

/*
 * The 407 Proxy Authentication Required, with one Proxy-Authenticate per challenge
 * (RFC 3261 §22.3).  Every 407 leaves through here, so how it is sent is decided in this one
 * place.
 */
static void
reply_proxy_challenge (SimProxy       *self,
                       SimServerTxn   *txn,
                       osip_message_t *request,
                       GPtrArray      *challenges)
{
  osip_message_t *response = sim_message_new_response (request, 407,
                                                       "Proxy Authentication Required",
                                                       sim_server_txn_get_to_tag (txn));

  for (guint i = 0; i < challenges->len; i++)
    osip_message_set_proxy_authenticate (response, challenges->pdata[i]);
  /* RFC 3261 §8.2.7 and §16.6: like the registrar's 401, the 407 costs nothing to make again,
   * so it is sent statelessly and nothing is kept for a stranger (its ACK is absorbed by the
   * stack, which recognises the To tag it wrote). */
  sim_server_txn_respond_stateless (txn, response);
}

/* Whether the policy has the proxy challenge our users at all (RFC 3261 §22.3). */
gboolean
_sim_proxy_auth_applies (SimProxy *self)
{
  const SimRegistrarPolicy *policy = sim_registrar_get_policy (self->registrar);

  return policy->require_auth && policy->proxy_auth && sim_registrar_get_auth (self->registrar) != NULL;
}

/*
 * RFC 3261 §16.3 step 6 and §22.3: an out-of-dialog request that claims one of our users as
 * its From must prove it with Proxy-Authorization, and the proven user must be the From's.
 * In-dialog requests (@in_dialog: a dialog this proxy Record-Routed,
 * _sim_proxy_dialogs_find_party()) belong
 * to a call the proxy admitted already; a request with a To tag that matches no such dialog
 * is challenged like any other (§22.3 lets a proxy challenge any request but ACK and CANCEL,
 * and phones answer a 407 to a BYE).  ACK cannot be answered and CANCEL "cannot be challenged" (RFC 3261 §22.1) and only ends a transaction the
 * same hop admitted.  A From of another domain is not challenged: that caller cannot hold our
 * credentials, and where such a request may go is the routing's decision.
 *
 * Returns FALSE when the request was answered here (407, 403 or 400) and must go no further.
 * Otherwise @auth_user is the authenticated user, or NULL when none was asked for, and our
 * Proxy-Authorization is removed from @request.  RFC 3261 has no sentence "MUST NOT forward";
 * what it says is that a value "applies only to the proxy whose realm is identified" in it and
 * "MUST NOT be consumed by any proxy whose realm does not match" (§20.28, §22.3), and RFC 7235
 * §4.4 (RFC 2617 §3.6) that it "is consumed by the first inbound proxy that was expecting to
 * receive credentials", relaying being a MAY for proxies that authenticate cooperatively.  We
 * are the proxy of that realm and cooperate with nobody, so we consume ours: the callee never
 * sees a digest computed with the caller's password.  Values for other realms stay for the
 * proxies they name.
 */
gboolean
_sim_proxy_authenticate (SimProxy        *self,
                         SimServerTxn    *txn,
                         osip_message_t  *request,
                         const SimAddr   *src,
                         gboolean         in_dialog,
                         char           **auth_user)
{
  const SimRegistrarPolicy *policy = sim_registrar_get_policy (self->registrar);
  SimAuth *auth = sim_registrar_get_auth (self->registrar);
  osip_proxy_authorization_t *credentials;
  g_autofree char *text = NULL;
  g_autofree char *request_uri = NULL;
  g_autofree char *claimed = NULL;
  g_autofree char *reason = NULL;
  const char *from_user;
  SimAuthResult result;
  int position = -1;

  *auth_user = NULL;
  if (txn == NULL || !_sim_proxy_auth_applies (self) ||
      strcmp (request->sip_method, "ACK") == 0 || strcmp (request->sip_method, "CANCEL") == 0 ||
      in_dialog || !_sim_proxy_from_is_ours (self, request))
    return TRUE;
  /* A request for the server itself (no user part: an OPTIONS keep-alive) is answered here
   * and reaches nobody, so there is no identity to protect; Kamailio's default configuration
   * exempts the same keep-alive. */
  if (request->req_uri != NULL && request->req_uri->username == NULL &&
      _sim_proxy_uri_is_our_domain (self, request->req_uri) &&
      osip_list_size (&request->routes) == 0)
    return TRUE;

  credentials = our_credentials (self, request, &position);
  if (credentials != NULL && osip_authorization_to_str (credentials, &text) != 0)
    text = NULL;
  request_uri = sim_message_request_uri (request);
  result = sim_auth_verify_full (auth, request->sip_method, request_uri != NULL ? request_uri : "",
                                 text, src != NULL ? src->ip : NULL, lookup_password_cb,
                                 self->registrar, &claimed);
  switch (result)
    {
    case SIM_AUTH_OK:
      break;

    case SIM_AUTH_MALFORMED:
    case SIM_AUTH_URI_MISMATCH:
      /* As for REGISTER: broken credentials are a bad request (RFC 7616 §3.4). */
      trace_proxy_auth (self, request, "rejected", sim_auth_result_reason (result));
      _sim_proxy_reply (txn, 400, "Bad Proxy-Authorization");
      return FALSE;

    case SIM_AUTH_NO_CREDENTIALS:
    case SIM_AUTH_WRONG_REALM:
    case SIM_AUTH_UNKNOWN_NONCE:
    case SIM_AUTH_STALE:
    case SIM_AUTH_REPLAYED:
    case SIM_AUTH_BAD_RESPONSE:
    case SIM_AUTH_ALGORITHM_NOT_OFFERED:
    case SIM_AUTH_QOP_MISSING:
    default:
      {
        g_autoptr(GPtrArray) challenges =
          sim_auth_challenge_full (auth, result == SIM_AUTH_STALE, src != NULL ? src->ip : NULL,
                                   TRUE);

        reason = g_strdup_printf ("the From claims a user of %s, so the proxy wants proof before "
                                  "it routes the %s: 407 Proxy Authentication Required "
                                  "(RFC 3261 §22.3)%s%s", policy->domain, request->sip_method,
                                  result == SIM_AUTH_NO_CREDENTIALS ? "" : "; ",
                                  result == SIM_AUTH_NO_CREDENTIALS
                                  ? "" : sim_auth_result_reason (result));
        trace_proxy_auth (self, request, "challenged", reason);
        reply_proxy_challenge (self, txn, request, challenges);
        return FALSE;
      }
    }

  /* The credentials are good; they must also be the From's own (as REGISTER, §10.3 step 4). */
  from_user = request->from->url->username;
  if (from_user == NULL || strcmp (from_user, claimed) != 0)
    {
      reason = g_strdup_printf ("%s authenticated, but the From says %s: a user may only send "
                                "requests as themselves (403, RFC 3261 §22.3, §16.3 step 6)",
                                claimed, from_user != NULL ? from_user : "nobody");
      trace_proxy_auth (self, request, "rejected", reason);
      _sim_proxy_reply (txn, 403, NULL);
      return FALSE;
    }

  osip_list_remove (&request->proxy_authorizations, position);
  osip_proxy_authorization_free (credentials);
  *auth_user = g_steal_pointer (&claimed);
  return TRUE;
}
