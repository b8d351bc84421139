/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "app-window.h"
#include "sim-i18n.h"

#include <string.h>

#include "sim-pcap.h"

#include "app-listen-dialog.h"
#include "app-watch-dialog.h"
#include "sim-capture-world.h"
#include "app-scene-editor.h"
#include "app-ticker.h"

/*
 * The main window is a layout: the views of one SimDocument's world, the lesson column, the
 * header bar's playback controls.  It moves the world's clock (a frame-clock tick while
 * playing, one event per Step) and follows the document: a new world goes to every view, a
 * changed one is redrawn, a lesson shows its column, live mode turns playback off.  What a
 * session is (the scene, its edits, restart, step back, saving, live) is the document's.
 */

/* Slow motion shows a 20 ms LAN hop; fast-forward shows an hour of refreshes in a second. */
static const double speeds[] = { 0.01, 0.03, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 100, 300, 1000,
                                 3600 };
#define DEFAULT_SPEED_INDEX 5

/* A stalled frame (a window drag, a slow machine) must not jump the session ahead. */
#define MAX_FRAME_STEP (G_USEC_PER_SEC / 10)

/*
 * Frame pacing: a frame runs the session for at most a budget of wall time, so a burst of
 * events (fifty phones refreshing at once) never holds a frame; the virtual clock catches up
 * over the following frames.  The budget is a share of the time since the previous frame,
 * at least FRAME_SIM_BUDGET_US (4 ms leaves a 16.7 ms frame room for layout and painting):
 * when painting a big scene makes frames slow anyway, the session gets the same share of a
 * longer frame instead of falling ever further behind (bench-gui --phones 200 played at a
 * tenth of its speed with a fixed 4 ms), up to FRAME_SIM_BUDGET_MAX_US: on a loaded machine
 * frames are slow from waiting for the CPU, and a budget growing with them would make them
 * slower still.
 */
#define FRAME_SIM_BUDGET_US 4000
#define FRAME_SIM_BUDGET_MAX_US 6000
#define FRAME_SIM_SHARE 0.3

/*
 * How far (in wall time at the current speed) play may fall behind before the session slows
 * down instead: a scene too busy to run at the speed asked for plays as fast as it can, and
 * Pause stops it at once rather than after a backlog.
 */
#define MAX_PLAY_LAG (G_USEC_PER_SEC / 2)

/*
 * While playing, the tables (location, timers) and the inspector follow at this rate rather
 * than every frame: re-measuring a grid of fifty bindings or a wrapped explanation costs more
 * than a frame has.
 */
#define TABLE_REFRESH_INTERVAL (G_USEC_PER_SEC / 5)
#define TABLE_REBUILD_INTERVAL G_USEC_PER_SEC

/*
 * While playing, the inspector follows the newest packet once a second: showing a packet
 * (its wrapped text, the "what changed" comparison) costs about 20 ms of the frame that
 * follows, and at the tables' 5 Hz that was the slowest twentieth of frames (bench-gui).
 */
#define INSPECTOR_FOLLOW_INTERVAL G_USEC_PER_SEC

/*
 * While playing, the scrubber's handle moves at the tables' pace, not every frame: a new value
 * has the range allocated again, and an allocation anywhere reaches the window, which GTK then
 * sizes again (a whole-window measure and, on X11, round trips to the server for the monitor
 * and its work area; bench-gui counts them).  Moving 220 pixels over a run of minutes, the
 * handle does not visibly jump at 5 Hz.
 */
#define SCRUBBER_REFRESH_INTERVAL TABLE_REFRESH_INTERVAL

/*
 * Whether @now is in a later slot of @interval than @last: the paced updates (tables,
 * scrubber, inspector, and the ladder's scroll to its newest row) fall due in the same frames,
 * the first of each slot of the monotonic clock, so that at most one frame in a slot lays the
 * window out again instead of each update adding its own.
 */
static gboolean
due (gint64 now,
     gint64 last,
     gint64 interval)
{
  return now / interval != last / interval;
}

/*
 * While playing, a slot's paced work is spread over the frames that follow its first instead
 * of all landing in one: the scrubber and the ladder's scroll and growth go in the slot's first
 * frame, then one view per frame in this order.  Together they cost 10-15 ms, which with the
 * session's slice made the slot frames the slowest twentieth (bench-gui's update phase p95);
 * one at a time each fits in a frame.  A slot lasts 12 frames at 60 Hz, so the last of them is
 * still shown within the slot.
 */
enum {
  PACED_LOCATION,
  PACED_TIMERS,
  PACED_COUNTERS,
  PACED_INSPECTOR,
  N_PACED_STAGES
};

/*
 * The session's slice in a frame that also carries a paced view's update: that update takes
 * the rest of the frame's few milliseconds for the update phase.
 */
#define FRAME_SIM_BUDGET_STAGED_US 2000

/* While live the clock runs by itself; the views follow at 10 Hz, the tables at their pace. */
#define LIVE_REFRESH_MS 100

/*
 * While live the registrar's sockets are read below the redraw priority: under a flood
 * (sipp at 1,000 registrations a second) a socket is always readable, and at the default
 * priority no frame would ever be drawn.  Datagrams wait in the kernel's buffer for the frame.
 */
#define LIVE_SOCKET_PRIORITY (GDK_PRIORITY_REDRAW + 10)

/*
 * Dragging the scrubber asks for many times; the document goes to the last one asked for
 * (a replay world from the history, or a re-run before an edit) after the pointer rests this
 * long, not once per motion event.
 */
#define SEEK_DELAY_MS 120
/* Page Up / Page Down move this fraction of the scrubber's range. */
#define SEEK_KEY_FRACTION 20

/*
 * How the window shares its width and height among the views (fractions of the window, see
 * fit_panes()): the lesson column, then the network column of what is left (less with a
 * lesson, so the ladder keeps room for its lanes), the network's share of its column's height
 * and the ladder's share of the right column's.
 */
#define LESSON_FRACTION         0.24
#define LESSON_MIN_WIDTH        300
#define LESSON_MAX_WIDTH        460
#define NETWORK_FRACTION        0.42
#define NETWORK_LESSON_FRACTION 0.36
#define NETWORK_HEIGHT_FRACTION 0.5
#define LADDER_HEIGHT_FRACTION  0.55

