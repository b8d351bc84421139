/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "sim-lesson-private.h"

#include "sim-export.h"
#include "sim-i18n.h"

#include <string.h>

/*
 * SimLessonRunner plays a lesson on a SimWorld built from its scene: it enters items (their
 * "do:" commands and "run: until"), takes answers and task commands, evaluates goals, and
 * replays the model path (answer keys and solutions) when a student gives up or strays.
 */

G_DEFINE_FINAL_TYPE (SimLessonRunner, sim_lesson_runner, G_TYPE_OBJECT)

static void
sim_lesson_runner_finalize (GObject *object)
{
  SimLessonRunner *self = SIM_LESSON_RUNNER (object);

  g_clear_object (&self->world);
  g_clear_object (&self->lesson);
  g_clear_pointer (&self->attempts, g_ptr_array_unref);
  G_OBJECT_CLASS (sim_lesson_runner_parent_class)->finalize (object);
}

static void
sim_lesson_runner_class_init (SimLessonRunnerClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = sim_lesson_runner_finalize;
}

static void
sim_lesson_runner_init (SimLessonRunner *self)
{
}

static gboolean
build_world (SimLessonRunner  *self,
             GError          **error)
{
  GError *local = NULL;
  /* A student's exercise runs on the student's seed (0: the scene's own). */
  SimWorld *world = sim_scenario_build (self->lesson->scene, self->lesson->seed, &local);

  if (world == NULL)
    {
      g_set_error (error, SIM_LESSON_ERROR, SIM_LESSON_ERROR_SCENE, "%s", local->message);
      g_error_free (local);
      return FALSE;
    }
  g_clear_object (&self->world);
  self->world = world;
  self->scan = self->shown = self->visible = self->mark = self->task_mark = 0;
  self->entered = self->resolved = self->diverged = FALSE;
  return TRUE;
}

SimLessonRunner *
sim_lesson_runner_new (SimLesson  *lesson,
                       GError    **error)
{
  g_autoptr(SimLessonRunner) self = NULL;

  g_return_val_if_fail (SIM_IS_LESSON (lesson), NULL);
  self = g_object_new (SIM_TYPE_LESSON_RUNNER, NULL);
  self->lesson = g_object_ref (lesson);
  if (!build_world (self, error))
    return NULL;
  return g_steal_pointer (&self);
}

SimLesson *
sim_lesson_runner_get_lesson (SimLessonRunner *self)
{
  g_return_val_if_fail (SIM_IS_LESSON_RUNNER (self), NULL);
  return self->lesson;
}

SimWorld *
sim_lesson_runner_get_world (SimLessonRunner *self)
{
  g_return_val_if_fail (SIM_IS_LESSON_RUNNER (self), NULL);
  return self->world;
}

guint
sim_lesson_runner_get_position (SimLessonRunner *self)
{
  g_return_val_if_fail (SIM_IS_LESSON_RUNNER (self), 0);
  return self->position;
}

gboolean
sim_lesson_runner_is_done (SimLessonRunner *self)
{
  g_return_val_if_fail (SIM_IS_LESSON_RUNNER (self), TRUE);
  return self->position >= self->lesson->items->len;
}

const SimLessonItem *
sim_lesson_runner_get_item (SimLessonRunner *self)
{
  g_return_val_if_fail (SIM_IS_LESSON_RUNNER (self), NULL);
  if (sim_lesson_runner_is_done (self))
    return NULL;
  return self->lesson->items->pdata[self->position];
}

guint
sim_lesson_runner_get_n_answered (SimLessonRunner *self)
{
  g_return_val_if_fail (SIM_IS_LESSON_RUNNER (self), 0);
  return self->n_answered;
}

guint
sim_lesson_runner_get_n_correct (SimLessonRunner *self)
{
  g_return_val_if_fail (SIM_IS_LESSON_RUNNER (self), 0);
  return self->n_correct;
}

guint
sim_lesson_runner_get_n_tasks_done (SimLessonRunner *self)
{
  g_return_val_if_fail (SIM_IS_LESSON_RUNNER (self), 0);
  return self->n_tasks_done;
}

