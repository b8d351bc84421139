/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <string.h>

#include "sim-document.h"
#include "sim-export.h"
#include "sim-pcap.h"
#include "sim-scenario.h"
#include "test-cli-run.h"

/*
 * Long runs (issue 17): a run that keeps no trace stays in bounded memory, prints what a run
 * in pieces prints, and `siplab-cli run` (which streams) prints what a kept trace prints.
 *
 * The scene is data/scenarios/09-a-day.scn: 300 phones refreshing every minute over a lossy
 * LAN, about 2,400 datagrams a virtual minute.
 */

/* The virtual time the memory test plays; what is kept per datagram would show long before. */
#define LONG_RUN SIM_SEC (20 * 60)
/* What the run may reach at its peak (the scene's world is a few MB; a kept trace of
 * LONG_RUN would be over 100 MB), and how much the peak may still grow after a third of it. */
#define LONG_RUN_MAX_KB  (96 * 1024)
#define LONG_RUN_GROWTH_KB (6 * 1024)

/*
 * The GUI's document over the same scene (issue 17: a day in 500 MB): every event goes into
 * its SimHistory, whose full chunks go to the spill file, so what it holds in memory and the
 * process's peak stop growing once the scene runs.  Kept in memory, the history grew about
 * 42 MB a virtual hour, and the process about 60 MB.
 */
#define LONG_DOCUMENT SIM_SEC (60 * 60)
/* The trace's window (SIM_DOCUMENT_MAX_EVENTS SimEvents, about 40 MB) and the world. */
#define LONG_DOCUMENT_MAX_KB (160 * 1024)
/* The open chunk, the decompressed cache and the chunk index. */
#define LONG_DOCUMENT_HISTORY_MAX_BYTES (16 * 1024 * 1024)
#define LONG_DOCUMENT_GROWTH_KB (12 * 1024)

static char *
scene_path (const char *name)
{
  const char *srcdir = g_getenv ("SIPLAB_SOURCE_DIR");

  return srcdir != NULL ? g_build_filename (srcdir, "data", "scenarios", name, NULL) : NULL;
}

/* The process's peak resident size so far (VmHWM), in kB. */
static guint64
peak_rss_kb (void)
{
  g_autofree char *status = NULL;
  const char *line;

  g_assert_true (g_file_get_contents ("/proc/self/status", &status, NULL, NULL));
  line = strstr (status, "VmHWM:");
  g_assert_nonnull (line);
  return g_ascii_strtoull (line + strlen ("VmHWM:"), NULL, 10);
}

/* JSON Lines of every event into a checksum: the output, without keeping it. */
typedef struct {
  GChecksum *sum;
  GString *line;
  guint64 bytes;
} Digest;

static void
digest_event_cb (SimTrace *trace,
                 SimEvent *event,
                 gpointer  user_data)
{
  Digest *d = user_data;

  g_string_truncate (d->line, 0);
  sim_export_jsonl_line (event, d->line);
  g_checksum_update (d->sum, (const guchar *) d->line->str, d->line->len);
  d->bytes += d->line->len;
}

/* Loads @path with its trace not kept, digesting what building it traced and what follows. */
static SimWorld *
load_streamed (const char *path,
               Digest     *d,
               gulong     *handler)
{
  g_autoptr(GError) error = NULL;
  SimWorld *world = sim_scenario_load_file (path, 0, NULL, &error);
  SimTrace *trace;
  GPtrArray *built;

  g_assert_no_error (error);
  trace = sim_world_get_trace (world);
  built = sim_trace_get_events (trace);
  d->sum = g_checksum_new (G_CHECKSUM_SHA256);
  d->line = g_string_new (NULL);
  for (guint i = 0; i < built->len; i++)
    digest_event_cb (trace, built->pdata[i], d);
  sim_trace_set_keep (trace, FALSE);
  *handler = g_signal_connect (trace, "event", G_CALLBACK (digest_event_cb), d);
  return world;
}

static void
digest_clear (Digest *d)
{
  g_checksum_free (d->sum);
  g_string_free (d->line, TRUE);
}

