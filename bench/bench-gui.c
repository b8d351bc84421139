/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * bench-gui: how smoothly the GUI animates a busy scene.  Fifty phones register with short
 * expiries (so refreshes and their challenges keep coming) and call each other in pairs; the
 * real AppWindow plays it at 10x while the frame clock's frame times are recorded.  Prints the
 * median and 95th percentile of the time between frames and of the work done per frame.
 *
 *   xvfb-run -a -s "-screen 0 1280x800x24 -noreset" \
 *     env GSK_RENDERER=cairo GTK_A11Y=test bench-gui [--phones 50] [--seconds 20] [--speed 10]
 *                                                    [--pane location|digest|timers]
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <sys/resource.h>

#include <glib/gstdio.h>
#include <gtk/gtk.h>

#include "app-window.h"

typedef struct {
  AppWindow *window;
  GArray *deltas;         /* double, ms between consecutive frames */
  GArray *work;           /* double, ms from the frame's start to the end of its paint */
  GArray *update;         /* double, ms in the update phase (the session runs, views follow) */
  GArray *layout;         /* double, ms in the layout phase (measure and allocate) */
  GArray *paint;          /* double, ms in the paint phase (snapshot and render) */
  gint64 mark;
  GArray *frame_cpu;      /* double, ms of this thread's CPU time from before-paint to after */
  double cpu_start;
  gint64 last_frame_time;
  gint64 frame_start;
  gint64 deadline;
  gboolean done;
} Bench;

static char *
busy_scene (guint phones)
{
  GString *s = g_string_new (NULL);

  g_string_append (s, "title \"Benchmark: a busy registrar\"\n"
                      "seed 11\n"
                      "server registrar 10.0.0.1 domain lab.example\n"
                      "policy min-expires 30 default-expires 60 max-expires 60 auth on\n"
                      "link default latency 30ms jitter 10ms loss 0%\n");
  for (guint i = 0; i < phones; i++)
    g_string_append_printf (s, "user u%02u password pw%02u\n"
                               "phone phone%02u user u%02u ip 10.0.%u.%u expires 60\n",
                            i, i, i, i, 1 + i / 200, 10 + i % 200);
  /* Registrations spread over the first 10 s; then a call every 3 s between two phones. */
  for (guint i = 0; i < phones; i++)
    g_string_append_printf (s, "at %ums register phone%02u\n", i * 10000 / phones, i);
  for (guint k = 0; k < 60; k++)
    {
      guint a = (k * 7) % phones, b = (k * 7 + phones / 2) % phones;

      g_string_append_printf (s, "at %us call phone%02u u%02u\n", 12 + 3 * k, a, b);
      g_string_append_printf (s, "at %us hangup phone%02u\n", 12 + 3 * k + 8, a);
    }
  g_string_append (s, "run 3600s\n");
  return g_string_free (s, FALSE);
}

