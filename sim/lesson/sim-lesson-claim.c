/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "sim-lesson-private.h"

#include <string.h>

/*
 * Claims: what "expect:" and "goal:" say must hold ("bindings sip:bob@lab.example == 2",
 * "reg-state alice-desk registered", "count REGISTER arrives at registrar == 2").  One table
 * gives each claim word its parse and eval functions; a claim is parsed when the lesson is
 * loaded and evaluated against the world as often as the runner asks.  Two let a task grade
 * exactly what it asks: "only binding AOR CONTACT absent" (and no other binding changed since
 * the task began) and "value FIELD of PACKET OP ..." (a packet's field, against a value or an
 * earlier packet's: "a replay with a Call-ID of its own").
 */

/* ------------------------------------------------------------------------------------------ */
/* Comparisons                                                                                */

static const char *op_words[] = {
  [SIM_LESSON_OP_EQ] = "==",
  [SIM_LESSON_OP_NE] = "!=",
  [SIM_LESSON_OP_LT] = "<",
  [SIM_LESSON_OP_LE] = "<=",
  [SIM_LESSON_OP_GT] = ">",
  [SIM_LESSON_OP_GE] = ">=",
};

static gboolean
parse_op (const char  *text,
          SimLessonOp *op)
{
  for (guint i = 0; text != NULL && i < G_N_ELEMENTS (op_words); i++)
    if (strcmp (text, op_words[i]) == 0)
      {
        *op = (SimLessonOp) i;
        return TRUE;
      }
  if (g_strcmp0 (text, "=") == 0)
    {
      *op = SIM_LESSON_OP_EQ;
      return TRUE;
    }
  return FALSE;
}

static gboolean
compare (gint64      a,
         SimLessonOp op,
         gint64      b)
{
  switch (op)
    {
    case SIM_LESSON_OP_EQ: return a == b;
    case SIM_LESSON_OP_NE: return a != b;
    case SIM_LESSON_OP_LT: return a < b;
    case SIM_LESSON_OP_LE: return a <= b;
    case SIM_LESSON_OP_GT: return a > b;
    case SIM_LESSON_OP_GE: return a >= b;
    default: g_assert_not_reached ();
    }
}

static gboolean
is_state_name (const char *w,
               gboolean    call)
{
  for (guint i = 0; i < (call ? 6u : 5u); i++)
    if (g_strcmp0 (w, call ? sim_call_state_name (i) : sim_reg_state_name (i)) == 0)
      return TRUE;
  return FALSE;
}

static SimPhone *
claim_phone (SimWorld              *world,
             const SimLessonClaim  *claim,
             GError               **error)
{
  SimPhone *phone = sim_world_get_phone (world, claim->subject);

  if (phone == NULL)
    g_set_error (error, SIM_LESSON_ERROR, SIM_LESSON_ERROR_COMMAND, "no phone '%s'",
                 claim->subject);
  return phone;
}

/* ------------------------------------------------------------------------------------------ */
/* bindings AOR OP N, total-bindings OP N                                                     */

static gboolean
parse_bindings (SimLessonClaim  *c,
                char           **w,
                guint            n,
                GError         **error)
{
  gboolean total = c->kind == SIM_LESSON_CLAIM_TOTAL_BINDINGS;
  guint k = total ? 1 : 2;

  if (n != k + 2 || (!total && !g_str_has_prefix (w[1], "sip:")) || !parse_op (w[k], &c->op) ||
      !_sim_lesson_parse_uint (w[k + 1], &c->number))
    return _sim_lesson_syntax_error (error, total ? "expected 'total-bindings OP N' (like "
                                                   "'total-bindings == 3')"
                                                 : "expected 'bindings AOR OP N' (like "
                                                   "'bindings sip:bob@lab.example == 2')");
  if (!total)
    c->subject = g_strdup (w[1]);
  return TRUE;
}

