/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "sim-world.h"

#include <gio/gio.h>
#include <string.h>

#include "sim-auth-limiter.h"
#include "sim-proxy.h"
#include "sim-server.h"

G_DEFINE_QUARK (sim-world-error-quark, sim_world_error)

#define SIP_PORT 5060

typedef struct {
  char *name;
  char *password;
  char *display_name;
} User;

struct _SimWorld {
  GObject parent_instance;

  guint32 seed;
  GRand *rand;
  SimClock *clock;
  SimTrace *trace;
  SimNet *net;
  SimMode mode;

  char *server_name;
  SimStack *server_stack;
  SimAuth *auth;
  SimLocation *location;
  SimRegistrar *registrar;
  SimProxy *proxy;
  char *domain;
  SimSocketTransport *transport;   /* mixed mode: real sockets under the server stack */
  GHashTable *peer_names;          /* mixed mode: "ip:port" of a binding's source -> user */
  GHashTable *aor_peers;           /* mixed mode: AOR -> GPtrArray of its peer_names keys */
  SimAuthLimiter *auth_limiter;    /* mixed mode: the password-guessing guard `serve` has too */

  GPtrArray *users;          /* User* */
  GHashTable *users_by_name; /* name -> User* */
  GPtrArray *phones;         /* SimPhone* */
  GHashTable *phones_by_device; /* device -> SimPhone* */
  GHashTable *stacks;        /* host name -> SimStack* (phones and plain hosts) */
  GHashTable *captured;      /* device -> last REGISTER with Authorization it sent (raw) */
  gulong trace_handler;
};

G_DEFINE_FINAL_TYPE (SimWorld, sim_world, G_TYPE_OBJECT)

static void
user_free (User *user)
{
  g_free (user->name);
  g_free (user->password);
  g_free (user->display_name);
  g_free (user);
}

static User *
find_user (SimWorld   *self,
           const char *name)
{
  return name ? g_hash_table_lookup (self->users_by_name, name) : NULL;
}

/* Remembers what a sniffer on the LAN would have captured: the last authenticated REGISTER. */
static void
trace_event_cb (SimTrace *trace,
                SimEvent *event,
                gpointer  user_data)
{
  SimWorld *self = user_data;

  if (event->type == SIM_EVENT_PACKET && g_strcmp0 (event->action, "sent") == 0 &&
      g_strcmp0 (event->method, "REGISTER") == 0 && event->status == 0 && event->raw != NULL &&
      strstr (event->raw, "\nAuthorization:") != NULL && event->from != NULL)
    g_hash_table_replace (self->captured, g_strdup (event->from), g_strdup (event->raw));
}

static void
sim_world_dispose (GObject *object)
{
  SimWorld *self = SIM_WORLD (object);

  if (self->trace_handler != 0)
    g_clear_signal_handler (&self->trace_handler, self->trace);
  g_clear_pointer (&self->phones_by_device, g_hash_table_unref);
  g_clear_pointer (&self->phones, g_ptr_array_unref);
  if (self->transport != NULL)
    sim_socket_transport_close (self->transport);
  g_clear_object (&self->transport);
  g_clear_pointer (&self->auth_limiter, sim_auth_limiter_free);
  g_clear_object (&self->proxy);
  g_clear_object (&self->registrar);
  g_clear_object (&self->location);
  g_clear_object (&self->auth);
  g_clear_object (&self->server_stack);
  g_clear_pointer (&self->stacks, g_hash_table_unref);
  /* Pending timers (packets in flight, refreshes) are freed with the clock. */
  g_clear_object (&self->net);
  g_clear_object (&self->clock);
  g_clear_object (&self->trace);
  G_OBJECT_CLASS (sim_world_parent_class)->dispose (object);
}

static void
sim_world_finalize (GObject *object)
{
  SimWorld *self = SIM_WORLD (object);

  g_clear_pointer (&self->users_by_name, g_hash_table_unref);
  g_clear_pointer (&self->users, g_ptr_array_unref);
  g_clear_pointer (&self->captured, g_hash_table_unref);
  g_clear_pointer (&self->peer_names, g_hash_table_unref);
  g_clear_pointer (&self->aor_peers, g_hash_table_unref);
  g_clear_pointer (&self->rand, g_rand_free);
  g_free (self->server_name);
  g_free (self->domain);
  G_OBJECT_CLASS (sim_world_parent_class)->finalize (object);
}

static void
sim_world_class_init (SimWorldClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = sim_world_dispose;
  object_class->finalize = sim_world_finalize;
}

static void
sim_world_init (SimWorld *self)
{
  self->users = g_ptr_array_new_with_free_func ((GDestroyNotify) user_free);
  self->users_by_name = g_hash_table_new (g_str_hash, g_str_equal);
  self->phones = g_ptr_array_new_with_free_func (g_object_unref);
  self->phones_by_device = g_hash_table_new (g_str_hash, g_str_equal);
  self->stacks = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
  self->captured = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->domain = g_strdup ("lab.example");
  self->mode = SIM_MODE_REGISTRAR;
}