/* The main thread's CPU time in ms: what a frame cost, whatever else the machine runs. */
static double
thread_cpu_ms (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void
before_paint_cb (GdkFrameClock *clock,
                 Bench         *bench)
{
  bench->cpu_start = thread_cpu_ms ();
  bench->frame_start = gdk_frame_clock_get_frame_time (clock);
  bench->mark = g_get_monotonic_time ();
}

/* Connected after GTK's own handlers: each runs at the end of its phase. */
static void
phase_end (Bench  *bench,
           GArray *phase)
{
  gint64 now = g_get_monotonic_time ();
  double ms = (now - bench->mark) / 1000.0;

  g_array_append_val (phase, ms);
  bench->mark = now;
}

static void
update_cb (GdkFrameClock *clock,
           Bench         *bench)
{
  phase_end (bench, bench->update);
}

static void
layout_cb (GdkFrameClock *clock,
           Bench         *bench)
{
  phase_end (bench, bench->layout);
}

static void
paint_cb (GdkFrameClock *clock,
          Bench         *bench)
{
  phase_end (bench, bench->paint);
}

static void
after_paint_cb (GdkFrameClock *clock,
                Bench         *bench)
{
  gint64 frame_time = gdk_frame_clock_get_frame_time (clock);

  if (bench->last_frame_time != 0 && frame_time > bench->last_frame_time)
    {
      double delta = (frame_time - bench->last_frame_time) / 1000.0;
      double work = (g_get_monotonic_time () - bench->frame_start) / 1000.0;

      double cpu = thread_cpu_ms () - bench->cpu_start;

      g_array_append_val (bench->deltas, delta);
      g_array_append_val (bench->work, work);
      g_array_append_val (bench->frame_cpu, cpu);
    }
  bench->last_frame_time = frame_time;
  if (g_get_monotonic_time () >= bench->deadline)
    bench->done = TRUE;
}

/* CPU time of this process (user + system), in ms: unlike wall time, other load does not count. */
static double
cpu_ms (void)
{
  struct rusage usage;

  getrusage (RUSAGE_SELF, &usage);
  return (usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1e3 +
         (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e3;
}

static int
compare_doubles (gconstpointer a,
                 gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return x < y ? -1 : x > y;
}

static double
percentile (GArray *values,
            double  p)
{
  guint i;

  if (values->len == 0)
    return 0;
  g_array_sort (values, compare_doubles);
  i = MIN ((guint) (p * (values->len - 1) + 0.5), values->len - 1);
  return g_array_index (values, double, i);
}

static void
window_mapped_cb (GtkWidget *widget,
                  Bench     *bench)
{
  GdkFrameClock *clock = gtk_widget_get_frame_clock (widget);

  g_signal_connect (clock, "before-paint", G_CALLBACK (before_paint_cb), bench);
  g_signal_connect_after (clock, "update", G_CALLBACK (update_cb), bench);
  g_signal_connect_after (clock, "layout", G_CALLBACK (layout_cb), bench);
  g_signal_connect_after (clock, "paint", G_CALLBACK (paint_cb), bench);
  g_signal_connect (clock, "after-paint", G_CALLBACK (after_paint_cb), bench);
}

int
main (int   argc,
      char *argv[])
{
  int phones = 50, seconds = 20;
  double speed = 10;
  g_autofree char *pane = NULL;
  const GOptionEntry entries[] = {
    { "phones", 0, 0, G_OPTION_ARG_INT, &phones, "Phones in the scene (default 50)", "N" },
    { "seconds", 0, 0, G_OPTION_ARG_INT, &seconds, "Wall seconds to measure (default 20)", "S" },
    { "speed", 0, 0, G_OPTION_ARG_DOUBLE, &speed, "Playback speed (default 10)", "X" },
    { "pane", 0, 0, G_OPTION_ARG_STRING, &pane, "Pane to show under the network", "NAME" },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("- GUI frame times, busy scene");
  g_autoptr(GError) error = NULL;
  g_autoptr(GtkCssProvider) provider = NULL;
  g_autofree char *text = NULL;
  g_autofree char *path = NULL;
  g_autofree char *dir = NULL;
  Bench bench = { 0 };
  SimWorld *world;
  double cpu;
  int fd;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("bench-gui: %s\n", error->message);
      return EXIT_FAILURE;
    }
  if (!gtk_init_check ())
    {
      g_printerr ("bench-gui: no display (run it under xvfb-run)\n");
      return 77;
    }
  provider = gtk_css_provider_new ();
  gtk_css_provider_load_from_resource (provider, "/org/siplab/SipLab/style.css");
  gtk_style_context_add_provider_for_display (gdk_display_get_default (),
                                              GTK_STYLE_PROVIDER (provider),
                                              GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);

  /* The scene goes through a file, the way a teacher's would. */
  text = busy_scene (CLAMP (phones, 2, 2000));
  fd = g_file_open_tmp ("bench-gui-XXXXXX.scn", &path, &error);
  if (fd < 0 || !g_file_set_contents (path, text, -1, &error))
    {
      g_printerr ("bench-gui: %s\n", error->message);
      return EXIT_FAILURE;
    }
  close (fd);

  bench.window = g_object_ref_sink (app_window_new (NULL));
  if (!sim_document_open (app_window_get_document (bench.window), path, &error))
    {
      g_printerr ("bench-gui: %s\n", error->message);
      return EXIT_FAILURE;
    }
  g_unlink (path);
  if (pane != NULL)
    app_window_show_pane (bench.window, pane);
  bench.deadline = G_MAXINT64;
  bench.deltas = g_array_new (FALSE, FALSE, sizeof (double));
  bench.work = g_array_new (FALSE, FALSE, sizeof (double));
  bench.update = g_array_new (FALSE, FALSE, sizeof (double));
  bench.frame_cpu = g_array_new (FALSE, FALSE, sizeof (double));
  bench.layout = g_array_new (FALSE, FALSE, sizeof (double));
  bench.paint = g_array_new (FALSE, FALSE, sizeof (double));
  g_signal_connect (bench.window, "map", G_CALLBACK (window_mapped_cb), &bench);
  gtk_window_present (GTK_WINDOW (bench.window));

  /* A second to settle (fonts, first layout), then measure. */
  {
    gint64 settle = g_get_monotonic_time () + G_USEC_PER_SEC;

    while (g_get_monotonic_time () < settle)
      g_main_context_iteration (NULL, FALSE);
  }
  g_array_set_size (bench.deltas, 0);
  g_array_set_size (bench.work, 0);
  g_array_set_size (bench.update, 0);
  g_array_set_size (bench.frame_cpu, 0);
  g_array_set_size (bench.layout, 0);
  g_array_set_size (bench.paint, 0);
  bench.last_frame_time = 0;
  bench.done = FALSE;
  bench.deadline = g_get_monotonic_time () + (gint64) seconds * G_USEC_PER_SEC;
  app_window_set_speed (bench.window, speed);
  app_window_set_playing (bench.window, TRUE);
  cpu = cpu_ms ();
  while (!bench.done)
    g_main_context_iteration (NULL, TRUE);
  cpu = cpu_ms () - cpu;
  app_window_set_playing (bench.window, FALSE);

  world = sim_document_get_world (app_window_get_document (bench.window));
  printf ("bench-gui: %d phones at %gx for %d s (GSK_RENDERER=%s)\n", phones, speed, seconds,
          g_getenv ("GSK_RENDERER") ? g_getenv ("GSK_RENDERER") : "default");
  printf ("  virtual time reached  %.1f s, %u trace events, %u ladder rows, %u bindings\n",
          SIM_TIME_TO_SECONDS (sim_world_now (world)),
          sim_trace_get_n_events (sim_world_get_trace (world)),
          app_ladder_view_get_n_rows (app_window_get_ladder (bench.window)),
          sim_location_get_n_bindings (sim_world_get_location (world)));
  printf ("  frames                %u, CPU %.1f ms per frame (%.0f%% of one core)\n",
          bench.deltas->len, bench.deltas->len ? cpu / bench.deltas->len : 0.0,
          cpu / (seconds * 10.0));
  {
    double load[1];

    if (getloadavg (load, 1) == 1)
      printf ("  machine load average  %.1f (figures below include waiting for the CPU)\n",
              load[0]);
  }
  printf ("  frame interval  median %.1f ms   p95 %.1f ms   max %.1f ms\n",
          percentile (bench.deltas, 0.5), percentile (bench.deltas, 0.95),
          percentile (bench.deltas, 1.0));
  printf ("  work per frame  median %.1f ms   p95 %.1f ms   max %.1f ms\n",
          percentile (bench.work, 0.5), percentile (bench.work, 0.95),
          percentile (bench.work, 1.0));
  printf ("  CPU per frame   median %.1f ms   p95 %.1f ms   max %.1f ms   (main thread)\n",
          percentile (bench.frame_cpu, 0.5), percentile (bench.frame_cpu, 0.95),
          percentile (bench.frame_cpu, 1.0));
  printf ("    update phase  median %.1f ms   p95 %.1f ms   (the session runs, views follow)\n",
          percentile (bench.update, 0.5), percentile (bench.update, 0.95));
  printf ("    layout phase  median %.1f ms   p95 %.1f ms\n",
          percentile (bench.layout, 0.5), percentile (bench.layout, 0.95));
  printf ("    paint phase   median %.1f ms   p95 %.1f ms   (snapshot and cairo rendering)\n",
          percentile (bench.paint, 0.5), percentile (bench.paint, 0.95));

  gtk_window_destroy (GTK_WINDOW (bench.window));
  g_clear_object (&bench.window);
  g_array_unref (bench.deltas);
  g_array_unref (bench.work);
  g_array_unref (bench.update);
  g_array_unref (bench.frame_cpu);
  g_array_unref (bench.layout);
  g_array_unref (bench.paint);
  return EXIT_SUCCESS;
}
