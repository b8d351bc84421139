/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "sim-proxy-private.h"

#include <gio/gio.h>
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
  SimAddr in;              /* our endpoint the request arrived on (for Record-Route) */
  gboolean record_route;   /* a dialog-creating INVITE we Record-Route: remember its dialog */
  char *dialog_key;        /* a BYE in a remembered dialog: forget it on the 2xx */
};

G_DEFINE_FINAL_TYPE (SimProxy, sim_proxy, G_TYPE_OBJECT)

static void
branch_free (Branch *branch)
{
  sim_clock_clear (_sim_proxy_clock (branch->ctx->proxy), &branch->timer_c);
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
  sim_clock_clear (_sim_proxy_clock (ctx->proxy), &ctx->linger);
  g_ptr_array_unref (ctx->branches);
  g_clear_pointer (&ctx->best, osip_message_free);
  sim_server_txn_unref (ctx->server);
  g_free (ctx->dialog_key);
  g_free (ctx);
}

SimClock *
_sim_proxy_clock (SimProxy *self)
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
  event->t = sim_clock_now (_sim_proxy_clock (self));
  event->node = g_strdup (sim_stack_get_node_name (self->stack));
  event->aor = g_strdup (aor);
  event->text = g_string_free (text, FALSE);
  sim_trace_emit (trace, event);
}

/*
 * A refusal of our own, unless @txn is NULL (an ACK, which is never answered).  It is sent
 * statelessly (RFC 3261 §8.2.7, §16.6): one packet, never retransmitted, nothing kept, and
 * its ACK is absorbed by the stack.  Kept statefully, one spoofed 220-byte INVITE would make
 * us send a dozen refusals (Timer G until Timer H) towards whoever its Via names; a
 * retransmitted request simply gets the same refusal again.
 */
static void
reply_with (SimServerTxn   *txn,
            osip_message_t *response)
{
  if (txn != NULL)
    sim_server_txn_respond_stateless (txn, response);
  else
    osip_message_free (response);
}

void
_sim_proxy_reply (SimServerTxn *txn,
                  int           status,
                  const char   *reason)
{
  osip_message_t *request = txn != NULL ? sim_server_txn_get_request (txn) : NULL;

  if (request != NULL)
    reply_with (txn, sim_message_new_response (request, status, reason,
                                               sim_server_txn_get_to_tag (txn)));
}

static guint16
uri_port (const osip_uri_t *uri)
{
  guint64 port = 5060;

  if (uri->port != NULL && !g_ascii_string_to_unsigned (uri->port, 10, 1, 65535, &port, NULL))
    return 0;
  return (guint16) port;
}

/* One of our endpoints: any listener, or any interface address of a wildcard listener. */
static gboolean
uri_is_us (SimProxy         *self,
           const osip_uri_t *uri)
{
  guint16 port;

  if (uri == NULL || uri->host == NULL)
    return FALSE;
  port = uri_port (uri);
  return port != 0 && sim_stack_is_local (self->stack, uri->host, port);
}

gboolean
_sim_proxy_uri_is_our_domain (SimProxy         *self,
                              const osip_uri_t *uri)
{
  guint16 port;

  if (uri->host == NULL)
    return FALSE;
  port = uri_port (uri);
  /* An unreadable port names none of our endpoints, but our domain is ours at any port. */
  if (port == 0)
    return g_ascii_strcasecmp (uri->host, sim_registrar_get_policy (self->registrar)->domain) == 0;
  return sim_registrar_is_our_host (self->registrar, uri->host, port);
}

static gboolean
host_equal (const char *a,
            const char *b)
{
  g_autoptr(GInetAddress) ia = NULL;
  g_autoptr(GInetAddress) ib = NULL;

  if (a == NULL || b == NULL)
    return FALSE;
  if (g_ascii_strcasecmp (a, b) == 0)
    return TRUE;
  /* IPv6 has many spellings of one address: compare the addresses. */
  ia = g_inet_address_new_from_string (a);
  ib = g_inet_address_new_from_string (b);
  return ia != NULL && ib != NULL && g_inet_address_equal (ia, ib);
}

