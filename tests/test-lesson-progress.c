/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <glib/gstdio.h>
#include <string.h>

#include "sim-lesson-progress.h"

/*
 * The lesson progress file both front ends keep: a record survives a save and a load, the
 * furthest point and the best score are never lost to a worse replay, a damaged file is a
 * clear error (and does not stop a student from going on), and a file written by an earlier
 * version, with a teacher's comment and keys this version does not know, still loads and keeps
 * them.
 */

/* Two questions and a task, so the scores and the "reached" index have something to count. */
static const char lesson_text[] =
  "# Register and get challenged\n"
  "\n"
  "```scene\n"
  "title t\n"
  "seed 3\n"
  "server registrar 10.0.0.1 domain lab.example\n"
  "link default latency 20ms jitter 0ms loss 0%\n"
  "user alice password secret123\n"
  "user bob password bob-secret\n"
  "phone alice-desk user alice ip 10.0.0.11\n"
  "phone bob-desk user bob ip 10.0.0.21\n"
  "at 0s register alice-desk\n"
  "run 60s\n"
  "```\n"
  "\n"
  "## Predict: The answer\n"
  "predict: status of response arrives at alice-desk\n"
  "answer: 401\n"
  "\n"
  "## Choice: Bound?\n"
  "option a: yes\n"
  "option b: no\n"
  "answer: a\n"
  "\n"
  "## Task: Bob too\n"
  "goal: bindings sip:bob@lab.example == 1\n"
  "solution: register bob-desk\n";

typedef struct {
  char *dir;
  char *path;                /* DIR/siplab/progress.ini: its folder does not exist yet */
  SimLesson *lesson;
} Fixture;

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  f->dir = g_dir_make_tmp ("test-lesson-progress-XXXXXX", &error);
  g_assert_no_error (error);
  f->path = g_build_filename (f->dir, "siplab", "progress.ini", NULL);
  f->lesson = sim_lesson_parse_data (lesson_text, -1, "lessons/01-test.lesson", NULL, &error);
  g_assert_no_error (error);
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  g_autofree char *sub = g_path_get_dirname (f->path);

  g_unlink (f->path);
  g_rmdir (sub);
  g_rmdir (f->dir);
  g_clear_object (&f->lesson);
  g_free (f->path);
  g_free (f->dir);
}

static void
write_file (const char *path,
            const char *text)
{
  g_autofree char *dir = g_path_get_dirname (path);
  g_autoptr(GError) error = NULL;

  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  g_file_set_contents (path, text, -1, &error);
  g_assert_no_error (error);
}

/* Plays the lesson: @answers for the two questions, then the task's solution or a give-up. */
static SimLessonRunner *
play (SimLesson  *lesson,
      const char *first,
      const char *second,
      guint       stop_before)
{
  const char *answers[] = { first, second };
  g_autoptr(SimLessonRunner) runner = sim_lesson_runner_new (lesson, NULL);
  g_autoptr(GError) error = NULL;

  g_assert_nonnull (runner);
  for (guint i = 0; i < stop_before && !sim_lesson_runner_is_done (runner); i++)
    {
      const SimLessonItem *item = sim_lesson_runner_get_item (runner);

      g_assert_true (sim_lesson_runner_enter (runner, &error));
      if (item->kind == SIM_LESSON_TASK)
        {
          g_assert_true (sim_lesson_runner_command (runner, "register bob-desk", &error));
          g_assert_true (sim_lesson_runner_goal_met (runner, NULL));
        }
      else
        sim_lesson_runner_answer (runner, answers[i], NULL, &error);
      g_assert_no_error (error);
      sim_lesson_runner_next (runner);
    }
  return g_steal_pointer (&runner);
}

static SimLessonRecord *
load_record (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SimLessonProgress) progress = sim_lesson_progress_load (f->path, &error);

  g_assert_no_error (error);
  g_assert_nonnull (progress);
  return sim_lesson_progress_lookup (progress, "01-test");
}

