/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "app-window.h"

#include "sim-scenario.h"

#include "app-demo.h"

/*
 * The main window: playback controls and four views of one SimWorld.  The window owns the
 * world and moves its clock (a frame-clock tick while playing, one event per Step); the views
 * observe the world's trace and location service and draw what they say.
 */

/* Slow motion shows a 20 ms LAN hop; fast-forward shows an hour of refreshes. */
static const double speeds[] = { 0.01, 0.03, 0.1, 0.25, 0.5, 1, 2, 5, 10, 100, 1000 };
#define DEFAULT_SPEED_INDEX 5

/* A stalled frame (a window drag, a slow machine) must not jump the session ahead. */
#define MAX_FRAME_STEP (G_USEC_PER_SEC / 10)

struct _AppWindow {
  GtkApplicationWindow parent_instance;

  GtkButton *play_button;
  GtkLabel *clock_label;
  GtkLabel *subtitle;
  GtkDropDown *speed_dropdown;
  AppNetworkView *network;
  AppLocationView *location;
  AppLadderView *ladder;
  AppInspector *inspector;

  SimWorld *world;
  char *path;               /* NULL: the demo scene */
  SimTime run_length;       /* playing pauses here once (the scenario's "run") */
  double speed;
  guint tick_id;
  gint64 last_frame_time;
  gboolean follow_newest;   /* the inspector shows the newest packet until the user picks one */
  gboolean selecting;
  GtkFileChooserNative *chooser;
};

G_DEFINE_FINAL_TYPE (AppWindow, app_window, GTK_TYPE_APPLICATION_WINDOW)

static void
refresh_views (AppWindow *self)
{
  char text[64];

  if (self->world == NULL)
    return;
  g_snprintf (text, sizeof text, "t = %.3f s", SIM_TIME_TO_SECONDS (sim_world_now (self->world)));
  gtk_label_set_text (self->clock_label, text);
  app_location_view_update (self->location);
  gtk_widget_queue_draw (GTK_WIDGET (self->network));

  if (self->follow_newest)
    {
      guint n = app_ladder_view_get_n_rows (self->ladder);

      if (n > 0 && app_ladder_view_get_selected (self->ladder) != (int) n - 1)
        {
          self->selecting = TRUE;
          app_ladder_view_select_row (self->ladder, n - 1);
          self->selecting = FALSE;
        }
    }
}

static void
packet_selected_cb (AppWindow     *self,
                    SimEvent      *event,
                    AppLadderView *ladder)
{
  SimEvent *previous = NULL;
  int row = app_ladder_view_get_selected (ladder);

  if (!self->selecting)
    self->follow_newest = FALSE;

  /* The message this one is best compared with: same sender, Call-ID, method and direction. */
  for (int i = row - 1; event != NULL && event->call_id != NULL && i >= 0 && previous == NULL; i--)
    {
      SimEvent *e = app_ladder_view_get_row (ladder, i);

      if (g_strcmp0 (e->call_id, event->call_id) == 0 && g_strcmp0 (e->from, event->from) == 0 &&
          g_strcmp0 (e->method, event->method) == 0 && (e->status == 0) == (event->status == 0))
        previous = e;
    }
  app_inspector_set_event_with_previous (self->inspector, event, previous);
}

static gboolean
tick_cb (GtkWidget     *widget,
         GdkFrameClock *frame_clock,
         gpointer       user_data)
{
  AppWindow *self = APP_WINDOW (widget);
  gint64 frame_time = gdk_frame_clock_get_frame_time (frame_clock);
  gint64 elapsed;

  if (self->last_frame_time == 0)
    self->last_frame_time = frame_time;
  elapsed = MIN (frame_time - self->last_frame_time, MAX_FRAME_STEP);
  self->last_frame_time = frame_time;

  if (elapsed > 0)
    {
      SimTime now = sim_world_now (self->world);
      SimTime target = now + (SimTime) (elapsed * self->speed);
      gboolean at_end = now < self->run_length && target >= self->run_length;

      /* The scenario's planned length is a natural place to stop; Play goes on from there. */
      if (at_end)
        target = self->run_length;
      sim_world_run_until (self->world, target);
      refresh_views (self);
      if (at_end)
        {
          /* Returning G_SOURCE_REMOVE removes the tick: forget its id, then show Play. */
          self->tick_id = 0;
          gtk_button_set_icon_name (self->play_button, "media-playback-start-symbolic");
          return G_SOURCE_REMOVE;
        }
    }
  return G_SOURCE_CONTINUE;
}

