/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "siplab-cli-worksheet.h"

#include <stdio.h>
#include <string.h>

#include "sim-command.h"
#include "sim-export.h"
#include "sim-lesson.h"
#include "sim-message.h"
#include "sim-svg-ladder.h"
#include "siplab-cli-common.h"
#include "siplab-cli-markdown.h"
#include "sim-i18n.h"

/*
 * siplab-cli worksheet: a lesson for teachers who hand out paper.  The lesson is played
 * along its answer keys and model solutions (as `siplab-cli check` plays it), and every item
 * is written down as `siplab-cli lesson` shows it: its text, a picture of the ladder the
 * terminal draws at that point, what a highlight points at, and the question with room for
 * the answer.  With --answers the same play gives the answer key instead: each question's
 * key and explanation, each task's model solution, and the ladder of what followed.
 *
 * Markdown output refers to its pictures as SVG files written next to it; HTML output holds
 * them inline, in one file with no script and nothing loaded from elsewhere.
 */

enum {
  EXIT_OK = 0,
  EXIT_FAILED = 1,
  EXIT_USAGE = SIPLAB_CLI_EXIT_USAGE,
};

/* A ladder taller than this (pixels) is drawn in parts, so each fits a printed page. */
#define PICTURE_MAX_HEIGHT 640

/* Ruled lines under a task, for the commands a student writes down. */
#define TASK_WRITING_LINES 5

/* A blank to write on, in Markdown: escaped underscores, which no viewer reads as markup. */
#define MD_BLANK "\\_\\_\\_\\_\\_\\_\\_\\_\\_\\_"

typedef enum {
  FORMAT_MD,
  FORMAT_HTML,
} Format;

typedef struct {
  char *name;              /* the file name, next to the Markdown */
  char *svg;
} Picture;

static void
picture_free (Picture *p)
{
  g_free (p->name);
  g_free (p->svg);
  g_free (p);
}

typedef struct {
  Format format;
  gboolean key;            /* --answers: the answer key, not the handout */
  GString *out;
  SimLesson *lesson;
  const char **nodes;      /* the ladder's columns: the scene's nodes, in its order */
  char *picture_dir;       /* Markdown: where the pictures go */
  char *picture_prefix;    /* Markdown: "handout" for handout.md */
  GPtrArray *pictures;     /* Picture*, written once the document is complete */
  gboolean commands_listed;
  GHashTable *explained;   /* the kinds of event whose reason a picture has shown */
} Sheet;

static void
sheet_clear (Sheet *s)
{
  if (s->out != NULL)
    g_string_free (g_steal_pointer (&s->out), TRUE);
  g_clear_pointer (&s->nodes, g_free);
  g_clear_pointer (&s->picture_dir, g_free);
  g_clear_pointer (&s->picture_prefix, g_free);
  g_clear_pointer (&s->pictures, g_ptr_array_unref);
  g_clear_pointer (&s->explained, g_hash_table_unref);
}

/* ------------------------------------------------------------------------------------------ */
/* Writing, in either format                                                                  */

static void
esc (Sheet      *s,
     const char *text)
{
  if (s->format == FORMAT_HTML)
    sim_svg_append_escaped (s->out, text);
  else
    siplab_cli_markdown_append_text (text, s->out);
}

static void
sheet_heading (Sheet      *s,
               const char *kind,
               guint       number,
               const char *title)
{
  if (s->format == FORMAT_HTML)
    {
      g_string_append_printf (s->out, "<h2><span class=\"kind\">%u. %s:</span> ", number, kind);
      esc (s, title);
      g_string_append (s->out, "</h2>\n");
    }
  else
    {
      g_string_append_printf (s->out, "## %u. %s: ", number, kind);
      esc (s, title);
      g_string_append (s->out, "\n\n");
    }
}

/* A lesson's own Markdown. */
static void
sheet_markdown (Sheet      *s,
                const char *markdown)
{
  if (markdown == NULL || *markdown == '\0')
    return;
  if (s->format == FORMAT_HTML)
    siplab_cli_markdown_to_html (markdown, s->out);
  else
    {
      siplab_cli_markdown_to_markdown (markdown, s->out);
      g_string_append_c (s->out, '\n');
    }
}

