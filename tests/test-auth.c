/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "sim-auth.h"

#define REALM   "lab.example"
#define URI     "sip:lab.example"
#define CNONCE  "0a4f113b"

static const guint8 secret[] = "0123456789abcdef0123456789abcdef";

typedef struct {
  SimClock *clock;
  SimTrace *trace;
  SimAuth *auth;
  guint n_lookups;
} Fixture;

static const char *
lookup_cb (const char *username,
           gpointer    user_data)
{
  Fixture *f = user_data;

  f->n_lookups++;
  if (g_strcmp0 (username, "alice") == 0)
    return "wonderland";
  if (g_strcmp0 (username, "carol") == 0)
    return "looking-glass";
  return NULL;
}

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  f->clock = sim_clock_new_virtual ();
  f->trace = sim_trace_new ();
  f->auth = sim_auth_new (f->clock, f->trace, "registrar", REALM, secret, sizeof secret - 1);
  f->n_lookups = 0;
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  g_assert_finalize_object (f->auth);
  g_assert_finalize_object (f->trace);
  g_assert_finalize_object (f->clock);
}

/* One challenge, as a 401 would carry it. */
static char *
challenge (Fixture  *f,
           gboolean  stale)
{
  g_autoptr(GPtrArray) headers = sim_auth_challenge (f->auth, stale);

  g_assert_cmpuint (headers->len, ==, 1);
  return g_strdup (g_ptr_array_index (headers, 0));
}

/* The phone's answer to @challenge_text. */
static char *
answer (const char         *challenge_text,
        const char         *username,
        const char         *password,
        const char         *uri,
        guint               nc)
{
  SimDigestChallenge ch = { NULL, };
  SimDigestCredentials creds;
  g_autoptr(GError) error = NULL;
  char *text;

  g_assert_true (sim_digest_challenge_parse (challenge_text, &ch, &error));
  g_assert_no_error (error);
  sim_digest_answer (&ch, username, password, "REGISTER", uri, CNONCE, nc, &creds);
  text = sim_digest_credentials_format (&creds);
  sim_digest_credentials_clear (&creds);
  sim_digest_challenge_clear (&ch);
  return text;
}

/* The same answer, for a nonce of our choosing (a forgery). */
static char *
answer_with_nonce (const char *challenge_text,
                   const char *nonce,
                   const char *username,
                   const char *password)
{
  SimDigestChallenge ch = { NULL, };
  SimDigestCredentials creds;
  char *text;

  g_assert_true (sim_digest_challenge_parse (challenge_text, &ch, NULL));
  g_free (ch.nonce);
  ch.nonce = g_strdup (nonce);
  sim_digest_answer (&ch, username, password, "REGISTER", URI, CNONCE, 1, &creds);
  text = sim_digest_credentials_format (&creds);
  sim_digest_credentials_clear (&creds);
  sim_digest_challenge_clear (&ch);
  return text;
}

static char *
nonce_of (const char *challenge_text)
{
  SimDigestChallenge ch = { NULL, };
  char *nonce;

  g_assert_true (sim_digest_challenge_parse (challenge_text, &ch, NULL));
  nonce = g_steal_pointer (&ch.nonce);
  sim_digest_challenge_clear (&ch);
  return nonce;
}

static SimAuthResult
verify (Fixture    *f,
        const char *authorization)
{
  return sim_auth_verify (f->auth, "REGISTER", URI, authorization, lookup_cb, f, NULL);
}

static void
test_correct_digest_is_accepted (Fixture       *f,
                                 gconstpointer  data)
{
  g_autofree char *ch = challenge (f, FALSE);
  g_autofree char *authorization = answer (ch, "alice", "wonderland", URI, 1);
  g_autofree char *username = NULL;

  g_assert_cmpuint (sim_auth_get_n_live_nonces (f->auth), ==, 1);
  g_assert_cmpint (sim_auth_verify (f->auth, "REGISTER", URI, authorization, lookup_cb, f,
                                    &username),
                   ==, SIM_AUTH_OK);
  g_assert_cmpstr (username, ==, "alice");
  g_assert_cmpuint (f->n_lookups, ==, 1);
}

static void
test_default_challenge_is_md5_only (Fixture       *f,
                                    gconstpointer  data)
{
  g_autoptr(GPtrArray) headers = sim_auth_challenge (f->auth, FALSE);
  g_autofree char *nonce = NULL;
  const char *text;
  char expected[256];

  g_test_summary ("Debian 12 baresip fails on any non-MD5 challenge and sipp answers only "
                  "the first, so the default is a single MD5 challenge.");
  g_assert_cmpuint (headers->len, ==, 1);
  text = g_ptr_array_index (headers, 0);
  nonce = nonce_of (text);
  /* 32 bytes of base64url without padding. */
  g_assert_cmpuint (strlen (nonce), ==, 43);
  g_assert_cmpuint (strspn (nonce, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                   "abcdefghijklmnopqrstuvwxyz0123456789-_"), ==, 43);
  g_snprintf (expected, sizeof expected,
              "Digest realm=\"" REALM "\", nonce=\"%s\", opaque=\"", nonce);
  g_assert_true (g_str_has_prefix (text, expected));
  g_assert_true (g_str_has_suffix (text, "\", algorithm=MD5, qop=\"auth\""));
  g_assert_cmpstr (sim_auth_get_realm (f->auth), ==, REALM);
}

static void
test_replayed_authorization_is_rejected (Fixture       *f,
                                         gconstpointer  data)
{
  g_autofree char *ch = challenge (f, FALSE);
  g_autofree char *authorization = answer (ch, "alice", "wonderland", URI, 1);
  g_autofree char *next = answer (ch, "alice", "wonderland", URI, 2);

  g_assert_cmpint (verify (f, authorization), ==, SIM_AUTH_OK);
  /* An eavesdropper sends the captured header again. */
  g_assert_cmpint (verify (f, authorization), ==, SIM_AUTH_REPLAYED);
  /* One-time nonces: even the real phone cannot reuse it with a higher count. */
  g_assert_cmpint (verify (f, next), ==, SIM_AUTH_REPLAYED);
}

static void
test_wrong_password_is_rejected (Fixture       *f,
                                 gconstpointer  data)
{
  g_autofree char *ch = challenge (f, FALSE);
  g_autofree char *wrong = answer (ch, "alice", "Wonderland", URI, 1);
  g_autofree char *right = answer (ch, "alice", "wonderland", URI, 1);
  g_autofree char *username = NULL;

  g_assert_cmpint (sim_auth_verify (f->auth, "REGISTER", URI, wrong, lookup_cb, f, &username),
                   ==, SIM_AUTH_BAD_RESPONSE);
  g_assert_cmpstr (username, ==, "alice");
  /* A failed attempt uses the nonce up (issue 9 item 8: it used to stay good, so one nonce
   * served any number of guesses): even the right answer needs a fresh one now. */
  g_assert_cmpint (verify (f, right), ==, SIM_AUTH_REPLAYED);
  g_clear_pointer (&ch, g_free);
  g_clear_pointer (&right, g_free);
  ch = challenge (f, FALSE);
  right = answer (ch, "alice", "wonderland", URI, 1);
  /* Another user's password does not open alice's account. */
  g_free (wrong);
  wrong = answer (ch, "alice", "looking-glass", URI, 1);
  g_assert_cmpint (verify (f, wrong), ==, SIM_AUTH_BAD_RESPONSE);
  /* The right password for another method is another digest. */
  g_clear_pointer (&ch, g_free);
  g_clear_pointer (&right, g_free);
  ch = challenge (f, FALSE);
  right = answer (ch, "alice", "wonderland", URI, 1);
  g_assert_cmpint (sim_auth_verify (f->auth, "INVITE", URI, right, lookup_cb, f, NULL),
                   ==, SIM_AUTH_BAD_RESPONSE);
}

static void
test_wrong_answer_uses_the_nonce_up (Fixture       *f,
                                     gconstpointer  data)
{
  g_autofree char *ch = challenge (f, FALSE);
  guint lookups;

  g_test_summary ("Issue 9 item 8: a wrong answer consumes its nonce, so every password guess "
                  "costs a new challenge, and further guesses on that nonce are not even "
                  "checked (no password oracle).");
  for (guint i = 0; i < 3; i++)
    {
      g_autofree char *guess = g_strdup_printf ("guess-%u", i);
      g_autofree char *authorization = answer (ch, "alice", guess, URI, 1);

      g_assert_cmpint (verify (f, authorization), ==,
                       i == 0 ? SIM_AUTH_BAD_RESPONSE : SIM_AUTH_REPLAYED);
    }
  lookups = f->n_lookups;
  {
    g_autofree char *right = answer (ch, "alice", "wonderland", URI, 1);
    g_assert_cmpint (verify (f, right), ==, SIM_AUTH_REPLAYED);
  }
  /* A burned nonce is refused before any password is looked up. */
  g_assert_cmpuint (f->n_lookups, ==, lookups);
}

