/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>
#include <string.h>

#include "sim-trace.h"

/*
 * A small "day of a registrar" (issue 17): @n_phones phones refreshing every minute over a
 * lossy link for @seconds, so that a test gets tens of thousands of events, retransmissions
 * among them, in a second or two.
 */
static inline char *
test_long_scene (guint n_phones,
                 guint seconds)
{
  GString *s = g_string_new ("title A long day (test)\nseed 17\n"
                             "server registrar 10.0.0.1 domain lab.example\n"
                             "policy min-expires 60 default-expires 60 max-expires 60\n"
                             "link default latency 20ms jitter 5ms loss 2%\n");

  for (guint i = 0; i < n_phones; i++)
    g_string_append_printf (s, "user u%u password pw%u\n", i, i);
  for (guint i = 0; i < n_phones; i++)
    g_string_append_printf (s, "phone p%u user u%u ip 10.0.1.%u expires 60\n", i, i, i + 10);
  for (guint i = 0; i < n_phones; i++)
    g_string_append_printf (s, "at %ums register p%u\n", i * 100, i);
  g_string_append_printf (s, "run %us\n", seconds);
  return g_string_free (s, FALSE);
}

static inline void
assert_addr_equal (const SimAddr *a,
                   const SimAddr *b)
{
  g_assert_cmpstr (a->ip, ==, b->ip);
  g_assert_cmpuint (a->port, ==, b->port);
  g_assert_cmpint (a->transport, ==, b->transport);
}

/* Every field, the raw message byte for byte. */
static inline void
assert_event_equal (const SimEvent *a,
                    const SimEvent *b)
{
  g_assert_cmpuint (a->index, ==, b->index);
  g_assert_cmpint (a->t, ==, b->t);
  g_assert_cmpint (a->type, ==, b->type);
  g_assert_cmpstr (a->action, ==, b->action);
  g_assert_cmpstr (a->node, ==, b->node);
  g_assert_cmpstr (a->from, ==, b->from);
  g_assert_cmpstr (a->to, ==, b->to);
  assert_addr_equal (&a->src, &b->src);
  assert_addr_equal (&a->dst, &b->dst);
  g_assert_cmpstr (a->raw, ==, b->raw);
  if (a->raw != NULL)
    g_assert_cmpmem (a->raw, strlen (a->raw), b->raw, strlen (b->raw));
  g_assert_cmpstr (a->first_line, ==, b->first_line);
  g_assert_cmpstr (a->call_id, ==, b->call_id);
  g_assert_cmpstr (a->cseq, ==, b->cseq);
  g_assert_cmpstr (a->method, ==, b->method);
  g_assert_cmpint (a->status, ==, b->status);
  g_assert_cmpstr (a->branch, ==, b->branch);
  g_assert_cmpint (a->tls, ==, b->tls);
  g_assert_cmpuint (a->wire_len, ==, b->wire_len);
  g_assert_cmpstr (a->aor, ==, b->aor);
  g_assert_cmpstr (a->contact, ==, b->contact);
  g_assert_cmpint (a->expires, ==, b->expires);
  g_assert_cmpstr (a->nonce, ==, b->nonce);
  g_assert_cmpstr (a->user, ==, b->user);
  g_assert_cmpstr (a->algorithm, ==, b->algorithm);
  g_assert_cmpstr (a->name, ==, b->name);
  g_assert_cmpint (a->duration, ==, b->duration);
  g_assert_cmpstr (a->reason, ==, b->reason);
  g_assert_cmpstr (a->text, ==, b->text);
}
