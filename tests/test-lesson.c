/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <glib/gstdio.h>
#include <string.h>
#include <sys/wait.h>

#include "sim-lesson.h"

/*
 * Lessons: the parser reports FILE:LINE, the checker verifies claims against the simulator
 * (and is not a rubber stamp: a wrong key, claim or task fails it), the runner plays items,
 * and every shipped lesson in lessons/ passes its check.
 */

/* A small, complete lesson.  Line numbers matter to the tests below: keep them. */
static const char good_lesson[] =
  "# Register alice and bob\n"                                            /*  1 */
  "\n"                                                                    /*  2 */
  "Alice registers.\n"                                                    /*  3 */
  "\n"                                                                    /*  4 */
  "```scene\n"                                                            /*  5 */
  "title t\n"                                                             /*  6 */
  "seed 3\n"                                                              /*  7 */
  "server registrar 10.0.0.1 domain lab.example\n"                        /*  8 */
  "policy min-expires 60 default-expires 600 max-expires 1800\n"          /*  9 */
  "link default latency 20ms jitter 0ms loss 0%\n"                        /* 10 */
  "user alice password secret123\n"                                       /* 11 */
  "user bob password bob-secret\n"                                        /* 12 */
  "phone alice-desk user alice ip 10.0.0.11 expires 3600\n"               /* 13 */
  "phone bob-desk user bob ip 10.0.0.21\n"                                /* 14 */
  "at 0s register alice-desk\n"                                           /* 15 */
  "run 60s\n"                                                             /* 16 */
  "```\n"                                                                 /* 17 */
  "\n"                                                                    /* 18 */
  "## Step: The REGISTER goes out\n"                                      /* 19 */
  "run: until REGISTER arrives at registrar\n"                            /* 20 */
  "highlight: header Contact\n"                                           /* 21 */
  "\n"                                                                    /* 22 */
  "## Predict: The answer\n"                                              /* 23 */
  "predict: status of response arrives at alice-desk\n"                   /* 24 */
  "answer: 401\n"                                                         /* 25 */
  "explain: A challenge.\n"                                               /* 26 */
  "\n"                                                                    /* 27 */
  "## Predict: The grant\n"                                               /* 28 */
  "predict: expires of 200 arrives at alice-desk\n"                       /* 29 */
  "answer: 1800\n"                                                        /* 30 */
  "\n"                                                                    /* 31 */
  "## Choice: Bound?\n"                                                   /* 32 */
  "option a: yes\n"                                                       /* 33 */
  "option b: no\n"                                                        /* 34 */
  "answer: a\n"                                                           /* 35 */
  "expect: bindings sip:alice@lab.example == 1\n"                         /* 36 */
  "\n"                                                                    /* 37 */
  "## Task: Bob too\n"                                                    /* 38 */
  "goal: bindings sip:bob@lab.example == 1\n"                             /* 39 */
  "solution: register bob-desk\n"                                         /* 40 */
  "hint: register bob-desk\n";                                            /* 41 */

static char *
replace_line (const char *text,
              guint       line,
              const char *with)
{
  g_auto(GStrv) lines = g_strsplit (text, "\n", -1);

  g_assert_cmpuint (line, >=, 1);
  g_assert_cmpuint (line, <=, g_strv_length (lines));
  g_free (lines[line - 1]);
  lines[line - 1] = g_strdup (with);
  return g_strjoinv ("\n", lines);
}

static SimLesson *
parse (const char *text)
{
  g_autoptr(GError) error = NULL;
  SimLesson *lesson = sim_lesson_parse_data (text, -1, "t.lesson", NULL, &error);

  g_assert_no_error (error);
  g_assert_nonnull (lesson);
  return lesson;
}

static void
assert_parse_error (const char *text,
                    const char *prefix,
                    const char *fragment)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SimLesson) lesson = sim_lesson_parse_data (text, -1, "t.lesson", NULL, &error);

  g_assert_null (lesson);
  g_assert_nonnull (error);
  g_test_message ("%s", error->message);
  g_assert_true (g_str_has_prefix (error->message, prefix));
  if (fragment != NULL)
    g_assert_nonnull (strstr (error->message, fragment));
}

static void
test_parse_good (void)
{
  g_autoptr(SimLesson) lesson = parse (good_lesson);
  const SimLessonItem *item;

  g_assert_cmpstr (sim_lesson_get_title (lesson), ==, "Register alice and bob");
  g_assert_cmpstr (sim_lesson_get_intro (lesson), ==, "Alice registers.");
  g_assert_cmpstr (sim_lesson_get_id (lesson), ==, "t");
  g_assert_cmpuint (sim_lesson_get_n_items (lesson), ==, 5);
  g_assert_cmpuint (sim_lesson_get_n_questions (lesson), ==, 3);
  item = sim_lesson_get_item (lesson, 1);
  g_assert_cmpint (item->kind, ==, SIM_LESSON_PREDICT);
  g_assert_cmpuint (item->line, ==, 23);
  g_assert_cmpstr (item->answer->text, ==, "401");
  g_assert_cmpuint (item->answer->line, ==, 25);
  item = sim_lesson_get_item (lesson, 3);
  g_assert_cmpuint (item->options->len, ==, 2);
  item = sim_lesson_get_item (lesson, 4);
  g_assert_cmpint (item->kind, ==, SIM_LESSON_TASK);
  g_assert_cmpstr (((SimLessonLine *) item->solution->pdata[0])->text, ==, "register bob-desk");
}

static void
test_parse_errors_name_file_and_line (void)
{
  g_autofree char *typo = replace_line (good_lesson, 20, "rnu: until REGISTER arrives at registrar");
  g_autofree char *bad_event = replace_line (good_lesson, 20, "run: until REGISTERS arive at registrar");
  g_autofree char *bad_claim = replace_line (good_lesson, 36, "expect: bindings sip:alice@lab.example is 1");
  g_autofree char *bad_command = replace_line (good_lesson, 40, "solution: regster bob-desk");
  g_autofree char *bad_scene = replace_line (good_lesson, 14, "phone bob-desk user nobody ip 10.0.0.21");
  g_autofree char *no_answer = replace_line (good_lesson, 25, "");
  g_autofree char *bad_option = replace_line (good_lesson, 35, "answer: c");
  g_autofree char *bad_kind = replace_line (good_lesson, 32, "## Quiz: Bound?");
  g_autofree char *open_fence = replace_line (good_lesson, 17, "");
  g_autofree char *unknown_phone = replace_line (good_lesson, 40, "solution: register bob-phone");

  g_test_summary ("Every mistake a teacher can make is reported as FILE:LINE, on the right line, "
                  "including mistakes inside the inline scene.");
  assert_parse_error (typo, "t.lesson:20: ", "unknown directive 'rnu:'");
  assert_parse_error (bad_event, "t.lesson:20: ", "unexpected");
  assert_parse_error (bad_claim, "t.lesson:36: ", "bindings AOR OP N");
  assert_parse_error (bad_command, "t.lesson:40: ", "unknown command 'regster'");
  assert_parse_error (bad_scene, "t.lesson:14: ", "nobody");
  assert_parse_error (no_answer, "t.lesson:23: ", "answer:");
  assert_parse_error (bad_option, "t.lesson:35: ", "not one of the options");
  assert_parse_error (bad_kind, "t.lesson:32: ", "unknown item 'quiz'");
  assert_parse_error (open_fence, "t.lesson:5: ", "never closed");
  /* Commands are checked against the scene's names when the lesson is loaded. */
  assert_parse_error (unknown_phone, "t.lesson:40: ", "unknown phone 'bob-phone'");
  assert_parse_error ("# Title\n\nNo scene.\n## Step: x\n", "t.lesson:1: ", "no scene");
}

