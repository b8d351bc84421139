/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "app-window.h"

#include "sim-pcap.h"
#include "sim-server.h"

#include "app-listen-dialog.h"

#include "sim-demo.h"
#include "app-lesson-pane.h"
#include "app-scene-editor.h"

/*
 * The main window: playback controls and the views of one SimWorld.  The window owns the
 * world and moves its clock (a frame-clock tick while playing, one event per Step); the views
 * observe the world's trace and location service and draw what they say.
 *
 * A session is a scenario (a file, or the built-in demo) plus the edits made while it ran,
 * each with its virtual time.  Both are deterministic, so restarting and stepping back simply
 * rebuild the world from them and run it forward again.
 */

/* Slow motion shows a 20 ms LAN hop; fast-forward shows an hour of refreshes in a second. */
static const double speeds[] = { 0.01, 0.03, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 100, 300, 1000,
                                 3600 };
#define DEFAULT_SPEED_INDEX 5

/* A stalled frame (a window drag, a slow machine) must not jump the session ahead. */
#define MAX_FRAME_STEP (G_USEC_PER_SEC / 10)

/*
 * While playing, the tables (location, timers) and the inspector follow at this rate rather
 * than every frame: re-measuring a grid of fifty bindings or a wrapped explanation costs more
 * than a frame has.
 */
#define TABLE_REFRESH_INTERVAL (G_USEC_PER_SEC / 5)
#define TABLE_REBUILD_INTERVAL G_USEC_PER_SEC

typedef enum {
  EDIT_ADD_PHONE,
  EDIT_REMOVE_PHONE,
  EDIT_MODE,
  EDIT_REGISTER,
  EDIT_MOVE,
  EDIT_POWER,
  EDIT_PASSWORD,
  EDIT_LINK_LOSS,
} EditKind;

/* One change made while the session ran, replayed at time @at on every rebuild. */
typedef struct {
  SimTime at;
  EditKind kind;
  char *user;
  char *password;
  char *device;           /* also the first end of a link */
  char *value;            /* ip; the other end of a link */
  gboolean on;
  SimMode mode;
  double loss;
} Edit;

typedef struct {
  SimWorld *world;        /* unowned: the world's clock owns this closure */
  Edit *edit;
} ScheduledEdit;

struct _AppWindow {
  GtkApplicationWindow parent_instance;

  GtkButton *play_button;
  GtkLabel *clock_label;
  GtkLabel *subtitle;
  GtkDropDown *speed_dropdown;
  GtkStack *panes;
  GtkPaned *left_paned;
  int network_height;       /* the split chosen while a short pane was shown */
  AppNetworkView *network;
  AppLocationView *location;
  AppDigestView *digest;
  AppTimersView *timers;
  AppCountersView *counters;
  AppLadderView *ladder;
  AppInspector *inspector;
  AppSceneEditor *scene_editor;

  SimWorld *world;
  SimScenario *scenario;    /* as opened; never changed (worlds borrow its actions) */
  GPtrArray *edits;         /* Edit*, in the order made */
  char *path;               /* NULL: the demo scene */
  SimTime run_length;       /* playing pauses here once (the scenario's "run") */
  double speed;
  guint tick_id;
  gint64 last_frame_time;
  gint64 last_table_refresh;
  gint64 last_table_rebuild;
  gboolean follow_newest;   /* the inspector shows the newest packet until the user picks one */
  gboolean selecting;
  gboolean presentation;
  gboolean dark;
  GtkFileChooserNative *chooser;
  gboolean live;            /* the world runs on the wall clock with real sockets */
  guint live_refresh_id;
};

