/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "sim-tls.h"

#include <errno.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

/*
 * OpenSSL keeps its errors in a per-thread queue.  Every call here starts from an empty queue
 * and leaves it empty, so a failure on one connection never shows up as the reason of the
 * next one, nor in the digest code that shares libcrypto.
 */

G_DEFINE_QUARK (sim-tls-error-quark, sim_tls_error)

/* Decrypted bytes are read in chunks of this size (a TLS record holds at most 16 KiB). */
#define PLAIN_CHUNK 16384

struct _SimTlsContext {
  gint ref_count;
  SSL_CTX *ctx;
};

struct _SimTlsSession {
  SSL *ssl;
  BIO *rbio;                 /* what the peer sent, for OpenSSL to read (owned by ssl) */
  BIO *wbio;                 /* what OpenSSL wants sent (owned by ssl) */
  GByteArray *waiting;       /* application data sent before the handshake finished */
  gboolean established;
};

/* The oldest error of the queue in OpenSSL's words (the queue is emptied), or @fallback. */
static char *
openssl_error_text (const char *fallback)
{
  unsigned long code = ERR_get_error ();
  const char *reason;

  ERR_clear_error ();
  if (code == 0)
    return g_strdup (fallback);
  reason = ERR_reason_error_string (code);
  if (reason != NULL)
    return g_strdup (reason);
  {
    char buf[256];
    ERR_error_string_n (code, buf, sizeof buf);
    return g_strdup (buf);
  }
}

/* A passphrase callback that refuses: an encrypted key must never prompt on the terminal. */
static int
no_passphrase_cb (char *buf,
                  int   size,
                  int   rwflag,
                  void *user_data)
{
  return 0;
}

/* The file's bytes as a memory BIO, or NULL with "FILE: why" set. */
static BIO *
read_file_bio (const char  *path,
               char       **contents,
               GError     **error)
{
  gsize len = 0;
  g_autoptr(GError) local = NULL;

  if (!g_file_get_contents (path, contents, &len, &local))
    {
      /* "FILE: No such file or directory", not GLib's longer sentence around it. */
      int code = local->code == G_FILE_ERROR_NOENT ? ENOENT :
                 local->code == G_FILE_ERROR_ACCES ? EACCES :
                 local->code == G_FILE_ERROR_ISDIR ? EISDIR : 0;
      g_set_error (error, SIM_TLS_ERROR, SIM_TLS_ERROR_FILE, "%s: %s", path,
                   code != 0 ? g_strerror (code) : local->message);
      return NULL;
    }
  return BIO_new_mem_buf (*contents, (int) MIN (len, (gsize) G_MAXINT));
}

static X509 *
load_certificate (const char  *path,
                  GError     **error)
{
  g_autofree char *contents = NULL;
  BIO *bio = read_file_bio (path, &contents, error);
  X509 *cert;

  if (bio == NULL)
    return NULL;
  cert = PEM_read_bio_X509 (bio, NULL, no_passphrase_cb, NULL);
  BIO_free (bio);
  ERR_clear_error ();
  if (cert == NULL)
    g_set_error (error, SIM_TLS_ERROR, SIM_TLS_ERROR_FILE,
                 "%s: no PEM certificate in it (a \"-----BEGIN CERTIFICATE-----\" block)", path);
  return cert;
}

static EVP_PKEY *
load_key (const char  *path,
          GError     **error)
{
  g_autofree char *contents = NULL;
  BIO *bio = read_file_bio (path, &contents, error);
  EVP_PKEY *key;

  if (bio == NULL)
    return NULL;
  key = PEM_read_bio_PrivateKey (bio, NULL, no_passphrase_cb, NULL);
  BIO_free (bio);
  ERR_clear_error ();
  if (key == NULL)
    {
      gboolean encrypted = strstr (contents, "ENCRYPTED") != NULL;
      g_set_error (error, SIM_TLS_ERROR, SIM_TLS_ERROR_FILE,
                   encrypted ? "%s: the private key is encrypted; serve starts unattended, so "
                               "store it without a passphrase (openssl pkey -in KEY -out "
                               "KEY.plain) and keep the file private"
                             : "%s: no PEM private key in it (a \"-----BEGIN PRIVATE KEY-----\" "
                               "block)", path);
    }
  return key;
}