static gboolean
eval_bindings (const SimLessonClaim  *c,
               SimWorld              *world,
               guint                  since,
               gboolean              *ok,
               char                 **why,
               GError               **error)
{
  SimLocation *loc = sim_world_get_location (world);
  gboolean total = c->kind == SIM_LESSON_CLAIM_TOTAL_BINDINGS;
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
      GPtrArray *b = sim_location_lookup (loc, c->subject);
      have = b ? b->len : 0;
    }
  *ok = compare (have, c->op, (gint64) c->number);
  *why = g_strdup_printf ("%s has %u binding%s, the claim is %s %" G_GUINT64_FORMAT,
                          total ? "the location service" : c->subject,
                          have, have == 1 ? "" : "s", op_words[c->op], c->number);
  return TRUE;
}

/* ------------------------------------------------------------------------------------------ */
/* binding AOR CONTACT present|absent                                                         */

static gboolean
parse_binding (SimLessonClaim  *c,
               char           **w,
               guint            n,
               GError         **error)
{
  if (n != 4 || (strcmp (w[3], "present") != 0 && strcmp (w[3], "absent") != 0))
    return _sim_lesson_syntax_error (error, "expected 'binding AOR CONTACT present|absent'");
  c->subject = g_strdup (w[1]);
  c->contact = g_strdup (w[2]);
  c->present = strcmp (w[3], "present") == 0;
  return TRUE;
}

/* Whether "AOR CONTACT" is one of the bindings the task's "only" goals name. */
static gboolean
is_named (const SimLessonClaim *c,
          const char           *aor,
          const char           *contact)
{
  g_autofree char *key = g_strdup_printf ("%s %s", aor, contact);

  if (c->named == NULL)
    return g_strcmp0 (aor, c->subject) == 0 && g_strcmp0 (contact, c->contact) == 0;
  for (guint i = 0; i < c->named->len; i++)
    if (strcmp (c->named->pdata[i], key) == 0)
      return TRUE;
  return FALSE;
}

/*
 * "only": every binding the goals do not name is as it was when the task began.  A binding
 * removed (or expired) and added again is not the same binding (its Call-ID, CSeq and
 * lifetime start over), so any added, removed or expired event for another binding since
 * @since counts; a refresh keeps the binding and does not.
 */
static const SimEvent *
other_binding_touched (const SimLessonClaim *c,
                       SimWorld             *world,
                       guint                 since)
{
  static const char * const changes[] = { "added", "removed", "expired", NULL };
  SimTrace *trace = sim_world_get_trace (world);

  for (guint i = since; i < sim_trace_get_n_events (trace); i++)
    {
      const SimEvent *e = sim_trace_get_event (trace, i);

      if (e->type == SIM_EVENT_BINDING && _sim_lesson_word_in (e->action, changes) &&
          !is_named (c, e->aor, e->contact))
        return e;
    }
  return NULL;
}

static gboolean
eval_binding (const SimLessonClaim  *c,
              SimWorld              *world,
              guint                  since,
              gboolean              *ok,
              char                 **why,
              GError               **error)
{
  SimLocation *loc = sim_world_get_location (world);
  gboolean present = FALSE;
  const SimEvent *touched;

  if (loc != NULL)
    {
      GPtrArray *b = sim_location_lookup (loc, c->subject);
      for (guint i = 0; b != NULL && i < b->len; i++)
        if (g_strcmp0 (((SimBinding *) b->pdata[i])->contact, c->contact) == 0)
          present = TRUE;
    }
  *ok = present == c->present;
  if (*ok && c->only && (touched = other_binding_touched (c, world, since)) != NULL)
    {
      *ok = FALSE;
      *why = g_strdup_printf ("%s -> %s is %s, but another binding changed too: %s -> %s was %s "
                              "since the task began, which cannot be undone", c->subject,
                              c->contact, present ? "present" : "absent", touched->aor,
                              touched->contact, touched->action);
      return TRUE;
    }
  *why = g_strdup_printf ("%s -> %s is %s", c->subject, c->contact, present ? "present" : "absent");
  return TRUE;
}

/* ------------------------------------------------------------------------------------------ */
/* reg-state DEVICE STATE, call-state DEVICE STATE                                            */

