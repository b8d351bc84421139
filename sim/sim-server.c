/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "sim-server.h"

#include <gio/gio.h>
#include <glib-unix.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <signal.h>
#include <string.h>

#include "sim-audit.h"

G_DEFINE_QUARK (sim-server-error-quark, sim_server_error)

#define SECRET_LEN 32

struct _SimServer {
  GObject parent_instance;

  char *domain;
  SimClock *clock;
  SimTrace *trace;
  GRand *rand;
  SimStack *stack;
  SimSocketTransport *transport;
  SimAuth *auth;
  SimLocation *location;
  SimRegistrar *registrar;
  SimProxy *proxy;
  SimStore *store;
  gint64 clock_offset;
  gboolean loading;
  char *committed_aor;       /* saved by the registrar's commit hook for the REGISTER in hand */
  /* Pipelined group commit (batch_end_cb()): the UDP answers of bursts whose commit is not
   * durable yet, WaitingAnswers* in burst order, and the last group handed to the store. */
  GQueue waiting;
  guint64 last_ticket;
  gboolean store_failed;
  guint peak_waiting;        /* the most sets of answers that ever waited at once (for tests) */

  /* Users file */
  char *users_path;
  GHashTable *users;         /* name -> password, the set the registrar has */
  GFileMonitor *monitor;
  guint sighup_source;
  guint reload_source;
  gboolean audit;            /* warn about weak passwords at each load (sim-audit.h) */
  GHashTable *common;        /* the common-password list for that, or NULL */

  /* Trace names: "ip:port" of a binding's source -> user; aor -> GPtrArray of those keys */
  GHashTable *peer_names;
  GHashTable *aor_peers;
  gboolean peer_names_stale; /* changes went by with the trace off: rebuild before reading */

  /* Failed authentications per (source address, claimed user) */
  SimAuthLimiter *limiter;
};

G_DEFINE_FINAL_TYPE (SimServer, sim_server, G_TYPE_OBJECT)

/* ---------------------------------------------------------------------------------------- */
/* Users file                                                                                */

/* RFC 3261 §25.1 user = 1*( unreserved / escaped / user-unreserved ); we skip "escaped". */
static gboolean
valid_user_name (const char *name)
{
  if (*name == '\0')
    return FALSE;
  for (const char *p = name; *p != '\0'; p++)
    if (!g_ascii_isalnum (*p) && strchr ("-_.!~*'()&=+$,;?/", *p) == NULL)
      return FALSE;
  return TRUE;
}

gboolean
sim_users_parse (const char  *path,
                 const char  *contents,
                 GHashTable **users,
                 GError     **error)
{
  g_autoptr(GHashTable) table = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_auto(GStrv) lines = NULL;

  g_return_val_if_fail (contents != NULL && users != NULL, FALSE);

  lines = g_strsplit (contents, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      char *line = g_strstrip (lines[i]);    /* also drops a CR of CRLF files */
      char *colon;
      guint lineno = i + 1;

      if (*line == '\0' || *line == '#')
        continue;
      colon = strchr (line, ':');
      if (colon == NULL)
        {
          g_set_error (error, SIM_SERVER_ERROR, SIM_SERVER_ERROR_USERS,
                       "%s:%u: expected name:password", path, lineno);
          return FALSE;
        }
      *colon = '\0';
      g_strchomp (line);
      if (*line == '\0')
        {
          g_set_error (error, SIM_SERVER_ERROR, SIM_SERVER_ERROR_USERS,
                       "%s:%u: the user name is empty", path, lineno);
          return FALSE;
        }
      if (!valid_user_name (line))
        {
          g_set_error (error, SIM_SERVER_ERROR, SIM_SERVER_ERROR_USERS,
                       "%s:%u: '%s' is not a SIP user name (letters, digits and "
                       "-_.!~*'()&=+$,;?/ only)", path, lineno, line);
          return FALSE;
        }
      if (colon[1] == '\0')
        {
          g_set_error (error, SIM_SERVER_ERROR, SIM_SERVER_ERROR_USERS,
                       "%s:%u: user '%s' has an empty password", path, lineno, line);
          return FALSE;
        }
      if (g_hash_table_contains (table, line))
        {
          g_set_error (error, SIM_SERVER_ERROR, SIM_SERVER_ERROR_USERS,
                       "%s:%u: user '%s' is listed twice", path, lineno, line);
          return FALSE;
        }
      /* The password is everything after the first colon: it may contain ':' and '#'. */
      g_hash_table_insert (table, g_strdup (line), g_strdup (colon + 1));
    }
  *users = g_steal_pointer (&table);
  return TRUE;
}

