/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "sim-capture.h"
#include "sim-framing.h"
#include "sim-hep.h"

#include <arpa/inet.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <string.h>

G_DEFINE_QUARK (sim-capture-error-quark, sim_capture_error)

/* The network-layer addresses of one packet, as bytes (IPv4 in the first 4). */
typedef struct {
  gboolean v6;
  guint8 src[16];
  guint8 dst[16];
} NetAddrs;

/* One direction of a TCP connection.  Keys are zeroed before filling (padding is hashed). */
typedef struct {
  guint8 v6;
  guint8 src[16];
  guint8 dst[16];
  guint16 sport;
  guint16 dport;
} StreamKey;

typedef struct {
  guint32 seq;
  GBytes *data;
} Segment;

typedef struct {
  StreamKey key;
  SimAddr src;
  SimAddr dst;
  guint32 next_seq;
  gboolean have_seq;
  gboolean syn;           /* the SYN was seen, its sequence number is isn */
  guint32 isn;
  gboolean fin;           /* the FIN was seen; the stream ends at fin_seq */
  guint32 fin_seq;
  SimFramer *framer;      /* NULL: between SIP messages after an error, or not SIP yet */
  gboolean sip;           /* a SIP message came out of this stream */
  GArray *pending;        /* Segment, sorted by seq: data ahead of next_seq */
  gsize pending_bytes;
  gsize held;             /* pending_bytes plus the framer's buffer, as counted in held_total */
  GList lru;              /* link in SimCaptureReader.lru, data = this stream */
} Stream;

/* One IP datagram being reassembled from fragments. */
typedef struct {
  guint8 v6;
  guint8 src[16];
  guint8 dst[16];
  guint8 proto;
  guint32 id;
} FragKey;

#define FRAG_BLOCKS (SIM_CAPTURE_MAX_IP_DATAGRAM / 8 + 1)

typedef struct {
  FragKey key;
  GByteArray *buf;
  guint8 covered[(FRAG_BLOCKS + 7) / 8];  /* one bit per 8-byte block (RFC 791 offsets) */
  guint n_covered;
  gsize total;            /* payload length, known once the last fragment came; else 0 */
  gboolean have_last;
  gint64 first_time;
  guint64 first_packet;
  GList order;            /* link in SimCaptureReader.frag_order, oldest at the head */
} Datagram;

struct _SimCaptureReader {
  int link_type;
  SimCaptureFunc func;
  SimCaptureProblemFunc problem_func;
  gpointer user_data;
  char *hep_auth_key;
  guint64 frame;
  gint64 now;
  gboolean snapped;       /* the frame being read was captured shorter than it was */
  SimCaptureStats stats;
  GHashTable *streams;    /* StreamKey* -> Stream* (owned) */
  GQueue lru;             /* most recently used first */
  gsize held_total;       /* bytes waiting in all streams */
  GHashTable *fragments;  /* FragKey* -> Datagram* (owned) */
  GQueue frag_order;
  gsize frag_bytes;
};

/* Times are clamped to ±2^40 s (35,000 years), so differences of two never overflow. */
#define TIME_LIMIT_S (G_GINT64_CONSTANT (1) << 40)
#define TIME_LIMIT_US (TIME_LIMIT_S * G_USEC_PER_SEC)

static void handle_ip (SimCaptureReader *self, const guint8 *p, gsize len, int version);

/* FNV-1a over a zeroed key struct. */
static guint
key_hash (gconstpointer key,
          gsize         size)
{
  const guint8 *p = key;
  guint32 h = 2166136261u;

  for (gsize i = 0; i < size; i++)
    h = (h ^ p[i]) * 16777619u;
  return h;
}

static guint
stream_key_hash (gconstpointer key)
{
  return key_hash (key, sizeof (StreamKey));
}

static gboolean
stream_key_equal (gconstpointer a,
                  gconstpointer b)
{
  return memcmp (a, b, sizeof (StreamKey)) == 0;
}

static guint
frag_key_hash (gconstpointer key)
{
  return key_hash (key, sizeof (FragKey));
}

static gboolean
frag_key_equal (gconstpointer a,
                gconstpointer b)
{
  return memcmp (a, b, sizeof (FragKey)) == 0;
}

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

static void
problem (SimCaptureReader *self,
         guint64           packet,
         const char       *format,
         ...) G_GNUC_PRINTF (3, 4);

static void
problem (SimCaptureReader *self,
         guint64           packet,
         const char       *format,
         ...)
{
  g_autofree char *what = NULL;
  va_list args;

  self->stats.problems++;
  if (self->problem_func == NULL)
    return;
  va_start (args, format);
  what = g_strdup_vprintf (format, args);
  va_end (args);
  self->problem_func (packet, what, self->user_data);
}

static void
set_addr (SimAddr          *addr,
          gboolean          v6,
          const guint8     *ip,
          guint16           port,
          SimTransportKind  transport)
{
  char text[INET6_ADDRSTRLEN];

  inet_ntop (v6 ? AF_INET6 : AF_INET, ip, text, sizeof text);
  sim_addr_init (addr, text, port, transport);
}

