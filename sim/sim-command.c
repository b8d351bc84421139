/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "sim-command-private.h"

#include <string.h>

#include "sim-scenario.h"
#include "sim-sniffer.h"

/*
 * The command language: one row per verb in verbs[] below, with its word, usage, the places it
 * may be used and its parse, run and write functions.  Parsing checks the names against a
 * scope (the scene being read, or the running world), so a typo in a scenario's "at" line and
 * in a lesson's "do:" line gets the same message; running asks the world, whose errors say
 * what only running can tell (no call to hang up).  The link and policy changes the verbs share
 * with the scenario's statements are read and written in sim-command-change.c.
 */

G_DEFINE_QUARK (sim-command-error-quark, sim_command_error)

#define SYNTAX   SIM_COMMAND_ERROR_SYNTAX
#define INVALID  SIM_COMMAND_ERROR_INVALID
#define ALL_PLACES (SIM_COMMAND_IN_SCENARIO | SIM_COMMAND_IN_LESSON | SIM_COMMAND_IN_EDIT)

/* ------------------------------------------------------------------------------------------ */
/* Names: what the scope knows                                                                */

static gboolean
scope_is_empty (const SimCommandScope *scope)
{
  return scope == NULL || (scope->scene == NULL && scope->world == NULL);
}

/* "alice-desk, bob-desk and carol-soft", for a student who typed a name that is not there. */
static char *
join_names (GPtrArray *names)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < names->len; i++)
    {
      if (i > 0)
        g_string_append (s, i + 1 == names->len ? " and " : ", ");
      g_string_append (s, names->pdata[i]);
    }
  return g_string_free (s, FALSE);
}

static char *
world_phone_names (SimWorld *world)
{
  GPtrArray *phones = sim_world_get_phones (world);
  g_autoptr(GPtrArray) names = g_ptr_array_new ();

  for (guint i = 0; i < phones->len; i++)
    g_ptr_array_add (names, (gpointer) sim_phone_get_device (phones->pdata[i]));
  return join_names (names);
}

static const char *
world_node_kind (SimWorld   *world,
                 const char *name)
{
  if (sim_net_host_is_nat (sim_world_get_net (world), name))
    return "NAT";
  return g_strcmp0 (sim_world_get_server_name (world), name) == 0 ? "server" : "host";
}

static const char *
read_phone (SimWords              *w,
            const SimCommandScope *scope)
{
  const char *name = _sim_words_next (w, "phone name");

  if (name == NULL || scope_is_empty (scope))
    return name;
  if (scope->scene != NULL)
    {
      const SimScenarioNode *node = sim_scenario_find_node (scope->scene, name);

      if (node == NULL)
        _sim_words_fail (w, INVALID, "unknown phone '%s' (declare it with a 'phone' line "
                         "before this one)", name);
      else if (node->kind != SIM_SCENARIO_NODE_PHONE)
        _sim_words_fail (w, INVALID, "'%s' is a %s, not a phone", name,
                         node->kind == SIM_SCENARIO_NODE_SERVER ? "server"
                         : node->kind == SIM_SCENARIO_NODE_NAT ? "NAT" : "host");
      else
        return name;
      return NULL;
    }
  if (sim_world_get_phone (scope->world, name) != NULL)
    return name;
  if (sim_net_has_host (sim_world_get_net (scope->world), name))
    _sim_words_fail (w, INVALID, "'%s' is a %s, not a phone", name,
                     world_node_kind (scope->world, name));
  else
    {
      g_autofree char *known = world_phone_names (scope->world);
      _sim_words_fail (w, INVALID, "unknown phone '%s' (the phones are %s)", name, known);
    }
  return NULL;
}

static gboolean
scope_has_user (const SimCommandScope *scope,
                const char            *name)
{
  g_autoptr(GPtrArray) users = NULL;

  if (scope->scene != NULL)
    return sim_scenario_find_user (scope->scene, name) != NULL;
  users = sim_world_list_users (scope->world);
  return g_ptr_array_find_with_equal_func (users, name, g_str_equal, NULL);
}

static const char *
read_user (SimWords              *w,
           const SimCommandScope *scope)
{
  const char *name = _sim_words_next (w, "user name");

  if (name == NULL || scope_is_empty (scope) || scope_has_user (scope, name))
    return name;
  if (scope->scene != NULL)
    _sim_words_fail (w, INVALID, "unknown user '%s' (declare it with a 'user' line before this "
                     "one)", name);
  else
    {
      g_autoptr(GPtrArray) users = sim_world_list_users (scope->world);
      g_autofree char *known = join_names (users);
      _sim_words_fail (w, INVALID, "unknown user '%s' (the users are %s)", name, known);
    }
  return NULL;
}

