/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>
#include <osipparser2/osip_parser.h>
#include <osipparser2/osip_port.h>

#include "sim-types.h"

G_BEGIN_DECLS

G_DEFINE_AUTOPTR_CLEANUP_FUNC (osip_message_t, osip_message_free)

/*
 * Thin helpers over libosip2.  libosip2 parses every message; sim_message_to_string writes them
 * itself, byte for byte as libosip2 would (tests/test-message.c).  These add the checks libosip2
 * leaves to us (RFC 3261 §8.1.1: a request needs To, From, CSeq, Call-ID, Max-Forwards and Via)
 * and the small conveniences every SIP element needs.
 */

#define SIM_MESSAGE_ERROR (sim_message_error_quark ())
GQuark sim_message_error_quark (void);

typedef enum {
  SIM_MESSAGE_ERROR_UNPARSABLE = 1,   /* not SIP at all: drop it */
  SIM_MESSAGE_ERROR_MISSING_HEADER,   /* request: 400 Bad Request; response: drop */
  SIM_MESSAGE_ERROR_BAD_HEADER,       /* a header is present but wrong (CSeq method mismatch...) */
  SIM_MESSAGE_ERROR_TOO_LARGE,
} SimMessageError;

/* The largest message parsed; SIM_TRANSPORT_MAX_MESSAGE (what the sockets take) is this. */
#define SIM_MESSAGE_MAX_SIZE 65535

/*
 * Caps checked on the raw text before libosip2 sees it (sim_message_scan), so that what a
 * stranger sends cannot cost more than one linear pass.  libosip2 appends every header with
 * osip_list_add (list, el, -1), which walks the list to its end: parsing n header lines costs
 * n^2/2 steps (four datagrams a second of 12,000 one-byte headers kept a core busy), and the fast
 * path of sim_message_parse makes the same calls.  No phone comes near these: a request that
 * crossed 70 proxies (Max-Forwards) each adding a Via and a Record-Route line still has fewer
 * than 160 lines; the longest lines phones write (Authorization, a Contact with +sip.instance and
 * feature tags, Allow) stay under 1 KB; and a REGISTER lists one Contact per device, at most a
 * handful.
 *
 * SIM_MESSAGE_MAX_HEADER_LINES: lines between the start line and the blank line (a folded
 *   continuation counts as a line).
 * SIM_MESSAGE_MAX_LINE_LENGTH: bytes in any one line of the start line and headers, CRLF not
 *   counted.
 * SIM_MESSAGE_MAX_CONTACTS: Contact values in all Contact headers together.
 */
#define SIM_MESSAGE_MAX_HEADER_LINES 256
#define SIM_MESSAGE_MAX_LINE_LENGTH  8192
#define SIM_MESSAGE_MAX_CONTACTS     32

/*
 * Where a line of the start line or the header section ends, for every reader of raw text here
 * (sim_message_scan, sim_message_parse_essentials, the TCP framer through sim_message_scan):
 * at CRLF, at a bare LF and at a bare CR, as libosip2 ends them.  Readers that cut lines
 * differently would disagree about which headers (and which Content-Length) a message has, and
 * on a stream about where it ends: a message could then be smuggled inside another one's body.
 * Returns the end of the line starting at @p (its line break excluded) and sets *@next to what
 * follows the line break (@end when there is none).
 */
const char     *sim_message_line_end      (const char            *p,
                                           const char            *end,
                                           const char           **next);

/* What sim_message_scan learns in its one pass over the start line and the headers. */
typedef struct {
  gboolean is_response;      /* the text starts with "SIP/" */
  gsize body_offset;         /* where the body starts: after the blank line, or @len without one */
  gboolean has_blank_line;
  guint n_header_lines;
  gsize longest_line;
  guint n_contacts;
  guint n_content_lengths;   /* Content-Length (or l) headers */
  /* The Content-Length as a number (G_MAXINT32 + 1 for anything larger);
   * SIM_MESSAGE_NO_CONTENT_LENGTH when absent, not digits, or when two Content-Length headers
   * differ (no reader may pick one of them). */
  gint64 content_length;
} SimMessageScan;

#define SIM_MESSAGE_NO_CONTENT_LENGTH (-1)