enum {
  PROP_0,
  PROP_PRESENTATION,
  PROP_DARK,
  PROP_COLLAPSE_REFRESHES,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (AppWindow, app_window, GTK_TYPE_APPLICATION_WINDOW)

/* ------------------------------------------------------------------------------------------ */
/* Edits                                                                                      */

static void
edit_free (gpointer data)
{
  Edit *edit = data;

  g_free (edit->user);
  g_free (edit->password);
  g_free (edit->device);
  g_free (edit->value);
  g_free (edit);
}

static Edit *
edit_copy (const Edit *edit)
{
  Edit *copy = g_memdup2 (edit, sizeof *edit);

  copy->user = g_strdup (edit->user);
  copy->password = g_strdup (edit->password);
  copy->device = g_strdup (edit->device);
  copy->value = g_strdup (edit->value);
  return copy;
}

static gboolean
user_exists (SimWorld   *world,
             const char *user)
{
  g_autoptr(GPtrArray) users = sim_world_list_users (world);

  return g_ptr_array_find_with_equal_func (users, user, g_str_equal, NULL);
}

static gboolean
apply_edit (SimWorld    *world,
            const Edit  *edit,
            GError     **error)
{
  switch (edit->kind)
    {
    case EDIT_ADD_PHONE:
      if (!user_exists (world, edit->user) &&
          !sim_world_add_user (world, edit->user, edit->password, NULL, error))
        return FALSE;
      if (sim_world_add_phone (world, edit->user, edit->device, edit->value, error) == NULL)
        return FALSE;
      /* In registrar mode a new phone announces itself at once, as a real one does. */
      if (sim_world_get_mode (world) == SIM_MODE_REGISTRAR &&
          sim_world_get_registrar (world) != NULL)
        return sim_world_register (world, edit->device, -1, error);
      return TRUE;
    case EDIT_REMOVE_PHONE:
      return sim_world_remove_phone (world, edit->device, error);
    case EDIT_MODE:
      if (edit->mode == SIM_MODE_REGISTRAR && sim_world_get_registrar (world) == NULL)
        {
          g_set_error_literal (error, SIM_WORLD_ERROR, SIM_WORLD_ERROR_STATE,
                               "this scene has no registrar to switch to");
          return FALSE;
        }
      sim_world_set_mode (world, edit->mode);
      /* Point-to-point needs addresses typed in: give every phone everyone's. */
      if (edit->mode == SIM_MODE_P2P)
        sim_world_fill_address_books (world);
      return TRUE;
    case EDIT_REGISTER:
      return sim_world_register (world, edit->device, -1, error);
    case EDIT_MOVE:
      return sim_world_move (world, edit->device, edit->value, error);
    case EDIT_POWER:
      return sim_world_set_power (world, edit->device, edit->on, error);
    case EDIT_PASSWORD:
      return sim_world_set_password (world, NULL, edit->device, edit->password, error);
    case EDIT_LINK_LOSS:
      {
        SimLinkParams params;

        if (edit->device == NULL)
          sim_net_get_default_link (sim_world_get_net (world), &params);
        else
          sim_net_get_link (sim_world_get_net (world), edit->device, edit->value, &params);
        params.loss = CLAMP (edit->loss, 0.0, 1.0);
        sim_world_set_link (world, edit->device, edit->value, &params);
        return TRUE;
      }
    default:
      g_assert_not_reached ();
    }
}

static void
scheduled_edit_free (gpointer data)
{
  ScheduledEdit *scheduled = data;

  edit_free (scheduled->edit);
  g_free (scheduled);
}

static void
scheduled_edit_cb (gpointer data)
{
  ScheduledEdit *scheduled = data;
  g_autoptr(GError) error = NULL;

  if (!apply_edit (scheduled->world, scheduled->edit, &error))
    sim_trace_note (sim_world_get_trace (scheduled->world), sim_world_now (scheduled->world),
                    scheduled->edit->device, "edit failed on replay: %s", error->message);
}

/* The scenario as opened, with every edit scheduled at its time. */
static SimWorld *
build_world (AppWindow  *self,
             GError    **error)
{
  g_autoptr(SimWorld) world = sim_scenario_build (self->scenario, 0, error);

  if (world == NULL)
    return NULL;
  for (guint i = 0; i < self->edits->len; i++)
    {
      ScheduledEdit *scheduled = g_new0 (ScheduledEdit, 1);

      scheduled->world = world;
      scheduled->edit = edit_copy (self->edits->pdata[i]);
      sim_world_schedule (world, scheduled->edit->at, scheduled_edit_cb, scheduled,
                          scheduled_edit_free);
    }
  return g_steal_pointer (&world);
}

/* ------------------------------------------------------------------------------------------ */
/* Views                                                                                      */

static void
refresh (AppWindow *self,
         gboolean   animating)
{
  char text[64];
  gint64 now = g_get_monotonic_time ();

  if (self->world == NULL)
    return;
  g_snprintf (text, sizeof text, "t = %.3f s", SIM_TIME_TO_SECONDS (sim_world_now (self->world)));
  if (self->live)
    g_snprintf (text, sizeof text, "● live  %.1f s",
                SIM_TIME_TO_SECONDS (sim_world_now (self->world)));
  gtk_label_set_text (self->clock_label, text);
  gtk_widget_queue_draw (GTK_WIDGET (self->network));
  if (animating && now - self->last_table_refresh < TABLE_REFRESH_INTERVAL)
    return;

  self->last_table_refresh = now;
  /* A new table (a binding came or went) at most once a second while playing. */
  {
    gboolean rebuild = app_location_view_needs_rebuild (self->location);

    if (!animating || !rebuild || now - self->last_table_rebuild >= TABLE_REBUILD_INTERVAL)
      {
        if (rebuild)
          self->last_table_rebuild = now;
        app_location_view_update (self->location);
      }
  }
  app_timers_view_update (self->timers);
  app_counters_view_update (self->counters);
  /* The inspector follows the newest packet at the same pace: its wrapped text is costly. */
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
refresh_views (AppWindow *self)
{
  refresh (self, FALSE);
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
  app_digest_view_set_packet (self->digest, event);
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
      refresh (self, !at_end);
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

  /* A live world runs on the wall clock by itself. */
  if (self->live)
    playing = FALSE;
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

static void leave_live (AppWindow *self);

static void
set_world (AppWindow *self,
           SimWorld  *world)
{
  app_window_set_playing (self, FALSE);
  if (self->live && world != self->world)
    leave_live (self);
  g_set_object (&self->world, world);
  self->follow_newest = TRUE;
  app_inspector_set_event (self->inspector, NULL);
  app_network_view_set_world (self->network, world);
  app_ladder_view_set_world (self->ladder, world);
  app_location_view_set_world (self->location, world);
  app_digest_view_set_world (self->digest, world);
  app_timers_view_set_world (self->timers, world);
  app_counters_view_set_world (self->counters, world);
  refresh_views (self);
}

gboolean
app_window_open (AppWindow   *self,
                 const char  *path,
                 GError     **error)
{
  g_autoptr(SimScenario) scenario = NULL;
  g_autoptr(SimScenario) old_scenario = NULL;
  g_autoptr(GPtrArray) old_edits = NULL;
  g_autoptr(SimWorld) world = NULL;
  g_autofree char *subtitle = NULL;
  g_autofree char *basename = path ? g_path_get_basename (path) : NULL;

  g_return_val_if_fail (APP_IS_WINDOW (self), FALSE);

  /* A lesson brings its own scene and plays it in the lesson pane (app-lesson-pane.c). */
  if (path != NULL && g_str_has_suffix (path, ".lesson"))
    return app_lesson_pane_open (self, path, error) != NULL;

  scenario = path ? sim_scenario_parse_file (path, error) : sim_demo_new_scenario ();
  if (scenario == NULL)
    return FALSE;

  /* A new scene starts without edits; put the old ones back if it does not build. */
  old_scenario = g_steal_pointer (&self->scenario);
  old_edits = g_steal_pointer (&self->edits);
  self->scenario = sim_scenario_ref (scenario);
  self->edits = g_ptr_array_new_with_free_func (edit_free);
  world = build_world (self, error);
  if (world == NULL)
    {
      g_clear_pointer (&self->scenario, sim_scenario_unref);
      g_clear_pointer (&self->edits, g_ptr_array_unref);
      self->scenario = g_steal_pointer (&old_scenario);
      self->edits = g_steal_pointer (&old_edits);
      return FALSE;
    }

  self->run_length = sim_scenario_get_run_length (scenario);
  if (path == NULL)
    subtitle = g_strdup (scenario->title);
  else
    subtitle = scenario->title ? g_strdup_printf ("%s — %s", scenario->title, basename)
                               : g_strdup (basename);

  if (path != self->path)
    {
      g_free (self->path);
      self->path = g_strdup (path);
    }
  gtk_label_set_text (self->subtitle, subtitle ? subtitle : "");
  app_lesson_pane_close (self);
  set_world (self, world);
  return TRUE;
}

void
app_window_show_world (AppWindow  *self,
                       SimWorld   *world,
                       const char *subtitle)
{
  g_return_if_fail (APP_IS_WINDOW (self));
  g_return_if_fail (SIM_IS_WORLD (world));

  if (world != self->world)
    set_world (self, world);
  else
    refresh_views (self);
  if (subtitle != NULL)
    gtk_label_set_text (self->subtitle, subtitle);
}

SimWorld *
app_window_get_world (AppWindow *self)
{
  g_return_val_if_fail (APP_IS_WINDOW (self), NULL);
  return self->world;
}

SimScenario *
app_window_get_scenario (AppWindow *self)
{
  g_return_val_if_fail (APP_IS_WINDOW (self), NULL);
  return self->scenario;
}

void
app_window_run_until (AppWindow *self,
                      SimTime    t)
{
  g_return_if_fail (APP_IS_WINDOW (self));

  app_window_set_playing (self, FALSE);
  if (self->live)
    return;
  sim_world_run_until (self->world, t);
  refresh_views (self);
}

gboolean
app_window_step (AppWindow *self)
{
  gboolean more;

  g_return_val_if_fail (APP_IS_WINDOW (self), FALSE);

  app_window_set_playing (self, FALSE);
  if (self->live)
    return FALSE;
  more = sim_world_step_event (self->world);
  refresh_views (self);
  return more;
}

gboolean
app_window_restart (AppWindow  *self,
                    GError    **error)
{
  g_autoptr(SimWorld) world = NULL;

  g_return_val_if_fail (APP_IS_WINDOW (self), FALSE);

  /* The session is deterministic: rebuilding replays it exactly. */
  world = build_world (self, error);
  if (world == NULL)
    return FALSE;
  set_world (self, world);
  return TRUE;
}

static guint
n_events (SimWorld *world)
{
  return sim_trace_get_n_events (sim_world_get_trace (world));
}

gboolean
app_window_step_back (AppWindow *self)
{
  g_autoptr(SimWorld) probe = NULL;
  g_autoptr(SimWorld) world = NULL;
  guint now, target;

  g_return_val_if_fail (APP_IS_WINDOW (self), FALSE);

  app_window_set_playing (self, FALSE);
  if (self->live)
    return FALSE;
  now = n_events (self->world);

  /*
   * One step runs one clock callback, which may trace several events, so not every event
   * index is a place the session can stop.  A first run finds the last stop before the
   * current one; a second run (the same, deterministic) stops there.
   */
  probe = build_world (self, NULL);
  if (probe == NULL)
    return FALSE;
  target = n_events (probe);
  if (target >= now)
    return FALSE;
  while (n_events (probe) < now && sim_world_step_event (probe))
    if (n_events (probe) < now)
      target = n_events (probe);

  world = build_world (self, NULL);
  while (n_events (world) < target && sim_world_step_event (world))
    ;
  set_world (self, world);
  return TRUE;
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

double
app_window_get_speed (AppWindow *self)
{
  g_return_val_if_fail (APP_IS_WINDOW (self), 1.0);
  return self->speed;
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

/* ------------------------------------------------------------------------------------------ */
/* Panes                                                                                      */

/* The digest worked out needs more lines than the location table: the network view gives way. */
#define TALL_PANE_NETWORK_HEIGHT 250

static void
pane_changed_cb (AppWindow *self)
{
  gboolean tall = g_strcmp0 (gtk_stack_get_visible_child_name (self->panes), "digest") == 0;
  int position = gtk_paned_get_position (self->left_paned);

  if (tall && position > TALL_PANE_NETWORK_HEIGHT)
    {
      self->network_height = position;
      gtk_paned_set_position (self->left_paned, TALL_PANE_NETWORK_HEIGHT);
    }
  else if (!tall && self->network_height > 0)
    {
      gtk_paned_set_position (self->left_paned, self->network_height);
      self->network_height = 0;
    }
  refresh_views (self);
}

void
app_window_add_pane (AppWindow  *self,
                     GtkWidget  *pane,
                     const char *name,
                     const char *title)
{
  g_return_if_fail (APP_IS_WINDOW (self));
  g_return_if_fail (GTK_IS_WIDGET (pane));

  gtk_stack_add_titled (self->panes, pane, name, title);
}

void
app_window_show_pane (AppWindow  *self,
                      const char *name)
{
  g_return_if_fail (APP_IS_WINDOW (self));

  if (gtk_stack_get_child_by_name (self->panes, name) != NULL)
    gtk_stack_set_visible_child_name (self->panes, name);
  refresh_views (self);
}

const char *
app_window_get_pane (AppWindow *self)
{
  g_return_val_if_fail (APP_IS_WINDOW (self), NULL);
  return gtk_stack_get_visible_child_name (self->panes);
}

/* ------------------------------------------------------------------------------------------ */
/* Live: real phones on real sockets                                                          */

/* While live the clock runs by itself; the views follow at 10 Hz, the tables at their pace. */
#define LIVE_REFRESH_MS 100

static void
update_playback_actions (AppWindow *self)
{
  static const char *playback[] = { "win.play-pause", "win.step", "win.step-back",
                                    "win.speed-up", "win.speed-down" };

  for (guint i = 0; i < G_N_ELEMENTS (playback); i++)
    gtk_widget_action_set_enabled (GTK_WIDGET (self), playback[i], !self->live);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.stop-listening", self->live);
  gtk_widget_set_sensitive (GTK_WIDGET (self->speed_dropdown), !self->live);
}

static gboolean
live_refresh_cb (gpointer user_data)
{
  refresh (user_data, TRUE);
  return G_SOURCE_CONTINUE;
}

/* Closes the live world's sockets; the caller shows another world. */
static void
leave_live (AppWindow *self)
{
  SimSocketTransport *transport = self->world ? sim_world_get_transport (self->world) : NULL;

  if (transport != NULL)
    sim_socket_transport_close (transport);
  self->live = FALSE;
  g_clear_handle_id (&self->live_refresh_id, g_source_remove);
  app_ladder_view_set_max_rows (self->ladder, 0);
  update_playback_actions (self);
}

static gboolean
load_users (SimWorld    *world,
            const char  *path,
            GError     **error)
{
  g_autofree char *contents = NULL;
  g_autoptr(GHashTable) users = NULL;
  GHashTableIter iter;
  gpointer name, password;

  if (!g_file_get_contents (path, &contents, NULL, error) ||
      !sim_users_parse (path, contents, &users, error))
    return FALSE;
  g_hash_table_iter_init (&iter, users);
  while (g_hash_table_iter_next (&iter, &name, &password))
    sim_registrar_set_user (sim_world_get_registrar (world), name, password);
  return TRUE;
}

gboolean
app_window_listen (AppWindow               *self,
                   const AppListenOptions  *options,
                   GError                 **error)
{
  g_autoptr(SimClock) clock = NULL;
  g_autoptr(SimWorld) world = NULL;
  g_autofree char *host = NULL;
  g_autofree char *subtitle = NULL;
  gboolean have_users = options->users_path != NULL && *options->users_path != '\0';
  gboolean have_domain = options->domain != NULL && *options->domain != '\0';
  SimSocketTransport *transport;
  GArray *bound;
  guint port = options->port;

  g_return_val_if_fail (APP_IS_WINDOW (self), FALSE);
  g_return_val_if_fail (options != NULL && options->address != NULL, FALSE);

  if (!options->udp && !options->tcp)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                           "Choose UDP, TCP or both");
      return FALSE;
    }

  clock = sim_clock_new_wall ();
  if (options->with_scene)
    {
      if (sim_scenario_get_server (self->scenario) == NULL)
        {
          g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                               "This scene has no registrar to put on real sockets; listen "
                               "without the scene's phones instead");
          return FALSE;
        }
      world = sim_scenario_build_on_clock (self->scenario, 0, clock, error);
      if (world == NULL)
        return FALSE;
      if (have_domain && g_strcmp0 (options->domain, sim_world_get_domain (world)) != 0)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                       "The domain %s differs from the scene's domain %s", options->domain,
                       sim_world_get_domain (world));
          return FALSE;
        }
    }
  else
    {
      if (!have_domain || !have_users)
        {
          g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                               "A registrar without the scene needs a domain and a users file");
          return FALSE;
        }
      world = sim_world_new_with_clock (g_random_int (), clock);
      /* Any address the lab does not use: sim_world_listen() moves it to the real one. */
      if (!sim_world_add_server (world, SIM_SERVER_NODE_NAME, "10.0.0.1", options->domain, error))
        return FALSE;
    }
  if (have_users && !load_users (world, options->users_path, error))
    return FALSE;
  /* The Date header of a 200 OK is real time, as the phone's own clock reads it. */
  sim_registrar_set_date_epoch (sim_world_get_registrar (world),
                                (g_get_real_time () - sim_clock_now (clock)) / G_USEC_PER_SEC);

  host = strchr (options->address, ':') ? g_strdup_printf ("[%s]", options->address)
                                        : g_strdup (options->address);
  if (options->udp)
    {
      g_autofree char *spec = g_strdup_printf ("udp:%s:%u", host, port);

      if (!sim_world_listen (world, spec, error))
        return FALSE;
      /* TCP on the port UDP got, so phones need one number. */
      bound = sim_socket_transport_get_listeners (sim_world_get_transport (world));
      port = g_array_index (bound, SimAddr, 0).port;
    }
  if (options->tcp)
    {
      g_autofree char *spec = g_strdup_printf ("tcp:%s:%u", host, port);

      if (!sim_world_listen (world, spec, error))
        {
          if (sim_world_get_transport (world) != NULL)
            sim_socket_transport_close (sim_world_get_transport (world));
          return FALSE;
        }
    }

  set_world (self, world);
  self->live = TRUE;
  /* A registrar runs for hours: the views observe every event, and the trace keeps only the
   * most recent ones, for the digest verdicts and the pcapng export. */
  sim_trace_set_max_kept (sim_world_get_trace (world), APP_WINDOW_LIVE_MAX_EVENTS);
  app_ladder_view_set_max_rows (self->ladder, APP_WINDOW_LIVE_MAX_LADDER_ROWS);
  self->live_refresh_id = g_timeout_add (LIVE_REFRESH_MS, live_refresh_cb, self);
  update_playback_actions (self);

  transport = sim_world_get_transport (world);
  bound = sim_socket_transport_get_listeners (transport);
  {
    const SimAddr *first = &g_array_index (bound, SimAddr, 0);
    char text[64];

    sim_addr_format (first, text, sizeof text);
    subtitle = g_strdup_printf ("Live: %s%s%s · domain %s · %u simulated phones", text,
                                options->udp ? " UDP" : "", options->tcp ? " TCP" : "",
                                sim_world_get_domain (world), sim_world_get_phones (world)->len);
  }
  gtk_label_set_text (self->subtitle, subtitle);
  refresh_views (self);
  return TRUE;
}

