/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "sim-export.h"
#include "sim-scenario.h"
#include "sim-svg-ladder.h"

#include <stdlib.h>
#include <string.h>

/*
 * The SVG ladder: every drawing must be well-formed XML (GMarkup parses it), with the
 * expected columns and arrows, and with nothing from a hostile file turned into markup.
 */

/* What a drawing holds, read back with GMarkup. */
typedef struct {
  guint n_svg;
  GPtrArray *nodes;        /* data-name of each <g class="node">, in document order */
  GPtrArray *arrows;       /* "FROM>TO LABEL [FATE]" for each <g class="arrow ..."> */
  GPtrArray *notes;        /* the text of each <g class="note">, lines joined by a space */
  GString *note;           /* the note being read, or NULL */
  gboolean in_text;
} Drawing;

static void
drawing_clear (Drawing *d)
{
  g_clear_pointer (&d->nodes, g_ptr_array_unref);
  g_clear_pointer (&d->arrows, g_ptr_array_unref);
  g_clear_pointer (&d->notes, g_ptr_array_unref);
  if (d->note != NULL)
    g_string_free (g_steal_pointer (&d->note), TRUE);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Drawing, drawing_clear)

static const char *
attr (const char **names,
      const char **values,
      const char  *name)
{
  for (guint i = 0; names[i] != NULL; i++)
    if (strcmp (names[i], name) == 0)
      return values[i];
  return NULL;
}

static void
start_cb (GMarkupParseContext  *context,
          const char           *element,
          const char          **names,
          const char          **values,
          gpointer              user_data,
          GError              **error)
{
  Drawing *d = user_data;
  const char *klass = attr (names, values, "class");

  if (strcmp (element, "svg") == 0)
    {
      g_assert_cmpstr (attr (names, values, "xmlns"), ==, "http://www.w3.org/2000/svg");
      d->n_svg++;
    }
  else if (strcmp (element, "g") == 0 && g_strcmp0 (klass, "node") == 0)
    g_ptr_array_add (d->nodes, g_strdup (attr (names, values, "data-name")));
  else if (strcmp (element, "g") == 0 && klass != NULL && g_str_has_prefix (klass, "arrow "))
    g_ptr_array_add (d->arrows, g_strdup_printf ("%s>%s %s [%s]", attr (names, values, "data-from"),
                                                 attr (names, values, "data-to"),
                                                 attr (names, values, "data-label"),
                                                 klass + strlen ("arrow ")));
  else if (strcmp (element, "g") == 0 && g_strcmp0 (klass, "note") == 0)
    d->note = g_string_new (NULL);
  else if (strcmp (element, "text") == 0 && d->note != NULL && g_strcmp0 (klass, "text") == 0)
    d->in_text = TRUE;
}

static void
end_cb (GMarkupParseContext  *context,
        const char           *element,
        gpointer              user_data,
        GError              **error)
{
  Drawing *d = user_data;

  if (strcmp (element, "text") == 0)
    d->in_text = FALSE;
  else if (strcmp (element, "g") == 0 && d->note != NULL)
    g_ptr_array_add (d->notes, g_string_free (g_steal_pointer (&d->note), FALSE));
}

static void
text_cb (GMarkupParseContext  *context,
         const char           *text,
         gsize                 len,
         gpointer              user_data,
         GError              **error)
{
  Drawing *d = user_data;

  if (!d->in_text)
    return;
  if (d->note->len > 0)
    g_string_append_c (d->note, ' ');
  g_string_append_len (d->note, text, len);
}