gboolean
sim_users_read_file (const char  *path,
                     GHashTable **users,
                     GError     **error)
{
  g_autofree char *contents = NULL;
  g_autoptr(GError) local_error = NULL;

  g_return_val_if_fail (path != NULL && users != NULL, FALSE);

  /* One error domain for every caller: an unreadable file is a users-file error too. */
  if (!g_file_get_contents (path, &contents, NULL, &local_error))
    {
      g_set_error_literal (error, SIM_SERVER_ERROR, SIM_SERVER_ERROR_USERS, local_error->message);
      return FALSE;
    }
  return sim_users_parse (path, contents, users, error);
}

static void
trace_note (SimServer  *self,
            const char *format,
            ...) G_GNUC_PRINTF (2, 3);

static void
trace_note (SimServer  *self,
            const char *format,
            ...)
{
  va_list args;

  /* The stack notes with the server's trace, clock and node name; after dispose (the stack
   * released) nothing is noted any more. */
  if (self->stack == NULL)
    return;
  va_start (args, format);
  sim_stack_notev (self->stack, format, args);
  va_end (args);
}

/* Makes the registrar's user set equal to @users: added, changed and removed users. */
static void
apply_users (SimServer  *self,
             GHashTable *users)
{
  GHashTableIter iter;
  const char *name, *password;
  guint added = 0, changed = 0, removed = 0;

  g_hash_table_iter_init (&iter, self->users);
  while (g_hash_table_iter_next (&iter, (gpointer *) &name, NULL))
    if (!g_hash_table_contains (users, name))
      {
        g_autofree char *aor = g_strdup_printf ("sip:%s@%s", name,
                                                sim_registrar_get_policy (self->registrar)->domain);
        g_autoptr(GPtrArray) none = g_ptr_array_new ();

        /* Without the user, nobody can authenticate as them any more (REGISTER, 407); the
         * bindings go too, so their phones stop receiving calls at once rather than when the
         * bindings expire. */
        sim_registrar_remove_user (self->registrar, name);
        if (sim_location_peek (self->location, aor) != NULL)
          sim_location_replace (self->location, aor, none,
                                "the user was removed from the users file, and their bindings "
                                "with them");
        removed++;
      }
  g_hash_table_iter_init (&iter, users);
  while (g_hash_table_iter_next (&iter, (gpointer *) &name, (gpointer *) &password))
    {
      const char *old = g_hash_table_lookup (self->users, name);
      if (g_strcmp0 (old, password) == 0)
        continue;
      sim_registrar_set_user (self->registrar, name, password);
      if (old == NULL)
        added++;
      else
        changed++;
    }
  g_hash_table_unref (self->users);
  self->users = g_hash_table_ref (users);
  trace_note (self, "users file %s: %u users (%u added, %u changed, %u removed)", self->users_path,
              g_hash_table_size (users), added, changed, removed);
}

/* Weak passwords are warned about, never refused: the lab admin decides (sim-audit.h). */
static void
audit_users (SimServer *self)
{
  g_autoptr(GPtrArray) warnings = NULL;

  if (!self->audit)
    return;
  warnings = sim_audit_users_file (self->users_path, self->common, NULL);
  for (guint i = 0; warnings != NULL && i < warnings->len; i++)
    if (sim_trace_is_enabled (self->trace))
      trace_note (self, "warning: %s", (const char *) warnings->pdata[i]);
    else
      /* With the trace off (`serve --format none`) the admin still hears of it. */
      g_message ("warning: %s", (const char *) warnings->pdata[i]);
}

void
sim_server_set_password_audit (SimServer  *self,
                               gboolean    audit,
                               GHashTable *common)
{
  g_return_if_fail (SIM_IS_SERVER (self));

  self->audit = audit;
  if (common != NULL)
    g_hash_table_ref (common);
  g_clear_pointer (&self->common, g_hash_table_unref);
  self->common = common;
}

