/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "sim-lesson-progress.h"

#include <errno.h>

#include <glib/gstdio.h>

/*
 * The progress file.  The GKeyFile itself is kept (not only the records read from it), so a
 * comment a teacher wrote, a key a newer version added, or a lesson this version does not
 * ship survive a save.
 */

G_DEFINE_QUARK (sim-lesson-progress-error-quark, sim_lesson_progress_error)

struct _SimLessonProgress {
  GObject parent_instance;
  GKeyFile *kf;
};

G_DEFINE_FINAL_TYPE (SimLessonProgress, sim_lesson_progress, G_TYPE_OBJECT)

/* The keys that hold numbers; a record's other keys are text, and "completed" a boolean. */
static const char *number_keys[] = {
  "items", "reached", "questions", "last-correct", "last-tasks-done", "best-correct", "position",
};

void
sim_lesson_record_free (SimLessonRecord *record)
{
  if (record == NULL)
    return;
  g_free (record->id);
  g_free (record->title);
  g_free (record->file);
  g_free (record->updated);
  g_free (record->student);
  g_free (record->sha256);
  g_clear_pointer (&record->attempts, g_ptr_array_unref);
  g_free (record);
}

static void
sim_lesson_progress_finalize (GObject *object)
{
  SimLessonProgress *self = SIM_LESSON_PROGRESS (object);

  g_key_file_unref (self->kf);
  G_OBJECT_CLASS (sim_lesson_progress_parent_class)->finalize (object);
}

static void
sim_lesson_progress_class_init (SimLessonProgressClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = sim_lesson_progress_finalize;
}

static void
sim_lesson_progress_init (SimLessonProgress *self)
{
  self->kf = g_key_file_new ();
}

char *
sim_lesson_progress_default_path (void)
{
  return g_build_filename (g_get_user_data_dir (), "siplab", "progress.ini", NULL);
}

SimLessonProgress *
sim_lesson_progress_new (void)
{
  return g_object_new (SIM_TYPE_LESSON_PROGRESS, NULL);
}

/* A number key of a record, as a count: missing is 0; anything but a whole number >= 0 is not. */
static gboolean
get_count (GKeyFile    *kf,
           const char  *id,
           const char  *key,
           guint       *out,
           GError     **error)
{
  GError *local = NULL;
  int v;

  *out = 0;
  if (!g_key_file_has_key (kf, id, key, NULL))
    return TRUE;
  v = g_key_file_get_integer (kf, id, key, &local);
  if (local != NULL || v < 0)
    {
      g_autofree char *raw = g_key_file_get_value (kf, id, key, NULL);

      g_clear_error (&local);
      g_set_error (error, SIM_LESSON_PROGRESS_ERROR, SIM_LESSON_PROGRESS_ERROR_CORRUPT,
                   "[%s] %s=%s is not a count", id, key, raw ? raw : "");
      return FALSE;
    }
  *out = (guint) v;
  return TRUE;
}

static gboolean
get_flag (GKeyFile    *kf,
          const char  *id,
          const char  *key,
          gboolean    *out,
          GError     **error)
{
  GError *local = NULL;

  *out = FALSE;
  if (!g_key_file_has_key (kf, id, key, NULL))
    return TRUE;
  *out = g_key_file_get_boolean (kf, id, key, &local);
  if (local != NULL)
    {
      g_autofree char *raw = g_key_file_get_value (kf, id, key, NULL);

      g_clear_error (&local);
      g_set_error (error, SIM_LESSON_PROGRESS_ERROR, SIM_LESSON_PROGRESS_ERROR_CORRUPT,
                   "[%s] %s=%s is not true or false", id, key, raw ? raw : "");
      return FALSE;
    }
  return TRUE;
}

/* "item-N=result;attempts;hints;answer": what the student did at item N (1-based). */
static SimLessonAttempt *
read_attempt (GKeyFile   *kf,
              const char *id,
              const char *key)
{
  g_auto(GStrv) v = g_key_file_get_string_list (kf, id, key, NULL, NULL);
  g_autoptr(SimLessonAttempt) a = g_new0 (SimLessonAttempt, 1);
  guint64 attempts, hints;

  if (v == NULL || g_strv_length (v) < 3 || !sim_lesson_result_from_name (v[0], &a->result) ||
      !g_ascii_string_to_unsigned (v[1], 10, 0, G_MAXUINT, &attempts, NULL) ||
      !g_ascii_string_to_unsigned (v[2], 10, 0, G_MAXUINT, &hints, NULL))
    return NULL;
  a->attempts = attempts;
  a->hints = hints;
  if (v[3] != NULL && v[3][0] != '\0')
    a->answer = g_strndup (v[3], SIM_LESSON_ATTEMPT_MAX_ANSWER);
  return g_steal_pointer (&a);
}

