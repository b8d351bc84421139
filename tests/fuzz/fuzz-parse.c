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

static char *
osip_text (osip_message_t *msg,
           size_t         *len)
{
  char *dest = NULL;

  *len = 0;
  osip_message_force_update (msg);
  if (osip_message_to_str (msg, &dest, len) != 0)
    {
      osip_free (dest);
      *len = 0;
      return NULL;
    }
  return dest;
}

static void
check (const char *text,
       gsize       len)
{
  g_autoptr(GError) reference_error = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(osip_message_t) reference = sim_message_parse_with_osip (text, len, &reference_error);
  g_autoptr(osip_message_t) fast = sim_message_parse_fast (text, len);
  g_autoptr(osip_message_t) parsed = sim_message_parse (text, len, &error);

  if ((reference == NULL) != (parsed == NULL))
    abort ();
  if (reference == NULL)
    {
      if (fast != NULL || error == NULL || error->code != reference_error->code ||
          strcmp (error->message, reference_error->message) != 0)
        abort ();
      return;
    }
  assert_messages_equal (parsed, reference);
  if (fast == NULL)
    return;
  assert_messages_equal (fast, reference);
  {
    size_t fast_len, reference_len;
    char *fast_text = osip_text (fast, &fast_len);
    char *reference_text = osip_text (reference, &reference_len);

    if ((fast_text == NULL) != (reference_text == NULL) || fast_len != reference_len ||
        (fast_text != NULL && memcmp (fast_text, reference_text, fast_len) != 0))
      abort ();
    osip_free (fast_text);
    osip_free (reference_text);
    if (reference_text != NULL)
      {
        gsize a_len = 0, b_len = 0;
        g_autofree char *a = sim_message_to_string (fast, &a_len);
        g_autofree char *b = sim_message_to_string (reference, &b_len);

        if (a_len != b_len || memcmp (a, b, a_len) != 0)
          abort ();
      }
  }
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
