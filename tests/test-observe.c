/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>

#include "sim-digest.h"
#include "sim-export.h"
#include "sim-observe.h"

/*
 * The observer fed hand-written messages, as a capture would give them: a phone (alice,
 * 192.0.2.10) registering with digest at a registrar (192.0.2.1).  Times are Unix microseconds,
 * as the capture reader gives them, so the trace's time 0 is the first message.
 */

#define EPOCH G_GINT64_CONSTANT (1767225600000000)
#define REALM "lab.example"
#define NONCE "abc123nonce"
#define CONTACT_60 "Contact: <sip:alice@192.0.2.10:5060>;expires=60\r\n"
#define CONTACT_30 "Contact: <sip:alice@192.0.2.10:5060>;expires=30\r\n"

typedef struct {
  SimTrace *trace;
  SimObserver *observer;
  SimAddr phone;
  SimAddr registrar;
} Fixture;

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GHashTable) users = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);

  f->trace = sim_trace_new ();
  f->observer = sim_observer_new (f->trace);
  g_hash_table_insert (users, g_strdup ("alice"), g_strdup ("secret"));
  sim_observer_set_users (f->observer, users);
  sim_addr_init (&f->phone, "192.0.2.10", 5060, SIM_TRANSPORT_UDP);
  sim_addr_init (&f->registrar, "192.0.2.1", 5060, SIM_TRANSPORT_UDP);
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  g_assert_finalize_object (f->observer);
  g_assert_finalize_object (f->trace);
}

/* A REGISTER from alice; @authorization is a whole header line or NULL. */
static char *
register_text (guint       cseq,
               const char *authorization)
{
  return g_strdup_printf ("REGISTER sip:" REALM " SIP/2.0\r\n"
                          "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-%u\r\n"
                          "Max-Forwards: 70\r\n"
                          "From: <sip:alice@" REALM ">;tag=a1\r\n"
                          "To: <sip:alice@" REALM ">\r\n"
                          "Call-ID: reg-1@192.0.2.10\r\n"
                          "CSeq: %u REGISTER\r\n"
                          "Contact: <sip:alice@192.0.2.10:5060>\r\n"
                          "Expires: 60\r\n"
                          "User-Agent: baresip v3.0.0\r\n"
                          "%s"
                          "Content-Length: 0\r\n\r\n",
                          cseq, cseq, authorization ? authorization : "");
}

static char *
response_text (guint       cseq,
               int         status,
               const char *extra)
{
  return g_strdup_printf ("SIP/2.0 %d %s\r\n"
                          "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-%u\r\n"
                          "From: <sip:alice@" REALM ">;tag=a1\r\n"
                          "To: <sip:alice@" REALM ">;tag=r1\r\n"
                          "Call-ID: reg-1@192.0.2.10\r\n"
                          "CSeq: %u REGISTER\r\n"
                          "Server: siplab/0.1\r\n"
                          "%s"
                          "Content-Length: 0\r\n\r\n",
                          status, status == 200 ? "OK" : "Unauthorized", cseq, cseq,
                          extra ? extra : "");
}

static char *
authorization (const char *user,
               const char *password,
               guint       nc)
{
  SimDigestChallenge challenge = { .realm = (char *) REALM, .nonce = (char *) NONCE,
                                   .qop = (char *) "auth", .algorithm = SIM_DIGEST_MD5 };
  SimDigestCredentials creds = { 0 };
  g_autofree char *value = NULL;

  sim_digest_answer (&challenge, user, password, "REGISTER", "sip:" REALM, "c0ffee", nc, &creds);
  value = sim_digest_credentials_format (&creds);
  sim_digest_credentials_clear (&creds);
  return g_strdup_printf ("Authorization: %s\r\n", value);
}

static void
feed (Fixture    *f,
      double      seconds,
      gboolean    from_phone,
      const char *text)
{
  g_autoptr(GError) error = NULL;
  gint64 t = EPOCH + (gint64) (seconds * 1e6);

  g_assert_true (sim_observer_feed (f->observer, t, from_phone ? &f->phone : &f->registrar,
                                    from_phone ? &f->registrar : &f->phone,
                                    text, strlen (text), &error));
  g_assert_no_error (error);
}

