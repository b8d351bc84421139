/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <math.h>
#include <string.h>

#include <glib/gstdio.h>
#include <gtk/gtk.h>

#include "app-inspector.h"
#include "app-location-view.h"
#include "app-ladder-view.h"
#include "app-lesson-pane.h"
#include "app-network-view.h"
#include "app-window.h"
#include "sim-command.h"
#include "sim-transport.h"

/*
 * The window read from the back row (issue 14): at 1920x1080 and 1280x720, with eight hosts
 * and a lesson open, every ladder column title and every host's box is measured as laid out
 * (no two titles overlap, none is cut or shortened; every box is inside the network view and
 * none covers another), and a screenshot is saved to look at.  Presentation mode makes the
 * inspector's text at least 1.5 times larger.  A binding that expires is a mark in the
 * ladder.  A lesson is stepped and a packet inspected with the keyboard alone, through the
 * shortcuts bound to the keys.  Runs under xvfb-run with a 1920x1080 screen.
 */

static const char *const hosts[] = { "registrar", "alice-desk", "alice-mobile", "bob-desk",
                                     "bob-softphone", "bob-mobile", "carol-laptop", "dave-desk" };

static void
wait_ms (guint ms)
{
  gint64 end = g_get_monotonic_time () + ms * 1000;

  while (g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, FALSE);
}

static char *
lesson_path (void)
{
  const char *source = g_getenv ("SIPLAB_SOURCE_DIR");

  return g_build_filename (source ? source : ".", "tests", "lessons",
                           "backrow-eight-hosts.lesson", NULL);
}

/* Has the ladder's header taken the height its titles were last laid out for? */
static gboolean
header_settled (AppLadderView *ladder)
{
  for (guint i = 0; i < app_ladder_view_get_n_columns (ladder); i++)
    {
      double corners[8], width, height;
      gboolean ellipsized;

      if (!app_ladder_view_get_title_geometry (ladder, i, corners, &width, &height, &ellipsized))
        return FALSE;
      for (guint c = 0; c < 4; c++)
        if (corners[2 * c + 1] > height + 0.5)
          return FALSE;
    }
  return app_ladder_view_get_n_columns (ladder) > 0;
}

/* The window with the eight-host lesson open, @width x @height (0: as it sizes itself). */
static AppWindow *
open_window (int      width,
             int      height,
             gboolean presentation)
{
  AppWindow *window = app_window_new (NULL);
  g_autofree char *path = lesson_path ();
  g_autoptr(GError) error = NULL;

  g_object_ref_sink (window);
  if (width > 0)
    gtk_window_set_default_size (GTK_WINDOW (window), width, height);
  g_assert_true (sim_document_open (app_window_get_document (window), path, &error));
  g_assert_no_error (error);
  app_lesson_pane_set_record_progress (app_window_get_lesson_pane (window), FALSE);
  app_window_set_presentation (window, presentation);
  gtk_window_present (GTK_WINDOW (window));
  wait_ms (300);
  /* Into the lesson: every phone registers, so the ladder has a column for each host. */
  for (guint i = 0; i < 2; i++)
    {
      g_assert_true (app_lesson_pane_next (app_window_get_lesson_pane (window), &error));
      g_assert_no_error (error);
    }
  /* The header takes its titles' height after a frame: let it settle (longer when loaded). */
  wait_ms (500);
  for (guint tries = 0; tries < 30 && !header_settled (app_window_get_ladder (window)); tries++)
    wait_ms (100);
  return window;
}

static void
close_window (AppWindow *window)
{
  gtk_window_destroy (GTK_WINDOW (window));
  g_object_unref (window);
}

/* Separating axis test for two convex quadrilaterals (corners in order). */
static gboolean
quads_overlap (const double *a,
               const double *b)
{
  const double *quads[] = { a, b };

  for (guint q = 0; q < 2; q++)
    for (guint e = 0; e < 4; e++)
      {
        const double *p = quads[q];
        double nx = -(p[(2 * e + 3) % 8] - p[2 * e + 1]);
        double ny = p[(2 * e + 2) % 8] - p[2 * e];
        double min[2] = { G_MAXDOUBLE, G_MAXDOUBLE }, max[2] = { -G_MAXDOUBLE, -G_MAXDOUBLE };

        for (guint k = 0; k < 2; k++)
          for (guint c = 0; c < 4; c++)
            {
              double d = quads[k][2 * c] * nx + quads[k][2 * c + 1] * ny;

              min[k] = MIN (min[k], d);
              max[k] = MAX (max[k], d);
            }
        if (max[0] <= min[1] || max[1] <= min[0])
          return FALSE;
      }
  return TRUE;
}

static void
assert_titles_whole (AppLadderView *ladder)
{
  guint n = app_ladder_view_get_n_columns (ladder);

  g_assert_cmpuint (n, ==, G_N_ELEMENTS (hosts));
  for (guint i = 0; i < n; i++)
    {
      double corners[8], other[8], width, height;
      gboolean ellipsized;

      g_assert_true (app_ladder_view_get_title_geometry (ladder, i, corners, &width, &height,
                                                         &ellipsized));
      g_test_message ("title %u: (%.0f,%.0f) (%.0f,%.0f) (%.0f,%.0f) (%.0f,%.0f) in %.0fx%.0f",
                      i, corners[0], corners[1], corners[2], corners[3], corners[4], corners[5],
                      corners[6], corners[7], width, height);
      g_assert_false (ellipsized);
      /* Inside the header: not cut at either side, the top or the bottom. */
      for (guint c = 0; c < 4; c++)
        {
          g_assert_cmpfloat (corners[2 * c], >=, -0.5);
          g_assert_cmpfloat (corners[2 * c], <=, width + 0.5);
          g_assert_cmpfloat (corners[2 * c + 1], >=, -0.5);
          g_assert_cmpfloat (corners[2 * c + 1], <=, height + 0.5);
        }
      for (guint j = i + 1; j < n; j++)
        {
          g_assert_true (app_ladder_view_get_title_geometry (ladder, j, other, &width, &height,
                                                             &ellipsized));
          if (quads_overlap (corners, other))
            g_error ("column titles %u and %u overlap", i, j);
        }
    }
}

