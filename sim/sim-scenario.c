/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "sim-scenario-private.h"

#include <gio/gio.h>
#include <string.h>

/*
 * SimScenario, the plain description a scenario file is parsed into: the object, its lookups,
 * durations as the files write them, and loading (parse and build in one step).  The family:
 * sim-scenario-parse.c reads the text, sim-scenario-write.c writes it back,
 * sim-scenario-build.c makes a SimWorld from it.
 */

G_DEFINE_QUARK (sim-scenario-error-quark, sim_scenario_error)
G_DEFINE_BOXED_TYPE (SimScenario, sim_scenario, sim_scenario_ref, sim_scenario_unref)

#define MAX_DURATION SIM_COMMAND_MAX_DURATION
#define DEFAULT_SEED 1
#define RUN_AFTER_LAST_ACTION SIM_SEC (60)

/* ------------------------------------------------------------------------------------------ */
/* The model                                                                                  */

static void
node_free (SimScenarioNode *node)
{
  g_free (node->name);
  g_free (node->ip);
  g_free (node->domain);
  g_free (node->user);
  g_free (node->password);
  g_free (node->behind);
  g_free (node);
}

static void
user_free (SimScenarioUser *user)
{
  g_free (user->name);
  g_free (user->password);
  g_free (user->display_name);
  g_free (user);
}

static void
sniffer_free (SimScenarioSniffer *sniffer)
{
  g_free (sniffer->name);
  g_free (sniffer->a);
  g_free (sniffer->b);
  g_free (sniffer);
}

static void
link_free (SimLinkChange *link)
{
  _sim_link_change_clear (link);
  g_free (link);
}

SimScenario *
sim_scenario_new (const char *file)
{
  SimScenario *self = g_new0 (SimScenario, 1);

  self->ref_count = 1;
  self->file = g_strdup (file ? file : "<scenario>");
  self->seed = DEFAULT_SEED;
  self->mode = SIM_MODE_P2P;
  self->users = g_ptr_array_new_with_free_func ((GDestroyNotify) user_free);
  self->nodes = g_ptr_array_new_with_free_func ((GDestroyNotify) node_free);
  self->links = g_ptr_array_new_with_free_func ((GDestroyNotify) link_free);
  self->sniffers = g_ptr_array_new_with_free_func ((GDestroyNotify) sniffer_free);
  self->actions = g_ptr_array_new_with_free_func ((GDestroyNotify) sim_command_free);
  return self;
}

SimScenario *
sim_scenario_ref (SimScenario *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_atomic_int_inc (&self->ref_count);
  return self;
}

void
sim_scenario_unref (SimScenario *self)
{
  g_return_if_fail (self != NULL);
  if (!g_atomic_int_dec_and_test (&self->ref_count))
    return;
  g_free (self->file);
  g_free (self->title);
  _sim_link_change_clear (&self->default_link);
  g_ptr_array_unref (self->users);
  g_ptr_array_unref (self->nodes);
  g_ptr_array_unref (self->links);
  g_ptr_array_unref (self->sniffers);
  g_ptr_array_unref (self->actions);
  g_free (self);
}

const SimScenarioSniffer *
sim_scenario_find_sniffer (SimScenario *self,
                           const char  *name)
{
  for (guint i = 0; name != NULL && i < self->sniffers->len; i++)
    {
      const SimScenarioSniffer *sniffer = self->sniffers->pdata[i];

      if (strcmp (sniffer->name, name) == 0)
        return sniffer;
    }
  return NULL;
}

const SimScenarioNode *
sim_scenario_find_node (SimScenario *self,
                        const char  *name)
{
  g_return_val_if_fail (self != NULL, NULL);
  for (guint i = 0; name != NULL && i < self->nodes->len; i++)
    {
      const SimScenarioNode *node = self->nodes->pdata[i];
      if (strcmp (node->name, name) == 0)
        return node;
    }
  return NULL;
}

