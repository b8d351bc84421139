/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "sim-auth.h"
#include "sim-digest.h"
#include "sim-location.h"
#include "sim-message.h"
#include "sim-message-private.h"
#include "sim-net.h"
#include "sim-registrar.h"
#include "sim-stack.h"

#include <gio/gio.h>
#include <string.h>

/*
 * These tests drive the real registrar over the simulated network: phones are client
 * SimStacks sending hand-written REGISTER requests, answering digest challenges themselves,
 * and every assertion is about what came back on the wire or what the location service holds.
 */

#define DOMAIN "lab.example"
#define ALICE "sip:alice@" DOMAIN
#define DESK "sip:alice@10.0.0.11:5060"
#define LAPTOP "sip:alice@10.0.0.12:5060"
#define MOBILE "sip:alice@10.0.0.13:5060"

typedef struct _Fixture Fixture;

/* One device: its own stack on its own host, and the REGISTER dialog state it keeps. */
typedef struct {
  Fixture *f;
  char *host;
  SimStack *stack;
  char *call_id;
  char *from_tag;
  guint32 cseq;
  char *user;               /* the AOR's user (To/From) */
  char *auth_user;          /* credentials used to answer a challenge */
  char *auth_password;
  guint n_cnonce;
  GPtrArray *responses;     /* final responses received, osip_message_t* */
} Phone;

struct _Fixture {
  SimClock *clock;
  SimTrace *trace;
  GRand *rand;
  SimNet *net;
  SimStack *server;
  SimAuth *auth;
  SimLocation *location;
  SimRegistrar *registrar;
  SimAddr registrar_addr;
  Phone desk;
  Phone laptop;
  Phone mobile;
  Phone bob;
  guint n_changed;
};

static const guint8 secret[] = "sip-lab test secret, fixed so runs repeat";

/* ---------------------------------------------------------------------------------------- */
/* World                                                                                     */

static void
net_send_cb (SimStack      *stack,
             const SimAddr *dst,
             const char    *data,
             gsize          len,
             gboolean       retransmission,
             gpointer       user_data)
{
  Fixture *f = user_data;
  sim_net_send (f->net, sim_stack_get_local (stack), dst, data, len, retransmission);
}

static void
stack_receive_cb (const SimAddr *src,
                  const SimAddr *dst,
                  const char    *data,
                  gsize          len,
                  gpointer       user_data)
{
  sim_stack_receive (user_data, src, data, len);
}

static void
server_request_cb (SimStack       *stack,
                   SimServerTxn   *txn,
                   osip_message_t *request,
                   const SimAddr  *src,
                   gpointer        user_data)
{
  Fixture *f = user_data;

  /* This node is only a registrar: it answers every request (an ACK to a 2xx has no txn). */
  if (txn != NULL)
    sim_registrar_handle (f->registrar, txn, request);
}

static void
changed_cb (SimLocation *location,
            const char  *aor,
            gpointer     user_data)
{
  Fixture *f = user_data;
  f->n_changed++;
}

static void
phone_init (Fixture    *f,
            Phone      *phone,
            const char *host,
            const char *ip,
            const char *user,
            const char *password)
{
  SimAddr local;

  g_assert_true (sim_net_add_host (f->net, host, ip, NULL));
  sim_addr_init (&local, ip, 5060, SIM_TRANSPORT_UDP);
  phone->f = f;
  phone->host = g_strdup (host);
  phone->stack = sim_stack_new (f->clock, f->trace, f->rand, host, &local);
  sim_stack_set_send_func (phone->stack, net_send_cb, f);
  sim_net_bind (f->net, host, 5060, stack_receive_cb, phone->stack);
  phone->call_id = g_strdup_printf ("%s-1@%s", host, ip);
  phone->from_tag = g_strdup_printf ("tag-%s", host);
  phone->user = g_strdup (user);
  phone->auth_user = g_strdup (user);
  phone->auth_password = g_strdup (password);
  phone->responses = g_ptr_array_new_with_free_func ((GDestroyNotify) osip_message_free);
}

static void
phone_clear (Phone *phone)
{
  g_clear_object (&phone->stack);
  g_clear_pointer (&phone->host, g_free);
  g_clear_pointer (&phone->call_id, g_free);
  g_clear_pointer (&phone->from_tag, g_free);
  g_clear_pointer (&phone->user, g_free);
  g_clear_pointer (&phone->auth_user, g_free);
  g_clear_pointer (&phone->auth_password, g_free);
  g_clear_pointer (&phone->responses, g_ptr_array_unref);
}

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  SimAddr local;

  f->clock = sim_clock_new_virtual ();
  f->trace = sim_trace_new ();
  f->rand = g_rand_new_with_seed (3261);
  f->net = sim_net_new (f->clock, f->trace, f->rand);

  g_assert_true (sim_net_add_host (f->net, "registrar", "10.0.0.1", NULL));
  sim_addr_init (&local, "10.0.0.1", 5060, SIM_TRANSPORT_UDP);
  f->registrar_addr = local;
  f->server = sim_stack_new (f->clock, f->trace, f->rand, "registrar", &local);
  sim_stack_set_send_func (f->server, net_send_cb, f);
  sim_stack_set_request_func (f->server, server_request_cb, f);
  sim_net_bind (f->net, "registrar", 5060, stack_receive_cb, f->server);

  f->auth = sim_auth_new (f->clock, f->trace, "registrar", DOMAIN, secret, sizeof secret - 1);
  f->location = sim_location_new (f->clock, f->trace, "registrar");
  g_signal_connect (f->location, "changed", G_CALLBACK (changed_cb), f);
  f->registrar = sim_registrar_new (f->server, f->location, f->auth, DOMAIN);
  sim_registrar_set_user (f->registrar, "alice", "wonderland");
  sim_registrar_set_user (f->registrar, "bob", "builder");

  phone_init (f, &f->desk, "alice-desk", "10.0.0.11", "alice", "wonderland");
  phone_init (f, &f->laptop, "alice-laptop", "10.0.0.12", "alice", "wonderland");
  phone_init (f, &f->mobile, "alice-mobile", "10.0.0.13", "alice", "wonderland");
  phone_init (f, &f->bob, "bob-desk", "10.0.0.21", "bob", "builder");
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  phone_clear (&f->desk);
  phone_clear (&f->laptop);
  phone_clear (&f->mobile);
  phone_clear (&f->bob);
  g_assert_finalize_object (f->registrar);
  g_clear_object (&f->auth);
  g_assert_finalize_object (f->location);
  g_clear_object (&f->server);
  g_clear_object (&f->net);
  g_clear_object (&f->trace);
  g_clear_object (&f->clock);
  g_clear_pointer (&f->rand, g_rand_free);
}

static void
set_policy (Fixture                  *f,
            const SimRegistrarPolicy *policy)
{
  sim_registrar_set_policy (f->registrar, policy);
}

/* ---------------------------------------------------------------------------------------- */
/* A phone sending REGISTER                                                                  */

static void
phone_response_cb (SimStack       *stack,
                   SimClientTxn   *txn,
                   osip_message_t *response,
                   gpointer        user_data)
{
  Phone *phone = user_data;

  if (response->status_code >= 200)
    g_ptr_array_add (phone->responses, sim_message_clone (response));
}

/*
 * Sends one REGISTER for the phone's AOR with @headers (each line ending in \r\n), to
 * @request_uri (default sip:lab.example), and returns the final response (borrowed).
 */
static osip_message_t *
phone_send (Phone      *phone,
            const char *request_uri,
            const char *to_user,
            const char *headers)
{
  Fixture *f = phone->f;
  g_autofree char *text = NULL;
  guint before = phone->responses->len;

  phone->cseq++;
  text = g_strdup_printf ("REGISTER %s SIP/2.0\r\n"
                          "Max-Forwards: 70\r\n"
                          "From: <sip:%s@" DOMAIN ">;tag=%s\r\n"
                          "To: <sip:%s@" DOMAIN ">\r\n"
                          "Call-ID: %s\r\n"
                          "CSeq: %u REGISTER\r\n"
                          "User-Agent: LabPhone/1.0\r\n"
                          "%s"
                          "Content-Length: 0\r\n"
                          "\r\n",
                          request_uri ? request_uri : "sip:" DOMAIN,
                          phone->user, phone->from_tag,
                          to_user ? to_user : phone->user,
                          phone->call_id, phone->cseq, headers ? headers : "");
  sim_stack_send_request (phone->stack, sim_message_from_text (text), &f->registrar_addr, NULL,
                          phone_response_cb, phone);
  sim_clock_run_until (f->clock, sim_clock_now (f->clock) + SIM_SEC (1));
  g_assert_cmpuint (phone->responses->len, ==, before + 1);
  return phone->responses->pdata[before];
}

static char *
www_authenticate (osip_message_t *response,
                  int             pos)
{
  osip_www_authenticate_t *www = NULL;
  char *dest = NULL;
  char *text;

  if (osip_message_get_www_authenticate (response, pos, &www) < 0 || www == NULL)
    return NULL;
  g_assert_cmpint (osip_www_authenticate_to_str (www, &dest), ==, 0);
  text = g_strdup (dest);
  osip_free (dest);
  return text;
}