gboolean
_sim_command_check_node (SimWords              *w,
                         const SimCommandScope *scope,
                         const char            *name,
                         const char            *what)
{
  if (scope_is_empty (scope))
    return TRUE;
  if (scope->scene != NULL)
    {
      if (sim_scenario_find_node (scope->scene, name) == NULL)
        return _sim_words_fail (w, INVALID, "unknown %s '%s' (declare it before this line)",
                                what, name);
      return TRUE;
    }
  if (!sim_net_has_host (sim_world_get_net (scope->world), name))
    return _sim_words_fail (w, INVALID, "unknown %s '%s'", what, name);
  return TRUE;
}

/* add-phone: the name and the address must be new. */
static gboolean
check_new_phone (SimWords              *w,
                 const SimCommandScope *scope,
                 const char            *name,
                 const char            *ip)
{
  if (scope_is_empty (scope))
    return TRUE;
  if (scope->scene != NULL)
    {
      const SimScenarioNode *other = sim_scenario_find_node (scope->scene, name);

      if (other != NULL)
        return _sim_words_fail (w, INVALID, "'%s' is already declared on line %u", name,
                                other->line);
      for (guint i = 0; i < scope->scene->nodes->len; i++)
        {
          other = scope->scene->nodes->pdata[i];
          if (strcmp (other->ip, ip) == 0)
            return _sim_words_fail (w, INVALID, "address %s is already used by '%s' (line %u)",
                                    ip, other->name, other->line);
        }
      return TRUE;
    }
  {
    SimNet *net = sim_world_get_net (scope->world);
    const char *other = sim_net_host_for_ip (net, ip);

    if (sim_net_has_host (net, name))
      return _sim_words_fail (w, INVALID, "there is already a node named '%s'", name);
    if (other != NULL)
      return _sim_words_fail (w, INVALID, "address %s is already used by '%s'", ip, other);
  }
  return TRUE;
}

