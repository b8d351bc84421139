/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Reading SIP out of captures (sim/sim-capture.c): the committed fixtures in tests/captures
 * (written by tests/captures/make-captures.py), frames fed by hand for the bounds, and a real
 * capture of sipp registering to `siplab-cli serve` recorded with dumpcap (test-capture-live
 * below, skipped only when capturing on loopback is not permitted).
 */
#include <gio/gio.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>

#include "sim-capture.h"
#include "sim-hep.h"

typedef struct {
  GPtrArray *messages;   /* "packet src>dst transport[ hep]: first line" */
  GPtrArray *problems;   /* "packet N: what" */
  GPtrArray *times;      /* gint64* per message */
  SimCaptureStats stats;
} Result;

static void
result_clear (Result *r)
{
  g_clear_pointer (&r->messages, g_ptr_array_unref);
  g_clear_pointer (&r->problems, g_ptr_array_unref);
  g_clear_pointer (&r->times, g_ptr_array_unref);
}

static void
on_message (const SimCapturedMessage *m,
            gpointer                  user_data)
{
  Result *r = user_data;
  const char *eol = memchr (m->data, '\r', m->len);
  g_autofree char *src = sim_addr_to_string (&m->src);
  g_autofree char *dst = sim_addr_to_string (&m->dst);

  g_assert_nonnull (eol);
  g_ptr_array_add (r->messages,
                   g_strdup_printf ("%" G_GUINT64_FORMAT " %s>%s %s%s: %.*s", m->packet, src, dst,
                                    sim_transport_name (m->src.transport),
                                    m->from_hep ? " hep" : "", (int) (eol - m->data), m->data));
  g_ptr_array_add (r->times, g_memdup2 (&m->time_us, sizeof m->time_us));
  g_assert_cmpint (m->src.transport, ==, m->dst.transport);
}

static void
on_problem (guint64     packet,
            const char *what,
            gpointer    user_data)
{
  Result *r = user_data;

  g_ptr_array_add (r->problems, g_strdup_printf ("packet %" G_GUINT64_FORMAT ": %s", packet, what));
}

static void
result_init (Result *r)
{
  r->messages = g_ptr_array_new_with_free_func (g_free);
  r->problems = g_ptr_array_new_with_free_func (g_free);
  r->times = g_ptr_array_new_with_free_func (g_free);
}

static void
read_fixture (const char *name,
              const char *auth_key,
              Result     *r)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "captures", name, NULL);
  g_autoptr(GError) error = NULL;

  result_init (r);
  g_assert_true (sim_capture_read_file_full (path, auth_key, on_message, on_problem, r,
                                             &r->stats, &error));
  g_assert_no_error (error);
  for (guint i = 0; i < r->messages->len; i++)
    g_test_message ("%s: %s", name, (char *) r->messages->pdata[i]);
  for (guint i = 0; i < r->problems->len; i++)
    g_test_message ("%s: problem %s", name, (char *) r->problems->pdata[i]);
}

static void
assert_lines (GPtrArray         *got,
              const char *const *want)
{
  guint n = g_strv_length ((char **) want);

  for (guint i = 0; i < MIN (n, got->len); i++)
    g_assert_cmpstr (got->pdata[i], ==, want[i]);
  g_assert_cmpuint (got->len, ==, n);
}

/* Problems are matched by prefix: the packet number and the start of what went wrong. */
static void
assert_problems (GPtrArray         *got,
                 const char *const *want)
{
  guint n = g_strv_length ((char **) want);

  for (guint i = 0; i < MIN (n, got->len); i++)
    if (!g_str_has_prefix (got->pdata[i], want[i]))
      g_error ("problem %u is \"%s\", expected \"%s...\"", i, (char *) got->pdata[i], want[i]);
  g_assert_cmpuint (got->len, ==, n);
}

static void
test_tcp_split_merge (gconstpointer data)
{
  const char *name = data;
  Result r = { 0 };
  const char *const want[] = {
    "4 192.0.2.10:40000>192.0.2.1:5060 TCP: REGISTER sip:lab SIP/2.0",
    "6 192.0.2.10:40000>192.0.2.1:5060 TCP: REGISTER sip:lab SIP/2.0",
    "7 192.0.2.1:5060>192.0.2.10:40000 TCP: SIP/2.0 401 Unauthorized",
    "7 192.0.2.1:5060>192.0.2.10:40000 TCP: SIP/2.0 200 OK",
    "9 192.0.2.10:40000>192.0.2.1:5060 TCP: OPTIONS sip:lab SIP/2.0",
    NULL
  };
  const char *const none[] = { NULL };

  g_test_summary ("Two messages merged in one segment, one across two, a retransmitted and an "
                  "overlapping segment, two segments out of order, and an HTTP stream ignored.");
  read_fixture (name, NULL, &r);
  assert_lines (r.messages, want);
  assert_problems (r.problems, none);
  g_assert_cmpuint (r.stats.frames, ==, 11);
  g_assert_cmpuint (r.stats.streams, ==, 0);
  result_clear (&r);
}

static void
test_ipv4_fragments (void)
{
  Result r = { 0 };
  const char *const want[] = {
    "1 192.0.2.10:5060>192.0.2.1:5060 UDP: REGISTER sip:lab SIP/2.0",
    "4 192.0.2.10:5060>192.0.2.1:5060 UDP: MESSAGE sip:bob@lab SIP/2.0",
    "6 192.0.2.1:5060>192.0.2.10:5060 UDP: SIP/2.0 200 OK",
    NULL
  };
  const char *const problems[] = {
    "packet 5: IPv4 datagram 78 from 192.0.2.10 to 192.0.2.1 never",
    NULL
  };

  read_fixture ("ipv4-fragments.pcapng", NULL, &r);
  assert_lines (r.messages, want);
  assert_problems (r.problems, problems);
  result_clear (&r);
}