/*
 * One linear pass over @data (no allocation): fills @scan and checks the caps above, with the
 * line ends of sim_message_line_end().  FALSE with SIM_MESSAGE_ERROR_TOO_LARGE (saying which cap)
 * when the message exceeds one; @scan is filled whole either way.
 */
gboolean        sim_message_scan          (const char            *data,
                                           gsize                  len,
                                           SimMessageScan        *scan,
                                           GError               **error);
/*
 * For answering a request that is not parsed whole (over a cap, a bad Content-Length): a
 * message holding only its method, Via, From, To, Call-ID and CSeq, parsed from those lines
 * alone.  NULL when one of them is missing or longer than SIM_MESSAGE_MAX_LINE_LENGTH, or when
 * there are more than SIM_MESSAGE_MAX_HEADER_LINES of them: then the request cannot be answered
 * within bounds and is dropped.  The Request-URI is replaced (no response carries it).
 */
osip_message_t *sim_message_parse_essentials (const char         *data,
                                           gsize                  len,
                                           GError               **error) G_GNUC_WARN_UNUSED_RESULT;

/* Must be called once before any libosip2 use; safe to call many times. */
void            sim_message_init_library  (void);

osip_message_t *sim_message_parse         (const char            *data,
                                           gsize                  len,
                                           GError               **error) G_GNUC_WARN_UNUSED_RESULT;
/* Checks RFC 3261 §8.1.1 / §8.2 mandatory headers; for a request parse errors mean 400. */
gboolean        sim_message_validate      (osip_message_t        *msg,
                                           GError               **error);
char           *sim_message_to_string     (osip_message_t        *msg,
                                           gsize                 *len) G_GNUC_WARN_UNUSED_RESULT;
/*
 * Appends the text sim_message_to_string would return (byte for byte what libosip2's
 * osip_message_to_str writes, header names respelt) to @out.  FALSE, @out unchanged, for what
 * it leaves to libosip2: multipart bodies, structures libosip2 could not write either.
 */
gboolean        sim_message_append_to     (GString               *out,
                                           osip_message_t        *msg);
/* Parses text written by us; aborts on a bug (text we built must always parse). */
osip_message_t *sim_message_from_text     (const char            *text) G_GNUC_WARN_UNUSED_RESULT;
osip_message_t *sim_message_clone         (const osip_message_t  *msg) G_GNUC_WARN_UNUSED_RESULT;

/* RFC 3261 §8.2.6.2: copies Via, From, To (adding @to_tag if To has none), Call-ID and CSeq. */
osip_message_t *sim_message_new_response  (const osip_message_t  *request,
                                           int                    status,
                                           const char            *reason,
                                           const char            *to_tag) G_GNUC_WARN_UNUSED_RESULT;
/*
 * sim_message_new_response without the copies: the response shares @request's Via, From,
 * Call-ID and CSeq structures (its To is a copy, as it takes our tag).  Copying and freeing them
 * was a tenth of the CPU time `serve` spent on a registration (issue 15).  Such a response is
 * written and released before its request is freed, never kept, and those four headers are
 * not changed; sim_message_free() releases it (it frees only what the response owns).
 */
osip_message_t *sim_message_new_response_sharing (const osip_message_t *request,
                                                  int                   status,
                                                  const char           *reason,
                                                  const char           *to_tag) G_GNUC_WARN_UNUSED_RESULT;
/*
 * Appends to @out the text sim_message_append_to() writes for
 * sim_message_new_response_sharing (@request, @status, @reason, NULL) once @to_tag (when not
 * NULL) is set on its To and header lines are added that it writes as @extra (@extra_len
 * bytes: whole lines, each ending in CRLF, in the order that function writes them: Contact,
 * WWW-Authenticate, then the headers libosip2 does not parse): the same bytes, without building
 * the response (issue 15).  The request's Via, From, To, Call-ID and CSeq are written from its
 * parsed structures, as they are now.  FALSE, appending nothing, where that path would be taken
 * otherwise (a To that already has a tag while @to_tag is given, a field holding a line feed,
 * a structure only libosip2 writes): the caller then builds the response.
 */
gboolean        sim_message_append_response (GString              *out,
                                             const osip_message_t *request,
                                             int                   status,
                                             const char           *reason,
                                             const char           *to_tag,
                                             const char           *extra,
                                             gsize                 extra_len);