/* Same user, host and port: the request is meant for the UA that gave @contact. */
gboolean
_sim_proxy_contact_matches (const char       *contact,
                            const osip_uri_t *target)
{
  osip_uri_t *uri = NULL;
  gboolean same;

  if (contact == NULL || target == NULL || target->host == NULL)
    return FALSE;
  /* Cheap test first for IPv4 literals (the usual Contact): every binding may be looked at. */
  if (strspn (target->host, "0123456789.") == strlen (target->host) &&
      strstr (contact, target->host) == NULL)
    return FALSE;
  osip_uri_init (&uri);
  same = osip_uri_parse (uri, contact) == 0 && g_strcmp0 (uri->username, target->username) == 0 &&
         host_equal (uri->host, target->host) && uri_port (uri) == uri_port (target);
  osip_uri_free (uri);
  return same;
}

/*
 * Where a relay would go is checked before anything is sent: never to us (an open port on our
 * own host), loopback, multicast, broadcast or the unspecified address, and only to an IP
 * literal (we resolve no names).  Bindings and remembered dialogs are not checked: a live
 * registration or a dialog we saw names them.
 */
static gboolean
relay_target_allowed (SimProxy      *self,
                      const SimAddr *addr)
{
  return sim_addr_is_unicast (addr) && !sim_stack_is_local (self->stack, addr->ip, 0);
}

/* ---------------------------------------------------------------------------------------- */
/* Forwarding                                                                                */

static void
add_record_route (osip_message_t *message,
                  const SimAddr  *endpoint)
{
  osip_record_route_t *rr = NULL;
  g_autofree char *text = NULL;
  char host[64];

  /* RFC 3261 §19.1.1: transport=tcp or transport=tls when we must be reached over TCP or
   * TLS; IPv6 in brackets.  A sip: URI with transport=tls (not sips:, RFC 5630 §3.1.2): the
   * hop to us is TLS, and we promise nothing about the hops beyond. */
  sim_addr_format (endpoint, host, sizeof host);
  text = g_strdup_printf ("<sip:%s%s;lr>", host,
                          endpoint->transport == SIM_TRANSPORT_TCP ? ";transport=tcp" :
                          endpoint->transport == SIM_TRANSPORT_TLS ? ";transport=tls" : "");
  osip_record_route_init (&rr);
  if (osip_record_route_parse (rr, text) != 0)
    {
      osip_record_route_free (rr);
      return;
    }
  /* Ours goes on top of any Record-Route added upstream (RFC 3261 §16.6 step 4). */
  osip_list_add (&message->record_routes, rr, 0);
}

/*
 * RFC 3261 §16.6 steps 1-4: copy, new Request-URI, Max-Forwards - 1, Record-Route.  With @in,
 * the request is Record-Routed with our endpoint it arrived on; if it leaves from another one
 * (@out: another transport or address family), both are recorded (RFC 5658 §4), the outgoing
 * one on top, so each side of the dialog reaches us over its own transport.
 */
