/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gtk/gtk.h>

#include "sim-world.h"

G_BEGIN_DECLS

#define APP_TYPE_TIMERS_VIEW (app_timers_view_get_type ())
G_DECLARE_FINAL_TYPE (AppTimersView, app_timers_view, APP, TIMERS_VIEW, GtkWidget)

GtkWidget *app_timers_view_new                (void);
void       app_timers_view_set_world          (AppTimersView *self,
                                               SimWorld      *world);
/* Moves the bars to the world's current time (cheap when nothing started or ended). */
void       app_timers_view_update             (AppTimersView *self);
/* Transaction timers (RFC 3261 §17: A..M) running now, as tracked from the trace. */
guint      app_timers_view_get_n_transaction_timers (AppTimersView *self);
/* Bars shown: refresh timers + binding expiries + transaction timers. */
guint      app_timers_view_get_n_bars         (AppTimersView *self);

G_END_DECLS
