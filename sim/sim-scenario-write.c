/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "sim-scenario-private.h"

/*
 * Writing a SimScenario back as text, in canonical form: statements in a fixed order, actions
 * by time, values as the parser reads them back (sim-scenario-parse.c), so parsing the text
 * again gives the same scenario.
 */

/* ------------------------------------------------------------------------------------------ */
/* Writing it back                                                                            */

char *
sim_scenario_to_text (SimScenario *self)
{
  GString *s = g_string_new (NULL);

  g_return_val_if_fail (self != NULL, NULL);

  if (self->title != NULL)
    {
      g_string_append (s, "title");
      _sim_words_append (s, self->title);
      g_string_append_c (s, '\n');
    }
  if (self->has_seed)
    g_string_append_printf (s, "seed %u\n", self->seed);
  if (self->has_mode)
    g_string_append_printf (s, "mode %s\n", self->mode == SIM_MODE_P2P ? "p2p" : "registrar");

  for (guint i = 0; i < self->nodes->len; i++)
    {
      SimScenarioNode *node = self->nodes->pdata[i];
      if (node->kind != SIM_SCENARIO_NODE_SERVER)
        continue;
      g_string_append_printf (s, "server %s %s", node->name, node->ip);
      if (node->domain != NULL)
        g_string_append_printf (s, " domain %s", node->domain);
      g_string_append_c (s, '\n');
    }
  if (self->policy.keys != 0)
    {
      g_string_append (s, "policy");
      _sim_policy_change_write (&self->policy, s);
      g_string_append_c (s, '\n');
    }
  if (self->default_link.fields != 0)
    {
      g_string_append (s, "link");
      _sim_link_change_write (&self->default_link, s);
      g_string_append_c (s, '\n');
    }

  for (guint i = 0; i < self->users->len; i++)
    {
      SimScenarioUser *user = self->users->pdata[i];
      g_string_append (s, "user");
      _sim_words_append (s, user->name);
      g_string_append (s, " password");
      _sim_words_append (s, user->password);
      if (user->display_name != NULL)
        {
          g_string_append (s, " name");
          _sim_words_append (s, user->display_name);
        }
      g_string_append_c (s, '\n');
    }
  for (guint i = 0; i < self->nodes->len; i++)
    {
      SimScenarioNode *node = self->nodes->pdata[i];
      if (node->kind == SIM_SCENARIO_NODE_NAT)
        {
          /* File order keeps every NAT before the phones and hosts behind it. */
          g_string_append_printf (s, "nat %s %s", node->name, node->ip);
          if (node->nat_timeout > 0)
            {
              g_string_append (s, " timeout");
              _sim_words_append_duration (s, node->nat_timeout);
            }
          g_string_append_c (s, '\n');
        }
      if (node->kind == SIM_SCENARIO_NODE_HOST)
        {
          g_string_append_printf (s, "host %s %s", node->name, node->ip);
          if (node->behind != NULL)
            g_string_append_printf (s, " behind %s", node->behind);
          g_string_append_c (s, '\n');
        }
      if (node->kind != SIM_SCENARIO_NODE_PHONE)
        continue;
      g_string_append_printf (s, "phone %s user %s ip %s", node->name, node->user, node->ip);
      if (node->expires >= 0)
        g_string_append_printf (s, " expires %" G_GINT64_FORMAT, node->expires);
      if (node->password != NULL)
        {
          g_string_append (s, " password");
          _sim_words_append (s, node->password);
        }
      if (node->answer_mode == SIM_ANSWER_NEVER)
        g_string_append (s, " answer-after never");
      else if (node->answer_mode == SIM_ANSWER_AFTER)
        {
          g_string_append (s, " answer-after");
          _sim_words_append_duration (s, node->answer_delay);
        }
      if (node->behind != NULL)
        g_string_append_printf (s, " behind %s", node->behind);
      for (guint q = 0; q < SIM_PHONE_N_QUIRKS; q++)
        if (node->quirks & (1u << q))
          g_string_append_printf (s, " quirk %s", sim_phone_quirk_name (1u << q));
      g_string_append_c (s, '\n');
    }
  for (guint i = 0; i < self->links->len; i++)
    {
      g_string_append (s, "link");
      _sim_link_change_write (self->links->pdata[i], s);
      g_string_append_c (s, '\n');
    }
  for (guint i = 0; i < self->sniffers->len; i++)
    {
      const SimScenarioSniffer *sniffer = self->sniffers->pdata[i];

      g_string_append (s, "sniffer");
      _sim_words_append (s, sniffer->name);
      g_string_append (s, " on");
      if (sniffer->a == NULL)
        g_string_append (s, " lan");
      else
        {
          _sim_words_append (s, sniffer->a);
          _sim_words_append (s, sniffer->b);
        }
      g_string_append_c (s, '\n');
    }
  for (guint i = 0; i < self->actions->len; i++)
    {
      SimCommand *a = self->actions->pdata[i];
      g_autofree char *time = sim_scenario_format_duration (a->at);
      g_autofree char *text = sim_command_to_string (a);
      g_string_append_printf (s, "at %s %s\n", time, text);
    }
  if (self->has_run)
    {
      g_string_append (s, "run");
      _sim_words_append_duration (s, self->run);
      g_string_append_c (s, '\n');
    }
  return g_string_free (s, FALSE);
}
