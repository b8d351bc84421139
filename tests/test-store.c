/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <glib/gstdio.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/stat.h>

#include "sim-store.h"

/* SimStore: the SQLite file behind real-socket mode. */

typedef struct {
  char *dir;
  char *path;
} Fixture;

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  f->dir = g_dir_make_tmp ("siplab-store-XXXXXX", &error);
  g_assert_no_error (error);
  f->path = g_build_filename (f->dir, "lab.sqlite", NULL);
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  const char *suffixes[] = { "", "-wal", "-shm" };

  for (guint i = 0; i < G_N_ELEMENTS (suffixes); i++)
    {
      g_autofree char *file = g_strconcat (f->path, suffixes[i], NULL);
      g_unlink (file);
    }
  g_rmdir (f->dir);
  g_free (f->path);
  g_free (f->dir);
}

static SimBinding *
make_binding (const char       *aor,
              const char       *contact,
              SimTime           expires_at,
              SimTransportKind  transport)
{
  SimBinding *b = g_new0 (SimBinding, 1);

  b->aor = g_strdup (aor);
  b->contact = g_strdup (contact);
  b->display = g_strdup_printf ("<%s>", contact);
  b->q = 0.5;
  b->expires_at = expires_at;
  b->granted = 3600;
  b->call_id = g_strdup ("call-1@phone");
  b->cseq = 7;
  sim_addr_init (&b->source, "192.0.2.7", 5071, transport);
  b->user_agent = g_strdup ("Linphone/5.2");
  b->instance = NULL;
  b->registered_at = SIM_SEC (1);
  b->updated_at = SIM_SEC (2);
  return b;
}

static void
test_round_trip (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) set = g_ptr_array_new_with_free_func ((GDestroyNotify) sim_binding_free);
  g_autoptr(GPtrArray) loaded = NULL;
  gint64 offset = G_GINT64_CONSTANT (1767225600) * G_USEC_PER_SEC;
  SimBinding *b;

  g_test_summary ("Bindings saved with one clock offset load with another: the expiry is an "
                  "absolute time, so a restarted server sees the remaining lifetime.");

  {
    g_autoptr(SimStore) store = sim_store_open (f->path, &error);
    g_assert_no_error (error);
    g_ptr_array_add (set, make_binding ("sip:alice@lab.example", "sip:alice@192.0.2.7:5071",
                                        SIM_SEC (3600), SIM_TRANSPORT_TCP));
    g_ptr_array_add (set, make_binding ("sip:alice@lab.example", "sip:alice@192.0.2.8",
                                        SIM_SEC (10), SIM_TRANSPORT_UDP));
    g_assert_true (sim_store_save_aor (store, "sip:alice@lab.example", set, offset, &error));
    g_assert_no_error (error);
    g_assert_cmpuint (sim_store_count_bindings (store), ==, 2);
    g_assert_finalize_object (g_steal_pointer (&store));
  }

  {
    /* The new server's clock started 100 s later: 100 s of the first binding are gone, and the
     * second one (10 s) lapsed while the server was down. */
    g_autoptr(SimStore) store = sim_store_open (f->path, &error);
    g_assert_no_error (error);
    loaded = sim_store_load_bindings (store, offset + SIM_SEC (100), 0, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (loaded->len, ==, 1);
    b = loaded->pdata[0];
    g_assert_cmpstr (b->aor, ==, "sip:alice@lab.example");
    g_assert_cmpstr (b->contact, ==, "sip:alice@192.0.2.7:5071");
    g_assert_cmpstr (b->display, ==, "<sip:alice@192.0.2.7:5071>");
    g_assert_cmpint (b->expires_at, ==, SIM_SEC (3500));
    g_assert_cmpint (b->registered_at, ==, SIM_SEC (1) - SIM_SEC (100));
    g_assert_cmpuint (b->granted, ==, 3600);
    g_assert_cmpuint (b->cseq, ==, 7);
    g_assert_cmpstr (b->call_id, ==, "call-1@phone");
    g_assert_cmpstr (b->source.ip, ==, "192.0.2.7");
    g_assert_cmpuint (b->source.port, ==, 5071);
    g_assert_cmpint (b->source.transport, ==, SIM_TRANSPORT_TCP);
    g_assert_cmpstr (b->user_agent, ==, "Linphone/5.2");
    g_assert_null (b->instance);
    g_assert_cmpfloat (b->q, ==, 0.5);
    /* The lapsed one is deleted from the file too. */
    g_assert_cmpuint (sim_store_count_bindings (store), ==, 1);

    /* An empty set removes the AOR. */
    g_assert_true (sim_store_save_aor (store, "sip:alice@lab.example", NULL, offset, &error));
    g_assert_cmpuint (sim_store_count_bindings (store), ==, 0);
  }
}

