/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "app-ladder-view.h"
#include "sim-i18n.h"

#include <math.h>
#include <string.h>

#include <cairo-svg.h>

#include "app-packet.h"
#include "sim-export.h"

/*
 * The ladder (sequence) diagram: one column per host, time going down, one arrow per datagram
 * in the order the trace recorded them.  A dropped datagram ends in a red X.  A message that
 * crossed a TLS link carries a "TLS" tag; a sniffer's captures (SIM_EVENT_CAPTURE) are copies,
 * not datagrams, and add no arrow.  Clicking a row selects its message for the inspector.
 */

/* After the label of a message that crossed a TLS link: a sniffer there saw only its size.
 * Plain text, not an emoji lock: the lab machines' fonts need not have one.  It is markup,
 * appended as it is (g_markup_printf_escaped() would escape it). */
#define TLS_TAG " <span size='small' weight='bold' background='#1c71d8' foreground='white'> TLS </span>"

#define MIN_ROW_HEIGHT 48
#define ROWS_PER_GROWTH 32
/* The time column: at least this wide, wider for a larger font (see measure_row_height). */
#define MIN_TIME_WIDTH 86
/* A binding's mark on the registrar's lifeline: above the line after it (pixels). */
#define MARK_HEIGHT    16
/* Cairo image surfaces stop at 32767 pixels; a PNG of a long run keeps its first rows. */
#define MAX_PNG_HEIGHT 32000
/*
 * While paced, a scroll to the newest row asked for this soon (µs) after the window's slot
 * began still goes ahead: the one that follows the body's growth in that slot.
 */
#define CATCH_UP_GRACE (G_USEC_PER_SEC / 20)

typedef struct {
  SimEvent *sent;
  SimEvent *end;
} Row;

/* A row as shown: one datagram, or (collapsed) the latest of a registration's refreshes. */
typedef struct {
  guint row;              /* index into rows */
  guint count;            /* refreshes folded into it; 0 for a plain row */
  gboolean refresh;
} ViewRow;

struct _AppLadderView {
  GtkWidget parent_instance;

  GtkDrawingArea *header;
  GArray *titles;         /* Title, one per column, as last drawn */
  int header_height;      /* what the titles need */
  char *titles_key;       /* what @titles were laid out for: the width, font and labels */
  double titles_height;   /* and the height they needed */
  double right_margin;    /* right of the last lane, for its rotated title (pixels) */
  int time_width;         /* the time column: "10000.000s" in the body's font */
  double header_width;
  guint header_idle_id;
  GtkScrolledWindow *scroller;
  GtkDrawingArea *body;

  SimWorld *world;
  GArray *rows;           /* Row */
  GArray *view;           /* ViewRow: what is drawn, one per line */
  GPtrArray *marks;       /* SimEvent*: bindings expired, removed, refreshed, in trace order */
  GPtrArray *columns;     /* char* host names (live: a real phone's "ip:port") */
  GHashTable *column_labels; /* live: "ip:port" -> the name the trace gave it last (a user) */
  int row_height;
  char *measured_font;    /* the body's font when row_height and time_width were measured */
  int measured_height;
  GHashTable *label_layouts;  /* markup -> PangoLayout*, for the body's font */
  char *label_font;
  gboolean collapse;
  int selected;
  gboolean follow;
  guint scroll_idle_id;
  guint resize_idle_id;
  /*
   * Playing or live: following the newest row (a scroll) and growing for new rows wait for
   * the window's next slot (app_ladder_view_catch_up()), since each has the window laid out
   * again; at fast-forward rows come every frame.
   */
  gboolean paced;
  gboolean scroll_pending;
  gboolean grow_pending;
  gint64 caught_up;
  guint64 reveal_limit;   /* lesson: rows of trace events from here on are not shown yet */
  guint max_rows;         /* 0: keep every row */
  guint64 n_earlier;      /* rows dropped from the front to stay under max_rows */
};

