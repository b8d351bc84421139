/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "sim-phone.h"

#include <string.h>

#include <gio/gio.h>

#include "sim-digest.h"

/* RFC 3261 §10.2.1.1: with no Expires from the registrar the phone assumes what it asked for. */
#define DEFAULT_EXPIRES 3600
/* Retry a registration that got no answer (408) or a 5xx after this long. */
#define RETRY_DELAY SIM_SEC (30)

typedef enum {
  ROLE_UAC,
  ROLE_UAS,
} CallRole;

/* What was asked for while a REGISTER was in flight (RFC 3261 §10.2: one at a time). */
typedef enum {
  PENDING_NONE,
  PENDING_REGISTER,
  PENDING_UNREGISTER,
} PendingReg;

typedef struct {
  CallRole role;
  SimCallState state;
  char *call_id;
  char *local_tag;
  char *remote_tag;
  char *peer;              /* the other user's name */
  char *local_uri;         /* our From (UAC) / To (UAS) URI */
  char *remote_uri;
  char *remote_target;     /* the peer's Contact URI */
  GPtrArray *route_set;    /* Record-Route URIs, in the order to use them */
  guint32 local_cseq;
  SimClientTxn *invite;    /* UAC */
  osip_message_t *invite_request;
  SimAddr first_hop;       /* where the INVITE went */
  SimServerTxn *incoming;  /* UAS */
  char *request_uri;       /* of our INVITE (UAC) */
  gboolean answered_challenge;  /* the INVITE carries our answer to a 401/407 */
  gboolean got_provisional;
  gboolean cancel_pending;
  guint answer_timer;
} Call;

struct _SimPhone {
  GObject parent_instance;

  SimStack *stack;
  char *user;
  char *device;
  char *domain;
  char *password;
  char *display_name;
  char *aor;
  char *contact;
  char *old_contact;       /* after a move: unbound in the next REGISTER */
  char *user_agent;
  gboolean powered;
  /* Parts of a REGISTER the serialiser writes back as they are (register_is_plain), worked
   * out where they are set: domain, aor, display_name and user_agent; contact; Call-ID and tag. */
  gboolean plain_identity;
  gboolean plain_contact;
  gboolean plain_boot;
  char *reg_head;          /* the plain REGISTER's text up to "CSeq: ", or NULL */

  SimPhoneQuirks quirks;
  char *rinstance;         /* new-contact-per-refresh: the Contact's current ;rinstance= */

  gboolean has_outbound;
  SimAddr outbound;
  guint default_expires;
  SimTime answer_delay;

  /* Registration: one Call-ID and From tag per boot (RFC 3261 §10.2.4). */
  SimRegState reg_state;
  char *reg_reason;
  char *reg_call_id;
  char *reg_from_tag;
  guint32 reg_cseq;
  guint32 requested;
  guint32 granted;
  gboolean unregistering_all;
  gboolean answered_challenge;
  gboolean was_registered;
  guint refresh_timer;
  guint retry_timer;
  SimClientTxn *reg_txn;   /* the REGISTER in flight: no final response yet */
  char *sent_contact;      /* its Contact (a move may change ours meanwhile) */
  char *sent_old_contact;  /* the moved-away Contact it unbinds, if any */
  PendingReg pending;
  gint64 pending_expires;
  gboolean pending_all;

  Call *call;
  GHashTable *address_book;
};

enum {
  SIGNAL_CHANGED,
  N_SIGNALS
};
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (SimPhone, sim_phone, G_TYPE_OBJECT)

static const struct {
  SimPhoneQuirks quirk;
  const char *name;
} quirk_names[SIM_PHONE_N_QUIRKS] = {
  { SIM_PHONE_QUIRK_NO_RPORT, "no-rport" },
  { SIM_PHONE_QUIRK_NEW_CALL_ID_PER_REFRESH, "new-call-id-per-refresh" },
  { SIM_PHONE_QUIRK_NEW_CONTACT_PER_REFRESH, "new-contact-per-refresh" },
  { SIM_PHONE_QUIRK_IGNORE_423, "ignore-423" },
  { SIM_PHONE_QUIRK_GIVE_UP_ON_423, "give-up-on-423" },
};

const char *
sim_phone_quirk_name (SimPhoneQuirks quirk)
{
  for (guint i = 0; i < G_N_ELEMENTS (quirk_names); i++)
    if (quirk_names[i].quirk == quirk)
      return quirk_names[i].name;
  return NULL;
}

gboolean
sim_phone_quirk_from_name (const char     *name,
                           SimPhoneQuirks *quirk)
{
  g_return_val_if_fail (name != NULL && quirk != NULL, FALSE);
  for (guint i = 0; i < G_N_ELEMENTS (quirk_names); i++)
    if (strcmp (quirk_names[i].name, name) == 0)
      {
        *quirk = quirk_names[i].quirk;
        return TRUE;
      }
  return FALSE;
}

static const char *reg_state_names[] = { "idle", "registering", "registered", "unregistering", "failed" };
static const char *call_state_names[] = { "idle", "calling", "ringing", "established", "ended", "failed" };

const char *
sim_reg_state_name (SimRegState state)
{
  return reg_state_names[state];
}

const char *
sim_call_state_name (SimCallState state)
{
  return call_state_names[state];
}

static SimClock *
phone_clock (SimPhone *self)
{
  return sim_stack_get_clock (self->stack);
}

static SimTrace *
phone_trace (SimPhone *self)
{
  return sim_stack_get_trace (self->stack);
}

static GRand *
phone_rand (SimPhone *self)
{
  return sim_stack_get_rand (self->stack);
}

/* ---------------------------------------------------------------------------------------- */
/* Tracing                                                                                   */

static void
trace_registration (SimPhone   *self,
                    const char *action,
                    gint64      expires,
                    const char *reason)
{
  SimEvent *event;

  if (!sim_trace_is_enabled (phone_trace (self)))
    return;
  event = sim_event_new (SIM_EVENT_REGISTRATION, action);
  event->t = sim_clock_now (phone_clock (self));
  event->node = g_strdup (self->device);
  event->aor = g_strdup (self->aor);
  event->contact = g_strdup (self->contact);
  event->call_id = g_strdup (self->reg_call_id);
  event->expires = expires;
  event->reason = g_strdup (reason);
  sim_trace_emit (phone_trace (self), event);
}

static void
trace_refresh_timer (SimPhone   *self,
                     const char *action,
                     SimTime     duration)
{
  SimEvent *event;

  if (!sim_trace_is_enabled (phone_trace (self)))
    return;
  event = sim_event_new (SIM_EVENT_TIMER, action);
  event->t = sim_clock_now (phone_clock (self));
  event->node = g_strdup (self->device);
  event->name = g_strdup ("refresh");
  event->duration = duration;
  event->aor = g_strdup (self->aor);
  sim_trace_emit (phone_trace (self), event);
}

static void
set_reg_state (SimPhone    *self,
               SimRegState  state,
               const char  *reason,
               gint64       expires)
{
  self->reg_state = state;
  g_free (self->reg_reason);
  self->reg_reason = g_strdup (reason);
  trace_registration (self, reg_state_names[state], expires, reason);
  g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
}

static void
set_call_state (SimPhone     *self,
                SimCallState  state,
                const char   *reason)
{
  SimEvent *event;

  if (self->call == NULL || self->call->state == state)
    return;
  self->call->state = state;
  if (sim_trace_is_enabled (phone_trace (self)))
    {
      event = sim_event_new (SIM_EVENT_CALL, call_state_names[state]);
      event->t = sim_clock_now (phone_clock (self));
      event->node = g_strdup (self->device);
      event->call_id = g_strdup (self->call->call_id);
      event->aor = g_strdup (self->call->peer);
      event->reason = g_strdup (reason);
      sim_trace_emit (phone_trace (self), event);
    }
  g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
}

static void
call_free (Call *call)
{
  g_free (call->call_id);
  g_free (call->local_tag);
  g_free (call->remote_tag);
  g_free (call->peer);
  g_free (call->local_uri);
  g_free (call->remote_uri);
  g_free (call->remote_target);
  g_free (call->request_uri);
  g_clear_pointer (&call->route_set, g_ptr_array_unref);
  if (call->invite != NULL)
    {
      sim_client_txn_detach (call->invite);
      sim_client_txn_unref (call->invite);
    }
  g_clear_pointer (&call->invite_request, osip_message_free);
  g_clear_pointer (&call->incoming, sim_server_txn_unref);
  g_free (call);
}

