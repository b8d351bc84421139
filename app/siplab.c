/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <stdlib.h>

#include <gtk/gtk.h>

#include "sim-capture-world.h"
#include "sim-pcap.h"

#include "app-window.h"

/*
 * siplab [FILE]: the GUI.  With --screenshot OUT.png it opens FILE (or the demo scene), runs
 * the session to --at seconds, renders the real window to a PNG and exits (documentation and
 * tests; run it under Xvfb with GSK_RENDERER=cairo GTK_A11Y=test).  --export-ladder-svg/png and
 * --export-pcapng write the same run's ladder or capture instead (or as well).
 *
 * --listen udp:HOST:PORT (and/or tcp:) starts live mode at once, as "Listen for Real Phones…"
 * does: the scene's registrar on real sockets; with --screenshot, --at is then how many wall
 * seconds to wait for the phones before the picture is taken.
 */

#include "sim-transport.h"

typedef struct {
  char *screenshot;
  double at;
  char *file;
  char *pane;
  char *ladder_svg;
  char *ladder_png;
  char *pcapng;
  char *lesson;
  int step;
  gboolean unanswered;       /* --step N stops before item N is answered */
  gboolean dark;
  gboolean presentation;
  gboolean collapse;
  int row;
  int status;
  guint frames;
  char **listen;
  char *users;
  char *domain;
  gboolean alone;
} Options;

static void
load_css (void)
{
  g_autoptr(GtkCssProvider) provider = gtk_css_provider_new ();

  gtk_css_provider_load_from_resource (provider, "/org/siplab/SipLab/style.css");
  gtk_style_context_add_provider_for_display (gdk_display_get_default (),
                                              GTK_STYLE_PROVIDER (provider),
                                              GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
}

static gboolean
save_window_png (GtkWidget   *window,
                 const char  *path,
                 GError     **error)
{
  g_autoptr(GdkPaintable) paintable = gtk_widget_paintable_new (window);
  g_autoptr(GtkSnapshot) snapshot = gtk_snapshot_new ();
  g_autoptr(GskRenderNode) node = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  int width = gtk_widget_get_width (window);
  int height = gtk_widget_get_height (window);

  gdk_paintable_snapshot (paintable, GDK_SNAPSHOT (snapshot), width, height);
  node = gtk_snapshot_free_to_node (g_steal_pointer (&snapshot));
  if (node == NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED, "The window drew nothing");
      return FALSE;
    }
  texture = gsk_renderer_render_texture (gtk_native_get_renderer (GTK_NATIVE (window)), node, NULL);
  if (!gdk_texture_save_to_png (texture, path))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "Cannot write %s", path);
      return FALSE;
    }
  return TRUE;
}

static void
after_paint_cb (GdkFrameClock *frame_clock,
                GtkWidget     *window)
{
  Options *options = g_object_get_data (G_OBJECT (window), "siplab-options");
  g_autoptr(GError) error = NULL;

  /* A few frames first, so the panes have their final sizes and the ladder has scrolled. */
  if (++options->frames < 5)
    {
      gtk_widget_queue_draw (window);
      return;
    }
  g_signal_handlers_disconnect_by_func (frame_clock, after_paint_cb, window);
  if (options->screenshot != NULL && !save_window_png (window, options->screenshot, &error))
    {
      g_printerr ("siplab: %s\n", error->message);
      options->status = EXIT_FAILURE;
      g_clear_error (&error);
    }
  /* The ladder exports need the laid-out view (its width and fonts), so they come last. */
  if (options->ladder_svg != NULL &&
      !app_ladder_view_export (app_window_get_ladder (APP_WINDOW (window)), options->ladder_svg,
                               APP_LADDER_FORMAT_SVG, &error))
    {
      g_printerr ("siplab: %s\n", error->message);
      options->status = EXIT_FAILURE;
      g_clear_error (&error);
    }
  if (options->ladder_png != NULL &&
      !app_ladder_view_export (app_window_get_ladder (APP_WINDOW (window)), options->ladder_png,
                               APP_LADDER_FORMAT_PNG, &error))
    {
      g_printerr ("siplab: %s\n", error->message);
      options->status = EXIT_FAILURE;
      g_clear_error (&error);
    }
  gtk_window_destroy (GTK_WINDOW (window));
}

static void
window_mapped_cb (GtkWidget *window,
                  gpointer   user_data)
{
  g_signal_connect_object (gtk_widget_get_frame_clock (window), "after-paint",
                           G_CALLBACK (after_paint_cb), window, 0);
  gtk_widget_queue_draw (window);
}

