/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "sim-stack.h"
#include "sim-message-private.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <string.h>

/*
 * Transactions, RFC 3261 §17 with the RFC 6026 "Accepted" states for INVITE.  Four machines:
 *
 *   ICT  INVITE client:      Calling -A,B-> Proceeding -> Completed (ACK, D) | Accepted (M)
 *   NICT non-INVITE client:  Trying -E,F-> Proceeding -> Completed (K)
 *   IST  INVITE server:      Proceeding -> Completed (G,H) -> Confirmed (I) | Accepted (L)
 *   NIST non-INVITE server:  Trying -> Proceeding -> Completed (J)
 *
 * Over a reliable transport (TCP) nothing is retransmitted and the waiting timers K, J, I, D
 * are zero (RFC 3261 §17.1.2.2, §17.2.2).
 */

typedef enum {
  TXN_ICT,
  TXN_NICT,
  TXN_IST,
  TXN_NIST,
  TXN_NIST_DONE,   /* a CompletedNist in the table of server transactions */
} TxnKind;

typedef enum {
  STATE_CALLING,
  STATE_TRYING,
  STATE_PROCEEDING,
  STATE_COMPLETED,
  STATE_CONFIRMED,
  STATE_ACCEPTED,
  STATE_TERMINATED,
} TxnState;

static const char *kind_names[] = { "ICT", "NICT", "IST", "NIST", "NIST" };
static const char *state_names[] = {
  "calling", "trying", "proceeding", "completed", "confirmed", "accepted", "terminated"
};

struct _SimClientTxn {
  gint ref_count;
  SimStack *stack;           /* NULL once the stack is gone */
  TxnKind kind;
  TxnState state;
  char *key;
  char *branch;
  char *method;
  osip_message_t *request;   /* NULL once a non-INVITE transaction has its final response */
  char *request_text;
  gsize request_len;
  char *ack_text;            /* ACK for a non-2xx final response (ICT) */
  gsize ack_len;
  gsize held;                /* bytes counted in the stack's held_bytes */
  gboolean counted;          /* in a table of the stack: its bytes count */
  char *source;              /* the source it is charged to (sim_addr_source_key), or NULL */
  struct SourceUse *use;     /* its entry in the stack's sources while counted, or NULL */
  SimAddr dst;
  SimTime interval;          /* current retransmission interval (Timer A / E) */
  guint retransmit_timer;    /* A or E */
  guint timeout_timer;       /* B or F */
  guint wait_timer;          /* D, K or M */
  SimResponseFunc func;
  gpointer user_data;
};

/*
 * A non-INVITE server transaction lives 32 s after its final response (Timer J), holding only
 * what Completed needs, so its size is what a busy registrar holds per registration: one
 * allocation with its key, branch, method and To tag inside, plus the response text.
 */
#define SERVER_TO_TAG_CHARS 10

struct _SimServerTxn {
  TxnKind kind;              /* first, as in CompletedNist: the table holds both */
  gint ref_count;
  TxnState state;
  int last_status;
  SimStack *stack;
  const char *key;           /* these three point into strings[] */
  const char *branch;
  const char *method;
  osip_message_t *request;   /* NULL once a non-INVITE transaction has its final response */
  SimAddr src;
  char *response_text;       /* last response sent */
  gsize response_len;
  gsize request_len;         /* bytes of the request as received */
  gsize held;                /* bytes counted in the stack's held_bytes */
  struct SourceUse *use;     /* its entry in the stack's sources while counted, or NULL */
  SimTime interval;          /* Timer G / 2xx retransmission */
  guint retransmit_timer;    /* G, or the 2xx retransmission */
  guint timeout_timer;       /* H, or L */
  guint wait_timer;          /* I or J */
  guint16 reply_port;        /* responses go to src at this port (RFC 3261 §18.2.2) */
  guint counted : 1;         /* in the table of the stack: its bytes count */
  guint trying_due : 1;      /* IST: 100 Trying owed, sent before the first stateful response */
  guint moved : 1;           /* NIST: its table entry became a CompletedNist */
  char *dialog_key;          /* IST: Call-ID + CSeq number, to match the ACK of a 2xx */
  char to_tag[SERVER_TO_TAG_CHARS + 1]; /* empty when the request has one */
  char strings[];            /* key, branch, method, each with its NUL */
};

/*
 * A non-INVITE server transaction in Completed over its final response (RFC 3261 §17.2.2):
 * all it does for Timer J (64*T1 over UDP) is answer a retransmitted request with the same
 * bytes.  The SimServerTxn the TU saw leaves the table for this record, one allocation with
 * its key, branch, method and response text, so a busy registrar holds per registration
 * little more than the response it may have to repeat.
 */
typedef struct {
  TxnKind kind;              /* TXN_NIST_DONE, first, as in SimServerTxn */
  guint wait_timer;          /* J */
  SimStack *stack;
  struct SourceUse *use;     /* its entry in the stack's sources while counted, or NULL */
  gsize held;                /* bytes counted in the stack's held_bytes: the response */
  gboolean counted;          /* in the table of the stack: its bytes count */
  const char *key;           /* these four point into data[] */
  const char *branch;
  const char *method;
  const char *response_text;
  gsize response_len;
  SimAddr reply_to;          /* where responses go (RFC 3261 §18.2.2) */
  char data[];
} CompletedNist;

struct _SimStack {
  GObject parent_instance;
  SimClock *clock;
  SimTrace *trace;
  GRand *rand;
  char *node_name;
  SimAddr local;
  GArray *locals;            /* SimAddr: every endpoint that is us (listeners, interfaces) */
  const SimAddr *arrival;    /* our endpoint of the message being handed up, or NULL */
  SimStackSendFunc send_func;
  gpointer send_data;
  SimRequestFunc request_func;
  gpointer request_data;
  gboolean retransmit_2xx;
  gboolean no_rport;          /* our Via asks for no rport (a phone's quirk) */
  gboolean trace_timers;
  GHashTable *clients;       /* key -> SimClientTxn* (ref) */
  GHashTable *servers;       /* key -> SimServerTxn* (ref) */
  GHashTable *accepted;      /* dialog key -> SimServerTxn* (borrowed; IST in Accepted) */
  GPtrArray *transport_errors; /* TransportError* waiting on the clock (borrowed) */
  guint max_transactions;
  guint64 held_bytes;        /* message text the transactions in the tables hold */
  guint64 max_transaction_bytes;
  GHashTable *sources;       /* source key -> SourceUse*: only sources holding transactions */
  const char *arrival_source; /* the source of the request being handed up, or NULL */
  char *sl_prefix;           /* starts the To tag of every stateless response */
  GString *scratch;          /* where responses are written (write_message) */
  gboolean scratch_busy;     /* the scratch text is being sent: write elsewhere */
};

/* What one source (SIM_STACK_SOURCE_SHARE_DIVISOR) holds: transactions and their bytes. */
typedef struct SourceUse {
  char *key;                 /* the source key, also the key in the stack's sources */
  guint n;
  guint64 bytes;
} SourceUse;

G_DEFINE_FINAL_TYPE (SimStack, sim_stack, G_TYPE_OBJECT)

static gboolean
is_reliable (const SimAddr *addr)
{
  /* TLS runs over TCP: as reliable, and a response goes back on the connection (§18.2.2). */
  return addr->transport == SIM_TRANSPORT_TCP || addr->transport == SIM_TRANSPORT_TLS;
}

/* ---------------------------------------------------------------------------------------- */
/* Tracing                                                                                   */

static void
trace_txn (SimStack   *self,
           TxnKind     kind,
           TxnState    state,
           const char *branch,
           const char *method,
           const char *text)
{
  SimEvent *event;

  if (!self->trace_timers || !sim_trace_is_enabled (self->trace))
    return;
  event = sim_event_new (SIM_EVENT_TRANSACTION, state_names[state]);
  event->t = sim_clock_now (self->clock);
  event->node = g_strdup (self->node_name);
  event->name = g_strdup (kind_names[kind]);
  event->branch = g_strdup (branch);
  event->method = g_strdup (method);
  event->text = g_strdup (text);
  sim_trace_emit (self->trace, event);
}

static void
trace_timer (SimStack   *self,
             const char *action,
             const char *name,
             SimTime     duration,
             const char *branch,
             const char *method)
{
  SimEvent *event;

  if (!self->trace_timers || !sim_trace_is_enabled (self->trace))
    return;
  event = sim_event_new (SIM_EVENT_TIMER, action);
  event->t = sim_clock_now (self->clock);
  event->node = g_strdup (self->node_name);
  event->name = g_strdup (name);
  event->duration = duration;
  event->branch = g_strdup (branch);
  event->method = g_strdup (method);
  sim_trace_emit (self->trace, event);
}

static void
transmit (SimStack      *self,
          const SimAddr *dst,
          const char    *data,
          gsize          len,
          gboolean       retransmission)
{
  if (self->send_func != NULL)
    self->send_func (self, dst, data, len, retransmission, self->send_data);
}

/*
 * Writes @msg into the stack's scratch buffer, which is reused from message to message, so a
 * response costs no allocation of its own; a transaction that keeps its response copies
 * exactly its length out of it (sim_message_to_string's buffer starts at 1 KB, and a
 * non-INVITE server transaction would hold all of it through Timer J, 32 s).  When the
 * scratch is in use (a send function that re-enters the stack), or for what only libosip2
 * writes, the text is a new string returned in @owned, which the caller frees.
 */
static const char *
write_message (SimStack       *self,
               osip_message_t *msg,
               gsize          *len,
               char          **owned)
{
  *owned = NULL;
  if (!self->scratch_busy)
    {
      g_string_truncate (self->scratch, 0);
      if (sim_message_append_to (self->scratch, msg))
        {
          *len = self->scratch->len;
          return self->scratch->str;
        }
    }
  *owned = sim_message_to_string (msg, len);
  return *owned;
}

/* Sends @data, which may be the scratch text of write_message: kept from being overwritten. */
static void
transmit_written (SimStack      *self,
                  const SimAddr *dst,
                  const char    *data,
                  gsize          len)
{
  gboolean busy = self->scratch_busy;

  self->scratch_busy = TRUE;
  transmit (self, dst, data, len, FALSE);
  self->scratch_busy = busy;
}

/* ---------------------------------------------------------------------------------------- */
/* The byte budget (SIM_STACK_MAX_TRANSACTION_BYTES)                                          */

/*
 * Changes what @source holds by @dn transactions and @dbytes bytes.  The entry exists only
 * while the source holds a transaction, so the table is bounded by the live transactions.
 */
static void
source_use_free (gpointer data)
{
  SourceUse *use = data;

  g_free (use->key);
  g_free (use);
}

/*
 * A new transaction charged to @source: its entry, made when the source holds no other.  The
 * transaction keeps the entry, so its accounting while it lives looks nothing up again.
 * @use is the entry the caller has looked up (NULL when the source holds nothing yet).
 */
static SourceUse *
source_acquire_found (SimStack   *self,
                      const char *source,
                      SourceUse  *use)
{
  if (source == NULL)
    return NULL;
  if (use == NULL)
    {
      use = g_new0 (SourceUse, 1);
      use->key = g_strdup (source);
      g_hash_table_insert (self->sources, use->key, use);
    }
  use->n++;
  return use;
}

static SourceUse *
source_acquire (SimStack   *self,
                const char *source)
{
  return source_acquire_found (self, source,
                               source != NULL ? g_hash_table_lookup (self->sources, source) : NULL);
}

static void
source_charge (SourceUse *use,
               gint64     dbytes)
{
  if (use == NULL)
    return;
  g_assert (dbytes >= 0 || use->bytes >= (guint64) -dbytes);
  use->bytes += dbytes;
}

/* A transaction leaves the tables; the entry goes with the source's last one. */
static void
source_release (SimStack   *self,
                SourceUse **use,
                gint64      dbytes)
{
  if (*use == NULL)
    return;
  source_charge (*use, dbytes);
  g_assert ((*use)->n > 0);
  if (--(*use)->n == 0)
    {
      g_assert_cmpuint ((*use)->bytes, ==, 0);
      g_hash_table_remove (self->sources, (*use)->key);
    }
  *use = NULL;
}