static void
test_nonce_is_bound_to_the_client_address (Fixture       *f,
                                           gconstpointer  data)
{
  g_autoptr(GPtrArray) headers = sim_auth_challenge_full (f->auth, FALSE, "192.0.2.10", FALSE);
  g_autofree char *right = answer (g_ptr_array_index (headers, 0), "alice", "wonderland", URI, 1);
  g_autofree char *wrong = answer (g_ptr_array_index (headers, 0), "alice", "guess", URI, 1);
  g_autoptr(GPtrArray) v6 = sim_auth_challenge_full (f->auth, FALSE, "2001:db8::10", FALSE);
  g_autofree char *right6 = answer (g_ptr_array_index (v6, 0), "alice", "wonderland", URI, 1);

  g_test_summary ("Issue 9 item 8: a nonce answered from another address than the one it was "
                  "issued to is unknown, and such an answer cannot burn it for its owner.");
#define VERIFY_FROM(client, authorization) \
  sim_auth_verify_full (f->auth, "REGISTER", URI, authorization, client, lookup_cb, f, NULL)
  /* From elsewhere, right or wrong, the nonce is not ours to that client: unknown, and the
   * wrong answer does not count as a guess (nothing is looked up). */
  g_assert_cmpint (VERIFY_FROM ("192.0.2.11", wrong), ==, SIM_AUTH_UNKNOWN_NONCE);
  g_assert_cmpint (VERIFY_FROM ("192.0.2.11", right), ==, SIM_AUTH_UNKNOWN_NONCE);
  g_assert_cmpint (VERIFY_FROM (NULL, right), ==, SIM_AUTH_UNKNOWN_NONCE);
  g_assert_cmpint (VERIFY_FROM ("192.0.2.1", right), ==, SIM_AUTH_UNKNOWN_NONCE);
  g_assert_cmpint (VERIFY_FROM ("2001:db8::10", right), ==, SIM_AUTH_UNKNOWN_NONCE);
  g_assert_cmpuint (f->n_lookups, ==, 0);
  /* The owner's answer still works (the port is not part of the binding: any source port). */
  g_assert_cmpint (VERIFY_FROM ("192.0.2.10", right), ==, SIM_AUTH_OK);
  g_assert_cmpint (VERIFY_FROM ("192.0.2.10", right), ==, SIM_AUTH_REPLAYED);
  g_assert_cmpint (VERIFY_FROM ("192.0.2.10", right6), ==, SIM_AUTH_UNKNOWN_NONCE);
  g_assert_cmpint (VERIFY_FROM ("2001:db8::11", right6), ==, SIM_AUTH_UNKNOWN_NONCE);
  g_assert_cmpint (VERIFY_FROM ("2001:db8::10", right6), ==, SIM_AUTH_OK);
  /* The unbound calls are the empty address: a bound nonce is unknown to them too. */
  g_assert_cmpint (verify (f, right6), ==, SIM_AUTH_UNKNOWN_NONCE);
#undef VERIFY_FROM
}

static void
test_nonce_binding_holds_for_every_address_length (Fixture       *f,
                                                   gconstpointer  data)
{
  /* 16 characters (the longest address text a nonce's entry keeps), 24 and 39 (kept as a keyed
   * digest), and 70 (cut at SIM_AUTH_MAX_CLIENT_LEN for the digest). */
  static const char *const clients[] = {
    "2001:db8:1234:56", "2001:db8:1234:5678::abcd", "2001:0db8:1234:5678:9abc:def0:1234:5678",
    "2001:0db8:1234:5678:9abc:def0:1234:5678%an-interface-name-that-is-long",
  };

  g_test_summary ("A nonce's entry keeps a short address text, or a keyed digest of a longer "
                  "(IPv6) one; either way only the exact address it was issued to can answer "
                  "it, not a longer or shorter text sharing its start, nor another of the same "
                  "length.");
#define VERIFY_FROM(client, authorization) \
  sim_auth_verify_full (f->auth, "REGISTER", URI, authorization, client, lookup_cb, f, NULL)
  for (guint i = 0; i < G_N_ELEMENTS (clients); i++)
    {
      g_autoptr(GPtrArray) headers = sim_auth_challenge_full (f->auth, FALSE, clients[i], FALSE);
      g_autofree char *right = answer (g_ptr_array_index (headers, 0), "alice", "wonderland",
                                       URI, 1);
      g_autofree char *shorter = g_strndup (clients[i], strlen (clients[i]) - 1);
      g_autofree char *longer = g_strconcat (clients[i], "1", NULL);
      g_autofree char *other = g_strdup (clients[i]);
      gsize last;

      /* Another address of the same length: one character differs, near the start, then near
       * the end of what the binding covers (past the digest's first block). */
      other[10] = other[10] == '3' ? '4' : '3';
      g_assert_cmpint (VERIFY_FROM (other, right), ==, SIM_AUTH_UNKNOWN_NONCE);
      other[10] = clients[i][10];
      last = MIN (strlen (other), SIM_AUTH_MAX_CLIENT_LEN) - 1;
      other[last] = other[last] == 'e' ? 'f' : 'e';
      g_assert_cmpint (VERIFY_FROM (other, right), ==, SIM_AUTH_UNKNOWN_NONCE);
      /* Texts are compared up to SIM_AUTH_MAX_CLIENT_LEN bytes (no IP address is that long). */
      if (strlen (clients[i]) <= SIM_AUTH_MAX_CLIENT_LEN)
        g_assert_cmpint (VERIFY_FROM (shorter, right), ==, SIM_AUTH_UNKNOWN_NONCE);
      if (strlen (clients[i]) < SIM_AUTH_MAX_CLIENT_LEN)
        g_assert_cmpint (VERIFY_FROM (longer, right), ==, SIM_AUTH_UNKNOWN_NONCE);
      g_assert_cmpint (VERIFY_FROM ("", right), ==, SIM_AUTH_UNKNOWN_NONCE);
      g_assert_cmpint (VERIFY_FROM (clients[i], right), ==, SIM_AUTH_OK);
    }
  /* Issued to no address, the empty address answers it. */
  {
    g_autoptr(GPtrArray) headers = sim_auth_challenge_full (f->auth, FALSE, NULL, FALSE);
    g_autofree char *right = answer (g_ptr_array_index (headers, 0), "alice", "wonderland",
                                     URI, 1);

    g_assert_cmpint (VERIFY_FROM ("1", right), ==, SIM_AUTH_UNKNOWN_NONCE);
    g_assert_cmpint (VERIFY_FROM ("", right), ==, SIM_AUTH_OK);
  }
#undef VERIFY_FROM
}

static void
test_credentials_without_qop_are_refused (Fixture       *f,
                                          gconstpointer  data)
{
  g_autofree char *ch = challenge (f, FALSE);
  SimDigestChallenge parsed = { NULL, };
  SimDigestCredentials creds;
  g_autofree char *rfc2069 = NULL;
  g_autofree char *with_qop = answer (ch, "alice", "wonderland", URI, 1);

  g_test_summary ("Issue 9 item 9: our challenge asks for qop=\"auth\"; a correct RFC 2069 "
                  "answer (no qop, nc or cnonce) is a downgrade and gets a fresh challenge "
                  "(RFC 7616 §3.4, RFC 3261 §22.4).");
  g_assert_true (sim_digest_challenge_parse (ch, &parsed, NULL));
  g_clear_pointer (&parsed.qop, g_free);
  sim_digest_answer (&parsed, "alice", "wonderland", "REGISTER", URI, CNONCE, 1, &creds);
  rfc2069 = sim_digest_credentials_format (&creds);
  g_assert_null (strstr (rfc2069, "qop"));
  g_assert_null (strstr (rfc2069, "cnonce"));
  /* The digest itself is right: without the qop rule it would be accepted. */
  g_assert_true (sim_digest_check_response (&creds, REALM, "wonderland", "REGISTER"));
  sim_digest_credentials_clear (&creds);
  sim_digest_challenge_clear (&parsed);

  g_assert_cmpint (verify (f, rfc2069), ==, SIM_AUTH_QOP_MISSING);
  /* It does not use the nonce up: the phone's proper answer still works. */
  g_assert_cmpint (verify (f, with_qop), ==, SIM_AUTH_OK);
}

static void
record_verdict_cb (SimAuth       *auth,
                   SimAuthResult  result,
                   const char    *username,
                   const char    *client,
                   gpointer       user_data)
{
  GString *log = user_data;

  g_string_append_printf (log, "%s %s %s;", sim_auth_result_name (result),
                          username ? username : "-", client ? client : "-");
}

static void
test_verdicts_reach_the_hook (Fixture       *f,
                              gconstpointer  data)
{
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(GPtrArray) headers = sim_auth_challenge_full (f->auth, FALSE, "192.0.2.10", TRUE);
  g_autofree char *wrong = answer (g_ptr_array_index (headers, 0), "carol", "guess", URI, 1);

  sim_auth_set_verdict_func (f->auth, record_verdict_cb, log);
  sim_auth_verify_full (f->auth, "REGISTER", URI, NULL, "192.0.2.10", lookup_cb, f, NULL);
  sim_auth_verify_full (f->auth, "REGISTER", URI, wrong, "192.0.2.10", lookup_cb, f, NULL);
  g_assert_cmpstr (log->str, ==, "no-credentials - 192.0.2.10;bad-response carol 192.0.2.10;");
  /* A 407's nonce is traced as such. */
  g_assert_nonnull (strstr (((SimEvent *) sim_trace_get_event (f->trace, 0))->reason, "407"));
}

static void
test_unknown_user_looks_like_wrong_password (Fixture       *f,
                                             gconstpointer  data)
{
  g_autofree char *ch = challenge (f, FALSE);
  g_autofree char *ch2 = challenge (f, FALSE);
  g_autofree char *unknown = answer (ch, "mallory", "guess", URI, 1);
  g_autofree char *wrong = answer (ch2, "alice", "guess", URI, 1);
  g_autofree char *username = NULL;
  SimEvent *unknown_event, *wrong_event;

  g_assert_cmpint (sim_auth_verify (f->auth, "REGISTER", URI, unknown, lookup_cb, f, &username),
                   ==, SIM_AUTH_BAD_RESPONSE);
  g_assert_cmpstr (username, ==, "mallory");
  g_assert_cmpint (verify (f, wrong), ==, SIM_AUTH_BAD_RESPONSE);
  /* Both went through the same look-up and hashing. */
  g_assert_cmpuint (f->n_lookups, ==, 2);

  /* The trace tells the two apart by user only, never by the reason. */
  g_assert_cmpuint (sim_trace_get_n_events (f->trace), ==, 4);
  unknown_event = sim_trace_get_event (f->trace, 2);
  wrong_event = sim_trace_get_event (f->trace, 3);
  g_assert_cmpstr (unknown_event->action, ==, wrong_event->action);
  g_assert_cmpstr (unknown_event->reason, ==, wrong_event->reason);
  g_assert_cmpstr (unknown_event->user, ==, "mallory");

  /* Without any user table, everybody is unknown. */
  g_clear_pointer (&ch, g_free);
  g_clear_pointer (&wrong, g_free);
  ch = challenge (f, FALSE);
  wrong = answer (ch, "alice", "guess", URI, 1);
  g_assert_cmpint (sim_auth_verify (f->auth, "REGISTER", URI, wrong, NULL, NULL, NULL),
                   ==, SIM_AUTH_BAD_RESPONSE);
}

