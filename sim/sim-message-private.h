/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/*
 * What the pieces of sim-message share, in-tree only.  sim-message.c is the message itself:
 * libosip2's set-up, the mandatory-header check, new responses and CANCELs, and the accessors;
 * sim-message-scan.c is the one bounded pass over raw text that comes before any parsing
 * (the caps, line ends, Content-Length); sim-message-parse.c turns text into an
 * osip_message_t, by its fast path or by libosip2; sim-message-write.c turns one back into text.
 *
 * The second half is for tests, fuzzers and benchmarks only (tests/, tests/fuzz/, bench/): the
 * two halves of sim_message_parse, to compare them, and the switch that turns the fast half off.
 */

#include "sim-message.h"

G_BEGIN_DECLS

/* sim-message-scan.c */

/* Whether the header name @name (@n bytes, any case) is @lname (lower case) or its compact
 * form @compact (RFC 3261 §7.3.3; 0 for none).  Spaces before the colon are already trimmed. */
gboolean        _sim_message_header_name_is  (const char    *name,
                                              gsize          n,
                                              const char    *lname,
                                              char           compact);
/* The length of the name of the header line @line (@len bytes): up to the colon, trailing SP/HT
 * trimmed; 0 when the line has no colon. */
gsize           _sim_message_header_name_len (const char    *line,
                                              gsize          len);

/*
 * osip_via_parse of @value into a new Via, through the parser's fast path when it takes the
 * value (the same structure, tests/test-message.c): for the Via the stack adds to every request
 * it sends.  NULL when libosip2 rejects @value.
 */
osip_via_t     *_sim_message_via_from_text   (const char    *value) G_GNUC_WARN_UNUSED_RESULT;
/*
 * osip_uri_parse (@uri, @text) through the parser's fast path when it takes @text (the same
 * structure): for the Contact of each binding the registrar's 200 lists.  -1, as
 * osip_uri_parse returns, when libosip2 rejects @text.
 */
int             _sim_message_uri_parse       (osip_uri_t    *uri,
                                              const char    *text);

/* sim-message-write.c */

/* osip_uri_to_str (@uri) appended to @out, as a message writes it; FALSE, appending nothing,
 * for what only libosip2 writes.  For the Contact lines of the registrar's written responses. */
gboolean        _sim_message_append_uri      (GString       *out,
                                              const osip_uri_t *uri);
/* The value osip_www_authenticate_to_str (@challenge) gives, as a message writes it; FALSE,
 * appending nothing, for what only libosip2 writes.  For the registrar's written 401s. */
gboolean        _sim_message_append_challenge (GString      *out,
                                               const osip_www_authenticate_t *challenge);

/* sim-message.c */

/* sim_random_token written into @token (@n_chars and a NUL), drawing the same numbers: for a
 * token kept inside a bigger allocation (a server transaction's To tag). */
void            _sim_random_token_fill       (GRand         *rand,
                                              char          *token,
                                              guint          n_chars);

/* For tests, fuzzers and benchmarks */

/* The fast half of sim_message_parse: NULL where it leaves the text to libosip2 (or for what
 * sim_message_parse rejects before parsing). */
osip_message_t *_sim_message_parse_fast      (const char    *data,
                                              gsize          len) G_GNUC_WARN_UNUSED_RESULT;
/* The other half: libosip2 alone, after sim_message_parse's own checks. */
osip_message_t *_sim_message_parse_with_osip (const char    *data,
                                              gsize          len,
                                              GError       **error) G_GNUC_WARN_UNUSED_RESULT;
/* Turns the fast half of sim_message_parse on (the default) or off, for the whole process, to
 * measure or compare against libosip2 alone.  Call it before any thread parses. */
void            _sim_message_set_fast_parse  (gboolean       enabled);

/* Turns sim_message_append_response off (it then always returns FALSE, and responses are
 * built), for the whole process: to compare the written responses with the built ones. */
void            _sim_message_set_written_responses   (gboolean enabled);
/* How many responses sim_message_append_response wrote in this process. */
guint           _sim_message_get_n_written_responses (void);

G_END_DECLS
