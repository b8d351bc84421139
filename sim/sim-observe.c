/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "sim-observe.h"

#include <gio/gio.h>
#include <string.h>

#include "sim-digest.h"
#include "sim-export.h"
#include "sim-message.h"
#include "sim-server.h"

/*
 * The observer keeps three small tables, each bounded and forgotten oldest first: the hosts
 * (address -> name and what is known of it), the messages seen (to tell a retransmission from a
 * new request) and the nonces (when issued, which nonce-counts were answered).  Everything else
 * it knows lives in the trace and in one SimLocation per registrar.
 */

typedef struct {
  char *key;            /* "ip:port" */
  char *name;           /* chosen when first announced, never changed; NULL before */
  char *product;        /* first word of User-Agent or Server */
  char *user;           /* the user part of the AOR it registered */
  gboolean registrar;   /* it answered a REGISTER */
  gboolean learned_registrar;
} Host;

typedef struct {
  SimTime first;
  SimTime last;
  guint copies;
  char *judged_nonce;   /* a request whose digest we found correct: a stale=true answer says more */
  char *judged_user;
} Seen;

typedef struct {
  SimTime issued;
  char *issuer;
  GHashTable *counts;   /* nonce-counts answered ("" without qop) */
} NonceInfo;

/* A bounded map: a hash table plus the insertion order for forgetting the oldest. */
typedef struct {
  GHashTable *table;
  GQueue order;         /* keys, owned by the table */
  guint max;
} Bounded;

struct _SimObserver {
  GObject parent_instance;

  SimTrace *trace;
  SimClock *clock;
  GHashTable *users;
  SimTime nonce_lifetime;
  guint max_bindings;

  gboolean started;
  gint64 origin;
  guint64 n_messages;

  Bounded hosts;
  Bounded seen;
  Bounded nonces;
  GHashTable *names;      /* names in use -> NULL */
  GPtrArray *registrars;  /* node names, in order */
  GHashTable *locations;  /* registrar node name -> SimLocation */
};

G_DEFINE_FINAL_TYPE (SimObserver, sim_observer, G_TYPE_OBJECT)

/* --- small helpers ------------------------------------------------------------------------ */

static void
host_free (Host *host)
{
  g_free (host->key);
  g_free (host->name);
  g_free (host->product);
  g_free (host->user);
  g_free (host);
}

static void
seen_free (Seen *seen)
{
  g_free (seen->judged_nonce);
  g_free (seen->judged_user);
  g_free (seen);
}

static void
nonce_info_free (NonceInfo *info)
{
  g_free (info->issuer);
  g_hash_table_unref (info->counts);
  g_free (info);
}

static void
bounded_init (Bounded        *b,
              guint           max,
              GDestroyNotify  value_free)
{
  b->table = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, value_free);
  g_queue_init (&b->order);
  b->max = max;
}

static void
bounded_clear (Bounded *b)
{
  g_queue_clear (&b->order);
  g_clear_pointer (&b->table, g_hash_table_unref);
}

/* Takes @key; forgets the oldest entry first when full. */
static void
bounded_insert (Bounded  *b,
                char     *key,
                gpointer  value)
{
  while (g_hash_table_size (b->table) >= b->max && !g_queue_is_empty (&b->order))
    g_hash_table_remove (b->table, g_queue_pop_head (&b->order));
  g_hash_table_insert (b->table, key, value);
  g_queue_push_tail (&b->order, key);
}

/*
 * The product of a User-Agent or Server value, without its version: "baresip" of
 * "baresip v3.0.0", "Kamailio" of "Kamailio (5.6.3 (x86_64/linux))", "SIP Lab" of
 * "SIP Lab/0.1".  Words from the first one that starts a version on are left out.
 */
static char *
product_of (const char *header)
{
  g_auto(GStrv) words = NULL;
  g_autoptr(GString) out = g_string_new (NULL);
  g_autofree char *head = NULL;

  if (header == NULL)
    return NULL;
  head = g_strndup (header, strcspn (header, "/("));
  words = g_strsplit_set (head, " \t", -1);
  for (guint i = 0; words[i] != NULL; i++)
    {
      const char *w = words[i];

      if (*w == '\0')
        continue;
      if (g_ascii_isdigit (w[0]) || ((w[0] == 'v' || w[0] == 'V') && g_ascii_isdigit (w[1])))
        break;
      if (out->len + strlen (w) + 1 > 32)
        break;
      if (out->len > 0)
        g_string_append_c (out, ' ');
      g_string_append (out, w);
    }
  return out->len > 0 ? g_string_free (g_steal_pointer (&out), FALSE) : NULL;
}

static char *
addr_key (const SimAddr *addr)
{
  return sim_addr_to_string (addr);
}

/* --- hosts and their names ---------------------------------------------------------------- */

