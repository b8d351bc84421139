/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib-object.h>

#include "sim-lesson.h"

G_BEGIN_DECLS

/*
 * Per-student exercises and what a student did (lessons/README.md, "One exercise per student").
 *
 * A student's exercise is the lesson played on the student's seed:
 *
 *   seed = the first four bytes, big-endian, of SHA-256 (LESSON-ID "\0" NAME)
 *
 * where LESSON-ID is the file's base name without ".lesson" ("04-digest-challenge") and NAME is
 * the student's name NFC-normalized, case-folded, with white space trimmed and runs of it
 * collapsed to one space ("  Ada   LOVELACE " and "ada lovelace" are one student); a seed of 0
 * becomes 1, since 0 means "the lesson as written".  The seed drives the world (tags, Call-IDs,
 * branches, nonces, cnonces, jitter and loss) and the lesson's "vary:" lines, whose {{NAME}}
 * placeholders the lesson and its scene use for passwords, addresses and numbers:
 *
 *   vary: pw password                         a word and four digits: "cedar-4821"
 *   vary: exp number 600..3600 step 60        a whole number in the range
 *   vary: desk address 10.0.0.20..10.0.0.99   an IPv4 address no other line of the lesson uses
 *   vary: peer one-of bob carol dave          one of the words
 *
 * The values are drawn when the file is parsed for a seed, so a SimLesson is one student's
 * exercise from top to bottom: views show it as they show any lesson.
 */

/* A name longer than this (in characters, after normalizing) is refused. */
#define SIM_LESSON_STUDENT_NAME_MAX 128
/* At most this many "vary:" lines per lesson. */
#define SIM_LESSON_VARY_MAX 32
/* How many students' seeds `siplab-cli check` plays each lesson for, besides the lesson as written. */
#define SIM_LESSON_CHECK_DEFAULT_SEEDS 32
/* At most this many seeds per check. */
#define SIM_LESSON_CHECK_MAX_SEEDS 10000

/* @name normalized (see above), or NULL when it is empty, not UTF-8 or too long. */
char        *sim_lesson_student_normalize_name (const char  *name) G_GNUC_WARN_UNUSED_RESULT;
/* The seed of @name's exercise in lesson @lesson_id (see above); 0 when @name is not a name. */
guint32      sim_lesson_student_seed         (const char   *lesson_id,
                                              const char   *name);
/* The lesson id of a file: its base name without ".lesson". */
char        *sim_lesson_id_for_file          (const char   *path) G_GNUC_WARN_UNUSED_RESULT;

/* @path parsed as @student's exercise (the seed above); @student NULL: the lesson as written. */
SimLesson   *sim_lesson_parse_file_for_student (const char *path,
                                                const char *student,
                                                GError    **error) G_GNUC_WARN_UNUSED_RESULT;
/* @path parsed for @seed (0: as written), for a teacher reproducing a check failure. */
SimLesson   *sim_lesson_parse_file_for_seed  (const char   *path,
                                              guint32       seed,
                                              GError      **error) G_GNUC_WARN_UNUSED_RESULT;
SimLesson   *sim_lesson_parse_data_for_seed  (const char   *text,
                                              gssize        length,
                                              const char   *name,
                                              const char   *base_dir,
                                              guint32       seed,
                                              GError      **error) G_GNUC_WARN_UNUSED_RESULT;
/* The seed the lesson was parsed for; 0 for the lesson as written (the scene's own seed). */
guint32      sim_lesson_get_seed             (SimLesson    *self);
/* The student it was parsed for (as given), or NULL. */
const char  *sim_lesson_get_student          (SimLesson    *self);
/* SHA-256 of the file's text as read (lowercase hex): which version of the lesson was played. */
const char  *sim_lesson_get_sha256           (SimLesson    *self);
/* The value a "vary:" line drew for this seed, or NULL when there is no such line. */
const char  *sim_lesson_get_value            (SimLesson    *self,
                                              const char   *name);

