/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <gio/gio.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>
#include <sys/wait.h>

#include "sim-lesson-student.h"
#include "test-cli-run.h"

/*
 * siplab-cli end to end: the built program (meson passes its path in SIPLAB_CLI) runs scenario
 * files; the tests look at its exit status, stdout and stderr only, as a script would.
 */

static const char *small_scenario =
  "title CLI test\n"
  "seed 3\n"
  "server registrar 10.0.0.1 domain lab.example\n"
  "link default latency 20ms jitter 5ms loss 0%\n"
  "user alice password secret123\n"
  "user bob password bob-secret\n"
  "phone alice-desk user alice ip 10.0.0.11\n"
  "phone bob-desk user bob ip 10.0.0.12\n"
  "link bob-desk registrar loss 40%\n"
  "at 0s register alice-desk\n"
  "at 0s register bob-desk\n"
  "at 5s call alice-desk bob\n"
  "at 12s hangup alice-desk\n"
  "run 20s\n";

typedef struct {
  char *dir;
  char *scenario;
} Fixture;

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  f->dir = g_dir_make_tmp ("siplab-cli-XXXXXX", &error);
  g_assert_no_error (error);
  f->scenario = g_build_filename (f->dir, "small.scn", NULL);
  g_file_set_contents (f->scenario, small_scenario, -1, &error);
  g_assert_no_error (error);
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  g_autofree char *progress = g_build_filename (f->dir, "siplab", "progress.ini", NULL);
  g_autofree char *progress_dir = g_path_get_dirname (progress);

  /* Lessons played with XDG_DATA_HOME here leave their progress file. */
  g_remove (progress);
  g_rmdir (progress_dir);
  remove_scratch_dir (f->dir);
  g_free (f->dir);
  g_free (f->scenario);
}

static char *
write_file (Fixture    *f,
            const char *name,
            const char *text)
{
  g_autoptr(GError) error = NULL;
  char *path = g_build_filename (f->dir, name, NULL);

  g_file_set_contents (path, text, -1, &error);
  g_assert_no_error (error);
  return path;
}

static void
assert_has_members (JsonObject  *o,
                    const char  *line,
                    const char **names)
{
  for (guint i = 0; names[i] != NULL; i++)
    if (!json_object_has_member (o, names[i]))
      g_error ("member \"%s\" missing in %s", names[i], line);
}

static void
test_jsonl_has_the_fields (Fixture       *f,
                           gconstpointer  data)
{
  g_auto(Result) r = { 0 };
  g_auto(GStrv) lines = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  const char *packet[] = { "t", "type", "action", "from", "to", "src", "dst", "transport",
                           "first_line", "call_id", "cseq", "raw", NULL };
  const char *binding[] = { "t", "type", "node", "aor", "contact", "action", "expires", "reason", NULL };
  const char *nonce[] = { "t", "type", "node", "nonce", "action", "reason", "user", "algorithm", NULL };
  const char *timer[] = { "t", "type", "node", "action", "name", "duration", "branch", NULL };
  const char *other[] = { "t", "type", "node", "action", NULL };
  guint n_packets = 0, n_bindings = 0, n_nonces = 0, n_timers = 0, n_sent = 0;
  double last_t = 0.0;

  if (!need_cli ())
    return;
  run_cli (&r, "run", f->scenario, "--format", "jsonl", NULL);
  g_assert_cmpstr (r.err, ==, "");
  g_assert_cmpint (r.status, ==, 0);
  g_assert_true (g_str_has_suffix (r.out, "\n"));

  lines = g_strsplit (r.out, "\n", -1);
  for (guint i = 0; lines[i] != NULL && lines[i][0] != '\0'; i++)
    {
      g_autoptr(GError) error = NULL;
      JsonObject *o;
      const char *type;
      double t;

      json_parser_load_from_data (parser, lines[i], -1, &error);
      g_assert_no_error (error);
      g_assert_true (JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)));
      o = json_node_get_object (json_parser_get_root (parser));
      g_assert_true (g_str_has_prefix (lines[i], "{\"t\":"));
      t = json_object_get_double_member (o, "t");
      g_assert_cmpfloat (t, >=, last_t);
      last_t = t;
      type = json_object_get_string_member (o, "type");
      if (g_strcmp0 (type, "packet") == 0)
        {
          const char *action = json_object_get_string_member (o, "action");
          assert_has_members (o, lines[i], packet);
          g_assert_true (g_str_has_prefix (json_object_get_string_member (o, "src"), "10.0.0."));
          g_assert_nonnull (strstr (json_object_get_string_member (o, "dst"), ":5060"));
          g_assert_cmpstr (json_object_get_string_member (o, "transport"), ==, "UDP");
          g_assert_true (g_str_has_prefix (json_object_get_string_member (o, "raw"),
                                           json_object_get_string_member (o, "first_line")));
          if (g_strcmp0 (action, "sent") == 0)
            n_sent++;
          n_packets++;
        }
      else if (g_strcmp0 (type, "binding") == 0)
        {
          assert_has_members (o, lines[i], binding);
          n_bindings++;
        }
      else if (g_strcmp0 (type, "nonce") == 0)
        {
          assert_has_members (o, lines[i], nonce);
          n_nonces++;
        }
      else if (g_strcmp0 (type, "timer") == 0)
        {
          assert_has_members (o, lines[i], timer);
          n_timers++;
        }
      else
        assert_has_members (o, lines[i], other);
    }
  g_assert_cmpuint (n_sent, >, 6);
  g_assert_cmpuint (n_packets, >, n_sent);
  g_assert_cmpuint (n_bindings, >=, 2);
  g_assert_cmpuint (n_nonces, >=, 4);
  g_assert_cmpuint (n_timers, >, 0);
  g_assert_cmpfloat (last_t, <=, 20.0);
}

