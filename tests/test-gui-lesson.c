/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <string.h>

#include <glib/gstdio.h>
#include <gtk/gtk.h>

#include "app-lesson-pane.h"
#include "app-window.h"
#include "sim-lesson-student.h"

/*
 * The lesson pane against the lesson engine: the pane must be where the SimLessonRunner is,
 * the window must show the runner's world, and each step's highlight must land in the view it
 * names.  Needs a display (meson runs it under xvfb-run); without one it skips.
 */

typedef struct {
  AppWindow *window;
  AppLessonPane *pane;
} Fixture;

static char *
lesson_path (const char *name)
{
  const char *source = g_getenv ("SIPLAB_SOURCE_DIR");

  return g_build_filename (source ? source : ".", "lessons", name, NULL);
}

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autofree char *path = lesson_path (data ? data : "04-digest-challenge.lesson");
  g_autoptr(GError) error = NULL;

  f->window = app_window_new (NULL);
  g_object_ref_sink (f->window);
  /* A FILE ending in .lesson opens the lesson pane, as `siplab FILE` and Open do. */
  g_assert_true (sim_document_open (app_window_get_document (f->window), path, &error));
  g_assert_no_error (error);
  /* The lesson column is the window's, bound to its document, and shown while a lesson is. */
  f->pane = app_window_get_lesson_pane (f->window);
  g_assert_true (app_lesson_pane_get_document (f->pane) == app_window_get_document (f->window));
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (f->pane)));
  gtk_window_present (GTK_WINDOW (f->window));
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  gtk_window_destroy (GTK_WINDOW (f->window));
  g_clear_object (&f->window);
}

/* The pane shows the runner's item, says "Step N of M", and the window shows its world. */
static void
assert_in_step (Fixture *f)
{
  SimLessonRunner *runner = app_lesson_pane_get_runner (f->pane);
  SimLesson *lesson = sim_lesson_runner_get_lesson (runner);
  g_autofree char *expected = g_strdup_printf ("Step %u of %u",
                                               sim_lesson_runner_get_position (runner) + 1,
                                               sim_lesson_get_n_items (lesson));

  g_assert_cmpint (app_lesson_pane_get_position (f->pane), ==,
                   sim_lesson_runner_get_position (runner));
  g_assert_true (g_str_has_prefix (app_lesson_pane_get_progress_text (f->pane), expected));
  g_assert_cmpfloat_with_epsilon (app_lesson_pane_get_fraction (f->pane),
                                  (sim_lesson_runner_get_position (runner) + 1.0) /
                                  sim_lesson_get_n_items (lesson), 1e-9);
  g_assert_true (sim_document_get_world (app_window_get_document (f->window)) == sim_lesson_runner_get_world (runner));
}

static void
next (Fixture *f)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (app_lesson_pane_can_go_next (f->pane));
  g_assert_true (app_lesson_pane_next (f->pane, &error));
  g_assert_no_error (error);
  assert_in_step (f);
}