/* A paragraph: @label in bold (our words), then @text (the lesson's, escaped). */
static void
sheet_para (Sheet      *s,
            const char *klass,
            const char *label,
            const char *text)
{
  if (s->format == FORMAT_HTML)
    {
      g_string_append_printf (s->out, "<p class=\"%s\">", klass);
      if (label != NULL)
        g_string_append_printf (s->out, "<strong>%s</strong> ", label);
      esc (s, text);
      g_string_append (s->out, "</p>\n");
    }
  else
    {
      if (label != NULL)
        g_string_append_printf (s->out, "**%s** ", label);
      esc (s, text);
      g_string_append (s->out, "\n\n");
    }
}

/* Lines shown exactly as they are (header lines, commands). */
static void
sheet_code (Sheet     *s,
            GPtrArray *lines)
{
  if (s->format == FORMAT_HTML)
    {
      g_string_append (s->out, "<pre>");
      for (guint i = 0; i < lines->len; i++)
        {
          sim_svg_append_escaped (s->out, lines->pdata[i]);
          g_string_append_c (s->out, '\n');
        }
      g_string_append (s->out, "</pre>\n");
    }
  else
    {
      /* A fence longer than any run of backticks inside, so nothing can close it early. */
      gsize fence = 3;

      for (guint i = 0; i < lines->len; i++)
        for (const char *p = lines->pdata[i]; (p = strchr (p, '`')) != NULL; )
          {
            gsize run = strspn (p, "`");
            fence = MAX (fence, run + 1);
            p += run;
          }
      for (gsize k = 0; k < fence; k++)
        g_string_append_c (s->out, '`');
      g_string_append_c (s->out, '\n');
      for (guint i = 0; i < lines->len; i++)
        {
          g_autofree char *one = g_strdelimit (g_strdup (lines->pdata[i]), "\r\n", ' ');
          g_string_append_printf (s->out, "%s\n", one);
        }
      for (gsize k = 0; k < fence; k++)
        g_string_append_c (s->out, '`');
      g_string_append (s->out, "\n\n");
    }
}

static void
sheet_picture (Sheet      *s,
               GPtrArray  *events,
               gboolean    timers,
               guint       number,
               const char *caption)
{
  SimSvgLadderOptions opts = { .nodes = s->nodes, .show_timers = timers, .title = caption,
                               .explained = s->explained, .max_height = PICTURE_MAX_HEIGHT };
  g_autoptr(GPtrArray) parts = NULL;

  if (events->len == 0)
    return;
  parts = sim_svg_ladder_parts (events, &opts);
  if (s->format == FORMAT_HTML)
    {
      g_string_append (s->out, "<figure class=\"ladder\">\n");
      for (guint i = 0; i < parts->len; i++)
        g_string_append (s->out, parts->pdata[i]);
      g_string_append (s->out, "<figcaption>");
      esc (s, caption);
      g_string_append (s->out, "</figcaption>\n</figure>\n");
      return;
    }
  for (guint i = 0; i < parts->len; i++)
    {
      Picture *p = g_new0 (Picture, 1);
      g_autofree char *link = NULL;

      p->name = parts->len == 1
        ? g_strdup_printf ("%s-%02u.svg", s->picture_prefix, number)
        : g_strdup_printf ("%s-%02u-%u.svg", s->picture_prefix, number, i + 1);
      link = g_uri_escape_string (p->name, NULL, FALSE);
      p->svg = g_strconcat ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n",
                            (char *) parts->pdata[i], NULL);
      g_ptr_array_add (s->pictures, p);
      g_string_append_printf (s->out, "![%s](%s)\n\n", caption, link);
    }
  g_string_append_printf (s->out, "*%s*\n\n", caption);
}

/* ------------------------------------------------------------------------------------------ */
/* What the terminal shows                                                                    */