static void
test_ipv6 (void)
{
  Result r = { 0 };
  const char *const want[] = {
    "1 [2001:db8::10]:5060>[2001:db8::1]:5060 UDP: REGISTER sip:lab SIP/2.0",
    "3 [2001:db8::10]:5060>[2001:db8::1]:5060 UDP: MESSAGE sip:bob@lab SIP/2.0",
    "4 [2001:db8::1]:5060>[2001:db8::10]:40000 TCP: SIP/2.0 200 OK",
    NULL
  };
  const char *const problems[] = { NULL };

  g_test_summary ("IPv6 behind a destination options header, in fragments, and over TCP.");
  read_fixture ("ipv6.pcapng", NULL, &r);
  assert_lines (r.messages, want);
  assert_problems (r.problems, problems);
  result_clear (&r);
}

static void
test_link_types (gconstpointer data)
{
  const char *name = data;
  Result r = { 0 };
  const char *const none[] = { NULL };

  read_fixture (name, NULL, &r);
  assert_problems (r.problems, none);
  if (g_str_has_prefix (name, "cooked"))
    {
      const char *const want[] = {
        "1 192.0.2.10:5060>192.0.2.1:5060 UDP: REGISTER sip:lab SIP/2.0",
        "2 [2001:db8::1]:5060>[2001:db8::10]:5060 UDP: SIP/2.0 401 Unauthorized",
        NULL
      };
      assert_lines (r.messages, want);
    }
  else if (g_str_has_prefix (name, "vlan"))
    {
      const char *const want[] = {
        "1 192.0.2.10:5060>192.0.2.1:5060 UDP: REGISTER sip:lab SIP/2.0",
        "2 192.0.2.1:5060>192.0.2.10:5060 UDP: SIP/2.0 200 OK",
        NULL
      };
      assert_lines (r.messages, want);
    }
  else if (g_str_has_prefix (name, "null"))
    {
      const char *const want[] = {
        "1 127.0.0.1:5060>127.0.0.1:5061 UDP: REGISTER sip:lab SIP/2.0",
        "2 [::1]:5061>[::1]:5060 UDP: SIP/2.0 200 OK",
        NULL
      };
      assert_lines (r.messages, want);
    }
  else
    {
      const char *const want[] = {
        "1 192.0.2.10:5060>192.0.2.1:5060 UDP: OPTIONS sip:lab SIP/2.0",
        NULL
      };
      assert_lines (r.messages, want);
    }
  /* The fixtures' frame i is stamped at 2026-01-01T00:00:00Z + i s + i ms. */
  g_assert_cmpint (*(gint64 *) r.times->pdata[0], ==, G_GINT64_CONSTANT (1767225600) * 1000000);
  if (r.times->len > 1)
    g_assert_cmpint (*(gint64 *) r.times->pdata[1], ==,
                     G_GINT64_CONSTANT (1767225601) * 1000000 + 1000);
  result_clear (&r);
}

static void
test_hep_in_udp (void)
{
  Result r = { 0 };
  Result keyed = { 0 };
  const char *const want[] = {
    "1 192.0.2.10:5060>192.0.2.1:5060 UDP hep: REGISTER sip:lab SIP/2.0",
    "2 192.0.2.1:5060>192.0.2.10:5060 UDP hep: SIP/2.0 401 Unauthorized",
    "3 192.0.2.10:5060>192.0.2.1:5060 UDP hep: REGISTER sip:lab SIP/2.0",
    NULL
  };
  const char *const problems[] = { "packet 5: HEP packet refused: HEP length", NULL };
  const char *const want_keyed[] = {
    "3 192.0.2.10:5060>192.0.2.1:5060 UDP hep: REGISTER sip:lab SIP/2.0",
    NULL
  };
  const char *const problems_keyed[] = {
    "packet 1: HEP packet refused: no auth key",
    "packet 2: HEP packet refused: no auth key",
    "packet 4: HEP packet refused: no auth key",
    "packet 5: HEP packet refused: HEP length",
    NULL
  };

  g_test_summary ("HEPv3 in UDP on port 9060: plain, zlib-compressed, with an auth key; RTCP "
                  "ignored, a truncated packet reported; the HEP's own addresses and time.");
  read_fixture ("hep.pcap", NULL, &r);
  assert_lines (r.messages, want);
  assert_problems (r.problems, problems);
  g_assert_cmpint (*(gint64 *) r.times->pdata[0], ==,
                   (G_GINT64_CONSTANT (1767225600) + 100) * 1000000 + 5);
  g_assert_cmpuint (r.stats.hep_messages, ==, 3);
  read_fixture ("hep.pcap", "secret", &keyed);
  assert_lines (keyed.messages, want_keyed);
  assert_problems (keyed.problems, problems_keyed);
  result_clear (&r);
  result_clear (&keyed);
}

static void
test_truncated_file (void)
{
  Result r = { 0 };
  const char *const want[] = {
    "1 192.0.2.10:5060>192.0.2.1:5060 UDP: REGISTER sip:lab SIP/2.0",
    "2 192.0.2.1:5060>192.0.2.10:5060 UDP: SIP/2.0 401 Unauthorized",
    NULL
  };
  const char *const problems[] = { "packet 3: truncated dump file", NULL };

  read_fixture ("truncated.pcap", NULL, &r);
  assert_lines (r.messages, want);
  assert_problems (r.problems, problems);
  result_clear (&r);
}

