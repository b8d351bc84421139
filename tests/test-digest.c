/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <string.h>

#include "sim-digest.h"

/* RFC 7616 §3.9.1: one request answered with MD5 and with SHA-256. */
#define RFC7616_USER     "Mufasa"
#define RFC7616_PASSWORD "Circle of Life"
#define RFC7616_REALM    "http-auth@example.org"
#define RFC7616_NONCE    "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v"
#define RFC7616_CNONCE   "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"
#define RFC7616_OPAQUE   "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"
#define RFC7616_URI      "/dir/index.html"

static char *
rfc7616_response (SimDigestAlgorithm algorithm)
{
  g_autofree char *ha1 = sim_digest_ha1 (algorithm, RFC7616_USER, RFC7616_REALM, RFC7616_PASSWORD);
  g_autofree char *ha2 = sim_digest_ha2 (algorithm, "GET", RFC7616_URI);

  return sim_digest_response (algorithm, ha1, RFC7616_NONCE, "00000001", RFC7616_CNONCE,
                              "auth", ha2);
}

static void
test_rfc7616_md5_example_matches (void)
{
  g_autofree char *response = rfc7616_response (SIM_DIGEST_MD5);

  g_assert_cmpstr (response, ==, "8ca523f5e9506fed4657c9700eebdbec");
}

static void
test_rfc7616_sha256_example_matches (void)
{
  g_autofree char *response = rfc7616_response (SIM_DIGEST_SHA256);

  g_assert_cmpstr (response, ==,
                   "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1");
}

static void
test_rfc2617_example_matches (void)
{
  g_autofree char *ha1 = sim_digest_ha1 (SIM_DIGEST_MD5, "Mufasa", "testrealm@host.com",
                                         "Circle Of Life");
  g_autofree char *ha2 = sim_digest_ha2 (SIM_DIGEST_MD5, "GET", "/dir/index.html");
  g_autofree char *response = sim_digest_response (SIM_DIGEST_MD5, ha1,
                                                   "dcd98b7102dd2f0e8b11d0f600bfb0c093",
                                                   "00000001", "0a4f113b", "auth", ha2);

  g_assert_cmpstr (ha1, ==, "939e7578ed9e3c518a452acee763bce9");
  g_assert_cmpstr (response, ==, "6629fae49393a05397450978507c4ef1");
}

static void
test_rfc2069_form_without_qop (void)
{
  g_autofree char *ha1 = sim_digest_ha1 (SIM_DIGEST_MD5, "Mufasa", "testrealm@host.com",
                                         "Circle Of Life");
  g_autofree char *ha2 = sim_digest_ha2 (SIM_DIGEST_MD5, "GET", "/dir/index.html");
  g_autofree char *response = sim_digest_response (SIM_DIGEST_MD5, ha1,
                                                   "dcd98b7102dd2f0e8b11d0f600bfb0c093",
                                                   NULL, NULL, NULL, ha2);
  g_autofree char *joined = g_strdup_printf ("%s:dcd98b7102dd2f0e8b11d0f600bfb0c093:%s", ha1, ha2);
  g_autofree char *by_hand = sim_digest_hash_hex (SIM_DIGEST_MD5, joined, strlen (joined));

  g_test_summary ("RFC 2069: response = H(HA1:nonce:HA2), value computed with openssl dgst.");
  g_assert_cmpstr (response, ==, "670fd8c2df070c60b045671b8b24ff02");
  g_assert_cmpstr (response, ==, by_hand);
}