/* Parses @svg (one or more <svg> elements) into @d; fails the test if it is not XML. */
static void
read_drawing (const char *svg,
              Drawing    *d)
{
  static const GMarkupParser parser = { start_cb, end_cb, text_cb, NULL, NULL };
  g_autoptr(GMarkupParseContext) context = NULL;
  g_autoptr(GError) error = NULL;
  /* GMarkup wants one root: the parts go under a wrapper. */
  g_autofree char *doc = g_strconcat ("<doc>", svg, "</doc>", NULL);

  d->nodes = g_ptr_array_new_with_free_func (g_free);
  d->arrows = g_ptr_array_new_with_free_func (g_free);
  d->notes = g_ptr_array_new_with_free_func (g_free);
  context = g_markup_parse_context_new (&parser, 0, d, NULL);
  g_markup_parse_context_parse (context, doc, -1, &error);
  g_assert_no_error (error);
  g_markup_parse_context_end_parse (context, &error);
  g_assert_no_error (error);
}

static gboolean
has_note_starting (Drawing    *d,
                   const char *start)
{
  for (guint i = 0; i < d->notes->len; i++)
    if (g_str_has_prefix (d->notes->pdata[i], start))
      return TRUE;
  return FALSE;
}

/* ------------------------------------------------------------------------------------------ */

static const char *scene =
  "title svg ladder test\n"
  "seed 7\n"
  "server registrar 10.0.0.1 domain lab.example\n"
  "link default latency 20ms jitter 0ms loss 0%\n"
  "user alice password secret123\n"
  "phone alice-desk user alice ip 10.0.0.11\n"
  "at 0s register alice-desk\n"
  "run 2s\n";

static SimWorld *
run_scene (void)
{
  g_autoptr(GError) error = NULL;
  SimWorld *world = sim_scenario_load_data (scene, -1, "test.scn", 0, NULL, &error);

  g_assert_no_error (error);
  sim_world_run_until (world, SIM_SEC (2));
  return world;
}

static void
test_register_scene_draws_columns_and_arrows (void)
{
  g_autoptr(SimWorld) world = run_scene ();
  GPtrArray *events = sim_trace_get_events (sim_world_get_trace (world));
  const char *columns[] = { "registrar", "alice-desk", NULL };
  SimSvgLadderOptions opts = { .nodes = columns };
  g_autoptr(GString) svg = g_string_new (NULL);
  g_auto(Drawing) d = { 0 };

  g_test_summary ("A digest registration: the two columns in the order asked for, and the "
                  "four datagrams of RFC 3261 §22 as arrows with the text ladder's labels.");
  sim_svg_ladder (events, svg, &opts);
  read_drawing (svg->str, &d);
  g_assert_cmpuint (d.n_svg, ==, 1);
  g_assert_cmpuint (d.nodes->len, ==, 2);
  g_assert_cmpstr (d.nodes->pdata[0], ==, "registrar");
  g_assert_cmpstr (d.nodes->pdata[1], ==, "alice-desk");
  g_assert_cmpuint (d.arrows->len, ==, 4);
  g_assert_cmpstr (d.arrows->pdata[0], ==, "alice-desk>registrar REGISTER (CSeq 1) [delivered]");
  g_assert_cmpstr (d.arrows->pdata[1], ==,
                   "registrar>alice-desk 401 Unauthorized (CSeq 1 REGISTER) [delivered]");
  g_assert_cmpstr (d.arrows->pdata[2], ==, "alice-desk>registrar REGISTER (CSeq 2) [delivered]");
  g_assert_cmpstr (d.arrows->pdata[3], ==,
                   "registrar>alice-desk 200 OK (CSeq 2 REGISTER) [delivered]");
  /* The other events, worded as the text ladder words them. */
  g_assert_true (has_note_starting (&d, "+ nonce issued at registrar"));
  g_assert_true (has_note_starting (&d, "+ binding added: sip:alice@lab.example -> "
                                        "sip:alice@10.0.0.11:5060"));
  /* Timers only when asked for, as in the text ladder. */
  g_assert_false (has_note_starting (&d, "~ "));
}