static void
test_highlights_are_typed (void)
{
  g_autofree char *binding = replace_line (good_lesson, 21, "highlight: binding sip:alice@lab.example");
  g_autofree char *contact = replace_line (good_lesson, 21,
                                           "highlight: binding  sip:alice@lab.example  sip:alice@10.0.0.11:5060");
  g_autofree char *timer = replace_line (good_lesson, 21, "highlight: timer F");
  g_autofree char *node = replace_line (good_lesson, 21, "highlight: node registrar");
  const struct {
    const char *text;
    SimLessonHighlightKind kind;
    const char *name;
    const char *contact;
    const char *shown;
  } cases[] = {
    { good_lesson, SIM_LESSON_HIGHLIGHT_HEADER, "Contact", NULL, "header Contact" },
    { binding, SIM_LESSON_HIGHLIGHT_BINDING, "sip:alice@lab.example", NULL,
      "binding sip:alice@lab.example" },
    { contact, SIM_LESSON_HIGHLIGHT_BINDING, "sip:alice@lab.example", "sip:alice@10.0.0.11:5060",
      "binding  sip:alice@lab.example  sip:alice@10.0.0.11:5060" },
    { timer, SIM_LESSON_HIGHLIGHT_TIMER, "F", NULL, "timer F" },
    { node, SIM_LESSON_HIGHLIGHT_NODE, "registrar", NULL, "node registrar" },
  };

  g_test_summary ("A 'highlight:' line is parsed once, when the lesson is loaded, into its kind, "
                  "name and contact (extra spaces do not matter); the text is kept for display.");
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(SimLesson) lesson = parse (cases[i].text);
      const SimLessonItem *item = sim_lesson_get_item (lesson, 0);
      const SimLessonHighlight *h;

      g_assert_cmpuint (item->highlights->len, ==, 1);
      h = item->highlights->pdata[0];
      g_assert_cmpint (h->kind, ==, cases[i].kind);
      g_assert_cmpstr (h->name, ==, cases[i].name);
      g_assert_cmpstr (h->contact, ==, cases[i].contact);
      g_assert_cmpstr (h->text, ==, cases[i].shown);
      g_assert_cmpuint (h->line, ==, 21);
      g_assert_true (sim_lesson_item_has_highlight (item, cases[i].kind));
      g_assert_false (sim_lesson_item_has_highlight (sim_lesson_get_item (lesson, 1), cases[i].kind));
    }

  {
    g_autofree char *no_name = replace_line (good_lesson, 21, "highlight: header");
    g_autofree char *not_an_aor = replace_line (good_lesson, 21, "highlight: binding alice");
    g_autofree char *unknown = replace_line (good_lesson, 21, "highlight: packet 401");

    assert_parse_error (no_name, "t.lesson:21: ", "expected 'highlight: header NAME'");
    assert_parse_error (not_an_aor, "t.lesson:21: ", "binding AOR [CONTACT]");
    assert_parse_error (unknown, "t.lesson:21: ", "highlight: node NAME");
  }
}

static void
test_predictions_are_typed_with_a_hint (void)
{
  const struct {
    const char *line;
    SimLessonField field;
    const char *header;
    const char *hint;
  } cases[] = {
    { "predict: status of response arrives at alice-desk", SIM_LESSON_FIELD_STATUS, NULL,
      "a status code (three digits)" },
    { "predict: method of next request leaves alice-desk", SIM_LESSON_FIELD_METHOD, NULL,
      "a method name (in capitals)" },
    { "predict: cseq of the REGISTER with Authorization leaves alice-desk", SIM_LESSON_FIELD_CSEQ,
      NULL, "a CSeq number" },
    { "predict: expires of 200 arrives at alice-desk", SIM_LESSON_FIELD_EXPIRES, NULL,
      "a number of seconds" },
    { "predict: header Call-ID of REGISTER leaves alice-desk", SIM_LESSON_FIELD_HEADER, "Call-ID",
      "the header's value" },
  };

  g_test_summary ("A 'predict:' line is parsed once into the field it asks for; the kind of "
                  "answer it wants (the prompt both front ends show) comes from the core.");
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *text = replace_line (good_lesson, 24, cases[i].line);
      g_autoptr(SimLesson) lesson = parse (text);
      const SimLessonPrediction *p = sim_lesson_get_item (lesson, 1)->predict;

      g_assert_cmpstr (p->text, ==, cases[i].line + strlen ("predict: "));
      g_assert_cmpuint (p->line, ==, 24);
      g_assert_cmpint (p->field, ==, cases[i].field);
      g_assert_cmpstr (p->header, ==, cases[i].header);
      g_assert_cmpstr (sim_lesson_prediction_get_answer_hint (p), ==, cases[i].hint);
    }
}

static void
test_a_view_finds_the_predicted_packet (void)
{
  g_autoptr(SimLesson) lesson = parse (good_lesson);
  g_autoptr(SimLessonRunner) runner = sim_lesson_runner_new (lesson, NULL);
  const SimLessonItem *step = sim_lesson_get_item (lesson, 0);
  const SimLessonItem *any_response = sim_lesson_get_item (lesson, 1);
  const SimLessonItem *the_200 = sim_lesson_get_item (lesson, 2);
  SimTrace *trace;
  guint n_401 = 0, n_200 = 0;

  g_test_summary ("A view picks the ladder row a prediction was about (the packet as sent, though "
                  "'arrives at' names its delivery) from the core's parsed prediction.");
  g_assert_true (sim_lesson_runner_enter (runner, NULL));
  sim_lesson_runner_next (runner);
  g_assert_true (sim_lesson_runner_enter (runner, NULL));
  g_assert_cmpint (sim_lesson_runner_answer (runner, "401", NULL, NULL), ==, SIM_LESSON_ANSWER_CORRECT);
  trace = sim_world_get_trace (sim_lesson_runner_get_world (runner));
  sim_world_run_until (sim_lesson_runner_get_world (runner), SIM_SEC (5));
  for (guint i = 0; i < sim_trace_get_n_events (trace); i++)
    {
      SimEvent *e = sim_trace_get_event (trace, i);

      if (e->type != SIM_EVENT_PACKET || g_strcmp0 (e->action, "sent") != 0)
        continue;
      g_assert_false (sim_lesson_item_predicts_packet (step, e));
      if (e->status == 0)
        {
          g_assert_false (sim_lesson_item_predicts_packet (any_response, e));
          g_assert_false (sim_lesson_item_predicts_packet (the_200, e));
          continue;
        }
      g_assert_cmpstr (e->to, ==, "alice-desk");
      g_assert_true (sim_lesson_item_predicts_packet (any_response, e));
      g_assert_cmpint (sim_lesson_item_predicts_packet (the_200, e), ==, e->status == 200);
      n_401 += e->status == 401;
      n_200 += e->status == 200;
    }
  g_assert_cmpuint (n_401, >=, 1);
  g_assert_cmpuint (n_200, >=, 1);
}

static void
assert_check_fails_at (const char *text,
                       const char *where,
                       const char *fragment)
{
  g_autoptr(SimLesson) lesson = parse (text);
  g_auto(SimLessonReport) report = { 0 };
  gboolean found = FALSE;

  g_assert_false (sim_lesson_check (lesson, &report));
  g_assert_cmpuint (report.failures->len, >=, 1);
  for (guint i = 0; i < report.failures->len; i++)
    {
      const char *f = report.failures->pdata[i];
      g_test_message ("%s", f);
      if (g_str_has_prefix (f, where) && (fragment == NULL || strstr (f, fragment) != NULL))
        found = TRUE;
    }
  g_assert_true (found);
}