void
app_window_set_playing (AppWindow *self,
                        gboolean   playing)
{
  g_return_if_fail (APP_IS_WINDOW (self));

  if (playing == (self->tick_id != 0))
    return;
  if (playing)
    {
      self->last_frame_time = 0;
      self->tick_id = gtk_widget_add_tick_callback (GTK_WIDGET (self), tick_cb, NULL, NULL);
    }
  else
    {
      gtk_widget_remove_tick_callback (GTK_WIDGET (self), self->tick_id);
      self->tick_id = 0;
    }
  gtk_button_set_icon_name (self->play_button,
                            playing ? "media-playback-pause-symbolic"
                                    : "media-playback-start-symbolic");
}

gboolean
app_window_get_playing (AppWindow *self)
{
  g_return_val_if_fail (APP_IS_WINDOW (self), FALSE);
  return self->tick_id != 0;
}

static void
set_world (AppWindow *self,
           SimWorld  *world)
{
  app_window_set_playing (self, FALSE);
  g_set_object (&self->world, world);
  self->follow_newest = TRUE;
  app_inspector_set_event (self->inspector, NULL);
  app_network_view_set_world (self->network, world);
  app_ladder_view_set_world (self->ladder, world);
  app_location_view_set_world (self->location, world);
  refresh_views (self);
}

gboolean
app_window_open (AppWindow   *self,
                 const char  *path,
                 GError     **error)
{
  g_autoptr(SimWorld) world = NULL;
  g_autofree char *subtitle = NULL;

  g_return_val_if_fail (APP_IS_WINDOW (self), FALSE);

  if (path == NULL)
    {
      world = app_demo_new_world ();
      self->run_length = SIM_SEC (30);
      subtitle = g_strdup ("Demo: Alice (two devices) and Bob register, Bob calls Alice");
    }
  else
    {
      g_auto(SimScenarioInfo) info = { 0 };
      g_autofree char *basename = g_path_get_basename (path);

      world = sim_scenario_load_file (path, 0, &info, error);
      if (world == NULL)
        return FALSE;
      self->run_length = info.run;
      subtitle = info.title ? g_strdup_printf ("%s — %s", info.title, basename)
                            : g_steal_pointer (&basename);
    }

  if (path != self->path)
    {
      g_free (self->path);
      self->path = g_strdup (path);
    }
  gtk_label_set_text (self->subtitle, subtitle);
  set_world (self, world);
  return TRUE;
}

SimWorld *
app_window_get_world (AppWindow *self)
{
  g_return_val_if_fail (APP_IS_WINDOW (self), NULL);
  return self->world;
}

void
app_window_run_until (AppWindow *self,
                      SimTime    t)
{
  g_return_if_fail (APP_IS_WINDOW (self));

  app_window_set_playing (self, FALSE);
  sim_world_run_until (self->world, t);
  refresh_views (self);
}

gboolean
app_window_step (AppWindow *self)
{
  gboolean more;

  g_return_val_if_fail (APP_IS_WINDOW (self), FALSE);

  app_window_set_playing (self, FALSE);
  more = sim_world_step_event (self->world);
  refresh_views (self);
  return more;
}