static void
learn (Fixture    *f,
       gboolean    from_phone,
       const char *text)
{
  sim_observer_learn (f->observer, from_phone ? &f->phone : &f->registrar,
                      from_phone ? &f->registrar : &f->phone, text, strlen (text));
}

/* The events of @type (and @action, if not NULL), in order. */
static GPtrArray *
events_of (Fixture      *f,
           SimEventType  type,
           const char   *action)
{
  GPtrArray *all = sim_trace_get_events (f->trace);
  GPtrArray *out = g_ptr_array_new ();

  for (guint i = 0; i < all->len; i++)
    {
      SimEvent *e = all->pdata[i];

      if (e->type == type && (action == NULL || g_strcmp0 (e->action, action) == 0))
        g_ptr_array_add (out, e);
    }
  return out;
}

static void
test_verdicts (Fixture       *f,
               gconstpointer  data)
{
  g_autofree char *challenge = g_strdup_printf ("WWW-Authenticate: Digest realm=\"" REALM "\", "
                                                "nonce=\"" NONCE "\", qop=\"auth\", "
                                                "algorithm=MD5\r\n");
  g_autofree char *good = authorization ("alice", "secret", 1);
  g_autofree char *bad = authorization ("alice", "wrong", 2);
  g_autofree char *r1 = register_text (1, NULL);
  g_autofree char *c1 = response_text (1, 401, challenge);
  g_autofree char *r2 = register_text (2, good);
  g_autofree char *ok2 = response_text (2, 200, CONTACT_60);
  g_autofree char *r3 = register_text (3, bad);
  g_autofree char *r4 = register_text (4, good);
  g_autoptr(GPtrArray) verdicts = NULL;
  g_autoptr(GPtrArray) issued = NULL;

  g_test_summary ("A correct, a wrong-password and a replayed Authorization get their verdicts");

  feed (f, 0.0, TRUE, r1);
  feed (f, 0.1, FALSE, c1);
  feed (f, 0.2, TRUE, r2);
  feed (f, 0.3, FALSE, ok2);
  feed (f, 1.0, TRUE, r3);
  feed (f, 1.5, TRUE, r4);

  issued = events_of (f, SIM_EVENT_NONCE, "issued");
  g_assert_cmpuint (issued->len, ==, 1);
  g_assert_cmpstr (((SimEvent *) issued->pdata[0])->nonce, ==, NONCE);

  verdicts = events_of (f, SIM_EVENT_NONCE, NULL);
  g_assert_cmpuint (verdicts->len, ==, 4);
  g_assert_cmpstr (((SimEvent *) verdicts->pdata[1])->action, ==, "accepted");
  g_assert_cmpstr (((SimEvent *) verdicts->pdata[1])->text, ==, "correct");
  g_assert_cmpstr (((SimEvent *) verdicts->pdata[1])->user, ==, "alice");
  g_assert_cmpstr (((SimEvent *) verdicts->pdata[2])->action, ==, "rejected");
  g_assert_cmpstr (((SimEvent *) verdicts->pdata[2])->text, ==, "wrong-password");
  g_assert_cmpstr (((SimEvent *) verdicts->pdata[3])->action, ==, "rejected");
  g_assert_cmpstr (((SimEvent *) verdicts->pdata[3])->text, ==, "replayed");
  g_assert_nonnull (strstr (((SimEvent *) verdicts->pdata[3])->reason, "00000001"));
  g_assert_cmpuint (sim_observer_get_n_messages (f->observer), ==, 6);
  if (g_test_verbose ())
    {
      g_autoptr(GString) ladder = g_string_new (NULL);

      sim_export_ladder (sim_trace_get_events (f->trace), ladder, NULL);
      g_test_message ("%s", ladder->str);
    }
  g_assert_cmpint (sim_observer_get_time_origin (f->observer), ==, EPOCH);
}

