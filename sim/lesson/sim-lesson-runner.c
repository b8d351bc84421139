/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "sim-lesson.h"

#include "sim-export.h"

#include <gio/gio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Lessons: parsing, playing and checking.  lessons/README.md is the format reference; the
 * grammar of the three small languages a lesson uses lives here:
 *
 *   events   (run: until ..., predict: FIELD of ..., happened/never/count claims)
 *            t=120s | +30s | for 30s | end
 *            binding|nonce|registration|call|lookup|timer|node|transaction [ACTION] [ARGS]
 *            note [WORDS] | error
 *            WHAT [with H] [without H] [from N] [to N] [arrives at N] [leaves N] [sent|delivered|dropped|retransmitted]
 *              WHAT: METHOD (REGISTER), CODE (401), CLASS (2xx), request, response, packet
 *   claims   bindings AOR OP N | binding AOR CONTACT present|absent | total-bindings OP N
 *            reg-state DEVICE STATE | call-state DEVICE STATE | granted DEVICE OP N
 *            cseq DEVICE OP N | last-status CODE [from N] [to N] | happened EVENT
 *            never EVENT | count EVENT OP N
 *   commands register DEVICE [expires N] | unregister DEVICE [all] | call DEVICE WHO
 *            hangup DEVICE | move DEVICE IP | power-off DEVICE | power-on DEVICE
 *            password DEVICE PW | password user USER PW | replay DEVICE [from HOST]
 *            [new-call-id] [bump-cseq] | learn DEVICE USER IP | fill-address-books
 *            policy KEY VALUE [KEY VALUE...] | link NODE NODE [latency D] [jitter D]
 *            [loss N%] | wait DURATION
 *
 * Each is parsed once when the file is loaded (so a typo is a "file:line:" error before
 * anything runs) and again when it is used; they are tiny, and this keeps the item structs
 * plain text a view can show.
 */

G_DEFINE_QUARK (sim-lesson-error-quark, sim_lesson_error)

#define DEFAULT_SETTLE SIM_SEC (10)
#define DEFAULT_HORIZON SIM_SEC (2 * 3600)

/* ------------------------------------------------------------------------------------------ */
/* Small helpers                                                                              */

static char **
tokenize (const char *text)
{
  g_auto(GStrv) raw = g_strsplit_set (text, " \t", -1);
  GPtrArray *out = g_ptr_array_new ();

  for (guint i = 0; raw[i] != NULL; i++)
    if (raw[i][0] != '\0')
      g_ptr_array_add (out, g_strdup (raw[i]));
  g_ptr_array_add (out, NULL);
  return (char **) g_ptr_array_free (out, FALSE);
}

static gboolean
parse_uint (const char *text,
            guint64    *out)
{
  return text != NULL && g_ascii_string_to_unsigned (text, 10, 0, G_MAXUINT32, out, NULL);
}

/* "600", "600s", "10m": seconds. */
static gboolean
parse_seconds (const char *text,
               guint64    *out)
{
  SimTime t;

  if (parse_uint (text, out))
    return TRUE;
  if (text == NULL || !sim_scenario_parse_duration (text, &t, NULL) || t < 0)
    return FALSE;
  *out = (guint64) (t / G_USEC_PER_SEC);
  return TRUE;
}

typedef enum { OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE } Op;

static gboolean
parse_op (const char *text,
          Op         *op)
{
  static const char *ops[] = { "==", "!=", "<", "<=", ">", ">=" };

  for (guint i = 0; text != NULL && i < G_N_ELEMENTS (ops); i++)
    if (strcmp (text, ops[i]) == 0)
      {
        *op = (Op) i;
        return TRUE;
      }
  if (g_strcmp0 (text, "=") == 0)
    {
      *op = OP_EQ;
      return TRUE;
    }
  return FALSE;
}

static gboolean
compare (gint64 a,
         Op     op,
         gint64 b)
{
  switch (op)
    {
    case OP_EQ: return a == b;
    case OP_NE: return a != b;
    case OP_LT: return a < b;
    case OP_LE: return a <= b;
    case OP_GT: return a > b;
    case OP_GE: return a >= b;
    default: g_assert_not_reached ();
    }
}

static const char *
op_text (Op op)
{
  static const char *ops[] = { "==", "!=", "<", "<=", ">", ">=" };
  return ops[op];
}

