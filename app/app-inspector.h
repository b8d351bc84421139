/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gtk/gtk.h>

#include "sim-trace.h"

G_BEGIN_DECLS

#define APP_TYPE_INSPECTOR (app_inspector_get_type ())
G_DECLARE_FINAL_TYPE (AppInspector, app_inspector, APP, INSPECTOR, GtkWidget)

GtkWidget     *app_inspector_new        (void);
/* Shows the raw text of packet @event (NULL: nothing). */
void           app_inspector_set_event  (AppInspector *self,
                                         SimEvent     *event);
SimEvent      *app_inspector_get_event  (AppInspector *self);
/*
 * Like set_event(), and lists what changed since @previous, the message before it of the same
 * Call-ID and method from the same sender (a refresh after its first REGISTER, the
 * authenticated REGISTER after the challenged one).  @previous may be NULL.
 */
void           app_inspector_set_event_with_previous (AppInspector *self,
                                                      SimEvent     *event,
                                                      SimEvent     *previous);
GtkTextBuffer *app_inspector_get_buffer (AppInspector *self);

G_END_DECLS