static void
test_undecidable (Fixture       *f,
                  gconstpointer  data)
{
  g_autofree char *stranger = authorization ("mallory", "x", 1);
  g_autofree char *good = authorization ("alice", "secret", 1);
  g_autofree char *r1 = register_text (1, stranger);
  g_autofree char *r2 = register_text (2, good);
  g_autoptr(GPtrArray) verdicts = NULL;

  g_test_summary ("An unknown user, and anyone without a users file, cannot be judged");

  feed (f, 0.0, TRUE, r1);
  sim_observer_set_users (f->observer, NULL);
  feed (f, 1.0, TRUE, r2);

  verdicts = events_of (f, SIM_EVENT_NONCE, NULL);
  g_assert_cmpuint (verdicts->len, ==, 2);
  g_assert_cmpstr (((SimEvent *) verdicts->pdata[0])->action, ==, "undecidable");
  g_assert_nonnull (strstr (((SimEvent *) verdicts->pdata[0])->reason, "mallory"));
  g_assert_cmpstr (((SimEvent *) verdicts->pdata[1])->action, ==, "undecidable");
  g_assert_nonnull (strstr (((SimEvent *) verdicts->pdata[1])->reason, "--users"));
}

static void
test_stale (Fixture       *f,
            gconstpointer  data)
{
  g_autofree char *challenge = g_strdup ("WWW-Authenticate: Digest realm=\"" REALM "\", "
                                         "nonce=\"" NONCE "\", qop=\"auth\"\r\n");
  g_autofree char *stale = g_strdup ("WWW-Authenticate: Digest realm=\"" REALM "\", "
                                     "nonce=\"fresh\", qop=\"auth\", stale=true\r\n");
  g_autofree char *good = authorization ("alice", "secret", 1);
  g_autofree char *c1 = response_text (1, 401, challenge);
  g_autofree char *r2 = register_text (2, good);
  g_autofree char *c2 = response_text (2, 401, stale);
  g_autoptr(GPtrArray) verdicts = NULL;

  g_test_summary ("A right digest for an old nonce is stale, by the lifetime and by stale=true");

  sim_observer_set_nonce_lifetime (f->observer, SIM_SEC (10));
  feed (f, 0.0, FALSE, c1);
  feed (f, 20.0, TRUE, r2);
  feed (f, 20.1, FALSE, c2);

  verdicts = events_of (f, SIM_EVENT_NONCE, "stale");
  g_assert_cmpuint (verdicts->len, ==, 1);
  g_assert_cmpstr (((SimEvent *) verdicts->pdata[0])->text, ==, "stale");
  g_assert_nonnull (strstr (((SimEvent *) verdicts->pdata[0])->reason, "lifetime"));
}

static void
test_server_says_stale (Fixture       *f,
                        gconstpointer  data)
{
  g_autofree char *stale = g_strdup ("WWW-Authenticate: Digest realm=\"" REALM "\", "
                                     "nonce=\"fresh\", qop=\"auth\", stale=true\r\n");
  g_autofree char *good = authorization ("alice", "secret", 1);
  g_autofree char *r2 = register_text (2, good);
  g_autofree char *c2 = response_text (2, 401, stale);
  g_autoptr(GPtrArray) verdicts = NULL;

  g_test_summary ("A 401 with stale=true to a request with a right digest adds a stale verdict");

  feed (f, 0.0, TRUE, r2);
  feed (f, 0.1, FALSE, c2);
  verdicts = events_of (f, SIM_EVENT_NONCE, NULL);
  g_assert_cmpuint (verdicts->len, ==, 3);
  g_assert_cmpstr (((SimEvent *) verdicts->pdata[0])->text, ==, "correct");
  g_assert_cmpstr (((SimEvent *) verdicts->pdata[1])->action, ==, "issued");
  g_assert_cmpstr (((SimEvent *) verdicts->pdata[2])->action, ==, "stale");
  g_assert_nonnull (strstr (((SimEvent *) verdicts->pdata[2])->reason, "stale=true"));
}