struct _AppWindow {
  GtkApplicationWindow parent_instance;

  GtkButton *play_button;
  AppTicker *clock_label;   /* a ticker: a label's new text every frame re-measured the window */
  GtkScale *scrubber;
  GtkLabel *subtitle;
  GtkDropDown *speed_dropdown;
  GtkPaned *views_paned;
  GtkStack *panes;
  GtkPaned *left_paned;
  GtkPaned *outer_paned;
  GtkPaned *right_paned;
  int fitted_width;         /* the window size the panes were shared out for */
  int fitted_height;
  int network_height;       /* the split chosen while a short pane was shown */
  AppLessonPane *lesson_pane;
  AppNetworkView *network;
  AppLocationView *location;
  AppDigestView *digest;
  AppTimersView *timers;
  AppCountersView *counters;
  AppLadderView *ladder;
  AppInspector *inspector;
  AppSceneEditor *scene_editor;

  SimDocument *document;
  double speed;
  guint tick_id;
  gint64 last_frame_time;
  SimTime play_target;      /* the virtual time play has to reach; the clock catches up to it */
  SimTime play_reached;     /* where the last frame left the clock */
  gint64 last_table_refresh;
  gint64 last_scrubber_refresh;
  gint64 last_table_rebuild;
  gint64 last_inspector_follow;
  guint next_stage;         /* the paced view that follows next, or N_PACED_STAGES when none */
  gboolean follow_newest;   /* the inspector shows the newest packet until the user picks one */
  gboolean selecting;
  gboolean presentation;
  gboolean dark;
  gboolean high_contrast;   /* asked for; the desktop's theme may turn it on too */
  GtkFileChooserNative *chooser;
  guint live_refresh_id;
  guint seek_id;            /* a seek waiting for the scrubber to rest */
  SimTime seek_target;
  gboolean moving_scrubber; /* the window sets its value: not the user seeking */
};

enum {
  PROP_0,
  PROP_DOCUMENT,
  PROP_PRESENTATION,
  PROP_DARK,
  PROP_COLLAPSE_REFRESHES,
  PROP_HIGH_CONTRAST,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (AppWindow, app_window, GTK_TYPE_APPLICATION_WINDOW)

static SimWorld *
world (AppWindow *self)
{
  return sim_document_get_world (self->document);
}

/* ------------------------------------------------------------------------------------------ */
/* Views                                                                                      */

/* The scrubber spans the scene's planned length and whatever was recorded beyond it. */
static void
update_scrubber (AppWindow *self)
{
  GtkAdjustment *adjustment = gtk_range_get_adjustment (GTK_RANGE (self->scrubber));
  SimTime now = sim_world_now (world (self));
  SimTime end = MAX (MAX (sim_document_get_run_length (self->document), now),
                     sim_document_get_frontier (self->document));
  gboolean live = sim_document_get_live (self->document);

  self->moving_scrubber = TRUE;
  gtk_adjustment_set_upper (adjustment, MAX (SIM_TIME_TO_SECONDS (end), 1.0));
  gtk_adjustment_set_page_increment (adjustment, gtk_adjustment_get_upper (adjustment) /
                                                 SEEK_KEY_FRACTION);
  /* A seek waiting for the pointer to rest keeps the handle where the user put it. */
  if (self->seek_id == 0)
    gtk_adjustment_set_value (adjustment, SIM_TIME_TO_SECONDS (now));
  self->moving_scrubber = FALSE;
  gtk_widget_set_sensitive (GTK_WIDGET (self->scrubber),
                            !live && sim_document_get_history (self->document) != NULL);
}

/*
 * The clock ticker is as wide as its text with every digit a zero: digits are equally wide in
 * the fonts GTK uses, so it is measured again only when the text's shape changes (another
 * digit, another mode), not each time the time does.
 */
static void
set_clock_text (AppWindow  *self,
                const char *text)
{
  g_autofree char *shape = g_strdup (text);

  for (char *p = shape; *p != '\0'; p++)
    if (g_ascii_isdigit (*p))
      *p = '0';
  app_ticker_set_width_template (self->clock_label, shape);
  app_ticker_set_text (self->clock_label, text);
}

/*
 * One of the views that follow a playing session at the tables' pace (see N_PACED_STAGES).
 * Returns whether it had anything to show: a hidden pane costs nothing, and gives its frame to
 * the next view.
 */
static gboolean
refresh_stage (AppWindow *self,
               guint      stage,
               gboolean   animating,
               gint64     now)
{
  switch (stage)
    {
    case PACED_LOCATION:
      /* A new table (a binding came or went) at most once a second while playing. */
      {
        gboolean rebuild = app_location_view_needs_rebuild (self->location);

        if (!animating || !rebuild || due (now, self->last_table_rebuild, TABLE_REBUILD_INTERVAL))
          {
            if (rebuild)
              self->last_table_rebuild = now;
            app_location_view_update (self->location);
          }
      }
      return gtk_widget_get_mapped (GTK_WIDGET (self->location));
    case PACED_TIMERS:
      app_timers_view_update (self->timers);
      return gtk_widget_get_mapped (GTK_WIDGET (self->timers));
    case PACED_COUNTERS:
      app_counters_view_update (self->counters);
      return gtk_widget_get_mapped (GTK_WIDGET (self->counters));
    case PACED_INSPECTOR:
      /* The inspector follows the newest packet at its own, slower pace: its text is costly. */
      if (self->follow_newest &&
          (!animating || due (now, self->last_inspector_follow, INSPECTOR_FOLLOW_INTERVAL)))
        {
          guint n = app_ladder_view_get_n_rows (self->ladder);

          self->last_inspector_follow = now;
          if (n > 0 && app_ladder_view_get_selected (self->ladder) != (int) n - 1)
            {
              self->selecting = TRUE;
              app_ladder_view_select_row (self->ladder, n - 1);
              self->selecting = FALSE;
              return TRUE;
            }
        }
      return FALSE;
    default:
      g_assert_not_reached ();
    }
  return FALSE;
}

static void
refresh (AppWindow *self,
         gboolean   animating)
{
  char text[160];
  gint64 now = g_get_monotonic_time ();

  if (world (self) == NULL)
    return;
  if (sim_document_get_live (self->document))
    g_snprintf (text, sizeof text, _("● live  %.1f s"),
                SIM_TIME_TO_SECONDS (sim_world_now (world (self))));
  else if (sim_document_get_replaying (self->document))
    /* A replay world is shown from the history: an edit here needs the session re-run. */
    g_snprintf (text, sizeof text, _("t = %.3f s · replay of the recorded session (to %.0f s) · "
                                     "an edit re-runs to here"),
                SIM_TIME_TO_SECONDS (sim_world_now (world (self))),
                SIM_TIME_TO_SECONDS (sim_document_get_frontier (self->document)));
  else if (sim_world_now (world (self)) < sim_document_get_frontier (self->document))
    /* Back in what was recorded: saying so, since an edit here re-runs what follows. */
    g_snprintf (text, sizeof text, _("t = %.3f s · recorded to %.0f s"),
                SIM_TIME_TO_SECONDS (sim_world_now (world (self))),
                SIM_TIME_TO_SECONDS (sim_document_get_frontier (self->document)));
  else
    g_snprintf (text, sizeof text, "t = %.3f s", SIM_TIME_TO_SECONDS (sim_world_now (world (self))));
  set_clock_text (self, text);
  if (!animating || due (now, self->last_scrubber_refresh, SCRUBBER_REFRESH_INTERVAL))
    {
      self->last_scrubber_refresh = now;
      update_scrubber (self);
      /* The ladder's scroll to its newest row and its growth, laid out in this frame too. */
      app_ladder_view_catch_up (self->ladder);
      /* A screen reader hears the clock at this pace too, not every frame. */
      gtk_accessible_update_property (GTK_ACCESSIBLE (self->clock_label),
                                      GTK_ACCESSIBLE_PROPERTY_LABEL, text, -1);
    }
  gtk_widget_queue_draw (GTK_WIDGET (self->network));
  if (!animating)
    {
      for (guint stage = 0; stage < N_PACED_STAGES; stage++)
        refresh_stage (self, stage, FALSE, now);
      self->next_stage = N_PACED_STAGES;
      return;
    }
  /*
   * A new slot starts the views over from the first, unless some are still to come (frames
   * slower than a twelfth of a slot): those go on where they were.  The slot's first frame has
   * the scrubber; while live, refreshes come at LIVE_REFRESH_MS, not every frame, so one also
   * carries a view.
   */
  if (due (now, self->last_table_refresh, TABLE_REFRESH_INTERVAL))
    {
      self->last_table_refresh = now;
      if (self->next_stage >= N_PACED_STAGES)
        self->next_stage = 0;
      if (!sim_document_get_live (self->document))
        return;
    }
  while (self->next_stage < N_PACED_STAGES && !refresh_stage (self, self->next_stage++, TRUE, now))
    ;
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
  /* In a crowd too small to read, the sender's name is shown large (keyboard included). */
  app_network_view_set_spotlight (self->network, event != NULL ? event->from : NULL);
  app_digest_view_set_packet (self->digest, event);
}

/* ------------------------------------------------------------------------------------------ */
/* Playback                                                                                   */

static void
show_play_icon (AppWindow *self)
{
  gtk_button_set_icon_name (self->play_button,
                            self->tick_id != 0 ? "media-playback-pause-symbolic"
                                               : "media-playback-start-symbolic");
  /* An icon says nothing to a screen reader: the label follows it. */
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->play_button),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  self->tick_id != 0 ? "Pause" : "Play", -1);
}

