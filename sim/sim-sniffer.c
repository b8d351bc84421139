/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "sim-sniffer.h"

#include <gio/gio.h>
#include <string.h>

#include "sim-export.h"
#include "sim-message.h"

void
sim_crack_result_clear (SimCrackResult *result)
{
  g_clear_pointer (&result->user, g_free);
  g_clear_pointer (&result->realm, g_free);
  g_clear_pointer (&result->password, g_free);
}

GStrv
sim_sniffer_parse_words (const char *text)
{
  g_auto(GStrv) lines = g_strsplit (text, "\n", -1);
  GPtrArray *words = g_ptr_array_new ();

  for (guint i = 0; lines[i] != NULL && words->len < SIM_SNIFFER_MAX_WORDS; i++)
    {
      char *line = g_strstrip (lines[i]);

      if (*line == '\0' || *line == '#')
        continue;
      g_ptr_array_add (words, g_strdup (line));
    }
  g_ptr_array_add (words, NULL);
  return (GStrv) g_ptr_array_free (words, FALSE);
}

extern GResource *sim_sniffer_get_resource (void);

const char *const *
sim_sniffer_default_words (void)
{
  static GStrv words;

  if (g_once_init_enter (&words))
    {
      g_autoptr(GBytes) bytes = g_resource_lookup_data (sim_sniffer_get_resource (),
                                                        "/org/siplab/sim/wordlist.txt",
                                                        G_RESOURCE_LOOKUP_FLAGS_NONE, NULL);
      g_autofree char *text = NULL;

      g_assert (bytes != NULL);
      text = g_strndup (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
      g_once_init_leave (&words, sim_sniffer_parse_words (text));
    }
  return (const char *const *) words;
}

/* What a captured challenge or answer says, when it is one. */
static char *
captured_header (const SimEvent *event,
                 gboolean        challenge)
{
  if (event->raw == NULL)
    return NULL;
  if (challenge)
    {
      if (event->status == 401)
        return sim_raw_header_value (event->raw, "WWW-Authenticate");
      if (event->status == 407)
        return sim_raw_header_value (event->raw, "Proxy-Authenticate");
      return NULL;
    }
  if (event->status != 0)
    return NULL;
  {
    char *value = sim_raw_header_value (event->raw, "Authorization");
    return value != NULL ? value : sim_raw_header_value (event->raw, "Proxy-Authorization");
  }
}

/* Was a challenge with @nonce captured before position @before? */
static gboolean
challenge_captured (GPtrArray  *events,
                    const char *sniffer,
                    guint       before,
                    const char *nonce)
{
  for (guint i = 0; i < before; i++)
    {
      const SimEvent *event = events->pdata[i];
      g_autofree char *value = NULL;
      SimDigestChallenge challenge = { 0 };
      gboolean match;

      if (event->type != SIM_EVENT_CAPTURE || g_strcmp0 (event->node, sniffer) != 0 ||
          (value = captured_header (event, TRUE)) == NULL ||
          !sim_digest_challenge_parse (value, &challenge, NULL))
        continue;
      match = g_strcmp0 (challenge.nonce, nonce) == 0;
      sim_digest_challenge_clear (&challenge);
      if (match)
        return TRUE;
    }
  return FALSE;
}

/* The last answer to a captured challenge: FALSE when the sniffer has none in clear. */
static gboolean
find_exchange (GPtrArray            *events,
               const char           *sniffer,
               const char           *user,
               SimDigestCredentials *credentials,
               char                **method,
               gboolean             *saw_tls)
{
  gboolean found = FALSE;

  for (guint i = events->len; i-- > 0 && !found;)
    {
      const SimEvent *event = events->pdata[i];
      g_autofree char *value = NULL;
      SimDigestCredentials c = { 0 };

      if (event->type != SIM_EVENT_CAPTURE || g_strcmp0 (event->node, sniffer) != 0)
        continue;
      *saw_tls |= event->tls;
      if ((value = captured_header (event, FALSE)) == NULL ||
          !sim_digest_credentials_parse (value, &c, NULL))
        continue;
      if ((user == NULL || g_strcmp0 (c.username, user) == 0) &&
          challenge_captured (events, sniffer, i, c.nonce))
        {
          *credentials = c;
          *method = g_strdup (event->method);
          found = TRUE;
        }
      else
        sim_digest_credentials_clear (&c);
    }
  return found;
}

void
sim_sniffer_crack (GPtrArray          *events,
                   const char         *sniffer,
                   const char         *user,
                   const char *const  *words,
                   SimCrackResult     *result)
{
  SimDigestCredentials credentials = { 0 };
  g_autofree char *method = NULL;

  g_return_if_fail (events != NULL && sniffer != NULL && words != NULL && result != NULL);
  memset (result, 0, sizeof *result);
  result->outcome = SIM_CRACK_NOTHING_TO_TRY;
  if (!find_exchange (events, sniffer, user, &credentials, &method, &result->saw_tls))
    {
      result->user = g_strdup (user);
      return;
    }
  result->user = g_strdup (credentials.username);
  result->realm = g_strdup (credentials.realm);
  result->algorithm = credentials.algorithm;
  result->outcome = SIM_CRACK_NOT_FOUND;
  /* The realm the sniffer read in the answer is the one HA1 covers (RFC 7616 §3.4.2). */
  for (guint i = 0; words[i] != NULL; i++)
    {
      result->tries++;
      if (sim_digest_check_response (&credentials, credentials.realm, words[i], method))
        {
          result->outcome = SIM_CRACK_FOUND;
          result->password = g_strdup (words[i]);
          break;
        }
    }
  result->seconds = result->tries / (result->algorithm == SIM_DIGEST_MD5
                                     ? SIM_SNIFFER_MD5_TRIES_PER_SEC
                                     : SIM_SNIFFER_SHA256_TRIES_PER_SEC);
  sim_digest_credentials_clear (&credentials);
}

char *
sim_crack_result_describe (const SimCrackResult *result)
{
  const char *algorithm = sim_digest_algorithm_name (result->algorithm);
  double rate = result->algorithm == SIM_DIGEST_MD5 ? SIM_SNIFFER_MD5_TRIES_PER_SEC
                                                   : SIM_SNIFFER_SHA256_TRIES_PER_SEC;

  switch (result->outcome)
    {
    case SIM_CRACK_NOTHING_TO_TRY:
      return g_strdup_printf ("nothing to try%s%s: no challenge and answer were captured in "
                              "clear%s", result->user ? " for " : "",
                              result->user ? result->user : "",
                              result->saw_tls ? " (on a TLS link the sniffer sees only the "
                                                "size of each record)" : "");
    case SIM_CRACK_FOUND:
      return g_strdup_printf ("password of %s found offline: \"%s\" after %" G_GUINT64_FORMAT
                              " tries of %s, %.6f s at %.0f million tries/s (RFC 7616 §5.7)",
                              result->user, result->password, result->tries, algorithm,
                              result->seconds, rate / 1e6);
    case SIM_CRACK_NOT_FOUND:
    default:
      return g_strdup_printf ("password of %s not found: %" G_GUINT64_FORMAT " tries of %s "
                              "(%.6f s at %.0f million tries/s), none in the word list",
                              result->user, result->tries, algorithm, result->seconds,
                              rate / 1e6);
    }
}

void
sim_sniffer_trace_result (SimTrace             *trace,
                          SimTime               t,
                          const char           *sniffer,
                          const SimCrackResult *result)
{
  static const char *actions[] = {
    [SIM_CRACK_FOUND] = "cracked",
    [SIM_CRACK_NOT_FOUND] = "not-cracked",
    [SIM_CRACK_NOTHING_TO_TRY] = "nothing-to-try",
  };
  SimEvent *event;

  if (!sim_trace_is_enabled (trace))
    return;
  event = sim_event_new (SIM_EVENT_CAPTURE, actions[result->outcome]);
  event->t = t;
  event->node = g_strdup (sniffer);
  event->user = g_strdup (result->user);
  event->tls = result->saw_tls;
  event->text = sim_crack_result_describe (result);
  sim_trace_emit (trace, event);
}
