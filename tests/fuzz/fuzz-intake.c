/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * libFuzzer target for the message intake: arbitrary bytes arrive at the registrar/proxy's
 * stack exactly as a datagram from the network would (sim_stack_receive), and at a phone's stack
 * as if the registrar had sent them.  The server is wired by SimWorld (registrar, proxy, digest
 * auth, location service on a virtual clock), so the fuzzer reaches the same code a lesson or
 * `siplab-cli serve` does.  After each input the clock runs for 40 s of virtual time (more
 * than 64*T1) so retransmission timers, Timer F/H/J and the proxy's branches all run.  The same
 * bytes also go to the digest header parsers, which see attacker-controlled text first.
 *
 * Build (clang only): meson setup _build-fuzz -Db_sanitize=address,undefined, with CC=clang;
 * ninja -C _build-fuzz fuzz-intake; ./_build-fuzz/tests/fuzz/fuzz-intake tests/fuzz/corpus
 */
#include <stdint.h>
#include <string.h>

#include "sim-digest.h"
#include "sim-world.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);
int LLVMFuzzerInitialize (int *argc, char ***argv);

static void
fatal_log_cb (const char     *log_domain,
              GLogLevelFlags  log_level,
              const char     *message,
              gpointer        user_data)
{
  /* A critical or warning from our code on hostile input is a bug: make it a crash. */
  if (log_level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING))
    {
      g_printerr ("%s: %s\n", log_domain ? log_domain : "?", message);
      abort ();
    }
}

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  /*
   * libosip2 prints every parse error to stderr; run with -close_fd_mask=2 to silence it
   * (libFuzzer keeps its own and the sanitizers' reports on a duplicate of stderr).
   */
  g_log_set_default_handler (fatal_log_cb, NULL);
  return 0;
}

static void
fuzz_digest (const uint8_t *data,
             size_t         size)
{
  g_autofree char *text = g_strndup ((const char *) data, size);
  SimDigestChallenge challenge = { 0 };
  SimDigestCredentials credentials = { 0 };
  gboolean known = TRUE;

  if (sim_digest_challenge_parse (text, &challenge, NULL))
    {
      g_autofree char *formatted = sim_digest_challenge_format (&challenge);
      SimDigestCredentials answer = { 0 };

      if (formatted == NULL)
        abort ();

      sim_digest_answer (&challenge, "alice", "secret", "REGISTER", "sip:lab.example",
                         "0a4f113b", 1, &answer);
      sim_digest_credentials_clear (&answer);
    }
  sim_digest_challenge_clear (&challenge);
  if (sim_digest_credentials_parse (text, &credentials, NULL))
    {
      g_autofree char *formatted = sim_digest_credentials_format (&credentials);

      if (formatted == NULL)
        abort ();
    }
  sim_digest_credentials_clear (&credentials);
  if (sim_digest_credentials_parse_full (text, &credentials, &known, NULL))
    sim_digest_credentials_clear (&credentials);
}

/* Delivers one chunk to the server as if from alice's phone, and to her phone as if from the
 * registrar, then lets 100 ms pass so the next chunk meets the transactions this one made. */
static void
deliver (SimWorld         *world,
         SimTransportKind  transport,
         const char       *data,
         gsize             len)
{
  SimStack *server = sim_world_get_server_stack (world);
  SimStack *phone = sim_phone_get_stack (sim_world_get_phone (world, "alice-phone"));
  SimAddr from_phone, from_server;

  sim_addr_init (&from_phone, "10.0.0.10", 5060, transport);
  sim_addr_init (&from_server, "10.0.0.1", 5060, transport);
  sim_stack_receive (server, &from_phone, data, len);
  sim_stack_receive (phone, &from_server, data, len);
  sim_world_run_until (world, sim_world_now (world) + SIM_MSEC (100));
}

/*
 * The input is one or more messages separated by NUL bytes (so INVITE, CANCEL, ACK can meet
 * in one run).  The size picks the mode, so that mutations visit all four: odd turns the
 * registrar's authentication off (to reach the contact, expiry and CSeq rules behind the
 * digest check), and size % 4 >= 2 marks the messages as received over TCP (no
 * retransmissions, stream rules).
 */
int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(SimWorld) world = sim_world_new (4475);
  const char *p = (const char *) data;
  const char *end = p + size;
  SimTransportKind transport = size % 4 >= 2 ? SIM_TRANSPORT_TCP : SIM_TRANSPORT_UDP;

  /* A fresh world per input, so a crash reproduces from its one input. */
  if (!sim_world_add_server (world, "registrar", "10.0.0.1", "lab.example", NULL) ||
      !sim_world_add_user (world, "alice", "secret", NULL, NULL) ||
      !sim_world_add_user (world, "bob", "secret", NULL, NULL) ||
      sim_world_add_phone (world, "alice", "alice-phone", "10.0.0.10", NULL) == NULL ||
      sim_world_add_phone (world, "bob", "bob-phone", "10.0.0.11", NULL) == NULL)
    abort ();
  /* Keep memory flat: observers are all we need, not a stored trace. */
  sim_trace_set_keep (sim_world_get_trace (world), FALSE);
  if (size % 2 == 1)
    {
      SimRegistrarPolicy policy = *sim_registrar_get_policy (sim_world_get_registrar (world));

      policy.domain = NULL;
      policy.require_auth = FALSE;
      sim_registrar_set_policy (sim_world_get_registrar (world), &policy);
    }

  /* Give the fuzz bytes something to match: bob is registered, alice's REGISTER is in flight
   * and so is her call to bob (the proxy forks it; bob answers after 2 s). */
  sim_world_register (world, "bob-phone", -1, NULL);
  sim_world_run_until (world, sim_world_now (world) + SIM_SEC (2));
  sim_world_register (world, "alice-phone", -1, NULL);
  sim_world_call (world, "alice-phone", "bob", NULL);

  for (guint n = 0; p < end && n < 8; n++)
    {
      const char *nul = memchr (p, '\0', end - p);
      const char *stop = nul != NULL ? nul : end;

      deliver (world, transport, p, stop - p);
      p = nul != NULL ? nul + 1 : end;
    }
  /* The whole input once more: a retransmission must meet the transaction the first made. */
  deliver (world, transport, (const char *) data, size);
  sim_world_run_until (world, sim_world_now (world) + SIM_SEC (40));

  fuzz_digest (data, size);
  return 0;
}