static void
drop_call (SimPhone *self)
{
  if (self->call == NULL)
    return;
  sim_clock_clear (phone_clock (self), &self->call->answer_timer);
  g_clear_pointer (&self->call, call_free);
}

static gboolean
call_active (SimPhone *self)
{
  return self->call != NULL &&
         self->call->state != SIM_CALL_ENDED && self->call->state != SIM_CALL_FAILED;
}

/* ---------------------------------------------------------------------------------------- */
/* Registration (RFC 3261 §10.2)                                                             */

static void send_register_with (SimPhone *self, const char *authorization, gboolean authorization_in_order);

static void
send_register (SimPhone   *self,
               const char *authorization)
{
  send_register_with (self, authorization, FALSE);
}

static void
clear_reg_txn (SimPhone *self)
{
  if (self->reg_txn != NULL)
    {
      sim_client_txn_detach (self->reg_txn);
      g_clear_pointer (&self->reg_txn, sim_client_txn_unref);
    }
}

static void new_boot (SimPhone *self);
static void update_contact (SimPhone *self);

/* What a quirky phone changes at a refresh that a correct one keeps (RFC 3261 §10.2.4). */
static void
quirky_refresh (SimPhone *self)
{
  if (self->quirks & SIM_PHONE_QUIRK_NEW_CALL_ID_PER_REFRESH)
    {
      new_boot (self);
      sim_trace_note (phone_trace (self), sim_clock_now (phone_clock (self)), self->device,
                      "%s refreshes as if it had just started: a new Call-ID (%s), a new From "
                      "tag, CSeq 1 (quirk new-call-id-per-refresh; RFC 3261 §10.2.4 asks for "
                      "the same Call-ID)", self->device, self->reg_call_id);
    }
  if (self->quirks & SIM_PHONE_QUIRK_NEW_CONTACT_PER_REFRESH)
    {
      g_free (self->rinstance);
      self->rinstance = sim_random_token (phone_rand (self), 8);
      update_contact (self);
      sim_trace_note (phone_trace (self), sim_clock_now (phone_clock (self)), self->device,
                      "%s writes a new Contact, %s, and does not unbind the old one (quirk "
                      "new-contact-per-refresh)", self->device, self->contact);
    }
}

static void
refresh_cb (gpointer data)
{
  SimPhone *self = data;

  self->refresh_timer = 0;
  trace_refresh_timer (self, "fired", 0);
  /* RFC 3261 §10.2: the REGISTER in flight refreshes the binding already; its 200 plans the
   * next refresh. */
  if (self->reg_txn != NULL)
    {
      sim_trace_note (phone_trace (self), sim_clock_now (phone_clock (self)), self->device,
                      "refresh merged: the REGISTER in flight (CSeq %u) renews the binding "
                      "(RFC 3261 §10.2)", self->reg_cseq);
      return;
    }
  /* RFC 3261 §10.2.4: a refresh reuses Call-ID, From tag, To and Contact; CSeq goes up. */
  self->answered_challenge = FALSE;
  quirky_refresh (self);
  set_reg_state (self, SIM_REG_REGISTERING, "refreshing before the binding expires", self->requested);
  send_register (self, NULL);
}

static void
retry_cb (gpointer data)
{
  SimPhone *self = data;

  self->retry_timer = 0;
  if (self->reg_txn != NULL)
    return;  /* a registration is under way already (RFC 3261 §10.2) */
  self->answered_challenge = FALSE;
  set_reg_state (self, SIM_REG_REGISTERING, "retrying the registration", self->requested);
  send_register (self, NULL);
}

static void
schedule_refresh (SimPhone *self,
                  guint32   granted)
{
  SimTime delay;

  sim_clock_clear (phone_clock (self), &self->refresh_timer);
  /*
   * Refresh before the *granted* expiry.  Leave room for a REGISTER that has to be
   * retransmitted up to Timer F (64*T1 = 32 s) plus a challenge round trip.
   */
  if (granted > 70)
    delay = MIN (SIM_SEC (granted) / 10 * 9, SIM_SEC (granted - 35));
  else
    delay = SIM_SEC (granted) / 2;
  self->refresh_timer = sim_clock_add (phone_clock (self), delay, refresh_cb, self, NULL);
  trace_refresh_timer (self, "started", delay);
}

/* @value in decimal into @buf (at least 11 bytes): printf's machinery is most of the cost of
 * a REGISTER's text. */
static const char *
format_uint (char    *buf,
             guint32  value)
{
  char *p = buf + 10;

  *p = '\0';
  do
    {
      *--p = '0' + value % 10;
      value /= 10;
    }
  while (value > 0);
  return p;
}

/* _sim_phone_set_text_fast_path (FALSE): tests compare with every REGISTER parsed before sending. */
static gboolean sim_phone_text_fast_path = TRUE;

void
_sim_phone_set_text_fast_path (gboolean enabled)
{
  sim_phone_text_fast_path = enabled;
}

/* Character classes for what the serialiser writes back as it is (one table look-up a byte:
 * every REGISTER checks its parts). */
enum {
  PLAIN_DOMAIN = 1 << 0,   /* letters, digits, "-.:" */
  PLAIN_URI = 1 << 1,      /* letters, digits, "-_.:@;=" */
  PLAIN_TAG = 1 << 2,      /* letters, digits, "-_." */
  PLAIN_CALL_ID = 1 << 3,  /* letters, digits, "-_.@" */
  PLAIN_TEXT = 1 << 4,     /* printable ASCII but for quotes and backslashes */
};

static guint8 plain_classes[256];

static void
plain_classes_init (void)
{
  static gsize done = 0;

  if (!g_once_init_enter (&done))
    return;
  for (int c = 0x20; c <= 0x7e; c++)
    {
      guint8 classes = c == '"' || c == '\\' ? 0 : PLAIN_TEXT;

      if (g_ascii_isalnum (c))
        classes |= PLAIN_DOMAIN | PLAIN_URI | PLAIN_TAG | PLAIN_CALL_ID;
      if (strchr ("-.:", c) != NULL)
        classes |= PLAIN_DOMAIN;
      if (strchr ("-_.:@;=", c) != NULL)
        classes |= PLAIN_URI;
      if (strchr ("-_.", c) != NULL)
        classes |= PLAIN_TAG;
      if (strchr ("-_.@", c) != NULL)
        classes |= PLAIN_CALL_ID;
      plain_classes[c] = classes;
    }
  g_once_init_leave (&done, 1);
}

/* @text is not empty and every byte of it is in @class. */
static gboolean
is_plain (const char *text,
          guint8      class)
{
  const guchar *p = (const guchar *) text;

  if (p == NULL || *p == '\0')
    return FALSE;
  plain_classes_init ();
  for (; *p != '\0'; p++)
    if ((plain_classes[*p] & class) == 0)
      return FALSE;
  return TRUE;
}

/* Printable ASCII but for quotes and backslashes, with no space at either end. */
static gboolean
is_plain_text (const char *text)
{
  return is_plain (text, PLAIN_TEXT) && *text != ' ' && text[strlen (text) - 1] != ' ';
}

/*
 * Whether this REGISTER's parts are ones the serialiser writes back byte for byte (plain URIs,
 * tokens and quoted text), so its text can go out as the phone writes it, unparsed.
 */
static gboolean
register_is_plain (SimPhone *self,
                   gboolean  old)
{
  return self->reg_head != NULL &&
         (self->unregistering_all || self->plain_contact) &&
         (!old || (is_plain (self->old_contact, PLAIN_URI) &&
                   g_str_has_prefix (self->old_contact, "sip:")));
}

/*
 * A display name as the inside of the quoted-string the phone writes it in (RFC 3261 §25.1):
 * '"' and '\\' become quoted-pairs, and CR, LF and other control characters, which no
 * quoted-string may carry, become spaces.  Written as it came, "Bob \"the\" Builder" or a
 * trailing backslash made REGISTERs the phone itself could not parse, and a line break
 * would have added headers of the user's choosing.
 */
static char *
quoted_string_content (const char *text)
{
  GString *out = g_string_sized_new (strlen (text) + 2);

  for (const char *p = text; *p != '\0'; p++)
    {
      if (*p == '"' || *p == '\\')
        g_string_append_c (out, '\\');
      g_string_append_c (out, (guchar) *p < 0x20 || *p == 0x7f ? ' ' : *p);
    }
  return g_string_free (out, FALSE);
}

static void
check_plain_identity (SimPhone *self)
{
  self->plain_identity = is_plain (self->domain, PLAIN_DOMAIN) && is_plain (self->aor, PLAIN_URI) &&
                         g_str_has_prefix (self->aor, "sip:") &&
                         is_plain_text (self->display_name) && is_plain_text (self->user_agent);
}

