/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gtk/gtk.h>

#include "app-window.h"

G_BEGIN_DECLS

#define APP_TYPE_LISTEN_DIALOG (app_listen_dialog_get_type ())
G_DECLARE_FINAL_TYPE (AppListenDialog, app_listen_dialog, APP, LISTEN_DIALOG, GtkWindow)

/* "Listen for real phones": asks where, then calls app_window_listen() on @window. */
AppListenDialog *app_listen_dialog_new (AppWindow *window) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
