/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gtk/gtk.h>

#include "sim-history.h"
#include "sim-world.h"

G_BEGIN_DECLS

#define APP_TYPE_COUNTERS_VIEW (app_counters_view_get_type ())
G_DECLARE_FINAL_TYPE (AppCountersView, app_counters_view, APP, COUNTERS_VIEW, GtkWidget)

GtkWidget *app_counters_view_new                  (void);
/*
 * The whole session's events (NULL: none): a world whose trace keeps only its latest events
 * (after seeking in a long scene) is counted from t = 0, the earlier events read back from
 * @history.  Set it before the world.
 */
void       app_counters_view_set_history          (AppCountersView *self,
                                                   SimHistory      *history);
void       app_counters_view_set_world            (AppCountersView *self,
                                                   SimWorld        *world);
/* Slides the plots to the world's current time (cheap; call it as often as the clock moves). */
void       app_counters_view_update               (AppCountersView *self);
/* REGISTER 200 OKs the registrar sent since the session began. */
guint64    app_counters_view_get_n_registrations  (AppCountersView *self);
/* Bindings in the location service now. */
guint      app_counters_view_get_n_bindings       (AppCountersView *self);
/* Nonce events "rejected" or "stale" since the session began. */
guint64    app_counters_view_get_n_failures       (AppCountersView *self);

G_END_DECLS