SimWorld *
sim_world_new (guint32 seed)
{
  g_autoptr(SimClock) clock = sim_clock_new_virtual ();

  return sim_world_new_with_clock (seed, clock);
}

SimWorld *
sim_world_new_with_clock (guint32   seed,
                          SimClock *clock)
{
  SimWorld *self;

  g_return_val_if_fail (SIM_IS_CLOCK (clock), NULL);

  self = g_object_new (SIM_TYPE_WORLD, NULL);
  self->seed = seed;
  self->rand = g_rand_new_with_seed (seed);
  self->clock = g_object_ref (clock);
  self->trace = sim_trace_new ();
  self->net = sim_net_new (self->clock, self->trace, self->rand);
  self->trace_handler = g_signal_connect (self->trace, "event", G_CALLBACK (trace_event_cb), self);
  return self;
}

guint32 sim_world_get_seed (SimWorld *self) { return self->seed; }
SimClock *sim_world_get_clock (SimWorld *self) { return self->clock; }
SimTrace *sim_world_get_trace (SimWorld *self) { return self->trace; }
SimNet *sim_world_get_net (SimWorld *self) { return self->net; }
GRand *sim_world_get_rand (SimWorld *self) { return self->rand; }
SimMode sim_world_get_mode (SimWorld *self) { return self->mode; }
const char *sim_world_get_domain (SimWorld *self) { return self->domain; }
const char *sim_world_get_server_name (SimWorld *self) { return self->server_name; }
SimRegistrar *sim_world_get_registrar (SimWorld *self) { return self->registrar; }
SimLocation *sim_world_get_location (SimWorld *self) { return self->location; }
SimAuth *sim_world_get_auth (SimWorld *self) { return self->auth; }
SimStack *sim_world_get_server_stack (SimWorld *self) { return self->server_stack; }
GPtrArray *sim_world_get_phones (SimWorld *self) { return self->phones; }
SimTime sim_world_now (SimWorld *self) { return sim_clock_now (self->clock); }

static void
trace_action (SimWorld   *self,
              const char *node,
              const char *format,
              ...) G_GNUC_PRINTF (3, 4);

static void
trace_action (SimWorld   *self,
              const char *node,
              const char *format,
              ...)
{
  SimEvent *event;
  va_list args;

  if (!sim_trace_is_enabled (self->trace))
    return;
  event = sim_event_new (SIM_EVENT_ACTION, "action");
  event->t = sim_clock_now (self->clock);
  event->node = g_strdup (node);
  va_start (args, format);
  event->text = g_strdup_vprintf (format, args);
  va_end (args);
  sim_trace_emit (self->trace, event);
}

/* ---------------------------------------------------------------------------------------- */
/* Wiring stacks to the simulated network                                                     */

static void
stack_send_cb (SimStack      *stack,
               const SimAddr *dst,
               const char    *data,
               gsize          len,
               gboolean       retransmission,
               gpointer       user_data)
{
  SimWorld *self = user_data;

  sim_net_send (self->net, sim_stack_get_local (stack), dst, data, len, retransmission);
}

static void
net_receive_cb (const SimAddr *src,
                const SimAddr *dst,
                const char    *data,
                gsize          len,
                gpointer       user_data)
{
  sim_stack_receive (SIM_STACK (user_data), src, data, len);
}

static SimStack *
attach_stack (SimWorld   *self,
              const char *host,
              const char *ip)
{
  SimAddr local;
  SimStack *stack;

  sim_addr_init (&local, ip, SIP_PORT, SIM_TRANSPORT_UDP);
  stack = sim_stack_new (self->clock, self->trace, self->rand, host, &local);
  sim_stack_set_send_func (stack, stack_send_cb, self);
  sim_net_bind (self->net, host, SIP_PORT, net_receive_cb, stack);
  g_hash_table_replace (self->stacks, g_strdup (host), stack);
  return stack;
}

static void
server_request_cb (SimStack       *stack,
                   SimServerTxn   *txn,
                   osip_message_t *request,
                   const SimAddr  *src,
                   gpointer        user_data)
{
  SimWorld *self = user_data;

  if (self->auth_limiter != NULL && sim_auth_limiter_refuse (self->auth_limiter, txn, request, src))
    return;
  if (txn != NULL && strcmp (request->sip_method, "REGISTER") == 0)
    sim_registrar_handle (self->registrar, txn, request);
  else
    sim_proxy_handle (self->proxy, txn, request, src);
}

