/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "sim-svg-ladder.h"

#include <string.h>

#include "sim-export.h"

/*
 * Layout in whole pixels (no floating point reaches the output, so no locale can change a
 * byte of it).  Text is monospace: its width is known from its length without a font
 * library, which a GTK-free core does not have.  DejaVu Sans Mono and the other common
 * monospace faces advance 0.6 em per character; the layout counts 0.62 to keep a margin.
 */

#define FONT_FAMILY   "DejaVu Sans Mono, Liberation Mono, Menlo, Consolas, monospace"
#define NAME_SIZE     13
#define LABEL_SIZE    12
#define NOTE_SIZE     11
#define LINE_GAP      3       /* between the lines of a wrapped label or note */
#define PAD           10
#define TIME_W        82      /* "3600.020s" and a gap */
#define NAME_BOX_H    24
#define HEADER_H      (PAD + NAME_BOX_H + 10)
#define MIN_SPACING   120     /* between lifelines */
#define TARGET_WIDTH  760     /* labels wrap rather than push the drawing past this */
#define MIN_NOTE_CHARS 64     /* notes get at least this many characters a line */
#define MIN_LABEL_ROOM 200    /* the width a label may take over a short arrow */
#define HEAD_LEN      9
#define HEAD_HALF     4
#define X_HALF        5       /* half the size of the X that marks a lost datagram */

#define INK   "#000"
#define GREY  "#777"

/* The width in pixels of @n_chars characters at @size pixels. */
static int
text_width (gsize n_chars,
            int   size)
{
  return (int) ((n_chars * (gsize) size * 62 + 99) / 100);
}

/* The characters of @width pixels at @size (at least 8). */
static gsize
chars_in (int width,
          int size)
{
  return MAX (8, (gsize) width * 100 / ((gsize) size * 62));
}

/* ------------------------------------------------------------------------------------------ */
/* Escaping                                                                                   */

void
sim_svg_append_escaped (GString    *out,
                        const char *text)
{
  g_autofree char *valid = NULL;

  g_return_if_fail (out != NULL);
  if (text == NULL)
    return;
  valid = g_utf8_make_valid (text, -1);
  for (const char *p = valid; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      switch (c)
        {
        case '&': g_string_append (out, "&amp;"); break;
        case '<': g_string_append (out, "&lt;"); break;
        case '>': g_string_append (out, "&gt;"); break;
        case '"': g_string_append (out, "&quot;"); break;
        case '\'': g_string_append (out, "&#39;"); break;
        case '\t':
        case '\n':
          g_string_append_c (out, (char) c);
          break;
        default:
          /* XML 1.0 allows no C0 control but tab and newline, and not U+FFFE or U+FFFF;
           * a replacement character keeps the file well-formed and shows something was
           * there. */
          if (c < 0x20 || c == 0x7f || c == 0xfffe || c == 0xffff)
            g_string_append_unichar (out, 0xfffd);
          else
            g_string_append_len (out, p, g_utf8_next_char (p) - p);
          break;
        }
    }
}

char *
sim_svg_escape_text (const char *text)
{
  GString *out = g_string_new (NULL);

  sim_svg_append_escaped (out, text);
  return g_string_free (out, FALSE);
}

/* ------------------------------------------------------------------------------------------ */
/* Wrapping                                                                                   */

/* @text in lines of at most @width characters, broken at spaces (a longer word stands alone). */
static GPtrArray *
wrap_words (const char *text,
            gsize       width)
{
  GPtrArray *lines = g_ptr_array_new_with_free_func (g_free);
  g_auto(GStrv) words = g_strsplit_set (text, " \n\t", -1);
  g_autoptr(GString) line = g_string_new (NULL);
  gsize line_chars = 0;

  for (guint i = 0; words[i] != NULL; i++)
    {
      gsize n = g_utf8_strlen (words[i], -1);

      if (n == 0)
        continue;
      if (line->len > 0 && line_chars + 1 + n > width)
        {
          g_ptr_array_add (lines, g_strdup (line->str));
          g_string_truncate (line, 0);
          line_chars = 0;
        }
      if (line->len > 0)
        {
          g_string_append_c (line, ' ');
          line_chars++;
        }
      g_string_append (line, words[i]);
      line_chars += n;
    }
  if (line->len > 0 || lines->len == 0)
    g_ptr_array_add (lines, g_strdup (line->str));
  return lines;
}