static void
check_plain_boot (SimPhone *self)
{
  const char *at = strchr (self->reg_call_id, '@');

  self->plain_boot = is_plain (self->reg_from_tag, PLAIN_TAG) &&
                     is_plain (self->reg_call_id, PLAIN_CALL_ID) && at != NULL &&
                     at != self->reg_call_id && at[1] != '\0' && strchr (at + 1, '@') == NULL;
}

/* @n (at most 24) pieces, NULL ones skipped, joined into one new string: what g_strconcat does
 * without walking its arguments twice (a REGISTER's text has a dozen pieces). */
static char *
join_pieces (const char **pieces,
             guint        n)
{
  gsize lens[24], total = 0;
  char *out, *p;

  g_assert (n <= G_N_ELEMENTS (lens));
  for (guint i = 0; i < n; i++)
    total += lens[i] = pieces[i] != NULL ? strlen (pieces[i]) : 0;
  p = out = g_malloc (total + 1);
  for (guint i = 0; i < n; i++)
    if (pieces[i] != NULL)
      {
        memcpy (p, pieces[i], lens[i]);
        p += lens[i];
      }
  *p = '\0';
  return out;
}

/* The start of every REGISTER of this boot, up to "CSeq: " (register_text_in_order). */
static void
update_reg_head (SimPhone *self)
{
  g_clear_pointer (&self->reg_head, g_free);
  if (self->plain_identity && self->plain_boot)
    self->reg_head = g_strconcat ("REGISTER sip:", self->domain, " SIP/2.0\r\n"
                                  "From: \"", self->display_name, "\" <", self->aor, ">;tag=",
                                  self->reg_from_tag,
                                  "\r\nTo: \"", self->display_name, "\" <", self->aor, ">"
                                  "\r\nCall-ID: ", self->reg_call_id,
                                  "\r\nCSeq: ", NULL);
}

/*
 * The REGISTER's text as sim_message_to_string writes it (header order: From, To, Call-ID,
 * CSeq, Contacts one a line, Authorization, then the others as written), without the Via the
 * stack puts after the request line.  @authorization is in the serialiser's form already.
 */
static char *
register_text_in_order (SimPhone   *self,
                        const char *authorization,
                        guint32     expires,
                        gboolean    old)
{
  char cseq_buf[11], expires_buf[11];
  gboolean star = self->unregistering_all;
  const char *pieces[] = {
    self->reg_head, format_uint (cseq_buf, self->reg_cseq), " REGISTER\r\nContact: ",
    star ? "*" : "<", star ? NULL : self->contact, star ? NULL : ">",
    old ? "\r\nContact: <" : NULL, old ? self->old_contact : NULL, old ? ">;expires=0" : NULL,
    authorization != NULL ? "\r\nAuthorization: " : NULL, authorization,
    "\r\nMax-Forwards: 70\r\nExpires: ", format_uint (expires_buf, expires),
    "\r\nUser-Agent: ", self->user_agent, "\r\nContent-Length: 0\r\n\r\n",
  };

  return join_pieces (pieces, G_N_ELEMENTS (pieces));
}

/*
 * The REGISTER's text before the stack adds its Via, in one g_strconcat (two passes over the
 * pieces, one allocation): every phone sends one per refresh and per challenge.
 */
static char *
register_text (SimPhone   *self,
               const char *authorization,
               guint32     expires)
{
  char cseq_buf[11], expires_buf[11];
  gboolean star = self->unregistering_all;
  gboolean old = !star && self->old_contact != NULL && self->reg_state != SIM_REG_UNREGISTERING;

  return g_strconcat ("REGISTER sip:", self->domain, " SIP/2.0\r\n"
                      "Max-Forwards: 70\r\n"
                      "From: \"", self->display_name, "\" <", self->aor, ">;tag=", self->reg_from_tag,
                      "\r\nTo: \"", self->display_name, "\" <", self->aor, ">"
                      "\r\nCall-ID: ", self->reg_call_id,
                      "\r\nCSeq: ", format_uint (cseq_buf, self->reg_cseq), " REGISTER"
                      "\r\nContact: ", star ? "*" : "<", star ? "" : self->contact, star ? "" : ">",
                      old ? ", <" : "", old ? self->old_contact : "", old ? ">;expires=0" : "",
                      "\r\nExpires: ", format_uint (expires_buf, expires), "\r\n",
                      authorization != NULL ? "Authorization: " : "",
                      authorization != NULL ? authorization : "",
                      authorization != NULL ? "\r\n" : "",
                      "User-Agent: ", self->user_agent, "\r\n"
                      "Content-Length: 0\r\n\r\n", NULL);
}

static void register_response_cb (SimStack       *stack,
                                   SimClientTxn   *txn,
                                   osip_message_t *response,
                                   gpointer        user_data);

/*
 * Sends the next REGISTER; @authorization_in_order: @authorization (if any) is in the order and
 * form sim_message_to_string writes (authorization_text), so the text can go out unparsed.
 */
static void
send_register_with (SimPhone   *self,
                    const char *authorization,
                    gboolean    authorization_in_order)
{
  g_autofree char *text = NULL;
  guint32 expires = self->reg_state == SIM_REG_UNREGISTERING ? 0 : self->requested;
  osip_message_t *request;
  SimClientTxn *txn;
  gboolean old;

  if (!self->powered || !self->has_outbound)
    return;
  clear_reg_txn (self);
  self->reg_cseq++;
  old = !self->unregistering_all && self->old_contact != NULL &&
        self->reg_state != SIM_REG_UNREGISTERING;
  if (sim_phone_text_fast_path && (authorization == NULL || authorization_in_order) &&
      register_is_plain (self, old))
    {
      /* Most REGISTERs: sent as written, parsed by no one but the registrar. */
      text = register_text_in_order (self, authorization, expires, old);
      txn = sim_stack_send_request_text (self->stack, "REGISTER", text, &self->outbound,
                                         register_response_cb, self);
    }
  else
    {
      text = register_text (self, authorization, expires);
      request = sim_message_from_text (text);
      txn = sim_stack_send_request (self->stack, request, &self->outbound, NULL,
                                    register_response_cb, self);
    }
  g_free (self->sent_contact);
  self->sent_contact = g_strdup (self->contact);
  g_free (self->sent_old_contact);
  self->sent_old_contact = self->unregistering_all || self->reg_state == SIM_REG_UNREGISTERING
                           ? NULL : g_strdup (self->old_contact);
  self->reg_txn = sim_client_txn_ref (txn);
}

/* The expiry the registrar granted our Contact (RFC 3261 §10.2.4: from the 200's Contact). */
static gint64
granted_expiry (SimPhone       *self,
                osip_message_t *response)
{
  for (int pos = 0; !osip_list_eol (&response->contacts, pos); pos++)
    {
      osip_contact_t *contact = osip_list_get (&response->contacts, pos);
      g_autofree char *uri = sim_uri_to_string (contact->url);
      osip_generic_param_t *expires = NULL;

      if (g_strcmp0 (uri, self->sent_contact) != 0)
        continue;
      if (osip_contact_param_get_byname (contact, (char *) "expires", &expires) == 0 &&
          expires != NULL && expires->gvalue != NULL)
        return g_ascii_strtoll (expires->gvalue, NULL, 10);
      return sim_message_expires (response) >= 0 ? sim_message_expires (response) : self->requested;
    }
  return 0;  /* our Contact is not bound */
}

/*
 * @credentials as sim_message_to_string writes an Authorization (osip_authorization_to_str's
 * field order), or NULL when a value is not plain enough to be written back unchanged.
 */
static char *
authorization_text (const SimDigestCredentials *credentials)
{
  const char *algorithm = sim_digest_algorithm_name (credentials->algorithm);
  /* The response, cnonce and nc are hex digits and letters we made: the others are checked. */
  const char *values[] = {
    credentials->username, credentials->realm, credentials->nonce, credentials->uri, algorithm,
    credentials->opaque, credentials->qop,
  };

  for (guint i = 0; i < G_N_ELEMENTS (values); i++)
    if (values[i] != NULL && !is_plain_text (values[i]))
      return NULL;
  if (values[0] == NULL || values[1] == NULL || values[2] == NULL || values[3] == NULL ||
      algorithm == NULL || credentials->response == NULL)
    return NULL;
  {
    gboolean cnonce = credentials->cnonce != NULL, opaque = credentials->opaque != NULL;
    gboolean qop = credentials->qop != NULL, nc = credentials->nc != NULL;
    const char *pieces[] = {
      "Digest username=\"", credentials->username, "\", realm=\"", credentials->realm,
      "\", nonce=\"", credentials->nonce, "\", uri=\"", credentials->uri,
      "\", response=\"", credentials->response, "\", algorithm=", algorithm,
      cnonce ? ", cnonce=\"" : NULL, credentials->cnonce, cnonce ? "\"" : NULL,
      opaque ? ", opaque=\"" : NULL, credentials->opaque, opaque ? "\"" : NULL,
      qop ? ", qop=" : NULL, credentials->qop, nc ? ", nc=" : NULL, credentials->nc,
    };

    return join_pieces (pieces, G_N_ELEMENTS (pieces));
  }
}