static osip_message_t *
prepare_forward (SimProxy       *self,
                 osip_message_t *request,
                 const char     *target,
                 const SimAddr  *in,
                 const SimAddr  *out)
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
      /* sim_proxy_handle() wrote it back as a plain number from 1 to 255. */
      g_snprintf (value, sizeof value, "%d", MAX (atoi (mf->hvalue) - 1, 0));
      osip_free (mf->hvalue);
      mf->hvalue = osip_strdup (value);
    }
  else
    osip_message_set_max_forwards (copy, "70");
  if (in != NULL)
    {
      add_record_route (copy, in);
      if (out != NULL && !sim_addr_equal (in, out))
        add_record_route (copy, out);
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

/*
 * RFC 3261 §16.7 step 3: a response whose only Via is ours has no one upstream to go to.  A
 * UAS that answers with the Via of our CANCEL instead of its INVITE's sends such a 487; sent
 * on as it is, the caller would get a response without any Via.
 */
static gboolean
response_has_upstream (osip_message_t *response)
{
  return osip_list_size (&response->vias) >= 2;
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
        ctx->linger = sim_clock_add (_sim_proxy_clock (self), 64 * SIM_T1, context_linger_cb, ctx,
                                     NULL);
      return;
    }
  if (!sim_server_txn_has_final (ctx->server))
    {
      if (ctx->best != NULL && !response_has_upstream (ctx->best))
        {
          /* The caller still gets the status, in a response of our own to its request. */
          sim_stack_note (self->stack, "a %d response carried no Via but ours (RFC 3261 §16.7 step 3): "
                         "the caller gets our own %d", ctx->best->status_code,
                         ctx->best->status_code);
          sim_server_txn_reply (ctx->server, ctx->best->status_code, NULL);
        }
      else if (ctx->best != NULL)
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
          sim_clock_clear (_sim_proxy_clock (ctx->proxy), &branch->timer_c);
          branch->timer_c = sim_clock_add (_sim_proxy_clock (ctx->proxy), SIM_SEC (180), timer_c_cb,
                                           branch, NULL);
        }
      branch->provisional = TRUE;
      if (branch->cancel_pending)
        branch_send_cancel (branch);
      else if (status > 100 && !ctx->got_2xx && !ctx->cancelled && response_has_upstream (response))
        sim_server_txn_respond (ctx->server, strip_top_via (response));
      return;
    }

  if (branch->final_status == 0)
    branch->final_status = status;
  sim_clock_clear (_sim_proxy_clock (ctx->proxy), &branch->timer_c);

  if (status < 300)
    {
      /* RFC 3261 §16.7 step 5: every 2xx is forwarded at once. */
      gboolean first = !ctx->got_2xx;
      ctx->got_2xx = TRUE;
      /* Before the 2xx goes upstream, while the server transaction still holds the INVITE. */
      if (ctx->record_route)
        _sim_proxy_dialogs_remember (ctx->proxy, sim_server_txn_get_request (ctx->server), response,
                                     sim_server_txn_get_source (ctx->server), &branch->addr);
      if (ctx->dialog_key != NULL)
        {
          /* The BYE succeeded: the dialog is over. */
          _sim_proxy_dialogs_forget (ctx->proxy, ctx->dialog_key);
          g_clear_pointer (&ctx->dialog_key, g_free);
        }
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
                  const SimAddr  *record_route,
                  char           *dialog_key) /* transfer full, may be NULL */
{
  Context *ctx = g_new0 (Context, 1);

  ctx->proxy = self;
  ctx->server = sim_server_txn_ref (txn);
  ctx->branches = g_ptr_array_new_with_free_func ((GDestroyNotify) branch_free);
  ctx->is_invite = strcmp (request->sip_method, "INVITE") == 0;
  ctx->record_route = record_route != NULL;
  if (record_route != NULL)
    ctx->in = *record_route;
  /* Only a BYE ends the dialog it names; other in-dialog requests leave it alone. */
  if (strcmp (request->sip_method, "BYE") == 0)
    ctx->dialog_key = dialog_key;
  else
    g_free (dialog_key);
  g_hash_table_insert (self->contexts, txn, ctx);
  /* RFC 3261 §16.2: the 100 Trying goes upstream before the INVITE goes on. */
  sim_server_txn_send_trying (txn);

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
      const SimAddr *out = sim_stack_find_local (self->stack, branch->addr.transport, &branch->addr);
      osip_message_t *copy = prepare_forward (self, request, branch->target,
                                              record_route != NULL ? &ctx->in : NULL, out);
      branch->txn = sim_client_txn_ref (sim_stack_send_request (self->stack, copy, &branch->addr,
                                                                NULL, branch_response_cb, branch));
      if (ctx->is_invite)
        branch->timer_c = sim_clock_add (_sim_proxy_clock (self), SIM_SEC (180), timer_c_cb, branch,
                                         NULL);
    }
}

