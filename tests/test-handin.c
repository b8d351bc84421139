/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>

#include "sim-lesson-handin.h"
#include "sim-lesson-progress.h"
#include "sim-lesson-student.h"

/*
 * Per-student exercises and hand-ins: the seed a name gives, the "vary:" values and nonces that
 * differ between two students whose exercises both check, a key that holds for some seeds only
 * being rejected, the record of attempts, hints (a nudge first, the solution last) and skips,
 * resuming where progress stopped, and hand-ins whose signature catches an edit or a wrong key.
 */

static char *
fixture_path (const char *name)
{
  return g_test_build_filename (G_TEST_DIST, "lessons", name, NULL);
}

static SimLesson *
load_for (const char *name,
          const char *student)
{
  g_autofree char *path = fixture_path (name);
  g_autoptr(GError) error = NULL;
  SimLesson *lesson = sim_lesson_parse_file_for_student (path, student, &error);

  g_assert_no_error (error);
  g_assert_nonnull (lesson);
  return lesson;
}

/* ------------------------------------------------------------------------------------------ */
/* Seeds                                                                                      */

static void
test_seed_is_sha256_of_id_and_name (void)
{
  g_test_summary ("seed = the first four bytes, big-endian, of SHA-256 (id NUL normalized name); "
                  "the expected values were computed with Python's hashlib");
  g_assert_cmpuint (sim_lesson_student_seed ("04-digest-challenge", "Ada Lovelace"), ==, 1289880425u);
  g_assert_cmpuint (sim_lesson_student_seed ("per-student", "ada"), ==, 1311589767u);
  /* The same name in another lesson is another exercise. */
  g_assert_cmpuint (sim_lesson_student_seed ("per-student", "Ada Lovelace"), !=,
                    sim_lesson_student_seed ("04-digest-challenge", "Ada Lovelace"));
}

static void
test_names_are_normalized (void)
{
  const char *same[] = { "Ada Lovelace", "  ada   LOVELACE ", "ADA\tlovelace" };
  g_autofree char *composed = sim_lesson_student_normalize_name ("Ad\xc3\xa8le");      /* è */
  g_autofree char *decomposed = sim_lesson_student_normalize_name ("Ade\xcc\x80le");   /* e + ̀ */
  g_autofree char *long_name = g_strnfill (SIM_LESSON_STUDENT_NAME_MAX + 1, 'a');

  for (guint i = 0; i < G_N_ELEMENTS (same); i++)
    g_assert_cmpuint (sim_lesson_student_seed ("x", same[i]), ==, sim_lesson_student_seed ("x", same[0]));
  g_assert_cmpstr (composed, ==, decomposed);
  g_assert_cmpuint (sim_lesson_student_seed ("x", ""), ==, 0);
  g_assert_cmpuint (sim_lesson_student_seed ("x", "   "), ==, 0);
  g_assert_cmpuint (sim_lesson_student_seed ("x", "Eve\x1b[2J"), ==, 0);
  g_assert_cmpuint (sim_lesson_student_seed ("x", long_name), ==, 0);
  g_assert_cmpuint (sim_lesson_student_seed ("x", "\xff\xfe"), ==, 0);
}

/* ------------------------------------------------------------------------------------------ */
/* Two students                                                                               */

/* The nonce of the first 401 the phone gets in @lesson's world. */
static char *
first_nonce (SimLesson *lesson)
{
  g_autoptr(SimLessonRunner) runner = sim_lesson_runner_new (lesson, NULL);
  SimWorld *world = sim_lesson_runner_get_world (runner);
  SimTrace *trace = sim_world_get_trace (world);

  sim_world_run_until (world, SIM_SEC (1));
  for (guint i = 0; i < sim_trace_get_n_events (trace); i++)
    {
      SimEvent *e = sim_trace_get_event (trace, i);
      if (e->type == SIM_EVENT_NONCE && g_strcmp0 (e->action, "issued") == 0)
        return g_strdup (e->nonce);
    }
  return NULL;
}