gboolean
sim_server_reload_users (SimServer  *self,
                         GError    **error)
{
  g_autoptr(GHashTable) users = NULL;
  g_autoptr(GError) local_error = NULL;

  g_return_val_if_fail (SIM_IS_SERVER (self), FALSE);
  g_return_val_if_fail (self->users_path != NULL, FALSE);

  if (!sim_users_read_file (self->users_path, &users, &local_error))
    {
      trace_note (self, "users file not reloaded, keeping the %u users loaded before: %s",
                  g_hash_table_size (self->users), local_error->message);
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  apply_users (self, users);
  audit_users (self);
  return TRUE;
}

static gboolean
reload_timeout_cb (gpointer data)
{
  SimServer *self = data;

  self->reload_source = 0;
  sim_server_reload_users (self, NULL);
  return G_SOURCE_REMOVE;
}

/* Editors write in several steps (truncate, write, rename): reload once things settle. */
static void
schedule_reload (SimServer *self)
{
  g_clear_handle_id (&self->reload_source, g_source_remove);
  self->reload_source = g_timeout_add (150, reload_timeout_cb, self);
}

static void
users_file_changed_cb (GFileMonitor      *monitor,
                       GFile             *file,
                       GFile             *other,
                       GFileMonitorEvent  event,
                       gpointer           user_data)
{
  switch (event)
    {
    case G_FILE_MONITOR_EVENT_CHANGES_DONE_HINT:
    case G_FILE_MONITOR_EVENT_CREATED:
    case G_FILE_MONITOR_EVENT_CHANGED:
    case G_FILE_MONITOR_EVENT_MOVED_IN:
    case G_FILE_MONITOR_EVENT_RENAMED:
      schedule_reload (user_data);
      break;
    case G_FILE_MONITOR_EVENT_DELETED:
    case G_FILE_MONITOR_EVENT_ATTRIBUTE_CHANGED:
    case G_FILE_MONITOR_EVENT_PRE_UNMOUNT:
    case G_FILE_MONITOR_EVENT_UNMOUNTED:
    case G_FILE_MONITOR_EVENT_MOVED:
    case G_FILE_MONITOR_EVENT_MOVED_OUT:
    default:
      break;
    }
}

static gboolean
sighup_cb (gpointer data)
{
  SimServer *self = data;

  trace_note (self, "SIGHUP: re-reading the users file");
  sim_server_reload_users (self, NULL);
  return G_SOURCE_CONTINUE;
}

gboolean
sim_server_load_users (SimServer   *self,
                       const char  *path,
                       gboolean     watch,
                       GError     **error)
{
  g_autofree char *old_path = NULL;

  g_return_val_if_fail (SIM_IS_SERVER (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  old_path = g_steal_pointer (&self->users_path);
  self->users_path = g_strdup (path);
  if (!sim_server_reload_users (self, error))
    {
      g_free (self->users_path);
      self->users_path = g_steal_pointer (&old_path);
      return FALSE;
    }
  if (watch)
    {
      g_autoptr(GFile) file = g_file_new_for_path (path);

      if (self->monitor != NULL)
        {
          g_signal_handlers_disconnect_by_data (self->monitor, self);
          g_file_monitor_cancel (self->monitor);
          g_clear_object (&self->monitor);
        }
      /* WATCH_HARD_LINKS is not needed; a missing monitor only costs the automatic reload. */
      self->monitor = g_file_monitor_file (file, G_FILE_MONITOR_WATCH_MOVES, NULL, NULL);
      if (self->monitor != NULL)
        g_signal_connect (self->monitor, "changed", G_CALLBACK (users_file_changed_cb), self);
      if (self->sighup_source == 0)
        self->sighup_source = g_unix_signal_add (SIGHUP, sighup_cb, self);
    }
  return TRUE;
}

/* ---------------------------------------------------------------------------------------- */
/* Persistence and trace names                                                               */

static void update_peer_names (SimServer  *self,
                               const char *aor,
                               GPtrArray  *bindings);

typedef struct {
  const char *aor;
  GPtrArray *bindings;
  SimTime updated_at;        /* the latest change of the AOR's bindings */
} PeerReplay;

static int
compare_replays (gconstpointer a,
                 gconstpointer b)
{
  const PeerReplay *x = a, *y = b;

  if (x->updated_at != y->updated_at)
    return x->updated_at < y->updated_at ? -1 : 1;
  return strcmp (x->aor, y->aor);
}

/*
 * The names are only read for the trace, so while it is off location_changed_cb() leaves them
 * alone.  Before they are read again they are rebuilt from the stored bindings, the AOR changed
 * last applied last, as the updates would have been.  sim_location_peek() expires nothing, so
 * naming a packet never changes the location service.
 */
static void
rebuild_peer_names (SimServer *self)
{
  g_autoptr(GPtrArray) aors = sim_location_list_aors (self->location);
  g_autoptr(GArray) replays = g_array_sized_new (FALSE, FALSE, sizeof (PeerReplay), aors->len);

  self->peer_names_stale = FALSE;
  g_hash_table_remove_all (self->peer_names);
  g_hash_table_remove_all (self->aor_peers);
  for (guint i = 0; i < aors->len; i++)
    {
      PeerReplay replay = { aors->pdata[i], sim_location_peek (self->location, aors->pdata[i]), 0 };

      for (guint j = 0; replay.bindings != NULL && j < replay.bindings->len; j++)
        replay.updated_at = MAX (replay.updated_at,
                                 ((SimBinding *) replay.bindings->pdata[j])->updated_at);
      g_array_append_val (replays, replay);
    }
  g_array_sort (replays, compare_replays);
  for (guint i = 0; i < replays->len; i++)
    {
      PeerReplay *replay = &g_array_index (replays, PeerReplay, i);
      update_peer_names (self, replay->aor, replay->bindings);
    }
}

static const char *
peer_name_cb (const SimAddr *peer,
              gpointer       user_data)
{
  SimServer *self = user_data;
  char key[64];

  if (self->peer_names_stale)
    rebuild_peer_names (self);
  sim_addr_format (peer, key, sizeof key);
  return g_hash_table_lookup (self->peer_names, key);
}

static void
update_peer_names (SimServer  *self,
                   const char *aor,
                   GPtrArray  *bindings)
{
  GPtrArray *keys = g_hash_table_lookup (self->aor_peers, aor);
  g_autofree char *user = NULL;
  const char *at;

  for (guint i = 0; keys != NULL && i < keys->len; i++)
    g_hash_table_remove (self->peer_names, keys->pdata[i]);
  g_hash_table_remove (self->aor_peers, aor);
  if (bindings == NULL || bindings->len == 0)
    return;

  /* "sip:alice@lab.example" -> "alice" */
  at = strchr (aor, '@');
  user = at != NULL ? g_strndup (aor, at - aor) : g_strdup (aor);
  if (g_str_has_prefix (user, "sip:"))
    memmove (user, user + 4, strlen (user + 4) + 1);
  keys = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < bindings->len; i++)
    {
      const SimBinding *binding = bindings->pdata[i];
      char *key = sim_addr_to_string (&binding->source);
      g_hash_table_replace (self->peer_names, g_strdup (key), g_strdup (user));
      g_ptr_array_add (keys, key);
    }
  g_hash_table_insert (self->aor_peers, g_strdup (aor), keys);
}

static void
location_changed_cb (SimLocation *location,
                     const char  *aor,
                     gpointer     user_data)
{
  SimServer *self = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *key = NULL;
  gboolean names = !self->peer_names_stale && sim_trace_is_enabled (self->trace);
  gboolean save = self->store != NULL && !self->loading &&
                  g_strcmp0 (self->committed_aor, aor) != 0;
  GPtrArray *bindings;

  /* Names only matter to the trace (rebuild_peer_names()), and with no database nothing is
   * saved: serve without --db and without a trace has nothing to do here. */
  if (!names)
    self->peer_names_stale = TRUE;
  if (!names && !save)
    return;

  /* sim_location_lookup() may expire lapsed bindings and re-enter this handler for the same
   * AOR; the inner call saves the same set, so that is harmless. */
  key = g_strdup (aor);
  bindings = sim_location_lookup (location, key);
  if (names)
    update_peer_names (self, key, bindings);
  /* A REGISTER's new set was written by commit_cb() already; everything else that changes
   * bindings (expiry, a lookup dropping lapsed ones) is saved here. */
  if (self->store == NULL || self->loading || g_strcmp0 (self->committed_aor, key) == 0)
    return;
  if (!sim_store_save_aor (self->store, key, bindings, self->clock_offset, &error))
    {
      g_warning ("bindings of %s not saved: %s", key, error->message);
      trace_note (self, "bindings of %s not saved: %s", key, error->message);
    }
}

/*
 * A phone registered over TCP is reached over the connection its REGISTER came in on, and
 * phones keep it open quietly between refreshes: it must outlive the transport's idle timeout
 * for as long as the binding lives.  Bindings that go lose the exemption (the idle timeout
 * takes over); the new set, refreshed or added, extends it to its expiry.
 */
static void
keep_flows_alive (SimServer  *self,
                  const char *aor,
                  GPtrArray  *bindings)
{
  GPtrArray *old = sim_location_peek (self->location, aor);

  for (guint i = 0; old != NULL && i < old->len; i++)
    {
      const SimBinding *binding = old->pdata[i];
      sim_socket_transport_keep_alive_until (self->transport, &binding->source, 0);
    }
  for (guint i = 0; bindings != NULL && i < bindings->len; i++)
    {
      const SimBinding *binding = bindings->pdata[i];
      sim_socket_transport_keep_alive_until (self->transport, &binding->source,
                                             binding->expires_at);
    }
}

/*
 * The registrar's commit hook: the AOR's new binding set goes to disk before the location
 * service changes and before the 200 OK (sim_registrar_set_commit_func()).  If SQLite refuses,
 * the registrar keeps the old bindings and answers 500, so every acknowledged binding is durable.
 */
static gboolean
commit_cb (SimRegistrar  *registrar,
           const char    *aor,
           GPtrArray     *bindings,
           gpointer       user_data,
           GError       **error)
{
  SimServer *self = user_data;
  g_autoptr(GError) local_error = NULL;

  keep_flows_alive (self, aor, bindings);
  if (self->store == NULL)
    return TRUE;
  /* Within a burst of datagrams the 200 OKs are held until batch_end_cb() has committed: the
   * burst's bindings share one transaction and one fsync (group commit).  A REGISTER over TCP
   * or TLS is answered at once, so its save is a transaction of its own. */
  if (sim_socket_transport_in_burst (self->transport) && !sim_store_in_transaction (self->store))
    {
      /* What the burst answered so far (401 challenges, mostly) acknowledges no binding: it
       * leaves now rather than wait for the fsync (a 401 held past sipp's 500 ms
       * retransmission is answered twice, and the phone gives up on the second). */
      sim_socket_transport_flush (self->transport);
    }
  if (sim_socket_transport_in_burst (self->transport) && !sim_store_in_transaction (self->store) &&
      !sim_store_begin (self->store, &local_error))
    {
      trace_note (self, "bindings of %s not saved, the REGISTER is refused: %s", aor,
                  local_error->message);
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  if (!sim_store_save_aor (self->store, aor, bindings, self->clock_offset, &local_error))
    {
      trace_note (self, "bindings of %s not saved, the REGISTER is refused: %s", aor,
                  local_error->message);
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  g_free (self->committed_aor);
  self->committed_aor = g_strdup (aor);
  return TRUE;
}

/*
 * At most this many sets of held answers wait for their commits (each at most 64 datagrams or
 * 256 KiB, the transport's hold): once that many wait the serving thread waits for the disk
 * (tests/test-serve-db-flood.c floods serve up to this bound).  Groups in
 * flight are bounded by SIM_STORE_MAX_IN_FLIGHT; a burst that saved nothing (401s, a
 * retransmitted 200) still waits behind them, so it takes one more entry each.
 */
#define MAX_WAITING_ANSWERS SIM_SERVER_MAX_WAITING_ANSWERS

/* A burst's UDP answers, waiting for every group commit handed over before they were taken. */
typedef struct {
  SimHeldDatagrams *held;
  guint64 ticket;
} WaitingAnswers;

static void
drop_waiting_answers (SimServer *self)
{
  WaitingAnswers *waiting;

  while ((waiting = g_queue_pop_head (&self->waiting)) != NULL)
    {
      sim_held_datagrams_free (waiting->held);
      g_free (waiting);
    }
}

/*
 * Sends the waiting answers whose commits are durable, in burst order.  If a group commit
 * failed, its 200 OKs would acknowledge bindings that are not on disk, while the registrar's
 * memory already has them (and its transactions would repeat those 200s to a retransmitted
 * REGISTER): the answers still waiting are dropped and the server stops rather than
 * acknowledge anything it cannot keep.
 */
static gboolean
release_answers (SimServer *self)
{
  g_autoptr(GError) error = NULL;
  guint64 durable = 0;
  gboolean ok = sim_store_poll (self->store, &durable, &error);
  WaitingAnswers *head;

  while ((head = g_queue_peek_head (&self->waiting)) != NULL && head->ticket <= durable)
    {
      g_queue_pop_head (&self->waiting);
      sim_socket_transport_send_held (self->transport, head->held);
      g_free (head);
    }
  if (ok)
    return TRUE;
  drop_waiting_answers (self);
  if (!self->store_failed)
    {
      self->store_failed = TRUE;
      g_warning ("the database refused a commit, serve stops: %s", error->message);
      trace_note (self, "the database refused a commit, serve stops: %s", error->message);
      sim_server_stop (self);
    }
  return FALSE;
}

static void
durable_cb (SimStore *store,
            gpointer  user_data)
{
  release_answers (user_data);
}

/*
 * The end of a burst of datagrams, before its answers leave: the group commit, pipelined.  The
 * burst's saves are handed to the store's writer thread, which commits and fsyncs them while
 * this thread reads the next burst; the burst's answers are taken out of the transport's hold
 * and sent by release_answers() once that commit, and every earlier one, is durable.  Answers
 * that saved nothing wait as well when a commit is in flight: a retransmitted REGISTER's 200
 * (or a refresh of the same AOR in the next burst) may acknowledge what that commit writes.
 */
static gboolean
batch_end_cb (SimSocketTransport *transport,
              gpointer            user_data)
{
  SimServer *self = user_data;
  SimHeldDatagrams *held;
  WaitingAnswers *waiting;
  guint64 durable = 0;

  if (self->store == NULL || self->store_failed)
    return self->store == NULL;
  if (sim_store_in_transaction (self->store))
    self->last_ticket = sim_store_commit_async (self->store);
  if (g_queue_is_empty (&self->waiting) && sim_store_poll (self->store, &durable, NULL) &&
      durable >= self->last_ticket)
    return TRUE;    /* nothing in flight: the answers leave now */
  held = sim_socket_transport_take_held (transport);
  if (held != NULL)
    {
      waiting = g_new (WaitingAnswers, 1);
      waiting->held = held;
      waiting->ticket = self->last_ticket;
      g_queue_push_tail (&self->waiting, waiting);
      self->peak_waiting = MAX (self->peak_waiting, g_queue_get_length (&self->waiting));
    }
  /* Full: this burst's answers are the last that may wait, so the disk catches up first. */
  if (g_queue_get_length (&self->waiting) >= MAX_WAITING_ANSWERS)
    sim_store_wait (self->store, self->last_ticket, NULL);
  return release_answers (self);
}

gboolean
sim_server_restore_bindings (SimServer  *self,
                             GError    **error)
{
  g_autoptr(GPtrArray) all = NULL;
  g_autoptr(GPtrArray) group = g_ptr_array_new ();
  const char *aor = NULL;

  g_return_val_if_fail (SIM_IS_SERVER (self), FALSE);
  if (self->store == NULL)
    return TRUE;
  all = sim_store_load_bindings (self->store, self->clock_offset, sim_clock_now (self->clock), error);
  if (all == NULL)
    return FALSE;
  self->loading = TRUE;
  for (guint i = 0; i <= all->len; i++)
    {
      SimBinding *binding = i < all->len ? all->pdata[i] : NULL;

      if (aor != NULL && (binding == NULL || strcmp (binding->aor, aor) != 0))
        {
          sim_location_replace (self->location, aor, group,
                                "restored from the database after a restart");
          g_ptr_array_set_size (group, 0);
        }
      if (binding != NULL)
        {
          aor = binding->aor;
          g_ptr_array_add (group, binding);
        }
    }
  self->loading = FALSE;
  if (all->len > 0)
    trace_note (self, "restored %u bindings of %u AORs from %s", all->len,
                sim_location_get_n_aors (self->location), sim_store_get_path (self->store));
  return TRUE;
}

/* ---------------------------------------------------------------------------------------- */

static void
server_request_cb (SimStack       *stack,
                   SimServerTxn   *txn,
                   osip_message_t *request,
                   const SimAddr  *src,
                   gpointer        user_data)
{
  SimServer *self = user_data;

  if (sim_auth_limiter_refuse (self->limiter, txn, request, src))
    return;
  if (txn != NULL && strcmp (request->sip_method, "REGISTER") == 0)
    {
      sim_registrar_handle (self->registrar, txn, request);
      g_clear_pointer (&self->committed_aor, g_free);
    }
  else
    sim_proxy_handle (self->proxy, txn, request, src);
}

void
sim_server_stop (SimServer *self)
{
  g_return_if_fail (SIM_IS_SERVER (self));

  if (self->transport != NULL)
    sim_socket_transport_close (self->transport);
  /* A group commit still open holds bindings whose answers never left: keeping them is
   * harmless, and the database stays closed cleanly.  Answers still waiting for a commit die
   * with the sockets. */
  if (self->store != NULL && sim_store_in_transaction (self->store))
    sim_store_commit (self->store, NULL);
  drop_waiting_answers (self);
  g_clear_handle_id (&self->sighup_source, g_source_remove);
  g_clear_handle_id (&self->reload_source, g_source_remove);
  if (self->monitor != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->monitor, self);
      g_file_monitor_cancel (self->monitor);
      g_clear_object (&self->monitor);
    }
}

static void
sim_server_dispose (GObject *object)
{
  SimServer *self = SIM_SERVER (object);

  sim_server_stop (self);
  /* The transport may outlive us (a burst in progress holds a reference). */
  if (self->transport != NULL)
    sim_socket_transport_set_batch_end_func (self->transport, NULL, NULL);
  if (self->store != NULL)
    sim_store_set_durable_func (self->store, NULL, NULL);
  if (self->location != NULL)
    sim_location_set_changed_func (self->location, NULL, NULL);
  if (self->stack != NULL)
    sim_stack_set_request_func (self->stack, NULL, NULL);
  g_clear_pointer (&self->limiter, sim_auth_limiter_free);
  g_clear_object (&self->proxy);
  g_clear_object (&self->registrar);
  g_clear_object (&self->location);
  g_clear_object (&self->auth);
  g_clear_object (&self->transport);
  g_clear_object (&self->stack);
  g_clear_object (&self->store);
  g_clear_object (&self->clock);
  g_clear_object (&self->trace);
  G_OBJECT_CLASS (sim_server_parent_class)->dispose (object);
}

static void
sim_server_finalize (GObject *object)
{
  SimServer *self = SIM_SERVER (object);

  g_clear_pointer (&self->users, g_hash_table_unref);
  g_clear_pointer (&self->common, g_hash_table_unref);
  g_clear_pointer (&self->peer_names, g_hash_table_unref);
  g_clear_pointer (&self->aor_peers, g_hash_table_unref);
  g_clear_pointer (&self->rand, g_rand_free);
  g_free (self->users_path);
  g_free (self->domain);
  g_free (self->committed_aor);
  G_OBJECT_CLASS (sim_server_parent_class)->finalize (object);
}

static void
sim_server_class_init (SimServerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = sim_server_dispose;
  object_class->finalize = sim_server_finalize;
}

static void
sim_server_init (SimServer *self)
{
  self->users = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->peer_names = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->aor_peers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                           (GDestroyNotify) g_ptr_array_unref);
}

/*
 * The key SimAuth signs nonces with.  It is derived from the stored secret and a value drawn
 * at every start: SimAuth keeps its one-time-use table in memory, so after a restart it cannot
 * know whether an old nonce was used, and it must not re-issue one (its nonces are clock time
 * and a counter, both of which start again at zero).  A per-start key guarantees that; phones
 * holding an old nonce simply get a fresh challenge.
 */
static gboolean
derive_nonce_key (const guint8 *secret,
                  guint8        key[SECRET_LEN],
                  GError      **error)
{
  guint8 input[SECRET_LEN * 2];
  unsigned int len = SECRET_LEN;

  memcpy (input, secret, SECRET_LEN);
  if (RAND_bytes (input + SECRET_LEN, SECRET_LEN) != 1 ||
      EVP_Digest (input, sizeof input, key, &len, EVP_sha256 (), NULL) != 1)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "OpenSSL could not draw a random key");
      return FALSE;
    }
  OPENSSL_cleanse (input, sizeof input);
  return TRUE;
}

