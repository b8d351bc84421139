/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "sim-lesson-private.h"

#include <string.h>

/*
 * The lesson file: Markdown with a scene (a ```scene block or "scene: FILE"), "## Kind: title"
 * items and "word:" directives (lessons/README.md).  The parser reads it line by line; each
 * directive's value is parsed into its typed form here, so a typo is a "FILE:LINE:" error
 * before anything runs.
 */

typedef struct {
  SimLesson *lesson;
  const char *name;
  const char *base_dir;
  guint line;
  GError **error;
  SimLessonItem *item;           /* the item being read, or NULL in the intro */
  GString *text;                 /* Markdown of the intro or the item */
  GArray *text_lines;            /* guint: the file's line of each line of @text */
  char **cont;                   /* the directive value a continuation line extends */
  const char *fence;             /* "```" or "~~~" inside a fenced block, else NULL */
  guint fence_line;
  GString *scene;                /* the inline scene being read, or NULL */
  guint scene_line;
} Parser;

static gboolean
fail (Parser     *p,
      guint       line,
      const char *format,
      ...) G_GNUC_PRINTF (3, 4);

static gboolean
fail (Parser     *p,
      guint       line,
      const char *format,
      ...)
{
  va_list args;

  va_start (args, format);
  _sim_lesson_error_at_va (p->error, SIM_LESSON_ERROR_SYNTAX, p->name, line ? line : p->line,
                           format, args);
  va_end (args);
  return FALSE;
}

/* Re-reports a grammar error from the small languages against the directive's line. */
static gboolean
fail_local (Parser *p,
            GError *local)
{
  gboolean r = fail (p, 0, "%s", local->message);
  g_error_free (local);
  return r;
}

/* Appends a line of Markdown, remembering where it is in the file. */
static void
append_text (Parser     *p,
             const char *line)
{
  g_string_append_printf (p->text, "%s\n", line);
  g_array_append_val (p->text_lines, p->line);
}

/*
 * The intro's or item's text, trimmed, and in @lines_out the file's line of each of its lines
 * (so the checker can say on which line a text gives an answer away).
 */
static char *
trim_text (Parser  *p,
           GArray **lines_out)
{
  char *t = g_strdup (p->text->str);
  guint leading = 0;

  for (const char *c = t; *c != '\0' && g_ascii_isspace (*c); c++)
    if (*c == '\n')
      leading++;
  g_strstrip (t);
  g_clear_pointer (lines_out, g_array_unref);
  *lines_out = g_array_new (FALSE, FALSE, sizeof (guint));
  if (leading < p->text_lines->len)
    g_array_append_vals (*lines_out, &g_array_index (p->text_lines, guint, leading),
                         p->text_lines->len - leading);
  g_string_truncate (p->text, 0);
  g_array_set_size (p->text_lines, 0);
  return t;
}

/*
 * A task's "only binding" goals: each one names its binding; together they name the bindings
 * the task may change, so every "only" goal of the task lets all of them change (RFC 3261
 * §10.3 has no such notion: this is the lesson's grading, "remove these and nothing else").
 */
