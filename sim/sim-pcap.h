/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

#include "sim-trace.h"

G_BEGIN_DECLS

/*
 * pcapng capture of a session, for Wireshark/tshark: one Ethernet II / IP / UDP frame per
 * datagram put on the wire (packet events "sent" and "retransmitted"; a datagram is captured
 * once, however it ends).  Timestamps are the virtual time in microseconds after a fixed epoch,
 * 2026-01-01T00:00:00Z, so a capture is the same bytes on every run.  MAC addresses are made up
 * from the IP addresses (02:00 + the IPv4 address, locally administered).  IPv4 and IPv6 are
 * encoded; TCP datagrams are skipped (the capture would need made-up TCP sequence numbers).
 */

#define SIM_PCAP_EPOCH_UNIX G_GINT64_CONSTANT (1767225600)   /* 2026-01-01T00:00:00Z */

#define SIM_PCAP_ERROR (sim_pcap_error_quark ())
GQuark sim_pcap_error_quark (void);

typedef enum {
  SIM_PCAP_ERROR_BAD_ADDRESS = 1,   /* not an IP address */
  SIM_PCAP_ERROR_TOO_LARGE,         /* more than fits in one UDP datagram */
} SimPcapError;

typedef struct _SimPcapWriter SimPcapWriter;

/* Writes the Section Header and Interface Description blocks to @stream at once. */
SimPcapWriter *sim_pcap_writer_new          (GOutputStream  *stream,
                                             GError        **error) G_GNUC_WARN_UNUSED_RESULT;
/* Captures @event if it is a datagram leaving a node; other events are ignored (TRUE). */
gboolean       sim_pcap_writer_add_event    (SimPcapWriter  *self,
                                             const SimEvent *event,
                                             GError        **error);
gboolean       sim_pcap_writer_add_datagram (SimPcapWriter  *self,
                                             SimTime         t,
                                             const SimAddr  *src,
                                             const SimAddr  *dst,
                                             const char     *data,
                                             gsize           len,
                                             GError        **error);
guint          sim_pcap_writer_get_n_frames (SimPcapWriter  *self);
void           sim_pcap_writer_free         (SimPcapWriter  *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SimPcapWriter, sim_pcap_writer_free)

/* The whole capture of @events (SimEvent*) in memory. */
GBytes        *sim_pcap_to_bytes            (GPtrArray      *events,
                                             guint          *n_frames) G_GNUC_WARN_UNUSED_RESULT;
gboolean       sim_pcap_write_file          (GPtrArray      *events,
                                             const char     *path,
                                             GError        **error);

G_END_DECLS