enum {
  PACKET_SELECTED,
  ROW_ACTIVATED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void reveal_selected (AppLadderView *self);

G_DEFINE_FINAL_TYPE (AppLadderView, app_ladder_view, GTK_TYPE_WIDGET)

/* High contrast (the window's "high-contrast" class, style-hc.css): lines twice as thick. */
static double
line_scale (GtkWidget *widget)
{
  GtkRoot *root = gtk_widget_get_root (widget);

  return root != NULL && gtk_widget_has_css_class (GTK_WIDGET (root), "high-contrast") ? 2 : 1;
}


static void
row_clear (gpointer data)
{
  Row *row = data;

  g_clear_pointer (&row->sent, sim_event_unref);
  g_clear_pointer (&row->end, sim_event_unref);
}

/*
 * The column of one end of a packet: its host's name, or live, for a phone on the real
 * network, its address, so the packets it sends before the registrar knows its name and after
 * share one column (labelled with the name once known).  @buffer holds the address.
 */
static const char *
end_column (AppLadderView *self,
            SimEvent      *event,
            gboolean       to,
            char          *buffer,
            gsize          size)
{
  const char *name = to ? event->to : event->from;

  if (name == NULL || sim_world_get_transport (self->world) == NULL ||
      sim_net_has_host (sim_world_get_net (self->world), name))
    return name;
  sim_addr_format (to ? &event->dst : &event->src, buffer, size);
  return buffer;
}

static const char *
column_label (AppLadderView *self,
              const char    *column)
{
  const char *label = g_hash_table_lookup (self->column_labels, column);

  return label != NULL ? label : column;
}

/* The hosts as columns: the server in the middle, so arrows to it are short. */
static void
update_columns (AppLadderView *self)
{
  g_autoptr(GPtrArray) hosts = sim_net_list_hosts (sim_world_get_net (self->world));
  const char *server = sim_world_get_server_name (self->world);
  guint n_before = 0;

  g_ptr_array_set_size (self->columns, 0);
  for (guint i = 0; i < hosts->len; i++)
    if (g_strcmp0 (hosts->pdata[i], server) != 0)
      g_ptr_array_add (self->columns, g_strdup (hosts->pdata[i]));
  n_before = self->columns->len / 2;
  if (server != NULL)
    g_ptr_array_insert (self->columns, n_before, g_strdup (server));

  /* Senders the network does not know by name (raw IPs) get a column of their own. */
  for (guint i = 0; i < self->rows->len; i++)
    {
      Row *row = &g_array_index (self->rows, Row, i);
      char from[64], to[64];
      const char *names[] = { end_column (self, row->sent, FALSE, from, sizeof from),
                              end_column (self, row->sent, TRUE, to, sizeof to) };

      for (guint k = 0; k < G_N_ELEMENTS (names); k++)
        if (names[k] != NULL &&
            !g_ptr_array_find_with_equal_func (self->columns, names[k], g_str_equal, NULL))
          g_ptr_array_add (self->columns, g_strdup (names[k]));
    }
}

/* Rotated column titles read up to the right: the last ones need room right of the lanes. */
static double
column_spacing (AppLadderView *self,
                double         width)
{
  return MAX (width - self->time_width - self->right_margin, 1) / MAX (self->columns->len, 1);
}

static double
column_x (AppLadderView *self,
          const char    *name,
          double         width)
{
  guint index;
  double col_width;

  if (!g_ptr_array_find_with_equal_func (self->columns, name, g_str_equal, &index))
    return -1;
  col_width = column_spacing (self, width);
  return self->time_width + col_width * (index + 0.5);
}

/*
 * A column title as laid out: its text and where it goes.  The header lays its titles out in
 * one line when each fits its column, staggered over two lines when each fits two columns, and
 * otherwise rotated (reading up to the right and ending above its lifeline) at the angle that
 * keeps neighbours apart; only a title longer than TITLE_MAX_ROTATED is shortened, and the
 * tooltip names every column in full.
 */
typedef struct {
  PangoLayout *layout;
  double x, y;            /* the layout's origin, after translating and rotating by -angle */
  double angle;
  double corners[8];      /* the text's box, in header coordinates */
  gboolean ellipsized;
} Title;

/* Space between two titles, and around them (pixels). */
#define TITLE_GAP          8
#define TITLE_PAD          6
/* A rotated title is at most this long (pixels); longer ones are ellipsized. */
#define TITLE_MAX_ROTATED  220
/* Rotated titles lean at least this much (radians): flatter reads badly. */
#define TITLE_MIN_ANGLE    (G_PI / 4)
#define HEADER_MIN_HEIGHT  44

static void
title_clear (gpointer data)
{
  Title *title = data;

  g_clear_object (&title->layout);
}

/* The corners of @title's box (@w x @h at its origin), turned and moved to the header. */
static void
title_set_corners (Title  *title,
                   double  tx,
                   double  ty,
                   double  w,
                   double  h)
{
  double c = cos (title->angle), s = sin (title->angle);
  double local[8] = { title->x, title->y, title->x + w, title->y,
                      title->x + w, title->y + h, title->x, title->y + h };

  for (guint k = 0; k < 4; k++)
    {
      /* Rotation by -angle: up is negative y. */
      title->corners[2 * k] = tx + local[2 * k] * c + local[2 * k + 1] * s;
      title->corners[2 * k + 1] = ty - local[2 * k] * s + local[2 * k + 1] * c;
    }
}

/*
 * Rotated titles: the angle that keeps neighbours @spacing apart a line of text (@line_h)
 * across, and the column spacing that keeps the last titles inside @width (each reaches
 * @widths[i] * cos (angle) right of its lane).  Twice: the angle depends on the spacing.
 */
static double
rotated_spacing (AppLadderView *self,
                 const int     *widths,
                 double         line_h,
                 double         width,
                 double        *angle)
{
  guint n = self->columns->len;
  double room = width - self->time_width - TITLE_PAD;
  double spacing = (width - self->time_width) / MAX (n, 1);

  for (guint round = 0; round < 2; round++)
    {
      *angle = MAX (TITLE_MIN_ANGLE, asin (MIN (1.0, (line_h + 2) / MAX (spacing, 1))));
      spacing = (width - self->time_width) / MAX (n, 1);
      for (guint i = 0; i < n; i++)
        spacing = MIN (spacing, (room - MIN (widths[i], TITLE_MAX_ROTATED) * cos (*angle)) /
                                (i + 0.5));
      spacing = MAX (spacing, line_h);
    }
  return spacing;
}

/* A title centred over lane @i but kept inside the header (the last ones would stick out). */
static double
title_left (AppLadderView *self,
            double         spacing,
            guint          i,
            int            w,
            double         width)
{
  return CLAMP (self->time_width + spacing * (i + 0.5) - w / 2.0, TITLE_PAD, width - TITLE_PAD - w);
}

/* Staggered over two lines, does every title keep TITLE_GAP from the next on its line? */
static gboolean
stagger_fits (AppLadderView *self,
              const int     *widths,
              double         spacing,
              double         width)
{
  guint n = self->columns->len;

  for (guint i = 2; i < n; i++)
    if (title_left (self, spacing, i - 2, widths[i - 2], width) + widths[i - 2] + TITLE_GAP >
        title_left (self, spacing, i, widths[i], width))
      return FALSE;
  return n > 1;
}

/* Lays the titles out for a header @width wide; returns the height they need. */
static double
plan_titles (AppLadderView *self,
             GtkWidget     *widget,
             double         width)
{
  guint n = self->columns->len;
  double spacing = (width - self->time_width) / MAX (n, 1);
  double max_w = 0, line_h = 0, angle = 0, height;
  g_autofree int *widths = NULL;
  double old_margin = self->right_margin;
  PangoFontDescription *font = pango_context_get_font_description (gtk_widget_get_pango_context (widget));
  g_autofree char *font_name = pango_font_description_to_string (font);
  g_autoptr(GString) key = g_string_new (NULL);

  /* The same titles in the same room: laid out as last time (two hundred columns take a while). */
  g_string_append_printf (key, "%g %d %s\n", width, self->time_width, font_name);
  for (guint i = 0; i < n; i++)
    g_string_append_printf (key, "%s\n", column_label (self, self->columns->pdata[i]));
  if (g_strcmp0 (key->str, self->titles_key) == 0 && self->titles->len == n)
    return self->titles_height;
  g_free (self->titles_key);
  self->titles_key = g_string_free (g_steal_pointer (&key), FALSE);

  widths = g_new0 (int, MAX (n, 1));
  g_array_set_size (self->titles, n);
  for (guint i = 0; i < n; i++)
    {
      Title *title = &g_array_index (self->titles, Title, i);
      g_autofree char *markup = g_markup_printf_escaped ("<b>%s</b>",
                                                         column_label (self, self->columns->pdata[i]));
      int th;

      g_clear_object (&title->layout);
      title->layout = gtk_widget_create_pango_layout (widget, NULL);
      pango_layout_set_markup (title->layout, markup, -1);
      pango_layout_get_pixel_size (title->layout, &widths[i], &th);
      max_w = MAX (max_w, widths[i]);
      line_h = MAX (line_h, th);
    }
  self->right_margin = 0;
  if (max_w <= spacing - TITLE_GAP)
    height = line_h + 2 * TITLE_PAD;
  else if (stagger_fits (self, widths, spacing, width))
    height = 2 * line_h + 2 * TITLE_PAD;
  else
    {
      spacing = rotated_spacing (self, widths, line_h, width, &angle);
      self->right_margin = MAX (width - self->time_width - spacing * n, 0);
      height = MIN (max_w, TITLE_MAX_ROTATED) * sin (angle) + line_h * cos (angle) + 2 * TITLE_PAD;
    }
  height = MAX (height, HEADER_MIN_HEIGHT);
  /* The lanes moved: the body draws them anew. */
  if (self->right_margin != old_margin && self->body != NULL)
    gtk_widget_queue_draw (GTK_WIDGET (self->body));

  for (guint i = 0; i < n; i++)
    {
      Title *title = &g_array_index (self->titles, Title, i);
      double cx = self->time_width + spacing * (i + 0.5);
      int tw, th;

      title->angle = angle;
      title->ellipsized = FALSE;
      if (angle > 0 && max_w > TITLE_MAX_ROTATED)
        {
          pango_layout_set_width (title->layout, TITLE_MAX_ROTATED * PANGO_SCALE);
          pango_layout_set_ellipsize (title->layout, PANGO_ELLIPSIZE_END);
          title->ellipsized = pango_layout_is_ellipsized (title->layout);
        }
      /* Columns closer than a line of text: no angle keeps them apart, the tooltip tells. */
      if (angle > 0 && spacing * sin (angle) < line_h)
        title->ellipsized = TRUE;
      pango_layout_get_pixel_size (title->layout, &tw, &th);
      if (angle == 0)
        {
          double top = max_w <= spacing - TITLE_GAP ? (height - th) / 2.0
                                                    : TITLE_PAD + (i % 2) * line_h +
                                                      (height - 2 * line_h - 2 * TITLE_PAD) / 2.0;

          title->x = title_left (self, spacing, i, tw, width);
          title->y = top;
          title_set_corners (title, 0, 0, tw, th);
        }
      else
        {
          /* The text starts at the top of its lane and reads up to the right. */
          title->x = 0;
          title->y = -th / 2.0;
          title_set_corners (title, cx - th / 2.0 * sin (angle),
                             height - TITLE_PAD - th / 2.0 * cos (angle), tw, th);
        }
    }
  self->titles_height = height;
  return height;
}

static gboolean
fit_header_cb (gpointer user_data)
{
  AppLadderView *self = user_data;

  self->header_idle_id = 0;
  if (gtk_drawing_area_get_content_height (self->header) != self->header_height)
    gtk_drawing_area_set_content_height (self->header, self->header_height);
  return G_SOURCE_REMOVE;
}

static void
paint_header (AppLadderView *self,
              cairo_t       *cr,
              GtkWidget     *widget,
              double         width,
              double         height)
{
  GdkRGBA fg;
  int needed = (int) ceil (plan_titles (self, widget, width));

  /* Taller or shorter titles: the header takes their height once this frame is drawn. */
  self->header_height = needed;
  if (needed != gtk_drawing_area_get_content_height (self->header) && self->header_idle_id == 0)
    self->header_idle_id = g_idle_add (fit_header_cb, self);
  self->header_width = width;

  app_lookup_color (widget, "net_text", "#222222", &fg);
  gdk_cairo_set_source_rgba (cr, &fg);
  for (guint i = 0; i < self->titles->len; i++)
    {
      Title *title = &g_array_index (self->titles, Title, i);

      cairo_save (cr);
      if (title->angle > 0)
        {
          cairo_translate (cr, title->corners[0] - (title->x * cos (title->angle) +
                                                    title->y * sin (title->angle)),
                           title->corners[1] - (-title->x * sin (title->angle) +
                                                title->y * cos (title->angle)));
          cairo_rotate (cr, -title->angle);
        }
      cairo_move_to (cr, title->x, title->y);
      pango_cairo_show_layout (cr, title->layout);
      cairo_restore (cr);
    }
  {
    g_autoptr(PangoLayout) layout = gtk_widget_create_pango_layout (widget, NULL);
    g_autofree char *markup = NULL;
    int tw, th;

    /* Live: the packets dropped from the front, as one line above the first row kept. */
    if (self->n_earlier > 0)
      markup = g_markup_printf_escaped (_("t (s)\n<span size='small' alpha='70%%'>⋯ %llu "
                                          "earlier</span>"),
                                        (unsigned long long) self->n_earlier);
    else
      markup = g_strdup (_("t (s)"));
    pango_layout_set_markup (layout, markup, -1);
    pango_layout_get_pixel_size (layout, &tw, &th);
    cairo_move_to (cr, 10, height - th - TITLE_PAD);
    pango_cairo_show_layout (cr, layout);
  }
}

/* Every column's full name (and a real phone's address), wherever the pointer is. */
static gboolean
header_query_tooltip_cb (GtkWidget     *widget,
                         int            x,
                         int            y,
                         gboolean       keyboard,
                         GtkTooltip    *tooltip,
                         AppLadderView *self)
{
  double spacing = column_spacing (self, gtk_widget_get_width (widget));
  int index = (int) floor ((x - self->time_width) / spacing);
  const char *column, *label;
  g_autofree char *text = NULL;

  if (x < self->time_width || index < 0 || index >= (int) self->columns->len)
    return FALSE;
  column = self->columns->pdata[index];
  label = column_label (self, column);
  text = g_strcmp0 (label, column) != 0 ? g_strdup_printf ("%s (%s)", label, column)
                                        : g_strdup (label);
  gtk_tooltip_set_text (tooltip, text);
  return TRUE;
}

static void
draw_header_cb (GtkDrawingArea *area,
                cairo_t        *cr,
                int             width,
                int             height,
                gpointer        user_data)
{
  AppLadderView *self = user_data;

  if (self->world == NULL)
    return;
  paint_header (self, cr, GTK_WIDGET (area), width, height);
}

static void
draw_arrow (cairo_t *cr,
            double   x1,
            double   x2,
            double   y)
{
  double dir = x2 > x1 ? 1 : -1;

  cairo_move_to (cr, x1, y);
  cairo_line_to (cr, x2 - dir * 2, y);
  cairo_stroke (cr);
  cairo_move_to (cr, x2, y);
  cairo_line_to (cr, x2 - dir * 12, y - 6);
  cairo_line_to (cr, x2 - dir * 12, y + 6);
  cairo_close_path (cr);
  cairo_fill (cr);
}

/* An arrow from @x1 that a drop stopped at @xm: a red cross marks where it was lost. */
static void
draw_dropped_arrow (cairo_t       *cr,
                    double         x1,
                    double         xm,
                    double         ym,
                    const GdkRGBA *red)
{
  cairo_move_to (cr, x1, ym);
  cairo_line_to (cr, xm, ym);
  cairo_stroke (cr);
  gdk_cairo_set_source_rgba (cr, red);
  cairo_set_line_width (cr, 4);
  cairo_move_to (cr, xm - 8, ym - 8);
  cairo_line_to (cr, xm + 8, ym + 8);
  cairo_move_to (cr, xm + 8, ym - 8);
  cairo_line_to (cr, xm - 8, ym + 8);
  cairo_stroke (cr);
}

/* The label layouts are laid out in @widget's font: another font empties their cache. */
static void
check_label_font (AppLadderView *self,
                  GtkWidget     *widget)
{
  PangoFontDescription *font = pango_context_get_font_description (
    gtk_widget_get_pango_context (widget));
  g_autofree char *name = pango_font_description_to_string (font);

  if (g_strcmp0 (name, self->label_font) != 0)
    {
      g_hash_table_remove_all (self->label_layouts);
      g_free (self->label_font);
      self->label_font = g_steal_pointer (&name);
    }
}

/* Lines repeat ("REGISTER CSeq 2"...): each label is laid out once, not every frame. */
static PangoLayout *
label_layout (AppLadderView *self,
              GtkWidget     *widget,
              const char    *markup)
{
  PangoLayout *label = g_hash_table_lookup (self->label_layouts, markup);

  if (label == NULL)
    {
      if (g_hash_table_size (self->label_layouts) > 2000)
        g_hash_table_remove_all (self->label_layouts);
      label = gtk_widget_create_pango_layout (widget, NULL);
      pango_layout_set_markup (label, markup, -1);
      g_hash_table_insert (self->label_layouts, g_strdup (markup), label);
    }
  return label;
}

static void
paint_lifelines (AppLadderView *self,
                 cairo_t       *cr,
                 const GdkRGBA *lifeline,
                 double         width,
                 double         height)
{
  gdk_cairo_set_source_rgba (cr, lifeline);
  cairo_set_line_width (cr, 2 * line_scale (GTK_WIDGET (self)));
  for (guint i = 0; i < self->columns->len; i++)
    {
      double x = column_x (self, self->columns->pdata[i], width);

      cairo_move_to (cr, x, 0);
      cairo_line_to (cr, x, height);
    }
  cairo_stroke (cr);
}

/* The first line drawn after trace event @index (view->len: after them all). */
static guint
view_boundary (AppLadderView *self,
               guint64        index)
{
  guint lo = 0, hi = self->view->len;

  /* The lines are in trace order (collapsed, each at its latest packet). */
  while (lo < hi)
    {
      guint mid = (lo + hi) / 2;
      ViewRow *v = &g_array_index (self->view, ViewRow, mid);

      if (g_array_index (self->rows, Row, v->row).sent->index > index)
        hi = mid;
      else
        lo = mid + 1;
    }
  return lo;
}

/* The first mark after trace event @index. */
static guint
first_mark_after (AppLadderView *self,
                  guint64        index)
{
  guint lo = 0, hi = self->marks->len;

  while (lo < hi)
    {
      guint mid = (lo + hi) / 2;

      if (((SimEvent *) self->marks->pdata[mid])->index > index)
        hi = mid;
      else
        lo = mid + 1;
    }
  return lo;
}

/*
 * The registrar's binding events between lines @first..@last, as marks on its lifeline at the
 * top of the first line drawn after them: a diamond and "alice expired", so a binding that
 * disappears says when and why.  Several at one place stand side by side.
 */
static void
paint_marks (AppLadderView *self,
             cairo_t       *cr,
             GtkWidget     *widget,
             double         width,
             guint          first,
             guint          last)
{
  guint64 lo = first > 0 ? g_array_index (self->rows, Row,
                                          g_array_index (self->view, ViewRow, first - 1).row).sent->index
                         : 0;
  guint boundary = G_MAXUINT;
  double x = 0;

  for (guint i = first > 0 ? first_mark_after (self, lo) : 0; i < self->marks->len; i++)
    {
      SimEvent *mark = self->marks->pdata[i];
      guint b = view_boundary (self, mark->index);
      const char *user = mark->aor && g_str_has_prefix (mark->aor, "sip:") ? mark->aor + 4 : mark->aor;
      g_autofree char *name = user ? g_strndup (user, strcspn (user, "@")) : g_strdup ("?");
      g_autofree char *markup = NULL;
      PangoLayout *label;
      double lane = column_x (self, mark->node, width);
      double y;
      GdkRGBA colour;
      int tw, th;

      if (b > last || mark->index >= self->reveal_limit)
        break;
      if (lane < 0)
        continue;
      if (b != boundary)
        {
          boundary = b;
          x = lane;
        }
      y = (b - first) * (double) self->row_height + MARK_HEIGHT / 2.0;
      app_lookup_color (widget, g_str_equal (mark->action, "expired") ? "packet_dropped"
                                : g_str_equal (mark->action, "removed") ? "packet_challenge"
                                : "packet_ok", "#888888", &colour);
      gdk_cairo_set_source_rgba (cr, &colour);
      cairo_move_to (cr, lane, y - 6);
      cairo_line_to (cr, lane + 6, y);
      cairo_line_to (cr, lane, y + 6);
      cairo_line_to (cr, lane - 6, y);
      cairo_close_path (cr);
      cairo_fill (cr);
      {
        g_autofree char *when = sim_export_time_string (mark->t);

        /* TRANSLATORS: a binding mark on the registrar's line: "alice expired at 460.432s". */
        markup = g_markup_printf_escaped (_("<span size='small'><b>%s</b> %s "
                                            "<span alpha='60%%'>at %s</span></span>"), name,
                                          g_dpgettext2 (GETTEXT_PACKAGE, "trace action",
                                                        mark->action), when);
      }
      label = label_layout (self, widget, markup);
      pango_layout_get_pixel_size (label, &tw, &th);
      cairo_move_to (cr, x + 10, y - th / 2.0);
      pango_cairo_show_layout (cr, label);
      x += tw + 14;
    }
}

/*
 * The ladder's rows @first..@last (exclusive) onto any cairo_t, row @first at y = 0 and the
 * lifelines from 0 to @height: the widget draws the rows in view, the exporters every row onto
 * an SVG or PNG surface.  Colours and fonts come from @widget's style, so the export looks like
 * the screen.
 */
static void
paint_rows (AppLadderView *self,
            cairo_t       *cr,
            GtkWidget     *widget,
            double         width,
            double         height,
            guint          first,
            guint          last,
            int            selected_row)
{
  GdkRGBA dim, lifeline, selected, red;
  int row_height = self->row_height;

  check_label_font (self, widget);

  app_lookup_color (widget, "ladder_dim", "#777777", &dim);
  app_lookup_color (widget, "link_color", "#c0c0c0", &lifeline);
  app_lookup_color (widget, "ladder_selected", "#dbe8fb", &selected);
  app_lookup_color (widget, "packet_dropped", "#e01b24", &red);

  paint_lifelines (self, cr, &lifeline, width, height);

  for (guint i = first; i < last && i < self->view->len; i++)
    {
      ViewRow *view_row = &g_array_index (self->view, ViewRow, i);
      Row *row = &g_array_index (self->rows, Row, view_row->row);
      /* Relative to row @first: the widget translates the snapshot there (see draw_body). */
      double y0 = (i - first) * (double) row_height;
      char from[64], to[64];
      double x1 = column_x (self, end_column (self, row->sent, FALSE, from, sizeof from), width);
      double x2 = column_x (self, end_column (self, row->sent, TRUE, to, sizeof to), width);
      gboolean dropped = row->end != NULL && g_strcmp0 (row->end->action, "dropped") == 0;
      gboolean retransmitted = g_strcmp0 (row->sent->action, "retransmitted") == 0;
      PangoLayout *label;
      g_autoptr(PangoLayout) time = NULL;
      g_autofree char *text = app_packet_short_label (row->sent);
      g_autofree char *markup = NULL;
      g_autofree char *seconds = NULL;
      GdkRGBA colour;
      guint cseq;
      int tw, th;

      if ((int) i == selected_row)
        {
          gdk_cairo_set_source_rgba (cr, &selected);
          cairo_rectangle (cr, 0, y0, width, row_height);
          cairo_fill (cr);
        }

      seconds = sim_export_time_string (row->sent->t);
      time = gtk_widget_create_pango_layout (widget, seconds);
      pango_layout_get_pixel_size (time, &tw, &th);
      gdk_cairo_set_source_rgba (cr, &dim);
      cairo_move_to (cr, self->time_width - 14 - tw, y0 + row_height - 8 - th);
      pango_cairo_show_layout (cr, time);

      if (x1 < 0 || x2 < 0 || x1 == x2)
        continue;

      app_lookup_color (widget, app_packet_kind_color_name (app_packet_kind (row->sent)),
                        "#888888", &colour);
      cseq = row->sent->cseq ? (guint) g_ascii_strtoull (row->sent->cseq, NULL, 10) : 0;
      if (view_row->refresh)
        markup = g_markup_printf_escaped (_("⟳ <b>refreshed ×%u</b> · %s "
                                            "<span size='small' alpha='60%%'>CSeq %u</span>"),
                                          view_row->count, text, cseq);
      else
        markup = g_markup_printf_escaped ("<b>%s</b>%s "
                                          "<span size='small' alpha='60%%'>CSeq %u</span>",
                                          text, retransmitted ? _(" (again)") : "", cseq);
      if (row->sent->tls)
        {
          char *tagged = g_strconcat (markup, TLS_TAG, NULL);

          g_free (markup);
          markup = tagged;
        }
      label = label_layout (self, widget, markup);
      pango_layout_get_pixel_size (label, &tw, &th);
      gdk_cairo_set_source_rgba (cr, &colour);
      cairo_move_to (cr, (x1 + x2) / 2 - tw / 2.0, y0 + row_height - 12 - th);
      pango_cairo_show_layout (cr, label);

      cairo_set_line_width (cr, 3 * line_scale (widget));
      if (retransmitted || view_row->refresh)
        cairo_set_dash (cr, (double[]) { 8, 5 }, 2, 0);
      if (dropped)
        {
          double xm = row->end->t == row->sent->t ? (x1 + x2) / 2 : x2 - (x2 > x1 ? 20 : -20);

          draw_dropped_arrow (cr, x1, xm, y0 + row_height - 8, &red);
        }
      else
        draw_arrow (cr, x1, x2, y0 + row_height - 8);
      cairo_set_dash (cr, NULL, 0, 0);
    }
  paint_marks (self, cr, widget, width, first, last);
}

/* Two lines of the body's font: the label above the arrow, and the arrow with the time. */
static int
measure_row_height (AppLadderView *self)
{
  PangoContext *context = gtk_widget_get_pango_context (GTK_WIDGET (self->body));
  g_autofree char *font = pango_font_description_to_string (pango_context_get_font_description (context));
  g_autoptr(PangoLayout) layout = NULL;
  g_autoptr(PangoLayout) time = NULL;
  int th, tw;

  /* Measured again only in another font: every new row asks. */
  if (g_strcmp0 (font, self->measured_font) == 0)
    return self->measured_height;
  layout = gtk_widget_create_pango_layout (GTK_WIDGET (self->body), "Ag");
  time = gtk_widget_create_pango_layout (GTK_WIDGET (self->body), "10000.000s");
  pango_layout_get_pixel_size (layout, NULL, &th);
  /* Presentation mode: the times grow with the font and must not be cut at the left. */
  pango_layout_get_pixel_size (time, &tw, NULL);
  self->time_width = MAX (MIN_TIME_WIDTH, tw + 24);
  g_free (self->measured_font);
  self->measured_font = g_steal_pointer (&font);
  self->measured_height = MAX (MIN_ROW_HEIGHT, th + 30);
  return self->measured_height;
}

static void     update_size      (AppLadderView *self);
static gboolean scroll_to_end_cb (gpointer       user_data);

/* Where the last row ends: what "the end" means for scrolling. */
static guint view_boundary (AppLadderView *self, guint64 index);

/* Below the last line: room for the marks that came after it (a binding that expired). */
static int
rows_bottom (AppLadderView *self)
{
  gboolean trailing = self->marks->len > 0 &&
                      view_boundary (self, ((SimEvent *) g_ptr_array_index (self->marks,
                                                                            self->marks->len - 1))->index) ==
                      self->view->len;

  return self->view->len * self->row_height + 8 + (trailing ? MARK_HEIGHT : 0);
}

static gboolean
resize_cb (gpointer user_data)
{
  AppLadderView *self = user_data;

  gboolean follow = self->follow;

  self->resize_idle_id = 0;
  update_size (self);
  /* Taller rows moved the newest one out of view: a follower stays a follower. */
  if (follow)
    {
      self->follow = TRUE;
      if (self->scroll_idle_id == 0)
        self->scroll_idle_id = g_idle_add_full (G_PRIORITY_HIGH_IDLE + 20, scroll_to_end_cb, self,
                                                NULL);
    }
  return G_SOURCE_REMOVE;
}

/*
 * Which rows of the body are in view, and where the drawing of them starts and ends (body
 * coordinates).  The body is as tall as all the rows, so the clip says nothing; the scrolled
 * window's adjustment does (and a scroll redraws, see adjustment_value_changed_cb).
 */
static void
visible_rows (AppLadderView *self,
              double         body_height,
              guint         *first,
              guint         *last,
              double        *top,
              double        *bottom)
{
  GtkAdjustment *adjustment = gtk_scrolled_window_get_vadjustment (self->scroller);
  double page = gtk_adjustment_get_page_size (adjustment);
  double y1 = 0, y2 = body_height;

  if (page > 0)
    {
      y1 = MAX (gtk_adjustment_get_value (adjustment) - self->row_height, 0);
      y2 = MIN (gtk_adjustment_get_value (adjustment) + page + self->row_height, body_height);
    }
  *first = MIN ((guint) (y1 / self->row_height), self->view->len);
  *last = MIN ((guint) (y2 / self->row_height) + 1, self->view->len);
  *top = *first * (double) self->row_height;
  *bottom = MAX (y2, *top);
}

/*
 * The body: only the rows in view (a long session has thousands), drawn into a cairo node
 * that starts at the first of them.  Drawing the whole body into one cairo node put rows at
 * y of tens or hundreds of thousands of pixels, and under GSK_RENDERER=cairo the lines and the
 * selection band (paths) drifted away from their text (glyphs), most likely past the 16-bit
 * integer range cairo/pixman rasterise paths in.  Here cairo only sees a page's worth of y.
 */
static void
draw_body (AppLadderView *self,
           GtkWidget     *body,
           GtkSnapshot   *snapshot)
{
  double width = gtk_widget_get_width (body);
  double height = gtk_widget_get_height (body);
  double top, bottom;
  guint first, last;
  GskRenderNode *cairo_node, *node;
  GskTransform *transform;
  cairo_t *cr;

  if (self->world == NULL || width <= 0 || height <= 0)
    return;

  /* The font changed (presentation mode): rows grow, once this frame is over. */
  if (measure_row_height (self) != self->row_height && self->resize_idle_id == 0)
    self->resize_idle_id = g_idle_add (resize_cb, self);

  visible_rows (self, height, &first, &last, &top, &bottom);
  if (bottom <= top)
    return;
  /*
   * Not gtk_snapshot_translate() + gtk_snapshot_append_cairo(): the snapshot folds a
   * translation into the cairo node's bounds, and the node's recording surface would be at
   * y = top again.  A transform node of its own keeps the cairo node at y = 0.
   */
  cairo_node = gsk_cairo_node_new (&GRAPHENE_RECT_INIT (0, 0, width, bottom - top));
  cr = gsk_cairo_node_get_draw_context (cairo_node);
  paint_rows (self, cr, body, width, bottom - top, first, last, self->selected);
  cairo_destroy (cr);
  /* NULL when top is 0: the identity. */
  transform = gsk_transform_translate (NULL, &GRAPHENE_POINT_INIT (0, top));
  node = transform != NULL ? gsk_transform_node_new (cairo_node, transform)
                           : gsk_render_node_ref (cairo_node);
  gtk_snapshot_append_node (snapshot, node);
  gsk_render_node_unref (node);
  gsk_transform_unref (transform);
  gsk_render_node_unref (cairo_node);
}

#define APP_TYPE_LADDER_BODY (app_ladder_body_get_type ())
G_DECLARE_FINAL_TYPE (AppLadderBody, app_ladder_body, APP, LADDER_BODY, GtkDrawingArea)

/* A GtkDrawingArea (for its content height) whose snapshot is draw_body()'s. */
struct _AppLadderBody {
  GtkDrawingArea parent_instance;
};

G_DEFINE_FINAL_TYPE (AppLadderBody, app_ladder_body, GTK_TYPE_DRAWING_AREA)

static void
app_ladder_body_snapshot (GtkWidget   *widget,
                          GtkSnapshot *snapshot)
{
  GtkWidget *view = gtk_widget_get_ancestor (widget, APP_TYPE_LADDER_VIEW);

  if (view != NULL)
    draw_body (APP_LADDER_VIEW (view), widget, snapshot);
}

static void
app_ladder_body_class_init (AppLadderBodyClass *klass)
{
  GTK_WIDGET_CLASS (klass)->snapshot = app_ladder_body_snapshot;
}

static void
app_ladder_body_init (AppLadderBody *self)
{
}

static gboolean
is_register_family (const Row *row)
{
  return g_strcmp0 (row->sent->method, "REGISTER") == 0 && row->sent->call_id != NULL;
}

/*
 * What the ladder shows.  Collapsed, every REGISTER exchange of a registration that already
 * succeeded once (same Call-ID: RFC 3261 §10.2.4 refreshes keep it) folds into one line per
 * registration, which moves down to where its latest packet is and counts the 200 OKs.
 */
static void
rebuild_view (AppLadderView *self)
{
  g_autoptr(GHashTable) registered = NULL;
  g_autoptr(GHashTable) groups = NULL;
  g_autoptr(GArray) view = NULL;

  g_array_set_size (self->view, 0);
  if (!self->collapse)
    {
      for (guint i = 0; i < self->rows->len; i++)
        {
          ViewRow v = { i, 0, FALSE };

          if (g_array_index (self->rows, Row, i).sent->index >= self->reveal_limit)
            break;
          g_array_append_val (self->view, v);
        }
      return;
    }

  registered = g_hash_table_new (g_str_hash, g_str_equal);
  groups = g_hash_table_new (g_str_hash, g_str_equal);    /* Call-ID -> view index + 1 */
  view = g_array_new (FALSE, FALSE, sizeof (ViewRow));
  for (guint i = 0; i < self->rows->len; i++)
    {
      Row *row = &g_array_index (self->rows, Row, i);
      ViewRow v = { i, 0, FALSE };

      if (row->sent->index >= self->reveal_limit)
        break;
      if (is_register_family (row) && g_hash_table_contains (registered, row->sent->call_id))
        {
          guint at = GPOINTER_TO_UINT (g_hash_table_lookup (groups, row->sent->call_id));

          v.refresh = TRUE;
          if (at > 0)
            {
              ViewRow *old = &g_array_index (view, ViewRow, at - 1);

              v.count = old->count;
              old->row = G_MAXUINT;    /* superseded */
            }
          if (row->sent->status >= 200 && row->sent->status < 300)
            v.count++;
          g_array_append_val (view, v);
          g_hash_table_insert (groups, row->sent->call_id, GUINT_TO_POINTER (view->len));
          continue;
        }
      if (is_register_family (row) && row->sent->status >= 200 && row->sent->status < 300)
        g_hash_table_add (registered, row->sent->call_id);
      g_array_append_val (view, v);
    }
  for (guint i = 0; i < view->len; i++)
    if (g_array_index (view, ViewRow, i).row != G_MAXUINT)
      g_array_append_val (self->view, g_array_index (view, ViewRow, i));
}

/* Still, or paced and in the window's slot: a scroll or a growth may go ahead now. */
static gboolean
slot_open (AppLadderView *self)
{
  return !self->paced || g_get_monotonic_time () - self->caught_up <= CATCH_UP_GRACE;
}

static void
update_size (AppLadderView *self)
{
  int used, height;

  height = measure_row_height (self);
  /* Another font (presentation mode): the labels are laid out anew. */
  if (height != self->row_height)
    g_hash_table_remove_all (self->label_layouts);
  self->row_height = height;
  used = rows_bottom (self);
  /*
   * The body grows by a page of rows at a time: a new size means a new layout of the window,
   * which at fast-forward would otherwise be every frame.  Following scrolls to the last row,
   * not to the end of the spare space.
   */
  height = (used / (ROWS_PER_GROWTH * self->row_height) + 1) * ROWS_PER_GROWTH * self->row_height;
  /* Growing, or shrinking after old rows were dropped (live), waits for the window's slot. */
  if (height != gtk_drawing_area_get_content_height (self->body) && !slot_open (self))
    self->grow_pending = TRUE;
  else if (gtk_drawing_area_get_content_height (self->body) != height)
    gtk_drawing_area_set_content_height (self->body, height);
  else if (self->follow && self->scroll_idle_id == 0)
    self->scroll_idle_id = g_idle_add_full (G_PRIORITY_HIGH_IDLE + 20, scroll_to_end_cb, self,
                                            NULL);
  gtk_widget_queue_draw (GTK_WIDGET (self->body));
  gtk_widget_queue_draw (GTK_WIDGET (self->header));
}

/* The header's time column counts the rows no longer kept. */
static void
update_earlier (AppLadderView *self)
{
  gtk_widget_queue_draw (GTK_WIDGET (self->header));
}

/*
 * Drops the oldest rows down to max_rows.  Done in batches (an eighth of the limit over it) so
 * the copy and the view rebuild happen once per hundreds of packets, not for every one.
 */
static void
trim_rows (AppLadderView *self)
{
  guint max_rows = self->max_rows;
  guint n;

  if (max_rows == 0 || self->rows->len <= max_rows)
    return;
  n = self->rows->len - max_rows;
  g_array_remove_range (self->rows, 0, n);
  self->n_earlier += n;
  /* The marks before the first line kept go with it. */
  g_ptr_array_remove_range (self->marks, 0,
                            first_mark_after (self, g_array_index (self->rows, Row, 0).sent->index));
  self->selected = self->selected >= (int) n ? self->selected - (int) n : -1;
  rebuild_view (self);
  update_columns (self);
  update_earlier (self);
}

/*
 * Live mode: what a real phone sends is traced once, when the registrar's socket receives it
 * ("delivered" or "dropped" from a host SimNet does not have); it is a row of its own.
 */
static gboolean
is_from_real_network (AppLadderView *self,
                      SimEvent      *event)
{
  return app_packet_is_end (event) && sim_world_get_transport (self->world) != NULL &&
         event->from != NULL && !sim_net_has_host (sim_world_get_net (self->world), event->from);
}

static void
trace_event_cb (AppLadderView *self,
                SimEvent      *event,
                SimTrace      *trace)
{
  gboolean received = is_from_real_network (self, event);

  if (app_packet_is_send (event) || received)
    {
      Row row = { sim_event_ref (event), received ? sim_event_ref (event) : NULL };
      char from_buffer[64], to_buffer[64];
      const char *from = end_column (self, event, FALSE, from_buffer, sizeof from_buffer);
      const char *to = end_column (self, event, TRUE, to_buffer, sizeof to_buffer);
      gboolean new_column = !g_ptr_array_find_with_equal_func (self->columns, from,
                                                               g_str_equal, NULL) ||
                            !g_ptr_array_find_with_equal_func (self->columns, to,
                                                               g_str_equal, NULL);

      /* A real phone's address now has a user's name: its column says so from now on. */
      if (from == from_buffer && g_strcmp0 (event->from, from) != 0)
        {
          g_hash_table_replace (self->column_labels, g_strdup (from), g_strdup (event->from));
          gtk_widget_queue_draw (GTK_WIDGET (self->header));
        }
      if (to == to_buffer && g_strcmp0 (event->to, to) != 0)
        {
          g_hash_table_replace (self->column_labels, g_strdup (to), g_strdup (event->to));
          gtk_widget_queue_draw (GTK_WIDGET (self->header));
        }

      g_array_append_val (self->rows, row);
      if (self->max_rows > 0 && self->rows->len > self->max_rows + self->max_rows / 8)
        trim_rows (self);
      else if (self->collapse || event->index >= self->reveal_limit)
        rebuild_view (self);
      else
        {
          ViewRow v = { self->rows->len - 1, 0, FALSE };

          g_array_append_val (self->view, v);
        }
      if (new_column)
        update_columns (self);
      update_size (self);
    }
  else if (app_packet_is_end (event))
    {
      /* Newest rows first would be faster, but the oldest open send is the right match. */
      for (guint i = 0; i < self->rows->len; i++)
        {
          Row *row = &g_array_index (self->rows, Row, i);

          if (row->end == NULL && app_packet_ends (row->sent, event))
            {
              row->end = sim_event_ref (event);
              gtk_widget_queue_draw (GTK_WIDGET (self->body));
              break;
            }
        }
    }
  else if (event->type == SIM_EVENT_NODE)
    {
      update_columns (self);
      update_size (self);
    }
  else if (event->type == SIM_EVENT_BINDING && event->node != NULL &&
           (g_strcmp0 (event->action, "expired") == 0 ||
            g_strcmp0 (event->action, "removed") == 0 ||
            g_strcmp0 (event->action, "refreshed") == 0))
    {
      g_ptr_array_add (self->marks, sim_event_ref (event));
      update_size (self);
    }
}

static gboolean
scroll_to_end_cb (gpointer user_data)
{
  AppLadderView *self = user_data;
  GtkAdjustment *adjustment = gtk_scrolled_window_get_vadjustment (self->scroller);

  self->scroll_idle_id = 0;
  if (!slot_open (self))
    {
      self->scroll_pending = TRUE;
      return G_SOURCE_REMOVE;
    }
  gtk_adjustment_set_value (adjustment,
                            MAX (rows_bottom (self) - gtk_adjustment_get_page_size (adjustment),
                                 0));
  self->follow = TRUE;
  return G_SOURCE_REMOVE;
}

static void
adjustment_changed_cb (AppLadderView *self,
                       GtkAdjustment *adjustment)
{
  /*
   * The scrolled window reconfigures the adjustment while it allocates, and resets the value
   * afterwards: scroll once that is over.
   */
  if (self->follow && self->scroll_idle_id == 0)
    self->scroll_idle_id = g_idle_add_full (G_PRIORITY_HIGH_IDLE + 20, scroll_to_end_cb, self,
                                            NULL);
}

static void
adjustment_value_changed_cb (AppLadderView *self,
                             GtkAdjustment *adjustment)
{
  /* Only the rows in view were drawn. */
  gtk_widget_queue_draw (GTK_WIDGET (self->body));

  /* Keep following the newest row only while the user stays at the bottom. */
  if (self->scroll_idle_id != 0)
    return;
  self->follow = gtk_adjustment_get_value (adjustment) + gtk_adjustment_get_page_size (adjustment)
                 >= rows_bottom (self) - self->row_height / 2.0;
}

static void
pressed_cb (GtkGestureClick *gesture,
            int              n_press,
            double           x,
            double           y,
            AppLadderView   *self)
{
  guint row = y / self->row_height;

  gtk_widget_grab_focus (GTK_WIDGET (self->body));
  if (row < self->view->len)
    app_ladder_view_select_row (self, row);
}

/*
 * Keyboard: Up and Down select the line above or below (from none: the last or the first),
 * Enter asks to inspect it ("row-activated": the window moves the focus to the inspector).
 * Shortcuts rather than a key handler, so they are listed and tests can find them.
 */
static gboolean
select_key_cb (GtkWidget *widget,
               GVariant  *args,
               gpointer   user_data)
{
  AppLadderView *self = APP_LADDER_VIEW (gtk_widget_get_ancestor (widget, APP_TYPE_LADDER_VIEW));
  int step = GPOINTER_TO_INT (user_data);
  int row = self->selected;

  if (self->view->len == 0)
    return FALSE;
  if (row < 0)
    row = step > 0 ? 0 : (int) self->view->len - 1;
  else
    row = CLAMP (row + step, 0, (int) self->view->len - 1);
  app_ladder_view_select_row (self, row);
  reveal_selected (self);
  return TRUE;
}

static gboolean
activate_key_cb (GtkWidget *widget,
                 GVariant  *args,
                 gpointer   user_data)
{
  AppLadderView *self = APP_LADDER_VIEW (gtk_widget_get_ancestor (widget, APP_TYPE_LADDER_VIEW));

  if (self->selected < 0)
    return FALSE;
  g_signal_emit (self, signals[ROW_ACTIVATED], 0, self->selected);
  return TRUE;
}

static void
add_body_keys (AppLadderView *self)
{
  GtkEventController *controller = gtk_shortcut_controller_new ();
  GtkShortcutController *keys = GTK_SHORTCUT_CONTROLLER (controller);
  const struct { guint keyval; GtkShortcutFunc func; int step; } bindings[] = {
    { GDK_KEY_Up, select_key_cb, -1 },
    { GDK_KEY_KP_Up, select_key_cb, -1 },
    { GDK_KEY_Down, select_key_cb, 1 },
    { GDK_KEY_KP_Down, select_key_cb, 1 },
    { GDK_KEY_Return, activate_key_cb, 0 },
    { GDK_KEY_KP_Enter, activate_key_cb, 0 },
    { GDK_KEY_ISO_Enter, activate_key_cb, 0 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (bindings); i++)
    gtk_shortcut_controller_add_shortcut (keys,
      gtk_shortcut_new (gtk_keyval_trigger_new (bindings[i].keyval, 0),
                        gtk_callback_action_new (bindings[i].func,
                                                 GINT_TO_POINTER (bindings[i].step), NULL)));
  gtk_widget_add_controller (GTK_WIDGET (self->body), controller);
}

/* The selected line scrolled into view, for the keyboard. */
static void
reveal_selected (AppLadderView *self)
{
  GtkAdjustment *adjustment = gtk_scrolled_window_get_vadjustment (self->scroller);
  double top = self->selected * (double) self->row_height;
  double value = gtk_adjustment_get_value (adjustment);
  double page = gtk_adjustment_get_page_size (adjustment);

  if (top < value)
    gtk_adjustment_set_value (adjustment, top);
  else if (top + self->row_height > value + page)
    gtk_adjustment_set_value (adjustment, top + self->row_height - page);
}

static void
app_ladder_view_dispose (GObject *object)
{
  AppLadderView *self = APP_LADDER_VIEW (object);
  GtkWidget *child;

  app_ladder_view_set_world (self, NULL);
  g_clear_handle_id (&self->scroll_idle_id, g_source_remove);
  g_clear_handle_id (&self->resize_idle_id, g_source_remove);
  g_clear_handle_id (&self->header_idle_id, g_source_remove);
  gtk_widget_dispose_template (GTK_WIDGET (self), APP_TYPE_LADDER_VIEW);
  /* dispose_template() only drops the children bound by name; the layout boxes go too. */
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))) != NULL)
    gtk_widget_unparent (child);
  G_OBJECT_CLASS (app_ladder_view_parent_class)->dispose (object);
}