static void
test_retransmission (Fixture       *f,
                     gconstpointer  data)
{
  g_autofree char *r1 = register_text (1, NULL);
  g_autofree char *good = authorization ("alice", "secret", 1);
  g_autofree char *r2 = register_text (2, good);
  g_autoptr(GPtrArray) sent = NULL;
  g_autoptr(GPtrArray) retx = NULL;
  g_autoptr(GPtrArray) verdicts = NULL;
  g_autoptr(GString) ladder = g_string_new (NULL);

  g_test_summary ("The same REGISTER again is a retransmission with Timer E inferred, "
                  "judged once");

  feed (f, 0.0, TRUE, r1);
  feed (f, 0.5, TRUE, r1);
  feed (f, 1.5, TRUE, r1);
  feed (f, 10.0, TRUE, r1);
  feed (f, 20.0, TRUE, r2);
  feed (f, 20.5, TRUE, r2);

  sent = events_of (f, SIM_EVENT_PACKET, "sent");
  retx = events_of (f, SIM_EVENT_PACKET, "retransmitted");
  g_assert_cmpuint (sent->len, ==, 2);
  g_assert_cmpuint (retx->len, ==, 4);
  g_assert_nonnull (strstr (((SimEvent *) retx->pdata[0])->reason, "Timer E"));
  g_assert_nonnull (strstr (((SimEvent *) retx->pdata[0])->reason, "gives 0.500s"));
  g_assert_nonnull (strstr (((SimEvent *) retx->pdata[1])->reason, "gives 1.000s"));
  g_assert_null (strstr (((SimEvent *) retx->pdata[1])->reason, "not the schedule"));
  /* 8.5 s after the third copy: Timer E gives 2 s there, so this one is the user agent's. */
  g_assert_nonnull (strstr (((SimEvent *) retx->pdata[2])->reason, "not the schedule"));
  verdicts = events_of (f, SIM_EVENT_NONCE, NULL);
  g_assert_cmpuint (verdicts->len, ==, 1);

  sim_export_ladder (sim_trace_get_events (f->trace), ladder, NULL);
  g_assert_nonnull (strstr (ladder->str, "(retx)"));
}

static void
test_location (Fixture       *f,
               gconstpointer  data)
{
  g_autofree char *r1 = register_text (1, NULL);
  g_autofree char *ok1 = response_text (1, 200, CONTACT_60);
  g_autofree char *r2 = register_text (2, NULL);
  g_autofree char *ok2 = response_text (2, 200, CONTACT_30);
  g_autoptr(GPtrArray) registrars = NULL;
  g_autoptr(GPtrArray) added = NULL;
  g_autoptr(GPtrArray) refreshed = NULL;
  g_autoptr(GPtrArray) expired = NULL;
  SimLocation *location;

  g_test_summary ("The location table is rebuilt from REGISTER/200 pairs and expires on "
                  "capture time");

  feed (f, 0.0, TRUE, r1);
  feed (f, 0.1, FALSE, ok1);
  feed (f, 10.0, TRUE, r2);
  feed (f, 10.1, FALSE, ok2);

  registrars = sim_observer_get_registrars (f->observer);
  g_assert_cmpuint (registrars->len, ==, 1);
  location = sim_observer_get_location (f->observer, registrars->pdata[0]);
  g_assert_nonnull (location);
  g_assert_cmpuint (sim_location_get_n_bindings (location), ==, 1);
  g_assert_nonnull (sim_location_find (location, "sip:alice@" REALM, "sip:alice@192.0.2.10:5060"));

  added = events_of (f, SIM_EVENT_BINDING, "added");
  refreshed = events_of (f, SIM_EVENT_BINDING, "refreshed");
  g_assert_cmpuint (added->len, ==, 1);
  g_assert_cmpuint (refreshed->len, ==, 1);
  g_assert_cmpint (((SimEvent *) refreshed->pdata[0])->expires, ==, 30);

  /* Granted 30 s at 10.1 s: still there at 40 s, gone at 40.1 s on the capture's clock. */
  sim_observer_advance (f->observer, EPOCH + SIM_SEC (40));
  g_assert_cmpuint (sim_location_get_n_bindings (location), ==, 1);
  sim_observer_advance (f->observer, EPOCH + SIM_SEC (41));
  expired = events_of (f, SIM_EVENT_BINDING, "expired");
  g_assert_cmpuint (expired->len, ==, 1);
  g_assert_cmpint (((SimEvent *) expired->pdata[0])->t, ==, SIM_MSEC (40100));
  g_assert_cmpuint (sim_location_get_n_bindings (location), ==, 0);
}

