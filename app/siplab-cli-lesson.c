/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "siplab-cli-lesson.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sim-command.h"
#include "sim-export.h"
#include "sim-lesson.h"
#include "sim-lesson-progress.h"
#include "sim-message.h"
#include "siplab-cli-common.h"

/*
 * siplab-cli lesson FILE   plays a lesson in the terminal: the text of each item, a ladder of
 *                          the packets it produced, questions at a prompt, tasks as commands;
 * siplab-cli check FILE... plays every item with the answer keys and verifies every claim;
 * siplab-cli lessons       lists the shipped lessons and the user's progress.
 *
 * Progress is kept in $XDG_DATA_HOME/siplab/progress.ini (sim/lesson/sim-lesson-progress.h), the
 * same file the GUI keeps.
 */

enum {
  EXIT_OK = 0,
  EXIT_FAILED = 1,
  EXIT_USAGE = 2,
};

/* ------------------------------------------------------------------------------------------ */
/* Where lessons live                                                                          */

/* The shipped lessons: $SIPLAB_LESSONS_DIR, the source tree's (a build), then the installed. */
static char *
find_lessons_dir (void)
{
  const char *env = g_getenv ("SIPLAB_LESSONS_DIR");
  const char *candidates[4] = { NULL };
  guint n = 0;

  if (env != NULL && *env != '\0')
    return g_strdup (env);
#ifdef SIPLAB_SOURCE_LESSONS_DIR
  candidates[n++] = SIPLAB_SOURCE_LESSONS_DIR;
#endif
#ifdef SIPLAB_DATA_LESSONS_DIR
  candidates[n++] = SIPLAB_DATA_LESSONS_DIR;
#endif
  candidates[n++] = "lessons";
  for (guint i = 0; i < n; i++)
    if (g_file_test (candidates[i], G_FILE_TEST_IS_DIR))
      return g_strdup (candidates[i]);
  return NULL;
}

/* FILE as given, or a shipped lesson's name ("03-many-devices"). */
static char *
resolve_lesson (const char *arg)
{
  g_autofree char *dir = NULL;
  g_autofree char *name = NULL;
  char *path;

  if (g_file_test (arg, G_FILE_TEST_EXISTS) || strchr (arg, '/') != NULL)
    return g_strdup (arg);
  dir = find_lessons_dir ();
  if (dir == NULL)
    return g_strdup (arg);
  name = g_str_has_suffix (arg, ".lesson") ? g_strdup (arg) : g_strconcat (arg, ".lesson", NULL);
  path = g_build_filename (dir, name, NULL);
  if (g_file_test (path, G_FILE_TEST_EXISTS))
    return path;
  g_free (path);
  return g_strdup (arg);
}

/* ------------------------------------------------------------------------------------------ */
/* Printing                                                                                   */

/* Markdown as a terminal shows it: the text as written, minus the ** of bold. */
static void
print_wrapped (const char *text)
{
  g_auto(GStrv) parts = NULL;
  g_autofree char *plain = NULL;

  if (text == NULL || *text == '\0')
    return;
  parts = g_strsplit (text, "**", -1);
  plain = g_strjoinv ("", parts);
  printf ("%s\n\n", plain);
}

/* Explanations are one long line in the file (continuation lines are joined): wrap them. */
static void
print_paragraph (const char *prefix,
                 const char *text)
{
  g_auto(GStrv) words = g_strsplit (text, " ", -1);
  guint col = 0;

  if (prefix != NULL && *prefix != '\0')
    {
      fputs (prefix, stdout);
      col = strlen (prefix);
    }
  for (guint i = 0; words[i] != NULL; i++)
    {
      guint len = strlen (words[i]);

      if (len == 0)
        continue;
      if (col > 0 && col + 1 + len > 90)
        {
          putchar ('\n');
          col = 0;
        }
      else if (col > 0)
        {
          putchar (' ');
          col++;
        }
      fputs (words[i], stdout);
      col += len;
    }
  printf ("\n\n");
}

/*
 * A terminal has no inspector to click, so a highlighted header is printed: its line in the
 * last (up to three) messages sent so far that carry it.
 */
