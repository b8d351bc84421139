/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "sim-net.h"

#include <gio/gio.h>
#include <string.h>

typedef struct {
  guint16 port;
  SimNetReceiveFunc func;
  gpointer user_data;
} Endpoint;

typedef struct _Nat Nat;

typedef struct {
  char *name;
  char *ip;
  gboolean up;
  GArray *endpoints;   /* Endpoint; a host has one or two */
  char *behind;        /* the NAT this host sits behind, or NULL */
  Nat *nat;            /* set when this host is a NAT */
} Host;

/* One NAT mapping (RFC 4787 §4): a private ip:port seen as the NAT's address and @port. */
typedef struct {
  Nat *nat;
  guint16 port;
  SimAddr inside;
  SimTime last_out;        /* the last datagram that went out through it */
  guint timer;             /* checks the timeout; re-armed when traffic went out meanwhile */
  GPtrArray *peers;        /* remote IPs it sent to (the filter), oldest first */
} Mapping;

struct _Nat {
  SimNet *net;
  char *name;              /* the NAT host's name, for the notes */
  SimTime timeout;
  guint16 next_port;
  GHashTable *by_inside;   /* "ip:port" -> Mapping* (borrowed) */
  GHashTable *by_port;     /* port -> Mapping* (owned) */
};

typedef struct {
  SimNet *net;             /* NULL once the net is gone */
  guint timer;
  SimAddr src;
  SimAddr dst;
  char *from;
  char *via;               /* the NAT it leaves through first (a hop of its own), or NULL */
  char *data;
  gsize len;
  gboolean retransmission;
  gboolean tls;            /* the link it is on carries TLS */
} Packet;

/* A passive listener: on the link a-b, or on every link when a is NULL. */
typedef struct {
  char *name;
  char *a;
  char *b;
} Sniffer;

struct _SimNet {
  GObject parent_instance;
  SimClock *clock;
  SimTrace *trace;
  GRand *rand;
  GPtrArray *hosts;        /* Host*, insertion order */
  GHashTable *by_name;     /* name -> Host* */
  GHashTable *by_ip;       /* ip -> Host* */
  GHashTable *links;       /* "a\nb" (sorted) -> SimLinkParams* */
  SimLinkParams default_link;
  GHashTable *in_flight;   /* Packet* waiting for their delivery timer */
  GPtrArray *sniffers;     /* Sniffer*, in the order they were added */
  guint64 n_sent;
  guint64 n_delivered;
};

G_DEFINE_FINAL_TYPE (SimNet, sim_net, G_TYPE_OBJECT)

static void
mapping_free (Mapping *mapping)
{
  if (mapping->timer != 0)
    sim_clock_cancel (mapping->nat->net->clock, mapping->timer);
  g_ptr_array_unref (mapping->peers);
  g_free (mapping);
}

static void
nat_free (Nat *nat)
{
  g_hash_table_unref (nat->by_inside);
  g_hash_table_unref (nat->by_port);
  g_free (nat->name);
  g_free (nat);
}

static void
host_free (Host *host)
{
  g_free (host->name);
  g_free (host->ip);
  g_free (host->behind);
  g_array_unref (host->endpoints);
  g_clear_pointer (&host->nat, nat_free);
  g_free (host);
}

static void
sniffer_free (Sniffer *sniffer)
{
  g_free (sniffer->name);
  g_free (sniffer->a);
  g_free (sniffer->b);
  g_free (sniffer);
}

static void
packet_free (Packet *packet)
{
  if (packet->net != NULL)
    g_hash_table_remove (packet->net->in_flight, packet);
  g_free (packet->from);
  g_free (packet->via);
  g_free (packet->data);
  g_free (packet);
}

static void
sim_net_finalize (GObject *object)
{
  SimNet *self = SIM_NET (object);
  g_autoptr(GPtrArray) pending = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer packet;

  /* Packets still in flight must not reach a net that is gone: cancel their deliveries. */
  g_hash_table_iter_init (&iter, self->in_flight);
  while (g_hash_table_iter_next (&iter, &packet, NULL))
    g_ptr_array_add (pending, packet);
  g_hash_table_remove_all (self->in_flight);
  for (guint i = 0; i < pending->len; i++)
    {
      Packet *p = pending->pdata[i];
      guint timer = p->timer;
      p->net = NULL;
      sim_clock_cancel (self->clock, timer);
    }
  g_clear_pointer (&self->in_flight, g_hash_table_unref);

  g_clear_pointer (&self->by_name, g_hash_table_unref);
  g_clear_pointer (&self->by_ip, g_hash_table_unref);
  g_clear_pointer (&self->hosts, g_ptr_array_unref);
  g_clear_pointer (&self->links, g_hash_table_unref);
  g_clear_pointer (&self->sniffers, g_ptr_array_unref);
  g_clear_object (&self->clock);
  g_clear_object (&self->trace);
  G_OBJECT_CLASS (sim_net_parent_class)->finalize (object);
}

