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
 */

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
guint64     sim_net_get_n_delivered   (SimNet            *self);

G_END_DECLS
