/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "sim-demo.h"

/*
 * The scene the GUI opens with when no file is given (sim_document_open_demo()).  It is written in the scenario format
 * (docs/scenario-format.md) so it is edited, replayed, stepped back and saved exactly like a
 * file a teacher opens.  The links are slower than a LAN so a packet's flight is visible at 1x.
 */
static const char demo_text[] =
  "title \"Demo: Alice (two devices) and Bob register, Bob calls Alice\"\n"
  "seed 42\n"
  "server registrar 10.0.0.1 domain lab.example\n"
  "link default latency 150ms jitter 0ms loss 0%\n"
  "user alice password alice-pw name \"Alice\"\n"
  "user bob password bob-pw name \"Bob\"\n"
  "phone alice-desk user alice ip 10.0.0.11\n"
  "phone alice-soft user alice ip 10.0.0.21\n"
  "phone bob-desk user bob ip 10.0.0.12\n"
  "at 0s register alice-desk expires 120\n"
  "at 1.5s register alice-soft expires 120\n"
  "at 3s register bob-desk expires 120\n"
  "at 6s call bob-desk alice\n"
  "at 14s hangup bob-desk\n"
  "run 30s\n";

SimScenario *
sim_demo_new_scenario (void)
{
  g_autoptr(GError) error = NULL;
  SimScenario *scenario = sim_scenario_parse_data (demo_text, -1, "demo", &error);

  if (scenario == NULL)
    g_error ("The demo scene does not parse: %s", error->message);
  return scenario;
}
