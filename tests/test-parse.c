/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The intake's scan and the parser's fast path, where round S6 made them cheaper: each case
 * here pins what they counted or built before that work.
 */
#include <string.h>

#include "sim-message-private.h"
#include "fuzz/parse-compare.h"

/*
 * The scan reads a one-value Contact line for its quotes and angle brackets only when a
 * folded line follows it (RFC 3261 §7.3.1): a comma on the folded line is inside or outside
 * them according to what the first line opened.
 */
static void
test_scan_counts_contacts_across_folded_lines (void)
{
  static const struct {
    const char *contact;
    guint n_contacts;
  } cases[] = {
    { "Contact: <sip:a@h>\r\n", 1 },
    { "Contact: <sip:a@h>, <sip:b@h>\r\n", 2 },
    { "Contact: \"Alice\r\n , Smith\" <sip:a@h>\r\n", 1 },
    { "Contact: \"Alice\" <sip:a@h\r\n ,x>\r\n", 1 },
    { "Contact: \"Alice\" <sip:a@h>\r\n , <sip:b@h>\r\n", 2 },
    { "Contact: \"Al\\\"ice\r\n ,\" <sip:a@h>\r\n", 1 },
    { "Contact: \"Al\\\r\n\",\" <sip:a@h>\r\n", 1 },
    { "m: <sip:a@h\r\n\t,>, <sip:b@h>\r\n", 2 },
    { "Contact: <sip:a@h>\r\nX: 1\r\n , <sip:b@h>\r\n", 1 },
    { "Contact: <sip:a@h\r\nContact: ,<sip:b@h>\r\n", 3 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *text = g_strconcat ("REGISTER sip:h SIP/2.0\r\n", cases[i].contact,
                                           "Content-Length: 0\r\n\r\n", NULL);
      SimMessageScan scan;

      g_assert_true (sim_message_scan (text, strlen (text), &scan, NULL));
      g_assert_true (scan.has_blank_line);
      g_assert_cmpuint (scan.n_contacts, ==, cases[i].n_contacts);
    }
}

/*
 * The edges of the fast path's one-span user@host reading and of its comma check, which now
 * runs only for the headers whose plain values may hold commas: each message must parse as
 * libosip2 alone parses it (or be refused the same way), and the plain ones by the fast path.
 */
static void
test_fast_path_edges_match_libosip2 (void)
{
  static const struct {
    const char *headers;
    ParsePaths expected;
  } cases[] = {
    { "Contact: <sip:alice@10.0.0.1:5060;transport=udp>\r\n", PARSE_PATHS_FAST },
    { "Contact: <sip:a_b.c~d@lab.example>\r\n", PARSE_PATHS_FAST },
    { "Contact: <sip:lab.example:5060;lr>\r\n", PARSE_PATHS_FAST },
    { "Contact: <sip:a_b;x=1>\r\n", PARSE_PATHS_FAST },
    { "Contact: <sip:a_b:5060>\r\n", PARSE_PATHS_FAST },
    { "Contact: <sip:@lab.example>\r\n", PARSE_PATHS_FAST },
    { "Contact: <sip:a@>\r\n", PARSE_PATHS_REJECTED },
    { "Contact: <sip:a@b@c>\r\n", PARSE_PATHS_FAST },
    { "Contact: <sip:a@b>, <sip:c@d>\r\n", PARSE_PATHS_OSIP },
    { "Contact: <sip:a@b>;x=\"1,2\"\r\n", PARSE_PATHS_OSIP },
    { "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1, SIP/2.0/UDP 10.0.0.2\r\n", PARSE_PATHS_OSIP },
    { "X-Call-ID: a,b\r\n", PARSE_PATHS_FAST },
    { "User-Agent: Desk, version 2\r\n", PARSE_PATHS_FAST },
    { "Allow: REGISTER, INVITE\r\n", PARSE_PATHS_OSIP },
    { "Authorization: Digest username=\"alice\", realm=\"lab.example\", nonce=\"abc\", "
      "uri=\"sip:lab.example\", response=\"0123456789abcdef0123456789abcdef\", nc=00000001\r\n",
      PARSE_PATHS_FAST },
  };

  g_autofree char *long_value = g_strnfill (300, 'v');
  g_autofree char *many = g_strdup_printf ("Contact: <sip:a@b;p1;p2=2;p3;p4=4;p5;p6=6;p7;p8=8;p9;p10=%s;p11>"
                                           ";x1;x2=2;x3;x4=4;x5;x6=6;x7;x8=8;x9=%s;x10;x11=y\r\n"
                                           "Via: SIP/2.0/TCP h:1;a;b=1;c;d=2;e;f=3;g;h=4;i;j=5\r\n"
                                           "Contact: <sip:c@d;n=%s;m>;x=%s;y\r\n",
                                           long_value, long_value, long_value, long_value);
  g_autofree char *text_many = g_strconcat ("REGISTER sip:lab.example SIP/2.0\r\n"
                                            "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKx;rport\r\n"
                                            "From: <sip:alice@lab.example>;tag=1\r\n"
                                            "To: <sip:alice@lab.example>\r\n"
                                            "Call-ID: c1@10.0.0.1\r\n"
                                            "CSeq: 1 REGISTER\r\n", many,
                                            "Content-Length: 0\r\n\r\n", NULL);

  /* More parameters than the fast path notes down, and values longer than it notes. */
  g_assert_cmpint (parse_compare_paths (text_many, strlen (text_many), NULL), ==, PARSE_PATHS_FAST);
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *text = g_strconcat ("REGISTER sip:lab.example SIP/2.0\r\n"
                                           "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKx;rport\r\n"
                                           "From: <sip:alice@lab.example>;tag=1\r\n"
                                           "To: <sip:alice@lab.example>\r\n"
                                           "Call-ID: c1@10.0.0.1\r\n"
                                           "CSeq: 1 REGISTER\r\n",
                                           cases[i].headers,
                                           "Content-Length: 0\r\n\r\n", NULL);

      g_test_message ("case %u: %s", i, cases[i].headers);
      g_assert_cmpint (parse_compare_paths (text, strlen (text), NULL), ==, cases[i].expected);
    }
}

