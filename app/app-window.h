/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gtk/gtk.h>

#include "sim-world.h"

#include "app-inspector.h"
#include "app-ladder-view.h"
#include "app-location-view.h"
#include "app-network-view.h"

G_BEGIN_DECLS

#define APP_TYPE_WINDOW (app_window_get_type ())
G_DECLARE_FINAL_TYPE (AppWindow, app_window, APP, WINDOW, GtkApplicationWindow)

AppWindow       *app_window_new          (GtkApplication *application) G_GNUC_WARN_UNUSED_RESULT;
/* Opens scenario @path, or the built-in demo scene when @path is NULL.  Paused at t = 0. */
gboolean         app_window_open         (AppWindow      *self,
                                          const char     *path,
                                          GError        **error);
SimWorld        *app_window_get_world    (AppWindow      *self);
/* Runs the session (paused) to virtual time @t and refreshes every view. */
void             app_window_run_until    (AppWindow      *self,
                                          SimTime         t);
/* Runs to the next trace event; FALSE when nothing is left to run. */
gboolean         app_window_step         (AppWindow      *self);
void             app_window_set_playing  (AppWindow      *self,
                                          gboolean        playing);
gboolean         app_window_get_playing  (AppWindow      *self);
void             app_window_set_speed    (AppWindow      *self,
                                          double          speed);
AppNetworkView  *app_window_get_network  (AppWindow      *self);
AppLadderView   *app_window_get_ladder   (AppWindow      *self);
AppInspector    *app_window_get_inspector (AppWindow     *self);
AppLocationView *app_window_get_location (AppWindow      *self);

G_END_DECLS
