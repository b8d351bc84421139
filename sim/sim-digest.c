/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "sim-digest.h"

#include <stdarg.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

/*
 * HTTP Digest as SIP uses it (RFC 3261 §22.4), with the hash algorithms of RFC 7616 and
 * RFC 8760.  Only qop=auth and the RFC 2069 form without qop are implemented: SIP has no use
 * for auth-int, and the "-sess" variants need a server-side session that a registrar does not
 * keep.
 *
 * The header parser is written for hostile input: it reads each byte at most a fixed number
 * of times, never looks past the terminating NUL and gives every failure a GError instead of
 * a half-filled struct.
 */

G_DEFINE_QUARK (sim-digest-error-quark, sim_digest_error)

static const struct {
  const char *name;       /* RFC 7616 §6.1 registry name */
  const char *ossl_name;  /* OpenSSL 3 fetch name (MD5 is GLib's, see Hash) */
} algorithms[SIM_DIGEST_N_ALGORITHMS] = {
  [SIM_DIGEST_MD5] = { "MD5", "MD5" },
  [SIM_DIGEST_SHA256] = { "SHA-256", "SHA2-256" },
  [SIM_DIGEST_SHA512_256] = { "SHA-512-256", "SHA2-512/256" },
};

const char *
sim_digest_algorithm_name (SimDigestAlgorithm algorithm)
{
  if ((guint) algorithm < SIM_DIGEST_N_ALGORITHMS)
    return algorithms[algorithm].name;
  return "unknown";
}

gboolean
sim_digest_algorithm_from_name (const char         *name,
                                SimDigestAlgorithm *algorithm)
{
  SimDigestAlgorithm found = SIM_DIGEST_MD5;

  /* RFC 7616 §3.3: "If this is not present, it is assumed to be MD5." */
  if (name != NULL && name[0] != '\0')
    {
      guint i;

      for (i = 0; i < SIM_DIGEST_N_ALGORITHMS; i++)
        if (g_ascii_strcasecmp (name, algorithms[i].name) == 0)
          break;
      /* Anything else, "MD5-sess" and friends included, is not ours to answer. */
      if (i == SIM_DIGEST_N_ALGORITHMS)
        return FALSE;
      found = i;
    }

  if (algorithm != NULL)
    *algorithm = found;
  return TRUE;
}

/* Fetching an implementation is slow in OpenSSL 3, so each one is fetched once and kept. */
static EVP_MD *
get_md (SimDigestAlgorithm algorithm)
{
  static EVP_MD *mds[SIM_DIGEST_N_ALGORITHMS];

  g_assert ((guint) algorithm < SIM_DIGEST_N_ALGORITHMS);

  if (g_once_init_enter (&mds[algorithm]))
    {
      EVP_MD *md = EVP_MD_fetch (NULL, algorithms[algorithm].ossl_name, NULL);

      /* Only a crippled OpenSSL gets here. */
      if (md == NULL)
        g_error ("OpenSSL provides no %s digest", algorithms[algorithm].ossl_name);
      g_once_init_leave (&mds[algorithm], md);
    }

  return mds[algorithm];
}

/* Lowercase hex (RFC 7616 §3.4.1) into @hex, which has room for 2 * @len + 1 bytes. */
static void
hex_encode (const guint8 *bytes,
            gsize         len,
            char         *hex)
{
  static const char digits[] = "0123456789abcdef";

  for (gsize i = 0; i < len; i++)
    {
      hex[2 * i] = digits[bytes[i] >> 4];
      hex[2 * i + 1] = digits[bytes[i] & 0xf];
    }
  hex[len * 2] = '\0';
}

/*
 * H() in progress.  For the short strings of Digest, starting a hash and every update cost
 * more than the hashing: the pieces of a joined value are gathered in a buffer and handed over
 * in one update, and one context serves all the hashes of a response.
 *
 * MD5 goes to GLib's GChecksum, SHA-256 and SHA-512/256 to OpenSSL (GLib has no SHA-512/256).
 * Measured with callgrind, GLib's plain C MD5 costs about what OpenSSL's assembly does per
 * block, and each hash some 600 instructions less to start and finish, where OpenSSL 3 goes
 * through its provider layer; for SHA-256 OpenSSL is twice as fast per block.
 *
 * The buffer may hold a password: hash_clear() cleanses it.  Both libraries clear their block
 * buffers when a hash finishes; freeing an EVP_MD_CTX cleanses the state as well.
 */
typedef struct {
  SimDigestAlgorithm algorithm;
  GChecksum *checksum;    /* MD5 */
  EVP_MD_CTX *ctx;        /* the others */
  gsize len;
  guint8 buf[256];
} Hash;

static void
hash_init (Hash *hash)
{
  hash->checksum = NULL;
  hash->ctx = NULL;
  hash->len = 0;
}

static void
hash_clear (Hash *hash)
{
  OPENSSL_cleanse (hash->buf, sizeof hash->buf);
  g_clear_pointer (&hash->checksum, g_checksum_free);
  g_clear_pointer (&hash->ctx, EVP_MD_CTX_free);
}

static void
hash_begin (Hash               *hash,
            SimDigestAlgorithm  algorithm)
{
  hash->algorithm = algorithm;
  hash->len = 0;

  if (algorithm == SIM_DIGEST_MD5)
    {
      if (hash->checksum == NULL)
        hash->checksum = g_checksum_new (G_CHECKSUM_MD5);
      else
        g_checksum_reset (hash->checksum);
      return;
    }

  if (hash->ctx == NULL)
    hash->ctx = EVP_MD_CTX_new ();
  /* An explicitly fetched EVP_MD spares the implicit fetch EVP_sha256() would cost each time. */
  if (hash->ctx == NULL || !EVP_DigestInit_ex2 (hash->ctx, get_md (algorithm), NULL))
    g_error ("OpenSSL cannot start a %s digest", sim_digest_algorithm_name (algorithm));
}

static void
hash_feed (Hash       *hash,
           const void *data,
           gsize       len)
{
  if (hash->algorithm == SIM_DIGEST_MD5)
    g_checksum_update (hash->checksum, data, len);
  else if (!EVP_DigestUpdate (hash->ctx, data, len))
    g_error ("OpenSSL cannot update a digest");
}

static void
hash_flush (Hash *hash)
{
  if (hash->len > 0)
    hash_feed (hash, hash->buf, hash->len);
  hash->len = 0;
}

