/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "sim-framing.h"
#include "sim-message.h"

#include <string.h>

/*
 * The stream is kept in one buffer; [start, len) is not consumed yet.  Consuming only moves
 * start, so a segment with a hundred pipelined messages costs one copy, and the searches for
 * the end of the start line and of the header section resume where they stopped (line_scan,
 * head_scan), so a stream pushed one byte at a time is still read in linear time.
 */
struct _SimFramer {
  GByteArray *buf;
  gsize start;
  gsize max_message;
  gsize line_end;       /* length of the start line with its CRLF; 0 while unknown */
  gsize line_scan;      /* no CRLF begins before this offset (from start) */
  gsize head_scan;      /* no CRLFCRLF begins before this offset */
  gsize head_len;       /* length of the header section with the blank line; 0 while unknown */
  gsize body_len;
  SimFramerError error;
  gsize error_len;      /* bytes at start shown with the error */
  guint64 consumed;
};

SimFramer *
sim_framer_new (gsize max_message)
{
  SimFramer *self = g_new0 (SimFramer, 1);

  self->buf = g_byte_array_new ();
  self->max_message = MAX (max_message, 16);
  return self;
}

void
sim_framer_free (SimFramer *self)
{
  if (self == NULL)
    return;
  g_byte_array_unref (self->buf);
  g_free (self);
}

void
sim_framer_set_max_message (SimFramer *self,
                            gsize      max_message)
{
  g_return_if_fail (self != NULL);
  self->max_message = MAX (max_message, 16);
}

void
sim_framer_push (SimFramer    *self,
                 const guint8 *data,
                 gsize         len)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (data != NULL || len == 0);

  /* After an error nothing is read any more: the connection is about to close. */
  if (self->error != SIM_FRAMER_ERROR_NONE || len == 0)
    return;
  if (self->start > 0)
    {
      g_byte_array_remove_range (self->buf, 0, (guint) self->start);
      self->start = 0;
    }
  g_byte_array_append (self->buf, data, (guint) len);
}

static void
consume (SimFramer *self,
         gsize      n)
{
  self->start += n;
  self->consumed += n;
  self->line_end = 0;
  self->line_scan = 0;
  self->head_scan = 0;
  self->head_len = 0;
  self->body_len = 0;
}

static SimFramerResult
fail (SimFramer      *self,
      SimFramerError  error,
      gsize           shown)
{
  self->error = error;
  self->error_len = shown;
  return SIM_FRAMER_ERROR;
}

/* A request line ("METHOD uri SIP/2.0") or a status line ("SIP/2.0 code reason"), whole. */
static gboolean
is_start_line (const char *line,
               gsize       len)
{
  if (len >= 8 && memcmp (line, "SIP/2.0 ", 8) == 0)
    return TRUE;
  return len > 8 && memcmp (line + len - 8, " SIP/2.0", 8) == 0 && line[0] != ' ';
}

/* What the search for the end of the header section found. */
typedef enum {
  HEAD_FOUND,           /* head_len and body_len are known */
  HEAD_NEED_MORE,       /* no blank line yet: wait for more bytes */
  HEAD_FAILED,          /* the stream is broken: fail() has said why */
} HeadSearch;

/*
 * The blank line that ends the header section; the start line's CRLF may be its first
 * half (a message without headers, which then lacks Content-Length).  @p holds @avail
 * unconsumed bytes, of which the first @limit may belong to one message.
 */
static HeadSearch
find_head_end (SimFramer  *self,
               const char *p,
               gsize       avail,
               gsize       limit)
{
  gsize i;
  SimMessageScan scan;

  for (i = self->head_scan; i + 3 < limit; i++)
    if (p[i] == '\r' && p[i + 1] == '\n' && p[i + 2] == '\r' && p[i + 3] == '\n')
      break;
  if (i + 3 >= limit)
    {
      self->head_scan = MAX (self->head_scan, limit >= 3 ? limit - 3 : 0);
      if (avail >= self->max_message)
        {
          fail (self, SIM_FRAMER_ERROR_HEAD_TOO_LONG, MIN (avail, 512));
          return HEAD_FAILED;
        }
      return HEAD_NEED_MORE;
    }
  self->head_len = i + 4;
  /*
   * Where the header section ends and what its Content-Length says are read by
   * sim_message_scan, as the stack and libosip2 read them once the message is framed:
   * a reader that cut lines differently could frame one message where the parser sees
   * another.  Its caps are not the framer's business (the stack answers 513 to a
   * message over them), so its verdict is not looked at.
   */
  sim_message_scan (p, self->head_len, &scan, NULL);
  if (scan.body_offset != self->head_len)
    {
      /* A bare CR or LF made an earlier blank line: the parser's body starts there. */
      fail (self, SIM_FRAMER_ERROR_BARE_LINE_END, self->head_len);
      return HEAD_FAILED;
    }
  /* RFC 3261 §18.3: on a stream Content-Length MUST be present. */
  if (scan.n_content_lengths == 0)
    {
      fail (self, SIM_FRAMER_ERROR_NO_LENGTH, self->head_len);
      return HEAD_FAILED;
    }
  if (scan.content_length == SIM_MESSAGE_NO_CONTENT_LENGTH || scan.content_length > G_MAXINT32)
    {
      fail (self, SIM_FRAMER_ERROR_BAD_LENGTH, self->head_len);
      return HEAD_FAILED;
    }
  self->body_len = (gsize) scan.content_length;
  if (self->body_len > self->max_message - self->head_len)
    {
      fail (self, SIM_FRAMER_ERROR_TOO_LARGE, self->head_len);
      return HEAD_FAILED;
    }
  return HEAD_FOUND;
}