static Host *
host_lookup (SimObserver   *self,
             const SimAddr *addr,
             gboolean       create)
{
  /* The key is formatted on the stack: two lookups a message, most of them hits. */
  char key[64];
  Host *host;

  sim_addr_format (addr, key, sizeof key);
  host = g_hash_table_lookup (self->hosts.table, key);
  if (host == NULL && create && g_hash_table_size (self->hosts.table) < self->hosts.max)
    {
      host = g_new0 (Host, 1);
      host->key = g_strdup (key);
      bounded_insert (&self->hosts, g_strdup (key), host);
    }
  return host;
}

/* What one message tells about its two hosts (both passes use it). */
static void
learn_message (SimObserver    *self,
               const SimAddr  *src,
               const SimAddr  *dst,
               osip_message_t *msg)
{
  Host *from = host_lookup (self, src, TRUE);
  Host *to = host_lookup (self, dst, TRUE);
  const char *method = sim_message_method (msg);

  if (from == NULL || to == NULL)
    return;
  if (from->product == NULL)
    from->product = product_of (sim_message_header (msg, sim_message_is_request (msg)
                                                         ? "user-agent" : "server"));
  if (from->product == NULL)
    from->product = product_of (sim_message_header (msg, "user-agent"));
  if (g_strcmp0 (method, "REGISTER") != 0)
    return;
  if (sim_message_is_request (msg))
    {
      if (from->user == NULL && msg->from != NULL && msg->from->url != NULL &&
          msg->from->url->username != NULL)
        from->user = g_strndup (msg->from->url->username, 32);
    }
  else
    from->learned_registrar = TRUE;
}

static char *
compose_name (Host *host)
{
  const char *who = host->registrar || host->learned_registrar ? "registrar" : host->user;

  if (who != NULL && host->product != NULL)
    return g_strdup_printf ("%s (%s)", who, host->product);
  if (who != NULL)
    return g_strdup (who);
  if (host->product != NULL)
    return g_strdup_printf ("%s (%s)", host->product, host->key);
  return g_strdup (host->key);
}

/* The node name of @addr, announcing the host (NODE "added") the first time. */
static const char *
node_name (SimObserver   *self,
           const SimAddr *addr,
           char         **scratch)
{
  Host *host = host_lookup (self, addr, TRUE);
  g_autofree char *base = NULL;
  char *name;

  if (host == NULL)
    {
      /* Past SIM_OBSERVER_MAX_HOSTS: the address is a name that costs nothing to remember. */
      *scratch = addr_key (addr);
      return *scratch;
    }
  if (host->name != NULL)
    return host->name;

  base = compose_name (host);
  name = g_strdup (base);
  for (guint i = 2; g_hash_table_contains (self->names, name); i++)
    {
      g_free (name);
      name = g_strdup_printf ("%s #%u", base, i);
    }
  host->name = name;
  g_hash_table_add (self->names, g_strdup (name));

  if (sim_trace_is_enabled (self->trace))
    {
      SimEvent *event = sim_event_new (SIM_EVENT_NODE, "added");

      event->t = sim_clock_now (self->clock);
      event->node = g_strdup (name);
      event->text = g_strdup (host->key);
      event->src = *addr;
      sim_trace_emit (self->trace, event);
    }
  return host->name;
}

/* --- GObject ------------------------------------------------------------------------------ */

static void
sim_observer_finalize (GObject *object)
{
  SimObserver *self = SIM_OBSERVER (object);

  bounded_clear (&self->hosts);
  bounded_clear (&self->seen);
  bounded_clear (&self->nonces);
  g_clear_pointer (&self->names, g_hash_table_unref);
  g_clear_pointer (&self->registrars, g_ptr_array_unref);
  g_clear_pointer (&self->locations, g_hash_table_unref);
  g_clear_pointer (&self->users, g_hash_table_unref);
  g_clear_object (&self->clock);
  g_clear_object (&self->trace);

  G_OBJECT_CLASS (sim_observer_parent_class)->finalize (object);
}

static void
sim_observer_class_init (SimObserverClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = sim_observer_finalize;
}

static void
sim_observer_init (SimObserver *self)
{
  self->clock = sim_clock_new_virtual ();
  self->nonce_lifetime = SIM_OBSERVER_DEFAULT_NONCE_LIFETIME;
  self->max_bindings = SIM_OBSERVER_DEFAULT_MAX_BINDINGS;
  bounded_init (&self->hosts, SIM_OBSERVER_MAX_HOSTS, (GDestroyNotify) host_free);
  bounded_init (&self->seen, SIM_OBSERVER_MAX_TRANSACTIONS, (GDestroyNotify) seen_free);
  bounded_init (&self->nonces, SIM_OBSERVER_MAX_NONCES, (GDestroyNotify) nonce_info_free);
  self->names = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->registrars = g_ptr_array_new_with_free_func (g_free);
  self->locations = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
}