static void
test_unknown_user_never_authenticates (Fixture       *f,
                                       gconstpointer  data)
{
  static const char label[] = "siplab dummy password";
  guint8 mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  char dummy[33];
  g_autofree char *ch = challenge (f, FALSE);
  g_autofree char *authorization = NULL;

  g_test_summary ("White box: unknown users are checked against a dummy password derived from "
                  "the secret.  Even someone who knows it must not get in.");
  g_assert_nonnull (HMAC (EVP_sha256 (), secret, sizeof secret - 1, (const guint8 *) label,
                          strlen (label), mac, &mac_len));
  for (guint i = 0; i < 16; i++)
    g_snprintf (dummy + 2 * i, 3, "%02x", mac[i]);

  authorization = answer (ch, "mallory", dummy, URI, 1);
  g_assert_cmpint (verify (f, authorization), ==, SIM_AUTH_BAD_RESPONSE);
}

static void
test_expired_nonce_is_stale (Fixture       *f,
                             gconstpointer  data)
{
  g_autofree char *ch = challenge (f, FALSE);
  g_autofree char *other = challenge (f, FALSE);
  g_autofree char *right = answer (ch, "alice", "wonderland", URI, 1);
  /* On its own nonce: a wrong answer uses its nonce up. */
  g_autofree char *wrong = answer (other, "alice", "guess", URI, 1);
  g_autofree char *fresh = NULL;
  g_autoptr(GPtrArray) stale_headers = NULL;
  SimDigestChallenge parsed = { NULL, };

  sim_auth_set_nonce_lifetime (f->auth, SIM_SEC (30));

  /* On the last microsecond of its lifetime the nonce is still good... */
  sim_clock_run_until (f->clock, SIM_SEC (30));
  fresh = challenge (f, FALSE);
  sim_clock_run_until (f->clock, SIM_SEC (30) + 1);
  /* ...one later a correct digest is "stale", and a wrong one still just wrong. */
  g_assert_cmpint (verify (f, wrong), ==, SIM_AUTH_BAD_RESPONSE);
  g_assert_cmpint (verify (f, right), ==, SIM_AUTH_STALE);
  g_assert_cmpint (verify (f, right), ==, SIM_AUTH_STALE);

  /* The retry challenge says stale=true, and the phone's answer to it works. */
  stale_headers = sim_auth_challenge (f->auth, TRUE);
  g_assert_true (g_str_has_suffix (g_ptr_array_index (stale_headers, 0), ", stale=true"));
  g_assert_true (sim_digest_challenge_parse (g_ptr_array_index (stale_headers, 0), &parsed, NULL));
  g_assert_true (parsed.stale);
  sim_digest_challenge_clear (&parsed);
  g_clear_pointer (&right, g_free);
  right = answer (g_ptr_array_index (stale_headers, 0), "alice", "wonderland", URI, 1);
  g_assert_cmpint (verify (f, right), ==, SIM_AUTH_OK);

  /* After twice the lifetime the first two nonces are forgotten altogether. */
  g_assert_cmpuint (sim_auth_get_n_live_nonces (f->auth), ==, 4);
  sim_clock_run_until (f->clock, SIM_SEC (60) + 1);
  g_assert_cmpuint (sim_auth_get_n_live_nonces (f->auth), ==, 2);
  g_clear_pointer (&right, g_free);
  right = answer (ch, "alice", "wonderland", URI, 1);
  g_assert_cmpint (verify (f, right), ==, SIM_AUTH_UNKNOWN_NONCE);
  g_clear_pointer (&right, g_free);
  right = answer (fresh, "alice", "wonderland", URI, 1);
  g_assert_cmpint (verify (f, right), ==, SIM_AUTH_STALE);
}

static char
flip_base64url (char c)
{
  return c == 'A' ? 'B' : 'A';
}

static void
test_forged_nonce_is_unknown (Fixture       *f,
                              gconstpointer  data)
{
  g_autofree char *ch = challenge (f, FALSE);
  g_autofree char *nonce = nonce_of (ch);
  g_autofree char *forged = g_strdup (nonce);
  g_autofree char *authorization = NULL;
  static const guint8 other_secret[] = "another registrar's secret......";
  g_autoptr(SimAuth) other = NULL;
  g_autoptr(SimAuth) restarted = NULL;
  g_autofree char *other_ch = NULL;
  g_autoptr(GPtrArray) headers = NULL;
  const char *junk[] = {
    "", "abc", "not base64!", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", NULL,
  };
  const char *b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  guint last;

  /* Each part altered in turn: time, counter, MAC.  The digest is computed correctly for the
   * altered nonce, so only the nonce check can catch it. */
  for (guint pos = 0; pos < 43; pos += 7)
    {
      forged[pos] = flip_base64url (nonce[pos]);
      authorization = answer_with_nonce (ch, forged, "alice", "wonderland");
      g_assert_cmpint (verify (f, authorization), ==, SIM_AUTH_UNKNOWN_NONCE);
      g_clear_pointer (&authorization, g_free);
      forged[pos] = nonce[pos];
    }

  /* The same bytes spelled differently (the spare low bits of the last character). */
  last = strchr (b64, nonce[42]) - b64;
  forged[42] = b64[last | 1];
  g_assert_cmpint (forged[42], !=, nonce[42]);
  authorization = answer_with_nonce (ch, forged, "alice", "wonderland");
  g_assert_cmpint (verify (f, authorization), ==, SIM_AUTH_UNKNOWN_NONCE);
  g_clear_pointer (&authorization, g_free);

  for (guint i = 0; junk[i] != NULL; i++)
    {
      authorization = answer_with_nonce (ch, junk[i], "alice", "wonderland");
      g_assert_cmpint (verify (f, authorization), ==, SIM_AUTH_UNKNOWN_NONCE);
      g_clear_pointer (&authorization, g_free);
    }

  /* A nonce from another registrar. */
  other = sim_auth_new (f->clock, NULL, "other", REALM, other_secret, sizeof other_secret - 1);
  headers = sim_auth_challenge (other, FALSE);
  authorization = answer (g_ptr_array_index (headers, 0), "alice", "wonderland", URI, 1);
  g_assert_cmpint (verify (f, authorization), ==, SIM_AUTH_UNKNOWN_NONCE);
  g_clear_pointer (&authorization, g_free);

  /* A genuine nonce from before a restart: the MAC is right, but nobody remembers it. */
  restarted = sim_auth_new (f->clock, NULL, "registrar", REALM, secret, sizeof secret - 1);
  authorization = answer (ch, "alice", "wonderland", URI, 1);
  g_assert_cmpint (sim_auth_verify (restarted, "REGISTER", URI, authorization, lookup_cb, f, NULL),
                   ==, SIM_AUTH_UNKNOWN_NONCE);

  /* And the untouched original still works. */
  g_assert_cmpint (verify (f, authorization), ==, SIM_AUTH_OK);
}

/* The 32 bytes of a nonce, in wire order (MAC ‖ time ‖ counter). */
static void
nonce_bytes (const char *nonce,
             guint8      wire[32])
{
  g_autofree char *padded = g_strconcat (nonce, "=", NULL);
  g_autofree guint8 *bytes = NULL;
  gsize len = 0;

  g_assert_cmpuint (strlen (nonce), ==, 43);
  for (char *p = padded; *p != '\0'; p++)
    *p = *p == '-' ? '+' : *p == '_' ? '/' : *p;
  bytes = g_base64_decode (padded, &len);
  g_assert_cmpuint (len, ==, 32);
  memcpy (wire, bytes, 32);
}

static char *
nonce_text (const guint8 wire[32])
{
  char *text = g_base64_encode (wire, 32);

  for (char *p = text; *p != '\0'; p++)
    *p = *p == '+' ? '-' : *p == '/' ? '_' : *p;
  g_assert_cmpuint (strlen (text), ==, 44);
  text[43] = '\0';   /* the padding */
  return text;
}

/* AES-128 (ECB, one block) of @in under @key, as OpenSSL computes it. */
static void
aes_128_block (const guint8 key[16],
               const guint8 in[16],
               guint8       out[16])
{
  EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new ();
  int n = 0;

  g_assert_nonnull (ctx);
  g_assert_true (EVP_EncryptInit_ex2 (ctx, EVP_aes_128_ecb (), key, NULL, NULL));
  g_assert_true (EVP_CIPHER_CTX_set_padding (ctx, 0));
  g_assert_true (EVP_EncryptUpdate (ctx, out, &n, in, 16));
  g_assert_cmpint (n, ==, 16);
  EVP_CIPHER_CTX_free (ctx);
}