/* The events `siplab-cli lesson` draws after the runner's last step (its print_events()). */
static GPtrArray *
take_shown_events (SimLessonRunner     *runner,
                   const SimLessonItem *item)
{
  gboolean timers = sim_lesson_item_has_highlight (item, SIM_LESSON_HIGHLIGHT_TIMER);
  g_autoptr(GPtrArray) events = sim_lesson_runner_take_new_events (runner);
  GPtrArray *shown = g_ptr_array_new ();

  for (guint i = 0; i < events->len; i++)
    {
      SimEvent *e = events->pdata[i];

      /* A student reasons about packets, bindings, nonces and calls, not the machinery. */
      if ((e->type == SIM_EVENT_TIMER && !timers) || e->type == SIM_EVENT_TRANSACTION ||
          e->type == SIM_EVENT_NODE)
        continue;
      g_ptr_array_add (shown, e);
    }
  return shown;
}

/* A highlighted header: its line in the last (up to three) messages shown that carry it. */
static void
write_header_lines (Sheet           *s,
                    SimLessonRunner *runner,
                    const char      *name)
{
  SimTrace *trace = sim_world_get_trace (sim_lesson_runner_get_world (runner));
  g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func (g_free);

  for (guint i = sim_lesson_runner_get_n_shown (runner); i > 0 && lines->len < 6; i--)
    {
      SimEvent *e = sim_trace_get_event (trace, i - 1);
      g_autofree char *line = NULL;
      g_autofree char *label = NULL;
      g_autoptr(GString) where = g_string_new (NULL);

      if (e->type != SIM_EVENT_PACKET || g_strcmp0 (e->action, "sent") != 0 ||
          (line = sim_raw_header_line (e->raw, name)) == NULL)
        continue;
      label = sim_export_packet_label (e);
      g_string_append_printf (where, _("%s -> %s, %s at "), e->from, e->to, label);
      sim_export_format_time (e->t, where);
      g_string_append_c (where, ':');
      g_ptr_array_insert (lines, 0, g_strconcat ("  ", line, NULL));
      g_ptr_array_insert (lines, 0, g_string_free (g_steal_pointer (&where), FALSE));
    }
  if (lines->len > 0)
    sheet_code (s, lines);
}

/* A highlighted binding: the registrar's bindings of that AOR now (paper has no 'state'). */
static void
write_bindings (Sheet           *s,
                SimLessonRunner *runner,
                const char      *aor)
{
  SimWorld *world = sim_lesson_runner_get_world (runner);
  SimLocation *location = sim_world_get_location (world);
  GPtrArray *bindings = location != NULL ? sim_location_peek (location, aor) : NULL;
  g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; bindings != NULL && i < bindings->len; i++)
    {
      SimBinding *b = bindings->pdata[i];
      gint64 left = (b->expires_at - sim_world_now (world)) / G_USEC_PER_SEC;

      g_ptr_array_add (lines, g_strdup_printf (_("%s -> %s  %lld s left, CSeq %u"),
                                               b->aor, b->contact, (long long) left, b->cseq));
    }
  if (lines->len == 0)
    g_ptr_array_add (lines, g_strdup_printf (_("%s: no bindings"), aor));
  sheet_code (s, lines);
}

static void
write_highlights (Sheet               *s,
                  SimLessonRunner     *runner,
                  const SimLessonItem *item)
{
  for (guint i = 0; i < item->highlights->len; i++)
    {
      const SimLessonHighlight *h = item->highlights->pdata[i];
      g_autofree char *what = NULL;

      switch (h->kind)
        {
        case SIM_LESSON_HIGHLIGHT_HEADER:
          what = g_strdup_printf (_("the %s header:"), h->name);
          sheet_para (s, "look", _("Look at"), what);
          write_header_lines (s, runner, h->name);
          break;
        case SIM_LESSON_HIGHLIGHT_BINDING:
          what = g_strdup_printf (_("the binding %s%s%s; the registrar has now:"), h->name,
                                  h->contact ? " -> " : "", h->contact ? h->contact : "");
          sheet_para (s, "look", _("Look at"), what);
          write_bindings (s, runner, h->name);
          break;
        case SIM_LESSON_HIGHLIGHT_TIMER:
          what = g_strdup_printf (_("timer %s in the ladder."), h->name);
          sheet_para (s, "look", _("Look at"), what);
          break;
        case SIM_LESSON_HIGHLIGHT_NODE:
        default:
          sheet_para (s, "look", _("Look at"), h->text);
          break;
        }
    }
}

/* ------------------------------------------------------------------------------------------ */
/* The handout                                                                                */

