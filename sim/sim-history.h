/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib-object.h>

#include "sim-location.h"
#include "sim-phone.h"
#include "sim-trace.h"

G_BEGIN_DECLS

/*
 * SimHistory: every event of a session, kept compactly so that a long run fits in memory and
 * any event can be shown again exactly (issue 17).  The trace keeps only a window of recent
 * events as SimEvent objects; the history keeps all of them, each field once, in chunks of
 * SIM_HISTORY_CHUNK_EVENTS events in a binary form.  A chunk is compressed (zlib, raw deflate)
 * once it is full, and the last SIM_HISTORY_CACHED_CHUNKS chunks read back are kept
 * decompressed, so that scrolling through neighbouring events does not inflate a chunk per
 * event.  An index (first event time per chunk) finds events by time.
 *
 * A full chunk's compressed bytes (its events, checkpoint and records) leave memory: they are
 * written to a spill file, made with g_file_open_tmp() in g_get_tmp_dir() ($TMPDIR, else
 * /tmp) and unlinked at once, and read back with pread() when a chunk is needed (the cache
 * above keeps the last few decompressed).  So the process holds a few chunks whatever the
 * session's length, and the file, about 30 bytes an event (250 MB for 6 hours of 300 phones
 * refreshing every minute), disappears with the history or the process.  If no spill file can
 * be made or written, chunks stay in memory, as they did before, with a warning.
 *
 * A materialised event equals the one emitted: every field, the raw message byte for byte.
 * A 2.7 KB SimEvent (raw text plus its copied first line, Call-ID, CSeq...) takes about a
 * tenth of that once its chunk is compressed.
 */

/*
 * Replay state (issue 17: seeking back without re-running).  Besides the events, the history
 * records what a replay world needs to look like the session at any event: every change of
 * a location's bindings (the whole binding set of the AOR, every SimBinding field) and what
 * the views read of a phone, each stamped with the number of events emitted when it was
 * made.  Each chunk starts with a checkpoint, the whole recorded state before its first
 * event, and holds the records stamped within it, both compressed once it is full; so the
 * state at any event is one checkpoint plus at most a chunk of records.  Records are full
 * states, so one equal to what is recorded already (a re-run regenerating it) is dropped.
 */

/* A phone as the views show it (sim_phone_restore_shown()). */
typedef struct {
  char *device;
  SimRegState reg_state;
  char *reg_reason;
  guint32 granted;
  SimTime refresh_at;       /* SIM_TIME_NONE: no refresh timer */
  gboolean powered;
} SimHistoryPhone;

/* Events per chunk: large enough for zlib to find the repetition between messages. */
#define SIM_HISTORY_CHUNK_EVENTS 4096
/*
 * Decompressed chunks kept for reading (about 1 MB each for a registrar's traffic).  A seek
 * reads the trace's window (SIM_DOCUMENT_MAX_EVENTS, five chunks), then the GUI's counters read
 * on from their last mark up to it: with fewer, those chunks evicted each other and each was
 * read from the spill file and inflated twice.
 */
#define SIM_HISTORY_CACHED_CHUNKS 8

#define SIM_TYPE_HISTORY (sim_history_get_type ())
G_DECLARE_FINAL_TYPE (SimHistory, sim_history, SIM, HISTORY, GObject)

SimHistory *sim_history_new            (void) G_GNUC_WARN_UNUSED_RESULT;
/*
 * Records @event, whose index must be the number of events recorded so far; an event already
 * recorded (an index below that number: a re-run of the same session) is skipped, one beyond
 * it is a programming error.
 */
void        sim_history_append         (SimHistory     *self,
                                        const SimEvent *event);
/* Records the events @trace keeps, then every event it emits (sim_history_append()); NULL
 * stops. */
void        sim_history_follow         (SimHistory     *self,
                                        SimTrace       *trace);
guint64     sim_history_get_n_events   (SimHistory     *self);
/* A new event equal to the one recorded at @index, or NULL beyond the end. */
SimEvent   *sim_history_get_event      (SimHistory     *self,
                                        guint64         index) G_GNUC_WARN_UNUSED_RESULT;
/* The index of the first recorded event at time @t or later (the number of events if none). */
guint64     sim_history_find_time      (SimHistory     *self,
                                        SimTime         t);
/* Forgets the events from @index on (an edit changed what follows). */
void        sim_history_truncate       (SimHistory     *self,
                                        guint64         index);
/*
 * Records @aor's bindings at @node (SimBinding*, NULL or empty: none) after @stamp events.
 * A stamp below the number of events recorded (a re-run) or a state already recorded is
 * dropped.
 */
void        sim_history_record_bindings (SimHistory     *self,
                                         guint64         stamp,
                                         const char     *node,
                                         const char     *aor,
                                         GPtrArray      *bindings);
/* The same for a phone's shown state (its device names it). */
void        sim_history_record_phone    (SimHistory     *self,
                                         guint64         stamp,
                                         const SimHistoryPhone *phone);
/*
 * Sets @location (its node's bindings) and @phones (SimPhone*, found by device) as recorded
 * after @index events (every record stamped at or below it): for replay worlds only
 * (sim_location_restore(), sim_phone_restore_shown()).  An AOR or phone never recorded is
 * left as it is.
 */
void        sim_history_restore_state   (SimHistory     *self,
                                         guint64         index,
                                         SimLocation    *location,
                                         GPtrArray      *phones);
/* Bytes held in memory: the open chunk, the decompressed cache, the chunk index, and any
 * compressed chunk the spill file could not take. */
gsize       sim_history_get_memory_size (SimHistory    *self);
/* Bytes written to the spill file (0 with none). */
guint64     sim_history_get_spilled_size (SimHistory   *self);

G_END_DECLS