/*
 * Runs the world's events up to @target for at most @budget µs of wall time and
 * returns the virtual time reached: @target when everything due by then ran, else the time
 * of the last event run (the rest waits for the next frame).
 */
static SimTime
run_slice (AppWindow *self,
           SimTime    target,
           gint64     budget)
{
  SimClock *clock = sim_world_get_clock (world (self));
  gint64 give_up = g_get_monotonic_time () + budget;
  SimTime next;

  while (sim_clock_next_deadline (clock, &next) && next <= target)
    {
      sim_clock_step (clock);
      if (g_get_monotonic_time () >= give_up)
        return sim_world_now (world (self));
    }
  return target;
}

/* Whether this frame's refresh will update a paced view (the scrubber's slot, or one stage). */
static gboolean
paced_work_due (AppWindow *self)
{
  gint64 now = g_get_monotonic_time ();

  return self->next_stage < N_PACED_STAGES ||
         due (now, self->last_table_refresh, TABLE_REFRESH_INTERVAL);
}

static gboolean
tick_cb (GtkWidget     *widget,
         GdkFrameClock *frame_clock,
         gpointer       user_data)
{
  AppWindow *self = APP_WINDOW (widget);
  gint64 frame_time = gdk_frame_clock_get_frame_time (frame_clock);
  SimTime run_length = sim_document_get_run_length (self->document);
  SimTime now = sim_world_now (world (self));
  SimTime reached;
  gint64 elapsed;

  /* First frame, or a seek, a step or another world while playing: play goes on from now. */
  if (self->last_frame_time == 0 || now != self->play_reached)
    self->play_target = now;
  if (self->last_frame_time == 0)
    self->last_frame_time = frame_time;
  elapsed = MIN (frame_time - self->last_frame_time, MAX_FRAME_STEP);
  self->last_frame_time = frame_time;

  self->play_target += (SimTime) (MAX (elapsed, 0) * self->speed);
  self->play_target = MIN (self->play_target, now + (SimTime) (MAX_PLAY_LAG * self->speed));
  /* The scenario's planned length is a natural place to stop; Play goes on from there. */
  if (now < run_length)
    self->play_target = MIN (self->play_target, run_length);
  if (self->play_target <= now)
    return G_SOURCE_CONTINUE;

  reached = run_slice (self, self->play_target,
                       paced_work_due (self)
                       ? FRAME_SIM_BUDGET_STAGED_US
                       : CLAMP ((gint64) (elapsed * FRAME_SIM_SHARE), FRAME_SIM_BUDGET_US,
                                FRAME_SIM_BUDGET_MAX_US));
  /* The document says "changed": the views follow at the pace of a playing session. */
  sim_document_run_until (self->document, reached);
  self->play_reached = sim_world_now (world (self));
  if (now < run_length && reached >= run_length)
    {
      /* Returning G_SOURCE_REMOVE removes the tick: forget its id, then show Play. */
      self->tick_id = 0;
      show_play_icon (self);
      /* Stopped as by Pause: the paced views catch up with what played. */
      app_ladder_view_set_paced (self->ladder, FALSE);
      refresh_views (self);
      return G_SOURCE_REMOVE;
    }
  return G_SOURCE_CONTINUE;
}

