/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "sim-observe.h"
#include "sim-world.h"

G_BEGIN_DECLS

/*
 * A capture file as a world the GUI can show: the SimObserver's events (hosts, messages,
 * retransmissions, digest verdicts, bindings) are emitted on the world's own trace, so the
 * ladder, the inspector and the Nonces & Digest pane read a real network as they read a
 * scene.  The world has no simulated node and runs nothing; its clock is moved to the last
 * message's time.  The file is read twice (names first, sim_observer_learn(), then events).
 *
 * @users_path: NULL, or a users file (name:password a line) to judge every Authorization.
 * @problems_out (may be NULL): the capture's problems, one "FILE: packet N: what" a line.
 * @observer_out (may be NULL): the observer (its locations, node names), new reference.
 * Errors: the capture cannot be opened (SIM_CAPTURE_ERROR), the users file is wrong.
 *
 * Memory: the trace keeps at most SIM_CAPTURE_WORLD_MAX_EVENTS events (the newest); a larger
 * capture is shown from where that many events before its end begin, and says so in
 * @problems_out.
 */
#define SIM_CAPTURE_WORLD_MAX_EVENTS 200000

SimWorld *sim_capture_world_new (const char    *path,
                                 const char    *users_path,
                                 GString       *problems_out,
                                 SimObserver  **observer_out,
                                 GError       **error) G_GNUC_WARN_UNUSED_RESULT;

/* TRUE when @path names a capture by its extension (.pcap, .pcapng, .cap; any case). */
gboolean  sim_capture_world_is_capture_path (const char *path);

G_END_DECLS
