/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "sim-cert.h"

/* sim_cert_make_lab(): the lab CA and server certificate of `siplab-cli cert`, read back with
 * OpenSSL the way a phone would check them. */

static const char *const names[] = { "ca.crt", "ca.key", "server.crt", "server.key" };

static char *
make_dir (void)
{
  g_autoptr(GError) error = NULL;
  char *dir = g_dir_make_tmp ("siplab-cert-XXXXXX", &error);

  g_assert_no_error (error);
  return dir;
}

static void
remove_dir (const char *dir)
{
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *path = g_build_filename (dir, names[i], NULL);
      g_unlink (path);
    }
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

static X509 *
read_cert (const char *dir,
           const char *name)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  FILE *f = fopen (path, "r");
  X509 *cert;

  g_assert_nonnull (f);
  cert = PEM_read_X509 (f, NULL, NULL, NULL);
  fclose (f);
  g_assert_nonnull (cert);
  return cert;
}

static EVP_PKEY *
read_key (const char *dir,
          const char *name)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  FILE *f = fopen (path, "r");
  EVP_PKEY *key;
  struct stat st;

  g_assert_nonnull (f);
  g_assert_cmpint (fstat (fileno (f), &st), ==, 0);
  /* Only the owner may read a private key. */
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);
  key = PEM_read_PrivateKey (f, NULL, NULL, NULL);
  fclose (f);
  g_assert_nonnull (key);
  return key;
}

/* TRUE when the subjectAltName lists DNS:@dns (if not NULL) and IP:@ip (if not NULL). */
static gboolean
san_has (X509       *cert,
         const char *dns,
         const char *ip)
{
  GENERAL_NAMES *sans = X509_get_ext_d2i (cert, NID_subject_alt_name, NULL, NULL);
  g_autoptr(GInetAddress) want = ip != NULL ? g_inet_address_new_from_string (ip) : NULL;
  gboolean found = FALSE;

  g_assert_nonnull (sans);
  for (int i = 0; i < sk_GENERAL_NAME_num (sans) && !found; i++)
    {
      const GENERAL_NAME *gn = sk_GENERAL_NAME_value (sans, i);

      if (dns != NULL && gn->type == GEN_DNS)
        found = strcmp ((const char *) ASN1_STRING_get0_data (gn->d.dNSName), dns) == 0;
      else if (want != NULL && gn->type == GEN_IPADD)
        found = (gsize) ASN1_STRING_length (gn->d.iPAddress) == g_inet_address_get_native_size (want)
                && memcmp (ASN1_STRING_get0_data (gn->d.iPAddress),
                           g_inet_address_to_bytes (want),
                           g_inet_address_get_native_size (want)) == 0;
    }
  GENERAL_NAMES_free (sans);
  return found;
}

/* Days from now until the certificate's notAfter. */
static int
days_left (X509 *cert)
{
  int days = 0, secs = 0;

  g_assert_cmpint (ASN1_TIME_diff (&days, &secs, NULL, X509_get0_notAfter (cert)), ==, 1);
  return days;
}