#define PROXY_AUTH_LESSON(switch_, count) \
  "# Proxy authentication\n" \
  "\n" \
  "Alice calls Bob.\n" \
  "\n" \
  "```scene\n" \
  "seed 3\n" \
  "server registrar 10.0.0.1 domain lab.example\n" \
  "user alice password secret123\n" \
  "user bob password bob-secret\n" \
  "phone alice-desk user alice ip 10.0.0.11\n" \
  "phone bob-desk user bob ip 10.0.0.21\n" \
  "at 0s register alice-desk\n" \
  "at 0s register bob-desk\n" \
  "run 30s\n" \
  "```\n" \
  "\n" \
  "## Step: The call\n" \
  "do: policy proxy-auth " switch_ "; wait 2s; call alice-desk bob\n" \
  "run: until INVITE arrives at bob-desk\n" \
  "expect: count INVITE leaves alice-desk == " count "\n"

static void
test_policy_proxy_auth (void)
{
  g_autoptr(SimLesson) off = parse (PROXY_AUTH_LESSON ("off", "1"));
  g_autoptr(SimLesson) on = parse (PROXY_AUTH_LESSON ("on", "2"));
  g_autoptr(SimLesson) wrong = parse (PROXY_AUTH_LESSON ("on", "1"));
  g_auto(SimLessonReport) off_report = { 0 };
  g_auto(SimLessonReport) on_report = { 0 };
  g_auto(SimLessonReport) wrong_report = { 0 };

  g_test_summary ("Issue 9 item 2: a lesson's 'do: policy proxy-auth on|off' is accepted like "
                  "the scenario key: off, alice's one INVITE reaches bob; on (the default), her "
                  "INVITE is challenged with 407 and sent twice.");
  g_assert_true (sim_lesson_check (off, &off_report));
  g_assert_true (sim_lesson_check (on, &on_report));
  g_assert_false (sim_lesson_check (wrong, &wrong_report));
  assert_parse_error (PROXY_AUTH_LESSON ("maybe", "1"), "t.lesson:18:", "proxy-auth is 'on' or 'off', not 'maybe'");
}

static void
test_check_passes (void)
{
  g_autoptr(SimLesson) lesson = parse (good_lesson);
  g_auto(SimLessonReport) report = { 0 };

  g_assert_true (sim_lesson_check (lesson, &report));
  g_assert_cmpuint (report.failures->len, ==, 0);
  g_assert_cmpuint (report.n_steps, ==, 1);
  g_assert_cmpuint (report.n_questions, ==, 3);
  g_assert_cmpuint (report.n_tasks, ==, 1);
  /* until, highlight, 2 predictions, the choice and its claim, the goal */
  g_assert_cmpuint (report.n_claims, >=, 7);
}

static void
test_check_is_not_a_rubber_stamp (void)
{
  g_autofree char *wrong_status = replace_line (good_lesson, 25, "answer: 200");
  g_autofree char *wrong_grant = replace_line (good_lesson, 30, "answer: 3600");
  g_autofree char *wrong_choice = replace_line (good_lesson, 36, "expect: bindings sip:alice@lab.example == 2");
  g_autofree char *never = replace_line (good_lesson, 20, "run: until 423 arrives at alice-desk");
  g_autofree char *no_header = replace_line (good_lesson, 21, "highlight: header Min-Expires");
  g_autofree char *bad_solution = replace_line (good_lesson, 40, "solution: unregister bob-desk");
  g_autofree char *solved = replace_line (good_lesson, 39, "goal: bindings sip:bob@lab.example == 0");

  g_test_summary ("A wrong answer key, a false claim, an event that never happens, a highlight "
                  "of a header nobody sent, a solution that does not solve, a task that is solved "
                  "before it starts: each makes check fail, on the line of the mistake.");
  assert_check_fails_at (wrong_status, "t.lesson:25: ", "simulator: 401");
  assert_check_fails_at (wrong_grant, "t.lesson:30: ", "1800");
  assert_check_fails_at (wrong_choice, "t.lesson:36: ", "has 1 binding");
  assert_check_fails_at (never, "t.lesson:20: ", "never happened");
  assert_check_fails_at (no_header, "t.lesson:21: ", "Min-Expires");
  assert_check_fails_at (bad_solution, "t.lesson:39: ", "does not hold");
  assert_check_fails_at (solved, "t.lesson:38: ", "is done by doing nothing (every goal already "
                         "holds");
}

static void
test_runner_plays_questions_and_tasks (void)
{
  g_autoptr(SimLesson) lesson = parse (good_lesson);
  g_autoptr(GError) error = NULL;
  g_autoptr(SimLessonRunner) runner = sim_lesson_runner_new (lesson, &error);
  g_autofree char *explanation = NULL;
  g_autofree char *why = NULL;
  GPtrArray *events;
  gboolean saw_register = FALSE;

  g_assert_no_error (error);

  /* Step: the REGISTER, and nothing after it yet. */
  g_assert_true (sim_lesson_runner_enter (runner, &error));
  g_assert_no_error (error);
  events = sim_lesson_runner_take_new_events (runner);
  for (guint i = 0; i < events->len; i++)
    {
      SimEvent *e = events->pdata[i];
      g_assert_cmpint (e->status, ==, 0);
      saw_register |= e->type == SIM_EVENT_PACKET && g_strcmp0 (e->method, "REGISTER") == 0;
    }
  g_ptr_array_unref (events);
  g_assert_true (saw_register);
  sim_lesson_runner_next (runner);

  /* Predict: a wrong answer is graded wrong and explained with what the simulator did. */
  g_assert_true (sim_lesson_runner_enter (runner, &error));
  g_assert_cmpint (sim_lesson_runner_answer (runner, "hello", &explanation, &error), ==,
                   SIM_LESSON_ANSWER_INVALID);
  g_clear_pointer (&explanation, g_free);
  g_assert_cmpint (sim_lesson_runner_answer (runner, "200", &explanation, &error), ==,
                   SIM_LESSON_ANSWER_INCORRECT);
  g_assert_no_error (error);
  g_assert_nonnull (strstr (explanation, "401"));
  g_clear_pointer (&explanation, g_free);
  sim_lesson_runner_next (runner);

  /* Predict: right, and "1800 seconds" is read as the number. */
  g_assert_true (sim_lesson_runner_enter (runner, &error));
  g_assert_cmpint (sim_lesson_runner_answer (runner, "1800 seconds", NULL, &error), ==,
                   SIM_LESSON_ANSWER_CORRECT);
  sim_lesson_runner_next (runner);

  /* Choice: "A)" names the option shown as a (the key's letter follows the shuffle). */
  g_assert_true (sim_lesson_runner_enter (runner, &error));
  {
    g_autofree char *letter = sim_lesson_runner_get_option_letter (runner, "a");
    g_autofree char *typed = g_strdup_printf ("%c)", g_ascii_toupper (letter[0]));

    g_assert_cmpint (sim_lesson_runner_answer (runner, typed, NULL, &error), ==,
                     SIM_LESSON_ANSWER_CORRECT);
  }
  sim_lesson_runner_next (runner);

  /* Task: a command the world refuses, a command that does not solve it, then one that does. */
  g_assert_true (sim_lesson_runner_enter (runner, &error));
  g_assert_false (sim_lesson_runner_goal_met (runner, &why));
  g_assert_nonnull (strstr (why, "sip:bob@lab.example"));
  g_clear_pointer (&why, g_free);
  g_assert_false (sim_lesson_runner_command (runner, "register nobody", &error));
  g_assert_error (error, SIM_LESSON_ERROR, SIM_LESSON_ERROR_COMMAND);
  g_clear_error (&error);
  g_assert_true (sim_lesson_runner_command (runner, "register alice-desk", &error));
  g_assert_no_error (error);
  g_assert_false (sim_lesson_runner_goal_met (runner, NULL));
  g_assert_true (sim_lesson_runner_command (runner, "register bob-desk", &error));
  g_assert_no_error (error);
  g_assert_true (sim_lesson_runner_goal_met (runner, NULL));
  sim_lesson_runner_next (runner);

  g_assert_true (sim_lesson_runner_is_done (runner));
  g_assert_cmpuint (sim_lesson_runner_get_n_answered (runner), ==, 3);
  g_assert_cmpuint (sim_lesson_runner_get_n_correct (runner), ==, 2);
  g_assert_cmpuint (sim_lesson_runner_get_n_tasks_done (runner), ==, 1);
}