/*
 * Every place that stores or frees a transaction's text calls one of these, so held_bytes is
 * always the sum over the transactions in the tables, and each source's bytes the sum over
 * the transactions charged to it.  A transaction leaving its table frees
 * its texts (nothing is retransmitted from outside a table) and stops counting, even if a TU
 * still holds a reference to it.
 */
static void
client_account (SimClientTxn *txn)
{
  gsize now;

  if (txn->stack == NULL || !txn->counted)
    return;
  now = (txn->request_text != NULL ? txn->request_len : 0) +
        (txn->ack_text != NULL ? txn->ack_len : 0);
  g_assert (txn->stack->held_bytes >= txn->held);
  txn->stack->held_bytes = txn->stack->held_bytes - txn->held + now;
  source_charge (txn->use, (gint64) now - (gint64) txn->held);
  txn->held = now;
}

static void
server_account (SimServerTxn *txn)
{
  gsize now;

  if (txn->stack == NULL || !txn->counted)
    return;
  now = (txn->request != NULL ? txn->request_len : 0) +
        (txn->response_text != NULL ? txn->response_len : 0);
  g_assert (txn->stack->held_bytes >= txn->held);
  txn->stack->held_bytes = txn->stack->held_bytes - txn->held + now;
  source_charge (txn->use, (gint64) now - (gint64) txn->held);
  txn->held = now;
}

/* @txn leaves its table: its texts go and its bytes stop counting. */
static void
client_uncount (SimClientTxn *txn)
{
  if (txn->stack == NULL || !txn->counted)
    return;
  g_clear_pointer (&txn->request_text, g_free);
  g_clear_pointer (&txn->ack_text, g_free);
  client_account (txn);
  source_release (txn->stack, &txn->use, 0);
  txn->counted = FALSE;
}

static void
server_uncount (SimServerTxn *txn)
{
  if (txn->stack == NULL || !txn->counted)
    return;
  g_clear_pointer (&txn->response_text, g_free);
  /* The parsed request stays for a TU that holds a reference; it stops counting. */
  txn->stack->held_bytes -= txn->held;
  source_release (txn->stack, &txn->use, -(gint64) txn->held);
  txn->held = 0;
  txn->counted = FALSE;
}

/* ---------------------------------------------------------------------------------------- */
/* Client transactions                                                                       */

SimClientTxn *
sim_client_txn_ref (SimClientTxn *txn)
{
  g_atomic_int_inc (&txn->ref_count);
  return txn;
}

static void
client_stop_timers (SimClientTxn *txn)
{
  if (txn->stack == NULL)
    return;
  sim_clock_clear (txn->stack->clock, &txn->retransmit_timer);
  sim_clock_clear (txn->stack->clock, &txn->timeout_timer);
  sim_clock_clear (txn->stack->clock, &txn->wait_timer);
}

void
sim_client_txn_unref (SimClientTxn *txn)
{
  if (!g_atomic_int_dec_and_test (&txn->ref_count))
    return;
  client_stop_timers (txn);
  g_free (txn->key);
  g_free (txn->branch);
  g_free (txn->method);
  g_clear_pointer (&txn->request, osip_message_free);
  g_free (txn->request_text);
  g_free (txn->ack_text);
  g_free (txn->source);
  g_free (txn);
}

void
sim_client_txn_detach (SimClientTxn *txn)
{
  txn->func = NULL;
  txn->user_data = NULL;
}

/*
 * The request of @txn, parsed from its text the first time it is asked for when it was sent as
 * text (sim_stack_send_request_text): most transactions only ever need the text.
 */
static osip_message_t *
client_request (SimClientTxn *txn)
{
  if (txn->request == NULL && txn->request_text != NULL)
    txn->request = sim_message_from_text (txn->request_text);
  return txn->request;
}

osip_message_t *
sim_client_txn_get_request (SimClientTxn *txn)
{
  return client_request (txn);
}

const char *
sim_client_txn_get_branch (SimClientTxn *txn)
{
  return txn->branch;
}

const SimAddr *
sim_client_txn_get_destination (SimClientTxn *txn)
{
  return &txn->dst;
}

gboolean
sim_client_txn_is_terminated (SimClientTxn *txn)
{
  return txn->state == STATE_TERMINATED;
}

static void
client_set_state (SimClientTxn *txn,
                  TxnState      state)
{
  if (txn->state == state)
    return;
  txn->state = state;
  trace_txn (txn->stack, txn->kind, state, txn->branch, txn->method, NULL);
}

static void
client_terminate (SimClientTxn *txn)
{
  SimStack *self = txn->stack;

  client_stop_timers (txn);
  client_set_state (txn, STATE_TERMINATED);
  /* Dropping the table's reference may free the transaction; a newer one may own the key. */
  if (g_hash_table_lookup (self->clients, txn->key) == txn)
    g_hash_table_remove (self->clients, txn->key);
}

static void
client_deliver (SimClientTxn   *txn,
                osip_message_t *response)
{
  if (txn->func != NULL)
    txn->func (txn->stack, txn, response, txn->user_data);
}

static void client_retransmit_cb (gpointer data);

static void
client_arm_retransmit (SimClientTxn *txn)
{
  const char *name = txn->kind == TXN_ICT ? "A" : "E";

  txn->retransmit_timer = sim_clock_add (txn->stack->clock, txn->interval, client_retransmit_cb,
                                         txn, NULL);
  trace_timer (txn->stack, "started", name, txn->interval, txn->branch, txn->method);
}

static void
client_retransmit_cb (gpointer data)
{
  SimClientTxn *txn = data;

  txn->retransmit_timer = 0;
  trace_timer (txn->stack, "fired", txn->kind == TXN_ICT ? "A" : "E", txn->interval, txn->branch,
               txn->method);
  transmit (txn->stack, &txn->dst, txn->request_text, txn->request_len, TRUE);
  /* RFC 3261 §17.1.1.2 Timer A doubles; §17.1.2.2 Timer E doubles up to T2, and is T2 in Proceeding. */
  if (txn->kind == TXN_ICT)
    txn->interval *= 2;
  else if (txn->state == STATE_PROCEEDING)
    txn->interval = SIM_T2;
  else
    txn->interval = MIN (txn->interval * 2, SIM_T2);
  client_arm_retransmit (txn);
}

static void
client_wait_done_cb (gpointer data)
{
  SimClientTxn *txn = data;
  const char *name = txn->kind == TXN_NICT ? "K" : txn->state == STATE_ACCEPTED ? "M" : "D";

  txn->wait_timer = 0;
  trace_timer (txn->stack, "fired", name, 0, txn->branch, txn->method);
  client_terminate (txn);
}

static void
client_timeout_cb (gpointer data)
{
  SimClientTxn *txn = data;
  g_autoptr(osip_message_t) timeout = NULL;
  g_autoptr(SimClientTxn) hold G_GNUC_UNUSED = sim_client_txn_ref (txn);

  txn->timeout_timer = 0;
  trace_timer (txn->stack, "fired", txn->kind == TXN_ICT ? "B" : "F", 64 * SIM_T1, txn->branch,
               txn->method);
  trace_txn (txn->stack, txn->kind, txn->state, txn->branch, txn->method,
             "no final response: the transaction timed out (408)");
  /* RFC 3261 §8.1.3.1: a timeout is reported to the TU as a 408 Request Timeout. */
  timeout = sim_message_new_response (client_request (txn), 408, NULL, NULL);
  client_terminate (txn);
  client_deliver (txn, timeout);
}

/* ---------------------------------------------------------------------------------------- */
/* Transport errors (RFC 3261 §8.1.3.1, §17.1.1.2, §17.1.2.2, §18.4)                          */

/* Pending until the clock runs it; the stack cancels the ones left when it goes away. */
typedef struct {
  SimStack *stack;
  guint id;
  SimAddr dst;
  char *reason;
} TransportError;

static void
transport_error_free (gpointer data)
{
  TransportError *error = data;

  if (error->stack != NULL && error->stack->transport_errors != NULL)
    g_ptr_array_remove_fast (error->stack->transport_errors, error);
  g_free (error->reason);
  g_free (error);
}

static void
transport_error_cb (gpointer data)
{
  TransportError *error = data;
  g_autoptr(SimStack) self = g_object_ref (error->stack);
  g_autoptr(GPtrArray) failed = g_ptr_array_new_with_free_func ((GDestroyNotify) sim_client_txn_unref);
  GHashTableIter iter;
  SimClientTxn *txn;

  /* Done with the pending list before any TU runs (a TU may drop the last ref on the stack). */
  g_ptr_array_remove_fast (self->transport_errors, error);
  error->stack = NULL;
  if (self->clients == NULL)
    return;
  /* Only transactions still waiting for a final response: a completed one has its answer. */
  g_hash_table_iter_init (&iter, self->clients);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &txn))
    if (sim_addr_equal (&txn->dst, &error->dst) &&
        (txn->state == STATE_CALLING || txn->state == STATE_TRYING ||
         txn->state == STATE_PROCEEDING))
      g_ptr_array_add (failed, sim_client_txn_ref (txn));

  for (guint i = 0; i < failed->len; i++)
    {
      g_autoptr(osip_message_t) response = NULL;
      g_autofree char *text = NULL;

      txn = failed->pdata[i];
      if (txn->state == STATE_TERMINATED || client_request (txn) == NULL)
        continue;    /* ended by a TU callback of an earlier one */
      text = g_strdup_printf ("the transport could not reach the destination (%s): the "
                              "transaction ends at once with 503", error->reason);
      trace_txn (self, txn->kind, txn->state, txn->branch, txn->method, text);
      /* RFC 3261 §8.1.3.1: a transport error is reported to the TU as 503 Service Unavailable. */
      response = sim_message_new_response (txn->request, 503, NULL, NULL);
      client_terminate (txn);
      client_deliver (txn, response);
    }
}

void
sim_stack_transport_error (SimStack      *self,
                           const SimAddr *dst,
                           const char    *reason)
{
  TransportError *error;

  g_return_if_fail (SIM_IS_STACK (self));
  g_return_if_fail (dst != NULL);

  /*
   * Reported from inside the send function (a connect that fails at once) the transaction is
   * still being set up and its TU has not even got it back from sim_stack_send_request(), so
   * the 503 goes out from the clock, right after the current event.
   */
  error = g_new0 (TransportError, 1);
  error->stack = self;
  error->dst = *dst;
  error->reason = g_strdup (reason != NULL ? reason : "transport error");
  g_ptr_array_add (self->transport_errors, error);
  error->id = sim_clock_add (self->clock, 0, transport_error_cb, error, transport_error_free);
}

static void
client_start_wait (SimClientTxn *txn,
                   SimTime       duration,
                   const char   *name)
{
  sim_clock_clear (txn->stack->clock, &txn->retransmit_timer);
  sim_clock_clear (txn->stack->clock, &txn->timeout_timer);
  sim_clock_clear (txn->stack->clock, &txn->wait_timer);
  txn->wait_timer = sim_clock_add (txn->stack->clock, duration, client_wait_done_cb, txn, NULL);
  trace_timer (txn->stack, "started", name, duration, txn->branch, txn->method);
}

