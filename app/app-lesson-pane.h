/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gtk/gtk.h>

#include "sim-lesson.h"

#include "app-window.h"

G_BEGIN_DECLS

/*
 * The lesson pane: a lesson's text one item at a time, its questions and tasks inline, Next
 * and Back, progress; it plays the lesson with a SimLessonRunner (as `siplab-cli lesson` does)
 * and shows the runner's world in every view of the window, focused on what the item talks
 * about (a header in the inspector, a binding in the location table, the timers).
 */

#define APP_TYPE_LESSON_PANE (app_lesson_pane_get_type ())
G_DECLARE_FINAL_TYPE (AppLessonPane, app_lesson_pane, APP, LESSON_PANE, GtkWidget)

/*
 * Opens lesson @path in @window: builds the lesson's scene, shows its world in every view and
 * the pane beside them, at the introduction.  Returns the pane (owned by the window).
 */
AppLessonPane   *app_lesson_pane_open           (AppWindow      *window,
                                                 const char     *path,
                                                 GError        **error);
/* The lesson pane shown in @window, or NULL. */
AppLessonPane   *app_lesson_pane_get_for_window (AppWindow      *window);
/* Takes the lesson pane (if any) out of @window: a scenario is being opened instead. */
void             app_lesson_pane_close          (AppWindow      *window);

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
/* Progress is saved like siplab-cli's ($XDG_DATA_HOME/siplab/progress.ini) unless turned off. */
void             app_lesson_pane_set_record_progress (AppLessonPane *self,
                                                 gboolean        record);

/* Lesson Markdown (bold, italics, code, paragraphs, lists, ### headings) as Pango markup. */
char            *app_lesson_markdown_to_markup  (const char     *markdown)
                                                 G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