static void
assert_nodes_whole (AppNetworkView *network)
{
  double width = gtk_widget_get_width (GTK_WIDGET (network));
  double height = gtk_widget_get_height (GTK_WIDGET (network));

  for (guint i = 0; i < G_N_ELEMENTS (hosts); i++)
    {
      graphene_rect_t box, other;

      g_assert_true (app_network_view_get_node_box (network, hosts[i], &box));
      g_test_message ("%s: %.0f,%.0f %.0fx%.0f in %.0fx%.0f (zoom %.2f)", hosts[i],
                      box.origin.x, box.origin.y, box.size.width, box.size.height, width, height,
                      app_network_view_get_zoom (network));
      /* The box holds its whole label (it is sized to it): inside the view, it is not cut. */
      g_assert_cmpfloat (box.origin.x, >=, 0);
      g_assert_cmpfloat (box.origin.y, >=, 0);
      g_assert_cmpfloat (box.origin.x + box.size.width, <=, width);
      g_assert_cmpfloat (box.origin.y + box.size.height, <=, height);
      for (guint j = i + 1; j < G_N_ELEMENTS (hosts); j++)
        {
          g_assert_true (app_network_view_get_node_box (network, hosts[j], &other));
          g_assert_false (graphene_rect_intersection (&box, &other, NULL));
        }
    }
}

static void
save_screenshot (AppWindow  *window,
                 const char *name)
{
  const char *dir = g_getenv ("SIPLAB_SCREENSHOT_DIR");
  g_autofree char *path = g_build_filename (dir ? dir : g_get_tmp_dir (), name, NULL);
  g_autoptr(GdkPaintable) paintable = gtk_widget_paintable_new (GTK_WIDGET (window));
  g_autoptr(GskRenderNode) node = NULL;
  g_autoptr(GdkTexture) texture = NULL;

  /* On a loaded machine the window may not have drawn yet: give it a few more frames. */
  for (guint tries = 0; node == NULL && tries < 30; tries++)
    {
      g_autoptr(GtkSnapshot) snapshot = gtk_snapshot_new ();

      gdk_paintable_snapshot (paintable, GDK_SNAPSHOT (snapshot),
                              gtk_widget_get_width (GTK_WIDGET (window)),
                              gtk_widget_get_height (GTK_WIDGET (window)));
      node = gtk_snapshot_free_to_node (g_steal_pointer (&snapshot));
      if (node == NULL)
        wait_ms (100);
    }
  g_assert_nonnull (node);
  texture = gsk_renderer_render_texture (gtk_native_get_renderer (GTK_NATIVE (window)), node,
                                         NULL);
  g_assert_true (gdk_texture_save_to_png (texture, path));
  g_test_message ("screenshot: %s", path);
}

static void assert_inspector_inside (AppWindow *window);

static void
check_window (int         width,
              int         height,
              gboolean    presentation,
              const char *screenshot)
{
  AppWindow *window = open_window (width, height, presentation);

  /* Less the client-side decoration's border. */
  g_assert_cmpint (gtk_widget_get_width (GTK_WIDGET (window)), >=, width - 20);
  assert_titles_whole (app_window_get_ladder (window));
  assert_nodes_whole (app_window_get_network (window));
  assert_inspector_inside (window);
  save_screenshot (window, screenshot);
  close_window (window);
}

/* Every box of the hosts named @format (numbered from 0 to @n - 1) is inside the network view,
 * and none overlaps another. */
static void
assert_boxes_fit (AppNetworkView *network,
                  const char     *format,
                  guint           n)
{
  double width = gtk_widget_get_width (GTK_WIDGET (network));
  double height = gtk_widget_get_height (GTK_WIDGET (network));

  for (guint i = 0; i < n; i++)
    {
      g_autofree char *name = g_strdup_printf (format, i);
      graphene_rect_t box, other;

      g_assert_true (app_network_view_get_node_box (network, name, &box));
      g_assert_cmpfloat (box.origin.x, >=, 0);
      g_assert_cmpfloat (box.origin.y, >=, 0);
      g_assert_cmpfloat (box.origin.x + box.size.width, <=, width);
      g_assert_cmpfloat (box.origin.y + box.size.height, <=, height);
      for (guint j = i + 1; j < n; j++)
        {
          g_autofree char *next = g_strdup_printf (format, j);

          g_assert_true (app_network_view_get_node_box (network, next, &other));
          g_assert_false (graphene_rect_intersection (&box, &other, NULL));
        }
    }
}

/* A registrar's day: a crowd of phones stands in rows around it, every one in view, none
 * covering another (before, past the smallest zoom they piled up along the edges). */
static void
test_a_crowd_of_phones_fits (void)
{
  AppWindow *window = app_window_new (NULL);
  AppNetworkView *network = app_window_get_network (window);
  g_autoptr(GString) text = g_string_new ("title \"A crowd\"\nseed 3\n"
                                          "server registrar 10.0.0.1 domain lab.example\n");
  g_autoptr(GError) error = NULL;

  for (guint i = 0; i < 120; i++)
    g_string_append_printf (text, "user u%03u password pw-%03u-long\n"
                                  "phone desk-%03u user u%03u ip 10.0.%u.%u\n",
                            i, i, i, i, 1 + i / 200, 10 + i % 200);
  g_object_ref_sink (window);
  gtk_window_set_default_size (GTK_WINDOW (window), 1280, 720);
  g_assert_true (sim_document_open_data (app_window_get_document (window), text->str, -1,
                                         "crowd.scn", &error));
  g_assert_no_error (error);
  gtk_window_present (GTK_WINDOW (window));
  wait_ms (800);
  assert_boxes_fit (network, "desk-%03u", 120);
  g_test_message ("120 phones at zoom %.2f", app_network_view_get_zoom (network));
  save_screenshot (window, "backrow-crowd.png");
  close_window (window);
}

