/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib-object.h>

#include "sim-scenario.h"
#include "sim-world.h"

G_BEGIN_DECLS

/*
 * Lessons (lessons/README.md has the full reference): a Markdown text a teacher writes, with a
 * scene (a scenario, inline or by reference) and ordered items:
 *
 *   ## Step: ...      text; "do:" commands, "run: until EVENT", "highlight:", "expect: CLAIM"
 *   ## Predict: ...   "predict: FIELD of PACKET" checked against the next matching packet
 *   ## Choice: ...    "option KEY: text", "answer: KEY", optional "expect:" claims
 *   ## Task: ...      the student gives commands; "goal: CLAIM" is evaluated; "solution:"
 *
 * Nothing here is taken on trust: sim_lesson_check() plays every item with the answer keys
 * and solutions and verifies each claim in the simulator, so a lesson whose text says "the
 * registrar answers 423" fails its check when the simulator does not.
 *
 * Errors read "FILE:LINE: what is wrong", like the scenario parser's.
 */

#define SIM_LESSON_ERROR (sim_lesson_error_quark ())
GQuark sim_lesson_error_quark (void);

typedef enum {
  SIM_LESSON_ERROR_SYNTAX = 1,   /* the text does not follow the format */
  SIM_LESSON_ERROR_SCENE,        /* the scene does not parse or build */
  SIM_LESSON_ERROR_COMMAND,      /* a command the world refused or that does not parse */
  SIM_LESSON_ERROR_STATE,        /* the runner is not where the call needs it */
  SIM_LESSON_ERROR_IO,
} SimLessonError;

typedef enum {
  SIM_LESSON_STEP,
  SIM_LESSON_PREDICT,
  SIM_LESSON_CHOICE,
  SIM_LESSON_TASK,
} SimLessonItemKind;

/* A directive's text and the line it is on. */
typedef struct {
  char *text;
  guint line;
} SimLessonLine;

typedef struct {
  char *key;                 /* "a" */
  char *text;
  guint line;
} SimLessonOption;

/* What a "highlight:" line points at. */
typedef enum {
  SIM_LESSON_HIGHLIGHT_HEADER,     /* "header NAME": the header in the messages shown */
  SIM_LESSON_HIGHLIGHT_BINDING,    /* "binding AOR [CONTACT]": a binding in the location service */
  SIM_LESSON_HIGHLIGHT_TIMER,      /* "timer NAME": a transaction or refresh timer (E, F...) */
  SIM_LESSON_HIGHLIGHT_NODE,       /* "node NAME": a phone, the server or a host */
} SimLessonHighlightKind;

/* A "highlight:" line, parsed when the lesson is loaded. */
typedef struct {
  char *text;                /* as written: "binding sip:bob@lab.example" */
  guint line;
  SimLessonHighlightKind kind;
  char *name;                /* the header, the AOR, the timer or the node */
  char *contact;             /* SIM_LESSON_HIGHLIGHT_BINDING: the contact, or NULL for any */
} SimLessonHighlight;

/* The field of a packet a "predict:" line asks for. */
typedef enum {
  SIM_LESSON_FIELD_STATUS,
  SIM_LESSON_FIELD_METHOD,
  SIM_LESSON_FIELD_CSEQ,         /* the CSeq number */
  SIM_LESSON_FIELD_EXPIRES,      /* the Expires header, or the Contact's expires parameter */
  SIM_LESSON_FIELD_HEADER,       /* any header's value */
  SIM_LESSON_FIELD_RESPONSE,     /* the digest response in Authorization (Proxy-Authorization) */
} SimLessonField;

/* A "predict:" line ("status of 401 arrives at alice-desk"), parsed when the lesson is loaded. */
typedef struct {
  char *text;                /* as written */
  guint line;
  SimLessonField field;
  char *header;              /* SIM_LESSON_FIELD_HEADER: the header's name */
} SimLessonPrediction;

/* The core's parsed forms of an item's events and claims (sim/lesson/sim-lesson-private.h). */
typedef struct _SimLessonItemParsed SimLessonItemParsed;

typedef struct _SimLessonItem SimLessonItem;

struct _SimLessonItem {
  SimLessonItemKind kind;
  guint line;                /* the "## Kind: title" line */
  char *title;
  char *text;                /* the Markdown between the directives, trimmed */

  GPtrArray *commands;       /* SimLessonLine*: "do:" commands run when the item starts */
  SimLessonLine *until;      /* "run: until ...": where the item starts the student off; may be NULL */
  GPtrArray *highlights;     /* SimLessonHighlight*: "header Contact", "binding AOR [CONTACT]" */
  GPtrArray *expects;        /* SimLessonLine*: claims that must hold once the item has run */

