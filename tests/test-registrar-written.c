/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "sim-auth.h"
#include "sim-digest.h"
#include "sim-location.h"
#include "sim-message.h"
#include "sim-message-private.h"
#include "sim-registrar.h"
#include "sim-stack.h"

#include <string.h>

/*
 * The registrar writes its responses as text (sim_server_txn_respond_text()) instead of
 * building osip messages (issue 15).  These tests run the same varied REGISTERs through two
 * identical registrars, one writing and one building (_sim_message_set_written_responses), and
 * require every datagram they send to be the same bytes.
 */

#define DOMAIN "lab.example"

static const guint8 secret[] = "sip-lab test secret, fixed so runs repeat";

typedef struct {
  SimClock *clock;
  SimTrace *trace;
  GRand *rand;
  SimStack *server;
  SimAuth *auth;
  SimLocation *location;
  SimRegistrar *registrar;
  GPtrArray *sent;          /* every datagram the registrar sent, as strings */
  guint cseq;
  guint n_cnonce;
  char *last_text;          /* the last REGISTER exchange() sent */
} World;

static void
send_cb (SimStack      *stack,
         const SimAddr *dst,
         const char    *data,
         gsize          len,
         gboolean       retransmission,
         gpointer       user_data)
{
  World *w = user_data;

  g_ptr_array_add (w->sent, g_strndup (data, len));
}

static void
request_cb (SimStack       *stack,
            SimServerTxn   *txn,
            osip_message_t *request,
            const SimAddr  *src,
            gpointer        user_data)
{
  World *w = user_data;

  if (txn != NULL)
    sim_registrar_handle (w->registrar, txn, request);
}

static void
world_init (World *w)
{
  SimAddr local;

  memset (w, 0, sizeof *w);
  w->clock = sim_clock_new_virtual ();
  w->trace = sim_trace_new ();
  w->rand = g_rand_new_with_seed (3261);
  sim_addr_init (&local, "10.0.0.1", 5060, SIM_TRANSPORT_UDP);
  w->server = sim_stack_new (w->clock, w->trace, w->rand, "registrar", &local);
  sim_stack_set_send_func (w->server, send_cb, w);
  sim_stack_set_request_func (w->server, request_cb, w);
  w->auth = sim_auth_new (w->clock, w->trace, "registrar", DOMAIN, secret, sizeof secret - 1);
  w->location = sim_location_new (w->clock, w->trace, "registrar");
  w->registrar = sim_registrar_new (w->server, w->location, w->auth, DOMAIN);
  sim_registrar_set_user (w->registrar, "alice", "wonderland");
  sim_registrar_set_user (w->registrar, "bob", "builder");
  w->sent = g_ptr_array_new_with_free_func (g_free);
}

static void
world_clear (World *w)
{
  g_assert_finalize_object (w->registrar);
  g_clear_object (&w->auth);
  g_assert_finalize_object (w->location);
  g_clear_object (&w->server);
  g_clear_object (&w->trace);
  g_clear_object (&w->clock);
  g_rand_free (w->rand);
  g_ptr_array_unref (w->sent);
  g_free (w->last_text);
}

/* Feeds @text to the registrar from @ip:@port over UDP; returns what it answered, or NULL. */
static const char *
deliver (World      *w,
         const char *ip,
         guint16     port,
         const char *text)
{
  SimAddr src;
  guint before = w->sent->len;

  sim_addr_init (&src, ip, port, SIM_TRANSPORT_UDP);
  sim_stack_receive (w->server, &src, text, strlen (text));
  sim_clock_run_until (w->clock, sim_clock_now (w->clock) + SIM_SEC (1));
  return w->sent->len > before ? w->sent->pdata[w->sent->len - 1] : NULL;
}

/* A REGISTER with these header lines (each ending in CRLF) and a new CSeq and branch. */
static char *
register_text (World      *w,
               const char *request_uri,
               const char *vias,
               const char *from_to,
               const char *headers)
{
  w->cseq++;
  return g_strdup_printf ("REGISTER %s SIP/2.0\r\n"
                          "%s"
                          "Max-Forwards: 70\r\n"
                          "%s"
                          "Call-ID: written-%u@10.0.0.11\r\n"
                          "CSeq: %u REGISTER\r\n"
                          "%s"
                          "Content-Length: 0\r\n"
                          "\r\n",
                          request_uri, vias, from_to, w->cseq % 7, w->cseq,
                          headers != NULL ? headers : "");
}

