/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "app-inspector.h"
#include "sim-i18n.h"

#include <string.h>

#include "app-explain.h"
#include "app-packet.h"
#include "sim-export.h"
#include "sim-net.h"

/*
 * The message inspector: the datagram exactly as it went on the wire, header names in bold,
 * and beside it what each header present does here, with its RFC section.  When a sniffer
 * (sim-net.h) copied the datagram, the explanation starts with what that sniffer saw: the
 * whole text on a plain link, only a TLS record's size and its addresses on a TLS link.
 */

/* Captures of one datagram follow its "sent" event: at most this many are looked at. */
#define MAX_CAPTURES_SCANNED (SIM_NET_MAX_SNIFFERS * 2)

struct _AppInspector {
  GtkWidget parent_instance;

  GtkLabel *title;
  GtkTextView *text_view;
  GtkLabel *explanation;

  SimEvent *event;
  SimEvent *previous;
  SimTrace *trace;          /* where the sniffers' captures are looked up, or NULL */
  char *sniffer_markup;     /* what the sniffers saw of the shown packet, or NULL */
  char **highlight;         /* the headers a lesson step talks about, or NULL */
  int split_width;          /* the width the message/explanation split was set for */
};

/* The message gets this share of the inspector's width, the explanation the rest. */
#define MESSAGE_FRACTION 0.55

G_DEFINE_FINAL_TYPE (AppInspector, app_inspector, GTK_TYPE_WIDGET)

static void apply_highlight (AppInspector *self);

/* The headers of @raw as (name, value) pairs in order, names folded to lower case. */
static GPtrArray *
parse_headers (const char *raw)
{
  GPtrArray *headers = g_ptr_array_new_with_free_func (g_free);
  g_auto(GStrv) lines = g_strsplit (raw, "\n", -1);

  for (guint i = 1; lines[i] != NULL; i++)
    {
      char *line = g_strchomp (lines[i]);
      char *colon = strchr (line, ':');

      if (*line == '\0')
        break;
      if (colon == NULL || *line == ' ' || *line == '\t')
        continue;
      g_ptr_array_add (headers, g_strstrip (g_strndup (line, colon - line)));
      g_ptr_array_add (headers, g_strstrip (g_strdup (colon + 1)));
    }
  return headers;
}

static const char *
find_header (GPtrArray  *headers,
             const char *name)
{
  for (guint i = 0; i + 1 < headers->len; i += 2)
    if (g_ascii_strcasecmp (headers->pdata[i], name) == 0)
      return headers->pdata[i + 1];
  return NULL;
}

static char *
shorten (const char *value)
{
  g_autofree char *cut = g_strndup (value, strcspn (value, ";"));

  /* Parameters after the value (;rport, ;received) matter less than the value itself. */
  if (g_str_has_prefix (value, "z9hG4bK"))
    value = cut;
  if (g_utf8_strlen (value, -1) <= 36)
    return g_strdup (value);
  return g_strdup_printf ("%.*s…", (int) (g_utf8_offset_to_pointer (value, 35) - value), value);
}

