/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "sim-lesson-private.h"

#include <stdlib.h>
#include <string.h>

/*
 * sim_lesson_check(): plays every item with the answer keys and solutions and verifies every
 * claim in the simulator, so a lesson whose text says "the registrar answers 423" fails its
 * check when the simulator does not.  It also grades the grading:
 *
 *  - a task whose goals come true with no command at all (the world left to run on its own
 *    for SIM_LESSON_IDLE_HORIZON: refreshes, expiries) is "done by doing nothing";
 *  - a question whose answer the student reads before it is asked fails: in the title, the
 *    introduction, an earlier item's text, option, explanation, hint or solution, or a ladder
 *    line shown with the question (sim-lesson-leak.c says what "says the answer" means).
 *    Text that narrates a value the ladder has already shown ("the 401 Eve got") is fine, as
 *    long as it comes before the previous question's answer: since then, anything counts;
 *  - a lesson whose choice keys are mostly the longest option, or mostly one letter, gets a
 *    warning.
 */

void
sim_lesson_report_clear (SimLessonReport *report)
{
  g_clear_pointer (&report->failures, g_ptr_array_unref);
  g_clear_pointer (&report->warnings, g_ptr_array_unref);
  report->n_steps = report->n_questions = report->n_tasks = report->n_claims = 0;
}

static void
report_add (GPtrArray  *list,
            SimLesson  *lesson,
            guint       line,
            const char *format,
            va_list     args)
{
  g_autofree char *message = g_strdup_vprintf (format, args);

  g_ptr_array_add (list, g_strdup_printf ("%s:%u: %s", lesson->file, line, message));
}

static void
report_fail (SimLessonReport *r,
             SimLesson       *lesson,
             guint            line,
             const char      *format,
             ...) G_GNUC_PRINTF (4, 5);

static void
report_fail (SimLessonReport *r,
             SimLesson       *lesson,
             guint            line,
             const char      *format,
             ...)
{
  va_list args;

  va_start (args, format);
  report_add (r->failures, lesson, line, format, args);
  va_end (args);
}

static void
report_warn (SimLessonReport *r,
             SimLesson       *lesson,
             guint            line,
             const char      *format,
             ...) G_GNUC_PRINTF (4, 5);

static void
report_warn (SimLessonReport *r,
             SimLesson       *lesson,
             guint            line,
             const char      *format,
             ...)
{
  g_autofree char *with_prefix = g_strconcat ("warning: ", format, NULL);
  va_list args;

  va_start (args, format);
  report_add (r->warnings, lesson, line, with_prefix, args);
  va_end (args);
}

/* ------------------------------------------------------------------------------------------ */
/* What the student has read                                                                  */

/* A piece of text the student has been shown, and when. */
typedef struct {
  char *what;                /* "the introduction", "the explanation of \"...\"" */
  const char *text;          /* borrowed from the lesson */
  guint line;                /* the file's line of the text (of its first line) */
  GArray *lines;             /* borrowed: the file's line of each line of @text, or NULL */
  guint shown;               /* trace events shown by the time the student reads it */
} Shown;

static void
shown_clear (Shown *s)
{
  g_free (s->what);
}

typedef struct {
  SimLessonRunner *runner;
  SimLessonReport *r;
  GArray *read;              /* Shown, in the order the student reads them */
  guint window;              /* index in @read: what came after the last answered question */
} Checker;

static void
add_read (Checker    *k,
          const char *text,
          guint       line,
          GArray     *lines,
          char       *what)
{
  Shown s = { what, text, line, lines, sim_lesson_runner_get_n_shown (k->runner) };

  if (text == NULL || *text == '\0')
    {
      g_free (what);
      return;
    }
  g_array_append_val (k->read, s);
}

/* The file's line of byte @at of @s's text. */
static guint
line_of (const Shown *s,
         gsize        at)
{
  guint n = 0;

  if (s->lines == NULL || s->lines->len == 0)
    return s->line;
  for (gsize i = 0; i < at && s->text[i] != '\0'; i++)
    n += s->text[i] == '\n';
  return g_array_index (s->lines, guint, MIN (n, s->lines->len - 1));
}

/* Marks trace events as shown, as a view does after every step (the runner holds some back). */
static void
show_new_events (SimLessonRunner *runner)
{
  g_autoptr(GPtrArray) events = sim_lesson_runner_take_new_events (runner);
}