static const char *
item_label (const SimLessonItem *item)
{
  switch (item->kind)
    {
    case SIM_LESSON_PREDICT: return _("Predict");
    case SIM_LESSON_CHOICE: return _("Question");
    case SIM_LESSON_TASK: return _("Task");
    case SIM_LESSON_STEP:
    default: return _("Step");
    }
}

static void
write_blank (Sheet      *s,
             const char *what)
{
  if (s->format == FORMAT_HTML)
    {
      g_string_append_printf (s->out, "<p class=\"answer-line\"><strong>%s</strong> (", _("Your answer"));
      esc (s, what);
      g_string_append (s->out, "): <span class=\"blank\"></span></p>\n");
    }
  else
    {
      g_string_append_printf (s->out, "**%s** (", _("Your answer"));
      esc (s, what);
      g_string_append (s->out, "): " MD_BLANK MD_BLANK "\n\n");
    }
}

static void
write_options (Sheet               *s,
               const SimLessonItem *item)
{
  if (s->format == FORMAT_HTML)
    g_string_append (s->out, "<ol class=\"options\">\n");
  for (guint i = 0; i < item->options->len; i++)
    {
      const SimLessonOption *o = item->options->pdata[i];

      if (s->format == FORMAT_HTML)
        {
          g_string_append (s->out, "<li><span class=\"box\"></span><strong>");
          esc (s, o->key);
          g_string_append (s->out, ")</strong> ");
          esc (s, o->text);
          g_string_append (s->out, "</li>\n");
        }
      else
        {
          g_string_append (s->out, "- [ ] **");
          esc (s, o->key);
          g_string_append (s->out, ")** ");
          esc (s, o->text);
          g_string_append_c (s->out, '\n');
        }
    }
  g_string_append (s->out, s->format == FORMAT_HTML ? "</ol>\n" : "\n");
}

/* The commands a task accepts, from the command table, as `siplab-cli lesson` lists them. */
static void
write_command_list (Sheet *s)
{
  g_autoptr(GPtrArray) usages = g_ptr_array_new ();

  for (guint v = 0; v < SIM_N_VERBS; v++)
    {
      const SimVerbInfo *info = sim_verb_get_info (v);
      if (info->places & SIM_COMMAND_IN_LESSON)
        g_ptr_array_add (usages, (gpointer) info->usage);
    }
  sheet_para (s, "commands", _("Commands a task accepts"), _("(one per line):"));
  sheet_code (s, usages);
}

static void
write_task_space (Sheet *s)
{
  if (!s->commands_listed)
    {
      write_command_list (s);
      s->commands_listed = TRUE;
    }
  if (s->format == FORMAT_HTML)
    {
      g_string_append_printf (s->out, "<p><strong>%s</strong> %s</p>\n<div class=\"lines\">",
                              _("Your commands"), _("(one per line):"));
      for (guint i = 0; i < TASK_WRITING_LINES; i++)
        g_string_append (s->out, "<div></div>");
      g_string_append (s->out, "</div>\n");
    }
  else
    {
      g_string_append_printf (s->out, "**%s** %s\n\n", _("Your commands"), _("(one per line):"));
      for (guint i = 0; i < TASK_WRITING_LINES; i++)
        g_string_append (s->out, "`task>` " MD_BLANK MD_BLANK MD_BLANK "\n\n");
    }
}

/* One item as the terminal shows it before the student answers. */
static void
write_handout_item (Sheet               *s,
                    SimLessonRunner     *runner,
                    const SimLessonItem *item,
                    guint                number,
                    GPtrArray           *events)
{
  gboolean timers = sim_lesson_item_has_highlight (item, SIM_LESSON_HIGHLIGHT_TIMER);

  if (s->format == FORMAT_HTML)
    g_string_append (s->out, "<section class=\"item\">\n");
  sheet_heading (s, item_label (item), number, item->title);
  sheet_markdown (s, item->text);
  sheet_picture (s, events, timers, number, _("The ladder at this point (simulated time)."));
  /* A prediction's highlights could give its answer away: they are in the key. */
  if (item->kind != SIM_LESSON_PREDICT)
    write_highlights (s, runner, item);
  switch (item->kind)
    {
    case SIM_LESSON_PREDICT:
      sheet_para (s, "asked", _("Predict:"), item->predict->text);
      write_blank (s, sim_lesson_prediction_get_answer_hint (item->predict));
      break;
    case SIM_LESSON_CHOICE:
      write_options (s, item);
      break;
    case SIM_LESSON_TASK:
      write_task_space (s);
      break;
    case SIM_LESSON_STEP:
    default:
      break;
    }
  if (s->format == FORMAT_HTML)
    g_string_append (s->out, "</section>\n");
}

