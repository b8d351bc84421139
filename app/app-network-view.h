/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gtk/gtk.h>

#include "sim-world.h"

G_BEGIN_DECLS

#define APP_TYPE_NETWORK_VIEW (app_network_view_get_type ())
G_DECLARE_FINAL_TYPE (AppNetworkView, app_network_view, APP, NETWORK_VIEW, GtkWidget)

GtkWidget *app_network_view_new             (void);
void       app_network_view_set_world       (AppNetworkView *self,
                                             SimWorld       *world);
/* Packets in flight (sent, not yet delivered or dropped) at the world's current time. */
guint      app_network_view_get_n_in_flight (AppNetworkView *self);
/* The hosts the last frame drew (new strings, sorted): for tests. */
GPtrArray *app_network_view_list_drawn_hosts (AppNetworkView *self);

/*
 * Where host @name's box was drawn last (widget coordinates, zoomed to fit), FALSE if it was
 * not.  For tests: every box inside the view, none over another.
 */
gboolean app_network_view_get_node_box (AppNetworkView  *self,
                                        const char      *name,
                                        graphene_rect_t *box);
/* How much the hosts were scaled down to fit the view (1: not at all). */
double   app_network_view_get_zoom     (AppNetworkView  *self);
/* How many times the hosts were laid out and the links drawn since the world was set (tests). */
guint    app_network_view_get_n_layouts (AppNetworkView *self);
/*
 * The host to show at full size over its box while the crowd is drawn too small to read
 * (below a zoom of 0.75): the window passes the selected packet's sender; the host under the
 * pointer comes first.  NULL: none.
 */
void        app_network_view_set_spotlight (AppNetworkView *self,
                                            const char     *name);
/* The host shown in the spotlight now (hovered, else set), or NULL when none is drawn. */
const char *app_network_view_get_spotlight (AppNetworkView *self);

G_END_DECLS
