/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Differential libFuzzer target for sim_message_parse's fast path: for any bytes, what the fast
 * path builds (when it does not decline) must equal, field by field and as text, what libosip2's
 * osip_message_parse builds; and sim_message_parse must accept and reject exactly what libosip2
 * alone accepts and rejects, with the same error.
 *
 * Build (clang only), see fuzz-intake.c; then
 *   ./_build-fuzz/tests/fuzz/fuzz-parse -dict=tests/fuzz/sip.dict -close_fd_mask=2 CORPUS tests/fuzz/corpus
 * (The seed files hold several messages separated by NULs; each input is parsed as a whole and,
 * split at its NULs, message by message.)
 */
#include <stdint.h>
#include <string.h>

#include "parse-compare.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);
int LLVMFuzzerInitialize (int *argc, char ***argv);

static void
quiet_log_cb (const char     *log_domain,
              GLogLevelFlags  log_level,
              const char     *message,
              gpointer        user_data)
{
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
  g_log_set_default_handler (quiet_log_cb, NULL);
  sim_message_init_library ();
  return 0;
}

static void
check (const char *text,
       gsize       len)
{
  parse_compare_paths (text, len, NULL);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  const char *p = (const char *) data;
  const char *end = p + size;

  check (p, size);
  if (memchr (p, '\0', size) != NULL)
    while (p < end)
      {
        const char *nul = memchr (p, '\0', end - p);
        gsize len = (nul != NULL ? nul : end) - p;

        check (p, len);
        p += len + 1;
      }
  return 0;
}