static void
collect_only_goals (SimLessonItem *item)
{
  g_autoptr(GPtrArray) named = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; i < item->parsed->goals->len; i++)
    {
      SimLessonClaim *c = item->parsed->goals->pdata[i];

      if (c->only)
        g_ptr_array_add (named, g_strdup_printf ("%s %s", c->subject, c->contact));
    }
  for (guint i = 0; i < item->parsed->goals->len; i++)
    {
      SimLessonClaim *c = item->parsed->goals->pdata[i];

      if (c->only)
        {
          g_clear_pointer (&c->named, g_ptr_array_unref);
          c->named = g_ptr_array_ref (named);
        }
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Items                                                                                      */

static const struct {
  const char *word;
  SimLessonItemKind kind;
} kinds[] = {
  { "step", SIM_LESSON_STEP },
  { "predict", SIM_LESSON_PREDICT },
  { "choice", SIM_LESSON_CHOICE },
  { "task", SIM_LESSON_TASK },
};

static gboolean
has_option (const SimLessonItem *item,
            const char          *key)
{
  for (guint i = 0; i < item->options->len; i++)
    if (g_ascii_strcasecmp (((SimLessonOption *) item->options->pdata[i])->key, key) == 0)
      return TRUE;
  return FALSE;
}

/* Ends the intro or the item being read: its text, and whether it has what its kind needs. */
static gboolean
finish_item (Parser *p)
{
  SimLessonItem *item = p->item;

  if (item == NULL)
    {
      g_free (p->lesson->intro);
      p->lesson->intro = trim_text (p, &p->lesson->intro_lines);
      return TRUE;
    }
  item->text = trim_text (p, &item->parsed->text_lines);
  if (item->hints->len > 0)
    item->hint = g_strdup (((SimLessonLine *) item->hints->pdata[0])->text);
  p->item = NULL;
  p->cont = NULL;
  switch (item->kind)
    {
    case SIM_LESSON_PREDICT:
      if (item->predict == NULL)
        return fail (p, item->line, "a Predict item needs a 'predict:' line (like 'predict: status of "
                     "response arrives at alice-desk')");
      if (item->answer == NULL)
        return fail (p, item->line, "a Predict item needs an 'answer:' (the answer key check verifies)");
      break;
    case SIM_LESSON_CHOICE:
      if (item->options->len < 2)
        return fail (p, item->line, "a Choice item needs at least two 'option KEY:' lines");
      if (item->answer == NULL)
        return fail (p, item->line, "a Choice item needs an 'answer:' naming one option");
      if (!has_option (item, item->answer->text))
        return fail (p, item->answer->line, "the answer '%s' is not one of the options", item->answer->text);
      break;
    case SIM_LESSON_TASK:
      if (item->goals->len == 0)
        return fail (p, item->line, "a Task needs at least one 'goal:' claim");
      if (item->solution->len == 0)
        return fail (p, item->line, "a Task needs a 'solution:' (the commands check runs)");
      collect_only_goals (item);
      break;
    case SIM_LESSON_STEP:
    default:
      break;
    }
  return TRUE;
}

/* ------------------------------------------------------------------------------------------ */
/* Directives                                                                                 */

/* Where a directive may appear: before the first item, or in items of some kinds. */
typedef enum {
  IN_INTRO   = 1 << 0,
  IN_STEP    = 1 << (1 + SIM_LESSON_STEP),
  IN_PREDICT = 1 << (1 + SIM_LESSON_PREDICT),
  IN_CHOICE  = 1 << (1 + SIM_LESSON_CHOICE),
  IN_TASK    = 1 << (1 + SIM_LESSON_TASK),
  IN_ITEMS   = IN_STEP | IN_PREDICT | IN_CHOICE | IN_TASK,
} DirectivePlace;

typedef enum {
  DIRECTIVE_TITLE,
  DIRECTIVE_SCENE,
  DIRECTIVE_DO,
  DIRECTIVE_RUN,
  DIRECTIVE_HIGHLIGHT,
  DIRECTIVE_EXPECT,
  DIRECTIVE_PREDICT,
  DIRECTIVE_ANSWER,
  DIRECTIVE_EXPLAIN,
  DIRECTIVE_OPTION,
  DIRECTIVE_GOAL,
  DIRECTIVE_SOLUTION,
  DIRECTIVE_HINT,
  DIRECTIVE_SETTLE,
  DIRECTIVE_VARY,
} DirectiveId;

typedef struct _Directive Directive;

typedef gboolean (*DirectiveFunc) (Parser          *p,
                                   const Directive *d,
                                   const char      *arg,
                                   const char      *value);

struct _Directive {
  const char *word;
  DirectiveId id;
  DirectivePlace places;
  gboolean takes_key;        /* "option KEY: text" */
  DirectiveFunc parse;
};

static gboolean
parse_title (Parser          *p,
             const Directive *d,
             const char      *arg,
             const char      *value)
{
  g_free (p->lesson->title);
  p->lesson->title = g_strstrip (g_strdup (value));
  p->lesson->title_line = p->line;
  return TRUE;
}

/* "scene: FILE", relative to the lesson's folder. */
static gboolean
parse_scene_file (Parser          *p,
                  const Directive *d,
                  const char      *arg,
                  const char      *value)
{
  g_autofree char *path = NULL;
  g_autofree char *text = NULL;
  GError *local = NULL;
  gsize len;
  SimScenario *sc;

  if (p->lesson->scene != NULL)
    return fail (p, 0, "the lesson already has a scene");
  path = g_path_is_absolute (value) ? g_strdup (value)
                                    : g_build_filename (p->base_dir ? p->base_dir : ".", value, NULL);
  if (!g_file_get_contents (path, &text, &len, &local))
    return fail_local (p, local);
  /* The scene file may use the lesson's placeholders too. */
  if (p->lesson->vary != NULL && strstr (text, "{{") != NULL)
    {
      g_autofree char *expanded = _sim_lesson_vary_expand (p->lesson->vary, text, path, &local);

      if (expanded == NULL)
        return fail_local (p, local);
      g_free (text);
      text = g_steal_pointer (&expanded);
      len = strlen (text);
    }
  sc = sim_scenario_parse_data (text, len, path, &local);
  if (sc == NULL)
    {
      g_set_error (p->error, SIM_LESSON_ERROR, SIM_LESSON_ERROR_SCENE, "%s:%u: in the scene: %s",
                   p->name, p->line, local->message);
      g_error_free (local);
      return FALSE;
    }
  p->lesson->scene = sc;
  return TRUE;
}

/* "do:" and "solution:"; several commands on one line may be separated by ';'. */
static gboolean
parse_commands (Parser          *p,
                const Directive *d,
                const char      *arg,
                const char      *value)
{
  GPtrArray *list = d->id == DIRECTIVE_DO ? p->item->commands : p->item->solution;
  g_auto(GStrv) parts = g_strsplit (value, ";", -1);

  for (guint i = 0; parts[i] != NULL; i++)
    {
      GError *local = NULL;

      g_strstrip (parts[i]);
      if (parts[i][0] == '\0')
        continue;
      if (!_sim_lesson_command_run (NULL, p->lesson->scene, parts[i], &local))
        return fail_local (p, local);
      g_ptr_array_add (list, _sim_lesson_line_new (parts[i], p->line));
    }
  return TRUE;
}

static gboolean
parse_run (Parser          *p,
           const Directive *d,
           const char      *arg,
           const char      *value)
{
  SimLessonItem *item = p->item;
  GError *local = NULL;

  if (item->until != NULL)
    return fail (p, 0, "one 'run:' per item (split the item in two)");
  if ((item->parsed->until = _sim_lesson_matcher_parse (value, &local)) == NULL)
    return fail_local (p, local);
  item->until = _sim_lesson_line_new (value, p->line);
  return TRUE;
}

static gboolean
parse_highlight (Parser          *p,
                 const Directive *d,
                 const char      *arg,
                 const char      *value)
{
  GError *local = NULL;
  SimLessonHighlight *h = _sim_lesson_highlight_parse (value, p->line, &local);

  if (h == NULL)
    return fail_local (p, local);
  g_ptr_array_add (p->item->highlights, h);
  return TRUE;
}

/* "expect:" and "goal:". */
static gboolean
parse_claim (Parser          *p,
             const Directive *d,
             const char      *arg,
             const char      *value)
{
  gboolean goal = d->id == DIRECTIVE_GOAL;
  GError *local = NULL;
  SimLessonClaim *claim = _sim_lesson_claim_parse (value, p->line, &local);

  if (claim == NULL)
    return fail_local (p, local);
  if (claim->only && !goal)
    {
      _sim_lesson_claim_free (claim);
      return fail (p, 0, "'only' is for a task's goals: it compares with the bindings there were "
                   "when the task began");
    }
  g_ptr_array_add (goal ? p->item->parsed->goals : p->item->parsed->expects, claim);
  g_ptr_array_add (goal ? p->item->goals : p->item->expects, _sim_lesson_line_new (value, p->line));
  return TRUE;
}

static gboolean
parse_predict (Parser          *p,
               const Directive *d,
               const char      *arg,
               const char      *value)
{
  SimLessonItem *item = p->item;
  GError *local = NULL;

  if (item->predict != NULL)
    return fail (p, 0, "one 'predict:' per item");
  item->predict = _sim_lesson_prediction_parse (value, p->line, &item->parsed->predicted, &local);
  if (item->predict == NULL)
    return fail_local (p, local);
  return TRUE;
}

static gboolean
parse_answer (Parser          *p,
              const Directive *d,
              const char      *arg,
              const char      *value)
{
  if (p->item->answer != NULL)
    return fail (p, 0, "one 'answer:' per item");
  if (value[0] == '\0')
    return fail (p, 0, "the answer is empty");
  p->item->answer = _sim_lesson_line_new (value, p->line);
  return TRUE;
}

static gboolean
parse_option (Parser          *p,
              const Directive *d,
              const char      *arg,
              const char      *value)
{
  SimLessonOption *o;

  if (has_option (p->item, arg))
    return fail (p, 0, "option '%s' is given twice", arg);
  o = g_new0 (SimLessonOption, 1);
  o->key = g_strdup (arg);
  o->text = g_strstrip (g_strdup (value));
  o->line = p->line;
  g_ptr_array_add (p->item->options, o);
  p->cont = &o->text;
  return TRUE;
}

/* "hint:": several lines escalate, a nudge first; each may go on over indented lines. */
static gboolean
parse_hint (Parser          *p,
            const Directive *d,
            const char      *arg,
            const char      *value)
{
  SimLessonLine *hint = _sim_lesson_line_new (value, p->line);

  g_ptr_array_add (p->item->hints, hint);
  p->cont = &hint->text;
  return TRUE;
}

/* "explain:": prose that may go on over lines indented by two spaces. */
static gboolean
parse_prose (Parser          *p,
             const Directive *d,
             const char      *arg,
             const char      *value)
{
  char **slot = &p->item->explain;

  if (*slot != NULL)
    return fail (p, 0, "one '%s:' per item (continue it on lines indented by two spaces)", d->word);
  *slot = g_strstrip (g_strdup (value));
  if (d->id == DIRECTIVE_EXPLAIN)
    p->item->parsed->explain_line = p->line;
  else
    p->item->parsed->hint_line = p->line;
  p->cont = slot;
  return TRUE;
}

/* "vary:" lines were read, and their placeholders replaced, before parsing began. */
static gboolean
parse_vary (Parser          *p,
            const Directive *d,
            const char      *arg,
            const char      *value)
{
  return TRUE;
}

static gboolean
parse_settle (Parser          *p,
              const Directive *d,
              const char      *arg,
              const char      *value)
{
  if (!sim_scenario_parse_duration (value, &p->item->settle, NULL) || p->item->settle < 0)
    return fail (p, 0, "'%s' is not a duration (like 10s)", value);
  return TRUE;
}

static const Directive directives[] = {
  { "title", DIRECTIVE_TITLE, IN_INTRO, FALSE, parse_title },
  { "scene", DIRECTIVE_SCENE, IN_INTRO, FALSE, parse_scene_file },
  { "do", DIRECTIVE_DO, IN_ITEMS, FALSE, parse_commands },
  { "run", DIRECTIVE_RUN, IN_ITEMS, FALSE, parse_run },
  { "highlight", DIRECTIVE_HIGHLIGHT, IN_ITEMS, FALSE, parse_highlight },
  { "expect", DIRECTIVE_EXPECT, IN_ITEMS, FALSE, parse_claim },
  { "predict", DIRECTIVE_PREDICT, IN_PREDICT, FALSE, parse_predict },
  { "answer", DIRECTIVE_ANSWER, IN_PREDICT | IN_CHOICE, FALSE, parse_answer },
  { "explain", DIRECTIVE_EXPLAIN, IN_PREDICT | IN_CHOICE, FALSE, parse_prose },
  { "option", DIRECTIVE_OPTION, IN_CHOICE, TRUE, parse_option },
  { "goal", DIRECTIVE_GOAL, IN_TASK, FALSE, parse_claim },
  { "solution", DIRECTIVE_SOLUTION, IN_TASK, FALSE, parse_commands },
  { "hint", DIRECTIVE_HINT, IN_TASK, FALSE, parse_hint },
  /* Read before the lesson is parsed (sim-lesson-vary.c); here it is only in its place. */
  { "vary", DIRECTIVE_VARY, IN_INTRO | IN_ITEMS, FALSE, parse_vary },
  { "settle", DIRECTIVE_SETTLE, IN_TASK, FALSE, parse_settle },
};

static const Directive *
lookup_directive (const char *word)
{
  for (guint i = 0; i < G_N_ELEMENTS (directives); i++)
    if (strcmp (word, directives[i].word) == 0)
      return &directives[i];
  return NULL;
}

static gboolean
parse_directive (Parser          *p,
                 const Directive *d,
                 const char      *arg,
                 const char      *value)
{
  if (p->item == NULL && !(d->places & IN_INTRO))
    return fail (p, 0, "'%s:' belongs in an item; before the first '## Step:' only 'title:' and "
                 "'scene:' are directives", d->word);
  if (p->item != NULL && !(d->places & (1 << (1 + p->item->kind))))
    return fail (p, 0, "'%s:' is not a directive of a %s item", d->word,
                 sim_lesson_item_kind_name (p->item->kind));
  if (d->takes_key && arg == NULL)
    return fail (p, 0, "an option needs a key: 'option a: text'");
  return d->parse (p, d, arg, value);
}

/* "word:" or "word key:" at the start of a line, followed by a space or the end: a directive. */
static gboolean
split_directive (const char  *line,
                 char       **word,
                 char       **arg,
                 const char **value)
{
  const char *c = line, *w_end, *a_start = NULL, *a_end = NULL;

  if (!g_ascii_islower (*c))
    return FALSE;
  while (g_ascii_islower (*c) || *c == '-')
    c++;
  w_end = c;
  if (*c == ' ' && g_ascii_isalnum (c[1]))
    {
      a_start = ++c;
      while (g_ascii_isalnum (*c) || *c == '-' || *c == '_')
        c++;
      a_end = c;
    }
  if (*c != ':' || (c[1] != '\0' && c[1] != ' ' && c[1] != '\t'))
    return FALSE;
  *word = g_strndup (line, w_end - line);
  *arg = a_start ? g_strndup (a_start, a_end - a_start) : NULL;
  *value = c[1] ? c + 2 : c + 1;
  return TRUE;
}

/* ------------------------------------------------------------------------------------------ */
/* Lines                                                                                      */

/* The closing fence of the inline scene: the scene is parsed, with the lesson's line numbers. */
static gboolean
finish_scene (Parser *p)
{
  GError *local = NULL;
  g_autoptr(GString) padded = g_string_new (NULL);

  /* Pad with empty lines so the scenario parser's line numbers are the lesson's. */
  for (guint k = 0; k < p->scene_line; k++)
    g_string_append_c (padded, '\n');
  g_string_append (padded, p->scene->str);
  p->lesson->scene = sim_scenario_parse_data (padded->str, padded->len, p->name, &local);
  if (p->lesson->scene == NULL)
    {
      g_set_error (p->error, SIM_LESSON_ERROR, SIM_LESSON_ERROR_SCENE, "%s", local->message);
      g_error_free (local);
      return FALSE;
    }
  g_string_free (g_steal_pointer (&p->scene), TRUE);
  return TRUE;
}

/* A line inside a fenced block: Markdown, or the inline scene. */
static gboolean
parse_fenced_line (Parser     *p,
                   const char *line)
{
  if (g_str_has_prefix (line, p->fence))
    {
      p->fence = NULL;
      if (p->scene != NULL && p->lesson->scene == NULL)
        return finish_scene (p);
    }
  if (p->scene != NULL)
    g_string_append_printf (p->scene, "%s\n", line);
  else
    append_text (p, line);
  return TRUE;
}

/* "```" or "~~~" opens a fenced block; "```scene" the inline scene. */
static gboolean
open_fence (Parser     *p,
            const char *line)
{
  g_autofree char *info = g_strstrip (g_strdup (line + 3));

  p->fence = g_str_has_prefix (line, "```") ? "```" : "~~~";
  p->fence_line = p->line;
  if (strcmp (info, "scene") == 0)
    {
      if (p->item != NULL)
        return fail (p, 0, "the scene block belongs before the first item");
      if (p->lesson->scene != NULL)
        return fail (p, 0, "the lesson already has a scene");
      p->scene = g_string_new (NULL);
      p->scene_line = p->line;
      return TRUE;
    }
  append_text (p, line);
  return TRUE;
}

/* A one-line HTML comment (the SPDX line, a note to other teachers) is not text. */
static gboolean
is_comment (const char *line)
{
  while (*line == ' ' || *line == '\t')
    line++;
  return g_str_has_prefix (line, "<!--") && g_str_has_suffix (line, "-->");
}

/*
 * "## Kind: title" starts an item.  Inside the lesson every "## " heading must be one; in the
 * intro, a "## " heading without a one-word keyword is Markdown.  @handled: the line was an item.
 */
static gboolean
parse_heading (Parser     *p,
               const char *line,
               gboolean   *handled)
{
  const char *h = line + 3;
  const char *colon = strchr (h, ':');

  *handled = FALSE;
  if (colon != NULL)
    {
      g_autofree char *kw = g_ascii_strdown (h, colon - h);

      g_strstrip (kw);
      if (strchr (kw, ' ') == NULL)
        {
          for (guint k = 0; k < G_N_ELEMENTS (kinds); k++)
            if (strcmp (kw, kinds[k].word) == 0)
              {
                if (!finish_item (p))
                  return FALSE;
                p->item = _sim_lesson_item_new (kinds[k].kind, colon + 1, p->line);
                g_ptr_array_add (p->lesson->items, p->item);
                *handled = TRUE;
                return TRUE;
              }
          return fail (p, 0, "unknown item '%s' (expected '## Step:', '## Predict:', "
                       "'## Choice:' or '## Task:'; use '###' for other headings)", kw);
        }
    }
  if (p->item != NULL)
    return fail (p, 0, "a '## ' heading inside a lesson must be an item ('## Step: TITLE'); "
                 "use '###' for other headings");
  return TRUE;
}

/* A "word:" line.  "tells Alice: ..." is prose: only "option KEY:" has a word before the colon. */
static gboolean
parse_directive_line (Parser     *p,
                      const char *line,
                      gboolean   *handled)
{
  g_autofree char *word = NULL;
  g_autofree char *arg = NULL;
  const char *value;
  const Directive *d;

  *handled = FALSE;
  if (!split_directive (line, &word, &arg, &value))
    return TRUE;
  d = lookup_directive (word);
  if (arg != NULL && (d == NULL || !d->takes_key))
    return TRUE;
  *handled = TRUE;
  if (d == NULL)
    return fail (p, 0, "unknown directive '%s:' (a line starting with a lower-case word and "
                 "a colon is a directive; see lessons/README.md)", word);
  return parse_directive (p, d, arg, value);
}

static gboolean
parse_line (Parser *p,
            char   *line)
{
  gboolean handled = FALSE;

  g_strchomp (line);
  if (p->fence != NULL)
    return parse_fenced_line (p, line);
  if (g_str_has_prefix (line, "```") || g_str_has_prefix (line, "~~~"))
    return open_fence (p, line);
  if (is_comment (line))
    return TRUE;
  if (g_str_has_prefix (line, "## "))
    {
      if (!parse_heading (p, line, &handled))
        return FALSE;
      if (handled)
        return TRUE;
    }
  if (g_str_has_prefix (line, "# ") && p->lesson->title == NULL && p->item == NULL)
    {
      p->lesson->title = g_strstrip (g_strdup (line + 2));
      p->lesson->title_line = p->line;
      return TRUE;
    }

  /* Continuation of explain/hint/option: indented by two spaces. */
  if (p->cont != NULL && g_str_has_prefix (line, "  ") && line[2] != ' ')
    {
      char *joined = g_strdup_printf ("%s %s", *p->cont, g_strstrip (line));
      g_free (*p->cont);
      *p->cont = joined;
      return TRUE;
    }
  p->cont = NULL;

  if (!parse_directive_line (p, line, &handled))
    return FALSE;
  if (!handled)
    append_text (p, line);
  return TRUE;
}

static gboolean
parse_text (SimLesson   *lesson,
            const char  *text,
            const char  *name,
            const char  *base_dir,
            GError     **error)
{
  g_auto(GStrv) lines = g_strsplit (text, "\n", -1);
  g_autoptr(GString) md = g_string_new (NULL);
  g_autoptr(GArray) md_lines = g_array_new (FALSE, FALSE, sizeof (guint));
  Parser p = { lesson, name, base_dir, 0, error, NULL, md, md_lines, NULL, NULL, 0, NULL, 0 };
  gboolean ok = TRUE;

  for (guint i = 0; ok && lines[i] != NULL; i++)
    {
      p.line = i + 1;
      ok = parse_line (&p, lines[i]);
    }
  if (p.scene != NULL)
    g_string_free (g_steal_pointer (&p.scene), TRUE);
  if (!ok)
    return FALSE;
  if (p.fence != NULL)
    return fail (&p, p.fence_line, "this fenced block is never closed");
  if (!finish_item (&p))
    return FALSE;
  if (lesson->title == NULL)
    return fail (&p, 1, "the lesson has no title (a first line '# Title' or 'title: ...')");
  if (lesson->scene == NULL)
    return fail (&p, 1, "the lesson has no scene (a ```scene block or 'scene: FILE')");
  if (lesson->items->len == 0)
    return fail (&p, p.line, "the lesson has no items ('## Step: ...')");
  return TRUE;
}

/* ------------------------------------------------------------------------------------------ */
/* Entry points                                                                               */

SimLesson *
_sim_lesson_parse_data_full (const char  *text,
                             gssize       length,
                             const char  *name,
                             const char  *base_dir,
                             guint32      seed,
                             const char  *student,
                             GError     **error)
{
  g_autoptr(SimLesson) self = NULL;
  g_autofree char *copy = NULL;
  g_autofree char *expanded = NULL;

  g_return_val_if_fail (text != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  copy = length < 0 ? g_strdup (text) : g_strndup (text, length);
  if (!g_utf8_validate (copy, -1, NULL))
    {
      g_set_error (error, SIM_LESSON_ERROR, SIM_LESSON_ERROR_SYNTAX, "%s:1: the file is not UTF-8 text",
                   name ? name : "<lesson>");
      return NULL;
    }
  self = g_object_new (SIM_TYPE_LESSON, NULL);
  self->file = g_strdup (name ? name : "<lesson>");
  self->id = sim_lesson_id_for_file (self->file);
  self->seed = seed;
  self->student = g_strdup (student);
  self->sha256 = g_compute_checksum_for_string (G_CHECKSUM_SHA256, copy, -1);
  /* One student's exercise: the "vary:" values drawn and put in place before parsing. */
  if ((self->vary = _sim_lesson_vary_new (copy, self->file, seed, error)) == NULL ||
      (expanded = _sim_lesson_vary_expand (self->vary, copy, self->file, error)) == NULL)
    return NULL;
  if (!parse_text (self, expanded, self->file, base_dir, error))
    return NULL;
  return g_steal_pointer (&self);
}

SimLesson *
sim_lesson_parse_data (const char  *text,
                       gssize       length,
                       const char  *name,
                       const char  *base_dir,
                       GError     **error)
{
  return _sim_lesson_parse_data_full (text, length, name, base_dir, 0, NULL, error);
}

SimLesson *
_sim_lesson_parse_file_full (const char  *path,
                             guint32      seed,
                             const char  *student,
                             GError     **error)
{
  g_autofree char *text = NULL;
  g_autofree char *dir = NULL;
  gsize len;
  GError *local = NULL;

  g_return_val_if_fail (path != NULL, NULL);
  if (!g_file_get_contents (path, &text, &len, &local))
    {
      g_set_error (error, SIM_LESSON_ERROR, SIM_LESSON_ERROR_IO, "%s", local->message);
      g_error_free (local);
      return NULL;
    }
  dir = g_path_get_dirname (path);
  return _sim_lesson_parse_data_full (text, len, path, dir, seed, student, error);
}

SimLesson *
sim_lesson_parse_file (const char  *path,
                       GError     **error)
{
  return _sim_lesson_parse_file_full (path, 0, NULL, error);
}
