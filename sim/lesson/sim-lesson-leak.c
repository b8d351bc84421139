/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "sim-lesson-private.h"

#include <string.h>

/*
 * What gives a question's answer away.  A question asks for something the student has not
 * been told: the text before it, the ladder lines shown with it and the options of earlier
 * questions must not say it.  The checker (sim-lesson-check.c) reads the lesson's text with
 * these rules, and the runner (sim-lesson-runner.c) holds back trace events that would say it
 * until the question is answered, so the CLI and the GUI show the same ladder.
 *
 * What "says the answer" means depends on what is asked:
 *
 *   status N    the number N, its reason phrase ("Unauthorized"), and for 401 and 407 the
 *               word "challenged" (RFC 3261 §22: that is what the code means)
 *   cseq N      the number N in a sentence about a CSeq
 *   expires N   the number N in a sentence about Expires, expires= or expiry
 *   method M    the method's name as a word
 *   header V    the value V
 *   choice      the right option's text (long enough to be more than a word)
 *
 * A number is a whole number token: "401" is not in "4010", "sip:bob@10.0.0.21" holds no
 * "0", a Markdown list's "2." is not a 2, and "30s" is 30.
 */

/* An option shorter than this ("Never", "Yes") says nothing when it appears elsewhere. */
#define MIN_OPTION_MATCH 12

static gboolean
is_word_char (char c)
{
  return g_ascii_isalnum (c) || c == '_';
}

/* The answer key as the number a numeric field compares ("401 Unauthorized" is 401). */
static char *
key_number (const char *key)
{
  const char *c = key;

  while (*c == ' ')
    c++;
  if (g_ascii_strncasecmp (c, "cseq", 4) == 0)
    c += 4;
  while (*c == ' ')
    c++;
  return g_strndup (c, strspn (c, "0123456789"));
}

/* Where the sentence around @at begins and ends: at ". ", "? ", "! ", an empty line, or a
 * list item. */
static void
sentence_bounds (const char  *text,
                 gsize        at,
                 gsize       *start,
                 gsize       *end)
{
  gsize len = strlen (text);
  gsize s = at, e = at;

  while (s > 0)
    {
      char p = text[s - 1];

      if ((p == '.' || p == '?' || p == '!') && s < len && g_ascii_isspace (text[s]))
        break;
      if (p == '\n' && s >= 2 && text[s - 2] == '\n')
        break;
      if (p == '\n' && (text[s] == '*' || text[s] == '-') && text[s + 1] == ' ')
        break;
      s--;
    }
  while (e < len)
    {
      char c = text[e];

      if ((c == '.' || c == '?' || c == '!') && (e + 1 == len || g_ascii_isspace (text[e + 1])))
        break;
      if (c == '\n' && text[e + 1] == '\n')
        break;
      if (c == '\n' && (text[e + 1] == '*' || text[e + 1] == '-') && text[e + 2] == ' ')
        break;
      e++;
    }
  *start = s;
  *end = e;
}

/* Whether @word appears, any case, in text[@start, @end). */
static gboolean
range_mentions (const char *text,
                gsize       start,
                gsize       end,
                const char *word)
{
  gsize n = strlen (word);

  for (gsize i = start; i + n <= end; i++)
    if (g_ascii_strncasecmp (text + i, word, n) == 0)
      return TRUE;
  return FALSE;
}

/* Whether a number token at @at (@len digits and dots) is a Markdown list marker: "2. " at the
 * start of a line. */
static gboolean
is_list_marker (const char *text,
                gsize       at,
                gsize       len)
{
  gsize s = at;

  while (s > 0 && text[s - 1] == ' ')
    s--;
  if (s > 0 && text[s - 1] != '\n')
    return FALSE;
  return (text[at + len] == '.' || text[at + len] == ')') && text[at + len + 1] == ' ';
}

/*
 * Finds the number @number as a token in @text, in a sentence that mentions @context (any
 * case; NULL: any sentence).  @at_out, @len_out: where.
 */
