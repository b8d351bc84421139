/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Time is counted in microseconds on the session's clock, virtual or wall. */
typedef gint64 SimTime;

#define SIM_USEC(x)    ((SimTime) (x))
#define SIM_MSEC(x)    ((SimTime) (x) * 1000)
#define SIM_SEC(x)     ((SimTime) (x) * 1000000)
#define SIM_TIME_TO_SECONDS(t) ((double) (t) / 1e6)
/* No time at all: a timer that is not pending has no deadline. */
#define SIM_TIME_NONE  ((SimTime) -1)

typedef enum {
  SIM_TRANSPORT_UDP,
  SIM_TRANSPORT_TCP,
  SIM_TRANSPORT_TLS,   /* TCP with TLS between socket and SIP (RFC 3261 §26.3.1) */
} SimTransportKind;

/* A transport address.  A plain value type: copy it with '='. */
typedef struct {
  char ip[48];
  guint16 port;
  SimTransportKind transport;
} SimAddr;

void         sim_addr_init           (SimAddr          *addr,
                                      const char       *ip,
                                      guint16           port,
                                      SimTransportKind  transport);
gboolean     sim_addr_parse          (SimAddr          *addr,
                                      const char       *text,
                                      guint16           default_port);
char        *sim_addr_to_string      (const SimAddr    *addr) G_GNUC_WARN_UNUSED_RESULT;
void         sim_addr_format         (const SimAddr    *addr,
                                      char             *buf,
                                      gsize             size);
gboolean     sim_addr_equal          (const SimAddr    *a,
                                      const SimAddr    *b);
const char  *sim_transport_name      (SimTransportKind  transport);

/*
 * The key one client is counted under (wrong passwords, transactions held): an IPv4 address
 * itself, an IPv6 address as its /64 ("2001:db8::/64"), an IPv4-mapped IPv6 address as its
 * IPv4 address; anything else (a simulated node's name) as itself.  Newly allocated.
 */
char        *sim_addr_source_key     (const char       *ip) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
