/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "app-lesson-pane.h"
#include "sim-i18n.h"

#include "sim-command.h"

#include "sim-lesson-progress.h"
#include "sim-lesson-student.h"
#include "sim-message.h"

#include <stdlib.h>
#include <string.h>

/*
 * The lesson pane plays a lesson the way `siplab-cli lesson` does (app/siplab-cli-lesson.c):
 * enter an item, show what it produced, take an answer or commands, next.  The difference is
 * where things are shown: the runner's world is the document's world, so the network, ladder,
 * inspector and location table draw the lesson as it runs, and each item's "highlight:" lines
 * pick the packet, header, binding or pane the text talks about.
 *
 * Back replays: the session is deterministic, so the lesson is played again from the start
 * with the answers and commands the student gave, up to the item before.
 */

/* What the student gave on an item, kept so that Back can replay the session. */
typedef enum {
  INPUT_ANSWER,               /* an answer to a question */
  INPUT_COMMAND,              /* a task's command */
  INPUT_SHOW_ME,              /* the task was given up and played with its solution */
} InputKind;

typedef struct {
  InputKind kind;
  char *text;                 /* the answer or the command; NULL for INPUT_SHOW_ME */
} Input;

struct _AppLessonPane {
  GtkWidget parent_instance;

  GtkLabel *lesson_title;
  GtkEntry *name_entry;
  GtkLabel *progress_label;
  GtkProgressBar *progress_bar;
  GtkScrolledWindow *scroller;
  GtkLabel *item_title;
  GtkLabel *text;
  GtkLabel *look_label;
  GtkBox *question_box;
  GtkLabel *question_prompt;
  GtkBox *options_box;
  GtkEntry *answer_entry;
  GtkBox *task_box;
  GtkLabel *task_help;
  GtkEntry *command_entry;
  GtkLabel *task_log;
  GtkLabel *feedback;
  GtkButton *next_button;
  GtkButton *resume_button;

  SimDocument *document;      /* the lesson is the document's; its runner is too */
  AppLadderView *ladder;      /* the views the pane points at what an item talks about */
  AppInspector *inspector;
  AppLocationView *location;
  SimLesson *lesson;
  SimLessonRunner *runner;
  int position;               /* -1: the introduction */
  gboolean answered;          /* the question is answered, the task done or shown */
  gboolean record_progress;
  char *progress_text;
  char *feedback_text;
  GPtrArray *inputs;          /* per item: GPtrArray of the Input* given, or NULL */
  GPtrArray *option_buttons;  /* GtkCheckButton*, with the option keys as "siplab-key" */
  SimWorld *watched;          /* the world whose trace trace_event_cb follows */
  gboolean busy;              /* the runner is moving the world: its events are not shown yet */
  int first_new_row;          /* after an answer: the first ladder row it revealed, or -1 */
  gboolean scroll_to_feedback;  /* once laid out, scroll the new verdict into view */
  GString *log;               /* the task's commands and what came of them (markup) */
  char *givens;               /* what the open question gives to compute from, or NULL */
  guint resume_position;      /* at the introduction: where Continue goes, or 0 */
  guint resumed_at;           /* the item a resume began at: no inputs before it, or 0 */
};

