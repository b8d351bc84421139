/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "sim-export.h"
#include "sim-pcap.h"
#include "sim-scenario.h"
#include "siplab-cli-cert.h"
#include "siplab-cli-common.h"
#include "siplab-cli-grade.h"
#include "siplab-cli-lesson.h"
#include "siplab-cli-serve.h"
#include "siplab-cli-view.h"
#include "siplab-cli-watch.h"
#include "siplab-cli-worksheet.h"

/*
 * siplab-cli: SIP Lab without a display.  One subcommand per job, each with its own options
 * (GOptionContext), dispatched from the table below.
 *
 * Exit status: 0 success; 2 the command line or the scenario is wrong (the message names
 * FILE:LINE); 1 something failed while running (an action the world refused, a write error).
 */

#ifndef SIPLAB_VERSION
#define SIPLAB_VERSION "0.0"
#endif

enum {
  EXIT_OK = 0,
  EXIT_RUNTIME = 1,
  EXIT_USAGE = SIPLAB_CLI_EXIT_USAGE,
};

typedef struct {
  const char *name;
  const char *args;
  const char *summary;
  int (*main) (int argc, char **argv);
} Command;

static int cmd_run (int argc, char **argv);
static int cmd_check_scenario (int argc, char **argv);
static int cmd_version (int argc, char **argv);
static int cmd_help (int argc, char **argv);

/* Further subcommands (serve, lesson, check) are added here by the issues that bring them. */
static const Command commands[] = {
  { "run", "FILE", "run a scenario in virtual time and print what happened", cmd_run },
  { "check-scenario", "FILE", "parse a scenario file and report the first error",
    cmd_check_scenario },
  { "lesson", "FILE", "play a lesson in the terminal (questions at a prompt)", siplab_cli_lesson },
  { "check", "FILE...", "verify every claim of lessons in the simulator", siplab_cli_check },
  { "lessons", "", "list the shipped lessons and your progress", siplab_cli_lessons },
  { "worksheet", "FILE --format md|html",
    "a lesson on paper: handout, or answer key with --answers", siplab_cli_worksheet },
  { "class", "init [--out FILE]", "make a class key that signs hand-ins", siplab_cli_class },
  { "grade", "KEY HANDIN...", "verify hand-ins and print per-question statistics",
    siplab_cli_grade },
  { "serve", "--listen ... --domain D --users F", "run the registrar and proxy on real sockets", siplab_cli_serve },
  { "cert", "--host NAME [--ip ADDR]... [--out DIR]",
    "make a lab CA and a TLS server certificate for serve", siplab_cli_cert },
  { "view", "FILE [--users F] [--format F] [--filter K=V]",
    "explain a pcap/pcapng capture of a real network", siplab_cli_view },
  { "watch", "--hep udp:HOST:PORT", "show a PBX's SIP traffic live from HEP (Kamailio siptrace...)",
    siplab_cli_watch },
  { "version", "", "print the version", cmd_version },
  { "help", "[COMMAND]", "show help for a command", cmd_help },
};

static void
print_usage (FILE *out)
{
  fprintf (out, "Usage: siplab-cli COMMAND [OPTIONS...]\n\n"
                "SIP Lab: a teaching simulator for SIP registration.\n\n"
                "Commands:\n");
  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    {
      g_autofree char *left = g_strdup_printf ("%s %s", commands[i].name, commands[i].args);

      if (strlen (left) > 22)
        fprintf (out, "  %s\n  %-22s %s\n", left, "", commands[i].summary);
      else
        fprintf (out, "  %-22s %s\n", left, commands[i].summary);
    }
  fprintf (out, "\nRun 'siplab-cli COMMAND --help' for a command's options.\n");
}

static const Command *
find_command (const char *name)
{
  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    if (strcmp (commands[i].name, name) == 0)
      return &commands[i];
  return NULL;
}

static gboolean
write_stdout (const char *data,
              gsize       len)
{
  return fwrite (data, 1, len, stdout) == len;
}

/* ------------------------------------------------------------------------------------------ */
/* run                                                                                        */

typedef enum {
  FORMAT_LADDER,
  FORMAT_MESSAGES,
  FORMAT_JSONL,
} Format;