static void
sim_net_class_init (SimNetClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = sim_net_finalize;
}

static void
sim_net_init (SimNet *self)
{
  self->hosts = g_ptr_array_new_with_free_func ((GDestroyNotify) host_free);
  self->by_name = g_hash_table_new (g_str_hash, g_str_equal);
  self->by_ip = g_hash_table_new (g_str_hash, g_str_equal);
  self->links = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->in_flight = g_hash_table_new (NULL, NULL);
  self->sniffers = g_ptr_array_new_with_free_func ((GDestroyNotify) sniffer_free);
  self->default_link.latency = SIM_MSEC (20);
  self->default_link.jitter = 0;
  self->default_link.loss = 0.0;
}

/* The GRand is shared with the rest of the session and must outlive the net. */
SimNet *
sim_net_new (SimClock *clock,
             SimTrace *trace,
             GRand    *rand)
{
  SimNet *self;

  g_return_val_if_fail (SIM_IS_CLOCK (clock), NULL);
  g_return_val_if_fail (rand != NULL, NULL);

  self = g_object_new (SIM_TYPE_NET, NULL);
  self->clock = g_object_ref (clock);
  self->trace = trace ? g_object_ref (trace) : NULL;
  self->rand = rand;
  return self;
}

static void
emit_node_event (SimNet     *self,
                 const char *action,
                 Host       *host,
                 const char *text)
{
  SimEvent *event;

  if (!sim_trace_is_enabled (self->trace))
    return;
  event = sim_event_new (SIM_EVENT_NODE, action);
  event->t = sim_clock_now (self->clock);
  event->node = g_strdup (host->name);
  sim_addr_init (&event->src, host->ip, 0, SIM_TRANSPORT_UDP);
  event->text = g_strdup (text);
  sim_trace_emit (self->trace, event);
}

gboolean
sim_net_add_host (SimNet      *self,
                  const char  *name,
                  const char  *ip,
                  GError     **error)
{
  Host *host;

  g_return_val_if_fail (SIM_IS_NET (self), FALSE);
  g_return_val_if_fail (name != NULL && ip != NULL, FALSE);

  if (!g_hostname_is_ip_address (ip))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "'%s' is not an IP address", ip);
      return FALSE;
    }
  if (g_hash_table_contains (self->by_name, name))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS, "a host named '%s' already exists", name);
      return FALSE;
    }
  if (g_hash_table_contains (self->by_ip, ip))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS, "address %s is already used by %s", ip,
                   ((Host *) g_hash_table_lookup (self->by_ip, ip))->name);
      return FALSE;
    }
  host = g_new0 (Host, 1);
  host->name = g_strdup (name);
  host->ip = g_strdup (ip);
  host->up = TRUE;
  host->endpoints = g_array_new (FALSE, TRUE, sizeof (Endpoint));
  g_ptr_array_add (self->hosts, host);
  g_hash_table_insert (self->by_name, host->name, host);
  g_hash_table_insert (self->by_ip, host->ip, host);
  emit_node_event (self, "added", host, NULL);
  return TRUE;
}

void
sim_net_remove_host (SimNet     *self,
                     const char *name)
{
  Host *host;

  g_return_if_fail (SIM_IS_NET (self));
  host = g_hash_table_lookup (self->by_name, name);
  if (host == NULL)
    return;
  emit_node_event (self, "removed", host, NULL);
  g_hash_table_remove (self->by_ip, host->ip);
  g_hash_table_remove (self->by_name, host->name);
  g_ptr_array_remove (self->hosts, host);
}

gboolean
sim_net_has_host (SimNet     *self,
                  const char *name)
{
  return g_hash_table_contains (self->by_name, name);
}

const char *
sim_net_host_ip (SimNet     *self,
                 const char *name)
{
  Host *host = g_hash_table_lookup (self->by_name, name);
  return host ? host->ip : NULL;
}

