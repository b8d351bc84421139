/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "sim-pcap.h"

#include <glib/gstdio.h>
#include <string.h>

/* A REGISTER, its 401, a retransmission of the authenticated REGISTER, a drop and the 200 OK. */
static const char *register_1 =
  "REGISTER sip:lab.example SIP/2.0\r\n"
  "Via: SIP/2.0/UDP 10.0.0.11:5060;branch=z9hG4bKone;rport\r\n"
  "Max-Forwards: 70\r\n"
  "From: <sip:alice@lab.example>;tag=a1\r\n"
  "To: <sip:alice@lab.example>\r\n"
  "Call-ID: reg-1@10.0.0.11\r\n"
  "CSeq: 1 REGISTER\r\n"
  "Contact: <sip:alice@10.0.0.11:5060>\r\n"
  "Expires: 3600\r\n"
  "Content-Length: 0\r\n"
  "\r\n";

static const char *unauthorized =
  "SIP/2.0 401 Unauthorized\r\n"
  "Via: SIP/2.0/UDP 10.0.0.11:5060;branch=z9hG4bKone;rport=5060\r\n"
  "From: <sip:alice@lab.example>;tag=a1\r\n"
  "To: <sip:alice@lab.example>;tag=r1\r\n"
  "Call-ID: reg-1@10.0.0.11\r\n"
  "CSeq: 1 REGISTER\r\n"
  "WWW-Authenticate: Digest realm=\"lab.example\", nonce=\"abc\", qop=\"auth\", algorithm=MD5\r\n"
  "Content-Length: 0\r\n"
  "\r\n";

static const char *register_2 =
  "REGISTER sip:lab.example SIP/2.0\r\n"
  "Via: SIP/2.0/UDP 10.0.0.11:5060;branch=z9hG4bKtwo;rport\r\n"
  "Max-Forwards: 70\r\n"
  "From: <sip:alice@lab.example>;tag=a1\r\n"
  "To: <sip:alice@lab.example>\r\n"
  "Call-ID: reg-1@10.0.0.11\r\n"
  "CSeq: 2 REGISTER\r\n"
  "Contact: <sip:alice@10.0.0.11:5060>\r\n"
  "Authorization: Digest username=\"alice\", realm=\"lab.example\", nonce=\"abc\", "
  "uri=\"sip:lab.example\", response=\"0123456789abcdef0123456789abcdef\", qop=auth, "
  "nc=00000001, cnonce=\"c1\", algorithm=MD5\r\n"
  "Expires: 3600\r\n"
  "Content-Length: 0\r\n"
  "\r\n";

static const char *ok =
  "SIP/2.0 200 OK\r\n"
  "Via: SIP/2.0/UDP 10.0.0.11:5060;branch=z9hG4bKtwo;rport=5060\r\n"
  "From: <sip:alice@lab.example>;tag=a1\r\n"
  "To: <sip:alice@lab.example>;tag=r2\r\n"
  "Call-ID: reg-1@10.0.0.11\r\n"
  "CSeq: 2 REGISTER\r\n"
  "Contact: <sip:alice@10.0.0.11:5060>;expires=3600\r\n"
  "Content-Length: 0\r\n"
  "\r\n";

static void
add_packet (GPtrArray  *events,
            SimTime     t,
            const char *action,
            const char *from_ip,
            const char *to_ip,
            const char *raw)
{
  SimEvent *event = sim_event_new (SIM_EVENT_PACKET, action);
  SimAddr src, dst;

  sim_addr_init (&src, from_ip, 5060, SIM_TRANSPORT_UDP);
  sim_addr_init (&dst, to_ip, 5060, SIM_TRANSPORT_UDP);
  event->t = t;
  event->index = events->len;
  sim_event_set_packet (event, from_ip, to_ip, &src, &dst, raw, strlen (raw));
  g_ptr_array_add (events, event);
}

