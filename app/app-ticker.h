/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

/*
 * AppTicker: a one-line label for values that change all the time (countdowns, CSeq).  Its
 * width is that of a template string, so a new text only redraws it: a GtkLabel would ask its
 * whole table to be measured again, which in a table of fifty bindings costs a frame.
 */
#define APP_TYPE_TICKER (app_ticker_get_type ())
G_DECLARE_FINAL_TYPE (AppTicker, app_ticker, APP, TICKER, GtkWidget)

/* @width_template NULL: as wide as it is allocated, the text cut at the edge. */
GtkWidget  *app_ticker_new      (const char *width_template);
void        app_ticker_set_text (AppTicker  *self,
                                 const char *text);
const char *app_ticker_get_text (AppTicker  *self);
/* A new width: the ticker is measured again only when @width_template differs. */
void        app_ticker_set_width_template (AppTicker  *self,
                                           const char *width_template);

G_END_DECLS