static void
handle_cancel (SimProxy       *self,
               SimServerTxn   *txn,
               osip_message_t *request,
               const SimAddr  *src)
{
  SimServerTxn *invite = sim_stack_find_invite_txn (self->stack, request);
  Context *ctx = invite ? g_hash_table_lookup (self->contexts, invite) : NULL;

  /*
   * RFC 3261 §9.2 matches a CANCEL on its Via branch alone, and a branch travels in clear: a
   * CANCEL from another address than the INVITE's (a stranger who sniffed it) matches nothing
   * here, so nobody can hang up someone else's ringing call.
   */
  if (invite != NULL && src != NULL &&
      strcmp (sim_server_txn_get_source (invite)->ip, src->ip) != 0)
    {
      sim_stack_note (self->stack, "CANCEL from %s for an INVITE that came from %s: it cancels "
                      "nothing (481)", src->ip, sim_server_txn_get_source (invite)->ip);
      invite = NULL;
    }
  if (invite == NULL)
    {
      _sim_proxy_reply (txn, 481, NULL);
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

/* Our endpoint the request arrived on, as a Record-Route can name it. */
static SimAddr
arrival_endpoint (SimProxy      *self,
                  const SimAddr *src)
{
  SimAddr in = *sim_stack_get_arrival (self->stack);
  g_autoptr(GInetAddress) ip = g_inet_address_new_from_string (in.ip);

  /*
   * A wildcard listener cannot be named, nor can the port of a TCP connection we opened: use
   * our listener of that transport and family closest to the sender.
   */
  if ((ip != NULL && g_inet_address_get_is_any (ip)) || !sim_stack_is_local (self->stack, in.ip, in.port))
    {
      const SimAddr *specific = sim_stack_find_local (self->stack, in.transport, src);
      if (specific != NULL)
        in = *specific;
    }
  return in;
}

/* RFC 3261 §16.4: removes our own entries (one, or two after RFC 5658) from the route set and
 * returns the first Route left, or NULL. */
static osip_route_t *
remove_own_routes (SimProxy       *self,
                   osip_message_t *req)
{
  osip_route_t *route;

  while ((route = osip_list_get (&req->routes, 0)) != NULL &&
         (uri_is_us (self, route->url) ||
          (route->url->username == NULL && _sim_proxy_uri_is_our_domain (self, route->url))))
    {
      osip_list_remove (&req->routes, 0);
      osip_route_free (route);
    }
  return osip_list_get (&req->routes, 0);
}

/*
 * Where a request for an AOR goes for @binding: where its REGISTER came from (NAT, RFC 3581 /
 * RFC 5626 §5), unless the policy asks for the letter of RFC 3261 (§16.6 step 7), the address
 * the Contact names (a Contact that names none keeps the flow).
 */
static void
binding_target (SimProxy         *self,
                const SimBinding *binding,
                SimAddr          *addr)
{
  osip_uri_t *uri = NULL;
  SimAddr named;

  *addr = binding->source;
  if (!sim_registrar_get_policy (self->registrar)->route_to_contact)
    return;
  osip_uri_init (&uri);
  if (osip_uri_parse (uri, binding->contact) == 0 && sim_uri_to_addr (uri, &named))
    *addr = named;
  osip_uri_free (uri);
}

/*
 * RFC 3261 §16.5: the target set of a request for a user of our domain comes from the location
 * service.  Appends each binding's Contact to @targets and where to send it to @addrs; FALSE
 * when the user has no binding, and then the request was answered (404 or 480).
 */
static gboolean
targets_from_location (SimProxy       *self,
                       SimServerTxn   *txn,
                       osip_message_t *req,
                       GPtrArray      *targets,
                       GArray         *addrs)
{
  g_autofree char *aor = sim_uri_to_aor (req->req_uri);
  GPtrArray *bindings = sim_location_lookup (sim_registrar_get_location (self->registrar), aor);

  if (bindings == NULL || bindings->len == 0)
    {
      gboolean known = sim_registrar_get_password (self->registrar, req->req_uri->username) != NULL;
      trace_lookup (self, aor, NULL, known ? "480 Temporarily Unavailable" : "404 Not Found");
      _sim_proxy_reply (txn, known ? 480 : 404, NULL);
      return FALSE;
    }
  trace_lookup (self, aor, bindings, NULL);
  for (guint i = 0; i < bindings->len; i++)
    {
      SimBinding *binding = bindings->pdata[i];
      SimAddr addr;

      binding_target (self, binding, &addr);
      g_ptr_array_add (targets, g_strdup (binding->contact));
      g_array_append_val (addrs, addr);
    }
  return TRUE;
}

/* A request no routing rule lets through: a note says why, a 403 answers it, nothing is sent.
 * @route is the first Route left, @next_uri where that Route or the Request-URI points. */
static void
refuse_route (SimProxy           *self,
              SimServerTxn       *txn,
              osip_message_t     *req,
              const osip_route_t *route,
              const osip_uri_t   *next_uri,
              gboolean            may_relay,
              gboolean            may_reach_binding)
{
  gboolean tagged = sim_message_to_tag (req) != NULL;
  /* In a dialog, the Request-URI is what must name a party. */
  g_autofree char *where = sim_uri_to_string (tagged && !may_relay ? req->req_uri : next_uri);

  sim_stack_note (self->stack, "%s for %s refused: %s, and this proxy relays %s (RFC 3261 §16.5)",
                 req->sip_method, where,
                 tagged ? (may_reach_binding
                           ? "it names no party of a dialog we Record-Routed and no registered Contact"
                           : "it names no party of a dialog we Record-Routed, and only a user "
                             "of ours who proved it may reach a registered Contact with a To tag")
                 : route != NULL ? "its Route is not us" : "it is not an address of our domain",
                 self->relay ? "only for authenticated users, to public addresses" : "for nobody");
  _sim_proxy_reply (txn, 403, tagged ? "Forbidden (not a party of a known dialog)"
                          : "Forbidden (not a relay)");
}


/*
 * Routing (RFC 3261 §16.4-16.5) once the request passed the checks of §16.3.  Out-of-dialog
 * requests go only to the location service's targets for our domain; requests for other
 * domains, or with a Route that is not us, are relayed only with the relay option on and for
 * an authenticated user (@auth_user), and never to our own, loopback, multicast, broadcast or
 * unspecified addresses.  In-dialog requests (@in_dialog) go only to a party of a dialog we
 * Record-Routed, over that party's flow.  A request with a To tag that matches no such dialog
 * never takes the location service's branch: it goes only to a live binding's Contact over
 * that binding's flow, and only for an authenticated user (or any user of ours when the
 * policy has no proxy authentication); an ACK that matches no dialog is dropped.  Everything
 * else is refused and nothing is sent.
 */
static void
proxy_route (SimProxy       *self,
             SimServerTxn   *txn,
             osip_message_t *req,
             const SimAddr  *src,
             gboolean        in_dialog,
             const char     *auth_user)
{
  osip_route_t *route;
  gboolean is_ack = strcmp (req->sip_method, "ACK") == 0;
  gboolean tagged = sim_message_to_tag (req) != NULL;
  gboolean may_relay = self->relay && auth_user != NULL;
  gboolean may_reach_binding = auth_user != NULL ||
                               (!_sim_proxy_auth_applies (self) &&
                                _sim_proxy_from_is_ours (self, req));
  g_autoptr(GPtrArray) targets = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GArray) addrs = g_array_new (FALSE, TRUE, sizeof (SimAddr));
  g_autofree char *dialog_key = NULL;
  const osip_uri_t *next_uri;
  SimAddr in, addr;
  gboolean record_route = FALSE;

  route = remove_own_routes (self, req);
  next_uri = route != NULL ? route->url : req->req_uri;

  if (is_ack && !in_dialog)
    {
      /* Nobody can be asked for credentials in an ACK (RFC 3261 §22.1): it goes nowhere. */
      g_autofree char *where = sim_uri_to_string (req->req_uri);
      sim_stack_note (self->stack, "ACK for %s dropped: it matches no dialog this proxy "
                      "Record-Routed", where);
      return;
    }
  if (!tagged && route == NULL && _sim_proxy_uri_is_our_domain (self, req->req_uri) &&
      req->req_uri->username != NULL)
    {
      if (!targets_from_location (self, txn, req, targets, addrs))
        return;
      /*
       * Only a dialog-creating INVITE is Record-Routed (RFC 3261 §16.6 step 4, §12.1), and
       * only while the dialog table has room: a dialog we could not remember would have its
       * ACK and BYE refused here, so it had better not pass through us at all.
       */
      record_route = strcmp (req->sip_method, "INVITE") == 0 && _sim_proxy_dialogs_have_room (self);
    }
  else if (route == NULL && _sim_proxy_uri_is_our_domain (self, req->req_uri) &&
           req->req_uri->username == NULL)
    {
      /* A request for the server itself; it holds no dialogs. */
      if (tagged)
        _sim_proxy_reply (txn, 481, NULL);
      else
        _sim_proxy_reply (txn, strcmp (req->sip_method, "OPTIONS") == 0 ? 200 : 405, NULL);
      return;
    }
  else if (in_dialog && _sim_proxy_dialogs_next_hop (self, req, req->req_uri, src, &addr, &dialog_key))
    {
      /*
       * Loose routing keeps the Request-URI: it is the remote target, the party's Contact
       * (RFC 3261 §12.2.1.1), even when a Route of another proxy remains below ours (one that
       * Record-Routed the INVITE before or after us, such as a phone's outbound proxy).  That
       * proxy is the party's flow: the INVITE or its 2xx came from it, so the flow decides
       * where the bytes go, and a Route alone never does.
       */
      g_ptr_array_add (targets, NULL);
      g_array_append_val (addrs, addr);
    }
  else if (tagged && may_reach_binding && _sim_proxy_binding_flow (self, req->req_uri, &addr))
    {
      /*
       * A To tag of a dialog we did not Record-Route (the table was full, or the dialog was
       * made around us): a user of ours, proven, may still reach a registered phone at the
       * Contact it registered, over the flow it registered from.
       */
      g_ptr_array_add (targets, NULL);
      g_array_append_val (addrs, addr);
    }
  else if (may_relay && sim_uri_to_addr (next_uri, &addr) && relay_target_allowed (self, &addr))
    {
      /* The relay option, for an authenticated user only: a foreign domain or Route. */
      g_ptr_array_add (targets, NULL);
      g_array_append_val (addrs, addr);
    }
  else
    {
      refuse_route (self, txn, req, route, next_uri, may_relay, may_reach_binding);
      return;
    }

  if (is_ack)
    {
      /* An ACK for a 2xx is forwarded statelessly (RFC 3261 §16.11). */
      osip_message_t *copy = prepare_forward (self, req, targets->pdata[0], NULL, NULL);
      addr = g_array_index (addrs, SimAddr, 0);
      sim_stack_add_via (self->stack, copy, NULL, addr.transport);
      sim_stack_send_stateless (self->stack, copy, &addr);
      return;
    }
  in = arrival_endpoint (self, src);
  forward_stateful (self, txn, req, targets, addrs, record_route ? &in : NULL,
                    g_steal_pointer (&dialog_key));
}

/* RFC 3261 §16.3 step 5: every option tag in Proxy-Require; we support none. */
static char *
proxy_require_tags (osip_message_t *request)
{
  g_autoptr(GString) tags = g_string_new (NULL);
  osip_header_t *header = NULL;

  for (int pos = 0;
       (pos = osip_message_header_get_byname (request, "proxy-require", pos, &header)) >= 0; pos++)
    {
      g_auto(GStrv) values = g_strsplit (header->hvalue != NULL ? header->hvalue : "", ",", -1);

      for (guint i = 0; values[i] != NULL; i++)
        {
          g_strstrip (values[i]);
          if (*values[i] == '\0')
            continue;
          if (tags->len > 0)
            g_string_append (tags, ", ");
          g_string_append (tags, values[i]);
        }
    }
  return tags->len > 0 ? g_string_free (g_steal_pointer (&tags), FALSE) : NULL;
}

/* RFC 3261 §16.3 step 4: a Via with our sent-by means the request has been here before. */
static gboolean
request_has_our_via (SimProxy       *self,
                     osip_message_t *request)
{
  for (int pos = 0; !osip_list_eol (&request->vias, pos); pos++)
    {
      osip_via_t *via = osip_list_get (&request->vias, pos);
      guint64 port = 5060;

      if (via == NULL || via->host == NULL)
        continue;
      if (via->port != NULL && !g_ascii_string_to_unsigned (via->port, 10, 1, 65535, &port, NULL))
        continue;
      if (sim_stack_is_local (self->stack, via->host, (guint16) port))
        return TRUE;
    }
  return FALSE;
}

void
sim_proxy_handle (SimProxy       *self,
                  SimServerTxn   *txn,
                  osip_message_t *request,
                  const SimAddr  *src)
{
  g_autoptr(osip_message_t) req = sim_message_clone (request);
  g_autofree char *unsupported = NULL;
  /* The user the request is proven to come from (_sim_proxy_authenticate()), or NULL. */
  g_autofree char *auth_user = NULL;
  osip_header_t *mf = NULL;
  const char *scheme;
  gboolean in_dialog;
  int side;

  g_return_if_fail (SIM_IS_PROXY (self));

  /* RFC 3261 §16.3 step 1: Max-Forwards is 1*DIGIT (§25.1); anything else is a 400.  1*DIGIT
   * has no length limit, so a long number is valid: it is read saturating at 255 (more hops
   * than any path has), never refused. */
  if (osip_message_get_max_forwards (req, 0, &mf) >= 0 && mf != NULL)
    {
      const char *digits = mf->hvalue != NULL ? g_strstrip (mf->hvalue) : "";
      guint hops = 0;
      char value[8];

      for (const char *p = digits; *p != '\0' && hops != G_MAXUINT; p++)
        hops = g_ascii_isdigit (*p) ? MIN (hops * 10 + (guint) (*p - '0'), 255) : G_MAXUINT;
      if (*digits == '\0' || hops == G_MAXUINT)
        {
          _sim_proxy_reply (txn, 400, "Bad Max-Forwards");
          return;
        }
      /* RFC 3261 §16.3 step 3. */
      if (hops == 0)
        {
          _sim_proxy_reply (txn, 483, NULL);
          return;
        }
      /* Written back in its plain form, so forwarding only decrements it. */
      g_snprintf (value, sizeof value, "%u", hops);
      osip_free (mf->hvalue);
      mf->hvalue = osip_strdup (value);
    }

  /* RFC 3261 §16.3 step 2: we serve sip: and sips: URIs only. */
  scheme = req->req_uri != NULL ? req->req_uri->scheme : NULL;
  if (scheme == NULL || (g_ascii_strcasecmp (scheme, "sip") != 0 && g_ascii_strcasecmp (scheme, "sips") != 0) ||
      req->req_uri->host == NULL)
    {
      _sim_proxy_reply (txn, 416, NULL);
      return;
    }

  /* RFC 3261 §16.3 step 4.  Since we never forward to ourselves, no spiral carries our Via. */
  if (request_has_our_via (self, req))
    {
      sim_stack_note (self->stack, "%s carries our own Via: a loop (RFC 3261 §16.3 step 4)",
                      req->sip_method);
      _sim_proxy_reply (txn, 482, NULL);
      return;
    }

  if (strcmp (req->sip_method, "CANCEL") == 0)
    {
      handle_cancel (self, txn, req, src);
      return;
    }

  /* RFC 3261 §16.3 step 5. */
  unsupported = proxy_require_tags (req);
  if (unsupported != NULL)
    {
      if (txn != NULL)
        {
          osip_message_t *response = sim_message_new_response (req, 420, NULL,
                                                               sim_server_txn_get_to_tag (txn));
          osip_message_set_header (response, "Unsupported", unsupported);
          reply_with (txn, response);
        }
      return;
    }

  /*
   * RFC 3261 §16.3 step 6: proxy authorization, before anything is routed.  Only a request
   * that a dialog we Record-Routed knows (Call-ID, both tags, and a party's Contact as its
   * Request-URI) skips it; a forged To tag does not.
   */
  in_dialog = _sim_proxy_dialogs_find_party (self, req, req->req_uri, src, &side) != NULL;
  if (!_sim_proxy_authenticate (self, txn, req, src, in_dialog, &auth_user))
    return;
  proxy_route (self, txn, req, src, in_dialog, auth_user);
}

void
sim_proxy_set_relay (SimProxy *self,
                     gboolean  relay)
{
  g_return_if_fail (SIM_IS_PROXY (self));
  self->relay = relay;
}

gboolean
sim_proxy_get_relay (SimProxy *self)
{
  g_return_val_if_fail (SIM_IS_PROXY (self), FALSE);
  return self->relay;
}

static void
sim_proxy_dispose (GObject *object)
{
  SimProxy *self = SIM_PROXY (object);

  g_clear_pointer (&self->contexts, g_hash_table_unref);
  g_clear_pointer (&self->dialogs, g_hash_table_unref);
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
  _sim_proxy_dialogs_init (self);
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