SimObserver *
sim_observer_new (SimTrace *trace)
{
  SimObserver *self;

  g_return_val_if_fail (SIM_IS_TRACE (trace), NULL);

  sim_message_init_library ();
  self = g_object_new (SIM_TYPE_OBSERVER, NULL);
  self->trace = g_object_ref (trace);
  return self;
}

SimTrace *
sim_observer_get_trace (SimObserver *self)
{
  g_return_val_if_fail (SIM_IS_OBSERVER (self), NULL);
  return self->trace;
}

SimClock *
sim_observer_get_clock (SimObserver *self)
{
  g_return_val_if_fail (SIM_IS_OBSERVER (self), NULL);
  return self->clock;
}

void
sim_observer_set_users (SimObserver *self,
                        GHashTable  *users)
{
  g_return_if_fail (SIM_IS_OBSERVER (self));

  if (users != NULL)
    g_hash_table_ref (users);
  g_clear_pointer (&self->users, g_hash_table_unref);
  self->users = users;
}

gboolean
sim_observer_load_users (SimObserver  *self,
                         const char   *path,
                         GError      **error)
{
  g_autoptr(GHashTable) users = NULL;

  g_return_val_if_fail (SIM_IS_OBSERVER (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  if (!sim_users_read_file (path, &users, error))
    return FALSE;
  sim_observer_set_users (self, users);
  return TRUE;
}

void
sim_observer_set_nonce_lifetime (SimObserver *self,
                                 SimTime      lifetime)
{
  g_return_if_fail (SIM_IS_OBSERVER (self));
  g_return_if_fail (lifetime > 0);
  self->nonce_lifetime = lifetime;
}

void
sim_observer_set_max_bindings (SimObserver *self,
                               guint        max_bindings)
{
  g_return_if_fail (SIM_IS_OBSERVER (self));
  g_return_if_fail (max_bindings > 0);
  self->max_bindings = max_bindings;
}

gint64
sim_observer_get_time_origin (SimObserver *self)
{
  g_return_val_if_fail (SIM_IS_OBSERVER (self), 0);
  return self->started ? self->origin : 0;
}

guint64
sim_observer_get_n_messages (SimObserver *self)
{
  g_return_val_if_fail (SIM_IS_OBSERVER (self), 0);
  return self->n_messages;
}

const char *
sim_observer_get_node_name (SimObserver   *self,
                            const SimAddr *addr)
{
  g_autofree char *key = NULL;
  Host *host;

  g_return_val_if_fail (SIM_IS_OBSERVER (self), NULL);
  g_return_val_if_fail (addr != NULL, NULL);

  key = addr_key (addr);
  host = g_hash_table_lookup (self->hosts.table, key);
  return host != NULL ? host->name : NULL;
}

GPtrArray *
sim_observer_list_nodes (SimObserver  *self,
                         GPtrArray   **addresses_out)
{
  GPtrArray *names = g_ptr_array_new ();

  if (addresses_out != NULL)
    *addresses_out = g_ptr_array_new ();
  g_return_val_if_fail (SIM_IS_OBSERVER (self), names);
  for (GList *l = self->hosts.order.head; l != NULL; l = l->next)
    {
      Host *host = g_hash_table_lookup (self->hosts.table, l->data);

      if (host == NULL || host->name == NULL)
        continue;
      g_ptr_array_add (names, host->name);
      if (addresses_out != NULL)
        g_ptr_array_add (*addresses_out, host->key);
    }
  return names;
}

GPtrArray *
sim_observer_get_registrars (SimObserver *self)
{
  GPtrArray *names = g_ptr_array_new ();

  g_return_val_if_fail (SIM_IS_OBSERVER (self), names);
  for (guint i = 0; i < self->registrars->len; i++)
    g_ptr_array_add (names, self->registrars->pdata[i]);
  return names;
}

SimLocation *
sim_observer_get_location (SimObserver *self,
                           const char  *node_name)
{
  g_return_val_if_fail (SIM_IS_OBSERVER (self), NULL);
  g_return_val_if_fail (node_name != NULL, NULL);
  return g_hash_table_lookup (self->locations, node_name);
}

static osip_message_t *
parse (const char  *data,
       gsize        len,
       GError     **error)
{
  g_autoptr(GError) local = NULL;
  osip_message_t *msg;

  if (len < 8 || len > SIM_MESSAGE_MAX_SIZE)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   len < 8 ? "too short for a SIP message (%" G_GSIZE_FORMAT " bytes)"
                           : "larger than a SIP message may be (%" G_GSIZE_FORMAT " bytes)", len);
      return NULL;
    }
  msg = sim_message_parse (data, len, &local);
  if (msg == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "not a SIP message: %s",
                   local != NULL ? local->message : "libosip2 cannot parse it");
      return NULL;
    }
  if (msg->cseq == NULL || msg->cseq->method == NULL || msg->call_id == NULL)
    {
      osip_message_free (msg);
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           "a SIP message without CSeq or Call-ID");
      return NULL;
    }
  return msg;
}

