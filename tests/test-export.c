/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "sim-export.h"

#include <json-glib/json-glib.h>
#include <string.h>

static char *
make_request (const char *method,
              guint       cseq,
              const char *branch,
              const char *extra)
{
  return g_strdup_printf ("%s sip:lab.example SIP/2.0\r\n"
                          "Via: SIP/2.0/UDP 10.0.0.11:5060;branch=%s;rport\r\n"
                          "Call-ID: c1@10.0.0.11\r\n"
                          "CSeq: %u %s\r\n"
                          "%s"
                          "Content-Length: 0\r\n"
                          "\r\n", method, branch, cseq, method, extra ? extra : "");
}

static char *
make_response (int         status,
               const char *reason,
               const char *method,
               guint       cseq,
               const char *branch)
{
  return g_strdup_printf ("SIP/2.0 %d %s\r\n"
                          "Via: SIP/2.0/UDP 10.0.0.11:5060;branch=%s;rport=5060\r\n"
                          "Call-ID: c1@10.0.0.11\r\n"
                          "CSeq: %u %s\r\n"
                          "Content-Length: 0\r\n"
                          "\r\n", status, reason, branch, cseq, method);
}

typedef struct {
  const char *name;
  const char *ip;
} Node;

static const Node nodes[] = {
  { "alice-desk", "10.0.0.11" },
  { "registrar", "10.0.0.1" },
  { "bob-desk", "10.0.0.12" },
  { "eve", "10.0.0.66" },
};

static const char *
ip_of (const char *name)
{
  for (guint i = 0; i < G_N_ELEMENTS (nodes); i++)
    if (g_strcmp0 (nodes[i].name, name) == 0)
      return nodes[i].ip;
  return name;
}

static SimEvent *
packet (GPtrArray  *events,
        SimTime     t,
        const char *action,
        const char *from,
        const char *to,
        const char *raw)
{
  SimEvent *event = sim_event_new (SIM_EVENT_PACKET, action);
  SimAddr src, dst;

  sim_addr_init (&src, ip_of (from), 5060, SIM_TRANSPORT_UDP);
  sim_addr_init (&dst, ip_of (to), 5060, SIM_TRANSPORT_UDP);
  event->t = t;
  event->index = events->len;
  sim_event_set_packet (event, from, to, &src, &dst, raw, strlen (raw));
  g_ptr_array_add (events, event);
  return event;
}

/* Sent at @t, delivered @latency later. */
static void
flight (GPtrArray  *events,
        SimTime     t,
        const char *from,
        const char *to,
        const char *raw)
{
  packet (events, t, "sent", from, to, raw);
  packet (events, t + SIM_MSEC (20), "delivered", from, to, raw);
}