static void
test_give_up_replays_the_solution (void)
{
  g_autoptr(SimLesson) lesson = parse (good_lesson);
  g_autoptr(GError) error = NULL;
  g_autoptr(SimLessonRunner) runner = sim_lesson_runner_new (lesson, &error);

  for (guint i = 0; i < 4; i++)
    {
      const SimLessonItem *item = sim_lesson_runner_get_item (runner);
      g_assert_true (sim_lesson_runner_enter (runner, &error));
      if (item->kind != SIM_LESSON_STEP)
        sim_lesson_runner_answer (runner, item->answer->text, NULL, &error);
      g_assert_no_error (error);
      sim_lesson_runner_next (runner);
    }
  g_assert_true (sim_lesson_runner_enter (runner, &error));
  g_assert_true (sim_lesson_runner_command (runner, "power-off bob-desk", &error));
  g_assert_true (sim_lesson_runner_give_up (runner, &error));
  g_assert_no_error (error);
  /* The world was rebuilt along the model path: bob-desk is on and registered. */
  g_assert_true (sim_lesson_runner_goal_met (runner, NULL));
  g_assert_cmpuint (sim_lesson_runner_get_position (runner), ==, 4);
  g_assert_cmpuint (sim_lesson_runner_get_n_tasks_done (runner), ==, 0);
  g_assert_cmpuint (sim_lesson_runner_get_n_correct (runner), ==, 3);
}

static void
test_diverged_student_continues_from_the_model (void)
{
  g_autofree char *text = g_strconcat (good_lesson,
                                       "\n## Step: Alice calls\n"
                                       "do: call alice-desk bob\n"
                                       "run: until INVITE arrives at bob-desk\n", NULL);
  g_autoptr(SimLesson) lesson = parse (text);
  g_autoptr(GError) error = NULL;
  g_autoptr(SimLessonRunner) runner = sim_lesson_runner_new (lesson, &error);
  g_auto(SimLessonReport) report = { 0 };

  g_test_summary ("A student who goes their own way in a task (here: switching bob-desk off) may "
                  "leave the world where a later step cannot happen; the runner then replays the "
                  "model path and the lesson goes on.");
  g_assert_true (sim_lesson_check (lesson, &report));
  for (guint i = 0; i < 4; i++)
    {
      const SimLessonItem *item = sim_lesson_runner_get_item (runner);
      g_assert_true (sim_lesson_runner_enter (runner, &error));
      if (item->kind != SIM_LESSON_STEP)
        sim_lesson_runner_answer (runner, item->answer->text, NULL, &error);
      g_assert_no_error (error);
      sim_lesson_runner_next (runner);
    }
  g_assert_true (sim_lesson_runner_enter (runner, &error));
  g_assert_true (sim_lesson_runner_command (runner, "policy max-contacts 10", &error));
  g_assert_false (sim_lesson_runner_goal_met (runner, NULL));
  g_assert_true (sim_lesson_runner_command (runner, "power-off bob-desk", &error));
  g_assert_no_error (error);
  g_assert_true (sim_lesson_runner_command (runner, "register bob-desk", &error) || error != NULL);
  g_clear_error (&error);
  sim_lesson_runner_next (runner);
  /* The INVITE cannot reach a powered-off bob-desk: the runner falls back to the model path. */
  g_assert_true (sim_lesson_runner_enter (runner, &error));
  g_assert_no_error (error);
  g_assert_true (sim_phone_is_powered (sim_world_get_phone (sim_lesson_runner_get_world (runner), "bob-desk")));
}

static void
test_claims (void)
{
  g_autoptr(SimLesson) lesson = parse (good_lesson);
  g_autoptr(GError) error = NULL;
  g_autoptr(SimLessonRunner) runner = sim_lesson_runner_new (lesson, &error);
  SimWorld *world = sim_lesson_runner_get_world (runner);
  struct { const char *claim; gboolean holds; } cases[] = {
    { "bindings sip:alice@lab.example == 1", TRUE },
    { "bindings sip:alice@lab.example != 1", FALSE },
    { "binding sip:alice@lab.example sip:alice@10.0.0.11:5060 present", TRUE },
    { "binding sip:alice@lab.example sip:alice@10.0.0.99:5060 absent", TRUE },
    { "total-bindings == 1", TRUE },
    { "reg-state alice-desk registered", TRUE },
    { "reg-state bob-desk idle", TRUE },
    { "granted alice-desk == 1800", TRUE },
    { "cseq alice-desk == 2", TRUE },
    { "last-status 200 to alice-desk", TRUE },
    { "last-status 401", FALSE },
    { "happened 401 arrives at alice-desk", TRUE },
    { "happened REGISTER with Authorization leaves alice-desk", TRUE },
    { "never REGISTER leaves bob-desk", TRUE },
    { "count REGISTER arrives at registrar == 2", TRUE },
    { "count response from registrar >= 3", FALSE },
    { "happened binding added sip:alice@lab.example sip:alice@10.0.0.11:5060", TRUE },
    { "happened nonce accepted", TRUE },
    { "happened registration registered alice-desk", TRUE },
  };

  sim_world_run_until (world, SIM_SEC (5));
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      gboolean holds = !cases[i].holds;
      g_autofree char *why = NULL;

      g_assert_true (sim_lesson_eval_claim (world, cases[i].claim, 0, &holds, &why, &error));
      g_assert_no_error (error);
      g_test_message ("%s: %s (%s)", cases[i].claim, holds ? "holds" : "does not hold", why);
      g_assert_cmpint (holds, ==, cases[i].holds);
    }
}

static void
test_shipped_lessons_pass_check (void)
{
  const char *src = g_getenv ("SIPLAB_SOURCE_DIR");
  g_autofree char *dir_path = NULL;
  g_autoptr(GDir) dir = NULL;
  g_autoptr(GError) error = NULL;
  const char *name;
  guint n = 0;

  g_test_summary ("Every lesson shipped in lessons/ passes sim_lesson_check: a change to the "
                  "simulator that breaks a lesson's story fails the build.");
  if (src == NULL)
    {
      g_test_skip ("SIPLAB_SOURCE_DIR is not set (tests/meson.build sets it)");
      return;
    }
  dir_path = g_build_filename (src, "lessons", NULL);
  dir = g_dir_open (dir_path, 0, &error);
  g_assert_no_error (error);
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = NULL;
      g_autoptr(SimLesson) lesson = NULL;
      g_auto(SimLessonReport) report = { 0 };

      if (!g_str_has_suffix (name, ".lesson"))
        continue;
      path = g_build_filename (dir_path, name, NULL);
      lesson = sim_lesson_parse_file (path, &error);
      g_assert_no_error (error);
      if (!sim_lesson_check (lesson, &report))
        for (guint i = 0; i < report.failures->len; i++)
          g_test_message ("%s", (char *) report.failures->pdata[i]);
      g_assert_cmpuint (report.failures->len, ==, 0);
      g_test_message ("%s: %u steps, %u questions, %u tasks, %u claims", name, report.n_steps,
                      report.n_questions, report.n_tasks, report.n_claims);
      n++;
    }
  /* Ten lessons plus the template. */
  g_assert_cmpuint (n, >=, 11);
}