static void
test_pane_follows_the_runner (Fixture       *f,
                              gconstpointer  data)
{
  SimLessonRunner *runner = app_lesson_pane_get_runner (f->pane);
  AppInspector *inspector = app_window_get_inspector (f->window);
  g_autofree char *highlighted = NULL;
  g_autoptr(GError) error = NULL;
  SimEvent *shown;

  g_test_summary ("Next through lesson 04: a prediction answered wrong, then one right; the "
                  "pane's progress is the runner's and the step about WWW-Authenticate marks "
                  "that header of the 401 in the inspector.");

  /* The introduction comes first; the question cannot be skipped. */
  g_assert_cmpint (app_lesson_pane_get_position (f->pane), ==, -1);
  g_assert_true (g_str_has_prefix (app_lesson_pane_get_progress_text (f->pane), "Introduction"));
  next (f);                                       /* 1: the first REGISTER */
  g_assert_cmpuint (sim_lesson_runner_get_item (runner)->kind, ==, SIM_LESSON_STEP);
  next (f);                                       /* 2: predict the status */
  g_assert_cmpuint (sim_lesson_runner_get_item (runner)->kind, ==, SIM_LESSON_PREDICT);
  g_assert_false (app_lesson_pane_can_go_next (f->pane));
  g_assert_false (app_lesson_pane_next (f->pane, &error));
  g_assert_error (error, SIM_LESSON_ERROR, SIM_LESSON_ERROR_STATE);
  g_clear_error (&error);

  /* Wrong: the registrar challenges. */
  g_assert_cmpint (app_lesson_pane_answer (f->pane, "200", &error), ==,
                   SIM_LESSON_ANSWER_INCORRECT);
  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (app_lesson_pane_get_feedback (f->pane), "Not quite."));
  g_assert_cmpuint (sim_lesson_runner_get_n_answered (runner), ==, 1);
  g_assert_cmpuint (sim_lesson_runner_get_n_correct (runner), ==, 0);
  /* The simulator ran to the packet: the newest message shown is the 401. */
  shown = app_inspector_get_event (inspector);
  g_assert_nonnull (shown);
  g_assert_cmpint (shown->status, ==, 401);

  next (f);                                       /* 3: read the challenge */
  g_assert_cmpstr (app_inspector_get_highlighted_header (inspector), ==, "WWW-Authenticate");
  shown = app_inspector_get_event (inspector);
  g_assert_cmpint (shown->status, ==, 401);
  highlighted = app_inspector_get_highlighted_text (inspector);
  g_assert_nonnull (highlighted);
  g_assert_true (g_str_has_prefix (highlighted, "WWW-Authenticate: Digest"));
  g_assert_nonnull (strstr (highlighted, "nonce="));
  g_clear_pointer (&highlighted, g_free);

  next (f);                                       /* 4: predict the CSeq */
  g_assert_null (app_inspector_get_highlighted_header (inspector));
  g_assert_cmpint (app_lesson_pane_answer (f->pane, "2", &error), ==, SIM_LESSON_ANSWER_CORRECT);
  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (app_lesson_pane_get_feedback (f->pane), "Correct."));
  g_assert_cmpuint (sim_lesson_runner_get_n_answered (runner), ==, 2);
  g_assert_cmpuint (sim_lesson_runner_get_n_correct (runner), ==, 1);

  next (f);                                       /* 5: what Authorization holds */
  g_assert_cmpuint (sim_lesson_runner_get_item (runner)->kind, ==, SIM_LESSON_CHOICE);
  g_assert_cmpstr (app_inspector_get_highlighted_header (inspector), ==, "Authorization");
  highlighted = app_inspector_get_highlighted_text (inspector);
  g_assert_true (g_str_has_prefix (highlighted, "Authorization: Digest"));
  g_assert_cmpint (app_lesson_pane_answer (f->pane, "c", &error), ==, SIM_LESSON_ANSWER_CORRECT);
  g_assert_cmpuint (sim_lesson_runner_get_n_correct (runner), ==, 2);
  next (f);                                       /* 6 */
  assert_in_step (f);
}

static void
test_an_unanswered_prediction_is_not_in_the_ladder (Fixture       *f,
                                                    gconstpointer  data)
{
  AppLadderView *ladder = app_window_get_ladder (f->window);
  g_autoptr(GError) error = NULL;

  g_test_summary ("The runner may have run the world past what it has shown; the ladder "
                  "must not show the REGISTER whose CSeq the student is asked to predict.");

  g_assert_true (app_lesson_pane_go_to (f->pane, 4, FALSE, &error));
  g_assert_no_error (error);
  assert_in_step (f);
  for (guint i = 0; i < app_ladder_view_get_n_rows (ladder); i++)
    g_assert_cmpstr (app_ladder_view_get_row (ladder, i)->cseq, !=, "2 REGISTER");
  g_assert_cmpint (app_lesson_pane_answer (f->pane, "2", &error), ==, SIM_LESSON_ANSWER_CORRECT);
  g_assert_cmpstr (app_ladder_view_get_row (ladder, app_ladder_view_get_n_rows (ladder) - 1)->cseq,
                   ==, "2 REGISTER");
}