  /* SIM_LESSON_PREDICT: "status of 401 arrives at alice-desk" */
  SimLessonPrediction *predict;
  /* SIM_LESSON_CHOICE */
  GPtrArray *options;        /* SimLessonOption* */
  /* SIM_LESSON_PREDICT and SIM_LESSON_CHOICE: the answer key */
  SimLessonLine *answer;
  char *explain;             /* may be NULL */

  /* SIM_LESSON_TASK */
  GPtrArray *goals;          /* SimLessonLine*: every claim must hold */
  GPtrArray *solution;       /* SimLessonLine*: commands, in order */
  char *hint;                /* the first of @hints, or NULL */
  GPtrArray *hints;          /* SimLessonLine*: "hint:" lines, a nudge first (escalating) */
  SimTime settle;            /* how long the world runs after each command (default 10 s) */

  SimLessonItemParsed *parsed;   /* for the runner and the checker; views need not look */
};

/* What kind of answer a prediction wants, for a prompt: "a status code, like 180". */
const char  *sim_lesson_prediction_get_answer_hint (const SimLessonPrediction *prediction);
/*
 * Whether @packet is one @item's prediction is about, whatever happened to it (a ladder row is
 * the packet sent, "arrives at" its delivery): for a view to show the predicted packet.
 */
gboolean     sim_lesson_item_predicts_packet (const SimLessonItem *item,
                                              const SimEvent      *packet);
/* Whether @item has a highlight of @kind (a view shows timers only when one is highlighted). */
gboolean     sim_lesson_item_has_highlight (const SimLessonItem   *item,
                                            SimLessonHighlightKind kind);

#define SIM_TYPE_LESSON (sim_lesson_get_type ())
G_DECLARE_FINAL_TYPE (SimLesson, sim_lesson, SIM, LESSON, GObject)

SimLesson   *sim_lesson_parse_file     (const char   *path,
                                        GError      **error) G_GNUC_WARN_UNUSED_RESULT;
/* @name is what errors are reported against; @base_dir resolves "scene: FILE" (NULL: "."). */
SimLesson   *sim_lesson_parse_data     (const char   *text,
                                        gssize        length,
                                        const char   *name,
                                        const char   *base_dir,
                                        GError      **error) G_GNUC_WARN_UNUSED_RESULT;
const char  *sim_lesson_get_file       (SimLesson    *self);
/* "01-point-to-point": the file's base name without ".lesson"; the key for progress. */
const char  *sim_lesson_get_id         (SimLesson    *self);
const char  *sim_lesson_get_title      (SimLesson    *self);
/* The Markdown before the first item. */
const char  *sim_lesson_get_intro      (SimLesson    *self);
SimScenario *sim_lesson_get_scene      (SimLesson    *self);
guint        sim_lesson_get_n_items    (SimLesson    *self);
const SimLessonItem *sim_lesson_get_item (SimLesson  *self,
                                          guint        index);
/* Predict and choice items. */
guint        sim_lesson_get_n_questions (SimLesson   *self);
const char  *sim_lesson_item_kind_name (SimLessonItemKind kind);

/*
 * Playing a lesson.  The runner owns a SimWorld built from the scene.  For each item:
 * sim_lesson_runner_enter() runs its "do:" commands and "run: until"; then a question takes
 * sim_lesson_runner_answer(), a task takes sim_lesson_runner_command() until
 * sim_lesson_runner_goal_met() or sim_lesson_runner_give_up(); sim_lesson_runner_next() moves on.
 */
typedef enum {
  SIM_LESSON_ANSWER_CORRECT,
  SIM_LESSON_ANSWER_INCORRECT,
  SIM_LESSON_ANSWER_INVALID,   /* not an option, not a number...: ask again */
} SimLessonAnswer;

#define SIM_TYPE_LESSON_RUNNER (sim_lesson_runner_get_type ())
G_DECLARE_FINAL_TYPE (SimLessonRunner, sim_lesson_runner, SIM, LESSON_RUNNER, GObject)

SimLessonRunner *sim_lesson_runner_new      (SimLesson       *lesson,
                                             GError         **error) G_GNUC_WARN_UNUSED_RESULT;
SimLesson   *sim_lesson_runner_get_lesson   (SimLessonRunner *self);
SimWorld    *sim_lesson_runner_get_world    (SimLessonRunner *self);
/* The index of the current item; sim_lesson_get_n_items() when the lesson is done. */
guint        sim_lesson_runner_get_position (SimLessonRunner *self);
const SimLessonItem *sim_lesson_runner_get_item (SimLessonRunner *self);
gboolean     sim_lesson_runner_is_done      (SimLessonRunner *self);
gboolean     sim_lesson_runner_enter        (SimLessonRunner *self,
                                             GError         **error);