static void
app_ladder_view_finalize (GObject *object)
{
  AppLadderView *self = APP_LADDER_VIEW (object);

  g_clear_pointer (&self->rows, g_array_unref);
  g_clear_pointer (&self->view, g_array_unref);
  g_clear_pointer (&self->marks, g_ptr_array_unref);
  g_clear_pointer (&self->label_layouts, g_hash_table_unref);
  g_clear_pointer (&self->label_font, g_free);
  g_clear_pointer (&self->columns, g_ptr_array_unref);
  g_clear_pointer (&self->titles, g_array_unref);
  g_clear_pointer (&self->titles_key, g_free);
  g_clear_pointer (&self->measured_font, g_free);
  g_clear_pointer (&self->column_labels, g_hash_table_unref);
  G_OBJECT_CLASS (app_ladder_view_parent_class)->finalize (object);
}

static void
app_ladder_view_class_init (AppLadderViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = app_ladder_view_dispose;
  object_class->finalize = app_ladder_view_finalize;

  signals[PACKET_SELECTED] =
    g_signal_new ("packet-selected", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 1, SIM_TYPE_EVENT | G_SIGNAL_TYPE_STATIC_SCOPE);

  signals[ROW_ACTIVATED] =
    g_signal_new ("row-activated", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_INT);

  g_type_ensure (APP_TYPE_LADDER_BODY);
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/siplab/SipLab/app-ladder-view.ui");
  gtk_widget_class_bind_template_child (widget_class, AppLadderView, header);
  gtk_widget_class_bind_template_child (widget_class, AppLadderView, scroller);
  gtk_widget_class_bind_template_child (widget_class, AppLadderView, body);
  gtk_widget_class_set_css_name (widget_class, "ladderview");
}