/* The subprocess: its own peak memory, not the test runner's. */
static void
long_run_child (void)
{
  g_autofree char *path = scene_path ("09-a-day.scn");
  Digest straight = { 0 }, pieces = { 0 };
  g_autoptr(GRand) rand = g_rand_new_with_seed (17);
  g_autofree char *straight_sum = NULL;
  guint64 third_kb, end_kb;
  guint n_pieces = 0;
  gulong handler;

  {
    g_autoptr(SimWorld) world = load_streamed (path, &straight, &handler);

    sim_world_run_until (world, LONG_RUN / 3);
    third_kb = peak_rss_kb ();
    sim_world_run_until (world, LONG_RUN);
    end_kb = peak_rss_kb ();
    g_clear_signal_handler (&handler, sim_world_get_trace (world));
  }
  g_test_message ("peak RSS %" G_GUINT64_FORMAT " kB after a third, %" G_GUINT64_FORMAT
                  " kB at the end; %" G_GUINT64_FORMAT " bytes of JSON Lines",
                  third_kb, end_kb, straight.bytes);
#if defined(__SANITIZE_ADDRESS__)
  /* AddressSanitizer's shadow memory and its quarantine of freed blocks (256 MB by default)
   * make the resident size say nothing about what the program keeps: the sanitizer build
   * checks the bytes below, the normal build checks the memory too. */
  g_test_message ("AddressSanitizer build: peak RSS not checked");
#else
  g_assert_cmpuint (end_kb, <=, LONG_RUN_MAX_KB);
  g_assert_cmpuint (end_kb, <=, third_kb + LONG_RUN_GROWTH_KB);
#endif
  straight_sum = g_strdup (g_checksum_get_string (straight.sum));

  {
    g_autoptr(SimWorld) world = load_streamed (path, &pieces, &handler);
    SimTime t = 0;

    /* Irregular pieces, from a microsecond to a minute and a half, some ending exactly where a
     * timer fires or a datagram arrives (whole milliseconds): the same events, the same order. */
    while (t < LONG_RUN)
      {
        t = MIN (LONG_RUN, t + (g_rand_boolean (rand)
                                ? g_rand_int_range (rand, 1, 1000)
                                : SIM_MSEC (g_rand_int_range (rand, 1, 90000))));
        sim_world_run_until (world, t);
        n_pieces++;
      }
    g_clear_signal_handler (&handler, sim_world_get_trace (world));
  }
  g_test_message ("%u pieces", n_pieces);
  g_assert_cmpuint (pieces.bytes, ==, straight.bytes);
  g_assert_cmpstr (g_checksum_get_string (pieces.sum), ==, straight_sum);
  digest_clear (&straight);
  digest_clear (&pieces);
}

