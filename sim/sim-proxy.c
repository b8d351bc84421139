/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "sim-proxy.h"

#include <stdlib.h>
#include <string.h>

typedef struct _Context Context;

typedef struct {
  Context *ctx;
  SimClientTxn *txn;
  char *target;            /* Request-URI of this branch */
  SimAddr addr;
  int final_status;        /* 0 until a final response */
  gboolean provisional;    /* got a 1xx: may be cancelled now (RFC 3261 §9.1) */
  gboolean cancel_pending;
  gboolean cancel_sent;
  guint timer_c;           /* RFC 3261 §16.6 step 11 */
} Branch;

struct _Context {
  SimProxy *proxy;
  SimServerTxn *server;
  GPtrArray *branches;     /* Branch* */
  osip_message_t *best;    /* best final non-2xx so far */
  gboolean got_2xx;
  gboolean cancelled;
  gboolean is_invite;
  guint linger;            /* after a 2xx: keep forwarding its retransmissions for 64*T1 */
};

struct _SimProxy {
  GObject parent_instance;
  SimStack *stack;
  SimRegistrar *registrar;
  GHashTable *contexts;    /* SimServerTxn* -> Context* */
};

G_DEFINE_FINAL_TYPE (SimProxy, sim_proxy, G_TYPE_OBJECT)

static SimClock *proxy_clock (SimProxy *self);

static void
branch_free (Branch *branch)
{
  sim_clock_clear (proxy_clock (branch->ctx->proxy), &branch->timer_c);
  if (branch->txn != NULL)
    {
      sim_client_txn_detach (branch->txn);
      sim_client_txn_unref (branch->txn);
    }
  g_free (branch->target);
  g_free (branch);
}

static void
context_free (Context *ctx)
{
  sim_clock_clear (proxy_clock (ctx->proxy), &ctx->linger);
  g_ptr_array_unref (ctx->branches);
  g_clear_pointer (&ctx->best, osip_message_free);
  sim_server_txn_unref (ctx->server);
  g_free (ctx);
}

static SimClock *
proxy_clock (SimProxy *self)
{
  return sim_stack_get_clock (self->stack);
}

static void
trace_lookup (SimProxy   *self,
              const char *aor,
              GPtrArray  *bindings,
              const char *outcome)
{
  SimTrace *trace = sim_stack_get_trace (self->stack);
  SimEvent *event;
  GString *text;

  if (!sim_trace_is_enabled (trace))
    return;
  text = g_string_new (NULL);
  if (bindings == NULL || bindings->len == 0)
    g_string_append_printf (text, "no binding for %s: %s", aor, outcome);
  else
    {
      g_string_append_printf (text, "%u contact%s for %s:", bindings->len,
                              bindings->len == 1 ? "" : "s", aor);
      for (guint i = 0; i < bindings->len; i++)
        g_string_append_printf (text, "%s %s", i ? "," : "",
                                ((SimBinding *) bindings->pdata[i])->contact);
      if (bindings->len > 1)
        g_string_append (text, " (forking to all in parallel)");
    }
  event = sim_event_new (SIM_EVENT_LOOKUP, bindings && bindings->len ? "found" : "not-found");
  event->t = sim_clock_now (proxy_clock (self));
  event->node = g_strdup (sim_stack_get_node_name (self->stack));
  event->aor = g_strdup (aor);
  event->text = g_string_free (text, FALSE);
  sim_trace_emit (trace, event);
}

static gboolean
uri_is_us (SimProxy         *self,
           const osip_uri_t *uri)
{
  const SimAddr *local = sim_stack_get_local (self->stack);
  SimAddr addr;

  return sim_uri_to_addr (uri, &addr) && strcmp (addr.ip, local->ip) == 0 && addr.port == local->port;
}

static gboolean
uri_is_our_domain (SimProxy         *self,
                   const osip_uri_t *uri)
{
  const SimRegistrarPolicy *policy = sim_registrar_get_policy (self->registrar);

  return uri->host != NULL && (g_ascii_strcasecmp (uri->host, policy->domain) == 0 || uri_is_us (self, uri));
}