static void
app_ladder_view_init (AppLadderView *self)
{
  GtkGesture *click;
  GtkAdjustment *adjustment;

  gtk_widget_init_template (GTK_WIDGET (self));

  self->rows = g_array_new (FALSE, TRUE, sizeof (Row));
  g_array_set_clear_func (self->rows, row_clear);
  self->view = g_array_new (FALSE, FALSE, sizeof (ViewRow));
  self->marks = g_ptr_array_new_with_free_func ((GDestroyNotify) sim_event_unref);
  self->row_height = MIN_ROW_HEIGHT;
  self->time_width = MIN_TIME_WIDTH;
  self->label_layouts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
  self->columns = g_ptr_array_new_with_free_func (g_free);
  self->column_labels = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->selected = -1;
  self->reveal_limit = G_MAXUINT64;
  self->follow = TRUE;

  gtk_drawing_area_set_draw_func (self->header, draw_header_cb, self, NULL);
  self->titles = g_array_new (FALSE, TRUE, sizeof (Title));
  g_array_set_clear_func (self->titles, title_clear);
  gtk_widget_set_has_tooltip (GTK_WIDGET (self->header), TRUE);
  g_signal_connect (self->header, "query-tooltip", G_CALLBACK (header_query_tooltip_cb), self);

  click = gtk_gesture_click_new ();
  g_signal_connect (click, "pressed", G_CALLBACK (pressed_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self->body), GTK_EVENT_CONTROLLER (click));

  add_body_keys (self);
  /* The ladder is drawn: say what it is, and (see app_ladder_view_select_row) which line. */
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->body),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Ladder diagram"),
                                  GTK_ACCESSIBLE_PROPERTY_DESCRIPTION,
                                  _("One line per message, time going down. Up and Down "
                                    "select a message, Enter inspects it."), -1);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->header),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Ladder columns"), -1);

  adjustment = gtk_scrolled_window_get_vadjustment (self->scroller);
  g_signal_connect_object (adjustment, "changed", G_CALLBACK (adjustment_changed_cb), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (adjustment, "value-changed", G_CALLBACK (adjustment_value_changed_cb),
                           self, G_CONNECT_SWAPPED);
}