const char *
sim_net_host_for_ip (SimNet     *self,
                     const char *ip)
{
  Host *host = g_hash_table_lookup (self->by_ip, ip);
  return host ? host->name : NULL;
}

gboolean
sim_net_host_is_up (SimNet     *self,
                    const char *name)
{
  Host *host = g_hash_table_lookup (self->by_name, name);
  return host != NULL && host->up;
}

GPtrArray *
sim_net_list_hosts (SimNet *self)
{
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; i < self->hosts->len; i++)
    g_ptr_array_add (names, g_strdup (((Host *) self->hosts->pdata[i])->name));
  return names;
}

gboolean
sim_net_move_host (SimNet      *self,
                   const char  *name,
                   const char  *new_ip,
                   GError     **error)
{
  Host *host;
  g_autofree char *text = NULL;

  g_return_val_if_fail (SIM_IS_NET (self), FALSE);
  host = g_hash_table_lookup (self->by_name, name);
  if (host == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "no host named '%s'", name);
      return FALSE;
    }
  if (!g_hostname_is_ip_address (new_ip))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "'%s' is not an IP address", new_ip);
      return FALSE;
    }
  if (g_hash_table_contains (self->by_ip, new_ip))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS, "address %s is already in use", new_ip);
      return FALSE;
    }
  text = g_strdup_printf ("%s moved from %s to %s", name, host->ip, new_ip);
  g_hash_table_remove (self->by_ip, host->ip);
  g_free (host->ip);
  host->ip = g_strdup (new_ip);
  g_hash_table_insert (self->by_ip, host->ip, host);
  emit_node_event (self, "moved", host, text);
  return TRUE;
}

void
sim_net_set_host_up (SimNet     *self,
                     const char *name,
                     gboolean    up)
{
  Host *host = g_hash_table_lookup (self->by_name, name);

  g_return_if_fail (host != NULL);
  if (host->up == !!up)
    return;
  host->up = !!up;
  emit_node_event (self, up ? "power-on" : "power-off", host, NULL);
}

void
sim_net_bind (SimNet            *self,
              const char        *name,
              guint16            port,
              SimNetReceiveFunc  func,
              gpointer           user_data)
{
  Host *host = g_hash_table_lookup (self->by_name, name);
  Endpoint ep = { port, func, user_data };

  g_return_if_fail (host != NULL);
  sim_net_unbind (self, name, port);
  g_array_append_val (host->endpoints, ep);
}

void
sim_net_unbind (SimNet     *self,
                const char *name,
                guint16     port)
{
  Host *host = g_hash_table_lookup (self->by_name, name);

  if (host == NULL)
    return;
  for (guint i = 0; i < host->endpoints->len; i++)
    if (g_array_index (host->endpoints, Endpoint, i).port == port)
      {
        g_array_remove_index (host->endpoints, i);
        return;
      }
}

static char *
link_key (const char *a,
          const char *b)
{
  if (g_strcmp0 (a, b) > 0)
    {
      const char *t = a;
      a = b;
      b = t;
    }
  return g_strconcat (a, "\n", b, NULL);
}

void
sim_net_set_default_link (SimNet              *self,
                          const SimLinkParams *params)
{
  g_return_if_fail (SIM_IS_NET (self));
  self->default_link = *params;
}

void
sim_net_get_default_link (SimNet        *self,
                          SimLinkParams *params)
{
  *params = self->default_link;
}

void
sim_net_set_link (SimNet              *self,
                  const char          *a,
                  const char          *b,
                  const SimLinkParams *params)
{
  g_return_if_fail (SIM_IS_NET (self));
  g_hash_table_replace (self->links, link_key (a, b), g_memdup2 (params, sizeof *params));
}

void
sim_net_get_link (SimNet        *self,
                  const char    *a,
                  const char    *b,
                  SimLinkParams *params)
{
  g_autofree char *key = NULL;
  SimLinkParams *found;

  if (g_hash_table_size (self->links) == 0 || a == NULL || b == NULL)
    {
      *params = self->default_link;
      return;
    }
  key = link_key (a, b);
  found = g_hash_table_lookup (self->links, key);
  *params = found ? *found : self->default_link;
}

