/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

/*
 * Whether 127.0.0.1:@port is free for UDP and TCP now.  Tests run side by side (meson runs two
 * at once in CI), and a phone that cannot bind its port quits before it registers.
 */
static inline gboolean
test_baresip_port_is_free (guint port)
{
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, port);
  const GSocketType types[] = { G_SOCKET_TYPE_DATAGRAM, G_SOCKET_TYPE_STREAM };

  for (guint i = 0; i < G_N_ELEMENTS (types); i++)
    {
      g_autoptr(GSocket) socket = g_socket_new (G_SOCKET_FAMILY_IPV4, types[i], 0, NULL);

      if (socket == NULL || !g_socket_bind (socket, address, FALSE, NULL))
        return FALSE;
    }
  return TRUE;
}

/*
 * A port for a baresip phone: below Linux's ephemeral range (32768-60999, where other tests'
 * sockets and connections take their ports), with it and the next one (baresip's TLS port)
 * free, and at least 3 away from each of @avoid (0-terminated: the server's and the other
 * phone's ports).
 */
static inline guint
test_baresip_pick_port (const guint *avoid)
{
  for (;;)
    {
      guint port = (guint) g_random_int_range (20000, 32000);
      gboolean near = FALSE;

      for (const guint *a = avoid; *a != 0; a++)
        near = near || ABS ((int) port - (int) *a) < 3;
      if (!near && test_baresip_port_is_free (port) && test_baresip_port_is_free (port + 1))
        return port;
    }
}

/*
 * A baresip softphone (Debian's baresip-core) for the serve and TLS tests: @user's own folder
 * under @base_dir, listening on 127.0.0.1:@port, answering calls at once, a 440 Hz tone as its
 * microphone and no sound card.  @extra_config is added to its config ("sip_cafile F\n", or
 * ""); @account is its accounts line (the AOR, password and outbound proxy).  It quits after
 * @seconds; @command (or NULL) runs at start ("/dial ...").  Its console log goes to
 * BASE_DIR/baresip-USER.log; its standard input takes commands ("/hangup").  @child_setup
 * makes it die with the test.
 */
static inline GSubprocess *
test_baresip_spawn (const char           *base_dir,
                    const char           *user,
                    guint                 port,
                    const char           *extra_config,
                    const char           *account,
                    guint                 seconds,
                    const char           *command,
                    GSpawnChildSetupFunc  child_setup)
{
  g_autoptr(GSubprocessLauncher) launcher =
    g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDERR_MERGE);
  g_autofree char *dir = g_strdup_printf ("%s/baresip-%s", base_dir, user);
  g_autofree char *config_path = g_build_filename (dir, "config", NULL);
  g_autofree char *accounts_path = g_build_filename (dir, "accounts", NULL);
  g_autofree char *log = g_strdup_printf ("%s/baresip-%s.log", base_dir, user);
  g_autofree char *quit = g_strdup_printf ("%u", seconds);
  g_autofree char *config = NULL;
  g_autoptr(GError) error = NULL;
  GSubprocess *process;

  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  config = g_strdup_printf ("sip_listen 127.0.0.1:%u\n"
                            "%s"
                            "audio_player aufile,/dev/null\n"
                            "audio_alert aufile,/dev/null\n"
                            "audio_source ausine,440\n"
                            "ausrc_srate 48000\nauplay_srate 48000\n"
                            "ausrc_channels 2\nauplay_channels 2\n"
                            "module_path /usr/lib/baresip/modules\n"
                            "module stdio.so\nmodule g711.so\nmodule ausine.so\nmodule aufile.so\n"
                            "module_app account.so\nmodule_app menu.so\n", port, extra_config);
  g_assert_true (g_file_set_contents (config_path, config, -1, &error));
  g_assert_true (g_file_set_contents (accounts_path, account, -1, &error));
  g_subprocess_launcher_set_stdout_file_path (launcher, log);
  g_subprocess_launcher_set_child_setup (launcher, child_setup, NULL, NULL);
  if (command != NULL)
    process = g_subprocess_launcher_spawn (launcher, &error, "baresip", "-f", dir, "-t", quit,
                                           "-e", command, NULL);
  else
    process = g_subprocess_launcher_spawn (launcher, &error, "baresip", "-f", dir, "-t", quit,
                                           NULL);
  g_assert_no_error (error);
  return process;
}