GtkWidget *
app_ladder_view_new (void)
{
  return g_object_new (APP_TYPE_LADDER_VIEW, NULL);
}

void
app_ladder_view_set_world (AppLadderView *self,
                           SimWorld      *world)
{
  g_return_if_fail (APP_IS_LADDER_VIEW (self));

  if (self->world == world)
    return;
  if (self->world != NULL)
    g_signal_handlers_disconnect_by_data (sim_world_get_trace (self->world), self);
  g_set_object (&self->world, world);
  g_array_set_size (self->rows, 0);
  g_array_set_size (self->view, 0);
  g_ptr_array_set_size (self->marks, 0);
  self->selected = -1;
  self->follow = TRUE;
  self->n_earlier = 0;
  g_hash_table_remove_all (self->column_labels);
  update_earlier (self);
  if (world != NULL)
    {
      GPtrArray *events = sim_trace_get_events (sim_world_get_trace (world));

      update_columns (self);
      for (guint i = 0; i < events->len; i++)
        trace_event_cb (self, events->pdata[i], NULL);
      g_signal_connect_object (sim_world_get_trace (world), "event",
                               G_CALLBACK (trace_event_cb), self, G_CONNECT_SWAPPED);
    }
  else
    g_ptr_array_set_size (self->columns, 0);
  update_size (self);
}