static gboolean
parse_state (SimLessonClaim  *c,
             char           **w,
             guint            n,
             GError         **error)
{
  gboolean call = c->kind == SIM_LESSON_CLAIM_CALL_STATE;

  if (n != 3 || !is_state_name (w[2], call))
    return _sim_lesson_syntax_error (error, call ? "expected 'call-state DEVICE idle|calling|"
                                                   "ringing|established|ended|failed'"
                                                 : "expected 'reg-state DEVICE idle|registering|"
                                                   "registered|unregistering|failed'");
  c->subject = g_strdup (w[1]);
  c->state = g_strdup (w[2]);
  return TRUE;
}

static gboolean
eval_state (const SimLessonClaim  *c,
            SimWorld              *world,
            guint                  since,
            gboolean              *ok,
            char                 **why,
            GError               **error)
{
  gboolean call = c->kind == SIM_LESSON_CLAIM_CALL_STATE;
  SimPhone *phone = claim_phone (world, c, error);
  const char *state;

  if (phone == NULL)
    return FALSE;
  state = call ? sim_call_state_name (sim_phone_get_call_state (phone))
               : sim_reg_state_name (sim_phone_get_reg_state (phone));
  *ok = strcmp (state, c->state) == 0;
  *why = g_strdup_printf ("%s's %s state is %s", c->subject, call ? "call" : "registration", state);
  return TRUE;
}

/* ------------------------------------------------------------------------------------------ */
/* granted DEVICE OP N, cseq DEVICE OP N                                                      */

static gboolean
parse_phone_number (SimLessonClaim  *c,
                    char           **w,
                    guint            n,
                    GError         **error)
{
  if (n != 4 || !parse_op (w[2], &c->op) || !_sim_lesson_parse_uint (w[3], &c->number))
    return _sim_lesson_syntax_error (error, "expected '%s DEVICE OP N'", w[0]);
  c->subject = g_strdup (w[1]);
  return TRUE;
}

static gboolean
eval_phone_number (const SimLessonClaim  *c,
                   SimWorld              *world,
                   guint                  since,
                   gboolean              *ok,
                   char                 **why,
                   GError               **error)
{
  gboolean granted = c->kind == SIM_LESSON_CLAIM_GRANTED;
  SimPhone *phone = claim_phone (world, c, error);
  guint32 have;

  if (phone == NULL)
    return FALSE;
  have = granted ? sim_phone_get_granted (phone) : sim_phone_get_cseq (phone);
  *ok = compare (have, c->op, (gint64) c->number);
  *why = g_strdup_printf ("%s's %s is %u", c->subject,
                          granted ? "granted expiry" : "last REGISTER CSeq", have);
  return TRUE;
}

/* ------------------------------------------------------------------------------------------ */
/* last-status CODE [from NODE] [to NODE]                                                     */

static gboolean
parse_last_status (SimLessonClaim  *c,
                   char           **w,
                   guint            n,
                   GError         **error)
{
  const char *usage = "expected 'last-status CODE [from NODE] [to NODE]'";

  if (n < 2 || !_sim_lesson_parse_uint (w[1], &c->number))
    return _sim_lesson_syntax_error (error, "%s", usage);
  for (guint i = 2; i < n; i += 2)
    {
      char **slot;

      if (i + 1 >= n)
        return _sim_lesson_syntax_error (error, "%s", usage);
      if (strcmp (w[i], "from") == 0)
        slot = &c->from;
      else if (strcmp (w[i], "to") == 0)
        slot = &c->to;
      else
        return _sim_lesson_syntax_error (error, "%s", usage);
      g_free (*slot);
      *slot = g_strdup (w[i + 1]);
    }
  return TRUE;
}

static gboolean
eval_last_status (const SimLessonClaim  *c,
                  SimWorld              *world,
                  guint                  since,
                  gboolean              *ok,
                  char                 **why,
                  GError               **error)
{
  SimTrace *trace = sim_world_get_trace (world);
  int last = 0;

  for (guint i = since; i < sim_trace_get_n_events (trace); i++)
    {
      SimEvent *e = sim_trace_get_event (trace, i);
      if (e->type == SIM_EVENT_PACKET && e->status != 0 && g_strcmp0 (e->action, "sent") == 0 &&
          (c->from == NULL || g_strcmp0 (e->from, c->from) == 0) &&
          (c->to == NULL || g_strcmp0 (e->to, c->to) == 0))
        last = e->status;
    }
  *ok = last == (int) c->number;
  *why = last ? g_strdup_printf ("the last response sent was %d", last)
              : g_strdup ("no response was sent");
  return TRUE;
}

