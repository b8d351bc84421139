/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

#include "sim-observe.h"

G_BEGIN_DECLS

/*
 * SimWatch: live HEP.  A UDP socket that receives HEPv3, or v1/v2 (sim-hep.h), from a PBX or
 * proxy (Kamailio siptrace, OpenSIPS proto_hep, Asterisk res_hep, FreeSWITCH) and feeds every SIP
 * message it carries to a SimObserver, which turns it into trace events as it turns a capture
 * file's.  `siplab-cli watch --hep` and the GUI's "Watch a SIP Network…" share it; it runs on
 * the thread-default main context of whoever creates it and never sends anything.
 *
 * Bounds: a datagram is read into a buffer of SIM_WATCH_MAX_DATAGRAM bytes (HEP's own 16-bit
 * length; anything longer is dropped as too large), at most SIM_WATCH_BURST datagrams are
 * handled per wakeup so the main loop (the GUI, SIGINT) keeps its turn under a flood, and the
 * observer's limits (sim-observe.h) plus its trace's keep/max_kept settings bound what is held.
 * With an auth key, a datagram whose HEP chunk 14 is absent or different is dropped and counted
 * before anything of it is used.  Every datagram that is not fed is counted by why
 * (SimWatchStats); the last reason is kept as a sentence for a status line.
 *
 * Signal "dropped" (const char *reason) after every datagram that was not fed, the reason a
 * sentence naming the datagram's sender.
 *
 * Time: a message is fed at its HEP timestamp (the sender's clock); one without a timestamp is
 * fed at the receiver's wall clock.  Every SIM_WATCH_TICK_MS the observer is advanced to the
 * sender's clock as last seen plus the wall time since, so bindings expire while nothing comes.
 */

#define SIM_WATCH_MAX_DATAGRAM 65535   /* bytes read per datagram: HEP's 16-bit total length */
#define SIM_WATCH_BURST        64      /* datagrams handled per main-loop wakeup */
#define SIM_WATCH_TICK_MS      1000    /* how often the observer's clock follows the wall */

#define SIM_WATCH_ERROR (sim_watch_error_quark ())
GQuark sim_watch_error_quark (void);

typedef enum {
  SIM_WATCH_ERROR_ADDRESS = 1,   /* not udp:IP:PORT */
} SimWatchError;

typedef struct {
  guint64 received;        /* datagrams read */
  guint64 observed;        /* SIP messages fed to the observer */
  guint64 dropped_key;     /* the auth key was missing or wrong */
  guint64 dropped_invalid; /* not HEP, or a HEP packet that does not decode */
  guint64 dropped_not_sip; /* HEP of another protocol (RTCP, logs), or a payload not SIP */
  guint64 dropped_large;   /* longer than SIM_WATCH_MAX_DATAGRAM */
} SimWatchStats;

#define SIM_TYPE_WATCH (sim_watch_get_type ())
G_DECLARE_FINAL_TYPE (SimWatch, sim_watch, SIM, WATCH, GObject)

/*
 * Parses "udp:HOST:PORT" ("udp:" may be left out; HOST an IPv4 or IPv6 address, IPv6 in
 * brackets: "udp:[::1]:9060"; PORT 0 to 65535, 0 for any free port).  No names are resolved:
 * a watcher listens on an address of this machine.
 */
GInetSocketAddress *sim_watch_parse_address (const char  *spec,
                                             GError     **error) G_GNUC_WARN_UNUSED_RESULT;

/*
 * Binds @spec (sim_watch_parse_address()) and starts feeding @observer (referenced).
 * @auth_key: NULL or empty to accept any packet, else the HEP auth key every packet must carry.
 */
SimWatch   *sim_watch_new             (SimObserver  *observer,
                                       const char   *spec,
                                       const char   *auth_key,
                                       GError      **error) G_GNUC_WARN_UNUSED_RESULT;
/* The bound address (with the port chosen when @spec said 0), e.g. "udp:127.0.0.1:40123". */
char       *sim_watch_get_address     (SimWatch     *self) G_GNUC_WARN_UNUSED_RESULT;
SimObserver *sim_watch_get_observer   (SimWatch     *self);
const SimWatchStats *sim_watch_get_stats (SimWatch  *self);
/* Why the last datagram that was not fed was dropped, or NULL if none was. */
const char *sim_watch_get_last_drop   (SimWatch     *self);
/* Closes the socket; nothing more is read.  Also done when the last reference goes. */
void        sim_watch_stop            (SimWatch     *self);

/*
 * Handles one datagram as if it had arrived (the socket's path; for tests and the fuzzer).
 * TRUE when a SIP message was fed to the observer.
 */
gboolean    sim_watch_handle_datagram (SimWatch     *self,
                                       const guint8 *data,
                                       gsize         len);

G_END_DECLS