static gboolean
find_number (const char *text,
             const char *number,
             const char *context,
             gsize      *at_out,
             gsize      *len_out)
{
  gsize len = strlen (text);

  if (number[0] == '\0')
    return FALSE;
  for (gsize i = 0; i < len; i++)
    {
      gsize j = i, k;
      gsize start, end;

      /* A number starts a token: not "MD5", not the "5" of "0.5", not the "1" of "x-1". */
      if (!g_ascii_isdigit (text[i]) ||
          (i > 0 && (is_word_char (text[i - 1]) || text[i - 1] == '.' || text[i - 1] == '-')))
        continue;
      /* The token: digits, and dots between digits ("10.0.0.21", "0.5"). */
      while (j < len && (g_ascii_isdigit (text[j]) ||
                         (text[j] == '.' && j + 1 < len && g_ascii_isdigit (text[j + 1]))))
        j++;
      /* Letters after it: a unit ("30s", "500ms") keeps it a number; "2xx" or "MD5" do not. */
      for (k = j; k < len && g_ascii_isalpha (text[k]); k++)
        ;
      if (k > j && !(k - j <= 2 && (strncmp (text + j, "s", k - j) == 0 ||
                                    strncmp (text + j, "ms", k - j) == 0 ||
                                    strncmp (text + j, "m", k - j) == 0 ||
                                    strncmp (text + j, "h", k - j) == 0)))
        {
          i = k;
          continue;
        }
      if (j - i != strlen (number) || strncmp (text + i, number, j - i) != 0 ||
          is_list_marker (text, i, j - i))
        {
          i = j;
          continue;
        }
      sentence_bounds (text, i, &start, &end);
      if (context == NULL || range_mentions (text, start, end, context))
        {
          *at_out = i;
          *len_out = j - i;
          return TRUE;
        }
      i = j;
    }
  return FALSE;
}

/* Finds @word as a whole word (or phrase) in @text; @any_case or exactly. */
static gboolean
find_word (const char *text,
           const char *word,
           gboolean    any_case,
           gsize      *at_out,
           gsize      *len_out)
{
  gsize n = strlen (word), len = strlen (text);

  if (n == 0)
    return FALSE;
  for (gsize i = 0; i + n <= len; i++)
    {
      gboolean same = any_case ? g_ascii_strncasecmp (text + i, word, n) == 0
                               : strncmp (text + i, word, n) == 0;

      if (same && (i == 0 || !is_word_char (text[i - 1])) && !is_word_char (text[i + n]))
        {
          *at_out = i;
          *len_out = n;
          return TRUE;
        }
    }
  return FALSE;
}

/*
 * Lower case, without Markdown emphasis, runs of white space as one space: text as read.
 * @offsets (may be NULL) gets, for each character of the result, where it was in @text.
 */
static char *
normalize (const char *text,
           GArray     *offsets)
{
  GString *out = g_string_new (NULL);

  for (const char *c = text; *c != '\0'; c++)
    {
      gsize where = c - text;

      if (*c == '*' || *c == '`' || *c == '_')
        continue;
      if (g_ascii_isspace (*c) && (out->len == 0 || out->str[out->len - 1] == ' '))
        continue;
      g_string_append_c (out, g_ascii_isspace (*c) ? ' ' : g_ascii_tolower (*c));
      if (offsets != NULL)
        g_array_append_val (offsets, where);
    }
  while (out->len > 0 && (out->str[out->len - 1] == '.' || out->str[out->len - 1] == ' '))
    g_string_truncate (out, out->len - 1);
  return g_string_free (out, FALSE);
}

static const SimLessonOption *
key_option (const SimLessonItem *item)
{
  for (guint i = 0; i < item->options->len; i++)
    {
      const SimLessonOption *o = item->options->pdata[i];

      if (g_ascii_strcasecmp (o->key, item->answer->text) == 0)
        return o;
    }
  return NULL;
}