const SimScenarioUser *
sim_scenario_find_user (SimScenario *self,
                        const char  *name)
{
  g_return_val_if_fail (self != NULL, NULL);
  for (guint i = 0; name != NULL && i < self->users->len; i++)
    {
      const SimScenarioUser *user = self->users->pdata[i];
      if (strcmp (user->name, name) == 0)
        return user;
    }
  return NULL;
}

const SimScenarioNode *
_sim_scenario_find_node_by_ip (SimScenario *self,
                               const char  *ip)
{
  for (guint i = 0; i < self->nodes->len; i++)
    {
      const SimScenarioNode *node = self->nodes->pdata[i];
      if (strcmp (node->ip, ip) == 0)
        return node;
    }
  return NULL;
}

const char *
sim_scenario_get_server (SimScenario *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  for (guint i = 0; i < self->nodes->len; i++)
    {
      const SimScenarioNode *node = self->nodes->pdata[i];
      if (node->kind == SIM_SCENARIO_NODE_SERVER)
        return node->name;
    }
  return NULL;
}

SimTime
sim_scenario_get_run_length (SimScenario *self)
{
  const SimCommand *last;

  g_return_val_if_fail (self != NULL, 0);
  if (self->has_run)
    return self->run;
  if (self->actions->len == 0)
    return RUN_AFTER_LAST_ACTION;
  last = self->actions->pdata[self->actions->len - 1];
  return last->at + RUN_AFTER_LAST_ACTION;
}

/* ------------------------------------------------------------------------------------------ */
/* Durations                                                                                  */

static const struct {
  const char *suffix;
  SimTime usec;
} units[] = {
  { "us", 1 },
  { "ms", 1000 },
  { "s", G_USEC_PER_SEC },
  { "min", SIM_SEC (60) },
  { "m", SIM_SEC (60) },
  { "h", SIM_SEC (3600) },
};

/* Decimal arithmetic on integers: "1.5s" is exactly 1500000 µs, on every machine. */
gboolean
sim_scenario_parse_duration (const char  *text,
                             SimTime     *out,
                             GError     **error)
{
  const char *p = text;
  guint64 whole = 0, frac = 0, scale = 1;
  gsize n_whole = 0, n_frac = 0;
  SimTime unit = 0;

  g_return_val_if_fail (text != NULL, FALSE);

  for (; g_ascii_isdigit (*p); p++, n_whole++)
    {
      if (whole > G_MAXUINT64 / 100)
        goto too_long;
      whole = whole * 10 + (*p - '0');
    }
  if (*p == '.')
    for (p++; g_ascii_isdigit (*p); p++, n_frac++)
      {
        if (n_frac >= 9)
          {
            g_set_error (error, SIM_SCENARIO_ERROR, SIM_SCENARIO_ERROR_SYNTAX,
                         "'%s' has too many decimals", text);
            return FALSE;
          }
        frac = frac * 10 + (*p - '0');
        scale *= 10;
      }
  if (n_whole + n_frac == 0)
    {
      g_set_error (error, SIM_SCENARIO_ERROR, SIM_SCENARIO_ERROR_SYNTAX,
                   "'%s' is not a duration (write it like 1.5s, 500ms, 2m or 1h)", text);
      return FALSE;
    }
  if (*p == '\0')
    {
      if (whole == 0 && frac == 0)
        {
          *out = 0;
          return TRUE;
        }
      g_set_error (error, SIM_SCENARIO_ERROR, SIM_SCENARIO_ERROR_SYNTAX,
                   "'%s' needs a unit: %ss, %sms, %sm or %sh", text, text, text, text, text);
      return FALSE;
    }
  for (guint i = 0; i < G_N_ELEMENTS (units); i++)
    if (strcmp (p, units[i].suffix) == 0)
      unit = units[i].usec;
  if (unit == 0)
    {
      g_set_error (error, SIM_SCENARIO_ERROR, SIM_SCENARIO_ERROR_SYNTAX,
                   "unknown unit '%s' in '%s' (use us, ms, s, m or h)", p, text);
      return FALSE;
    }
  if ((frac * unit) % scale != 0)
    {
      g_set_error (error, SIM_SCENARIO_ERROR, SIM_SCENARIO_ERROR_SYNTAX,
                   "'%s' is finer than a microsecond", text);
      return FALSE;
    }
  if (whole > (guint64) MAX_DURATION / unit)
    goto too_long;
  *out = (SimTime) (whole * unit + frac * unit / scale);
  if (*out > MAX_DURATION)
    goto too_long;
  return TRUE;

too_long:
  g_set_error (error, SIM_SCENARIO_ERROR, SIM_SCENARIO_ERROR_SYNTAX,
               "'%s' is too long (at most 100 days)", text);
  return FALSE;
}

