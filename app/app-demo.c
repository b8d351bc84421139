/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "app-demo.h"

typedef enum {
  DEMO_REGISTER,
  DEMO_CALL,
  DEMO_HANGUP,
} DemoKind;

typedef struct {
  SimWorld *world;        /* unowned: the world's clock owns this closure */
  DemoKind kind;
  char *device;
  char *target;
} DemoAction;

static void
demo_action_free (gpointer data)
{
  DemoAction *action = data;

  g_free (action->device);
  g_free (action->target);
  g_free (action);
}

static void
demo_action_cb (gpointer data)
{
  DemoAction *action = data;
  g_autoptr(GError) error = NULL;
  gboolean ok = TRUE;

  switch (action->kind)
    {
    case DEMO_REGISTER:
      ok = sim_world_register (action->world, action->device, 120, &error);
      break;
    case DEMO_CALL:
      ok = sim_world_call (action->world, action->device, action->target, &error);
      break;
    case DEMO_HANGUP:
      ok = sim_world_hangup (action->world, action->device, &error);
      break;
    }
  if (!ok)
    g_warning ("Demo action on %s failed: %s", action->device, error->message);
}

static void
schedule (SimWorld   *world,
          double      at,
          DemoKind    kind,
          const char *device,
          const char *target)
{
  DemoAction *action = g_new0 (DemoAction, 1);

  action->world = world;
  action->kind = kind;
  action->device = g_strdup (device);
  action->target = g_strdup (target);
  sim_world_schedule (world, (SimTime) (at * 1e6), demo_action_cb, action, demo_action_free);
}

SimWorld *
app_demo_new_world (void)
{
  g_autoptr(SimWorld) world = sim_world_new (42);
  g_autoptr(GError) error = NULL;
  /* Slower than a LAN so a packet's flight is visible at 1x. */
  SimLinkParams link = { SIM_MSEC (150), 0, 0.0 };

  if (!sim_world_add_server (world, "registrar", "10.0.0.1", "lab.example", &error) ||
      !sim_world_add_user (world, "alice", "alice-pw", "Alice", &error) ||
      !sim_world_add_user (world, "bob", "bob-pw", "Bob", &error) ||
      !sim_world_add_phone (world, "alice", "alice-desk", "10.0.0.11", &error) ||
      !sim_world_add_phone (world, "alice", "alice-soft", "10.0.0.21", &error) ||
      !sim_world_add_phone (world, "bob", "bob-desk", "10.0.0.12", &error))
    g_error ("Cannot build the demo scene: %s", error->message);
  sim_world_set_link (world, NULL, NULL, &link);

  schedule (world, 0.0, DEMO_REGISTER, "alice-desk", NULL);
  schedule (world, 1.5, DEMO_REGISTER, "alice-soft", NULL);
  schedule (world, 3.0, DEMO_REGISTER, "bob-desk", NULL);
  schedule (world, 6.0, DEMO_CALL, "bob-desk", "alice");
  schedule (world, 14.0, DEMO_HANGUP, "bob-desk", NULL);

  return g_steal_pointer (&world);
}
