/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <string.h>

#include "sim-command.h"
#include "sim-lesson.h"
#include "sim-scenario.h"

/*
 * The command language: every verb parses and writes itself back; every limit and bad value is
 * refused with its message; a scenario's "at" line and a lesson's "do:" line give the same
 * message for the same mistake; and commands run on a world do what they say.
 */

/* The scene the commands are checked against (and the world they run on). */
static const char scene_text[] =
  "server registrar 10.0.0.1 domain lab.example\n"
  "user alice password secret123\n"
  "user bob password bob-secret\n"
  "phone alice-desk user alice ip 10.0.0.11\n"
  "phone bob-desk user bob ip 10.0.0.21\n"
  "host eve 10.0.0.66\n"
  "sniffer wire on alice-desk registrar\n";

static SimScenario *
scene_new (void)
{
  g_autoptr(GError) error = NULL;
  SimScenario *scene = sim_scenario_parse_data (scene_text, -1, "scene.scn", &error);

  g_assert_no_error (error);
  return scene;
}

static SimWorld *
world_new (void)
{
  g_autoptr(SimScenario) scene = scene_new ();
  g_autoptr(GError) error = NULL;
  SimWorld *world = sim_scenario_build (scene, 0, &error);

  g_assert_no_error (error);
  return world;
}

/* ------------------------------------------------------------------------------------------ */
/* The table and round trips                                                                  */

typedef struct {
  SimVerb verb;
  SimCommandPlace place;
  const char *text;          /* as written */
  const char *canonical;     /* as sim_command_to_string() writes it; NULL: the same */
} Sample;

static const Sample samples[] = {
  { SIM_VERB_REGISTER, SIM_COMMAND_IN_SCENARIO, "register alice-desk", NULL },
  { SIM_VERB_REGISTER, SIM_COMMAND_IN_LESSON, "register alice-desk expires 5m", "register alice-desk expires 300" },
  { SIM_VERB_UNREGISTER, SIM_COMMAND_IN_SCENARIO, "unregister alice-desk", NULL },
  { SIM_VERB_UNREGISTER, SIM_COMMAND_IN_LESSON, "unregister alice-desk all", NULL },
  { SIM_VERB_CALL, SIM_COMMAND_IN_SCENARIO, "call alice-desk bob", NULL },
  { SIM_VERB_CALL, SIM_COMMAND_IN_EDIT, "call alice-desk sip:carol@elsewhere.example", NULL },
  { SIM_VERB_HANGUP, SIM_COMMAND_IN_LESSON, "hangup alice-desk", NULL },
  { SIM_VERB_MOVE, SIM_COMMAND_IN_SCENARIO, "move alice-desk 10.0.0.12", NULL },
  { SIM_VERB_POWER_OFF, SIM_COMMAND_IN_SCENARIO, "power-off bob-desk", NULL },
  { SIM_VERB_POWER_ON, SIM_COMMAND_IN_LESSON, "power-on bob-desk", NULL },
  { SIM_VERB_PASSWORD, SIM_COMMAND_IN_SCENARIO, "password alice-desk \"a b#c\"", NULL },
  { SIM_VERB_PASSWORD, SIM_COMMAND_IN_LESSON, "password user bob new-secret", NULL },
  { SIM_VERB_REPLAY, SIM_COMMAND_IN_SCENARIO, "replay alice-desk", NULL },
  { SIM_VERB_REPLAY, SIM_COMMAND_IN_LESSON, "replay alice-desk bump-cseq from eve new-call-id",
    "replay alice-desk from eve new-call-id bump-cseq" },
  { SIM_VERB_LEARN, SIM_COMMAND_IN_SCENARIO, "learn alice-desk bob 10.0.0.21", NULL },
  { SIM_VERB_FILL_ADDRESS_BOOKS, SIM_COMMAND_IN_LESSON, "fill-address-books", NULL },
  { SIM_VERB_LINK, SIM_COMMAND_IN_SCENARIO, "link default latency 50ms", NULL },
  { SIM_VERB_LINK, SIM_COMMAND_IN_LESSON, "link eve registrar loss 2.5% jitter 1.5s latency 0",
    "link eve registrar latency 0s jitter 1.5s loss 2.5%" },
  { SIM_VERB_NOTE, SIM_COMMAND_IN_SCENARIO, "note bob's  turn # not the note", "note \"bob's turn\"" },
  { SIM_VERB_NOTE, SIM_COMMAND_IN_LESSON, "note \"two  spaces\"", NULL },
  { SIM_VERB_POLICY, SIM_COMMAND_IN_SCENARIO, "policy auth off max-contacts 3 min-expires 10m",
    "policy min-expires 600 max-contacts 3 auth off" },
  { SIM_VERB_POLICY, SIM_COMMAND_IN_LESSON,
    "policy default-expires 600 max-expires 900 too-brief raise when-full replace-oldest "
    "proxy-auth on algorithms SHA-256,MD5 nonce-lifetime 60 one-time off", NULL },
  { SIM_VERB_WAIT, SIM_COMMAND_IN_LESSON, "wait 1.5s", NULL },
  { SIM_VERB_ADD_PHONE, SIM_COMMAND_IN_EDIT, "add-phone alice-soft alice 10.0.0.12", NULL },
  { SIM_VERB_ADD_PHONE, SIM_COMMAND_IN_EDIT, "add-phone carol-desk carol 10.0.0.31 password \"c 1\"",
    NULL },
  { SIM_VERB_REMOVE_PHONE, SIM_COMMAND_IN_EDIT, "remove-phone bob-desk", NULL },
  { SIM_VERB_MODE, SIM_COMMAND_IN_EDIT, "mode p2p", NULL },
  { SIM_VERB_MODE, SIM_COMMAND_IN_EDIT, "mode registrar", NULL },
  { SIM_VERB_REBOOT, SIM_COMMAND_IN_SCENARIO, "reboot alice-desk", NULL },
  { SIM_VERB_CRACK, SIM_COMMAND_IN_SCENARIO, "crack wire", NULL },
  { SIM_VERB_CRACK, SIM_COMMAND_IN_LESSON, "crack wire user alice", NULL },
  { SIM_VERB_LINK, SIM_COMMAND_IN_SCENARIO, "link alice-desk registrar tls on latency 5ms",
    "link alice-desk registrar latency 5ms tls" },
  { SIM_VERB_LINK, SIM_COMMAND_IN_LESSON, "link default tls off", NULL },
};

