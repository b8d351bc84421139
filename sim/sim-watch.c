/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "sim-watch.h"

#include <string.h>

#include "sim-hep.h"

struct _SimWatch {
  GObject parent_instance;

  SimObserver *observer;
  char *auth_key;            /* NULL: any packet is accepted */
  GSocket *socket;
  GSource *source;           /* reads the socket */
  GSource *tick;             /* advances the observer's clock */
  guint8 *buffer;            /* SIM_WATCH_MAX_DATAGRAM + 1: one more tells a longer datagram */
  SimWatchStats stats;
  char *last_drop;
  gint64 sender_offset_us;   /* the sender's clock minus ours, as of the last timestamp */
  gboolean have_offset;
};

enum {
  SIGNAL_DROPPED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

G_DEFINE_TYPE (SimWatch, sim_watch, G_TYPE_OBJECT)
G_DEFINE_QUARK (sim-watch-error-quark, sim_watch_error)

static void
sim_watch_finalize (GObject *object)
{
  SimWatch *self = SIM_WATCH (object);

  sim_watch_stop (self);
  g_clear_object (&self->observer);
  g_free (self->auth_key);
  g_free (self->buffer);
  g_free (self->last_drop);
  G_OBJECT_CLASS (sim_watch_parent_class)->finalize (object);
}

static void
sim_watch_class_init (SimWatchClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = sim_watch_finalize;
  signals[SIGNAL_DROPPED] = g_signal_new ("dropped", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                          0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
}

static void
sim_watch_init (SimWatch *self)
{
  self->buffer = g_malloc (SIM_WATCH_MAX_DATAGRAM + 1);
}

static gboolean
address_error (const char  *spec,
               const char  *why,
               GError     **error)
{
  g_set_error (error, SIM_WATCH_ERROR, SIM_WATCH_ERROR_ADDRESS,
               "'%s': %s (expected udp:IP:PORT, e.g. udp:127.0.0.1:9060 or udp:[::1]:9060)",
               spec, why);
  return FALSE;
}

GInetSocketAddress *
sim_watch_parse_address (const char  *spec,
                         GError     **error)
{
  g_autofree char *host = NULL;
  g_autoptr(GInetAddress) address = NULL;
  const char *rest = spec;
  const char *port_text;
  guint64 port;

  if (g_str_has_prefix (rest, "udp:"))
    rest += 4;
  else if (g_str_has_prefix (rest, "tcp:") || g_str_has_prefix (rest, "tls:"))
    {
      address_error (spec, "only UDP is supported", error);
      return NULL;
    }
  if (rest[0] == '[')
    {
      const char *close = strchr (rest, ']');
      if (close == NULL || close[1] != ':')
        {
          address_error (spec, "an IPv6 address goes in brackets, then :PORT", error);
          return NULL;
        }
      host = g_strndup (rest + 1, close - rest - 1);
      port_text = close + 2;
    }
  else
    {
      const char *colon = strrchr (rest, ':');
      if (colon == NULL)
        {
          address_error (spec, "no port", error);
          return NULL;
        }
      host = g_strndup (rest, colon - rest);
      port_text = colon + 1;
      if (strchr (host, ':') != NULL)
        {
          address_error (spec, "an IPv6 address goes in brackets", error);
          return NULL;
        }
    }
  if (!g_ascii_string_to_unsigned (port_text, 10, 0, 65535, &port, NULL))
    {
      address_error (spec, "the port is not a number from 0 to 65535", error);
      return NULL;
    }
  address = g_inet_address_new_from_string (host);
  if (address == NULL)
    {
      address_error (spec, "the host is not an IP address", error);
      return NULL;
    }
  return G_INET_SOCKET_ADDRESS (g_inet_socket_address_new (address, (guint16) port));
}

/* The sender as "IP:PORT", for the reasons of drops. */
static char *
sender_text (GSocketAddress *from)
{
  g_autofree char *ip = NULL;

  if (from == NULL || !G_IS_INET_SOCKET_ADDRESS (from))
    return g_strdup ("?");
  ip = g_inet_address_to_string (
    g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (from)));
  return g_strdup_printf (strchr (ip, ':') ? "[%s]:%u" : "%s:%u", ip,
                          g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (from)));
}

