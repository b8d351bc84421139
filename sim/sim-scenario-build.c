/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "sim-scenario-private.h"

/*
 * Building a SimWorld from a SimScenario: nodes, users, policy and links as declared, and every
 * "at" line scheduled on the world's clock to run as a command (sim-command.c).  An action the
 * world refuses when its time comes leaves a note with action "error" in the trace.
 */

/* ------------------------------------------------------------------------------------------ */
/* Building a world                                                                           */

typedef struct {
  SimWorld *world;           /* borrowed: the world owns the clock that owns this closure */
  SimScenario *scenario;
  SimCommand *action;
} Scheduled;

static void
scheduled_free (Scheduled *s)
{
  sim_scenario_unref (s->scenario);
  g_free (s);
}

static void
scheduled_cb (gpointer data)
{
  Scheduled *s = data;
  g_autoptr(GError) error = NULL;

  if (!sim_command_run (s->action, s->world, &error))
    {
      SimTrace *trace = sim_world_get_trace (s->world);
      g_autofree char *text = sim_command_to_string (s->action);

      /* The run goes on: a lesson may well show what happens after a failed command. */
      if (sim_trace_is_enabled (trace))
        {
          SimEvent *event = sim_event_new (SIM_EVENT_NOTE, "error");
          event->t = sim_world_now (s->world);
          event->node = g_strdup (s->action->device);
          event->text = g_strdup_printf ("%s:%u: '%s' failed: %s", s->scenario->file,
                                         s->action->line, text, error->message);
          sim_trace_emit (trace, event);
        }
    }
}

static gboolean
fail_build (SimScenario  *self,
            guint         line,
            GError      **error,
            GError       *local)
{
  g_set_error (error, SIM_SCENARIO_ERROR, SIM_SCENARIO_ERROR_BUILD, "%s:%u: %s", self->file, line,
               local->message);
  g_error_free (local);
  return FALSE;
}

static gboolean
build (SimScenario  *self,
       SimWorld     *world,
       GError      **error)
{
  GError *local = NULL;

  /* The server first: phones added later get it as their outbound proxy. */
  for (guint i = 0; i < self->nodes->len; i++)
    {
      SimScenarioNode *node = self->nodes->pdata[i];
      if (node->kind == SIM_SCENARIO_NODE_SERVER &&
          !sim_world_add_server (world, node->name, node->ip, node->domain, &local))
        return fail_build (self, node->line, error, local);
    }
  if (sim_world_get_mode (world) != self->mode)
    sim_world_set_mode (world, self->mode);

  if (sim_world_get_registrar (world) != NULL &&
      !sim_policy_change_apply (&self->policy, world, &local))
    {
      /* Given keys were checked against each other while parsing; here against the defaults. */
      g_set_error (error, SIM_SCENARIO_ERROR, SIM_SCENARIO_ERROR_INVALID, "%s:%u: %s", self->file,
                   self->policy_line, local->message);
      g_error_free (local);
      return FALSE;
    }

  for (guint i = 0; i < self->users->len; i++)
    {
      SimScenarioUser *user = self->users->pdata[i];
      if (!sim_world_add_user (world, user->name, user->password, user->display_name, &local))
        return fail_build (self, user->line, error, local);
    }

  for (guint i = 0; i < self->nodes->len; i++)
    {
      SimScenarioNode *node = self->nodes->pdata[i];

      if (node->kind == SIM_SCENARIO_NODE_NAT)
        {
          if (!sim_world_add_nat (world, node->name, node->ip, node->nat_timeout, &local))
            return fail_build (self, node->line, error, local);
        }
      else if (node->kind == SIM_SCENARIO_NODE_HOST)
        {
          if (!sim_world_add_host (world, node->name, node->ip, &local))
            return fail_build (self, node->line, error, local);
        }
      else if (node->kind == SIM_SCENARIO_NODE_PHONE)
        {
          SimPhone *phone = sim_world_add_phone (world, node->user, node->name, node->ip, &local);

          if (phone == NULL)
            return fail_build (self, node->line, error, local);
          if (node->expires >= 0)
            sim_phone_set_default_expires (phone, (guint) node->expires);
          if (node->password != NULL)
            sim_phone_set_password (phone, node->password);
          /* The phone's own API counts "never" as a delay of -1. */
          if (node->answer_mode == SIM_ANSWER_AFTER)
            sim_phone_set_answer_delay (phone, node->answer_delay);
          else if (node->answer_mode == SIM_ANSWER_NEVER)
            sim_phone_set_answer_delay (phone, -1);
          if (node->quirks != SIM_PHONE_QUIRK_NONE)
            sim_phone_set_quirks (phone, node->quirks);
        }
      if (node->behind != NULL && !sim_world_set_behind (world, node->name, node->behind, &local))
        return fail_build (self, node->line, error, local);
    }

  {
    SimNet *net = sim_world_get_net (world);
    SimLinkParams params;

    sim_net_get_default_link (net, &params);
    _sim_link_change_apply (&self->default_link, &params);
    sim_net_set_default_link (net, &params);
    for (guint i = 0; i < self->links->len; i++)
      {
        SimLinkChange *link = self->links->pdata[i];

        sim_net_get_link (net, link->a, link->b, &params);
        _sim_link_change_apply (link, &params);
        sim_net_set_link (net, link->a, link->b, &params);
      }
    for (guint i = 0; i < self->sniffers->len; i++)
      {
        SimScenarioSniffer *sniffer = self->sniffers->pdata[i];

        if (!sim_net_add_sniffer (net, sniffer->name, sniffer->a, sniffer->b, &local))
          return fail_build (self, sniffer->line, error, local);
      }
  }

  for (guint i = 0; i < self->actions->len; i++)
    {
      Scheduled *s = g_new0 (Scheduled, 1);

      s->world = world;
      s->scenario = sim_scenario_ref (self);
      s->action = self->actions->pdata[i];
      sim_world_schedule (world, s->action->at, scheduled_cb, s, (GDestroyNotify) scheduled_free);
    }
  return TRUE;
}

SimWorld *
sim_scenario_build (SimScenario  *self,
                    guint32       seed_override,
                    GError      **error)
{
  g_autoptr(SimWorld) world = NULL;

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  world = sim_world_new (seed_override != 0 ? seed_override : self->seed);
  if (!build (self, world, error))
    return NULL;
  return g_steal_pointer (&world);
}

SimWorld *
sim_scenario_build_on_clock (SimScenario  *self,
                             guint32       seed_override,
                             SimClock     *clock,
                             GError      **error)
{
  g_autoptr(SimWorld) world = NULL;

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (SIM_IS_CLOCK (clock), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  world = sim_world_new_with_clock (seed_override != 0 ? seed_override : self->seed, clock);
  if (!build (self, world, error))
    return NULL;
  return g_steal_pointer (&world);
}