/* The Authorization header line answering the first challenge of @challenge_response. */
static char *
phone_answer (Phone          *phone,
              osip_message_t *challenge_response,
              const char     *request_uri)
{
  g_autofree char *value = www_authenticate (challenge_response, 0);
  g_autofree char *cnonce = g_strdup_printf ("cnonce-%s-%u", phone->host, ++phone->n_cnonce);
  g_autofree char *credentials = NULL;
  SimDigestChallenge challenge = { NULL, };
  SimDigestCredentials answer = { NULL, };
  g_autoptr(GError) error = NULL;

  g_assert_nonnull (value);
  g_assert_true (sim_digest_challenge_parse (value, &challenge, &error));
  g_assert_no_error (error);
  sim_digest_answer (&challenge, phone->auth_user, phone->auth_password, "REGISTER",
                     request_uri ? request_uri : "sip:" DOMAIN, cnonce, 1, &answer);
  credentials = sim_digest_credentials_format (&answer);
  sim_digest_challenge_clear (&challenge);
  sim_digest_credentials_clear (&answer);
  return g_strdup_printf ("Authorization: %s\r\n", credentials);
}

/* REGISTER, and when challenged answer once, as a phone does.  Returns the last response. */
static osip_message_t *
phone_register_to (Phone      *phone,
                   const char *request_uri,
                   const char *to_user,
                   const char *headers)
{
  osip_message_t *response = phone_send (phone, request_uri, to_user, headers);
  g_autofree char *authorization = NULL;
  g_autofree char *with_auth = NULL;

  if (response->status_code != 401)
    return response;
  authorization = phone_answer (phone, response, request_uri);
  with_auth = g_strconcat (headers ? headers : "", authorization, NULL);
  return phone_send (phone, request_uri, to_user, with_auth);
}

static osip_message_t *
phone_register (Phone      *phone,
                const char *headers)
{
  return phone_register_to (phone, NULL, NULL, headers);
}

static int
register_status (Phone      *phone,
                 const char *headers)
{
  return phone_register (phone, headers)->status_code;
}

/* ---------------------------------------------------------------------------------------- */
/* Reading responses and state                                                               */