static void
print_header_lines (SimLessonRunner *runner,
                    const char      *name)
{
  SimTrace *trace = sim_world_get_trace (sim_lesson_runner_get_world (runner));
  g_autoptr(GPtrArray) found = g_ptr_array_new ();

  /* Only what the student has been shown: a header must not give a prediction away. */
  for (guint i = sim_lesson_runner_get_n_shown (runner); i > 0 && found->len < 3; i--)
    {
      SimEvent *e = sim_trace_get_event (trace, i - 1);
      g_autofree char *line = NULL;

      if (e->type != SIM_EVENT_PACKET || g_strcmp0 (e->action, "sent") != 0)
        continue;
      if ((line = sim_raw_header_line (e->raw, name)) != NULL)
        g_ptr_array_insert (found, 0, e);
    }
  for (guint i = 0; i < found->len; i++)
    {
      SimEvent *e = found->pdata[i];
      g_autofree char *label = sim_export_packet_label (e);
      g_autofree char *line = sim_raw_header_line (e->raw, name);
      g_autoptr(GString) t = g_string_new (NULL);

      sim_export_format_seconds (e->t, t);
      printf ("  %s -> %s, %s at t=%ss:\n      %s\n", e->from, e->to, label, t->str, line);
    }
}

static void
print_highlight (SimLessonRunner          *runner,
                 const SimLessonHighlight *h)
{
  switch (h->kind)
    {
    case SIM_LESSON_HIGHLIGHT_HEADER:
      printf ("Look at the %s header:\n", h->name);
      print_header_lines (runner, h->name);
      break;
    case SIM_LESSON_HIGHLIGHT_BINDING:
      printf ("Look at the binding %s%s%s ('state' lists them).\n", h->name, h->contact ? " -> " : "",
              h->contact ? h->contact : "");
      break;
    case SIM_LESSON_HIGHLIGHT_TIMER:
      printf ("Look at timer %s (the '~' lines).\n", h->name);
      break;
    case SIM_LESSON_HIGHLIGHT_NODE:
    default:
      printf ("Look at: %s\n", h->text);
      break;
    }
}

static void
print_events (SimLessonRunner *runner,
              guint            width)
{
  const SimLessonItem *item = sim_lesson_runner_get_item (runner);
  /* An item that highlights a timer shows the timer events too. */
  gboolean timers = item != NULL && sim_lesson_item_has_highlight (item, SIM_LESSON_HIGHLIGHT_TIMER);
  g_autoptr(GPtrArray) events = sim_lesson_runner_take_new_events (runner);
  g_autoptr(GPtrArray) shown = g_ptr_array_new ();
  g_autoptr(GString) out = g_string_new (NULL);
  SimScenario *scene = sim_lesson_get_scene (sim_lesson_runner_get_lesson (runner));
  g_autofree const char **nodes = g_new0 (const char *, scene->nodes->len + 1);
  SimExportOptions opts = { .nodes = nodes, .width = width, .show_timers = timers };
  gboolean any_packet = FALSE;

  /* Columns in the scene's order, so every ladder of the lesson lines up the same way. */
  for (guint i = 0; i < scene->nodes->len; i++)
    nodes[i] = ((SimScenarioNode *) scene->nodes->pdata[i])->name;
  for (guint i = 0; i < events->len; i++)
    {
      SimEvent *e = events->pdata[i];
      /* The lesson shows what a student can reason about: packets, bindings, nonces, calls. */
      if ((e->type == SIM_EVENT_TIMER && !timers) || e->type == SIM_EVENT_TRANSACTION ||
          e->type == SIM_EVENT_NODE)
        continue;
      any_packet |= e->type == SIM_EVENT_PACKET;
      g_ptr_array_add (shown, e);
    }
  if (shown->len == 0)
    return;
  if (!any_packet)
    {
      /* No message went anywhere: the ladder would be empty columns; list what happened. */
      for (guint i = 0; i < shown->len; i++)
        {
          SimEvent *e = shown->pdata[i];
          double t = SIM_TIME_TO_SECONDS (e->t);

          if (e->type == SIM_EVENT_ACTION)
            printf ("%10.3fs  >> %s\n", t, e->text ? e->text : "");
          else if (e->type == SIM_EVENT_NOTE)
            printf ("%10.3fs  # %s\n", t, e->text ? e->text : "");
          else
            printf ("%10.3fs  + %s %s%s%s%s%s%s%s\n", t, sim_event_type_name (e->type), e->action ? e->action : "",
                    e->node ? " at " : "", e->node ? e->node : "", e->aor ? " " : "", e->aor ? e->aor : "",
                    e->text ? ": " : "", e->text ? e->text : "");
        }
      printf ("\n");
      return;
    }
  sim_export_ladder (shown, out, &opts);
  fputs (out->str, stdout);
  printf ("\n");
}