static void
test_lab_set (void)
{
  g_autofree char *dir = make_dir ();
  const char *addresses[] = { "192.0.2.7", "2001:db8::7", NULL };
  g_autoptr(GError) error = NULL;
  X509 *ca, *server;
  EVP_PKEY *ca_key, *server_key;
  X509_STORE *store;
  X509_STORE_CTX *ctx;

  g_assert_true (sim_cert_make_lab (dir, "pbx.lab.example", addresses, SIM_CERT_DEFAULT_DAYS,
                                    &error));
  g_assert_no_error (error);
  ca = read_cert (dir, "ca.crt");
  server = read_cert (dir, "server.crt");
  ca_key = read_key (dir, "ca.key");
  server_key = read_key (dir, "server.key");

  /* The names a phone checks: DNS:NAME and IP:each address. */
  g_assert_true (san_has (server, "pbx.lab.example", NULL));
  g_assert_true (san_has (server, NULL, "192.0.2.7"));
  g_assert_true (san_has (server, NULL, "2001:db8::7"));
  g_assert_false (san_has (server, "other.example", "192.0.2.8"));
  g_assert_cmpint (X509_check_host (server, "pbx.lab.example", 0, 0, NULL), ==, 1);
  g_assert_cmpint (X509_check_ip_asc (server, "192.0.2.7", 0), ==, 1);
  g_assert_cmpint (X509_check_ip_asc (server, "2001:db8::7", 0), ==, 1);

  /* Signed by the CA; each key belongs to its certificate, and not to the other one. */
  g_assert_cmpint (X509_verify (server, X509_get0_pubkey (ca)), ==, 1);
  g_assert_cmpint (X509_verify (ca, X509_get0_pubkey (ca)), ==, 1);
  g_assert_cmpint (X509_verify (server, X509_get0_pubkey (server)), !=, 1);
  g_assert_cmpint (X509_check_private_key (server, server_key), ==, 1);
  g_assert_cmpint (X509_check_private_key (ca, ca_key), ==, 1);
  g_assert_cmpint (X509_check_private_key (server, ca_key), !=, 1);

  /* A CA, and a server certificate for TLS servers only. */
  g_assert_cmpint (X509_check_ca (ca), >, 0);
  g_assert_cmpint (X509_check_ca (server), ==, 0);
  g_assert_true (X509_get_extended_key_usage (server) & XKU_SSL_SERVER);
  g_assert_false (X509_get_extended_key_usage (server) & XKU_SSL_CLIENT);
  g_assert_cmpint (days_left (server), >=, SIM_CERT_DEFAULT_DAYS - 1);
  g_assert_cmpint (days_left (server), <=, SIM_CERT_DEFAULT_DAYS);
  g_assert_cmpint (days_left (ca), >=, SIM_CERT_CA_DAYS - 1);
  /* Already valid for a phone whose clock is a few minutes behind; the period is 825 days. */
  {
    int d = 0, s = 0;
    g_assert_cmpint (X509_cmp_time (X509_get0_notBefore (server), NULL), <, 0);
    g_assert_cmpint (ASN1_TIME_diff (&d, &s, X509_get0_notBefore (server),
                                     X509_get0_notAfter (server)), ==, 1);
    g_assert_cmpint (d, ==, SIM_CERT_DEFAULT_DAYS);
    g_assert_cmpint (s, ==, 0);
  }

  /* The chain check a TLS client makes, with the purpose "TLS server". */
  store = X509_STORE_new ();
  X509_STORE_add_cert (store, ca);
  ctx = X509_STORE_CTX_new ();
  g_assert_cmpint (X509_STORE_CTX_init (ctx, store, server, NULL), ==, 1);
  X509_STORE_CTX_set_purpose (ctx, X509_PURPOSE_SSL_SERVER);
  g_assert_cmpint (X509_verify_cert (ctx), ==, 1);
  X509_STORE_CTX_free (ctx);
  X509_STORE_free (store);

  X509_free (ca);
  X509_free (server);
  EVP_PKEY_free (ca_key);
  EVP_PKEY_free (server_key);
  remove_dir (dir);
}

/* The openssl command, when installed, agrees: `openssl verify -CAfile ca.crt server.crt`. */
static void
test_openssl_verify (void)
{
  g_autofree char *openssl = g_find_program_in_path ("openssl");
  g_autofree char *dir = NULL;
  g_autofree char *ca = NULL;
  g_autofree char *server = NULL;
  g_autofree char *out = NULL;
  g_autoptr(GError) error = NULL;
  int status = -1;

  if (openssl == NULL)
    {
      g_test_skip ("the openssl command is not installed");
      return;
    }
  dir = make_dir ();
  g_assert_true (sim_cert_make_lab (dir, "192.0.2.9", NULL, 30, &error));
  g_assert_no_error (error);
  ca = g_build_filename (dir, "ca.crt", NULL);
  server = g_build_filename (dir, "server.crt", NULL);
  {
    const char *argv[] = { openssl, "verify", "-purpose", "sslserver", "-verify_ip",
                           "192.0.2.9", "-CAfile", ca, server, NULL };
    g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &out,
                  NULL, &status, &error);
  }
  g_assert_no_error (error);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  g_assert_nonnull (strstr (out, ": OK"));
  remove_dir (dir);
}

