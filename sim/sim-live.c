/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "sim-live.h"

#include "sim-server.h"

G_DEFINE_QUARK (sim-live-error-quark, sim_live_error)

/* Any address the lab does not use: sim_world_listen() moves the registrar to the real one. */
#define ALONE_PLACEHOLDER_IP "10.0.0.1"

SimWorld *
sim_live_world_new (SimScenario  *scene,
                    const char   *domain,
                    const char   *users_path,
                    guint        *n_users_out,
                    GError      **error)
{
  g_autoptr(SimClock) clock = sim_clock_new_wall ();
  g_autoptr(SimWorld) world = NULL;
  gboolean have_users = users_path != NULL && *users_path != '\0';
  gboolean have_domain = domain != NULL && *domain != '\0';
  guint n_file_users = 0;
  g_autoptr(GError) local_error = NULL;

  if (scene != NULL)
    {
      if (sim_scenario_get_server (scene) == NULL)
        {
          g_set_error (error, SIM_LIVE_ERROR, SIM_LIVE_ERROR_NO_REGISTRAR,
                       "%s has no server line: there is no registrar to put on real sockets",
                       scene->file);
          return NULL;
        }
      world = sim_scenario_build_on_clock (scene, 0, clock, error);
      if (world == NULL)
        return NULL;
      if (have_domain && !sim_world_check_domain (world, domain, &local_error))
        {
          g_set_error_literal (error, SIM_LIVE_ERROR, SIM_LIVE_ERROR_DOMAIN, local_error->message);
          return NULL;
        }
    }
  else
    {
      if (!have_domain)
        {
          g_set_error_literal (error, SIM_LIVE_ERROR, SIM_LIVE_ERROR_DOMAIN,
                               "A registrar without the scene needs a domain and a users file");
          return NULL;
        }
      if (!have_users)
        {
          g_set_error_literal (error, SIM_LIVE_ERROR, SIM_LIVE_ERROR_USERS,
                               "A registrar without the scene needs a domain and a users file");
          return NULL;
        }
      world = sim_world_new_with_clock (g_random_int (), clock);
      if (!sim_world_add_server (world, SIM_LIVE_REGISTRAR_NAME, ALONE_PLACEHOLDER_IP, domain,
                                 error))
        return NULL;
    }
  if (have_users && !sim_world_load_users (world, users_path, &n_file_users, error))
    return NULL;
  if (n_users_out != NULL)
    {
      g_autoptr(GPtrArray) scene_users = sim_world_list_users (world);

      *n_users_out = scene_users->len + n_file_users;
    }
  return g_steal_pointer (&world);
}