/* The exercise keys: student, seed, sha256 and the item-N records (at most "items" of them). */
static gboolean
read_exercise (GKeyFile         *kf,
               const char       *id,
               SimLessonRecord  *r,
               GError          **error)
{
  g_autofree char *seed = g_key_file_get_value (kf, id, "seed", NULL);
  guint64 value = 0;

  r->student = g_key_file_get_string (kf, id, "student", NULL);
  r->sha256 = g_key_file_get_string (kf, id, "sha256", NULL);
  r->attempts = g_ptr_array_new_with_free_func ((GDestroyNotify) sim_lesson_attempt_free);
  if (seed != NULL && !g_ascii_string_to_unsigned (seed, 10, 0, G_MAXUINT32, &value, NULL))
    {
      g_set_error (error, SIM_LESSON_PROGRESS_ERROR, SIM_LESSON_PROGRESS_ERROR_CORRUPT,
                   "[%s] seed=%s is not a seed", id, seed);
      return FALSE;
    }
  r->seed = (guint32) value;
  for (guint i = 0; i < r->n_items; i++)
    {
      g_autofree char *key = g_strdup_printf ("item-%u", i + 1);

      /* A damaged item record is a record lost, not a file refused: it only feeds a resume. */
      g_ptr_array_add (r->attempts, g_key_file_has_key (kf, id, key, NULL)
                                    ? read_attempt (kf, id, key) : NULL);
    }
  return TRUE;
}

/* @id's group as a record.  A value of the wrong type fails; with @error NULL it reads as 0. */
static SimLessonRecord *
read_record (GKeyFile    *kf,
             const char  *id,
             GError     **error)
{
  g_autoptr(SimLessonRecord) r = g_new0 (SimLessonRecord, 1);
  guint *counts[G_N_ELEMENTS (number_keys)] = {
    &r->n_items, &r->reached, &r->n_questions, &r->last_correct, &r->last_tasks_done,
    &r->best_correct, &r->position,
  };

  r->id = g_strdup (id);
  r->title = g_key_file_get_string (kf, id, "title", NULL);
  r->file = g_key_file_get_string (kf, id, "file", NULL);
  r->updated = g_key_file_get_string (kf, id, "updated", NULL);
  for (guint i = 0; i < G_N_ELEMENTS (number_keys); i++)
    if (!get_count (kf, id, number_keys[i], counts[i], error) && error != NULL)
      return NULL;
  if (!get_flag (kf, id, "completed", &r->completed, error) && error != NULL)
    return NULL;
  if (!read_exercise (kf, id, r, error) && error != NULL)
    return NULL;
  return g_steal_pointer (&r);
}

/*
 * Loads @path into @kf.  A missing file leaves it empty.  @strict: every record's values
 * must have their types too.
 */
static gboolean
load_key_file (GKeyFile    *kf,
               const char  *path,
               gboolean     strict,
               GError     **error)
{
  GError *local = NULL;

  if (!g_key_file_load_from_file (kf, path, G_KEY_FILE_KEEP_COMMENTS, &local))
    {
      if (g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        {
          g_error_free (local);
          return TRUE;
        }
      if (local->domain == G_KEY_FILE_ERROR)
        g_set_error (error, SIM_LESSON_PROGRESS_ERROR, SIM_LESSON_PROGRESS_ERROR_CORRUPT,
                     "%s is not a lesson progress file: %s", path, local->message);
      else
        g_propagate_prefixed_error (error, g_steal_pointer (&local), "%s: ", path);
      g_clear_error (&local);
      return FALSE;
    }
  if (strict)
    {
      g_auto(GStrv) ids = g_key_file_get_groups (kf, NULL);

      for (guint i = 0; ids[i] != NULL; i++)
        {
          g_autoptr(SimLessonRecord) r = read_record (kf, ids[i], &local);

          if (r == NULL)
            {
              g_set_error (error, SIM_LESSON_PROGRESS_ERROR, SIM_LESSON_PROGRESS_ERROR_CORRUPT,
                           "%s is not a lesson progress file: %s", path, local->message);
              g_error_free (local);
              return FALSE;
            }
        }
    }
  return TRUE;
}

SimLessonProgress *
sim_lesson_progress_load (const char  *path,
                          GError     **error)
{
  g_autoptr(SimLessonProgress) self = sim_lesson_progress_new ();
  g_autofree char *default_path = NULL;

  if (path == NULL)
    path = default_path = sim_lesson_progress_default_path ();
  if (!load_key_file (self->kf, path, TRUE, error))
    return NULL;
  return g_steal_pointer (&self);
}

gboolean
sim_lesson_progress_save (SimLessonProgress  *self,
                          const char         *path,
                          GError            **error)
{
  g_autofree char *default_path = NULL;
  g_autofree char *dir = NULL;

  g_return_val_if_fail (SIM_IS_LESSON_PROGRESS (self), FALSE);
  if (path == NULL)
    path = default_path = sim_lesson_progress_default_path ();
  dir = g_path_get_dirname (path);
  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int saved = errno;

      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved), "cannot create %s: %s",
                   dir, g_strerror (saved));
      return FALSE;
    }
  return g_key_file_save_to_file (self->kf, path, error);
}