/* A choice's answer in @text: the right option's words, however emphasized or wrapped. */
static gboolean
choice_given_away (const SimLessonItem *item,
                   const char          *text,
                   gsize               *at_out,
                   gsize               *len_out)
{
  const SimLessonOption *o = key_option (item);
  g_autoptr(GArray) offsets = g_array_new (FALSE, FALSE, sizeof (gsize));
  g_autofree char *option = NULL;
  g_autofree char *haystack = NULL;
  const char *found;
  gsize first, last;

  if (o == NULL)
    return FALSE;
  option = normalize (o->text, NULL);
  if (strlen (option) < MIN_OPTION_MATCH)
    return FALSE;
  haystack = normalize (text, offsets);
  if ((found = strstr (haystack, option)) == NULL)
    return FALSE;
  first = g_array_index (offsets, gsize, found - haystack);
  last = g_array_index (offsets, gsize, found - haystack + strlen (option) - 1);
  *at_out = first;
  *len_out = last + 1 - first;
  return TRUE;
}

static gboolean
status_given_away (int         status,
                   const char *number,
                   const char *text,
                   gsize      *at_out,
                   gsize      *len_out)
{
  const char *reason = sim_message_reason_phrase (status);

  if (find_number (text, number, NULL, at_out, len_out))
    return TRUE;
  if (g_strcmp0 (reason, "Unknown") != 0 && find_word (text, reason, FALSE, at_out, len_out))
    return TRUE;
  /* RFC 3261 §22.1, §22.3: a 401 or 407 is "the challenge". */
  return (status == 401 || status == 407) && find_word (text, "challenged", TRUE, at_out, len_out);
}

gboolean
_sim_lesson_gives_away (const SimLessonItem *item,
                        const char          *text,
                        gsize               *at_out,
                        gsize               *len_out)
{
  g_autofree char *number = NULL;
  gsize at = 0, len = 0;
  gboolean found = FALSE;

  if (text == NULL || item->answer == NULL)
    return FALSE;
  if (item->kind == SIM_LESSON_CHOICE)
    found = choice_given_away (item, text, &at, &len);
  else if (item->kind == SIM_LESSON_PREDICT)
    {
      number = key_number (item->answer->text);
      switch (item->predict->field)
        {
        case SIM_LESSON_FIELD_STATUS:
          found = status_given_away (atoi (number), number, text, &at, &len);
          break;
        case SIM_LESSON_FIELD_CSEQ:
          found = find_number (text, number, "cseq", &at, &len);
          break;
        case SIM_LESSON_FIELD_EXPIRES:
          found = find_number (text, number, "expir", &at, &len);
          break;
        case SIM_LESSON_FIELD_METHOD:
          found = find_word (text, item->answer->text, FALSE, &at, &len);
          break;
        case SIM_LESSON_FIELD_HEADER:
        default:
          found = strlen (item->answer->text) >= 3 &&
                  find_word (text, item->answer->text, TRUE, &at, &len);
          break;
        }
    }
  if (found && at_out != NULL)
    *at_out = at;
  if (found && len_out != NULL)
    *len_out = len;
  return found;
}

char *
_sim_lesson_event_prose (const SimEvent *e)
{
  GString *out = g_string_new (NULL);
  const char *parts[] = { e->action, e->node, e->name, e->aor, e->contact };

  for (guint i = 0; i < G_N_ELEMENTS (parts); i++)
    if (parts[i] != NULL)
      g_string_append_printf (out, "%s%s", out->len ? " " : "", parts[i]);
  if ((e->type == SIM_EVENT_BINDING || e->type == SIM_EVENT_REGISTRATION) && e->expires >= 0)
    g_string_append_printf (out, " expires %" G_GINT64_FORMAT, e->expires);
  if (e->text != NULL)
    g_string_append_printf (out, "%s%s", out->len ? ": " : "", e->text);
  return g_string_free (out, FALSE);
}

gboolean
_sim_lesson_event_reveals (const SimLessonItem *item,
                           const SimEvent      *e)
{
  g_autofree char *prose = NULL;

  if (item->kind != SIM_LESSON_PREDICT)
    return FALSE;
  /* The packet itself: the GUI's inspector would show the very field asked for. */
  if (e->type == SIM_EVENT_PACKET)
    return _sim_lesson_matcher_names_packet (item->parsed->predicted, e);
  prose = _sim_lesson_event_prose (e);
  return _sim_lesson_gives_away (item, prose, NULL, NULL);
}