/* Call-ID, CSeq and Content-Length values with commas, as whole messages. */
static void
test_fast_path_commas_match_libosip2 (void)
{
  static const char *const middles[] = {
    "Call-ID: a,b@10.0.0.1\r\nCSeq: 1 REGISTER\r\nContent-Length: 0\r\n",
    "i: a,b\r\nCSeq: 1 REGISTER\r\nContent-Length: 0\r\n",
    "Call-ID: c1\r\nCSeq: 1 REG,ISTER\r\nContent-Length: 0\r\n",
    "Call-ID: c1\r\nCSeq: 1 REGISTER\r\nContent-Length: 0,0\r\n",
    "Call-ID: c1\r\nCSeq: 1 REGISTER\r\nl: 0, 0\r\n",
    "Call-ID: c1\r\nCSeq: 1 REGISTER\r\nContent-Length: 0\r\n"
    "Authorization: Digest username=\"a,b\", realm=\"lab.example\", nonce=\"n\", "
    "uri=\"sip:lab.example\", response=\"00\", nc=00000001\r\n",
  };

  for (guint i = 0; i < G_N_ELEMENTS (middles); i++)
    {
      g_autofree char *text = g_strconcat ("REGISTER sip:lab.example SIP/2.0\r\n"
                                           "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKx\r\n"
                                           "From: <sip:alice@lab.example>;tag=1\r\n"
                                           "To: <sip:alice@lab.example>\r\n",
                                           middles[i], "\r\n", NULL);

      g_test_message ("case %u: %s", i, middles[i]);
      parse_compare_paths (text, strlen (text), NULL);
    }
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/sim/parse/scan-counts-contacts-across-folded-lines",
                   test_scan_counts_contacts_across_folded_lines);
  g_test_add_func ("/sim/parse/fast-path-edges-match-libosip2", test_fast_path_edges_match_libosip2);
  g_test_add_func ("/sim/parse/fast-path-commas-match-libosip2", test_fast_path_commas_match_libosip2);
  return g_test_run ();
}