void
app_window_stop_listening (AppWindow *self)
{
  g_autoptr(GError) error = NULL;

  g_return_if_fail (APP_IS_WINDOW (self));

  if (!self->live)
    return;
  /* Back to the scene as opened, at t = 0 (set_world() closes the sockets). */
  if (!app_window_open (self, self->path, &error))
    {
      g_autoptr(SimWorld) empty = sim_world_new (0);

      g_warning ("Cannot reopen the scene: %s", error->message);
      set_world (self, empty);
    }
}

gboolean
app_window_is_live (AppWindow *self)
{
  g_return_val_if_fail (APP_IS_WINDOW (self), FALSE);
  return self->live;
}

static void
listen_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  AppWindow *self = APP_WINDOW (widget);

  if (g_str_equal (action_name, "win.stop-listening"))
    app_window_stop_listening (self);
  else
    gtk_window_present (GTK_WINDOW (app_listen_dialog_new (self)));
}

/* ------------------------------------------------------------------------------------------ */
/* Scene editing                                                                              */

static gboolean
edit (AppWindow  *self,
      Edit       *edit,
      GError    **error)
{
  g_autoptr(GError) local = NULL;

  edit->at = sim_world_now (self->world);
  if (!apply_edit (self->world, edit, &local))
    {
      edit_free (edit);
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  /* Live, the change is made but not kept: the scene replays in virtual time, not wall time. */
  if (self->live)
    edit_free (edit);
  else
    g_ptr_array_add (self->edits, edit);
  refresh_views (self);
  return TRUE;
}

static Edit *
edit_new (EditKind    kind,
          const char *device)
{
  Edit *e = g_new0 (Edit, 1);

  e->kind = kind;
  e->device = g_strdup (device);
  return e;
}

gboolean
app_window_add_phone (AppWindow   *self,
                      const char  *user,
                      const char  *password,
                      const char  *device,
                      const char  *ip,
                      GError     **error)
{
  Edit *e;

  g_return_val_if_fail (APP_IS_WINDOW (self), FALSE);
  g_return_val_if_fail (user != NULL && device != NULL && ip != NULL, FALSE);

  if (!user_exists (self->world, user) && (password == NULL || *password == '\0'))
    {
      g_set_error (error, SIM_WORLD_ERROR, SIM_WORLD_ERROR_INVALID,
                   "'%s' is a new user: give a password", user);
      return FALSE;
    }
  e = edit_new (EDIT_ADD_PHONE, device);
  e->user = g_strdup (user);
  e->password = g_strdup (password);
  e->value = g_strdup (ip);
  return edit (self, e, error);
}

gboolean
app_window_remove_phone (AppWindow   *self,
                         const char  *device,
                         GError     **error)
{
  g_return_val_if_fail (APP_IS_WINDOW (self), FALSE);
  return edit (self, edit_new (EDIT_REMOVE_PHONE, device), error);
}

gboolean
app_window_set_mode (AppWindow  *self,
                     SimMode     mode,
                     GError    **error)
{
  Edit *e;

  g_return_val_if_fail (APP_IS_WINDOW (self), FALSE);
  e = edit_new (EDIT_MODE, NULL);
  e->mode = mode;
  return edit (self, e, error);
}

gboolean
app_window_register (AppWindow   *self,
                     const char  *device,
                     GError     **error)
{
  g_return_val_if_fail (APP_IS_WINDOW (self), FALSE);
  return edit (self, edit_new (EDIT_REGISTER, device), error);
}

gboolean
app_window_move_phone (AppWindow   *self,
                       const char  *device,
                       const char  *ip,
                       GError     **error)
{
  Edit *e;

  g_return_val_if_fail (APP_IS_WINDOW (self), FALSE);
  e = edit_new (EDIT_MOVE, device);
  e->value = g_strdup (ip);
  return edit (self, e, error);
}

gboolean
app_window_set_power (AppWindow   *self,
                      const char  *device,
                      gboolean     on,
                      GError     **error)
{
  Edit *e;

  g_return_val_if_fail (APP_IS_WINDOW (self), FALSE);
  e = edit_new (EDIT_POWER, device);
  e->on = on;
  return edit (self, e, error);
}

gboolean
app_window_set_phone_password (AppWindow   *self,
                               const char  *device,
                               const char  *password,
                               GError     **error)
{
  Edit *e;

  g_return_val_if_fail (APP_IS_WINDOW (self), FALSE);
  e = edit_new (EDIT_PASSWORD, device);
  e->password = g_strdup (password);
  return edit (self, e, error);
}

gboolean
app_window_set_link_loss (AppWindow   *self,
                          const char  *a,
                          const char  *b,
                          double       loss,
                          GError     **error)
{
  Edit *e;

  g_return_val_if_fail (APP_IS_WINDOW (self), FALSE);
  g_return_val_if_fail ((a == NULL) == (b == NULL), FALSE);
  e = edit_new (EDIT_LINK_LOSS, a);
  e->value = g_strdup (b);
  e->loss = loss;
  return edit (self, e, error);
}

static void
insert_action (SimScenario       *scenario,
               SimScenarioAction *action)
{
  guint i = scenario->actions->len;

  /* Actions are kept by time, file order within a time: after the last one not later. */
  while (i > 0 && ((SimScenarioAction *) scenario->actions->pdata[i - 1])->at > action->at)
    i--;
  g_ptr_array_insert (scenario->actions, i, action);
}

static SimScenarioAction *
action_new (SimScenarioVerb  verb,
            const Edit      *edit)
{
  SimScenarioAction *action = g_new0 (SimScenarioAction, 1);

  action->verb = verb;
  action->at = edit->at;
  action->device = g_strdup (edit->device);
  action->expires = -1;
  return action;
}

static void
remove_device (SimScenario *scenario,
               const char  *device)
{
  for (guint i = scenario->nodes->len; i > 0; i--)
    if (g_strcmp0 (((SimScenarioNode *) scenario->nodes->pdata[i - 1])->name, device) == 0)
      g_ptr_array_remove_index (scenario->nodes, i - 1);
  for (guint i = scenario->actions->len; i > 0; i--)
    {
      SimScenarioAction *action = scenario->actions->pdata[i - 1];

      if (g_strcmp0 (action->device, device) == 0 || g_strcmp0 (action->link.a, device) == 0 ||
          g_strcmp0 (action->link.b, device) == 0)
        g_ptr_array_remove_index (scenario->actions, i - 1);
    }
}

char *
app_window_scene_to_text (AppWindow *self)
{
  g_autofree char *original = NULL;
  g_autoptr(SimScenario) copy = NULL;
  g_autoptr(GString) notes = g_string_new (NULL);
  g_autofree char *body = NULL;
  g_autoptr(GError) error = NULL;

  g_return_val_if_fail (APP_IS_WINDOW (self), NULL);

  /* Edit a fresh copy: worlds built from self->scenario borrow its actions. */
  original = sim_scenario_to_text (self->scenario);
  copy = sim_scenario_parse_data (original, -1, self->scenario->file, &error);
  if (copy == NULL)
    {
      g_critical ("The canonical scenario text does not parse: %s", error->message);
      return g_steal_pointer (&original);
    }

  for (guint i = 0; i < self->edits->len; i++)
    {
      const Edit *e = self->edits->pdata[i];
      g_autofree char *when = sim_scenario_format_duration (e->at);

      switch (e->kind)
        {
        case EDIT_ADD_PHONE:
          {
            SimScenarioNode *node = g_new0 (SimScenarioNode, 1);

            if (sim_scenario_find_user (copy, e->user) == NULL)
              {
                SimScenarioUser *user = g_new0 (SimScenarioUser, 1);

                user->name = g_strdup (e->user);
                user->password = g_strdup (e->password);
                g_ptr_array_add (copy->users, user);
              }
            node->kind = SIM_SCENARIO_NODE_PHONE;
            node->name = g_strdup (e->device);
            node->ip = g_strdup (e->value);
            node->user = g_strdup (e->user);
            node->expires = -1;
            node->answer_delay = -2;
            g_ptr_array_add (copy->nodes, node);
            if (copy->mode == SIM_MODE_REGISTRAR && sim_scenario_get_server (copy) != NULL)
              insert_action (copy, action_new (SIM_SCENARIO_REGISTER, e));
            if (e->at > 0)
              g_string_append_printf (notes, "# %s was added at %s (here it is there from the "
                                             "start and registers at %s).\n",
                                      e->device, when, when);
          }
          break;
        case EDIT_REMOVE_PHONE:
          remove_device (copy, e->device);
          g_string_append_printf (notes, "# %s was removed at %s (here it is left out).\n",
                                  e->device, when);
          break;
        case EDIT_MODE:
          copy->mode = e->mode;
          copy->has_mode = TRUE;
          if (e->at > 0)
            g_string_append_printf (notes, "# The mode was switched at %s.\n", when);
          break;
        case EDIT_REGISTER:
          insert_action (copy, action_new (SIM_SCENARIO_REGISTER, e));
          break;
        case EDIT_MOVE:
          {
            SimScenarioAction *action = action_new (SIM_SCENARIO_MOVE, e);

            action->value = g_strdup (e->value);
            insert_action (copy, action);
          }
          break;
        case EDIT_POWER:
          insert_action (copy, action_new (e->on ? SIM_SCENARIO_POWER_ON : SIM_SCENARIO_POWER_OFF,
                                           e));
          break;
        case EDIT_PASSWORD:
          {
            SimScenarioAction *action = action_new (SIM_SCENARIO_PASSWORD, e);

            action->value = g_strdup (e->password);
            insert_action (copy, action);
          }
          break;
        case EDIT_LINK_LOSS:
          {
            SimScenarioAction *action = action_new (SIM_SCENARIO_LINK, e);

            g_clear_pointer (&action->device, g_free);
            action->link.a = g_strdup (e->device);
            action->link.b = g_strdup (e->value);
            action->link.fields = SIM_SCENARIO_LINK_LOSS;
            action->link.params.loss = e->loss;
            insert_action (copy, action);
          }
          break;
        default:
          g_assert_not_reached ();
        }
    }

  /* Edits after the planned end would never run. */
  if (copy->has_run && self->edits->len > 0)
    {
      const Edit *last = self->edits->pdata[self->edits->len - 1];

      if (last->at >= copy->run)
        copy->run = last->at + SIM_SEC (60);
    }

  body = sim_scenario_to_text (copy);
  return g_strdup_printf ("# Saved by SIP Lab from %s, with %u edit%s made while it ran.\n%s\n%s",
                          self->path ? self->path : "the demo scene", self->edits->len,
                          self->edits->len == 1 ? "" : "s", notes->str, body);
}

gboolean
app_window_save_scene (AppWindow   *self,
                       const char  *path,
                       GError     **error)
{
  g_autofree char *text = NULL;

  g_return_val_if_fail (APP_IS_WINDOW (self), FALSE);

  text = app_window_scene_to_text (self);
  return g_file_set_contents (path, text, -1, error);
}

gboolean
app_window_export_pcapng (AppWindow   *self,
                          const char  *path,
                          GError     **error)
{
  g_return_val_if_fail (APP_IS_WINDOW (self), FALSE);
  return sim_pcap_write_file (sim_trace_get_events (sim_world_get_trace (self->world)), path,
                              error);
}

/* ------------------------------------------------------------------------------------------ */
/* Look                                                                                       */

void
app_window_set_presentation (AppWindow *self,
                             gboolean   presentation)
{
  g_return_if_fail (APP_IS_WINDOW (self));

  presentation = !!presentation;
  if (self->presentation == presentation)
    return;
  self->presentation = presentation;
  if (presentation)
    gtk_widget_add_css_class (GTK_WIDGET (self), "presentation");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self), "presentation");
  gtk_widget_queue_draw (GTK_WIDGET (self->network));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PRESENTATION]);
}