SimFramerResult
sim_framer_next (SimFramer       *self,
                 const char     **data,
                 gsize           *len,
                 SimFramerError  *error)
{
  SimFramerResult result = SIM_FRAMER_NEED_MORE;
  const char *shown = NULL;
  gsize shown_len = 0;

  g_return_val_if_fail (self != NULL, SIM_FRAMER_ERROR);

  for (;;)
    {
      /* An array that never held a byte has no data pointer at all. */
      const char *p = self->buf->data != NULL ? (const char *) self->buf->data + self->start : "";
      gsize avail = self->buf->len - self->start;
      gsize limit = MIN (avail, self->max_message);

      if (self->error != SIM_FRAMER_ERROR_NONE)
        {
          result = SIM_FRAMER_ERROR;
          shown = p;
          shown_len = MIN (self->error_len, avail);
          break;
        }

      /* Keep-alives between messages (RFC 5626 §3.5.1).  "\r\n" alone might be the first half
       * of a ping, so it is decided only once the next bytes say which. */
      if (self->line_end == 0 && self->line_scan == 0 && avail > 0 && p[0] == '\r')
        {
          if (avail < 2 || (p[1] == '\n' && (avail < 3 || (p[2] == '\r' && avail < 4))))
            break;
          if (p[1] == '\n')
            {
              if (p[2] == '\r' && p[3] == '\n')
                {
                  consume (self, 4);
                  result = SIM_FRAMER_PONG;
                  break;
                }
              consume (self, 2);
              continue;
            }
          /* "\r" and anything else starts a message, which its start line will refuse. */
        }
      if (avail == 0)
        break;

      /* The start line, judged whole. */
      if (self->line_end == 0)
        {
          gsize i;

          for (i = self->line_scan; i + 1 < limit; i++)
            if (p[i] == '\r' && p[i + 1] == '\n')
              break;
          if (i + 1 >= limit)
            {
              self->line_scan = limit > 0 ? limit - 1 : 0;
              if (avail >= self->max_message)
                {
                  result = fail (self, SIM_FRAMER_ERROR_HEAD_TOO_LONG, MIN (avail, 512));
                  continue;
                }
              break;
            }
          if (!is_start_line (p, i))
            {
              result = fail (self, SIM_FRAMER_ERROR_NOT_SIP, MIN (i, 512));
              continue;
            }
          self->line_end = i + 2;
          self->head_scan = i;
        }

      /* The blank line that ends the header section, and the Content-Length it gives. */
      if (self->head_len == 0)
        {
          HeadSearch found = find_head_end (self, p, avail, limit);

          if (found == HEAD_NEED_MORE)
            break;
          if (found == HEAD_FAILED)
            {
              result = SIM_FRAMER_ERROR;
              continue;
            }
        }

      if (avail < self->head_len + self->body_len)
        break;
      shown = p;
      shown_len = self->head_len + self->body_len;
      consume (self, shown_len);
      result = SIM_FRAMER_MESSAGE;
      break;
    }

  if (data != NULL)
    *data = shown;
  if (len != NULL)
    *len = shown_len;
  if (error != NULL)
    *error = self->error;
  return result;
}

gboolean
sim_framer_in_message (SimFramer *self)
{
  static const char ping[] = "\r\n\r\n";
  gsize avail;

  g_return_val_if_fail (self != NULL, FALSE);

  avail = self->buf->len - self->start;
  if (avail == 0 || self->error != SIM_FRAMER_ERROR_NONE)
    return FALSE;
  /* A keep-alive waiting for its second half is no message. */
  if (self->line_end == 0 && self->line_scan == 0 && avail < 4 &&
      memcmp (self->buf->data + self->start, ping, avail) == 0)
    return FALSE;
  return TRUE;
}

gsize
sim_framer_get_buffered (SimFramer *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->buf->len - self->start;
}

guint64
sim_framer_get_consumed (SimFramer *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->consumed;
}

const char *
sim_framer_error_to_string (SimFramerError error)
{
  switch (error)
    {
    case SIM_FRAMER_ERROR_NONE:
      return "no error";
    case SIM_FRAMER_ERROR_NOT_SIP:
      return "the stream does not carry SIP";
    case SIM_FRAMER_ERROR_HEAD_TOO_LONG:
      return "no end of the header section within the size limit";
    case SIM_FRAMER_ERROR_NO_LENGTH:
      return "a message without Content-Length on a stream (RFC 3261 §18.3)";
    case SIM_FRAMER_ERROR_BAD_LENGTH:
      return "an unreadable or contradictory Content-Length";
    case SIM_FRAMER_ERROR_TOO_LARGE:
      return "the message is larger than this registrar accepts";
    case SIM_FRAMER_ERROR_BARE_LINE_END:
      return "a bare CR or LF ends the header section before its CRLF CRLF";
    default:
      return "unknown framing error";
    }
}
