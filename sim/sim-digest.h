/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* HTTP Digest for SIP: RFC 3261 §22.4, RFC 7616 (SHA-256, SHA-512-256), RFC 8760 (SIP). */
typedef enum {
  SIM_DIGEST_MD5,
  SIM_DIGEST_SHA256,
  SIM_DIGEST_SHA512_256,
} SimDigestAlgorithm;

#define SIM_DIGEST_N_ALGORITHMS 3

const char *sim_digest_algorithm_name      (SimDigestAlgorithm  algorithm);
/* Case-insensitive; a missing (NULL/empty) algorithm means MD5 (RFC 7616 §3.3). */
gboolean    sim_digest_algorithm_from_name (const char         *name,
                                            SimDigestAlgorithm *algorithm);

/* H(data) as lowercase hex. */
char       *sim_digest_hash_hex            (SimDigestAlgorithm  algorithm,
                                            const char         *data,
                                            gsize               len) G_GNUC_WARN_UNUSED_RESULT;
/* HA1 = H(username:realm:password) */
char       *sim_digest_ha1                 (SimDigestAlgorithm  algorithm,
                                            const char         *username,
                                            const char         *realm,
                                            const char         *password) G_GNUC_WARN_UNUSED_RESULT;
/* HA2 = H(method:uri) (qop=auth or no qop) */
char       *sim_digest_ha2                 (SimDigestAlgorithm  algorithm,
                                            const char         *method,
                                            const char         *uri) G_GNUC_WARN_UNUSED_RESULT;
/* response = H(HA1:nonce:nc:cnonce:qop:HA2), or H(HA1:nonce:HA2) when @qop is NULL (RFC 2069). */
char       *sim_digest_response            (SimDigestAlgorithm  algorithm,
                                            const char         *ha1,
                                            const char         *nonce,
                                            const char         *nc,
                                            const char         *cnonce,
                                            const char         *qop,
                                            const char         *ha2) G_GNUC_WARN_UNUSED_RESULT;
/* Longest H() output (SHA-256, SHA-512/256), in bytes and in hex digits. */
#define SIM_DIGEST_MAX_LEN     32
#define SIM_DIGEST_MAX_HEX_LEN (2 * SIM_DIGEST_MAX_LEN)

/* Constant-time comparison of two strings (CRYPTO_memcmp). */
gboolean    sim_digest_equal               (const char         *a,
                                            const char         *b);

/* A WWW-Authenticate challenge (RFC 3261 §22.4, RFC 7616 §3.3). Unquoted values. */
typedef struct {
  char *realm;
  char *nonce;
  char *opaque;
  char *qop;          /* "auth", or NULL */
  gboolean stale;
  SimDigestAlgorithm algorithm;
} SimDigestChallenge;

/* Authorization credentials (RFC 3261 §22.4, RFC 7616 §3.4). Unquoted values. */
typedef struct {
  char *username;
  char *realm;
  char *nonce;
  char *uri;
  char *response;
  char *cnonce;
  char *nc;           /* 8 hex digits, as sent */
  char *qop;
  char *opaque;
  char *algorithm_name;  /* as sent, NULL when absent */
  SimDigestAlgorithm algorithm;
} SimDigestCredentials;

void      sim_digest_challenge_clear     (SimDigestChallenge    *challenge);
void      sim_digest_credentials_clear   (SimDigestCredentials  *credentials);

/* Parse a header value such as 'Digest realm="x", nonce="y", ...'. FALSE with @error on junk. */
gboolean  sim_digest_challenge_parse     (const char            *value,
                                          SimDigestChallenge    *challenge,
                                          GError               **error);
char     *sim_digest_challenge_format    (const SimDigestChallenge *challenge) G_GNUC_WARN_UNUSED_RESULT;
/*
 * sim_digest_challenge_format() cut where the nonce goes: *@before, a nonce and *@after
 * concatenated are the header for any nonce that needs no quoting (a token: base64url, hex), so
 * a server can format the fixed parts once.  @challenge->nonce is not used.
 */
void      sim_digest_challenge_format_split (const SimDigestChallenge *challenge,
                                          char                 **before,
                                          char                 **after);
gboolean  sim_digest_credentials_parse   (const char            *value,
                                          SimDigestCredentials  *credentials,
                                          GError               **error);
char     *sim_digest_credentials_format  (const SimDigestCredentials *credentials) G_GNUC_WARN_UNUSED_RESULT;
/*
 * Like sim_digest_credentials_parse(), but when @algorithm_known is not NULL an algorithm we do
 * not implement ("MD5-sess", "SHA-1", ...) is not an error: *@algorithm_known is set to FALSE and
 * algorithm_name keeps the value as sent.  A server needs this to check the realm before the
 * algorithm.  On failure @credentials is left untouched.
 */