gboolean
app_window_get_presentation (AppWindow *self)
{
  g_return_val_if_fail (APP_IS_WINDOW (self), FALSE);
  return self->presentation;
}

static GtkCssProvider *
dark_provider (void)
{
  static GtkCssProvider *provider;

  if (provider == NULL)
    {
      provider = gtk_css_provider_new ();
      gtk_css_provider_load_from_resource (provider, "/org/siplab/SipLab/style-dark.css");
    }
  return provider;
}

void
app_window_set_dark (AppWindow *self,
                     gboolean   dark)
{
  GdkDisplay *display;

  g_return_if_fail (APP_IS_WINDOW (self));

  dark = !!dark;
  if (self->dark == dark)
    return;
  self->dark = dark;
  display = gtk_widget_get_display (GTK_WIDGET (self));
  /* The theme's own dark variant, then our colours (@define-color) redefined on top. */
  g_object_set (gtk_settings_get_for_display (display),
                "gtk-application-prefer-dark-theme", dark, NULL);
  if (dark)
    gtk_style_context_add_provider_for_display (display, GTK_STYLE_PROVIDER (dark_provider ()),
                                                GTK_STYLE_PROVIDER_PRIORITY_APPLICATION + 1);
  else
    gtk_style_context_remove_provider_for_display (display,
                                                   GTK_STYLE_PROVIDER (dark_provider ()));
  gtk_widget_queue_draw (GTK_WIDGET (self->network));
  gtk_widget_queue_draw (GTK_WIDGET (self->ladder));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DARK]);
}