static void
test_back_replays_the_answers_given (Fixture       *f,
                                     gconstpointer  data)
{
  SimLessonRunner *runner;
  g_autoptr(GError) error = NULL;

  g_assert_true (app_lesson_pane_go_to (f->pane, 2, FALSE, &error));
  g_assert_cmpint (app_lesson_pane_answer (f->pane, "404", &error), ==,
                   SIM_LESSON_ANSWER_INCORRECT);
  next (f);
  next (f);                                       /* 4 */
  g_assert_true (app_lesson_pane_back (f->pane, &error));
  g_assert_no_error (error);
  /* A new runner, replayed to item 3 with the wrong answer the student gave. */
  runner = app_lesson_pane_get_runner (f->pane);
  assert_in_step (f);
  g_assert_cmpint (app_lesson_pane_get_position (f->pane), ==, 2);
  g_assert_cmpuint (sim_lesson_runner_get_n_answered (runner), ==, 1);
  g_assert_cmpuint (sim_lesson_runner_get_n_correct (runner), ==, 0);
  g_assert_cmpstr (app_inspector_get_highlighted_header (app_window_get_inspector (f->window)),
                   ==, "WWW-Authenticate");

  /* Back to the question: it is open again. */
  g_assert_true (app_lesson_pane_back (f->pane, &error));
  assert_in_step (f);
  g_assert_false (app_lesson_pane_can_go_next (f->pane));
  g_assert_cmpint (app_lesson_pane_answer (f->pane, "401", &error), ==,
                   SIM_LESSON_ANSWER_CORRECT);
  g_assert_true (app_lesson_pane_back (f->pane, &error));
  g_assert_true (app_lesson_pane_back (f->pane, &error));
  g_assert_cmpint (app_lesson_pane_get_position (f->pane), ==, -1);
  g_assert_false (app_lesson_pane_back (f->pane, NULL));
}

static void
test_back_replays_a_choice_in_the_students_order (Fixture       *f,
                                                  gconstpointer  data)
{
  SimLessonRunner *runner;
  g_autofree char *letter = NULL;
  g_autoptr(GError) error = NULL;

  g_test_summary ("Options are shuffled per student (in lesson 08 the key of 'The mobile is "
                  "lost' is not shown as its letter in the file); a choice answered right and "
                  "replayed by Back is still right: the pane keeps the option, not the letter.");
  g_assert_true (app_lesson_pane_go_to (f->pane, 6, FALSE, &error));
  g_assert_no_error (error);
  runner = app_lesson_pane_get_runner (f->pane);
  g_assert_cmpuint (sim_lesson_runner_get_item (runner)->kind, ==, SIM_LESSON_CHOICE);
  letter = sim_lesson_runner_get_option_letter (runner, "a");
  g_assert_cmpstr (letter, !=, "a");
  g_assert_cmpint (app_lesson_pane_answer (f->pane, "a", &error), ==, SIM_LESSON_ANSWER_CORRECT);
  next (f);                                       /* 7: remove every binding */
  g_assert_true (app_lesson_pane_command (f->pane, "unregister bob-desk all"));
  next (f);                                       /* 8: the last question */
  g_assert_true (app_lesson_pane_back (f->pane, &error));
  g_assert_no_error (error);
  /* A new runner, replayed to item 7 with the answers given, the choice's among them. */
  runner = app_lesson_pane_get_runner (f->pane);
  g_assert_cmpint (app_lesson_pane_get_position (f->pane), ==, 6);
  g_assert_cmpuint (sim_lesson_runner_get_n_answered (runner), ==, 3);
  g_assert_cmpuint (sim_lesson_runner_get_n_correct (runner), ==, 3);
}