static void
test_nonce_tag_is_aes_of_time_and_counter (void)
{
  static const char label[] = "siplab nonce keys";
  const gsize lengths[] = { 1, 16, 32, 64, 65, 200 };

  g_test_summary ("White box: a nonce is base64url (tag ‖ time ‖ counter), the tag AES-128 of "
                  "time ‖ counter under the first 16 bytes of HMAC-SHA256 (RFC 2104) of "
                  "\"siplab nonce keys\" keyed with the secret, for a secret of any length: "
                  "longer than a SHA-256 block, it is hashed first.");
  for (guint i = 0; i < G_N_ELEMENTS (lengths); i++)
    {
      g_autoptr(SimClock) clock = sim_clock_new_virtual ();
      g_autoptr(SimAuth) auth = NULL;
      g_autofree guint8 *key = g_malloc (lengths[i]);
      guint8 keys[EVP_MAX_MD_SIZE];
      unsigned int keys_len = 0;

      for (gsize k = 0; k < lengths[i]; k++)
        key[k] = k * 31 + i;
      auth = sim_auth_new (clock, NULL, "registrar", REALM, key, lengths[i]);
      sim_clock_run_until (clock, SIM_SEC (5) + 17);
      g_assert_nonnull (HMAC (EVP_sha256 (), key, lengths[i], (const guint8 *) label,
                              strlen (label), keys, &keys_len));
      g_assert_cmpuint (keys_len, ==, 32);

      for (guint64 counter = 0; counter < 3; counter++)
        {
          g_autoptr(GPtrArray) headers = sim_auth_challenge (auth, FALSE);
          g_autofree char *nonce = nonce_of (g_ptr_array_index (headers, 0));
          guint8 wire[32];
          guint8 tag[16];
          guint64 be;

          nonce_bytes (nonce, wire);
          memcpy (&be, wire + 16, 8);
          g_assert_cmpint (GUINT64_FROM_BE (be), ==, SIM_SEC (5) + 17);
          memcpy (&be, wire + 24, 8);
          g_assert_cmpuint (GUINT64_FROM_BE (be), ==, counter);
          aes_128_block (keys, wire + 16, tag);
          g_assert_cmpmem (wire, 16, tag, 16);
        }
    }
}

static void
test_nonces_never_repeat (Fixture       *f,
                          gconstpointer  data)
{
  static const char *const clients[] = { NULL, "192.0.2.10", "2001:db8:1234:5678::abcd" };
  g_autoptr(GHashTable) nonces = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GHashTable) tags = g_hash_table_new_full (g_bytes_hash, g_bytes_equal,
                                                      (GDestroyNotify) g_bytes_unref, NULL);
  const guint n_nonces = 3000;

  g_test_summary ("Two nonces never repeat, nor do their tags: many issued at the same instant "
                  "(only the counter differs) and over time, to one or several addresses.");
  for (guint i = 0; i < n_nonces; i++)
    {
      g_autoptr(GPtrArray) headers = sim_auth_challenge_full (f->auth, FALSE,
                                                              clients[i % G_N_ELEMENTS (clients)],
                                                              FALSE);
      char *nonce = nonce_of (g_ptr_array_index (headers, 0));
      guint8 wire[32];

      nonce_bytes (nonce, wire);
      g_assert_true (g_hash_table_add (nonces, nonce));
      g_assert_true (g_hash_table_add (tags, g_bytes_new (wire, 16)));
      /* Half of them at one instant, the rest a microsecond apart. */
      if (i >= n_nonces / 2)
        sim_clock_run_until (f->clock, sim_clock_now (f->clock) + 1);
    }
  g_assert_cmpuint (g_hash_table_size (nonces), ==, n_nonces);
  g_assert_cmpuint (g_hash_table_size (tags), ==, n_nonces);
}

static void
test_nonce_depends_on_the_secret (void)
{
  guint8 secret_a[32], secret_b[32];
  g_autoptr(SimClock) clock = sim_clock_new_virtual ();
  g_autoptr(SimAuth) a = NULL;
  g_autoptr(SimAuth) b = NULL;

  g_test_summary ("A nonce is not a function of time and counter alone: two registrars whose "
                  "secrets differ only in their last bit issue different nonces at the same "
                  "instant with the same counter, and neither accepts the other's.");
  for (guint i = 0; i < sizeof secret_a; i++)
    secret_a[i] = secret_b[i] = i * 7 + 1;
  secret_b[sizeof secret_b - 1] ^= 1;
  a = sim_auth_new (clock, NULL, "a", REALM, secret_a, sizeof secret_a);
  b = sim_auth_new (clock, NULL, "b", REALM, secret_b, sizeof secret_b);
  sim_clock_run_until (clock, SIM_SEC (42));

  for (guint i = 0; i < 4; i++)
    {
      g_autoptr(GPtrArray) from_a = sim_auth_challenge_full (a, FALSE, "192.0.2.10", FALSE);
      g_autoptr(GPtrArray) from_b = sim_auth_challenge_full (b, FALSE, "192.0.2.10", FALSE);
      g_autofree char *nonce_a = nonce_of (g_ptr_array_index (from_a, 0));
      g_autofree char *nonce_b = nonce_of (g_ptr_array_index (from_b, 0));
      g_autofree char *answer_a = answer (g_ptr_array_index (from_a, 0), "alice", "wonderland",
                                          URI, 1);
      g_autofree char *answer_b = answer (g_ptr_array_index (from_b, 0), "alice", "wonderland",
                                          URI, 1);
      guint8 wire_a[32], wire_b[32];

      nonce_bytes (nonce_a, wire_a);
      nonce_bytes (nonce_b, wire_b);
      /* The same time and counter; only the tag differs. */
      g_assert_cmpmem (wire_a + 16, 16, wire_b + 16, 16);
      g_assert_true (memcmp (wire_a, wire_b, 16) != 0);

      g_assert_cmpint (sim_auth_verify_full (a, "REGISTER", URI, answer_b, "192.0.2.10", NULL,
                                             NULL, NULL), ==, SIM_AUTH_UNKNOWN_NONCE);
      g_assert_cmpint (sim_auth_verify_full (b, "REGISTER", URI, answer_a, "192.0.2.10", NULL,
                                             NULL, NULL), ==, SIM_AUTH_UNKNOWN_NONCE);
    }
}

static void
test_nonce_pointing_at_another_entry_is_unknown (Fixture       *f,
                                                 gconstpointer  data)
{
  const guint n_nonces = 70;   /* more than the table's first size */
  g_autofree char *first = NULL;
  g_autofree char *last = NULL;
  guint8 a[32], b[32], mixed[32];

  g_test_summary ("White box: a nonce's table entry is found from its counter.  One that names "
                  "another live nonce's counter, with a MAC or time from elsewhere, matches "
                  "nothing; and the table keeps working as it grows.");
  for (guint i = 0; i < n_nonces; i++)
    {
      g_autofree char *ch = challenge (f, FALSE);

      if (i == 0)
        first = g_steal_pointer (&ch);
      else if (i == n_nonces - 1)
        last = g_steal_pointer (&ch);
      sim_clock_run_until (f->clock, sim_clock_now (f->clock) + SIM_MSEC (1));
    }
  g_assert_cmpuint (sim_auth_get_n_live_nonces (f->auth), ==, n_nonces);

  {
    g_autofree char *first_nonce = nonce_of (first);
    g_autofree char *last_nonce = nonce_of (last);

    nonce_bytes (first_nonce, a);
    nonce_bytes (last_nonce, b);
  }
  for (guint part = 0; part < 3; part++)
    {
      g_autofree char *forged = NULL;
      g_autofree char *authorization = NULL;

      /* b's counter with a's MAC, a's time, or both. */
      memcpy (mixed, b, 32);
      if (part != 1)
        memcpy (mixed, a, 16);
      if (part != 0)
        memcpy (mixed + 16, a + 16, 8);
      forged = nonce_text (mixed);
      authorization = answer_with_nonce (last, forged, "alice", "wonderland");
      g_assert_cmpint (verify (f, authorization), ==, SIM_AUTH_UNKNOWN_NONCE);
    }

  /* A counter past the last one issued. */
  {
    g_autofree char *forged = NULL;
    g_autofree char *authorization = NULL;

    memcpy (mixed, b, 32);
    mixed[31]++;
    forged = nonce_text (mixed);
    authorization = answer_with_nonce (last, forged, "alice", "wonderland");
    g_assert_cmpint (verify (f, authorization), ==, SIM_AUTH_UNKNOWN_NONCE);
  }

  /* The genuine ones, oldest and newest, still work. */
  {
    g_autofree char *oldest = answer (first, "alice", "wonderland", URI, 1);
    g_autofree char *newest = answer (last, "alice", "wonderland", URI, 1);

    g_assert_cmpint (verify (f, oldest), ==, SIM_AUTH_OK);
    g_assert_cmpint (verify (f, newest), ==, SIM_AUTH_OK);
    g_assert_cmpint (verify (f, oldest), ==, SIM_AUTH_REPLAYED);
  }
}

