/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "sim-store.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/rand.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

G_DEFINE_QUARK (sim-store-error-quark, sim_store_error)

/*
 * Schema 2: the bindings table is WITHOUT ROWID, one B-tree keyed by (aor, contact).  Schema 1
 * kept rows in rowid order beside an index on the key, so replacing an AOR's binding touched
 * pages of both (and appended the new row at the table's end): three times the log bytes per
 * save at 100,000 bindings.  A schema 1 file is converted when it is opened (migrate_v1).
 */
#define SCHEMA_VERSION 2

static const char schema[] =
  "CREATE TABLE IF NOT EXISTS meta ("
  "  key TEXT PRIMARY KEY,"
  "  value BLOB NOT NULL);"
  "CREATE TABLE IF NOT EXISTS bindings ("
  "  aor TEXT NOT NULL,"
  "  contact TEXT NOT NULL,"
  "  position INTEGER NOT NULL,"
  "  display TEXT,"
  "  q REAL NOT NULL,"
  "  expires_at INTEGER NOT NULL,"       /* Unix microseconds */
  "  granted INTEGER NOT NULL,"
  "  call_id TEXT,"
  "  cseq INTEGER NOT NULL,"
  "  source_ip TEXT NOT NULL,"
  "  source_port INTEGER NOT NULL,"
  "  transport TEXT NOT NULL,"
  "  user_agent TEXT,"
  "  instance TEXT,"
  "  registered_at INTEGER NOT NULL,"
  "  updated_at INTEGER NOT NULL,"
  "  PRIMARY KEY (aor, contact)) WITHOUT ROWID;";

/* Schema 1 to 2: the same columns, copied into the WITHOUT ROWID table in one transaction. */
static const char migrate_v1[] =
  "ALTER TABLE bindings RENAME TO bindings_v1;"
  "%s"
  "INSERT INTO bindings SELECT aor, contact, position, display, q, expires_at, granted, call_id,"
  "  cseq, source_ip, source_port, transport, user_agent, instance, registered_at, updated_at"
  "  FROM bindings_v1;"
  "DROP TABLE bindings_v1;";

/* The transaction statements, prepared once (control_sql[]). */
typedef enum {
  CONTROL_BEGIN,
  CONTROL_COMMIT,
  CONTROL_ROLLBACK,
  N_CONTROL
} Control;

static const char *const control_sql[N_CONTROL] = {
  "BEGIN IMMEDIATE", "COMMIT", "ROLLBACK",
};

/* One AOR's binding set saved in a group commit, copied for the writer thread. */
typedef struct {
  char *aor;
  GPtrArray *bindings;        /* SimBinding*, owned copies */
  gint64 clock_offset;
} PendingSave;

/* A group commit: the saves made between sim_store_begin() and its commit, in order. */
typedef struct {
  GPtrArray *saves;           /* PendingSave* */
  guint64 ticket;
} Group;

struct _SimStore {
  GObject parent_instance;
  char *path;
  sqlite3 *db;
  sqlite3_stmt *delete_aor;
  sqlite3_stmt *insert;
  /* Prepared once: each group and each save of its own opens and closes a transaction, and
   * parsing that SQL again every time was a visible share of serve's profile. */
  sqlite3_stmt *control[N_CONTROL];
  Group *open_group;          /* the caller's: a group commit is open (sim_store_begin()) */
  guint64 last_ticket;        /* the caller's: the ticket of the last group handed over */

  /*
   * The writer: a thread that writes each handed-over group (BEGIN, its saves, COMMIT and the
   * fsync) on the connection above.  The hand-off is strict: the writer uses self->db only
   * while groups is not empty, and the caller only after drain() has seen it empty (only the
   * caller adds groups), so the connection is never used by two threads at once.
   */
  GThread *writer;
  GCond work;                 /* groups got a group, or stopping */
  GCond done;                 /* processed moved */
  GQueue groups;              /* under lock: Group*, handed over; the head is being written */
  guint64 processed;          /* under lock: ticket of the last group written or failed */
  guint64 durable;            /* under lock: ticket of the last group committed */
  guint64 failed_ticket;      /* under lock: the first group that failed, 0 if none */
  guint peak_in_flight;       /* under lock: the most groups ever in flight at once */
  GError *failure;            /* under lock: why it failed */
  GSource *durable_source;    /* dispatches durable_func on the caller's main context */
  SimStoreDurableFunc durable_func;
  gpointer durable_data;