static void
test_same_seed_same_bytes (Fixture       *f,
                           gconstpointer  data)
{
  const char *formats[] = { "ladder", "messages", "jsonl" };

  g_test_summary ("The same scenario and seed print the same bytes; another seed changes the run.");
  if (!need_cli ())
    return;
  for (guint i = 0; i < G_N_ELEMENTS (formats); i++)
    {
      g_auto(Result) a = { 0 };
      g_auto(Result) b = { 0 };
      g_auto(Result) c = { 0 };

      run_cli (&a, "run", f->scenario, "--format", formats[i], "--seed", "11", NULL);
      run_cli (&b, "run", f->scenario, "--format", formats[i], "--seed", "11", NULL);
      run_cli (&c, "run", f->scenario, "--format", formats[i], "--seed", "12", NULL);
      g_assert_cmpint (a.status, ==, 0);
      g_assert_cmpint (b.status, ==, 0);
      g_assert_cmpint (c.status, ==, 0);
      g_assert_cmpuint (strlen (a.out), >, 100);
      g_assert_true (strcmp (a.out, b.out) == 0);
      g_assert_false (strcmp (a.out, c.out) == 0);
    }
}

static void
test_ladder_is_the_default (Fixture       *f,
                            gconstpointer  data)
{
  g_auto(Result) r = { 0 };
  g_auto(Result) until = { 0 };
  g_auto(GStrv) lines = NULL;

  if (!need_cli ())
    return;
  run_cli (&r, "run", f->scenario, NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_true (g_str_has_prefix (r.out, "CLI test\n\n"));
  g_assert_nonnull (strstr (r.out, "REGISTER (CSeq 1)"));
  g_assert_nonnull (strstr (r.out, "INVITE (CSeq 1)"));
  g_assert_nonnull (strstr (r.out, "+ binding added: sip:alice@lab.example -> sip:alice@10.0.0.11:5060"));
  lines = g_strsplit (r.out, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    g_assert_cmpuint (strlen (lines[i]), <=, 120);

  /* --until stops earlier: no call yet at 3 s. */
  run_cli (&until, "run", f->scenario, "--until", "3", NULL);
  g_assert_cmpint (until.status, ==, 0);
  g_assert_null (strstr (until.out, "INVITE"));
  g_assert_true (g_str_has_prefix (r.out, until.out) || strlen (until.out) < strlen (r.out));
}

static void
test_pcap_is_written (Fixture       *f,
                      gconstpointer  data)
{
  g_auto(Result) r = { 0 };
  g_autofree char *path = g_build_filename (f->dir, "out.pcapng", NULL);
  g_autofree char *contents = NULL;
  gsize len = 0;

  if (!need_cli ())
    return;
  run_cli (&r, "run", f->scenario, "--format", "jsonl", "--pcap", path, NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_true (g_file_get_contents (path, &contents, &len, NULL));
  g_assert_cmpuint (len, >, 1000);
  g_assert_true (memcmp (contents, "\x0a\x0d\x0d\x0a", 4) == 0);
}

static void
test_bad_scenario_exits_2 (Fixture       *f,
                           gconstpointer  data)
{
  g_autofree char *bad = NULL;
  g_autofree char *expected = NULL;
  g_auto(Result) r = { 0 };
  g_auto(Result) check = { 0 };

  if (!need_cli ())
    return;
  bad = write_file (f, "bad.scn", "title Broken\nserver registrar 10.0.0.1\n\nat 1s register nobody\n");
  expected = g_strdup_printf ("%s:4: unknown phone 'nobody' (declare it with a 'phone' line before "
                              "this one)\n", bad);
  run_cli (&r, "run", bad, NULL);
  g_assert_cmpint (r.status, ==, 2);
  g_assert_cmpstr (r.out, ==, "");
  g_assert_cmpstr (r.err, ==, expected);

  run_cli (&check, "check-scenario", bad, NULL);
  g_assert_cmpint (check.status, ==, 2);
  g_assert_cmpstr (check.err, ==, expected);
}

static void
test_usage_errors_exit_2 (Fixture       *f,
                          gconstpointer  data)
{
  struct { const char *a, *b, *c, *d; const char *in_err; } cases[] = {
    { NULL, NULL, NULL, NULL, "Usage: siplab-cli COMMAND" },
    { "frobnicate", NULL, NULL, NULL, "unknown command 'frobnicate'" },
    { "run", NULL, NULL, NULL, "missing FILE" },
    { "run", "--format", "xml", "x.scn", "unknown format 'xml'" },
    { "run", "--seed", "many", "x.scn", "--seed takes a number" },
    { "run", "--bogus", "x.scn", NULL, "Unknown option --bogus" },
    { "run", "/nonexistent/x.scn", NULL, NULL, "/nonexistent/x.scn" },
    { "check-scenario", NULL, NULL, NULL, "missing FILE" },
  };

  if (!need_cli ())
    return;
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_auto(Result) r = { 0 };

      run_cli (&r, cases[i].a, cases[i].b, cases[i].c, cases[i].d, NULL);
      g_test_message ("case %u: %s", i, r.err);
      g_assert_cmpint (r.status, ==, 2);
      g_assert_nonnull (strstr (r.err, cases[i].in_err));
    }
}

static void
test_help_and_version (Fixture       *f,
                       gconstpointer  data)
{
  g_auto(Result) help = { 0 };
  g_auto(Result) run_help = { 0 };
  g_auto(Result) version = { 0 };
  g_auto(Result) check = { 0 };

  if (!need_cli ())
    return;
  run_cli (&help, "--help", NULL);
  g_assert_cmpint (help.status, ==, 0);
  g_assert_nonnull (strstr (help.out, "run FILE"));
  g_assert_nonnull (strstr (help.out, "check-scenario FILE"));

  run_cli (&run_help, "run", "--help", NULL);
  g_assert_cmpint (run_help.status, ==, 0);
  g_assert_nonnull (strstr (run_help.out, "--format"));
  g_assert_nonnull (strstr (run_help.out, "--pcap"));

  run_cli (&version, "version", NULL);
  g_assert_cmpint (version.status, ==, 0);
  g_assert_true (g_str_has_prefix (version.out, "siplab-cli "));

  run_cli (&check, "check-scenario", f->scenario, NULL);
  g_assert_cmpint (check.status, ==, 0);
  g_assert_nonnull (strstr (check.out, ": ok: 2 phones, 2 users, 4 actions, runs 20s"));
}

static void
test_failed_action_exits_1 (Fixture       *f,
                            gconstpointer  data)
{
  g_autofree char *path = NULL;
  g_auto(Result) r = { 0 };

  if (!need_cli ())
    return;
  path = write_file (f, "fails.scn", "user a password x\nphone p user a ip 10.0.0.2\nat 1s hangup p\n");
  run_cli (&r, "run", path, NULL);
  g_assert_cmpint (r.status, ==, 1);
  g_assert_nonnull (strstr (r.err, "fails.scn:3: 'hangup p' failed: "));
  /* The output is still complete. */
  g_assert_nonnull (strstr (r.out, "! p: "));
}

/* Every shipped scenario runs to its end through the CLI, in every format, without errors. */
static void
test_shipped_scenarios (Fixture       *f,
                        gconstpointer  data)
{
  const char *srcdir = g_getenv ("SIPLAB_SOURCE_DIR");
  g_autofree char *dir_path = NULL;
  g_autoptr(GDir) dir = NULL;
  g_autoptr(GError) error = NULL;
  const char *name;
  guint n = 0;

  if (!need_cli ())
    return;
  if (srcdir == NULL)
    {
      g_test_skip ("SIPLAB_SOURCE_DIR is not set");
      return;
    }
  dir_path = g_build_filename (srcdir, "data", "scenarios", NULL);
  dir = g_dir_open (dir_path, 0, &error);
  g_assert_no_error (error);
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = NULL;
      const char *formats[] = { "ladder", "messages", "jsonl" };

      if (!g_str_has_suffix (name, ".scn"))
        continue;
      path = g_build_filename (dir_path, name, NULL);
      for (guint i = 0; i < G_N_ELEMENTS (formats); i++)
        {
          g_auto(Result) r = { 0 };

          run_cli (&r, "run", path, "--format", formats[i], NULL);
          if (r.status != 0 || r.err[0] != '\0')
            g_error ("%s (%s): exit %d: %s", name, formats[i], r.status, r.err);
          g_assert_cmpuint (strlen (r.out), >, 0);
        }
      n++;
    }
  g_assert_cmpuint (n, >=, 7);
}

static void
test_serve_scenario_refuses_what_it_cannot_do (Fixture       *f,
                                               gconstpointer  data)
{
  g_autofree char *no_server = NULL;
  g_autofree char *db = NULL;
  g_auto(Result) with_db = { 0 };
  g_auto(Result) other_domain = { 0 };
  g_auto(Result) serverless = { 0 };
  g_auto(Result) ipv6 = { 0 };

  g_test_summary ("serve --scenario (mixed mode) says why it cannot start, before any socket "
                  "opens: no --db, no other domain than the scenario's, a scenario with a "
                  "server, and a first --listen that simulated phones can reach (IPv4).");

  if (!need_cli ())
    return;
  db = g_build_filename (f->dir, "lab.sqlite", NULL);
  run_cli (&with_db, "serve", "--listen", "udp:127.0.0.1:0", "--scenario", f->scenario,
           "--db", db, NULL);
  g_assert_cmpint (with_db.status, ==, 2);
  g_assert_nonnull (strstr (with_db.err, "--db cannot be combined with --scenario"));
  g_assert_false (g_file_test (db, G_FILE_TEST_EXISTS));

  run_cli (&other_domain, "serve", "--listen", "udp:127.0.0.1:0", "--scenario", f->scenario,
           "--domain", "other.example", NULL);
  g_assert_cmpint (other_domain.status, ==, 2);
  g_assert_nonnull (strstr (other_domain.err, "differs from the scenario's domain lab.example"));

  no_server = write_file (f, "p2p.scn", "user alice password pw\n"
                                         "phone alice-desk user alice ip 10.0.0.11\n");
  run_cli (&serverless, "serve", "--listen", "udp:127.0.0.1:0", "--scenario", no_server, NULL);
  g_assert_cmpint (serverless.status, ==, 2);
  g_assert_nonnull (strstr (serverless.err, "has no server line"));

  run_cli (&ipv6, "serve", "--listen", "udp:[::1]:0", "--scenario", f->scenario, NULL);
  g_assert_cmpint (ipv6.status, ==, 1);
  g_assert_nonnull (strstr (ipv6.err, "must be one IPv4 address"));
}

static void
test_serve_max_message_is_bounded (Fixture       *f,
                                   gconstpointer  data)
{
  g_autofree char *users = NULL;
  const char *sizes[] = { "511", "65536", "-1" };

  g_test_summary ("serve --max-message takes the transport's own bounds "
                  "(SIM_TRANSPORT_MIN_MAX_MESSAGE to SIM_TRANSPORT_MAX_MESSAGE) and refuses "
                  "others before any socket opens.");

  if (!need_cli ())
    return;
  users = write_file (f, "users.txt", "alice:pw\n");
  for (guint i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      g_auto(Result) r = { 0 };

      run_cli (&r, "serve", "--listen", "udp:127.0.0.1:0", "--domain", "lab.example",
               "--users", users, "--max-message", sizes[i], NULL);
      g_assert_cmpint (r.status, ==, 2);
      g_assert_nonnull (strstr (r.err, "--max-message must be between 512 and 65535"));
    }
}

/* ------------------------------------------------------------------------------------------ */
/* siplab-cli lesson in a terminal, played as a student plays it                              */

/* A shipped lesson's path in the source tree, or NULL (the test is skipped). */
static char *
shipped_lesson (const char *name)
{
  const char *src = g_getenv ("SIPLAB_SOURCE_DIR");

  if (src == NULL)
    {
      g_test_skip ("SIPLAB_SOURCE_DIR is not set (meson test sets it)");
      return NULL;
    }
  return g_build_filename (src, "lessons", name, NULL);
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

/* An interactive `siplab-cli lesson`: lines go to its standard input one at a time, and the
 * test reads what it printed up to its next prompt, as a student at a terminal would. */
typedef struct {
  GSubprocess *process;
  GString *transcript;   /* everything it printed */
  gsize seen;            /* how much of it the test has read */
} Dialog;

static void
dialog_start (Dialog              *d,
              const char * const  *args)
{
  g_autoptr(GSubprocessLauncher) launcher =
    g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                               G_SUBPROCESS_FLAGS_STDERR_MERGE);
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;

  g_ptr_array_add (argv, (gpointer) cli_path ());
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);
  d->process = g_subprocess_launcher_spawnv (launcher, (const char * const *) argv->pdata, &error);
  g_assert_no_error (error);
  d->transcript = g_string_new (NULL);
  d->seen = 0;
}