enum {
  PROP_0,
  PROP_DOCUMENT,
  PROP_LADDER,
  PROP_INSPECTOR,
  PROP_LOCATION,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (AppLessonPane, app_lesson_pane, GTK_TYPE_WIDGET)

static Input *
input_new (InputKind   kind,
           const char *text)
{
  Input *input = g_new0 (Input, 1);

  input->kind = kind;
  input->text = g_strdup (text);
  return input;
}

static void
input_free (Input *input)
{
  g_free (input->text);
  g_free (input);
}

/* An item's record; items the student has not reached have none. */
static void
inputs_free (gpointer data)
{
  if (data != NULL)
    g_ptr_array_unref (data);
}

/* ------------------------------------------------------------------------------------------ */
/* Markdown                                                                                   */

/* **bold**, *italics*, `code`, \-escapes and [links](url) of one paragraph, escaped. */
static void
append_inline (GString    *out,
               const char *text)
{
  gboolean bold = FALSE, italic = FALSE;

  for (const char *p = text; *p != '\0'; p++)
    {
      if (*p == '\\' && p[1] != '\0' && strchr ("\\*_`[]#", p[1]) != NULL)
        {
          p++;
          g_string_append_c (out, *p);
        }
      else if (*p == '`')
        {
          const char *end = strchr (p + 1, '`');
          g_autofree char *code = NULL;
          g_autofree char *escaped = NULL;

          if (end == NULL)
            {
              g_string_append_c (out, '`');
              continue;
            }
          code = g_strndup (p + 1, end - p - 1);
          escaped = g_markup_escape_text (code, -1);
          g_string_append_printf (out, "<tt>%s</tt>", escaped);
          p = end;
        }
      else if (p[0] == '*' && p[1] == '*')
        {
          g_string_append (out, bold ? "</b>" : "<b>");
          bold = !bold;
          p++;
        }
      else if (*p == '*' && ((italic && p > text && p[-1] != ' ') ||
                             (!italic && p[1] != ' ' && p[1] != '\0')))
        {
          g_string_append (out, italic ? "</i>" : "<i>");
          italic = !italic;
        }
      else if (*p == '[' && strstr (p, "](") != NULL && strchr (strstr (p, "]("), ')') != NULL)
        {
          const char *close = strstr (p, "](");
          g_autofree char *label = g_strndup (p + 1, close - p - 1);

          append_inline (out, label);
          p = strchr (close, ')');
        }
      else if (*p == '&')
        g_string_append (out, "&amp;");
      else if (*p == '<')
        g_string_append (out, "&lt;");
      else if (*p == '>')
        g_string_append (out, "&gt;");
      else
        g_string_append_c (out, *p);
    }
  /* Pango refuses unbalanced markup: a stray marker closes at the end of the paragraph. */
  if (italic)
    g_string_append (out, "</i>");
  if (bold)
    g_string_append (out, "</b>");
}

/* "* ", "- ", "+ " or "12. ": a list item; returns where its text starts. */
static const char *
list_item_start (const char *line)
{
  const char *p = line;

  while (*p == ' ')
    p++;
  if ((*p == '*' || *p == '-' || *p == '+') && p[1] == ' ')
    return p + 2;
  if (g_ascii_isdigit (*p))
    {
      while (g_ascii_isdigit (*p))
        p++;
      if (*p == '.' && p[1] == ' ')
        return p + 2;
    }
  return NULL;
}

typedef enum {
  BLOCK_PARAGRAPH,
  BLOCK_LIST_ITEM,
  BLOCK_HEADING,
  BLOCK_CODE,
  BLOCK_GAP,
} BlockKind;

/* @last: the kind of the block before, BLOCK_GAP after a blank line. */
static void
flush_block (GString   *out,
             BlockKind *last,
             BlockKind  kind,
             GString   *block)
{
  if (block->len == 0)
    return;
  /* The items of one list are lines; anything else is a paragraph of its own. */
  if (out->len > 0)
    g_string_append (out, kind == BLOCK_LIST_ITEM && *last == BLOCK_LIST_ITEM ? "\n" : "\n\n");
  switch (kind)
    {
    case BLOCK_CODE:
      {
        g_autofree char *escaped = g_markup_escape_text (block->str, -1);

        g_string_append_printf (out, "<tt>%s</tt>", escaped);
      }
      break;
    case BLOCK_HEADING:
      g_string_append (out, "<b>");
      append_inline (out, block->str);
      g_string_append (out, "</b>");
      break;
    case BLOCK_LIST_ITEM:
    case BLOCK_PARAGRAPH:
    default:
      append_inline (out, block->str);
      break;
    }
  *last = kind;
  g_string_truncate (block, 0);
}

char *
app_lesson_markdown_to_markup (const char *markdown)
{
  g_auto(GStrv) lines = g_strsplit (markdown ? markdown : "", "\n", -1);
  g_autoptr(GString) out = g_string_new (NULL);
  g_autoptr(GString) block = g_string_new (NULL);
  BlockKind kind = BLOCK_PARAGRAPH, last = BLOCK_PARAGRAPH;

  for (guint i = 0; lines[i] != NULL; i++)
    {
      char *line = g_strchomp (lines[i]);
      const char *stripped = line + strspn (line, " ");
      const char *item;

      if (kind == BLOCK_CODE)
        {
          if (g_str_has_prefix (stripped, "```") || g_str_has_prefix (stripped, "~~~"))
            {
              flush_block (out, &last, kind, block);
              kind = BLOCK_PARAGRAPH;
            }
          else
            g_string_append_printf (block, "%s%s", block->len ? "\n" : "", line);
          continue;
        }
      if (g_str_has_prefix (stripped, "```") || g_str_has_prefix (stripped, "~~~"))
        {
          flush_block (out, &last, kind, block);
          kind = BLOCK_CODE;
          continue;
        }
      if (*stripped == '\0')
        {
          flush_block (out, &last, kind, block);
          kind = BLOCK_PARAGRAPH;
          last = BLOCK_GAP;
          continue;
        }
      if (*stripped == '#')
        {
          flush_block (out, &last, kind, block);
          g_string_append (block, stripped + strspn (stripped, "# "));
          flush_block (out, &last, BLOCK_HEADING, block);
          kind = BLOCK_PARAGRAPH;
          continue;
        }
      if ((item = list_item_start (line)) != NULL)
        {
          const char *p = line + strspn (line, " ");

          flush_block (out, &last, kind, block);
          kind = BLOCK_LIST_ITEM;
          if (g_ascii_isdigit (*p))
            g_string_append_len (block, p, item - p);
          else
            g_string_append (block, "•  ");
          g_string_append (block, item);
          continue;
        }
      /* Anything else continues the paragraph or list item (Markdown's lazy continuation). */
      g_string_append_printf (block, "%s%s", block->len ? " " : "", stripped);
    }
  flush_block (out, &last, kind, block);
  return g_string_free (g_steal_pointer (&out), FALSE);
}

/* ------------------------------------------------------------------------------------------ */
/* Progress                                                                                   */

/* siplab-cli keeps the same file (sim-lesson-progress.h): either front end picks up the other's. */
static void
save_progress (AppLessonPane *self)
{
  g_autoptr(GError) error = NULL;

  if (self->record_progress && !sim_lesson_progress_record (NULL, self->runner, &error))
    g_warning ("Cannot save the lesson progress: %s", error->message);
}

/* At the introduction, the Continue button goes where the last session stopped. */
static void
update_resume (AppLessonPane *self)
{
  g_autoptr(SimLessonProgress) progress = NULL;
  g_autofree char *label = NULL;

  self->resume_position = 0;
  if (self->position < 0 && self->record_progress && self->lesson != NULL &&
      (progress = sim_lesson_progress_load (NULL, NULL)) != NULL)
    self->resume_position = sim_lesson_progress_get_resume_position (progress, self->lesson);
  label = g_strdup_printf (_("_Continue at %u"), self->resume_position + 1);
  gtk_button_set_label (self->resume_button, label);
  gtk_widget_set_visible (GTK_WIDGET (self->resume_button), self->resume_position > 0);
}

/* ------------------------------------------------------------------------------------------ */
/* Showing an item                                                                            */

static const char *
item_label (SimLessonItemKind kind)
{
  switch (kind)
    {
    case SIM_LESSON_PREDICT: return C_("lesson item", "Predict");
    case SIM_LESSON_CHOICE: return C_("lesson item", "Question");
    case SIM_LESSON_TASK: return C_("lesson item", "Task");
    case SIM_LESSON_STEP:
    default: return C_("lesson item", "Step");
    }
}

static const SimLessonItem *
current_item (AppLessonPane *self)
{
  if (self->runner == NULL || self->position < 0 || sim_lesson_runner_is_done (self->runner))
    return NULL;
  return sim_lesson_runner_get_item (self->runner);
}

/* The "status of response arrives at alice-desk" of a prediction, said as a question. */
static char *
prediction_prompt (const SimLessonPrediction *prediction)
{
  const char *predict = prediction->text;
  const char *of = strstr (predict, " of ");
  g_autofree char *field = of ? g_strndup (predict, of - predict) : g_strdup (predict);
  g_autofree char *escaped_field = g_markup_escape_text (field, -1);
  g_autofree char *escaped_packet = g_markup_escape_text (of ? of + 4 : "", -1);

  return g_strdup_printf (_("Your prediction: the <b>%s</b> of <tt>%s</tt>. Answer with %s; "
                            "the simulator then runs to that packet and checks."),
                          escaped_field, escaped_packet,
                          sim_lesson_prediction_get_answer_hint (prediction));
}

static void
set_feedback (AppLessonPane *self,
              const char    *markup,
              const char    *css_class)
{
  g_autofree char *plain = NULL;

  gtk_widget_remove_css_class (GTK_WIDGET (self->feedback), "correct");
  gtk_widget_remove_css_class (GTK_WIDGET (self->feedback), "incorrect");
  gtk_widget_remove_css_class (GTK_WIDGET (self->feedback), "info");
  g_clear_pointer (&self->feedback_text, g_free);
  gtk_widget_set_visible (GTK_WIDGET (self->feedback), markup != NULL);
  if (markup == NULL)
    return;
  gtk_label_set_markup (self->feedback, markup);
  if (css_class != NULL)
    gtk_widget_add_css_class (GTK_WIDGET (self->feedback), css_class);
  self->scroll_to_feedback = TRUE;
  self->feedback_text = g_strdup (gtk_label_get_text (self->feedback));
}

static void
log_append (AppLessonPane *self,
            const char    *markup)
{
  if (self->log->len > 0)
    g_string_append_c (self->log, '\n');
  g_string_append (self->log, markup);
  gtk_label_set_markup (self->task_log, self->log->str);
  gtk_widget_set_visible (GTK_WIDGET (self->task_log), TRUE);
}

static void
update_progress (AppLessonPane *self)
{
  guint n = sim_lesson_get_n_items (self->lesson);
  const SimLessonItem *item = current_item (self);
  double fraction;

  g_free (self->progress_text);
  if (self->position < 0)
    {
      self->progress_text = g_strdup_printf (ngettext ("Introduction · %u step",
                                                       "Introduction · %u steps", n), n);
      fraction = 0;
    }
  else if (item == NULL)
    {
      self->progress_text = g_strdup_printf (_("Finished · %u of %u questions right"),
                                             sim_lesson_runner_get_n_correct (self->runner),
                                             sim_lesson_get_n_questions (self->lesson));
      fraction = 1;
    }
  else
    {
      self->progress_text = g_strdup_printf (_("Step %d of %u · %s"), self->position + 1, n,
                                             item_label (item->kind));
      fraction = (double) (self->position + 1) / MAX (n, 1);
    }
  gtk_label_set_text (self->progress_label, self->progress_text);
  gtk_progress_bar_set_fraction (self->progress_bar, fraction);

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "lesson.back", self->position >= 0);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "lesson.next",
                                 app_lesson_pane_can_go_next (self));
  gtk_button_set_label (self->next_button,
                        self->position < 0 ? _("_Start") :
                        self->position + 1 >= (int) n ? _("_Finish") : _("_Next"));
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "lesson.check",
                                 item != NULL && !self->answered &&
                                 (item->kind == SIM_LESSON_PREDICT ||
                                  item->kind == SIM_LESSON_CHOICE));
  for (guint i = 0; i < self->option_buttons->len; i++)
    gtk_widget_set_sensitive (self->option_buttons->pdata[i], !self->answered);
  gtk_widget_set_sensitive (GTK_WIDGET (self->answer_entry), !self->answered);
  gtk_widget_set_sensitive (GTK_WIDGET (self->command_entry), !self->answered);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "lesson.run-command", !self->answered);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "lesson.check-goal", !self->answered);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "lesson.show-me", !self->answered);
}

/*
 * The message a step's text points at ("Look at the 401", "the Call-ID of the REGISTER"):
 * a status code or a method, or NULL.  A header the step highlights is shown in that message
 * when one carries it (a 200 OK also has a Call-ID, but the text may be about the REGISTER).
 */
static char *
message_named (const char *text)
{
  g_autoptr(GRegex) regex = NULL;
  g_autoptr(GMatchInfo) match = NULL;

  if (text == NULL)
    return NULL;
  regex = g_regex_new ("\\b(?:at|of|in) the (?:[a-z]+ )?([1-6][0-9][0-9]|[A-Z]{3,})\\b", 0, 0,
                       NULL);
  if (!g_regex_match (regex, text, 0, &match))
    return NULL;
  return g_match_info_fetch (match, 1);
}

static gboolean
is_kind (SimEvent   *e,
         const char *kind)
{
  if (g_ascii_isdigit (kind[0]))
    return e->status == atoi (kind);
  return e->status == 0 && g_strcmp0 (e->method, kind) == 0;
}

/*
 * Events the student moves the session through by hand (Play, Step) are shown as they come;
 * those the runner makes while it plays an item wait until it says they may be (a prediction
 * must not be answered by the ladder already).
 */
static void
trace_event_cb (AppLessonPane *self,
                SimEvent      *event,
                SimTrace      *trace)
{
  if (!self->busy && self->ladder != NULL)
    app_ladder_view_set_reveal_limit (self->ladder, event->index + 1);
}

