/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "sim-capture-world.h"

#include "sim-capture.h"

/* Problems listed one by one; the rest are counted in a last line. */
#define PROBLEM_LINES_MAX 20

typedef struct {
  SimObserver *observer;
  const char *path;
  GString *problems;
  guint64 n_problems;
  gboolean learning;         /* the first pass: names only, problems not repeated */
} Reading;

static void
message_cb (const SimCapturedMessage *message,
            gpointer                  user_data)
{
  Reading *reading = user_data;

  if (reading->learning)
    {
      sim_observer_learn (reading->observer, &message->src, &message->dst, message->data,
                          message->len);
      return;
    }
  /* A payload the observer cannot take as SIP is a problem of its packet, like a bad frame. */
  {
    g_autoptr(GError) error = NULL;

    if (!sim_observer_feed (reading->observer, message->time_us, &message->src, &message->dst,
                            message->data, message->len, &error) && reading->problems != NULL)
      {
        if (reading->n_problems++ < PROBLEM_LINES_MAX)
          g_string_append_printf (reading->problems, "%s: packet %" G_GUINT64_FORMAT ": %s\n",
                                  reading->path, message->packet, error->message);
      }
  }
}

static void
problem_cb (guint64     packet,
            const char *what,
            gpointer    user_data)
{
  Reading *reading = user_data;

  if (reading->learning || reading->problems == NULL)
    return;
  if (reading->n_problems++ < PROBLEM_LINES_MAX)
    g_string_append_printf (reading->problems, "%s: packet %" G_GUINT64_FORMAT ": %s\n",
                            reading->path, packet, what);
}

SimWorld *
sim_capture_world_new (const char   *path,
                       const char   *users_path,
                       GString      *problems_out,
                       SimObserver **observer_out,
                       GError      **error)
{
  g_autoptr(SimWorld) world = sim_world_new (0);
  g_autoptr(SimObserver) observer = NULL;
  SimTrace *trace = sim_world_get_trace (world);
  Reading reading = { NULL, path, problems_out, 0, TRUE };

  g_return_val_if_fail (path != NULL, NULL);

  sim_trace_set_max_kept (trace, SIM_CAPTURE_WORLD_MAX_EVENTS);
  observer = sim_observer_new (trace);
  if (users_path != NULL && !sim_observer_load_users (observer, users_path, error))
    return NULL;
  reading.observer = observer;
  if (!sim_capture_read_file (path, message_cb, problem_cb, &reading, error))
    return NULL;
  reading.learning = FALSE;
  if (!sim_capture_read_file (path, message_cb, problem_cb, &reading, error))
    return NULL;
  if (problems_out != NULL && reading.n_problems > PROBLEM_LINES_MAX)
    g_string_append_printf (problems_out, "%s: %" G_GUINT64_FORMAT " more problems\n", path,
                            reading.n_problems - PROBLEM_LINES_MAX);
  if (problems_out != NULL && sim_trace_get_n_emitted (trace) > SIM_CAPTURE_WORLD_MAX_EVENTS)
    g_string_append_printf (problems_out, "%s: only the last %u events are shown\n", path,
                            SIM_CAPTURE_WORLD_MAX_EVENTS);
  /* The views show the world at its clock's time: the end of the capture. */
  sim_world_run_until (world, sim_clock_now (sim_observer_get_clock (observer)));
  if (observer_out != NULL)
    *observer_out = g_steal_pointer (&observer);
  return g_steal_pointer (&world);
}

gboolean
sim_capture_world_is_capture_path (const char *path)
{
  g_autofree char *lower = NULL;

  if (path == NULL)
    return FALSE;
  lower = g_ascii_strdown (path, -1);
  return g_str_has_suffix (lower, ".pcap") || g_str_has_suffix (lower, ".pcapng") ||
         g_str_has_suffix (lower, ".cap");
}