static void
emit_packet (SimNet        *self,
             const char    *action,
             const char    *from,
             const char    *to,
             const SimAddr *src,
             const SimAddr *dst,
             const char    *data,
             gsize          len,
             gboolean       tls,
             const char    *reason)
{
  SimEvent *event;

  if (!sim_trace_is_enabled (self->trace))
    return;
  event = sim_event_new (SIM_EVENT_PACKET, action);
  event->t = sim_clock_now (self->clock);
  sim_event_set_packet (event, from, to, src, dst, data, len);
  event->tls = tls;
  event->reason = g_strdup (reason);
  sim_trace_emit (self->trace, event);
}

/* Does @sniffer watch the link between the hosts named @x and @y? */
static gboolean
sniffer_watches (const Sniffer *sniffer,
                 const char    *x,
                 const char    *y)
{
  if (sniffer->a == NULL)
    return TRUE;
  return (g_strcmp0 (sniffer->a, x) == 0 && g_strcmp0 (sniffer->b, y) == 0) ||
         (g_strcmp0 (sniffer->a, y) == 0 && g_strcmp0 (sniffer->b, x) == 0);
}

/* Every sniffer on the link from @from to @to gets its copy of a datagram put on it: the text
 * on a plain link, only the addresses and the record's size on TLS. */
static void
emit_captures (SimNet        *self,
               const char    *from,
               const char    *to,
               const SimAddr *src,
               const SimAddr *dst,
               const char    *data,
               gsize          len,
               gboolean       tls)
{
  if (self->sniffers->len == 0 || !sim_trace_is_enabled (self->trace))
    return;
  for (guint i = 0; i < self->sniffers->len; i++)
    {
      const Sniffer *sniffer = self->sniffers->pdata[i];
      SimEvent *event;

      if (!sniffer_watches (sniffer, from, to))
        continue;
      event = sim_event_new (SIM_EVENT_CAPTURE, "captured");
      event->t = sim_clock_now (self->clock);
      event->node = g_strdup (sniffer->name);
      event->tls = tls;
      if (tls)
        {
          event->from = g_strdup (from);
          event->to = g_strdup (to);
          event->src = *src;
          event->dst = *dst;
          event->wire_len = len + SIM_NET_TLS_RECORD_OVERHEAD;
          event->text = g_strdup_printf ("TLS application data, %" G_GSIZE_FORMAT " bytes",
                                         event->wire_len);
        }
      else
        {
          sim_event_set_packet (event, from, to, src, dst, data, len);
          event->wire_len = len;
        }
      sim_trace_emit (self->trace, event);
    }
}

/* ------------------------------------------------------------------------------------------ */
/* NAT (RFC 4787)                                                                             */

static Host *
nat_of (SimNet *self,
        Host   *host)
{
  Host *nat;

  if (host == NULL || host->behind == NULL)
    return NULL;
  nat = g_hash_table_lookup (self->by_name, host->behind);
  return nat != NULL && nat->nat != NULL ? nat : NULL;
}

/* "60 s", "1.5 s": a timeout in a note. */
static void
format_timeout (SimTime  t,
                char    *out,
                gsize    size)
{
  if (t % SIM_SEC (1) == 0)
    g_snprintf (out, size, "%" G_GINT64_FORMAT " s", t / SIM_SEC (1));
  else
    g_snprintf (out, size, "%.3f s", t / 1e6);
}

static void
mapping_close (Mapping *mapping)
{
  Nat *nat = mapping->nat;
  SimNet *self = nat->net;
  Host *host = g_hash_table_lookup (self->by_name, nat->name);
  char inside[64], timeout[32];

  sim_addr_format (&mapping->inside, inside, sizeof inside);
  format_timeout (nat->timeout, timeout, sizeof timeout);
  if (sim_trace_is_enabled (self->trace) && host != NULL)
    sim_trace_note (self->trace, sim_clock_now (self->clock), nat->name,
                    "NAT mapping %s:%u -> %s closed: nothing went out through it for %s "
                    "(RFC 4787 REQ-5); what arrives at that port now is dropped",
                    host->ip, mapping->port, inside, timeout);
  g_hash_table_remove (nat->by_inside, inside);
  g_hash_table_remove (nat->by_port, GUINT_TO_POINTER (mapping->port));
}

/* The mapping's timer: it closes unless a datagram went out meanwhile (then it waits again). */
static void
mapping_timeout_cb (gpointer data)
{
  Mapping *mapping = data;
  SimNet *self = mapping->nat->net;
  SimTime idle = sim_clock_now (self->clock) - mapping->last_out;

  mapping->timer = 0;
  if (idle >= mapping->nat->timeout)
    mapping_close (mapping);
  else
    mapping->timer = sim_clock_add (self->clock, mapping->nat->timeout - idle,
                                    mapping_timeout_cb, mapping, NULL);
}

