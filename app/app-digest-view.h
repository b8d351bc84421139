/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gtk/gtk.h>

#include "sim-world.h"

G_BEGIN_DECLS

#define APP_TYPE_DIGEST_VIEW (app_digest_view_get_type ())
G_DECLARE_FINAL_TYPE (AppDigestView, app_digest_view, APP, DIGEST_VIEW, GtkWidget)

GtkWidget  *app_digest_view_new           (void);
void        app_digest_view_set_world     (AppDigestView *self,
                                           SimWorld      *world);
/*
 * Shows the digest computation for packet @event: a REGISTER with Authorization, or a response
 * to one (then the request it answers).  Anything else leaves the computation as it was.
 */
void        app_digest_view_set_packet    (AppDigestView *self,
                                           SimEvent      *event);
/* Nonce counts by state, as the panel shows them ("issued", "accepted", "stale", "rejected"). */
guint       app_digest_view_get_n_nonces  (AppDigestView *self,
                                           const char    *state);
/* The response the registrar expects for the REGISTER shown (lowercase hex), or NULL. */
const char *app_digest_view_get_expected  (AppDigestView *self);
/* The registrar's verdict on it ("accepted", "stale", "rejected"), or NULL while unknown. */
const char *app_digest_view_get_verdict   (AppDigestView *self);

/* Whether the paragraph on the nonce and offline guessing is shown (the scene has a sniffer,
 * or the trace a capture or a crack result). */
gboolean     app_digest_view_get_sniffer_note_shown (AppDigestView *self);
guint        app_digest_view_get_n_rows_built       (AppDigestView *self);

G_END_DECLS