static gboolean
start_capture_cb (gpointer user_data)
{
  GtkWidget *window = user_data;

  window_mapped_cb (window, NULL);
  g_object_unref (window);
  return G_SOURCE_REMOVE;
}

/* --listen: the first spec gives the address and port; UDP and TCP as listed. */
static gboolean
listen_from_options (SimDocument  *document,
                     Options      *options,
                     GError      **error)
{
  SimListenOptions listen = { NULL, };
  SimAddr first = { 0, };

  for (guint i = 0; options->listen[i] != NULL; i++)
    {
      SimAddr addr;

      if (!sim_transport_parse_spec (options->listen[i], &addr, error))
        return FALSE;
      if (i == 0)
        first = addr;
      if (addr.transport == SIM_TRANSPORT_TCP)
        listen.tcp = TRUE;
      else
        listen.udp = TRUE;
    }
  listen.address = first.ip;
  listen.port = first.port;
  listen.domain = options->domain;
  listen.users_path = options->users;
  listen.with_scene = !options->alone;
  return sim_document_listen (document, &listen, error);
}

static void
activate_cb (GtkApplication *application,
             Options        *options)
{
  AppWindow *window;
  SimDocument *document;
  g_autoptr(GError) error = NULL;
  gboolean opened;

  load_css ();
  window = app_window_new (application);
  document = app_window_get_document (window);
  if (options->lesson != NULL)
    opened = sim_document_open_lesson (document, options->lesson, &error);
  else if (sim_capture_world_is_capture_path (options->file))
    {
      /* A capture of a real network; --users judges its digests (docs/watch.md). */
      g_autoptr(GString) problems = g_string_new (NULL);

      opened = sim_document_open_capture (document, options->file, options->users, problems,
                                          &error);
      g_printerr ("%s", problems->str);
    }
  else
    opened = sim_document_open (document, options->file, &error);
  if (!opened)
    {
      g_printerr ("siplab: %s\n", error->message);
      options->status = EXIT_FAILURE;
      if (options->screenshot != NULL)
        {
          gtk_window_destroy (GTK_WINDOW (window));
          return;
        }
      sim_document_open (document, NULL, NULL);
    }

  if (options->pane != NULL)
    app_window_show_pane (window, options->pane);
  app_window_set_dark (window, options->dark);
  app_window_set_presentation (window, options->presentation);
  g_object_set (window, "collapse-refreshes", options->collapse, NULL);

  /* A lesson moves its own clock: --step N plays it to item N along the answer keys. */
  if (sim_document_get_lesson (document) != NULL)
    {
      AppLessonPane *lesson = app_window_get_lesson_pane (window);

      app_lesson_pane_set_record_progress (lesson, options->screenshot == NULL);
      if (options->step >= 0 && !app_lesson_pane_go_to (lesson, options->step, !options->unanswered, &error))
        {
          g_printerr ("siplab: %s\n", error->message);
          options->status = EXIT_FAILURE;
          g_clear_error (&error);
        }
    }
  else if (options->screenshot != NULL || options->ladder_svg != NULL ||
           options->ladder_png != NULL || options->pcapng != NULL)
    {
      sim_document_run_until (document, (SimTime) (options->at * G_USEC_PER_SEC));
      if (options->row >= 0)
        app_ladder_view_select_row (app_window_get_ladder (window), options->row);
    }
  if (options->listen != NULL && !listen_from_options (document, options, &error))
    {
      g_printerr ("siplab: cannot listen: %s\n", error->message);
      options->status = EXIT_FAILURE;
      g_clear_error (&error);
      if (options->screenshot != NULL)
        {
          gtk_window_destroy (GTK_WINDOW (window));
          return;
        }
    }
  if (options->pcapng != NULL &&
      !sim_document_write_pcapng (document, options->pcapng, &error))
    {
      g_printerr ("siplab: %s\n", error->message);
      options->status = EXIT_FAILURE;
      g_clear_error (&error);
    }
  if (options->screenshot == NULL && (options->ladder_svg != NULL || options->ladder_png != NULL ||
                                      options->pcapng != NULL))
    {
      g_object_set_data (G_OBJECT (window), "siplab-options", options);
      g_signal_connect (window, "map", G_CALLBACK (window_mapped_cb), NULL);
    }

  if (options->screenshot != NULL && sim_document_get_live (document))
    {
      /* Live: the phones need wall time to register; the picture is taken --at seconds on. */
      g_object_set_data (G_OBJECT (window), "siplab-options", options);
      g_timeout_add ((guint) (MAX (options->at, 0) * 1000), start_capture_cb,
                     g_object_ref (window));
    }
  else if (options->screenshot != NULL)
    {
      g_object_set_data (G_OBJECT (window), "siplab-options", options);
      g_signal_connect (window, "map", G_CALLBACK (window_mapped_cb), NULL);
    }
  gtk_window_present (GTK_WINDOW (window));
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GtkApplication) application = NULL;
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) files = NULL;
  Options options = { .row = -1, .step = -1, .status = EXIT_SUCCESS };
  const GOptionEntry entries[] = {
    { "screenshot", 0, 0, G_OPTION_ARG_FILENAME, &options.screenshot,
      "Render the window to a PNG and exit", "OUT.png" },
    { "at", 0, 0, G_OPTION_ARG_DOUBLE, &options.at,
      "Run the session to this virtual time first (with --screenshot or an export)", "SECONDS" },
    { "select", 0, 0, G_OPTION_ARG_INT, &options.row,
      "Then select this ladder row (0 is the first)", "ROW" },
    { "pane", 0, 0, G_OPTION_ARG_STRING, &options.pane,
      "Show this pane under the network: location, digest, timers or counters", "NAME" },
    { "lesson", 0, 0, G_OPTION_ARG_FILENAME, &options.lesson,
      "Play this lesson in the lesson pane (also: a FILE ending in .lesson)", "FILE" },
    { "step", 0, 0, G_OPTION_ARG_INT, &options.step,
      "With a lesson: play it to step N (0 is the introduction), answering with its answer keys",
      "N" },
    { "unanswered", 0, 0, G_OPTION_ARG_NONE, &options.unanswered,
      "With --step: stop at step N before it is answered (what a student sees at the question)",
      NULL },
    { "dark", 0, 0, G_OPTION_ARG_NONE, &options.dark, "Use the dark style", NULL },
    { "presentation", 0, 0, G_OPTION_ARG_NONE, &options.presentation,
      "Presentation mode: larger type", NULL },
    { "collapse-refreshes", 0, 0, G_OPTION_ARG_NONE, &options.collapse,
      "Fold each registration's refreshes into one ladder line", NULL },
    { "export-ladder-svg", 0, 0, G_OPTION_ARG_FILENAME, &options.ladder_svg,
      "Write the ladder as SVG and exit", "OUT.svg" },
    { "export-ladder-png", 0, 0, G_OPTION_ARG_FILENAME, &options.ladder_png,
      "Write the ladder as PNG and exit", "OUT.png" },
    { "export-pcapng", 0, 0, G_OPTION_ARG_FILENAME, &options.pcapng,
      "Write the run as a pcapng capture and exit", "OUT.pcapng" },
    { "listen", 'l', 0, G_OPTION_ARG_STRING_ARRAY, &options.listen,
      "Listen for real phones here (repeatable: udp:HOST:PORT, tcp:HOST:PORT; the first is the "
      "address phones use)", "TRANSPORT:HOST:PORT" },
    { "users", 'u', 0, G_OPTION_ARG_FILENAME, &options.users,
      "With --listen: users file, one name:password a line", "FILE" },
    { "domain", 'd', 0, G_OPTION_ARG_STRING, &options.domain,
      "With --listen --alone: the SIP domain", "DOMAIN" },
    { "alone", 0, 0, G_OPTION_ARG_NONE, &options.alone,
      "With --listen: the registrar alone, without the scene's simulated phones", NULL },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &files, NULL, "[FILE]" },
    { NULL }
  };
  int status;

  context = g_option_context_new ("- watch SIP registration and calls happen");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("siplab: %s\n", error->message);
      return EXIT_FAILURE;
    }
  if (files != NULL && g_strv_length (files) > 1)
    {
      g_printerr ("siplab: give at most one scenario file\n");
      return EXIT_FAILURE;
    }
  options.file = files ? files[0] : NULL;

  /* Each window is its own session: no single-instance forwarding of files. */
  application = gtk_application_new ("org.siplab.SipLab", G_APPLICATION_NON_UNIQUE);
  g_signal_connect (application, "activate", G_CALLBACK (activate_cb), &options);
  status = g_application_run (G_APPLICATION (application), 1, argv);
  g_free (options.screenshot);
  g_free (options.pane);
  g_free (options.ladder_svg);
  g_free (options.ladder_png);
  g_free (options.pcapng);
  g_free (options.lesson);
  g_strfreev (options.listen);
  g_free (options.users);
  g_free (options.domain);
  return status != 0 ? status : options.status;
}