static GPtrArray *
make_events (void)
{
  GPtrArray *events = g_ptr_array_new_with_free_func ((GDestroyNotify) sim_event_unref);
  SimEvent *note;

  add_packet (events, 0, "sent", "10.0.0.11", "10.0.0.1", register_1);
  add_packet (events, SIM_MSEC (20), "delivered", "10.0.0.11", "10.0.0.1", register_1);
  add_packet (events, SIM_MSEC (21), "sent", "10.0.0.1", "10.0.0.11", unauthorized);
  add_packet (events, SIM_MSEC (41), "delivered", "10.0.0.1", "10.0.0.11", unauthorized);
  note = sim_event_new (SIM_EVENT_NOTE, "note");
  note->text = g_strdup ("not a packet: not captured");
  g_ptr_array_add (events, note);
  add_packet (events, SIM_MSEC (42), "sent", "10.0.0.11", "10.0.0.1", register_2);
  add_packet (events, SIM_MSEC (42), "dropped", "10.0.0.11", "10.0.0.1", register_2);
  add_packet (events, SIM_MSEC (542), "retransmitted", "10.0.0.11", "10.0.0.1", register_2);
  add_packet (events, SIM_MSEC (562), "delivered", "10.0.0.11", "10.0.0.1", register_2);
  add_packet (events, SIM_USEC (563123), "sent", "10.0.0.1", "10.0.0.11", ok);
  return events;
}

static guint32
le32 (const guint8 *p)
{
  return p[0] | (p[1] << 8) | (p[2] << 16) | ((guint32) p[3] << 24);
}

static guint16
be16 (const guint8 *p)
{
  return (p[0] << 8) | p[1];
}

static guint16
checksum (const guint8 *p,
          gsize         len)
{
  guint32 sum = 0;

  for (gsize i = 0; i + 1 < len; i += 2)
    sum += (p[i] << 8) | p[i + 1];
  if (len % 2)
    sum += p[len - 1] << 8;
  while (sum >> 16)
    sum = (sum & 0xffff) + (sum >> 16);
  return ~sum & 0xffff;
}

static char *
write_capture (GPtrArray *events)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("siplab-pcap-XXXXXX", &error);
  char *path;

  g_assert_no_error (error);
  path = g_build_filename (dir, "capture.pcapng", NULL);
  sim_pcap_write_file (events, path, &error);
  g_assert_no_error (error);
  return path;
}

static void
remove_capture (const char *path)
{
  g_autofree char *dir = g_path_get_dirname (path);

  g_remove (path);
  g_rmdir (dir);
}