void
app_window_set_speed (AppWindow *self,
                      double     speed)
{
  g_return_if_fail (APP_IS_WINDOW (self));
  g_return_if_fail (speed > 0);

  self->speed = speed;
  for (guint i = 0; i < G_N_ELEMENTS (speeds); i++)
    if (speeds[i] == speed && gtk_drop_down_get_selected (self->speed_dropdown) != i)
      gtk_drop_down_set_selected (self->speed_dropdown, i);
}

static void
speed_changed_cb (AppWindow   *self,
                  GParamSpec  *pspec,
                  GtkDropDown *dropdown)
{
  guint i = gtk_drop_down_get_selected (dropdown);

  if (i < G_N_ELEMENTS (speeds))
    self->speed = speeds[i];
}

static void
show_error (AppWindow  *self,
            const char *message)
{
  GtkWidget *dialog = gtk_message_dialog_new (GTK_WINDOW (self),
                                              GTK_DIALOG_MODAL | GTK_DIALOG_DESTROY_WITH_PARENT,
                                              GTK_MESSAGE_ERROR, GTK_BUTTONS_CLOSE,
                                              "Cannot open the scenario");

  gtk_message_dialog_format_secondary_text (GTK_MESSAGE_DIALOG (dialog), "%s", message);
  g_signal_connect (dialog, "response", G_CALLBACK (gtk_window_destroy), NULL);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
chooser_response_cb (AppWindow            *self,
                     int                   response,
                     GtkFileChooserNative *chooser)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser));
      g_autofree char *path = g_file_get_path (file);
      g_autoptr(GError) error = NULL;

      if (path != NULL && !app_window_open (self, path, &error))
        show_error (self, error->message);
    }
  g_clear_object (&self->chooser);
}

static void
open_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  AppWindow *self = APP_WINDOW (widget);
  g_autoptr(GtkFileFilter) filter = gtk_file_filter_new ();

  if (self->chooser != NULL)
    return;
  self->chooser = gtk_file_chooser_native_new ("Open Scenario", GTK_WINDOW (self),
                                               GTK_FILE_CHOOSER_ACTION_OPEN, "_Open", "_Cancel");
  gtk_file_filter_set_name (filter, "Scenarios");
  gtk_file_filter_add_pattern (filter, "*.scn");
  gtk_file_filter_add_pattern (filter, "*.txt");
  gtk_file_filter_add_pattern (filter, "*.scenario");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (self->chooser), filter);
  if (self->path != NULL)
    {
      g_autoptr(GFile) file = g_file_new_for_path (self->path);
      g_autoptr(GFile) folder = g_file_get_parent (file);

      gtk_file_chooser_set_current_folder (GTK_FILE_CHOOSER (self->chooser), folder, NULL);
    }
  g_signal_connect_object (self->chooser, "response", G_CALLBACK (chooser_response_cb), self,
                           G_CONNECT_SWAPPED);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (self->chooser));
}

static void
play_pause_action (GtkWidget  *widget,
                   const char *action_name,
                   GVariant   *parameter)
{
  AppWindow *self = APP_WINDOW (widget);

  app_window_set_playing (self, !app_window_get_playing (self));
}

static void
step_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  app_window_step (APP_WINDOW (widget));
}

static void
restart_action (GtkWidget  *widget,
                const char *action_name,
                GVariant   *parameter)
{
  AppWindow *self = APP_WINDOW (widget);
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_strdup (self->path);

  /* The session is deterministic: reloading replays it exactly. */
  if (!app_window_open (self, path, &error))
    show_error (self, error->message);
}

static void
app_window_dispose (GObject *object)
{
  AppWindow *self = APP_WINDOW (object);

  if (self->tick_id != 0)
    {
      gtk_widget_remove_tick_callback (GTK_WIDGET (self), self->tick_id);
      self->tick_id = 0;
    }
  if (self->chooser != NULL)
    gtk_native_dialog_destroy (GTK_NATIVE_DIALOG (self->chooser));
  g_clear_object (&self->chooser);
  gtk_widget_dispose_template (GTK_WIDGET (self), APP_TYPE_WINDOW);
  g_clear_object (&self->world);
  G_OBJECT_CLASS (app_window_parent_class)->dispose (object);
}