/* RFC 3261 §17.1.1.3: the ACK for a non-2xx final response, built by the transaction. */
static void
client_build_ack (SimClientTxn   *txn,
                  osip_message_t *response)
{
  osip_message_t *ack = NULL;
  osip_via_t *via = NULL, *via_copy = NULL;

  client_request (txn);
  osip_message_init (&ack);
  osip_message_set_method (ack, osip_strdup ("ACK"));
  osip_message_set_version (ack, osip_strdup ("SIP/2.0"));
  {
    osip_uri_t *uri = NULL;
    osip_uri_clone (txn->request->req_uri, &uri);
    osip_message_set_uri (ack, uri);
  }
  osip_message_get_via (txn->request, 0, &via);
  osip_via_clone (via, &via_copy);
  osip_list_add (&ack->vias, via_copy, -1);
  osip_from_clone (txn->request->from, &ack->from);
  osip_to_clone (response->to, &ack->to);
  osip_call_id_clone (txn->request->call_id, &ack->call_id);
  osip_cseq_init (&ack->cseq);
  osip_cseq_set_number (ack->cseq, osip_strdup (txn->request->cseq->number));
  osip_cseq_set_method (ack->cseq, osip_strdup ("ACK"));
  for (int pos = 0; !osip_list_eol (&txn->request->routes, pos); pos++)
    {
      osip_route_t *route = osip_list_get (&txn->request->routes, pos), *copy = NULL;
      osip_route_clone (route, &copy);
      osip_list_add (&ack->routes, copy, -1);
    }
  osip_message_set_max_forwards (ack, "70");
  osip_message_set_content_length (ack, "0");
  g_free (txn->ack_text);
  txn->ack_text = sim_message_to_string (ack, &txn->ack_len);
  osip_message_free (ack);
  client_account (txn);
}

static void
client_on_response (SimClientTxn   *txn,
                    osip_message_t *response)
{
  SimStack *self = txn->stack;
  int status = response->status_code;
  g_autoptr(SimClientTxn) hold G_GNUC_UNUSED = sim_client_txn_ref (txn);

  if (txn->kind == TXN_NICT)
    {
      if (txn->state == STATE_COMPLETED || txn->state == STATE_TERMINATED)
        return; /* a retransmitted final response: absorbed */
      if (status < 200)
        {
          client_set_state (txn, STATE_PROCEEDING);
          client_deliver (txn, response);
          return;
        }
      client_set_state (txn, STATE_COMPLETED);
      if (is_reliable (&txn->dst))
        client_terminate (txn);
      else
        client_start_wait (txn, SIM_T4, "K");
      client_deliver (txn, response);
      /* Completed only absorbs retransmitted responses: the request is not needed any more. */
      g_clear_pointer (&txn->request, osip_message_free);
      g_clear_pointer (&txn->request_text, g_free);
      client_account (txn);
      return;
    }

  /* ICT */
  switch (txn->state)
    {
    case STATE_CALLING:
    case STATE_PROCEEDING:
      if (status < 200)
        {
          /* RFC 3261 §17.1.1.2: a provisional response stops retransmissions. */
          sim_clock_clear (self->clock, &txn->retransmit_timer);
          sim_clock_clear (self->clock, &txn->timeout_timer);
          client_set_state (txn, STATE_PROCEEDING);
          client_deliver (txn, response);
        }
      else if (status < 300)
        {
          /* RFC 6026 §7.2: Accepted, so 2xx retransmissions still reach the TU for 64*T1. */
          client_set_state (txn, STATE_ACCEPTED);
          client_start_wait (txn, 64 * SIM_T1, "M");
          client_deliver (txn, response);
        }
      else
        {
          client_build_ack (txn, response);
          transmit (self, &txn->dst, txn->ack_text, txn->ack_len, FALSE);
          client_set_state (txn, STATE_COMPLETED);
          client_start_wait (txn, is_reliable (&txn->dst) ? 0 : SIM_SEC (32), "D");
          client_deliver (txn, response);
        }
      break;

    case STATE_COMPLETED:
      if (status >= 300 && txn->ack_text != NULL)
        transmit (self, &txn->dst, txn->ack_text, txn->ack_len, TRUE);
      break;

    case STATE_ACCEPTED:
      if (status >= 200 && status < 300)
        client_deliver (txn, response);
      break;

    default:
      break;
    }
}

static char *
client_key (const char *branch,
            const char *method)
{
  /* RFC 3261 §17.1.3: branch and CSeq method; an ACK never has a client transaction. */
  return g_strconcat (branch, "|", method, NULL);
}

void
sim_stack_add_via (SimStack         *self,
                   osip_message_t   *message,
                   const char       *branch,
                   SimTransportKind  transport)
{
  g_autofree char *new_branch = NULL;
  g_autofree char *via = NULL;
  osip_via_t *v = NULL;
  char host[64];

  if (branch == NULL)
    branch = new_branch = sim_random_branch (self->rand);
  /* RFC 3261 §18.1.1 + RFC 3581: our sent-by, the branch, and rport to ask for NAT help. */
  sim_addr_format (&self->local, host, sizeof host);
  via = g_strconcat ("SIP/2.0/", sim_transport_name (transport), " ", host, ";branch=", branch,
                     self->no_rport ? "" : ";rport", NULL);
  v = _sim_message_via_from_text (via);
  if (v == NULL)
    g_error ("bug: bad Via %s", via);
  osip_list_add (&message->vias, v, 0);
}

/*
 * The client transaction for a request whose text (with our Via) is @text (transfer full);
 * @request (transfer full) is its structure, or NULL to parse @text when it is asked for.
 */
static SimClientTxn *
client_start (SimStack      *self,
              osip_message_t *request,
              const char    *method,
              char          *text,
              gsize          len,
              const SimAddr *dst,
              const char    *branch,
              SimResponseFunc func,
              gpointer       user_data)
{
  SimClientTxn *txn;

  txn = g_new0 (SimClientTxn, 1);
  txn->ref_count = 1;
  txn->stack = self;
  txn->kind = strcmp (method, "INVITE") == 0 ? TXN_ICT : TXN_NICT;
  txn->state = txn->kind == TXN_ICT ? STATE_CALLING : STATE_TRYING;
  txn->branch = g_strdup (branch);
  txn->key = client_key (branch, method);
  txn->method = g_strdup (method);
  txn->request = request;
  txn->request_text = text;
  txn->request_len = len;
  txn->dst = *dst;
  txn->func = func;
  txn->user_data = user_data;
  txn->interval = SIM_T1;

  /* A CANCEL shares the INVITE's branch but not its transaction: the method keeps them apart. */
  /* A request the TU sends while handling one it received (a proxy forwarding it, one copy per
   * binding) is charged to that request's source, so forwarding costs its sender's share. */
  txn->source = g_strdup (self->arrival_source);
  g_hash_table_replace (self->clients, txn->key, txn);
  txn->counted = TRUE;
  txn->use = source_acquire (self, txn->source);
  client_account (txn);
  trace_txn (self, txn->kind, txn->state, txn->branch, method, NULL);

  transmit (self, dst, txn->request_text, txn->request_len, FALSE);
  if (!is_reliable (dst))
    client_arm_retransmit (txn);
  txn->timeout_timer = sim_clock_add (self->clock, 64 * SIM_T1, client_timeout_cb, txn, NULL);
  trace_timer (self, "started", txn->kind == TXN_ICT ? "B" : "F", 64 * SIM_T1, txn->branch,
               method);

  /*
   * RFC 3261 §9.1: if the cancelled INVITE gets no final response within 64*T1 of the CANCEL,
   * it is treated as timed out (in Proceeding it has no timer of its own).
   */
  if (strcmp (method, "CANCEL") == 0)
    {
      g_autofree char *invite_key = client_key (branch, "INVITE");
      SimClientTxn *invite = g_hash_table_lookup (self->clients, invite_key);
      if (invite != NULL && invite->state == STATE_PROCEEDING && invite->timeout_timer == 0)
        invite->timeout_timer = sim_clock_add (self->clock, 64 * SIM_T1, client_timeout_cb, invite, NULL);
    }
  return txn;
}

SimClientTxn *
sim_stack_send_request (SimStack         *self,
                        osip_message_t   *request,
                        const SimAddr    *dst,
                        const char       *branch,
                        SimResponseFunc   func,
                        gpointer          user_data)
{
  g_autofree char *new_branch = NULL;
  char *text;
  gsize len;

  g_return_val_if_fail (SIM_IS_STACK (self), NULL);
  g_return_val_if_fail (request != NULL && request->sip_method != NULL, NULL);
  g_return_val_if_fail (strcmp (request->sip_method, "ACK") != 0, NULL);

  if (branch == NULL)
    branch = new_branch = sim_random_branch (self->rand);
  sim_stack_add_via (self, request, branch, dst->transport);
  text = sim_message_to_string (request, &len);
  return client_start (self, request, request->sip_method, text, len, dst, branch, func,
                       user_data);
}

SimClientTxn *
sim_stack_send_request_text (SimStack         *self,
                             const char       *method,
                             const char       *text,
                             const SimAddr    *dst,
                             SimResponseFunc   func,
                             gpointer          user_data)
{
  g_autofree char *branch = NULL;
  const char *line_end;
  char host[64];

  g_return_val_if_fail (SIM_IS_STACK (self), NULL);
  g_return_val_if_fail (method != NULL && strcmp (method, "ACK") != 0, NULL);
  g_return_val_if_fail (text != NULL, NULL);

  line_end = strstr (text, "\r\n");
  g_return_val_if_fail (line_end != NULL, NULL);
  /* Only a dotted IPv4 sent-by is written here as the serialiser writes it; others go there. */
  if (self->local.ip[0] == '\0' || self->local.ip[strspn (self->local.ip, "0123456789.")] != '\0')
    return sim_stack_send_request (self, sim_message_from_text (text), dst, NULL, func, user_data);

  /* The same random draw and Via text as sim_stack_add_via, where the serialiser puts it. */
  branch = sim_random_branch (self->rand);
  sim_addr_format (&self->local, host, sizeof host);
  {
    const char *transport = sim_transport_name (dst->transport);
    const char *rport = self->no_rport ? "" : ";rport";
    gsize head = line_end + 2 - text, rest = strlen (line_end + 2);
    gsize n_transport = strlen (transport), n_host = strlen (host);
    gsize n_branch = strlen (branch), n_rport = strlen (rport);
    gsize len = head + strlen ("Via: SIP/2.0/") + n_transport + 1 + n_host + strlen (";branch=") +
                n_branch + n_rport + 2 + rest;
    char *out = g_malloc (len + 1), *p = out;

#define PUT(data, n) (memcpy (p, (data), (n)), p += (n))
    PUT (text, head);
    PUT ("Via: SIP/2.0/", strlen ("Via: SIP/2.0/"));
    PUT (transport, n_transport);
    PUT (" ", 1);
    PUT (host, n_host);
    PUT (";branch=", strlen (";branch="));
    PUT (branch, n_branch);
    PUT (rport, n_rport);
    PUT ("\r\n", 2);
    PUT (line_end + 2, rest);
#undef PUT
    *p = '\0';
    g_assert ((gsize) (p - out) == len);
    return client_start (self, NULL, method, out, len, dst, branch, func, user_data);
  }
}

void
sim_stack_send_stateless (SimStack       *self,
                          osip_message_t *message,
                          const SimAddr  *dst)
{
  g_autofree char *owned = NULL;
  const char *text;
  gsize len;

  g_return_if_fail (SIM_IS_STACK (self));
  text = write_message (self, message, &len, &owned);
  transmit_written (self, dst, text, len);
  osip_message_free (message);
}

/* ---------------------------------------------------------------------------------------- */
/* Server transactions                                                                       */

SimServerTxn *
sim_server_txn_ref (SimServerTxn *txn)
{
  g_atomic_int_inc (&txn->ref_count);
  return txn;
}

static void
server_stop_timers (SimServerTxn *txn)
{
  if (txn->stack == NULL)
    return;
  sim_clock_clear (txn->stack->clock, &txn->retransmit_timer);
  sim_clock_clear (txn->stack->clock, &txn->timeout_timer);
  sim_clock_clear (txn->stack->clock, &txn->wait_timer);
}

void
sim_server_txn_unref (SimServerTxn *txn)
{
  if (!g_atomic_int_dec_and_test (&txn->ref_count))
    return;
  server_stop_timers (txn);
  g_free (txn->dialog_key);
  g_clear_pointer (&txn->request, osip_message_free);
  g_free (txn->response_text);
  g_free (txn);
}

osip_message_t *
sim_server_txn_get_request (SimServerTxn *txn)
{
  return txn->request;
}

const SimAddr *
sim_server_txn_get_source (SimServerTxn *txn)
{
  return &txn->src;
}

gboolean
sim_server_txn_has_final (SimServerTxn *txn)
{
  return txn->last_status >= 200;
}

