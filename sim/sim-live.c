/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "sim-live.h"

#include "sim-server.h"

G_DEFINE_QUARK (sim-live-error-quark, sim_live_error)

/* Any address the lab does not use: sim_world_listen() moves the registrar to the real one. */
#define ALONE_PLACEHOLDER_IP "10.0.0.1"

/* Adds the users of @path to the registrar; @n_new: those the scene did not have. */
static gboolean
add_users_file (SimWorld    *world,
                const char  *path,
                guint       *n_new,
                GError     **error)
{
  g_autoptr(GPtrArray) scene_users = sim_world_list_users (world);
  g_autofree char *contents = NULL;
  g_autoptr(GHashTable) users = NULL;
  g_autoptr(GError) local_error = NULL;
  GHashTableIter iter;
  gpointer name, password;

  if (!g_file_get_contents (path, &contents, NULL, &local_error))
    {
      g_set_error (error, SIM_SERVER_ERROR, SIM_SERVER_ERROR_USERS, "%s", local_error->message);
      return FALSE;
    }
  if (!sim_users_parse (path, contents, &users, error))
    return FALSE;
  g_hash_table_iter_init (&iter, users);
  while (g_hash_table_iter_next (&iter, &name, &password))
    {
      /* A file user of a scene user's name gives that user the file's password. */
      if (!g_ptr_array_find_with_equal_func (scene_users, name, g_str_equal, NULL))
        (*n_new)++;
      sim_registrar_set_user (sim_world_get_registrar (world), name, password);
    }
  return TRUE;
}

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

  if (scene != NULL)
    {
      if (sim_scenario_get_server (scene) == NULL)
        {
          g_set_error_literal (error, SIM_LIVE_ERROR, SIM_LIVE_ERROR_NO_REGISTRAR,
                               "This scene has no registrar to put on real sockets; listen "
                               "without the scene's phones instead");
          return NULL;
        }
      world = sim_scenario_build_on_clock (scene, 0, clock, error);
      if (world == NULL)
        return NULL;
      if (have_domain && g_strcmp0 (domain, sim_world_get_domain (world)) != 0)
        {
          g_set_error (error, SIM_LIVE_ERROR, SIM_LIVE_ERROR_DOMAIN,
                       "The domain %s differs from the scene's domain %s", domain,
                       sim_world_get_domain (world));
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
  if (have_users && !add_users_file (world, users_path, &n_file_users, error))
    return NULL;
  /* The Date header of a 200 OK is real time, as the phone's own clock reads it. */
  sim_registrar_set_date_epoch (sim_world_get_registrar (world),
                                (g_get_real_time () - sim_clock_now (clock)) / G_USEC_PER_SEC);
  if (n_users_out != NULL)
    {
      g_autoptr(GPtrArray) scene_users = sim_world_list_users (world);

      *n_users_out = scene_users->len + n_file_users;
    }
  return g_steal_pointer (&world);
}