static guint
n_events (SimLessonRunner *self)
{
  return sim_trace_get_n_events (sim_world_get_trace (self->world));
}

static gboolean
err_at (GError    **error,
        SimLesson  *lesson,
        guint       line,
        const char *format,
        ...) G_GNUC_PRINTF (4, 5);

static gboolean
err_at (GError    **error,
        SimLesson  *lesson,
        guint       line,
        const char *format,
        ...)
{
  va_list args;

  va_start (args, format);
  _sim_lesson_error_at_va (error, SIM_LESSON_ERROR_COMMAND, lesson->file, line, format, args);
  va_end (args);
  return FALSE;
}

/*
 * Runs the world until @m happens after the scan position; the matching event's index goes
 * to @found_out (-1 for times).  FALSE when it does not happen within the horizon.
 */
static gboolean
run_to (SimLessonRunner        *self,
        const SimLessonMatcher *m,
        gint                   *found_out)
{
  SimWorld *world = self->world;
  SimClock *clock = sim_world_get_clock (world);
  SimTime limit;

  *found_out = -1;
  switch (m->kind)
    {
    case SIM_LESSON_MATCH_TIME:
      sim_world_run_until (world, MAX (m->t, sim_world_now (world)));
      self->scan = n_events (self);
      return TRUE;
    case SIM_LESSON_MATCH_REL:
      sim_world_run_until (world, sim_world_now (world) + m->t);
      self->scan = n_events (self);
      return TRUE;
    case SIM_LESSON_MATCH_END:
      sim_world_run_until (world, MAX (sim_scenario_get_run_length (self->lesson->scene), sim_world_now (world)));
      self->scan = n_events (self);
      return TRUE;
    case SIM_LESSON_MATCH_EVENT:
    default:
      break;
    }

  limit = sim_world_now (world) + m->horizon;
  for (;;)
    {
      SimTrace *trace = sim_world_get_trace (world);
      guint n = sim_trace_get_n_events (trace);
      SimTime next;

      for (guint i = self->scan; i < n; i++)
        if (_sim_lesson_matcher_matches (m, sim_trace_get_event (trace, i)))
          {
            self->scan = i + 1;
            *found_out = (gint) i;
            return TRUE;
          }
      self->scan = n;
      if (!sim_clock_next_deadline (clock, &next) || next > limit)
        {
          sim_world_run_until (world, limit);
          /* Whatever ran up to the limit may still hold the event. */
          n = sim_trace_get_n_events (trace);
          for (guint i = self->scan; i < n; i++)
            if (_sim_lesson_matcher_matches (m, sim_trace_get_event (trace, i)))
              {
                self->scan = i + 1;
                *found_out = (gint) i;
                return TRUE;
              }
          self->scan = n;
          return FALSE;
        }
      if (!sim_world_step_event (world))
        {
          self->scan = sim_trace_get_n_events (trace);
          return FALSE;
        }
    }
}

gboolean
_sim_lesson_runner_run_commands (SimLessonRunner  *self,
                                 GPtrArray        *commands,
                                 SimTime           settle,
                                 GError          **error)
{
  /* No command: the scan position stays, so "the next packet" is still the next one. */
  if (commands->len == 0)
    return TRUE;
  /* The commands act now, after everything that has happened so far. */
  self->scan = n_events (self);
  for (guint i = 0; i < commands->len; i++)
    {
      SimLessonLine *c = commands->pdata[i];
      GError *local = NULL;

      if (!_sim_lesson_command_run (self->world, NULL, c->text, &local))
        {
          err_at (error, self->lesson, c->line, "'%s' failed: %s", c->text, local->message);
          g_error_free (local);
          return FALSE;
        }
      /* A solution plays exactly as a student typing it would: each command, then the settle. */
      if (settle > 0)
        sim_world_run_until (self->world, sim_world_now (self->world) + settle);
    }
  if (settle > 0)
    self->scan = n_events (self);
  else
    {
      /* "do:" commands: what they sent may be shown, but the scan stays before it, so the
       * item's "run:" or "predict:" can still match the very packets the commands sent. */
      self->visible = n_events (self);
    }
  return TRUE;
}