/* ------------------------------------------------------------------------------------------ */
/* The answer key                                                                             */

static const SimLessonOption *
find_option (const SimLessonItem *item,
             const char          *key)
{
  for (guint i = 0; i < item->options->len; i++)
    {
      const SimLessonOption *o = item->options->pdata[i];
      if (g_ascii_strcasecmp (o->key, key) == 0)
        return o;
    }
  return NULL;
}

static void
write_key_question (Sheet               *s,
                    SimLessonRunner     *runner,
                    const SimLessonItem *item,
                    guint                number,
                    const char          *explanation,
                    GPtrArray           *events)
{
  gboolean timers = sim_lesson_item_has_highlight (item, SIM_LESSON_HIGHLIGHT_TIMER);

  if (s->format == FORMAT_HTML)
    g_string_append (s->out, "<section class=\"item\">\n");
  sheet_heading (s, item_label (item), number, item->title);
  if (item->kind == SIM_LESSON_PREDICT)
    sheet_para (s, "asked", _("Predict:"), item->predict->text);
  if (item->kind == SIM_LESSON_CHOICE)
    {
      const SimLessonOption *o = find_option (item, item->answer->text);
      g_autofree char *answer = o != NULL ? g_strdup_printf ("%s) %s", o->key, o->text)
                                          : g_strdup (item->answer->text);
      sheet_para (s, "answer", _("Answer:"), answer);
    }
  else
    sheet_para (s, "answer", _("Answer:"), item->answer->text);
  if (explanation != NULL)
    sheet_markdown (s, explanation);
  sheet_picture (s, events, timers, number, _("What happened next (simulated time)."));
  if (item->kind == SIM_LESSON_PREDICT)
    write_highlights (s, runner, item);
  if (s->format == FORMAT_HTML)
    g_string_append (s->out, "</section>\n");
}

static GPtrArray *
line_texts (GPtrArray *lines)
{
  GPtrArray *texts = g_ptr_array_new ();

  for (guint i = 0; i < lines->len; i++)
    g_ptr_array_add (texts, ((SimLessonLine *) lines->pdata[i])->text);
  return texts;
}

static void
write_key_task (Sheet               *s,
                const SimLessonItem *item,
                guint                number,
                GPtrArray           *events)
{
  g_autoptr(GPtrArray) solution = line_texts (item->solution);
  g_autoptr(GPtrArray) goals = line_texts (item->goals);

  if (s->format == FORMAT_HTML)
    g_string_append (s->out, "<section class=\"item\">\n");
  sheet_heading (s, item_label (item), number, item->title);
  sheet_para (s, "answer", _("Model solution"), _("(one command per line):"));
  sheet_code (s, solution);
  sheet_para (s, "goals", _("The task is done when all of these hold"), _("(goal: claims):"));
  sheet_code (s, goals);
  if (item->hint != NULL)
    sheet_para (s, "hint", _("Hint given to students:"), item->hint);
  sheet_picture (s, events, sim_lesson_item_has_highlight (item, SIM_LESSON_HIGHLIGHT_TIMER),
                 number, _("What the model solution does (simulated time)."));
  if (s->format == FORMAT_HTML)
    g_string_append (s->out, "</section>\n");
}

/* ------------------------------------------------------------------------------------------ */
/* Playing the lesson                                                                         */