static void
test_bogus_lengths (void)
{
  Result r = { 0 };
  const char *const want[] = {
    "5 192.0.2.10:5060>192.0.2.1:5060 UDP: SIP/2.0 200 OK",
    NULL
  };
  const char *const problems[] = {
    "packet 1: IPv4 packet of 4000 bytes",
    "packet 2: UDP length 3000",
    "packet 3: bogus TCP header length 4",
    "packet 6: invalid packet capture length",
    NULL
  };

  read_fixture ("bogus-length.pcap", NULL, &r);
  assert_lines (r.messages, want);
  assert_problems (r.problems, problems);
  result_clear (&r);
}

static void
test_not_a_capture (void)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "captures", "make-captures.py",
                                                 NULL);
  g_autoptr(GError) error = NULL;

  g_assert_false (sim_capture_read_file (path, on_message, on_problem, NULL, &error));
  g_assert_error (error, SIM_CAPTURE_ERROR, SIM_CAPTURE_ERROR_OPEN);
  g_clear_error (&error);
  g_assert_false (sim_capture_read_file ("/nonexistent.pcap", on_message, on_problem, NULL,
                                         &error));
  g_assert_error (error, SIM_CAPTURE_ERROR, SIM_CAPTURE_ERROR_OPEN);
}


static void
test_memory_image (void)
{
  const char *names[] = { "tcp-split-merge.pcapng", "ipv4-fragments.pcapng", "hep.pcap",
                          "truncated.pcap", "bogus-length.pcap", "cooked-v1.pcap", NULL };
  g_autoptr(GError) error = NULL;

  g_test_summary ("A file image in memory reads exactly as the file does.");
  for (guint i = 0; names[i] != NULL; i++)
    {
      g_autofree char *path = g_test_build_filename (G_TEST_DIST, "captures", names[i], NULL);
      g_autofree char *bytes = NULL;
      gsize len;
      Result file = { 0 };
      Result mem = { 0 };

      read_fixture (names[i], NULL, &file);
      result_init (&mem);
      g_assert_true (g_file_get_contents (path, &bytes, &len, &error));
      g_assert_true (sim_capture_read_data ((const guint8 *) bytes, len, NULL, on_message,
                                            on_problem, &mem, &mem.stats, &error));
      g_assert_no_error (error);
      g_ptr_array_add (file.messages, NULL);
      g_ptr_array_add (file.problems, NULL);
      assert_lines (mem.messages, (const char *const *) file.messages->pdata);
      assert_lines (mem.problems, (const char *const *) file.problems->pdata);
      result_clear (&file);
      result_clear (&mem);
    }
  g_assert_false (sim_capture_read_data ((const guint8 *) "", 0, NULL, on_message, on_problem,
                                         NULL, NULL, &error));
  g_assert_error (error, SIM_CAPTURE_ERROR, SIM_CAPTURE_ERROR_OPEN);
  g_clear_error (&error);
  g_assert_false (sim_capture_read_data ((const guint8 *) "not a capture", 13, NULL, on_message,
                                         on_problem, NULL, NULL, &error));
  g_assert_error (error, SIM_CAPTURE_ERROR, SIM_CAPTURE_ERROR_OPEN);
}

/* ------------------------------------------------------------------------------------------
 * Frames built by hand, for the bounds.
 */

static void
put16 (guint8  *p,
       guint16  v)
{
  p[0] = v >> 8;
  p[1] = v & 0xff;
}

static void
put32 (guint8  *p,
       guint32  v)
{
  put16 (p, v >> 16);
  put16 (p + 2, v & 0xffff);
}

/* A raw IPv4 packet (link type SIM_CAPTURE_LINK_RAW) from 10.0.@host.1 to 10.0.0.2. */
static GByteArray *
ipv4 (guint8        host,
      guint8        proto,
      guint16       id,
      guint16       frag,
      const guint8 *payload,
      gsize         len)
{
  GByteArray *out = g_byte_array_sized_new (20 + len);
  guint8 h[20] = { 0x45, 0, 0, 0, 0, 0, 0, 0, 64, proto, 0, 0, 10, 0, host, 1, 10, 0, 0, 2 };

  put16 (h + 2, 20 + len);
  put16 (h + 4, id);
  put16 (h + 6, frag);
  g_byte_array_append (out, h, 20);
  g_byte_array_append (out, payload, len);
  return out;
}

static GByteArray *
tcp_packet (guint8       host,
            guint16      sport,
            guint32      seq,
            guint8       flags,
            const char  *data)
{
  gsize len = strlen (data);
  g_autofree guint8 *seg = g_malloc0 (20 + len);

  put16 (seg, sport);
  put16 (seg + 2, 5060);
  put32 (seg + 4, seq);
  seg[12] = 5 << 4;
  seg[13] = flags;
  memcpy (seg + 20, data, len);
  return ipv4 (host, 6, 0, 0, seg, 20 + len);
}

static void
feed (SimCaptureReader *reader,
      gint64            time_us,
      GByteArray       *packet)
{
  sim_capture_reader_feed (reader, time_us, packet->data, packet->len, 0);
  g_byte_array_unref (packet);
}

#define MSG "OPTIONS sip:lab SIP/2.0\r\nCall-ID: x\r\nContent-Length: 0\r\n\r\n"