/* What the lesson printed since the last call, up to and including @prompt. */
static char *
dialog_until (Dialog     *d,
              const char *prompt)
{
  GInputStream *out = g_subprocess_get_stdout_pipe (d->process);
  char *text;

  while (d->transcript->len < d->seen + strlen (prompt) ||
         !g_str_has_suffix (d->transcript->str, prompt))
    {
      char buf[4096];
      g_autoptr(GError) error = NULL;
      gssize n = g_input_stream_read (out, buf, sizeof buf, NULL, &error);

      g_assert_no_error (error);
      if (n == 0)
        g_error ("the lesson ended before '%s'; it printed:\n%s", prompt, d->transcript->str);
      g_string_append_len (d->transcript, buf, n);
    }
  text = g_strdup (d->transcript->str + d->seen);
  d->seen = d->transcript->len;
  return text;
}

static void
dialog_say (Dialog     *d,
            const char *line)
{
  GOutputStream *in = g_subprocess_get_stdin_pipe (d->process);
  g_autofree char *text = g_strconcat (line, "\n", NULL);
  g_autoptr(GError) error = NULL;

  g_output_stream_write_all (in, text, strlen (text), NULL, NULL, &error);
  g_assert_no_error (error);
}

/* Closes the input, reads the rest, and returns the exit status. */
static int
dialog_finish (Dialog *d)
{
  GInputStream *out = g_subprocess_get_stdout_pipe (d->process);
  g_autoptr(GError) error = NULL;
  char buf[4096];
  gssize n;

  g_output_stream_close (g_subprocess_get_stdin_pipe (d->process), NULL, &error);
  g_assert_no_error (error);
  while ((n = g_input_stream_read (out, buf, sizeof buf, NULL, &error)) > 0)
    g_string_append_len (d->transcript, buf, n);
  g_assert_no_error (error);
  g_subprocess_wait (d->process, NULL, &error);
  g_assert_no_error (error);
  return g_subprocess_get_if_exited (d->process) ? g_subprocess_get_exit_status (d->process) : -1;
}