static void
test_location_bounded (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(GPtrArray) registrars = NULL;
  g_autoptr(GPtrArray) notes = NULL;
  SimLocation *location;

  g_test_summary ("Past the bindings limit a new AOR is left out of the table, with a note; "
                  "AORs already there are still refreshed");

  sim_observer_set_max_bindings (f->observer, 2);
  for (guint i = 0; i < 3; i++)
    {
      g_autofree char *ok = g_strdup_printf ("SIP/2.0 200 OK\r\n"
                                             "Via: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bK-b%u\r\n"
                                             "From: <sip:u%u@" REALM ">;tag=a1\r\n"
                                             "To: <sip:u%u@" REALM ">;tag=r1\r\n"
                                             "Call-ID: c%u\r\n"
                                             "CSeq: 1 REGISTER\r\n"
                                             "Contact: <sip:u%u@192.0.2.10>;expires=60\r\n"
                                             "Content-Length: 0\r\n\r\n", i, i, i, i, i);
      feed (f, i, FALSE, ok);
    }
  registrars = sim_observer_get_registrars (f->observer);
  location = sim_observer_get_location (f->observer, registrars->pdata[0]);
  g_assert_cmpuint (sim_location_get_n_bindings (location), ==, 2);
  notes = events_of (f, SIM_EVENT_NOTE, NULL);
  g_assert_cmpuint (notes->len, ==, 1);
  g_assert_nonnull (strstr (((SimEvent *) notes->pdata[0])->text, "sip:u2@" REALM));
}

static void
test_names (Fixture       *f,
            gconstpointer  data)
{
  g_autofree char *r1 = register_text (1, NULL);
  g_autofree char *ok1 = response_text (1, 200, NULL);
  SimAddr other;
  g_autoptr(GPtrArray) added = NULL;

  g_test_summary ("Hosts are named from the AOR and User-Agent/Server, uniquely and stably");

  learn (f, TRUE, r1);
  learn (f, FALSE, ok1);
  feed (f, 0.0, TRUE, r1);
  feed (f, 0.1, FALSE, ok1);
  g_assert_cmpstr (sim_observer_get_node_name (f->observer, &f->phone), ==, "alice (baresip)");
  g_assert_cmpstr (sim_observer_get_node_name (f->observer, &f->registrar), ==,
                   "registrar (siplab)");

  /* A second alice from another port is told apart. */
  sim_addr_init (&other, "192.0.2.10", 5062, SIM_TRANSPORT_UDP);
  g_assert_true (sim_observer_feed (f->observer, EPOCH + SIM_SEC (1), &other, &f->registrar,
                                    r1, strlen (r1), NULL));
  g_assert_cmpstr (sim_observer_get_node_name (f->observer, &other), ==, "alice (baresip) #2");

  added = events_of (f, SIM_EVENT_NODE, "added");
  g_assert_cmpuint (added->len, ==, 3);
}

/*
 * The first pass skips parsing a message that can teach nothing; one that can must still be
 * learned from: the registrar answers an OPTIONS before any REGISTER (it is not yet a
 * registrar then), and alice sends an OPTIONS before her REGISTER (her user is not known yet).
 */
