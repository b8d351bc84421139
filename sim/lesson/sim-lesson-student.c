/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "sim-i18n.h"
#include "sim-lesson-private.h"
#include "sim-lesson-student.h"

#include <string.h>

/*
 * One exercise per student: the seed derived from the student's name and the lesson, the lesson
 * parsed for a seed, the check over many seeds, and the runner's record of what the student
 * did (attempts, hints, skips) that hand-ins and progress keep.
 */

/* ------------------------------------------------------------------------------------------ */
/* Seeds                                                                                      */

char *
sim_lesson_student_normalize_name (const char *name)
{
  g_autofree char *nfc = NULL;
  g_autofree char *folded = NULL;
  g_auto(GStrv) words = NULL;
  g_autoptr(GString) out = g_string_new (NULL);

  if (name == NULL || !g_utf8_validate (name, -1, NULL))
    return NULL;
  nfc = g_utf8_normalize (name, -1, G_NORMALIZE_DEFAULT_COMPOSE);
  if (nfc == NULL)
    return NULL;
  folded = g_utf8_casefold (nfc, -1);
  /* Case folding can decompose (ß -> ss is fine, but some marks move): compose again. */
  g_free (nfc);
  nfc = g_utf8_normalize (folded, -1, G_NORMALIZE_DEFAULT_COMPOSE);
  words = g_strsplit_set (nfc, " \t\r\n\v\f", -1);
  for (guint i = 0; words[i] != NULL; i++)
    {
      if (words[i][0] == '\0')
        continue;
      if (out->len > 0)
        g_string_append_c (out, ' ');
      g_string_append (out, words[i]);
    }
  if (out->len == 0 || g_utf8_strlen (out->str, -1) > SIM_LESSON_STUDENT_NAME_MAX)
    return NULL;
  /* Control characters would make a hand-in or a grade table lie about who it names. */
  for (const char *c = out->str; *c != '\0'; c = g_utf8_next_char (c))
    if (g_unichar_iscntrl (g_utf8_get_char (c)))
      return NULL;
  return g_string_free (g_steal_pointer (&out), FALSE);
}

guint32
sim_lesson_student_seed (const char *lesson_id,
                         const char *name)
{
  g_autofree char *normal = sim_lesson_student_normalize_name (name);
  g_autoptr(GChecksum) sha = NULL;
  guint8 digest[32];
  gsize len = sizeof digest;
  guint32 seed;

  g_return_val_if_fail (lesson_id != NULL, 0);
  if (normal == NULL)
    return 0;
  sha = g_checksum_new (G_CHECKSUM_SHA256);
  g_checksum_update (sha, (const guchar *) lesson_id, strlen (lesson_id));
  /* The NUL keeps "04-a" + "bc" apart from "04-ab" + "c". */
  g_checksum_update (sha, (const guchar *) "", 1);
  g_checksum_update (sha, (const guchar *) normal, strlen (normal));
  g_checksum_get_digest (sha, digest, &len);
  seed = ((guint32) digest[0] << 24) | ((guint32) digest[1] << 16) | ((guint32) digest[2] << 8) | digest[3];
  /* 0 means "the lesson as written" everywhere a seed is taken. */
  return seed != 0 ? seed : 1;
}

char *
sim_lesson_id_for_file (const char *path)
{
  char *base;

  g_return_val_if_fail (path != NULL, NULL);
  base = g_path_get_basename (path);
  if (g_str_has_suffix (base, ".lesson"))
    {
      /* A translation (NAME.es.lesson) is the same lesson: one progress record, one seed. */
      gsize suffix = strlen (".lesson") + sim_i18n_language_suffix_length (base);

      base[strlen (base) - suffix] = '\0';
    }
  return base;
}

/* ------------------------------------------------------------------------------------------ */
/* Parsing for a seed                                                                         */