static void
hash_update (Hash       *hash,
             const void *data,
             gsize       len)
{
  if (len > sizeof hash->buf - hash->len)
    {
      hash_flush (hash);
      if (len > sizeof hash->buf)
        {
          hash_feed (hash, data, len);
          return;
        }
    }
  memcpy (hash->buf + hash->len, data, len);
  hash->len += len;
}

/* Finishes the digest into @hex (SIM_DIGEST_MAX_HEX_LEN + 1 bytes); returns its length. */
static gsize
hash_finish_hex (Hash *hash,
                 char *hex)
{
  guint8 md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;

  hash_flush (hash);

  if (hash->algorithm == SIM_DIGEST_MD5)
    {
      gsize digest_len = sizeof md;

      /* The bytes, not g_checksum_get_string(): that allocates a string for every hash. */
      g_checksum_get_digest (hash->checksum, md, &digest_len);
      md_len = digest_len;
    }
  else if (!EVP_DigestFinal_ex (hash->ctx, md, &md_len))
    g_error ("OpenSSL cannot finish a digest");
  g_assert (md_len <= SIM_DIGEST_MAX_LEN);
  hex_encode (md, md_len, hex);
  OPENSSL_cleanse (md, md_len);
  return 2 * md_len;
}

/* H() over the parts joined by ':' (a NULL part counts as empty), as hex into @hex. */
static gsize
hash_joined (Hash               *hash,
             SimDigestAlgorithm  algorithm,
             const char * const *parts,
             guint               n_parts,
             char               *hex)
{
  hash_begin (hash, algorithm);
  for (guint i = 0; i < n_parts; i++)
    {
      if (i > 0)
        hash_update (hash, ":", 1);
      if (parts[i] != NULL)
        hash_update (hash, parts[i], strlen (parts[i]));
    }
  return hash_finish_hex (hash, hex);
}

/* RFC 7616 §3.4.2: A1 = unq(username) ":" unq(realm) ":" passwd */
static gsize
ha1_hex (Hash               *hash,
         SimDigestAlgorithm  algorithm,
         const char         *username,
         const char         *realm,
         const char         *password,
         char               *hex)
{
  const char *parts[] = { username, realm, password };

  return hash_joined (hash, algorithm, parts, G_N_ELEMENTS (parts), hex);
}

/* RFC 7616 §3.4.3: with qop=auth (or none), A2 = Method ":" request-uri */
static gsize
ha2_hex (Hash               *hash,
         SimDigestAlgorithm  algorithm,
         const char         *method,
         const char         *uri,
         char               *hex)
{
  const char *parts[] = { method, uri };

  return hash_joined (hash, algorithm, parts, G_N_ELEMENTS (parts), hex);
}

static gsize
response_hex (Hash               *hash,
              SimDigestAlgorithm  algorithm,
              const char         *ha1,
              const char         *nonce,
              const char         *nc,
              const char         *cnonce,
              const char         *qop,
              const char         *ha2,
              char               *hex)
{
  if (qop == NULL)
    {
      /* RFC 2069 §2.1.1, kept by RFC 2617 §3.2.2.1 for old clients. */
      const char *parts[] = { ha1, nonce, ha2 };

      return hash_joined (hash, algorithm, parts, G_N_ELEMENTS (parts), hex);
    }
  else
    {
      /* RFC 7616 §3.4.1: KD(HA1, nonce:nc:cnonce:qop:HA2) */
      const char *parts[] = { ha1, nonce, nc, cnonce, qop, ha2 };

      return hash_joined (hash, algorithm, parts, G_N_ELEMENTS (parts), hex);
    }
}

char *
sim_digest_hash_hex (SimDigestAlgorithm  algorithm,
                     const char         *data,
                     gsize               len)
{
  Hash hash;
  char hex[SIM_DIGEST_MAX_HEX_LEN + 1];

  g_return_val_if_fail ((guint) algorithm < SIM_DIGEST_N_ALGORITHMS, NULL);
  g_return_val_if_fail (data != NULL || len == 0, NULL);

  hash_init (&hash);
  hash_begin (&hash, algorithm);
  hash_update (&hash, data != NULL ? data : "", len);
  hash_finish_hex (&hash, hex);
  hash_clear (&hash);
  return g_strdup (hex);
}

char *
sim_digest_ha1 (SimDigestAlgorithm  algorithm,
                const char         *username,
                const char         *realm,
                const char         *password)
{
  Hash hash;
  char hex[SIM_DIGEST_MAX_HEX_LEN + 1];
  char *ha1;

  g_return_val_if_fail ((guint) algorithm < SIM_DIGEST_N_ALGORITHMS, NULL);
  g_return_val_if_fail (username != NULL, NULL);
  g_return_val_if_fail (realm != NULL, NULL);
  g_return_val_if_fail (password != NULL, NULL);

  hash_init (&hash);
  ha1_hex (&hash, algorithm, username, realm, password, hex);
  hash_clear (&hash);
  ha1 = g_strdup (hex);
  OPENSSL_cleanse (hex, sizeof hex);
  return ha1;
}

char *
sim_digest_ha2 (SimDigestAlgorithm  algorithm,
                const char         *method,
                const char         *uri)
{
  Hash hash;
  char hex[SIM_DIGEST_MAX_HEX_LEN + 1];

  g_return_val_if_fail ((guint) algorithm < SIM_DIGEST_N_ALGORITHMS, NULL);
  g_return_val_if_fail (method != NULL, NULL);
  g_return_val_if_fail (uri != NULL, NULL);

  hash_init (&hash);
  ha2_hex (&hash, algorithm, method, uri, hex);
  hash_clear (&hash);
  return g_strdup (hex);
}

char *
sim_digest_response (SimDigestAlgorithm  algorithm,
                     const char         *ha1,
                     const char         *nonce,
                     const char         *nc,
                     const char         *cnonce,
                     const char         *qop,
                     const char         *ha2)
{
  Hash hash;
  char hex[SIM_DIGEST_MAX_HEX_LEN + 1];

  g_return_val_if_fail ((guint) algorithm < SIM_DIGEST_N_ALGORITHMS, NULL);
  g_return_val_if_fail (ha1 != NULL, NULL);
  g_return_val_if_fail (nonce != NULL, NULL);
  g_return_val_if_fail (ha2 != NULL, NULL);
  g_return_val_if_fail (qop == NULL || nc != NULL, NULL);
  g_return_val_if_fail (qop == NULL || cnonce != NULL, NULL);

  hash_init (&hash);
  response_hex (&hash, algorithm, ha1, nonce, nc, cnonce, qop, ha2, hex);
  hash_clear (&hash);
  return g_strdup (hex);
}

