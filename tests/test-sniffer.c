/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <string.h>

#include "sim-export.h"
#include "sim-net.h"
#include "sim-scenario.h"
#include "sim-sniffer.h"

/*
 * What a sniffer sees (sim-net.h) and its offline dictionary attack (sim-sniffer.h): the whole
 * text on a plain link, record sizes only on TLS; a weak password falls to the word list, a
 * strong one does not, and a TLS link leaves nothing to try.
 */

/* Alice's password is in the shipped list, Bob's is not; Carol's phone talks TLS. */
static const char scene_text[] =
  "server registrar 10.0.0.1 domain lab.example\n"
  "user alice password secret123\n"
  "user bob password \"x7#Kq!v9-Lm2@pZ\"\n"
  "user carol password secret123\n"
  "phone alice-desk user alice ip 10.0.0.11\n"
  "phone bob-desk user bob ip 10.0.0.12\n"
  "phone carol-desk user carol ip 10.0.0.13\n"
  "link carol-desk registrar tls\n"
  "sniffer eve on lan\n"
  "sniffer tap on carol-desk registrar\n"
  "at 0s register alice-desk\n"
  "at 0s register bob-desk\n"
  "at 0s register carol-desk\n"
  "run 5s\n";

static SimWorld *
run_scene (const char *text)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SimScenario) scene = sim_scenario_parse_data (text, -1, "sniff.scn", &error);
  SimWorld *world;

  g_assert_no_error (error);
  world = sim_scenario_build (scene, 0, &error);
  g_assert_no_error (error);
  sim_world_run_until (world, SIM_SEC (5));
  return world;
}

static void
crack (SimWorld       *world,
       const char     *sniffer,
       const char     *user,
       SimCrackResult *result)
{
  sim_sniffer_crack (sim_trace_get_events (sim_world_get_trace (world)), sniffer, user,
                     sim_sniffer_default_words (), result);
}

static void
test_plain_link_shows_text_tls_only_sizes (void)
{
  g_autoptr(SimWorld) world = run_scene (scene_text);
  GPtrArray *events = sim_trace_get_events (sim_world_get_trace (world));
  guint plain = 0, tls = 0, tap = 0;

  g_test_summary ("A sniffer on the LAN gets each datagram's whole text on a plain link; on a "
                  "TLS link only addresses and a record of the message's length plus the "
                  "TLS overhead; a sniffer on one link sees that link only.");
  for (guint i = 0; i < events->len; i++)
    {
      const SimEvent *e = events->pdata[i];

      if (e->type != SIM_EVENT_CAPTURE || g_strcmp0 (e->action, "captured") != 0)
        continue;
      if (g_strcmp0 (e->node, "tap") == 0)
        {
          tap++;
          g_assert_true (e->tls);
          g_assert_true (g_strcmp0 (e->from, "carol-desk") == 0 || g_strcmp0 (e->to, "carol-desk") == 0);
        }
      else if (e->tls)
        {
          tls++;
          g_assert_null (e->raw);
          g_assert_null (e->first_line);
          g_assert_cmpuint (e->wire_len, >, SIM_NET_TLS_RECORD_OVERHEAD);
        }
      else
        {
          plain++;
          g_assert_nonnull (e->raw);
          g_assert_cmpuint (e->wire_len, ==, strlen (e->raw));
        }
    }
  /* Alice and Bob: REGISTER, 401, REGISTER, 200 each; Carol the same four on TLS. */
  g_assert_cmpuint (plain, ==, 8);
  g_assert_cmpuint (tls, ==, 4);
  g_assert_cmpuint (tap, ==, 4);
  /* The packets on the TLS link are marked for the ladder too. */
  for (guint i = 0; i < events->len; i++)
    {
      const SimEvent *e = events->pdata[i];

      if (e->type == SIM_EVENT_PACKET)
        g_assert_cmpint (e->tls, ==, g_strcmp0 (e->from, "carol-desk") == 0 ||
                                     g_strcmp0 (e->to, "carol-desk") == 0);
    }
}

static void
test_weak_password_is_found (void)
{
  g_autoptr(SimWorld) world = run_scene (scene_text);
  SimCrackResult result;
  g_autofree char *text = NULL;

  g_test_summary ("From a captured 401 and the Authorization that answered it, the word list "
                  "finds a weak password offline, with the tries counted and a time stated.");
  crack (world, "eve", "alice", &result);
  g_assert_cmpint (result.outcome, ==, SIM_CRACK_FOUND);
  g_assert_cmpstr (result.user, ==, "alice");
  g_assert_cmpstr (result.password, ==, "secret123");
  g_assert_cmpint (result.algorithm, ==, SIM_DIGEST_MD5);
  g_assert_cmpuint (result.tries, >, 0);
  g_assert_cmpfloat (result.seconds, ==, result.tries / SIM_SNIFFER_MD5_TRIES_PER_SEC);
  text = sim_crack_result_describe (&result);
  g_assert_nonnull (strstr (text, "\"secret123\""));
  sim_crack_result_clear (&result);
}