char *
sim_scenario_format_duration (SimTime t)
{
  if (t < 0)
    return g_strdup_printf ("-%" G_GINT64_FORMAT "us", -t);
  if (t == 0)
    return g_strdup ("0s");
  if (t % SIM_SEC (3600) == 0)
    return g_strdup_printf ("%" G_GINT64_FORMAT "h", t / SIM_SEC (3600));
  if (t % SIM_SEC (60) == 0 && t < SIM_SEC (3600))
    return g_strdup_printf ("%" G_GINT64_FORMAT "m", t / SIM_SEC (60));
  if (t % SIM_SEC (1) == 0)
    return g_strdup_printf ("%" G_GINT64_FORMAT "s", t / SIM_SEC (1));
  if (t < SIM_SEC (1) && t % SIM_MSEC (1) == 0)
    return g_strdup_printf ("%" G_GINT64_FORMAT "ms", t / SIM_MSEC (1));
  if (t % SIM_MSEC (1) == 0)
    {
      char frac[4];
      int n;

      g_snprintf (frac, sizeof frac, "%03d", (int) (t % SIM_SEC (1) / 1000));
      for (n = 3; n > 1 && frac[n - 1] == '0'; n--)
        ;
      frac[n] = '\0';
      return g_strdup_printf ("%" G_GINT64_FORMAT ".%ss", t / SIM_SEC (1), frac);
    }
  return g_strdup_printf ("%" G_GINT64_FORMAT "us", t);
}

/* ------------------------------------------------------------------------------------------ */
/* Loading                                                                                    */

void
sim_scenario_info_clear (SimScenarioInfo *info)
{
  g_clear_pointer (&info->title, g_free);
  g_clear_pointer (&info->actions, g_ptr_array_unref);
  g_clear_pointer (&info->scenario, sim_scenario_unref);
  info->run = 0;
  info->seed = 0;
}

static SimWorld *
load (SimScenario      *sc,
      guint32           seed_override,
      SimScenarioInfo  *info_out,
      GError          **error)
{
  g_autoptr(SimWorld) world = NULL;

  if (sc == NULL)
    return NULL;
  world = sim_scenario_build (sc, seed_override, error);
  if (world == NULL)
    return NULL;
  if (info_out != NULL)
    {
      info_out->title = g_strdup (sc->title);
      info_out->run = sim_scenario_get_run_length (sc);
      info_out->seed = sc->seed;
      info_out->actions = g_ptr_array_ref (sc->actions);
      info_out->scenario = sim_scenario_ref (sc);
    }
  return g_steal_pointer (&world);
}

SimWorld *
sim_scenario_load_file (const char       *path,
                        guint32           seed_override,
                        SimScenarioInfo  *info_out,
                        GError          **error)
{
  g_autoptr(SimScenario) sc = sim_scenario_parse_file (path, error);

  return load (sc, seed_override, info_out, error);
}

SimWorld *
sim_scenario_load_data (const char       *text,
                        gssize            length,
                        const char       *name,
                        guint32           seed_override,
                        SimScenarioInfo  *info_out,
                        GError          **error)
{
  g_autoptr(SimScenario) sc = sim_scenario_parse_data (text, length, name, error);

  return load (sc, seed_override, info_out, error);
}