/*
 * Whether learn_message() could not change anything for this message, decided without parsing
 * it: both hosts are known, the sender's product is known, and the message is neither a
 * REGISTER request from a host whose user is still unknown nor a response from a host not yet
 * known as a registrar.  Parsing is most of the first pass of `siplab-cli view`, and after a
 * host's first exchange every further message of it is skipped this way.  Anything this quick
 * look is unsure of (a request line not starting with a method, a response's CSeq) is parsed.
 */
static gboolean
learns_nothing (SimObserver   *self,
                const SimAddr *src,
                const SimAddr *dst,
                const char    *data,
                gsize          len)
{
  Host *from = host_lookup (self, src, FALSE);
  static const char reg[] = "REGISTER ";
  gsize method_len = 0;

  if (from == NULL || from->product == NULL || host_lookup (self, dst, FALSE) == NULL)
    return FALSE;
  if (len >= 4 && memcmp (data, "SIP/", 4) == 0)
    return from->learned_registrar;
  while (method_len < len && g_ascii_isupper (data[method_len]))
    method_len++;
  if (method_len == 0 || method_len == len || data[method_len] != ' ')
    return FALSE;
  if (method_len + 1 == sizeof reg - 1 && memcmp (data, reg, sizeof reg - 1) == 0)
    return from->user != NULL;
  return TRUE;
}

void
sim_observer_learn (SimObserver   *self,
                    const SimAddr *src,
                    const SimAddr *dst,
                    const char    *data,
                    gsize          len)
{
  g_autoptr(osip_message_t) msg = NULL;

  g_return_if_fail (SIM_IS_OBSERVER (self));
  g_return_if_fail (src != NULL && dst != NULL && data != NULL);

  if (learns_nothing (self, src, dst, data, len))
    return;
  msg = parse (data, len, NULL);
  if (msg != NULL)
    learn_message (self, src, dst, msg);
}

/* --- time --------------------------------------------------------------------------------- */

/* Capture time -> trace time; the clock never goes back (a capture may be out of order). */
static SimTime
advance_to (SimObserver *self,
            gint64       time_us)
{
  SimTime t;

  if (!self->started)
    {
      self->started = TRUE;
      self->origin = time_us;
    }
  t = time_us - self->origin;
  /* Bindings whose time is up before this moment expire now, at their own time. */
  if (t > sim_clock_now (self->clock))
    sim_clock_run_until (self->clock, t);
  return sim_clock_now (self->clock);
}

void
sim_observer_advance (SimObserver *self,
                      gint64       time_us)
{
  g_return_if_fail (SIM_IS_OBSERVER (self));
  if (self->started)
    advance_to (self, time_us);
}

/*
 * The location of the registrar at @addr, created (and the host marked) on its first answer;
 * NULL for a host past SIM_OBSERVER_MAX_HOSTS, so the number of tables is bounded too.
 */
static SimLocation *
registrar_location (SimObserver   *self,
                         const SimAddr *addr,
                         const char    *name)
{
  Host *host = host_lookup (self, addr, FALSE);
  SimLocation *location = g_hash_table_lookup (self->locations, name);

  if (host != NULL)
    host->registrar = TRUE;
  if (location == NULL && host == NULL)
    return NULL;
  if (location == NULL)
    {
      location = sim_location_new (self->clock, self->trace, name);
      g_hash_table_insert (self->locations, g_strdup (name), location);
      g_ptr_array_add (self->registrars, g_strdup (name));
    }
  return location;
}

/* --- packets and retransmissions ---------------------------------------------------------- */

/* One message's identity: the same request or response sent again has the same key. */
static char *
seen_key (const SimAddr  *src,
          const SimAddr  *dst,
          osip_message_t *msg)
{
  char a[64], b[64];
  const char *branch = sim_message_branch (msg);

  sim_addr_format (src, a, sizeof a);
  sim_addr_format (dst, b, sizeof b);
  return g_strdup_printf ("%s>%s\n%s\n%u %s\n%s\n%d", a, b,
                          msg->call_id->number ? msg->call_id->number : "",
                          sim_message_cseq_number (msg), sim_message_method (msg),
                          branch ? branch : "", msg->status_code);
}

/* The key of the request a response answers (the other direction, status 0). */
static char *
request_key (const SimAddr  *src,
             const SimAddr  *dst,
             osip_message_t *response)
{
  int status = response->status_code;
  char *key;

  response->status_code = 0;
  key = seen_key (dst, src, response);
  response->status_code = status;
  return key;
}