/* All Contact header values of @response, joined with " | ". */
static char *
contacts_of (osip_message_t *response)
{
  g_autoptr(GString) out = g_string_new (NULL);

  for (int pos = 0; !osip_list_eol (&response->contacts, pos); pos++)
    {
      osip_contact_t *contact = osip_list_get (&response->contacts, pos);
      char *dest = NULL;

      g_assert_cmpint (osip_contact_to_str (contact, &dest), ==, 0);
      if (out->len > 0)
        g_string_append (out, " | ");
      g_string_append (out, dest);
      osip_free (dest);
    }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

/* All values of header @name, joined with ", " (libosip2 splits comma lists into headers). */
static char *
header_values (osip_message_t *message,
               const char     *name)
{
  g_autoptr(GString) out = g_string_new (NULL);
  osip_header_t *header = NULL;

  for (int pos = 0;
       (pos = osip_message_header_get_byname (message, name, pos, &header)) >= 0;
       pos++)
    g_string_append_printf (out, "%s%s", out->len > 0 ? ", " : "", header->hvalue);
  return g_string_free (g_steal_pointer (&out), FALSE);
}

static guint
n_bindings (Fixture *f)
{
  GPtrArray *bindings = sim_location_lookup (f->location, ALICE);
  return bindings != NULL ? bindings->len : 0;
}

static SimEvent *
last_binding_event (Fixture    *f,
                    const char *action)
{
  GPtrArray *events = sim_trace_get_events (f->trace);

  for (guint i = events->len; i > 0; i--)
    {
      SimEvent *event = events->pdata[i - 1];
      if (event->type == SIM_EVENT_BINDING &&
          (action == NULL || strcmp (event->action, action) == 0))
        return event;
    }
  return NULL;
}

static guint
count_binding_events (Fixture    *f,
                      const char *action)
{
  GPtrArray *events = sim_trace_get_events (f->trace);
  guint n = 0;

  for (guint i = 0; i < events->len; i++)
    {
      SimEvent *event = events->pdata[i];
      if (event->type == SIM_EVENT_BINDING && strcmp (event->action, action) == 0)
        n++;
    }
  return n;
}

/* A copy of the stored binding, to compare before and after a rejected request. */
static SimBinding *
binding_copy (Fixture    *f,
              const char *contact)
{
  const SimBinding *binding = sim_location_find (f->location, ALICE, contact);
  return binding != NULL ? sim_binding_copy (binding) : NULL;
}

static void
assert_binding_same (const SimBinding *before,
                     const SimBinding *after)
{
  g_assert_nonnull (before);
  g_assert_nonnull (after);
  g_assert_cmpstr (before->contact, ==, after->contact);
  g_assert_cmpint (before->expires_at, ==, after->expires_at);
  g_assert_cmpstr (before->call_id, ==, after->call_id);
  g_assert_cmpuint (before->cseq, ==, after->cseq);
  g_assert_cmpint (before->updated_at, ==, after->updated_at);
}

/* ---------------------------------------------------------------------------------------- */
/* 200 and 401                                                                               */

static void
test_challenge_then_ok (Fixture       *f,
                        gconstpointer  data)
{
  osip_message_t *response;
  g_autofree char *challenge = NULL;
  g_autofree char *contacts = NULL;
  const SimBinding *binding;

  g_test_summary ("The article's flow: REGISTER, 401 with one MD5 challenge, REGISTER with "
                  "Authorization, 200 listing the binding with its expires and a Date.");

  response = phone_send (&f->desk, NULL, NULL, "Contact: <" DESK ">\r\nExpires: 3600\r\n");
  g_assert_cmpint (response->status_code, ==, 401);
  challenge = www_authenticate (response, 0);
  g_assert_nonnull (strstr (challenge, "realm=\"" DOMAIN "\""));
  g_assert_nonnull (strstr (challenge, "algorithm=MD5"));
  g_assert_null (www_authenticate (response, 1));
  g_assert_cmpuint (n_bindings (f), ==, 0);
  /* A challenge is the normal first half of a registration, not a rejection. */
  g_assert_null (last_binding_event (f, "rejected"));

  {
    g_autofree char *authorization = phone_answer (&f->desk, response, NULL);
    g_autofree char *headers = g_strconcat ("Contact: <" DESK ">\r\nExpires: 3600\r\n",
                                            authorization, NULL);
    response = phone_send (&f->desk, NULL, NULL, headers);
  }
  g_assert_cmpint (response->status_code, ==, 200);
  contacts = contacts_of (response);
  g_assert_cmpstr (contacts, ==, "<" DESK ">;expires=3600");
  /* RFC 3261 §10.3 step 8: a Date, from the fixed epoch plus the session clock. */
  g_assert_cmpstr (sim_message_header (response, "date"), ==, "Thu, 01 Jan 2026 00:00:01 GMT");

  binding = sim_location_find (f->location, ALICE, DESK);
  g_assert_nonnull (binding);
  g_assert_cmpuint (binding->granted, ==, 3600);
  g_assert_cmpstr (binding->call_id, ==, "alice-desk-1@10.0.0.11");
  g_assert_cmpuint (binding->cseq, ==, 2);
  g_assert_cmpstr (binding->source.ip, ==, "10.0.0.11");
  g_assert_cmpuint (binding->source.port, ==, 5060);
  g_assert_cmpint (binding->source.transport, ==, SIM_TRANSPORT_UDP);
  g_assert_cmpstr (binding->user_agent, ==, "LabPhone/1.0");
  g_assert_cmpstr (last_binding_event (f, NULL)->action, ==, "added");
  g_assert_cmpuint (f->n_changed, ==, 1);
}

static void
test_two_devices_share_one_aor (Fixture       *f,
                                gconstpointer  data)
{
  osip_message_t *response;
  g_autofree char *contacts = NULL;

  g_assert_cmpint (phone_register (&f->desk, "Contact: <" DESK ">\r\n")->status_code, ==, 200);
  sim_clock_run_until (f->clock, sim_clock_now (f->clock) + SIM_SEC (100));
  response = phone_register (&f->laptop,
                             "Contact: \"Alice\" <" LAPTOP ">;q=0.5;+sip.instance="
                             "\"<urn:uuid:00000000-0000-0000-0000-000000000012>\"\r\n");
  g_assert_cmpint (response->status_code, ==, 200);

  /* Every current binding, each with the seconds it has left (default 3600 s for both). */
  contacts = contacts_of (response);
  g_assert_cmpstr (contacts, ==,
                   "<" DESK ">;expires=3498 | "
                   "<" LAPTOP ">;expires=3600;q=0.5;"
                   "+sip.instance=\"<urn:uuid:00000000-0000-0000-0000-000000000012>\"");
  g_assert_cmpuint (n_bindings (f), ==, 2);
  {
    const SimBinding *laptop = sim_location_find (f->location, ALICE, LAPTOP);
    g_assert_cmpstr (laptop->source.ip, ==, "10.0.0.12");
    g_assert_cmpfloat (laptop->q, ==, 0.5);
    g_assert_cmpstr (laptop->instance, ==, "<urn:uuid:00000000-0000-0000-0000-000000000012>");
    g_assert_nonnull (strstr (laptop->display, "Alice"));
  }
}

static void
test_refresh_keeps_one_binding (Fixture       *f,
                                gconstpointer  data)
{
  const SimBinding *binding;
  SimEvent *event;

  g_test_summary ("A refresh carries the same Contact and Call-ID with a higher CSeq: the "
                  "registrar updates the one binding instead of adding another.");

  g_assert_cmpint (register_status (&f->desk, "Contact: <" DESK ">\r\nExpires: 600\r\n"), ==, 200);
  sim_clock_run_until (f->clock, SIM_SEC (300));
  g_assert_cmpint (register_status (&f->desk, "Contact: <" DESK ">\r\nExpires: 600\r\n"), ==, 200);

  g_assert_cmpuint (n_bindings (f), ==, 1);
  binding = sim_location_find (f->location, ALICE, DESK);
  g_assert_cmpuint (binding->cseq, ==, 4);
  g_assert_cmpint (binding->registered_at, <, SIM_SEC (2));
  g_assert_cmpint (binding->updated_at, >=, SIM_SEC (300));
  g_assert_cmpint (binding->expires_at, ==, binding->updated_at + SIM_SEC (600));
  event = last_binding_event (f, NULL);
  g_assert_cmpstr (event->action, ==, "refreshed");
  g_assert_nonnull (strstr (event->reason, "same Contact and Call-ID"));

  /* The first grant's end passes: the refreshed binding stays. */
  sim_clock_run_until (f->clock, SIM_SEC (700));
  g_assert_cmpuint (n_bindings (f), ==, 1);
}

static void
test_binding_expires_at_the_granted_time (Fixture       *f,
                                          gconstpointer  data)
{
  const SimBinding *binding;
  SimTime expires_at;
  SimEvent *event;

  g_assert_cmpint (register_status (&f->desk, "Contact: <" DESK ">\r\nExpires: 120\r\n"), ==, 200);
  binding = sim_location_find (f->location, ALICE, DESK);
  expires_at = binding->expires_at;

  sim_clock_run_until (f->clock, expires_at - 1);
  g_assert_cmpuint (n_bindings (f), ==, 1);
  sim_clock_run_until (f->clock, expires_at);
  g_assert_cmpuint (n_bindings (f), ==, 0);

  event = last_binding_event (f, NULL);
  g_assert_cmpstr (event->action, ==, "expired");
  g_assert_cmpstr (event->aor, ==, ALICE);
  g_assert_cmpstr (event->contact, ==, DESK);
  g_assert_cmpint (event->t, ==, expires_at);
}

static void
test_no_auth_policy_registers_directly (Fixture       *f,
                                        gconstpointer  data)
{
  SimRegistrarPolicy policy = *sim_registrar_get_policy (f->registrar);
  osip_message_t *response;

  policy.require_auth = FALSE;
  set_policy (f, &policy);
  response = phone_send (&f->desk, NULL, NULL, "Contact: <" DESK ">\r\n");
  g_assert_cmpint (response->status_code, ==, 200);
  g_assert_cmpuint (n_bindings (f), ==, 1);

  /* Without authentication the To user is still checked against the user table. */
  response = phone_send (&f->desk, NULL, "carol", "Contact: <" DESK ">\r\n");
  g_assert_cmpint (response->status_code, ==, 404);
}

/* The raw texts of the @status responses the registrar sent, in order. */
static GPtrArray *
registrar_sent (Fixture *f,
                int      status)
{
  GPtrArray *events = sim_trace_get_events (f->trace);
  GPtrArray *texts = g_ptr_array_new ();

  for (guint i = 0; i < events->len; i++)
    {
      SimEvent *e = events->pdata[i];

      if (e->type == SIM_EVENT_PACKET && e->status == status &&
          g_strcmp0 (e->from, "registrar") == 0 && e->raw != NULL)
        g_ptr_array_add (texts, e->raw);
    }
  return texts;
}

static void
test_a_lost_200_is_sent_again_after_its_request_is_freed (Fixture       *f,
                                                          gconstpointer  data)
{
  g_autofree char *authorization = NULL;
  g_autofree char *headers = NULL;
  g_autoptr(GPtrArray) oks = NULL;
  g_autoptr(GPtrArray) challenges = NULL;
  osip_message_t *challenge;

  g_test_summary ("The 200 shares its REGISTER's Via, From, Call-ID and CSeq "
                  "(sim_message_new_response_sharing): when it is lost, the retransmitted "
                  "REGISTER gets it again, byte for byte, from the transaction's text after "
                  "the request itself was freed (RFC 3261 §17.2.2); a retransmitted "
                  "unauthenticated REGISTER gets a fresh 401 (§8.2.7).  Meant for ASan.");
  /* The phone's port is closed while its responses should be lost: the REGISTER and its
   * retransmissions still reach the registrar. */
  /* The 401 is lost (Timer E resends the REGISTER at 500 ms): each retransmission is a new
   * transaction and gets a new 401. */
  sim_net_unbind (f->net, "alice-desk", 5060);
  f->desk.cseq++;
  {
    g_autofree char *text = g_strdup_printf ("REGISTER sip:" DOMAIN " SIP/2.0\r\n"
                                             "Max-Forwards: 70\r\n"
                                             "From: <sip:alice@" DOMAIN ">;tag=%s\r\n"
                                             "To: <sip:alice@" DOMAIN ">\r\n"
                                             "Call-ID: %s\r\n"
                                             "CSeq: %u REGISTER\r\n"
                                             "Contact: <" DESK ">\r\n"
                                             "Content-Length: 0\r\n"
                                             "\r\n", f->desk.from_tag, f->desk.call_id,
                                             f->desk.cseq);
    sim_stack_send_request (f->desk.stack, sim_message_from_text (text), &f->registrar_addr,
                            NULL, phone_response_cb, &f->desk);
  }
  sim_clock_run_until (f->clock, sim_clock_now (f->clock) + SIM_MSEC (1200));
  sim_net_bind (f->net, "alice-desk", 5060, stack_receive_cb, f->desk.stack);
  sim_clock_run_until (f->clock, sim_clock_now (f->clock) + SIM_SEC (5));
  g_assert_cmpuint (f->desk.responses->len, ==, 1);
  challenge = f->desk.responses->pdata[0];
  g_assert_cmpint (challenge->status_code, ==, 401);
  challenges = registrar_sent (f, 401);
  g_assert_cmpuint (challenges->len, >=, 3);

  /* The 200 is lost until Timer E has fired a few times; the transaction is Completed and
   * holds only the response's text by then. */
  authorization = phone_answer (&f->desk, challenge, NULL);
  headers = g_strconcat ("Contact: <" DESK ">\r\n", authorization, NULL);
  sim_net_unbind (f->net, "alice-desk", 5060);
  f->desk.cseq++;
  {
    g_autofree char *text = g_strdup_printf ("REGISTER sip:" DOMAIN " SIP/2.0\r\n"
                                             "Max-Forwards: 70\r\n"
                                             "From: <sip:alice@" DOMAIN ">;tag=%s\r\n"
                                             "To: <sip:alice@" DOMAIN ">\r\n"
                                             "Call-ID: %s\r\n"
                                             "CSeq: %u REGISTER\r\n"
                                             "%s"
                                             "Content-Length: 0\r\n"
                                             "\r\n", f->desk.from_tag, f->desk.call_id,
                                             f->desk.cseq, headers);
    sim_stack_send_request (f->desk.stack, sim_message_from_text (text), &f->registrar_addr,
                            NULL, phone_response_cb, &f->desk);
  }
  sim_clock_run_until (f->clock, sim_clock_now (f->clock) + SIM_MSEC (1200));
  sim_net_bind (f->net, "alice-desk", 5060, stack_receive_cb, f->desk.stack);
  sim_clock_run_until (f->clock, sim_clock_now (f->clock) + SIM_SEC (40));

  g_assert_cmpuint (f->desk.responses->len, ==, 2);
  g_assert_cmpint (((osip_message_t *) f->desk.responses->pdata[1])->status_code, ==, 200);
  g_assert_cmpuint (n_bindings (f), ==, 1);
  oks = registrar_sent (f, 200);
  g_assert_cmpuint (oks->len, >=, 3);
  for (guint i = 1; i < oks->len; i++)
    g_assert_cmpstr (oks->pdata[i], ==, oks->pdata[0]);
  /* The location changed once: the retransmissions were answered, not processed again. */
  g_assert_cmpuint (f->n_changed, ==, 1);
}

static void
test_date_epoch_is_settable (Fixture       *f,
                             gconstpointer  data)
{
  osip_message_t *response;
  g_autofree char *date = NULL;

  g_assert_cmpint (sim_registrar_get_date_epoch (f->registrar), ==,
                   SIM_REGISTRAR_DEFAULT_DATE_EPOCH);
  /* RFC 3261 §20.17's own example date. */
  sim_registrar_set_date_epoch (f->registrar, 784111777);
  date = sim_registrar_format_date (f->registrar, 0);
  g_assert_cmpstr (date, ==, "Sun, 06 Nov 1994 08:49:37 GMT");

  response = phone_register (&f->desk, NULL);
  g_assert_cmpint (response->status_code, ==, 200);
  g_assert_cmpstr (sim_message_header (response, "date"), ==, "Sun, 06 Nov 1994 08:49:38 GMT");
}

/* ---------------------------------------------------------------------------------------- */
/* Expiry rules (RFC 3261 §10.3 step 7)                                                      */

static void
test_contact_expires_beats_expires_header (Fixture       *f,
                                           gconstpointer  data)
{
  osip_message_t *response;
  g_autofree char *contacts = NULL;

  response = phone_register (&f->desk,
                             "Contact: <" DESK ">;expires=120, <" LAPTOP ">\r\n"
                             "Expires: 600\r\n");
  g_assert_cmpint (response->status_code, ==, 200);
  contacts = contacts_of (response);
  g_assert_cmpstr (contacts, ==, "<" DESK ">;expires=120 | <" LAPTOP ">;expires=600");
  g_assert_cmpuint (sim_location_find (f->location, ALICE, DESK)->granted, ==, 120);
  g_assert_cmpuint (sim_location_find (f->location, ALICE, LAPTOP)->granted, ==, 600);
}

static void
test_default_expires_applies_without_any (Fixture       *f,
                                          gconstpointer  data)
{
  osip_message_t *response = phone_register (&f->desk, "Contact: <" DESK ">\r\n");
  g_autofree char *contacts = contacts_of (response);

  g_assert_cmpstr (contacts, ==, "<" DESK ">;expires=3600");
}

static void
test_max_expires_lowers_the_grant (Fixture       *f,
                                   gconstpointer  data)
{
  osip_message_t *response;
  g_autofree char *contacts = NULL;

  response = phone_register (&f->desk, "Contact: <" DESK ">\r\nExpires: 100000\r\n");
  g_assert_cmpint (response->status_code, ==, 200);
  contacts = contacts_of (response);
  g_assert_cmpstr (contacts, ==, "<" DESK ">;expires=7200");
  g_assert_nonnull (strstr (last_binding_event (f, "added")->reason, "asked for 100000 s"));
}

static void
test_too_brief_interval_gets_423 (Fixture       *f,
                                  gconstpointer  data)
{
  osip_message_t *response;

  response = phone_register (&f->desk, "Contact: <" DESK ">\r\nExpires: 30\r\n");
  g_assert_cmpint (response->status_code, ==, 423);
  g_assert_cmpstr (sim_message_header (response, "min-expires"), ==, "60");
  g_assert_cmpuint (n_bindings (f), ==, 0);
  g_assert_nonnull (strstr (last_binding_event (f, "rejected")->reason, "RFC 3261 §10.3 step 7"));

  /* The phone retries with Min-Expires, as RFC 3261 §10.2.8 says. */
  response = phone_register (&f->desk, "Contact: <" DESK ">\r\nExpires: 60\r\n");
  g_assert_cmpint (response->status_code, ==, 200);
}

static void
test_raise_to_min_grants_the_minimum (Fixture       *f,
                                      gconstpointer  data)
{
  SimRegistrarPolicy policy = *sim_registrar_get_policy (f->registrar);
  osip_message_t *response;
  g_autofree char *contacts = NULL;

  policy.raise_to_min = TRUE;
  set_policy (f, &policy);
  response = phone_register (&f->desk, "Contact: <" DESK ">\r\nExpires: 30\r\n");
  g_assert_cmpint (response->status_code, ==, 200);
  contacts = contacts_of (response);
  g_assert_cmpstr (contacts, ==, "<" DESK ">;expires=60");
}

static void
test_expires_zero_removes_the_binding (Fixture       *f,
                                       gconstpointer  data)
{
  osip_message_t *response;
  g_autofree char *contacts = NULL;

  phone_register (&f->desk, "Contact: <" DESK ">\r\n");
  phone_register (&f->laptop, "Contact: <" LAPTOP ">\r\n");
  g_assert_cmpuint (n_bindings (f), ==, 2);

  response = phone_register (&f->desk, "Contact: <" DESK ">\r\nExpires: 0\r\n");
  g_assert_cmpint (response->status_code, ==, 200);
  contacts = contacts_of (response);
  /* The laptop registered two seconds of virtual time before this request. */
  g_assert_cmpstr (contacts, ==, "<" LAPTOP ">;expires=3598");
  g_assert_null (sim_location_find (f->location, ALICE, DESK));
  g_assert_cmpstr (last_binding_event (f, NULL)->action, ==, "removed");
  g_assert_nonnull (strstr (last_binding_event (f, NULL)->reason, "expires 0"));
}

static void
test_contact_star_removes_every_binding (Fixture       *f,
                                         gconstpointer  data)
{
  osip_message_t *response;

  phone_register (&f->desk, "Contact: <" DESK ">\r\n");
  phone_register (&f->laptop, "Contact: <" LAPTOP ">\r\n");
  g_assert_cmpuint (n_bindings (f), ==, 2);

  response = phone_register (&f->desk, "Contact: *\r\nExpires: 0\r\n");
  g_assert_cmpint (response->status_code, ==, 200);
  g_assert_cmpint (osip_list_size (&response->contacts), ==, 0);
  g_assert_nonnull (sim_message_header (response, "date"));
  g_assert_cmpuint (n_bindings (f), ==, 0);
  g_assert_cmpuint (count_binding_events (f, "removed"), ==, 2);
}

static void
test_contact_star_obeys_the_cseq_rule (Fixture       *f,
                                       gconstpointer  data)
{
  osip_message_t *response;

  phone_register (&f->desk, "Contact: <" DESK ">\r\n");
  /* An old "remove everything" from the same Call-ID must not undo a newer registration. */
  f->desk.cseq = 0;
  response = phone_register (&f->desk, "Contact: *\r\nExpires: 0\r\n");
  g_assert_cmpint (response->status_code, ==, 400);
  g_assert_cmpuint (n_bindings (f), ==, 1);
  g_assert_nonnull (strstr (last_binding_event (f, "rejected")->reason, "not higher"));
}

static void
test_contact_star_misuse_is_400 (Fixture       *f,
                                 gconstpointer  data)
{
  osip_message_t *response;

  phone_register (&f->desk, "Contact: <" DESK ">\r\n");

  /* "*" with a non-zero expiration, with none at all, or beside another Contact. */
  response = phone_register (&f->desk, "Contact: *\r\nExpires: 3600\r\n");
  g_assert_cmpint (response->status_code, ==, 400);
  response = phone_register (&f->desk, "Contact: *\r\n");
  g_assert_cmpint (response->status_code, ==, 400);
  response = phone_register (&f->desk, "Contact: *\r\nContact: <" LAPTOP ">\r\nExpires: 0\r\n");
  g_assert_cmpint (response->status_code, ==, 400);

  g_assert_cmpuint (n_bindings (f), ==, 1);
  g_assert_nonnull (strstr (last_binding_event (f, "rejected")->reason, "§10.3 step 6"));
}

static void
test_bad_expires_is_400 (Fixture       *f,
                         gconstpointer  data)
{
  osip_message_t *response;

  response = phone_register (&f->desk, "Contact: <" DESK ">\r\nExpires: soon\r\n");
  g_assert_cmpint (response->status_code, ==, 400);
  response = phone_register (&f->desk, "Contact: <" DESK ">;expires=-5\r\n");
  g_assert_cmpint (response->status_code, ==, 400);
  response = phone_register (&f->desk, "Contact: <" DESK ">;q=2\r\n");
  g_assert_cmpint (response->status_code, ==, 400);
  g_assert_cmpuint (n_bindings (f), ==, 0);
}

static void
test_query_without_contact_lists_bindings (Fixture       *f,
                                           gconstpointer  data)
{
  osip_message_t *response;
  g_autofree char *contacts = NULL;
  g_autoptr(SimBinding) before = NULL;
  guint n_events;

  phone_register (&f->desk, "Contact: <" DESK ">\r\n");
  before = binding_copy (f, DESK);
  sim_clock_run_until (f->clock, before->updated_at + SIM_SEC (600));
  n_events = count_binding_events (f, "refreshed") + count_binding_events (f, "added");

  response = phone_register (&f->laptop, NULL);
  g_assert_cmpint (response->status_code, ==, 200);
  contacts = contacts_of (response);
  g_assert_cmpstr (contacts, ==, "<" DESK ">;expires=2999");
  g_assert_nonnull (sim_message_header (response, "date"));

  /* Nothing changed. */
  {
    g_autoptr(SimBinding) after = binding_copy (f, DESK);
    assert_binding_same (before, after);
  }
  g_assert_cmpuint (n_bindings (f), ==, 1);
  g_assert_cmpuint (count_binding_events (f, "refreshed") + count_binding_events (f, "added"), ==,
                    n_events);
}

/* ---------------------------------------------------------------------------------------- */
/* Call-ID and CSeq (RFC 3261 §10.3 step 7)                                                  */

static void
test_stale_cseq_is_rejected (Fixture       *f,
                             gconstpointer  data)
{
  g_autoptr(SimBinding) before = NULL;
  g_autoptr(SimBinding) after = NULL;
  osip_message_t *response;
  SimEvent *event;

  g_test_summary ("Same Call-ID, CSeq not higher: a stale or replayed REGISTER fails and the "
                  "binding stays as it was.");

  /* CSeq 1 is challenged, CSeq 2 is accepted. */
  phone_register (&f->desk, "Contact: <" DESK ">\r\nExpires: 600\r\n");
  before = binding_copy (f, DESK);
  g_assert_cmpuint (before->cseq, ==, 2);

  /* Start over at CSeq 1: the authenticated retry carries CSeq 2 again. */
  sim_clock_run_until (f->clock, SIM_SEC (10));
  f->desk.cseq = 0;
  response = phone_register (&f->desk, "Contact: <" DESK ">\r\nExpires: 300\r\n");
  g_assert_cmpint (response->status_code, ==, 400);

  after = binding_copy (f, DESK);
  assert_binding_same (before, after);
  event = last_binding_event (f, NULL);
  g_assert_cmpstr (event->action, ==, "rejected");
  g_assert_cmpstr (event->contact, ==, DESK);
  g_assert_cmpstr (event->reason, ==,
                   "CSeq 2 is not higher than 2 for the same Call-ID: a stale or replayed "
                   "REGISTER (RFC 3261 §10.3 step 7)");
  g_assert_cmpstr (event->text, ==, "400 Invalid CSeq");
}

static void
test_new_call_id_replaces_the_binding (Fixture       *f,
                                       gconstpointer  data)
{
  const SimBinding *binding;
  osip_message_t *response;

  phone_register (&f->desk, "Contact: <" DESK ">\r\n");
  sim_clock_run_until (f->clock, SIM_SEC (10));

  /* The phone restarts: new Call-ID, CSeq from 1 again.  That is allowed. */
  g_free (f->desk.call_id);
  f->desk.call_id = g_strdup ("alice-desk-2@10.0.0.11");
  f->desk.cseq = 0;
  response = phone_register (&f->desk, "Contact: <sip:ALICE@10.0.0.11:5060>\r\n");
  g_assert_cmpint (response->status_code, ==, 200);

  /* The host compares case-insensitively, but the user part does not (RFC 3261 §19.1.4). */
  g_assert_cmpuint (n_bindings (f), ==, 2);

  response = phone_register (&f->desk, "Contact: <sip:alice@10.0.0.11:5060>\r\n");
  g_assert_cmpint (response->status_code, ==, 200);
  binding = sim_location_find (f->location, ALICE, DESK);
  g_assert_cmpstr (binding->call_id, ==, "alice-desk-2@10.0.0.11");
  g_assert_cmpuint (binding->cseq, ==, 4);
  g_assert_cmpstr (last_binding_event (f, "refreshed")->contact, ==, DESK);
  g_assert_nonnull (strstr (last_binding_event (f, "refreshed")->reason, "new Call-ID"));
}

static void
test_host_case_does_not_make_a_new_binding (Fixture       *f,
                                            gconstpointer  data)
{
  phone_register (&f->desk, "Contact: <sip:alice@Desk.Lab.Example:5060>\r\n");
  phone_register (&f->desk, "Contact: <SIP:alice@desk.lab.example:5060>\r\n");
  g_assert_cmpuint (n_bindings (f), ==, 1);
  g_assert_nonnull (sim_location_find (f->location, ALICE, "sip:alice@desk.lab.example:5060"));

  /* An IPv6 host, and a user part whose escaped '@' must not be mistaken for the host's start. */
  phone_register (&f->desk, "Contact: <sip:alice@[2001:DB8::A]:5060>\r\n");
  phone_register (&f->desk, "Contact: <sip:alice@[2001:db8::a]:5060>\r\n");
  g_assert_cmpuint (n_bindings (f), ==, 2);
  g_assert_nonnull (sim_location_find (f->location, ALICE, "sip:alice@[2001:db8::a]:5060"));
  phone_register (&f->desk, "Contact: <sip:Al%40ICE@Soft.Lab.Example>\r\n");
  phone_register (&f->desk, "Contact: <sip:Al%40ICE@soft.lab.example>\r\n");
  g_assert_cmpuint (n_bindings (f), ==, 3);
  g_assert_nonnull (sim_location_find (f->location, ALICE, "sip:Al%40ICE@soft.lab.example"));
}

/* ---------------------------------------------------------------------------------------- */
/* Who may register what (RFC 3261 §10.3 steps 1-5)                                          */

static void
test_foreign_domain_is_403 (Fixture       *f,
                            gconstpointer  data)
{
  osip_message_t *response;

  response = phone_send (&f->desk, "sip:elsewhere.example", NULL, "Contact: <" DESK ">\r\n");
  g_assert_cmpint (response->status_code, ==, 403);
  g_assert_nonnull (strstr (last_binding_event (f, "rejected")->reason, "step 1"));

  /* The registrar's own address is ours too. */
  response = phone_register_to (&f->desk, "sip:10.0.0.1", NULL, "Contact: <" DESK ">\r\n");
  g_assert_cmpint (response->status_code, ==, 200);
}

static void
test_unknown_extension_is_420 (Fixture       *f,
                               gconstpointer  data)
{
  osip_message_t *response;
  g_autofree char *unsupported = NULL;

  response = phone_send (&f->desk, NULL, NULL, "Contact: <" DESK ">\r\nRequire: gruu, path\r\n");
  g_assert_cmpint (response->status_code, ==, 420);
  /* RFC 3261 §8.2.2.3: Unsupported names every option tag we do not support. */
  unsupported = header_values (response, "unsupported");
  g_assert_cmpstr (unsupported, ==, "gruu, path");
  g_assert_cmpuint (n_bindings (f), ==, 0);

  /* Header names are case-insensitive (RFC 3261 §7.3.1), after other unknown headers too. */
  response = phone_send (&f->desk, NULL, NULL,
                         "Contact: <" DESK ">\r\nX-Req: a\r\nREQUIRE: sec-agree\r\n");
  g_assert_cmpint (response->status_code, ==, 420);
  g_clear_pointer (&unsupported, g_free);
  unsupported = header_values (response, "unsupported");
  g_assert_cmpstr (unsupported, ==, "sec-agree");
  g_assert_cmpuint (n_bindings (f), ==, 0);
}

static void
test_wrong_password_is_challenged_again (Fixture       *f,
                                         gconstpointer  data)
{
  g_autofree char *challenge = NULL;
  osip_message_t *response;

  g_free (f->desk.auth_password);
  f->desk.auth_password = g_strdup ("guess");
  response = phone_register (&f->desk, "Contact: <" DESK ">\r\n");
  g_assert_cmpint (response->status_code, ==, 401);
  challenge = www_authenticate (response, 0);
  g_assert_nonnull (challenge);
  g_assert_null (strstr (challenge, "stale"));
  g_assert_cmpuint (n_bindings (f), ==, 0);
}

static void
test_stale_nonce_gets_a_stale_challenge (Fixture       *f,
                                         gconstpointer  data)
{
  osip_message_t *response;
  g_autofree char *authorization = NULL;
  g_autofree char *headers = NULL;
  g_autofree char *challenge = NULL;

  sim_auth_set_nonce_lifetime (f->auth, SIM_SEC (30));
  response = phone_send (&f->desk, NULL, NULL, "Contact: <" DESK ">\r\n");
  g_assert_cmpint (response->status_code, ==, 401);
  authorization = phone_answer (&f->desk, response, NULL);

  /* The user takes a while: the nonce is past its lifetime but the digest is right. */
  sim_clock_run_until (f->clock, SIM_SEC (45));
  headers = g_strconcat ("Contact: <" DESK ">\r\n", authorization, NULL);
  response = phone_send (&f->desk, NULL, NULL, headers);
  g_assert_cmpint (response->status_code, ==, 401);
  challenge = www_authenticate (response, 0);
  g_assert_nonnull (strstr (challenge, "stale=true"));
}

/* The nonce of @response's first challenge, without its quotes. */
static char *
challenge_nonce (osip_message_t *response)
{
  osip_www_authenticate_t *www = NULL;
  const char *nonce;

  g_assert_cmpint (osip_message_get_www_authenticate (response, 0, &www), >=, 0);
  nonce = osip_www_authenticate_get_nonce (www);
  g_assert_nonnull (nonce);
  g_assert_cmpint (nonce[0], ==, '"');
  return g_strndup (nonce + 1, strlen (nonce) - 2);
}

static void
test_challenges_differ_in_the_nonce_only (Fixture       *f,
                                          gconstpointer  data)
{
  g_autofree char *first = NULL;
  g_autofree char *first_nonce = NULL;
  g_autofree char *authorization = NULL;
  g_autofree char *headers = NULL;
  osip_message_t *response;

  g_test_summary ("The registrar copies the parse of an earlier 401's challenge instead of "
                  "parsing each again: every 401 still carries its own fresh nonce, the one "
                  "sim_auth issued, and a stale challenge and the fresh one after it are "
                  "each their own.");

  response = phone_send (&f->desk, NULL, NULL, "Contact: <" DESK ">\r\n");
  g_assert_cmpint (response->status_code, ==, 401);
  first = www_authenticate (response, 0);
  first_nonce = challenge_nonce (response);
  for (guint i = 0; i < 3; i++)
    {
      g_autofree char *text = NULL;
      g_autofree char *nonce = NULL;
      g_autofree char *expected = NULL;
      g_auto (GStrv) parts = NULL;

      response = phone_send (&f->desk, NULL, NULL, "Contact: <" DESK ">\r\n");
      g_assert_cmpint (response->status_code, ==, 401);
      text = www_authenticate (response, 0);
      nonce = challenge_nonce (response);
      g_assert_cmpstr (nonce, !=, first_nonce);
      parts = g_strsplit (first, first_nonce, 2);
      expected = g_strjoin (nonce, parts[0], parts[1], NULL);
      g_assert_cmpstr (text, ==, expected);
    }

  /* The last nonce answers; then it is past its lifetime: stale=true, then fresh again. */
  sim_auth_set_nonce_lifetime (f->auth, SIM_SEC (30));
  response = phone_send (&f->desk, NULL, NULL, "Contact: <" DESK ">\r\n");
  authorization = phone_answer (&f->desk, response, NULL);
  sim_clock_run_until (f->clock, sim_clock_now (f->clock) + SIM_SEC (45));
  headers = g_strconcat ("Contact: <" DESK ">\r\n", authorization, NULL);
  response = phone_send (&f->desk, NULL, NULL, headers);
  g_assert_cmpint (response->status_code, ==, 401);
  {
    g_autofree char *stale = www_authenticate (response, 0);
    g_autofree char *fresh = NULL;

    g_assert_nonnull (strstr (stale, "stale=true"));
    response = phone_send (&f->desk, NULL, NULL, "Contact: <" DESK ">\r\n");
    fresh = www_authenticate (response, 0);
    g_assert_null (strstr (fresh, "stale"));
  }

  /* The copied challenge is one the phone can answer. */
  g_clear_pointer (&authorization, g_free);
  g_clear_pointer (&headers, g_free);
  authorization = phone_answer (&f->desk, response, NULL);
  headers = g_strconcat ("Contact: <" DESK ">\r\n", authorization, NULL);
  response = phone_send (&f->desk, NULL, NULL, headers);
  g_assert_cmpint (response->status_code, ==, 200);
}

static void
test_malformed_authorization_is_400 (Fixture       *f,
                                     gconstpointer  data)
{
  osip_message_t *response;

  response = phone_send (&f->desk, NULL, NULL,
                         "Contact: <" DESK ">\r\n"
                         "Authorization: Digest username=\"alice\", realm=\"" DOMAIN "\"\r\n");
  g_assert_cmpint (response->status_code, ==, 400);
  g_assert_cmpuint (n_bindings (f), ==, 0);
}

static void
test_digest_uri_mismatch_is_400 (Fixture       *f,
                                 gconstpointer  data)
{
  osip_message_t *response;
  g_autofree char *authorization = NULL;
  g_autofree char *headers = NULL;

  g_test_summary ("A digest computed for another Request-URI may belong to another request: "
                  "400, not another challenge (RFC 7616 §3.4).");

  response = phone_send (&f->desk, NULL, NULL, "Contact: <" DESK ">\r\n");
  g_assert_cmpint (response->status_code, ==, 401);
  authorization = phone_answer (&f->desk, response, "sip:elsewhere.example");
  headers = g_strconcat ("Contact: <" DESK ">\r\n", authorization, NULL);
  response = phone_send (&f->desk, NULL, NULL, headers);
  g_assert_cmpint (response->status_code, ==, 400);
  g_assert_cmpuint (n_bindings (f), ==, 0);
}

static void
test_other_users_aor_is_403 (Fixture       *f,
                             gconstpointer  data)
{
  osip_message_t *response;

  /* Bob proves who he is, then tries to bind Alice's AOR to his phone. */
  response = phone_register_to (&f->bob, NULL, "alice", "Contact: <sip:bob@10.0.0.21:5060>\r\n");
  g_assert_cmpint (response->status_code, ==, 403);
  g_assert_cmpuint (n_bindings (f), ==, 0);
  g_assert_nonnull (strstr (last_binding_event (f, "rejected")->reason, "step 4"));
}

static void
test_unknown_user_is_challenged_then_404 (Fixture       *f,
                                          gconstpointer  data)
{
  osip_message_t *response;
  g_autofree char *challenge = NULL;

  g_test_summary ("An unknown user gets the same challenge as a known one (no account "
                  "enumeration) and can never authenticate; an authenticated user asking for "
                  "an AOR that does not exist learns 404 (RFC 3261 §10.3 step 5).");

  /* Carol has no account: challenged, and challenged again after answering. */
  g_free (f->desk.auth_user);
  f->desk.auth_user = g_strdup ("carol");
  response = phone_send (&f->desk, NULL, "carol", "Contact: <sip:carol@10.0.0.11:5060>\r\n");
  g_assert_cmpint (response->status_code, ==, 401);
  challenge = www_authenticate (response, 0);
  g_assert_nonnull (strstr (challenge, "realm=\"" DOMAIN "\""));
  response = phone_register_to (&f->desk, NULL, "carol", "Contact: <sip:carol@10.0.0.11:5060>\r\n");
  g_assert_cmpint (response->status_code, ==, 401);

  /* Bob authenticates and asks for carol: there is no such AOR. */
  response = phone_register_to (&f->bob, NULL, "carol", "Contact: <sip:bob@10.0.0.21:5060>\r\n");
  g_assert_cmpint (response->status_code, ==, 404);
  g_assert_nonnull (strstr (last_binding_event (f, "rejected")->reason, "step 5"));
  g_assert_cmpuint (sim_location_get_n_bindings (f->location), ==, 0);
}

/* ---------------------------------------------------------------------------------------- */
/* Limits and all-or-nothing                                                                 */

static void
limit_contacts (Fixture  *f,
                guint     max,
                gboolean  replace_oldest)
{
  SimRegistrarPolicy policy = *sim_registrar_get_policy (f->registrar);

  policy.max_contacts = max;
  policy.replace_oldest = replace_oldest;
  set_policy (f, &policy);
}

static void
test_too_many_contacts_is_503 (Fixture       *f,
                               gconstpointer  data)
{
  osip_message_t *response;

  limit_contacts (f, 2, FALSE);
  g_assert_cmpint (phone_register (&f->desk, "Contact: <" DESK ">\r\n")->status_code, ==, 200);
  g_assert_cmpint (phone_register (&f->laptop, "Contact: <" LAPTOP ">\r\n")->status_code, ==, 200);
  response = phone_register (&f->mobile, "Contact: <" MOBILE ">\r\n");
  g_assert_cmpint (response->status_code, ==, 503);
  g_assert_cmpuint (n_bindings (f), ==, 2);
  g_assert_null (sim_location_find (f->location, ALICE, MOBILE));

  /* A refresh of a present contact is still fine at the limit. */
  g_assert_cmpint (phone_register (&f->desk, "Contact: <" DESK ">\r\n")->status_code, ==, 200);
}

static void
test_replace_oldest_evicts_the_first_registered (Fixture       *f,
                                                 gconstpointer  data)
{
  osip_message_t *response;
  g_autofree char *contacts = NULL;
  SimEvent *event;

  limit_contacts (f, 2, TRUE);
  phone_register (&f->desk, "Contact: <" DESK ">\r\n");
  sim_clock_run_until (f->clock, SIM_SEC (10));
  phone_register (&f->laptop, "Contact: <" LAPTOP ">\r\n");
  sim_clock_run_until (f->clock, SIM_SEC (20));
  /* The desk refreshes: refreshing does not make a binding younger. */
  phone_register (&f->desk, "Contact: <" DESK ">\r\n");
  sim_clock_run_until (f->clock, SIM_SEC (30));

  response = phone_register (&f->mobile, "Contact: <" MOBILE ">\r\n");
  g_assert_cmpint (response->status_code, ==, 200);
  contacts = contacts_of (response);
  g_assert_cmpstr (contacts, ==, "<" LAPTOP ">;expires=3580 | <" MOBILE ">;expires=3600");

  event = last_binding_event (f, "removed");
  g_assert_cmpstr (event->contact, ==, DESK);
  g_assert_nonnull (strstr (event->reason, "evicted"));
}

static void
test_one_bad_contact_changes_nothing (Fixture       *f,
                                      gconstpointer  data)
{
  g_autoptr(SimBinding) before = NULL;
  osip_message_t *response;
  guint n_changed;

  g_test_summary ("A REGISTER is all-or-nothing: one bad Contact fails the whole request and "
                  "not even its good Contacts take effect.");

  phone_register (&f->desk, "Contact: <" DESK ">\r\n");
  before = binding_copy (f, DESK);
  n_changed = f->n_changed;

  /* A good removal and a good addition, then a Contact with a broken expires. */
  response = phone_register (&f->desk,
                             "Contact: <" DESK ">;expires=0\r\n"
                             "Contact: <" LAPTOP ">;expires=600\r\n"
                             "Contact: <" MOBILE ">;expires=never\r\n");
  g_assert_cmpint (response->status_code, ==, 400);

  /* An addition with a too-brief one. */
  response = phone_register (&f->desk,
                             "Contact: <" LAPTOP ">;expires=600\r\n"
                             "Contact: <" MOBILE ">;expires=5\r\n");
  g_assert_cmpint (response->status_code, ==, 423);

  {
    g_autoptr(SimBinding) after = binding_copy (f, DESK);
    assert_binding_same (before, after);
  }
  g_assert_cmpuint (n_bindings (f), ==, 1);
  g_assert_cmpuint (f->n_changed, ==, n_changed);
  g_assert_cmpuint (count_binding_events (f, "removed"), ==, 0);
}

static void
test_non_register_is_405 (Fixture       *f,
                          gconstpointer  data)
{
  const char *text = "OPTIONS sip:" DOMAIN " SIP/2.0\r\n"
                     "Max-Forwards: 70\r\n"
                     "From: <" ALICE ">;tag=x\r\n"
                     "To: <sip:" DOMAIN ">\r\n"
                     "Call-ID: options-1\r\n"
                     "CSeq: 1 OPTIONS\r\n"
                     "Content-Length: 0\r\n\r\n";
  osip_message_t *response;

  sim_stack_send_request (f->desk.stack, sim_message_from_text (text), &f->registrar_addr, NULL,
                          phone_response_cb, &f->desk);
  sim_clock_run_until (f->clock, SIM_SEC (1));
  g_assert_cmpuint (f->desk.responses->len, ==, 1);
  response = f->desk.responses->pdata[0];
  g_assert_cmpint (response->status_code, ==, 405);
  {
    osip_allow_t *allow = NULL;
    /* libosip2 parses Allow into its own list. */
    g_assert_cmpint (osip_message_get_allow (response, 0, &allow), >=, 0);
    g_assert_cmpstr (allow->value, ==, "REGISTER");
  }
}

/* ---------------------------------------------------------------------------------------- */
/* The commit hook                                                                           */

typedef struct {
  gboolean fail;
  guint calls;
  guint last_len;
} Commit;

static gboolean
commit_cb (SimRegistrar  *registrar,
           const char    *aor,
           GPtrArray     *bindings,
           gpointer       user_data,
           GError       **error)
{
  Commit *commit = user_data;

  commit->calls++;
  commit->last_len = bindings->len;
  g_assert_cmpstr (aor, ==, ALICE);
  if (commit->fail)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE, "disk full (test)");
      return FALSE;
    }
  return TRUE;
}