/* ------------------------------------------------------------------------------------------ */
/* Grading honestly: tasks not done by doing nothing, answers not shown before questions      */

static SimLesson *
parse_shipped (const char *name)
{
  const char *src = g_getenv ("SIPLAB_SOURCE_DIR");
  g_autofree char *path = NULL;
  g_autoptr(GError) error = NULL;
  SimLesson *lesson;

  if (src == NULL)
    return NULL;
  path = g_build_filename (src, "lessons", name, NULL);
  lesson = sim_lesson_parse_file (path, &error);
  g_assert_no_error (error);
  return lesson;
}

/* Plays items [0, @position) as the lesson's author would (keys, solutions) and enters the
 * item at @position, through the API the front ends use. */
static SimLessonRunner *
play_to (SimLesson *lesson,
         guint      position)
{
  g_autoptr(GError) error = NULL;
  SimLessonRunner *runner = sim_lesson_runner_new (lesson, &error);

  g_assert_no_error (error);
  for (guint i = 0; i <= position; i++)
    {
      const SimLessonItem *item = sim_lesson_runner_get_item (runner);

      g_assert_true (sim_lesson_runner_enter (runner, &error));
      g_assert_no_error (error);
      g_ptr_array_unref (sim_lesson_runner_take_new_events (runner));
      if (i == position)
        break;
      if (item->kind == SIM_LESSON_PREDICT)
        g_assert_cmpint (sim_lesson_runner_answer (runner, item->answer->text, NULL, &error), ==,
                         SIM_LESSON_ANSWER_CORRECT);
      else if (item->kind == SIM_LESSON_CHOICE)
        {
          g_autofree char *letter = NULL;

          letter = sim_lesson_runner_get_option_letter (runner, item->answer->text);

          g_assert_cmpint (sim_lesson_runner_answer (runner, letter, NULL, &error), ==,
                           SIM_LESSON_ANSWER_CORRECT);
        }
      else if (item->kind == SIM_LESSON_TASK)
        for (guint k = 0; k < item->solution->len; k++)
          {
            const SimLessonLine *command = item->solution->pdata[k];

            g_assert_true (sim_lesson_runner_command (runner, command->text, &error));
          }
      g_assert_no_error (error);
      g_ptr_array_unref (sim_lesson_runner_take_new_events (runner));
      sim_lesson_runner_next (runner);
    }
  return runner;
}

static guint
find_item (SimLesson  *lesson,
           const char *title)
{
  for (guint i = 0; i < sim_lesson_get_n_items (lesson); i++)
    if (strcmp (sim_lesson_get_item (lesson, i)->title, title) == 0)
      return i;
  g_assert_not_reached ();
}

/* Plays the task @title with @commands (';'-separated) and says whether its goals hold. */
static gboolean
task_passes (SimLesson  *lesson,
             const char *title,
             const char *commands)
{
  g_autoptr(SimLessonRunner) runner = play_to (lesson, find_item (lesson, title));
  g_auto(GStrv) list = g_strsplit (commands, ";", -1);
  g_autofree char *why = NULL;
  gboolean met;

  g_assert_cmpint (sim_lesson_runner_get_item (runner)->kind, ==, SIM_LESSON_TASK);
  for (guint i = 0; list[i] != NULL; i++)
    {
      g_autoptr(GError) error = NULL;

      g_strstrip (list[i]);
      g_assert_true (sim_lesson_runner_command (runner, list[i], &error));
      g_assert_no_error (error);
    }
  met = sim_lesson_runner_goal_met (runner, &why);
  g_test_message ("%s: '%s' %s%s%s", title, commands, met ? "passes" : "fails",
                  why ? ": " : "", why ? why : "");
  return met;
}

static void
test_shipped_tasks_grade_what_they_ask (void)
{
  g_autoptr(SimLesson) replay = parse_shipped ("05-replay-and-nonce.lesson");
  g_autoptr(SimLesson) refresh = parse_shipped ("06-expiry-and-refresh.lesson");
  g_autoptr(SimLesson) dereg = parse_shipped ("08-deregistration.lesson");
  const char *disguise = "Disguise the replay";
  const char *by_hand = "Refresh by hand";
  const char *only_desk = "Remove only the desk phone's binding";

  g_test_summary ("Issue 11: the three tasks that gave credit without testing what they ask "
                  "now fail when nothing (or the wrong thing) is done, and pass with a real "
                  "solution: a plain replay is no disguised replay; waiting for the phone's own "
                  "refresh is no refresh by hand; removing every binding and registering the "
                  "others again is not removing only the desk phone's.");
  if (replay == NULL)
    {
      g_test_skip ("SIPLAB_SOURCE_DIR is not set (tests/meson.build sets it)");
      return;
    }
  g_assert_false (task_passes (replay, disguise, "wait 1s"));
  g_assert_false (task_passes (replay, disguise, "replay alice-desk from eve"));
  g_assert_false (task_passes (replay, disguise, "replay alice-desk from eve new-call-id"));
  g_assert_false (task_passes (replay, disguise, "replay alice-desk from eve bump-cseq"));
  g_assert_true (task_passes (replay, disguise,
                              "replay alice-desk from eve new-call-id bump-cseq"));

  g_assert_false (task_passes (refresh, by_hand, "wait 1s"));
  g_assert_false (task_passes (refresh, by_hand, "wait 2m"));
  g_assert_false (task_passes (refresh, by_hand, "wait 5m; register alice-desk"));
  g_assert_true (task_passes (refresh, by_hand, "register alice-desk"));

  g_assert_false (task_passes (dereg, only_desk, "wait 1s"));
  g_assert_false (task_passes (dereg, only_desk, "unregister bob-desk all; register bob-mobile"));
  g_assert_false (task_passes (dereg, only_desk, "unregister bob-mobile; unregister bob-desk; "
                                                 "register bob-mobile"));
  g_assert_true (task_passes (dereg, only_desk, "unregister bob-desk"));
}

static void
test_check_fails_a_task_done_by_doing_nothing (void)
{
  /* Alice is granted 1800 s, so her phone refreshes within the hour check waits; the solution
   * (a refresh by hand) makes the goal hold too, so only waiting tells the two apart. */
  g_autofree char *refresh_goal = NULL;
  g_autofree char *waits = NULL;
  g_autofree char *solved = replace_line (good_lesson, 39,
                                          "goal: bindings sip:bob@lab.example == 0");

  refresh_goal = replace_line (good_lesson, 39,
                               "goal: happened binding refreshed sip:alice@lab.example");
  waits = replace_line (refresh_goal, 40, "solution: register alice-desk");
  g_test_summary ("check plays every task with no command: a goal that the world makes true "
                  "by itself (a refresh), or that holds from the start, fails the lesson with "
                  "FILE:LINE: task \"...\" is done by doing nothing.");
  assert_check_fails_at (waits, "t.lesson:38: ", "task \"Bob too\" is done by doing nothing "
                         "(every goal holds after");
  {
    g_autoptr(SimLesson) lesson = parse (waits);
    g_auto(SimLessonReport) report = { 0 };

    /* That is the only thing wrong with it: the solution itself works. */
    g_assert_false (sim_lesson_check (lesson, &report));
    g_assert_cmpuint (report.failures->len, ==, 1);
  }
  assert_check_fails_at (solved, "t.lesson:38: ", "already holds when it is posed");
}

