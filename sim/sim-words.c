/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "sim-words-private.h"

#include <stdarg.h>
#include <string.h>

#include "sim-command.h"
#include "sim-scenario.h"

/*
 * Reading words: the scenario's statements and every command (sim-command.c) go through these,
 * so "expires soon" gets the same message in a scenario file, a lesson and a typed command.
 */

#define SYNTAX  SIM_COMMAND_ERROR_SYNTAX
#define INVALID SIM_COMMAND_ERROR_INVALID

typedef struct {
  char *text;
  gboolean quoted;
} SimWord;

static void
word_free (SimWord *word)
{
  g_free (word->text);
  g_free (word);
}

void
_sim_words_init (SimWords *self)
{
  self->words = g_ptr_array_new_with_free_func ((GDestroyNotify) word_free);
  self->pos = 0;
  self->error = NULL;
}

void
_sim_words_clear (SimWords *self)
{
  g_clear_pointer (&self->words, g_ptr_array_unref);
  g_clear_error (&self->error);
}

gboolean
_sim_words_fail (SimWords   *self,
                 int         code,
                 const char *format,
                 ...)
{
  va_list args;

  if (self->error != NULL)
    return FALSE;
  va_start (args, format);
  self->error = g_error_new_valist (SIM_COMMAND_ERROR, code, format, args);
  va_end (args);
  return FALSE;
}

gboolean
_sim_words_fail_with (SimWords *self,
                      GError   *local)
{
  int code = local->code == SIM_SCENARIO_ERROR_SYNTAX ? SYNTAX : INVALID;

  if (local->domain == SIM_COMMAND_ERROR)
    code = local->code;
  _sim_words_fail (self, code, "%s", local->message);
  g_error_free (local);
  return FALSE;
}

static gboolean
is_space (char c)
{
  return c == ' ' || c == '\t' || c == '\r';
}

gboolean
_sim_words_split (SimWords   *self,
                  const char *line)
{
  const char *c = line;

  g_ptr_array_set_size (self->words, 0);
  self->pos = 0;
  for (;;)
    {
      SimWord *word;

      while (is_space (*c))
        c++;
      if (*c == '\0' || *c == '#')
        return TRUE;
      word = g_new0 (SimWord, 1);
      g_ptr_array_add (self->words, word);
      if (*c == '"')
        {
          GString *s = g_string_new (NULL);

          word->quoted = TRUE;
          for (c++; *c != '"'; c++)
            {
              if (*c == '\0')
                {
                  g_string_free (s, TRUE);
                  return _sim_words_fail (self, SYNTAX, "a quoted text is not closed (missing \")");
                }
              if (*c == '\\' && (c[1] == '"' || c[1] == '\\'))
                c++;
              g_string_append_c (s, *c);
            }
          c++;
          word->text = g_string_free (s, FALSE);
          if (*c != '\0' && !is_space (*c) && *c != '#')
            return _sim_words_fail (self, SYNTAX, "put a space after the closing quote");
        }
      else
        {
          const char *start = c;

          while (*c != '\0' && !is_space (*c) && *c != '#')
            {
              if (*c == '"')
                return _sim_words_fail (self, SYNTAX,
                                        "a quote inside a word: put quotes around the whole value");
              c++;
            }
          word->text = g_strndup (start, c - start);
        }
    }
}

gboolean
_sim_words_at_end (SimWords *self)
{
  return self->pos >= self->words->len;
}

const char *
_sim_words_peek (SimWords *self)
{
  return _sim_words_at_end (self) ? NULL : ((SimWord *) self->words->pdata[self->pos])->text;
}

gboolean
_sim_words_accept (SimWords   *self,
                   const char *word)
{
  SimWord *next;

  if (_sim_words_at_end (self))
    return FALSE;
  next = self->words->pdata[self->pos];
  if (next->quoted || strcmp (next->text, word) != 0)
    return FALSE;
  self->pos++;
  return TRUE;
}

const char *
_sim_words_next (SimWords   *self,
                 const char *what)
{
  if (_sim_words_at_end (self))
    {
      _sim_words_fail (self, SYNTAX, "missing %s", what);
      return NULL;
    }
  return ((SimWord *) self->words->pdata[self->pos++])->text;
}

gboolean
_sim_words_expect_end (SimWords *self)
{
  if (_sim_words_at_end (self))
    return TRUE;
  return _sim_words_fail (self, SYNTAX, "unexpected '%s' at the end of the line",
                          _sim_words_peek (self));
}

