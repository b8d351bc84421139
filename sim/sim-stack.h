/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib-object.h>

#include "sim-clock.h"
#include "sim-message.h"
#include "sim-trace.h"

G_BEGIN_DECLS

/*
 * SimStack: one SIP element's transport and transaction layers (RFC 3261 §17, §18) on a
 * SimClock.  The transaction user (registrar, proxy, phone) sees requests arriving in server
 * transactions and responses arriving for the client transactions it started; retransmissions,
 * timers and the ACK for a failed INVITE are handled here.  The stack sends serialized text
 * through a send function, so it never knows whether the bytes cross SimNet or a real socket.
 */

#define SIM_TYPE_STACK (sim_stack_get_type ())
G_DECLARE_FINAL_TYPE (SimStack, sim_stack, SIM, STACK, GObject)

typedef struct _SimServerTxn SimServerTxn;
typedef struct _SimClientTxn SimClientTxn;

/*
 * SIM_STACK_MAX_TRANSACTIONS: live transactions (server and client together) beyond which a
 *   request that would start a new server transaction is answered 503 Service Unavailable with
 *   Retry-After: SIM_STACK_RETRY_AFTER seconds, statelessly (RFC 3261 §21.5.4); retransmissions,
 *   ACKs and responses for transactions that exist are handled as always.  A non-INVITE
 *   transaction lives 32 s after its final response over UDP (Timer J), so 131,072 sustains about
 *   4,000 requests a second (a full call, through the proxy, holds four); a school
 *   of 2,000 phones all registering (REGISTER, 401 sent without a transaction, REGISTER with
 *   credentials) within one such window, with room for calls; each holds at most its request
 *   and its last response, both bounded by SIM_MESSAGE_MAX_SIZE and the caps of sim-message.h.
 *   sim_stack_set_max_transactions changes it (`siplab-cli serve --max-transactions N`, tests).
 * Requests over the caps of sim_message_scan (header lines, line length, Contacts) are answered
 * 513 Message Too Large statelessly without being parsed (RFC 3261 §21.5.14), or dropped when
 * even the headers a response copies are over them; such responses are dropped (§18.1.2).
 */
#define SIM_STACK_MAX_TRANSACTIONS 131072
#define SIM_STACK_RETRY_AFTER      5

/*
 * SIM_STACK_MAX_TRANSACTION_BYTES: the message text the live transactions may hold (a server
 *   transaction's request, counted at its received length, until its final response; a client
 *   transaction's request text until its final response; the last response each keeps for
 *   retransmissions; the ACK an INVITE client keeps for a non-2xx).  A request that would start
 *   a new server transaction and take the total over it gets the same stateless 503 with
 *   Retry-After as the count cap, traced with the limit that was hit; retransmissions, ACKs and
 *   responses for transactions that exist are never refused.  The count alone does not bound
 *   memory: a message may have SIM_MESSAGE_MAX_SIZE (65,535) bytes, and a stranger's MESSAGE
 *   with a 60 KB body to a registered phone that never answers is held twice (our server and
 *   client transactions) for 32 s (Timer F, then Timer J for the 408), so 131,072 transactions
 *   could hold 8 GB.  64 MB: a phone's REGISTER and its response are about 1.2 KB, so 2,000
 *   phones registering within one 32 s window hold about 2.5 MB and a call through the proxy
 *   about 8 KB; 64 MB is 25 times a whole school at once, and the text counted here is about a
 *   third of what the process really spends (the parsed request, the allocator), so a full
 *   budget stays within a few hundred MB.  A stranger's 60 KB MESSAGEs to a silent phone get
 *   503 after about 550 within 32 s (17 a second).
 *   The new transaction is admitted while the total stays within the limit; the client
 *   transactions the TU then starts for it (a proxy forwards it, one copy per binding) are
 *   never refused, so the total may exceed the limit by that much before the next request
 *   sees it.  A transaction leaving its table frees its texts and stops counting.
 * SIM_STACK_SMALL_REQUEST_BYTES, SIM_STACK_SMALL_RESERVE_DIVISOR: a request of at most 4,096
 *   bytes (every REGISTER, OPTIONS and INVITE of an ordinary phone) may use a further eighth
 *   of the budget (8 MB by default), so a stranger's big requests filling the budget do not
 *   lock our phones out.
 * sim_stack_set_max_transaction_bytes changes the budget (`siplab-cli serve
 * --max-transaction-memory MB`, tests); sim_stack_get_held_bytes says what is held now.
 */
#define SIM_STACK_MAX_TRANSACTION_BYTES  (G_GUINT64_CONSTANT (64) * 1024 * 1024)
#define SIM_STACK_SMALL_REQUEST_BYTES    4096
#define SIM_STACK_SMALL_RESERVE_DIVISOR  8