static void
test_hashes_match_known_vectors (void)
{
  g_autofree char *md5 = sim_digest_hash_hex (SIM_DIGEST_MD5, "abc", 3);
  g_autofree char *sha256 = sim_digest_hash_hex (SIM_DIGEST_SHA256, "abc", 3);
  g_autofree char *sha512_256 = sim_digest_hash_hex (SIM_DIGEST_SHA512_256, "abc", 3);
  g_autofree char *empty = sim_digest_hash_hex (SIM_DIGEST_MD5, NULL, 0);

  /* RFC 1321 §A.5 and FIPS 180-4 examples (SHA-512/256 is not SHA-512 cut short). */
  g_assert_cmpstr (md5, ==, "900150983cd24fb0d6963f7d28e17f72");
  g_assert_cmpstr (sha256, ==, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  g_assert_cmpstr (sha512_256, ==,
                   "53048e2681941ef99b2e29b76b4c7dabe4c2d0c634fc6d46e0e2f13107e7af23");
  g_assert_cmpstr (empty, ==, "d41d8cd98f00b204e9800998ecf8427e");
}

static void
test_algorithm_names_parse_case_insensitively (void)
{
  SimDigestAlgorithm algorithm = SIM_DIGEST_SHA256;

  g_assert_true (sim_digest_algorithm_from_name (NULL, &algorithm));
  g_assert_cmpint (algorithm, ==, SIM_DIGEST_MD5);
  algorithm = SIM_DIGEST_SHA256;
  g_assert_true (sim_digest_algorithm_from_name ("", &algorithm));
  g_assert_cmpint (algorithm, ==, SIM_DIGEST_MD5);
  g_assert_true (sim_digest_algorithm_from_name ("sha-256", &algorithm));
  g_assert_cmpint (algorithm, ==, SIM_DIGEST_SHA256);
  g_assert_true (sim_digest_algorithm_from_name ("Sha-512-256", &algorithm));
  g_assert_cmpint (algorithm, ==, SIM_DIGEST_SHA512_256);
  g_assert_true (sim_digest_algorithm_from_name ("md5", &algorithm));
  g_assert_cmpint (algorithm, ==, SIM_DIGEST_MD5);

  /* The session variants need state a registrar does not keep. */
  g_assert_false (sim_digest_algorithm_from_name ("MD5-sess", &algorithm));
  g_assert_false (sim_digest_algorithm_from_name ("SHA-256-sess", &algorithm));
  g_assert_false (sim_digest_algorithm_from_name ("SHA-512-256-sess", &algorithm));
  g_assert_false (sim_digest_algorithm_from_name ("SHA256", &algorithm));
  g_assert_false (sim_digest_algorithm_from_name ("MD5 ", &algorithm));

  for (guint i = 0; i < SIM_DIGEST_N_ALGORITHMS; i++)
    {
      g_assert_true (sim_digest_algorithm_from_name (sim_digest_algorithm_name (i), &algorithm));
      g_assert_cmpint (algorithm, ==, i);
    }
  g_assert_cmpstr (sim_digest_algorithm_name (SIM_DIGEST_SHA512_256), ==, "SHA-512-256");
}

static void
test_equal_compares_whole_strings (void)
{
  g_assert_true (sim_digest_equal ("8ca523f5e9506fed", "8ca523f5e9506fed"));
  g_assert_true (sim_digest_equal ("", ""));
  g_assert_false (sim_digest_equal ("8ca523f5e9506fed", "8ca523f5e9506fee"));
  g_assert_false (sim_digest_equal ("8ca523f5e9506fed", "8ca523f5e9506fe"));
  g_assert_false (sim_digest_equal ("8ca523f5e9506fe", "8ca523f5e9506fed"));
  g_assert_false (sim_digest_equal ("abc", ""));
  g_assert_false (sim_digest_equal (NULL, "abc"));
  g_assert_false (sim_digest_equal ("abc", NULL));
}

static void
test_rfc7616_challenge_parses (void)
{
  /* The challenge of RFC 7616 §3.9.1, with its folded lines. */
  const char *value =
    "Digest\r\n"
    "       realm=\"" RFC7616_REALM "\",\r\n"
    "       qop=\"auth, auth-int\",\r\n"
    "       algorithm=SHA-256,\r\n"
    "       nonce=\"" RFC7616_NONCE "\",\r\n"
    "       opaque=\"" RFC7616_OPAQUE "\"";
  SimDigestChallenge challenge = { NULL, };
  g_autoptr(GError) error = NULL;

  g_assert_true (sim_digest_challenge_parse (value, &challenge, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (challenge.realm, ==, RFC7616_REALM);
  g_assert_cmpstr (challenge.nonce, ==, RFC7616_NONCE);
  g_assert_cmpstr (challenge.opaque, ==, RFC7616_OPAQUE);
  g_assert_cmpstr (challenge.qop, ==, "auth");
  g_assert_false (challenge.stale);
  g_assert_cmpint (challenge.algorithm, ==, SIM_DIGEST_SHA256);
  sim_digest_challenge_clear (&challenge);
  g_assert_null (challenge.realm);
}

static void
test_answer_matches_rfc7616_example (void)
{
  SimDigestChallenge challenge = {
    .realm = (char *) RFC7616_REALM,
    .nonce = (char *) RFC7616_NONCE,
    .opaque = (char *) RFC7616_OPAQUE,
    .qop = (char *) "auth, auth-int",
    .algorithm = SIM_DIGEST_SHA256,
  };
  SimDigestCredentials creds;
  SimDigestCredentials back = { NULL, };
  g_autofree char *text = NULL;
  g_autoptr(GError) error = NULL;

  sim_digest_answer (&challenge, RFC7616_USER, RFC7616_PASSWORD, "GET", RFC7616_URI,
                     RFC7616_CNONCE, 1, &creds);
  g_assert_cmpstr (creds.response, ==,
                   "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1");
  g_assert_cmpstr (creds.nc, ==, "00000001");
  g_assert_cmpstr (creds.qop, ==, "auth");
  g_assert_cmpstr (creds.cnonce, ==, RFC7616_CNONCE);
  g_assert_cmpstr (creds.opaque, ==, RFC7616_OPAQUE);
  g_assert_cmpstr (creds.algorithm_name, ==, "SHA-256");

  text = sim_digest_credentials_format (&creds);
  g_assert_cmpstr (text, ==,
                   "Digest username=\"Mufasa\", realm=\"" RFC7616_REALM "\", "
                   "nonce=\"" RFC7616_NONCE "\", uri=\"" RFC7616_URI "\", "
                   "response=\"753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1\", "
                   "algorithm=SHA-256, cnonce=\"" RFC7616_CNONCE "\", qop=auth, nc=00000001, "
                   "opaque=\"" RFC7616_OPAQUE "\"");

  g_assert_true (sim_digest_credentials_parse (text, &back, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (back.username, ==, creds.username);
  g_assert_cmpstr (back.realm, ==, creds.realm);
  g_assert_cmpstr (back.nonce, ==, creds.nonce);
  g_assert_cmpstr (back.uri, ==, creds.uri);
  g_assert_cmpstr (back.response, ==, creds.response);
  g_assert_cmpstr (back.cnonce, ==, creds.cnonce);
  g_assert_cmpstr (back.nc, ==, creds.nc);
  g_assert_cmpstr (back.qop, ==, creds.qop);
  g_assert_cmpstr (back.opaque, ==, creds.opaque);
  g_assert_cmpstr (back.algorithm_name, ==, "SHA-256");
  g_assert_cmpint (back.algorithm, ==, SIM_DIGEST_SHA256);

  sim_digest_credentials_clear (&back);
  sim_digest_credentials_clear (&creds);
  g_assert_null (creds.response);
}

static void
test_answer_without_qop_uses_rfc2069 (void)
{
  SimDigestChallenge challenge = {
    .realm = (char *) "testrealm@host.com",
    .nonce = (char *) "dcd98b7102dd2f0e8b11d0f600bfb0c093",
    .algorithm = SIM_DIGEST_MD5,
  };
  SimDigestCredentials creds;
  g_autofree char *text = NULL;

  sim_digest_answer (&challenge, "Mufasa", "Circle Of Life", "GET", "/dir/index.html",
                     "0a4f113b", 1, &creds);
  g_assert_cmpstr (creds.response, ==, "670fd8c2df070c60b045671b8b24ff02");
  g_assert_null (creds.qop);
  g_assert_null (creds.nc);
  g_assert_null (creds.cnonce);
  text = sim_digest_credentials_format (&creds);
  g_assert_null (strstr (text, "qop="));
  g_assert_null (strstr (text, "nc="));
  sim_digest_credentials_clear (&creds);
}

static void
test_answer_counts_in_hex (void)
{
  SimDigestChallenge challenge = {
    .realm = (char *) "lab.example",
    .nonce = (char *) "n",
    .qop = (char *) "auth",
    .algorithm = SIM_DIGEST_MD5,
  };
  SimDigestCredentials creds;
  g_autofree char *ha1 = sim_digest_ha1 (SIM_DIGEST_MD5, "alice", "lab.example", "wonderland");
  g_autofree char *ha2 = sim_digest_ha2 (SIM_DIGEST_MD5, "REGISTER", "sip:lab.example");
  g_autofree char *expected = sim_digest_response (SIM_DIGEST_MD5, ha1, "n", "000000ff", "c",
                                                   "auth", ha2);

  /* RFC 7616 §3.4: nc is the count in hexadecimal, 8 digits. */
  sim_digest_answer (&challenge, "alice", "wonderland", "REGISTER", "sip:lab.example", "c", 255,
                     &creds);
  g_assert_cmpstr (creds.nc, ==, "000000ff");
  g_assert_cmpstr (creds.response, ==, expected);
  sim_digest_credentials_clear (&creds);
}

static void
test_challenge_round_trips (void)
{
  SimDigestChallenge challenge = {
    .realm = (char *) "lab.example",
    .nonce = (char *) "abc-DEF_123",
    .opaque = (char *) "0123abcd",
    .qop = (char *) "auth",
    .algorithm = SIM_DIGEST_MD5,
  };
  SimDigestChallenge back = { NULL, };
  g_autofree char *text = NULL;
  g_autofree char *stale_text = NULL;
  g_autoptr(GError) error = NULL;

  text = sim_digest_challenge_format (&challenge);
  g_assert_cmpstr (text, ==,
                   "Digest realm=\"lab.example\", nonce=\"abc-DEF_123\", opaque=\"0123abcd\", "
                   "algorithm=MD5, qop=\"auth\"");
  challenge.stale = TRUE;
  challenge.algorithm = SIM_DIGEST_SHA512_256;
  stale_text = sim_digest_challenge_format (&challenge);
  g_assert_cmpstr (stale_text, ==,
                   "Digest realm=\"lab.example\", nonce=\"abc-DEF_123\", opaque=\"0123abcd\", "
                   "algorithm=SHA-512-256, qop=\"auth\", stale=true");

  g_assert_true (sim_digest_challenge_parse (stale_text, &back, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (back.realm, ==, "lab.example");
  g_assert_cmpstr (back.nonce, ==, "abc-DEF_123");
  g_assert_cmpstr (back.opaque, ==, "0123abcd");
  g_assert_cmpstr (back.qop, ==, "auth");
  g_assert_true (back.stale);
  g_assert_cmpint (back.algorithm, ==, SIM_DIGEST_SHA512_256);
  sim_digest_challenge_clear (&back);

  /* RFC 7616 §3.3: stale is case-insensitive "true"; any other value means false. */
  g_assert_true (sim_digest_challenge_parse ("Digest realm=\"r\", nonce=\"n\", stale=TRUE",
                                             &back, NULL));
  g_assert_true (back.stale);
  sim_digest_challenge_clear (&back);
  g_assert_true (sim_digest_challenge_parse ("Digest realm=\"r\", nonce=\"n\", stale=false",
                                             &back, NULL));
  g_assert_false (back.stale);
  g_assert_null (back.qop);
  g_assert_null (back.opaque);
  g_assert_cmpint (back.algorithm, ==, SIM_DIGEST_MD5);
  sim_digest_challenge_clear (&back);
}

static void
test_parser_tolerates_whitespace_and_unknown_params (void)
{
  const char *value =
    "  digest   username = \"alice\",realm=\"lab.example\" ,,nonce=\"n1\",  "
    "uri=\"sip:lab.example\",response=\"0123\",ALGORITHM=md5,cnonce=\"c\",qop=\"auth\","
    "nc=0000000A, x-vendor=42, other=\"a, b=\\\"c\\\"\"   ";
  SimDigestCredentials creds = { NULL, };
  g_autoptr(GError) error = NULL;

  g_assert_true (sim_digest_credentials_parse (value, &creds, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (creds.username, ==, "alice");
  g_assert_cmpstr (creds.realm, ==, "lab.example");
  g_assert_cmpstr (creds.nonce, ==, "n1");
  g_assert_cmpstr (creds.uri, ==, "sip:lab.example");
  g_assert_cmpstr (creds.response, ==, "0123");
  g_assert_cmpstr (creds.algorithm_name, ==, "md5");
  g_assert_cmpint (creds.algorithm, ==, SIM_DIGEST_MD5);
  g_assert_cmpstr (creds.cnonce, ==, "c");
  g_assert_cmpstr (creds.qop, ==, "auth");
  g_assert_cmpstr (creds.nc, ==, "0000000A");
  g_assert_null (creds.opaque);
  sim_digest_credentials_clear (&creds);
}

static void
test_quoted_pairs_are_unescaped_and_escaped (void)
{
  const char *value =
    "Digest username=\"al\\\"ice\\\\\", realm=\"lab, example\", nonce=\"n\", uri=\"sip:x\", "
    "response=\"r\"";
  SimDigestCredentials creds = { NULL, };
  SimDigestCredentials back = { NULL, };
  g_autofree char *text = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_true (sim_digest_credentials_parse (value, &creds, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (creds.username, ==, "al\"ice\\");
  g_assert_cmpstr (creds.realm, ==, "lab, example");
  g_assert_null (creds.algorithm_name);
  g_assert_cmpint (creds.algorithm, ==, SIM_DIGEST_MD5);

  text = sim_digest_credentials_format (&creds);
  g_assert_nonnull (strstr (text, "username=\"al\\\"ice\\\\\""));
  g_assert_true (sim_digest_credentials_parse (text, &back, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (back.username, ==, "al\"ice\\");
  g_assert_cmpstr (back.realm, ==, "lab, example");

  sim_digest_credentials_clear (&back);
  sim_digest_credentials_clear (&creds);
}

static void
test_format_drops_line_breaks (void)
{
  SimDigestChallenge challenge = {
    .realm = (char *) "lab\r\nVia: evil",
    .nonce = (char *) "n",
    .algorithm = SIM_DIGEST_MD5,
  };
  g_autofree char *text = sim_digest_challenge_format (&challenge);

  g_assert_null (strchr (text, '\r'));
  g_assert_null (strchr (text, '\n'));
  g_assert_cmpstr (text, ==, "Digest realm=\"labVia: evil\", nonce=\"n\", algorithm=MD5");
}

static void
test_other_schemes_are_unsupported (void)
{
  const char *values[] = {
    "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==",
    "Bearer abc",
    "Digestive realm=\"x\"",
    "Negotiate",
  };

  for (guint i = 0; i < G_N_ELEMENTS (values); i++)
    {
      SimDigestCredentials creds = { NULL, };
      SimDigestChallenge challenge = { NULL, };
      g_autoptr(GError) error = NULL;
      g_autoptr(GError) error2 = NULL;

      g_test_message ("%s", values[i]);
      g_assert_false (sim_digest_credentials_parse (values[i], &creds, &error));
      g_assert_error (error, SIM_DIGEST_ERROR, SIM_DIGEST_ERROR_UNSUPPORTED);
      g_assert_null (creds.username);
      g_assert_false (sim_digest_challenge_parse (values[i], &challenge, &error2));
      g_assert_error (error2, SIM_DIGEST_ERROR, SIM_DIGEST_ERROR_UNSUPPORTED);
    }
}

static void
test_unsupported_options_are_reported (void)
{
  const char *credentials[] = {
    "Digest username=\"a\", realm=\"r\", nonce=\"n\", uri=\"u\", response=\"x\", "
      "algorithm=MD5-sess",
    "Digest username=\"a\", realm=\"r\", nonce=\"n\", uri=\"u\", response=\"x\", qop=auth-int, "
      "nc=00000001, cnonce=\"c\"",
    "Digest username=\"a\", realm=\"r\", nonce=\"n\", uri=\"u\", response=\"x\", userhash=true",
  };
  const char *challenges[] = {
    "Digest realm=\"r\", nonce=\"n\", algorithm=SHA-256-sess",
    "Digest realm=\"r\", nonce=\"n\", qop=\"auth-int\"",
  };

  for (guint i = 0; i < G_N_ELEMENTS (credentials); i++)
    {
      SimDigestCredentials creds = { NULL, };
      g_autoptr(GError) error = NULL;

      g_assert_false (sim_digest_credentials_parse (credentials[i], &creds, &error));
      g_assert_error (error, SIM_DIGEST_ERROR, SIM_DIGEST_ERROR_UNSUPPORTED);
      g_assert_null (creds.username);
    }
  for (guint i = 0; i < G_N_ELEMENTS (challenges); i++)
    {
      SimDigestChallenge challenge = { NULL, };
      g_autoptr(GError) error = NULL;

      g_assert_false (sim_digest_challenge_parse (challenges[i], &challenge, &error));
      g_assert_error (error, SIM_DIGEST_ERROR, SIM_DIGEST_ERROR_UNSUPPORTED);
      g_assert_null (challenge.realm);
    }
}

static void
test_parse_full_keeps_unknown_algorithm (void)
{
  const char *value =
    "Digest username=\"a\", realm=\"r\", nonce=\"n\", uri=\"u\", response=\"x\", algorithm=SHA-1";
  SimDigestCredentials creds = { NULL, };
  gboolean known = TRUE;
  g_autoptr(GError) error = NULL;

  g_assert_true (sim_digest_credentials_parse_full (value, &creds, &known, &error));
  g_assert_no_error (error);
  g_assert_false (known);
  g_assert_cmpstr (creds.algorithm_name, ==, "SHA-1");
  g_assert_cmpstr (creds.realm, ==, "r");
  sim_digest_credentials_clear (&creds);
}

static void
test_parameter_names_fold_case (void)
{
  const char *value =
    "Digest USERNAME=\"a\", Realm=\"r\", nOnCe=\"n\", URI=\"u\", Response=\"x\", QOP=AUTH, "
    "NC=0000000a, CNONCE=\"c\", Algorithm=Sha-256, USERHASH=false, REALMS=\"ignored\"";
  const char *duplicates[] = {
    "Digest realm=\"x\", REALM=\"y\", nonce=\"n\"",
    "Digest username=\"a\", realm=\"r\", nonce=\"n\", uri=\"u\", response=\"x\", "
      "Response=\"y\"",
    "Digest username=\"a\", realm=\"r\", nonce=\"n\", uri=\"u\", response=\"x\", qop=auth, "
      "nc=00000001, cnonce=\"c\", Nc=00000002",
  };
  SimDigestCredentials creds = { NULL, };
  g_autoptr(GError) error = NULL;

  g_test_summary ("RFC 7235 §2.1: parameter names are case-insensitive, for finding a repeat too; "
                  "qop comes back in lower case whatever the spelling.");
  g_assert_true (sim_digest_credentials_parse (value, &creds, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (creds.username, ==, "a");
  g_assert_cmpstr (creds.realm, ==, "r");
  g_assert_cmpstr (creds.nonce, ==, "n");
  g_assert_cmpstr (creds.uri, ==, "u");
  g_assert_cmpstr (creds.response, ==, "x");
  g_assert_cmpstr (creds.qop, ==, "auth");
  g_assert_cmpstr (creds.nc, ==, "0000000a");
  g_assert_cmpstr (creds.cnonce, ==, "c");
  g_assert_cmpstr (creds.algorithm_name, ==, "Sha-256");
  g_assert_cmpint (creds.algorithm, ==, SIM_DIGEST_SHA256);
  sim_digest_credentials_clear (&creds);

  for (guint i = 0; i < G_N_ELEMENTS (duplicates); i++)
    {
      SimDigestCredentials dup = { NULL, };
      SimDigestChallenge challenge = { NULL, };
      g_autoptr(GError) error2 = NULL;
      g_autoptr(GError) error3 = NULL;

      g_test_message ("%s", duplicates[i]);
      g_assert_false (sim_digest_credentials_parse (duplicates[i], &dup, &error2));
      g_assert_error (error2, SIM_DIGEST_ERROR, SIM_DIGEST_ERROR_PARSE);
      g_assert_nonnull (strstr (error2->message, "appears twice"));
      g_assert_null (dup.username);
      if (i == 0)
        {
          g_assert_false (sim_digest_challenge_parse (duplicates[i], &challenge, &error3));
          g_assert_error (error3, SIM_DIGEST_ERROR, SIM_DIGEST_ERROR_PARSE);
        }
    }
}

static void
test_quoted_pairs_take_any_text_byte (void)
{
  struct {
    const char *quoted;     /* between the quotes of realm="..." */
    const char *value;      /* NULL: a parse error */
  } cases[] = {
    { "a\\\tb", "a\tb" },               /* a quoted HTAB */
    { "\\\xc3\xa9t\xc3\xa9", "\xc3\xa9t\xc3\xa9" },   /* obs-text, quoted or not */
    { "\\\\\\\"", "\\\"" },
    { "\\a\\b\\c", "abc" },
    { "", "" },
    { "a\\\x01", NULL },                 /* a quoted control is still a control */
    { "a\\\x7f", NULL },
    { "a\\\r\n", NULL },
    { "a\x7f", NULL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *value = g_strdup_printf ("Digest realm=\"%s\", nonce=\"n\"",
                                                cases[i].quoted);
      g_autofree char *unknown = g_strdup_printf ("Digest realm=\"r\", x-other=\"%s\", "
                                                  "nonce=\"n\"", cases[i].quoted);
      SimDigestChallenge challenge = { NULL, };
      g_autoptr(GError) error = NULL;

      g_test_message ("case %u", i);
      if (cases[i].value != NULL)
        {
          g_assert_true (sim_digest_challenge_parse (value, &challenge, &error));
          g_assert_no_error (error);
          g_assert_cmpstr (challenge.realm, ==, cases[i].value);
          sim_digest_challenge_clear (&challenge);
          g_assert_true (sim_digest_challenge_parse (unknown, &challenge, NULL));
          sim_digest_challenge_clear (&challenge);
        }
      else
        {
          g_assert_false (sim_digest_challenge_parse (value, &challenge, &error));
          g_assert_error (error, SIM_DIGEST_ERROR, SIM_DIGEST_ERROR_PARSE);
          g_assert_null (challenge.realm);
          /* An unknown parameter is skipped, but checked all the same. */
          g_assert_false (sim_digest_challenge_parse (unknown, &challenge, NULL));
        }
    }
}

static void
test_challenge_format_split_matches_format (void)
{
  const char *nonces[] = { "abc-DEF_123", "", "0123456789abcdef0123456789abcdef" };
  SimDigestChallenge challenge = {
    .realm = (char *) "we\"ird\\ realm\r\n",
    .qop = (char *) "auth",
  };

  g_test_summary ("The fixed parts formatted once and a token nonce put between them make the "
                  "same header as formatting the whole challenge.");
  for (guint variant = 0; variant < 4 * SIM_DIGEST_N_ALGORITHMS; variant++)
    {
      g_autofree char *before = NULL;
      g_autofree char *after = NULL;

      challenge.algorithm = variant % SIM_DIGEST_N_ALGORITHMS;
      challenge.stale = (variant / SIM_DIGEST_N_ALGORITHMS) % 2;
      challenge.opaque = variant / (2 * SIM_DIGEST_N_ALGORITHMS) ? (char *) "0pa\"que" : NULL;
      challenge.nonce = (char *) "ignored";
      sim_digest_challenge_format_split (&challenge, &before, &after);
      g_assert_true (g_str_has_suffix (before, ", nonce=\""));

      for (guint i = 0; i < G_N_ELEMENTS (nonces); i++)
        {
          g_autofree char *joined = g_strconcat (before, nonces[i], after, NULL);
          g_autofree char *text = NULL;

          challenge.nonce = (char *) nonces[i];
          text = sim_digest_challenge_format (&challenge);
          g_assert_cmpstr (joined, ==, text);
        }
    }
}

static void
test_check_response_matches_response (void)
{
  SimDigestChallenge challenge = {
    .realm = (char *) RFC7616_REALM,
    .nonce = (char *) RFC7616_NONCE,
    .opaque = (char *) RFC7616_OPAQUE,
    .qop = (char *) "auth",
  };

  g_test_summary ("The server's check agrees with the client's answer for every algorithm, "
                  "with and without qop; upper-case hex passes, anything else does not.");
  for (guint variant = 0; variant < 2 * SIM_DIGEST_N_ALGORITHMS; variant++)
    {
      SimDigestCredentials creds;
      g_autofree char *response = NULL;

      challenge.algorithm = variant % SIM_DIGEST_N_ALGORITHMS;
      challenge.qop = variant < SIM_DIGEST_N_ALGORITHMS ? (char *) "auth" : NULL;
      sim_digest_answer (&challenge, RFC7616_USER, RFC7616_PASSWORD, "GET", RFC7616_URI,
                         RFC7616_CNONCE, 1, &creds);
      if (challenge.algorithm == SIM_DIGEST_SHA256 && challenge.qop != NULL)
        g_assert_cmpstr (creds.response, ==,
                         "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1");
      response = g_strdup (creds.response);

      g_assert_true (sim_digest_check_response (&creds, RFC7616_REALM, RFC7616_PASSWORD, "GET"));
      g_assert_false (sim_digest_check_response (&creds, RFC7616_REALM, "Circle of life", "GET"));
      g_assert_false (sim_digest_check_response (&creds, RFC7616_REALM, RFC7616_PASSWORD, "PUT"));
      g_assert_false (sim_digest_check_response (&creds, "other", RFC7616_PASSWORD, "GET"));

      g_free (creds.response);
      creds.response = g_ascii_strup (response, -1);
      g_assert_true (sim_digest_check_response (&creds, RFC7616_REALM, RFC7616_PASSWORD, "GET"));
      g_free (creds.response);
      creds.response = g_strconcat (response, "0", NULL);
      g_assert_false (sim_digest_check_response (&creds, RFC7616_REALM, RFC7616_PASSWORD, "GET"));
      creds.response[strlen (response) - 1] = '\0';
      g_assert_false (sim_digest_check_response (&creds, RFC7616_REALM, RFC7616_PASSWORD, "GET"));
      creds.response[0] = '\0';
      g_assert_false (sim_digest_check_response (&creds, RFC7616_REALM, RFC7616_PASSWORD, "GET"));
      sim_digest_credentials_clear (&creds);
    }
}

static const char *junk[] = {
  "",
  "   ",
  "Digest",
  "Digest ",
  "Digest ,,, ",
  ",Digest realm=\"x\", nonce=\"y\"",
  "Digest realm",
  "Digest realm=",
  "Digest realm=\"x\", nonce",
  "Digest realm=\"x\", nonce=\"unterminated",
  "Digest realm=\"x\", nonce=\"ends in backslash\\",
  "Digest realm=\"x\" nonce=\"y\"",
  "Digest realm=\"x\", nonce=\"y\" junk",
  "Digest realm=\"x\", realm=\"z\", nonce=\"y\"",
  "Digest realm=\"x\", =\"y\"",
  "Digest realm=\"x\", nonce=\"y\", ;=1",
  "Digest realm=\"a\rb\", nonce=\"y\"",
  "Digest nonce=\"y\"",
  "Digest realm=\"x\"",
  "Digest@ realm=\"x\", nonce=\"y\"",
  "\"Digest\" realm=\"x\", nonce=\"y\"",
};

static void
test_junk_is_a_parse_error (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (junk); i++)
    {
      SimDigestChallenge challenge = { NULL, };
      SimDigestCredentials creds = { NULL, };
      g_autoptr(GError) error = NULL;
      g_autoptr(GError) error2 = NULL;

      g_test_message ("junk %u: %s", i, junk[i]);
      g_assert_false (sim_digest_challenge_parse (junk[i], &challenge, &error));
      g_assert_error (error, SIM_DIGEST_ERROR, SIM_DIGEST_ERROR_PARSE);
      g_assert_null (challenge.realm);
      g_assert_null (challenge.nonce);
      g_assert_false (sim_digest_credentials_parse (junk[i], &creds, &error2));
      g_assert_error (error2, SIM_DIGEST_ERROR, SIM_DIGEST_ERROR_PARSE);
    }
}

static void
test_credentials_need_their_parameters (void)
{
  const char *values[] = {
    /* response missing */
    "Digest username=\"a\", realm=\"r\", nonce=\"n\", uri=\"u\"",
    /* qop without nc */
    "Digest username=\"a\", realm=\"r\", nonce=\"n\", uri=\"u\", response=\"x\", qop=auth, "
      "cnonce=\"c\"",
    /* qop without cnonce */
    "Digest username=\"a\", realm=\"r\", nonce=\"n\", uri=\"u\", response=\"x\", qop=auth, "
      "nc=00000001",
    /* nc too short and not hex */
    "Digest username=\"a\", realm=\"r\", nonce=\"n\", uri=\"u\", response=\"x\", qop=auth, "
      "nc=1, cnonce=\"c\"",
    "Digest username=\"a\", realm=\"r\", nonce=\"n\", uri=\"u\", response=\"x\", qop=auth, "
      "nc=0000000g, cnonce=\"c\"",
    /* nc without qop */
    "Digest username=\"a\", realm=\"r\", nonce=\"n\", uri=\"u\", response=\"x\", nc=00000001",
  };

  for (guint i = 0; i < G_N_ELEMENTS (values); i++)
    {
      SimDigestCredentials creds = { NULL, };
      g_autoptr(GError) error = NULL;

      g_test_message ("%s", values[i]);
      g_assert_false (sim_digest_credentials_parse (values[i], &creds, &error));
      g_assert_error (error, SIM_DIGEST_ERROR, SIM_DIGEST_ERROR_PARSE);
      g_assert_null (creds.username);
    }
}

static void
test_huge_input_is_handled (void)
{
  GString *huge = g_string_new ("Digest realm=\"");
  SimDigestChallenge challenge = { NULL, };
  g_autoptr(GError) error = NULL;
  g_autofree char *unterminated = NULL;

  for (guint i = 0; i < 200000; i++)
    g_string_append (huge, "\\\"x");
  unterminated = g_strdup (huge->str);
  g_string_append (huge, "\", nonce=\"n\"");
  for (guint i = 0; i < 20000; i++)
    g_string_append_printf (huge, ", p%u=v", i);

  g_assert_true (sim_digest_challenge_parse (huge->str, &challenge, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (strlen (challenge.realm), ==, 400000);
  sim_digest_challenge_clear (&challenge);

  g_assert_false (sim_digest_challenge_parse (unterminated, &challenge, &error));
  g_assert_error (error, SIM_DIGEST_ERROR, SIM_DIGEST_ERROR_PARSE);
  g_string_free (huge, TRUE);
}

static void
test_random_input_never_crashes (void)
{
  static const char alphabet[] = "Digest =,\"\\ \t\r\nabcrealmnoce=\"\"0123-_";
  const char *seed = "Digest username=\"alice\", realm=\"lab.example\", nonce=\"abc\", "
                     "uri=\"sip:lab.example\", response=\"0123456789abcdef\", algorithm=MD5, "
                     "cnonce=\"c\", qop=auth, nc=00000001, opaque=\"o\"";
  gsize seed_len = strlen (seed);

  g_test_summary ("Mutations of a valid header and random strings: every call returns, "
                  "success or a GError, and leaves nothing behind on failure.");
  for (guint round = 0; round < 20000; round++)
    {
      g_autofree char *text = NULL;
      SimDigestCredentials creds = { NULL, };
      SimDigestChallenge challenge = { NULL, };
      g_autoptr(GError) error = NULL;
      g_autoptr(GError) error2 = NULL;
      gboolean ok;

      if (round % 2 == 0)
        {
          guint n = g_test_rand_int_range (1, 6);

          text = g_strdup (seed);
          for (guint k = 0; k < n; k++)
            {
              gsize at = g_test_rand_int_range (0, seed_len);

              if (g_test_rand_bit ())
                text[at] = alphabet[g_test_rand_int_range (0, sizeof alphabet - 1)];
              else
                text[at] = '\0';  /* truncate */
            }
        }
      else
        {
          gsize len = g_test_rand_int_range (0, 64);

          text = g_malloc (len + 1);
          for (gsize k = 0; k < len; k++)
            text[k] = g_test_rand_bit () ? alphabet[g_test_rand_int_range (0, sizeof alphabet - 1)]
                                         : (char) g_test_rand_int_range (1, 256);
          text[len] = '\0';
        }

      ok = sim_digest_credentials_parse (text, &creds, &error);
      g_assert_true (ok == (error == NULL));
      if (ok)
        {
          g_autofree char *again = sim_digest_credentials_format (&creds);
          SimDigestCredentials back = { NULL, };

          /* What we parse we can write, and what we write parses to the same values. */
          g_assert_true (sim_digest_credentials_parse (again, &back, NULL));
          g_assert_cmpstr (back.username, ==, creds.username);
          g_assert_cmpstr (back.response, ==, creds.response);
          g_assert_cmpstr (back.nc, ==, creds.nc);
          sim_digest_credentials_clear (&back);
          sim_digest_credentials_clear (&creds);
        }
      else
        g_assert_null (creds.username);

      ok = sim_digest_challenge_parse (text, &challenge, &error2);
      g_assert_true (ok == (error2 == NULL));
      sim_digest_challenge_clear (&challenge);
    }
}

/* Which qop lists get a qop=auth answer, and nc written as 8 lower-case hex digits. */
static void
test_answer_reads_qop_lists_and_writes_nc (void)
{
  static const struct {
    const char *qop;
    gboolean auth;
  } cases[] = {
    { "auth", TRUE }, { "auth, auth-int", TRUE }, { "auth-int,auth", TRUE },
    { " AUTH\t", TRUE }, { "auth-int", FALSE }, { "", FALSE }, { ",", FALSE },
    { "authx, xauth", FALSE }, { "auth-int, , Auth ", TRUE }, { "au th", FALSE },
  };
  static const struct {
    guint nc;
    const char *text;
  } counts[] = {
    { 1, "00000001" }, { 0, "00000000" }, { 0xabcdef, "00abcdef" }, { G_MAXUINT32, "ffffffff" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      SimDigestChallenge challenge = {
        .realm = (char *) "lab.example", .nonce = (char *) "n", .qop = (char *) cases[i].qop,
      };
      SimDigestCredentials creds;

      sim_digest_answer (&challenge, "alice", "secret", "REGISTER", "sip:lab.example", "c", 1,
                         &creds);
      g_assert_cmpint (creds.qop != NULL, ==, cases[i].auth);
      sim_digest_credentials_clear (&creds);
    }
  for (guint i = 0; i < G_N_ELEMENTS (counts); i++)
    {
      SimDigestChallenge challenge = {
        .realm = (char *) "lab.example", .nonce = (char *) "n", .qop = (char *) "auth",
      };
      SimDigestCredentials creds;
      g_autofree char *expected = g_strdup_printf ("%08x", counts[i].nc);

      sim_digest_answer (&challenge, "alice", "secret", "REGISTER", "sip:lab.example", "c",
                         counts[i].nc, &creds);
      g_assert_cmpstr (creds.nc, ==, counts[i].text);
      g_assert_cmpstr (creds.nc, ==, expected);
      sim_digest_credentials_clear (&creds);
    }
}

/* Credentials read from split parameters and from their text must be the same, field by
 * field, error by error. */
static void
assert_params_read_as_text (const char           *scheme,
                            const SimDigestParam *params,
                            guint                 n_params,
                            gsize                 storage_len,
                            guint                *n_plain)
{
  g_autofree char *text = sim_digest_params_to_string (scheme, params, n_params);
  SimDigestCredentials from_text = { NULL, };
  SimDigestCredentials from_params = { NULL, };
  g_autoptr(GError) text_error = NULL;
  g_autoptr(GError) params_error = NULL;
  gboolean text_known = FALSE, params_known = FALSE;
  g_autofree char *storage = g_malloc (MAX (storage_len, 1));
  gboolean text_ok;
  SimDigestParamsResult result;

  text_ok = sim_digest_credentials_parse_full (text, &from_text, &text_known, &text_error);
  result = sim_digest_credentials_parse_params (scheme, params, n_params, storage, storage_len,
                                                &from_params, &params_known, &params_error);
  if (result == SIM_DIGEST_PARAMS_NOT_PLAIN)
    {
      g_assert_no_error (params_error);
      g_assert_null (from_params.username);
    }
  else if (result == SIM_DIGEST_PARAMS_INVALID)
    {
      (*n_plain)++;
      g_assert_false (text_ok);
      /* Only a scheme other than Digest, which the text parser is never given (SimAuth calls
       * that no credentials) may differ in its error; every other error is the text's. */
      g_assert_nonnull (params_error);
      if (g_ascii_strcasecmp (scheme, "Digest") == 0)
        {
          g_assert_error (params_error, text_error->domain, text_error->code);
          g_assert_cmpstr (params_error->message, ==, text_error->message);
        }
      g_assert_null (from_params.username);
    }
  else
    {
      (*n_plain)++;
      g_assert_true (text_ok);
      g_assert_no_error (params_error);
      g_assert_cmpint (params_known, ==, text_known);
      g_assert_cmpstr (from_params.username, ==, from_text.username);
      g_assert_cmpstr (from_params.realm, ==, from_text.realm);
      g_assert_cmpstr (from_params.nonce, ==, from_text.nonce);
      g_assert_cmpstr (from_params.uri, ==, from_text.uri);
      g_assert_cmpstr (from_params.response, ==, from_text.response);
      g_assert_cmpstr (from_params.cnonce, ==, from_text.cnonce);
      g_assert_cmpstr (from_params.nc, ==, from_text.nc);
      g_assert_cmpstr (from_params.qop, ==, from_text.qop);
      g_assert_cmpstr (from_params.opaque, ==, from_text.opaque);
      g_assert_cmpstr (from_params.algorithm_name, ==, from_text.algorithm_name);
      g_assert_cmpint (from_params.algorithm, ==, from_text.algorithm);
    }
  sim_digest_credentials_clear (&from_text);
}

static void
test_params_read_as_their_text (void)
{
  /* Values a hostile peer could send, as a message parser would hand them over. */
  static const char *const values[] = {
    "\"alice\"", "alice", "\"\"", "", "\"a\\\"b\"", "\"a\\\\\"", "\"a\\\"", "\"ab", "ab\"",
    "\"a\"b\"", "\"a\", realm=\"b\"", "a,b", "a b", " a", "a ", "\"a\" ", "\"a\r\nb\"",
    "\"a\tb\"", "\"\\\x01\"", "\"\xc3\xa9\"", "x=y", "00000001", "0000000G", "000000001",
    "auth", "AUTH", "\"auth\"", "auth-int", "MD5", "\"SHA-256\"", "MD5-sess", "true",
    "\"lab.example\"", "\"sip:lab.example\"", "=", ",", "\"", "\\",
  };
  static const char *const names[] = {
    "username", "realm", "nonce", "uri", "response", "algorithm", "cnonce", "opaque", "qop",
    "nc", "userhash", "digest", "version", "USERNAME", "Nc", "x-y", "a b", "", "a=b",
  };
  static const char *const schemes[] = { "Digest", "digest", "DIGEST", "Basic", "Digest ",
                                         " Digest", "Dig", "Digest\t", "Di gest" };
  const SimDigestParam good[] = {
    { "username", "\"alice\"" }, { "realm", "\"lab.example\"" },
    { "nonce", "\"0123456789abcdef\"" }, { "uri", "\"sip:lab.example\"" },
    { "response", "\"0123456789abcdef0123456789abcdef\"" }, { "algorithm", "MD5" },
    { "cnonce", "\"0a4f113b\"" }, { "opaque", NULL }, { "qop", "auth" }, { "nc", "00000001" },
  };
  guint n_plain = 0;

  g_test_summary ("Credentials a message parser split read exactly as their text would: "
                  "the same fields or the same error, for quotes, escapes, duplicates, missing "
                  "parameters, odd schemes and lengths; what is not plain is left to the text.");

  for (guint s = 0; s < G_N_ELEMENTS (schemes); s++)
    assert_params_read_as_text (schemes[s], good, G_N_ELEMENTS (good), 1024, &n_plain);
  /* Every value in every place of a good set, and every name. */
  for (guint i = 0; i < G_N_ELEMENTS (good); i++)
    {
      SimDigestParam params[G_N_ELEMENTS (good)];

      for (guint v = 0; v <= G_N_ELEMENTS (values); v++)
        {
          memcpy (params, good, sizeof good);
          params[i].value = v < G_N_ELEMENTS (values) ? values[v] : NULL;
          assert_params_read_as_text ("Digest", params, G_N_ELEMENTS (params), 1024, &n_plain);
        }
      for (guint n = 0; n < G_N_ELEMENTS (names); n++)
        {
          memcpy (params, good, sizeof good);
          params[i].name = names[n];
          assert_params_read_as_text ("Digest", params, G_N_ELEMENTS (params), 1024, &n_plain);
        }
    }
  /* Storage too small for the values: never written past, left to the text. */
  for (gsize len = 0; len < 160; len++)
    assert_params_read_as_text ("Digest", good, G_N_ELEMENTS (good), len, &n_plain);
  assert_params_read_as_text ("Digest", NULL, 0, 16, &n_plain);

  /* Random sets of names and values. */
  for (guint round = 0; round < 20000; round++)
    {
      SimDigestParam params[8];
      guint n = g_test_rand_int_range (0, G_N_ELEMENTS (params) + 1);

      for (guint i = 0; i < n; i++)
        {
          params[i].name = names[g_test_rand_int_range (0, G_N_ELEMENTS (names))];
          params[i].value = values[g_test_rand_int_range (0, G_N_ELEMENTS (values))];
        }
      assert_params_read_as_text (schemes[g_test_rand_int_range (0, 3)], params, n, 1024,
                                  &n_plain);
    }
  /* The fast path is taken, not declined every time. */
  g_assert_cmpuint (n_plain, >, 1000);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/sim/digest/rfc7616-md5-example-matches", test_rfc7616_md5_example_matches);
  g_test_add_func ("/sim/digest/rfc7616-sha256-example-matches",
                   test_rfc7616_sha256_example_matches);
  g_test_add_func ("/sim/digest/rfc2617-example-matches", test_rfc2617_example_matches);
  g_test_add_func ("/sim/digest/rfc2069-form-without-qop", test_rfc2069_form_without_qop);
  g_test_add_func ("/sim/digest/hashes-match-known-vectors", test_hashes_match_known_vectors);
  g_test_add_func ("/sim/digest/algorithm-names-parse-case-insensitively",
                   test_algorithm_names_parse_case_insensitively);
  g_test_add_func ("/sim/digest/equal-compares-whole-strings", test_equal_compares_whole_strings);
  g_test_add_func ("/sim/digest/rfc7616-challenge-parses", test_rfc7616_challenge_parses);
  g_test_add_func ("/sim/digest/answer-matches-rfc7616-example",
                   test_answer_matches_rfc7616_example);
  g_test_add_func ("/sim/digest/answer-without-qop-uses-rfc2069",
                   test_answer_without_qop_uses_rfc2069);
  g_test_add_func ("/sim/digest/answer-counts-in-hex", test_answer_counts_in_hex);
  g_test_add_func ("/sim/digest/challenge-round-trips", test_challenge_round_trips);
  g_test_add_func ("/sim/digest/parser-tolerates-whitespace-and-unknown-params",
                   test_parser_tolerates_whitespace_and_unknown_params);
  g_test_add_func ("/sim/digest/quoted-pairs-are-unescaped-and-escaped",
                   test_quoted_pairs_are_unescaped_and_escaped);
  g_test_add_func ("/sim/digest/format-drops-line-breaks", test_format_drops_line_breaks);
  g_test_add_func ("/sim/digest/other-schemes-are-unsupported", test_other_schemes_are_unsupported);
  g_test_add_func ("/sim/digest/unsupported-options-are-reported",
                   test_unsupported_options_are_reported);
  g_test_add_func ("/sim/digest/parse-full-keeps-unknown-algorithm",
                   test_parse_full_keeps_unknown_algorithm);
  g_test_add_func ("/sim/digest/parameter-names-fold-case", test_parameter_names_fold_case);
  g_test_add_func ("/sim/digest/quoted-pairs-take-any-text-byte",
                   test_quoted_pairs_take_any_text_byte);
  g_test_add_func ("/sim/digest/challenge-format-split-matches-format",
                   test_challenge_format_split_matches_format);
  g_test_add_func ("/sim/digest/check-response-matches-response",
                   test_check_response_matches_response);
  g_test_add_func ("/sim/digest/junk-is-a-parse-error", test_junk_is_a_parse_error);
  g_test_add_func ("/sim/digest/credentials-need-their-parameters",
                   test_credentials_need_their_parameters);
  g_test_add_func ("/sim/digest/huge-input-is-handled", test_huge_input_is_handled);
  g_test_add_func ("/sim/digest/answer-reads-qop-lists-and-writes-nc",
                   test_answer_reads_qop_lists_and_writes_nc);
  g_test_add_func ("/sim/digest/random-input-never-crashes", test_random_input_never_crashes);
  g_test_add_func ("/sim/digest/params-read-as-their-text", test_params_read_as_their_text);

  return g_test_run ();
}