static void
deliver (SimCaptureReader *self,
         const SimAddr    *src,
         const SimAddr    *dst,
         gint64            time_us,
         const char       *data,
         gsize             len,
         gboolean          from_hep)
{
  SimCapturedMessage m = {
    .packet = self->frame,
    .time_us = time_us,
    .src = *src,
    .dst = *dst,
    .data = data,
    .len = len,
    .from_hep = from_hep,
  };

  self->stats.messages++;
  if (from_hep)
    self->stats.hep_messages++;
  if (self->func != NULL)
    self->func (&m, self->user_data);
}

static gboolean
is_token_char (guint8 c)
{
  return g_ascii_isalnum (c) || strchr ("-.!%*_+`'~", c) != NULL;
}

/*
 * Whether @data begins a SIP message: a status line "SIP/2.0 NNN" or a request line
 * "METHOD SP Request-URI SP SIP/2.0" (RFC 3261 §7.1, §7.2).  A first line that has not ended
 * within @data is judged on its prefix only when @prefix_ok (a TCP segment; the framer judges
 * the whole line later); a UDP datagram must hold its whole first line.
 */
static gboolean
looks_like_sip (const guint8 *data,
                gsize         len,
                gboolean      prefix_ok)
{
  gsize limit = MIN (len, 1024);
  gsize line = 0;
  gsize i;

  while (line < limit && data[line] != '\r' && data[line] != '\n')
    line++;
  if (line == limit && !prefix_ok)
    return FALSE;
  if (line >= 12 && memcmp (data, "SIP/2.0 ", 8) == 0)
    return g_ascii_isdigit (data[8]) && g_ascii_isdigit (data[9]) && g_ascii_isdigit (data[10]);
  if (line < 8 && len >= 8 && memcmp (data, "SIP/2.0 ", 8) == 0)
    return FALSE;
  for (i = 0; i < line && is_token_char (data[i]); i++)
    ;
  if (i == 0 || !g_ascii_isupper (data[0]))
    return FALSE;
  if (line == limit)
    return i == line || data[i] == ' ';
  return i < line && data[i] == ' ' && line > i + 9
         && memcmp (data + line - 8, " SIP/2.0", 8) == 0;
}

/* ------------------------------------------------------------------------------------------
 * HEP and UDP
 */

static void
handle_hep (SimCaptureReader *self,
            const guint8     *data,
            gsize             len)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SimHepPacket) hep = sim_hep_decode (data, len, self->hep_auth_key, &error);
  const char *payload;
  gsize plen;
  gint64 time_us;

  if (hep == NULL)
    {
      problem (self, self->frame, "HEP packet refused: %s", error->message);
      return;
    }
  /* HEP also carries RTCP, logs and QoS reports: only SIP is for us. */
  if (hep->proto_type != SIM_HEP_PROTO_SIP)
    return;
  payload = g_bytes_get_data (hep->payload, &plen);
  if (!looks_like_sip ((const guint8 *) payload, plen, FALSE))
    {
      problem (self, self->frame, "HEP packet says SIP but its payload is no SIP message");
      return;
    }
  time_us = hep->ts_sec != 0 ? sim_hep_packet_get_time_us (hep) : self->now;
  deliver (self, &hep->src, &hep->dst, time_us, payload, plen, TRUE);
}

static void
handle_udp (SimCaptureReader *self,
            const NetAddrs   *net,
            const guint8     *p,
            gsize             len)
{
  guint16 ulen;
  SimAddr src;
  SimAddr dst;

  if (len < 8)
    {
      problem (self, self->frame, "UDP header truncated (%" G_GSIZE_FORMAT " bytes)", len);
      return;
    }
  ulen = get16 (p + 4);
  if (ulen < 8)
    {
      problem (self, self->frame, "bogus UDP length %u", ulen);
      return;
    }
  if (ulen > len)
    {
      problem (self, self->frame, "UDP length %u but %" G_GSIZE_FORMAT " bytes captured",
               ulen, len);
      return;
    }
  p += 8;
  len = ulen - 8;
  if (sim_hep_is_hep (p, len))
    {
      handle_hep (self, p, len);
      return;
    }
  if (!looks_like_sip (p, len, FALSE))
    return;
  set_addr (&src, net->v6, net->src, get16 (p - 8), SIM_TRANSPORT_UDP);
  set_addr (&dst, net->v6, net->dst, get16 (p - 6), SIM_TRANSPORT_UDP);
  deliver (self, &src, &dst, self->now, (const char *) p, len, FALSE);
}

/* ------------------------------------------------------------------------------------------
 * TCP streams
 */

static void
stream_free (Stream *s)
{
  g_clear_pointer (&s->framer, sim_framer_free);
  for (guint i = 0; i < s->pending->len; i++)
    g_bytes_unref (g_array_index (s->pending, Segment, i).data);
  g_array_unref (s->pending);
  g_free (s);
}

static void
stream_remove (SimCaptureReader *self,
               Stream           *s,
               const char       *why)
{
  if (why != NULL && s->framer != NULL && sim_framer_in_message (s->framer))
    {
      char a[64], b[64];

      sim_addr_format (&s->src, a, sizeof a);
      sim_addr_format (&s->dst, b, sizeof b);
      problem (self, self->frame, "TCP stream %s -> %s %s in the middle of a SIP message",
               a, b, why);
    }
  self->held_total -= s->held;
  g_queue_unlink (&self->lru, &s->lru);
  g_hash_table_remove (self->streams, &s->key);
  self->stats.streams = g_hash_table_size (self->streams);
}

