/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "sim-cert.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

G_DEFINE_QUARK (sim-cert-error-quark, sim_cert_error)

G_DEFINE_AUTOPTR_CLEANUP_FUNC (X509, X509_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (EVP_PKEY, EVP_PKEY_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BIO, BIO_free)

/* The four files, in the order they are written. */
enum { FILE_CA_CRT, FILE_CA_KEY, FILE_SERVER_CRT, FILE_SERVER_KEY, N_FILES };
static const char *const file_names[N_FILES] = { "ca.crt", "ca.key", "server.crt", "server.key" };

static gboolean
crypto_error (GError    **error,
              const char *what)
{
  char reason[256] = "";
  unsigned long code = ERR_get_error ();

  if (code != 0)
    ERR_error_string_n (code, reason, sizeof reason);
  ERR_clear_error ();
  g_set_error (error, SIM_CERT_ERROR, SIM_CERT_ERROR_CRYPTO, "%s failed%s%s", what,
               code != 0 ? ": " : "", reason);
  return FALSE;
}

gboolean
sim_cert_host_is_valid (const char *host)
{
  gsize len;
  gsize label = 0;

  if (host == NULL || *host == '\0')
    return FALSE;
  if (g_hostname_is_ip_address (host))
    return TRUE;
  len = strlen (host);
  if (len > 253 || host[0] == '.' || host[0] == '-' || host[len - 1] == '-'
      || host[len - 1] == '.')
    return FALSE;
  for (const char *p = host; *p != '\0'; p++)
    {
      if (*p == '.')
        {
          if (label == 0)
            return FALSE;
          label = 0;
          continue;
        }
      if (!g_ascii_isalnum (*p) && *p != '-')
        return FALSE;
      if (++label > 63)
        return FALSE;
    }
  return TRUE;
}

/* Adds one extension in openssl.cnf's syntax ("critical,CA:TRUE"), @issuer signing @subject. */
static gboolean
add_extension (X509        *subject,
               X509        *issuer,
               int          nid,
               const char  *value,
               GError     **error)
{
  X509V3_CTX ctx;
  X509_EXTENSION *ext;
  gboolean ok;

  X509V3_set_ctx (&ctx, issuer, subject, NULL, NULL, 0);
  ext = X509V3_EXT_nconf_nid (NULL, &ctx, nid, value);
  if (ext == NULL)
    return crypto_error (error, OBJ_nid2sn (nid));
  ok = X509_add_ext (subject, ext, -1) == 1;
  X509_EXTENSION_free (ext);
  return ok ? TRUE : crypto_error (error, "X509_add_ext");
}

/* A fresh certificate for @key named @common_name: version 3, a random 127-bit serial (RFC
 * 5280 §4.1.2.2 allows up to 20 octets; positive, so the top bit is clear), valid for @days
 * from SIM_CERT_BACKDATE_SECONDS ago. */
static X509 *
cert_new (EVP_PKEY    *key,
          const char  *common_name,
          guint        days,
          GError     **error)
{
  g_autoptr(X509) cert = X509_new ();
  X509_NAME *name;
  BIGNUM *serial = BN_new ();
  time_t now = time (NULL);   /* one instant for both ends: the period is exactly @days */
  gboolean ok;

  ok = cert != NULL && serial != NULL
       && X509_set_version (cert, X509_VERSION_3) == 1
       && BN_rand (serial, 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) == 1
       && BN_to_ASN1_INTEGER (serial, X509_get_serialNumber (cert)) != NULL
       && X509_time_adj_ex (X509_getm_notBefore (cert), 0, -SIM_CERT_BACKDATE_SECONDS,
                            &now) != NULL
       && X509_time_adj_ex (X509_getm_notAfter (cert), (int) days, -SIM_CERT_BACKDATE_SECONDS,
                            &now) != NULL
       && X509_set_pubkey (cert, key) == 1;
  BN_free (serial);
  if (!ok)
    {
      crypto_error (error, "making a certificate");
      return NULL;
    }
  name = X509_get_subject_name (cert);
  if (X509_NAME_add_entry_by_txt (name, "O", MBSTRING_UTF8,
                                  (const unsigned char *) "SIP Lab", -1, -1, 0) != 1
      || X509_NAME_add_entry_by_txt (name, "CN", MBSTRING_UTF8,
                                     (const unsigned char *) common_name, -1, -1, 0) != 1)
    {
      crypto_error (error, "naming a certificate");
      return NULL;
    }
  return g_steal_pointer (&cert);
}

static X509 *
make_ca (EVP_PKEY    *key,
         const char  *host,
         guint        days,
         GError     **error)
{
  g_autofree char *cn = g_strdup_printf ("SIP Lab CA for %s", host);
  g_autoptr(X509) ca = cert_new (key, cn, days, error);

  if (ca == NULL)
    return NULL;
  /* Self-signed: the issuer is the subject.  pathlen:0 keeps a stolen lab CA from minting
   * further CAs. */
  if (X509_set_issuer_name (ca, X509_get_subject_name (ca)) != 1)
    {
      crypto_error (error, "X509_set_issuer_name");
      return NULL;
    }
  if (!add_extension (ca, ca, NID_basic_constraints, "critical,CA:TRUE,pathlen:0", error)
      || !add_extension (ca, ca, NID_key_usage, "critical,keyCertSign,cRLSign", error)
      || !add_extension (ca, ca, NID_subject_key_identifier, "hash", error))
    return NULL;
  if (X509_sign (ca, key, EVP_sha256 ()) <= 0)
    {
      crypto_error (error, "signing the CA certificate");
      return NULL;
    }
  return g_steal_pointer (&ca);
}

/* "DNS:host,IP:a,IP:b": the names a client checks (RFC 5922 §7.1, RFC 6125 §6.4). */
static char *
subject_alt_name (const char         *host,
                  const char * const *addresses)
{
  GString *san = g_string_new (NULL);

  g_string_append_printf (san, "%s:%s", g_hostname_is_ip_address (host) ? "IP" : "DNS", host);
  for (guint i = 0; addresses != NULL && addresses[i] != NULL; i++)
    if (g_strcmp0 (addresses[i], host) != 0)
      g_string_append_printf (san, ",IP:%s", addresses[i]);
  return g_string_free (san, FALSE);
}

static X509 *
make_server (EVP_PKEY           *key,
             X509               *ca,
             EVP_PKEY           *ca_key,
             const char         *host,
             const char * const *addresses,
             guint               days,
             GError            **error)
{
  g_autoptr(X509) cert = cert_new (key, host, days, error);
  g_autofree char *san = subject_alt_name (host, addresses);

  if (cert == NULL)
    return NULL;
  if (X509_set_issuer_name (cert, X509_get_subject_name (ca)) != 1)
    {
      crypto_error (error, "X509_set_issuer_name");
      return NULL;
    }
  if (!add_extension (cert, ca, NID_basic_constraints, "critical,CA:FALSE", error)
      || !add_extension (cert, ca, NID_key_usage, "critical,digitalSignature,keyEncipherment",
                         error)
      || !add_extension (cert, ca, NID_ext_key_usage, "serverAuth", error)
      || !add_extension (cert, ca, NID_subject_alt_name, san, error)
      || !add_extension (cert, ca, NID_subject_key_identifier, "hash", error)
      || !add_extension (cert, ca, NID_authority_key_identifier, "keyid:always", error))
    return NULL;
  if (X509_sign (cert, ca_key, EVP_sha256 ()) <= 0)
    {
      crypto_error (error, "signing the server certificate");
      return NULL;
    }
  return g_steal_pointer (&cert);
}

/* The PEM text of a certificate (@key NULL) or of an unencrypted PKCS#8 private key. */
static char *
to_pem (X509     *cert,
        EVP_PKEY *key)
{
  g_autoptr(BIO) bio = BIO_new (BIO_s_mem ());
  char *data = NULL;
  long len;
  int ok;

  if (bio == NULL)
    return NULL;
  if (cert != NULL)
    ok = PEM_write_bio_X509 (bio, cert);
  else
    ok = PEM_write_bio_PrivateKey (bio, key, NULL, NULL, 0, NULL, NULL);
  if (ok != 1)
    return NULL;
  len = BIO_get_mem_data (bio, &data);
  return g_strndup (data, (gsize) len);
}

/* Creates @path with @mode, refusing an existing file (O_EXCL: also no symlink is followed). */
static gboolean
write_new_file (const char  *path,
                const char  *text,
                mode_t       mode,
                GError     **error)
{
  gsize len = strlen (text);
  gsize done = 0;
  int fd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);

  if (fd < 0)
    {
      int saved = errno;
      g_set_error (error, SIM_CERT_ERROR,
                   saved == EEXIST ? SIM_CERT_ERROR_EXISTS : SIM_CERT_ERROR_WRITE,
                   "%s: %s", path, saved == EEXIST ? "already exists, not overwritten"
                                                   : g_strerror (saved));
      return FALSE;
    }
  /* The umask may only have narrowed the mode; a key must be 0600 whatever it was. */
  if (fchmod (fd, mode) != 0)
    goto failed;
  while (done < len)
    {
      ssize_t n = write (fd, text + done, len - done);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        goto failed;
      done += (gsize) n;
    }
  if (close (fd) != 0)
    {
      fd = -1;
      goto failed;
    }
  return TRUE;

failed:
  {
    int saved = errno;
    if (fd >= 0)
      close (fd);
    unlink (path);
    g_set_error (error, SIM_CERT_ERROR, SIM_CERT_ERROR_WRITE, "%s: %s", path,
                 g_strerror (saved));
    return FALSE;
  }
}

