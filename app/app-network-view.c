/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "app-network-view.h"
#include "sim-i18n.h"

#include <math.h>
#include <string.h>

#include "app-packet.h"
#include "sim-capture-world.h"

/*
 * The network as a picture: the registrar in the centre, every other host around it, and each
 * datagram of the trace as a token on its way from the "sent" event to the "delivered" or
 * "dropped" event that ends it.  Where a token is comes only from the trace and the session
 * clock; while a packet is still in flight its progress is the elapsed time over the link's
 * latency as the network is configured.
 *
 * Sniffers (sim-net.h) are drawn too: an eye on the link one watches, and for each a card in
 * the bottom-left corner with the packets it captured so far and the outcome of every offline
 * attack it ran (the crack verb: tries, time, and the password or why there was none).
 */

/* How long (virtual time) a dropped packet's red X stays on screen. */
#define DROP_LINGER SIM_MSEC (1500)

/* Live: real phones drawn one by one at most; the others share one "+N more" node. */
#define MAX_REAL_NODES 10
/* A capture's hosts drawn at most; the others still have their rows in the ladder. */
#define MAX_OBSERVED_NODES 12

/* Tokens kept at most: more than a picture can show. */
#define MAX_FLIGHTS 1024

/* Where the text of a sniffer's card starts, right of its eye (pixels). */
#define SNIFFER_CARD_TEXT_X 32
/* The sniffers' cards leave at least this height (pixels) to the hosts above them. */
#define SNIFFER_MIN_HOSTS_HEIGHT 230

/*
 * Zoom to fit: the hosts are laid out on a canvas made larger by 1 / zoom (and drawn smaller
 * by zoom) until every box is inside the view and none covers another, down to NODE_MIN_ZOOM.
 * Boxes keep NODE_FIT_MARGIN pixels from the edges and NODE_FIT_GAP from each other.
 */
#define NODE_MIN_ZOOM   0.4
#define NODE_ZOOM_STEP  0.92
#define NODE_FIT_MARGIN 6
#define NODE_FIT_GAP    6
/* Layouts tried at each zoom: squarish or plain ellipse, turned by half a step or not, two
 * columns of hosts either side of the server, and last, for a crowd (more than
 * NODE_CROWD_MIN hosts around the server: a registrar's day), a grid filled from the middle
 * outwards, so that hundreds of phones stand in rows around the registrar instead of piling
 * up along the edges. */
#define NODE_LAYOUT_VARIANTS 6
#define NODE_LAYOUT_COLUMNS  4
#define NODE_LAYOUT_CROWD    5
#define NODE_CROWD_MIN       16
/* A crowd may shrink further than NODE_MIN_ZOOM: every phone in view, its state in its colour,
 * beats legible names for a few of them (the accessible description lists them all). */
#define NODE_CROWD_MIN_ZOOM  0.2

/*
 * Below this zoom a host's name is too small to read from the back row (a crowd of 300 phones
 * is drawn at about 0.3): the host under the pointer, or the sender of the packet selected in
 * the ladder (keyboard included), is shown again at full size over its box, a spotlight.
 */
#define SPOTLIGHT_MAX_ZOOM   0.75

/* A packet of the real network is traced once, sent or received: it crosses its link this long. */
#define REAL_LINGER SIM_MSEC (400)

typedef struct {
  SimEvent *sent;
  SimEvent *end;          /* delivered/dropped, or NULL while in flight */
  gboolean real;          /* live: to or from the real network, traced once */
} Flight;

/* What one sniffer did, counted from its SIM_EVENT_CAPTURE events. */
typedef struct {
  guint n_captured;
  guint n_tls;            /* of which TLS records */
  GPtrArray *results;     /* char* markup, one line per user attacked (the latest attack) */
  GPtrArray *users;       /* char* the user of each line */
} SnifferInfo;

typedef struct {
  double x, y;
  double half_w, half_h;  /* the room laid out for the node's box (at least its size) */
} Point;

/*
 * The room each host's box is laid out for: the largest its box has been, rounded up to
 * LAYOUT_SIZE_QUANTUM pixels, in this view and style.  A box's size changes with its state's
 * words ("registering", "call: ringing"); laying the whole view out again for each (five
 * layouts tried at each zoom, and every link drawn again) was most of a 200-phone frame's
 * painting, and the boxes moved when a neighbour's words grew.  Laid out for the largest, the
 * view settles once every state has been seen, and a smaller box is drawn centred in its room.
 * A crowd (more than NODE_CROWD_MIN hosts besides the server) is laid out in a grid of cells
 * as large as its largest box anyway, so every host there gets the largest room: one phone's
 * new words no longer lay two hundred out again, only a larger box than any before.
 */
#define LAYOUT_SIZE_QUANTUM 8

typedef struct {
  double w, h;
} Size;

struct _AppNetworkView {
  GtkWidget parent_instance;

  SimWorld *world;
  GPtrArray *flights;     /* Flight* */

  /*
   * The hosts and links change far less often than packets move: they are drawn once into a
   * render node and reused while their description (@scene_key) stays the same, so a frame
   * only lays out the packets' labels.
   */
  GskRenderNode *scene;
  char *scene_key;
  char *layout_key;         /* what the links and the positions were laid out for */
  GHashTable *scene_positions;
  GskRenderNode *scene_boxes; /* the hosts' boxes, drawn above the packets */
  double zoom;              /* how much smaller than 1:1 the hosts are drawn to fit */
  GHashTable *node_images;  /* host name -> NodeImage*: each host's box, rendered once */
  GHashTable *layout_sizes; /* host name -> Size*: the room laid out for its box (see below) */
  double crowd_w, crowd_h;  /* a crowd's one room for all, or 0 when each host has its own */
  guint n_layouts;          /* layout_scene() runs since the world was set */
  char *layout_frame;       /* the view and style that layout_sizes were measured for */
  GHashTable *token_layouts; /* packet label -> PangoLayout* */
  guint style_generation;
  GHashTable *real_phones;  /* live: user -> "ip:port/UDP\nUser-Agent" of its real phone(s) */
  gboolean real_phones_dirty;
  char *more_name;          /* live: the node standing for the real phones not drawn, or NULL */
  GHashTable *sniffers;     /* sniffer name -> SnifferInfo* */
  GHashTable *observed;     /* capture or watch: node name -> its "ip:port", of those drawn */
  char *hovered;            /* the host under the pointer, or NULL */
  char *spotlight;          /* the host picked elsewhere (the selected packet's sender), or NULL */
};

G_DEFINE_FINAL_TYPE (AppNetworkView, app_network_view, GTK_TYPE_WIDGET)

/* High contrast (the window's "high-contrast" class, style-hc.css): lines twice as thick. */
static double
line_scale (GtkWidget *widget)
{
  GtkRoot *root = gtk_widget_get_root (widget);

  return root != NULL && gtk_widget_has_css_class (GTK_WIDGET (root), "high-contrast") ? 2 : 1;
}


static void
flight_free (gpointer data)
{
  Flight *flight = data;

  g_clear_pointer (&flight->sent, sim_event_unref);
  g_clear_pointer (&flight->end, sim_event_unref);
  g_free (flight);
}

static void
prune_flights (AppNetworkView *self)
{
  SimTime now = sim_world_now (self->world);

  for (guint i = self->flights->len; i > 0; i--)
    {
      Flight *flight = self->flights->pdata[i - 1];

      if (flight->real && now - flight->sent->t > REAL_LINGER)
        {
          g_ptr_array_remove_index (self->flights, i - 1);
          continue;
        }
      if (flight->end == NULL)
        continue;
      if (g_strcmp0 (flight->end->action, "delivered") == 0 || now - flight->end->t > DROP_LINGER)
        g_ptr_array_remove_index (self->flights, i - 1);
    }
}

/* Live: a packet the registrar sends to, or receives from, a phone outside SimNet. */
static gboolean
is_real_packet (AppNetworkView *self,
                SimEvent       *event)
{
  SimNet *net = sim_world_get_net (self->world);

  if (sim_world_get_transport (self->world) == NULL)
    return FALSE;
  if (app_packet_is_send (event))
    return event->to != NULL && !sim_net_has_host (net, event->to);
  return app_packet_is_end (event) && event->from != NULL && !sim_net_has_host (net, event->from);
}

static void
sniffer_info_free (gpointer data)
{
  SnifferInfo *info = data;

  g_ptr_array_unref (info->results);
  g_ptr_array_unref (info->users);
  g_free (info);
}

/* The seconds a crack took, readably: they are tiny for a weak password, that is the point. */
static char *
format_seconds (double seconds)
{
  if (seconds < 1e-3)
    return g_strdup_printf ("%.0f µs", seconds * 1e6);
  if (seconds < 1)
    return g_strdup_printf ("%.2f ms", seconds * 1e3);
  return g_strdup_printf ("%.2f s", seconds);
}

/*
 * One line for an attack traced by sim_sniffer_trace_result().  The tries and the time are only
 * in the event's sentence (sim_crack_result_describe()): they are read back from it, and when
 * its wording does not match, the sentence itself is shown.
 */
