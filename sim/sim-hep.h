/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

#include "sim-types.h"

G_BEGIN_DECLS

/*
 * HEP (Homer Encapsulation Protocol) version 3, as sent by Kamailio siptrace, OpenSIPS
 * proto_hep, Asterisk res_hep and FreeSWITCH, and as documented by the HEP/EEP specification
 * (sipcapture/HEP, "HEP3 Network Protocol Specification"): a 6-byte header ("HEP3" and the
 * total length, big-endian) followed by chunks, each a 6-byte header (vendor id, type id and
 * chunk length including its header, all big-endian) and its value.
 *
 * Supported (generic vendor 0x0000) chunk types:
 *   1 IP protocol family (2 = IPv4, 10 = IPv6)    2 IP protocol id (17 = UDP, 6 = TCP)
 *   3/4 IPv4 source/destination address           5/6 IPv6 source/destination address
 *   7/8 source/destination port                   9/10 timestamp seconds/microseconds
 *   11 protocol type (1 = SIP)                    12 capture agent id
 *   14 authentication key                         15 payload
 *   16 compressed payload (zlib, RFC 1950)        17 correlation id
 * Other chunk types and every chunk of another vendor are skipped (the spec says a receiver
 * ignores what it does not know).
 *
 * HEPv1 and HEPv2 (Kamailio siptrace's default is version 1) are decoded too when a packet is
 * handed to sim_hep_decode() on its own (live HEP): a fixed header of version (1 or 2),
 * header length (8 plus the address bytes), family (2 or 10), IP protocol and the two ports
 * in network order, the two addresses, for version 2 a 12-byte time header (seconds,
 * microseconds, 16-bit capture id and 2 bytes of padding, little-endian as Kamailio writes
 * it), then the SIP message to the end of the datagram.  They carry no magic and no auth key, so
 * sim_hep_is_hep() (used to spot HEP inside captured UDP) recognises only HEPv3, and an expected
 * auth key refuses them.
 *
 * Decoding is bounded: every length is checked against the packet (at most
 * SIM_HEP_MAX_PACKET bytes, the 16-bit length field's range), the payload, compressed or not,
 * against SIM_HEP_MAX_PAYLOAD, and the auth key and correlation id against
 * SIM_HEP_MAX_STRING.  A packet must carry the family, both addresses, both ports and a
 * payload; a missing protocol id means UDP, a missing timestamp means 0.
 */

#define SIM_HEP_MAX_PACKET  65535           /* the HEP header's 16-bit total length */
#define SIM_HEP_MAX_PAYLOAD (64 * 1024)     /* payload bytes after decompression */
#define SIM_HEP_MAX_STRING  256             /* auth key and correlation id */

#define SIM_HEP_PROTO_SIP   1               /* chunk 11: the payload is a SIP message */

#define SIM_HEP_ERROR (sim_hep_error_quark ())
GQuark sim_hep_error_quark (void);

typedef enum {
  SIM_HEP_ERROR_NOT_HEP = 1,      /* no "HEP3" magic, nor a HEPv1/v2 header */
  SIM_HEP_ERROR_TRUNCATED,        /* a length runs past the end of the data */
  SIM_HEP_ERROR_BAD_LENGTH,       /* a length field that is impossible (short, oversized) */
  SIM_HEP_ERROR_BAD_CHUNK,        /* a chunk whose value has the wrong size or meaning */
  SIM_HEP_ERROR_MISSING,          /* a required chunk (family, address, port, payload) */
  SIM_HEP_ERROR_AUTH,             /* the expected auth key is absent or differs */
  SIM_HEP_ERROR_TOO_LARGE,        /* payload over SIM_HEP_MAX_PAYLOAD */
  SIM_HEP_ERROR_COMPRESSION,      /* chunk 16 that does not inflate */
} SimHepError;

/* One decoded HEP packet.  Owns its strings and payload. */
typedef struct {
  guint8 ip_family;        /* 2 (IPv4) or 10 (IPv6), as on the wire */
  guint8 ip_protocol;      /* 17 (UDP) or 6 (TCP); others kept as they are */
  SimAddr src;             /* transport: TCP for ip_protocol 6, UDP otherwise */
  SimAddr dst;
  guint32 ts_sec;
  guint32 ts_usec;
  guint8 proto_type;       /* chunk 11; SIM_HEP_PROTO_SIP for SIP, 0 when absent */
  guint32 capture_id;      /* chunk 12; 0 when absent */
  char *auth_key;          /* chunk 14 or NULL */
  char *correlation_id;    /* chunk 17 or NULL */
  GBytes *payload;         /* chunk 15, or chunk 16 inflated */
  gboolean compressed;     /* the payload came in chunk 16 */
  guint8 version;          /* 3, or 1 or 2 for the older binary header */
} SimHepPacket;

/* TRUE when @data starts with the HEPv3 magic "HEP3" (a cheap test before decoding). */
gboolean      sim_hep_is_hep        (const guint8  *data,
                                     gsize          len);
/*
 * Decodes one HEPv3 packet from @data (the packet may be followed by other bytes: the
 * header's length decides), or one HEPv1/v2 datagram (all of @data).  With @auth_key non-NULL, a
 * packet without chunk 14 equal to it is refused (SIM_HEP_ERROR_AUTH).  Returns a new packet, or
 * NULL and @error.
 */
SimHepPacket *sim_hep_decode        (const guint8  *data,
                                     gsize          len,
                                     const char    *auth_key,
                                     GError       **error) G_GNUC_WARN_UNUSED_RESULT;
/* Microseconds since the Unix epoch from the packet's chunks 9 and 10. */
gint64        sim_hep_packet_get_time_us (const SimHepPacket *packet);
void          sim_hep_packet_free   (SimHepPacket  *packet);
/*
 * Encodes @packet as HEPv3 (for tests, the fuzzer's seeds and the bench).  The family and
 * addresses come from src/dst (IPv6 when the address contains ':'); ip_protocol 0 is taken
 * from src.transport.  With @compress the payload goes into chunk 16 (zlib), else chunk 15.
 * Chunks 14 and 17 are written only when set.  NULL and @error when an address is not an IP
 * address or the packet would exceed SIM_HEP_MAX_PACKET.
 */
GBytes       *sim_hep_encode        (const SimHepPacket *packet,
                                     gboolean            compress,
                                     GError            **error) G_GNUC_WARN_UNUSED_RESULT;

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SimHepPacket, sim_hep_packet_free)

G_END_DECLS