/*
 * A crowd's boxes change size with their words ("registering", "call: ringing"): the view is
 * laid out again (five layouts tried per zoom, every link drawn) only when a box grows larger
 * than any before, not for each phone's new state.  Before, this scene laid the view out again
 * for most of the frames in which a phone's words changed.
 */
static void
test_a_crowd_is_laid_out_again_only_when_a_box_grows (void)
{
  AppWindow *window = app_window_new (NULL);
  AppNetworkView *network = app_window_get_network (window);
  SimDocument *document = app_window_get_document (window);
  g_autoptr(GString) text = g_string_new ("title \"A busy crowd\"\nseed 11\n"
                                          "server registrar 10.0.0.1 domain lab.example\n"
                                          "policy min-expires 30 default-expires 60 "
                                          "max-expires 60 auth on\n");
  g_autoptr(GError) error = NULL;
  guint steps = 0;

  for (guint i = 0; i < 60; i++)
    g_string_append_printf (text, "user u%02u password pw%02u\n"
                                  "phone phone%02u user u%02u ip 10.0.1.%u expires 60\n"
                                  "at %ums register phone%02u\n",
                            i, i, i, i, 10 + i, i * 150, i);
  for (guint k = 0; k < 8; k++)
    g_string_append_printf (text, "at %us call phone%02u u%02u\nat %us hangup phone%02u\n",
                            10 + 2 * k, k * 7, (k * 7 + 30) % 60, 14 + 2 * k, k * 7);
  g_object_ref_sink (window);
  gtk_window_set_default_size (GTK_WINDOW (window), 1280, 720);
  g_assert_true (sim_document_open_data (document, text->str, -1, "crowd.scn", &error));
  g_assert_no_error (error);
  gtk_window_present (GTK_WINDOW (window));
  wait_ms (800);
  for (guint t = 1; t <= 60; t++)
    {
      sim_document_run_until (document, SIM_MSEC (500) * t);
      gtk_widget_queue_draw (GTK_WIDGET (network));
      wait_ms (40);
      steps++;
    }
  g_test_message ("%u steps, %u layouts, zoom %.2f", steps,
                  app_network_view_get_n_layouts (network), app_network_view_get_zoom (network));
  /* The first, then one for each state's longer words (registered, challenged, in a call). */
  g_assert_cmpuint (app_network_view_get_n_layouts (network), <=, 8);
  /* Still every box inside the view, none over another. */
  assert_boxes_fit (network, "phone%02u", 60);
  save_screenshot (window, "backrow-crowd-settled.png");
  close_window (window);
}

static void
test_the_window_fills_the_monitor (void)
{
  AppWindow *window = app_window_new (NULL);
  GdkMonitor *monitor = g_list_model_get_item (gdk_display_get_monitors (gdk_display_get_default ()), 0);
  GdkRectangle geometry;
  int width, height;

  g_object_ref_sink (window);
  gdk_monitor_get_geometry (monitor, &geometry);
  gtk_window_get_default_size (GTK_WINDOW (window), &width, &height);
  g_assert_cmpint (width, ==, geometry.width);
  g_assert_cmpint (height, ==, geometry.height);
  g_object_unref (monitor);
  close_window (window);
}

static void
test_labels_are_whole_at_1920x1080 (void)
{
  check_window (1920, 1080, FALSE, "backrow-1920.png");
}

static void
test_labels_are_whole_at_1280x720 (void)
{
  check_window (1280, 720, FALSE, "backrow-1280.png");
}

static void
test_labels_are_whole_in_presentation_mode (void)
{
  check_window (1920, 1080, TRUE, "backrow-presentation.png");
}

static void
test_presentation_mode_hides_the_secondary_panes (void)
{
  check_window (1280, 720, TRUE, "backrow-presentation-1280.png");
}

/* The first descendant of @widget of @type. */
static GtkWidget *
find_descendant (GtkWidget *widget,
                 GType      type)
{
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = G_TYPE_CHECK_INSTANCE_TYPE (child, type) ? child
                                                                 : find_descendant (child, type);

      if (found != NULL)
        return found;
    }
  return NULL;
}

/* The height of a line of @widget's text as it lays it out (pixels). */
/* The inspector's explanation (the last label of its split) ends inside the window. */
static void
assert_inspector_inside (AppWindow *window)
{
  GtkWidget *paned = find_descendant (GTK_WIDGET (app_window_get_inspector (window)),
                                      GTK_TYPE_PANED);
  graphene_rect_t bounds;

  g_assert_nonnull (paned);
  g_assert_true (gtk_widget_compute_bounds (gtk_widget_get_last_child (paned),
                                            GTK_WIDGET (window), &bounds));
  g_test_message ("explanation: %.0f+%.0f in %d", bounds.origin.x, bounds.size.width,
                  gtk_widget_get_width (GTK_WIDGET (window)));
  g_assert_cmpfloat (bounds.origin.x + bounds.size.width, <=,
                     gtk_widget_get_width (GTK_WIDGET (window)));
}

static double
font_size (GtkWidget *widget)
{
  g_autoptr(PangoLayout) layout = gtk_widget_create_pango_layout (widget, "Mg");
  PangoRectangle logical;

  pango_layout_get_extents (layout, NULL, &logical);
  return logical.height / (double) PANGO_SCALE;
}