static void
test_a_task_takes_commands_and_shows_the_solution (Fixture       *f,
                                                   gconstpointer  data)
{
  SimLessonRunner *runner = app_lesson_pane_get_runner (f->pane);
  SimWorld *before;
  g_autoptr(GError) error = NULL;

  g_assert_true (app_lesson_pane_go_to (f->pane, 8, FALSE, &error));
  g_assert_no_error (error);
  runner = app_lesson_pane_get_runner (f->pane);
  g_assert_cmpuint (sim_lesson_runner_get_item (runner)->kind, ==, SIM_LESSON_TASK);
  assert_in_step (f);

  g_assert_false (app_lesson_pane_command (f->pane, "frobnicate alice-desk"));
  g_assert_true (app_lesson_pane_command (f->pane, "state"));
  g_assert_true (app_lesson_pane_command (f->pane, "password alice-desk wrong"));
  g_assert_false (app_lesson_pane_can_go_next (f->pane));

  /* Show me: the world is rebuilt along the model solution and shown in the window. */
  before = sim_document_get_world (app_window_get_document (f->window));
  g_assert_true (app_lesson_pane_show_me (f->pane, &error));
  g_assert_no_error (error);
  g_assert_true (sim_document_get_world (app_window_get_document (f->window)) == sim_lesson_runner_get_world (runner));
  g_assert_true (sim_document_get_world (app_window_get_document (f->window)) != before);
  g_assert_true (app_lesson_pane_can_go_next (f->pane));
  next (f);
  g_assert_cmpint (app_lesson_pane_answer (f->pane, "a", &error), ==, SIM_LESSON_ANSWER_CORRECT);
  g_assert_true (app_lesson_pane_next (f->pane, &error));
  /* The last item asks for the student's own digest response: a guess is wrong. */
  g_assert_cmpint (app_lesson_pane_answer (f->pane, "0", &error), ==, SIM_LESSON_ANSWER_INCORRECT);
  g_assert_true (app_lesson_pane_next (f->pane, &error));
  g_assert_true (sim_lesson_runner_is_done (runner));
  g_assert_true (g_str_has_prefix (app_lesson_pane_get_progress_text (f->pane), "Finished"));
  g_assert_false (app_lesson_pane_can_go_next (f->pane));
}

static void
test_a_task_is_done_by_its_goal (Fixture       *f,
                                 gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (app_lesson_pane_go_to (f->pane, 8, FALSE, &error));
  g_assert_true (app_lesson_pane_command (f->pane, "password alice-desk letmein"));
  g_assert_false (app_lesson_pane_can_go_next (f->pane));
  g_assert_true (app_lesson_pane_command (f->pane, "register alice-desk"));
  g_assert_true (app_lesson_pane_can_go_next (f->pane));
  g_assert_true (g_str_has_prefix (app_lesson_pane_get_feedback (f->pane), "Done"));
  g_assert_cmpuint (sim_lesson_runner_get_n_tasks_done (app_lesson_pane_get_runner (f->pane)),
                    ==, 1);
}

static void
test_a_binding_step_marks_the_binding (Fixture       *f,
                                       gconstpointer  data)
{
  AppLocationView *location = app_window_get_location (f->window);
  g_autoptr(GError) error = NULL;

  /* 02, step 3: "highlight: binding sip:alice@lab.example sip:alice@{{alice-ip}}:5060". */
  g_assert_true (app_lesson_pane_go_to (f->pane, 3, TRUE, &error));
  g_assert_no_error (error);
  assert_in_step (f);
  g_assert_cmpstr (app_window_get_pane (f->window), ==, "location");
  g_assert_cmpuint (app_location_view_get_n_highlighted (location), ==, 1);
  next (f);
  g_assert_cmpuint (app_location_view_get_n_highlighted (location), ==, 0);
}

