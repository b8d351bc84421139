/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The intake's scan and the parser's fast path, where round S6 made them cheaper: each case
 * here pins what they counted or built before that work.
 */
#include <string.h>

#include "sim-message-private.h"

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

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/sim/parse/scan-counts-contacts-across-folded-lines",
                   test_scan_counts_contacts_across_folded_lines);
  return g_test_run ();
}