static void
test_opaque_is_fixed_per_secret (Fixture       *f,
                                 gconstpointer  data)
{
  static const guint8 other_secret[] = "another registrar's secret......";
  g_autoptr(SimAuth) same = sim_auth_new (f->clock, NULL, "r2", REALM, secret, sizeof secret - 1);
  g_autoptr(SimAuth) other = sim_auth_new (f->clock, NULL, "r3", REALM, other_secret,
                                           sizeof other_secret - 1);
  g_autoptr(GPtrArray) a = sim_auth_challenge (f->auth, FALSE);
  g_autoptr(GPtrArray) b = sim_auth_challenge (f->auth, FALSE);
  g_autoptr(GPtrArray) c = sim_auth_challenge (same, FALSE);
  g_autoptr(GPtrArray) d = sim_auth_challenge (other, FALSE);
  SimDigestChallenge ca = { NULL, }, cb = { NULL, }, cc = { NULL, }, cd = { NULL, };

  g_assert_true (sim_digest_challenge_parse (g_ptr_array_index (a, 0), &ca, NULL));
  g_assert_true (sim_digest_challenge_parse (g_ptr_array_index (b, 0), &cb, NULL));
  g_assert_true (sim_digest_challenge_parse (g_ptr_array_index (c, 0), &cc, NULL));
  g_assert_true (sim_digest_challenge_parse (g_ptr_array_index (d, 0), &cd, NULL));

  g_assert_cmpuint (strlen (ca.opaque), ==, 32);
  g_assert_cmpstr (ca.opaque, ==, cb.opaque);
  g_assert_cmpstr (ca.opaque, ==, cc.opaque);
  g_assert_cmpstr (ca.opaque, !=, cd.opaque);
  /* Nonces never repeat within one instance. */
  g_assert_cmpstr (ca.nonce, !=, cb.nonce);
  g_assert_cmpstr (ca.opaque, !=, ca.nonce);

  sim_digest_challenge_clear (&ca);
  sim_digest_challenge_clear (&cb);
  sim_digest_challenge_clear (&cc);
  sim_digest_challenge_clear (&cd);
}

static void
test_nonce_count_must_increase_when_not_one_time (Fixture       *f,
                                                  gconstpointer  data)
{
  g_autofree char *ch = NULL;
  guint counts[] = { 1, 2, 2, 1, 5, 3, 6 };
  SimAuthResult expected[] = {
    SIM_AUTH_OK, SIM_AUTH_OK, SIM_AUTH_REPLAYED, SIM_AUTH_REPLAYED,
    SIM_AUTH_OK, SIM_AUTH_REPLAYED, SIM_AUTH_OK,
  };

  sim_auth_set_one_time (f->auth, FALSE);
  ch = challenge (f, FALSE);

  for (guint i = 0; i < G_N_ELEMENTS (counts); i++)
    {
      g_autofree char *authorization = answer (ch, "alice", "wonderland", URI, counts[i]);

      g_test_message ("nc=%u", counts[i]);
      g_assert_cmpint (verify (f, authorization), ==, expected[i]);
    }

  /* Back to one-time: the nonce has been used, whatever the count. */
  sim_auth_set_one_time (f->auth, TRUE);
  {
    g_autofree char *authorization = answer (ch, "alice", "wonderland", URI, 7);

    g_assert_cmpint (verify (f, authorization), ==, SIM_AUTH_REPLAYED);
  }
}

/* RFC 7616 §3.4: nc counts requests "including the current request": 00000000 is no count. */
static void
test_nonce_count_zero_is_malformed (Fixture       *f,
                                    gconstpointer  data)
{
  g_autofree char *ch = challenge (f, FALSE);
  g_autofree char *zero = answer (ch, "alice", "wonderland", URI, 0);
  g_autofree char *one = answer (ch, "alice", "wonderland", URI, 1);

  g_assert_cmpint (verify (f, zero), ==, SIM_AUTH_MALFORMED);
  /* A malformed answer is refused before the nonce is looked at: it stays good. */
  g_assert_cmpint (verify (f, one), ==, SIM_AUTH_OK);
}

static void
test_sha256_challenge_when_enabled (Fixture       *f,
                                    gconstpointer  data)
{
  const SimDigestAlgorithm algorithms[] = { SIM_DIGEST_SHA256, SIM_DIGEST_MD5, SIM_DIGEST_SHA256 };
  const SimDigestAlgorithm md5_only[] = { SIM_DIGEST_MD5 };
  g_autoptr(GPtrArray) headers = NULL;
  g_autofree char *sha256_answer = NULL;
  g_autofree char *md5_answer = NULL;
  g_autofree char *nonce0 = NULL;
  g_autofree char *nonce1 = NULL;

  sim_auth_set_algorithms (f->auth, algorithms, G_N_ELEMENTS (algorithms));
  headers = sim_auth_challenge (f->auth, FALSE);

  /* RFC 8760 §2.4: one challenge per algorithm, preferred first, duplicates dropped. */
  g_assert_cmpuint (headers->len, ==, 2);
  g_assert_nonnull (strstr (g_ptr_array_index (headers, 0), "algorithm=SHA-256"));
  g_assert_nonnull (strstr (g_ptr_array_index (headers, 1), "algorithm=MD5"));
  nonce0 = nonce_of (g_ptr_array_index (headers, 0));
  nonce1 = nonce_of (g_ptr_array_index (headers, 1));
  g_assert_cmpstr (nonce0, !=, nonce1);

  sha256_answer = answer (g_ptr_array_index (headers, 0), "alice", "wonderland", URI, 1);
  g_assert_nonnull (strstr (sha256_answer, "algorithm=SHA-256"));
  /* SHA-256 responses are 64 hex digits. */
  g_assert_nonnull (strstr (sha256_answer, "response=\""));
  g_assert_cmpuint (strcspn (strstr (sha256_answer, "response=\"") + 10, "\""), ==, 64);
  g_assert_cmpint (verify (f, sha256_answer), ==, SIM_AUTH_OK);

  md5_answer = answer (g_ptr_array_index (headers, 1), "alice", "wonderland", URI, 1);
  g_assert_cmpint (verify (f, md5_answer), ==, SIM_AUTH_OK);

  /* Once the realm is back to MD5 only, SHA-256 is refused before anything else. */
  g_clear_pointer (&headers, g_ptr_array_unref);
  sim_auth_set_algorithms (f->auth, algorithms, 1);
  headers = sim_auth_challenge (f->auth, FALSE);
  g_clear_pointer (&sha256_answer, g_free);
  sha256_answer = answer (g_ptr_array_index (headers, 0), "alice", "wonderland", URI, 1);
  sim_auth_set_algorithms (f->auth, md5_only, 1);
  g_assert_cmpint (verify (f, sha256_answer), ==, SIM_AUTH_ALGORITHM_NOT_OFFERED);
}

static void
test_malformed_authorization (Fixture       *f,
                              gconstpointer  data)
{
  g_autofree char *ch = challenge (f, FALSE);
  g_autofree char *nonce = nonce_of (ch);
  g_autofree char *username = NULL;
  const char *malformed[] = {
    "Digest",
    "Digest username=\"alice\"",
    "Digest username=\"alice\", realm=\"" REALM "\", uri=\"" URI "\", response=\"00\"",
    "Digest username=\"alice\", realm=\"" REALM "\", nonce=\"%s\", uri=\"" URI "\", "
      "response=\"00\", qop=auth",
    "Digest username=\"alice\", realm=\"" REALM "\", nonce=\"%s\", uri=\"" URI "\", "
      "response=\"00\", qop=auth, nc=1, cnonce=\"c\"",
    "Digest username=\"alice\", realm=\"" REALM "\", nonce=\"%s\", uri=\"" URI "\", "
      "response=\"00\", qop=auth-int, nc=00000001, cnonce=\"c\"",
    "Digest username=\"alice\", username=\"bob\", realm=\"" REALM "\", nonce=\"%s\", "
      "uri=\"" URI "\", response=\"00\"",
    "Digest username=\"alice\", realm=\"" REALM "\", nonce=\"%s",
    "Digest username=alice realm=" REALM,
    "Digest \"alice\"",
  };
  const char *not_credentials[] = {
    "",
    "   ",
    "Basic YWxpY2U6d29uZGVybGFuZA==",
    "Bearer abc",
  };

  for (guint i = 0; i < G_N_ELEMENTS (malformed); i++)
    {
      g_autofree char *value = g_strdup_printf (malformed[i], nonce);

      g_test_message ("%s", value);
      g_assert_cmpint (sim_auth_verify (f->auth, "REGISTER", URI, value, lookup_cb, f, &username),
                       ==, SIM_AUTH_MALFORMED);
      g_assert_null (username);
    }

  for (guint i = 0; i < G_N_ELEMENTS (not_credentials); i++)
    g_assert_cmpint (verify (f, not_credentials[i]), ==, SIM_AUTH_NO_CREDENTIALS);
  g_assert_cmpint (verify (f, NULL), ==, SIM_AUTH_NO_CREDENTIALS);

  /* None of that touched the user table or used the nonce up. */
  g_assert_cmpuint (f->n_lookups, ==, 0);
  {
    g_autofree char *authorization = answer (ch, "alice", "wonderland", URI, 1);

    g_assert_cmpint (verify (f, authorization), ==, SIM_AUTH_OK);
  }
}

static void
test_wrong_realm_is_challenged (Fixture       *f,
                                gconstpointer  data)
{
  g_autofree char *ch = challenge (f, FALSE);
  SimDigestChallenge parsed = { NULL, };
  SimDigestCredentials creds;
  g_autofree char *authorization = NULL;

  g_assert_true (sim_digest_challenge_parse (ch, &parsed, NULL));
  g_free (parsed.realm);
  parsed.realm = g_strdup ("Lab.Example");
  sim_digest_answer (&parsed, "alice", "wonderland", "REGISTER", URI, CNONCE, 1, &creds);
  authorization = sim_digest_credentials_format (&creds);
  g_assert_cmpint (verify (f, authorization), ==, SIM_AUTH_WRONG_REALM);
  sim_digest_credentials_clear (&creds);
  sim_digest_challenge_clear (&parsed);
}