guint
app_ladder_view_get_n_rows (AppLadderView *self)
{
  g_return_val_if_fail (APP_IS_LADDER_VIEW (self), 0);
  return self->view->len;
}

SimEvent *
app_ladder_view_get_row (AppLadderView *self,
                         guint          row)
{
  g_return_val_if_fail (APP_IS_LADDER_VIEW (self), NULL);
  if (row >= self->view->len)
    return NULL;
  return g_array_index (self->rows, Row, g_array_index (self->view, ViewRow, row).row).sent;
}

guint
app_ladder_view_get_row_count (AppLadderView *self,
                               guint          row)
{
  g_return_val_if_fail (APP_IS_LADDER_VIEW (self), 0);
  if (row >= self->view->len)
    return 0;
  return g_array_index (self->view, ViewRow, row).count;
}

void
app_ladder_view_select_row (AppLadderView *self,
                            int            row)
{
  g_return_if_fail (APP_IS_LADDER_VIEW (self));

  if (row >= (int) self->view->len)
    row = -1;
  self->selected = row;
  gtk_widget_queue_draw (GTK_WIDGET (self->body));
  if (row >= 0)
    {
      SimEvent *sent = app_ladder_view_get_row (self, row);
      g_autofree char *label = app_packet_short_label (sent);
      g_autofree char *when = sim_export_time_string (sent->t);
      g_autofree char *text = g_strdup_printf (_("Line %d of %u: %s from %s to %s at %s"), row + 1,
                                               self->view->len, label,
                                               sent->from ? sent->from : "?",
                                               sent->to ? sent->to : "?", when);

      gtk_accessible_update_property (GTK_ACCESSIBLE (self->body),
                                      GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, text, -1);
    }
  g_signal_emit (self, signals[PACKET_SELECTED], 0,
                 row >= 0 ? app_ladder_view_get_row (self, row) : NULL);
}

