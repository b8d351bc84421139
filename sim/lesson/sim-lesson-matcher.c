/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "sim-lesson-private.h"

#include <string.h>

/*
 * Events: what "run: until", "predict: FIELD of", and the happened/never/count claims name
 * (the grammar is in sim-lesson-private.h).  An event is a time ("t=120s", "+30s", "end"), a
 * trace event by type ("binding added sip:bob@lab.example"), a note, or a packet by its first
 * word and the words after it ("401 arrives at alice-desk", "REGISTER with Authorization
 * leaves alice-desk").
 */

void
_sim_lesson_matcher_free (SimLessonMatcher *m)
{
  if (m == NULL)
    return;
  g_free (m->action);
  g_free (m->node);
  g_free (m->contact);
  g_free (m->text);
  g_free (m->method);
  g_free (m->from);
  g_free (m->to);
  g_clear_pointer (&m->with, g_ptr_array_unref);
  g_clear_pointer (&m->without, g_ptr_array_unref);
  g_free (m);
}

static gboolean
is_method (const char *w)
{
  if (!g_ascii_isupper (w[0]))
    return FALSE;
  for (const char *c = w; *c; c++)
    if (!g_ascii_isupper (*c) && *c != '-')
      return FALSE;
  return TRUE;
}

/* ------------------------------------------------------------------------------------------ */
/* Parsing                                                                                    */

static gboolean
is_time (const char *w)
{
  return g_str_has_prefix (w, "t=") || strcmp (w, "t") == 0 || g_str_has_prefix (w, "+") ||
         strcmp (w, "for") == 0;
}

/* "t=120s", "t = 120s", "t 120s" (from the start); "+30s", "for 30s" (from now). */
static gboolean
parse_time (char            **w,
            guint             n,
            SimLessonMatcher *m,
            GError          **error)
{
  const char *d;

  if (strcmp (w[0], "t") == 0)
    {
      m->kind = SIM_LESSON_MATCH_TIME;
      d = (n >= 3 && strcmp (w[1], "=") == 0) ? w[2] : (n >= 2 ? w[1] : NULL);
    }
  else if (strcmp (w[0], "for") == 0)
    {
      m->kind = SIM_LESSON_MATCH_REL;
      d = n >= 2 ? w[1] : NULL;
    }
  else if (g_str_has_prefix (w[0], "+"))
    {
      m->kind = SIM_LESSON_MATCH_REL;
      d = w[0] + 1;
    }
  else
    {
      m->kind = SIM_LESSON_MATCH_TIME;
      d = w[0][2] != '\0' ? w[0] + 2 : (n >= 2 ? w[1] : NULL);
    }
  if (d == NULL || !sim_scenario_parse_duration (d, &m->t, NULL) || m->t < 0)
    return _sim_lesson_syntax_error (error, "'%s' needs a time like t=120s or +30s", w[0]);
  return TRUE;
}

/* "note [WORDS]": a note whose text contains WORDS; "error": a note the world flagged. */
static void
parse_note (char            **w,
            guint             n,
            SimLessonMatcher *m)
{
  m->type = SIM_EVENT_NOTE;
  if (strcmp (w[0], "error") == 0)
    m->action = g_strdup ("error");
  if (n > 1)
    {
      g_autofree char **words = g_new0 (char *, n);

      memcpy (words, w + 1, (n - 1) * sizeof (char *));
      m->text = g_strjoinv (" ", words);
    }
}

/* "binding added sip:bob@lab.example [CONTACT]", "timer F", "registration any alice-desk". */
static gboolean
parse_typed_event (char            **w,
                   guint             n,
                   SimLessonMatcher *m,
                   GError          **error)
{
  static const char * const fillers[] = { "at", "of", "for", NULL };
  guint i = 1;

  if (i < n && strcmp (w[i], "any") != 0 && !g_str_has_prefix (w[i], "sip:"))
    m->action = g_strdup (w[i]);
  if (i < n && (m->action != NULL || strcmp (w[i], "any") == 0))
    i++;
  for (; i < n; i++)
    {
      if (_sim_lesson_word_in (w[i], fillers))
        continue;
      if (m->type == SIM_EVENT_BINDING && m->node != NULL && m->contact == NULL)
        m->contact = g_strdup (w[i]);
      else if (m->node == NULL)
        m->node = g_strdup (w[i]);
      else
        return _sim_lesson_syntax_error (error, "unexpected '%s' after '%s %s'", w[i], w[0],
                                         m->action ? m->action : "");
    }
  return TRUE;
}