static gboolean
enter_once (SimLessonRunner  *self,
            GError          **error)
{
  const SimLessonItem *item = sim_lesson_runner_get_item (self);

  self->mark = self->scan;
  if (!_sim_lesson_runner_run_commands (self, item->commands, 0, error))
    return FALSE;
  if (item->until != NULL)
    {
      gint found;

      if (!run_to (self, item->parsed->until, &found))
        {
          g_autofree char *now = sim_scenario_format_duration (sim_world_now (self->world));
          return err_at (error, self->lesson, item->until->line,
                         "'run: %s' never happened (the simulation ran to t=%s)", item->until->text, now);
        }
    }
  self->task_mark = n_events (self);
  self->entered = TRUE;
  self->resolved = FALSE;
  return TRUE;
}

static gboolean play_with_keys (SimLessonRunner *self, guint upto, gboolean include_current,
                                GError **error);

gboolean
sim_lesson_runner_enter (SimLessonRunner  *self,
                         GError          **error)
{
  GError *local = NULL;

  g_return_val_if_fail (SIM_IS_LESSON_RUNNER (self), FALSE);
  if (sim_lesson_runner_is_done (self))
    {
      g_set_error (error, SIM_LESSON_ERROR, SIM_LESSON_ERROR_STATE, "the lesson is over");
      return FALSE;
    }
  if (self->entered)
    return TRUE;
  if (enter_once (self, &local))
    {
      if (sim_lesson_runner_get_item (self)->kind == SIM_LESSON_STEP)
        _sim_lesson_runner_attempt (self, self->position)->result = SIM_LESSON_RESULT_SEEN;
      return TRUE;
    }
  if (!self->diverged)
    {
      g_propagate_error (error, local);
      return FALSE;
    }
  /* The student's own solution led somewhere the lesson did not plan for: continue from the
   * model path, which the lesson's check has verified. */
  g_clear_error (&local);
  if (!play_with_keys (self, self->position, FALSE, error))
    return FALSE;
  sim_trace_note (sim_world_get_trace (self->world), sim_world_now (self->world), NULL,
                  "The lesson continues from the model solution of the earlier tasks.");
  return enter_once (self, error);
}

/*
 * What has run and may be shown, less what would give the open prediction away: a "do:"
 * command's own line ("bob-soft unregisters (Expires: 0)") or the predicted packet itself
 * waits, with everything after it, until the question is answered (sim-lesson-leak.c).
 */
guint
_sim_lesson_runner_reveal_limit (SimLessonRunner *self)
{
  SimTrace *trace = sim_world_get_trace (self->world);
  const SimLessonItem *item = sim_lesson_runner_get_item (self);
  guint limit = MIN (MAX (self->scan, self->visible), sim_trace_get_n_events (trace));

  if (item == NULL || item->kind != SIM_LESSON_PREDICT || !self->entered || self->resolved)
    return limit;
  for (guint i = self->shown; i < limit; i++)
    if (_sim_lesson_event_reveals (item, sim_trace_get_event (trace, i)))
      return i;
  return limit;
}

GPtrArray *
sim_lesson_runner_take_new_events (SimLessonRunner *self)
{
  SimTrace *trace;
  GPtrArray *out;
  guint limit;

  g_return_val_if_fail (SIM_IS_LESSON_RUNNER (self), NULL);
  trace = sim_world_get_trace (self->world);
  out = g_ptr_array_new ();
  limit = MAX (_sim_lesson_runner_reveal_limit (self), self->shown);
  for (guint i = self->shown; i < limit; i++)
    g_ptr_array_add (out, sim_trace_get_event (trace, i));
  self->shown = MAX (self->shown, limit);
  return out;
}

guint
sim_lesson_runner_get_n_shown (SimLessonRunner *self)
{
  g_return_val_if_fail (SIM_IS_LESSON_RUNNER (self), 0);
  return self->shown;
}

/* ------------------------------------------------------------------------------------------ */
/* Choices, shuffled per student                                                              */

/* The letter the @i-th option is shown with: a, b, c... (numbers past z). */
static char *
option_letter (guint i)
{
  return i < 26 ? g_strdup_printf ("%c", 'a' + i) : g_strdup_printf ("%u", i + 1);
}