static void
test_streams_are_bounded (void)
{
  Result r = { 0 };
  g_autoptr(SimCaptureReader) reader = NULL;
  SimCaptureStats stats;

  g_test_summary ("Streams beyond SIM_CAPTURE_MAX_STREAMS push out the least recently used, "
                  "which is reported when it held part of a message.");
  result_init (&r);
  reader = sim_capture_reader_new (SIM_CAPTURE_LINK_RAW, on_message, on_problem, &r);
  for (guint i = 0; i < SIM_CAPTURE_MAX_STREAMS + 10; i++)
    feed (reader, i, tcp_packet (i / 60000, 1024 + i % 60000, 1, 0x18,
                                 "REGISTER sip:lab SIP/2.0\r\n"));
  sim_capture_reader_get_stats (reader, &stats);
  g_assert_cmpuint (stats.streams, ==, SIM_CAPTURE_MAX_STREAMS);
  g_assert_cmpuint (r.problems->len, ==, 10);
  g_assert_true (g_str_has_prefix (r.problems->pdata[0], "packet 4097: TCP stream 10.0.0.1:1024"));
  g_assert_nonnull (strstr (r.problems->pdata[0], "too many TCP streams"));
  sim_capture_reader_finish (reader);
  g_assert_cmpuint (r.problems->len, ==, 10 + SIM_CAPTURE_MAX_STREAMS);
  sim_capture_reader_get_stats (reader, &stats);
  g_assert_cmpuint (stats.streams, ==, 0);
  result_clear (&r);
}

static void
test_held_bytes_are_bounded (void)
{
  Result r = { 0 };
  g_autoptr(SimCaptureReader) reader = NULL;
  g_autoptr(GString) part =
    g_string_new ("MESSAGE sip:lab SIP/2.0\r\nContent-Length: 60000\r\n\r\n");
  guint n = SIM_CAPTURE_MAX_HELD_BYTES / 40000 + 20;

  g_test_summary ("Streams that each wait for the rest of a large message hold at most "
                  "SIM_CAPTURE_MAX_HELD_BYTES together: the least recently used give up first.");
  while (part->len < 40000)
    g_string_append_c (part, 'b');
  result_init (&r);
  reader = sim_capture_reader_new (SIM_CAPTURE_LINK_RAW, on_message, on_problem, &r);
  for (guint i = 0; i < n; i++)
    feed (reader, i, tcp_packet (i / 60000, 1024 + i % 60000, 1, 0x18, part->str));
  g_assert_cmpuint (r.problems->len, >=, 20);
  g_assert_cmpuint (r.problems->len, <=, 21);
  g_assert_true (g_str_has_suffix (r.problems->pdata[0],
                                   "(too many bytes waiting in TCP streams)"));
  g_assert_true (g_str_has_prefix (r.problems->pdata[0], "packet "));
  g_assert_nonnull (strstr (r.problems->pdata[0], "10.0.0.1:1024 -> "));
  result_clear (&r);
}

static void
test_tcp_gap_resumes (void)
{
  Result r = { 0 };
  g_autoptr(SimCaptureReader) reader = NULL;
  g_autofree char *half = g_strndup (MSG, 20);

  g_test_summary ("A segment further ahead than SIM_CAPTURE_TCP_WINDOW gives the gap up with a "
                  "report, and the stream resumes at the next segment that begins a message; "
                  "segments beyond SIM_CAPTURE_TCP_MAX_PENDING do the same.");
  result_init (&r);
  reader = sim_capture_reader_new (SIM_CAPTURE_LINK_RAW, on_message, on_problem, &r);
  feed (reader, 1, tcp_packet (0, 2000, 100, 0x02, ""));
  feed (reader, 2, tcp_packet (0, 2000, 101, 0x18, half));          /* a message begins */
  feed (reader, 3, tcp_packet (0, 2000, 101 + SIM_CAPTURE_TCP_WINDOW + 1000, 0x18, MSG));
  g_assert_cmpuint (r.messages->len, ==, 1);
  g_assert_cmpstr (r.messages->pdata[0], ==,
                   "3 10.0.0.1:2000>10.0.0.2:5060 TCP: OPTIONS sip:lab SIP/2.0");
  g_assert_cmpuint (r.problems->len, ==, 1);
  g_assert_true (g_str_has_prefix (r.problems->pdata[0], "packet 3: TCP stream 10.0.0.1:2000 -> "
                                   "10.0.0.2:5060 lost"));

  /* Out-of-order segments, each one byte apart, fill the pending list; one more overflows. */
  {
    guint32 base = 101 + SIM_CAPTURE_TCP_WINDOW + 1000 + strlen (MSG);

    for (guint i = 0; i <= SIM_CAPTURE_TCP_MAX_PENDING; i++)
      feed (reader, 10 + i, tcp_packet (0, 2000, base + 100 + i * 100, 0x18, "x"));
    g_assert_cmpuint (r.problems->len, ==, 2);
    g_assert_nonnull (strstr (r.problems->pdata[1], "lost 100 bytes"));
  }
  sim_capture_reader_finish (reader);
  result_clear (&r);
}