/* The Authorization line answering the first challenge in the 401 @text. */
static char *
answer (World      *w,
        const char *text,
        const char *user,
        const char *password,
        const char *request_uri)
{
  g_autoptr(GError) error = NULL;
  osip_message_t *response = sim_message_parse (text, strlen (text), &error);
  osip_www_authenticate_t *www = NULL;
  SimDigestChallenge challenge = { NULL, };
  SimDigestCredentials credentials = { NULL, };
  g_autofree char *cnonce = g_strdup_printf ("cnonce-%u", ++w->n_cnonce);
  g_autofree char *formatted = NULL;
  char *value = NULL;

  g_assert_no_error (error);
  g_assert_cmpint (osip_message_get_www_authenticate (response, 0, &www), >=, 0);
  g_assert_cmpint (osip_www_authenticate_to_str (www, &value), ==, 0);
  g_assert_true (sim_digest_challenge_parse (value, &challenge, &error));
  sim_digest_answer (&challenge, user, password, "REGISTER", request_uri, cnonce, 1,
                     &credentials);
  formatted = sim_digest_credentials_format (&credentials);
  sim_digest_challenge_clear (&challenge);
  sim_digest_credentials_clear (&credentials);
  osip_free (value);
  osip_message_free (response);
  return g_strdup_printf ("Authorization: %s\r\n", formatted);
}

/*
 * Sends the REGISTER, and when it is challenged, sends it again with the answer (@user,
 * @password), as a phone does; returns the Authorization line used (or NULL).
 */
static char *
exchange (World      *w,
          const char *request_uri,
          const char *vias,
          const char *from_to,
          const char *headers,
          const char *user,
          const char *password)
{
  g_autofree char *text = register_text (w, request_uri, vias, from_to, headers);
  const char *response = deliver (w, "192.0.2.7", 5062, text);
  g_autofree char *with_auth = NULL;
  g_autofree char *again = NULL;
  char *authorization;

  g_assert_nonnull (response);
  if (user == NULL || !g_str_has_prefix (response, "SIP/2.0 401 "))
    return NULL;
  authorization = answer (w, response, user, password, request_uri);
  with_auth = g_strconcat (headers != NULL ? headers : "", authorization, NULL);
  again = register_text (w, request_uri, vias, from_to, with_auth);
  g_assert_nonnull (deliver (w, "192.0.2.7", 5062, again));
  g_free (w->last_text);
  w->last_text = g_steal_pointer (&again);
  return authorization;
}

#define VIA_(branch) "Via: SIP/2.0/UDP 10.0.0.11:5060;branch=z9hG4bK-" branch ";rport\r\n"
#define ALICE "From: <sip:alice@" DOMAIN ">;tag=f1\r\nTo: <sip:alice@" DOMAIN ">\r\n"
#define URI "sip:" DOMAIN

