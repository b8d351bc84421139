/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "sim-lesson-private.h"

#include "sim-command.h"

/*
 * Commands: what a lesson's "do:" and "solution:" lines and a student's typed commands say
 * ("register bob-soft", "policy min-expires 600") are the command language of sim-command.c,
 * the scenario's at-lines' own (place SIM_COMMAND_IN_LESSON).  With @world NULL the command is
 * only parsed, its names checked against @scene (a do: or solution: line when the lesson is
 * loaded); otherwise it is checked against the world and run (what a student types, and do:
 * and solution: lines when they play).
 */
gboolean
_sim_lesson_command_run (SimWorld     *world,
                         SimScenario  *scene,
                         const char   *command,
                         GError      **error)
{
  SimCommandScope scope = { world != NULL ? NULL : scene, world };
  g_autoptr(SimCommand) c = sim_command_parse (command, SIM_COMMAND_IN_LESSON, &scope, error);

  if (c == NULL)
    return FALSE;
  return world == NULL || sim_command_run (c, world, error);
}
