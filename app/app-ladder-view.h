/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gtk/gtk.h>

#include "sim-world.h"

G_BEGIN_DECLS

#define APP_TYPE_LADDER_VIEW (app_ladder_view_get_type ())
G_DECLARE_FINAL_TYPE (AppLadderView, app_ladder_view, APP, LADDER_VIEW, GtkWidget)

GtkWidget *app_ladder_view_new          (void);
void       app_ladder_view_set_world    (AppLadderView *self,
                                         SimWorld      *world);
/* One row per datagram sent (or retransmitted), in trace order (fewer when collapsed). */
guint      app_ladder_view_get_n_rows   (AppLadderView *self);
/* The "sent" event of row @row (borrowed), or NULL. */
SimEvent  *app_ladder_view_get_row      (AppLadderView *self,
                                         guint          row);
/* Selects @row (-1: none) and emits "packet-selected". */
void       app_ladder_view_select_row   (AppLadderView *self,
                                         int            row);
int        app_ladder_view_get_selected (AppLadderView *self);

/* The latest packet of a collapsed line stands for it; this says how many refreshes it holds. */
guint      app_ladder_view_get_row_count (AppLadderView *self,
                                          guint          row);
/* One line per registration for its refreshes (same Call-ID after a first 200 OK). */
void       app_ladder_view_set_collapse_refreshes (AppLadderView *self,
                                                   gboolean       collapse);
gboolean   app_ladder_view_get_collapse_refreshes (AppLadderView *self);

typedef enum {
  APP_LADDER_FORMAT_SVG,
  APP_LADDER_FORMAT_PNG,
} AppLadderFormat;

/* Draws the whole ladder (every line, as shown) to an SVG or PNG file at @path. */
gboolean   app_ladder_view_export       (AppLadderView   *self,
                                         const char      *path,
                                         AppLadderFormat  format,
                                         GError         **error);

/*
 * Lesson: only packets sent by trace events before index @n_events are rows (G_MAXUINT64: all,
 * the default), so a question about the next packet is not answered by the ladder already.
 */
void       app_ladder_view_set_reveal_limit (AppLadderView *self,
                                             guint64        n_events);

/*
 * While playing (or live) the ladder scrolls to its newest row and grows for new rows only
 * when the window calls app_ladder_view_catch_up() (once per slot of its paced updates: each
 * has the window laid out again); still, at once.
 */
void       app_ladder_view_set_paced        (AppLadderView *self,
                                             gboolean       paced);
void       app_ladder_view_catch_up         (AppLadderView *self);
/*
 * Keeps only the newest @max_rows datagrams (0: all, the default); the older ones are counted
 * in one "N earlier messages" line above the ladder.  For a live registrar that runs for hours.
 */
void       app_ladder_view_set_max_rows     (AppLadderView *self,
                                             guint          max_rows);
/* Datagrams dropped from the front by the row limit. */
guint64    app_ladder_view_get_n_earlier    (AppLadderView *self);

/* Signals: "packet-selected" (SimEvent *sent, or NULL). */

/*
 * The registrar's binding events drawn as marks on its lifeline ("alice expired"): expired,
 * removed and refreshed, in trace order.  @row (may be NULL) is the line the mark is drawn
 * above (get_n_rows: below the last line).  The event is borrowed.
 */
guint      app_ladder_view_get_n_marks   (AppLadderView *self);
SimEvent  *app_ladder_view_get_mark      (AppLadderView *self,
                                          guint          mark,
                                          guint         *row);
/* Columns (hosts, and live the real phones' addresses), left to right. */
guint      app_ladder_view_get_n_columns   (AppLadderView *self);
/*
 * How @column's title was laid out when the header was last drawn: the four corners of its
 * text (x0 y0 ... x3 y3, header coordinates; rotated titles are not axis-aligned), the header's
 * size, and whether the text was shortened.  FALSE past the last column.  For tests.
 */
gboolean   app_ladder_view_get_title_geometry (AppLadderView *self,
                                               guint          column,
                                               double         corners[8],
                                               double        *header_width,
                                               double        *header_height,
                                               gboolean      *ellipsized);

G_END_DECLS