static char *
crack_line (const SimEvent *event)
{
  g_autoptr(GRegex) numbers = g_regex_new ("([0-9]+) tries of ([A-Za-z0-9-]+)[ ,(]+([0-9.]+) s",
                                           0, 0, NULL);
  g_autoptr(GRegex) word = g_regex_new ("offline: \"(.*)\" after [0-9]+ tries", 0, 0, NULL);
  g_autoptr(GMatchInfo) nm = NULL;
  g_autoptr(GMatchInfo) wm = NULL;
  const char *user = event->user ? event->user : "?";
  g_autofree char *tries = NULL;
  g_autofree char *algorithm = NULL;
  g_autofree char *seconds = NULL;
  g_autofree char *password = NULL;

  if (g_strcmp0 (event->action, "nothing-to-try") == 0)
    return g_markup_printf_escaped (_("<b>%s</b>: nothing to try%s"), user,
                                    event->tls ? " (TLS)" : _(" (no challenge and answer seen)"));
  if (event->text == NULL || !g_regex_match (numbers, event->text, 0, &nm))
    {
      /* The simulator's sentence, in the reader's language (sim_i18n_reason()). */
      g_autofree char *text = sim_i18n_reason (event->text ? event->text : "");

      return g_markup_printf_escaped ("<b>%s</b>: %s", user, text);
    }
  tries = g_match_info_fetch (nm, 1);
  algorithm = g_match_info_fetch (nm, 2);
  {
    g_autofree char *s = g_match_info_fetch (nm, 3);

    seconds = format_seconds (g_ascii_strtod (s, NULL));
  }
  if (g_strcmp0 (event->action, "cracked") == 0 && g_regex_match (word, event->text, 0, &wm))
    {
      password = g_match_info_fetch (wm, 1);
      return g_markup_printf_escaped (_("<b>%s</b>: <span foreground='#e01b24'><b>found \"%s\"</b>"
                                        "</span> after %s tries of %s, %s"),
                                      user, password, tries, algorithm, seconds);
    }
  return g_markup_printf_escaped (_("<b>%s</b>: <span foreground='#26a269'><b>not found</b></span>"
                                    ", %s tries of %s, %s"), user, tries, algorithm, seconds);
}

static void
sniffer_event (AppNetworkView *self,
               SimEvent       *event)
{
  SnifferInfo *info = g_hash_table_lookup (self->sniffers, event->node);
  guint at;

  if (event->node == NULL)
    return;
  if (info == NULL)
    {
      info = g_new0 (SnifferInfo, 1);
      info->results = g_ptr_array_new_with_free_func (g_free);
      info->users = g_ptr_array_new_with_free_func (g_free);
      g_hash_table_insert (self->sniffers, g_strdup (event->node), info);
    }
  if (g_strcmp0 (event->action, "captured") == 0)
    {
      info->n_captured++;
      if (event->tls)
        info->n_tls++;
      return;
    }
  /* The latest attack on a user replaces the one before. */
  if (g_ptr_array_find_with_equal_func (info->users, event->user ? event->user : "",
                                        g_str_equal, &at))
    {
      g_free (info->results->pdata[at]);
      info->results->pdata[at] = crack_line (event);
    }
  else
    {
      g_ptr_array_add (info->users, g_strdup (event->user ? event->user : ""));
      g_ptr_array_add (info->results, crack_line (event));
    }
}

static void
trace_event_cb (AppNetworkView *self,
                SimEvent       *event,
                SimTrace       *trace)
{
  gboolean real = is_real_packet (self, event);

  if (app_packet_is_send (event) || real)
    {
      Flight *flight = g_new0 (Flight, 1);

      flight->real = real;
      flight->sent = sim_event_ref (event);
      g_ptr_array_add (self->flights, flight);
      /* Frames prune the flights; a window not drawn for a while (live, minimised) must not
       * collect a registrar's whole traffic meanwhile. */
      if (self->flights->len > MAX_FLIGHTS)
        {
          prune_flights (self);
          if (self->flights->len > MAX_FLIGHTS)
            g_ptr_array_remove_range (self->flights, 0, self->flights->len - MAX_FLIGHTS / 2);
        }
    }
  else if (app_packet_is_end (event))
    {
      for (guint i = 0; i < self->flights->len; i++)
        {
          Flight *flight = self->flights->pdata[i];

          if (flight->end == NULL && app_packet_ends (flight->sent, event))
            {
              flight->end = sim_event_ref (event);
              break;
            }
        }
    }
  else if (event->type == SIM_EVENT_CAPTURE)
    sniffer_event (self, event);
  else if (event->type == SIM_EVENT_BINDING)
    self->real_phones_dirty = TRUE;
  else if (event->type != SIM_EVENT_NODE)
    return;

  gtk_widget_queue_draw (GTK_WIDGET (self));
}

/* --- a capture's (or a watch's) hosts, named as the observer names them ------------------ */

static SimObserver *
observer_of (AppNetworkView *self)
{
  return self->world != NULL ? sim_capture_world_get_observer (self->world) : NULL;
}

/* The host in the middle: the scene's registrar, or the first registrar a capture shows. */
static const char *
centre_name (AppNetworkView *self)
{
  SimObserver *observer = observer_of (self);
  g_autoptr(GPtrArray) registrars = NULL;

  if (observer == NULL)
    return sim_world_get_server_name (self->world);
  registrars = sim_observer_get_registrars (observer);
  return registrars->len > 0 ? registrars->pdata[0] : NULL;
}

/*
 * A capture's hosts are not SimNet's (a loopback capture has many on one IP, which SimNet
 * refuses for a scene): they are drawn as display nodes, keyed by the observer's names (one a
 * host's IP and port), registrars first, then the others as the capture showed them.
 */
static void
add_observed_hosts (AppNetworkView *self,
                    GPtrArray      *hosts)
{
  SimObserver *observer = observer_of (self);
  g_autoptr(GPtrArray) registrars = NULL;
  g_autoptr(GPtrArray) names = NULL;
  g_autoptr(GPtrArray) addresses = NULL;

  g_hash_table_remove_all (self->observed);
  if (observer == NULL)
    return;
  registrars = sim_observer_get_registrars (observer);
  names = sim_observer_list_nodes (observer, &addresses);
  for (guint pass = 0; pass < 2; pass++)
    for (guint i = 0; i < names->len && hosts->len < MAX_OBSERVED_NODES; i++)
      {
        gboolean registrar = g_ptr_array_find_with_equal_func (registrars, names->pdata[i],
                                                               g_str_equal, NULL);

        if (registrar != (pass == 0) ||
            g_ptr_array_find_with_equal_func (hosts, names->pdata[i], g_str_equal, NULL))
          continue;
        g_ptr_array_add (hosts, g_strdup (names->pdata[i]));
        g_hash_table_insert (self->observed, g_strdup (names->pdata[i]),
                             g_strdup (addresses->pdata[i]));
      }
}

/* An observed host's box: its name, its address, a registrar's bindings (capture time). */
static char *
observed_markup (AppNetworkView *self,
                 const char     *name,
                 const char     *address,
                 const char    **state_color)
{
  SimLocation *location = sim_observer_get_location (observer_of (self), name);
  guint n;

  if (location == NULL)
    return g_markup_printf_escaped ("<b>%s</b>\n<span font_features='tnum'>%s</span>",
                                    name, address);
  *state_color = "node_registered";
  n = sim_location_get_n_bindings (location);
  {
    g_autofree char *count = g_strdup_printf (ngettext ("%u binding", "%u bindings", n), n);

    return g_markup_printf_escaped ("<b>%s</b>\n<span font_features='tnum'>%s</span>\n%s",
                                    name, address, count);
  }
}

/*
 * Where each host sits: the server in the middle, the others on an ellipse around it, far
 * enough inside @width x @height that the widest box (@half_w, @half_h) stays whole.
 */
typedef struct {
  int col, row;
  double distance;
} Cell;

static int
compare_cells (gconstpointer a,
               gconstpointer b)
{
  const Cell *x = a, *y = b;

  if (x->distance != y->distance)
    return x->distance < y->distance ? -1 : 1;
  return x->row != y->row ? x->row - y->row : x->col - y->col;
}

/*
 * NODE_LAYOUT_CROWD: cells of the widest box's size on a grid over the view, the server in the
 * middle one and the others in the cells nearest to it, in order.  With more hosts than
 * cells the extra ones share the last cell, and scene_fits() sends the layout to a smaller zoom.
 */