static void
test_fin_waits_for_a_retransmission (void)
{
  Result r = { 0 };
  g_autoptr(SimCaptureReader) reader = NULL;
  g_autofree char *head = g_strndup (MSG, 30);
  SimCaptureStats stats;

  g_test_summary ("A retransmitted SYN changes nothing, and a FIN captured before the "
                  "retransmission of a lost segment waits for it: the message is delivered "
                  "with the retransmission, then the stream closes without a problem.");
  result_init (&r);
  reader = sim_capture_reader_new (SIM_CAPTURE_LINK_RAW, on_message, on_problem, &r);
  feed (reader, 1, tcp_packet (0, 4000, 500, 0x02, ""));
  feed (reader, 2, tcp_packet (0, 4000, 501, 0x18, head));
  feed (reader, 3, tcp_packet (0, 4000, 500, 0x02, ""));                 /* SYN again */
  feed (reader, 4, tcp_packet (0, 4000, 531, 0x19, MSG + 30));          /* the rest, FIN */
  /* A retransmission after the close starts no message (its bytes begin none). */
  feed (reader, 5, tcp_packet (0, 4000, 531 + 10, 0x19, MSG + 40));
  sim_capture_reader_get_stats (reader, &stats);
  g_assert_cmpuint (stats.streams, ==, 0);
  g_assert_cmpuint (r.messages->len, ==, 1);
  g_assert_cmpstr (r.messages->pdata[0], ==,
                   "4 10.0.0.1:4000>10.0.0.2:5060 TCP: OPTIONS sip:lab SIP/2.0");
  g_ptr_array_set_size (r.messages, 0);

  /* The same with the middle lost: the FIN waits for the retransmission. */
  feed (reader, 6, tcp_packet (0, 4001, 900, 0x02, ""));
  feed (reader, 7, tcp_packet (0, 4001, 901, 0x18, head));
  feed (reader, 8, tcp_packet (0, 4001, 931 + 10, 0x19, MSG + 40));
  g_assert_cmpuint (r.messages->len, ==, 0);
  feed (reader, 9, tcp_packet (0, 4001, 931, 0x18, MSG + 30));
  g_assert_cmpuint (r.messages->len, ==, 1);
  g_assert_cmpstr (r.messages->pdata[0], ==,
                   "9 10.0.0.1:4001>10.0.0.2:5060 TCP: OPTIONS sip:lab SIP/2.0");
  sim_capture_reader_get_stats (reader, &stats);
  g_assert_cmpuint (stats.streams, ==, 0);
  g_assert_cmpuint (r.problems->len, ==, 0);
  result_clear (&r);
}

static void
test_fragments_are_bounded (void)
{
  Result r = { 0 };
  g_autoptr(SimCaptureReader) reader = NULL;
  guint8 chunk[1024] = { 0 };
  SimCaptureStats stats;

  g_test_summary ("Datagrams beyond SIM_CAPTURE_MAX_FRAGMENTED, or their bytes beyond "
                  "SIM_CAPTURE_MAX_FRAGMENT_BYTES, push out the oldest; fragments older than "
                  "SIM_CAPTURE_FRAGMENT_TIMEOUT of capture time expire; a fragment past 64 KiB "
                  "is refused.");
  result_init (&r);
  reader = sim_capture_reader_new (SIM_CAPTURE_LINK_RAW, on_message, on_problem, &r);
  for (guint i = 0; i < SIM_CAPTURE_MAX_FRAGMENTED + 5; i++)
    feed (reader, 0, ipv4 (1, 17, i, 0x2000, chunk, 8));
  sim_capture_reader_get_stats (reader, &stats);
  g_assert_cmpuint (stats.fragmented, ==, SIM_CAPTURE_MAX_FRAGMENTED);
  g_assert_cmpuint (r.problems->len, ==, 5);
  g_assert_nonnull (strstr (r.problems->pdata[0], "too many fragments"));

  /* Fragments ending near 64 KiB hold about 64 KiB each: the byte cap bites first. */
  for (guint i = 0; i < 200; i++)
    feed (reader, 1, ipv4 (2, 17, i, 0x2000 | (64000 / 8), chunk, 8));
  g_assert_cmpuint (r.problems->len, >, 5 + 200 - SIM_CAPTURE_MAX_FRAGMENT_BYTES / 64008);
  sim_capture_reader_get_stats (reader, &stats);
  g_assert_cmpuint (stats.fragmented, <=, SIM_CAPTURE_MAX_FRAGMENT_BYTES / 64008 + 1);

  feed (reader, 2, ipv4 (3, 17, 1, 0x1fff, chunk, 16));  /* 65528 + 16 > 65535 */
  g_assert_true (g_str_has_suffix (r.problems->pdata[r.problems->len - 1], "(at most 65535)"));

  g_ptr_array_set_size (r.problems, 0);
  feed (reader, 2 + SIM_CAPTURE_FRAGMENT_TIMEOUT + 1, ipv4 (4, 17, 1, 0, chunk, 8));
  sim_capture_reader_get_stats (reader, &stats);
  g_assert_cmpuint (stats.fragmented, ==, 0);
  g_assert_cmpuint (r.problems->len, >, 0);
  g_assert_nonnull (strstr (r.problems->pdata[0], "never completed"));

  /* Times at the ends of the range are clamped, so their difference cannot overflow. */
  feed (reader, G_MININT64, ipv4 (5, 17, 1, 0x2000, chunk, 8));
  feed (reader, G_MAXINT64, ipv4 (5, 17, 2, 0x2000, chunk, 8));
  sim_capture_reader_get_stats (reader, &stats);
  g_assert_cmpuint (stats.fragmented, ==, 1);
  result_clear (&r);
}

static void
test_fragments_must_all_come (void)
{
  Result r = { 0 };
  g_autoptr(SimCaptureReader) reader = NULL;
  g_autoptr(GByteArray) cut = NULL;
  guint8 chunk[16] = { 0 };
  SimCaptureStats stats;

  g_test_summary ("A fragment past the last one's end does not stand in for a missing one; "
                  "a frame cut by the snapshot length says so.");
  result_init (&r);
  reader = sim_capture_reader_new (SIM_CAPTURE_LINK_RAW, on_message, on_problem, &r);
  feed (reader, 0, ipv4 (1, 17, 9, 0x2000 | 0, chunk, 8));      /* block 0 */
  feed (reader, 0, ipv4 (1, 17, 9, 2, chunk, 8));                /* block 2, the last */
  feed (reader, 0, ipv4 (1, 17, 9, 0x2000 | 100, chunk, 8));     /* block 100: past the end */
  sim_capture_reader_get_stats (reader, &stats);
  g_assert_cmpuint (stats.fragmented, ==, 1);
  feed (reader, 0, ipv4 (1, 17, 9, 0x2000 | 1, chunk, 8));       /* block 1 */
  sim_capture_reader_get_stats (reader, &stats);
  g_assert_cmpuint (stats.fragmented, ==, 0);
  g_assert_cmpuint (r.problems->len, ==, 1);   /* The 24-byte datagram's UDP length is 0. */

  cut = ipv4 (1, 17, 10, 0, chunk, 16);
  sim_capture_reader_feed (reader, 0, cut->data, 30, cut->len + 100);
  g_assert_cmpuint (r.problems->len, ==, 2);
  g_assert_true (g_str_has_suffix (r.problems->pdata[1], "30 captured (the capture's snapshot "
                                   "length cut the frame)"));
  result_clear (&r);
}