static void
test_failed_commit_keeps_old_bindings (Fixture       *f,
                                       gconstpointer  data)
{
  Commit commit = { FALSE, 0, 0 };
  g_autoptr(SimBinding) before = NULL;
  g_autoptr(SimBinding) after = NULL;
  osip_message_t *response;
  SimEvent *event;
  guint changed;

  g_test_summary ("When the commit hook (the database) refuses a REGISTER's new binding set, "
                  "the phone gets 500 instead of 200 and the old bindings stay, all or nothing.");

  sim_registrar_set_commit_func (f->registrar, commit_cb, &commit);
  g_assert_cmpint (register_status (&f->desk, "Contact: <" DESK ">\r\nExpires: 600\r\n"), ==, 200);
  g_assert_cmpuint (commit.calls, ==, 1);
  g_assert_cmpuint (commit.last_len, ==, 1);
  before = binding_copy (f, DESK);
  changed = f->n_changed;

  commit.fail = TRUE;
  sim_clock_run_until (f->clock, SIM_SEC (100));
  /* A refresh of the desk plus a new laptop contact: neither may take effect. */
  response = phone_register (&f->desk, "Contact: <" DESK ">, <" LAPTOP ">\r\nExpires: 900\r\n");
  g_assert_cmpint (response->status_code, ==, 500);
  g_assert_cmpstr (response->reason_phrase, ==, "Server Internal Error");
  g_assert_null (sim_message_header (response, "contact"));
  g_assert_cmpuint (commit.calls, ==, 2);
  g_assert_cmpuint (commit.last_len, ==, 2);
  g_assert_cmpuint (n_bindings (f), ==, 1);
  after = binding_copy (f, DESK);
  assert_binding_same (before, after);
  g_assert_null (sim_location_find (f->location, ALICE, LAPTOP));
  g_assert_cmpuint (f->n_changed, ==, changed);
  event = last_binding_event (f, "rejected");
  g_assert_nonnull (event);
  g_assert_cmpstr (event->text, ==, "500 Server Internal Error");
  g_assert_nonnull (strstr (event->reason, "disk full (test)"));

  /* The store recovers: the same request goes through. */
  commit.fail = FALSE;
  g_assert_cmpint (register_status (&f->desk, "Contact: <" DESK ">, <" LAPTOP ">\r\nExpires: 900\r\n"),
                   ==, 200);
  g_assert_cmpuint (n_bindings (f), ==, 2);
}

