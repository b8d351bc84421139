/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "sim-lesson-private.h"
#include "sim-lesson-student.h"

#include <string.h>

/*
 * "vary:" lines and {{NAME}} placeholders: what differs between two students' exercises besides
 * what the world's seed already varies (nonces, tags, Call-IDs).  The lines are read and their
 * values drawn before the lesson is parsed, and every placeholder is replaced in the text, so
 * the parser, the runner and the views see one student's concrete lesson.
 *
 * Each value is drawn from its own GRand seeded with (seed, the NAME's hash), so adding a line
 * does not change the values the others draw.  Addresses are drawn again while they collide
 * with an address written in the lesson or drawn for an earlier line.
 */

/* How often an address is drawn again before the range is called too small. */
#define VARY_MAX_DRAWS 1000
/* The longest NAME, and the most words of "one-of". */
#define VARY_NAME_MAX 32
#define VARY_MAX_WORDS 64

typedef struct {
  char *name;
  char *value;
  guint line;
} Value;

struct _SimLessonVary {
  GPtrArray *values;         /* Value*, in file order */
};

/* Passwords are a word and four digits: easy to type into printf, hard to share by accident. */
static const char *const password_words[] = {
  "amber", "basil", "cedar", "delta", "ember", "fjord", "gravel", "harbor", "indigo",
  "juniper", "kelp", "lumen", "maple", "nectar", "onyx", "pepper", "quartz", "raven",
  "saffron", "tundra", "umber", "violet", "willow", "xenon", "yarrow", "zephyr",
};

static void
value_free (Value *v)
{
  g_free (v->name);
  g_free (v->value);
  g_free (v);
}

void
_sim_lesson_vary_free (SimLessonVary *vary)
{
  if (vary == NULL)
    return;
  g_ptr_array_unref (vary->values);
  g_free (vary);
}

const char *
_sim_lesson_vary_lookup (SimLessonVary *vary,
                         const char    *name)
{
  for (guint i = 0; vary != NULL && i < vary->values->len; i++)
    {
      Value *v = vary->values->pdata[i];
      if (strcmp (v->name, name) == 0)
        return v->value;
    }
  return NULL;
}

static gboolean
fail (GError    **error,
      const char *file,
      guint       line,
      const char *format,
      ...) G_GNUC_PRINTF (4, 5);

static gboolean
fail (GError    **error,
      const char *file,
      guint       line,
      const char *format,
      ...)
{
  va_list args;

  va_start (args, format);
  _sim_lesson_error_at_va (error, SIM_LESSON_ERROR_SYNTAX, file, line, format, args);
  va_end (args);
  return FALSE;
}

static gboolean
valid_name (const char *name)
{
  gsize n = strlen (name);

  if (n == 0 || n > VARY_NAME_MAX)
    return FALSE;
  for (const char *c = name; *c != '\0'; c++)
    if (!g_ascii_islower (*c) && !g_ascii_isdigit (*c) && *c != '-')
      return FALSE;
  return TRUE;
}

static GRand *
rand_for (guint32     seed,
          const char *name)
{
  guint32 words[2] = { seed, g_str_hash (name) };

  return g_rand_new_with_seed_array (words, G_N_ELEMENTS (words));
}

/* "LOW..HIGH" of whole numbers. */
static gboolean
parse_range (const char *text,
             guint64     max,
             guint64    *low,
             guint64    *high)
{
  g_auto(GStrv) ends = g_strsplit (text, "..", 2);

  return ends[0] != NULL && ends[1] != NULL &&
         g_ascii_string_to_unsigned (ends[0], 10, 0, max, low, NULL) &&
         g_ascii_string_to_unsigned (ends[1], 10, 0, max, high, NULL) && *low <= *high;
}

static gboolean
parse_ipv4 (const char *text,
            guint32    *out)
{
  g_auto(GStrv) parts = g_strsplit (text, ".", -1);
  guint32 ip = 0;

  if (g_strv_length (parts) != 4)
    return FALSE;
  for (guint i = 0; i < 4; i++)
    {
      guint64 octet;
      if (!g_ascii_string_to_unsigned (parts[i], 10, 0, 255, &octet, NULL))
        return FALSE;
      ip = (ip << 8) | (guint32) octet;
    }
  *out = ip;
  return TRUE;
}

