/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "sim-lesson-private.h"

#include <string.h>

/*
 * Commands: what a lesson's "do:" and "solution:" lines and a student's typed commands say
 * ("register bob-soft", "policy min-expires 600").  apply_policy() and command_run() are kept
 * as they were in sim-lesson.c (the command table in sim-command.c replaces them), so the
 * helpers they call keep their old names here.
 */

#define tokenize _sim_lesson_tokenize
#define parse_uint _sim_lesson_parse_uint
#define parse_seconds _sim_lesson_parse_seconds
#define bad _sim_lesson_syntax_error

static gboolean
apply_policy (SimWorld     *world,
              char        **w,
              GError      **error)
{
  SimRegistrar *registrar = world ? sim_world_get_registrar (world) : NULL;
  SimRegistrarPolicy policy = { 0 };
  guint n = g_strv_length (w);

  if (world != NULL && registrar == NULL)
    {
      g_set_error (error, SIM_LESSON_ERROR, SIM_LESSON_ERROR_COMMAND, "this scene has no registrar");
      return FALSE;
    }
  if (registrar != NULL)
    policy = *sim_registrar_get_policy (registrar);
  if (n < 3 || (n - 1) % 2 != 0)
    return bad (error, "expected 'policy KEY VALUE [KEY VALUE...]' (like 'policy min-expires 600')");
  for (guint i = 1; i + 1 < n; i += 2)
    {
      const char *key = w[i], *v = w[i + 1];
      guint64 num;

      if (strcmp (key, "min-expires") == 0 || strcmp (key, "default-expires") == 0 ||
          strcmp (key, "max-expires") == 0 || strcmp (key, "max-contacts") == 0)
        {
          gboolean is_count = strcmp (key, "max-contacts") == 0;
          if (!(is_count ? parse_uint (v, &num) : parse_seconds (v, &num)))
            return bad (error, "'%s' is not a number of seconds for %s", v, key);
          if (strcmp (key, "min-expires") == 0)
            policy.min_expires = num;
          else if (strcmp (key, "default-expires") == 0)
            policy.default_expires = num;
          else if (strcmp (key, "max-expires") == 0)
            policy.max_expires = num;
          else
            policy.max_contacts = num;
        }
      else if (strcmp (key, "too-brief") == 0 && (strcmp (v, "423") == 0 || strcmp (v, "raise") == 0))
        policy.raise_to_min = v[0] == 'r';
      else if (strcmp (key, "when-full") == 0 && (strcmp (v, "503") == 0 || strcmp (v, "replace-oldest") == 0))
        policy.replace_oldest = v[0] == 'r';
      else if (strcmp (key, "auth") == 0 && (strcmp (v, "on") == 0 || strcmp (v, "off") == 0))
        policy.require_auth = strcmp (v, "on") == 0;
      else if (strcmp (key, "proxy-auth") == 0 && (strcmp (v, "on") == 0 || strcmp (v, "off") == 0))
        policy.proxy_auth = strcmp (v, "on") == 0;
      else if (strcmp (key, "one-time") == 0 && (strcmp (v, "on") == 0 || strcmp (v, "off") == 0))
        {
          if (world != NULL)
            sim_auth_set_one_time (sim_world_get_auth (world), strcmp (v, "on") == 0);
        }
      else
        return bad (error, "unknown policy '%s %s' (expected min-expires N, default-expires N, "
                    "max-expires N, too-brief 423|raise, max-contacts N, when-full 503|replace-oldest, "
                    "auth on|off, proxy-auth on|off, one-time on|off)", key, v);
    }
  if (registrar != NULL)
    {
      if (policy.min_expires > policy.max_expires)
        return bad (error, "min-expires (%u) cannot be above max-expires (%u)", policy.min_expires,
                    policy.max_expires);
      sim_registrar_set_policy (registrar, &policy);
      {
        g_autofree char *text = g_strjoinv (" ", w + 1);
        sim_trace_note (sim_world_get_trace (world), sim_world_now (world), sim_world_get_server_name (world),
                        "registrar policy changed: %s", text);
      }
    }
  return TRUE;
}