/* A binding's display text is what osip_contact_to_str() makes of the Contact, to the byte. */
static void
test_binding_display_is_libosip2_text (Fixture       *f,
                                       gconstpointer  data)
{
  static const char *const contacts[] = {
    "<" DESK ">",
    "\"Alice Smith\" <sip:alice@10.0.0.11;transport=udp>;q=0.7;"
      "+sip.instance=\"<urn:uuid:00000000-0000-0000-0000-000000000001>\"",
    "Bob <SIP:Al%41ice@EXAMPLE.com;lr;x=1?subject=hi&priority=urgent>;reg-id=1;flag",
    "<sip:alice@[2001:db8::1]:5070>;expires=600;Q=1",
    "sip:alice@10.0.0.13;methods=INVITE",
    "<sip:alice:secret@10.0.0.14;maddr=10.0.0.1>",
    "<sips:%61lice%20x@10.0.0.15>",
    "<tel:+15551234567;phone-context=lab.example>",
  };
  SimRegistrarPolicy policy = *sim_registrar_get_policy (f->registrar);

  policy.require_auth = FALSE;
  set_policy (f, &policy);
  for (guint i = 0; i < G_N_ELEMENTS (contacts); i++)
    {
      g_autofree char *header = g_strdup_printf ("Contact: %s\r\n", contacts[i]);
      osip_contact_t *contact = NULL;
      char *expected = NULL;
      GPtrArray *bindings;

      g_test_message ("Contact: %s", contacts[i]);
      g_assert_cmpint (osip_contact_init (&contact), ==, 0);
      g_assert_cmpint (osip_contact_parse (contact, contacts[i]), ==, 0);
      g_assert_cmpint (osip_contact_to_str (contact, &expected), ==, 0);

      sim_location_replace (f->location, ALICE, NULL, "cleared by the test");
      g_assert_cmpint (phone_send (&f->desk, NULL, NULL, header)->status_code, ==, 200);
      bindings = sim_location_lookup (f->location, ALICE);
      g_assert_nonnull (bindings);
      g_assert_cmpuint (bindings->len, ==, 1);
      g_assert_cmpstr (((SimBinding *) bindings->pdata[0])->display, ==, expected);
      osip_free (expected);
      osip_contact_free (contact);
    }
}