/* RFC 3261 §16.6 steps 1-4: copy, new Request-URI, Max-Forwards - 1, Record-Route. */
static osip_message_t *
prepare_forward (SimProxy       *self,
                 osip_message_t *request,
                 const char     *target,
                 gboolean        record_route)
{
  osip_message_t *copy = sim_message_clone (request);
  osip_header_t *mf = NULL;

  if (target != NULL)
    {
      osip_uri_t *uri = NULL;
      osip_uri_init (&uri);
      if (osip_uri_parse (uri, target) == 0)
        {
          osip_uri_free (copy->req_uri);
          copy->req_uri = uri;
        }
      else
        osip_uri_free (uri);
    }
  if (osip_message_get_max_forwards (copy, 0, &mf) >= 0 && mf != NULL && mf->hvalue != NULL)
    {
      char value[16];
      g_snprintf (value, sizeof value, "%d", MAX (atoi (mf->hvalue) - 1, 0));
      osip_free (mf->hvalue);
      mf->hvalue = osip_strdup (value);
    }
  else
    osip_message_set_max_forwards (copy, "70");
  if (record_route)
    {
      char host[64];
      g_autofree char *rr = NULL;
      sim_addr_format (sim_stack_get_local (self->stack), host, sizeof host);
      rr = g_strdup_printf ("<sip:%s;lr>", host);
      osip_message_set_record_route (copy, rr);
    }
  return copy;
}

static osip_message_t *
strip_top_via (osip_message_t *response)
{
  osip_message_t *copy = sim_message_clone (response);
  osip_via_t *via = osip_list_get (&copy->vias, 0);

  /* RFC 3261 §16.7 step 3: remove our own Via before sending the response upstream. */
  if (via != NULL)
    {
      osip_list_remove (&copy->vias, 0);
      osip_via_free (via);
    }
  return copy;
}

static void
context_linger_cb (gpointer data)
{
  Context *ctx = data;

  ctx->linger = 0;
  g_hash_table_remove (ctx->proxy->contexts, ctx->server);
}

static void
context_finish_if_done (Context *ctx)
{
  SimProxy *self = ctx->proxy;

  for (guint i = 0; i < ctx->branches->len; i++)
    if (((Branch *) ctx->branches->pdata[i])->final_status == 0)
      return;
  if (ctx->got_2xx)
    {
      /*
       * RFC 3261 §16.7 step 5 and RFC 6026 §7.2: retransmissions of the 2xx must still be
       * forwarded (the first one may have been lost on the way to the caller).
       */
      if (ctx->linger == 0)
        ctx->linger = sim_clock_add (proxy_clock (self), 64 * SIM_T1, context_linger_cb, ctx, NULL);
      return;
    }
  if (!sim_server_txn_has_final (ctx->server))
    {
      if (ctx->best != NULL)
        {
          osip_message_t *best = strip_top_via (ctx->best);
          /* RFC 3261 §16.7 step 6: a 503 from downstream must not make the caller avoid us. */
          if (best->status_code == 503)
            {
              osip_message_set_status_code (best, 500);
              osip_free (best->reason_phrase);
              best->reason_phrase = osip_strdup (sim_message_reason_phrase (500));
            }
          sim_server_txn_respond (ctx->server, best);
        }
      else
        sim_server_txn_reply (ctx->server, 480, NULL);
    }
  g_hash_table_remove (self->contexts, ctx->server);
}

static void cancel_response_cb (SimStack *stack, SimClientTxn *txn, osip_message_t *response,
                                gpointer user_data) { }

static void
branch_send_cancel (Branch *branch)
{
  SimProxy *self = branch->ctx->proxy;

  branch->cancel_pending = FALSE;
  if (branch->cancel_sent)
    return;
  branch->cancel_sent = TRUE;
  /* RFC 3261 §9.1: the CANCEL carries the branch of the INVITE it cancels. */
  sim_stack_send_request (self->stack, sim_message_new_cancel (sim_client_txn_get_request (branch->txn)),
                          &branch->addr, sim_client_txn_get_branch (branch->txn), cancel_response_cb,
                          NULL);
}

static void
context_cancel_others (Context *ctx,
                       Branch  *winner)
{
  for (guint i = 0; i < ctx->branches->len; i++)
    {
      Branch *branch = ctx->branches->pdata[i];
      if (branch == winner || branch->final_status != 0 || branch->txn == NULL)
        continue;
      /* RFC 3261 §9.1: only a branch that has answered provisionally can be cancelled yet. */
      if (branch->provisional)
        branch_send_cancel (branch);
      else
        branch->cancel_pending = TRUE;
    }
}

/* RFC 3261 §16.8: a branch that rings too long is cancelled, as if the caller had given up. */
static void
timer_c_cb (gpointer data)
{
  Branch *branch = data;

  branch->timer_c = 0;
  if (branch->final_status == 0 && branch->txn != NULL)
    branch_send_cancel (branch);
}