/* Answers the current question with its key; the explanation the student would read. */
static char *
answer_with_key (SimLessonRunner      *runner,
                 const SimLessonItem  *item,
                 GError              **error)
{
  g_autofree char *explanation = NULL;
  g_autofree char *letter = NULL;
  SimLessonAnswer result;

  /* A choice's options are shuffled per seed: the key is answered under the letter the
   * runner shows it as, not the letter it has in the file. */
  if (item->kind == SIM_LESSON_CHOICE)
    letter = sim_lesson_runner_get_option_letter (runner, item->answer->text);
  result = sim_lesson_runner_answer (runner, letter != NULL ? letter : item->answer->text,
                                     &explanation, error);
  if (result == SIM_LESSON_ANSWER_CORRECT)
    return g_steal_pointer (&explanation);
  if (error == NULL || *error == NULL)
    g_set_error (error, SIM_LESSON_ERROR, SIM_LESSON_ERROR_STATE,
                 _("%s:%u: the simulator does not accept the answer key '%s' "
                   "(siplab-cli check says more)"),
                 sim_lesson_get_file (sim_lesson_runner_get_lesson (runner)), item->answer->line,
                 item->answer->text);
  return NULL;
}

/* Plays the current item along the keys and writes it down.  FALSE: the lesson broke. */
static gboolean
play_item (Sheet            *s,
           SimLessonRunner  *runner,
           GError          **error)
{
  const SimLessonItem *item = sim_lesson_runner_get_item (runner);
  guint number = sim_lesson_runner_get_position (runner) + 1;
  g_autoptr(GPtrArray) before = NULL;
  g_autoptr(GPtrArray) after = NULL;
  g_autofree char *explanation = NULL;

  if (!sim_lesson_runner_enter (runner, error))
    return FALSE;
  before = take_shown_events (runner, item);
  if (!s->key)
    write_handout_item (s, runner, item, number, before);

  switch (item->kind)
    {
    case SIM_LESSON_PREDICT:
    case SIM_LESSON_CHOICE:
      if ((explanation = answer_with_key (runner, item, error)) == NULL)
        return FALSE;
      after = take_shown_events (runner, item);
      if (s->key)
        write_key_question (s, runner, item, number, explanation, after);
      break;
    case SIM_LESSON_TASK:
      if (!sim_lesson_runner_give_up (runner, error))
        return FALSE;
      after = take_shown_events (runner, item);
      if (s->key)
        write_key_task (s, item, number, after);
      break;
    case SIM_LESSON_STEP:
    default:
      break;
    }
  sim_lesson_runner_next (runner);
  return TRUE;
}

static const char html_style[] =
  "body{font:11pt/1.45 \"DejaVu Serif\",Georgia,\"Times New Roman\",serif;color:#000;"
  "background:#fff;max-width:50em;margin:1.5em auto;padding:0 1em}\n"
  "h1{font-size:17pt;margin:0 0 .2em}\n"
  ".subtitle{font-size:12pt;margin:0 0 1em}\n"
  ".student span{display:inline-block;min-width:15em;border-bottom:1px solid #000;"
  "margin-right:2em}\n"
  "h2{font-size:13pt;border-bottom:1.5px solid #000;padding-bottom:.1em;margin:1.6em 0 .5em;"
  "break-after:avoid;page-break-after:avoid}\n"
  "h2 .kind{font-variant:small-caps}\n"
  "h3,h4,h5,h6{font-size:11pt}\n"
  "code,pre{font-family:\"DejaVu Sans Mono\",Consolas,monospace;font-size:9pt}\n"
  "pre{white-space:pre-wrap;overflow-wrap:anywhere;border-left:3px solid #000;"
  "padding:.2em 0 .2em .7em;margin:.5em 0}\n"
  "figure{margin:.8em 0}\n"
  "figure svg{display:block;max-width:100%;height:auto;margin-bottom:.3em;"
  "break-inside:avoid;page-break-inside:avoid}\n"
  "figcaption{font-size:9pt;font-style:italic;margin-top:.2em}\n"
  ".blank{display:inline-block;min-width:14em;border-bottom:1px solid #000}\n"
  "ol.options{list-style:none;padding-left:.3em}\n"
  "ol.options li{margin:.35em 0}\n"
  ".box{display:inline-block;width:.8em;height:.8em;border:1.5px solid #000;"
  "margin-right:.6em;vertical-align:-.05em}\n"
  ".lines div{border-bottom:1px solid #000;height:2.1em}\n"
  "p.answer{border:1.5px solid #000;padding:.3em .6em}\n"
  "@page{size:A4;margin:15mm}\n"
  "@media print{body{margin:0;max-width:none;padding:0}}\n";

