/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <glib/gstdio.h>
#include <string.h>

#include "sim-audit.h"
#include "sim-server.h"

/* The password audit of users files (sim-audit.h) and its hook in SimServer's reload. */

static GHashTable *
common_set (void)
{
  GHashTable *common = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  g_hash_table_add (common, g_strdup ("password123"));
  g_hash_table_add (common, g_strdup ("qwertyuiop"));
  return common;
}

/* No warning may contain any of the file's passwords. */
static void
assert_no_password (GPtrArray          *warnings,
                    const char * const *passwords)
{
  for (guint i = 0; i < warnings->len; i++)
    for (guint j = 0; passwords[j] != NULL; j++)
      g_assert_null (strstr (warnings->pdata[i], passwords[j]));
}

static void
test_weak_passwords_named_by_line (void)
{
  g_autoptr(GHashTable) common = common_set ();
  const char *text = "# lab users\n"
                     "\n"
                     "alice:Secret7\r\n"
                     "bob :Password123\n"
                     "carol:correct horse battery staple\n"
                     "dave:QWERTYUIOP\n"
                     "not a user line\n"
                     "erin:9chars!!!\n";
  const char *passwords[] = { "Secret7", "Password123", "QWERTYUIOP", "9chars!!!", NULL };
  g_autoptr(GPtrArray) warnings = sim_audit_users ("users.txt", text, common);

  g_assert_cmpuint (warnings->len, ==, 4);
  g_assert_true (g_str_has_prefix (warnings->pdata[0], "users.txt:3: user 'alice': "));
  g_assert_nonnull (strstr (warnings->pdata[0], "shorter than 10 characters"));
  /* The common list matches whatever the case. */
  g_assert_true (g_str_has_prefix (warnings->pdata[1], "users.txt:4: user 'bob': "));
  g_assert_nonnull (strstr (warnings->pdata[1], "common-password list"));
  g_assert_true (g_str_has_prefix (warnings->pdata[2], "users.txt:6: user 'dave': "));
  g_assert_true (g_str_has_prefix (warnings->pdata[3], "users.txt:8: user 'erin': "));
  assert_no_password (warnings, passwords);
}

/* Without a list only the length counts; ten characters is enough for it. */
static void
test_length_only_without_a_list (void)
{
  g_autoptr(GPtrArray) warnings = sim_audit_users ("u", "a:password123\nb:123456789\n", NULL);
  const char *why = NULL;

  g_assert_cmpuint (warnings->len, ==, 1);
  g_assert_true (g_str_has_prefix (warnings->pdata[0], "u:2: user 'b': "));
  /* Characters, not bytes: five two-byte letters are still five. */
  g_assert_true (sim_audit_password_is_weak ("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", NULL,
                                             &why));
  g_assert_nonnull (why);
  g_assert_false (sim_audit_password_is_weak ("p\xc3\xa4sSw\xc3\xb6rd!9", NULL, &why));
  g_assert_null (why);
}