/*
 * Counts what @s holds now, and bounds what all streams hold together: the streams not heard
 * from for longest give their bytes up first.
 */
static void
stream_account (SimCaptureReader *self,
                Stream           *s)
{
  gsize held = s->pending_bytes + (s->framer ? sim_framer_get_buffered (s->framer) : 0);
  Stream *oldest;

  self->held_total = self->held_total - s->held + held;
  s->held = held;
  while (self->held_total > SIM_CAPTURE_MAX_HELD_BYTES
         && (oldest = g_queue_peek_tail (&self->lru)) != s)
    {
      char a[64], b[64];

      sim_addr_format (&oldest->src, a, sizeof a);
      sim_addr_format (&oldest->dst, b, sizeof b);
      problem (self, self->frame, "TCP stream %s -> %s dropped with %" G_GSIZE_FORMAT
               " bytes waiting (too many bytes waiting in TCP streams)", a, b, oldest->held);
      stream_remove (self, oldest, NULL);
    }
}

static Stream *
stream_new (SimCaptureReader *self,
            const StreamKey  *key)
{
  Stream *s = g_new0 (Stream, 1);

  s->key = *key;
  set_addr (&s->src, key->v6, key->src, key->sport, SIM_TRANSPORT_TCP);
  set_addr (&s->dst, key->v6, key->dst, key->dport, SIM_TRANSPORT_TCP);
  s->pending = g_array_new (FALSE, FALSE, sizeof (Segment));
  s->lru.data = s;
  g_hash_table_insert (self->streams, &s->key, s);
  g_queue_push_head_link (&self->lru, &s->lru);
  /* Bounded: the stream not heard from for longest makes room. */
  if (g_hash_table_size (self->streams) > SIM_CAPTURE_MAX_STREAMS)
    stream_remove (self, g_queue_peek_tail (&self->lru), "dropped (too many TCP streams)");
  self->stats.streams = g_hash_table_size (self->streams);
  return s;
}

static void
stream_problem (SimCaptureReader *self,
                Stream           *s,
                const char       *what)
{
  char a[64], b[64];

  sim_addr_format (&s->src, a, sizeof a);
  sim_addr_format (&s->dst, b, sizeof b);
  problem (self, self->frame, "TCP stream %s -> %s: %s", a, b, what);
}

/* Feeds in-order bytes to the stream's framer and delivers what it cuts. */
static void
stream_push (SimCaptureReader *self,
             Stream           *s,
             const guint8     *data,
             gsize             len)
{
  const char *msg;
  gsize msg_len;
  SimFramerError err;

  s->next_seq += (guint32) len;
  if (s->framer == NULL)
    {
      /* Start (or resume after a gap or an error) only where a SIP message begins. */
      if (!looks_like_sip (data, len, TRUE))
        return;
      s->framer = sim_framer_new (SIM_CAPTURE_MAX_MESSAGE);
    }
  sim_framer_push (s->framer, data, len);
  for (;;)
    switch (sim_framer_next (s->framer, &msg, &msg_len, &err))
      {
      case SIM_FRAMER_MESSAGE:
        s->sip = TRUE;
        /* The framer cuts by Content-Length and lets through start lines the stack would
         * refuse later (a stray CR before a method): deliver only what begins like SIP. */
        if (looks_like_sip ((const guint8 *) msg, msg_len, FALSE))
          deliver (self, &s->src, &s->dst, self->now, msg, msg_len, FALSE);
        else
          stream_problem (self, s, "a message that begins with no request or status line "
                          "(skipped)");
        break;
      case SIM_FRAMER_PONG:
        break;
      case SIM_FRAMER_ERROR:
        if (s->sip || err != SIM_FRAMER_ERROR_NOT_SIP)
          {
            g_autofree char *what = g_strdup_printf ("%s; skipping to the next message",
                                                     sim_framer_error_to_string (err));

            stream_problem (self, s, what);
          }
        g_clear_pointer (&s->framer, sim_framer_free);
        return;
      case SIM_FRAMER_NEED_MORE:
      default:
        return;
      }
}

/* Pushes the waiting segments that have become contiguous with next_seq. */
static void
stream_drain_pending (SimCaptureReader *self,
                      Stream           *s)
{
  while (s->pending->len > 0)
    {
      Segment seg = g_array_index (s->pending, Segment, 0);
      gint32 d = (gint32) (seg.seq - s->next_seq);
      gsize len;
      const guint8 *data;

      if (d > 0)
        return;
      g_array_remove_index (s->pending, 0);
      data = g_bytes_get_data (seg.data, &len);
      s->pending_bytes -= len;
      if ((gsize) -(gint64) d < len)
        stream_push (self, s, data + (-(gint64) d), len - (gsize) (-(gint64) d));
      g_bytes_unref (seg.data);
    }
}