gboolean
sim_world_add_server (SimWorld    *self,
                      const char  *name,
                      const char  *ip,
                      const char  *domain,
                      GError     **error)
{
  guint8 secret[32];

  g_return_val_if_fail (SIM_IS_WORLD (self), FALSE);

  if (self->server_name != NULL)
    {
      g_set_error (error, SIM_WORLD_ERROR, SIM_WORLD_ERROR_EXISTS,
                   "there is already a registrar (%s)", self->server_name);
      return FALSE;
    }
  if (!sim_net_add_host (self->net, name, ip, error))
    return FALSE;
  self->server_name = g_strdup (name);
  if (domain != NULL)
    {
      g_free (self->domain);
      self->domain = g_strdup (domain);
    }
  self->server_stack = g_object_ref (attach_stack (self, name, ip));
  /*
   * In the simulator the nonce secret comes from the seed so that runs repeat exactly;
   * real-socket mode draws it from RAND_bytes.  Nonces stay unguessable to the phones either way.
   */
  for (guint i = 0; i < sizeof secret; i++)
    secret[i] = (guint8) g_rand_int_range (self->rand, 0, 256);
  self->auth = sim_auth_new (self->clock, self->trace, name, self->domain, secret, sizeof secret);
  self->location = sim_location_new (self->clock, self->trace, name);
  self->registrar = sim_registrar_new (self->server_stack, self->location, self->auth, self->domain);
  self->proxy = sim_proxy_new (self->server_stack, self->registrar);
  sim_stack_set_request_func (self->server_stack, server_request_cb, self);

  for (guint i = 0; i < self->users->len; i++)
    {
      User *user = self->users->pdata[i];
      sim_registrar_set_user (self->registrar, user->name, user->password);
    }
  for (guint i = 0; i < self->phones->len; i++)
    if (self->mode == SIM_MODE_REGISTRAR)
      sim_phone_set_outbound (self->phones->pdata[i], sim_stack_get_local (self->server_stack));
  return TRUE;
}

void
sim_world_set_mode (SimWorld *self,
                    SimMode   mode)
{
  self->mode = mode;
  for (guint i = 0; i < self->phones->len; i++)
    sim_phone_set_outbound (self->phones->pdata[i],
                            mode == SIM_MODE_REGISTRAR && self->server_stack
                            ? sim_stack_get_local (self->server_stack) : NULL);
  trace_action (self, NULL, "mode: %s", mode == SIM_MODE_P2P ? "point-to-point" : "registrar");
}

gboolean
sim_world_add_user (SimWorld    *self,
                    const char  *name,
                    const char  *password,
                    const char  *display_name,
                    GError     **error)
{
  User *user;

  if (find_user (self, name) != NULL)
    {
      g_set_error (error, SIM_WORLD_ERROR, SIM_WORLD_ERROR_EXISTS, "user '%s' already exists", name);
      return FALSE;
    }
  user = g_new0 (User, 1);
  user->name = g_strdup (name);
  user->password = g_strdup (password);
  user->display_name = g_strdup (display_name ? display_name : name);
  g_ptr_array_add (self->users, user);
  g_hash_table_insert (self->users_by_name, user->name, user);
  if (self->registrar != NULL)
    sim_registrar_set_user (self->registrar, name, password);
  return TRUE;
}

GPtrArray *
sim_world_list_users (SimWorld *self)
{
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; i < self->users->len; i++)
    g_ptr_array_add (names, g_strdup (((User *) self->users->pdata[i])->name));
  return names;
}

SimPhone *
sim_world_add_phone (SimWorld    *self,
                     const char  *user_name,
                     const char  *device,
                     const char  *ip,
                     GError     **error)
{
  User *user = find_user (self, user_name);
  SimStack *stack;
  SimPhone *phone;

  if (user == NULL)
    {
      g_set_error (error, SIM_WORLD_ERROR, SIM_WORLD_ERROR_NOT_FOUND, "no user named '%s'", user_name);
      return NULL;
    }
  if (!sim_net_add_host (self->net, device, ip, error))
    return NULL;
  stack = attach_stack (self, device, ip);
  phone = sim_phone_new (stack, user->name, device, self->domain, user->password, user->display_name);
  if (self->mode == SIM_MODE_REGISTRAR && self->server_stack != NULL)
    sim_phone_set_outbound (phone, sim_stack_get_local (self->server_stack));
  g_ptr_array_add (self->phones, phone);
  g_hash_table_insert (self->phones_by_device, (gpointer) sim_phone_get_device (phone), phone);
  return phone;
}

SimPhone *
sim_world_get_phone (SimWorld   *self,
                     const char *device)
{
  return device ? g_hash_table_lookup (self->phones_by_device, device) : NULL;
}

static SimPhone *
need_phone (SimWorld    *self,
            const char  *device,
            GError     **error)
{
  SimPhone *phone = sim_world_get_phone (self, device);

  if (phone == NULL)
    g_set_error (error, SIM_WORLD_ERROR, SIM_WORLD_ERROR_NOT_FOUND, "no phone named '%s'", device);
  return phone;
}