const char *
sim_server_txn_get_to_tag (SimServerTxn *txn)
{
  return txn->to_tag[0] != '\0' ? txn->to_tag : NULL;
}

/* Where responses go: the source, at the port response_destination chose. */
static inline void
server_reply_to (const SimServerTxn *txn,
                 SimAddr            *dst)
{
  *dst = txn->src;
  dst->port = txn->reply_port;
}

/* Sends the response @txn keeps again (a retransmission, Timer G, a 2xx to INVITE). */
static void
server_resend (SimServerTxn *txn)
{
  SimAddr dst;

  server_reply_to (txn, &dst);
  transmit (txn->stack, &dst, txn->response_text, txn->response_len, TRUE);
}

static void
server_set_state (SimServerTxn *txn,
                  TxnState      state)
{
  if (txn->state == state || txn->stack == NULL)
    return;
  txn->state = state;
  trace_txn (txn->stack, txn->kind, state, txn->branch, txn->method, NULL);
}

static void
server_terminate (SimServerTxn *txn)
{
  SimStack *self = txn->stack;

  if (self == NULL || txn->state == STATE_TERMINATED || txn->moved)
    return;
  server_stop_timers (txn);
  server_set_state (txn, STATE_TERMINATED);
  if (txn->dialog_key != NULL && g_hash_table_lookup (self->accepted, txn->dialog_key) == txn)
    g_hash_table_remove (self->accepted, txn->dialog_key);
  g_hash_table_remove (self->servers, txn->key);
}

static void
server_timer_name_trace (SimServerTxn *txn,
                         const char   *action,
                         const char   *name,
                         SimTime       duration)
{
  trace_timer (txn->stack, action, name, duration, txn->branch, txn->method);
}

static void
server_wait_done_cb (gpointer data)
{
  SimServerTxn *txn = data;

  txn->wait_timer = 0;
  server_timer_name_trace (txn, "fired", txn->kind == TXN_NIST ? "J" : "I", 0);
  server_terminate (txn);
}

static void
server_timeout_cb (gpointer data)
{
  SimServerTxn *txn = data;
  gboolean accepted = txn->state == STATE_ACCEPTED;

  txn->timeout_timer = 0;
  server_timer_name_trace (txn, "fired", accepted ? "L" : "H", 64 * SIM_T1);
  if (!accepted)
    trace_txn (txn->stack, txn->kind, txn->state, txn->branch, txn->method,
               "no ACK arrived: the transaction gives up (Timer H)");
  server_terminate (txn);
}

static void server_retransmit_cb (gpointer data);

static void
server_arm_retransmit (SimServerTxn *txn)
{
  txn->retransmit_timer = sim_clock_add (txn->stack->clock, txn->interval, server_retransmit_cb,
                                         txn, NULL);
  server_timer_name_trace (txn, "started", "G", txn->interval);
}

static void
server_retransmit_cb (gpointer data)
{
  SimServerTxn *txn = data;

  txn->retransmit_timer = 0;
  server_timer_name_trace (txn, "fired", "G", txn->interval);
  server_resend (txn);
  /* RFC 3261 §17.2.1 (Timer G) and §13.3.1.4 (2xx): double up to T2. */
  txn->interval = MIN (txn->interval * 2, SIM_T2);
  server_arm_retransmit (txn);
}

/* ---------------------------------------------------------------------------------------- */
/* Completed non-INVITE server transactions (CompletedNist)                                  */

static gboolean
is_completed_nist (gconstpointer value)
{
  return *(const TxnKind *) value == TXN_NIST_DONE;
}

/* It leaves the table (or the stack goes): its response goes and its bytes stop counting. */
static void
done_uncount (CompletedNist *done)
{
  if (done->stack == NULL || !done->counted)
    return;
  sim_clock_clear (done->stack->clock, &done->wait_timer);
  g_assert (done->stack->held_bytes >= done->held);
  done->stack->held_bytes -= done->held;
  source_release (done->stack, &done->use, -(gint64) done->held);
  done->held = 0;
  done->counted = FALSE;
}

static void
done_wait_cb (gpointer data)
{
  CompletedNist *done = data;
  SimStack *self = done->stack;

  done->wait_timer = 0;
  trace_timer (self, "fired", "J", 0, done->branch, done->method);
  trace_txn (self, TXN_NIST, STATE_TERMINATED, done->branch, done->method, NULL);
  g_hash_table_remove (self->servers, done->key);
}

/*
 * Sends @text (@len bytes), the final response of @txn (NIST, in its table): a
 * CompletedNist with the response text takes its place in the table, with its bytes and its
 * source, and starts Timer J (RFC 3261 §17.2.2: 64*T1 over UDP, zero over a reliable
 * transport).  The request is freed: Completed only repeats the response.  @txn stays valid for
 * those who hold a reference and answers as a completed transaction (its stack is NULL, as for
 * one the stack has orphaned), but the stack no longer looks at it.
 */
static void
server_complete_nist (SimServerTxn *txn,
                      int           status,
                      const char   *text,
                      gsize         len)
{
  SimStack *self = txn->stack;
  SimTime wait = is_reliable (&txn->src) ? 0 : 64 * SIM_T1;
  gsize key_size = strlen (txn->key) + 1;
  gsize branch_size = txn->branch != NULL ? strlen (txn->branch) + 1 : 0;
  gsize method_size = strlen (txn->method) + 1;
  CompletedNist *done = g_malloc (sizeof (CompletedNist) + key_size + branch_size + method_size +
                                  len + 1);
  char *p = done->data;

  done->kind = TXN_NIST_DONE;
  done->wait_timer = 0;
  done->stack = self;
  done->key = memcpy (p, txn->key, key_size);
  p += key_size;
  done->branch = txn->branch != NULL ? memcpy (p, txn->branch, branch_size) : NULL;
  p += branch_size;
  done->method = memcpy (p, txn->method, method_size);
  p += method_size;
  done->response_text = memcpy (p, text, len + 1);
  done->response_len = len;
  server_reply_to (txn, &done->reply_to);

  /* The source's charge moves to the record, which counts its response instead of the request. */
  done->held = len;
  done->use = g_steal_pointer (&txn->use);
  done->counted = TRUE;
  g_assert (self->held_bytes >= txn->held);
  self->held_bytes = self->held_bytes - txn->held + len;
  source_charge (done->use, (gint64) len - (gint64) txn->held);
  txn->held = 0;
  txn->counted = FALSE;
  txn->moved = TRUE;
  txn->last_status = status;
  /* The table's reference to @txn goes with its entry (release_server); the caller holds one. */
  g_hash_table_replace (self->servers, (char *) done->key, done);

  transmit (self, &done->reply_to, done->response_text, done->response_len, FALSE);
  g_clear_pointer (&txn->request, osip_message_free);
  server_set_state (txn, STATE_COMPLETED);
  done->wait_timer = sim_clock_add (self->clock, wait, done_wait_cb, done, NULL);
  trace_timer (self, "started", "J", wait, done->branch, done->method);
  txn->stack = NULL;
}

static void server_respond_written (SimServerTxn *txn,
                                    int           status,
                                    const char   *text,
                                    gsize         len,
                                    char         *owned);

void
sim_server_txn_respond (SimServerTxn   *txn,
                        osip_message_t *response)
{
  SimStack *self = txn->stack;
  int status = response->status_code;
  g_autoptr(SimServerTxn) hold = NULL;

  if (self == NULL || txn->state == STATE_TERMINATED || txn->last_status >= 200)
    {
      sim_message_free (response);
      return;
    }
  hold = sim_server_txn_ref (txn);

  if (txn->trying_due)
    {
      txn->trying_due = FALSE;
      if (status != 100)
        sim_server_txn_reply (txn, 100, NULL);
    }
  if (txn->to_tag[0] != '\0' && status > 100 && sim_message_to_tag (response) == NULL)
    osip_to_set_tag (response->to, osip_strdup (txn->to_tag));
  {
    char *owned = NULL;
    gsize len;
    const char *text = write_message (self, response, &len, &owned);

    /* A response sharing the request's headers goes before server_complete_nist frees it. */
    sim_message_free (response);
    server_respond_written (txn, status, text, len, owned);
  }
}

/*
 * The rest of sim_server_txn_respond once the response is written: @text (@len bytes), which
 * is @owned (transfer full) when that is not NULL, else the stack's scratch.
 */
static void
server_respond_written (SimServerTxn *txn,
                        int           status,
                        const char   *text,
                        gsize         len,
                        char         *owned)
{
  SimStack *self = txn->stack;
  SimAddr dst;

  if (txn->kind == TXN_NIST && status >= 200 && txn->counted)
    {
      server_complete_nist (txn, status, text, len);
      g_free (owned);
      return;
    }
  g_free (txn->response_text);
  txn->response_text = owned != NULL ? owned : g_memdup2 (text, len + 1);
  txn->response_len = len;
  txn->last_status = status;
  server_account (txn);

  server_reply_to (txn, &dst);
  transmit (self, &dst, txn->response_text, txn->response_len, FALSE);

  if (status < 200)
    {
      if (txn->kind == TXN_NIST)
        server_set_state (txn, STATE_PROCEEDING);
      return;
    }

  if (txn->kind == TXN_NIST)
    {
      /* Completed only repeats the response: the request is not needed any more. */
      g_clear_pointer (&txn->request, osip_message_free);
      server_account (txn);
      server_set_state (txn, STATE_COMPLETED);
      txn->wait_timer = sim_clock_add (self->clock, is_reliable (&txn->src) ? 0 : 64 * SIM_T1,
                                       server_wait_done_cb, txn, NULL);
      server_timer_name_trace (txn, "started", "J", is_reliable (&txn->src) ? 0 : 64 * SIM_T1);
      return;
    }

  /* IST */
  txn->interval = SIM_T1;
  if (status < 300)
    {
      /* RFC 6026 §8.5: Accepted absorbs retransmitted INVITEs for 64*T1 (Timer L). */
      server_set_state (txn, STATE_ACCEPTED);
      if (self->retransmit_2xx && !is_reliable (&txn->src))
        server_arm_retransmit (txn);
      txn->timeout_timer = sim_clock_add (self->clock, 64 * SIM_T1, server_timeout_cb, txn, NULL);
      server_timer_name_trace (txn, "started", "L", 64 * SIM_T1);
      if (txn->dialog_key != NULL)
        g_hash_table_replace (self->accepted, txn->dialog_key, txn);
    }
  else
    {
      server_set_state (txn, STATE_COMPLETED);
      if (!is_reliable (&txn->src))
        server_arm_retransmit (txn);
      txn->timeout_timer = sim_clock_add (self->clock, 64 * SIM_T1, server_timeout_cb, txn, NULL);
      server_timer_name_trace (txn, "started", "H", 64 * SIM_T1);
    }
}

/* Sets the To tag of @response to @tag, replacing the one the TU may have put there. */
static void
set_to_tag (osip_message_t *response,
            const char     *tag)
{
  osip_generic_param_t *param = NULL;

  if (osip_to_get_tag (response->to, &param) == 0 && param != NULL)
    {
      osip_free (param->gvalue);
      param->gvalue = osip_strdup (tag);
    }
  else
    osip_to_set_tag (response->to, osip_strdup (tag));
}

void
sim_server_txn_send_trying (SimServerTxn *txn)
{
  g_return_if_fail (txn != NULL);

  if (txn->trying_due)
    sim_server_txn_reply (txn, 100, NULL);
}

static void server_send_stateless_written (SimServerTxn *txn,
                                           int           status,
                                           const char   *text,
                                           gsize         len);