static GHashTable *
layout_crowd (AppNetworkView *self,
              GPtrArray      *hosts,
              double          width,
              double          height,
              double          half_w,
              double          half_h,
              double          zoom)
{
  GHashTable *positions = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  const char *server = centre_name (self);
  /* scene_fits() counts the margin and the gap in the view's pixels: on this canvas (drawn
   * at @zoom) they are larger by 1 / zoom. */
  double margin = NODE_FIT_MARGIN / zoom + 1, gap = NODE_FIT_GAP / zoom + 1;
  double cell_w = 2 * half_w + gap, cell_h = 2 * half_h + gap;
  int cols = MAX ((int) ((width - 2 * margin) / cell_w), 1);
  int rows = MAX ((int) ((height - 2 * margin) / cell_h), 1);
  double left = (width - cols * cell_w) / 2 + cell_w / 2;
  double top = (height - rows * cell_h) / 2 + cell_h / 2;
  int mid_col = cols / 2, mid_row = rows / 2;
  g_autoptr(GArray) cells = g_array_sized_new (FALSE, FALSE, sizeof (Cell), cols * rows);
  guint k = 0;

  for (int r = 0; r < rows; r++)
    for (int c = 0; c < cols; c++)
      if (c != mid_col || r != mid_row)
        {
          /* Distance in box sizes, a little flattened so the crowd spreads sideways. */
          double dx = (c - mid_col) * cell_w, dy = (r - mid_row) * cell_h * 1.3;
          Cell cell = { c, r, dx * dx + dy * dy };

          g_array_append_val (cells, cell);
        }
  g_array_sort (cells, compare_cells);
  for (guint i = 0; i < hosts->len; i++)
    {
      const char *name = hosts->pdata[i];
      Point *p = g_new0 (Point, 1);

      if (g_strcmp0 (name, server) == 0 || cells->len == 0)
        {
          p->x = left + mid_col * cell_w;
          p->y = top + mid_row * cell_h;
        }
      else
        {
          const Cell *cell = &g_array_index (cells, Cell, MIN (k, cells->len - 1));

          p->x = left + cell->col * cell_w;
          p->y = top + cell->row * cell_h;
          k++;
        }
      g_hash_table_insert (positions, g_strdup (name), p);
    }
  return positions;
}

static GHashTable *
layout_nodes (AppNetworkView *self,
              GPtrArray      *hosts,
              double          width,
              double          height,
              double          half_w,
              double          half_h,
              guint           variant,
              double          zoom)
{
  GHashTable *positions = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  const char *server = centre_name (self);
  guint n_others = hosts->len - (server != NULL ? 1 : 0);
  double cx = width / 2, cy = height / 2;
  double rx = MAX (width / 2 - half_w - NODE_FIT_MARGIN, 0);
  double ry = MAX (height / 2 - half_h - NODE_FIT_MARGIN, 0);
  guint k = 0;

  if (variant == NODE_LAYOUT_CROWD && n_others > NODE_CROWD_MIN)
    return layout_crowd (self, hosts, width, height, half_w, half_h, zoom);
  for (guint i = 0; i < hosts->len; i++)
    {
      const char *name = hosts->pdata[i];
      Point *p = g_new0 (Point, 1);

      if (g_strcmp0 (name, server) == 0)
        {
          p->x = cx;
          p->y = cy;
        }
      else
        {
          /* Evenly round the ellipse, clockwise, symmetric about the vertical axis: two hosts
           * face each other left and right, three sit top-left, top-right and bottom. */
          double angle = -G_PI / 2 - G_PI / MAX (n_others, 1) + 2 * G_PI * k / MAX (n_others, 1);
          double c, s;

          /* A tall narrow view (presentation mode): two columns of hosts, left and right. */
          if (variant == NODE_LAYOUT_COLUMNS)
            {
              guint n_left = (n_others + 1) / 2;
              guint row = k < n_left ? k : k - n_left;
              guint n_rows = k < n_left ? n_left : n_others - n_left;
              double top = half_h + NODE_FIT_MARGIN, bottom = height - half_h - NODE_FIT_MARGIN;

              p->x = k < n_left ? half_w + NODE_FIT_MARGIN : width - half_w - NODE_FIT_MARGIN;
              p->y = n_rows > 1 ? top + (bottom - top) * row / (n_rows - 1) : cy;
              k++;
              g_hash_table_insert (positions, g_strdup (name), p);
              continue;
            }
          /* Variants tried when the first does not fit (see build_scene): turned by half a
           * step (a host at the top and bottom), or a plain ellipse. */
          if (variant & 2)
            angle += G_PI / MAX (n_others, 1);
          c = cos (angle);
          s = sin (angle);
          if (variant & 1)
            {
              p->x = cx + rx * c;
              p->y = cy + ry * s;
            }
          else
            {
              /* A squarish ellipse: nodes go towards the corners, links get longer. */
              p->x = cx + rx * copysign (sqrt (fabs (c)), c);
              p->y = cy + ry * copysign (sqrt (fabs (s)), s);
            }
          k++;
        }
      g_hash_table_insert (positions, g_strdup (name), p);
    }
  return positions;
}

static void
set_source (cairo_t       *cr,
            const GdkRGBA *rgba)
{
  gdk_cairo_set_source_rgba (cr, rgba);
}

static void
rounded_rect (cairo_t *cr,
              double   x,
              double   y,
              double   w,
              double   h,
              double   r)
{
  cairo_new_sub_path (cr);
  cairo_arc (cr, x + w - r, y + r, r, -G_PI / 2, 0);
  cairo_arc (cr, x + w - r, y + h - r, r, 0, G_PI / 2);
  cairo_arc (cr, x + r, y + h - r, r, G_PI / 2, G_PI);
  cairo_arc (cr, x + r, y + r, r, G_PI, 3 * G_PI / 2);
  cairo_close_path (cr);
}

static char *
node_markup (AppNetworkView *self,
             const char     *name,
             const char    **state_color)
{
  SimNet *net = sim_world_get_net (self->world);
  SimPhone *phone = sim_world_get_phone (self->world, name);
  g_autofree char *escaped = g_markup_escape_text (name, -1);
  const char *ip = sim_net_host_ip (net, name);
  g_autofree char *state = NULL;

  *state_color = "node_border";
  if (g_hash_table_contains (self->observed, name))
    return observed_markup (self, name, g_hash_table_lookup (self->observed, name), state_color);
  if (self->real_phones != NULL && !sim_net_has_host (net, name))
    {
      const char *info = g_hash_table_lookup (self->real_phones, name);

      if (g_strcmp0 (name, self->more_name) == 0)
        return g_markup_printf_escaped (_("<b>%s</b>\nreal phones"), name);
      /* A real phone (live mode), named by its AOR's user as the trace names it. */
      if (info != NULL)
        {
          *state_color = "node_registered";
          return g_markup_printf_escaped ("<b>%s</b>\n<span font_features='tnum'>%s</span>",
                                          name, info);
        }
      return g_markup_printf_escaped (_("<b>%s</b>\nreal network"), name);
    }
  if (!sim_net_has_host (net, name))
    {
      *state_color = "packet_dropped";
      return g_markup_printf_escaped (_("<b>%s</b>\nnobody has this address"), name);
    }
  if (!sim_net_host_is_up (net, name))
    {
      state = g_strdup (_("powered off"));
      *state_color = "node_off";
    }
  else if (phone != NULL)
    {
      SimRegState reg = sim_phone_get_reg_state (phone);
      SimCallState call = sim_phone_get_call_state (phone);

      if (call != SIM_CALL_IDLE && call != SIM_CALL_ENDED)
        /* The state words are the trace's, translated as the ladder translates them. */
        state = g_strdup_printf (_("call: %s"), g_dpgettext2 (GETTEXT_PACKAGE, "trace action",
                                                              sim_call_state_name (call)));
      else
        state = g_strdup (g_dpgettext2 (GETTEXT_PACKAGE, "trace action",
                                        sim_reg_state_name (reg)));
      if (reg == SIM_REG_REGISTERED)
        *state_color = "node_registered";
      else if (reg == SIM_REG_FAILED)
        *state_color = "node_failed";
    }
  else if (g_strcmp0 (name, sim_world_get_server_name (self->world)) == 0)
    {
      guint n = sim_location_get_n_bindings (sim_world_get_location (self->world));

      state = g_strdup_printf (ngettext ("%u binding", "%u bindings", n), n);
    }

  return g_markup_printf_escaped ("<b>%s</b>\n<span font_features='tnum'>%s</span>%s%s",
                                  name, ip ? ip : "", state ? "\n" : "", state ? state : "");
}

typedef struct {
  char *key;              /* what it shows: markup, colour, style, scale, zoom */
  cairo_surface_t *surface; /* the box at the zoom and scale it is shown at */
  double w, h;            /* the box at zoom 1, in widget coordinates */
} NodeImage;

/* Around the box: half its border. */
#define NODE_MARGIN 2

static void
node_image_free (gpointer data)
{
  NodeImage *image = data;

  g_free (image->key);
  g_clear_pointer (&image->surface, cairo_surface_destroy);
  g_free (image);
}

static GdkTexture *
texture_from_surface (cairo_surface_t *surface)
{
  int width = cairo_image_surface_get_width (surface);
  int height = cairo_image_surface_get_height (surface);
  int stride = cairo_image_surface_get_stride (surface);
  g_autoptr(GBytes) bytes = NULL;

  cairo_surface_flush (surface);
  bytes = g_bytes_new (cairo_image_surface_get_data (surface), (gsize) stride * height);
  return gdk_memory_texture_new (width, height, GDK_MEMORY_DEFAULT, bytes, stride);
}

/* @surface (the view at the widget's scale) as a texture covering @width x @height. */
static void
append_surface (GtkSnapshot     *snapshot,
                cairo_surface_t *surface,
                double           width,
                double           height)
{
  g_autoptr(GdkTexture) texture = texture_from_surface (surface);

  gtk_snapshot_append_texture (snapshot, texture, &GRAPHENE_RECT_INIT (0, 0, width, height));
}