static void
test_table (void)
{
  g_autofree char *in_scenario = sim_verb_list (SIM_COMMAND_IN_SCENARIO);

  g_test_summary ("Every verb has its row, found by its word, with a usage that starts with it "
                  "and at least one place where it may be used.");
  for (guint v = 0; v < SIM_N_VERBS; v++)
    {
      const SimVerbInfo *info = sim_verb_get_info (v);

      g_assert_nonnull (info);
      g_assert_cmpint (info->verb, ==, v);
      g_assert_true (sim_verb_lookup (info->word) == info);
      g_assert_true (g_str_has_prefix (info->usage, info->word));
      g_assert_cmpuint (strlen (info->summary), >, 0);
      g_assert_cmpuint (info->places, !=, 0);
    }
  g_assert_null (sim_verb_lookup ("frobnicate"));
  g_assert_null (strstr (in_scenario, "wait"));
  g_assert_null (strstr (in_scenario, "add-phone"));
  g_assert_nonnull (strstr (in_scenario, "policy"));
}

static void
assert_same_command (const SimCommand *a,
                     const SimCommand *b)
{
  g_autofree char *text_a = sim_command_to_string (a);
  g_autofree char *text_b = sim_command_to_string (b);

  g_assert_cmpstr (text_a, ==, text_b);
  g_assert_cmpint (a->verb, ==, b->verb);
  g_assert_cmpstr (a->device, ==, b->device);
  g_assert_cmpstr (a->user, ==, b->user);
  g_assert_cmpstr (a->target, ==, b->target);
  g_assert_cmpstr (a->value, ==, b->value);
  g_assert_cmpstr (a->password, ==, b->password);
  g_assert_cmpint (a->expires, ==, b->expires);
  g_assert_cmpint (a->all, ==, b->all);
  g_assert_cmpint (a->duration, ==, b->duration);
  g_assert_cmpint (a->mode, ==, b->mode);
  g_assert_cmpstr (a->link.a, ==, b->link.a);
  g_assert_cmpint (a->link.fields, ==, b->link.fields);
  g_assert_cmpfloat (a->link.params.loss, ==, b->link.params.loss);
  g_assert_true (memcmp (&a->policy, &b->policy, sizeof a->policy) == 0);
}

static void
test_every_verb_round_trips (void)
{
  g_autoptr(SimScenario) scene = scene_new ();
  SimCommandScope scope = { scene, NULL };
  gboolean seen[SIM_N_VERBS] = { FALSE };

  g_test_summary ("Every verb parses and writes itself back: parsing what "
                  "sim_command_to_string() wrote gives the same command, and a copy too.");
  for (guint i = 0; i < G_N_ELEMENTS (samples); i++)
    {
      const Sample *s = &samples[i];
      g_autoptr(GError) error = NULL;
      g_autoptr(SimCommand) c = NULL;
      g_autoptr(SimCommand) again = NULL;
      g_autoptr(SimCommand) copy = NULL;
      g_autofree char *text = NULL;

      g_test_message ("%s", s->text);
      c = sim_command_parse (s->text, s->place, &scope, &error);
      g_assert_no_error (error);
      g_assert_cmpint (c->verb, ==, s->verb);
      text = sim_command_to_string (c);
      g_assert_cmpstr (text, ==, s->canonical ? s->canonical : s->text);
      again = sim_command_parse (text, s->place, &scope, &error);
      g_assert_no_error (error);
      assert_same_command (c, again);
      copy = sim_command_copy (c);
      assert_same_command (c, copy);
      seen[s->verb] = TRUE;
    }
  for (guint v = 0; v < SIM_N_VERBS; v++)
    if (!seen[v])
      g_error ("verb '%s' has no sample in test-command.c", sim_verb_get_info (v)->word);
}