void
sim_server_txn_respond_stateless (SimServerTxn   *txn,
                                  osip_message_t *response)
{
  SimStack *self = txn->stack;
  int status = response->status_code;
  g_autoptr(SimServerTxn) hold = NULL;
  g_autofree char *text = NULL;
  const char *written;
  gsize len;

  if (self == NULL || txn->state == STATE_TERMINATED || txn->last_status >= 200)
    {
      sim_message_free (response);
      return;
    }
  /*
   * A provisional response or a 2xx needs its transaction (a 2xx to INVITE is retransmitted
   * until the ACK comes, §13.3.1.4).  The ACK to a non-2xx for an INVITE that already has a To
   * tag carries that tag, not ours, so it cannot be absorbed here: it reaches the TU as a
   * transaction-less ACK, which the proxy drops unless it names a dialog it Record-Routed (and
   * then the party it reaches discards an ACK that matches none of its INVITEs, §17.2.1).
   * Sending such refusals statefully instead would retransmit them to a spoofed source until
   * Timer H, a dozen packets for one.
   */
  if (status < 300)
    {
      sim_server_txn_respond (txn, response);
      return;
    }
  hold = sim_server_txn_ref (txn);
  /*
   * RFC 3261 §8.2.7: a stateless UAS sends no provisional response.  After a 100 Trying the
   * client would stop retransmitting (§17.1.1.2), and a lost final response would never be
   * asked for again.
   */
  txn->trying_due = FALSE;

  /* RFC 3261 §8.2.7: our tag, marked so that the ACK to it is recognised and absorbed. */
  if (txn->to_tag[0] != '\0')
    {
      /* sl_prefix is "sl" and eight hex digits and a dash (sim_stack_new). */
      char tag[16 + SERVER_TO_TAG_CHARS];
      gsize n = strlen (self->sl_prefix);

      g_assert (n < 16);
      memcpy (tag, self->sl_prefix, n);
      memcpy (tag + n, txn->to_tag, sizeof txn->to_tag);
      set_to_tag (response, tag);
    }
  written = write_message (self, response, &len, &text);
  sim_message_free (response);
  server_send_stateless_written (txn, status, written, len);
}

/* The rest of sim_server_txn_respond_stateless once the response is written (@text, @len). */
static void
server_send_stateless_written (SimServerTxn *txn,
                               int           status,
                               const char   *text,
                               gsize         len)
{
  SimStack *self = txn->stack;
  SimAddr dst;

  txn->last_status = status;
  server_reply_to (txn, &dst);
  transmit_written (self, &dst, text, len);
  trace_txn (self, txn->kind, txn->state, txn->branch, txn->method,
             "final response sent statelessly (RFC 3261 §8.2.7): the transaction is forgotten "
             "at once and a retransmitted request gets a new one");
  server_terminate (txn);
}

/*
 * Writes the response sim_server_txn_respond_text describes into the stack's scratch, with
 * @tag on its To; NULL where the caller must build it instead.
 */
static const char *
write_text_response (SimServerTxn *txn,
                     int           status,
                     const char   *reason,
                     const char   *tag,
                     const char   *extra,
                     gsize         extra_len,
                     gsize        *len)
{
  SimStack *self = txn->stack;

  if (self->scratch_busy || txn->request == NULL)
    return NULL;
  g_string_truncate (self->scratch, 0);
  if (!sim_message_append_response (self->scratch, txn->request, status, reason, tag, extra,
                                    extra_len))
    return NULL;
  *len = self->scratch->len;
  return self->scratch->str;
}

gboolean
sim_server_txn_respond_text (SimServerTxn *txn,
                             int           status,
                             const char   *reason,
                             const char   *extra,
                             gsize         extra_len)
{
  g_autoptr(SimServerTxn) hold = NULL;
  const char *text;
  gsize len;

  g_return_val_if_fail (txn != NULL, FALSE);
  g_return_val_if_fail (status >= 200 && status <= 699, FALSE);

  if (txn->stack == NULL || txn->state == STATE_TERMINATED || txn->last_status >= 200)
    return TRUE;
  /* The 100 Trying an INVITE is owed goes first: left to sim_server_txn_respond. */
  if (txn->trying_due)
    return FALSE;
  text = write_text_response (txn, status, reason, txn->to_tag[0] != '\0' ? txn->to_tag : NULL,
                              extra, extra_len, &len);
  if (text == NULL)
    return FALSE;
  hold = sim_server_txn_ref (txn);
  server_respond_written (txn, status, text, len, NULL);
  return TRUE;
}

gboolean
sim_server_txn_respond_text_stateless (SimServerTxn *txn,
                                       int           status,
                                       const char   *reason,
                                       const char   *extra,
                                       gsize         extra_len)
{
  SimStack *self = txn->stack;
  g_autoptr(SimServerTxn) hold = NULL;
  char tag[16 + SERVER_TO_TAG_CHARS];
  const char *text;
  gsize len;

  g_return_val_if_fail (txn != NULL, FALSE);
  g_return_val_if_fail (status >= 200 && status <= 699, FALSE);

  if (self == NULL || txn->state == STATE_TERMINATED || txn->last_status >= 200)
    return TRUE;
  /* As sim_server_txn_respond_stateless: a 2xx needs its transaction. */
  if (status < 300)
    return sim_server_txn_respond_text (txn, status, reason, extra, extra_len);
  /* As there, our tag marked as a stateless one (RFC 3261 §8.2.7). */
  if (txn->to_tag[0] != '\0')
    {
      gsize n = strlen (self->sl_prefix);

      g_assert (n < 16);
      memcpy (tag, self->sl_prefix, n);
      memcpy (tag + n, txn->to_tag, sizeof txn->to_tag);
    }
  text = write_text_response (txn, status, reason, txn->to_tag[0] != '\0' ? tag : NULL,
                              extra, extra_len, &len);
  if (text == NULL)
    return FALSE;
  hold = sim_server_txn_ref (txn);
  txn->trying_due = FALSE;
  server_send_stateless_written (txn, status, text, len);
  return TRUE;
}

void
sim_server_txn_reply (SimServerTxn *txn,
                      int           status,
                      const char   *reason)
{
  if (txn->request == NULL || txn->last_status >= 200)
    return;
  sim_server_txn_respond (txn, sim_message_new_response (txn->request, status, reason,
                                                         sim_server_txn_get_to_tag (txn)));
}

/* Room for the key of every ordinary request on the stack; longer keys are allocated. */
#define SERVER_KEY_BUF 256

/*
 * RFC 3261 §17.2.3: branch, sent-by and method (ACK matches its INVITE).  @branch is
 * sim_message_branch (@request), which the caller has at hand.  Every request comes here, so
 * the key is written into @buf (SERVER_KEY_BUF bytes) when it fits, else into a new string
 * returned in *@heap for the caller to free; *@len is its length.
 */
static const char *
server_key (osip_message_t *request,
            const char     *branch,
            char           *buf,
            char          **heap,
            gsize          *len)
{
  const char *method = request->sip_method;
  osip_via_t *via = NULL;

  *heap = NULL;
  if (strcmp (method, "ACK") == 0)
    method = "INVITE";
  osip_message_get_via (request, 0, &via);
  if (branch != NULL && g_str_has_prefix (branch, "z9hG4bK"))
    {
      const char *port = via->port ? via->port : "5060";
      const char *parts[] = { branch, "|", via->host, ":", port, "|", method };
      gsize lens[G_N_ELEMENTS (parts)];
      gsize total = 0;
      char *p;

      for (guint i = 0; i < G_N_ELEMENTS (parts); i++)
        total += lens[i] = strlen (parts[i]);
      p = total < SERVER_KEY_BUF ? buf : (*heap = g_malloc (total + 1));
      *len = total;
      for (guint i = 0; i < G_N_ELEMENTS (parts); i++)
        {
          memcpy (p, parts[i], lens[i]);
          p += lens[i];
        }
      *p = '\0';
      return *heap != NULL ? *heap : buf;
    }

  /* RFC 3261 §17.2.3: an RFC 2543 client; fall back to the request's identifying fields. */
  {
    g_autofree char *call_id = sim_message_call_id (request);
    *heap = g_strdup_printf ("2543|%s|%s|%s|%s:%s|%s", call_id, request->cseq->number,
                             sim_message_from_tag (request) ?: "", via->host,
                             via->port ? via->port : "5060", method);
    *len = strlen (*heap);
    return *heap;
  }
}

static char *
dialog_key (osip_message_t *request)
{
  g_autofree char *call_id = sim_message_call_id (request);
  return g_strdup_printf ("%s|%s|%s", call_id, request->cseq->number,
                          sim_message_from_tag (request) ?: "");
}

SimServerTxn *
sim_stack_find_invite_txn (SimStack       *self,
                           osip_message_t *cancel)
{
  char buf[SERVER_KEY_BUF];
  g_autofree char *heap = NULL;
  const char *key;
  gsize len;
  char *method = cancel->sip_method;
  SimServerTxn *txn;

  /* RFC 3261 §9.2: the CANCEL matches the INVITE transaction with the same key. */
  cancel->sip_method = (char *) "INVITE";
  key = server_key (cancel, sim_message_branch (cancel), buf, &heap, &len);
  cancel->sip_method = method;
  txn = g_hash_table_lookup (self->servers, key);
  return txn != NULL && txn->kind == TXN_IST ? txn : NULL;
}

/*
 * RFC 3581 §4 and RFC 3261 §18.2.1: note where the request really came from.  Returns whether
 * the top Via asks for rport (then responses go to the source port, response_destination).
 */
static gboolean
stamp_received (osip_message_t *request,
                const SimAddr  *src)
{
  osip_via_t *via = NULL;
  osip_generic_param_t *rport = NULL;

  if (osip_message_get_via (request, 0, &via) < 0 || via == NULL)
    return FALSE;
  if (osip_via_param_get_byname (via, "rport", &rport) != 0)
    rport = NULL;
  /* RFC 3581 §4: with rport, received is added even when it equals sent-by. */
  if (rport != NULL || g_strcmp0 (via->host, src->ip) != 0)
    osip_via_set_received (via, osip_strdup (src->ip));
  if (rport != NULL && (rport->gvalue == NULL || *rport->gvalue == '\0'))
    {
      /* "%u" written by hand: every request with rport comes here. */
      char port[8], *p = port + sizeof port;
      guint n = src->port;

      *--p = '\0';
      do
        {
          *--p = (char) ('0' + n % 10);
          n /= 10;
        }
      while (n != 0);
      osip_free (rport->gvalue);
      rport->gvalue = osip_strdup (p);
    }
  return rport != NULL;
}

void
sim_stack_notev (SimStack   *self,
                 const char *format,
                 va_list     args)
{
  g_autofree char *text = NULL;

  g_return_if_fail (SIM_IS_STACK (self));
  if (self->trace == NULL || !sim_trace_is_enabled (self->trace))
    return;
  text = g_strdup_vprintf (format, args);
  sim_trace_note (self->trace, sim_clock_now (self->clock), self->node_name, "%s", text);
}

void
sim_stack_note (SimStack   *self,
                const char *format,
                ...)
{
  va_list args;

  va_start (args, format);
  sim_stack_notev (self, format, args);
  va_end (args);
}

/*
 * RFC 3261 §18.2.2 with RFC 3581 §4: where a response to @request (received stamped) from @src
 * goes.  Over TCP, back on the connection it came on; over UDP with rport, to the source
 * address and port; without rport, to the source address (the "received" one) at the port of
 * the Via sent-by, 5060 when it names none.  A maddr parameter is not honoured: it would let a
 * stranger aim our responses at any address.
 */
static void
response_destination (osip_message_t *request,
                      const SimAddr  *src,
                      SimAddr        *dst)
{
  osip_via_t *via = NULL;
  osip_generic_param_t *rport = NULL;
  guint64 port = 5060;

  *dst = *src;
  if (is_reliable (src))
    return;
  if (osip_message_get_via (request, 0, &via) < 0 || via == NULL)
    return;
  if (osip_via_param_get_byname (via, "rport", &rport) == 0 && rport != NULL)
    return;
  if (via->port != NULL && !g_ascii_string_to_unsigned (via->port, 10, 1, 65535, &port, NULL))
    return;    /* no usable sent-by port: the source port is the best guess */
  dst->port = (guint16) port;
}

/*
 * A response to @request (validated and stamped) sent without a transaction: the To tag, when
 * the request has none, starts with our stateless prefix so that the ACK to it is absorbed.
 * @header_name/@header_value: one extra header, or NULL.
 */