/* ------------------------------------------------------------------------------------------ */
/* Layout                                                                                     */

typedef enum {
  ROW_ARROW,
  ROW_SELF,       /* a node sending to itself: words, no arrow */
  ROW_NOTE,
} RowKind;

typedef struct {
  RowKind kind;
  const SimEvent *event;
  SimExportFate fate;
  char *label;            /* arrows: the whole label */
  GPtrArray *lines;       /* the label or the note, wrapped */
  gboolean show_time;
  int y;                  /* top of the row */
  int height;
} Row;

static void
row_free (Row *row)
{
  g_free (row->label);
  g_clear_pointer (&row->lines, g_ptr_array_unref);
  g_free (row);
}

typedef struct {
  GPtrArray *names;       /* const char*, borrowed */
  GHashTable *index;      /* name -> column + 1 */
  int *x;                 /* lifelines */
  int spacing;
  int note_x;
  gsize note_chars;
  int width;
  int height;
  GPtrArray *rows;        /* Row* */
} Layout;

static void
layout_clear (Layout *l)
{
  g_clear_pointer (&l->names, g_ptr_array_unref);
  g_clear_pointer (&l->index, g_hash_table_unref);
  g_clear_pointer (&l->x, g_free);
  g_clear_pointer (&l->rows, g_ptr_array_unref);
}

static void
layout_add_node (Layout     *l,
                 const char *name)
{
  if (name == NULL || g_hash_table_contains (l->index, name))
    return;
  g_ptr_array_add (l->names, (gpointer) name);
  g_hash_table_insert (l->index, (gpointer) name, GUINT_TO_POINTER (l->names->len));
}

static guint
layout_column (Layout     *l,
               const char *name)
{
  return GPOINTER_TO_UINT (g_hash_table_lookup (l->index, name)) - 1;
}

static int
name_half (const char *name)
{
  return (text_width (g_utf8_strlen (name, -1), NAME_SIZE) + 16) / 2;
}

static guint
arrow_span (Layout         *l,
            const SimEvent *e)
{
  guint a = layout_column (l, e->from), b = layout_column (l, e->to);

  return a > b ? a - b : b - a;
}

/*
 * The spacing of the lifelines: wide enough for every label on one line and for the names,
 * but no wider than keeps the drawing near TARGET_WIDTH (labels then wrap), and never so
 * narrow that two names touch.
 */
static void
layout_columns (Layout *l)
{
  guint n = l->names->len;
  int need = MIN_SPACING, need_names = 0, x0, fit;

  for (guint i = 0; i < l->rows->len; i++)
    {
      Row *row = l->rows->pdata[i];
      guint span;

      if (row->kind != ROW_ARROW)
        continue;
      span = arrow_span (l, row->event);
      need = MAX (need, (text_width (g_utf8_strlen (row->label, -1), LABEL_SIZE) + 36 +
                         (int) span - 1) / (int) span);
    }
  for (guint i = 0; i + 1 < n; i++)
    need_names = MAX (need_names, name_half (l->names->pdata[i]) +
                                  name_half (l->names->pdata[i + 1]) + 12);
  x0 = PAD + TIME_W + (n > 0 ? name_half (l->names->pdata[0]) : 0);
  if (n > 1)
    {
      fit = (TARGET_WIDTH - x0 - name_half (l->names->pdata[n - 1]) - PAD) / (int) (n - 1);
      need = MIN (need, MAX (fit, MIN_SPACING));
    }
  l->spacing = MAX (need, need_names);
  l->x = g_new0 (int, MAX (n, 1));
  for (guint i = 0; i < n; i++)
    l->x[i] = x0 + (int) i * l->spacing;
  l->note_x = PAD + TIME_W;
  l->width = n > 0 ? l->x[n - 1] + name_half (l->names->pdata[n - 1]) + PAD : l->note_x + PAD;
  l->note_chars = chars_in (l->width - PAD - l->note_x, NOTE_SIZE);
  if (l->note_chars < MIN_NOTE_CHARS)
    {
      l->note_chars = MIN_NOTE_CHARS;
      l->width = l->note_x + text_width (MIN_NOTE_CHARS, NOTE_SIZE) + PAD;
    }
}