/* What changed from @previous to @event, header by header (the first of each name). */
static void
append_differences (GString  *out,
                    SimEvent *event,
                    SimEvent *previous)
{
  g_autoptr(GPtrArray) now = parse_headers (event->raw);
  g_autoptr(GPtrArray) before = parse_headers (previous->raw);
  g_autoptr(GHashTable) done = g_hash_table_new (g_str_hash, g_str_equal);
  g_autofree char *at = sim_export_time_string (previous->t);
  g_autofree char *title = g_markup_printf_escaped (
      _("<b>Compared with the previous %s of this Call-ID (at %s):</b>\n"),
      previous->status ? _("response") : previous->method, at);
  guint n = 0;

  g_string_append (out, title);
  for (guint i = 0; i + 1 < now->len; i += 2)
    {
      const char *name = now->pdata[i];
      const char *value = now->pdata[i + 1];
      const char *old;
      g_autofree char *lower = g_ascii_strdown (name, -1);
      g_autofree char *line = NULL;

      if (g_hash_table_contains (done, lower) || g_ascii_strcasecmp (name, "Content-Length") == 0)
        continue;
      g_hash_table_add (done, g_steal_pointer (&lower));
      old = find_header (before, name);
      if (old == NULL)
        line = g_markup_printf_escaped (_("• <b>%s</b> added\n"), name);
      else if (g_strcmp0 (old, value) != 0 && g_ascii_strcasecmp (name, "Via") == 0 &&
               strstr (old, "branch=") != NULL && strstr (value, "branch=") != NULL)
        {
          /* RFC 3261 §17.2.3: a new branch is a new transaction, which is the point here. */
          g_autofree char *a = shorten (strstr (old, "branch=") + strlen ("branch="));
          g_autofree char *b = shorten (strstr (value, "branch=") + strlen ("branch="));

          line = g_markup_printf_escaped (_("• <b>Via branch</b>: %s → %s (a new transaction)\n"),
                                          a, b);
        }
      else if (g_strcmp0 (old, value) != 0)
        {
          g_autofree char *a = shorten (old);
          g_autofree char *b = shorten (value);

          line = g_markup_printf_escaped ("• <b>%s</b>: %s → %s\n", name, a, b);
        }
      if (line != NULL)
        {
          g_string_append (out, line);
          n++;
        }
    }
  for (guint i = 0; i + 1 < before->len; i += 2)
    if (find_header (now, before->pdata[i]) == NULL)
      {
        g_autofree char *lower = g_ascii_strdown (before->pdata[i], -1);
        g_autofree char *line = NULL;

        if (g_hash_table_contains (done, lower))
          continue;
        g_hash_table_add (done, g_steal_pointer (&lower));
        line = g_markup_printf_escaped (_("• <b>%s</b> removed\n"), (char *) before->pdata[i]);
        g_string_append (out, line);
        n++;
      }
  if (n == 0)
    g_string_append (out, _("• nothing: the same bytes again\n"));
  g_string_append (out, "\n");
}

/* Is @capture a sniffer's copy of the datagram @sent put on the wire? */
static gboolean
captures_packet (const SimEvent *capture,
                 const SimEvent *sent)
{
  if (capture->type != SIM_EVENT_CAPTURE || g_strcmp0 (capture->action, "captured") != 0 ||
      !sim_addr_equal (&capture->src, &sent->src) || !sim_addr_equal (&capture->dst, &sent->dst))
    return FALSE;
  if (capture->tls)
    return sent->raw != NULL &&
           capture->wire_len == strlen (sent->raw) + SIM_NET_TLS_RECORD_OVERHEAD;
  return g_strcmp0 (capture->raw, sent->raw) == 0;
}

/*
 * What each sniffer saw of @sent, as markup: the captures sim-net.c emits right after a
 * datagram's "sent" event.  On a TLS link that is a record's size and two addresses, and
 * nothing of the message (RFC 3261 §26.2): the text says so and quotes none of it.
 */
