/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "app-packet.h"

#include <string.h>

gboolean
app_packet_is_send (const SimEvent *event)
{
  return event->type == SIM_EVENT_PACKET &&
         (g_strcmp0 (event->action, "sent") == 0 ||
          g_strcmp0 (event->action, "retransmitted") == 0);
}

gboolean
app_packet_is_end (const SimEvent *event)
{
  return event->type == SIM_EVENT_PACKET &&
         (g_strcmp0 (event->action, "delivered") == 0 ||
          g_strcmp0 (event->action, "dropped") == 0);
}

/*
 * The trace has no packet id: a datagram is the same one when its addresses and bytes are the
 * same.  Callers match ends to the oldest open send, which is right for FIFO links.
 */
gboolean
app_packet_ends (const SimEvent *sent,
                 const SimEvent *end)
{
  return sim_addr_equal (&sent->src, &end->src) &&
         sim_addr_equal (&sent->dst, &end->dst) &&
         g_strcmp0 (sent->raw, end->raw) == 0;
}

AppPacketKind
app_packet_kind (const SimEvent *event)
{
  if (event->status == 401 || event->status == 407)
    return APP_PACKET_CHALLENGE;
  if (event->status >= 200 && event->status < 300)
    return APP_PACKET_OK;
  if (event->status == 0 && g_strcmp0 (event->method, "REGISTER") == 0)
    return APP_PACKET_REGISTER;
  if (event->status == 0 && g_strcmp0 (event->method, "INVITE") == 0)
    return APP_PACKET_INVITE;
  return APP_PACKET_OTHER;
}

const char *
app_packet_kind_color_name (AppPacketKind kind)
{
  switch (kind)
    {
    case APP_PACKET_REGISTER:  return "packet_register";
    case APP_PACKET_CHALLENGE: return "packet_challenge";
    case APP_PACKET_OK:        return "packet_ok";
    case APP_PACKET_INVITE:    return "packet_invite";
    case APP_PACKET_OTHER:
    default:                   return "packet_other";
    }
}

char *
app_packet_short_label (const SimEvent *event)
{
  const char *line = event->first_line ? event->first_line : "";

  if (event->status > 0)
    {
      if (g_str_has_prefix (line, "SIP/2.0 "))
        line += strlen ("SIP/2.0 ");
      return g_strdup (line);
    }
  if (event->method != NULL)
    return g_strdup (event->method);
  /* Unparsable bytes: show the start of the first line. */
  return g_strndup (line, 16);
}

void
app_lookup_color (GtkWidget  *widget,
                  const char *name,
                  const char *fallback,
                  GdkRGBA    *rgba)
{
  G_GNUC_BEGIN_IGNORE_DEPRECATIONS
  if (gtk_style_context_lookup_color (gtk_widget_get_style_context (widget), name, rgba))
    return;
  G_GNUC_END_IGNORE_DEPRECATIONS
  gdk_rgba_parse (rgba, fallback);
}