/* Wraps the labels and notes to the columns: each row's lines and height. */
static void
layout_rows (Layout *l)
{
  gboolean time_shown = FALSE;
  SimTime last_t = 0;

  for (guint i = 0; i < l->rows->len; i++)
    {
      Row *row = l->rows->pdata[i];

      if (row->kind == ROW_ARROW)
        {
          /* A label may reach past a short arrow (its white backing keeps it clear of the
           * lifelines it crosses) rather than be broken into a tall stack of short lines. */
          int room = MAX ((int) arrow_span (l, row->event) * l->spacing - 28, MIN_LABEL_ROOM);

          row->lines = wrap_words (row->label, chars_in (room, LABEL_SIZE));
          row->height = (int) row->lines->len * (LABEL_SIZE + LINE_GAP) + 20;
          row->show_time = TRUE;
        }
      else
        {
          /* Continuation lines are indented by two characters. */
          row->lines = wrap_words (row->label, l->note_chars - 2);
          row->height = (int) row->lines->len * (NOTE_SIZE + LINE_GAP) + 6;
          row->show_time = !time_shown || row->event->t != last_t;
        }
      time_shown = TRUE;
      last_t = row->event->t;
    }
}

/* The text ladder's line for @e; with @explained, its reason only the first time. */
static char *
describe_briefly (const SimEvent         *e,
                  const SimExportOptions *export,
                  GHashTable             *explained)
{
  g_autofree char *kind = NULL;
  SimEvent brief;

  if (explained == NULL || e->reason == NULL || *e->reason == '\0')
    return sim_export_describe_event (e, export);
  kind = g_strdup_printf ("%s %s", sim_event_type_name (e->type), e->action ? e->action : "");
  if (!g_hash_table_contains (explained, kind))
    {
      g_hash_table_add (explained, g_steal_pointer (&kind));
      return sim_export_describe_event (e, export);
    }
  /* A copy that only lends its fields to the description and is never freed as an event. */
  brief = *e;
  brief.reason = NULL;
  return sim_export_describe_event (&brief, export);
}