static char *
format_ipv4 (guint32 ip)
{
  return g_strdup_printf ("%u.%u.%u.%u", ip >> 24, (ip >> 16) & 0xff, (ip >> 8) & 0xff, ip & 0xff);
}

/* Every dotted quad written in @text: a drawn address must not be one of them. */
static GHashTable *
addresses_in (const char *text)
{
  g_autoptr(GRegex) re = g_regex_new ("(?<![0-9.])[0-9]{1,3}(\\.[0-9]{1,3}){3}(?![0-9])", 0, 0, NULL);
  g_autoptr(GMatchInfo) match = NULL;
  GHashTable *found = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  g_regex_match (re, text, 0, &match);
  while (g_match_info_matches (match))
    {
      g_hash_table_add (found, g_match_info_fetch (match, 0));
      g_match_info_next (match, NULL);
    }
  return found;
}

static char *
draw_number (char      **w,
             GRand      *rand,
             GError    **error,
             const char *file,
             guint       line)
{
  guint64 low, high, step = 1;

  if (w[0] == NULL || !parse_range (w[0], G_MAXUINT32, &low, &high))
    {
      fail (error, file, line, "'number' takes a range of whole numbers, like 600..3600");
      return NULL;
    }
  if (w[1] != NULL && (strcmp (w[1], "step") != 0 || w[2] == NULL || w[3] != NULL ||
                       !g_ascii_string_to_unsigned (w[2], 10, 1, G_MAXUINT32, &step, NULL)))
    {
      fail (error, file, line, "after the range, only 'step N' (N at least 1)");
      return NULL;
    }
  return g_strdup_printf ("%" G_GUINT64_FORMAT,
                          low + step * (guint64) g_rand_int_range (rand, 0, (gint32) MIN ((high - low) / step + 1, G_MAXINT32)));
}

static char *
draw_address (char      **w,
              GRand      *rand,
              GHashTable *taken,
              GError    **error,
              const char *file,
              guint       line)
{
  g_auto(GStrv) ends = NULL;
  guint32 low, high;

  if (w[0] != NULL)
    ends = g_strsplit (w[0], "..", 2);
  if (ends == NULL || ends[1] == NULL || w[1] != NULL || !parse_ipv4 (ends[0], &low) ||
      !parse_ipv4 (ends[1], &high) || low > high || high - low > 65535)
    {
      fail (error, file, line, "'address' takes a range of at most 65536 IPv4 addresses, like "
            "10.0.0.20..10.0.0.99");
      return NULL;
    }
  for (guint k = 0; k < VARY_MAX_DRAWS; k++)
    {
      g_autofree char *ip = format_ipv4 (low + (guint32) g_rand_int_range (rand, 0, (gint32) (high - low + 1)));

      if (!g_hash_table_contains (taken, ip))
        {
          g_hash_table_add (taken, g_strdup (ip));
          return g_steal_pointer (&ip);
        }
    }
  fail (error, file, line, "the range %s has no address left that the lesson does not use", w[0]);
  return NULL;
}

