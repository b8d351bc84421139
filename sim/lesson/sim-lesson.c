/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "sim-lesson-private.h"

#include <string.h>

/*
 * SimLesson: a parsed lesson file (sim-lesson-parse.c reads it) and its items.  The runner
 * (sim-lesson-runner.c) plays it, the checker (sim-lesson-check.c) verifies it.
 */

G_DEFINE_QUARK (sim-lesson-error-quark, sim_lesson_error)

/* ------------------------------------------------------------------------------------------ */
/* Small helpers                                                                              */

char **
_sim_lesson_tokenize (const char *text)
{
  g_auto(GStrv) raw = g_strsplit_set (text, " \t", -1);
  GPtrArray *out = g_ptr_array_new ();

  for (guint i = 0; raw[i] != NULL; i++)
    if (raw[i][0] != '\0')
      g_ptr_array_add (out, g_strdup (raw[i]));
  g_ptr_array_add (out, NULL);
  return (char **) g_ptr_array_free (out, FALSE);
}

gboolean
_sim_lesson_parse_uint (const char *text,
                        guint64    *out)
{
  return text != NULL && g_ascii_string_to_unsigned (text, 10, 0, G_MAXUINT32, out, NULL);
}

gboolean
_sim_lesson_syntax_error (GError     **error,
                          const char  *format,
                          ...)
{
  va_list args;
  char *message;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error_literal (error, SIM_LESSON_ERROR, SIM_LESSON_ERROR_SYNTAX, message);
  g_free (message);
  return FALSE;
}

gboolean
_sim_lesson_error_at_va (GError         **error,
                         SimLessonError   code,
                         const char      *file,
                         guint            line,
                         const char      *format,
                         va_list          args)
{
  g_autofree char *message = g_strdup_vprintf (format, args);

  g_set_error (error, SIM_LESSON_ERROR, code, "%s:%u: %s", file, line, message);
  return FALSE;
}

gboolean
_sim_lesson_word_in (const char         *word,
                     const char * const *words)
{
  for (guint i = 0; word != NULL && words[i] != NULL; i++)
    if (strcmp (word, words[i]) == 0)
      return TRUE;
  return FALSE;
}

/* ------------------------------------------------------------------------------------------ */
/* Items                                                                                      */

void
_sim_lesson_line_free (SimLessonLine *l)
{
  if (l == NULL)
    return;
  g_free (l->text);
  g_free (l);
}

SimLessonLine *
_sim_lesson_line_new (const char *text,
                      guint       line)
{
  SimLessonLine *l = g_new0 (SimLessonLine, 1);
  l->text = g_strstrip (g_strdup (text));
  l->line = line;
  return l;
}

static void
option_free (SimLessonOption *o)
{
  g_free (o->key);
  g_free (o->text);
  g_free (o);
}

static void
item_free (SimLessonItem *item)
{
  g_free (item->title);
  g_free (item->text);
  g_ptr_array_unref (item->commands);
  _sim_lesson_line_free (item->until);
  g_ptr_array_unref (item->highlights);
  g_ptr_array_unref (item->expects);
  g_clear_pointer (&item->predict, _sim_lesson_prediction_free);
  g_ptr_array_unref (item->options);
  _sim_lesson_line_free (item->answer);
  g_free (item->explain);
  g_ptr_array_unref (item->goals);
  g_ptr_array_unref (item->solution);
  g_free (item->hint);
  g_ptr_array_unref (item->hints);
  g_clear_pointer (&item->parsed->until, _sim_lesson_matcher_free);
  g_clear_pointer (&item->parsed->predicted, _sim_lesson_matcher_free);
  g_ptr_array_unref (item->parsed->expects);
  g_ptr_array_unref (item->parsed->goals);
  g_clear_pointer (&item->parsed->text_lines, g_array_unref);
  g_free (item->parsed);
  g_free (item);
}