static void
drop (SimWatch       *self,
      guint64        *counter,
      GSocketAddress *from,
      const char     *why)
{
  g_autofree char *sender = sender_text (from);

  (*counter)++;
  g_free (self->last_drop);
  self->last_drop = g_strdup_printf ("datagram from %s dropped: %s", sender, why);
  g_signal_emit (self, signals[SIGNAL_DROPPED], 0, self->last_drop);
}

/* The time to feed @packet at: its own timestamp, or ours when it has none. */
static gint64
packet_time (SimWatch           *self,
             const SimHepPacket *packet)
{
  gint64 now = g_get_real_time ();
  gint64 t;

  if (packet->ts_sec == 0 && packet->ts_usec == 0)
    return now + (self->have_offset ? self->sender_offset_us : 0);
  t = sim_hep_packet_get_time_us (packet);
  self->sender_offset_us = t - now;
  self->have_offset = TRUE;
  return t;
}

static gboolean
handle_datagram (SimWatch       *self,
                 const guint8   *data,
                 gsize           len,
                 GSocketAddress *from)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SimHepPacket) packet = NULL;
  const char *payload;
  gsize payload_len;

  self->stats.received++;
  if (len > SIM_WATCH_MAX_DATAGRAM)
    {
      drop (self, &self->stats.dropped_large, from, "longer than a HEP packet can be");
      return FALSE;
    }
  packet = sim_hep_decode (data, len, self->auth_key, &error);
  if (packet == NULL)
    {
      if (g_error_matches (error, SIM_HEP_ERROR, SIM_HEP_ERROR_AUTH))
        drop (self, &self->stats.dropped_key, from, "missing or wrong HEP auth key");
      else
        drop (self, &self->stats.dropped_invalid, from, error->message);
      return FALSE;
    }
  /* A missing protocol type (chunk 11) is taken for SIP: the payload is checked anyway. */
  if (packet->proto_type != SIM_HEP_PROTO_SIP && packet->proto_type != 0)
    {
      g_autofree char *why = g_strdup_printf ("HEP protocol type %u is not SIP",
                                              packet->proto_type);
      drop (self, &self->stats.dropped_not_sip, from, why);
      return FALSE;
    }
  payload = g_bytes_get_data (packet->payload, &payload_len);
  if (!sim_observer_feed (self->observer, packet_time (self, packet), &packet->src, &packet->dst,
                          payload, payload_len, &error))
    {
      drop (self, &self->stats.dropped_not_sip, from, error->message);
      return FALSE;
    }
  self->stats.observed++;
  return TRUE;
}

gboolean
sim_watch_handle_datagram (SimWatch     *self,
                           const guint8 *data,
                           gsize         len)
{
  g_return_val_if_fail (SIM_IS_WATCH (self), FALSE);

  return handle_datagram (self, data, len, NULL);
}

/* Reads at most SIM_WATCH_BURST datagrams: a flood must not starve the rest of the loop. */
static gboolean
readable_cb (GSocket      *socket,
             GIOCondition  condition,
             gpointer      user_data)
{
  SimWatch *self = user_data;

  for (guint i = 0; i < SIM_WATCH_BURST; i++)
    {
      g_autoptr(GSocketAddress) from = NULL;
      gssize n;

      n = g_socket_receive_from (socket, &from, (char *) self->buffer,
                                 SIM_WATCH_MAX_DATAGRAM + 1, NULL, NULL);
      if (n < 0)
        break;   /* EAGAIN, or an ICMP error reported on the socket: nothing to read now */
      handle_datagram (self, self->buffer, (gsize) n, from);
    }
  return G_SOURCE_CONTINUE;
}