/*
 * One host's box with its name, address and state, as a texture: rendered when what it says
 * changes, copied on every other frame (laying out fifty labels a frame costs more than a frame).
 */
static NodeImage *
node_image (AppNetworkView *self,
            const char     *name,
            const char     *markup,
            const char     *state_color)
{
  int scale = gtk_widget_get_scale_factor (GTK_WIDGET (self));
  gboolean known = sim_net_has_host (sim_world_get_net (self->world), name) ||
                   self->real_phones != NULL || g_hash_table_contains (self->observed, name);
  double zoom = self->zoom;
  g_autofree char *key = g_strdup_printf ("%u %d %g %d\n%s\n%s", self->style_generation, scale,
                                          zoom, known, markup, state_color);
  NodeImage *image = g_hash_table_lookup (self->node_images, name);
  g_autoptr(PangoLayout) layout = NULL;
  cairo_surface_t *surface;
  cairo_t *cr;
  GdkRGBA bg, border, fg;
  int tw, th;

  if (image != NULL && g_str_equal (image->key, key))
    return image;

  layout = gtk_widget_create_pango_layout (GTK_WIDGET (self), NULL);
  pango_layout_set_markup (layout, markup, -1);
  pango_layout_set_alignment (layout, PANGO_ALIGN_CENTER);
  pango_layout_get_pixel_size (layout, &tw, &th);

  image = g_new0 (NodeImage, 1);
  image->key = g_steal_pointer (&key);
  image->w = tw + 28;
  image->h = th + 16;

  app_lookup_color (GTK_WIDGET (self), "node_bg", "#ffffff", &bg);
  app_lookup_color (GTK_WIDGET (self), state_color, "#888888", &border);
  app_lookup_color (GTK_WIDGET (self), "net_text", "#222222", &fg);

  /* Rendered at the size it is shown (zoomed to fit), so the text stays sharp. */
  surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32,
                                        (int) ceil ((image->w + 2 * NODE_MARGIN) * scale * zoom),
                                        (int) ceil ((image->h + 2 * NODE_MARGIN) * scale * zoom));
  cr = cairo_create (surface);
  cairo_scale (cr, scale * zoom, scale * zoom);
  cairo_translate (cr, NODE_MARGIN, NODE_MARGIN);
  rounded_rect (cr, 0, 0, image->w, image->h, 10);
  set_source (cr, &bg);
  cairo_fill_preserve (cr);
  set_source (cr, &border);
  cairo_set_line_width (cr, 3 * line_scale (GTK_WIDGET (self)));
  /* An address the network does not know: where lost datagrams were sent. */
  if (!known)
    cairo_set_dash (cr, (double[]) { 8, 6 }, 2, 0);
  cairo_stroke (cr);
  cairo_set_dash (cr, NULL, 0, 0);
  set_source (cr, &fg);
  cairo_move_to (cr, (image->w - tw) / 2.0, (image->h - th) / 2.0);
  pango_cairo_show_layout (cr, layout);
  cairo_destroy (cr);
  image->surface = surface;

  g_hash_table_replace (self->node_images, g_strdup (name), image);
  return image;
}

/*
 * One link, stroked by itself: two hundred lines meeting at the registrar, stroked as one
 * path, made cairo intersect every pair of them (a tenth of a frame at 200 phones).
 */
static void
draw_link (cairo_t     *cr,
           const Point *a,
           const Point *b)
{
  cairo_move_to (cr, a->x, a->y);
  cairo_line_to (cr, b->x, b->y);
  cairo_stroke (cr);
}

static void
draw_links (AppNetworkView *self,
            cairo_t        *cr,
            GHashTable     *positions)
{
  const char *server = centre_name (self);
  Point *centre = server ? g_hash_table_lookup (positions, server) : NULL;
  g_autoptr(GPtrArray) hosts = sim_net_list_hosts (sim_world_get_net (self->world));
  gboolean star = sim_world_get_mode (self->world) == SIM_MODE_REGISTRAR;
  GdkRGBA link;

  if (observer_of (self) != NULL)
    {
      /* A capture: the hosts it showed, each linked to the registrar in the middle. */
      GHashTableIter iter;
      gpointer name;

      g_hash_table_iter_init (&iter, self->observed);
      while (g_hash_table_iter_next (&iter, &name, NULL))
        g_ptr_array_add (hosts, g_strdup (name));
      star = TRUE;
    }

  app_lookup_color (GTK_WIDGET (self), "link_color", "#c0c0c0", &link);
  set_source (cr, &link);
  cairo_set_line_width (cr, 2 * line_scale (GTK_WIDGET (self)));

  for (guint i = 0; i < hosts->len; i++)
    {
      Point *a = g_hash_table_lookup (positions, hosts->pdata[i]);

      if (g_strcmp0 (hosts->pdata[i], server) == 0)
        continue;
      if (centre != NULL && star)
        {
          draw_link (cr, a, centre);
          continue;
        }
      /* Point-to-point: everyone may talk to everyone. */
      for (guint j = i + 1; j < hosts->len; j++)
        {
          Point *b = g_hash_table_lookup (positions, hosts->pdata[j]);

          draw_link (cr, a, b);
        }
    }
  /* Real phones reach the registrar over the real network: a dashed link. */
  if (centre != NULL && self->real_phones != NULL && g_hash_table_size (self->real_phones) > 0)
    {
      GHashTableIter iter;
      gpointer name;

      cairo_stroke (cr);
      cairo_set_dash (cr, (double[]) { 6, 4 }, 2, 0);
      Point *more = self->more_name ? g_hash_table_lookup (positions, self->more_name) : NULL;

      if (more != NULL)
        draw_link (cr, more, centre);
      g_hash_table_iter_init (&iter, self->real_phones);
      while (g_hash_table_iter_next (&iter, &name, NULL))
        {
          Point *a = g_hash_table_lookup (positions, name);

          if (a == NULL)
            continue;
          draw_link (cr, a, centre);
        }
      cairo_stroke (cr);
      cairo_set_dash (cr, NULL, 0, 0);
    }
  cairo_stroke (cr);
}

static double
flight_progress (AppNetworkView *self,
                 Flight         *flight,
                 SimTime         now)
{
  SimLinkParams link;
  SimTime latency;

  if (flight->real)
    return CLAMP ((double) (now - flight->sent->t) / REAL_LINGER, 0.05, 0.95);
  if (flight->end != NULL)
    {
      /* Lost on the link: the X sits half-way.  Dropped on arrival: at the receiver. */
      return flight->end->t == flight->sent->t ? 0.5 : 0.85;
    }
  sim_net_get_link (sim_world_get_net (self->world), flight->sent->from, flight->sent->to, &link);
  latency = MAX (link.latency + link.jitter / 2, 1);
  return CLAMP ((double) (now - flight->sent->t) / latency, 0.0, 0.97);
}

static void
draw_flight (AppNetworkView *self,
             cairo_t        *cr,
             GHashTable     *positions,
             Flight         *flight,
             SimTime         now)
{
  Point *a = g_hash_table_lookup (positions, flight->sent->from);
  Point *b = g_hash_table_lookup (positions, flight->end ? flight->end->to : flight->sent->to);
  PangoLayout *layout;
  g_autofree char *label = NULL;
  gboolean dropped;
  double progress, dx, dy, len, ox, oy, x, y;
  GdkRGBA colour, white;
  int tw, th;

  if (a == NULL || b == NULL || a == b)
    return;

  dropped = flight->end != NULL && g_strcmp0 (flight->end->action, "dropped") == 0;
  progress = flight_progress (self, flight, now);

  /* Requests and responses on the same link travel on either side of it. */
  dx = b->x - a->x;
  dy = b->y - a->y;
  len = MAX (hypot (dx, dy), 1);
  ox = -dy / len * 16;
  oy = dx / len * 16;
  label = app_packet_short_label (flight->sent);
  /* A handful of labels ("REGISTER", "401 Unauthorized"...) on every frame: lay each out once. */
  layout = g_hash_table_lookup (self->token_layouts, label);
  if (layout == NULL)
    {
      g_autofree char *markup = g_markup_printf_escaped ("<b>%s</b>", label);

      layout = gtk_widget_create_pango_layout (GTK_WIDGET (self), NULL);
      pango_layout_set_markup (layout, markup, -1);
      g_hash_table_insert (self->token_layouts, g_strdup (label), layout);
    }
  pango_layout_get_pixel_size (layout, &tw, &th);

  /* Fly from the edge of one box to the edge of the other, never over their labels. */
  {
    double pw = tw / 2.0 + 10, ph = th / 2.0 + 6;
    double t_a = MIN ((a->half_w + pw) / MAX (fabs (dx), 1), (a->half_h + ph) / MAX (fabs (dy), 1));
    double t_b = 1 - MIN ((b->half_w + pw) / MAX (fabs (dx), 1),
                          (b->half_h + ph) / MAX (fabs (dy), 1));

    if (t_b > t_a)
      progress = t_a + (t_b - t_a) * progress;
    else
      progress = 0.5;
  }
  x = a->x + dx * progress + ox;
  y = a->y + dy * progress + oy;

  app_lookup_color (GTK_WIDGET (self),
                    app_packet_kind_color_name (app_packet_kind (flight->sent)),
                    "#888888", &colour);
  app_lookup_color (GTK_WIDGET (self), "packet_text", "#ffffff", &white);

  rounded_rect (cr, x - tw / 2.0 - 8, y - th / 2.0 - 4, tw + 16, th + 8, (th + 8) / 2.0);
  if (dropped)
    colour.alpha = 0.45;
  set_source (cr, &colour);
  cairo_fill (cr);
  set_source (cr, &white);
  cairo_move_to (cr, x - tw / 2.0, y - th / 2.0);
  pango_cairo_show_layout (cr, layout);

  if (dropped)
    {
      GdkRGBA red;

      app_lookup_color (GTK_WIDGET (self), "packet_dropped", "#e01b24", &red);
      set_source (cr, &red);
      cairo_set_line_width (cr, 6);
      cairo_set_line_cap (cr, CAIRO_LINE_CAP_ROUND);
      cairo_move_to (cr, x - 16, y - 16);
      cairo_line_to (cr, x + 16, y + 16);
      cairo_move_to (cr, x + 16, y - 16);
      cairo_line_to (cr, x - 16, y + 16);
      cairo_stroke (cr);
    }
}