gboolean
app_window_get_dark (AppWindow *self)
{
  g_return_val_if_fail (APP_IS_WINDOW (self), FALSE);
  return self->dark;
}

/* ------------------------------------------------------------------------------------------ */
/* Actions                                                                                    */

static void
show_error (AppWindow  *self,
            const char *title,
            const char *message)
{
  GtkWidget *dialog = gtk_message_dialog_new (GTK_WINDOW (self),
                                              GTK_DIALOG_MODAL | GTK_DIALOG_DESTROY_WITH_PARENT,
                                              GTK_MESSAGE_ERROR, GTK_BUTTONS_CLOSE, "%s", title);

  gtk_message_dialog_format_secondary_text (GTK_MESSAGE_DIALOG (dialog), "%s", message);
  g_signal_connect (dialog, "response", G_CALLBACK (gtk_window_destroy), NULL);
  gtk_window_present (GTK_WINDOW (dialog));
}

typedef enum {
  CHOOSE_OPEN,
  CHOOSE_SAVE_SCENE,
  CHOOSE_LADDER_SVG,
  CHOOSE_LADDER_PNG,
  CHOOSE_PCAPNG,
} ChooseKind;

static void
chooser_response_cb (AppWindow            *self,
                     int                   response,
                     GtkFileChooserNative *chooser)
{
  ChooseKind kind = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (chooser), "siplab-kind"));

  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser));
      g_autofree char *path = g_file_get_path (file);
      g_autoptr(GError) error = NULL;
      gboolean ok = TRUE;
      const char *title = "Cannot save";

      if (path == NULL)
        ;
      else if (kind == CHOOSE_OPEN)
        {
          title = "Cannot open the scenario";
          ok = app_window_open (self, path, &error);
        }
      else if (kind == CHOOSE_SAVE_SCENE)
        ok = app_window_save_scene (self, path, &error);
      else if (kind == CHOOSE_LADDER_SVG)
        ok = app_ladder_view_export (self->ladder, path, APP_LADDER_FORMAT_SVG, &error);
      else if (kind == CHOOSE_LADDER_PNG)
        ok = app_ladder_view_export (self->ladder, path, APP_LADDER_FORMAT_PNG, &error);
      else if (kind == CHOOSE_PCAPNG)
        ok = app_window_export_pcapng (self, path, &error);
      if (!ok)
        show_error (self, title, error->message);
    }
  g_clear_object (&self->chooser);
}