/* ------------------------------------------------------------------------------------------ */
/* happened EVENT, never EVENT, count EVENT OP N                                              */

static gboolean
parse_event_claim (SimLessonClaim  *c,
                   char           **w,
                   guint            n,
                   GError         **error)
{
  guint event_n = n;
  g_autofree char **event = NULL;

  if (c->kind == SIM_LESSON_CLAIM_COUNT)
    {
      if (n < 4 || !parse_op (w[n - 2], &c->op) || !_sim_lesson_parse_uint (w[n - 1], &c->number))
        return _sim_lesson_syntax_error (error, "expected 'count EVENT OP N' (like 'count "
                                         "REGISTER arrives at registrar == 2')");
      event_n = n - 2;
    }
  /* The words between the keyword and "OP N", as a NULL-terminated borrowed vector. */
  event = g_new0 (char *, event_n);
  memcpy (event, w + 1, (event_n - 1) * sizeof (char *));
  c->event = _sim_lesson_matcher_parse_words (event, error);
  if (c->event == NULL)
    return FALSE;
  if (c->event->kind != SIM_LESSON_MATCH_EVENT)
    return _sim_lesson_syntax_error (error, "'%s' takes an event, not a time", w[0]);
  return TRUE;
}

static gboolean
eval_event_claim (const SimLessonClaim  *c,
                  SimWorld              *world,
                  guint                  since,
                  gboolean              *ok,
                  char                 **why,
                  GError               **error)
{
  SimTrace *trace = sim_world_get_trace (world);
  guint seen = 0;

  for (guint i = since; i < sim_trace_get_n_events (trace); i++)
    if (_sim_lesson_matcher_matches (c->event, sim_trace_get_event (trace, i)))
      seen++;
  switch (c->kind)
    {
    case SIM_LESSON_CLAIM_COUNT:
      *ok = compare (seen, c->op, (gint64) c->number);
      break;
    case SIM_LESSON_CLAIM_HAPPENED:
      *ok = seen > 0;
      break;
    case SIM_LESSON_CLAIM_NEVER:
    default:
      *ok = seen == 0;
      break;
    }
  *why = g_strdup_printf ("it happened %u time%s", seen, seen == 1 ? "" : "s");
  return TRUE;
}

/* ------------------------------------------------------------------------------------------ */
/* value FIELD of PACKET OP VALUE, value FIELD of PACKET OP FIELD of PACKET                   */

/* "cseq of REGISTER from eve arrives at registrar": a field and its packet. */
static gboolean
parse_field_of (char                 **w,
                guint                  n,
                SimLessonPrediction  **field,
                SimLessonMatcher     **packet,
                GError               **error)
{
  g_autofree char **words = g_new0 (char *, n + 1);
  g_autofree char *text = NULL;

  memcpy (words, w, n * sizeof (char *));
  text = g_strjoinv (" ", words);
  *field = _sim_lesson_prediction_parse (text, 0, packet, error);
  return *field != NULL;
}

static gboolean
parse_value (SimLessonClaim  *c,
             char           **w,
             guint            n,
             GError         **error)
{
  const char *usage = "expected 'value FIELD of PACKET OP VALUE' or 'value FIELD of PACKET OP "
                      "FIELD of PACKET' (like 'value cseq of REGISTER from eve arrives at "
                      "registrar > 2')";
  guint k;

  for (k = 1; k < n; k++)
    if (parse_op (w[k], &c->op))
      break;
  if (k == 1 || k + 1 >= n)
    return _sim_lesson_syntax_error (error, "%s", usage);
  if (!parse_field_of (w + 1, k - 1, &c->field, &c->packet, error))
    return FALSE;
  if (k + 2 == n)
    c->literal = g_strdup (w[k + 1]);
  else if (!parse_field_of (w + k + 1, n - k - 1, &c->ref_field, &c->ref_packet, error))
    return FALSE;
  return TRUE;
}