/* The open mapping at public @port, or NULL; one whose time is up closes now. */
static Mapping *
nat_find_port (Nat     *nat,
               guint16  port)
{
  Mapping *mapping = g_hash_table_lookup (nat->by_port, GUINT_TO_POINTER (port));

  if (mapping != NULL &&
      sim_clock_now (nat->net->clock) - mapping->last_out >= nat->timeout)
    {
      mapping_close (mapping);
      mapping = NULL;
    }
  return mapping;
}

/* The mapping for @inside, opened now if it has none; NULL when every port is taken. */
static Mapping *
nat_map_out (Host          *nat_host,
             const SimAddr *inside)
{
  Nat *nat = nat_host->nat;
  SimNet *self = nat->net;
  Mapping *mapping;
  char key[64], timeout[32];

  sim_addr_format (inside, key, sizeof key);
  mapping = g_hash_table_lookup (nat->by_inside, key);
  if (mapping != NULL && nat_find_port (nat, mapping->port) != NULL)
    return mapping;
  if (g_hash_table_size (nat->by_port) >= SIM_NET_NAT_MAX_MAPPINGS)
    return NULL;
  /* The next free port, in order from the first one: no port preservation. */
  while (g_hash_table_contains (nat->by_port, GUINT_TO_POINTER (nat->next_port)))
    nat->next_port = nat->next_port == G_MAXUINT16 ? SIM_NET_NAT_FIRST_PORT : nat->next_port + 1;
  mapping = g_new0 (Mapping, 1);
  mapping->nat = nat;
  mapping->port = nat->next_port;
  mapping->inside = *inside;
  mapping->last_out = sim_clock_now (self->clock);
  mapping->peers = g_ptr_array_new_with_free_func (g_free);
  mapping->timer = sim_clock_add (self->clock, nat->timeout, mapping_timeout_cb, mapping, NULL);
  nat->next_port = nat->next_port == G_MAXUINT16 ? SIM_NET_NAT_FIRST_PORT : nat->next_port + 1;
  g_hash_table_insert (nat->by_port, GUINT_TO_POINTER (mapping->port), mapping);
  g_hash_table_insert (nat->by_inside, g_strdup (key), mapping);
  format_timeout (nat->timeout, timeout, sizeof timeout);
  if (sim_trace_is_enabled (self->trace))
    sim_trace_note (self->trace, sim_clock_now (self->clock), nat->name,
                    "NAT mapping %s -> %s:%u opened (it closes after %s without outgoing "
                    "traffic, RFC 4787)", key, nat_host->ip, mapping->port, timeout);
  return mapping;
}

static gboolean
mapping_knows_peer (Mapping    *mapping,
                    const char *ip)
{
  for (guint i = 0; i < mapping->peers->len; i++)
    if (strcmp (mapping->peers->pdata[i], ip) == 0)
      return TRUE;
  return FALSE;
}

static void
mapping_add_peer (Mapping    *mapping,
                  const char *ip)
{
  if (mapping_knows_peer (mapping, ip))
    return;
  if (mapping->peers->len >= SIM_NET_NAT_MAX_PEERS)
    g_ptr_array_remove_index (mapping->peers, 0);
  g_ptr_array_add (mapping->peers, g_strdup (ip));
}

/* ------------------------------------------------------------------------------------------ */
/* Datagrams                                                                                  */

static void transmit (SimNet        *self,
                      Host          *from,
                      const SimAddr *src,
                      const SimAddr *dst,
                      const char    *data,
                      gsize          len,
                      gboolean       retransmission);

static void
emit_drop (SimNet     *self,
           Packet     *packet,
           const char *to,
           const char *reason)
{
  emit_packet (self, "dropped", packet->from, to, &packet->src, &packet->dst, packet->data,
               packet->len, packet->tls, reason);
}

static void
emit_delivered (SimNet     *self,
                Packet     *packet,
                const char *to)
{
  self->n_delivered++;
  emit_packet (self, "delivered", packet->from, to, &packet->src, &packet->dst, packet->data,
               packet->len, packet->tls, NULL);
}