static void
test_tcp_message_too_large (void)
{
  Result r = { 0 };
  g_autoptr(SimCaptureReader) reader = NULL;
  g_autofree char *big = g_strdup_printf ("MESSAGE sip:lab SIP/2.0\r\nContent-Length: %d\r\n\r\n",
                                          SIM_CAPTURE_MAX_MESSAGE);

  result_init (&r);
  reader = sim_capture_reader_new (SIM_CAPTURE_LINK_RAW, on_message, on_problem, &r);
  feed (reader, 1, tcp_packet (0, 3000, 1, 0x18, big));
  g_assert_cmpuint (r.problems->len, ==, 1);
  g_assert_true (g_str_has_prefix (r.problems->pdata[0], "packet 1: TCP stream"));
  /* The stream resumes at the next segment that begins a message. */
  feed (reader, 2, tcp_packet (0, 3000, 1 + strlen (big), 0x18, "x" /* body, skipped */));
  feed (reader, 3, tcp_packet (0, 3000, 2 + strlen (big), 0x18, MSG));
  g_assert_cmpuint (r.messages->len, ==, 1);

  /* The framer cuts a message after a stray CR by its Content-Length; it is no SIP message
   * (found by fuzz-capture), so it is reported, and the stream goes on. */
  feed (reader, 4, tcp_packet (0, 3000, 2 + strlen (big) + strlen (MSG), 0x18, "\r" MSG MSG));
  g_assert_cmpuint (r.messages->len, ==, 2);
  g_assert_cmpuint (r.problems->len, ==, 2);
  g_assert_true (g_str_has_suffix (r.problems->pdata[1], "begins with no request or status line "
                                   "(skipped)"));
  result_clear (&r);
}

static void
test_feed_hep (void)
{
  Result r = { 0 };
  g_autoptr(SimCaptureReader) reader = NULL;
  g_autoptr(SimHepPacket) p = g_new0 (SimHepPacket, 1);
  g_autoptr(GBytes) wire = NULL;
  gsize len;
  const guint8 *data;

  result_init (&r);
  reader = sim_capture_reader_new (SIM_CAPTURE_LINK_ETHERNET, on_message, on_problem, &r);
  sim_capture_reader_set_hep_auth_key (reader, "k");
  sim_addr_init (&p->src, "2001:db8::5", 5060, SIM_TRANSPORT_TCP);
  sim_addr_init (&p->dst, "2001:db8::6", 5061, SIM_TRANSPORT_TCP);
  p->ts_sec = 10;
  p->auth_key = g_strdup ("k");
  p->payload = g_bytes_new_static (MSG, strlen (MSG));
  wire = sim_hep_encode (p, TRUE, NULL);
  data = g_bytes_get_data (wire, &len);
  sim_capture_reader_feed_hep (reader, 99, data, len);
  sim_capture_reader_feed_hep (reader, 99, data, len - 1);
  g_assert_cmpuint (r.messages->len, ==, 1);
  g_assert_cmpstr (r.messages->pdata[0], ==,
                   "1 [2001:db8::5]:5060>[2001:db8::6]:5061 TCP hep: OPTIONS sip:lab SIP/2.0");
  g_assert_cmpint (*(gint64 *) r.times->pdata[0], ==, 10 * G_USEC_PER_SEC);
  g_assert_cmpuint (r.problems->len, ==, 1);
  g_assert_true (g_str_has_prefix (r.problems->pdata[0], "packet 2: HEP packet refused"));
  result_clear (&r);
}

/* ------------------------------------------------------------------------------------------
 * A real capture: sipp registers to `siplab-cli serve` while dumpcap records loopback.
 */

#define LIVE_WAIT_S 15

/* Children die with the test, even when a timeout kills it. */
static void
child_setup (gpointer data)
{
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

static GSubprocess *
spawn_logged (const char         *log,
              const char * const *argv)
{
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
  g_autoptr(GError) error = NULL;
  GSubprocess *process;

  g_subprocess_launcher_set_stdout_file_path (launcher, log);
  g_subprocess_launcher_set_stderr_file_path (launcher, log);
  g_subprocess_launcher_set_child_setup (launcher, child_setup, NULL, NULL);
  process = g_subprocess_launcher_spawnv (launcher, argv, &error);
  g_assert_no_error (error);
  return process;
}

/* Waits (generously: the machine may be loaded) until @log holds @needle or @process ends. */
static gboolean
wait_for_log (GSubprocess *process,
              const char  *log,
              const char  *needle)
{
  for (guint i = 0; i < LIVE_WAIT_S * 20; i++)
    {
      g_autofree char *text = NULL;

      if (g_file_get_contents (log, &text, NULL, NULL) && strstr (text, needle) != NULL)
        return TRUE;
      /* An exited child is reaped by the GLib worker; a zero-timeout wait tells. */
      if (g_subprocess_get_identifier (process) == NULL)
        return FALSE;
      g_usleep (50 * 1000);
    }
  return FALSE;
}

static void
stop_process (GSubprocess *process)
{
  g_subprocess_send_signal (process, SIGTERM);
  g_subprocess_wait (process, NULL, NULL);
}

static int
run_sync (const char * const *argv,
          char              **out)
{
  g_autoptr(GError) error = NULL;
  int status = -1;

  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL,
                child_setup, NULL, out, NULL, &status, &error);
  g_assert_no_error (error);
  return g_spawn_check_wait_status (status, NULL) ? 0 : status;
}

