/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "sim-hep.h"

#include <arpa/inet.h>
#include <string.h>
#include <zlib.h>

G_DEFINE_QUARK (sim-hep-error-quark, sim_hep_error)

/* The generic vendor's chunk types (HEP3 specification, "Chunk types"). */
enum {
  CHUNK_IP_FAMILY = 1,
  CHUNK_IP_PROTOCOL = 2,
  CHUNK_IPV4_SRC = 3,
  CHUNK_IPV4_DST = 4,
  CHUNK_IPV6_SRC = 5,
  CHUNK_IPV6_DST = 6,
  CHUNK_SRC_PORT = 7,
  CHUNK_DST_PORT = 8,
  CHUNK_TS_SEC = 9,
  CHUNK_TS_USEC = 10,
  CHUNK_PROTO_TYPE = 11,
  CHUNK_CAPTURE_ID = 12,
  CHUNK_AUTH_KEY = 14,
  CHUNK_PAYLOAD = 15,
  CHUNK_COMPRESSED = 16,
  CHUNK_CORRELATION = 17,
};

#define HEP_HEADER 6
#define CHUNK_HEADER 6
#define HEP_FAMILY_INET 2
#define HEP_FAMILY_INET6 10

/* What the chunks said, before they are checked for completeness. */
typedef struct {
  guint seen;                 /* bit per required chunk */
  guint8 src_ip[16];
  guint8 dst_ip[16];
  gboolean src_v6;
  gboolean dst_v6;
  guint16 src_port;
  guint16 dst_port;
} Parts;

enum {
  SEEN_FAMILY = 1 << 0,
  SEEN_SRC = 1 << 1,
  SEEN_DST = 1 << 2,
  SEEN_SRC_PORT = 1 << 3,
  SEEN_DST_PORT = 1 << 4,
  SEEN_PAYLOAD = 1 << 5,
};

static guint16
get16 (const guint8 *p)
{
  return (guint16) ((p[0] << 8) | p[1]);
}

static guint32
get32 (const guint8 *p)
{
  return ((guint32) p[0] << 24) | ((guint32) p[1] << 16) | ((guint32) p[2] << 8) | p[3];
}

gboolean
sim_hep_is_hep (const guint8 *data,
                gsize         len)
{
  return data != NULL && len >= 4 && memcmp (data, "HEP3", 4) == 0;
}

gint64
sim_hep_packet_get_time_us (const SimHepPacket *packet)
{
  return (gint64) packet->ts_sec * G_USEC_PER_SEC + packet->ts_usec;
}

void
sim_hep_packet_free (SimHepPacket *packet)
{
  if (packet == NULL)
    return;
  g_free (packet->auth_key);
  g_free (packet->correlation_id);
  g_clear_pointer (&packet->payload, g_bytes_unref);
  g_free (packet);
}

/* Inflates a zlib stream, refusing more than SIM_HEP_MAX_PAYLOAD bytes out. */
static GBytes *
inflate_payload (const guint8  *data,
                 gsize          len,
                 GError       **error)
{
  g_autofree guint8 *out = g_malloc (SIM_HEP_MAX_PAYLOAD + 1);
  z_stream z = { 0 };
  int rc;
  gsize produced;

  if (inflateInit (&z) != Z_OK)
    {
      g_set_error (error, SIM_HEP_ERROR, SIM_HEP_ERROR_COMPRESSION, "zlib cannot start");
      return NULL;
    }
  z.next_in = (Bytef *) data;
  z.avail_in = (uInt) len;
  z.next_out = out;
  z.avail_out = SIM_HEP_MAX_PAYLOAD + 1;
  rc = inflate (&z, Z_FINISH);
  produced = z.total_out;
  inflateEnd (&z);
  if (produced > SIM_HEP_MAX_PAYLOAD)
    {
      g_set_error (error, SIM_HEP_ERROR, SIM_HEP_ERROR_TOO_LARGE,
                   "compressed payload inflates to more than %d bytes", SIM_HEP_MAX_PAYLOAD);
      return NULL;
    }
  if (rc != Z_STREAM_END)
    {
      g_set_error (error, SIM_HEP_ERROR, SIM_HEP_ERROR_COMPRESSION,
                   "compressed payload does not inflate (zlib %d)", rc);
      return NULL;
    }
  return g_bytes_new (out, produced);
}