/* A small eye at (@x, @y): a sniffer. */
static void
draw_eye (cairo_t       *cr,
          double         x,
          double         y,
          double         r,
          const GdkRGBA *colour)
{
  cairo_save (cr);
  set_source (cr, colour);
  cairo_set_line_width (cr, 2);
  cairo_move_to (cr, x - r, y);
  cairo_curve_to (cr, x - r / 2, y - r * 0.8, x + r / 2, y - r * 0.8, x + r, y);
  cairo_curve_to (cr, x + r / 2, y + r * 0.8, x - r / 2, y + r * 0.8, x - r, y);
  cairo_close_path (cr);
  cairo_stroke (cr);
  cairo_arc (cr, x, y, r * 0.3, 0, 2 * G_PI);
  cairo_fill (cr);
  cairo_restore (cr);
}

/* An eye and the sniffer's name on the middle of the link it watches. */
static void
draw_sniffer_badge (AppNetworkView *self,
                    cairo_t        *cr,
                    GHashTable     *positions,
                    const char     *name,
                    const char     *a,
                    const char     *b,
                    const GdkRGBA  *ink,
                    const GdkRGBA  *paper)
{
  Point *pa = g_hash_table_lookup (positions, a);
  Point *pb = g_hash_table_lookup (positions, b);
  g_autoptr(PangoLayout) layout = NULL;
  g_autofree char *markup = NULL;
  SnifferInfo *info = g_hash_table_lookup (self->sniffers, name);
  double x, y;
  int tw, th;

  if (pa == NULL || pb == NULL)
    return;
  x = (pa->x + pb->x) / 2;
  y = (pa->y + pb->y) / 2;
  markup = g_markup_printf_escaped ("<b>%s</b> %u", name, info ? info->n_captured : 0);
  layout = gtk_widget_create_pango_layout (GTK_WIDGET (self), NULL);
  pango_layout_set_markup (layout, markup, -1);
  pango_layout_get_pixel_size (layout, &tw, &th);
  /* Centred on the link's middle, where packet tokens pass on either side of it. */
  x -= (tw + 36) / 2.0;
  rounded_rect (cr, x, y - th / 2.0 - 3, tw + 36, th + 6, (th + 6) / 2.0);
  set_source (cr, paper);
  cairo_fill_preserve (cr);
  set_source (cr, ink);
  cairo_set_line_width (cr, 1.5);
  cairo_stroke (cr);
  draw_eye (cr, x + 14, y, 9, ink);
  cairo_move_to (cr, x + 28, y - th / 2.0);
  pango_cairo_show_layout (cr, layout);
}

/* The markup of sniffer @name's card: where it listens, what it captured, its attacks. */
static char *
sniffer_card_markup (AppNetworkView *self,
                     const char     *name,
                     const char     *a,
                     const char     *b)
{
  SnifferInfo *info = g_hash_table_lookup (self->sniffers, name);
  guint n = info ? info->n_captured : 0;
  guint n_tls = info ? info->n_tls : 0;
  g_autoptr(GString) out = g_string_new (NULL);
  g_autofree char *head = NULL;

  if (a == NULL)
    head = g_markup_printf_escaped (_("<b>sniffer %s</b> on the LAN · "), name);
  else
    head = g_markup_printf_escaped (_("<b>sniffer %s</b> on %s – %s · "), name, a, b);
  g_string_append (out, head);
  g_string_append_printf (out, "%u captured", n);
  if (n_tls == n && n > 0)
    g_string_append (out, _(", all TLS (sizes only)"));
  else if (n_tls > 0)
    g_string_append_printf (out, _(": %u in clear, %u TLS (sizes only)"), n - n_tls, n_tls);
  else if (n > 0)
    g_string_append (out, _(", all in clear"));
  /* One line per user its offline dictionary attack was run on. */
  for (guint i = 0; info != NULL && i < info->results->len; i++)
    g_string_append_printf (out, "\n• %s", (char *) info->results->pdata[i]);
  return g_string_free (g_steal_pointer (&out), FALSE);
}

/* Each sniffer's card, laid out to share @width side by side, and the height they need. */
static GPtrArray *
sniffer_cards (AppNetworkView *self,
               double          width,
               double          height,
               double         *strip_height)
{
  SimNet *net = sim_world_get_net (self->world);
  g_autoptr(GPtrArray) names = sim_net_list_sniffers (net);
  GPtrArray *cards = g_ptr_array_new_with_free_func (g_object_unref);
  double card_w = names->len > 0 ? (width - 8) / names->len - 8 : 0;

  *strip_height = 0;
  for (guint i = 0; i < names->len; i++)
    {
      const char *a = NULL, *b = NULL;
      g_autofree char *markup = NULL;
      g_autofree char *small = NULL;
      PangoLayout *layout;
      int tw, th;

      sim_net_get_sniffer (net, names->pdata[i], &a, &b);
      markup = sniffer_card_markup (self, names->pdata[i], a, b);
      small = g_strdup_printf ("<span size='small'>%s</span>", markup);
      layout = gtk_widget_create_pango_layout (GTK_WIDGET (self), NULL);
      pango_layout_set_markup (layout, small, -1);
      pango_layout_set_width (layout, (int) (MAX (card_w - SNIFFER_CARD_TEXT_X - 8, 40)
                                             * PANGO_SCALE));
      pango_layout_set_wrap (layout, PANGO_WRAP_WORD_CHAR);
      /* A short view keeps room for the hosts: the card's last lines give way to "…". */
      pango_layout_set_height (layout, (int) (MAX (height - SNIFFER_MIN_HOSTS_HEIGHT - 28, 20)
                                              * PANGO_SCALE));
      pango_layout_set_ellipsize (layout, PANGO_ELLIPSIZE_END);
      pango_layout_get_pixel_size (layout, &tw, &th);
      *strip_height = MAX (*strip_height, th + 12 + 16);
      g_ptr_array_add (cards, layout);
    }
  return cards;
}

/*
 * Every sniffer: a badge on the link it watches, and its card in the strip below the hosts
 * (kept free for them, so a card never hides a host).
 */
static void
draw_sniffers (AppNetworkView *self,
               cairo_t        *cr,
               GHashTable     *positions,
               GPtrArray      *cards,
               double          width,
               double          height,
               double          strip_height)
{
  SimNet *net = sim_world_get_net (self->world);
  g_autoptr(GPtrArray) names = sim_net_list_sniffers (net);
  double card_w = cards->len > 0 ? (width - 8) / cards->len - 8 : 0;
  GdkRGBA ink, paper, text;

  /* Purple, as no host or link is: a sniffer is not part of the network it listens to. */
  app_lookup_color (GTK_WIDGET (self), "sniffer_color", "#813d9c", &ink);
  app_lookup_color (GTK_WIDGET (self), "node_bg", "#ffffff", &paper);
  app_lookup_color (GTK_WIDGET (self), "net_text", "#241f31", &text);
  for (guint i = 0; i < names->len && i < cards->len; i++)
    {
      const char *a = NULL, *b = NULL;
      double x = 8 + i * (card_w + 8);
      double y = height - strip_height + 8;
      int tw, th;

      sim_net_get_sniffer (net, names->pdata[i], &a, &b);
      if (a != NULL)
        draw_sniffer_badge (self, cr, positions, names->pdata[i], a, b, &ink, &paper);
      pango_layout_get_pixel_size (cards->pdata[i], &tw, &th);
      rounded_rect (cr, x, y, MIN (card_w, tw + SNIFFER_CARD_TEXT_X + 10), th + 12, 8);
      set_source (cr, &paper);
      cairo_fill_preserve (cr);
      set_source (cr, &ink);
      cairo_set_line_width (cr, 2);
      cairo_stroke (cr);
      draw_eye (cr, x + 16, y + 15, 9, &ink);
      set_source (cr, &text);
      cairo_move_to (cr, x + SNIFFER_CARD_TEXT_X, y + 6);
      pango_cairo_show_layout (cr, cards->pdata[i]);
    }
}

