/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

#include "sim-types.h"

G_BEGIN_DECLS

/*
 * Reading SIP out of captured traffic: pcap and pcapng files (through libpcap) or frames fed
 * one by one (the fuzzer, the tests, live input), and HEPv3 packets (sim-hep.h).
 *
 * Link types: Ethernet (with any number, up to SIM_CAPTURE_MAX_VLAN_TAGS, of 802.1Q / 802.1ad
 * QinQ tags), Linux cooked v1 and v2, BSD loopback (NULL, host byte order of the capturing
 * machine, and LOOP, network order), raw IP (IPv4 or IPv6 by its version nibble).
 * Network: IPv4 and IPv6 (hop-by-hop, routing, destination options and fragment headers are
 * walked; ESP or an unknown header ends the walk), both with fragment reassembly.  Transport:
 * UDP, and TCP reassembled per direction.  IP and UDP/TCP checksums are not checked: captures
 * taken on the sending host carry offloaded, wrong checksums.
 *
 * SIP is recognised by content on any port: a UDP payload or the start of a TCP stream whose
 * first line is a request line ("METHOD uri SIP/2.0") or a status line ("SIP/2.0 NNN").  A UDP
 * payload starting with "HEP3" is decoded as HEPv3 and, when it carries SIP (protocol type 1),
 * its inner message is delivered with the HEP packet's own addresses, transport and time
 * (from_hep TRUE).  Other payloads are ignored without a problem report.
 *
 * TCP: each direction of a connection is a stream, cut into messages by Content-Length with
 * SimFramer (sim-framing.h), so several messages in one segment and one message across
 * segments both work.  Retransmitted and overlapping segments are trimmed to the bytes not yet
 * seen; segments ahead of the next expected byte wait (up to SIM_CAPTURE_TCP_MAX_PENDING
 * segments and SIM_CAPTURE_TCP_WINDOW bytes ahead); when a gap does not fill, the stream skips
 * it with a problem report and resumes at the next segment that begins a SIP message.  A
 * stream seen without its SYN starts at its first segment with data.
 *
 * Delivery is in capture order: a UDP message with its frame (for fragments, the frame that
 * completed the datagram), a TCP message with the frame that brought its last byte.
 *
 * Problems (a truncated frame, a bogus length, a broken TCP stream, a fragment that never
 * completed, a HEP packet that does not decode) go to the problem function as "what is wrong"
 * with the frame number; the caller prefixes the file name.  Reading goes on.
 *
 * Everything a capture can make the reader hold is bounded by the constants below: the streams
 * (least recently used is dropped first), the bytes waiting in each and in all of them, the
 * datagrams being reassembled and their bytes (the oldest is dropped first) and their age in
 * capture time.
 */

/* Link types, the libpcap DLT_* values (pcap/dlt.h) so that no caller needs pcap.h. */
#define SIM_CAPTURE_LINK_NULL        0     /* BSD loopback, 4-byte family in host order */
#define SIM_CAPTURE_LINK_ETHERNET    1
#define SIM_CAPTURE_LINK_RAW         12    /* DLT_RAW on Linux; LINKTYPE_RAW (101) maps to it */
#define SIM_CAPTURE_LINK_RAW_OPENBSD 14
#define SIM_CAPTURE_LINK_RAW_101     101   /* LINKTYPE_RAW as stored in files */
#define SIM_CAPTURE_LINK_LOOP        108   /* OpenBSD loopback, family in network order */
#define SIM_CAPTURE_LINK_LINUX_SLL   113   /* Linux cooked v1 */
#define SIM_CAPTURE_LINK_IPV4        228
#define SIM_CAPTURE_LINK_IPV6        229
#define SIM_CAPTURE_LINK_LINUX_SLL2  276   /* Linux cooked v2 */

#define SIM_CAPTURE_MAX_VLAN_TAGS     4           /* stacked 802.1Q/802.1ad tags walked */
#define SIM_CAPTURE_MAX_MESSAGE       65535       /* one SIP message over TCP (framer cap) */
#define SIM_CAPTURE_MAX_STREAMS       4096        /* TCP directions followed at once */
#define SIM_CAPTURE_TCP_WINDOW        (256 * 1024)  /* bytes ahead of the next one kept */
#define SIM_CAPTURE_TCP_MAX_PENDING   64          /* out-of-order segments kept per stream */
#define SIM_CAPTURE_MAX_HELD_BYTES    (32 * 1024 * 1024)  /* bytes waiting in all TCP streams */
#define SIM_CAPTURE_MAX_FRAGMENTED    256         /* datagrams being reassembled at once */
#define SIM_CAPTURE_MAX_FRAGMENT_BYTES (8 * 1024 * 1024)  /* their bytes, all together */
#define SIM_CAPTURE_FRAGMENT_TIMEOUT  G_GINT64_CONSTANT (30000000)  /* µs of capture time */
#define SIM_CAPTURE_MAX_IP_DATAGRAM   65535       /* reassembled IPv4/IPv6 payload */