/* Keeps a segment that is ahead of next_seq, sorted; FALSE when it does not fit. */
static gboolean
stream_hold (Stream       *s,
             guint32       seq,
             const guint8 *data,
             gsize         len)
{
  Segment seg;
  guint i;

  if (s->pending->len >= SIM_CAPTURE_TCP_MAX_PENDING
      || (guint32) (seq - s->next_seq) + len > SIM_CAPTURE_TCP_WINDOW)
    return FALSE;
  for (i = 0; i < s->pending->len; i++)
    {
      Segment *other = &g_array_index (s->pending, Segment, i);

      if ((gint32) (seq - other->seq) < 0)
        break;
    }
  seg.seq = seq;
  seg.data = g_bytes_new (data, len);
  s->pending_bytes += len;
  g_array_insert_val (s->pending, i, seg);
  return TRUE;
}

static void
stream_segment (SimCaptureReader *self,
                Stream           *s,
                guint32           seq,
                const guint8     *data,
                gsize             len)
{
  gint32 d;

  if (!s->have_seq)
    {
      s->next_seq = seq;
      s->have_seq = TRUE;
    }
  d = (gint32) (seq - s->next_seq);
  if (d < 0)
    {
      /* A retransmission, or an overlap: only the bytes not seen yet count. */
      if ((gint64) -(gint64) d >= (gint64) len)
        return;
      data += -(gint64) d;
      len -= (gsize) -(gint64) d;
      d = 0;
    }
  if (d == 0)
    {
      stream_push (self, s, data, len);
      stream_drain_pending (self, s);
      return;
    }
  if (stream_hold (s, seq, data, len))
    return;

  /* The gap did not fill within the window: give its bytes up and resume at the earliest
   * segment held (or this one). */
  {
    char a[64], b[64];
    guint32 resume = seq;

    if (s->pending->len > 0
        && (gint32) (g_array_index (s->pending, Segment, 0).seq - seq) < 0)
      resume = g_array_index (s->pending, Segment, 0).seq;
    sim_addr_format (&s->src, a, sizeof a);
    sim_addr_format (&s->dst, b, sizeof b);
    problem (self, self->frame, "TCP stream %s -> %s lost %u bytes (not captured)", a, b,
             (guint32) (resume - s->next_seq));
    g_clear_pointer (&s->framer, sim_framer_free);
    s->next_seq = resume;
    stream_drain_pending (self, s);
    stream_segment (self, s, seq, data, len);
  }
}

static void
handle_tcp (SimCaptureReader *self,
            const NetAddrs   *net,
            const guint8     *p,
            gsize             len)
{
  StreamKey key;
  Stream *s;
  gsize doff;
  guint8 flags;
  guint32 seq;

  if (len < 20)
    {
      problem (self, self->frame, "TCP header truncated (%" G_GSIZE_FORMAT " bytes)", len);
      return;
    }
  doff = (p[12] >> 4) * 4;
  if (doff < 20 || doff > len)
    {
      problem (self, self->frame, "bogus TCP header length %" G_GSIZE_FORMAT, doff);
      return;
    }
  flags = p[13];
  seq = get32 (p + 4);
  memset (&key, 0, sizeof key);
  key.v6 = net->v6;
  memcpy (key.src, net->src, 16);
  memcpy (key.dst, net->dst, 16);
  key.sport = get16 (p);
  key.dport = get16 (p + 2);
  s = g_hash_table_lookup (self->streams, &key);

  /* SYN: a new connection, whose data starts after the SYN's number; a retransmitted SYN
   * (same number) changes nothing. */
  if ((flags & 0x02) && !(s != NULL && s->syn && s->isn == seq))
    {
      if (s != NULL)
        stream_remove (self, s, "restarted (SYN)");
      s = stream_new (self, &key);
      s->next_seq = seq + 1;
      s->have_seq = TRUE;
      s->syn = TRUE;
      s->isn = seq;
    }
  if (flags & 0x02)
    seq++;
  if (s == NULL && len > doff)
    s = stream_new (self, &key);
  if (s == NULL)
    return;
  g_queue_unlink (&self->lru, &s->lru);
  g_queue_push_head_link (&self->lru, &s->lru);
  if (len > doff)
    {
      stream_segment (self, s, seq, p + doff, len - doff);
      stream_account (self, s);
    }
  if (flags & 0x04)
    {
      stream_remove (self, s, "reset");
      return;
    }
  /* A FIN ends the stream once every byte before it has come: a retransmission may still
   * fill a gap after the FIN was captured. */
  if ((flags & 0x01) && !s->fin)
    {
      s->fin = TRUE;
      s->fin_seq = seq + (guint32) (len - doff);
    }
  if (s->fin && s->have_seq && (gint32) (s->fin_seq - s->next_seq) <= 0)
    stream_remove (self, s, "closed");
}

/* ------------------------------------------------------------------------------------------
 * IP fragments
 */

static void
datagram_free (Datagram *dg)
{
  g_byte_array_unref (dg->buf);
  g_free (dg);
}