void
app_window_set_playing (AppWindow *self,
                        gboolean   playing)
{
  g_return_if_fail (APP_IS_WINDOW (self));

  /* A live world runs on the wall clock by itself. */
  if (sim_document_get_live (self->document))
    playing = FALSE;
  if (playing == (self->tick_id != 0))
    return;
  app_ladder_view_set_paced (self->ladder, playing);
  if (playing)
    {
      self->last_frame_time = 0;
      self->tick_id = gtk_widget_add_tick_callback (GTK_WIDGET (self), tick_cb, NULL, NULL);
    }
  else
    {
      gtk_widget_remove_tick_callback (GTK_WIDGET (self), self->tick_id);
      self->tick_id = 0;
      /* Paused: the tables and the inspector catch up with what played. */
      refresh_views (self);
    }
  show_play_icon (self);
}

gboolean
app_window_get_playing (AppWindow *self)
{
  g_return_val_if_fail (APP_IS_WINDOW (self), FALSE);
  return self->tick_id != 0;
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
/* Following the document                                                                     */

/* Playback, restart and step back as the document allows them: live or in a lesson. */
static void
update_playback_actions (AppWindow *self)
{
  static const char *playback[] = { "win.play-pause", "win.step", "win.speed-up",
                                    "win.speed-down" };
  gboolean live = sim_document_get_live (self->document);
  gboolean lesson = sim_document_get_lesson (self->document) != NULL;

  for (guint i = 0; i < G_N_ELEMENTS (playback); i++)
    gtk_widget_action_set_enabled (GTK_WIDGET (self), playback[i], !live);
  /* Rebuilding the scene would leave a lesson behind: its pane has Back instead. */
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.step-back", !live && !lesson);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.seek-back", !live && !lesson);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.seek-forward", !live && !lesson);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.restart", !lesson);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.stop-listening", live);
  gtk_widget_set_sensitive (GTK_WIDGET (self->speed_dropdown), !live);
}

/* A new world (opened, restarted, stepped back, live): every view shows it from the start. */
static void
world_changed_cb (AppWindow *self)
{
  SimWorld *w = world (self);

  app_window_set_playing (self, FALSE);
  self->follow_newest = TRUE;
  app_inspector_set_event (self->inspector, NULL);
  app_network_view_set_world (self->network, w);
  app_ladder_view_set_world (self->ladder, w);
  app_inspector_set_trace (self->inspector, w != NULL ? sim_world_get_trace (w) : NULL);
  app_location_view_set_world (self->location, w);
  app_digest_view_set_world (self->digest, w);
  app_timers_view_set_world (self->timers, w);
  app_counters_view_set_history (self->counters, sim_document_get_history (self->document));
  app_counters_view_set_world (self->counters, w);
  refresh_views (self);
}

/* The world moved on or was edited: while playing, the tables follow at their pace. */
static void
document_changed_cb (AppWindow *self)
{
  refresh (self, self->tick_id != 0);
}

static gboolean
live_refresh_cb (gpointer user_data)
{
  refresh (user_data, TRUE);
  return G_SOURCE_CONTINUE;
}

static void
live_changed_cb (AppWindow *self)
{
  gboolean live = sim_document_get_live (self->document);

  app_window_set_playing (self, FALSE);
  g_clear_handle_id (&self->live_refresh_id, g_source_remove);
  g_clear_handle_id (&self->seek_id, g_source_remove);
  if (live)
    self->live_refresh_id = g_timeout_add (LIVE_REFRESH_MS, live_refresh_cb, self);
  if (live && world (self) != NULL && sim_world_get_transport (world (self)) != NULL)
    sim_socket_transport_set_priority (sim_world_get_transport (world (self)),
                                       LIVE_SOCKET_PRIORITY);
  app_ladder_view_set_paced (self->ladder, live);
  /* A registrar runs for hours: older ladder rows fold into one line. */
  app_ladder_view_set_max_rows (self->ladder, live ? APP_WINDOW_LIVE_MAX_LADDER_ROWS
                                                   : APP_WINDOW_MAX_LADDER_ROWS);
  update_playback_actions (self);
  refresh_views (self);
}

/*
 * Shares the window out among the views in proportion to its size (a projector's 1920 pixels
 * go to the views, not to a fixed 1270x790 layout): done at the first allocation, whenever the
 * window's size changes, and when a lesson or presentation mode changes what is shown.  A split
 * the user drags stays until then.
 */
static void
fit_panes (AppWindow *self,
           int        width,
           int        height)
{
  gboolean lesson = gtk_widget_get_visible (GTK_WIDGET (self->lesson_pane));
  int lesson_width = 0, rest;

  if (width <= 0 || height <= 0)
    return;
  self->fitted_width = width;
  self->fitted_height = height;
  self->network_height = 0;
  if (lesson)
    {
      lesson_width = CLAMP ((int) (width * LESSON_FRACTION), LESSON_MIN_WIDTH, LESSON_MAX_WIDTH);
      gtk_paned_set_position (self->outer_paned, lesson_width);
    }
  rest = width - lesson_width;
  gtk_paned_set_position (self->views_paned,
                          (int) (rest * (lesson ? NETWORK_LESSON_FRACTION : NETWORK_FRACTION)));
  /* Presentation mode hides the secondary panes under the network: it takes the column. */
  gtk_paned_set_position (self->left_paned, (int) (height * NETWORK_HEIGHT_FRACTION));
  gtk_paned_set_position (self->right_paned, (int) (height * LADDER_HEIGHT_FRACTION));
}

static void
refit_panes (AppWindow *self)
{
  if (self->fitted_width > 0)
    fit_panes (self, gtk_widget_get_width (GTK_WIDGET (self)),
               gtk_widget_get_height (GTK_WIDGET (self)));
}

static void
app_window_size_allocate (GtkWidget *widget,
                          int        width,
                          int        height,
                          int        baseline)
{
  AppWindow *self = APP_WINDOW (widget);

  if (width != self->fitted_width || height != self->fitted_height)
    fit_panes (self, width, height);
  GTK_WIDGET_CLASS (app_window_parent_class)->size_allocate (widget, width, height, baseline);
}