/* The first word of a packet event: REGISTER, 401, 2xx, request, response, packet. */
static gboolean
parse_packet_kind (const char       *what,
                   SimLessonMatcher *m,
                   GError          **error)
{
  guint64 code;

  if (g_ascii_strcasecmp (what, "request") == 0)
    m->packet = SIM_LESSON_PACKET_REQUEST;
  else if (g_ascii_strcasecmp (what, "response") == 0)
    m->packet = SIM_LESSON_PACKET_RESPONSE;
  else if (g_ascii_strcasecmp (what, "packet") == 0 || g_ascii_strcasecmp (what, "message") == 0 ||
           g_ascii_strcasecmp (what, "any") == 0)
    m->packet = SIM_LESSON_PACKET_ANY;
  else if (strlen (what) == 3 && g_ascii_isdigit (what[0]) && g_ascii_tolower (what[1]) == 'x' &&
           g_ascii_tolower (what[2]) == 'x')
    {
      m->status_class = what[0] - '0';
      m->packet = SIM_LESSON_PACKET_RESPONSE;
    }
  else if (g_ascii_string_to_unsigned (what, 10, 100, 699, &code, NULL))
    {
      m->status = (int) code;
      m->packet = SIM_LESSON_PACKET_RESPONSE;
    }
  else if (is_method (what))
    {
      m->method = g_strdup (what);
      m->packet = SIM_LESSON_PACKET_REQUEST;
    }
  else
    return _sim_lesson_syntax_error (error, "'%s' is not an event (expected a method like "
                                     "REGISTER, a status like 401 or 2xx, request, response, "
                                     "binding, nonce, registration, call, lookup, timer, node, "
                                     "note, t=TIME, +TIME or end)", what);
  return TRUE;
}

/* What a word after a packet's first word does. */
typedef enum {
  PACKET_WITH,         /* with HEADER */
  PACKET_WITHOUT,      /* without HEADER */
  PACKET_TO,           /* arrives at NODE, to NODE */
  PACKET_FROM,         /* leaves NODE, from NODE */
  PACKET_ACTION,       /* sent, delivered, dropped, retransmitted */
} PacketWordRole;

static const struct {
  const char *word;
  PacketWordRole role;
  const char *action;        /* the action the word implies when none is given, or NULL */
} packet_words[] = {
  { "with", PACKET_WITH, NULL },
  { "without", PACKET_WITHOUT, NULL },
  { "arrives", PACKET_TO, "delivered" },
  { "arriving", PACKET_TO, "delivered" },
  { "at", PACKET_TO, "delivered" },
  { "reaches", PACKET_TO, "delivered" },
  { "to", PACKET_TO, NULL },
  { "leaves", PACKET_FROM, "sent" },
  { "from", PACKET_FROM, NULL },
  { "by", PACKET_FROM, NULL },
  { "sent", PACKET_ACTION, NULL },
  { "delivered", PACKET_ACTION, NULL },
  { "dropped", PACKET_ACTION, NULL },
  { "retransmitted", PACKET_ACTION, NULL },
};

/* Reads the word after @w[*i] (after an optional "at"): a header or node name. */
static const char *
take_argument (char   **w,
               guint    n,
               guint   *i,
               gboolean skip_at)
{
  if (skip_at && *i + 1 < n && strcmp (w[*i + 1], "at") == 0)
    (*i)++;
  if (*i + 1 >= n)
    return NULL;
  return w[++(*i)];
}