SimTlsContext *
sim_tls_context_new_server (const char  *cert_file,
                            const char  *key_file,
                            GError     **error)
{
  X509 *cert = NULL;
  EVP_PKEY *key = NULL;
  SimTlsContext *context = NULL;
  SSL_CTX *ctx = NULL;

  g_return_val_if_fail (cert_file != NULL && key_file != NULL, NULL);

  ERR_clear_error ();
  cert = load_certificate (cert_file, error);
  if (cert == NULL)
    goto out;
  key = load_key (key_file, error);
  if (key == NULL)
    goto out;
  if (X509_check_private_key (cert, key) != 1)
    {
      ERR_clear_error ();
      g_set_error (error, SIM_TLS_ERROR, SIM_TLS_ERROR_MISMATCH,
                   "%s: the private key does not belong to the certificate in %s", key_file,
                   cert_file);
      goto out;
    }
  ctx = SSL_CTX_new (TLS_server_method ());
  if (ctx == NULL ||
      /* TLS 1.0 and 1.1 are deprecated (RFC 8996); every phone of the last decade has 1.2. */
      SSL_CTX_set_min_proto_version (ctx, TLS1_2_VERSION) != 1 ||
      /* The file again, as a chain: intermediates after the server's certificate go along. */
      SSL_CTX_use_certificate_chain_file (ctx, cert_file) != 1 ||
      SSL_CTX_use_PrivateKey (ctx, key) != 1 ||
      SSL_CTX_check_private_key (ctx) != 1)
    {
      g_autofree char *why = openssl_error_text ("OpenSSL refused the certificate");
      g_set_error (error, SIM_TLS_ERROR, SIM_TLS_ERROR_FAILED, "%s: %s", cert_file, why);
      goto out;
    }
  /* A client could make us redo a handshake at will (TLS 1.2 renegotiation): refuse it. */
  SSL_CTX_set_options (ctx, SSL_OP_NO_RENEGOTIATION);
  /* Idle connections (phones between refreshes) give their read and write buffers back. */
  SSL_CTX_set_mode (ctx, SSL_MODE_RELEASE_BUFFERS);
  context = g_new0 (SimTlsContext, 1);
  context->ref_count = 1;
  context->ctx = g_steal_pointer (&ctx);

out:
  SSL_CTX_free (ctx);
  EVP_PKEY_free (key);
  X509_free (cert);
  ERR_clear_error ();
  return context;
}

SimTlsContext *
sim_tls_context_ref (SimTlsContext *context)
{
  g_return_val_if_fail (context != NULL, NULL);
  context->ref_count++;
  return context;
}

void
sim_tls_context_unref (SimTlsContext *context)
{
  if (context == NULL || --context->ref_count > 0)
    return;
  SSL_CTX_free (context->ctx);
  g_free (context);
}

SimTlsSession *
sim_tls_session_new_server (SimTlsContext *context)
{
  SimTlsSession *session;

  g_return_val_if_fail (context != NULL, NULL);

  session = g_new0 (SimTlsSession, 1);
  session->ssl = SSL_new (context->ctx);
  session->rbio = BIO_new (BIO_s_mem ());
  session->wbio = BIO_new (BIO_s_mem ());
  if (session->ssl == NULL || session->rbio == NULL || session->wbio == NULL)
    g_error ("OpenSSL is out of memory");
  /* An empty memory BIO reports "retry", not end of file: SSL_ERROR_WANT_READ. */
  BIO_set_mem_eof_return (session->rbio, -1);
  SSL_set_bio (session->ssl, session->rbio, session->wbio);
  SSL_set_accept_state (session->ssl);
  session->waiting = g_byte_array_new ();
  return session;
}

void
sim_tls_session_free (SimTlsSession *session)
{
  if (session == NULL)
    return;
  SSL_free (session->ssl);   /* frees both BIOs */
  g_byte_array_unref (session->waiting);
  g_free (session);
  ERR_clear_error ();
}

/* Moves everything OpenSSL wrote into its output BIO to @out. */
static void
drain_output (SimTlsSession *session,
              GByteArray    *out)
{
  char *data = NULL;
  long n = BIO_get_mem_data (session->wbio, &data);

  if (n > 0)
    g_byte_array_append (out, (const guint8 *) data, (guint) n);
  (void) BIO_reset (session->wbio);
}

