/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "siplab-cli-grade.h"

#include <stdio.h>
#include <string.h>

#include "sim-lesson-handin.h"
#include "sim-lesson-student.h"
#include "siplab-cli-common.h"
#include "sim-i18n.h"

/*
 * The teacher's side: `class init` makes the key that signs hand-ins, `grade` verifies a class's
 * hand-ins against it and prints, per lesson and per question, how the class did.  A hand-in
 * that is unsigned, signed with another key, edited after signing, or whose seed is not its
 * student's is listed with the reason and left out of the statistics.
 */

enum {
  EXIT_OK = 0,
  EXIT_FLAGGED = 1,
  EXIT_USAGE = SIPLAB_CLI_EXIT_USAGE,
};

/* Titles and answers are cut to this many characters in the table (not in the CSV). */
#define TITLE_WIDTH 34
#define ANSWER_WIDTH 16

/* ------------------------------------------------------------------------------------------ */
/* class init                                                                                 */

int
siplab_cli_class (int    argc,
                  char **argv)
{
  g_autofree char *out = NULL;
  const GOptionEntry entries[] = {
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out, N_("Where to write the key (default class.key)"),
      N_("FILE") },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new (_("init - make a class key for signing hand-ins"));
  g_autoptr(GError) error = NULL;
  g_autoptr(SimClassKey) key = NULL;

  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_set_description (context,
    _("Writes a new random key (mode 0600; an existing file is never overwritten).  Students'\n"
      "siplab signs hand-ins with it (siplab-cli lesson --class-key FILE, or $SIPLAB_CLASS_KEY);\n"
      "'siplab-cli grade FILE HANDIN...' verifies them.  Whoever can read the key can sign\n"
      "anything: install it where students cannot read it."));
  if (!g_option_context_parse (context, &argc, &argv, &error))
    return siplab_cli_usage_error ("class", "%s", error->message);
  if (argc != 2 || strcmp (argv[1], "init") != 0)
    return siplab_cli_usage_error ("class", argc < 2 ? _("missing 'init'") : _("unknown '%s' (only 'init')"),
                                   argc < 2 ? "" : argv[1]);
  if (out == NULL)
    out = g_strdup ("class.key");
  key = sim_class_key_new_random (&error);
  if (key == NULL || !sim_class_key_save (key, out, &error))
    {
      fprintf (stderr, "siplab-cli class: %s\n", error->message);
      return EXIT_FLAGGED;
    }
  printf (_("Class key %s written to %s (mode 0600).\n"
            "Students: siplab-cli lesson LESSON --student NAME --summary OUT.handin --class-key %s\n"
            "Grading:  siplab-cli grade %s *.handin\n"), key->id, out, out, out);
  return EXIT_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* Statistics                                                                                 */

typedef struct {
  SimLessonItemKind kind;
  char *title;
  guint reached;
  guint correct;
  guint incorrect;
  guint skipped;
  guint hints;
  guint attempts;
  GHashTable *wrong;         /* wrong answer -> count (GUINT_TO_POINTER) */
} ItemStats;

typedef struct {
  char *lesson;
  char *title;
  guint n_handins;
  GPtrArray *items;          /* ItemStats*, index = item */
} LessonStats;

static void
item_stats_free (ItemStats *st)
{
  g_free (st->title);
  g_hash_table_unref (st->wrong);
  g_free (st);
}

static void
lesson_stats_free (LessonStats *ls)
{
  g_free (ls->lesson);
  g_free (ls->title);
  g_ptr_array_unref (ls->items);
  g_free (ls);
}

static void
add_item (ItemStats                 *st,
          const SimLessonHandinItem *item)
{
  const SimLessonAttempt *a = &item->attempt;

  if (a->result == SIM_LESSON_RESULT_NONE && a->attempts == 0 && a->hints == 0)
    return;
  st->reached++;
  st->hints += a->hints;
  st->attempts += a->attempts;
  if (a->result == SIM_LESSON_RESULT_CORRECT)
    st->correct++;
  else if (a->result == SIM_LESSON_RESULT_SKIPPED)
    st->skipped++;
  else if (a->result == SIM_LESSON_RESULT_INCORRECT)
    {
      g_autofree char *key = g_utf8_casefold (a->answer ? a->answer : "", -1);
      guint n = GPOINTER_TO_UINT (g_hash_table_lookup (st->wrong, key));

      st->incorrect++;
      g_hash_table_insert (st->wrong, g_steal_pointer (&key), GUINT_TO_POINTER (n + 1));
    }
}

static void
add_handin (GPtrArray             *lessons,
            const SimLessonHandin *h)
{
  LessonStats *ls = NULL;

  for (guint i = 0; i < lessons->len && ls == NULL; i++)
    if (strcmp (((LessonStats *) lessons->pdata[i])->lesson, h->lesson) == 0)
      ls = lessons->pdata[i];
  if (ls == NULL)
    {
      ls = g_new0 (LessonStats, 1);
      ls->lesson = g_strdup (h->lesson);
      ls->title = g_strdup (h->title ? h->title : "");
      ls->items = g_ptr_array_new_with_free_func ((GDestroyNotify) item_stats_free);
      g_ptr_array_add (lessons, ls);
    }
  ls->n_handins++;
  for (guint i = 0; i < h->items->len; i++)
    {
      const SimLessonHandinItem *item = h->items->pdata[i];
      ItemStats *st;

      while (ls->items->len <= i)
        {
          st = g_new0 (ItemStats, 1);
          st->wrong = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
          g_ptr_array_add (ls->items, st);
        }
      st = ls->items->pdata[i];
      if (st->title == NULL)
        {
          st->title = g_strdup (item->title);
          st->kind = item->kind;
        }
      add_item (st, item);
    }
}

/* The most common wrong answer and how often it was given; NULL when there was none. */
static const char *
top_wrong (const ItemStats *st,
           guint           *count)
{
  GHashTableIter iter;
  gpointer key, value;
  const char *best = NULL;

  *count = 0;
  g_hash_table_iter_init (&iter, st->wrong);
  while (g_hash_table_iter_next (&iter, &key, &value))
    if (GPOINTER_TO_UINT (value) > *count ||
        (GPOINTER_TO_UINT (value) == *count && best != NULL && strcmp (key, best) < 0))
      {
        best = key;
        *count = GPOINTER_TO_UINT (value);
      }
  return best;
}

/* ------------------------------------------------------------------------------------------ */
/* Output                                                                                     */

/* Text for a terminal: no control characters (no escape sequences from a hand-in), cut. */
static char *
plain (const char *text,
       guint       width)
{
  g_autoptr(GString) s = g_string_new (NULL);
  guint n = 0;

  for (const char *c = text ? text : ""; *c != '\0' && n < width; c = g_utf8_next_char (c), n++)
    {
      gunichar u = g_utf8_get_char (c);
      if (g_unichar_iscntrl (u))
        g_string_append_c (s, '?');
      else
        g_string_append_unichar (s, u);
    }
  if (text != NULL && g_utf8_strlen (text, -1) > width && n > 0)
    {
      g_string_truncate (s, g_utf8_offset_to_pointer (s->str, width - 1) - s->str);
      g_string_append (s, "…");
    }
  return g_string_free (g_steal_pointer (&s), FALSE);
}

/* Pads @text to @width characters (printf counts bytes, not characters). */
static void
put_padded (GString    *out,
            const char *text,
            guint       width)
{
  glong n = g_utf8_strlen (text, -1);

  g_string_append (out, text);
  for (glong i = n; i < (glong) width; i++)
    g_string_append_c (out, ' ');
}

/* A CSV field (RFC 4180); one that starts like a formula is defused for spreadsheets. */
static void
put_csv (GString    *out,
         const char *text,
         gboolean    last)
{
  const char *t = text ? text : "";
  gboolean formula = strchr ("=+-@\t\r", t[0]) != NULL && t[0] != '\0';

  g_string_append_c (out, '"');
  if (formula)
    g_string_append_c (out, '\'');
  for (const char *c = t; *c != '\0'; c++)
    {
      if (*c == '"')
        g_string_append_c (out, '"');
      g_string_append_c (out, *c);
    }
  g_string_append (out, last ? "\"\n" : "\",");
}

static void
print_table (GPtrArray *lessons)
{
  for (guint l = 0; l < lessons->len; l++)
    {
      LessonStats *ls = lessons->pdata[l];
      g_autofree char *title = plain (ls->title, 60);

      printf (ngettext ("\n%s: %s (%u hand-in)\n", "\n%s: %s (%u hand-ins)\n", ls->n_handins),
              ls->lesson, title, ls->n_handins);
      /* TRANSLATORS: the column heads of grade's table; keep each as wide as its column. */
      printf (_("  #   kind     %-*s reached  right  wrong  skipped  hints  tries/each  most common wrong\n"),
              TITLE_WIDTH, _("title"));
      for (guint i = 0; i < ls->items->len; i++)
        {
          ItemStats *st = ls->items->pdata[i];
          g_autoptr(GString) line = g_string_new (NULL);
          g_autofree char *t = plain (st->title, TITLE_WIDTH);
          guint n_wrong;
          const char *wrong = top_wrong (st, &n_wrong);
          g_autofree char *w = wrong ? plain (wrong, ANSWER_WIDTH) : NULL;

          if (st->kind == SIM_LESSON_STEP)
            continue;
          g_string_append_printf (line, "  %-3u %-8s ", i + 1, sim_lesson_item_kind_name (st->kind));
          put_padded (line, t, TITLE_WIDTH);
          g_string_append_printf (line, " %7u %6u %6u %8u %6u %11.1f  ", st->reached, st->correct,
                                  st->incorrect, st->skipped, st->hints,
                                  st->reached ? (double) st->attempts / st->reached : 0.0);
          if (w != NULL)
            g_string_append_printf (line, "%s (%u)", w, n_wrong);
          printf ("%s\n", line->str);
        }
    }
}

static void
print_csv (GPtrArray *lessons)
{
  g_autoptr(GString) out = g_string_new ("lesson,item,kind,title,handins,reached,right,wrong,"
                                         "skipped,hints,mean_tries,most_common_wrong,"
                                         "most_common_wrong_count\n");

  for (guint l = 0; l < lessons->len; l++)
    {
      LessonStats *ls = lessons->pdata[l];

      for (guint i = 0; i < ls->items->len; i++)
        {
          ItemStats *st = ls->items->pdata[i];
          g_autofree char *kind = g_ascii_strdown (sim_lesson_item_kind_name (st->kind), -1);
          guint n_wrong;
          const char *wrong = top_wrong (st, &n_wrong);
          char mean[G_ASCII_DTOSTR_BUF_SIZE];

          if (st->kind == SIM_LESSON_STEP)
            continue;
          g_ascii_formatd (mean, sizeof mean, "%.2f", st->reached ? (double) st->attempts / st->reached : 0.0);
          put_csv (out, ls->lesson, FALSE);
          g_string_append_printf (out, "%u,%s,", i + 1, kind);
          put_csv (out, st->title, FALSE);
          g_string_append_printf (out, "%u,%u,%u,%u,%u,%u,%s,", ls->n_handins, st->reached,
                                  st->correct, st->incorrect, st->skipped, st->hints, mean);
          put_csv (out, wrong, FALSE);
          g_string_append_printf (out, "%u\n", n_wrong);
        }
    }
  fputs (out->str, stdout);
}

/* ------------------------------------------------------------------------------------------ */
/* grade                                                                                      */

typedef struct {
  const char *path;
  SimLessonHandin *handin;   /* NULL when unreadable */
  char *problem;             /* why it is not counted, or NULL */
} Entry;

static void
entry_clear (Entry *e)
{
  g_clear_pointer (&e->handin, sim_lesson_handin_free);
  g_clear_pointer (&e->problem, g_free);
}

/* Why a readable hand-in cannot be trusted, or NULL. */
static char *
problem_of (const SimLessonHandin *h)
{
  switch (h->status)
    {
    case SIM_LESSON_HANDIN_UNSIGNED:
      return g_strdup (_("UNSIGNED: no signature (written without the class key)"));
    case SIM_LESSON_HANDIN_OTHER_KEY:
      return g_strdup (_("OTHER KEY: signed with another class key (or the key-id was changed)"));
    case SIM_LESSON_HANDIN_EDITED:
      return g_strdup (_("EDITED: the signature does not match: the file changed after it was signed"));
    case SIM_LESSON_HANDIN_SIGNED:
    default:
      break;
    }
  if (h->student == NULL || h->student[0] == '\0')
    return g_strdup (_("NO NAME: the hand-in names no student"));
  if (!h->seed_matches)
    return g_strdup (_("WRONG SEED: the exercise is not this student's (another name's, or --seed)"));
  return NULL;
}

/* A second hand-in of one student for one lesson: the later one counts. */
static void
flag_duplicates (Entry *entries,
                 guint  n)
{
  for (guint i = 0; i < n; i++)
    for (guint k = 0; k < n; k++)
      {
        SimLessonHandin *a = entries[i].handin, *b = entries[k].handin;
        g_autofree char *na = NULL, *nb = NULL;

        if (i == k || a == NULL || b == NULL || entries[i].problem || entries[k].problem ||
            strcmp (a->lesson, b->lesson) != 0)
          continue;
        na = sim_lesson_student_normalize_name (a->student);
        nb = sim_lesson_student_normalize_name (b->student);
        if (g_strcmp0 (na, nb) != 0)
          continue;
        /* ISO 8601 UTC dates compare as text; on a tie the later file on the command line wins. */
        if (g_strcmp0 (a->date, b->date) < 0 || (g_strcmp0 (a->date, b->date) == 0 && i < k))
          entries[i].problem = g_strdup_printf (_("SUPERSEDED by %s (the same student's later hand-in)"),
                                                entries[k].path);
      }
}

static void
print_entry (const Entry *e,
             FILE        *out)
{
  const SimLessonHandin *h = e->handin;
  g_autofree char *student = h ? plain (h->student, 24) : NULL;
  g_autoptr(GString) line = g_string_new ("  ");

  put_padded (line, e->path, 24);
  g_string_append_c (line, ' ');
  if (h == NULL)
    {
      fprintf (out, "%s%s\n", line->str, e->problem);
      return;
    }
  put_padded (line, student, 24);
  g_string_append_printf (line, _(" %-28s %2u/%-2u right %u/%u tasks %2u hints %2u skips  %s"),
                          h->lesson, h->n_correct, h->n_questions, h->n_tasks_done, h->n_tasks,
                          h->n_hints, h->n_skipped, e->problem ? e->problem : C_("hand-in", "ok"));
  fprintf (out, "%s\n", line->str);
}

int
siplab_cli_grade (int    argc,
                  char **argv)
{
  gboolean csv = FALSE;
  const GOptionEntry entries[] = {
    { "csv", 0, 0, G_OPTION_ARG_NONE, &csv,
      N_("Print the per-question statistics as CSV (flagged hand-ins go to stderr)"), NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context =
    g_option_context_new (_("KEY HANDIN... - verify hand-ins and print per-question statistics"));
  g_autoptr(GError) error = NULL;
  g_autoptr(SimClassKey) key = NULL;
  g_autoptr(GPtrArray) lessons = g_ptr_array_new_with_free_func ((GDestroyNotify) lesson_stats_free);
  g_autofree Entry *list = NULL;
  guint n, n_flagged = 0;

  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_set_description (context,
    _("KEY is the class key file ('siplab-cli class init').  Every hand-in is verified: unsigned,\n"
      "signed with another key, edited after signing, or not its student's exercise is flagged\n"
      "and left out of the statistics.  Exit status 1 when any hand-in is flagged."));
  if (!g_option_context_parse (context, &argc, &argv, &error))
    return siplab_cli_usage_error ("grade", "%s", error->message);
  if (argc < 3)
    return siplab_cli_usage_error ("grade", argc < 2 ? _("missing KEY") : _("missing HANDIN"));
  if ((key = sim_class_key_load (argv[1], &error)) == NULL)
    {
      fprintf (stderr, "siplab-cli grade: %s\n", error->message);
      return EXIT_USAGE;
    }
  n = argc - 2;
  list = g_new0 (Entry, n);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(GError) local = NULL;

      list[i].path = argv[i + 2];
      list[i].handin = sim_lesson_handin_load (list[i].path, key, &local);
      list[i].problem = list[i].handin ? problem_of (list[i].handin)
                                       : g_strdup_printf (_("NOT A HAND-IN: %s"), local->message);
    }
  flag_duplicates (list, n);

  if (!csv)
    printf (_("Hand-ins (class key %s):\n"), key->id);
  for (guint i = 0; i < n; i++)
    {
      if (list[i].problem != NULL)
        n_flagged++;
      else
        add_handin (lessons, list[i].handin);
      if (!csv || list[i].problem != NULL)
        print_entry (&list[i], csv ? stderr : stdout);
    }
  if (csv)
    print_csv (lessons);
  else
    {
      print_table (lessons);
      if (n_flagged > 0)
        printf (ngettext ("\n%u of %u hand-in flagged: not counted above.\n",
                      "\n%u of %u hand-ins flagged: not counted above.\n", n), n_flagged, n);
    }
  for (guint i = 0; i < n; i++)
    entry_clear (&list[i]);
  return n_flagged > 0 ? EXIT_FLAGGED : EXIT_OK;
}