/*
 * SIM_STACK_SOURCE_SHARE_DIVISOR: the fair share of one source.  Each server transaction is
 *   charged to its source (sim_addr_source_key: the IPv4 address, or the /64 of an IPv6 one),
 *   and so is every client transaction the TU starts while handling its request (a proxy's
 *   forwarded copies; client transactions started later, from a timer or a response, are
 *   charged to nobody).  Once the stack holds half of either limit, a request that would start
 *   a new server transaction from a source that already holds 1/16 of the count cap (at least
 *   one transaction) or 1/16 of the byte budget gets the same stateless 503 with Retry-After
 *   as the global limits, traced with "this address holds ...".  Without it one stranger fills
 *   both global limits (big INVITEs from a foreign From are not challenged) and every phone's
 *   REGISTER and OPTIONS gets 503; with it, one stranger can take at most half, and the other
 *   half is left for everyone else.  Below half nobody is held back, so a busy address (a
 *   whole school behind one NAT, a benchmark's sipp) is not refused while there is room.  A
 *   source may go over its share by the last request it was allowed and that request's
 *   forwarded copies.  The table of sources holds an entry only while that source holds a
 *   transaction, so it is bounded by the live transactions.
 */
#define SIM_STACK_SOURCE_SHARE_DIVISOR   16

/* RFC 3261 §17.1.1.1 defaults */
#define SIM_T1 SIM_MSEC (500)
#define SIM_T2 SIM_SEC (4)
#define SIM_T4 SIM_SEC (5)

typedef void (*SimStackSendFunc)     (SimStack         *stack,
                                      const SimAddr    *dst,
                                      const char       *data,
                                      gsize             len,
                                      gboolean          retransmission,
                                      gpointer          user_data);
/* @txn is NULL for an ACK to a 2xx, which is its own transaction-less request (RFC 3261 §17). */
typedef void (*SimRequestFunc)       (SimStack         *stack,
                                      SimServerTxn     *txn,
                                      osip_message_t   *request,
                                      const SimAddr    *src,
                                      gpointer          user_data);
/* Timeouts arrive as a locally made 408 (RFC 3261 §8.1.3.1), transport errors as 503. */
typedef void (*SimResponseFunc)      (SimStack         *stack,
                                      SimClientTxn     *txn,
                                      osip_message_t   *response,
                                      gpointer          user_data);

SimStack       *sim_stack_new                 (SimClock         *clock,
                                               SimTrace         *trace,
                                               GRand            *rand,
                                               const char       *node_name,
                                               const SimAddr    *local) G_GNUC_WARN_UNUSED_RESULT;
const char     *sim_stack_get_node_name       (SimStack         *self);
const SimAddr  *sim_stack_get_local           (SimStack         *self);
void            sim_stack_set_local           (SimStack         *self,
                                               const SimAddr    *local);
/*
 * Every endpoint of this element counts as "us" (RFC 3261 §16.4, §16.3 step 4), not only the
 * local address: a transport adds each of its listeners.  A wildcard listener (0.0.0.0 or ::)
 * adds every address of the local interfaces of its family (getifaddrs(3), read once, when it
 * is added) with its port.  At most SIM_STACK_MAX_LOCALS are kept; the local address always
 * counts.
 */
#define SIM_STACK_MAX_LOCALS 256
void            sim_stack_add_local_addr      (SimStack         *self,
                                               const SimAddr    *addr);
/*
 * Whether @addr's IP may be a next hop that no binding names: an IP literal (::ffff:a.b.c.d,
 * ::a.b.c.d and 64:ff9b::a.b.c.d are a.b.c.d, RFC 4291 §2.5.5, RFC 6052) that is not
 * unspecified, loopback, multicast, link-local (169.254/16, fe80::/10) or the IPv4 broadcast
 * address.  Private ranges are allowed.  A host name is not (we resolve none).  Whether it is
 * us is sim_stack_is_local()'s question.
 */
gboolean        sim_addr_is_unicast           (const SimAddr    *addr);
/* TRUE if @host (an IP literal, with or without brackets) and @port (0: any) name one of our endpoints. */
gboolean        sim_stack_is_local            (SimStack         *self,
                                               const char       *host,
                                               guint16           port);
/*
 * Our endpoint of @transport in the family of @like's address (IPv6 or IPv4), the first one
 * added, preferring a specific address over a wildcard; NULL if we have none.  With the local
 * address only (the simulator), that address serves every transport.
 */
const SimAddr  *sim_stack_find_local          (SimStack         *self,
                                               SimTransportKind  transport,
                                               const SimAddr    *like);