/* Encrypts @len bytes into @out; the handshake is over. */
static gboolean
encrypt_records (SimTlsSession  *session,
         const guint8   *data,
         gsize           len,
         GByteArray     *out,
         char          **why)
{
  while (len > 0)
    {
      size_t written = 0;

      ERR_clear_error ();
      if (SSL_write_ex (session->ssl, data, len, &written) != 1)
        {
          int code = SSL_get_error (session->ssl, 0);

          /* A memory BIO never fills: WANT_WRITE only asks for the output to be taken. */
          drain_output (session, out);
          if (code == SSL_ERROR_WANT_WRITE)
            continue;
          if (why != NULL)
            *why = openssl_error_text ("TLS write failed");
          ERR_clear_error ();
          return FALSE;
        }
      data += written;
      len -= written;
    }
  drain_output (session, out);
  return TRUE;
}

gboolean
sim_tls_session_send (SimTlsSession  *session,
                      const guint8   *data,
                      gsize           len,
                      GByteArray     *out,
                      char          **why)
{
  g_return_val_if_fail (session != NULL && out != NULL, FALSE);

  if (!session->established)
    {
      g_byte_array_append (session->waiting, data, (guint) len);
      return TRUE;
    }
  return encrypt_records (session, data, len, out, why);
}

/* Runs the handshake on what arrived; SIM_TLS_OK also while it still needs more bytes. */
static SimTlsResult
handshake (SimTlsSession  *session,
           GByteArray     *out,
           char          **why)
{
  int ret;

  ERR_clear_error ();
  ret = SSL_do_handshake (session->ssl);
  drain_output (session, out);     /* our flight, or the alert that ends a failed handshake */
  if (ret == 1)
    {
      session->established = TRUE;
      if (session->waiting->len > 0)
        {
          g_autoptr(GByteArray) waiting = g_steal_pointer (&session->waiting);
          session->waiting = g_byte_array_new ();
          if (!encrypt_records (session, waiting->data, waiting->len, out, why))
            return SIM_TLS_FAILED;
        }
      return SIM_TLS_OK;
    }
  switch (SSL_get_error (session->ssl, ret))
    {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE:
      ERR_clear_error ();
      return SIM_TLS_OK;
    default:
      if (why != NULL)
        *why = openssl_error_text ("the TLS handshake failed");
      ERR_clear_error ();
      return SIM_TLS_FAILED;
    }
}

SimTlsResult
sim_tls_session_receive (SimTlsSession  *session,
                         const guint8   *data,
                         gsize           len,
                         GByteArray     *plain,
                         GByteArray     *out,
                         char          **why)
{
  guint8 chunk[PLAIN_CHUNK];

  g_return_val_if_fail (session != NULL && plain != NULL && out != NULL, SIM_TLS_FAILED);

  if (len > 0 && BIO_write (session->rbio, data, (int) MIN (len, (gsize) G_MAXINT)) <= 0)
    {
      if (why != NULL)
        *why = g_strdup ("out of memory for TLS input");
      ERR_clear_error ();
      return SIM_TLS_FAILED;
    }
  if (!session->established)
    {
      SimTlsResult result = handshake (session, out, why);
      if (result != SIM_TLS_OK || !session->established)
        return result;
    }
  /* Every whole record in the input is decrypted now; a partial one waits in the BIO. */
  for (;;)
    {
      size_t n = 0;
      int code;

      ERR_clear_error ();
      if (SSL_read_ex (session->ssl, chunk, sizeof chunk, &n) == 1)
        {
          g_byte_array_append (plain, chunk, (guint) n);
          continue;
        }
      code = SSL_get_error (session->ssl, 0);
      /* TLS 1.3 post-handshake messages (a KeyUpdate) may have an answer to send. */
      drain_output (session, out);
      switch (code)
        {
        case SSL_ERROR_WANT_READ:
        case SSL_ERROR_WANT_WRITE:
          ERR_clear_error ();
          return SIM_TLS_OK;
        case SSL_ERROR_ZERO_RETURN:
          ERR_clear_error ();
          return SIM_TLS_CLOSED;
        default:
          if (why != NULL)
            *why = openssl_error_text ("a TLS record could not be read");
          ERR_clear_error ();
          return SIM_TLS_FAILED;
        }
    }
}

gboolean
sim_tls_session_is_established (SimTlsSession *session)
{
  g_return_val_if_fail (session != NULL, FALSE);
  return session->established;
}

gsize
sim_tls_session_get_n_waiting (SimTlsSession *session)
{
  g_return_val_if_fail (session != NULL, 0);
  return session->waiting->len;
}

void
sim_tls_session_close_notify (SimTlsSession *session,
                              GByteArray    *out)
{
  g_return_if_fail (session != NULL && out != NULL);

  if (!session->established)
    return;
  ERR_clear_error ();
  (void) SSL_shutdown (session->ssl);
  drain_output (session, out);
  ERR_clear_error ();
}