gsize
sim_digest_ha1_into (SimDigestAlgorithm  algorithm,
                     const char         *username,
                     const char         *realm,
                     const char         *password,
                     char                hex[SIM_DIGEST_MAX_HEX_LEN + 1])
{
  Hash hash;
  gsize len;

  g_return_val_if_fail ((guint) algorithm < SIM_DIGEST_N_ALGORITHMS, 0);
  g_return_val_if_fail (username != NULL, 0);
  g_return_val_if_fail (realm != NULL, 0);
  g_return_val_if_fail (password != NULL, 0);
  g_return_val_if_fail (hex != NULL, 0);

  hash_init (&hash);
  len = ha1_hex (&hash, algorithm, username, realm, password, hex);
  hash_clear (&hash);
  return len;
}

gboolean
sim_digest_check_response (const SimDigestCredentials *credentials,
                           const char                 *realm,
                           const char                 *password,
                           const char                 *method)
{
  char ha1[SIM_DIGEST_MAX_HEX_LEN + 1];
  gboolean matches;

  g_return_val_if_fail (credentials != NULL, FALSE);
  g_return_val_if_fail ((guint) credentials->algorithm < SIM_DIGEST_N_ALGORITHMS, FALSE);
  g_return_val_if_fail (credentials->username != NULL, FALSE);
  g_return_val_if_fail (realm != NULL, FALSE);
  g_return_val_if_fail (password != NULL, FALSE);

  sim_digest_ha1_into (credentials->algorithm, credentials->username, realm, password, ha1);
  matches = sim_digest_check_response_ha1 (credentials, ha1, method);
  OPENSSL_cleanse (ha1, sizeof ha1);
  return matches;
}

gboolean
sim_digest_check_response_ha1 (const SimDigestCredentials *credentials,
                               const char                 *ha1,
                               const char                 *method)
{
  char ha2[SIM_DIGEST_MAX_HEX_LEN + 1];

  g_return_val_if_fail (credentials != NULL, FALSE);
  g_return_val_if_fail ((guint) credentials->algorithm < SIM_DIGEST_N_ALGORITHMS, FALSE);
  g_return_val_if_fail (credentials->uri != NULL, FALSE);
  g_return_val_if_fail (method != NULL, FALSE);

  sim_digest_ha2_into (credentials->algorithm, method, credentials->uri, ha2);
  return sim_digest_check_response_hashes (credentials, ha1, ha2);
}

gsize
sim_digest_ha2_into (SimDigestAlgorithm  algorithm,
                     const char         *method,
                     const char         *uri,
                     char                hex[SIM_DIGEST_MAX_HEX_LEN + 1])
{
  Hash hash;
  gsize len;

  g_return_val_if_fail ((guint) algorithm < SIM_DIGEST_N_ALGORITHMS, 0);
  g_return_val_if_fail (method != NULL, 0);
  g_return_val_if_fail (uri != NULL, 0);
  g_return_val_if_fail (hex != NULL, 0);

  hash_init (&hash);
  len = ha2_hex (&hash, algorithm, method, uri, hex);
  hash_clear (&hash);
  return len;
}

gboolean
sim_digest_check_response_hashes (const SimDigestCredentials *credentials,
                                  const char                 *ha1,
                                  const char                 *ha2)
{
  Hash hash;
  char expected[SIM_DIGEST_MAX_HEX_LEN + 1];
  char response[SIM_DIGEST_MAX_HEX_LEN + 1];
  gsize len;
  gboolean matches = FALSE;

  g_return_val_if_fail (credentials != NULL, FALSE);
  g_return_val_if_fail ((guint) credentials->algorithm < SIM_DIGEST_N_ALGORITHMS, FALSE);
  g_return_val_if_fail (credentials->nonce != NULL, FALSE);
  g_return_val_if_fail (credentials->response != NULL, FALSE);
  g_return_val_if_fail (credentials->qop == NULL || credentials->nc != NULL, FALSE);
  g_return_val_if_fail (credentials->qop == NULL || credentials->cnonce != NULL, FALSE);
  g_return_val_if_fail (ha1 != NULL, FALSE);
  g_return_val_if_fail (ha2 != NULL, FALSE);

  hash_init (&hash);
  len = response_hex (&hash, credentials->algorithm, ha1, credentials->nonce, credentials->nc,
                      credentials->cnonce, credentials->qop, ha2, expected);
  hash_clear (&hash);

  /* The length of a digest is public (it follows from the algorithm); only the bytes must not
   * leak through timing.  RFC 7616 §3.4.1 asks for lower-case hex; some clients send upper
   * case. */
  if (strnlen (credentials->response, len + 1) == len)
    {
      for (gsize i = 0; i < len; i++)
        {
          char c = credentials->response[i];

          response[i] = c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
        }
      matches = CRYPTO_memcmp (expected, response, len) == 0;
    }
  return matches;
}

gboolean
sim_digest_equal (const char *a,
                  const char *b)
{
  gsize len;

  if (a == NULL || b == NULL)
    return FALSE;

  /* The length of a digest is public (it follows from the algorithm); only the bytes of
   * equal-length strings must not leak through timing. */
  len = strlen (a);
  if (len != strlen (b))
    return FALSE;
  return CRYPTO_memcmp (a, b, len) == 0;
}

void
sim_digest_challenge_clear (SimDigestChallenge *challenge)
{
  g_return_if_fail (challenge != NULL);

  g_clear_pointer (&challenge->realm, g_free);
  g_clear_pointer (&challenge->nonce, g_free);
  g_clear_pointer (&challenge->opaque, g_free);
  g_clear_pointer (&challenge->qop, g_free);
  challenge->stale = FALSE;
  challenge->algorithm = SIM_DIGEST_MD5;
}