static void
reply_stateless (SimStack       *self,
                 osip_message_t *request,
                 const SimAddr  *src,
                 int             status,
                 const char     *reason,
                 const char     *header_name,
                 const char     *header_value)
{
  g_autofree char *token = sim_random_token (self->rand, 8);
  g_autofree char *tag = g_strconcat (self->sl_prefix, token, NULL);
  osip_message_t *response;
  SimAddr dst;

  response = sim_message_new_response (request, status, reason, tag);
  if (header_name != NULL)
    osip_message_set_header (response, header_name, header_value);
  response_destination (request, src, &dst);
  sim_stack_send_stateless (self, response, &dst);
}

static void
reply_stateless_400 (SimStack       *self,
                     osip_message_t *request,
                     const SimAddr  *src,
                     const char     *why)
{
  g_autofree char *reason = g_strdup_printf ("Bad Request (%s)", why);

  /* Without From/To/Call-ID/CSeq/Via we cannot build a correct response: drop (RFC 3261 §18.2.1). */
  if (request->from == NULL || request->to == NULL || request->call_id == NULL ||
      request->cseq == NULL || osip_list_size (&request->vias) == 0)
    {
      sim_stack_note (self, "dropped a request that cannot be answered: %s", why);
      return;
    }
  reply_stateless (self, request, src, 400, reason, NULL, NULL);
}

/* Whether @tag is one reply_stateless or sim_server_txn_respond_stateless wrote. */
static gboolean
is_stateless_tag (SimStack   *self,
                  const char *tag)
{
  return tag != NULL && g_str_has_prefix (tag, self->sl_prefix);
}

/*
 * A message refused before parsing (@why: over a cap of sim_message_scan, a Content-Length
 * beyond the datagram).  A request gets @status from its essential headers alone, parsed
 * within the caps; a response, an ACK, or a request whose essential headers are themselves
 * over the caps is dropped (RFC 3261 §18.1.2, §18.3).
 */
static void
refuse_unparsed (SimStack             *self,
                 const SimAddr        *src,
                 const char           *data,
                 gsize                 len,
                 const SimMessageScan *scan,
                 int                   status,
                 const char           *reason,
                 const char           *why)
{
  g_autoptr(osip_message_t) request = NULL;
  g_autoptr(GError) error = NULL;

  if (scan->is_response)
    {
      sim_stack_note (self, "dropped a response from %s:%u without parsing it: %s",
                      src->ip, src->port, why);
      return;
    }
  request = sim_message_parse_essentials (data, len, &error);
  if (request == NULL || !sim_message_validate (request, &error))
    {
      sim_stack_note (self, "dropped a request from %s:%u without parsing it: %s "
                      "(and cannot answer: %s)", src->ip, src->port, why, error->message);
      return;
    }
  if (strcmp (request->sip_method, "ACK") == 0)
    {
      sim_stack_note (self, "dropped an ACK from %s:%u without parsing it: %s",
                      src->ip, src->port, why);
      return;
    }
  sim_stack_note (self, "answered %d statelessly without parsing the request from %s:%u: %s",
                  status, src->ip, src->port, why);
  stamp_received (request, src);
  reply_stateless (self, request, src, status, reason, NULL, NULL);
}

/*
 * Whether a new server transaction for a request of @len bytes would go over a limit: the
 * count (SIM_STACK_MAX_TRANSACTIONS) or the bytes held (SIM_STACK_MAX_TRANSACTION_BYTES).
 * @use is the entry of the request's source in the stack's sources, NULL when it holds none.
 * Returns the reason phrase of the 503, or NULL; @why says which limit, for the trace.
 */
static const char *
over_limits (SimStack   *self,
             gsize       len,
             SourceUse  *use,
             char       *why,
             gsize       why_size)
{
  guint n = sim_stack_get_n_transactions (self);
  guint share_n = MAX (1, self->max_transactions / SIM_STACK_SOURCE_SHARE_DIVISOR);
  guint64 share_bytes = self->max_transaction_bytes / SIM_STACK_SOURCE_SHARE_DIVISOR;
  guint64 limit;

  if (n >= self->max_transactions)
    {
      g_snprintf (why, why_size, "%u transactions are live (the limit)", n);
      return "Service Unavailable (too many transactions)";
    }
  /* A small request (every phone's REGISTER, OPTIONS or INVITE) may use a reserve above the
   * budget, so that big requests filling it do not lock our phones out. */
  limit = self->max_transaction_bytes;
  if (len <= SIM_STACK_SMALL_REQUEST_BYTES)
    limit += self->max_transaction_bytes / SIM_STACK_SMALL_RESERVE_DIVISOR;
  if (self->held_bytes + len > limit)
    {
      g_snprintf (why, why_size, "transactions hold %" G_GUINT64_FORMAT " bytes and this request "
                  "has %" G_GSIZE_FORMAT " (the limit for it is %" G_GUINT64_FORMAT " bytes)",
                  self->held_bytes, len, limit);
      return "Service Unavailable (transactions hold too much memory)";
    }
  /* The fair share, once the stack is half full: from then on one address (or /64) holding its
   * share of either limit waits for its own transactions to end, so the half left is kept for
   * the others.  Below half, a busy address (a classroom behind one NAT, a benchmark) is not
   * held back for nothing. */
  if (use != NULL && (use->n >= share_n || use->bytes >= share_bytes) &&
      (n >= self->max_transactions / 2 || self->held_bytes >= self->max_transaction_bytes / 2))
    {
      g_snprintf (why, why_size, "this address holds %u transactions and %" G_GUINT64_FORMAT
                  " bytes (its share is %u transactions or %" G_GUINT64_FORMAT " bytes)",
                  use->n, use->bytes, share_n, share_bytes);
      return "Service Unavailable (this address holds too many transactions)";
    }
  return NULL;
}

/*
 * An ACK, which is never answered: one to our non-2xx final response confirms its INVITE
 * server transaction (RFC 3261 §17.2.1); one to a 2xx is a transaction of its own and goes to
 * the TU (§13.2.2.4).  Takes @request; @txn is the server transaction of its branch, or NULL.
 */
static void
receive_ack (SimStack       *self,
             SimServerTxn   *txn,
             osip_message_t *request,
             const SimAddr  *src)
{
  if (txn != NULL && txn->kind == TXN_IST && txn->state == STATE_COMPLETED)
    {
      /* RFC 3261 §17.2.1: the ACK for our non-2xx final response; absorb it. */
      sim_clock_clear (self->clock, &txn->retransmit_timer);
      sim_clock_clear (self->clock, &txn->timeout_timer);
      server_set_state (txn, STATE_CONFIRMED);
      txn->wait_timer = sim_clock_add (self->clock, is_reliable (&txn->src) ? 0 : SIM_T4,
                                       server_wait_done_cb, txn, NULL);
      server_timer_name_trace (txn, "started", "I", is_reliable (&txn->src) ? 0 : SIM_T4);
      osip_message_free (request);
      return;
    }
  if (txn != NULL && txn->state != STATE_ACCEPTED)
    {
      osip_message_free (request);
      return;
    }
  if (txn == NULL && is_stateless_tag (self, sim_message_to_tag (request)))
    {
      /* The ACK to a non-2xx final response we sent statelessly: nobody waits for it. */
      sim_stack_note (self, "the ACK for that challenge or refusal ends here: it confirms a "
                      "final response sent without keeping a transaction (RFC 3261 §8.2.7), so "
                      "nothing waits for it and it goes no further (§17.1.1.3)");
      osip_message_free (request);
      return;
    }
  /* The ACK for a 2xx is a new transaction (RFC 3261 §13.2.2.4): stop our 2xx retransmission. */
  {
    g_autofree char *dkey = dialog_key (request);
    SimServerTxn *invite = g_hash_table_lookup (self->accepted, dkey);
    if (invite != NULL)
      sim_clock_clear (self->clock, &invite->retransmit_timer);
  }
  if (self->request_func != NULL)
    self->request_func (self, NULL, request, src, self->request_data);
  osip_message_free (request);
}

/*
 * A new server transaction for @request (taken; @len bytes as received) from @src: one
 * allocation holding the struct and its key (@key_len bytes), branch and method.
 */
static SimServerTxn *
server_txn_new (SimStack       *self,
                osip_message_t *request,
                gsize           len,
                const SimAddr  *src,
                const char     *key,
                gsize           key_len,
                const char     *branch,
                gboolean        rport)
{
  gsize branch_size = branch != NULL ? strlen (branch) + 1 : 0;
  gsize method_size = strlen (request->sip_method) + 1;
  SimServerTxn *txn = g_malloc0 (sizeof (SimServerTxn) + key_len + 1 + branch_size + method_size);
  char *p = txn->strings;
  SimAddr dst;

  txn->ref_count = 1;
  txn->stack = self;
  txn->kind = strcmp (request->sip_method, "INVITE") == 0 ? TXN_IST : TXN_NIST;
  txn->state = txn->kind == TXN_IST ? STATE_PROCEEDING : STATE_TRYING;
  txn->key = memcpy (p, key, key_len + 1);
  p += key_len + 1;
  if (branch != NULL)
    {
      txn->branch = memcpy (p, branch, branch_size);
      p += branch_size;
    }
  txn->method = memcpy (p, request->sip_method, method_size);
  txn->request = request;
  txn->request_len = len;
  txn->src = *src;
  /* With rport the source port, as response_destination says, without looking again. */
  if (rport)
    txn->reply_port = src->port;
  else
    {
      response_destination (request, src, &dst);
      txn->reply_port = dst.port;
    }
  if (sim_message_to_tag (request) == NULL)
    _sim_random_token_fill (self->rand, txn->to_tag, SERVER_TO_TAG_CHARS);
  return txn;
}

static void
receive_request (SimStack       *self,
                 osip_message_t *request,
                 gsize           len,
                 const SimAddr  *src)
{
  const char *overloaded;
  const char *previous_source;
  char why[200];
  char key_buf[SERVER_KEY_BUF];
  g_autofree char *key_heap = NULL;
  const char *key;
  gsize key_len;
  g_autofree char *source = NULL;
  SourceUse *use;
  gboolean rport;
  const char *branch;
  SimServerTxn *txn;
  g_autoptr(GError) error = NULL;

  if (!sim_message_validate (request, &error))
    {
      if (strcmp (request->sip_method, "ACK") != 0)
        reply_stateless_400 (self, request, src, error->message);
      else
        sim_trace_note (self->trace, sim_clock_now (self->clock), self->node_name,
                        "dropped a malformed ACK: %s", error->message);
      osip_message_free (request);
      return;
    }

  rport = stamp_received (request, src);
  /* The top Via's branch, looked up once: the key, the transaction and its trace line. */
  branch = sim_message_branch (request);
  key = server_key (request, branch, key_buf, &key_heap, &key_len);
  txn = g_hash_table_lookup (self->servers, key);
  if (txn != NULL && is_completed_nist (txn))
    {
      CompletedNist *done = (CompletedNist *) txn;

      /* RFC 3261 §17.2.2: a retransmission gets the final response again.  (An ACK's key
       * names INVITE, which is never a non-INVITE transaction: nothing to absorb.) */
      if (strcmp (request->sip_method, "ACK") != 0)
        transmit (self, &done->reply_to, done->response_text, done->response_len, TRUE);
      osip_message_free (request);
      return;
    }

  if (strcmp (request->sip_method, "ACK") == 0)
    {
      receive_ack (self, txn, request, src);
      return;
    }

  if (txn != NULL)
    {
      /* A retransmission: answer with the last response again (RFC 3261 §17.2.1, §17.2.2). */
      if (txn->response_text != NULL && txn->state != STATE_ACCEPTED)
        server_resend (txn);
      osip_message_free (request);
      return;
    }

  source = sim_addr_source_key (src->ip);
  /* The source's entry, looked up once: for its share, then to charge the new transaction. */
  use = g_hash_table_lookup (self->sources, source);
  overloaded = over_limits (self, len, use, why, sizeof why);
  if (overloaded != NULL)
    {
      char retry_after[16];

      /* RFC 3261 §21.5.4: overloaded; Retry-After says when to try again.  Nothing is kept. */
      sim_stack_note (self, "%s: %s from %s:%u gets 503 statelessly", why, request->sip_method,
                      src->ip, src->port);
      g_snprintf (retry_after, sizeof retry_after, "%d", SIM_STACK_RETRY_AFTER);
      reply_stateless (self, request, src, 503, overloaded, "Retry-After", retry_after);
      osip_message_free (request);
      return;
    }

  txn = server_txn_new (self, request, len, src, key, key_len, branch, rport);
  if (txn->kind == TXN_IST)
    txn->dialog_key = dialog_key (request);
  g_hash_table_insert (self->servers, (char *) txn->key, txn);
  txn->counted = TRUE;
  txn->use = source_acquire_found (self, source, use);
  server_account (txn);
  trace_txn (self, txn->kind, txn->state, branch, request->sip_method, NULL);

  sim_server_txn_ref (txn);
  /*
   * RFC 3261 §17.2.1: an INVITE server transaction answers 100 Trying to quench retransmissions,
   * "unless it knows that the TU will generate a provisional or final response within 200 ms".
   * The TU runs now: the 100 goes before its first stateful response, or when it returns
   * without one, but not before a response sent statelessly.
   */
  txn->trying_due = txn->kind == TXN_IST;
  previous_source = self->arrival_source;
  self->arrival_source = source;
  if (self->request_func != NULL)
    self->request_func (self, txn, request, src, self->request_data);
  else
    sim_server_txn_reply (txn, 501, NULL);
  self->arrival_source = previous_source;
  sim_server_txn_send_trying (txn);
  sim_server_txn_unref (txn);
}