static void
datagram_remove (SimCaptureReader *self,
                 Datagram         *dg,
                 const char       *why)
{
  if (why != NULL)
    {
      char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];

      inet_ntop (dg->key.v6 ? AF_INET6 : AF_INET, dg->key.src, a, sizeof a);
      inet_ntop (dg->key.v6 ? AF_INET6 : AF_INET, dg->key.dst, b, sizeof b);
      problem (self, dg->first_packet, "IPv%d datagram %u from %s to %s %s",
               dg->key.v6 ? 6 : 4, dg->key.id, a, b, why);
    }
  self->frag_bytes -= dg->buf->len;
  g_queue_unlink (&self->frag_order, &dg->order);
  g_hash_table_remove (self->fragments, &dg->key);
  self->stats.fragmented = g_hash_table_size (self->fragments);
}

static const char *
snapped_note (SimCaptureReader *self)
{
  return self->snapped ? " (the capture's snapshot length cut the frame)" : "";
}

/* Every block before the last fragment's end is there (blocks past it, from fragments that
 * disagree about the end, do not count). */
static gboolean
datagram_complete (const Datagram *dg)
{
  gsize blocks = (dg->total + 7) / 8;

  if (!dg->have_last || dg->n_covered < blocks)
    return FALSE;
  for (gsize b = 0; b < blocks; b++)
    if (!(dg->covered[b / 8] & (1u << (b % 8))))
      return FALSE;
  return TRUE;
}

static void
expire_fragments (SimCaptureReader *self)
{
  Datagram *dg;

  while ((dg = g_queue_peek_head (&self->frag_order)) != NULL
         && self->now - dg->first_time > SIM_CAPTURE_FRAGMENT_TIMEOUT)
    datagram_remove (self, dg, "never completed (fragments missing)");
}

static void
handle_transport (SimCaptureReader *self,
                  const NetAddrs   *net,
                  guint8            proto,
                  const guint8     *p,
                  gsize             len)
{
  if (proto == 17)
    handle_udp (self, net, p, len);
  else if (proto == 6)
    handle_tcp (self, net, p, len);
}

/*
 * Adds a fragment (RFC 791 §3.2 for IPv4, RFC 8200 §4.5 for IPv6: offsets in 8-byte units) and
 * hands the datagram on once every block up to the last fragment's end has arrived.
 */
static void
handle_fragment (SimCaptureReader *self,
                 const NetAddrs   *net,
                 guint8            proto,
                 guint32           id,
                 gsize             offset,
                 gboolean          more,
                 const guint8     *p,
                 gsize             len)
{
  FragKey key;
  Datagram *dg;
  gsize end = offset + len;

  memset (&key, 0, sizeof key);
  key.v6 = net->v6;
  memcpy (key.src, net->src, 16);
  memcpy (key.dst, net->dst, 16);
  key.proto = proto;
  key.id = id;
  dg = g_hash_table_lookup (self->fragments, &key);
  if (end > SIM_CAPTURE_MAX_IP_DATAGRAM)
    {
      problem (self, self->frame, "IP fragment ends at byte %" G_GSIZE_FORMAT " (at most %d)",
               end, SIM_CAPTURE_MAX_IP_DATAGRAM);
      if (dg != NULL)
        datagram_remove (self, dg, NULL);
      return;
    }
  if (dg == NULL)
    {
      dg = g_new0 (Datagram, 1);
      dg->key = key;
      dg->buf = g_byte_array_new ();
      dg->first_time = self->now;
      dg->first_packet = self->frame;
      dg->order.data = dg;
      g_hash_table_insert (self->fragments, &dg->key, dg);
      g_queue_push_tail_link (&self->frag_order, &dg->order);
    }
  if (!more)
    {
      dg->have_last = TRUE;
      dg->total = end;
    }
  if (end > dg->buf->len)
    {
      gsize old = dg->buf->len;

      g_byte_array_set_size (dg->buf, end);
      memset (dg->buf->data + old, 0, end - old);
      self->frag_bytes += end - old;
    }
  /* An empty fragment adds nothing (and an empty array has no data to offset into). */
  if (len > 0)
    memcpy (dg->buf->data + offset, p, len);
  for (gsize b = offset / 8; b < (end + 7) / 8; b++)
    if (!(dg->covered[b / 8] & (1u << (b % 8))))
      {
        dg->covered[b / 8] |= 1u << (b % 8);
        dg->n_covered++;
      }
  self->stats.fragmented = g_hash_table_size (self->fragments);

  if (datagram_complete (dg))
    {
      g_autoptr(GByteArray) buf = g_byte_array_ref (dg->buf);
      gsize total = dg->total;

      datagram_remove (self, dg, NULL);
      if (total == 0)
        problem (self, self->frame, "IP fragments make a datagram of no bytes");
      else
        handle_transport (self, net, proto, buf->data, MIN (total, buf->len));
      return;
    }
  /* Bounded: the oldest incomplete datagrams make room. */
  while (g_hash_table_size (self->fragments) > SIM_CAPTURE_MAX_FRAGMENTED
         || self->frag_bytes > SIM_CAPTURE_MAX_FRAGMENT_BYTES)
    datagram_remove (self, g_queue_peek_head (&self->frag_order),
                     "dropped (too many fragments waiting)");
}

/* ------------------------------------------------------------------------------------------
 * IP
 */