SimLesson *
sim_lesson_parse_file_for_student (const char  *path,
                                   const char  *student,
                                   GError     **error)
{
  g_autofree char *id = NULL;
  guint32 seed;

  g_return_val_if_fail (path != NULL, NULL);
  if (student == NULL)
    return _sim_lesson_parse_file_full (path, 0, NULL, error);
  id = sim_lesson_id_for_file (path);
  if ((seed = sim_lesson_student_seed (id, student)) == 0)
    {
      g_set_error (error, SIM_LESSON_ERROR, SIM_LESSON_ERROR_STATE,
                   "'%s' is not a student's name (1 to %d characters, no control characters)",
                   student, SIM_LESSON_STUDENT_NAME_MAX);
      return NULL;
    }
  return _sim_lesson_parse_file_full (path, seed, student, error);
}

SimLesson *
sim_lesson_parse_file_for_seed (const char  *path,
                                guint32      seed,
                                GError     **error)
{
  return _sim_lesson_parse_file_full (path, seed, NULL, error);
}

SimLesson *
sim_lesson_parse_data_for_seed (const char  *text,
                                gssize       length,
                                const char  *name,
                                const char  *base_dir,
                                guint32      seed,
                                GError     **error)
{
  return _sim_lesson_parse_data_full (text, length, name, base_dir, seed, NULL, error);
}

guint32
sim_lesson_get_seed (SimLesson *self)
{
  g_return_val_if_fail (SIM_IS_LESSON (self), 0);
  return self->seed;
}

const char *
sim_lesson_get_student (SimLesson *self)
{
  g_return_val_if_fail (SIM_IS_LESSON (self), NULL);
  return self->student;
}

const char *
sim_lesson_get_sha256 (SimLesson *self)
{
  g_return_val_if_fail (SIM_IS_LESSON (self), NULL);
  return self->sha256;
}

const char *
sim_lesson_get_value (SimLesson  *self,
                      const char *name)
{
  g_return_val_if_fail (SIM_IS_LESSON (self), NULL);
  g_return_val_if_fail (name != NULL, NULL);
  return _sim_lesson_vary_lookup (self->vary, name);
}

/* ------------------------------------------------------------------------------------------ */
/* Checking over many seeds                                                                   */

/* Checks @path for @seed; its failures go to @failures with the seed named. */
static gboolean
check_one_seed (const char *path,
                guint32     seed,
                GPtrArray  *failures)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SimLesson) lesson = sim_lesson_parse_file_for_seed (path, seed, &error);
  g_auto(SimLessonReport) report = { 0 };

  if (lesson != NULL && sim_lesson_check (lesson, &report))
    return TRUE;
  if (lesson == NULL)
    g_ptr_array_add (failures, g_strdup_printf ("%s (seed %u: siplab-cli lesson %s --seed %u)",
                                                error->message, seed, path, seed));
  else
    for (guint i = 0; i < report.failures->len; i++)
      g_ptr_array_add (failures, g_strdup_printf ("%s (seed %u: siplab-cli lesson %s --seed %u)",
                                                  (char *) report.failures->pdata[i], seed, path,
                                                  seed));
  return FALSE;
}

gboolean
sim_lesson_check_seeds (const char      *path,
                        guint            n_seeds,
                        SimLessonReport *report)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SimLesson) lesson = NULL;
  g_autofree char *id = NULL;

  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (report != NULL, FALSE);

  sim_lesson_report_clear (report);
  lesson = sim_lesson_parse_file (path, &error);
  if (lesson == NULL)
    {
      report->failures = g_ptr_array_new_with_free_func (g_free);
      g_ptr_array_add (report->failures, g_strdup (error->message));
      return FALSE;
    }
  if (!sim_lesson_check (lesson, report))
    return FALSE;
  id = sim_lesson_id_for_file (path);
  n_seeds = MIN (n_seeds, SIM_LESSON_CHECK_MAX_SEEDS);
  for (guint i = 1; i <= n_seeds; i++)
    {
      g_autofree char *student = g_strdup_printf ("check-%u", i);

      /* The first seed that fails is enough to fix the lesson by. */
      if (!check_one_seed (path, sim_lesson_student_seed (id, student), report->failures))
        return FALSE;
    }
  return TRUE;
}