static void
test_uri_must_match_request_uri (Fixture       *f,
                                 gconstpointer  data)
{
  g_autofree char *ch = challenge (f, FALSE);
  g_autofree char *elsewhere = answer (ch, "alice", "wonderland", "sip:other.example", 1);
  g_autofree char *with_user = answer (ch, "alice", "wonderland", "sip:Alice@lab.example", 1);
  g_autofree char *shouting = answer (ch, "alice", "wonderland", "SIP:LAB.EXAMPLE", 1);
  g_autofree char *user_ok = NULL;

  g_assert_cmpint (verify (f, elsewhere), ==, SIM_AUTH_URI_MISMATCH);
  g_assert_cmpint (verify (f, with_user), ==, SIM_AUTH_URI_MISMATCH);
  /* RFC 3261 §19.1.4: scheme and host are case-insensitive; the user part is not. */
  g_assert_cmpint (sim_auth_verify (f->auth, "REGISTER", "sip:alice@lab.example", with_user,
                                    lookup_cb, f, NULL),
                   ==, SIM_AUTH_URI_MISMATCH);
  g_assert_cmpint (verify (f, shouting), ==, SIM_AUTH_OK);

  g_clear_pointer (&ch, g_free);
  ch = challenge (f, FALSE);
  user_ok = answer (ch, "alice", "wonderland", "sip:Alice@LAB.example;transport=udp", 1);
  g_assert_cmpint (sim_auth_verify (f->auth, "REGISTER", "sip:Alice@lab.example;transport=udp",
                                    user_ok, lookup_cb, f, NULL),
                   ==, SIM_AUTH_OK);
}

static void
test_checks_run_in_order (Fixture       *f,
                          gconstpointer  data)
{
  g_autofree char *ch = challenge (f, FALSE);
  const char *forged_nonce = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
  g_autofree char *nonce = nonce_of (ch);
  struct {
    const char *format;
    SimAuthResult expected;
  } cases[] = {
    /* Wrong realm beats an unknown algorithm and a forged nonce. */
    { "Digest username=\"alice\", realm=\"elsewhere\", nonce=\"%s\", uri=\"sip:x\", "
      "response=\"00\", algorithm=MD5-sess", SIM_AUTH_WRONG_REALM },
    /* An algorithm not offered beats a forged nonce. */
    { "Digest username=\"alice\", realm=\"" REALM "\", nonce=\"%s\", uri=\"sip:x\", "
      "response=\"00\", algorithm=SHA-512-256", SIM_AUTH_ALGORITHM_NOT_OFFERED },
    { "Digest username=\"alice\", realm=\"" REALM "\", nonce=\"%s\", uri=\"sip:x\", "
      "response=\"00\", algorithm=MD5-sess", SIM_AUTH_ALGORITHM_NOT_OFFERED },
    /* A forged nonce beats a wrong uri. */
    { "Digest username=\"alice\", realm=\"" REALM "\", nonce=\"%s\", uri=\"sip:x\", "
      "response=\"00\"", SIM_AUTH_UNKNOWN_NONCE },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *value = g_strdup_printf (cases[i].format, forged_nonce);

      g_assert_cmpint (verify (f, value), ==, cases[i].expected);
    }

  /* With the real nonce, a wrong uri beats a wrong response. */
  {
    g_autofree char *value = g_strdup_printf (cases[3].format, nonce);

    g_assert_cmpint (verify (f, value), ==, SIM_AUTH_URI_MISMATCH);
  }
  /* No password was looked up for any of these. */
  g_assert_cmpuint (f->n_lookups, ==, 0);
}

static void
test_events_are_traced (Fixture       *f,
                        gconstpointer  data)
{
  g_autofree char *ch = NULL;
  g_autofree char *nonce = NULL;
  g_autofree char *authorization = NULL;
  g_autofree char *stale_ch = NULL;
  g_autofree char *late = NULL;
  g_autoptr(SimAuth) untraced = NULL;
  g_autoptr(GPtrArray) headers = NULL;
  SimEvent *event;

  sim_clock_run_until (f->clock, SIM_SEC (1));
  ch = challenge (f, FALSE);
  nonce = nonce_of (ch);
  authorization = answer (ch, "alice", "wonderland", URI, 1);

  g_assert_cmpuint (sim_trace_get_n_events (f->trace), ==, 1);
  event = sim_trace_get_event (f->trace, 0);
  g_assert_cmpint (event->type, ==, SIM_EVENT_NONCE);
  g_assert_cmpstr (event->action, ==, "issued");
  g_assert_cmpint (event->t, ==, SIM_SEC (1));
  g_assert_cmpstr (event->node, ==, "registrar");
  g_assert_cmpstr (event->nonce, ==, nonce);
  g_assert_cmpstr (event->algorithm, ==, "MD5");
  g_assert_null (event->user);

  sim_clock_run_until (f->clock, SIM_SEC (2));
  g_assert_cmpint (verify (f, authorization), ==, SIM_AUTH_OK);
  event = sim_trace_get_event (f->trace, 1);
  g_assert_cmpstr (event->action, ==, "accepted");
  g_assert_cmpint (event->t, ==, SIM_SEC (2));
  g_assert_cmpstr (event->node, ==, "registrar");
  g_assert_cmpstr (event->nonce, ==, nonce);
  g_assert_cmpstr (event->user, ==, "alice");
  g_assert_cmpstr (event->algorithm, ==, "MD5");
  g_assert_cmpstr (event->reason, ==, sim_auth_result_reason (SIM_AUTH_OK));

  g_assert_cmpint (verify (f, authorization), ==, SIM_AUTH_REPLAYED);
  event = sim_trace_get_event (f->trace, 2);
  g_assert_cmpstr (event->action, ==, "rejected");
  g_assert_cmpstr (event->user, ==, "alice");
  g_assert_cmpstr (event->reason, ==, sim_auth_result_reason (SIM_AUTH_REPLAYED));
  g_assert_nonnull (strstr (event->reason, "already used"));

  g_assert_cmpint (verify (f, "Basic abc"), ==, SIM_AUTH_NO_CREDENTIALS);
  event = sim_trace_get_event (f->trace, 3);
  g_assert_cmpstr (event->action, ==, "no-credentials");
  g_assert_null (event->user);
  g_assert_null (event->nonce);
  g_assert_cmpstr (event->reason, ==, sim_auth_result_reason (SIM_AUTH_NO_CREDENTIALS));

  stale_ch = challenge (f, FALSE);
  g_clear_pointer (&authorization, g_free);
  late = answer (stale_ch, "alice", "wonderland", URI, 1);
  sim_clock_run_until (f->clock, SIM_SEC (400));
  g_assert_cmpint (verify (f, late), ==, SIM_AUTH_STALE);
  event = sim_trace_get_event (f->trace, 5);
  g_assert_cmpstr (event->action, ==, "stale");
  g_assert_cmpstr (event->reason, ==, sim_auth_result_reason (SIM_AUTH_STALE));
  g_assert_cmpuint (sim_trace_get_n_events (f->trace), ==, 6);

  /* A disabled trace gets nothing, and no trace at all is fine too. */
  sim_trace_set_enabled (f->trace, FALSE);
  headers = sim_auth_challenge (f->auth, TRUE);
  g_assert_cmpint (verify (f, late), ==, SIM_AUTH_STALE);
  sim_trace_set_enabled (f->trace, TRUE);
  g_assert_cmpuint (sim_trace_get_n_events (f->trace), ==, 6);

  untraced = sim_auth_new (f->clock, NULL, "quiet", REALM, secret, sizeof secret - 1);
  g_clear_pointer (&headers, g_ptr_array_unref);
  headers = sim_auth_challenge (untraced, FALSE);
  authorization = answer (g_ptr_array_index (headers, 0), "alice", "wonderland", URI, 1);
  g_assert_cmpint (sim_auth_verify (untraced, "REGISTER", URI, authorization, lookup_cb, f, NULL),
                   ==, SIM_AUTH_OK);
}

static void
test_old_nonces_are_pruned (Fixture       *f,
                            gconstpointer  data)
{
  g_test_summary ("The live-nonce table forgets nonces after twice their lifetime, so a "
                  "long run with many phones holds only the recent ones.");

  sim_auth_set_nonce_lifetime (f->auth, SIM_SEC (10));
  for (guint i = 0; i < 5000; i++)
    {
      g_autoptr(GPtrArray) headers = sim_auth_challenge (f->auth, FALSE);

      sim_clock_run_until (f->clock, sim_clock_now (f->clock) + SIM_MSEC (1));
    }
  /* 5 s of challenges, all younger than 20 s. */
  g_assert_cmpuint (sim_auth_get_n_live_nonces (f->auth), ==, 5000);

  /* At 22.5 s, those issued before 2.5 s are gone. */
  sim_clock_run_until (f->clock, SIM_MSEC (22500));
  g_assert_cmpuint (sim_auth_get_n_live_nonces (f->auth), ==, 2500);

  sim_clock_run_until (f->clock, SIM_SEC (100));
  g_assert_cmpuint (sim_auth_get_n_live_nonces (f->auth), ==, 0);

  /* And the table works as before after shrinking. */
  {
    g_autofree char *ch = challenge (f, FALSE);
    g_autofree char *authorization = answer (ch, "alice", "wonderland", URI, 1);

    g_assert_cmpuint (sim_auth_get_n_live_nonces (f->auth), ==, 1);
    g_assert_cmpint (verify (f, authorization), ==, SIM_AUTH_OK);
  }
}