static void
choose_file (AppWindow  *self,
             ChooseKind  kind)
{
  static const struct {
    const char *title;
    const char *accept;
    const char *filter_name;
    const char *pattern;
    const char *suggested;
  } kinds[] = {
    [CHOOSE_OPEN] = { "Open Scenario or Lesson", "_Open", "Scenarios and lessons", "*.scn",
                      NULL },
    [CHOOSE_SAVE_SCENE] = { "Save Scene", "_Save", "Scenarios", "*.scn", "scene.scn" },
    [CHOOSE_LADDER_SVG] = { "Export Ladder as SVG", "_Export", "SVG images", "*.svg",
                            "ladder.svg" },
    [CHOOSE_LADDER_PNG] = { "Export Ladder as PNG", "_Export", "PNG images", "*.png",
                            "ladder.png" },
    [CHOOSE_PCAPNG] = { "Export Capture", "_Export", "pcapng captures", "*.pcapng",
                        "siplab.pcapng" },
  };
  g_autoptr(GtkFileFilter) filter = gtk_file_filter_new ();
  GtkFileChooserAction action = kind == CHOOSE_OPEN ? GTK_FILE_CHOOSER_ACTION_OPEN
                                                    : GTK_FILE_CHOOSER_ACTION_SAVE;

  if (self->chooser != NULL)
    return;
  self->chooser = gtk_file_chooser_native_new (kinds[kind].title, GTK_WINDOW (self), action,
                                               kinds[kind].accept, "_Cancel");
  g_object_set_data (G_OBJECT (self->chooser), "siplab-kind", GINT_TO_POINTER (kind));
  gtk_file_filter_set_name (filter, kinds[kind].filter_name);
  gtk_file_filter_add_pattern (filter, kinds[kind].pattern);
  if (kind == CHOOSE_OPEN)
    {
      gtk_file_filter_add_pattern (filter, "*.txt");
      gtk_file_filter_add_pattern (filter, "*.scenario");
      gtk_file_filter_add_pattern (filter, "*.lesson");
    }
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (self->chooser), filter);
  if (kinds[kind].suggested != NULL)
    gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (self->chooser), kinds[kind].suggested);
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
file_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  AppWindow *self = APP_WINDOW (widget);

  if (g_str_equal (action_name, "win.open"))
    choose_file (self, CHOOSE_OPEN);
  else if (g_str_equal (action_name, "win.save-scene"))
    choose_file (self, CHOOSE_SAVE_SCENE);
  else if (g_str_equal (action_name, "win.export-svg"))
    choose_file (self, CHOOSE_LADDER_SVG);
  else if (g_str_equal (action_name, "win.export-png"))
    choose_file (self, CHOOSE_LADDER_PNG);
  else if (g_str_equal (action_name, "win.export-pcapng"))
    choose_file (self, CHOOSE_PCAPNG);
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
step_back_action (GtkWidget  *widget,
                  const char *action_name,
                  GVariant   *parameter)
{
  app_window_step_back (APP_WINDOW (widget));
}