static char *
describe_captures (SimTrace       *trace,
                   const SimEvent *sent)
{
  GPtrArray *events;
  g_autoptr(GString) out = NULL;
  guint start;

  if (trace == NULL || sent == NULL || sent->type != SIM_EVENT_PACKET)
    return NULL;
  events = sim_trace_get_events (trace);
  start = sim_trace_position_of (trace, sent->index + 1);
  for (guint i = start; i < events->len && i < start + MAX_CAPTURES_SCANNED; i++)
    {
      const SimEvent *capture = events->pdata[i];
      char src[64], dst[64];
      g_autofree char *piece = NULL;

      if (capture->type != SIM_EVENT_CAPTURE || capture->t != sent->t)
        break;
      if (!captures_packet (capture, sent))
        continue;
      sim_addr_format (&capture->src, src, sizeof src);
      sim_addr_format (&capture->dst, dst, sizeof dst);
      if (capture->tls)
        piece = g_markup_printf_escaped (
            _("<b>What sniffer %s saw</b>\nTLS record, %lu bytes, from %s to %s.\n"
              "Only the addresses and the size: the text at the left stayed encrypted, so "
              "there is nothing to read, replay or guess from (RFC 3261 §26.2).\n\n"),
            capture->node, (unsigned long) capture->wire_len, src, dst);
      else
        piece = g_markup_printf_escaped (
            _("<b>What sniffer %s saw</b>\nThe full text at the left, all %lu bytes in clear, "
              "from %s to %s: every header, Authorization included (RFC 3261 §26.2).\n\n"),
            capture->node, (unsigned long) capture->wire_len, src, dst);
      if (out == NULL)
        out = g_string_new (NULL);
      g_string_append (out, piece);
    }
  return out != NULL ? g_string_free (g_steal_pointer (&out), FALSE) : NULL;
}


/* The method in the CSeq header of @lines (a response answers it) copied to @method, or NULL. */
static const char *
cseq_method (char **lines,
             char    method[32])
{
  for (guint i = 1; lines[i] != NULL && lines[i][0] != '\0' && lines[i][0] != '\r'; i++)
    if (g_ascii_strncasecmp (lines[i], "CSeq:", 5) == 0 &&
        sscanf (lines[i] + 5, "%*u %31[A-Za-z]", method) == 1)
      return method;
  return NULL;
}
static void
show_text (AppInspector *self,
           const char   *raw)
{
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (self->text_view);
  g_autoptr(GString) explained = g_string_new (NULL);
  g_autoptr(GHashTable) seen = g_hash_table_new (NULL, NULL);
  g_auto(GStrv) lines = NULL;
  const char *about_start;
  char method[32];
  GtkTextIter iter;

  gtk_text_buffer_set_text (buffer, "", 0);
  if (raw == NULL)
    {
      gtk_label_set_markup (self->explanation, "");
      return;
    }

  /* The exact bytes go in the buffer; tags only decorate them. */
  gtk_text_buffer_set_text (buffer, raw, -1);

  lines = g_strsplit (raw, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      const char *line = lines[i];
      const char *colon = strchr (line, ':');
      GtkTextIter start, end;

      if (*line == '\0' || g_str_equal (line, "\r"))
        break;                               /* the body starts after the empty line */
      gtk_text_buffer_get_iter_at_line (buffer, &start, i);
      if (i == 0)
        {
          end = start;
          gtk_text_iter_forward_to_line_end (&end);
          gtk_text_buffer_apply_tag_by_name (buffer, "start-line", &start, &end);
          continue;
        }
      if (colon == NULL || *line == ' ' || *line == '\t')
        continue;                            /* a folded continuation line */
      {
        g_autofree char *name = g_strstrip (g_strndup (line, colon - line));
        const AppHeaderExplanation *about = app_explain_header (name);

        end = start;
        gtk_text_iter_forward_chars (&end, g_utf8_strlen (line, colon - line + 1));
        gtk_text_buffer_apply_tag_by_name (buffer, about ? "header-known" : "header", &start,
                                           &end);
        if (about != NULL && !g_hash_table_contains (seen, about))
          {
            g_autofree char *piece = g_markup_printf_escaped (
                "<b>%s</b>  <span alpha='65%%'>%s</span>\n%s\n\n",
                about->name, about->rfc, _(about->text));

            g_hash_table_add (seen, (gpointer) about);
            g_string_append (explained, piece);
          }
      }
    }

  if (self->event != NULL && self->previous != NULL)
    {
      g_autoptr(GString) differences = g_string_new (NULL);

      append_differences (differences, self->event, self->previous);
      g_string_prepend (explained, differences->str);
    }
  about_start = app_explain_first_line (lines[0],
                                        self->event != NULL && self->event->method != NULL
                                        ? self->event->method : cseq_method (lines, method));
  if (about_start != NULL)
    {
      g_autofree char *piece = g_markup_printf_escaped ("<b>%s</b>\n\n", about_start);
      g_string_prepend (explained, piece);
    }
  if (self->sniffer_markup != NULL)
    g_string_prepend (explained, self->sniffer_markup);
  if (self->event != NULL && self->event->reason != NULL)
    {
      g_autofree char *reason = sim_i18n_reason (self->event->reason);
      g_autofree char *piece = g_markup_printf_escaped (_("<b>Note:</b> %s\n\n"), reason);
      g_string_prepend (explained, piece);
    }
  while (explained->len > 0 && explained->str[explained->len - 1] == '\n')
    g_string_truncate (explained, explained->len - 1);
  gtk_label_set_markup (self->explanation, explained->str);

  gtk_text_buffer_get_start_iter (buffer, &iter);
  gtk_text_buffer_place_cursor (buffer, &iter);
  apply_highlight (self);
}

