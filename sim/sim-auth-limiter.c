/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "sim-auth-limiter.h"

#include <string.h>

/*
 * Moved out of sim-server.c so that a SimWorld on real sockets (the GUI's live mode, `serve
 * --scenario`) is guarded exactly as `serve` is.
 */

typedef struct {
  GArray *failures;        /* SimTime of each wrong digest within the window */
  SimTime blocked_until;
} Offender;

/* Offenders are keyed "ip\nuser"; a claimed user name longer than this is cut for the key. */
#define OFFENDER_USER_MAX 64

struct _SimAuthLimiter {
  SimStack *stack;           /* the clock, the trace and the node name refusals are traced as */
  SimAuth *auth;
  guint max_failures;
  SimTime window;
  SimTime block;
  GHashTable *offenders;     /* "ip\nuser" -> Offender*, at most SIM_AUTH_LIMITER_MAX_OFFENDERS */
};

static void
offender_free (Offender *offender)
{
  g_array_unref (offender->failures);
  g_free (offender);
}

static SimTime
now (SimAuthLimiter *self)
{
  return sim_clock_now (sim_stack_get_clock (self->stack));
}

static void
drop_old_failures (Offender *offender,
                   SimTime   since)
{
  guint n = 0;

  while (n < offender->failures->len && g_array_index (offender->failures, SimTime, n) < since)
    n++;
  if (n > 0)
    g_array_remove_range (offender->failures, 0, n);
}

static void
prune_offenders (SimAuthLimiter *self,
                 SimTime         t)
{
  GHashTableIter iter;
  Offender *offender;

  g_hash_table_iter_init (&iter, self->offenders);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &offender))
    {
      drop_old_failures (offender, t - self->window);
      if (offender->failures->len == 0 && offender->blocked_until <= t)
        g_hash_table_iter_remove (&iter);
    }
}

/* "address\nuser": failures are counted per address (sim_addr_source_key(), shared with the
 * stack's fair shares of transactions) and claimed user, so a stranger guessing one user's
 * password from a shared (NAT) address does not lock the others out. */
static char *
offender_key (const char *ip,
              const char *user)
{
  g_autofree char *client = sim_addr_source_key (ip);

  return g_strdup_printf ("%s\n%.*s", client, OFFENDER_USER_MAX, user != NULL ? user : "");
}

/* Makes room for one more offender: first the lapsed ones go, then (only under a flood of
 * invented user names) the one that matters least: unblocked before blocked, older first. */
static void
make_room_for_offender (SimAuthLimiter *self,
                        SimTime         t)
{
  GHashTableIter iter;
  const char *key, *victim = NULL;
  Offender *offender, *worst = NULL;

  if (g_hash_table_size (self->offenders) < SIM_AUTH_LIMITER_MAX_OFFENDERS)
    return;
  prune_offenders (self, t);
  if (g_hash_table_size (self->offenders) < SIM_AUTH_LIMITER_MAX_OFFENDERS)
    return;
  g_hash_table_iter_init (&iter, self->offenders);
  while (g_hash_table_iter_next (&iter, (gpointer *) &key, (gpointer *) &offender))
    {
      gboolean blocked = offender->blocked_until > t;
      gboolean worst_blocked = worst != NULL && worst->blocked_until > t;
      SimTime last = offender->failures->len > 0
                     ? g_array_index (offender->failures, SimTime, offender->failures->len - 1) : 0;
      SimTime worst_last = worst != NULL && worst->failures->len > 0
                           ? g_array_index (worst->failures, SimTime, worst->failures->len - 1) : 0;

      if (worst == NULL || (!blocked && worst_blocked) ||
          (blocked == worst_blocked &&
           (blocked ? offender->blocked_until < worst->blocked_until : last < worst_last)))
        {
          worst = offender;
          victim = key;
        }
    }
  if (victim != NULL)
    g_hash_table_remove (self->offenders, victim);
}