/* A datagram from inside reached its NAT: out it goes from the public address of a mapping. */
static void
nat_outbound (SimNet *self,
              Host   *nat_host,
              Packet *packet)
{
  Nat *nat = nat_host->nat;
  char key[64];
  Mapping *mapping;
  SimAddr out;

  sim_addr_format (&packet->src, key, sizeof key);
  if (!g_hash_table_contains (nat->by_inside, key) &&
      g_hash_table_size (nat->by_port) >= SIM_NET_NAT_MAX_MAPPINGS)
    {
      g_autofree char *reason = g_strdup_printf ("%s has no free port for a new mapping (at most "
                                                 "%u at once)", nat_host->name,
                                                 SIM_NET_NAT_MAX_MAPPINGS);
      emit_drop (self, packet, nat_host->name, reason);
      return;
    }
  emit_delivered (self, packet, nat_host->name);
  mapping = nat_map_out (nat_host, &packet->src);
  g_assert (mapping != NULL);
  mapping->last_out = sim_clock_now (self->clock);
  mapping_add_peer (mapping, packet->dst.ip);
  sim_addr_init (&out, nat_host->ip, mapping->port, packet->src.transport);
  transmit (self, nat_host, &out, &packet->dst, packet->data, packet->len,
            packet->retransmission);
}

/* A datagram reached a NAT's public address: in it goes, if a mapping and its filter let it. */
static void
nat_inbound (SimNet *self,
             Host   *nat_host,
             Packet *packet)
{
  Mapping *mapping = nat_find_port (nat_host->nat, packet->dst.port);
  g_autofree char *reason = NULL;

  if (mapping == NULL)
    reason = g_strdup_printf ("%s has no mapping for port %u: an unsolicited datagram is "
                              "dropped (RFC 4787 §5)", nat_host->name, packet->dst.port);
  else if (!mapping_knows_peer (mapping, packet->src.ip))
    {
      char inside[64];

      sim_addr_format (&mapping->inside, inside, sizeof inside);
      reason = g_strdup_printf ("%s drops it: %s has sent nothing to %s (address-dependent "
                                "filtering, RFC 4787 §5)", nat_host->name, inside,
                                packet->src.ip);
    }
  if (reason != NULL)
    {
      emit_drop (self, packet, nat_host->name, reason);
      return;
    }
  emit_delivered (self, packet, nat_host->name);
  transmit (self, nat_host, &packet->src, &mapping->inside, packet->data, packet->len,
            packet->retransmission);
}

static void
deliver_cb (gpointer data)
{
  Packet *packet = data;
  SimNet *self = packet->net;
  Host *host;
  g_autofree char *reason = NULL;

  if (packet->via != NULL)
    {
      host = g_hash_table_lookup (self->by_name, packet->via);
      if (host != NULL && host->nat != NULL)
        nat_outbound (self, host, packet);
      else
        {
          reason = g_strdup_printf ("the router %s is gone: the datagram is lost", packet->via);
          emit_drop (self, packet, packet->via, reason);
        }
      return;
    }
  host = g_hash_table_lookup (self->by_ip, packet->dst.ip);
  if (host != NULL && host->nat != NULL)
    {
      nat_inbound (self, host, packet);
      return;
    }
  if (host == NULL)
    reason = g_strdup_printf ("no host has address %s any more: the datagram is lost", packet->dst.ip);
  else if (!host->up)
    reason = g_strdup_printf ("%s is powered off", host->name);
  else
    {
      for (guint i = 0; i < host->endpoints->len; i++)
        {
          Endpoint *ep = &g_array_index (host->endpoints, Endpoint, i);
          if (ep->port == packet->dst.port)
            {
              emit_delivered (self, packet, host->name);
              ep->func (&packet->src, &packet->dst, packet->data, packet->len, ep->user_data);
              return;
            }
        }
      reason = g_strdup_printf ("nothing listens on %s port %u (ICMP port unreachable)",
                                host->name, packet->dst.port);
    }
  emit_drop (self, packet, host ? host->name : packet->dst.ip, reason);
}

/*
 * Sends a datagram from host @from (NULL: an address no host has).  Behind a NAT, a datagram
 * for outside goes to the NAT first; one for a private address from outside goes nowhere.
 */