static void
answer_challenge (SimPhone       *self,
                  osip_message_t *response)
{
  SimDigestChallenge challenge = { 0 };
  SimDigestCredentials credentials = { 0 };
  g_autofree char *value = NULL;
  g_autofree char *cnonce = NULL;
  g_autofree char *authorization = NULL;
  g_autofree char *uri = g_strdup_printf ("sip:%s", self->domain);
  gboolean found = FALSE;
  gboolean in_order;

  /* The registrar lists its challenges in preference order: take the first we can parse. */
  for (int pos = 0; !found && (value = sim_message_www_authenticate (response, pos)) != NULL; pos++)
    {
      sim_digest_challenge_clear (&challenge);
      found = sim_digest_challenge_parse (value, &challenge, NULL);
      g_clear_pointer (&value, g_free);
    }
  if (!found)
    {
      set_reg_state (self, SIM_REG_FAILED, "401 without a digest challenge we understand",
                     SIM_EVENT_NO_EXPIRES);
      return;
    }
  /* RFC 7616 §3.3: stale=true means the password was right; anything else after our answer means it was wrong. */
  if (self->answered_challenge && !challenge.stale)
    {
      sim_digest_challenge_clear (&challenge);
      set_reg_state (self, SIM_REG_FAILED,
                     "wrong password: the registrar challenged our answer again (401)",
                     SIM_EVENT_NO_EXPIRES);
      return;
    }
  cnonce = sim_random_token (phone_rand (self), 16);
  sim_digest_answer (&challenge, self->user, self->password, "REGISTER", uri, cnonce, 1, &credentials);
  authorization = authorization_text (&credentials);
  in_order = authorization != NULL;
  if (authorization == NULL)
    authorization = sim_digest_credentials_format (&credentials);
  sim_digest_challenge_clear (&challenge);
  sim_digest_credentials_clear (&credentials);
  self->answered_challenge = TRUE;
  send_register_with (self, authorization, in_order);
}

static void handle_register_response (SimPhone       *self,
                                      osip_message_t *response);

/*
 * RFC 3261 §10.2: "a UA MUST NOT send a new registration until it has received a final
 * response from the registrar for the previous one or the previous REGISTER request has timed
 * out".  A register or unregister asked for meanwhile waits here.
 */
static void
queue_registration (SimPhone   *self,
                    PendingReg  what,
                    gint64      expires,
                    gboolean    all)
{
  self->pending = what;
  self->pending_expires = expires;
  self->pending_all = all;
  sim_trace_note (phone_trace (self), sim_clock_now (phone_clock (self)), self->device,
                  "%s queued: the previous REGISTER (CSeq %u) has no final response yet "
                  "(RFC 3261 §10.2)", what == PENDING_REGISTER ? "register" : "unregister",
                  self->reg_cseq);
}

static void
send_pending (SimPhone *self)
{
  PendingReg what = self->pending;

  if (what == PENDING_NONE || self->reg_txn != NULL || !self->powered)
    return;
  self->pending = PENDING_NONE;
  sim_trace_note (phone_trace (self), sim_clock_now (phone_clock (self)), self->device,
                  "REGISTER (CSeq %u) has its final response: sending the queued %s",
                  self->reg_cseq, what == PENDING_REGISTER ? "register" : "unregister");
  if (what == PENDING_REGISTER)
    sim_phone_register (self, self->pending_expires, NULL);
  else
    sim_phone_unregister (self, self->pending_all, NULL);
}

static void
register_response_cb (SimStack       *stack,
                      SimClientTxn   *txn,
                      osip_message_t *response,
                      gpointer        user_data)
{
  SimPhone *self = user_data;

  if (!self->powered || txn != self->reg_txn || response->status_code < 200)
    return;
  clear_reg_txn (self);
  handle_register_response (self, response);
  /* A re-send after 401 or 423 is the same registration: the queue waits for its answer. */
  send_pending (self);
}

static void
handle_register_response (SimPhone       *self,
                          osip_message_t *response)
{
  int status = response->status_code;
  g_autofree char *reason = NULL;

  if (status == 401 || status == 407)
    {
      answer_challenge (self, response);
      return;
    }
  self->answered_challenge = FALSE;

  if (status == 423 && (self->quirks & (SIM_PHONE_QUIRK_IGNORE_423 | SIM_PHONE_QUIRK_GIVE_UP_ON_423)))
    {
      gboolean retry = (self->quirks & SIM_PHONE_QUIRK_IGNORE_423) != 0;

      /* A quirky phone: Min-Expires is not read (RFC 3261 §10.2.8 says to use it). */
      set_reg_state (self, SIM_REG_FAILED,
                     retry ? "423 Interval Too Brief: Min-Expires ignored, trying again in 30 s "
                             "with the same Expires (quirk ignore-423)"
                           : "423 Interval Too Brief: gave up without reading Min-Expires "
                             "(quirk give-up-on-423)", -1);
      if (retry)
        self->retry_timer = sim_clock_add (phone_clock (self), RETRY_DELAY, retry_cb, self, NULL);
      return;
    }
  if (status == 423)
    {
      /* RFC 3261 §10.2.8: retry with at least Min-Expires. */
      const char *min = sim_message_header (response, "min-expires");
      guint64 value;
      if (min != NULL && g_ascii_string_to_unsigned (min, 10, 1, G_MAXUINT32, &value, NULL) &&
          value > self->requested)
        {
          self->requested = value;
          set_reg_state (self, SIM_REG_REGISTERING,
                         "423 Interval Too Brief: asking again with Min-Expires", (gint64) value);
          send_register (self, NULL);
          return;
        }
    }

  if (status >= 200 && status < 300)
    {
      if (self->reg_state == SIM_REG_UNREGISTERING)
        {
          self->unregistering_all = FALSE;
          self->granted = 0;
          self->was_registered = FALSE;
          set_reg_state (self, SIM_REG_IDLE, "unregistered", 0);
          return;
        }
      /* After a move while this REGISTER was in flight, the queued one unbinds the old Contact. */
      if (g_strcmp0 (self->old_contact, self->sent_old_contact) == 0)
        g_clear_pointer (&self->old_contact, g_free);
      self->granted = (guint32) CLAMP (granted_expiry (self, response), 0, G_MAXUINT32);
      if (self->granted == 0)
        {
          set_reg_state (self, SIM_REG_FAILED, "200 OK but our Contact is not in it", 0);
          return;
        }
      self->was_registered = TRUE;
      reason = self->granted != self->requested
               ? g_strdup_printf ("asked for %u s, the registrar granted %u s", self->requested, self->granted)
               : NULL;
      set_reg_state (self, SIM_REG_REGISTERED, reason, self->granted);
      schedule_refresh (self, self->granted);
      return;
    }

  reason = g_strdup_printf ("%d %s", status, response->reason_phrase ? response->reason_phrase : "");
  set_reg_state (self, SIM_REG_FAILED, reason, SIM_EVENT_NO_EXPIRES);
  /* No answer or a server in trouble: try again later, as phones do. */
  if (status == 408 || status >= 500)
    self->retry_timer = sim_clock_add (phone_clock (self), RETRY_DELAY, retry_cb, self, NULL);
}

gboolean
sim_phone_register (SimPhone  *self,
                    gint64     expires,
                    GError   **error)
{
  g_return_val_if_fail (SIM_IS_PHONE (self), FALSE);

  if (!self->powered)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s is powered off", self->device);
      return FALSE;
    }
  if (!self->has_outbound)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   "%s has no registrar to register with (point-to-point mode)", self->device);
      return FALSE;
    }
  if (self->reg_txn != NULL)
    {
      queue_registration (self, PENDING_REGISTER, expires, FALSE);
      return TRUE;
    }
  sim_clock_clear (phone_clock (self), &self->refresh_timer);
  sim_clock_clear (phone_clock (self), &self->retry_timer);
  self->requested = expires >= 0 ? (guint32) MIN (expires, G_MAXUINT32) : self->default_expires;
  self->answered_challenge = FALSE;
  self->unregistering_all = FALSE;
  set_reg_state (self, SIM_REG_REGISTERING, NULL, self->requested);
  send_register (self, NULL);
  return TRUE;
}