static GPtrArray *
register_trace (void)
{
  GPtrArray *events = g_ptr_array_new_with_free_func ((GDestroyNotify) sim_event_unref);
  g_autofree char *r1 = make_request ("REGISTER", 1, "z9hG4bK1", "Expires: 3600\r\n");
  g_autofree char *c401 = make_response (401, "Unauthorized", "REGISTER", 1, "z9hG4bK1");
  g_autofree char *r2 = make_request ("REGISTER", 2, "z9hG4bK2", "Authorization: Digest x\r\n");
  g_autofree char *ok = make_response (200, "OK", "REGISTER", 2, "z9hG4bK2");
  g_autofree char *inv = make_request ("INVITE", 1, "z9hG4bK3", NULL);
  SimEvent *event;

  event = sim_event_new (SIM_EVENT_ACTION, "register");
  event->node = g_strdup ("alice-desk");
  event->text = g_strdup ("register alice-desk");
  g_ptr_array_add (events, event);
  flight (events, 0, "alice-desk", "registrar", r1);
  event = sim_event_new (SIM_EVENT_NONCE, "issued");
  event->t = SIM_MSEC (20);
  event->node = g_strdup ("registrar");
  event->nonce = g_strdup ("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
  event->algorithm = g_strdup ("MD5");
  g_ptr_array_add (events, event);
  flight (events, SIM_MSEC (20), "registrar", "alice-desk", c401);
  /* The authenticated REGISTER is lost once on the link, then retransmitted. */
  packet (events, SIM_MSEC (40), "sent", "alice-desk", "registrar", r2);
  event = packet (events, SIM_MSEC (40), "dropped", "alice-desk", "registrar", r2);
  event->reason = g_strdup ("lost on the link (simulated packet loss)");
  event = sim_event_new (SIM_EVENT_TIMER, "fired");
  event->t = SIM_MSEC (540);
  event->node = g_strdup ("alice-desk");
  event->name = g_strdup ("E");
  event->duration = SIM_MSEC (500);
  event->branch = g_strdup ("z9hG4bK2");
  g_ptr_array_add (events, event);
  packet (events, SIM_MSEC (540), "retransmitted", "alice-desk", "registrar", r2);
  packet (events, SIM_MSEC (560), "delivered", "alice-desk", "registrar", r2);
  event = sim_event_new (SIM_EVENT_BINDING, "added");
  event->t = SIM_MSEC (560);
  event->node = g_strdup ("registrar");
  event->aor = g_strdup ("sip:alice@lab.example");
  event->contact = g_strdup ("sip:alice@10.0.0.11:5060");
  event->expires = 3600;
  g_ptr_array_add (events, event);
  flight (events, SIM_MSEC (560), "registrar", "alice-desk", ok);
  /* An INVITE to bob, who is powered off. */
  packet (events, SIM_SEC (2), "sent", "alice-desk", "bob-desk", inv);
  event = packet (events, SIM_SEC (2) + SIM_MSEC (20), "dropped", "alice-desk", "bob-desk", inv);
  event->reason = g_strdup ("bob-desk is powered off");
  return events;
}

static void
test_ladder_draws_arrows (void)
{
  g_autoptr(GPtrArray) events = register_trace ();
  g_autoptr(GString) out = g_string_new (NULL);
  g_auto(GStrv) lines = NULL;
  SimExportOptions opts = { 0 };

  g_test_summary ("One row per datagram, the arrow head at the receiver, X where it was lost, "
                  "(retx) on retransmissions, annotations for the rest.");

  sim_export_ladder (events, out, &opts);
  g_test_message ("\n%s", out->str);
  lines = g_strsplit (out->str, "\n", -1);

  g_assert_true (g_str_has_prefix (lines[0], "           alice-desk"));
  g_assert_nonnull (strstr (lines[0], "registrar"));
  g_assert_nonnull (strstr (lines[0], "bob-desk"));
  g_assert_true (strstr (lines[0], "alice-desk") < strstr (lines[0], "registrar"));
  g_assert_true (strstr (lines[0], "registrar") < strstr (lines[0], "bob-desk"));
  g_assert_true (g_str_has_prefix (lines[2], "   0.000s  "));
  g_assert_nonnull (strstr (lines[2], ">> register alice-desk"));
  g_assert_true (g_str_has_prefix (lines[3], "   0.000s       |-"));
  g_assert_nonnull (strstr (lines[3], " REGISTER (CSeq 1) "));
  g_assert_nonnull (strstr (lines[3], "->|"));
  g_assert_nonnull (strstr (lines[4], "+ nonce issued at registrar: AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA MD5"));
  g_assert_true (g_str_has_prefix (lines[5], "   0.020s       |<-"));
  g_assert_nonnull (strstr (lines[5], "401 Unauthorized"));
  /* Lost on the link: an X and no head. */
  g_assert_nonnull (strstr (lines[6], "REGISTER (CSeq 2)"));
  g_assert_nonnull (strstr (lines[6], "X"));
  g_assert_null (strstr (lines[6], ">"));
  g_assert_nonnull (strstr (lines[7], "x REGISTER (CSeq 2) from alice-desk to registrar dropped: lost on the link"));
  /* Timers are hidden by default. */
  g_assert_nonnull (strstr (lines[8], "REGISTER (CSeq 2) (retx)"));
  g_assert_nonnull (strstr (lines[9], "+ binding added: sip:alice@lab.example -> sip:alice@10.0.0.11:5060 expires 3600"));
  g_assert_nonnull (strstr (lines[10], "200 OK"));
  /* Dropped at the receiver: the X takes the place of the head. */
  g_assert_true (g_str_has_prefix (lines[11], "   2.000s       |-"));
  g_assert_nonnull (strstr (lines[11], "INVITE (CSeq 1)"));
  g_assert_nonnull (strstr (lines[11], "-X|"));
  g_assert_nonnull (strstr (lines[12], "bob-desk is powered off"));
  g_assert_cmpstr (lines[13], ==, "");
  g_assert_null (lines[14]);

  for (guint i = 0; lines[i] != NULL; i++)
    g_assert_cmpuint (strlen (lines[i]), <=, 120);
}

static void
test_ladder_shows_timers_on_request (void)
{
  g_autoptr(GPtrArray) events = register_trace ();
  g_autoptr(GString) out = g_string_new (NULL);
  SimExportOptions opts = { .show_timers = TRUE };

  sim_export_ladder (events, out, &opts);
  g_assert_nonnull (strstr (out->str, "   0.540s  ~ alice-desk timer E fired 0.5s [z9hG4bK2]\n"));
}

static void
test_ladder_fits_six_nodes (void)
{
  g_autoptr(GPtrArray) events = g_ptr_array_new_with_free_func ((GDestroyNotify) sim_event_unref);
  g_autoptr(GString) out = g_string_new (NULL);
  const char *names[] = { "alice-desk", "alice-softphone", "registrar", "bob-desk",
                          "bob-softphone", "bob-mobile" };
  g_auto(GStrv) lines = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    for (guint j = 0; j < G_N_ELEMENTS (names); j++)
      if (i != j)
        {
          g_autofree char *raw = make_response (487, "Request Terminated", "INVITE", i * 10 + j, "z9hG4bKx");
          flight (events, SIM_MSEC (i * 100 + j), names[i], names[j], raw);
        }
  sim_export_ladder (events, out, NULL);
  lines = g_strsplit (out->str, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_assert_cmpuint (strlen (lines[i]), <=, 120);
      if (i > 2 && lines[i][0] != '\0')
        {
          /* Every row still has a head (or a shortened label ending in ".."). */
          g_assert_true (strchr (lines[i], '>') != NULL || strchr (lines[i], '<') != NULL);
          g_assert_nonnull (strstr (lines[i], "487"));
        }
    }
  g_test_message ("\n%s", out->str);
}

static void
test_given_column_order (void)
{
  g_autoptr(GPtrArray) events = register_trace ();
  g_autoptr(GString) out = g_string_new (NULL);
  const char *order[] = { "bob-desk", "registrar", NULL };
  SimExportOptions opts = { .nodes = order };

  sim_export_ladder (events, out, &opts);
  g_assert_true (strstr (out->str, "bob-desk") < strstr (out->str, "registrar"));
  g_assert_true (strstr (out->str, "registrar") < strstr (out->str, "alice-desk"));
}

static void
test_messages_list_each_datagram_once (void)
{
  g_autoptr(GPtrArray) events = register_trace ();
  g_autoptr(GString) out = g_string_new (NULL);
  const char *p;
  guint n = 0;

  sim_export_messages (events, out);
  for (p = out->str; (p = strstr (p, "=== ")) != NULL; p += 4)
    n++;
  g_assert_cmpuint (n, ==, 6);
  g_assert_true (g_str_has_prefix (out->str,
                                   "=== 0.000s  alice-desk -> registrar  10.0.0.11:5060 -> 10.0.0.1:5060  UDP  sent ===\n"
                                   "REGISTER sip:lab.example SIP/2.0\n"));
  g_assert_nonnull (strstr (out->str, "sent  [dropped: lost on the link (simulated packet loss)] ===\n"));
  g_assert_nonnull (strstr (out->str, "UDP  retransmitted ===\n"));
  g_assert_null (strchr (out->str, '\r'));
}

static JsonObject *
parse_line (JsonParser *parser,
            const char *line)
{
  g_autoptr(GError) error = NULL;

  json_parser_load_from_data (parser, line, -1, &error);
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)));
  return json_node_get_object (json_parser_get_root (parser));
}