static void
test_strong_password_is_not_found (void)
{
  g_autoptr(SimWorld) world = run_scene (scene_text);
  SimCrackResult result;
  guint n_words = g_strv_length ((GStrv) sim_sniffer_default_words ());

  g_test_summary ("A password not in the list survives: every word is tried and none fits.");
  g_assert_cmpuint (n_words, >, 2000);
  crack (world, "eve", "bob", &result);
  g_assert_cmpint (result.outcome, ==, SIM_CRACK_NOT_FOUND);
  g_assert_null (result.password);
  g_assert_cmpuint (result.tries, ==, n_words);
  sim_crack_result_clear (&result);
}

static void
test_tls_link_leaves_nothing_to_try (void)
{
  g_autoptr(SimWorld) world = run_scene (scene_text);
  SimCrackResult result;

  g_test_summary ("Carol's password is as weak as Alice's, but her link is on TLS: the sniffer "
                  "has no challenge or answer to try words against.");
  crack (world, "eve", "carol", &result);
  g_assert_cmpint (result.outcome, ==, SIM_CRACK_NOTHING_TO_TRY);
  g_assert_cmpuint (result.tries, ==, 0);
  sim_crack_result_clear (&result);
  crack (world, "tap", NULL, &result);
  g_assert_cmpint (result.outcome, ==, SIM_CRACK_NOTHING_TO_TRY);
  g_assert_true (result.saw_tls);
  sim_crack_result_clear (&result);
}

static void
test_sha256_challenge_is_tried_with_sha256 (void)
{
  g_autofree char *text = g_strconcat ("policy algorithms SHA-256\n", scene_text, NULL);
  g_autoptr(SimWorld) world = NULL;
  SimCrackResult result;

  g_test_summary ("A SHA-256 challenge (RFC 7616) is attacked with SHA-256 at its own rate: a "
                  "stronger hash slows each try, it does not save a weak password.");
  world = run_scene (text);
  crack (world, "eve", "alice", &result);
  g_assert_cmpint (result.outcome, ==, SIM_CRACK_FOUND);
  g_assert_cmpint (result.algorithm, ==, SIM_DIGEST_SHA256);
  g_assert_cmpstr (result.password, ==, "secret123");
  g_assert_cmpfloat (result.seconds, ==, result.tries / SIM_SNIFFER_SHA256_TRIES_PER_SEC);
  sim_crack_result_clear (&result);
}

static void
test_crack_verb_traces_the_result (void)
{
  g_autofree char *text = NULL;
  g_autoptr(SimWorld) world = NULL;
  GPtrArray *events;
  const char *expect[] = { "cracked", "not-cracked", "nothing-to-try" };
  guint n = 0;

  /* The scene without its run line, the cracks, and the run line again. */
  text = g_strdup_printf ("%.*sat 4s crack eve user alice\nat 4s crack eve user bob\n"
                          "at 4s crack tap\nrun 5s\n",
                          (int) (strlen (scene_text) - strlen ("run 5s\n")), scene_text);
  world = run_scene (text);
  events = sim_trace_get_events (sim_world_get_trace (world));
  g_test_summary ("The crack verb traces one capture event a run: cracked, not-cracked or "
                  "nothing-to-try, with the sentence a student reads.");
  for (guint i = 0; i < events->len; i++)
    {
      const SimEvent *e = events->pdata[i];

      if (e->type != SIM_EVENT_CAPTURE || strcmp (e->action, "captured") == 0)
        continue;
      g_assert_cmpuint (n, <, G_N_ELEMENTS (expect));
      g_assert_cmpstr (e->action, ==, expect[n]);
      g_assert_nonnull (e->text);
      n++;
    }
  g_assert_cmpuint (n, ==, 3);
}