/* The lesson column is in the layout; it is shown while the document has a lesson open. */
static void
lesson_changed_cb (AppWindow *self)
{
  gboolean lesson = sim_document_get_lesson (self->document) != NULL;

  gtk_widget_set_visible (GTK_WIDGET (self->lesson_pane), lesson);
  refit_panes (self);
  update_playback_actions (self);
}

SimDocument *
app_window_get_document (AppWindow *self)
{
  g_return_val_if_fail (APP_IS_WINDOW (self), NULL);
  return self->document;
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
app_window_show_pane (AppWindow  *self,
                      const char *name)
{
  g_return_if_fail (APP_IS_WINDOW (self));

  if (gtk_stack_get_child_by_name (self->panes, name) != NULL)
    gtk_stack_set_visible_child_name (self->panes, name);
  /* Presentation mode hid the panes: asking for one shows them again. */
  gtk_widget_set_visible (gtk_paned_get_end_child (self->left_paned), TRUE);
  refresh_views (self);
}

const char *
app_window_get_pane (AppWindow *self)
{
  g_return_val_if_fail (APP_IS_WINDOW (self), NULL);
  return gtk_stack_get_visible_child_name (self->panes);
}

static void
show_pane_action (GtkWidget  *widget,
                  const char *action_name,
                  GVariant   *parameter)
{
  app_window_show_pane (APP_WINDOW (widget), g_variant_get_string (parameter, NULL));
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
  /* For the back row the secondary panes (location, digest, timers, counters) give their
   * room to the network; Ctrl+1..4 brings one back. */
  gtk_widget_set_visible (gtk_paned_get_end_child (self->left_paned), !presentation);
  refit_panes (self);
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

static GtkCssProvider *
hc_provider (void)
{
  static GtkCssProvider *provider;

  if (provider == NULL)
    {
      provider = gtk_css_provider_new ();
      gtk_css_provider_load_from_resource (provider, "/org/siplab/SipLab/style-hc.css");
    }
  return provider;
}

/*
 * High contrast: asked for (the menu) or the desktop's theme is one of GNOME's HighContrast
 * themes.  Strong colours on top of everything else (style-hc.css), and the "high-contrast"
 * class, for which the drawn views draw thicker lines.
 */
static void
update_high_contrast (AppWindow *self)
{
  GdkDisplay *display = gtk_widget_get_display (GTK_WIDGET (self));
  g_autofree char *theme = NULL;
  gboolean on;

  g_object_get (gtk_settings_get_for_display (display), "gtk-theme-name", &theme, NULL);
  on = self->high_contrast || (theme != NULL && strstr (theme, "HighContrast") != NULL);
  if (on == gtk_widget_has_css_class (GTK_WIDGET (self), "high-contrast"))
    return;
  if (on)
    {
      gtk_style_context_add_provider_for_display (display, GTK_STYLE_PROVIDER (hc_provider ()),
                                                  GTK_STYLE_PROVIDER_PRIORITY_APPLICATION + 2);
      gtk_widget_add_css_class (GTK_WIDGET (self), "high-contrast");
    }
  else
    {
      gtk_style_context_remove_provider_for_display (display,
                                                     GTK_STYLE_PROVIDER (hc_provider ()));
      gtk_widget_remove_css_class (GTK_WIDGET (self), "high-contrast");
    }
  gtk_widget_queue_draw (GTK_WIDGET (self->network));
  gtk_widget_queue_draw (GTK_WIDGET (self->ladder));
}

void
app_window_set_high_contrast (AppWindow *self,
                              gboolean   high_contrast)
{
  g_return_if_fail (APP_IS_WINDOW (self));

  high_contrast = !!high_contrast;
  if (self->high_contrast == high_contrast)
    return;
  self->high_contrast = high_contrast;
  update_high_contrast (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HIGH_CONTRAST]);
}

gboolean
app_window_get_high_contrast (AppWindow *self)
{
  g_return_val_if_fail (APP_IS_WINDOW (self), FALSE);
  return gtk_widget_has_css_class (GTK_WIDGET (self), "high-contrast");
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
      const char *title = _("Cannot save");

      if (path == NULL)
        ;
      else if (kind == CHOOSE_OPEN)
        {
          title = _("Cannot open the scenario");
          if (sim_capture_world_is_capture_path (path))
            {
              /* A capture of a real network (docs/watch.md); its problems go to the log. */
              g_autoptr(GString) problems = g_string_new (NULL);

              title = _("Cannot open the capture");
              ok = sim_document_open_capture (self->document, path, NULL, problems, &error);
              if (problems->len > 0)
                g_message ("%s", problems->str);
            }
          else
            ok = sim_document_open (self->document, path, &error);
        }
      else if (kind == CHOOSE_SAVE_SCENE)
        ok = sim_document_save (self->document, path, &error);
      else if (kind == CHOOSE_LADDER_SVG)
        ok = app_ladder_view_export (self->ladder, path, APP_LADDER_FORMAT_SVG, &error);
      else if (kind == CHOOSE_LADDER_PNG)
        ok = app_ladder_view_export (self->ladder, path, APP_LADDER_FORMAT_PNG, &error);
      else if (kind == CHOOSE_PCAPNG)
        ok = sim_document_write_pcapng (self->document, path, &error);
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
    [CHOOSE_OPEN] = { N_("Open Scenario, Lesson or Capture"), N_("_Open"),
                      N_("Scenarios, lessons and captures"), "*.scn", NULL },
    [CHOOSE_SAVE_SCENE] = { N_("Save Scene"), N_("_Save"), N_("Scenarios"), "*.scn", "scene.scn" },
    [CHOOSE_LADDER_SVG] = { N_("Export Ladder as SVG"), N_("_Export"), N_("SVG images"), "*.svg",
                            "ladder.svg" },
    [CHOOSE_LADDER_PNG] = { N_("Export Ladder as PNG"), N_("_Export"), N_("PNG images"), "*.png",
                            "ladder.png" },
    [CHOOSE_PCAPNG] = { N_("Export Capture"), N_("_Export"), N_("pcapng captures"), "*.pcapng",
                        "siplab.pcapng" },
  };
  g_autoptr(GtkFileFilter) filter = gtk_file_filter_new ();
  GtkFileChooserAction action = kind == CHOOSE_OPEN ? GTK_FILE_CHOOSER_ACTION_OPEN
                                                    : GTK_FILE_CHOOSER_ACTION_SAVE;

  if (self->chooser != NULL)
    return;
  self->chooser = gtk_file_chooser_native_new (_(kinds[kind].title), GTK_WINDOW (self), action,
                                               _(kinds[kind].accept), _("_Cancel"));
  g_object_set_data (G_OBJECT (self->chooser), "siplab-kind", GINT_TO_POINTER (kind));
  gtk_file_filter_set_name (filter, _(kinds[kind].filter_name));
  gtk_file_filter_add_pattern (filter, kinds[kind].pattern);
  if (kind == CHOOSE_OPEN)
    {
      gtk_file_filter_add_pattern (filter, "*.txt");
      gtk_file_filter_add_pattern (filter, "*.scenario");
      gtk_file_filter_add_pattern (filter, "*.lesson");
      gtk_file_filter_add_pattern (filter, "*.pcap");
      gtk_file_filter_add_pattern (filter, "*.pcapng");
    }
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (self->chooser), filter);
  if (kinds[kind].suggested != NULL)
    gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (self->chooser), kinds[kind].suggested);
  if (sim_document_get_path (self->document) != NULL)
    {
      g_autoptr(GFile) file = g_file_new_for_path (sim_document_get_path (self->document));
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
  AppWindow *self = APP_WINDOW (widget);

  app_window_set_playing (self, FALSE);
  sim_document_step (self->document);
}

