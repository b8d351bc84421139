/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "sim-pcap.h"

#include <string.h>

/*
 * pcapng (draft-ietf-opsawg-pcapng): a Section Header Block, one Interface Description Block
 * (LINKTYPE_ETHERNET, default resolution of microseconds) and one Enhanced Packet Block per
 * frame.  Blocks are written in little-endian byte order, which the SHB's byte-order magic
 * announces; the frames inside are in network byte order like any wire capture.
 */

#define BLOCK_SHB 0x0A0D0D0Au
#define BLOCK_IDB 0x00000001u
#define BLOCK_EPB 0x00000006u
#define BYTE_ORDER_MAGIC 0x1A2B3C4Du
#define LINKTYPE_ETHERNET 1
#define OPT_ENDOFOPT 0
#define OPT_SHB_USERAPPL 4
#define OPT_IF_NAME 2

#define ETH_HEADER 14
#define IPV4_HEADER 20
#define IPV6_HEADER 40
#define UDP_HEADER 8

struct _SimPcapWriter {
  GOutputStream *stream;
  guint n_frames;
  guint16 ip_id;
};

G_DEFINE_QUARK (sim-pcap-error-quark, sim_pcap_error)

static void
put_le16 (GByteArray *b,
          guint16     v)
{
  guint8 x[2] = { v & 0xff, v >> 8 };
  g_byte_array_append (b, x, 2);
}

static void
put_le32 (GByteArray *b,
          guint32     v)
{
  guint8 x[4] = { v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, v >> 24 };
  g_byte_array_append (b, x, 4);
}

static void
put_be16 (GByteArray *b,
          guint16     v)
{
  guint8 x[2] = { v >> 8, v & 0xff };
  g_byte_array_append (b, x, 2);
}

static void
set_be16 (GByteArray *b,
          guint       offset,
          guint16     v)
{
  b->data[offset] = v >> 8;
  b->data[offset + 1] = v & 0xff;
}

static void
set_le32 (GByteArray *b,
          guint       offset,
          guint32     v)
{
  b->data[offset] = v & 0xff;
  b->data[offset + 1] = (v >> 8) & 0xff;
  b->data[offset + 2] = (v >> 16) & 0xff;
  b->data[offset + 3] = v >> 24;
}

static void
pad32 (GByteArray *b)
{
  static const guint8 zeros[4] = { 0 };
  g_byte_array_append (b, zeros, (4 - b->len % 4) % 4);
}

static void
put_option (GByteArray *b,
            guint16     code,
            const char *value)
{
  put_le16 (b, code);
  put_le16 (b, strlen (value));
  g_byte_array_append (b, (const guint8 *) value, strlen (value));
  pad32 (b);
}

/* Starts a block; finish_block fills in both length fields. */
static guint
begin_block (GByteArray *b,
             guint32     type)
{
  guint start = b->len;

  put_le32 (b, type);
  put_le32 (b, 0);
  return start;
}

static void
finish_block (GByteArray *b,
              guint       start)
{
  guint32 total;

  pad32 (b);
  total = b->len - start + 4;
  put_le32 (b, total);
  set_le32 (b, start + 4, total);
}

/* RFC 1071 one's-complement sum, continued over several pieces. */
static guint32
sum16 (guint32       sum,
       const guint8 *data,
       gsize         len)
{
  for (gsize i = 0; i + 1 < len; i += 2)
    sum += (data[i] << 8) | data[i + 1];
  if (len % 2 == 1)
    sum += data[len - 1] << 8;
  return sum;
}

static guint16
fold16 (guint32 sum)
{
  while (sum >> 16)
    sum = (sum & 0xffff) + (sum >> 16);
  return ~sum & 0xffff;
}

static gboolean
write_bytes (SimPcapWriter *self,
             GByteArray    *b,
             GError       **error)
{
  return g_output_stream_write_all (self->stream, b->data, b->len, NULL, NULL, error);
}

SimPcapWriter *
sim_pcap_writer_new (GOutputStream  *stream,
                     GError        **error)
{
  g_autoptr(GByteArray) b = g_byte_array_new ();
  SimPcapWriter *self;
  guint start;

  g_return_val_if_fail (G_IS_OUTPUT_STREAM (stream), NULL);

  start = begin_block (b, BLOCK_SHB);
  put_le32 (b, BYTE_ORDER_MAGIC);
  put_le16 (b, 1);                 /* major version */
  put_le16 (b, 0);                 /* minor version */
  put_le32 (b, 0xffffffffu);       /* section length: unknown (-1) */
  put_le32 (b, 0xffffffffu);
  put_option (b, OPT_SHB_USERAPPL, "SIP Lab");
  put_le16 (b, OPT_ENDOFOPT);
  put_le16 (b, 0);
  finish_block (b, start);

  start = begin_block (b, BLOCK_IDB);
  put_le16 (b, LINKTYPE_ETHERNET);
  put_le16 (b, 0);                 /* reserved */
  put_le32 (b, 0);                 /* snaplen: no limit */
  put_option (b, OPT_IF_NAME, "siplab0");
  put_le16 (b, OPT_ENDOFOPT);
  put_le16 (b, 0);
  finish_block (b, start);

  self = g_new0 (SimPcapWriter, 1);
  self->stream = g_object_ref (stream);
  if (!write_bytes (self, b, error))
    {
      sim_pcap_writer_free (self);
      return NULL;
    }
  return self;
}