static void
record_failure (SimAuthLimiter *self,
                const char     *ip,
                const char     *user)
{
  SimTime t = now (self);
  g_autofree char *key = offender_key (ip, user);
  Offender *offender = g_hash_table_lookup (self->offenders, key);

  if (offender == NULL)
    {
      make_room_for_offender (self, t);
      offender = g_new0 (Offender, 1);
      offender->failures = g_array_new (FALSE, FALSE, sizeof (SimTime));
      g_hash_table_insert (self->offenders, g_steal_pointer (&key), offender);
    }
  drop_old_failures (offender, t - self->window);
  g_array_append_val (offender->failures, t);
  if (offender->failures->len >= self->max_failures)
    {
      offender->blocked_until = t + self->block;
      g_array_set_size (offender->failures, 0);
      sim_stack_note (self->stack, "%u failed authentications as '%.*s' from %s within %.0f s: "
                      "that user's requests from that address are answered 403 for %.0f s "
                      "(other users at the same address are not affected)", self->max_failures,
                      OFFENDER_USER_MAX, user ? user : "?", ip,
                      SIM_TIME_TO_SECONDS (self->window), SIM_TIME_TO_SECONDS (self->block));
    }
}

/* SimAuth's verdict hook: REGISTER (401) and proxied requests (407) alike. */
static void
auth_verdict_cb (SimAuth       *auth,
                 SimAuthResult  result,
                 const char    *username,
                 const char    *client,
                 gpointer       user_data)
{
  SimAuthLimiter *self = user_data;

  /* A wrong digest (wrong password or unknown user) is the verdict that costs an attacker
   * nothing but a challenge to repeat. */
  if (self->max_failures > 0 && client != NULL && result == SIM_AUTH_BAD_RESPONSE)
    record_failure (self, client, username);
}

/* A digest username as SimAuth reads it: libosip2 keeps the quotes and escapes, undone here
 * as RFC 3261 §25.1 quoted-pair, or "te\\acher" would be counted as teacher but never blocked
 * as such. */
static char *
unquote_username (const char *username)
{
  GString *out;

  if (username[0] != '"')
    return g_strdup (username);
  out = g_string_new (NULL);
  for (const char *p = username + 1; *p != '\0' && *p != '"'; p++)
    {
      if (*p == '\\' && p[1] != '\0')
        p++;
      g_string_append_c (out, *p);
    }
  return g_string_free (out, FALSE);
}

/*
 * The offender entry that blocks @request from @src now, or NULL; @user gets the name it is
 * blocked as.  Every user named by the credentials the request could be verified with counts:
 * Authorization for a REGISTER, Proxy-Authorization for anything else the proxy may
 * authenticate, with or without a To tag (a tagged request of no known dialog is challenged
 * like an out-of-dialog one), whatever their realm or order, so neither a To tag nor a decoy
 * credential first in the list slips a blocked guesser past.  ACK and CANCEL are never
 * verified, so never refused here.
 */
static Offender *
find_block (SimAuthLimiter  *self,
            osip_message_t  *request,
            const SimAddr   *src,
            char           **user)
{
  const osip_list_t *list;

  *user = NULL;
  if (self->max_failures == 0 || g_hash_table_size (self->offenders) == 0)
    return NULL;
  if (strcmp (request->sip_method, "REGISTER") == 0)
    list = &request->authorizations;
  else if (strcmp (request->sip_method, "ACK") == 0 || strcmp (request->sip_method, "CANCEL") == 0)
    return NULL;
  else
    list = &request->proxy_authorizations;

  for (int pos = 0; !osip_list_eol (list, pos); pos++)
    {
      osip_authorization_t *credentials = osip_list_get (list, pos);
      g_autofree char *name = NULL;
      g_autofree char *key = NULL;
      Offender *offender;

      if (credentials == NULL || credentials->username == NULL)
        continue;
      name = unquote_username (credentials->username);
      key = offender_key (src->ip, name);
      offender = g_hash_table_lookup (self->offenders, key);
      if (offender != NULL && offender->blocked_until > now (self))
        {
          *user = g_steal_pointer (&name);
          return offender;
        }
    }
  return NULL;
}