static void
app_inspector_dispose (GObject *object)
{
  AppInspector *self = APP_INSPECTOR (object);
  GtkWidget *child;

  g_clear_pointer (&self->event, sim_event_unref);
  g_clear_pointer (&self->previous, sim_event_unref);
  g_clear_pointer (&self->highlight, g_strfreev);
  g_clear_pointer (&self->sniffer_markup, g_free);
  g_clear_object (&self->trace);
  gtk_widget_dispose_template (GTK_WIDGET (self), APP_TYPE_INSPECTOR);
  /* dispose_template() only drops the children bound by name; the layout boxes go too. */
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))) != NULL)
    gtk_widget_unparent (child);
  G_OBJECT_CLASS (app_inspector_parent_class)->dispose (object);
}

/*
 * A fixed split cut the explanation off at the right in a narrow inspector (1280x720 with a
 * lesson): the message and the explanation share the width, again whenever it changes.  The
 * paned tells its new size by its max-position (the inspector's own size_allocate is its
 * layout manager's, not a vfunc to override).
 */
static void
share_width_cb (AppInspector *self,
                GParamSpec   *pspec,
                GtkPaned     *paned)
{
  int width = gtk_widget_get_width (GTK_WIDGET (paned));

  if (width <= 0 || width == self->split_width)
    return;
  self->split_width = width;
  gtk_paned_set_position (paned, (int) (width * MESSAGE_FRACTION));
}

static void
app_inspector_class_init (AppInspectorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = app_inspector_dispose;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/siplab/SipLab/app-inspector.ui");
  gtk_widget_class_bind_template_child (widget_class, AppInspector, title);
  gtk_widget_class_bind_template_child (widget_class, AppInspector, text_view);
  gtk_widget_class_bind_template_child (widget_class, AppInspector, explanation);
  gtk_widget_class_set_css_name (widget_class, "inspector");
}

static void
app_inspector_init (AppInspector *self)
{
  GtkTextBuffer *buffer;

  gtk_widget_init_template (GTK_WIDGET (self));
  {
    GtkWidget *paned = gtk_widget_get_parent (gtk_widget_get_parent (GTK_WIDGET (self->text_view)));

    if (GTK_IS_PANED (paned))
      g_signal_connect_object (paned, "notify::max-position", G_CALLBACK (share_width_cb), self,
                               G_CONNECT_SWAPPED);
  }

  buffer = gtk_text_view_get_buffer (self->text_view);
  gtk_text_buffer_create_tag (buffer, "start-line", "weight", PANGO_WEIGHT_BOLD, NULL);
  gtk_text_buffer_create_tag (buffer, "header", "weight", PANGO_WEIGHT_BOLD, NULL);
  /* Headers with an explanation beside the text are underlined, like a link to it. */
  gtk_text_buffer_create_tag (buffer, "header-known", "weight", PANGO_WEIGHT_BOLD,
                              "underline", PANGO_UNDERLINE_SINGLE, NULL);
  /* Its colour comes from the CSS (@lesson_highlight) when it is applied. */
  gtk_text_buffer_create_tag (buffer, "lesson-highlight", NULL);
}

