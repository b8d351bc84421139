/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "sim-lesson.h"
#include "sim-lesson-student.h"
#include "sim-message.h"

G_BEGIN_DECLS

/*
 * What the pieces of the lesson engine share (sim/lesson/): the objects' structs, the parsed
 * forms of the three small languages a lesson uses, and the functions that parse and evaluate
 * them.  lessons/README.md is the format reference; the grammars:
 *
 *   events   (run: until ..., predict: FIELD of ..., happened/never/count claims)
 *            t=120s | +30s | for 30s | end
 *            binding|nonce|registration|call|lookup|timer|node|transaction [ACTION] [ARGS]
 *            note [WORDS] | error
 *            WHAT [with H] [without H] [from N] [to N] [arrives at N] [leaves N] [sent|delivered|dropped|retransmitted]
 *              WHAT: METHOD (REGISTER), CODE (401), CLASS (2xx), request, response, packet
 *   claims   bindings AOR OP N | [only] binding AOR CONTACT present|absent | total-bindings OP N
 *            reg-state DEVICE STATE | call-state DEVICE STATE | granted DEVICE OP N
 *            cseq DEVICE OP N | last-status CODE [from N] [to N] | happened EVENT
 *            never EVENT | count EVENT OP N
 *            value FIELD of PACKET OP VALUE | value FIELD of PACKET OP FIELD of PACKET
 *   commands register DEVICE [expires N] | unregister DEVICE [all] | call DEVICE WHO
 *            hangup DEVICE | move DEVICE IP | power-off DEVICE | power-on DEVICE
 *            password DEVICE PW | password user USER PW | replay DEVICE [from HOST]
 *            [new-call-id] [bump-cseq] | learn DEVICE USER IP | fill-address-books
 *            policy KEY VALUE [KEY VALUE...] | link NODE NODE [latency D] [jitter D]
 *            [loss N%] | wait DURATION
 *
 * Events, claims, predictions and highlights are parsed once, when the file is loaded (so a
 * typo is a "file:line:" error before anything runs), into the typed structs below that the
 * runner and the checker use; the items keep the text beside them for a view to show.
 * Commands are checked when the file is loaded and parsed again when they run
 * (sim-lesson-command.c).
 */

#define SIM_LESSON_DEFAULT_SETTLE SIM_SEC (10)
#define SIM_LESSON_DEFAULT_HORIZON SIM_SEC (2 * 3600)
/*
 * How long check lets the world run on its own, with no command, to see whether a task's
 * goals come true by themselves (a refresh, an expiry): an hour of simulated time, or the
 * solution's own time when that is longer.  A student can always wait ("wait 1h", Play in the
 * GUI), so a task whose goals hold at any moment of that is done by doing nothing.
 */
#define SIM_LESSON_IDLE_HORIZON SIM_SEC (3600)

/* ------------------------------------------------------------------------------------------ */
/* The objects                                                                                */

typedef struct _SimLessonVary SimLessonVary;

struct _SimLesson {
  GObject parent_instance;
  char *file;
  char *id;
  char *title;
  guint title_line;
  char *intro;
  GArray *intro_lines;     /* guint: the file's line of each line of @intro */
  SimScenario *scene;
  GPtrArray *items;        /* SimLessonItem* */
  /* Whose exercise this is (sim-lesson-student.h). */
  guint32 seed;            /* 0: the lesson as written */
  char *student;           /* may be NULL */
  char *sha256;            /* of the text as read */
  SimLessonVary *vary;     /* the "vary:" values drawn for the seed */
};

struct _SimLessonRunner {
  GObject parent_instance;
  SimLesson *lesson;
  SimWorld *world;
  guint position;
  gboolean entered;
  gboolean resolved;       /* the current question has been answered */
  gboolean diverged;       /* the world followed the student's commands, not the solutions */
  guint scan;              /* trace index: events before it have been matched against */
  guint shown;             /* trace index: events before it have been handed to the view */
  guint visible;           /* trace index: events before it may be shown even if not scanned */
  guint mark;              /* trace index when the item was entered */
  guint task_mark;         /* trace index when the task was posed */
  guint n_answered;
  guint n_correct;
  guint n_tasks_done;
  GPtrArray *attempts;     /* SimLessonAttempt*, one per item (sim-lesson-student.h) */
};

/* ------------------------------------------------------------------------------------------ */
/* Events (sim-lesson-matcher.c)                                                              */