static void
test_columns_default_to_order_of_appearance (void)
{
  g_autoptr(SimWorld) world = run_scene ();
  GPtrArray *events = sim_trace_get_events (sim_world_get_trace (world));
  g_autoptr(GString) svg = g_string_new (NULL);
  g_auto(Drawing) d = { 0 };
  const char *columns[] = { "bob-desk", NULL };
  SimSvgLadderOptions opts = { .nodes = columns, .show_timers = TRUE };

  sim_svg_ladder (events, svg, NULL);
  read_drawing (svg->str, &d);
  g_assert_cmpuint (d.nodes->len, ==, 2);
  g_assert_cmpstr (d.nodes->pdata[0], ==, "alice-desk");
  g_assert_cmpstr (d.nodes->pdata[1], ==, "registrar");
  drawing_clear (&d);

  /* A column asked for comes first, even with no arrow; the rest follow as they appear. */
  g_string_truncate (svg, 0);
  sim_svg_ladder (events, svg, &opts);
  read_drawing (svg->str, &d);
  g_assert_cmpuint (d.nodes->len, ==, 3);
  g_assert_cmpstr (d.nodes->pdata[0], ==, "bob-desk");
  g_assert_cmpstr (d.nodes->pdata[1], ==, "alice-desk");
  g_assert_true (has_note_starting (&d, "~ alice-desk timer"));
}

/* ------------------------------------------------------------------------------------------ */

static const char register_raw[] =
  "REGISTER sip:lab.example SIP/2.0\r\n"
  "Via: SIP/2.0/UDP 10.0.0.11:5060;branch=z9hG4bK1\r\n"
  "Call-ID: c1@10.0.0.11\r\n"
  "CSeq: 1 REGISTER\r\n"
  "Content-Length: 0\r\n\r\n";

static SimEvent *
add_packet (GPtrArray  *events,
            SimTime     t,
            const char *action,
            const char *from,
            const char *to,
            const char *dst_ip)
{
  SimEvent *e = sim_event_new (SIM_EVENT_PACKET, action);
  SimAddr src, dst;

  sim_addr_init (&src, "10.0.0.11", 5060, SIM_TRANSPORT_UDP);
  sim_addr_init (&dst, dst_ip, 5060, SIM_TRANSPORT_UDP);
  e->t = t;
  sim_event_set_packet (e, from, to, &src, &dst, register_raw, strlen (register_raw));
  g_ptr_array_add (events, e);
  return e;
}

static SimEvent *
add_note (GPtrArray    *events,
          SimEventType  type,
          const char   *action,
          const char   *text,
          const char   *reason)
{
  SimEvent *e = sim_event_new (type, action);

  e->node = g_strdup ("registrar");
  e->text = g_strdup (text);
  e->reason = g_strdup (reason);
  g_ptr_array_add (events, e);
  return e;
}

static void
test_fates_are_drawn (void)
{
  g_autoptr(GPtrArray) events = g_ptr_array_new_with_free_func ((GDestroyNotify) sim_event_unref);
  g_autoptr(GString) svg = g_string_new (NULL);
  g_auto(Drawing) d = { 0 };

  /* Each datagram goes to its own address, so the fates cannot be paired up wrongly. */
  add_packet (events, 0, "sent", "alice-desk", "registrar", "10.0.0.1");
  add_packet (events, 0, "dropped", "alice-desk", "registrar", "10.0.0.1")->reason =
    g_strdup ("lost on the link (simulated packet loss)");
  add_packet (events, SIM_MSEC (500), "retransmitted", "alice-desk", "registrar", "10.0.0.2");
  add_packet (events, SIM_MSEC (520), "delivered", "alice-desk", "registrar", "10.0.0.2");
  add_packet (events, SIM_SEC (1), "sent", "alice-desk", "registrar", "10.0.0.3");
  add_packet (events, SIM_SEC (1), "dropped", "alice-desk", "registrar", "10.0.0.3")->reason =
    g_strdup ("nobody at 10.0.0.3:5060");
  add_packet (events, SIM_SEC (2), "sent", "alice-desk", "registrar", "10.0.0.4");

  sim_svg_ladder (events, svg, NULL);
  read_drawing (svg->str, &d);
  g_assert_cmpuint (d.arrows->len, ==, 4);
  g_assert_cmpstr (d.arrows->pdata[0], ==, "alice-desk>registrar REGISTER (CSeq 1) [lost]");
  g_assert_cmpstr (d.arrows->pdata[1], ==,
                   "alice-desk>registrar REGISTER (CSeq 1) (retx) [delivered]");
  g_assert_cmpstr (d.arrows->pdata[2], ==, "alice-desk>registrar REGISTER (CSeq 1) [dropped]");
  g_assert_cmpstr (d.arrows->pdata[3], ==, "alice-desk>registrar REGISTER (CSeq 1) [in-flight]");
  /* The text ladder's line for each drop, with its reason. */
  g_assert_true (has_note_starting (&d, "x REGISTER (CSeq 1) from alice-desk to registrar "
                                        "dropped: nobody at 10.0.0.3:5060"));
}