static void
write_document_start (Sheet *s)
{
  const char *title = sim_lesson_get_title (s->lesson);
  const char *what = s->key ? _("Answer key") : _("Worksheet");
  const char *lang = sim_i18n_language ();

  if (s->format == FORMAT_HTML)
    {
      /* The policy forbids scripts and loads even if something slipped through escaping.
       * Void elements are closed ("/>"), so the page is well-formed XML too and a test
       * can parse it. */
      g_string_append_printf (s->out, "<!DOCTYPE html>\n<html lang=\"%s\">\n<head>\n"
                              "<meta charset=\"utf-8\"/>\n"
                               "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src "
                              "'none'; style-src 'unsafe-inline'\"/>\n<title>",
                              strcmp (lang, "C") == 0 ? "en" : lang);
      esc (s, title);
      g_string_append_printf (s->out, " (%s)</title>\n<style>\n%s</style>\n</head>\n<body>\n"
                              "<h1>", what, html_style);
      esc (s, title);
      g_string_append_printf (s->out, "</h1>\n<p class=\"subtitle\">SIP Lab: %s</p>\n", what);
      if (!s->key)
        g_string_append_printf (s->out, "<p class=\"student\">%s <span></span> %s <span></span>"
                                "</p>\n", _("Name:"), _("Date:"));
    }
  else
    {
      g_string_append (s->out, "# ");
      esc (s, title);
      g_string_append_printf (s->out, "\n\n*SIP Lab: %s*\n\n", what);
      if (!s->key)
        g_string_append_printf (s->out, "%s " MD_BLANK MD_BLANK " %s " MD_BLANK "\n\n", _("Name:"),
                                _("Date:"));
    }
  if (!s->key)
    sheet_markdown (s, sim_lesson_get_intro (s->lesson));
  else
    sheet_para (s, "note", _("For the teacher."),
                _("Item numbers are those of the worksheet. Each answer was played in the "
                  "simulator, so the ladders show what the students' program shows after they "
                  "answer."));
}

static gboolean
play_lesson (Sheet            *s,
             SimLessonRunner  *runner,
             GError          **error)
{
  write_document_start (s);
  while (!sim_lesson_runner_is_done (runner))
    if (!play_item (s, runner, error))
      return FALSE;
  if (s->format == FORMAT_HTML)
    g_string_append (s->out, "</body>\n</html>\n");
  return TRUE;
}

/* ------------------------------------------------------------------------------------------ */
/* The command                                                                                */

typedef struct {
  gboolean answers;
  char *format;
  char *out;
} Options;

static void
options_clear (Options *o)
{
  g_clear_pointer (&o->format, g_free);
  g_clear_pointer (&o->out, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Options, options_clear)

static int
parse_options (Options   *o,
               int       *argc,
               char    ***argv,
               Format    *format_out)
{
  const GOptionEntry entries[] = {
    { "answers", 'a', 0, G_OPTION_ARG_NONE, &o->answers,
      N_("Write the answer key (keys, explanations, model solutions) instead of the handout"), NULL },
    { "format", 'f', 0, G_OPTION_ARG_STRING, &o->format,
      N_("md (Markdown, pictures as SVG files beside it) or html (one self-contained file)"),
      "md|html" },
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &o->out,
      N_("Write to this file (default: standard output)"), N_("FILE") },
    { NULL }
  };
  g_autoptr(GOptionContext) context =
    g_option_context_new (_("FILE - a lesson on paper: a handout, or its answer key"));
  g_autoptr(GError) error = NULL;

  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_set_description (context,
    _("The handout has the lesson's text, every question with room for the answer, and the\n"
      "ladder of each step as `siplab-cli lesson` draws it, as an SVG picture.  --answers\n"
      "writes the answer key instead.  Markdown pictures are written next to --out (named\n"
      "after it: OUT-01.svg...), or into the current directory as LESSON-worksheet-01.svg\n"
      "(LESSON-key-01.svg) when the Markdown goes to standard output."));
  if (!g_option_context_parse (context, argc, argv, &error))
    return siplab_cli_usage_error ("worksheet", "%s", error->message);
  if (*argc != 2)
    return siplab_cli_usage_error ("worksheet",
                                   *argc < 2 ? _("missing FILE") : _("only one FILE, please"));
  if (o->format == NULL)
    return siplab_cli_usage_error ("worksheet", _("missing --format md|html"));
  if (strcmp (o->format, "md") == 0)
    *format_out = FORMAT_MD;
  else if (strcmp (o->format, "html") == 0)
    *format_out = FORMAT_HTML;
  else
    return siplab_cli_usage_error ("worksheet", _("unknown format '%s' (md or html)"), o->format);
  return EXIT_OK;
}