/* A chunk holding text (auth key, correlation id): bounded, and cut at a NUL some senders add. */
static char *
chunk_string (const guint8  *value,
              gsize          len,
              const char    *name,
              GError       **error)
{
  if (len > SIM_HEP_MAX_STRING)
    {
      g_set_error (error, SIM_HEP_ERROR, SIM_HEP_ERROR_TOO_LARGE,
                   "%s chunk of %" G_GSIZE_FORMAT " bytes (at most %d)", name, len,
                   SIM_HEP_MAX_STRING);
      return NULL;
    }
  return g_strndup ((const char *) value, len);
}

static gboolean
expect_size (guint         type,
             gsize         len,
             gsize         want,
             GError      **error)
{
  if (len == want)
    return TRUE;
  g_set_error (error, SIM_HEP_ERROR, SIM_HEP_ERROR_BAD_CHUNK,
               "chunk %u has %" G_GSIZE_FORMAT " value bytes, expected %" G_GSIZE_FORMAT,
               type, len, want);
  return FALSE;
}

/* Reads one generic chunk into @packet and @parts. */
static gboolean
read_chunk (SimHepPacket  *packet,
            Parts         *parts,
            guint          type,
            const guint8  *v,
            gsize          len,
            GError       **error)
{
  switch (type)
    {
    case CHUNK_IP_FAMILY:
      if (!expect_size (type, len, 1, error))
        return FALSE;
      packet->ip_family = v[0];
      parts->seen |= SEEN_FAMILY;
      return TRUE;
    case CHUNK_IP_PROTOCOL:
      if (!expect_size (type, len, 1, error))
        return FALSE;
      packet->ip_protocol = v[0];
      return TRUE;
    case CHUNK_IPV4_SRC:
    case CHUNK_IPV4_DST:
    case CHUNK_IPV6_SRC:
    case CHUNK_IPV6_DST:
      {
        gboolean v6 = type == CHUNK_IPV6_SRC || type == CHUNK_IPV6_DST;
        gboolean src = type == CHUNK_IPV4_SRC || type == CHUNK_IPV6_SRC;

        if (!expect_size (type, len, v6 ? 16 : 4, error))
          return FALSE;
        memcpy (src ? parts->src_ip : parts->dst_ip, v, len);
        *(src ? &parts->src_v6 : &parts->dst_v6) = v6;
        parts->seen |= src ? SEEN_SRC : SEEN_DST;
        return TRUE;
      }
    case CHUNK_SRC_PORT:
    case CHUNK_DST_PORT:
      if (!expect_size (type, len, 2, error))
        return FALSE;
      *(type == CHUNK_SRC_PORT ? &parts->src_port : &parts->dst_port) = get16 (v);
      parts->seen |= type == CHUNK_SRC_PORT ? SEEN_SRC_PORT : SEEN_DST_PORT;
      return TRUE;
    case CHUNK_TS_SEC:
    case CHUNK_TS_USEC:
    case CHUNK_CAPTURE_ID:
      if (!expect_size (type, len, 4, error))
        return FALSE;
      if (type == CHUNK_TS_SEC)
        packet->ts_sec = get32 (v);
      else if (type == CHUNK_TS_USEC)
        packet->ts_usec = get32 (v);
      else
        packet->capture_id = get32 (v);
      return TRUE;
    case CHUNK_PROTO_TYPE:
      if (!expect_size (type, len, 1, error))
        return FALSE;
      packet->proto_type = v[0];
      return TRUE;
    case CHUNK_AUTH_KEY:
      g_free (packet->auth_key);
      packet->auth_key = chunk_string (v, len, "auth key", error);
      return packet->auth_key != NULL;
    case CHUNK_CORRELATION:
      g_free (packet->correlation_id);
      packet->correlation_id = chunk_string (v, len, "correlation id", error);
      return packet->correlation_id != NULL;
    case CHUNK_PAYLOAD:
    case CHUNK_COMPRESSED:
      g_clear_pointer (&packet->payload, g_bytes_unref);
      if (type == CHUNK_COMPRESSED)
        packet->payload = inflate_payload (v, len, error);
      else if (len > SIM_HEP_MAX_PAYLOAD)
        g_set_error (error, SIM_HEP_ERROR, SIM_HEP_ERROR_TOO_LARGE,
                     "payload of %" G_GSIZE_FORMAT " bytes (at most %d)", len,
                     SIM_HEP_MAX_PAYLOAD);
      else
        packet->payload = g_bytes_new (v, len);
      packet->compressed = type == CHUNK_COMPRESSED;
      parts->seen |= SEEN_PAYLOAD;
      return packet->payload != NULL;
    default:
      /* The specification: unknown chunks are skipped. */
      return TRUE;
    }
}