/* ------------------------------------------------------------------------------------------ */
/* Refusals                                                                                   */

typedef struct {
  const char *text;
  SimCommandPlace place;
  SimCommandError code;
  const char *message;
} BadCase;

#define SCN SIM_COMMAND_IN_SCENARIO
#define LSN SIM_COMMAND_IN_LESSON
#define EDT SIM_COMMAND_IN_EDIT

static const BadCase bad_cases[] = {
  { "crack nosuch", SCN, SIM_COMMAND_ERROR_INVALID,
    "unknown sniffer 'nosuch' (declare it with a 'sniffer' line before this one)" },
  { "link alice-desk registrar tls maybe", SCN, SIM_COMMAND_ERROR_SYNTAX,
    "unknown link parameter 'maybe' (expected latency, jitter, loss or tls)" },
  { "", LSN, SIM_COMMAND_ERROR_SYNTAX, "missing the command (like 'register alice-desk')" },
  { "frobnicate alice-desk", SCN, SIM_COMMAND_ERROR_SYNTAX,
    "unknown command 'frobnicate' (expected register, unregister, call, hangup, move, power-off, "
    "power-on, password, replay, learn, fill-address-books, link, note, policy, reboot or crack)" },
  { "frobnicate", LSN, SIM_COMMAND_ERROR_SYNTAX,
    "unknown command 'frobnicate' (expected register, unregister, call, hangup, move, power-off, "
    "power-on, password, replay, learn, fill-address-books, link, note, policy, wait, reboot or crack)" },
  { "wait 5s", SCN, SIM_COMMAND_ERROR_NOT_HERE, "'wait' cannot be used in a scenario (only in a lesson)" },
  { "add-phone carol-desk carol 10.0.0.31 password x", LSN, SIM_COMMAND_ERROR_NOT_HERE,
    "'add-phone' cannot be used in a lesson (only as an edit in the GUI)" },
  { "mode p2p", SCN, SIM_COMMAND_ERROR_NOT_HERE,
    "'mode' cannot be used in a scenario (only as an edit in the GUI)" },
  { "wait 5s", EDT, SIM_COMMAND_ERROR_NOT_HERE,
    "'wait' cannot be used as an edit in the GUI (only in a lesson)" },
  { "register", SCN, SIM_COMMAND_ERROR_SYNTAX, "missing phone name" },
  { "register bob-phone", LSN, SIM_COMMAND_ERROR_INVALID,
    "unknown phone 'bob-phone' (declare it with a 'phone' line before this one)" },
  { "register eve", SCN, SIM_COMMAND_ERROR_INVALID, "'eve' is a host, not a phone" },
  { "reboot eve", LSN, SIM_COMMAND_ERROR_INVALID, "'eve' is a host, not a phone" },
  { "hangup registrar", SCN, SIM_COMMAND_ERROR_INVALID, "'registrar' is a server, not a phone" },
  { "register alice-desk expires soon", SCN, SIM_COMMAND_ERROR_SYNTAX,
    "expires is a number of seconds, like 3600, not 'soon'" },
  { "register alice-desk expires 4294967296", LSN, SIM_COMMAND_ERROR_INVALID,
    "expires must be at most 4294967295 seconds, not '4294967296'" },
  { "register alice-desk expires 2401h", LSN, SIM_COMMAND_ERROR_SYNTAX,
    "'2401h' is too long (at most 100 days)" },
  { "register alice-desk expires 1.5s", LSN, SIM_COMMAND_ERROR_INVALID,
    "expires is counted in whole seconds, not '1.5s'" },
  { "hangup alice-desk now", LSN, SIM_COMMAND_ERROR_SYNTAX, "unexpected 'now' at the end of the line" },
  { "call alice-desk zed", SCN, SIM_COMMAND_ERROR_INVALID,
    "unknown user 'zed' to call (a declared user name or a sip: URI)" },
  { "move alice-desk 10.0.0.300", SCN, SIM_COMMAND_ERROR_SYNTAX,
    "'10.0.0.300' is not an IPv4 address (like 10.0.0.11)" },
  { "move alice-desk 2001:db8::1", LSN, SIM_COMMAND_ERROR_INVALID,
    "'2001:db8::1': the simulated network has IPv4 addresses only" },
  { "password user zed x", LSN, SIM_COMMAND_ERROR_INVALID,
    "unknown user 'zed' (declare it with a 'user' line before this one)" },
  { "replay alice-desk from mars", SCN, SIM_COMMAND_ERROR_INVALID,
    "unknown host 'mars' (declare it before this line)" },
  { "replay alice-desk twice", SCN, SIM_COMMAND_ERROR_SYNTAX,
    "unexpected 'twice' (replay takes 'from HOST', 'new-call-id', 'bump-cseq', 'contact URI' and "
    "'expires N')" },
  { "link alice-desk registrar loss 101%", LSN, SIM_COMMAND_ERROR_SYNTAX,
    "loss must be from 0% to 100%, not '101%'" },
  { "link alice-desk registrar loss 30", LSN, SIM_COMMAND_ERROR_SYNTAX,
    "write loss as a percentage, like 30%, not '30'" },
  { "link alice-desk mars loss 1%", LSN, SIM_COMMAND_ERROR_INVALID,
    "unknown node 'mars' (declare it before this line)" },
  { "link alice-desk alice-desk loss 1%", SCN, SIM_COMMAND_ERROR_INVALID,
    "a link joins two different nodes, not 'alice-desk' to itself" },
  { "link default loss 1% loss 2%", SCN, SIM_COMMAND_ERROR_INVALID, "'loss' is given twice" },
  { "link default", SCN, SIM_COMMAND_ERROR_SYNTAX, "missing link parameters (latency, jitter, loss or tls)" },
  { "note", LSN, SIM_COMMAND_ERROR_SYNTAX, "missing the text of the note" },
  { "policy", LSN, SIM_COMMAND_ERROR_SYNTAX, "missing policy settings (like min-expires 60)" },
  { "policy max-contacts 0", LSN, SIM_COMMAND_ERROR_INVALID, "max-contacts must be at least 1" },
  { "policy max-contacts 1001", SCN, SIM_COMMAND_ERROR_SYNTAX,
    "max-contacts must be a whole number from 0 to 1000, not '1001'" },
  { "policy min-expires 600 max-expires 300", LSN, SIM_COMMAND_ERROR_INVALID,
    "min-expires 600 is above max-expires 300" },
  { "policy default-expires 60 min-expires 120", LSN, SIM_COMMAND_ERROR_INVALID,
    "default-expires 60 is below min-expires 120" },
  { "policy nonce-lifetime 0", LSN, SIM_COMMAND_ERROR_INVALID, "nonce-lifetime must be at least 1 second" },
  { "policy algorithms MD5,MD5", SCN, SIM_COMMAND_ERROR_INVALID, "algorithm 'MD5' is listed twice" },
  { "policy algorithms SHA-1", LSN, SIM_COMMAND_ERROR_INVALID,
    "unknown digest algorithm 'SHA-1' (expected MD5, SHA-256 or SHA-512-256, separated by commas)" },
  { "policy auth maybe", LSN, SIM_COMMAND_ERROR_SYNTAX, "auth is 'on' or 'off', not 'maybe'" },
  { "policy too-brief 400", SCN, SIM_COMMAND_ERROR_SYNTAX, "too-brief is '423' or 'raise', not '400'" },
  { "wait soon", LSN, SIM_COMMAND_ERROR_SYNTAX,
    "'soon' is not a duration (write it like 1.5s, 500ms, 2m or 1h)" },
  { "add-phone carol-desk carol 10.0.0.31", EDT, SIM_COMMAND_ERROR_INVALID,
    "'carol' is a new user: give a password" },
  { "add-phone alice-desk alice 10.0.0.31", EDT, SIM_COMMAND_ERROR_INVALID,
    "'alice-desk' is already declared on line 4" },
  { "add-phone alice-soft alice 10.0.0.11", EDT, SIM_COMMAND_ERROR_INVALID,
    "address 10.0.0.11 is already used by 'alice-desk' (line 4)" },
  { "add-phone a23456789012345678901234567890123 alice 10.0.0.50", EDT, SIM_COMMAND_ERROR_SYNTAX,
    "'a23456789012345678901234567890123' is not a valid phone name: use letters, digits, '-', '_' "
    "and '.', starting with a letter, at most 32 characters" },
  { "add-phone alice-soft al<ice 10.0.0.50", EDT, SIM_COMMAND_ERROR_SYNTAX,
    "'al<ice' is not a valid SIP user name" },
  { "mode star", EDT, SIM_COMMAND_ERROR_SYNTAX, "mode is 'registrar' or 'p2p', not 'star'" },
  { "note \"open", LSN, SIM_COMMAND_ERROR_SYNTAX, "a quoted text is not closed (missing \")" },
};