static void
test_names_learned_after_other_traffic (Fixture       *f,
                                        gconstpointer  data)
{
  const char *options = "OPTIONS sip:" REALM " SIP/2.0\r\n"
                        "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-o1\r\n"
                        "From: <sip:probe@" REALM ">;tag=o1\r\nTo: <sip:" REALM ">\r\n"
                        "Call-ID: o1\r\nCSeq: 1 OPTIONS\r\nUser-Agent: baresip v3.0.0\r\n"
                        "Content-Length: 0\r\n\r\n";
  const char *options_ok = "SIP/2.0 200 OK\r\n"
                           "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-o1\r\n"
                           "From: <sip:probe@" REALM ">;tag=o1\r\nTo: <sip:" REALM ">;tag=r\r\n"
                           "Call-ID: o1\r\nCSeq: 1 OPTIONS\r\nServer: siplab/0.1\r\n"
                           "Content-Length: 0\r\n\r\n";
  g_autofree char *r1 = register_text (1, NULL);
  g_autofree char *ok1 = response_text (1, 200, NULL);

  g_test_summary ("The first pass still learns a REGISTER's user and a registrar's role when "
                  "the hosts were seen before in other traffic");

  for (guint i = 0; i < 3; i++)
    {
      learn (f, TRUE, options);
      learn (f, FALSE, options_ok);
    }
  learn (f, TRUE, r1);
  learn (f, FALSE, ok1);
  feed (f, 0.0, TRUE, options);
  feed (f, 0.1, FALSE, options_ok);
  g_assert_cmpstr (sim_observer_get_node_name (f->observer, &f->phone), ==, "alice (baresip)");
  g_assert_cmpstr (sim_observer_get_node_name (f->observer, &f->registrar), ==,
                   "registrar (siplab)");
}

static void
test_names_live (Fixture       *f,
                 gconstpointer  data)
{
  g_autofree char *r1 = register_text (1, NULL);
  g_autofree char *ok1 = response_text (1, 200, NULL);

  g_test_summary ("Without a first pass a host keeps the name it had when first seen");

  feed (f, 0.0, TRUE, r1);
  feed (f, 0.1, FALSE, ok1);
  g_assert_cmpstr (sim_observer_get_node_name (f->observer, &f->registrar), ==, "192.0.2.1:5060");
}