/* osip_message_free(), which also releases a response of sim_message_new_response_sharing(). */
void            sim_message_free          (osip_message_t        *msg);
const char     *sim_message_reason_phrase (int                    status);
/* RFC 3261 §9.1: a CANCEL for @invite (same Request-URI, Call-ID, From, To, CSeq number, Route).
 * The caller sends it with the INVITE's branch. */
osip_message_t *sim_message_new_cancel    (const osip_message_t  *invite) G_GNUC_WARN_UNUSED_RESULT;

gboolean        sim_message_is_request    (const osip_message_t  *msg);
const char     *sim_message_method        (const osip_message_t  *msg);    /* CSeq method for responses */
guint32         sim_message_cseq_number   (const osip_message_t  *msg);
char           *sim_message_call_id       (const osip_message_t  *msg) G_GNUC_WARN_UNUSED_RESULT;
const char     *sim_message_from_tag      (const osip_message_t  *msg);
const char     *sim_message_to_tag        (const osip_message_t  *msg);
const char     *sim_message_branch        (const osip_message_t  *msg);    /* top Via branch */
char           *sim_message_request_uri   (const osip_message_t  *msg) G_GNUC_WARN_UNUSED_RESULT;
/* The value of the first header @name not parsed by libosip2 into a field (Expires, Min-Expires...). */
const char     *sim_message_header        (const osip_message_t  *msg,
                                           const char            *name);
void            sim_message_set_header    (osip_message_t        *msg,
                                           const char            *name,
                                           const char            *value);
void            sim_message_remove_header (osip_message_t        *msg,
                                           const char            *name);
/* What sim_message_expires returns when the header gives no number of seconds. */
enum {
  SIM_MESSAGE_EXPIRES_ABSENT = -1,    /* no Expires header */
  SIM_MESSAGE_EXPIRES_INVALID = -2,   /* not delta-seconds (RFC 3261 §20.19) */
};
/* The Expires header as a number of seconds (2^32-1 at most), or one of the two above. */
gint64          sim_message_expires       (const osip_message_t  *msg);
/* "user@host" of a URI, the AOR form the registrar keys on (RFC 3261 §10.3 step 5). */
char           *sim_uri_to_aor            (const osip_uri_t      *uri) G_GNUC_WARN_UNUSED_RESULT;
char           *sim_uri_to_string         (const osip_uri_t      *uri) G_GNUC_WARN_UNUSED_RESULT;

/* host:port of a SIP URI (port 5060 when absent, 5061 for TLS; transport=tcp and transport=tls
 * honoured, and a sips: URI is TLS). */
gboolean        sim_uri_to_addr           (const osip_uri_t      *uri,
                                           SimAddr               *addr);
/* The @pos-th WWW-Authenticate / Authorization header value as text, or NULL. */
char           *sim_message_www_authenticate (const osip_message_t *msg,
                                           int                    pos) G_GNUC_WARN_UNUSED_RESULT;
char           *sim_message_authorization (const osip_message_t  *msg,
                                           int                    pos) G_GNUC_WARN_UNUSED_RESULT;

/* Deterministic random tokens from a GRand (tags, branches, Call-IDs, cnonces). */
char           *sim_random_token          (GRand                 *rand,
                                           guint                  n_chars) G_GNUC_WARN_UNUSED_RESULT;
/* A new Via branch: "z9hG4bK" + token (RFC 3261 §8.1.1.7 magic cookie). */
char           *sim_random_branch         (GRand                 *rand) G_GNUC_WARN_UNUSED_RESULT;

/*
 * Headers in a message as text (a trace event's raw copy; sim-raw-header.c), for code that has
 * the text and no parsed message.  The first header named @name, compact forms counting both
 * ways (RFC 3261 §7.3.3: "m" is Contact), any case, white space before the colon allowed;
 * the start line is skipped and the headers end at the first empty line.  NULL / FALSE when
 * no header has that name.
 */
char           *sim_raw_header_value      (const char            *raw,
                                           const char            *name) G_GNUC_WARN_UNUSED_RESULT;
/* The whole line as the message has it ("Contact: <sip:bob@10.0.0.2>"), to show it. */
char           *sim_raw_header_line       (const char            *raw,
                                           const char            *name) G_GNUC_WARN_UNUSED_RESULT;
gboolean        sim_raw_header_has        (const char            *raw,
                                           const char            *name);

G_END_DECLS