/* The 200 OK's Contacts, built without a parse, read as the "<uri>;expires=..." text would. */
static void
test_ok_contacts_match_parsed_text (Fixture       *f,
                                    gconstpointer  data)
{
  SimRegistrarPolicy policy = *sim_registrar_get_policy (f->registrar);
  g_autoptr(GString) expected = g_string_new (NULL);
  g_autofree char *contacts = NULL;
  osip_message_t *response;
  GPtrArray *bindings;

  policy.require_auth = FALSE;
  set_policy (f, &policy);
  response = phone_send (&f->desk, NULL, NULL,
                         "Contact: <sip:alice@10.0.0.11:5060>;expires=600\r\n"
                         "Contact: \"A\" <SIP:Alice@[2001:DB8::1]:5070;transport=TCP;lr>;q=0.25;"
                         "+sip.instance=\"<urn:uuid:00000000-0000-0000-0000-000000000001>\"\r\n"
                         "Contact: <tel:+15551234567;phone-context=lab.example>;q=1\r\n"
                         "Contact: <sips:%61lice%20x@10.0.0.15?subject=hi>;expires=1200\r\n"
                         "Contact: <sip:alice@10.0.0.16>;+sip.instance=\"a;b c\"\r\n");
  g_assert_cmpint (response->status_code, ==, 200);
  bindings = sim_location_lookup (f->location, ALICE);
  g_assert_nonnull (bindings);
  g_assert_cmpuint (bindings->len, ==, 5);
  for (guint i = 0; i < bindings->len; i++)
    {
      const SimBinding *binding = bindings->pdata[i];
      g_autoptr(GString) text = g_string_new (NULL);
      osip_contact_t *contact = NULL;
      char *dest = NULL;

      g_string_append_printf (text, "<%s>;expires=%u", binding->contact, binding->granted);
      if (binding->q >= 0)
        {
          char q[G_ASCII_DTOSTR_BUF_SIZE];
          g_string_append_printf (text, ";q=%s", g_ascii_formatd (q, sizeof q, "%.3g", binding->q));
        }
      if (binding->instance != NULL)
        g_string_append_printf (text, ";+sip.instance=\"%s\"", binding->instance);
      g_assert_cmpint (osip_contact_init (&contact), ==, 0);
      g_assert_cmpint (osip_contact_parse (contact, text->str), ==, 0);
      g_assert_cmpint (osip_contact_to_str (contact, &dest), ==, 0);
      if (expected->len > 0)
        g_string_append (expected, " | ");
      g_string_append (expected, dest);
      osip_free (dest);
      osip_contact_free (contact);
    }
  contacts = contacts_of (response);
  g_test_message ("%s", contacts);
  g_assert_cmpstr (contacts, ==, expected->str);
}