static void
dialog_clear (Dialog *d)
{
  g_clear_object (&d->process);
  if (d->transcript != NULL)
    g_string_free (g_steal_pointer (&d->transcript), TRUE);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Dialog, dialog_clear)

/* The verb of the help line whose arguments are @shape ("PHONE USER IP"), or NULL. */
static char *
verb_taking (const char *help,
             const char *shape)
{
  g_autofree char *pattern = g_strdup_printf ("([a-z-]+) %s", shape);
  g_autoptr(GRegex) regex = g_regex_new (pattern, 0, 0, NULL);
  g_autoptr(GMatchInfo) match = NULL;

  if (!g_regex_match (regex, help, 0, &match))
    return NULL;
  return g_match_info_fetch (match, 1);
}

/* From 'state': "PHONE at IP:PORT" (where the phone is) or, in @phone's address book, the
 * address of @user. */
static char *
state_field (const char *state,
             const char *pattern)
{
  g_autoptr(GRegex) regex = g_regex_new (pattern, G_REGEX_MULTILINE, 0, NULL);
  g_autoptr(GMatchInfo) match = NULL;

  if (!g_regex_match (regex, state, 0, &match))
    g_error ("'state' did not show /%s/:\n%s", pattern, state);
  return g_match_info_fetch (match, 1);
}

static void
test_lesson_01_is_solved_from_help_and_state (Fixture       *f,
                                              gconstpointer  data)
{
  g_autofree char *lesson = shipped_lesson ("01-point-to-point.lesson");
  const char *args[] = { "lesson", lesson, "--no-progress", NULL };
  g_auto(Dialog) d = { 0 };
  g_autofree char *step = NULL;
  g_autofree char *at_enter = NULL;
  g_autofree char *task = NULL;
  g_autofree char *state = NULL;
  g_autofree char *verb = NULL;
  g_autofree char *book_entry = NULL;
  g_autofree char *bob_is_at = NULL;
  g_autofree char *tried = NULL;
  g_autofree char *command = NULL;
  g_autofree char *after = NULL;

  g_test_summary ("Lesson 01's task, played at the terminal without 'hint' or 'skip': 'help' "
                  "names the command that edits an address book, 'state' shows the stale "
                  "entry and where Bob is now, and those are enough to make the call ring.");
  if (lesson == NULL || !need_cli ())
    return;
  dialog_start (&d, args);

  /* A step: 'state' at the Enter prompt shows the address books and waits again. */
  step = dialog_until (&d, "[Enter: continue]");
  g_assert_nonnull (strstr (step, "looks bob up in its own address book"));
  g_assert_null (strstr (step, "*its own*"));
  dialog_say (&d, "state");
  at_enter = dialog_until (&d, "[Enter: continue]");
  g_assert_nonnull (strstr (at_enter, "address book: bob -> 10.0.0.12:5060"));
  g_assert_null (strstr (at_enter, "---"));
  dialog_say (&d, "");

  /* Questions answered wrongly on purpose. */
  g_free (dialog_until (&d, "answer> "));
  dialog_say (&d, "180");
  g_free (dialog_until (&d, "[Enter: continue]"));
  dialog_say (&d, "");
  g_free (dialog_until (&d, "answer> "));
  dialog_say (&d, "d");

  /* The task: what 'help' offers, what 'state' shows. */
  task = dialog_until (&d, "task> ");
  g_assert_nonnull (strstr (task, "Bob moves"));
  verb = verb_taking (task, "PHONE USER IP");
  g_assert_cmpstr (verb, ==, "learn");
  dialog_say (&d, "state");
  state = dialog_until (&d, "task> ");
  book_entry = state_field (state, "^  alice-desk .*\n *address book: .*bob -> ([0-9.]+):5060");
  bob_is_at = state_field (state, "^  bob-desk +at ([0-9.]+):5060");
  g_assert_cmpstr (book_entry, ==, "10.0.0.12");
  g_assert_cmpstr (bob_is_at, ==, "10.0.0.42");

  /* What the task text suggests first: the call goes to the stale address. */
  dialog_say (&d, "call alice-desk bob");
  tried = dialog_until (&d, "task> ");
  g_assert_nonnull (strstr (tried, "to 10.0.0.12 dropped"));
  g_assert_nonnull (strstr (tried, "not yet"));

  /* The fix the student puts together, and the old call given up ('hangup' is in help). */
  command = g_strdup_printf ("%s alice-desk bob %s", verb, bob_is_at);
  dialog_say (&d, command);
  g_free (dialog_until (&d, "task> "));
  g_assert_nonnull (strstr (task, "hangup PHONE"));
  dialog_say (&d, "hangup alice-desk");
  g_free (dialog_until (&d, "task> "));
  dialog_say (&d, "call alice-desk bob");
  after = dialog_until (&d, "answer> ");
  g_assert_nonnull (strstr (after, "Done: every goal holds."));
  dialog_say (&d, "b");

  g_assert_cmpint (dialog_finish (&d), ==, 0);
  g_assert_nonnull (strstr (d.transcript->str, "1 task done"));
  g_assert_null (strstr (d.transcript->str, "A solution:"));
  g_assert_null (strstr (d.transcript->str, "Hint:"));
}