static void
test_not_sip (Fixture       *f,
              gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  const char junk[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";

  g_test_summary ("A payload that is not SIP is refused with a reason and emits nothing");

  g_assert_false (sim_observer_feed (f->observer, EPOCH, &f->phone, &f->registrar,
                                     junk, strlen (junk), &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_clear_error (&error);
  g_assert_false (sim_observer_feed (f->observer, EPOCH, &f->phone, &f->registrar,
                                     "SIP", 3, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_assert_cmpuint (sim_trace_get_n_events (f->trace), ==, 0);
}

static void
test_bounded (Fixture       *f,
              gconstpointer  data)
{
  g_autofree char *r1 = register_text (1, NULL);
  SimAddr addr;
  char ip[32];

  g_test_summary ("Past SIM_OBSERVER_MAX_HOSTS a new host is named by its address, "
                  "and remembered nowhere");

  for (guint i = 0; i < SIM_OBSERVER_MAX_HOSTS + 10; i++)
    {
      g_snprintf (ip, sizeof ip, "10.%u.%u.%u", (i >> 16) & 255, (i >> 8) & 255, i & 255);
      sim_addr_init (&addr, ip, 5060, SIM_TRANSPORT_UDP);
      sim_observer_learn (f->observer, &addr, &f->registrar, r1, strlen (r1));
    }
  /* The registrar and SIM_OBSERVER_MAX_HOSTS - 1 phones were remembered; no more. */
  g_assert_null (sim_observer_get_node_name (f->observer, &addr));
  sim_trace_set_keep (f->trace, FALSE);
  g_assert_true (sim_observer_feed (f->observer, EPOCH, &addr, &f->registrar, r1, strlen (r1),
                                    NULL));
  g_assert_null (sim_observer_get_node_name (f->observer, &addr));

  /* A host remembered nowhere that answers a REGISTER gets no location table either. */
  {
    g_autofree char *ok = response_text (1, 200, "Contact: <sip:alice@192.0.2.10>;expires=60\r\n");
    g_autoptr(GPtrArray) registrars = NULL;

    g_assert_true (sim_observer_feed (f->observer, EPOCH, &addr, &f->registrar, ok, strlen (ok),
                                      NULL));
    registrars = sim_observer_get_registrars (f->observer);
    g_assert_cmpuint (registrars->len, ==, 0);
  }
}

static void
test_tables_bounded (Fixture       *f,
                     gconstpointer  data)
{
  g_autofree char *first = register_text (1, NULL);
  g_autofree char *good = authorization ("alice", "secret", 1);
  g_autofree char *answer = register_text (2, good);
  g_autofree char *again = register_text (3, good);
  g_autoptr(GPtrArray) sent = NULL;
  g_autoptr(GPtrArray) verdicts = NULL;

  g_test_summary ("Past SIM_OBSERVER_MAX_TRANSACTIONS and SIM_OBSERVER_MAX_NONCES the oldest "
                  "message and nonce are forgotten: a copy is then new, a replay undetected");

  feed (f, 0, TRUE, first);
  {
    g_autofree char *challenge = response_text (1, 401, "WWW-Authenticate: Digest realm=\""
                                                REALM "\", nonce=\"" NONCE "\", qop=\"auth\"\r\n");
    feed (f, 0.1, FALSE, challenge);
  }
  feed (f, 0.2, TRUE, answer);
  sim_trace_set_enabled (f->trace, FALSE);
  for (guint i = 0; i < MAX (SIM_OBSERVER_MAX_TRANSACTIONS, SIM_OBSERVER_MAX_NONCES); i++)
    {
      g_autofree char *extra = g_strdup_printf ("WWW-Authenticate: Digest realm=\"" REALM "\", "
                                                "nonce=\"n%u\", qop=\"auth\"\r\n", i);
      g_autofree char *text = response_text (1000 + i, 401, extra);

      feed (f, 1, FALSE, text);
    }
  sim_trace_set_enabled (f->trace, TRUE);
  feed (f, 2, TRUE, first);
  feed (f, 3, TRUE, again);

  sent = events_of (f, SIM_EVENT_PACKET, "sent");
  g_assert_cmpuint (sent->len, ==, 5);   /* the first REGISTER counts as new again */
  verdicts = events_of (f, SIM_EVENT_NONCE, "accepted");
  g_assert_cmpuint (verdicts->len, ==, 2);   /* the replay went unnoticed: its nonce is gone */
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, fn) \
  g_test_add (path, Fixture, NULL, fixture_set_up, fn, fixture_tear_down)
  ADD ("/sim/observe/digest-verdicts-correct-wrong-replayed", test_verdicts);
  ADD ("/sim/observe/unknown-user-is-undecidable", test_undecidable);
  ADD ("/sim/observe/old-nonce-is-stale", test_stale);
  ADD ("/sim/observe/server-stale-true-adds-a-stale-verdict", test_server_says_stale);
  ADD ("/sim/observe/retransmission-names-timer-e", test_retransmission);
  ADD ("/sim/observe/location-rebuilt-and-expires", test_location);
  ADD ("/sim/observe/location-is-bounded", test_location_bounded);
  ADD ("/sim/observe/hosts-named-from-aor-and-user-agent", test_names);
  ADD ("/sim/observe/live-names-are-stable", test_names_live);
  ADD ("/sim/observe/names-learned-after-other-traffic", test_names_learned_after_other_traffic);
  ADD ("/sim/observe/not-sip-is-refused", test_not_sip);
  ADD ("/sim/observe/hosts-are-bounded", test_bounded);
  ADD ("/sim/observe/messages-and-nonces-are-bounded", test_tables_bounded);
#undef ADD

  return g_test_run ();
}
