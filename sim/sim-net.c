/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "sim-net.h"

#include <gio/gio.h>
#include <string.h>

typedef struct {
  guint16 port;
  SimNetReceiveFunc func;
  gpointer user_data;
} Endpoint;

typedef struct {
  char *name;
  char *ip;
  gboolean up;
  GArray *endpoints;   /* Endpoint; a host has one or two */
} Host;

typedef struct {
  SimNet *net;             /* NULL once the net is gone */
  guint timer;
  SimAddr src;
  SimAddr dst;
  char *from;
  char *data;
  gsize len;
} Packet;

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
  guint64 n_sent;
  guint64 n_delivered;
};

G_DEFINE_FINAL_TYPE (SimNet, sim_net, G_TYPE_OBJECT)

static void
host_free (Host *host)
{
  g_free (host->name);
  g_free (host->ip);
  g_array_unref (host->endpoints);
  g_free (host);
}

static void
packet_free (Packet *packet)
{
  if (packet->net != NULL)
    g_hash_table_remove (packet->net->in_flight, packet);
  g_free (packet->from);
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
             const char    *reason)
{
  SimEvent *event;

  if (!sim_trace_is_enabled (self->trace))
    return;
  event = sim_event_new (SIM_EVENT_PACKET, action);
  event->t = sim_clock_now (self->clock);
  sim_event_set_packet (event, from, to, src, dst, data, len);
  event->reason = g_strdup (reason);
  sim_trace_emit (self->trace, event);
}

static void
deliver_cb (gpointer data)
{
  Packet *packet = data;
  SimNet *self = packet->net;
  Host *host = g_hash_table_lookup (self->by_ip, packet->dst.ip);
  g_autofree char *reason = NULL;

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
              self->n_delivered++;
              emit_packet (self, "delivered", packet->from, host->name, &packet->src, &packet->dst,
                           packet->data, packet->len, NULL);
              ep->func (&packet->src, &packet->dst, packet->data, packet->len, ep->user_data);
              return;
            }
        }
      reason = g_strdup_printf ("nothing listens on %s port %u (ICMP port unreachable)",
                                host->name, packet->dst.port);
    }
  emit_packet (self, "dropped", packet->from, host ? host->name : packet->dst.ip, &packet->src,
               &packet->dst, packet->data, packet->len, reason);
}

void
sim_net_send (SimNet        *self,
              const SimAddr *src,
              const SimAddr *dst,
              const char    *data,
              gsize          len,
              gboolean       retransmission)
{
  Host *from = g_hash_table_lookup (self->by_ip, src->ip);
  Host *to = g_hash_table_lookup (self->by_ip, dst->ip);
  const char *from_name = from ? from->name : src->ip;
  const char *to_name = to ? to->name : dst->ip;
  SimLinkParams link;
  SimTime delay;
  Packet *packet;

  g_return_if_fail (SIM_IS_NET (self));

  /* A powered-off host sends nothing. */
  if (from != NULL && !from->up)
    return;
  self->n_sent++;
  emit_packet (self, retransmission ? "retransmitted" : "sent", from_name, to_name, src, dst,
               data, len, NULL);

  sim_net_get_link (self, from ? from->name : NULL, to ? to->name : NULL, &link);
  /* Draw from the seeded GRand in a fixed order (loss, then jitter) to stay deterministic. */
  if (link.loss > 0.0 && g_rand_double (self->rand) < link.loss)
    {
      emit_packet (self, "dropped", from_name, to_name, src, dst, data, len,
                   "lost on the link (simulated packet loss)");
      return;
    }
  delay = link.latency;
  if (link.jitter > 0)
    delay += g_rand_int_range (self->rand, 0, (gint32) MIN (link.jitter, G_MAXINT32 - 1) + 1);

  packet = g_new (Packet, 1);
  packet->net = self;
  packet->src = *src;
  packet->dst = *dst;
  packet->from = g_strdup (from_name);
  packet->data = g_strndup (data, len);
  packet->len = len;
  packet->timer = sim_clock_add (self->clock, delay, deliver_cb, packet, (GDestroyNotify) packet_free);
  g_hash_table_add (self->in_flight, packet);
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