static void
set_addr (SimAddr       *addr,
          const guint8  *ip,
          gboolean       v6,
          guint16        port,
          SimTransportKind transport)
{
  char text[INET6_ADDRSTRLEN];

  inet_ntop (v6 ? AF_INET6 : AF_INET, ip, text, sizeof text);
  sim_addr_init (addr, text, port, transport);
}

static gboolean
check_complete (SimHepPacket  *packet,
                Parts         *parts,
                const char    *auth_key,
                GError       **error)
{
  static const struct { guint bit; const char *name; } required[] = {
    { SEEN_FAMILY, "IP family" },
    { SEEN_SRC, "source address" },
    { SEEN_DST, "destination address" },
    { SEEN_SRC_PORT, "source port" },
    { SEEN_DST_PORT, "destination port" },
    { SEEN_PAYLOAD, "payload" },
  };
  SimTransportKind transport;

  for (gsize i = 0; i < G_N_ELEMENTS (required); i++)
    if ((parts->seen & required[i].bit) == 0)
      {
        g_set_error (error, SIM_HEP_ERROR, SIM_HEP_ERROR_MISSING, "no %s chunk",
                     required[i].name);
        return FALSE;
      }
  if (packet->ip_family != HEP_FAMILY_INET && packet->ip_family != HEP_FAMILY_INET6)
    {
      g_set_error (error, SIM_HEP_ERROR, SIM_HEP_ERROR_BAD_CHUNK, "IP family %u",
                   packet->ip_family);
      return FALSE;
    }
  /* Use the addresses as given: a sender that states IPv4 but sends IPv6 chunks is believed
   * on the addresses, which are what the student reads. */
  if (packet->ip_protocol == 0)
    packet->ip_protocol = 17;
  transport = packet->ip_protocol == 6 ? SIM_TRANSPORT_TCP : SIM_TRANSPORT_UDP;
  set_addr (&packet->src, parts->src_ip, parts->src_v6, parts->src_port, transport);
  set_addr (&packet->dst, parts->dst_ip, parts->dst_v6, parts->dst_port, transport);

  /* The auth key is compared whole; a shared secret compared in constant time is not
   * needed here, the key travels in clear text in every packet. */
  if (auth_key != NULL && g_strcmp0 (packet->auth_key, auth_key) != 0)
    {
      g_set_error (error, SIM_HEP_ERROR, SIM_HEP_ERROR_AUTH,
                   packet->auth_key ? "wrong auth key" : "no auth key");
      return FALSE;
    }
  return TRUE;
}

/*
 * HEPv1/v2: struct hep_hdr, hep_iphdr or hep_ip6hdr, and for v2 hep_timehdr, as in Kamailio's
 * sipcapture hep.h; the header length covers hep_hdr and the addresses (Kamailio's receiver
 * checks exactly that), some senders count the time header too.  hep_timehdr is not packed:
 * 12 bytes, its 16-bit capture id followed by 2 bytes of padding (as recorded from Kamailio
 * 5.6 in tests/captures/kamailio-hepv2.bin).
 */