/* The ladder shows what the runner has shown the student, and follows the runner's world. */
static void
reveal_shown (AppLessonPane *self)
{
  SimWorld *world = sim_lesson_runner_get_world (self->runner);

  if (world != self->watched)
    {
      if (self->watched != NULL)
        g_signal_handlers_disconnect_by_data (sim_world_get_trace (self->watched), self);
      g_set_object (&self->watched, world);
      g_signal_connect_object (sim_world_get_trace (world), "event", G_CALLBACK (trace_event_cb),
                               self, G_CONNECT_SWAPPED);
    }
  app_ladder_view_set_reveal_limit (self->ladder, sim_lesson_runner_get_n_shown (self->runner));
}

/* The window's pane under the network view ("location", "timers") shows what the item is about. */
static void
show_pane (AppLessonPane *self,
           const char    *name)
{
  gtk_widget_activate_action (GTK_WIDGET (self), "win.show-pane", "s", name);
}

/* "<b>To</b>, <b>Contact</b> and <b>Expires</b>": @n names in bold, as a sentence lists them. */
static void
append_bold_list (GString           *out,
                  const char *const *names,
                  guint              n)
{
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *name = g_markup_printf_escaped ("<b>%s</b>", names[i]);

      g_string_append_printf (out, "%s%s", i == 0 ? "" : i + 1 == n ? _(" and ") : ", ", name);
    }
}

/*
 * The ladder row to select: the newest message, unless an older one carries @header (the item
 * is about it); after a prediction, the first message it revealed (the one predicted, not what
 * followed at once).  -1 when the ladder has no row.
 */
static int
row_to_select (AppLessonPane       *self,
               AppLadderView       *ladder,
               const SimLessonItem *item,
               const char          *header)
{
  guint n_rows = app_ladder_view_get_n_rows (ladder);
  int row = (int) n_rows - 1;
  g_autofree char *kind = item != NULL ? message_named (item->text) : NULL;

  if (self->first_new_row >= 0 && self->first_new_row < (int) n_rows)
    {
      row = self->first_new_row;
      for (int r = self->first_new_row; item != NULL && item->predict != NULL && r < (int) n_rows;
           r++)
        if (sim_lesson_item_predicts_packet (item, app_ladder_view_get_row (ladder, r)))
          {
            row = r;
            break;
          }
    }
  self->first_new_row = -1;
  for (int pass = kind ? 0 : 1; header != NULL && pass < 2; pass++)
    for (int r = (int) n_rows - 1; r >= 0; r--)
      {
        SimEvent *e = app_ladder_view_get_row (ladder, r);

        if (e != NULL && sim_raw_header_has (e->raw, header) && (pass == 1 || is_kind (e, kind)))
          {
            row = r;
            pass = 2;
            break;
          }
      }
  return row;
}

/*
 * Points the views at what the item talks about: the newest message, or the latest one that
 * carries the highlighted header (marked in the inspector); the highlighted binding in the
 * location table; the timers pane for a timer.  A prediction shows its highlights only once
 * answered, as the CLI does, so they cannot give the answer away.
 */
static void
focus_views (AppLessonPane *self)
{
  const SimLessonItem *item = current_item (self);
  AppLadderView *ladder = self->ladder;
  g_autoptr(GPtrArray) events = sim_lesson_runner_take_new_events (self->runner);
  g_autoptr(GString) look = g_string_new (NULL);
  g_autoptr(GStrvBuilder) headers = g_strv_builder_new ();
  g_auto(GStrv) header_names = NULL;
  g_autoptr(GString) header_list = g_string_new (NULL);
  const char *header = NULL;
  g_autofree char *aor = NULL;
  g_autofree char *contact = NULL;
  g_autoptr(GPtrArray) timers = g_ptr_array_new_with_free_func (g_free);
  int row;

  reveal_shown (self);
  sim_document_world_changed (self->document);
  reveal_shown (self);

  for (guint i = 0; item != NULL && i < item->highlights->len; i++)
    {
      const SimLessonHighlight *h = item->highlights->pdata[i];
      g_autofree char *piece = NULL;

      if (item->kind == SIM_LESSON_PREDICT && !self->answered)
        break;
      switch (h->kind)
        {
        case SIM_LESSON_HIGHLIGHT_HEADER:
          /* Said once, after the loop: "the To, Contact and Expires headers". */
          g_strv_builder_add (headers, h->name);
          continue;
        case SIM_LESSON_HIGHLIGHT_BINDING:
          if (aor == NULL)
            {
              aor = g_strdup (h->name);
              contact = g_strdup (h->contact);
            }
          piece = g_markup_printf_escaped (_("the binding <b>%s</b>%s%s, marked in the location "
                                             "table"), h->name, h->contact ? " → " : "",
                                           h->contact ? h->contact : "");
          break;
        case SIM_LESSON_HIGHLIGHT_TIMER:
          /* Said once, after the loop: "timers E and F in the Timers pane". */
          g_ptr_array_add (timers, g_markup_printf_escaped ("<b>%s</b>", h->name));
          continue;
        case SIM_LESSON_HIGHLIGHT_NODE:
        default:
          piece = g_markup_printf_escaped (_("<b>%s</b> in the network view"), h->name);
          break;
        }
      g_string_append_printf (look, "%s%s", look->len ? "; " : "", piece);
    }
  header_names = g_strv_builder_end (headers);
  header = header_names[0];
  append_bold_list (header_list, (const char * const *) header_names,
                    g_strv_length (header_names));
  if (header != NULL)
    {
      g_autofree char *piece = g_strdup_printf (ngettext ("the %s header, marked in the message "
                                                          "inspector%s",
                                                          "the %s headers, marked in the message "
                                                          "inspector%s",
                                                          header_names[1] ? 2 : 1),
                                                header_list->str, look->len ? "; " : "");

      g_string_prepend (look, piece);
    }
  if (timers->len > 0)
    {
      g_string_append_printf (look, "%s%s", look->len ? "; " : "",
                              ngettext ("timer ", "timers ", timers->len));
      for (guint i = 0; i < timers->len; i++)
        g_string_append_printf (look, "%s%s", i == 0 ? "" : i + 1 == timers->len ? _(" and ") : ", ",
                                (char *) timers->pdata[i]);
      g_string_append (look, _(" in the Timers pane"));
    }
  if (look->len > 0)
    {
      g_string_prepend (look, _("Look at "));
      g_string_append_c (look, '.');
    }
  gtk_label_set_markup (self->look_label, look->str);
  gtk_widget_set_visible (GTK_WIDGET (self->look_label), look->len > 0);

  row = row_to_select (self, ladder, item, header);
  app_inspector_highlight_headers (self->inspector, (const char * const *) header_names);
  if (row >= 0)
    app_ladder_view_select_row (ladder, row);
  app_location_view_highlight_binding (self->location, aor, contact);
  if (aor != NULL)
    show_pane (self, "location");
  else if (timers->len > 0)
    show_pane (self, "timers");
}

static void
clear_options (AppLessonPane *self)
{
  for (guint i = 0; i < self->option_buttons->len; i++)
    gtk_box_remove (self->options_box, self->option_buttons->pdata[i]);
  g_ptr_array_set_size (self->option_buttons, 0);
}