static void
test_hostile_text_is_escaped (void)
{
  g_autoptr(GPtrArray) events = g_ptr_array_new_with_free_func ((GDestroyNotify) sim_event_unref);
  g_autoptr(GString) svg = g_string_new (NULL);
  g_auto(Drawing) d = { 0 };
  const char *evil_node = "<g class=\"node\" data-name=\"x\">&amp;'";
  const char *evil_note = "</text></g><script>alert(1)</script>]]>\x01\x1b & \xff\xfe end";
  const char *columns[] = { evil_node, NULL };
  SimSvgLadderOptions opts = { .nodes = columns, .title = "</title><script>" };

  g_test_summary ("Node names and notes come from files a teacher got from anyone: every "
                  "character of them is text in the drawing, never markup.");
  add_packet (events, 0, "sent", evil_node, "registrar", "10.0.0.1");
  add_note (events, SIM_EVENT_NOTE, "note", evil_note, NULL);

  sim_svg_ladder (events, svg, &opts);
  g_assert_null (strstr (svg->str, "<script"));
  read_drawing (svg->str, &d);
  g_assert_cmpuint (d.nodes->len, ==, 2);
  g_assert_cmpstr (d.nodes->pdata[0], ==, evil_node);
  g_assert_cmpuint (d.arrows->len, ==, 1);
  g_assert_true (g_str_has_prefix (d.arrows->pdata[0], evil_node));
  /* Control characters and invalid UTF-8 are replaced; the rest reads as written. */
  g_assert_cmpuint (d.notes->len, ==, 1);
  g_assert_nonnull (strstr (d.notes->pdata[0], "</text></g><script>alert(1)</script>]]>"));
  g_assert_nonnull (strstr (d.notes->pdata[0], " end"));
  g_assert_true (g_utf8_validate (svg->str, -1, NULL));
  for (const char *p = svg->str; *p != '\0'; p++)
    g_assert_true ((guchar) *p >= 0x20 || *p == '\n' || *p == '\t');
}

static void
test_tall_ladders_split_into_parts (void)
{
  g_autoptr(GPtrArray) events = g_ptr_array_new_with_free_func ((GDestroyNotify) sim_event_unref);
  g_autoptr(GPtrArray) parts = NULL;
  const char *columns[] = { "registrar", "alice-desk", NULL };
  SimSvgLadderOptions opts = { .nodes = columns, .max_height = 300 };
  guint n_arrows = 0;

  for (guint i = 0; i < 30; i++)
    {
      g_autofree char *ip = g_strdup_printf ("10.0.1.%u", i + 1);
      add_packet (events, SIM_MSEC (100 * i), "sent", "alice-desk", "registrar", ip);
      add_packet (events, SIM_MSEC (100 * i + 20), "delivered", "alice-desk", "registrar", ip);
    }
  parts = sim_svg_ladder_parts (events, &opts);
  g_assert_cmpuint (parts->len, >, 1);
  for (guint i = 0; i < parts->len; i++)
    {
      g_auto(Drawing) d = { 0 };
      const char *height;

      read_drawing (parts->pdata[i], &d);
      g_assert_cmpuint (d.n_svg, ==, 1);
      /* Every part names the columns at its top. */
      g_assert_cmpuint (d.nodes->len, ==, 2);
      g_assert_cmpstr (d.nodes->pdata[0], ==, "registrar");
      g_assert_cmpuint (d.arrows->len, >, 0);
      n_arrows += d.arrows->len;
      height = strstr (parts->pdata[i], "height=\"");
      g_assert_nonnull (height);
      g_assert_cmpint (atoi (height + strlen ("height=\"")), <=, 300);
    }
  g_assert_cmpuint (n_arrows, ==, 30);

  /* Without a limit, one drawing. */
  g_clear_pointer (&parts, g_ptr_array_unref);
  opts.max_height = 0;
  parts = sim_svg_ladder_parts (events, &opts);
  g_assert_cmpuint (parts->len, ==, 1);
}