static void
print_state (SimWorld *world)
{
  SimLocation *loc = sim_world_get_location (world);
  GPtrArray *phones = sim_world_get_phones (world);

  printf ("Location service (registrar's bindings):\n");
  if (loc != NULL)
    {
      g_autoptr(GPtrArray) aors = sim_location_list_aors (loc);
      guint total = 0;
      for (guint i = 0; i < aors->len; i++)
        {
          GPtrArray *b = sim_location_lookup (loc, aors->pdata[i]);
          for (guint k = 0; b != NULL && k < b->len; k++)
            {
              SimBinding *binding = b->pdata[k];
              gint64 left = (binding->expires_at - sim_world_now (world)) / G_USEC_PER_SEC;
              printf ("  %-24s -> %-28s %5" G_GINT64_FORMAT " s left  CSeq %u\n", binding->aor,
                      binding->contact, left, binding->cseq);
              total++;
            }
        }
      if (total == 0)
        printf ("  (none)\n");
    }
  else
    printf ("  (no registrar in this scene)\n");
  printf ("Phones:\n");
  for (guint i = 0; i < phones->len; i++)
    {
      SimPhone *phone = phones->pdata[i];
      printf ("  %-12s %-24s %-12s granted %u s, last CSeq %u, call %s%s\n", sim_phone_get_device (phone),
              sim_phone_get_aor (phone), sim_reg_state_name (sim_phone_get_reg_state (phone)),
              sim_phone_get_granted (phone), sim_phone_get_cseq (phone),
              sim_call_state_name (sim_phone_get_call_state (phone)),
              sim_phone_is_powered (phone) ? "" : " (powered off)");
    }
  printf ("\n");
}

static void
print_highlights (SimLessonRunner     *runner,
                  const SimLessonItem *item)
{
  for (guint i = 0; i < item->highlights->len; i++)
    print_highlight (runner, item->highlights->pdata[i]);
  if (item->highlights->len > 0)
    printf ("\n");
}

/* ------------------------------------------------------------------------------------------ */
/* lesson                                                                                     */

typedef struct {
  gboolean interactive;
  char **answers;          /* --answers, split; NULL when interactive */
  guint next_answer;
  GPtrArray *record;       /* lines for the summary */
  guint width;
} Session;

/* One line of input: the next --answers entry or a line from stdin.  NULL at the end. */
static char *
read_answer (Session    *s,
             const char *prompt)
{
  char buf[1024];

  if (!s->interactive)
    {
      if (s->answers == NULL || s->answers[s->next_answer] == NULL)
        return NULL;
      printf ("%s%s\n", prompt, s->answers[s->next_answer]);
      return g_strstrip (g_strdup (s->answers[s->next_answer++]));
    }
  printf ("%s", prompt);
  fflush (stdout);
  if (fgets (buf, sizeof buf, stdin) == NULL)
    {
      printf ("\n");
      return NULL;
    }
  return g_strstrip (g_strdup (buf));
}

static void
pause_for_enter (Session *s)
{
  char buf[256];

  if (!s->interactive)
    return;
  printf ("[Enter: continue]");
  fflush (stdout);
  if (fgets (buf, sizeof buf, stdin) == NULL)
    printf ("\n");
}

static const char *
item_label (const SimLessonItem *item)
{
  switch (item->kind)
    {
    case SIM_LESSON_PREDICT: return "Predict";
    case SIM_LESSON_CHOICE: return "Question";
    case SIM_LESSON_TASK: return "Task";
    case SIM_LESSON_STEP:
    default: return "Step";
    }
}

/* Help lines stay inside a 100-column terminal. */
#define TASK_HELP_WIDTH 96