/*
 * The order this student sees the options of item @position in: a permutation drawn from the
 * world's seed and the item's place, so each student (each seed) gets an order of their own,
 * the same one every time, and a key's letter says nothing (lessons/README.md, "Choice").
 */
static GPtrArray *
shown_options (SimLessonRunner     *self,
               const SimLessonItem *item)
{
  guint32 seed[] = { sim_world_get_seed (self->world), self->position, item->options->len };
  g_autoptr(GRand) rand = g_rand_new_with_seed_array (seed, G_N_ELEMENTS (seed));
  GPtrArray *order = g_ptr_array_new ();

  for (guint i = 0; i < item->options->len; i++)
    g_ptr_array_add (order, item->options->pdata[i]);
  /* Fisher-Yates. */
  for (guint i = order->len; i > 1; i--)
    {
      guint k = g_rand_int_range (rand, 0, i);
      gpointer t = order->pdata[i - 1];

      order->pdata[i - 1] = order->pdata[k];
      order->pdata[k] = t;
    }
  return order;
}

GPtrArray *
sim_lesson_runner_get_options (SimLessonRunner *self)
{
  const SimLessonItem *item;

  g_return_val_if_fail (SIM_IS_LESSON_RUNNER (self), NULL);
  item = sim_lesson_runner_get_item (self);
  if (item == NULL || item->kind != SIM_LESSON_CHOICE)
    return g_ptr_array_new ();
  return shown_options (self, item);
}

char *
sim_lesson_runner_get_option_letter (SimLessonRunner *self,
                                     const char      *key)
{
  g_autoptr(GPtrArray) order = NULL;

  g_return_val_if_fail (SIM_IS_LESSON_RUNNER (self), NULL);
  g_return_val_if_fail (key != NULL, NULL);
  order = sim_lesson_runner_get_options (self);
  for (guint i = 0; i < order->len; i++)
    if (g_ascii_strcasecmp (((SimLessonOption *) order->pdata[i])->key, key) == 0)
      return option_letter (i);
  return NULL;
}

/*
 * A choice, answered with the letter the student sees: "b", "B", "b)" all name the option
 * shown second.  FALSE when @answer names no option.
 */
static gboolean
answer_choice (SimLessonRunner     *self,
               const SimLessonItem *item,
               const char          *answer,
               GString             *expl,
               gboolean            *correct,
               const char         **picked_key)
{
  g_autofree char *a = g_strstrip (g_strdup (answer));
  g_autoptr(GPtrArray) order = shown_options (self, item);
  g_autofree char *key_letter = sim_lesson_runner_get_option_letter (self, item->answer->text);
  const SimLessonOption *picked = NULL;

  if (a[0] != '\0' && (a[strlen (a) - 1] == ')' || a[strlen (a) - 1] == '.'))
    a[strlen (a) - 1] = '\0';
  for (guint i = 0; i < order->len && picked == NULL; i++)
    {
      g_autofree char *letter = option_letter (i);

      if (g_ascii_strcasecmp (letter, a) == 0)
        picked = order->pdata[i];
    }
  if (picked == NULL)
    {
      g_string_append (expl, _("Answer with one of the option letters:"));
      for (guint i = 0; i < order->len; i++)
        {
          g_autofree char *letter = option_letter (i);
          g_string_append_printf (expl, " %s", letter);
        }
      return FALSE;
    }
  *correct = g_ascii_strcasecmp (picked->key, item->answer->text) == 0;
  *picked_key = picked->key;
  if (!*correct)
    g_string_append_printf (expl, _("The answer is %s. "), key_letter);
  return TRUE;
}

/*
 * When the packet of trace position @found happened, in the words and time format of the
 * ladder: a ladder row stands at the time a packet left, so an arrival names that time too
 * ("sent at 1.020s, delivered at 1.040s") and the student finds the row the verdict means.
 */