/* ------------------------------------------------------------------------------------------ */
/* Attempts                                                                                   */

static const char *const result_names[] = {
  [SIM_LESSON_RESULT_NONE] = "none",
  [SIM_LESSON_RESULT_SEEN] = "seen",
  [SIM_LESSON_RESULT_CORRECT] = "correct",
  [SIM_LESSON_RESULT_INCORRECT] = "incorrect",
  [SIM_LESSON_RESULT_SKIPPED] = "skipped",
};

const char *
sim_lesson_result_name (SimLessonResult result)
{
  g_return_val_if_fail (result < G_N_ELEMENTS (result_names), NULL);
  return result_names[result];
}

gboolean
sim_lesson_result_from_name (const char      *name,
                             SimLessonResult *result)
{
  for (guint i = 0; name != NULL && i < G_N_ELEMENTS (result_names); i++)
    if (strcmp (name, result_names[i]) == 0)
      {
        *result = i;
        return TRUE;
      }
  return FALSE;
}

SimLessonAttempt *
sim_lesson_attempt_copy (const SimLessonAttempt *attempt)
{
  SimLessonAttempt *copy;

  g_return_val_if_fail (attempt != NULL, NULL);
  copy = g_memdup2 (attempt, sizeof *attempt);
  copy->answer = g_strdup (attempt->answer);
  return copy;
}

void
sim_lesson_attempt_free (SimLessonAttempt *attempt)
{
  if (attempt == NULL)
    return;
  g_free (attempt->answer);
  g_free (attempt);
}

void
_sim_lesson_attempt_set_answer (SimLessonAttempt *attempt,
                                const char       *answer,
                                gboolean          append)
{
  g_autoptr(GString) s = g_string_new (append && attempt->answer ? attempt->answer : NULL);

  if (s->len >= SIM_LESSON_ATTEMPT_MAX_ANSWER)
    return;
  if (s->len > 0)
    g_string_append (s, "; ");
  g_string_append (s, answer);
  if (s->len > SIM_LESSON_ATTEMPT_MAX_ANSWER)
    {
      /* Cut at a character boundary: the record is UTF-8 text. */
      const char *end = g_utf8_find_prev_char (s->str, s->str + SIM_LESSON_ATTEMPT_MAX_ANSWER + 1);
      g_string_truncate (s, end ? end - s->str : 0);
    }
  g_free (attempt->answer);
  attempt->answer = g_string_free (g_steal_pointer (&s), FALSE);
}

SimLessonAttempt *
_sim_lesson_runner_attempt (SimLessonRunner *self,
                            guint            index)
{
  if (self->attempts == NULL)
    self->attempts = g_ptr_array_new_with_free_func ((GDestroyNotify) sim_lesson_attempt_free);
  while (self->attempts->len <= index)
    g_ptr_array_add (self->attempts, g_new0 (SimLessonAttempt, 1));
  return self->attempts->pdata[index];
}

const SimLessonAttempt *
sim_lesson_runner_get_attempt (SimLessonRunner *self,
                               guint            index)
{
  g_return_val_if_fail (SIM_IS_LESSON_RUNNER (self), NULL);
  g_return_val_if_fail (index < self->lesson->items->len, NULL);
  return _sim_lesson_runner_attempt (self, index);
}

guint
sim_lesson_runner_get_n_hints (SimLessonRunner *self)
{
  guint n = 0;

  g_return_val_if_fail (SIM_IS_LESSON_RUNNER (self), 0);
  for (guint i = 0; self->attempts != NULL && i < self->attempts->len; i++)
    n += ((SimLessonAttempt *) self->attempts->pdata[i])->hints;
  return n;
}

