/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <string.h>

#include <gio/gio.h>

#include "sim-net.h"
#include "sim-scenario.h"
#include "sim-world.h"
#include "test-wire.h"

/*
 * The simulated NAT (sim-net.h): mappings, filtering, the timeout, the bound on mappings; and
 * what RFC 3581 and RFC 3261 §18.2 make of it with real phones and the real registrar: a
 * response reaches a phone behind NAT with rport and is lost without it, an INVITE for the
 * AOR reaches it over its flow but not at its private Contact, nor once the mapping closed.
 */

/* ------------------------------------------------------------------------------------------ */
/* SimNet alone                                                                               */

typedef struct {
  SimClock *clock;
  SimTrace *trace;
  GRand *rand;
  SimNet *net;
  GPtrArray *received;     /* "host<src-ip:port>dst-ip:port data" */
} Fixture;

typedef struct {
  Fixture *f;
  const char *host;
} Sink;

static Sink sinks[4];

static void
receive_cb (const SimAddr *src,
            const SimAddr *dst,
            const char    *data,
            gsize          len,
            gpointer       user_data)
{
  Sink *sink = user_data;
  char s[64], d[64];

  sim_addr_format (src, s, sizeof s);
  sim_addr_format (dst, d, sizeof d);
  g_ptr_array_add (sink->f->received, g_strdup_printf ("%s<%s>%s %.*s", sink->host, s, d,
                                                       (int) len, data));
}

static void
bind_sink (Fixture    *f,
           guint       i,
           const char *host)
{
  sinks[i].f = f;
  sinks[i].host = host;
  sim_net_bind (f->net, host, 5060, receive_cb, &sinks[i]);
}

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  f->clock = sim_clock_new_virtual ();
  f->trace = sim_trace_new ();
  f->rand = g_rand_new_with_seed (7);
  f->net = sim_net_new (f->clock, f->trace, f->rand);
  f->received = g_ptr_array_new_with_free_func (g_free);
  g_assert_true (sim_net_add_host (f->net, "server", "198.51.100.1", &error));
  g_assert_true (sim_net_add_host (f->net, "stranger", "198.51.100.66", &error));
  g_assert_true (sim_net_add_nat (f->net, "router", "203.0.113.5", SIM_SEC (60), &error));
  g_assert_true (sim_net_add_host (f->net, "inside", "192.168.1.10", &error));
  g_assert_true (sim_net_add_host (f->net, "neighbour", "192.168.1.11", &error));
  g_assert_true (sim_net_set_behind (f->net, "inside", "router", &error));
  g_assert_true (sim_net_set_behind (f->net, "neighbour", "router", &error));
  g_assert_no_error (error);
  bind_sink (f, 0, "server");
  bind_sink (f, 1, "stranger");
  bind_sink (f, 2, "inside");
  bind_sink (f, 3, "neighbour");
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  g_ptr_array_unref (f->received);
  g_assert_finalize_object (f->net);
  g_assert_finalize_object (f->trace);
  g_assert_finalize_object (f->clock);
  g_rand_free (f->rand);
}

static void
send (Fixture    *f,
      const char *src,
      const char *dst,
      const char *data)
{
  SimAddr s, d;

  g_assert_true (sim_addr_parse (&s, src, 5060));
  g_assert_true (sim_addr_parse (&d, dst, 5060));
  sim_net_send (f->net, &s, &d, data, strlen (data), FALSE);
}

static void
run_for (Fixture *f,
         SimTime  t)
{
  sim_clock_run_until (f->clock, sim_clock_now (f->clock) + t);
}

static const char *
last_received (Fixture *f)
{
  return f->received->len > 0 ? f->received->pdata[f->received->len - 1] : NULL;
}

/* The reasons of every "dropped" packet event, joined by newlines. */
static char *
drop_reasons (Fixture *f)
{
  GPtrArray *events = sim_trace_get_events (f->trace);
  GString *out = g_string_new (NULL);

  for (guint i = 0; i < events->len; i++)
    {
      SimEvent *e = events->pdata[i];
      if (e->type == SIM_EVENT_PACKET && g_strcmp0 (e->action, "dropped") == 0)
        g_string_append_printf (out, "%s\n", e->reason);
    }
  return g_string_free (out, FALSE);
}

static guint
count_notes (Fixture    *f,
             const char *text)
{
  return test_count_notes (f->trace, text);
}