static int
sort_names (gconstpointer a,
            gconstpointer b)
{
  return g_strcmp0 (*(const char **) a, *(const char **) b);
}

/*
 * Live mode (the world has real sockets): the phones registered from outside the simulated
 * network, one node per AOR user (the name the trace gives their packets), labelled with the
 * address and User-Agent of their binding(s).
 */
static void
update_real_phones (AppNetworkView *self)
{
  SimLocation *location = sim_world_get_location (self->world);
  SimNet *net = sim_world_get_net (self->world);
  g_autoptr(GPtrArray) aors = NULL;

  if (sim_world_get_transport (self->world) == NULL || location == NULL)
    {
      g_clear_pointer (&self->real_phones, g_hash_table_unref);
      return;
    }
  /* Bindings change far less often than frames are drawn. */
  if (self->real_phones != NULL && !self->real_phones_dirty)
    return;
  self->real_phones_dirty = FALSE;
  if (self->real_phones == NULL)
    self->real_phones = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_hash_table_remove_all (self->real_phones);
  aors = sim_location_list_aors (location);
  for (guint i = 0; i < aors->len; i++)
    {
      const char *aor = aors->pdata[i];
      const char *user = g_str_has_prefix (aor, "sip:") ? aor + 4 : aor;
      const char *at = strchr (user, '@');
      g_autofree char *name = at ? g_strndup (user, at - user) : g_strdup (user);
      GPtrArray *bindings = sim_location_lookup (location, aor);
      g_autoptr(GString) info = g_string_new (NULL);
      guint n = 0;

      for (guint k = 0; bindings != NULL && k < bindings->len; k++)
        {
          const SimBinding *binding = bindings->pdata[k];
          char addr[64];

          const char *host = sim_net_host_for_ip (net, binding->source.ip);

          /* The registrar's own address is a real one too (a softphone on the same computer). */
          if (host != NULL && g_strcmp0 (host, sim_world_get_server_name (self->world)) != 0)
            continue;
          if (n++ > 0)
            {
              /* More devices of one user: the first is shown, the others counted. */
              continue;
            }
          sim_addr_format (&binding->source, addr, sizeof addr);
          g_string_append_printf (info, "%s/%s", addr,
                                  sim_transport_name (binding->source.transport));
          if (binding->user_agent != NULL)
            g_string_append_printf (info, "\n%.32s", binding->user_agent);
        }
      if (n == 0)
        continue;
      if (n > 1)
        g_string_append_printf (info, ngettext ("\n+%u more device", "\n+%u more devices", n - 1),
                                n - 1);
      g_hash_table_replace (self->real_phones, g_steal_pointer (&name),
                            g_string_free (g_steal_pointer (&info), FALSE));
    }
}

/* Live: the real phones drawn, and one "+N more" node for those beyond MAX_REAL_NODES. */
static void
add_real_phone_hosts (AppNetworkView *self,
                      GPtrArray      *hosts)
{
  GHashTableIter iter;
  gpointer name;
  g_autoptr(GPtrArray) names = NULL;

  if (self->real_phones == NULL)
    return;
  names = g_ptr_array_new ();
  g_hash_table_iter_init (&iter, self->real_phones);
  while (g_hash_table_iter_next (&iter, &name, NULL))
    g_ptr_array_add (names, name);
  /* Sorted: the same phones sit in the same places from frame to frame. */
  g_ptr_array_sort (names, (GCompareFunc) sort_names);
  g_clear_pointer (&self->more_name, g_free);
  for (guint i = 0; i < names->len; i++)
    {
      if (names->len > MAX_REAL_NODES && i == MAX_REAL_NODES - 1)
        {
          self->more_name = g_strdup_printf ("+%u more", names->len - i);
          g_ptr_array_add (hosts, g_strdup (self->more_name));
          break;
        }
      if (!g_ptr_array_find_with_equal_func (hosts, names->pdata[i], g_str_equal, NULL))
        g_ptr_array_add (hosts, g_strdup (names->pdata[i]));
    }
}

/* For screen readers: the hosts as the boxes say them ("registrar 10.0.0.1 2 bindings; ..."). */
static void
update_description (AppNetworkView *self,
                    GPtrArray      *markups)
{
  g_autoptr(GString) text = g_string_new (NULL);

  for (guint i = 0; i < markups->len; i++)
    {
      g_autofree char *plain = NULL;

      if (!pango_parse_markup (markups->pdata[i], -1, 0, NULL, &plain, NULL, NULL))
        continue;
      g_strdelimit (plain, "\n", ' ');
      g_string_append_printf (text, "%s%s", text->len > 0 ? "; " : "", plain);
    }
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_DESCRIPTION,
                                  text->str, -1);
}

/* Do the boxes at @positions, @zoom times their size, sit inside @width x @height, apart? */
static gboolean
scene_fits (AppNetworkView *self,
            GPtrArray      *hosts,
            GHashTable     *positions,
            double          width,
            double          height)
{
  for (guint i = 0; i < hosts->len; i++)
    {
      Point *a = g_hash_table_lookup (positions, hosts->pdata[i]);

      if (a->x - a->half_w < NODE_FIT_MARGIN / 2.0 || a->x + a->half_w > width - NODE_FIT_MARGIN / 2.0 ||
          a->y - a->half_h < NODE_FIT_MARGIN / 2.0 || a->y + a->half_h > height - NODE_FIT_MARGIN / 2.0)
        return FALSE;
      for (guint j = i + 1; j < hosts->len; j++)
        {
          Point *b = g_hash_table_lookup (positions, hosts->pdata[j]);

          if (fabs (a->x - b->x) < a->half_w + b->half_w + NODE_FIT_GAP &&
              fabs (a->y - b->y) < a->half_h + b->half_h + NODE_FIT_GAP)
            return FALSE;
        }
    }
  return TRUE;
}

/*
 * Lays the hosts out in @width x @height, zoomed out until they fit (see NODE_MIN_ZOOM), and
 * draws the links (self->scene).
 */
static void
layout_scene (AppNetworkView *self,
              GPtrArray      *hosts,
              double          width,
              double          height,
              double          half_w,
              double          half_h)
{
  int scale = gtk_widget_get_scale_factor (GTK_WIDGET (self));
  g_autoptr(GtkSnapshot) scene = gtk_snapshot_new ();
  double zoom = 1;
  cairo_surface_t *surface;
  cairo_t *cr;

  g_clear_pointer (&self->scene, gsk_render_node_unref);
  for (;;)
    {
      gboolean fits = FALSE;

      /* At each zoom, the usual layout first, then its variants. */
      for (guint variant = 0; variant < NODE_LAYOUT_VARIANTS && !fits; variant++)
        {
          g_clear_pointer (&self->scene_positions, g_hash_table_unref);
          self->scene_positions = layout_nodes (self, hosts, width / zoom, height / zoom,
                                                half_w, half_h, variant, zoom);
          for (guint i = 0; i < hosts->len; i++)
            {
              Point *p = g_hash_table_lookup (self->scene_positions, hosts->pdata[i]);
              Size *room = g_hash_table_lookup (self->layout_sizes, hosts->pdata[i]);

              p->x *= zoom;
              p->y *= zoom;
              p->half_w = (self->crowd_w > 0 ? self->crowd_w : room->w) * zoom / 2;
              p->half_h = (self->crowd_h > 0 ? self->crowd_h : room->h) * zoom / 2;
            }
          fits = scene_fits (self, hosts, self->scene_positions, width, height);
        }
      if (fits || zoom * NODE_ZOOM_STEP < (hosts->len > NODE_CROWD_MIN + 1 ? NODE_CROWD_MIN_ZOOM
                                                                           : NODE_MIN_ZOOM))
        break;
      zoom *= NODE_ZOOM_STEP;
    }
  self->zoom = zoom;

  /*
   * Links and boxes each become one picture of the whole view, shown 1:1: under the cairo
   * renderer a cairo node is replayed, and a scaled texture filtered, on every frame, which
   * for two hundred links and boxes cost more than the rest of the frame.
   */
  surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, ceil (width * scale), ceil (height * scale));
  cr = cairo_create (surface);
  cairo_scale (cr, scale, scale);
  draw_links (self, cr, self->scene_positions);
  cairo_destroy (cr);
  append_surface (scene, surface, width, height);
  cairo_surface_destroy (surface);
  self->scene = gtk_snapshot_free_to_node (g_steal_pointer (&scene));
}

/*
 * Lays the hosts out and draws the links when the boxes' sizes, the hosts or the view changed
 * (a host's state changes far more often, and keeps its box's size), then draws the boxes
 * (self->scene_boxes, above the packets).
 */