static void
restart_action (GtkWidget  *widget,
                const char *action_name,
                GVariant   *parameter)
{
  AppWindow *self = APP_WINDOW (widget);
  g_autoptr(GError) error = NULL;

  if (!app_window_restart (self, &error))
    show_error (self, "Cannot restart the session", error->message);
}

static void
speed_action (GtkWidget  *widget,
              const char *action_name,
              GVariant   *parameter)
{
  AppWindow *self = APP_WINDOW (widget);
  guint i = gtk_drop_down_get_selected (self->speed_dropdown);

  if (g_str_equal (action_name, "win.speed-up") && i + 1 < G_N_ELEMENTS (speeds))
    app_window_set_speed (self, speeds[i + 1]);
  else if (g_str_equal (action_name, "win.speed-down") && i > 0 && i < G_N_ELEMENTS (speeds))
    app_window_set_speed (self, speeds[i - 1]);
}

/*
 * Playback keys work wherever the focus is (a focused button would otherwise take Space), but
 * not while someone types into an entry of the scene editor.
 */
static gboolean
shortcut_cb (GtkWidget *widget,
             GVariant  *args,
             gpointer   user_data)
{
  GtkWidget *focus = gtk_root_get_focus (GTK_ROOT (widget));

  if (focus != NULL && GTK_IS_EDITABLE (focus))
    return FALSE;
  return gtk_widget_activate_action (widget, user_data, NULL);
}

static void
add_key (GtkShortcutController *controller,
         guint                  keyval,
         const char            *action)
{
  gtk_shortcut_controller_add_shortcut (controller,
    gtk_shortcut_new (gtk_keyval_trigger_new (keyval, 0),
                      gtk_callback_action_new (shortcut_cb, (gpointer) action, NULL)));
}

/* ------------------------------------------------------------------------------------------ */
/* GObject                                                                                    */

