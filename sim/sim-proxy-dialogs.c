/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The table of dialogs the proxy Record-Routed (RFC 3261 §16.6 step 4, §12): the Contact and
 * the flow of each party, so an in-dialog request is routed only to a party of a dialog we
 * saw, over the flow that party used (RFC 5626 §5.3, RFC 3581), and a re-INVITE or UPDATE
 * refreshes its sender's remote target (§12.2).  Also the flow of a live binding, for a
 * request with a To tag of a dialog we did not Record-Route, and the table's limits
 * (SIM_PROXY_MAX_DIALOGS, SIM_PROXY_DIALOG_LIFETIME).
 */
#include "sim-proxy-private.h"

#include <string.h>

/*
 * A dialog this proxy Record-Routed (RFC 3261 §16.6 step 4): the Contact each side gave and
 * the flow (source address and transport) it used, so in-dialog requests reach a phone behind
 * NAT through its flow and are relayed only towards one of the two parties.
 */
struct _SimProxyDialog {
  char *key;               /* Call-ID, caller tag, callee tag */
  char *contact[2];        /* 0: caller's Contact (INVITE), 1: callee's (2xx) */
  SimAddr flow[2];
  SimTime expires_at;
};

static void
dialog_free (SimProxyDialog *dialog)
{
  g_free (dialog->key);
  g_free (dialog->contact[0]);
  g_free (dialog->contact[1]);
  g_free (dialog);
}

static char *
dialog_key_new (const char *call_id,
                const char *caller_tag,
                const char *callee_tag)
{
  return g_strdup_printf ("%s|%s|%s", call_id, caller_tag ? caller_tag : "",
                          callee_tag ? callee_tag : "");
}

static void
dialogs_prune (SimProxy *self)
{
  GHashTableIter iter;
  SimProxyDialog *dialog;
  SimTime now = sim_clock_now (_sim_proxy_clock (self));

  g_hash_table_iter_init (&iter, self->dialogs);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &dialog))
    if (dialog->expires_at <= now)
      g_hash_table_iter_remove (&iter);
}

gboolean
_sim_proxy_dialogs_have_room (SimProxy *self)
{
  if (g_hash_table_size (self->dialogs) < self->max_dialogs)
    return TRUE;
  dialogs_prune (self);
  if (g_hash_table_size (self->dialogs) < self->max_dialogs)
    return TRUE;
  sim_stack_note (self->stack, "the dialog table is full (%u dialogs): this INVITE is not "
                  "Record-Routed, so its ACK and BYE go straight between the phones",
                  self->max_dialogs);
  return FALSE;
}

/* The remembered dialog of an in-dialog request, in either direction, or NULL. */
static SimProxyDialog *
dialog_find (SimProxy       *self,
             osip_message_t *request)
{
  g_autofree char *call_id = sim_message_call_id (request);
  const char *from_tag = sim_message_from_tag (request);
  const char *to_tag = sim_message_to_tag (request);
  SimTime now = sim_clock_now (_sim_proxy_clock (self));

  if (call_id == NULL || g_hash_table_size (self->dialogs) == 0)
    return NULL;
  for (int direction = 0; direction < 2; direction++)
    {
      g_autofree char *key = direction == 0 ? dialog_key_new (call_id, from_tag, to_tag)
                                            : dialog_key_new (call_id, to_tag, from_tag);
      SimProxyDialog *dialog = g_hash_table_lookup (self->dialogs, key);

      if (dialog == NULL)
        continue;
      if (dialog->expires_at <= now)
        {
          g_hash_table_remove (self->dialogs, key);
          return NULL;
        }
      return dialog;
    }
  return NULL;
}

static char *
first_contact (osip_message_t *message)
{
  osip_contact_t *contact = NULL;

  if (osip_message_get_contact (message, 0, &contact) < 0 || contact == NULL || contact->url == NULL)
    return NULL;
  return sim_uri_to_string (contact->url);
}

/* On the 2xx to an INVITE we Record-Routed: both Contacts and both flows. */
void
_sim_proxy_dialogs_remember (SimProxy       *self,
                             osip_message_t *invite,
                             osip_message_t *response,
                             const SimAddr  *caller_flow,
                             const SimAddr  *callee_flow)
{
  g_autofree char *call_id = sim_message_call_id (response);
  g_autofree char *caller = invite != NULL ? first_contact (invite) : NULL;
  g_autofree char *callee = first_contact (response);
  g_autofree char *key = NULL;
  SimProxyDialog *dialog;

  if (call_id == NULL || caller == NULL || callee == NULL ||
      strlen (caller) > SIM_PROXY_MAX_DIALOG_CONTACT || strlen (callee) > SIM_PROXY_MAX_DIALOG_CONTACT ||
      strlen (call_id) > SIM_PROXY_MAX_DIALOG_CONTACT)
    return;
  key = dialog_key_new (call_id, sim_message_from_tag (response), sim_message_to_tag (response));
  if (g_hash_table_size (self->dialogs) >= self->max_dialogs && !g_hash_table_contains (self->dialogs, key))
    {
      dialogs_prune (self);
      if (g_hash_table_size (self->dialogs) >= self->max_dialogs)
        {
          sim_stack_note (self->stack, "the dialog table is full (%u dialogs): in-dialog requests "
                          "of %s reach only registered Contacts", self->max_dialogs, call_id);
          return;
        }
    }
  dialog = g_new0 (SimProxyDialog, 1);
  dialog->key = g_strdup (key);
  dialog->contact[0] = g_steal_pointer (&caller);
  dialog->contact[1] = g_steal_pointer (&callee);
  dialog->flow[0] = *caller_flow;
  dialog->flow[1] = *callee_flow;
  dialog->expires_at = sim_clock_now (_sim_proxy_clock (self)) + self->dialog_lifetime;
  g_hash_table_replace (self->dialogs, g_steal_pointer (&key), dialog);
}