/* A lesson whose text gives answers away, each on a line of its own. */
static const char leaky_lesson[] =
  "# The challenge\n"                                                      /*  1 */
  "\n"                                                                    /*  2 */
  "Alice registers; she will be sent 401 Unauthorized first.\n"           /*  3 */
  "\n"                                                                    /*  4 */
  "```scene\n"                                                            /*  5 */
  "seed 3\n"                                                              /*  6 */
  "server registrar 10.0.0.1 domain lab.example\n"                        /*  7 */
  "link default latency 20ms jitter 0ms loss 0%\n"                        /*  8 */
  "user alice password secret123\n"                                       /*  9 */
  "phone alice-desk user alice ip 10.0.0.11 expires 3600\n"               /* 10 */
  "phone alice-soft user alice ip 10.0.0.12 expires 3600\n"               /* 11 */
  "at 0s register alice-desk\n"                                           /* 12 */
  "run 60s\n"                                                             /* 13 */
  "```\n"                                                                 /* 14 */
  "\n"                                                                    /* 15 */
  "## Step: The REGISTER\n"                                               /* 16 */
  "It goes out from 10.0.0.11; the list:\n"                              /* 17 */
  "1. a REGISTER\n"                                                       /* 18 */
  "2. its answer\n"                                                       /* 19 */
  "run: until REGISTER arrives at registrar\n"                            /* 20 */
  "\n"                                                                    /* 21 */
  "## Predict: The answer\n"                                              /* 22 */
  "predict: status of response arrives at alice-desk\n"                   /* 23 */
  "answer: 401\n"                                                         /* 24 */
  "explain: The next REGISTER will have CSeq 2.\n"                        /* 25 */
  "\n"                                                                    /* 26 */
  "## Predict: The CSeq\n"                                                /* 27 */
  "predict: cseq of REGISTER with Authorization leaves alice-desk\n"      /* 28 */
  "answer: 2\n"                                                           /* 29 */
  "\n"                                                                    /* 30 */
  "## Choice: Is the softphone challenged too?\n"                          /* 31 */
  "option a: Only devices that already have a binding\n"                  /* 32 */
  "option b: Every REGISTER without credentials is challenged\n"          /* 33 */
  "answer: b\n"                                                           /* 34 */
  "\n"                                                                    /* 35 */
  "## Predict: The softphone's first answer\n"                            /* 36 */
  "After the 401 Alice's desk phone got, the softphone registers.\n"      /* 37 */
  "do: register alice-soft\n"                                             /* 38 */
  "predict: status of response arrives at alice-soft\n"                   /* 39 */
  "answer: 401\n";                                                        /* 40 */

static void
test_check_fails_an_answer_shown_before_its_question (void)
{
  g_autoptr(SimLesson) lesson = parse (leaky_lesson);
  g_auto(SimLessonReport) report = { 0 };
  const char *expected[] = {
    /* The introduction says what the first prediction asks. */
    "t.lesson:3: the introduction gives away the answer to \"The answer\" (line 22)",
    /* The explanation of one question gives the next one away. */
    "t.lesson:25: the explanation of \"The answer\" gives away the answer to \"The CSeq\" "
    "(line 27)",
    /* ... and the next question too: no 401 had been shown by then. */
    "t.lesson:3: the introduction gives away the answer to \"The softphone's first answer\"",
    /* The right answer of one question says the next one's ("challenged" is a 401). */
    "t.lesson:33: the right answer of \"Is the softphone challenged too?\" gives away the "
    "answer to \"The softphone's first answer\" (line 36)",
  };

  g_test_summary ("check refuses a lesson that shows a question's answer before the question: "
                  "in the introduction, in an explanation, in an earlier answer; with the line "
                  "to fix.  An IP address, a Markdown list's '2.' and a question's own text do "
                  "not count, nor text that narrates a 401 the ladder has already shown, as "
                  "long as it comes before the previous question's answer.");
  g_assert_false (sim_lesson_check (lesson, &report));
  for (guint i = 0; i < report.failures->len; i++)
    g_test_message ("%s", (char *) report.failures->pdata[i]);
  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    {
      gboolean found = FALSE;

      for (guint k = 0; k < report.failures->len; k++)
        found |= g_str_has_prefix (report.failures->pdata[k], expected[i]);
      g_assert_true (found);
    }
  /* Line 17's 10.0.0.11 and line 19's "2." are not the CSeq 2; line 37 is the question's own. */
  g_assert_cmpuint (report.failures->len, ==, G_N_ELEMENTS (expected));
}

static void
test_ladder_holds_back_what_gives_a_prediction_away (void)
{
  g_autoptr(SimLesson) lesson = parse_shipped ("08-deregistration.lesson");
  g_autoptr(SimLessonRunner) runner = NULL;
  g_autoptr(GPtrArray) before = NULL;
  g_autoptr(GPtrArray) after = NULL;
  guint position;
  gboolean saw_line = FALSE, saw_register = FALSE;

  g_test_summary ("Lesson 08 asks what Expires the softphone's unregister carries right after "
                  "its 'do: unregister bob-soft': the ladder line 'bob-soft unregisters "
                  "(Expires: 0)' and the REGISTER itself wait until the question is answered, "
                  "for the CLI and the GUI alike (both show what the runner hands over).");
  if (lesson == NULL)
    {
      g_test_skip ("SIPLAB_SOURCE_DIR is not set (tests/meson.build sets it)");
      return;
    }
  position = find_item (lesson, "What Expires does the softphone's unregister carry?");
  runner = play_to (lesson, position - 1);
  sim_lesson_runner_next (runner);
  g_assert_true (sim_lesson_runner_enter (runner, NULL));
  before = sim_lesson_runner_take_new_events (runner);
  for (guint i = 0; i < before->len; i++)
    {
      SimEvent *e = before->pdata[i];

      g_assert_false (e->text != NULL && strstr (e->text, "Expires: 0") != NULL);
      g_assert_false (e->type == SIM_EVENT_PACKET && g_strcmp0 (e->from, "bob-soft") == 0);
    }
  g_assert_cmpint (sim_lesson_runner_answer (runner, "3600", NULL, NULL), ==,
                   SIM_LESSON_ANSWER_INCORRECT);
  after = sim_lesson_runner_take_new_events (runner);
  for (guint i = 0; i < after->len; i++)
    {
      SimEvent *e = after->pdata[i];

      saw_line |= e->text != NULL && strstr (e->text, "Expires: 0") != NULL;
      saw_register |= e->type == SIM_EVENT_PACKET && g_strcmp0 (e->from, "bob-soft") == 0;
    }
  g_assert_true (saw_line);
  g_assert_true (saw_register);
}