static void
handle_ipv4 (SimCaptureReader *self,
             const guint8     *p,
             gsize             len)
{
  NetAddrs net = { 0 };
  gsize ihl;
  gsize total;
  guint16 frag;

  if (len < 20)
    {
      problem (self, self->frame, "IPv4 header truncated (%" G_GSIZE_FORMAT " bytes)", len);
      return;
    }
  ihl = (p[0] & 0x0f) * 4;
  total = get16 (p + 2);
  if (ihl < 20 || total < ihl)
    {
      problem (self, self->frame, "bogus IPv4 lengths (header %" G_GSIZE_FORMAT ", total %"
               G_GSIZE_FORMAT ")", ihl, total);
      return;
    }
  if (total > len)
    {
      problem (self, self->frame, "IPv4 packet of %" G_GSIZE_FORMAT " bytes, %" G_GSIZE_FORMAT
               " captured%s", total, len, snapped_note (self));
      return;
    }
  memcpy (net.src, p + 12, 4);
  memcpy (net.dst, p + 16, 4);
  frag = get16 (p + 6);
  if ((frag & 0x3fff) != 0)   /* MF set or a non-zero offset */
    handle_fragment (self, &net, p[9], get16 (p + 4), (gsize) (frag & 0x1fff) * 8,
                     (frag & 0x2000) != 0, p + ihl, total - ihl);
  else
    handle_transport (self, &net, p[9], p + ihl, total - ihl);
}

/* Walks the extension headers (RFC 8200 §4) up to UDP, TCP or a fragment header. */
static void
handle_ipv6 (SimCaptureReader *self,
             const guint8     *p,
             gsize             len)
{
  NetAddrs net = { .v6 = TRUE };
  gsize off = 40;
  gsize total;
  guint8 next;

  if (len < 40)
    {
      problem (self, self->frame, "IPv6 header truncated (%" G_GSIZE_FORMAT " bytes)", len);
      return;
    }
  total = 40 + (gsize) get16 (p + 4);
  if (total == 40 && p[6] == 0)
    return;   /* A jumbogram (RFC 2675): never SIP. */
  if (total > len)
    {
      problem (self, self->frame, "IPv6 packet of %" G_GSIZE_FORMAT " bytes, %" G_GSIZE_FORMAT
               " captured%s", total, len, snapped_note (self));
      return;
    }
  memcpy (net.src, p + 8, 16);
  memcpy (net.dst, p + 24, 16);
  next = p[6];
  for (guint n = 0; n < 16; n++)
    {
      gsize hlen;

      if (next == 0 || next == 43 || next == 60 || next == 51)
        {
          if (total - off < 8)
            break;
          hlen = next == 51 ? ((gsize) p[off + 1] + 2) * 4 : ((gsize) p[off + 1] + 1) * 8;
          if (hlen > total - off)
            break;
          next = p[off];
          off += hlen;
          continue;
        }
      if (next == 44)
        {
          guint16 fo;

          if (total - off < 8)
            break;
          fo = get16 (p + off + 2);
          handle_fragment (self, &net, p[off], get32 (p + off + 4), fo & 0xfff8,
                           (fo & 1) != 0, p + off + 8, total - off - 8);
          return;
        }
      handle_transport (self, &net, next, p + off, total - off);
      return;
    }
  problem (self, self->frame, "IPv6 extension headers truncated");
}

static void
handle_ip (SimCaptureReader *self,
           const guint8     *p,
           gsize             len,
           int               version)
{
  if (version == 0 && len > 0)
    version = p[0] >> 4;
  if (version == 4)
    handle_ipv4 (self, p, len);
  else if (version == 6)
    handle_ipv6 (self, p, len);
}

/* ------------------------------------------------------------------------------------------
 * Link layers
 */

static int
ethertype_version (guint16 type)
{
  return type == 0x0800 ? 4 : type == 0x86dd ? 6 : -1;
}

static int
bsd_family_version (guint32 family)
{
  /* AF_INET is 2 everywhere; AF_INET6 is 24 (NetBSD, OpenBSD), 28 (FreeBSD), 30 (macOS). */
  if (family == 2)
    return 4;
  if (family == 24 || family == 28 || family == 30 || family == 10)
    return 6;
  return -1;
}

static void
handle_ethernet (SimCaptureReader *self,
                 const guint8     *p,
                 gsize             len)
{
  gsize off = 14;
  guint16 type;
  guint tags = 0;

  if (len < 14)
    {
      problem (self, self->frame, "Ethernet header truncated (%" G_GSIZE_FORMAT " bytes)", len);
      return;
    }
  type = get16 (p + 12);
  /* 802.1Q and 802.1ad (QinQ, also the older 0x9100) tags: 4 bytes each. */
  while (type == 0x8100 || type == 0x88a8 || type == 0x9100)
    {
      if (++tags > SIM_CAPTURE_MAX_VLAN_TAGS)
        {
          problem (self, self->frame, "more than %d VLAN tags", SIM_CAPTURE_MAX_VLAN_TAGS);
          return;
        }
      if (len - off < 4)
        {
          problem (self, self->frame, "VLAN tag truncated");
          return;
        }
      type = get16 (p + off + 2);
      off += 4;
    }
  if (ethertype_version (type) > 0)
    handle_ip (self, p + off, len - off, ethertype_version (type));
}