GStrv
sim_lesson_progress_list_ids (SimLessonProgress *self)
{
  g_auto(GStrv) groups = NULL;
  g_autoptr(GStrvBuilder) ids = g_strv_builder_new ();

  g_return_val_if_fail (SIM_IS_LESSON_PROGRESS (self), NULL);
  groups = g_key_file_get_groups (self->kf, NULL);
  /* "[/student]" and the like hold what is not a lesson's: a lesson id is a file name. */
  for (guint i = 0; groups[i] != NULL; i++)
    if (groups[i][0] != '/')
      g_strv_builder_add (ids, groups[i]);
  return g_strv_builder_end (ids);
}

#define STUDENT_GROUP "/student"

char *
sim_lesson_progress_get_student_name (SimLessonProgress *self)
{
  g_autofree char *name = NULL;
  g_autofree char *normal = NULL;

  g_return_val_if_fail (SIM_IS_LESSON_PROGRESS (self), NULL);
  name = g_key_file_get_string (self->kf, STUDENT_GROUP, "name", NULL);
  /* A name that is no name (edited by hand) is no name at all. */
  normal = sim_lesson_student_normalize_name (name);
  return normal != NULL ? g_steal_pointer (&name) : NULL;
}

void
sim_lesson_progress_set_student_name (SimLessonProgress *self,
                                      const char        *name)
{
  g_return_if_fail (SIM_IS_LESSON_PROGRESS (self));
  if (name == NULL)
    g_key_file_remove_group (self->kf, STUDENT_GROUP, NULL);
  else
    g_key_file_set_string (self->kf, STUDENT_GROUP, "name", name);
}

SimLessonRecord *
sim_lesson_progress_lookup (SimLessonProgress *self,
                            const char        *id)
{
  g_return_val_if_fail (SIM_IS_LESSON_PROGRESS (self), NULL);
  g_return_val_if_fail (id != NULL, NULL);
  if (!g_key_file_has_group (self->kf, id))
    return NULL;
  /* A value of the wrong type (load() refuses such a file) reads as 0. */
  return read_record (self->kf, id, NULL);
}

/* Where the student is in which exercise, and what they did at each item so far. */
static void
write_exercise (GKeyFile        *kf,
                const char      *id,
                SimLessonRunner *runner)
{
  SimLesson *lesson = sim_lesson_runner_get_lesson (runner);
  guint n = sim_lesson_get_n_items (lesson);
  g_auto(GStrv) keys = g_key_file_get_keys (kf, id, NULL, NULL);
  g_autofree char *seed = g_strdup_printf ("%u", sim_lesson_get_seed (lesson));

  g_key_file_set_integer (kf, id, "position", sim_lesson_runner_get_position (runner));
  if (sim_lesson_get_student (lesson) != NULL)
    g_key_file_set_string (kf, id, "student", sim_lesson_get_student (lesson));
  else
    g_key_file_remove_key (kf, id, "student", NULL);
  g_key_file_set_value (kf, id, "seed", seed);
  g_key_file_set_string (kf, id, "sha256", sim_lesson_get_sha256 (lesson));
  /* The item records are this session's: an earlier exercise's must not linger. */
  for (guint i = 0; keys != NULL && keys[i] != NULL; i++)
    if (g_str_has_prefix (keys[i], "item-"))
      g_key_file_remove_key (kf, id, keys[i], NULL);
  for (guint i = 0; i < n; i++)
    {
      const SimLessonAttempt *a = sim_lesson_runner_get_attempt (runner, i);
      g_autofree char *key = NULL;
      g_autofree char *attempts = NULL;
      g_autofree char *hints = NULL;
      const char *list[5];

      if (a->result == SIM_LESSON_RESULT_NONE && a->attempts == 0 && a->hints == 0)
        continue;
      key = g_strdup_printf ("item-%u", i + 1);
      attempts = g_strdup_printf ("%u", a->attempts);
      hints = g_strdup_printf ("%u", a->hints);
      list[0] = sim_lesson_result_name (a->result);
      list[1] = attempts;
      list[2] = hints;
      list[3] = a->answer ? a->answer : "";
      list[4] = NULL;
      g_key_file_set_string_list (kf, id, key, list, 4);
    }
}