/* With @world NULL, only checks the syntax.  The world's own errors say what is wrong. */
static gboolean
command_run (SimWorld    *world,
             const char  *command,
             GError     **error)
{
  g_auto(GStrv) w = tokenize (command);
  guint n = g_strv_length (w);
  const char *verb = n ? w[0] : "";
  guint64 num;

#define NEED(cond, usage) G_STMT_START { if (!(cond)) return bad (error, "usage: %s", usage); } G_STMT_END

  if (n == 0)
    return bad (error, "missing the command (like 'register bob-soft')");
  if (strcmp (verb, "register") == 0)
    {
      gint64 expires = -1;
      NEED (n == 2 || (n == 4 && strcmp (w[2], "expires") == 0 && parse_seconds (w[3], &num)),
            "register DEVICE [expires SECONDS]");
      if (n == 4)
        expires = (gint64) num;
      return world == NULL || sim_world_register (world, w[1], expires, error);
    }
  if (strcmp (verb, "unregister") == 0)
    {
      NEED (n == 2 || (n == 3 && strcmp (w[2], "all") == 0), "unregister DEVICE [all]");
      return world == NULL || sim_world_unregister (world, w[1], n == 3, error);
    }
  if (strcmp (verb, "call") == 0)
    {
      NEED (n == 3, "call DEVICE USER-OR-SIP-URI");
      return world == NULL || sim_world_call (world, w[1], w[2], error);
    }
  if (strcmp (verb, "hangup") == 0)
    {
      NEED (n == 2, "hangup DEVICE");
      return world == NULL || sim_world_hangup (world, w[1], error);
    }
  if (strcmp (verb, "move") == 0)
    {
      NEED (n == 3, "move DEVICE NEW-IP");
      return world == NULL || sim_world_move (world, w[1], w[2], error);
    }
  if (strcmp (verb, "power-off") == 0 || strcmp (verb, "power-on") == 0)
    {
      NEED (n == 2, "power-off DEVICE | power-on DEVICE");
      return world == NULL || sim_world_set_power (world, w[1], verb[7] == 'n', error);
    }
  if (strcmp (verb, "password") == 0)
    {
      NEED (n == 3 || (n == 4 && strcmp (w[1], "user") == 0), "password DEVICE NEW | password user USER NEW");
      if (n == 4)
        return world == NULL || sim_world_set_password (world, w[2], NULL, w[3], error);
      return world == NULL || sim_world_set_password (world, NULL, w[1], w[2], error);
    }
  if (strcmp (verb, "replay") == 0)
    {
      const char *from = NULL;
      gboolean new_call_id = FALSE, bump = FALSE;

      NEED (n >= 2, "replay DEVICE [from HOST] [new-call-id] [bump-cseq]");
      for (guint i = 2; i < n; i++)
        {
          if (strcmp (w[i], "from") == 0 && i + 1 < n)
            from = w[++i];
          else if (strcmp (w[i], "new-call-id") == 0)
            new_call_id = TRUE;
          else if (strcmp (w[i], "bump-cseq") == 0)
            bump = TRUE;
          else
            return bad (error, "usage: replay DEVICE [from HOST] [new-call-id] [bump-cseq]");
        }
      return world == NULL || sim_world_replay (world, w[1], from, new_call_id, bump, error);
    }
  if (strcmp (verb, "learn") == 0)
    {
      NEED (n == 4, "learn DEVICE USER IP");
      if (world != NULL)
        {
          if (sim_world_get_phone (world, w[1]) == NULL)
            {
              g_set_error (error, SIM_LESSON_ERROR, SIM_LESSON_ERROR_COMMAND, "no phone '%s'", w[1]);
              return FALSE;
            }
          sim_world_learn_address (world, w[1], w[2], w[3]);
        }
      return TRUE;
    }
  if (strcmp (verb, "fill-address-books") == 0)
    {
      NEED (n == 1, "fill-address-books");
      if (world != NULL)
        sim_world_fill_address_books (world);
      return TRUE;
    }
  if (strcmp (verb, "policy") == 0)
    return apply_policy (world, w, error);
  if (strcmp (verb, "link") == 0)
    {
      SimLinkParams params = { 0 };
      const char *usage = "link NODE NODE [latency DURATION] [jitter DURATION] [loss PERCENT%]";

      NEED (n >= 5 && (n - 3) % 2 == 0, usage);
      if (world != NULL)
        {
          SimNet *net = sim_world_get_net (world);
          for (guint i = 1; i <= 2; i++)
            if (sim_world_get_phone (world, w[i]) == NULL &&
                g_strcmp0 (sim_world_get_server_name (world), w[i]) != 0)
              {
                /* Hosts (an attacker) are fine too: the net knows every node by name. */
                gboolean known = FALSE;
                SimTrace *trace = sim_world_get_trace (world);
                for (guint k = 0; k < sim_trace_get_n_events (trace) && !known; k++)
                  {
                    SimEvent *e = sim_trace_get_event (trace, k);
                    known = e->type == SIM_EVENT_NODE && g_strcmp0 (e->node, w[i]) == 0;
                  }
                if (!known)
                  {
                    g_set_error (error, SIM_LESSON_ERROR, SIM_LESSON_ERROR_COMMAND, "no node '%s'", w[i]);
                    return FALSE;
                  }
              }
          sim_net_get_link (net, w[1], w[2], &params);
        }
      for (guint i = 3; i + 1 < n; i += 2)
        {
          if (strcmp (w[i], "latency") == 0 || strcmp (w[i], "jitter") == 0)
            {
              SimTime d;
              NEED (sim_scenario_parse_duration (w[i + 1], &d, NULL) && d >= 0, usage);
              if (w[i][0] == 'l')
                params.latency = d;
              else
                params.jitter = d;
            }
          else if (strcmp (w[i], "loss") == 0)
            {
              g_autofree char *v = g_strdup (w[i + 1]);
              guint64 pct;
              if (g_str_has_suffix (v, "%"))
                v[strlen (v) - 1] = '\0';
              NEED (g_ascii_string_to_unsigned (v, 10, 0, 100, &pct, NULL), usage);
              params.loss = pct / 100.0;
            }
          else
            return bad (error, "usage: %s", usage);
        }
      if (world != NULL)
        sim_world_set_link (world, w[1], w[2], &params);
      return TRUE;
    }
  if (strcmp (verb, "wait") == 0)
    {
      SimTime d;
      NEED (n == 2 && sim_scenario_parse_duration (w[1], &d, NULL) && d >= 0, "wait DURATION");
      if (world != NULL)
        sim_world_run_until (world, sim_world_now (world) + d);
      return TRUE;
    }
#undef NEED
  return bad (error, "unknown command '%s' (expected register, unregister, call, hangup, move, "
              "power-off, power-on, password, replay, learn, fill-address-books, policy, link or wait)", verb);
}

gboolean
_sim_lesson_command_run (SimWorld    *world,
                         const char  *command,
                         GError     **error)
{
  return command_run (world, command, error);
}
