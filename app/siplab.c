/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <stdlib.h>

#include <gtk/gtk.h>

#include "app-window.h"

/*
 * siplab [FILE]: the GUI.  With --screenshot OUT.png it opens FILE (or the demo scene), runs
 * the session to --at seconds, renders the real window to a PNG and exits (documentation and
 * tests; run it under Xvfb with GSK_RENDERER=cairo GTK_A11Y=test).
 */

typedef struct {
  char *screenshot;
  double at;
  char *file;
  int status;
  guint frames;
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
  if (!save_window_png (window, options->screenshot, &error))
    {
      g_printerr ("siplab: %s\n", error->message);
      options->status = EXIT_FAILURE;
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

static void
activate_cb (GtkApplication *application,
             Options        *options)
{
  AppWindow *window;
  g_autoptr(GError) error = NULL;

  load_css ();
  window = app_window_new (application);
  if (!app_window_open (window, options->file, &error))
    {
      g_printerr ("siplab: %s\n", error->message);
      options->status = EXIT_FAILURE;
      if (options->screenshot != NULL)
        {
          gtk_window_destroy (GTK_WINDOW (window));
          return;
        }
      app_window_open (window, NULL, NULL);
    }

  if (options->screenshot != NULL)
    {
      app_window_run_until (window, (SimTime) (options->at * G_USEC_PER_SEC));
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
  Options options = { NULL, 0.0, NULL, EXIT_SUCCESS, 0 };
  const GOptionEntry entries[] = {
    { "screenshot", 0, 0, G_OPTION_ARG_FILENAME, &options.screenshot,
      "Render the window to a PNG and exit", "OUT.png" },
    { "at", 0, 0, G_OPTION_ARG_DOUBLE, &options.at,
      "Run the session to this virtual time first (with --screenshot)", "SECONDS" },
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
  return status != 0 ? status : options.status;
}
