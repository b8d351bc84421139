/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "sim-lesson-private.h"

/*
 * sim_lesson_check(): plays every item with the answer keys and solutions and verifies every
 * claim in the simulator, so a lesson whose text says "the registrar answers 423" fails its
 * check when the simulator does not.
 */

void
sim_lesson_report_clear (SimLessonReport *report)
{
  g_clear_pointer (&report->failures, g_ptr_array_unref);
  report->n_steps = report->n_questions = report->n_tasks = report->n_claims = 0;
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
  g_autofree char *message = NULL;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_ptr_array_add (r->failures, g_strdup_printf ("%s:%u: %s", lesson->file, line, message));
}

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

/* Plays a task with its solution: its goals must hold after it, and not before. */
static void
check_task (SimLessonRunner     *runner,
            SimLessonReport     *r,
            const SimLessonItem *item)
{
  GPtrArray *goals = item->parsed->goals;
  GError *error = NULL;
  gboolean already = TRUE;

  /* A goal that holds before the student does anything grades nothing. */
  for (guint i = 0; i < goals->len && already; i++)
    {
      gboolean holds = FALSE;
      _sim_lesson_claim_eval (goals->pdata[i], runner->world, runner->task_mark, &holds, NULL,
                              NULL);
      already = holds;
    }
  if (already)
    report_fail (r, runner->lesson, item->line, "every goal of this task already holds before any "
                 "command: the task grades nothing");
  if (!_sim_lesson_runner_run_commands (runner, item->solution, item->settle, &error))
    {
      g_ptr_array_add (r->failures, g_strdup (error->message));
      g_clear_error (&error);
    }
  check_claims (runner, r, goals, runner->task_mark, "after the solution, the goal");
}

static void
check_item (SimLessonRunner     *runner,
            SimLessonReport     *r,
            const SimLessonItem *item)
{
  GError *error = NULL;

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

  switch (item->kind)
    {
    case SIM_LESSON_PREDICT:
      check_prediction (runner, r, item);
      break;
    case SIM_LESSON_CHOICE:
      r->n_claims++;
      if (_sim_lesson_runner_answer_key (runner, NULL, NULL) != SIM_LESSON_ANSWER_CORRECT)
        report_fail (r, runner->lesson, item->answer->line, "the answer key '%s' is not accepted",
                     item->answer->text);
      break;
    case SIM_LESSON_TASK:
      check_task (runner, r, item);
      break;
    case SIM_LESSON_STEP:
    default:
      break;
    }
  /* "expect:" looks at the whole session so far; a task's goals at what followed its posing. */
  check_claims (runner, r, item->parsed->expects, 0, "the claim");
  check_highlights (runner, r, item);
}

gboolean
sim_lesson_check (SimLesson       *lesson,
                  SimLessonReport *report)
{
  g_autoptr(SimLessonRunner) runner = NULL;
  SimLessonReport local_report = { 0 };
  SimLessonReport *r = report ? report : &local_report;
  GError *error = NULL;
  gboolean ok;

  g_return_val_if_fail (SIM_IS_LESSON (lesson), FALSE);
  sim_lesson_report_clear (r);
  r->failures = g_ptr_array_new_with_free_func (g_free);

  runner = sim_lesson_runner_new (lesson, &error);
  if (runner == NULL)
    {
      g_ptr_array_add (r->failures, g_strdup (error->message));
      g_error_free (error);
    }
  else
    for (; !sim_lesson_runner_is_done (runner); sim_lesson_runner_next (runner))
      check_item (runner, r, sim_lesson_runner_get_item (runner));

  ok = r->failures->len == 0;
  if (r == &local_report)
    sim_lesson_report_clear (&local_report);
  return ok;
}
