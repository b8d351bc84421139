/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * SIP over TLS for `siplab-cli serve` (RFC 3261 §26.3.1, §18; OpenSSL 3, no other TLS stack).
 *
 * SimTlsContext is the server's certificate and key, loaded once at start-up.  Every file
 * problem is reported as "FILE: what is wrong" (no such file, no PEM certificate in it, a key
 * that is encrypted or missing, a key that does not belong to the certificate), so a lab admin
 * sees at once which file to fix.  Only TLS 1.2 and later are offered, and renegotiation is
 * refused (a client could otherwise make us redo the expensive half of a handshake at will).
 *
 * SimTlsSession is one connection's TLS state, with no socket in it: the transport feeds it
 * the bytes the socket gave (sim_tls_session_receive()) and sends the bytes it asks to send.
 * OpenSSL reads from and writes to memory BIOs, so SSL_ERROR_WANT_READ only ever means "no
 * whole record yet, wait for more bytes", and SSL_ERROR_WANT_WRITE cannot stall (the output
 * BIO grows; the transport bounds what it queues for a peer that does not read).  Keeping the
 * sockets out makes every split of a TLS stream testable without a network.
 *
 * We only accept TLS: serve opens no TLS connection itself (it would need to verify phones'
 * certificates, which lab phones do not have).  A request or response for a TLS destination
 * with no open connection fails as any unreachable destination does (503, RFC 3261 §18.4).
 */

#define SIM_TLS_ERROR (sim_tls_error_quark ())
GQuark sim_tls_error_quark (void);

typedef enum {
  SIM_TLS_ERROR_FILE = 1,     /* a certificate or key file is missing, unreadable or wrong */
  SIM_TLS_ERROR_MISMATCH,     /* the key does not belong to the certificate */
  SIM_TLS_ERROR_FAILED,       /* OpenSSL refused the context */
} SimTlsError;

typedef struct _SimTlsContext SimTlsContext;
typedef struct _SimTlsSession SimTlsSession;

/* Loads a PEM certificate (chain: the server's first) and its unencrypted PEM private key. */
SimTlsContext *sim_tls_context_new_server (const char     *cert_file,
                                           const char     *key_file,
                                           GError        **error) G_GNUC_WARN_UNUSED_RESULT;
SimTlsContext *sim_tls_context_ref        (SimTlsContext  *context);
void           sim_tls_context_unref      (SimTlsContext  *context);

typedef enum {
  SIM_TLS_OK,        /* fine (perhaps nothing decrypted yet: a record is incomplete) */
  SIM_TLS_CLOSED,    /* the peer sent close_notify: the connection is over, cleanly */
  SIM_TLS_FAILED,    /* a handshake failure or a record that does not decrypt: close */
} SimTlsResult;

/* The server side of one accepted connection; the handshake runs as bytes arrive. */
SimTlsSession *sim_tls_session_new_server (SimTlsContext  *context) G_GNUC_WARN_UNUSED_RESULT;
void           sim_tls_session_free       (SimTlsSession  *session);
/*
 * Feeds @len bytes read from the socket.  Decrypted application data is appended to @plain,
 * bytes to send (handshake, alerts, session tickets, and what sim_tls_session_send() queued
 * before the handshake finished) to @out.  On SIM_TLS_FAILED, *@why (if given) says why in
 * OpenSSL's words; the caller closes the connection.
 */
SimTlsResult   sim_tls_session_receive    (SimTlsSession  *session,
                                           const guint8   *data,
                                           gsize           len,
                                           GByteArray     *plain,
                                           GByteArray     *out,
                                           char          **why);
/*
 * Encrypts @len bytes of application data, appending the records to @out.  Before the
 * handshake finished the data waits inside the session (counted by
 * sim_tls_session_get_n_waiting()) and goes out with the handshake's end.  FALSE on an
 * OpenSSL failure (*@why says which).
 */
gboolean       sim_tls_session_send       (SimTlsSession  *session,
                                           const guint8   *data,
                                           gsize           len,
                                           GByteArray     *out,
                                           char          **why);
gboolean       sim_tls_session_is_established (SimTlsSession *session);
gsize          sim_tls_session_get_n_waiting  (SimTlsSession *session);
/* Appends a close_notify alert to @out (best effort, once the handshake finished). */
void           sim_tls_session_close_notify   (SimTlsSession *session,
                                               GByteArray    *out);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SimTlsContext, sim_tls_context_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SimTlsSession, sim_tls_session_free)

G_END_DECLS