gboolean
sim_phone_unregister (SimPhone  *self,
                      gboolean   all,
                      GError   **error)
{
  g_return_val_if_fail (SIM_IS_PHONE (self), FALSE);

  if (!self->powered || !self->has_outbound)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s cannot unregister now", self->device);
      return FALSE;
    }
  if (self->reg_txn != NULL)
    {
      queue_registration (self, PENDING_UNREGISTER, 0, all);
      return TRUE;
    }
  sim_clock_clear (phone_clock (self), &self->refresh_timer);
  sim_clock_clear (phone_clock (self), &self->retry_timer);
  self->answered_challenge = FALSE;
  self->unregistering_all = all;
  /* RFC 3261 §10.2.2: Expires 0 removes this Contact; Contact: * with Expires 0 removes all. */
  set_reg_state (self, SIM_REG_UNREGISTERING, all ? "Contact: * with Expires: 0" : "Expires: 0", 0);
  send_register (self, NULL);
  return TRUE;
}

/* ---------------------------------------------------------------------------------------- */
/* Calls (RFC 3261 §12-15)                                                                   */

static char *
sdp_body (SimPhone *self)
{
  const SimAddr *local = sim_stack_get_local (self->stack);

  return g_strdup_printf ("v=0\r\n"
                          "o=%s 1 1 IN IP4 %s\r\n"
                          "s=SIP Lab call\r\n"
                          "c=IN IP4 %s\r\n"
                          "t=0 0\r\n"
                          "m=audio 4000 RTP/AVP 0\r\n"
                          "a=rtpmap:0 PCMU/8000\r\n",
                          self->user, local->ip, local->ip);
}

static char *
route_headers (Call *call)
{
  GString *out = g_string_new (NULL);

  for (guint i = 0; call->route_set != NULL && i < call->route_set->len; i++)
    g_string_append_printf (out, "Route: <%s>\r\n", (char *) call->route_set->pdata[i]);
  return g_string_free (out, FALSE);
}

/* RFC 3261 §12.2.1.1: in-dialog requests go to the first route, or else to the remote target. */
static gboolean
dialog_next_hop (Call    *call,
                 SimAddr *addr)
{
  const char *uri_text = call->route_set && call->route_set->len > 0
                         ? call->route_set->pdata[0] : call->remote_target;
  osip_uri_t *uri = NULL;
  gboolean ok;

  if (uri_text == NULL)
    return FALSE;
  osip_uri_init (&uri);
  ok = osip_uri_parse (uri, uri_text) == 0 && sim_uri_to_addr (uri, addr);
  osip_uri_free (uri);
  return ok;
}

static osip_message_t *
build_in_dialog (SimPhone   *self,
                 const char *method,
                 guint32     cseq)
{
  Call *call = self->call;
  g_autofree char *routes = route_headers (call);
  g_autofree char *text = NULL;

  text = g_strdup_printf ("%s %s SIP/2.0\r\n"
                          "Max-Forwards: 70\r\n"
                          "%s"
                          "From: <%s>;tag=%s\r\n"
                          "To: <%s>;tag=%s\r\n"
                          "Call-ID: %s\r\n"
                          "CSeq: %u %s\r\n"
                          "User-Agent: %s\r\n"
                          "Content-Length: 0\r\n\r\n",
                          method, call->remote_target, routes, call->local_uri, call->local_tag,
                          call->remote_uri, call->remote_tag ? call->remote_tag : "", call->call_id,
                          cseq, method, self->user_agent);
  /* Parts of this text came from the peer: a bad value must not abort us. */
  return sim_message_parse (text, strlen (text), NULL);
}

static void
send_ack (SimPhone *self)
{
  osip_message_t *ack;
  SimAddr hop;

  if (self->call->remote_target == NULL || !dialog_next_hop (self->call, &hop))
    return;
  ack = build_in_dialog (self, "ACK", self->call->local_cseq);
  if (ack == NULL)
    return;
  /* RFC 3261 §13.2.2.4: the ACK for a 2xx is its own transaction, with a new branch. */
  sim_stack_add_via (self->stack, ack, NULL, hop.transport);
  sim_stack_send_stateless (self->stack, ack, &hop);
}

static void
bye_response_cb (SimStack       *stack,
                 SimClientTxn   *txn,
                 osip_message_t *response,
                 gpointer        user_data)
{
  /* The call is already over on our side; the 200 (or a 481/408) only closes the transaction. */
}

static void
send_bye (SimPhone *self)
{
  osip_message_t *bye;
  SimAddr hop;

  if (self->call->remote_target == NULL || !dialog_next_hop (self->call, &hop))
    return;
  self->call->local_cseq++;
  bye = build_in_dialog (self, "BYE", self->call->local_cseq);
  if (bye == NULL)
    return;
  sim_stack_send_request (self->stack, bye, &hop, NULL, bye_response_cb, NULL);
}

static void
take_dialog_from_response (Call           *call,
                           osip_message_t *response)
{
  osip_contact_t *contact = NULL;
  const char *tag = sim_message_to_tag (response);

  g_free (call->remote_tag);
  call->remote_tag = g_strdup (tag);
  if (osip_message_get_contact (response, 0, &contact) >= 0 && contact != NULL)
    {
      g_free (call->remote_target);
      call->remote_target = sim_uri_to_string (contact->url);
    }
  /* RFC 3261 §12.1.2: the UAC's route set is the Record-Route list in reverse order. */
  g_clear_pointer (&call->route_set, g_ptr_array_unref);
  call->route_set = g_ptr_array_new_with_free_func (g_free);
  for (int pos = 0; !osip_list_eol (&response->record_routes, pos); pos++)
    {
      osip_record_route_t *rr = osip_list_get (&response->record_routes, pos);
      g_ptr_array_insert (call->route_set, 0, sim_uri_to_string (rr->url));
    }
}

static void invite_response_cb (SimStack       *stack,
                                SimClientTxn   *txn,
                                osip_message_t *response,
                                gpointer        user_data);

/*
 * Sends the call's INVITE with CSeq local_cseq, and @header_name: @credentials when answering
 * a challenge.  RFC 3261 §22.2/§22.3 (and §8.1.3.5): the retry is a new request with the same
 * Call-ID, From tag and To, and a higher CSeq; it goes where the first one went.
 */
static void
send_invite (SimPhone   *self,
             const char *header_name,
             const char *credentials)
{
  Call *call = self->call;
  g_autofree char *sdp = sdp_body (self);
  g_autofree char *auth_line = NULL;
  g_autofree char *text = NULL;
  osip_message_t *invite;

  if (credentials != NULL)
    auth_line = g_strdup_printf ("%s: %s\r\n", header_name, credentials);
  text = g_strdup_printf ("INVITE %s SIP/2.0\r\n"
                          "Max-Forwards: 70\r\n"
                          "From: \"%s\" <%s>;tag=%s\r\n"
                          "To: <%s>\r\n"
                          "Call-ID: %s\r\n"
                          "CSeq: %u INVITE\r\n"
                          "Contact: <%s>\r\n"
                          "%s"
                          "User-Agent: %s\r\n"
                          "Content-Type: application/sdp\r\n"
                          "Content-Length: %zu\r\n\r\n%s",
                          call->request_uri, self->display_name, self->aor, call->local_tag,
                          call->remote_uri, call->call_id, call->local_cseq, self->contact,
                          auth_line != NULL ? auth_line : "", self->user_agent, strlen (sdp), sdp);
  invite = sim_message_from_text (text);
  if (call->invite != NULL)
    {
      sim_client_txn_detach (call->invite);
      sim_client_txn_unref (call->invite);
    }
  g_clear_pointer (&call->invite_request, osip_message_free);
  call->got_provisional = FALSE;
  call->invite = sim_client_txn_ref (sim_stack_send_request (self->stack, invite, &call->first_hop,
                                                             NULL, invite_response_cb, self));
  call->invite_request = sim_message_clone (sim_client_txn_get_request (call->invite));
}