static void
test_outbound_leaves_from_a_mapping (Fixture       *f,
                                     gconstpointer  data)
{
  GPtrArray *events;
  guint hops = 0;

  g_test_summary ("A datagram from inside goes to the NAT (a hop of its own), which sends it on "
                  "from its public address and the first mapping port; the answer to that port "
                  "comes back in to the private address, bytes unchanged.");
  send (f, "192.168.1.10:5060", "198.51.100.1:5060", "hello");
  run_for (f, SIM_SEC (1));
  g_assert_cmpstr (last_received (f), ==, "server<203.0.113.5:40000>198.51.100.1:5060 hello");
  send (f, "198.51.100.1:5060", "203.0.113.5:40000", "welcome");
  run_for (f, SIM_SEC (1));
  g_assert_cmpstr (last_received (f), ==, "inside<198.51.100.1:5060>192.168.1.10:5060 welcome");

  events = sim_trace_get_events (f->trace);
  for (guint i = 0; i < events->len; i++)
    {
      SimEvent *e = events->pdata[i];
      if (e->type == SIM_EVENT_PACKET && g_strcmp0 (e->action, "delivered") == 0 &&
          g_strcmp0 (e->to, "router") == 0)
        hops++;
    }
  g_assert_cmpuint (hops, ==, 2);
  g_assert_cmpuint (count_notes (f, "NAT mapping 192.168.1.10:5060 -> 203.0.113.5:40000 opened"),
                    ==, 1);
  {
    SimAddr inside, pub;

    sim_addr_init (&inside, "192.168.1.10", 5060, SIM_TRANSPORT_UDP);
    g_assert_true (sim_net_nat_lookup (f->net, "router", &inside, &pub));
    g_assert_cmpstr (pub.ip, ==, "203.0.113.5");
    g_assert_cmpuint (pub.port, ==, 40000);
  }
  /* A second inside address gets the next port: no port preservation. */
  send (f, "192.168.1.11:5060", "198.51.100.1:5060", "me too");
  run_for (f, SIM_SEC (1));
  g_assert_cmpstr (last_received (f), ==, "server<203.0.113.5:40001>198.51.100.1:5060 me too");
  g_assert_cmpuint (sim_net_nat_get_n_mappings (f->net, "router"), ==, 2);
}

static void
test_unsolicited_and_private_are_dropped (Fixture       *f,
                                          gconstpointer  data)
{
  g_autofree char *reasons = NULL;

  g_test_summary ("Nothing outside reaches a private address, nor a public port without a "
                  "mapping; hosts behind one NAT reach each other directly.");
  send (f, "198.51.100.1:5060", "192.168.1.10:5060", "direct");
  send (f, "198.51.100.1:5060", "203.0.113.5:5060", "unsolicited");
  run_for (f, SIM_SEC (1));
  g_assert_cmpuint (f->received->len, ==, 0);
  reasons = drop_reasons (f);
  g_assert_nonnull (strstr (reasons, "192.168.1.10 is a private address behind router: nothing "
                                     "outside router routes to it"));
  g_assert_nonnull (strstr (reasons, "router has no mapping for port 5060"));

  send (f, "192.168.1.11:5060", "192.168.1.10:5060", "next door");
  run_for (f, SIM_SEC (1));
  g_assert_cmpstr (last_received (f), ==, "inside<192.168.1.11:5060>192.168.1.10:5060 next door");
  g_assert_cmpuint (sim_net_nat_get_n_mappings (f->net, "router"), ==, 0);
}

static void
test_filter_admits_only_peers (Fixture       *f,
                               gconstpointer  data)
{
  g_autofree char *reasons = NULL;

  g_test_summary ("Address-dependent filtering (RFC 4787 §5): only a host the inside host has "
                  "sent to gets in through its mapping.");
  send (f, "192.168.1.10:5060", "198.51.100.1:5060", "out");
  run_for (f, SIM_SEC (1));
  send (f, "198.51.100.66:5060", "203.0.113.5:40000", "let me in");
  run_for (f, SIM_SEC (1));
  g_assert_cmpuint (f->received->len, ==, 1);
  reasons = drop_reasons (f);
  g_assert_nonnull (strstr (reasons, "router drops it: 192.168.1.10:5060 has sent nothing to "
                                     "198.51.100.66"));
}