static void
test_secret_persists (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  guint8 first[32], second[32], zero[32] = { 0 };

  {
    g_autoptr(SimStore) store = sim_store_open (f->path, &error);
    g_assert_no_error (error);
    g_assert_true (sim_store_get_secret (store, first, sizeof first, &error));
    g_assert_no_error (error);
    g_assert_true (memcmp (first, zero, sizeof zero) != 0);
  }
  {
    g_autoptr(SimStore) store = sim_store_open (f->path, &error);
    g_assert_true (sim_store_get_secret (store, second, sizeof second, &error));
    g_assert_no_error (error);
  }
  g_assert_true (memcmp (first, second, sizeof first) == 0);
}

/* The file holds every binding (user names, addresses) and the server secret that keys the
 * nonces: only the server's user may read it, whatever the umask says. */
static void
test_file_mode (Fixture       *f,
                gconstpointer  data)
{
  const char *suffixes[] = { "", "-wal", "-shm" };
  g_autoptr(GError) error = NULL;
  g_autoptr(SimStore) store = NULL;
  guint8 secret[32];
  mode_t old_umask = umask (022);

  store = sim_store_open (f->path, &error);
  umask (old_umask);
  g_assert_no_error (error);
  /* A write so that the WAL and its index exist. */
  g_assert_true (sim_store_get_secret (store, secret, sizeof secret, &error));
  g_assert_no_error (error);
  for (guint i = 0; i < G_N_ELEMENTS (suffixes); i++)
    {
      g_autofree char *file = g_strconcat (f->path, suffixes[i], NULL);
      GStatBuf st;

      g_assert_cmpint (g_stat (file, &st), ==, 0);
      g_assert_cmpint (st.st_mode & 0777, ==, 0600);
    }
}

static void
test_bad_file (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SimStore) store = sim_store_open ("/nonexistent-dir/lab.sqlite", &error);

  g_assert_null (store);
  g_assert_error (error, SIM_STORE_ERROR, SIM_STORE_ERROR_SQLITE);
}

/* Saves @aor with one binding whose contact is @contact. */
static gboolean
save_one (SimStore    *store,
          const char  *aor,
          const char  *contact,
          GError     **error)
{
  g_autoptr(GPtrArray) set = g_ptr_array_new_with_free_func ((GDestroyNotify) sim_binding_free);

  g_ptr_array_add (set, make_binding (aor, contact, SIM_SEC (3600), SIM_TRANSPORT_UDP));
  return sim_store_save_aor (store, aor, set, 0, error);
}

/* A file written by a SIP Lab before schema 2 (a rowid table beside its key's index): opening
 * it converts the table to WITHOUT ROWID and keeps every binding. */
/* A schema 1 file as SIP Lab 0.x wrote it, with two bindings. */
static const char v1[] =
    "PRAGMA journal_mode=WAL;"
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);"
    "CREATE TABLE bindings (aor TEXT NOT NULL, contact TEXT NOT NULL, position INTEGER NOT NULL,"
    "  display TEXT, q REAL NOT NULL, expires_at INTEGER NOT NULL, granted INTEGER NOT NULL,"
    "  call_id TEXT, cseq INTEGER NOT NULL, source_ip TEXT NOT NULL,"
    "  source_port INTEGER NOT NULL, transport TEXT NOT NULL, user_agent TEXT, instance TEXT,"
    "  registered_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,"
    "  PRIMARY KEY (aor, contact));"
    "INSERT INTO bindings VALUES ('sip:alice@lab.example', '<sip:alice@192.0.2.7:5071>', 0,"
    "  NULL, 1.0, 4102444800000000, 3600, 'c1@phone', 9, '192.0.2.7', 5071, 'UDP', NULL, NULL,"
    "  1, 2);"
    "INSERT INTO bindings VALUES ('sip:bob@lab.example', '<sip:bob@192.0.2.8:5072>', 0,"
    "  NULL, 1.0, 4102444800000000, 3600, 'c2@phone', 4, '192.0.2.8', 5072, 'TCP', NULL, NULL,"
    "  1, 2);"
    "PRAGMA user_version = 1;";