static void
test_is_our_host (Fixture       *f,
                  gconstpointer  data)
{
  SimAddr second;

  g_test_summary ("One answer to 'is this host us': the domain at any port, and every listener "
                  "address (not only the first) at its port or, with port 0, at any.");

  sim_addr_init (&second, "::1", 5070, SIM_TRANSPORT_TCP);
  sim_stack_add_local_addr (f->server, &second);
  g_assert_true (sim_registrar_is_our_host (f->registrar, "LAB.example", 0));
  g_assert_true (sim_registrar_is_our_host (f->registrar, DOMAIN, 9999));
  g_assert_true (sim_registrar_is_our_host (f->registrar, "10.0.0.1", 0));
  g_assert_true (sim_registrar_is_our_host (f->registrar, "10.0.0.1", 5060));
  g_assert_false (sim_registrar_is_our_host (f->registrar, "10.0.0.1", 5061));
  g_assert_true (sim_registrar_is_our_host (f->registrar, "[::1]", 0));
  g_assert_true (sim_registrar_is_our_host (f->registrar, "0:0::1", 5070));
  g_assert_false (sim_registrar_is_our_host (f->registrar, "::1", 5060));
  g_assert_false (sim_registrar_is_our_host (f->registrar, "10.0.0.2", 0));
  g_assert_false (sim_registrar_is_our_host (f->registrar, "other.example", 0));
  g_assert_false (sim_registrar_is_our_host (f->registrar, NULL, 0));
}