/* Never overwrite: one existing file stops everything, and the others are not written. */
static void
test_no_overwrite (void)
{
  g_autofree char *dir = make_dir ();
  g_autofree char *key = g_build_filename (dir, "server.key", NULL);
  g_autofree char *crt = g_build_filename (dir, "ca.crt", NULL);
  g_autofree char *contents = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_true (g_file_set_contents (key, "precious\n", -1, NULL));
  g_assert_false (sim_cert_make_lab (dir, "lab.example", NULL, 30, &error));
  g_assert_error (error, SIM_CERT_ERROR, SIM_CERT_ERROR_EXISTS);
  g_assert_nonnull (strstr (error->message, "server.key"));
  g_assert_true (g_file_get_contents (key, &contents, NULL, NULL));
  g_assert_cmpstr (contents, ==, "precious\n");
  g_assert_false (g_file_test (crt, G_FILE_TEST_EXISTS));

  /* A dangling symlink counts as existing: writing through it could land anywhere. */
  g_unlink (key);
  g_assert_cmpint (symlink ("/nonexistent/siplab-target", key), ==, 0);
  g_clear_error (&error);
  g_assert_false (sim_cert_make_lab (dir, "lab.example", NULL, 30, &error));
  g_assert_error (error, SIM_CERT_ERROR, SIM_CERT_ERROR_EXISTS);
  g_unlink (key);

  /* The second run of a good first one is refused too. */
  g_clear_error (&error);
  g_assert_true (sim_cert_make_lab (dir, "lab.example", NULL, 30, &error));
  g_assert_no_error (error);
  g_assert_false (sim_cert_make_lab (dir, "lab.example", NULL, 30, &error));
  g_assert_error (error, SIM_CERT_ERROR, SIM_CERT_ERROR_EXISTS);
  remove_dir (dir);
}

static void
test_bad_arguments (void)
{
  g_autofree char *dir = make_dir ();
  const char *bad_ip[] = { "192.0.2.300", NULL };
  const char *bad_hosts[] = { "", "-lab", "lab..example", "lab example", "lab_example",
                              "a.b.c/d", "x.", "lab\n.example" };

  for (guint i = 0; i < G_N_ELEMENTS (bad_hosts); i++)
    {
      g_autoptr(GError) error = NULL;
      g_assert_false (sim_cert_make_lab (dir, bad_hosts[i], NULL, 30, &error));
      g_assert_error (error, SIM_CERT_ERROR, SIM_CERT_ERROR_INVALID);
    }
  for (guint days = 0; days <= SIM_CERT_MAX_DAYS + 1; days += SIM_CERT_MAX_DAYS + 1)
    {
      g_autoptr(GError) error = NULL;
      g_assert_false (sim_cert_make_lab (dir, "lab.example", NULL, days, &error));
      g_assert_error (error, SIM_CERT_ERROR, SIM_CERT_ERROR_INVALID);
    }
  {
    g_autoptr(GError) error = NULL;
    g_assert_false (sim_cert_make_lab (dir, "lab.example", bad_ip, 30, &error));
    g_assert_error (error, SIM_CERT_ERROR, SIM_CERT_ERROR_INVALID);
    g_assert_nonnull (strstr (error->message, "192.0.2.300"));
  }
  g_assert_true (sim_cert_host_is_valid ("lab.example"));
  g_assert_true (sim_cert_host_is_valid ("::1"));
  g_assert_true (sim_cert_host_is_valid ("pbx"));
  remove_dir (dir);
}

/* The host's own addresses: no loopback, no link-local, no duplicates, all parse. */
static void
test_host_addresses (void)
{
  g_auto(GStrv) addresses = sim_cert_host_addresses ();

  g_assert_nonnull (addresses);
  g_assert_cmpuint (g_strv_length (addresses), <=, SIM_CERT_MAX_ADDRESSES);
  for (guint i = 0; addresses[i] != NULL; i++)
    {
      g_autoptr(GInetAddress) inet = g_inet_address_new_from_string (addresses[i]);

      g_assert_nonnull (inet);
      g_assert_false (g_inet_address_get_is_loopback (inet));
      g_assert_false (g_inet_address_get_is_link_local (inet));
      for (guint j = 0; j < i; j++)
        g_assert_cmpstr (addresses[i], !=, addresses[j]);
    }
}