static gboolean
tick_cb (gpointer user_data)
{
  SimWatch *self = user_data;

  if (sim_observer_get_n_messages (self->observer) > 0)
    sim_observer_advance (self->observer, g_get_real_time () + self->sender_offset_us);
  return G_SOURCE_CONTINUE;
}

SimWatch *
sim_watch_new (SimObserver  *observer,
               const char   *spec,
               const char   *auth_key,
               GError      **error)
{
  g_autoptr(GInetSocketAddress) address = NULL;
  g_autoptr(GSocket) socket = NULL;
  SimWatch *self;

  g_return_val_if_fail (SIM_IS_OBSERVER (observer), NULL);
  g_return_val_if_fail (spec != NULL, NULL);

  address = sim_watch_parse_address (spec, error);
  if (address == NULL)
    return NULL;
  socket = g_socket_new (g_socket_address_get_family (G_SOCKET_ADDRESS (address)),
                         G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, error);
  if (socket == NULL)
    return NULL;
  if (!g_socket_bind (socket, G_SOCKET_ADDRESS (address), FALSE, error))
    {
      g_prefix_error (error, "%s: ", spec);
      return NULL;
    }
  g_socket_set_blocking (socket, FALSE);

  self = g_object_new (SIM_TYPE_WATCH, NULL);
  self->observer = g_object_ref (observer);
  self->auth_key = auth_key != NULL && auth_key[0] != '\0' ? g_strdup (auth_key) : NULL;
  self->socket = g_steal_pointer (&socket);
  self->source = g_socket_create_source (self->socket, G_IO_IN, NULL);
  g_source_set_callback (self->source, G_SOURCE_FUNC (readable_cb), self, NULL);
  g_source_attach (self->source, g_main_context_get_thread_default ());
  self->tick = g_timeout_source_new (SIM_WATCH_TICK_MS);
  g_source_set_callback (self->tick, tick_cb, self, NULL);
  g_source_attach (self->tick, g_main_context_get_thread_default ());
  return self;
}

char *
sim_watch_get_address (SimWatch *self)
{
  g_autoptr(GSocketAddress) local = NULL;
  g_autofree char *ip = NULL;
  GInetSocketAddress *inet;

  g_return_val_if_fail (SIM_IS_WATCH (self), NULL);

  if (self->socket == NULL)
    return NULL;
  local = g_socket_get_local_address (self->socket, NULL);
  if (local == NULL)
    return NULL;
  inet = G_INET_SOCKET_ADDRESS (local);
  ip = g_inet_address_to_string (g_inet_socket_address_get_address (inet));
  return g_strdup_printf (strchr (ip, ':') ? "udp:[%s]:%u" : "udp:%s:%u", ip,
                          g_inet_socket_address_get_port (inet));
}

SimObserver *
sim_watch_get_observer (SimWatch *self)
{
  g_return_val_if_fail (SIM_IS_WATCH (self), NULL);
  return self->observer;
}

const SimWatchStats *
sim_watch_get_stats (SimWatch *self)
{
  g_return_val_if_fail (SIM_IS_WATCH (self), NULL);
  return &self->stats;
}

const char *
sim_watch_get_last_drop (SimWatch *self)
{
  g_return_val_if_fail (SIM_IS_WATCH (self), NULL);
  return self->last_drop;
}

void
sim_watch_stop (SimWatch *self)
{
  g_return_if_fail (SIM_IS_WATCH (self));

  if (self->source != NULL)
    {
      g_source_destroy (self->source);
      g_clear_pointer (&self->source, g_source_unref);
    }
  if (self->tick != NULL)
    {
      g_source_destroy (self->tick);
      g_clear_pointer (&self->tick, g_source_unref);
    }
  if (self->socket != NULL)
    g_socket_close (self->socket, NULL);
  g_clear_object (&self->socket);
}