char *
_sim_words_rest (SimWords *self)
{
  g_autoptr(GString) s = g_string_new (NULL);

  for (; !_sim_words_at_end (self); self->pos++)
    {
      if (s->len > 0)
        g_string_append_c (s, ' ');
      g_string_append (s, ((SimWord *) self->words->pdata[self->pos])->text);
    }
  return g_string_free (g_steal_pointer (&s), FALSE);
}

/* ------------------------------------------------------------------------------------------ */
/* Values                                                                                     */

gboolean
_sim_words_valid_name (const char *name)
{
  if (!g_ascii_isalpha (name[0]) || strlen (name) > SIM_COMMAND_MAX_NAME_LEN)
    return FALSE;
  for (const char *c = name; *c != '\0'; c++)
    if (!g_ascii_isalnum (*c) && *c != '-' && *c != '_' && *c != '.')
      return FALSE;
  return TRUE;
}

gboolean
_sim_words_valid_user (const char *name)
{
  if (*name == '\0')
    return FALSE;
  for (const char *c = name; *c != '\0'; c++)
    if (!g_ascii_isalnum (*c) && strchr ("-_.!~*'()&=+$,;?/", *c) == NULL)
      return FALSE;
  return TRUE;
}

/* A DNS name for AORs (sip:alice@DOMAIN): letters, digits, '-' and dots between labels. */
gboolean
_sim_words_valid_domain (const char *text)
{
  gboolean label_start = TRUE;

  if (*text == '\0' || strlen (text) > 253)
    return FALSE;
  for (const char *c = text; *c != '\0'; c++)
    {
      if (*c == '.')
        {
          if (label_start)
            return FALSE;
          label_start = TRUE;
        }
      else if (g_ascii_isalnum (*c) || (*c == '-' && !label_start))
        label_start = FALSE;
      else
        return FALSE;
    }
  return !label_start;
}

gboolean
_sim_words_valid_ipv4 (const char *text)
{
  guint parts = 0;
  const char *c = text;

  while (parts < 4)
    {
      const char *start = c;
      guint value = 0, digits = 0;

      for (; g_ascii_isdigit (*c); c++, digits++)
        value = value * 10 + (*c - '0');
      /* No leading zeros: "010" reads as octal to some tools, decimal to others. */
      if (digits == 0 || digits > 3 || value > 255 || (digits > 1 && *start == '0'))
        return FALSE;
      parts++;
      if (parts < 4 && *c++ != '.')
        return FALSE;
    }
  return *c == '\0';
}

const char *
_sim_words_next_name (SimWords   *self,
                      const char *what)
{
  const char *name = _sim_words_next (self, what);

  if (name == NULL)
    return NULL;
  if (!_sim_words_valid_name (name))
    {
      _sim_words_fail (self, SYNTAX,
                       "'%s' is not a valid %s: use letters, digits, '-', '_' and '.', starting "
                       "with a letter, at most %d characters", name, what,
                       SIM_COMMAND_MAX_NAME_LEN);
      return NULL;
    }
  return name;
}

const char *
_sim_words_next_ip (SimWords *self)
{
  const char *ip = _sim_words_next (self, "IP address");

  if (ip == NULL)
    return NULL;
  if (!_sim_words_valid_ipv4 (ip))
    {
      if (g_hostname_is_ip_address (ip))
        _sim_words_fail (self, INVALID, "'%s': the simulated network has IPv4 addresses only", ip);
      else
        _sim_words_fail (self, SYNTAX, "'%s' is not an IPv4 address (like 10.0.0.11)", ip);
      return NULL;
    }
  return ip;
}

gboolean
_sim_words_next_uint (SimWords   *self,
                      const char *what,
                      guint64     max,
                      guint64    *out)
{
  const char *text = _sim_words_next (self, what);

  if (text == NULL)
    return FALSE;
  if (!g_ascii_string_to_unsigned (text, 10, 0, max, out, NULL))
    return _sim_words_fail (self, SYNTAX, "%s must be a whole number from 0 to %" G_GUINT64_FORMAT
                            ", not '%s'", what, max, text);
  return TRUE;
}

gboolean
_sim_words_next_duration (SimWords   *self,
                          const char *what,
                          SimTime    *out)
{
  const char *text = _sim_words_next (self, what);
  GError *local = NULL;

  if (text == NULL)
    return FALSE;
  if (!sim_scenario_parse_duration (text, out, &local))
    return _sim_words_fail_with (self, local);
  return TRUE;
}