  /* The checkpointer: a thread with a connection of its own (see wal_hook()). */
  GThread *checkpointer;
  sqlite3 *checkpoint_db;
  GMutex lock;
  GCond wake;
  gboolean checkpoint_wanted;   /* under lock */
  gboolean stopping;            /* under lock */
  guint checkpoints;            /* under lock: checkpoints the thread has run */
};

G_DEFINE_FINAL_TYPE (SimStore, sim_store, G_TYPE_OBJECT)

static gboolean
fail (SimStore    *self,
      GError     **error,
      const char  *what)
{
  g_set_error (error, SIM_STORE_ERROR, SIM_STORE_ERROR_SQLITE, "%s: %s: %s",
               self->path, what, self->db != NULL ? sqlite3_errmsg (self->db) : "out of memory");
  return FALSE;
}

static gboolean
exec (SimStore    *self,
      const char  *sql,
      GError     **error)
{
  char *message = NULL;

  if (sqlite3_exec (self->db, sql, NULL, NULL, &message) != SQLITE_OK)
    {
      g_set_error (error, SIM_STORE_ERROR, SIM_STORE_ERROR_SQLITE, "%s: %s", self->path,
                   message != NULL ? message : sqlite3_errmsg (self->db));
      sqlite3_free (message);
      return FALSE;
    }
  return TRUE;
}

/* Runs one of the prepared transaction statements; FALSE with @error set if SQLite refused. */
static gboolean
control (SimStore  *self,
         Control    which,
         GError   **error)
{
  sqlite3_stmt *stmt = self->control[which];
  int rc = sqlite3_step (stmt);

  sqlite3_reset (stmt);
  if (rc == SQLITE_DONE)
    return TRUE;
  g_set_error (error, SIM_STORE_ERROR, SIM_STORE_ERROR_SQLITE, "%s: %s: %s", self->path,
               control_sql[which], sqlite3_errmsg (self->db));
  return FALSE;
}

/*
 * Copying the write-ahead log back into the database (a checkpoint) reads the log, writes every
 * page it changed and fsyncs the file: with SQLite's automatic checkpoint that ran inside the
 * COMMIT of one burst in about 30, and that burst's answers waited for it.  Here the thread
 * below does it on its own connection (PASSIVE: it never blocks a save, nor waits for one),
 * while the serving thread's commits only append to the log.  Durability does not change: a
 * commit is durable once the log is fsynced, and a checkpoint interrupted by kill -9 is redone
 * from the log on the next open.
 */