/* The commands a task accepts, from the command table (sim-command.h), wrapped for a terminal. */
static char *
task_help_new (void)
{
  GString *help = g_string_new ("Give commands, one per line, as a scenario's actions say them:\n");
  gsize column = 0;

  for (guint v = 0; v < SIM_N_VERBS; v++)
    {
      const SimVerbInfo *info = sim_verb_get_info (v);
      gsize length = strlen (info->usage);

      if (!(info->places & SIM_COMMAND_IN_LESSON))
        continue;
      if (column > 0 && column + 3 + length > TASK_HELP_WIDTH)
        {
          g_string_append_c (help, '\n');
          column = 0;
        }
      g_string_append (help, column == 0 ? "  " : "   ");
      g_string_append (help, info->usage);
      column += (column == 0 ? 2 : 3) + length;
    }
  g_string_append (help, "\nOr: 'state' shows bindings and phones, 'hint', 'skip' shows the model "
                         "solution.\n");
  return g_string_free (help, FALSE);
}

/* Returns FALSE when the input ended (the student left the lesson). */
static gboolean
play_question (Session         *s,
               SimLessonRunner *runner,
               const SimLessonItem *item)
{
  for (;;)
    {
      g_autofree char *answer = NULL;
      g_autofree char *explanation = NULL;
      g_autoptr(GError) error = NULL;
      SimLessonAnswer result;

      answer = read_answer (s, "answer> ");
      if (answer == NULL)
        return FALSE;
      if (strcmp (answer, "state") == 0)
        {
          print_state (sim_lesson_runner_get_world (runner));
          continue;
        }
      result = sim_lesson_runner_answer (runner, answer, &explanation, &error);
      if (error != NULL)
        {
          fprintf (stderr, "siplab-cli lesson: %s\n", error->message);
          return FALSE;
        }
      if (result == SIM_LESSON_ANSWER_INVALID)
        {
          printf ("%s\n", explanation ? explanation : "Please answer the question.");
          if (!s->interactive)
            return FALSE;
          continue;
        }
      /* What happened first (for a prediction, the packet it was about), then the verdict. */
      printf ("\n");
      print_events (runner, s->width);
      print_paragraph (result == SIM_LESSON_ANSWER_CORRECT ? "Correct." : "Not quite.", explanation);
      g_ptr_array_add (s->record, g_strdup_printf ("%s: %s\n   your answer: %s (%s)", item_label (item),
                                                   item->title, answer,
                                                   result == SIM_LESSON_ANSWER_CORRECT ? "correct" : "incorrect"));
      return TRUE;
    }
}

static gboolean
play_task (Session             *s,
           SimLessonRunner     *runner,
           const SimLessonItem *item)
{
  g_autoptr(GString) given = g_string_new (NULL);
  gboolean done = FALSE;
  gboolean gave_up = FALSE;
  g_autofree char *help = task_help_new ();

  printf ("%s\n", help);
  if (!s->interactive)
    {
      /* One --answers entry: the commands separated by ';'. */
      g_autofree char *entry = read_answer (s, "task> ");
      g_auto(GStrv) parts = NULL;

      if (entry == NULL || *entry == '\0' || strcmp (entry, "skip") == 0)
        gave_up = TRUE;
      else
        {
          parts = g_strsplit (entry, ";", -1);
          for (guint i = 0; parts[i] != NULL; i++)
            {
              g_autoptr(GError) error = NULL;
              g_strstrip (parts[i]);
              if (parts[i][0] == '\0')
                continue;
              if (!sim_lesson_runner_command (runner, parts[i], &error))
                printf ("'%s': %s\n", parts[i], error->message);
              g_string_append_printf (given, "%s%s", given->len ? "; " : "", parts[i]);
            }
          print_events (runner, s->width);
          done = sim_lesson_runner_goal_met (runner, NULL);
          if (!done)
            gave_up = TRUE;
        }
    }
  while (s->interactive && !done && !gave_up)
    {
      g_autofree char *line = read_answer (s, "task> ");
      g_autoptr(GError) error = NULL;
      g_autofree char *why = NULL;

      if (line == NULL)
        return FALSE;
      if (*line == '\0')
        continue;
      if (strcmp (line, "state") == 0)
        {
          print_state (sim_lesson_runner_get_world (runner));
          continue;
        }
      if (strcmp (line, "hint") == 0)
        {
          print_paragraph ("Hint:", item->hint ? item->hint : "none for this one; look at 'state'.");
          continue;
        }
      if (strcmp (line, "help") == 0 || strcmp (line, "?") == 0)
        {
          printf ("%s\n", help);
          continue;
        }
      if (strcmp (line, "skip") == 0)
        {
          gave_up = TRUE;
          break;
        }
      if (!sim_lesson_runner_command (runner, line, &error))
        {
          printf ("That command did not work: %s\n", error->message);
          continue;
        }
      g_string_append_printf (given, "%s%s", given->len ? "; " : "", line);
      print_events (runner, s->width);
      done = sim_lesson_runner_goal_met (runner, &why);
      if (!done)
        printf ("%s\n", why);
    }

  if (done)
    printf ("\nDone: every goal holds.\n\n");
  else
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GString) sol = g_string_new (NULL);

      for (guint i = 0; i < item->solution->len; i++)
        g_string_append_printf (sol, "%s%s", i ? "; " : "", ((SimLessonLine *) item->solution->pdata[i])->text);
      printf ("\nNot done. A solution: %s\nThe lesson goes on from there:\n\n", sol->str);
      if (!sim_lesson_runner_give_up (runner, &error))
        {
          fprintf (stderr, "siplab-cli lesson: %s\n", error->message);
          return FALSE;
        }
      print_events (runner, s->width);
    }
  g_ptr_array_add (s->record, g_strdup_printf ("Task: %s\n   your commands: %s (%s)", item->title,
                                               given->len ? given->str : "(none)",
                                               done ? "goal met" : "not done"));
  return TRUE;
}

