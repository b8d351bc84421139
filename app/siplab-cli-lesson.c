/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "siplab-cli-lesson.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim-command.h"
#include "sim-export.h"
#include "sim-lesson.h"
#include "sim-lesson-handin.h"
#include "sim-lesson-progress.h"
#include "sim-lesson-student.h"
#include "sim-message.h"
#include "siplab-cli-common.h"
#include "siplab-cli-text.h"

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

/*
 * The shipped lessons: $SIPLAB_LESSONS_DIR, the installation this program belongs to (wherever
 * it was unpacked), the source tree's (a build), then the configured installed path.
 */
static char *
find_lessons_dir (void)
{
  const char *env = g_getenv ("SIPLAB_LESSONS_DIR");
  const char *candidates[4] = { NULL };
  char *installed;
  guint n = 0;

  if (env != NULL && *env != '\0')
    return g_strdup (env);
  installed = siplab_cli_installed_data_path ("lessons");
  if (installed != NULL)
    return installed;
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

/* Narrative as a terminal shows it: its own line breaks, markup rendered (siplab-cli-text.h). */
static void
print_wrapped (const char *text)
{
  siplab_cli_text_print_block (text);
}

/* Explanations wrap at this many columns: a little narrower than the narrative's source lines. */
#define PARAGRAPH_WIDTH 90

/* Explanations are one long line in the file (continuation lines are joined): wrap them. */
static void
print_paragraph (const char *prefix,
                 const char *text)
{
  siplab_cli_text_print_paragraph (prefix, text, PARAGRAPH_WIDTH);
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
      g_autofree char *t = sim_export_time_string (e->t);

      printf ("  %s -> %s, %s at %s:\n      %s\n", e->from, e->to, label, t, line);
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
      {
        g_autofree char *text = siplab_cli_text_render (h->text, siplab_cli_text_get_ansi ());

        printf ("Look at: %s\n", text);
      }
      break;
    }
}

/*
 * What happened when no message went anywhere (the ladder would be empty columns): one line
 * an event, the time as the ladder writes it.
 */
static void
print_event_list (GPtrArray *shown)
{
  for (guint i = 0; i < shown->len; i++)
    {
      SimEvent *e = shown->pdata[i];
      g_autofree char *t = sim_export_time_string (e->t);

      if (e->type == SIM_EVENT_ACTION)
        printf ("%9s  >> %s\n", t, e->text ? e->text : "");
      else if (e->type == SIM_EVENT_NOTE)
        printf ("%9s  # %s\n", t, e->text ? e->text : "");
      else
        printf ("%9s  + %s %s%s%s%s%s%s%s\n", t, sim_event_type_name (e->type),
                e->action ? e->action : "", e->node ? " at " : "", e->node ? e->node : "",
                e->aor ? " " : "", e->aor ? e->aor : "", e->text ? ": " : "",
                e->text ? e->text : "");
    }
  printf ("\n");
}

/* @explained: the reasons already given this lesson (SimExportOptions), NULL for all. */
static void
print_events (SimLessonRunner *runner,
              guint            width,
              GHashTable      *explained)
{
  const SimLessonItem *item = sim_lesson_runner_get_item (runner);
  /* An item that highlights a timer shows the timer events too. */
  gboolean timers = item != NULL && sim_lesson_item_has_highlight (item, SIM_LESSON_HIGHLIGHT_TIMER);
  g_autoptr(GPtrArray) events = sim_lesson_runner_take_new_events (runner);
  g_autoptr(GPtrArray) shown = g_ptr_array_new ();
  g_autoptr(GString) out = g_string_new (NULL);
  SimScenario *scene = sim_lesson_get_scene (sim_lesson_runner_get_lesson (runner));
  g_autofree const char **nodes = g_new0 (const char *, scene->nodes->len + 1);
  SimExportOptions opts = { .nodes = nodes, .width = width, .show_timers = timers,
                            .explained = explained };
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
      print_event_list (shown);
      return;
    }
  sim_export_ladder (shown, out, &opts);
  fputs (out->str, stdout);
  printf ("\n");
}