SimServer *
sim_server_new (const char  *domain,
                const char  *db_path,
                GError     **error)
{
  g_autoptr(SimServer) self = NULL;
  guint8 secret[SECRET_LEN];
  guint8 key[SECRET_LEN];
  SimAddr local;
  guint32 seed;

  g_return_val_if_fail (domain != NULL && *domain != '\0', NULL);

  self = g_object_new (SIM_TYPE_SERVER, NULL);
  self->domain = g_strdup (domain);
  if (db_path != NULL)
    {
      self->store = sim_store_open (db_path, error);
      if (self->store == NULL || !sim_store_get_secret (self->store, secret, sizeof secret, error))
        return NULL;
    }
  else if (RAND_bytes (secret, sizeof secret) != 1)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "OpenSSL could not draw a secret");
      return NULL;
    }
  if (!derive_nonce_key (secret, key, error))
    return NULL;
  OPENSSL_cleanse (secret, sizeof secret);

  /* Tags, branches and Call-IDs: unpredictable on a real network, unlike the seeded simulator. */
  if (RAND_bytes ((guint8 *) &seed, sizeof seed) != 1)
    seed = g_random_int ();
  self->rand = g_rand_new_with_seed (seed);
  self->clock = sim_clock_new_wall ();
  self->trace = sim_trace_new ();
  /* A server runs for days: observers get every event, nobody keeps them all. */
  sim_trace_set_keep (self->trace, FALSE);
  self->clock_offset = g_get_real_time () - sim_clock_now (self->clock);

  sim_addr_init (&local, "127.0.0.1", 5060, SIM_TRANSPORT_UDP);
  self->stack = sim_stack_new (self->clock, self->trace, self->rand, SIM_SERVER_NODE_NAME, &local);
  self->transport = sim_socket_transport_new (self->stack);
  sim_socket_transport_set_name_func (self->transport, peer_name_cb, self);
  sim_socket_transport_set_batch_end_func (self->transport, batch_end_cb, self);
  if (self->store != NULL)
    sim_store_set_durable_func (self->store, durable_cb, self);
  self->auth = sim_auth_new (self->clock, self->trace, SIM_SERVER_NODE_NAME, domain, key, sizeof key);
  OPENSSL_cleanse (key, sizeof key);
  self->location = sim_location_new (self->clock, self->trace, SIM_SERVER_NODE_NAME);
  self->registrar = sim_registrar_new (self->stack, self->location, self->auth, domain);
  sim_registrar_set_date_epoch (self->registrar, self->clock_offset / G_USEC_PER_SEC);
  sim_registrar_set_commit_func (self->registrar, commit_cb, self);
  self->limiter = sim_auth_limiter_new (self->stack, self->auth);
  self->proxy = sim_proxy_new (self->stack, self->registrar);
  sim_stack_set_request_func (self->stack, server_request_cb, self);
  /* Every REGISTER changes the location: a direct call costs less than a signal emission. */
  sim_location_set_changed_func (self->location, location_changed_cb, self);
  return g_steal_pointer (&self);
}