void
sim_pcap_writer_free (SimPcapWriter *self)
{
  if (self == NULL)
    return;
  g_clear_object (&self->stream);
  g_free (self);
}

guint
sim_pcap_writer_get_n_frames (SimPcapWriter *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->n_frames;
}

/* A made-up, locally administered unicast MAC: 02:00 and the last four bytes of the IP. */
static void
put_mac (GByteArray   *b,
         const guint8 *ip,
         gsize         ip_len)
{
  guint8 mac[6] = { 0x02, 0x00 };

  memcpy (mac + 2, ip + ip_len - 4, 4);
  g_byte_array_append (b, mac, 6);
}

static gboolean
parse_ip (const SimAddr  *addr,
          guint8         *bytes,
          gsize          *len,
          GError        **error)
{
  g_autoptr(GInetAddress) inet = g_inet_address_new_from_string (addr->ip);

  if (inet == NULL)
    {
      g_set_error (error, SIM_PCAP_ERROR, SIM_PCAP_ERROR_BAD_ADDRESS,
                   "'%s' is not an IP address", addr->ip);
      return FALSE;
    }
  *len = g_inet_address_get_native_size (inet);
  memcpy (bytes, g_inet_address_to_bytes (inet), *len);
  return TRUE;
}

gboolean
sim_pcap_writer_add_datagram (SimPcapWriter  *self,
                              SimTime         t,
                              const SimAddr  *src,
                              const SimAddr  *dst,
                              const char     *data,
                              gsize           len,
                              GError        **error)
{
  g_autoptr(GByteArray) frame = g_byte_array_new ();
  g_autoptr(GByteArray) b = g_byte_array_new ();
  guint8 sip[16], dip[16];
  gsize slen, dlen;
  guint ip_start, udp_start;
  guint32 sum;
  guint64 ts;
  guint start;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (src != NULL && dst != NULL, FALSE);
  g_return_val_if_fail (data != NULL || len == 0, FALSE);

  if (!parse_ip (src, sip, &slen, error) || !parse_ip (dst, dip, &dlen, error))
    return FALSE;
  if (slen != dlen)
    {
      g_set_error (error, SIM_PCAP_ERROR, SIM_PCAP_ERROR_BAD_ADDRESS,
                   "%s and %s are not of the same IP version", src->ip, dst->ip);
      return FALSE;
    }
  if (len > 65535 - UDP_HEADER - (slen == 4 ? IPV4_HEADER : 0))
    {
      g_set_error (error, SIM_PCAP_ERROR, SIM_PCAP_ERROR_TOO_LARGE,
                   "a %" G_GSIZE_FORMAT "-byte message does not fit in one UDP datagram", len);
      return FALSE;
    }

  /* Ethernet II */
  put_mac (frame, dip, dlen);
  put_mac (frame, sip, slen);
  put_be16 (frame, slen == 4 ? 0x0800 : 0x86dd);

  ip_start = frame->len;
  if (slen == 4)
    {
      /* IPv4, RFC 791: no options, not fragmented, TTL 64, protocol 17 (UDP). */
      static const guint8 zeros[2] = { 0 };
      guint8 head[2] = { 0x45, 0x00 };

      g_byte_array_append (frame, head, 2);
      put_be16 (frame, IPV4_HEADER + UDP_HEADER + len);
      put_be16 (frame, self->ip_id++);
      put_be16 (frame, 0x0000);                  /* flags, fragment offset */
      head[0] = 64;                              /* TTL */
      head[1] = 17;                              /* UDP */
      g_byte_array_append (frame, head, 2);
      g_byte_array_append (frame, zeros, 2);     /* checksum, below */
      g_byte_array_append (frame, sip, 4);
      g_byte_array_append (frame, dip, 4);
      set_be16 (frame, ip_start + 10, fold16 (sum16 (0, frame->data + ip_start, IPV4_HEADER)));
    }
  else
    {
      /* IPv6, RFC 8200: no extension headers, hop limit 64. */
      guint8 head[4] = { 0x60, 0, 0, 0 };
      guint8 tail[2] = { 17, 64 };

      g_byte_array_append (frame, head, 4);
      put_be16 (frame, UDP_HEADER + len);
      g_byte_array_append (frame, tail, 2);
      g_byte_array_append (frame, sip, 16);
      g_byte_array_append (frame, dip, 16);
    }

  /* UDP, RFC 768, with its checksum over the pseudo-header (mandatory over IPv6). */
  udp_start = frame->len;
  put_be16 (frame, src->port);
  put_be16 (frame, dst->port);
  put_be16 (frame, UDP_HEADER + len);
  put_be16 (frame, 0);
  g_byte_array_append (frame, (const guint8 *) data, len);

  sum = sum16 (0, sip, slen);
  sum = sum16 (sum, dip, dlen);
  sum += 17;
  sum += UDP_HEADER + len;     /* at most 65535: one 16-bit word for IPv4 and IPv6 alike */
  sum = sum16 (sum, frame->data + udp_start, UDP_HEADER + len);
  {
    guint16 check = fold16 (sum);
    set_be16 (frame, udp_start + 6, check == 0 ? 0xffff : check);
  }

  /* Enhanced Packet Block */
  ts = (guint64) SIM_PCAP_EPOCH_UNIX * G_USEC_PER_SEC + (guint64) MAX (t, 0);
  start = begin_block (b, BLOCK_EPB);
  put_le32 (b, 0);                               /* interface 0 */
  put_le32 (b, ts >> 32);
  put_le32 (b, ts & 0xffffffffu);
  put_le32 (b, frame->len);                      /* captured */
  put_le32 (b, frame->len);                      /* on the wire */
  g_byte_array_append (b, frame->data, frame->len);
  finish_block (b, start);

  if (!write_bytes (self, b, error))
    return FALSE;
  self->n_frames++;
  return TRUE;
}

