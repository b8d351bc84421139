/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "sim-lesson-private.h"

#include "sim-digest.h"
#include "sim-i18n.h"

#include <string.h>

/*
 * Predictions: "predict: FIELD of EVENT" ("status of 401 arrives at alice-desk", "header
 * Contact of REGISTER leaves bob-soft").  The student answers with the field's value; the
 * runner runs the world to the packet and compares.
 */

static const struct {
  const char *word;
  SimLessonField field;
  gboolean numeric;          /* answered with a number: "401", "401 Unauthorized", "CSeq 3" */
  const char *hint;          /* what kind of answer it wants, for a prompt */
} fields[] = {
  /* Indexed by SimLessonField. */
  /* No example values: an example in the prompt is a hint, and often the tempting wrong one. */
  [SIM_LESSON_FIELD_STATUS] = { "status", SIM_LESSON_FIELD_STATUS, TRUE,
                                N_("a status code (three digits)") },
  [SIM_LESSON_FIELD_METHOD] = { "method", SIM_LESSON_FIELD_METHOD, FALSE,
                                N_("a method name (in capitals)") },
  [SIM_LESSON_FIELD_CSEQ] = { "cseq", SIM_LESSON_FIELD_CSEQ, TRUE, N_("a CSeq number") },
  [SIM_LESSON_FIELD_EXPIRES] = { "expires", SIM_LESSON_FIELD_EXPIRES, TRUE,
                                 N_("a number of seconds") },
  [SIM_LESSON_FIELD_HEADER] = { "header", SIM_LESSON_FIELD_HEADER, FALSE, N_("the header's value") },
  [SIM_LESSON_FIELD_RESPONSE] = { "response", SIM_LESSON_FIELD_RESPONSE, FALSE,
                                  N_("the digest response (hex digits)") },
};

void
_sim_lesson_prediction_free (SimLessonPrediction *p)
{
  if (p == NULL)
    return;
  g_free (p->text);
  g_free (p->header);
  g_free (p);
}

SimLessonPrediction *
_sim_lesson_prediction_parse (const char        *text,
                              guint              line,
                              SimLessonMatcher **packet_out,
                              GError           **error)
{
  g_autoptr(SimLessonPrediction) p = g_new0 (SimLessonPrediction, 1);
  g_autoptr(SimLessonMatcher) packet = NULL;
  g_auto(GStrv) w = _sim_lesson_tokenize (text);
  guint i = 0, k;

  if (w[0] == NULL)
    {
      _sim_lesson_syntax_error (error, "missing what to predict (like 'status of response "
                                "arrives at alice-desk')");
      return NULL;
    }
  for (k = 0; k < G_N_ELEMENTS (fields); k++)
    if (strcmp (w[0], fields[k].word) == 0)
      break;
  /* "header" takes the header's name. */
  if (k == G_N_ELEMENTS (fields) || (fields[k].field == SIM_LESSON_FIELD_HEADER && w[1] == NULL))
    {
      _sim_lesson_syntax_error (error, "cannot predict '%s' (expected status, method, cseq, "
                                "expires, response or header NAME)", w[0]);
      return NULL;
    }
  p->field = fields[k].field;
  if (p->field == SIM_LESSON_FIELD_HEADER)
    p->header = g_strdup (w[++i]);
  i++;
  if (w[i] == NULL || strcmp (w[i], "of") != 0)
    {
      _sim_lesson_syntax_error (error, "expected 'of' and a packet after '%s' (like 'status of "
                                "next response to alice-desk')", w[0]);
      return NULL;
    }
  i++;
  if (w[i] != NULL && strcmp (w[i], "next") == 0)
    i++;
  if (w[i] != NULL && strcmp (w[i], "the") == 0)
    i++;
  packet = _sim_lesson_matcher_parse_words (w + i, error);
  if (packet == NULL)
    return NULL;
  if (packet->kind != SIM_LESSON_MATCH_EVENT || packet->type != SIM_EVENT_PACKET)
    {
      _sim_lesson_syntax_error (error, "a prediction is about a packet (like '401 arrives at "
                                "alice-desk'), not a time or another kind of event");
      return NULL;
    }
  p->text = g_strstrip (g_strdup (text));
  p->line = line;
  if (packet_out != NULL)
    *packet_out = g_steal_pointer (&packet);
  return g_steal_pointer (&p);
}