void
sim_lesson_progress_update (SimLessonProgress *self,
                            SimLessonRunner   *runner)
{
  SimLesson *lesson;
  GKeyFile *kf;
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *stamp = g_date_time_format_iso8601 (now);
  const char *id;
  guint position, correct;

  g_return_if_fail (SIM_IS_LESSON_PROGRESS (self));
  g_return_if_fail (SIM_IS_LESSON_RUNNER (runner));

  kf = self->kf;
  lesson = sim_lesson_runner_get_lesson (runner);
  id = sim_lesson_get_id (lesson);
  position = sim_lesson_runner_get_position (runner);
  correct = sim_lesson_runner_get_n_correct (runner);
  g_key_file_set_string (kf, id, "title", sim_lesson_get_title (lesson));
  g_key_file_set_string (kf, id, "file", sim_lesson_get_file (lesson));
  g_key_file_set_integer (kf, id, "items", sim_lesson_get_n_items (lesson));
  /* Keep the furthest point reached and the best score, so replaying a lesson loses nothing. */
  if (!g_key_file_has_key (kf, id, "reached", NULL) ||
      g_key_file_get_integer (kf, id, "reached", NULL) < (int) position)
    g_key_file_set_integer (kf, id, "reached", position);
  g_key_file_set_integer (kf, id, "questions", sim_lesson_get_n_questions (lesson));
  g_key_file_set_integer (kf, id, "last-correct", correct);
  g_key_file_set_integer (kf, id, "last-tasks-done", sim_lesson_runner_get_n_tasks_done (runner));
  if (sim_lesson_runner_is_done (runner))
    {
      g_key_file_set_boolean (kf, id, "completed", TRUE);
      if (g_key_file_get_integer (kf, id, "best-correct", NULL) <= (int) correct)
        g_key_file_set_integer (kf, id, "best-correct", correct);
    }
  g_key_file_set_string (kf, id, "updated", stamp);
  write_exercise (kf, id, runner);
}

gboolean
sim_lesson_progress_record (const char       *path,
                            SimLessonRunner  *runner,
                            GError          **error)
{
  g_autoptr(SimLessonProgress) self = sim_lesson_progress_new ();
  g_autofree char *default_path = NULL;

  g_return_val_if_fail (SIM_IS_LESSON_RUNNER (runner), FALSE);
  if (path == NULL)
    path = default_path = sim_lesson_progress_default_path ();
  /*
   * A missing or damaged file is an empty record (with whatever GKeyFile read before the damage):
   * the student's session goes on, and the file is written whole again.
   */
  load_key_file (self->kf, path, FALSE, NULL);
  sim_lesson_progress_update (self, runner);
  return sim_lesson_progress_save (self, path, error);
}

guint
sim_lesson_progress_get_resume_position (SimLessonProgress *self,
                                         SimLesson         *lesson)
{
  g_autoptr(SimLessonRecord) r = NULL;

  g_return_val_if_fail (SIM_IS_LESSON_PROGRESS (self), 0);
  g_return_val_if_fail (SIM_IS_LESSON (lesson), 0);
  r = sim_lesson_progress_lookup (self, sim_lesson_get_id (lesson));
  /* Only the same exercise of the same text resumes: another seed or version starts over. */
  if (r == NULL || r->position == 0 || r->position >= sim_lesson_get_n_items (lesson) ||
      r->n_items != sim_lesson_get_n_items (lesson) || r->seed != sim_lesson_get_seed (lesson) ||
      g_strcmp0 (r->sha256, sim_lesson_get_sha256 (lesson)) != 0)
    return 0;
  return r->position;
}

gboolean
sim_lesson_progress_resume (const char       *path,
                            SimLessonRunner  *runner,
                            GError          **error)
{
  g_autoptr(SimLessonProgress) self = NULL;
  g_autoptr(SimLessonRecord) r = NULL;
  SimLesson *lesson;
  guint position;

  g_return_val_if_fail (SIM_IS_LESSON_RUNNER (runner), FALSE);
  lesson = sim_lesson_runner_get_lesson (runner);
  self = sim_lesson_progress_load (path, error);
  if (self == NULL || (position = sim_lesson_progress_get_resume_position (self, lesson)) == 0)
    return FALSE;
  r = sim_lesson_progress_lookup (self, sim_lesson_get_id (lesson));
  return sim_lesson_runner_resume (runner, position, r->attempts, error);
}