gboolean
sim_pcap_writer_add_event (SimPcapWriter  *self,
                           const SimEvent *event,
                           GError        **error)
{
  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (event != NULL, FALSE);

  if (event->type != SIM_EVENT_PACKET || event->raw == NULL)
    return TRUE;
  if (g_strcmp0 (event->action, "sent") != 0 && g_strcmp0 (event->action, "retransmitted") != 0)
    return TRUE;
  if (event->src.transport != SIM_TRANSPORT_UDP)
    return TRUE;
  return sim_pcap_writer_add_datagram (self, event->t, &event->src, &event->dst, event->raw,
                                       strlen (event->raw), error);
}

static gboolean
write_events (SimPcapWriter  *writer,
              GPtrArray      *events,
              GError        **error)
{
  for (guint i = 0; i < events->len; i++)
    {
      g_autoptr(GError) local_error = NULL;

      if (sim_pcap_writer_add_event (writer, events->pdata[i], &local_error))
        continue;
      /* A datagram that cannot be framed is left out; a stream that fails is fatal. */
      if (local_error->domain != SIM_PCAP_ERROR)
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
    }
  return TRUE;
}

GBytes *
sim_pcap_to_bytes (GPtrArray *events,
                   guint     *n_frames)
{
  g_autoptr(GOutputStream) stream = g_memory_output_stream_new_resizable ();
  g_autoptr(SimPcapWriter) writer = NULL;

  g_return_val_if_fail (events != NULL, NULL);

  writer = sim_pcap_writer_new (stream, NULL);
  g_assert (writer != NULL);
  write_events (writer, events, NULL);
  if (n_frames != NULL)
    *n_frames = writer->n_frames;
  g_output_stream_close (stream, NULL, NULL);
  return g_memory_output_stream_steal_as_bytes (G_MEMORY_OUTPUT_STREAM (stream));
}

gboolean
sim_pcap_write_file (GPtrArray   *events,
                     const char  *path,
                     GError     **error)
{
  g_autoptr(GFile) file = NULL;
  g_autoptr(GFileOutputStream) out = NULL;
  g_autoptr(GOutputStream) buffered = NULL;
  g_autoptr(SimPcapWriter) writer = NULL;

  g_return_val_if_fail (events != NULL, FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  file = g_file_new_for_path (path);
  out = g_file_replace (file, NULL, FALSE, G_FILE_CREATE_NONE, NULL, error);
  if (out == NULL)
    return FALSE;
  buffered = g_buffered_output_stream_new (G_OUTPUT_STREAM (out));
  writer = sim_pcap_writer_new (buffered, error);
  if (writer == NULL || !write_events (writer, events, error))
    return FALSE;
  return g_output_stream_close (buffered, NULL, error);
}