static gboolean
check_arguments (const char         *dir,
                 const char         *host,
                 const char * const *addresses,
                 guint               days,
                 GError            **error)
{
  guint n = addresses != NULL ? g_strv_length ((char **) addresses) : 0;

  if (!sim_cert_host_is_valid (host))
    return (g_set_error (error, SIM_CERT_ERROR, SIM_CERT_ERROR_INVALID,
                         "'%s' is not a host name or IP address", host ? host : ""), FALSE);
  if (days < 1 || days > SIM_CERT_MAX_DAYS)
    return (g_set_error (error, SIM_CERT_ERROR, SIM_CERT_ERROR_INVALID,
                         "a validity of %u days is not within 1..%u", days, SIM_CERT_MAX_DAYS),
            FALSE);
  if (n > SIM_CERT_MAX_ADDRESSES)
    return (g_set_error (error, SIM_CERT_ERROR, SIM_CERT_ERROR_INVALID,
                         "%u addresses is more than %u", n, SIM_CERT_MAX_ADDRESSES), FALSE);
  for (guint i = 0; i < n; i++)
    if (!g_hostname_is_ip_address (addresses[i]))
      return (g_set_error (error, SIM_CERT_ERROR, SIM_CERT_ERROR_INVALID,
                           "'%s' is not an IP address", addresses[i]), FALSE);
  /* Refuse before the slow key generation, and before writing anything. */
  for (guint i = 0; i < N_FILES; i++)
    {
      g_autofree char *path = g_build_filename (dir, file_names[i], NULL);
      if (g_file_test (path, G_FILE_TEST_EXISTS) || g_file_test (path, G_FILE_TEST_IS_SYMLINK))
        return (g_set_error (error, SIM_CERT_ERROR, SIM_CERT_ERROR_EXISTS,
                             "%s already exists, not overwritten (remove it or choose "
                             "another --out)", path), FALSE);
    }
  return TRUE;
}