static void
test_unused_mapping_closes (Fixture       *f,
                            gconstpointer  data)
{
  g_autofree char *reasons = NULL;
  SimAddr inside, pub;

  g_test_summary ("Outgoing traffic keeps a mapping open; incoming traffic does not; one unused "
                  "for the timeout closes, with a note, and what arrives then is dropped.");
  sim_addr_init (&inside, "192.168.1.10", 5060, SIM_TRANSPORT_UDP);
  send (f, "192.168.1.10:5060", "198.51.100.1:5060", "out");
  run_for (f, SIM_SEC (40));
  send (f, "192.168.1.10:5060", "198.51.100.1:5060", "keep-alive");
  run_for (f, SIM_SEC (40));
  /* 80 s after the first datagram, 40 s after the last: still open. */
  g_assert_true (sim_net_nat_lookup (f->net, "router", &inside, &pub));
  send (f, "198.51.100.1:5060", "203.0.113.5:40000", "in");
  run_for (f, SIM_SEC (1));
  g_assert_cmpstr (last_received (f), ==, "inside<198.51.100.1:5060>192.168.1.10:5060 in");
  /* Incoming traffic does not refresh it: 60 s after the keep-alive it closes. */
  run_for (f, SIM_SEC (20));
  g_assert_false (sim_net_nat_lookup (f->net, "router", &inside, &pub));
  g_assert_cmpuint (sim_net_nat_get_n_mappings (f->net, "router"), ==, 0);
  g_assert_cmpuint (count_notes (f, "NAT mapping 203.0.113.5:40000 -> 192.168.1.10:5060 closed: "
                                    "nothing went out through it for 60 s"), ==, 1);
  send (f, "198.51.100.1:5060", "203.0.113.5:40000", "too late");
  run_for (f, SIM_SEC (1));
  g_assert_cmpstr (last_received (f), ==, "inside<198.51.100.1:5060>192.168.1.10:5060 in");
  reasons = drop_reasons (f);
  g_assert_nonnull (strstr (reasons, "router has no mapping for port 40000"));
  /* Sending again opens a new mapping, on the next port. */
  send (f, "192.168.1.10:5060", "198.51.100.1:5060", "again");
  run_for (f, SIM_SEC (1));
  g_assert_cmpstr (last_received (f), ==, "server<203.0.113.5:40001>198.51.100.1:5060 again");
}

static void
test_mappings_are_bounded (Fixture       *f,
                           gconstpointer  data)
{
  g_autofree char *reasons = NULL;

  g_test_summary ("A NAT holds at most SIM_NET_NAT_MAX_MAPPINGS mappings: a new flow beyond "
                  "that is dropped, the existing ones keep working.");
  for (guint i = 0; i <= SIM_NET_NAT_MAX_MAPPINGS; i++)
    {
      g_autofree char *src = g_strdup_printf ("192.168.1.10:%u", 1000 + i);
      send (f, src, "198.51.100.1:5060", "x");
    }
  run_for (f, SIM_SEC (1));
  g_assert_cmpuint (sim_net_nat_get_n_mappings (f->net, "router"), ==, SIM_NET_NAT_MAX_MAPPINGS);
  g_assert_cmpuint (f->received->len, ==, SIM_NET_NAT_MAX_MAPPINGS);
  reasons = drop_reasons (f);
  g_assert_nonnull (strstr (reasons, "router has no free port for a new mapping"));
  send (f, "192.168.1.10:1000", "198.51.100.1:5060", "old flow");
  run_for (f, SIM_SEC (1));
  g_assert_cmpstr (last_received (f), ==, "server<203.0.113.5:40000>198.51.100.1:5060 old flow");
}