static void
test_exports_show_what_the_sniffer_saw (void)
{
  g_autoptr(SimWorld) world = run_scene (scene_text);
  GPtrArray *events = sim_trace_get_events (sim_world_get_trace (world));
  g_autoptr(GString) ladder = g_string_new (NULL);
  g_autoptr(GString) jsonl = g_string_new (NULL);
  g_auto(GStrv) lines = NULL;
  guint tls_lines = 0;

  g_test_summary ("The ladder marks messages on a TLS link and shows each capture as a line; "
                  "JSON Lines gives a TLS capture its size and no text.");
  sim_export_ladder (events, ladder, NULL);
  g_test_message ("\n%s", ladder->str);
  g_assert_nonnull (strstr (ladder->str, "REGISTER (CSeq 1) [TLS]"));
  g_assert_nonnull (strstr (ladder->str, "% eve captured 10.0.0.11:5060 -> 10.0.0.1:5060: "
                                         "REGISTER (CSeq 1)"));
  g_assert_nonnull (strstr (ladder->str, "% tap captured [TLS] 10.0.0.13:5060 -> 10.0.0.1:5060: "
                                         "a TLS record of"));
  sim_export_jsonl (events, jsonl);
  lines = g_strsplit (jsonl->str, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    if (strstr (lines[i], "\"type\":\"capture\"") != NULL && strstr (lines[i], "\"tls\":true") != NULL)
      {
        tls_lines++;
        g_assert_null (strstr (lines[i], "\"raw\""));
        g_assert_null (strstr (lines[i], "REGISTER"));
      }
  g_assert_cmpuint (tls_lines, ==, 8);
}

static void
test_scenario_round_trip (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SimScenario) a = sim_scenario_parse_data (scene_text, -1, "a.scn", &error);
  g_autoptr(SimScenario) b = NULL;
  g_autofree char *text_a = NULL;
  g_autofree char *text_b = NULL;

  g_test_summary ("Sniffers and TLS links are written back and parse to the same scene.");
  g_assert_no_error (error);
  text_a = sim_scenario_to_text (a);
  b = sim_scenario_parse_data (text_a, -1, "b.scn", &error);
  g_assert_no_error (error);
  text_b = sim_scenario_to_text (b);
  g_assert_cmpstr (text_a, ==, text_b);
  g_assert_nonnull (strstr (text_a, "link carol-desk registrar tls\n"));
  g_assert_nonnull (strstr (text_a, "sniffer eve on lan\n"));
  g_assert_nonnull (strstr (text_a, "sniffer tap on carol-desk registrar\n"));
}

static void
test_bad_sniffer_lines (void)
{
  static const struct { const char *line; const char *message; } cases[] = {
    { "sniffer eve\n", "x.scn:2: expected 'on' (sniffer eve on NODE NODE, or sniffer eve on lan)" },
    { "sniffer eve on registrar nobody\n", "x.scn:2: unknown node 'nobody' (declare it before this line)" },
    { "sniffer eve on registrar registrar\n", "x.scn:2: a link joins two different nodes, not 'registrar' to itself" },
    { "sniffer registrar on lan\n", "x.scn:2: 'registrar' is already declared" },
    { "sniffer eve on lan extra\n", "x.scn:2: unexpected 'extra'" },
  };

  g_test_summary ("A wrong sniffer line is refused with its line and what is wrong.");
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *text = g_strconcat ("server registrar 10.0.0.1\n", cases[i].line, NULL);
      g_autoptr(GError) error = NULL;
      g_autoptr(SimScenario) sc = sim_scenario_parse_data (text, -1, "x.scn", &error);

      g_assert_null (sc);
      g_assert_nonnull (error);
      g_test_message ("%s", error->message);
      g_assert_true (g_str_has_prefix (error->message, cases[i].message));
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/sim/sniffer/a-plain-link-shows-text-a-tls-link-only-sizes",
                   test_plain_link_shows_text_tls_only_sizes);
  g_test_add_func ("/sim/sniffer/a-weak-password-is-found", test_weak_password_is_found);
  g_test_add_func ("/sim/sniffer/a-strong-password-is-not-found", test_strong_password_is_not_found);
  g_test_add_func ("/sim/sniffer/a-tls-link-leaves-nothing-to-try", test_tls_link_leaves_nothing_to_try);
  g_test_add_func ("/sim/sniffer/a-sha256-challenge-is-tried-with-sha256",
                   test_sha256_challenge_is_tried_with_sha256);
  g_test_add_func ("/sim/sniffer/the-crack-verb-traces-the-result", test_crack_verb_traces_the_result);
  g_test_add_func ("/sim/sniffer/exports-show-what-the-sniffer-saw",
                   test_exports_show_what_the_sniffer_saw);
  g_test_add_func ("/sim/sniffer/sniffers-and-tls-round-trip", test_scenario_round_trip);
  g_test_add_func ("/sim/sniffer/bad-sniffer-lines-are-refused", test_bad_sniffer_lines);
  return g_test_run ();
}