gboolean
sim_cert_make_lab (const char         *dir,
                   const char         *host,
                   const char * const *addresses,
                   guint               days,
                   GError            **error)
{
  g_autoptr(EVP_PKEY) ca_key = NULL;
  g_autoptr(EVP_PKEY) server_key = NULL;
  g_autoptr(X509) ca = NULL;
  g_autoptr(X509) server = NULL;
  char *pem[N_FILES] = { NULL };
  gboolean ok = TRUE;
  guint written = 0;

  g_return_val_if_fail (dir != NULL, FALSE);

  if (!check_arguments (dir, host, addresses, days, error))
    return FALSE;
  ca_key = EVP_PKEY_Q_keygen (NULL, NULL, "RSA", (size_t) SIM_CERT_RSA_BITS);
  server_key = EVP_PKEY_Q_keygen (NULL, NULL, "RSA", (size_t) SIM_CERT_RSA_BITS);
  if (ca_key == NULL || server_key == NULL)
    return crypto_error (error, "generating an RSA key");
  ca = make_ca (ca_key, host, MAX (SIM_CERT_CA_DAYS, days), error);
  if (ca == NULL)
    return FALSE;
  server = make_server (server_key, ca, ca_key, host, addresses, days, error);
  if (server == NULL)
    return FALSE;

  pem[FILE_CA_CRT] = to_pem (ca, NULL);
  pem[FILE_CA_KEY] = to_pem (NULL, ca_key);
  pem[FILE_SERVER_CRT] = to_pem (server, NULL);
  pem[FILE_SERVER_KEY] = to_pem (NULL, server_key);
  for (guint i = 0; i < N_FILES && ok; i++)
    if (pem[i] == NULL)
      ok = crypto_error (error, "writing PEM");
  for (; written < N_FILES && ok; written++)
    {
      g_autofree char *path = g_build_filename (dir, file_names[written], NULL);
      gboolean is_key = written == FILE_CA_KEY || written == FILE_SERVER_KEY;
      ok = write_new_file (path, pem[written], is_key ? 0600 : 0644, error);
    }
  /* All four or none: a half-made set would block the next attempt with "already exists". */
  if (!ok)
    for (guint i = 0; i + 1 < written; i++)
      {
        g_autofree char *path = g_build_filename (dir, file_names[i], NULL);
        unlink (path);
      }
  for (guint i = 0; i < N_FILES; i++)
    {
      if (pem[i] != NULL)
        memset (pem[i], 0, strlen (pem[i]));
      g_free (pem[i]);
    }
  return ok;
}