static void
append_packet_times (SimLessonRunner *self,
                     guint            found,
                     GString         *out)
{
  SimTrace *trace = sim_world_get_trace (self->world);
  SimEvent *e = sim_trace_get_event (trace, found);
  g_autofree char *at = sim_export_time_string (e->t);

  if (g_strcmp0 (e->action, "sent") != 0 && g_strcmp0 (e->action, "retransmitted") != 0)
    {
      /* The departure is the latest earlier copy of the same bytes between the same addresses
       * (a retransmission is byte for byte the original). */
      for (guint i = found; i > 0; i--)
        {
          SimEvent *d = sim_trace_get_event (trace, i - 1);

          if (d->type == SIM_EVENT_PACKET && d->raw != NULL && e->raw != NULL &&
              (g_strcmp0 (d->action, "sent") == 0 || g_strcmp0 (d->action, "retransmitted") == 0) &&
              sim_addr_equal (&d->src, &e->src) && sim_addr_equal (&d->dst, &e->dst) &&
              strcmp (d->raw, e->raw) == 0)
            {
              g_autofree char *sent = sim_export_time_string (d->t);

              g_string_append_printf (out, _("sent at %s, "), sent);
              break;
            }
        }
    }
  /* TRANSLATORS: a packet's fate and when: "delivered at 0.020s". */
  g_string_append_printf (out, _("%s at %s"),
                          g_dpgettext2 (GETTEXT_PACKAGE, "trace action", e->action), at);
}

/*
 * A prediction: the world runs to the predicted packet and the answer is compared with what
 * it carries.  FALSE when the answer is not one (@expl may say why) or the packet never came.
 */
static gboolean
answer_prediction (SimLessonRunner      *self,
                   const SimLessonItem  *item,
                   const char           *answer,
                   gboolean              by_key,
                   GString              *expl,
                   gboolean             *correct,
                   GError              **error)
{
  const SimLessonPrediction *p = item->predict;
  g_autofree char *a = g_strstrip (g_strdup (answer));
  g_autofree char *actual = NULL;
  g_autofree char *label = NULL;
  SimEvent *e;
  gint found;

  if (a[0] == '\0')
    return FALSE;
  if (!by_key && _sim_lesson_prediction_is_numeric (p) && !g_ascii_isdigit (a[0]) &&
      g_ascii_strncasecmp (a, "cseq", 4) != 0)
    {
      g_string_append (expl, _("Answer with a number."));
      return FALSE;
    }
  if (!run_to (self, item->parsed->predicted, &found))
    return err_at (error, self->lesson, p->line, "the predicted packet ('%s') never came", p->text);
  e = sim_trace_get_event (sim_world_get_trace (self->world), found);
  actual = _sim_lesson_prediction_value (p, e);
  label = sim_export_packet_label (e);
  if (by_key)
    {
      /* A key may stand for a value computed from the packet ("digest PASSWORD"). */
      g_autofree char *why = NULL;
      g_autofree char *expected = _sim_lesson_prediction_key_value (p, a, e, &why);

      if (expected == NULL)
        return err_at (error, self->lesson, item->answer->line, "%s", why);
      g_free (a);
      a = g_steal_pointer (&expected);
    }
  *correct = _sim_lesson_prediction_accepts (p, actual, a);
  g_string_append_printf (expl, _("The simulator: %s (in %s, "),
                          actual ? actual : _("the packet does not carry it"), label);
  append_packet_times (self, found, expl);
  g_string_append (expl, "). ");
  return TRUE;
}