static void
test_presentation_text_is_half_again_as_large (void)
{
  AppWindow *window = open_window (1920, 1080, FALSE);
  GtkWidget *text = find_descendant (GTK_WIDGET (app_window_get_inspector (window)),
                                     GTK_TYPE_TEXT_VIEW);
  GtkWidget *panes = gtk_widget_get_parent (gtk_widget_get_parent (
    GTK_WIDGET (app_window_get_location (window))));
  double normal, large;

  g_assert_nonnull (text);
  normal = font_size (text);
  g_assert_true (gtk_widget_is_visible (panes));
  app_window_set_presentation (window, TRUE);
  wait_ms (200);
  large = font_size (text);
  g_test_message ("inspector text: %.1f, presented %.1f", normal, large);
  g_assert_cmpfloat (large, >=, 1.5 * normal);
  g_assert_false (gtk_widget_is_visible (panes));
  close_window (window);
}

static void
test_an_expiry_is_marked_on_the_registrars_line (void)
{
  AppWindow *window = open_window (1280, 720, FALSE);
  AppLadderView *ladder = app_window_get_ladder (window);
  g_autoptr(GError) error = NULL;
  gboolean found = FALSE;

  /* The last step powers alice-desk off and runs past its 120 s binding. */
  g_assert_true (app_lesson_pane_next (app_window_get_lesson_pane (window), &error));
  g_assert_no_error (error);
  wait_ms (200);
  for (guint i = 0; i < app_ladder_view_get_n_marks (ladder); i++)
    {
      guint row;
      SimEvent *mark = app_ladder_view_get_mark (ladder, i, &row);

      g_assert_cmpint (mark->type, ==, SIM_EVENT_BINDING);
      g_assert_cmpstr (mark->node, ==, "registrar");
      /* Drawn above the first line after it, so after every line before it. */
      if (row > 0)
        g_assert_cmpuint (app_ladder_view_get_row (ladder, row - 1)->index, <, mark->index);
      if (row < app_ladder_view_get_n_rows (ladder))
        g_assert_cmpuint (app_ladder_view_get_row (ladder, row)->index, >, mark->index);
      if (g_str_equal (mark->action, "expired") &&
          g_str_equal (mark->aor, "sip:alice@lab.example"))
        found = TRUE;
    }
  g_assert_true (found);
  save_screenshot (window, "backrow-expired.png");
  close_window (window);
}

/*
 * Presses @keyval as GTK would deliver it: the window's capture-phase shortcuts, then the
 * focus widget's and its ancestors' bubble-phase ones, the first that handles it wins.
 */
static gboolean
press (AppWindow       *window,
       guint            keyval,
       GdkModifierType  mods)
{
  g_autoptr(GtkShortcutTrigger) wanted = gtk_keyval_trigger_new (keyval, mods);
  GtkWidget *focus = gtk_root_get_focus (GTK_ROOT (window));
  g_autoptr(GPtrArray) chain = g_ptr_array_new ();

  g_ptr_array_add (chain, window);
  for (GtkWidget *w = focus; w != NULL; w = gtk_widget_get_parent (w))
    g_ptr_array_add (chain, w);
  for (guint phase = 0; phase < 2; phase++)
    for (guint i = 0; i < chain->len; i++)
      {
        g_autoptr(GListModel) controllers = gtk_widget_observe_controllers (chain->pdata[i]);

        if ((phase == 0) != (i == 0))
          continue;
        for (guint c = 0; c < g_list_model_get_n_items (controllers); c++)
          {
            g_autoptr(GtkEventController) controller = g_list_model_get_item (controllers, c);

            if (!GTK_IS_SHORTCUT_CONTROLLER (controller) ||
                (gtk_event_controller_get_propagation_phase (controller) == GTK_PHASE_CAPTURE) !=
                (phase == 0))
              continue;
            for (guint s = 0; s < g_list_model_get_n_items (G_LIST_MODEL (controller)); s++)
              {
                g_autoptr(GtkShortcut) shortcut = g_list_model_get_item (G_LIST_MODEL (controller), s);

                if (gtk_shortcut_trigger_equal (gtk_shortcut_get_trigger (shortcut), wanted) &&
                    gtk_shortcut_action_activate (gtk_shortcut_get_action (shortcut), 0,
                                                  chain->pdata[i],
                                                  gtk_shortcut_get_arguments (shortcut)))
                  return TRUE;
              }
          }
      }
  return FALSE;
}

static gboolean
focus_is_in (AppWindow *window,
             gpointer   region)
{
  GtkWidget *focus = gtk_root_get_focus (GTK_ROOT (window));

  return focus != NULL && (focus == region || gtk_widget_is_ancestor (focus, region));
}