static void
test_jsonl_fields (void)
{
  g_autoptr(GPtrArray) events = register_trace ();
  g_autoptr(GString) out = g_string_new (NULL);
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_auto(GStrv) lines = NULL;
  const char *packet_fields[] = { "t", "type", "action", "from", "to", "src", "dst", "transport",
                                  "first_line", "call_id", "cseq", "raw" };
  JsonObject *o;

  sim_export_jsonl (events, out);
  lines = g_strsplit (out->str, "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, events->len + 1);
  g_assert_cmpstr (lines[events->len], ==, "");

  /* The action */
  g_assert_cmpstr (lines[0], ==,
                   "{\"t\":0.0,\"type\":\"action\",\"node\":\"alice-desk\",\"action\":\"register\","
                   "\"text\":\"register alice-desk\"}");

  /* The first REGISTER */
  o = parse_line (parser, lines[1]);
  for (guint i = 0; i < G_N_ELEMENTS (packet_fields); i++)
    g_assert_true (json_object_has_member (o, packet_fields[i]));
  g_assert_cmpfloat (json_object_get_double_member (o, "t"), ==, 0.0);
  g_assert_cmpstr (json_object_get_string_member (o, "type"), ==, "packet");
  g_assert_cmpstr (json_object_get_string_member (o, "action"), ==, "sent");
  g_assert_cmpstr (json_object_get_string_member (o, "from"), ==, "alice-desk");
  g_assert_cmpstr (json_object_get_string_member (o, "src"), ==, "10.0.0.11:5060");
  g_assert_cmpstr (json_object_get_string_member (o, "dst"), ==, "10.0.0.1:5060");
  g_assert_cmpstr (json_object_get_string_member (o, "transport"), ==, "UDP");
  g_assert_cmpstr (json_object_get_string_member (o, "first_line"), ==, "REGISTER sip:lab.example SIP/2.0");
  g_assert_cmpstr (json_object_get_string_member (o, "call_id"), ==, "c1@10.0.0.11");
  g_assert_cmpstr (json_object_get_string_member (o, "cseq"), ==, "1 REGISTER");
  g_assert_cmpstr (json_object_get_string_member (o, "method"), ==, "REGISTER");
  g_assert_cmpstr (json_object_get_string_member (o, "branch"), ==, "z9hG4bK1");
  g_assert_false (json_object_has_member (o, "status"));
  g_assert_true (g_str_has_prefix (json_object_get_string_member (o, "raw"), "REGISTER sip:lab.example SIP/2.0\r\n"));

  /* The nonce */
  o = parse_line (parser, lines[3]);
  g_assert_cmpstr (json_object_get_string_member (o, "type"), ==, "nonce");
  g_assert_cmpfloat (json_object_get_double_member (o, "t"), ==, 0.02);
  g_assert_true (g_str_has_prefix (lines[3], "{\"t\":0.02,"));
  g_assert_cmpstr (json_object_get_string_member (o, "nonce"), ==, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
  g_assert_cmpstr (json_object_get_string_member (o, "algorithm"), ==, "MD5");
  g_assert_true (json_object_has_member (o, "user"));
  g_assert_true (json_object_has_member (o, "reason"));

  /* The 401 */
  o = parse_line (parser, lines[4]);
  g_assert_cmpint (json_object_get_int_member (o, "status"), ==, 401);
  g_assert_cmpstr (json_object_get_string_member (o, "method"), ==, "REGISTER");

  /* The drop */
  o = parse_line (parser, lines[7]);
  g_assert_cmpstr (json_object_get_string_member (o, "action"), ==, "dropped");
  g_assert_cmpstr (json_object_get_string_member (o, "reason"), ==, "lost on the link (simulated packet loss)");

  /* The timer: duration in seconds */
  o = parse_line (parser, lines[8]);
  g_assert_cmpstr (json_object_get_string_member (o, "type"), ==, "timer");
  g_assert_cmpstr (json_object_get_string_member (o, "name"), ==, "E");
  g_assert_cmpfloat (json_object_get_double_member (o, "duration"), ==, 0.5);
  g_assert_cmpstr (json_object_get_string_member (o, "branch"), ==, "z9hG4bK2");
  g_assert_true (g_str_has_prefix (lines[8], "{\"t\":0.54,"));

  /* The binding */
  o = parse_line (parser, lines[11]);
  g_assert_cmpstr (json_object_get_string_member (o, "type"), ==, "binding");
  g_assert_cmpstr (json_object_get_string_member (o, "aor"), ==, "sip:alice@lab.example");
  g_assert_cmpstr (json_object_get_string_member (o, "contact"), ==, "sip:alice@10.0.0.11:5060");
  g_assert_cmpint (json_object_get_int_member (o, "expires"), ==, 3600);
  g_assert_true (json_object_has_member (o, "reason"));

  for (guint i = 0; lines[i] != NULL && lines[i][0] != '\0'; i++)
    parse_line (parser, lines[i]);
}

static void
test_seconds_are_exact (void)
{
  struct { SimTime t; const char *text; } cases[] = {
    { 0, "0.0" },
    { SIM_MSEC (20), "0.02" },
    { SIM_SEC (3700) + SIM_USEC (20001), "3700.020001" },
    { SIM_SEC (12), "12.0" },
    { SIM_USEC (1), "0.000001" },
    { -SIM_MSEC (1500), "-1.5" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GString) s = g_string_new (NULL);
      sim_export_format_seconds (cases[i].t, s);
      g_assert_cmpstr (s->str, ==, cases[i].text);
    }
}

static void
test_one_time_format (void)
{
  struct { SimTime t; const char *text; } cases[] = {
    { 0, "0.000s" },
    { SIM_MSEC (20), "0.020s" },
    /* Truncated like a clock, never rounded: 42.9 ms is still the 42nd millisecond. */
    { SIM_USEC (42900), "0.042s" },
    { SIM_USEC (42499), "0.042s" },
    { SIM_SEC (3700) + SIM_USEC (20999), "3700.020s" },
    { -SIM_MSEC (1500), "-1.500s" },
  };

  g_test_summary ("One formatter for every time a student reads: milliseconds, truncated.");
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GString) s = g_string_new (NULL);
      g_autofree char *text = sim_export_time_string (cases[i].t);

      sim_export_format_time (cases[i].t, s);
      g_assert_cmpstr (s->str, ==, cases[i].text);
      g_assert_cmpstr (text, ==, cases[i].text);
    }
}