static gboolean
write_summary (const char       *path,
               SimLessonRunner  *runner,
               Session          *s,
               GError          **error)
{
  SimLesson *lesson = sim_lesson_runner_get_lesson (runner);
  g_autoptr(GString) out = g_string_new (NULL);
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  g_autofree char *date = g_date_time_format (now, "%Y-%m-%d %H:%M");
  guint n_tasks = 0;

  for (guint i = 0; i < sim_lesson_get_n_items (lesson); i++)
    if (sim_lesson_get_item (lesson, i)->kind == SIM_LESSON_TASK)
      n_tasks++;
  g_string_append_printf (out, "SIP Lab lesson summary\n\n");
  g_string_append_printf (out, "Lesson:    %s (%s)\n", sim_lesson_get_title (lesson), sim_lesson_get_id (lesson));
  g_string_append_printf (out, "Student:   %s (%s)\n", g_get_real_name (), g_get_user_name ());
  g_string_append_printf (out, "Date:      %s\n", date);
  g_string_append_printf (out, "Reached:   item %u of %u%s\n",
                          MIN (sim_lesson_runner_get_position (runner) + 1, sim_lesson_get_n_items (lesson)),
                          sim_lesson_get_n_items (lesson),
                          sim_lesson_runner_is_done (runner) ? " (finished)" : "");
  g_string_append_printf (out, "Questions: %u of %u right\n", sim_lesson_runner_get_n_correct (runner),
                          sim_lesson_get_n_questions (lesson));
  g_string_append_printf (out, "Tasks:     %u of %u done\n\n", sim_lesson_runner_get_n_tasks_done (runner), n_tasks);
  for (guint i = 0; i < s->record->len; i++)
    g_string_append_printf (out, "%u. %s\n", i + 1, (char *) s->record->pdata[i]);
  return g_file_set_contents (path, out->str, out->len, error);
}

/* How playing the items ended. */
typedef enum {
  PLAY_FINISHED,       /* every item was played */
  PLAY_LEFT,           /* the input ended: the student left the lesson */
  PLAY_BROKEN,         /* an item could not be entered: the lesson is wrong there */
} PlayOutcome;

static void
print_title_and_intro (SimLesson *lesson,
                       Session   *s)
{
  printf ("%s\n", sim_lesson_get_title (lesson));
  for (guint i = 0; i < strlen (sim_lesson_get_title (lesson)) && i < 100; i++)
    putchar ('=');
  printf ("\n\n");
  print_wrapped (sim_lesson_get_intro (lesson));
  if (s->interactive)
    printf ("(%u items. At a prompt, 'state' shows the registrar's bindings and the phones; "
            "Ctrl-D leaves; your progress is kept.)\n\n", sim_lesson_get_n_items (lesson));
}

