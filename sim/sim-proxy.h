/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib-object.h>

#include "sim-registrar.h"
#include "sim-stack.h"

G_BEGIN_DECLS

/*
 * SimProxy: a stateful forking proxy (RFC 3261 §16).  A request for an AOR of our domain is
 * sent to every registered Contact at once; the first 2xx wins and the other branches are
 * CANCELled; no binding means 480 (known user) or 404.  The proxy Record-Routes INVITEs so the
 * whole dialog (ACK, BYE) passes through it and shows in the views.
 */

#define SIM_TYPE_PROXY (sim_proxy_get_type ())
G_DECLARE_FINAL_TYPE (SimProxy, sim_proxy, SIM, PROXY, GObject)

SimProxy *sim_proxy_new    (SimStack       *stack,
                            SimRegistrar   *registrar) G_GNUC_WARN_UNUSED_RESULT;
/* Handles any request but REGISTER; @txn is NULL for an ACK to a 2xx. */
void      sim_proxy_handle (SimProxy       *self,
                            SimServerTxn   *txn,
                            osip_message_t *request,
                            const SimAddr  *src);

G_END_DECLS