static void
branch_response_cb (SimStack       *stack,
                    SimClientTxn   *txn,
                    osip_message_t *response,
                    gpointer        user_data)
{
  Branch *branch = user_data;
  Context *ctx = branch->ctx;
  int status = response->status_code;

  if (status < 200)
    {
      /* RFC 3261 §16.7 step 2: a provisional response above 100 restarts Timer C. */
      if (status > 100 && branch->timer_c != 0)
        {
          sim_clock_clear (proxy_clock (ctx->proxy), &branch->timer_c);
          branch->timer_c = sim_clock_add (proxy_clock (ctx->proxy), SIM_SEC (180), timer_c_cb,
                                           branch, NULL);
        }
      branch->provisional = TRUE;
      if (branch->cancel_pending)
        branch_send_cancel (branch);
      else if (status > 100 && !ctx->got_2xx && !ctx->cancelled)
        sim_server_txn_respond (ctx->server, strip_top_via (response));
      return;
    }

  if (branch->final_status == 0)
    branch->final_status = status;
  sim_clock_clear (proxy_clock (ctx->proxy), &branch->timer_c);

  if (status < 300)
    {
      /* RFC 3261 §16.7 step 5: every 2xx is forwarded at once. */
      gboolean first = !ctx->got_2xx;
      ctx->got_2xx = TRUE;
      if (first)
        sim_server_txn_respond (ctx->server, strip_top_via (response));
      else
        sim_stack_send_stateless (ctx->proxy->stack, strip_top_via (response),
                                  sim_server_txn_get_source (ctx->server));
      if (first && ctx->is_invite)
        context_cancel_others (ctx, branch);
    }
  else if (ctx->best == NULL ||
           /* RFC 3261 §16.7 step 6: prefer a 6xx, otherwise the lowest class. */
           (status >= 600 && ctx->best->status_code < 600) ||
           (ctx->best->status_code < 600 && status / 100 < ctx->best->status_code / 100))
    {
      g_clear_pointer (&ctx->best, osip_message_free);
      ctx->best = sim_message_clone (response);
    }
  /* RFC 3261 §16.7 step 5: after a 6xx the other branches are cancelled. */
  if (status >= 600 && ctx->is_invite)
    context_cancel_others (ctx, branch);
  context_finish_if_done (ctx);
}

static void
forward_stateful (SimProxy       *self,
                  SimServerTxn   *txn,
                  osip_message_t *request,
                  GPtrArray      *targets,    /* char* URIs */
                  GArray         *addrs,      /* SimAddr */
                  gboolean        record_route)
{
  Context *ctx = g_new0 (Context, 1);

  ctx->proxy = self;
  ctx->server = sim_server_txn_ref (txn);
  ctx->branches = g_ptr_array_new_with_free_func ((GDestroyNotify) branch_free);
  ctx->is_invite = strcmp (request->sip_method, "INVITE") == 0;
  g_hash_table_insert (self->contexts, txn, ctx);

  for (guint i = 0; i < targets->len; i++)
    {
      Branch *branch = g_new0 (Branch, 1);
      branch->ctx = ctx;
      branch->target = g_strdup (targets->pdata[i]);
      branch->addr = g_array_index (addrs, SimAddr, i);
      g_ptr_array_add (ctx->branches, branch);
    }
  for (guint i = 0; i < ctx->branches->len; i++)
    {
      Branch *branch = ctx->branches->pdata[i];
      osip_message_t *copy = prepare_forward (self, request, branch->target, record_route);
      branch->txn = sim_client_txn_ref (sim_stack_send_request (self->stack, copy, &branch->addr,
                                                                NULL, branch_response_cb, branch));
      if (ctx->is_invite)
        branch->timer_c = sim_clock_add (proxy_clock (self), SIM_SEC (180), timer_c_cb, branch, NULL);
    }
}

static void
handle_cancel (SimProxy       *self,
               SimServerTxn   *txn,
               osip_message_t *request)
{
  SimServerTxn *invite = sim_stack_find_invite_txn (self->stack, request);
  Context *ctx = invite ? g_hash_table_lookup (self->contexts, invite) : NULL;

  if (invite == NULL)
    {
      sim_server_txn_reply (txn, 481, NULL);
      return;
    }
  /* RFC 3261 §16.10: answer the CANCEL, then cancel every pending branch. */
  sim_server_txn_respond (txn, sim_message_new_response (request, 200, NULL,
                                                         sim_server_txn_get_to_tag (invite)));
  if (ctx == NULL)
    return;  /* the INVITE was already answered: nothing left to cancel */
  ctx->cancelled = TRUE;
  context_cancel_others (ctx, NULL);
}