/* The same requests, in the same order, for both registrars. */
static void
run_script (World *w)
{
  g_autofree char *old_auth = NULL;
  g_autofree char *text = NULL;
  g_autofree char *retransmitted = NULL;

  /* A plain registration: the first 401 teaches the registrar its challenge. */
  old_auth = exchange (w, URI, VIA_ ("a1"), ALICE, "Contact: <sip:alice@10.0.0.11:5060>\r\n",
                       "alice", "wonderland");
  /* Several Vias with odd parameters, a compact one, an IPv6 one, a comment. */
  g_free (exchange (w, URI,
                    "Via: SIP/2.0/UDP 10.0.0.11:5060;branch=z9hG4bK-b1;rport;x-odd=\"q\";maddr=10.0.0.11;ttl=3\r\n"
                    "Via: SIP/2.0/TCP [2001:db8::1]:5070;branch=z9hG4bK-b0;received=192.0.2.1 (a comment)\r\n"
                    "v: SIP/2.0/UDP host.example;branch=z9hG4bKzz;RPORT=7\r\n",
                    ALICE, "Contact: <sip:alice@10.0.0.11:5060>;expires=300\r\n",
                    "alice", "wonderland"));
  /* Display names, a From without angle brackets, a To with parameters of its own. */
  g_free (exchange (w, URI, VIA_ ("c1"),
                    "From: \"Alice Smith\" <sip:alice@" DOMAIN ">;tag=f2;x=1\r\n"
                    "To: Alice <sip:alice@" DOMAIN ">;odd=yes\r\n",
                    "Contact: \"Desk\" <sip:alice@10.0.0.11:5060;transport=udp>\r\n",
                    "alice", "wonderland"));
  g_free (exchange (w, URI, VIA_ ("d1"),
                    "f: sip:alice@" DOMAIN ";tag=f3\r\nt: sip:alice@" DOMAIN "\r\n",
                    NULL, "alice", "wonderland"));
  /* A To with a tag already: no tag of ours, stateless or not. */
  g_free (exchange (w, URI, VIA_ ("e1"),
                    "From: <sip:alice@" DOMAIN ">;tag=f4\r\nTo: <sip:alice@" DOMAIN ">;tag=theirs\r\n",
                    "Contact: <sip:alice@10.0.0.11:5060>\r\n", "alice", "wonderland"));
  /* A To with a tag without a value: left to the built response. */
  g_free (exchange (w, URI, VIA_ ("e2"),
                    "From: <sip:alice@" DOMAIN ">;tag=f5\r\nTo: <sip:alice@" DOMAIN ">;tag\r\n",
                    NULL, "alice", "wonderland"));
  /* Several contacts, with q, expires, an instance, escapes libosip2 rewrites, IPv6. */
  g_free (exchange (w, URI, VIA_ ("f1"), ALICE,
                    "Contact: <sip:alice@10.0.0.12:5060>;q=0.5, "
                    "<sip:al%69ce@10.0.0.13;transport=tcp>;expires=600;"
                    "+sip.instance=\"<urn:uuid:00000000-0000-0000-0000-000000000001>\"\r\n"
                    "Contact: <sip:alice@[2001:db8::2]:5062;ob>;q=1\r\n"
                    "m: <sip:alice@10.0.0.14?Subject=hi>;q=0.25\r\n", "alice", "wonderland"));
  /* Contact URIs written as they came, and ones libosip2 rewrites. */
  g_free (exchange (w, URI, VIA_ ("f2"),
                    "From: <sip:bob@" DOMAIN ">;tag=f8\r\nTo: <sip:bob@" DOMAIN ">\r\n",
                    "Contact: <sip:Bob.Smith-(x)!~*'_@Host.EXAMPLE:5070>, <sip:10.0.0.16>, "
                    "<sip:bob@10.0.0.15:05060>, <sip:%41lice@10.0.0.17>, <SIP:bob@10.0.0.18>\r\n"
                    "Contact: <sip:bob@10.0.0.19:5061;transport=UDP>, <sip:bob@10.0.0.20;lr;Foo=Bar>, "
                    "<sip:bob@10.0.0.21;x-obr=1;transport=tcp>, <sip:bob@10.0.0.22;a=;b>\r\n",
                    "bob", "builder"));
  /* A query: no Contact, every binding listed. */
  g_free (exchange (w, URI, VIA_ ("g1"), ALICE, NULL, "alice", "wonderland"));
  /* 423, 420, 400s, 403s, 404. */
  g_free (exchange (w, URI, VIA_ ("h1"), ALICE,
                    "Contact: <sip:alice@10.0.0.11:5060>;expires=1\r\n", "alice", "wonderland"));
  g_free (exchange (w, URI, VIA_ ("i1"), ALICE,
                    "Require: foo-ext, bar\r\nContact: <sip:alice@10.0.0.11:5060>\r\n",
                    "alice", "wonderland"));
  g_free (exchange (w, URI, VIA_ ("k1"), ALICE, "Contact: *\r\n", "alice", "wonderland"));
  g_free (exchange (w, URI, VIA_ ("k2"), ALICE,
                    "Contact: <sip:alice@10.0.0.11:5060>\r\nExpires: soon\r\n",
                    "alice", "wonderland"));
  g_free (exchange (w, "sip:other.example", VIA_ ("j1"),
                    "From: <sip:alice@other.example>;tag=f6\r\nTo: <sip:alice@other.example>\r\n",
                    "Contact: <sip:alice@10.0.0.11:5060>\r\n", "alice", "wonderland"));
  g_free (exchange (w, URI, VIA_ ("l1"), ALICE, "Contact: <sip:bob@10.0.0.21>\r\n",
                    "bob", "builder"));
  g_free (exchange (w, URI, VIA_ ("n1"),
                    "From: <sip:carol@" DOMAIN ">;tag=f7\r\nTo: <sip:carol@" DOMAIN ">\r\n",
                    "Contact: <sip:carol@10.0.0.31>\r\n", "carol", "secret"));
  /* A request the registrar does not take (405, built). */
  text = g_strdup_printf ("OPTIONS " URI " SIP/2.0\r\n" VIA_ ("o1") ALICE
                          "Call-ID: options@10.0.0.11\r\nCSeq: 1 OPTIONS\r\n"
                          "Content-Length: 0\r\n\r\n");
  g_assert_nonnull (deliver (w, "192.0.2.7", 5062, text));
  /* A retransmitted REGISTER: the kept 200 again, and a fresh 401 for a challenged one. */
  g_free (exchange (w, URI, VIA_ ("r1"), ALICE, "Contact: <sip:alice@10.0.0.11:5060>\r\n",
                    "alice", "wonderland"));
  g_assert_nonnull (deliver (w, "192.0.2.7", 5062, w->last_text));
  g_clear_pointer (&retransmitted, g_free);
  retransmitted = register_text (w, URI, VIA_ ("r2"), ALICE, NULL);
  g_assert_nonnull (deliver (w, "192.0.2.7", 5062, retransmitted));
  g_assert_nonnull (deliver (w, "192.0.2.7", 5062, retransmitted));
  /* An old nonce an hour later: a stale challenge (taught, then written), then removal of all. */
  sim_clock_run_until (w->clock, sim_clock_now (w->clock) + SIM_SEC (3600));
  g_clear_pointer (&text, g_free);
  text = register_text (w, URI, VIA_ ("s1"), ALICE, old_auth);
  g_assert_nonnull (deliver (w, "192.0.2.7", 5062, text));
  g_clear_pointer (&text, g_free);
  text = register_text (w, URI, VIA_ ("s2"), ALICE, old_auth);
  g_assert_nonnull (deliver (w, "192.0.2.7", 5062, text));
  g_free (exchange (w, URI, VIA_ ("t1"), ALICE, "Contact: *\r\nExpires: 0\r\n",
                    "alice", "wonderland"));
}