typedef enum {
  SIM_LESSON_MATCH_TIME,     /* t=120s */
  SIM_LESSON_MATCH_REL,      /* +30s */
  SIM_LESSON_MATCH_END,      /* the scene's run length */
  SIM_LESSON_MATCH_EVENT,
} SimLessonMatchKind;

/* Which packets an event names by its first word. */
typedef enum {
  SIM_LESSON_PACKET_ANY,       /* packet, message, any */
  SIM_LESSON_PACKET_REQUEST,   /* request, a method */
  SIM_LESSON_PACKET_RESPONSE,  /* response, a status, a class */
} SimLessonPacketKind;

typedef struct {
  SimLessonMatchKind kind;
  SimTime t;
  SimTime horizon;
  SimEventType type;
  char *action;            /* NULL: any; for packets "sent" also matches "retransmitted" */
  char *node;              /* event->node, or the AOR of a binding/lookup */
  char *contact;           /* binding */
  char *text;              /* note */
  /* packets */
  char *method;
  int status;              /* 0: any */
  int status_class;        /* 2 for 2xx; 0: any */
  SimLessonPacketKind packet;
  char *from;
  char *to;
  GPtrArray *with;
  GPtrArray *without;
} SimLessonMatcher;

void              _sim_lesson_matcher_free         (SimLessonMatcher  *m);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SimLessonMatcher, _sim_lesson_matcher_free)
/* @w: the words of the event, NULL-terminated. */
SimLessonMatcher *_sim_lesson_matcher_parse_words  (char             **w,
                                                    GError           **error);
/* "until 401 arrives at alice-desk", "next REGISTER", "t=120s". */
SimLessonMatcher *_sim_lesson_matcher_parse        (const char        *text,
                                                    GError           **error);
gboolean          _sim_lesson_matcher_matches      (const SimLessonMatcher *m,
                                                    const SimEvent         *e);
/* Whether @e is a packet @m names, whatever happened to it (sent, delivered, dropped). */
gboolean          _sim_lesson_matcher_names_packet (const SimLessonMatcher *m,
                                                    const SimEvent         *e);

/* ------------------------------------------------------------------------------------------ */
/* Claims (sim-lesson-claim.c)                                                                */

typedef enum {
  SIM_LESSON_OP_EQ,
  SIM_LESSON_OP_NE,
  SIM_LESSON_OP_LT,
  SIM_LESSON_OP_LE,
  SIM_LESSON_OP_GT,
  SIM_LESSON_OP_GE,
} SimLessonOp;

typedef enum {
  SIM_LESSON_CLAIM_BINDINGS,
  SIM_LESSON_CLAIM_TOTAL_BINDINGS,
  SIM_LESSON_CLAIM_BINDING,
  SIM_LESSON_CLAIM_REG_STATE,
  SIM_LESSON_CLAIM_CALL_STATE,
  SIM_LESSON_CLAIM_GRANTED,
  SIM_LESSON_CLAIM_CSEQ,
  SIM_LESSON_CLAIM_LAST_STATUS,
  SIM_LESSON_CLAIM_HAPPENED,
  SIM_LESSON_CLAIM_NEVER,
  SIM_LESSON_CLAIM_COUNT,
  SIM_LESSON_CLAIM_VALUE,
} SimLessonClaimKind;

/* A claim, parsed.  Which fields a kind uses is said beside them. */
typedef struct {
  SimLessonClaimKind kind;
  char *text;                /* as written, for messages */
  guint line;                /* 0 when it comes from no file */
  char *subject;             /* the AOR (bindings, binding) or the phone (states, granted, cseq) */
  char *contact;             /* binding */
  gboolean present;          /* binding: present (TRUE) or absent */
  char *state;               /* reg-state, call-state */
  SimLessonOp op;            /* bindings, total-bindings, granted, cseq, count */
  guint64 number;            /* the N of "OP N"; last-status: the code */
  char *from;                /* last-status: may be NULL */
  char *to;                  /* last-status: may be NULL */
  SimLessonMatcher *event;   /* happened, never, count */
  /* "only binding ...": and no other binding was added, removed or expired since @since */
  gboolean only;
  GPtrArray *named;          /* only: "AOR CONTACT" of every binding the task's "only" goals name */
  /* value FIELD of PACKET OP (VALUE | FIELD of PACKET) */
  SimLessonPrediction *field;
  SimLessonMatcher *packet;
  SimLessonPrediction *ref_field;    /* NULL: compare with @literal */
  SimLessonMatcher *ref_packet;
  char *literal;
} SimLessonClaim;