gboolean
sim_world_remove_phone (SimWorld    *self,
                        const char  *device,
                        GError     **error)
{
  SimPhone *phone = need_phone (self, device, error);

  if (phone == NULL)
    return FALSE;
  trace_action (self, device, "%s is removed from the network", device);
  sim_phone_set_powered (phone, FALSE);
  sim_net_remove_host (self->net, device);
  g_hash_table_remove (self->phones_by_device, device);
  g_ptr_array_remove (self->phones, phone);
  g_hash_table_remove (self->stacks, device);
  return TRUE;
}

static void
sink_receive_cb (const SimAddr *src,
                 const SimAddr *dst,
                 const char    *data,
                 gsize          len,
                 gpointer       user_data)
{
  /* An attacker's host just listens; the trace already shows what it received. */
}

gboolean
sim_world_add_host (SimWorld    *self,
                    const char  *name,
                    const char  *ip,
                    GError     **error)
{
  if (!sim_net_add_host (self->net, name, ip, error))
    return FALSE;
  sim_net_bind (self->net, name, SIP_PORT, sink_receive_cb, NULL);
  return TRUE;
}

gboolean
sim_world_add_nat (SimWorld    *self,
                   const char  *name,
                   const char  *ip,
                   SimTime      timeout,
                   GError     **error)
{
  g_return_val_if_fail (SIM_IS_WORLD (self), FALSE);
  return sim_net_add_nat (self->net, name, ip, timeout, error);
}

gboolean
sim_world_set_behind (SimWorld    *self,
                      const char  *name,
                      const char  *nat,
                      GError     **error)
{
  g_return_val_if_fail (SIM_IS_WORLD (self), FALSE);
  if (g_strcmp0 (name, self->server_name) == 0)
    {
      /* The registrar must be reachable from everywhere: that is what it is for. */
      g_set_error (error, SIM_WORLD_ERROR, SIM_WORLD_ERROR_INVALID,
                   "the registrar '%s' cannot sit behind a NAT", name);
      return FALSE;
    }
  return sim_net_set_behind (self->net, name, nat, error);
}

/* ---------------------------------------------------------------------------------------- */
/* Commands                                                                                   */

gboolean
sim_world_register (SimWorld    *self,
                    const char  *device,
                    gint64       expires,
                    GError     **error)
{
  SimPhone *phone = need_phone (self, device, error);

  if (phone == NULL)
    return FALSE;
  if (expires >= 0)
    trace_action (self, device, "%s registers %s (asks for Expires %" G_GINT64_FORMAT ")", device,
                  sim_phone_get_aor (phone), expires);
  else
    trace_action (self, device, "%s registers %s", device, sim_phone_get_aor (phone));
  return sim_phone_register (phone, expires, error);
}

gboolean
sim_world_unregister (SimWorld    *self,
                      const char  *device,
                      gboolean     all,
                      GError     **error)
{
  SimPhone *phone = need_phone (self, device, error);

  if (phone == NULL)
    return FALSE;
  trace_action (self, device, all ? "%s removes every binding of its user (Contact: *)"
                                  : "%s unregisters (Expires: 0)", device);
  return sim_phone_unregister (phone, all, error);
}

gboolean
sim_world_call (SimWorld    *self,
                const char  *device,
                const char  *target,
                GError     **error)
{
  SimPhone *phone = need_phone (self, device, error);

  if (phone == NULL)
    return FALSE;
  trace_action (self, device, "%s calls %s", device, target);
  return sim_phone_call (phone, target, error);
}

gboolean
sim_world_hangup (SimWorld    *self,
                  const char  *device,
                  GError     **error)
{
  SimPhone *phone = need_phone (self, device, error);

  if (phone == NULL)
    return FALSE;
  trace_action (self, device, "%s hangs up", device);
  return sim_phone_hangup (phone, error);
}

gboolean
sim_world_move (SimWorld    *self,
                const char  *device,
                const char  *new_ip,
                GError     **error)
{
  SimPhone *phone = need_phone (self, device, error);
  SimAddr local;

  if (phone == NULL)
    return FALSE;
  trace_action (self, device, "%s moves to %s", device, new_ip);
  if (!sim_net_move_host (self->net, device, new_ip, error))
    return FALSE;
  sim_addr_init (&local, new_ip, SIP_PORT, SIM_TRANSPORT_UDP);
  sim_stack_set_local (sim_phone_get_stack (phone), &local);
  sim_phone_moved (phone);
  return TRUE;
}

gboolean
sim_world_set_power (SimWorld    *self,
                     const char  *device,
                     gboolean     on,
                     GError     **error)
{
  SimPhone *phone = need_phone (self, device, error);

  if (phone == NULL)
    return FALSE;
  trace_action (self, device, on ? "%s is switched on" : "%s loses power", device);
  sim_net_set_host_up (self->net, device, on);
  sim_phone_set_powered (phone, on);
  return TRUE;
}

