/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/*
 * What the pieces of SimScenario share, in-tree only.  sim-scenario.c is the object, its
 * lookups, durations and loading; sim-scenario-parse.c reads the text (its "at" lines, "link"
 * and "policy" statements through the command language, sim-command-private.h);
 * sim-scenario-write.c writes it back; sim-scenario-build.c makes a world from it.
 */

#include "sim-scenario.h"
#include "sim-command-private.h"

G_BEGIN_DECLS

/* sim-scenario.c: the node at @ip, or NULL (an address is declared once). */
const SimScenarioNode *_sim_scenario_find_node_by_ip (SimScenario *self,
                                                      const char  *ip);

G_END_DECLS
