/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "sim-types.h"

#include <string.h>

void
sim_addr_init (SimAddr          *addr,
               const char       *ip,
               guint16           port,
               SimTransportKind  transport)
{
  memset (addr, 0, sizeof *addr);
  g_strlcpy (addr->ip, ip ? ip : "", sizeof addr->ip);
  addr->port = port;
  addr->transport = transport;
}

/* Accepts "1.2.3.4", "1.2.3.4:5060", "[::1]:5060" and "::1". */
gboolean
sim_addr_parse (SimAddr    *addr,
                const char *text,
                guint16     default_port)
{
  g_autofree char *host = NULL;
  guint64 port = default_port;
  const char *colon;

  g_return_val_if_fail (addr != NULL, FALSE);
  if (text == NULL || *text == '\0')
    return FALSE;

  if (text[0] == '[')
    {
      const char *end = strchr (text, ']');
      if (end == NULL)
        return FALSE;
      host = g_strndup (text + 1, end - text - 1);
      if (end[1] == ':')
        {
          if (!g_ascii_string_to_unsigned (end + 2, 10, 1, 65535, &port, NULL))
            return FALSE;
        }
      else if (end[1] != '\0')
        return FALSE;
    }
  else if ((colon = strchr (text, ':')) != NULL && strchr (colon + 1, ':') == NULL)
    {
      host = g_strndup (text, colon - text);
      if (!g_ascii_string_to_unsigned (colon + 1, 10, 1, 65535, &port, NULL))
        return FALSE;
    }
  else
    host = g_strdup (text);

  if (*host == '\0' || strlen (host) >= sizeof addr->ip)
    return FALSE;
  sim_addr_init (addr, host, (guint16) port, SIM_TRANSPORT_UDP);
  return TRUE;
}

void
sim_addr_format (const SimAddr *addr,
                 char          *buf,
                 gsize          size)
{
  if (strchr (addr->ip, ':') != NULL)
    g_snprintf (buf, size, "[%s]:%u", addr->ip, addr->port);
  else
    g_snprintf (buf, size, "%s:%u", addr->ip, addr->port);
}

char *
sim_addr_to_string (const SimAddr *addr)
{
  char buf[64];

  sim_addr_format (addr, buf, sizeof buf);
  return g_strdup (buf);
}

gboolean
sim_addr_equal (const SimAddr *a,
                const SimAddr *b)
{
  return a->port == b->port && a->transport == b->transport && strcmp (a->ip, b->ip) == 0;
}

const char *
sim_transport_name (SimTransportKind transport)
{
  return transport == SIM_TRANSPORT_TCP ? "TCP" : "UDP";
}