static void
test_choices_are_shuffled_per_student (void)
{
  g_autoptr(GHashTable) orders = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  const char *four = "option c: maybe\noption d: later\nanswer: a";

  g_test_summary ("Each seed (each student, once --student sets it) sees a choice's options "
                  "in an order of its own; the key's letter follows the shuffle, the runner "
                  "takes the letter shown, and check keeps passing because it answers by key.");
  for (guint seed = 1; seed <= 12; seed++)
    {
      g_autofree char *seed_line = g_strdup_printf ("seed %u", seed);
      g_autofree char *reseeded = replace_line (good_lesson, 7, seed_line);
      g_autofree char *text = replace_line (reseeded, 35, four);
      g_autoptr(SimLesson) lesson = parse (text);
      g_autoptr(SimLessonRunner) runner = play_to (lesson, 3);
      g_autoptr(GPtrArray) options = sim_lesson_runner_get_options (runner);
      g_autofree char *letter = sim_lesson_runner_get_option_letter (runner, "a");
      g_autoptr(GString) order = g_string_new (NULL);
      g_auto(SimLessonReport) report = { 0 };

      g_assert_cmpuint (options->len, ==, 4);
      for (guint i = 0; i < options->len; i++)
        g_string_append (order, ((SimLessonOption *) options->pdata[i])->key);
      g_hash_table_add (orders, g_strdup (order->str));
      /* The key's letter is where option a was shown. */
      g_assert_cmpint (strchr (order->str, 'a') - order->str, ==, letter[0] - 'a');
      g_assert_cmpint (sim_lesson_runner_answer (runner, "z", NULL, NULL), ==,
                       SIM_LESSON_ANSWER_INVALID);
      g_assert_cmpint (sim_lesson_runner_answer (runner, letter, NULL, NULL), ==,
                       SIM_LESSON_ANSWER_CORRECT);
      g_assert_true (sim_lesson_check (lesson, &report));
    }
  g_assert_cmpuint (g_hash_table_size (orders), >=, 4);
}

static void
test_only_and_value_claims (void)
{
  g_autofree char *only_in_expect = replace_line (good_lesson, 36,
    "expect: only binding sip:alice@lab.example sip:alice@10.0.0.11:5060 present");
  g_autofree char *only_count = replace_line (good_lesson, 39,
                                              "goal: only bindings sip:bob@lab.example == 1");
  g_autofree char *bad_value = replace_line (good_lesson, 39,
                                             "goal: value cseq of REGISTER leaves bob-desk");
  g_autofree char *only_goal = replace_line (good_lesson, 39,
    "goal: only binding sip:bob@lab.example sip:bob@10.0.0.21:5060 present");
  g_autofree char *value_goal = replace_line (good_lesson, 39,
    "goal: value expires of 200 arrives at bob-desk == 1800");
  g_autoptr(SimLesson) only = parse (only_goal);
  g_autoptr(SimLesson) value = parse (value_goal);
  g_auto(SimLessonReport) report = { 0 };

  g_test_summary ("'only binding ...' holds when no other binding was added, removed or "
                  "expired since the task began; 'value FIELD of PACKET OP ...' compares a "
                  "packet's field.  Both parse once, with FILE:LINE errors.");
  assert_parse_error (only_in_expect, "t.lesson:36: ", "'only' is for a task's goals");
  assert_parse_error (only_count, "t.lesson:39: ", "'only' goes before a binding claim");
  assert_parse_error (bad_value, "t.lesson:39: ", "expected 'value FIELD of PACKET OP VALUE'");

  g_assert_true (sim_lesson_check (only, &report));
  g_assert_true (task_passes (only, "Bob too", "register bob-desk"));
  /* Alice's binding removed and made again is not "untouched". */
  g_assert_false (task_passes (only, "Bob too", "unregister alice-desk; register alice-desk; "
                                                "register bob-desk"));
  /* A refresh of Alice's binding keeps it: that is allowed. */
  g_assert_true (task_passes (only, "Bob too", "register alice-desk; register bob-desk"));

  g_assert_true (sim_lesson_check (value, &report));
  g_assert_true (task_passes (value, "Bob too", "register bob-desk"));
  g_assert_false (task_passes (value, "Bob too", "register bob-desk expires 900"));
}

/* Two devices of one AOR: the softphone's 200 OK lists the desk phone's Contact first. */
static const char own_contact_lesson[] =
  "# Two devices\n"
  "\n"
  "Bob has two.\n"
  "\n"
  "```scene\n"
  "seed 5\n"
  "server registrar 10.0.0.1 domain lab.example\n"
  "policy min-expires 60 default-expires 600 max-expires 1800\n"
  "link default latency 20ms jitter 0ms loss 0%\n"
  "user bob password bob-secret\n"
  "phone bob-desk user bob ip 10.0.0.21 expires 3600\n"
  "phone bob-soft user bob ip 10.0.0.22 expires 600\n"
  "at 0s register bob-desk\n"
  "run 60s\n"
  "```\n"
  "\n"
  "## Step: The desk phone\n"
  "run: until registration registered bob-desk\n"
  "\n"
  "## Predict: The softphone's grant\n"
  "do: register bob-soft\n"
  "predict: expires of 200 arrives at bob-soft\n"
  "answer: 600\n";

static void
test_expires_of_a_200_is_the_phones_own (void)
{
  g_autoptr(SimLesson) lesson = parse (own_contact_lesson);
  g_auto(SimLessonReport) report = { 0 };

  g_test_summary ("Issue 11: 'predict: expires of 200 arrives at bob-soft' is the expires= of "
                  "bob-soft's own Contact, though the 200 OK lists the desk phone's first.");
  if (!sim_lesson_check (lesson, &report))
    for (guint i = 0; i < report.failures->len; i++)
      g_test_message ("%s", (char *) report.failures->pdata[i]);
  g_assert_cmpuint (report.failures->len, ==, 0);
}

static void
test_check_warns_about_key_patterns (void)
{
  g_autofree char *text = g_strconcat (good_lesson,
                                       "\n## Choice: One\n"
                                       "option a: no\n"
                                       "option b: yes, it is bound\n"
                                       "answer: b\n"
                                       "\n## Choice: Two\n"
                                       "option a: no\n"
                                       "option b: yes, still bound\n"
                                       "answer: b\n", NULL);
  g_autoptr(SimLesson) lesson = parse (text);
  g_auto(SimLessonReport) report = { 0 };
  g_autoptr(SimLesson) good = parse (good_lesson);
  g_auto(SimLessonReport) good_report = { 0 };

  g_test_summary ("A lesson whose choice keys are mostly the longest option, or mostly one "
                  "letter, gets a warning (the check still passes); a balanced one does not.");
  g_assert_true (sim_lesson_check (lesson, &report));
  for (guint i = 0; i < report.warnings->len; i++)
    g_test_message ("%s", (char *) report.warnings->pdata[i]);
  g_assert_cmpuint (report.warnings->len, ==, 2);
  g_assert_nonnull (strstr (report.warnings->pdata[0], "t.lesson:32: warning: the key is the "
                                                       "longest option in 3 of 3"));
  g_assert_nonnull (strstr (report.warnings->pdata[1], "the key is 'b' in 2 of 3"));
  g_assert_true (sim_lesson_check (good, &good_report));
  g_assert_cmpuint (good_report.warnings->len, ==, 0);
}

/* ------------------------------------------------------------------------------------------ */
/* siplab-cli lesson / check / lessons, when the test knows where the program is             */