/* The item's text, title and options as the student reads them when it is entered. */
static void
add_item_read (Checker             *k,
               const SimLessonItem *item)
{
  add_read (k, item->title, item->line, NULL, g_strdup_printf ("the title of \"%s\"", item->title));
  add_read (k, item->text, item->line + 1, item->parsed->text_lines,
            g_strdup_printf ("the text of \"%s\"", item->title));
  for (guint i = 0; i < item->options->len; i++)
    {
      const SimLessonOption *o = item->options->pdata[i];

      add_read (k, o->text, o->line, NULL,
                g_strdup_printf ("option %s of \"%s\"", o->key, item->title));
    }
}

/* Whether the ladder had shown, by trace index @limit, a packet whose asked-for field is the
 * answer: text that names it narrates what happened. */
static gboolean
already_seen (SimLessonRunner     *runner,
              const SimLessonItem *q,
              guint                limit)
{
  SimTrace *trace = sim_world_get_trace (sim_lesson_runner_get_world (runner));

  if (q->kind != SIM_LESSON_PREDICT)
    return FALSE;
  for (guint i = 0; i < limit && i < sim_trace_get_n_events (trace); i++)
    {
      SimEvent *e = sim_trace_get_event (trace, i);
      g_autofree char *value = NULL;

      if (e->type != SIM_EVENT_PACKET || g_strcmp0 (e->action, "sent") != 0)
        continue;
      value = _sim_lesson_prediction_value (q->predict, e);
      if (_sim_lesson_prediction_accepts (q->predict, value, q->answer->text))
        return TRUE;
    }
  return FALSE;
}

/* "...the registrar answers «401 Unauthorized» with...": the match in a line of context. */
static char *
quote_match (const char *text,
             gsize       at,
             gsize       len)
{
  gsize from = at > 30 ? at - 30 : 0;
  gsize to = MIN (strlen (text), at + len + 30);
  g_autofree char *before = g_strndup (text + from, at - from);
  g_autofree char *match = g_strndup (text + at, len);
  g_autofree char *after = g_strndup (text + at + len, to - at - len);
  char *quoted = g_strdup_printf ("%s%s«%s»%s%s", from > 0 ? "..." : "", before, match, after,
                                  to < strlen (text) ? "..." : "");

  g_strdelimit (quoted, "\n", ' ');
  return quoted;
}

/* Fails @q when what the student read before it says its answer. */
static void
check_text_before (Checker             *k,
                   const SimLessonItem *q)
{
  for (guint i = 0; i < k->read->len; i++)
    {
      const Shown *s = &g_array_index (k->read, Shown, i);
      g_autofree char *quoted = NULL;
      gsize at, len;

      if (!_sim_lesson_gives_away (q, s->text, &at, &len))
        continue;
      if (i < k->window && already_seen (k->runner, q, s->shown))
        continue;
      quoted = quote_match (s->text, at, len);
      report_fail (k->r, k->runner->lesson, line_of (s, at), "%s gives away the answer to "
                   "\"%s\" (line %u) before it is asked: %s", s->what, q->title, q->line,
                   quoted);
    }
}

/* The line of what an item runs: its "do:" or "run:", else its heading. */
static guint
item_action_line (const SimLessonItem *item)
{
  if (item->commands->len > 0)
    return ((SimLessonLine *) item->commands->pdata[0])->line;
  if (item->until != NULL)
    return item->until->line;
  return item->line;
}

/*
 * Fails @q when the ladder shown with it (trace events [@from, @to)) gives its answer away:
 * the runner holds such lines back, so this holds unless it stops doing so.
 */