static int
compare_users (const void *a,
               const void *b)
{
  return strcmp (*(const char * const *) a, *(const char * const *) b);
}

/* "alice -> 10.0.0.11:5060, carol -> 10.0.0.13:5060": a phone's address book, sorted by user. */
static char *
address_book_text (SimPhone *phone)
{
  GHashTable *book = sim_phone_get_address_book (phone);
  g_autofree const char **users = NULL;
  GString *text = g_string_new (NULL);
  guint n = 0;

  if (book == NULL || g_hash_table_size (book) == 0)
    {
      g_string_append (text, "(empty)");
      return g_string_free (text, FALSE);
    }
  users = (const char **) g_hash_table_get_keys_as_array (book, &n);
  qsort (users, n, sizeof *users, compare_users);
  for (guint i = 0; i < n; i++)
    g_string_append_printf (text, "%s%s -> %s", i ? ", " : "", users[i],
                            (const char *) g_hash_table_lookup (book, users[i]));
  return g_string_free (text, FALSE);
}

/*
 * Point-to-point mode has no registrar: what decides where a call goes is each phone's own
 * address book, and where each phone really is.  Showing both side by side is the lesson.
 */
static void
print_p2p_state (SimWorld *world)
{
  GPtrArray *phones = sim_world_get_phones (world);

  printf ("Point-to-point: no registrar; a phone calls a user at the address in its own "
          "address book.\n");
  printf ("Phones (where each one is now) and their address books:\n");
  for (guint i = 0; i < phones->len; i++)
    {
      SimPhone *phone = phones->pdata[i];
      const char *contact = sim_phone_get_contact (phone);
      const char *at = contact != NULL && strchr (contact, '@') ? strchr (contact, '@') + 1 : "?";
      g_autofree char *book = address_book_text (phone);

      printf ("  %-12s at %-18s call %s%s\n      address book: %s\n",
              sim_phone_get_device (phone), at,
              sim_call_state_name (sim_phone_get_call_state (phone)),
              sim_phone_is_powered (phone) ? "" : " (powered off)", book);
    }
  printf ("\n");
}