static SimHepPacket *
decode_v1v2 (const guint8  *data,
             gsize          len,
             const char    *auth_key,
             GError       **error)
{
  g_autoptr(SimHepPacket) packet = g_new0 (SimHepPacket, 1);
  gboolean v6;
  gsize addr_len;
  gsize off;
  SimTransportKind transport;

  if (len < 8)
    {
      g_set_error (error, SIM_HEP_ERROR, SIM_HEP_ERROR_TRUNCATED, "HEPv%u header truncated",
                   data[0]);
      return NULL;
    }
  packet->version = data[0];
  packet->ip_family = data[2];
  packet->ip_protocol = data[3];
  v6 = packet->ip_family == HEP_FAMILY_INET6;
  if (packet->ip_family != HEP_FAMILY_INET && !v6)
    {
      g_set_error (error, SIM_HEP_ERROR, SIM_HEP_ERROR_NOT_HEP, "HEPv%u with IP family %u",
                   data[0], packet->ip_family);
      return NULL;
    }
  addr_len = v6 ? 32 : 8;
  off = 8 + addr_len + (packet->version == 2 ? 12 : 0);
  if (data[1] != 8 + addr_len && data[1] != off)
    {
      g_set_error (error, SIM_HEP_ERROR, SIM_HEP_ERROR_BAD_LENGTH,
                   "HEPv%u header length %u (expected %" G_GSIZE_FORMAT ")", data[0], data[1],
                   8 + addr_len);
      return NULL;
    }
  if (len <= off)
    {
      g_set_error (error, SIM_HEP_ERROR, SIM_HEP_ERROR_TRUNCATED, "HEPv%u packet without payload",
                   data[0]);
      return NULL;
    }
  if (len - off > SIM_HEP_MAX_PAYLOAD)
    {
      g_set_error (error, SIM_HEP_ERROR, SIM_HEP_ERROR_TOO_LARGE,
                   "payload of %" G_GSIZE_FORMAT " bytes (at most %d)", len - off,
                   SIM_HEP_MAX_PAYLOAD);
      return NULL;
    }
  transport = packet->ip_protocol == 6 ? SIM_TRANSPORT_TCP : SIM_TRANSPORT_UDP;
  set_addr (&packet->src, data + 8, v6, get16 (data + 4), transport);
  set_addr (&packet->dst, data + 8 + addr_len / 2, v6, get16 (data + 6), transport);
  if (packet->version == 2)
    {
      const guint8 *t = data + 8 + addr_len;

      packet->ts_sec = t[0] | (t[1] << 8) | (t[2] << 16) | ((guint32) t[3] << 24);
      packet->ts_usec = t[4] | (t[5] << 8) | (t[6] << 16) | ((guint32) t[7] << 24);
      packet->capture_id = t[8] | (t[9] << 8);
    }
  packet->proto_type = SIM_HEP_PROTO_SIP;
  packet->payload = g_bytes_new (data + off, len - off);
  if (auth_key != NULL)
    {
      g_set_error (error, SIM_HEP_ERROR, SIM_HEP_ERROR_AUTH, "HEPv%u carries no auth key",
                   data[0]);
      return NULL;
    }
  return g_steal_pointer (&packet);
}