void
sim_digest_credentials_clear (SimDigestCredentials *credentials)
{
  g_return_if_fail (credentials != NULL);

  g_clear_pointer (&credentials->username, g_free);
  g_clear_pointer (&credentials->realm, g_free);
  g_clear_pointer (&credentials->nonce, g_free);
  g_clear_pointer (&credentials->uri, g_free);
  g_clear_pointer (&credentials->response, g_free);
  g_clear_pointer (&credentials->cnonce, g_free);
  g_clear_pointer (&credentials->nc, g_free);
  g_clear_pointer (&credentials->qop, g_free);
  g_clear_pointer (&credentials->opaque, g_free);
  g_clear_pointer (&credentials->algorithm_name, g_free);
  credentials->algorithm = SIM_DIGEST_MD5;
}

/* Parsing.  The grammar is RFC 7235 §2.1 (credentials / challenge with auth-params), with
 * the #rule leniency of RFC 7230 §7: empty list elements and optional whitespace. */

/* RFC 7230 §3.2.6 tchar: "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" /
 * "`" / "|" / "~" / DIGIT / ALPHA.  Tables, because the parser asks once per byte. */
static const guint8 tchar_table[256] = {
  ['!'] = 1, ['#' ... '\''] = 1, ['*' ... '+'] = 1, ['-' ... '.'] = 1, ['0' ... '9'] = 1,
  ['A' ... 'Z'] = 1, ['^' ... '`'] = 1, ['a' ... 'z'] = 1, ['|'] = 1, ['~'] = 1,
};

/*
 * What may stand unescaped in a quoted-string (RFC 7230 §3.2.6 qdtext): HTAB, SP and the
 * visible characters but '"' and '\', and obs-text.  The other controls (a NUL ends the input)
 * have no place in a header value, and letting CR or LF through would let a value inject
 * header lines.
 */
static const guint8 qdtext_table[256] = {
  ['\t'] = 1, [' ' ... '!'] = 1, ['#' ... '['] = 1, [']' ... '~'] = 1, [0x80 ... 0xff] = 1,
};

static inline gboolean
is_tchar (char c)
{
  return tchar_table[(guchar) c];
}

static inline gboolean
is_qdtext (char c)
{
  return qdtext_table[(guchar) c];
}