/* RFC 3261 §17: which timer sends this copy, and whether the gap fits its schedule. */
static char *
infer_timer (osip_message_t *msg,
             const SimAddr  *src,
             guint           copy,
             SimTime         gap)
{
  const char *method = sim_message_method (msg);
  gboolean invite = g_strcmp0 (method, "INVITE") == 0;
  g_autofree char *gap_text = sim_export_time_string (gap);
  g_autofree char *expected_text = NULL;
  const char *timer;
  SimTime expected;
  guint shift = MIN (copy - 1, 20);

  if (src->transport != SIM_TRANSPORT_UDP)
    return g_strdup_printf ("copy %u, %s after the last: over %s the transaction layer never "
                            "retransmits (RFC 3261 §17.1.1.2, §17.1.2.2: Timers A, E and G "
                            "run on unreliable transports only), so the sender repeated it "
                            "itself", copy + 1, gap_text, sim_transport_name (src->transport));
  if (sim_message_is_request (msg) && g_strcmp0 (method, "ACK") == 0)
    return g_strdup_printf ("copy %u, %s after the last: an ACK has no timer of its own; it is "
                            "sent again for every copy of the final response (RFC 3261 "
                            "§17.1.1.3, §13.2.2.4)", copy + 1, gap_text);
  if (sim_message_is_request (msg))
    {
      /* §17.1.1.2: Timer A doubles without limit; §17.1.2.2: Timer E stops doubling at T2. */
      expected = invite ? SIM_OBSERVER_T1 << shift
                        : MIN (SIM_OBSERVER_T1 << shift, SIM_OBSERVER_T2);
      timer = invite ? "Timer A (RFC 3261 §17.1.1.2: T1 = 500ms, doubling)"
                     : "Timer E (RFC 3261 §17.1.2.2: T1 = 500ms, doubling up to T2 = 4s)";
    }
  else if (invite && msg->status_code >= 200 && msg->status_code < 300)
    {
      expected = MIN (SIM_OBSERVER_T1 << shift, SIM_OBSERVER_T2);
      timer = "the 2xx retransmission timer of the UAS core (RFC 3261 §13.3.1.4: T1 = 500ms, "
              "doubling up to T2 = 4s, until the ACK comes)";
    }
  else if (invite && msg->status_code >= 300)
    {
      expected = MIN (SIM_OBSERVER_T1 << shift, SIM_OBSERVER_T2);
      timer = "Timer G (RFC 3261 §17.2.1: T1 = 500ms, doubling up to T2 = 4s, until the ACK)";
    }
  else
    return g_strdup_printf ("copy %u, %s after the last: a server transaction sends its last "
                            "response again only when the request comes again (RFC 3261 "
                            "§17.2.1, §17.2.2), not on a timer", copy + 1, gap_text);

  expected_text = sim_export_time_string (expected);
  /* Generous bounds: the capture's clock, the sender's load and the network all add jitter. */
  if (gap >= expected * 7 / 10 && gap <= expected * 3 / 2)
    return g_strdup_printf ("copy %u, %s after the last: %s, which gives %s here",
                            copy + 1, gap_text, timer, expected_text);
  return g_strdup_printf ("copy %u, %s after the last: not the schedule of %s, which gives %s "
                          "here; the sender repeated it on its own clock", copy + 1, gap_text,
                          timer, expected_text);
}

/* Emits "sent" or "retransmitted", then "delivered".  Returns TRUE for a retransmission. */
static gboolean
observe_packet (SimObserver    *self,
                SimTime         t,
                osip_message_t *msg,
                const char     *from,
                const char     *to,
                const SimAddr  *src,
                const SimAddr  *dst,
                const char     *data,
                gsize           len)
{
  g_autofree char *key = seen_key (src, dst, msg);
  Seen *seen = g_hash_table_lookup (self->seen.table, key);
  g_autofree char *reason = NULL;
  SimEvent *event;

  if (seen != NULL)
    {
      seen->copies++;
      reason = infer_timer (msg, src, seen->copies, t - seen->last);
      seen->last = t;
    }
  else
    {
      seen = g_new0 (Seen, 1);
      seen->first = seen->last = t;
      bounded_insert (&self->seen, g_steal_pointer (&key), seen);
    }

  if (!sim_trace_is_enabled (self->trace))
    return reason != NULL;

  event = sim_event_new (SIM_EVENT_PACKET, reason != NULL ? "retransmitted" : "sent");
  event->t = t;
  event->node = g_strdup (from);
  sim_event_set_packet (event, from, to, src, dst, data, len);
  event->reason = g_strdup (reason);
  sim_trace_emit (self->trace, event);

  /* The capture saw it on the wire: as far as anyone can tell, it arrived. */
  event = sim_event_new (SIM_EVENT_PACKET, "delivered");
  event->t = t;
  event->node = g_strdup (to);
  sim_event_set_packet (event, from, to, src, dst, data, len);
  sim_trace_emit (self->trace, event);
  return reason != NULL;
}