static gboolean
scope_has_registrar (const SimCommandScope *scope)
{
  if (scope->scene != NULL)
    return sim_scenario_get_server (scope->scene) != NULL;
  return sim_world_get_registrar (scope->world) != NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* Parsing, one function per verb                                                             */

/* hangup, power-off, power-on, remove-phone: a phone and nothing else; the other verbs on a
 * phone begin with it. */
static gboolean
parse_phone_only (SimWords              *w,
                  const SimCommandScope *scope,
                  SimCommand            *c)
{
  const char *device = read_phone (w, scope);

  if (device == NULL)
    return FALSE;
  c->device = g_strdup (device);
  return TRUE;
}

/* crack SNIFFER [user USER]: the sniffer must be declared (or be in the running world). */
static gboolean
parse_crack (SimWords              *w,
             const SimCommandScope *scope,
             SimCommand            *c)
{
  const char *sniffer = _sim_words_next (w, "sniffer name");

  if (sniffer == NULL)
    return FALSE;
  if (scope != NULL && scope->scene != NULL &&
      sim_scenario_find_sniffer (scope->scene, sniffer) == NULL)
    return _sim_words_fail (w, INVALID, "unknown sniffer '%s' (declare it with a 'sniffer' "
                            "line before this one)", sniffer);
  if (scope != NULL && scope->scene == NULL && scope->world != NULL &&
      !sim_net_has_sniffer (sim_world_get_net (scope->world), sniffer))
    return _sim_words_fail (w, INVALID, "unknown sniffer '%s'", sniffer);
  c->target = g_strdup (sniffer);
  if (_sim_words_accept (w, "user"))
    {
      const char *user = _sim_words_next (w, "user name after 'user'");

      if (user == NULL)
        return FALSE;
      c->user = g_strdup (user);
    }
  return TRUE;
}

static gboolean
parse_register (SimWords              *w,
                const SimCommandScope *scope,
                SimCommand            *c)
{
  if (!parse_phone_only (w, scope, c))
    return FALSE;
  if (_sim_words_accept (w, "expires"))
    {
      guint seconds;

      if (!_sim_words_next_seconds (w, "expires", &seconds))
        return FALSE;
      c->expires = seconds;
    }
  return TRUE;
}

static gboolean
parse_unregister (SimWords              *w,
                  const SimCommandScope *scope,
                  SimCommand            *c)
{
  if (!parse_phone_only (w, scope, c))
    return FALSE;
  c->all = _sim_words_accept (w, "all");
  return TRUE;
}

static gboolean
parse_call (SimWords              *w,
            const SimCommandScope *scope,
            SimCommand            *c)
{
  const char *v;

  if (!parse_phone_only (w, scope, c))
    return FALSE;
  if ((v = _sim_words_next (w, "who to call (a user name or a sip: URI)")) == NULL)
    return FALSE;
  if (!g_str_has_prefix (v, "sip:") && !scope_is_empty (scope) && !scope_has_user (scope, v))
    return _sim_words_fail (w, INVALID, "unknown user '%s' to call (a declared user name or a "
                            "sip: URI)", v);
  c->target = g_strdup (v);
  return TRUE;
}

static gboolean
parse_move (SimWords              *w,
            const SimCommandScope *scope,
            SimCommand            *c)
{
  const char *v;

  if (!parse_phone_only (w, scope, c))
    return FALSE;
  if ((v = _sim_words_next_ip (w)) == NULL)
    return FALSE;
  c->value = g_strdup (v);
  return TRUE;
}

/* "password DEVICE NEW" sets what the phone sends; "password user USER NEW" what the registrar
 * expects. */
static gboolean
parse_password (SimWords              *w,
                const SimCommandScope *scope,
                SimCommand            *c)
{
  const char *v;

  if (_sim_words_accept (w, "user"))
    {
      if ((v = read_user (w, scope)) == NULL)
        return FALSE;
      c->user = g_strdup (v);
    }
  else if (!parse_phone_only (w, scope, c))
    return FALSE;
  if ((v = _sim_words_next (w, "the new password")) == NULL)
    return FALSE;
  c->value = g_strdup (v);
  return TRUE;
}

/* A Contact a replay may write: "*" or a sip:/sips: URI. */
static gboolean
read_replay_contact (SimWords   *w,
                     SimCommand *c)
{
  const char *v = _sim_words_next (w, "a Contact after 'contact' (like sip:alice@10.0.0.66 or *)");

  if (v == NULL)
    return FALSE;
  if (strcmp (v, "*") != 0 && !g_str_has_prefix (v, "sip:") && !g_str_has_prefix (v, "sips:"))
    return _sim_words_fail (w, SYNTAX, "a Contact is '*' or a sip: URI, not '%s'", v);
  g_free (c->value);
  c->value = g_strdup (v);
  return TRUE;
}

static gboolean
parse_replay (SimWords              *w,
              const SimCommandScope *scope,
              SimCommand            *c)
{
  const char *v;

  if (!parse_phone_only (w, scope, c))
    return FALSE;
  c->expires = -1;
  while (!_sim_words_at_end (w))
    {
      if (_sim_words_accept (w, "from"))
        {
          if ((v = _sim_words_next (w, "the host that replays, after 'from'")) == NULL ||
              !_sim_command_check_node (w, scope, v, "host"))
            return FALSE;
          g_free (c->target);
          c->target = g_strdup (v);
        }
      else if (_sim_words_accept (w, "new-call-id"))
        c->new_call_id = TRUE;
      else if (_sim_words_accept (w, "bump-cseq"))
        c->bump_cseq = TRUE;
      else if (_sim_words_accept (w, "contact"))
        {
          if (!read_replay_contact (w, c))
            return FALSE;
        }
      else if (_sim_words_accept (w, "expires"))
        {
          guint seconds;

          if (!_sim_words_next_seconds (w, "expires", &seconds))
            return FALSE;
          c->expires = seconds;
        }
      else
        return _sim_words_fail (w, SYNTAX, "unexpected '%s' (replay takes 'from HOST', "
                                "'new-call-id', 'bump-cseq', 'contact URI' and 'expires N')",
                                _sim_words_peek (w));
    }
  return TRUE;
}

static gboolean
parse_learn (SimWords              *w,
             const SimCommandScope *scope,
             SimCommand            *c)
{
  const char *v;

  if (!parse_phone_only (w, scope, c))
    return FALSE;
  if ((v = read_user (w, scope)) == NULL)
    return FALSE;
  c->user = g_strdup (v);
  if ((v = _sim_words_next_ip (w)) == NULL)
    return FALSE;
  c->value = g_strdup (v);
  return TRUE;
}

static gboolean
parse_nothing (SimWords              *w,
               const SimCommandScope *scope,
               SimCommand            *c)
{
  return TRUE;
}

static gboolean
parse_link (SimWords              *w,
            const SimCommandScope *scope,
            SimCommand            *c)
{
  return _sim_link_change_read (w, scope, &c->link);
}

static gboolean
parse_note (SimWords              *w,
            const SimCommandScope *scope,
            SimCommand            *c)
{
  if (_sim_words_at_end (w))
    return _sim_words_fail (w, SYNTAX, "missing the text of the note");
  c->value = _sim_words_rest (w);
  return TRUE;
}

static gboolean
parse_policy (SimWords              *w,
              const SimCommandScope *scope,
              SimCommand            *c)
{
  return _sim_policy_change_read (w, &c->policy);
}

static gboolean
parse_wait (SimWords              *w,
            const SimCommandScope *scope,
            SimCommand            *c)
{
  return _sim_words_next_duration (w, "how long to wait (like 30s)", &c->duration);
}

/* add-phone DEVICE USER IP [password SECRET] */
static gboolean
parse_add_phone (SimWords              *w,
                 const SimCommandScope *scope,
                 SimCommand            *c)
{
  const char *device, *user, *ip;

  if ((device = _sim_words_next_name (w, "phone name")) == NULL ||
      (user = _sim_words_next (w, "user name")) == NULL)
    return FALSE;
  if (!_sim_words_valid_user (user))
    return _sim_words_fail (w, SYNTAX, "'%s' is not a valid SIP user name", user);
  if ((ip = _sim_words_next_ip (w)) == NULL || !check_new_phone (w, scope, device, ip))
    return FALSE;
  c->device = g_strdup (device);
  c->user = g_strdup (user);
  c->value = g_strdup (ip);
  if (_sim_words_accept (w, "password"))
    {
      const char *password = _sim_words_next (w, "the new user's password after 'password'");

      if (password == NULL)
        return FALSE;
      c->password = g_strdup (password);
    }
  if (c->password == NULL && !scope_is_empty (scope) && !scope_has_user (scope, user))
    return _sim_words_fail (w, INVALID, "'%s' is a new user: give a password", user);
  return TRUE;
}

static gboolean
parse_mode (SimWords              *w,
            const SimCommandScope *scope,
            SimCommand            *c)
{
  const char *mode = _sim_words_next (w, "mode (registrar or p2p)");

  if (mode == NULL)
    return FALSE;
  if (strcmp (mode, "registrar") == 0)
    c->mode = SIM_MODE_REGISTRAR;
  else if (strcmp (mode, "p2p") == 0)
    c->mode = SIM_MODE_P2P;
  else
    return _sim_words_fail (w, SYNTAX, "mode is 'registrar' or 'p2p', not '%s'", mode);
  if (c->mode == SIM_MODE_REGISTRAR && !scope_is_empty (scope) && !scope_has_registrar (scope))
    return _sim_words_fail (w, INVALID, "this scene has no registrar to switch to");
  return TRUE;
}

/* ------------------------------------------------------------------------------------------ */
/* Running, one function per verb                                                             */

static gboolean
run_register (const SimCommand  *c,
              SimWorld          *world,
              GError           **error)
{
  return sim_world_register (world, c->device, c->expires, error);
}

static gboolean
run_unregister (const SimCommand  *c,
                SimWorld          *world,
                GError           **error)
{
  return sim_world_unregister (world, c->device, c->all, error);
}

static gboolean
run_call (const SimCommand  *c,
          SimWorld          *world,
          GError           **error)
{
  return sim_world_call (world, c->device, c->target, error);
}

static gboolean
run_hangup (const SimCommand  *c,
            SimWorld          *world,
            GError           **error)
{
  return sim_world_hangup (world, c->device, error);
}

static gboolean
run_move (const SimCommand  *c,
          SimWorld          *world,
          GError           **error)
{
  return sim_world_move (world, c->device, c->value, error);
}

static gboolean
run_power_off (const SimCommand  *c,
               SimWorld          *world,
               GError           **error)
{
  return sim_world_set_power (world, c->device, FALSE, error);
}

static gboolean
run_power_on (const SimCommand  *c,
              SimWorld          *world,
              GError           **error)
{
  return sim_world_set_power (world, c->device, TRUE, error);
}

static gboolean
run_password (const SimCommand  *c,
              SimWorld          *world,
              GError           **error)
{
  return sim_world_set_password (world, c->user, c->device, c->value, error);
}

static gboolean
run_replay (const SimCommand  *c,
            SimWorld          *world,
            GError           **error)
{
  SimReplayChanges changes = { c->new_call_id, c->bump_cseq, c->value, c->expires };

  return sim_world_replay_full (world, c->device, c->target, &changes, error);
}

static gboolean
run_learn (const SimCommand  *c,
           SimWorld          *world,
           GError           **error)
{
  /* The world ignores an unknown phone here; a command says so. */
  if (sim_world_get_phone (world, c->device) == NULL)
    {
      g_set_error (error, SIM_WORLD_ERROR, SIM_WORLD_ERROR_NOT_FOUND, "no phone named '%s'",
                   c->device);
      return FALSE;
    }
  sim_world_learn_address (world, c->device, c->user, c->value);
  return TRUE;
}

static gboolean
run_fill_address_books (const SimCommand  *c,
                        SimWorld          *world,
                        GError           **error)
{
  sim_world_fill_address_books (world);
  return TRUE;
}

static gboolean
run_link (const SimCommand  *c,
          SimWorld          *world,
          GError           **error)
{
  SimNet *net = sim_world_get_net (world);
  SimLinkParams params;

  for (guint i = 0; i < 2 && c->link.a != NULL; i++)
    {
      const char *name = i == 0 ? c->link.a : c->link.b;

      if (!sim_net_has_host (net, name))
        {
          g_set_error (error, SIM_WORLD_ERROR, SIM_WORLD_ERROR_NOT_FOUND, "no node named '%s'",
                       name);
          return FALSE;
        }
    }
  /* Only the given fields change; the others keep what the link has now. */
  if (c->link.a == NULL)
    sim_net_get_default_link (net, &params);
  else
    sim_net_get_link (net, c->link.a, c->link.b, &params);
  _sim_link_change_apply (&c->link, &params);
  sim_world_set_link (world, c->link.a, c->link.b, &params);
  return TRUE;
}

static gboolean
run_note (const SimCommand  *c,
          SimWorld          *world,
          GError           **error)
{
  sim_trace_note (sim_world_get_trace (world), sim_world_now (world), NULL, "%s", c->value);
  return TRUE;
}

static gboolean
run_policy (const SimCommand  *c,
            SimWorld          *world,
            GError           **error)
{
  g_autoptr(GString) text = g_string_new (NULL);

  if (!sim_policy_change_apply (&c->policy, world, error))
    return FALSE;
  _sim_policy_change_write (&c->policy, text);
  sim_trace_note (sim_world_get_trace (world), sim_world_now (world),
                  sim_world_get_server_name (world), "registrar policy changed:%s", text->str);
  return TRUE;
}

static gboolean
run_wait (const SimCommand  *c,
          SimWorld          *world,
          GError           **error)
{
  sim_world_run_until (world, sim_world_now (world) + c->duration);
  return TRUE;
}

static gboolean
world_has_user (SimWorld   *world,
                const char *user)
{
  g_autoptr(GPtrArray) users = sim_world_list_users (world);

  return g_ptr_array_find_with_equal_func (users, user, g_str_equal, NULL);
}

static gboolean
run_add_phone (const SimCommand  *c,
               SimWorld          *world,
               GError           **error)
{
  if (!world_has_user (world, c->user))
    {
      if (c->password == NULL || *c->password == '\0')
        {
          g_set_error (error, SIM_WORLD_ERROR, SIM_WORLD_ERROR_INVALID,
                       "'%s' is a new user: give a password", c->user);
          return FALSE;
        }
      if (!sim_world_add_user (world, c->user, c->password, NULL, error))
        return FALSE;
    }
  if (sim_world_add_phone (world, c->user, c->device, c->value, error) == NULL)
    return FALSE;
  /* In registrar mode a new phone announces itself at once, as a real one does. */
  if (sim_world_get_mode (world) == SIM_MODE_REGISTRAR && sim_world_get_registrar (world) != NULL)
    return sim_world_register (world, c->device, -1, error);
  return TRUE;
}

static gboolean
run_remove_phone (const SimCommand  *c,
                  SimWorld          *world,
                  GError           **error)
{
  return sim_world_remove_phone (world, c->device, error);
}

static gboolean
run_mode (const SimCommand  *c,
          SimWorld          *world,
          GError           **error)
{
  if (c->mode == SIM_MODE_REGISTRAR && sim_world_get_registrar (world) == NULL)
    {
      g_set_error_literal (error, SIM_WORLD_ERROR, SIM_WORLD_ERROR_STATE,
                           "this scene has no registrar to switch to");
      return FALSE;
    }
  sim_world_set_mode (world, c->mode);
  /* Point-to-point needs addresses typed in: give every phone everyone's. */
  if (c->mode == SIM_MODE_P2P)
    sim_world_fill_address_books (world);
  return TRUE;
}

/* Off and on at one instant: what the phone had in memory is lost, and it boots as power-on
 * does (a new Call-ID and From tag; it registers again if it was registered). */
static gboolean
run_reboot (const SimCommand  *c,
            SimWorld          *world,
            GError           **error)
{
  SimPhone *phone = sim_world_get_phone (world, c->device);

  if (phone != NULL && !sim_phone_is_powered (phone))
    {
      g_set_error (error, SIM_COMMAND_ERROR, SIM_COMMAND_ERROR_RUN,
                   "%s is switched off: power it on instead", c->device);
      return FALSE;
    }
  return sim_world_set_power (world, c->device, FALSE, error) &&
         sim_world_set_power (world, c->device, TRUE, error);
}

/* The sniffer's offline dictionary attack on what it captured (sim-sniffer.h): it sends
 * nothing, so it takes no simulated time; the time it would take is in the traced result. */
static gboolean
run_crack (const SimCommand  *c,
           SimWorld          *world,
           GError           **error)
{
  SimTrace *trace = sim_world_get_trace (world);
  SimCrackResult result;

  if (!sim_net_has_sniffer (sim_world_get_net (world), c->target))
    {
      g_set_error (error, SIM_WORLD_ERROR, SIM_WORLD_ERROR_NOT_FOUND, "no sniffer named '%s'",
                   c->target);
      return FALSE;
    }
  sim_sniffer_crack (sim_trace_get_events (trace), c->target, c->user,
                     sim_sniffer_default_words (), &result);
  sim_sniffer_trace_result (trace, sim_world_now (world), c->target, &result);
  sim_crack_result_clear (&result);
  return TRUE;
}

/* ------------------------------------------------------------------------------------------ */
/* Writing, one function per verb (after the verb's word)                                     */

static void
write_register (const SimCommand *c,
                GString          *s)
{
  _sim_words_append (s, c->device);
  if (c->expires >= 0)
    g_string_append_printf (s, " expires %" G_GINT64_FORMAT, c->expires);
}

static void
write_unregister (const SimCommand *c,
                  GString          *s)
{
  _sim_words_append (s, c->device);
  if (c->all)
    g_string_append (s, " all");
}

static void
write_call (const SimCommand *c,
            GString          *s)
{
  _sim_words_append (s, c->device);
  _sim_words_append (s, c->target);
}

static void
write_phone_only (const SimCommand *c,
                  GString          *s)
{
  _sim_words_append (s, c->device);
}

/* move DEVICE IP */
static void
write_device_value (const SimCommand *c,
                    GString          *s)
{
  _sim_words_append (s, c->device);
  _sim_words_append (s, c->value);
}

static void
write_password (const SimCommand *c,
                GString          *s)
{
  if (c->device != NULL)
    _sim_words_append (s, c->device);
  else
    {
      g_string_append (s, " user");
      _sim_words_append (s, c->user);
    }
  _sim_words_append (s, c->value);
}

static void
write_replay (const SimCommand *c,
              GString          *s)
{
  _sim_words_append (s, c->device);
  if (c->target != NULL)
    {
      g_string_append (s, " from");
      _sim_words_append (s, c->target);
    }
  if (c->new_call_id)
    g_string_append (s, " new-call-id");
  if (c->bump_cseq)
    g_string_append (s, " bump-cseq");
  if (c->value != NULL)
    {
      g_string_append (s, " contact");
      _sim_words_append (s, c->value);
    }
  if (c->expires >= 0)
    g_string_append_printf (s, " expires %" G_GINT64_FORMAT, c->expires);
}

static void
write_learn (const SimCommand *c,
             GString          *s)
{
  _sim_words_append (s, c->device);
  _sim_words_append (s, c->user);
  _sim_words_append (s, c->value);
}

static void
write_crack (const SimCommand *c,
             GString          *s)
{
  _sim_words_append (s, c->target);
  if (c->user != NULL)
    {
      g_string_append (s, " user");
      _sim_words_append (s, c->user);
    }
}

static void
write_nothing (const SimCommand *c,
               GString          *s)
{
}

static void
write_link (const SimCommand *c,
            GString          *s)
{
  _sim_link_change_write (&c->link, s);
}

static void
write_note (const SimCommand *c,
            GString          *s)
{
  _sim_words_append (s, c->value);
}

static void
write_policy (const SimCommand *c,
              GString          *s)
{
  _sim_policy_change_write (&c->policy, s);
}

static void
write_wait (const SimCommand *c,
            GString          *s)
{
  _sim_words_append_duration (s, c->duration);
}

static void
write_add_phone (const SimCommand *c,
                 GString          *s)
{
  _sim_words_append (s, c->device);
  _sim_words_append (s, c->user);
  _sim_words_append (s, c->value);
  if (c->password != NULL)
    {
      g_string_append (s, " password");
      _sim_words_append (s, c->password);
    }
}

static void
write_mode (const SimCommand *c,
            GString          *s)
{
  g_string_append (s, c->mode == SIM_MODE_P2P ? " p2p" : " registrar");
}

/* ------------------------------------------------------------------------------------------ */
/* The table                                                                                  */

typedef struct {
  SimVerbInfo info;
  gboolean (*parse) (SimWords *w, const SimCommandScope *scope, SimCommand *c);
  gboolean (*run)   (const SimCommand *c, SimWorld *world, GError **error);
  void     (*write) (const SimCommand *c, GString *s);
} Verb;

/* In SimVerb order: verbs[v].info.verb == v. */
static const Verb verbs[] = {
  { { SIM_VERB_REGISTER, "register", "register PHONE [expires SECONDS]",
      "The phone registers (answering a challenge) and keeps its registration refreshed.",
      ALL_PLACES },
    parse_register, run_register, write_register },
  { { SIM_VERB_UNREGISTER, "unregister", "unregister PHONE [all]",
      "REGISTER with Expires: 0 for the phone's Contact, or with Contact: * for all of them.",
      ALL_PLACES },
    parse_unregister, run_unregister, write_unregister },
  { { SIM_VERB_CALL, "call", "call PHONE USER|sip:URI",
      "The phone calls a user: through the proxy, or straight to its address book in p2p mode.",
      ALL_PLACES },
    parse_call, run_call, write_call },
  { { SIM_VERB_HANGUP, "hangup", "hangup PHONE",
      "BYE in a call, CANCEL while it rings, 603 Decline for an incoming call.",
      ALL_PLACES },
    parse_phone_only, run_hangup, write_phone_only },
  { { SIM_VERB_MOVE, "move", "move PHONE IP",
      "The phone's host gets a new address; a registered phone registers again from there.",
      ALL_PLACES },
    parse_move, run_move, write_device_value },
  { { SIM_VERB_POWER_OFF, "power-off", "power-off PHONE",
      "The phone stops: no refresh, no goodbye; what it had in memory is lost.",
      ALL_PLACES },
    parse_phone_only, run_power_off, write_phone_only },
  { { SIM_VERB_POWER_ON, "power-on", "power-on PHONE",
      "The phone starts again, with a new Call-ID, and registers if it was registered.",
      ALL_PLACES },
    parse_phone_only, run_power_on, write_phone_only },
  { { SIM_VERB_PASSWORD, "password", "password PHONE SECRET | password user USER SECRET",
      "The password configured on the phone, or the one the registrar expects, changes.",
      ALL_PLACES },
    parse_password, run_password, write_password },
  { { SIM_VERB_REPLAY, "replay", "replay PHONE [from HOST] [new-call-id] [bump-cseq] [contact URI] [expires N]",
      "HOST resends the last REGISTER with Authorization that PHONE sent, changed as asked.",
      ALL_PLACES },
    parse_replay, run_replay, write_replay },
  { { SIM_VERB_LEARN, "learn", "learn PHONE USER IP",
      "Point-to-point address book: PHONE learns that USER is at IP.",
      ALL_PLACES },
    parse_learn, run_learn, write_learn },
  { { SIM_VERB_FILL_ADDRESS_BOOKS, "fill-address-books", "fill-address-books",
      "Every phone learns every other user's current address.",
      ALL_PLACES },
    parse_nothing, run_fill_address_books, write_nothing },
  { { SIM_VERB_LINK, "link", "link default|NODE NODE [latency D] [jitter D] [loss P%] [tls [on|off]]",
      "Network conditions change from now on; parameters not given keep their values.",
      ALL_PLACES },
    parse_link, run_link, write_link },
  { { SIM_VERB_NOTE, "note", "note TEXT",
      "A line in the trace for the student to read.",
      ALL_PLACES },
    parse_note, run_note, write_note },
  { { SIM_VERB_POLICY, "policy", "policy KEY VALUE [KEY VALUE...]",
      "The registrar's policy changes from now on; keys not given keep their values.",
      ALL_PLACES },
    parse_policy, run_policy, write_policy },
  { { SIM_VERB_WAIT, "wait", "wait DURATION",
      "Time runs on for DURATION before the next command.",
      SIM_COMMAND_IN_LESSON },
    parse_wait, run_wait, write_wait },
  { { SIM_VERB_ADD_PHONE, "add-phone", "add-phone PHONE USER IP [password SECRET]",
      "A new phone (and, with a password, a new user); in registrar mode it registers at once.",
      SIM_COMMAND_IN_EDIT },
    parse_add_phone, run_add_phone, write_add_phone },
  { { SIM_VERB_REMOVE_PHONE, "remove-phone", "remove-phone PHONE",
      "The phone is switched off and taken off the network.",
      SIM_COMMAND_IN_EDIT },
    parse_phone_only, run_remove_phone, write_phone_only },
  { { SIM_VERB_MODE, "mode", "mode registrar|p2p",
      "Switch between registrar and point-to-point mode (p2p fills the address books).",
      SIM_COMMAND_IN_EDIT },
    parse_mode, run_mode, write_mode },
  { { SIM_VERB_REBOOT, "reboot", "reboot PHONE",
      "The phone powers off and on at once: it forgets its registration and boots again.",
      ALL_PLACES },
    parse_phone_only, run_reboot, write_phone_only },
  { { SIM_VERB_CRACK, "crack", "crack SNIFFER [user USER]",
      "The sniffer tries a word list offline against the last digest answer it captured.",
      ALL_PLACES },
    parse_crack, run_crack, write_crack },
};

G_STATIC_ASSERT (G_N_ELEMENTS (verbs) == SIM_N_VERBS);

static const Verb *
verb_get (SimVerb verb)
{
  g_assert ((guint) verb < G_N_ELEMENTS (verbs));
  g_assert (verbs[verb].info.verb == verb);
  return &verbs[verb];
}

const SimVerbInfo *
sim_verb_get_info (SimVerb verb)
{
  g_return_val_if_fail ((guint) verb < SIM_N_VERBS, NULL);
  return &verb_get (verb)->info;
}

const SimVerbInfo *
sim_verb_lookup (const char *word)
{
  g_return_val_if_fail (word != NULL, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (verbs); i++)
    if (strcmp (verbs[i].info.word, word) == 0)
      return &verbs[i].info;
  return NULL;
}

char *
sim_verb_list (SimCommandPlace place)
{
  g_autoptr(GPtrArray) words = g_ptr_array_new ();

  for (guint i = 0; i < G_N_ELEMENTS (verbs); i++)
    if ((verbs[i].info.places & place) == place)
      g_ptr_array_add (words, (gpointer) verbs[i].info.word);
  {
    GString *s = g_string_new (NULL);

    for (guint i = 0; i < words->len; i++)
      {
        if (i > 0)
          g_string_append (s, i + 1 == words->len ? " or " : ", ");
        g_string_append (s, words->pdata[i]);
      }
    return g_string_free (s, FALSE);
  }
}

static const char *
place_phrase (SimCommandPlace place)
{
  switch (place)
    {
    case SIM_COMMAND_IN_SCENARIO: return "in a scenario";
    case SIM_COMMAND_IN_LESSON: return "in a lesson";
    case SIM_COMMAND_IN_EDIT: return "as an edit in the GUI";
    default: return "here";
    }
}

/* "'wait' cannot be used in a scenario (only in a lesson)" */
static gboolean
fail_not_here (SimWords          *w,
               const SimVerbInfo *info,
               SimCommandPlace    place)
{
  g_autoptr(GString) where = g_string_new (NULL);
  static const SimCommandPlace places[] = {
    SIM_COMMAND_IN_SCENARIO, SIM_COMMAND_IN_LESSON, SIM_COMMAND_IN_EDIT,
  };

  for (guint i = 0; i < G_N_ELEMENTS (places); i++)
    if (info->places & places[i])
      g_string_append_printf (where, "%s%s", where->len ? " or " : "", place_phrase (places[i]));
  return _sim_words_fail (w, SIM_COMMAND_ERROR_NOT_HERE, "'%s' cannot be used %s (only %s)",
                          info->word, place_phrase (place), where->str);
}

/* ------------------------------------------------------------------------------------------ */
/* Commands                                                                                   */

SimCommand *
sim_command_new (SimVerb verb)
{
  SimCommand *c;

  g_return_val_if_fail ((guint) verb < SIM_N_VERBS, NULL);
  c = g_new0 (SimCommand, 1);
  c->verb = verb;
  c->expires = SIM_PHONE_DEFAULT_EXPIRES;
  return c;
}

SimCommand *
sim_command_copy (const SimCommand *command)
{
  SimCommand *c;

  g_return_val_if_fail (command != NULL, NULL);
  c = g_memdup2 (command, sizeof *command);
  c->device = g_strdup (command->device);
  c->user = g_strdup (command->user);
  c->target = g_strdup (command->target);
  c->value = g_strdup (command->value);
  c->password = g_strdup (command->password);
  c->link.a = g_strdup (command->link.a);
  c->link.b = g_strdup (command->link.b);
  return c;
}

void
sim_command_free (SimCommand *command)
{
  if (command == NULL)
    return;
  g_free (command->device);
  g_free (command->user);
  g_free (command->target);
  g_free (command->value);
  g_free (command->password);
  _sim_link_change_clear (&command->link);
  g_free (command);
}

SimCommand *
_sim_command_read (SimWords              *words,
                   SimCommandPlace        place,
                   const SimCommandScope *scope)
{
  g_autoptr(SimCommand) c = NULL;
  const SimVerbInfo *info;
  const char *word;

  if ((word = _sim_words_next (words, "the command (like 'register alice-desk')")) == NULL)
    return NULL;
  info = sim_verb_lookup (word);
  if (info == NULL)
    {
      g_autofree char *expected = sim_verb_list (place);
      _sim_words_fail (words, SYNTAX, "unknown command '%s' (expected %s)", word, expected);
      return NULL;
    }
  if ((info->places & place) != place)
    {
      fail_not_here (words, info, place);
      return NULL;
    }
  c = sim_command_new (info->verb);
  if (!verb_get (info->verb)->parse (words, scope, c) || !_sim_words_expect_end (words))
    return NULL;
  return g_steal_pointer (&c);
}

SimCommand *
sim_command_parse (const char             *text,
                   SimCommandPlace         place,
                   const SimCommandScope  *scope,
                   GError                **error)
{
  SimWords words;
  SimCommand *c = NULL;

  g_return_val_if_fail (text != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  _sim_words_init (&words);
  if (_sim_words_split (&words, text))
    c = _sim_command_read (&words, place, scope);
  if (c == NULL)
    g_propagate_error (error, g_steal_pointer (&words.error));
  _sim_words_clear (&words);
  return c;
}

gboolean
sim_command_run (const SimCommand  *command,
                 SimWorld          *world,
                 GError           **error)
{
  g_return_val_if_fail (command != NULL, FALSE);
  g_return_val_if_fail (SIM_IS_WORLD (world), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return verb_get (command->verb)->run (command, world, error);
}

char *
sim_command_to_string (const SimCommand *command)
{
  GString *s;

  g_return_val_if_fail (command != NULL, NULL);
  s = g_string_new (verb_get (command->verb)->info.word);
  verb_get (command->verb)->write (command, s);
  return g_string_free (s, FALSE);
}
