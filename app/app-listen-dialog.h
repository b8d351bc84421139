/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gtk/gtk.h>

#include "sim-document.h"

G_BEGIN_DECLS

#define APP_TYPE_LISTEN_DIALOG (app_listen_dialog_get_type ())
G_DECLARE_FINAL_TYPE (AppListenDialog, app_listen_dialog, APP, LISTEN_DIALOG, GtkWindow)

/* "Listen for real phones": asks where, then calls sim_document_listen() on @document. */
AppListenDialog *app_listen_dialog_new (GtkWindow   *parent,
                                        SimDocument *document) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