static void
print_state (SimWorld *world)
{
  SimLocation *loc = sim_world_get_location (world);
  GPtrArray *phones = sim_world_get_phones (world);

  if (sim_world_get_mode (world) == SIM_MODE_P2P)
    {
      print_p2p_state (world);
      return;
    }
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
  guint width;
  GHashTable *explained;   /* reasons the ladders gave already; NULL with --verbose */
  gboolean record_progress;  /* progress.ini is written after each item */
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

/*
 * Waits for Enter after a step.  'state' (and 'help') typed here answer and wait again: a
 * student looking at the world before going on must not lose the step they were reading.
 */
static void
pause_for_enter (Session         *s,
                 SimLessonRunner *runner)
{
  char buf[256];

  if (!s->interactive)
    return;
  for (;;)
    {
      printf ("[Enter: continue]");
      fflush (stdout);
      if (fgets (buf, sizeof buf, stdin) == NULL)
        {
          printf ("\n");
          return;
        }
      g_strstrip (buf);
      if (strcmp (buf, "state") == 0)
        print_state (sim_lesson_runner_get_world (runner));
      else if (strcmp (buf, "help") == 0 || strcmp (buf, "?") == 0)
        printf ("Enter goes on to the next item; 'state' shows the bindings (or address books) and "
                "the phones; Ctrl-D leaves (your progress is kept).\n");
      else
        return;
    }
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
  g_string_append (help, "\nOr: 'state' shows bindings (or address books) and phones, 'hint', "
                         "'skip' shows the model solution.\n");
  return g_string_free (help, FALSE);
}

/* 'skip' at a question: the key is played, and the question counts as skipped. */
static gboolean
skip_question (Session         *s,
               SimLessonRunner *runner)
{
  g_autofree char *explanation = NULL;
  g_autoptr(GError) error = NULL;

  if (!sim_lesson_runner_skip_question (runner, &explanation, &error))
    {
      fprintf (stderr, "siplab-cli lesson: %s\n", error->message);
      return FALSE;
    }
  printf ("\n");
  print_events (runner, s->width, s->explained);
  print_paragraph ("Skipped.", explanation);
  return TRUE;
}

/* Hints escalate: the task's "hint:" lines in order, a nudge first, then the solution. */
static void
print_hint (SimLessonRunner *runner)
{
  guint level = 0, n_levels = 0;
  g_autofree char *hint = sim_lesson_runner_take_hint (runner, &level, &n_levels);
  g_autofree char *label = NULL;

  if (hint == NULL)
    {
      printf ("No more hints: the solution was the last one. 'skip' plays it.\n\n");
      return;
    }
  label = g_strdup_printf ("Hint %u of %u:", level, n_levels);
  print_paragraph (label, hint);
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
      if (strcmp (answer, "skip") == 0)
        return skip_question (s, runner);
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
      print_events (runner, s->width, s->explained);
      print_paragraph (result == SIM_LESSON_ANSWER_CORRECT ? "Correct." : "Not quite.", explanation);
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
          print_events (runner, s->width, s->explained);
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
          print_hint (runner);
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
      print_events (runner, s->width, s->explained);
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
      print_events (runner, s->width, s->explained);
    }
  return TRUE;
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
  g_autofree char *title = siplab_cli_text_render (sim_lesson_get_title (lesson),
                                                   siplab_cli_text_get_ansi ());

  printf ("%s\n", title);
  for (gsize i = 0; i < siplab_cli_text_width (title) && i < 100; i++)
    putchar ('=');
  printf ("\n\n");
  print_wrapped (sim_lesson_get_intro (lesson));
  if (s->interactive)
    printf ("(%u items. At a prompt, 'state' shows the registrar's bindings (or the address "
            "books) and the phones; "
            "Ctrl-D leaves; your progress is kept.)\n\n", sim_lesson_get_n_items (lesson));
}

/* What a question gives the student to compute its answer from (a digest response's inputs). */
static void
print_givens (SimLessonRunner *runner)
{
  g_autofree char *givens = sim_lesson_runner_get_givens (runner);

  if (givens == NULL)
    return;
  printf ("What the phone sends, the response hidden (compute it from these and the password):\n"
          "  %s\n\n", givens);
}

/* Plays the entered @item: its text, what it produced, its question or task.  FALSE: they left. */
static gboolean
play_item (Session             *s,
           SimLessonRunner     *runner,
           const SimLessonItem *item)
{
  print_wrapped (item->text);
  print_events (runner, s->width, s->explained);
  /* A prediction's highlights could give its answer away: they follow the answer. */
  if (item->kind != SIM_LESSON_PREDICT)
    print_highlights (runner, item);

  switch (item->kind)
    {
    case SIM_LESSON_PREDICT:
      print_givens (runner);
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
            g_autofree char *text = siplab_cli_text_render (o->text, siplab_cli_text_get_ansi ());

            printf ("  %s) %s\n", letter, text);
          }
        printf ("\n");
        return play_question (s, runner, item);
      }
    case SIM_LESSON_TASK:
      return play_task (s, runner, item);
    case SIM_LESSON_STEP:
    default:
      pause_for_enter (s, runner);
      return TRUE;
    }
}

/* Saves where the student is; a failure is said once, and the lesson goes on. */
static void
record_progress (Session         *s,
                 SimLessonRunner *runner)
{
  g_autoptr(GError) error = NULL;

  if (!s->record_progress || sim_lesson_progress_record (NULL, runner, &error))
    return;
  fprintf (stderr, "siplab-cli lesson: cannot save progress: %s\n", error->message);
  s->record_progress = FALSE;
}