gboolean
sim_world_set_password (SimWorld    *self,
                        const char  *user_name,
                        const char  *device,
                        const char  *password,
                        GError     **error)
{
  if (device != NULL)
    {
      SimPhone *phone = need_phone (self, device, error);
      if (phone == NULL)
        return FALSE;
      trace_action (self, device, "%s is configured with a new password", device);
      sim_phone_set_password (phone, password);
      return TRUE;
    }
  {
    User *user = find_user (self, user_name);
    if (user == NULL)
      {
        g_set_error (error, SIM_WORLD_ERROR, SIM_WORLD_ERROR_NOT_FOUND, "no user named '%s'", user_name);
        return FALSE;
      }
    trace_action (self, self->server_name, "the registrar's password for %s changes", user_name);
    g_free (user->password);
    user->password = g_strdup (password);
    if (self->registrar != NULL)
      sim_registrar_set_user (self->registrar, user_name, password);
  }
  return TRUE;
}

static gboolean
send_from_host (SimWorld    *self,
                const char  *host,
                const char  *text,
                GError     **error)
{
  const char *ip = sim_net_host_ip (self->net, host);
  SimAddr src;

  if (ip == NULL)
    {
      g_set_error (error, SIM_WORLD_ERROR, SIM_WORLD_ERROR_NOT_FOUND, "no host named '%s'", host);
      return FALSE;
    }
  if (self->server_stack == NULL)
    {
      g_set_error (error, SIM_WORLD_ERROR, SIM_WORLD_ERROR_STATE, "there is no registrar");
      return FALSE;
    }
  sim_addr_init (&src, ip, SIP_PORT, SIM_TRANSPORT_UDP);
  sim_net_send (self->net, &src, sim_stack_get_local (self->server_stack), text, strlen (text), FALSE);
  return TRUE;
}

gboolean
sim_world_replay (SimWorld    *self,
                  const char  *victim,
                  const char  *attacker,
                  gboolean     new_call_id,
                  gboolean     bump_cseq,
                  GError     **error)
{
  SimReplayChanges changes = { new_call_id, bump_cseq, NULL, -1 };

  return sim_world_replay_full (self, victim, attacker, &changes, error);
}

/* The Contact and Expires of a replay: headers the digest does not cover. */
static gboolean
replay_rewrite_binding (osip_message_t          *msg,
                        const SimReplayChanges  *changes,
                        GError                 **error)
{
  if (changes->contact != NULL)
    {
      osip_contact_t *contact;
      g_autofree char *value = strcmp (changes->contact, "*") == 0
                               ? g_strdup ("*") : g_strdup_printf ("<%s>", changes->contact);

      while ((contact = osip_list_get (&msg->contacts, 0)) != NULL)
        {
          osip_list_remove (&msg->contacts, 0);
          osip_contact_free (contact);
        }
      if (osip_message_set_contact (msg, value) != 0)
        {
          g_set_error (error, SIM_WORLD_ERROR, SIM_WORLD_ERROR_INVALID,
                       "'%s' is not a Contact a REGISTER can carry", changes->contact);
          return FALSE;
        }
    }
  if (changes->expires >= 0)
    {
      char number[24];

      g_snprintf (number, sizeof number, "%" G_GINT64_FORMAT, changes->expires);
      sim_message_set_header (msg, "Expires", number);
    }
  return TRUE;
}

/* "(new Call-ID) (CSeq + 1) (Contact: X) (Expires: N)": what the replay changed, for the trace. */
static char *
replay_changes_text (const SimReplayChanges *changes)
{
  GString *text = g_string_new (NULL);

  if (changes->new_call_id)
    g_string_append (text, " (new Call-ID)");
  if (changes->bump_cseq)
    g_string_append (text, " (CSeq + 1)");
  if (changes->contact != NULL)
    g_string_append_printf (text, " (Contact: %s)", changes->contact);
  if (changes->expires >= 0)
    g_string_append_printf (text, " (Expires: %" G_GINT64_FORMAT ")", changes->expires);
  return g_string_free (text, FALSE);
}