static void
test_blocks_are_well_formed (void)
{
  g_autoptr(GPtrArray) events = make_events ();
  g_autofree char *path = write_capture (events);
  g_autofree char *contents = NULL;
  g_autoptr(GError) error = NULL;
  const guint8 *p, *end;
  gsize len;
  guint n_epb = 0, n_shb = 0, n_idb = 0;
  const char *expected[] = { register_1, unauthorized, register_2, register_2, ok };
  const SimTime times[] = { 0, SIM_MSEC (21), SIM_MSEC (42), SIM_MSEC (542), SIM_USEC (563123) };

  g_test_summary ("Every block has matching leading and trailing lengths, a multiple of four; "
                  "one frame per datagram sent or retransmitted, with correct IPv4 and UDP "
                  "checksums and virtual-time timestamps after 2026-01-01.");

  g_file_get_contents (path, &contents, &len, &error);
  g_assert_no_error (error);
  p = (const guint8 *) contents;
  end = p + len;
  while (p < end)
    {
      guint32 type, total;

      g_assert_cmpint (end - p, >=, 12);
      type = le32 (p);
      total = le32 (p + 4);
      g_assert_cmpuint (total % 4, ==, 0);
      g_assert_cmpuint (total, <=, end - p);
      g_assert_cmpuint (le32 (p + total - 4), ==, total);

      if (type == 0x0A0D0D0A)
        {
          g_assert_cmpuint (n_shb + n_idb + n_epb, ==, 0);
          g_assert_cmpuint (le32 (p + 8), ==, 0x1A2B3C4D);
          n_shb++;
        }
      else if (type == 1)
        {
          g_assert_cmpuint (n_shb, ==, 1);
          g_assert_cmpuint (p[8] | (p[9] << 8), ==, 1);   /* LINKTYPE_ETHERNET */
          n_idb++;
        }
      else if (type == 6)
        {
          guint64 ts = ((guint64) le32 (p + 12) << 32) | le32 (p + 16);
          guint32 caplen = le32 (p + 20);
          const guint8 *frame = p + 28;
          const guint8 *ip = frame + 14;
          const guint8 *udp = ip + 20;
          const char *raw = expected[n_epb];
          g_autoptr(GDateTime) epoch = g_date_time_new_utc (2026, 1, 1, 0, 0, 0);

          g_assert_cmpuint (n_idb, ==, 1);
          g_assert_cmpuint (n_epb, <, G_N_ELEMENTS (expected));
          g_assert_cmpuint (le32 (p + 8), ==, 0);
          g_assert_cmpuint (ts, ==, (guint64) g_date_time_to_unix (epoch) * G_USEC_PER_SEC + times[n_epb]);
          g_assert_cmpuint (caplen, ==, 14 + 20 + 8 + strlen (raw));
          g_assert_cmpuint (le32 (p + 24), ==, caplen);
          g_assert_cmpuint (28 + caplen, <=, total - 4);

          g_assert_cmpuint (be16 (frame + 12), ==, 0x0800);
          g_assert_cmpuint (ip[0], ==, 0x45);
          g_assert_cmpuint (be16 (ip + 2), ==, 20 + 8 + strlen (raw));
          g_assert_cmpuint (ip[8], ==, 64);
          g_assert_cmpuint (ip[9], ==, 17);
          g_assert_cmpuint (checksum (ip, 20), ==, 0);
          g_assert_cmpuint (be16 (udp), ==, 5060);
          g_assert_cmpuint (be16 (udp + 2), ==, 5060);
          g_assert_cmpuint (be16 (udp + 4), ==, 8 + strlen (raw));
          g_assert_true (memcmp (udp + 8, raw, strlen (raw)) == 0);
          /* MACs are made from the IPs: 02:00:0a:00:00:xx */
          g_assert_cmpuint (frame[0], ==, 0x02);
          g_assert_cmpuint (frame[5], ==, ip[19]);
          g_assert_cmpuint (frame[11], ==, ip[15]);
          {
            /* UDP checksum: pseudo-header + datagram sums to zero. */
            g_autoptr(GByteArray) pseudo = g_byte_array_new ();
            guint8 extra[4] = { 0, 17, (8 + strlen (raw)) >> 8, (8 + strlen (raw)) & 0xff };
            g_byte_array_append (pseudo, ip + 12, 8);
            g_byte_array_append (pseudo, extra, 4);
            g_byte_array_append (pseudo, udp, 8 + strlen (raw));
            g_assert_cmpuint (checksum (pseudo->data, pseudo->len), ==, 0);
          }
          n_epb++;
        }
      else
        g_assert_not_reached ();
      p += total;
    }
  g_assert_true (p == end);
  g_assert_cmpuint (n_shb, ==, 1);
  g_assert_cmpuint (n_idb, ==, 1);
  g_assert_cmpuint (n_epb, ==, G_N_ELEMENTS (expected));
  remove_capture (path);
}

static void
test_capture_is_deterministic (void)
{
  g_autoptr(GPtrArray) events = make_events ();
  g_autoptr(GBytes) a = NULL;
  g_autoptr(GBytes) b = NULL;
  guint n = 0;

  a = sim_pcap_to_bytes (events, &n);
  b = sim_pcap_to_bytes (events, NULL);
  g_assert_cmpuint (n, ==, 5);
  g_assert_true (g_bytes_equal (a, b));
}