typedef struct {
  guint64 packet;          /* frame number, from 1 */
  gint64 time_us;          /* µs since the Unix epoch: the frame's, or the HEP packet's */
  SimAddr src;             /* transport is set: SIM_TRANSPORT_UDP or SIM_TRANSPORT_TCP */
  SimAddr dst;
  const char *data;        /* the SIP message; valid only during the call */
  gsize len;
  gboolean from_hep;       /* unwrapped from a HEPv3 packet */
} SimCapturedMessage;

typedef void (*SimCaptureFunc)        (const SimCapturedMessage *message,
                                       gpointer                  user_data);
/* @what is a sentence fragment without the packet number ("IPv4 header truncated"). */
typedef void (*SimCaptureProblemFunc) (guint64                   packet,
                                       const char               *what,
                                       gpointer                  user_data);

typedef struct {
  guint64 frames;          /* frames fed */
  guint64 messages;        /* SIP messages delivered */
  guint64 hep_messages;    /* of which from HEP */
  guint64 problems;        /* problem reports */
  guint64 streams;         /* TCP streams currently followed */
  guint64 fragmented;      /* datagrams currently being reassembled */
} SimCaptureStats;

#define SIM_CAPTURE_ERROR (sim_capture_error_quark ())
GQuark sim_capture_error_quark (void);

typedef enum {
  SIM_CAPTURE_ERROR_OPEN = 1,       /* libpcap cannot open the file (missing, not a capture) */
  SIM_CAPTURE_ERROR_LINK_TYPE,      /* a link type the reader does not know */
} SimCaptureError;

typedef struct _SimCaptureReader SimCaptureReader;

/* TRUE for the link types listed above. */
gboolean          sim_capture_link_type_supported (int                    link_type);

/* @problem_func may be NULL.  An unsupported @link_type makes every frame a problem. */
SimCaptureReader *sim_capture_reader_new        (int                    link_type,
                                                 SimCaptureFunc         func,
                                                 SimCaptureProblemFunc  problem_func,
                                                 gpointer               user_data)
                                                 G_GNUC_WARN_UNUSED_RESULT;
/* HEP packets without this chunk 14 are refused with a problem report.  NULL: any. */
void              sim_capture_reader_set_hep_auth_key (SimCaptureReader *self,
                                                       const char       *auth_key);
/*
 * Feeds the next frame: @caplen bytes captured of a frame @wirelen long on the wire (0: the
 * same), taken at @time_us.  The frame counts as packet number frames + 1.
 */
void              sim_capture_reader_feed       (SimCaptureReader      *self,
                                                 gint64                 time_us,
                                                 const guint8          *frame,
                                                 gsize                  caplen,
                                                 gsize                  wirelen);
/*
 * Feeds one HEP packet received on its own (live HEP over UDP: `watch --hep`): HEPv3, or HEPv1/v2
 * (Kamailio siptrace's default; see sim-hep.h).  Counts as a frame; a SIP payload is delivered
 * with from_hep set, a packet that does not decode (or lacks the auth key) is a problem report.
 * Non-SIP HEP (RTCP, logs) is ignored.
 */
void              sim_capture_reader_feed_hep   (SimCaptureReader      *self,
                                                 gint64                 time_us,
                                                 const guint8          *data,
                                                 gsize                  len);
/* The end of the capture: streams cut in the middle of a message and datagrams missing
 * fragments are reported as problems, then forgotten. */
void              sim_capture_reader_finish     (SimCaptureReader      *self);
void              sim_capture_reader_get_stats  (SimCaptureReader      *self,
                                                 SimCaptureStats       *stats);
void              sim_capture_reader_free       (SimCaptureReader      *self);

/*
 * Reads a pcap or pcapng file (nanosecond or microsecond timestamps) to its end, delivering
 * every SIP message and reporting every problem; a file that ends in the middle of a record is
 * a problem of its last packet, not an error.  FALSE and @error only when the file cannot be
 * read at all (SIM_CAPTURE_ERROR_OPEN) or its link type is unsupported.
 */
gboolean          sim_capture_read_file         (const char            *path,
                                                 SimCaptureFunc         func,
                                                 SimCaptureProblemFunc  problem_func,
                                                 gpointer               user_data,
                                                 GError               **error);
/* The same, with an expected HEP auth key (NULL: any) and the final statistics (may be NULL). */
gboolean          sim_capture_read_file_full    (const char            *path,
                                                 const char            *hep_auth_key,
                                                 SimCaptureFunc         func,
                                                 SimCaptureProblemFunc  problem_func,
                                                 gpointer               user_data,
                                                 SimCaptureStats       *stats,
                                                 GError               **error);

/* The same for a whole pcap or pcapng file image in memory (the fuzzer, a dropped file). */
gboolean          sim_capture_read_data         (const guint8          *data,
                                                 gsize                  len,
                                                 const char            *hep_auth_key,
                                                 SimCaptureFunc         func,
                                                 SimCaptureProblemFunc  problem_func,
                                                 gpointer               user_data,
                                                 SimCaptureStats       *stats,
                                                 GError               **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SimCaptureReader, sim_capture_reader_free)

G_END_DECLS