/*
 * A 407 from the proxy (or a 401 from a UAS) to our INVITE: answer it once (RFC 3261 §22.3).
 * The transaction layer has ACKed the 407 already (§17.1.1.3).  Returns FALSE if it cannot be
 * answered: no challenge we understand, or our answer was challenged again without stale=true
 * (a wrong password).
 */
static gboolean
answer_invite_challenge (SimPhone       *self,
                         osip_message_t *response)
{
  Call *call = self->call;
  gboolean proxy = response->status_code == 407;
  osip_list_t *list = proxy ? &response->proxy_authenticates : &response->www_authenticates;
  SimDigestChallenge challenge = { 0 };
  SimDigestCredentials credentials = { 0 };
  g_autofree char *cnonce = NULL;
  g_autofree char *value = NULL;
  gboolean found = FALSE;

  for (int pos = 0; !found && !osip_list_eol (list, pos); pos++)
    {
      char *text = NULL;

      if (osip_www_authenticate_to_str (osip_list_get (list, pos), &text) != 0 || text == NULL)
        continue;
      sim_digest_challenge_clear (&challenge);
      found = sim_digest_challenge_parse (text, &challenge, NULL);
      osip_free (text);
    }
  if (!found)
    return FALSE;
  if (call->answered_challenge && !challenge.stale)
    {
      sim_digest_challenge_clear (&challenge);
      return FALSE;
    }
  cnonce = sim_random_token (phone_rand (self), 16);
  sim_digest_answer (&challenge, self->user, self->password, "INVITE", call->request_uri, cnonce,
                     1, &credentials);
  value = sim_digest_credentials_format (&credentials);
  sim_digest_challenge_clear (&challenge);
  sim_digest_credentials_clear (&credentials);
  call->answered_challenge = TRUE;
  call->local_cseq++;
  send_invite (self, proxy ? "Proxy-Authorization" : "Authorization", value);
  return TRUE;
}

static void send_cancel (SimPhone *self);

static void
invite_response_cb (SimStack       *stack,
                    SimClientTxn   *txn,
                    osip_message_t *response,
                    gpointer        user_data)
{
  SimPhone *self = user_data;
  Call *call = self->call;
  int status = response->status_code;
  g_autofree char *reason = NULL;

  if (!self->powered || call == NULL || call->invite != txn)
    return;

  if (status < 200)
    {
      call->got_provisional = TRUE;
      if (call->cancel_pending)
        {
          call->cancel_pending = FALSE;
          send_cancel (self);
        }
      if (status > 100 && call->state == SIM_CALL_CALLING)
        set_call_state (self, SIM_CALL_RINGING, NULL);
      return;
    }

  if (status < 300)
    {
      if (call->state == SIM_CALL_ESTABLISHED)
        {
          const char *tag = sim_message_to_tag (response);
          if (g_strcmp0 (tag, call->remote_tag) == 0)
            {
              send_ack (self);       /* a retransmitted 2xx: ACK it again */
              return;
            }
          /*
           * A second device answered the forked INVITE too (RFC 3261 §13.2.2.4): acknowledge
           * that dialog and end it at once with a BYE.
           */
          {
            Call *real = self->call;
            Call extra = { 0 };
            extra.call_id = real->call_id;
            extra.local_tag = real->local_tag;
            extra.local_uri = real->local_uri;
            extra.remote_uri = real->remote_uri;
            extra.local_cseq = real->local_cseq;
            take_dialog_from_response (&extra, response);
            self->call = &extra;
            send_ack (self);
            send_bye (self);
            self->call = real;
            g_free (extra.remote_tag);
            g_free (extra.remote_target);
            g_ptr_array_unref (extra.route_set);
          }
          return;
        }
      if (call->state == SIM_CALL_ENDED)
        {
          /* We hung up (CANCEL) but the 200 crossed it: ACK and BYE (RFC 3261 §9.1). */
          take_dialog_from_response (call, response);
          send_ack (self);
          send_bye (self);
          return;
        }
      take_dialog_from_response (call, response);
      send_ack (self);
      set_call_state (self, SIM_CALL_ESTABLISHED, NULL);
      return;
    }

  if ((status == 407 || status == 401) &&
      (call->state == SIM_CALL_CALLING || call->state == SIM_CALL_RINGING) &&
      answer_invite_challenge (self, response))
    return;

  reason = g_strdup_printf ("%d %s", status, response->reason_phrase ? response->reason_phrase : "");
  if (status == 407 || status == 401)
    set_call_state (self, SIM_CALL_FAILED,
                    call->answered_challenge
                    ? "wrong password: the proxy challenged our answer again (407)"
                    : "challenged (407) without a digest challenge we understand");
  else if (status == 487)
    set_call_state (self, SIM_CALL_ENDED, "cancelled (487 Request Terminated)");
  else if (status == 408)
    set_call_state (self, SIM_CALL_FAILED, "no answer at all: the INVITE timed out (Timer B, 408)");
  else
    set_call_state (self, SIM_CALL_FAILED, reason);
}

static char *
target_user (const char *target)
{
  const char *start = target;
  const char *at;

  if (g_str_has_prefix (start, "sip:"))
    start += 4;
  at = strchr (start, '@');
  return at ? g_strndup (start, at - start) : g_strdup (start);
}

gboolean
sim_phone_call (SimPhone    *self,
                const char  *target,
                GError     **error)
{
  g_autofree char *peer = NULL;
  g_autofree char *ruri = NULL;
  g_autofree char *to_uri = NULL;
  SimAddr dst = { 0 };
  Call *call;

  g_return_val_if_fail (SIM_IS_PHONE (self), FALSE);

  if (!self->powered)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s is powered off", self->device);
      return FALSE;
    }
  if (call_active (self))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_BUSY, "%s is already in a call", self->device);
      return FALSE;
    }
  peer = target_user (target);

  if (self->has_outbound)
    {
      /* Registrar mode: the proxy finds where @peer is (RFC 3261 §16). */
      ruri = g_strdup_printf ("sip:%s@%s", peer, self->domain);
      to_uri = g_strdup (ruri);
      dst = self->outbound;
    }
  else
    {
      /* Point-to-point: we must already know the peer's address (seed claim 3). */
      const char *address = g_hash_table_lookup (self->address_book, peer);
      if (address == NULL || !sim_addr_parse (&dst, address, 5060))
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                       "%s's address book has no address for %s", self->device, peer);
          return FALSE;
        }
      ruri = g_strdup_printf ("sip:%s@%s", peer, address);
      to_uri = g_strdup_printf ("sip:%s@%s", peer, self->domain);
    }

  drop_call (self);
  call = g_new0 (Call, 1);
  call->role = ROLE_UAC;
  call->state = SIM_CALL_IDLE;
  call->peer = g_strdup (peer);
  call->local_uri = g_strdup (self->aor);
  call->remote_uri = g_strdup (to_uri);
  call->remote_target = g_strdup (ruri);
  call->local_tag = sim_random_token (phone_rand (self), 10);
  {
    g_autofree char *token = sim_random_token (phone_rand (self), 12);
    call->call_id = g_strdup_printf ("%s@%s", token, sim_stack_get_local (self->stack)->ip);
  }
  call->local_cseq = 1;
  call->first_hop = dst;
  call->request_uri = g_strdup (ruri);
  self->call = call;

  set_call_state (self, SIM_CALL_CALLING, NULL);
  send_invite (self, NULL, NULL);
  return TRUE;
}

static void
cancel_response_cb (SimStack       *stack,
                    SimClientTxn   *txn,
                    osip_message_t *response,
                    gpointer        user_data)
{
}

/* RFC 3261 §9.1: the CANCEL goes where the INVITE went, with the INVITE's branch. */
static void
send_cancel (SimPhone *self)
{
  Call *call = self->call;

  sim_stack_send_request (self->stack, sim_message_new_cancel (call->invite_request), &call->first_hop,
                          sim_client_txn_get_branch (call->invite), cancel_response_cb, NULL);
}

gboolean
sim_phone_hangup (SimPhone  *self,
                  GError   **error)
{
  Call *call = self->call;

  g_return_val_if_fail (SIM_IS_PHONE (self), FALSE);

  if (!call_active (self))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s is not in a call", self->device);
      return FALSE;
    }
  switch (call->state)
    {
    case SIM_CALL_CALLING:
    case SIM_CALL_RINGING:
      if (call->role == ROLE_UAC)
        {
          /* RFC 3261 §9.1: no CANCEL before a provisional response; send it when one comes. */
          if (call->got_provisional)
            send_cancel (self);
          else
            call->cancel_pending = TRUE;
          set_call_state (self, SIM_CALL_ENDED, "hung up before the answer (CANCEL)");
        }
      else
        {
          sim_clock_clear (phone_clock (self), &call->answer_timer);
          sim_server_txn_reply (call->incoming, 603, NULL);
          set_call_state (self, SIM_CALL_ENDED, "declined (603)");
        }
      break;

    case SIM_CALL_ESTABLISHED:
      send_bye (self);
      set_call_state (self, SIM_CALL_ENDED, "hung up (BYE)");
      break;

    default:
      break;
    }
  return TRUE;
}