static void
handle_link (SimCaptureReader *self,
             const guint8     *p,
             gsize             len)
{
  guint32 le;
  int version;

  switch (self->link_type)
    {
    case SIM_CAPTURE_LINK_ETHERNET:
      handle_ethernet (self, p, len);
      return;
    case SIM_CAPTURE_LINK_NULL:
    case SIM_CAPTURE_LINK_LOOP:
      if (len < 4)
        break;
      /* NULL is in the capturing machine's byte order: try both. */
      le = p[0] | (p[1] << 8) | ((guint32) p[2] << 16) | ((guint32) p[3] << 24);
      version = self->link_type == SIM_CAPTURE_LINK_NULL ? bsd_family_version (le) : -1;
      if (version < 0)
        version = bsd_family_version (get32 (p));
      if (version > 0)
        handle_ip (self, p + 4, len - 4, version);
      return;
    case SIM_CAPTURE_LINK_RAW:
    case SIM_CAPTURE_LINK_RAW_OPENBSD:
    case SIM_CAPTURE_LINK_RAW_101:
    case SIM_CAPTURE_LINK_IPV4:
    case SIM_CAPTURE_LINK_IPV6:
      handle_ip (self, p, len, 0);
      return;
    case SIM_CAPTURE_LINK_LINUX_SLL:
      if (len < 16)
        break;
      if (ethertype_version (get16 (p + 14)) > 0)
        handle_ip (self, p + 16, len - 16, ethertype_version (get16 (p + 14)));
      return;
    case SIM_CAPTURE_LINK_LINUX_SLL2:
      if (len < 20)
        break;
      if (ethertype_version (get16 (p)) > 0)
        handle_ip (self, p + 20, len - 20, ethertype_version (get16 (p)));
      return;
    default:
      problem (self, self->frame, "link type %d is not supported", self->link_type);
      return;
    }
  problem (self, self->frame, "link-layer header truncated (%" G_GSIZE_FORMAT " bytes)", len);
}

/* ------------------------------------------------------------------------------------------
 * The reader
 */

gboolean
sim_capture_link_type_supported (int link_type)
{
  switch (link_type)
    {
    case SIM_CAPTURE_LINK_NULL:
    case SIM_CAPTURE_LINK_ETHERNET:
    case SIM_CAPTURE_LINK_RAW:
    case SIM_CAPTURE_LINK_RAW_OPENBSD:
    case SIM_CAPTURE_LINK_RAW_101:
    case SIM_CAPTURE_LINK_LOOP:
    case SIM_CAPTURE_LINK_LINUX_SLL:
    case SIM_CAPTURE_LINK_IPV4:
    case SIM_CAPTURE_LINK_IPV6:
    case SIM_CAPTURE_LINK_LINUX_SLL2:
      return TRUE;
    default:
      return FALSE;
    }
}

SimCaptureReader *
sim_capture_reader_new (int                    link_type,
                        SimCaptureFunc         func,
                        SimCaptureProblemFunc  problem_func,
                        gpointer               user_data)
{
  SimCaptureReader *self = g_new0 (SimCaptureReader, 1);

  self->link_type = link_type;
  self->func = func;
  self->problem_func = problem_func;
  self->user_data = user_data;
  self->streams = g_hash_table_new_full (stream_key_hash, stream_key_equal, NULL,
                                         (GDestroyNotify) stream_free);
  self->fragments = g_hash_table_new_full (frag_key_hash, frag_key_equal, NULL,
                                           (GDestroyNotify) datagram_free);
  g_queue_init (&self->lru);
  g_queue_init (&self->frag_order);
  return self;
}

void
sim_capture_reader_set_hep_auth_key (SimCaptureReader *self,
                                     const char       *auth_key)
{
  g_return_if_fail (self != NULL);
  g_free (self->hep_auth_key);
  self->hep_auth_key = g_strdup (auth_key);
}

void
sim_capture_reader_feed (SimCaptureReader *self,
                         gint64            time_us,
                         const guint8     *frame,
                         gsize             caplen,
                         gsize             wirelen)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (frame != NULL || caplen == 0);

  self->frame++;
  self->stats.frames++;
  self->now = CLAMP (time_us, -TIME_LIMIT_US, TIME_LIMIT_US);
  self->snapped = wirelen > caplen;
  expire_fragments (self);
  handle_link (self, frame, caplen);
}

void
sim_capture_reader_feed_hep (SimCaptureReader *self,
                             gint64            time_us,
                             const guint8     *data,
                             gsize             len)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (data != NULL || len == 0);

  self->frame++;
  self->stats.frames++;
  self->now = CLAMP (time_us, -TIME_LIMIT_US, TIME_LIMIT_US);
  self->snapped = FALSE;
  handle_hep (self, data, len);
}

void
sim_capture_reader_finish (SimCaptureReader *self)
{
  Stream *s;
  Datagram *dg;

  g_return_if_fail (self != NULL);

  while ((s = g_queue_peek_tail (&self->lru)) != NULL)
    stream_remove (self, s, "ends with the capture");
  while ((dg = g_queue_peek_head (&self->frag_order)) != NULL)
    datagram_remove (self, dg, "never completed (fragments missing at the end)");
}