/*
 * Trace events the student has not been shown yet (borrowed events, new array); marks them
 * shown.  A view calls this after enter/answer/command to draw what just happened.
 */
GPtrArray   *sim_lesson_runner_take_new_events (SimLessonRunner *self) G_GNUC_WARN_UNUSED_RESULT;
/*
 * The current choice's options in the order this student sees them (borrowed
 * SimLessonOption*, new array; empty for other items): the i-th is shown as 'a' + i.  The
 * order comes from the world's seed, so students with different seeds see different orders.
 */
GPtrArray   *sim_lesson_runner_get_options  (SimLessonRunner *self) G_GNUC_WARN_UNUSED_RESULT;
/* The letter ("c") under which this student sees option @key of the current choice, or NULL. */
char        *sim_lesson_runner_get_option_letter (SimLessonRunner *self,
                                                  const char      *key) G_GNUC_WARN_UNUSED_RESULT;
/*
 * How many trace events the student has been shown (what a view may reveal, e.g. headers).
 * Until a prediction is answered, the events that would give it away (a line that says the
 * answer, the predicted packet) and all after them are held back.
 */
guint        sim_lesson_runner_get_n_shown  (SimLessonRunner *self);
/*
 * Answers the current question: a prediction with a value, a choice with the letter the
 * student sees (sim_lesson_runner_get_options()), not the option's key in the file.  For a
 * prediction the world first runs to the predicted packet.  @explanation_out: what happened
 * and why (the item's "explain:" text and, for a prediction, the value the simulator
 * produced).
 */
SimLessonAnswer sim_lesson_runner_answer    (SimLessonRunner *self,
                                             const char      *answer,
                                             char           **explanation_out,
                                             GError         **error);
/* A task command ("register bob-soft"); the world then runs the task's settle time. */
gboolean     sim_lesson_runner_command      (SimLessonRunner *self,
                                             const char      *command,
                                             GError         **error);
/* Whether every goal of the current task holds; @why_out names the first that does not. */
gboolean     sim_lesson_runner_goal_met     (SimLessonRunner *self,
                                             char           **why_out);
/*
 * Gives up the current task: the world is rebuilt and replayed along the answer keys and
 * solutions up to and including this task, so the rest of the lesson plays as written.
 */
gboolean     sim_lesson_runner_give_up      (SimLessonRunner *self,
                                             GError         **error);
void         sim_lesson_runner_next         (SimLessonRunner *self);
/* Progress: questions answered and how many right on the first try; tasks done. */
guint        sim_lesson_runner_get_n_answered (SimLessonRunner *self);
guint        sim_lesson_runner_get_n_correct  (SimLessonRunner *self);
guint        sim_lesson_runner_get_n_tasks_done (SimLessonRunner *self);

/* What sim_lesson_check() found. */
typedef struct {
  guint n_steps;
  guint n_questions;
  guint n_tasks;
  guint n_claims;            /* every until, expect, highlight, answer key and goal verified */
  GPtrArray *failures;       /* char*: "FILE:LINE: what did not hold" */
  GPtrArray *warnings;       /* char*: "FILE:LINE: warning: ...": worth a look, not a failure */
} SimLessonReport;

void         sim_lesson_report_clear        (SimLessonReport *report);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (SimLessonReport, sim_lesson_report_clear)

/*
 * Plays every item with the answer keys and solutions and verifies every claim in the
 * simulator.  Returns TRUE when nothing failed; @report (may be NULL) gets the counts,
 * failures and warnings either way.  Also fails a task whose goals come true with no
 * command at all (the world left to run on its own for SIM_LESSON_IDLE_HORIZON), and a
 * question whose answer the lesson shows before it is asked (in its text, options,
 * explanations, or the ladder lines shown with it); warns when most of a lesson's choice
 * keys are the longest option, or the same letter.
 */
gboolean     sim_lesson_check               (SimLesson       *lesson,
                                             SimLessonReport *report);

/* Evaluates a claim ("bindings sip:bob@lab.example == 2") against @world now; events since
 * trace index @since are what "happened", "count" and "last-status" look at. */
gboolean     sim_lesson_eval_claim          (SimWorld        *world,
                                             const char      *claim,
                                             guint            since,
                                             gboolean        *holds,
                                             char           **why_out,
                                             GError         **error);

G_END_DECLS