/*
 * The 200 lists each binding's Contact by parsing the stored URI text with the parser's fast
 * path (_sim_message_uri_parse) rather than osip_uri_parse: for any text both must build the
 * same structure and accept and reject the same, or the 200's bytes would change.
 */
static void
assert_params_equal (const osip_list_t *a,
                     const osip_list_t *b)
{
  g_assert_cmpint (osip_list_size (a), ==, osip_list_size (b));
  for (int i = 0; i < osip_list_size (a); i++)
    {
      const osip_uri_param_t *pa = osip_list_get (a, i), *pb = osip_list_get (b, i);

      g_assert_cmpstr (pa->gname, ==, pb->gname);
      g_assert_cmpstr (pa->gvalue, ==, pb->gvalue);
    }
}

static void
test_contact_uri_parse_matches_libosip2 (void)
{
  static const char *const texts[] = {
    "sip:alice@192.0.2.10:5060", "sip:alice@lab.example", "sips:bob@lab.example:5061;transport=tcp",
    "sip:desk@10.0.0.1:5060;transport=udp;ob;lr", "SIP:Alice@LAB.example", "sip:lab.example",
    "sip:lab.example:5060;maddr=10.0.0.1", "sip:alice@[::1]:5060", "sip:alice%20x@lab.example",
    "sip:alice:secret@lab.example", "sip:alice@lab.example?subject=hi", "tel:+15551234567",
    "sip:alice@lab.example;a=%41", "sip:@lab.example", "sip:alice@", "sip:alice@host:123456",
    "sip:alice@host:", "sip:alice@host;", "sip:alice@host;=x", "sip:alice@host;x=", "sip:",
    "sip:a", "sipx:alice@host", "sip:alice@host name", "sip:al;ice@host", "sip:alice@h_st",
    "urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6",
  };

  for (guint i = 0; i < G_N_ELEMENTS (texts); i++)
    {
      osip_uri_t *ours = NULL, *theirs = NULL;
      int rc_ours, rc_theirs;

      osip_uri_init (&ours);
      osip_uri_init (&theirs);
      rc_ours = _sim_message_uri_parse (ours, texts[i]);
      rc_theirs = osip_uri_parse (theirs, texts[i]);
      g_assert_cmpint (rc_ours, ==, rc_theirs);
      if (rc_ours == 0)
        {
          g_assert_cmpstr (ours->scheme, ==, theirs->scheme);
          g_assert_cmpstr (ours->username, ==, theirs->username);
          g_assert_cmpstr (ours->password, ==, theirs->password);
          g_assert_cmpstr (ours->host, ==, theirs->host);
          g_assert_cmpstr (ours->port, ==, theirs->port);
          g_assert_cmpstr (ours->string, ==, theirs->string);
          assert_params_equal (&ours->url_params, &theirs->url_params);
          assert_params_equal (&ours->url_headers, &theirs->url_headers);
        }
      osip_uri_free (ours);
      osip_uri_free (theirs);
    }
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add ("/sim/registrar/" path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

  ADD ("challenge-then-200-with-contact-expires-and-date", test_challenge_then_ok);
  ADD ("our-host-is-the-domain-or-any-listener", test_is_our_host);
  ADD ("failed-commit-answers-500-and-keeps-old-bindings", test_failed_commit_keeps_old_bindings);
  ADD ("two-devices-share-one-aor", test_two_devices_share_one_aor);
  ADD ("refresh-keeps-one-binding", test_refresh_keeps_one_binding);
  ADD ("binding-expires-at-the-granted-time", test_binding_expires_at_the_granted_time);
  ADD ("no-auth-policy-registers-directly", test_no_auth_policy_registers_directly);
  ADD ("a-lost-200-is-sent-again-after-its-request-is-freed",
       test_a_lost_200_is_sent_again_after_its_request_is_freed);
  ADD ("binding-display-is-libosip2-text", test_binding_display_is_libosip2_text);
  ADD ("ok-contacts-match-parsed-text", test_ok_contacts_match_parsed_text);
  ADD ("date-epoch-is-settable", test_date_epoch_is_settable);
  ADD ("contact-expires-beats-expires-header", test_contact_expires_beats_expires_header);
  ADD ("default-expires-applies-without-any", test_default_expires_applies_without_any);
  ADD ("max-expires-lowers-the-grant", test_max_expires_lowers_the_grant);
  ADD ("too-brief-interval-gets-423-with-min-expires", test_too_brief_interval_gets_423);
  ADD ("raise-to-min-grants-the-minimum", test_raise_to_min_grants_the_minimum);
  ADD ("expires-zero-removes-the-binding", test_expires_zero_removes_the_binding);
  ADD ("contact-star-removes-every-binding", test_contact_star_removes_every_binding);
  ADD ("contact-star-obeys-the-cseq-rule", test_contact_star_obeys_the_cseq_rule);
  ADD ("contact-star-misuse-is-400", test_contact_star_misuse_is_400);
  ADD ("bad-expires-is-400", test_bad_expires_is_400);
  ADD ("query-without-contact-lists-bindings", test_query_without_contact_lists_bindings);
  ADD ("stale-cseq-is-rejected", test_stale_cseq_is_rejected);
  ADD ("new-call-id-replaces-the-binding", test_new_call_id_replaces_the_binding);
  ADD ("host-case-does-not-make-a-new-binding", test_host_case_does_not_make_a_new_binding);
  ADD ("foreign-domain-is-403", test_foreign_domain_is_403);
  ADD ("unknown-extension-is-420", test_unknown_extension_is_420);
  ADD ("wrong-password-is-challenged-again", test_wrong_password_is_challenged_again);
  ADD ("stale-nonce-gets-a-stale-challenge", test_stale_nonce_gets_a_stale_challenge);
  ADD ("challenges-differ-in-the-nonce-only", test_challenges_differ_in_the_nonce_only);
  ADD ("malformed-authorization-is-400", test_malformed_authorization_is_400);
  ADD ("digest-uri-mismatch-is-400", test_digest_uri_mismatch_is_400);
  ADD ("other-users-aor-is-403", test_other_users_aor_is_403);
  ADD ("unknown-user-is-challenged-then-404", test_unknown_user_is_challenged_then_404);
  ADD ("too-many-contacts-is-503", test_too_many_contacts_is_503);
  ADD ("replace-oldest-evicts-the-first-registered",
       test_replace_oldest_evicts_the_first_registered);
  ADD ("one-bad-contact-changes-nothing", test_one_bad_contact_changes_nothing);
  ADD ("non-register-is-405", test_non_register_is_405);

#undef ADD
  g_test_add_func ("/sim/registrar/the-200s-contact-uri-is-parsed-as-libosip2-parses-it",
                   test_contact_uri_parse_matches_libosip2);
  return g_test_run ();
}