/* Markdown: where its pictures go and what they are called. */
static void
place_pictures (Sheet      *s,
                const char *out_path)
{
  if (out_path != NULL)
    {
      g_autofree char *base = g_path_get_basename (out_path);
      char *dot = strrchr (base, '.');

      if (dot != NULL && dot != base)
        *dot = '\0';
      s->picture_dir = g_path_get_dirname (out_path);
      s->picture_prefix = g_steal_pointer (&base);
    }
  else
    {
      s->picture_dir = g_strdup (".");
      s->picture_prefix = g_strdup_printf ("%s-%s", sim_lesson_get_id (s->lesson),
                                           s->key ? "key" : "worksheet");
    }
}

static gboolean
write_output (Sheet       *s,
              const char  *out_path,
              GError     **error)
{
  for (guint i = 0; i < s->pictures->len; i++)
    {
      Picture *p = s->pictures->pdata[i];
      g_autofree char *path = g_build_filename (s->picture_dir, p->name, NULL);

      if (!g_file_set_contents (path, p->svg, -1, error))
        return FALSE;
    }
  if (out_path != NULL)
    return g_file_set_contents (out_path, s->out->str, s->out->len, error);
  if (fwrite (s->out->str, 1, s->out->len, stdout) != s->out->len || fflush (stdout) != 0)
    {
      g_set_error_literal (error, G_FILE_ERROR, G_FILE_ERROR_IO, _("cannot write to standard output"));
      return FALSE;
    }
  return TRUE;
}

static void
sheet_init (Sheet     *s,
            SimLesson *lesson)
{
  SimScenario *scene = sim_lesson_get_scene (lesson);

  s->lesson = lesson;
  s->out = g_string_new (NULL);
  s->pictures = g_ptr_array_new_with_free_func ((GDestroyNotify) picture_free);
  /* Each kind of event is explained once, as the terminal's brief mode does. */
  s->explained = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  /* Columns in the scene's order, as the terminal draws them, so every picture lines up. */
  s->nodes = g_new0 (const char *, scene->nodes->len + 1);
  for (guint i = 0; i < scene->nodes->len; i++)
    s->nodes[i] = ((SimScenarioNode *) scene->nodes->pdata[i])->name;
}

int
siplab_cli_worksheet (int    argc,
                      char **argv)
{
  g_auto(Options) options = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(SimLesson) lesson = NULL;
  g_autoptr(SimLessonRunner) runner = NULL;
  g_autofree char *path = NULL;
  Sheet s = { 0 };
  Format format = FORMAT_HTML;
  int status;

  if ((status = parse_options (&options, &argc, &argv, &format)) != EXIT_OK)
    return status;
  /* A lesson's translation in the user's language, when it has one (docs/translating.md). */
  path = sim_i18n_localized_path (argv[1]);
  lesson = sim_lesson_parse_file (path, &error);
  if (lesson != NULL)
    runner = sim_lesson_runner_new (lesson, &error);
  if (runner == NULL)
    {
      fprintf (stderr, "%s\n", error->message);
      return EXIT_USAGE;
    }

  sheet_init (&s, lesson);
  s.format = format;
  s.key = options.answers;
  if (format == FORMAT_MD)
    place_pictures (&s, options.out);
  status = EXIT_OK;
  if (!play_lesson (&s, runner, &error))
    {
      /* The lesson breaks where `siplab-cli check` would fail it. */
      fprintf (stderr, "%s\n", error->message);
      status = EXIT_FAILED;
    }
  else if (!write_output (&s, options.out, &error))
    {
      fprintf (stderr, "siplab-cli worksheet: %s\n", error->message);
      status = EXIT_FAILED;
    }
  sheet_clear (&s);
  return status;
}