/* The names a command can use: the scene's phones and other hosts. */
static char *
node_list (SimLesson *lesson)
{
  SimScenario *scene = sim_lesson_get_scene (lesson);
  g_autoptr(GString) out = g_string_new (NULL);

  for (guint i = 0; i < scene->nodes->len; i++)
    {
      g_autofree char *name = g_markup_escape_text (
          ((SimScenarioNode *) scene->nodes->pdata[i])->name, -1);

      g_string_append_printf (out, "%s<tt>%s</tt>", i ? ", " : "", name);
    }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

/*
 * The commands a task accepts, from the command table (sim-command.h), as markup: their words
 * for the task box (narrow: the column beside the views), or with @full their usage, one a line,
 * for "help".
 */
static char *
task_help_new (gboolean full)
{
  GString *help = g_string_new (full ? _("Commands a task accepts:")
                                     : _("Type commands one at a time (<tt>help</tt> shows how "
                                         "each is written): "));

  for (guint v = 0, n = 0; v < SIM_N_VERBS; v++)
    {
      const SimVerbInfo *info = sim_verb_get_info (v);
      g_autofree char *text = NULL;

      if (!(info->places & SIM_COMMAND_IN_LESSON))
        continue;
      text = g_markup_escape_text (full ? info->usage : info->word, -1);
      if (full)
        g_string_append_printf (help, "\n  <tt>%s</tt>", text);
      else
        g_string_append_printf (help, "%s<tt>%s</tt>", n++ > 0 ? ", " : "", text);
    }
  g_string_append (help, full ? _("\n  <tt>state</tt> lists the bindings and phones.")
                              : _("; <tt>state</tt> lists the bindings and phones."));
  return g_string_free (help, FALSE);
}

/* The end of the lesson: the score, and that the session goes on. */
static char *
completion_markup (AppLessonPane *self)
{
  guint n_tasks = 0;

  for (guint i = 0; i < sim_lesson_get_n_items (self->lesson); i++)
    if (sim_lesson_get_item (self->lesson, i)->kind == SIM_LESSON_TASK)
      n_tasks++;
  return g_strdup_printf (ngettext ("%u of %u questions right on the first try, %u of %u "
                                    "task done.\n\nThe session goes on: play it, step "
                                    "through it, or open another lesson.",
                                    "%u of %u questions right on the first try, %u of %u "
                                    "tasks done.\n\nThe session goes on: play it, step "
                                    "through it, or open another lesson.", n_tasks),
                          sim_lesson_runner_get_n_correct (self->runner),
                          sim_lesson_get_n_questions (self->lesson),
                          sim_lesson_runner_get_n_tasks_done (self->runner), n_tasks);
}

/* Fills the pane for the current position: the introduction, an item, or the end. */
static void
show_position (AppLessonPane *self)
{
  const SimLessonItem *item = current_item (self);
  g_autofree char *markup = NULL;

  clear_options (self);
  gtk_widget_set_visible (GTK_WIDGET (self->question_box), FALSE);
  gtk_widget_set_visible (GTK_WIDGET (self->task_box), FALSE);
  gtk_widget_set_visible (GTK_WIDGET (self->look_label), FALSE);
  gtk_widget_set_visible (GTK_WIDGET (self->task_log), FALSE);
  gtk_label_set_text (self->task_log, "");
  g_string_truncate (self->log, 0);
  set_feedback (self, NULL, NULL);
  gtk_editable_set_text (GTK_EDITABLE (self->answer_entry), "");
  gtk_editable_set_text (GTK_EDITABLE (self->command_entry), "");

  update_resume (self);
  if (self->position < 0)
    {
      g_autofree char *intro = app_lesson_markdown_to_markup (sim_lesson_get_intro (self->lesson));
      g_autofree char *resume = self->resume_position == 0 ? g_strdup ("") :
        g_strdup_printf (_("\n\n<i>You left this exercise at step %u: Continue goes back "
                           "there, Start begins again.</i>"), self->resume_position + 1);

      gtk_label_set_text (self->item_title, _("Introduction"));
      /* What the pane does, said once, for someone who has never used it. */
      markup = g_strdup_printf (_("%s\n\n<i>Start runs the first step. Each step runs the "
                                  "simulation to the moment it talks about, and the views on "
                                  "the right show it: the message in question is open in the "
                                  "inspector.</i>%s"), intro, resume);
    }
  else if (item == NULL)
    {
      gtk_label_set_text (self->item_title, _("Lesson complete"));
      markup = completion_markup (self);
    }
  else
    {
      g_autofree char *title = g_strdup_printf ("%s: %s", item_label (item->kind), item->title);

      gtk_label_set_text (self->item_title, title);
      markup = app_lesson_markdown_to_markup (item->text);
      if (item->kind == SIM_LESSON_PREDICT)
        {
          g_autofree char *prompt = prediction_prompt (item->predict);

          /* A digest response is computed from the header the phone sends, its answer hidden. */
          if (self->givens != NULL)
            {
              g_autofree char *givens = g_markup_escape_text (self->givens, -1);
              g_autofree char *with = g_strdup_printf (_("What the phone sends, the response "
                                                         "hidden:\n<tt>%s</tt>\n%s"), givens,
                                                       prompt);
              g_free (prompt);
              prompt = g_steal_pointer (&with);
            }
          gtk_label_set_markup (self->question_prompt, prompt);
          gtk_widget_set_visible (GTK_WIDGET (self->answer_entry), TRUE);
          gtk_widget_set_visible (GTK_WIDGET (self->question_box), TRUE);
        }
      else if (item->kind == SIM_LESSON_CHOICE)
        {
          GtkCheckButton *group = NULL;

          gtk_label_set_markup (self->question_prompt, _("Pick one, then Check:"));
          gtk_widget_set_visible (GTK_WIDGET (self->answer_entry), FALSE);
          /* In this student's order, lettered as shown; a button keeps its option's key. */
          g_autoptr(GPtrArray) options = sim_lesson_runner_get_options (self->runner);

          for (guint i = 0; i < options->len; i++)
            {
              SimLessonOption *o = options->pdata[i];
              GtkWidget *button = gtk_check_button_new ();
              g_autofree char *letter = sim_lesson_runner_get_option_letter (self->runner, o->key);
              g_autofree char *option = g_strdup_printf ("%s)  %s", letter, o->text);
              g_autofree char *option_markup = app_lesson_markdown_to_markup (option);
              GtkWidget *label = gtk_label_new (NULL);

              gtk_label_set_markup (GTK_LABEL (label), option_markup);
              gtk_label_set_wrap (GTK_LABEL (label), TRUE);
              gtk_label_set_xalign (GTK_LABEL (label), 0);
              gtk_check_button_set_child (GTK_CHECK_BUTTON (button), label);
              if (group != NULL)
                gtk_check_button_set_group (GTK_CHECK_BUTTON (button), group);
              else
                group = GTK_CHECK_BUTTON (button);
              g_object_set_data_full (G_OBJECT (button), "siplab-key", g_strdup (o->key), g_free);
              gtk_box_append (self->options_box, button);
              g_ptr_array_add (self->option_buttons, button);
            }
          gtk_widget_set_visible (GTK_WIDGET (self->question_box), TRUE);
        }
      else if (item->kind == SIM_LESSON_TASK)
        {
          g_autofree char *nodes = node_list (self->lesson);
          g_autofree char *commands = task_help_new (FALSE);
          g_autofree char *help = g_strdup_printf (_("%s Names here: %s."), commands, nodes);

          gtk_label_set_markup (self->task_help, help);
          gtk_widget_set_visible (GTK_WIDGET (self->task_box), TRUE);
        }
    }
  gtk_label_set_markup (self->text, markup ? markup : "");
  /* A question without text of its own: its title says it all. */
  gtk_widget_set_visible (GTK_WIDGET (self->text), markup != NULL && *markup != '\0');
  update_progress (self);
  /* Back at the top for the new text. */
  gtk_adjustment_set_value (gtk_scrolled_window_get_vadjustment (self->scroller), 0);
}

static GPtrArray *
item_inputs (AppLessonPane *self)
{
  guint pos = sim_lesson_runner_get_position (self->runner);

  if (self->inputs->len <= pos)
    g_ptr_array_set_size (self->inputs, pos + 1);
  if (self->inputs->pdata[pos] == NULL)
    self->inputs->pdata[pos] = g_ptr_array_new_with_free_func ((GDestroyNotify) input_free);
  return self->inputs->pdata[pos];
}

/* Enters the runner's current item (or shows the end) and shows it. */
static gboolean
enter_current (AppLessonPane  *self,
               GError        **error)
{
  gboolean entered;

  self->answered = FALSE;
  if (sim_lesson_runner_is_done (self->runner))
    {
      self->position = sim_lesson_get_n_items (self->lesson);
      self->answered = TRUE;
      save_progress (self);
      show_position (self);
      focus_views (self);
      return TRUE;
    }
  self->position = sim_lesson_runner_get_position (self->runner);
  if ((guint) self->position < self->inputs->len)
    g_clear_pointer (&self->inputs->pdata[self->position], g_ptr_array_unref);
  self->busy = TRUE;
  entered = sim_lesson_runner_enter (self->runner, error);
  /* Looking ahead runs the world on: its events wait like the prediction's own. */
  g_clear_pointer (&self->givens, g_free);
  if (entered)
    self->givens = sim_lesson_runner_get_givens (self->runner);
  self->busy = FALSE;
  if (!entered)
    return FALSE;
  /* A step asks nothing: Next is free. */
  self->answered = sim_lesson_runner_get_item (self->runner)->kind == SIM_LESSON_STEP;
  show_position (self);
  focus_views (self);
  return TRUE;
}

/* A fresh runner on the same lesson (the document's restart): the session from t = 0. */
static gboolean
restart_runner (AppLessonPane  *self,
                GError        **error)
{
  if (!sim_document_restart (self->document, error))
    return FALSE;
  g_set_object (&self->runner, sim_document_get_runner (self->document));
  self->position = -1;
  self->answered = TRUE;
  return TRUE;
}

static void
show_introduction (AppLessonPane *self)
{
  self->position = -1;
  self->answered = TRUE;
  show_position (self);
  app_inspector_highlight_header (self->inspector, NULL);
  app_location_view_highlight_binding (self->location, NULL, NULL);
  reveal_shown (self);
  sim_document_world_changed (self->document);
  reveal_shown (self);
}

/* ------------------------------------------------------------------------------------------ */
/* Answers and commands                                                                       */

static SimLessonAnswer
check_answer (AppLessonPane  *self,
              GError        **error)
{
  const SimLessonItem *item = current_item (self);
  g_autofree char *answer = NULL;
  g_autofree char *explanation = NULL;
  g_autofree char *explained = NULL;
  g_autofree char *said = NULL;
  g_autofree char *escaped_said = NULL;
  g_autofree char *markup = NULL;
  SimLessonAnswer result;

  if (item == NULL || self->answered ||
      (item->kind != SIM_LESSON_PREDICT && item->kind != SIM_LESSON_CHOICE))
    {
      g_set_error_literal (error, SIM_LESSON_ERROR, SIM_LESSON_ERROR_STATE,
                           _("There is no open question here"));
      return SIM_LESSON_ANSWER_INVALID;
    }
  if (item->kind == SIM_LESSON_PREDICT)
    answer = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->answer_entry))));
  else
    for (guint i = 0; i < self->option_buttons->len && answer == NULL; i++)
      if (gtk_check_button_get_active (self->option_buttons->pdata[i]))
        answer = g_strdup (g_object_get_data (self->option_buttons->pdata[i], "siplab-key"));
  if (answer == NULL || *answer == '\0')
    {
      set_feedback (self, item->kind == SIM_LESSON_PREDICT ? _("Type your prediction first.")
                                                           : _("Pick an option first."), "info");
      return SIM_LESSON_ANSWER_INVALID;
    }

  /* A choice's button holds its option's key; the runner takes the letter the student sees. */
  if (item->kind == SIM_LESSON_CHOICE)
    said = sim_lesson_runner_get_option_letter (self->runner, answer);
  if (said == NULL)
    said = g_strdup (answer);
  self->first_new_row = app_ladder_view_get_n_rows (self->ladder);
  self->busy = TRUE;
  result = sim_lesson_runner_answer (self->runner, said, &explanation, error);
  self->busy = FALSE;
  if (result == SIM_LESSON_ANSWER_INVALID)
    {
      g_autofree char *escaped = NULL;

      self->first_new_row = -1;
      if (error != NULL && *error != NULL)
        return result;
      escaped = g_markup_escape_text (explanation ? explanation : _("Please answer the question."),
                                      -1);
      set_feedback (self, escaped, "info");
      return result;
    }
  g_ptr_array_add (item_inputs (self), input_new (INPUT_ANSWER, answer));
  self->answered = TRUE;
  explained = app_lesson_markdown_to_markup (explanation ? explanation : "");
  escaped_said = g_markup_escape_text (said, -1);
  markup = g_strdup_printf (_("<b>%s</b>  (you said %s)\n%s"),
                            result == SIM_LESSON_ANSWER_CORRECT ? _("Correct.") : _("Not quite."),
                            escaped_said, explained);
  set_feedback (self, markup, result == SIM_LESSON_ANSWER_CORRECT ? "correct" : "incorrect");
  update_progress (self);
  focus_views (self);
  return result;
}

