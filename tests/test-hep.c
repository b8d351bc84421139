/* SPDX-License-Identifier: GPL-3.0-or-later */
/* HEPv3 decoding and encoding (sim/sim-hep.c): round trips, the auth key, and hostile lengths. */
#include <string.h>
#include <zlib.h>

#include "sim-capture.h"
#include "sim-hep.h"

#define REGISTER "REGISTER sip:lab SIP/2.0\r\nCall-ID: x\r\nContent-Length: 0\r\n\r\n"

static SimHepPacket *
make_packet (const char *src,
             const char *dst,
             SimTransportKind transport)
{
  SimHepPacket *p = g_new0 (SimHepPacket, 1);

  sim_addr_init (&p->src, src, 5060, transport);
  sim_addr_init (&p->dst, dst, 5070, transport);
  p->ts_sec = 1767225600;
  p->ts_usec = 123456;
  p->capture_id = 2001;
  p->payload = g_bytes_new_static (REGISTER, strlen (REGISTER));
  return p;
}

static void
assert_same (const SimHepPacket *a,
             const SimHepPacket *b)
{
  g_assert_cmpstr (a->src.ip, ==, b->src.ip);
  g_assert_cmpstr (a->dst.ip, ==, b->dst.ip);
  g_assert_cmpuint (a->src.port, ==, b->src.port);
  g_assert_cmpuint (a->dst.port, ==, b->dst.port);
  g_assert_cmpint (a->src.transport, ==, b->src.transport);
  g_assert_cmpint (a->dst.transport, ==, b->dst.transport);
  g_assert_cmpuint (a->ts_sec, ==, b->ts_sec);
  g_assert_cmpuint (a->ts_usec, ==, b->ts_usec);
  g_assert_cmpuint (a->capture_id, ==, b->capture_id);
  g_assert_cmpstr (a->auth_key, ==, b->auth_key);
  g_assert_cmpstr (a->correlation_id, ==, b->correlation_id);
  g_assert_true (g_bytes_equal (a->payload, b->payload));
}

static void
test_round_trip (void)
{
  static const struct { const char *src, *dst; SimTransportKind t; gboolean z; } cases[] = {
    { "192.0.2.10", "192.0.2.1", SIM_TRANSPORT_UDP, FALSE },
    { "192.0.2.10", "192.0.2.1", SIM_TRANSPORT_TCP, TRUE },
    { "2001:db8::10", "2001:db8::1", SIM_TRANSPORT_UDP, TRUE },
    { "::1", "::1", SIM_TRANSPORT_TCP, FALSE },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(SimHepPacket) p = make_packet (cases[i].src, cases[i].dst, cases[i].t);
      g_autoptr(GBytes) wire = NULL;
      g_autoptr(SimHepPacket) back = NULL;
      g_autoptr(GError) error = NULL;
      gsize len;
      const guint8 *data;

      p->correlation_id = g_strdup ("call-1");
      wire = sim_hep_encode (p, cases[i].z, &error);
      g_assert_no_error (error);
      data = g_bytes_get_data (wire, &len);
      g_assert_true (sim_hep_is_hep (data, len));
      back = sim_hep_decode (data, len, NULL, &error);
      g_assert_no_error (error);
      assert_same (p, back);
      g_assert_cmpuint (back->proto_type, ==, SIM_HEP_PROTO_SIP);
      g_assert_cmpint (back->compressed, ==, cases[i].z);
      g_assert_cmpint (sim_hep_packet_get_time_us (back), ==,
                       G_GINT64_CONSTANT (1767225600123456));
    }
}

static GBytes *
encode (const char *key)
{
  g_autoptr(SimHepPacket) p = make_packet ("192.0.2.10", "192.0.2.1", SIM_TRANSPORT_UDP);
  g_autoptr(GError) error = NULL;
  GBytes *wire;

  p->auth_key = g_strdup (key);
  wire = sim_hep_encode (p, FALSE, &error);
  g_assert_no_error (error);
  return wire;
}