static PlayOutcome
play_items (Session         *s,
            SimLessonRunner *runner)
{
  guint n = sim_lesson_get_n_items (sim_lesson_runner_get_lesson (runner));

  while (!sim_lesson_runner_is_done (runner))
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
      sim_lesson_runner_next (runner);
      /* After each item, so a lesson left any way at all resumes at the next one. */
      record_progress (s, runner);
    }
  return PLAY_FINISHED;
}

/* What a run of `siplab-cli lesson` was asked for on its command line. */
typedef struct {
  char *answers;
  char *summary;
  char *student;
  char *class_key;
  gint64 seed;
  gboolean no_progress;
  gboolean verbose;
  gboolean restart;
  int width;
} LessonOptions;

static void
lesson_options_clear (LessonOptions *o)
{
  g_clear_pointer (&o->answers, g_free);
  g_clear_pointer (&o->summary, g_free);
  g_clear_pointer (&o->student, g_free);
  g_clear_pointer (&o->class_key, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (LessonOptions, lesson_options_clear)

/* Parses the options; what is left in @argv is the FILE.  Returns EXIT_OK or a usage error. */
static int
parse_lesson_options (int           *argc,
                      char        ***argv,
                      LessonOptions *o)
{
  const GOptionEntry entries[] = {
    { "student", 0, 0, G_OPTION_ARG_STRING, &o->student,
      "Play NAME's own exercise: the seed comes from the name and the lesson, so nonces, "
      "passwords, addresses and numbers are NAME's; the hand-in names NAME", "NAME" },
    { "answers", 'a', 0, G_OPTION_ARG_STRING, &o->answers,
      "Answer non-interactively: one entry per question or task, separated by ','; a task's "
      "commands separated by ';'", "A,B,..." },
    { "summary", 's', 0, G_OPTION_ARG_FILENAME, &o->summary,
      "Write the hand-in to this file at the end (needs --student; signed with the class key)",
      "OUT.handin" },
    { "class-key", 0, 0, G_OPTION_ARG_FILENAME, &o->class_key,
      "The class key that signs the hand-in (default: $SIPLAB_CLASS_KEY)", "FILE" },
    { "restart", 0, 0, G_OPTION_ARG_NONE, &o->restart,
      "Start over at the first item instead of resuming where progress says", NULL },
    { "seed", 0, 0, G_OPTION_ARG_INT64, &o->seed,
      "Play the exercise of this seed (what 'check' names when a seed fails)", "N" },
    { "no-progress", 0, 0, G_OPTION_ARG_NONE, &o->no_progress,
      "Do not record progress (nor resume)", NULL },
    { "width", 'w', 0, G_OPTION_ARG_INT, &o->width,
      "Ladder: maximum line width (default 120)", "COLUMNS" },
    { "verbose", 'v', 0, G_OPTION_ARG_NONE, &o->verbose,
      "Ladder: explain every event (by default each explanation is given once a lesson)", NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("FILE - play a lesson in the terminal");
  g_autoptr(GError) error = NULL;

  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_set_description (context,
    "FILE is a .lesson file or the name of a shipped lesson (see 'siplab-cli lessons').\n"
    "Each step prints its text and a ladder of the messages it produced; questions and\n"
    "tasks wait for an answer at the prompt ('skip' plays the key, 'hint' at a task gives\n"
    "a nudge first and the solution last).  Progress is kept in\n"
    "$XDG_DATA_HOME/siplab/progress.ini; an interactive lesson resumes where it was left.");
  if (!g_option_context_parse (context, argc, argv, &error))
    return siplab_cli_usage_error ("lesson", "%s", error->message);
  if (*argc != 2)
    return siplab_cli_usage_error ("lesson", *argc < 2 ? "missing FILE" : "only one FILE, please");
  if (o->width < 0 || (o->width > 0 && o->width < 40))
    return siplab_cli_usage_error ("lesson", "--width must be at least 40");
  if (o->seed < 0 || o->seed > G_MAXUINT32)
    return siplab_cli_usage_error ("lesson", "--seed is 1 to %u", G_MAXUINT32);
  if (o->seed != 0 && o->student != NULL)
    return siplab_cli_usage_error ("lesson", "--seed or --student, not both (a student's seed "
                                   "comes from the name)");
  if (o->summary != NULL && o->student == NULL)
    return siplab_cli_usage_error ("lesson", "--summary needs --student NAME: a hand-in names "
                                   "its student");
  return EXIT_OK;
}

/* The lesson as the options ask: a student's exercise, a seed's, or as written. */
static SimLesson *
open_lesson (const char           *path,
             const LessonOptions  *o,
             GError              **error)
{
  if (o->student != NULL)
    return sim_lesson_parse_file_for_student (path, o->student, error);
  return sim_lesson_parse_file_for_seed (path, (guint32) o->seed, error);
}

/* An interactive session picks up where the last one of the same exercise stopped. */
static void
maybe_resume (Session             *s,
              SimLessonRunner     *runner,
              const LessonOptions *o)
{
  g_autoptr(GError) error = NULL;
  SimLesson *lesson = sim_lesson_runner_get_lesson (runner);

  if (!s->interactive || o->no_progress || o->restart)
    return;
  if (sim_lesson_progress_resume (NULL, runner, &error))
    printf ("(Resuming at item %u of %u, where you left it; --restart starts over.)\n\n",
            sim_lesson_runner_get_position (runner) + 1, sim_lesson_get_n_items (lesson));
  else if (error != NULL)
    fprintf (stderr, "siplab-cli lesson: starting over: %s\n", error->message);
}

/* The hand-in, signed with the class key when there is one. */
static gboolean
write_summary (const char           *path,
               SimLessonRunner      *runner,
               const LessonOptions  *o,
               GError              **error)
{
  const char *key_path = o->class_key ? o->class_key : g_getenv ("SIPLAB_CLASS_KEY");
  g_autoptr(SimClassKey) key = NULL;
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *text = NULL;

  if (key_path != NULL && *key_path != '\0' && (key = sim_class_key_load (key_path, error)) == NULL)
    return FALSE;
  text = sim_lesson_handin_write (runner, g_get_user_name (), now, key);
  if (!g_file_set_contents (path, text, -1, error))
    return FALSE;
  if (key != NULL)
    printf ("Hand-in for %s written to %s (signed, class key %s).\n", o->student, path, key->id);
  else
    printf ("Hand-in for %s written to %s, NOT signed: no class key (--class-key FILE or "
            "$SIPLAB_CLASS_KEY), so grading will flag it.\n", o->student, path);
  return TRUE;
}

static void
print_ending (SimLessonRunner *runner,
              PlayOutcome      outcome)
{
  SimLesson *lesson = sim_lesson_runner_get_lesson (runner);

  if (sim_lesson_runner_is_done (runner))
    printf ("=== Lesson complete: %u of %u questions right, %u task%s done. ===\n",
            sim_lesson_runner_get_n_correct (runner), sim_lesson_get_n_questions (lesson),
            sim_lesson_runner_get_n_tasks_done (runner),
            sim_lesson_runner_get_n_tasks_done (runner) == 1 ? "" : "s");
  else if (outcome == PLAY_LEFT)
    printf ("(Left the lesson at item %u of %u.)\n", sim_lesson_runner_get_position (runner) + 1,
            sim_lesson_get_n_items (lesson));
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
  g_auto(GStrv) answer_list = NULL;
  g_autoptr(GHashTable) explained = NULL;
  Session s = { 0 };
  PlayOutcome outcome;
  int status;

  if ((status = parse_lesson_options (&argc, &argv, &options)) != EXIT_OK)
    return status;
  siplab_cli_text_set_ansi (siplab_cli_text_detect_ansi ());
  /* Brief by default: the RFC prose of a challenge or a binding once a lesson, not once a phone. */
  if (!options.verbose)
    explained = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  path = resolve_lesson (argv[1]);
  lesson = open_lesson (path, &options, &error);
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
  s.width = options.width;
  s.explained = explained;
  s.record_progress = !options.no_progress;

  print_title_and_intro (lesson, &s);
  if (options.student != NULL)
    printf ("(%s's own exercise: seed %u.)\n\n", options.student, sim_lesson_get_seed (lesson));
  maybe_resume (&s, runner, &options);
  outcome = play_items (&s, runner);
  print_ending (runner, outcome);

  status = outcome == PLAY_BROKEN ? EXIT_FAILED : EXIT_OK;
  record_progress (&s, runner);
  if (options.summary != NULL && !write_summary (options.summary, runner, &options, &error))
    {
      fprintf (stderr, "siplab-cli lesson: %s\n", error->message);
      status = EXIT_FAILED;
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
  int n_seeds = SIM_LESSON_CHECK_DEFAULT_SEEDS;
  const GOptionEntry entries[] = {
    { "seeds", 0, 0, G_OPTION_ARG_INT, &n_seeds,
      "Also play N students' exercises (default " G_STRINGIFY (SIM_LESSON_CHECK_DEFAULT_SEEDS)
      "; 0: only the lesson as written)", "N" },
    { NULL }
  };

  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_set_description (context,
    "Plays every step with the answer keys and task solutions, and checks that each\n"
    "'run: until' happens, each predicted answer is what the simulator produces, each\n"
    "'expect:' and 'goal:' holds, and every highlighted header appears.  It also fails a\n"
    "task done by doing nothing (its goals come true with no command, waiting up to an\n"
    "hour) and a question whose answer is shown before it is asked (in the text, an\n"
    "option, an explanation or the ladder), and warns when most choice keys are the\n"
    "longest option or the same letter.  Every key must hold for every student: the lesson\n"
    "is also played for --seeds students' seeds (their nonces, 'vary:' values...).\n"
    "Exit status 1 when anything fails, 2 on a syntax error.");
  if (!g_option_context_parse (context, &argc, &argv, &error))
    return siplab_cli_usage_error ("check", "%s", error->message);
  if (n_seeds < 0 || n_seeds > SIM_LESSON_CHECK_MAX_SEEDS)
    return siplab_cli_usage_error ("check", "--seeds is 0 to %d", SIM_LESSON_CHECK_MAX_SEEDS);
  if (argc < 2)
    return siplab_cli_usage_error ("check", "missing FILE");

  for (int i = 1; i < argc; i++)
    {
      g_autofree char *path = resolve_lesson (argv[i]);
      g_autoptr(SimLesson) lesson = NULL;
      g_auto(SimLessonReport) report = { 0 };
      g_autoptr(GError) local = NULL;
      g_autofree char *seeds = NULL;
      gboolean ok;

      lesson = sim_lesson_parse_file (path, &local);
      if (lesson == NULL)
        {
          fprintf (stderr, "%s\n", local->message);
          printf ("%s: FAILED (does not parse)\n", argv[i]);
          n_failed++;
          continue;
        }
      ok = sim_lesson_check_seeds (path, n_seeds, &report);
      for (guint k = 0; report.warnings != NULL && k < report.warnings->len; k++)
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
      seeds = n_seeds > 0 ? g_strdup_printf (", and for %d students' seeds", n_seeds) : g_strdup ("");
      printf ("%s: %u step%s, %u question%s, %u task%s ok (%u claims verified%s)\n", argv[i],
              report.n_steps, report.n_steps == 1 ? "" : "s",
              report.n_questions, report.n_questions == 1 ? "" : "s",
              report.n_tasks, report.n_tasks == 1 ? "" : "s", report.n_claims, seeds);
    }
  fflush (stdout);
  return n_failed > 0 ? EXIT_FAILED : EXIT_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* lessons                                                                                    */

/* The lesson authors copy (lessons/README.md): it sits beside the lessons but is not one. */
#define LESSON_TEMPLATE_NAME "TEMPLATE.lesson"

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
    if (g_str_has_suffix (name, ".lesson") && strcmp (name, LESSON_TEMPLATE_NAME) != 0)
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