/* The lines of @out from the line holding @from up to the one holding @to, not included. */
static guint
lines_between (const char *out,
               const char *from,
               const char *to)
{
  const char *start = strstr (out, from);
  const char *end = start != NULL ? strstr (start, to) : NULL;
  guint n = 0;

  g_assert_nonnull (end);
  for (const char *p = start; p < end; p++)
    n += *p == '\n';
  return n;
}

static void
test_lesson_explains_each_kind_once (Fixture       *f,
                                     gconstpointer  data)
{
  static const char prose[] = "the request carries no Digest credentials";
  g_autofree char *lesson = shipped_lesson ("08-deregistration.lesson");
  /* Lesson 08 as the lesson's own seed orders its options. */
  const char *answers = "0,401,unregister bob-desk,b,unregister bob-desk all,b";
  g_auto(Result) brief = { 0 };
  g_auto(Result) verbose = { 0 };
  guint brief_lines, verbose_lines;

  g_test_summary ("Lesson 08 challenges every REGISTER: by default the ladders explain the "
                  "challenge once; --verbose explains it every time.");
  if (lesson == NULL || !need_cli ())
    return;
  run_cli (&brief, "lesson", lesson, "--no-progress", "--answers", answers, NULL);
  run_cli (&verbose, "lesson", lesson, "--no-progress", "--verbose", "--answers", answers, NULL);
  g_assert_cmpint (brief.status, ==, 0);
  g_assert_cmpint (verbose.status, ==, 0);
  g_assert_cmpuint (count (brief.out, prose), ==, 1);
  g_assert_cmpuint (count (verbose.out, prose), >=, 5);
  /* Every challenge is still in the ladder, without its paragraph. */
  g_assert_cmpuint (count (brief.out, "+ nonce no-credentials at registrar"), ==,
                    count (verbose.out, "+ nonce no-credentials at registrar"));

  brief_lines = lines_between (brief.out, "--- 1/9", "--- 2/9");
  verbose_lines = lines_between (verbose.out, "--- 1/9", "--- 2/9");
  g_test_message ("lesson 08, first step: %u lines brief, %u verbose", brief_lines, verbose_lines);
  g_assert_cmpuint (brief_lines + 10, <=, verbose_lines);
}

/* A lesson whose link has jitter: a packet's times have microseconds a format could round. */
static const char *jitter_lesson =
  "# Times\n"
  "\n"
  "A registration over a link with jitter.\n"
  "\n"
  "```scene\n"
  "title Jitter\n"
  "seed 7\n"
  "server registrar 10.0.0.1 domain lab.example\n"
  "link default latency 20ms jitter 9ms loss 0%\n"
  "user alice password secret123\n"
  "phone alice-desk user alice ip 10.0.0.11\n"
  "at 0s register alice-desk\n"
  "run 30s\n"
  "```\n"
  "\n"
  "## Step: The first REGISTER\n"
  "It leaves.\n"
  "run: until REGISTER leaves alice-desk\n"
  "\n"
  "## Predict: The answer\n"
  "What comes back?\n"
  "predict: status of response arrives at alice-desk\n"
  "answer: 401\n"
  "explain: A challenge.\n"
  "\n"
  "## Predict: The second REGISTER\n"
  "predict: cseq of REGISTER with Authorization leaves alice-desk\n"
  "answer: 2\n"
  "explain: One higher.\n"
  "\n"
  "## Predict: And now\n"
  "predict: status of response arrives at alice-desk\n"
  "answer: 200\n"
  "explain: Accepted.\n";