static void
transmit (SimNet        *self,
          Host          *from,
          const SimAddr *src,
          const SimAddr *dst,
          const char    *data,
          gsize          len,
          gboolean       retransmission)
{
  Host *to = g_hash_table_lookup (self->by_ip, dst->ip);
  Host *from_nat = nat_of (self, from);
  Host *to_nat = nat_of (self, to);
  /* Leaving a private network (for anywhere but that network) goes through its NAT, also to
   * the NAT's own public address (hairpinning, RFC 4787 REQ-9). */
  gboolean outbound = from_nat != NULL && to_nat != from_nat;
  Host *hop = outbound ? from_nat : to;
  const char *from_name = from ? from->name : src->ip;
  const char *to_name;
  SimLinkParams link;
  SimTime delay;
  Packet *packet;

  to_name = hop ? hop->name : dst->ip;
  sim_net_get_link (self, from ? from->name : NULL, hop ? hop->name : NULL, &link);
  self->n_sent++;
  emit_packet (self, retransmission ? "retransmitted" : "sent", from_name, to_name, src, dst,
               data, len, link.tls, NULL);

  if (to_nat != NULL && to_nat != from_nat && to_nat != from)
    {
      g_autofree char *reason = g_strdup_printf ("%s is a private address behind %s: nothing "
                                                 "outside %s routes to it", dst->ip,
                                                 to_nat->name, to_nat->name);
      emit_packet (self, "dropped", from_name, to_name, src, dst, data, len, link.tls, reason);
      return;
    }

  /* On the wire now: a sniffer at the sender's end copies it, whatever the link does next. */
  emit_captures (self, from_name, to_name, src, dst, data, len, link.tls);
  /* Draw from the seeded GRand in a fixed order (loss, then jitter) to stay deterministic. */
  if (link.loss > 0.0 && g_rand_double (self->rand) < link.loss)
    {
      emit_packet (self, "dropped", from_name, to_name, src, dst, data, len, link.tls,
                   "lost on the link (simulated packet loss)");
      return;
    }
  delay = link.latency;
  if (link.jitter > 0)
    delay += g_rand_int_range (self->rand, 0, (gint32) MIN (link.jitter, G_MAXINT32 - 1) + 1);

  packet = g_new0 (Packet, 1);
  packet->net = self;
  packet->src = *src;
  packet->dst = *dst;
  packet->from = g_strdup (from_name);
  packet->via = outbound ? g_strdup (hop->name) : NULL;
  packet->data = g_strndup (data, len);
  packet->len = len;
  packet->retransmission = retransmission;
  packet->tls = link.tls;
  packet->timer = sim_clock_add (self->clock, delay, deliver_cb, packet, (GDestroyNotify) packet_free);
  g_hash_table_add (self->in_flight, packet);
}

void
sim_net_send (SimNet        *self,
              const SimAddr *src,
              const SimAddr *dst,
              const char    *data,
              gsize          len,
              gboolean       retransmission)
{
  Host *from;

  g_return_if_fail (SIM_IS_NET (self));

  from = g_hash_table_lookup (self->by_ip, src->ip);
  /* A powered-off host sends nothing. */
  if (from != NULL && !from->up)
    return;
  transmit (self, from, src, dst, data, len, retransmission);
}

gboolean
sim_net_add_nat (SimNet      *self,
                 const char  *name,
                 const char  *ip,
                 SimTime      timeout,
                 GError     **error)
{
  Host *host;
  Nat *nat;

  g_return_val_if_fail (SIM_IS_NET (self), FALSE);
  if (!sim_net_add_host (self, name, ip, error))
    return FALSE;
  host = g_hash_table_lookup (self->by_name, name);
  nat = g_new0 (Nat, 1);
  nat->net = self;
  nat->name = g_strdup (name);
  nat->timeout = timeout > 0 ? timeout : SIM_NET_NAT_DEFAULT_TIMEOUT;
  nat->next_port = SIM_NET_NAT_FIRST_PORT;
  nat->by_inside = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  nat->by_port = g_hash_table_new_full (NULL, NULL, NULL, (GDestroyNotify) mapping_free);
  host->nat = nat;
  return TRUE;
}

gboolean
sim_net_host_is_nat (SimNet     *self,
                     const char *name)
{
  Host *host = g_hash_table_lookup (self->by_name, name);

  return host != NULL && host->nat != NULL;
}

SimTime
sim_net_nat_get_timeout (SimNet     *self,
                         const char *nat)
{
  Host *host = g_hash_table_lookup (self->by_name, nat);

  g_return_val_if_fail (host != NULL && host->nat != NULL, 0);
  return host->nat->timeout;
}

