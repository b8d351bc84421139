/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The one pass over raw text that comes before any parsing: where lines end, how many headers,
 * Contacts and Content-Lengths a message has, and whether it stays within the caps of
 * sim-message.h.  It allocates nothing and is linear in the text, so what a stranger sends costs
 * at most this pass before it is refused; the UDP intake (sim-stack.c), the TCP framer
 * (sim-framing.c) and sim_message_parse_essentials read text through it.
 */
#include "sim-message-private.h"

#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* ---------------------------------------------------------------------------------------- */
/* Header lines                                                                             */

/* g_ascii_tolower, inlined. */
static inline char
ascii_lower (char c)
{
  return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

gboolean
_sim_message_header_name_is (const char *name,
                             gsize       n,
                             const char *lname,
                             char        compact)
{
  if (n == 1)
    return compact != 0 && ascii_lower (*name) == compact;
  /* @lname is in lower case: compare in place, most lines differing at their first character
   * (every received message passes here line by line). */
  for (gsize i = 0; i < n; i++)
    if (lname[i] == '\0' || ascii_lower (name[i]) != lname[i])
      return FALSE;
  return lname[n] == '\0';
}

gsize
_sim_message_header_name_len (const char *line,
                              gsize       len)
{
  const char *colon = memchr (line, ':', len);
  gsize n;

  if (colon == NULL)
    return 0;
  n = colon - line;
  while (n > 0 && (line[n - 1] == ' ' || line[n - 1] == '\t'))
    n--;
  return n;
}

/* Where Contact values are cut: commas outside quoted strings and <...> (RFC 3261 §20.10). */
typedef struct {
  gboolean in_quotes;
  gboolean escaped;
  gboolean in_angle;
} ContactCut;

static guint
count_contact_commas (ContactCut *cut,
                      const char *p,
                      const char *end)
{
  guint n = 0;

  for (; p < end; p++)
    {
      char c = *p;

      if (cut->in_quotes)
        {
          if (cut->escaped)
            cut->escaped = FALSE;
          else if (c == '\\')
            cut->escaped = TRUE;
          else if (c == '"')
            cut->in_quotes = FALSE;
        }
      else if (cut->in_angle)
        cut->in_angle = c != '>';
      else if (c == '"')
        cut->in_quotes = TRUE;
      else if (c == '<')
        cut->in_angle = TRUE;
      else if (c == ',')
        n++;
    }
  return n;
}

/* The value of a Content-Length line as a number, SIM_MESSAGE_NO_CONTENT_LENGTH unless it is
 * digits (SP/HT around); a value above G_MAXINT32 is G_MAXINT32 + 1, more than any message can
 * hold. */
static gint64
content_length_value (const char *p,
                      const char *end)
{
  gint64 value = 0;
  guint n_digits = 0;

  while (p < end && (*p == ' ' || *p == '\t'))
    p++;
  for (; p < end && g_ascii_isdigit (*p); p++, n_digits++)
    if (value <= G_MAXINT32)
      value = value * 10 + (*p - '0');
  while (p < end && (*p == ' ' || *p == '\t'))
    p++;
  if (n_digits == 0 || p != end)
    return SIM_MESSAGE_NO_CONTENT_LENGTH;
  return MIN (value, (gint64) G_MAXINT32 + 1);
}

/* ---------------------------------------------------------------------------------------- */
/* The scan                                                                                 */

/*
 * The first CR or LF in [p, end), or @end.  Every received message passes here line by line
 * (the scan, then the parser), so with SSE2 (every x86-64) it looks at 16 bytes at a time,
 * never past @end; two memchr calls otherwise.
 */
static inline const char *
find_cr_or_lf (const char *p,
               const char *end)
{
#ifdef __SSE2__
  const __m128i cr = _mm_set1_epi8 ('\r'), lf = _mm_set1_epi8 ('\n');

  for (; end - p >= 16; p += 16)
    {
      __m128i chunk = _mm_loadu_si128 ((const __m128i *) p);
      int mask = _mm_movemask_epi8 (_mm_or_si128 (_mm_cmpeq_epi8 (chunk, cr),
                                                  _mm_cmpeq_epi8 (chunk, lf)));

      if (mask != 0)
        return p + __builtin_ctz ((unsigned) mask);
    }
  for (; p < end; p++)
    if (*p == '\r' || *p == '\n')
      return p;
  return end;
#else
  const char *lf = p < end ? memchr (p, '\n', end - p) : NULL;
  const char *limit = lf != NULL ? lf : end;
  const char *cr = p < limit ? memchr (p, '\r', limit - p) : NULL;

  return cr != NULL ? cr : limit;
#endif
}

const char *
sim_message_line_end (const char  *p,
                      const char  *end,
                      const char **next)
{
  /* The first CR or LF: the first CR before the first LF, else that LF, else @end. */
  const char *eol = find_cr_or_lf (p, end);

  if (next != NULL)
    {
      if (eol == end)
        *next = end;
      else if (*eol == '\r' && eol + 1 < end && eol[1] == '\n')
        *next = eol + 2;
      else
        *next = eol + 1;
    }
  return eol;
}

gboolean
sim_message_scan (const char      *data,
                  gsize            len,
                  SimMessageScan  *scan,
                  GError         **error)
{
  const char *p = data, *end = data + len;
  gboolean first = TRUE, in_contact = FALSE, over = FALSE;
  ContactCut cut = { FALSE, };
  /* A Contact value not yet read for its quotes and brackets (see below). */
  const char *uncut = NULL, *uncut_end = NULL;

  g_return_val_if_fail (data != NULL || len == 0, FALSE);
  g_return_val_if_fail (scan != NULL, FALSE);

  memset (scan, 0, sizeof *scan);
  scan->content_length = SIM_MESSAGE_NO_CONTENT_LENGTH;
  scan->body_offset = len;
  /* RFC 3261 §7.5: CRLFs before the start line are ignored. */
  while (p < end && (*p == '\r' || *p == '\n'))
    p++;
  scan->is_response = end - p >= 4 && memcmp (p, "SIP/", 4) == 0;

  /*
   * After a cap is exceeded the pass goes on (it stays linear): where the body starts and what
   * the Content-Length says are still needed to step over the message on a stream.
   */
  while (p < end)
    {
      const char *next;
      const char *eol = sim_message_line_end (p, end, &next);
      gsize line_len = eol - p;

      if (!first && line_len == 0 && eol < end)
        {
          scan->has_blank_line = TRUE;
          scan->body_offset = next - data;
          break;
        }
      scan->longest_line = MAX (scan->longest_line, line_len);
      if (line_len > SIM_MESSAGE_MAX_LINE_LENGTH && !over)
        {
          g_set_error (error, SIM_MESSAGE_ERROR, SIM_MESSAGE_ERROR_TOO_LARGE,
                       "a line of %" G_GSIZE_FORMAT " bytes is longer than %d", line_len,
                       SIM_MESSAGE_MAX_LINE_LENGTH);
          over = TRUE;
        }
      if (!first)
        {
          if (++scan->n_header_lines > SIM_MESSAGE_MAX_HEADER_LINES && !over)
            {
              g_set_error (error, SIM_MESSAGE_ERROR, SIM_MESSAGE_ERROR_TOO_LARGE,
                           "more than %d header lines", SIM_MESSAGE_MAX_HEADER_LINES);
              over = TRUE;
            }
          if (*p == ' ' || *p == '\t')
            {
              /* A folded continuation (RFC 3261 §7.3.1) belongs to the header above. */
              if (in_contact)
                {
                  if (uncut != NULL)
                    count_contact_commas (&cut, uncut, uncut_end);
                  uncut = NULL;
                  scan->n_contacts += count_contact_commas (&cut, p, eol);
                }
            }
          else
            {
              const char *colon = memchr (p, ':', line_len);
              gsize name_len = colon != NULL ? (gsize) (colon - p) : 0;
              /* The value starts after the colon, past any SP/HT between the name and it. */
              const char *value = colon != NULL ? colon + 1 : eol;
              gboolean maybe;

              /* The name ends before the colon, trailing SP/HT trimmed (as
               * _sim_message_header_name_len cuts it). */
              while (name_len > 0 && (p[name_len - 1] == ' ' || p[name_len - 1] == '\t'))
                name_len--;
              if (name_len == 0)
                value = eol;
              /* Only a name of 1, 7 or 14 characters can be one of these two. */
              maybe = name_len == 1 || name_len == 7 || name_len == 14;
              in_contact = maybe && _sim_message_header_name_is (p, name_len, "contact", 'm');
              uncut = NULL;
              if (in_contact)
                {
                  memset (&cut, 0, sizeof cut);
                  scan->n_contacts += 1;
                  /*
                   * A value without a comma adds no Contact: its quotes and brackets matter only
                   * if a folded line follows, so they are read then (every REGISTER has one
                   * Contact, rarely folded).
                   */
                  if (memchr (value, ',', eol - value) != NULL)
                    scan->n_contacts += count_contact_commas (&cut, value, eol);
                  else
                    {
                      uncut = value;
                      uncut_end = eol;
                    }
                }
              else if (maybe && _sim_message_header_name_is (p, name_len, "content-length", 'l'))
                {
                  gint64 value_n = content_length_value (value, eol);

                  /* Two that differ (or one unreadable) leave no length every reader agrees on. */
                  if (scan->n_content_lengths++ == 0)
                    scan->content_length = value_n;
                  else if (value_n != scan->content_length)
                    scan->content_length = SIM_MESSAGE_NO_CONTENT_LENGTH;
                }
            }
          if (scan->n_contacts > SIM_MESSAGE_MAX_CONTACTS && !over)
            {
              g_set_error (error, SIM_MESSAGE_ERROR, SIM_MESSAGE_ERROR_TOO_LARGE,
                           "more than %d Contact values", SIM_MESSAGE_MAX_CONTACTS);
              over = TRUE;
            }
        }
      first = FALSE;
      p = next;
    }
  return !over;
}