/* The last packet @m matches among trace events [@from, @to). */
static const SimEvent *
last_packet (SimTrace               *trace,
             const SimLessonMatcher *m,
             guint                   from,
             guint                   to)
{
  for (guint i = to; i > from; i--)
    if (_sim_lesson_matcher_matches (m, sim_trace_get_event (trace, i - 1)))
      return sim_trace_get_event (trace, i - 1);
  return NULL;
}

/* Compares as numbers when both are numbers, else as text (only == and != then hold). */
static gboolean
compare_values (const char  *a,
                SimLessonOp  op,
                const char  *b)
{
  guint64 x, y;

  if (g_ascii_string_to_unsigned (a, 10, 0, G_MAXUINT64, &x, NULL) &&
      g_ascii_string_to_unsigned (b, 10, 0, G_MAXUINT64, &y, NULL))
    return compare ((gint64) x, op, (gint64) y);
  if (op == SIM_LESSON_OP_EQ)
    return strcmp (a, b) == 0;
  if (op == SIM_LESSON_OP_NE)
    return strcmp (a, b) != 0;
  return FALSE;
}

/*
 * The field of the last matching packet since @since, against a value or against the same
 * kind of field of the last packet that matches the second event before that one (the
 * reference: "the REGISTER Eve captured").
 */
static gboolean
eval_value (const SimLessonClaim  *c,
            SimWorld              *world,
            guint                  since,
            gboolean              *ok,
            char                 **why,
            GError               **error)
{
  SimTrace *trace = sim_world_get_trace (world);
  const SimEvent *e = last_packet (trace, c->packet, since, sim_trace_get_n_events (trace));
  const SimEvent *ref = NULL;
  g_autofree char *have = NULL;
  g_autofree char *want = NULL;

  *ok = FALSE;
  if (e == NULL)
    {
      *why = g_strdup_printf ("no %s yet", c->field->text);
      return TRUE;
    }
  have = _sim_lesson_prediction_value (c->field, e);
  if (c->ref_field != NULL)
    {
      ref = last_packet (trace, c->ref_packet, 0, (guint) e->index);
      if (ref == NULL)
        {
          *why = g_strdup_printf ("no %s before it", c->ref_field->text);
          return TRUE;
        }
      want = _sim_lesson_prediction_value (c->ref_field, ref);
    }
  else
    want = g_strdup (c->literal);
  if (have == NULL || want == NULL)
    {
      *why = g_strdup_printf ("the packet does not carry %s", have == NULL ? c->field->text
                                                                           : c->ref_field->text);
      return TRUE;
    }
  *ok = compare_values (have, c->op, want);
  *why = g_strdup_printf ("%s is %s, the claim is %s %s", c->field->text, have, op_words[c->op],
                          want);
  return TRUE;
}

/* ------------------------------------------------------------------------------------------ */
/* The table                                                                                  */

typedef gboolean (*ClaimParseFunc) (SimLessonClaim  *claim,
                                    char           **w,
                                    guint            n,
                                    GError         **error);
typedef gboolean (*ClaimEvalFunc) (const SimLessonClaim  *claim,
                                   SimWorld              *world,
                                   guint                  since,
                                   gboolean              *ok,
                                   char                 **why,
                                   GError               **error);