/* ---------------------------------------------------------------------------------------- */
/* Incoming requests                                                                         */

static void
answer_cb (gpointer data)
{
  SimPhone *self = data;
  Call *call = self->call;
  osip_message_t *ok;
  g_autofree char *sdp = NULL;
  g_autofree char *contact = NULL;

  call->answer_timer = 0;
  if (call->incoming == NULL || sim_server_txn_has_final (call->incoming))
    return;
  ok = sim_message_new_response (sim_server_txn_get_request (call->incoming), 200, NULL,
                                 call->local_tag);
  contact = g_strdup_printf ("<%s>", self->contact);
  osip_message_set_contact (ok, contact);
  for (guint i = 0; call->route_set != NULL && i < call->route_set->len; i++)
    {
      g_autofree char *rr = g_strdup_printf ("<%s>", (char *) call->route_set->pdata[i]);
      osip_message_set_record_route (ok, rr);
    }
  sdp = sdp_body (self);
  osip_message_set_content_type (ok, "application/sdp");
  osip_message_set_body (ok, sdp, strlen (sdp));
  {
    char len[16];
    g_snprintf (len, sizeof len, "%zu", strlen (sdp));
    osip_content_length_free (ok->content_length);
    ok->content_length = NULL;
    osip_message_set_content_length (ok, len);
  }
  osip_message_set_user_agent (ok, self->user_agent);
  sim_server_txn_respond (call->incoming, ok);
  set_call_state (self, SIM_CALL_ESTABLISHED, "answered");
}

static void
handle_invite (SimPhone       *self,
               SimServerTxn   *txn,
               osip_message_t *request)
{
  osip_message_t *ringing;
  osip_contact_t *contact = NULL;
  g_autofree char *contact_value = NULL;
  Call *call;

  if (osip_message_get_contact (request, 0, &contact) < 0 || contact == NULL || contact->url == NULL)
    {
      /* RFC 3261 §8.1.1.8: an INVITE that creates a dialog must say where to reach the caller. */
      sim_server_txn_reply (txn, 400, "Missing Contact");
      return;
    }
  if (sim_message_to_tag (request) != NULL)
    {
      /* A re-INVITE: not taught here. */
      sim_server_txn_reply (txn, 488, "Not Acceptable Here");
      return;
    }
  if (call_active (self))
    {
      sim_server_txn_reply (txn, 486, NULL);
      return;
    }
  drop_call (self);
  call = g_new0 (Call, 1);
  call->role = ROLE_UAS;
  call->incoming = sim_server_txn_ref (txn);
  call->call_id = sim_message_call_id (request);
  call->local_tag = g_strdup (sim_server_txn_get_to_tag (txn));
  call->remote_tag = g_strdup (sim_message_from_tag (request));
  call->local_uri = sim_uri_to_string (request->to->url);
  call->remote_uri = sim_uri_to_string (request->from->url);
  call->peer = g_strdup (request->from->url->username ? request->from->url->username : "?");
  call->remote_target = sim_uri_to_string (contact->url);
  /* RFC 3261 §12.1.1: the UAS's route set is the Record-Route list in order. */
  call->route_set = g_ptr_array_new_with_free_func (g_free);
  for (int pos = 0; !osip_list_eol (&request->record_routes, pos); pos++)
    {
      osip_record_route_t *rr = osip_list_get (&request->record_routes, pos);
      g_ptr_array_add (call->route_set, sim_uri_to_string (rr->url));
    }
  call->local_cseq = 0;
  call->state = SIM_CALL_IDLE;
  self->call = call;

  ringing = sim_message_new_response (request, 180, NULL, call->local_tag);
  contact_value = g_strdup_printf ("<%s>", self->contact);
  osip_message_set_contact (ringing, contact_value);
  for (guint i = 0; i < call->route_set->len; i++)
    {
      g_autofree char *rr = g_strdup_printf ("<%s>", (char *) call->route_set->pdata[i]);
      osip_message_set_record_route (ringing, rr);
    }
  sim_server_txn_respond (txn, ringing);
  set_call_state (self, SIM_CALL_RINGING, NULL);
  /* Any negative delay is SIM_PHONE_NEVER_ANSWER: the phone keeps ringing. */
  if (self->answer_delay >= 0)
    call->answer_timer = sim_clock_add (phone_clock (self), self->answer_delay, answer_cb, self, NULL);
}

/* RFC 3261 §12.2.2: an in-dialog request matches on Call-ID and both tags. */
static gboolean
matches_call (SimPhone       *self,
              osip_message_t *request)
{
  g_autofree char *call_id = sim_message_call_id (request);

  return self->call != NULL && g_strcmp0 (call_id, self->call->call_id) == 0 &&
         g_strcmp0 (sim_message_to_tag (request), self->call->local_tag) == 0 &&
         g_strcmp0 (sim_message_from_tag (request), self->call->remote_tag) == 0;
}

static void
request_cb (SimStack       *stack,
            SimServerTxn   *txn,
            osip_message_t *request,
            const SimAddr  *src,
            gpointer        user_data)
{
  SimPhone *self = user_data;
  const char *method = request->sip_method;

  if (!self->powered)
    return;

  if (txn == NULL)
    {
      /* ACK for our 2xx: the dialog is confirmed (RFC 3261 §13.3.1.4). */
      return;
    }
  if (strcmp (method, "INVITE") == 0)
    handle_invite (self, txn, request);
  else if (strcmp (method, "CANCEL") == 0)
    {
      SimServerTxn *invite = sim_stack_find_invite_txn (stack, request);
      if (invite == NULL)
        {
          sim_server_txn_reply (txn, 481, NULL);
          return;
        }
      /* RFC 3261 §9.2: 200 to the CANCEL (with the INVITE's To tag), 487 to the INVITE. */
      sim_server_txn_respond (txn, sim_message_new_response (request, 200, NULL,
                                                             sim_server_txn_get_to_tag (invite)));
      if (!sim_server_txn_has_final (invite))
        {
          sim_server_txn_reply (invite, 487, NULL);
          if (self->call != NULL && self->call->incoming == invite)
            {
              sim_clock_clear (phone_clock (self), &self->call->answer_timer);
              set_call_state (self, SIM_CALL_ENDED, "the caller cancelled, or another device answered");
            }
        }
    }
  else if (strcmp (method, "BYE") == 0)
    {
      if (!matches_call (self, request) || !call_active (self))
        {
          sim_server_txn_reply (txn, 481, NULL);
          return;
        }
      sim_server_txn_reply (txn, 200, NULL);
      set_call_state (self, SIM_CALL_ENDED, "the other side hung up (BYE)");
    }
  else if (strcmp (method, "OPTIONS") == 0)
    sim_server_txn_reply (txn, 200, NULL);
  else
    {
      osip_message_t *response = sim_message_new_response (request, 405, NULL,
                                                           sim_server_txn_get_to_tag (txn));
      osip_message_set_allow (response, "INVITE, ACK, CANCEL, BYE, OPTIONS");
      sim_server_txn_respond (txn, response);
    }
}

/* ---------------------------------------------------------------------------------------- */

static void
update_contact (SimPhone *self)
{
  char host[64];

  sim_addr_format (sim_stack_get_local (self->stack), host, sizeof host);
  g_free (self->contact);
  /* A ;rinstance= parameter, as some softphones write one per registration. */
  self->contact = g_strdup_printf ("sip:%s@%s%s%s", self->user, host,
                                   self->rinstance != NULL ? ";rinstance=" : "",
                                   self->rinstance != NULL ? self->rinstance : "");
  self->plain_contact = is_plain (self->contact, PLAIN_URI) && g_str_has_prefix (self->contact, "sip:");
}

static void
new_boot (SimPhone *self)
{
  g_autofree char *token = sim_random_token (phone_rand (self), 12);

  g_free (self->reg_call_id);
  self->reg_call_id = g_strdup_printf ("%s@%s", token, sim_stack_get_local (self->stack)->ip);
  g_free (self->reg_from_tag);
  self->reg_from_tag = sim_random_token (phone_rand (self), 10);
  self->reg_cseq = 0;
  check_plain_boot (self);
  update_reg_head (self);
}