/*
 * Checks @path as written and for @n_seeds students' seeds (the seeds of the names "check-1",
 * "check-2"...), so a key that holds only for some seeds fails.  The failures of the first seed
 * that fails are added, each followed by "(seed S: siplab-cli lesson FILE --seed S)"; the counts
 * are the lesson as written's.
 */
gboolean     sim_lesson_check_seeds          (const char      *path,
                                              guint            n_seeds,
                                              SimLessonReport *report);

/* ------------------------------------------------------------------------------------------ */
/* What the student did, item by item                                                         */

typedef enum {
  SIM_LESSON_RESULT_NONE,        /* not reached, or not finished */
  SIM_LESSON_RESULT_SEEN,        /* a step, played */
  SIM_LESSON_RESULT_CORRECT,     /* a question answered right; a task whose goals held */
  SIM_LESSON_RESULT_INCORRECT,   /* a question answered wrong */
  SIM_LESSON_RESULT_SKIPPED,     /* skipped: the answer key or the solution was played */
} SimLessonResult;

/* An answer or a task's commands longer than this (bytes) are kept cut. */
#define SIM_LESSON_ATTEMPT_MAX_ANSWER 2048

typedef struct {
  SimLessonResult result;
  char *answer;              /* a question's answer; a task's commands, "; "-separated; may be NULL */
  guint attempts;            /* a question: answers given, invalid ones too; a task: commands */
  guint hints;               /* hints shown (the last level may be the solution) */
} SimLessonAttempt;

const char  *sim_lesson_result_name          (SimLessonResult result);
gboolean     sim_lesson_result_from_name     (const char      *name,
                                              SimLessonResult *result);
SimLessonAttempt *sim_lesson_attempt_copy    (const SimLessonAttempt *attempt) G_GNUC_WARN_UNUSED_RESULT;
void         sim_lesson_attempt_free         (SimLessonAttempt *attempt);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SimLessonAttempt, sim_lesson_attempt_free)

/* What the student did at item @index (never NULL: an item not reached has an empty record). */
const SimLessonAttempt *sim_lesson_runner_get_attempt (SimLessonRunner *self,
                                                       guint            index);
/* Totals over the items: hints shown, items skipped. */
guint        sim_lesson_runner_get_n_hints   (SimLessonRunner *self);
guint        sim_lesson_runner_get_n_skipped (SimLessonRunner *self);

/*
 * The next hint of the current task, escalating: its "hint:" lines in order (a nudge first),
 * then the solution itself ("The solution: ...") last.  NULL when there is no open task or the
 * solution has been shown already.  @level_out (1-based) and @n_levels_out (hints + 1) may be
 * NULL.  Counts in the task's record.
 */
char        *sim_lesson_runner_take_hint     (SimLessonRunner *self,
                                              guint           *level_out,
                                              guint           *n_levels_out) G_GNUC_WARN_UNUSED_RESULT;
/*
 * Skips the current question: the world runs on with the answer key (as if the key had been
 * given), the question counts as answered, not right, and as skipped.  @explanation_out: the key
 * and the item's explanation.  A task is skipped with sim_lesson_runner_give_up().
 */
gboolean     sim_lesson_runner_skip_question (SimLessonRunner *self,
                                              char           **explanation_out,
                                              GError         **error);
/*
 * What the student is given to compute the current question's answer, or NULL when nothing
 * beyond the item's text: for "predict: response of ...", the Authorization header the phone
 * sends with the response hidden (username, realm, nonce, uri, qop, nc and cnonce are what a
 * digest response is computed from).  The world may run on to that packet (its events stay
 * hidden until the answer).
 */
char        *sim_lesson_runner_get_givens    (SimLessonRunner *self) G_GNUC_WARN_UNUSED_RESULT;

/*
 * Brings a fresh runner to item @position along the model path (answer keys and solutions), as
 * sim_lesson_runner_give_up() replays it, with @attempts (SimLessonAttempt*, index = item; may
 * be NULL or shorter than the lesson) as the student's record of the items before: a lesson
 * resumes where the student left it.
 */
gboolean     sim_lesson_runner_resume        (SimLessonRunner *self,
                                              guint            position,
                                              GPtrArray       *attempts,
                                              GError         **error);

G_END_DECLS