static void
test_window_leaves_rewinding_to_the_pane (Fixture       *f,
                                          gconstpointer  data)
{
  SimDocument *document = app_window_get_document (f->window);
  g_autoptr(GError) error = NULL;
  SimWorld *world;

  g_test_summary ("While a lesson is open the window's Restart and Step back do nothing (they "
                  "would rebuild a scene behind the lesson's back: the pane has Back); opening a "
                  "scenario gives them back.");

  next (f);
  world = sim_document_get_world (document);
  gtk_widget_activate_action (GTK_WIDGET (f->window), "win.step-back", NULL);
  gtk_widget_activate_action (GTK_WIDGET (f->window), "win.restart", NULL);
  g_assert_true (sim_document_get_world (document) == world);
  g_assert_cmpint (app_lesson_pane_get_position (f->pane), ==, 0);

  g_assert_true (sim_document_open (document, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (sim_document_step (document));
  world = sim_document_get_world (document);
  gtk_widget_activate_action (GTK_WIDGET (f->window), "win.step-back", NULL);
  g_assert_true (sim_document_get_world (document) != world);
}

static void
test_opening_a_scenario_closes_the_lesson (Fixture       *f,
                                           gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (sim_document_open (app_window_get_document (f->window), NULL, &error));
  g_assert_null (sim_document_get_lesson (app_window_get_document (f->window)));
  g_assert_false (gtk_widget_get_visible (GTK_WIDGET (f->pane)));
  g_assert_true (gtk_window_get_child (GTK_WINDOW (f->window)) != NULL);
  g_assert_null (app_inspector_get_highlighted_header (app_window_get_inspector (f->window)));
  g_assert_true (gtk_widget_is_sensitive (GTK_WIDGET (f->window)));
}

static void
test_markdown_becomes_pango_markup (void)
{
  g_autofree char *markup = app_lesson_markdown_to_markup (
      "A **bold** `a<b>` and *italic* line\ncontinued.\n\n* one\n* two\n  wrapped\n\n"
      "1. first\n\nThe **Contact: \\*** case & more");
  g_autoptr(GDir) dir = NULL;
  g_autofree char *dir_path = lesson_path ("");
  const char *name;

  g_assert_cmpstr (markup, ==,
                   "A <b>bold</b> <tt>a&lt;b&gt;</tt> and <i>italic</i> line continued.\n\n"
                   "•  one\n•  two wrapped\n\n1. first\n\n"
                   "The <b>Contact: *</b> case &amp; more");

  /* Every text of every shipped lesson is markup Pango accepts. */
  dir = g_dir_open (dir_path, 0, NULL);
  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir_path, name, NULL);
      g_autoptr(SimLesson) lesson = NULL;
      g_autoptr(GError) error = NULL;
      g_autofree char *intro = NULL;

      if (!g_str_has_suffix (name, ".lesson"))
        continue;
      lesson = sim_lesson_parse_file (path, &error);
      g_assert_no_error (error);
      intro = app_lesson_markdown_to_markup (sim_lesson_get_intro (lesson));
      g_assert_true (pango_parse_markup (intro, -1, 0, NULL, NULL, NULL, &error));
      g_assert_no_error (error);
      for (guint i = 0; i < sim_lesson_get_n_items (lesson); i++)
        {
          const SimLessonItem *item = sim_lesson_get_item (lesson, i);
          g_autofree char *text = app_lesson_markdown_to_markup (item->text);
          g_autofree char *explain = app_lesson_markdown_to_markup (item->explain);
          g_autofree char *hint = app_lesson_markdown_to_markup (item->hint);

          g_assert_true (pango_parse_markup (text, -1, 0, NULL, NULL, NULL, &error));
          g_assert_true (pango_parse_markup (explain, -1, 0, NULL, NULL, NULL, &error));
          g_assert_true (pango_parse_markup (hint, -1, 0, NULL, NULL, NULL, &error));
        }
    }
}