static void
test_long_run_is_bounded_and_equals_a_run_in_pieces (void)
{
  g_autofree char *path = scene_path ("09-a-day.scn");

  g_test_summary ("20 virtual minutes of 300 phones with the trace not kept stay under a memory "
                  "cap, the peak stops growing once the scene is running, and the JSON Lines "
                  "are byte for byte those of the same scene run in many irregular pieces.");
  if (path == NULL)
    {
      g_test_skip ("SIPLAB_SOURCE_DIR is not set");
      return;
    }
  if (g_test_subprocess ())
    {
      long_run_child ();
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();
}

/* The subprocess: its own peak memory, not the test runner's. */
static void
long_document_child (void)
{
  g_autofree char *path = scene_path ("09-a-day.scn");
  g_autoptr(SimDocument) document = sim_document_new ();
  g_autoptr(GError) error = NULL;
  SimHistory *history;
  guint64 half_kb, end_kb;
  gsize in_memory;

  g_assert_true (sim_document_open (document, path, &error));
  g_assert_no_error (error);
  history = sim_document_get_history (document);
  /* A minute at a time, as playing at 3600x does: the trace's window fills in the first
   * minutes, so the peak at half time has everything but what grows with the session. */
  for (SimTime t = SIM_SEC (60); t <= LONG_DOCUMENT / 2; t += SIM_SEC (60))
    sim_document_run_until (document, t);
  half_kb = peak_rss_kb ();
  for (SimTime t = LONG_DOCUMENT / 2 + SIM_SEC (60); t <= LONG_DOCUMENT; t += SIM_SEC (60))
    sim_document_run_until (document, t);
  end_kb = peak_rss_kb ();
  in_memory = sim_history_get_memory_size (history);
  g_test_message ("%" G_GUINT64_FORMAT " events; history %" G_GSIZE_FORMAT " bytes in memory, %"
                  G_GUINT64_FORMAT " in its spill file; peak RSS %" G_GUINT64_FORMAT
                  " kB at half time, %" G_GUINT64_FORMAT " kB at the end",
                  sim_history_get_n_events (history), in_memory,
                  sim_history_get_spilled_size (history), half_kb, end_kb);
  g_assert_cmpuint (sim_history_get_n_events (history), >, 1000000);
  g_assert_cmpuint (in_memory, <=, LONG_DOCUMENT_HISTORY_MAX_BYTES);
  g_assert_cmpuint (sim_history_get_spilled_size (history), >, 10 * 1024 * 1024);
#if defined(__SANITIZE_ADDRESS__)
  /* As in long_run_child(). */
  g_test_message ("AddressSanitizer build: peak RSS not checked");
#else
  g_assert_cmpuint (end_kb, <=, LONG_DOCUMENT_MAX_KB);
  g_assert_cmpuint (end_kb, <=, half_kb + LONG_DOCUMENT_GROWTH_KB);
#endif
}

static void
test_long_document_keeps_its_history_out_of_memory (void)
{
  g_autofree char *path = scene_path ("09-a-day.scn");

  g_test_summary ("A virtual hour of 300 phones in the GUI's document keeps every event in its "
                  "history, yet the history holds a few MB in memory and the peak RSS stops "
                  "growing after half an hour: full chunks live in the unlinked spill file.");
  if (path == NULL)
    {
      g_test_skip ("SIPLAB_SOURCE_DIR is not set");
      return;
    }
  if (g_test_subprocess ())
    {
      long_document_child ();
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDOUT |
                          G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();
}

/* What a run that keeps its trace prints, as siplab-cli run printed it before it streamed. */
static char *
kept_output (const char *path,
             const char *format,
             SimTime     until,
             GBytes    **pcap)
{
  g_autoptr(GError) error = NULL;
  g_auto(SimScenarioInfo) info = { 0 };
  g_autoptr(SimWorld) world = sim_scenario_load_file (path, 0, &info, &error);
  GString *out = g_string_new (NULL);
  GPtrArray *events;

  g_assert_no_error (error);
  sim_world_run_until (world, until > 0 ? until : info.run);
  events = sim_trace_get_events (sim_world_get_trace (world));
  if (strcmp (format, "ladder") == 0)
    {
      if (info.title != NULL)
        g_string_append_printf (out, "%s\n\n", info.title);
      sim_export_ladder (events, out, NULL);
    }
  else if (strcmp (format, "messages") == 0)
    sim_export_messages (events, out);
  else
    sim_export_jsonl (events, out);
  *pcap = sim_pcap_to_bytes (events, NULL);
  return g_string_free (out, FALSE);
}

static void
test_streamed_cli_prints_what_a_kept_trace_prints (void)
{
  const struct {
    const char *scene;
    const char *until;
  } runs[] = {
    { "02-p2p-peer-moves.scn", NULL },
    { "05-devices-fork.scn", NULL },
    { "08-sniffer.scn", NULL },
    { "09-a-day.scn", "90" },
  };
  const char *formats[] = { "ladder", "messages", "jsonl" };
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("siplab-longrun-XXXXXX", &error);
  g_autofree char *pcap_path = g_build_filename (dir, "run.pcapng", NULL);

  g_test_summary ("siplab-cli run, which streams and keeps no trace, prints in every format (and "
                  "captures with --pcap) the same bytes as the exporters over a kept trace.");
  g_assert_no_error (error);
  if (!need_cli () || g_getenv ("SIPLAB_SOURCE_DIR") == NULL)
    {
      if (g_getenv ("SIPLAB_SOURCE_DIR") == NULL)
        g_test_skip ("SIPLAB_SOURCE_DIR is not set");
      return;
    }
  for (guint i = 0; i < G_N_ELEMENTS (runs); i++)
    for (guint f = 0; f < G_N_ELEMENTS (formats); f++)
      {
        g_autofree char *path = scene_path (runs[i].scene);
        g_auto(Result) r = { 0 };
        g_autoptr(GBytes) kept_pcap = NULL;
        g_autofree char *kept = NULL;
        g_autofree char *streamed_pcap = NULL;
        gsize streamed_len;
        SimTime until = runs[i].until != NULL ? SIM_SEC (g_ascii_strtoull (runs[i].until, NULL, 10)) : 0;

        g_test_message ("%s --format %s", runs[i].scene, formats[f]);
        kept = kept_output (path, formats[f], until, &kept_pcap);
        if (runs[i].until != NULL)
          run_cli (&r, "run", path, "--format", formats[f], "--until", runs[i].until,
                   "--pcap", pcap_path, NULL);
        else
          run_cli (&r, "run", path, "--format", formats[f], "--pcap", pcap_path, NULL);
        g_assert_cmpint (r.status, ==, 0);
        g_assert_cmpstr (r.err, ==, "");
        g_assert_cmpstr (r.out, ==, kept);
        g_assert_true (g_file_get_contents (pcap_path, &streamed_pcap, &streamed_len, NULL));
        g_assert_cmpmem (streamed_pcap, streamed_len, g_bytes_get_data (kept_pcap, NULL),
                         g_bytes_get_size (kept_pcap));
      }
  g_unlink (pcap_path);
  g_rmdir (dir);
}

/* A stream holds what is in flight only: fed event by event, it writes as it goes. */
static void
test_stream_writes_as_datagrams_arrive (void)
{
  g_autofree char *path = scene_path ("03-register-digest.scn");
  g_autoptr(GError) error = NULL;
  g_auto(SimScenarioInfo) info = { 0 };
  g_autoptr(SimWorld) world = NULL;
  g_autoptr(SimExportStream) stream = sim_export_stream_new_messages ();
  g_autoptr(GString) out = g_string_new (NULL);
  g_autoptr(GString) whole = g_string_new (NULL);
  GPtrArray *events;
  guint written_before_end = 0;

  if (path == NULL)
    {
      g_test_skip ("SIPLAB_SOURCE_DIR is not set");
      return;
    }
  world = sim_scenario_load_file (path, 0, &info, &error);
  g_assert_no_error (error);
  sim_world_run_until (world, info.run);
  events = sim_trace_get_events (sim_world_get_trace (world));
  for (guint i = 0; i < events->len; i++)
    {
      gsize before = out->len;
      SimEvent *event = events->pdata[i];

      sim_export_stream_add (stream, event, out);
      /* A departure is written only once its fate is known, never at once. */
      if (event->type == SIM_EVENT_PACKET && g_strcmp0 (event->action, "sent") == 0)
        g_assert_cmpuint (out->len, ==, before);
      if (out->len > before)
        written_before_end++;
    }
  sim_export_stream_finish (stream, out);
  g_assert_cmpuint (written_before_end, >, 2);
  sim_export_messages (events, whole);
  g_assert_cmpstr (out->str, ==, whole->str);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/sim/longrun/long-run-is-bounded-and-equals-a-run-in-pieces",
                   test_long_run_is_bounded_and_equals_a_run_in_pieces);
  g_test_add_func ("/sim/longrun/long-document-keeps-its-history-out-of-memory",
                   test_long_document_keeps_its_history_out_of_memory);
  g_test_add_func ("/sim/longrun/streamed-cli-prints-what-a-kept-trace-prints",
                   test_streamed_cli_prints_what_a_kept_trace_prints);
  g_test_add_func ("/sim/longrun/stream-writes-as-datagrams-arrive",
                   test_stream_writes_as_datagrams_arrive);
  return g_test_run ();
}
