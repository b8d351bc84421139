/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib-object.h>

#include "sim-clock.h"
#include "sim-trace.h"

G_BEGIN_DECLS

/*
 * SimNet: the in-process simulated IP network.  Hosts have a name and an IPv4 address; links
 * between them have latency, jitter and loss drawn from the session's seeded GRand.  A datagram
 * is addressed to an IP and port, and is delivered to whatever host has that address *when it
 * arrives* — so a phone that moved away simply stops receiving, exactly as on a real LAN.
 *
 * A host may be a NAT (sim_net_add_nat(): a home router with one public address) and other
 * hosts may sit behind it (sim_net_set_behind()).  Their addresses are private: nothing outside
 * the NAT routes to them.  What such a host sends outside goes to the NAT first (a hop of its
 * own, traced like any other), which rewrites the source to its public address and a port of a
 * mapping, and sends it on; what arrives at that public port comes back in, rewritten to the
 * private address.  Mappings are endpoint-independent, filtering is address-dependent (only
 * hosts the inside host has sent to get in; RFC 4787 §4.1, §5), ports are taken in order from
 * SIM_NET_NAT_FIRST_PORT (no port preservation), and only outgoing traffic keeps a mapping
 * open: one unused for the NAT's timeout closes (RFC 4787 REQ-5, REQ-6).  The NAT changes
 * addresses, never the bytes: a SIP message still names the private address in its Via and
 * Contact.  Opening and closing mappings are traced as notes of the NAT.
 *
 * A link may be on TLS (SimLinkParams.tls): what crosses it is delivered as it is, but it is
 * marked (SimEvent.tls) and a sniffer learns only its addresses, ports and the size of the TLS
 * record that carried it.  The simulator models TLS's confidentiality hop by hop, not its
 * framing: the SIP text still names the transport the phone chose.
 *
 * A sniffer (sim_net_add_sniffer()) is a passive listener on one link or on the whole LAN
 * (every link): each datagram put on a link it watches is copied to it as a
 * SIM_EVENT_CAPTURE "captured" event, at the moment it is sent (before the link may lose it).
 * On a plain link the copy is the whole text; on a TLS link it has no text, only
 * SimEvent.wire_len = the message's length + SIM_NET_TLS_RECORD_OVERHEAD.
 */

/* Bytes a TLS record adds to what it carries: TLS 1.3 with AES-GCM, a 5-byte record header,
 * the 1-byte inner content type and a 16-byte tag (RFC 8446 §5.2); TLS 1.2 with AES-GCM adds
 * 29 (a header, an 8-byte explicit nonce and the tag, RFC 5288 §3).  No padding is modelled. */
#define SIM_NET_TLS_RECORD_OVERHEAD 22
/* Sniffers one net holds. */
#define SIM_NET_MAX_SNIFFERS 16

/* How long a mapping lives without outgoing traffic unless the NAT says otherwise (RFC 4787
 * REQ-5 asks for at least 2 minutes and recommends 5). */
#define SIM_NET_NAT_DEFAULT_TIMEOUT SIM_SEC (300)
/* The first public port a NAT hands out; the next mapping takes the next free one. */
#define SIM_NET_NAT_FIRST_PORT 40000
/* Mappings one NAT holds at once; a new flow beyond that is dropped. */
#define SIM_NET_NAT_MAX_MAPPINGS 1024
/* Remote addresses a mapping remembers for its filter; the oldest is forgotten first. */
#define SIM_NET_NAT_MAX_PEERS 16

#define SIM_TYPE_NET (sim_net_get_type ())
G_DECLARE_FINAL_TYPE (SimNet, sim_net, SIM, NET, GObject)

typedef void (*SimNetReceiveFunc) (const SimAddr *src,
                                   const SimAddr *dst,
                                   const char    *data,
                                   gsize          len,
                                   gpointer       user_data);

typedef struct {
  SimTime latency;
  SimTime jitter;
  double loss;           /* 0.0 .. 1.0 */
  gboolean tls;          /* the link carries SIP over TLS: a sniffer sees record sizes only */
} SimLinkParams;

SimNet     *sim_net_new               (SimClock          *clock,
                                       SimTrace          *trace,
                                       GRand             *rand) G_GNUC_WARN_UNUSED_RESULT;
gboolean    sim_net_add_host          (SimNet            *self,
                                       const char        *name,
                                       const char        *ip,
                                       GError           **error);