static void
test_a_lesson_and_a_packet_by_keyboard_alone (void)
{
  AppWindow *window = app_window_new (NULL);
  AppLessonPane *pane = app_window_get_lesson_pane (window);
  AppLadderView *ladder = app_window_get_ladder (window);
  g_autofree char *path = lesson_path ();
  g_autoptr(GError) error = NULL;
  SimEvent *shown;
  guint regions = 0;

  g_object_ref_sink (window);
  gtk_window_set_default_size (GTK_WINDOW (window), 1280, 720);
  g_assert_true (sim_document_open (app_window_get_document (window), path, &error));
  app_lesson_pane_set_record_progress (pane, FALSE);
  gtk_window_present (GTK_WINDOW (window));
  wait_ms (200);

  /* Ctrl+Page Down is the lesson's Next, from wherever the focus is. */
  g_assert_true (press (window, GDK_KEY_Page_Down, GDK_CONTROL_MASK));
  g_assert_cmpint (app_lesson_pane_get_position (pane), ==, 0);
  g_assert_true (press (window, GDK_KEY_Page_Down, GDK_CONTROL_MASK));
  g_assert_cmpint (app_lesson_pane_get_position (pane), ==, 1);
  g_assert_true (press (window, GDK_KEY_Page_Up, GDK_CONTROL_MASK));
  g_assert_cmpint (app_lesson_pane_get_position (pane), ==, 0);
  wait_ms (100);

  /* F6 visits the regions in turn until it reaches the ladder. */
  while (!focus_is_in (window, ladder))
    {
      g_assert_true (press (window, GDK_KEY_F6, 0));
      g_assert_cmpuint (++regions, <=, 5);
    }
  g_assert_cmpuint (app_ladder_view_get_n_rows (ladder), >, 3);

  /* Up to the first line (the step may have selected its packet), Down to the second: the
   * inspector shows it. */
  for (guint i = 0; i < app_ladder_view_get_n_rows (ladder); i++)
    g_assert_true (press (window, GDK_KEY_Up, 0));
  g_assert_cmpint (app_ladder_view_get_selected (ladder), ==, 0);
  g_assert_true (press (window, GDK_KEY_Down, 0));
  g_assert_cmpint (app_ladder_view_get_selected (ladder), ==, 1);
  shown = app_inspector_get_event (app_window_get_inspector (window));
  g_assert_true (shown == app_ladder_view_get_row (ladder, 1));
  g_assert_cmpint (shown->status, ==, 401);
  g_assert_true (press (window, GDK_KEY_Up, 0));
  g_assert_cmpint (app_ladder_view_get_selected (ladder), ==, 0);
  g_assert_true (press (window, GDK_KEY_Down, 0));

  /* Enter: the focus moves into the inspector, to read the 401. */
  g_assert_true (press (window, GDK_KEY_Return, 0));
  g_assert_true (focus_is_in (window, app_window_get_inspector (window)));
  g_assert_true (app_inspector_get_event (app_window_get_inspector (window)) == shown);

  /* Ctrl+2 shows the digest pane, Ctrl+1 the location table again. */
  g_assert_true (press (window, GDK_KEY_2, GDK_CONTROL_MASK));
  g_assert_cmpstr (app_window_get_pane (window), ==, "digest");
  g_assert_true (press (window, GDK_KEY_1, GDK_CONTROL_MASK));
  g_assert_cmpstr (app_window_get_pane (window), ==, "location");

  /* Back in the lesson column by F6, the rest of the lesson by keyboard too. */
  while (!focus_is_in (window, pane))
    {
      g_assert_true (press (window, GDK_KEY_F6, 0));
      g_assert_cmpuint (++regions, <=, 12);
    }
  while (app_lesson_pane_can_go_next (pane))
    g_assert_true (press (window, GDK_KEY_Page_Down, GDK_CONTROL_MASK));
  /* Past the third and last step: the end of the lesson. */
  g_assert_cmpint (app_lesson_pane_get_position (pane), >=, 2);
  close_window (window);
}

/* Every control in the header bar has a name a screen reader can say. */
static void
test_icon_only_controls_have_names (void)
{
  AppWindow *window = app_window_new (NULL);
  const char *actions[] = { "win.step-back", "win.play-pause", "win.step", "win.restart" };
  GtkWidget *titlebar;

  g_object_ref_sink (window);
  titlebar = gtk_window_get_titlebar (GTK_WINDOW (window));
  for (guint i = 0; i < G_N_ELEMENTS (actions); i++)
    {
      gboolean found = FALSE;

      {
        g_autoptr(GPtrArray) stack = g_ptr_array_new ();

        g_ptr_array_add (stack, titlebar);
        while (stack->len > 0 && !found)
          {
            GtkWidget *top = g_ptr_array_steal_index (stack, stack->len - 1);

            if (GTK_IS_BUTTON (top) &&
                g_strcmp0 (gtk_actionable_get_action_name (GTK_ACTIONABLE (top)), actions[i]) == 0)
              {
                /* GTK_A11Y=test: the label is readable back through the test backend. */
                g_assert_true (gtk_test_accessible_has_property (GTK_ACCESSIBLE (top),
                                                                 GTK_ACCESSIBLE_PROPERTY_LABEL));
                found = TRUE;
              }
            for (GtkWidget *c = gtk_widget_get_first_child (top); c != NULL;
                 c = gtk_widget_get_next_sibling (c))
              g_ptr_array_add (stack, c);
          }
      }
      g_assert_true (found);
    }
  g_assert_true (gtk_test_accessible_has_property (GTK_ACCESSIBLE (app_window_get_network (window)),
                                                   GTK_ACCESSIBLE_PROPERTY_LABEL));
  g_assert_true (gtk_test_accessible_has_role (GTK_ACCESSIBLE (app_window_get_network (window)),
                                               GTK_ACCESSIBLE_ROLE_IMG));
  close_window (window);
}

/* A HighContrast desktop theme turns the high-contrast style on, and off again. */
static void
test_a_high_contrast_theme_is_honoured (void)
{
  GtkSettings *settings = gtk_settings_get_default ();
  g_autofree char *theme = NULL;
  AppWindow *window;

  g_object_get (settings, "gtk-theme-name", &theme, NULL);
  window = open_window (1280, 720, FALSE);
  g_assert_false (app_window_get_high_contrast (window));
  g_object_set (settings, "gtk-theme-name", "HighContrast", NULL);
  wait_ms (300);
  g_assert_true (app_window_get_high_contrast (window));
  g_assert_true (gtk_widget_has_css_class (GTK_WIDGET (window), "high-contrast"));
  assert_titles_whole (app_window_get_ladder (window));
  assert_nodes_whole (app_window_get_network (window));
  save_screenshot (window, "backrow-high-contrast.png");
  g_object_set (settings, "gtk-theme-name", theme, NULL);
  wait_ms (100);
  g_assert_false (app_window_get_high_contrast (window));
  /* Asked for from the menu, with any theme. */
  gtk_widget_activate_action (GTK_WIDGET (window), "win.high-contrast", NULL);
  g_assert_true (app_window_get_high_contrast (window));
  close_window (window);
}

typedef struct {
  guint changes;
  guint removed;
  guint added;
} Splices;

static void
items_changed_cb (GListModel *model,
                  guint       position,
                  guint       removed,
                  guint       added,
                  Splices    *splices)
{
  splices->changes++;
  splices->removed += removed;
  splices->added += added;
}

