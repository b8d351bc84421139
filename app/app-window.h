/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gtk/gtk.h>

#include "sim-document.h"

#include "app-counters-view.h"
#include "app-digest-view.h"
#include "app-inspector.h"
#include "app-ladder-view.h"
#include "app-lesson-pane.h"
#include "app-location-view.h"
#include "app-network-view.h"
#include "app-timers-view.h"

G_BEGIN_DECLS

/*
 * The main window: a layout (app-window.ui) of views around one SimDocument, which holds what
 * is open, its edits and its world.  The window moves the world's clock (a frame-clock tick
 * while playing), keeps the views on the document's world and follows its state: the lesson
 * column while a lesson is open, playback off while live.  Its children (the scene editor, the
 * lesson pane, the listen dialog) act through the document or the win.* actions.
 *
 * Actions: win.open, win.save-scene, win.export-svg, win.export-png, win.export-pcapng,
 * win.listen, win.stop-listening, win.play-pause, win.step, win.step-back, win.restart,
 * win.speed-up, win.speed-down, win.show-pane (s: "location", "digest", "timers", "counters"),
 * win.presentation, win.dark, win.collapse-refreshes.
 */

#define APP_TYPE_WINDOW (app_window_get_type ())
G_DECLARE_FINAL_TYPE (AppWindow, app_window, APP, WINDOW, GtkApplicationWindow)

/* Ladder rows kept while live; older packets become one "N earlier messages" line. */
#define APP_WINDOW_LIVE_MAX_LADDER_ROWS 2000
/*
 * Ladder rows kept for a scene: a long one (hours of refreshes) folds older packets the same
 * way, so that the ladder does not hold every message of the run (they stay in the document's
 * history; seeking shows them again).
 */
#define APP_WINDOW_MAX_LADDER_ROWS 20000

AppWindow       *app_window_new          (GtkApplication *application) G_GNUC_WARN_UNUSED_RESULT;
/* What the window shows (its "document" property); open files with sim_document_open(). */
SimDocument     *app_window_get_document (AppWindow      *self);

/* Playing moves the document's world on the frame clock at the chosen speed. */
void             app_window_set_playing  (AppWindow      *self,
                                          gboolean        playing);
gboolean         app_window_get_playing  (AppWindow      *self);
void             app_window_set_speed    (AppWindow      *self,
                                          double          speed);
double           app_window_get_speed    (AppWindow      *self);

/*
 * Shows the session at virtual time @t (sim_document_seek()): what the scrubber and Page Up /
 * Page Down do.  FALSE live, in a lesson or with nothing open.
 */
gboolean         app_window_seek         (AppWindow      *self,
                                          SimTime         t);
/* The scrubber in the playback bar (its value is in virtual seconds). */
GtkRange        *app_window_get_scrubber (AppWindow      *self);
AppNetworkView  *app_window_get_network  (AppWindow      *self);
AppLadderView   *app_window_get_ladder   (AppWindow      *self);
AppInspector    *app_window_get_inspector (AppWindow     *self);
AppLocationView *app_window_get_location (AppWindow      *self);
AppDigestView   *app_window_get_digest   (AppWindow      *self);
AppTimersView   *app_window_get_timers   (AppWindow      *self);
AppCountersView *app_window_get_counters (AppWindow      *self);
/* The lesson column (shown while the document has a lesson open). */
AppLessonPane   *app_window_get_lesson_pane (AppWindow   *self);

/* The panes under the network view form a stack: "location", "digest", "timers", "counters". */
void             app_window_show_pane    (AppWindow      *self,
                                          const char     *name);
const char      *app_window_get_pane     (AppWindow      *self);

/* Projector-size type (F11), and the dark style for the whole application. */
void             app_window_set_presentation (AppWindow  *self,
                                          gboolean        presentation);
gboolean         app_window_get_presentation (AppWindow  *self);
void             app_window_set_dark     (AppWindow      *self,
                                          gboolean        dark);
gboolean         app_window_get_dark     (AppWindow      *self);
/* Strong colours and thicker lines (style-hc.css); also on by itself under a HighContrast
 * desktop theme, which the getter then reports. */
void          app_window_set_high_contrast (AppWindow *self,
                                            gboolean   high_contrast);
gboolean      app_window_get_high_contrast (AppWindow *self);

G_END_DECLS