static gboolean
all_digits (const char *text)
{
  if (*text == '\0')
    return FALSE;
  for (const char *c = text; *c != '\0'; c++)
    if (!g_ascii_isdigit (*c))
      return FALSE;
  return TRUE;
}

gboolean
_sim_words_next_seconds (SimWords   *self,
                         const char *what,
                         guint      *out)
{
  const char *text = _sim_words_next (self, what);
  guint64 value;
  SimTime t;
  GError *local = NULL;

  if (text == NULL)
    return FALSE;
  if (g_ascii_string_to_unsigned (text, 10, 0, G_MAXUINT32, &value, NULL))
    {
      *out = (guint) value;
      return TRUE;
    }
  /* RFC 3261 §20.19: Expires is at most 2**32-1 seconds; the other keys share the limit. */
  if (all_digits (text))
    return _sim_words_fail (self, INVALID, "%s must be at most %u seconds, not '%s'",
                            what, G_MAXUINT32, text);
  if (!g_ascii_isdigit (*text))
    return _sim_words_fail (self, SYNTAX, "%s is a number of seconds, like 3600, not '%s'",
                            what, text);
  if (!sim_scenario_parse_duration (text, &t, &local))
    return _sim_words_fail_with (self, local);
  if (t % G_USEC_PER_SEC != 0)
    return _sim_words_fail (self, INVALID, "%s is counted in whole seconds, not '%s'", what, text);
  *out = (guint) (t / G_USEC_PER_SEC);
  return TRUE;
}

gboolean
_sim_words_next_switch (SimWords   *self,
                        const char *what,
                        gboolean   *out)
{
  const char *text = _sim_words_next (self, what);

  if (text == NULL)
    return FALSE;
  if (strcmp (text, "on") == 0 || strcmp (text, "yes") == 0)
    *out = TRUE;
  else if (strcmp (text, "off") == 0 || strcmp (text, "no") == 0)
    *out = FALSE;
  else
    return _sim_words_fail (self, SYNTAX, "%s is 'on' or 'off', not '%s'", what, text);
  return TRUE;
}

gboolean
_sim_words_next_percent (SimWords   *self,
                         const char *what,
                         double     *out)
{
  const char *text = _sim_words_next (self, what);
  g_autofree char *number = NULL;
  char *end = NULL;
  double value;

  if (text == NULL)
    return FALSE;
  if (!g_str_has_suffix (text, "%"))
    return _sim_words_fail (self, SYNTAX, "write %s as a percentage, like 30%%, not '%s'",
                            what, text);
  number = g_strndup (text, strlen (text) - 1);
  value = g_ascii_strtod (number, &end);
  if (*number == '\0' || end == NULL || *end != '\0' || !g_ascii_isdigit (number[0]) ||
      value < 0.0 || value > 100.0)
    return _sim_words_fail (self, SYNTAX, "%s must be from 0%% to 100%%, not '%s'", what, text);
  *out = value / 100.0;
  return TRUE;
}

/* ------------------------------------------------------------------------------------------ */
/* Writing                                                                                    */

void
_sim_words_append (GString    *s,
                   const char *word)
{
  gboolean plain = *word != '\0';

  for (const char *c = word; *c != '\0' && plain; c++)
    if (*c == ' ' || *c == '\t' || *c == '#' || *c == '"' || *c == '\\')
      plain = FALSE;
  g_string_append_c (s, ' ');
  if (plain)
    {
      g_string_append (s, word);
      return;
    }
  g_string_append_c (s, '"');
  for (const char *c = word; *c != '\0'; c++)
    {
      if (*c == '"' || *c == '\\')
        g_string_append_c (s, '\\');
      g_string_append_c (s, *c);
    }
  g_string_append_c (s, '"');
}

void
_sim_words_append_duration (GString *s,
                            SimTime  t)
{
  g_autofree char *text = sim_scenario_format_duration (t);

  g_string_append_c (s, ' ');
  g_string_append (s, text);
}

void
_sim_words_append_percent (GString *s,
                           double   fraction)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  /* Percentages as written: at most four decimals, no binary noise. */
  g_ascii_formatd (buf, sizeof buf, "%.4f", fraction * 100.0);
  for (gsize n = strlen (buf); n > 0 && buf[n - 1] == '0'; n--)
    buf[n - 1] = '\0';
  if (buf[strlen (buf) - 1] == '.')
    buf[strlen (buf) - 1] = '\0';
  g_string_append_printf (s, " %s%%", buf);
}