/*
 * The location table is a list model updated per AOR: a first registration adds its AOR's
 * heading and binding, a refresh changes the row in place (no splice), an expiry removes that
 * AOR's rows only.
 */
static void
test_the_location_table_is_a_list_model_updated_in_place (void)
{
  AppWindow *window = app_window_new (NULL);
  AppLocationView *location = app_window_get_location (window);
  GListModel *model = app_location_view_get_model (location);
  g_autofree char *path = lesson_path ();
  g_autoptr(GError) error = NULL;
  Splices splices = { 0 };
  SimWorld *world;
  guint n_before, cseq_before = 0;

  g_object_ref_sink (window);
  gtk_window_set_default_size (GTK_WINDOW (window), 1280, 720);
  g_assert_true (sim_document_open (app_window_get_document (window), path, &error));
  gtk_window_present (GTK_WINDOW (window));
  wait_ms (100);
  world = sim_document_get_world (app_window_get_document (window));
  g_signal_connect (model, "items-changed", G_CALLBACK (items_changed_cb), &splices);

  /* Alice's desk phone registers (with a 120 s binding: refreshed at about 60 s). */
  sim_world_run_until (world, SIM_SEC (5));
  app_location_view_update (location);
  g_assert_cmpuint (app_location_view_get_n_rows (location), ==,
                    sim_location_get_n_bindings (sim_world_get_location (world)));
  n_before = g_list_model_get_n_items (model);
  g_assert_cmpuint (n_before, >=, 2);
  g_assert_cmpuint (splices.removed, ==, 0);
  g_assert_cmpuint (splices.added, ==, n_before);

  /* The refreshes: the same rows, updated where they are. */
  splices = (Splices) { 0 };
  {
    GPtrArray *bindings = sim_location_lookup (sim_world_get_location (world),
                                               "sip:alice@lab.example");

    cseq_before = ((SimBinding *) bindings->pdata[0])->cseq;
  }
  sim_world_run_until (world, SIM_SEC (100));
  app_location_view_update (location);
  g_assert_cmpuint (((SimBinding *) sim_location_lookup (sim_world_get_location (world),
                                                         "sip:alice@lab.example")->pdata[0])->cseq,
                    >, cseq_before);
  g_assert_cmpuint (splices.changes, ==, 0);
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, n_before);

  /* Alice's desk phone goes off: its binding expires, and only alice's rows go. */
  {
    g_autoptr(SimCommand) command = sim_command_parse ("power-off alice-desk",
                                                       SIM_COMMAND_IN_LESSON, NULL, &error);

    g_assert_no_error (error);
    g_assert_true (sim_command_run (command, world, &error));
    g_assert_no_error (error);
  }
  sim_world_run_until (world, SIM_SEC (300));
  app_location_view_update (location);
  g_assert_null (sim_location_lookup (sim_world_get_location (world), "sip:alice@lab.example"));
  g_assert_cmpuint (splices.changes, ==, 1);
  g_assert_cmpuint (splices.removed, ==, 2);
  g_assert_cmpuint (splices.added, ==, 0);
  g_assert_cmpuint (app_location_view_get_n_rows (location), ==,
                    sim_location_get_n_bindings (sim_world_get_location (world)));
  g_signal_handlers_disconnect_by_func (model, items_changed_cb, &splices);
  close_window (window);
}

/* A phone on a real UDP socket of its own, registering at @registrar as @user. */
typedef struct {
  SimClock *clock;
  SimTrace *trace;
  GRand *rand;
  SimStack *stack;
  SimSocketTransport *transport;
  SimPhone *phone;
} RealPhone;

static void
real_phone_start (RealPhone     *real,
                  const char    *user,
                  const char    *password,
                  const SimAddr *registrar)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *device = g_strdup_printf ("%s-phone", user);
  SimAddr local;

  real->clock = sim_clock_new_wall ();
  real->trace = sim_trace_new ();
  real->rand = g_rand_new_with_seed (11);
  sim_addr_init (&local, "127.0.0.1", 0, SIM_TRANSPORT_UDP);
  real->stack = sim_stack_new (real->clock, real->trace, real->rand, device, &local);
  real->transport = sim_socket_transport_new (real->stack);
  g_assert_true (sim_socket_transport_listen (real->transport, "udp:127.0.0.1:0", &error));
  g_assert_no_error (error);
  real->phone = sim_phone_new (real->stack, user, device, "lab.example", password, user);
  sim_phone_set_outbound (real->phone, registrar);
  g_assert_true (sim_phone_register (real->phone, 600, &error));
  g_assert_no_error (error);
}

static void
real_phone_stop (RealPhone *real)
{
  g_clear_object (&real->phone);
  g_clear_object (&real->transport);
  g_clear_object (&real->stack);
  g_clear_pointer (&real->rand, g_rand_free);
  g_clear_object (&real->trace);
  g_clear_object (&real->clock);
}

static gboolean
wait_for_bindings (SimLocation *location,
                   guint        n)
{
  gint64 end = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;

  while (sim_location_get_n_bindings (location) < n && g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, FALSE);
  return sim_location_get_n_bindings (location) >= n;
}

/*
 * Live: two phones on real sockets register next to the scene's eight hosts.  Each gets a
 * ladder column (by its address, titled with its user) and a node in the network view, and
 * everything still fits: titles whole and apart, boxes inside and apart.
 */
