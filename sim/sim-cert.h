/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * A lab certificate authority in one call, for SIP over TLS with real phones (`siplab-cli
 * cert`, docs/real-phones.md "SIP over TLS").  sim_cert_make_lab() writes four PEM files into
 * a directory:
 *
 *   ca.crt       the lab CA, self-signed: the file to install on every phone (mode 0644)
 *   ca.key       its private key (mode 0600)
 *   server.crt   the certificate `serve --cert` presents, signed by the CA (mode 0644)
 *   server.key   its private key, for `serve --key` (mode 0600)
 *
 * Keys are RSA 2048 (SIM_CERT_RSA_BITS): every phone that speaks TLS accepts RSA, while some
 * desk phones still refuse ECDSA.  Signatures are SHA-256.  The server certificate carries
 * subjectAltName DNS:HOST (or IP:HOST when the host is an address) and IP:ADDRESS for each
 * address, extendedKeyUsage serverAuth, and basicConstraints CA:FALSE; RFC 5922 §7.1 has a SIP
 * client match the domain against the subjectAltName, not the subject's CN.  The CA is
 * CA:TRUE with pathlen 0 and may only sign certificates and CRLs.
 *
 * Nothing is ever overwritten: when any of the four files exists, nothing is written and the
 * error (SIM_CERT_ERROR_EXISTS) names it.
 */

#define SIM_CERT_ERROR (sim_cert_error_quark ())
GQuark sim_cert_error_quark (void);

typedef enum {
  SIM_CERT_ERROR_EXISTS = 1,   /* one of the four files is already there */
  SIM_CERT_ERROR_INVALID,      /* a bad host name, address or validity */
  SIM_CERT_ERROR_CRYPTO,       /* OpenSSL failed (the message says where) */
  SIM_CERT_ERROR_WRITE,        /* a file could not be written */
} SimCertError;

/* Validity of the server certificate by default: 825 days, the longest some clients (Apple's,
 * since 2019) accept for a TLS server certificate. */
#define SIM_CERT_DEFAULT_DAYS 825
/* Upper bound of the server certificate's validity (ten years). */
#define SIM_CERT_MAX_DAYS 3650
/* The CA lives ten years, and never less than the server certificate it signs. */
#define SIM_CERT_CA_DAYS 3650
#define SIM_CERT_RSA_BITS 2048
/* Validity starts this long before the certificate is made, so that a phone whose clock is a
 * little behind does not refuse it as "not yet valid"; the period stays @days long (clients
 * that cap it at 825 days measure notAfter - notBefore). */
#define SIM_CERT_BACKDATE_SECONDS 3600
/* The most subjectAltName addresses a certificate gets. */
#define SIM_CERT_MAX_ADDRESSES 32

/* TRUE when @host can name the server in a certificate: an IP address or a DNS name
 * (letters, digits, '-' and '.', labels of 1-63 characters, at most 253 in all, no
 * trailing dot). */
gboolean sim_cert_host_is_valid  (const char          *host);

/*
 * Writes ca.crt, ca.key, server.crt and server.key into @dir (which must exist) for @host and
 * @addresses (IPv4 or IPv6 literals, NULL-terminated, possibly NULL or empty), the server
 * certificate valid for @days days (1..SIM_CERT_MAX_DAYS).  On error nothing is left behind.
 */
gboolean sim_cert_make_lab       (const char          *dir,
                                  const char          *host,
                                  const char * const  *addresses,
                                  guint                days,
                                  GError             **error);

/*
 * This host's own addresses for a certificate, from getifaddrs(): every IPv4 and IPv6 address
 * of an interface that is up, except loopback and IPv6 link-local (fe80::/10, meaningless
 * without an interface) addresses, each once, at most SIM_CERT_MAX_ADDRESSES.  Never NULL.
 */
GStrv    sim_cert_host_addresses (void);

G_END_DECLS
