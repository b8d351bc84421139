/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "sim-message.h"

#include <string.h>

/*
 * Header lookups on a message as text (a trace event's raw copy), for the places that have
 * the text and no parsed message: the trace's Call-ID/CSeq/Via, a lesson's "with HEADER" and
 * predicted fields, the views that show or mark a header.  One scanner, so they agree on
 * compact forms, spaces before the colon and where the headers end.
 */

/* RFC 3261 §7.3.3: the compact forms. */
static const struct {
  char compact;
  const char *name;
} compact_forms[] = {
  { 'i', "Call-ID" },
  { 'm', "Contact" },
  { 'e', "Content-Encoding" },
  { 'l', "Content-Length" },
  { 'c', "Content-Type" },
  { 'f', "From" },
  { 's', "Subject" },
  { 'k', "Supported" },
  { 't', "To" },
  { 'v', "Via" },
};

/* The full name of the compact form @name (@n bytes): "Contact" for "m"; NULL for other names. */
static const char *
full_name (const char *name,
           gsize       n)
{
  if (n != 1)
    return NULL;
  for (guint i = 0; i < G_N_ELEMENTS (compact_forms); i++)
    if (g_ascii_tolower (name[0]) == compact_forms[i].compact)
      return compact_forms[i].name;
  return NULL;
}

/* Whether the header name @have (@n bytes, as the message spells it) names header @want. */
static gboolean
same_header (const char *have,
             gsize       n,
             const char *want)
{
  const char *have_full = full_name (have, n);
  const char *want_full = full_name (want, strlen (want));
  gsize want_n = strlen (want);

  if (want_full != NULL)
    {
      want = want_full;
      want_n = strlen (want_full);
    }
  if (have_full != NULL)
    return g_ascii_strcasecmp (have_full, want) == 0;
  return n == want_n && g_ascii_strncasecmp (have, want, n) == 0;
}

/*
 * Finds the first header line named @name: its start and end (before the line break) and
 * where its value starts.  The start line is skipped; the headers end at the first empty line.
 */
static gboolean
find_header (const char  *raw,
             const char  *name,
             const char **line_out,
             const char **value_out,
             const char **end_out)
{
  const char *line = raw != NULL ? strchr (raw, '\n') : NULL;

  while (line != NULL)
    {
      const char *start = line + 1;
      const char *eol = strchr (start, '\n');
      const char *colon;

      if (eol == NULL)
        eol = start + strlen (start);
      if (start == eol || *start == '\r')
        break;
      colon = memchr (start, ':', eol - start);
      /* RFC 3261 §7.3.1: a line that starts with white space continues the header before it. */
      if (colon != NULL && *start != ' ' && *start != '\t')
        {
          const char *name_end = colon;

          /* HCOLON allows white space before the colon. */
          while (name_end > start && (name_end[-1] == ' ' || name_end[-1] == '\t'))
            name_end--;
          if (same_header (start, name_end - start, name))
            {
              *line_out = start;
              *value_out = colon + 1;
              *end_out = eol;
              return TRUE;
            }
        }
      line = *eol != '\0' ? eol : NULL;
    }
  return FALSE;
}

/* @start..@end without the white space (and the CR of a CRLF) around it, as a new string. */
static char *
strip_span (const char *start,
            const char *end)
{
  while (start < end && g_ascii_isspace (*start))
    start++;
  while (end > start && g_ascii_isspace (end[-1]))
    end--;
  return g_strndup (start, end - start);
}

char *
sim_raw_header_value (const char *raw,
                      const char *name)
{
  const char *line, *value, *end;

  g_return_val_if_fail (name != NULL, NULL);
  if (!find_header (raw, name, &line, &value, &end))
    return NULL;
  return strip_span (value, end);
}

char *
sim_raw_header_line (const char *raw,
                     const char *name)
{
  const char *line, *value, *end;

  g_return_val_if_fail (name != NULL, NULL);
  if (!find_header (raw, name, &line, &value, &end))
    return NULL;
  return strip_span (line, end);
}

gboolean
sim_raw_header_has (const char *raw,
                    const char *name)
{
  const char *line, *value, *end;

  g_return_val_if_fail (name != NULL, FALSE);
  return find_header (raw, name, &line, &value, &end);
}