int
app_ladder_view_get_selected (AppLadderView *self)
{
  g_return_val_if_fail (APP_IS_LADDER_VIEW (self), -1);
  return self->selected;
}

void
app_ladder_view_set_collapse_refreshes (AppLadderView *self,
                                        gboolean       collapse)
{
  g_return_if_fail (APP_IS_LADDER_VIEW (self));

  collapse = !!collapse;
  if (self->collapse == collapse)
    return;
  self->collapse = collapse;
  rebuild_view (self);
  self->selected = -1;
  self->follow = TRUE;
  update_size (self);
}

gboolean
app_ladder_view_get_collapse_refreshes (AppLadderView *self)
{
  g_return_val_if_fail (APP_IS_LADDER_VIEW (self), FALSE);
  return self->collapse;
}

gboolean
app_ladder_view_export (AppLadderView    *self,
                        const char       *path,
                        AppLadderFormat   format,
                        GError          **error)
{
  GtkWidget *body = GTK_WIDGET (self->body);
  GtkWidget *header = GTK_WIDGET (self->header);
  double width = MAX (gtk_widget_get_width (body), 900);
  double header_height = MAX (gtk_widget_get_height (header), 44);
  guint n = self->view->len;
  double height;
  cairo_surface_t *surface;
  cairo_t *cr;
  cairo_status_t status;
  GdkRGBA bg, header_bg;

  g_return_val_if_fail (APP_IS_LADDER_VIEW (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  if (self->world == NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED, _("There is no session to export"));
      return FALSE;
    }
  if (format == APP_LADDER_FORMAT_PNG)
    n = MIN (n, (guint) ((MAX_PNG_HEIGHT - header_height - 8) / self->row_height));
  height = header_height + n * (double) self->row_height + 8;

  if (format == APP_LADDER_FORMAT_SVG)
    surface = cairo_svg_surface_create (path, width, height);
  else
    surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, (int) width, (int) height);
  cr = cairo_create (surface);

  app_lookup_color (body, "ladder_bg", "#ffffff", &bg);
  app_lookup_color (header, "pane_bg", "#f6f5f4", &header_bg);
  gdk_cairo_set_source_rgba (cr, &bg);
  cairo_paint (cr);
  gdk_cairo_set_source_rgba (cr, &header_bg);
  cairo_rectangle (cr, 0, 0, width, header_height);
  cairo_fill (cr);
  paint_header (self, cr, header, width, header_height);
  cairo_translate (cr, 0, header_height);
  paint_rows (self, cr, body, width, height - header_height, 0, n, -1);
  cairo_destroy (cr);

  if (format == APP_LADDER_FORMAT_PNG)
    status = cairo_surface_write_to_png (surface, path);
  else
    {
      cairo_surface_finish (surface);
      status = cairo_surface_status (surface);
    }
  cairo_surface_destroy (surface);
  if (status != CAIRO_STATUS_SUCCESS)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, _("Cannot write %s: %s"), path,
                   cairo_status_to_string (status));
      return FALSE;
    }
  return TRUE;
}