static const struct {
  const char *word;
  ClaimParseFunc parse;
  ClaimEvalFunc eval;
} claims[] = {
  /* Indexed by SimLessonClaimKind. */
  [SIM_LESSON_CLAIM_BINDINGS] = { "bindings", parse_bindings, eval_bindings },
  [SIM_LESSON_CLAIM_TOTAL_BINDINGS] = { "total-bindings", parse_bindings, eval_bindings },
  [SIM_LESSON_CLAIM_BINDING] = { "binding", parse_binding, eval_binding },
  [SIM_LESSON_CLAIM_REG_STATE] = { "reg-state", parse_state, eval_state },
  [SIM_LESSON_CLAIM_CALL_STATE] = { "call-state", parse_state, eval_state },
  [SIM_LESSON_CLAIM_GRANTED] = { "granted", parse_phone_number, eval_phone_number },
  [SIM_LESSON_CLAIM_CSEQ] = { "cseq", parse_phone_number, eval_phone_number },
  [SIM_LESSON_CLAIM_LAST_STATUS] = { "last-status", parse_last_status, eval_last_status },
  [SIM_LESSON_CLAIM_HAPPENED] = { "happened", parse_event_claim, eval_event_claim },
  [SIM_LESSON_CLAIM_NEVER] = { "never", parse_event_claim, eval_event_claim },
  [SIM_LESSON_CLAIM_COUNT] = { "count", parse_event_claim, eval_event_claim },
  [SIM_LESSON_CLAIM_VALUE] = { "value", parse_value, eval_value },
};

void
_sim_lesson_claim_free (SimLessonClaim *c)
{
  if (c == NULL)
    return;
  g_free (c->text);
  g_free (c->subject);
  g_free (c->contact);
  g_free (c->state);
  g_free (c->from);
  g_free (c->to);
  g_clear_pointer (&c->event, _sim_lesson_matcher_free);
  g_clear_pointer (&c->named, g_ptr_array_unref);
  g_clear_pointer (&c->field, _sim_lesson_prediction_free);
  g_clear_pointer (&c->packet, _sim_lesson_matcher_free);
  g_clear_pointer (&c->ref_field, _sim_lesson_prediction_free);
  g_clear_pointer (&c->ref_packet, _sim_lesson_matcher_free);
  g_free (c->literal);
  g_free (c);
}

SimLessonClaim *
_sim_lesson_claim_parse (const char  *text,
                         guint        line,
                         GError     **error)
{
  g_autoptr(SimLessonClaim) c = g_new0 (SimLessonClaim, 1);
  g_auto(GStrv) w = _sim_lesson_tokenize (text);
  char **words = w;
  guint n = g_strv_length (w);
  guint k;

  /* "only binding AOR CONTACT present|absent": and nothing else in the location service. */
  if (n > 0 && strcmp (w[0], "only") == 0)
    {
      c->only = TRUE;
      words++;
      n--;
      if (n == 0 || strcmp (words[0], "binding") != 0)
        {
          _sim_lesson_syntax_error (error, "'only' goes before a binding claim ('only binding "
                                    "AOR CONTACT present|absent')");
          return NULL;
        }
    }
  if (n == 0)
    {
      _sim_lesson_syntax_error (error, "missing the claim (like 'bindings sip:bob@lab.example "
                                "== 2')");
      return NULL;
    }
  for (k = 0; k < G_N_ELEMENTS (claims); k++)
    if (strcmp (words[0], claims[k].word) == 0)
      break;
  if (k == G_N_ELEMENTS (claims))
    {
      _sim_lesson_syntax_error (error, "unknown claim '%s' (expected bindings, [only] binding, "
                                "total-bindings, reg-state, call-state, granted, cseq, "
                                "last-status, happened, never, count or value)", words[0]);
      return NULL;
    }
  c->kind = (SimLessonClaimKind) k;
  if (!claims[k].parse (c, words, n, error))
    return NULL;
  c->text = g_strstrip (g_strdup (text));
  c->line = line;
  return g_steal_pointer (&c);
}

gboolean
_sim_lesson_claim_eval (const SimLessonClaim  *claim,
                        SimWorld              *world,
                        guint                  since,
                        gboolean              *holds,
                        char                 **why_out,
                        GError               **error)
{
  g_autofree char *why = NULL;
  gboolean ok = FALSE;

  if (!claims[claim->kind].eval (claim, world, since, &ok, &why, error))
    return FALSE;
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
  g_autoptr(SimLessonClaim) parsed = NULL;

  g_return_val_if_fail (SIM_IS_WORLD (world), FALSE);
  g_return_val_if_fail (claim != NULL, FALSE);
  parsed = _sim_lesson_claim_parse (claim, 0, error);
  if (parsed == NULL)
    return FALSE;
  return _sim_lesson_claim_eval (parsed, world, since, holds, why_out, error);
}