static void
test_two_students_differ_and_both_check (void)
{
  g_autoptr(SimLesson) ada = load_for ("per-student.lesson", "Ada");
  g_autoptr(SimLesson) bob = load_for ("per-student.lesson", "Bob");
  g_autofree char *nonce_ada = first_nonce (ada);
  g_autofree char *nonce_bob = first_nonce (bob);
  const char *names[] = { "pw", "desk", "lifetime" };

  g_test_summary ("Two names give two exercises: other nonces, passwords, addresses and numbers; "
                  "each checks, every key holding for its student");
  g_assert_cmpuint (sim_lesson_get_seed (ada), !=, sim_lesson_get_seed (bob));
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_assert_nonnull (sim_lesson_get_value (ada, names[i]));
      g_assert_cmpstr (sim_lesson_get_value (ada, names[i]), !=, sim_lesson_get_value (bob, names[i]));
    }
  g_assert_nonnull (nonce_ada);
  g_assert_nonnull (nonce_bob);
  g_assert_cmpstr (nonce_ada, !=, nonce_bob);
  /* The text the student reads is theirs too. */
  g_assert_nonnull (strstr (sim_lesson_get_intro (ada), sim_lesson_get_value (ada, "pw")));
  g_assert_null (strstr (sim_lesson_get_intro (ada), sim_lesson_get_value (bob, "pw")));
  g_assert_true (sim_lesson_check (ada, NULL));
  g_assert_true (sim_lesson_check (bob, NULL));
  /* The same name again is the same exercise. */
  {
    g_autoptr(SimLesson) again = load_for ("per-student.lesson", " ada ");
    g_autofree char *nonce_again = first_nonce (again);
    g_assert_cmpstr (nonce_again, ==, nonce_ada);
    g_assert_cmpstr (sim_lesson_get_value (again, "pw"), ==, sim_lesson_get_value (ada, "pw"));
  }
}

static void
test_key_for_some_seeds_is_rejected (void)
{
  g_autofree char *path = fixture_path ("seed-dependent-key.lesson");
  g_autoptr(GError) error = NULL;
  g_autoptr(SimLesson) as_written = sim_lesson_parse_file (path, &error);
  g_auto(SimLessonReport) report = { 0 };
  g_auto(SimLessonReport) good = { 0 };
  g_autofree char *good_path = fixture_path ("per-student.lesson");

  g_test_summary ("A key right for the lesson as written but not for every student fails "
                  "check over seeds, naming a seed to reproduce it with");
  g_assert_no_error (error);
  g_assert_true (sim_lesson_check (as_written, NULL));
  g_assert_false (sim_lesson_check_seeds (path, SIM_LESSON_CHECK_DEFAULT_SEEDS, &report));
  g_assert_cmpuint (report.failures->len, >=, 1);
  g_assert_nonnull (strstr (report.failures->pdata[0], "answer key '1200' is wrong"));
  g_assert_nonnull (strstr (report.failures->pdata[0], "--seed "));
  g_assert_true (sim_lesson_check_seeds (good_path, SIM_LESSON_CHECK_DEFAULT_SEEDS, &good));
  g_assert_cmpuint (good.failures->len, ==, 0);
  g_assert_cmpuint (good.n_questions, ==, 3);
}

