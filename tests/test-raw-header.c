/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <string.h>

#include "sim-message.h"

/*
 * sim_raw_header_*: the one scan for a header in a message as text (the trace's Call-ID, a
 * lesson's "with HEADER", the views).  RFC 3261 §7.3.1 (any case, white space before the
 * colon, folded lines) and §7.3.3 (compact forms), and the body is not headers.
 */

static const char message[] =
  "REGISTER sip:lab.example SIP/2.0\r\n"
  "Via: SIP/2.0/UDP 10.0.0.11:5060;branch=z9hG4bK1\r\n"
  "v: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK2\r\n"
  "From : <sip:alice@lab.example>;tag=1\r\n"
  "to:\t<sip:alice@lab.example>\r\n"
  "i: 4711@10.0.0.11\r\n"
  "CSeq: 2 REGISTER\r\n"
  "Subject: a long\r\n"
  " Expires: folded, not a header\r\n"
  "Contact: <sip:alice@10.0.0.11:5060>;expires=600   \r\n"
  "Content-Length: 18\r\n"
  "\r\n"
  "Authorization: no\r\n";

static void
test_values (void)
{
  const struct {
    const char *name;
    const char *value;
  } cases[] = {
    { "Via", "SIP/2.0/UDP 10.0.0.11:5060;branch=z9hG4bK1" },   /* the first of two */
    { "v", "SIP/2.0/UDP 10.0.0.11:5060;branch=z9hG4bK1" },
    { "FROM", "<sip:alice@lab.example>;tag=1" },               /* any case; "From :" */
    { "To", "<sip:alice@lab.example>" },
    { "Call-ID", "4711@10.0.0.11" },                           /* written "i:" */
    { "cseq", "2 REGISTER" },
    { "m", "<sip:alice@10.0.0.11:5060>;expires=600" },         /* trailing spaces trimmed */
    { "Contact", "<sip:alice@10.0.0.11:5060>;expires=600" },
    { "Expires", NULL },                                        /* only inside a folded line */
    { "Authorization", NULL },                                  /* only in the body */
    { "REGISTER sip", NULL },                                   /* the start line is no header */
    { "Call", NULL },
  };

  g_test_summary ("The first header of a name, compact forms both ways, any case, white space "
                  "around the colon and the value; not in folded lines, the start line or the "
                  "body.");
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *value = sim_raw_header_value (message, cases[i].name);

      g_assert_cmpstr (value, ==, cases[i].value);
      g_assert_cmpint (sim_raw_header_has (message, cases[i].name), ==, cases[i].value != NULL);
    }
}

static void
test_lines (void)
{
  g_autofree char *contact = sim_raw_header_line (message, "m");
  g_autofree char *call_id = sim_raw_header_line (message, "Call-ID");
  g_autofree char *none = sim_raw_header_line (message, "Expires");

  g_test_summary ("The whole line, as the message spells it, for a view to print.");
  g_assert_cmpstr (contact, ==, "Contact: <sip:alice@10.0.0.11:5060>;expires=600");
  g_assert_cmpstr (call_id, ==, "i: 4711@10.0.0.11");
  g_assert_null (none);
}

static void
test_odd_text (void)
{
  g_autofree char *lf_only = sim_raw_header_value ("SIP/2.0 200 OK\nCSeq: 1 REGISTER\n", "CSeq");
  g_autofree char *no_end = sim_raw_header_value ("SIP/2.0 200 OK\nCSeq: 1 REGISTER", "CSeq");
  g_autofree char *empty_value = sim_raw_header_value ("X\r\nSubject:\r\n\r\n", "s");

  g_test_summary ("Bare LF line ends, no final line end, an empty value, no text at all.");
  g_assert_cmpstr (lf_only, ==, "1 REGISTER");
  g_assert_cmpstr (no_end, ==, "1 REGISTER");
  g_assert_cmpstr (empty_value, ==, "");
  g_assert_null (sim_raw_header_value (NULL, "CSeq"));
  g_assert_null (sim_raw_header_value ("", "CSeq"));
  g_assert_null (sim_raw_header_value ("just a start line", "CSeq"));
  g_assert_false (sim_raw_header_has (NULL, "Via"));
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/sim/raw-header/values-by-name-and-compact-form", test_values);
  g_test_add_func ("/sim/raw-header/lines-as-the-message-spells-them", test_lines);
  g_test_add_func ("/sim/raw-header/odd-text-is-handled", test_odd_text);
  return g_test_run ();
}