SimLessonItem *
_sim_lesson_item_new (SimLessonItemKind kind,
                      const char       *title,
                      guint             line)
{
  SimLessonItem *item = g_new0 (SimLessonItem, 1);

  item->kind = kind;
  item->title = g_strstrip (g_strdup (title));
  item->line = line;
  item->commands = g_ptr_array_new_with_free_func ((GDestroyNotify) _sim_lesson_line_free);
  item->highlights = g_ptr_array_new_with_free_func ((GDestroyNotify) _sim_lesson_highlight_free);
  item->expects = g_ptr_array_new_with_free_func ((GDestroyNotify) _sim_lesson_line_free);
  item->options = g_ptr_array_new_with_free_func ((GDestroyNotify) option_free);
  item->goals = g_ptr_array_new_with_free_func ((GDestroyNotify) _sim_lesson_line_free);
  item->solution = g_ptr_array_new_with_free_func ((GDestroyNotify) _sim_lesson_line_free);
  item->hints = g_ptr_array_new_with_free_func ((GDestroyNotify) _sim_lesson_line_free);
  item->settle = SIM_LESSON_DEFAULT_SETTLE;
  item->parsed = g_new0 (SimLessonItemParsed, 1);
  item->parsed->expects = g_ptr_array_new_with_free_func ((GDestroyNotify) _sim_lesson_claim_free);
  item->parsed->goals = g_ptr_array_new_with_free_func ((GDestroyNotify) _sim_lesson_claim_free);
  return item;
}

const char *
sim_lesson_item_kind_name (SimLessonItemKind kind)
{
  static const char *names[] = { "Step", "Predict", "Choice", "Task" };
  g_return_val_if_fail (kind <= SIM_LESSON_TASK, NULL);
  return names[kind];
}

gboolean
sim_lesson_item_has_highlight (const SimLessonItem    *item,
                               SimLessonHighlightKind  kind)
{
  g_return_val_if_fail (item != NULL, FALSE);
  for (guint i = 0; i < item->highlights->len; i++)
    if (((SimLessonHighlight *) item->highlights->pdata[i])->kind == kind)
      return TRUE;
  return FALSE;
}

/* ------------------------------------------------------------------------------------------ */
/* The lesson                                                                                 */

G_DEFINE_FINAL_TYPE (SimLesson, sim_lesson, G_TYPE_OBJECT)

static void
sim_lesson_finalize (GObject *object)
{
  SimLesson *self = SIM_LESSON (object);

  g_free (self->file);
  g_free (self->id);
  g_free (self->title);
  g_free (self->intro);
  g_clear_pointer (&self->intro_lines, g_array_unref);
  g_clear_pointer (&self->scene, sim_scenario_unref);
  g_ptr_array_unref (self->items);
  g_free (self->student);
  g_free (self->sha256);
  g_clear_pointer (&self->vary, _sim_lesson_vary_free);
  G_OBJECT_CLASS (sim_lesson_parent_class)->finalize (object);
}

static void
sim_lesson_class_init (SimLessonClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = sim_lesson_finalize;
}

static void
sim_lesson_init (SimLesson *self)
{
  self->items = g_ptr_array_new_with_free_func ((GDestroyNotify) item_free);
}

const char *
sim_lesson_get_file (SimLesson *self)
{
  g_return_val_if_fail (SIM_IS_LESSON (self), NULL);
  return self->file;
}

const char *
sim_lesson_get_id (SimLesson *self)
{
  g_return_val_if_fail (SIM_IS_LESSON (self), NULL);
  return self->id;
}

const char *
sim_lesson_get_title (SimLesson *self)
{
  g_return_val_if_fail (SIM_IS_LESSON (self), NULL);
  return self->title;
}

const char *
sim_lesson_get_intro (SimLesson *self)
{
  g_return_val_if_fail (SIM_IS_LESSON (self), NULL);
  return self->intro;
}

SimScenario *
sim_lesson_get_scene (SimLesson *self)
{
  g_return_val_if_fail (SIM_IS_LESSON (self), NULL);
  return self->scene;
}

guint
sim_lesson_get_n_items (SimLesson *self)
{
  g_return_val_if_fail (SIM_IS_LESSON (self), 0);
  return self->items->len;
}

const SimLessonItem *
sim_lesson_get_item (SimLesson *self,
                     guint      index)
{
  g_return_val_if_fail (SIM_IS_LESSON (self), NULL);
  g_return_val_if_fail (index < self->items->len, NULL);
  return self->items->pdata[index];
}

guint
sim_lesson_get_n_questions (SimLesson *self)
{
  guint n = 0;

  g_return_val_if_fail (SIM_IS_LESSON (self), 0);
  for (guint i = 0; i < self->items->len; i++)
    {
      SimLessonItem *item = self->items->pdata[i];
      if (item->kind == SIM_LESSON_PREDICT || item->kind == SIM_LESSON_CHOICE)
        n++;
    }
  return n;
}