/*
 * Inside the request or response function: our endpoint the message arrived on (as given to
 * sim_stack_receive_at(), else the local address).  A wildcard listener reports the wildcard.
 */
const SimAddr  *sim_stack_get_arrival         (SimStack         *self);
/* A trace note from this element at the current time (nothing when tracing is off). */
void            sim_stack_note                (SimStack         *self,
                                               const char       *format,
                                               ...) G_GNUC_PRINTF (2, 3);
/* The same with a va_list, for the notes of the elements built on a stack (server, transport). */
void            sim_stack_notev               (SimStack         *self,
                                               const char       *format,
                                               va_list           args) G_GNUC_PRINTF (2, 0);
SimClock       *sim_stack_get_clock           (SimStack         *self);
SimTrace       *sim_stack_get_trace           (SimStack         *self);
GRand          *sim_stack_get_rand            (SimStack         *self);
void            sim_stack_set_send_func       (SimStack         *self,
                                               SimStackSendFunc  func,
                                               gpointer          user_data);
void            sim_stack_set_request_func    (SimStack         *self,
                                               SimRequestFunc    func,
                                               gpointer          user_data);
/* A UAS core retransmits its 2xx to INVITE until the ACK comes (RFC 3261 §13.3.1.4); a proxy does not. */
void            sim_stack_set_retransmit_2xx  (SimStack         *self,
                                               gboolean          retransmit);
/* Our Via asks for rport (RFC 3581; default TRUE).  FALSE: a phone from before RFC 3581. */
void            sim_stack_set_rport           (SimStack         *self,
                                               gboolean          rport);
/* Trace transaction state changes and timers (default TRUE). */
void            sim_stack_set_trace_timers    (SimStack         *self,
                                               gboolean          trace_timers);

/* Feeds bytes received from @src to the stack. */
void            sim_stack_receive             (SimStack         *self,
                                               const SimAddr    *src,
                                               const char       *data,
                                               gsize             len);
/* Feeds bytes that arrived on our endpoint @local from @src to the stack. */
void            sim_stack_receive_at          (SimStack         *self,
                                               const SimAddr    *local,
                                               const SimAddr    *src,
                                               const char       *data,
                                               gsize             len);

/*
 * Starts a client transaction for @request (transfer full) towards @dst.  A new top Via with
 * our address, rport and @branch (a fresh one when NULL) is added.  CANCEL passes the branch
 * of the INVITE it cancels (RFC 3261 §9.1).  @func runs for every response, provisional
 * and final; the transaction stays valid until then (take a ref to keep it longer).
 */
SimClientTxn   *sim_stack_send_request        (SimStack         *self,
                                               osip_message_t   *request,
                                               const SimAddr    *dst,
                                               const char       *branch,
                                               SimResponseFunc   func,
                                               gpointer          user_data);
/*
 * sim_stack_send_request for a request its TU wrote as text: @text is the whole request
 * without our Via, its headers in the order and spelling sim_message_to_string writes them
 * (the Via goes right after the request line).  The bytes sent are those sim_stack_send_request
 * sends for sim_message_from_text (@text), but the request is parsed only if someone asks for
 * it (sim_client_txn_get_request, a 408 or 503 made locally).  A fresh branch is drawn.
 */
SimClientTxn   *sim_stack_send_request_text   (SimStack         *self,
                                               const char       *method,
                                               const char       *text,
                                               const SimAddr    *dst,
                                               SimResponseFunc   func,
                                               gpointer          user_data);
/* Adds our top Via (sent-by, @branch or a fresh one, rport).  For requests sent statelessly (ACK). */
void            sim_stack_add_via             (SimStack         *self,
                                               osip_message_t   *message,
                                               const char       *branch,
                                               SimTransportKind  transport);
/* Sends a message outside any transaction (ACK to 2xx, a stateless reply, a relayed 2xx). */
void            sim_stack_send_stateless      (SimStack         *self,
                                               osip_message_t   *message,
                                               const SimAddr    *dst);
/*
 * The transport reports that @dst cannot be reached (a refused or failed TCP connect, a
 * connection lost with data unsent).  Every client transaction towards @dst still waiting for
 * a final response ends with a locally made 503 (RFC 3261 §8.1.3.1, §18.4) instead of a 408
 * after Timer B/F (32 s).  Safe to call from the send function: the 503s are delivered from
 * the clock right after the current event.
 */
void            sim_stack_transport_error     (SimStack         *self,
                                               const SimAddr    *dst,
                                               const char       *reason);
/* RFC 3261 §9.2: the INVITE server transaction a CANCEL refers to, or NULL. */
SimServerTxn   *sim_stack_find_invite_txn     (SimStack         *self,
                                               osip_message_t   *cancel);