/* Plays the entered @item: its text, what it produced, its question or task.  FALSE: they left. */
static gboolean
play_item (Session             *s,
           SimLessonRunner     *runner,
           const SimLessonItem *item)
{
  print_wrapped (item->text);
  print_events (runner, s->width);
  /* A prediction's highlights could give its answer away: they follow the answer. */
  if (item->kind != SIM_LESSON_PREDICT)
    print_highlights (runner, item);

  switch (item->kind)
    {
    case SIM_LESSON_PREDICT:
      printf ("Predict it: answer with %s.\n(The simulator then runs to the packet and checks: %s.)\n\n",
              sim_lesson_prediction_get_answer_hint (item->predict), item->predict->text);
      if (!play_question (s, runner, item))
        return FALSE;
      print_highlights (runner, item);
      return TRUE;
    case SIM_LESSON_CHOICE:
      {
        /* In this student's order (the runner shuffles by the world's seed): answers are the
         * letters shown here, not the keys in the file. */
        g_autoptr(GPtrArray) options = sim_lesson_runner_get_options (runner);

        for (guint i = 0; i < options->len; i++)
          {
            SimLessonOption *o = options->pdata[i];
            g_autofree char *letter = sim_lesson_runner_get_option_letter (runner, o->key);

            printf ("  %s) %s\n", letter, o->text);
          }
        printf ("\n");
        return play_question (s, runner, item);
      }
    case SIM_LESSON_TASK:
      return play_task (s, runner, item);
    case SIM_LESSON_STEP:
    default:
      pause_for_enter (s);
      return TRUE;
    }
}

static PlayOutcome
play_items (Session         *s,
            SimLessonRunner *runner)
{
  guint n = sim_lesson_get_n_items (sim_lesson_runner_get_lesson (runner));

  for (; !sim_lesson_runner_is_done (runner); sim_lesson_runner_next (runner))
    {
      const SimLessonItem *item = sim_lesson_runner_get_item (runner);
      g_autoptr(GError) error = NULL;

      printf ("--- %u/%u  %s: %s ---\n\n", sim_lesson_runner_get_position (runner) + 1, n,
              item_label (item), item->title);
      if (!sim_lesson_runner_enter (runner, &error))
        {
          /* The lesson file is wrong here; 'siplab-cli check' would have said so. */
          fprintf (stderr, "%s\n", error->message);
          return PLAY_BROKEN;
        }
      if (!play_item (s, runner, item))
        return PLAY_LEFT;
    }
  return PLAY_FINISHED;
}

/* What a run of `siplab-cli lesson` was asked for on its command line. */
typedef struct {
  char *answers;
  char *summary;
  gboolean no_progress;
  int width;
} LessonOptions;