static void
test_used_nonce_is_refused_after_it_is_forgotten (Fixture       *f,
                                                  gconstpointer  data)
{
  g_autofree char *ch = NULL;
  g_autofree char *authorization = NULL;

  g_test_summary ("Replay protection survives forgetting: a used nonce is refused as replayed "
                  "while remembered, as stale after its lifetime, and as unknown once the table "
                  "has forgotten it (after twice the lifetime), so a long run can bound the "
                  "table by the nonce lifetime without reopening replays.");

  sim_auth_set_nonce_lifetime (f->auth, SIM_SEC (10));
  ch = challenge (f, FALSE);
  authorization = answer (ch, "alice", "wonderland", URI, 1);
  g_assert_cmpint (verify (f, authorization), ==, SIM_AUTH_OK);
  g_assert_cmpint (verify (f, authorization), ==, SIM_AUTH_REPLAYED);

  sim_clock_run_until (f->clock, SIM_SEC (15));
  g_assert_cmpint (verify (f, authorization), !=, SIM_AUTH_OK);

  /* Past twice the lifetime the nonce is pruned: nothing is kept of it, and it still fails. */
  sim_clock_run_until (f->clock, SIM_SEC (25));
  g_assert_cmpint (verify (f, authorization), ==, SIM_AUTH_UNKNOWN_NONCE);
  g_assert_cmpuint (sim_auth_get_n_live_nonces (f->auth), ==, 0);
}

static void
test_live_nonces_are_capped (Fixture       *f,
                             gconstpointer  data)
{
  g_autofree char *first = NULL;
  g_autofree char *last = NULL;

  g_test_summary ("A flood of unauthenticated REGISTERs cannot grow the nonce table without "
                  "bound: beyond the cap the oldest nonce is forgotten, and a phone holding it "
                  "is simply challenged again.");

  sim_auth_set_max_live_nonces (f->auth, 100);
  for (guint i = 0; i < 1000; i++)
    {
      g_autofree char *ch = challenge (f, FALSE);

      if (i == 0)
        first = g_steal_pointer (&ch);
      else if (i == 999)
        last = g_steal_pointer (&ch);
      g_assert_cmpuint (sim_auth_get_n_live_nonces (f->auth), <=, 100);
    }
  g_assert_cmpuint (sim_auth_get_n_live_nonces (f->auth), ==, 100);
  {
    g_autofree char *old = answer (first, "alice", "wonderland", URI, 1);
    g_autofree char *recent = answer (last, "alice", "wonderland", URI, 1);

    g_assert_cmpint (verify (f, old), ==, SIM_AUTH_UNKNOWN_NONCE);
    g_assert_cmpint (verify (f, recent), ==, SIM_AUTH_OK);
  }
}

static void
test_results_have_names_and_reasons (void)
{
  const char *names[] = {
    "ok", "no-credentials", "malformed", "wrong-realm", "unknown-nonce", "stale", "replayed",
    "bad-response", "algorithm-not-offered", "uri-mismatch", "qop-missing",
  };

  for (guint i = 0; i <= SIM_AUTH_QOP_MISSING; i++)
    {
      const char *reason = sim_auth_result_reason (i);

      g_assert_cmpstr (sim_auth_result_name (i), ==, names[i]);
      g_assert_nonnull (reason);
      g_assert_cmpuint (strlen (reason), >, 40);
      /* Every reason points the student to its source. */
      g_assert_nonnull (strstr (reason, "RFC "));
    }
  g_assert_cmpstr (sim_auth_result_reason (SIM_AUTH_STALE), ==,
                   "the digest is right but the nonce expired; the phone may retry with the new "
                   "nonce without asking for the password (stale=true, RFC 7616 §3.3)");
  g_assert_true (g_str_has_prefix (sim_auth_result_reason (SIM_AUTH_REPLAYED),
                                   "this nonce was already used once: a captured Authorization "
                                   "cannot be replayed (RFC 7616 §3.4, one-time nonces"));
  g_assert_cmpstr (sim_auth_result_name (99), ==, "unknown");
}

/* A user table whose password can change under SimAuth's feet. */
static const char *
mutable_lookup_cb (const char *username,
                   gpointer    user_data)
{
  const char **password = user_data;

  return g_strcmp0 (username, "alice") == 0 ? *password : NULL;
}

/* One full exchange: challenge, answer with @answer_password, verify against the table. */
static SimAuthResult
register_once (Fixture     *f,
               const char  *answer_password,
               const char **table_password)
{
  g_autofree char *ch = challenge (f, FALSE);
  g_autofree char *auth = answer (ch, "alice", answer_password, URI, 1);

  return sim_auth_verify (f->auth, "REGISTER", URI, auth, mutable_lookup_cb, table_password,
                          NULL);
}

static void
test_ha1_cache_follows_password_changes (Fixture       *f,
                                         gconstpointer  data)
{
  const SimDigestAlgorithm both[] = { SIM_DIGEST_SHA256, SIM_DIGEST_MD5 };
  const char *password = "wonderland";
  g_autofree char *changed = g_strdup ("wonderland");

  g_test_summary ("HA1 is kept per user, but a changed, moved or removed password takes effect "
                  "on the next request: the old one fails at once and the new one works, for "
                  "every algorithm.");
  g_assert_cmpint (register_once (f, "wonderland", &password), ==, SIM_AUTH_OK);
  g_assert_cmpuint (sim_auth_get_n_ha1_cached (f->auth), ==, 1);
  g_assert_cmpint (register_once (f, "wonderland", &password), ==, SIM_AUTH_OK);

  /* The table changes: the old password stops working at once, the new one works. */
  password = "looking-glass";
  g_assert_cmpint (register_once (f, "wonderland", &password), ==, SIM_AUTH_BAD_RESPONSE);
  g_assert_cmpint (register_once (f, "looking-glass", &password), ==, SIM_AUTH_OK);
  g_assert_cmpuint (sim_auth_get_n_ha1_cached (f->auth), ==, 1);

  /* Same text at another address (a table that rebuilt its strings) is the same password. */
  password = changed;
  g_assert_cmpint (register_once (f, "wonderland", &password), ==, SIM_AUTH_OK);
  /* Same address, new text: the table edited its string in place. */
  memcpy (changed, "wonderlane", 10);
  g_assert_cmpint (register_once (f, "wonderland", &password), ==, SIM_AUTH_BAD_RESPONSE);
  g_assert_cmpint (register_once (f, "wonderlane", &password), ==, SIM_AUTH_OK);

  /* A removed user is unknown at once, however often it authenticated before. */
  password = NULL;
  g_assert_cmpint (register_once (f, "wonderlane", &password), ==, SIM_AUTH_BAD_RESPONSE);
  password = "wonderland";
  g_assert_cmpint (register_once (f, "wonderland", &password), ==, SIM_AUTH_OK);

  /* Each algorithm has its own HA1 (RFC 7616 §3.4.2). */
  sim_auth_set_algorithms (f->auth, both, G_N_ELEMENTS (both));
  {
    g_autoptr(GPtrArray) headers = sim_auth_challenge (f->auth, FALSE);

    for (guint i = 0; i < headers->len; i++)
      {
        g_autofree char *auth = answer (g_ptr_array_index (headers, i), "alice", "wonderland",
                                        URI, 1);

        g_assert_cmpint (sim_auth_verify (f->auth, "REGISTER", URI, auth, mutable_lookup_cb,
                                          &password, NULL), ==, SIM_AUTH_OK);
      }
  }
}

static void
test_ha1_cache_is_bounded (Fixture       *f,
                           gconstpointer  data)
{
  const char *password = "wonderland";

  g_test_summary ("Strangers naming ever new users cannot grow the HA1 cache past its bound.");
  sim_auth_set_max_ha1_cache (f->auth, 4);
  /* Strangers naming new users: the cache never holds more than its bound. */
  for (guint i = 0; i < 20; i++)
    {
      g_autofree char *ch = challenge (f, FALSE);
      g_autofree char *user = g_strdup_printf ("stranger%u", i);
      g_autofree char *auth = answer (ch, user, "guess", URI, 1);

      g_assert_cmpint (sim_auth_verify (f->auth, "REGISTER", URI, auth, mutable_lookup_cb,
                                        &password, NULL), ==, SIM_AUTH_BAD_RESPONSE);
      g_assert_cmpuint (sim_auth_get_n_ha1_cached (f->auth), <=, 4);
    }
  g_assert_cmpint (register_once (f, "wonderland", &password), ==, SIM_AUTH_OK);
  g_assert_cmpuint (sim_auth_get_n_ha1_cached (f->auth), <=, 4);
}

/* Records verdicts, to compare two SimAuths. */
static void
record_twin_verdict_cb (SimAuth       *auth,
                   SimAuthResult  result,
                   const char    *username,
                   const char    *client,
                   gpointer       user_data)
{
  g_string_append_printf (user_data, "%s %s %s;", sim_auth_result_name (result),
                          username != NULL ? username : "-", client != NULL ? client : "-");
}

