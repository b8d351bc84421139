/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The inspector's sentences (app/app-explain.c): a response is explained as the answer to
 * the request its CSeq names, and a request by its own method.
 */
#include <glib.h>
#include <string.h>

#include "app-explain.h"

static void
test_response_is_explained_as_answer_to_its_method (void)
{
  const char *to_register = app_explain_first_line ("SIP/2.0 200 OK", "REGISTER");
  const char *to_bye = app_explain_first_line ("SIP/2.0 200 OK", "BYE");
  const char *to_invite = app_explain_first_line ("SIP/2.0 200 OK", "INVITE");
  const char *to_options = app_explain_first_line ("SIP/2.0 200 OK", "OPTIONS");
  const char *to_message = app_explain_first_line ("SIP/2.0 200 OK", "MESSAGE");

  g_assert_nonnull (strstr (to_register, "bindings"));
  g_assert_nonnull (strstr (to_bye, "call is over"));
  g_assert_null (strstr (to_bye, "binding"));
  g_assert_nonnull (strstr (to_invite, "ACK"));
  g_assert_null (strstr (to_invite, "binding"));
  g_assert_nonnull (strstr (to_options, "Allow"));
  /* A method without its own row gets the general 200, which claims nothing about bindings. */
  g_assert_nonnull (to_message);
  g_assert_null (strstr (to_message, "binding"));
  g_assert_null (strstr (app_explain_first_line ("SIP/2.0 200 OK", NULL), "binding"));
}

static void
test_requests_are_explained_by_their_own_method (void)
{
  g_assert_nonnull (strstr (app_explain_first_line ("OPTIONS sip:bob@lab SIP/2.0", NULL),
                            "supports"));
  g_assert_nonnull (strstr (app_explain_first_line ("BYE sip:bob@10.0.0.2 SIP/2.0", "BYE"),
                            "ends the call"));
  g_assert_nonnull (strstr (app_explain_first_line ("REGISTER sip:lab SIP/2.0", "REGISTER"),
                            "bind"));
  /* A method is a whole word: INFOX is not INFO. */
  g_assert_null (app_explain_first_line ("INFOX sip:bob@lab SIP/2.0", NULL));
  g_assert_null (app_explain_first_line (NULL, NULL));
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/explain/a-200-is-explained-as-the-answer-to-its-method",
                   test_response_is_explained_as_answer_to_its_method);
  g_test_add_func ("/explain/a-request-is-explained-by-its-own-method",
                   test_requests_are_explained_by_their_own_method);
  return g_test_run ();
}