gboolean
sim_server_listen (SimServer   *self,
                   const char  *spec,
                   GError     **error)
{
  g_return_val_if_fail (SIM_IS_SERVER (self), FALSE);
  return sim_socket_transport_listen (self->transport, spec, error);
}

void
sim_server_set_auth_limit (SimServer *self,
                           guint      max_failures,
                           SimTime    window,
                           SimTime    block)
{
  g_return_if_fail (SIM_IS_SERVER (self));
  sim_auth_limiter_set_limit (self->limiter, max_failures, window, block);
}

void
sim_server_set_relay (SimServer *self,
                      gboolean   relay)
{
  g_return_if_fail (SIM_IS_SERVER (self));
  sim_proxy_set_relay (self->proxy, relay);
}

SimProxy *
sim_server_get_proxy (SimServer *self)
{
  g_return_val_if_fail (SIM_IS_SERVER (self), NULL);
  return self->proxy;
}

SimClock *
sim_server_get_clock (SimServer *self)
{
  g_return_val_if_fail (SIM_IS_SERVER (self), NULL);
  return self->clock;
}

SimTrace *
sim_server_get_trace (SimServer *self)
{
  g_return_val_if_fail (SIM_IS_SERVER (self), NULL);
  return self->trace;
}

SimStack *
sim_server_get_stack (SimServer *self)
{
  g_return_val_if_fail (SIM_IS_SERVER (self), NULL);
  return self->stack;
}

SimRegistrar *
sim_server_get_registrar (SimServer *self)
{
  g_return_val_if_fail (SIM_IS_SERVER (self), NULL);
  return self->registrar;
}

SimLocation *
sim_server_get_location (SimServer *self)
{
  g_return_val_if_fail (SIM_IS_SERVER (self), NULL);
  return self->location;
}

SimSocketTransport *
sim_server_get_transport (SimServer *self)
{
  g_return_val_if_fail (SIM_IS_SERVER (self), NULL);
  return self->transport;
}

SimStore *
sim_server_get_store (SimServer *self)
{
  g_return_val_if_fail (SIM_IS_SERVER (self), NULL);
  return self->store;
}

guint
sim_server_get_n_users (SimServer *self)
{
  g_return_val_if_fail (SIM_IS_SERVER (self), 0);
  return g_hash_table_size (self->users);
}

gint64
sim_server_get_clock_offset (SimServer *self)
{
  g_return_val_if_fail (SIM_IS_SERVER (self), 0);
  return self->clock_offset;
}

guint
sim_server_get_peak_waiting_answers (SimServer *self)
{
  g_return_val_if_fail (SIM_IS_SERVER (self), 0);
  return self->peak_waiting;
}