void
sim_phone_moved (SimPhone *self)
{
  g_autofree char *previous = g_strdup (self->contact);

  update_contact (self);
  if (g_strcmp0 (previous, self->contact) == 0)
    return;
  if (self->reg_state == SIM_REG_REGISTERED || self->reg_state == SIM_REG_REGISTERING)
    {
      /* Tell the registrar at once: bind the new Contact and remove the old one. */
      g_free (self->old_contact);
      self->old_contact = g_steal_pointer (&previous);
      sim_phone_register (self, self->requested, NULL);
    }
}

void
sim_phone_set_powered (SimPhone *self,
                       gboolean  on)
{
  gboolean resume;

  if (self->powered == !!on)
    return;
  self->powered = !!on;
  if (!on)
    {
      /* Everything in memory is lost; the registrar is not told (its binding will expire). */
      sim_clock_clear (phone_clock (self), &self->refresh_timer);
      sim_clock_clear (phone_clock (self), &self->retry_timer);
      clear_reg_txn (self);
      self->pending = PENDING_NONE;
      drop_call (self);
      sim_stack_reset (self->stack);
      self->reg_state = SIM_REG_IDLE;
      g_clear_pointer (&self->old_contact, g_free);
      g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
      return;
    }
  /* A reboot: new Call-ID and From tag (RFC 3261 §10.2.4); register again if it was registered. */
  resume = self->was_registered;
  new_boot (self);
  g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
  if (resume)
    sim_phone_register (self, self->requested, NULL);
}

void
sim_phone_restore_shown (SimPhone    *self,
                         SimRegState  reg_state,
                         const char  *reg_reason,
                         guint32      granted,
                         SimTime      refresh_at,
                         gboolean     powered)
{
  SimClock *clock = phone_clock (self);

  g_return_if_fail (SIM_IS_PHONE (self));

  self->reg_state = reg_state;
  g_free (self->reg_reason);
  self->reg_reason = g_strdup (reg_reason);
  self->granted = granted;
  self->powered = powered;
  sim_clock_clear (clock, &self->refresh_timer);
  if (refresh_at != SIM_TIME_NONE)
    self->refresh_timer = sim_clock_add (clock, refresh_at - sim_clock_now (clock), refresh_cb,
                                         self, NULL);
}

gboolean
sim_phone_is_powered (SimPhone *self)
{
  return self->powered;
}

static void
sim_phone_dispose (GObject *object)
{
  SimPhone *self = SIM_PHONE (object);

  if (self->stack != NULL)
    {
      sim_clock_clear (phone_clock (self), &self->refresh_timer);
      sim_clock_clear (phone_clock (self), &self->retry_timer);
      clear_reg_txn (self);
      drop_call (self);
      sim_stack_set_request_func (self->stack, NULL, NULL);
    }
  g_clear_object (&self->stack);
  G_OBJECT_CLASS (sim_phone_parent_class)->dispose (object);
}

static void
sim_phone_finalize (GObject *object)
{
  SimPhone *self = SIM_PHONE (object);

  g_free (self->user);
  g_free (self->device);
  g_free (self->domain);
  g_free (self->password);
  g_free (self->display_name);
  g_free (self->aor);
  g_free (self->contact);
  g_free (self->old_contact);
  g_free (self->sent_contact);
  g_free (self->sent_old_contact);
  g_free (self->user_agent);
  g_free (self->reg_reason);
  g_free (self->reg_call_id);
  g_free (self->reg_head);
  g_free (self->reg_from_tag);
  g_free (self->rinstance);
  g_clear_pointer (&self->address_book, g_hash_table_unref);
  G_OBJECT_CLASS (sim_phone_parent_class)->finalize (object);
}

static void
sim_phone_class_init (SimPhoneClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = sim_phone_dispose;
  object_class->finalize = sim_phone_finalize;

  signals[SIGNAL_CHANGED] =
    g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 0);
}

static void
sim_phone_init (SimPhone *self)
{
  self->powered = TRUE;
  self->default_expires = DEFAULT_EXPIRES;
  self->answer_delay = SIM_SEC (2);
  self->address_book = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
}

SimPhone *
sim_phone_new (SimStack   *stack,
               const char *user,
               const char *device,
               const char *domain,
               const char *password,
               const char *display_name)
{
  SimPhone *self;

  g_return_val_if_fail (SIM_IS_STACK (stack), NULL);
  g_return_val_if_fail (user != NULL && device != NULL && domain != NULL, NULL);

  self = g_object_new (SIM_TYPE_PHONE, NULL);
  self->stack = g_object_ref (stack);
  self->user = g_strdup (user);
  self->device = g_strdup (device);
  self->domain = g_strdup (domain);
  self->password = g_strdup (password ? password : "");
  self->display_name = quoted_string_content (display_name ? display_name : user);
  self->aor = g_strdup_printf ("sip:%s@%s", user, domain);
  self->user_agent = g_strdup_printf ("SIP Lab phone (%s)", device);
  check_plain_identity (self);
  self->requested = self->default_expires;
  update_contact (self);
  new_boot (self);
  sim_stack_set_request_func (stack, request_cb, self);
  return self;
}

const char *sim_phone_get_user (SimPhone *self) { return self->user; }
const char *sim_phone_get_device (SimPhone *self) { return self->device; }
const char *sim_phone_get_aor (SimPhone *self) { return self->aor; }
const char *sim_phone_get_contact (SimPhone *self) { return self->contact; }
SimStack *sim_phone_get_stack (SimPhone *self) { return self->stack; }
SimRegState sim_phone_get_reg_state (SimPhone *self) { return self->reg_state; }
const char *sim_phone_get_reg_reason (SimPhone *self) { return self->reg_reason; }
guint32 sim_phone_get_granted (SimPhone *self) { return self->granted; }
guint32 sim_phone_get_cseq (SimPhone *self) { return self->reg_cseq; }
const char *sim_phone_get_call_id (SimPhone *self) { return self->reg_call_id; }
GHashTable *sim_phone_get_address_book (SimPhone *self) { return self->address_book; }

SimTime
sim_phone_get_refresh_at (SimPhone *self)
{
  if (self->refresh_timer == 0)
    return SIM_TIME_NONE;
  return sim_clock_deadline (phone_clock (self), self->refresh_timer);
}

SimCallState
sim_phone_get_call_state (SimPhone *self)
{
  return self->call ? self->call->state : SIM_CALL_IDLE;
}

const char *
sim_phone_get_call_peer (SimPhone *self)
{
  return self->call ? self->call->peer : NULL;
}

void
sim_phone_set_password (SimPhone   *self,
                        const char *password)
{
  g_free (self->password);
  self->password = g_strdup (password);
}

void
sim_phone_set_outbound (SimPhone      *self,
                        const SimAddr *proxy)
{
  self->has_outbound = proxy != NULL;
  if (proxy != NULL)
    self->outbound = *proxy;
}

void
sim_phone_set_default_expires (SimPhone *self,
                               guint     expires)
{
  self->default_expires = expires;
  self->requested = expires;
}

void
sim_phone_set_answer_delay (SimPhone *self,
                            SimTime   delay)
{
  self->answer_delay = delay;
}

void
sim_phone_set_quirks (SimPhone       *self,
                      SimPhoneQuirks  quirks)
{
  g_return_if_fail (SIM_IS_PHONE (self));
  self->quirks = quirks;
  sim_stack_set_rport (self->stack, !(quirks & SIM_PHONE_QUIRK_NO_RPORT));
  if ((quirks & SIM_PHONE_QUIRK_NEW_CONTACT_PER_REFRESH) && self->rinstance == NULL)
    self->rinstance = sim_random_token (phone_rand (self), 8);
  else if (!(quirks & SIM_PHONE_QUIRK_NEW_CONTACT_PER_REFRESH))
    g_clear_pointer (&self->rinstance, g_free);
  update_contact (self);
}

SimPhoneQuirks
sim_phone_get_quirks (SimPhone *self)
{
  g_return_val_if_fail (SIM_IS_PHONE (self), SIM_PHONE_QUIRK_NONE);
  return self->quirks;
}

void
sim_phone_learn_address (SimPhone   *self,
                         const char *user,
                         const char *address)
{
  g_hash_table_replace (self->address_book, g_strdup (user), g_strdup (address));
  g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
}

void
sim_phone_forget_address (SimPhone   *self,
                          const char *user)
{
  g_hash_table_remove (self->address_book, user);
  g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
}
