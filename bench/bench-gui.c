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
 *                                                    [--live [--rate 1000]]
 *
 * --live measures live mode instead: the window's registrar listens on 127.0.0.1 (a free
 * port) for a users file of --users users, and sipp (tests/sipp/register.xml) registers them
 * with digest authentication at --rate registrations per second, in a loop over the users,
 * while the frames are recorded.  The load average is printed beside the figures: on a shared
 * machine they include waiting for the CPU.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <signal.h>
#include <unistd.h>

#include <sys/wait.h>

#include <sys/resource.h>

#include <glib/gstdio.h>
#include <gtk/gtk.h>

#include "app-window.h"

/* sipp's registration scenario, from the source tree. */
#define SIPP_REGISTER_SCENARIO SIPLAB_SOURCE_DIR "/tests/sipp/register.xml"

typedef struct {
  AppWindow *window;
  GArray *deltas;         /* double, ms between consecutive frames */
  GArray *work;           /* double, ms from the frame's start to the end of its paint */
  GArray *update;         /* double, ms in the update phase (the session runs, views follow) */
  GArray *layout;         /* double, ms in the layout phase (measure and allocate) */
  GArray *paint;          /* double, ms in the paint phase (snapshot and render) */
  gint64 mark;
  double cpu_mark;        /* thread CPU time at mark */
  GArray *update_cpu;     /* double, ms of this thread's CPU time in the update phase */
  GArray *frame_cpu;      /* double, ms of this thread's CPU time from before-paint to after */
  double cpu_start;
  gint64 last_frame_time;
  gint64 frame_start;
  gint64 deadline;
  gboolean done;
  guint toplevel_sizings; /* the window's size computed again (a resize reached the window) */
  guint registered;       /* live: REGISTERs the registrar answered 200 while measuring */
  guint received;         /* live: SIP messages that reached the window's stack while measuring */
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
  bench->cpu_mark = bench->cpu_start;
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
  double cpu = thread_cpu_ms () - bench->cpu_mark;

  g_array_append_val (bench->update_cpu, cpu);
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

/*
 * A resize queued anywhere in the window reaches the window itself: GTK then measures the
 * whole window again and, on X11, asks the server for the monitor and its work area (round
 * trips that wait for a loaded Xvfb).  Counted, since no frame while playing should need it.
 */
static void
compute_size_cb (GdkToplevel     *toplevel,
                 GdkToplevelSize *size,
                 Bench           *bench)
{
  bench->toplevel_sizings++;
}

static void
window_mapped_cb (GtkWidget *widget,
                  Bench     *bench)
{
  GdkFrameClock *clock = gtk_widget_get_frame_clock (widget);

  g_signal_connect (gtk_native_get_surface (GTK_NATIVE (widget)), "compute-size",
                    G_CALLBACK (compute_size_cb), bench);

  g_signal_connect (clock, "before-paint", G_CALLBACK (before_paint_cb), bench);
  g_signal_connect_after (clock, "update", G_CALLBACK (update_cb), bench);
  g_signal_connect_after (clock, "layout", G_CALLBACK (layout_cb), bench);
  g_signal_connect_after (clock, "paint", G_CALLBACK (paint_cb), bench);
  g_signal_connect (clock, "after-paint", G_CALLBACK (after_paint_cb), bench);
}

/* Writes the scene to a file, the way a teacher's would be, and opens it. */
static gboolean
open_scene (Bench   *bench,
            int      phones,
            GError **error)
{
  g_autofree char *text = busy_scene (CLAMP (phones, 2, 2000));
  g_autofree char *path = NULL;
  gboolean ok;
  int fd;

  fd = g_file_open_tmp ("bench-gui-XXXXXX.scn", &path, error);
  if (fd < 0)
    return FALSE;
  close (fd);
  if (!g_file_set_contents (path, text, -1, error))
    return FALSE;
  ok = sim_document_open (app_window_get_document (bench->window), path, error);
  g_unlink (path);
  return ok;
}

/*
 * Live mode: the window's registrar listens on loopback for @users users (u0000:pw0000...), and
 * sipp registers them at @rate per second for @seconds (plus the settling second).  Returns
 * sipp's pid, or 0 with @error set.
 */
static GPid
start_live (Bench    *bench,
            int       users,
            int       rate,
            int       seconds,
            char    **dir,
            GError  **error)
{
  g_autoptr(GString) passwords = g_string_new ("# bench-gui users\n");
  g_autoptr(GString) csv = g_string_new ("SEQUENTIAL\n");
  g_autofree char *users_path = NULL, *csv_path = NULL, *target = NULL, *count = NULL;
  g_autofree char *rate_text = NULL;
  SimListenOptions options = { .address = "127.0.0.1", .udp = TRUE, .domain = "lab.example" };
  SimWorld *world;
  SimAddr registrar;
  GPid pid = 0;

  *dir = g_dir_make_tmp ("bench-gui-XXXXXX", error);
  if (*dir == NULL)
    return 0;
  for (int i = 0; i < users; i++)
    {
      g_string_append_printf (passwords, "u%04d:pw%04d\n", i, i);
      g_string_append_printf (csv, "u%04d;[authentication username=u%04d password=pw%04d];\n",
                              i, i, i);
    }
  users_path = g_build_filename (*dir, "users.txt", NULL);
  csv_path = g_build_filename (*dir, "users.csv", NULL);
  if (!g_file_set_contents (users_path, passwords->str, -1, error) ||
      !g_file_set_contents (csv_path, csv->str, -1, error))
    return 0;
  options.users_path = users_path;
  if (!sim_document_listen (app_window_get_document (bench->window), &options, error))
    return 0;
  world = sim_document_get_world (app_window_get_document (bench->window));
  registrar = g_array_index (sim_socket_transport_get_listeners (sim_world_get_transport (world)),
                             SimAddr, 0);
  target = g_strdup_printf ("127.0.0.1:%u", registrar.port);
  count = g_strdup_printf ("%d", rate * (seconds + 2));
  rate_text = g_strdup_printf ("%d", rate);
  {
    const char *argv[] = { "sipp", "-sf", SIPP_REGISTER_SCENARIO, "-inf", csv_path,
                           "-auth_uri", "lab.example", "-key", "domain", "lab.example",
                           "-key", "expires", "3600", "-m", count, "-r", rate_text,
                           "-l", "200", "-i", "127.0.0.1", "-p", "0", "-nostdin",
                           "-timeout", "120", target, NULL };

    if (!g_spawn_async (*dir, (char **) argv, NULL,
                        G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD |
                        G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL,
                        NULL, NULL, &pid, error))
      return 0;
  }
  return pid;
}

static void
print_results (Bench      *bench,
               const char *what,
               int         seconds,
               double      cpu)
{
  SimWorld *world = sim_document_get_world (app_window_get_document (bench->window));
  double load[3];

  printf ("bench-gui: %s for %d s (GSK_RENDERER=%s)\n", what, seconds,
          g_getenv ("GSK_RENDERER") ? g_getenv ("GSK_RENDERER") : "default");
  printf ("  virtual time reached  %.1f s, %u trace events, %u ladder rows, %u bindings\n",
          SIM_TIME_TO_SECONDS (sim_world_now (world)),
          sim_trace_get_n_events (sim_world_get_trace (world)),
          app_ladder_view_get_n_rows (app_window_get_ladder (bench->window)),
          sim_location_get_n_bindings (sim_world_get_location (world)));
  printf ("  frames                %u, CPU %.1f ms per frame (%.0f%% of one core)\n",
          bench->deltas->len, bench->deltas->len ? cpu / bench->deltas->len : 0.0,
          cpu / (seconds * 10.0));
  printf ("  window sized again   %u times (%.0f%% of frames: a resize reached the window)\n",
          bench->toplevel_sizings,
          bench->deltas->len ? 100.0 * bench->toplevel_sizings / bench->deltas->len : 0.0);
  if (getloadavg (load, 3) == 3)
    printf ("  machine load average  %.2f %.2f %.2f (on %ld CPUs; figures below include waiting for them)\n",
            load[0], load[1], load[2], sysconf (_SC_NPROCESSORS_ONLN));
  printf ("  frame interval  median %.1f ms   p95 %.1f ms   max %.1f ms\n",
          percentile (bench->deltas, 0.5), percentile (bench->deltas, 0.95),
          percentile (bench->deltas, 1.0));
  printf ("  work per frame  median %.1f ms   p95 %.1f ms   max %.1f ms\n",
          percentile (bench->work, 0.5), percentile (bench->work, 0.95),
          percentile (bench->work, 1.0));
  printf ("  CPU per frame   median %.1f ms   p95 %.1f ms   max %.1f ms   (main thread)\n",
          percentile (bench->frame_cpu, 0.5), percentile (bench->frame_cpu, 0.95),
          percentile (bench->frame_cpu, 1.0));
  printf ("    update phase  median %.1f ms   p95 %.1f ms   (the session runs, views follow)\n",
          percentile (bench->update, 0.5), percentile (bench->update, 0.95));
  printf ("    update CPU    median %.1f ms   p95 %.1f ms   (main thread)\n",
          percentile (bench->update_cpu, 0.5), percentile (bench->update_cpu, 0.95));
  printf ("    layout phase  median %.1f ms   p95 %.1f ms\n",
          percentile (bench->layout, 0.5), percentile (bench->layout, 0.95));
  printf ("    paint phase   median %.1f ms   p95 %.1f ms   (snapshot and cairo rendering)\n",
          percentile (bench->paint, 0.5), percentile (bench->paint, 0.95));
}

static void
reset_figures (Bench *bench)
{
  GArray **arrays[] = { &bench->deltas, &bench->work, &bench->update, &bench->update_cpu,
                        &bench->frame_cpu, &bench->layout, &bench->paint };

  for (guint i = 0; i < G_N_ELEMENTS (arrays); i++)
    {
      if (*arrays[i] == NULL)
        *arrays[i] = g_array_new (FALSE, FALSE, sizeof (double));
      g_array_set_size (*arrays[i], 0);
    }
  bench->last_frame_time = 0;
  bench->toplevel_sizings = 0;
  bench->registered = bench->received = 0;
  bench->done = FALSE;
}

/* Live: what sipp's load achieved, as the GUI's registrar saw it (sipp's -r is only a target). */
static void
live_event_cb (SimTrace *trace,
               SimEvent *event,
               Bench    *bench)
{
  if (event->type != SIM_EVENT_PACKET || bench->deadline == G_MAXINT64)
    return;
  if (g_strcmp0 (event->action, "delivered") == 0)
    bench->received++;
  else if (event->status == 200 && g_strcmp0 (event->method, "REGISTER") == 0 &&
           g_strcmp0 (event->action, "sent") == 0)
    bench->registered++;
}

static void
free_figures (Bench *bench)
{
  GArray *arrays[] = { bench->deltas, bench->work, bench->update, bench->update_cpu,
                       bench->frame_cpu, bench->layout, bench->paint };

  for (guint i = 0; i < G_N_ELEMENTS (arrays); i++)
    g_array_unref (arrays[i]);
}

int
main (int   argc,
      char *argv[])
{
  int phones = 50, seconds = 20, rate = 1000, users = 1000;
  double speed = 10;
  gboolean live = FALSE;
  g_autofree char *pane = NULL;
  const GOptionEntry entries[] = {
    { "phones", 0, 0, G_OPTION_ARG_INT, &phones, "Phones in the scene (default 50)", "N" },
    { "seconds", 0, 0, G_OPTION_ARG_INT, &seconds, "Wall seconds to measure (default 20)", "S" },
    { "speed", 0, 0, G_OPTION_ARG_DOUBLE, &speed, "Playback speed (default 10)", "X" },
    { "pane", 0, 0, G_OPTION_ARG_STRING, &pane, "Pane to show under the network", "NAME" },
    { "live", 0, 0, G_OPTION_ARG_NONE, &live, "Live mode: sipp registers into the GUI", NULL },
    { "rate", 0, 0, G_OPTION_ARG_INT, &rate, "Live: registrations per second (default 1000)", "R" },
    { "users", 0, 0, G_OPTION_ARG_INT, &users, "Live: users sipp registers (default 1000)", "N" },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("- GUI frame times, busy scene");
  g_autoptr(GError) error = NULL;
  g_autoptr(GtkCssProvider) provider = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *what = NULL;
  Bench bench = { 0 };
  GPid sipp = 0;
  double cpu;

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

  bench.window = g_object_ref_sink (app_window_new (NULL));
  if (live)
    sipp = start_live (&bench, CLAMP (users, 1, 9999), MAX (rate, 1), seconds, &dir, &error);
  if (live ? sipp == 0 : !open_scene (&bench, phones, &error))
    {
      g_printerr ("bench-gui: %s\n", error->message);
      return EXIT_FAILURE;
    }
  if (live)
    g_signal_connect (sim_world_get_trace (sim_document_get_world (
                        app_window_get_document (bench.window))),
                      "event", G_CALLBACK (live_event_cb), &bench);
  if (pane != NULL)
    app_window_show_pane (bench.window, pane);
  bench.deadline = G_MAXINT64;
  reset_figures (&bench);
  g_signal_connect (bench.window, "map", G_CALLBACK (window_mapped_cb), &bench);
  gtk_window_present (GTK_WINDOW (bench.window));

  /* A second to settle (fonts, first layout), then measure. */
  {
    gint64 settle = g_get_monotonic_time () + G_USEC_PER_SEC;

    while (g_get_monotonic_time () < settle)
      g_main_context_iteration (NULL, FALSE);
  }
  reset_figures (&bench);
  bench.deadline = g_get_monotonic_time () + (gint64) seconds * G_USEC_PER_SEC;
  app_window_set_speed (bench.window, speed);
  app_window_set_playing (bench.window, TRUE);
  cpu = cpu_ms ();
  while (!bench.done)
    g_main_context_iteration (NULL, TRUE);
  cpu = cpu_ms () - cpu;
  app_window_set_playing (bench.window, FALSE);

  if (live)
    what = g_strdup_printf ("live, sipp registering %d users at %d/s", users, rate);
  else
    what = g_strdup_printf ("%d phones at %gx", phones, speed);
  print_results (&bench, what, seconds, cpu);
  if (live)
    printf ("  live load achieved    %.0f registrations/s answered 200 (sipp asked for %d/s), "
            "%.0f SIP messages/s received\n", bench.registered / (double) seconds, rate,
            bench.received / (double) seconds);

  if (sipp != 0)
    {
      /* sipp is this process's child: stop it by its pid and reap it. */
      kill (sipp, SIGTERM);
      waitpid (sipp, NULL, 0);
      g_spawn_close_pid (sipp);
    }
  if (dir != NULL)
    {
      g_autofree char *users_path = g_build_filename (dir, "users.txt", NULL);
      g_autofree char *csv_path = g_build_filename (dir, "users.csv", NULL);

      g_unlink (users_path);
      g_unlink (csv_path);
      g_rmdir (dir);
    }
  gtk_window_destroy (GTK_WINDOW (bench.window));
  g_clear_object (&bench.window);
  free_figures (&bench);
  return EXIT_SUCCESS;
}