static char *
state_markup (SimWorld *world)
{
  SimLocation *location = sim_world_get_location (world);
  GPtrArray *phones = sim_world_get_phones (world);
  g_autoptr(GString) out = g_string_new ("<tt>");
  guint total = 0;

  if (location != NULL)
    {
      g_autoptr(GPtrArray) aors = sim_location_list_aors (location);

      g_string_append (out, "Bindings:\n");
      for (guint i = 0; i < aors->len; i++)
        {
          GPtrArray *bindings = sim_location_lookup (location, aors->pdata[i]);

          for (guint k = 0; bindings != NULL && k < bindings->len; k++, total++)
            {
              SimBinding *b = bindings->pdata[k];
              g_autofree char *line = g_markup_printf_escaped (
                  "  %s → %s, %" G_GINT64_FORMAT " s left\n", b->aor, b->contact,
                  (b->expires_at - sim_world_now (world)) / G_USEC_PER_SEC);

              g_string_append (out, line);
            }
        }
      if (total == 0)
        g_string_append (out, "  (none)\n");
    }
  g_string_append (out, "Phones:\n");
  for (guint i = 0; i < phones->len; i++)
    {
      SimPhone *phone = phones->pdata[i];
      g_autofree char *line = g_markup_printf_escaped (
          "  %s %s: %s%s\n", sim_phone_get_device (phone), sim_phone_get_aor (phone),
          sim_reg_state_name (sim_phone_get_reg_state (phone)),
          sim_phone_is_powered (phone) ? "" : " (off)");

      g_string_append (out, line);
    }
  while (out->len > 0 && out->str[out->len - 1] == '\n')
    g_string_truncate (out, out->len - 1);
  g_string_append (out, "</tt>");
  return g_string_free (g_steal_pointer (&out), FALSE);
}

static void
task_finished (AppLessonPane *self,
               const char    *markup,
               const char    *css_class)
{
  self->answered = TRUE;
  set_feedback (self, markup, css_class);
  update_progress (self);
}

static gboolean
check_goal (AppLessonPane *self,
            gboolean       quiet)
{
  g_autofree char *why = NULL;

  if (sim_lesson_runner_goal_met (self->runner, &why))
    {
      task_finished (self, _("<b>Done:</b> every goal holds."), "correct");
      return TRUE;
    }
  if (!quiet)
    {
      g_autofree char *line = g_markup_printf_escaped (_("Not yet: %s"), why ? why : "");

      log_append (self, line);
    }
  return FALSE;
}

static gboolean
run_command (AppLessonPane *self,
             const char    *text)
{
  const SimLessonItem *item = current_item (self);
  g_autofree char *command = g_strstrip (g_strdup (text));
  g_autoptr(GError) error = NULL;
  g_autofree char *line = NULL;
  gboolean ok;

  if (item == NULL || item->kind != SIM_LESSON_TASK || self->answered || *command == '\0')
    return FALSE;
  gtk_editable_set_text (GTK_EDITABLE (self->command_entry), "");
  if (strcmp (command, "state") == 0)
    {
      g_autofree char *state = state_markup (sim_lesson_runner_get_world (self->runner));

      log_append (self, state);
      return TRUE;
    }
  if (strcmp (command, "hint") == 0)
    {
      gtk_widget_activate_action (GTK_WIDGET (self), "lesson.hint", NULL);
      return TRUE;
    }
  if (strcmp (command, "skip") == 0)
    return app_lesson_pane_show_me (self, NULL);
  if (strcmp (command, "help") == 0 || strcmp (command, "?") == 0)
    {
      g_autofree char *help = task_help_new (TRUE);

      log_append (self, help);
      return TRUE;
    }

  self->busy = TRUE;
  ok = sim_lesson_runner_command (self->runner, command, &error);
  self->busy = FALSE;
  if (!ok)
    {
      line = g_markup_printf_escaped (_("<tt>&gt; %s</tt>\nThat command did not work: %s"), command,
                                      error->message);
      log_append (self, line);
      return FALSE;
    }
  g_ptr_array_add (item_inputs (self), input_new (INPUT_COMMAND, command));
  line = g_markup_printf_escaped ("<tt>&gt; %s</tt>", command);
  log_append (self, line);
  focus_views (self);
  check_goal (self, FALSE);
  return TRUE;
}

/* ------------------------------------------------------------------------------------------ */
/* Actions                                                                                    */

static void
show_error (AppLessonPane *self,
            const GError  *error)
{
  g_autofree char *markup = g_markup_printf_escaped (_("<b>The lesson stopped:</b> %s"),
                                                     error->message);

  set_feedback (self, markup, "incorrect");
}

/* Hints escalate: the task's "hint:" lines, a nudge first, and the solution last. */
static void
show_hint (AppLessonPane *self)
{
  guint level = 0, n_levels = 0;
  g_autofree char *hint = sim_lesson_runner_take_hint (self->runner, &level, &n_levels);
  g_autofree char *markup = NULL;
  g_autofree char *line = NULL;

  if (hint == NULL)
    {
      log_append (self, _("<b>No more hints:</b> the last one was the solution; Show me plays it."));
      return;
    }
  markup = app_lesson_markdown_to_markup (hint);
  line = g_strdup_printf (_("<b>Hint %u of %u:</b> %s"), level, n_levels, markup);
  log_append (self, line);
  save_progress (self);
}