static void
test_behind_is_checked (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  g_assert_false (sim_net_set_behind (f->net, "inside", "server", &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_false (sim_net_set_behind (f->net, "router", "router", &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_true (sim_net_set_behind (f->net, "neighbour", NULL, &error));
  g_assert_null (sim_net_host_behind (f->net, "neighbour"));
}

/* ------------------------------------------------------------------------------------------ */
/* RFC 3581 with real phones and the registrar                                                */

static const char scene[] =
  "server registrar 198.51.100.1 domain lab.example\n"
  "policy auth off\n"
  "nat home-router 203.0.113.5 timeout 60s\n"
  "user alice password a\n"
  "user bob password b\n"
  "user carol password c\n"
  "phone alice-home user alice ip 192.168.1.10 behind home-router\n"
  "phone carol-old user carol ip 192.168.1.11 behind home-router quirk no-rport\n"
  "phone bob-desk user bob ip 198.51.100.22\n"
  "at 0s register bob-desk\n"
  "at 0s register alice-home\n";

static SimWorld *
load_scene (const char *extra)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *text = g_strconcat (scene, extra, NULL);
  SimWorld *world = sim_scenario_load_data (text, -1, "nat.scn", 0, NULL, &error);

  g_assert_no_error (error);
  return world;
}

static guint
count_packets (SimWorld   *world,
               const char *action,
               const char *what,        /* method, or status as text */
               const char *to)
{
  GPtrArray *events = sim_trace_get_events (sim_world_get_trace (world));
  guint n = 0;

  for (guint i = 0; i < events->len; i++)
    {
      SimEvent *e = events->pdata[i];
      char status[8];

      if (e->type != SIM_EVENT_PACKET || g_strcmp0 (e->action, action) != 0 ||
          g_strcmp0 (e->to, to) != 0)
        continue;
      g_snprintf (status, sizeof status, "%d", e->status);
      if (g_strcmp0 (e->status ? status : e->method, what) == 0)
        n++;
    }
  return n;
}

/* The Via of the last 200 OK delivered to @to. */
static char *
last_via (SimWorld   *world,
          const char *to)
{
  GPtrArray *events = sim_trace_get_events (sim_world_get_trace (world));

  for (guint i = events->len; i > 0; i--)
    {
      SimEvent *e = events->pdata[i - 1];
      const char *via;

      if (e->type == SIM_EVENT_PACKET && g_strcmp0 (e->action, "delivered") == 0 &&
          g_strcmp0 (e->to, to) == 0 && e->status == 200 && (via = strstr (e->raw, "Via: ")))
        return g_strndup (via, strcspn (via, "\r\n"));
    }
  return NULL;
}

static void
test_rport_brings_the_response_back (void)
{
  g_autoptr(SimWorld) world = load_scene ("");
  g_autofree char *via = NULL;
  const SimBinding *binding;

  g_test_summary ("RFC 3581 §4: with rport the registrar notes received= and rport= and "
                  "answers to the NAT's mapping, which lets the 200 OK in.  The binding keeps "
                  "the private Contact and, as its source, the flow.");
  sim_world_run_until (world, SIM_SEC (5));
  g_assert_cmpint (sim_phone_get_reg_state (sim_world_get_phone (world, "alice-home")), ==,
                   SIM_REG_REGISTERED);
  via = last_via (world, "alice-home");
  g_assert_nonnull (via);
  g_assert_nonnull (strstr (via, "SIP/2.0/UDP 192.168.1.10:5060;"));
  g_assert_nonnull (strstr (via, ";rport=40000"));
  g_assert_nonnull (strstr (via, ";received=203.0.113.5"));
  binding = sim_location_find (sim_world_get_location (world), "sip:alice@lab.example",
                               "sip:alice@192.168.1.10:5060");
  g_assert_nonnull (binding);
  g_assert_cmpstr (binding->source.ip, ==, "203.0.113.5");
  g_assert_cmpuint (binding->source.port, ==, 40000);
}

static void
test_without_rport_the_response_is_lost (void)
{
  g_autoptr(SimWorld) world = load_scene ("at 1s register carol-old\n");

  g_test_summary ("RFC 3261 §18.2.2 without rport: the response goes to the received address "
                  "at the Via's port, 5060, where the NAT has no mapping: every copy is dropped "
                  "and the phone gives up after Timer F, though the registrar bound it.");
  sim_world_run_until (world, SIM_SEC (40));
  g_assert_cmpuint (count_packets (world, "delivered", "200", "carol-old"), ==, 0);
  g_assert_cmpuint (count_packets (world, "dropped", "200", "home-router"), >=, 2);
  g_assert_cmpint (sim_phone_get_reg_state (sim_world_get_phone (world, "carol-old")), ==,
                   SIM_REG_FAILED);
  g_assert_nonnull (sim_location_find (sim_world_get_location (world), "sip:carol@lab.example",
                                       "sip:carol@192.168.1.11:5060"));
}

static void
test_invite_goes_over_the_flow (void)
{
  g_autoptr(SimWorld) world = load_scene ("at 1s call bob-desk alice\n");

  g_test_summary ("The proxy sends an INVITE for the AOR over the binding's flow (the source of "
                  "its REGISTER): the NAT lets it in and the call is set up, although the "
                  "Request-URI is the private Contact.");
  sim_world_run_until (world, SIM_SEC (10));
  g_assert_cmpint (sim_phone_get_call_state (sim_world_get_phone (world, "bob-desk")), ==,
                   SIM_CALL_ESTABLISHED);
  g_assert_cmpuint (count_packets (world, "delivered", "INVITE", "alice-home"), ==, 1);
}

static void
test_route_to_contact_loses_the_invite (void)
{
  g_autoptr(SimWorld) world = load_scene ("at 1s policy route-to contact\n"
                                          "at 1s call bob-desk alice\n");

  g_test_summary ("policy route-to contact: the INVITE goes to the private address in the "
                  "Contact, which nothing outside the NAT routes to; Timer B ends the call.");
  sim_world_run_until (world, SIM_SEC (40));
  g_assert_cmpuint (count_packets (world, "delivered", "INVITE", "alice-home"), ==, 0);
  g_assert_cmpuint (count_packets (world, "dropped", "INVITE", "alice-home"), >=, 1);
  g_assert_cmpint (sim_phone_get_call_state (sim_world_get_phone (world, "bob-desk")), ==,
                   SIM_CALL_FAILED);
}

static void
test_closed_mapping_loses_the_invite (void)
{
  g_autoptr(SimWorld) world = load_scene ("at 2m call bob-desk alice\n");

  g_test_summary ("An hour's registration outlives a 60 s mapping: the INVITE over the flow "
                  "is dropped at the NAT while the registrar still holds the binding.");
  sim_world_run_until (world, SIM_SEC (180));
  g_assert_cmpuint (count_packets (world, "dropped", "INVITE", "home-router"), >=, 1);
  g_assert_cmpuint (count_packets (world, "delivered", "INVITE", "alice-home"), ==, 0);
  g_assert_cmpint (sim_phone_get_call_state (sim_world_get_phone (world, "bob-desk")), ==,
                   SIM_CALL_FAILED);
  g_assert_nonnull (sim_location_find (sim_world_get_location (world), "sip:alice@lab.example",
                                       "sip:alice@192.168.1.10:5060"));
}

static void
test_short_refreshes_keep_the_flow (void)
{
  g_autoptr(SimWorld) world = load_scene ("at 1s register alice-home expires 60\n"
                                          "at 3m call bob-desk alice\n");

  g_test_summary ("Refreshing every 30 s keeps the mapping open: the call three minutes later "
                  "reaches the phone.");
  sim_world_run_until (world, SIM_SEC (190));
  g_assert_cmpint (sim_phone_get_call_state (sim_world_get_phone (world, "alice-home")), ==,
                   SIM_CALL_ESTABLISHED);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/sim/nat/outbound-datagram-leaves-from-a-mapping", Fixture, NULL, fixture_set_up,
              test_outbound_leaves_from_a_mapping, fixture_tear_down);
  g_test_add ("/sim/nat/unsolicited-and-private-datagrams-are-dropped", Fixture, NULL,
              fixture_set_up, test_unsolicited_and_private_are_dropped, fixture_tear_down);
  g_test_add ("/sim/nat/filter-admits-only-hosts-the-inside-host-sent-to", Fixture, NULL,
              fixture_set_up, test_filter_admits_only_peers, fixture_tear_down);
  g_test_add ("/sim/nat/unused-mapping-closes-after-the-timeout", Fixture, NULL, fixture_set_up,
              test_unused_mapping_closes, fixture_tear_down);
  g_test_add ("/sim/nat/mappings-are-bounded", Fixture, NULL, fixture_set_up,
              test_mappings_are_bounded, fixture_tear_down);
  g_test_add ("/sim/nat/behind-is-checked", Fixture, NULL, fixture_set_up,
              test_behind_is_checked, fixture_tear_down);
  g_test_add_func ("/sim/nat/rport-brings-the-response-back", test_rport_brings_the_response_back);
  g_test_add_func ("/sim/nat/without-rport-the-response-is-lost",
                   test_without_rport_the_response_is_lost);
  g_test_add_func ("/sim/nat/invite-for-the-aor-goes-over-the-flow", test_invite_goes_over_the_flow);
  g_test_add_func ("/sim/nat/route-to-contact-loses-the-invite",
                   test_route_to_contact_loses_the_invite);
  g_test_add_func ("/sim/nat/closed-mapping-loses-the-invite", test_closed_mapping_loses_the_invite);
  g_test_add_func ("/sim/nat/short-refreshes-keep-the-flow-open", test_short_refreshes_keep_the_flow);
  return g_test_run ();
}