static void
test_lesson_times_have_one_format (Fixture       *f,
                                   gconstpointer  data)
{
  g_autofree char *path = write_file (f, "jitter.lesson", jitter_lesson);
  g_auto(Result) r = { 0 };
  g_autoptr(GRegex) any_time = g_regex_new ("\\b[0-9]+\\.[0-9]+s\\b", 0, 0, NULL);
  g_autoptr(GRegex) sent_at = g_regex_new ("sent at ([0-9]+\\.[0-9]+s)", 0, 0, NULL);
  g_autoptr(GMatchInfo) match = NULL;
  guint n_times = 0, n_verdicts = 0;

  g_test_summary ("Every time the lesson prints has one format (seconds, three decimals), and "
                  "a verdict names the packet at the time its ladder row shows.");
  if (!need_cli ())
    return;
  run_cli (&r, "lesson", path, "--no-progress", "--answers", "401,3,200", NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_null (strstr (r.out, "t="));

  for (g_regex_match (any_time, r.out, 0, &match); g_match_info_matches (match);
       g_match_info_next (match, NULL))
    {
      g_autofree char *t = g_match_info_fetch (match, 0);
      const char *dot = strchr (t, '.');

      g_assert_cmpuint (strlen (dot), ==, strlen (".123s"));
      n_times++;
    }
  g_assert_cmpuint (n_times, >, 10);
  g_clear_pointer (&match, g_match_info_free);

  for (g_regex_match (sent_at, r.out, 0, &match); g_match_info_matches (match);
       g_match_info_next (match, NULL))
    {
      g_autofree char *t = g_match_info_fetch (match, 1);
      g_autofree char *row = g_strdup_printf ("\n%9s      |", t);

      if (strstr (r.out, row) == NULL)
        g_error ("a verdict says %s; no ladder row has that time:\n%s", t, r.out);
      n_verdicts++;
    }
  g_assert_cmpuint (n_verdicts, ==, 3);
}

static void
test_lessons_lists_no_template (Fixture       *f,
                                gconstpointer  data)
{
  g_autofree char *one = shipped_lesson ("01-point-to-point.lesson");
  g_autofree char *dir = one != NULL ? g_path_get_dirname (one) : NULL;
  g_auto(Result) r = { 0 };

  if (dir == NULL || !need_cli ())
    return;
  g_setenv ("SIPLAB_LESSONS_DIR", dir, TRUE);
  g_setenv ("XDG_DATA_HOME", f->dir, TRUE);
  run_cli (&r, "lessons", NULL);
  g_unsetenv ("SIPLAB_LESSONS_DIR");
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.out, "01-point-to-point"));
  g_assert_null (strstr (r.out, "TEMPLATE"));
  g_assert_null (strstr (r.out, "Title of the lesson"));
}

/* ------------------------------------------------------------------------------------------ */
/* Per-student exercises, hand-ins and grading                                                */

static char *
lesson_fixture (const char *name)
{
  return g_test_build_filename (G_TEST_DIST, "lessons", name, NULL);
}

/* Runs siplab-cli with @input on stdin and XDG_DATA_HOME in the fixture's folder. */
static void
run_cli_input (Fixture     *f,
               Result      *r,
               const char  *input,
               const char **args)
{
  g_autoptr(GSubprocessLauncher) launcher =
    g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                               G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GSubprocess) proc = NULL;
  g_autoptr(GError) error = NULL;

  g_ptr_array_add (argv, (gpointer) cli_path ());
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);
  g_subprocess_launcher_setenv (launcher, "XDG_DATA_HOME", f->dir, TRUE);
  g_subprocess_launcher_unsetenv (launcher, "SIPLAB_CLASS_KEY");
  proc = g_subprocess_launcher_spawnv (launcher, (const char * const *) argv->pdata, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (proc, input, NULL, &r->out, &r->err, &error);
  g_assert_no_error (error);
  r->status = g_subprocess_get_if_exited (proc) ? g_subprocess_get_exit_status (proc) : -1;
}

/* The line of @text that starts with @prefix (after spaces), or NULL. */
static char *
line_with (const char *text,
           const char *prefix)
{
  g_auto(GStrv) lines = g_strsplit (text, "\n", -1);

  for (guint i = 0; lines[i] != NULL; i++)
    if (g_str_has_prefix (g_strchug (lines[i]), prefix))
      return g_strdup (lines[i]);
  return NULL;
}

static void
test_students_get_their_own_exercise (Fixture       *f,
                                      gconstpointer  data)
{
  g_autofree char *lesson = lesson_fixture ("per-student.lesson");
  g_auto(Result) ada = { 0 };
  g_auto(Result) bob = { 0 };
  g_auto(Result) check = { 0 };
  g_autofree char *ada_auth = NULL, *bob_auth = NULL, *ada_intro = NULL, *bob_intro = NULL;

  g_test_summary ("lesson --student: two students' transcripts differ (password, address, nonce, "
                  "cnonce) and the lesson checks for every student's seed");
  if (!need_cli ())
    return;
  run_cli (&ada, "lesson", lesson, "--student", "Ada", "--no-progress", "--answers", "1,2,a,skip", NULL);
  run_cli (&bob, "lesson", lesson, "--student", "Bob", "--no-progress", "--answers", "1,2,a,skip", NULL);
  g_assert_cmpint (ada.status, ==, 0);
  g_assert_cmpint (bob.status, ==, 0);
  ada_auth = line_with (ada.out, "Authorization: Digest");
  bob_auth = line_with (bob.out, "Authorization: Digest");
  g_assert_nonnull (ada_auth);
  g_assert_nonnull (bob_auth);
  g_assert_nonnull (strstr (ada_auth, "response=\"?\""));
  g_assert_cmpstr (ada_auth, !=, bob_auth);
  ada_intro = line_with (ada.out, "password is");
  bob_intro = line_with (bob.out, "password is");
  g_assert_nonnull (ada_intro);
  g_assert_cmpstr (ada_intro, !=, bob_intro);
  g_assert_nonnull (strstr (ada.out, "Ada's own exercise: seed 1311589767"));
  run_cli (&check, "check", lesson, NULL);
  g_assert_cmpint (check.status, ==, 0);
  g_assert_nonnull (strstr (check.out, "ok"));
}

static void
test_check_rejects_a_key_for_some_seeds (Fixture       *f,
                                         gconstpointer  data)
{
  g_autofree char *lesson = lesson_fixture ("seed-dependent-key.lesson");
  g_auto(Result) seeds = { 0 };
  g_auto(Result) as_written = { 0 };

  if (!need_cli ())
    return;
  run_cli (&seeds, "check", lesson, NULL);
  g_assert_cmpint (seeds.status, ==, 1);
  g_assert_nonnull (strstr (seeds.err, "seed-dependent-key.lesson:24: the answer key '1200' is wrong"));
  g_assert_nonnull (strstr (seeds.err, "--seed "));
  run_cli (&as_written, "check", "--seeds", "0", lesson, NULL);
  g_assert_cmpint (as_written.status, ==, 0);
}

/* The word that follows @prefix where it first occurs in @text (up to a space), or NULL. */
static char *
word_after (const char *text,
            const char *prefix)
{
  const char *at = strstr (text, prefix);

  if (at == NULL)
    return NULL;
  at += strlen (prefix);
  return g_strndup (at, strcspn (at, " \n"));
}