static void
step_back_action (GtkWidget  *widget,
                  const char *action_name,
                  GVariant   *parameter)
{
  AppWindow *self = APP_WINDOW (widget);

  app_window_set_playing (self, FALSE);
  sim_document_step_back (self->document);
}

gboolean
app_window_seek (AppWindow *self,
                 SimTime    t)
{
  g_return_val_if_fail (APP_IS_WINDOW (self), FALSE);

  g_clear_handle_id (&self->seek_id, g_source_remove);
  /* Going back shows another world, which stops playing; going ahead just runs on. */
  return sim_document_seek (self->document, t);
}

static gboolean
seek_timeout_cb (gpointer user_data)
{
  AppWindow *self = user_data;

  self->seek_id = 0;
  app_window_seek (self, self->seek_target);
  return G_SOURCE_REMOVE;
}

/* The user moved the scrubber (not emitted when the window sets its value). */
static gboolean
scrubber_change_value_cb (AppWindow     *self,
                          GtkScrollType  scroll,
                          double         value,
                          GtkRange      *range)
{
  GtkAdjustment *adjustment = gtk_range_get_adjustment (range);

  if (self->moving_scrubber)
    return FALSE;
  value = CLAMP (value, 0, gtk_adjustment_get_upper (adjustment));
  self->seek_target = (SimTime) (value * G_USEC_PER_SEC);
  if (self->seek_id == 0)
    self->seek_id = g_timeout_add (SEEK_DELAY_MS, seek_timeout_cb, self);
  return FALSE;
}

static void
seek_key_action (GtkWidget  *widget,
                 const char *action_name,
                 GVariant   *parameter)
{
  AppWindow *self = APP_WINDOW (widget);
  GtkAdjustment *adjustment = gtk_range_get_adjustment (GTK_RANGE (self->scrubber));
  double step = gtk_adjustment_get_upper (adjustment) / SEEK_KEY_FRACTION;
  double now = SIM_TIME_TO_SECONDS (sim_world_now (world (self)));

  double to;

  if (g_str_equal (action_name, "win.seek-back"))
    to = MAX (now - step, 0);
  else
    to = MIN (now + step, gtk_adjustment_get_upper (adjustment));
  app_window_seek (self, (SimTime) (to * G_USEC_PER_SEC));
}

static void
restart_action (GtkWidget  *widget,
                const char *action_name,
                GVariant   *parameter)
{
  AppWindow *self = APP_WINDOW (widget);
  g_autoptr(GError) error = NULL;

  if (!sim_document_restart (self->document, &error))
    show_error (self, _("Cannot restart the session"), error->message);
}

static void
listen_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  AppWindow *self = APP_WINDOW (widget);

  if (g_str_equal (action_name, "win.stop-listening"))
    sim_document_stop_listening (self->document);
  else if (g_str_equal (action_name, "win.watch"))
    gtk_window_present (GTK_WINDOW (app_watch_dialog_new (GTK_WINDOW (self), self->document)));
  else
    gtk_window_present (GTK_WINDOW (app_listen_dialog_new (GTK_WINDOW (self), self->document)));
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
  /* Space on a focused button (the lesson's Next, an answer's option) presses the button. */
  if (focus != NULL && g_str_equal (user_data, "win.play-pause") &&
      (GTK_IS_BUTTON (focus) || GTK_IS_CHECK_BUTTON (focus)))
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
    case PROP_DOCUMENT:
      g_value_set_object (value, self->document);
      break;
    case PROP_PRESENTATION:
      g_value_set_boolean (value, self->presentation);
      break;
    case PROP_DARK:
      g_value_set_boolean (value, self->dark);
      break;
    case PROP_HIGH_CONTRAST:
      g_value_set_boolean (value, self->high_contrast);
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
    case PROP_HIGH_CONTRAST:
      app_window_set_high_contrast (self, g_value_get_boolean (value));
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
  g_clear_handle_id (&self->seek_id, g_source_remove);
  if (self->document != NULL)
    g_signal_handlers_disconnect_by_data (self->document, self);
  gtk_widget_dispose_template (GTK_WIDGET (self), APP_TYPE_WINDOW);
  /* Closes a live world's sockets once nobody else holds the document. */
  g_clear_object (&self->document);
  G_OBJECT_CLASS (app_window_parent_class)->dispose (object);
}