static void
test_bad_values_are_refused (void)
{
  g_autoptr(SimScenario) scene = scene_new ();
  SimCommandScope scope = { scene, NULL };

  g_test_summary ("Every limit and every bad value is refused with its own message and code, "
                  "without a position (the caller adds FILE:LINE).");
  for (guint i = 0; i < G_N_ELEMENTS (bad_cases); i++)
    {
      const BadCase *b = &bad_cases[i];
      g_autoptr(GError) error = NULL;
      g_autoptr(SimCommand) c = NULL;

      g_test_message ("%s", b->text);
      c = sim_command_parse (b->text, b->place, &scope, &error);
      g_assert_null (c);
      g_assert_error (error, SIM_COMMAND_ERROR, (gint) b->code);
      g_assert_cmpstr (error->message, ==, b->message);
    }
}

static void
test_limits_are_inclusive (void)
{
  static const char *good[] = {
    "policy max-contacts 1",
    "policy max-contacts 1000",
    "policy nonce-lifetime 1",
    "register alice-desk expires 4294967295",
    "register alice-desk expires 0",
    "wait 2400h",
    "link default loss 0% latency 0",
    "link default loss 100%",
    "add-phone a2345678901234567890123456789012 alice 10.0.0.50",
  };
  g_autoptr(SimScenario) scene = scene_new ();
  SimCommandScope scope = { scene, NULL };

  g_test_summary ("The limits themselves are allowed: max-contacts 1 and 1000, Expires 2**32-1, "
                  "a 100-day wait, 0% and 100% loss, a 32-character name.");
  for (guint i = 0; i < G_N_ELEMENTS (good); i++)
    {
      g_autoptr(GError) error = NULL;
      SimCommandPlace place = g_str_has_prefix (good[i], "add-phone") ? EDT : LSN;
      g_autoptr(SimCommand) c = sim_command_parse (good[i], place, &scope, &error);

      g_test_message ("%s", good[i]);
      g_assert_no_error (error);
      g_assert_nonnull (c);
    }
}

