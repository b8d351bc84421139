/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "siplab-cli-cert.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sim-cert.h"
#include "siplab-cli-common.h"

enum {
  EXIT_OK = 0,
  EXIT_FAILED = 1,
  EXIT_USAGE = SIPLAB_CLI_EXIT_USAGE,
};

typedef struct {
  char *host;
  char **ips;
  char *out;
  int days;
} CertOptions;

static void
cert_options_clear (CertOptions *opts)
{
  g_clear_pointer (&opts->host, g_free);
  g_clear_pointer (&opts->ips, g_strfreev);
  g_clear_pointer (&opts->out, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (CertOptions, cert_options_clear)

static int
parse_options (CertOptions  *opts,
               int          *argc,
               char       ***argv)
{
  g_autoptr(GOptionContext) context = g_option_context_new ("- a lab CA and a TLS server "
                                                            "certificate for serve");
  g_autoptr(GError) error = NULL;
  const GOptionEntry entries[] = {
    { "host", 'H', 0, G_OPTION_ARG_STRING, &opts->host,
      "The server's name as phones dial it (DNS name or IP address)", "NAME" },
    { "ip", 0, 0, G_OPTION_ARG_STRING_ARRAY, &opts->ips,
      "An address of the server for the certificate (repeatable; default: this host's own "
      "non-loopback addresses)", "ADDR" },
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &opts->out,
      "Where to write ca.crt, ca.key, server.crt, server.key (default: the current "
      "directory; made if missing)", "DIR" },
    { "days", 0, 0, G_OPTION_ARG_INT, &opts->days,
      "Validity of the server certificate in days (default: "
      G_STRINGIFY (SIM_CERT_DEFAULT_DAYS) ", at most " G_STRINGIFY (SIM_CERT_MAX_DAYS) ")", "N" },
    { NULL }
  };

  opts->days = SIM_CERT_DEFAULT_DAYS;
  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_set_summary (context,
    "Makes a small lab CA (ca.crt, ca.key) and a certificate for the server NAME signed by it\n"
    "(server.crt, server.key) with subjectAltName DNS:NAME and IP:each address.  Existing\n"
    "files are never overwritten.  Install ca.crt on the phones; give server.crt and\n"
    "server.key to `siplab-cli serve --cert --key`.");
  if (!g_option_context_parse (context, argc, argv, &error))
    return siplab_cli_usage_error ("cert", "%s", error->message);
  if (*argc > 1)
    return siplab_cli_usage_error ("cert", "unexpected argument '%s'", (*argv)[1]);
  if (opts->host == NULL)
    return siplab_cli_usage_error ("cert", "--host NAME is needed: the name phones dial");
  if (!sim_cert_host_is_valid (opts->host))
    return siplab_cli_usage_error ("cert", "--host '%s' is not a DNS name or IP address",
                                   opts->host);
  for (guint i = 0; opts->ips != NULL && opts->ips[i] != NULL; i++)
    if (!g_hostname_is_ip_address (opts->ips[i]))
      return siplab_cli_usage_error ("cert", "--ip '%s' is not an IP address", opts->ips[i]);
  if (opts->ips != NULL && g_strv_length (opts->ips) > SIM_CERT_MAX_ADDRESSES)
    return siplab_cli_usage_error ("cert", "at most %u --ip", SIM_CERT_MAX_ADDRESSES);
  if (opts->days < 1 || opts->days > SIM_CERT_MAX_DAYS)
    return siplab_cli_usage_error ("cert", "--days %d is not within 1..%u", opts->days,
                                   SIM_CERT_MAX_DAYS);
  if (opts->out == NULL)
    opts->out = g_strdup (".");
  return EXIT_OK;
}

/* The address for the printed --listen: the first IPv4 one, as phones on the LAN reach it. */
static const char *
listen_address (const char         *host,
                const char * const *addresses)
{
  for (guint i = 0; addresses != NULL && addresses[i] != NULL; i++)
    if (strchr (addresses[i], ':') == NULL)
      return addresses[i];
  if (g_hostname_is_ip_address (host) && strchr (host, ':') == NULL)
    return host;
  return "0.0.0.0";
}

static void
print_next_steps (const char         *dir,
                  const char         *host,
                  const char * const *addresses,
                  gboolean            from_host,
                  guint               days)
{
  g_autofree char *abs = g_canonicalize_filename (dir, NULL);
  g_autofree char *ca = g_build_filename (abs, "ca.crt", NULL);
  const char *listen = listen_address (host, addresses);

  printf ("Wrote %s/ca.crt, ca.key (0600), server.crt and server.key (0600).\n", abs);
  printf ("The server certificate names %s:%s", g_hostname_is_ip_address (host) ? "IP" : "DNS",
          host);
  for (guint i = 0; addresses != NULL && addresses[i] != NULL; i++)
    if (g_strcmp0 (addresses[i], host) != 0)
      printf (", IP:%s", addresses[i]);
  printf ("; valid %u days, the CA %u.\n", days, MAX (days, SIM_CERT_CA_DAYS));
  if (from_host)
    printf ("The addresses are this host's own (its interfaces, without loopback and "
            "link-local); use --ip to choose.\n");
  printf ("\nNext:\n"
          "  1. Serve SIP over TLS (beside UDP if you like):\n"
          "       siplab-cli serve --listen tls:%s:5061 --cert %s/server.crt --key %s/server.key \\\n"
          "         --domain %s --users users.txt\n"
          "  2. Install %s on each phone (ca.crt only: the .key files never leave this host):\n"
          "       Linphone: root_ca=%s in the [sip] section of linphonerc (desktop), or install it\n"
          "                 as a CA certificate in the system settings (Android, iOS); then set\n"
          "                 the account's transport to TLS (or dial sips:).\n"
          "       baresip:  sip_cafile %s in ~/.baresip/config, and\n"
          "                 <sip:alice@%s;transport=tls>;auth_pass=... in ~/.baresip/accounts\n"
          "  See docs/real-phones.md, \"SIP over TLS\".\n",
          listen, abs, abs, host, ca, ca, ca, host);
}

int
siplab_cli_cert (int    argc,
                 char **argv)
{
  g_auto(CertOptions) opts = { 0 };
  g_auto(GStrv) own = NULL;
  g_autoptr(GError) error = NULL;
  const char * const *addresses;
  int status;

  if ((status = parse_options (&opts, &argc, &argv)) != EXIT_OK)
    return status;
  if (opts.ips == NULL)
    own = sim_cert_host_addresses ();
  addresses = (const char * const *) (opts.ips != NULL ? opts.ips : own);
  if (g_mkdir_with_parents (opts.out, 0700) != 0)
    {
      fprintf (stderr, "siplab-cli cert: %s: %s\n", opts.out, g_strerror (errno));
      return EXIT_FAILED;
    }
  if (!sim_cert_make_lab (opts.out, opts.host, addresses, (guint) opts.days, &error))
    {
      fprintf (stderr, "siplab-cli cert: %s\n", error->message);
      return EXIT_FAILED;
    }
  print_next_steps (opts.out, opts.host, addresses, own != NULL, (guint) opts.days);
  return EXIT_OK;
}
