/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gtk/gtk.h>

#include "sim-world.h"

G_BEGIN_DECLS

#define APP_TYPE_LADDER_VIEW (app_ladder_view_get_type ())
G_DECLARE_FINAL_TYPE (AppLadderView, app_ladder_view, APP, LADDER_VIEW, GtkWidget)

GtkWidget *app_ladder_view_new          (void);
void       app_ladder_view_set_world    (AppLadderView *self,
                                         SimWorld      *world);
/* One row per datagram sent (or retransmitted), in trace order. */
guint      app_ladder_view_get_n_rows   (AppLadderView *self);
/* The "sent" event of row @row (borrowed), or NULL. */
SimEvent  *app_ladder_view_get_row      (AppLadderView *self,
                                         guint          row);
/* Selects @row (-1: none) and emits "packet-selected". */
void       app_ladder_view_select_row   (AppLadderView *self,
                                         int            row);
int        app_ladder_view_get_selected (AppLadderView *self);

/* Signals: "packet-selected" (SimEvent *sent, or NULL). */

G_END_DECLS