static void
app_window_class_init (AppWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = app_window_dispose;
  object_class->get_property = app_window_get_property;
  object_class->set_property = app_window_set_property;
  widget_class->size_allocate = app_window_size_allocate;

  properties[PROP_DOCUMENT] =
    g_param_spec_object ("document", NULL, NULL, SIM_TYPE_DOCUMENT,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_PRESENTATION] =
    g_param_spec_boolean ("presentation", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_DARK] =
    g_param_spec_boolean ("dark", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_COLLAPSE_REFRESHES] =
    g_param_spec_boolean ("collapse-refreshes", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_HIGH_CONTRAST] =
    g_param_spec_boolean ("high-contrast", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  g_type_ensure (APP_TYPE_TICKER);
  g_type_ensure (APP_TYPE_NETWORK_VIEW);
  g_type_ensure (APP_TYPE_LADDER_VIEW);
  g_type_ensure (APP_TYPE_INSPECTOR);
  g_type_ensure (APP_TYPE_LOCATION_VIEW);
  g_type_ensure (APP_TYPE_DIGEST_VIEW);
  g_type_ensure (APP_TYPE_TIMERS_VIEW);
  g_type_ensure (APP_TYPE_COUNTERS_VIEW);
  g_type_ensure (APP_TYPE_SCENE_EDITOR);
  g_type_ensure (APP_TYPE_LESSON_PANE);

  gtk_widget_class_set_template_from_resource (widget_class, "/org/siplab/SipLab/app-window.ui");
  gtk_widget_class_bind_template_child (widget_class, AppWindow, play_button);
  gtk_widget_class_bind_template_child (widget_class, AppWindow, clock_label);
  gtk_widget_class_bind_template_child (widget_class, AppWindow, scrubber);
  gtk_widget_class_bind_template_child (widget_class, AppWindow, subtitle);
  gtk_widget_class_bind_template_child (widget_class, AppWindow, speed_dropdown);
  gtk_widget_class_bind_template_child (widget_class, AppWindow, views_paned);
  gtk_widget_class_bind_template_child (widget_class, AppWindow, lesson_pane);
  gtk_widget_class_bind_template_child (widget_class, AppWindow, counters);
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
  gtk_widget_class_install_action (widget_class, "win.watch", NULL, listen_action);
  gtk_widget_class_install_action (widget_class, "win.play-pause", NULL, play_pause_action);
  gtk_widget_class_install_action (widget_class, "win.step", NULL, step_action);
  gtk_widget_class_install_action (widget_class, "win.step-back", NULL, step_back_action);
  gtk_widget_class_install_action (widget_class, "win.restart", NULL, restart_action);
  gtk_widget_class_install_action (widget_class, "win.seek-back", NULL, seek_key_action);
  gtk_widget_class_install_action (widget_class, "win.seek-forward", NULL, seek_key_action);
  gtk_widget_class_install_action (widget_class, "win.speed-up", NULL, speed_action);
  gtk_widget_class_install_action (widget_class, "win.speed-down", NULL, speed_action);
  gtk_widget_class_install_action (widget_class, "win.show-pane", "s", show_pane_action);
  gtk_widget_class_install_property_action (widget_class, "win.presentation", "presentation");
  gtk_widget_class_install_property_action (widget_class, "win.dark", "dark");
  gtk_widget_class_install_property_action (widget_class, "win.high-contrast", "high-contrast");
  gtk_widget_class_install_property_action (widget_class, "win.collapse-refreshes",
                                            "collapse-refreshes");
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_o, GDK_CONTROL_MASK, "win.open", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_s, GDK_CONTROL_MASK,
                                       "win.save-scene", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_F11, 0, "win.presentation", NULL);
}

/* ------------------------------------------------------------------------------------------ */
/* Keyboard                                                                                   */

/*
 * The window's regions in F6 order: the lesson column, the network, the panes under it, the
 * ladder, the inspector.  The hidden ones are skipped.
 */
static GPtrArray *
focus_regions (AppWindow *self)
{
  GPtrArray *regions = g_ptr_array_new ();
  GtkWidget *all[] = { GTK_WIDGET (self->lesson_pane), GTK_WIDGET (self->network),
                       gtk_paned_get_end_child (self->left_paned), GTK_WIDGET (self->ladder),
                       GTK_WIDGET (self->inspector) };

  for (guint i = 0; i < G_N_ELEMENTS (all); i++)
    if (gtk_widget_is_visible (all[i]))
      g_ptr_array_add (regions, all[i]);
  return regions;
}

/* Moves the focus into the next (or previous) region that takes it. */
static gboolean
cycle_focus_cb (GtkWidget *widget,
                GVariant  *args,
                gpointer   user_data)
{
  AppWindow *self = APP_WINDOW (widget);
  g_autoptr(GPtrArray) regions = focus_regions (self);
  GtkWidget *focus = gtk_root_get_focus (GTK_ROOT (self));
  int step = GPOINTER_TO_INT (user_data);
  int current = -1;

  for (guint i = 0; i < regions->len; i++)
    if (focus != NULL && (focus == regions->pdata[i] ||
                          gtk_widget_is_ancestor (focus, regions->pdata[i])))
      current = i;
  for (guint k = 1; k <= regions->len; k++)
    {
      int n = regions->len;
      GtkWidget *next = regions->pdata[((current < 0 && step < 0 ? 0 : current) + step * (int) k
                                        + n * 2) % n];

      if (gtk_widget_child_focus (next, GTK_DIR_TAB_FORWARD) || gtk_widget_grab_focus (next))
        return TRUE;
    }
  return FALSE;
}

/* The lesson's Next and Back from anywhere in the window (Ctrl+Page Down / Page Up). */
static gboolean
lesson_key_cb (GtkWidget *widget,
               GVariant  *args,
               gpointer   user_data)
{
  AppWindow *self = APP_WINDOW (widget);

  if (!gtk_widget_get_visible (GTK_WIDGET (self->lesson_pane)))
    return FALSE;
  return gtk_widget_activate_action (GTK_WIDGET (self->lesson_pane), user_data, NULL);
}

/* Enter on a ladder line: its message is in the inspector; the focus goes there to read it. */
static void
row_activated_cb (AppWindow *self,
                  int        row)
{
  gtk_widget_child_focus (GTK_WIDGET (self->inspector), GTK_DIR_TAB_FORWARD);
}