/* "packet CSeq" per SIP message, as our reader sees them. */
static void
on_live_message (const SimCapturedMessage *m,
                 gpointer                  user_data)
{
  GString *out = user_data;
  const char *cseq = g_strstr_len (m->data, m->len, "\r\nCSeq:");
  const char *end;

  g_assert_nonnull (cseq);
  cseq += 7;
  while (*cseq == ' ')
    cseq++;
  end = strstr (cseq, "\r\n");
  g_string_append_printf (out, "%" G_GUINT64_FORMAT " %.*s %s\n", m->packet, (int) (end - cseq),
                          cseq, sim_transport_name (m->src.transport));
}

static void
on_live_problem (guint64     packet,
                 const char *what,
                 gpointer    user_data)
{
  g_error ("packet %" G_GUINT64_FORMAT ": %s", packet, what);
}

/* The same list from tshark: one line per frame, its messages' CSeqs joined by '|'. */
static char *
tshark_list (const char *pcap)
{
  const char *argv[] = { "tshark", "-r", pcap, "-Y", "sip", "-T", "fields", "-E", "aggregator=|",
                         "-e", "frame.number", "-e", "sip.CSeq", "-e", "ip.proto", NULL };
  g_autofree char *out = NULL;
  g_auto(GStrv) lines = NULL;
  GString *list = g_string_new (NULL);

  g_assert_cmpint (run_sync (argv, &out), ==, 0);
  lines = g_strsplit (out, "\n", -1);
  for (guint i = 0; lines[i] != NULL && lines[i][0] != '\0'; i++)
    {
      g_auto(GStrv) f = g_strsplit (lines[i], "\t", 3);
      g_auto(GStrv) cseqs = g_strsplit (f[1], "|", -1);

      for (guint j = 0; cseqs[j] != NULL; j++)
        g_string_append_printf (list, "%s %s %s\n", f[0], cseqs[j],
                                g_str_has_prefix (f[2], "6") ? "TCP" : "UDP");
    }
  return g_string_free (list, FALSE);
}

static gboolean
have_programs (void)
{
  const char *need[] = { "dumpcap", "tshark", "sipp", NULL };

  if (g_getenv ("SIPLAB_CLI") == NULL)
    {
      g_test_skip ("SIPLAB_CLI is not set (meson test sets it)");
      return FALSE;
    }
  for (guint i = 0; need[i] != NULL; i++)
    {
      g_autofree char *path = g_find_program_in_path (need[i]);

      if (path == NULL)
        {
          g_test_skip_printf ("%s is not installed", need[i]);
          return FALSE;
        }
    }
  return TRUE;
}

/* Starts serve on a random loopback port (another one if it is taken). */
static GSubprocess *
start_serve (const char *dir,
             guint16    *port)
{
  g_autofree char *users = g_build_filename (dir, "users.txt", NULL);
  g_autofree char *db = g_build_filename (dir, "lab.sqlite", NULL);
  g_autofree char *log = g_build_filename (dir, "serve.log", NULL);

  g_assert_true (g_file_set_contents (users, "alice:alicepw\n", -1, NULL));
  for (guint attempt = 0; attempt < 8; attempt++)
    {
      g_autofree char *udp = NULL;
      g_autofree char *tcp = NULL;
      g_autoptr(GSubprocess) server = NULL;

      *port = g_random_int_range (20000, 60000);
      udp = g_strdup_printf ("udp:127.0.0.1:%u", *port);
      tcp = g_strdup_printf ("tcp:127.0.0.1:%u", *port);
      {
        const char *argv[] = { g_getenv ("SIPLAB_CLI"), "serve", "--listen", udp, "--listen",
                               tcp, "--domain", "lab.example", "--users", users, "--db", db,
                               "--format", "none", NULL };

        server = spawn_logged (log, argv);
      }
      if (wait_for_log (server, log, "siplab-cli serve: domain"))
        return g_steal_pointer (&server);
      stop_process (server);
    }
  g_error ("siplab-cli serve did not start");
}

static void
run_sipp (const char *dir,
          guint16     port,
          gboolean    tcp)
{
  g_autofree char *scenario = g_test_build_filename (G_TEST_DIST, "sipp",
                                                     "register-refresh-unregister.xml", NULL);
  g_autofree char *remote = g_strdup_printf ("127.0.0.1:%u", port);
  g_autofree char *local = g_strdup_printf ("%d", g_random_int_range (20000, 60000));
  const char *argv[] = { "sipp", "-sf", scenario, "-t", tcp ? "t1" : "u1", "-s", "alice",
                         "-au", "alice", "-ap", "alicepw", "-auth_uri", "lab.example",
                         "-key", "domain", "lab.example", "-m", "1", "-i", "127.0.0.1",
                         "-p", local, "-nostdin", "-timeout", "20", "-timeout_error",
                         "-trace_err", "-error_file", "/dev/null", remote, NULL };
  g_autofree char *out = NULL;

  g_assert_cmpint (run_sync (argv, &out), ==, 0);
}