/* Occurrences of @needle in @haystack. */
static guint
count (const char *haystack,
       const char *needle)
{
  guint n = 0;

  for (const char *p = strstr (haystack, needle); p != NULL; p = strstr (p + 1, needle))
    n++;
  return n;
}

static void
test_ladder_explains_once (void)
{
  static const char prose[] = "the request carries no Digest credentials for this realm, so it "
                              "is challenged with a fresh nonce";
  g_autoptr(GPtrArray) events = g_ptr_array_new_with_free_func ((GDestroyNotify) sim_event_unref);
  g_autoptr(GHashTable) explained =
    g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GString) all = g_string_new (NULL);
  g_autoptr(GString) first = g_string_new (NULL);
  g_autoptr(GString) second = g_string_new (NULL);
  SimExportOptions brief = { .explained = explained };

  g_test_summary ("With a set of reasons already given, a ladder writes each explanation once, "
                  "over several ladders; short reasons that tell events apart stay.");
  for (guint i = 0; i < 3; i++)
    {
      SimEvent *e = sim_event_new (SIM_EVENT_NONCE, "no-credentials");
      SimEvent *r = sim_event_new (SIM_EVENT_REGISTRATION, "unregistering");

      e->t = SIM_SEC (i);
      e->node = g_strdup ("registrar");
      e->reason = g_strdup (prose);
      r->t = SIM_SEC (i);
      r->node = g_strdup ("bob-desk");
      r->expires = 0;
      r->reason = g_strdup ("Expires: 0");
      g_ptr_array_add (events, e);
      g_ptr_array_add (events, r);
    }
  sim_export_ladder (events, all, NULL);
  g_assert_cmpuint (count (all->str, "no Digest credentials"), ==, 3);
  sim_export_ladder (events, first, &brief);
  g_assert_cmpuint (count (first->str, "no Digest credentials"), ==, 1);
  g_assert_cmpuint (count (first->str, "+ nonce no-credentials at registrar"), ==, 3);
  g_assert_cmpuint (count (first->str, "(Expires: 0)"), ==, 3);
  /* The next ladder of the same session has explained it already. */
  sim_export_ladder (events, second, &brief);
  g_assert_cmpuint (count (second->str, "no Digest credentials"), ==, 0);
  g_assert_cmpuint (count (second->str, "(Expires: 0)"), ==, 3);
}