static void
add_region_keys (AppWindow             *self,
                 GtkShortcutController *keys)
{
  static const char *const panes[] = { "location", "digest", "timers", "counters" };

  for (guint i = 0; i < G_N_ELEMENTS (panes); i++)
    gtk_shortcut_controller_add_shortcut (keys,
      gtk_shortcut_new_with_arguments (gtk_keyval_trigger_new (GDK_KEY_1 + i, GDK_CONTROL_MASK),
                                       gtk_named_action_new ("win.show-pane"), "s", panes[i]));
  gtk_shortcut_controller_add_shortcut (keys,
    gtk_shortcut_new (gtk_keyval_trigger_new (GDK_KEY_F6, 0),
                      gtk_callback_action_new (cycle_focus_cb, GINT_TO_POINTER (1), NULL)));
  gtk_shortcut_controller_add_shortcut (keys,
    gtk_shortcut_new (gtk_keyval_trigger_new (GDK_KEY_F6, GDK_SHIFT_MASK),
                      gtk_callback_action_new (cycle_focus_cb, GINT_TO_POINTER (-1), NULL)));
  gtk_shortcut_controller_add_shortcut (keys,
    gtk_shortcut_new (gtk_keyval_trigger_new (GDK_KEY_Page_Down, GDK_CONTROL_MASK),
                      gtk_callback_action_new (lesson_key_cb, (gpointer) "lesson.next", NULL)));
  gtk_shortcut_controller_add_shortcut (keys,
    gtk_shortcut_new (gtk_keyval_trigger_new (GDK_KEY_Page_Up, GDK_CONTROL_MASK),
                      gtk_callback_action_new (lesson_key_cb, (gpointer) "lesson.back", NULL)));
}

/*
 * The window fills the monitor it opens on (the first one, before it has a surface): a
 * projector's every pixel, not a fixed size.  Maximized too, so a window manager keeps it so;
 * without one (Xvfb) the default size does it.
 */
static void
size_to_monitor (AppWindow *self)
{
  GdkDisplay *display = gdk_display_get_default ();
  g_autoptr(GdkMonitor) monitor = NULL;
  GdkRectangle geometry;

  if (display == NULL)
    return;
  monitor = g_list_model_get_item (gdk_display_get_monitors (display), 0);
  if (monitor == NULL)
    return;
  gdk_monitor_get_geometry (monitor, &geometry);
  if (geometry.width < 200 || geometry.height < 200)
    return;
  gtk_window_set_default_size (GTK_WINDOW (self), geometry.width, geometry.height);
  gtk_window_maximize (GTK_WINDOW (self));
}

static void
app_window_init (AppWindow *self)
{
  self->next_stage = N_PACED_STAGES;
  GtkEventController *shortcuts;
  GtkShortcutController *keys;

  /* Before the template: its children bind to the "document" property. */
  self->document = sim_document_new ();
  gtk_widget_init_template (GTK_WIDGET (self));
  /* Not bound by name: gtk_widget_dispose_template() would unparent them twice. */
  self->outer_paned = GTK_PANED (gtk_widget_get_parent (GTK_WIDGET (self->views_paned)));
  self->right_paned = GTK_PANED (gtk_paned_get_end_child (self->views_paned));
  size_to_monitor (self);
  update_high_contrast (self);
  g_signal_connect_object (gtk_settings_get_for_display (gtk_widget_get_display (GTK_WIDGET (self))),
                           "notify::gtk-theme-name", G_CALLBACK (update_high_contrast), self,
                           G_CONNECT_SWAPPED);

  self->speed = speeds[DEFAULT_SPEED_INDEX];
  gtk_drop_down_set_selected (self->speed_dropdown, DEFAULT_SPEED_INDEX);
  g_signal_connect_object (self->speed_dropdown, "notify::selected",
                           G_CALLBACK (speed_changed_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->scrubber, "change-value", G_CALLBACK (scrubber_change_value_cb),
                           self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->ladder, "packet-selected", G_CALLBACK (packet_selected_cb), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->panes, "notify::visible-child", G_CALLBACK (pane_changed_cb),
                           self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->document, "notify::world", G_CALLBACK (world_changed_cb), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->document, "changed", G_CALLBACK (document_changed_cb), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->document, "notify::live", G_CALLBACK (live_changed_cb), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->document, "notify::lesson", G_CALLBACK (lesson_changed_cb),
                           self, G_CONNECT_SWAPPED);
  g_object_bind_property (self->document, "subtitle", self->subtitle, "label",
                          G_BINDING_SYNC_CREATE);
  update_playback_actions (self);
  app_ladder_view_set_max_rows (self->ladder, APP_WINDOW_MAX_LADDER_ROWS);

  shortcuts = gtk_shortcut_controller_new ();
  keys = GTK_SHORTCUT_CONTROLLER (shortcuts);
  gtk_event_controller_set_propagation_phase (shortcuts, GTK_PHASE_CAPTURE);
  add_key (keys, GDK_KEY_space, "win.play-pause");
  add_key (keys, GDK_KEY_Right, "win.step");
  add_key (keys, GDK_KEY_Left, "win.step-back");
  add_key (keys, GDK_KEY_Home, "win.restart");
  add_key (keys, GDK_KEY_Page_Up, "win.seek-back");
  add_key (keys, GDK_KEY_Page_Down, "win.seek-forward");
  add_key (keys, GDK_KEY_plus, "win.speed-up");
  add_key (keys, GDK_KEY_equal, "win.speed-up");
  add_key (keys, GDK_KEY_KP_Add, "win.speed-up");
  add_key (keys, GDK_KEY_minus, "win.speed-down");
  add_key (keys, GDK_KEY_KP_Subtract, "win.speed-down");
  gtk_widget_add_controller (GTK_WIDGET (self), shortcuts);

  /* Pane switching and the lesson: after the widgets had their say (bubble phase). */
  shortcuts = gtk_shortcut_controller_new ();
  add_region_keys (self, GTK_SHORTCUT_CONTROLLER (shortcuts));
  gtk_widget_add_controller (GTK_WIDGET (self), shortcuts);
  g_signal_connect_object (self->ladder, "row-activated", G_CALLBACK (row_activated_cb), self,
                           G_CONNECT_SWAPPED);
}

AppWindow *
app_window_new (GtkApplication *application)
{
  return g_object_new (APP_TYPE_WINDOW, "application", application, NULL);
}

GtkRange *
app_window_get_scrubber (AppWindow *self)
{
  return GTK_RANGE (self->scrubber);
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

AppLessonPane *
app_window_get_lesson_pane (AppWindow *self)
{
  return self->lesson_pane;
}
