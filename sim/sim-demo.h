/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "sim-scenario.h"

G_BEGIN_DECLS

/*
 * The scene the GUI shows when no scenario file is given: a registrar, Alice with a desk phone
 * and a softphone, Bob with a desk phone.  Everyone registers (and is challenged), Bob calls
 * Alice (the proxy forks to both of her devices) and hangs up; short expiries make refreshes
 * visible within a minute.
 */
SimScenario *sim_demo_new_scenario (void) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