/* --- digest: challenges and verdicts ------------------------------------------------------ */

static void
emit_nonce (SimObserver *self,
            SimTime      t,
            const char  *action,
            const char  *node,
            const char  *nonce,
            const char  *user,
            const char  *algorithm,
            const char  *verdict,
            const char  *reason)
{
  SimEvent *event;

  if (!sim_trace_is_enabled (self->trace))
    return;
  event = sim_event_new (SIM_EVENT_NONCE, action);
  event->t = t;
  event->node = g_strdup (node);
  event->nonce = g_strdup (nonce);
  event->user = g_strdup (user);
  event->algorithm = g_strdup (algorithm);
  event->text = g_strdup (verdict);
  event->reason = g_strdup (reason);
  sim_trace_emit (self->trace, event);
}

static char *
list_header (osip_list_t *list,
             int          pos,
             gboolean     challenge)
{
  gpointer header = osip_list_get (list, pos);
  char *dest = NULL, *out;
  int rc;

  if (header == NULL)
    return NULL;
  rc = challenge ? osip_www_authenticate_to_str (header, &dest)
                 : osip_authorization_to_str (header, &dest);
  if (rc != 0 || dest == NULL)
    return g_strdup ("");
  out = g_strdup (dest);
  osip_free (dest);
  return out;
}

/* Every nonce of a 401/407 is issued: remember when, for stale and replay verdicts. */
static void
observe_challenges (SimObserver    *self,
                    SimTime         t,
                    osip_message_t *msg,
                    const char     *from,
                    const char     *request_key_text)
{
  gboolean proxy = msg->status_code == 407;
  osip_list_t *list = proxy ? &msg->proxy_authenticates : &msg->www_authenticates;
  for (int pos = 0; ; pos++)
    {
      g_autofree char *value = list_header (list, pos, TRUE);
      SimDigestChallenge challenge = { 0 };
      Seen *request;

      if (value == NULL)
        break;
      if (!sim_digest_challenge_parse (value, &challenge, NULL) || challenge.nonce == NULL)
        {
          sim_digest_challenge_clear (&challenge);
          continue;
        }
      if (!g_hash_table_contains (self->nonces.table, challenge.nonce))
        {
          NonceInfo *info = g_new0 (NonceInfo, 1);

          info->issued = t;
          info->issuer = g_strdup (from);
          info->counts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
          bounded_insert (&self->nonces, g_strdup (challenge.nonce), info);
        }
      emit_nonce (self, t, "issued", from, challenge.nonce, NULL,
                  sim_digest_algorithm_name (challenge.algorithm), NULL,
                  challenge.stale ? "a fresh nonce with stale=true: the last answer had the "
                                    "right digest for a nonce the server no longer takes "
                                    "(RFC 7616 §3.3)"
                  : proxy ? "a nonce in a 407 challenge: the proxy asks the caller to prove "
                            "who it is (RFC 3261 §22.3)"
                          : "a nonce in a 401 challenge (RFC 3261 §22.1)");

      /* The server's stale=true says more than our clock did about the request it answers. */
      request = challenge.stale ? g_hash_table_lookup (self->seen.table, request_key_text) : NULL;
      if (request != NULL && request->judged_nonce != NULL)
        {
          emit_nonce (self, t, "stale", from, request->judged_nonce, request->judged_user, NULL,
                      "stale", "stale: the digest was right, but the server answered "
                      "stale=true: it no longer takes that nonce (RFC 7616 §3.3)");
          g_clear_pointer (&request->judged_nonce, g_free);
        }
      sim_digest_challenge_clear (&challenge);
    }
}

typedef struct {
  const char *action;
  const char *verdict;
  char *reason;
} Verdict;