static void
app_window_get_property (GObject    *object,
                         guint       prop_id,
                         GValue     *value,
                         GParamSpec *pspec)
{
  AppWindow *self = APP_WINDOW (object);

  switch (prop_id)
    {
    case PROP_PRESENTATION:
      g_value_set_boolean (value, self->presentation);
      break;
    case PROP_DARK:
      g_value_set_boolean (value, self->dark);
      break;
    case PROP_COLLAPSE_REFRESHES:
      /* Asked for by the action while the template is being torn down, too. */
      g_value_set_boolean (value, self->ladder != NULL &&
                                  app_ladder_view_get_collapse_refreshes (self->ladder));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
app_window_set_property (GObject      *object,
                         guint         prop_id,
                         const GValue *value,
                         GParamSpec   *pspec)
{
  AppWindow *self = APP_WINDOW (object);

  switch (prop_id)
    {
    case PROP_PRESENTATION:
      app_window_set_presentation (self, g_value_get_boolean (value));
      break;
    case PROP_DARK:
      app_window_set_dark (self, g_value_get_boolean (value));
      break;
    case PROP_COLLAPSE_REFRESHES:
      if (app_ladder_view_get_collapse_refreshes (self->ladder) != g_value_get_boolean (value))
        {
          app_ladder_view_set_collapse_refreshes (self->ladder, g_value_get_boolean (value));
          self->follow_newest = TRUE;
          refresh_views (self);
          g_object_notify_by_pspec (object, pspec);
        }
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
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
  g_clear_handle_id (&self->live_refresh_id, g_source_remove);
  if (self->live && self->world != NULL && sim_world_get_transport (self->world) != NULL)
    sim_socket_transport_close (sim_world_get_transport (self->world));
  self->live = FALSE;
  gtk_widget_dispose_template (GTK_WIDGET (self), APP_TYPE_WINDOW);
  g_clear_object (&self->world);
  G_OBJECT_CLASS (app_window_parent_class)->dispose (object);
}

static void
app_window_finalize (GObject *object)
{
  AppWindow *self = APP_WINDOW (object);

  g_free (self->path);
  g_clear_pointer (&self->scenario, sim_scenario_unref);
  g_clear_pointer (&self->edits, g_ptr_array_unref);
  G_OBJECT_CLASS (app_window_parent_class)->finalize (object);
}

static void
app_window_class_init (AppWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = app_window_dispose;
  object_class->finalize = app_window_finalize;
  object_class->get_property = app_window_get_property;
  object_class->set_property = app_window_set_property;

  properties[PROP_PRESENTATION] =
    g_param_spec_boolean ("presentation", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_DARK] =
    g_param_spec_boolean ("dark", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_COLLAPSE_REFRESHES] =
    g_param_spec_boolean ("collapse-refreshes", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  g_type_ensure (APP_TYPE_NETWORK_VIEW);
  g_type_ensure (APP_TYPE_LADDER_VIEW);
  g_type_ensure (APP_TYPE_INSPECTOR);
  g_type_ensure (APP_TYPE_LOCATION_VIEW);
  g_type_ensure (APP_TYPE_DIGEST_VIEW);
  g_type_ensure (APP_TYPE_TIMERS_VIEW);
  g_type_ensure (APP_TYPE_SCENE_EDITOR);

  gtk_widget_class_set_template_from_resource (widget_class, "/org/siplab/SipLab/app-window.ui");
  gtk_widget_class_bind_template_child (widget_class, AppWindow, play_button);
  gtk_widget_class_bind_template_child (widget_class, AppWindow, clock_label);
  gtk_widget_class_bind_template_child (widget_class, AppWindow, subtitle);
  gtk_widget_class_bind_template_child (widget_class, AppWindow, speed_dropdown);
  gtk_widget_class_bind_template_child (widget_class, AppWindow, panes);
  gtk_widget_class_bind_template_child (widget_class, AppWindow, left_paned);
  gtk_widget_class_bind_template_child (widget_class, AppWindow, network);
  gtk_widget_class_bind_template_child (widget_class, AppWindow, location);
  gtk_widget_class_bind_template_child (widget_class, AppWindow, digest);
  gtk_widget_class_bind_template_child (widget_class, AppWindow, timers);
  gtk_widget_class_bind_template_child (widget_class, AppWindow, ladder);
  gtk_widget_class_bind_template_child (widget_class, AppWindow, inspector);
  gtk_widget_class_bind_template_child (widget_class, AppWindow, scene_editor);

  gtk_widget_class_install_action (widget_class, "win.open", NULL, file_action);
  gtk_widget_class_install_action (widget_class, "win.save-scene", NULL, file_action);
  gtk_widget_class_install_action (widget_class, "win.export-svg", NULL, file_action);
  gtk_widget_class_install_action (widget_class, "win.export-png", NULL, file_action);
  gtk_widget_class_install_action (widget_class, "win.export-pcapng", NULL, file_action);
  gtk_widget_class_install_action (widget_class, "win.listen", NULL, listen_action);
  gtk_widget_class_install_action (widget_class, "win.stop-listening", NULL, listen_action);
  gtk_widget_class_install_action (widget_class, "win.play-pause", NULL, play_pause_action);
  gtk_widget_class_install_action (widget_class, "win.step", NULL, step_action);
  gtk_widget_class_install_action (widget_class, "win.step-back", NULL, step_back_action);
  gtk_widget_class_install_action (widget_class, "win.restart", NULL, restart_action);
  gtk_widget_class_install_action (widget_class, "win.speed-up", NULL, speed_action);
  gtk_widget_class_install_action (widget_class, "win.speed-down", NULL, speed_action);
  gtk_widget_class_install_property_action (widget_class, "win.presentation", "presentation");
  gtk_widget_class_install_property_action (widget_class, "win.dark", "dark");
  gtk_widget_class_install_property_action (widget_class, "win.collapse-refreshes",
                                            "collapse-refreshes");
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_o, GDK_CONTROL_MASK, "win.open", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_s, GDK_CONTROL_MASK,
                                       "win.save-scene", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_F11, 0, "win.presentation", NULL);
}

static void
app_window_init (AppWindow *self)
{
  GtkEventController *shortcuts;
  GtkShortcutController *keys;

  gtk_widget_init_template (GTK_WIDGET (self));

  self->edits = g_ptr_array_new_with_free_func (edit_free);
  self->speed = speeds[DEFAULT_SPEED_INDEX];
  gtk_drop_down_set_selected (self->speed_dropdown, DEFAULT_SPEED_INDEX);
  g_signal_connect_object (self->speed_dropdown, "notify::selected",
                           G_CALLBACK (speed_changed_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->ladder, "packet-selected", G_CALLBACK (packet_selected_cb), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->panes, "notify::visible-child", G_CALLBACK (pane_changed_cb),
                           self, G_CONNECT_SWAPPED);
  app_scene_editor_set_window (self->scene_editor, self);
  self->counters = APP_COUNTERS_VIEW (app_counters_view_new ());
  app_window_add_pane (self, GTK_WIDGET (self->counters), "counters", "Counters");
  update_playback_actions (self);

  shortcuts = gtk_shortcut_controller_new ();
  keys = GTK_SHORTCUT_CONTROLLER (shortcuts);
  gtk_event_controller_set_propagation_phase (shortcuts, GTK_PHASE_CAPTURE);
  add_key (keys, GDK_KEY_space, "win.play-pause");
  add_key (keys, GDK_KEY_Right, "win.step");
  add_key (keys, GDK_KEY_Left, "win.step-back");
  add_key (keys, GDK_KEY_Home, "win.restart");
  add_key (keys, GDK_KEY_plus, "win.speed-up");
  add_key (keys, GDK_KEY_equal, "win.speed-up");
  add_key (keys, GDK_KEY_KP_Add, "win.speed-up");
  add_key (keys, GDK_KEY_minus, "win.speed-down");
  add_key (keys, GDK_KEY_KP_Subtract, "win.speed-down");
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

AppDigestView *
app_window_get_digest (AppWindow *self)
{
  return self->digest;
}

AppTimersView *
app_window_get_timers (AppWindow *self)
{
  return self->timers;
}

AppCountersView *
app_window_get_counters (AppWindow *self)
{
  return self->counters;
}