SimHepPacket *
sim_hep_decode (const guint8  *data,
                gsize          len,
                const char    *auth_key,
                GError       **error)
{
  g_autoptr(SimHepPacket) packet = NULL;
  Parts parts = { 0 };
  gsize total;
  gsize off;

  g_return_val_if_fail (data != NULL || len == 0, NULL);

  if (len > 0 && (data[0] == 1 || data[0] == 2))
    return decode_v1v2 (data, len, auth_key, error);
  if (!sim_hep_is_hep (data, len))
    {
      g_set_error (error, SIM_HEP_ERROR, SIM_HEP_ERROR_NOT_HEP, "no HEP3 magic");
      return NULL;
    }
  if (len < HEP_HEADER)
    {
      g_set_error (error, SIM_HEP_ERROR, SIM_HEP_ERROR_TRUNCATED, "HEP header truncated");
      return NULL;
    }
  total = get16 (data + 4);
  if (total < HEP_HEADER)
    {
      g_set_error (error, SIM_HEP_ERROR, SIM_HEP_ERROR_BAD_LENGTH,
                   "HEP length %" G_GSIZE_FORMAT " is shorter than its header", total);
      return NULL;
    }
  if (total > len)
    {
      g_set_error (error, SIM_HEP_ERROR, SIM_HEP_ERROR_TRUNCATED,
                   "HEP length %" G_GSIZE_FORMAT " but only %" G_GSIZE_FORMAT " bytes",
                   total, len);
      return NULL;
    }

  packet = g_new0 (SimHepPacket, 1);
  packet->version = 3;
  for (off = HEP_HEADER; off < total;)
    {
      guint16 vendor;
      guint16 type;
      gsize chunk_len;

      if (total - off < CHUNK_HEADER)
        {
          g_set_error (error, SIM_HEP_ERROR, SIM_HEP_ERROR_TRUNCATED,
                       "chunk header truncated at byte %" G_GSIZE_FORMAT, off);
          return NULL;
        }
      vendor = get16 (data + off);
      type = get16 (data + off + 2);
      chunk_len = get16 (data + off + 4);
      if (chunk_len < CHUNK_HEADER || chunk_len > total - off)
        {
          g_set_error (error, SIM_HEP_ERROR, SIM_HEP_ERROR_BAD_LENGTH,
                       "chunk %u at byte %" G_GSIZE_FORMAT " has length %" G_GSIZE_FORMAT
                       " (%" G_GSIZE_FORMAT " bytes left)", type, off, chunk_len, total - off);
          return NULL;
        }
      if (vendor == 0 && !read_chunk (packet, &parts, type, data + off + CHUNK_HEADER,
                                      chunk_len - CHUNK_HEADER, error))
        return NULL;
      off += chunk_len;
    }
  if (!check_complete (packet, &parts, auth_key, error))
    return NULL;
  return g_steal_pointer (&packet);
}

static void
put_chunk (GByteArray   *out,
           guint16       type,
           const void   *value,
           gsize         len)
{
  guint8 head[CHUNK_HEADER] = { 0, 0, type >> 8, type & 0xff,
                                (len + CHUNK_HEADER) >> 8, (len + CHUNK_HEADER) & 0xff };

  g_byte_array_append (out, head, sizeof head);
  g_byte_array_append (out, value, len);
}

