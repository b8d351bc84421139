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

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EVP_MD_CTX, EVP_MD_CTX_free)

static const struct {
  const char *name;       /* RFC 7616 §6.1 registry name */
  const char *ossl_name;  /* OpenSSL 3 fetch name */
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

      /* Only a crippled OpenSSL (a FIPS-only provider has no MD5) gets here. */
      if (md == NULL)
        g_error ("OpenSSL provides no %s digest", algorithms[algorithm].ossl_name);
      g_once_init_leave (&mds[algorithm], md);
    }

  return mds[algorithm];
}

static char *
hex_encode (const guint8 *bytes,
            gsize         len)
{
  static const char digits[] = "0123456789abcdef";
  char *hex = g_malloc (len * 2 + 1);

  for (gsize i = 0; i < len; i++)
    {
      hex[2 * i] = digits[bytes[i] >> 4];
      hex[2 * i + 1] = digits[bytes[i] & 0xf];
    }
  hex[len * 2] = '\0';
  return hex;
}

/* H() over the parts joined by ':', without building the joined string. */
static char *
hash_joined (SimDigestAlgorithm  algorithm,
             const char * const *parts,
             guint               n_parts)
{
  g_autoptr(EVP_MD_CTX) ctx = EVP_MD_CTX_new ();
  guint8 md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;

  if (ctx == NULL || !EVP_DigestInit_ex (ctx, get_md (algorithm), NULL))
    g_error ("OpenSSL cannot start a %s digest", sim_digest_algorithm_name (algorithm));

  for (guint i = 0; i < n_parts; i++)
    {
      if (i > 0)
        EVP_DigestUpdate (ctx, ":", 1);
      if (parts[i] != NULL)
        EVP_DigestUpdate (ctx, parts[i], strlen (parts[i]));
    }

  if (!EVP_DigestFinal_ex (ctx, md, &md_len))
    g_error ("OpenSSL cannot finish a %s digest", sim_digest_algorithm_name (algorithm));

  return hex_encode (md, md_len);
}

char *
sim_digest_hash_hex (SimDigestAlgorithm  algorithm,
                     const char         *data,
                     gsize               len)
{
  guint8 md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;

  g_return_val_if_fail ((guint) algorithm < SIM_DIGEST_N_ALGORITHMS, NULL);
  g_return_val_if_fail (data != NULL || len == 0, NULL);

  if (!EVP_Digest (data != NULL ? data : "", len, md, &md_len, get_md (algorithm), NULL))
    g_error ("OpenSSL cannot compute a %s digest", sim_digest_algorithm_name (algorithm));

  return hex_encode (md, md_len);
}

char *
sim_digest_ha1 (SimDigestAlgorithm  algorithm,
                const char         *username,
                const char         *realm,
                const char         *password)
{
  const char *parts[] = { username, realm, password };

  g_return_val_if_fail ((guint) algorithm < SIM_DIGEST_N_ALGORITHMS, NULL);
  g_return_val_if_fail (username != NULL, NULL);
  g_return_val_if_fail (realm != NULL, NULL);
  g_return_val_if_fail (password != NULL, NULL);

  /* RFC 7616 §3.4.2: A1 = unq(username) ":" unq(realm) ":" passwd */
  return hash_joined (algorithm, parts, G_N_ELEMENTS (parts));
}