static void
test_auth_key (void)
{
  g_autoptr(GBytes) keyed = encode ("secret");
  g_autoptr(GBytes) wrong = encode ("guess");
  g_autoptr(GBytes) bare = encode (NULL);
  g_autoptr(SimHepPacket) ok = NULL;
  g_autoptr(SimHepPacket) any = NULL;
  g_autoptr(GError) error = NULL;
  gsize len;
  const guint8 *data;

  g_test_summary ("With an expected auth key, packets without it or with another are refused.");
  data = g_bytes_get_data (keyed, &len);
  ok = sim_hep_decode (data, len, "secret", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (ok->auth_key, ==, "secret");
  data = g_bytes_get_data (wrong, &len);
  g_assert_null (sim_hep_decode (data, len, "secret", &error));
  g_assert_error (error, SIM_HEP_ERROR, SIM_HEP_ERROR_AUTH);
  g_clear_error (&error);
  data = g_bytes_get_data (bare, &len);
  g_assert_null (sim_hep_decode (data, len, "secret", &error));
  g_assert_error (error, SIM_HEP_ERROR, SIM_HEP_ERROR_AUTH);
  g_clear_error (&error);
  /* Without an expected key, any packet is taken. */
  any = sim_hep_decode (data, len, NULL, &error);
  g_assert_no_error (error);
}

static void
test_every_truncation_is_refused (void)
{
  g_autoptr(GBytes) wire = encode ("secret");
  gsize len;
  const guint8 *data = g_bytes_get_data (wire, &len);

  g_test_summary ("Every prefix of a packet is refused cleanly (the header length is checked), "
                  "and so is every prefix whose header length is patched to fit.");
  for (gsize n = 0; n < len; n++)
    {
      g_autofree guint8 *copy = g_memdup2 (data, len);
      g_autoptr(GError) error = NULL;
      SimHepPacket *p;

      g_assert_null (sim_hep_decode (copy, n, NULL, &error));
      g_assert_nonnull (error);
      g_clear_error (&error);
      if (n >= 6)
        {
          copy[4] = n >> 8;
          copy[5] = n & 0xff;
          p = sim_hep_decode (copy, n, NULL, &error);
          /* A cut on a chunk boundary after the payload still decodes; nothing else does. */
          g_assert_true ((p == NULL) != (error == NULL));
          sim_hep_packet_free (p);
        }
    }
}

static void
test_bogus_lengths (void)
{
  g_autoptr(GBytes) wire = encode (NULL);
  gsize len;
  const guint8 *data = g_bytes_get_data (wire, &len);
  g_autofree guint8 *copy = g_memdup2 (data, len);
  g_autoptr(GError) error = NULL;

  /* The first chunk (IP family) claims 0xffff bytes. */
  copy[6 + 4] = 0xff;
  copy[6 + 5] = 0xff;
  g_assert_null (sim_hep_decode (copy, len, NULL, &error));
  g_assert_error (error, SIM_HEP_ERROR, SIM_HEP_ERROR_BAD_LENGTH);
  g_clear_error (&error);
  /* A chunk shorter than its own header would never advance. */
  copy[6 + 4] = 0;
  copy[6 + 5] = 3;
  g_assert_null (sim_hep_decode (copy, len, NULL, &error));
  g_assert_error (error, SIM_HEP_ERROR, SIM_HEP_ERROR_BAD_LENGTH);
  g_clear_error (&error);
  /* The IP family chunk holding two bytes. */
  copy[6 + 5] = 8;
  g_assert_null (sim_hep_decode (copy, len, NULL, &error));
  g_assert_error (error, SIM_HEP_ERROR, SIM_HEP_ERROR_BAD_CHUNK);
  g_clear_error (&error);
  /* A header length shorter than the header. */
  memcpy (copy, data, len);
  copy[4] = 0;
  copy[5] = 3;
  g_assert_null (sim_hep_decode (copy, len, NULL, &error));
  g_assert_error (error, SIM_HEP_ERROR, SIM_HEP_ERROR_BAD_LENGTH);
  g_clear_error (&error);
  g_assert_null (sim_hep_decode ((const guint8 *) "HEP2\0\6", 6, NULL, &error));
  g_assert_error (error, SIM_HEP_ERROR, SIM_HEP_ERROR_NOT_HEP);
}

/* A hand-made packet: the header, then @chunks as given. */
static GBytes *
raw_packet (const guint8 *chunks,
            gsize         len)
{
  GByteArray *out = g_byte_array_new ();
  guint8 head[6] = { 'H', 'E', 'P', '3', (len + 6) >> 8, (len + 6) & 0xff };

  g_byte_array_append (out, head, 6);
  g_byte_array_append (out, chunks, len);
  return g_byte_array_free_to_bytes (out);
}

static void
test_missing_and_unknown_chunks (void)
{
  /* Family, v4 src, v4 dst, ports, an unknown generic chunk 99, a vendor chunk, payload. */
  static const guint8 chunks[] = {
    0, 0, 0, 1, 0, 7, 2,
    0, 0, 0, 3, 0, 10, 10, 0, 0, 1,
    0, 0, 0, 4, 0, 10, 10, 0, 0, 2,
    0, 0, 0, 7, 0, 8, 0x13, 0xc4,
    0, 0, 0, 8, 0, 8, 0x13, 0xc4,
    0, 0, 0, 99, 0, 9, 1, 2, 3,
    0, 0x21, 0, 1, 0, 8, 9, 9,
    0, 0, 0, 15, 0, 9, 'S', 'I', 'P',
  };
  g_autoptr(GBytes) whole = raw_packet (chunks, sizeof chunks);
  g_autoptr(GBytes) no_payload = raw_packet (chunks, sizeof chunks - 9);
  g_autoptr(SimHepPacket) p = NULL;
  g_autoptr(GError) error = NULL;
  gsize len;
  const guint8 *data = g_bytes_get_data (whole, &len);

  p = sim_hep_decode (data, len, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (p->src.ip, ==, "10.0.0.1");
  g_assert_cmpuint (p->dst.port, ==, 5060);
  /* No protocol chunk: UDP; no protocol type: 0, so a reader does not take it for SIP. */
  g_assert_cmpint (p->src.transport, ==, SIM_TRANSPORT_UDP);
  g_assert_cmpuint (p->proto_type, ==, 0);
  data = g_bytes_get_data (no_payload, &len);
  g_assert_null (sim_hep_decode (data, len, NULL, &error));
  g_assert_error (error, SIM_HEP_ERROR, SIM_HEP_ERROR_MISSING);
}

static void
test_payload_limits (void)
{
  gsize big = SIM_HEP_MAX_PAYLOAD + 1;
  g_autofree guint8 *zeros = g_malloc0 (big);
  uLongf zlen = compressBound (big);
  g_autofree guint8 *z = g_malloc (zlen);
  g_autoptr(GByteArray) chunks = g_byte_array_new ();
  g_autoptr(GBytes) bomb = NULL;
  g_autoptr(SimHepPacket) p = make_packet ("192.0.2.10", "192.0.2.1", SIM_TRANSPORT_UDP);
  g_autoptr(GError) error = NULL;
  static const guint8 head[] = {
    0, 0, 0, 1, 0, 7, 2,
    0, 0, 0, 3, 0, 10, 10, 0, 0, 1,
    0, 0, 0, 4, 0, 10, 10, 0, 0, 2,
    0, 0, 0, 7, 0, 8, 0x13, 0xc4,
    0, 0, 0, 8, 0, 8, 0x13, 0xc4,
  };
  guint8 zhead[6] = { 0, 0, 0, 16, 0, 0 };
  gsize len;
  const guint8 *data;

  g_test_summary ("A compressed payload that inflates past SIM_HEP_MAX_PAYLOAD is refused, "
                  "and so is an oversized payload or auth key given to the encoder.");
  g_assert_cmpint (compress2 (z, &zlen, zeros, big, 9), ==, Z_OK);
  zhead[4] = (zlen + 6) >> 8;
  zhead[5] = (zlen + 6) & 0xff;
  g_byte_array_append (chunks, head, sizeof head);
  g_byte_array_append (chunks, zhead, 6);
  g_byte_array_append (chunks, z, zlen);
  bomb = raw_packet (chunks->data, chunks->len);
  data = g_bytes_get_data (bomb, &len);
  g_assert_null (sim_hep_decode (data, len, NULL, &error));
  g_assert_error (error, SIM_HEP_ERROR, SIM_HEP_ERROR_TOO_LARGE);
  g_clear_error (&error);
  /* Corrupt zlib data. */
  memset (chunks->data + sizeof head + 6, 0x55, 8);
  g_clear_pointer (&bomb, g_bytes_unref);
  bomb = raw_packet (chunks->data, chunks->len);
  data = g_bytes_get_data (bomb, &len);
  g_assert_null (sim_hep_decode (data, len, NULL, &error));
  g_assert_error (error, SIM_HEP_ERROR, SIM_HEP_ERROR_COMPRESSION);
  g_clear_error (&error);

  g_bytes_unref (p->payload);
  p->payload = g_bytes_new (zeros, big);
  g_assert_null (sim_hep_encode (p, TRUE, &error));
  g_assert_error (error, SIM_HEP_ERROR, SIM_HEP_ERROR_TOO_LARGE);
  g_clear_error (&error);
  g_bytes_unref (p->payload);
  p->payload = g_bytes_new (zeros, 10);
  p->auth_key = g_strnfill (SIM_HEP_MAX_STRING + 1, 'k');
  g_assert_null (sim_hep_encode (p, FALSE, &error));
  g_assert_error (error, SIM_HEP_ERROR, SIM_HEP_ERROR_TOO_LARGE);
  g_clear_error (&error);
  sim_addr_init (&p->src, "alice", 5060, SIM_TRANSPORT_UDP);
  g_clear_pointer (&p->auth_key, g_free);
  g_assert_null (sim_hep_encode (p, FALSE, &error));
  g_assert_error (error, SIM_HEP_ERROR, SIM_HEP_ERROR_BAD_CHUNK);
}

static void
test_hep_v1_v2 (void)
{
  /* HEPv2, IPv4, UDP, 10.0.0.1:5060 -> 10.0.0.2:5070, 1767225600.000007, capture id 7. */
  static const guint8 v2[] = {
    2, 16, 2, 17, 0x13, 0xc4, 0x13, 0xce, 10, 0, 0, 1, 10, 0, 0, 2,
    0x00, 0xb9, 0x55, 0x69, 7, 0, 0, 0, 7, 0, 0, 0,
    'O', 'P', 'T', 'I', 'O', 'N', 'S',
  };
  g_autoptr(GByteArray) v1 = g_byte_array_new ();
  static const guint8 v1_head[] = { 1, 40, 10, 6, 0x13, 0xc4, 0x13, 0xce };
  guint8 addrs[32] = { 0 };
  g_autoptr(SimHepPacket) p = NULL;
  g_autoptr(SimHepPacket) q = NULL;
  g_autoptr(GError) error = NULL;

  g_test_summary ("HEPv1 and HEPv2 (Kamailio siptrace's default is version 1) decode when "
                  "handed over alone; they carry no auth key, so an expected one refuses them.");
  p = sim_hep_decode (v2, sizeof v2, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (p->version, ==, 2);
  g_assert_cmpstr (p->src.ip, ==, "10.0.0.1");
  g_assert_cmpstr (p->dst.ip, ==, "10.0.0.2");
  g_assert_cmpuint (p->src.port, ==, 5060);
  g_assert_cmpuint (p->dst.port, ==, 5070);
  g_assert_cmpint (p->src.transport, ==, SIM_TRANSPORT_UDP);
  g_assert_cmpint (sim_hep_packet_get_time_us (p), ==, G_GINT64_CONSTANT (1767225600000007));
  g_assert_cmpuint (p->capture_id, ==, 7);
  g_assert_cmpuint (g_bytes_get_size (p->payload), ==, 7);
  g_assert_cmpuint (p->proto_type, ==, SIM_HEP_PROTO_SIP);

  addrs[15] = 1;   /* ::1 */
  addrs[31] = 1;
  g_byte_array_append (v1, v1_head, sizeof v1_head);
  g_byte_array_append (v1, addrs, sizeof addrs);
  g_byte_array_append (v1, (const guint8 *) "SIP/2.0 200 OK\r\n", 16);
  q = sim_hep_decode (v1->data, v1->len, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (q->version, ==, 1);
  g_assert_cmpstr (q->src.ip, ==, "::1");
  g_assert_cmpint (q->src.transport, ==, SIM_TRANSPORT_TCP);
  g_assert_cmpuint (g_bytes_get_size (q->payload), ==, 16);

  g_assert_null (sim_hep_decode (v2, sizeof v2, "k", &error));
  g_assert_error (error, SIM_HEP_ERROR, SIM_HEP_ERROR_AUTH);
  g_clear_error (&error);
  for (gsize n = 0; n <= 28; n++)
    {
      g_assert_null (sim_hep_decode (v2, n, NULL, &error));
      g_assert_nonnull (error);
      g_clear_error (&error);
    }
  {
    g_autofree guint8 *bad = g_memdup2 (v2, sizeof v2);

    bad[1] = 99;
    g_assert_null (sim_hep_decode (bad, sizeof v2, NULL, &error));
    g_assert_error (error, SIM_HEP_ERROR, SIM_HEP_ERROR_BAD_LENGTH);
    g_clear_error (&error);
    bad[1] = 16;
    bad[2] = 7;
    g_assert_null (sim_hep_decode (bad, sizeof v2, NULL, &error));
    g_assert_error (error, SIM_HEP_ERROR, SIM_HEP_ERROR_NOT_HEP);
  }
}

static void
count_message (const SimCapturedMessage *m,
               gpointer                  user_data)
{
  g_assert_true (m->from_hep);
  g_assert_cmpmem (m->data, 8, "OPTIONS ", 8);
  (*(guint *) user_data)++;
}

static void
no_problem (guint64     packet,
            const char *what,
            gpointer    user_data)
{
  g_error ("problem: %s", what);
}

static void
test_kamailio (void)
{
  g_test_summary ("What Kamailio 5.6 siptrace really sends as HEPv1, v2 and v3 (recorded by "
                  "tests/captures/record-kamailio-hep.sh) decodes to the traced OPTIONS.");
  for (guint v = 1; v <= 3; v++)
    {
      g_autofree char *name = g_strdup_printf ("kamailio-hepv%u.bin", v);
      g_autofree char *path = g_test_build_filename (G_TEST_DIST, "captures", name, NULL);
      g_autofree char *data = NULL;
      g_autoptr(GError) error = NULL;
      g_autoptr(SimHepPacket) p = NULL;
      g_autoptr(SimCaptureReader) reader = NULL;
      guint messages = 0;
      gsize len;
      gsize plen;
      const char *payload;

      g_assert_true (g_file_get_contents (path, &data, &len, &error));
      p = sim_hep_decode ((const guint8 *) data, len, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (p->version, ==, v);
      g_assert_cmpstr (p->src.ip, ==, "127.0.0.1");
      g_assert_cmpstr (p->dst.ip, ==, "127.0.0.1");
      g_assert_cmpuint (p->dst.port, ==, 47060 + v);
      g_assert_cmpint (p->src.transport, ==, SIM_TRANSPORT_UDP);
      g_assert_cmpuint (p->proto_type, ==, SIM_HEP_PROTO_SIP);
      if (v > 1)
        {
          g_assert_cmpuint (p->ts_sec, >, 1700000000);
          g_assert_cmpuint (p->ts_usec, <, 1000000);
          g_assert_cmpuint (p->capture_id, ==, 1);
        }
      /* The whole traced request, from its request line to its blank line. */
      payload = g_bytes_get_data (p->payload, &plen);
      g_assert_cmpmem (payload, 24, "OPTIONS sip:lab SIP/2.0\r", 24);
      g_assert_cmpmem (payload + plen - 4, 4, "\r\n\r\n", 4);
      reader = sim_capture_reader_new (SIM_CAPTURE_LINK_RAW, count_message, no_problem, &messages);
      sim_capture_reader_feed_hep (reader, 0, (const guint8 *) data, len);
      g_assert_cmpuint (messages, ==, 1);
    }
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/sim/hep/encoded-packets-decode-to-the-same-fields", test_round_trip);
  g_test_add_func ("/sim/hep/an-expected-auth-key-refuses-other-packets", test_auth_key);
  g_test_add_func ("/sim/hep/every-truncation-is-refused", test_every_truncation_is_refused);
  g_test_add_func ("/sim/hep/bogus-lengths-are-refused", test_bogus_lengths);
  g_test_add_func ("/sim/hep/unknown-chunks-are-skipped-and-missing-ones-refused",
                   test_missing_and_unknown_chunks);
  g_test_add_func ("/sim/hep/payloads-are-bounded", test_payload_limits);
  g_test_add_func ("/sim/hep/hep-v1-and-v2-decode-when-handed-over-alone", test_hep_v1_v2);
  g_test_add_func ("/sim/hep/kamailio-siptrace-packets-decode", test_kamailio);
  return g_test_run ();
}