static gpointer
checkpoint_thread (gpointer data)
{
  SimStore *self = data;

  g_mutex_lock (&self->lock);
  for (;;)
    {
      while (!self->checkpoint_wanted && !self->stopping)
        g_cond_wait (&self->wake, &self->lock);
      if (self->stopping)
        break;
      self->checkpoint_wanted = FALSE;
      g_mutex_unlock (&self->lock);
      sqlite3_wal_checkpoint_v2 (self->checkpoint_db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
      g_mutex_lock (&self->lock);
      self->checkpoints++;
    }
  g_mutex_unlock (&self->lock);
  return NULL;
}

/*
 * Called by SQLite after each commit with the number of pages in the log.  Past
 * SIM_STORE_CHECKPOINT_PAGES the checkpointer is woken.  A log that still grows past
 * SIM_STORE_WAL_MAX_PAGES (the thread fell behind a steady stream of commits, so the log never
 * emptied and could not start again from its beginning) is checkpointed here, synchronously:
 * the log, and the disk it takes, stay bounded.
 */
static int
wal_hook (void        *data,
          sqlite3     *db,
          const char  *name,
          int          pages)
{
  SimStore *self = data;

  if (pages >= SIM_STORE_WAL_MAX_PAGES)
    sqlite3_wal_checkpoint_v2 (db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
  else if (pages >= SIM_STORE_CHECKPOINT_PAGES)
    {
      g_mutex_lock (&self->lock);
      self->checkpoint_wanted = TRUE;
      g_cond_signal (&self->wake);
      g_mutex_unlock (&self->lock);
    }
  return SQLITE_OK;
}

/* Starts the checkpointer for a file database; FALSE with @error set if its connection fails. */
static gboolean
start_checkpointer (SimStore  *self,
                    GError   **error)
{
  if (strcmp (self->path, ":memory:") == 0 || *self->path == '\0')
    return TRUE;
  if (sqlite3_open_v2 (self->path, &self->checkpoint_db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK ||
      sqlite3_exec (self->checkpoint_db, "PRAGMA synchronous=FULL", NULL, NULL, NULL) != SQLITE_OK)
    {
      g_set_error (error, SIM_STORE_ERROR, SIM_STORE_ERROR_SQLITE, "%s: cannot open: %s",
                   self->path, self->checkpoint_db != NULL ? sqlite3_errmsg (self->checkpoint_db)
                                                           : "out of memory");
      return FALSE;
    }
  if (!exec (self, "PRAGMA wal_autocheckpoint = 0", error))
    return FALSE;
  sqlite3_wal_hook (self->db, wal_hook, self);
  self->checkpointer = g_thread_new ("sim-store-checkpoint", checkpoint_thread, self);
  return TRUE;
}

static void
pending_save_free (PendingSave *save)
{
  g_free (save->aor);
  g_clear_pointer (&save->bindings, g_ptr_array_unref);
  g_free (save);
}

static void
group_free (Group *group)
{
  g_ptr_array_unref (group->saves);
  g_free (group);
}

static gboolean write_aor (SimStore *self, const char *aor, GPtrArray *bindings,
                           gint64 clock_offset, GError **error);

/* @groups (Group*) in one transaction: all durable when this returns TRUE, none otherwise. */
static gboolean
write_groups (SimStore   *self,
              GPtrArray  *groups,
              GError    **error)
{
  if (!control (self, CONTROL_BEGIN, error))
    return FALSE;
  for (guint k = 0; k < groups->len; k++)
    {
      Group *group = groups->pdata[k];

      for (guint i = 0; i < group->saves->len; i++)
        {
          PendingSave *save = group->saves->pdata[i];

          if (!write_aor (self, save->aor, save->bindings, save->clock_offset, error))
            {
              control (self, CONTROL_ROLLBACK, NULL);
              return FALSE;
            }
        }
    }
  if (control (self, CONTROL_COMMIT, error))
    return TRUE;
  /* A failed COMMIT can leave the transaction open; roll it back so nothing of it stays. */
  control (self, CONTROL_ROLLBACK, NULL);
  return FALSE;
}

/*
 * The writer thread: groups are written in the order they were handed over, so a group is
 * durable only after every earlier one is.  The groups handed over while it was writing are
 * written together, in one transaction and one fsync: without that, a serving thread no longer
 * held up by the fsync reads smaller bursts, and the disk would see one fsync per small group.
 * After a failure nothing more is written (each later group fails too): the caller stops
 * rather than acknowledge what may depend on it.
 */
static gpointer
writer_thread (gpointer data)
{
  SimStore *self = data;

  g_mutex_lock (&self->lock);
  for (;;)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GPtrArray) written = g_ptr_array_new_with_free_func ((GDestroyNotify) group_free);
      gboolean ok;

      while (g_queue_is_empty (&self->groups) && !self->stopping)
        g_cond_wait (&self->work, &self->lock);
      if (g_queue_is_empty (&self->groups))
        break;
      /* Taken off the queue only once written: its length is what is in flight. */
      for (GList *l = self->groups.head; l != NULL; l = l->next)
        g_ptr_array_add (written, l->data);
      ok = self->failed_ticket == 0;
      g_mutex_unlock (&self->lock);
      if (ok)
        ok = write_groups (self, written, &error);
      g_mutex_lock (&self->lock);
      for (guint i = 0; i < written->len; i++)
        g_queue_pop_head (&self->groups);
      if (ok)
        self->durable = ((Group *) written->pdata[written->len - 1])->ticket;
      else if (self->failed_ticket == 0)
        {
          self->failed_ticket = ((Group *) written->pdata[0])->ticket;
          self->failure = g_steal_pointer (&error);
        }
      self->processed = ((Group *) written->pdata[written->len - 1])->ticket;
      g_cond_broadcast (&self->done);
      if (self->durable_source != NULL)
        g_source_set_ready_time (self->durable_source, 0);
      g_mutex_unlock (&self->lock);
      g_clear_pointer (&written, g_ptr_array_unref);
      g_mutex_lock (&self->lock);
    }
  g_mutex_unlock (&self->lock);
  return NULL;
}

/* Waits until no group is in flight: then the caller may use self->db itself. */
static void
drain (SimStore *self)
{
  g_mutex_lock (&self->lock);
  while (!g_queue_is_empty (&self->groups))
    g_cond_wait (&self->done, &self->lock);
  g_mutex_unlock (&self->lock);
}

static gboolean
durable_dispatch (GSource     *source,
                  GSourceFunc  callback,
                  gpointer     user_data)
{
  g_source_set_ready_time (source, -1);
  return callback (user_data);
}

static GSourceFuncs durable_source_funcs = { NULL, NULL, durable_dispatch, NULL, NULL, NULL };

static gboolean
durable_cb (gpointer user_data)
{
  SimStore *self = user_data;

  if (self->durable_func != NULL)
    self->durable_func (self, self->durable_data);
  return G_SOURCE_CONTINUE;
}

void
sim_store_set_durable_func (SimStore            *self,
                            SimStoreDurableFunc  func,
                            gpointer             user_data)
{
  g_return_if_fail (SIM_IS_STORE (self));

  self->durable_func = func;
  self->durable_data = user_data;
  if (func == NULL || self->durable_source != NULL)
    return;
  g_mutex_lock (&self->lock);
  self->durable_source = g_source_new (&durable_source_funcs, sizeof (GSource));
  g_source_set_name (self->durable_source, "sim-store-durable");
  g_source_set_callback (self->durable_source, durable_cb, self, NULL);
  g_source_attach (self->durable_source, g_main_context_get_thread_default ());
  g_mutex_unlock (&self->lock);
}

guint64
sim_store_commit_async (SimStore *self)
{
  Group *group;
  guint64 ticket;

  g_return_val_if_fail (SIM_IS_STORE (self), 0);
  g_return_val_if_fail (self->open_group != NULL, 0);

  group = g_steal_pointer (&self->open_group);
  /* Kept here: once the lock is let go, the writer may write and free the group. */
  ticket = group->ticket = ++self->last_ticket;
  g_mutex_lock (&self->lock);
  /* Bounded: a disk slower than the bursts makes the caller wait here, not queue without end. */
  while (g_queue_get_length (&self->groups) >= SIM_STORE_MAX_IN_FLIGHT)
    g_cond_wait (&self->done, &self->lock);
  g_queue_push_tail (&self->groups, group);
  self->peak_in_flight = MAX (self->peak_in_flight, g_queue_get_length (&self->groups));
  g_cond_signal (&self->work);
  g_mutex_unlock (&self->lock);
  return ticket;
}

gboolean
sim_store_poll (SimStore  *self,
                guint64   *durable,
                GError   **error)
{
  gboolean ok;

  g_return_val_if_fail (SIM_IS_STORE (self), FALSE);
  g_mutex_lock (&self->lock);
  if (durable != NULL)
    *durable = self->durable;
  ok = self->failed_ticket == 0;
  if (!ok && error != NULL)
    *error = g_error_copy (self->failure);
  g_mutex_unlock (&self->lock);
  return ok;
}

gboolean
sim_store_wait (SimStore  *self,
                guint64    ticket,
                GError   **error)
{
  gboolean ok;

  g_return_val_if_fail (SIM_IS_STORE (self), FALSE);
  g_mutex_lock (&self->lock);
  while (self->processed < ticket)
    g_cond_wait (&self->done, &self->lock);
  ok = self->failed_ticket == 0 || self->failed_ticket > ticket;
  if (!ok)
    g_set_error (error, SIM_STORE_ERROR, SIM_STORE_ERROR_SQLITE, "%s",
                 self->failure != NULL ? self->failure->message : "the commit failed");
  g_mutex_unlock (&self->lock);
  return ok;
}

guint
sim_store_get_peak_in_flight (SimStore *self)
{
  guint n;

  g_return_val_if_fail (SIM_IS_STORE (self), 0);
  g_mutex_lock (&self->lock);
  n = self->peak_in_flight;
  g_mutex_unlock (&self->lock);
  return n;
}

guint
sim_store_get_n_checkpoints (SimStore *self)
{
  guint n;

  g_return_val_if_fail (SIM_IS_STORE (self), 0);
  g_mutex_lock (&self->lock);
  n = self->checkpoints;
  g_mutex_unlock (&self->lock);
  return n;
}

static void
sim_store_finalize (GObject *object)
{
  SimStore *self = SIM_STORE (object);

  /* Groups handed over are written; one still open (never committed) is dropped. */
  drain (self);
  g_clear_pointer (&self->open_group, group_free);
  if (self->writer != NULL)
    {
      g_mutex_lock (&self->lock);
      self->stopping = TRUE;
      g_cond_signal (&self->work);
      g_mutex_unlock (&self->lock);
      g_thread_join (g_steal_pointer (&self->writer));
    }
  if (self->durable_source != NULL)
    {
      g_source_destroy (self->durable_source);
      g_clear_pointer (&self->durable_source, g_source_unref);
    }
  g_clear_error (&self->failure);
  if (self->checkpointer != NULL)
    {
      g_mutex_lock (&self->lock);
      self->stopping = TRUE;
      g_cond_signal (&self->wake);
      g_mutex_unlock (&self->lock);
      g_thread_join (g_steal_pointer (&self->checkpointer));
    }
  if (self->db != NULL)
    sqlite3_wal_hook (self->db, NULL, NULL);
  g_clear_pointer (&self->checkpoint_db, sqlite3_close);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->wake);
  g_cond_clear (&self->work);
  g_cond_clear (&self->done);

  for (guint i = 0; i < N_CONTROL; i++)
    g_clear_pointer (&self->control[i], sqlite3_finalize);

  g_clear_pointer (&self->delete_aor, sqlite3_finalize);
  g_clear_pointer (&self->insert, sqlite3_finalize);
  g_clear_pointer (&self->db, sqlite3_close);
  g_free (self->path);
  G_OBJECT_CLASS (sim_store_parent_class)->finalize (object);
}

