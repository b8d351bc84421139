/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * bench-seek: seeking in a long session in the GUI (issue 17).  Opens a scene (by default the
 * "day of a registrar": 300 phones refreshing every minute over a 2% lossy link for 6 hours) in
 * the real AppWindow, runs it to its end as playing does (a minute of virtual time per frame,
 * the views following), then seeks to 20 points in a fixed pseudo-random order and prints the
 * wall time of each seek until the window is idle (median, max) and its CPU time (the wall
 * time is only as good as the machine's load, printed too), the history's size (in
 * memory and in its spill file), the process's max RSS and the events re-run (0 when every
 * seek was a replay world or the world that went furthest).  While it runs it prints the RSS
 * and malloc's heap every virtual half hour: what grows with the session shows as a slope.
 *
 *   xvfb-run -a -s "-screen 0 1280x800x24 -noreset" \
 *     env GSK_RENDERER=cairo GTK_A11Y=test bench-seek [--phones 300] [--hours 6] [--points 20]
 *                                                     [FILE.scn]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <malloc.h>
#include <sys/resource.h>

#include <gtk/gtk.h>

#include "app-window.h"

static char *
day_scene (guint phones,
           double hours)
{
  GString *s = g_string_new ("title \"Benchmark: a day of a registrar\"\nseed 17\n"
                             "server registrar 10.0.0.1 domain lab.example\n"
                             "policy min-expires 60 default-expires 60 max-expires 60\n"
                             "link default latency 20ms jitter 5ms loss 2%\n");

  for (guint i = 0; i < phones; i++)
    g_string_append_printf (s, "user u%u password pw%u\n", i, i);
  for (guint i = 0; i < phones; i++)
    g_string_append_printf (s, "phone p%u user u%u ip 10.0.%u.%u expires 60\n", i, i,
                            1 + i / 200, 10 + i % 200);
  for (guint i = 0; i < phones; i++)
    g_string_append_printf (s, "at %ums register p%u\n", i * 60000 / MAX (phones, 1), i);
  g_string_append_printf (s, "run %.0fs\n", hours * 3600);
  return g_string_free (s, FALSE);
}