static int
run_cli (const char * const *args,
         const char         *xdg,
         char              **out,
         char              **err)
{
  const char *cli = g_getenv ("SIPLAB_CLI");
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_auto(GStrv) envp = g_get_environ ();
  g_autoptr(GError) error = NULL;
  int status = -1;

  g_ptr_array_add (argv, (char *) cli);
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (char *) args[i]);
  g_ptr_array_add (argv, NULL);
  envp = g_environ_setenv (envp, "XDG_DATA_HOME", xdg, TRUE);
  g_assert_true (g_spawn_sync (NULL, (char **) argv->pdata, envp, G_SPAWN_DEFAULT, NULL, NULL, out, err,
                               &status, &error));
  g_assert_no_error (error);
  return WIFEXITED (status) ? WEXITSTATUS (status) : -1;
}

static void
test_cli (void)
{
  const char *src = g_getenv ("SIPLAB_SOURCE_DIR");
  g_autofree char *tmp = NULL;
  g_autofree char *good = NULL;
  g_autofree char *bad = NULL;
  g_autofree char *bad_text = replace_line (good_lesson, 25, "answer: 200");
  g_autofree char *summary = NULL;
  g_autofree char *progress = NULL;
  g_autofree char *text = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GKeyFile) kf = g_key_file_new ();

  if (g_getenv ("SIPLAB_CLI") == NULL || src == NULL)
    {
      g_test_skip ("SIPLAB_CLI or SIPLAB_SOURCE_DIR is not set");
      return;
    }
  tmp = g_dir_make_tmp ("test-lesson-XXXXXX", &error);
  g_assert_no_error (error);
  good = g_build_filename (tmp, "good.lesson", NULL);
  bad = g_build_filename (tmp, "bad.lesson", NULL);
  summary = g_build_filename (tmp, "hand-in.txt", NULL);
  g_assert_true (g_file_set_contents (good, good_lesson, -1, NULL));
  g_assert_true (g_file_set_contents (bad, bad_text, -1, NULL));

  {
    g_autofree char *out = NULL, *err = NULL;
    const char *args[] = { "check", good, bad, NULL };

    g_assert_cmpint (run_cli (args, tmp, &out, &err), ==, 1);
    g_assert_nonnull (strstr (out, "good.lesson: 1 step, 3 questions, 1 task ok"));
    g_assert_nonnull (strstr (out, "bad.lesson: FAILED"));
    g_assert_nonnull (strstr (err, "bad.lesson:25: "));
  }
  {
    g_autofree char *out = NULL, *err = NULL;
    const char *args[] = { "lesson", good, "--student", "Test Student", "--answers",
                           "401,1800,b,register bob-desk", "--summary", summary, NULL };

    g_assert_cmpint (run_cli (args, tmp, &out, &err), ==, 0);
    g_assert_nonnull (strstr (out, "REGISTER (CSeq 1)"));
    /* --answers gives the letters shown: this seed shows "no" (key b) as b. */
    g_assert_nonnull (strstr (out, "  b) no\n"));
    g_assert_nonnull (strstr (out, "Lesson complete: 2 of 3 questions right, 1 task done"));
    /* The hand-in names the --student, not the Unix user, and records each answer. */
    g_assert_true (g_file_get_contents (summary, &text, NULL, NULL));
    g_assert_nonnull (strstr (text, "\nstudent=Test Student\n"));
    g_assert_nonnull (strstr (text, "\nquestions=3\ncorrect=2\n"));
    g_assert_nonnull (strstr (text, "result=incorrect\nattempts=1\nhints=0\nanswer=b\n"));
    progress = g_build_filename (tmp, "siplab", "progress.ini", NULL);
    g_assert_true (g_key_file_load_from_file (kf, progress, G_KEY_FILE_NONE, &error));
    g_assert_no_error (error);
    g_assert_true (g_key_file_get_boolean (kf, "good", "completed", NULL));
    g_assert_cmpint (g_key_file_get_integer (kf, "good", "best-correct", NULL), ==, 2);
  }
  {
    /* Too few answers: the run stops and says so with its exit status. */
    g_autofree char *out = NULL, *err = NULL;
    const char *args[] = { "lesson", good, "--no-progress", "--answers", "401", NULL };

    g_assert_cmpint (run_cli (args, tmp, &out, &err), ==, 1);
  }
  {
    g_autofree char *out = NULL, *err = NULL;
    g_autofree char *lessons = g_build_filename (src, "lessons", NULL);
    const char *args[] = { "lessons", NULL };

    g_setenv ("SIPLAB_LESSONS_DIR", lessons, TRUE);
    g_assert_cmpint (run_cli (args, tmp, &out, &err), ==, 0);
    g_unsetenv ("SIPLAB_LESSONS_DIR");
    g_assert_nonnull (strstr (out, "01-point-to-point"));
    g_assert_nonnull (strstr (out, "10-when-things-go-wrong"));
  }

  g_unlink (summary);
  g_unlink (progress);
  {
    g_autofree char *d = g_build_filename (tmp, "siplab", NULL);
    g_rmdir (d);
  }
  g_unlink (good);
  g_unlink (bad);
  g_rmdir (tmp);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/sim/lesson/parse/a-good-lesson", test_parse_good);
  g_test_add_func ("/sim/lesson/parse/errors-name-file-and-line", test_parse_errors_name_file_and_line);
  g_test_add_func ("/sim/lesson/parse/highlights-are-typed", test_highlights_are_typed);
  g_test_add_func ("/sim/lesson/parse/predictions-are-typed-with-a-hint",
                   test_predictions_are_typed_with_a_hint);
  g_test_add_func ("/sim/lesson/runner/a-view-finds-the-predicted-packet",
                   test_a_view_finds_the_predicted_packet);
  g_test_add_func ("/sim/lesson/check/a-good-lesson-passes", test_check_passes);
  g_test_add_func ("/sim/lesson/check/policy-proxy-auth", test_policy_proxy_auth);
  g_test_add_func ("/sim/lesson/check/is-not-a-rubber-stamp", test_check_is_not_a_rubber_stamp);
  g_test_add_func ("/sim/lesson/claims/evaluate-against-the-world", test_claims);
  g_test_add_func ("/sim/lesson/runner/plays-questions-and-tasks", test_runner_plays_questions_and_tasks);
  g_test_add_func ("/sim/lesson/runner/give-up-replays-the-solution", test_give_up_replays_the_solution);
  g_test_add_func ("/sim/lesson/runner/diverged-student-continues-from-the-model",
                   test_diverged_student_continues_from_the_model);
  g_test_add_func ("/sim/lesson/shipped-lessons-pass-check", test_shipped_lessons_pass_check);
  g_test_add_func ("/sim/lesson/cli/check-lesson-lessons", test_cli);
  g_test_add_func ("/sim/lesson/check/shipped-tasks-grade-what-they-ask",
                   test_shipped_tasks_grade_what_they_ask);
  g_test_add_func ("/sim/lesson/check/fails-a-task-done-by-doing-nothing",
                   test_check_fails_a_task_done_by_doing_nothing);
  g_test_add_func ("/sim/lesson/check/fails-an-answer-shown-before-its-question",
                   test_check_fails_an_answer_shown_before_its_question);
  g_test_add_func ("/sim/lesson/runner/ladder-holds-back-what-gives-a-prediction-away",
                   test_ladder_holds_back_what_gives_a_prediction_away);
  g_test_add_func ("/sim/lesson/runner/choices-are-shuffled-per-student",
                   test_choices_are_shuffled_per_student);
  g_test_add_func ("/sim/lesson/claims/only-and-value", test_only_and_value_claims);
  g_test_add_func ("/sim/lesson/prediction/expires-of-a-200-is-the-phones-own",
                   test_expires_of_a_200_is_the_phones_own);
  g_test_add_func ("/sim/lesson/check/warns-about-key-patterns",
                   test_check_warns_about_key_patterns);
  return g_test_run ();
}