static void
lesson_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  AppLessonPane *self = APP_LESSON_PANE (widget);
  const SimLessonItem *item = current_item (self);
  g_autoptr(GError) error = NULL;

  if (self->runner == NULL)
    return;
  if (g_str_equal (action_name, "lesson.next"))
    {
      if (!app_lesson_pane_next (self, &error))
        show_error (self, error);
    }
  else if (g_str_equal (action_name, "lesson.back"))
    {
      if (!app_lesson_pane_back (self, &error))
        show_error (self, error);
    }
  else if (g_str_equal (action_name, "lesson.check"))
    {
      check_answer (self, &error);
      if (error != NULL)
        show_error (self, error);
    }
  else if (g_str_equal (action_name, "lesson.run-command"))
    run_command (self, gtk_editable_get_text (GTK_EDITABLE (self->command_entry)));
  else if (g_str_equal (action_name, "lesson.check-goal"))
    check_goal (self, FALSE);
  else if (g_str_equal (action_name, "lesson.show-me"))
    {
      if (!app_lesson_pane_show_me (self, &error))
        show_error (self, error);
    }
  else if (g_str_equal (action_name, "lesson.hint") && item != NULL)
    show_hint (self);
  else if (g_str_equal (action_name, "lesson.resume"))
    {
      if (!app_lesson_pane_resume (self, &error))
        show_error (self, error);
    }
}

/* ------------------------------------------------------------------------------------------ */
/* GObject                                                                                    */

static void
app_lesson_pane_dispose (GObject *object)
{
  AppLessonPane *self = APP_LESSON_PANE (object);
  GtkWidget *child;

  g_clear_pointer (&self->option_buttons, g_ptr_array_unref);
  if (self->watched != NULL)
    g_signal_handlers_disconnect_by_data (sim_world_get_trace (self->watched), self);
  g_clear_object (&self->watched);
  gtk_widget_dispose_template (GTK_WIDGET (self), APP_TYPE_LESSON_PANE);
  /* dispose_template() only drops the children bound by name; the layout boxes go too. */
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))) != NULL)
    gtk_widget_unparent (child);
  g_clear_object (&self->runner);
  g_clear_object (&self->lesson);
  if (self->document != NULL)
    g_signal_handlers_disconnect_by_data (self->document, self);
  g_clear_object (&self->document);
  g_clear_object (&self->ladder);
  g_clear_object (&self->inspector);
  g_clear_object (&self->location);
  G_OBJECT_CLASS (app_lesson_pane_parent_class)->dispose (object);
}

static void
app_lesson_pane_finalize (GObject *object)
{
  AppLessonPane *self = APP_LESSON_PANE (object);

  g_free (self->progress_text);
  g_free (self->feedback_text);
  g_free (self->givens);
  g_clear_pointer (&self->inputs, g_ptr_array_unref);
  g_string_free (self->log, TRUE);
  G_OBJECT_CLASS (app_lesson_pane_parent_class)->finalize (object);
}

