/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gtk/gtk.h>

#include "sim-world.h"

G_BEGIN_DECLS

#define APP_TYPE_COUNTERS_VIEW (app_counters_view_get_type ())
G_DECLARE_FINAL_TYPE (AppCountersView, app_counters_view, APP, COUNTERS_VIEW, GtkWidget)

GtkWidget *app_counters_view_new                  (void);
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