static void
app_window_finalize (GObject *object)
{
  AppWindow *self = APP_WINDOW (object);

  g_free (self->path);
  G_OBJECT_CLASS (app_window_parent_class)->finalize (object);
}

static void
app_window_class_init (AppWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = app_window_dispose;
  object_class->finalize = app_window_finalize;

  g_type_ensure (APP_TYPE_NETWORK_VIEW);
  g_type_ensure (APP_TYPE_LADDER_VIEW);
  g_type_ensure (APP_TYPE_INSPECTOR);
  g_type_ensure (APP_TYPE_LOCATION_VIEW);

  gtk_widget_class_set_template_from_resource (widget_class, "/org/siplab/SipLab/app-window.ui");
  gtk_widget_class_bind_template_child (widget_class, AppWindow, play_button);
  gtk_widget_class_bind_template_child (widget_class, AppWindow, clock_label);
  gtk_widget_class_bind_template_child (widget_class, AppWindow, subtitle);
  gtk_widget_class_bind_template_child (widget_class, AppWindow, speed_dropdown);
  gtk_widget_class_bind_template_child (widget_class, AppWindow, network);
  gtk_widget_class_bind_template_child (widget_class, AppWindow, location);
  gtk_widget_class_bind_template_child (widget_class, AppWindow, ladder);
  gtk_widget_class_bind_template_child (widget_class, AppWindow, inspector);

  gtk_widget_class_install_action (widget_class, "win.open", NULL, open_action);
  gtk_widget_class_install_action (widget_class, "win.play-pause", NULL, play_pause_action);
  gtk_widget_class_install_action (widget_class, "win.step", NULL, step_action);
  gtk_widget_class_install_action (widget_class, "win.restart", NULL, restart_action);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_o, GDK_CONTROL_MASK, "win.open", NULL);
}

static void
app_window_init (AppWindow *self)
{
  GtkEventController *shortcuts;

  gtk_widget_init_template (GTK_WIDGET (self));

  self->speed = speeds[DEFAULT_SPEED_INDEX];
  gtk_drop_down_set_selected (self->speed_dropdown, DEFAULT_SPEED_INDEX);
  g_signal_connect_object (self->speed_dropdown, "notify::selected",
                           G_CALLBACK (speed_changed_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->ladder, "packet-selected", G_CALLBACK (packet_selected_cb), self,
                           G_CONNECT_SWAPPED);

  /*
   * Space and Right drive playback wherever the focus is (a focused button would otherwise
   * take Space), so they are caught before the focused widget sees them.
   */
  shortcuts = gtk_shortcut_controller_new ();
  gtk_event_controller_set_propagation_phase (shortcuts, GTK_PHASE_CAPTURE);
  gtk_shortcut_controller_add_shortcut (GTK_SHORTCUT_CONTROLLER (shortcuts),
                                        gtk_shortcut_new (gtk_keyval_trigger_new (GDK_KEY_space, 0),
                                                          gtk_named_action_new ("win.play-pause")));
  gtk_shortcut_controller_add_shortcut (GTK_SHORTCUT_CONTROLLER (shortcuts),
                                        gtk_shortcut_new (gtk_keyval_trigger_new (GDK_KEY_Right, 0),
                                                          gtk_named_action_new ("win.step")));
  gtk_widget_add_controller (GTK_WIDGET (self), shortcuts);
}

AppWindow *
app_window_new (GtkApplication *application)
{
  return g_object_new (APP_TYPE_WINDOW, "application", application, NULL);
}

AppNetworkView *
app_window_get_network (AppWindow *self)
{
  return self->network;
}

AppLadderView *
app_window_get_ladder (AppWindow *self)
{
  return self->ladder;
}

AppInspector *
app_window_get_inspector (AppWindow *self)
{
  return self->inspector;
}

AppLocationView *
app_window_get_location (AppWindow *self)
{
  return self->location;
}
