/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gtk/gtk.h>

#include "sim-world.h"

G_BEGIN_DECLS

#define APP_TYPE_LOCATION_VIEW (app_location_view_get_type ())
G_DECLARE_FINAL_TYPE (AppLocationView, app_location_view, APP, LOCATION_VIEW, GtkWidget)

GtkWidget *app_location_view_new        (void);
void       app_location_view_set_world  (AppLocationView *self,
                                         SimWorld        *world);
/* Rebuilds the table if the location service changed, and updates the countdowns. */
void       app_location_view_update     (AppLocationView *self);
/*
 * TRUE when the next update must build the table anew (a binding came or went), which costs
 * far more than updating it in place: a caller animating fast can put it off a little.
 */
gboolean   app_location_view_needs_rebuild (AppLocationView *self);
/* One row per binding. */
guint      app_location_view_get_n_rows (AppLocationView *self);

/* Lesson highlight (app-lesson-pane.c) ------------------------------------------------------ */
/* Marks the bindings of @aor (only @contact's when not NULL; @aor NULL: none), kept across
 * rebuilds: the binding a lesson step talks about. */
void       app_location_view_highlight_binding (AppLocationView *self,
                                                const char      *aor,
                                                const char      *contact);
/* How many binding rows are marked now. */
guint      app_location_view_get_n_highlighted (AppLocationView *self);

/* The rows (AOR headings and bindings) as the list model the table shows; borrowed. */
GListModel *app_location_view_get_model (AppLocationView *self);

G_END_DECLS
