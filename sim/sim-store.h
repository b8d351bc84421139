/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib-object.h>

#include "sim-location.h"

G_BEGIN_DECLS

/*
 * SimStore: the file database of real-socket mode (SQLite), so that a restart, even a
 * kill -9, loses no binding a phone was told about.  Each AOR's binding set is written in one
 * transaction, or in a group commit (sim_store_begin()), from the registrar's commit hook
 * (sim_registrar_set_commit_func()), before the location service changes and before the
 * 200 OK; if a transaction of its own fails the phone gets 500 and the old bindings stay, and
 * if a group fails its 200 OKs are never sent.  Expiries are written from the location service's "changed" signal.  With
 * journal_mode=WAL and synchronous=FULL the commit is on disk when sqlite3_step() returns, so
 * every acknowledged binding is durable.
 *
 * The page cache is bounded by SIM_STORE_CACHE_KIB; the file itself is about 160 bytes per
 * binding (schema 2), so 100,000 bindings fit in it whole.
 *
 * Times are stored as Unix microseconds; the caller converts with @clock_offset, the Unix time
 * in microseconds at which its session clock read zero (g_get_real_time () - sim_clock_now ()).
 */

/* The most memory SQLite's page cache of the file may hold, in KiB (PRAGMA cache_size). */
#define SIM_STORE_CACHE_KIB 32768
/*
 * Checkpoints run on a thread of their own, off the commit path: the thread is woken when the
 * write-ahead log holds SIM_STORE_CHECKPOINT_PAGES pages (SQLite's own default), and a log that
 * reaches SIM_STORE_WAL_MAX_PAGES all the same (32 MiB) is checkpointed within the commit, so
 * the log's size stays bounded.
 */
#define SIM_STORE_CHECKPOINT_PAGES 1000
#define SIM_STORE_WAL_MAX_PAGES    8192

#define SIM_STORE_ERROR (sim_store_error_quark ())
GQuark sim_store_error_quark (void);

typedef enum {
  SIM_STORE_ERROR_SQLITE = 1,     /* the database refused: the message says why */
  SIM_STORE_ERROR_BAD_SECRET,     /* a stored secret of the wrong size */
} SimStoreError;

#define SIM_TYPE_STORE (sim_store_get_type ())
G_DECLARE_FINAL_TYPE (SimStore, sim_store, SIM, STORE, GObject)

/* Opens or creates @path (":memory:" for a throw-away database). */
SimStore   *sim_store_open          (const char   *path,
                                     GError      **error) G_GNUC_WARN_UNUSED_RESULT;
const char *sim_store_get_path      (SimStore     *self);
/* The server secret: read, or drawn with RAND_bytes and stored on first use. */
gboolean    sim_store_get_secret    (SimStore     *self,
                                     guint8       *secret,
                                     gsize         len,
                                     GError      **error);
/* Replaces the stored bindings of @aor with @bindings (SimBinding*; NULL or empty: none). */
gboolean    sim_store_save_aor      (SimStore     *self,
                                     const char   *aor,
                                     GPtrArray    *bindings,
                                     gint64        clock_offset,
                                     GError      **error);
/*
 * Every stored binding still alive at clock time @now (SimBinding*, owned, times on the session
 * clock), ordered by AOR then registration; lapsed ones are deleted.
 */
GPtrArray  *sim_store_load_bindings (SimStore     *self,
                                     gint64        clock_offset,
                                     SimTime       now,
                                     GError      **error) G_GNUC_WARN_UNUSED_RESULT;
guint       sim_store_count_bindings (SimStore    *self);
/* How many checkpoints the checkpointer thread has run (for tests). */
guint       sim_store_get_n_checkpoints (SimStore *self);
/*
 * Group commit.  After sim_store_begin(), each sim_store_save_aor() copies the AOR's set into
 * the open group (it cannot fail there), and nothing of the group is durable until its commit
 * has returned: serve hands the group over at the end of each receive burst, so one fsync
 * covers the whole burst, and sends the burst's 200 OKs once it is durable.
 *
 * The groups are written by a thread of the store's own (pipelined commit): BEGIN, the saves
 * and COMMIT with its fsync run there while the caller goes on with the next burst.  Groups
 * become durable in the order they were handed over; at most SIM_STORE_MAX_IN_FLIGHT are in
 * flight, and sim_store_commit_async() waits for the oldest when that many are.  A group that
 * fails is rolled back whole, and every later group fails too (nothing more is written): the
 * caller must drop what each of them acknowledges.  Any other use of the store (a save outside
 * a group, a load, a count) first waits for the groups in flight, so the connection is used by
 * one thread at a time.
 */
#define SIM_STORE_MAX_IN_FLIGHT 8
/* The most groups that were ever in flight at once (for tests: at most SIM_STORE_MAX_IN_FLIGHT). */
guint       sim_store_get_peak_in_flight (SimStore *self);

/* Called on the main context that was thread-default at sim_store_set_durable_func() when
 * groups handed over have been written (sim_store_poll() tells how far, and whether one failed). */
typedef void (*SimStoreDurableFunc) (SimStore *store,
                                     gpointer  user_data);

gboolean    sim_store_begin          (SimStore    *self,
                                      GError     **error);
gboolean    sim_store_in_transaction (SimStore    *self);
/* Hands the open group over and waits until it is durable (FALSE: rolled back, or an earlier
 * group failed). */
gboolean    sim_store_commit         (SimStore    *self,
                                      GError     **error);
/* Hands the open group over and returns at once with its ticket (1, 2, 3...). */
guint64     sim_store_commit_async   (SimStore    *self);
/* Waits until group @ticket is written: TRUE if it is durable. */
gboolean    sim_store_wait           (SimStore    *self,
                                      guint64      ticket,
                                      GError     **error);
/* The ticket of the last durable group in *@durable; FALSE with @error set once a group failed
 * (that group and all later ones will never be durable). */
gboolean    sim_store_poll           (SimStore    *self,
                                      guint64     *durable,
                                      GError     **error);
void        sim_store_set_durable_func (SimStore           *self,
                                        SimStoreDurableFunc func,
                                        gpointer            user_data);

G_END_DECLS