static void
test_round_trip (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SimLessonRecord) r = NULL;
  g_autoptr(SimLessonProgress) progress = NULL;
  g_auto(GStrv) ids = NULL;

  g_test_summary ("What a session records comes back from the file as it was written; the "
                  "furthest point and the best finished score survive a worse replay.");

  /* A missing file is an empty record, not an error. */
  progress = sim_lesson_progress_load (f->path, &error);
  g_assert_no_error (error);
  ids = sim_lesson_progress_list_ids (progress);
  g_assert_cmpuint (g_strv_length (ids), ==, 0);
  g_assert_null (sim_lesson_progress_lookup (progress, "01-test"));

  /* Halfway: one question answered right, then the student leaves. */
  {
    g_autoptr(SimLessonRunner) runner = play (f->lesson, "401", "a", 1);

    g_assert_true (sim_lesson_progress_record (f->path, runner, &error));
    g_assert_no_error (error);
  }
  r = load_record (f);
  g_assert_nonnull (r);
  g_assert_cmpstr (r->id, ==, "01-test");
  g_assert_cmpstr (r->title, ==, "Register and get challenged");
  g_assert_cmpstr (r->file, ==, "lessons/01-test.lesson");
  g_assert_cmpuint (r->n_items, ==, 3);
  g_assert_cmpuint (r->reached, ==, 1);
  g_assert_cmpuint (r->n_questions, ==, 2);
  g_assert_cmpuint (r->last_correct, ==, 1);
  g_assert_cmpuint (r->last_tasks_done, ==, 0);
  g_assert_false (r->completed);
  g_assert_nonnull (r->updated);
  g_clear_pointer (&r, sim_lesson_record_free);

  /* Finished with both right and the task done. */
  {
    g_autoptr(SimLessonRunner) runner = play (f->lesson, "401", "a", 3);

    g_assert_true (sim_lesson_runner_is_done (runner));
    g_assert_true (sim_lesson_progress_record (f->path, runner, &error));
  }
  r = load_record (f);
  g_assert_true (r->completed);
  g_assert_cmpuint (r->reached, ==, 3);
  g_assert_cmpuint (r->best_correct, ==, 2);
  g_assert_cmpuint (r->last_tasks_done, ==, 1);
  g_clear_pointer (&r, sim_lesson_record_free);

  /* A worse run that stops early: the last score changes, the furthest point and best do not. */
  {
    g_autoptr(SimLessonRunner) runner = play (f->lesson, "200", "b", 2);

    g_assert_true (sim_lesson_progress_record (f->path, runner, &error));
  }
  r = load_record (f);
  g_assert_true (r->completed);
  g_assert_cmpuint (r->reached, ==, 3);
  g_assert_cmpuint (r->best_correct, ==, 2);
  g_assert_cmpuint (r->last_correct, ==, 0);
}

static void
test_corrupt_file (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SimLessonProgress) progress = NULL;

  g_test_summary ("A file that is not a progress file, or has a count that is not a number, "
                  "fails to load with an error naming the file and what is wrong; recording "
                  "a session over it still works (it is replaced), so a student is never stuck.");

  write_file (f->path, "[01-test\nreached=2\n");
  progress = sim_lesson_progress_load (f->path, &error);
  g_assert_null (progress);
  g_assert_error (error, SIM_LESSON_PROGRESS_ERROR, SIM_LESSON_PROGRESS_ERROR_CORRUPT);
  g_test_message ("%s", error->message);
  g_assert_true (g_str_has_prefix (error->message, f->path));
  g_assert_nonnull (strstr (error->message, "is not a lesson progress file"));
  g_clear_error (&error);

  write_file (f->path, "[01-test]\ntitle=T\nreached=two\n");
  progress = sim_lesson_progress_load (f->path, &error);
  g_assert_null (progress);
  g_assert_error (error, SIM_LESSON_PROGRESS_ERROR, SIM_LESSON_PROGRESS_ERROR_CORRUPT);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "[01-test] reached=two is not a count"));
  g_clear_error (&error);

  write_file (f->path, "[01-test]\ncompleted=maybe\n");
  progress = sim_lesson_progress_load (f->path, &error);
  g_assert_null (progress);
  g_assert_error (error, SIM_LESSON_PROGRESS_ERROR, SIM_LESSON_PROGRESS_ERROR_CORRUPT);
  g_assert_nonnull (strstr (error->message, "completed=maybe is not true or false"));
  g_clear_error (&error);

  write_file (f->path, "\x01\x02 not a key file at all\n");
  {
    g_autoptr(SimLessonRunner) runner = play (f->lesson, "401", "a", 1);
    g_autoptr(SimLessonRecord) r = NULL;

    g_assert_true (sim_lesson_progress_record (f->path, runner, &error));
    g_assert_no_error (error);
    r = load_record (f);
    g_assert_nonnull (r);
    g_assert_cmpuint (r->reached, ==, 1);
  }
}

