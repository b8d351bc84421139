/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "sim-lesson-private.h"

#include <string.h>

/*
 * Highlights: "highlight: header Contact", "binding AOR [CONTACT]", "timer F", "node NAME".
 * A view points at what they name (the GUI marks the header in the inspector, the CLI prints
 * its lines); the checker verifies that the thing exists when the item has run, so a lesson
 * cannot point at a header no message carries.
 */

static const struct {
  const char *word;
  SimLessonHighlightKind kind;
  gboolean contact;          /* takes an optional second word: binding AOR [CONTACT] */
} highlights[] = {
  { "header", SIM_LESSON_HIGHLIGHT_HEADER, FALSE },
  { "binding", SIM_LESSON_HIGHLIGHT_BINDING, TRUE },
  { "timer", SIM_LESSON_HIGHLIGHT_TIMER, FALSE },
  { "node", SIM_LESSON_HIGHLIGHT_NODE, FALSE },
};

void
_sim_lesson_highlight_free (SimLessonHighlight *h)
{
  if (h == NULL)
    return;
  g_free (h->text);
  g_free (h->name);
  g_free (h->contact);
  g_free (h);
}

SimLessonHighlight *
_sim_lesson_highlight_parse (const char  *text,
                             guint        line,
                             GError     **error)
{
  g_auto(GStrv) w = _sim_lesson_tokenize (text);
  guint n = g_strv_length (w);

  for (guint k = 0; n > 0 && k < G_N_ELEMENTS (highlights); k++)
    {
      SimLessonHighlight *h;

      if (strcmp (w[0], highlights[k].word) != 0)
        continue;
      if (n != 2 && !(highlights[k].contact && n == 3))
        break;
      /* A binding is named by its address-of-record. */
      if (highlights[k].kind == SIM_LESSON_HIGHLIGHT_BINDING && !g_str_has_prefix (w[1], "sip:"))
        break;
      h = g_new0 (SimLessonHighlight, 1);
      h->text = g_strstrip (g_strdup (text));
      h->line = line;
      h->kind = highlights[k].kind;
      h->name = g_strdup (w[1]);
      h->contact = g_strdup (w[2]);
      return h;
    }
  _sim_lesson_syntax_error (error, "expected 'highlight: header NAME', 'highlight: binding AOR "
                            "[CONTACT]', 'highlight: timer NAME' or 'highlight: node NAME'");
  return NULL;
}

/* Whether some event in @trace satisfies @pred for @h. */
static gboolean
trace_has (SimTrace                 *trace,
           const SimLessonHighlight *h,
           gboolean (*pred) (const SimEvent *e, const SimLessonHighlight *h))
{
  for (guint k = 0; k < sim_trace_get_n_events (trace); k++)
    if (pred (sim_trace_get_event (trace, k), h))
      return TRUE;
  return FALSE;
}

static gboolean
carries_header (const SimEvent           *e,
                const SimLessonHighlight *h)
{
  return e->type == SIM_EVENT_PACKET && sim_raw_header_has (e->raw, h->name);
}

static gboolean
is_timer (const SimEvent           *e,
          const SimLessonHighlight *h)
{
  return e->type == SIM_EVENT_TIMER && g_strcmp0 (e->name, h->name) == 0;
}

static gboolean
is_node (const SimEvent           *e,
         const SimLessonHighlight *h)
{
  return e->type == SIM_EVENT_NODE && g_strcmp0 (e->node, h->name) == 0;
}

static gboolean
binding_exists (SimWorld                 *world,
                const SimLessonHighlight *h)
{
  SimLocation *loc = sim_world_get_location (world);
  GPtrArray *b = loc ? sim_location_lookup (loc, h->name) : NULL;

  for (guint k = 0; b != NULL && k < b->len; k++)
    if (h->contact == NULL || g_strcmp0 (((SimBinding *) b->pdata[k])->contact, h->contact) == 0)
      return TRUE;
  return FALSE;
}

gboolean
_sim_lesson_highlight_holds (const SimLessonHighlight  *h,
                             SimWorld                  *world,
                             char                     **why_out)
{
  SimTrace *trace = sim_world_get_trace (world);

  switch (h->kind)
    {
    case SIM_LESSON_HIGHLIGHT_HEADER:
      /* A highlighted header must be in a message the student has seen by now. */
      if (trace_has (trace, h, carries_header))
        return TRUE;
      *why_out = g_strdup_printf ("highlights header %s, but no message so far carries it",
                                  h->name);
      return FALSE;
    case SIM_LESSON_HIGHLIGHT_BINDING:
      if (binding_exists (world, h))
        return TRUE;
      *why_out = g_strdup_printf ("highlights a binding of %s%s%s that does not exist at this "
                                  "point", h->name, h->contact ? " -> " : "",
                                  h->contact ? h->contact : "");
      return FALSE;
    case SIM_LESSON_HIGHLIGHT_TIMER:
      /* A highlighted timer (E, F, A, B, refresh...) must have run by now. */
      if (trace_has (trace, h, is_timer))
        return TRUE;
      *why_out = g_strdup_printf ("highlights timer %s, but it has not run so far", h->name);
      return FALSE;
    case SIM_LESSON_HIGHLIGHT_NODE:
    default:
      /* Hosts (an attacker) are nodes too: the trace saw them come up. */
      if (sim_world_get_phone (world, h->name) != NULL ||
          g_strcmp0 (sim_world_get_server_name (world), h->name) == 0 ||
          trace_has (trace, h, is_node))
        return TRUE;
      *why_out = g_strdup_printf ("highlights node '%s', which the scene does not have", h->name);
      return FALSE;
    }
}
