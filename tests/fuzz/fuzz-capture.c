/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * libFuzzer target for reading captures (sim-capture.c) and HEPv3 (sim-hep.c).  Byte 0 picks
 * what the rest is:
 *
 *   0: a whole pcap or pcapng file image, read through libpcap (sim_capture_read_data);
 *   1: frames for a SimCaptureReader: byte 1 picks the link type, then records of a 2-byte
 *      big-endian length, a 1-byte time step (in seconds: large steps expire fragments) and
 *      the frame; the last record may be cut short;
 *   2: one HEP packet: decoded without a key and with the key "k"; a packet that decodes is
 *      encoded again and must decode to the same fields;
 *   others: the same bytes fed to a reader as one raw IPv4/IPv6 packet and as a HEP packet.
 *
 * Invariants checked besides the sanitizers: every delivered message is non-empty, within
 * the size caps, does not begin with white space or a line end, and has the same
 * transport on both ends; packet numbers never go down; the reader's followed streams and
 * fragmented datagrams stay within SIM_CAPTURE_MAX_STREAMS and SIM_CAPTURE_MAX_FRAGMENTED.
 *
 * Build (clang only): see tests/fuzz/README.md; ninja -C _build-fuzz tests/fuzz/fuzz-capture.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sim-capture.h"
#include "sim-hep.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

#define CHECK(cond) \
  G_STMT_START {                                                                            \
    if (!(cond)) { g_printerr ("invariant failed: %s\n", #cond); abort (); }                 \
  } G_STMT_END

static const int link_types[] = {
  SIM_CAPTURE_LINK_ETHERNET, SIM_CAPTURE_LINK_RAW, SIM_CAPTURE_LINK_NULL, SIM_CAPTURE_LINK_LOOP,
  SIM_CAPTURE_LINK_LINUX_SLL, SIM_CAPTURE_LINK_LINUX_SLL2, SIM_CAPTURE_LINK_IPV4,
  SIM_CAPTURE_LINK_IPV6, 9999,
};

typedef struct {
  guint64 last_packet;
  guint64 messages;
} Seen;

static void
on_message (const SimCapturedMessage *m,
            gpointer                  user_data)
{
  Seen *seen = user_data;

  CHECK (m->data != NULL && m->len > 0);
  CHECK (m->len <= MAX (SIM_CAPTURE_MAX_IP_DATAGRAM, SIM_HEP_MAX_PAYLOAD));
  if (m->src.transport == SIM_TRANSPORT_TCP && !m->from_hep)
    CHECK (m->len <= SIM_CAPTURE_MAX_MESSAGE);
  CHECK (m->data[0] != '\r' && m->data[0] != '\n' && m->data[0] != ' ');
  CHECK (m->src.transport == m->dst.transport);
  CHECK (m->packet >= seen->last_packet);
  seen->last_packet = m->packet;
  seen->messages++;
}

static void
on_problem (guint64     packet,
            const char *what,
            gpointer    user_data)
{
  CHECK (what != NULL && *what != '\0');
}

static void
check_stats (SimCaptureReader *reader)
{
  SimCaptureStats stats;

  sim_capture_reader_get_stats (reader, &stats);
  CHECK (stats.streams <= SIM_CAPTURE_MAX_STREAMS);
  CHECK (stats.fragmented <= SIM_CAPTURE_MAX_FRAGMENTED);
}

static void
fuzz_frames (const uint8_t *data,
             size_t         size)
{
  Seen seen = { 0 };
  g_autoptr(SimCaptureReader) reader = NULL;
  gint64 now = 0;
  size_t off = 1;

  if (size < 1)
    return;
  reader = sim_capture_reader_new (link_types[data[0] % G_N_ELEMENTS (link_types)], on_message,
                                   on_problem, &seen);
  while (off + 3 <= size)
    {
      size_t len = ((size_t) data[off] << 8) | data[off + 1];

      now += (gint64) data[off + 2] * G_USEC_PER_SEC;
      off += 3;
      len = MIN (len, size - off);
      sim_capture_reader_feed (reader, now, data + off, len, 0);
      check_stats (reader);
      off += len;
    }
  sim_capture_reader_finish (reader);
  check_stats (reader);
}

static void
fuzz_hep (const uint8_t *data,
          size_t         size)
{
  const char *keys[] = { NULL, "k" };

  for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(SimHepPacket) p = sim_hep_decode (data, size, keys[i], &error);
      g_autoptr(GBytes) again = NULL;
      g_autoptr(SimHepPacket) back = NULL;
      gsize len;
      const guint8 *bytes;

      CHECK ((p == NULL) == (error != NULL));
      if (p == NULL)
        continue;
      CHECK (g_bytes_get_size (p->payload) <= SIM_HEP_MAX_PAYLOAD);
      /* Re-encoding keeps the address family of the source; mixed families do not encode. */
      again = sim_hep_encode (p, p->compressed, NULL);
      if (again == NULL)
        continue;
      bytes = g_bytes_get_data (again, &len);
      back = sim_hep_decode (bytes, len, keys[i], NULL);
      CHECK (back != NULL);
      CHECK (g_strcmp0 (back->src.ip, p->src.ip) == 0 && g_strcmp0 (back->dst.ip, p->dst.ip) == 0);
      CHECK (back->src.port == p->src.port && back->dst.port == p->dst.port);
      CHECK (back->ts_sec == p->ts_sec && back->ts_usec == p->ts_usec);
      CHECK (g_strcmp0 (back->auth_key, p->auth_key) == 0);
      CHECK (g_bytes_equal (back->payload, p->payload));
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  Seen seen = { 0 };

  if (size < 1)
    return 0;
  switch (data[0])
    {
    case 0:
      sim_capture_read_data (data + 1, size - 1, NULL, on_message, on_problem, &seen, NULL, NULL);
      break;
    case 1:
      fuzz_frames (data + 1, size - 1);
      break;
    case 2:
      fuzz_hep (data + 1, size - 1);
      break;
    default:
      {
        g_autoptr(SimCaptureReader) reader =
          sim_capture_reader_new (SIM_CAPTURE_LINK_RAW, on_message, on_problem, &seen);

        sim_capture_reader_feed (reader, 0, data + 1, size - 1, 0);
        sim_capture_reader_feed_hep (reader, 0, data + 1, size - 1);
        sim_capture_reader_finish (reader);
        check_stats (reader);
      }
      break;
    }
  return 0;
}