static void
reply_blocked (SimAuthLimiter *self,
               SimServerTxn   *txn,
               osip_message_t *request,
               const SimAddr  *src,
               Offender       *offender,
               const char     *user)
{
  SimTrace *trace = sim_stack_get_trace (self->stack);
  SimTime left = offender->blocked_until - now (self);

  if (sim_trace_is_enabled (trace))
    {
      SimEvent *event = sim_event_new (SIM_EVENT_BINDING, "rejected");
      event->t = now (self);
      event->node = g_strdup (sim_stack_get_node_name (self->stack));
      if (request->to != NULL && request->to->url != NULL)
        event->aor = sim_uri_to_aor (request->to->url);
      event->call_id = sim_message_call_id (request);
      event->cseq = g_strdup_printf ("%u %s", sim_message_cseq_number (request),
                                     request->sip_method);
      event->src = *src;
      event->reason = g_strdup_printf ("%s sent too many wrong passwords as '%.*s'; that user's "
                                       "requests from there are refused for another %.0f s (a "
                                       "guard against password guessing, not part of RFC 3261)",
                                       src->ip, OFFENDER_USER_MAX, user,
                                       SIM_TIME_TO_SECONDS (left) + 0.5);
      event->text = g_strdup ("403 Too Many Failed Authentications");
      sim_trace_emit (trace, event);
    }
  /* A refusal of our own, like the challenges: sent once, nothing kept (RFC 3261 §8.2.7). */
  sim_server_txn_respond_stateless (txn, sim_message_new_response (request, 403,
                                                                   "Too Many Failed Authentications",
                                                                   sim_server_txn_get_to_tag (txn)));
}

gboolean
sim_auth_limiter_refuse (SimAuthLimiter *self,
                         SimServerTxn   *txn,
                         osip_message_t *request,
                         const SimAddr  *src)
{
  g_autofree char *user = NULL;
  Offender *offender;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (request != NULL && src != NULL, FALSE);

  if (txn == NULL)
    return FALSE;
  offender = find_block (self, request, src, &user);
  if (offender == NULL)
    return FALSE;
  reply_blocked (self, txn, request, src, offender, user);
  return TRUE;
}

SimAuthLimiter *
sim_auth_limiter_new (SimStack *stack,
                      SimAuth  *auth)
{
  SimAuthLimiter *self;

  g_return_val_if_fail (SIM_IS_STACK (stack), NULL);
  g_return_val_if_fail (SIM_IS_AUTH (auth), NULL);

  self = g_new0 (SimAuthLimiter, 1);
  self->stack = g_object_ref (stack);
  self->auth = g_object_ref (auth);
  self->offenders = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                           (GDestroyNotify) offender_free);
  self->max_failures = SIM_AUTH_LIMITER_DEFAULT_MAX_FAILURES;
  self->window = SIM_AUTH_LIMITER_DEFAULT_WINDOW;
  self->block = SIM_AUTH_LIMITER_DEFAULT_BLOCK;
  sim_auth_set_verdict_func (auth, auth_verdict_cb, self);
  return self;
}

void
sim_auth_limiter_free (SimAuthLimiter *self)
{
  if (self == NULL)
    return;
  sim_auth_set_verdict_func (self->auth, NULL, NULL);
  g_clear_object (&self->auth);
  g_clear_object (&self->stack);
  g_clear_pointer (&self->offenders, g_hash_table_unref);
  g_free (self);
}

void
sim_auth_limiter_set_limit (SimAuthLimiter *self,
                            guint           max_failures,
                            SimTime         window,
                            SimTime         block)
{
  g_return_if_fail (self != NULL);

  self->max_failures = max_failures;
  self->window = window;
  self->block = block;
  g_hash_table_remove_all (self->offenders);
}

guint
sim_auth_limiter_get_max_failures (SimAuthLimiter *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->max_failures;
}