void
sim_capture_reader_get_stats (SimCaptureReader *self,
                              SimCaptureStats  *stats)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (stats != NULL);
  *stats = self->stats;
}

void
sim_capture_reader_free (SimCaptureReader *self)
{
  if (self == NULL)
    return;
  g_hash_table_destroy (self->streams);
  g_hash_table_destroy (self->fragments);
  g_free (self->hep_auth_key);
  g_free (self);
}

/* ------------------------------------------------------------------------------------------
 * Files
 */

/* Reads every record of an open capture; takes @pcap. */
static gboolean
read_pcap (pcap_t                *pcap,
           const char            *hep_auth_key,
           SimCaptureFunc         func,
           SimCaptureProblemFunc  problem_func,
           gpointer               user_data,
           SimCaptureStats       *stats,
           GError               **error)
{
  g_autoptr(SimCaptureReader) reader = NULL;
  struct pcap_pkthdr *header;
  const u_char *data;
  int link_type = pcap_datalink (pcap);
  int rc;

  if (!sim_capture_link_type_supported (link_type))
    {
      const char *name = pcap_datalink_val_to_name (link_type);

      g_set_error (error, SIM_CAPTURE_ERROR, SIM_CAPTURE_ERROR_LINK_TYPE,
                   "link type %d (%s) is not supported", link_type, name ? name : "unknown");
      pcap_close (pcap);
      return FALSE;
    }
  reader = sim_capture_reader_new (link_type, func, problem_func, user_data);
  sim_capture_reader_set_hep_auth_key (reader, hep_auth_key);
  while ((rc = pcap_next_ex (pcap, &header, &data)) == 1)
    {
      /* Opened with nanosecond precision, tv_usec holds nanoseconds.  A pcapng interface's
       * resolution and offset can scale a time past any range: clamp the seconds. */
      gint64 sec = CLAMP ((gint64) header->ts.tv_sec, -TIME_LIMIT_S, TIME_LIMIT_S);
      gint64 t = sec * G_USEC_PER_SEC + header->ts.tv_usec / 1000;

      sim_capture_reader_feed (reader, t, data, header->caplen, header->len);
    }
  /* A damaged record ends the file: libpcap cannot find the next one. */
  if (rc == PCAP_ERROR)
    problem (reader, reader->frame + 1, "%s", pcap_geterr (pcap));
  pcap_close (pcap);
  sim_capture_reader_finish (reader);
  if (stats != NULL)
    sim_capture_reader_get_stats (reader, stats);
  return TRUE;
}

gboolean
sim_capture_read_file_full (const char            *path,
                            const char            *hep_auth_key,
                            SimCaptureFunc         func,
                            SimCaptureProblemFunc  problem_func,
                            gpointer               user_data,
                            SimCaptureStats       *stats,
                            GError               **error)
{
  char errbuf[PCAP_ERRBUF_SIZE] = "";
  pcap_t *pcap;

  g_return_val_if_fail (path != NULL, FALSE);

  /* Nanosecond precision reads both kinds of files exactly (microseconds are scaled). */
  pcap = pcap_open_offline_with_tstamp_precision (path, PCAP_TSTAMP_PRECISION_NANO, errbuf);
  if (pcap == NULL)
    {
      g_set_error (error, SIM_CAPTURE_ERROR, SIM_CAPTURE_ERROR_OPEN, "%s", errbuf);
      return FALSE;
    }
  return read_pcap (pcap, hep_auth_key, func, problem_func, user_data, stats, error);
}

gboolean
sim_capture_read_data (const guint8          *data,
                       gsize                  len,
                       const char            *hep_auth_key,
                       SimCaptureFunc         func,
                       SimCaptureProblemFunc  problem_func,
                       gpointer               user_data,
                       SimCaptureStats       *stats,
                       GError               **error)
{
  char errbuf[PCAP_ERRBUF_SIZE] = "";
  pcap_t *pcap;
  FILE *file;

  g_return_val_if_fail (data != NULL || len == 0, FALSE);

  file = len > 0 ? fmemopen ((void *) data, len, "rb") : NULL;
  if (file == NULL)
    {
      g_set_error (error, SIM_CAPTURE_ERROR, SIM_CAPTURE_ERROR_OPEN, "empty capture");
      return FALSE;
    }
  pcap = pcap_fopen_offline_with_tstamp_precision (file, PCAP_TSTAMP_PRECISION_NANO, errbuf);
  if (pcap == NULL)
    {
      fclose (file);
      g_set_error (error, SIM_CAPTURE_ERROR, SIM_CAPTURE_ERROR_OPEN, "%s", errbuf);
      return FALSE;
    }
  return read_pcap (pcap, hep_auth_key, func, problem_func, user_data, stats, error);
}

gboolean
sim_capture_read_file (const char            *path,
                       SimCaptureFunc         func,
                       SimCaptureProblemFunc  problem_func,
                       gpointer               user_data,
                       GError               **error)
{
  return sim_capture_read_file_full (path, NULL, func, problem_func, user_data, NULL, error);
}