static void
lesson_options_clear (LessonOptions *o)
{
  g_clear_pointer (&o->answers, g_free);
  g_clear_pointer (&o->summary, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (LessonOptions, lesson_options_clear)

/* Parses the options; what is left in @argv is the FILE.  Returns EXIT_OK or a usage error. */
static int
parse_lesson_options (int           *argc,
                      char        ***argv,
                      LessonOptions *o)
{
  const GOptionEntry entries[] = {
    { "answers", 'a', 0, G_OPTION_ARG_STRING, &o->answers,
      "Answer non-interactively: one entry per question or task, separated by ','; a task's "
      "commands separated by ';'", "A,B,..." },
    { "summary", 's', 0, G_OPTION_ARG_FILENAME, &o->summary,
      "Write a short hand-in summary to this file at the end", "OUT.txt" },
    { "no-progress", 0, 0, G_OPTION_ARG_NONE, &o->no_progress,
      "Do not record progress", NULL },
    { "width", 'w', 0, G_OPTION_ARG_INT, &o->width,
      "Ladder: maximum line width (default 120)", "COLUMNS" },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("FILE - play a lesson in the terminal");
  g_autoptr(GError) error = NULL;

  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_set_description (context,
    "FILE is a .lesson file or the name of a shipped lesson (see 'siplab-cli lessons').\n"
    "Each step prints its text and a ladder of the messages it produced; questions and\n"
    "tasks wait for an answer at the prompt.  Progress is kept in\n"
    "$XDG_DATA_HOME/siplab/progress.ini.");
  if (!g_option_context_parse (context, argc, argv, &error))
    return siplab_cli_usage_error ("lesson", "%s", error->message);
  if (*argc != 2)
    return siplab_cli_usage_error ("lesson", *argc < 2 ? "missing FILE" : "only one FILE, please");
  if (o->width < 0 || (o->width > 0 && o->width < 40))
    return siplab_cli_usage_error ("lesson", "--width must be at least 40");
  return EXIT_OK;
}

int
siplab_cli_lesson (int    argc,
                   char **argv)
{
  g_auto(LessonOptions) options = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(SimLesson) lesson = NULL;
  g_autoptr(SimLessonRunner) runner = NULL;
  g_autofree char *path = NULL;
  g_autoptr(GPtrArray) record = g_ptr_array_new_with_free_func (g_free);
  g_auto(GStrv) answer_list = NULL;
  Session s = { 0 };
  PlayOutcome outcome;
  int status;

  if ((status = parse_lesson_options (&argc, &argv, &options)) != EXIT_OK)
    return status;
  path = resolve_lesson (argv[1]);
  lesson = sim_lesson_parse_file (path, &error);
  if (lesson != NULL)
    runner = sim_lesson_runner_new (lesson, &error);
  if (runner == NULL)
    {
      fprintf (stderr, "%s\n", error->message);
      return EXIT_USAGE;
    }

  if (options.answers != NULL)
    answer_list = g_strsplit (options.answers, ",", -1);
  s.interactive = options.answers == NULL;
  s.answers = answer_list;
  s.record = record;
  s.width = options.width;

  print_title_and_intro (lesson, &s);
  outcome = play_items (&s, runner);
  if (sim_lesson_runner_is_done (runner))
    printf ("=== Lesson complete: %u of %u questions right, %u task%s done. ===\n",
            sim_lesson_runner_get_n_correct (runner), sim_lesson_get_n_questions (lesson),
            sim_lesson_runner_get_n_tasks_done (runner),
            sim_lesson_runner_get_n_tasks_done (runner) == 1 ? "" : "s");
  else if (outcome == PLAY_LEFT)
    printf ("(Left the lesson at item %u of %u.)\n", sim_lesson_runner_get_position (runner) + 1,
            sim_lesson_get_n_items (lesson));

  status = outcome == PLAY_BROKEN ? EXIT_FAILED : EXIT_OK;
  if (!options.no_progress && !sim_lesson_progress_record (NULL, runner, &error))
    {
      fprintf (stderr, "siplab-cli lesson: cannot save progress: %s\n", error->message);
      g_clear_error (&error);
    }
  if (options.summary != NULL)
    {
      if (!write_summary (options.summary, runner, &s, &error))
        {
          fprintf (stderr, "siplab-cli lesson: %s\n", error->message);
          status = EXIT_FAILED;
        }
      else
        printf ("Summary written to %s\n", options.summary);
    }
  /* Non-interactive runs that stop early (too few answers) are a failure a script should see. */
  if (!s.interactive && outcome == PLAY_LEFT)
    status = EXIT_FAILED;
  return status;
}

/* ------------------------------------------------------------------------------------------ */
/* check                                                                                      */

int
siplab_cli_check (int    argc,
                  char **argv)
{
  g_autoptr(GOptionContext) context =
    g_option_context_new ("FILE... - verify every claim of lessons in the simulator");
  g_autoptr(GError) error = NULL;
  guint n_failed = 0;

  g_option_context_set_description (context,
    "Plays every step with the answer keys and task solutions, and checks that each\n"
    "'run: until' happens, each predicted answer is what the simulator produces, each\n"
    "'expect:' and 'goal:' holds, and every highlighted header appears.  It also fails a\n"
    "task done by doing nothing (its goals come true with no command, waiting up to an\n"
    "hour) and a question whose answer is shown before it is asked (in the text, an\n"
    "option, an explanation or the ladder), and warns when most choice keys are the\n"
    "longest option or the same letter.  Exit status 1 when anything fails.");
  if (!g_option_context_parse (context, &argc, &argv, &error))
    return siplab_cli_usage_error ("check", "%s", error->message);
  if (argc < 2)
    return siplab_cli_usage_error ("check", "missing FILE");

  for (int i = 1; i < argc; i++)
    {
      g_autofree char *path = resolve_lesson (argv[i]);
      g_autoptr(SimLesson) lesson = NULL;
      g_auto(SimLessonReport) report = { 0 };
      g_autoptr(GError) local = NULL;
      gboolean ok;

      lesson = sim_lesson_parse_file (path, &local);
      if (lesson == NULL)
        {
          fprintf (stderr, "%s\n", local->message);
          printf ("%s: FAILED (does not parse)\n", argv[i]);
          n_failed++;
          continue;
        }
      ok = sim_lesson_check (lesson, &report);
      for (guint k = 0; k < report.warnings->len; k++)
        fprintf (stderr, "%s\n", (char *) report.warnings->pdata[k]);
      if (!ok)
        {
          for (guint k = 0; k < report.failures->len; k++)
            fprintf (stderr, "%s\n", (char *) report.failures->pdata[k]);
          printf ("%s: FAILED (%u problem%s)\n", argv[i], report.failures->len,
                  report.failures->len == 1 ? "" : "s");
          n_failed++;
          continue;
        }
      printf ("%s: %u step%s, %u question%s, %u task%s ok (%u claims verified)\n", argv[i],
              report.n_steps, report.n_steps == 1 ? "" : "s",
              report.n_questions, report.n_questions == 1 ? "" : "s",
              report.n_tasks, report.n_tasks == 1 ? "" : "s", report.n_claims);
    }
  fflush (stdout);
  return n_failed > 0 ? EXIT_FAILED : EXIT_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* lessons                                                                                    */

static int
compare_names (gconstpointer a,
               gconstpointer b)
{
  return strcmp (*(const char * const *) a, *(const char * const *) b);
}

int
siplab_cli_lessons (int    argc,
                    char **argv)
{
  g_autoptr(GOptionContext) context = g_option_context_new ("- list the shipped lessons and your progress");
  g_autoptr(GError) error = NULL;
  g_autofree char *dir_path = NULL;
  g_autoptr(GDir) dir = NULL;
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(SimLessonProgress) progress = NULL;
  const char *name;
  int status = EXIT_OK;

  if (!g_option_context_parse (context, &argc, &argv, &error))
    return siplab_cli_usage_error ("lessons", "%s", error->message);
  if (argc > 1)
    return siplab_cli_usage_error ("lessons", "unexpected argument '%s'", argv[1]);

  dir_path = find_lessons_dir ();
  if (dir_path == NULL || (dir = g_dir_open (dir_path, 0, &error)) == NULL)
    {
      fprintf (stderr, "siplab-cli lessons: no lessons directory found (set SIPLAB_LESSONS_DIR)\n");
      return EXIT_FAILED;
    }
  while ((name = g_dir_read_name (dir)) != NULL)
    if (g_str_has_suffix (name, ".lesson"))
      g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, compare_names);
  progress = sim_lesson_progress_load (NULL, &error);
  if (progress == NULL)
    {
      /* The list is still worth showing; the next lesson played writes the file anew. */
      fprintf (stderr, "siplab-cli lessons: ignoring your progress: %s\n", error->message);
      g_clear_error (&error);
      progress = sim_lesson_progress_new ();
    }

  printf ("Lessons in %s (play one with 'siplab-cli lesson NAME'):\n\n", dir_path);
  for (guint i = 0; i < names->len; i++)
    {
      g_autofree char *path = g_build_filename (dir_path, names->pdata[i], NULL);
      g_autoptr(SimLesson) lesson = sim_lesson_parse_file (path, &error);
      g_autoptr(SimLessonRecord) record = NULL;
      g_autofree char *mark = NULL;

      if (lesson == NULL)
        {
          fprintf (stderr, "%s\n", error->message);
          g_clear_error (&error);
          status = EXIT_FAILED;
          continue;
        }
      record = sim_lesson_progress_lookup (progress, sim_lesson_get_id (lesson));
      if (record != NULL && record->completed)
        mark = g_strdup_printf ("done, %u/%u right", record->best_correct,
                                sim_lesson_get_n_questions (lesson));
      else if (record != NULL)
        mark = g_strdup_printf ("reached %u/%u", record->reached + 1,
                                sim_lesson_get_n_items (lesson));
      printf ("  %-28s %s%s%s%s\n", sim_lesson_get_id (lesson), sim_lesson_get_title (lesson), mark ? "  [" : "", mark ? mark : "",
              mark ? "]" : "");
    }
  return status;
}
