/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gtk/gtk.h>

#include "sim-document.h"
#include "sim-lesson.h"

#include "app-inspector.h"
#include "app-ladder-view.h"
#include "app-location-view.h"

G_BEGIN_DECLS

/*
 * The lesson pane: a lesson's text one item at a time, its questions and tasks inline, Next
 * and Back, progress; it plays the lesson of its document with the document's SimLessonRunner
 * (as `siplab-cli lesson` does) and shows the runner's world in every view of the window,
 * focused on what the item talks about (a header in the inspector, a binding in the location
 * table, the timers: the "ladder", "inspector" and "location" properties, and the win.show-pane
 * action).
 *
 * The pane starts over at the introduction whenever its document opens a lesson (the
 * "document" property's "lesson").  The window shows it beside the views while one is open.
 */

#define APP_TYPE_LESSON_PANE (app_lesson_pane_get_type ())
G_DECLARE_FINAL_TYPE (AppLessonPane, app_lesson_pane, APP, LESSON_PANE, GtkWidget)

SimDocument     *app_lesson_pane_get_document   (AppLessonPane  *self);
void             app_lesson_pane_set_document   (AppLessonPane  *self,
                                                 SimDocument    *document);
SimLessonRunner *app_lesson_pane_get_runner     (AppLessonPane  *self);
/* -1: the introduction; 0..n-1: the item shown; n: the lesson is finished. */
int              app_lesson_pane_get_position   (AppLessonPane  *self);
/* "Step 3 of 9 · Predict" */
const char      *app_lesson_pane_get_progress_text (AppLessonPane *self);
double           app_lesson_pane_get_fraction   (AppLessonPane  *self);
/* Whether Next is possible now (a question answered, a task done or shown). */
gboolean         app_lesson_pane_can_go_next    (AppLessonPane  *self);
gboolean         app_lesson_pane_next           (AppLessonPane  *self,
                                                 GError        **error);
/* Replays the lesson (with the answers and commands given) to the item before this one. */
gboolean         app_lesson_pane_back           (AppLessonPane  *self,
                                                 GError        **error);
/*
 * Answers the current question through its widgets (the entry of a prediction, the option of
 * a choice with key @answer) and presses Check.
 */
SimLessonAnswer  app_lesson_pane_answer         (AppLessonPane  *self,
                                                 const char     *answer,
                                                 GError        **error);
/* Types @command into the task entry and presses Run; FALSE when the command failed. */
gboolean         app_lesson_pane_command        (AppLessonPane  *self,
                                                 const char     *command);
/* Gives up the current task: the model solution is played. */
gboolean         app_lesson_pane_show_me        (AppLessonPane  *self,
                                                 GError        **error);
/* The verdict and explanation last shown (plain text), or NULL. */
const char      *app_lesson_pane_get_feedback   (AppLessonPane  *self);
/*
 * Plays from the start to @step (0: the introduction, N: item N, counted from 1) along the
 * answer keys and solutions; with @complete the item is answered (or its task solved) too.
 */
gboolean         app_lesson_pane_go_to          (AppLessonPane  *self,
                                                 guint           step,
                                                 gboolean        complete,
                                                 GError        **error);
/*
 * The student whose exercise the lesson is (sim-lesson-student.h): the lesson is opened again
 * for @name (NULL or empty: as written) and the name remembered in the progress file.
 */
gboolean         app_lesson_pane_set_student    (AppLessonPane  *self,
                                                 const char     *name,
                                                 GError        **error);
/* At the introduction: the item the last session of this exercise stopped at, or 0. */
guint            app_lesson_pane_get_resume_position (AppLessonPane *self);
/* Continues there (what the Continue button does); Start begins again at the first item. */
gboolean         app_lesson_pane_resume         (AppLessonPane  *self,
                                                 GError        **error);
/* Progress is saved like siplab-cli's ($XDG_DATA_HOME/siplab/progress.ini) unless turned off. */
void             app_lesson_pane_set_record_progress (AppLessonPane *self,
                                                 gboolean        record);

/* Lesson Markdown (bold, italics, code, paragraphs, lists, ### headings) as Pango markup. */
char            *app_lesson_markdown_to_markup  (const char     *markdown)
                                                 G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