/* Seconds ("90", "1.5") or a duration with a unit ("90s", "2m"). */
static gboolean
parse_until (const char  *text,
             SimTime     *out,
             GError     **error)
{
  g_autofree char *with_unit = NULL;

  if (*text != '\0' && g_ascii_isdigit (text[strlen (text) - 1]))
    text = with_unit = g_strconcat (text, "s", NULL);
  return sim_scenario_parse_duration (text, out, error);
}

/* The options of `run`, parsed and checked. */
typedef struct {
  char *until_text;
  char *format_text;
  char *pcap_path;
  char *seed_text;
  char *columns_text;
  gboolean show_timers;
  int width;
  Format format;
  guint64 seed;
} RunOptions;

static void
run_options_clear (RunOptions *opts)
{
  g_clear_pointer (&opts->until_text, g_free);
  g_clear_pointer (&opts->format_text, g_free);
  g_clear_pointer (&opts->pcap_path, g_free);
  g_clear_pointer (&opts->seed_text, g_free);
  g_clear_pointer (&opts->columns_text, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (RunOptions, run_options_clear)

/* Parses the command line into @opts: EXIT_OK, or EXIT_USAGE after saying what is wrong. */
static int
run_options_parse (RunOptions   *opts,
                   int          *argc,
                   char       ***argv)
{
  const GOptionEntry entries[] = {
    { "until", 'u', 0, G_OPTION_ARG_STRING, &opts->until_text,
      "Stop at this virtual time (default: the scenario's run length)", "SECONDS" },
    { "seed", 's', 0, G_OPTION_ARG_STRING, &opts->seed_text,
      "Seed for the session's randomness (default: the scenario's)", "N" },
    { "format", 'f', 0, G_OPTION_ARG_STRING, &opts->format_text,
      "Output: ladder (default), messages or jsonl", "FORMAT" },
    { "pcap", 'p', 0, G_OPTION_ARG_FILENAME, &opts->pcap_path,
      "Also write every datagram to a pcapng file", "OUT.pcapng" },
    { "timers", 't', 0, G_OPTION_ARG_NONE, &opts->show_timers,
      "Ladder: also show transaction timers", NULL },
    { "width", 'w', 0, G_OPTION_ARG_INT, &opts->width,
      "Ladder: maximum line width (default 120)", "COLUMNS" },
    { "columns", 'c', 0, G_OPTION_ARG_STRING, &opts->columns_text,
      "Ladder: nodes from left to right (default: in order of appearance)", "A,B,..." },
    { NULL }
  };
  g_autoptr(GOptionContext) context =
    g_option_context_new ("FILE - run a scenario in virtual time");
  g_autoptr(GError) error = NULL;
  const char *format_text;

  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_set_description (context,
    "Prints the session as a ladder diagram, as the list of messages, or as JSON Lines\n"
    "(one object per trace event, documented in docs/jsonl.md).  The same file and seed\n"
    "always print the same bytes.");
  if (!g_option_context_parse (context, argc, argv, &error))
    return siplab_cli_usage_error ("run", "%s", error->message);
  if (*argc < 2)
    return siplab_cli_usage_error ("run", "missing FILE");
  if (*argc > 2)
    return siplab_cli_usage_error ("run", "unexpected argument '%s'", (*argv)[2]);

  format_text = opts->format_text;
  if (format_text == NULL || strcmp (format_text, "ladder") == 0)
    opts->format = FORMAT_LADDER;
  else if (strcmp (format_text, "messages") == 0)
    opts->format = FORMAT_MESSAGES;
  else if (strcmp (format_text, "jsonl") == 0)
    opts->format = FORMAT_JSONL;
  else
    return siplab_cli_usage_error ("run", "unknown format '%s' (ladder, messages or jsonl)",
                                   format_text);
  if (opts->seed_text != NULL &&
      (!g_ascii_string_to_unsigned (opts->seed_text, 10, 1, G_MAXUINT32, &opts->seed, NULL)))
    return siplab_cli_usage_error ("run", "--seed takes a number from 1 to %u, not '%s'",
                                   G_MAXUINT32, opts->seed_text);
  if (opts->width < 0 || (opts->width > 0 && opts->width < 40))
    return siplab_cli_usage_error ("run", "--width must be at least 40");
  return EXIT_OK;
}

/*
 * `run` streams: every event is written (and captured) when the trace emits it and the trace
 * keeps nothing, so a day of virtual time runs in the memory of a minute.  What is kept is what
 * a format still needs: the datagrams in flight (a row waits for its fate) and, for the
 * ladder, its layout, planned by a first run of the same deterministic world.
 */
typedef struct {
  SimExportStream *stream;       /* ladder, messages; NULL: JSON Lines */
  SimPcapWriter *pcap;           /* --pcap */
  GOutputStream *pcap_out;
  GError *pcap_error;            /* the first error of the capture file; it stops the capture */
  GPtrArray *errors;             /* the text of every "error" note, for stderr at the end */
  GString *out;
  gboolean write_failed;
} Runner;

static void
runner_clear (Runner *r)
{
  g_clear_pointer (&r->stream, sim_export_stream_free);
  g_clear_pointer (&r->pcap, sim_pcap_writer_free);
  g_clear_object (&r->pcap_out);
  g_clear_error (&r->pcap_error);
  g_clear_pointer (&r->errors, g_ptr_array_unref);
  if (r->out != NULL)
    g_string_free (g_steal_pointer (&r->out), TRUE);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Runner, runner_clear)

static void
runner_flush (Runner *r)
{
  if (r->out->len > 0 && !write_stdout (r->out->str, r->out->len))
    r->write_failed = TRUE;
  g_string_truncate (r->out, 0);
}

static void
runner_capture (Runner   *r,
                SimEvent *event)
{
  g_autoptr(GError) local = NULL;

  if (r->pcap == NULL || r->pcap_error != NULL)
    return;
  /* A datagram that cannot be framed is left out; a file that fails ends the capture. */
  if (!sim_pcap_writer_add_event (r->pcap, event, &local) && local->domain != SIM_PCAP_ERROR)
    r->pcap_error = g_steal_pointer (&local);
}

static void
runner_event (Runner   *r,
              SimEvent *event)
{
  if (r->stream != NULL)
    sim_export_stream_add (r->stream, event, r->out);
  else
    sim_export_jsonl_line (event, r->out);
  runner_flush (r);
  runner_capture (r, event);
  if (event->type == SIM_EVENT_NOTE && g_strcmp0 (event->action, "error") == 0)
    g_ptr_array_add (r->errors, g_strdup (event->text));
}

static void
runner_event_cb (SimTrace *trace,
                 SimEvent *event,
                 gpointer  user_data)
{
  runner_event (user_data, event);
}

/* Opens the capture file before the run, as sim_pcap_write_file() would after it. */
static void
runner_open_pcap (Runner     *r,
                  const char *path)
{
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GFileOutputStream) out = NULL;

  out = g_file_replace (file, NULL, FALSE, G_FILE_CREATE_NONE, NULL, &r->pcap_error);
  if (out == NULL)
    return;
  r->pcap_out = g_buffered_output_stream_new (G_OUTPUT_STREAM (out));
  r->pcap = sim_pcap_writer_new (r->pcap_out, &r->pcap_error);
}

static void
ladder_options (const RunOptions *opts,
                SimExportOptions *export,
                GStrv            *columns)
{
  *export = (SimExportOptions) { .width = opts->width, .show_timers = opts->show_timers };
  if (opts->columns_text != NULL)
    {
      *columns = g_strsplit (opts->columns_text, ",", -1);
      export->nodes = (const char * const *) *columns;
    }
}

/* Whether the world reads its own trace: a sniffer's offline attack looks back at it. */
static gboolean
scene_reads_trace (const SimScenarioInfo *info)
{
  for (guint i = 0; info->actions != NULL && i < info->actions->len; i++)
    if (((SimCommand *) info->actions->pdata[i])->verb == SIM_VERB_CRACK)
      return TRUE;
  return FALSE;
}

/*
 * Feeds @world's events to @func: those building it traced, then every new one until @until.
 * The trace keeps nothing from here on unless the scene reads it back (`crack`).
 */
static void
run_observed (SimWorld              *world,
              const SimScenarioInfo *info,
              SimTime                until,
              GCallback              func,
              gpointer               data)
{
  SimTrace *trace = sim_world_get_trace (world);
  GPtrArray *built = sim_trace_get_events (trace);
  gulong handler;

  for (guint i = 0; i < built->len; i++)
    ((void (*) (SimTrace *, SimEvent *, gpointer)) func) (trace, built->pdata[i], data);
  sim_trace_set_keep (trace, scene_reads_trace (info));
  handler = g_signal_connect (trace, "event", func, data);
  sim_world_run_until (world, until);
  g_clear_signal_handler (&handler, trace);
}

static void
layout_event_cb (SimTrace *trace,
                 SimEvent *event,
                 gpointer  user_data)
{
  sim_export_layout_add (user_data, event);
}

/* The ladder's layout: a first run of the same world (deterministic), keeping only the layout. */
static SimExportLayout *
plan_ladder (const SimScenarioInfo  *info,
             const RunOptions       *opts,
             SimTime                 until,
             const SimExportOptions *export)
{
  g_autoptr(SimExportLayout) layout = sim_export_layout_new (export);
  g_autoptr(SimWorld) world = sim_scenario_build (info->scenario, (guint32) opts->seed, NULL);

  /* The same scenario built a moment ago, so it builds again. */
  g_assert (world != NULL);
  run_observed (world, info, until, G_CALLBACK (layout_event_cb), layout);
  return g_steal_pointer (&layout);
}

/* Runs @world until @until, printing it as it goes; FALSE when stdout failed. */
static gboolean
run_and_print (SimWorld              *world,
               SimTime                until,
               const SimScenarioInfo *info,
               const RunOptions      *opts,
               Runner                *r)
{
  SimExportOptions export;
  g_auto(GStrv) columns = NULL;

  r->out = g_string_new (NULL);
  r->errors = g_ptr_array_new_with_free_func (g_free);
  if (opts->pcap_path != NULL)
    runner_open_pcap (r, opts->pcap_path);
  if (opts->format == FORMAT_LADDER)
    {
      ladder_options (opts, &export, &columns);
      if (info->title != NULL)
        g_string_append_printf (r->out, "%s\n\n", info->title);
      r->stream = sim_export_stream_new_ladder (plan_ladder (info, opts, until, &export),
                                                &export, r->out);
    }
  else if (opts->format == FORMAT_MESSAGES)
    r->stream = sim_export_stream_new_messages ();

  run_observed (world, info, until, G_CALLBACK (runner_event_cb), r);
  if (r->stream != NULL)
    sim_export_stream_finish (r->stream, r->out);
  runner_flush (r);
  if (r->pcap != NULL && r->pcap_error == NULL)
    g_output_stream_close (r->pcap_out, NULL, &r->pcap_error);
  return fflush (stdout) == 0 && !r->write_failed;
}

static int
cmd_run (int    argc,
         char **argv)
{
  g_auto(RunOptions) opts = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(SimWorld) world = NULL;
  g_auto(SimScenarioInfo) info = { 0 };
  g_auto(Runner) r = { 0 };
  SimTime until;
  int status;

  status = run_options_parse (&opts, &argc, &argv);
  if (status != EXIT_OK)
    return status;

  world = sim_scenario_load_file (argv[1], (guint32) opts.seed, &info, &error);
  if (world == NULL)
    {
      fprintf (stderr, "%s\n", error->message);
      return EXIT_USAGE;
    }
  until = info.run;
  if (opts.until_text != NULL)
    {
      g_autoptr(GError) local = NULL;
      if (!parse_until (opts.until_text, &until, &local))
        return siplab_cli_usage_error ("run", "--until: %s", local->message);
    }

  if (!run_and_print (world, until, &info, &opts, &r))
    {
      fprintf (stderr, "siplab-cli run: cannot write the output\n");
      status = EXIT_RUNTIME;
    }
  if (r.pcap_error != NULL)
    {
      fprintf (stderr, "siplab-cli run: %s\n", r.pcap_error->message);
      status = EXIT_RUNTIME;
    }
  for (guint i = 0; i < r.errors->len; i++)
    fprintf (stderr, "siplab-cli run: %s\n", (char *) r.errors->pdata[i]);
  if (r.errors->len > 0)
    status = EXIT_RUNTIME;
  return status;
}

/* ------------------------------------------------------------------------------------------ */
/* check-scenario                                                                             */

static int
cmd_check_scenario (int    argc,
                    char **argv)
{
  g_autoptr(GOptionContext) context =
    g_option_context_new ("FILE - check a scenario file without running it");
  g_autoptr(GError) error = NULL;
  g_autoptr(SimScenario) scenario = NULL;
  g_autoptr(SimWorld) world = NULL;
  g_autofree char *run = NULL;
  guint n_phones = 0;

  if (!g_option_context_parse (context, &argc, &argv, &error))
    return siplab_cli_usage_error ("check-scenario", "%s", error->message);
  if (argc != 2)
    return siplab_cli_usage_error ("check-scenario",
                                   argc < 2 ? "missing FILE" : "only one FILE, please");

  /* Building the world also catches what only the world can refuse. */
  scenario = sim_scenario_parse_file (argv[1], &error);
  if (scenario != NULL)
    world = sim_scenario_build (scenario, 0, &error);
  if (world == NULL)
    {
      fprintf (stderr, "%s\n", error->message);
      return EXIT_USAGE;
    }
  for (guint i = 0; i < scenario->nodes->len; i++)
    if (((SimScenarioNode *) scenario->nodes->pdata[i])->kind == SIM_SCENARIO_NODE_PHONE)
      n_phones++;
  run = sim_scenario_format_duration (sim_scenario_get_run_length (scenario));
  printf ("%s: ok: %u phone%s, %u user%s, %u action%s, runs %s\n", argv[1],
          n_phones, n_phones == 1 ? "" : "s",
          scenario->users->len, scenario->users->len == 1 ? "" : "s",
          scenario->actions->len, scenario->actions->len == 1 ? "" : "s", run);
  return EXIT_OK;
}

/* ------------------------------------------------------------------------------------------ */

static int
cmd_version (int    argc,
             char **argv)
{
  if (argc > 1 && strcmp (argv[1], "--help") != 0 && strcmp (argv[1], "-h") != 0)
    return siplab_cli_usage_error ("version", "unexpected argument '%s'", argv[1]);
  printf ("siplab-cli %s\n", SIPLAB_VERSION);
  return EXIT_OK;
}

static int
cmd_help (int    argc,
          char **argv)
{
  const Command *command;

  if (argc < 2)
    {
      print_usage (stdout);
      return EXIT_OK;
    }
  command = find_command (argv[1]);
  if (command == NULL || command->main == cmd_help)
    {
      fprintf (stderr, "siplab-cli: unknown command '%s'\n", argv[1]);
      return EXIT_USAGE;
    }
  {
    char *help_argv[] = { argv[1], (char *) "--help", NULL };
    return command->main (2, help_argv);
  }
}

int
main (int    argc,
      char **argv)
{
  const Command *command;
  g_autofree char *name = NULL;

  setlocale (LC_ALL, "");
  /* Output must not depend on the user's locale: numbers keep their '.' everywhere. */
  setlocale (LC_NUMERIC, "C");

  if (argc < 2)
    {
      print_usage (stderr);
      return EXIT_USAGE;
    }
  if (strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0)
    {
      print_usage (stdout);
      return EXIT_OK;
    }
  if (strcmp (argv[1], "--version") == 0)
    return cmd_version (1, argv);

  command = find_command (argv[1]);
  if (command == NULL)
    {
      fprintf (stderr, "siplab-cli: unknown command '%s'\n\n", argv[1]);
      print_usage (stderr);
      return EXIT_USAGE;
    }
  /* The subcommand sees itself as argv[0], so its --help reads "siplab-cli run ...". */
  name = g_strdup_printf ("siplab-cli %s", command->name);
  g_set_prgname (name);
  argv[1] = name;
  return command->main (argc - 1, argv + 1);
}