static void
sim_store_class_init (SimStoreClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = sim_store_finalize;
}

static void
sim_store_init (SimStore *self)
{
  g_mutex_init (&self->lock);
  g_cond_init (&self->wake);
  g_cond_init (&self->work);
  g_cond_init (&self->done);
  g_queue_init (&self->groups);
}

/*
 * The file holds every binding and the secret that keys the nonces, so it is created mode 0600
 * whatever the umask (a umask can only take bits away from open's mode, and fchmod makes the
 * result exact).  SQLite gives the -wal and -shm files it creates beside it the database file's
 * mode (unixOpen's findCreateFileMode), so they are private too.  An existing file keeps the
 * mode its owner chose.
 */
static gboolean
create_private_file (const char  *path,
                     GError     **error)
{
  int fd;

  if (strcmp (path, ":memory:") == 0 || *path == '\0')
    return TRUE;
  fd = open (path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0)
    {
      int saved = errno;

      if (saved == EEXIST)
        return TRUE;
      g_set_error (error, SIM_STORE_ERROR, SIM_STORE_ERROR_SQLITE, "%s: cannot create: %s", path,
                   g_strerror (saved));
      return FALSE;
    }
  if (fchmod (fd, 0600) != 0)
    {
      int saved = errno;

      close (fd);
      g_set_error (error, SIM_STORE_ERROR, SIM_STORE_ERROR_SQLITE, "%s: cannot make private: %s",
                   path, g_strerror (saved));
      return FALSE;
    }
  close (fd);
  return TRUE;
}