/* One "vary:" line's value: "NAME KIND ARGS". */
static Value *
read_line (const char *spec,
           guint       line,
           guint32     seed,
           GHashTable *taken,
           const char *file,
           GError    **error)
{
  g_auto(GStrv) w = _sim_lesson_tokenize (spec);
  g_autoptr(GRand) rand = NULL;
  g_autofree char *value = NULL;
  Value *v;

  if (w[0] == NULL || w[1] == NULL || !valid_name (w[0]))
    {
      fail (error, file, line, "'vary: NAME KIND ...' with a NAME of lower-case letters, digits and "
            "'-' (at most %d), like 'vary: pw password'", VARY_NAME_MAX);
      return NULL;
    }
  rand = rand_for (seed, w[0]);
  if (strcmp (w[1], "password") == 0 && w[2] == NULL)
    value = g_strdup_printf ("%s-%04d", password_words[g_rand_int_range (rand, 0, G_N_ELEMENTS (password_words))],
                             g_rand_int_range (rand, 0, 10000));
  else if (strcmp (w[1], "number") == 0)
    value = draw_number (w + 2, rand, error, file, line);
  else if (strcmp (w[1], "address") == 0)
    value = draw_address (w + 2, rand, taken, error, file, line);
  else if (strcmp (w[1], "one-of") == 0 && w[2] != NULL && g_strv_length (w + 2) <= VARY_MAX_WORDS)
    value = g_strdup (w[2 + g_rand_int_range (rand, 0, (gint32) g_strv_length (w + 2))]);
  else
    fail (error, file, line, "unknown 'vary:' kind in '%s' (expected password, number LOW..HIGH "
          "[step N], address IP..IP or one-of WORD...)", spec);
  if (value == NULL)
    return NULL;
  v = g_new0 (Value, 1);
  v->name = g_strdup (w[0]);
  v->value = g_steal_pointer (&value);
  v->line = line;
  return v;
}

/* Whether @line opens or closes a fenced block (a "vary:" line inside one is Markdown). */
static gboolean
is_fence (const char *line)
{
  return g_str_has_prefix (line, "```") || g_str_has_prefix (line, "~~~");
}

SimLessonVary *
_sim_lesson_vary_new (const char  *text,
                      const char  *file,
                      guint32      seed,
                      GError     **error)
{
  g_autoptr(GHashTable) taken = addresses_in (text);
  g_auto(GStrv) lines = g_strsplit (text, "\n", -1);
  SimLessonVary *vary = g_new0 (SimLessonVary, 1);
  gboolean fenced = FALSE;

  vary->values = g_ptr_array_new_with_free_func ((GDestroyNotify) value_free);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      Value *v;

      if (is_fence (lines[i]))
        fenced = !fenced;
      if (fenced || !g_str_has_prefix (lines[i], "vary: "))
        continue;
      if (strstr (lines[i], "{{") != NULL)
        {
          fail (error, file, i + 1, "a 'vary:' line cannot use a placeholder");
          goto failed;
        }
      if (vary->values->len == SIM_LESSON_VARY_MAX)
        {
          fail (error, file, i + 1, "more than %d 'vary:' lines", SIM_LESSON_VARY_MAX);
          goto failed;
        }
      if ((v = read_line (lines[i] + strlen ("vary: "), i + 1, seed, taken, file, error)) == NULL)
        goto failed;
      if (_sim_lesson_vary_lookup (vary, v->name) != NULL)
        {
          fail (error, file, i + 1, "'%s' is already a 'vary:' name", v->name);
          value_free (v);
          goto failed;
        }
      g_ptr_array_add (vary->values, v);
    }
  return vary;

failed:
  _sim_lesson_vary_free (vary);
  return NULL;
}

char *
_sim_lesson_vary_expand (SimLessonVary  *vary,
                         const char     *text,
                         const char     *file,
                         GError        **error)
{
  g_autoptr(GString) out = g_string_new (NULL);
  guint line = 1;
  const char *c = text;

  while (*c != '\0')
    {
      const char *end;
      g_autofree char *name = NULL;
      const char *value;

      if (*c == '\n')
        line++;
      if (c[0] != '{' || c[1] != '{' || (end = strstr (c + 2, "}}")) == NULL)
        {
          g_string_append_c (out, *c++);
          continue;
        }
      name = g_strndup (c + 2, end - (c + 2));
      /* Only {{name}} is a placeholder; other braces are the author's Markdown. */
      if (!valid_name (name))
        {
          g_string_append_c (out, *c++);
          continue;
        }
      if ((value = _sim_lesson_vary_lookup (vary, name)) == NULL)
        {
          fail (error, file, line, "unknown placeholder {{%s}} (declare it with a line "
                "'vary: %s ...')", name, name);
          return NULL;
        }
      g_string_append (out, value);
      c = end + 2;
    }
  return g_string_free (g_steal_pointer (&out), FALSE);
}
