/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gtk/gtk.h>

#include "sim-trace.h"

G_BEGIN_DECLS

/*
 * Small helpers the views share to talk about one packet of the trace: its kind (for colour),
 * its short label, and whether a "delivered"/"dropped" event ends a given "sent" event.
 */
typedef enum {
  APP_PACKET_REGISTER,
  APP_PACKET_CHALLENGE,   /* 401 / 407 */
  APP_PACKET_OK,          /* 2xx */
  APP_PACKET_INVITE,
  APP_PACKET_OTHER,
} AppPacketKind;

gboolean      app_packet_is_send         (const SimEvent *event);
gboolean      app_packet_is_end          (const SimEvent *event);
gboolean      app_packet_ends            (const SimEvent *sent,
                                          const SimEvent *end);
AppPacketKind app_packet_kind            (const SimEvent *event);
/* The CSS colour name (@define-color in style.css) of @kind. */
const char   *app_packet_kind_color_name (AppPacketKind   kind);
/* "REGISTER", "401 Unauthorized", "200 OK" (no "SIP/2.0"). */
char         *app_packet_short_label     (const SimEvent *event) G_GNUC_WARN_UNUSED_RESULT;
/* A colour from the widget's CSS (@define-color), or @fallback. */
void          app_lookup_color           (GtkWidget      *widget,
                                          const char     *name,
                                          const char     *fallback,
                                          GdkRGBA        *rgba);

G_END_DECLS