static double
max_rss_mb (void)
{
  struct rusage usage;

  getrusage (RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024.0;
}

/* The current RSS (VmRSS), to tell what grows with the session from what was a peak. */
static double
rss_mb (void)
{
  g_autofree char *status = NULL;
  const char *line;

  if (!g_file_get_contents ("/proc/self/status", &status, NULL, NULL) ||
      (line = strstr (status, "VmRSS:")) == NULL)
    return 0;
  return g_ascii_strtod (line + 6, NULL) / 1024.0;
}

/*
 * Every virtual half hour of the run: RSS, the heap malloc has handed out, and the history's
 * bytes, so that what grows with the session shows as a slope (issue 17).
 */
static void
print_growth (SimDocument *document,
              SimTime      t)
{
  struct mallinfo2 info = mallinfo2 ();

  printf ("  at %6.0f virtual s: RSS %.0f MB, malloc in use %.0f MB, history in memory %.1f MB\n",
          SIM_TIME_TO_SECONDS (t), rss_mb (), (info.uordblks + info.hblkhd) / 1048576.0,
          sim_history_get_memory_size (sim_document_get_history (document)) / 1048576.0);
  fflush (stdout);
}

/* The process's CPU time: what a seek costs, whatever else the machine runs. */
static double
cpu_ms (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void
drain (void)
{
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

static guint n_painted;

static void
after_paint_cb (GdkFrameClock *clock,
                gpointer       user_data)
{
  n_painted++;
}

/* Runs the main loop until the window has painted a frame after now (at most 30 s). */
static void
wait_for_paint (void)
{
  guint before = n_painted;
  gint64 deadline = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;

  while (n_painted == before && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
}

/* The machine's load average over the last minute: the wall times are only as good as it. */
static double
load_1min (void)
{
  g_autofree char *text = NULL;

  if (!g_file_get_contents ("/proc/loadavg", &text, NULL, NULL))
    return -1;
  return g_ascii_strtod (text, NULL);
}

static int
compare_doubles (gconstpointer a,
                 gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return (x > y) - (x < y);
}

int
main (int   argc,
      char *argv[])
{
  int phones = 300, points = 20;
  double hours = 6;
  const GOptionEntry entries[] = {
    { "phones", 0, 0, G_OPTION_ARG_INT, &phones, "Phones in the built-in scene (300)", "N" },
    { "hours", 0, 0, G_OPTION_ARG_DOUBLE, &hours, "Virtual hours of the built-in scene (6)",
      "H" },
    { "points", 0, 0, G_OPTION_ARG_INT, &points, "Seeks to measure (20)", "N" },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("[FILE.scn]");
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) latencies = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) cpu_times = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GRand) rand = g_rand_new_with_seed (17);
  AppWindow *window;
  SimDocument *document;
  SimTime end;
  gint64 start;
  double run_s;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("%s\n", error->message);
      return 2;
    }
  gtk_init ();
  window = g_object_ref_sink (app_window_new (NULL));
  document = app_window_get_document (window);
  if (argc > 1)
    sim_document_open (document, argv[1], &error);
  else
    {
      g_autofree char *text = day_scene (phones, hours);

      sim_document_open_data (document, text, -1, "day.scn", &error);
    }
  if (error != NULL)
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }
  gtk_window_present (GTK_WINDOW (window));
  drain ();
  g_signal_connect (gtk_widget_get_frame_clock (GTK_WIDGET (window)), "after-paint",
                    G_CALLBACK (after_paint_cb), NULL);

  /* As playing at 3600x does: a minute of virtual time per frame, the views following. */
  end = sim_document_get_run_length (document);
  start = g_get_monotonic_time ();
  for (SimTime t = SIM_SEC (60); t < end + SIM_SEC (60); t += SIM_SEC (60))
    {
      sim_document_run_until (document, MIN (t, end));
      drain ();
      if (t % SIM_SEC (1800) == 0)
        print_growth (document, t);
    }
  run_s = (g_get_monotonic_time () - start) / 1e6;
  printf ("ran %.0f virtual s in %.1f s wall: %" G_GUINT64_FORMAT " events, history %.1f MB "
          "in memory and %.1f MB in its spill file, max RSS %.0f MB\n",
          SIM_TIME_TO_SECONDS (end), run_s,
          sim_history_get_n_events (sim_document_get_history (document)),
          sim_history_get_memory_size (sim_document_get_history (document)) / 1048576.0,
          sim_history_get_spilled_size (sim_document_get_history (document)) / 1048576.0,
          max_rss_mb ());
  fflush (stdout);

  for (int i = 0; i < points; i++)
    {
      SimTime t = (SimTime) (g_rand_double (rand) * end);
      gint64 t0 = g_get_monotonic_time ();
      double cpu0 = cpu_ms ();
      double ms, cpu, seek_ms, idle_ms;

      app_window_seek (window, t);
      seek_ms = (g_get_monotonic_time () - t0) / 1000.0;
      /* What the user waits for: the window showing the new time. */
      gtk_widget_queue_draw (GTK_WIDGET (window));
      wait_for_paint ();
      ms = (g_get_monotonic_time () - t0) / 1000.0;
      drain ();
      idle_ms = (g_get_monotonic_time () - t0) / 1000.0;
      g_array_append_val (latencies, ms);
      cpu = cpu_ms () - cpu0;
      g_array_append_val (cpu_times, cpu);
      printf ("seek to %8.1f s: %8.1f ms to the first frame (the seek itself %.1f ms, the "
              "main loop idle after %.1f ms, %.0f ms of CPU)%s\n", SIM_TIME_TO_SECONDS (t), ms,
              seek_ms, idle_ms, cpu,
              sim_document_get_replaying (document) ? " (replay)" : "");
      fflush (stdout);
    }
  g_array_sort (latencies, compare_doubles);
  g_array_sort (cpu_times, compare_doubles);
  if (latencies->len > 0)
    printf ("seek latency: median %.0f ms, max %.0f ms (CPU median %.0f ms, max %.0f ms); max "
            "RSS %.0f MB; events re-run %" G_GUINT64_FORMAT "; load %.2f\n",
            g_array_index (latencies, double, latencies->len / 2),
            g_array_index (latencies, double, latencies->len - 1),
            g_array_index (cpu_times, double, cpu_times->len / 2),
            g_array_index (cpu_times, double, cpu_times->len - 1), max_rss_mb (),
            sim_document_get_n_rerun_events (document), load_1min ());
  gtk_window_destroy (GTK_WINDOW (window));
  g_object_unref (window);
  return 0;
}