static void
build_scene (AppNetworkView *self,
             GPtrArray      *hosts,
             GPtrArray      *markups,
             GPtrArray      *colors,
             double          width,
             double          height)
{
  int scale = gtk_widget_get_scale_factor (GTK_WIDGET (self));
  g_autoptr(GString) layout_key = g_string_new (NULL);
  g_autoptr(GtkSnapshot) boxes = gtk_snapshot_new ();
  double half_w = 0, half_h = 0, zoom;
  cairo_surface_t *surface;
  cairo_t *cr;

  g_clear_pointer (&self->scene_boxes, gsk_render_node_unref);
  g_string_append_printf (layout_key, "%g %g %d %u %d %d %s %u %s\n", width, height, scale,
                          self->style_generation, sim_world_get_mode (self->world),
                          observer_of (self) != NULL, centre_name (self) ? centre_name (self) : "",
                          self->real_phones ? g_hash_table_size (self->real_phones) : 0,
                          self->more_name ? self->more_name : "");
  /* Another view size or style: the boxes' rooms are measured again from their sizes now. */
  if (g_strcmp0 (layout_key->str, self->layout_frame) != 0)
    {
      g_free (self->layout_frame);
      self->layout_frame = g_strdup (layout_key->str);
      g_hash_table_remove_all (self->layout_sizes);
    }
  for (guint i = 0; i < hosts->len; i++)
    {
      NodeImage *image = node_image (self, hosts->pdata[i], markups->pdata[i], colors->pdata[i]);
      Size *room = g_hash_table_lookup (self->layout_sizes, hosts->pdata[i]);

      if (room == NULL)
        {
          room = g_new0 (Size, 1);
          g_hash_table_insert (self->layout_sizes, g_strdup (hosts->pdata[i]), room);
        }
      if (image->w > room->w)
        room->w = ceil (image->w / LAYOUT_SIZE_QUANTUM) * LAYOUT_SIZE_QUANTUM;
      if (image->h > room->h)
        room->h = ceil (image->h / LAYOUT_SIZE_QUANTUM) * LAYOUT_SIZE_QUANTUM;
      half_w = MAX (half_w, room->w / 2);
      half_h = MAX (half_h, room->h / 2);
    }
  self->crowd_w = hosts->len > NODE_CROWD_MIN + 1 ? 2 * half_w : 0;
  self->crowd_h = hosts->len > NODE_CROWD_MIN + 1 ? 2 * half_h : 0;
  for (guint i = 0; i < hosts->len; i++)
    {
      Size *room = g_hash_table_lookup (self->layout_sizes, hosts->pdata[i]);

      g_string_append_printf (layout_key, "%s %g %g\n", (char *) hosts->pdata[i],
                              self->crowd_w > 0 ? self->crowd_w : room->w,
                              self->crowd_h > 0 ? self->crowd_h : room->h);
    }
  if (self->scene == NULL || self->scene_positions == NULL ||
      g_strcmp0 (layout_key->str, self->layout_key) != 0)
    {
      g_free (self->layout_key);
      self->layout_key = g_strdup (layout_key->str);
      self->n_layouts++;
      layout_scene (self, hosts, width, height, half_w, half_h);
    }
  zoom = self->zoom;

  surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, ceil (width * scale), ceil (height * scale));
  cr = cairo_create (surface);
  for (guint i = 0; i < hosts->len; i++)
    {
      Point *p = g_hash_table_lookup (self->scene_positions, hosts->pdata[i]);
      /* Rendered again if the zoom changed. */
      NodeImage *image = node_image (self, hosts->pdata[i], markups->pdata[i], colors->pdata[i]);

      /* Whole pixels, as a texture at these bounds was drawn: the text stays sharp.  Centred
       * in its room, which may be larger. */
      cairo_set_source_surface (cr, image->surface,
                                round (p->x - image->w * zoom / 2 - NODE_MARGIN * zoom) * scale,
                                round (p->y - image->h * zoom / 2 - NODE_MARGIN * zoom) * scale);
      cairo_paint (cr);
    }
  cairo_destroy (cr);
  update_description (self, markups);
  append_surface (boxes, surface, width, height);
  cairo_surface_destroy (surface);
  self->scene_boxes = gtk_snapshot_free_to_node (g_steal_pointer (&boxes));
}

/*
 * The spotlit host's box at full size (the one under the pointer first), centred on where it
 * is drawn small and kept inside the view, with a shadow so it reads as lifted above the crowd.
 */
static void
draw_spotlight (AppNetworkView *self,
                cairo_t        *cr,
                GHashTable     *positions,
                double          width,
                double          height)
{
  const char *name = self->hovered != NULL ? self->hovered : self->spotlight;
  g_autoptr(PangoLayout) layout = NULL;
  g_autofree char *markup = NULL;
  const char *state_color;
  GdkRGBA bg, border, fg;
  Point *p;
  double w, h, x, y;
  int tw, th;

  if (name == NULL || self->zoom >= SPOTLIGHT_MAX_ZOOM || positions == NULL ||
      (p = g_hash_table_lookup (positions, name)) == NULL)
    return;
  markup = node_markup (self, name, &state_color);
  layout = gtk_widget_create_pango_layout (GTK_WIDGET (self), NULL);
  pango_layout_set_markup (layout, markup, -1);
  pango_layout_set_alignment (layout, PANGO_ALIGN_CENTER);
  pango_layout_get_pixel_size (layout, &tw, &th);
  w = tw + 28;
  h = th + 16;
  x = CLAMP (p->x - w / 2, 4, MAX (width - w - 4, 4));
  y = CLAMP (p->y - h / 2, 4, MAX (height - h - 4, 4));
  app_lookup_color (GTK_WIDGET (self), "node_bg", "#ffffff", &bg);
  app_lookup_color (GTK_WIDGET (self), state_color, "#888888", &border);
  app_lookup_color (GTK_WIDGET (self), "net_text", "#222222", &fg);
  rounded_rect (cr, x + 3, y + 4, w, h, 10);
  cairo_set_source_rgba (cr, 0, 0, 0, 0.35);
  cairo_fill (cr);
  rounded_rect (cr, x, y, w, h, 10);
  set_source (cr, &bg);
  cairo_fill_preserve (cr);
  set_source (cr, &border);
  cairo_set_line_width (cr, 4 * line_scale (GTK_WIDGET (self)));
  cairo_stroke (cr);
  set_source (cr, &fg);
  cairo_move_to (cr, x + (w - tw) / 2.0, y + (h - th) / 2.0);
  pango_cairo_show_layout (cr, layout);
}

/* The host whose box (as drawn) holds (@x, @y), or NULL. */
static const char *
host_at (AppNetworkView *self,
         double          x,
         double          y)
{
  GHashTableIter iter;
  gpointer name, value;

  if (self->scene_positions == NULL)
    return NULL;
  g_hash_table_iter_init (&iter, self->scene_positions);
  while (g_hash_table_iter_next (&iter, &name, &value))
    {
      Point *p = value;

      if (fabs (x - p->x) <= p->half_w && fabs (y - p->y) <= p->half_h)
        return name;
    }
  return NULL;
}

static void
set_hovered (AppNetworkView *self,
             const char     *name)
{
  if (g_strcmp0 (self->hovered, name) == 0)
    return;
  g_free (self->hovered);
  self->hovered = g_strdup (name);
  if (self->zoom < SPOTLIGHT_MAX_ZOOM)
    gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
motion_cb (GtkEventControllerMotion *controller,
           double                    x,
           double                    y,
           AppNetworkView           *self)
{
  set_hovered (self, host_at (self, x, y));
}

static void
leave_cb (GtkEventControllerMotion *controller,
          AppNetworkView           *self)
{
  set_hovered (self, NULL);
}

static void
app_network_view_snapshot (GtkWidget   *widget,
                           GtkSnapshot *snapshot)
{
  AppNetworkView *self = APP_NETWORK_VIEW (widget);
  double width = gtk_widget_get_width (widget);
  double height = gtk_widget_get_height (widget);
  GHashTable *positions;
  g_autoptr(GPtrArray) hosts = NULL;
  g_autoptr(GPtrArray) markups = NULL;
  g_autoptr(GPtrArray) colors = NULL;
  g_autoptr(GString) key = NULL;
  g_autoptr(GPtrArray) cards = NULL;
  double strip_height;
  cairo_t *cr;
  SimTime now;

  if (self->world == NULL || width < 10 || height < 10)
    return;

  now = sim_world_now (self->world);
  prune_flights (self);
  hosts = sim_net_list_hosts (sim_world_get_net (self->world));
  update_real_phones (self);
  add_real_phone_hosts (self, hosts);
  add_observed_hosts (self, hosts);
  /* Datagrams to an address nobody has (a phone moved away) still need somewhere to go. */
  for (guint i = 0; i < self->flights->len; i++)
    {
      Flight *flight = self->flights->pdata[i];
      const char *to = flight->end ? flight->end->to : flight->sent->to;

      /* A real phone not drawn (one of many, or not registered yet) has no token either. */
      if (flight->real || observer_of (self) != NULL)
        continue;
      if (to != NULL && !g_ptr_array_find_with_equal_func (hosts, to, g_str_equal, NULL))
        g_ptr_array_add (hosts, g_strdup (to));
    }
  /* What the hosts look like now: the same key, the same picture. */
  markups = g_ptr_array_new_with_free_func (g_free);
  colors = g_ptr_array_new ();
  key = g_string_new (NULL);
  /* The sniffers' cards take a strip at the bottom: the hosts are laid out above it. */
  cards = sniffer_cards (self, width, height, &strip_height);
  g_string_append_printf (key, "%g %g %g %u %d\n", width, height, strip_height,
                          self->style_generation, sim_world_get_mode (self->world));
  for (guint i = 0; i < hosts->len; i++)
    {
      const char *state_color;
      char *markup = node_markup (self, hosts->pdata[i], &state_color);

      g_ptr_array_add (markups, markup);
      g_ptr_array_add (colors, (gpointer) state_color);
      g_string_append_printf (key, "%s\n%s\n%s\n", (char *) hosts->pdata[i], markup, state_color);
    }

  if (self->scene == NULL || g_strcmp0 (key->str, self->scene_key) != 0)
    {
      g_free (self->scene_key);
      self->scene_key = g_strdup (key->str);
      build_scene (self, hosts, markups, colors, width, MAX (height - strip_height, height / 2));
    }
  if (self->scene != NULL)
    gtk_snapshot_append_node (snapshot, self->scene);
  positions = self->scene_positions;

  /* The packets fly under the hosts' boxes: a token never covers a host's name. */
  if (self->flights->len > 0 || cards->len > 0)
    {
      cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, width, height));
      draw_sniffers (self, cr, positions, cards, width, height, strip_height);
      for (guint i = 0; i < self->flights->len; i++)
        draw_flight (self, cr, positions, self->flights->pdata[i], now);
      cairo_destroy (cr);
    }
  if (self->scene_boxes != NULL)
    gtk_snapshot_append_node (snapshot, self->scene_boxes);
  if ((self->hovered != NULL || self->spotlight != NULL) && self->zoom < SPOTLIGHT_MAX_ZOOM)
    {
      cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, width, height));
      draw_spotlight (self, cr, positions, width, height);
      cairo_destroy (cr);
    }
}