/* Whitespace, including the CR LF of a folded header line (RFC 3261 §7.3.1). */
static inline gboolean
is_lws (char c)
{
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static const char *
skip_lws (const char *p)
{
  while (is_lws (*p))
    p++;
  return p;
}

static gboolean
parse_error (GError     **error,
             gint         code,
             const char  *format,
             ...) G_GNUC_PRINTF (3, 4);

static gboolean
parse_error (GError     **error,
             gint         code,
             const char  *format,
             ...)
{
  va_list args;

  va_start (args, format);
  if (error != NULL)
    {
      g_autofree char *message = g_strdup_vprintf (format, args);

      g_set_error_literal (error, SIM_DIGEST_ERROR, code, message);
    }
  va_end (args);
  return FALSE;
}

typedef struct {
  const char *name;   /* lower-case letters only, see find_param() */
  guint len;
} ParamName;

#define PARAM_NAME(s) { s, sizeof (s) - 1 }

/* Whether the parameter @name (@len bytes, compared case-insensitively) is one of @names, and
 * which one (*@index). */
static gboolean
find_param (const ParamName *names,
            guint            n_names,
            const char      *name,
            gsize            len,
            guint           *index)
{
  for (guint i = 0; i < n_names; i++)
    {
      gsize k;

      if (names[i].len != len)
        continue;
      /* Setting bit 5 folds an ASCII upper-case letter to lower case.  The known names are
       * all letters, so no other byte can be folded into one of theirs. */
      for (k = 0; k < len && (name[k] | 0x20) == names[i].name[k]; k++)
        ;
      if (k == len)
        {
          *index = i;
          return TRUE;
        }
    }
  return FALSE;
}

/* The value of the quoted-string @raw (@raw_len bytes between the quotes, holding @n_pairs
 * quoted-pairs), unescaped. */
static char *
unquote (const char *raw,
         gsize       raw_len,
         gsize       n_pairs)
{
  char *value = g_malloc (raw_len - n_pairs + 1);

  if (n_pairs == 0)
    memcpy (value, raw, raw_len);
  else
    {
      const char *end = raw + raw_len;
      char *out = value;

      while (raw < end)
        {
          if (*raw == '\\')
            raw++;
          *out++ = *raw++;
        }
    }
  value[raw_len - n_pairs] = '\0';
  return value;
}

/*
 * Reads 'Digest name=value, name="value", ...' and stores the values of the parameters named
 * in @names into @values (same index), unquoted.  Unknown parameters are skipped; a repeated
 * known one is an error (RFC 7235 §2.1: each parameter name MUST only occur once), because two
 * readers could otherwise pick different copies.  On failure @values may be partly filled.
 *
 * One pass over the input: each value is checked where it stands and copied once, straight
 * into its own allocation, and only when its name is one of @names.
 */
static gboolean
parse_params (const char      *value,
              const ParamName *names,
              char           **values,
              guint            n_names,
              GError         **error)
{
  const char *p;
  const char *start;

  if (value == NULL)
    return parse_error (error, SIM_DIGEST_ERROR_PARSE, "No header value");

  p = skip_lws (value);
  start = p;
  while (is_tchar (*p))
    p++;
  if (p == start)
    return parse_error (error, SIM_DIGEST_ERROR_PARSE, "No authentication scheme");
  if (*p != '\0' && !is_lws (*p))
    return parse_error (error, SIM_DIGEST_ERROR_PARSE,
                        "Unexpected character after the authentication scheme");
  /* RFC 7235 §2.1: the scheme is a case-insensitive token. */
  if (p - start != 6 || g_ascii_strncasecmp (start, "Digest", 6) != 0)
    return parse_error (error, SIM_DIGEST_ERROR_UNSUPPORTED,
                        "Authentication scheme “%.*s” is not Digest",
                        (int) MIN (p - start, 32), start);

  for (;;)
    {
      const char *name;
      gsize name_len;
      gboolean known;
      guint index = 0;

      /* Empty list elements (",,") are allowed by the #rule. */
      while (is_lws (*p) || *p == ',')
        p++;
      if (*p == '\0')
        break;

      name = p;
      while (is_tchar (*p))
        p++;
      name_len = p - name;
      if (name_len == 0)
        return parse_error (error, SIM_DIGEST_ERROR_PARSE, "Expected a parameter name");

      p = skip_lws (p);
      if (*p != '=')
        return parse_error (error, SIM_DIGEST_ERROR_PARSE,
                            "Parameter “%.*s” has no value", (int) MIN (name_len, 32), name);
      p = skip_lws (p + 1);

      known = find_param (names, n_names, name, name_len, &index);
      if (known && values[index] != NULL)
        return parse_error (error, SIM_DIGEST_ERROR_PARSE,
                            "Parameter “%s” appears twice", names[index].name);

      if (*p == '"')
        {
          /* RFC 7230 §3.2.6 quoted-string with quoted-pair; a pair may quote any byte that
           * could stand on its own, and '"' or '\'. */
          const char *v = ++p;
          gsize n_pairs = 0;

          for (;;)
            {
              while (is_qdtext (*p))
                p++;
              if (*p == '"')
                break;
              if (*p == '\\' && (is_qdtext (p[1]) || p[1] == '"' || p[1] == '\\'))
                {
                  p += 2;
                  n_pairs++;
                  continue;
                }
              if (*p == '\\')
                p++;
              return parse_error (error, SIM_DIGEST_ERROR_PARSE,
                                  *p == '\0' ? "Unterminated quoted string"
                                             : "Control character in a quoted string");
            }
          if (known)
            values[index] = unquote (v, p - v, n_pairs);
          p++;
        }
      else
        {
          const char *v = p;

          while (is_tchar (*p))
            p++;
          if (p == v)
            return parse_error (error, SIM_DIGEST_ERROR_PARSE,
                                "Parameter “%.*s” has an empty or invalid value",
                                (int) MIN (name_len, 32), name);
          if (known)
            values[index] = g_strndup (v, p - v);
        }

      p = skip_lws (p);
      if (*p != ',' && *p != '\0')
        return parse_error (error, SIM_DIGEST_ERROR_PARSE,
                            "Expected “,” after parameter “%.*s”",
                            (int) MIN (name_len, 32), name);
    }

  return TRUE;
}

/* Does the comma-separated qop-options list (RFC 7616 §3.3) contain "auth"? */
static gboolean
qop_list_has_auth (const char *list)
{
  /* Item by item in place, each stripped of ASCII white space as g_strstrip would. */
  for (const char *item = list; item != NULL; )
    {
      const char *comma = strchr (item, ',');
      const char *end = comma != NULL ? comma : item + strlen (item);

      while (item < end && g_ascii_isspace (*item))
        item++;
      while (end > item && g_ascii_isspace (end[-1]))
        end--;
      if (end - item == 4 && g_ascii_strncasecmp (item, "auth", 4) == 0)
        return TRUE;
      item = comma != NULL ? comma + 1 : NULL;
    }
  return FALSE;
}

enum {
  CH_REALM,
  CH_NONCE,
  CH_OPAQUE,
  CH_QOP,
  CH_STALE,
  CH_ALGORITHM,
  CH_N
};

gboolean
sim_digest_challenge_parse (const char          *value,
                            SimDigestChallenge  *challenge,
                            GError             **error)
{
  static const ParamName names[CH_N] = {
    [CH_REALM] = PARAM_NAME ("realm"),
    [CH_NONCE] = PARAM_NAME ("nonce"),
    [CH_OPAQUE] = PARAM_NAME ("opaque"),
    [CH_QOP] = PARAM_NAME ("qop"),
    [CH_STALE] = PARAM_NAME ("stale"),
    [CH_ALGORITHM] = PARAM_NAME ("algorithm"),
  };
  char *values[CH_N] = { NULL, };
  SimDigestAlgorithm algorithm;
  gboolean ok = FALSE;

  g_return_val_if_fail (challenge != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!parse_params (value, names, values, CH_N, error))
    goto out;

  /* RFC 7616 §3.3: realm and nonce are required. */
  if (values[CH_REALM] == NULL || values[CH_NONCE] == NULL)
    {
      parse_error (error, SIM_DIGEST_ERROR_PARSE, "Challenge without %s",
                   values[CH_REALM] == NULL ? "realm" : "nonce");
      goto out;
    }
  if (!sim_digest_algorithm_from_name (values[CH_ALGORITHM], &algorithm))
    {
      parse_error (error, SIM_DIGEST_ERROR_UNSUPPORTED, "Unsupported algorithm “%s”",
                   values[CH_ALGORITHM]);
      goto out;
    }
  /* Without qop the server speaks RFC 2069; with it, we can only answer "auth". */
  if (values[CH_QOP] != NULL && !qop_list_has_auth (values[CH_QOP]))
    {
      parse_error (error, SIM_DIGEST_ERROR_UNSUPPORTED, "The challenge does not offer qop=auth");
      goto out;
    }

  challenge->realm = g_steal_pointer (&values[CH_REALM]);
  challenge->nonce = g_steal_pointer (&values[CH_NONCE]);
  challenge->opaque = g_steal_pointer (&values[CH_OPAQUE]);
  challenge->qop = values[CH_QOP] != NULL ? g_strdup ("auth") : NULL;
  /* RFC 7616 §3.3: stale is "true" (case-insensitive) or anything else, meaning false. */
  challenge->stale = values[CH_STALE] != NULL && g_ascii_strcasecmp (values[CH_STALE], "true") == 0;
  challenge->algorithm = algorithm;
  ok = TRUE;

out:
  for (guint i = 0; i < CH_N; i++)
    g_free (values[i]);
  return ok;
}

enum {
  CR_USERNAME,
  CR_REALM,
  CR_NONCE,
  CR_URI,
  CR_RESPONSE,
  CR_ALGORITHM,
  CR_CNONCE,
  CR_OPAQUE,
  CR_QOP,
  CR_NC,
  CR_USERHASH,
  CR_N
};

static gboolean
is_nc (const char *nc)
{
  /* RFC 7616 §3.4: nc-value = 8LHEX; upper case is accepted as clients differ. */
  for (guint i = 0; i < 8; i++)
    if (!g_ascii_isxdigit (nc[i]))
      return FALSE;
  return nc[8] == '\0';
}

static const ParamName credential_names[CR_N] = {
  [CR_USERNAME] = PARAM_NAME ("username"),
  [CR_REALM] = PARAM_NAME ("realm"),
  [CR_NONCE] = PARAM_NAME ("nonce"),
  [CR_URI] = PARAM_NAME ("uri"),
  [CR_RESPONSE] = PARAM_NAME ("response"),
  [CR_ALGORITHM] = PARAM_NAME ("algorithm"),
  [CR_CNONCE] = PARAM_NAME ("cnonce"),
  [CR_OPAQUE] = PARAM_NAME ("opaque"),
  [CR_QOP] = PARAM_NAME ("qop"),
  [CR_NC] = PARAM_NAME ("nc"),
  [CR_USERHASH] = PARAM_NAME ("userhash"),
};

/*
 * The checks on the parameter values of credentials, and the credentials made of them: the
 * pointers in @values move into @credentials (userhash stays), so on success the caller
 * frees only what is left in @values, and on failure everything.
 */
static gboolean
credentials_from_values (char                 **values,
                         SimDigestCredentials  *credentials,
                         gboolean              *algorithm_known,
                         GError               **error)
{
  SimDigestAlgorithm algorithm = SIM_DIGEST_MD5;
  gboolean known;

  for (guint i = CR_USERNAME; i <= CR_RESPONSE; i++)
    if (values[i] == NULL)
      return parse_error (error, SIM_DIGEST_ERROR_PARSE, "Credentials without %s",
                          credential_names[i].name);

  if (values[CR_QOP] != NULL)
    {
      if (g_ascii_strcasecmp (values[CR_QOP], "auth") != 0)
        return parse_error (error, SIM_DIGEST_ERROR_UNSUPPORTED, "Unsupported qop “%s”",
                            values[CR_QOP]);
      /* RFC 7616 §3.4: with qop, cnonce and nc MUST be sent. */
      if (values[CR_CNONCE] == NULL || values[CR_NC] == NULL)
        return parse_error (error, SIM_DIGEST_ERROR_PARSE, "qop=auth without %s",
                            values[CR_CNONCE] == NULL ? "cnonce" : "nc");
      if (!is_nc (values[CR_NC]))
        return parse_error (error, SIM_DIGEST_ERROR_PARSE, "nc is not 8 hex digits");
    }
  else if (values[CR_CNONCE] != NULL || values[CR_NC] != NULL)
    {
      /* RFC 2617 §3.2.2: without qop, cnonce and nc MUST NOT be sent. */
      return parse_error (error, SIM_DIGEST_ERROR_PARSE, "cnonce or nc without qop");
    }

  /* RFC 7616 §3.4.4: a hashed username would need a user table search we do not do. */
  if (values[CR_USERHASH] != NULL && g_ascii_strcasecmp (values[CR_USERHASH], "true") == 0)
    return parse_error (error, SIM_DIGEST_ERROR_UNSUPPORTED, "userhash=true is not supported");

  known = sim_digest_algorithm_from_name (values[CR_ALGORITHM], &algorithm);
  if (!known && algorithm_known == NULL)
    return parse_error (error, SIM_DIGEST_ERROR_UNSUPPORTED, "Unsupported algorithm “%s”",
                        values[CR_ALGORITHM]);
  if (algorithm_known != NULL)
    *algorithm_known = known;

  credentials->username = g_steal_pointer (&values[CR_USERNAME]);
  credentials->realm = g_steal_pointer (&values[CR_REALM]);
  credentials->nonce = g_steal_pointer (&values[CR_NONCE]);
  credentials->uri = g_steal_pointer (&values[CR_URI]);
  credentials->response = g_steal_pointer (&values[CR_RESPONSE]);
  credentials->cnonce = g_steal_pointer (&values[CR_CNONCE]);
  credentials->nc = g_steal_pointer (&values[CR_NC]);
  /* Case-insensitively equal to "auth", so four bytes: written over in lower case. */
  credentials->qop = g_steal_pointer (&values[CR_QOP]);
  if (credentials->qop != NULL)
    memcpy (credentials->qop, "auth", 4);
  credentials->opaque = g_steal_pointer (&values[CR_OPAQUE]);
  credentials->algorithm_name = g_steal_pointer (&values[CR_ALGORITHM]);
  credentials->algorithm = algorithm;
  return TRUE;
}

gboolean
sim_digest_credentials_parse_full (const char            *value,
                                   SimDigestCredentials  *credentials,
                                   gboolean              *algorithm_known,
                                   GError               **error)
{
  char *values[CR_N] = { NULL, };
  gboolean ok;

  g_return_val_if_fail (credentials != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  ok = parse_params (value, credential_names, values, CR_N, error) &&
       credentials_from_values (values, credentials, algorithm_known, error);

  for (guint i = 0; i < CR_N; i++)
    g_free (values[i]);
  return ok;
}

char *
sim_digest_params_to_string (const char           *scheme,
                             const SimDigestParam *params,
                             guint                 n_params)
{
  GString *out;
  gboolean first = TRUE;

  g_return_val_if_fail (scheme != NULL, NULL);
  g_return_val_if_fail (params != NULL || n_params == 0, NULL);

  out = g_string_sized_new (512);
  g_string_append (out, scheme);
  for (guint i = 0; i < n_params; i++)
    if (params[i].value != NULL)
      {
        if (!first)
          g_string_append_c (out, ',');
        first = FALSE;
        g_string_append_c (out, ' ');
        g_string_append (out, params[i].name);
        g_string_append_c (out, '=');
        g_string_append (out, params[i].value);
      }
  return g_string_free (out, FALSE);
}

/* A non-empty run of tchar up to the NUL: a token standing alone. */
static gboolean
is_whole_token (const char *text,
                gsize      *len)
{
  const char *p = text;

  while (is_tchar (*p))
    p++;
  *len = p - text;
  return *len > 0 && *p == '\0';
}

/*
 * Is @value, standing alone, what parse_params() reads as one whole value: a token, or one
 * quoted-string that ends where @value does?  Then it reads it the same in the header text,
 * where a ',' or the end follows it.  @content and @len give the value's bytes, @n_pairs the
 * quoted-pairs among them.
 */
static gboolean
is_plain_value (const char  *value,
                const char **content,
                gsize       *len,
                gsize       *n_pairs)
{
  const char *p;

  *n_pairs = 0;
  if (value[0] != '"')
    {
      *content = value;
      return is_whole_token (value, len);
    }

  /* The quoted-string scanner of parse_params(). */
  p = value + 1;
  for (;;)
    {
      while (is_qdtext (*p))
        p++;
      if (*p == '"')
        break;
      if (*p == '\\' && (is_qdtext (p[1]) || p[1] == '"' || p[1] == '\\'))
        {
          p += 2;
          (*n_pairs)++;
          continue;
        }
      return FALSE;
    }
  *content = value + 1;
  *len = p - (value + 1);
  return p[1] == '\0';
}

/* More parameters than this are left to the text parser (libosip2 knows 16). */
#define PLAIN_PARAMS_MAX 32

SimDigestParamsResult
sim_digest_credentials_parse_params (const char            *scheme,
                                     const SimDigestParam  *params,
                                     guint                  n_params,
                                     char                  *storage,
                                     gsize                  storage_len,
                                     SimDigestCredentials  *credentials,
                                     gboolean              *algorithm_known,
                                     GError               **error)
{
  struct {
    const char *content;
    gsize len;
    gsize n_pairs;
    gsize name_len;
  } spans[PLAIN_PARAMS_MAX];
  char *values[CR_N] = { NULL, };
  gsize scheme_len;
  gsize room = storage_len;
  char *out = storage;

  g_return_val_if_fail (scheme != NULL, SIM_DIGEST_PARAMS_NOT_PLAIN);
  g_return_val_if_fail (params != NULL || n_params == 0, SIM_DIGEST_PARAMS_NOT_PLAIN);
  g_return_val_if_fail (credentials != NULL, SIM_DIGEST_PARAMS_NOT_PLAIN);
  g_return_val_if_fail (error == NULL || *error == NULL, SIM_DIGEST_PARAMS_NOT_PLAIN);

  /* The text would start "scheme name=...": parse_params() wants the token Digest. */
  if (!is_whole_token (scheme, &scheme_len) || n_params > PLAIN_PARAMS_MAX)
    return SIM_DIGEST_PARAMS_NOT_PLAIN;
  if (scheme_len != 6 || g_ascii_strncasecmp (scheme, "Digest", 6) != 0)
    {
      parse_error (error, SIM_DIGEST_ERROR_UNSUPPORTED, "Authentication scheme “%.*s” is not Digest",
                   (int) MIN (scheme_len, 32), scheme);
      return SIM_DIGEST_PARAMS_INVALID;
    }

  /* First every value must be plain: a value that is not could read as several parameters in
   * the text, or fail there in a way of its own, and only the text parser can tell. */
  for (guint i = 0; i < n_params; i++)
    {
      spans[i].content = NULL;
      if (params[i].value == NULL)
        continue;
      if (params[i].name == NULL || !is_whole_token (params[i].name, &spans[i].name_len) ||
          !is_plain_value (params[i].value, &spans[i].content, &spans[i].len,
                           &spans[i].n_pairs))
        return SIM_DIGEST_PARAMS_NOT_PLAIN;
    }

  for (guint i = 0; i < n_params; i++)
    {
      gsize len = spans[i].len - spans[i].n_pairs;
      guint index = 0;

      if (spans[i].content == NULL ||
          !find_param (credential_names, CR_N, params[i].name, spans[i].name_len, &index))
        continue;
      if (values[index] != NULL)
        {
          /* RFC 7235 §2.1, as parse_params() has it. */
          parse_error (error, SIM_DIGEST_ERROR_PARSE, "Parameter “%s” appears twice",
                       credential_names[index].name);
          return SIM_DIGEST_PARAMS_INVALID;
        }
      if (len + 1 > room)
        return SIM_DIGEST_PARAMS_NOT_PLAIN;
      values[index] = out;
      if (spans[i].n_pairs == 0)
        memcpy (out, spans[i].content, len);
      else
        for (const char *p = spans[i].content, *end = p + spans[i].len; p < end; )
          {
            if (*p == '\\')
              p++;
            *out++ = *p++;
          }
      out = values[index] + len;
      *out++ = '\0';
      room -= len + 1;
    }

  if (!credentials_from_values (values, credentials, algorithm_known, error))
    return SIM_DIGEST_PARAMS_INVALID;
  return SIM_DIGEST_PARAMS_PARSED;
}

gboolean
sim_digest_credentials_parse (const char            *value,
                              SimDigestCredentials  *credentials,
                              GError               **error)
{
  return sim_digest_credentials_parse_full (value, credentials, NULL, error);
}

/* Formatting.  A header value is written straight into one allocation sized in advance: a
 * Writer knows the most each parameter can take, so nothing is ever grown or copied twice. */

typedef struct {
  char *str;
  char *end;        /* where the next byte goes */
  guint n_params;
} Writer;

/* The most a parameter can take: ", " name "=" and a value with every byte quoted. */
static gsize
param_room (const char *name,
            const char *value)
{
  return value != NULL ? 2 + strlen (name) + 3 + 2 * strlen (value) : 0;
}

static void
writer_init (Writer     *w,
             const char *scheme,
             gsize       room)
{
  gsize len = strlen (scheme);

  w->str = g_malloc (len + room + 1);
  memcpy (w->str, scheme, len);
  w->end = w->str + len;
  w->n_params = 0;
}

static char *
writer_finish (Writer *w)
{
  *w->end = '\0';
  return w->str;
}

static void
put (Writer     *w,
     const char *bytes,
     gsize       len)
{
  memcpy (w->end, bytes, len);
  w->end += len;
}

static void
put_name (Writer     *w,
          const char *name)
{
  if (w->n_params++ > 0)
    put (w, ", ", 2);
  put (w, name, strlen (name));
  *w->end++ = '=';
}

/* Writes @value as the inside of a quoted-string.  Controls other than HTAB are dropped, so no
 * value can break the header line (the parser refuses them for the same reason). */
static void
put_quoted_text (Writer     *w,
                 const char *value)
{
  const char *p = value;

  for (;;)
    {
      const char *run = p;

      while (is_qdtext (*p))
        p++;
      put (w, run, p - run);
      if (*p == '\0')
        break;
      if (*p == '"' || *p == '\\')
        {
          *w->end++ = '\\';
          *w->end++ = *p;
        }
      p++;
    }
}

static void
put_quoted (Writer     *w,
            const char *name,
            const char *value)
{
  put_name (w, name);
  *w->end++ = '"';
  put_quoted_text (w, value);
  *w->end++ = '"';
}

/* Writes a token value; only ever called with values we made or validated. */
static void
put_token (Writer     *w,
           const char *name,
           const char *value)
{
  put_name (w, name);
  for (const char *p = value; *p != '\0'; p++)
    if (is_tchar (*p))
      *w->end++ = *p;
}

/* The header for @challenge with @nonce; *@nonce_at gets the offset of the nonce in it. */
static char *
format_challenge (const SimDigestChallenge *challenge,
                  const char               *nonce,
                  gsize                    *nonce_at)
{
  const char *algorithm = sim_digest_algorithm_name (challenge->algorithm);
  Writer w;

  writer_init (&w, "Digest ",
               param_room ("realm", challenge->realm) +
               param_room ("nonce", nonce) +
               param_room ("opaque", challenge->opaque) +
               param_room ("algorithm", algorithm) +
               param_room ("qop", challenge->qop) +
               param_room ("stale", challenge->stale ? "true" : NULL));
  put_quoted (&w, "realm", challenge->realm);
  put_name (&w, "nonce");
  *w.end++ = '"';
  *nonce_at = w.end - w.str;
  put_quoted_text (&w, nonce);
  *w.end++ = '"';
  if (challenge->opaque != NULL)
    put_quoted (&w, "opaque", challenge->opaque);
  put_token (&w, "algorithm", algorithm);
  /* RFC 7616 §3.3: in a challenge qop is a quoted list of options. */
  if (challenge->qop != NULL)
    put_quoted (&w, "qop", challenge->qop);
  if (challenge->stale)
    put_token (&w, "stale", "true");
  return writer_finish (&w);
}

char *
sim_digest_challenge_format (const SimDigestChallenge *challenge)
{
  gsize nonce_at;

  g_return_val_if_fail (challenge != NULL, NULL);
  g_return_val_if_fail (challenge->realm != NULL, NULL);
  g_return_val_if_fail (challenge->nonce != NULL, NULL);

  return format_challenge (challenge, challenge->nonce, &nonce_at);
}

void
sim_digest_challenge_format_split (const SimDigestChallenge  *challenge,
                                   char                     **before,
                                   char                     **after)
{
  g_autofree char *text = NULL;
  gsize nonce_at;

  g_return_if_fail (challenge != NULL);
  g_return_if_fail (challenge->realm != NULL);
  g_return_if_fail (before != NULL);
  g_return_if_fail (after != NULL);

  text = format_challenge (challenge, "", &nonce_at);
  *before = g_strndup (text, nonce_at);
  *after = g_strdup (text + nonce_at);
}

char *
sim_digest_credentials_format (const SimDigestCredentials *credentials)
{
  const char *algorithm;
  Writer w;

  g_return_val_if_fail (credentials != NULL, NULL);
  g_return_val_if_fail (credentials->username != NULL, NULL);
  g_return_val_if_fail (credentials->realm != NULL, NULL);
  g_return_val_if_fail (credentials->nonce != NULL, NULL);
  g_return_val_if_fail (credentials->uri != NULL, NULL);
  g_return_val_if_fail (credentials->response != NULL, NULL);

  algorithm = sim_digest_algorithm_name (credentials->algorithm);
  writer_init (&w, "Digest ",
               param_room ("username", credentials->username) +
               param_room ("realm", credentials->realm) +
               param_room ("nonce", credentials->nonce) +
               param_room ("uri", credentials->uri) +
               param_room ("response", credentials->response) +
               param_room ("algorithm", algorithm) +
               param_room ("cnonce", credentials->cnonce) +
               param_room ("qop", credentials->qop) +
               param_room ("nc", credentials->nc) +
               param_room ("opaque", credentials->opaque));
  put_quoted (&w, "username", credentials->username);
  put_quoted (&w, "realm", credentials->realm);
  put_quoted (&w, "nonce", credentials->nonce);
  put_quoted (&w, "uri", credentials->uri);
  put_quoted (&w, "response", credentials->response);
  /* RFC 7616 §3.4: algorithm, qop and nc are tokens in credentials, not quoted. */
  put_token (&w, "algorithm", algorithm);
  if (credentials->cnonce != NULL)
    put_quoted (&w, "cnonce", credentials->cnonce);
  if (credentials->qop != NULL)
    put_token (&w, "qop", credentials->qop);
  if (credentials->nc != NULL)
    put_token (&w, "nc", credentials->nc);
  if (credentials->opaque != NULL)
    put_quoted (&w, "opaque", credentials->opaque);
  return writer_finish (&w);
}

void
sim_digest_answer (const SimDigestChallenge *challenge,
                   const char               *username,
                   const char               *password,
                   const char               *method,
                   const char               *uri,
                   const char               *cnonce,
                   guint                     nc,
                   SimDigestCredentials     *out)
{
  g_autofree char *ha1 = NULL;
  g_autofree char *ha2 = NULL;
  gboolean with_qop;

  g_return_if_fail (challenge != NULL);
  g_return_if_fail (challenge->realm != NULL);
  g_return_if_fail (challenge->nonce != NULL);
  g_return_if_fail (username != NULL);
  g_return_if_fail (password != NULL);
  g_return_if_fail (method != NULL);
  g_return_if_fail (uri != NULL);
  g_return_if_fail (out != NULL);

  /* RFC 7616 §3.4: answer with qop=auth whenever the server offers it; cnonce is then
   * required, so a caller without one gets the RFC 2069 form. */
  with_qop = challenge->qop != NULL && qop_list_has_auth (challenge->qop);
  g_return_if_fail (!with_qop || cnonce != NULL);

  memset (out, 0, sizeof *out);
  out->username = g_strdup (username);
  out->realm = g_strdup (challenge->realm);
  out->nonce = g_strdup (challenge->nonce);
  out->uri = g_strdup (uri);
  out->opaque = g_strdup (challenge->opaque);
  out->algorithm = challenge->algorithm;
  out->algorithm_name = g_strdup (sim_digest_algorithm_name (challenge->algorithm));
  if (with_qop)
    {
      out->qop = g_strdup ("auth");
      out->cnonce = g_strdup (cnonce);
      /* "%08x", without printf: every answer to a challenge writes one. */
      out->nc = g_malloc (9);
      for (int i = 7; i >= 0; i--, nc >>= 4)
        out->nc[i] = "0123456789abcdef"[nc & 0xf];
      out->nc[8] = '\0';
    }

  ha1 = sim_digest_ha1 (out->algorithm, username, out->realm, password);
  ha2 = sim_digest_ha2 (out->algorithm, method, uri);
  out->response = sim_digest_response (out->algorithm, ha1, out->nonce, out->nc, out->cnonce,
                                       out->qop, ha2);
}