static void
receive_response (SimStack       *self,
                  osip_message_t *response)
{
  g_autofree char *key = NULL;
  const char *branch = sim_message_branch (response);
  SimClientTxn *txn;
  g_autoptr(GError) error = NULL;

  if (!sim_message_validate (response, &error) || branch == NULL)
    {
      /* RFC 3261 §18.1.2: a malformed response is silently dropped. */
      sim_trace_note (self->trace, sim_clock_now (self->clock), self->node_name,
                      "dropped a malformed response: %s", error ? error->message : "no branch");
      osip_message_free (response);
      return;
    }
  key = client_key (branch, response->cseq->method);
  txn = g_hash_table_lookup (self->clients, key);
  if (txn == NULL)
    sim_trace_note (self->trace, sim_clock_now (self->clock), self->node_name,
                    "a %d response matches no transaction: dropped", response->status_code);
  else
    client_on_response (txn, response);
  osip_message_free (response);
}

void
sim_stack_receive (SimStack      *self,
                   const SimAddr *src,
                   const char    *data,
                   gsize          len)
{
  g_return_if_fail (SIM_IS_STACK (self));
  sim_stack_receive_at (self, &self->local, src, data, len);
}

void
sim_stack_receive_at (SimStack      *self,
                      const SimAddr *local,
                      const SimAddr *src,
                      const char    *data,
                      gsize          len)
{
  g_autoptr(GError) error = NULL;
  osip_message_t *msg;
  const SimAddr *outer;
  SimAddr arrival;
  SimMessageScan scan;

  g_return_if_fail (SIM_IS_STACK (self));
  g_return_if_fail (local != NULL);

  /* One linear pass before any parse: what is over the caps never reaches libosip2. */
  if (len <= SIM_MESSAGE_MAX_SIZE && !sim_message_scan (data, len, &scan, &error))
    {
      /* RFC 3261 §21.5.14: "the message length exceeded its capabilities". */
      g_autoptr(GString) reason = g_string_new ("Message Too Large (");
      g_string_append (reason, error->message);
      g_string_append_c (reason, ')');
      refuse_unparsed (self, src, data, len, &scan, 513, reason->str, error->message);
      return;
    }
  if (len <= SIM_MESSAGE_MAX_SIZE && !is_reliable (src) && scan.has_blank_line &&
      scan.content_length != SIM_MESSAGE_NO_CONTENT_LENGTH)
    {
      gsize body_len = len - scan.body_offset;

      /* RFC 3261 §18.3: over UDP a Content-Length beyond the datagram's body is a 400 (a
       * response is discarded); a shorter one cuts the body, the rest is discarded. */
      if ((guint64) scan.content_length > body_len)
        {
          g_autofree char *why = g_strdup_printf ("Content-Length %" G_GINT64_FORMAT " is larger "
                                                  "than the %" G_GSIZE_FORMAT " bytes of body",
                                                  scan.content_length, body_len);
          refuse_unparsed (self, src, data, len, &scan, 400,
                           "Bad Request (Content-Length larger than the body)", why);
          return;
        }
      len = scan.body_offset + (gsize) scan.content_length;
    }

  msg = sim_message_parse (data, len, &error);
  if (msg == NULL)
    {
      /* Not SIP we can read: RFC 3261 §18.3 lets us discard it; say so in the trace. */
      if (sim_trace_is_enabled (self->trace))
        sim_trace_note (self->trace, sim_clock_now (self->clock), self->node_name,
                        "discarded %" G_GSIZE_FORMAT " bytes from %s:%u: %s", len, src->ip,
                        src->port, error->message);
      return;
    }
  g_object_ref (self);
  /* A copy: @local may be the local address, which the TU could change meanwhile. */
  arrival = *local;
  outer = self->arrival;
  self->arrival = &arrival;
  if (sim_message_is_request (msg))
    receive_request (self, msg, len, src);
  else
    receive_response (self, msg);
  self->arrival = outer;
  g_object_unref (self);
}

/* ---------------------------------------------------------------------------------------- */

/* The tables own one reference; a transaction leaving a table keeps its stack for its callers. */
static void
release_client (gpointer data)
{
  SimClientTxn *txn = data;

  client_stop_timers (txn);
  client_uncount (txn);
  sim_client_txn_unref (txn);
}

static void
release_server (gpointer data)
{
  SimServerTxn *txn = data;

  if (is_completed_nist (data))
    {
      done_uncount (data);
      g_free (data);
      return;
    }

  server_stop_timers (txn);
  server_uncount (txn);
  sim_server_txn_unref (txn);
}

/* The stack goes away: transactions that TUs still hold must not call into it any more. */
static void
orphan_client (gpointer key,
               gpointer value,
               gpointer data)
{
  SimClientTxn *txn = value;

  client_stop_timers (txn);
  client_uncount (txn);
  txn->stack = NULL;
  txn->func = NULL;
}

static void
orphan_server (gpointer key,
               gpointer value,
               gpointer data)
{
  SimServerTxn *txn = value;

  if (is_completed_nist (value))
    {
      done_uncount (value);
      ((CompletedNist *) value)->stack = NULL;
      return;
    }
  server_stop_timers (txn);
  server_uncount (txn);
  txn->stack = NULL;
}

static void
sim_stack_dispose (GObject *object)
{
  SimStack *self = SIM_STACK (object);

  /* Each pending report is cancelled (and freed by the clock). */
  while (self->transport_errors != NULL && self->transport_errors->len > 0)
    {
      TransportError *error = g_ptr_array_index (self->transport_errors, 0);
      guint id = error->id;

      g_ptr_array_remove_index_fast (self->transport_errors, 0);
      error->stack = NULL;
      sim_clock_cancel (self->clock, id);
    }
  g_clear_pointer (&self->transport_errors, g_ptr_array_unref);
  if (self->clients != NULL)
    g_hash_table_foreach (self->clients, orphan_client, NULL);
  if (self->servers != NULL)
    g_hash_table_foreach (self->servers, orphan_server, NULL);
  g_clear_pointer (&self->accepted, g_hash_table_unref);
  g_clear_pointer (&self->clients, g_hash_table_unref);
  g_clear_pointer (&self->servers, g_hash_table_unref);
  /* Every path that stores or frees a transaction's text keeps the count. */
  g_assert_cmpuint (self->held_bytes, ==, 0);
  g_assert (self->sources == NULL || g_hash_table_size (self->sources) == 0);
  g_clear_pointer (&self->sources, g_hash_table_unref);
  G_OBJECT_CLASS (sim_stack_parent_class)->dispose (object);
}

static void
sim_stack_finalize (GObject *object)
{
  SimStack *self = SIM_STACK (object);

  g_free (self->node_name);
  g_clear_pointer (&self->locals, g_array_unref);
  g_free (self->sl_prefix);
  g_string_free (self->scratch, TRUE);
  g_clear_object (&self->clock);
  g_clear_object (&self->trace);
  G_OBJECT_CLASS (sim_stack_parent_class)->finalize (object);
}

static void
sim_stack_class_init (SimStackClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = sim_stack_dispose;
  object_class->finalize = sim_stack_finalize;
}

/*
 * The hash of a transaction key (branch, sent-by, method: 40 to 80 bytes), read eight bytes
 * at a time: g_str_hash goes byte by byte, and every request hashes its key at least twice
 * (the lookup, then the insert).  The keys come from strangers, so the hash starts from a
 * per-process random seed: colliding keys cannot be computed in advance.  Equal strings give
 * equal hashes, as g_str_equal needs.
 */
static guint
txn_key_hash (gconstpointer key)
{
  static gsize seed = 0;
  const char *p = key;
  gsize n = strlen (p);
  guint64 h, w;

  if (g_once_init_enter (&seed))
    g_once_init_leave (&seed, (gsize) ((guint64) g_random_int () << 32 | g_random_int ()) | 1);
  h = (guint64) seed ^ n;
  for (; n >= 8; p += 8, n -= 8)
    {
      memcpy (&w, p, 8);
      h = (h ^ w) * G_GUINT64_CONSTANT (0x9e3779b97f4a7c15);
      h ^= h >> 29;
    }
  w = 0;
  memcpy (&w, p, n);
  h = (h ^ w) * G_GUINT64_CONSTANT (0x9e3779b97f4a7c15);
  h ^= h >> 32;
  return (guint) h;
}

static void
sim_stack_init (SimStack *self)
{
  self->clients = g_hash_table_new_full (txn_key_hash, g_str_equal, NULL, release_client);
  self->servers = g_hash_table_new_full (txn_key_hash, g_str_equal, NULL, release_server);
  self->accepted = g_hash_table_new (g_str_hash, g_str_equal);
  self->sources = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, source_use_free);
  self->transport_errors = g_ptr_array_new ();
  self->scratch = g_string_sized_new (1024);
  self->locals = g_array_new (FALSE, TRUE, sizeof (SimAddr));
  self->retransmit_2xx = TRUE;
  self->trace_timers = TRUE;
  self->max_transactions = SIM_STACK_MAX_TRANSACTIONS;
  self->max_transaction_bytes = SIM_STACK_MAX_TRANSACTION_BYTES;
}

SimStack *
sim_stack_new (SimClock      *clock,
               SimTrace      *trace,
               GRand         *rand,
               const char    *node_name,
               const SimAddr *local)
{
  SimStack *self;

  g_return_val_if_fail (SIM_IS_CLOCK (clock), NULL);
  g_return_val_if_fail (rand != NULL, NULL);

  sim_message_init_library ();
  self = g_object_new (SIM_TYPE_STACK, NULL);
  self->clock = g_object_ref (clock);
  self->trace = trace ? g_object_ref (trace) : NULL;
  self->rand = rand;
  self->node_name = g_strdup (node_name);
  self->local = *local;
  /*
   * Kamailio's sl module marks its stateless tags the same way.  The random tokens of other
   * tags never hold '-' (sim_random_token), and the node name keeps the prefix apart from
   * other elements' marks; it needs no secret: an ACK a stranger makes look like ours is only
   * dropped.
   */
  self->sl_prefix = g_strdup_printf ("sl%08x-", g_str_hash (node_name != NULL ? node_name : ""));
  return self;
}

const char *
sim_stack_get_node_name (SimStack *self)
{
  return self->node_name;
}

const SimAddr *
sim_stack_get_local (SimStack *self)
{
  return &self->local;
}

void
sim_stack_set_local (SimStack      *self,
                     const SimAddr *local)
{
  self->local = *local;
}