gboolean
sim_net_set_behind (SimNet      *self,
                    const char  *name,
                    const char  *nat,
                    GError     **error)
{
  Host *host, *router = NULL;

  g_return_val_if_fail (SIM_IS_NET (self), FALSE);
  host = g_hash_table_lookup (self->by_name, name);
  if (host == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "no host named '%s'", name);
      return FALSE;
    }
  if (nat != NULL)
    {
      router = g_hash_table_lookup (self->by_name, nat);
      if (router == NULL || router->nat == NULL)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "no NAT named '%s'", nat);
          return FALSE;
        }
      /* One level of NAT: a router's own address is public. */
      if (host->nat != NULL)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                       "'%s' is a NAT itself and cannot sit behind another one", name);
          return FALSE;
        }
    }
  g_free (host->behind);
  host->behind = g_strdup (nat);
  return TRUE;
}

const char *
sim_net_host_behind (SimNet     *self,
                     const char *name)
{
  Host *host = g_hash_table_lookup (self->by_name, name);
  Host *nat = host != NULL ? nat_of (self, host) : NULL;

  return nat != NULL ? nat->name : NULL;
}

gboolean
sim_net_nat_lookup (SimNet        *self,
                    const char    *nat,
                    const SimAddr *inside,
                    SimAddr       *public_addr)
{
  Host *host = g_hash_table_lookup (self->by_name, nat);
  Mapping *mapping;
  char key[64];

  g_return_val_if_fail (inside != NULL && public_addr != NULL, FALSE);
  if (host == NULL || host->nat == NULL)
    return FALSE;
  sim_addr_format (inside, key, sizeof key);
  mapping = g_hash_table_lookup (host->nat->by_inside, key);
  if (mapping == NULL || nat_find_port (host->nat, mapping->port) == NULL)
    return FALSE;
  sim_addr_init (public_addr, host->ip, mapping->port, inside->transport);
  return TRUE;
}

guint
sim_net_nat_get_n_mappings (SimNet     *self,
                            const char *nat)
{
  Host *host = g_hash_table_lookup (self->by_name, nat);

  return host != NULL && host->nat != NULL ? g_hash_table_size (host->nat->by_port) : 0;
}

guint64
sim_net_get_n_sent (SimNet *self)
{
  return self->n_sent;
}

guint64
sim_net_get_n_delivered (SimNet *self)
{
  return self->n_delivered;
}

gboolean
sim_net_add_sniffer (SimNet      *self,
                     const char  *name,
                     const char  *a,
                     const char  *b,
                     GError     **error)
{
  Sniffer *sniffer;

  g_return_val_if_fail (SIM_IS_NET (self), FALSE);
  g_return_val_if_fail (name != NULL && (a == NULL) == (b == NULL), FALSE);
  if (g_hash_table_contains (self->by_name, name) || sim_net_has_sniffer (self, name))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS, "a node named '%s' already exists", name);
      return FALSE;
    }
  if (self->sniffers->len >= SIM_NET_MAX_SNIFFERS)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE, "at most %u sniffers",
                   SIM_NET_MAX_SNIFFERS);
      return FALSE;
    }
  sniffer = g_new0 (Sniffer, 1);
  sniffer->name = g_strdup (name);
  sniffer->a = g_strdup (a);
  sniffer->b = g_strdup (b);
  g_ptr_array_add (self->sniffers, sniffer);
  return TRUE;
}

gboolean
sim_net_has_sniffer (SimNet     *self,
                     const char *name)
{
  g_return_val_if_fail (SIM_IS_NET (self), FALSE);
  for (guint i = 0; i < self->sniffers->len; i++)
    if (g_strcmp0 (((Sniffer *) self->sniffers->pdata[i])->name, name) == 0)
      return TRUE;
  return FALSE;
}

gboolean
sim_net_get_sniffer (SimNet      *self,
                     const char  *name,
                     const char **a,
                     const char **b)
{
  g_return_val_if_fail (SIM_IS_NET (self), FALSE);

  for (guint i = 0; i < self->sniffers->len; i++)
    {
      const Sniffer *sniffer = self->sniffers->pdata[i];

      if (g_strcmp0 (sniffer->name, name) != 0)
        continue;
      if (a != NULL)
        *a = sniffer->a;
      if (b != NULL)
        *b = sniffer->b;
      return TRUE;
    }
  return FALSE;
}

GPtrArray *
sim_net_list_sniffers (SimNet *self)
{
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; i < self->sniffers->len; i++)
    g_ptr_array_add (names, g_strdup (((Sniffer *) self->sniffers->pdata[i])->name));
  return names;
}