static void
test_jsonl_survives_bad_bytes (void)
{
  g_autoptr(GString) out = g_string_new (NULL);
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(SimEvent) event = sim_event_new (SIM_EVENT_PACKET, "sent");
  const char raw[] = "GARBAGE \xff\xfe \"quoted\"\r\n\x01\r\n\r\n";
  SimAddr a;

  sim_addr_init (&a, "10.0.0.66", 5060, SIM_TRANSPORT_UDP);
  sim_event_set_packet (event, "eve", "registrar", &a, &a, raw, strlen (raw));
  sim_export_jsonl_line (event, out);
  g_assert_true (g_utf8_validate (out->str, -1, NULL));
  g_assert_cmpuint (out->str[out->len - 1], ==, '\n');
  g_string_truncate (out, out->len - 1);
  parse_line (parser, out->str);
}

/*
 * The direct writer escapes as json-glib's generator did (the bytes `run --format jsonl` always
 * printed), except 0x1f, which json-glib leaves raw and RFC 8259 §7 forbids: every ASCII byte
 * in a note's text comes out as json-glib writes it and parses back to itself.
 */
static void
test_jsonl_escapes_like_json_glib (void)
{
  for (guint c = 1; c < 0x80; c++)
    {
      g_autoptr(GString) out = g_string_new (NULL);
      g_autoptr(SimEvent) event = sim_event_new (SIM_EVENT_NOTE, "note");
      g_autoptr(JsonParser) parser = json_parser_new ();
      g_autoptr(JsonBuilder) builder = json_builder_new ();
      g_autoptr(JsonGenerator) generator = json_generator_new ();
      g_autoptr(JsonNode) root = NULL;
      g_autofree char *text = g_strdup_printf ("a%cb\xc3\xa9", c);
      g_autofree char *theirs = NULL;
      g_autofree char *expected = NULL;
      JsonObject *object;

      event->t = SIM_SEC (1);
      event->node = g_strdup ("n");
      event->text = g_strdup (text);
      sim_export_jsonl_line (event, out);

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "text");
      json_builder_add_string_value (builder, text);
      json_builder_end_object (builder);
      root = json_builder_get_root (builder);
      json_generator_set_root (generator, root);
      theirs = json_generator_to_data (generator, NULL);
      if (c == 0x1f)
        expected = g_strdup ("{\"text\":\"a\\u001fb\xc3\xa9\"}");
      else
        expected = g_strdup (theirs);
      /* {"t":1.0,"type":"note","node":"n","action":"note","text":...} */
      g_assert_nonnull (strstr (out->str, expected + 1));
      g_assert_true (g_str_has_prefix (out->str, "{\"t\":1.0,\"type\":\"note\",\"node\":\"n\","));

      g_assert_true (json_parser_load_from_data (parser, out->str, -1, NULL));
      object = json_node_get_object (json_parser_get_root (parser));
      g_assert_cmpstr (json_object_get_string_member (object, "text"), ==, text);
    }
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/sim/export/ladder-draws-arrows", test_ladder_draws_arrows);
  g_test_add_func ("/sim/export/ladder-shows-timers-on-request", test_ladder_shows_timers_on_request);
  g_test_add_func ("/sim/export/ladder-fits-six-nodes", test_ladder_fits_six_nodes);
  g_test_add_func ("/sim/export/given-column-order", test_given_column_order);
  g_test_add_func ("/sim/export/messages-list-each-datagram-once", test_messages_list_each_datagram_once);
  g_test_add_func ("/sim/export/jsonl-fields", test_jsonl_fields);
  g_test_add_func ("/sim/export/seconds-are-exact", test_seconds_are_exact);
  g_test_add_func ("/sim/export/jsonl-survives-bad-bytes", test_jsonl_survives_bad_bytes);
  g_test_add_func ("/sim/export/jsonl-escapes-like-json-glib", test_jsonl_escapes_like_json_glib);
  g_test_add_func ("/sim/export/one-time-format", test_one_time_format);
  g_test_add_func ("/sim/export/ladder-explains-each-reason-once", test_ladder_explains_once);
  return g_test_run ();
}
