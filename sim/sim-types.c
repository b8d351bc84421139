/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "sim-types.h"

#include <arpa/inet.h>
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
  /* "ip:port" or "[ip]:port", as "%s:%u" would write it; by hand, since every event of a
   * capture formats two addresses and snprintf was a tenth of `siplab-cli view`'s time. */
  char text[sizeof addr->ip + 16];
  gboolean v6 = strchr (addr->ip, ':') != NULL;
  gsize ip_len = strnlen (addr->ip, sizeof addr->ip - 1);
  char digits[8];
  gsize n = 0, at = 0;
  guint port = addr->port;

  g_return_if_fail (size > 0);
  do
    digits[n++] = (char) ('0' + port % 10);
  while ((port /= 10) > 0);
  if (v6)
    text[at++] = '[';
  memcpy (text + at, addr->ip, ip_len);
  at += ip_len;
  if (v6)
    text[at++] = ']';
  text[at++] = ':';
  while (n > 0)
    text[at++] = digits[--n];
  text[at] = '\0';
  g_strlcpy (buf, text, size);
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
  switch (transport)
    {
    case SIM_TRANSPORT_TCP:
      return "TCP";
    case SIM_TRANSPORT_TLS:
      return "TLS";
    case SIM_TRANSPORT_UDP:
    default:
      return "UDP";
    }
}

/*
 * An IPv6 address counts as its /64: one host usually holds a whole /64 (RFC 4291 §2.5.1,
 * SLAAC with temporary addresses, RFC 8981), so counting single addresses would give it 2^64
 * fresh tries.
 */
char *
sim_addr_source_key (const char *ip)
{
  guint8 bytes[16];
  char text[INET6_ADDRSTRLEN];

  g_return_val_if_fail (ip != NULL, NULL);

  if (strchr (ip, ':') == NULL || inet_pton (AF_INET6, ip, bytes) != 1)
    return g_strdup (ip);
  /* An IPv4 client on a dual-stack socket (::ffff:a.b.c.d) is that IPv4 address. */
  if (memcmp (bytes, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0)
    return g_strdup_printf ("%u.%u.%u.%u", bytes[12], bytes[13], bytes[14], bytes[15]);
  memset (bytes + 8, 0, 8);
  if (inet_ntop (AF_INET6, bytes, text, sizeof text) == NULL)
    return g_strdup (ip);
  return g_strdup_printf ("%s/64", text);
}
