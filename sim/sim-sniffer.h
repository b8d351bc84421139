/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

#include "sim-digest.h"
#include "sim-trace.h"

G_BEGIN_DECLS

/*
 * The sniffer's offline dictionary attack (RFC 7616 §5.7 on guessing digest passwords; RFC
 * 3261 §26.2 on TLS, which hides them).  A sniffer (sim-net.h) that captured a 401 or 407
 * challenge and the Authorization that answered it holds everything digest hashes but the
 * password: realm,
 * nonce, cnonce, nc, qop, method and URI.  The one-time nonce stops a replay of that
 * Authorization, but not this: the sniffer computes the response for each word of a list and
 * compares, without sending anything, so no server limit ever sees it.
 *
 * Only what a sniffer captured as text counts: a TLS link leaves it record sizes and nothing to
 * try.  The time reported is simulated: tries divided by SIM_SNIFFER_MD5_TRIES_PER_SEC (or the
 * SHA-256 rate), a rough figure for one CPU core computing HA1 and the response per word (a
 * GPU does some hundred times more).  Only simulated phones' traffic is ever tried.
 */

/* Digest tries a second the report assumes: one core, two hashes (HA1, response) a try. */
#define SIM_SNIFFER_MD5_TRIES_PER_SEC    10000000.0
#define SIM_SNIFFER_SHA256_TRIES_PER_SEC  4000000.0
/* Words read from one list at most (a longer list is cut: the attack must stay instant). */
#define SIM_SNIFFER_MAX_WORDS 100000

typedef enum {
  SIM_CRACK_FOUND,            /* a word of the list gives the captured response */
  SIM_CRACK_NOT_FOUND,        /* every word tried, none fits */
  SIM_CRACK_NOTHING_TO_TRY,   /* no challenge and answer in clear (TLS, or nothing captured) */
} SimCrackOutcome;

typedef struct {
  SimCrackOutcome outcome;
  gboolean saw_tls;           /* the sniffer captured TLS records */
  char *user;                 /* the user attacked (NOTHING_TO_TRY: the one asked for, or NULL) */
  char *realm;
  SimDigestAlgorithm algorithm;
  char *password;             /* SIM_CRACK_FOUND: the word that fits */
  guint64 tries;
  double seconds;             /* tries at the algorithm's rate */
} SimCrackResult;

void        sim_crack_result_clear    (SimCrackResult   *result);

/* The shipped word list (data/wordlist.txt, compiled in), NULL-terminated; owned by libsim. */
const char *const *sim_sniffer_default_words (void);
/* Words of @text, one a line; '#' lines and empty lines are skipped. */
GStrv       sim_sniffer_parse_words   (const char       *text) G_GNUC_WARN_UNUSED_RESULT;

/*
 * Tries @words against the last challenge and answer @sniffer captured in @events (the
 * trace's events), for @user (NULL: the user of the last Authorization captured).
 */
void        sim_sniffer_crack         (GPtrArray          *events,
                                       const char         *sniffer,
                                       const char         *user,
                                       const char *const  *words,
                                       SimCrackResult     *result);
/* One sentence for the trace: tries, time, and the password or "not found". */
char       *sim_crack_result_describe (const SimCrackResult *result) G_GNUC_WARN_UNUSED_RESULT;
/* Traces @result as a SIM_EVENT_CAPTURE of @sniffer: cracked, not-cracked or nothing-to-try. */
void        sim_sniffer_trace_result  (SimTrace             *trace,
                                       SimTime               t,
                                       const char           *sniffer,
                                       const SimCrackResult *result);

G_END_DECLS