static void
add_header (GPtrArray  **list,
            const char  *name)
{
  if (*list == NULL)
    *list = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (*list, g_strdup (name));
}

/* The words after a packet's first word, from @w[@i]. */
static gboolean
parse_packet_words (char            **w,
                    guint             n,
                    guint             i,
                    SimLessonMatcher *m,
                    GError          **error)
{
  for (; i < n; i++)
    {
      const char *word = w[i];
      const char *arg;
      char **slot;
      guint k;

      for (k = 0; k < G_N_ELEMENTS (packet_words); k++)
        if (strcmp (word, packet_words[k].word) == 0)
          break;
      if (k == G_N_ELEMENTS (packet_words))
        return _sim_lesson_syntax_error (error, "unexpected '%s' in a packet event (expected with "
                                         "HEADER, from NODE, to NODE, arrives at NODE, leaves "
                                         "NODE, sent, dropped or retransmitted)", word);
      switch (packet_words[k].role)
        {
        case PACKET_WITH:
        case PACKET_WITHOUT:
          if ((arg = take_argument (w, n, &i, FALSE)) == NULL)
            return _sim_lesson_syntax_error (error, "'%s' needs a header name", word);
          add_header (packet_words[k].role == PACKET_WITH ? &m->with : &m->without, arg);
          break;
        case PACKET_TO:
        case PACKET_FROM:
          slot = packet_words[k].role == PACKET_TO ? &m->to : &m->from;
          /* "arrives at NODE": the "at" is optional after any of the "to" words. */
          if ((arg = take_argument (w, n, &i, packet_words[k].role == PACKET_TO)) == NULL)
            return _sim_lesson_syntax_error (error, "'%s' needs a node name", word);
          g_free (*slot);
          *slot = g_strdup (arg);
          if (m->action == NULL && packet_words[k].action != NULL)
            m->action = g_strdup (packet_words[k].action);
          break;
        case PACKET_ACTION:
        default:
          g_free (m->action);
          m->action = g_strdup (word);
          break;
        }
    }
  if (m->action == NULL)
    m->action = g_strdup (m->to != NULL ? "delivered" : "sent");
  return TRUE;
}

SimLessonMatcher *
_sim_lesson_matcher_parse_words (char   **w,
                                 GError **error)
{
  g_autoptr(SimLessonMatcher) m = g_new0 (SimLessonMatcher, 1);
  guint n = g_strv_length (w);
  gboolean ok;

  m->horizon = SIM_LESSON_DEFAULT_HORIZON;
  if (n >= 2 && strcmp (w[n - 2], "within") == 0)
    {
      if (!sim_scenario_parse_duration (w[n - 1], &m->horizon, NULL) || m->horizon <= 0)
        {
          _sim_lesson_syntax_error (error, "'%s' is not a duration (like 30s, 2m, 3h)", w[n - 1]);
          return NULL;
        }
      n -= 2;
    }
  if (n == 0)
    {
      _sim_lesson_syntax_error (error, "missing the event (like '401 arrives at alice-desk', "
                                "'binding added', 't=120s')");
      return NULL;
    }

  if (is_time (w[0]))
    ok = parse_time (w, n, m, error);
  else if (strcmp (w[0], "end") == 0 && n == 1)
    {
      m->kind = SIM_LESSON_MATCH_END;
      ok = TRUE;
    }
  else
    {
      m->kind = SIM_LESSON_MATCH_EVENT;
      if (strcmp (w[0], "note") == 0 || strcmp (w[0], "error") == 0)
        {
          parse_note (w, n, m);
          ok = TRUE;
        }
      /* "packet" is also an event type's name, but a packet event takes the packet words. */
      else if (strcmp (w[0], "packet") != 0 && strcmp (w[0], "message") != 0 &&
               sim_event_type_from_name (w[0], &m->type))
        ok = parse_typed_event (w, n, m, error);
      else
        {
          m->type = SIM_EVENT_PACKET;
          ok = parse_packet_kind (w[0], m, error) && parse_packet_words (w, n, 1, m, error);
        }
    }
  return ok ? g_steal_pointer (&m) : NULL;
}