GStrv
sim_cert_host_addresses (void)
{
  g_autoptr(GPtrArray) found = g_ptr_array_new_with_free_func (g_free);
  struct ifaddrs *list = NULL;

  if (getifaddrs (&list) == 0)
    for (struct ifaddrs *ifa = list; ifa != NULL; ifa = ifa->ifa_next)
      {
        GSocketFamily family;
        g_autoptr(GInetAddress) inet = NULL;
        g_autofree char *text = NULL;

        if (ifa->ifa_addr == NULL || !(ifa->ifa_flags & IFF_UP) || (ifa->ifa_flags & IFF_LOOPBACK))
          continue;
        if (ifa->ifa_addr->sa_family == AF_INET)
          family = G_SOCKET_FAMILY_IPV4;
        else if (ifa->ifa_addr->sa_family == AF_INET6)
          family = G_SOCKET_FAMILY_IPV6;
        else
          continue;
        inet = g_inet_address_new_from_bytes (
          family == G_SOCKET_FAMILY_IPV4
            ? (const guint8 *) &((struct sockaddr_in *) ifa->ifa_addr)->sin_addr
            : (const guint8 *) &((struct sockaddr_in6 *) ifa->ifa_addr)->sin6_addr,
          family);
        if (g_inet_address_get_is_loopback (inet) || g_inet_address_get_is_link_local (inet))
          continue;
        text = g_inet_address_to_string (inet);
        if (!g_ptr_array_find_with_equal_func (found, text, g_str_equal, NULL)
            && found->len < SIM_CERT_MAX_ADDRESSES)
          g_ptr_array_add (found, g_steal_pointer (&text));
      }
  if (list != NULL)
    freeifaddrs (list);
  g_ptr_array_add (found, NULL);
  return (GStrv) g_ptr_array_free (g_steal_pointer (&found), FALSE);
}