GtkWidget *
app_inspector_new (void)
{
  return g_object_new (APP_TYPE_INSPECTOR, NULL);
}

void
app_inspector_set_event (AppInspector *self,
                         SimEvent     *event)
{
  app_inspector_set_event_with_previous (self, event, NULL);
}

void
app_inspector_set_event_with_previous (AppInspector *self,
                                       SimEvent     *event,
                                       SimEvent     *previous)
{
  g_return_if_fail (APP_IS_INSPECTOR (self));

  if (event == self->event && previous == self->previous)
    return;
  g_clear_pointer (&self->event, sim_event_unref);
  g_clear_pointer (&self->previous, sim_event_unref);
  if (event != NULL)
    self->event = sim_event_ref (event);
  if (event != NULL && previous != NULL)
    self->previous = sim_event_ref (previous);

  if (event == NULL)
    gtk_label_set_text (self->title, _("Click an arrow in the ladder to inspect its message."));
  else
    {
      g_autofree char *at = sim_export_time_string (event->t);
      g_autofree char *title = g_strdup_printf (_("%s → %s   at %s%s"),
                                                event->from, event->to, at,
                                                g_strcmp0 (event->action, "retransmitted") == 0
                                                ? _("  (retransmission)") : "");
      gtk_label_set_text (self->title, title);
    }
  g_free (self->sniffer_markup);
  self->sniffer_markup = describe_captures (self->trace, event);
  show_text (self, event ? event->raw : NULL);
}

void
app_inspector_set_trace (AppInspector *self,
                         SimTrace     *trace)
{
  g_return_if_fail (APP_IS_INSPECTOR (self));
  g_return_if_fail (trace == NULL || SIM_IS_TRACE (trace));

  g_set_object (&self->trace, trace);
}

char *
app_inspector_get_sniffer_text (AppInspector *self)
{
  g_autofree char *text = NULL;

  g_return_val_if_fail (APP_IS_INSPECTOR (self), NULL);

  if (self->sniffer_markup == NULL ||
      !pango_parse_markup (self->sniffer_markup, -1, 0, NULL, &text, NULL, NULL))
    return NULL;
  return g_strdup (g_strstrip (text));
}

SimEvent *
app_inspector_get_event (AppInspector *self)
{
  g_return_val_if_fail (APP_IS_INSPECTOR (self), NULL);
  return self->event;
}

GtkTextBuffer *
app_inspector_get_buffer (AppInspector *self)
{
  g_return_val_if_fail (APP_IS_INSPECTOR (self), NULL);
  return gtk_text_view_get_buffer (self->text_view);
}

/* ------------------------------------------------------------------------------------------ */
/* Lesson highlight: the header a lesson step talks about (app-lesson-pane.c)                 */