SimLessonMatcher *
_sim_lesson_matcher_parse (const char  *text,
                           GError     **error)
{
  g_auto(GStrv) w = _sim_lesson_tokenize (text);
  char **start = w;

  if (start[0] != NULL && (strcmp (start[0], "until") == 0 || strcmp (start[0], "next") == 0))
    start++;
  if (start[0] != NULL && strcmp (start[0], "next") == 0)
    start++;
  return _sim_lesson_matcher_parse_words (start, error);
}

/* ------------------------------------------------------------------------------------------ */
/* Matching                                                                                   */

/* Whether @e is the packet @m names, whatever happened to it. */
static gboolean
packet_fields_match (const SimLessonMatcher *m,
                     const SimEvent         *e)
{
  if (m->packet == SIM_LESSON_PACKET_REQUEST && e->status != 0)
    return FALSE;
  if (m->packet == SIM_LESSON_PACKET_RESPONSE && e->status == 0)
    return FALSE;
  if (m->method != NULL && g_strcmp0 (e->method, m->method) != 0)
    return FALSE;
  if (m->status != 0 && e->status != m->status)
    return FALSE;
  if (m->status_class != 0 && e->status / 100 != m->status_class)
    return FALSE;
  if (m->from != NULL && g_strcmp0 (e->from, m->from) != 0)
    return FALSE;
  if (m->to != NULL && g_strcmp0 (e->to, m->to) != 0)
    return FALSE;
  for (guint i = 0; m->with != NULL && i < m->with->len; i++)
    if (!sim_raw_header_has (e->raw, m->with->pdata[i]))
      return FALSE;
  for (guint i = 0; m->without != NULL && i < m->without->len; i++)
    if (sim_raw_header_has (e->raw, m->without->pdata[i]))
      return FALSE;
  return TRUE;
}

static gboolean
packet_matches (const SimLessonMatcher *m,
                const SimEvent         *e)
{
  if (strcmp (m->action, "sent") == 0)
    {
      if (g_strcmp0 (e->action, "sent") != 0 && g_strcmp0 (e->action, "retransmitted") != 0)
        return FALSE;
    }
  else if (g_strcmp0 (e->action, m->action) != 0)
    return FALSE;
  return packet_fields_match (m, e);
}

gboolean
_sim_lesson_matcher_names_packet (const SimLessonMatcher *m,
                                  const SimEvent         *e)
{
  return m->kind == SIM_LESSON_MATCH_EVENT && m->type == SIM_EVENT_PACKET &&
         e->type == SIM_EVENT_PACKET && packet_fields_match (m, e);
}

gboolean
_sim_lesson_matcher_matches (const SimLessonMatcher *m,
                             const SimEvent         *e)
{
  if (m->kind != SIM_LESSON_MATCH_EVENT || e->type != m->type)
    return FALSE;
  if (m->type == SIM_EVENT_PACKET)
    return packet_matches (m, e);
  if (m->action != NULL && g_strcmp0 (e->action, m->action) != 0)
    return FALSE;
  if (m->type == SIM_EVENT_NOTE)
    return m->text == NULL || (e->text != NULL && strstr (e->text, m->text) != NULL);
  if (m->node != NULL)
    {
      gboolean is_aor = m->type == SIM_EVENT_BINDING || m->type == SIM_EVENT_LOOKUP;
      const char *have = is_aor ? e->aor : e->node;

      /* A timer is named by its name ("F"), a registration by its AOR or its phone. */
      if (m->type == SIM_EVENT_TIMER && g_strcmp0 (e->name, m->node) == 0)
        ;
      else if (m->type == SIM_EVENT_REGISTRATION && g_strcmp0 (e->aor, m->node) == 0)
        ;
      else if (g_strcmp0 (have, m->node) != 0)
        return FALSE;
    }
  if (m->contact != NULL && g_strcmp0 (e->contact, m->contact) != 0)
    return FALSE;
  return TRUE;
}