/* A file as earlier versions wrote it, with a teacher's comment, before last-tasks-done and
 * updated existed, and with a key and a lesson this version does not know. */
static const char old_file[] =
  "# Progress of the SIP Lab class, spring term\n"
  "[01-test]\n"
  "title=Register and get challenged\n"
  "file=lessons/01-test.lesson\n"
  "items=3\n"
  "reached=2\n"
  "questions=2\n"
  "last-correct=1\n"
  "completed=true\n"
  "best-correct=1\n"
  "stars=5\n"
  "\n"
  "[99-future-lesson]\n"
  "title=A lesson from a newer version\n"
  "reached=4\n";

static void
test_old_file_still_loads (Fixture       *f,
                           gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SimLessonRecord) r = NULL;
  g_autoptr(SimLessonRecord) future = NULL;
  g_autoptr(SimLessonProgress) progress = NULL;
  g_autofree char *text = NULL;
  g_auto(GStrv) ids = NULL;

  g_test_summary ("A progress file written before some keys existed loads (missing keys read as "
                  "0), and a save keeps its comment, unknown keys and other lessons.");

  write_file (f->path, old_file);
  progress = sim_lesson_progress_load (f->path, &error);
  g_assert_no_error (error);
  ids = sim_lesson_progress_list_ids (progress);
  g_assert_cmpuint (g_strv_length (ids), ==, 2);
  g_assert_cmpstr (ids[0], ==, "01-test");
  r = sim_lesson_progress_lookup (progress, "01-test");
  g_assert_cmpuint (r->reached, ==, 2);
  g_assert_cmpuint (r->n_items, ==, 3);
  g_assert_cmpuint (r->last_tasks_done, ==, 0);
  g_assert_true (r->completed);
  g_assert_cmpuint (r->best_correct, ==, 1);
  g_assert_null (r->updated);
  future = sim_lesson_progress_lookup (progress, "99-future-lesson");
  g_assert_cmpuint (future->reached, ==, 4);

  /* A new session of 01-test updates its group and keeps everything else. */
  {
    g_autoptr(SimLessonRunner) runner = play (f->lesson, "401", "a", 3);

    sim_lesson_progress_update (progress, runner);
    g_assert_true (sim_lesson_progress_save (progress, f->path, &error));
    g_assert_no_error (error);
  }
  g_assert_true (g_file_get_contents (f->path, &text, NULL, NULL));
  g_assert_nonnull (strstr (text, "# Progress of the SIP Lab class, spring term"));
  g_assert_nonnull (strstr (text, "stars=5"));
  g_assert_nonnull (strstr (text, "[99-future-lesson]"));
  g_clear_pointer (&r, sim_lesson_record_free);
  r = load_record (f);
  g_assert_cmpuint (r->reached, ==, 3);
  g_assert_cmpuint (r->best_correct, ==, 2);
  g_assert_cmpuint (r->last_tasks_done, ==, 1);
  g_assert_nonnull (r->updated);
}

static void
test_default_path (void)
{
  g_autofree char *path = sim_lesson_progress_default_path ();
  g_autofree char *want = g_build_filename (g_get_user_data_dir (), "siplab", "progress.ini", NULL);

  g_test_summary ("The file lives where both front ends have always kept it.");
  g_assert_cmpstr (path, ==, want);
}

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  ADD ("/sim/lesson-progress/a-session-survives-save-and-load", test_round_trip);
  ADD ("/sim/lesson-progress/a-corrupt-file-is-a-clear-error", test_corrupt_file);
  ADD ("/sim/lesson-progress/an-old-file-still-loads-and-keeps-what-it-does-not-know",
       test_old_file_still_loads);
  g_test_add_func ("/sim/lesson-progress/the-file-is-where-it-always-was", test_default_path);
  return g_test_run ();
}