static void
test_verify_params_matches_verify_text (Fixture       *f,
                                        gconstpointer  data)
{
  /* A second registrar in lock-step with f->auth: same secret, same clock, same nonces. */
  g_autoptr(SimAuth) twin = sim_auth_new (f->clock, NULL, "registrar", REALM, secret,
                                          sizeof secret - 1);
  g_autoptr(GString) text_verdicts = g_string_new (NULL);
  g_autoptr(GString) params_verdicts = g_string_new (NULL);
  static const char *const odd[] = {
    NULL, "\"\"", "", "\"alice\"", "alice", "\"a\\\"b\"", "\"a\\\\\"", "\"ab", "\"a\", x=\"b\"",
    "a,b", " \"alice\"", "\"alice\" ", "\"a\r\nb\"", "00000002", "00000000", "0000000g", "auth",
    "AUTH", "auth-int", "MD5", "md5", "SHA-256", "MD5-sess", "\"sip:LAB.example\"",
    "\"sip:other.example\"", "\"other.example\"", "\"lab.example\"",
  };
  static const char *const names[] = {
    "username", "realm", "nonce", "uri", "response", "algorithm", "cnonce", "opaque", "qop",
    "nc",
  };

  g_test_summary ("sim_auth_verify_params() gives the verdict, username and hook call of "
                  "sim_auth_verify_full() on the text of the same parameters, for good, odd and "
                  "replayed credentials.");
  sim_auth_set_verdict_func (f->auth, record_twin_verdict_cb, text_verdicts);
  sim_auth_set_verdict_func (twin, record_twin_verdict_cb, params_verdicts);

  for (guint i = 0; i <= G_N_ELEMENTS (names); i++)
    for (guint v = 0; v < G_N_ELEMENTS (odd); v++)
      for (guint scheme = 0; scheme < 3; scheme++)
        {
          g_autoptr(GPtrArray) text_ch = sim_auth_challenge_full (f->auth, FALSE, "192.0.2.1",
                                                                   FALSE);
          g_autoptr(GPtrArray) twin_ch = sim_auth_challenge_full (twin, FALSE, "192.0.2.1", FALSE);
          SimDigestChallenge parsed = { NULL, };
          SimDigestCredentials creds;
          char *q[10] = { NULL, };
          SimDigestParam params[10];
          const char *schemes[] = { "Digest", "digest", "Basic" };
          g_autofree char *text = NULL;

          g_assert_cmpstr (g_ptr_array_index (text_ch, 0), ==, g_ptr_array_index (twin_ch, 0));
          g_assert_true (sim_digest_challenge_parse (g_ptr_array_index (twin_ch, 0), &parsed,
                                                     NULL));
          sim_digest_answer (&parsed, "alice", "wonderland", "REGISTER", URI, CNONCE, 1, &creds);
          q[0] = g_strdup_printf ("\"%s\"", creds.username);
          q[1] = g_strdup_printf ("\"%s\"", creds.realm);
          q[2] = g_strdup_printf ("\"%s\"", creds.nonce);
          q[3] = g_strdup_printf ("\"%s\"", creds.uri);
          q[4] = g_strdup_printf ("\"%s\"", creds.response);
          q[5] = g_strdup (creds.algorithm_name);
          q[6] = g_strdup_printf ("\"%s\"", creds.cnonce);
          q[7] = g_strdup_printf ("\"%s\"", creds.opaque);
          q[8] = g_strdup (creds.qop);
          q[9] = g_strdup (creds.nc);
          for (guint k = 0; k < 10; k++)
            params[k] = (SimDigestParam) { names[k], q[k] };
          if (i < G_N_ELEMENTS (names))
            params[i].value = odd[v];
          text = sim_digest_params_to_string (schemes[scheme], params, 10);

          /* Twice: the second time is a replay. */
          for (guint round = 0; round < 2; round++)
            {
              g_autofree char *text_user = NULL;
              g_autofree char *params_user = NULL;
              SimAuthResult text_result, params_result;

              text_result = sim_auth_verify_full (f->auth, "REGISTER", URI, text, "192.0.2.1",
                                                  lookup_cb, f, &text_user);
              params_result = sim_auth_verify_params (twin, "REGISTER", URI, schemes[scheme],
                                                      params, 10, "192.0.2.1", lookup_cb, f,
                                                      &params_user);
              g_assert_cmpstr (sim_auth_result_name (params_result), ==,
                               sim_auth_result_name (text_result));
              g_assert_cmpstr (params_user, ==, text_user);
            }
          for (guint k = 0; k < G_N_ELEMENTS (q); k++)
            g_free (q[k]);
          sim_digest_credentials_clear (&creds);
          sim_digest_challenge_clear (&parsed);
        }
  g_assert_cmpstr (params_verdicts->str, ==, text_verdicts->str);
  /* Both kinds of verdict happened. */
  g_assert_nonnull (strstr (text_verdicts->str, "ok alice"));
  g_assert_nonnull (strstr (text_verdicts->str, "replayed alice"));
  g_assert_nonnull (strstr (text_verdicts->str, "malformed"));
  g_assert_nonnull (strstr (text_verdicts->str, "no-credentials"));
}

static void
test_ha2_cache_follows_method_and_uri (Fixture       *f,
                                       gconstpointer  data)
{
  const SimDigestAlgorithm both[] = { SIM_DIGEST_MD5, SIM_DIGEST_SHA256 };
  const char *uris[] = { URI, "sip:LAB.example", URI, "sip:lab.example;transport=tcp", URI };

  g_test_summary ("HA2 is kept from one request to the next, but a request naming another "
                  "URI or method is hashed afresh: each verifies, and a digest made for one "
                  "URI fails for another.");
  sim_auth_set_algorithms (f->auth, both, G_N_ELEMENTS (both));
  for (guint i = 0; i < G_N_ELEMENTS (uris); i++)
    {
      g_autoptr(GPtrArray) headers = sim_auth_challenge (f->auth, FALSE);

      for (guint k = 0; k < headers->len; k++)
        {
          g_autofree char *auth = answer (g_ptr_array_index (headers, k), "alice", "wonderland",
                                          uris[i], 1);

          g_assert_cmpint (sim_auth_verify (f->auth, "REGISTER", uris[i], auth, lookup_cb, f,
                                            NULL), ==, SIM_AUTH_OK);
        }
    }

  /* The response made for "REGISTER sip:lab.example", claimed for the same URI with another
   * method: the method is part of HA2. */
  sim_auth_set_algorithms (f->auth, both, 1);
  {
    g_autofree char *ch = challenge (f, FALSE);
    g_autofree char *auth = answer (ch, "alice", "wonderland", URI, 1);

    g_assert_cmpint (sim_auth_verify (f->auth, "INVITE", URI, auth, lookup_cb, f, NULL), ==,
                     SIM_AUTH_BAD_RESPONSE);
  }
  /* And a response made for another URI, whose uri parameter was rewritten to ours. */
  {
    g_autofree char *ch = challenge (f, FALSE);
    g_autofree char *auth = answer (ch, "alice", "wonderland", "sip:LAB.example", 1);
    g_autofree char *tampered = NULL;
    char *at = strstr (auth, "sip:LAB.example");

    g_assert_nonnull (at);
    memcpy (at, "sip:lab", 7);
    tampered = g_strdup (auth);
    g_assert_cmpint (sim_auth_verify (f->auth, "REGISTER", URI, tampered, lookup_cb, f, NULL),
                     ==, SIM_AUTH_BAD_RESPONSE);
  }
}

#define add_auth_test(path, func) \
  g_test_add ("/sim/auth/" path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  add_auth_test ("correct-digest-is-accepted", test_correct_digest_is_accepted);
  add_auth_test ("ha1-cache-follows-password-changes", test_ha1_cache_follows_password_changes);
  add_auth_test ("ha1-cache-is-bounded", test_ha1_cache_is_bounded);
  add_auth_test ("ha2-cache-follows-method-and-uri", test_ha2_cache_follows_method_and_uri);
  add_auth_test ("verify-params-matches-verify-text", test_verify_params_matches_verify_text);
  add_auth_test ("default-challenge-is-md5-only", test_default_challenge_is_md5_only);
  add_auth_test ("replayed-authorization-is-rejected", test_replayed_authorization_is_rejected);
  add_auth_test ("wrong-password-is-rejected", test_wrong_password_is_rejected);
  add_auth_test ("unknown-user-looks-like-wrong-password",
                 test_unknown_user_looks_like_wrong_password);
  add_auth_test ("unknown-user-never-authenticates", test_unknown_user_never_authenticates);
  add_auth_test ("wrong-answer-uses-the-nonce-up", test_wrong_answer_uses_the_nonce_up);
  add_auth_test ("nonce-is-bound-to-the-client-address", test_nonce_is_bound_to_the_client_address);
  add_auth_test ("nonce-binding-holds-for-every-address-length",
                 test_nonce_binding_holds_for_every_address_length);
  add_auth_test ("credentials-without-qop-are-refused", test_credentials_without_qop_are_refused);
  add_auth_test ("verdicts-reach-the-hook", test_verdicts_reach_the_hook);
  add_auth_test ("expired-nonce-is-stale", test_expired_nonce_is_stale);
  add_auth_test ("forged-nonce-is-unknown", test_forged_nonce_is_unknown);
  add_auth_test ("nonce-pointing-at-another-entry-is-unknown",
                 test_nonce_pointing_at_another_entry_is_unknown);
  add_auth_test ("opaque-is-fixed-per-secret", test_opaque_is_fixed_per_secret);
  add_auth_test ("nonce-count-zero-is-malformed", test_nonce_count_zero_is_malformed);
  add_auth_test ("nonce-count-must-increase-when-not-one-time",
                 test_nonce_count_must_increase_when_not_one_time);
  add_auth_test ("sha256-challenge-when-enabled", test_sha256_challenge_when_enabled);
  add_auth_test ("malformed-authorization", test_malformed_authorization);
  add_auth_test ("wrong-realm-is-challenged", test_wrong_realm_is_challenged);
  add_auth_test ("uri-must-match-request-uri", test_uri_must_match_request_uri);
  add_auth_test ("checks-run-in-order", test_checks_run_in_order);
  add_auth_test ("events-are-traced", test_events_are_traced);
  add_auth_test ("old-nonces-are-pruned", test_old_nonces_are_pruned);
  add_auth_test ("used-nonce-is-refused-after-it-is-forgotten",
                 test_used_nonce_is_refused_after_it_is_forgotten);
  g_test_add ("/sim/auth/live-nonces-are-capped", Fixture, NULL, fixture_set_up,
              test_live_nonces_are_capped, fixture_tear_down);
  g_test_add_func ("/sim/auth/nonce-tag-is-aes-of-time-and-counter",
                   test_nonce_tag_is_aes_of_time_and_counter);
  add_auth_test ("nonces-never-repeat", test_nonces_never_repeat);
  g_test_add_func ("/sim/auth/nonce-depends-on-the-secret", test_nonce_depends_on_the_secret);
  g_test_add_func ("/sim/auth/results-have-names-and-reasons", test_results_have_names_and_reasons);

  return g_test_run ();
}