static void
test_without_scope_only_syntax_is_checked (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SimCommand) c = sim_command_parse ("register nobody", SIM_COMMAND_IN_LESSON, NULL,
                                               &error);
  SimCommandScope empty = { NULL, NULL };
  g_autoptr(SimCommand) d = sim_command_parse ("link a b loss 1%", SIM_COMMAND_IN_SCENARIO, &empty,
                                               &error);

  g_assert_no_error (error);
  g_assert_cmpstr (c->device, ==, "nobody");
  g_assert_cmpstr (d->link.b, ==, "b");
}

/* ------------------------------------------------------------------------------------------ */
/* The same message in a scenario and a lesson                                                */

static const char *const same_cases[] = {
  "register bob-phone",
  "register eve",
  "register alice-desk expires soon",
  "register alice-desk expires 4294967296",
  "policy max-contacts 0",
  "policy min-expires 600 max-expires 300",
  "policy nonce-lifetime 0",
  "link alice-desk registrar loss 101%",
  "link alice-desk mars latency 5ms",
  "move alice-desk 10.0.0.300",
  "call alice-desk zed",
  "password user zed x",
  "replay alice-desk from mars",
  "hangup alice-desk now",
  "note",
};

/* The message without its "FILE:LINE: " prefix, checking the line. */
static const char *
after_prefix (const char *message,
              const char *prefix)
{
  g_assert_true (g_str_has_prefix (message, prefix));
  return message + strlen (prefix);
}