guint           sim_stack_get_n_transactions  (SimStack         *self);
void            sim_stack_set_max_transactions (SimStack        *self,
                                               guint             max);
guint           sim_stack_get_max_transactions (SimStack        *self);
/* The byte budget of SIM_STACK_MAX_TRANSACTION_BYTES, and the bytes the transactions hold now. */
void            sim_stack_set_max_transaction_bytes (SimStack   *self,
                                               guint64           max);
guint64         sim_stack_get_max_transaction_bytes (SimStack   *self);
guint64         sim_stack_get_held_bytes      (SimStack         *self);
/* How many sources (SIM_STACK_SOURCE_SHARE_DIVISOR) hold transactions now. */
guint           sim_stack_get_n_sources       (SimStack         *self);
/* Forgets every transaction at once, without sending anything (the element lost power). */
void            sim_stack_reset               (SimStack         *self);

SimClientTxn   *sim_client_txn_ref            (SimClientTxn     *txn);
void            sim_client_txn_unref          (SimClientTxn     *txn);
/* The TU loses interest: no more callbacks (the transaction still finishes its work). */
void            sim_client_txn_detach         (SimClientTxn     *txn);
/* The request; NULL once a non-INVITE transaction has its final response. */
osip_message_t *sim_client_txn_get_request    (SimClientTxn     *txn);
const char     *sim_client_txn_get_branch     (SimClientTxn     *txn);
const SimAddr  *sim_client_txn_get_destination (SimClientTxn    *txn);
gboolean        sim_client_txn_is_terminated  (SimClientTxn     *txn);

SimServerTxn   *sim_server_txn_ref            (SimServerTxn     *txn);
void            sim_server_txn_unref          (SimServerTxn     *txn);
/* Sends @response (transfer full) in this transaction.  Ignored once it is terminated. */
void            sim_server_txn_respond        (SimServerTxn     *txn,
                                               osip_message_t   *response);
/*
 * Sends the 100 Trying an INVITE server transaction owes now, if it is still owed.  The stack
 * sends it before the TU's first stateful response, or when the request function returns
 * without one; a TU that forwards the INVITE calls this first so the caller hears it first.
 */
void            sim_server_txn_send_trying    (SimServerTxn     *txn);
/*
 * Sends the non-2xx final @response (transfer full) statelessly and forgets the transaction at
 * once (RFC 3261 §8.2.7; a proxy's 407, §16.6, §22.3): nothing is kept, so a retransmitted
 * request is a new transaction and simply gets a new response.  The To tag is one the stack
 * recognises, so the ACK to a stateless response to an INVITE is absorbed here, never given to
 * the TU as the ACK to a 2xx.  Provisional and 2xx responses, and a response to an INVITE that
 * already has a To tag (its ACK would carry the dialog's tag), are sent as by
 * sim_server_txn_respond.
 */
void            sim_server_txn_respond_stateless (SimServerTxn  *txn,
                                               osip_message_t   *response);
/*
 * sim_server_txn_respond and sim_server_txn_respond_stateless for a final response (@status
 * 200-699) that is written, not built (issue 15): the status line with @reason (NULL: the
 * usual phrase), the request's Via, From, To (with the tag the stack chooses), Call-ID and
 * CSeq, then @extra (@extra_len bytes of whole header lines, each ending in CRLF), then
 * Content-Length: 0.  The bytes are those sim_message_new_response_sharing() with those header
 * lines added would give (sim_message_append_response()), and the transaction does what it
 * does for that response.  TRUE when it is done (or nothing is owed any more); FALSE, having
 * done nothing, for a response the stack leaves to be built (the caller then passes it to the
 * functions above).
 */
gboolean        sim_server_txn_respond_text   (SimServerTxn     *txn,
                                               int               status,
                                               const char       *reason,
                                               const char       *extra,
                                               gsize             extra_len);
gboolean        sim_server_txn_respond_text_stateless (SimServerTxn *txn,
                                                       int           status,
                                                       const char   *reason,
                                                       const char   *extra,
                                                       gsize         extra_len);
/* Convenience: builds and sends a response with a To tag chosen by the stack. */
void            sim_server_txn_reply          (SimServerTxn     *txn,
                                               int               status,
                                               const char       *reason);
/* The request; NULL once a non-INVITE transaction has sent its final response. */
osip_message_t *sim_server_txn_get_request    (SimServerTxn     *txn);
const SimAddr  *sim_server_txn_get_source     (SimServerTxn     *txn);
gboolean        sim_server_txn_has_final      (SimServerTxn     *txn);
const char     *sim_server_txn_get_to_tag     (SimServerTxn     *txn);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SimClientTxn, sim_client_txn_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SimServerTxn, sim_server_txn_unref)

G_END_DECLS