static void
test_vary_errors_name_their_line (void)
{
  static const struct {
    const char *lines;
    const char *error;
  } cases[] = {
    { "vary: pw password\nuses {{pv}}\n", "t.lesson:2: unknown placeholder {{pv}}" },
    { "vary: pw passwort\n", "t.lesson:1: unknown 'vary:' kind" },
    { "vary: pw password\nvary: pw password\n", "t.lesson:2: 'pw' is already" },
    { "vary: n number 9..1\n", "t.lesson:1: 'number' takes a range" },
    { "vary: ip address 10.0.0.11..10.0.0.11\nphone at 10.0.0.11\n", "t.lesson:1: the range" },
    { "vary: Bad password\n", "t.lesson:1: 'vary: NAME KIND" },
    { "vary: pw password {{x}}\n", "t.lesson:1: a 'vary:' line cannot use a placeholder" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *text = g_strdup_printf ("%s# T\n```scene\nhost h 10.0.0.5\n```\n## Step: s\n",
                                               cases[i].lines);
      g_autoptr(GError) error = NULL;
      g_autoptr(SimLesson) lesson = sim_lesson_parse_data (text, -1, "t.lesson", NULL, &error);

      g_assert_null (lesson);
      g_assert_nonnull (error);
      if (strstr (error->message, cases[i].error) == NULL)
        g_error ("case %u: '%s' does not contain '%s'", i, error->message, cases[i].error);
    }
}

static void
test_response_key_is_computed (void)
{
  g_autofree char *path = fixture_path ("per-student.lesson");
  g_autofree char *text = NULL;
  g_autofree char *wrong = NULL;
  g_autoptr(SimLesson) lesson = NULL;
  g_auto(SimLessonReport) report = { 0 };

  g_test_summary ("'answer: digest PASSWORD' is computed from the packet with GChecksum, not "
                  "taken from the simulator: a wrong password in the key fails the check");
  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  g_assert_nonnull (strstr (text, "answer: digest {{pw}}"));
  wrong = g_strdup_printf ("%.*sanswer: digest not-the-password%s",
                           (int) (strstr (text, "answer: digest {{pw}}") - text), text,
                           strstr (text, "answer: digest {{pw}}") + strlen ("answer: digest {{pw}}"));
  lesson = sim_lesson_parse_data (wrong, -1, "per-student.lesson", NULL, NULL);
  g_assert_nonnull (lesson);
  g_assert_false (sim_lesson_check (lesson, &report));
  g_assert_cmpuint (report.failures->len, ==, 1);
  g_assert_nonnull (strstr (report.failures->pdata[0], "digest not-the-password"));
}

/* ------------------------------------------------------------------------------------------ */
/* What the student did                                                                       */

/* Enters items up to @index (the keys answer the questions before it). */
static SimLessonRunner *
runner_at (SimLesson *lesson,
           guint      index)
{
  g_autoptr(SimLessonRunner) runner = sim_lesson_runner_new (lesson, NULL);
  g_autoptr(GError) error = NULL;

  g_assert_nonnull (runner);
  g_assert_true (sim_lesson_runner_resume (runner, index, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (sim_lesson_runner_enter (runner, &error));
  g_assert_no_error (error);
  return g_steal_pointer (&runner);
}

static void
test_hints_escalate_to_the_solution (void)
{
  g_autoptr(SimLesson) lesson = load_for ("per-student.lesson", "Ada");
  g_autoptr(SimLessonRunner) runner = runner_at (lesson, 4);
  guint level = 0, n_levels = 0;
  g_autofree char *first = sim_lesson_runner_take_hint (runner, &level, &n_levels);
  g_autofree char *second = NULL;
  g_autofree char *last = NULL;
  g_autofree char *none = NULL;

  g_test_summary ("Hints come a nudge first and the solution last; each counts in the record");
  g_assert_cmpuint (sim_lesson_runner_get_item (runner)->kind, ==, SIM_LESSON_TASK);
  g_assert_cmpstr (first, ==, "A REGISTER can also remove a binding.");
  g_assert_cmpuint (level, ==, 1);
  g_assert_cmpuint (n_levels, ==, 3);
  second = sim_lesson_runner_take_hint (runner, &level, NULL);
  g_assert_nonnull (strstr (second, "Expires: 0"));
  last = sim_lesson_runner_take_hint (runner, &level, NULL);
  g_assert_cmpstr (last, ==, "The solution: unregister alice-desk");
  g_assert_cmpuint (level, ==, 3);
  none = sim_lesson_runner_take_hint (runner, NULL, NULL);
  g_assert_null (none);
  g_assert_cmpuint (sim_lesson_runner_get_attempt (runner, 4)->hints, ==, 3);
  g_assert_cmpuint (sim_lesson_runner_get_n_hints (runner), ==, 3);
}

static void
test_attempts_and_skips_are_recorded (void)
{
  g_autoptr(SimLesson) lesson = load_for ("per-student.lesson", "Ada");
  g_autoptr(SimLessonRunner) runner = sim_lesson_runner_new (lesson, NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *explanation = NULL;
  const SimLessonAttempt *a;

  g_assert_true (sim_lesson_runner_enter (runner, &error));
  /* Not a number: an attempt, but no answer. */
  g_assert_cmpint (sim_lesson_runner_answer (runner, "ok", NULL, &error), ==, SIM_LESSON_ANSWER_INVALID);
  g_assert_cmpint (sim_lesson_runner_answer (runner, "1", NULL, &error), ==, SIM_LESSON_ANSWER_INCORRECT);
  a = sim_lesson_runner_get_attempt (runner, 0);
  g_assert_cmpint (a->result, ==, SIM_LESSON_RESULT_INCORRECT);
  g_assert_cmpuint (a->attempts, ==, 2);
  g_assert_cmpstr (a->answer, ==, "1");
  sim_lesson_runner_next (runner);

  /* The response question, skipped: the key is played and named, and it never counts as right. */
  g_assert_true (sim_lesson_runner_enter (runner, &error));
  g_assert_true (sim_lesson_runner_skip_question (runner, &explanation, &error));
  g_assert_no_error (error);
  g_assert_nonnull (strstr (explanation, "The answer is the response the password "));
  a = sim_lesson_runner_get_attempt (runner, 1);
  g_assert_cmpint (a->result, ==, SIM_LESSON_RESULT_SKIPPED);
  g_assert_cmpuint (sim_lesson_runner_get_n_correct (runner), ==, 0);
  g_assert_cmpuint (sim_lesson_runner_get_n_answered (runner), ==, 2);
  sim_lesson_runner_next (runner);

  g_assert_true (sim_lesson_runner_enter (runner, &error));
  g_assert_cmpint (sim_lesson_runner_get_attempt (runner, 2)->result, ==, SIM_LESSON_RESULT_SEEN);
  sim_lesson_runner_next (runner);
  g_assert_true (sim_lesson_runner_enter (runner, &error));
  {
    /* The options are shuffled per student: the key is answered by the letter Ada sees. */
    const SimLessonItem *choice = sim_lesson_runner_get_item (runner);
    g_autofree char *letter = sim_lesson_runner_get_option_letter (runner, choice->answer->text);

    g_assert_cmpint (sim_lesson_runner_answer (runner, letter, NULL, &error), ==,
                     SIM_LESSON_ANSWER_CORRECT);
    /* The record keeps the key, the same for every student. */
    g_assert_cmpstr (sim_lesson_runner_get_attempt (runner, 3)->answer, ==, choice->answer->text);
  }
  sim_lesson_runner_next (runner);

  /* A task: every command counts, a refused one too; giving up is a skip. */
  g_assert_true (sim_lesson_runner_enter (runner, &error));
  g_assert_false (sim_lesson_runner_command (runner, "register nobody", NULL));
  g_assert_true (sim_lesson_runner_command (runner, "register alice-desk", &error));
  g_assert_false (sim_lesson_runner_goal_met (runner, NULL));
  g_assert_true (sim_lesson_runner_give_up (runner, &error));
  a = sim_lesson_runner_get_attempt (runner, 4);
  g_assert_cmpint (a->result, ==, SIM_LESSON_RESULT_SKIPPED);
  g_assert_cmpuint (a->attempts, ==, 2);
  g_assert_cmpstr (a->answer, ==, "register nobody; register alice-desk");
  g_assert_cmpuint (sim_lesson_runner_get_n_skipped (runner), ==, 2);
}

static void
test_resume_where_progress_stopped (void)
{
  g_autoptr(SimLesson) lesson = load_for ("per-student.lesson", "Ada");
  g_autoptr(SimLesson) other = load_for ("per-student.lesson", "Bob");
  g_autoptr(SimLessonRunner) first = sim_lesson_runner_new (lesson, NULL);
  g_autoptr(SimLessonRunner) second = sim_lesson_runner_new (lesson, NULL);
  g_autoptr(SimLessonRunner) bobs = sim_lesson_runner_new (other, NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("test-handin-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "progress.ini", NULL);

  g_test_summary ("A new session of the same exercise resumes at the item the last one stopped "
                  "at, with the record of the items before; another student's starts over");
  g_assert_true (sim_lesson_runner_enter (first, &error));
  g_assert_cmpint (sim_lesson_runner_answer (first, sim_lesson_get_value (lesson, "lifetime"), NULL,
                                             &error), ==, SIM_LESSON_ANSWER_CORRECT);
  sim_lesson_runner_next (first);
  g_assert_true (sim_lesson_runner_enter (first, &error));
  g_assert_cmpint (sim_lesson_runner_answer (first, "abc", NULL, &error), ==, SIM_LESSON_ANSWER_INCORRECT);
  sim_lesson_runner_next (first);
  g_assert_true (sim_lesson_runner_enter (first, &error));
  g_assert_true (sim_lesson_progress_record (path, first, &error));
  g_assert_no_error (error);

  g_assert_true (sim_lesson_progress_resume (path, second, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (sim_lesson_runner_get_position (second), ==, 2);
  g_assert_cmpuint (sim_lesson_runner_get_n_correct (second), ==, 1);
  g_assert_cmpuint (sim_lesson_runner_get_n_answered (second), ==, 2);
  g_assert_cmpstr (sim_lesson_runner_get_attempt (second, 1)->answer, ==, "abc");
  g_assert_cmpint (sim_lesson_runner_get_attempt (second, 1)->result, ==, SIM_LESSON_RESULT_INCORRECT);
  /* The resumed runner plays on from there. */
  g_assert_true (sim_lesson_runner_enter (second, &error));
  g_assert_cmpstr (sim_lesson_runner_get_item (second)->title, ==, "Registered from your own address");

  g_assert_false (sim_lesson_progress_resume (path, bobs, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (sim_lesson_runner_get_position (bobs), ==, 0);
  g_unlink (path);
  g_rmdir (dir);
}

/* ------------------------------------------------------------------------------------------ */
/* Hand-ins                                                                                   */

/* A finished session of Ada's: the questions answered, the task solved after one hint. */
static SimLessonRunner *
played (SimLesson *lesson)
{
  g_autoptr(SimLessonRunner) runner = sim_lesson_runner_new (lesson, NULL);
  const char *answers[] = { sim_lesson_get_value (lesson, "lifetime"), "0000", NULL, "b" };
  g_autoptr(GError) error = NULL;

  for (guint i = 0; !sim_lesson_runner_is_done (runner); i++, sim_lesson_runner_next (runner))
    {
      const SimLessonItem *item = sim_lesson_runner_get_item (runner);

      g_assert_true (sim_lesson_runner_enter (runner, &error));
      if (item->kind == SIM_LESSON_TASK)
        {
          g_free (sim_lesson_runner_take_hint (runner, NULL, NULL));
          g_assert_true (sim_lesson_runner_command (runner, "unregister alice-desk", &error));
          g_assert_true (sim_lesson_runner_goal_met (runner, NULL));
        }
      else if (item->kind != SIM_LESSON_STEP)
        g_assert_cmpint (sim_lesson_runner_answer (runner, answers[i], NULL, &error), !=,
                         SIM_LESSON_ANSWER_INVALID);
    }
  return g_steal_pointer (&runner);
}

static char *
signed_handin (SimClassKey *key)
{
  g_autoptr(SimLesson) lesson = load_for ("per-student.lesson", "Ada Lovelace");
  g_autoptr(SimLessonRunner) runner = played (lesson);
  g_autoptr(GDateTime) date = g_date_time_new_utc (2024, 5, 1, 10, 0, 0);

  return sim_lesson_handin_write (runner, "root", date, key);
}

static void
test_signed_handin_verifies (void)
{
  g_autoptr(SimClassKey) key = sim_class_key_new_random (NULL);
  g_autofree char *text = signed_handin (key);
  g_autoptr(GError) error = NULL;
  g_autoptr(SimLessonHandin) h = sim_lesson_handin_parse (text, strlen (text), key, &error);
  const SimLessonHandinItem *task;

  g_test_summary ("The hand-in names the --student name (not the Unix user), lists every item "
                  "with its result, attempts and hints, and verifies with the class key");
  g_assert_no_error (error);
  g_assert_cmpint (h->status, ==, SIM_LESSON_HANDIN_SIGNED);
  g_assert_cmpstr (h->student, ==, "Ada Lovelace");
  g_assert_cmpstr (h->user, ==, "root");
  g_assert_true (h->seed_matches);
  g_assert_cmpstr (h->lesson, ==, "per-student");
  g_assert_true (h->finished);
  g_assert_cmpuint (h->n_items, ==, 5);
  g_assert_cmpuint (h->n_correct, ==, 1);
  g_assert_cmpuint (h->n_tasks_done, ==, 1);
  g_assert_cmpuint (h->n_hints, ==, 1);
  g_assert_cmpuint (h->items->len, ==, 5);
  g_assert_cmpint (((SimLessonHandinItem *) h->items->pdata[1])->attempt.result, ==,
                   SIM_LESSON_RESULT_INCORRECT);
  g_assert_cmpstr (((SimLessonHandinItem *) h->items->pdata[1])->attempt.answer, ==, "0000");
  task = h->items->pdata[4];
  g_assert_cmpint (task->kind, ==, SIM_LESSON_TASK);
  g_assert_cmpint (task->attempt.result, ==, SIM_LESSON_RESULT_CORRECT);
  g_assert_cmpuint (task->attempt.hints, ==, 1);
  g_assert_cmpstr (task->attempt.answer, ==, "unregister alice-desk");
}

static void
test_edited_handin_is_flagged (void)
{
  g_autoptr(SimClassKey) key = sim_class_key_new_random (NULL);
  g_autoptr(SimClassKey) other = sim_class_key_new_random (NULL);
  g_autofree char *text = signed_handin (key);
  const char *edits[] = { "correct=1", "answer=0000", "student=Ada Lovelace" };
  const char *into[] = { "correct=4", "answer=0001", "student=Ada Lovelacf" };

  g_test_summary ("An edit anywhere above the signature, a removed signature, a key-id changed or "
                  "another class's key: every one is flagged; lines after the signature are not read");
  for (guint i = 0; i < G_N_ELEMENTS (edits); i++)
    {
      g_autofree char *edited = g_strdup (text);
      char *at = strstr (edited, edits[i]);
      g_autoptr(SimLessonHandin) h = NULL;

      g_assert_nonnull (at);
      memcpy (at, into[i], strlen (into[i]));
      h = sim_lesson_handin_parse (edited, strlen (edited), key, NULL);
      g_assert_nonnull (h);
      g_assert_cmpint (h->status, ==, SIM_LESSON_HANDIN_EDITED);
    }
  {
    g_autoptr(SimLessonHandin) h = sim_lesson_handin_parse (text, strlen (text), other, NULL);
    g_assert_cmpint (h->status, ==, SIM_LESSON_HANDIN_OTHER_KEY);
  }
  {
    gsize body = strstr (text, "[signature]\n") - text;
    g_autoptr(SimLessonHandin) h = sim_lesson_handin_parse (text, body, key, NULL);
    g_assert_cmpint (h->status, ==, SIM_LESSON_HANDIN_UNSIGNED);
  }
  {
    g_autofree char *appended = g_strconcat (text, "[item-2]\nresult=correct\n", NULL);
    g_autoptr(SimLessonHandin) h = sim_lesson_handin_parse (appended, strlen (appended), key, NULL);
    g_assert_cmpint (h->status, ==, SIM_LESSON_HANDIN_SIGNED);
    g_assert_cmpint (((SimLessonHandinItem *) h->items->pdata[1])->attempt.result, ==,
                     SIM_LESSON_RESULT_INCORRECT);
  }
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(SimLessonHandin) h = sim_lesson_handin_parse ("[x]\ny=1\n", 8, key, &error);
    g_assert_null (h);
    g_assert_error (error, SIM_LESSON_HANDIN_ERROR, SIM_LESSON_HANDIN_ERROR_FORMAT);
  }
}

static void
test_class_key_file (void)
{
  g_autofree char *dir = g_dir_make_tmp ("test-handin-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "class.key", NULL);
  g_autofree char *big = g_build_filename (dir, "big.handin", NULL);
  g_autoptr(SimClassKey) key = sim_class_key_new_random (NULL);
  g_autoptr(SimClassKey) loaded = NULL;
  g_autoptr(SimClassKey) second = sim_class_key_new_random (NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *padding = g_strnfill (SIM_LESSON_HANDIN_MAX_BYTES + 1, '#');
  g_autoptr(SimLessonHandin) h = NULL;
  GStatBuf st;

  g_test_summary ("The key file is made with mode 0600, reads back to the same key, is never "
                  "overwritten; a hand-in larger than the limit is refused unread");
  g_assert_true (sim_class_key_save (key, path, &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_stat (path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);
  loaded = sim_class_key_load (path, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (loaded->key, sizeof loaded->key, key->key, sizeof key->key);
  g_assert_cmpstr (loaded->id, ==, key->id);
  g_assert_false (sim_class_key_save (second, path, &error));
  g_assert_error (error, SIM_LESSON_HANDIN_ERROR, SIM_LESSON_HANDIN_ERROR_EXISTS);
  g_clear_error (&error);
  g_clear_pointer (&loaded, sim_class_key_free);
  loaded = sim_class_key_load (path, NULL);
  g_assert_cmpmem (loaded->key, sizeof loaded->key, key->key, sizeof key->key);

  g_assert_true (g_file_set_contents (big, padding, -1, NULL));
  h = sim_lesson_handin_load (big, key, &error);
  g_assert_null (h);
  g_assert_error (error, SIM_LESSON_HANDIN_ERROR, SIM_LESSON_HANDIN_ERROR_FORMAT);
  g_unlink (big);
  g_unlink (path);
  g_rmdir (dir);
}


static void
test_limits_are_enforced (void)
{
  g_autoptr(GString) text = g_string_new (NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(SimLesson) too_many = NULL;
  g_autoptr(SimLesson) lesson = load_for ("per-student.lesson", "Ada");
  g_autoptr(SimLessonRunner) runner = runner_at (lesson, 4);
  g_autoptr(GString) command = g_string_new ("register ");
  g_autoptr(SimLessonHandin) h = NULL;
  const char *handin = "[hand-in]\nformat=1\nlesson=x\nitems=5000\n";
  const SimLessonAttempt *a;

  g_test_summary ("SIM_LESSON_VARY_MAX vary: lines, SIM_LESSON_ATTEMPT_MAX_ANSWER bytes of a "
                  "recorded answer (cut as UTF-8), SIM_LESSON_HANDIN_MAX_ITEMS items read");
  for (guint i = 0; i <= SIM_LESSON_VARY_MAX; i++)
    g_string_append_printf (text, "vary: v%u password\n", i);
  g_string_append (text, "# T\n```scene\nhost h 10.0.0.5\n```\n## Step: s\n");
  too_many = sim_lesson_parse_data (text->str, -1, "t.lesson", NULL, &error);
  g_assert_null (too_many);
  g_assert_nonnull (strstr (error->message, "t.lesson:33: more than 32 'vary:' lines"));

  /* A task command of 3000 two-byte characters is refused by the world but recorded, cut. */
  for (guint i = 0; i < 3000; i++)
    g_string_append (command, "\xc3\xa9");
  g_assert_false (sim_lesson_runner_command (runner, command->str, NULL));
  a = sim_lesson_runner_get_attempt (runner, 4);
  g_assert_cmpuint (strlen (a->answer), <=, SIM_LESSON_ATTEMPT_MAX_ANSWER);
  g_assert_cmpuint (strlen (a->answer), >=, SIM_LESSON_ATTEMPT_MAX_ANSWER - 1);
  g_assert_true (g_utf8_validate (a->answer, -1, NULL));
  g_assert_cmpuint (a->attempts, ==, 1);

  h = sim_lesson_handin_parse (handin, strlen (handin), NULL, NULL);
  g_assert_nonnull (h);
  g_assert_cmpint (h->status, ==, SIM_LESSON_HANDIN_UNSIGNED);
  g_assert_cmpuint (h->n_items, ==, SIM_LESSON_HANDIN_MAX_ITEMS);
  g_assert_cmpuint (h->items->len, ==, SIM_LESSON_HANDIN_MAX_ITEMS);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/sim/student/seed-is-sha256-of-id-and-name", test_seed_is_sha256_of_id_and_name);
  g_test_add_func ("/sim/student/names-are-normalized", test_names_are_normalized);
  g_test_add_func ("/sim/student/two-students-differ-and-both-check",
                   test_two_students_differ_and_both_check);
  g_test_add_func ("/sim/student/key-for-some-seeds-is-rejected", test_key_for_some_seeds_is_rejected);
  g_test_add_func ("/sim/student/vary-errors-name-their-line", test_vary_errors_name_their_line);
  g_test_add_func ("/sim/student/response-key-is-computed", test_response_key_is_computed);
  g_test_add_func ("/sim/student/hints-escalate-to-the-solution", test_hints_escalate_to_the_solution);
  g_test_add_func ("/sim/student/attempts-and-skips-are-recorded", test_attempts_and_skips_are_recorded);
  g_test_add_func ("/sim/student/resume-where-progress-stopped", test_resume_where_progress_stopped);
  g_test_add_func ("/sim/handin/signed-hand-in-verifies", test_signed_handin_verifies);
  g_test_add_func ("/sim/handin/edited-hand-in-is-flagged", test_edited_handin_is_flagged);
  g_test_add_func ("/sim/handin/class-key-file", test_class_key_file);
  g_test_add_func ("/sim/handin/limits-are-enforced", test_limits_are_enforced);
  return g_test_run ();
}