static void
test_live_real_phones_get_columns_and_fit (void)
{
  AppWindow *window = open_window (1280, 720, FALSE);
  SimDocument *document = app_window_get_document (window);
  AppLadderView *ladder = app_window_get_ladder (window);
  g_autofree char *dir = NULL;
  g_autofree char *users = NULL;
  g_autoptr(GError) error = NULL;
  SimListenOptions options = { "127.0.0.1", 0, TRUE, FALSE, NULL, NULL, TRUE };
  RealPhone bob = { 0 }, erin = { 0 };
  SimWorld *world;
  SimAddr registrar;
  guint n_columns;

  dir = g_dir_make_tmp ("siplab-backrow-XXXXXX", &error);
  g_assert_no_error (error);
  users = g_build_filename (dir, "users.txt", NULL);
  g_assert_true (g_file_set_contents (users, "bob:bobpw\nerin:erinpw\n", -1, &error));
  options.users_path = users;
  g_assert_true (sim_document_listen (document, &options, &error));
  g_assert_no_error (error);
  world = sim_document_get_world (document);
  registrar = g_array_index (sim_socket_transport_get_listeners (sim_world_get_transport (world)),
                             SimAddr, 0);
  wait_ms (300);
  n_columns = app_ladder_view_get_n_columns (ladder);

  real_phone_start (&bob, "bob", "bobpw", &registrar);
  g_assert_true (wait_for_bindings (sim_world_get_location (world), 1));
  real_phone_start (&erin, "erin", "erinpw", &registrar);
  g_assert_true (wait_for_bindings (sim_world_get_location (world), 2));
  wait_ms (800);

  /* A column for each real phone. */
  g_assert_cmpuint (app_ladder_view_get_n_columns (ladder), ==, n_columns + 2);
  save_screenshot (window, "backrow-live.png");
  {
    graphene_rect_t box;

    g_assert_true (app_network_view_get_node_box (app_window_get_network (window), "bob", &box));
    g_assert_true (app_network_view_get_node_box (app_window_get_network (window), "erin", &box));
  }
  assert_nodes_whole (app_window_get_network (window));
  /* Every title, the real phones' too, whole and apart. */
  for (guint i = 0; i < app_ladder_view_get_n_columns (ladder); i++)
    {
      double corners[8], other[8], width, height;
      gboolean ellipsized;

      g_assert_true (app_ladder_view_get_title_geometry (ladder, i, corners, &width, &height,
                                                         &ellipsized));
      g_assert_false (ellipsized);
      for (guint c = 0; c < 4; c++)
        {
          g_assert_cmpfloat (corners[2 * c], >=, -0.5);
          g_assert_cmpfloat (corners[2 * c], <=, width + 0.5);
          g_assert_cmpfloat (corners[2 * c + 1], >=, -0.5);
          g_assert_cmpfloat (corners[2 * c + 1], <=, height + 0.5);
        }
      if (i > 0)
        {
          g_assert_true (app_ladder_view_get_title_geometry (ladder, i - 1, other, &width,
                                                             &height, &ellipsized));
          g_assert_false (quads_overlap (corners, other));
        }
    }
  real_phone_stop (&bob);
  real_phone_stop (&erin);
  close_window (window);
  g_remove (users);
  g_rmdir (dir);
}

static void
count_frame_cb (GdkFrameClock *clock,
                guint         *frames)
{
  (*frames)++;
}

/* Iterates until @widget's frame clock has painted @n frames (or 30 s went by). */
static void
wait_frames (GtkWidget *widget,
             guint      n)
{
  gint64 deadline = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;
  GdkFrameClock *clock;
  guint frames = 0;
  gulong id;

  while (!gtk_widget_get_mapped (widget) && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, FALSE);
  clock = gtk_widget_get_frame_clock (widget);
  id = g_signal_connect (clock, "after-paint", G_CALLBACK (count_frame_cb), &frames);
  while (frames < n && g_get_monotonic_time () < deadline)
    {
      gtk_widget_queue_draw (widget);
      g_main_context_iteration (NULL, TRUE);
    }
  g_signal_handler_disconnect (clock, id);
}

/*
 * Every label under @widget whose text starts with @prefix and which is drawn inside @view
 * (mapped, and within @view's bounds: a row scrolled away does not count).
 */
static guint
count_shown_labels (GtkWidget  *widget,
                    GtkWidget  *view,
                    const char *prefix)
{
  graphene_rect_t bounds;
  guint n = 0;

  if (GTK_IS_LABEL (widget) && gtk_widget_get_mapped (widget) &&
      g_str_has_prefix (gtk_label_get_text (GTK_LABEL (widget)), prefix) &&
      gtk_widget_compute_bounds (widget, view, &bounds) &&
      bounds.origin.y >= 0 && bounds.origin.y + bounds.size.height <= gtk_widget_get_height (view) &&
      bounds.size.height > 0)
    n++;
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    n += count_shown_labels (child, view, prefix);
  return n;
}

/*
 * A day in the life of a registrar (300 phones) at t = 30 s, opened the way --screenshot opens
 * it (run first, then shown): the location table shows rows of the 150 or so bindings the
 * registrar holds.  It was empty although small scenes filled it.
 */
static void
test_a_crowds_bindings_fill_the_location_table (void)
{
  AppWindow *window = app_window_new (NULL);
  AppLocationView *location = app_window_get_location (window);
  const char *source = g_getenv ("SIPLAB_SOURCE_DIR");
  g_autofree char *path = g_build_filename (source ? source : ".", "data", "scenarios",
                                            "09-a-day.scn", NULL);
  g_autoptr(GError) error = NULL;
  SimDocument *document = app_window_get_document (window);
  guint bindings;

  g_object_ref_sink (window);
  gtk_window_set_default_size (GTK_WINDOW (window), 1400, 900);
  g_assert_true (sim_document_open (document, path, &error));
  g_assert_no_error (error);
  sim_document_run_until (document, SIM_SEC (30));
  bindings = sim_location_get_n_bindings (sim_world_get_location (sim_document_get_world (document)));
  g_assert_cmpuint (bindings, >, 100);
  gtk_window_present (GTK_WINDOW (window));
  /* The screenshot is taken at the fifth frame after the window is mapped. */
  wait_frames (GTK_WIDGET (window), 5);

  g_assert_cmpuint (g_list_model_get_n_items (app_location_view_get_model (location)), >,
                    bindings);
  /* The rows are drawn, not only in the model: the table's first AORs are on screen. */
  g_assert_cmpuint (count_shown_labels (GTK_WIDGET (location), GTK_WIDGET (location), "sip:"), >=,
                    3);
  /* From its first AOR on, as a table that filled as the phones registered would be. */
  {
    g_autoptr(GPtrArray) aors = sim_location_list_aors (sim_world_get_location (
                                  sim_document_get_world (document)));
    const char *first = NULL;

    for (guint i = 0; i < aors->len; i++)
      if (first == NULL || g_strcmp0 (aors->pdata[i], first) < 0)
        first = aors->pdata[i];
    g_assert_cmpuint (count_shown_labels (GTK_WIDGET (location), GTK_WIDGET (location), first),
                      ==, 1);
  }
  gtk_window_destroy (GTK_WINDOW (window));
  g_object_unref (window);
}