void        sim_net_remove_host       (SimNet            *self,
                                       const char        *name);
gboolean    sim_net_has_host          (SimNet            *self,
                                       const char        *name);
const char *sim_net_host_ip           (SimNet            *self,
                                       const char        *name);
const char *sim_net_host_for_ip       (SimNet            *self,
                                       const char        *ip);
gboolean    sim_net_host_is_up        (SimNet            *self,
                                       const char        *name);
/* Names of all hosts, in the order they were added. */
GPtrArray  *sim_net_list_hosts        (SimNet            *self) G_GNUC_WARN_UNUSED_RESULT;
gboolean    sim_net_move_host         (SimNet            *self,
                                       const char        *name,
                                       const char        *new_ip,
                                       GError           **error);
void        sim_net_set_host_up       (SimNet            *self,
                                       const char        *name,
                                       gboolean           up);
/* Binds @port on host @name: datagrams to ip:port go to @func. */
void        sim_net_bind              (SimNet            *self,
                                       const char        *name,
                                       guint16            port,
                                       SimNetReceiveFunc  func,
                                       gpointer           user_data);
void        sim_net_unbind            (SimNet            *self,
                                       const char        *name,
                                       guint16            port);
void        sim_net_set_default_link  (SimNet            *self,
                                       const SimLinkParams *params);
void        sim_net_get_default_link  (SimNet            *self,
                                       SimLinkParams     *params);
/* Parameters for traffic between hosts @a and @b (both directions). */
void        sim_net_set_link          (SimNet            *self,
                                       const char        *a,
                                       const char        *b,
                                       const SimLinkParams *params);
void        sim_net_get_link          (SimNet            *self,
                                       const char        *a,
                                       const char        *b,
                                       SimLinkParams     *params);
/* Sends a datagram.  Traced as "sent" (or "retransmitted"), then "delivered" or "dropped". */
void        sim_net_send              (SimNet            *self,
                                       const SimAddr     *src,
                                       const SimAddr     *dst,
                                       const char        *data,
                                       gsize              len,
                                       gboolean           retransmission);
guint64     sim_net_get_n_sent        (SimNet            *self);
/* Datagrams delivered to their final host (a NAT's forwarding counts as a delivery too). */
guint64     sim_net_get_n_delivered   (SimNet            *self);

/* A NAT host named @name with public address @ip; @timeout <= 0: SIM_NET_NAT_DEFAULT_TIMEOUT. */
gboolean    sim_net_add_nat           (SimNet            *self,
                                       const char        *name,
                                       const char        *ip,
                                       SimTime            timeout,
                                       GError           **error);
gboolean    sim_net_host_is_nat       (SimNet            *self,
                                       const char        *name);
SimTime     sim_net_nat_get_timeout   (SimNet            *self,
                                       const char        *nat);
/* Puts host @name behind NAT @nat (NULL: on the public side again). */
gboolean    sim_net_set_behind        (SimNet            *self,
                                       const char        *name,
                                       const char        *nat,
                                       GError           **error);
/* The NAT host @name is behind, or NULL. */
const char *sim_net_host_behind       (SimNet            *self,
                                       const char        *name);
/* The public address NAT @nat maps @inside to now; FALSE when it has no open mapping. */
gboolean    sim_net_nat_lookup        (SimNet            *self,
                                       const char        *nat,
                                       const SimAddr     *inside,
                                       SimAddr           *public_addr);
guint       sim_net_nat_get_n_mappings (SimNet           *self,
                                       const char        *nat);

/* A sniffer named @name on the link between hosts @a and @b (both NULL: on every link).  The
 * name must be free among hosts and sniffers; the hosts need not exist yet. */
gboolean    sim_net_add_sniffer       (SimNet            *self,
                                       const char        *name,
                                       const char        *a,
                                       const char        *b,
                                       GError           **error);
gboolean    sim_net_has_sniffer       (SimNet            *self,
                                       const char        *name);
/* Where sniffer @name listens: the hosts of its link in @a and @b, or NULL and NULL for the
 * whole LAN (owned by the net).  FALSE when there is no such sniffer. */
gboolean    sim_net_get_sniffer       (SimNet            *self,
                                       const char        *name,
                                       const char       **a,
                                       const char       **b);
/* Names of the sniffers, in the order they were added. */
GPtrArray  *sim_net_list_sniffers     (SimNet            *self) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