/* ------------------------------------------------------------------------------------------ */
/* Lesson: what the student has been shown (app-lesson-pane.c)                                */

void
app_ladder_view_set_reveal_limit (AppLadderView *self,
                                  guint64        n_events)
{
  g_return_if_fail (APP_IS_LADDER_VIEW (self));

  if (self->reveal_limit == n_events)
    return;
  self->reveal_limit = n_events;
  rebuild_view (self);
  if (self->selected >= (int) self->view->len)
    self->selected = -1;
  update_size (self);
}

/* ------------------------------------------------------------------------------------------ */
/* Live: a registrar that runs for hours keeps the newest rows only                           */

void
app_ladder_view_set_paced (AppLadderView *self,
                           gboolean       paced)
{
  g_return_if_fail (APP_IS_LADDER_VIEW (self));

  self->paced = paced;
  /* Still again: what waited for a slot is done now. */
  if (!paced)
    app_ladder_view_catch_up (self);
}

void
app_ladder_view_catch_up (AppLadderView *self)
{
  gboolean grow = self->grow_pending, scroll = self->scroll_pending;

  g_return_if_fail (APP_IS_LADDER_VIEW (self));

  self->caught_up = g_get_monotonic_time ();
  self->grow_pending = self->scroll_pending = FALSE;
  /* A growth changes the adjustment as the body is allocated: the scroll follows then. */
  if (grow)
    update_size (self);
  else if (scroll && self->follow)
    {
      g_clear_handle_id (&self->scroll_idle_id, g_source_remove);
      scroll_to_end_cb (self);
    }
}

void
app_ladder_view_set_max_rows (AppLadderView *self,
                              guint          max_rows)
{
  g_return_if_fail (APP_IS_LADDER_VIEW (self));

  self->max_rows = max_rows;
  if (max_rows > 0 && self->rows->len > max_rows)
    {
      trim_rows (self);
      update_size (self);
    }
}

guint64
app_ladder_view_get_n_earlier (AppLadderView *self)
{
  g_return_val_if_fail (APP_IS_LADDER_VIEW (self), 0);
  return self->n_earlier;
}

gboolean
app_ladder_view_get_title_geometry (AppLadderView *self,
                                    guint          column,
                                    double         corners[8],
                                    double        *header_width,
                                    double        *header_height,
                                    gboolean      *ellipsized)
{
  Title *title;

  g_return_val_if_fail (APP_IS_LADDER_VIEW (self), FALSE);
  if (column >= self->titles->len || column >= self->columns->len)
    return FALSE;
  title = &g_array_index (self->titles, Title, column);
  memcpy (corners, title->corners, sizeof title->corners);
  *header_width = self->header_width;
  *header_height = gtk_drawing_area_get_content_height (self->header);
  *ellipsized = title->ellipsized;
  return TRUE;
}

guint
app_ladder_view_get_n_columns (AppLadderView *self)
{
  g_return_val_if_fail (APP_IS_LADDER_VIEW (self), 0);
  return self->columns->len;
}

guint
app_ladder_view_get_n_marks (AppLadderView *self)
{
  g_return_val_if_fail (APP_IS_LADDER_VIEW (self), 0);
  return self->marks->len;
}

SimEvent *
app_ladder_view_get_mark (AppLadderView *self,
                          guint          mark,
                          guint         *row)
{
  SimEvent *event;

  g_return_val_if_fail (APP_IS_LADDER_VIEW (self), NULL);
  if (mark >= self->marks->len)
    return NULL;
  event = self->marks->pdata[mark];
  if (row != NULL)
    *row = view_boundary (self, event->index);
  return event;
}