static void
test_schema_1_is_converted (Fixture       *f,
                            gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SimStore) store = NULL;
  g_autoptr(GPtrArray) loaded = NULL;
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;
  const SimBinding *b;
  int version = 0;

  g_assert_cmpint (sqlite3_open (f->path, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (db, v1, NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close (db);

  store = sim_store_open (f->path, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (sim_store_count_bindings (store), ==, 2);
  loaded = sim_store_load_bindings (store, 0, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (loaded->len, ==, 2);
  b = loaded->pdata[1];
  g_assert_cmpstr (b->aor, ==, "sip:bob@lab.example");
  g_assert_cmpuint (b->cseq, ==, 4);
  g_assert_cmpint (b->source.transport, ==, SIM_TRANSPORT_TCP);
  g_assert_true (save_one (store, "sip:alice@lab.example", "<sip:alice@192.0.2.9>", &error));
  g_assert_no_error (error);
  g_clear_object (&store);

  /* A WITHOUT ROWID table has no rowid to select, and the version says 2. */
  g_assert_cmpint (sqlite3_open (f->path, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (db, "SELECT rowid FROM bindings", -1, &stmt, NULL), ==,
                   SQLITE_ERROR);
  g_assert_cmpint (sqlite3_prepare_v2 (db, "PRAGMA user_version", -1, &stmt, NULL), ==,
                   SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  version = sqlite3_column_int (stmt, 0);
  sqlite3_finalize (stmt);
  sqlite3_close (db);
  g_assert_cmpint (version, ==, 2);

  store = sim_store_open (f->path, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (sim_store_count_bindings (store), ==, 2);
}

/*
 * Checkpoints run on the store's own thread: after more than SIM_STORE_CHECKPOINT_PAGES pages
 * of saves it has run one, without any call from the saving thread; and however far the saves
 * run ahead, the log stays under SIM_STORE_WAL_MAX_PAGES pages and one transaction.
 */
static void
test_a_failed_conversion_leaves_schema_1 (Fixture       *f,
                                          gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SimStore) store = NULL;
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;

  g_test_summary ("The conversion to schema 2 is one transaction: when a step of it fails (here "
                  "the rename, a table of its name being in the way) the open fails and the "
                  "file is schema 1 with every binding, as before");
  g_assert_cmpint (sqlite3_open (f->path, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (db, v1, NULL, NULL, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (db, "CREATE TABLE bindings_v1 (x);", NULL, NULL, NULL), ==,
                   SQLITE_OK);
  sqlite3_close (db);

  store = sim_store_open (f->path, &error);
  g_assert_null (store);
  g_assert_error (error, SIM_STORE_ERROR, SIM_STORE_ERROR_SQLITE);

  g_assert_cmpint (sqlite3_open (f->path, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (db, "SELECT (SELECT count(*) FROM bindings WHERE rowid > 0),"
                                       " (SELECT user_version FROM pragma_user_version)", -1,
                                       &stmt, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  g_assert_cmpint (sqlite3_column_int (stmt, 0), ==, 2);
  g_assert_cmpint (sqlite3_column_int (stmt, 1), ==, 1);
  sqlite3_finalize (stmt);
  sqlite3_close (db);
}

static void
test_checkpoints_off_the_commit_path (Fixture       *f,
                                      gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SimStore) store = sim_store_open (f->path, &error);
  g_autofree char *wal = g_strconcat (f->path, "-wal", NULL);
  g_autofree char *agent = g_strnfill (3000, 'u');
  guint per_commit = 128, total = SIM_STORE_WAL_MAX_PAGES * 3 / 2;
  gint64 deadline;
  GStatBuf st;

  g_assert_no_error (error);
  for (guint i = 0; i < total; i += per_commit)
    {
      g_assert_true (sim_store_begin (store, &error));
      for (guint j = i; j < i + per_commit; j++)
        {
          g_autoptr(GPtrArray) set = g_ptr_array_new_with_free_func ((GDestroyNotify) sim_binding_free);
          g_autofree char *aor = g_strdup_printf ("sip:user%06u@lab.example", j);
          SimBinding *b = make_binding (aor, "<sip:phone@192.0.2.7>", SIM_SEC (3600),
                                        SIM_TRANSPORT_UDP);

          g_free (b->user_agent);
          b->user_agent = g_strdup (agent);
          g_ptr_array_add (set, b);
          g_assert_true (sim_store_save_aor (store, aor, set, 0, &error));
        }
      g_assert_true (sim_store_commit (store, &error));
      g_assert_no_error (error);
    }
  /* The machine may be loaded: the thread gets a generous while to be scheduled. */
  deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;
  while (sim_store_get_n_checkpoints (store) == 0 && g_get_monotonic_time () < deadline)
    g_usleep (10000);
  g_assert_cmpuint (sim_store_get_n_checkpoints (store), >, 0);
  g_assert_cmpint (g_stat (wal, &st), ==, 0);
  /* A log frame is a page (4 KiB) and a 24-byte header. */
  g_assert_cmpint (st.st_size, <, (gint64) (SIM_STORE_WAL_MAX_PAGES + 2 * per_commit) * (4096 + 24));
  g_assert_cmpuint (sim_store_count_bindings (store), ==, total);
}

static void
test_group_commit (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) loaded = NULL;

  g_test_summary ("Group commit: saves between sim_store_begin() and sim_store_commit() share "
                  "one transaction; what was not committed is not in the file, and a save "
                  "outside begin/commit is durable on its own.");

  {
    g_autoptr(SimStore) store = sim_store_open (f->path, &error);
    g_assert_no_error (error);
    g_assert_false (sim_store_in_transaction (store));
    g_assert_true (sim_store_begin (store, &error));
    g_assert_true (sim_store_in_transaction (store));
    g_assert_true (save_one (store, "sip:alice@lab.example", "sip:alice@192.0.2.7", &error));
    g_assert_true (save_one (store, "sip:bob@lab.example", "sip:bob@192.0.2.8", &error));
    /* A second save of one AOR in the same group replaces its first. */
    g_assert_true (save_one (store, "sip:alice@lab.example", "sip:alice@192.0.2.9", &error));
    g_assert_true (sim_store_commit (store, &error));
    g_assert_no_error (error);
    g_assert_false (sim_store_in_transaction (store));

    /* Begun and never committed: gone with the process. */
    g_assert_true (sim_store_begin (store, &error));
    g_assert_true (save_one (store, "sip:carol@lab.example", "sip:carol@192.0.2.10", &error));
  }
  {
    g_autoptr(SimStore) store = sim_store_open (f->path, &error);
    g_assert_no_error (error);
    loaded = sim_store_load_bindings (store, 0, 0, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (loaded->len, ==, 2);
    g_assert_cmpstr (((SimBinding *) loaded->pdata[0])->contact, ==, "sip:alice@192.0.2.9");
    g_assert_cmpstr (((SimBinding *) loaded->pdata[1])->contact, ==, "sip:bob@192.0.2.8");
    g_clear_pointer (&loaded, g_ptr_array_unref);
    g_assert_true (save_one (store, "sip:carol@lab.example", "sip:carol@192.0.2.10", &error));
  }
  {
    g_autoptr(SimStore) store = sim_store_open (f->path, &error);
    g_assert_cmpuint (sim_store_count_bindings (store), ==, 3);
  }
}

static void
durable_count_cb (SimStore *store,
                  gpointer  user_data)
{
  guint64 *durable = user_data;

  g_assert_true (sim_store_poll (store, durable, NULL));
}

static void
test_pipelined_commit (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  guint64 durable = 0, tickets[3 * SIM_STORE_MAX_IN_FLIGHT];
  guint n = G_N_ELEMENTS (tickets);

  g_test_summary ("Pipelined group commit: groups handed over with sim_store_commit_async() "
                  "become durable in order, the durable function tells the main context, a "
                  "later save of the same AOR wins, and a load waits for what is in flight.");

  {
    g_autoptr(SimStore) store = sim_store_open (f->path, &error);
    gint64 deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;

    g_assert_no_error (error);
    sim_store_set_durable_func (store, durable_count_cb, &durable);
    /* More groups than may be in flight: the caller waits for room, never fails. */
    for (guint i = 0; i < n; i++)
      {
        g_autofree char *contact = g_strdup_printf ("<sip:alice@192.0.2.%u>", i + 1);
        g_autofree char *other = g_strdup_printf ("sip:user%u@lab.example", i);

        g_assert_true (sim_store_begin (store, &error));
        g_assert_true (save_one (store, "sip:alice@lab.example", contact, &error));
        g_assert_true (save_one (store, other, "<sip:phone@192.0.2.200>", &error));
        tickets[i] = sim_store_commit_async (store);
        g_assert_false (sim_store_in_transaction (store));
        if (i > 0)
          g_assert_cmpuint (tickets[i], ==, tickets[i - 1] + 1);
      }
    while (durable < tickets[n - 1])
      {
        g_assert_cmpint (g_get_monotonic_time (), <, deadline);
        g_main_context_iteration (NULL, TRUE);
      }
    g_assert_true (sim_store_wait (store, tickets[0], &error));
    g_assert_no_error (error);
    g_assert_cmpuint (sim_store_count_bindings (store), ==, n + 1);

    /* Handed over and not waited for: the load (and closing the store) wait for it. */
    g_assert_true (sim_store_begin (store, &error));
    g_assert_true (save_one (store, "sip:bob@lab.example", "<sip:bob@192.0.2.8>", &error));
    sim_store_commit_async (store);
    g_assert_cmpuint (sim_store_count_bindings (store), ==, n + 2);
    g_assert_true (sim_store_begin (store, &error));
    g_assert_true (save_one (store, "sip:carol@lab.example", "<sip:carol@192.0.2.9>", &error));
    sim_store_commit_async (store);
  }
  {
    g_autoptr(SimStore) store = sim_store_open (f->path, &error);
    g_autoptr(GPtrArray) loaded = sim_store_load_bindings (store, 0, 0, &error);
    g_autofree char *last = g_strdup_printf ("<sip:alice@192.0.2.%u>", n);

    g_assert_no_error (error);
    g_assert_cmpuint (loaded->len, ==, n + 3);
    g_assert_cmpstr (((SimBinding *) loaded->pdata[0])->contact, ==, last);
  }
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/sim/store/bindings-keep-their-remaining-lifetime", Fixture, NULL,
              fixture_setup, test_round_trip, fixture_teardown);
  g_test_add ("/sim/store/secret-survives-a-restart", Fixture, NULL,
              fixture_setup, test_secret_persists, fixture_teardown);
  g_test_add ("/sim/store/file-is-private-whatever-the-umask", Fixture, NULL,
              fixture_setup, test_file_mode, fixture_teardown);
  g_test_add_func ("/sim/store/unwritable-path-is-an-error", test_bad_file);
  g_test_add ("/sim/store/a-schema-1-file-is-converted-and-keeps-its-bindings", Fixture, NULL,
              fixture_setup, test_schema_1_is_converted, fixture_teardown);
  g_test_add ("/sim/store/a-failed-conversion-leaves-the-schema-1-file-as-it-was", Fixture, NULL,
              fixture_setup, test_a_failed_conversion_leaves_schema_1, fixture_teardown);
  g_test_add ("/sim/store/checkpoints-run-off-the-commit-path-and-the-log-stays-bounded", Fixture,
              NULL, fixture_setup, test_checkpoints_off_the_commit_path, fixture_teardown);
  g_test_add ("/sim/store/group-commit-is-one-transaction", Fixture, NULL,
              fixture_setup, test_group_commit, fixture_teardown);
  g_test_add ("/sim/store/pipelined-groups-become-durable-in-order", Fixture, NULL,
              fixture_setup, test_pipelined_commit, fixture_teardown);
  return g_test_run ();
}