typedef struct {
  const osip_uri_t *target;
  SimTime now;
} BindingSearch;

static gboolean
binding_matches_cb (const SimBinding *binding,
                    gpointer          user_data)
{
  const BindingSearch *search = user_data;
  const char *user = search->target->username;

  /* Cheap tests first, since every binding may be looked at: the user part must appear. */
  return binding->expires_at > search->now &&
         (user == NULL || strstr (binding->contact, user) != NULL) &&
         _sim_proxy_contact_matches (binding->contact, search->target);
}

/*
 * A live binding whose Contact is @target: its flow, where its REGISTER came from.  Only an
 * authenticated user's request gets here (proxy_route()); the location is walked in place,
 * with no list of AORs built and a Contact parsed only when its user part could match.
 */
gboolean
_sim_proxy_binding_flow (SimProxy         *self,
                         const osip_uri_t *target,
                         SimAddr          *flow)
{
  BindingSearch search = { target, sim_clock_now (_sim_proxy_clock (self)) };
  const SimBinding *binding =
    sim_location_find_binding (sim_registrar_get_location (self->registrar), binding_matches_cb,
                               &search);

  if (binding == NULL)
    return FALSE;
  *flow = binding->source;
  return TRUE;
}

/*
 * The remembered dialog of @request (Call-ID and both tags, either direction) one of whose
 * parties gave @target as its Contact, and that party's side, or NULL.  Only such a request
 * is "in a dialog" for this proxy: a To tag alone proves nothing, anyone can write one, and
 * tags and Call-ID travel in clear, so the request must also come from the other party's
 * address (@src; its flow's IP address, since a phone may reconnect TCP or be given another
 * NAT port mid-call).  A stranger who sniffed the tags cannot end the call (BYE) or take
 * its media (re-INVITE): its request is challenged like any other.
 */
SimProxyDialog *
_sim_proxy_dialogs_find_party (SimProxy         *self,
                               osip_message_t   *request,
                               const osip_uri_t *target,
                               const SimAddr    *src,
                               int              *side)
{
  SimProxyDialog *dialog;

  if (sim_message_to_tag (request) == NULL || (dialog = dialog_find (self, request)) == NULL)
    return NULL;
  for (*side = 0; *side < 2; (*side)++)
    if (_sim_proxy_contact_matches (dialog->contact[*side], target))
      {
        const SimAddr *sender = &dialog->flow[1 - *side];

        if (src != NULL && strcmp (sender->ip, src->ip) != 0)
          {
            sim_stack_note (self->stack, "%s of a known call comes from %s, not from the address "
                            "of the party that sends it (%s): it is treated as outside the call",
                            request->sip_method, src->ip, sender->ip);
            return NULL;
          }
        return dialog;
      }
  return NULL;
}

/*
 * The next hop of an in-dialog request whose next target is @target: the flow of the dialog
 * party whose Contact it is, so a phone behind NAT gets its ACK and BYE on the address its
 * INVITE or 2xx came from (RFC 5626 §5.3, RFC 3581).  FALSE when @target is none: then
 * relaying it would make us an open relay.
 */
gboolean
_sim_proxy_dialogs_next_hop (SimProxy         *self,
                             osip_message_t   *request,
                             const osip_uri_t *target,
                             const SimAddr    *src,
                             SimAddr          *next,
                             char            **dialog_key)
{
  int side;
  SimProxyDialog *dialog = _sim_proxy_dialogs_find_party (self, request, target, src, &side);

  if (dialog == NULL)
    return FALSE;
  *next = dialog->flow[side];
  dialog->expires_at = sim_clock_now (_sim_proxy_clock (self)) + self->dialog_lifetime;
  if (dialog_key != NULL)
    *dialog_key = g_strdup (dialog->key);
  /*
   * RFC 3261 §12.2: a re-INVITE or UPDATE refreshes its sender's remote target.  Only the
   * Contact we match on changes, never the flow we send to, so a forged refresh cannot send
   * anyone's requests elsewhere.
   */
  if (strcmp (request->sip_method, "INVITE") == 0 || strcmp (request->sip_method, "UPDATE") == 0)
    {
      g_autofree char *contact = first_contact (request);
      if (contact != NULL && strlen (contact) <= SIM_PROXY_MAX_DIALOG_CONTACT)
        {
          g_free (dialog->contact[1 - side]);
          dialog->contact[1 - side] = g_steal_pointer (&contact);
        }
    }
  return TRUE;
}

/* The BYE of a remembered dialog succeeded: the dialog is over. */
void
_sim_proxy_dialogs_forget (SimProxy   *self,
                           const char *key)
{
  g_hash_table_remove (self->dialogs, key);
}

void
_sim_proxy_dialogs_init (SimProxy *self)
{
  self->dialogs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) dialog_free);
  self->max_dialogs = SIM_PROXY_MAX_DIALOGS;
  self->dialog_lifetime = SIM_PROXY_DIALOG_LIFETIME;
}

guint
sim_proxy_get_n_dialogs (SimProxy *self)
{
  g_return_val_if_fail (SIM_IS_PROXY (self), 0);
  return g_hash_table_size (self->dialogs);
}

void
sim_proxy_set_dialog_limits (SimProxy *self,
                             guint     max_dialogs,
                             SimTime   lifetime)
{
  g_return_if_fail (SIM_IS_PROXY (self));
  self->max_dialogs = max_dialogs;
  self->dialog_lifetime = MAX (lifetime, 1);
  dialogs_prune (self);
}