/*
 * In a crowd drawn too small to read (300 phones at about 0.3x), the sender of the packet
 * selected in the ladder (Up/Down from the keyboard) is shown at full size over its box.
 */
static void
test_a_crowds_selected_sender_is_spotlit (void)
{
  AppWindow *window = app_window_new (NULL);
  AppNetworkView *network = app_window_get_network (window);
  AppLadderView *ladder = app_window_get_ladder (window);
  const char *source = g_getenv ("SIPLAB_SOURCE_DIR");
  g_autofree char *path = g_build_filename (source ? source : ".", "data", "scenarios",
                                            "09-a-day.scn", NULL);
  g_autoptr(GError) error = NULL;
  SimEvent *event;
  guint n;

  g_object_ref_sink (window);
  gtk_window_set_default_size (GTK_WINDOW (window), 1400, 900);
  g_assert_true (sim_document_open (app_window_get_document (window), path, &error));
  g_assert_no_error (error);
  sim_document_run_until (app_window_get_document (window), SIM_SEC (30));
  gtk_window_present (GTK_WINDOW (window));
  wait_frames (GTK_WIDGET (window), 5);
  g_assert_cmpfloat (app_network_view_get_zoom (network), <, 0.5);

  n = app_ladder_view_get_n_rows (ladder);
  g_assert_cmpuint (n, >, 2);
  /* A phone's REGISTER: the phone is lit, not the registrar. */
  app_ladder_view_select_row (ladder, n - 3);
  event = app_ladder_view_get_row (ladder, n - 3);
  g_assert_true (g_str_has_prefix (event->from, "desk-"));
  g_assert_cmpstr (app_network_view_get_spotlight (network), ==, event->from);
  wait_frames (GTK_WIDGET (window), 2);
  save_screenshot (window, "crowd-300-spotlight.png");
  gtk_window_destroy (GTK_WINDOW (window));
  g_object_unref (window);
}

int
main (int   argc,
      char *argv[])
{
  gtk_test_init (&argc, &argv, NULL);
  if (gdk_display_get_default () == NULL)
    {
      g_test_skip ("no display");
      return 0;
    }

  /* The program's look, as siplab.c loads it: the sizes measured are the real ones. */
  {
    g_autoptr(GtkCssProvider) provider = gtk_css_provider_new ();

    gtk_css_provider_load_from_resource (provider, "/org/siplab/SipLab/style.css");
    gtk_style_context_add_provider_for_display (gdk_display_get_default (),
                                                GTK_STYLE_PROVIDER (provider),
                                                GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
  }

  g_test_add_func ("/gtk/backrow/the-window-fills-the-monitor", test_the_window_fills_the_monitor);
  g_test_add_func ("/gtk/backrow/a-crowd-of-phones-fits", test_a_crowd_of_phones_fits);
  g_test_add_func ("/gtk/backrow/a-crowd-is-laid-out-again-only-when-a-box-grows",
                   test_a_crowd_is_laid_out_again_only_when_a_box_grows);
  g_test_add_func ("/gtk/backrow/a-crowds-selected-sender-is-spotlit",
                   test_a_crowds_selected_sender_is_spotlit);
  g_test_add_func ("/gtk/backrow/a-crowds-bindings-fill-the-location-table",
                   test_a_crowds_bindings_fill_the_location_table);
  g_test_add_func ("/gtk/backrow/labels-are-whole-at-1920x1080", test_labels_are_whole_at_1920x1080);
  g_test_add_func ("/gtk/backrow/labels-are-whole-at-1280x720", test_labels_are_whole_at_1280x720);
  g_test_add_func ("/gtk/backrow/labels-are-whole-in-presentation-mode",
                   test_labels_are_whole_in_presentation_mode);
  g_test_add_func ("/gtk/backrow/presentation-mode-keeps-labels-whole-at-1280x720",
                   test_presentation_mode_hides_the_secondary_panes);
  g_test_add_func ("/gtk/backrow/presentation-text-is-half-again-as-large",
                   test_presentation_text_is_half_again_as_large);
  g_test_add_func ("/gtk/backrow/an-expiry-is-marked-on-the-registrars-line",
                   test_an_expiry_is_marked_on_the_registrars_line);
  g_test_add_func ("/gtk/backrow/a-lesson-and-a-packet-by-keyboard-alone",
                   test_a_lesson_and_a_packet_by_keyboard_alone);
  g_test_add_func ("/gtk/backrow/icon-only-controls-have-names", test_icon_only_controls_have_names);
  g_test_add_func ("/gtk/backrow/the-location-table-is-a-list-model-updated-in-place",
                   test_the_location_table_is_a_list_model_updated_in_place);
  g_test_add_func ("/gtk/backrow/live-real-phones-get-columns-and-fit",
                   test_live_real_phones_get_columns_and_fit);
  g_test_add_func ("/gtk/backrow/a-high-contrast-theme-is-honoured",
                   test_a_high_contrast_theme_is_honoured);
  return g_test_run ();
}