static void
check_ladder_before (Checker             *k,
                     const SimLessonItem *q,
                     guint                from,
                     guint                to)
{
  SimTrace *trace = sim_world_get_trace (sim_lesson_runner_get_world (k->runner));

  for (guint i = from; i < to; i++)
    {
      SimEvent *e = sim_trace_get_event (trace, i);
      g_autofree char *prose = NULL;

      if (!_sim_lesson_event_reveals (q, e))
        continue;
      prose = e->type == SIM_EVENT_PACKET ? g_strdup (e->first_line) : _sim_lesson_event_prose (e);
      report_fail (k->r, k->runner->lesson, item_action_line (q), "the ladder shown with \"%s\" "
                   "gives its answer away before it is asked: %s", q->title, prose);
      return;
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Claims                                                                                     */

static void
check_claims (SimLessonRunner *self,
              SimLessonReport *r,
              GPtrArray       *claims,
              guint            since,
              const char      *what)
{
  for (guint i = 0; i < claims->len; i++)
    {
      const SimLessonClaim *c = claims->pdata[i];
      gboolean holds = FALSE;
      g_autofree char *why = NULL;
      GError *local = NULL;

      r->n_claims++;
      if (!_sim_lesson_claim_eval (c, self->world, since, &holds, &why, &local))
        {
          report_fail (r, self->lesson, c->line, "%s '%s': %s", what, c->text, local->message);
          g_error_free (local);
        }
      else if (!holds)
        report_fail (r, self->lesson, c->line, "%s '%s' does not hold: %s", what, c->text, why);
    }
}

static void
check_highlights (SimLessonRunner     *self,
                  SimLessonReport     *r,
                  const SimLessonItem *item)
{
  for (guint i = 0; i < item->highlights->len; i++)
    {
      const SimLessonHighlight *h = item->highlights->pdata[i];
      g_autofree char *why = NULL;

      r->n_claims++;
      if (!_sim_lesson_highlight_holds (h, self->world, &why))
        report_fail (r, self->lesson, h->line, "%s", why);
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Questions                                                                                  */

/* Plays a prediction with its answer key: the key must be what the simulator produces. */
static void
check_prediction (SimLessonRunner     *runner,
                  SimLessonReport     *r,
                  const SimLessonItem *item)
{
  g_autofree char *expl = NULL;
  GError *error = NULL;
  SimLessonAnswer a;

  r->n_claims++;
  /* By key: a key may stand for a value computed from the packet ("digest PASSWORD"). */
  a = _sim_lesson_runner_answer_key (runner, &expl, &error);
  if (a == SIM_LESSON_ANSWER_INVALID)
    {
      report_fail (r, runner->lesson, item->answer->line,
                   "the answer key '%s' cannot be checked: %s", item->answer->text,
                   error ? error->message : (expl ? expl : "not a valid answer"));
      g_clear_error (&error);
    }
  else if (a == SIM_LESSON_ANSWER_INCORRECT)
    report_fail (r, runner->lesson, item->answer->line,
                 "the answer key '%s' is wrong for 'predict: %s'. %s", item->answer->text,
                 item->predict->text, expl);
}

/* Plays a choice with its key, given as the letter this student sees it under. */
static void
check_choice (SimLessonRunner     *runner,
              SimLessonReport     *r,
              const SimLessonItem *item)
{
  g_autofree char *letter = sim_lesson_runner_get_option_letter (runner, item->answer->text);

  r->n_claims++;
  if (letter == NULL ||
      sim_lesson_runner_answer (runner, letter, NULL, NULL) != SIM_LESSON_ANSWER_CORRECT)
    report_fail (r, runner->lesson, item->answer->line, "the answer key '%s' is not accepted",
                 item->answer->text);
}

/* A question: nothing before it says its answer; then its key is played. */
static void
check_question (Checker             *k,
                const SimLessonItem *item,
                guint                shown_before)
{
  check_text_before (k, item);
  if (item->kind == SIM_LESSON_PREDICT)
    check_ladder_before (k, item, shown_before, sim_lesson_runner_get_n_shown (k->runner));
  add_item_read (k, item);
  if (item->kind == SIM_LESSON_PREDICT)
    check_prediction (k->runner, k->r, item);
  else
    check_choice (k->runner, k->r, item);
  show_new_events (k->runner);
  /* From the answer on (the right option, the explanation), anything that says the next
   * answer gives it away. */
  k->window = k->read->len;
  for (guint i = 0; item->kind == SIM_LESSON_CHOICE && i < item->options->len; i++)
    {
      const SimLessonOption *o = item->options->pdata[i];

      if (g_ascii_strcasecmp (o->key, item->answer->text) == 0)
        add_read (k, o->text, o->line, NULL,
                  g_strdup_printf ("the right answer of \"%s\"", item->title));
    }
  add_read (k, item->explain, item->parsed->explain_line, NULL,
            g_strdup_printf ("the explanation of \"%s\"", item->title));
}

/* ------------------------------------------------------------------------------------------ */
/* Tasks                                                                                      */

/* How long the solution lets the world run: each command's settle, and what it waits. */
static SimTime
solution_time (const SimLessonItem *item)
{
  SimTime total = 0;

  for (guint i = 0; i < item->solution->len; i++)
    {
      const char *command = ((SimLessonLine *) item->solution->pdata[i])->text;
      SimTime wait = 0;

      if (g_str_has_prefix (command, "wait ") &&
          sim_scenario_parse_duration (command + 5, &wait, NULL) && wait > 0)
        total += wait;
      total += item->settle;
    }
  return total;
}

static gboolean
goals_hold (SimLessonRunner     *runner,
            const SimLessonItem *item)
{
  for (guint i = 0; i < item->parsed->goals->len; i++)
    {
      gboolean holds = FALSE;

      if (!_sim_lesson_claim_eval (item->parsed->goals->pdata[i], runner->world,
                                   runner->task_mark, &holds, NULL, NULL) || !holds)
        return FALSE;
    }
  return TRUE;
}

/*
 * Plays the task at @position with no command: the world runs on its own for the idle horizon
 * (or the solution's time, if longer) and the goals are evaluated after every change.  If
 * they ever all hold, the task grades nothing.
 */
static void
check_not_done_by_doing_nothing (SimLesson           *lesson,
                                 SimLessonReport     *r,
                                 guint                position,
                                 const SimLessonItem *item)
{
  g_autoptr(SimLessonRunner) idle = sim_lesson_runner_new (lesson, NULL);
  SimWorld *world;
  SimClock *clock;
  SimTime start, end, next;
  guint seen = 0;

  /* A lesson that cannot get here fails elsewhere; this check has nothing to add then. */
  if (idle == NULL || !_sim_lesson_runner_replay_to (idle, position, NULL))
    return;
  world = idle->world;
  clock = sim_world_get_clock (world);
  start = sim_world_now (world);
  end = start + MAX (SIM_LESSON_IDLE_HORIZON, solution_time (item));
  for (gboolean last = FALSE;; )
    {
      guint n = sim_trace_get_n_events (sim_world_get_trace (world));

      if ((n != seen || seen == 0 || last) && goals_hold (idle, item))
        {
          g_autofree char *waited = sim_scenario_format_duration (sim_world_now (world) - start);

          if (sim_world_now (world) == start)
            report_fail (r, lesson, item->line, "task \"%s\" is done by doing nothing (every "
                         "goal already holds when it is posed)", item->title);
          else
            report_fail (r, lesson, item->line, "task \"%s\" is done by doing nothing (every "
                         "goal holds after %s of waiting, with no command)", item->title, waited);
          return;
        }
      seen = n;
      if (last)
        return;
      /* Event by event; at the end, the clock itself to the horizon (a lazy expiry). */
      if (!sim_clock_next_deadline (clock, &next) || next > end || !sim_world_step_event (world))
        {
          sim_world_run_until (world, end);
          last = TRUE;
        }
    }
}

/* Plays a task with its solution: its goals must hold after it. */
static void
check_task (Checker             *k,
            const SimLessonItem *item)
{
  SimLessonRunner *runner = k->runner;
  GError *error = NULL;

  add_item_read (k, item);
  add_read (k, item->hint, item->parsed->hint_line, NULL,
            g_strdup_printf ("the hint of \"%s\"", item->title));
  check_not_done_by_doing_nothing (runner->lesson, k->r, runner->position, item);
  if (!_sim_lesson_runner_run_commands (runner, item->solution, item->settle, &error))
    {
      g_ptr_array_add (k->r->failures, g_strdup (error->message));
      g_clear_error (&error);
    }
  check_claims (runner, k->r, item->parsed->goals, runner->task_mark,
                "after the solution, the goal");
  show_new_events (runner);
  /* A student who skips is shown the solution. */
  for (guint i = 0; i < item->solution->len; i++)
    {
      SimLessonLine *l = item->solution->pdata[i];

      add_read (k, l->text, l->line, NULL,
                g_strdup_printf ("the solution of \"%s\"", item->title));
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Items                                                                                      */

static void
check_item (Checker             *k,
            const SimLessonItem *item)
{
  SimLessonRunner *runner = k->runner;
  SimLessonReport *r = k->r;
  GError *error = NULL;
  guint shown_before = sim_lesson_runner_get_n_shown (runner);

  if (item->kind == SIM_LESSON_STEP)
    r->n_steps++;
  else if (item->kind == SIM_LESSON_TASK)
    r->n_tasks++;
  else
    r->n_questions++;

  if (item->until != NULL)
    r->n_claims++;
  if (!sim_lesson_runner_enter (runner, &error))
    {
      g_ptr_array_add (r->failures, g_strdup (error->message));
      g_clear_error (&error);
      /* Go on: later items may still tell the teacher something useful. */
      runner->entered = TRUE;
    }
  show_new_events (runner);

  switch (item->kind)
    {
    case SIM_LESSON_PREDICT:
    case SIM_LESSON_CHOICE:
      check_question (k, item, shown_before);
      break;
    case SIM_LESSON_TASK:
      check_task (k, item);
      break;
    case SIM_LESSON_STEP:
    default:
      add_item_read (k, item);
      break;
    }
  /* "expect:" looks at the whole session so far; a task's goals at what followed its posing. */
  check_claims (runner, r, item->parsed->expects, 0, "the claim");
  check_highlights (runner, r, item);
}

/* ------------------------------------------------------------------------------------------ */
/* Keys                                                                                       */

/* Whether @item's key is the one option longer than all the others. */
static gboolean
key_is_longest (const SimLessonItem *item)
{
  gsize key_len = 0, other_max = 0;

  for (guint i = 0; i < item->options->len; i++)
    {
      const SimLessonOption *o = item->options->pdata[i];
      gsize len = g_utf8_strlen (o->text, -1);

      if (g_ascii_strcasecmp (o->key, item->answer->text) == 0)
        key_len = len;
      else
        other_max = MAX (other_max, len);
    }
  return key_len > other_max;
}

/*
 * Students learn patterns: a key that is usually the longest option, or usually "b", is
 * answered without reading.  More than half of a lesson's choices (two at least) is "mostly".
 */
static void
check_key_patterns (SimLesson       *lesson,
                    SimLessonReport *r)
{
  g_autoptr(GHashTable) letters = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  guint n = 0, longest = 0, first_line = 0, most = 0;
  const char *most_key = NULL;
  GHashTableIter iter;
  gpointer key, value;

  for (guint i = 0; i < lesson->items->len; i++)
    {
      const SimLessonItem *item = lesson->items->pdata[i];
      guint count;
      char *k;

      if (item->kind != SIM_LESSON_CHOICE)
        continue;
      if (n++ == 0)
        first_line = item->line;
      longest += key_is_longest (item);
      k = g_ascii_strdown (item->answer->text, -1);
      count = GPOINTER_TO_UINT (g_hash_table_lookup (letters, k));
      g_hash_table_insert (letters, k, GUINT_TO_POINTER (count + 1));
    }
  if (n < 2)
    return;
  if (longest * 2 > n)
    report_warn (r, lesson, first_line, "the key is the longest option in %u of %u choice "
                 "questions: make a wrong option the longest now and then", longest, n);
  g_hash_table_iter_init (&iter, letters);
  while (g_hash_table_iter_next (&iter, &key, &value))
    if (GPOINTER_TO_UINT (value) > most)
      {
        most = GPOINTER_TO_UINT (value);
        most_key = key;
      }
  if (most * 2 > n)
    report_warn (r, lesson, first_line, "the key is '%s' in %u of %u choice questions (students "
                 "see the options shuffled, but the file should not have a favourite)",
                 most_key, most, n);
}

/* ------------------------------------------------------------------------------------------ */
/* The entry point                                                                            */

gboolean
sim_lesson_check (SimLesson       *lesson,
                  SimLessonReport *report)
{
  g_autoptr(SimLessonRunner) runner = NULL;
  g_autoptr(GArray) read = g_array_new (FALSE, TRUE, sizeof (Shown));
  SimLessonReport local_report = { 0 };
  SimLessonReport *r = report ? report : &local_report;
  GError *error = NULL;
  gboolean ok;

  g_return_val_if_fail (SIM_IS_LESSON (lesson), FALSE);
  sim_lesson_report_clear (r);
  r->failures = g_ptr_array_new_with_free_func (g_free);
  r->warnings = g_ptr_array_new_with_free_func (g_free);
  g_array_set_clear_func (read, (GDestroyNotify) shown_clear);

  runner = sim_lesson_runner_new (lesson, &error);
  if (runner == NULL)
    {
      g_ptr_array_add (r->failures, g_strdup (error->message));
      g_error_free (error);
    }
  else
    {
      Checker k = { runner, r, read, 0 };

      add_read (&k, lesson->title, lesson->title_line, NULL, g_strdup ("the lesson's title"));
      add_read (&k, lesson->intro, lesson->intro_lines && lesson->intro_lines->len
                                     ? g_array_index (lesson->intro_lines, guint, 0) : 1,
                lesson->intro_lines, g_strdup ("the introduction"));
      for (; !sim_lesson_runner_is_done (runner); sim_lesson_runner_next (runner))
        check_item (&k, sim_lesson_runner_get_item (runner));
    }
  check_key_patterns (lesson, r);

  ok = r->failures->len == 0;
  if (r == &local_report)
    sim_lesson_report_clear (&local_report);
  return ok;
}