/* Recomputes one Authorization; the order of checks is what a server would decide on. */
static void
judge_credentials (SimObserver                *self,
                   SimTime                     t,
                   const char                 *method,
                   const SimDigestCredentials *creds,
                   gboolean                    algorithm_known,
                   Verdict                    *v)
{
  NonceInfo *info = g_hash_table_lookup (self->nonces.table, creds->nonce);
  const char *nc = creds->nc != NULL ? creds->nc : "";
  const char *password = NULL;
  gboolean replayed = info != NULL && g_hash_table_contains (info->counts, nc);

  if (info != NULL && !replayed &&
      g_hash_table_size (info->counts) < SIM_OBSERVER_MAX_COUNTS_PER_NONCE)
    g_hash_table_add (info->counts, g_strdup (nc));
  if (self->users != NULL && creds->username != NULL)
    password = g_hash_table_lookup (self->users, creds->username);

  if (password != NULL && algorithm_known &&
      !sim_digest_check_response (creds, creds->realm ? creds->realm : "", password, method))
    {
      v->action = "rejected";
      v->verdict = "wrong-password";
      v->reason = g_strdup_printf ("wrong password: the response is not the %s digest of %s's "
                                   "password in the users file (RFC 3261 §22.4, RFC 7616 §3.4.1)",
                                   creds->algorithm_name ? creds->algorithm_name : "MD5",
                                   creds->username);
    }
  else if (replayed)
    {
      v->action = "rejected";
      v->verdict = "replayed";
      v->reason = g_strdup_printf ("replayed nonce: this nonce with nonce-count %s was already "
                                   "answered in this capture; a server must refuse it (RFC 7616 "
                                   "§3.4, §5.11)", *nc != '\0' ? nc : "(none)");
    }
  else if (password == NULL || !algorithm_known)
    {
      v->action = "undecidable";
      v->verdict = "undecidable";
      v->reason = !algorithm_known
        ? g_strdup_printf ("undecidable: the algorithm %s is not one SIP Lab computes",
                           creds->algorithm_name)
        : self->users == NULL
        ? g_strdup ("undecidable: no users file to recompute the digest with (--users)")
        : g_strdup_printf ("undecidable: %s is not in the users file", creds->username);
    }
  else if (info != NULL && t - info->issued > self->nonce_lifetime)
    {
      g_autofree char *age = sim_export_time_string (t - info->issued);

      v->action = "stale";
      v->verdict = "stale";
      v->reason = g_strdup_printf ("stale: the digest is right but the nonce was issued %s ago, "
                                   "longer than its lifetime (RFC 7616 §3.3: answer stale=true)",
                                   age);
    }
  else
    {
      v->action = "accepted";
      v->verdict = "correct";
      v->reason = g_strdup_printf ("correct: the %s digest of %s's password matches%s "
                                   "(RFC 3261 §22.4, RFC 7616 §3.4.1)",
                                   creds->algorithm_name ? creds->algorithm_name : "MD5",
                                   creds->username,
                                   info == NULL ? "; the nonce was issued before the capture "
                                                  "began" : "");
    }
}

static void
judge_request (SimObserver    *self,
               SimTime         t,
               osip_message_t *msg,
               const char     *from,
               const char     *to,
               const SimAddr  *src,
               const SimAddr  *dst)
{
  osip_list_t *lists[] = { &msg->authorizations, &msg->proxy_authorizations };
  const char *method = sim_message_method (msg);

  for (guint l = 0; l < G_N_ELEMENTS (lists); l++)
    {
      for (int pos = 0; ; pos++)
        {
          g_autofree char *value = list_header (lists[l], pos, FALSE);
          SimDigestCredentials creds = { 0 };
          gboolean known = TRUE;
          g_autoptr(GError) error = NULL;
          Verdict v = { 0 };

          if (value == NULL)
            break;

          if (!sim_digest_credentials_parse_full (value, &creds, &known, &error) ||
              creds.nonce == NULL)
            {
              g_autofree char *reason =
                g_strdup_printf ("undecidable: the credentials cannot be read: %s",
                                 error != NULL ? error->message : "no nonce");

              emit_nonce (self, t, "undecidable", to, NULL, NULL, NULL, "undecidable", reason);
              sim_digest_credentials_clear (&creds);
              continue;
            }
          judge_credentials (self, t, method, &creds, known, &v);
          emit_nonce (self, t, v.action, to, creds.nonce, creds.username,
                      creds.algorithm_name ? creds.algorithm_name
                                           : sim_digest_algorithm_name (creds.algorithm),
                      v.verdict, v.reason);
          if (g_strcmp0 (v.verdict, "correct") == 0)
            {
              g_autofree char *key = seen_key (src, dst, msg);
              Seen *seen = g_hash_table_lookup (self->seen.table, key);

              if (seen != NULL)
                {
                  g_free (seen->judged_nonce);
                  seen->judged_nonce = g_strdup (creds.nonce);
                  g_free (seen->judged_user);
                  seen->judged_user = g_strdup (creds.username);
                }
            }
          g_free (v.reason);
          sim_digest_credentials_clear (&creds);
        }
    }
}

/* --- the location table ------------------------------------------------------------------- */