/* Answers the open question with @answer, or with its key (@by_key: check, a skip, a replay). */
static SimLessonAnswer
answer_full (SimLessonRunner  *self,
             const char       *answer,
             gboolean          by_key,
             char            **explanation_out,
             GError          **error)
{
  const SimLessonItem *item;
  g_autoptr(GString) expl = g_string_new (NULL);
  gboolean correct = FALSE;
  gboolean valid;
  const char *picked_key = NULL;
  SimLessonAttempt *attempt;

  item = sim_lesson_runner_get_item (self);
  if (item == NULL || !self->entered || self->resolved ||
      (item->kind != SIM_LESSON_PREDICT && item->kind != SIM_LESSON_CHOICE))
    {
      g_set_error (error, SIM_LESSON_ERROR, SIM_LESSON_ERROR_STATE, "there is no open question");
      return SIM_LESSON_ANSWER_INVALID;
    }

  attempt = _sim_lesson_runner_attempt (self, self->position);
  if (!by_key)
    attempt->attempts++;
  if (item->kind == SIM_LESSON_CHOICE)
    {
      /* A key answers through the letter this student sees it under (the shuffle). */
      g_autofree char *key_letter = by_key ? sim_lesson_runner_get_option_letter (
                                                 self, item->answer->text) : NULL;

      valid = answer_choice (self, item, by_key ? key_letter : answer, expl, &correct,
                             &picked_key);
    }
  else
    valid = answer_prediction (self, item, by_key ? item->answer->text : answer, by_key, expl,
                               &correct, error);
  if (!valid)
    {
      if (explanation_out != NULL && expl->len > 0)
        *explanation_out = g_string_free (g_steal_pointer (&expl), FALSE);
      return SIM_LESSON_ANSWER_INVALID;
    }

  if (item->explain != NULL)
    g_string_append (expl, item->explain);
  self->resolved = TRUE;
  self->n_answered++;
  if (correct)
    self->n_correct++;
  /* A choice is recorded by its key, the same for every student whatever letter it had. */
  if (picked_key != NULL && !by_key)
    _sim_lesson_attempt_set_answer (attempt, picked_key, FALSE);
  else if (answer != NULL)
    _sim_lesson_attempt_set_answer (attempt, answer, FALSE);
  attempt->result = correct ? SIM_LESSON_RESULT_CORRECT : SIM_LESSON_RESULT_INCORRECT;
  if (explanation_out != NULL)
    *explanation_out = g_strstrip (g_string_free (g_steal_pointer (&expl), FALSE));
  return correct ? SIM_LESSON_ANSWER_CORRECT : SIM_LESSON_ANSWER_INCORRECT;
}

SimLessonAnswer
sim_lesson_runner_answer (SimLessonRunner  *self,
                          const char       *answer,
                          char            **explanation_out,
                          GError          **error)
{
  g_return_val_if_fail (SIM_IS_LESSON_RUNNER (self), SIM_LESSON_ANSWER_INVALID);
  g_return_val_if_fail (answer != NULL, SIM_LESSON_ANSWER_INVALID);
  return answer_full (self, answer, FALSE, explanation_out, error);
}

SimLessonAnswer
_sim_lesson_runner_answer_key (SimLessonRunner  *self,
                               char            **explanation_out,
                               GError          **error)
{
  const SimLessonItem *item = sim_lesson_runner_get_item (self);

  if (item == NULL || item->answer == NULL)
    {
      g_set_error (error, SIM_LESSON_ERROR, SIM_LESSON_ERROR_STATE, "there is no open question");
      return SIM_LESSON_ANSWER_INVALID;
    }
  return answer_full (self, NULL, TRUE, explanation_out, error);
}

gboolean
sim_lesson_runner_skip_question (SimLessonRunner  *self,
                                 char            **explanation_out,
                                 GError          **error)
{
  g_autofree char *expl = NULL;
  SimLessonAnswer result;

  g_return_val_if_fail (SIM_IS_LESSON_RUNNER (self), FALSE);
  result = _sim_lesson_runner_answer_key (self, &expl, error);
  if (result == SIM_LESSON_ANSWER_INVALID)
    return FALSE;
  /* The key was played, not given: a skip is never right. */
  if (result == SIM_LESSON_ANSWER_CORRECT)
    self->n_correct--;
  _sim_lesson_runner_attempt (self, self->position)->result = SIM_LESSON_RESULT_SKIPPED;
  if (explanation_out != NULL)
    {
      const char *key = sim_lesson_runner_get_item (self)->answer->text;

      /* A computed key names what it is computed from; the simulator's value follows. */
      if (g_str_has_prefix (key, "digest "))
        *explanation_out = g_strdup_printf ("The answer is the response the password %s gives. %s",
                                            key + strlen ("digest "), expl ? expl : "");
      else
        *explanation_out = g_strdup_printf ("The answer is %s. %s", key, expl ? expl : "");
    }
  return TRUE;
}