static void
test_progress_is_saved_like_the_cli (Fixture       *f,
                                     gconstpointer  data)
{
  g_autofree char *path = g_build_filename (g_get_user_data_dir (), "siplab", "progress.ini",
                                            NULL);
  g_autoptr(GKeyFile) kf = g_key_file_new ();
  g_autoptr(GError) error = NULL;

  g_assert_true (app_lesson_pane_go_to (f->pane, 3, TRUE, &error));
  next (f);
  g_assert_true (g_key_file_load_from_file (kf, path, 0, &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_key_file_get_integer (kf, "04-digest-challenge", "reached", NULL), >=, 3);
  g_assert_cmpint (g_key_file_get_integer (kf, "04-digest-challenge", "items", NULL), ==, 10);
}


static void
test_a_student_gets_their_own_exercise_and_resumes (Fixture       *f,
                                                    gconstpointer  data)
{
  SimDocument *document = app_window_get_document (f->window);
  g_autofree char *path = lesson_path ("04-digest-challenge.lesson");
  g_autoptr(GError) error = NULL;
  SimLesson *lesson;

  g_test_summary ("The name field makes the lesson the student's exercise (the seed of the "
                  "name), is remembered when the lesson opens again, and the introduction then "
                  "offers to continue where the student left; Back works from there");
  g_assert_true (app_lesson_pane_set_student (f->pane, "Ada Lovelace", &error));
  g_assert_no_error (error);
  lesson = sim_lesson_runner_get_lesson (app_lesson_pane_get_runner (f->pane));
  g_assert_cmpstr (sim_lesson_get_student (lesson), ==, "Ada Lovelace");
  g_assert_cmpuint (sim_lesson_get_seed (lesson), ==, 1289880425u);
  g_assert_cmpint (app_lesson_pane_get_position (f->pane), ==, -1);
  g_assert_false (app_lesson_pane_set_student (f->pane, "\x01", NULL));

  g_assert_true (app_lesson_pane_go_to (f->pane, 3, TRUE, &error));
  next (f);
  g_assert_cmpint (app_lesson_pane_get_position (f->pane), ==, 3);

  /* Opened again (as `siplab FILE` would): Ada's exercise, at its introduction, with Continue. */
  g_assert_true (sim_document_open (document, path, &error));
  lesson = sim_lesson_runner_get_lesson (app_lesson_pane_get_runner (f->pane));
  g_assert_cmpstr (sim_lesson_get_student (lesson), ==, "Ada Lovelace");
  g_assert_cmpint (app_lesson_pane_get_position (f->pane), ==, -1);
  g_assert_cmpuint (app_lesson_pane_get_resume_position (f->pane), ==, 3);
  g_assert_true (app_lesson_pane_resume (f->pane, &error));
  g_assert_no_error (error);
  g_assert_cmpint (app_lesson_pane_get_position (f->pane), ==, 3);
  assert_in_step (f);
  g_assert_true (app_lesson_pane_back (f->pane, &error));
  g_assert_no_error (error);
  g_assert_cmpint (app_lesson_pane_get_position (f->pane), ==, 2);
  assert_in_step (f);

  /* An empty name: the lesson as written again, and nothing remembered. */
  g_assert_true (app_lesson_pane_set_student (f->pane, "", &error));
  lesson = sim_lesson_runner_get_lesson (app_lesson_pane_get_runner (f->pane));
  g_assert_null (sim_lesson_get_student (lesson));
  g_assert_true (sim_document_open (document, path, &error));
  lesson = sim_lesson_runner_get_lesson (app_lesson_pane_get_runner (f->pane));
  g_assert_null (sim_lesson_get_student (lesson));
}

#define ADD(path, func, data) \
  g_test_add (path, Fixture, data, fixture_set_up, func, fixture_tear_down)

int
main (int   argc,
      char *argv[])
{
  g_autofree char *home = g_dir_make_tmp ("siplab-test-gui-lesson-XXXXXX", NULL);
  int status;

  /* Progress goes to a throw-away $XDG_DATA_HOME, never the user's. */
  g_setenv ("XDG_DATA_HOME", home, TRUE);
  g_test_init (&argc, &argv, NULL);
  if (!gtk_init_check ())
    {
      g_print ("1..0 # SKIP no display\n");
      return 0;
    }

  ADD ("/gtk/lesson/pane-follows-the-runner", test_pane_follows_the_runner, NULL);
  ADD ("/gtk/lesson/an-unanswered-prediction-is-not-in-the-ladder",
       test_an_unanswered_prediction_is_not_in_the_ladder, NULL);
  ADD ("/gtk/lesson/back-replays-the-answers-given", test_back_replays_the_answers_given, NULL);
  ADD ("/gtk/lesson/back-replays-a-choice-in-the-students-order",
       test_back_replays_a_choice_in_the_students_order, "08-deregistration.lesson");
  ADD ("/gtk/lesson/a-task-takes-commands-and-shows-the-solution",
       test_a_task_takes_commands_and_shows_the_solution, NULL);
  ADD ("/gtk/lesson/a-task-is-done-by-its-goal", test_a_task_is_done_by_its_goal, NULL);
  ADD ("/gtk/lesson/a-binding-step-marks-the-binding", test_a_binding_step_marks_the_binding,
       "02-register-and-aor.lesson");
  ADD ("/gtk/lesson/window-leaves-rewinding-to-the-pane",
       test_window_leaves_rewinding_to_the_pane, NULL);
  ADD ("/gtk/lesson/opening-a-scenario-closes-the-lesson",
       test_opening_a_scenario_closes_the_lesson, NULL);
  ADD ("/gtk/lesson/progress-is-saved-like-the-cli", test_progress_is_saved_like_the_cli, NULL);
  ADD ("/gtk/lesson/a-student-gets-their-own-exercise-and-resumes",
       test_a_student_gets_their_own_exercise_and_resumes, NULL);
  g_test_add_func ("/gtk/lesson/markdown-becomes-pango-markup", test_markdown_becomes_pango_markup);
  status = g_test_run ();

  {
    g_autofree char *progress = g_build_filename (home, "siplab", "progress.ini", NULL);
    g_autofree char *dir = g_path_get_dirname (progress);

    g_remove (progress);
    g_rmdir (dir);
    g_rmdir (home);
  }
  return status;
}