static void
test_brief_mode_explains_each_kind_once (void)
{
  g_autoptr(GPtrArray) events = g_ptr_array_new_with_free_func ((GDestroyNotify) sim_event_unref);
  g_autoptr(GHashTable) explained = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  SimSvgLadderOptions opts = { .explained = explained };
  g_autoptr(GString) svg = g_string_new (NULL);
  g_auto(Drawing) d = { 0 };

  add_note (events, SIM_EVENT_NONCE, "issued", NULL, "WHY-ONE (RFC 3261 §22.1)");
  add_note (events, SIM_EVENT_NONCE, "issued", NULL, "WHY-TWO");
  add_note (events, SIM_EVENT_NONCE, "accepted", NULL, "WHY-THREE");

  sim_svg_ladder (events, svg, &opts);
  read_drawing (svg->str, &d);
  g_assert_cmpuint (d.notes->len, ==, 3);
  g_assert_cmpstr (d.notes->pdata[0], ==,
                   "+ nonce issued at registrar (WHY-ONE (RFC 3261 §22.1))");
  g_assert_cmpstr (d.notes->pdata[1], ==, "+ nonce issued at registrar");
  g_assert_cmpstr (d.notes->pdata[2], ==, "+ nonce accepted at registrar (WHY-THREE)");
  drawing_clear (&d);

  /* The set remembers across drawings: a document explains a kind once. */
  g_string_truncate (svg, 0);
  sim_svg_ladder (events, svg, &opts);
  g_assert_null (strstr (svg->str, "WHY-"));

  /* Without the set, every reason is shown, as in the text ladder. */
  g_string_truncate (svg, 0);
  sim_svg_ladder (events, svg, NULL);
  g_assert_nonnull (strstr (svg->str, "WHY-TWO"));
}

static void
test_empty_events_still_draw_well_formed (void)
{
  g_autoptr(GPtrArray) events = g_ptr_array_new ();
  g_autoptr(GString) svg = g_string_new (NULL);
  g_auto(Drawing) d = { 0 };

  sim_svg_ladder (events, svg, NULL);
  read_drawing (svg->str, &d);
  g_assert_cmpuint (d.n_svg, ==, 1);
  g_assert_cmpuint (d.nodes->len, ==, 0);
  g_assert_cmpuint (d.arrows->len, ==, 0);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/sim/svg-ladder/register-scene-draws-columns-and-arrows",
                   test_register_scene_draws_columns_and_arrows);
  g_test_add_func ("/sim/svg-ladder/columns-default-to-order-of-appearance",
                   test_columns_default_to_order_of_appearance);
  g_test_add_func ("/sim/svg-ladder/fates-are-drawn", test_fates_are_drawn);
  g_test_add_func ("/sim/svg-ladder/hostile-text-is-escaped", test_hostile_text_is_escaped);
  g_test_add_func ("/sim/svg-ladder/tall-ladders-split-into-parts",
                   test_tall_ladders_split_into_parts);
  g_test_add_func ("/sim/svg-ladder/brief-mode-explains-each-kind-once",
                   test_brief_mode_explains_each_kind_once);
  g_test_add_func ("/sim/svg-ladder/empty-events-still-draw-well-formed",
                   test_empty_events_still_draw_well_formed);
  return g_test_run ();
}