guint
sim_lesson_runner_get_n_skipped (SimLessonRunner *self)
{
  guint n = 0;

  g_return_val_if_fail (SIM_IS_LESSON_RUNNER (self), 0);
  for (guint i = 0; self->attempts != NULL && i < self->attempts->len; i++)
    n += ((SimLessonAttempt *) self->attempts->pdata[i])->result == SIM_LESSON_RESULT_SKIPPED;
  return n;
}

/* ------------------------------------------------------------------------------------------ */
/* Hints and resuming                                                                         */

char *
sim_lesson_runner_take_hint (SimLessonRunner *self,
                             guint           *level_out,
                             guint           *n_levels_out)
{
  const SimLessonItem *item;
  SimLessonAttempt *attempt;
  g_autoptr(GString) solution = NULL;
  guint n_levels;

  g_return_val_if_fail (SIM_IS_LESSON_RUNNER (self), NULL);
  item = sim_lesson_runner_get_item (self);
  if (item == NULL || item->kind != SIM_LESSON_TASK || !self->entered)
    return NULL;
  attempt = _sim_lesson_runner_attempt (self, self->position);
  /* The hints in order, a nudge first; the solution itself is the last level. */
  n_levels = item->hints->len + 1;
  if (n_levels_out != NULL)
    *n_levels_out = n_levels;
  if (attempt->hints >= n_levels)
    return NULL;
  attempt->hints++;
  if (level_out != NULL)
    *level_out = attempt->hints;
  if (attempt->hints <= item->hints->len)
    return g_strdup (((SimLessonLine *) item->hints->pdata[attempt->hints - 1])->text);
  solution = g_string_new ("The solution: ");
  for (guint i = 0; i < item->solution->len; i++)
    g_string_append_printf (solution, "%s%s", i ? "; " : "",
                            ((SimLessonLine *) item->solution->pdata[i])->text);
  return g_string_free (g_steal_pointer (&solution), FALSE);
}

gboolean
sim_lesson_runner_resume (SimLessonRunner  *self,
                          guint             position,
                          GPtrArray        *attempts,
                          GError          **error)
{
  guint n_items;

  g_return_val_if_fail (SIM_IS_LESSON_RUNNER (self), FALSE);
  n_items = self->lesson->items->len;
  if (position > n_items)
    {
      g_set_error (error, SIM_LESSON_ERROR, SIM_LESSON_ERROR_STATE,
                   "cannot resume at item %u: the lesson has %u", position + 1, n_items);
      return FALSE;
    }
  /* The record first: the replay keeps it as the student's and leaves the counters alone. */
  g_clear_pointer (&self->attempts, g_ptr_array_unref);
  self->n_answered = self->n_correct = self->n_tasks_done = 0;
  for (guint i = 0; attempts != NULL && i < MIN (attempts->len, n_items); i++)
    {
      const SimLessonAttempt *a = attempts->pdata[i];
      SimLessonAttempt *mine = _sim_lesson_runner_attempt (self, i);
      SimLessonItemKind kind = ((SimLessonItem *) self->lesson->items->pdata[i])->kind;
      gboolean question = kind == SIM_LESSON_PREDICT || kind == SIM_LESSON_CHOICE;

      if (a == NULL)
        continue;
      g_free (mine->answer);
      *mine = *a;
      mine->answer = g_strdup (a->answer);
      /* The item being resumed starts again; what the student did there so far is kept. */
      if (i >= position && mine->result != SIM_LESSON_RESULT_NONE)
        mine->result = SIM_LESSON_RESULT_NONE;
      if (question && mine->result != SIM_LESSON_RESULT_NONE)
        self->n_answered++;
      if (mine->result == SIM_LESSON_RESULT_CORRECT)
        {
          if (question)
            self->n_correct++;
          else if (kind == SIM_LESSON_TASK)
            self->n_tasks_done++;
        }
    }
  if (position == n_items)
    {
      /* Nothing is left to play; the world is the model path's end. */
      if (!_sim_lesson_runner_replay (self, n_items - 1, error))
        return FALSE;
      self->position = n_items;
      return TRUE;
    }
  return _sim_lesson_runner_replay (self, position, error);
}