/* The credentials @e carries: Authorization, else Proxy-Authorization (RFC 3261 §22.2, §22.3). */
static gboolean
authorization (const SimEvent       *e,
               SimDigestCredentials *creds)
{
  g_autofree char *value = sim_raw_header_value (e->raw, "Authorization");

  if (value == NULL)
    value = sim_raw_header_value (e->raw, "Proxy-Authorization");
  return value != NULL && sim_digest_credentials_parse (value, creds, NULL);
}

/* The host of a Contact's URI ("10.0.0.11" in "<sip:bob@10.0.0.11:5060>;expires=60"). */
static char *
contact_host (const char *contact)
{
  const char *start = strstr (contact, "sip:");
  const char *at, *end;

  if (start == NULL)
    return NULL;
  start += 4;
  at = strchr (start, '@');
  end = start + strcspn (start, ">;,");
  if (at != NULL && at < end)
    start = at + 1;
  if (*start == '[')
    {
      const char *close = strchr (start, ']');
      return close != NULL ? g_strndup (start + 1, close - start - 1) : NULL;
    }
  return g_strndup (start, strcspn (start, ":;>,"));
}

/*
 * The expires parameter of the Contact of the phone the packet is about: a 200 OK to a
 * REGISTER lists every Contact bound to the AOR (RFC 3261 §10.3 step 8), and the one a
 * prediction asks for is the phone's own, the Contact at the address the response goes to
 * (or, for a request, comes from).  The first Contact when none is at that address.
 */
static char *
own_contact_expires (const SimEvent *e)
{
  const char *own = e->status != 0 ? e->dst.ip : e->src.ip;
  g_auto(GStrv) lines = g_strsplit (e->raw != NULL ? e->raw : "", "\n", -1);
  g_autofree char *first = NULL;
  g_autofree char *mine = NULL;

  /* Header lines after the start line, up to the empty line before the body. */
  for (guint i = 1; lines[i] != NULL && lines[i][0] != '\r' && lines[i][0] != '\0'; i++)
    {
      const char *colon = strchr (lines[i], ':');
      g_autofree char *name = colon ? g_strstrip (g_strndup (lines[i], colon - lines[i])) : NULL;
      g_auto(GStrv) contacts = NULL;

      if (name == NULL || (g_ascii_strcasecmp (name, "Contact") != 0 &&
                           g_ascii_strcasecmp (name, "m") != 0))
        continue;
      /* Several Contacts may share a line, separated by commas (RFC 3261 §20.10). */
      contacts = g_strsplit (colon + 1, ",", -1);
      for (guint k = 0; contacts[k] != NULL; k++)
        {
          const char *param = strstr (contacts[k], "expires=");
          g_autofree char *host = contact_host (contacts[k]);

          if (param == NULL)
            continue;
          if (first == NULL)
            first = g_strdup_printf ("%" G_GUINT64_FORMAT, g_ascii_strtoull (param + 8, NULL, 10));
          if (mine == NULL && host != NULL && g_strcmp0 (host, own) == 0)
            mine = g_strdup_printf ("%" G_GUINT64_FORMAT, g_ascii_strtoull (param + 8, NULL, 10));
        }
    }
  return mine != NULL ? g_steal_pointer (&mine) : g_steal_pointer (&first);
}

char *
_sim_lesson_prediction_value (const SimLessonPrediction *p,
                              const SimEvent            *e)
{
  switch (p->field)
    {
    case SIM_LESSON_FIELD_STATUS:
      return e->status ? g_strdup_printf ("%d", e->status) : NULL;
    case SIM_LESSON_FIELD_METHOD:
      return g_strdup (e->method);
    case SIM_LESSON_FIELD_CSEQ:
      if (e->cseq == NULL)
        return NULL;
      return g_strdup_printf ("%" G_GUINT64_FORMAT, g_ascii_strtoull (e->cseq, NULL, 10));
    case SIM_LESSON_FIELD_EXPIRES:
      {
        /* RFC 3261 §10.2.1.1: the Expires header, or the Contact's expires parameter. */
        char *v = sim_raw_header_value (e->raw, "Expires");

        if (v != NULL)
          return v;
        return own_contact_expires (e);
      }
    case SIM_LESSON_FIELD_HEADER:
      return sim_raw_header_value (e->raw, p->header);
    case SIM_LESSON_FIELD_RESPONSE:
      {
        SimDigestCredentials creds = { 0 };
        char *response;

        if (!authorization (e, &creds))
          return NULL;
        response = g_steal_pointer (&creds.response);
        sim_digest_credentials_clear (&creds);
        return response;
      }
    default:
      g_assert_not_reached ();
    }
}

gboolean
_sim_lesson_prediction_is_numeric (const SimLessonPrediction *p)
{
  return fields[p->field].numeric;
}