static void
test_ipv6_datagram (void)
{
  g_autoptr(GOutputStream) stream = g_memory_output_stream_new_resizable ();
  g_autoptr(SimPcapWriter) writer = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = NULL;
  SimAddr src, dst;
  const guint8 *p;
  gsize len;

  writer = sim_pcap_writer_new (stream, &error);
  g_assert_no_error (error);
  sim_addr_init (&src, "2001:db8::11", 5060, SIM_TRANSPORT_UDP);
  sim_addr_init (&dst, "2001:db8::1", 5060, SIM_TRANSPORT_UDP);
  sim_pcap_writer_add_datagram (writer, SIM_SEC (1), &src, &dst, register_1, strlen (register_1), &error);
  g_assert_no_error (error);
  sim_addr_init (&dst, "registrar", 5060, SIM_TRANSPORT_UDP);
  g_assert_false (sim_pcap_writer_add_datagram (writer, 0, &src, &dst, "x", 1, &error));
  g_assert_error (error, SIM_PCAP_ERROR, SIM_PCAP_ERROR_BAD_ADDRESS);
  g_assert_cmpuint (sim_pcap_writer_get_n_frames (writer), ==, 1);

  g_output_stream_close (stream, NULL, NULL);
  bytes = g_memory_output_stream_steal_as_bytes (G_MEMORY_OUTPUT_STREAM (stream));
  p = g_bytes_get_data (bytes, &len);
  p += le32 (p + 4);   /* skip SHB */
  p += le32 (p + 4);   /* skip IDB */
  g_assert_cmpuint (le32 (p), ==, 6);
  g_assert_cmpuint (be16 (p + 28 + 12), ==, 0x86dd);
  g_assert_cmpuint (p[28 + 14] >> 4, ==, 6);
  g_assert_cmpuint (be16 (p + 28 + 14 + 4), ==, 8 + strlen (register_1));
}

static void
test_tshark_sees_sip (void)
{
  g_autoptr(GPtrArray) events = make_events ();
  g_autofree char *tshark = g_find_program_in_path ("tshark");
  g_autofree char *path = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) lines = NULL;
  int status = 0;

  if (tshark == NULL)
    {
      g_test_skip ("tshark is not installed (Debian package 'tshark')");
      return;
    }
  path = write_capture (events);
  {
    const char *argv[] = { tshark, "-n", "-r", path, "-Y", "sip", "-T", "fields",
                           "-e", "sip.Method", "-e", "sip.Status-Code", "-e", "sip.Call-ID",
                           NULL };

    g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &status,
                  &error);
  }
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, NULL))
    g_error ("tshark failed: %s", err);
  g_test_message ("tshark: %s", out);
  lines = g_strsplit (g_strchomp (out), "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, 5);
  g_assert_cmpstr (lines[0], ==, "REGISTER\t\treg-1@10.0.0.11");
  g_assert_cmpstr (lines[1], ==, "\t401\treg-1@10.0.0.11");
  g_assert_cmpstr (lines[2], ==, "REGISTER\t\treg-1@10.0.0.11");
  g_assert_cmpstr (lines[3], ==, "REGISTER\t\treg-1@10.0.0.11");
  g_assert_cmpstr (lines[4], ==, "\t200\treg-1@10.0.0.11");
  remove_capture (path);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/sim/pcap/blocks-are-well-formed", test_blocks_are_well_formed);
  g_test_add_func ("/sim/pcap/capture-is-deterministic", test_capture_is_deterministic);
  g_test_add_func ("/sim/pcap/ipv6-datagram", test_ipv6_datagram);
  g_test_add_func ("/sim/pcap/tshark-sees-sip", test_tshark_sees_sip);
  return g_test_run ();
}