SimStore *
sim_store_open (const char  *path,
                GError     **error)
{
  g_autoptr(SimStore) self = NULL;
  sqlite3_stmt *stmt = NULL;
  g_autofree char *sql = NULL;
  int version = 0;

  g_return_val_if_fail (path != NULL, NULL);

  self = g_object_new (SIM_TYPE_STORE, NULL);
  self->path = g_strdup (path);
  if (!create_private_file (path, error))
    return NULL;
  if (sqlite3_open_v2 (path, &self->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK)
    {
      fail (self, error, "cannot open");
      return NULL;
    }
  sqlite3_busy_timeout (self->db, 5000);
  /*
   * WAL: a commit is one append to the log; synchronous=FULL: that append is fsync'ed before
   * the commit returns, so a binding acknowledged with 200 OK survives kill -9 and power loss
   * (with NORMAL, WAL mode may lose the last commits on power loss).
   */
  if (!exec (self, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;",
             error))
    return NULL;
  /* SQLite's default page cache is 2 MB; at 100,000 bindings (16 MB of file) saves kept
   * reading back pages it had dropped. */
  sql = g_strdup_printf ("PRAGMA cache_size = -%d", SIM_STORE_CACHE_KIB);
  if (!exec (self, sql, error))
    return NULL;

  if (sqlite3_prepare_v2 (self->db, "PRAGMA user_version", -1, &stmt, NULL) != SQLITE_OK)
    {
      fail (self, error, "cannot read the schema version");
      return NULL;
    }
  if (sqlite3_step (stmt) == SQLITE_ROW)
    version = sqlite3_column_int (stmt, 0);
  sqlite3_finalize (stmt);
  if (version > SCHEMA_VERSION)
    {
      g_set_error (error, SIM_STORE_ERROR, SIM_STORE_ERROR_SQLITE,
                   "%s: written by a newer SIP Lab (schema %d, we know %d)", path, version,
                   SCHEMA_VERSION);
      return NULL;
    }
  if (!exec (self, "BEGIN IMMEDIATE", error))
    return NULL;
  if (version == 1)
    {
      g_autofree char *migrate = g_strdup_printf (migrate_v1, schema);

      if (!exec (self, migrate, error))
        {
          exec (self, "ROLLBACK", NULL);
          return NULL;
        }
    }
  if (!exec (self, schema, error) || !exec (self, "PRAGMA user_version = 2", error))
    {
      exec (self, "ROLLBACK", NULL);
      return NULL;
    }
  if (!exec (self, "COMMIT", error))
    return NULL;

  if (sqlite3_prepare_v2 (self->db, "DELETE FROM bindings WHERE aor = ?1", -1,
                          &self->delete_aor, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2 (self->db,
                          "INSERT INTO bindings (aor, contact, position, display, q, expires_at, "
                          "granted, call_id, cseq, source_ip, source_port, transport, user_agent, "
                          "instance, registered_at, updated_at) "
                          "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, "
                          "?15, ?16)", -1, &self->insert, NULL) != SQLITE_OK)
    {
      fail (self, error, "cannot prepare statements");
      return NULL;
    }
  for (guint i = 0; i < N_CONTROL; i++)
    if (sqlite3_prepare_v2 (self->db, control_sql[i], -1, &self->control[i], NULL) != SQLITE_OK)
      {
        fail (self, error, "cannot prepare statements");
        return NULL;
      }
  if (!start_checkpointer (self, error))
    return NULL;
  self->writer = g_thread_new ("sim-store-writer", writer_thread, self);
  return g_steal_pointer (&self);
}

const char *
sim_store_get_path (SimStore *self)
{
  g_return_val_if_fail (SIM_IS_STORE (self), NULL);
  return self->path;
}

gboolean
sim_store_get_secret (SimStore  *self,
                      guint8    *secret,
                      gsize      len,
                      GError   **error)
{
  sqlite3_stmt *stmt = NULL;
  gboolean found = FALSE;
  int rc;

  g_return_val_if_fail (SIM_IS_STORE (self), FALSE);
  g_return_val_if_fail (secret != NULL && len > 0, FALSE);
  drain (self);

  if (sqlite3_prepare_v2 (self->db, "SELECT value FROM meta WHERE key = 'secret'", -1, &stmt,
                          NULL) != SQLITE_OK)
    return fail (self, error, "cannot read the secret");
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    {
      if ((gsize) sqlite3_column_bytes (stmt, 0) != len)
        {
          sqlite3_finalize (stmt);
          g_set_error (error, SIM_STORE_ERROR, SIM_STORE_ERROR_BAD_SECRET,
                       "%s: the stored secret has the wrong size", self->path);
          return FALSE;
        }
      memcpy (secret, sqlite3_column_blob (stmt, 0), len);
      found = TRUE;
    }
  sqlite3_finalize (stmt);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return fail (self, error, "cannot read the secret");
  if (found)
    return TRUE;

  if (RAND_bytes (secret, (int) len) != 1)
    {
      g_set_error (error, SIM_STORE_ERROR, SIM_STORE_ERROR_BAD_SECRET,
                   "RAND_bytes failed: no secret could be drawn");
      return FALSE;
    }
  if (sqlite3_prepare_v2 (self->db, "INSERT INTO meta (key, value) VALUES ('secret', ?1)", -1,
                          &stmt, NULL) != SQLITE_OK)
    return fail (self, error, "cannot store the secret");
  sqlite3_bind_blob (stmt, 1, secret, (int) len, SQLITE_TRANSIENT);
  rc = sqlite3_step (stmt);
  sqlite3_finalize (stmt);
  if (rc != SQLITE_DONE)
    return fail (self, error, "cannot store the secret");
  return TRUE;
}

static void
bind_text (sqlite3_stmt *stmt,
           int           column,
           const char   *text)
{
  if (text != NULL)
    sqlite3_bind_text (stmt, column, text, -1, SQLITE_STATIC);
  else
    sqlite3_bind_null (stmt, column);
}

/* Replaces @aor's stored set, inside the transaction the caller opened. */
static gboolean
write_aor (SimStore    *self,
           const char  *aor,
           GPtrArray   *bindings,
           gint64       clock_offset,
           GError     **error)
{
  sqlite3_reset (self->delete_aor);
  sqlite3_bind_text (self->delete_aor, 1, aor, -1, SQLITE_STATIC);
  if (sqlite3_step (self->delete_aor) != SQLITE_DONE)
    goto failed;

  for (guint i = 0; bindings != NULL && i < bindings->len; i++)
    {
      const SimBinding *b = bindings->pdata[i];
      sqlite3_stmt *s = self->insert;

      sqlite3_reset (s);
      sqlite3_clear_bindings (s);
      sqlite3_bind_text (s, 1, aor, -1, SQLITE_STATIC);
      sqlite3_bind_text (s, 2, b->contact, -1, SQLITE_STATIC);
      sqlite3_bind_int (s, 3, (int) i);
      bind_text (s, 4, b->display);
      sqlite3_bind_double (s, 5, b->q);
      sqlite3_bind_int64 (s, 6, b->expires_at + clock_offset);
      sqlite3_bind_int64 (s, 7, b->granted);
      bind_text (s, 8, b->call_id);
      sqlite3_bind_int64 (s, 9, b->cseq);
      sqlite3_bind_text (s, 10, b->source.ip, -1, SQLITE_STATIC);
      sqlite3_bind_int (s, 11, b->source.port);
      sqlite3_bind_text (s, 12, sim_transport_name (b->source.transport), -1, SQLITE_STATIC);
      bind_text (s, 13, b->user_agent);
      bind_text (s, 14, b->instance);
      sqlite3_bind_int64 (s, 15, b->registered_at + clock_offset);
      sqlite3_bind_int64 (s, 16, b->updated_at + clock_offset);
      if (sqlite3_step (s) != SQLITE_DONE)
        goto failed;
    }
  sqlite3_reset (self->insert);
  sqlite3_reset (self->delete_aor);
  return TRUE;

failed:
  fail (self, error, "cannot save the bindings");
  sqlite3_reset (self->insert);
  sqlite3_reset (self->delete_aor);
  return FALSE;
}

gboolean
sim_store_save_aor (SimStore    *self,
                    const char  *aor,
                    GPtrArray   *bindings,
                    gint64       clock_offset,
                    GError     **error)
{
  g_return_val_if_fail (SIM_IS_STORE (self), FALSE);
  g_return_val_if_fail (aor != NULL, FALSE);

  /* In a group commit the set is copied for the writer thread, which writes it when the group
   * is handed over; a second save of the same AOR later in the group replaces it there. */
  if (self->open_group != NULL)
    {
      PendingSave *save = g_new0 (PendingSave, 1);

      save->aor = g_strdup (aor);
      save->clock_offset = clock_offset;
      if (bindings != NULL && bindings->len > 0)
        {
          save->bindings = g_ptr_array_new_full (bindings->len, (GDestroyNotify) sim_binding_free);
          for (guint i = 0; i < bindings->len; i++)
            g_ptr_array_add (save->bindings, sim_binding_copy (bindings->pdata[i]));
        }
      g_ptr_array_add (self->open_group->saves, save);
      return TRUE;
    }

  /* On its own: one transaction, on this thread, once the writer has nothing in hand. */
  drain (self);
  if (!control (self, CONTROL_BEGIN, error))
    return FALSE;
  if (!write_aor (self, aor, bindings, clock_offset, error))
    {
      control (self, CONTROL_ROLLBACK, NULL);
      return FALSE;
    }
  if (control (self, CONTROL_COMMIT, error))
    return TRUE;
  /* A failed COMMIT can leave the transaction open; the next save must start clean. */
  control (self, CONTROL_ROLLBACK, NULL);
  return FALSE;
}

gboolean
sim_store_begin (SimStore  *self,
                 GError   **error)
{
  g_return_val_if_fail (SIM_IS_STORE (self), FALSE);
  g_return_val_if_fail (self->open_group == NULL, FALSE);

  self->open_group = g_new0 (Group, 1);
  self->open_group->saves = g_ptr_array_new_with_free_func ((GDestroyNotify) pending_save_free);
  return TRUE;
}

gboolean
sim_store_in_transaction (SimStore *self)
{
  g_return_val_if_fail (SIM_IS_STORE (self), FALSE);
  return self->open_group != NULL;
}

gboolean
sim_store_commit (SimStore  *self,
                  GError   **error)
{
  g_return_val_if_fail (SIM_IS_STORE (self), FALSE);
  g_return_val_if_fail (self->open_group != NULL, FALSE);

  return sim_store_wait (self, sim_store_commit_async (self), error);
}

static char *
column_text (sqlite3_stmt *stmt,
             int           column)
{
  const unsigned char *text = sqlite3_column_text (stmt, column);
  return text != NULL ? g_strdup ((const char *) text) : NULL;
}

GPtrArray *
sim_store_load_bindings (SimStore  *self,
                         gint64     clock_offset,
                         SimTime    now,
                         GError   **error)
{
  g_autoptr(GPtrArray) bindings = NULL;
  sqlite3_stmt *stmt = NULL;
  int rc;

  g_return_val_if_fail (SIM_IS_STORE (self), NULL);
  drain (self);

  /* What lapsed while we were down is gone (RFC 3261 §10.2.1), in the file as well. */
  if (sqlite3_prepare_v2 (self->db, "DELETE FROM bindings WHERE expires_at <= ?1", -1, &stmt,
                          NULL) != SQLITE_OK)
    {
      fail (self, error, "cannot prune lapsed bindings");
      return NULL;
    }
  sqlite3_bind_int64 (stmt, 1, now + clock_offset);
  rc = sqlite3_step (stmt);
  sqlite3_finalize (stmt);
  if (rc != SQLITE_DONE)
    {
      fail (self, error, "cannot prune lapsed bindings");
      return NULL;
    }

  if (sqlite3_prepare_v2 (self->db,
                          "SELECT aor, contact, display, q, expires_at, granted, call_id, cseq, "
                          "source_ip, source_port, transport, user_agent, instance, registered_at, "
                          "updated_at FROM bindings ORDER BY aor, position", -1, &stmt,
                          NULL) != SQLITE_OK)
    {
      fail (self, error, "cannot read the bindings");
      return NULL;
    }
  bindings = g_ptr_array_new_with_free_func ((GDestroyNotify) sim_binding_free);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      SimBinding *b = g_new0 (SimBinding, 1);
      const unsigned char *ip = sqlite3_column_text (stmt, 8);
      const unsigned char *transport = sqlite3_column_text (stmt, 10);

      b->aor = column_text (stmt, 0);
      b->contact = column_text (stmt, 1);
      b->display = column_text (stmt, 2);
      b->q = sqlite3_column_double (stmt, 3);
      b->expires_at = sqlite3_column_int64 (stmt, 4) - clock_offset;
      b->granted = (guint32) sqlite3_column_int64 (stmt, 5);
      b->call_id = column_text (stmt, 6);
      b->cseq = (guint32) sqlite3_column_int64 (stmt, 7);
      sim_addr_init (&b->source, ip != NULL ? (const char *) ip : "",
                     (guint16) sqlite3_column_int (stmt, 9),
                     g_strcmp0 ((const char *) transport, "TCP") == 0 ? SIM_TRANSPORT_TCP
                     : g_strcmp0 ((const char *) transport, "TLS") == 0 ? SIM_TRANSPORT_TLS
                                                                        : SIM_TRANSPORT_UDP);
      b->user_agent = column_text (stmt, 11);
      b->instance = column_text (stmt, 12);
      b->registered_at = sqlite3_column_int64 (stmt, 13) - clock_offset;
      b->updated_at = sqlite3_column_int64 (stmt, 14) - clock_offset;
      if (b->aor == NULL || b->contact == NULL)
        {
          sim_binding_free (b);
          continue;
        }
      g_ptr_array_add (bindings, b);
    }
  sqlite3_finalize (stmt);
  if (rc != SQLITE_DONE)
    {
      fail (self, error, "cannot read the bindings");
      return NULL;
    }
  return g_steal_pointer (&bindings);
}

guint
sim_store_count_bindings (SimStore *self)
{
  sqlite3_stmt *stmt = NULL;
  guint count = 0;

  g_return_val_if_fail (SIM_IS_STORE (self), 0);
  drain (self);
  if (sqlite3_prepare_v2 (self->db, "SELECT count(*) FROM bindings", -1, &stmt, NULL) != SQLITE_OK)
    return 0;
  if (sqlite3_step (stmt) == SQLITE_ROW)
    count = (guint) sqlite3_column_int64 (stmt, 0);
  sqlite3_finalize (stmt);
  return count;
}