static void
app_lesson_pane_get_property (GObject    *object,
                              guint       prop_id,
                              GValue     *value,
                              GParamSpec *pspec)
{
  AppLessonPane *self = APP_LESSON_PANE (object);

  switch (prop_id)
    {
    case PROP_DOCUMENT:
      g_value_set_object (value, self->document);
      break;
    case PROP_LADDER:
      g_value_set_object (value, self->ladder);
      break;
    case PROP_INSPECTOR:
      g_value_set_object (value, self->inspector);
      break;
    case PROP_LOCATION:
      g_value_set_object (value, self->location);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
app_lesson_pane_set_property (GObject      *object,
                              guint         prop_id,
                              const GValue *value,
                              GParamSpec   *pspec)
{
  AppLessonPane *self = APP_LESSON_PANE (object);

  switch (prop_id)
    {
    case PROP_DOCUMENT:
      app_lesson_pane_set_document (self, g_value_get_object (value));
      break;
    case PROP_LADDER:
      g_set_object (&self->ladder, g_value_get_object (value));
      break;
    case PROP_INSPECTOR:
      g_set_object (&self->inspector, g_value_get_object (value));
      break;
    case PROP_LOCATION:
      g_set_object (&self->location, g_value_get_object (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
app_lesson_pane_class_init (AppLessonPaneClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GParamFlags view_flags = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS;

  object_class->dispose = app_lesson_pane_dispose;
  object_class->finalize = app_lesson_pane_finalize;
  object_class->get_property = app_lesson_pane_get_property;
  object_class->set_property = app_lesson_pane_set_property;

  properties[PROP_DOCUMENT] =
    g_param_spec_object ("document", NULL, NULL, SIM_TYPE_DOCUMENT,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  /* The views an item's highlights point at, set where the window lays them out. */
  properties[PROP_LADDER] =
    g_param_spec_object ("ladder", NULL, NULL, APP_TYPE_LADDER_VIEW, view_flags);
  properties[PROP_INSPECTOR] =
    g_param_spec_object ("inspector", NULL, NULL, APP_TYPE_INSPECTOR, view_flags);
  properties[PROP_LOCATION] =
    g_param_spec_object ("location", NULL, NULL, APP_TYPE_LOCATION_VIEW, view_flags);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/siplab/SipLab/app-lesson-pane.ui");
  gtk_widget_class_bind_template_child (widget_class, AppLessonPane, lesson_title);
  gtk_widget_class_bind_template_child (widget_class, AppLessonPane, progress_label);
  gtk_widget_class_bind_template_child (widget_class, AppLessonPane, progress_bar);
  gtk_widget_class_bind_template_child (widget_class, AppLessonPane, scroller);
  gtk_widget_class_bind_template_child (widget_class, AppLessonPane, item_title);
  gtk_widget_class_bind_template_child (widget_class, AppLessonPane, text);
  gtk_widget_class_bind_template_child (widget_class, AppLessonPane, look_label);
  gtk_widget_class_bind_template_child (widget_class, AppLessonPane, question_box);
  gtk_widget_class_bind_template_child (widget_class, AppLessonPane, question_prompt);
  gtk_widget_class_bind_template_child (widget_class, AppLessonPane, options_box);
  gtk_widget_class_bind_template_child (widget_class, AppLessonPane, answer_entry);
  gtk_widget_class_bind_template_child (widget_class, AppLessonPane, task_box);
  gtk_widget_class_bind_template_child (widget_class, AppLessonPane, task_help);
  gtk_widget_class_bind_template_child (widget_class, AppLessonPane, command_entry);
  gtk_widget_class_bind_template_child (widget_class, AppLessonPane, task_log);
  gtk_widget_class_bind_template_child (widget_class, AppLessonPane, feedback);
  gtk_widget_class_bind_template_child (widget_class, AppLessonPane, next_button);
  gtk_widget_class_bind_template_child (widget_class, AppLessonPane, name_entry);
  gtk_widget_class_bind_template_child (widget_class, AppLessonPane, resume_button);
  gtk_widget_class_set_css_name (widget_class, "lessonpane");

  gtk_widget_class_install_action (widget_class, "lesson.next", NULL, lesson_action);
  gtk_widget_class_install_action (widget_class, "lesson.back", NULL, lesson_action);
  gtk_widget_class_install_action (widget_class, "lesson.check", NULL, lesson_action);
  gtk_widget_class_install_action (widget_class, "lesson.run-command", NULL, lesson_action);
  gtk_widget_class_install_action (widget_class, "lesson.check-goal", NULL, lesson_action);
  gtk_widget_class_install_action (widget_class, "lesson.show-me", NULL, lesson_action);
  gtk_widget_class_install_action (widget_class, "lesson.hint", NULL, lesson_action);
  gtk_widget_class_install_action (widget_class, "lesson.resume", NULL, lesson_action);
}

/* After a layout that placed a new verdict: bring it into view (its top, or as much as fits). */
static void
content_resized_cb (AppLessonPane *self,
                    GtkAdjustment *adjustment)
{
  double x, y;
  double page = gtk_adjustment_get_page_size (adjustment);
  double value = gtk_adjustment_get_value (adjustment);
  GtkWidget *content = gtk_scrolled_window_get_child (self->scroller);

  if (!self->scroll_to_feedback || !gtk_widget_get_visible (GTK_WIDGET (self->feedback)))
    return;
  self->scroll_to_feedback = FALSE;
  if (!gtk_widget_translate_coordinates (GTK_WIDGET (self->feedback), content, 0, 0, &x, &y))
    return;
  if (y + gtk_widget_get_height (GTK_WIDGET (self->feedback)) > value + page)
    gtk_adjustment_set_value (adjustment, MIN (y - 8, gtk_adjustment_get_upper (adjustment) - page));
}

static void name_activate_cb (GtkEntry *entry, AppLessonPane *self);

static void
entry_activate_cb (GtkEntry      *entry,
                   AppLessonPane *self)
{
  gtk_widget_activate_action (GTK_WIDGET (self),
                              entry == self->answer_entry ? "lesson.check" : "lesson.run-command",
                              NULL);
}

static void
app_lesson_pane_init (AppLessonPane *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->position = -1;
  self->first_new_row = -1;
  self->record_progress = TRUE;
  self->inputs = g_ptr_array_new_with_free_func (inputs_free);
  self->option_buttons = g_ptr_array_new ();
  self->log = g_string_new (NULL);
  g_signal_connect (self->answer_entry, "activate", G_CALLBACK (entry_activate_cb), self);
  g_signal_connect_object (gtk_scrolled_window_get_vadjustment (self->scroller), "changed",
                           G_CALLBACK (content_resized_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect (self->command_entry, "activate", G_CALLBACK (entry_activate_cb), self);
  g_signal_connect (self->name_entry, "activate", G_CALLBACK (name_activate_cb), self);
}

/* ------------------------------------------------------------------------------------------ */
/* The student and resuming                                                                   */

/* A lesson opened as written becomes the remembered student's exercise.  TRUE: reopened. */
static gboolean
adopt_remembered_student (AppLessonPane *self)
{
  g_autoptr(SimLessonProgress) progress = NULL;
  g_autofree char *name = NULL;
  g_autoptr(GError) error = NULL;
  const char *path = sim_document_get_path (self->document);

  if (!self->record_progress || path == NULL || sim_lesson_get_student (self->lesson) != NULL ||
      (progress = sim_lesson_progress_load (NULL, NULL)) == NULL ||
      (name = sim_lesson_progress_get_student_name (progress)) == NULL)
    return FALSE;
  if (sim_document_open_lesson_for_student (self->document, path, name, &error))
    return TRUE;
  g_warning ("Cannot open the lesson as %s's exercise: %s", name, error->message);
  return FALSE;
}

static void
name_activate_cb (GtkEntry      *entry,
                  AppLessonPane *self)
{
  g_autoptr(GError) error = NULL;

  if (!app_lesson_pane_set_student (self, gtk_editable_get_text (GTK_EDITABLE (entry)), &error))
    show_error (self, error);
}

gboolean
app_lesson_pane_set_student (AppLessonPane  *self,
                             const char     *name,
                             GError        **error)
{
  g_autofree char *normal = NULL;
  g_autofree char *path = NULL;
  g_autoptr(SimLessonProgress) progress = NULL;
  g_autoptr(GError) local = NULL;

  g_return_val_if_fail (APP_IS_LESSON_PANE (self), FALSE);
  if (self->lesson == NULL || sim_document_get_path (self->document) == NULL)
    {
      g_set_error_literal (error, SIM_LESSON_ERROR, SIM_LESSON_ERROR_STATE,
                           _("No lesson file is open"));
      return FALSE;
    }
  if (name != NULL && *name != '\0' && (normal = sim_lesson_student_normalize_name (name)) == NULL)
    {
      g_set_error (error, SIM_LESSON_ERROR, SIM_LESSON_ERROR_STATE,
                   _("That is not a name (1 to %d characters)"), SIM_LESSON_STUDENT_NAME_MAX);
      return FALSE;
    }
  if (self->record_progress)
    {
      /* Remembered for the next lesson and the next start; a damaged file is written anew. */
      progress = sim_lesson_progress_load (NULL, &local);
      if (progress == NULL)
        progress = sim_lesson_progress_new ();
      sim_lesson_progress_set_student_name (progress, normal ? g_strstrip (g_strdup (name)) : NULL);
      if (!sim_lesson_progress_save (progress, NULL, &local) && local != NULL)
        g_warning ("Cannot remember the student's name: %s", local->message);
    }
  path = g_strdup (sim_document_get_path (self->document));
  return sim_document_open_lesson_for_student (self->document, path, normal ? name : NULL, error);
}

guint
app_lesson_pane_get_resume_position (AppLessonPane *self)
{
  g_return_val_if_fail (APP_IS_LESSON_PANE (self), 0);
  return self->position < 0 ? self->resume_position : 0;
}

gboolean
app_lesson_pane_resume (AppLessonPane  *self,
                        GError        **error)
{
  g_return_val_if_fail (APP_IS_LESSON_PANE (self), FALSE);
  if (self->runner == NULL || self->position >= 0 || self->resume_position == 0)
    {
      g_set_error_literal (error, SIM_LESSON_ERROR, SIM_LESSON_ERROR_STATE,
                           _("There is nowhere to continue from"));
      return FALSE;
    }
  if (!sim_lesson_progress_resume (NULL, self->runner, error))
    {
      if (error != NULL && *error == NULL)
        g_set_error_literal (error, SIM_LESSON_ERROR, SIM_LESSON_ERROR_STATE,
                             _("The saved progress is for another exercise"));
      return FALSE;
    }
  g_ptr_array_set_size (self->inputs, 0);
  g_ptr_array_set_size (self->inputs, sim_lesson_runner_get_position (self->runner));
  self->resumed_at = sim_lesson_runner_get_position (self->runner);
  return enter_current (self, error);
}

/* ------------------------------------------------------------------------------------------ */
/* Public                                                                                     */

/* The document opened a lesson (or another one, or the same again), or left it. */
static void
lesson_changed_cb (AppLessonPane *self)
{
  SimLesson *lesson = self->document ? sim_document_get_lesson (self->document) : NULL;

  if (lesson == NULL)
    {
      /* What the pane pointed at in the views is not the next scene's business. */
      if (self->watched != NULL)
        g_signal_handlers_disconnect_by_data (sim_world_get_trace (self->watched), self);
      g_clear_object (&self->watched);
      g_clear_object (&self->runner);
      g_clear_object (&self->lesson);
      g_ptr_array_set_size (self->inputs, 0);
      if (self->inspector != NULL)
        app_inspector_highlight_header (self->inspector, NULL);
      if (self->location != NULL)
        app_location_view_highlight_binding (self->location, NULL, NULL);
      if (self->ladder != NULL)
        app_ladder_view_set_reveal_limit (self->ladder, G_MAXUINT64);
      return;
    }
  g_set_object (&self->lesson, lesson);
  g_set_object (&self->runner, sim_document_get_runner (self->document));
  g_ptr_array_set_size (self->inputs, 0);
  self->resumed_at = 0;
  /* Opened again as the remembered student's exercise: this runs again for that one. */
  if (adopt_remembered_student (self))
    return;
  gtk_editable_set_text (GTK_EDITABLE (self->name_entry),
                         sim_lesson_get_student (lesson) ? sim_lesson_get_student (lesson) : "");
  gtk_label_set_text (self->lesson_title, sim_lesson_get_title (lesson));
  show_introduction (self);
}

SimDocument *
app_lesson_pane_get_document (AppLessonPane *self)
{
  g_return_val_if_fail (APP_IS_LESSON_PANE (self), NULL);
  return self->document;
}

void
app_lesson_pane_set_document (AppLessonPane *self,
                              SimDocument   *document)
{
  g_return_if_fail (APP_IS_LESSON_PANE (self));
  g_return_if_fail (document == NULL || SIM_IS_DOCUMENT (document));

  if (self->document == document)
    return;
  if (self->document != NULL)
    g_signal_handlers_disconnect_by_data (self->document, self);
  g_set_object (&self->document, document);
  if (document != NULL)
    g_signal_connect_object (document, "notify::lesson", G_CALLBACK (lesson_changed_cb), self,
                             G_CONNECT_SWAPPED);
  lesson_changed_cb (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DOCUMENT]);
}

SimLessonRunner *
app_lesson_pane_get_runner (AppLessonPane *self)
{
  g_return_val_if_fail (APP_IS_LESSON_PANE (self), NULL);
  return self->runner;
}

int
app_lesson_pane_get_position (AppLessonPane *self)
{
  g_return_val_if_fail (APP_IS_LESSON_PANE (self), -1);
  return self->position;
}

const char *
app_lesson_pane_get_progress_text (AppLessonPane *self)
{
  g_return_val_if_fail (APP_IS_LESSON_PANE (self), NULL);
  return self->progress_text;
}

double
app_lesson_pane_get_fraction (AppLessonPane *self)
{
  g_return_val_if_fail (APP_IS_LESSON_PANE (self), 0);
  return gtk_progress_bar_get_fraction (self->progress_bar);
}

const char *
app_lesson_pane_get_feedback (AppLessonPane *self)
{
  g_return_val_if_fail (APP_IS_LESSON_PANE (self), NULL);
  return self->feedback_text;
}

gboolean
app_lesson_pane_can_go_next (AppLessonPane *self)
{
  g_return_val_if_fail (APP_IS_LESSON_PANE (self), FALSE);
  return self->runner != NULL && self->answered &&
         self->position < (int) sim_lesson_get_n_items (self->lesson);
}

gboolean
app_lesson_pane_next (AppLessonPane  *self,
                      GError        **error)
{
  g_return_val_if_fail (APP_IS_LESSON_PANE (self), FALSE);

  if (!app_lesson_pane_can_go_next (self))
    {
      g_set_error_literal (error, SIM_LESSON_ERROR, SIM_LESSON_ERROR_STATE,
                           _("Answer the question or finish the task first"));
      return FALSE;
    }
  if (self->position >= 0)
    {
      sim_lesson_runner_next (self->runner);
      save_progress (self);
    }
  return enter_current (self, error);
}

/* Gives the recorded answers and commands of the runner's current (entered) item again. */
static gboolean
replay_inputs (AppLessonPane  *self,
               GPtrArray      *inputs,
               GError        **error)
{
  for (guint i = 0; inputs != NULL && i < inputs->len; i++)
    {
      const Input *input = inputs->pdata[i];

      switch (input->kind)
        {
        case INPUT_ANSWER:
          {
            /* A choice's answer was kept as its option's key: give it as the letter shown. */
            g_autofree char *letter = sim_lesson_runner_get_option_letter (self->runner,
                                                                           input->text);

            if (sim_lesson_runner_answer (self->runner, letter ? letter : input->text, NULL,
                                          error) == SIM_LESSON_ANSWER_INVALID &&
                error != NULL && *error != NULL)
              return FALSE;
          }
          break;
        case INPUT_SHOW_ME:
          if (!sim_lesson_runner_give_up (self->runner, error))
            return FALSE;
          break;
        case INPUT_COMMAND:
        default:
          sim_lesson_runner_command (self->runner, input->text, NULL);
          break;
        }
    }
  return TRUE;
}

/*
 * Back in a resumed session: there are no answers to replay before the item it resumed at, so
 * the model path leads there (as the resume did) and the student's record is kept.
 */
static gboolean
back_after_resume (AppLessonPane  *self,
                   int             target,
                   GError        **error)
{
  guint n = sim_lesson_get_n_items (self->lesson);
  guint from = MIN ((guint) target, self->resumed_at);
  g_autoptr(GPtrArray) attempts = g_ptr_array_new_with_free_func ((GDestroyNotify) sim_lesson_attempt_free);
  g_autoptr(GPtrArray) inputs = NULL;

  for (guint i = 0; i < n; i++)
    g_ptr_array_add (attempts, sim_lesson_attempt_copy (sim_lesson_runner_get_attempt (self->runner, i)));
  if (!restart_runner (self, error))
    return FALSE;
  inputs = g_steal_pointer (&self->inputs);
  self->inputs = g_ptr_array_new_with_free_func (inputs_free);
  g_ptr_array_set_size (self->inputs, from);
  if (!sim_lesson_runner_resume (self->runner, from, attempts, error))
    return FALSE;
  for (guint i = from; i < (guint) target; i++)
    {
      GPtrArray *given = i < inputs->len ? inputs->pdata[i] : NULL;

      if (!sim_lesson_runner_enter (self->runner, error) || !replay_inputs (self, given, error))
        return FALSE;
      g_ptr_array_add (self->inputs, given ? g_ptr_array_ref (given) : NULL);
      sim_lesson_runner_next (self->runner);
    }
  self->resumed_at = from;
  if (from == 0)
    self->resumed_at = 0;
  return enter_current (self, error);
}

gboolean
app_lesson_pane_back (AppLessonPane  *self,
                      GError        **error)
{
  g_autoptr(GPtrArray) inputs = NULL;
  int target;

  g_return_val_if_fail (APP_IS_LESSON_PANE (self), FALSE);

  if (self->runner == NULL || self->position < 0)
    return FALSE;
  target = self->position - 1;
  if (self->resumed_at > 0 && target >= 0)
    return back_after_resume (self, target, error);
  if (!restart_runner (self, error))
    return FALSE;
  inputs = g_steal_pointer (&self->inputs);
  self->inputs = g_ptr_array_new_with_free_func (inputs_free);
  for (int i = 0; i < target; i++)
    {
      GPtrArray *given = (guint) i < inputs->len ? inputs->pdata[i] : NULL;

      if (!sim_lesson_runner_enter (self->runner, error) ||
          !replay_inputs (self, given, error))
        return FALSE;
      g_ptr_array_add (self->inputs, given ? g_ptr_array_ref (given) : NULL);
      sim_lesson_runner_next (self->runner);
    }
  if (target < 0)
    {
      show_introduction (self);
      return TRUE;
    }
  return enter_current (self, error);
}

SimLessonAnswer
app_lesson_pane_answer (AppLessonPane  *self,
                        const char     *answer,
                        GError        **error)
{
  const SimLessonItem *item;

  g_return_val_if_fail (APP_IS_LESSON_PANE (self), SIM_LESSON_ANSWER_INVALID);
  g_return_val_if_fail (answer != NULL, SIM_LESSON_ANSWER_INVALID);

  item = current_item (self);
  if (item != NULL && item->kind == SIM_LESSON_PREDICT)
    gtk_editable_set_text (GTK_EDITABLE (self->answer_entry), answer);
  for (guint i = 0; i < self->option_buttons->len; i++)
    if (g_strcmp0 (g_object_get_data (self->option_buttons->pdata[i], "siplab-key"), answer) == 0)
      gtk_check_button_set_active (self->option_buttons->pdata[i], TRUE);
  return check_answer (self, error);
}

gboolean
app_lesson_pane_command (AppLessonPane *self,
                         const char    *command)
{
  g_return_val_if_fail (APP_IS_LESSON_PANE (self), FALSE);
  g_return_val_if_fail (command != NULL, FALSE);

  gtk_editable_set_text (GTK_EDITABLE (self->command_entry), command);
  return run_command (self, command);
}

gboolean
app_lesson_pane_show_me (AppLessonPane  *self,
                         GError        **error)
{
  const SimLessonItem *item;
  g_autoptr(GString) solution = g_string_new (NULL);
  g_autofree char *markup = NULL;

  g_return_val_if_fail (APP_IS_LESSON_PANE (self), FALSE);

  item = current_item (self);
  if (item == NULL || item->kind != SIM_LESSON_TASK || self->answered)
    {
      g_set_error_literal (error, SIM_LESSON_ERROR, SIM_LESSON_ERROR_STATE,
                           _("There is no open task here"));
      return FALSE;
    }
  if (!sim_lesson_runner_give_up (self->runner, error))
    return FALSE;
  /* The world was rebuilt along the model path: what the student typed no longer happened. */
  g_ptr_array_set_size (item_inputs (self), 0);
  g_ptr_array_add (item_inputs (self), input_new (INPUT_SHOW_ME, NULL));
  for (guint i = 0; i < item->solution->len; i++)
    {
      g_autofree char *command = g_markup_escape_text (
          ((SimLessonLine *) item->solution->pdata[i])->text, -1);

      g_string_append_printf (solution, "%s<tt>%s</tt>", i ? "; " : "", command);
    }
  markup = g_strdup_printf (_("<b>A solution:</b> %s\nThe session was replayed with it; the "
                              "lesson goes on from there."), solution->str);
  task_finished (self, markup, "info");
  focus_views (self);
  return TRUE;
}

/* Finishes the current item the way its author did: the answer key, or the solution. */
static gboolean
complete_with_model (AppLessonPane  *self,
                     GError        **error)
{
  const SimLessonItem *item = current_item (self);

  if (item == NULL || self->answered)
    return TRUE;
  if (item->kind == SIM_LESSON_TASK)
    return app_lesson_pane_show_me (self, error);
  if (item->answer != NULL &&
      app_lesson_pane_answer (self, item->answer->text, error) == SIM_LESSON_ANSWER_INVALID)
    {
      if (error != NULL && *error == NULL)
        g_set_error (error, SIM_LESSON_ERROR, SIM_LESSON_ERROR_STATE,
                     _("The answer key '%s' of '%s' is not accepted"), item->answer->text,
                     item->title);
      return FALSE;
    }
  return TRUE;
}

gboolean
app_lesson_pane_go_to (AppLessonPane  *self,
                       guint           step,
                       gboolean        complete,
                       GError        **error)
{
  guint n;

  g_return_val_if_fail (APP_IS_LESSON_PANE (self), FALSE);
  g_return_val_if_fail (self->runner != NULL, FALSE);

  n = sim_lesson_get_n_items (self->lesson);
  if (step > n)
    {
      g_set_error (error, SIM_LESSON_ERROR, SIM_LESSON_ERROR_STATE,
                   _("This lesson has %u steps"), n);
      return FALSE;
    }
  if (!restart_runner (self, error))
    return FALSE;
  g_ptr_array_set_size (self->inputs, 0);
  show_introduction (self);
  for (guint i = 1; i <= step; i++)
    {
      if (!app_lesson_pane_next (self, error))
        return FALSE;
      if ((i < step || complete) && !complete_with_model (self, error))
        return FALSE;
    }
  return TRUE;
}

void
app_lesson_pane_set_record_progress (AppLessonPane *self,
                                     gboolean       record)
{
  g_return_if_fail (APP_IS_LESSON_PANE (self));
  self->record_progress = !!record;
}
