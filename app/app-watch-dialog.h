/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gtk/gtk.h>

#include "sim-document.h"

G_BEGIN_DECLS

#define APP_TYPE_WATCH_DIALOG (app_watch_dialog_get_type ())
G_DECLARE_FINAL_TYPE (AppWatchDialog, app_watch_dialog, APP, WATCH_DIALOG, GtkWindow)

/* "Watch a SIP Network…": asks where HEP arrives, then calls sim_document_watch(). */
AppWatchDialog *app_watch_dialog_new (GtkWindow   *parent,
                                      SimDocument *document) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