/* Marks every line of the headers in @self->highlight (continuation lines too) in the message. */
static void
apply_highlight (AppInspector *self)
{
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (self->text_view);
  GtkTextTag *tag = gtk_text_tag_table_lookup (gtk_text_buffer_get_tag_table (buffer),
                                               "lesson-highlight");
  GtkTextIter start, end;
  gboolean inside = FALSE;
  gboolean scrolled = FALSE;
  GdkRGBA colour;
  int n_lines = gtk_text_buffer_get_line_count (buffer);

  gtk_text_buffer_get_bounds (buffer, &start, &end);
  gtk_text_buffer_remove_tag (buffer, tag, &start, &end);
  if (self->highlight == NULL)
    return;
  app_lookup_color (GTK_WIDGET (self), "lesson_highlight", "#f9f06b", &colour);
  g_object_set (tag, "background-rgba", &colour, "paragraph-background-rgba", &colour, NULL);

  for (int i = 1; i < n_lines; i++)
    {
      g_autofree char *line = NULL;
      const char *colon;

      gtk_text_buffer_get_iter_at_line (buffer, &start, i);
      end = start;
      if (!gtk_text_iter_ends_line (&end))
        gtk_text_iter_forward_to_line_end (&end);
      line = gtk_text_buffer_get_text (buffer, &start, &end, FALSE);
      g_strchomp (line);
      if (*line == '\0')
        break;                               /* the body starts after the empty line */
      if (*line == ' ' || *line == '\t')
        ;                                    /* a folded line belongs to the header above */
      else
        {
          colon = strchr (line, ':');
          inside = FALSE;
          for (guint k = 0; colon != NULL && self->highlight[k] != NULL && !inside; k++)
            inside = (gsize) (colon - line) == strlen (self->highlight[k]) &&
                     g_ascii_strncasecmp (line, self->highlight[k], colon - line) == 0;
        }
      if (!inside)
        continue;
      gtk_text_buffer_apply_tag (buffer, tag, &start, &end);
      if (!scrolled)
        {
          GtkTextMark *mark = gtk_text_buffer_get_mark (buffer, "lesson-highlight");

          if (mark == NULL)
            mark = gtk_text_buffer_create_mark (buffer, "lesson-highlight", &start, TRUE);
          else
            gtk_text_buffer_move_mark (buffer, mark, &start);
          gtk_text_view_scroll_to_mark (self->text_view, mark, 0.1, FALSE, 0, 0);
          scrolled = TRUE;
        }
    }
}

void
app_inspector_highlight_headers (AppInspector       *self,
                                 const char * const *names)
{
  g_return_if_fail (APP_IS_INSPECTOR (self));

  if (names != NULL && names[0] == NULL)
    names = NULL;
  if (names == NULL && self->highlight == NULL)
    return;
  if (names != NULL && self->highlight != NULL &&
      g_strv_equal ((const char * const *) self->highlight, names))
    return;
  g_strfreev (self->highlight);
  self->highlight = g_strdupv ((char **) names);
  apply_highlight (self);
}

void
app_inspector_highlight_header (AppInspector *self,
                                const char   *name)
{
  const char *names[] = { name, NULL };

  app_inspector_highlight_headers (self, names);
}

const char *
app_inspector_get_highlighted_header (AppInspector *self)
{
  g_return_val_if_fail (APP_IS_INSPECTOR (self), NULL);
  return self->highlight != NULL ? self->highlight[0] : NULL;
}

char *
app_inspector_get_highlighted_text (AppInspector *self)
{
  GtkTextBuffer *buffer;
  GtkTextTag *tag;
  GtkTextIter start, end;
  GString *out = g_string_new (NULL);

  g_return_val_if_fail (APP_IS_INSPECTOR (self), NULL);

  buffer = gtk_text_view_get_buffer (self->text_view);
  tag = gtk_text_tag_table_lookup (gtk_text_buffer_get_tag_table (buffer), "lesson-highlight");
  gtk_text_buffer_get_start_iter (buffer, &start);
  while (gtk_text_iter_starts_tag (&start, tag) ||
         gtk_text_iter_forward_to_tag_toggle (&start, tag))
    {
      g_autofree char *piece = NULL;

      if (!gtk_text_iter_starts_tag (&start, tag))
        continue;
      end = start;
      gtk_text_iter_forward_to_tag_toggle (&end, tag);
      piece = gtk_text_buffer_get_text (buffer, &start, &end, FALSE);
      g_string_append_printf (out, "%s%s", out->len ? "\n" : "", piece);
      start = end;
    }
  if (out->len == 0)
    {
      g_string_free (out, TRUE);
      return NULL;
    }
  return g_string_free (out, FALSE);
}