/* The rows the text ladder would print for @events, in its words. */
static void
layout_collect (Layout                    *l,
                GPtrArray                 *events,
                const SimSvgLadderOptions *opts)
{
  SimExportOptions export = { .show_timers = opts->show_timers };
  g_autofree SimExportFate *fates = sim_export_fates (events);

  for (guint i = 0; i < events->len; i++)
    {
      const SimEvent *e = events->pdata[i];
      Row *row;

      if (sim_export_is_arrow (e))
        {
          row = g_new0 (Row, 1);
          row->event = e;
          row->fate = fates[i];
          row->label = sim_export_packet_label (e);
          row->kind = g_strcmp0 (e->from, e->to) == 0 ? ROW_SELF : ROW_ARROW;
          if (row->kind == ROW_SELF)
            {
              g_autofree char *label = row->label;
              row->label = g_strdup_printf ("%s: %s (to itself)", e->from, label);
            }
        }
      else
        {
          char *text = describe_briefly (e, &export, opts->explained);

          if (text == NULL)
            continue;
          row = g_new0 (Row, 1);
          row->event = e;
          row->kind = ROW_NOTE;
          row->label = text;
        }
      g_ptr_array_add (l->rows, row);
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Drawing                                                                                    */

static void
append_attr (GString    *out,
             const char *name,
             const char *value)
{
  g_string_append_printf (out, " %s=\"", name);
  sim_svg_append_escaped (out, value);
  g_string_append_c (out, '"');
}

/* A text element; @extra is trusted attribute text (sizes, anchors), @text is escaped. */
static void
append_text (GString    *out,
             const char *klass,
             int         x,
             int         y,
             const char *extra,
             const char *text)
{
  g_string_append_printf (out, "<text class=\"%s\" x=\"%d\" y=\"%d\" %s>", klass, x, y, extra);
  sim_svg_append_escaped (out, text);
  g_string_append (out, "</text>\n");
}

static void
draw_time (GString *out,
           int      y,
           SimTime  t)
{
  g_autoptr(GString) s = g_string_new (NULL);

  sim_export_format_time (t, s);
  append_text (out, "time", PAD + TIME_W - 12, y, "font-size=\"11\" text-anchor=\"end\"", s->str);
}

static void
draw_header (GString *out,
             Layout  *l)
{
  for (guint i = 0; i < l->names->len; i++)
    {
      const char *name = l->names->pdata[i];
      int half = name_half (name);

      g_string_append (out, "<g class=\"node\"");
      append_attr (out, "data-name", name);
      g_string_append_printf (out, ">\n<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\""
                              GREY "\" stroke-width=\"1\"/>\n",
                              l->x[i], PAD + NAME_BOX_H, l->x[i], l->height - PAD);
      g_string_append_printf (out, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" "
                              "fill=\"#fff\" stroke=\"" INK "\" stroke-width=\"1.5\"/>\n",
                              l->x[i] - half, PAD, 2 * half, NAME_BOX_H);
      append_text (out, "name", l->x[i], PAD + NAME_BOX_H / 2 + NAME_SIZE * 35 / 100,
                   "font-size=\"" G_STRINGIFY (NAME_SIZE) "\" font-weight=\"bold\" "
                   "text-anchor=\"middle\"", name);
      g_string_append (out, "</g>\n");
    }
}

/*
 * White under a line of text, so it stays readable where it crosses a lifeline.  (A white
 * stroke drawn first, paint-order="stroke", would do it too, but not every SVG renderer a
 * teacher prints with knows that attribute, and then the text disappears under its stroke.)
 */
static void
draw_backing (GString *out,
              int      x,
              int      baseline,
              gsize    n_chars,
              int      size,
              gboolean centred)
{
  int width = text_width (n_chars, size) + 4;

  g_string_append_printf (out, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" "
                          "fill=\"#fff\"/>\n", centred ? x - width / 2 : x - 2,
                          baseline - size, width, size + 4);
}

static void
draw_x (GString *out,
        int      x,
        int      y)
{
  g_string_append_printf (out, "<path d=\"M%d %dL%d %dM%d %dL%d %d\" stroke=\"" INK "\" "
                          "stroke-width=\"2.5\"/>\n",
                          x - X_HALF, y - X_HALF, x + X_HALF, y + X_HALF,
                          x - X_HALF, y + X_HALF, x + X_HALF, y - X_HALF);
}

static const char *
fate_name (SimExportFate fate)
{
  switch (fate)
    {
    case SIM_EXPORT_FATE_DELIVERED: return "delivered";
    case SIM_EXPORT_FATE_LOST_ON_LINK: return "lost";
    case SIM_EXPORT_FATE_DROPPED: return "dropped";
    case SIM_EXPORT_FATE_IN_FLIGHT:
    default: return "in-flight";
    }
}

/* Where a label centred at @mid stays inside the diagram (right of the time column). */
static int
label_centre (Layout *l,
              Row    *row,
              int     mid)
{
  gsize chars = 0;
  int half;

  for (guint i = 0; i < row->lines->len; i++)
    chars = MAX (chars, (gsize) g_utf8_strlen (row->lines->pdata[i], -1));
  half = text_width (chars, LABEL_SIZE) / 2 + 2;
  mid = MIN (mid, l->width - PAD - half);
  return MAX (mid, l->note_x + half);
}

/* The shaft, the head (or the X) and the label, centred above the shaft. */
static void
draw_arrow (GString *out,
            Layout  *l,
            Row     *row)
{
  const SimEvent *e = row->event;
  int xa = l->x[layout_column (l, e->from)];
  int xb = l->x[layout_column (l, e->to)];
  int dir = xb > xa ? 1 : -1;
  /* The shaft sits low in its row, its time beside it, with a gap before the next row's. */
  int y = row->y + row->height - 12;
  int end = xb - dir;
  int mid = label_centre (l, row, (xa + xb) / 2);
  gboolean retx = g_strcmp0 (e->action, "retransmitted") == 0;

  g_string_append_printf (out, "<g class=\"arrow %s\"", fate_name (row->fate));
  append_attr (out, "data-from", e->from);
  append_attr (out, "data-to", e->to);
  append_attr (out, "data-label", row->label);
  g_string_append (out, ">\n");
  draw_time (out, y + 4, e->t);

  /* The label first: the X of a lost datagram may reach up into its white backing. */
  for (guint i = 0; i < row->lines->len; i++)
    {
      const char *line = row->lines->pdata[i];
      int ly = y - 8 - (int) (row->lines->len - 1 - i) * (LABEL_SIZE + LINE_GAP);

      draw_backing (out, mid, ly, g_utf8_strlen (line, -1), LABEL_SIZE, TRUE);
      append_text (out, "label", mid, ly, "font-size=\"" G_STRINGIFY (LABEL_SIZE) "\" "
                   "text-anchor=\"middle\"", line);
    }
  if (row->fate == SIM_EXPORT_FATE_LOST_ON_LINK)
    end = xa + (xb - xa) * 3 / 4;
  /* A retransmission is the same datagram again: dashed, so it reads as a repeat. */
  g_string_append_printf (out, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"" INK
                          "\" stroke-width=\"1.5\"%s/>\n", xa, y,
                          row->fate == SIM_EXPORT_FATE_DELIVERED ||
                          row->fate == SIM_EXPORT_FATE_IN_FLIGHT ? end - dir * HEAD_LEN : end, y,
                          retx ? " stroke-dasharray=\"6 3\"" : "");
  if (row->fate == SIM_EXPORT_FATE_DELIVERED || row->fate == SIM_EXPORT_FATE_IN_FLIGHT)
    g_string_append_printf (out, "<path d=\"M%d %dL%d %dL%d %dZ\" fill=\"" INK "\"/>\n",
                            end, y, end - dir * HEAD_LEN, y - HEAD_HALF,
                            end - dir * HEAD_LEN, y + HEAD_HALF);
  else
    draw_x (out, end, y);

  g_string_append (out, "</g>\n");
}

static void
draw_note (GString *out,
           Layout  *l,
           Row     *row)
{
  int y = row->y + NOTE_SIZE + 1;

  g_string_append (out, row->kind == ROW_SELF ? "<g class=\"self\">\n" : "<g class=\"note\">\n");
  if (row->show_time)
    draw_time (out, y, row->event->t);
  for (guint i = 0; i < row->lines->len; i++)
    {
      const char *line = row->lines->pdata[i];
      int x = l->note_x + (i > 0 ? text_width (2, NOTE_SIZE) : 0);
      int ly = y + (int) i * (NOTE_SIZE + LINE_GAP);

      draw_backing (out, x, ly, g_utf8_strlen (line, -1), NOTE_SIZE, FALSE);
      append_text (out, "text", x, ly, "font-size=\"" G_STRINGIFY (NOTE_SIZE) "\" fill=\"#222\"",
                   line);
    }
  g_string_append (out, "</g>\n");
}

/* Rows [@first, @end) as one <svg>, the names at its top. */
static char *
draw_part (Layout     *l,
           guint       first,
           guint       end,
           const char *title)
{
  GString *out = g_string_new (NULL);
  int y = HEADER_H;

  for (guint i = first; i < end; i++)
    {
      Row *row = l->rows->pdata[i];

      row->y = y;
      y += row->height;
    }
  l->height = y + PAD;
  g_string_append_printf (out, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
                          "height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\" font-family=\""
                          FONT_FAMILY "\" fill=\"" INK "\">\n",
                          l->width, l->height, l->width, l->height);
  g_string_append (out, "<title>");
  sim_svg_append_escaped (out, title);
  g_string_append (out, "</title>\n");
  g_string_append_printf (out, "<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/>\n",
                          l->width, l->height);
  draw_header (out, l);
  for (guint i = first; i < end; i++)
    {
      Row *row = l->rows->pdata[i];
      gboolean show_time = row->show_time;

      /* A part that goes on from the one before starts with its time. */
      row->show_time = show_time || i == first;
      if (row->kind == ROW_ARROW)
        draw_arrow (out, l, row);
      else
        draw_note (out, l, row);
      row->show_time = show_time;
    }
  g_string_append (out, "</svg>\n");
  return g_string_free (out, FALSE);
}

GPtrArray *
sim_svg_ladder_parts (GPtrArray                 *events,
                      const SimSvgLadderOptions *opts)
{
  static const SimSvgLadderOptions defaults = { 0 };
  const char *title;
  Layout l = { 0 };
  GPtrArray *parts;
  g_autoptr(GArray) starts = g_array_new (FALSE, FALSE, sizeof (guint));
  int room, used = 0;
  guint zero = 0;

  g_return_val_if_fail (events != NULL, NULL);
  if (opts == NULL)
    opts = &defaults;
  title = opts->title != NULL ? opts->title : "Ladder diagram";

  l.names = g_ptr_array_new ();
  l.index = g_hash_table_new (g_str_hash, g_str_equal);
  l.rows = g_ptr_array_new_with_free_func ((GDestroyNotify) row_free);
  if (opts->nodes != NULL)
    for (guint i = 0; opts->nodes[i] != NULL; i++)
      layout_add_node (&l, opts->nodes[i]);
  for (guint i = 0; i < events->len; i++)
    if (sim_export_is_arrow (events->pdata[i]))
      {
        layout_add_node (&l, ((SimEvent *) events->pdata[i])->from);
        layout_add_node (&l, ((SimEvent *) events->pdata[i])->to);
      }
  layout_collect (&l, events, opts);
  layout_columns (&l);
  layout_rows (&l);

  /* Every part has the same columns; a part ends before the row that would overflow it. */
  room = opts->max_height > 0 ? (int) opts->max_height - HEADER_H - PAD : G_MAXINT;
  g_array_append_val (starts, zero);
  for (guint i = 0; i < l.rows->len; i++)
    {
      int height = ((Row *) l.rows->pdata[i])->height;

      if (used > 0 && used + height > room)
        {
          g_array_append_val (starts, i);
          used = 0;
        }
      used += height;
    }
  g_array_append_val (starts, l.rows->len);

  parts = g_ptr_array_new_with_free_func (g_free);
  for (guint k = 0; k + 1 < starts->len; k++)
    {
      g_autofree char *part_title = starts->len > 2
        ? g_strdup_printf ("%s (part %u of %u)", title, k + 1, starts->len - 1)
        : g_strdup (title);

      g_ptr_array_add (parts, draw_part (&l, g_array_index (starts, guint, k),
                                         g_array_index (starts, guint, k + 1), part_title));
    }
  layout_clear (&l);
  return parts;
}

void
sim_svg_ladder (GPtrArray                 *events,
                GString                   *out,
                const SimSvgLadderOptions *opts)
{
  g_autoptr(GPtrArray) parts = NULL;

  g_return_if_fail (events != NULL);
  g_return_if_fail (out != NULL);
  parts = sim_svg_ladder_parts (events, opts);
  for (guint i = 0; i < parts->len; i++)
    g_string_append (out, parts->pdata[i]);
}