void            _sim_lesson_claim_free      (SimLessonClaim  *claim);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SimLessonClaim, _sim_lesson_claim_free)
SimLessonClaim *_sim_lesson_claim_parse     (const char      *text,
                                             guint            line,
                                             GError         **error);
/*
 * Whether @claim holds in @world now; events from trace index @since on are what "happened",
 * "count" and "last-status" look at.  @why_out: what the world has instead.  FALSE with
 * @error when the claim names something the world lacks (a phone).
 */
gboolean        _sim_lesson_claim_eval      (const SimLessonClaim *claim,
                                             SimWorld             *world,
                                             guint                 since,
                                             gboolean             *holds,
                                             char                **why_out,
                                             GError              **error);

/* ------------------------------------------------------------------------------------------ */
/* Predictions (sim-lesson-prediction.c)                                                      */

void                 _sim_lesson_prediction_free  (SimLessonPrediction  *p);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SimLessonPrediction, _sim_lesson_prediction_free)
/* "status of 401 arrives at alice-desk": the field, and the packet in @packet_out. */
SimLessonPrediction *_sim_lesson_prediction_parse (const char        *text,
                                                   guint              line,
                                                   SimLessonMatcher **packet_out,
                                                   GError           **error);
/* The value of the predicted field in @e, as text; NULL when the packet does not carry it. */
char                *_sim_lesson_prediction_value (const SimLessonPrediction *p,
                                                   const SimEvent            *e);
/* Whether the field wants a number (an answer "ok" is then not an answer at all). */
gboolean             _sim_lesson_prediction_is_numeric (const SimLessonPrediction *p);
gboolean             _sim_lesson_prediction_accepts   (const SimLessonPrediction *p,
                                                       const char                *actual,
                                                       const char                *answer);
/*
 * The value answer key @key stands for in packet @e: the key itself, except "digest PASSWORD"
 * for a response, which is computed here from @e's Authorization and PASSWORD (RFC 7616
 * §3.4.1, independently of sim-digest.c).  NULL with @why_out when it cannot be computed.
 */
char                *_sim_lesson_prediction_key_value (const SimLessonPrediction *p,
                                                       const char                *key,
                                                       const SimEvent            *e,
                                                       char                     **why_out);

/* ------------------------------------------------------------------------------------------ */
/* Highlights (sim-lesson-highlight.c)                                                        */

void                _sim_lesson_highlight_free  (SimLessonHighlight  *h);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SimLessonHighlight, _sim_lesson_highlight_free)
SimLessonHighlight *_sim_lesson_highlight_parse (const char  *text,
                                                 guint        line,
                                                 GError     **error);
/* Whether what @h points at exists in @world now; @why_out says what is missing. */
gboolean            _sim_lesson_highlight_holds (const SimLessonHighlight *h,
                                                 SimWorld                 *world,
                                                 char                    **why_out);

/* ------------------------------------------------------------------------------------------ */
/* What gives an answer away (sim-lesson-leak.c)                                              */

/*
 * Whether @text says the answer of @item (a question: its key), by the rules in
 * sim-lesson-leak.c; @at_out, @len_out: where in @text.
 */
gboolean        _sim_lesson_gives_away        (const SimLessonItem *item,
                                               const char          *text,
                                               gsize               *at_out,
                                               gsize               *len_out);
/* A trace event's words as a ladder line shows them ("registration unregistering ..."). */
char           *_sim_lesson_event_prose       (const SimEvent      *e);
/* Whether showing @e before @item is answered would give its answer away: the predicted
 * packet itself, or a line that says the answer. */
gboolean        _sim_lesson_event_reveals     (const SimLessonItem *item,
                                               const SimEvent      *e);

/* ------------------------------------------------------------------------------------------ */
/* Items (sim-lesson.c)                                                                       */

struct _SimLessonItemParsed {
  SimLessonMatcher *until;       /* item->until, or NULL */
  SimLessonMatcher *predicted;   /* the packet of item->predict, or NULL */
  GPtrArray *expects;            /* SimLessonClaim*, one per item->expects */
  GPtrArray *goals;              /* SimLessonClaim*, one per item->goals */
  GArray *text_lines;            /* guint: the file's line of each line of item->text */
  guint explain_line;            /* the "explain:" line, or 0 */
  guint hint_line;               /* the "hint:" line, or 0 */
};

SimLessonLine  *_sim_lesson_line_new          (const char        *text,
                                               guint              line);
void            _sim_lesson_line_free         (SimLessonLine     *l);
SimLessonItem  *_sim_lesson_item_new          (SimLessonItemKind  kind,
                                               const char        *title,
                                               guint              line);