static void
put_u32 (GByteArray *out,
         guint16     type,
         guint32     v)
{
  guint8 b[4] = { v >> 24, (v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff };

  put_chunk (out, type, b, 4);
}

static void
put_u16 (GByteArray *out,
         guint16     type,
         guint16     v)
{
  guint8 b[2] = { v >> 8, v & 0xff };

  put_chunk (out, type, b, 2);
}

/* Writes the family, address and port chunks. */
static gboolean
put_addresses (GByteArray         *out,
               const SimHepPacket *packet,
               GError            **error)
{
  guint8 src[16];
  guint8 dst[16];
  gboolean v6 = strchr (packet->src.ip, ':') != NULL;
  int family = v6 ? AF_INET6 : AF_INET;
  guint8 fam = v6 ? HEP_FAMILY_INET6 : HEP_FAMILY_INET;
  guint8 proto = packet->ip_protocol;

  if (inet_pton (family, packet->src.ip, src) != 1 || inet_pton (family, packet->dst.ip, dst) != 1)
    {
      g_set_error (error, SIM_HEP_ERROR, SIM_HEP_ERROR_BAD_CHUNK,
                   "%s or %s is not an IP address of one family", packet->src.ip,
                   packet->dst.ip);
      return FALSE;
    }
  if (proto == 0)
    proto = packet->src.transport == SIM_TRANSPORT_UDP ? 17 : 6;
  put_chunk (out, CHUNK_IP_FAMILY, &fam, 1);
  put_chunk (out, CHUNK_IP_PROTOCOL, &proto, 1);
  put_chunk (out, v6 ? CHUNK_IPV6_SRC : CHUNK_IPV4_SRC, src, v6 ? 16 : 4);
  put_chunk (out, v6 ? CHUNK_IPV6_DST : CHUNK_IPV4_DST, dst, v6 ? 16 : 4);
  put_u16 (out, CHUNK_SRC_PORT, packet->src.port);
  put_u16 (out, CHUNK_DST_PORT, packet->dst.port);
  return TRUE;
}

GBytes *
sim_hep_encode (const SimHepPacket *packet,
                gboolean            compress,
                GError            **error)
{
  g_autoptr(GByteArray) out = g_byte_array_new ();
  gsize plen = 0;
  const guint8 *pdata = NULL;
  guint8 proto_type;

  g_return_val_if_fail (packet != NULL, NULL);

  g_byte_array_append (out, (const guint8 *) "HEP3\0\0", HEP_HEADER);
  if (!put_addresses (out, packet, error))
    return NULL;
  put_u32 (out, CHUNK_TS_SEC, packet->ts_sec);
  put_u32 (out, CHUNK_TS_USEC, packet->ts_usec);
  proto_type = packet->proto_type ? packet->proto_type : SIM_HEP_PROTO_SIP;
  put_chunk (out, CHUNK_PROTO_TYPE, &proto_type, 1);
  put_u32 (out, CHUNK_CAPTURE_ID, packet->capture_id);
  if (packet->payload != NULL)
    pdata = g_bytes_get_data (packet->payload, &plen);
  if (plen > SIM_HEP_MAX_PAYLOAD
      || (packet->auth_key != NULL && strlen (packet->auth_key) > SIM_HEP_MAX_STRING)
      || (packet->correlation_id != NULL
          && strlen (packet->correlation_id) > SIM_HEP_MAX_STRING))
    {
      g_set_error (error, SIM_HEP_ERROR, SIM_HEP_ERROR_TOO_LARGE,
                   "payload, auth key or correlation id over its limit");
      return NULL;
    }
  if (packet->auth_key != NULL)
    put_chunk (out, CHUNK_AUTH_KEY, packet->auth_key, strlen (packet->auth_key));
  if (compress)
    {
      uLongf zlen = compressBound (plen);
      g_autofree guint8 *z = g_malloc (zlen);

      if (compress2 (z, &zlen, pdata ? pdata : (const guint8 *) "", plen, Z_BEST_SPEED) != Z_OK)
        {
          g_set_error (error, SIM_HEP_ERROR, SIM_HEP_ERROR_COMPRESSION, "zlib failed");
          return NULL;
        }
      pdata = z;
      plen = zlen;
      if (plen + CHUNK_HEADER <= SIM_HEP_MAX_PACKET)
        put_chunk (out, CHUNK_COMPRESSED, pdata, plen);
    }
  else if (plen + CHUNK_HEADER <= SIM_HEP_MAX_PACKET)
    put_chunk (out, CHUNK_PAYLOAD, pdata, plen);
  if (packet->correlation_id != NULL)
    put_chunk (out, CHUNK_CORRELATION, packet->correlation_id,
               strlen (packet->correlation_id));
  /* Each chunk's 16-bit length and the packet's must hold what was written. */
  if (plen + CHUNK_HEADER > SIM_HEP_MAX_PACKET || out->len > SIM_HEP_MAX_PACKET)
    {
      g_set_error (error, SIM_HEP_ERROR, SIM_HEP_ERROR_TOO_LARGE,
                   "HEP packet would be more than %d bytes", SIM_HEP_MAX_PACKET);
      return NULL;
    }
  out->data[4] = out->len >> 8;
  out->data[5] = out->len & 0xff;
  return g_byte_array_free_to_bytes (g_steal_pointer (&out));
}