/* Runs `siplab-cli ARGS...` (SIPLAB_CLI); returns its exit status. */
static int
run_cli (const char * const *args,
         char              **out,
         char              **err)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  int status = -1;

  g_ptr_array_add (argv, (gpointer) g_getenv ("SIPLAB_CLI"));
  g_assert_nonnull (argv->pdata[0]);
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);
  g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL, out, err,
                &status, &error);
  g_assert_no_error (error);
  g_assert_true (WIFEXITED (status));
  return WEXITSTATUS (status);
}

/* The command: writes into a new --out, says what to do next, refuses a second run. */
static void
test_cli_cert (void)
{
  g_autofree char *top = make_dir ();
  g_autofree char *dir = g_build_filename (top, "tls", NULL);
  const char *args[] = { "cert", "--host", "pbx.lab.example", "--ip", "192.0.2.7", "--ip",
                         "2001:db8::7", "--out", dir, NULL };
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *listen = NULL;
  X509 *server;

  g_assert_cmpint (run_cli (args, &out, &err), ==, 0);
  listen = g_strdup_printf ("--listen tls:192.0.2.7:5061 --cert %s/server.crt --key "
                            "%s/server.key", dir, dir);
  g_assert_nonnull (strstr (out, listen));
  g_assert_nonnull (strstr (out, "DNS:pbx.lab.example, IP:192.0.2.7, IP:2001:db8::7"));
  g_assert_nonnull (strstr (out, "Linphone"));
  g_assert_nonnull (strstr (out, "sip_cafile"));
  g_assert_nonnull (strstr (out, ";transport=tls"));
  server = read_cert (dir, "server.crt");
  g_assert_cmpint (X509_check_ip_asc (server, "2001:db8::7", 0), ==, 1);
  X509_free (server);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  g_assert_cmpint (run_cli (args, &out, &err), ==, 1);
  g_assert_nonnull (strstr (err, "already exists, not overwritten"));
  remove_dir (dir);
  g_rmdir (top);
}

/* A wrong command line is a usage error, exit 2, and writes nothing. */
static void
test_cli_cert_usage (void)
{
  g_autofree char *dir = make_dir ();
  const char *const cases[][8] = {
    { "cert", NULL },
    { "cert", "--host", "lab example", NULL },
    { "cert", "--host", "lab.example", "--ip", "192.0.2", NULL },
    { "cert", "--host", "lab.example", "--ip", "lab.example", NULL },
    { "cert", "--host", "lab.example", "--days", "0", NULL },
    { "cert", "--host", "lab.example", "--days", "3651", NULL },
    { "cert", "--host", "lab.example", "extra", NULL },
    { "cert", "--host", "lab.example", "--bogus", NULL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GPtrArray) args = g_ptr_array_new ();
      g_autofree char *out = NULL;
      g_autofree char *err = NULL;
      g_autofree char *ca = g_build_filename (dir, "ca.crt", NULL);

      for (guint j = 0; cases[i][j] != NULL; j++)
        g_ptr_array_add (args, (gpointer) cases[i][j]);
      g_ptr_array_add (args, "--out");
      g_ptr_array_add (args, dir);
      g_ptr_array_add (args, NULL);
      g_assert_cmpint (run_cli ((const char * const *) args->pdata, &out, &err), ==, 2);
      g_assert_true (g_str_has_prefix (err, "siplab-cli cert: "));
      g_assert_false (g_file_test (ca, G_FILE_TEST_EXISTS));
    }
  remove_dir (dir);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/sim/cert/a-lab-set-names-the-host-is-signed-by-its-ca-and-keys-match",
                   test_lab_set);
  g_test_add_func ("/sim/cert/openssl-verify-accepts-the-server-certificate",
                   test_openssl_verify);
  g_test_add_func ("/sim/cert/existing-files-are-never-overwritten", test_no_overwrite);
  g_test_add_func ("/sim/cert/bad-hosts-addresses-and-validity-are-refused", test_bad_arguments);
  g_test_add_func ("/sim/cert/host-addresses-exclude-loopback-and-link-local",
                   test_host_addresses);
  g_test_add_func ("/sim/cert/the-command-writes-and-says-what-to-do-next", test_cli_cert);
  g_test_add_func ("/sim/cert/a-wrong-command-line-exits-2", test_cli_cert_usage);
  return g_test_run ();
}