/* RFC 3261 §7.3.3 compact forms. */
static const char *
expand_compact (const char *name)
{
  static const struct { const char *c, *full; } forms[] = {
    { "i", "Call-ID" }, { "m", "Contact" }, { "e", "Content-Encoding" }, { "l", "Content-Length" },
    { "c", "Content-Type" }, { "f", "From" }, { "s", "Subject" }, { "k", "Supported" },
    { "t", "To" }, { "v", "Via" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (forms); i++)
    if (g_ascii_strcasecmp (name, forms[i].c) == 0)
      return forms[i].full;
  return name;
}

/* The value of the first header @name in @raw (compact forms count), or NULL. */
static char *
header_value (const char *raw,
              const char *name)
{
  g_auto(GStrv) lines = NULL;
  const char *want = expand_compact (name);

  if (raw == NULL)
    return NULL;
  lines = g_strsplit (raw, "\n", -1);
  for (guint i = 1; lines[i] != NULL; i++)
    {
      char *line = g_strchomp (lines[i]);
      char *colon;

      if (line[0] == '\0')
        break;
      colon = strchr (line, ':');
      if (colon == NULL)
        continue;
      *colon = '\0';
      g_strstrip (line);
      if (g_ascii_strcasecmp (expand_compact (line), want) == 0)
        return g_strstrip (g_strdup (colon + 1));
    }
  return NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* Events                                                                                     */

typedef enum {
  MATCH_TIME,      /* t=120s */
  MATCH_REL,       /* +30s */
  MATCH_END,       /* the scene's run length */
  MATCH_EVENT,
} MatchKind;

typedef struct {
  MatchKind kind;
  SimTime t;
  SimTime horizon;
  SimEventType type;
  char *action;            /* NULL: any; for packets "sent" also matches "retransmitted" */
  char *node;              /* event->node, or the AOR of a binding/lookup */
  char *contact;           /* binding */
  char *text;              /* note */
  /* packets */
  char *method;
  int status;              /* 0: any */
  int status_class;        /* 2 for 2xx; 0: any */
  int want;                /* 0 any, 1 request, 2 response */
  char *from;
  char *to;
  GPtrArray *with;
  GPtrArray *without;
} Matcher;

static void
matcher_free (Matcher *m)
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
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Matcher, matcher_free)

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

static gboolean
bad (GError    **error,
     const char *format,
     ...) G_GNUC_PRINTF (2, 3);

static gboolean
bad (GError    **error,
     const char *format,
     ...)
{
  va_list args;
  char *message;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error_literal (error, SIM_LESSON_ERROR, SIM_LESSON_ERROR_SYNTAX, message);
  g_free (message);
  return FALSE;
}

static Matcher *
matcher_parse_tokens (char   **w,
                      GError **error)
{
  g_autoptr(Matcher) m = g_new0 (Matcher, 1);
  guint n = g_strv_length (w), i = 0;

  m->horizon = DEFAULT_HORIZON;
  if (n >= 2 && strcmp (w[n - 2], "within") == 0)
    {
      if (!sim_scenario_parse_duration (w[n - 1], &m->horizon, NULL) || m->horizon <= 0)
        {
          bad (error, "'%s' is not a duration (like 30s, 2m, 3h)", w[n - 1]);
          return NULL;
        }
      n -= 2;
    }
  if (n == 0)
    {
      bad (error, "missing the event (like '401 arrives at alice-desk', 'binding added', 't=120s')");
      return NULL;
    }

  /* Times */
  if (g_str_has_prefix (w[0], "t=") || strcmp (w[0], "t") == 0 || g_str_has_prefix (w[0], "+") ||
      strcmp (w[0], "for") == 0)
    {
      const char *d;

      if (strcmp (w[0], "t") == 0)
        d = (n >= 3 && strcmp (w[1], "=") == 0) ? w[2] : (n >= 2 ? w[1] : NULL);
      else if (strcmp (w[0], "for") == 0)
        d = n >= 2 ? w[1] : NULL;
      else if (w[0][0] == '+')
        d = w[0] + 1;
      else if (w[0][2] != '\0')
        d = w[0] + 2;
      else
        d = n >= 2 ? w[1] : NULL;
      m->kind = (w[0][0] == 't') ? MATCH_TIME : MATCH_REL;
      if (d == NULL || !sim_scenario_parse_duration (d, &m->t, NULL) || m->t < 0)
        {
          bad (error, "'%s' needs a time like t=120s or +30s", w[0]);
          return NULL;
        }
      return g_steal_pointer (&m);
    }
  if (strcmp (w[0], "end") == 0 && n == 1)
    {
      m->kind = MATCH_END;
      return g_steal_pointer (&m);
    }

  m->kind = MATCH_EVENT;
  if (strcmp (w[0], "note") == 0 || strcmp (w[0], "error") == 0)
    {
      m->type = SIM_EVENT_NOTE;
      if (strcmp (w[0], "error") == 0)
        m->action = g_strdup ("error");
      if (n > 1)
        {
          g_autofree char *joined = g_strjoinv (" ", w + 1);
          m->text = g_steal_pointer (&joined);
        }
      return g_steal_pointer (&m);
    }
  if (strcmp (w[0], "packet") != 0 && strcmp (w[0], "message") != 0 &&
      sim_event_type_from_name (w[0], &m->type))
    {
      i = 1;
      if (m->type == SIM_EVENT_PACKET)
        goto packet;
      if (i < n && strcmp (w[i], "any") != 0 && !g_str_has_prefix (w[i], "sip:"))
        m->action = g_strdup (w[i]);
      if (i < n && (m->action != NULL || strcmp (w[i], "any") == 0))
        i++;
      for (; i < n; i++)
        {
          if (strcmp (w[i], "at") == 0 || strcmp (w[i], "of") == 0 || strcmp (w[i], "for") == 0)
            continue;
          if ((m->type == SIM_EVENT_BINDING) && m->node != NULL && m->contact == NULL)
            m->contact = g_strdup (w[i]);
          else if (m->node == NULL)
            m->node = g_strdup (w[i]);
          else
            {
              bad (error, "unexpected '%s' after '%s %s'", w[i], w[0], m->action ? m->action : "");
              return NULL;
            }
        }
      return g_steal_pointer (&m);
    }

  /* Packets */
  m->type = SIM_EVENT_PACKET;
  {
    const char *what = w[0];
    guint64 code;

    if (g_ascii_strcasecmp (what, "request") == 0)
      m->want = 1;
    else if (g_ascii_strcasecmp (what, "response") == 0)
      m->want = 2;
    else if (g_ascii_strcasecmp (what, "packet") == 0 || g_ascii_strcasecmp (what, "message") == 0 ||
             g_ascii_strcasecmp (what, "any") == 0)
      ;
    else if (strlen (what) == 3 && g_ascii_isdigit (what[0]) && g_ascii_tolower (what[1]) == 'x' &&
             g_ascii_tolower (what[2]) == 'x')
      {
        m->status_class = what[0] - '0';
        m->want = 2;
      }
    else if (g_ascii_string_to_unsigned (what, 10, 100, 699, &code, NULL))
      {
        m->status = (int) code;
        m->want = 2;
      }
    else if (is_method (what))
      {
        m->method = g_strdup (what);
        m->want = 1;
      }
    else
      {
        bad (error, "'%s' is not an event (expected a method like REGISTER, a status like 401 "
             "or 2xx, request, response, binding, nonce, registration, call, lookup, timer, "
             "node, note, t=TIME, +TIME or end)", what);
        return NULL;
      }
    i = 1;
  }
packet:
  for (; i < n; i++)
    {
      const char *word = w[i];

      if (strcmp (word, "with") == 0 || strcmp (word, "without") == 0)
        {
          GPtrArray **list = word[4] == '\0' ? &m->with : &m->without;
          if (i + 1 >= n)
            {
              bad (error, "'%s' needs a header name", word);
              return NULL;
            }
          if (*list == NULL)
            *list = g_ptr_array_new_with_free_func (g_free);
          g_ptr_array_add (*list, g_strdup (w[++i]));
        }
      else if (strcmp (word, "arrives") == 0 || strcmp (word, "arriving") == 0 ||
               strcmp (word, "at") == 0 || strcmp (word, "to") == 0 || strcmp (word, "reaches") == 0)
        {
          if (i + 1 < n && strcmp (w[i + 1], "at") == 0)
            i++;
          if (i + 1 >= n)
            {
              bad (error, "'%s' needs a node name", word);
              return NULL;
            }
          g_free (m->to);
          m->to = g_strdup (w[++i]);
          if (m->action == NULL && strcmp (word, "to") != 0)
            m->action = g_strdup ("delivered");
        }
      else if (strcmp (word, "leaves") == 0 || strcmp (word, "from") == 0 || strcmp (word, "by") == 0)
        {
          if (i + 1 >= n)
            {
              bad (error, "'%s' needs a node name", word);
              return NULL;
            }
          g_free (m->from);
          m->from = g_strdup (w[++i]);
          if (m->action == NULL && strcmp (word, "leaves") == 0)
            m->action = g_strdup ("sent");
        }
      else if (strcmp (word, "sent") == 0 || strcmp (word, "delivered") == 0 ||
               strcmp (word, "dropped") == 0 || strcmp (word, "retransmitted") == 0)
        {
          g_free (m->action);
          m->action = g_strdup (word);
        }
      else
        {
          bad (error, "unexpected '%s' in a packet event (expected with HEADER, from NODE, "
               "to NODE, arrives at NODE, leaves NODE, sent, dropped or retransmitted)", word);
          return NULL;
        }
    }
  if (m->action == NULL)
    m->action = g_strdup (m->to != NULL ? "delivered" : "sent");
  return g_steal_pointer (&m);
}

static Matcher *
matcher_parse (const char  *text,
               GError     **error)
{
  g_auto(GStrv) w = tokenize (text);
  char **start = w;

  if (start[0] != NULL && (strcmp (start[0], "until") == 0 || strcmp (start[0], "next") == 0))
    start++;
  if (start[0] != NULL && strcmp (start[0], "next") == 0)
    start++;
  return matcher_parse_tokens (start, error);
}

static gboolean
event_has_header (const SimEvent *e,
                  const char     *name)
{
  g_autofree char *v = header_value (e->raw, name);
  return v != NULL;
}

static gboolean
matcher_matches (const Matcher  *m,
                 const SimEvent *e)
{
  if (m->kind != MATCH_EVENT || e->type != m->type)
    return FALSE;
  if (m->type == SIM_EVENT_PACKET)
    {
      if (strcmp (m->action, "sent") == 0)
        {
          if (g_strcmp0 (e->action, "sent") != 0 && g_strcmp0 (e->action, "retransmitted") != 0)
            return FALSE;
        }
      else if (g_strcmp0 (e->action, m->action) != 0)
        return FALSE;
      if (m->want == 1 && e->status != 0)
        return FALSE;
      if (m->want == 2 && e->status == 0)
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
        if (!event_has_header (e, m->with->pdata[i]))
          return FALSE;
      for (guint i = 0; m->without != NULL && i < m->without->len; i++)
        if (event_has_header (e, m->without->pdata[i]))
          return FALSE;
      return TRUE;
    }
  if (m->action != NULL && g_strcmp0 (e->action, m->action) != 0)
    return FALSE;
  if (m->type == SIM_EVENT_NOTE)
    return m->text == NULL || (e->text != NULL && strstr (e->text, m->text) != NULL);
  if (m->node != NULL)
    {
      gboolean is_aor = m->type == SIM_EVENT_BINDING || m->type == SIM_EVENT_LOOKUP;
      const char *have = is_aor ? e->aor : e->node;

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

/* ------------------------------------------------------------------------------------------ */
/* Predictions: FIELD of EVENT                                                                */

typedef enum { FIELD_STATUS, FIELD_METHOD, FIELD_CSEQ, FIELD_EXPIRES, FIELD_HEADER } FieldKind;

typedef struct {
  FieldKind kind;
  char *header;
  Matcher *matcher;
} Prediction;

static void
prediction_free (Prediction *p)
{
  if (p == NULL)
    return;
  g_free (p->header);
  matcher_free (p->matcher);
  g_free (p);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Prediction, prediction_free)

static Prediction *
prediction_parse (const char  *text,
                  GError     **error)
{
  g_autoptr(Prediction) p = g_new0 (Prediction, 1);
  g_auto(GStrv) w = tokenize (text);
  guint i = 0;

  if (w[0] == NULL)
    {
      bad (error, "missing what to predict (like 'status of response arrives at alice-desk')");
      return NULL;
    }
  if (strcmp (w[0], "status") == 0)
    p->kind = FIELD_STATUS;
  else if (strcmp (w[0], "method") == 0)
    p->kind = FIELD_METHOD;
  else if (strcmp (w[0], "cseq") == 0)
    p->kind = FIELD_CSEQ;
  else if (strcmp (w[0], "expires") == 0)
    p->kind = FIELD_EXPIRES;
  else if (strcmp (w[0], "header") == 0 && w[1] != NULL)
    {
      p->kind = FIELD_HEADER;
      p->header = g_strdup (w[++i]);
    }
  else
    {
      bad (error, "cannot predict '%s' (expected status, method, cseq, expires or header NAME)", w[0]);
      return NULL;
    }
  i++;
  if (w[i] == NULL || strcmp (w[i], "of") != 0)
    {
      bad (error, "expected 'of' and a packet after '%s' (like 'status of next response to alice-desk')",
           w[0]);
      return NULL;
    }
  i++;
  if (w[i] != NULL && strcmp (w[i], "next") == 0)
    i++;
  if (w[i] != NULL && strcmp (w[i], "the") == 0)
    i++;
  p->matcher = matcher_parse_tokens (w + i, error);
  if (p->matcher == NULL)
    return NULL;
  if (p->matcher->kind != MATCH_EVENT || p->matcher->type != SIM_EVENT_PACKET)
    {
      bad (error, "a prediction is about a packet (like '401 arrives at alice-desk'), not a time or "
           "another kind of event");
      return NULL;
    }
  return g_steal_pointer (&p);
}

/* The value of the predicted field in @e, as text; NULL when the packet does not carry it. */
static char *
prediction_value (const Prediction *p,
                  const SimEvent   *e)
{
  switch (p->kind)
    {
    case FIELD_STATUS:
      return e->status ? g_strdup_printf ("%d", e->status) : NULL;
    case FIELD_METHOD:
      return g_strdup (e->method);
    case FIELD_CSEQ:
      return e->cseq ? g_strdup_printf ("%" G_GUINT64_FORMAT, g_ascii_strtoull (e->cseq, NULL, 10)) : NULL;
    case FIELD_EXPIRES:
      {
        char *v = header_value (e->raw, "Expires");
        g_autofree char *contact = NULL;
        const char *param;

        if (v != NULL)
          return v;
        contact = header_value (e->raw, "Contact");
        if (contact != NULL && (param = strstr (contact, "expires=")) != NULL)
          return g_strdup_printf ("%" G_GUINT64_FORMAT, g_ascii_strtoull (param + 8, NULL, 10));
        return NULL;
      }
    case FIELD_HEADER:
      return header_value (e->raw, p->header);
    default:
      g_assert_not_reached ();
    }
}

static gboolean
answer_matches (const Prediction *p,
                const char       *actual,
                const char       *answer)
{
  g_autofree char *a = g_strstrip (g_strdup (answer));

  if (actual == NULL)
    return FALSE;
  if (p->kind == FIELD_STATUS || p->kind == FIELD_CSEQ || p->kind == FIELD_EXPIRES)
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

/* ------------------------------------------------------------------------------------------ */
/* Claims                                                                                     */

static gboolean
is_state_name (const char *w,
               gboolean    call)
{
  for (guint i = 0; i < (call ? 6u : 5u); i++)
    if (g_strcmp0 (w, call ? sim_call_state_name (i) : sim_reg_state_name (i)) == 0)
      return TRUE;
  return FALSE;
}

/*
 * Parses @claim and, when @world is not NULL, evaluates it.  With @world NULL only the syntax
 * is checked (at load time).
 */
static gboolean
claim_run (SimWorld    *world,
           const char  *claim,
           guint        since,
           gboolean    *holds,
           char       **why_out,
           GError     **error)
{
  g_auto(GStrv) w = tokenize (claim);
  guint n = g_strv_length (w);
  g_autofree char *why = NULL;
  gboolean ok = FALSE;
  Op op = OP_EQ;
  guint64 num = 0;

  if (n == 0)
    return bad (error, "missing the claim (like 'bindings sip:bob@lab.example == 2')");

  if (strcmp (w[0], "bindings") == 0 || strcmp (w[0], "total-bindings") == 0)
    {
      gboolean total = w[0][0] == 't';
      guint k = total ? 1 : 2;

      if (n != k + 2 || (!total && !g_str_has_prefix (w[1], "sip:")) || !parse_op (w[k], &op) ||
          !parse_uint (w[k + 1], &num))
        return bad (error, total ? "expected 'total-bindings OP N' (like 'total-bindings == 3')"
                                 : "expected 'bindings AOR OP N' (like 'bindings sip:bob@lab.example == 2')");
      if (world != NULL)
        {
          SimLocation *loc = sim_world_get_location (world);
          guint have = 0;

          if (loc != NULL && total)
            {
              /* Expire what is due first, as a lookup does. */
              g_autoptr(GPtrArray) aors = sim_location_list_aors (loc);
              for (guint i = 0; i < aors->len; i++)
                {
                  GPtrArray *b = sim_location_lookup (loc, aors->pdata[i]);
                  have += b ? b->len : 0;
                }
            }
          else if (loc != NULL)
            {
              GPtrArray *b = sim_location_lookup (loc, w[1]);
              have = b ? b->len : 0;
            }
          ok = compare (have, op, (gint64) num);
          why = g_strdup_printf ("%s has %u binding%s, the claim is %s %" G_GUINT64_FORMAT,
                                 total ? "the location service" : w[1],
                                 have, have == 1 ? "" : "s", op_text (op), num);
        }
    }
  else if (strcmp (w[0], "binding") == 0)
    {
      if (n != 4 || (strcmp (w[3], "present") != 0 && strcmp (w[3], "absent") != 0))
        return bad (error, "expected 'binding AOR CONTACT present|absent'");
      if (world != NULL)
        {
          SimLocation *loc = sim_world_get_location (world);
          gboolean present = FALSE;

          if (loc != NULL)
            {
              GPtrArray *b = sim_location_lookup (loc, w[1]);
              for (guint i = 0; b != NULL && i < b->len; i++)
                if (g_strcmp0 (((SimBinding *) b->pdata[i])->contact, w[2]) == 0)
                  present = TRUE;
            }
          ok = present == (strcmp (w[3], "present") == 0);
          why = g_strdup_printf ("%s -> %s is %s", w[1], w[2], present ? "present" : "absent");
        }
    }
  else if (strcmp (w[0], "reg-state") == 0 || strcmp (w[0], "call-state") == 0)
    {
      gboolean call = w[0][0] == 'c';

      if (n != 3 || !is_state_name (w[2], call))
        return bad (error, call ? "expected 'call-state DEVICE idle|calling|ringing|established|ended|failed'"
                                : "expected 'reg-state DEVICE idle|registering|registered|unregistering|failed'");
      if (world != NULL)
        {
          SimPhone *phone = sim_world_get_phone (world, w[1]);
          const char *state;

          if (phone == NULL)
            {
              g_set_error (error, SIM_LESSON_ERROR, SIM_LESSON_ERROR_COMMAND, "no phone '%s'", w[1]);
              return FALSE;
            }
          state = call ? sim_call_state_name (sim_phone_get_call_state (phone))
                       : sim_reg_state_name (sim_phone_get_reg_state (phone));
          ok = strcmp (state, w[2]) == 0;
          why = g_strdup_printf ("%s's %s state is %s", w[1], call ? "call" : "registration", state);
        }
    }
  else if (strcmp (w[0], "granted") == 0 || strcmp (w[0], "cseq") == 0)
    {
      if (n != 4 || !parse_op (w[2], &op) || !parse_uint (w[3], &num))
        return bad (error, "expected '%s DEVICE OP N'", w[0]);
      if (world != NULL)
        {
          SimPhone *phone = sim_world_get_phone (world, w[1]);
          guint32 have;

          if (phone == NULL)
            {
              g_set_error (error, SIM_LESSON_ERROR, SIM_LESSON_ERROR_COMMAND, "no phone '%s'", w[1]);
              return FALSE;
            }
          have = w[0][0] == 'g' ? sim_phone_get_granted (phone) : sim_phone_get_cseq (phone);
          ok = compare (have, op, (gint64) num);
          why = g_strdup_printf ("%s's %s is %u", w[1], w[0][0] == 'g' ? "granted expiry" : "last REGISTER CSeq", have);
        }
    }
  else if (strcmp (w[0], "last-status") == 0)
    {
      const char *from = NULL, *to = NULL;

      if (n < 2 || !parse_uint (w[1], &num))
        return bad (error, "expected 'last-status CODE [from NODE] [to NODE]'");
      for (guint i = 2; i < n; i += 2)
        {
          if (i + 1 >= n || (strcmp (w[i], "from") != 0 && strcmp (w[i], "to") != 0))
            return bad (error, "expected 'last-status CODE [from NODE] [to NODE]'");
          if (w[i][0] == 'f')
            from = w[i + 1];
          else
            to = w[i + 1];
        }
      if (world != NULL)
        {
          SimTrace *trace = sim_world_get_trace (world);
          int last = 0;

          for (guint i = since; i < sim_trace_get_n_events (trace); i++)
            {
              SimEvent *e = sim_trace_get_event (trace, i);
              if (e->type == SIM_EVENT_PACKET && e->status != 0 && g_strcmp0 (e->action, "sent") == 0 &&
                  (from == NULL || g_strcmp0 (e->from, from) == 0) &&
                  (to == NULL || g_strcmp0 (e->to, to) == 0))
                last = e->status;
            }
          ok = last == (int) num;
          why = last ? g_strdup_printf ("the last response sent was %d", last)
                     : g_strdup ("no response was sent");
        }
    }
  else if (strcmp (w[0], "happened") == 0 || strcmp (w[0], "never") == 0 || strcmp (w[0], "count") == 0)
    {
      gboolean count = w[0][0] == 'c';
      g_autoptr(Matcher) m = NULL;
      guint count_n = n;

      if (count)
        {
          if (n < 4 || !parse_op (w[n - 2], &op) || !parse_uint (w[n - 1], &num))
            return bad (error, "expected 'count EVENT OP N' (like 'count REGISTER arrives at registrar == 2')");
          count_n = n - 2;
        }
      {
        /* The words between the keyword and "OP N", as a NULL-terminated borrowed vector. */
        g_autofree char **sub = g_new0 (char *, count_n);
        memcpy (sub, w + 1, (count_n - 1) * sizeof (char *));
        m = matcher_parse_tokens (sub, error);
      }
      if (m == NULL)
        return FALSE;
      if (m->kind != MATCH_EVENT)
        return bad (error, "'%s' takes an event, not a time", w[0]);
      if (world != NULL)
        {
          SimTrace *trace = sim_world_get_trace (world);
          guint seen = 0;

          for (guint i = since; i < sim_trace_get_n_events (trace); i++)
            if (matcher_matches (m, sim_trace_get_event (trace, i)))
              seen++;
          if (count)
            ok = compare (seen, op, (gint64) num);
          else
            ok = (seen > 0) == (w[0][0] == 'h');
          why = g_strdup_printf ("it happened %u time%s", seen, seen == 1 ? "" : "s");
        }
    }
  else
    return bad (error, "unknown claim '%s' (expected bindings, binding, total-bindings, reg-state, "
                "call-state, granted, cseq, last-status, happened, never or count)", w[0]);

  if (holds != NULL)
    *holds = ok;
  if (why_out != NULL)
    *why_out = g_steal_pointer (&why);
  return TRUE;
}

gboolean
sim_lesson_eval_claim (SimWorld    *world,
                       const char  *claim,
                       guint        since,
                       gboolean    *holds,
                       char       **why_out,
                       GError     **error)
{
  g_return_val_if_fail (SIM_IS_WORLD (world), FALSE);
  g_return_val_if_fail (claim != NULL, FALSE);
  return claim_run (world, claim, since, holds, why_out, error);
}

/* ------------------------------------------------------------------------------------------ */
/* Commands                                                                                   */

static gboolean
apply_policy (SimWorld     *world,
              char        **w,
              GError      **error)
{
  SimRegistrar *registrar = world ? sim_world_get_registrar (world) : NULL;
  SimRegistrarPolicy policy = { 0 };
  guint n = g_strv_length (w);

  if (world != NULL && registrar == NULL)
    {
      g_set_error (error, SIM_LESSON_ERROR, SIM_LESSON_ERROR_COMMAND, "this scene has no registrar");
      return FALSE;
    }
  if (registrar != NULL)
    policy = *sim_registrar_get_policy (registrar);
  if (n < 3 || (n - 1) % 2 != 0)
    return bad (error, "expected 'policy KEY VALUE [KEY VALUE...]' (like 'policy min-expires 600')");
  for (guint i = 1; i + 1 < n; i += 2)
    {
      const char *key = w[i], *v = w[i + 1];
      guint64 num;

      if (strcmp (key, "min-expires") == 0 || strcmp (key, "default-expires") == 0 ||
          strcmp (key, "max-expires") == 0 || strcmp (key, "max-contacts") == 0)
        {
          gboolean is_count = strcmp (key, "max-contacts") == 0;
          if (!(is_count ? parse_uint (v, &num) : parse_seconds (v, &num)))
            return bad (error, "'%s' is not a number of seconds for %s", v, key);
          if (strcmp (key, "min-expires") == 0)
            policy.min_expires = num;
          else if (strcmp (key, "default-expires") == 0)
            policy.default_expires = num;
          else if (strcmp (key, "max-expires") == 0)
            policy.max_expires = num;
          else
            policy.max_contacts = num;
        }
      else if (strcmp (key, "too-brief") == 0 && (strcmp (v, "423") == 0 || strcmp (v, "raise") == 0))
        policy.raise_to_min = v[0] == 'r';
      else if (strcmp (key, "when-full") == 0 && (strcmp (v, "503") == 0 || strcmp (v, "replace-oldest") == 0))
        policy.replace_oldest = v[0] == 'r';
      else if (strcmp (key, "auth") == 0 && (strcmp (v, "on") == 0 || strcmp (v, "off") == 0))
        policy.require_auth = strcmp (v, "on") == 0;
      else if (strcmp (key, "proxy-auth") == 0 && (strcmp (v, "on") == 0 || strcmp (v, "off") == 0))
        policy.proxy_auth = strcmp (v, "on") == 0;
      else if (strcmp (key, "one-time") == 0 && (strcmp (v, "on") == 0 || strcmp (v, "off") == 0))
        {
          if (world != NULL)
            sim_auth_set_one_time (sim_world_get_auth (world), strcmp (v, "on") == 0);
        }
      else
        return bad (error, "unknown policy '%s %s' (expected min-expires N, default-expires N, "
                    "max-expires N, too-brief 423|raise, max-contacts N, when-full 503|replace-oldest, "
                    "auth on|off, proxy-auth on|off, one-time on|off)", key, v);
    }
  if (registrar != NULL)
    {
      if (policy.min_expires > policy.max_expires)
        return bad (error, "min-expires (%u) cannot be above max-expires (%u)", policy.min_expires,
                    policy.max_expires);
      sim_registrar_set_policy (registrar, &policy);
      {
        g_autofree char *text = g_strjoinv (" ", w + 1);
        sim_trace_note (sim_world_get_trace (world), sim_world_now (world), sim_world_get_server_name (world),
                        "registrar policy changed: %s", text);
      }
    }
  return TRUE;
}

/* With @world NULL, only checks the syntax.  The world's own errors say what is wrong. */
static gboolean
command_run (SimWorld    *world,
             const char  *command,
             GError     **error)
{
  g_auto(GStrv) w = tokenize (command);
  guint n = g_strv_length (w);
  const char *verb = n ? w[0] : "";
  guint64 num;

#define NEED(cond, usage) G_STMT_START { if (!(cond)) return bad (error, "usage: %s", usage); } G_STMT_END

  if (n == 0)
    return bad (error, "missing the command (like 'register bob-soft')");
  if (strcmp (verb, "register") == 0)
    {
      gint64 expires = -1;
      NEED (n == 2 || (n == 4 && strcmp (w[2], "expires") == 0 && parse_seconds (w[3], &num)),
            "register DEVICE [expires SECONDS]");
      if (n == 4)
        expires = (gint64) num;
      return world == NULL || sim_world_register (world, w[1], expires, error);
    }
  if (strcmp (verb, "unregister") == 0)
    {
      NEED (n == 2 || (n == 3 && strcmp (w[2], "all") == 0), "unregister DEVICE [all]");
      return world == NULL || sim_world_unregister (world, w[1], n == 3, error);
    }
  if (strcmp (verb, "call") == 0)
    {
      NEED (n == 3, "call DEVICE USER-OR-SIP-URI");
      return world == NULL || sim_world_call (world, w[1], w[2], error);
    }
  if (strcmp (verb, "hangup") == 0)
    {
      NEED (n == 2, "hangup DEVICE");
      return world == NULL || sim_world_hangup (world, w[1], error);
    }
  if (strcmp (verb, "move") == 0)
    {
      NEED (n == 3, "move DEVICE NEW-IP");
      return world == NULL || sim_world_move (world, w[1], w[2], error);
    }
  if (strcmp (verb, "power-off") == 0 || strcmp (verb, "power-on") == 0)
    {
      NEED (n == 2, "power-off DEVICE | power-on DEVICE");
      return world == NULL || sim_world_set_power (world, w[1], verb[7] == 'n', error);
    }
  if (strcmp (verb, "password") == 0)
    {
      NEED (n == 3 || (n == 4 && strcmp (w[1], "user") == 0), "password DEVICE NEW | password user USER NEW");
      if (n == 4)
        return world == NULL || sim_world_set_password (world, w[2], NULL, w[3], error);
      return world == NULL || sim_world_set_password (world, NULL, w[1], w[2], error);
    }
  if (strcmp (verb, "replay") == 0)
    {
      const char *from = NULL;
      gboolean new_call_id = FALSE, bump = FALSE;

      NEED (n >= 2, "replay DEVICE [from HOST] [new-call-id] [bump-cseq]");
      for (guint i = 2; i < n; i++)
        {
          if (strcmp (w[i], "from") == 0 && i + 1 < n)
            from = w[++i];
          else if (strcmp (w[i], "new-call-id") == 0)
            new_call_id = TRUE;
          else if (strcmp (w[i], "bump-cseq") == 0)
            bump = TRUE;
          else
            return bad (error, "usage: replay DEVICE [from HOST] [new-call-id] [bump-cseq]");
        }
      return world == NULL || sim_world_replay (world, w[1], from, new_call_id, bump, error);
    }
  if (strcmp (verb, "learn") == 0)
    {
      NEED (n == 4, "learn DEVICE USER IP");
      if (world != NULL)
        {
          if (sim_world_get_phone (world, w[1]) == NULL)
            {
              g_set_error (error, SIM_LESSON_ERROR, SIM_LESSON_ERROR_COMMAND, "no phone '%s'", w[1]);
              return FALSE;
            }
          sim_world_learn_address (world, w[1], w[2], w[3]);
        }
      return TRUE;
    }
  if (strcmp (verb, "fill-address-books") == 0)
    {
      NEED (n == 1, "fill-address-books");
      if (world != NULL)
        sim_world_fill_address_books (world);
      return TRUE;
    }
  if (strcmp (verb, "policy") == 0)
    return apply_policy (world, w, error);
  if (strcmp (verb, "link") == 0)
    {
      SimLinkParams params = { 0 };
      const char *usage = "link NODE NODE [latency DURATION] [jitter DURATION] [loss PERCENT%]";

      NEED (n >= 5 && (n - 3) % 2 == 0, usage);
      if (world != NULL)
        {
          SimNet *net = sim_world_get_net (world);
          for (guint i = 1; i <= 2; i++)
            if (sim_world_get_phone (world, w[i]) == NULL &&
                g_strcmp0 (sim_world_get_server_name (world), w[i]) != 0)
              {
                /* Hosts (an attacker) are fine too: the net knows every node by name. */
                gboolean known = FALSE;
                SimTrace *trace = sim_world_get_trace (world);
                for (guint k = 0; k < sim_trace_get_n_events (trace) && !known; k++)
                  {
                    SimEvent *e = sim_trace_get_event (trace, k);
                    known = e->type == SIM_EVENT_NODE && g_strcmp0 (e->node, w[i]) == 0;
                  }
                if (!known)
                  {
                    g_set_error (error, SIM_LESSON_ERROR, SIM_LESSON_ERROR_COMMAND, "no node '%s'", w[i]);
                    return FALSE;
                  }
              }
          sim_net_get_link (net, w[1], w[2], &params);
        }
      for (guint i = 3; i + 1 < n; i += 2)
        {
          if (strcmp (w[i], "latency") == 0 || strcmp (w[i], "jitter") == 0)
            {
              SimTime d;
              NEED (sim_scenario_parse_duration (w[i + 1], &d, NULL) && d >= 0, usage);
              if (w[i][0] == 'l')
                params.latency = d;
              else
                params.jitter = d;
            }
          else if (strcmp (w[i], "loss") == 0)
            {
              g_autofree char *v = g_strdup (w[i + 1]);
              guint64 pct;
              if (g_str_has_suffix (v, "%"))
                v[strlen (v) - 1] = '\0';
              NEED (g_ascii_string_to_unsigned (v, 10, 0, 100, &pct, NULL), usage);
              params.loss = pct / 100.0;
            }
          else
            return bad (error, "usage: %s", usage);
        }
      if (world != NULL)
        sim_world_set_link (world, w[1], w[2], &params);
      return TRUE;
    }
  if (strcmp (verb, "wait") == 0)
    {
      SimTime d;
      NEED (n == 2 && sim_scenario_parse_duration (w[1], &d, NULL) && d >= 0, "wait DURATION");
      if (world != NULL)
        sim_world_run_until (world, sim_world_now (world) + d);
      return TRUE;
    }
#undef NEED
  return bad (error, "unknown command '%s' (expected register, unregister, call, hangup, move, "
              "power-off, power-on, password, replay, learn, fill-address-books, policy, link or wait)", verb);
}

/* ------------------------------------------------------------------------------------------ */
/* The lesson                                                                                 */

struct _SimLesson {
  GObject parent_instance;
  char *file;
  char *id;
  char *title;
  char *intro;
  SimScenario *scene;
  GPtrArray *items;        /* SimLessonItem* */
};

G_DEFINE_FINAL_TYPE (SimLesson, sim_lesson, G_TYPE_OBJECT)

static void
line_free (SimLessonLine *l)
{
  if (l == NULL)
    return;
  g_free (l->text);
  g_free (l);
}

static SimLessonLine *
line_new (const char *text,
          guint       line)
{
  SimLessonLine *l = g_new0 (SimLessonLine, 1);
  l->text = g_strstrip (g_strdup (text));
  l->line = line;
  return l;
}

static void
option_free (SimLessonOption *o)
{
  g_free (o->key);
  g_free (o->text);
  g_free (o);
}

static void
item_free (SimLessonItem *item)
{
  g_free (item->title);
  g_free (item->text);
  g_ptr_array_unref (item->commands);
  line_free (item->until);
  g_ptr_array_unref (item->highlights);
  g_ptr_array_unref (item->expects);
  line_free (item->predict);
  g_ptr_array_unref (item->options);
  line_free (item->answer);
  g_free (item->explain);
  g_ptr_array_unref (item->goals);
  g_ptr_array_unref (item->solution);
  g_free (item->hint);
  g_free (item);
}

static SimLessonItem *
item_new (SimLessonItemKind kind,
          const char       *title,
          guint             line)
{
  SimLessonItem *item = g_new0 (SimLessonItem, 1);

  item->kind = kind;
  item->title = g_strstrip (g_strdup (title));
  item->line = line;
  item->commands = g_ptr_array_new_with_free_func ((GDestroyNotify) line_free);
  item->highlights = g_ptr_array_new_with_free_func ((GDestroyNotify) line_free);
  item->expects = g_ptr_array_new_with_free_func ((GDestroyNotify) line_free);
  item->options = g_ptr_array_new_with_free_func ((GDestroyNotify) option_free);
  item->goals = g_ptr_array_new_with_free_func ((GDestroyNotify) line_free);
  item->solution = g_ptr_array_new_with_free_func ((GDestroyNotify) line_free);
  item->settle = DEFAULT_SETTLE;
  return item;
}

static void
sim_lesson_finalize (GObject *object)
{
  SimLesson *self = SIM_LESSON (object);

  g_free (self->file);
  g_free (self->id);
  g_free (self->title);
  g_free (self->intro);
  g_clear_pointer (&self->scene, sim_scenario_unref);
  g_ptr_array_unref (self->items);
  G_OBJECT_CLASS (sim_lesson_parent_class)->finalize (object);
}

static void
sim_lesson_class_init (SimLessonClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = sim_lesson_finalize;
}

static void
sim_lesson_init (SimLesson *self)
{
  self->items = g_ptr_array_new_with_free_func ((GDestroyNotify) item_free);
}

const char *
sim_lesson_item_kind_name (SimLessonItemKind kind)
{
  static const char *names[] = { "Step", "Predict", "Choice", "Task" };
  g_return_val_if_fail (kind <= SIM_LESSON_TASK, NULL);
  return names[kind];
}

typedef struct {
  SimLesson *lesson;
  const char *name;
  const char *base_dir;
  guint line;
  GError **error;
  SimLessonItem *item;           /* the item being read, or NULL in the intro */
  GString *text;                 /* Markdown of the intro or the item */
  char **cont;                   /* the directive value a continuation line extends */
} Parser;

static gboolean
fail (Parser     *p,
      guint       line,
      const char *format,
      ...) G_GNUC_PRINTF (3, 4);

static gboolean
fail (Parser     *p,
      guint       line,
      const char *format,
      ...)
{
  va_list args;
  g_autofree char *message = NULL;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (p->error, SIM_LESSON_ERROR, SIM_LESSON_ERROR_SYNTAX, "%s:%u: %s", p->name,
               line ? line : p->line, message);
  return FALSE;
}

/* Re-reports a grammar error from the small languages against the directive's line. */
static gboolean
fail_local (Parser *p,
            GError *local)
{
  gboolean r = fail (p, 0, "%s", local->message);
  g_error_free (local);
  return r;
}

static char *
trim_text (GString *s)
{
  char *t = g_strdup (s->str);
  g_strstrip (t);
  g_string_truncate (s, 0);
  return t;
}

static gboolean
finish_item (Parser *p)
{
  SimLessonItem *item = p->item;

  if (item == NULL)
    {
      g_free (p->lesson->intro);
      p->lesson->intro = trim_text (p->text);
      return TRUE;
    }
  item->text = trim_text (p->text);
  p->item = NULL;
  p->cont = NULL;
  switch (item->kind)
    {
    case SIM_LESSON_PREDICT:
      if (item->predict == NULL)
        return fail (p, item->line, "a Predict item needs a 'predict:' line (like 'predict: status of "
                     "response arrives at alice-desk')");
      if (item->answer == NULL)
        return fail (p, item->line, "a Predict item needs an 'answer:' (the answer key check verifies)");
      break;
    case SIM_LESSON_CHOICE:
      if (item->options->len < 2)
        return fail (p, item->line, "a Choice item needs at least two 'option KEY:' lines");
      if (item->answer == NULL)
        return fail (p, item->line, "a Choice item needs an 'answer:' naming one option");
      {
        gboolean found = FALSE;
        for (guint i = 0; i < item->options->len; i++)
          if (g_ascii_strcasecmp (((SimLessonOption *) item->options->pdata[i])->key, item->answer->text) == 0)
            found = TRUE;
        if (!found)
          return fail (p, item->answer->line, "the answer '%s' is not one of the options", item->answer->text);
      }
      break;
    case SIM_LESSON_TASK:
      if (item->goals->len == 0)
        return fail (p, item->line, "a Task needs at least one 'goal:' claim");
      if (item->solution->len == 0)
        return fail (p, item->line, "a Task needs a 'solution:' (the commands check runs)");
      break;
    case SIM_LESSON_STEP:
    default:
      break;
    }
  return TRUE;
}

static const struct {
  const char *word;
  SimLessonItemKind kind;
} kinds[] = {
  { "step", SIM_LESSON_STEP },
  { "predict", SIM_LESSON_PREDICT },
  { "choice", SIM_LESSON_CHOICE },
  { "task", SIM_LESSON_TASK },
};

static gboolean
directive_allowed (SimLessonItemKind kind,
                   const char       *word)
{
  static const char *common[] = { "do", "run", "highlight", "expect" };

  for (guint i = 0; i < G_N_ELEMENTS (common); i++)
    if (strcmp (word, common[i]) == 0)
      return TRUE;
  switch (kind)
    {
    case SIM_LESSON_PREDICT:
      return !strcmp (word, "predict") || !strcmp (word, "answer") || !strcmp (word, "explain");
    case SIM_LESSON_CHOICE:
      return !strcmp (word, "option") || !strcmp (word, "answer") || !strcmp (word, "explain");
    case SIM_LESSON_TASK:
      return !strcmp (word, "goal") || !strcmp (word, "solution") || !strcmp (word, "hint") ||
             !strcmp (word, "settle");
    case SIM_LESSON_STEP:
    default:
      return FALSE;
    }
}

static gboolean
check_highlight (Parser     *p,
                 const char *text)
{
  g_auto(GStrv) w = tokenize (text);
  guint n = g_strv_length (w);

  if (n == 2 && (strcmp (w[0], "header") == 0 || strcmp (w[0], "node") == 0 || strcmp (w[0], "timer") == 0))
    return TRUE;
  if ((n == 2 || n == 3) && strcmp (w[0], "binding") == 0 && g_str_has_prefix (w[1], "sip:"))
    return TRUE;
  return fail (p, 0, "expected 'highlight: header NAME', 'highlight: binding AOR [CONTACT]', "
               "'highlight: timer NAME' or 'highlight: node NAME'");
}

static gboolean
parse_directive (Parser     *p,
                 const char *word,
                 const char *arg,
                 const char *value)
{
  SimLessonItem *item = p->item;
  GError *local = NULL;

  if (item == NULL)
    {
      if (strcmp (word, "title") == 0)
        {
          g_free (p->lesson->title);
          p->lesson->title = g_strstrip (g_strdup (value));
          return TRUE;
        }
      if (strcmp (word, "scene") == 0)
        {
          g_autofree char *path = NULL;
          g_autofree char *text = NULL;
          gsize len;
          SimScenario *sc;

          if (p->lesson->scene != NULL)
            return fail (p, 0, "the lesson already has a scene");
          path = g_path_is_absolute (value) ? g_strdup (value)
                                            : g_build_filename (p->base_dir ? p->base_dir : ".", value, NULL);
          if (!g_file_get_contents (path, &text, &len, &local))
            return fail_local (p, local);
          sc = sim_scenario_parse_data (text, len, path, &local);
          if (sc == NULL)
            {
              g_set_error (p->error, SIM_LESSON_ERROR, SIM_LESSON_ERROR_SCENE, "%s:%u: in the scene: %s",
                           p->name, p->line, local->message);
              g_error_free (local);
              return FALSE;
            }
          p->lesson->scene = sc;
          return TRUE;
        }
      return fail (p, 0, "'%s:' belongs in an item; before the first '## Step:' only 'title:' and "
                   "'scene:' are directives", word);
    }

  if (!directive_allowed (item->kind, word))
    return fail (p, 0, "'%s:' is not a directive of a %s item", word, sim_lesson_item_kind_name (item->kind));
  if ((strcmp (word, "option") == 0) != (arg != NULL))
    return fail (p, 0, strcmp (word, "option") == 0 ? "an option needs a key: 'option a: text'"
                                                    : "unexpected '%s' before the ':'", arg);

  if (strcmp (word, "do") == 0 || strcmp (word, "solution") == 0)
    {
      /* Several commands on one line may be separated by ';'. */
      g_auto(GStrv) parts = g_strsplit (value, ";", -1);
      for (guint i = 0; parts[i] != NULL; i++)
        {
          g_strstrip (parts[i]);
          if (parts[i][0] == '\0')
            continue;
          if (!command_run (NULL, parts[i], &local))
            return fail_local (p, local);
          g_ptr_array_add (word[0] == 'd' ? item->commands : item->solution, line_new (parts[i], p->line));
        }
    }
  else if (strcmp (word, "run") == 0)
    {
      g_autoptr(Matcher) m = NULL;
      if (item->until != NULL)
        return fail (p, 0, "one 'run:' per item (split the item in two)");
      if ((m = matcher_parse (value, &local)) == NULL)
        return fail_local (p, local);
      item->until = line_new (value, p->line);
    }
  else if (strcmp (word, "highlight") == 0)
    {
      if (!check_highlight (p, value))
        return FALSE;
      g_ptr_array_add (item->highlights, line_new (value, p->line));
    }
  else if (strcmp (word, "expect") == 0 || strcmp (word, "goal") == 0)
    {
      if (!claim_run (NULL, value, 0, NULL, NULL, &local))
        return fail_local (p, local);
      g_ptr_array_add (word[0] == 'e' ? item->expects : item->goals, line_new (value, p->line));
    }
  else if (strcmp (word, "predict") == 0)
    {
      g_autoptr(Prediction) pr = NULL;
      if (item->predict != NULL)
        return fail (p, 0, "one 'predict:' per item");
      if ((pr = prediction_parse (value, &local)) == NULL)
        return fail_local (p, local);
      item->predict = line_new (value, p->line);
    }
  else if (strcmp (word, "answer") == 0)
    {
      if (item->answer != NULL)
        return fail (p, 0, "one 'answer:' per item");
      if (value[0] == '\0')
        return fail (p, 0, "the answer is empty");
      item->answer = line_new (value, p->line);
    }
  else if (strcmp (word, "option") == 0)
    {
      SimLessonOption *o = g_new0 (SimLessonOption, 1);
      for (guint i = 0; i < item->options->len; i++)
        if (g_ascii_strcasecmp (((SimLessonOption *) item->options->pdata[i])->key, arg) == 0)
          {
            g_free (o);
            return fail (p, 0, "option '%s' is given twice", arg);
          }
      o->key = g_strdup (arg);
      o->text = g_strstrip (g_strdup (value));
      o->line = p->line;
      g_ptr_array_add (item->options, o);
      p->cont = &o->text;
    }
  else if (strcmp (word, "explain") == 0 || strcmp (word, "hint") == 0)
    {
      char **slot = word[0] == 'e' ? &item->explain : &item->hint;
      if (*slot != NULL)
        return fail (p, 0, "one '%s:' per item (continue it on lines indented by two spaces)", word);
      *slot = g_strstrip (g_strdup (value));
      p->cont = slot;
    }
  else if (strcmp (word, "settle") == 0)
    {
      if (!sim_scenario_parse_duration (value, &item->settle, NULL) || item->settle < 0)
        return fail (p, 0, "'%s' is not a duration (like 10s)", value);
    }
  return TRUE;
}

/* "word:" or "word key:" at the start of a line, followed by a space or the end: a directive. */
static gboolean
split_directive (const char  *line,
                 char       **word,
                 char       **arg,
                 const char **value)
{
  const char *c = line, *w_end, *a_start = NULL, *a_end = NULL;

  if (!g_ascii_islower (*c))
    return FALSE;
  while (g_ascii_islower (*c) || *c == '-')
    c++;
  w_end = c;
  if (*c == ' ' && g_ascii_isalnum (c[1]))
    {
      a_start = ++c;
      while (g_ascii_isalnum (*c) || *c == '-' || *c == '_')
        c++;
      a_end = c;
    }
  if (*c != ':' || (c[1] != '\0' && c[1] != ' ' && c[1] != '\t'))
    return FALSE;
  *word = g_strndup (line, w_end - line);
  *arg = a_start ? g_strndup (a_start, a_end - a_start) : NULL;
  *value = c[1] ? c + 2 : c + 1;
  return TRUE;
}

static gboolean
parse_text (SimLesson   *lesson,
            const char  *text,
            const char  *name,
            const char  *base_dir,
            GError     **error)
{
  g_auto(GStrv) lines = g_strsplit (text, "\n", -1);
  g_autoptr(GString) md = g_string_new (NULL);
  g_autoptr(GString) scene = NULL;
  Parser p = { lesson, name, base_dir, 0, error, NULL, md, NULL };
  const char *fence = NULL;
  guint fence_line = 0, scene_line = 0;

  for (guint i = 0; lines[i] != NULL; i++)
    {
      char *line = lines[i];
      g_autofree char *word = NULL;
      g_autofree char *arg = NULL;
      const char *value;

      p.line = i + 1;
      g_strchomp (line);

      /* Fenced blocks: Markdown, or the inline scene. */
      if (fence != NULL)
        {
          if (g_str_has_prefix (line, fence))
            {
              fence = NULL;
              if (scene != NULL && lesson->scene == NULL)
                {
                  GError *local = NULL;
                  /* Pad with empty lines so the scenario parser's line numbers are the lesson's. */
                  g_autoptr(GString) padded = g_string_new (NULL);
                  for (guint k = 0; k < scene_line; k++)
                    g_string_append_c (padded, '\n');
                  g_string_append (padded, scene->str);
                  lesson->scene = sim_scenario_parse_data (padded->str, padded->len, name, &local);
                  if (lesson->scene == NULL)
                    {
                      g_set_error (error, SIM_LESSON_ERROR, SIM_LESSON_ERROR_SCENE, "%s", local->message);
                      g_error_free (local);
                      return FALSE;
                    }
                  g_string_free (g_steal_pointer (&scene), TRUE);
                  continue;
                }
            }
          if (scene != NULL)
            g_string_append_printf (scene, "%s\n", line);
          else
            g_string_append_printf (p.text, "%s\n", line);
          continue;
        }
      if (g_str_has_prefix (line, "```") || g_str_has_prefix (line, "~~~"))
        {
          fence = line[0] == '`' ? "```" : "~~~";
          fence_line = p.line;
          {
            g_autofree char *info = g_strstrip (g_strdup (line + 3));
            if (strcmp (info, "scene") == 0)
              {
                if (p.item != NULL)
                  return fail (&p, 0, "the scene block belongs before the first item");
                if (lesson->scene != NULL)
                  return fail (&p, 0, "the lesson already has a scene");
                scene = g_string_new (NULL);
                scene_line = p.line;
                continue;
              }
          }
          g_string_append_printf (p.text, "%s\n", line);
          continue;
        }

      /* A one-line HTML comment (the SPDX line, a note to other teachers) is not text. */
      {
        const char *c = line;
        while (*c == ' ' || *c == '\t')
          c++;
        if (g_str_has_prefix (c, "<!--") && g_str_has_suffix (c, "-->"))
          continue;
      }

      /* Items */
      if (g_str_has_prefix (line, "## "))
        {
          const char *h = line + 3;
          const char *colon = strchr (h, ':');
          gboolean is_item = FALSE;

          if (colon != NULL)
            {
              g_autofree char *kw = g_ascii_strdown (h, colon - h);
              g_strstrip (kw);
              if (strchr (kw, ' ') == NULL)
                {
                  for (guint k = 0; k < G_N_ELEMENTS (kinds); k++)
                    if (strcmp (kw, kinds[k].word) == 0)
                      {
                        if (!finish_item (&p))
                          return FALSE;
                        p.item = item_new (kinds[k].kind, colon + 1, p.line);
                        g_ptr_array_add (lesson->items, p.item);
                        is_item = TRUE;
                      }
                  if (!is_item)
                    return fail (&p, 0, "unknown item '%s' (expected '## Step:', '## Predict:', "
                                 "'## Choice:' or '## Task:'; use '###' for other headings)", kw);
                }
            }
          if (is_item)
            continue;
          if (p.item != NULL)
            return fail (&p, 0, "a '## ' heading inside a lesson must be an item ('## Step: TITLE'); "
                         "use '###' for other headings");
        }
      if (g_str_has_prefix (line, "# ") && lesson->title == NULL && p.item == NULL)
        {
          lesson->title = g_strstrip (g_strdup (line + 2));
          continue;
        }

      /* Continuation of explain/hint/option: indented by two spaces. */
      if (p.cont != NULL && g_str_has_prefix (line, "  ") && line[2] != ' ')
        {
          char *joined = g_strdup_printf ("%s %s", *p.cont, g_strstrip (line));
          g_free (*p.cont);
          *p.cont = joined;
          continue;
        }
      p.cont = NULL;

      if (split_directive (line, &word, &arg, &value))
        {
          gboolean known = FALSE;
          static const char *all[] = { "title", "scene", "do", "run", "highlight", "expect", "predict",
                                       "answer", "explain", "option", "goal", "solution", "hint", "settle" };
          for (guint k = 0; k < G_N_ELEMENTS (all); k++)
            if (strcmp (word, all[k]) == 0)
              known = TRUE;
          /* "tells Alice: ..." is prose; only "option KEY:" takes a word before the colon. */
          if (arg != NULL && strcmp (word, "option") != 0)
            {
              g_string_append_printf (p.text, "%s\n", line);
              continue;
            }
          if (!known)
            return fail (&p, 0, "unknown directive '%s:' (a line starting with a lower-case word and "
                         "a colon is a directive; see lessons/README.md)", word);
          if (!parse_directive (&p, word, arg, value))
            return FALSE;
          continue;
        }
      g_string_append_printf (p.text, "%s\n", line);
    }
  if (fence != NULL)
    return fail (&p, fence_line, "this fenced block is never closed");
  if (!finish_item (&p))
    return FALSE;
  if (lesson->title == NULL)
    return fail (&p, 1, "the lesson has no title (a first line '# Title' or 'title: ...')");
  if (lesson->scene == NULL)
    return fail (&p, 1, "the lesson has no scene (a ```scene block or 'scene: FILE')");
  if (lesson->items->len == 0)
    return fail (&p, p.line, "the lesson has no items ('## Step: ...')");
  return TRUE;
}

SimLesson *
sim_lesson_parse_data (const char  *text,
                       gssize       length,
                       const char  *name,
                       const char  *base_dir,
                       GError     **error)
{
  g_autoptr(SimLesson) self = NULL;
  g_autofree char *copy = NULL;
  g_autofree char *base = NULL;

  g_return_val_if_fail (text != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  copy = length < 0 ? g_strdup (text) : g_strndup (text, length);
  if (!g_utf8_validate (copy, -1, NULL))
    {
      g_set_error (error, SIM_LESSON_ERROR, SIM_LESSON_ERROR_SYNTAX, "%s:1: the file is not UTF-8 text",
                   name ? name : "<lesson>");
      return NULL;
    }
  self = g_object_new (SIM_TYPE_LESSON, NULL);
  self->file = g_strdup (name ? name : "<lesson>");
  base = g_path_get_basename (self->file);
  if (g_str_has_suffix (base, ".lesson"))
    base[strlen (base) - strlen (".lesson")] = '\0';
  self->id = g_steal_pointer (&base);
  if (!parse_text (self, copy, self->file, base_dir, error))
    return NULL;
  return g_steal_pointer (&self);
}

SimLesson *
sim_lesson_parse_file (const char  *path,
                       GError     **error)
{
  g_autofree char *text = NULL;
  g_autofree char *dir = NULL;
  gsize len;
  GError *local = NULL;

  g_return_val_if_fail (path != NULL, NULL);
  if (!g_file_get_contents (path, &text, &len, &local))
    {
      g_set_error (error, SIM_LESSON_ERROR, SIM_LESSON_ERROR_IO, "%s", local->message);
      g_error_free (local);
      return NULL;
    }
  dir = g_path_get_dirname (path);
  return sim_lesson_parse_data (text, len, path, dir, error);
}

const char *
sim_lesson_get_file (SimLesson *self)
{
  g_return_val_if_fail (SIM_IS_LESSON (self), NULL);
  return self->file;
}

const char *
sim_lesson_get_id (SimLesson *self)
{
  g_return_val_if_fail (SIM_IS_LESSON (self), NULL);
  return self->id;
}

const char *
sim_lesson_get_title (SimLesson *self)
{
  g_return_val_if_fail (SIM_IS_LESSON (self), NULL);
  return self->title;
}

const char *
sim_lesson_get_intro (SimLesson *self)
{
  g_return_val_if_fail (SIM_IS_LESSON (self), NULL);
  return self->intro;
}

SimScenario *
sim_lesson_get_scene (SimLesson *self)
{
  g_return_val_if_fail (SIM_IS_LESSON (self), NULL);
  return self->scene;
}

guint
sim_lesson_get_n_items (SimLesson *self)
{
  g_return_val_if_fail (SIM_IS_LESSON (self), 0);
  return self->items->len;
}

const SimLessonItem *
sim_lesson_get_item (SimLesson *self,
                     guint      index)
{
  g_return_val_if_fail (SIM_IS_LESSON (self), NULL);
  g_return_val_if_fail (index < self->items->len, NULL);
  return self->items->pdata[index];
}

guint
sim_lesson_get_n_questions (SimLesson *self)
{
  guint n = 0;

  g_return_val_if_fail (SIM_IS_LESSON (self), 0);
  for (guint i = 0; i < self->items->len; i++)
    {
      SimLessonItem *item = self->items->pdata[i];
      if (item->kind == SIM_LESSON_PREDICT || item->kind == SIM_LESSON_CHOICE)
        n++;
    }
  return n;
}

/* ------------------------------------------------------------------------------------------ */
/* The runner                                                                                 */

struct _SimLessonRunner {
  GObject parent_instance;
  SimLesson *lesson;
  SimWorld *world;
  guint position;
  gboolean entered;
  gboolean resolved;       /* the current question has been answered */
  gboolean diverged;       /* the world followed the student's commands, not the solutions */
  guint scan;              /* trace index: events before it have been matched against */
  guint shown;             /* trace index: events before it have been handed to the view */
  guint visible;           /* trace index: events before it may be shown even if not scanned */
  guint mark;              /* trace index when the item was entered */
  guint task_mark;         /* trace index when the task was posed */
  guint n_answered;
  guint n_correct;
  guint n_tasks_done;
};

G_DEFINE_FINAL_TYPE (SimLessonRunner, sim_lesson_runner, G_TYPE_OBJECT)

static void
sim_lesson_runner_finalize (GObject *object)
{
  SimLessonRunner *self = SIM_LESSON_RUNNER (object);

  g_clear_object (&self->world);
  g_clear_object (&self->lesson);
  G_OBJECT_CLASS (sim_lesson_runner_parent_class)->finalize (object);
}

static void
sim_lesson_runner_class_init (SimLessonRunnerClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = sim_lesson_runner_finalize;
}

static void
sim_lesson_runner_init (SimLessonRunner *self)
{
}

static gboolean
build_world (SimLessonRunner  *self,
             GError          **error)
{
  GError *local = NULL;
  SimWorld *world = sim_scenario_build (self->lesson->scene, 0, &local);

  if (world == NULL)
    {
      g_set_error (error, SIM_LESSON_ERROR, SIM_LESSON_ERROR_SCENE, "%s", local->message);
      g_error_free (local);
      return FALSE;
    }
  g_clear_object (&self->world);
  self->world = world;
  self->scan = self->shown = self->visible = self->mark = self->task_mark = 0;
  self->entered = self->resolved = self->diverged = FALSE;
  return TRUE;
}

SimLessonRunner *
sim_lesson_runner_new (SimLesson  *lesson,
                       GError    **error)
{
  g_autoptr(SimLessonRunner) self = NULL;

  g_return_val_if_fail (SIM_IS_LESSON (lesson), NULL);
  self = g_object_new (SIM_TYPE_LESSON_RUNNER, NULL);
  self->lesson = g_object_ref (lesson);
  if (!build_world (self, error))
    return NULL;
  return g_steal_pointer (&self);
}

SimLesson *
sim_lesson_runner_get_lesson (SimLessonRunner *self)
{
  g_return_val_if_fail (SIM_IS_LESSON_RUNNER (self), NULL);
  return self->lesson;
}

SimWorld *
sim_lesson_runner_get_world (SimLessonRunner *self)
{
  g_return_val_if_fail (SIM_IS_LESSON_RUNNER (self), NULL);
  return self->world;
}

guint
sim_lesson_runner_get_position (SimLessonRunner *self)
{
  g_return_val_if_fail (SIM_IS_LESSON_RUNNER (self), 0);
  return self->position;
}

gboolean
sim_lesson_runner_is_done (SimLessonRunner *self)
{
  g_return_val_if_fail (SIM_IS_LESSON_RUNNER (self), TRUE);
  return self->position >= self->lesson->items->len;
}

const SimLessonItem *
sim_lesson_runner_get_item (SimLessonRunner *self)
{
  g_return_val_if_fail (SIM_IS_LESSON_RUNNER (self), NULL);
  if (sim_lesson_runner_is_done (self))
    return NULL;
  return self->lesson->items->pdata[self->position];
}

guint
sim_lesson_runner_get_n_answered (SimLessonRunner *self)
{
  g_return_val_if_fail (SIM_IS_LESSON_RUNNER (self), 0);
  return self->n_answered;
}

guint
sim_lesson_runner_get_n_correct (SimLessonRunner *self)
{
  g_return_val_if_fail (SIM_IS_LESSON_RUNNER (self), 0);
  return self->n_correct;
}

guint
sim_lesson_runner_get_n_tasks_done (SimLessonRunner *self)
{
  g_return_val_if_fail (SIM_IS_LESSON_RUNNER (self), 0);
  return self->n_tasks_done;
}

static guint
n_events (SimLessonRunner *self)
{
  return sim_trace_get_n_events (sim_world_get_trace (self->world));
}

static gboolean
err_at (GError    **error,
        SimLesson  *lesson,
        guint       line,
        const char *format,
        ...) G_GNUC_PRINTF (4, 5);

static gboolean
err_at (GError    **error,
        SimLesson  *lesson,
        guint       line,
        const char *format,
        ...)
{
  va_list args;
  g_autofree char *message = NULL;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, SIM_LESSON_ERROR, SIM_LESSON_ERROR_COMMAND, "%s:%u: %s", lesson->file, line, message);
  return FALSE;
}

/*
 * Runs the world until @m happens after the scan position; the matching event's index goes
 * to @found_out (-1 for times).  FALSE when it does not happen within the horizon.
 */
static gboolean
run_to (SimLessonRunner *self,
        const Matcher   *m,
        gint            *found_out)
{
  SimWorld *world = self->world;
  SimClock *clock = sim_world_get_clock (world);
  SimTime limit;

  *found_out = -1;
  switch (m->kind)
    {
    case MATCH_TIME:
      sim_world_run_until (world, MAX (m->t, sim_world_now (world)));
      self->scan = n_events (self);
      return TRUE;
    case MATCH_REL:
      sim_world_run_until (world, sim_world_now (world) + m->t);
      self->scan = n_events (self);
      return TRUE;
    case MATCH_END:
      sim_world_run_until (world, MAX (sim_scenario_get_run_length (self->lesson->scene), sim_world_now (world)));
      self->scan = n_events (self);
      return TRUE;
    case MATCH_EVENT:
    default:
      break;
    }

  limit = sim_world_now (world) + m->horizon;
  for (;;)
    {
      SimTrace *trace = sim_world_get_trace (world);
      guint n = sim_trace_get_n_events (trace);
      SimTime next;

      for (guint i = self->scan; i < n; i++)
        if (matcher_matches (m, sim_trace_get_event (trace, i)))
          {
            self->scan = i + 1;
            *found_out = (gint) i;
            return TRUE;
          }
      self->scan = n;
      if (!sim_clock_next_deadline (clock, &next) || next > limit)
        {
          sim_world_run_until (world, limit);
          /* Whatever ran up to the limit may still hold the event. */
          n = sim_trace_get_n_events (trace);
          for (guint i = self->scan; i < n; i++)
            if (matcher_matches (m, sim_trace_get_event (trace, i)))
              {
                self->scan = i + 1;
                *found_out = (gint) i;
                return TRUE;
              }
          self->scan = n;
          return FALSE;
        }
      if (!sim_world_step_event (world))
        {
          self->scan = sim_trace_get_n_events (trace);
          return FALSE;
        }
    }
}

static gboolean
run_commands (SimLessonRunner *self,
              GPtrArray       *commands,
              SimTime          settle,
              GError         **error)
{
  /* No command: the scan position stays, so "the next packet" is still the next one. */
  if (commands->len == 0)
    return TRUE;
  /* The commands act now, after everything that has happened so far. */
  self->scan = n_events (self);
  for (guint i = 0; i < commands->len; i++)
    {
      SimLessonLine *c = commands->pdata[i];
      GError *local = NULL;

      if (!command_run (self->world, c->text, &local))
        {
          err_at (error, self->lesson, c->line, "'%s' failed: %s", c->text, local->message);
          g_error_free (local);
          return FALSE;
        }
      /* A solution plays exactly as a student typing it would: each command, then the settle. */
      if (settle > 0)
        sim_world_run_until (self->world, sim_world_now (self->world) + settle);
    }
  if (settle > 0)
    self->scan = n_events (self);
  else
    {
      /* "do:" commands: what they sent may be shown, but the scan stays before it, so the
       * item's "run:" or "predict:" can still match the very packets the commands sent. */
      self->visible = n_events (self);
    }
  return TRUE;
}

static gboolean
enter_once (SimLessonRunner  *self,
            GError          **error)
{
  const SimLessonItem *item = sim_lesson_runner_get_item (self);

  self->mark = self->scan;
  if (!run_commands (self, item->commands, 0, error))
    return FALSE;
  if (item->until != NULL)
    {
      g_autoptr(Matcher) m = matcher_parse (item->until->text, NULL);
      gint found;

      g_assert (m != NULL);
      if (!run_to (self, m, &found))
        {
          g_autofree char *now = sim_scenario_format_duration (sim_world_now (self->world));
          return err_at (error, self->lesson, item->until->line,
                         "'run: %s' never happened (the simulation ran to t=%s)", item->until->text, now);
        }
    }
  self->task_mark = n_events (self);
  self->entered = TRUE;
  self->resolved = FALSE;
  return TRUE;
}

static gboolean play_with_keys (SimLessonRunner *self, guint upto, gboolean include_current, GError **error);

gboolean
sim_lesson_runner_enter (SimLessonRunner  *self,
                         GError          **error)
{
  GError *local = NULL;

  g_return_val_if_fail (SIM_IS_LESSON_RUNNER (self), FALSE);
  if (sim_lesson_runner_is_done (self))
    {
      g_set_error (error, SIM_LESSON_ERROR, SIM_LESSON_ERROR_STATE, "the lesson is over");
      return FALSE;
    }
  if (self->entered)
    return TRUE;
  if (enter_once (self, &local))
    return TRUE;
  if (!self->diverged)
    {
      g_propagate_error (error, local);
      return FALSE;
    }
  /* The student's own solution led somewhere the lesson did not plan for: continue from the
   * model path, which the lesson's check has verified. */
  g_clear_error (&local);
  if (!play_with_keys (self, self->position, FALSE, error))
    return FALSE;
  sim_trace_note (sim_world_get_trace (self->world), sim_world_now (self->world), NULL,
                  "The lesson continues from the model solution of the earlier tasks.");
  return enter_once (self, error);
}

GPtrArray *
sim_lesson_runner_take_new_events (SimLessonRunner *self)
{
  SimTrace *trace;
  GPtrArray *out;
  guint limit;

  g_return_val_if_fail (SIM_IS_LESSON_RUNNER (self), NULL);
  trace = sim_world_get_trace (self->world);
  out = g_ptr_array_new ();
  limit = MIN (MAX (self->scan, self->visible), sim_trace_get_n_events (trace));
  for (guint i = self->shown; i < limit; i++)
    g_ptr_array_add (out, sim_trace_get_event (trace, i));
  self->shown = MAX (self->shown, limit);
  return out;
}

guint
sim_lesson_runner_get_n_shown (SimLessonRunner *self)
{
  g_return_val_if_fail (SIM_IS_LESSON_RUNNER (self), 0);
  return self->shown;
}

SimLessonAnswer
sim_lesson_runner_answer (SimLessonRunner  *self,
                          const char       *answer,
                          char            **explanation_out,
                          GError          **error)
{
  const SimLessonItem *item;
  g_autoptr(GString) expl = g_string_new (NULL);
  gboolean correct = FALSE;

  g_return_val_if_fail (SIM_IS_LESSON_RUNNER (self), SIM_LESSON_ANSWER_INVALID);
  g_return_val_if_fail (answer != NULL, SIM_LESSON_ANSWER_INVALID);
  item = sim_lesson_runner_get_item (self);
  if (item == NULL || !self->entered || self->resolved ||
      (item->kind != SIM_LESSON_PREDICT && item->kind != SIM_LESSON_CHOICE))
    {
      g_set_error (error, SIM_LESSON_ERROR, SIM_LESSON_ERROR_STATE, "there is no open question");
      return SIM_LESSON_ANSWER_INVALID;
    }

  if (item->kind == SIM_LESSON_CHOICE)
    {
      g_autofree char *a = g_strstrip (g_strdup (answer));
      gboolean known = FALSE;

      /* "b", "B", "b)" all name option b. */
      if (a[0] != '\0' && (a[strlen (a) - 1] == ')' || a[strlen (a) - 1] == '.'))
        a[strlen (a) - 1] = '\0';
      for (guint i = 0; i < item->options->len; i++)
        if (g_ascii_strcasecmp (((SimLessonOption *) item->options->pdata[i])->key, a) == 0)
          known = TRUE;
      if (!known)
        {
          g_string_append (expl, "Answer with one of the option letters:");
          for (guint i = 0; i < item->options->len; i++)
            g_string_append_printf (expl, " %s", ((SimLessonOption *) item->options->pdata[i])->key);
          if (explanation_out != NULL)
            *explanation_out = g_string_free (g_steal_pointer (&expl), FALSE);
          return SIM_LESSON_ANSWER_INVALID;
        }
      correct = g_ascii_strcasecmp (a, item->answer->text) == 0;
      if (!correct)
        g_string_append_printf (expl, "The answer is %s. ", item->answer->text);
    }
  else
    {
      g_autoptr(Prediction) p = prediction_parse (item->predict->text, NULL);
      g_autofree char *a = g_strstrip (g_strdup (answer));
      g_autofree char *actual = NULL;
      g_autofree char *label = NULL;
      gint found;

      g_assert (p != NULL);
      if (a[0] == '\0')
        return SIM_LESSON_ANSWER_INVALID;
      if ((p->kind == FIELD_STATUS || p->kind == FIELD_CSEQ || p->kind == FIELD_EXPIRES) &&
          !g_ascii_isdigit (a[0]) && g_ascii_strncasecmp (a, "cseq", 4) != 0)
        {
          if (explanation_out != NULL)
            *explanation_out = g_strdup ("Answer with a number.");
          return SIM_LESSON_ANSWER_INVALID;
        }
      if (!run_to (self, p->matcher, &found))
        {
          err_at (error, self->lesson, item->predict->line, "the predicted packet ('%s') never came",
                  item->predict->text);
          return SIM_LESSON_ANSWER_INVALID;
        }
      {
        SimEvent *e = sim_trace_get_event (sim_world_get_trace (self->world), found);
        actual = prediction_value (p, e);
        label = sim_export_packet_label (e);
      }
      correct = answer_matches (p, actual, a);
      {
        SimEvent *e = sim_trace_get_event (sim_world_get_trace (self->world), found);

        g_string_append_printf (expl, "The simulator: %s (in %s, %s at t=%.3fs). ",
                                actual ? actual : "the packet does not carry it", label,
                                e->action, SIM_TIME_TO_SECONDS (e->t));
      }
    }

  if (item->explain != NULL)
    g_string_append (expl, item->explain);
  self->resolved = TRUE;
  self->n_answered++;
  if (correct)
    self->n_correct++;
  if (explanation_out != NULL)
    *explanation_out = g_strstrip (g_string_free (g_steal_pointer (&expl), FALSE));
  return correct ? SIM_LESSON_ANSWER_CORRECT : SIM_LESSON_ANSWER_INCORRECT;
}

gboolean
sim_lesson_runner_command (SimLessonRunner  *self,
                           const char       *command,
                           GError          **error)
{
  const SimLessonItem *item;
  GError *local = NULL;

  g_return_val_if_fail (SIM_IS_LESSON_RUNNER (self), FALSE);
  g_return_val_if_fail (command != NULL, FALSE);
  item = sim_lesson_runner_get_item (self);
  if (item == NULL || item->kind != SIM_LESSON_TASK || !self->entered)
    {
      g_set_error (error, SIM_LESSON_ERROR, SIM_LESSON_ERROR_STATE, "there is no open task");
      return FALSE;
    }
  self->scan = n_events (self);
  if (!command_run (self->world, command, &local))
    {
      g_set_error (error, SIM_LESSON_ERROR, SIM_LESSON_ERROR_COMMAND, "%s", local->message);
      g_error_free (local);
      return FALSE;
    }
  self->diverged = TRUE;
  if (item->settle > 0)
    sim_world_run_until (self->world, sim_world_now (self->world) + item->settle);
  self->scan = n_events (self);
  return TRUE;
}

static gboolean
claims_hold (SimLessonRunner *self,
             GPtrArray       *claims,
             guint            since,
             SimLessonLine  **failed_out,
             char           **why_out)
{
  for (guint i = 0; i < claims->len; i++)
    {
      SimLessonLine *c = claims->pdata[i];
      gboolean holds = FALSE;
      g_autofree char *why = NULL;
      GError *local = NULL;

      if (!claim_run (self->world, c->text, since, &holds, &why, &local))
        {
          if (why_out != NULL)
            *why_out = g_strdup (local->message);
          g_error_free (local);
          holds = FALSE;
        }
      else if (!holds && why_out != NULL)
        *why_out = g_steal_pointer (&why);
      if (!holds)
        {
          if (failed_out != NULL)
            *failed_out = c;
          return FALSE;
        }
    }
  return TRUE;
}

gboolean
sim_lesson_runner_goal_met (SimLessonRunner  *self,
                            char            **why_out)
{
  const SimLessonItem *item;
  SimLessonLine *failed = NULL;
  g_autofree char *why = NULL;

  g_return_val_if_fail (SIM_IS_LESSON_RUNNER (self), FALSE);
  item = sim_lesson_runner_get_item (self);
  if (item == NULL || item->kind != SIM_LESSON_TASK)
    return FALSE;
  if (claims_hold (self, item->goals, self->task_mark, &failed, &why))
    {
      if (!self->resolved)
        {
          self->resolved = TRUE;
          self->n_tasks_done++;
        }
      return TRUE;
    }
  if (why_out != NULL)
    *why_out = g_strdup_printf ("not yet: '%s' (%s)", failed->text, why ? why : "does not hold");
  return FALSE;
}

/*
 * Rebuilds the world and plays items [0, @upto) with the keys (and, with @include_current,
 * enters item @upto and runs its solution).  The student is shown only what follows.
 */
static gboolean
play_with_keys (SimLessonRunner  *self,
                guint             upto,
                gboolean          include_current,
                GError          **error)
{
  guint n_answered = self->n_answered, n_correct = self->n_correct, n_tasks = self->n_tasks_done;

  if (!build_world (self, error))
    return FALSE;
  for (self->position = 0; self->position < upto + (include_current ? 1 : 0); self->position++)
    {
      const SimLessonItem *item = sim_lesson_runner_get_item (self);

      if (!enter_once (self, error))
        return FALSE;
      if (self->position == upto)
        self->shown = n_events (self);
      if (item->kind == SIM_LESSON_PREDICT)
        {
          if (sim_lesson_runner_answer (self, item->answer->text, NULL, error) == SIM_LESSON_ANSWER_INVALID)
            return FALSE;
        }
      else if (item->kind == SIM_LESSON_TASK)
        {
          if (!run_commands (self, item->solution, item->settle, error))
            return FALSE;
        }
      if (self->position < upto)
        self->entered = FALSE;
    }
  self->position = upto;
  if (!include_current)
    {
      self->shown = n_events (self);
      self->entered = FALSE;
    }
  self->resolved = include_current;
  self->diverged = FALSE;
  self->n_answered = n_answered;
  self->n_correct = n_correct;
  self->n_tasks_done = n_tasks;
  return TRUE;
}

gboolean
sim_lesson_runner_give_up (SimLessonRunner  *self,
                           GError          **error)
{
  const SimLessonItem *item;

  g_return_val_if_fail (SIM_IS_LESSON_RUNNER (self), FALSE);
  item = sim_lesson_runner_get_item (self);
  if (item == NULL || item->kind != SIM_LESSON_TASK)
    {
      g_set_error (error, SIM_LESSON_ERROR, SIM_LESSON_ERROR_STATE, "there is no open task");
      return FALSE;
    }
  return play_with_keys (self, self->position, TRUE, error);
}

void
sim_lesson_runner_next (SimLessonRunner *self)
{
  g_return_if_fail (SIM_IS_LESSON_RUNNER (self));
  if (sim_lesson_runner_is_done (self))
    return;
  self->position++;
  self->entered = FALSE;
  self->resolved = FALSE;
}

/* ------------------------------------------------------------------------------------------ */
/* Check                                                                                      */

void
sim_lesson_report_clear (SimLessonReport *report)
{
  g_clear_pointer (&report->failures, g_ptr_array_unref);
  report->n_steps = report->n_questions = report->n_tasks = report->n_claims = 0;
}

static void
report_fail (SimLessonReport *r,
             SimLesson       *lesson,
             guint            line,
             const char      *format,
             ...) G_GNUC_PRINTF (4, 5);

static void
report_fail (SimLessonReport *r,
             SimLesson       *lesson,
             guint            line,
             const char      *format,
             ...)
{
  va_list args;
  g_autofree char *message = NULL;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_ptr_array_add (r->failures, g_strdup_printf ("%s:%u: %s", lesson->file, line, message));
}

static void
check_claims (SimLessonRunner *self,
              SimLessonReport *r,
              GPtrArray       *claims,
              guint            since,
              const char      *what)
{
  for (guint i = 0; i < claims->len; i++)
    {
      SimLessonLine *c = claims->pdata[i];
      gboolean holds = FALSE;
      g_autofree char *why = NULL;
      GError *local = NULL;

      r->n_claims++;
      if (!claim_run (self->world, c->text, since, &holds, &why, &local))
        {
          report_fail (r, self->lesson, c->line, "%s '%s': %s", what, c->text, local->message);
          g_error_free (local);
        }
      else if (!holds)
        report_fail (r, self->lesson, c->line, "%s '%s' does not hold: %s", what, c->text, why);
    }
}

static void
check_highlights (SimLessonRunner     *self,
                  SimLessonReport     *r,
                  const SimLessonItem *item)
{
  SimTrace *trace = sim_world_get_trace (self->world);

  for (guint i = 0; i < item->highlights->len; i++)
    {
      SimLessonLine *h = item->highlights->pdata[i];
      g_auto(GStrv) w = tokenize (h->text);
      gboolean ok = FALSE;

      r->n_claims++;
      if (strcmp (w[0], "header") == 0)
        {
          /* A highlighted header must be in a message the student has seen by now. */
          for (guint k = 0; k < sim_trace_get_n_events (trace) && !ok; k++)
            {
              SimEvent *e = sim_trace_get_event (trace, k);
              if (e->type == SIM_EVENT_PACKET && event_has_header (e, w[1]))
                ok = TRUE;
            }
          if (!ok)
            report_fail (r, self->lesson, h->line, "highlights header %s, but no message so far "
                         "carries it", w[1]);
        }
      else if (strcmp (w[0], "binding") == 0)
        {
          SimLocation *loc = sim_world_get_location (self->world);
          GPtrArray *b = loc ? sim_location_lookup (loc, w[1]) : NULL;

          for (guint k = 0; b != NULL && k < b->len && !ok; k++)
            if (w[2] == NULL || g_strcmp0 (((SimBinding *) b->pdata[k])->contact, w[2]) == 0)
              ok = TRUE;
          if (!ok)
            report_fail (r, self->lesson, h->line, "highlights a binding of %s%s%s that does not exist "
                         "at this point", w[1], w[2] ? " -> " : "", w[2] ? w[2] : "");
        }
      else if (strcmp (w[0], "timer") == 0)
        {
          /* A highlighted timer (E, F, A, B, refresh...) must have run by now. */
          for (guint k = 0; k < sim_trace_get_n_events (trace) && !ok; k++)
            {
              SimEvent *e = sim_trace_get_event (trace, k);
              ok = e->type == SIM_EVENT_TIMER && g_strcmp0 (e->name, w[1]) == 0;
            }
          if (!ok)
            report_fail (r, self->lesson, h->line, "highlights timer %s, but it has not run so far", w[1]);
        }
      else if (strcmp (w[0], "node") == 0)
        {
          if (sim_world_get_phone (self->world, w[1]) == NULL &&
              g_strcmp0 (sim_world_get_server_name (self->world), w[1]) != 0)
            {
              gboolean seen = FALSE;
              for (guint k = 0; k < sim_trace_get_n_events (trace) && !seen; k++)
                {
                  SimEvent *e = sim_trace_get_event (trace, k);
                  seen = e->type == SIM_EVENT_NODE && g_strcmp0 (e->node, w[1]) == 0;
                }
              if (!seen)
                report_fail (r, self->lesson, h->line, "highlights node '%s', which the scene does not have", w[1]);
            }
        }
    }
}

gboolean
sim_lesson_check (SimLesson       *lesson,
                  SimLessonReport *report)
{
  g_autoptr(SimLessonRunner) runner = NULL;
  SimLessonReport local_report = { 0 };
  SimLessonReport *r = report ? report : &local_report;
  GError *error = NULL;
  gboolean ok;

  g_return_val_if_fail (SIM_IS_LESSON (lesson), FALSE);
  sim_lesson_report_clear (r);
  r->failures = g_ptr_array_new_with_free_func (g_free);

  runner = sim_lesson_runner_new (lesson, &error);
  if (runner == NULL)
    {
      g_ptr_array_add (r->failures, g_strdup (error->message));
      g_error_free (error);
      goto out;
    }

  for (; !sim_lesson_runner_is_done (runner); sim_lesson_runner_next (runner))
    {
      const SimLessonItem *item = sim_lesson_runner_get_item (runner);

      if (item->kind == SIM_LESSON_STEP)
        r->n_steps++;
      else if (item->kind == SIM_LESSON_TASK)
        r->n_tasks++;
      else
        r->n_questions++;

      if (item->until != NULL)
        r->n_claims++;
      if (!sim_lesson_runner_enter (runner, &error))
        {
          g_ptr_array_add (r->failures, g_strdup (error->message));
          g_clear_error (&error);
          /* Go on: later items may still tell the teacher something useful. */
          runner->entered = TRUE;
        }

      switch (item->kind)
        {
        case SIM_LESSON_PREDICT:
          {
            g_autofree char *expl = NULL;
            SimLessonAnswer a;

            r->n_claims++;
            a = sim_lesson_runner_answer (runner, item->answer->text, &expl, &error);
            if (a == SIM_LESSON_ANSWER_INVALID)
              {
                report_fail (r, lesson, item->answer->line, "the answer key '%s' cannot be checked: %s",
                             item->answer->text, error ? error->message : (expl ? expl : "not a valid answer"));
                g_clear_error (&error);
              }
            else if (a == SIM_LESSON_ANSWER_INCORRECT)
              report_fail (r, lesson, item->answer->line, "the answer key '%s' is wrong for 'predict: %s'. %s",
                           item->answer->text, item->predict->text, expl);
          }
          break;
        case SIM_LESSON_CHOICE:
          r->n_claims++;
          if (sim_lesson_runner_answer (runner, item->answer->text, NULL, NULL) != SIM_LESSON_ANSWER_CORRECT)
            report_fail (r, lesson, item->answer->line, "the answer key '%s' is not accepted", item->answer->text);
          break;
        case SIM_LESSON_TASK:
          {
            gboolean already = TRUE;

            /* A goal that holds before the student does anything grades nothing. */
            for (guint i = 0; i < item->goals->len && already; i++)
              {
                SimLessonLine *g = item->goals->pdata[i];
                gboolean holds = FALSE;
                claim_run (runner->world, g->text, runner->task_mark, &holds, NULL, NULL);
                already = holds;
              }
            if (already)
              report_fail (r, lesson, item->line, "every goal of this task already holds before any "
                           "command: the task grades nothing");
            if (!run_commands (runner, item->solution, item->settle, &error))
              {
                g_ptr_array_add (r->failures, g_strdup (error->message));
                g_clear_error (&error);
              }
            check_claims (runner, r, item->goals, runner->task_mark, "after the solution, the goal");
          }
          break;
        case SIM_LESSON_STEP:
        default:
          break;
        }
      /* "expect:" looks at the whole session so far; a task's goals at what followed its posing. */
      check_claims (runner, r, item->expects, 0, "the claim");
      check_highlights (runner, r, item);
    }

out:
  ok = r->failures->len == 0;
  if (r == &local_report)
    sim_lesson_report_clear (&local_report);
  return ok;
}
