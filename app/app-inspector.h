/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gtk/gtk.h>

#include "sim-trace.h"

G_BEGIN_DECLS

#define APP_TYPE_INSPECTOR (app_inspector_get_type ())
G_DECLARE_FINAL_TYPE (AppInspector, app_inspector, APP, INSPECTOR, GtkWidget)

GtkWidget     *app_inspector_new        (void);
/* Shows the raw text of packet @event (NULL: nothing). */
void           app_inspector_set_event  (AppInspector *self,
                                         SimEvent     *event);
SimEvent      *app_inspector_get_event  (AppInspector *self);
/*
 * Like set_event(), and lists what changed since @previous, the message before it of the same
 * Call-ID and method from the same sender (a refresh after its first REGISTER, the
 * authenticated REGISTER after the challenged one).  @previous may be NULL.
 */
void           app_inspector_set_event_with_previous (AppInspector *self,
                                                      SimEvent     *event,
                                                      SimEvent     *previous);
GtkTextBuffer *app_inspector_get_buffer (AppInspector *self);
/* The trace the shown packets come from: the inspector looks up the sniffers' captures of
 * each one there (NULL: none are shown). */
void           app_inspector_set_trace  (AppInspector *self,
                                         SimTrace     *trace);
/* What the sniffers saw of the shown packet, as plain text, or NULL when none captured it. */
char          *app_inspector_get_sniffer_text (AppInspector *self) G_GNUC_WARN_UNUSED_RESULT;

/* Lesson highlight (app-lesson-pane.c) ------------------------------------------------------ */
/*
 * Marks header @name (case-insensitive; NULL: none) in whatever message is shown, now and in
 * the messages shown later, until changed: the header a lesson step talks about.
 */
void           app_inspector_highlight_header       (AppInspector *self,
                                                     const char   *name);
/* Several headers at once (a NULL-terminated list; NULL or empty: none). */
void           app_inspector_highlight_headers      (AppInspector       *self,
                                                     const char * const *names);
/* The first highlighted header, or NULL. */
const char    *app_inspector_get_highlighted_header (AppInspector *self);
/* The highlighted lines of the shown message, or NULL when it does not carry the header. */
char          *app_inspector_get_highlighted_text   (AppInspector *self) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