char *
sim_digest_ha2 (SimDigestAlgorithm  algorithm,
                const char         *method,
                const char         *uri)
{
  const char *parts[] = { method, uri };

  g_return_val_if_fail ((guint) algorithm < SIM_DIGEST_N_ALGORITHMS, NULL);
  g_return_val_if_fail (method != NULL, NULL);
  g_return_val_if_fail (uri != NULL, NULL);

  /* RFC 7616 §3.4.3: with qop=auth (or none), A2 = Method ":" request-uri */
  return hash_joined (algorithm, parts, G_N_ELEMENTS (parts));
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
  g_return_val_if_fail ((guint) algorithm < SIM_DIGEST_N_ALGORITHMS, NULL);
  g_return_val_if_fail (ha1 != NULL, NULL);
  g_return_val_if_fail (nonce != NULL, NULL);
  g_return_val_if_fail (ha2 != NULL, NULL);

  if (qop == NULL)
    {
      /* RFC 2069 §2.1.1, kept by RFC 2617 §3.2.2.1 for old clients. */
      const char *parts[] = { ha1, nonce, ha2 };

      return hash_joined (algorithm, parts, G_N_ELEMENTS (parts));
    }
  else
    {
      /* RFC 7616 §3.4.1: KD(HA1, nonce:nc:cnonce:qop:HA2) */
      const char *parts[] = { ha1, nonce, nc, cnonce, qop, ha2 };

      g_return_val_if_fail (nc != NULL, NULL);
      g_return_val_if_fail (cnonce != NULL, NULL);
      return hash_joined (algorithm, parts, G_N_ELEMENTS (parts));
    }
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

/* RFC 7230 §3.2.6 tchar */
static gboolean
is_tchar (char c)
{
  return g_ascii_isalnum (c) || (c != '\0' && strchr ("!#$%&'*+-.^_`|~", c) != NULL);
}

/* Whitespace, including the CR LF of a folded header line (RFC 3261 §7.3.1). */
static gboolean
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

/*
 * Reads 'Digest name=value, name="value", ...' and stores the values of the parameters named
 * in @names into @values (same index), unquoted.  Unknown parameters are skipped; a repeated
 * known one is an error (RFC 7235 §2.1: each parameter name MUST only occur once), because two
 * readers could otherwise pick different copies.  On failure @values may be partly filled.
 */
static gboolean
parse_params (const char         *value,
              const char * const *names,
              char              **values,
              guint               n_names,
              GError            **error)
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
      GString *buf = NULL;
      int index = -1;

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

      for (guint i = 0; i < n_names; i++)
        if (strlen (names[i]) == name_len && g_ascii_strncasecmp (name, names[i], name_len) == 0)
          {
            index = i;
            break;
          }
      if (index >= 0)
        {
          if (values[index] != NULL)
            return parse_error (error, SIM_DIGEST_ERROR_PARSE,
                                "Parameter “%s” appears twice", names[index]);
          buf = g_string_new (NULL);
        }

      if (*p == '"')
        {
          /* RFC 7230 §3.2.6 quoted-string with quoted-pair. */
          p++;
          while (*p != '"')
            {
              if (*p == '\\')
                p++;
              /* Controls other than HTAB (a NUL ends the input) have no place here, and
               * letting CR or LF through would let a value inject header lines. */
              if (*p == '\0' || ((guchar) *p < 0x20 && *p != '\t') || *p == 0x7f)
                {
                  if (buf != NULL)
                    g_string_free (buf, TRUE);
                  return parse_error (error, SIM_DIGEST_ERROR_PARSE,
                                      *p == '\0' ? "Unterminated quoted string"
                                                 : "Control character in a quoted string");
                }
              if (buf != NULL)
                g_string_append_c (buf, *p);
              p++;
            }
          p++;
        }
      else
        {
          const char *v = p;

          while (is_tchar (*p))
            p++;
          if (p == v)
            {
              if (buf != NULL)
                g_string_free (buf, TRUE);
              return parse_error (error, SIM_DIGEST_ERROR_PARSE,
                                  "Parameter “%.*s” has an empty or invalid value",
                                  (int) MIN (name_len, 32), name);
            }
          if (buf != NULL)
            g_string_append_len (buf, v, p - v);
        }

      if (buf != NULL)
        values[index] = g_string_free (buf, FALSE);

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
  g_auto(GStrv) items = g_strsplit (list, ",", -1);

  for (guint i = 0; items[i] != NULL; i++)
    if (g_ascii_strcasecmp (g_strstrip (items[i]), "auth") == 0)
      return TRUE;
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
  static const char * const names[CH_N] = {
    [CH_REALM] = "realm",
    [CH_NONCE] = "nonce",
    [CH_OPAQUE] = "opaque",
    [CH_QOP] = "qop",
    [CH_STALE] = "stale",
    [CH_ALGORITHM] = "algorithm",
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

gboolean
sim_digest_credentials_parse_full (const char            *value,
                                   SimDigestCredentials  *credentials,
                                   gboolean              *algorithm_known,
                                   GError               **error)
{
  static const char * const names[CR_N] = {
    [CR_USERNAME] = "username",
    [CR_REALM] = "realm",
    [CR_NONCE] = "nonce",
    [CR_URI] = "uri",
    [CR_RESPONSE] = "response",
    [CR_ALGORITHM] = "algorithm",
    [CR_CNONCE] = "cnonce",
    [CR_OPAQUE] = "opaque",
    [CR_QOP] = "qop",
    [CR_NC] = "nc",
    [CR_USERHASH] = "userhash",
  };
  char *values[CR_N] = { NULL, };
  SimDigestAlgorithm algorithm = SIM_DIGEST_MD5;
  gboolean known;
  gboolean ok = FALSE;

  g_return_val_if_fail (credentials != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!parse_params (value, names, values, CR_N, error))
    goto out;

  for (guint i = CR_USERNAME; i <= CR_RESPONSE; i++)
    if (values[i] == NULL)
      {
        parse_error (error, SIM_DIGEST_ERROR_PARSE, "Credentials without %s", names[i]);
        goto out;
      }

  if (values[CR_QOP] != NULL)
    {
      if (g_ascii_strcasecmp (values[CR_QOP], "auth") != 0)
        {
          parse_error (error, SIM_DIGEST_ERROR_UNSUPPORTED, "Unsupported qop “%s”",
                       values[CR_QOP]);
          goto out;
        }
      /* RFC 7616 §3.4: with qop, cnonce and nc MUST be sent. */
      if (values[CR_CNONCE] == NULL || values[CR_NC] == NULL)
        {
          parse_error (error, SIM_DIGEST_ERROR_PARSE, "qop=auth without %s",
                       values[CR_CNONCE] == NULL ? "cnonce" : "nc");
          goto out;
        }
      if (!is_nc (values[CR_NC]))
        {
          parse_error (error, SIM_DIGEST_ERROR_PARSE, "nc is not 8 hex digits");
          goto out;
        }
    }
  else if (values[CR_CNONCE] != NULL || values[CR_NC] != NULL)
    {
      /* RFC 2617 §3.2.2: without qop, cnonce and nc MUST NOT be sent. */
      parse_error (error, SIM_DIGEST_ERROR_PARSE, "cnonce or nc without qop");
      goto out;
    }

  /* RFC 7616 §3.4.4: a hashed username would need a user table search we do not do. */
  if (values[CR_USERHASH] != NULL && g_ascii_strcasecmp (values[CR_USERHASH], "true") == 0)
    {
      parse_error (error, SIM_DIGEST_ERROR_UNSUPPORTED, "userhash=true is not supported");
      goto out;
    }

  known = sim_digest_algorithm_from_name (values[CR_ALGORITHM], &algorithm);
  if (!known && algorithm_known == NULL)
    {
      parse_error (error, SIM_DIGEST_ERROR_UNSUPPORTED, "Unsupported algorithm “%s”",
                   values[CR_ALGORITHM]);
      goto out;
    }
  if (algorithm_known != NULL)
    *algorithm_known = known;

  credentials->username = g_steal_pointer (&values[CR_USERNAME]);
  credentials->realm = g_steal_pointer (&values[CR_REALM]);
  credentials->nonce = g_steal_pointer (&values[CR_NONCE]);
  credentials->uri = g_steal_pointer (&values[CR_URI]);
  credentials->response = g_steal_pointer (&values[CR_RESPONSE]);
  credentials->cnonce = g_steal_pointer (&values[CR_CNONCE]);
  credentials->nc = g_steal_pointer (&values[CR_NC]);
  credentials->qop = values[CR_QOP] != NULL ? g_strdup ("auth") : NULL;
  credentials->opaque = g_steal_pointer (&values[CR_OPAQUE]);
  credentials->algorithm_name = g_steal_pointer (&values[CR_ALGORITHM]);
  credentials->algorithm = algorithm;
  ok = TRUE;

out:
  for (guint i = 0; i < CR_N; i++)
    g_free (values[i]);
  return ok;
}

gboolean
sim_digest_credentials_parse (const char            *value,
                              SimDigestCredentials  *credentials,
                              GError               **error)
{
  return sim_digest_credentials_parse_full (value, credentials, NULL, error);
}

/* Formatting */

/* Appends @value as a quoted-string.  Controls other than HTAB are dropped, so no value can
 * break the header line (the parser refuses them for the same reason). */
static void
append_quoted (GString    *str,
               const char *name,
               const char *value)
{
  if (str->len > 0 && str->str[str->len - 1] != ' ')
    g_string_append (str, ", ");
  g_string_append (str, name);
  g_string_append (str, "=\"");
  for (const char *p = value; *p != '\0'; p++)
    {
      if (((guchar) *p < 0x20 && *p != '\t') || *p == 0x7f)
        continue;
      if (*p == '"' || *p == '\\')
        g_string_append_c (str, '\\');
      g_string_append_c (str, *p);
    }
  g_string_append_c (str, '"');
}

/* Appends a token value; only ever called with values we made or validated. */
static void
append_token (GString    *str,
              const char *name,
              const char *value)
{
  if (str->len > 0 && str->str[str->len - 1] != ' ')
    g_string_append (str, ", ");
  g_string_append (str, name);
  g_string_append_c (str, '=');
  for (const char *p = value; *p != '\0'; p++)
    if (is_tchar (*p))
      g_string_append_c (str, *p);
}

char *
sim_digest_challenge_format (const SimDigestChallenge *challenge)
{
  GString *str;

  g_return_val_if_fail (challenge != NULL, NULL);
  g_return_val_if_fail (challenge->realm != NULL, NULL);
  g_return_val_if_fail (challenge->nonce != NULL, NULL);

  str = g_string_new ("Digest ");
  append_quoted (str, "realm", challenge->realm);
  append_quoted (str, "nonce", challenge->nonce);
  if (challenge->opaque != NULL)
    append_quoted (str, "opaque", challenge->opaque);
  append_token (str, "algorithm", sim_digest_algorithm_name (challenge->algorithm));
  /* RFC 7616 §3.3: in a challenge qop is a quoted list of options. */
  if (challenge->qop != NULL)
    append_quoted (str, "qop", challenge->qop);
  if (challenge->stale)
    append_token (str, "stale", "true");
  return g_string_free (str, FALSE);
}

char *
sim_digest_credentials_format (const SimDigestCredentials *credentials)
{
  GString *str;

  g_return_val_if_fail (credentials != NULL, NULL);
  g_return_val_if_fail (credentials->username != NULL, NULL);
  g_return_val_if_fail (credentials->realm != NULL, NULL);
  g_return_val_if_fail (credentials->nonce != NULL, NULL);
  g_return_val_if_fail (credentials->uri != NULL, NULL);
  g_return_val_if_fail (credentials->response != NULL, NULL);

  str = g_string_new ("Digest ");
  append_quoted (str, "username", credentials->username);
  append_quoted (str, "realm", credentials->realm);
  append_quoted (str, "nonce", credentials->nonce);
  append_quoted (str, "uri", credentials->uri);
  append_quoted (str, "response", credentials->response);
  /* RFC 7616 §3.4: algorithm, qop and nc are tokens in credentials, not quoted. */
  append_token (str, "algorithm", sim_digest_algorithm_name (credentials->algorithm));
  if (credentials->cnonce != NULL)
    append_quoted (str, "cnonce", credentials->cnonce);
  if (credentials->qop != NULL)
    append_token (str, "qop", credentials->qop);
  if (credentials->nc != NULL)
    append_token (str, "nc", credentials->nc);
  if (credentials->opaque != NULL)
    append_quoted (str, "opaque", credentials->opaque);
  return g_string_free (str, FALSE);
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
      out->nc = g_strdup_printf ("%08x", nc);
    }

  ha1 = sim_digest_ha1 (out->algorithm, username, out->realm, password);
  ha2 = sim_digest_ha2 (out->algorithm, method, uri);
  out->response = sim_digest_response (out->algorithm, ha1, out->nonce, out->nc, out->cnonce,
                                       out->qop, ha2);
}