static void
test_shipped_lesson_differs_per_student (Fixture       *f,
                                         gconstpointer  data)
{
  g_autofree char *lesson = shipped_lesson ("07-registrar-changes-expires.lesson");
  const char *names[] = { "Ada Lovelace", "Alan Turing" };
  g_auto(Result) ada = { 0 };
  g_auto(Result) alan = { 0 };
  Result *runs[2] = { &ada, &alan };
  char *contact[2] = { NULL, NULL };
  char *granted[2] = { NULL, NULL };

  g_test_summary ("Issue 11: two students' transcripts of a shipped lesson (07) differ in an "
                  "address (Alice's Contact) and in a numeric key (the Expires the registrar "
                  "grants), each the value its 'vary:' line drew for the student, and both "
                  "students' exercises pass check");
  if (lesson == NULL || !need_cli ())
    return;
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autoptr(SimLesson) parsed = NULL;
      g_autoptr(GError) error = NULL;
      g_autofree char *sip = NULL;

      /* Wrong numbers on purpose: the CLI then prints the simulator's value, the key. */
      run_cli (runs[i], "lesson", lesson, "--student", names[i], "--no-progress",
               "--answers", "1,skip,1,1,1,skip,skip", NULL);
      g_assert_cmpint (runs[i]->status, ==, 0);
      contact[i] = word_after (runs[i]->out, "binding added: sip:alice@lab.example -> ");
      granted[i] = word_after (runs[i]->out, "Not quite. The simulator: ");
      g_assert_nonnull (contact[i]);
      g_assert_nonnull (granted[i]);

      parsed = sim_lesson_parse_file_for_student (lesson, names[i], &error);
      g_assert_no_error (error);
      sip = g_strdup_printf ("sip:alice@%s:5060", sim_lesson_get_value (parsed, "alice-ip"));
      g_assert_cmpstr (contact[i], ==, sip);
      g_assert_cmpstr (granted[i], ==, sim_lesson_get_value (parsed, "max-expires"));
      g_assert_true (sim_lesson_check (parsed, NULL));
    }
  g_assert_cmpstr (contact[0], !=, contact[1]);
  g_assert_cmpstr (granted[0], !=, granted[1]);
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_free (contact[i]);
      g_free (granted[i]);
    }
}

/* Plays the per-student fixture for @student and writes a hand-in, signed with @key if given. */
static char *
hand_in (Fixture    *f,
         const char *student,
         const char *key)
{
  g_autofree char *lesson = lesson_fixture ("per-student.lesson");
  g_autofree char *name = g_strdup_printf ("%s.handin", student);
  char *out = g_build_filename (f->dir, name, NULL);
  const char *args[] = { "lesson", lesson, "--student", student, "--answers", "1,2,b,unregister alice-desk",
                         "--summary", out, key ? "--class-key" : NULL, key, NULL };
  g_auto(Result) r = { 0 };

  run_cli_input (f, &r, "", args);
  g_assert_cmpint (r.status, ==, 0);
  return out;
}