static void
app_network_view_css_changed (GtkWidget         *widget,
                              GtkCssStyleChange *change)
{
  AppNetworkView *self = APP_NETWORK_VIEW (widget);

  GTK_WIDGET_CLASS (app_network_view_parent_class)->css_changed (widget, change);
  /* Colours or fonts may have changed (dark style, presentation mode): draw the hosts anew. */
  self->style_generation++;
  g_hash_table_remove_all (self->token_layouts);
  gtk_widget_queue_draw (widget);
}

static void
app_network_view_dispose (GObject *object)
{
  AppNetworkView *self = APP_NETWORK_VIEW (object);

  app_network_view_set_world (self, NULL);
  G_OBJECT_CLASS (app_network_view_parent_class)->dispose (object);
}

static void
app_network_view_finalize (GObject *object)
{
  AppNetworkView *self = APP_NETWORK_VIEW (object);

  g_clear_pointer (&self->flights, g_ptr_array_unref);
  g_clear_pointer (&self->scene, gsk_render_node_unref);
  g_clear_pointer (&self->scene_boxes, gsk_render_node_unref);
  g_clear_pointer (&self->scene_key, g_free);
  g_clear_pointer (&self->layout_key, g_free);
  g_clear_pointer (&self->scene_positions, g_hash_table_unref);
  g_clear_pointer (&self->node_images, g_hash_table_unref);
  g_clear_pointer (&self->layout_sizes, g_hash_table_unref);
  g_clear_pointer (&self->layout_frame, g_free);
  g_clear_pointer (&self->token_layouts, g_hash_table_unref);
  g_clear_pointer (&self->real_phones, g_hash_table_unref);
  g_clear_pointer (&self->more_name, g_free);
  g_clear_pointer (&self->sniffers, g_hash_table_unref);
  g_clear_pointer (&self->observed, g_hash_table_unref);
  g_clear_pointer (&self->hovered, g_free);
  g_clear_pointer (&self->spotlight, g_free);
  G_OBJECT_CLASS (app_network_view_parent_class)->finalize (object);
}

static void
app_network_view_class_init (AppNetworkViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = app_network_view_dispose;
  object_class->finalize = app_network_view_finalize;
  widget_class->snapshot = app_network_view_snapshot;
  widget_class->css_changed = app_network_view_css_changed;
  gtk_widget_class_set_css_name (widget_class, "networkview");
  /* A drawing: a picture with a label, and its hosts as the description. */
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
app_network_view_init (AppNetworkView *self)
{
  self->flights = g_ptr_array_new_with_free_func (flight_free);
  self->node_images = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, node_image_free);
  self->layout_sizes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->token_layouts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
  self->sniffers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, sniffer_info_free);
  self->observed = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->zoom = 1;
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  "Network", -1);
  {
    GtkEventController *motion = gtk_event_controller_motion_new ();

    g_signal_connect (motion, "motion", G_CALLBACK (motion_cb), self);
    g_signal_connect (motion, "leave", G_CALLBACK (leave_cb), self);
    gtk_widget_add_controller (GTK_WIDGET (self), motion);
  }
  /* Small is fine: the hosts zoom out to fit whatever the column leaves. */
  gtk_widget_set_size_request (GTK_WIDGET (self), 240, 200);
  gtk_widget_set_hexpand (GTK_WIDGET (self), TRUE);
  gtk_widget_set_vexpand (GTK_WIDGET (self), TRUE);
}

GtkWidget *
app_network_view_new (void)
{
  return g_object_new (APP_TYPE_NETWORK_VIEW, NULL);
}

void
app_network_view_set_world (AppNetworkView *self,
                            SimWorld       *world)
{
  g_return_if_fail (APP_IS_NETWORK_VIEW (self));

  if (self->world == world)
    return;
  if (self->world != NULL)
    g_signal_handlers_disconnect_by_data (sim_world_get_trace (self->world), self);
  g_set_object (&self->world, world);
  g_ptr_array_set_size (self->flights, 0);
  g_hash_table_remove_all (self->sniffers);
  g_hash_table_remove_all (self->node_images);
  g_hash_table_remove_all (self->layout_sizes);
  self->n_layouts = 0;
  g_clear_pointer (&self->layout_key, g_free);
  g_clear_pointer (&self->real_phones, g_hash_table_unref);
  self->real_phones_dirty = TRUE;
  if (world != NULL)
    {
      /* Packets already in the trace (a world run ahead before we saw it). */
      GPtrArray *events = sim_trace_get_events (sim_world_get_trace (world));

      for (guint i = 0; i < events->len; i++)
        trace_event_cb (self, events->pdata[i], NULL);
      g_signal_connect_object (sim_world_get_trace (world), "event",
                               G_CALLBACK (trace_event_cb), self, G_CONNECT_SWAPPED);
    }
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

guint
app_network_view_get_n_in_flight (AppNetworkView *self)
{
  guint n = 0;

  g_return_val_if_fail (APP_IS_NETWORK_VIEW (self), 0);
  for (guint i = 0; i < self->flights->len; i++)
    if (((Flight *) self->flights->pdata[i])->end == NULL)
      n++;
  return n;
}

GPtrArray *
app_network_view_list_drawn_hosts (AppNetworkView *self)
{
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
  GHashTableIter iter;
  gpointer name;

  g_return_val_if_fail (APP_IS_NETWORK_VIEW (self), names);
  if (self->scene_positions == NULL)
    return names;
  g_hash_table_iter_init (&iter, self->scene_positions);
  while (g_hash_table_iter_next (&iter, &name, NULL))
    g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, (GCompareFunc) sort_names);
  return names;
}

gboolean
app_network_view_get_node_box (AppNetworkView  *self,
                               const char      *name,
                               graphene_rect_t *box)
{
  Point *p;

  g_return_val_if_fail (APP_IS_NETWORK_VIEW (self), FALSE);
  if (self->scene_positions == NULL ||
      (p = g_hash_table_lookup (self->scene_positions, name)) == NULL)
    return FALSE;
  graphene_rect_init (box, p->x - p->half_w, p->y - p->half_h, 2 * p->half_w, 2 * p->half_h);
  return TRUE;
}

void
app_network_view_set_spotlight (AppNetworkView *self,
                                const char     *name)
{
  g_return_if_fail (APP_IS_NETWORK_VIEW (self));

  if (g_strcmp0 (self->spotlight, name) == 0)
    return;
  g_free (self->spotlight);
  self->spotlight = g_strdup (name);
  if (self->zoom < SPOTLIGHT_MAX_ZOOM)
    gtk_widget_queue_draw (GTK_WIDGET (self));
}

const char *
app_network_view_get_spotlight (AppNetworkView *self)
{
  g_return_val_if_fail (APP_IS_NETWORK_VIEW (self), NULL);

  if (self->zoom >= SPOTLIGHT_MAX_ZOOM)
    return NULL;
  return self->hovered != NULL ? self->hovered : self->spotlight;
}

double
app_network_view_get_zoom (AppNetworkView *self)
{
  g_return_val_if_fail (APP_IS_NETWORK_VIEW (self), 1);
  return self->zoom;
}

guint
app_network_view_get_n_layouts (AppNetworkView *self)
{
  g_return_val_if_fail (APP_IS_NETWORK_VIEW (self), 0);
  return self->n_layouts;
}