gboolean
sim_world_replay_full (SimWorld                *self,
                       const char              *victim,
                       const char              *attacker,
                       const SimReplayChanges  *changes,
                       GError                 **error)
{
  const char *raw = g_hash_table_lookup (self->captured, victim);
  g_autoptr(osip_message_t) msg = NULL;
  g_autofree char *text = NULL;
  g_autofree char *what = NULL;

  g_return_val_if_fail (changes != NULL, FALSE);
  if (raw == NULL)
    {
      g_set_error (error, SIM_WORLD_ERROR, SIM_WORLD_ERROR_STATE,
                   "nothing to replay: %s has not sent an authenticated REGISTER yet", victim);
      return FALSE;
    }
  msg = sim_message_parse (raw, strlen (raw), NULL);
  if (msg == NULL)
    {
      g_set_error (error, SIM_WORLD_ERROR, SIM_WORLD_ERROR_STATE, "the captured message is unreadable");
      return FALSE;
    }
  if (changes->new_call_id)
    {
      g_autofree char *token = sim_random_token (self->rand, 12);
      osip_call_id_free (msg->call_id);
      msg->call_id = NULL;
      osip_message_set_call_id (msg, token);
    }
  if (changes->bump_cseq)
    {
      char number[16];
      g_snprintf (number, sizeof number, "%u", sim_message_cseq_number (msg) + 1);
      osip_free (msg->cseq->number);
      msg->cseq->number = osip_strdup (number);
    }
  if (!replay_rewrite_binding (msg, changes, error))
    return FALSE;
  {
    /* A new branch, or the stack would take it for a retransmission of the original. */
    osip_via_t *via = osip_list_get (&msg->vias, 0);
    osip_generic_param_t *branch = NULL;
    if (via != NULL && osip_via_param_get_byname (via, "branch", &branch) == 0 && branch != NULL)
      {
        g_autofree char *fresh = sim_random_branch (self->rand);
        osip_free (branch->gvalue);
        branch->gvalue = osip_strdup (fresh);
      }
  }
  text = sim_message_to_string (msg, NULL);
  what = replay_changes_text (changes);
  trace_action (self, attacker ? attacker : victim,
                "%s replays the REGISTER with Authorization captured from %s%s",
                attacker ? attacker : victim, victim, what);
  return send_from_host (self, attacker ? attacker : victim, text, error);
}

gboolean
sim_world_send_raw (SimWorld    *self,
                    const char  *from_host,
                    const char  *text,
                    GError     **error)
{
  trace_action (self, from_host, "%s sends raw bytes to the registrar", from_host);
  return send_from_host (self, from_host, text, error);
}

void
sim_world_set_link (SimWorld            *self,
                    const char          *a,
                    const char          *b,
                    const SimLinkParams *params)
{
  if (a == NULL || b == NULL)
    sim_net_set_default_link (self->net, params);
  else
    sim_net_set_link (self->net, a, b, params);
  trace_action (self, a, "link %s <-> %s: latency %g ms, jitter %g ms, loss %g%%", a ? a : "*",
                b ? b : "*", params->latency / 1000.0, params->jitter / 1000.0, params->loss * 100.0);
}

void
sim_world_learn_address (SimWorld   *self,
                         const char *device,
                         const char *user,
                         const char *ip)
{
  SimPhone *phone = sim_world_get_phone (self, device);
  g_autofree char *address = NULL;

  if (phone == NULL)
    return;
  address = g_strdup_printf ("%s:%d", ip, SIP_PORT);
  trace_action (self, device, "%s's address book: %s is at %s", device, user, address);
  sim_phone_learn_address (phone, user, address);
}

void
sim_world_fill_address_books (SimWorld *self)
{
  /* Point-to-point needs N x (N-1) entries: every phone must know every other (seed claim 3). */
  for (guint i = 0; i < self->phones->len; i++)
    for (guint j = 0; j < self->phones->len; j++)
      {
        SimPhone *a = self->phones->pdata[i], *b = self->phones->pdata[j];
        g_autofree char *address = NULL;
        if (i == j || g_strcmp0 (sim_phone_get_user (a), sim_phone_get_user (b)) == 0)
          continue;
        address = g_strdup_printf ("%s:%d", sim_net_host_ip (self->net, sim_phone_get_device (b)),
                                   SIP_PORT);
        sim_phone_learn_address (a, sim_phone_get_user (b), address);
      }
  trace_action (self, NULL, "every phone's address book is filled in by hand");
}

/* ---------------------------------------------------------------------------------------- */

void
sim_world_run_until (SimWorld *self,
                     SimTime   t)
{
  sim_clock_run_until (self->clock, t);
}

gboolean
sim_world_step_event (SimWorld *self)
{
  guint64 before = sim_trace_get_n_emitted (self->trace);

  /* With the trace off nothing is ever emitted: one timer is one step then. */
  if (!sim_trace_is_enabled (self->trace))
    return sim_clock_step (self->clock);
  while (sim_trace_get_n_emitted (self->trace) == before)
    if (!sim_clock_step (self->clock))
      return FALSE;
  return TRUE;
}

void
sim_world_schedule (SimWorld       *self,
                    SimTime         at,
                    SimClockFunc    func,
                    gpointer        user_data,
                    GDestroyNotify  destroy)
{
  sim_clock_add (self->clock, at - sim_clock_now (self->clock), func, user_data, destroy);
}