/* ------------------------------------------------------------------------------------------ */
/* Small helpers (sim-lesson.c)                                                               */

/* The words of @text, split at spaces and tabs. */
char          **_sim_lesson_tokenize          (const char   *text);
gboolean        _sim_lesson_parse_uint        (const char   *text,
                                               guint64      *out);
/* Sets a SIM_LESSON_ERROR_SYNTAX error; returns FALSE. */
gboolean        _sim_lesson_syntax_error      (GError      **error,
                                               const char   *format,
                                               ...) G_GNUC_PRINTF (2, 3);
/* Sets a @code error that names its place, "FILE:LINE: message"; returns FALSE. */
gboolean        _sim_lesson_error_at_va       (GError      **error,
                                               SimLessonError code,
                                               const char   *file,
                                               guint         line,
                                               const char   *format,
                                               va_list       args) G_GNUC_PRINTF (5, 0);
/* Whether @word is one of the NULL-terminated @words. */
gboolean        _sim_lesson_word_in           (const char   *word,
                                               const char * const *words);

/* ------------------------------------------------------------------------------------------ */
/* Commands (sim-lesson-command.c)                                                            */

/* Runs @command on @world; with @world NULL, only parses it, checking names against @scene. */
gboolean        _sim_lesson_command_run       (SimWorld     *world,
                                               SimScenario  *scene,
                                               const char   *command,
                                               GError      **error);

/* ------------------------------------------------------------------------------------------ */
/* The runner, for the checker (sim-lesson-runner.c)                                          */

/* Runs @commands now, each followed by @settle of simulated time. */
gboolean        _sim_lesson_runner_run_commands (SimLessonRunner  *self,
                                                 GPtrArray        *commands,
                                                 SimTime           settle,
                                                 GError          **error);
/* Rebuilds the world, plays items [0, @position) with the keys and enters item @position. */
gboolean        _sim_lesson_runner_replay_to    (SimLessonRunner  *self,
                                                 guint             position,
                                                 GError          **error);
/* How much of the trace may be shown now: what has run, less what would give the open
 * prediction away (sim_lesson_runner_take_new_events() hands over up to here). */
guint           _sim_lesson_runner_reveal_limit (SimLessonRunner  *self);

/* ------------------------------------------------------------------------------------------ */
/* Per-student exercises (sim-lesson-vary.c, sim-lesson-student.c)                            */

/* Reads @text's "vary:" lines and draws their values for @seed; NULL with a "FILE:LINE:" error. */
SimLessonVary  *_sim_lesson_vary_new          (const char     *text,
                                               const char     *file,
                                               guint32         seed,
                                               GError        **error);
void            _sim_lesson_vary_free         (SimLessonVary  *vary);
const char     *_sim_lesson_vary_lookup       (SimLessonVary  *vary,
                                               const char     *name);
/* @text with every {{NAME}} replaced by its value; an unknown NAME is a "FILE:LINE:" error. */
char           *_sim_lesson_vary_expand       (SimLessonVary  *vary,
                                               const char     *text,
                                               const char     *file,
                                               GError        **error);
/* sim_lesson_parse_data() for @seed and @student (may be NULL). */
SimLesson      *_sim_lesson_parse_data_full   (const char     *text,
                                               gssize          length,
                                               const char     *name,
                                               const char     *base_dir,
                                               guint32         seed,
                                               const char     *student,
                                               GError        **error);
/* sim_lesson_parse_file() for @seed and @student (may be NULL). */
SimLesson      *_sim_lesson_parse_file_full   (const char     *path,
                                               guint32         seed,
                                               const char     *student,
                                               GError        **error);
/* The runner's record of item @index, created empty when missing. */
SimLessonAttempt *_sim_lesson_runner_attempt  (SimLessonRunner *self,
                                               guint            index);
/* Answers the open question with its key (what check and a skip do); a "digest" key is computed. */
SimLessonAnswer _sim_lesson_runner_answer_key (SimLessonRunner *self,
                                               char           **explanation_out,
                                               GError         **error);
/* Rebuilds the world and plays items [0, @upto) along the keys; the student's record stays. */
gboolean        _sim_lesson_runner_replay     (SimLessonRunner *self,
                                               guint            upto,
                                               GError         **error);
/* Records @answer (cut at SIM_LESSON_ATTEMPT_MAX_ANSWER) as item @index's, or appends a task's. */
void            _sim_lesson_attempt_set_answer (SimLessonAttempt *attempt,
                                                const char       *answer,
                                                gboolean          append);

G_END_DECLS