gboolean
_sim_lesson_prediction_accepts (const SimLessonPrediction *p,
                                const char                *actual,
                                const char                *answer)
{
  g_autofree char *a = g_strstrip (g_strdup (answer));

  if (actual == NULL)
    return FALSE;
  if (_sim_lesson_prediction_is_numeric (p))
    {
      char *end = NULL;
      guint64 n = g_ascii_strtoull (a, &end, 10);

      /* "401", "401 Unauthorized", "CSeq 3": the number is what counts. */
      if (end == a && g_ascii_strncasecmp (a, "cseq", 4) == 0)
        n = g_ascii_strtoull (a + 4, &end, 10);
      if (end == a)
        return FALSE;
      return n == g_ascii_strtoull (actual, NULL, 10);
    }
  return g_ascii_strcasecmp (a, actual) == 0;
}

const char *
sim_lesson_prediction_get_answer_hint (const SimLessonPrediction *prediction)
{
  g_return_val_if_fail (prediction != NULL, NULL);
  return _(fields[prediction->field].hint);
}

gboolean
sim_lesson_item_predicts_packet (const SimLessonItem *item,
                                 const SimEvent      *packet)
{
  g_return_val_if_fail (item != NULL, FALSE);
  if (packet == NULL || item->parsed->predicted == NULL)
    return FALSE;
  return _sim_lesson_matcher_names_packet (item->parsed->predicted, packet);
}

/* H() as a student's md5sum or sha256sum computes it: lowercase hex of the bytes of @text. */
static char *
hash_hex (GChecksumType  type,
          const char    *text)
{
  return g_compute_checksum_for_string (type, text, -1);
}

/*
 * The response a student computes from the packet's fields and the password, the way the
 * lesson shows it (RFC 7616 §3.4.1, qop=auth; RFC 2069 without qop):
 *   HA1 = H(username:realm:password), HA2 = H(method:uri),
 *   response = H(HA1:nonce:nc:cnonce:qop:HA2).
 * GChecksum, not sim-digest.c: the check verifies the simulator's digest, it does not reuse it.
 */
static char *
computed_response (const SimEvent  *e,
                   const char      *password,
                   char           **why_out)
{
  SimDigestCredentials creds = { 0 };
  g_autofree char *ha1_in = NULL, *ha2_in = NULL, *in = NULL;
  g_autofree char *ha1 = NULL, *ha2 = NULL;
  GChecksumType type;
  const char *method = e->method;
  char *response;

  if (!authorization (e, &creds))
    {
      *why_out = g_strdup ("the packet carries no Authorization to compute a response for");
      return NULL;
    }
  if (creds.algorithm == SIM_DIGEST_MD5)
    type = G_CHECKSUM_MD5;
  else if (creds.algorithm == SIM_DIGEST_SHA256)
    type = G_CHECKSUM_SHA256;
  else
    {
      *why_out = g_strdup_printf ("a lesson computes MD5 or SHA-256 responses, not %s",
                                  sim_digest_algorithm_name (creds.algorithm));
      sim_digest_credentials_clear (&creds);
      return NULL;
    }
  if (method == NULL)
    method = "REGISTER";
  ha1_in = g_strdup_printf ("%s:%s:%s", creds.username, creds.realm, password);
  ha2_in = g_strdup_printf ("%s:%s", method, creds.uri);
  ha1 = hash_hex (type, ha1_in);
  ha2 = hash_hex (type, ha2_in);
  if (creds.qop != NULL)
    in = g_strdup_printf ("%s:%s:%s:%s:%s:%s", ha1, creds.nonce, creds.nc, creds.cnonce, creds.qop, ha2);
  else
    in = g_strdup_printf ("%s:%s:%s", ha1, creds.nonce, ha2);
  response = hash_hex (type, in);
  sim_digest_credentials_clear (&creds);
  return response;
}

char *
_sim_lesson_prediction_key_value (const SimLessonPrediction *p,
                                  const char                *key,
                                  const SimEvent            *e,
                                  char                     **why_out)
{
  g_auto(GStrv) w = NULL;

  if (p->field != SIM_LESSON_FIELD_RESPONSE || !g_str_has_prefix (key, "digest "))
    return g_strdup (key);
  /* "digest PASSWORD": what a student who knows PASSWORD computes from the packet. */
  w = _sim_lesson_tokenize (key);
  if (w[1] == NULL || w[2] != NULL)
    {
      *why_out = g_strdup ("a computed key reads 'digest PASSWORD'");
      return NULL;
    }
  return computed_response (e, w[1], why_out);
}