/* ---------------------------------------------------------------------------------------- */
/* Mixed mode: real sockets under the server stack                                           */

SimAuthLimiter *
sim_world_get_auth_limiter (SimWorld *self)
{
  g_return_val_if_fail (SIM_IS_WORLD (self), NULL);
  return self->auth_limiter;
}

SimSocketTransport *
sim_world_get_transport (SimWorld *self)
{
  g_return_val_if_fail (SIM_IS_WORLD (self), NULL);
  return self->transport;
}

gboolean
sim_world_load_users (SimWorld    *self,
                      const char  *path,
                      guint       *n_new,
                      GError     **error)
{
  g_autoptr(GHashTable) users = NULL;
  GHashTableIter iter;
  gpointer name, password;

  g_return_val_if_fail (SIM_IS_WORLD (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  if (self->registrar == NULL)
    {
      g_set_error (error, SIM_WORLD_ERROR, SIM_WORLD_ERROR_STATE,
                   "the world has no registrar to give the users of %s to", path);
      return FALSE;
    }
  /* The whole file is parsed before any account changes: a bad line adds nobody. */
  if (!sim_users_read_file (path, &users, error))
    return FALSE;
  if (n_new != NULL)
    *n_new = 0;
  g_hash_table_iter_init (&iter, users);
  while (g_hash_table_iter_next (&iter, &name, &password))
    {
      if (n_new != NULL && find_user (self, name) == NULL)
        (*n_new)++;
      sim_registrar_set_user (self->registrar, name, password);
    }
  return TRUE;
}

gboolean
sim_world_check_domain (SimWorld    *self,
                        const char  *domain,
                        GError     **error)
{
  g_return_val_if_fail (SIM_IS_WORLD (self), FALSE);

  if (domain == NULL)
    return TRUE;
  /* A world without a server still has a domain (its phones' AORs): nobody answers for it. */
  if (self->registrar == NULL)
    {
      g_set_error (error, SIM_WORLD_ERROR, SIM_WORLD_ERROR_STATE,
                   "the world has no registrar to answer for domain %s", domain);
      return FALSE;
    }
  /* RFC 3261 §10.3 step 1: a registrar accepts REGISTERs for its own domain only. */
  if (strcmp (domain, self->domain) != 0)
    {
      g_set_error (error, SIM_WORLD_ERROR, SIM_WORLD_ERROR_INVALID,
                   "domain %s differs from the scenario's domain %s", domain, self->domain);
      return FALSE;
    }
  return TRUE;
}

/* The server's send function in mixed mode: simulated hosts over SimNet, the rest over sockets. */
static void
mixed_send_cb (SimStack      *stack,
               const SimAddr *dst,
               const char    *data,
               gsize          len,
               gboolean       retransmission,
               gpointer       user_data)
{
  SimWorld *self = user_data;
  const char *host = NULL;

  /* SimNet carries datagrams only; the server's own address belongs to the real network. */
  if (dst->transport == SIM_TRANSPORT_UDP)
    host = sim_net_host_for_ip (self->net, dst->ip);
  if (host != NULL && g_strcmp0 (host, self->server_name) != 0)
    sim_net_send (self->net, sim_stack_get_local (stack), dst, data, len, retransmission);
  else
    sim_socket_transport_send (self->transport, dst, data, len, retransmission);
}

/* Real phones appear in the trace under their user's name, as SimServer shows them. */
static const char *
mixed_peer_name_cb (const SimAddr *peer,
                    gpointer       user_data)
{
  SimWorld *self = user_data;
  char key[64];

  sim_addr_format (peer, key, sizeof key);
  return g_hash_table_lookup (self->peer_names, key);
}

static void
mixed_location_changed_cb (SimLocation *location,
                           const char  *aor,
                           gpointer     user_data)
{
  SimWorld *self = user_data;
  g_autofree char *key_aor = g_strdup (aor);
  GPtrArray *keys = g_hash_table_lookup (self->aor_peers, key_aor);
  GPtrArray *bindings;
  const char *user;
  const char *at;

  for (guint i = 0; keys != NULL && i < keys->len; i++)
    g_hash_table_remove (self->peer_names, keys->pdata[i]);
  g_hash_table_remove (self->aor_peers, key_aor);
  /* A lookup may expire lapsed bindings and re-enter for this AOR; that run sees the same set. */
  bindings = sim_location_lookup (location, key_aor);
  if (bindings == NULL || bindings->len == 0)
    return;

  /* "sip:alice@lab.example" -> "alice" */
  user = g_str_has_prefix (key_aor, "sip:") ? key_aor + 4 : key_aor;
  at = strchr (user, '@');
  keys = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < bindings->len; i++)
    {
      const SimBinding *binding = bindings->pdata[i];
      char *key = sim_addr_to_string (&binding->source);

      g_hash_table_replace (self->peer_names, g_strdup (key),
                            at != NULL ? g_strndup (user, at - user) : g_strdup (user));
      g_ptr_array_add (keys, key);
    }
  g_hash_table_replace (self->aor_peers, g_strdup (key_aor), keys);
}

/* Before the first endpoint opens: it must be an address simulated phones can send to as well. */
static gboolean
check_first_endpoint (SimWorld    *self,
                      const char  *spec,
                      GError     **error)
{
  g_autoptr(GInetAddress) inet = NULL;
  const char *owner;
  SimAddr addr;

  if (!sim_transport_parse_spec (spec, &addr, error))
    return FALSE;
  inet = g_inet_address_new_from_string (addr.ip);
  if (inet == NULL || g_inet_address_get_family (inet) != G_SOCKET_FAMILY_IPV4 ||
      g_inet_address_get_is_any (inet))
    {
      g_set_error (error, SIM_WORLD_ERROR, SIM_WORLD_ERROR_INVALID,
                   "%s: the first endpoint of a world with simulated phones must be one IPv4 "
                   "address (not 0.0.0.0 or IPv6): the simulated network reaches the registrar "
                   "there", spec);
      return FALSE;
    }
  owner = sim_net_host_for_ip (self->net, addr.ip);
  if (owner != NULL && g_strcmp0 (owner, self->server_name) != 0)
    {
      g_set_error (error, SIM_WORLD_ERROR, SIM_WORLD_ERROR_EXISTS,
                   "%s: %s is the address of the simulated host %s", spec, addr.ip, owner);
      return FALSE;
    }
  return TRUE;
}

/* The registrar's address is now the real one: on SimNet, and for every phone's outbound proxy. */
static gboolean
rehome_server (SimWorld  *self,
               SimAddr   *old_local,
               GError   **error)
{
  const SimAddr *local = sim_stack_get_local (self->server_stack);

  if (strcmp (local->ip, old_local->ip) != 0 &&
      !sim_net_move_host (self->net, self->server_name, local->ip, error))
    return FALSE;
  sim_net_unbind (self->net, self->server_name, old_local->port);
  sim_net_bind (self->net, self->server_name, local->port, net_receive_cb, self->server_stack);
  for (guint i = 0; i < self->phones->len; i++)
    if (self->mode == SIM_MODE_REGISTRAR)
      sim_phone_set_outbound (self->phones->pdata[i], local);
  /* Real phones read the Date of a 200 OK (RFC 3261 §10.3 step 8) as real time. */
  sim_registrar_set_date_epoch (self->registrar,
                                (g_get_real_time () - sim_clock_now (self->clock)) / G_USEC_PER_SEC);
  trace_action (self, self->server_name,
                "the registrar listens on real sockets at %s:%u; simulated phones reach it there "
                "too", local->ip, local->port);
  return TRUE;
}

gboolean
sim_world_listen (SimWorld    *self,
                  const char  *spec,
                  GError     **error)
{
  GArray *listeners;
  gboolean first;
  SimAddr old_local;

  g_return_val_if_fail (SIM_IS_WORLD (self), FALSE);
  g_return_val_if_fail (spec != NULL, FALSE);

  if (self->server_stack == NULL)
    {
      g_set_error (error, SIM_WORLD_ERROR, SIM_WORLD_ERROR_STATE,
                   "the world has no registrar to put on real sockets");
      return FALSE;
    }
  first = self->transport == NULL ||
          sim_socket_transport_get_listeners (self->transport)->len == 0;
  if (first && !check_first_endpoint (self, spec, error))
    return FALSE;
  if (self->transport == NULL)
    {
      self->transport = sim_socket_transport_new (self->server_stack);
      self->peer_names = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
      self->aor_peers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                               (GDestroyNotify) g_ptr_array_unref);
      sim_socket_transport_set_name_func (self->transport, mixed_peer_name_cb, self);
      /* Strangers can reach the registrar now: guessing passwords costs them what it costs
       * against `serve` (the simulated phones count too, under their simulated addresses). */
      self->auth_limiter = sim_auth_limiter_new (self->server_stack, self->auth);
      g_signal_connect_object (self->location, "changed",
                               G_CALLBACK (mixed_location_changed_cb), self, 0);
    }
  old_local = *sim_stack_get_local (self->server_stack);
  if (!sim_socket_transport_listen (self->transport, spec, error))
    {
      /* Nothing listens yet: the server stays on the simulated network alone. */
      if (first)
        sim_stack_set_send_func (self->server_stack, stack_send_cb, self);
      return FALSE;
    }
  /* The transport made itself the send function; route through SimNet where that is right. */
  sim_stack_set_send_func (self->server_stack, mixed_send_cb, self);
  listeners = sim_socket_transport_get_listeners (self->transport);
  if (first && listeners->len == 1 && !rehome_server (self, &old_local, error))
    return FALSE;
  return TRUE;
}