/* ---------------------------------------------------------------------------------------- */
/* Proxy authentication (RFC 3261 §22.3)                                                     */

static const char *
lookup_password_cb (const char *username,
                    gpointer    user_data)
{
  return sim_registrar_get_password (user_data, username);
}

/* Is the From of @request one of our addresses-of-record?  The domain, or our own address
 * whatever the port, since a phone configured with the server's IP shows that as its domain. */
static gboolean
from_is_ours (SimProxy       *self,
              osip_message_t *request)
{
  const SimRegistrarPolicy *policy = sim_registrar_get_policy (self->registrar);
  const char *host;

  if (request->from == NULL || request->from->url == NULL || request->from->url->host == NULL)
    return FALSE;
  host = request->from->url->host;
  return g_ascii_strcasecmp (host, policy->domain) == 0 ||
         g_ascii_strcasecmp (host, sim_stack_get_local (self->stack)->ip) == 0 ||
         uri_is_our_domain (self, request->from->url);
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
  event->t = sim_clock_now (proxy_clock (self));
  event->node = g_strdup (sim_stack_get_node_name (self->stack));
  if (request->from != NULL && request->from->url != NULL)
    event->aor = sim_uri_to_aor (request->from->url);
  event->text = g_strdup (reason);
  sim_trace_emit (trace, event);
}

/*
 * The 407 Proxy Authentication Required, with one Proxy-Authenticate per challenge
 * (RFC 3261 §22.3).  Every 407 leaves through here, so how it is sent (statefully, in the
 * server transaction, for now) is decided in this one place.
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
  sim_server_txn_respond (txn, response);
}

/*
 * RFC 3261 §16.3 step 6 and §22.3: an out-of-dialog request that claims one of our users as
 * its From must prove it with Proxy-Authorization, and the proven user must be the From's.
 * In-dialog requests (a To tag) belong to a call the proxy admitted already; ACK cannot be
 * answered and CANCEL "cannot be challenged" (RFC 3261 §22.1) and only ends a transaction the
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
static gboolean
proxy_authenticate (SimProxy        *self,
                    SimServerTxn    *txn,
                    osip_message_t  *request,
                    const SimAddr   *src,
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
  if (txn == NULL || !policy->require_auth || !policy->proxy_auth || auth == NULL ||
      strcmp (request->sip_method, "ACK") == 0 || strcmp (request->sip_method, "CANCEL") == 0 ||
      sim_message_to_tag (request) != NULL || !from_is_ours (self, request))
    return TRUE;
  /* A request for the server itself (no user part: an OPTIONS keep-alive) is answered here
   * and reaches nobody, so there is no identity to protect; Kamailio's default configuration
   * exempts the same keep-alive. */
  if (request->req_uri != NULL && request->req_uri->username == NULL &&
      uri_is_our_domain (self, request->req_uri) && osip_list_size (&request->routes) == 0)
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
      sim_server_txn_reply (txn, 400, "Bad Proxy-Authorization");
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
      sim_server_txn_reply (txn, 403, NULL);
      return FALSE;
    }

  osip_list_remove (&request->proxy_authorizations, position);
  osip_proxy_authorization_free (credentials);
  *auth_user = g_steal_pointer (&claimed);
  return TRUE;
}