/* The Authorization value of @e with its response hidden: what a student computes it from. */
static char *
hide_response (const SimEvent *e)
{
  g_autofree char *value = sim_raw_header_value (e->raw, "Authorization");
  const char *name = "Authorization";
  g_autoptr(GRegex) re = NULL;
  g_autofree char *hidden = NULL;

  if (value == NULL)
    {
      value = sim_raw_header_value (e->raw, "Proxy-Authorization");
      name = "Proxy-Authorization";
    }
  if (value == NULL)
    return NULL;
  re = g_regex_new ("(?<![A-Za-z-])response=(\"[^\"]*\"|[^,\\s]*)", G_REGEX_CASELESS, 0, NULL);
  hidden = g_regex_replace_literal (re, value, -1, 0, "response=\"?\"", 0, NULL);
  return g_strdup_printf ("%s: %s", name, hidden);
}

char *
sim_lesson_runner_get_givens (SimLessonRunner *self)
{
  const SimLessonItem *item;
  guint scan;
  gint found;
  gboolean ok;

  g_return_val_if_fail (SIM_IS_LESSON_RUNNER (self), NULL);
  item = sim_lesson_runner_get_item (self);
  if (item == NULL || !self->entered || self->resolved || item->kind != SIM_LESSON_PREDICT ||
      item->predict->field != SIM_LESSON_FIELD_RESPONSE)
    return NULL;
  /* Look ahead without moving on: the answer runs to this very packet again. */
  scan = self->scan;
  ok = run_to (self, item->parsed->predicted, &found);
  self->scan = scan;
  if (!ok)
    return NULL;
  return hide_response (sim_trace_get_event (sim_world_get_trace (self->world), found));
}

gboolean
sim_lesson_runner_command (SimLessonRunner  *self,
                           const char       *command,
                           GError          **error)
{
  const SimLessonItem *item;
  SimLessonAttempt *attempt;
  GError *local = NULL;

  g_return_val_if_fail (SIM_IS_LESSON_RUNNER (self), FALSE);
  g_return_val_if_fail (command != NULL, FALSE);
  item = sim_lesson_runner_get_item (self);
  if (item == NULL || item->kind != SIM_LESSON_TASK || !self->entered)
    {
      g_set_error (error, SIM_LESSON_ERROR, SIM_LESSON_ERROR_STATE, "there is no open task");
      return FALSE;
    }
  self->scan = n_events (self);
  /* Refused commands count too: they are tries the student made. */
  attempt = _sim_lesson_runner_attempt (self, self->position);
  attempt->attempts++;
  _sim_lesson_attempt_set_answer (attempt, command, TRUE);
  if (!_sim_lesson_command_run (self->world, NULL, command, &local))
    {
      g_set_error (error, SIM_LESSON_ERROR, SIM_LESSON_ERROR_COMMAND, "%s", local->message);
      g_error_free (local);
      return FALSE;
    }
  self->diverged = TRUE;
  if (item->settle > 0)
    sim_world_run_until (self->world, sim_world_now (self->world) + item->settle);
  self->scan = n_events (self);
  return TRUE;
}

static gboolean
claims_hold (SimLessonRunner       *self,
             GPtrArray             *claims,
             guint                  since,
             const SimLessonClaim **failed_out,
             char                 **why_out)
{
  for (guint i = 0; i < claims->len; i++)
    {
      const SimLessonClaim *c = claims->pdata[i];
      gboolean holds = FALSE;
      g_autofree char *why = NULL;
      GError *local = NULL;

      if (!_sim_lesson_claim_eval (c, self->world, since, &holds, &why, &local))
        {
          if (why_out != NULL)
            *why_out = g_strdup (local->message);
          g_error_free (local);
          holds = FALSE;
        }
      else if (!holds && why_out != NULL)
        *why_out = g_steal_pointer (&why);
      if (!holds)
        {
          if (failed_out != NULL)
            *failed_out = c;
          return FALSE;
        }
    }
  return TRUE;
}

