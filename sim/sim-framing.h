/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * SimFramer: cuts a SIP byte stream (TCP) into messages, with no socket in sight, so every
 * split of a stream can be tested and fuzzed.  Push bytes in as they arrive; pull results out
 * until SIM_FRAMER_NEED_MORE.
 *
 * - A message ends where its Content-Length (or compact "l", RFC 3261 §7.3.3) says; on a stream
 *   the header is mandatory (RFC 3261 §18.3), without it the stream cannot be resynchronised.
 *   Lines and the Content-Length are read by sim_message_scan(), the same reading the stack
 *   and libosip2 apply to the framed message (sim_message_line_end()); two Content-Length
 *   headers that differ, or a bare CR or LF that ends the header section before its CRLFCRLF,
 *   are fatal errors, so the framer never cuts a message where the parser would not.
 * - Between messages, a CRLFCRLF "ping" asks for a CRLF "pong" (RFC 5626 §3.5.1); a single CRLF
 *   is a keep-alive and is skipped.
 * - Decisions are taken only on whole lines or on the size cap: the start line is judged once
 *   its CRLF has arrived, never on a prefix, so the same stream gives the same results however
 *   it is cut.  A message whose header section does not end within max_message bytes, or whose
 *   header section plus body exceeds max_message, is a fatal error.
 * - An error is final: the framer keeps returning it (a stream out of step cannot recover).
 */

typedef enum {
  SIM_FRAMER_NEED_MORE,   /* nothing complete buffered: push more bytes */
  SIM_FRAMER_MESSAGE,     /* a whole message (start line, headers, body) */
  SIM_FRAMER_PONG,        /* a CRLFCRLF ping was consumed: answer "\r\n" */
  SIM_FRAMER_ERROR,       /* the stream cannot be framed: close the connection */
} SimFramerResult;

typedef enum {
  SIM_FRAMER_ERROR_NONE,
  SIM_FRAMER_ERROR_NOT_SIP,         /* the start line is no request or status line */
  SIM_FRAMER_ERROR_HEAD_TOO_LONG,   /* no end of the header section within max_message */
  SIM_FRAMER_ERROR_NO_LENGTH,       /* no Content-Length (RFC 3261 §18.3) */
  SIM_FRAMER_ERROR_BAD_LENGTH,      /* a Content-Length that is no number, or two that differ */
  SIM_FRAMER_ERROR_TOO_LARGE,       /* header section plus body exceed max_message */
  SIM_FRAMER_ERROR_BARE_LINE_END,   /* a bare CR or LF makes a blank line before the CRLFCRLF */
} SimFramerError;

typedef struct _SimFramer SimFramer;

SimFramer       *sim_framer_new             (gsize            max_message) G_GNUC_WARN_UNUSED_RESULT;
void             sim_framer_free            (SimFramer       *self);
void             sim_framer_set_max_message (SimFramer       *self,
                                             gsize            max_message);
void             sim_framer_push            (SimFramer       *self,
                                             const guint8    *data,
                                             gsize            len);
/*
 * The next result.  For SIM_FRAMER_MESSAGE, @data and @len give the message, valid until
 * the next sim_framer_push() or sim_framer_free().  For SIM_FRAMER_ERROR, they give the offending
 * start of the message (at most its header section) for the trace, and *@error says why.
 * Any of @data, @len and @error may be NULL.
 */
SimFramerResult  sim_framer_next            (SimFramer       *self,
                                             const char     **data,
                                             gsize           *len,
                                             SimFramerError  *error);
/* TRUE while part of a message (not of a keep-alive) is buffered: its deadline is running. */
gboolean         sim_framer_in_message      (SimFramer       *self);
/* Bytes buffered and not yet returned or skipped. */
gsize            sim_framer_get_buffered    (SimFramer       *self);
/* Consumed bytes so far: messages, keep-alives and pings (for the fuzzer's invariants). */
guint64          sim_framer_get_consumed    (SimFramer       *self);
const char      *sim_framer_error_to_string (SimFramerError   error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SimFramer, sim_framer_free)

G_END_DECLS
