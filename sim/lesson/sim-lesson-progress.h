/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib-object.h>

#include "sim-lesson.h"
#include "sim-lesson-student.h"

G_BEGIN_DECLS

/*
 * A student's progress through the lessons, kept between sessions and shared by the GUI and
 * `siplab-cli lesson`/`lessons`: a GKeyFile at $XDG_DATA_HOME/siplab/progress.ini with one
 * group per lesson id:
 *
 *   [04-digest-challenge]
 *   title=The digest challenge
 *   file=lessons/04-digest-challenge.lesson
 *   items=9
 *   reached=3                 the furthest item index reached; never goes down
 *   questions=5
 *   last-correct=4            questions right on the first try, last session
 *   last-tasks-done=1
 *   completed=true            finished at least once
 *   best-correct=4            the best score of a finished session
 *   updated=2024-05-01T10:00:00.000000Z
 *   position=3                where the last session stopped: the item a new one resumes at
 *   student=Ada Lovelace      whose exercise it was (sim-lesson-student.h), when one was named
 *   seed=2694052110           the exercise's seed (0: the lesson as written)
 *   sha256=...                the lesson text's SHA-256: a changed lesson starts over
 *   item-1=seen;0;0;          per item reached: result;attempts;hints;answer (a string list)
 *   item-2=incorrect;1;0;402
 *
 * Comments, unknown keys and other groups are kept when the file is written again.  Missing
 * keys read as 0 / FALSE, so files written before a key existed still load.
 */

#define SIM_LESSON_PROGRESS_ERROR (sim_lesson_progress_error_quark ())
GQuark sim_lesson_progress_error_quark (void);

typedef enum {
  SIM_LESSON_PROGRESS_ERROR_CORRUPT = 1,   /* not a progress file, or a value of the wrong type */
} SimLessonProgressError;

/* One lesson's record. */
typedef struct {
  char *id;
  char *title;
  char *file;
  guint n_items;
  guint reached;             /* the index of the furthest item reached */
  guint n_questions;
  guint last_correct;        /* questions right on the first try, last time */
  guint last_tasks_done;
  gboolean completed;        /* finished at least once */
  guint best_correct;        /* the best score of a finished run */
  char *updated;             /* ISO 8601, UTC; may be NULL */
  guint position;            /* where the last session stopped */
  char *student;             /* may be NULL */
  guint32 seed;
  char *sha256;              /* may be NULL */
  GPtrArray *attempts;       /* SimLessonAttempt*, index = item; never NULL */
} SimLessonRecord;

void             sim_lesson_record_free            (SimLessonRecord  *record);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SimLessonRecord, sim_lesson_record_free)

#define SIM_TYPE_LESSON_PROGRESS (sim_lesson_progress_get_type ())
G_DECLARE_FINAL_TYPE (SimLessonProgress, sim_lesson_progress, SIM, LESSON_PROGRESS, GObject)

/* $XDG_DATA_HOME/siplab/progress.ini. */
char              *sim_lesson_progress_default_path (void) G_GNUC_WARN_UNUSED_RESULT;
/* An empty record. */
SimLessonProgress *sim_lesson_progress_new          (void) G_GNUC_WARN_UNUSED_RESULT;
/*
 * Reads @path (NULL: the default path).  A missing file is an empty record; a file that is not
 * a progress file fails with SIM_LESSON_PROGRESS_ERROR_CORRUPT ("FILE: ... line 3 ..."), an
 * unreadable one with its G_FILE_ERROR.
 */
SimLessonProgress *sim_lesson_progress_load         (const char         *path,
                                                     GError            **error)
                                                     G_GNUC_WARN_UNUSED_RESULT;
/* Writes @self to @path (NULL: the default path), creating its folder. */
gboolean           sim_lesson_progress_save         (SimLessonProgress  *self,
                                                     const char         *path,
                                                     GError            **error);
/* The lesson ids with a record, in the file's order (groups starting with '/' are not lessons). */
GStrv              sim_lesson_progress_list_ids     (SimLessonProgress  *self)
                                                     G_GNUC_WARN_UNUSED_RESULT;
/* @id's record, or NULL when there is none. */
SimLessonRecord   *sim_lesson_progress_lookup       (SimLessonProgress  *self,
                                                     const char         *id)
                                                     G_GNUC_WARN_UNUSED_RESULT;
/*
 * Records where @runner is: the furthest item reached and the best finished score are kept,
 * so replaying a lesson loses nothing; the lesson is completed when the runner is done.
 */
void               sim_lesson_progress_update       (SimLessonProgress  *self,
                                                     SimLessonRunner    *runner);
/*
 * What a front end calls after each item: loads @path (NULL: the default path), updates it
 * from @runner and saves it.  Progress is a convenience: a damaged file is replaced rather
 * than keeping the student from going on.
 */
gboolean           sim_lesson_progress_record       (const char         *path,
                                                     SimLessonRunner    *runner,
                                                     GError            **error);
/*
 * Brings the fresh @runner to where the last session of the same exercise stopped (same lesson
 * text, same student's seed), with the record of the items before it, and returns TRUE; FALSE
 * (and @runner untouched) when there is nothing to resume: no record, a finished lesson, another
 * exercise, or an error in @error.  @path NULL: the default path.
 */
/* Where sim_lesson_progress_resume() would bring @lesson's runner: an item index, 0 for none. */
guint              sim_lesson_progress_get_resume_position (SimLessonProgress *self,
                                                            SimLesson         *lesson);
/*
 * The name a front end remembers for its student (group "[/student]", key "name": a group name
 * no lesson id can have, since ids are file names), or NULL; @name NULL forgets it.
 */
char              *sim_lesson_progress_get_student_name (SimLessonProgress *self)
                                                         G_GNUC_WARN_UNUSED_RESULT;
void               sim_lesson_progress_set_student_name (SimLessonProgress *self,
                                                         const char        *name);
gboolean           sim_lesson_progress_resume       (const char         *path,
                                                     SimLessonRunner    *runner,
                                                     GError            **error);

G_END_DECLS