/* ---------------------------------------------------------------------------------------- */
/* Which addresses are us                                                                    */

typedef struct {
  int family;               /* AF_INET, AF_INET6, or 0 for a name */
  guint8 bytes[16];
} IpBytes;

static void
ip_bytes (const char *host,
          IpBytes    *ip)
{
  char buf[INET6_ADDRSTRLEN + 2];
  gsize n = strlen (host);

  memset (ip, 0, sizeof *ip);
  /* A URI host carries an IPv6 reference in brackets (RFC 3261 §25.1 IPv6reference). */
  if (n >= 2 && host[0] == '[' && host[n - 1] == ']' && n - 2 < sizeof buf)
    {
      memcpy (buf, host + 1, n - 2);
      buf[n - 2] = '\0';
    }
  else if (n < sizeof buf)
    memcpy (buf, host, n + 1);
  else
    return;
  if (inet_pton (AF_INET, buf, ip->bytes) == 1)
    ip->family = AF_INET;
  else if (inet_pton (AF_INET6, buf, ip->bytes) == 1)
    {
      static const guint8 mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
      ip->family = AF_INET6;
      /* ::ffff:a.b.c.d is the IPv4 host a.b.c.d (RFC 4291 §2.5.5.2). */
      if (memcmp (ip->bytes, mapped, sizeof mapped) == 0)
        {
          memmove (ip->bytes, ip->bytes + 12, 4);
          memset (ip->bytes + 4, 0, 12);
          ip->family = AF_INET;
        }
    }
}

static gboolean
ip_bytes_equal (const IpBytes *a,
                const IpBytes *b)
{
  return a->family != 0 && a->family == b->family &&
         memcmp (a->bytes, b->bytes, a->family == AF_INET ? 4 : 16) == 0;
}

static gboolean
ip_is_wildcard (const char *ip)
{
  IpBytes bytes, any = { 0 };

  ip_bytes (ip, &bytes);
  any.family = bytes.family;
  return ip_bytes_equal (&bytes, &any);
}

static gboolean
ip_is_loopback (const char *ip)
{
  IpBytes bytes;
  static const guint8 v6_loopback[16] = { [15] = 1 };

  ip_bytes (ip, &bytes);
  return (bytes.family == AF_INET && bytes.bytes[0] == 127) ||
         (bytes.family == AF_INET6 && memcmp (bytes.bytes, v6_loopback, 16) == 0);
}

gboolean
sim_addr_is_unicast (const SimAddr *addr)
{
  static const guint8 nat64[12] = { 0x00, 0x64, 0xff, 0x9b };
  static const guint8 compatible[12] = { 0 };
  IpBytes ip, any = { 0 };

  g_return_val_if_fail (addr != NULL, FALSE);
  ip_bytes (addr->ip, &ip);
  any.family = ip.family;
  if (ip.family == 0 || ip_bytes_equal (&ip, &any) || ip_is_loopback (addr->ip))
    return FALSE;
  /*
   * An IPv4 address inside an IPv6 one is judged as that IPv4 address: the deprecated
   * IPv4-compatible ::a.b.c.d (RFC 4291 §2.5.5.1; "::" and "::1" were handled above) and the
   * NAT64 well-known prefix 64:ff9b::/96 (RFC 6052 §2.1), which a NAT64 gateway on the path
   * turns into a.b.c.d.  Otherwise [::127.0.0.1] would reach our own loopback.
   */
  if (ip.family == AF_INET6 &&
      (memcmp (ip.bytes, compatible, 12) == 0 || memcmp (ip.bytes, nat64, 12) == 0))
    {
      memmove (ip.bytes, ip.bytes + 12, 4);
      ip.family = AF_INET;
      if (ip.bytes[0] == 127 || ip.bytes[0] == 0)
        return FALSE;
    }
  if (ip.family == AF_INET6)
    /* Multicast ff00::/8; link-local fe80::/10 names a link, not a host (RFC 4291 §2.5.6). */
    return ip.bytes[0] != 0xff && !(ip.bytes[0] == 0xfe && (ip.bytes[1] & 0xc0) == 0x80);
  /* Multicast 224/4, the broadcast address, link-local 169.254/16 (RFC 3927). */
  return (ip.bytes[0] & 0xf0) != 0xe0 &&
         !(ip.bytes[0] == 255 && ip.bytes[1] == 255 && ip.bytes[2] == 255 && ip.bytes[3] == 255) &&
         !(ip.bytes[0] == 169 && ip.bytes[1] == 254);
}

static void
add_local (SimStack      *self,
           const SimAddr *addr)
{
  IpBytes ip, other;

  if (self->locals->len >= SIM_STACK_MAX_LOCALS)
    return;
  ip_bytes (addr->ip, &ip);
  for (guint i = 0; i < self->locals->len; i++)
    {
      const SimAddr *known = &g_array_index (self->locals, SimAddr, i);
      ip_bytes (known->ip, &other);
      if (known->port == addr->port && known->transport == addr->transport &&
          (ip_bytes_equal (&ip, &other) || strcmp (known->ip, addr->ip) == 0))
        return;
    }
  g_array_append_val (self->locals, *addr);
}

void
sim_stack_add_local_addr (SimStack      *self,
                          const SimAddr *addr)
{
  gboolean v6 = strchr (addr->ip, ':') != NULL;
  struct ifaddrs *list = NULL;

  g_return_if_fail (SIM_IS_STACK (self));
  g_return_if_fail (addr != NULL);

  add_local (self, addr);
  if (!ip_is_wildcard (addr->ip) || getifaddrs (&list) != 0)
    return;
  /* A wildcard listener is reached on every interface address of its family. */
  for (struct ifaddrs *ifa = list; ifa != NULL; ifa = ifa->ifa_next)
    {
      char text[INET6_ADDRSTRLEN];
      const void *raw;
      SimAddr one;

      if (ifa->ifa_addr == NULL || ifa->ifa_addr->sa_family != (v6 ? AF_INET6 : AF_INET))
        continue;
      raw = v6 ? (const void *) &((struct sockaddr_in6 *) ifa->ifa_addr)->sin6_addr
               : (const void *) &((struct sockaddr_in *) ifa->ifa_addr)->sin_addr;
      if (inet_ntop (v6 ? AF_INET6 : AF_INET, raw, text, sizeof text) == NULL)
        continue;
      sim_addr_init (&one, text, addr->port, addr->transport);
      add_local (self, &one);
    }
  freeifaddrs (list);
}

gboolean
sim_stack_is_local (SimStack   *self,
                    const char *host,
                    guint16     port)
{
  IpBytes ip, other;

  g_return_val_if_fail (SIM_IS_STACK (self), FALSE);
  if (host == NULL)
    return FALSE;
  ip_bytes (host, &ip);
  ip_bytes (self->local.ip, &other);
  if ((port == 0 || port == self->local.port) && (ip_bytes_equal (&ip, &other) || strcmp (host, self->local.ip) == 0))
    return TRUE;
  for (guint i = 0; i < self->locals->len; i++)
    {
      const SimAddr *known = &g_array_index (self->locals, SimAddr, i);
      if (port != 0 && known->port != port)
        continue;
      ip_bytes (known->ip, &other);
      if (ip_bytes_equal (&ip, &other) || strcmp (host, known->ip) == 0)
        return TRUE;
    }
  return FALSE;
}

const SimAddr *
sim_stack_find_local (SimStack         *self,
                      SimTransportKind  transport,
                      const SimAddr    *like)
{
  gboolean v6 = like != NULL && strchr (like->ip, ':') != NULL;
  gboolean loopback = like != NULL && ip_is_loopback (like->ip);
  const SimAddr *found = NULL;
  int found_rank = 0;

  g_return_val_if_fail (SIM_IS_STACK (self), NULL);
  if (self->locals->len == 0)
    return &self->local;
  for (guint i = 0; i < self->locals->len; i++)
    {
      const SimAddr *known = &g_array_index (self->locals, SimAddr, i);
      int rank;

      if (known->transport != transport || (strchr (known->ip, ':') != NULL) != v6)
        continue;
      /* Best: a specific address as close as @like (loopback for loopback); then any. */
      if (ip_is_wildcard (known->ip))
        rank = 1;
      else
        rank = ip_is_loopback (known->ip) == loopback ? 3 : 2;
      if (rank > found_rank)
        {
          found = known;
          found_rank = rank;
        }
    }
  return found;
}

const SimAddr *
sim_stack_get_arrival (SimStack *self)
{
  g_return_val_if_fail (SIM_IS_STACK (self), NULL);
  return self->arrival != NULL ? self->arrival : &self->local;
}

SimClock *
sim_stack_get_clock (SimStack *self)
{
  return self->clock;
}

SimTrace *
sim_stack_get_trace (SimStack *self)
{
  return self->trace;
}

GRand *
sim_stack_get_rand (SimStack *self)
{
  return self->rand;
}

void
sim_stack_set_send_func (SimStack         *self,
                         SimStackSendFunc  func,
                         gpointer          user_data)
{
  self->send_func = func;
  self->send_data = user_data;
}

void
sim_stack_set_request_func (SimStack       *self,
                            SimRequestFunc  func,
                            gpointer        user_data)
{
  self->request_func = func;
  self->request_data = user_data;
}

void
sim_stack_set_retransmit_2xx (SimStack *self,
                              gboolean  retransmit)
{
  self->retransmit_2xx = !!retransmit;
}

void
sim_stack_set_rport (SimStack *self,
                     gboolean  rport)
{
  g_return_if_fail (SIM_IS_STACK (self));
  self->no_rport = !rport;
}

void
sim_stack_set_trace_timers (SimStack *self,
                            gboolean  trace_timers)
{
  self->trace_timers = !!trace_timers;
}

static void
abandon_client (gpointer key,
                gpointer value,
                gpointer data)
{
  SimClientTxn *txn = value;

  client_stop_timers (txn);
  txn->func = NULL;
  txn->state = STATE_TERMINATED;
}

static void
abandon_server (gpointer key,
                gpointer value,
                gpointer data)
{
  SimServerTxn *txn = value;

  if (is_completed_nist (value))
    {
      CompletedNist *done = value;

      sim_clock_clear (done->stack->clock, &done->wait_timer);
      return;
    }
  server_stop_timers (txn);
  txn->state = STATE_TERMINATED;
}

void
sim_stack_reset (SimStack *self)
{
  g_return_if_fail (SIM_IS_STACK (self));

  g_hash_table_foreach (self->clients, abandon_client, NULL);
  g_hash_table_foreach (self->servers, abandon_server, NULL);
  g_hash_table_remove_all (self->accepted);
  g_hash_table_remove_all (self->clients);
  g_hash_table_remove_all (self->servers);
  g_assert_cmpuint (self->held_bytes, ==, 0);
  g_assert_cmpuint (g_hash_table_size (self->sources), ==, 0);
}

guint
sim_stack_get_n_transactions (SimStack *self)
{
  return g_hash_table_size (self->clients) + g_hash_table_size (self->servers);
}

void
sim_stack_set_max_transactions (SimStack *self,
                                guint     max)
{
  g_return_if_fail (SIM_IS_STACK (self));

  self->max_transactions = max;
}

void
sim_stack_set_max_transaction_bytes (SimStack *self,
                                     guint64   max)
{
  g_return_if_fail (SIM_IS_STACK (self));

  self->max_transaction_bytes = max;
}

guint64
sim_stack_get_max_transaction_bytes (SimStack *self)
{
  g_return_val_if_fail (SIM_IS_STACK (self), 0);

  return self->max_transaction_bytes;
}

guint
sim_stack_get_max_transactions (SimStack *self)
{
  g_return_val_if_fail (SIM_IS_STACK (self), 0);

  return self->max_transactions;
}

guint64
sim_stack_get_held_bytes (SimStack *self)
{
  g_return_val_if_fail (SIM_IS_STACK (self), 0);

  return self->held_bytes;
}

guint
sim_stack_get_n_sources (SimStack *self)
{
  g_return_val_if_fail (SIM_IS_STACK (self), 0);

  return g_hash_table_size (self->sources);
}