static void
test_live_capture (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *pcap = NULL;
  g_autofree char *log = NULL;
  g_autofree char *filter = NULL;
  g_autofree char *expected = NULL;
  g_autoptr(GSubprocess) server = NULL;
  g_autoptr(GSubprocess) dumpcap = NULL;
  g_autoptr(GString) got = g_string_new (NULL);
  g_autofree char *dump_log = NULL;
  guint16 port;

  g_test_summary ("dumpcap records loopback while sipp registers, refreshes and unregisters "
                  "over UDP and TCP with `siplab-cli serve`; every SIP message tshark finds is "
                  "read, in the same frames and order, with no problem reported.");
  if (!have_programs ())
    return;
  dir = g_dir_make_tmp ("siplab-capture-XXXXXX", &error);
  g_assert_no_error (error);
  pcap = g_build_filename (dir, "lo.pcapng", NULL);
  log = g_build_filename (dir, "dumpcap.log", NULL);
  server = start_serve (dir, &port);
  filter = g_strdup_printf ("port %u", port);
  {
    const char *argv[] = { "dumpcap", "-i", "lo", "-f", filter, "-w", pcap, "-a",
                           "duration:120", NULL };

    dumpcap = spawn_logged (log, argv);
  }
  if (!wait_for_log (dumpcap, log, "Capturing on"))
    {
      g_file_get_contents (log, &dump_log, NULL, NULL);
      stop_process (server);
      g_test_skip_printf ("dumpcap cannot capture on loopback here: %s", dump_log);
      return;
    }
  run_sipp (dir, port, FALSE);
  run_sipp (dir, port, TRUE);
  /* dumpcap writes what it has when told to stop. */
  g_usleep (500 * 1000);
  stop_process (dumpcap);
  stop_process (server);

  g_assert_true (sim_capture_read_file (pcap, on_live_message, on_live_problem, got, &error));
  g_assert_no_error (error);
  expected = tshark_list (pcap);
  g_test_message ("read:\n%s", got->str);
  g_assert_cmpstr (got->str, ==, expected);
  /* Both runs: challenged, authenticated, refreshed and removed, over both transports. */
  g_assert_nonnull (strstr (got->str, "1 REGISTER UDP"));
  g_assert_nonnull (strstr (got->str, "1 REGISTER TCP"));
  g_assert_nonnull (strstr (got->str, "6 REGISTER TCP"));
  g_assert_nonnull (strstr (got->str, "6 REGISTER UDP"));
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_data_func ("/sim/capture/tcp-messages-are-cut-from-merged-split-and-retransmitted-"
                        "segments",
                        "tcp-split-merge.pcap", test_tcp_split_merge);
  g_test_add_data_func ("/sim/capture/pcapng-reads-the-same-tcp-messages",
                        "tcp-split-merge.pcapng", test_tcp_split_merge);
  g_test_add_func ("/sim/capture/ipv4-fragments-are-reassembled-and-a-lost-one-reported",
                   test_ipv4_fragments);
  g_test_add_func ("/sim/capture/ipv6-extension-headers-fragments-and-tcp", test_ipv6);
  g_test_add_data_func ("/sim/capture/linux-cooked-v1-is-read", "cooked-v1.pcap", test_link_types);
  g_test_add_data_func ("/sim/capture/linux-cooked-v2-is-read", "cooked-v2.pcapng",
                        test_link_types);
  g_test_add_data_func ("/sim/capture/vlan-and-qinq-tags-are-skipped", "vlan.pcap",
                        test_link_types);
  g_test_add_data_func ("/sim/capture/bsd-loopback-is-read", "null-loopback.pcap", test_link_types);
  g_test_add_data_func ("/sim/capture/raw-ip-with-nanosecond-times-is-read", "raw-nanosecond.pcap",
                        test_link_types);
  g_test_add_func ("/sim/capture/hep-in-udp-is-unwrapped-with-its-own-addresses", test_hep_in_udp);
  g_test_add_func ("/sim/capture/truncated-file-keeps-the-good-packets", test_truncated_file);
  g_test_add_func ("/sim/capture/bogus-lengths-are-reported-and-skipped", test_bogus_lengths);
  g_test_add_func ("/sim/capture/a-file-that-is-no-capture-is-an-error", test_not_a_capture);
  g_test_add_func ("/sim/capture/a-file-image-in-memory-reads-like-the-file", test_memory_image);
  g_test_add_func ("/sim/capture/tcp-streams-are-bounded", test_streams_are_bounded);
  g_test_add_func ("/sim/capture/bytes-waiting-in-tcp-streams-are-bounded",
                   test_held_bytes_are_bounded);
  g_test_add_func ("/sim/capture/a-tcp-gap-is-given-up-and-the-stream-resumes",
                   test_tcp_gap_resumes);
  g_test_add_func ("/sim/capture/a-fin-waits-for-the-retransmission-of-a-lost-segment",
                   test_fin_waits_for_a_retransmission);
  g_test_add_func ("/sim/capture/ip-fragments-are-bounded-and-expire", test_fragments_are_bounded);
  g_test_add_func ("/sim/capture/every-fragment-before-the-end-must-come",
                   test_fragments_must_all_come);
  g_test_add_func ("/sim/capture/a-tcp-message-over-the-cap-is-reported",
                   test_tcp_message_too_large);
  g_test_add_func ("/sim/capture/hep-fed-alone-is-unwrapped-and-checked", test_feed_hep);
  g_test_add_func ("/sim/capture/a-real-loopback-capture-of-sipp-and-serve-is-read-like-tshark",
                   test_live_capture);
  return g_test_run ();
}