void
sim_proxy_handle (SimProxy       *self,
                  SimServerTxn   *txn,
                  osip_message_t *request,
                  const SimAddr  *src)
{
  g_autoptr(osip_message_t) req = sim_message_clone (request);
  osip_header_t *mf = NULL;
  osip_route_t *route;
  gboolean is_ack = strcmp (req->sip_method, "ACK") == 0;
  g_autoptr(GPtrArray) targets = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GArray) addrs = g_array_new (FALSE, TRUE, sizeof (SimAddr));
  gboolean record_route = FALSE;
  /* The user the request is proven to come from (proxy_authenticate()), or NULL. */
  g_autofree char *auth_user = NULL;

  /* RFC 3261 §16.3 step 3: Max-Forwards. */
  if (osip_message_get_max_forwards (req, 0, &mf) >= 0 && mf != NULL && mf->hvalue != NULL &&
      atoi (mf->hvalue) <= 0)
    {
      if (txn != NULL)
        sim_server_txn_reply (txn, 483, NULL);
      return;
    }

  /* RFC 3261 §16.3 step 6: proxy authorization, before anything is routed. */
  if (!proxy_authenticate (self, txn, req, src, &auth_user))
    return;

  if (!is_ack && strcmp (req->sip_method, "CANCEL") == 0)
    {
      handle_cancel (self, txn, req);
      return;
    }

  /* RFC 3261 §16.4: remove our own entry from the top of the route set. */
  while ((route = osip_list_get (&req->routes, 0)) != NULL &&
         (uri_is_us (self, route->url) ||
          (route->url->username == NULL && uri_is_our_domain (self, route->url))))
    {
      osip_list_remove (&req->routes, 0);
      osip_route_free (route);
    }

  if ((route = osip_list_get (&req->routes, 0)) != NULL)
    {
      /* Loose routing: the next hop is the next Route; the Request-URI stays. */
      SimAddr addr;
      if (!sim_uri_to_addr (route->url, &addr))
        {
          if (txn != NULL)
            sim_server_txn_reply (txn, 400, "Bad Route");
          return;
        }
      g_ptr_array_add (targets, NULL);
      g_array_append_val (addrs, addr);
    }
  else if (uri_is_our_domain (self, req->req_uri) && req->req_uri->username != NULL)
    {
      /* RFC 3261 §16.5: the target set comes from the location service. */
      g_autofree char *aor = sim_uri_to_aor (req->req_uri);
      GPtrArray *bindings = sim_location_lookup (sim_registrar_get_location (self->registrar), aor);

      if (bindings == NULL || bindings->len == 0)
        {
          gboolean known = sim_registrar_get_password (self->registrar, req->req_uri->username) != NULL;
          trace_lookup (self, aor, NULL, known ? "480 Temporarily Unavailable" : "404 Not Found");
          if (txn != NULL)
            sim_server_txn_reply (txn, known ? 480 : 404, NULL);
          return;
        }
      trace_lookup (self, aor, bindings, NULL);
      for (guint i = 0; i < bindings->len; i++)
        {
          SimBinding *binding = bindings->pdata[i];
          /* Send to where the REGISTER came from (NAT, RFC 3581 / RFC 5626 §5). */
          SimAddr addr = binding->source;
          g_ptr_array_add (targets, g_strdup (binding->contact));
          g_array_append_val (addrs, addr);
        }
      record_route = strcmp (req->sip_method, "INVITE") == 0;
    }
  else if (uri_is_our_domain (self, req->req_uri))
    {
      /* A request for the server itself. */
      if (txn != NULL)
        sim_server_txn_reply (txn, strcmp (req->sip_method, "OPTIONS") == 0 ? 200 : 405, NULL);
      return;
    }
  else
    {
      SimAddr addr;
      if (!sim_uri_to_addr (req->req_uri, &addr))
        {
          if (txn != NULL)
            sim_server_txn_reply (txn, 416, NULL);
          return;
        }
      g_ptr_array_add (targets, NULL);
      g_array_append_val (addrs, addr);
    }

  if (is_ack)
    {
      /* An ACK for a 2xx is forwarded statelessly (RFC 3261 §16.11). */
      osip_message_t *copy = prepare_forward (self, req, targets->pdata[0], FALSE);
      SimAddr addr = g_array_index (addrs, SimAddr, 0);
      sim_stack_add_via (self->stack, copy, NULL, addr.transport);
      sim_stack_send_stateless (self->stack, copy, &addr);
      return;
    }
  forward_stateful (self, txn, req, targets, addrs, record_route);
}

static void
sim_proxy_dispose (GObject *object)
{
  SimProxy *self = SIM_PROXY (object);

  g_clear_pointer (&self->contexts, g_hash_table_unref);
  g_clear_object (&self->stack);
  g_clear_object (&self->registrar);
  G_OBJECT_CLASS (sim_proxy_parent_class)->dispose (object);
}

static void
sim_proxy_class_init (SimProxyClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = sim_proxy_dispose;
}

static void
sim_proxy_init (SimProxy *self)
{
  self->contexts = g_hash_table_new_full (NULL, NULL, NULL, (GDestroyNotify) context_free);
}

SimProxy *
sim_proxy_new (SimStack     *stack,
               SimRegistrar *registrar)
{
  SimProxy *self = g_object_new (SIM_TYPE_PROXY, NULL);

  self->stack = g_object_ref (stack);
  self->registrar = g_object_ref (registrar);
  /* A proxy does not retransmit 2xx responses; the UAS core does (RFC 3261 §16.7 step 10). */
  sim_stack_set_retransmit_2xx (stack, FALSE);
  return self;
}