static void
test_grade_flags_edited_handins (Fixture       *f,
                                 gconstpointer  data)
{
  g_autofree char *key = g_build_filename (f->dir, "class.key", NULL);
  g_autofree char *other = g_build_filename (f->dir, "other.key", NULL);
  g_autofree char *ada = NULL, *bob = NULL, *text = NULL;
  g_auto(Result) init = { 0 };
  g_auto(Result) again = { 0 };
  g_auto(Result) other_init = { 0 };
  g_auto(Result) good = { 0 };
  g_auto(Result) edited = { 0 };
  g_auto(Result) wrong_key = { 0 };
  g_auto(Result) csv = { 0 };
  GStatBuf st;

  g_test_summary ("class init makes a 0600 key and never overwrites it; grade accepts signed "
                  "hand-ins, flags an edited one and a wrong key (exit 1), and prints CSV");
  if (!need_cli ())
    return;
  run_cli (&init, "class", "init", "--out", key, NULL);
  g_assert_cmpint (init.status, ==, 0);
  g_assert_cmpint (g_stat (key, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);
  run_cli (&again, "class", "init", "--out", key, NULL);
  g_assert_cmpint (again.status, ==, 1);
  g_assert_nonnull (strstr (again.err, "not overwritten"));
  run_cli (&other_init, "class", "init", "--out", other, NULL);

  ada = hand_in (f, "Ada", key);
  bob = hand_in (f, "Bob", key);
  g_assert_true (g_file_get_contents (bob, &text, NULL, NULL));
  g_assert_nonnull (strstr (text, "student=Bob\n"));
  g_assert_null (strstr (text, "Student: root"));
  run_cli (&good, "grade", key, ada, bob, NULL);
  g_assert_cmpint (good.status, ==, 0);
  g_assert_nonnull (strstr (good.out, "per-student: One exercise per student (2 hand-ins)"));
  g_assert_nonnull (strstr (good.out, "Compute the response"));

  /* Bob gives himself the right answer to the choice. */
  g_assert_nonnull (strstr (text, "result=incorrect\nattempts=1\nhints=0\nanswer=b"));
  {
    g_autofree char *forged = g_strdup (text);
    char *at = strstr (forged, "result=incorrect\nattempts=1\nhints=0\nanswer=b");
    memcpy (at, "result=correct\n  ", strlen ("result=correct\n  "));
    g_assert_true (g_file_set_contents (bob, forged, -1, NULL));
  }
  run_cli (&edited, "grade", key, ada, bob, NULL);
  g_assert_cmpint (edited.status, ==, 1);
  g_assert_nonnull (strstr (edited.out, "EDITED"));
  g_assert_nonnull (strstr (edited.out, "(1 hand-in)"));
  run_cli (&wrong_key, "grade", other, ada, NULL);
  g_assert_cmpint (wrong_key.status, ==, 1);
  g_assert_nonnull (strstr (wrong_key.out, "OTHER KEY"));
  run_cli (&csv, "grade", "--csv", key, ada, NULL);
  g_assert_cmpint (csv.status, ==, 0);
  g_assert_true (g_str_has_prefix (csv.out, "lesson,item,kind,title,handins,reached,right,wrong,"));
  {
    /* One hand-in reached the choice and answered "b": right or wrong depends on where this
     * student's shuffle put the key, so the counts are checked to add up. */
    const char *row = strstr (csv.out, "\"per-student\",4,choice,\"Where does the registrar send "
                                       "Alice's calls?\",1,1,");
    guint64 right, wrong;
    char *end;

    g_assert_nonnull (row);
    row = strstr (row, "?\",1,1,") + strlen ("?\",1,1,");
    right = g_ascii_strtoull (row, &end, 10);
    g_assert_cmpint (*end, ==, ',');
    wrong = g_ascii_strtoull (end + 1, NULL, 10);
    g_assert_cmpuint (right + wrong, ==, 1);
  }
}

static void
test_unsigned_handin_and_usage (Fixture       *f,
                                gconstpointer  data)
{
  g_autofree char *key = g_build_filename (f->dir, "class.key", NULL);
  g_autofree char *lesson = lesson_fixture ("per-student.lesson");
  g_autofree char *carl = NULL;
  g_auto(Result) init = { 0 };
  g_auto(Result) grade = { 0 };
  g_auto(Result) no_name = { 0 };

  if (!need_cli ())
    return;
  run_cli (&init, "class", "init", "--out", key, NULL);
  carl = hand_in (f, "Carl", NULL);
  run_cli (&grade, "grade", key, carl, NULL);
  g_assert_cmpint (grade.status, ==, 1);
  g_assert_nonnull (strstr (grade.out, "UNSIGNED"));
  run_cli (&no_name, "lesson", lesson, "--summary", carl, "--answers", "1", NULL);
  g_assert_cmpint (no_name.status, ==, 2);
  g_assert_nonnull (strstr (no_name.err, "--summary needs --student"));
  {
    g_auto(Result) seeds = { 0 };

    /* SIM_LESSON_CHECK_MAX_SEEDS bounds the work one check can be asked for. */
    run_cli (&seeds, "check", "--seeds", "10001", lesson, NULL);
    g_assert_cmpint (seeds.status, ==, 2);
    g_assert_nonnull (strstr (seeds.err, "--seeds is 0 to 10000"));
  }
}

static void
test_lesson_resumes_where_it_was_left (Fixture       *f,
                                       gconstpointer  data)
{
  g_autofree char *lesson = lesson_fixture ("per-student.lesson");
  const char *args[] = { "lesson", lesson, "--student", "Ada", NULL };
  const char *restart[] = { "lesson", lesson, "--student", "Ada", "--restart", NULL };
  const char *other[] = { "lesson", lesson, "--student", "Bob", NULL };
  g_auto(Result) first = { 0 };
  g_auto(Result) second = { 0 };
  g_auto(Result) fresh = { 0 };
  g_auto(Result) bob = { 0 };

  g_test_summary ("An interactive lesson left at item 4 starts at item 4 next time; --restart "
                  "and another student's exercise start at item 1");
  if (!need_cli ())
    return;
  run_cli_input (f, &first, "1\n2\n", args);
  g_assert_cmpint (first.status, ==, 0);
  /* Two answers, the step passed (end of input at its Enter), then the input ends at item 4. */
  g_assert_nonnull (strstr (first.out, "(Left the lesson at item 4 of 5.)"));
  run_cli_input (f, &second, "", args);
  g_assert_nonnull (strstr (second.out, "(Resuming at item 4 of 5"));
  g_assert_null (strstr (second.out, "--- 1/5"));
  g_assert_nonnull (strstr (second.out, "--- 4/5  Question: Where does the registrar send"));
  run_cli_input (f, &fresh, "", restart);
  g_assert_null (strstr (fresh.out, "Resuming"));
  g_assert_nonnull (strstr (fresh.out, "--- 1/5"));
  run_cli_input (f, &bob, "", other);
  g_assert_null (strstr (bob.out, "Resuming"));
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
#define ADD(path, func) g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("/sim/cli/jsonl-has-the-fields", test_jsonl_has_the_fields);
  ADD ("/sim/cli/same-seed-same-bytes", test_same_seed_same_bytes);
  ADD ("/sim/cli/ladder-is-the-default", test_ladder_is_the_default);
  ADD ("/sim/cli/pcap-is-written", test_pcap_is_written);
  ADD ("/sim/cli/bad-scenario-exits-2", test_bad_scenario_exits_2);
  ADD ("/sim/cli/usage-errors-exit-2", test_usage_errors_exit_2);
  ADD ("/sim/cli/help-and-version", test_help_and_version);
  ADD ("/sim/cli/failed-action-exits-1", test_failed_action_exits_1);
  ADD ("/sim/cli/shipped-scenarios", test_shipped_scenarios);
  ADD ("/sim/cli/serve-scenario-refuses-what-it-cannot-do",
       test_serve_scenario_refuses_what_it_cannot_do);
  ADD ("/sim/cli/serve-max-message-is-bounded", test_serve_max_message_is_bounded);
  ADD ("/sim/cli/lesson-01-is-solved-from-help-and-state",
       test_lesson_01_is_solved_from_help_and_state);
  ADD ("/sim/cli/lesson-explains-each-kind-once", test_lesson_explains_each_kind_once);
  ADD ("/sim/cli/lesson-times-have-one-format", test_lesson_times_have_one_format);
  ADD ("/sim/cli/lessons-lists-no-template", test_lessons_lists_no_template);
  ADD ("/sim/cli/lesson/students-get-their-own-exercise", test_students_get_their_own_exercise);
  ADD ("/sim/cli/check/rejects-a-key-for-some-seeds", test_check_rejects_a_key_for_some_seeds);
  ADD ("/sim/cli/lesson/shipped-lesson-differs-per-student", test_shipped_lesson_differs_per_student);
  ADD ("/sim/cli/grade/flags-edited-hand-ins", test_grade_flags_edited_handins);
  ADD ("/sim/cli/grade/unsigned-hand-in-and-usage", test_unsigned_handin_and_usage);
  ADD ("/sim/cli/lesson/resumes-where-it-was-left", test_lesson_resumes_where_it_was_left);
#undef ADD
  return g_test_run ();
}