static gboolean
sent_status (World      *w,
             const char *status_line)
{
  for (guint i = 0; i < w->sent->len; i++)
    if (g_str_has_prefix (w->sent->pdata[i], status_line))
      return TRUE;
  return FALSE;
}

static gboolean
sent_contains (World      *w,
               const char *text)
{
  for (guint i = 0; i < w->sent->len; i++)
    if (strstr (w->sent->pdata[i], text) != NULL)
      return TRUE;
  return FALSE;
}

static void
test_written_responses_are_the_built_bytes (void)
{
  World written, built;
  guint n_before, n_written;

  sim_message_init_library ();
  n_before = _sim_message_get_n_written_responses ();
  world_init (&written);
  run_script (&written);
  n_written = _sim_message_get_n_written_responses () - n_before;

  _sim_message_set_written_responses (FALSE);
  world_init (&built);
  run_script (&built);
  g_assert_cmpuint (_sim_message_get_n_written_responses () - n_before, ==, n_written);
  _sim_message_set_written_responses (TRUE);

  g_assert_cmpuint (written.sent->len, ==, built.sent->len);
  for (guint i = 0; i < written.sent->len; i++)
    g_assert_cmpstr (written.sent->pdata[i], ==, built.sent->pdata[i]);

  /* The script reaches what it means to (an unknown user is challenged, never told "404"), and
   * most of it was written, not built. */
  for (guint i = 0; i < 9; i++)
    {
      static const char *const statuses[] = {
        "SIP/2.0 200 OK\r\n", "SIP/2.0 401 Unauthorized\r\n", "SIP/2.0 423 ",
        "SIP/2.0 420 ", "SIP/2.0 400 Invalid Contact *\r\n", "SIP/2.0 400 Invalid Expires\r\n",
        "SIP/2.0 403 Not Our Domain\r\n", "SIP/2.0 403 Forbidden\r\n", "SIP/2.0 405 ",
      };

      g_assert_true (sent_status (&written, statuses[i]));
    }
  g_assert_nonnull (strstr (written.sent->pdata[written.sent->len - 1], "Date: "));
  g_assert_true (sent_contains (&written, "Contact: <sip:Bob.Smith-(x)!~*'_@host.example:5070>;expires="));
  g_assert_true (sent_contains (&written, "Contact: <sip:bob@10.0.0.15:05060>;expires="));
  g_assert_true (sent_contains (&written, "+sip.instance=\"<urn:uuid:"));
  g_assert_true (sent_contains (&written, "Contact: <sip:bob@10.0.0.19:5061;transport=UDP>;expires="));
  g_assert_cmpuint (n_written, >=, 25);
  g_assert_cmpuint (n_written, <, written.sent->len);

  world_clear (&written);
  world_clear (&built);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/sim/registrar-written/every-written-response-is-the-bytes-of-the-built-one",
                   test_written_responses_are_the_built_bytes);
  return g_test_run ();
}
