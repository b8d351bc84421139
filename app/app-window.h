/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gtk/gtk.h>

#include "sim-scenario.h"
#include "sim-world.h"

#include "app-counters-view.h"
#include "app-digest-view.h"
#include "app-inspector.h"
#include "app-ladder-view.h"
#include "app-location-view.h"
#include "app-network-view.h"
#include "app-timers-view.h"

G_BEGIN_DECLS

#define APP_TYPE_WINDOW (app_window_get_type ())
G_DECLARE_FINAL_TYPE (AppWindow, app_window, APP, WINDOW, GtkApplicationWindow)

AppWindow       *app_window_new          (GtkApplication *application) G_GNUC_WARN_UNUSED_RESULT;
/* Opens scenario @path, or the built-in demo scene when @path is NULL.  Paused at t = 0. */
gboolean         app_window_open         (AppWindow      *self,
                                          const char     *path,
                                          GError        **error);
SimWorld        *app_window_get_world    (AppWindow      *self);
/*
 * Shows @world, which someone else drives (the lesson pane's runner), in every view, and
 * refreshes them when it is already shown.  Restart and step back still rebuild the opened
 * scene.  @subtitle: the header bar's second line, or NULL to keep it.
 */
void             app_window_show_world   (AppWindow      *self,
                                          SimWorld       *world,
                                          const char     *subtitle);
/* The scene being played, with the edits made so far that the format can say (borrowed). */
SimScenario     *app_window_get_scenario (AppWindow      *self);
/* Runs the session (paused) to virtual time @t and refreshes every view. */
void             app_window_run_until    (AppWindow      *self,
                                          SimTime         t);
/* Runs to the next trace event; FALSE when nothing is left to run. */
gboolean         app_window_step         (AppWindow      *self);
/*
 * Re-runs the deterministic session from t = 0 (same scene, seed and edits) to the last point
 * a step could reach before the newest event: the previous step.  FALSE at the very start.
 */
gboolean         app_window_step_back    (AppWindow      *self);
/* Rebuilds the session at t = 0, edits included. */
gboolean         app_window_restart      (AppWindow      *self,
                                          GError        **error);
void             app_window_set_playing  (AppWindow      *self,
                                          gboolean        playing);
gboolean         app_window_get_playing  (AppWindow      *self);
void             app_window_set_speed    (AppWindow      *self,
                                          double          speed);
double           app_window_get_speed    (AppWindow      *self);
AppNetworkView  *app_window_get_network  (AppWindow      *self);
AppLadderView   *app_window_get_ladder   (AppWindow      *self);
AppInspector    *app_window_get_inspector (AppWindow     *self);
AppLocationView *app_window_get_location (AppWindow      *self);
AppDigestView   *app_window_get_digest   (AppWindow      *self);
AppTimersView   *app_window_get_timers   (AppWindow      *self);
AppCountersView *app_window_get_counters (AppWindow      *self);

/*
 * The panes under the network view ("location", "digest", "timers") form a stack; a lesson
 * pane or a real-phones pane is added here and chosen by name.
 */
void             app_window_add_pane     (AppWindow      *self,
                                          GtkWidget      *pane,
                                          const char     *name,
                                          const char     *title);
void             app_window_show_pane    (AppWindow      *self,
                                          const char     *name);
const char      *app_window_get_pane     (AppWindow      *self);

/*
 * Building the scene while it runs.  Each edit is a SimWorld command given now (so it shows
 * in the trace) and is remembered with its time, so restart and step back replay it, and
 * app_window_save_scene() writes it out.
 */
gboolean         app_window_add_phone    (AppWindow      *self,
                                          const char     *user,
                                          const char     *password,  /* for a new user */
                                          const char     *device,
                                          const char     *ip,
                                          GError        **error);
gboolean         app_window_remove_phone (AppWindow      *self,
                                          const char     *device,
                                          GError        **error);
gboolean         app_window_set_mode     (AppWindow      *self,
                                          SimMode         mode,
                                          GError        **error);
gboolean         app_window_register     (AppWindow      *self,
                                          const char     *device,
                                          GError        **error);
gboolean         app_window_move_phone   (AppWindow      *self,
                                          const char     *device,
                                          const char     *ip,
                                          GError        **error);
gboolean         app_window_set_power    (AppWindow      *self,
                                          const char     *device,
                                          gboolean        on,
                                          GError        **error);
/* The password @device uses from now on (a wrong one makes its next REGISTER fail). */
gboolean         app_window_set_phone_password (AppWindow *self,
                                          const char     *device,
                                          const char     *password,
                                          GError        **error);
/* Packet loss (0..1) on the link between @a and @b, or on every link when @a is NULL. */
gboolean         app_window_set_link_loss (AppWindow     *self,
                                          const char     *a,
                                          const char     *b,
                                          double          loss,
                                          GError        **error);
/* The scene with its edits as scenario text (it parses again). */
char            *app_window_scene_to_text (AppWindow     *self) G_GNUC_WARN_UNUSED_RESULT;
gboolean         app_window_save_scene   (AppWindow      *self,
                                          const char     *path,
                                          GError        **error);
/* The run so far as a pcapng capture (Wireshark, tshark). */
gboolean         app_window_export_pcapng (AppWindow     *self,
                                          const char     *path,
                                          GError        **error);

/*
 * Live mode: the registrar on real sockets, on the wall clock, shown in every view.  With
 * @with_scene the scene's world is rebuilt on the wall clock (its simulated phones share the
 * registrar with the real ones, sim_world_listen()); without it the window shows a registrar
 * alone for @domain.  Users from @users_path (one name:password a line) are added to the
 * registrar.  Playback controls are off while live; app_window_stop_listening() (or opening or
 * restarting a scene) closes the sockets and goes back to the scene at t = 0.
 */
typedef struct {
  const char *address;      /* an IPv4 address phones can reach, e.g. 192.168.1.10 */
  guint port;               /* 0: any free port (see sim_world_get_transport()) */
  gboolean udp;
  gboolean tcp;
  const char *domain;       /* NULL or empty: the scene's */
  const char *users_path;   /* NULL or empty: the scene's users only */
  gboolean with_scene;
} AppListenOptions;

/* Ladder rows kept while live; older packets become one "N earlier messages" line. */
#define APP_WINDOW_LIVE_MAX_LADDER_ROWS 2000
/* Trace events kept while live (digest verdicts, pcapng export): about 15 MB at most. */
#define APP_WINDOW_LIVE_MAX_EVENTS 10000

gboolean         app_window_listen       (AppWindow      *self,
                                          const AppListenOptions *options,
                                          GError        **error);
void             app_window_stop_listening (AppWindow    *self);
gboolean         app_window_is_live      (AppWindow      *self);

/* Projector-size type (F11), and the dark style for the whole application. */
void             app_window_set_presentation (AppWindow  *self,
                                          gboolean        presentation);
gboolean         app_window_get_presentation (AppWindow  *self);
void             app_window_set_dark     (AppWindow      *self,
                                          gboolean        dark);
gboolean         app_window_get_dark     (AppWindow      *self);

G_END_DECLS