gboolean
sim_lesson_runner_goal_met (SimLessonRunner  *self,
                            char            **why_out)
{
  const SimLessonItem *item;
  const SimLessonClaim *failed = NULL;
  g_autofree char *why = NULL;

  g_return_val_if_fail (SIM_IS_LESSON_RUNNER (self), FALSE);
  item = sim_lesson_runner_get_item (self);
  if (item == NULL || item->kind != SIM_LESSON_TASK)
    return FALSE;
  if (claims_hold (self, item->parsed->goals, self->task_mark, &failed, &why))
    {
      if (!self->resolved)
        {
          self->resolved = TRUE;
          self->n_tasks_done++;
          _sim_lesson_runner_attempt (self, self->position)->result = SIM_LESSON_RESULT_CORRECT;
        }
      return TRUE;
    }
  if (why_out != NULL)
    *why_out = g_strdup_printf ("not yet: '%s' (%s)", failed->text, why ? why : "does not hold");
  return FALSE;
}

/*
 * Rebuilds the world and plays items [0, @upto) with the keys (and, with @include_current,
 * enters item @upto and runs its solution).  The student is shown only what follows.
 */
static gboolean
play_with_keys_inner (SimLessonRunner  *self,
                      guint             upto,
                      gboolean          include_current,
                      GError          **error)
{
  guint n_answered = self->n_answered, n_correct = self->n_correct, n_tasks = self->n_tasks_done;

  if (!build_world (self, error))
    return FALSE;
  for (self->position = 0; self->position < upto + (include_current ? 1 : 0); self->position++)
    {
      const SimLessonItem *item = sim_lesson_runner_get_item (self);

      if (!enter_once (self, error))
        return FALSE;
      if (self->position == upto)
        self->shown = n_events (self);
      if (item->kind == SIM_LESSON_PREDICT)
        {
          if (_sim_lesson_runner_answer_key (self, NULL, error) == SIM_LESSON_ANSWER_INVALID)
            return FALSE;
        }
      else if (item->kind == SIM_LESSON_TASK)
        {
          if (!_sim_lesson_runner_run_commands (self, item->solution, item->settle, error))
            return FALSE;
        }
      if (self->position < upto)
        self->entered = FALSE;
    }
  self->position = upto;
  if (!include_current)
    {
      self->shown = n_events (self);
      self->entered = FALSE;
    }
  self->resolved = include_current;
  self->diverged = FALSE;
  self->n_answered = n_answered;
  self->n_correct = n_correct;
  self->n_tasks_done = n_tasks;
  return TRUE;
}

/* play_with_keys_inner(), with the student's record kept: the replay is not the student's. */
static gboolean
play_with_keys (SimLessonRunner  *self,
                guint             upto,
                gboolean          include_current,
                GError          **error)
{
  GPtrArray *attempts = g_steal_pointer (&self->attempts);
  gboolean ok = play_with_keys_inner (self, upto, include_current, error);

  g_clear_pointer (&self->attempts, g_ptr_array_unref);
  self->attempts = attempts;
  return ok;
}

gboolean
_sim_lesson_runner_replay (SimLessonRunner  *self,
                           guint             upto,
                           GError          **error)
{
  return play_with_keys (self, upto, FALSE, error);
}

gboolean
sim_lesson_runner_give_up (SimLessonRunner  *self,
                           GError          **error)
{
  const SimLessonItem *item;

  g_return_val_if_fail (SIM_IS_LESSON_RUNNER (self), FALSE);
  item = sim_lesson_runner_get_item (self);
  if (item == NULL || item->kind != SIM_LESSON_TASK)
    {
      g_set_error (error, SIM_LESSON_ERROR, SIM_LESSON_ERROR_STATE, "there is no open task");
      return FALSE;
    }
  if (!play_with_keys (self, self->position, TRUE, error))
    return FALSE;
  _sim_lesson_runner_attempt (self, self->position)->result = SIM_LESSON_RESULT_SKIPPED;
  return TRUE;
}

void
sim_lesson_runner_next (SimLessonRunner *self)
{
  g_return_if_fail (SIM_IS_LESSON_RUNNER (self));
  if (sim_lesson_runner_is_done (self))
    return;
  self->position++;
  self->entered = FALSE;
  self->resolved = FALSE;
}

gboolean
_sim_lesson_runner_replay_to (SimLessonRunner  *self,
                              guint             position,
                              GError          **error)
{
  g_return_val_if_fail (position < self->lesson->items->len, FALSE);
  if (!play_with_keys (self, position, FALSE, error))
    return FALSE;
  return enter_once (self, error);
}