gboolean  sim_digest_credentials_parse_full (const char         *value,
                                          SimDigestCredentials  *credentials,
                                          gboolean              *algorithm_known,
                                          GError               **error);

/* One auth-param as a message parser split it: its name and its value as it stood in the
 * header, a token or a quoted-string with its quotes.  A NULL value stands for no parameter. */
typedef struct {
  const char *name;
  const char *value;
} SimDigestParam;

/* The header value 'scheme name=value, name=value, ...' of @params (NULL values left out). */
char     *sim_digest_params_to_string    (const char            *scheme,
                                          const SimDigestParam  *params,
                                          guint                  n_params) G_GNUC_WARN_UNUSED_RESULT;

typedef enum {
  SIM_DIGEST_PARAMS_PARSED,     /* @credentials point into the storage: do not clear them */
  SIM_DIGEST_PARAMS_INVALID,    /* @error says why; @credentials untouched */
  SIM_DIGEST_PARAMS_NOT_PLAIN,  /* parse sim_digest_params_to_string() instead */
} SimDigestParamsResult;

/*
 * sim_digest_credentials_parse_full() of sim_digest_params_to_string (@scheme, @params,
 * @n_params), without making that text, when every value is plain (a token, or one whole
 * quoted-string) and the values fit in @storage (@storage_len bytes): the unquoted values are
 * written there and @credentials points into it, nothing is allocated.  The outcome is the
 * text's, to the error: PARSED where it parses, INVALID where it fails.  Anything else (white
 * space, commas or stray quotes in a value, an odd scheme, too long) is NOT_PLAIN, with
 * nothing done: only the text parser can read it.
 */
SimDigestParamsResult
          sim_digest_credentials_parse_params (const char       *scheme,
                                          const SimDigestParam  *params,
                                          guint                  n_params,
                                          char                  *storage,
                                          gsize                  storage_len,
                                          SimDigestCredentials  *credentials,
                                          gboolean              *algorithm_known,
                                          GError               **error);

/*
 * Server side: is @credentials->response the digest of @password for a request with @method?
 * HA1 is computed over @realm (the server's own, which the caller has compared with
 * @credentials->realm), HA2 over @credentials->uri.  Upper-case hex is accepted (RFC 7616
 * §3.4.1 asks for lower case, some clients differ) and the comparison takes constant time.
 * Nothing is allocated, and intermediate values derived from the password are cleansed.
 */
gboolean  sim_digest_check_response      (const SimDigestCredentials *credentials,
                                          const char            *realm,
                                          const char            *password,
                                          const char            *method);

/*
 * sim_digest_check_response() with HA1 given as hex (sim_digest_ha1_into()), so a server can
 * keep it for a user instead of hashing the password on every request.
 */
gboolean  sim_digest_check_response_ha1  (const SimDigestCredentials *credentials,
                                          const char            *ha1,
                                          const char            *method);
/* HA2 = H(method:uri) as hex into @hex, without allocating; returns its length. */
gsize     sim_digest_ha2_into            (SimDigestAlgorithm     algorithm,
                                          const char            *method,
                                          const char            *uri,
                                          char                   hex[SIM_DIGEST_MAX_HEX_LEN + 1]);
/* The same with HA2 given too (sim_digest_ha2_into() over @credentials->uri). */
gboolean  sim_digest_check_response_hashes (const SimDigestCredentials *credentials,
                                          const char            *ha1,
                                          const char            *ha2);
/* HA1 = H(username:realm:password) as hex into @hex, without allocating; returns its length. */
gsize     sim_digest_ha1_into            (SimDigestAlgorithm     algorithm,
                                          const char            *username,
                                          const char            *realm,
                                          const char            *password,
                                          char                   hex[SIM_DIGEST_MAX_HEX_LEN + 1]);

/*
 * Client side: answer @challenge for a request.  Fills @out (caller clears it) with a fresh
 * response; @cnonce is supplied by the caller (so the simulator stays deterministic), @nc is
 * the nonce-count to send (1 for a new nonce).
 */
void      sim_digest_answer              (const SimDigestChallenge *challenge,
                                          const char            *username,
                                          const char            *password,
                                          const char            *method,
                                          const char            *uri,
                                          const char            *cnonce,
                                          guint                  nc,
                                          SimDigestCredentials  *out);

#define SIM_DIGEST_ERROR (sim_digest_error_quark ())
GQuark sim_digest_error_quark (void);
typedef enum {
  SIM_DIGEST_ERROR_PARSE = 1,
  SIM_DIGEST_ERROR_UNSUPPORTED,
} SimDigestError;

G_END_DECLS
