/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib-object.h>

#include "sim-auth.h"
#include "sim-location.h"
#include "sim-stack.h"

G_BEGIN_DECLS

/* Registrar policy.  Defaults: 60/3600/7200 s, 423 below the minimum, 10 contacts, 503 when full. */
typedef struct {
  char *domain;            /* "lab.example": the host part of AORs we are responsible for */
  guint min_expires;
  guint default_expires;
  guint max_expires;
  gboolean raise_to_min;   /* TRUE: grant the minimum instead of 423 (what many real registrars do) */
  guint max_contacts;
  gboolean replace_oldest; /* TRUE: a new contact beyond the limit evicts the oldest; FALSE: 503 */
  gboolean require_auth;   /* FALSE only for the "no security" lesson */
} SimRegistrarPolicy;

#define SIM_TYPE_REGISTRAR (sim_registrar_get_type ())
G_DECLARE_FINAL_TYPE (SimRegistrar, sim_registrar, SIM, REGISTRAR, GObject)

SimRegistrar *sim_registrar_new          (SimStack                 *stack,
                                          SimLocation              *location,
                                          SimAuth                  *auth,
                                          const char               *domain) G_GNUC_WARN_UNUSED_RESULT;
const SimRegistrarPolicy *sim_registrar_get_policy (SimRegistrar   *self);
/* Copies @policy (its domain string too). */
void          sim_registrar_set_policy   (SimRegistrar             *self,
                                          const SimRegistrarPolicy *policy);
void          sim_registrar_set_user     (SimRegistrar             *self,
                                          const char               *username,
                                          const char               *password);
void          sim_registrar_remove_user  (SimRegistrar             *self,
                                          const char               *username);
const char   *sim_registrar_get_password (SimRegistrar             *self,
                                          const char               *username);
SimLocation  *sim_registrar_get_location (SimRegistrar             *self);
SimAuth      *sim_registrar_get_auth     (SimRegistrar             *self);
/* Handles one REGISTER received in @txn (RFC 3261 §10.3 steps 1-8) and responds in it. */
void          sim_registrar_handle       (SimRegistrar             *self,
                                          SimServerTxn             *txn,
                                          osip_message_t           *request);

G_END_DECLS