/* RFC 3261 §10.3 step 8: a 200 to a REGISTER lists every current binding of the AOR. */
static void
observe_registered (SimObserver    *self,
                    SimTime         t,
                    osip_message_t *msg,
                    const char     *from,
                    const SimAddr  *src,
                    const SimAddr  *dst)
{
  SimLocation *location = registrar_location (self, src, from);
  g_autoptr(GPtrArray) bindings =
    g_ptr_array_new_with_free_func ((GDestroyNotify) sim_binding_free);
  g_autofree char *aor = NULL;
  gint64 header_expires = sim_message_expires (msg);

  if (location == NULL || msg->to == NULL || msg->to->url == NULL)
    return;
  aor = sim_uri_to_aor (msg->to->url);
  for (int pos = 0; !osip_list_eol (&msg->contacts, pos); pos++)
    {
      osip_contact_t *contact = osip_list_get (&msg->contacts, pos);
      osip_generic_param_t *param = NULL;
      const SimBinding *old;
      SimBinding *binding;
      gint64 granted = header_expires >= 0 ? header_expires : 3600;
      char *display = NULL;

      if (contact == NULL || contact->url == NULL)
        continue;
      if (osip_contact_param_get_byname (contact, (char *) "expires", &param) == 0 &&
          param != NULL && param->gvalue != NULL)
        granted = g_ascii_strtoll (param->gvalue, NULL, 10);
      if (granted <= 0)
        continue;
      binding = g_new0 (SimBinding, 1);
      binding->aor = g_strdup (aor);
      binding->contact = sim_uri_to_string (contact->url);
      if (osip_contact_to_str (contact, &display) == 0 && display != NULL)
        {
          binding->display = g_strdup (display);
          osip_free (display);
        }
      binding->q = SIM_BINDING_NO_Q;
      if (osip_contact_param_get_byname (contact, (char *) "q", &param) == 0 &&
          param != NULL && param->gvalue != NULL)
        binding->q = g_ascii_strtod (param->gvalue, NULL);
      binding->granted = (guint32) MIN (granted, G_MAXUINT32);
      binding->expires_at = t + SIM_SEC (binding->granted);
      binding->call_id = g_strdup (msg->call_id->number);
      binding->cseq = sim_message_cseq_number (msg);
      binding->source = *dst;
      old = sim_location_find (location, aor, binding->contact);
      binding->registered_at = old != NULL ? old->registered_at : t;
      binding->updated_at = t;
      g_ptr_array_add (bindings, binding);
    }
  /* A capture may hold any number of AORs; the rebuilt table holds a bounded number. */
  if (bindings->len > 0 && sim_location_peek (location, aor) == NULL &&
      sim_location_get_n_bindings (location) + bindings->len > self->max_bindings)
    {
      if (sim_trace_is_enabled (self->trace))
        sim_trace_note (self->trace, t, from, "the location table of %s is full (%u bindings): "
                        "the bindings of %s are not shown", from, self->max_bindings, aor);
      return;
    }
  sim_location_replace (location, aor, bindings,
                        "the registrar's 200 OK lists the AOR's current Contacts with their "
                        "expires (RFC 3261 §10.3 step 8)");
}

static void
observe_response (SimObserver    *self,
                  SimTime         t,
                  osip_message_t *msg,
                  const char     *from,
                  const SimAddr  *src,
                  const SimAddr  *dst)
{
  gboolean reg = g_strcmp0 (sim_message_method (msg), "REGISTER") == 0;

  if (reg)
    registrar_location (self, src, from);
  if (msg->status_code == 401 || msg->status_code == 407)
    {
      g_autofree char *key = request_key (src, dst, msg);

      observe_challenges (self, t, msg, from, key);
    }
  else if (reg && msg->status_code >= 200 && msg->status_code < 300)
    observe_registered (self, t, msg, from, src, dst);
}

gboolean
sim_observer_feed (SimObserver    *self,
                   gint64          time_us,
                   const SimAddr  *src,
                   const SimAddr  *dst,
                   const char     *data,
                   gsize           len,
                   GError        **error)
{
  g_autoptr(osip_message_t) msg = NULL;
  g_autofree char *from_scratch = NULL;
  g_autofree char *to_scratch = NULL;
  const char *from, *to;
  SimTime t;

  g_return_val_if_fail (SIM_IS_OBSERVER (self), FALSE);
  g_return_val_if_fail (src != NULL && dst != NULL && data != NULL, FALSE);

  msg = parse (data, len, error);
  if (msg == NULL)
    return FALSE;

  t = advance_to (self, time_us);
  self->n_messages++;
  learn_message (self, src, dst, msg);
  from = node_name (self, src, &from_scratch);
  to = node_name (self, dst, &to_scratch);

  /* A retransmission is the same request or response: judged and applied once. */
  if (observe_packet (self, t, msg, from, to, src, dst, data, len))
    return TRUE;
  if (sim_message_is_request (msg))
    judge_request (self, t, msg, from, to, src, dst);
  else
    observe_response (self, t, msg, from, src, dst);
  return TRUE;
}