static void
test_common_list_reading (void)
{
  g_autofree char *dir = g_dir_make_tmp ("siplab-audit-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "list.txt", NULL);
  g_autoptr(GString) big = g_string_new ("# comment\n\n  Hunter2  \n");
  g_autoptr(GHashTable) set = NULL;
  g_autoptr(GError) error = NULL;

  /* More entries than the bound: the rest is ignored, not loaded. */
  for (guint i = 0; i < SIM_AUDIT_MAX_COMMON_PASSWORDS + 10; i++)
    g_string_append_printf (big, "word%u\n", i);
  g_assert_true (g_file_set_contents (path, big->str, big->len, NULL));
  set = sim_audit_read_common_passwords (path, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_hash_table_size (set), ==, SIM_AUDIT_MAX_COMMON_PASSWORDS);
  g_assert_true (g_hash_table_contains (set, "hunter2"));
  g_assert_false (g_hash_table_contains (set, "# comment"));
  g_assert_false (g_hash_table_contains (set, ""));
  g_clear_pointer (&set, g_hash_table_unref);
  g_unlink (path);
  g_rmdir (dir);

  set = sim_audit_read_common_passwords ("/nonexistent/siplab/list.txt", &error);
  g_assert_null (set);
  g_assert_nonnull (error);
}

/* The list SIP Lab ships: a few hundred entries, the classics among them. */
static void
test_shipped_list (void)
{
  g_autofree char *path = g_build_filename (g_getenv ("SIPLAB_SOURCE_DIR"), "data",
                                            "common-passwords.txt", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GHashTable) set = sim_audit_read_common_passwords (path, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (g_hash_table_size (set), >=, 300);
  g_assert_true (g_hash_table_contains (set, "123456"));
  g_assert_true (g_hash_table_contains (set, "password123"));
  g_assert_true (g_hash_table_contains (set, "qwertyuiop"));
  g_assert_true (sim_audit_password_is_weak ("1234567890", set, NULL));
  g_assert_false (sim_audit_password_is_weak ("correct horse battery staple", set, NULL));
}

static guint
count_notes (SimServer  *server,
             const char *needle)
{
  GPtrArray *events = sim_trace_get_events (sim_server_get_trace (server));
  guint n = 0;

  for (guint i = 0; i < events->len; i++)
    {
      SimEvent *event = events->pdata[i];
      if (event->type == SIM_EVENT_NOTE && event->text != NULL
          && strstr (event->text, needle) != NULL)
        n++;
    }
  return n;
}

/* The server's load and reload trace the warnings, never the password, and still load. */
static void
test_server_reload_warns (void)
{
  g_autofree char *dir = g_dir_make_tmp ("siplab-audit-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "users.txt", NULL);
  g_autoptr(GHashTable) common = common_set ();
  g_autoptr(SimServer) server = NULL;
  g_autoptr(GError) error = NULL;

  server = sim_server_new ("lab.example", NULL, &error);
  g_assert_no_error (error);
  sim_trace_set_keep (sim_server_get_trace (server), TRUE);
  g_assert_true (g_file_set_contents (path, "alice:a long and unusual phrase\n", -1, NULL));

  /* Off by default: nothing is noted. */
  g_assert_true (sim_server_load_users (server, path, FALSE, &error));
  g_assert_true (g_file_set_contents (path, "alice:short\n", -1, NULL));
  g_assert_true (sim_server_reload_users (server, &error));
  g_assert_cmpuint (count_notes (server, "warning:"), ==, 0);

  sim_server_set_password_audit (server, TRUE, common);
  g_assert_true (g_file_set_contents (path, "alice:a long and unusual phrase\n"
                                            "bob:Password123\n", -1, NULL));
  g_assert_true (sim_server_reload_users (server, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (sim_server_get_n_users (server), ==, 2);
  g_assert_cmpuint (count_notes (server, ":2: user 'bob': the password is in the "
                                         "common-password list"), ==, 1);
  g_assert_cmpuint (count_notes (server, "warning:"), ==, 1);
  g_assert_cmpuint (count_notes (server, "Password123"), ==, 0);
  g_assert_cmpuint (count_notes (server, "unusual phrase"), ==, 0);

  /* With the trace off (serve --format none) the warning is logged instead. */
  sim_trace_set_enabled (sim_server_get_trace (server), FALSE);
  g_test_expect_message ("Sim", G_LOG_LEVEL_MESSAGE,
                         "warning: *:2: user 'bob': the password is in the common-password*");
  g_assert_true (sim_server_reload_users (server, &error));
  g_test_assert_expected_messages ();

  g_unlink (path);
  g_rmdir (dir);
}

/* `serve` warns on stderr at start-up, before it opens anything (here the database fails). */
static void
test_serve_warns_at_start_up (void)
{
  g_autofree char *dir = g_dir_make_tmp ("siplab-audit-XXXXXX", NULL);
  g_autofree char *users = g_build_filename (dir, "users.txt", NULL);
  g_autofree char *line1 = g_strdup_printf ("warning: %s:2: user 'alice': the password is "
                                            "shorter than 10 characters", users);
  g_autofree char *line2 = g_strdup_printf ("warning: %s:3: user 'bob': the password is in "
                                            "the common-password list", users);
  g_autofree char *err = NULL;
  g_autoptr(GError) error = NULL;
  const char *argv[] = { g_getenv ("SIPLAB_CLI"), "serve", "--listen", "udp:127.0.0.1:0",
                         "--domain", "lab.example", "--users", users, "--db",
                         "/nonexistent/siplab/lab.sqlite", NULL };
  int status = 0;

  g_assert_nonnull (argv[0]);
  g_assert_true (g_file_set_contents (users, "# lab\nalice:s3cret\nbob:ILoveYou123\n"
                                             "carol:correct horse battery staple\n", -1, NULL));
  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL, &err,
                &status, &error);
  g_assert_no_error (error);
  g_assert_nonnull (strstr (err, line1));
  g_assert_nonnull (strstr (err, line2));
  g_assert_null (strstr (err, "carol"));
  g_assert_null (strstr (err, "s3cret"));
  g_assert_null (strstr (err, "ILoveYou123"));
  g_unlink (users);
  g_rmdir (dir);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/sim/audit/weak-passwords-are-named-by-file-line-and-user-never-shown",
                   test_weak_passwords_named_by_line);
  g_test_add_func ("/sim/audit/without-a-list-only-the-length-counts-in-characters",
                   test_length_only_without_a_list);
  g_test_add_func ("/sim/audit/a-common-password-list-is-read-lowercased-and-bounded",
                   test_common_list_reading);
  g_test_add_func ("/sim/audit/the-shipped-list-has-the-classics", test_shipped_list);
  g_test_add_func ("/sim/audit/the-server-traces-warnings-on-reload-without-passwords",
                   test_server_reload_warns);
  g_test_add_func ("/sim/audit/serve-warns-on-stderr-at-start-up", test_serve_warns_at_start_up);
  return g_test_run ();
}