static void
test_scenario_and_lesson_say_the_same (void)
{
  g_test_summary ("The same bad command gives the same message from a scenario's 'at' line and "
                  "a lesson's 'do:' line; only the FILE:LINE prefix differs.");
  for (guint i = 0; i < G_N_ELEMENTS (same_cases); i++)
    {
      g_autofree char *scn = g_strdup_printf ("%sat 1s %s\n", scene_text, same_cases[i]);
      g_autofree char *lsn = g_strdup_printf ("# T\n\n```scene\n%s```\n\n## Step: s\ndo: %s\n",
                                              scene_text, same_cases[i]);
      g_autoptr(GError) scn_error = NULL;
      g_autoptr(GError) lsn_error = NULL;
      g_autoptr(SimScenario) sc = sim_scenario_parse_data (scn, -1, "s.scn", &scn_error);
      g_autoptr(SimLesson) lesson = sim_lesson_parse_data (lsn, -1, "t.lesson", NULL, &lsn_error);

      g_test_message ("%s", same_cases[i]);
      g_assert_null (sc);
      g_assert_null (lesson);
      g_assert_nonnull (scn_error);
      g_assert_nonnull (lsn_error);
      g_test_message ("%s | %s", scn_error->message, lsn_error->message);
      g_assert_cmpstr (after_prefix (scn_error->message, "s.scn:8: "), ==,
                       after_prefix (lsn_error->message, "t.lesson:14: "));
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Running                                                                                    */

/* What a student types, or for the GUI's own verbs an edit: checked against the world, then run. */
static gboolean
run (SimWorld    *world,
     const char  *text,
     GError     **error)
{
  SimCommandScope scope = { NULL, world };
  g_autofree char *word = g_strndup (text, strcspn (text, " "));
  const SimVerbInfo *info = sim_verb_lookup (word);
  SimCommandPlace place = info != NULL && (info->places & SIM_COMMAND_IN_LESSON)
                          ? SIM_COMMAND_IN_LESSON : SIM_COMMAND_IN_EDIT;
  g_autoptr(SimCommand) c = sim_command_parse (text, place, &scope, error);

  return c != NULL && sim_command_run (c, world, error);
}

static void
run_ok (SimWorld   *world,
        const char *text)
{
  g_autoptr(GError) error = NULL;

  g_test_message ("%s", text);
  g_assert_true (run (world, text, &error));
  g_assert_no_error (error);
}

static SimEvent *
last_note (SimWorld *world)
{
  SimTrace *trace = sim_world_get_trace (world);

  for (guint i = sim_trace_get_n_events (trace); i > 0; i--)
    {
      SimEvent *e = sim_trace_get_event (trace, i - 1);
      if (e->type == SIM_EVENT_NOTE)
        return e;
    }
  return NULL;
}

static void
test_policy_and_link_run (void)
{
  g_autoptr(SimWorld) world = world_new ();
  const SimRegistrarPolicy *policy = sim_registrar_get_policy (sim_world_get_registrar (world));
  SimLinkParams link;
  gboolean sha256 = FALSE;
  SimTrace *trace = sim_world_get_trace (world);

  run_ok (world, "policy max-contacts 3 min-expires 2m too-brief raise");
  g_assert_cmpuint (policy->max_contacts, ==, 3);
  g_assert_cmpuint (policy->min_expires, ==, 120);
  g_assert_true (policy->raise_to_min);
  g_assert_cmpuint (policy->max_expires, ==, 7200);     /* not given: kept */
  g_assert_cmpstr (last_note (world)->text, ==,
                   "registrar policy changed: min-expires 120 too-brief raise max-contacts 3");

  run_ok (world, "link default latency 50ms");
  run_ok (world, "link alice-desk registrar loss 30% jitter 2ms");
  sim_net_get_link (sim_world_get_net (world), "alice-desk", "registrar", &link);
  g_assert_cmpint (link.latency, ==, SIM_MSEC (50));
  g_assert_cmpint (link.jitter, ==, SIM_MSEC (2));
  g_assert_cmpfloat_with_epsilon (link.loss, 0.30, 1e-12);
  run_ok (world, "link eve registrar latency 1ms");     /* a host counts */
  run_ok (world, "link alice-desk registrar loss 0%");

  /* Keys lessons lacked before: algorithms and nonce-lifetime. */
  run_ok (world, "policy algorithms SHA-256 nonce-lifetime 60");
  run_ok (world, "register alice-desk");
  sim_world_run_until (world, sim_world_now (world) + SIM_SEC (5));
  for (guint i = 0; i < sim_trace_get_n_events (trace); i++)
    {
      SimEvent *e = sim_trace_get_event (trace, i);
      if (e->type == SIM_EVENT_PACKET && e->status == 401 && strstr (e->raw, "algorithm=SHA-256"))
        sha256 = TRUE;
    }
  g_assert_true (sha256);
  g_assert_cmpint (sim_phone_get_reg_state (sim_world_get_phone (world, "alice-desk")), ==,
                   SIM_REG_REGISTERED);
}

static void
test_phone_verbs_run (void)
{
  g_autoptr(SimWorld) world = world_new ();
  SimPhone *alice = sim_world_get_phone (world, "alice-desk");
  SimTime before;

  run_ok (world, "register alice-desk expires 600");
  run_ok (world, "register bob-desk");
  run_ok (world, "wait 5s");
  g_assert_cmpint (sim_phone_get_reg_state (alice), ==, SIM_REG_REGISTERED);
  run_ok (world, "call alice-desk bob");
  run_ok (world, "wait 1s");
  g_assert_cmpint (sim_phone_get_call_state (alice), !=, SIM_CALL_IDLE);
  run_ok (world, "hangup alice-desk");
  run_ok (world, "replay alice-desk from eve new-call-id");
  run_ok (world, "move alice-desk 10.0.0.12");
  g_assert_cmpstr (sim_net_host_ip (sim_world_get_net (world), "alice-desk"), ==, "10.0.0.12");
  run_ok (world, "password alice-desk wrong");
  run_ok (world, "password user bob changed");
  g_assert_cmpstr (sim_registrar_get_password (sim_world_get_registrar (world), "bob"), ==, "changed");
  run_ok (world, "power-off alice-desk");
  g_assert_false (sim_phone_is_powered (alice));
  run_ok (world, "power-on alice-desk");
  g_assert_true (sim_phone_is_powered (alice));
  run_ok (world, "unregister bob-desk all");
  run_ok (world, "note \"half # way\"");
  g_assert_cmpstr (last_note (world)->text, ==, "half # way");
  before = sim_world_now (world);
  run_ok (world, "wait 1m");
  g_assert_cmpint (sim_world_now (world), ==, before + SIM_SEC (60));
  run_ok (world, "learn alice-desk bob 10.0.0.21");
  g_assert_cmpstr (g_hash_table_lookup (sim_phone_get_address_book (alice), "bob"), ==,
                   "10.0.0.21:5060");
  run_ok (world, "fill-address-books");
}

/* The Call-IDs of the REGISTERs @device sent, in order. */
static GPtrArray *
register_call_ids (SimWorld   *world,
                   const char *device)
{
  SimTrace *trace = sim_world_get_trace (world);
  GPtrArray *ids = g_ptr_array_new ();

  for (guint i = 0; i < sim_trace_get_n_events (trace); i++)
    {
      SimEvent *e = sim_trace_get_event (trace, i);
      if (e->type == SIM_EVENT_PACKET && e->status == 0 && g_strcmp0 (e->method, "REGISTER") == 0 &&
          g_strcmp0 (e->from, device) == 0 && g_strcmp0 (e->action, "sent") == 0)
        g_ptr_array_add (ids, e->call_id);
    }
  return ids;
}

static void
test_reboot_runs (void)
{
  g_autoptr(SimWorld) world = world_new ();
  SimPhone *alice = sim_world_get_phone (world, "alice-desk");
  g_autoptr(GPtrArray) before = NULL;
  g_autoptr(GPtrArray) after = NULL;
  g_autoptr(GError) error = NULL;

  g_test_summary ("reboot: the phone loses its registration state and boots as a powered-on "
                  "phone does: it registers again at once, with a new Call-ID (RFC 3261 §10.2.4).");
  run_ok (world, "register alice-desk");
  run_ok (world, "wait 5s");
  g_assert_cmpint (sim_phone_get_reg_state (alice), ==, SIM_REG_REGISTERED);
  before = register_call_ids (world, "alice-desk");
  g_assert_cmpuint (before->len, >=, 1);
  run_ok (world, "reboot alice-desk");
  g_assert_true (sim_phone_is_powered (alice));
  g_assert_cmpint (sim_phone_get_reg_state (alice), !=, SIM_REG_REGISTERED);
  run_ok (world, "wait 5s");
  g_assert_cmpint (sim_phone_get_reg_state (alice), ==, SIM_REG_REGISTERED);
  after = register_call_ids (world, "alice-desk");
  g_assert_cmpuint (after->len, >, before->len);
  g_assert_cmpstr (after->pdata[after->len - 1], !=, before->pdata[before->len - 1]);

  /* A phone that is off has nothing to reboot. */
  run_ok (world, "power-off bob-desk");
  g_assert_false (run (world, "reboot bob-desk", &error));
  g_assert_error (error, SIM_COMMAND_ERROR, SIM_COMMAND_ERROR_RUN);
  g_assert_false (sim_phone_is_powered (sim_world_get_phone (world, "bob-desk")));
}

static void
test_edits_run (void)
{
  g_autoptr(SimWorld) world = world_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) users = NULL;

  g_test_summary ("The GUI's edits as commands: add-phone with a new user registers at once in "
                  "registrar mode; remove-phone takes it away; mode p2p fills the address books.");
  run_ok (world, "add-phone carol-desk carol 10.0.0.31 password c-secret");
  users = sim_world_list_users (world);
  g_assert_true (g_ptr_array_find_with_equal_func (users, "carol", g_str_equal, NULL));
  sim_world_run_until (world, sim_world_now (world) + SIM_SEC (5));
  g_assert_cmpint (sim_phone_get_reg_state (sim_world_get_phone (world, "carol-desk")), ==,
                   SIM_REG_REGISTERED);
  run_ok (world, "add-phone carol-soft carol 10.0.0.32");    /* an existing user: no password */
  run_ok (world, "remove-phone carol-desk");
  g_assert_null (sim_world_get_phone (world, "carol-desk"));
  run_ok (world, "mode p2p");
  g_assert_cmpint (sim_world_get_mode (world), ==, SIM_MODE_P2P);
  g_assert_nonnull (g_hash_table_lookup (sim_phone_get_address_book (sim_world_get_phone (world, "alice-desk")),
                                         "bob"));
  run_ok (world, "mode registrar");
  g_assert_cmpint (sim_world_get_mode (world), ==, SIM_MODE_REGISTRAR);

  /* Checked against the world: a name it has, an address in use. */
  g_assert_false (run (world, "add-phone alice-desk alice 10.0.0.40", &error));
  g_assert_error (error, SIM_COMMAND_ERROR, SIM_COMMAND_ERROR_INVALID);
  g_assert_cmpstr (error->message, ==, "there is already a node named 'alice-desk'");
  g_clear_error (&error);
  g_assert_false (run (world, "add-phone dave-desk dave 10.0.0.11 password x", &error));
  g_assert_cmpstr (error->message, ==, "address 10.0.0.11 is already used by 'alice-desk'");
  g_clear_error (&error);
  g_assert_false (run (world, "add-phone dave-desk dave 10.0.0.41", &error));
  g_assert_cmpstr (error->message, ==, "'dave' is a new user: give a password");
}

static void
test_world_refusals (void)
{
  g_autoptr(SimWorld) world = world_new ();
  g_autoptr(SimWorld) bare = sim_world_new (1);
  g_autoptr(SimCommand) policy = sim_command_parse ("policy auth off", SIM_COMMAND_IN_LESSON, NULL, NULL);
  g_autoptr(SimCommand) mode = sim_command_parse ("mode registrar", SIM_COMMAND_IN_EDIT, NULL, NULL);
  g_autoptr(SimCommand) learn = sim_command_parse ("learn nobody bob 10.0.0.1", SIM_COMMAND_IN_LESSON,
                                                   NULL, NULL);
  g_autoptr(GError) error = NULL;

  g_test_summary ("What only the world can tell is refused when the command runs: no call to "
                  "hang up, no registrar for a policy or for registrar mode, a phone it lacks; "
                  "a student's typo names the phones there are.");
  g_assert_false (run (world, "hangup alice-desk", &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
  g_assert_false (sim_command_run (policy, bare, &error));
  g_assert_error (error, SIM_COMMAND_ERROR, SIM_COMMAND_ERROR_RUN);
  g_clear_error (&error);
  g_assert_false (sim_command_run (mode, bare, &error));
  g_assert_error (error, SIM_WORLD_ERROR, SIM_WORLD_ERROR_STATE);
  g_clear_error (&error);
  g_assert_false (sim_command_run (learn, world, &error));
  g_assert_error (error, SIM_WORLD_ERROR, SIM_WORLD_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_false (run (world, "register alice-dsk", &error));
  g_assert_cmpstr (error->message, ==,
                   "unknown phone 'alice-dsk' (the phones are alice-desk and bob-desk)");
  g_clear_error (&error);
  g_assert_false (run (world, "link alice-desk mars loss 1%", &error));
  g_assert_cmpstr (error->message, ==, "unknown node 'mars'");
  g_clear_error (&error);
  g_assert_false (run (world, "policy min-expires 9000", &error));
  g_assert_error (error, SIM_COMMAND_ERROR, SIM_COMMAND_ERROR_INVALID);
  g_assert_true (g_str_has_prefix (error->message, "the policy needs min-expires <= "
                                   "default-expires <= max-expires, but they are 9000, 3600 and 7200"));
}

static void
test_scenario_at_line_policy (void)
{
  g_autofree char *text = g_strdup_printf ("%sat 0s policy max-contacts 1 when-full replace-oldest\n"
                                           "at 1s register alice-desk\nrun 10s\n", scene_text);
  g_autoptr(GError) error = NULL;
  g_auto(SimScenarioInfo) info = { 0 };
  g_autoptr(SimWorld) world = sim_scenario_load_data (text, -1, "p.scn", 0, &info, &error);
  g_autofree char *written = NULL;

  g_test_summary ("A scenario may change the policy in an 'at' line, and writes it back.");
  g_assert_no_error (error);
  sim_world_run_until (world, info.run);
  g_assert_cmpuint (sim_registrar_get_policy (sim_world_get_registrar (world))->max_contacts, ==, 1);
  written = sim_scenario_to_text (info.scenario);
  g_assert_nonnull (strstr (written, "at 0s policy max-contacts 1 when-full replace-oldest\n"));
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/sim/command/every-verb-has-a-row", test_table);
  g_test_add_func ("/sim/command/every-verb-round-trips", test_every_verb_round_trips);
  g_test_add_func ("/sim/command/bad-values-are-refused-with-their-message", test_bad_values_are_refused);
  g_test_add_func ("/sim/command/limits-are-inclusive", test_limits_are_inclusive);
  g_test_add_func ("/sim/command/without-a-scope-only-syntax-is-checked",
                   test_without_scope_only_syntax_is_checked);
  g_test_add_func ("/sim/command/scenario-and-lesson-say-the-same", test_scenario_and_lesson_say_the_same);
  g_test_add_func ("/sim/command/policy-and-link-do-what-they-say", test_policy_and_link_run);
  g_test_add_func ("/sim/command/phone-verbs-do-what-they-say", test_phone_verbs_run);
  g_test_add_func ("/sim/command/edits-do-what-apply-edit-did", test_edits_run);
  g_test_add_func ("/sim/command/reboot-registers-again-with-a-new-call-id", test_reboot_runs);
  g_test_add_func ("/sim/command/the-world-refuses-what-only-it-can-tell", test_world_refusals);
  g_test_add_func ("/sim/command/scenario-at-line-may-change-the-policy", test_scenario_at_line_policy);
  return g_test_run ();
}
